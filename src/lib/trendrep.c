/*
 * trendrep.c — the report of `pooltag trend LOG.db` (the verb is
 * src/cli/trend.c): leak or load?  A verdict per series of
 * a counter log, after perfmon's Pool Paged/Nonpaged Bytes charts and the
 * "is it a leak or load?" step of the pool-leak method.
 *
 * Data model: a series is one process × tag × pool (bytes in use over
 * time, with the tag's cumulative allocations), or one process's pool
 * total (sample.paged_bytes / nonpaged_bytes, with the sum of the tags'
 * allocations).  logread.c reads the log with bounded memory (one process's
 * thinned samples and one series at a time); verdict.c judges each series;
 * the rows (verdict and evidence, no points) are kept, sorted — processes
 * with the fastest leak first, and in each process leaks by rate, then
 * load, warm-up, steady, unknown — and printed as a table, as JSON, and
 * as an HTML report (trend_html.c, which reads the charted series again).
 *
 * Exit status: 0, or 1 with --fail-on-leak when a selected series is a
 * leak; 2 for bad options and for a log that cannot be read (one line).
 */
#include "trend.h"
#include "emit.h"
#include "util.h"
#include "ptglob.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers shared with trend_html.c ---------------------------------- */

const char *tr_pool_name(int pool)
{
    return pool == 1 ? "NonPaged" : "Paged";
}

void tr_describe(const tr_report *rep, uint32_t tag, char *buf, size_t size)
{
    const ptdb_entry *e = ptdb_lookup(tag);
    const char *bin = e ? e->binary : ldb_tag_binary(rep->db, tag);
    const char *desc = e ? e->description : ldb_tag_description(rep->db, tag);
    if (bin && *bin && desc && *desc)
        snprintf(buf, size, "%s - %s", bin, desc);
    else if (desc && *desc)
        snprintf(buf, size, "%s", desc);
    else if (bin && *bin)
        snprintf(buf, size, "%s", bin);
    else
        snprintf(buf, size, "%s", "");
}

const char *tr_row_label(const tr_report *rep, const tr_row *row,
                         char buf[PT_TAG_TEXT_MAX])
{
    if (row->total) {
        snprintf(buf, PT_TAG_TEXT_MAX, "(total)");
        return buf;
    }
    return ldb_tag_text(rep->db, row->tag, buf);
}

/* ---- collection -------------------------------------------------------- */

typedef struct walk {
    tr_report *rep;
    size_t proc;
    const ldb_samples *s;
    char *err;
    size_t errsize;
} walk;

static int add_row(tr_report *rep, const tr_row *row, char *err, size_t size)
{
    if (rep->nrows == rep->cap) {
        if (rep->cap >= TR_MAX_ROWS) {
            snprintf(err, size, "more than %d series; narrow it with --tag or "
                     "--pid", TR_MAX_ROWS);
            return -1;
        }
        size_t cap = rep->cap ? rep->cap * 2 : 64;
        if (cap > TR_MAX_ROWS)
            cap = TR_MAX_ROWS;
        tr_row *r = realloc(rep->rows, cap * sizeof *r);
        if (!r) {
            snprintf(err, size, "out of memory");
            return -1;
        }
        rep->rows = r;
        rep->cap = cap;
    }
    rep->rows[rep->nrows++] = *row;
    rep->counts[row->r.verdict]++;
    return 0;
}

static int tag_selected(const tr_report *rep, uint32_t tag)
{
    if (!rep->tagpat)
        return 1;
    char *incl[2] = {(char *)rep->tagpat, NULL};
    char text[PT_TAG_TEXT_MAX];
    /* The pattern matches the tag's text as the log names it, too. */
    return cli_tag_selected(tag, incl, NULL) ||
           pt_glob(rep->tagpat, ldb_tag_text(rep->db, tag, text));
}

static int on_series(void *arg, const ldb_series *se)
{
    walk *w = arg;
    if (!tag_selected(w->rep, se->tag))
        return 0;
    const ldb_samples *s = w->s;
    vd_input in = {.t = se->t, .y = se->bytes, .allocs = se->allocs, .n = se->n,
                   .ymin = se->bytes_min, .ymax = se->bytes_max,
                   .pool_max = s->pool_max[se->pool],
                   .pool_now = s->bytes[se->pool][s->n - 1]};
    tr_row row = {.proc = w->proc, .tag = se->tag, .pool = se->pool,
                  .extremes = se->bytes_min != NULL};
    vd_judge(&in, &row.r);
    return add_row(w->rep, &row, w->err, w->errsize) ? -2 : 0;
}

