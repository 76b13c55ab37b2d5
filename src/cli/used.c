/*
 * used.c — `pooltag used`: the top pool consumers, after WinDbg's !poolused.
 *
 * Data model: one reading (ptr_view) gives a row per tag with counters per
 * pool.  A row shows, per pool, Allocs = outstanding blocks (allocs - frees)
 * and Used = bytes in use (bytes_alloc - bytes_freed), then the tag's owner
 * from pooltag.txt.  Rows are filtered (-i / -x), sorted (--sort), cut to
 * the top N (-t); the TOTAL line sums every row that passed the filter,
 * whether shown or not.  The table and --json print the same rows, through
 * one emitter (emit.h); the JSON's names are docs/json.md's.
 *
 * Issue 15 (age epochs, ages.h): --age shows instead, per tag, its live
 * blocks and bytes (both pools) and the bytes per age band, the sum of
 * the tag's call sites; --suspects ranks call sites by how much their live
 * bytes look like a steady leak in this one reading (ages.c, the method in
 * docs/used.md), each named as `pooltag sites` names it (sitename.h).
 */
#include "verbs.h"
#include "ages.h"
#include "emit.h"
#include "fmt.h"
#include "sitename.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "used";

enum sort_key { SORT_NONPAGED, SORT_PAGED, SORT_ALLOCS, SORT_DIFF, SORT_TAG };

static const struct {
    const char *name;
    const char *title;
} sorts[] = {
    [SORT_NONPAGED] = {"nonpaged", "NonPaged Pool Consumed"},
    [SORT_PAGED] = {"paged", "Paged Pool Consumed"},
    [SORT_ALLOCS] = {"allocs", "Allocs (outstanding blocks, NonPaged + Paged)"},
    [SORT_DIFF] = {"diff", "Outstanding Allocations (NonPaged + Paged)"},
    [SORT_TAG] = {"tag", "Tag"},
};

typedef struct row {
    const pt_tag_info *t;
    int64_t outstanding[PT_POOL_COUNT];
    int64_t used[PT_POOL_COUNT];
    age_row *age;         /* --age: the shown rows' */
} row;

static enum sort_key g_sort;

static int64_t sort_value(const row *r)
{
    switch (g_sort) {
    case SORT_NONPAGED: return r->used[PT_NONPAGED];
    case SORT_PAGED: return r->used[PT_PAGED];
    case SORT_ALLOCS:   /* what the Allocs columns show, as diff */
    case SORT_DIFF: return r->outstanding[0] + r->outstanding[1];
    case SORT_TAG: return 0;
    }
    return 0;
}

static int row_cmp(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int64_t x = sort_value(a), y = sort_value(b);
    if (x != y)
        return x > y ? -1 : 1;
    if (g_sort != SORT_TAG) {
        /* Ties: the other measure of bytes, then the tag. */
        int64_t xa = a->used[0] + a->used[1], yb = b->used[0] + b->used[1];
        if (xa != yb)
            return xa > yb ? -1 : 1;
    }
    return cli_tag_cmp(a->t->tag, b->t->tag);
}

