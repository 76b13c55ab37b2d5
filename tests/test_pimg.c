/*
 * test_pimg — compares a pim read live with one read from a core of the
 * same process (tests/core.cmake):
 *
 *   test_pimg PID CORE
 *   test_pimg CORE          (a summary of one source, for a process gone)
 *
 * The process must stand still (tests/core_fx.c waits in pause()).  The
 * PID is opened with PIM_STOP.  Checked: every region of the core with
 * bytes is a region of the process with the same bounds and protection,
 * and its bytes are the process's (but for the threads' rseq areas, which
 * the kernel updates); every file region the process maps that the core
 * names carries the same path and file offset; the segment is the same
 * region; the threads are the same tids, main thread first,
 * with the same stack pointer, program counter and fs_base; the modules
 * are the same files at the same base with the same build-id; pid, comm
 * and exe agree.  Prints one line per difference and exits 1 if any,
 * else prints a summary and exits 0.
 */
#include "pimg.h"

#include <inttypes.h>
#include <stddef.h>
#include <sys/rseq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("DIFF: " __VA_ARGS__);                                     \
            printf("\n");                                                     \
            bad++;                                                            \
        }                                                                     \
    } while (0)

/* The kernel writes each thread's rseq area (glibc registers one at
 * fs_base + __rseq_offset) whenever the thread runs on another CPU, so
 * those bytes may change between the core and the live read. */
static int in_rseq(const pim *p, uint64_t addr)
{
    for (size_t i = 0; i < p->nthreads; i++) {
        uint64_t a = p->threads[i].fs_base + (uint64_t)__rseq_offset;
        if (__rseq_size && addr >= a && addr < a + 32)
            return 1;
    }
    return 0;
}

static const pim_thread *thread_of(const pim *p, uint32_t tid)
{
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].tid == tid)
            return &p->threads[i];
    return NULL;
}

static const pim_module *module_of(const pim *p, const char *path)
{
    for (size_t i = 0; i < p->nmodules; i++)
        if (strcmp(p->modules[i].path, path) == 0)
            return &p->modules[i];
    return NULL;
}

/* One source's summary: "pid P comm C exe E", "threads N with-registers
 * R stacks-dumped S", "segment found|none avail A size Z", "modules N
 * with-build-id B", one "module PATH BUILDID" line each. */
