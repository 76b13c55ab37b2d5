/*
 * mon.c — `pooltag mon`: poolmon for tagged processes.
 *
 * Data model
 * ----------
 * 1. A reading (ptr_view) holds one pt_tag_info per tag.  mon expands it
 *    into rows, one per (tag, pool type) that has any allocation or free,
 *    kept in key order (tag, pool) in m->cur.
 * 2. The rows of the previous reading are kept in m->prev, in the same
 *    order.  A row's change fields (d_*) are its counts minus the matching
 *    previous row's: 0 on the first reading; a row that appears for the
 *    first time later counts all it has as change and is marked fresh.
 * 3. Three total rows (paged, nonpaged, both) sum every row of the reading,
 *    whatever the filters: they describe the process, not the selection.
 * 4. m->shown points into m->cur: the rows that pass the pool filter and the
 *    -i/-x patterns, in the current sort order.
 * 5. One function (mon_table) turns the state into lines of text: title,
 *    column header, rows, totals.  The plain output writes those lines; the
 *    curses screen draws the same lines, pinning title, header and totals
 *    and scrolling the rows.  JSON is written from the rows directly,
 *    through the emitter (emit.h; the names of docs/json.md).
 *
 * Modes, decided once: --json (one reading as JSON), -n FILE (one table),
 * a snapshot source (one table), live full screen (stdin and stdout are
 * terminals and curses starts), else plain text: one table per interval
 * until the process exits or --count tables were printed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "verbs.h"
#include "emit.h"
#include "util.h"
#include "procfs.h"

#define MON_VERB "mon"
#define MON_CELL 72     /* bytes of one table cell, NUL included          */
#define MON_BOTH 2      /* pool index of the "both pools" total row       */

enum mon_sort {
    S_BYTES, S_ALLOCS, S_FREES, S_DIFF, S_PERALLOC, S_TAG, S_CHANGE, S_N
};

static const struct {
    const char *name;   /* --sort= value and title text                   */
    int key;            /* interactive key                                */
} mon_sorts[S_N] = {
    [S_BYTES] = {"bytes", 'b'},   [S_ALLOCS] = {"allocs", 'a'},
    [S_FREES] = {"frees", 'f'},   [S_DIFF] = {"diff", 'd'},
    [S_PERALLOC] = {"peralloc", 'm'}, [S_TAG] = {"tag", 't'},
    [S_CHANGE] = {"change", 'c'},
};

/* Table columns.  A number column is followed by its change column. */
enum mon_col {
    C_TAG, C_TYPE, C_ALLOCS, C_DALLOCS, C_FREES, C_DFREES, C_DIFF, C_DDIFF,
    C_BYTES, C_DBYTES, C_PER, C_MAPPED, C_N
};

static const struct {
    const char *head;
    int left;           /* left-aligned (else right)                      */
    int glued;          /* separated from the previous column by 1 space  */
} mon_cols[C_N] = {
    [C_TAG] = {"Tag", 1, 0},        [C_TYPE] = {"Type", 1, 0},
    [C_ALLOCS] = {"Allocs", 0, 0},  [C_DALLOCS] = {"", 0, 1},
    [C_FREES] = {"Frees", 0, 0},    [C_DFREES] = {"", 0, 1},
    [C_DIFF] = {"Diff", 0, 0},      [C_DDIFF] = {"", 0, 1},
    [C_BYTES] = {"Bytes", 0, 0},    [C_DBYTES] = {"", 0, 1},
    [C_PER] = {"Per Alloc", 0, 0},  [C_MAPPED] = {"Mapped", 1, 0},
};

/* The column(s) that the header marks for each sort. */
static const int mon_sort_col[S_N][2] = {
    [S_BYTES] = {C_BYTES, C_BYTES},   [S_ALLOCS] = {C_ALLOCS, C_ALLOCS},
    [S_FREES] = {C_FREES, C_FREES},   [S_DIFF] = {C_DIFF, C_DIFF},
    [S_PERALLOC] = {C_PER, C_PER},    [S_TAG] = {C_TAG, C_TAG},
    [S_CHANGE] = {C_BYTES, C_DBYTES},
};

typedef struct mon_row {
    uint32_t tag;
    uint32_t flags;       /* PT_TAGINFO_*                                 */
    int pool;             /* PT_PAGED, PT_NONPAGED, or MON_BOTH (totals)  */
    int changed;          /* any change since the previous reading        */
    int fresh;            /* not in the previous reading                  */
    int total;            /* a total row (model 3)                        */
    uint64_t allocs, frees, bytes_alloc, bytes_freed, peak, failures;
    int64_t diff, bytes, per_alloc;
    int64_t d_allocs, d_frees, d_diff, d_bytes;
} mon_row;

enum mon_line_kind { L_TITLE, L_HEAD, L_ROW, L_TOTAL };

typedef struct mon_line {
    char *s;
    int kind;             /* enum mon_line_kind                           */
    int hot;              /* row or total that changed: highlighted       */
    int hl_at, hl_len;    /* header: span of the sorted column            */
} mon_line;

typedef struct mon {
    /* options */
    double interval;      /* seconds                                      */
    int sort, rev;        /* enum mon_sort; rev flips the natural order   */
    int pool;             /* -1 both, PT_PAGED, PT_NONPAGED               */
    char **incl, **excl;  /* NULL-terminated pattern lists                */
    int nincl, nexcl;
    int mapped;           /* -g                                           */
    const char *nfile;    /* -n FILE                                      */
    long count;           /* --count (0 = until the process exits)        */
    int json;
    const char *spec;     /* SOURCE                                       */
    /* state */
    ptr_source *src;
    ptr_view view;        /* latest reading                               */
    int have_view;
    mon_row *cur, *prev;  /* rows in key order (model 1, 2)               */
    size_t ncur, nprev;
    mon_row tot[3], prevtot[3];
    mon_row **shown;      /* model 4                                      */
    size_t nshown;
    /* screen */
    int top, left;        /* first row shown; first column shown          */
    char status[320];     /* message in the footer (errors, exit)         */
} mon;

