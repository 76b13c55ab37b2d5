/*
 * alloc_bench.c — what tag accounting costs on the allocation fast path, in
 * time and in memory, against the bare allocators (issues 2 and 14).
 *
 * Eight configurations are measured in one run, each at 1 and 2 threads:
 *
 *   the library (this executable, alloc_bench):
 *   mimalloc      mi_malloc / mi_free                  (bare backend)
 *   pooltag-mi    pt_alloc / pt_free, default backend  (PT_BACKEND unset)
 *   glibc         glibc's malloc / free (dlsym)        (bare backend)
 *   pooltag-libc  pt_alloc / pt_free, PT_BACKEND=libc
 *
 *   plain malloc / free (alloc_bench_malloc, built from this file with
 *   AB_MALLOC_BUILD; it links nothing but libc, libpthread and libdl):
 *   mimalloc.so   LD_PRELOAD=libmimalloc.so.2          (bare backend)
 *   preload-mi    LD_PRELOAD=libpooltag-preload.so, PT_BACKEND=mimalloc
 *   glibc-malloc  no preload                           (bare backend)
 *   preload-libc  LD_PRELOAD=libpooltag-preload.so, PT_BACKEND=libc
 *
 * and, for memory, the peak RSS of a process holding N live blocks of 16 B
 * and of 64 B (N = 1,000,000 by default, like ../shared/bench/small_live.c)
 * in each configuration.  It prints the ratios pooltag / bare next to the
 * targets of issue 14 (on mimalloc <= 1.10x, on glibc <= 1.05x, 2 threads
 * >= 1.8x one thread's throughput, 16 B live blocks <= 1.10x the bare
 * backend's peak RSS), each with a 95 % bootstrap interval and the spread
 * (interquartile range / median) of the bare backend's rounds: the
 * machine's noise.
 *
 * Data model
 * ----------
 * Workload, per thread: a window of WINDOW live blocks (default 10,000).
 * One operation frees the block in a random slot and allocates a new block
 * of a random size into it (one free + one malloc: a "pair").  Sizes run
 * from 8 B to 64 KiB, mostly small: 80 % in 8..128 B, 15 % in 129..1024 B,
 * 4 % in 1..8 KiB, 1 % in 8..64 KiB.  The (slot, size) sequence comes from a
 * deterministic generator with a per-thread seed and is precomputed into a
 * table of OPTAB entries that the loop walks cyclically, so the timed loop
 * is the allocator and one store into the new block, nothing else.  The
 * harness's own arrays come from mmap, never from an allocator measured.
 *
 * Process structure: every measurement runs in a fresh child (fork + exec
 * of alloc_bench or alloc_bench_malloc with "--child CFG THREADS OPS
 * WINDOW" or "--live CFG N SIZE" and the configuration's environment:
 * PT_BACKEND, LD_PRELOAD).  A timed child fills the windows, runs a warm-up
 * of OPS/8 operations, times OPS operations per thread (wall time from the
 * first thread's start to the last thread's end, and each thread's CPU
 * time) and writes one line, "ns=... cpu=... par=... heap=... malloc=...",
 * to its stdout, a pipe.  A live child writes "rss=... heap=... malloc=...".
 * The parent interleaves the 16 timed cases over several rounds (9 by
 * default; the order rotates every round), runs the 16 memory cases in the
 * first 3 rounds, and reports medians.
 *
 * Honesty checks, in every child:
 * - which heap: glibc's own mallinfo2() (dlsym on libc.so.6's handle, so
 *   neither mimalloc nor the preload answers) must grow by about the live
 *   bytes for the glibc configurations and must not for the others;
 * - which malloc (plain malloc configurations): dladdr() of the "malloc"
 *   the process resolves must be libmimalloc, the preload or libc.so.6;
 * - counted (pooltag configurations): the library cases read tag Bnch back
 *   (pt_tag_read: allocs and frees equal every operation made); the preload
 *   cases find the preload's pt_tag_of / pt_tag_read with dlsym, take the
 *   tag of a block and read it back (allocs and frees at least every
 *   operation made, at most 10,000 more), and find the segment
 *   "memfd:pooltag" in /proc/self/maps; the plain configurations must have
 *   no pooltag in the process.
 * A configuration failing a check is reported INVALID and the run exits 1.
 *
 * Exit status: 0 (benchmarks do not fail CI on numbers); 1 if a child
 * failed or a check failed, or with --check if a target was missed; 2 on a
 * usage error.
 */
#define _GNU_SOURCE
#include "pooltag.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#ifndef AB_MALLOC_BUILD
#include <mimalloc.h>
#endif
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define AB_CALLGRIND 1
#else
#define CALLGRIND_TOGGLE_COLLECT
#define AB_CALLGRIND 0
#endif

#define BENCH_TAG PT_TAG("Bnch")
#define OPTAB (1u << 16) /* precomputed operations, walked cyclically */
#define MAX_THREADS 2
#define MAX_ROUNDS 64
#define BU_PROG "alloc_bench"
#include "bench_util.h"
#define MEM_ROUNDS 3     /* rounds that also run the memory cases */
#define CHILD_ALARM 300  /* seconds: a hung child dies on SIGALRM */
#define PL_SLACK 10000   /* other allocations a preload child may count */
#define BOOT_SAMPLES 2000

#ifndef AB_PRELOAD_PATH
#define AB_PRELOAD_PATH ""
#endif

enum {
    CFG_MI,      /* library */
    CFG_PT_MI,
    CFG_LIBC,
    CFG_PT_LIBC,
    CFG_MIS,     /* plain malloc */
    CFG_PL_MI,
    CFG_GLM,
    CFG_PL_LIBC,
    CFG_COUNT
};
enum { LD_NONE, LD_MIMALLOC, LD_POOLTAG };

typedef struct bench_cfg {
    const char *name;
    const char *backend; /* PT_BACKEND for the child, NULL = unset */
    bool glibc_heap;     /* blocks must land in glibc's heap */
    bool pooltag;        /* a pooltag configuration (targets apply) */
    bool via_malloc;     /* runs alloc_bench_malloc */
    int ld;              /* LD_PRELOAD of the child */
    int bare;            /* the bare baseline of a pooltag configuration */
    const char *owner;   /* plain malloc: a part of the library's file name */
} bench_cfg;

static const bench_cfg cfgs[CFG_COUNT] = {
    [CFG_MI] = {"mimalloc", NULL, false, false, false, LD_NONE, CFG_MI, NULL},
    [CFG_PT_MI] = {"pooltag-mi", NULL, false, true, false, LD_NONE, CFG_MI, NULL},
    [CFG_LIBC] = {"glibc", NULL, true, false, false, LD_NONE, CFG_LIBC, NULL},
    [CFG_PT_LIBC] = {"pooltag-libc", "libc", true, true, false, LD_NONE, CFG_LIBC, NULL},
    [CFG_MIS] = {"mimalloc.so", NULL, false, false, true, LD_MIMALLOC, CFG_MIS, "libmimalloc"},
    [CFG_PL_MI] = {"preload-mi", "mimalloc", false, true, true, LD_POOLTAG, CFG_MIS,
                   "pooltag-preload"},
    [CFG_GLM] = {"glibc-malloc", NULL, true, false, true, LD_NONE, CFG_GLM, "libc.so"},
    [CFG_PL_LIBC] = {"preload-libc", "libc", true, true, true, LD_POOLTAG, CFG_GLM,
                     "pooltag-preload"},
};