static void usage(FILE *f)
{
    fputs("Usage: pooltag used [-t N] [--sort=KEY] [-i PAT] [-x PAT] [--age | --suspects]\n"
          "                    [--json] [--debuginfod] SOURCE\n"
          "\n"
          "The top pool consumers of a process, like WinDbg's !poolused: per\n"
          "tag, the outstanding allocations (Allocs) and bytes in use (Used)\n"
          "in the NonPaged and Paged pools, with the owner and description\n"
          "from pooltag.txt.  SOURCE is a PID, a snapshot or a core file.  Lines\n"
          "under the table name the tags with failures injected by pooltag fault, and\n"
          "those whose special pool was full, when there are any.\n"
          "\n"
          "  -t, --top N        show the first N tags (the TOTAL line still\n"
          "                     counts every tag)\n"
          "  -s, --sort KEY     nonpaged (default): NonPaged bytes in use\n"
          "                     paged: Paged bytes in use\n"
          "                     allocs: the Allocs columns (outstanding\n"
          "                     blocks), both pools\n"
          "                     diff: the same order (outstanding blocks)\n"
          "                     tag: tag text\n"
          "  -i, --include PAT  only tags matching PAT (* and ?, repeatable)\n"
          "  -x, --exclude PAT  leave out tags matching PAT (repeatable)\n"
          "      --age          live bytes by age instead of the pools' columns: per\n"
          "                     tag, Blocks, Bytes and the bytes whose blocks are at\n"
          "                     least <10s, 10s-1m, 1m-10m, 10m-1h, 1h-1d or >1d old\n"
          "                     (the youngest age they may have)\n"
          "      --suspects     rank call sites by how much their live bytes look\n"
          "                     like a steady leak in this one reading: old bytes\n"
          "                     spread over the process's life like its time, which\n"
          "                     the site's own rate of freeing does not explain; a\n"
          "                     suspicion, not a verdict (pooltag log + trend give\n"
          "                     that).  -t N shows N sites; -i, -x select by tag\n"
          "      --debuginfod   (--suspects) let elfutils download debuginfo from the\n"
          "                     servers in $DEBUGINFOD_URLS\n"
          "      --json         the same rows as JSON\n"
          "  -h, --help         this text\n"
          "\n"
          "Tag database: $POOLTAG_DB, ~/.config/pooltag/pooltag.txt, then the\n"
          "installed pooltag.txt.  --age and --suspects need a source with age\n"
          "epochs (a runtime of issue 15 or later).  Exit status 0 ok (also when\n"
          "there are no suspects), 2 usage or input error.\n",
          f);
}

/* The description column, for the table: text from the database and the
 * module table escaped (cli_esc); the JSON has the raw strings (binary,
 * description) that the emitter escapes. */
static void desc_of(const ptr_view *v, uint32_t tag, int overflow, char *buf, size_t size)
{
    const ptdb_entry *e = ptdb_lookup(tag);
    char text[PT_TAG_TEXT_MAX];
    if (overflow)
        snprintf(buf, size, "pooltag - %s", cli_overflow_desc(v));
    else if (e && *e->binary)
        snprintf(buf, size, "%s - %s", cli_esc(e->binary), cli_esc(e->description));
    else if (e)
        snprintf(buf, size, "%s", cli_esc(e->description));
    else
        snprintf(buf, size, "UNKNOWN pooltag '%s', please update pooltag.txt",
                 cli_tag(tag, text));
}

/* The rows, described once: the table's cells; the JSON of a row is its
 * tag, these members and the counters of each pool ($counts). */
enum { COL_TAG, COL_NP_BLOCKS, COL_NP_BYTES, COL_P_BLOCKS, COL_P_BYTES, COL_DESC, NCOLS };
static const emit_col cols[NCOLS] = {
    [COL_TAG] = {"tag", 4, EMIT_LEFT, " "},
    [COL_NP_BLOCKS] = {NULL, 10, 0, " "},    /* the counters: $counts below */
    [COL_NP_BYTES] = {NULL, 12, 0, " "},
    [COL_P_BLOCKS] = {NULL, 10, 0, " "},
    [COL_P_BYTES] = {NULL, 12, 0, " "},
    [COL_DESC] = {NULL, 0, EMIT_LEFT, "  "}, /* JSON: binary, description */
};
/* --age: the tag, its live blocks and bytes (both pools: the JSON has
 * them in $counts), the bands, the description; the TOTAL line's cells
 * under the same columns. */
enum { ACOL_TAG, ACOL_BLOCKS, ACOL_BYTES, ACOL_BAND0, ACOL_DESC = ACOL_BAND0 + AGE_NBANDS,
       NACOLS };
static const emit_col cols_age[NACOLS] = {
    [ACOL_TAG] = {"tag", 4, EMIT_LEFT, " "},
    [ACOL_BLOCKS] = {NULL, 10, 0, " "},
    [ACOL_BYTES] = {NULL, 12, 0, " "},
    AGE_BAND_COLS,
    [ACOL_DESC] = {NULL, 0, EMIT_LEFT, "  "},
};
static const emit_col cols_age_total[ACOL_DESC] = {
    {NULL, 5, EMIT_LEFT, " "}, {NULL, 9, 0, " "}, {NULL, 12, 0, " "}, AGE_BAND_COLS,
};

/* Issue 12: a tag's injected failures (which = 0) or its allocations that
 * found the special pool full (1); 0 when the view has none. */
static uint64_t extra_of(const ptr_view *v, const pt_tag_info *t, int which)
{
    if (!v->tagx || t < v->tags || t >= v->tags + v->ntags)
        return 0;
    const struct ptr_tagx *x = &v->tagx[t - v->tags];
    return which ? x->special_full : x->injected;
}

