/*
 * plexit.c — the preload's remaining entry points: heap totals for
 * mallinfo, libc lookups, dlclose, start-up and the exit report.
 *
 * None of them allocates (the exit report formats into stack buffers);
 * none takes a lock.
 */
#define _GNU_SOURCE
#include "plrt.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "segsum.h"

/* mallinfo & co (src/preload/mallinfo.c): the bytes the program has asked
 * for and not freed, and its live blocks, over every tag and both pools
 * (pooltag's counters; no header or backend rounding).  Returns the
 * backend, or -1 before the runtime is ready. */
__attribute__((visibility("default"))) int pt__pl_heap(uint64_t *in_use, uint64_t *blocks)
{
    *in_use = *blocks = 0;
    if (!ready())
        return -1;
    pt_seg_header *h = pt__seg;
    uint32_t hw = __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE);
    uint64_t b = 0, n = 0;
    for (uint32_t i = 0; i <= ovfl_idx; i++) {
        if (!__atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE))
            continue;
        pt_tag_info t;
        pt_seg_sum_entry(seg_base, h, hw, i, &t);
        for (unsigned p = 0; p < PT_POOL_COUNT; p++) {
            b += t.pool[p].bytes_alloc - t.pool[p].bytes_freed;
            n += t.pool[p].allocs - t.pool[p].frees;
        }
    }
    *in_use = b;
    *blocks = n;
    return backend;
}

/* A function of libc.so.6 itself (glibc's mallinfo2, malloc_trim...), or
 * NULL. */
__attribute__((visibility("default"))) void *pt__pl_libc_sym(const char *name)
{
    pt_tls *t = &tls;
    uint32_t was = t->busy;
    t->busy = 1; /* dlsym may allocate */
    void *f = NULL, *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (h) {
        f = dlsym(h, name);
        dlclose(h);
    }
    t->busy = was;
    return f;
}


/* After every dlclose of the program: modules that are gone are flagged
 * unloaded and stop matching (tags, PT_BEHALF API ranges, the per-thread
 * caches), so code loaded later at the same address is charged to itself. */
__attribute__((visibility("default"))) void pt__pl_dlclosed(void)
{
    if (ready())
        pt__mod_prune();
}

__attribute__((visibility("default"))) void pt__pl_init(void)
{
    pt_tls *t = &tls;
    if (!ready()) {
        t->busy = 1;
        ensure_init();
        t->busy = 0;
    }
    /* Called from the preload's constructor: load the unwinder now rather
     * than inside some later malloc (see stack_walk). */
    if (pt__mod_have_wrappers || pt__mod_have_behalf)
        pt__stack_walk_load();
}

/* Write the counters to a file at exit (PT_EXIT_REPORT): one line per tag
 * and pool with any activity, "TAG\tPOOL\tALLOCS\tFREES\tBYTES_ALLOC\t
 * BYTES_FREED" (the SUM counters of counters.def, in its order), without
 * allocating. */
static pt_tag_info exit_rows[4096];

static void exit_report(const char *pattern)
{
    if (!ready() || !pattern || !*pattern)
        return;
    char path[512];
    pt_buf pb = {path, 0, sizeof path};
    for (const char *c = pattern; *c; c++) {
        if (c[0] == '%' && c[1] == 'p') {
            pt__bputu(&pb, (uint64_t)getpid());
            c++;
        } else {
            char one[2] = {*c, 0};
            pt__bputs(&pb, one);
        }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    size_t n = pt_tags_read(exit_rows, sizeof exit_rows / sizeof exit_rows[0]);
    if (n > sizeof exit_rows / sizeof exit_rows[0])
        n = sizeof exit_rows / sizeof exit_rows[0];
    for (size_t i = 0; i < n; i++) {
        for (unsigned pool = 0; pool < PT_POOL_COUNT; pool++) {
            const pt_counts *c = &exit_rows[i].pool[pool];
            if (!c->allocs && !c->frees)
                continue;
            char line[256];
            pt_buf b = {line, 0, sizeof line};
            char tt[PT_TAG_TEXT_MAX];
            pt__bputs(&b, pt_tag_text(exit_rows[i].tag, tt));
            pt__bputs(&b, pool ? "\tnonpaged\t" : "\tpaged\t");
            const char *sep = "";
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help)                                                       \
    pt__bputs(&b, sep);                                                                  \
    pt__bputu(&b, c->name);                                                              \
    sep = "\t";
#include "counters.def"
            pt__bputs(&b, "\n");
            if (write(fd, b.p, b.len) < 0)
                break;
        }
    }
    close(fd);
}


/* The preload's last destructor: the exit report (PT_EXIT_REPORT), then
 * pool tracking's check at exit: the outstanding blocks of every verified
 * module still loaded are reported as leaks (trace.c).  With
 * PT_FAIL_ON_LEAK=1, a leak reported at unload or now ends the process
 * with status 1 (stdio flushed first; the program's own status, whatever
 * it was, is replaced: destructors cannot read it). */
__attribute__((visibility("default"))) void pt__pl_exit_report(const char *pattern)
{
    exit_report(pattern);
    if (!ready())
        return;
    int leaked = pt__tr_exit();
    const char *fail = pt__opt_env(PT_OPT_FAIL_ON_LEAK);
    if (leaked && fail && strcmp(fail, "1") == 0) {
        pt__warn("leaks were reported and PT_FAIL_ON_LEAK=1: exit status 1", NULL);
        fflush(NULL);
        _exit(1);
    }
}