/* ---------------------------------------------------------------------- */
/* Child: the measurement */

typedef struct bench_op {
    uint32_t slot;
    uint32_t size;
} bench_op;

typedef struct bench_thread {
    pthread_t thread;
    int cfg;
    uint64_t seed;
    uint64_t ops; /* timed operations */
    uint32_t window;
    void **slot;
    bench_op *optab;
    uint64_t live_bytes;    /* requested bytes in the window after the fill */
    struct timespec t0, t1; /* timed section, CLOCK_MONOTONIC */
    struct timespec c0, c1; /* the same, this thread's CPU time */
    bool failed;
} bench_thread;

static void *(*glibc_malloc)(size_t);
static void (*glibc_free)(void *);
static struct mallinfo2 (*glibc_mallinfo2)(void);
static pthread_barrier_t g_barrier;
static unsigned g_nthreads;

/* splitmix64 */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A block size: 80 % 8..128 B, 15 % 129..1024 B, 4 % 1025..8192 B, 1 %
 * 8193..65536 B. */
static uint32_t draw_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    unsigned pct = (unsigned)(r % 100);
    uint64_t v = r >> 32;
    if (pct < 80)
        return 8 + (uint32_t)(v % 121);
    if (pct < 95)
        return 129 + (uint32_t)(v % 896);
    if (pct < 99)
        return 1025 + (uint32_t)(v % 7168);
    return 8193 + (uint32_t)(v % 57344);
}

#ifndef AB_MALLOC_BUILD
static inline void *pt_alloc_paged(size_t n)
{
    return pt_alloc(PT_PAGED, n, BENCH_TAG);
}
#endif

/*
 * One loop per configuration, so that the allocator calls in the timed loop
 * are direct calls (through the PLT, as in any program), not a switch.
 * Note: the glibc pair goes through function pointers from dlsym, which
 * costs the same indirect jump a PLT call does.
 */
#define BENCH_LOOPS(NAME, ALLOC, FREE)                                                             \
    static bool NAME##_fill(bench_thread *t, uint64_t *rng)                                        \
    {                                                                                              \
        for (uint32_t i = 0; i < t->window; i++) {                                                 \
            uint32_t n = draw_size(rng);                                                           \
            char *p = ALLOC(n);                                                                    \
            if (!p)                                                                                \
                return false;                                                                      \
            p[0] = (char)i;                                                                        \
            t->slot[i] = p;                                                                        \
            t->live_bytes += n;                                                                    \
        }                                                                                          \
        return true;                                                                               \
    }                                                                                              \
    static bool NAME##_run(bench_thread *t, uint64_t ops)                                          \
    {                                                                                              \
        void **slot = t->slot;                                                                     \
        const bench_op *tab = t->optab;                                                            \
        for (uint64_t i = 0; i < ops; i++) {                                                       \
            bench_op o = tab[i & (OPTAB - 1)];                                                     \
            FREE(slot[o.slot]);                                                                    \
            char *p = ALLOC(o.size);                                                               \
            if (__builtin_expect(!p, 0))                                                           \
                return false;                                                                      \
            p[0] = (char)i;                                                                        \
            slot[o.slot] = p;                                                                      \
        }                                                                                          \
        return true;                                                                               \
    }                                                                                              \
    static void NAME##_drain(bench_thread *t)                                                      \
    {                                                                                              \
        for (uint32_t i = 0; i < t->window; i++)                                                   \
            FREE(t->slot[i]);                                                                      \
    }

#ifdef AB_MALLOC_BUILD
BENCH_LOOPS(ma, malloc, free)
#define DISPATCH(CFG, FN, ...) ma_##FN(__VA_ARGS__)
static void *one_alloc(int cfg, size_t n)
{
    (void)cfg;
    return malloc(n);
}
static void one_free(int cfg, void *p)
{
    (void)cfg;
    free(p);
}
#else
BENCH_LOOPS(mi, mi_malloc, mi_free)
BENCH_LOOPS(pt, pt_alloc_paged, pt_free)
BENCH_LOOPS(gl, glibc_malloc, glibc_free)
#define DISPATCH(CFG, FN, ...)                                                                     \
    ((CFG) == CFG_MI     ? mi_##FN(__VA_ARGS__)                                                    \
     : (CFG) == CFG_LIBC ? gl_##FN(__VA_ARGS__)                                                    \
                         : pt_##FN(__VA_ARGS__))
static void *one_alloc(int cfg, size_t n)
{
    return cfg == CFG_MI ? mi_malloc(n) : cfg == CFG_LIBC ? glibc_malloc(n) : pt_alloc_paged(n);
}
static void one_free(int cfg, void *p)
{
    if (cfg == CFG_MI)
        mi_free(p);
    else if (cfg == CFG_LIBC)
        glibc_free(p);
    else
        pt_free(p);
}
#endif

static bool cfg_fill(bench_thread *t, uint64_t *rng)
{
    return DISPATCH(t->cfg, fill, t, rng);
}

static bool cfg_run(bench_thread *t, uint64_t ops)
{
    return DISPATCH(t->cfg, run, t, ops);
}

static void cfg_drain(bench_thread *t)
{
    DISPATCH(t->cfg, drain, t);
}

/* Thread body: fill, meet the main thread (heap check), warm up, time. */
static void *bench_thread_main(void *arg)
{
    bench_thread *t = arg;
    uint64_t rng = t->seed;
    for (uint32_t i = 0; i < OPTAB; i++) {
        t->optab[i].slot = (uint32_t)(rng_next(&rng) % t->window);
        t->optab[i].size = draw_size(&rng);
    }
    bool ok = cfg_fill(t, &rng);
    pthread_barrier_wait(&g_barrier); /* A: windows filled */
    pthread_barrier_wait(&g_barrier); /* B: main has read mallinfo2 */
    if (ok)
        ok = cfg_run(t, t->ops / 8);
    pthread_barrier_wait(&g_barrier); /* C: everybody warm */
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t->c0);
    /* under callgrind (--instructions, 1 thread, run with
     * --collect-atstart=no) only the timed loop is counted; elsewhere
     * this is a few instructions outside the loop */
    if (g_nthreads == 1)
        CALLGRIND_TOGGLE_COLLECT;
    if (ok)
        ok = cfg_run(t, t->ops);
    if (g_nthreads == 1)
        CALLGRIND_TOGGLE_COLLECT;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t->c1);
    clock_gettime(CLOCK_MONOTONIC, &t->t1);
    t->failed = !ok;
    return NULL;
}

