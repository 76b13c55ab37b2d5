/*
 * trend_html.c — the HTML report of `pooltag trend --html FILE`.
 *
 * One self-contained file: inline CSS and inline SVG drawn here, no script,
 * no external URL (a Content-Security-Policy of default-src 'none' makes
 * the browser refuse any that crept in).  Sections: the log, a chart of
 * the pool totals of each process (after perfmon's Pool Paged Bytes / Pool
 * Nonpaged Bytes), one chart per top tag (leaks by rate, then the largest),
 * and the verdict table with the evidence.  A series whose log carries
 * each interval's lowest and highest bytes (format version 2) is drawn
 * over a band between them: what the samples' instants miss (a load
 * whose troughs fall between samples) shows as the band reaching down.
 * Every string that comes from
 * the log (tag text, comm, exe, host, descriptions) goes through esc().
 */
#include "trend.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 880        /* chart size in SVG units */
#define H 240
#define ML 78        /* margins: left (y labels), right, top, bottom */
#define MR 16
#define MT 14
#define MB 34
#define TABLE_MAX 2000

static const char *const vcolor[VD_COUNT] = {
    [VD_LEAK] = "#c62828",   [VD_LOAD] = "#1565c0", [VD_WARMUP] = "#ef6c00",
    [VD_STEADY] = "#2e7d32", [VD_UNKNOWN] = "#757575",
};

/* HTML text and attribute escaping; control characters become spaces. */
static void esc(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f); break;
        }
    }
}

typedef struct line_data {
    const char *label;
    const char *color;
    const double *t, *y;
    size_t n;
    int dashed;
    const double *lo, *hi;   /* the interval extremes (a band), or NULL */
} line_data;

