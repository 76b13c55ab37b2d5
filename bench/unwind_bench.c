/*
 * unwind_bench.c — ns per stack capture at depth ~14 (issue 11, item 2):
 * src/runtime/unwind_cfi.c against libunwind's unw_backtrace (dlopened
 * "libunwind.so.8", RTLD_LOCAL, as the preload does) and glibc's
 * backtrace(), and the own unwinder's cold costs:
 *   warm       rule cache warm (the steady state);
 *   all-miss   the rule cache emptied before each walk: every frame parses
 *              its FDE (minus the cost of emptying, measured alone);
 *   first      everything forgotten before each walk (pt_cfi_reset): lazy
 *              module registration and stack bounds (/proc/self/maps reads)
 *              and every FDE parsed (minus the reset, measured alone);
 *   first, modules known   the same after pt_cfi_scan_modules (what the
 *              runtime does at start-up): stack bounds and parsing only.
 * 7 rounds, all methods interleaved in each round; prints each round, then
 * per method the median, the spread (min..max over rounds) and the ratio to
 * unw_backtrace (median of the per-round ratios).  Build -O2
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
#define ROUNDS 7
#define CHAIN 10 /* + main + __libc_start_call_main + __libc_start_main + _start = 14 */

typedef int (*walk_fn)(void **, int);
static int unw_walk(void **f, int n);
static walk_fn unw_bt;
static int unw_walk(void **f, int n) { return unw_bt(f, n); }
static int cfi_walk(void **f, int n) { return pt_cfi_backtrace(f, n); }
static int glibc_walk(void **f, int n) { return backtrace(f, n); }
static int flush_only(void **f, int n) { (void)f; pt_cfi_flush_rules(); return n; }
static int miss_walk(void **f, int n) { pt_cfi_flush_rules(); return pt_cfi_backtrace(f, n); }
static int reset_only(void **f, int n) { (void)f; pt_cfi_reset(); return n; }
static int first_walk(void **f, int n) { pt_cfi_reset(); return pt_cfi_backtrace(f, n); }
static int rescan_only(void **f, int n) { (void)f; pt_cfi_reset(); pt_cfi_scan_modules(); return n; }
static int rescan_walk(void **f, int n)
{
    pt_cfi_reset();
    pt_cfi_scan_modules();
    return pt_cfi_backtrace(f, n);
}

/* div: iterations = iters / div; base: a method whose time is subtracted */
static const struct { const char *name; walk_fn fn; int div, base; } M[] = {
    { "own CFI unwinder, warm", cfi_walk, 1, -1 },
    { "unw_backtrace", unw_walk, 1, -1 },
    { "glibc backtrace()", glibc_walk, 10, -1 },
    { "(empty the rule cache)", flush_only, 10, -1 },
    { "own, all-miss (- emptying)", miss_walk, 10, 3 },
    { "(pt_cfi_reset)", reset_only, 200, -1 },
    { "own, first walk (- reset)", first_walk, 200, 5 },
    { "(pt_cfi_reset + scan_modules)", rescan_only, 200, -1 },
    { "own, first, modules known (-)", rescan_walk, 200, 7 },
};
#define NM (int)(sizeof M / sizeof M[0])
#define UNW 1

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
    long it = iters / M[m].div > 0 ? iters / M[m].div : 1;
    double t0 = now_ns();
    for (long i = 0; i < it; i++) {
        n = M[m].fn(f, 32);
        sink += n;
    }
    double t = (now_ns() - t0) / it;
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
    printf("%ld captures per round (warm, unw_backtrace; /10 backtrace() and all-miss, /200 first "
           "walk), buffer 32\n", iters);
    double ratio[NM][ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        printf("round %d:", r + 1);
        for (int m = 0; m < NM; m++)
            t[m][r] = chain(CHAIN, m, &depth[m]);
        for (int m = NM - 1; m >= 0; m--) /* net of the base (the base itself is not net) */
            if (M[m].base >= 0)
                t[m][r] -= t[M[m].base][r];
        for (int m = 0; m < NM; m++) {
            ratio[m][r] = t[m][r] / t[UNW][r];
            printf("  %.0f", t[m][r]);
        }
        printf(" ns\n");
    }
    struct pt_cfi_stats s;
    pt_cfi_stats_get(&s);
    printf("%-30s %9s %19s %8s %16s\n", "method", "median", "spread (min..max)", "depth",
           "x unw_backtrace");
    for (int m = 0; m < NM; m++) {
        qsort(t[m], ROUNDS, sizeof t[m][0], cmpd);
        qsort(ratio[m], ROUNDS, sizeof ratio[m][0], cmpd);
        printf("%-30s %6.1f ns %8.1f..%-8.1f ns %6d %10.2f\n", M[m].name, t[m][ROUNDS / 2], t[m][0],
               t[m][ROUNDS - 1],
               M[m].fn == flush_only || M[m].fn == reset_only || M[m].fn == rescan_only ? 0 : depth[m],
               ratio[m][ROUNDS / 2]);
    }
    printf("own unwinder: rule cache hits %lu, misses %lu, module scans/registrations %lu, stack-bounds reads %lu, "
           "stops %lu (last: %s)\n", s.rule_hits, s.rule_misses, s.module_scans, s.bounds_reads,
           s.stops, pt_cfi_last_stop());
    return 0;
}
