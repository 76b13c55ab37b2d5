/*
 * heap.c — `pooltag heap`: a process's heaps after WinDbg's !heap -s,
 * !heap -stat -h and !heap -flt s, for any glibc program, live or a core.
 *
 * Data model: glibc's arenas and mmapped chunks as gheap.h reads them
 * (figures per arena; every chunk through gh_walk), and, when the process
 * is tagged, pooltag's pools from its segment (ptr_read_pim).  The summary
 * has one row per heap; --stat groups the program's busy blocks (GH_BUSY
 * and GH_MMAPPED; the allocator's own tcache structs are left out) by
 * usable size (malloc_usable_size: what the program may use); --size lists
 * the blocks of one usable size with their first words, the first one
 * named when it points into a module (a C++ object's vtable).
 */
#include "verbs.h"
#include "emit.h"
#include "gheap.h"
#include "pimg.h"
#include "pimsym.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "heap";

static void usage(FILE *f)
{
    fputs("Usage: pooltag heap [--no-stop] [--json] SOURCE\n"
          "       pooltag heap --stat [--top N] [--no-stop] [--json] SOURCE\n"
          "       pooltag heap --size N [--max K] [--no-stop] [--json] SOURCE\n"
          "\n"
          "The heaps of any glibc program, live (a PID) or from a core file, like\n"
          "WinDbg's !heap -s: one row per heap (glibc's main arena, each thread\n"
          "arena, the mmapped chunks, and pooltag's pools when the process is\n"
          "tagged) with its reserved and committed bytes, bytes in use and free,\n"
          "busy and free chunks and fragmentation (1 - largest free chunk / free\n"
          "bytes; the top chunk is neither).  Chunks in a tcache or a fastbin are\n"
          "counted free.  A heap whose walk met a damaged chunk says where.\n"
          "\n"
          "  --stat      busy blocks grouped by usable size (malloc_usable_size),\n"
          "              with counts and bytes, largest total first (!heap -stat -h)\n"
          "  --top N     with --stat: the N largest groups (default 20; 0: all)\n"
          "  --size N    the busy blocks of usable size N: address and first bytes,\n"
          "              the first word named when it points into a module\n"
          "  --max K     with --size: at most K blocks (default 100; 0: all)\n"
          "  --no-stop   live: read while the process runs (racy: the heap may\n"
          "              change under the walk); default: every thread is stopped\n"
          "              with ptrace for the walk and resumed at once after it\n"
          "  --json      the same as JSON\n"
          "  -h, --help  this text\n"
          "\n"
          "Exit status 0 ok, 1 a heap's walk stopped at a damaged chunk, 2 usage or\n"
          "input error (no glibc heap found, not a core, no such process, not\n"
          "allowed).\n",
          f);
}

/* ---------------------------------------------------------------------- */
/* summary                                                                  */

enum { HC_HEAP, HC_ADDR, HC_RES, HC_COMMIT, HC_BUSY, HC_FREE, HC_TOP, HC_NBUSY, HC_NFREE,
       HC_FRAG, HC_NOTE, NHCOLS };
static const emit_col heap_cols[NHCOLS] = {
    [HC_HEAP] = {"heap", 16, EMIT_LEFT, ""},
    [HC_ADDR] = {NULL, 14, 0, " "},
    [HC_RES] = {"reserved", 12, 0, " "},
    [HC_COMMIT] = {"committed", 12, 0, " "},
    [HC_BUSY] = {"busy_bytes", 12, 0, " "},
    [HC_FREE] = {"free_bytes", 12, 0, " "},
    [HC_TOP] = {"top_bytes", 10, 0, " "},
    [HC_NBUSY] = {"busy_chunks", 9, 0, " "},
    [HC_NFREE] = {"free_chunks", 8, 0, " "},
    [HC_FRAG] = {"fragmentation", 6, 0, " "},
    [HC_NOTE] = {NULL, 0, EMIT_LEFT, "  "},
};

