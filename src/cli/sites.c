/*
 * sites.c — `pooltag sites`: the call sites of one tag.
 *
 * Data model: one reading (ptr_view) holds the site table, one row per
 * (tag, code address) with counters per pool (ptr_view.sites).  The sites
 * of a tag add up to the tag exactly (segment invariant), so the TOTAL line
 * equals what `pooltag used` shows for the tag in the same reading.
 *
 * A row shows Allocs (made), Frees, Diff (outstanding) and Bytes (in use),
 * each summed over both pools, the pools the site used, its address and
 * its name: module!symbol+0xoff and file:line (symbolize.h).  Two kinds of
 * row have no address: the tag's "other sites" entry (its blocks once the
 * site table was full) and the overflow site (tags with no such entry).
 *
 * Which modules name the addresses: sitename.h (shared with `used
 * --suspects`).
 *
 * With --age (issue 15) the row shows, instead of Allocs, Frees and Pool,
 * the site's live bytes per age band (ages.h), and the JSON adds each
 * site's bands and epochs.
 */
#include "verbs.h"
#include "ages.h"
#include "emit.h"
#include "sitename.h"
#include "symbolize.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "sites";

enum sort_key { SORT_BYTES, SORT_ALLOCS, SORT_DIFF };

static const struct {
    const char *name;
    const char *title;
} sorts[] = {
    [SORT_BYTES] = {"bytes", "Bytes in use"},
    [SORT_ALLOCS] = {"allocs", "Allocations made"},
    [SORT_DIFF] = {"diff", "Outstanding allocations"},
};

typedef struct row {
    const struct ptr_site *s;
    uint64_t allocs, frees;
    int64_t diff, bytes;
    site_name name;
    age_row *age;       /* --age: the shown rows' */
} row;

static enum sort_key g_sort;

static int64_t sort_value(const row *r)
{
    switch (g_sort) {
    case SORT_BYTES: return r->bytes;
    case SORT_ALLOCS: return (int64_t)r->allocs;
    case SORT_DIFF: return r->diff;
    }
    return 0;
}

static int row_cmp(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int64_t x = sort_value(a), y = sort_value(b);
    if (x != y)
        return x > y ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->allocs != b->allocs)
        return a->allocs > b->allocs ? -1 : 1;
    if (a->s->addr != b->s->addr)
        return a->s->addr < b->s->addr ? -1 : 1;
    return 0;
}

static void usage(FILE *f)
{
    fputs("Usage: pooltag sites [-t N] [--sort=KEY] [--age] [--json] [--debuginfod] SOURCE TAG\n"
          "\n"
          "The call sites of one tag: which code allocated the tag's memory.\n"
          "One row per site (the code address that called the allocator, for\n"
          "the preload the first caller outside allocator wrappers) with\n"
          "Allocs (made), Frees, Diff (outstanding) and Bytes (in use) over both\n"
          "pools, the site as module!symbol+0xoff and file:line where debuginfo\n"
          "exists.  SOURCE is a PID, a snapshot or a core file; TAG is text:\n"
          "Leak, Se.\n"
          "\n"
          "  -t, --top N        show the first N sites (TOTAL counts them all)\n"
          "  -s, --sort KEY     bytes (default): bytes in use\n"
          "                     allocs: allocations made\n"
          "                     diff: outstanding allocations\n"
          "      --age          live bytes by age instead of Allocs, Frees and Pool:\n"
          "                     per site, Diff, Bytes and the bytes whose blocks are at\n"
          "                     least <10s, 10s-1m, 1m-10m, 10m-1h, 1h-1d or >1d old\n"
          "                     (the youngest age they may have; the source must\n"
          "                     have age epochs)\n"
          "      --json         the same rows as JSON\n"
          "      --debuginfod   let elfutils download debuginfo from the servers\n"
          "                     in $DEBUGINFOD_URLS (off: lookups stay offline)\n"
          "  -h, --help         this text\n"
          "\n"
          "Debuginfo is found next to each file, in .debug/, and by build-id in\n"
          "/usr/lib/debug/.build-id.  Exit status 0 ok (also when the tag has no\n"
          "allocations), 2 usage or input error.\n",
          f);
}

/* "P", "NP" or "P+NP": the pools a site allocated from. */
static const char *pools_of(const struct ptr_site *s)
{
    int np = s->pool[PT_NONPAGED].allocs || s->pool[PT_NONPAGED].frees;
    int p = s->pool[PT_PAGED].allocs || s->pool[PT_PAGED].frees;
    return np && p ? "P+NP" : np ? "NP" : "P";
}

