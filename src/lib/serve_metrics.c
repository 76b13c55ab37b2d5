/*
 * serve_metrics.c — `pooltag serve`: per-process accounting (top N +
 * other, see serve.h for the model and why "other" accumulates increments)
 * and the three renderings of a scrape: Prometheus text 0.0.4, OpenMetrics
 * 1.0 and the dashboard's JSON (written by the emitter, emit.h).  All
 * three walk one table of families (`families[]`: the metric, its type,
 * help and unit, and the JSON member, the counters.def field it shows);
 * nothing here reads /proc, so the fuzz target links this file as it is.
 */
#include "serve.h"
#include "emit.h"
#include "minmax.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Output buffer                                                           */

void sv_put(sv_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sv_puts(sv_buf *b, const char *s)
{
    sv_put(b, s, strlen(s));
}

void sv_printf(sv_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        b->failed = 1;
    else
        sv_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/*
 * Text of untrusted bytes (a command name can hold any byte but NUL):
 * printable ASCII and valid UTF-8 as they are, control characters and
 * bytes that are not UTF-8 as the four characters \xNN (so the value stays
 * readable and distinct), then a Prometheus label value's escapes:
 * backslash and quote (no newline is left to escape).  (The JSON's strings
 * go through the emitter's one JSON string writer instead.)
 */
void sv_put_text(sv_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        size_t k = cli_utf8_len((const char *)s + i, n - i);
        if (k == 0 || s[i] < 0x20 || s[i] == 0x7f) {
            char esc[6] = {'\\', '\\', 'x', hex[s[i] >> 4], hex[s[i] & 15], 0};
            sv_put(b, esc, 5);
            i++;
        } else if (s[i] == '\\' || s[i] == '"') {
            char esc[2] = {'\\', (char)s[i]};
            sv_put(b, esc, 2);
            i++;
        } else {
            sv_put(b, (const char *)s + i, k);
            i += k;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Accounting state                                                        */

typedef struct tagst {
    uint64_t key;                      /* tag | overflow flag << 32        */
    int member;
    uint64_t last[PT_POOL_COUNT][SV_NC];
} tagst;

typedef struct procst {
    uint32_t pid;
    uint64_t start_ns;
    int touched;
    size_t ntags;
    tagst *tags;                       /* sorted by key                    */
    uint64_t other[PT_POOL_COUNT][SV_NC];
} procst;

struct sv_state {
    size_t top;
    size_t n, cap;
    procst *p;
    uint64_t read_errors;
};

sv_state *sv_state_new(size_t top)
{
    sv_state *st = calloc(1, sizeof *st);
    if (st)
        st->top = top;
    return st;
}

void sv_state_free(sv_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->p[i].tags);
    free(st->p);
    free(st);
}

size_t sv_state_top(const sv_state *st)
{
    return st->top;
}

uint64_t *sv_state_read_errors(sv_state *st)
{
    return &st->read_errors;
}

void sv_state_begin(sv_state *st)
{
    for (size_t i = 0; i < st->n; i++)
        st->p[i].touched = 0;
}

void sv_state_end(sv_state *st)
{
    size_t j = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->p[i].touched)
            st->p[j++] = st->p[i];
        else
            free(st->p[i].tags);
    }
    st->n = j;
}

static procst *find_proc(sv_state *st, uint32_t pid)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->p[i].pid == pid)
            return &st->p[i];
    return NULL;
}

void sv_state_keep(sv_state *st, uint32_t pid)
{
    procst *p = find_proc(st, pid);
    if (p)
        p->touched = 1;
}

static int key_cmp(const void *a, const void *b)
{
    uint64_t x = ((const tagst *)a)->key, y = ((const tagst *)b)->key;
    return x < y ? -1 : x > y;
}

typedef struct ranked {
    const pt_tag_info *t;
    int64_t bytes;
} ranked;