static const size_t *g_pos; /* qsort context: report position of a process */

static int row_cmp(const void *pa, const void *pb)
{
    const tr_row *a = pa, *b = pb;
    if (a->proc != b->proc)
        return g_pos[a->proc] < g_pos[b->proc] ? -1 : 1;
    int ra = vd_rank(a->r.verdict), rb = vd_rank(b->r.verdict);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->r.verdict == VD_LEAK && a->r.rate != b->r.rate)
        return a->r.rate > b->r.rate ? -1 : 1;
    if (a->r.max != b->r.max)
        return a->r.max > b->r.max ? -1 : 1;
    if (a->total != b->total)
        return a->total ? -1 : 1;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return a->pool - b->pool;
}

static int proc_cmp(const void *pa, const void *pb)
{
    const tr_proc *a = pa, *b = pb;
    if (a->worst_leak != b->worst_leak)
        return a->worst_leak > b->worst_leak ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/*
 * A pool total is the sum of its tags: when a tag of the pool leaks, the
 * pool leaks, however its total looks (a leak behind a warm-up or a load of
 * other tags is hard to see in the sum; that is what tags are for).  The
 * total's rate is then the sum of its leaking tags' rates.
 */
static void pool_from_tags(const tr_report *rep, size_t first_row,
                           const vd_input *in, tr_row *total)
{
    double rate = 0;
    int leaking = 0;
    for (size_t r = first_row; r < rep->nrows; r++) {
        const tr_row *t = &rep->rows[r];
        if (!t->total && t->pool == total->pool && t->r.verdict == VD_LEAK) {
            rate += t->r.rate;
            leaking++;
        }
    }
    if (!leaking || total->r.verdict == VD_LEAK)
        return;
    total->r.verdict = VD_LEAK;
    total->r.why = leaking == 1 ? "a tag leaks" : "tags leak";
    total->r.fit = "tags";
    total->r.rate = rate;
    total->r.r2 = NAN; /* no line of the total's own stands behind the rate */
    if (in->pool_max > 0)
        total->r.hours_to_max =
            rate > 0 ? fmax(in->pool_max - in->pool_now, 0) / rate : INFINITY;
}

int tr_collect(tr_report *rep, ldb_log *db, const char *path, const char *tagpat,
               long long pid, char *err, size_t errsize)
{
    memset(rep, 0, sizeof *rep);
    rep->db = db;
    rep->path = path;
    rep->tagpat = tagpat;
    size_t np = ldb_nprocs(db);
    rep->procs = calloc(np ? np : 1, sizeof *rep->procs);
    if (!rep->procs) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < np; i++) {
        const ldb_proc *p = ldb_proc_at(db, i);
        if (pid >= 0 && p->pid != pid)
            continue;
        ldb_samples s;
        if (ldb_load_samples(db, i, &s, err, errsize))
            return -1;
        if (s.n == 0) {
            ldb_samples_free(&s);
            continue;
        }
        tr_proc *tp = &rep->procs[rep->nprocs++];
        tp->index = i;
        tp->samples = s.total;
        tp->first_ns = s.base_ns;
        /* Samples are in time order (logread), so the span is >= 0; a
         * span that rounds past the end of int64 is cut there. */
        if (__builtin_add_overflow(s.base_ns, (int64_t)llround(s.t[s.n - 1] * 1e9),
                                   &tp->last_ns))
            tp->last_ns = INT64_MAX;
        tp->worst_leak = -1;
        size_t first_row = rep->nrows;
        walk w = {.rep = rep, .proc = i, .s = &s, .err = err, .errsize = errsize};
        int rc = ldb_each_series(db, &s, 0, 0, 0, on_series, &w, err, errsize);
        if (rc == 0 && !tagpat) {
            for (int q = 0; q < PT_POOL_COUNT && rc == 0; q++) {
                vd_input in = {.t = s.t, .y = s.bytes[q], .allocs = s.allocs[q],
                               .ymin = s.bytes_min[q], .ymax = s.bytes_max[q],
                               .n = s.n, .pool_max = s.pool_max[q],
                               .pool_now = s.bytes[q][s.n - 1]};
                tr_row row = {.proc = i, .pool = q, .total = 1,
                              .extremes = s.bytes_min[q] != NULL};
                vd_judge(&in, &row.r);
                pool_from_tags(rep, first_row, &in, &row);
                rc = add_row(rep, &row, err, errsize);
            }
        }
        ldb_samples_free(&s);
        if (rc)
            return -1;
        for (size_t r = first_row; r < rep->nrows; r++)
            if (rep->rows[r].r.verdict == VD_LEAK &&
                rep->rows[r].r.rate > tp->worst_leak)
                tp->worst_leak = rep->rows[r].r.rate;
    }
    if (rep->nprocs == 0) {
        if (pid >= 0)
            snprintf(err, errsize, "no process with PID %lld in the log", pid);
        else
            snprintf(err, errsize, "the log holds no samples");
        return -1;
    }
    if (rep->nrows == 0) {
        snprintf(err, errsize, "no tag matches '%s' in the log", tagpat ? tagpat : "");
        return -1;
    }
    qsort(rep->procs, rep->nprocs, sizeof *rep->procs, proc_cmp);
    size_t *pos = calloc(np, sizeof *pos);
    if (!pos) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < rep->nprocs; i++)
        pos[rep->procs[i].index] = i;
    g_pos = pos;
    qsort(rep->rows, rep->nrows, sizeof *rep->rows, row_cmp);
    free(pos);
    return 0;
}