static volatile sig_atomic_t mon_stop;

static void mon_on_signal(int sig)
{
    (void)sig;
    mon_stop = 1;
}

static double mon_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------- */
/* Rows                                                                    */

/* Sort key of a tag: its bytes in text order (tag byte 0 first). */
static uint32_t mon_tag_key(uint32_t t)
{
    return (t & 0xffu) << 24 | ((t >> 8) & 0xffu) << 16 |
           ((t >> 16) & 0xffu) << 8 | (t >> 24);
}

static int mon_key_cmp(const mon_row *a, const mon_row *b)
{
    uint32_t ka = mon_tag_key(a->tag), kb = mon_tag_key(b->tag);
    if (ka != kb)
        return ka < kb ? -1 : 1;
    uint32_t oa = a->flags & PT_TAGINFO_OVERFLOW;
    uint32_t ob = b->flags & PT_TAGINFO_OVERFLOW;
    if (oa != ob)
        return oa < ob ? -1 : 1;
    return a->pool - b->pool;
}

static int mon_key_qcmp(const void *a, const void *b)
{
    return mon_key_cmp(a, b);
}

/* Fill the derived fields of r from its counts and the previous row p
 * (NULL: no previous row; first says whether there was a previous reading
 * at all). */
static void mon_derive(mon_row *r, const mon_row *p, int first)
{
    r->diff = (int64_t)(r->allocs - r->frees);
    r->bytes = (int64_t)(r->bytes_alloc - r->bytes_freed);
    r->per_alloc = r->diff > 0 ? r->bytes / r->diff : 0;
    if (first) {
        r->d_allocs = r->d_frees = r->d_diff = r->d_bytes = 0;
        r->fresh = r->changed = 0;
        return;
    }
    r->fresh = p == NULL;
    r->d_allocs = (int64_t)(r->allocs - (p ? p->allocs : 0));
    r->d_frees = (int64_t)(r->frees - (p ? p->frees : 0));
    r->d_diff = r->diff - (p ? p->diff : 0);
    r->d_bytes = r->bytes - (p ? p->bytes : 0);
    r->changed = r->fresh || r->d_allocs || r->d_frees || r->d_bytes;
}

/*
 * Take v as the new reading: rebuild m->cur and the totals, computing the
 * changes against the rows that were current until now.  Takes ownership
 * of v.  Returns 0, or -1 when out of memory (v is then freed).
 */
static int mon_take(mon *m, ptr_view *v)
{
    size_t n = 0;
    mon_row *rows = calloc(v->ntags * PT_POOL_COUNT + 1, sizeof *rows);
    if (!rows) {
        ptr_view_free(v);
        return -1;
    }
    for (size_t i = 0; i < v->ntags; i++) {
        const pt_tag_info *t = &v->tags[i];
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            const pt_counts *c = &t->pool[p];
            if (!c->allocs && !c->frees)
                continue;
            mon_row *r = &rows[n++];
            r->tag = t->tag;
            r->flags = t->flags;
            r->pool = p;
            r->allocs = c->allocs;
            r->frees = c->frees;
            r->bytes_alloc = c->bytes_alloc;
            r->bytes_freed = c->bytes_freed;
            r->peak = c->peak;
            r->failures = c->failures;
        }
    }
    qsort(rows, n, sizeof *rows, mon_key_qcmp);

    /* The rows current until now become the previous reading. */
    free(m->prev);
    m->prev = m->cur;
    m->nprev = m->ncur;
    int first = !m->have_view;
    memcpy(m->prevtot, m->tot, sizeof m->tot);

    memset(m->tot, 0, sizeof m->tot);
    for (int p = 0; p < 3; p++) {
        m->tot[p].pool = p;
        m->tot[p].total = 1;
    }
    for (size_t i = 0; i < n; i++) {
        mon_row *r = &rows[i];
        const mon_row *p =
            first ? NULL
                  : bsearch(r, m->prev, m->nprev, sizeof *r, mon_key_qcmp);
        mon_derive(r, p, first);
        mon_row *tp = &m->tot[r->pool], *tb = &m->tot[MON_BOTH];
        tp->allocs += r->allocs, tb->allocs += r->allocs;
        tp->frees += r->frees, tb->frees += r->frees;
        tp->bytes_alloc += r->bytes_alloc, tb->bytes_alloc += r->bytes_alloc;
        tp->bytes_freed += r->bytes_freed, tb->bytes_freed += r->bytes_freed;
        tp->failures += r->failures, tb->failures += r->failures;
    }
    for (int p = 0; p < 3; p++)
        mon_derive(&m->tot[p], first ? NULL : &m->prevtot[p], first);

    m->cur = rows;
    m->ncur = n;
    if (m->have_view)
        ptr_view_free(&m->view);
    m->view = *v;
    m->have_view = 1;
    return 0;
}

/* ---- selection and order (model 4) ------------------------------------ */

static mon *mon_sorting; /* qsort has no context argument */

static uint64_t mon_abs(int64_t x)
{
    return x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
}

