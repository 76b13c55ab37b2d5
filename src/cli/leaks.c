/*
 * leaks.c — `pooltag leaks SOURCE` (libumem's ::findleaks): the heap
 * blocks of a live process (stopped for the scan) or a core that no root
 * reaches, grouped by tag and call site in a tagged process, by size and
 * first word otherwise.  The scan is src/lib/leakscan.c.
 */
#include "verbs.h"
#include "emit.h"
#include "fmt.h"
#include "leakscan.h"
#include "pimsym.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "leaks";

static void usage(FILE *f)
{
    fputs("Usage: pooltag leaks [--json] [--all | --max N] [--fail-on-leak] SOURCE\n"
          "\n"
          "Heap blocks that nothing reaches, like libumem's ::findleaks: a\n"
          "conservative scan from outside the process.  SOURCE is a PID (every\n"
          "thread is stopped with ptrace for the scan and resumed right after;\n"
          "the pause is reported) or a core file.  Any Linux process that uses\n"
          "glibc's malloc, tagged or not.\n"
          "\n"
          "Blocks: glibc's busy chunks and, in a tagged process, pooltag's live\n"
          "blocks (recognised by their header).  Roots: every writable mapping\n"
          "that holds no block (modules' data and bss, TLS, memory the program\n"
          "mapped itself), each thread's stack from its stack pointer, and its\n"
          "registers; never the pooltag segment.  A word that points into a\n"
          "block (interior pointers count) marks it; marking is transitive.\n"
          "\n"
          "Unreachable blocks are grouped by tag and call site in a tagged\n"
          "process, else by size and first word (a first word pointing into a\n"
          "module is named: \"vtable for Session+16\"), sorted by bytes, each\n"
          "group with one example address (for `search` and `heap --size`).\n"
          "\n"
          "  --json          the same as JSON\n"
          "  --all           also list every leaked block\n"
          "  --max N         also list up to N leaked blocks\n"
          "  --fail-on-leak  exit status 1 when a block is leaked\n"
          "  -h, --help      this text\n"
          "\n"
          "Exit status 0 ok (1 with --fail-on-leak when a block is leaked),\n"
          "2 usage or input error.\n",
          f);
}

typedef struct group {
    uint32_t tag;
    int tagged;
    uint64_t site;        /* tagged: site address                       */
    uint64_t size;        /* untagged: the size                         */
    uint64_t word;        /* untagged: the first word if it points into
                             a module, else 0                           */
    uint64_t blocks, bytes;
    uint64_t example;
    int mixed;            /* tagged: blocks of several sizes            */
} group;

typedef struct ctx {
    pim *p;
    const lk_result *r;
    sym_ctx *sym;
} ctx;

static uint64_t block_word(const pim *p, const lk_block *b)
{
    return b->size >= 8 && pim_module_at(p, b->first) ? b->first : 0;
}

static int key_cmp(const lk_block *a, uint64_t wa, const lk_block *b, uint64_t wb)
{
    if (a->tagged != b->tagged)
        return a->tagged ? -1 : 1;
    if (a->tagged) {
        if (a->tag != b->tag)
            return a->tag < b->tag ? -1 : 1;
        if (a->site_addr != b->site_addr)
            return a->site_addr < b->site_addr ? -1 : 1;
        return 0;
    }
    if (a->size != b->size)
        return a->size < b->size ? -1 : 1;
    if (wa != wb)
        return wa < wb ? -1 : 1;
    return 0;
}

typedef struct leak_ref {
    const lk_block *b;
    uint64_t word;        /* block_word, computed once */
} leak_ref;

static int idx_cmp(const void *x, const void *y)
{
    const leak_ref *la = x, *lb = y;
    const lk_block *a = la->b, *b = lb->b;
    int c = key_cmp(a, la->word, b, lb->word);
    if (c)
        return c;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int group_cmp(const void *x, const void *y)
{
    const group *a = x, *b = y;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->blocks != b->blocks)
        return a->blocks > b->blocks ? -1 : 1;
    return a->example < b->example ? -1 : a->example > b->example;
}