void tr_free(tr_report *rep)
{
    free(rep->rows);
    free(rep->procs);
    memset(rep, 0, sizeof *rep);
}

/* ---- the table --------------------------------------------------------- */

const char *tr_proc_state(const ldb_proc *p)
{
    if (!p->ended)
        return p->unclean == 1 ? "log ended without a clean stop (logger gone)"
               : p->unclean < 0 ? "no end recorded (logger elsewhere or killed)"
                                : "still logged";
    return *p->end_reason ? p->end_reason : "ended";
}

/* ---- the report: one description for the table and the JSON ---------- */

/* The columns of a series row.  Label, pool and evidence are the table's
 * own text (written as is: the label is a tag's text form or "(total)",
 * the evidence is escaped where it comes from the log); the JSON has its
 * own members for them (tag, pool, why, description). */
enum { C_VERDICT, C_LABEL, C_POOL, C_BYTES, C_RATE, C_NODECR, C_FIT, C_TOMAX, C_CORR, C_EVID,
       C_COUNT };
static const emit_col series_cols[C_COUNT] = {
    [C_VERDICT] = {"verdict", 8, EMIT_LEFT, " "},
    [C_LABEL] = {NULL, 8, EMIT_LEFT, " "},
    [C_POOL] = {NULL, 8, EMIT_LEFT, " "},
    [C_BYTES] = {"bytes_last", 10, 0, " "},
    [C_RATE] = {"rate_bytes_per_hour", 13, 0, " "},
    [C_NODECR] = {"never_decreased", 6, 0, " "},
    [C_FIT] = {"fit_r2", 6, 0, " "},
    [C_TOMAX] = {"hours_to_max", 11, 0, " "},
    [C_CORR] = {"alloc_correlation", 5, 0, " "},
    [C_EVID] = {NULL, 0, EMIT_LEFT, "  "},
};

/* A table-only cell whose text is the verb's own (not escaped again). */
static void text_cell(emitter *e, int col, const char *text)
{
    emit_col_u64_as(e, col, 0, text);
}

static void emit_str_or_null(emitter *e, const char *key, const char *s)
{
    emit_kv_str(e, key, s && *s ? s : NULL);
}