static int rank_cmp(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    int c = cli_tag_cmp(a->t->tag, b->t->tag);
    if (c)
        return c;
    return (a->t->flags & PT_TAGINFO_OVERFLOW) <
                   (b->t->flags & PT_TAGINFO_OVERFLOW)
               ? -1
               : (a->t->flags & PT_TAGINFO_OVERFLOW) !=
                     (b->t->flags & PT_TAGINFO_OVERFLOW);
}

static void counters_of(const pt_counts *pc, uint64_t c[SV_NC])
{
    c[SV_ALLOCS] = pc->allocs;
    c[SV_FREES] = pc->frees;
    c[SV_BALLOC] = pc->bytes_alloc;
    c[SV_BFREED] = pc->bytes_freed;
    c[SV_FAILURES] = pc->failures;
}

int sv_account(sv_state *st, const ptr_view *v, sv_proc *out)
{
    memset(out, 0, sizeof *out);
    procst *ps = find_proc(st, v->pid);
    if (ps && ps->start_ns != v->start_ns) {
        /* The PID was reused: a new process, new counters. */
        free(ps->tags);
        ps->tags = NULL;
        ps->ntags = 0;
        memset(ps->other, 0, sizeof ps->other);
        ps->start_ns = v->start_ns;
    }
    if (!ps) {
        if (st->n == st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 16;
            procst *p = realloc(st->p, cap * sizeof *p);
            if (!p)
                return -1;
            st->p = p;
            st->cap = cap;
        }
        ps = &st->p[st->n++];
        memset(ps, 0, sizeof *ps);
        ps->pid = v->pid;
        ps->start_ns = v->start_ns;
    }
    ps->touched = 1;

    size_t nt = v->ntags;
    ranked *rk = calloc(nt + 1, sizeof *rk);
    tagst *nts = calloc(nt + 1, sizeof *nts);
    out->rows = calloc(2 * st->top + 1, sizeof *out->rows);
    if (!rk || !nts || !out->rows) {
        free(rk);
        free(nts);
        free(out->rows);
        out->rows = NULL;
        return -1;
    }
    for (size_t i = 0; i < nt; i++) {
        const pt_tag_info *t = &v->tags[i];
        rk[i].t = t;
        for (int p = 0; p < PT_POOL_COUNT; p++)
            rk[i].bytes += (int64_t)(t->pool[p].bytes_alloc -
                                     t->pool[p].bytes_freed);
    }
    qsort(rk, nt, sizeof *rk, rank_cmp);

    sv_row other;
    size_t nrows = 0;
    memset(&other, 0, sizeof other);
    for (size_t r = 0; r < nt; r++) {
        const pt_tag_info *t = rk[r].t;
        tagst *ns = &nts[r];
        ns->key = t->tag | (uint64_t)(t->flags & PT_TAGINFO_OVERFLOW) << 32;
        const tagst *old =
            ps->tags ? bsearch(ns, ps->tags, ps->ntags, sizeof *ps->tags,
                               key_cmp)
                     : NULL;
        int was = old && old->member;
        ns->member = r < st->top || (was && r < 2 * st->top);
        uint64_t c[PT_POOL_COUNT][SV_NC];
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            counters_of(&t->pool[p], c[p]);
            for (int k = 0; k < SV_NC; k++) {
                uint64_t before = old ? old->last[p][k] : 0;
                /* Counters only grow; a smaller value (not expected) adds
                 * nothing rather than wrapping. */
                if (!ns->member && c[p][k] > before)
                    ps->other[p][k] += c[p][k] - before;
                ns->last[p][k] = c[p][k];
            }
        }
        if (ns->member && nrows < 2 * st->top) {
            sv_row *row = &out->rows[nrows++];
            pt_tag_text(t->tag, row->tag);
            row->tagv = t->tag;
            row->ovf = !!(t->flags & PT_TAGINFO_OVERFLOW);
            memcpy(row->c, c, sizeof c);
            for (int p = 0; p < PT_POOL_COUNT; p++) {
                row->bytes[p] = (int64_t)(t->pool[p].bytes_alloc -
                                          t->pool[p].bytes_freed);
                row->lo[p] = row->hi[p] = row->bytes[p];
                row->blocks[p] =
                    (int64_t)(t->pool[p].allocs - t->pool[p].frees);
            }
        } else {
            ns->member = 0;
            for (int p = 0; p < PT_POOL_COUNT; p++) {
                other.bytes[p] += (int64_t)(t->pool[p].bytes_alloc -
                                            t->pool[p].bytes_freed);
                other.blocks[p] +=
                    (int64_t)(t->pool[p].allocs - t->pool[p].frees);
            }
        }
    }
    /* "other" always last, always present. */
    sv_row *o = &out->rows[nrows];
    *o = other;
    strcpy(o->tag, "other");
    o->other = 1;
    memcpy(o->c, ps->other, sizeof o->c);
    out->nrows = nrows + 1;

    qsort(nts, nt, sizeof *nts, key_cmp);
    free(ps->tags);
    ps->tags = nts;
    ps->ntags = nt;
    free(rk);

    out->pid = v->pid;
    memcpy(out->comm, v->comm, sizeof out->comm);
    out->comm[sizeof out->comm - 1] = 0;
    out->start_ns = v->start_ns;
    out->proc = v->proc;
    memcpy(out->pool, v->pool, sizeof out->pool);
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        out->bytes[p] = (int64_t)(v->pool[p].bytes_alloc - v->pool[p].bytes_freed);
        out->lo[p] = out->hi[p] = out->bytes[p];
    }
    out->errors_total = v->errors_total;
    out->ntags = nt;
    out->special_full = v->special_full;
    for (size_t i = 0; v->tagx && i < nt; i++)
        out->ninj += v->tagx[i].injected != 0;
    if (out->ninj) {
        out->inj = calloc(out->ninj, sizeof *out->inj);
        if (!out->inj) {
            out->ninj = 0;
            return -1;
        }
        size_t k = 0;
        for (size_t i = 0; i < nt && k < out->ninj; i++)
            if (v->tagx[i].injected) {
                pt_tag_text(v->tags[i].tag, out->inj[k].tag);
                out->inj[k++].n = v->tagx[i].injected;
            }
    }
    return 0;
}