static double ts_ns(struct timespec t)
{
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Harness memory: anonymous mmap, so that no allocator measured sees it. */
static void *harness_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* glibc's own malloc, free and mallinfo2, from libc.so.6's handle: neither
 * libmimalloc nor the preload (which both export malloc and mallinfo2) can
 * answer.  0, or 1 after a one-line error. */
static int find_glibc(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (libc) {
        glibc_malloc = (void *(*)(size_t))dlsym(libc, "malloc");
        glibc_free = (void (*)(void *))dlsym(libc, "free");
        glibc_mallinfo2 = (struct mallinfo2(*)(void))dlsym(libc, "mallinfo2");
    }
    if (!glibc_malloc || !glibc_free || !glibc_mallinfo2) {
        fprintf(stderr, "alloc_bench: cannot find glibc's malloc, free and "
                        "mallinfo2 in libc.so.6\n");
        return 1;
    }
    return 0;
}

/* Which heap did `live` requested bytes go to, from glibc's in-use bytes
 * before and after: glibc's grow by at least half of them (its headers and
 * rounding only add), another allocator's leave them nearly unchanged. */
static const char *heap_of(struct mallinfo2 before, struct mallinfo2 after, double live)
{
    double grew = (double)after.uordblks - (double)before.uordblks;
    return grew >= 0.5 * live ? "glibc" : grew <= 0.1 * live ? "other" : "unclear";
}

/* The file name (no directory) of the library that defines the "malloc"
 * this process calls, into buf; "-" in the library build (it calls the
 * allocators by name, not malloc). */
static void malloc_owner(char *buf, size_t len)
{
    snprintf(buf, len, "-");
#ifdef AB_MALLOC_BUILD
    Dl_info di;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    if (m && dladdr(m, &di) && di.dli_fname) {
        const char *b = strrchr(di.dli_fname, '/');
        snprintf(buf, len, "%s", b ? b + 1 : di.dli_fname);
    } else {
        snprintf(buf, len, "unknown");
    }
#endif
}

#ifdef AB_MALLOC_BUILD
/* Is the preload's segment mapped ("/memfd:pooltag (deleted)")?  Read with
 * read(2) into a static buffer: no allocation. */
#endif

/*
 * Did pooltag count the operations?  `want` allocations and frees were made
 * (and a block of the benchmark, `block`, is still live when called with
 * it; NULL after the drain, using the tag found before).  The library's
 * counts must be exact; the preload counts the program's other allocations
 * of the same module tag too (stdio, threads): at least `want`, at most
 * PL_SLACK more.  In a plain configuration no pooltag may be in the
 * process.  0, or 1 after a one-line error.
 */
static int check_counted(int cfg, uint64_t want_allocs, uint64_t want_frees, uint32_t tag)
{
    const char *name = cfgs[cfg].name;
#ifdef AB_MALLOC_BUILD
    int (*rd)(uint32_t, pt_tag_info *) =
        (int (*)(uint32_t, pt_tag_info *))dlsym(RTLD_DEFAULT, "pt_tag_read");
    if (!cfgs[cfg].pooltag) {
        if (rd || segment_mapped()) {
            fprintf(stderr, "alloc_bench: %s: pooltag is in the process\n", name);
            return 1;
        }
        return 0;
    }
    if (!rd || !segment_mapped()) {
        fprintf(stderr, "alloc_bench: %s: the preload is not active (%s)\n", name,
                rd ? "no memfd:pooltag segment mapped" : "no pt_tag_read in the process");
        return 1;
    }
    uint64_t slack = PL_SLACK;
#else
    int (*rd)(uint32_t, pt_tag_info *) = pt_tag_read;
    if (!cfgs[cfg].pooltag)
        return 0;
    uint64_t slack = 0;
#endif
    pt_tag_info info;
    memset(&info, 0, sizeof info);
    uint64_t a = 0, f = 0;
    if (tag && rd(tag, &info) == 0)
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            a += info.pool[p].allocs;
            f += info.pool[p].frees;
        }
    if (!tag || a < want_allocs || a > want_allocs + slack || f < want_frees ||
        f > want_frees + slack) {
        char tt[8] = "?";
        for (int i = 0; i < 4 && tag; i++)
            tt[i] = (char)((tag >> (8 * i)) & 0xff);
        fprintf(stderr,
                "alloc_bench: %s: pooltag counted %llu allocs and %llu frees of tag "
                "'%.4s', expected %llu and %llu%s\n",
                name, (unsigned long long)a, (unsigned long long)f, tt,
                (unsigned long long)want_allocs, (unsigned long long)want_frees,
                slack ? " (or up to 10000 more)" : "");
        return 1;
    }
    return 0;
}

/* The tag of a benchmark block: Bnch in the library; in the preload the
 * module tag it gave the block (pt_tag_of, found with dlsym); 0 if none. */
static uint32_t block_tag(int cfg, const void *p)
{
#ifdef AB_MALLOC_BUILD
    uint32_t (*of)(const void *) = (uint32_t(*)(const void *))dlsym(RTLD_DEFAULT, "pt_tag_of");
    return cfgs[cfg].pooltag && of ? of(p) : 0;
#else
    (void)p;
    return cfgs[cfg].pooltag ? BENCH_TAG : 0;
#endif
}

/*
 * Run one measurement and print one line on stdout:
 *   ns=<wall ns per op> cpu=<CPU ns per op> par=<parallelism> heap=<...>
 *   malloc=<library>
 * where wall ns per op = wall time / (threads x ops), CPU ns per op = the
 * threads' CPU time / (threads x ops), and parallelism = CPU time / wall
 * time (2.0 when two threads really ran at once).  Returns the exit status:
 * 0, or 1 after a one-line error.
 */
static int child_main(int cfg, unsigned nthreads, uint64_t ops, uint32_t window)
{
    alarm(CHILD_ALARM);
    if (find_glibc())
        return 1;

    bench_thread th[MAX_THREADS];
    memset(th, 0, sizeof th);
    g_nthreads = nthreads;
    pthread_barrier_init(&g_barrier, NULL, nthreads + 1);
    struct mallinfo2 before = glibc_mallinfo2();
    for (unsigned i = 0; i < nthreads; i++) {
        bench_thread *t = &th[i];
        t->cfg = cfg;
        t->seed = 0x616c6c6f63ull * (i + 1);
        t->ops = ops;
        t->window = window;
        t->slot = harness_alloc(window * sizeof *t->slot);
        t->optab = harness_alloc(OPTAB * sizeof *t->optab);
        if (!t->slot || !t->optab) {
            fprintf(stderr, "alloc_bench: out of memory\n");
            return 1;
        }
        int err = pthread_create(&t->thread, NULL, bench_thread_main, t);
        if (err) {
            fprintf(stderr, "alloc_bench: pthread_create: %s\n", strerror(err));
            return 1;
        }
    }
    pthread_barrier_wait(&g_barrier); /* A */
    struct mallinfo2 after = glibc_mallinfo2();
    pthread_barrier_wait(&g_barrier); /* B */
    pthread_barrier_wait(&g_barrier); /* C */
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(th[i].thread, NULL);

    uint64_t live = 0;
    double t0 = 0, t1 = 0, cpu = 0;
    bool failed = false;
    for (unsigned i = 0; i < nthreads; i++) {
        live += th[i].live_bytes;
        failed |= th[i].failed;
        if (i == 0 || ts_ns(th[i].t0) < t0)
            t0 = ts_ns(th[i].t0);
        if (ts_ns(th[i].t1) > t1)
            t1 = ts_ns(th[i].t1);
        cpu += ts_ns(th[i].c1) - ts_ns(th[i].c0);
    }
    if (failed) {
        fprintf(stderr, "alloc_bench: %s: an allocation failed\n", cfgs[cfg].name);
        return 1;
    }
    uint32_t tag = block_tag(cfg, th[0].slot[0]);
    for (unsigned i = 0; i < nthreads; i++)
        cfg_drain(&th[i]);

    const char *heap = heap_of(before, after, (double)live);
    uint64_t want = (uint64_t)nthreads * (window + ops / 8 + ops);
    if (check_counted(cfg, want, want, tag))
        return 1;
    char owner[64];
    malloc_owner(owner, sizeof owner);
    double total = (double)ops * nthreads;
    printf("ns=%.4f cpu=%.4f par=%.4f heap=%s malloc=%s\n", (t1 - t0) / total, cpu / total,
           cpu / (t1 - t0), heap, owner);
    return 0;
}

