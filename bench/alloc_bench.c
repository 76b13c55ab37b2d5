/*
 * alloc_bench.c — what tag accounting costs on the allocation fast path.
 *
 * Four configurations are measured in one run, each at 1 and 2 threads:
 *
 *   mimalloc      mi_malloc / mi_free                  (bare backend)
 *   pooltag-mi    pt_alloc / pt_free, default backend  (PT_BACKEND unset)
 *   glibc         glibc's malloc / free                (bare backend)
 *   pooltag-libc  pt_alloc / pt_free, PT_BACKEND=libc
 *
 * and the program prints the time ratios pooltag / bare and the 2-thread
 * over 1-thread throughput, next to the targets of the design (pooltag on
 * mimalloc <= 1.10x, pooltag on glibc <= 1.05x, 2 threads >= 1.8x).
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
 * is the allocator and one store into the new block, nothing else.
 *
 * Process structure: the backend of libpooltag is chosen from the
 * environment at its first use, so every measurement runs in a fresh child
 * (fork + exec of this program with "--child CONFIG THREADS OPS WINDOW" and
 * the configuration's environment).  The child fills the windows, runs a
 * warm-up of OPS/8 operations, times OPS operations per thread (wall time
 * from the first thread's start to the last thread's end, and each
 * thread's CPU time) and writes one line, "ns=... cpu=... par=... heap=...",
 * to its stdout, a pipe.  The parent interleaves the eight (configuration,
 * threads) cases over several rounds (9 by default; the order rotates every
 * round) and reports the median of each: a run disturbed by another process
 * moves a median much less than a mean.
 *
 * Which malloc is measured: libmimalloc.so exports malloc, free and even
 * __libc_malloc, and this program links it (and libpooltag links it), so
 * "malloc" here may well be mimalloc.  The glibc configuration therefore
 * takes malloc/free from libc.so.6 itself (dlopen RTLD_NOLOAD + dlsym on
 * that handle), and every child checks where its blocks went: glibc's
 * mallinfo2() in-use bytes must grow by about the live bytes of the windows
 * for the glibc configurations and must not for the mimalloc ones.  A
 * configuration whose heap is not the expected one is reported INVALID.
 * For the pooltag configurations the child also checks that the runtime
 * counted every allocation and free of the benchmark's tag.
 *
 * Exit status: 0 (benchmarks do not fail CI on numbers); 1 if a child
 * failed or a configuration measured the wrong heap, or with --check if a
 * target was missed; 2 on a usage error.
 */
#define _GNU_SOURCE
#include "pooltag.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <mimalloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_TAG PT_TAG("Bnch")
#define OPTAB (1u << 16) /* precomputed operations, walked cyclically */
#define MAX_THREADS 2
#define CHILD_ALARM 300 /* seconds: a hung child dies on SIGALRM */

enum { CFG_MI, CFG_PT_MI, CFG_LIBC, CFG_PT_LIBC, CFG_COUNT };

typedef struct bench_cfg {
    const char *name;
    const char *backend; /* PT_BACKEND for the child, NULL = unset */
    bool glibc_heap;     /* blocks must land in glibc's heap */
} bench_cfg;

static const bench_cfg cfgs[CFG_COUNT] = {
    [CFG_MI] = {"mimalloc", NULL, false},
    [CFG_PT_MI] = {"pooltag-mi", NULL, false},
    [CFG_LIBC] = {"glibc", NULL, true},
    [CFG_PT_LIBC] = {"pooltag-libc", "libc", true},
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

static inline void *pt_alloc_paged(size_t n)
{
    return pt_alloc(PT_PAGED, n, BENCH_TAG);
}

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

BENCH_LOOPS(mi, mi_malloc, mi_free)
BENCH_LOOPS(pt, pt_alloc_paged, pt_free)
BENCH_LOOPS(gl, glibc_malloc, glibc_free)

static bool cfg_fill(bench_thread *t, uint64_t *rng)
{
    switch (t->cfg) {
    case CFG_MI:
        return mi_fill(t, rng);
    case CFG_LIBC:
        return gl_fill(t, rng);
    default:
        return pt_fill(t, rng);
    }
}

static bool cfg_run(bench_thread *t, uint64_t ops)
{
    switch (t->cfg) {
    case CFG_MI:
        return mi_run(t, ops);
    case CFG_LIBC:
        return gl_run(t, ops);
    default:
        return pt_run(t, ops);
    }
}

static void cfg_drain(bench_thread *t)
{
    switch (t->cfg) {
    case CFG_MI:
        mi_drain(t);
        break;
    case CFG_LIBC:
        gl_drain(t);
        break;
    default:
        pt_drain(t);
        break;
    }
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
    if (ok)
        ok = cfg_run(t, t->ops);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t->c1);
    clock_gettime(CLOCK_MONOTONIC, &t->t1);
    t->failed = !ok;
    return NULL;
}