typedef struct report {
    const ptr_view *v;
    const char *spec;
    uint32_t tag;
    const row *rows;
    size_t nrows, shown;
    pt_counts total[PT_POOL_COUNT];   /* sum of every site of the tag     */
    const pt_tag_info *ti;            /* the tag's own row, or NULL       */
    int age;                          /* --age                            */
    age_row age_total;
    const char *symbolized_with;      /* "module table", ... or "none"    */
    char note[512];                   /* about symbolization, or ""       */
} report;

/* The rows, described once.  The JSON of a site adds its name's parts
 * (module, path, symbol, file, line, note) and the counters of each pool
 * ($counts); the table shows them as one text.  With --age the table has
 * Diff, Bytes and the age bands (cols_age); the JSON has the same members
 * and "age". */
enum { COL_ALLOCS, COL_FREES, COL_BLOCKS, COL_BYTES, COL_POOLS, COL_ADDR, COL_SITE, NCOLS };
static const emit_col cols[NCOLS] = {
    [COL_ALLOCS] = {"allocs", 10, 0, " "},
    [COL_FREES] = {"frees", 10, 0, " "},
    [COL_BLOCKS] = {"blocks", 10, 0, " "},
    [COL_BYTES] = {"bytes", 12, 0, " "},
    [COL_POOLS] = {NULL, 4, EMIT_LEFT, " "},
    [COL_ADDR] = {NULL, 14, EMIT_LEFT, "  "},  /* JSON: "address", below */
    [COL_SITE] = {NULL, 0, EMIT_LEFT, ""},
};
enum { ACOL_BLOCKS, ACOL_BYTES, ACOL_BAND0, ACOL_ADDR = ACOL_BAND0 + AGE_NBANDS, ACOL_SITE,
       NACOLS };
static const emit_col cols_age[NACOLS] = {
    [ACOL_BLOCKS] = {"blocks", 10, 0, " "},
    [ACOL_BYTES] = {"bytes", 12, 0, " "},
    AGE_BAND_COLS,
    [ACOL_ADDR] = {NULL, 14, EMIT_LEFT, "  "},
    [ACOL_SITE] = {NULL, 0, EMIT_LEFT, ""},
};

static void emit_site(emitter *e, const row *r, int age, const ptr_view *v)
{
    /* The Site cell never truncates: each part is escaped (cli_esc: at
     * most CLI_ESC_MAX bytes). */
    char addr[24], text[CLI_TEXT_SIZE(1024) + 2 * CLI_ESC_MAX + 32];
    site_addr_cell(r->s, addr, sizeof addr);
    site_cell(r->s, &r->name, text, sizeof text);
    emit_row_begin(e);
    if (age) {
        emit_col_i64(e, ACOL_BLOCKS, r->diff);
        emit_col_i64(e, ACOL_BYTES, r->bytes);
        age_emit_row(e, ACOL_BAND0, r->age, v);
        emit_col_text(e, ACOL_ADDR, addr);
        emit_col_text(e, ACOL_SITE, text);
        emit_kv_u64(e, "allocs", r->allocs);
        emit_kv_u64(e, "frees", r->frees);
    } else {
        emit_col_u64(e, COL_ALLOCS, r->allocs);
        emit_col_u64(e, COL_FREES, r->frees);
        emit_col_i64(e, COL_BLOCKS, r->diff);
        emit_col_i64(e, COL_BYTES, r->bytes);
        emit_col_text(e, COL_POOLS, pools_of(r->s));
        emit_col_text(e, COL_ADDR, addr);
        emit_col_text(e, COL_SITE, text);
    }
    site_emit_name(e, r->s, &r->name);
    emit_counts(e, "nonpaged", &r->s->pool[PT_NONPAGED], 0);
    emit_counts(e, "paged", &r->s->pool[PT_PAGED], 0);
    emit_row_end(e);
}