static void heads(emitter *e)
{
    emit_text(e, "%-16s %14s %12s %12s %12s %12s %10s %9s %8s %6s\n", "Heap", "Address",
              "Reserved", "Committed", "InUse", "Free", "Top", "Busy", "FreeCh", "Frag");
}

static int summary(emitter *e, pim *p, gh_heap *h, const char *spec)
{
    int broken = 0;
    char buf[160], addr[24];
    uint64_t tot[6] = {0};
    emit_arr_begin(e, "heaps");
    emit_table_begin(e, heap_cols, NHCOLS);
    heads(e);
    for (size_t i = 0; h && i < gh_narenas(h); i++) {
        const gh_arena *a = gh_arena_at(h, i);
        emit_row_begin(e);
        emit_col_str(e, HC_HEAP, a->main ? "main arena" : "thread arena");
        snprintf(addr, sizeof addr, "0x%" PRIx64, a->addr);
        emit_col_text(e, HC_ADDR, addr);
        emit_col_u64(e, HC_RES, a->reserved);
        emit_col_u64(e, HC_COMMIT, a->committed);
        emit_col_u64(e, HC_BUSY, a->busy_bytes);
        emit_col_u64(e, HC_FREE, a->free_bytes);
        emit_col_u64(e, HC_TOP, a->top_size);
        emit_col_u64(e, HC_NBUSY, a->nbusy);
        emit_col_u64(e, HC_NFREE, a->nfree);
        double frag = a->free_bytes ? 1.0 - (double)a->largest_free / (double)a->free_bytes : 0;
        snprintf(buf, sizeof buf, "%.0f%%", frag * 100);
        emit_col_dbl_as(e, HC_FRAG, frag, 3, buf);
        buf[0] = 0;
        if (a->broken) {
            broken = 1;
            snprintf(buf, sizeof buf, "corrupt at 0x%" PRIx64 ": chunk size 0x%" PRIx64 " %s",
                     a->broken_at, a->broken_size, a->broken);
        } else if (a->list_note)
            snprintf(buf, sizeof buf, "free list damaged at 0x%" PRIx64 ": %s", a->list_note_at,
                     a->list_note);
        emit_col_text(e, HC_NOTE, buf);
        emit_kv_str(e, "kind", a->main ? "glibc main arena" : "glibc thread arena");
        emit_kv_hex(e, "address", a->addr);
        emit_kv_u64(e, "system_mem", a->system_mem);
        emit_kv_u64(e, "fast_chunks", a->nfast);
        emit_kv_u64(e, "fast_bytes", a->fast_bytes);
        emit_kv_u64(e, "tcache_chunks", a->ntcache);
        emit_kv_u64(e, "tcache_bytes", a->tcache_bytes);
        emit_kv_u64(e, "largest_free", a->largest_free);
        if (a->broken) {
            emit_obj_begin(e, "corrupt");
            emit_kv_hex(e, "at", a->broken_at);
            emit_kv_hex(e, "size", a->broken_size);
            emit_kv_str(e, "why", a->broken);
            emit_obj_end(e);
        } else
            emit_kv_null(e, "corrupt");
        if (a->list_note) {
            emit_obj_begin(e, "list_damaged");
            emit_kv_hex(e, "at", a->list_note_at);
            emit_kv_str(e, "why", a->list_note);
            emit_obj_end(e);
        } else
            emit_kv_null(e, "list_damaged");
        emit_row_end(e);
        tot[0] += a->reserved;
        tot[1] += a->committed;
        tot[2] += a->busy_bytes;
        tot[3] += a->free_bytes;
        tot[4] += a->nbusy;
        tot[5] += a->nfree;
    }
    if (h) {
        uint64_t n, b;
        gh_mmapped(h, &n, &b);
        emit_row_begin(e);
        emit_col_str(e, HC_HEAP, "mmapped");
        emit_col_text(e, HC_ADDR, "-");
        emit_col_u64(e, HC_RES, b);
        emit_col_u64(e, HC_COMMIT, b);
        emit_col_u64(e, HC_BUSY, b);
        emit_col_u64(e, HC_FREE, 0);
        emit_col_u64(e, HC_TOP, 0);
        emit_col_u64(e, HC_NBUSY, n);
        emit_col_u64(e, HC_NFREE, 0);
        emit_col_dbl_as(e, HC_FRAG, 0, 3, "-");
        emit_kv_str(e, "kind", "glibc mmapped chunks");
        emit_kv_null(e, "address");
        emit_row_end(e);
        tot[0] += b;
        tot[1] += b;
        tot[2] += b;
        tot[4] += n;
    }
    /* pooltag's pools, from the segment of a tagged process */
    const pim_region *sr;
    int mimalloc = 0;
    if (pim_segment(p, &sr) == 0) {
        ptr_view v;
        char err[256];
        if (ptr_read_pim(p, &v, err, sizeof err) == 0) {
            mimalloc = !(v.flags & PT_SEGF_LIBC_BACKEND);
            for (int k = 0; k < PT_POOL_COUNT; k++) {
                const ptr_pool *pl = &v.pool[k];
                uint64_t bytes = pl->bytes_alloc > pl->bytes_freed ? pl->bytes_alloc - pl->bytes_freed : 0;
                uint64_t blocks = pl->allocs > pl->frees ? pl->allocs - pl->frees : 0;
                emit_row_begin(e);
                emit_col_str(e, HC_HEAP, k == PT_NONPAGED ? "pooltag NonPaged" : "pooltag Paged");
                emit_col_text(e, HC_ADDR, "-");
                emit_col_text(e, HC_RES, "-");
                emit_col_text(e, HC_COMMIT, "-");
                emit_col_u64(e, HC_BUSY, bytes);
                emit_col_text(e, HC_FREE, "-");
                emit_col_text(e, HC_TOP, "-");
                emit_col_u64(e, HC_NBUSY, blocks);
                emit_col_text(e, HC_NFREE, "-");
                emit_col_dbl_as(e, HC_FRAG, 0, 3, "-");
                emit_col_text(e, HC_NOTE, mimalloc ? "(in mimalloc's segments)" : "(in the arenas above)");
                emit_kv_str(e, "kind", k == PT_NONPAGED ? "pooltag nonpaged pool" : "pooltag paged pool");
                emit_kv_null(e, "address");
                emit_kv_u64(e, "allocs", pl->allocs);
                emit_kv_u64(e, "frees", pl->frees);
                emit_kv_str(e, "backend", mimalloc ? "mimalloc" : "libc");
                emit_row_end(e);
            }
            ptr_view_free(&v);
        }
    }
    emit_arr_end(e);
    if (h)
        emit_text(e, "%-16s %14s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64
                  " %10s %9" PRIu64 " %8" PRIu64 "\n",
                  "Total (glibc)", "", tot[0], tot[1], tot[2], tot[3], "", tot[4], tot[5]);
    if (!h)
        emit_text(e, "No glibc heap: the pools above are mimalloc's (pooltag's backend).\n");
    (void)spec;
    return broken;
}