/* The window's extremes of an exact value `now` (serve.h): the flushed
 * totals' (have: found in mm) without the dips and peaks their lag cannot
 * tell from now, holding now. */
static void window_extremes(const ptr_view *v, int have, int64_t now, int64_t *lo,
                            int64_t *hi)
{
    mm_snap(have, now, now, have ? mm_bound(v, now, now) : 0, lo, hi);
}

void sv_extremes(sv_proc *out, const ptr_view *v, const mm_track *mm)
{
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        int have = mm && mm_pool(mm, p, &out->lo[p], &out->hi[p]);
        window_extremes(v, have, out->bytes[p], &out->lo[p], &out->hi[p]);
    }
    for (size_t r = 0; r < out->nrows; r++) {
        sv_row *row = &out->rows[r];
        if (row->other)
            continue;
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            int have = mm && mm_tag(mm, row->tagv, row->ovf, p, &row->lo[p], &row->hi[p]);
            window_extremes(v, have, row->bytes[p], &row->lo[p], &row->hi[p]);
        }
    }
}

void sv_scrape_free(sv_scrape *s)
{
    for (size_t i = 0; i < s->nprocs; i++) {
        free(s->procs[i].rows);
        free(s->procs[i].inj);
    }
    free(s->procs);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------- */
/* Metric families                                                         */

enum scope { SC_GLOBAL, SC_PROC, SC_POOL, SC_ROW, SC_INJ };
enum ftype { FT_GAUGE, FT_COUNTER };
enum field {
    F_PROCS, F_SECONDS, F_READ_ERRORS,
    F_RSS, F_COMMITTED, F_START, F_TAGS, F_ERRORS,
    F_POOL_BYTES, F_POOL_MIN, F_POOL_MAX, F_POOL_PEAK, F_POOL_LIMIT, F_POOL_FAILURES,
    F_POOL_ALLOCS, F_POOL_FREES, F_POOL_BALLOC, F_POOL_BFREED, F_POOL_BLOCKS,
    F_BYTES, F_BYTES_MIN, F_BYTES_MAX, F_BLOCKS, F_ALLOCS, F_FREES, F_FAILURES, F_BALLOC, F_BFREED,
    F_INJECTED, F_SPECIAL_FULL,
};

/*
 * The one list of what a scrape shows, walked by all three formats.
 * name: the metric family (a counter's samples add _total), NULL for a
 * number only the JSON has; unit: the OpenMetrics UNIT (the name ends with
 * it) or NULL; json: the JSON member — for a tag's or a pool's counters
 * the counters.def field or the derived blocks/bytes (docs/json.md), so
 * the JSON has the names of every other verb — NULL for a number only the
 * metrics have.
 */
static const struct family {
    const char *name;
    int type, scope, field;
    const char *unit;
    const char *json;
    const char *help;
} families[] = {
    {"pooltag_pool_bytes", FT_GAUGE, SC_ROW, F_BYTES, "bytes", "bytes",
     "Bytes in use by the tag in the pool (top N tags per process, the rest "
     "summed as tag other)"},
    {"pooltag_pool_min_bytes", FT_GAUGE, SC_ROW, F_BYTES_MIN, "bytes", NULL,
     "Lowest bytes in use by the tag in the pool over the trailing window "
     "(pooltag serve --window, default 60s): the tag's flushed total read "
     "every --sub (default 50ms) and the exact value at this scrape, so "
     "min <= pooltag_pool_bytes; a dip shorter than --sub can be missed, one "
     "within the flushed total's lag (threads x grain) of the exact value is "
     "not counted; top N tags only (none for other)"},
    {"pooltag_pool_max_bytes", FT_GAUGE, SC_ROW, F_BYTES_MAX, "bytes", NULL,
     "Highest bytes in use by the tag in the pool over the trailing window, "
     "as pooltag_pool_min_bytes (max >= pooltag_pool_bytes)"},
    {"pooltag_pool_blocks", FT_GAUGE, SC_ROW, F_BLOCKS, NULL, "blocks",
     "Outstanding allocations of the tag in the pool (allocs - frees)"},
    {"pooltag_allocs", FT_COUNTER, SC_ROW, F_ALLOCS, NULL, "allocs",
     "Successful allocations of the tag in the pool (other: counted while "
     "the tags were not in the top)"},
    {"pooltag_frees", FT_COUNTER, SC_ROW, F_FREES, NULL, "frees",
     "Frees of the tag in the pool"},
    {"pooltag_failures", FT_COUNTER, SC_ROW, F_FAILURES, NULL, "failures",
     "Allocations of the tag refused (pool maximum reached, out of memory)"},
    {"pooltag_allocated_bytes", FT_COUNTER, SC_ROW, F_BALLOC, "bytes", "bytes_alloc",
     "Bytes requested by the tag's allocations in the pool"},
    {"pooltag_freed_bytes", FT_COUNTER, SC_ROW, F_BFREED, "bytes", "bytes_freed",
     "Bytes released by the tag's frees in the pool"},
    {"pooltag_process_pool_bytes", FT_GAUGE, SC_POOL, F_POOL_BYTES, "bytes", "bytes",
     "Bytes in use in the pool, all tags of the process"},
    {"pooltag_process_pool_min_bytes", FT_GAUGE, SC_POOL, F_POOL_MIN, "bytes", NULL,
     "Lowest bytes in use in the pool, all tags of the process, over the "
     "trailing window (pooltag serve --window, default 60s): the pool's "
     "flushed total read every --sub (default 50ms) and the exact value at "
     "this scrape, so min <= pooltag_process_pool_bytes; a dip shorter than "
     "--sub can be missed, one within the flushed total's lag (threads x "
     "grain) of the exact value is not counted"},
    {"pooltag_process_pool_max_bytes", FT_GAUGE, SC_POOL, F_POOL_MAX, "bytes", NULL,
     "Highest bytes in use in the pool, all tags of the process, over the "
     "trailing window, as pooltag_process_pool_min_bytes (max >= "
     "pooltag_process_pool_bytes)"},
    {"pooltag_process_pool_peak_bytes", FT_GAUGE, SC_POOL, F_POOL_PEAK,
     "bytes", "peak", "Highest bytes in use seen in the pool"},
    {"pooltag_process_pool_limit_bytes", FT_GAUGE, SC_POOL, F_POOL_LIMIT,
     "bytes", "limit", "Pool maximum (PT_PAGED_MAX, PT_NONPAGED_MAX); absent when "
              "unlimited"},
    {"pooltag_process_pool_failures", FT_COUNTER, SC_POOL, F_POOL_FAILURES,
     NULL, "failures", "Allocations refused in the pool, all tags"},
    {NULL, FT_COUNTER, SC_POOL, F_POOL_ALLOCS, NULL, "allocs", NULL},
    {NULL, FT_COUNTER, SC_POOL, F_POOL_FREES, NULL, "frees", NULL},
    {NULL, FT_COUNTER, SC_POOL, F_POOL_BALLOC, NULL, "bytes_alloc", NULL},
    {NULL, FT_COUNTER, SC_POOL, F_POOL_BFREED, NULL, "bytes_freed", NULL},
    {NULL, FT_GAUGE, SC_POOL, F_POOL_BLOCKS, NULL, "blocks", NULL},
    {"pooltag_process_resident_bytes", FT_GAUGE, SC_PROC, F_RSS, "bytes", "rss_bytes",
     "Resident set size of the process (VmRSS)"},
    {"pooltag_process_committed_bytes", FT_GAUGE, SC_PROC, F_COMMITTED,
     "bytes", "committed_bytes", "Private writable memory of the process (VmData + VmStk)"},
    {"pooltag_process_start_time_seconds", FT_GAUGE, SC_PROC, F_START,
     "seconds", "start_ns", "When the process created its pooltag segment (Unix time)"},
    {"pooltag_process_tags", FT_GAUGE, SC_PROC, F_TAGS, NULL, "tags",
     "Tags in the process's tag table (exported: the top N and other)"},
    {"pooltag_process_errors", FT_COUNTER, SC_PROC, F_ERRORS, NULL, "errors",
     "Errors the runtime detected (bad or double frees, tag mismatches)"},
    {"pooltag_injected_failures", FT_COUNTER, SC_INJ, F_INJECTED, NULL, NULL,
     "Failures injected by pooltag fault into the tag's allocations (counted "
     "in pooltag_failures too); every tag that has any, top N or not"},
    {"pooltag_special_pool_full", FT_COUNTER, SC_PROC, F_SPECIAL_FULL, NULL, NULL,
     "Allocations chosen for the special pool that found it full (served by "
     "the normal pool), all tags"},
    {"pooltag_processes", FT_GAUGE, SC_GLOBAL, F_PROCS, NULL, NULL,
     "Tagged processes read by this scrape"},
    {"pooltag_scrape_duration_seconds", FT_GAUGE, SC_GLOBAL, F_SECONDS,
     "seconds", "scrape_s", "Time taken to read every tagged process"},
    {"pooltag_read_errors", FT_COUNTER, SC_GLOBAL, F_READ_ERRORS, NULL, "read_errors",
     "Tagged processes that could not be read (since the exporter started; "
     "processes that exit are not errors)"},
};

static const char *const pool_names[PT_POOL_COUNT] = {
    [PT_PAGED] = "paged", [PT_NONPAGED] = "nonpaged"};

/* A row's pool is exported once the tag ever used it (counters never go
 * back to zero, so a series does not come and go); "other" always. */
static int row_pool_used(const sv_row *r, int p)
{
    return r->other || r->c[p][SV_ALLOCS] || r->c[p][SV_FAILURES];
}

/* A sample's value: an unsigned or signed integer, a duration in seconds,
 * or a time (ns since the epoch: seconds.mmm in the metrics, *_ns in the
 * JSON). */
typedef struct sval {
    enum { V_U64, V_I64, V_SECONDS, V_TIME_NS } kind;
    uint64_t u;
    int64_t i;
    double d;
} sval;

#define U(x) (*v = (sval){.kind = V_U64, .u = (x)}, 1)
#define I(x) (*v = (sval){.kind = V_I64, .i = (x)}, 1)

/* The value of family f for (process, row, pool); 0 when there is none
 * (no sample; null in the JSON). */
static int value_of(const struct family *f, const sv_scrape *s,
                    const sv_proc *pr, const sv_row *r, int p, sval *v)
{
    switch ((enum field)f->field) {
    case F_PROCS: return U(s->nprocs);
    case F_SECONDS: *v = (sval){.kind = V_SECONDS, .d = s->seconds}; return 1;
    case F_READ_ERRORS: return U(s->read_errors_total);
    case F_RSS: return pr->proc.valid && U(pr->proc.rss_kb * 1024);
    case F_COMMITTED: return pr->proc.valid && U(pr->proc.commit_kb * 1024);
    case F_START: *v = (sval){.kind = V_TIME_NS, .u = pr->start_ns}; return 1;
    case F_TAGS: return U(pr->ntags);
    case F_ERRORS: return U(pr->errors_total);
    case F_POOL_BYTES: return I(pr->bytes[p]);
    case F_POOL_MIN: return I(pr->lo[p]);
    case F_POOL_MAX: return I(pr->hi[p]);
    case F_POOL_PEAK: return U(pr->pool[p].peak);
    case F_POOL_LIMIT: return pr->pool[p].limit && U(pr->pool[p].limit);
    case F_POOL_FAILURES: return U(pr->pool[p].failures);
    case F_POOL_ALLOCS: return U(pr->pool[p].allocs);
    case F_POOL_FREES: return U(pr->pool[p].frees);
    case F_POOL_BALLOC: return U(pr->pool[p].bytes_alloc);
    case F_POOL_BFREED: return U(pr->pool[p].bytes_freed);
    case F_POOL_BLOCKS: return I(cli_diff(pr->pool[p].allocs, pr->pool[p].frees));
    case F_BYTES: return I(r->bytes[p]);
    case F_BYTES_MIN: return !r->other && I(r->lo[p]);
    case F_BYTES_MAX: return !r->other && I(r->hi[p]);
    case F_BLOCKS: return I(r->blocks[p]);
    case F_ALLOCS: return U(r->c[p][SV_ALLOCS]);
    case F_FREES: return U(r->c[p][SV_FREES]);
    case F_FAILURES: return U(r->c[p][SV_FAILURES]);
    case F_BALLOC: return U(r->c[p][SV_BALLOC]);
    case F_BFREED: return U(r->c[p][SV_BFREED]);
    case F_INJECTED: return U(pr->inj[p].n);
    case F_SPECIAL_FULL: return pr->special_full && U(pr->special_full);
    }
    return 0;
}

#undef U
#undef I

static void sample(sv_buf *b, const struct family *f, const sv_scrape *s,
                   const sv_proc *pr, const sv_row *r, int p)
{
    sval v;
    if (!value_of(f, s, pr, r, p, &v))
        return;
    sv_puts(b, f->name);
    if (f->type == FT_COUNTER)
        sv_puts(b, "_total");
    if (pr) {
        sv_printf(b, "{pid=\"%" PRIu32 "\",comm=\"", pr->pid);
        sv_put_text(b, pr->comm, strlen(pr->comm));
        sv_puts(b, "\"");
        if (r) {
            sv_puts(b, ",tag=\"");
            sv_put_text(b, r->tag, strlen(r->tag));
            sv_puts(b, "\"");
        } else if (f->scope == SC_INJ) {
            sv_puts(b, ",tag=\"");
            sv_put_text(b, pr->inj[p].tag, strlen(pr->inj[p].tag));
            sv_puts(b, "\"");
        }
        if (f->scope == SC_POOL || f->scope == SC_ROW)
            sv_printf(b, ",pool=\"%s\"", pool_names[p]);
        sv_puts(b, "}");
    }
    switch (v.kind) {
    case V_U64: sv_printf(b, " %" PRIu64 "\n", v.u); break;
    case V_I64: sv_printf(b, " %" PRId64 "\n", v.i); break;
    case V_SECONDS: sv_printf(b, " %.6f\n", v.d); break;
    case V_TIME_NS:
        sv_printf(b, " %" PRIu64 ".%03" PRIu64 "\n", v.u / 1000000000u, v.u / 1000000u % 1000u);
        break;
    }
}

static void render_metrics(const sv_scrape *s, int om, sv_buf *b)
{
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        const struct family *f = &families[i];
        if (!f->name)
            continue;
        const char *suffix = f->type == FT_COUNTER && !om ? "_total" : "";
        /* (the help text whole: it may be longer than sv_printf's line) */
        sv_printf(b, "# HELP %s%s ", f->name, suffix);
        sv_puts(b, f->help);
        sv_puts(b, "\n");
        sv_printf(b, "# TYPE %s%s %s\n", f->name, suffix,
                  f->type == FT_COUNTER ? "counter" : "gauge");
        if (om && f->unit)
            sv_printf(b, "# UNIT %s %s\n", f->name, f->unit);
        if (f->scope == SC_GLOBAL) {
            sample(b, f, s, NULL, NULL, 0);
            continue;
        }
        for (size_t k = 0; k < s->nprocs; k++) {
            const sv_proc *pr = &s->procs[k];
            if (f->scope == SC_PROC) {
                sample(b, f, s, pr, NULL, 0);
            } else if (f->scope == SC_POOL) {
                for (int p = 0; p < PT_POOL_COUNT; p++)
                    sample(b, f, s, pr, NULL, p);
            } else if (f->scope == SC_INJ) {
                /* (p: the index in pr->inj) */
                for (size_t j = 0; j < pr->ninj; j++)
                    sample(b, f, s, pr, NULL, (int)j);
            } else {
                for (size_t r = 0; r < pr->nrows; r++)
                    for (int p = 0; p < PT_POOL_COUNT; p++)
                        if (row_pool_used(&pr->rows[r], p))
                            sample(b, f, s, pr, &pr->rows[r], p);
            }
        }
    }
    if (om)
        sv_puts(b, "# EOF\n");
}