/* A line under the table, only when some tag of the filter has any:
 * "Injected failures (pooltag fault): FiA 510, ... (total N)". */
static void extra_line(FILE *f, const ptr_view *v, const row *rows, size_t nrows, int which)
{
    uint64_t total = 0;
    size_t n = 0;
    for (size_t i = 0; i < nrows; i++) {
        uint64_t x = extra_of(v, rows[i].t, which);
        if (!x)
            continue;
        char tg[PT_TAG_TEXT_MAX];
        if (n == 0)
            fputs(which ? "\n   Special pool full (served by the normal pool):"
                        : "\n   Injected failures (pooltag fault):", f);
        cli_tag(rows[i].t->tag, tg);
        size_t k = strlen(tg);
        while (k > 1 && tg[k - 1] == ' ') /* "FiA 471", not "FiA  471" */
            tg[--k] = 0;
        if (n < 8)
            fprintf(f, "%s %s %" PRIu64, n ? "," : "", tg, x);
        else if (n == 8)
            fputs(", ...", f);
        n++;
        total += x;
    }
    if (n)
        fprintf(f, " (total %" PRIu64 ")\n", total);
}

static void report(emitter *e, const ptr_view *v, const char *spec, const row *rows,
                   size_t nrows, size_t shown, const pt_counts *total,
                   const age_row *age_total)
{
    char desc[512];
    emit_begin(e);
    if (!emit_json(e)) {
        fputs("   ", e->f);
        cli_describe(e->f, v, spec);
    }
    emit_source(e, v, spec);
    emit_text(e, "\n\n   Sorting by %s\n\n", sorts[g_sort].title);
    emit_kv_str(e, "sort", sorts[g_sort].name);
    if (age_total) {
        age_emit_table(e, v);
        emit_text(e, " Tag      Blocks        Bytes" AGE_BAND_HEAD "\n\n");
    } else {
        emit_text(e, "             NonPaged                  Paged\n");
        emit_text(e, " Tag      Allocs         Used     Allocs         Used\n\n");
    }
    cli_emit_full_tables(e, v);
    emit_kv_u64(e, "tags_total", nrows);
    emit_kv_u64(e, "tags_shown", shown);
    if (age_total)
        emit_table_begin(e, cols_age, NACOLS);
    else
        emit_table_begin(e, cols, NCOLS);
    emit_arr_begin(e, "tags");
    for (size_t i = 0; i < shown; i++) {
        const row *r = &rows[i];
        const pt_tag_info *t = r->t;
        const ptdb_entry *db = ptdb_lookup(t->tag);
        int ovf = !!(t->flags & PT_TAGINFO_OVERFLOW);
        desc_of(v, t->tag, ovf, desc, sizeof desc);
        emit_row_begin(e);
        if (age_total) {
            emit_col_tag(e, ACOL_TAG, t->tag);
            emit_col_i64(e, ACOL_BLOCKS, r->outstanding[0] + r->outstanding[1]);
            emit_col_i64(e, ACOL_BYTES, r->used[0] + r->used[1]);
            age_emit_row(e, ACOL_BAND0, r->age, v);
            emit_col_text(e, ACOL_DESC, desc);
        } else {
            emit_col_tag(e, COL_TAG, t->tag);
            emit_col_i64(e, COL_NP_BLOCKS, r->outstanding[PT_NONPAGED]);
            emit_col_i64(e, COL_NP_BYTES, r->used[PT_NONPAGED]);
            emit_col_i64(e, COL_P_BLOCKS, r->outstanding[PT_PAGED]);
            emit_col_i64(e, COL_P_BYTES, r->used[PT_PAGED]);
            emit_col_text(e, COL_DESC, desc);
        }
        emit_kv_bool(e, "overflow", ovf);
        emit_kv_bool(e, "known", db != NULL);
        emit_kv_str(e, "binary", ovf ? "pooltag" : db && *db->binary ? db->binary : NULL);
        emit_kv_str(e, "description",
                    ovf ? cli_overflow_desc(v) : db ? db->description : desc);
        emit_counts(e, "nonpaged", &t->pool[PT_NONPAGED], 1);
        emit_counts(e, "paged", &t->pool[PT_PAGED], 1);
        emit_kv_u64(e, "injected", extra_of(v, t, 0));
        emit_kv_u64(e, "special_full", extra_of(v, t, 1));
        emit_row_end(e);
    }
    emit_arr_end(e);
    if (nrows == 0)
        emit_text(e, v->ntags ? " (no tag matches the patterns)\n"
                              : " (no tagged allocations)\n");
    int64_t tb[PT_POOL_COUNT], tu[PT_POOL_COUNT];
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        tb[p] = cli_diff(total[p].allocs, total[p].frees);
        tu[p] = cli_diff(total[p].bytes_alloc, total[p].bytes_freed);
    }
    emit_text(e, "\n");
    emit_obj_begin(e, "total");
    if (age_total) {
        emit_table_begin(e, cols_age_total, ACOL_DESC);
        emit_col_text(e, 0, "TOTAL");
        emit_col_i64(e, 1, tb[0] + tb[1]);
        emit_col_i64(e, 2, tu[0] + tu[1]);
        age_emit_row(e, ACOL_BAND0, age_total, v);
        emit_text(e, "\n");
    } else {
        emit_text(e, " TOTAL%10" PRId64 " %12" PRId64 " %10" PRId64 " %12" PRId64 "\n",
                  tb[PT_NONPAGED], tu[PT_NONPAGED], tb[PT_PAGED], tu[PT_PAGED]);
    }
    emit_counts(e, "nonpaged", &total[PT_NONPAGED], 0);
    emit_counts(e, "paged", &total[PT_PAGED], 0);
    uint64_t inj = 0, full = 0;
    for (size_t i = 0; i < nrows; i++) {
        inj += extra_of(v, rows[i].t, 0);
        full += extra_of(v, rows[i].t, 1);
    }
    emit_kv_u64(e, "injected", inj);
    emit_kv_u64(e, "special_full", full);
    emit_obj_end(e);
    if (shown < nrows)
        emit_text(e, "\n   %zu more tag%s not shown (-t %zu)\n", nrows - shown,
                  nrows - shown == 1 ? "" : "s", shown);
    if (!emit_json(e)) {
        extra_line(e->f, v, rows, nrows, 0);
        extra_line(e->f, v, rows, nrows, 1);
        cli_full_tables_note(e->f, v);
        if (age_total)
            age_legend(e, v);
        if (!ptdb_path())
            fputs("\n   No pooltag.txt found: set POOLTAG_DB to name one.\n", e->f);
    }
    emit_end(e);
}