/* ---------------------------------------------------------------------- */
/* --stat                                                                   */

typedef struct group { uint64_t usable, count, bytes; } group;
typedef struct stat_acc {
    group *g;
    size_t n, cap;
    uint64_t busy_bytes, busy_count;
    int oom;
} stat_acc;

static int stat_cb(void *arg, const gh_chunk *c)
{
    stat_acc *s = arg;
    if (c->state != GH_BUSY && c->state != GH_MMAPPED)
        return 0;
    s->busy_bytes += c->usable;
    s->busy_count++;
    /* open addressing on usable size (a power-of-two table) */
    if (s->n * 2 >= s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        group *ng = calloc(nc, sizeof *ng);
        if (!ng) {
            s->oom = 1;
            return 1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->g[i].count) {
                size_t k = (size_t)(s->g[i].usable * 0x9e3779b97f4a7c15ull >> 20) & (nc - 1);
                while (ng[k].count)
                    k = (k + 1) & (nc - 1);
                ng[k] = s->g[i];
            }
        free(s->g);
        s->g = ng;
        s->cap = nc;
    }
    size_t k = (size_t)(c->usable * 0x9e3779b97f4a7c15ull >> 20) & (s->cap - 1);
    while (s->g[k].count && s->g[k].usable != c->usable)
        k = (k + 1) & (s->cap - 1);
    if (!s->g[k].count) {
        s->g[k].usable = c->usable;
        s->n++;
    }
    s->g[k].count++;
    s->g[k].bytes += c->usable;
    return 0;
}