/* ---------------------------------------------------------------------- */
/* JSON for the dashboard (/api/v1/processes, docs/json.md)               */

/* The JSON members of the families of one scope (and pool), in the
 * table's order; a family without a sample is null. */
static void json_members(emitter *e, int scope, const sv_scrape *s, const sv_proc *pr,
                         const sv_row *r, int p)
{
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        const struct family *f = &families[i];
        sval v;
        if (f->scope != scope || !f->json)
            continue;
        if (!value_of(f, s, pr, r, p, &v)) {
            emit_kv_null(e, f->json);
            continue;
        }
        switch (v.kind) {
        case V_U64: emit_kv_u64(e, f->json, v.u); break;
        case V_I64: emit_kv_i64(e, f->json, v.i); break;
        case V_SECONDS: emit_kv_dbl(e, f->json, v.d, 6); break;
        case V_TIME_NS: emit_kv_u64(e, f->json, v.u); break;
        }
    }
}

static void json_pools(emitter *e, int scope, const sv_scrape *s, const sv_proc *pr,
                       const sv_row *r)
{
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        emit_obj_begin(e, pool_names[p]);
        json_members(e, scope, s, pr, r, p);
        emit_obj_end(e);
    }
}

static void render_json(const sv_scrape *s, sv_buf *b)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        b->failed = 1;
        return;
    }
    emitter em, *e = &em;
    emit_init(e, f, EMIT_JSON);
    emit_begin(e);
    emit_kv_u64(e, "taken_ns", s->time_ms * 1000000u);
    emit_kv_u64(e, "top", s->top);
    json_members(e, SC_GLOBAL, s, NULL, NULL, 0);
    emit_arr_begin(e, "processes");
    for (size_t k = 0; k < s->nprocs; k++) {
        const sv_proc *pr = &s->procs[k];
        emit_obj_begin(e, NULL);
        emit_kv_u64(e, "pid", pr->pid);
        emit_kv_str(e, "comm", pr->comm);
        json_members(e, SC_PROC, s, pr, NULL, 0);
        emit_obj_begin(e, "pools");
        json_pools(e, SC_POOL, s, pr, NULL);
        emit_obj_end(e);
        emit_arr_begin(e, "rows");
        for (size_t r = 0; r < pr->nrows; r++) {
            const sv_row *row = &pr->rows[r];
            emit_obj_begin(e, NULL);
            if (row->other)
                emit_kv_str(e, "tag", "other");
            else
                emit_kv_tag(e, "tag", row->tagv);
            emit_kv_bool(e, "other", row->other);
            json_pools(e, SC_ROW, s, pr, row);
            emit_obj_end(e);
        }
        emit_arr_end(e);
        emit_obj_end(e);
    }
    emit_arr_end(e);
    emit_end(e);
    if (ferror(f))
        b->failed = 1;
    if (fclose(f) != 0 || !text)
        b->failed = 1;
    else
        sv_put(b, text, len);
    free(text);
}