static void emit_report(emitter *e, const report *rp)
{
    char text[PT_TAG_TEXT_MAX];
    const ptdb_entry *db = ptdb_lookup(rp->tag);
    emit_begin(e);
    if (!emit_json(e)) {
        fputs("   ", e->f);
        cli_describe(e->f, rp->v, rp->spec);
    }
    emit_source(e, rp->v, rp->spec);
    emit_text(e, "\n\n   Call sites of tag '%s'", cli_tag(rp->tag, text));
    emit_kv_tag(e, "tag", rp->tag);
    if (db && *db->binary)
        emit_text(e, " (%s - %s)", cli_esc(db->binary), cli_esc(db->description));
    else if (db)
        emit_text(e, " (%s)", cli_esc(db->description));
    emit_kv_str(e, "binary", db && *db->binary ? db->binary : NULL);
    emit_kv_str(e, "description", db ? db->description : NULL);
    emit_text(e, ", sorted by %s\n\n", sorts[g_sort].title);
    emit_kv_str(e, "sort", sorts[g_sort].name);
    emit_kv_str(e, "symbolized_with", rp->symbolized_with);
    emit_kv_str(e, "note", rp->note[0] ? rp->note : NULL);
    emit_kv_u64(e, "sites_total", rp->nrows);
    emit_kv_u64(e, "sites_shown", rp->shown);
    if (rp->age) {
        age_emit_table(e, rp->v);
        emit_text(e, "       Diff        Bytes" AGE_BAND_HEAD "  Address         Site\n\n");
        emit_table_begin(e, cols_age, NACOLS);
    } else {
        emit_text(e, "     Allocs      Frees       Diff        Bytes Pool  Address         Site\n\n");
        emit_table_begin(e, cols, NCOLS);
    }
    emit_arr_begin(e, "sites");
    for (size_t i = 0; i < rp->shown; i++)
        emit_site(e, &rp->rows[i], rp->age, rp->v);
    emit_arr_end(e);

    const pt_counts *t = rp->total;
    uint64_t a = t[0].allocs + t[1].allocs, f = t[0].frees + t[1].frees;
    int64_t np_diff = cli_diff(t[PT_NONPAGED].allocs, t[PT_NONPAGED].frees);
    int64_t np_used = cli_diff(t[PT_NONPAGED].bytes_alloc, t[PT_NONPAGED].bytes_freed);
    int64_t p_diff = cli_diff(t[PT_PAGED].allocs, t[PT_PAGED].frees);
    int64_t p_used = cli_diff(t[PT_PAGED].bytes_alloc, t[PT_PAGED].bytes_freed);
    /* The TOTAL line: the same columns (the word in the Pool column's
     * place, as before); in JSON the object "total". */
    emit_text(e, "\n");
    emit_obj_begin(e, "total");
    if (rp->age) {
        emit_table_begin(e, cols_age, NACOLS);
        emit_col_i64(e, ACOL_BLOCKS, cli_diff(a, f));
        emit_col_i64(e, ACOL_BYTES, np_used + p_used);
        age_emit_row(e, ACOL_BAND0, &rp->age_total, rp->v);
        emit_col_text(e, ACOL_ADDR, "TOTAL");
        emit_kv_u64(e, "allocs", a);
        emit_kv_u64(e, "frees", f);
    } else {
        emit_table_begin(e, cols, NCOLS);
        emit_col_u64(e, COL_ALLOCS, a);
        emit_col_u64(e, COL_FREES, f);
        emit_col_i64(e, COL_BLOCKS, cli_diff(a, f));
        emit_col_i64(e, COL_BYTES, np_used + p_used);
        emit_col_text(e, COL_POOLS, "      TOTAL");
    }
    emit_counts(e, "nonpaged", &t[PT_NONPAGED], 0);
    emit_counts(e, "paged", &t[PT_PAGED], 0);
    emit_text(e, "\n");
    emit_obj_end(e);
    emit_text(e, "\n   TOTAL by pool: NonPaged Diff %" PRId64 " Bytes %" PRId64
                 ", Paged Diff %" PRId64 " Bytes %" PRId64
                 " (the Allocs and Used of pooltag used)\n",
              np_diff, np_used, p_diff, p_used);
    if (rp->shown < rp->nrows)
        emit_text(e, "\n   %zu more site%s not shown (-t %zu)\n", rp->nrows - rp->shown,
                  rp->nrows - rp->shown == 1 ? "" : "s", rp->shown);
    if (rp->ti) {
        /* The sites add up to the tag; a live process that allocates while
         * it is read can be caught between the two counters. */
        const pt_counts *c = rp->ti->pool;
        if (c[0].allocs != t[0].allocs || c[1].allocs != t[1].allocs ||
            c[0].frees != t[0].frees || c[1].frees != t[1].frees ||
            c[0].bytes_alloc != t[0].bytes_alloc || c[1].bytes_alloc != t[1].bytes_alloc ||
            c[0].bytes_freed != t[0].bytes_freed || c[1].bytes_freed != t[1].bytes_freed)
            emit_text(e, "\n   The tag's own counters differ slightly: the process was "
                         "allocating while it was read.\n");
    }
    if (rp->note[0])
        emit_text(e, "\n   %s\n", cli_esc(rp->note));
    if (rp->age)
        age_legend(e, rp->v);
    emit_end(e);
}

