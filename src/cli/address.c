/*
 * address.c — `pooltag address SOURCE`: every region of a process, live or
 * from a core, grouped by usage, after WinDbg's !address -summary.
 *
 * Data model: the regions of a pim (pimg.h), each classified once by
 * pr_classify (pregions.h: Heap, Stack, Image, MappedFile, Segment,
 * Anonymous, Other).  Sizes are the regions' address ranges (what the
 * mapping reserves, dumped or not).  "Busy" is every region that is not
 * reserved address space (pr_class.reserved: PROT_NONE, a guard page,
 * address space glibc or another allocator reserved), which counts in the
 * total only, as WinDbg counts reserved-but-free space apart.
 *
 * Tables: the summary by usage (sorted by size), the largest region of each
 * usage (its start is what `pooltag search` looks for), the threads whose
 * stack was not found; --prot by protection, --modules the Image bytes per
 * module, --list every region.  The table and --json come from the same
 * emitter calls.
 *
 * A live process is read without stopping it (its maps are one read of
 * /proc/PID/maps; a few words of some regions are read to recognise them);
 * --stop stops every thread while it is read, so that each thread's stack
 * is the region of its stack pointer.
 *
 * Exit status 0, 2 usage or input error.
 */
#include "verbs.h"
#include "emit.h"
#include "fmt.h"
#include "pimg.h"
#include "pregions.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "address";

static void usage(FILE *f)
{
    fputs("Usage: pooltag address [--prot] [--modules] [--list] [--stop] [--json] SOURCE\n"
          "\n"
          "Every region of a process grouped by usage, like WinDbg's !address -summary:\n"
          "Heap (the brk heap, glibc's thread arenas, mmapped malloc chunks, pooltag's\n"
          "nonpaged pool, mimalloc segments), Stack (each thread's), Image (mappings\n"
          "of ELF modules, their .bss included), MappedFile (other files), Segment\n"
          "(the pooltag segment), Anonymous (private memory of no known use) and\n"
          "Other ([vdso], [vvar], guard pages and reserved PROT_NONE space), with the\n"
          "number of regions, their size, % of busy and % of total; then the largest\n"
          "region of each usage.  Busy is every region but reserved address space:\n"
          "PROT_NONE regions (a gcore core writes them read-only: there the guard\n"
          "pages and arena reserves that are recognised).  A core's file mappings\n"
          "that it holds no bytes of have protection \"?\" and count as busy.\n"
          "SOURCE is a PID (any process you may trace: tagged or not) or a core file.\n"
          "\n"
          "  --prot         also the regions by protection (rwx)\n"
          "  --modules      also the Image bytes per module\n"
          "  --list         also every region with its usage\n"
          "  --stop         live: stop every thread while reading (ptrace), so each\n"
          "                 thread's stack is the region of its stack pointer; without\n"
          "                 it the process runs on and threads' stacks are found by\n"
          "                 [stack] and glibc's thread blocks\n"
          "  -j, --json     the same as JSON\n"
          "  -h, --help     this text\n"
          "\n"
          "Exit status 0 ok, 2 usage or input error.\n",
          f);
}

typedef struct usage_row {
    int kind;
    uint64_t regions, size, busy;
    size_t largest;         /* region index */
    int have_largest;
} usage_row;

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* "rw-"; "?" when a core does not say (PIM_RF_NOPHDR). */
static void prot_text(unsigned prot, char out[4])
{
    if (prot > 7) {
        strcpy(out, "?");
        return;
    }
    out[0] = (prot & PIM_R) ? 'r' : '-';
    out[1] = (prot & PIM_W) ? 'w' : '-';
    out[2] = (prot & PIM_X) ? 'x' : '-';
    out[3] = 0;
}

/* The region's rwx bits, or 8 when unknown. */
static unsigned region_prot(const pim_region *r)
{
    return (r->flags & PIM_RF_NOPHDR) ? 8 : r->prot & 7;
}

static const char *size_text(uint64_t v, char *buf, size_t size)
{
    fmt_bytes((double)v, buf, size);
    return buf;
}

static int row_cmp(const void *pa, const void *pb)
{
    const usage_row *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->kind - b->kind;
}

enum { UC_USAGE, UC_REGIONS, UC_SIZE, UC_PBUSY, UC_PTOTAL, NUC };
static const emit_col usage_cols[NUC] = {
    [UC_USAGE] = {"usage", 12, EMIT_LEFT, ""},
    [UC_REGIONS] = {"regions", 8, 0, " "},
    [UC_SIZE] = {"size", 12, 0, " "},
    [UC_PBUSY] = {"pct_busy", 8, 0, " "},
    [UC_PTOTAL] = {"pct_total", 9, 0, " "},
};