static void emit_proc_head(emitter *e, const tr_report *rep, const tr_proc *tp)
{
    const ldb_proc *p = ldb_proc_at(rep->db, tp->index);
    char a[32], b[32];
    fmt_time(tp->first_ns, a, sizeof a);
    fmt_time(tp->last_ns, b, sizeof b);
    double span = (double)(tp->last_ns - tp->first_ns) / 1e9;
    emit_text(e, "\nProcess %lld (%s) %s to %s (%.0f s, %" PRId64 " samples, %s)\n",
              (long long)p->pid, cli_esc(p->comm), a, b, span,
              tp->samples, cli_esc(tr_proc_state(p)));
    emit_text(e, " %-8s %-8s %-8s %10s %13s %6s %6s %11s %5s  %s\n", "Verdict",
              "Tag", "Pool", "Bytes", "Rate", "NoDecr", "Fit", "To max", "Corr",
              "Evidence / description");
    emit_kv_i64(e, "pid", (int64_t)p->pid);
    emit_str_or_null(e, "comm", p->comm);
    emit_str_or_null(e, "exe", p->exe);
    emit_kv_i64(e, "start_ns", (int64_t)p->start_ns);
    emit_kv_i64(e, "first_ns", tp->first_ns);
    emit_kv_i64(e, "last_ns", tp->last_ns);
    emit_kv_i64(e, "samples", tp->samples);
    emit_kv_bool(e, "ended", p->ended);
    if (p->ended)
        emit_kv_str(e, "end_reason", p->end_reason);
    else
        emit_kv_null(e, "end_reason");
    /* Still being logged: true, false (the logger is gone without
     * recording an end), null (cannot tell). */
    if (!p->ended && p->unclean < 0)
        emit_kv_null(e, "logging");
    else
        emit_kv_bool(e, "logging", !p->ended && p->unclean != 1);
}

static void emit_series(emitter *e, const tr_report *rep, const tr_row *row)
{
    const vd_result *r = &row->r;
    char tag[PT_TAG_TEXT_MAX], bytes[32], rate[40], nodecr[32], tomax[32], corr[16],
        fit[16], desc[512], evid[CLI_ESC_MAX + 128];
    fmt_bytes(r->last, bytes, sizeof bytes);
    fmt_rate(r->rate, rate, sizeof rate);
    fmt_hours(r->hours_to_max, tomax, sizeof tomax);
    snprintf(nodecr, sizeof nodecr, "%5.0f%%", 100 * r->nondecr);
    if (r->verdict == VD_LOAD && !isnan(r->corr))
        snprintf(corr, sizeof corr, "%.2f", r->corr);
    else
        snprintf(corr, sizeof corr, "-");
    if (isnan(r->r2))
        snprintf(fit, sizeof fit, "-");
    else
        snprintf(fit, sizeof fit, "%.3f", r->r2);
    if (row->total)
        snprintf(desc, sizeof desc, "%s", emit_json(e) ? "" : "pool total");
    else
        tr_describe(rep, row->tag, desc, sizeof desc);
    snprintf(evid, sizeof evid, "%s%s%s%s", r->why,
             r->verdict == VD_LEAK && !strcmp(r->fit, "troughs") ? " (rate of the troughs)" : "",
             *desc ? "; " : "", cli_esc(desc));

    emit_row_begin(e);
    emit_col_str(e, C_VERDICT, vd_name(r->verdict));
    text_cell(e, C_LABEL, tr_row_label(rep, row, tag));
    text_cell(e, C_POOL, tr_pool_name(row->pool));
    emit_col_dbl_as(e, C_BYTES, r->last, 0, bytes);
    emit_col_dbl_as(e, C_RATE, r->rate, 1, rate);
    emit_col_dbl_as(e, C_NODECR, r->nondecr, 4, nodecr);
    emit_col_dbl_as(e, C_FIT, r->r2, 4, fit);
    emit_col_dbl_as(e, C_TOMAX, r->hours_to_max, 3, tomax);
    emit_col_dbl_as(e, C_CORR, r->corr, 4, corr);
    text_cell(e, C_EVID, evid);
    if (row->total) {
        emit_kv_null(e, "tag");
        emit_kv_null(e, "tag_value");
    } else {
        emit_kv_tag(e, "tag", row->tag);
        emit_kv_u64(e, "tag_value", row->tag);
    }
    emit_kv_bool(e, "total", row->total);
    emit_kv_str(e, "pool", row->pool ? "nonpaged" : "paged");
    emit_kv_str(e, "why", r->why);
    emit_kv_str(e, "description", desc);
    emit_kv_u64(e, "samples", r->n);
    emit_kv_dbl(e, "span_s", r->span_s, 3);
    emit_kv_dbl(e, "bytes_first", r->first, 0);
    emit_kv_dbl(e, "bytes_min", r->min, 0);
    emit_kv_dbl(e, "bytes_max", r->max, 0);
    emit_kv_str(e, "rate_fit", r->fit);
    emit_kv_bool(e, "pool_has_max", !isnan(r->hours_to_max));
    emit_kv_i64(e, "troughs", r->troughs);
    /* The verdict saw each interval's lowest and highest bytes (a log of
     * format version 2), not only the samples' instants. */
    emit_kv_bool(e, "interval_extremes", row->extremes);
    emit_row_end(e);
}