/* --age: each shown row's bands (the sum of its tag's sites) and, in
 * *total, those of every site whose tag passed the filter.  The array
 * (malloc'd) is the rows' storage; NULL when out of memory. */
static age_row *tag_ages(const ptr_view *v, row *rows, size_t shown, char *const *incl,
                         char *const *excl, age_row *total)
{
    age_row *a = calloc(shown + 1, sizeof *a);
    if (!a)
        return NULL;
    for (size_t i = 0; i < shown; i++)
        rows[i].age = &a[i];
    for (size_t j = 0; j < v->nsites; j++) {
        uint32_t tag = v->sites[j].tag;
        if (!cli_tag_selected(tag, incl, excl))
            continue;
        age_row_add(total, v, j);
        for (size_t i = 0; i < shown; i++)
            if (rows[i].t->tag == tag) {
                age_row_add(&a[i], v, j);
                break;
            }
    }
    return a;
}

/* --suspects: one row per listed site, then its line of evidence. */
enum { SCOL_RANK, SCOL_TAG, SCOL_SCORE, SCOL_BYTES, SCOL_ADDR, SCOL_SITE, NSCOLS };
static const emit_col cols_suspects[NSCOLS] = {
    [SCOL_RANK] = {"rank", 3, 0, " "},
    [SCOL_TAG] = {"tag", 4, EMIT_LEFT, "  "},
    [SCOL_SCORE] = {"score", 10, 0, " "},
    [SCOL_BYTES] = {"bytes", 10, 0, " "},
    [SCOL_ADDR] = {NULL, 14, EMIT_LEFT, "  "},  /* JSON: the site's name members */
    [SCOL_SITE] = {NULL, 0, EMIT_LEFT, ""},
};

typedef struct suspects_out {
    const ptr_view *v;
    const char *spec;
    const age_suspect *sus;
    const site_name *names;
    size_t weighed, n, shown;
    const char *with;
    const char *note;
} suspects_out;

