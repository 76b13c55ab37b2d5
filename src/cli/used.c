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
 */
#include "verbs.h"
#include "emit.h"
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
    fputs("Usage: pooltag used [-t N] [--sort=KEY] [-i PAT] [-x PAT] [--json] "
          "SOURCE\n"
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
          "      --json         the same rows as JSON\n"
          "  -h, --help         this text\n"
          "\n"
          "Tag database: $POOLTAG_DB, ~/.config/pooltag/pooltag.txt, then the\n"
          "installed pooltag.txt.  Exit status 0 ok, 2 usage or input error.\n",
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
                   size_t nrows, size_t shown, const pt_counts *total)
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
    emit_text(e, "             NonPaged                  Paged\n");
    emit_text(e, " Tag      Allocs         Used     Allocs         Used\n\n");
    cli_emit_full_tables(e, v);
    emit_kv_u64(e, "tags_total", nrows);
    emit_kv_u64(e, "tags_shown", shown);
    emit_table_begin(e, cols, NCOLS);
    emit_arr_begin(e, "tags");
    for (size_t i = 0; i < shown; i++) {
        const row *r = &rows[i];
        const pt_tag_info *t = r->t;
        const ptdb_entry *db = ptdb_lookup(t->tag);
        int ovf = !!(t->flags & PT_TAGINFO_OVERFLOW);
        desc_of(v, t->tag, ovf, desc, sizeof desc);
        emit_row_begin(e);
        emit_col_tag(e, COL_TAG, t->tag);
        emit_col_i64(e, COL_NP_BLOCKS, r->outstanding[PT_NONPAGED]);
        emit_col_i64(e, COL_NP_BYTES, r->used[PT_NONPAGED]);
        emit_col_i64(e, COL_P_BLOCKS, r->outstanding[PT_PAGED]);
        emit_col_i64(e, COL_P_BYTES, r->used[PT_PAGED]);
        emit_col_text(e, COL_DESC, desc);
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
    emit_text(e, "\n TOTAL%10" PRId64 " %12" PRId64 " %10" PRId64 " %12" PRId64 "\n",
              cli_diff(total[PT_NONPAGED].allocs, total[PT_NONPAGED].frees),
              cli_diff(total[PT_NONPAGED].bytes_alloc, total[PT_NONPAGED].bytes_freed),
              cli_diff(total[PT_PAGED].allocs, total[PT_PAGED].frees),
              cli_diff(total[PT_PAGED].bytes_alloc, total[PT_PAGED].bytes_freed));
    emit_obj_begin(e, "total");
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
        if (!ptdb_path())
            fputs("\n   No pooltag.txt found: set POOLTAG_DB to name one.\n", e->f);
    }
    emit_end(e);
}

int cmd_used(int argc, char **argv)
{
    static const struct option opts[] = {
        {"top", required_argument, NULL, 't'},
        {"sort", required_argument, NULL, 's'},
        {"include", required_argument, NULL, 'i'},
        {"exclude", required_argument, NULL, 'x'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t top = 0;
    int json = 0, c, status = PT_EXIT_USAGE;
    char **incl = calloc((size_t)argc + 1, sizeof *incl);
    char **excl = calloc((size_t)argc + 1, sizeof *excl);
    size_t nincl = 0, nexcl = 0;
    ptr_view v;
    row *rows = NULL;

    memset(&v, 0, sizeof v);
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
            break;
        }
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
    const char *spec = argv[optind];
    if ((status = cli_read(VERB, spec, &v, NULL)) != PT_EXIT_OK)
        goto out;

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
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    report(&e, &v, spec, rows, nrows, shown, total);
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    free(rows);
    free(incl);
    free(excl);
    ptr_view_free(&v);
    return status;
}