/* A round step near range/ticks: 1, 2, 5 × 10^k (bytes: 2^k looks odd). */
static double nice_step(double range, int ticks)
{
    double raw = range / ticks, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* One SVG line chart.  cap > 0: a dashed line for the pool maximum when it
 * is on the scale of the data. */
static void chart(FILE *f, const char *title_html_id, const line_data *lines,
                  size_t nlines, double cap)
{
    double tmax = 0, ymax = 0;
    for (size_t k = 0; k < nlines; k++)
        for (size_t i = 0; i < lines[k].n; i++) {
            if (lines[k].t[i] > tmax)
                tmax = lines[k].t[i];
            if (lines[k].y[i] > ymax)
                ymax = lines[k].y[i];
            if (lines[k].hi && lines[k].hi[i] > ymax)
                ymax = lines[k].hi[i];
        }
    int show_cap = cap > 0 && cap <= 2 * ymax;
    if (show_cap && cap > ymax)
        ymax = cap;
    if (ymax <= 0)
        ymax = 1;
    if (tmax <= 0)
        tmax = 1;
    /* Steps that are round in the unit the labels use (KiB, MiB, ...). */
    double unit = 1;
    while (ymax / unit >= 1024 && unit < 1e18)
        unit *= 1024;
    /* At least one byte a step: all-zero data gets 0 B, 1 B, 2 B, not
     * fractions of a byte that print alike. */
    double ystep = fmax(1, nice_step(ymax / unit, 4) * unit);
    double ytop = ceil(ymax * 1.02 / ystep) * ystep;
    double pw = W - ML - MR, ph = H - MT - MB;

    fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
               "aria-labelledby=\"%s\">\n", W, H, title_html_id);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" "
               "class=\"plot\"/>\n", ML, MT, pw, ph);
    for (double v = 0; v <= ytop + ystep / 2; v += ystep) {
        double py = MT + ph - v / ytop * ph;
        char b[32];
        fmt_bytes(v, b, sizeof b);
        fprintf(f, "<line x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" "
                   "class=\"grid\"/><text x=\"%d\" y=\"%.1f\" class=\"ylab\">%s"
                   "</text>\n", ML, ML + pw, py, py, ML - 6, py + 4, b);
    }
    double tstep = nice_step(tmax, 6);
    if (tmax > 300) /* minutes or hours: steps of whole minutes */
        tstep = fmax(60, round(tstep / 60) * 60);
    for (double v = 0; v <= tmax + 1e-9; v += tstep) {
        double px = ML + v / tmax * pw;
        char b[32];
        fmt_secs(v, b, sizeof b);
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.0f\" "
                   "class=\"grid\"/><text x=\"%.1f\" y=\"%d\" class=\"xlab\">%s"
                   "</text>\n", px, px, MT, MT + ph, px, H - MB + 16, b);
    }
    if (show_cap) {
        double py = MT + ph - cap / ytop * ph;
        fprintf(f, "<line x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" "
                   "class=\"cap\"/><text x=\"%.0f\" y=\"%.1f\" class=\"caplab\">"
                   "pool maximum</text>\n", ML, ML + pw, py, py, ML + pw - 4, py - 4);
    }
    /* The bands first, under every line.  Point i's extremes are those of
     * the interval (t[i-1], t[i]], so the band is a step over it: lows
     * left to right, then highs back, two corners per interval. */
    for (size_t k = 0; k < nlines; k++) {
        const line_data *l = &lines[k];
        if (l->n == 0 || !l->lo || !l->hi)
            continue;
        fprintf(f, "<polygon class=\"band\" fill=\"%s\" points=\"", l->color);
        for (size_t j = 0; j < 4 * l->n; j++) {
            int high = j >= 2 * l->n;
            size_t c = high ? 4 * l->n - 1 - j : j;  /* corner, left to right */
            size_t i = c / 2;
            double x = c % 2 || i == 0 ? l->t[i] : l->t[i - 1];
            double v = high ? l->hi[i] : l->lo[i];
            fprintf(f, "%s%.1f,%.1f", j ? " " : "", ML + x / tmax * pw,
                    MT + ph - fmax(v, 0) / ytop * ph);
        }
        fputs("\"/>\n", f);
    }
    for (size_t k = 0; k < nlines; k++) {
        const line_data *l = &lines[k];
        if (l->n == 0)
            continue;
        fprintf(f, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s points=\"", l->color,
                l->dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t i = 0; i < l->n; i++) {
            double px = ML + l->t[i] / tmax * pw;
            double py = MT + ph - fmax(l->y[i], 0) / ytop * ph;
            fprintf(f, "%s%.1f,%.1f", i ? " " : "", px, py);
        }
        if (l->n == 1) /* one point still draws a dot */
            fprintf(f, " %.1f,%.1f", ML + l->t[0] / tmax * pw + 1,
                    MT + ph - fmax(l->y[0], 0) / ytop * ph);
        fputs("\"/>\n", f);
    }
    /* Legend */
    double lx = ML + 8;
    for (size_t k = 0; k < nlines; k++) {
        fprintf(f, "<rect x=\"%.0f\" y=\"%d\" width=\"12\" height=\"12\" "
                   "fill=\"%s\"/><text x=\"%.0f\" y=\"%d\" class=\"leg\">",
                lx, MT + 6, lines[k].color, lx + 16, MT + 16);
        esc(f, lines[k].label);
        fputs("</text>\n", f);
        lx += 30 + 7.5 * (double)strlen(lines[k].label);
    }
    fputs("</svg>\n", f);
}

/* ---- points of one tag series ----------------------------------------- */

typedef struct grab {
    double *t, *y, *lo, *hi;   /* lo, hi: NULL without extremes */
    size_t n;
} grab;

static void grab_free(grab *g)
{
    free(g->t);
    free(g->y);
    free(g->lo);
    free(g->hi);
    memset(g, 0, sizeof *g);
}

/* A copy of src[0..n), or NULL (when src is NULL, or out of memory: *bad). */
static double *copy_of(const double *src, size_t n, int *bad)
{
    if (!src)
        return NULL;
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        *bad = 1;
    else
        memcpy(p, src, n * sizeof *p);
    return p;
}

static int grab_series(void *arg, const ldb_series *se)
{
    grab *g = arg;
    int bad = 0;
    grab_free(g);
    g->t = copy_of(se->t, se->n, &bad);
    g->y = copy_of(se->bytes, se->n, &bad);
    g->lo = copy_of(se->bytes_min, se->n, &bad);
    g->hi = copy_of(se->bytes_max, se->n, &bad);
    g->n = se->n;
    return bad || !g->t || !g->y ? -1 : 0;
}