static void emit_suspect(emitter *e, const suspects_out *o, size_t i)
{
    const ptr_view *v = o->v;
    const age_suspect *s = &o->sus[i];
    const struct ptr_site *site = &v->sites[s->site];
    char score[32], bytes[32], addr[24], evidence[512];
    char text[CLI_TEXT_SIZE(1024) + 2 * CLI_ESC_MAX + 32];
    age_row ar;
    memset(&ar, 0, sizeof ar);
    age_row_add(&ar, v, s->site);
    fmt_bytes(s->score, score, sizeof score);
    fmt_bytes((double)s->live_bytes, bytes, sizeof bytes);
    site_addr_cell(site, addr, sizeof addr);
    site_cell(site, &o->names[i], text, sizeof text);
    age_suspect_text(s, evidence, sizeof evidence);
    emit_row_begin(e);
    emit_col_u64(e, SCOL_RANK, i + 1);
    emit_col_tag(e, SCOL_TAG, site->tag);
    emit_col_dbl_as(e, SCOL_SCORE, s->score, 0, score);
    emit_col_i64_as(e, SCOL_BYTES, s->live_bytes, bytes);
    emit_col_text(e, SCOL_ADDR, addr);
    emit_col_text(e, SCOL_SITE, text);
    emit_kv_i64(e, "blocks", s->live_blocks);
    emit_kv_dbl(e, "steadiness", s->steadiness, 3);
    emit_kv_i64(e, "old_bytes", s->old_bytes);
    emit_kv_i64(e, "old_blocks", s->old_blocks);
    emit_kv_dbl(e, "old_age_s", s->old_age_s, 3);
    emit_kv_dbl(e, "cut_s", s->cut_s, 3);
    emit_kv_u64(e, "old_epochs", s->old_epochs);
    emit_kv_u64(e, "old_epochs_with_bytes", s->old_epochs_bytes);
    emit_kv_dbl(e, "alloc_bytes_per_hour", s->alloc_rate * 3600, 0);
    emit_kv_u64(e, "allocs", s->allocs);
    emit_kv_u64(e, "frees", s->frees);
    emit_kv_dbl(e, "lifetime_s", s->lifetime_s, 3);
    emit_kv_str(e, "evidence", evidence);
    site_emit_name(e, site, &o->names[i]);
    emit_counts(e, "nonpaged", &site->pool[PT_NONPAGED], 0);
    emit_counts(e, "paged", &site->pool[PT_PAGED], 0);
    age_emit_json(e, &ar, v);
    emit_row_end(e);
    emit_text(e, "        %s\n", evidence);
}

static void emit_suspects(emitter *e, const suspects_out *o)
{
    const ptr_view *v = o->v;
    char life[32], cur[32];
    fmt_secs((double)age_max_ns(v, 0) / 1e9, life, sizeof life);
    fmt_secs((double)age_max_ns(v, v->age_n - 1) / 1e9, cur, sizeof cur);
    emit_begin(e);
    if (!emit_json(e)) {
        fputs("   ", e->f);
        cli_describe(e->f, v, o->spec);
    }
    emit_source(e, v, o->spec);
    emit_text(e,
              "\n\n   Leak suspects from this one reading: call sites whose live bytes look like\n"
              "   a steady leak (old bytes spread over the process's life like its time, more\n"
              "   than the site's own rate of freeing explains).  A suspicion, not a verdict:\n"
              "   the verdict needs readings over time, pooltag log PID then pooltag trend DB.\n\n");
    age_emit_table(e, v);
    emit_obj_begin(e, "method");
    emit_kv_dbl(e, "min_old_age_s", AGE_SUSPECT_MIN_OLD_S, 3);
    emit_kv_dbl(e, "lifetimes", AGE_SUSPECT_LIFETIMES, 3);
    emit_kv_u64(e, "min_old_epochs", AGE_SUSPECT_MIN_EPOCHS);
    emit_kv_dbl(e, "min_steadiness", AGE_SUSPECT_MIN_STEADY, 3);
    emit_obj_end(e);
    emit_kv_str(e, "symbolized_with", o->with);
    emit_kv_str(e, "note", o->note[0] ? o->note : NULL);
    emit_kv_u64(e, "sites_weighed", o->weighed);
    emit_kv_u64(e, "suspects_total", o->n);
    emit_kv_u64(e, "suspects_shown", o->shown);
    if (o->n)
        emit_text(e, "   #  Tag       Score      Bytes  Address         Site\n\n");
    emit_table_begin(e, cols_suspects, NSCOLS);
    emit_arr_begin(e, "suspects");
    for (size_t i = 0; i < o->shown; i++)
        emit_suspect(e, o, i);
    emit_arr_end(e);
    if (o->n == 0)
        emit_text(e,
                  "   No suspects: no call site holds bytes older than %.0f s (and %.0f of its\n"
                  "   lifetimes) in %u old epochs or more, spread like a steady leak (%zu sites\n"
                  "   weighed).\n",
                  AGE_SUSPECT_MIN_OLD_S, AGE_SUSPECT_LIFETIMES, AGE_SUSPECT_MIN_EPOCHS, o->weighed);
    else
        emit_text(e,
                  "\n   %zu of %zu call sites listed%s; the others show too little evidence.  Score:\n"
                  "   old bytes x steadiness (docs/used.md, Leak suspects).\n",
                  o->n, o->weighed, o->shown < o->n ? " (not all shown: -t)" : "");
    emit_text(e,
              "   The process is %s old (%" PRIu32 " epochs); the current epoch covers the last %s:\n"
              "   a leak younger than that is not seen, and a cache that keeps growing looks\n"
              "   like a leak.\n",
              life, v->age_n, cur);
    if (o->note[0])
        emit_text(e, "\n   %s\n", cli_esc(o->note));
    emit_end(e);
}