/*
 * Memory: hold n live blocks of `size` bytes (each written in full, like
 * ../shared/bench/small_live.c) and print one line
 *   rss=<peak RSS of the process, KiB> heap=<...> malloc=<library>
 * The pointer array comes from mmap (8 MB at 1M blocks, the same in every
 * configuration).  0, or 1 after a one-line error.
 */
static int live_main(int cfg, uint64_t n, uint32_t size)
{
    alarm(CHILD_ALARM);
    if (find_glibc())
        return 1;
    void **v = harness_alloc(n * sizeof *v);
    if (!v) {
        fprintf(stderr, "alloc_bench: out of memory\n");
        return 1;
    }
    struct mallinfo2 before = glibc_mallinfo2();
    for (uint64_t i = 0; i < n; i++) {
        v[i] = one_alloc(cfg, size);
        if (!v[i]) {
            fprintf(stderr, "alloc_bench: %s: an allocation failed\n", cfgs[cfg].name);
            return 1;
        }
        memset(v[i], (int)i, size);
    }
    struct mallinfo2 after = glibc_mallinfo2();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint32_t tag = block_tag(cfg, v[0]);
    for (uint64_t i = 0; i < n; i++)
        one_free(cfg, v[i]);
    if (check_counted(cfg, n, n, tag))
        return 1;
    char owner[64];
    malloc_owner(owner, sizeof owner);
    printf("rss=%ld heap=%s malloc=%s\n", ru.ru_maxrss, heap_of(before, after, (double)n * size),
           owner);
    return 0;
}

/* "--child CFG THREADS OPS WINDOW" or "--live CFG N SIZE": run it and
 * return its exit status, or -1 if argv is neither. */
static int child_dispatch(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--child")) {
        int cfg = atoi(argv[2]);
        unsigned nthreads = (unsigned)atoi(argv[3]);
        uint64_t ops = strtoull(argv[4], NULL, 10);
        uint32_t window = (uint32_t)strtoul(argv[5], NULL, 10);
        if (cfg < 0 || cfg >= CFG_COUNT || nthreads < 1 || nthreads > MAX_THREADS || ops < 8 ||
            window < 1) {
            fprintf(stderr, "alloc_bench: bad --child arguments\n");
            return 2;
        }
        return child_main(cfg, nthreads, ops, window);
    }
    if (argc == 5 && !strcmp(argv[1], "--live")) {
        int cfg = atoi(argv[2]);
        uint64_t n = strtoull(argv[3], NULL, 10);
        uint32_t size = (uint32_t)strtoul(argv[4], NULL, 10);
        if (cfg < 0 || cfg >= CFG_COUNT || n < 1 || size < 1) {
            fprintf(stderr, "alloc_bench: bad --live arguments\n");
            return 2;
        }
        return live_main(cfg, n, size);
    }
    return -1;
}

#ifdef AB_MALLOC_BUILD
int main(int argc, char **argv)
{
    int st = child_dispatch(argc, argv);
    if (st >= 0)
        return st;
    fprintf(stderr, "alloc_bench_malloc: a child of alloc_bench, run by it "
                    "(usage: alloc_bench --help)\n");
    return 2;
}
#else

/* ---------------------------------------------------------------------- */
/* Parent: rounds, medians, ratios */

typedef struct bench_result {
    double ns[MAX_ROUNDS];  /* per round: wall ns per op (or peak RSS, KiB) */
    double cpu[MAX_ROUNDS]; /*            CPU ns per op */
    double par[MAX_ROUNDS]; /*            parallelism */
    int n;
    bool invalid; /* measured the wrong heap or malloc */
    bool failed;  /* a child failed */
    char heap[16];
    char owner[64];
} bench_result;

static struct {
    char self[4096];        /* alloc_bench */
    char malloc_exe[4096];  /* alloc_bench_malloc */
    char preload[4096];     /* libpooltag-preload.so */
    char mimalloc[4096];    /* libmimalloc.so.2 */
    char cgdir[64];         /* --instructions: callgrind's output files */
} paths;

/*
 * Run one child (argv: the arguments after the program name) with the
 * configuration's environment and read its line from a pipe into buf.
 * Returns 0, or -1 (reported).
 */
static int run_child(int cfg, const char *what, char *const args[], char *buf, size_t len,
                     bool callgrind)
{
    const char *exe = cfgs[cfg].via_malloc ? paths.malloc_exe : paths.self;
    int rfd;
    pid_t pid = fork_piped(&rfd);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (cfgs[cfg].backend)
            setenv("PT_BACKEND", cfgs[cfg].backend, 1);
        else
            unsetenv("PT_BACKEND");
        if (cfgs[cfg].ld == LD_MIMALLOC)
            setenv("LD_PRELOAD", paths.mimalloc, 1);
        else if (cfgs[cfg].ld == LD_POOLTAG)
            setenv("LD_PRELOAD", paths.preload, 1);
        else
            unsetenv("LD_PRELOAD");
        char *argv[16], cgout[128];
        int k = 0;
        if (callgrind) {
            /* valgrind is a script (bash): without PT_FOLLOW_CHILDREN the
             * preload would leave LD_PRELOAD in bash, before the client */
            if (cfgs[cfg].ld == LD_POOLTAG)
                setenv("PT_FOLLOW_CHILDREN", "1", 1);
            snprintf(cgout, sizeof cgout, "--callgrind-out-file=%s/cg.%%p", paths.cgdir);
            argv[k++] = "valgrind";
            argv[k++] = "-q";
            argv[k++] = "--tool=callgrind";
            argv[k++] = "--collect-atstart=no";
            argv[k++] = cgout;
        }
        argv[k++] = (char *)exe;
        for (int i = 0; args[i] && k < 15; i++)
            argv[k++] = args[i];
        argv[k] = NULL;
        if (callgrind)
            execvp(argv[0], argv);
        else
            execv(exe, argv);
        fprintf(stderr, "alloc_bench: exec %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    int status = finish_piped(pid, rfd, buf, len);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            fprintf(stderr, "alloc_bench: %s, %s: child killed by signal %d\n", cfgs[cfg].name,
                    what, WTERMSIG(status));
        else
            fprintf(stderr, "alloc_bench: %s, %s: child exited with status %d\n",
                    cfgs[cfg].name, what, WEXITSTATUS(status));
        return -1;
    }
    return 0;
}

/* Record a child's heap= and malloc= answers; false if they are not the
 * configuration's. */
static bool heap_owner_ok(int cfg, const char *heap, const char *owner, bench_result *br)
{
    snprintf(br->heap, sizeof br->heap, "%s", heap);
    snprintf(br->owner, sizeof br->owner, "%s", owner);
    if (strcmp(heap, cfgs[cfg].glibc_heap ? "glibc" : "other"))
        return false;
    return !cfgs[cfg].owner || strstr(owner, cfgs[cfg].owner);
}