static void emit_report(FILE *f, const tr_report *rep, emit_mode mode)
{
    emitter em, *e = &em;
    int64_t iv = ldb_interval_ms(rep->db);
    const char *host = ldb_host(rep->db);
    emit_init(e, f, mode);
    emit_begin(e);
    emit_text(e, "Counter log %s: %zu process%s, %" PRId64 " samples", rep->path,
              ldb_nprocs(rep->db), ldb_nprocs(rep->db) == 1 ? "" : "es",
              ldb_nsamples(rep->db));
    if (iv > 0)
        emit_text(e, ", interval %" PRId64 " ms", iv);
    if (*host)
        emit_text(e, ", host %s", cli_esc(host));
    emit_text(e, "\n");
    emit_obj_begin(e, "log");
    emit_kv_str(e, "path", rep->path);
    if (iv > 0)
        emit_kv_i64(e, "interval_ms", iv);
    else
        emit_kv_null(e, "interval_ms");
    if (ldb_created_ns(rep->db) > 0)
        emit_kv_i64(e, "created_ns", ldb_created_ns(rep->db));
    else
        emit_kv_null(e, "created_ns");
    emit_str_or_null(e, "host", host);
    emit_kv_u64(e, "processes", ldb_nprocs(rep->db));
    emit_kv_i64(e, "samples", ldb_nsamples(rep->db));
    emit_obj_end(e);
    emit_kv_str(e, "tag_filter", rep->tagpat);

    emit_table_begin(e, series_cols, C_COUNT);
    emit_arr_begin(e, "processes");
    size_t r = 0;
    for (size_t i = 0; i < rep->nprocs; i++) {
        emit_obj_begin(e, NULL);
        emit_proc_head(e, rep, &rep->procs[i]);
        emit_arr_begin(e, "series");
        for (; r < rep->nrows && rep->rows[r].proc == rep->procs[i].index; r++)
            emit_series(e, rep, &rep->rows[r]);
        emit_arr_end(e);
        emit_obj_end(e);
    }
    emit_arr_end(e);

    emit_text(e, "\n%zu series: %d leak, %d load, %d warm-up, %d steady, %d unknown\n",
              rep->nrows, rep->counts[VD_LEAK], rep->counts[VD_LOAD],
              rep->counts[VD_WARMUP], rep->counts[VD_STEADY],
              rep->counts[VD_UNKNOWN]);
    emit_text(e, "%s",
              "Rate: growth in bytes/hour (leaks under load: of the troughs). "
              "NoDecr: share of the time\nbytes did not fall. Fit: R^2 of the "
              "line. To max: time to the pool maximum at this rate.\nCorr: "
              "correlation of bytes with allocations per second (load).\n");
    emit_obj_begin(e, "summary");
    emit_kv_u64(e, "series", rep->nrows);
    emit_kv_i64(e, "leak", rep->counts[VD_LEAK]);
    emit_kv_i64(e, "load", rep->counts[VD_LOAD]);
    emit_kv_i64(e, "warm-up", rep->counts[VD_WARMUP]);
    emit_kv_i64(e, "steady", rep->counts[VD_STEADY]);
    emit_kv_i64(e, "unknown", rep->counts[VD_UNKNOWN]);
    emit_obj_end(e);
    emit_end(e);
}

void tr_print_table(FILE *f, const tr_report *rep)
{
    emit_report(f, rep, EMIT_TABLE);
}

void tr_print_json(FILE *f, const tr_report *rep)
{
    emit_report(f, rep, EMIT_JSON);
}