/* Weigh every site whose tag passes the filter, name the first `top` (0:
 * all) of those listed, and report. */
static int suspects(const ptr_view *v, ptr_source *src, const char *spec, char *const *incl,
                    char *const *excl, uint64_t top, int json, int network)
{
    int status = PT_EXIT_USAGE;
    age_suspect *sus = calloc(v->nsites + 1, sizeof *sus);
    site_name *names = NULL;
    sym_ctx **ctx = NULL;
    uint32_t *ctx_tag = NULL;
    size_t nctx = 0, n = 0, weighed = 0;
    char note[512] = "";
    const char *with = "none";
    if (!sus) {
        cli_err(VERB, "out of memory");
        return status;
    }
    for (size_t j = 0; j < v->nsites; j++) {
        if (!cli_tag_selected(v->sites[j].tag, incl, excl))
            continue;
        weighed++;
        if (age_suspect_eval(v, j, &sus[n]))
            n++;
    }
    qsort(sus, n, sizeof *sus, age_suspect_cmp);
    size_t shown = top && top < n ? (size_t)top : n;
    names = calloc(shown + 1, sizeof *names);
    ctx = calloc(shown + 1, sizeof *ctx);
    ctx_tag = calloc(shown + 1, sizeof *ctx_tag);
    if (!names || !ctx || !ctx_tag) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    /* One symbolizer per tag, so that each prefers its tag's modules as
     * `pooltag sites` does. */
    for (size_t i = 0; i < shown; i++) {
        const struct ptr_site *site = &v->sites[sus[i].site];
        size_t k = 0;
        while (k < nctx && ctx_tag[k] != site->tag)
            k++;
        if (k == nctx) {
            if (!(ctx[k] = sym_new(network))) {
                cli_err(VERB, "out of memory");
                goto out;
            }
            ctx_tag[k] = site->tag;
            nctx++;
            site_symbols(ctx[k], src, v, site->tag, &with, note, sizeof note);
        }
        site_lookup(ctx[k], site, &names[i]);
    }
    suspects_out o = {v, spec, sus, names, weighed, n, shown, with, note};
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_suspects(&e, &o);
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    for (size_t k = 0; k < nctx; k++)
        sym_free(ctx[k]);
    free(ctx);
    free(ctx_tag);
    free(names);
    free(sus);
    return status;
}