/* One timed case into br (a failure marks it failed). */
static void run_timed(int cfg, unsigned nt, uint64_t ops, uint32_t window, bench_result *br)
{
    char a_cfg[16], a_thr[16], a_ops[32], a_win[16], what[32], buf[512];
    snprintf(a_cfg, sizeof a_cfg, "%d", cfg);
    snprintf(a_thr, sizeof a_thr, "%u", nt);
    snprintf(a_ops, sizeof a_ops, "%llu", (unsigned long long)ops);
    snprintf(a_win, sizeof a_win, "%u", window);
    snprintf(what, sizeof what, "%u thread(s)", nt);
    char *args[] = {"--child", a_cfg, a_thr, a_ops, a_win, NULL};
    if (run_child(cfg, what, args, buf, sizeof buf, false)) {
        br->failed = true;
        return;
    }
    double ns, cpu, par;
    char heap[16], owner[64];
    if (sscanf(buf, "ns=%lf cpu=%lf par=%lf heap=%15s malloc=%63s", &ns, &cpu, &par, heap,
               owner) != 5 ||
        !(ns > 0) || !(cpu > 0)) {
        fprintf(stderr, "alloc_bench: %s, %s: unreadable result '%.60s'\n", cfgs[cfg].name, what,
                buf);
        br->failed = true;
        return;
    }
    if (!heap_owner_ok(cfg, heap, owner, br))
        br->invalid = true;
    br->ns[br->n] = ns;
    br->cpu[br->n] = cpu;
    br->par[br->n] = par;
    br->n++;
}

/* One memory case into br (ns[] holds the peak RSS in KiB). */
static void run_live(int cfg, uint64_t n, uint32_t size, bench_result *br)
{
    char a_cfg[16], a_n[32], a_size[16], what[64], buf[512];
    snprintf(a_cfg, sizeof a_cfg, "%d", cfg);
    snprintf(a_n, sizeof a_n, "%llu", (unsigned long long)n);
    snprintf(a_size, sizeof a_size, "%u", size);
    snprintf(what, sizeof what, "%llu live blocks of %u B", (unsigned long long)n, size);
    char *args[] = {"--live", a_cfg, a_n, a_size, NULL};
    if (run_child(cfg, what, args, buf, sizeof buf, false)) {
        br->failed = true;
        return;
    }
    long rss;
    char heap[16], owner[64];
    if (sscanf(buf, "rss=%ld heap=%15s malloc=%63s", &rss, heap, owner) != 3 || rss <= 0) {
        fprintf(stderr, "alloc_bench: %s, %s: unreadable result '%.60s'\n", cfgs[cfg].name, what,
                buf);
        br->failed = true;
        return;
    }
    if (!heap_owner_ok(cfg, heap, owner, br))
        br->invalid = true;
    br->ns[br->n++] = (double)rss;
}

/*
 * --instructions: one 1-thread timed case under callgrind (collection on
 * only around the timed loop, see bench_thread_main).  Instructions per
 * operation, or -1 (reported; *invalid set when the child's heap or malloc
 * was not the configuration's).
 */
static double run_instr(int cfg, uint64_t ops, uint32_t window, bool *invalid)
{
    char a_cfg[16], a_ops[32], a_win[16], buf[512];
    snprintf(a_cfg, sizeof a_cfg, "%d", cfg);
    snprintf(a_ops, sizeof a_ops, "%llu", (unsigned long long)ops);
    snprintf(a_win, sizeof a_win, "%u", window);
    char *args[] = {"--child", a_cfg, "1", a_ops, a_win, NULL};
    if (run_child(cfg, "1 thread under callgrind", args, buf, sizeof buf, true))
        return -1;
    char heap[16], owner[64];
    bench_result br;
    memset(&br, 0, sizeof br);
    if (sscanf(buf, "ns=%*f cpu=%*f par=%*f heap=%15s malloc=%63s", heap, owner) != 2) {
        fprintf(stderr, "alloc_bench: %s under callgrind: unreadable result '%.60s'\n",
                cfgs[cfg].name, buf);
        return -1;
    }
    *invalid = !heap_owner_ok(cfg, heap, owner, &br);
    /* the one output file: its "totals:" line */
    double total = -1;
    char cmd[192];
    snprintf(cmd, sizeof cmd, "cat %s/cg.* 2>/dev/null; rm -f %s/cg.*", paths.cgdir,
             paths.cgdir);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    char line[512];
    unsigned long long v;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "totals: %llu", &v) == 1)
            total = (double)v;
    if (f)
        pclose(f);
    if (total < 0) {
        fprintf(stderr, "alloc_bench: %s: no callgrind totals in %s\n", cfgs[cfg].name,
                paths.cgdir);
        return -1;
    }
    return total / (double)ops;
}





/* The spread of x[0..n): the interquartile range over the median, with
 * the quartiles interpolated between order statistics (0 when n < 2).  One
 * disturbed round (a neighbour's build) moves it much less than it moves
 * (max - min). */
static double spread(const double *x, int n)
{
    double v[MAX_ROUNDS];
    memcpy(v, x, sizeof(double) * (size_t)n);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double q[2];
    for (int k = 0; k < 2; k++) {
        double h = (n - 1) * (k ? 0.75 : 0.25);
        int i = (int)h;
        q[k] = i + 1 < n ? v[i] + (h - i) * (v[i + 1] - v[i]) : v[i];
    }
    double m = median(x, n);
    return m > 0 ? (q[1] - q[0]) / m : 0;
}

/* splitmix64 step as a bounded index (the bootstrap's generator) */
static unsigned boot_index(uint64_t *s, int n)
{
    return (unsigned)(rng_next(s) % (uint64_t)n);
}

/*
 * The ratio scale x median(a) / median(b) and its 95 % percentile bootstrap
 * interval [*lo, *hi]: BOOT_SAMPLES times, draw n rounds with replacement
 * (the same rounds for a and b: round i of both ran close together, the
 * cases interleaved) and take the ratio of the medians of the draws.
 */
static double boot_ratio(const double *a, const double *b, int n, double scale, double *lo,
                         double *hi)
{
    static double r[BOOT_SAMPLES];
    double ra[MAX_ROUNDS], rb[MAX_ROUNDS];
    uint64_t s = 0x626f6f74ull;
    for (int k = 0; k < BOOT_SAMPLES; k++) {
        for (int i = 0; i < n; i++) {
            unsigned j = boot_index(&s, n);
            ra[i] = a[j];
            rb[i] = b[j];
        }
        r[k] = scale * median(ra, n) / median(rb, n);
    }
    qsort(r, BOOT_SAMPLES, sizeof *r, cmp_double);
    *lo = r[(int)(0.025 * BOOT_SAMPLES)];
    *hi = r[(int)(0.975 * BOOT_SAMPLES) - 1];
    return scale * median(a, n) / median(b, n);
}