/* Natural order: numbers largest first, tags A to Z.  Ties by tag, pool. */
static int mon_order_cmp(const void *pa, const void *pb)
{
    const mon_row *a = *(mon_row *const *)pa, *b = *(mon_row *const *)pb;
    int c = 0;
#define MON_DESC(x, y) ((x) < (y) ? 1 : (x) > (y) ? -1 : 0)
    switch (mon_sorting->sort) {
    case S_BYTES: c = MON_DESC(a->bytes, b->bytes); break;
    case S_ALLOCS: c = MON_DESC(a->allocs, b->allocs); break;
    case S_FREES: c = MON_DESC(a->frees, b->frees); break;
    case S_DIFF: c = MON_DESC(a->diff, b->diff); break;
    case S_PERALLOC: c = MON_DESC(a->per_alloc, b->per_alloc); break;
    case S_CHANGE:
        c = MON_DESC(mon_abs(a->d_bytes), mon_abs(b->d_bytes));
        if (!c)
            c = MON_DESC(mon_abs(a->d_diff), mon_abs(b->d_diff));
        break;
    default: break;
    }
#undef MON_DESC
    if (!c)
        c = mon_key_cmp(a, b);
    return mon_sorting->rev ? -c : c;
}

/* Rebuild m->shown from m->cur with the current filters and sort. */
static void mon_select(mon *m)
{
    free(m->shown);
    m->shown = calloc(m->ncur + 1, sizeof *m->shown);
    m->nshown = 0;
    if (!m->shown)
        return;
    for (size_t i = 0; i < m->ncur; i++) {
        mon_row *r = &m->cur[i];
        if (m->pool >= 0 && r->pool != m->pool)
            continue;
        if (!cli_tag_selected(r->tag, m->incl, m->excl))
            continue;
        m->shown[m->nshown++] = r;
    }
    mon_sorting = m;
    qsort(m->shown, m->nshown, sizeof *m->shown, mon_order_cmp);
}

/* ---------------------------------------------------------------------- */
/* Lines of text (model 5)                                                 */

typedef struct mon_lines {
    mon_line *v;
    size_t n, cap;
    int oom;
} mon_lines;