enum { LG_USAGE, LG_START, LG_END, LG_SIZE, LG_DETAIL, NLG };
static const emit_col largest_cols[NLG] = {
    [LG_USAGE] = {"usage", 12, EMIT_LEFT, ""},
    [LG_START] = {NULL, 16, 0, " "},
    [LG_END] = {NULL, 16, 0, " "},
    [LG_SIZE] = {"size", 12, 0, " "},
    [LG_DETAIL] = {"detail", 0, EMIT_LEFT, "  "},
};

enum { PC_PROT, PC_REGIONS, PC_SIZE, PC_PTOTAL, NPC };
static const emit_col prot_cols[NPC] = {
    [PC_PROT] = {"prot", 10, EMIT_LEFT, ""},
    [PC_REGIONS] = {"regions", 8, 0, " "},
    [PC_SIZE] = {"size", 12, 0, " "},
    [PC_PTOTAL] = {"pct_total", 9, 0, " "},
};

enum { MC_NAME, MC_REGIONS, MC_SIZE, MC_PIMAGE, MC_PATH, NMC };
static const emit_col mod_cols[NMC] = {
    [MC_NAME] = {"name", 24, EMIT_LEFT, ""},
    [MC_REGIONS] = {"regions", 8, 0, " "},
    [MC_SIZE] = {"size", 12, 0, " "},
    [MC_PIMAGE] = {"pct_image", 9, 0, " "},
    [MC_PATH] = {"path", 0, EMIT_LEFT, "  "},
};

enum { RC_START, RC_END, RC_SIZE, RC_PROT, RC_USAGE, RC_DETAIL, NRC };
static const emit_col list_cols[NRC] = {
    [RC_START] = {NULL, 16, 0, ""},
    [RC_END] = {NULL, 16, 0, " "},
    [RC_SIZE] = {"size", 12, 0, " "},
    [RC_PROT] = {NULL, 4, EMIT_LEFT, " "},
    [RC_USAGE] = {"usage", 10, EMIT_LEFT, " "},
    [RC_DETAIL] = {"detail", 0, EMIT_LEFT, " "},
};