static const char usage_text[] =
    "usage: alloc_bench [--quick] [--check] [--rounds N] [--ops N] [--window N]\n"
    "                   [--blocks N] [--instructions] [--raw] [--preload PATH]\n"
    "\n"
    "Measures pooltag's tag accounting against the bare allocators (mimalloc,\n"
    "glibc) at 1 and 2 threads, through the library (pt_alloc/pt_free) and\n"
    "through the preload (malloc/free), and the peak RSS of N live blocks of\n"
    "16 B and 64 B; prints the ratios with a 95 % bootstrap interval, the\n"
    "spread of the bare runs and the targets of issue 14.\n"
    "\n"
    "  --quick        about 10 s (2 rounds, 200000 ops, 1 memory round):\n"
    "                 checks that it runs and that its checks pass\n"
    "  --check        exit 1 if a pooltag target is missed\n"
    "  --rounds N     rounds, each running every timed case once (default 9,\n"
    "                 max 64); the first 3 also run the memory cases\n"
    "  --ops N        timed operations per thread per case (default 4000000)\n"
    "  --window N     live blocks per thread (default 10000, max 1000000)\n"
    "  --blocks N     live blocks of the memory cases (default 1000000)\n"
    "  --instructions also count instructions per operation (1 thread, under\n"
    "                 valgrind --tool=callgrind; ops/20 operations, 10000..200000)\n"
    "  --raw          also print every round's figures as they are measured\n"
    "  --preload PATH libpooltag-preload.so (default: $ALLOC_BENCH_PRELOAD, else\n"
    "                 the one of this build tree)\n"
    "\n"
    "Exit status: 0 whatever the figures; 1 if a case failed or allocated from\n"
    "the wrong heap or malloc (or, with --check, a target was missed); 2 on a\n"
    "usage error.\n";



enum { ROW_TARGET, ROW_REF, ROW_INFO };

typedef struct ratio_row {
    char what[64];
    int kind;         /* ROW_TARGET: counts for --check; ROW_REF: a bare
                         allocator's scaling; ROW_INFO: no target */
    bool valid;
    double value;     /* the deciding figure (CPU time or peak RSS) */
    double lo, hi;    /* its 95 % bootstrap interval */
    double noise;     /* spread of the bare runs */
    double wall;      /* the same ratio from wall time (0: none) */
    bool at_most;     /* target is an upper bound */
    double target;
} ratio_row;

#define SIZES 2
static const uint32_t live_sizes[SIZES] = {16, 64};

static double target_of(int cfg)
{
    return cfgs[cfgs[cfg].bare].glibc_heap ? 1.05 : 1.10;
}