static int cmp_group(const void *x, const void *y)
{
    const group *a = x, *b = y;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? 1 : -1;
    return a->usable < b->usable ? -1 : a->usable > b->usable;
}

enum { SC_SIZE, SC_COUNT, SC_BYTES, SC_PCT, NSCOLS };
static const emit_col stat_cols[NSCOLS] = {
    [SC_SIZE] = {"usable_size", 12, 0, "  "},
    [SC_COUNT] = {"count", 10, 0, " "},
    [SC_BYTES] = {"bytes", 14, 0, " "},
    [SC_PCT] = {"percent", 7, 0, " "},
};

static int do_stat(emitter *e, pim *p, gh_heap *h, uint64_t top)
{
    stat_acc s = {0};
    gh_walk(h, stat_cb, &s);
    pim_resume(p);
    if (s.oom) {
        free(s.g);
        cli_err(VERB, "out of memory");
        return PT_EXIT_USAGE;
    }
    size_t o = 0;
    for (size_t i = 0; i < s.cap; i++)
        if (s.g[i].count)
            s.g[o++] = s.g[i];
    if (o)
        qsort(s.g, o, sizeof *s.g, cmp_group);
    size_t shown = top && top < o ? (size_t)top : o;
    emit_text(e, "Busy blocks by usable size: %" PRIu64 " blocks, %" PRIu64 " bytes, %zu sizes\n",
              s.busy_count, s.busy_bytes, o);
    emit_kv_u64(e, "busy_blocks", s.busy_count);
    emit_kv_u64(e, "busy_bytes", s.busy_bytes);
    emit_kv_u64(e, "sizes", o);
    emit_text(e, "%14s %10s %14s %7s\n", "Size", "Count", "Bytes", "%");
    emit_table_begin(e, stat_cols, NSCOLS);
    emit_arr_begin(e, "groups");
    for (size_t i = 0; i < shown; i++) {
        char pct[16];
        double pc = s.busy_bytes ? 100.0 * (double)s.g[i].bytes / (double)s.busy_bytes : 0;
        snprintf(pct, sizeof pct, "%.2f", pc);
        emit_row_begin(e);
        emit_col_u64(e, SC_SIZE, s.g[i].usable);
        emit_col_u64(e, SC_COUNT, s.g[i].count);
        emit_col_u64(e, SC_BYTES, s.g[i].bytes);
        emit_col_dbl_as(e, SC_PCT, pc, 2, pct);
        emit_row_end(e);
    }
    emit_arr_end(e);
    if (shown < o)
        emit_text(e, "(%zu more sizes: --top 0 shows all)\n", o - shown);
    free(s.g);
    return PT_EXIT_OK;
}

/* ---------------------------------------------------------------------- */
/* --size                                                                   */

#define NWORDS 4
typedef struct blk { uint64_t mem, size, w[NWORDS]; int state; size_t nw; } blk;
typedef struct size_acc {
    pim *p;
    uint64_t usable, max;
    blk *b;
    size_t n, cap;
    int oom;
} size_acc;

enum { ZC_ADDR, ZC_SIZE, ZC_STATE, ZC_WORDS, ZC_SYM, NZCOLS };
static const emit_col size_cols[NZCOLS] = {
    [ZC_ADDR] = {NULL, 18, 0, ""},
    [ZC_SIZE] = {"chunk_size", 10, 0, " "},
    [ZC_STATE] = {"kind", 7, EMIT_LEFT, " "},
    [ZC_WORDS] = {NULL, 0, EMIT_LEFT, "  "},
    [ZC_SYM] = {NULL, 0, EMIT_LEFT, "  "},
};