/* ---- pieces of the page ------------------------------------------------ */

static void evidence_cells(FILE *f, const tr_report *rep, const tr_row *row)
{
    const vd_result *r = &row->r;
    char b[64], tag[PT_TAG_TEXT_MAX], desc[512];
    fprintf(f, "<td><span class=\"v\" style=\"background:%s\">%s</span></td><td>",
            vcolor[r->verdict], vd_name(r->verdict));
    esc(f, tr_row_label(rep, row, tag));
    fprintf(f, "</td><td>%s</td>", tr_pool_name(row->pool));
    fmt_bytes(r->last, b, sizeof b);
    fprintf(f, "<td class=\"n\">%s</td>", b);
    fmt_rate(r->rate, b, sizeof b);
    fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%.0f%%</td>", b,
            100 * r->nondecr);
    if (isnan(r->r2))
        fputs("<td class=\"n\">-</td>", f);
    else
        fprintf(f, "<td class=\"n\">%.3f</td>", r->r2);
    fmt_hours(r->hours_to_max, b, sizeof b);
    fprintf(f, "<td class=\"n\">%s</td>", b);
    if (isnan(r->corr))
        fputs("<td class=\"n\">-</td>", f);
    else
        fprintf(f, "<td class=\"n\">%.2f</td>", r->corr);
    fputs("<td>", f);
    esc(f, r->why);
    if (r->verdict == VD_LEAK && strcmp(r->fit, "troughs") == 0)
        fputs(" (rate and fit of the troughs)", f);
    fputs("</td><td>", f);
    if (row->total)
        fputs("pool total", f);
    else {
        tr_describe(rep, row->tag, desc, sizeof desc);
        esc(f, desc);
    }
    fputs("</td>", f);
}

static const char CSS[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}"
    "h3{font-size:15px;margin:18px 0 4px}"
    ".meta{color:#555}.chart{width:100%;max-width:880px;height:auto;"
    "display:block;border:1px solid #ddd;background:#fff}"
    ".plot{fill:#fafafa;stroke:#bbb}.grid{stroke:#e3e3e3;stroke-width:1}"
    ".ylab{font-size:11px;text-anchor:end;fill:#555}"
    ".xlab{font-size:11px;text-anchor:middle;fill:#555}"
    ".band{fill-opacity:.18;stroke:none}"
    ".leg{font-size:12px;fill:#222}.cap{stroke:#c62828;stroke-dasharray:3 3}"
    ".caplab{font-size:11px;fill:#c62828;text-anchor:end}"
    "table{border-collapse:collapse;margin-top:8px}"
    "th,td{border-bottom:1px solid #e5e5e5;padding:3px 8px;text-align:left;"
    "vertical-align:top}th{background:#f3f3f3}.n{text-align:right;"
    "white-space:nowrap}"
    ".v{color:#fff;border-radius:3px;padding:1px 6px;font-weight:600}"
    ".sum span{margin-right:14px}.note{color:#555;font-size:13px}";

static void page_head(FILE *f, const tr_report *rep)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n<title>"
          "pooltag trend: ", f);
    esc(f, rep->path);
    fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n", CSS);
    fputs("<h1>Leak or load? <small>pooltag trend</small></h1>\n<p class=\"meta\">"
          "Counter log <b>", f);
    esc(f, rep->path);
    fprintf(f, "</b>: %zu process%s, %" PRId64 " samples", ldb_nprocs(rep->db),
            ldb_nprocs(rep->db) == 1 ? "" : "es", ldb_nsamples(rep->db));
    if (ldb_interval_ms(rep->db) > 0)
        fprintf(f, ", interval %" PRId64 " ms", ldb_interval_ms(rep->db));
    if (*ldb_host(rep->db)) {
        fputs(", host ", f);
        esc(f, ldb_host(rep->db));
    }
    if (rep->tagpat) {
        fputs(", tags matching <code>", f);
        esc(f, rep->tagpat);
        fputs("</code>", f);
    }
    fputs("</p>\n<p class=\"sum\">", f);
    for (int v = 0; v < VD_COUNT; v++)
        fprintf(f, "<span><span class=\"v\" style=\"background:%s\">%s</span> %d"
                   "</span>", vcolor[v], vd_name((vd_verdict)v), rep->counts[v]);
    fputs("</p>\n", f);
}