void sv_render(const sv_scrape *s, int format, sv_buf *b)
{
    if (format == SV_JSON)
        render_json(s, b);
    else
        render_metrics(s, format == SV_OPENMETRICS, b);
}

/* ---------------------------------------------------------------------- */
/* Content negotiation                                                     */

static int lower_eq(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return 0;
    }
    return 1;
}

/* q-value "0", "1", "0.xyz", "1.000" in thousandths; -1 when malformed. */
static int parse_q(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int v = (s[0] - '0') * 1000;
    if (n == 1)
        return v;
    if (s[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v += (s[i] - '0') * scale;
    }
    return v > 1000 ? -1 : v;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/*
 * Accept: a comma-separated list of media ranges with parameters.
 * OpenMetrics is served when application/openmetrics-text (version 1.0.0
 * or unversioned) has a q-value > 0 at least as high as the best of
 * text/plain, text/ and * / *.  Malformed elements are ignored.
 */
int sv_accept_openmetrics(const char *accept)
{
    int q_om = -1, q_text = -1;
    if (!accept)
        return 0;
    const char *s = accept;
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *semi = memchr(s, ';', len);
        const char *type = s;
        size_t tlen = semi ? (size_t)(semi - s) : len;
        trim(&type, &tlen);
        int q = 1000, version_ok = 1;
        const char *par = semi ? semi + 1 : NULL;
        while (par && par < s + len) {
            const char *pe = memchr(par, ';', (size_t)(s + len - par));
            size_t plen = pe ? (size_t)(pe - par) : (size_t)(s + len - par);
            const char *eq = memchr(par, '=', plen);
            if (eq) {
                const char *k = par, *v = eq + 1;
                size_t kl = (size_t)(eq - par),
                       vl = plen - (size_t)(eq - par) - 1;
                trim(&k, &kl);
                trim(&v, &vl);
                if (lower_eq(k, kl, "q")) {
                    q = parse_q(v, vl);
                } else if (lower_eq(k, kl, "version")) {
                    version_ok = lower_eq(v, vl, "1.0.0");
                }
            }
            par = pe ? pe + 1 : NULL;
        }
        if (q >= 0) {
            if (lower_eq(type, tlen, "application/openmetrics-text")) {
                if (version_ok && q > q_om)
                    q_om = q;
            } else if (lower_eq(type, tlen, "text/plain") ||
                       lower_eq(type, tlen, "text/*") ||
                       lower_eq(type, tlen, "*/*")) {
                if (q > q_text)
                    q_text = q;
            }
        }
        s = end ? end + 1 : s + len;
    }
    return q_om > 0 && q_om >= q_text;
}