static double ts_ns(struct timespec t)
{
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/*
 * Run one measurement and print one line on stdout:
 *   ns=<wall ns per op> cpu=<CPU ns per op> par=<parallelism> heap=<...>
 * where wall ns per op = wall time / (threads x ops), CPU ns per op = the
 * threads' CPU time / (threads x ops), and parallelism = CPU time / wall
 * time (2.0 when two threads really ran at once).  Returns the exit status:
 * 0, or 1 after a one-line error.
 */
static int child_main(int cfg, unsigned nthreads, uint64_t ops, uint32_t window)
{
    alarm(CHILD_ALARM);
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

    bench_thread th[MAX_THREADS];
    memset(th, 0, sizeof th);
    pthread_barrier_init(&g_barrier, NULL, nthreads + 1);
    struct mallinfo2 before = glibc_mallinfo2();
    for (unsigned i = 0; i < nthreads; i++) {
        bench_thread *t = &th[i];
        t->cfg = cfg;
        t->seed = 0x616c6c6f63ull * (i + 1);
        t->ops = ops;
        t->window = window;
        /* the harness's own memory comes from mmap-backed mimalloc, never
         * from glibc's heap, so that mallinfo2 sees only the blocks */
        t->slot = mi_calloc(window, sizeof *t->slot);
        t->optab = mi_calloc(OPTAB, sizeof *t->optab);
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
        cfg_drain(&th[i]);
    }
    if (failed) {
        fprintf(stderr, "alloc_bench: %s: an allocation failed\n", cfgs[cfg].name);
        return 1;
    }

    /* Which heap did the blocks go to?  glibc's in-use bytes grow by at
     * least the requested bytes if it was glibc, and stay put otherwise. */
    double grew = (double)after.uordblks - (double)before.uordblks;
    const char *heap = grew >= 0.5 * (double)live   ? "glibc"
                       : grew <= 0.1 * (double)live ? "other"
                                                    : "unclear";

    /* The pooltag configurations must have counted every operation. */
    if (cfg == CFG_PT_MI || cfg == CFG_PT_LIBC) {
        uint64_t want = (uint64_t)nthreads * (window + ops / 8 + ops);
        pt_tag_info info;
        if (pt_tag_read(BENCH_TAG, &info) != 0 || info.pool[PT_PAGED].allocs != want ||
            info.pool[PT_PAGED].frees != want ||
            info.pool[PT_PAGED].bytes_alloc != info.pool[PT_PAGED].bytes_freed) {
            fprintf(stderr,
                    "alloc_bench: %s: pooltag counted %llu allocs "
                    "and %llu frees of tag Bnch, expected %llu of each\n",
                    cfgs[cfg].name, (unsigned long long)info.pool[PT_PAGED].allocs,
                    (unsigned long long)info.pool[PT_PAGED].frees, (unsigned long long)want);
            return 1;
        }
    }
    double total = (double)ops * nthreads;
    printf("ns=%.4f cpu=%.4f par=%.4f heap=%s\n", (t1 - t0) / total, cpu / total, cpu / (t1 - t0),
           heap);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Parent: rounds, medians, ratios */

typedef struct bench_sample {
    double ns;     /* wall ns per op */
    double cpu;    /* CPU ns per op */
    double par;    /* parallelism: CPU time / wall time */
    char heap[16]; /* "glibc", "other" or "unclear" */
} bench_sample;

typedef struct bench_result {
    double ns[64];  /* per round: wall ns per op */
    double cpu[64]; /*            CPU ns per op */
    double par[64]; /*            parallelism */
    int n;
    bool invalid; /* measured the wrong heap */
    bool failed;  /* a child failed */
} bench_result;

/*
 * Run one child: exec self with the configuration's environment, read its
 * line from a pipe.  Returns 0 and fills *out, or -1 (reported).
 */
static int run_child(const char *self, int cfg, unsigned nthreads, uint64_t ops, uint32_t window,
                     bench_sample *out)
{
    int fd[2];
    if (pipe(fd)) {
        fprintf(stderr, "alloc_bench: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "alloc_bench: fork: %s\n", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        if (cfgs[cfg].backend)
            setenv("PT_BACKEND", cfgs[cfg].backend, 1);
        else
            unsetenv("PT_BACKEND");
        char a_cfg[16], a_thr[16], a_ops[32], a_win[16];
        snprintf(a_cfg, sizeof a_cfg, "%d", cfg);
        snprintf(a_thr, sizeof a_thr, "%u", nthreads);
        snprintf(a_ops, sizeof a_ops, "%llu", (unsigned long long)ops);
        snprintf(a_win, sizeof a_win, "%u", window);
        execl(self, self, "--child", a_cfg, a_thr, a_ops, a_win, (char *)NULL);
        fprintf(stderr, "alloc_bench: exec %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    char buf[256];
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd[0], buf + len, sizeof buf - 1 - len)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t)r;
        if (len == sizeof buf - 1)
            break;
    }
    buf[len] = 0;
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            fprintf(stderr,
                    "alloc_bench: %s, %u thread(s): child killed by "
                    "signal %d\n",
                    cfgs[cfg].name, nthreads, WTERMSIG(status));
        else
            fprintf(stderr,
                    "alloc_bench: %s, %u thread(s): child exited "
                    "with status %d\n",
                    cfgs[cfg].name, nthreads, WEXITSTATUS(status));
        return -1;
    }
    if (sscanf(buf, "ns=%lf cpu=%lf par=%lf heap=%15s", &out->ns, &out->cpu, &out->par,
               out->heap) != 4 ||
        !(out->ns > 0)) {
        fprintf(stderr,
                "alloc_bench: %s, %u thread(s): unreadable result "
                "'%.60s'\n",
                cfgs[cfg].name, nthreads, buf);
        return -1;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of x[0..n), n >= 1. */
static double median(const double *x, int n)
{
    double v[64];
    memcpy(v, x, sizeof(double) * (size_t)n);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double min_of(const bench_result *r)
{
    double m = r->ns[0];
    for (int i = 1; i < r->n; i++)
        if (r->ns[i] < m)
            m = r->ns[i];
    return m;
}

static double max_of(const bench_result *r)
{
    double m = r->ns[0];
    for (int i = 1; i < r->n; i++)
        if (r->ns[i] > m)
            m = r->ns[i];
    return m;
}

static const char usage_text[] =
    "usage: alloc_bench [--quick] [--check] [--rounds N] [--ops N] "
    "[--window N]\n"
    "\n"
    "Measures pooltag's tag accounting against the bare allocators\n"
    "(mimalloc, glibc) at 1 and 2 threads and prints the ratios and targets.\n"
    "\n"
    "  --quick      a few seconds (2 rounds, 200000 ops): checks that it runs\n"
    "  --check      exit 1 if a pooltag target is missed\n"
    "  --rounds N   rounds, each running every case once (default 9, max 64)\n"
    "  --ops N      timed operations per thread per case (default 4000000)\n"
    "  --window N   live blocks per thread (default 10000, max 1000000)\n";

static void __attribute__((noreturn)) usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "alloc_bench: %s '%s' (see alloc_bench --help)\n", msg, arg);
    exit(2);
}

/* Parse a decimal count in [lo, hi] or exit 2. */
static uint64_t parse_count(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    if (!s)
        usage_error("missing value for", opt);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s needs a count from %llu to %llu, not", opt,
                 (unsigned long long)lo, (unsigned long long)hi);
        usage_error(msg, s);
    }
    return v;
}