/* "module!symbol+0xoff" (demangled), or NULL when nothing names addr. */
static const char *name_addr(sym_ctx *sym, uint64_t addr, int ret, char *buf, size_t size)
{
    if (!sym)
        return NULL;
    sym_info si;
    sym_lookup(sym, addr, ret, &si);
    if (!si.module)
        return NULL;
    char dm[512];
    const char *s = si.symbol ? lk_demangle(si.symbol, dm, sizeof dm) : NULL;
    if (!s)
        s = si.symbol;
    if (s && si.symoff)
        snprintf(buf, size, "%s!%s+%" PRIu64, si.module, s, si.symoff);
    else if (s)
        snprintf(buf, size, "%s!%s", si.module, s);
    else
        snprintf(buf, size, "%s+0x%" PRIx64, si.module, si.modoff);
    return buf;
}

enum { GC_BLOCKS, GC_BYTES, GC_SIZE, GC_EXAMPLE, GC_WHAT, NGCOLS };
static const emit_col gcols[NGCOLS] = {
    [GC_BLOCKS] = {"blocks", 8, 0, ""},
    [GC_BYTES] = {"bytes", 12, 0, " "},
    [GC_SIZE] = {NULL, 9, 0, " "},       /* JSON: "size" (null: mixed) */
    [GC_EXAMPLE] = {"example", 18, 0, "  "},
    [GC_WHAT] = {NULL, 0, EMIT_LEFT, "  "},
};

static void emit_group(emitter *e, const ctx *c, const group *g)
{
    char ex[24], sz[24], what[1200], nm[1024], tagbuf[PT_TAG_TEXT_MAX];
    const char *name = NULL;
    snprintf(ex, sizeof ex, "0x%" PRIx64, g->example);
    if (g->tagged) {
        name = g->site ? name_addr(c->sym, g->site, 1, nm, sizeof nm) : "other sites";
        snprintf(what, sizeof what, "tag %s  site %s", cli_esc(cli_tag(g->tag, tagbuf)),
                 name ? cli_esc(name) : "?");
        if (g->site && !name)
            snprintf(what, sizeof what, "tag %s  site 0x%" PRIx64, cli_esc(cli_tag(g->tag, tagbuf)),
                     g->site);
    } else if (g->word) {
        name = name_addr(c->sym, g->word, 0, nm, sizeof nm);
        snprintf(what, sizeof what, "first word 0x%" PRIx64 " %s", g->word,
                 name ? cli_esc(name) : "");
    } else
        snprintf(what, sizeof what, "-");
    if (g->mixed)
        snprintf(sz, sizeof sz, "mixed");
    else
        snprintf(sz, sizeof sz, "%" PRIu64, g->size);
    emit_row_begin(e);
    emit_col_u64(e, GC_BLOCKS, g->blocks);
    emit_col_u64(e, GC_BYTES, g->bytes);
    emit_col_text(e, GC_SIZE, sz);
    emit_col_str(e, GC_EXAMPLE, ex);
    emit_col_text(e, GC_WHAT, what);
    if (emit_json(e)) {
        emit_kv_hex(e, "example", g->example);
        if (g->mixed)
            emit_kv_null(e, "size");
        else
            emit_kv_u64(e, "size", g->size);
        if (g->tagged) {
            emit_kv_tag(e, "tag", g->tag);
            if (g->site)
                emit_kv_hex(e, "site", g->site);
            else
                emit_kv_null(e, "site");
        } else {
            emit_kv_null(e, "tag");
            emit_kv_null(e, "site");
        }
        if (!g->tagged && g->word)
            emit_kv_hex(e, "first_word", g->word);
        else
            emit_kv_null(e, "first_word");
        emit_kv_str(e, "name", name && strcmp(name, "other sites") ? name : NULL);
    }
    emit_row_end(e);
}