int main(int argc, char **argv)
{
    int st = child_dispatch(argc, argv);
    if (st >= 0)
        return st;

    unsigned rounds = 9;
    uint64_t ops = 4000000, blocks = 1000000;
    uint32_t window = 10000;
    const char *preload = getenv("ALLOC_BENCH_PRELOAD");
    if (!preload || !*preload)
        preload = AB_PRELOAD_PATH;
    bool check = false, quick = false, rounds_set = false, ops_set = false, instr = false,
         raw = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            quick = true;
        } else if (!strcmp(a, "--check")) {
            check = true;
        } else if (!strcmp(a, "--instructions")) {
            instr = true;
        } else if (!strcmp(a, "--raw")) {
            raw = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--rounds")) {
            rounds = (unsigned)parse_count(a, v, 1, MAX_ROUNDS);
            rounds_set = true;
            i++;
        } else if (!strcmp(a, "--ops")) {
            ops = parse_count(a, v, 8, 1ull << 36);
            ops_set = true;
            i++;
        } else if (!strcmp(a, "--window")) {
            window = (uint32_t)parse_count(a, v, 1, 1000000);
            i++;
        } else if (!strcmp(a, "--blocks")) {
            blocks = parse_count(a, v, 1000, 100000000);
            i++;
        } else if (!strcmp(a, "--preload")) {
            if (!v || !*v)
                usage_error("missing value for", a);
            preload = v;
            i++;
        } else {
            usage_error("unknown argument", a);
        }
    }
    if (quick) {
        if (!rounds_set)
            rounds = 2;
        if (!ops_set)
            ops = 200000;
    }
    unsigned mem_rounds = quick ? 1 : rounds < MEM_ROUNDS ? rounds : MEM_ROUNDS;

    ssize_t sl = readlink("/proc/self/exe", paths.self, sizeof paths.self - 1);
    if (sl <= 0) {
        fprintf(stderr, "alloc_bench: cannot find own executable: %s\n", strerror(errno));
        return 1;
    }
    paths.self[sl] = 0;
    snprintf(paths.malloc_exe, sizeof paths.malloc_exe, "%s", paths.self);
    char *slash = strrchr(paths.malloc_exe, '/');
    snprintf(slash + 1, sizeof paths.malloc_exe - (size_t)(slash + 1 - paths.malloc_exe),
             "alloc_bench_malloc");
    if (access(paths.malloc_exe, X_OK)) {
        fprintf(stderr, "alloc_bench: %s: %s (it is built with alloc_bench)\n", paths.malloc_exe,
                strerror(errno));
        return 1;
    }
    if (!*preload || access(preload, R_OK)) {
        fprintf(stderr, "alloc_bench: cannot read the preload '%s' (give --preload PATH)\n",
                preload);
        return 2;
    }
    snprintf(paths.preload, sizeof paths.preload, "%s", preload);
    Dl_info di;
    if (!dladdr((void *)mi_malloc, &di) || !di.dli_fname || !strstr(di.dli_fname, "mimalloc")) {
        fprintf(stderr, "alloc_bench: cannot find the file of libmimalloc\n");
        return 1;
    }
    snprintf(paths.mimalloc, sizeof paths.mimalloc, "%s", di.dli_fname);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("alloc_bench: %u rounds x 16 cases, %llu ops per thread per case, window %u live "
           "blocks\nper thread, sizes 8 B..64 KiB (80%% <= 128 B); memory: %llu live blocks of "
           "16 B and 64 B,\n%u round(s); %ld CPUs online\n",
           rounds, (unsigned long long)ops, window, (unsigned long long)blocks, mem_rounds, ncpu);
    printf("alloc_bench: preload %s\nalloc_bench: mimalloc %s\n", paths.preload, paths.mimalloc);
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "PT_", 3) && strncmp(*e, "PT_BACKEND=", 11))
            printf("alloc_bench: note: %s is set and applies to the pooltag cases\n", *e);
    if (ncpu < 2)
        printf("alloc_bench: note: fewer than 2 CPUs: 2-thread scaling cannot reach its "
               "target\n");

    /* res[cfg][threads-1]; mem[cfg][size] */
    static bench_result res[CFG_COUNT][MAX_THREADS], mem[CFG_COUNT][SIZES];
    const int ncases = CFG_COUNT * MAX_THREADS, nmem = CFG_COUNT * SIZES;
    for (unsigned r = 0; r < rounds; r++) {
        /* rotate the order every round so that no case always runs first */
        for (int k = 0; k < ncases; k++) {
            int c = (k + 5 * (int)r) % ncases;
            int cfg = c % CFG_COUNT;
            unsigned nt = (unsigned)(c / CFG_COUNT) + 1;
            bench_result *br = &res[cfg][nt - 1];
            if (br->failed)
                continue;
            run_timed(cfg, nt, ops, window, br);
            if (raw && !br->failed)
                printf("raw: round %u %s %u thread(s): cpu %.3f wall %.3f ns/op parallel %.3f\n",
                       r + 1, cfgs[cfg].name, nt, br->cpu[br->n - 1], br->ns[br->n - 1],
                       br->par[br->n - 1]);
        }
        for (int k = 0; r < mem_rounds && k < nmem; k++) {
            int c = (k + 5 * (int)r) % nmem;
            int cfg = c % CFG_COUNT, sz = c / CFG_COUNT;
            bench_result *br = &mem[cfg][sz];
            if (br->failed)
                continue;
            run_live(cfg, blocks, live_sizes[sz], br);
            if (raw && !br->failed)
                printf("raw: round %u %s %u B x %llu: peak RSS %.0f KiB\n", r + 1,
                       cfgs[cfg].name, live_sizes[sz], (unsigned long long)blocks,
                       br->ns[br->n - 1]);
        }
    }

    /* --instructions: every configuration once, 1 thread, under callgrind */
    double ipo[CFG_COUNT] = {0};
    bool iok[CFG_COUNT] = {0}, instr_error = false;
    uint64_t iops = ops / 20 < 10000 ? 10000 : ops / 20 > 200000 ? 200000 : ops / 20;
    if (instr && !AB_CALLGRIND) {
        fprintf(stderr, "alloc_bench: --instructions: built without <valgrind/callgrind.h> "
                        "(scripts/deps.sh installs valgrind)\n");
        return 2;
    }
    if (instr) {
        snprintf(paths.cgdir, sizeof paths.cgdir, "/tmp/alloc_bench.XXXXXX");
        if (!mkdtemp(paths.cgdir)) {
            fprintf(stderr, "alloc_bench: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
            bool inv = false;
            ipo[cfg] = run_instr(cfg, iops, window, &inv);
            iok[cfg] = ipo[cfg] > 0 && !inv;
            if (inv)
                printf("alloc_bench: INVALID: %s under callgrind: its blocks or its malloc were "
                       "not the configuration's\n",
                       cfgs[cfg].name);
            instr_error |= !iok[cfg];
        }
        rmdir(paths.cgdir);
    }

    /* Table of medians. */
    double med[CFG_COUNT][MAX_THREADS], medcpu[CFG_COUNT][MAX_THREADS];
    double medpar[CFG_COUNT][MAX_THREADS];
    bool ok[CFG_COUNT][MAX_THREADS], mok[CFG_COUNT][SIZES];
    bool any_error = false;
    printf("\n%-13s %-7s %-10s %-21s %8s %8s %8s %8s %7s %8s\n", "config", "threads", "heap",
           "malloc", "cpu", "iqr", "wall", "min", "max", "parallel");
    printf("%-13s %-7s %-10s %-21s %8s %8s %8s %8s %7s\n", "", "", "", "", "ns/op", "", "ns/op",
           "ns/op", "ns/op");
    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        for (unsigned t = 0; t < MAX_THREADS; t++) {
            bench_result *br = &res[cfg][t];
            ok[cfg][t] = !br->failed && !br->invalid && br->n > 0;
            med[cfg][t] = medcpu[cfg][t] = medpar[cfg][t] = 0;
            if (br->failed || br->n == 0) {
                printf("%-13s %-7u %-10s %-21s %8s\n", cfgs[cfg].name, t + 1, "-", "-",
                       "FAILED");
                any_error = true;
                continue;
            }
            med[cfg][t] = median(br->ns, br->n);
            medcpu[cfg][t] = median(br->cpu, br->n);
            medpar[cfg][t] = median(br->par, br->n);
            char heap[32];
            snprintf(heap, sizeof heap, "%s%s", !strcmp(br->heap, "other") ? "not-glibc" : br->heap,
                     br->invalid ? "!" : "");
            printf("%-13s %-7u %-10s %-21.21s %8.2f %7.1f%% %8.2f %8.2f %7.2f %8.2f\n",
                   cfgs[cfg].name, t + 1, heap, br->owner, medcpu[cfg][t],
                   100 * spread(br->cpu, br->n), med[cfg][t], min_of(br->ns, br->n),
                   max_of(br->ns, br->n), medpar[cfg][t]);
        }
    }
    printf("cpu ns/op = the threads' CPU time / (threads x ops), the median over rounds;\n"
           "iqr = the interquartile range of the rounds' cpu ns/op / their median; wall ns/op =\n"
           "wall time / (threads x ops) and its fastest and slowest round; parallel = CPU time /\n"
           "wall time (the median).\n");

    printf("\n%-13s %-10s %-21s %10s %8s %10s %10s\n", "config", "heap", "malloc", "16 B: RSS",
           "iqr", "64 B: RSS", "iqr");
    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        printf("%-13s", cfgs[cfg].name);
        bool shown = false;
        for (int sz = 0; sz < SIZES; sz++) {
            bench_result *br = &mem[cfg][sz];
            mok[cfg][sz] = !br->failed && !br->invalid && br->n > 0;
            if (br->failed || br->n == 0) {
                if (!shown)
                    printf(" %-10s %-21s", "-", "-");
                printf(" %10s %8s", "FAILED", "");
                any_error = true;
                shown = true;
                continue;
            }
            if (!shown) {
                char heap[32];
                snprintf(heap, sizeof heap, "%s%s",
                         !strcmp(br->heap, "other") ? "not-glibc" : br->heap,
                         br->invalid ? "!" : "");
                printf(" %-10s %-21.21s", heap, br->owner);
                shown = true;
            }
            printf(" %7.0f KiB %7.1f%%", median(br->ns, br->n), 100 * spread(br->ns, br->n));
        }
        printf("\n");
    }
    printf("RSS = the child's peak resident set (getrusage ru_maxrss, the whole process) with "
           "%llu\nlive blocks, each written in full; the median over rounds.\n",
           (unsigned long long)blocks);

    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        for (int t = 0; t < MAX_THREADS + SIZES; t++) {
            bench_result *br = t < MAX_THREADS ? &res[cfg][t] : &mem[cfg][t - MAX_THREADS];
            if (!br->invalid)
                continue;
            printf("alloc_bench: INVALID: %s (%s) was expected to allocate from %s%s%s but its "
                   "blocks went to %s (malloc from %s)\n",
                   cfgs[cfg].name, t < MAX_THREADS ? (t ? "2 threads" : "1 thread") : "memory",
                   cfgs[cfg].glibc_heap ? "glibc's heap" : "another heap than glibc's",
                   cfgs[cfg].owner ? " through malloc of " : "",
                   cfgs[cfg].owner ? cfgs[cfg].owner : "",
                   !strcmp(br->heap, "other") ? "another heap than glibc's" : br->heap, br->owner);
            any_error = true;
        }
    }

    /* Was the machine free?  A bare allocator's 2 threads should run at
     * once (parallel ~2), one thread all the time (parallel ~1). */
    bool busy = false;
    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        if (cfgs[cfg].pooltag)
            continue;
        if (ok[cfg][1] && medpar[cfg][1] < 1.8) {
            printf("alloc_bench: WARNING: bare %s at 2 threads ran with parallel %.2f (< 1.8): "
                   "the machine was not free\n",
                   cfgs[cfg].name, medpar[cfg][1]);
            busy = true;
        }
        if (ok[cfg][0] && medpar[cfg][0] < 0.9) {
            printf("alloc_bench: WARNING: bare %s at 1 thread ran with parallel %.2f (< 0.9): "
                   "it was preempted\n",
                   cfgs[cfg].name, medpar[cfg][0]);
            busy = true;
        }
    }
    if (busy)
        printf("alloc_bench: WARNING: so the wall figures (and wall scaling) are not reliable; "
               "the CPU-time\nfigures, which decide, are less disturbed (a shared core still "
               "slows them).\n");
    /* CPU-time scaling cannot see threads that sleep waiting for each other
     * (a lock): their parallelism drops below the bare backend's instead. */
    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        int b = cfgs[cfg].bare;
        if (cfgs[cfg].pooltag && ok[cfg][1] && ok[b][1] && medpar[cfg][1] < 0.9 * medpar[b][1])
            printf("alloc_bench: WARNING: %s at 2 threads ran with parallel %.2f, its bare "
                   "backend with %.2f:\nits threads may wait for each other, which the "
                   "CPU-time scaling does not show\n",
                   cfgs[cfg].name, medpar[cfg][1], medpar[b][1]);
    }

    /* Ratios. */
    ratio_row rows[40];
    int nr = 0;
    for (unsigned t = 0; t < MAX_THREADS; t++) {
        for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
            if (!cfgs[cfg].pooltag)
                continue;
            int b = cfgs[cfg].bare;
            ratio_row *q = &rows[nr++];
            memset(q, 0, sizeof *q);
            snprintf(q->what, sizeof q->what, "%s / %s, %u thread%s", cfgs[cfg].name,
                     cfgs[b].name, t + 1, t ? "s" : "");
            q->kind = ROW_TARGET;
            q->at_most = true;
            q->target = target_of(cfg);
            q->valid = ok[cfg][t] && ok[b][t];
            if (!q->valid)
                continue;
            bench_result *p = &res[cfg][t], *r = &res[b][t];
            int n = p->n < r->n ? p->n : r->n;
            q->value = boot_ratio(p->cpu, r->cpu, n, 1, &q->lo, &q->hi);
            q->noise = spread(r->cpu, r->n);
            q->wall = med[cfg][t] / med[b][t];
        }
    }
    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        int b = cfgs[cfg].bare;
        ratio_row *q = &rows[nr++];
        memset(q, 0, sizeof *q);
        snprintf(q->what, sizeof q->what, "2T/1T throughput, %s", cfgs[cfg].name);
        q->kind = cfgs[cfg].pooltag ? ROW_TARGET : ROW_REF;
        q->target = 1.8;
        q->valid = ok[cfg][0] && ok[cfg][1];
        if (!q->valid)
            continue;
        /* each of 2 threads does an op per (2-thread CPU ns/op): with 2
         * free CPUs the throughput is 2 x (1T CPU ns/op) / (2T CPU ns/op) */
        bench_result *p1 = &res[cfg][0], *p2 = &res[cfg][1];
        int n = p1->n < p2->n ? p1->n : p2->n;
        q->value = boot_ratio(p1->cpu, p2->cpu, n, 2, &q->lo, &q->hi);
        q->noise = ok[b][1] ? spread(res[b][1].cpu, res[b][1].n) : 0;
        q->wall = med[cfg][0] / med[cfg][1];
    }
    for (int sz = 0; sz < SIZES; sz++) {
        for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
            if (!cfgs[cfg].pooltag)
                continue;
            int b = cfgs[cfg].bare;
            ratio_row *q = &rows[nr++];
            memset(q, 0, sizeof *q);
            snprintf(q->what, sizeof q->what, "RSS %u B, %s / %s", live_sizes[sz], cfgs[cfg].name,
                     cfgs[b].name);
            q->kind = live_sizes[sz] == 16 ? ROW_TARGET : ROW_INFO;
            q->at_most = true;
            q->target = 1.10;
            q->valid = mok[cfg][sz] && mok[b][sz];
            if (!q->valid)
                continue;
            bench_result *p = &mem[cfg][sz], *r = &mem[b][sz];
            int n = p->n < r->n ? p->n : r->n;
            q->value = boot_ratio(p->ns, r->ns, n, 1, &q->lo, &q->hi);
            q->noise = spread(r->ns, r->n);
        }
    }

    int misses = 0, targets = 0;
    printf("\n%-38s %8s %8s  %-12s %-13s %6s %6s\n", "ratio", "measured", "target", "result",
           "95% interval", "noise", "wall");
    for (int i = 0; i < nr; i++) {
        ratio_row *q = &rows[i];
        char target[16] = "-";
        if (q->kind != ROW_INFO)
            snprintf(target, sizeof target, "%s %.2f", q->at_most ? "<=" : ">=", q->target);
        if (q->kind == ROW_TARGET)
            targets++;
        if (!q->valid) {
            printf("%-38s %8s %8s  %-12s\n", q->what, "n/a", target, "NO RESULT");
            if (q->kind == ROW_TARGET)
                misses++;
            continue;
        }
        bool pass = q->at_most ? q->value <= q->target : q->value >= q->target;
        const char *verdict = pass ? "PASS" : "MISS";
        if (q->kind == ROW_REF)
            verdict = pass ? "(ref)" : "(ref, below)";
        else if (q->kind == ROW_INFO)
            verdict = "(info)";
        else if (!pass)
            misses++;
        char iv[32], wall[16] = "-";
        snprintf(iv, sizeof iv, "%.3f-%.3f", q->lo, q->hi);
        if (q->wall > 0)
            snprintf(wall, sizeof wall, "%.3f", q->wall);
        printf("%-38s %8.3f %8s  %-12s %-13s %5.1f%% %6s\n", q->what, q->value, target, verdict,
               iv, 100 * q->noise, wall);
    }
    printf("measured: time ratios from the median CPU ns/op (2T/1T throughput: 2 x 1-thread\n"
           "CPU ns/op / 2-thread CPU ns/op, what two free CPUs give), RSS ratios from the median\n"
           "peak RSS; these decide PASS/MISS. 95%% interval: percentile bootstrap over the rounds\n"
           "(%d resamples). noise: the interquartile range / median of the bare backend's rounds\n"
           "(its 2-thread rounds for throughput). wall: the same ratio from median wall times.\n"
           "(ref): a bare allocator's scaling, for comparison; (info): no target.\n",
           BOOT_SAMPLES);
    if (instr) {
        printf("\ninstructions per operation (one free + one malloc), counted by callgrind in "
               "the timed\nloop only, 1 thread, %llu operations:\n",
               (unsigned long long)iops);
        for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
            if (iok[cfg])
                printf("  %-13s %8.1f\n", cfgs[cfg].name, ipo[cfg]);
            else
                printf("  %-13s %8s\n", cfgs[cfg].name, "FAILED");
        }
        printf("%-38s %8s %8s\n", "ratio (instructions, 1 thread)", "measured", "target");
        for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
            int b = cfgs[cfg].bare;
            if (!cfgs[cfg].pooltag)
                continue;
            char what[64];
            snprintf(what, sizeof what, "%s / %s", cfgs[cfg].name, cfgs[b].name);
            if (!iok[cfg] || !iok[b]) {
                printf("%-38s %8s\n", what, "n/a");
                continue;
            }
            double v = ipo[cfg] / ipo[b];
            printf("%-38s %8.3f  <= %.2f  %s\n", what, v, target_of(cfg),
                   v <= target_of(cfg) ? "(within)" : "(above)");
        }
        printf("Instruction counts hardly vary from run to run; they are shown next to the "
               "time\ntargets but do not decide them (an instruction is not a fixed time: cache "
               "misses,\nthe header's memory).\n");
        any_error |= instr_error;
    }
    printf("\nalloc_bench: %d of %d pooltag targets missed%s\n", misses, targets,
           any_error ? "; some cases FAILED or INVALID (see above)" : "");
    if (any_error)
        return 1;
    return check && misses ? 1 : 0;
}
#endif
