/*
 * test_unwind_cfi_mt.c — src/runtime/unwind_cfi.c under concurrency
 * (issue 11, unwinder item 6).  8 threads walk through random call chains
 * of 64 generated functions (-O2 -fomit-frame-pointer, frames of 9 sizes,
 * some rbp-based through alloca) with 8 call sites each — 512 return
 * addresses; built with PT_CFI_SLOT_MIX so rule-cache slots collide — while a ninth thread empties the
 * rule cache and runs pt_cfi_forget on an unrelated range in a loop (every
 * walk misses somewhere, misses race with flushes, sweeps and each other).
 * Half the threads share one set of chains, half walk chains of their own.
 * Every walk must give exactly the expected chain: the return addresses the
 * functions record with __builtin_return_address(0).  Phase 2: the ninth
 * thread also drops this program's module (pt_cfi_forget of its text) and
 * registers it again (pt_cfi_scan_modules) in a loop, while walks rescan
 * lazily: a walk may stop early then, but every frame it reports must be
 * right.  Meanwhile the main thread forks 20 times: each child calls
 * pt_cfi_fork_child, then pt_cfi_forget and a walk (lazy registration),
 * and must exit 0 within 20 s (walks of other threads caught in flight at
 * the fork must not make its forget wait forever).  Exit 0 pass, 1 fail.
 */
#define _GNU_SOURCE
#include "unwind_cfi.h"

#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINL __attribute__((noinline))
#define KEEP __asm__ volatile("" ::: "memory")
#define NTHREADS 8
#define WALKS 20000
#define MAXD 24
#define NFN 64
#define NSITE 8

struct walk {
    uint8_t path[MAXD], site[MAXD];
    void *exp[MAXD], *leaf_ra;
    void *frames[64];
    int n;
};
typedef unsigned (*fn_t)(struct walk *, int);
static fn_t fns[NFN];

NOINL static unsigned leaf(struct walk *w)
{
    w->leaf_ra = __builtin_return_address(0);
    w->n = pt_cfi_backtrace(w->frames, 64);
    KEEP;
    return (unsigned)w->n;
}

#define ARM(k) case k: r = fns[w->path[d - 1]](w, d - 1) * (k + 3u); break;
#define FN(i)                                                                    \
    NOINL static unsigned f##i(struct walk *w, int d)                            \
    {                                                                            \
        volatile char pad[16 + 8 * ((i) % 9)];                                   \
        pad[0] = (char)d;                                                        \
        if ((i) % 5 == 0) {                                                      \
            char *a = __builtin_alloca(16 + (size_t)d * 8);                      \
            a[0] = (char)d;                                                      \
            __asm__ volatile("" : : "r"(a) : "memory");                          \
        }                                                                        \
        w->exp[d] = __builtin_return_address(0);                                 \
        unsigned r;                                                              \
        if (d == 0)                                                              \
            r = leaf(w);                                                         \
        else                                                                     \
            switch (w->site[d]) {                                                \
                ARM(0) ARM(1) ARM(2) ARM(3) ARM(4) ARM(5) ARM(6) ARM(7)          \
            default: r = 0;                                                      \
            }                                                                    \
        KEEP;                                                                    \
        return r + (unsigned char)pad[0];                                        \
    }
#define FN8(a) FN(a##0) FN(a##1) FN(a##2) FN(a##3) FN(a##4) FN(a##5) FN(a##6) FN(a##7)
FN8(1) FN8(2) FN8(3) FN8(4) FN8(5) FN8(6) FN8(7) FN8(8)
#define R8(a) f##a##0, f##a##1, f##a##2, f##a##3, f##a##4, f##a##5, f##a##6, f##a##7
static fn_t const all[NFN] = { R8(1), R8(2), R8(3), R8(4), R8(5), R8(6), R8(7), R8(8) };