/* Collected while the process is stopped; named and printed after. */
static int size_cb(void *arg, const gh_chunk *c)
{
    size_acc *s = arg;
    if ((c->state != GH_BUSY && c->state != GH_MMAPPED) || c->usable != s->usable)
        return 0;
    if (s->max && s->n >= s->max)
        return 1;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        blk *nb = realloc(s->b, nc * sizeof *nb);
        if (!nb) {
            s->oom = 1;
            return 1;
        }
        s->b = nb;
        s->cap = nc;
    }
    blk *b = &s->b[s->n++];
    memset(b, 0, sizeof *b);
    b->mem = c->mem;
    b->size = c->size;
    b->state = c->state;
    size_t nw = c->usable / 8 < NWORDS ? c->usable / 8 : NWORDS;
    b->nw = pim_read(s->p, c->mem, b->w, nw * 8) / 8;
    return 0;
}

static void size_row(emitter *e, pim *p, sym_ctx *sc, const blk *b)
{
    char addr[24], words[NWORDS * 20], sym[512];
    snprintf(addr, sizeof addr, "0x%" PRIx64, b->mem);
    int o = 0;
    words[0] = 0;
    for (size_t i = 0; i < b->nw; i++)
        o += snprintf(words + o, sizeof words - (size_t)o, "%s%016" PRIx64, i ? " " : "", b->w[i]);
    sym[0] = 0;
    const char *symname = NULL;
    uint64_t symoff = 0;
    if (b->nw && sc && pim_module_at(p, b->w[0])) {
        sym_info si;
        sym_lookup(sc, b->w[0], 0, &si);
        if (si.symbol) {
            symname = si.symbol;
            symoff = si.symoff;
            snprintf(sym, sizeof sym, "%s!%s+%" PRIu64, si.module ? si.module : "?", si.symbol,
                     si.symoff);
        }
    }
    emit_row_begin(e);
    emit_col_text(e, ZC_ADDR, addr);
    emit_col_u64(e, ZC_SIZE, b->size);
    emit_col_str(e, ZC_STATE, b->state == GH_MMAPPED ? "mmapped" : "busy");
    emit_col_text(e, ZC_WORDS, words);
    emit_col_str(e, ZC_SYM, sym);
    emit_kv_hex(e, "address", b->mem);
    emit_arr_begin(e, "words");
    for (size_t i = 0; i < b->nw; i++)
        emit_kv_hex(e, NULL, b->w[i]);
    emit_arr_end(e);
    if (symname) {
        emit_obj_begin(e, "first_word_symbol");
        emit_kv_str(e, "symbol", symname);
        emit_kv_u64(e, "offset", symoff);
        emit_obj_end(e);
    } else
        emit_kv_null(e, "first_word_symbol");
    emit_row_end(e);
}

static int do_size(emitter *e, pim *p, gh_heap *h, uint64_t usable, uint64_t max)
{
    size_acc s = {.p = p, .usable = usable, .max = max};
    int stopped = gh_walk(h, size_cb, &s);
    pim_resume(p);
    if (s.oom) {
        free(s.b);
        cli_err(VERB, "out of memory");
        return PT_EXIT_USAGE;
    }
    sym_ctx *sc = pim_symbols(p, 0);
    emit_text(e, "Busy blocks of usable size %" PRIu64 ":\n", usable);
    emit_kv_u64(e, "usable_size", usable);
    emit_text(e, "%18s %10s %-7s  %s\n", "Address", "Chunk", "Kind", "First words");
    emit_table_begin(e, size_cols, NZCOLS);
    emit_arr_begin(e, "blocks");
    for (size_t i = 0; i < s.n; i++)
        size_row(e, p, sc, &s.b[i]);
    emit_arr_end(e);
    emit_kv_bool(e, "truncated", stopped != 0);
    if (stopped)
        emit_text(e, "(more blocks: --max 0 shows all)\n");
    emit_text(e, "%zu block%s shown\n", s.n, s.n == 1 ? "" : "s");
    sym_free(sc);
    free(s.b);
    return PT_EXIT_OK;
}