static mon_line *mon_add(mon_lines *L, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static mon_line *mon_add(mon_lines *L, int kind, const char *fmt, ...)
{
    if (L->n == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 64;
        mon_line *nv = realloc(L->v, cap * sizeof *nv);
        if (!nv) {
            L->oom = 1;
            return NULL;
        }
        L->v = nv;
        L->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        L->oom = 1;
        return NULL;
    }
    mon_line *l = &L->v[L->n++];
    memset(l, 0, sizeof *l);
    l->s = s;
    l->kind = kind;
    return l;
}

static void mon_lines_free(mon_lines *L)
{
    for (size_t i = 0; i < L->n; i++)
        free(L->v[i].s);
    free(L->v);
    memset(L, 0, sizeof *L);
}

static const char *mon_pool_name(int pool)
{
    return pool == PT_PAGED ? "Paged" : pool == PT_NONPAGED ? "Nonp" : "Both";
}

static const char *mon_filter_name(int pool)
{
    return pool == PT_PAGED ? "paged" : pool == PT_NONPAGED ? "nonpaged"
                                                            : "both";
}

/* Copy text from outside (a process name, pooltag.txt) into out, with every
 * byte that is not printable ASCII replaced by '?': it goes to a terminal. */
static void mon_fmt_delta(char *out, int64_t d)
{
    if (d > 0)
        snprintf(out, MON_CELL, "(+%" PRId64 ")", d);
    else
        snprintf(out, MON_CELL, "(%" PRId64 ")", d);
}

/* The cells of one row (or total row). */
static void mon_cells(const mon *m, const mon_row *r, char c[C_N][MON_CELL])
{
    char tb[PT_TAG_TEXT_MAX];
    if (r->total)
        snprintf(c[C_TAG], MON_CELL, "Total");
    else
        snprintf(c[C_TAG], MON_CELL, "%s", cli_tag(r->tag, tb));
    snprintf(c[C_TYPE], MON_CELL, "%s", mon_pool_name(r->pool));
    snprintf(c[C_ALLOCS], MON_CELL, "%" PRIu64, r->allocs);
    snprintf(c[C_FREES], MON_CELL, "%" PRIu64, r->frees);
    snprintf(c[C_DIFF], MON_CELL, "%" PRId64, r->diff);
    snprintf(c[C_BYTES], MON_CELL, "%" PRId64, r->bytes);
    snprintf(c[C_PER], MON_CELL, "%" PRId64, r->per_alloc);
    mon_fmt_delta(c[C_DALLOCS], r->d_allocs);
    mon_fmt_delta(c[C_DFREES], r->d_frees);
    mon_fmt_delta(c[C_DDIFF], r->d_diff);
    mon_fmt_delta(c[C_DBYTES], r->d_bytes);
    c[C_MAPPED][0] = 0;
    if (m->mapped && !r->total) {
        const ptdb_entry *e = ptdb_lookup(r->tag);
        cli_text(e && e->binary && e->binary[0] ? e->binary : "-", c[C_MAPPED],
                 MON_CELL);
    }
}

/* Compose one line from cells with the given widths.  If at/len are not
 * NULL, they receive the span of columns [c0, c1]. */
static char *mon_compose(const mon *m, char c[C_N][MON_CELL],
                         const int *w, int c0, int c1, int *at, int *len)
{
    size_t cap = 16;
    for (int i = 0; i < C_N; i++)
        cap += (size_t)w[i] + 2;
    char *s = malloc(cap), *o = s;
    if (!s)
        return NULL;
    int last = m->mapped ? C_MAPPED : C_PER;
    for (int i = 0; i <= last; i++) {
        if (i > 0) {
            int sep = mon_cols[i].glued ? 1 : 2;
            memset(o, ' ', (size_t)sep);
            o += sep;
        }
        if (i == c0 && at)
            *at = (int)(o - s);
        int l = (int)strlen(c[i]);
        int pad = w[i] > l ? w[i] - l : 0;
        if (!mon_cols[i].left) {
            memset(o, ' ', (size_t)pad);
            o += pad;
        }
        memcpy(o, c[i], (size_t)l);
        o += l;
        if (mon_cols[i].left && i != last) {
            memset(o, ' ', (size_t)pad);
            o += pad;
        }
        if (i == c1 && at && len)
            *len = (int)(o - s) - *at;
    }
    while (o > s && o[-1] == ' ')
        o--;
    *o = 0;
    return s;
}

static void mon_fmt_kb(char *out, size_t n, uint64_t kb)
{
    if (kb < 1024)
        snprintf(out, n, "%" PRIu64 " KiB", kb);
    else if (kb < 1024 * 1024)
        snprintf(out, n, "%.1f MiB", (double)kb / 1024);
    else
        snprintf(out, n, "%.2f GiB", (double)kb / (1024.0 * 1024));
}

/* The title: process, pid, RSS, uptime, time of the reading, sort, pool
 * filter, tag patterns, interval. */
static void mon_title(const mon *m, mon_lines *L)
{
    const ptr_view *v = &m->view;
    char rss[32] = "?", up[48] = "?", when[40] = "?", pats[256] = "";
    char comm[CLI_TEXT_SIZE(sizeof v->comm)];
    cli_text(v->comm[0] ? v->comm : "?", comm, sizeof comm);
    if (v->proc.valid)
        mon_fmt_kb(rss, sizeof rss, v->proc.rss_kb);
    uint64_t taken = v->taken_ns;
    if (!taken) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        taken = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    if (v->start_ns && v->start_ns <= taken) {
        uint64_t s = (taken - v->start_ns) / 1000000000u;
        if (s >= 86400)
            snprintf(up, sizeof up, "%" PRIu64 "d %02u:%02u:%02u", s / 86400,
                     (unsigned)(s % 86400 / 3600), (unsigned)(s % 3600 / 60),
                     (unsigned)(s % 60));
        else
            snprintf(up, sizeof up, "%u:%02u:%02u", (unsigned)(s / 3600),
                     (unsigned)(s % 3600 / 60), (unsigned)(s % 60));
    }
    time_t t = (time_t)(taken / 1000000000u);
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    size_t o = 0;
    for (int i = 0; i < m->nincl && o < sizeof pats; i++)
        o += (size_t)snprintf(pats + o, sizeof pats - o, " +%s", m->incl[i]);
    for (int i = 0; i < m->nexcl && o < sizeof pats; i++)
        o += (size_t)snprintf(pats + o, sizeof pats - o, " -%s", m->excl[i]);

    int natural_desc = m->sort != S_TAG;
    const char *dir = natural_desc != m->rev ? "desc" : "asc";
    char every[48];
    if (v->kind == PTR_LIVE)
        snprintf(every, sizeof every, "interval %gs", m->interval);
    else
        snprintf(every, sizeof every, v->kind == PTR_CORE ? "core" : "snapshot");
    mon_add(L, L_TITLE,
            "%s (pid %" PRIu32 ")  RSS %s  up %s  %s  sort: %s %s  pool: %s"
            "%s%s  %s",
            comm, v->pid, rss, up, when,
            mon_sorts[m->sort].name, dir, mon_filter_name(m->pool),
            pats[0] ? "  tags:" : "", pats, every);
}

/*
 * Build the lines of the table for the current state: title, column
 * header, one line per shown row, then the three total rows.  The column
 * widths fit every cell.  Returns 0, or -1 when out of memory.
 */
static int mon_table(mon *m, mon_lines *L)
{
    char cells[C_N][MON_CELL];
    size_t nr = m->nshown + 3;
    int w[C_N];
#define MON_ROW(k) ((k) < m->nshown ? m->shown[k] : &m->tot[(k) - m->nshown])
    /* Pass 1: column widths.  Pass 2 formats again rather than keeping
     * every cell: a table may have many rows. */
    for (int i = 0; i < C_N; i++)
        w[i] = (int)strlen(mon_cols[i].head);
    for (size_t k = 0; k < nr; k++) {
        mon_cells(m, MON_ROW(k), cells);
        for (int i = 0; i < C_N; i++) {
            int l = (int)strlen(cells[i]);
            if (l > w[i])
                w[i] = l;
        }
    }

    mon_title(m, L);
    for (int i = 0; i < C_N; i++)
        snprintf(cells[i], MON_CELL, "%s", mon_cols[i].head);
    int at = 0, len = 0;
    char *h = mon_compose(m, cells, w, mon_sort_col[m->sort][0],
                          mon_sort_col[m->sort][1], &at, &len);
    mon_line *hl = h ? mon_add(L, L_HEAD, "%s", h) : NULL;
    free(h);
    if (hl) {
        hl->hl_at = at;
        hl->hl_len = len;
    }
    for (size_t k = 0; k < nr && !L->oom; k++) {
        const mon_row *r = MON_ROW(k);
        mon_cells(m, r, cells);
        char *s = mon_compose(m, cells, w, -1, -1, NULL, NULL);
        mon_line *l = s ? mon_add(L, k < m->nshown ? L_ROW : L_TOTAL, "%s", s)
                        : NULL;
        free(s);
        if (l)
            l->hot = r->changed;
        else
            L->oom = 1;
    }
#undef MON_ROW
    return L->oom ? -1 : 0;
}

/* Write the table as plain text. */
static int mon_print(mon *m, FILE *f)
{
    mon_lines L = {0};
    if (mon_table(m, &L) < 0) {
        mon_lines_free(&L);
        return -1;
    }
    int rows = 0;
    for (size_t i = 0; i < L.n; i++) {
        if (L.v[i].kind == L_TOTAL && rows++ == 0) {
            if (m->nshown == 0)
                fprintf(f, "(no tag with counts matches the filters)\n");
            fputc('\n', f);
        }
        fprintf(f, "%s\n", L.v[i].s);
    }
    mon_lines_free(&L);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                    */

/* A row's counters as pt_counts, for emit_counts (docs/json.md $counts). */
static pt_counts mon_counts(const mon_row *r)
{
    pt_counts c;
    memset(&c, 0, sizeof c);
    c.allocs = r->allocs;
    c.frees = r->frees;
    c.bytes_alloc = r->bytes_alloc;
    c.bytes_freed = r->bytes_freed;
    c.peak = r->peak;
    c.failures = r->failures;
    return c;
}

/* One reading as JSON (docs/json.md, section mon): the reading's $source,
 * the options in effect, the shown rows with their counters, the totals. */
static void mon_json(mon *m, FILE *f)
{
    const ptr_view *v = &m->view;
    emitter e;
    emit_init(&e, f, EMIT_JSON);
    emit_begin(&e);
    emit_source(&e, v, m->spec);
    if (v->proc.valid)
        emit_kv_u64(&e, "rss_kb", v->proc.rss_kb);
    else
        emit_kv_null(&e, "rss_kb");
    emit_kv_str(&e, "sort", mon_sorts[m->sort].name);
    emit_kv_str(&e, "order", (m->sort != S_TAG) != m->rev ? "desc" : "asc");
    emit_kv_str(&e, "pool", mon_filter_name(m->pool));
    emit_arr_begin(&e, "rows");
    for (size_t i = 0; i < m->nshown; i++) {
        const mon_row *r = m->shown[i];
        pt_counts c = mon_counts(r);
        emit_obj_begin(&e, NULL);
        emit_kv_tag(&e, "tag", r->tag);
        emit_kv_str(&e, "type", r->pool == PT_PAGED ? "paged" : "nonpaged");
        emit_counts(&e, "counts", &c, 1);
        emit_kv_i64(&e, "per_alloc", r->per_alloc);
        emit_kv_bool(&e, "overflow", (r->flags & PT_TAGINFO_OVERFLOW) != 0);
        if (m->mapped) {
            const ptdb_entry *db = ptdb_lookup(r->tag);
            emit_kv_str(&e, "mapped", db && db->binary ? db->binary : NULL);
        }
        emit_obj_end(&e);
    }
    emit_arr_end(&e);
    emit_obj_begin(&e, "totals");
    static const char *const names[3] = {"paged", "nonpaged", "all"};
    for (int p = 0; p < 3; p++) {
        pt_counts c = mon_counts(&m->tot[p]);
        emit_obj_begin(&e, names[p]);
        emit_counts(&e, "counts", &c, 0);   /* a sum over tags: no peak */
        emit_kv_i64(&e, "per_alloc", m->tot[p].per_alloc);
        emit_obj_end(&e);
    }
    emit_obj_end(&e);
    emit_end(&e);
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */

/* Is the live target gone (exited, or a zombie)? */
static int mon_gone(mon *m)
{
    if (ptr_kind(m->src) != PTR_LIVE)
        return 0;
    return !ptr_alive(m->src) || !ptp_alive(ptr_pid(m->src), 0);
}

enum { MR_OK = 0, MR_ERR = -1, MR_GONE = -2 };

/* Take a new reading and reselect.  MR_GONE when the process has exited;
 * MR_ERR with a message in err otherwise. */
static int mon_update(mon *m, char *err, size_t errlen)
{
    ptr_view v;
    memset(&v, 0, sizeof v);
    if (ptr_read(m->src, &v, err, errlen) < 0)
        return mon_gone(m) ? MR_GONE : MR_ERR;
    cli_use_modules(&v);
    if (mon_take(m, &v) < 0) {
        snprintf(err, errlen, "out of memory");
        return MR_ERR;
    }
    mon_select(m);
    return MR_OK;
}

/* ---------------------------------------------------------------------- */
/* Plain output                                                            */

static void mon_sleep(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !mon_stop)
        ;
}

/* One table per interval on stdout until the process exits, --count
 * tables were printed, or a signal.  The first reading is already taken. */
static int mon_plain(mon *m)
{
    char err[256];
    double next = mon_now();
    for (long n = 1;; n++) {
        if (n > 1)
            fputc('\n', stdout);
        if (mon_print(m, stdout) < 0) {
            cli_err(MON_VERB, "out of memory");
            return PT_EXIT_USAGE;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_err(MON_VERB, "cannot write standard output: %s",
                    strerror(errno));
            return PT_EXIT_USAGE;
        }
        if (m->view.kind != PTR_LIVE || (m->count && n >= m->count))
            return PT_EXIT_OK;
        next += m->interval;
        double d = next - mon_now();
        if (d > 0)
            mon_sleep(d);
        else
            next = mon_now();
        if (mon_stop)
            return PT_EXIT_OK;
        int rc = mon_update(m, err, sizeof err);
        if (rc == MR_GONE) {
            fprintf(stderr, "pooltag mon: process %" PRIu32 " exited\n",
                    m->view.pid);
            return PT_EXIT_OK;
        }
        if (rc != MR_OK) {
            cli_err(MON_VERB, "%s", err);
            return PT_EXIT_USAGE;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Live screen                                                             */

static int mon_rows_height(void)
{
    /* title, header | rows | separator, 3 totals, footer */
    int h = LINES - 2 - 4 - 1;
    return h < 1 ? 1 : h;
}

/* Draw line l at screen line y, from text column `left` on. */
static void mon_put(int y, int left, const mon_line *l, attr_t attr)
{
    if (y < 0 || y >= LINES)
        return;
    move(y, 0);
    clrtoeol();
    int len = (int)strlen(l->s);
    if (left < len)
        mvaddnstr(y, 0, l->s + left, COLS);
    if (attr)
        mvchgat(y, 0, -1, attr, 0, NULL);
    if (l->hl_len > 0) {
        int a = l->hl_at - left, e = a + l->hl_len;
        if (a < 0)
            a = 0;
        if (e > COLS)
            e = COLS;
        if (e > a)
            mvchgat(y, a, e - a, attr | A_UNDERLINE | A_BOLD, 0, NULL);
    }
}

/* Draw the whole screen from the current state. */
static void mon_draw(mon *m)
{
    mon_lines L = {0};
    erase();
    if (mon_table(m, &L) < 0) {
        mvaddstr(0, 0, "pooltag mon: out of memory");
        mon_lines_free(&L);
        refresh();
        return;
    }
    int h = mon_rows_height();
    int maxtop = (int)m->nshown > h ? (int)m->nshown - h : 0;
    if (m->top > maxtop)
        m->top = maxtop;
    if (m->top < 0)
        m->top = 0;
    int widest = 0;
    for (size_t i = 0; i < L.n; i++) {
        int l = L.v[i].kind == L_TITLE ? 0 : (int)strlen(L.v[i].s);
        if (l > widest)
            widest = l;
    }
    int maxleft = widest > COLS ? widest - COLS : 0;
    if (m->left > maxleft)
        m->left = maxleft;

    /* Totals follow the rows, or sit at the bottom when the rows scroll. */
    int used = (int)m->nshown < h ? (int)m->nshown : h;
    int y_tot = 2 + (used ? used : 1) + 1; /* first totals line */
    size_t row = 0, tot = 0;
    for (size_t i = 0; i < L.n; i++) {
        const mon_line *l = &L.v[i];
        switch (l->kind) {
        case L_TITLE: mon_put(0, 0, l, A_BOLD); break;
        case L_HEAD: mon_put(1, m->left, l, A_REVERSE); break;
        case L_ROW:
            if ((int)row >= m->top && (int)row < m->top + h)
                mon_put(2 + (int)row - m->top, m->left, l,
                        l->hot ? A_BOLD : 0);
            row++;
            break;
        case L_TOTAL:
            mon_put(y_tot + (int)tot++, m->left, l, l->hot ? A_BOLD : 0);
            break;
        default: break;
        }
    }
    if (m->nshown == 0 && LINES > 2)
        mvaddnstr(2, 0, "(no tag with counts matches the filters)", COLS);
    if (y_tot - 1 < LINES - 1)
        mvhline(y_tot - 1, 0, '-', COLS);

    char foot[512];
    if (m->status[0])
        snprintf(foot, sizeof foot, " %s", m->status);
    else
        snprintf(foot, sizeof foot,
                 " q quit  p pool  rows %d-%d of %zu  sort: b bytes "
                 "a allocs f frees d diff m per-alloc t tag c change "
                 "(again: reverse)  arrows PgUp PgDn scroll",
                 m->nshown ? m->top + 1 : 0,
                 m->top + h < (int)m->nshown ? m->top + h : (int)m->nshown,
                 m->nshown);
    move(LINES - 1, 0);
    clrtoeol();
    mvaddnstr(LINES - 1, 0, foot, COLS);
    mvchgat(LINES - 1, 0, -1, A_REVERSE | (m->status[0] ? A_BOLD : 0), 0,
            NULL);
    refresh();
    mon_lines_free(&L);
}

enum { K_NONE, K_DRAW, K_QUIT, K_READ };

static int mon_key(mon *m, int ch)
{
    int h = mon_rows_height();
    for (int s = 0; s < S_N; s++) {
        if (ch == mon_sorts[s].key) {
            if (m->sort == s) {
                m->rev = !m->rev;
            } else {
                m->sort = s;
                m->rev = 0;
            }
            m->top = 0;
            mon_select(m);
            return K_DRAW;
        }
    }
    switch (ch) {
    case 'q': case 'Q': return K_QUIT;
    case 'p':
        m->pool = m->pool < 0 ? PT_PAGED : m->pool == PT_PAGED ? PT_NONPAGED
                                                               : -1;
        m->top = 0;
        mon_select(m);
        return K_DRAW;
    case ' ': case 'r': return K_READ;
    case KEY_UP: case 'k': m->top--; return K_DRAW;
    case KEY_DOWN: case 'j': m->top++; return K_DRAW;
    case KEY_PPAGE: m->top -= h; return K_DRAW;
    case KEY_NPAGE: m->top += h; return K_DRAW;
    case KEY_HOME: case 'g': m->top = 0; return K_DRAW;
    case KEY_END: case 'G': m->top = (int)m->nshown; return K_DRAW;
    case KEY_LEFT: m->left = m->left > 8 ? m->left - 8 : 0; return K_DRAW;
    case KEY_RIGHT: m->left += 8; return K_DRAW;
    case KEY_RESIZE: return K_DRAW;
    default: return K_NONE;
    }
}

/* The full-screen monitor.  Returns the exit status, or -1 if the terminal
 * cannot be used (the caller falls back to plain output). */
static int mon_live(mon *m)
{
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr)
        return -1;
    set_term(scr);
    const char *cup = tigetstr("cup");
    if (!cup || cup == (char *)-1) { /* e.g. TERM=dumb */
        endwin();
        delscreen(scr);
        return -1;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);

    char err[256];
    double next = mon_now() + m->interval;
    long n = 1;
    int rc = PT_EXIT_OK, gone = 0;
    mon_draw(m);
    while (!mon_stop) {
        int ms = (int)ceil((next - mon_now()) * 1000);
        int act = K_NONE;
        if (ms > 0) {
            timeout(ms);
            int ch = getch();
            if (ch == ERR)
                continue; /* time up (rechecked above) or a signal */
            act = mon_key(m, ch);
            if (act == K_QUIT)
                break;
            if (act == K_DRAW) {
                mon_draw(m);
                continue;
            }
            if (act != K_READ)
                continue;
        }
        if (m->count && n >= m->count)
            break;
        int r = mon_update(m, err, sizeof err);
        if (r == MR_GONE) {
            gone = 1;
            break;
        }
        m->status[0] = 0;
        if (r == MR_ERR)
            snprintf(m->status, sizeof m->status, "read failed: %s", err);
        else
            n++;
        next = act == K_READ ? mon_now() + m->interval : next + m->interval;
        if (next < mon_now())
            next = mon_now() + m->interval;
        mon_draw(m);
    }
    if (gone) {
        snprintf(m->status, sizeof m->status,
                 "process %" PRIu32 " exited - press any key", m->view.pid);
        mon_draw(m);
        timeout(250);
        while (!mon_stop) {
            int ch = getch();
            if (ch == KEY_RESIZE)
                mon_draw(m);
            else if (ch != ERR)
                break;
        }
    }
    endwin();
    delscreen(scr);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Command line                                                            */

static void mon_usage(FILE *f)
{
    fprintf(f,
"Usage: pooltag mon [options] SOURCE\n"
"\n"
"Per-tag pool usage of a tagged process (poolmon).  SOURCE is a PID (live,\n"
"refreshed every interval) or a snapshot file (one table).\n"
"\n"
"  --interval T         refresh interval (default 1s): seconds (2, 0.5,\n"
"                       1e3) or with a unit: 250ms, 5s, 1m, 1h; from\n"
"                       10ms to 24h\n"
"  --sort KEY           bytes (default), allocs, frees, diff, peralloc,\n"
"                       tag, change\n"
"  -p, --pool POOL      paged, nonpaged or both (default)\n"
"  -i, --include PAT    show only tags matching PAT (* and ?; repeatable)\n"
"  -x, --exclude PAT    hide tags matching PAT (repeatable)\n"
"  -g, --mapped         add a Mapped column: owner binary from pooltag.txt\n"
"  -n FILE              write one table to FILE ('-' = stdout) and exit\n"
"                       (a regular file, replaced atomically; a FIFO, device,\n"
"                       directory or the SOURCE itself is refused)\n"
"  --count N            stop after N tables (plain output and live screen)\n"
"  --json               print one reading as JSON and exit\n"
"  -h, --help           this help\n"
"\n"
"Keys: b bytes, a allocs, f frees, d diff, m per alloc, t tag, c change\n"
"(same key again: reverse order), p paged/nonpaged/both, arrows, PgUp,\n"
"PgDn, Home, End scroll, space refresh now, q quit.\n"
"When stdin or stdout is not a terminal, prints one plain table per\n"
"interval until the process exits or --count tables were printed.\n");
}

static int mon_parse_sort(const char *s)
{
    for (int i = 0; i < S_N; i++)
        if (!strcmp(s, mon_sorts[i].name))
            return i;
    if (!strcmp(s, "per-alloc"))
        return S_PERALLOC;
    return -1;
}

enum { O_INTERVAL = 256, O_SORT, O_COUNT, O_JSON };

/* Parse the command line into m.  Returns -1 after printing the error,
 * 1 after printing help, 0 to go on. */
static int mon_args(mon *m, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, O_INTERVAL},
        {"sort", required_argument, NULL, O_SORT},
        {"count", required_argument, NULL, O_COUNT},
        {"json", no_argument, NULL, O_JSON},
        {"pool", required_argument, NULL, 'p'},
        {"include", required_argument, NULL, 'i'},
        {"exclude", required_argument, NULL, 'x'},
        {"mapped", no_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    m->interval = 1.0;
    m->pool = -1;
    m->incl = calloc((size_t)argc + 1, sizeof *m->incl);
    m->excl = calloc((size_t)argc + 1, sizeof *m->excl);
    if (!m->incl || !m->excl) {
        cli_err(MON_VERB, "out of memory");
        return -1;
    }
    opterr = 0;
    optind = 0; /* glibc: full reinitialisation */
    for (;;) {
        int c = getopt_long(argc, argv, ":hp:i:x:gn:", longopts, NULL);
        if (c == -1)
            break;
        char *end;
        switch (c) {
        case 'h': mon_usage(stdout); return 1;
        case O_INTERVAL: {
            uint64_t ns;
            if (cli_parse_duration(optarg, &ns) < 0 || ns < 10000000u ||
                ns > 86400000000000u) {
                cli_err(MON_VERB,
                        "bad --interval '%s': give seconds (0.5, 1e3) or a "
                        "unit: 250ms, 5s, 1m, 1h (from 10ms to 24h)",
                        optarg);
                return -1;
            }
            m->interval = (double)ns / 1e9;
            break;
        }
        case O_SORT:
            m->sort = mon_parse_sort(optarg);
            if (m->sort < 0) {
                cli_err(MON_VERB,
                        "bad --sort '%s': use bytes, allocs, frees, diff, "
                        "peralloc, tag or change",
                        optarg);
                return -1;
            }
            break;
        case O_COUNT:
            errno = 0;
            m->count = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || m->count < 1) {
                cli_err(MON_VERB, "bad --count '%s': give a number >= 1",
                        optarg);
                return -1;
            }
            break;
        case O_JSON: m->json = 1; break;
        case 'p':
            if (!strcmp(optarg, "paged"))
                m->pool = PT_PAGED;
            else if (!strcmp(optarg, "nonpaged") || !strcmp(optarg, "nonp"))
                m->pool = PT_NONPAGED;
            else if (!strcmp(optarg, "both"))
                m->pool = -1;
            else {
                cli_err(MON_VERB,
                        "bad pool '%s': use paged, nonpaged or both", optarg);
                return -1;
            }
            break;
        case 'i':
        case 'x':
            if (!optarg[0]) {
                cli_err(MON_VERB, "empty tag pattern after -%c", c);
                return -1;
            }
            if (c == 'i')
                m->incl[m->nincl++] = optarg;
            else
                m->excl[m->nexcl++] = optarg;
            break;
        case 'g': m->mapped = 1; break;
        case 'n': m->nfile = optarg; break;
        case ':':
            cli_err(MON_VERB, "option '%s' needs a value",
                    argv[optind - 1]);
            return -1;
        default:
            if (optopt)
                cli_err(MON_VERB, "unknown option '-%c' (see pooltag mon "
                                  "--help)", optopt);
            else
                cli_err(MON_VERB, "unknown option '%s' (see pooltag mon "
                                  "--help)", argv[optind - 1]);
            return -1;
        }
    }
    if (optind >= argc) {
        cli_err(MON_VERB, "missing SOURCE: give a PID or a snapshot file "
                          "(see pooltag mon --help)");
        return -1;
    }
    if (optind + 1 < argc) {
        cli_err(MON_VERB, "unexpected argument '%s': give one SOURCE",
                argv[optind + 1]);
        return -1;
    }
    m->spec = argv[optind];
    if (m->count && (m->nfile || m->json)) {
        cli_err(MON_VERB, "--count does not apply to %s, which writes one "
                          "reading",
                m->nfile ? "-n" : "--json");
        return -1;
    }
    return 0;
}

int cmd_mon(int argc, char **argv)
{
    mon m;
    char err[512];
    int rc = PT_EXIT_USAGE;
    memset(&m, 0, sizeof m);
    mon_stop = 0;

    int a = mon_args(&m, argc, argv);
    if (a != 0) {
        rc = a > 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
        goto out;
    }
    if (ptr_open(m.spec, &m.src, err, sizeof err) < 0) {
        cli_err(MON_VERB, "%s", err);
        goto out;
    }
    int r = mon_update(&m, err, sizeof err);
    if (r != MR_OK) {
        if (r == MR_GONE)
            cli_err(MON_VERB, "process %s exited", m.spec);
        else
            cli_err(MON_VERB, "%s", err);
        goto out;
    }

    if (m.json || m.nfile) {
        FILE *f = stdout;
        int to_file = m.nfile && strcmp(m.nfile, "-") != 0;
        cli_out o;
        const char *inputs[] = {m.spec, NULL};
        if (to_file) {
            if (cli_out_open(&o, m.nfile, inputs, 0666, err, sizeof err) < 0) {
                cli_err(MON_VERB, "%s", err);
                goto out;
            }
            f = o.f;
        }
        int bad = 0;
        if (m.json)
            mon_json(&m, f);
        else
            bad = mon_print(&m, f) < 0;
        if (to_file) {
            if (bad) {
                cli_out_discard(&o);
                cli_err(MON_VERB, "cannot write %s", m.nfile);
                goto out;
            }
            if (cli_out_commit(&o, err, sizeof err) < 0) {
                cli_err(MON_VERB, "%s", err);
                goto out;
            }
        } else if ((bad |= ferror(f)) || fflush(f) != 0) {
            cli_err(MON_VERB, "cannot write standard output: %s",
                    strerror(errno));
            goto out;
        }
        rc = PT_EXIT_OK;
        goto out;
    }

    if (m.view.kind == PTR_LIVE && isatty(STDIN_FILENO) &&
        isatty(STDOUT_FILENO)) {
        struct sigaction sa, old[3];
        static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = mon_on_signal; /* no SA_RESTART: wake getch */
        sigemptyset(&sa.sa_mask);
        for (int i = 0; i < 3; i++)
            sigaction(sigs[i], &sa, &old[i]);
        rc = mon_live(&m);
        for (int i = 0; i < 3; i++)
            sigaction(sigs[i], &old[i], NULL);
        if (rc >= 0)
            goto out;
        const char *term = getenv("TERM");
        fprintf(stderr, "pooltag mon: terminal '%s' cannot show the full "
                        "screen; printing plain tables\n",
                term ? term : "");
    }
    rc = mon_plain(&m);

out:
    if (m.src)
        ptr_close(m.src);
    if (m.have_view)
        ptr_view_free(&m.view);
    free(m.cur);
    free(m.prev);
    free(m.shown);
    free(m.incl);
    free(m.excl);
    return rc;
}