static int totals_section(FILE *f, const tr_report *rep, char *err, size_t size)
{
    fputs("<h2>Pool totals</h2>\n<p class=\"note\">Bytes in use per pool, "
          "like perfmon's Pool Paged Bytes and Pool Nonpaged Bytes. The line "
          "joins the samples; the shaded band behind it spans the lowest to "
          "the highest bytes of each interval between samples (logs of "
          "format 2).</p>\n", f);
    for (size_t i = 0; i < rep->nprocs && i < TR_PROC_CHARTS; i++) {
        const tr_proc *tp = &rep->procs[i];
        const ldb_proc *p = ldb_proc_at(rep->db, tp->index);
        ldb_samples s;
        if (ldb_load_samples(rep->db, tp->index, &s, err, size))
            return -1;
        char a[32], b[32], id[32];
        fmt_time(tp->first_ns, a, sizeof a);
        fmt_time(tp->last_ns, b, sizeof b);
        snprintf(id, sizeof id, "tot%zu", i);
        fprintf(f, "<h3 id=\"%s\">Process %lld (", id, (long long)p->pid);
        esc(f, p->comm);
        fprintf(f, ") <span class=\"meta\">%s to %s, %" PRId64 " samples, ", a, b,
                tp->samples);
        esc(f, tr_proc_state(p));
        fputs("</span></h3>\n", f);
        /* Verdicts of the totals in the legend. */
        char lab[2][96];
        for (int q = 0; q < PT_POOL_COUNT; q++) {
            const char *v = "?";
            for (size_t r = 0; r < rep->nrows; r++)
                if (rep->rows[r].proc == tp->index && rep->rows[r].total &&
                    rep->rows[r].pool == q)
                    v = vd_name(rep->rows[r].r.verdict);
            snprintf(lab[q], sizeof lab[q], "%s Pool Bytes (%s)",
                     tr_pool_name(q), v);
        }
        line_data lines[2] = {
            {lab[0], "#1e88e5", s.t, s.bytes[0], s.n, 0, s.bytes_min[0], s.bytes_max[0]},
            {lab[1], "#8e24aa", s.t, s.bytes[1], s.n, 1, s.bytes_min[1], s.bytes_max[1]},
        };
        double cap = fmax(s.pool_max[0], s.pool_max[1]);
        chart(f, id, lines, 2, cap);
        ldb_samples_free(&s);
    }
    if (rep->nprocs > TR_PROC_CHARTS)
        fprintf(f, "<p class=\"note\">%zu more processes are in the table below "
                   "(charts for the first %d).</p>\n", rep->nprocs - TR_PROC_CHARTS,
                TR_PROC_CHARTS);
    return 0;
}

