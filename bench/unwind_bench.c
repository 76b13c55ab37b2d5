/*
 * unwind_bench.c — ns per stack capture at depth ~14 (issue 11, item 2):
 * src/runtime/unwind_cfi.c (rule cache warm) against libunwind's
 * unw_backtrace (dlopened "libunwind.so.8", RTLD_LOCAL, as the preload
 * does) and glibc's backtrace().  5 rounds, the three interleaved in each
 * round; prints each round and the medians.  Build -O2
 * -fomit-frame-pointer.  Usage: unwind_bench [iterations per round]
 */
#define _GNU_SOURCE
#include "unwind_cfi.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NOINL __attribute__((noinline))
#define KEEP __asm__ volatile("" ::: "memory")
#define ROUNDS 5
#define CHAIN 10 /* + main + __libc_start_call_main + __libc_start_main + _start = 14 */

typedef int (*walk_fn)(void **, int);
static int unw_walk(void **f, int n);
static walk_fn unw_bt;
static int unw_walk(void **f, int n) { return unw_bt(f, n); }
static int cfi_walk(void **f, int n) { return pt_cfi_backtrace(f, n); }
static int glibc_walk(void **f, int n) { return backtrace(f, n); }

static const struct { const char *name; walk_fn fn; } M[] = {
    { "own CFI unwinder (warm)", cfi_walk },
    { "unw_backtrace", unw_walk },
    { "glibc backtrace()", glibc_walk },
};
#define NM (int)(sizeof M / sizeof M[0])

static volatile int sink;
static long iters;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* At the leaf: time `iters` captures with method m; returns ns/capture and
 * the depth through *depth. */
NOINL static double leaf(int m, int *depth)
{
    void *f[32];
    int n = 0;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        n = M[m].fn(f, 32);
        sink += n;
    }
    double t = (now_ns() - t0) / iters;
    *depth = n;
    return t;
}

NOINL static double chain(int d, int m, int *depth)
{
    if (d == 1)
        return leaf(m, depth);
    double r = chain(d - 1, m, depth);
    KEEP;
    return r + 0.0 * d;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    iters = argc > 1 ? atol(argv[1]) : 200000;
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    unw_bt = h ? (walk_fn)dlsym(h, "unw_backtrace") : NULL;
    if (!unw_bt) {
        fprintf(stderr, "unwind_bench: libunwind.so.8 not available\n");
        return 2;
    }
    double t[NM][ROUNDS];
    int depth[NM];
    long save = iters;
    iters = 1000; /* warm every method's caches (and the dynamic linker's) */
    for (int m = 0; m < NM; m++)
        chain(CHAIN, m, &depth[m]);
    iters = save;
    printf("%ld captures per method per round, buffer 32\n", iters);
    for (int r = 0; r < ROUNDS; r++) {
        printf("round %d:", r + 1);
        for (int m = 0; m < NM; m++) {
            t[m][r] = chain(CHAIN, m, &depth[m]);
            printf("  %s %.1f ns", M[m].name, t[m][r]);
        }
        printf("\n");
    }
    struct pt_cfi_stats s;
    pt_cfi_stats_get(&s);
    for (int m = 0; m < NM; m++) {
        qsort(t[m], ROUNDS, sizeof t[m][0], cmpd);
        printf("median %-26s %7.1f ns/capture  depth %d  (%.1f ns/frame)\n", M[m].name,
               t[m][ROUNDS / 2], depth[m], t[m][ROUNDS / 2] / depth[m]);
    }
    printf("own unwinder: rule cache hits %lu, misses %lu, module scans %lu, stops %lu\n",
           s.rule_hits, s.rule_misses, s.module_scans, s.stops);
    return 0;
}