static int report(emitter *e, const ctx *c, const char *spec, uint64_t max_list)
{
    const lk_result *r = c->r;
    const pim *p = c->p;
    leak_ref *idx = malloc((r->nleaked + 1) * sizeof *idx);
    group *gs = calloc(r->nleaked + 1, sizeof *gs);
    if (!idx || !gs) {
        free(idx);
        free(gs);
        cli_err(VERB, "out of memory");
        return PT_EXIT_USAGE;
    }
    size_t n = 0, ng = 0;
    for (size_t i = 0; i < r->nblocks; i++)
        if (!r->blocks[i].reached) {
            idx[n].b = &r->blocks[i];
            idx[n++].word = block_word(p, &r->blocks[i]);
        }
    qsort(idx, n, sizeof *idx, idx_cmp);
    for (size_t i = 0; i < n; i++) {
        const lk_block *b = idx[i].b;
        uint64_t w = idx[i].word;
        if (i == 0 || key_cmp(idx[i - 1].b, idx[i - 1].word, b, w)) {
            group *g = &gs[ng++];
            g->tagged = b->tagged;
            g->tag = b->tag;
            g->site = b->site_addr;
            g->size = b->size;
            g->word = b->tagged ? 0 : w;
            g->example = b->addr;
        }
        group *g = &gs[ng - 1];
        g->blocks++;
        g->bytes += b->size;
        if (b->size != g->size)
            g->mixed = 1;
    }
    qsort(gs, ng, sizeof *gs, group_cmp);

    char b1[32], b2[32], b3[32], t[32];
    emit_begin(e);
    emit_source_proc_kind(e, p->kind == PIM_LIVE ? "live" : "core", spec, p->pid, p->comm,
                          p->exe[0] ? p->exe : NULL);
    fmt_bytes((double)r->block_bytes, b1, sizeof b1);
    fmt_bytes((double)r->read_bytes, b2, sizeof b2);
    fmt_bytes((double)r->leaked_bytes, b3, sizeof b3);
    if (p->kind == PIM_LIVE)
        emit_text(e, "process %u (%s)", (unsigned)p->pid, cli_esc(p->comm));
    else
        emit_text(e, "core %s (%s)", cli_esc(spec), cli_esc(p->comm));
    emit_text(e, ": %zu heap blocks (%s)%s%s\n", r->nblocks, b1,
              r->tagged ? ", tagged" : "", r->glibc ? "" : ", no glibc heap");
    snprintf(t, sizeof t, "%.1f ms", (double)r->scan_ns / 1e6);
    emit_text(e, "read %s in %s (%.0f MB/s): %zu root region%s, registers of %zu thread%s", b2, t,
              r->scan_ns ? (double)r->read_bytes * 1e3 / (double)r->scan_ns : 0.0,
              r->root_regions, r->root_regions == 1 ? "" : "s", r->nthreads_regs,
              r->nthreads_regs == 1 ? "" : "s");
    if (p->kind == PIM_LIVE)
        emit_text(e, "; stopped %.1f ms", (double)p->stopped_ns / 1e6);
    emit_text(e, "\n");
    /* A tagged process under the preload may never use glibc's malloc. */
    if (r->glibc_note[0] && (r->glibc || !r->tagged))
        emit_text(e, "note: %s%s\n", r->nblocks ? "" : "no blocks to check: ",
                  cli_esc(r->glibc_note));
    if (r->root_unread) {
        fmt_bytes((double)r->root_unread, t, sizeof t);
        emit_text(e, "note: %s of root regions not in the core (not scanned)\n", t);
    }
    if (r->nthreads_noregs)
        emit_text(e, "note: %zu threads without registers (their stacks scanned whole)\n",
                  r->nthreads_noregs);
    emit_text(e, "\nleaked: %zu block%s, %s in %zu group%s\n", r->nleaked,
              r->nleaked == 1 ? "" : "s", b3, ng, ng == 1 ? "" : "s");
    emit_kv_u64(e, "blocks", r->nblocks);
    emit_kv_u64(e, "block_bytes", r->block_bytes);
    emit_kv_u64(e, "leaked_blocks", r->nleaked);
    emit_kv_u64(e, "leaked_bytes", r->leaked_bytes);
    emit_kv_bool(e, "tagged", r->tagged);
    emit_kv_bool(e, "glibc", r->glibc);
    emit_kv_str(e, "note", r->glibc_note[0] ? r->glibc_note : NULL);
    emit_kv_u64(e, "root_regions", r->root_regions);
    emit_kv_u64(e, "root_bytes", r->root_bytes);
    emit_kv_u64(e, "root_unread_bytes", r->root_unread);
    emit_kv_u64(e, "heap_bytes", r->heap_bytes);
    emit_kv_u64(e, "read_bytes", r->read_bytes);
    emit_kv_u64(e, "scan_ns", r->scan_ns);
    if (p->kind == PIM_LIVE)
        emit_kv_u64(e, "stopped_ns", p->stopped_ns);
    else
        emit_kv_null(e, "stopped_ns");
    if (ng) {
        emit_text(e, "\n  Blocks        Bytes      Size             Example  What\n");
    }
    emit_table_begin(e, gcols, NGCOLS);
    emit_arr_begin(e, "groups");
    for (size_t i = 0; i < ng; i++)
        emit_group(e, c, &gs[i]);
    emit_arr_end(e);
    if (max_list) {
        emit_arr_begin(e, "leaked");
        if (n)
            emit_text(e, "\n  Address             Size  Tag\n");
        size_t shown = 0;
        /* In address order. */
        for (size_t i = 0; i < r->nblocks && shown < max_list; i++) {
            const lk_block *b = &r->blocks[i];
            if (b->reached)
                continue;
            shown++;
            char tb[PT_TAG_TEXT_MAX];
            if (emit_json(e)) {
                emit_obj_begin(e, NULL);
                emit_kv_hex(e, "address", b->addr);
                emit_kv_u64(e, "size", b->size);
                if (b->tagged)
                    emit_kv_tag(e, "tag", b->tag);
                else
                    emit_kv_null(e, "tag");
                emit_obj_end(e);
            } else
                emit_text(e, "  0x%-16" PRIx64 " %6" PRIu64 "  %s\n", b->addr, b->size,
                          b->tagged ? cli_esc(cli_tag(b->tag, tb)) : "-");
        }
        if (shown < n)
            emit_text(e, "  ... %zu more (--all)\n", n - shown);
        emit_arr_end(e);
    }
    emit_end(e);
    free(idx);
    free(gs);
    return PT_EXIT_OK;
}