int cmd_used(int argc, char **argv)
{
    static const struct option opts[] = {
        {"top", required_argument, NULL, 't'},
        {"sort", required_argument, NULL, 's'},
        {"include", required_argument, NULL, 'i'},
        {"exclude", required_argument, NULL, 'x'},
        {"age", no_argument, NULL, 'a'},
        {"suspects", no_argument, NULL, 'S'},
        {"debuginfod", no_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t top = 0;
    int json = 0, age = 0, sus = 0, network = 0, sort_set = 0, c, status = PT_EXIT_USAGE;
    char **incl = calloc((size_t)argc + 1, sizeof *incl);
    char **excl = calloc((size_t)argc + 1, sizeof *excl);
    size_t nincl = 0, nexcl = 0;
    ptr_view v;
    ptr_source *src = NULL;
    row *rows = NULL;
    age_row *ages = NULL, age_total;

    memset(&v, 0, sizeof v);
    memset(&age_total, 0, sizeof age_total);
    g_sort = SORT_NONPAGED;
    opterr = 0;
    if (!incl || !excl) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    while ((c = getopt_long(argc, argv, ":t:s:i:x:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (cli_parse_u64(optarg, &top) < 0 || top == 0) {
                cli_err(VERB, "-t wants a number of tags >= 1, not '%s'",
                        optarg);
                goto out;
            }
            break;
        case 's': {
            size_t k;
            for (k = 0; k < sizeof sorts / sizeof sorts[0]; k++)
                if (strcmp(optarg, sorts[k].name) == 0)
                    break;
            if (k == sizeof sorts / sizeof sorts[0]) {
                cli_err(VERB,
                        "unknown sort key '%s' (use nonpaged, paged, allocs, "
                        "diff or tag)",
                        optarg);
                goto out;
            }
            g_sort = (enum sort_key)k;
            sort_set = 1;
            break;
        }
        case 'a': age = 1; break;
        case 'S': sus = 1; break;
        case 'd': network = 1; break;
        case 'i': incl[nincl++] = optarg; break;
        case 'x': excl[nexcl++] = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            usage(stdout);
            status = PT_EXIT_OK;
            goto out;
        default:
            cli_opt_error(VERB, argv, c);
            goto out;
        }
    }
    if (optind != argc - 1) {
        cli_err(VERB, optind >= argc
                          ? "missing SOURCE: give a PID or a snapshot file "
                            "(see pooltag used --help)"
                          : "too many arguments (see pooltag used --help)");
        goto out;
    }
    if (age && sus) {
        cli_err(VERB, "--age and --suspects are two reports: give one of them");
        goto out;
    }
    if (sus && sort_set) {
        cli_err(VERB, "--sort does not apply to --suspects (they are ranked by score)");
        goto out;
    }
    if (network && !sus) {
        cli_err(VERB, "--debuginfod is for --suspects (the only report of used that names "
                      "call sites)");
        goto out;
    }
    const char *spec = argv[optind];
    if ((status = cli_read(VERB, spec, &v, &src)) != PT_EXIT_OK)
        goto out;
    if (age || sus) {
        if ((status = age_require(VERB, age ? "--age" : "--suspects", &v, spec)) != PT_EXIT_OK)
            goto out;
    }
    if (sus) {
        status = suspects(&v, src, spec, incl, excl, top, json, network);
        goto out;
    }

    rows = calloc(v.ntags + 1, sizeof *rows);
    if (!rows) {
        cli_err(VERB, "out of memory");
        status = PT_EXIT_USAGE;
        goto out;
    }
    size_t nrows = 0;
    pt_counts total[PT_POOL_COUNT];
    memset(total, 0, sizeof total);
    for (size_t i = 0; i < v.ntags; i++) {
        const pt_tag_info *t = &v.tags[i];
        if (!cli_tag_selected(t->tag, incl, excl))
            continue;
        row *r = &rows[nrows++];
        r->t = t;
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            const pt_counts *pc = &t->pool[p];
            r->outstanding[p] = cli_diff(pc->allocs, pc->frees);
            r->used[p] = cli_diff(pc->bytes_alloc, pc->bytes_freed);
            total[p].allocs += pc->allocs;
            total[p].frees += pc->frees;
            total[p].bytes_alloc += pc->bytes_alloc;
            total[p].bytes_freed += pc->bytes_freed;
            total[p].failures += pc->failures;
        }
    }
    qsort(rows, nrows, sizeof *rows, row_cmp);
    size_t shown = top && top < nrows ? (size_t)top : nrows;
    if (age && !(ages = tag_ages(&v, rows, shown, incl, excl, &age_total))) {
        cli_err(VERB, "out of memory");
        status = PT_EXIT_USAGE;
        goto out;
    }
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    report(&e, &v, spec, rows, nrows, shown, total, age ? &age_total : NULL);
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    free(ages);
    free(rows);
    free(incl);
    free(excl);
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}