static void report(emitter *e, pim *p, const pr_class *cls, const char *spec, int show_prot,
                   int show_mods, int show_list)
{
    char b1[32], b2[32], b3[32], cell[64];
    usage_row rows[PR_NKINDS];
    uint64_t total = 0, busy = 0;
    memset(rows, 0, sizeof rows);
    for (int k = 0; k < PR_NKINDS; k++)
        rows[k].kind = k;
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        usage_row *u = &rows[cls[i].kind];
        uint64_t sz = r->end - r->start;
        u->regions++;
        u->size += sz;
        total += sz;
        if (!cls[i].reserved) {
            u->busy += sz;
            busy += sz;
        }
        if (!u->have_largest || sz > p->regions[u->largest].end - p->regions[u->largest].start) {
            u->largest = i;
            u->have_largest = 1;
        }
    }
    qsort(rows, PR_NKINDS, sizeof rows[0], row_cmp);

    emit_begin(e);
    if (!emit_json(e)) {
        fputs("   ", e->f);
        pr_describe(e->f, p, spec);
    }
    pr_emit_source(e, p, spec);
    emit_text(e, ": %zu regions, %s mapped, %s busy, %zu thread%s\n\n",
              p->nregions, size_text(total, b1, sizeof b1), size_text(busy, b2, sizeof b2),
              p->nthreads, p->nthreads == 1 ? "" : "s");
    emit_kv_u64(e, "regions", p->nregions);
    emit_kv_u64(e, "total", total);
    emit_kv_u64(e, "busy", busy);

    emit_text(e, "%-12s %8s %12s %8s %9s\n", "Usage", "Regions", "Size", "%ofBusy", "%ofTotal");
    emit_table_begin(e, usage_cols, NUC);
    emit_arr_begin(e, "usage");
    for (int k = 0; k < PR_NKINDS; k++) {
        const usage_row *u = &rows[k];
        if (!u->regions)
            continue;
        emit_row_begin(e);
        emit_col_str(e, UC_USAGE, pr_kind_name(u->kind));
        emit_col_u64(e, UC_REGIONS, u->regions);
        emit_col_u64_as(e, UC_SIZE, u->size, size_text(u->size, b1, sizeof b1));
        snprintf(b2, sizeof b2, "%.2f%%", pct(u->busy, busy));
        emit_col_dbl_as(e, UC_PBUSY, pct(u->busy, busy), 2, b2);
        snprintf(b3, sizeof b3, "%.2f%%", pct(u->size, total));
        emit_col_dbl_as(e, UC_PTOTAL, pct(u->size, total), 2, b3);
        emit_kv_u64(e, "busy", u->busy);
        emit_row_end(e);
    }
    emit_arr_end(e);

    emit_text(e, "\nLargest region by usage:\n%-12s %16s %16s %12s  %s\n", "Usage", "Start",
              "End", "Size", "Detail");
    emit_table_begin(e, largest_cols, NLG);
    emit_arr_begin(e, "largest");
    for (int k = 0; k < PR_NKINDS; k++) {
        const usage_row *u = &rows[k];
        if (!u->have_largest)
            continue;
        const pim_region *r = &p->regions[u->largest];
        emit_row_begin(e);
        emit_col_str(e, LG_USAGE, pr_kind_name(u->kind));
        snprintf(cell, sizeof cell, "%016" PRIx64, r->start);
        emit_col_text(e, LG_START, cell);
        snprintf(cell, sizeof cell, "%016" PRIx64, r->end);
        emit_col_text(e, LG_END, cell);
        emit_col_u64_as(e, LG_SIZE, r->end - r->start,
                        size_text(r->end - r->start, b1, sizeof b1));
        emit_col_str(e, LG_DETAIL, cls[u->largest].detail);
        emit_kv_hex(e, "start", r->start);
        emit_kv_hex(e, "end", r->end);
        emit_row_end(e);
    }
    emit_arr_end(e);

    /* Threads whose stack no rule found. */
    size_t nlost = 0;
    emit_arr_begin(e, "threads_without_stack");
    for (size_t t = 0; t < p->nthreads; t++) {
        int found = 0;
        for (size_t i = 0; i < p->nregions && !found; i++)
            found = cls[i].kind == PR_STACK && cls[i].thread == (long)t;
        if (found)
            continue;
        if (!nlost++)
            emit_text(e, "\nThreads whose stack was not found%s:",
                      p->kind == PIM_LIVE && !p->stopped ? " (try --stop)" : "");
        emit_text(e, " %" PRIu32 "%s%s%s", p->threads[t].tid, p->threads[t].name[0] ? " (" : "",
                  cli_esc(p->threads[t].name), p->threads[t].name[0] ? ")" : "");
        emit_kv_u64(e, NULL, p->threads[t].tid);
    }
    emit_arr_end(e);
    if (nlost)
        emit_text(e, "\n");

    if (show_prot) {
        /* Eight protections: index by the rwx bits. */
        uint64_t pr_n[9] = {0}, pr_sz[9] = {0};
        for (size_t i = 0; i < p->nregions; i++) {
            unsigned k = region_prot(&p->regions[i]);
            pr_n[k]++;
            pr_sz[k] += p->regions[i].end - p->regions[i].start;
        }
        emit_text(e, "\n%-10s %8s %12s %9s\n", "Protection", "Regions", "Size", "%ofTotal");
        emit_table_begin(e, prot_cols, NPC);
        emit_arr_begin(e, "protection");
        for (;;) {
            int best = -1;
            for (int k = 0; k < 9; k++)
                if (pr_n[k] && (best < 0 || pr_sz[k] > pr_sz[best]))
                    best = k;
            if (best < 0)
                break;
            char pt[4];
            prot_text((unsigned)best, pt);
            emit_row_begin(e);
            emit_col_str(e, PC_PROT, pt);
            emit_col_u64(e, PC_REGIONS, pr_n[best]);
            emit_col_u64_as(e, PC_SIZE, pr_sz[best], size_text(pr_sz[best], b1, sizeof b1));
            snprintf(b2, sizeof b2, "%.2f%%", pct(pr_sz[best], total));
            emit_col_dbl_as(e, PC_PTOTAL, pct(pr_sz[best], total), 2, b2);
            emit_row_end(e);
            pr_n[best] = 0;
        }
        emit_arr_end(e);
    }

    if (show_mods) {
        uint64_t *msz = calloc(p->nmodules + 1, sizeof *msz);
        uint64_t *mn = calloc(p->nmodules + 1, sizeof *mn);
        uint64_t image = 0;
        for (size_t i = 0; msz && mn && i < p->nregions; i++)
            if (cls[i].kind == PR_IMAGE && cls[i].module >= 0 &&
                (size_t)cls[i].module < p->nmodules) {
                uint64_t sz = p->regions[i].end - p->regions[i].start;
                msz[cls[i].module] += sz;
                mn[cls[i].module]++;
                image += sz;
            }
        emit_text(e, "\n%-24s %8s %12s %9s  %s\n", "Module", "Regions", "Size", "%ofImage",
                  "Path");
        emit_table_begin(e, mod_cols, NMC);
        emit_arr_begin(e, "modules");
        for (size_t done = 0; msz && mn && done < p->nmodules; done++) {
            size_t best = p->nmodules;
            for (size_t m = 0; m < p->nmodules; m++)
                if (mn[m] && (best == p->nmodules || msz[m] > msz[best]))
                    best = m;
            if (best == p->nmodules)
                break;
            emit_row_begin(e);
            emit_col_str(e, MC_NAME, p->modules[best].name);
            emit_col_u64(e, MC_REGIONS, mn[best]);
            emit_col_u64_as(e, MC_SIZE, msz[best], size_text(msz[best], b1, sizeof b1));
            snprintf(b2, sizeof b2, "%.2f%%", pct(msz[best], image));
            emit_col_dbl_as(e, MC_PIMAGE, pct(msz[best], image), 2, b2);
            emit_col_str(e, MC_PATH, p->modules[best].path);
            emit_kv_hex(e, "start", p->modules[best].start);
            emit_kv_hex(e, "end", p->modules[best].end);
            emit_row_end(e);
            mn[best] = 0;
        }
        emit_arr_end(e);
        free(msz);
        free(mn);
    }

    if (show_list) {
        emit_text(e, "\n%-16s %-16s %12s %-4s %-10s %s\n", "Start", "End", "Size", "Prot",
                  "Usage", "Detail");
        emit_table_begin(e, list_cols, NRC);
        emit_arr_begin(e, "list");
        for (size_t i = 0; i < p->nregions; i++) {
            const pim_region *r = &p->regions[i];
            char pt[4];
            prot_text(region_prot(r), pt);
            emit_row_begin(e);
            snprintf(cell, sizeof cell, "%016" PRIx64, r->start);
            emit_col_text(e, RC_START, cell);
            snprintf(cell, sizeof cell, "%016" PRIx64, r->end);
            emit_col_text(e, RC_END, cell);
            emit_col_u64_as(e, RC_SIZE, r->end - r->start,
                            size_text(r->end - r->start, b1, sizeof b1));
            emit_col_text(e, RC_PROT, pt);
            emit_col_str(e, RC_USAGE, pr_kind_name(cls[i].kind));
            emit_col_str(e, RC_DETAIL, cls[i].detail);
            emit_kv_hex(e, "start", r->start);
            emit_kv_hex(e, "end", r->end);
            emit_kv_str(e, "prot", pt);
            emit_kv_str(e, "path", r->path && r->path[0] ? r->path : NULL);
            emit_kv_u64(e, "avail", r->avail);
            if (cls[i].thread >= 0)
                emit_kv_u64(e, "tid", p->threads[cls[i].thread].tid);
            else
                emit_kv_null(e, "tid");
            emit_row_end(e);
        }
        emit_arr_end(e);
    }
    emit_end(e);
}