static int summary(const char *spec)
{
    char err[512];
    pim *p;
    if (pim_open(spec, 0, &p, err, sizeof err) < 0) {
        fprintf(stderr, "test_pimg: %s\n", err);
        return 2;
    }
    size_t regs = 0, stacks = 0, bids = 0;
    for (size_t i = 0; i < p->nthreads; i++) {
        const pim_thread *t = &p->threads[i];
        regs += t->have_regs == 1;
        uint64_t w;
        stacks += t->have_regs == 1 && pim_word(p, t->sp, &w) == 0;
    }
    const pim_region *s = NULL;
    pim_segment(p, &s);
    printf("pid %u comm %s exe %s\n", p->pid, p->comm, p->exe);
    printf("threads %zu with-registers %zu stacks-dumped %zu\n", p->nthreads, regs, stacks);
    printf("segment %s avail %" PRIu64 " size %" PRIu64 "\n", s ? "found" : "none",
           s ? s->avail : 0, s ? s->end - s->start : 0);
    for (size_t i = 0; i < p->nmodules; i++)
        bids += p->modules[i].build_id_len > 0;
    printf("modules %zu with-build-id %zu\n", p->nmodules, bids);
    for (size_t i = 0; i < p->nmodules; i++) {
        printf("module %s ", p->modules[i].path);
        for (size_t k = 0; k < p->modules[i].build_id_len; k++)
            printf("%02x", p->modules[i].build_id[k]);
        printf("\n");
    }
    pim_close(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2)
        return summary(argv[1]);
    if (argc != 3) {
        fprintf(stderr, "usage: test_pimg PID CORE | test_pimg SOURCE\n");
        return 2;
    }
    char err[512];
    pim *live, *core;
    if (pim_open(argv[1], PIM_STOP, &live, err, sizeof err) < 0) {
        fprintf(stderr, "test_pimg: %s\n", err);
        return 2;
    }
    if (pim_open(argv[2], 0, &core, err, sizeof err) < 0) {
        fprintf(stderr, "test_pimg: %s\n", err);
        return 2;
    }
    CHECK(core->kind == PIM_CORE, "kind %d", core->kind);
    CHECK(core->pid == live->pid, "pid %u vs %u", core->pid, live->pid);
    CHECK(strcmp(core->comm, live->comm) == 0, "comm '%s' vs '%s'", core->comm, live->comm);
    CHECK(strcmp(core->exe, live->exe) == 0, "exe '%s' vs '%s'", core->exe, live->exe);

    /* Regions and bytes. */
    size_t compared = 0, with_bytes = 0;
    uint64_t bytes = 0;
    static uint8_t buf[1 << 16];
    for (size_t i = 0; i < core->nregions; i++) {
        const pim_region *c = &core->regions[i];
        const pim_region *l = pim_region_at(live, c->start);
        CHECK(l != NULL, "core region %#" PRIx64 "-%#" PRIx64 " is not mapped live", c->start,
              c->end);
        if (!l)
            continue;
        compared++;
        CHECK(l->start == c->start && l->end == c->end,
              "region %#" PRIx64 "-%#" PRIx64 " is %#" PRIx64 "-%#" PRIx64 " live", c->start,
              c->end, l->start, l->end);
        /* gdb writes PF_R for inaccessible (guard) and execute-only
         * mappings ([vsyscall]): protections are compared where the
         * process can read. */
        if (!(c->flags & PIM_RF_NOPHDR) && (l->prot & PIM_R))
            CHECK(l->prot == c->prot, "region %#" PRIx64 ": prot %x vs %x live", c->start,
                  c->prot, l->prot);
        if (c->path[0] && (l->flags & PIM_RF_FILE)) {
            CHECK(strcmp(c->path, l->path) == 0, "region %#" PRIx64 ": path '%s' vs '%s'",
                  c->start, c->path, l->path);
            CHECK(c->offset == l->offset, "region %#" PRIx64 ": offset %#" PRIx64
                  " vs %#" PRIx64, c->start, c->offset, l->offset);
            CHECK(c->flags & PIM_RF_FILE, "region %#" PRIx64 " not flagged a file", c->start);
        }
        CHECK(!(c->flags & PIM_RF_SEGMENT) == !(l->flags & PIM_RF_SEGMENT),
              "region %#" PRIx64 ": segment flag %x vs %x", c->start, c->flags, l->flags);
        CHECK(c->avail <= c->end - c->start, "region %#" PRIx64 ": avail too large", c->start);
        if (!c->avail || !l->avail)
            continue;
        with_bytes++;
        for (uint64_t off = 0; off < c->avail; off += sizeof buf) {
            size_t n = c->avail - off < sizeof buf ? (size_t)(c->avail - off) : sizeof buf;
            size_t got = 0;
            const uint8_t *cb = pim_bytes(core, c, off, n, NULL, &got);
            CHECK(cb && got == n, "region %#" PRIx64 ": pim_bytes gave %zu of %zu", c->start,
                  got, n);
            if (!cb || got != n)
                break;
            if (pim_read(live, c->start + off, buf, n) != n)
                break; /* [vvar] and the like */
            if (memcmp(cb, buf, n) != 0) {
                size_t k = 0;
                while (k < n && (cb[k] == buf[k] || in_rseq(core, c->start + off + k)))
                    k++;
                if (k < n) {
                    CHECK(0, "bytes differ at %#" PRIx64 " (region %#" PRIx64 "-%#" PRIx64
                          " %s)", c->start + off + k, c->start, c->end, c->path);
                    break;
                }
            }
            bytes += n;
        }
    }
    const pim_region *cs = NULL, *ls = NULL;
    pim_segment(core, &cs);
    pim_segment(live, &ls);
    CHECK((cs && ls && cs->start == ls->start) || (!cs && !ls), "segment %#" PRIx64
          " vs %#" PRIx64, cs ? cs->start : 0, ls ? ls->start : 0);

    /* Threads. */
    CHECK(core->nthreads == live->nthreads, "%zu threads vs %zu", core->nthreads,
          live->nthreads);
    CHECK(core->nthreads && core->threads[0].tid == core->pid, "main thread not first");
    for (size_t i = 0; i < core->nthreads; i++) {
        const pim_thread *c = &core->threads[i], *l = thread_of(live, c->tid);
        CHECK(l != NULL, "thread %u not live", c->tid);
        if (!l)
            continue;
        CHECK(c->have_regs == 1 && l->have_regs == 1, "thread %u: registers %d %d", c->tid,
              c->have_regs, l->have_regs);
        CHECK(c->sp == l->sp, "thread %u: sp %#" PRIx64 " vs %#" PRIx64, c->tid, c->sp, l->sp);
        CHECK(c->pc == l->pc, "thread %u: pc %#" PRIx64 " vs %#" PRIx64, c->tid, c->pc, l->pc);
        CHECK(c->fs_base == l->fs_base, "thread %u: fs_base %#" PRIx64 " vs %#" PRIx64, c->tid,
              c->fs_base, l->fs_base);
        CHECK(c->sp >= c->fs_base || pim_region_at(core, c->sp), "thread %u: sp unmapped",
              c->tid);
    }

    /* Modules. */
    CHECK(core->nmodules == live->nmodules, "%zu modules vs %zu", core->nmodules,
          live->nmodules);
    for (size_t i = 0; i < live->nmodules; i++) {
        const pim_module *l = &live->modules[i], *c = module_of(core, l->path);
        CHECK(c != NULL, "module %s missing from the core", l->path);
        if (!c)
            continue;
        CHECK(c->base == l->base && c->start == l->start && c->end == l->end,
              "module %s: %#" PRIx64 "-%#" PRIx64 " base %#" PRIx64 " vs %#" PRIx64
              "-%#" PRIx64 " base %#" PRIx64, l->path, c->start, c->end, c->base, l->start,
              l->end, l->base);
        CHECK(c->build_id_len == l->build_id_len && c->build_id_len &&
                  memcmp(c->build_id, l->build_id, c->build_id_len) == 0,
              "module %s: build-id differs or is missing (%zu, %zu bytes)", l->path,
              c->build_id_len, l->build_id_len);
    }
    printf("%zu core regions (%zu with bytes, %" PRIu64 " bytes equal), %zu threads, "
           "%zu modules, segment %s\n", compared, with_bytes, bytes, core->nthreads,
           core->nmodules, cs ? "found" : "none");
    pim_close(core);
    pim_close(live);
    return bad ? 1 : 0;
}