int cmd_heap(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},      {"stat", no_argument, NULL, 's'},
        {"top", required_argument, NULL, 't'}, {"size", required_argument, NULL, 'z'},
        {"max", required_argument, NULL, 'm'}, {"no-stop", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    int json = 0, stat = 0, have_size = 0, nostop = 0, have_top = 0, have_max = 0, c;
    uint64_t top = 20, size = 0, max = 100;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 's': stat = 1; break;
        case 'n': nostop = 1; break;
        case 't':
        case 'z':
        case 'm': {
            uint64_t v;
            if (cli_parse_u64(optarg, &v) < 0) {
                cli_err(VERB, "bad number '%s' for --%s", cli_esc(optarg),
                        c == 't' ? "top" : c == 'z' ? "size" : "max");
                return PT_EXIT_USAGE;
            }
            if (c == 't')
                top = v, have_top = 1;
            else if (c == 'z')
                size = v, have_size = 1;
            else
                max = v, have_max = 1;
            break;
        }
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_err(VERB, optind >= argc ? "missing SOURCE: give a PID or a core file "
                                       "(see pooltag heap --help)"
                                     : "too many arguments (see pooltag heap --help)");
        return PT_EXIT_USAGE;
    }
    if (stat && have_size) {
        cli_err(VERB, "--stat and --size are separate views: give one");
        return PT_EXIT_USAGE;
    }
    if ((have_top && !stat) || (have_max && !have_size)) {
        cli_err(VERB, have_top ? "--top goes with --stat" : "--max goes with --size");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    char err[512];
    pim *p;
    if (pim_open(spec, nostop ? 0 : PIM_STOP, &p, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        return PT_EXIT_USAGE;
    }
    gh_heap *h = NULL;
    int tagged = pim_segment(p, &(const pim_region *){NULL}) == 0;
    if (gh_open(p, &h, err, sizeof err) < 0 && (!tagged || stat || have_size)) {
        pim_close(p);
        cli_err(VERB, "%s", err);
        return PT_EXIT_USAGE;
    }
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_begin(&e);
    emit_text(&e, "*** Heaps of %s", p->source);
    if (p->comm[0])
        emit_text(&e, " (%s)", cli_esc(p->comm));
    if (h)
        emit_text(&e, " ***  glibc malloc, main_arena found by %s\n", gh_found_by(h));
    else
        emit_text(&e, " ***\n");
    emit_source_proc_kind(&e, p->kind == PIM_CORE ? "core" : "live", spec, p->pid, p->comm,
                          p->exe);
    emit_kv_str(&e, "found_by", h ? gh_found_by(h) : NULL);
    int status = PT_EXIT_OK;
    if (stat)
        status = do_stat(&e, p, h, top);
    else if (have_size)
        status = do_size(&e, p, h, size, max);
    else if (pim_resume(p), summary(&e, p, h, spec))
        status = PT_EXIT_FINDING;
    pim_resume(p);
    if (p->kind == PIM_LIVE && !nostop) {
        emit_text(&e, "(process stopped for %.3f ms)\n", (double)p->stopped_ns / 1e6);
        emit_kv_u64(&e, "stopped_ns", p->stopped_ns);
    }
    int gone = pim_gone(p);
    emit_end(&e);
    gh_close(h);
    uint32_t pid = p->pid;
    pim_close(p);
    if (gone) {
        cli_err(VERB, "process %" PRIu32 " exited during the scan", pid);
        return PT_EXIT_USAGE;
    }
    if (fflush(stdout) != 0)
        return PT_EXIT_USAGE;
    return status;
}