int cmd_address(int argc, char **argv)
{
    static const struct option opts[] = {
        {"prot", no_argument, NULL, 'p'},
        {"modules", no_argument, NULL, 'm'},
        {"list", no_argument, NULL, 'l'},
        {"stop", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, show_prot = 0, show_mods = 0, show_list = 0, stop = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': show_prot = 1; break;
        case 'm': show_mods = 1; break;
        case 'l': show_list = 1; break;
        case 's': stop = 1; break;
        case 'j': json = 1; break;
        case 'h':
            usage(stdout);
            return PT_EXIT_OK;
        default:
            cli_opt_error(VERB, argv, c);
            return PT_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_err(VERB, argc == optind ? "missing SOURCE: give a PID or a core file "
                                       "(see pooltag address --help)"
                                     : "too many arguments (see pooltag address --help)");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    char err[512];
    pim *p = NULL;
    if (pim_open(spec, stop ? PIM_STOP : 0, &p, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        return PT_EXIT_USAGE;
    }
    /* glibc's arenas by their signatures, not by gh_open: its reading of
     * the heap (a chunk walk, mmapped chunks looked for on every page of
     * anonymous memory) costs a second on a 2 GiB core, address a few
     * words per region. */
    pr_class *cls = NULL;
    if (pr_classify(p, NULL, &cls, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        pim_close(p);
        return PT_EXIT_USAGE;
    }
    pim_resume(p);
    if (pim_gone(p)) {
        cli_err(VERB, "process %" PRIu32 " exited while it was read", p->pid);
        pr_free(cls, p->nregions);
        pim_close(p);
        return PT_EXIT_USAGE;
    }
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    report(&e, p, cls, spec, show_prot, show_mods, show_list);
    pr_free(cls, p->nregions);
    pim_close(p);
    return fflush(stdout) == 0 && !ferror(stdout) ? PT_EXIT_OK : PT_EXIT_USAGE;
}