static uint32_t rnd(uint32_t *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

static volatile int done, phase;
static volatile long cycles; /* phase 2: forget + scan cycles done */
static long bad[NTHREADS], walks[NTHREADS], short_walks[NTHREADS];
static uintptr_t text_lo, text_hi; /* this program's text (phase 2) */
/* every return address seen, to count rule-cache slot collisions */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t seen[4096];
static int nseen;
static void note_seen(void *ra)
{
    pthread_mutex_lock(&seen_mu);
    int found = 0;
    for (int i = 0; i < nseen && !found; i++)
        found = seen[i] == (uintptr_t)ra;
    if (!found && nseen < 4096)
        seen[nseen++] = (uintptr_t)ra;
    pthread_mutex_unlock(&seen_mu);
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint32_t s = id < NTHREADS / 2 ? 777 : 1000u + (uint32_t)id * 7919u; /* shared or own chains */
    for (int it = 0; it < WALKS || (phase == 2 && cycles < 100); it++) {
        if (id < NTHREADS / 2 && it % 64 == 0)
            s = 777 + (uint32_t)(it / 64 % 16); /* 16 shared chain families */
        if (phase == 2 && it % 64 == 0)
            sched_yield(); /* 9 threads on few CPUs: let the forgetter run */
        struct walk w;
        int depth = 1 + (int)(rnd(&s) % MAXD);
        for (int d = 0; d < depth; d++) {
            w.path[d] = (uint8_t)(rnd(&s) % NFN);
            w.site[d] = (uint8_t)(rnd(&s) % NSITE);
        }
        w.n = 0;
        fns[w.path[depth - 1]](&w, depth - 1);
        int ok = w.n >= depth + 2 && w.frames[1] == w.leaf_ra;
        for (int d = 0; ok && d < depth; d++)
            ok = w.frames[2 + d] == w.exp[d];
        if (!ok && phase == 2 && w.n < depth + 2) { /* stopped early: what it has must be right */
            ok = w.n < 2 || w.frames[1] == w.leaf_ra;
            for (int d = 0; ok && 2 + d < w.n; d++)
                ok = w.frames[2 + d] == w.exp[d];
            short_walks[id] += ok;
        }
        walks[id]++;
        if (!ok) {
            if (bad[id]++ < 3 && it < WALKS) {
                printf("FAIL thread %d walk %d depth %d: %d frames (stop: %s)\n", id, it, depth, w.n,
                       pt_cfi_last_stop());
                for (int i = 1; i < w.n && i < depth + 2; i++)
                    printf("  %2d %18p want %18p\n", i, w.frames[i], i == 1 ? w.leaf_ra : w.exp[i - 2]);
            }
        } else if (it < 200) {
            for (int d = 0; d < depth; d++)
                note_seen(w.exp[d]);
        }
    }
    return NULL;
}

static void *flusher(void *arg)
{
    (void)arg;
    long n = 0;
    while (!done) {
        pt_cfi_flush_rules();
        if (++n % 16 == 0)
            pt_cfi_forget(1, 4096); /* no module: epoch bump, drain, sweep */
        if (phase == 2) {
            pt_cfi_forget(text_lo, text_hi);
            sched_yield();
            pt_cfi_scan_modules();
            cycles++;
        }
        sched_yield();
    }
    return NULL;
}

static int text_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + p->p_vaddr;
        if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && (uintptr_t)leaf >= lo
            && (uintptr_t)leaf < lo + p->p_memsz) {
            text_lo = lo;
            text_hi = lo + p->p_memsz;
            return 1;
        }
    }
    return 0;
}

/* Forks while the workers miss: each child must get through a forget. */
static int fork_children = -1;
static int fork_test(void)
{
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        pid_t p = fork();
        if (p == 0) {
            alarm(20);
            pt_cfi_fork_child();
            pt_cfi_forget(text_lo, text_hi);
            /* No pt_cfi_scan_modules here: it takes the loader's lock
             * (dl_iterate_phdr), which the flusher thread may have held at
             * the fork, and then the child waits forever (seen under ASan,
             * 1 child in 20).  The walk registers the module again lazily
             * from /proc/self/maps, without a lock, as the runtime does. */
            void *f[64];
            _exit(pt_cfi_backtrace(f, 64) >= 3 ? 0 : 3);
        }
        int st = -1;
        if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
        else
            printf("FAIL fork child %d: status %#x\n", i, st);
    }
    return ok;
}

static long run_phase(int ph)
{
    phase = ph;
    done = 0;
    cycles = 0;
    memset(bad, 0, sizeof bad);
    memset(walks, 0, sizeof walks);
    memset(short_walks, 0, sizeof short_walks);
    pthread_t t[NTHREADS], fl;
    pthread_create(&fl, NULL, flusher, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    if (ph == 2)
        fork_children = fork_test();
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    done = 1;
    pthread_join(fl, NULL);
    long nb = 0, nw = 0, ns = 0;
    for (int i = 0; i < NTHREADS; i++) {
        nb += bad[i];
        nw += walks[i];
        ns += short_walks[i];
    }
    printf("phase %d: %ld walks on %d threads, %ld wrong, %ld stopped early (right so far); "
           "%ld forget+scan cycles\n", ph, nw, NTHREADS, nb, ns, cycles);
    return nw >= (long)NTHREADS * WALKS && (ph == 1 || cycles >= 100) ? nb : -1;
}

int main(void)
{
    memcpy(fns, all, sizeof fns);
    dl_iterate_phdr(text_cb, NULL);
    long nb = run_phase(1);
    long nb2 = text_hi ? run_phase(2) : -1;
    /* slot collisions among the return addresses seen */
    int coll = 0;
    for (int i = 0; i < nseen; i++)
        for (int j = i + 1; j < nseen; j++)
            coll += pt_cfi_cache_slot(seen[i] - 1) == pt_cfi_cache_slot(seen[j] - 1);
    struct pt_cfi_stats st;
    pt_cfi_stats_get(&st);
    printf("%d distinct return addresses, %d pairs share a cache slot; rule misses %lu, stops %lu, "
           "module scans %lu, modules forgotten %lu, bounds reads %lu\n",
           nseen, coll, st.rule_misses, st.stops, st.module_scans, st.modules_forgotten, st.bounds_reads);
    printf("fork children that got through a forget: %d of 20\n", fork_children);
    int ok = nb == 0 && nb2 == 0 && coll > 0 && st.rule_misses > (unsigned long)nseen && fork_children == 20;
    printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