static const tr_report *g_rep;
static int top_cmp(const void *pa, const void *pb)
{
    const tr_row *a = &g_rep->rows[*(const size_t *)pa],
                 *b = &g_rep->rows[*(const size_t *)pb];
    int la = a->r.verdict == VD_LEAK, lb = b->r.verdict == VD_LEAK;
    if (la != lb)
        return la ? -1 : 1;
    if (la && a->r.rate != b->r.rate)
        return a->r.rate > b->r.rate ? -1 : 1;
    if (a->r.max != b->r.max)
        return a->r.max > b->r.max ? -1 : 1;
    return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

static int tags_section(FILE *f, const tr_report *rep, char *err, size_t size)
{
    size_t *idx = malloc((rep->nrows ? rep->nrows : 1) * sizeof *idx), n = 0;
    if (!idx) {
        snprintf(err, size, "out of memory");
        return -1;
    }
    for (size_t r = 0; r < rep->nrows; r++)
        if (!rep->rows[r].total)
            idx[n++] = r;
    g_rep = rep;
    qsort(idx, n, sizeof *idx, top_cmp);
    if (n > TR_TOP_CHARTS)
        n = TR_TOP_CHARTS;
    fprintf(f, "<h2>Top tags</h2>\n<p class=\"note\">The %zu tag series that "
               "matter most: leaks by rate, then the largest.</p>\n", n);
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        const tr_row *row = &rep->rows[idx[k]];
        const ldb_proc *p = ldb_proc_at(rep->db, row->proc);
        ldb_samples s;
        if (ldb_load_samples(rep->db, row->proc, &s, err, size)) {
            rc = -1;
            break;
        }
        grab g = {0};
        rc = ldb_each_series(rep->db, &s, 1, row->tag, row->pool, grab_series,
                             &g, err, size);
        if (rc > 0 || (rc < 0 && !*err)) {
            snprintf(err, size, "out of memory");
            rc = -1;
        }
        if (rc == 0) {
            char tag[PT_TAG_TEXT_MAX], rate[40], id[32], lab[64], desc[512];
            snprintf(id, sizeof id, "tag%zu", k);
            ldb_tag_text(rep->db, row->tag, tag);
            fprintf(f, "<h3 id=\"%s\"><span class=\"v\" style=\"background:%s\">"
                       "%s</span> ", id, vcolor[row->r.verdict],
                    vd_name(row->r.verdict));
            esc(f, tag);
            fprintf(f, " (%s) <span class=\"meta\">process %lld (",
                    tr_pool_name(row->pool), (long long)p->pid);
            esc(f, p->comm);
            fmt_rate(row->r.rate, rate, sizeof rate);
            fprintf(f, "), %s, ", rate);
            esc(f, row->r.why);
            tr_describe(rep, row->tag, desc, sizeof desc);
            if (*desc) {
                fputs(" &middot; ", f);
                esc(f, desc);
            }
            fputs("</span></h3>\n", f);
            snprintf(lab, sizeof lab, "%s %s", tag, tr_pool_name(row->pool));
            line_data line = {lab, vcolor[row->r.verdict], g.t, g.y, g.n, 0, g.lo, g.hi};
            chart(f, id, &line, 1, 0);
        }
        grab_free(&g);
        ldb_samples_free(&s);
    }
    free(idx);
    return rc;
}

static void table_section(FILE *f, const tr_report *rep)
{
    fputs("<h2>Verdicts and evidence</h2>\n<table>\n<thead><tr><th>Process</th>"
          "<th>Verdict</th><th>Tag</th><th>Pool</th><th>Bytes</th><th>Rate</th>"
          "<th>Never fell</th><th>Fit R&sup2;</th><th>To pool max</th>"
          "<th>Alloc corr.</th><th>Why</th><th>Description</th></tr></thead>\n"
          "<tbody>\n", f);
    size_t shown = rep->nrows < TABLE_MAX ? rep->nrows : TABLE_MAX;
    for (size_t r = 0; r < shown; r++) {
        const tr_row *row = &rep->rows[r];
        const ldb_proc *p = ldb_proc_at(rep->db, row->proc);
        fprintf(f, "<tr><td>%lld ", (long long)p->pid);
        esc(f, p->comm);
        fputs("</td>", f);
        evidence_cells(f, rep, row);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    if (shown < rep->nrows)
        fprintf(f, "<p class=\"note\">%zu more series: see pooltag trend --json."
                   "</p>\n", rep->nrows - shown);
    fputs("<p class=\"note\">Rate: growth in bytes per hour (for a leak under "
          "load, the rate of the troughs). Never fell: share of the time the "
          "bytes did not decrease. Fit: R&sup2; of the line the rate comes "
          "from. To pool max: time until the pool reaches its maximum at this "
          "rate. Alloc corr.: correlation of bytes with allocations per "
          "second. Method: docs/trend.md.</p>\n", f);
}

int tr_write_html(FILE *f, const tr_report *rep, char *err, size_t size)
{
    err[0] = 0;
    page_head(f, rep);
    if (!rep->tagpat && totals_section(f, rep, err, size))
        return -1;
    if (tags_section(f, rep, err, size))
        return -1;
    table_section(f, rep);
    fputs("</body></html>\n", f);
    if (ferror(f)) {
        /* errno is still the one of the write that failed (nothing but
         * writes to f came since). */
        snprintf(err, size, "cannot write: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}