typedef struct ratio_row {
    const char *what;
    double value;     /* from median wall times */
    double cpu_value; /* the same from median CPU times */
    bool at_most;     /* target is an upper bound */
    double target;
    bool counts; /* a pooltag target (--check), else reference */
    bool valid;
} ratio_row;

int main(int argc, char **argv)
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

    unsigned rounds = 9;
    uint64_t ops = 4000000;
    uint32_t window = 10000;
    bool check = false, quick = false, rounds_set = false, ops_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            quick = true;
        } else if (!strcmp(a, "--check")) {
            check = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--rounds")) {
            rounds = (unsigned)parse_count(a, v, 1, 64);
            rounds_set = true;
            i++;
        } else if (!strcmp(a, "--ops")) {
            ops = parse_count(a, v, 8, 1ull << 36);
            ops_set = true;
            i++;
        } else if (!strcmp(a, "--window")) {
            window = (uint32_t)parse_count(a, v, 1, 1000000);
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

    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "alloc_bench: cannot find own executable: %s\n", strerror(errno));
        return 1;
    }
    self[sl] = 0;

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("alloc_bench: %u rounds x 8 cases, %llu ops per thread per case, "
           "window %u live blocks per thread, sizes 8 B..64 KiB (80%% <= "
           "128 B); %ld CPUs online\n",
           rounds, (unsigned long long)ops, window, ncpu);
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "PT_", 3) && strncmp(*e, "PT_BACKEND=", 11))
            printf("alloc_bench: note: %s is set and applies to the pooltag "
                   "cases\n",
                   *e);
    if (ncpu < 2)
        printf("alloc_bench: note: fewer than 2 CPUs: 2-thread scaling "
               "cannot reach its target\n");

    /* res[cfg][threads-1] */
    bench_result res[CFG_COUNT][MAX_THREADS];
    memset(res, 0, sizeof res);
    char heap_seen[CFG_COUNT][MAX_THREADS][16];
    memset(heap_seen, 0, sizeof heap_seen);
    const int ncases = CFG_COUNT * MAX_THREADS;
    for (unsigned r = 0; r < rounds; r++) {
        /* rotate the order every round so that no case always runs first */
        for (int k = 0; k < ncases; k++) {
            int c = (k + 3 * (int)r) % ncases;
            int cfg = c % CFG_COUNT;
            unsigned nt = (unsigned)(c / CFG_COUNT) + 1;
            bench_result *br = &res[cfg][nt - 1];
            if (br->failed)
                continue;
            bench_sample smp;
            if (run_child(self, cfg, nt, ops, window, &smp)) {
                br->failed = true;
                continue;
            }
            bool want_glibc = cfgs[cfg].glibc_heap;
            if (strcmp(smp.heap, want_glibc ? "glibc" : "other"))
                br->invalid = true;
            memcpy(heap_seen[cfg][nt - 1], smp.heap, sizeof smp.heap);
            br->ns[br->n] = smp.ns;
            br->cpu[br->n] = smp.cpu;
            br->par[br->n] = smp.par;
            br->n++;
        }
    }

    /* Table of medians. */
    double med[CFG_COUNT][MAX_THREADS], medcpu[CFG_COUNT][MAX_THREADS];
    bool ok[CFG_COUNT][MAX_THREADS];
    bool any_error = false, crowded = false;
    printf("\n%-13s %-7s %-10s %8s %8s %8s %8s %8s\n", "config", "threads", "heap", "wall", "min",
           "max", "cpu", "parallel");
    printf("%-13s %-7s %-10s %8s %8s %8s %8s %8s\n", "", "", "", "ns/op", "ns/op", "ns/op", "ns/op",
           "");
    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        for (unsigned t = 0; t < MAX_THREADS; t++) {
            bench_result *br = &res[cfg][t];
            ok[cfg][t] = !br->failed && !br->invalid && br->n > 0;
            med[cfg][t] = medcpu[cfg][t] = 0;
            if (br->failed || br->n == 0) {
                printf("%-13s %-7u %-10s %8s\n", cfgs[cfg].name, t + 1, "-", "FAILED");
                any_error = true;
                continue;
            }
            med[cfg][t] = median(br->ns, br->n);
            medcpu[cfg][t] = median(br->cpu, br->n);
            double par = median(br->par, br->n);
            if (t == 1 && par < 1.8)
                crowded = true;
            char heap[32];
            snprintf(heap, sizeof heap, "%s%s",
                     !strcmp(heap_seen[cfg][t], "other") ? "not-glibc" : heap_seen[cfg][t],
                     br->invalid ? "!" : "");
            printf("%-13s %-7u %-10s %8.2f %8.2f %8.2f %8.2f %8.2f\n", cfgs[cfg].name, t + 1, heap,
                   med[cfg][t], min_of(br), max_of(br), medcpu[cfg][t], par);
            if (br->invalid) {
                printf("alloc_bench: INVALID: %s at %u thread(s) was expected "
                       "to allocate from %s but its blocks went to %s\n",
                       cfgs[cfg].name, t + 1,
                       cfgs[cfg].glibc_heap ? "glibc's heap" : "mimalloc (not glibc's heap)",
                       !strcmp(heap_seen[cfg][t], "other") ? "another allocator (mimalloc)"
                                                           : heap_seen[cfg][t]);
                any_error = true;
            }
        }
    }
    printf("wall ns/op = wall time / (threads x ops), the median over rounds; "
           "cpu ns/op = the\nthreads' CPU time / (threads x ops); parallel = "
           "CPU time / wall time.\n");
    if (crowded)
        printf("alloc_bench: note: the 2-thread cases ran with parallelism "
               "below 1.8: another process\nwas using a CPU, so the 2-thread "
               "wall times and the wall scaling figures are not reliable.\n");

    /* Ratios: time ratios pooltag / bare (lower is better) and throughput
     * 2 threads / 1 thread = (1-thread ns/op) / (2-thread ns/op). */
    ratio_row rows[8];
    int nr = 0;
    for (unsigned t = 0; t < MAX_THREADS; t++) {
        static const char *const what_mi[] = {"pooltag-mi / mimalloc, 1 thread",
                                              "pooltag-mi / mimalloc, 2 threads"};
        static const char *const what_gl[] = {"pooltag-libc / glibc, 1 thread",
                                              "pooltag-libc / glibc, 2 threads"};
        bool v = ok[CFG_PT_MI][t] && ok[CFG_MI][t];
        rows[nr++] = (ratio_row){what_mi[t],
                                 v ? med[CFG_PT_MI][t] / med[CFG_MI][t] : 0,
                                 v ? medcpu[CFG_PT_MI][t] / medcpu[CFG_MI][t] : 0,
                                 true,
                                 1.10,
                                 true,
                                 v};
        v = ok[CFG_PT_LIBC][t] && ok[CFG_LIBC][t];
        rows[nr++] = (ratio_row){what_gl[t],
                                 v ? med[CFG_PT_LIBC][t] / med[CFG_LIBC][t] : 0,
                                 v ? medcpu[CFG_PT_LIBC][t] / medcpu[CFG_LIBC][t] : 0,
                                 true,
                                 1.05,
                                 true,
                                 v};
    }
    static const char *const what_scale[CFG_COUNT] = {[CFG_MI] = "2T/1T throughput, mimalloc",
                                                      [CFG_PT_MI] = "2T/1T throughput, pooltag-mi",
                                                      [CFG_LIBC] = "2T/1T throughput, glibc",
                                                      [CFG_PT_LIBC] =
                                                          "2T/1T throughput, pooltag-libc"};
    for (int cfg = 0; cfg < CFG_COUNT; cfg++) {
        bool v = ok[cfg][0] && ok[cfg][1];
        /* cpu column: the throughput ratio 2 threads would reach with 2
         * free CPUs: each thread does an op per (2-thread CPU ns/op), so
         * 2 x (1-thread CPU ns/op) / (2-thread CPU ns/op) */
        rows[nr++] = (ratio_row){what_scale[cfg],
                                 v ? med[cfg][0] / med[cfg][1] : 0,
                                 v ? 2 * medcpu[cfg][0] / medcpu[cfg][1] : 0,
                                 false,
                                 1.8,
                                 cfg == CFG_PT_MI || cfg == CFG_PT_LIBC,
                                 v};
    }
    int misses = 0;
    printf("\n%-32s %8s %8s  %-12s %8s\n", "ratio", "measured", "target", "result", "cpu-time");
    for (int i = 0; i < nr; i++) {
        ratio_row *q = &rows[i];
        char target[16];
        snprintf(target, sizeof target, "%s %.2f", q->at_most ? "<=" : ">=", q->target);
        if (!q->valid) {
            printf("%-32s %8s %8s  %-12s\n", q->what, "n/a", target, "NO RESULT");
            continue;
        }
        bool pass = q->at_most ? q->value <= q->target : q->value >= q->target;
        const char *verdict = pass ? "PASS" : "MISS";
        if (!q->counts)
            verdict = pass ? "(ref)" : "(ref, below)";
        else if (!pass)
            misses++;
        printf("%-32s %8.3f %8s  %-12s %8.3f\n", q->what, q->value, target, verdict, q->cpu_value);
    }
    printf("measured: from the median wall times (PASS/MISS); cpu-time: the "
           "same ratio from CPU time,\nless disturbed by other processes; "
           "(ref): a bare allocator, shown for comparison.\n");
    printf("\nalloc_bench: %d of 6 pooltag targets missed%s\n", misses,
           any_error ? "; some cases FAILED or INVALID (see above)" : "");
    if (any_error)
        return 1;
    return check && misses ? 1 : 0;
}