int cmd_sites(int argc, char **argv)
{
    static const struct option opts[] = {
        {"top", required_argument, NULL, 't'},
        {"sort", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"debuginfod", no_argument, NULL, 'd'},
        {"age", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t top = 0;
    int json = 0, network = 0, c, status = PT_EXIT_USAGE;
    ptr_view v;
    ptr_source *src = NULL;
    row *rows = NULL;
    age_row *ages = NULL;
    sym_ctx *sc = NULL;
    report rp;

    memset(&v, 0, sizeof v);
    memset(&rp, 0, sizeof rp);
    g_sort = SORT_BYTES;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (cli_parse_u64(optarg, &top) < 0 || top == 0) {
                cli_err(VERB, "-t wants a number of sites >= 1, not '%s'", optarg);
                goto out;
            }
            break;
        case 's': {
            size_t k;
            for (k = 0; k < sizeof sorts / sizeof sorts[0]; k++)
                if (strcmp(optarg, sorts[k].name) == 0)
                    break;
            if (k == sizeof sorts / sizeof sorts[0]) {
                cli_err(VERB, "unknown sort key '%s' (use bytes, allocs or diff)", optarg);
                goto out;
            }
            g_sort = (enum sort_key)k;
            break;
        }
        case 'j': json = 1; break;
        case 'd': network = 1; break;
        case 'a': rp.age = 1; break;
        case 'h':
            usage(stdout);
            status = PT_EXIT_OK;
            goto out;
        default:
            cli_opt_error(VERB, argv, c);
            goto out;
        }
    }
    if (argc - optind != 2) {
        cli_err(VERB, argc - optind == 0   ? "missing SOURCE and TAG: give a PID or a snapshot "
                                             "file, and a tag (see pooltag sites --help)"
                      : argc - optind == 1 ? "missing TAG after SOURCE: give a tag such as "
                                             "Leak (see pooltag sites --help)"
                                           : "too many arguments (see pooltag sites --help)");
        goto out;
    }
    const char *spec = argv[optind], *tagword = argv[optind + 1];
    uint32_t tag;
    if (pt_tag_parse(tagword, &tag) < 0) {
        cli_err(VERB,
                "bad tag '%s': a tag is 1 to 4 characters (\\xNN escapes allowed), "
                "such as Leak or Se",
                tagword);
        goto out;
    }
    if (cli_read(VERB, spec, &v, &src) != PT_EXIT_OK)
        goto out;
    size_t seglen = 0;
    const void *seg = ptr_raw(src, &seglen);
    pt_seg_header h;
    memset(&h, 0, sizeof h);
    if (seg && seglen >= sizeof h)
        memcpy(&h, seg, sizeof h);
    if (!h.sites_off) {
        cli_err(VERB,
                "%s has no call-site counters (its pooltag runtime predates them); "
                "use pooltag used",
                spec);
        goto out;
    }
    if (rp.age && age_require(VERB, "--age", &v, spec) != PT_EXIT_OK)
        goto out;

    rp.v = &v;
    rp.spec = spec;
    rp.tag = tag;
    rp.symbolized_with = "none";
    for (size_t i = 0; i < v.ntags; i++)
        if (v.tags[i].tag == tag)
            rp.ti = &v.tags[i];
    rows = calloc(v.nsites + 1, sizeof *rows);
    if (!rows) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    size_t nrows = 0;
    for (size_t i = 0; i < v.nsites; i++) {
        const struct ptr_site *s = &v.sites[i];
        if (s->tag != tag)
            continue;
        row *r = &rows[nrows++];
        r->s = s;
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            const pt_counts *pc = &s->pool[p];
            r->allocs += pc->allocs;
            r->frees += pc->frees;
            r->bytes += cli_diff(pc->bytes_alloc, pc->bytes_freed);
            rp.total[p].allocs += pc->allocs;
            rp.total[p].frees += pc->frees;
            rp.total[p].bytes_alloc += pc->bytes_alloc;
            rp.total[p].bytes_freed += pc->bytes_freed;
        }
        r->diff = cli_diff(r->allocs, r->frees);
        if (rp.age)
            age_row_add(&rp.age_total, &v, i);
    }
    if (nrows == 0 && !json) {
        char text[PT_TAG_TEXT_MAX];
        printf("no allocations with tag '%s' in ", cli_tag(tag, text));
        cli_describe(stdout, &v, spec);
        putchar('\n');
        status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
        goto out;
    }
    qsort(rows, nrows, sizeof *rows, row_cmp);
    size_t shown = top && top < nrows ? (size_t)top : nrows;

    sc = sym_new(network);
    if (!sc) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    if (nrows)
        site_symbols(sc, src, &v, tag, &rp.symbolized_with, rp.note, sizeof rp.note);
    if (rp.age && !(ages = calloc(shown + 1, sizeof *ages))) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < shown; i++) {
        site_lookup(sc, rows[i].s, &rows[i].name);
        if (ages) {
            rows[i].age = &ages[i];
            age_row_add(rows[i].age, &v, (size_t)(rows[i].s - v.sites));
        }
    }

    rp.rows = rows;
    rp.nrows = nrows;
    rp.shown = shown;
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_report(&e, &rp);
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    sym_free(sc);
    free(ages);
    free(rows);
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}