int cmd_leaks(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        {"max", required_argument, NULL, 'm'},
        {"fail-on-leak", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, fail_on_leak = 0, c;
    uint64_t max_list = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'a': max_list = UINT64_MAX; break;
        case 'm':
            if (cli_parse_u64(optarg, &max_list) < 0) {
                cli_err(VERB, "--max wants a count, not '%s'", optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'f': fail_on_leak = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        if (argc - optind)
            cli_err(VERB, "one SOURCE, not %d arguments (see --help)", argc - optind);
        else
            cli_err(VERB, "a SOURCE is needed (a PID or a core file; see --help)");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    char err[512];
    pim *p;
    if (pim_open(spec, PIM_STOP, &p, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        return PT_EXIT_USAGE;
    }
    lk_result *r;
    int rc = lk_scan(p, &r, err, sizeof err);
    pim_resume(p);
    if (rc < 0) {
        cli_err(VERB, "%s", err);
        pim_close(p);
        return PT_EXIT_USAGE;
    }
    ctx cx = {p, r, pim_symbols(p, 0)};
    if (cx.sym)
        pim_symbols_warn(cx.sym, VERB);
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    rc = report(&e, &cx, spec, max_list);
    if (cx.sym)
        sym_free(cx.sym);
    size_t leaked = r->nleaked;
    lk_free(r);
    pim_close(p);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_err(VERB, "cannot write the report");
        return PT_EXIT_USAGE;
    }
    if (rc == PT_EXIT_OK && fail_on_leak && leaked)
        return PT_EXIT_FINDING;
    return rc;
}
