/*
 * churn_bench.c — what the preload costs a program whose threads are
 * created and end all the time (issue 14: many short-lived threads, blocks
 * freed by another thread than the one that allocated them).
 *
 *   churn_bench [--quick] [--rounds N] [--lifetimes N] [--ops N]
 *               [--threads N] [--preload PATH] [--mimalloc LIB]
 *
 * Four configurations, each run as a fresh child (this program run again
 * with --child and the configuration's environment):
 *
 *   glibc          plain malloc/free of glibc (no LD_PRELOAD)
 *   mimalloc       LD_PRELOAD=libmimalloc.so.2 (the bare backend)
 *   pooltag-mi     LD_PRELOAD=libpooltag-preload.so, PT_BACKEND=mimalloc
 *   pooltag-libc   LD_PRELOAD=libpooltag-preload.so, PT_BACKEND=libc
 *
 * Workload (the child): THREADS workers are alive at any time; the main
 * thread joins the oldest and starts a new one until LIFETIMES workers have
 * run.  A worker keeps a window of 64 slots: each of its OPS operations
 * frees the block in a random slot (if any) and mallocs a new one of a
 * random size (16..256 B 85 %, 257..4096 B 15 %), touching its first and
 * last byte; one operation in 8 then exchanges a random slot's block with a
 * slot of a process-wide transfer array (atomic exchange), so blocks are
 * freed by other threads than the ones that allocated them, some after
 * their allocating thread has ended.  A worker frees its window when it
 * ends; the main thread frees what is left in the transfer array at the
 * end.  The sequence is deterministic per worker (seeded by its number).
 *
 * The child times the whole run (wall: CLOCK_MONOTONIC; CPU: getrusage of
 * the process, which includes the ended threads: thread creation, exit and
 * the allocator's per-thread setup and teardown are part of the cost) and
 * checks that it measured what it claims:
 *   - heap: 1000 blocks of 100 B allocated through malloc must raise
 *     glibc's mallinfo2() in-use bytes by at least 100,000 in the glibc
 *     configurations and by less than 10,000 in the mimalloc ones;
 *   - pooltag (the pooltag configurations only): the segment memfd
 *     "/memfd:pooltag" is mapped, and the counters read back with
 *     pt_tags_read after every worker has ended show, for the tag that
 *     gained the most allocations (the program's automatic module tag),
 *     exactly the workload's allocations and frees, and Bytes back to
 *     where it was: counts exact across thread exits;
 *   - no pooltag segment in the bare configurations.
 * It writes one line to its stdout (a pipe to the parent).
 *
 * The parent interleaves the configurations over ROUNDS rounds (the order
 * rotates every round) and prints per configuration the median wall and
 * CPU microseconds per thread lifetime with min..max, then the ratios
 * pooltag-mi / mimalloc and pooltag-libc / glibc (and mimalloc / glibc for
 * reference) from the medians, each with a 95 % percentile bootstrap
 * interval (2000 resamples of the rounds of both configurations).  The
 * noise column is the bare configuration's spread, (max - min) / median.
 *
 * Exit status: 0 (numbers never fail a build); 1 if a child failed or a
 * check above did not hold; 2 on a usage error.
 */
#define _GNU_SOURCE
#include "pooltag.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PT_PRELOAD_PATH
#define PT_PRELOAD_PATH "libpooltag-preload.so"
#endif

#define WIN 64           /* slots of a worker's window */
#define NXFER 1024       /* transfer array */
#define MAX_ROUNDS 64
#define BU_PROG "churn_bench"
#include "bench_util.h"
#define MAX_THREADS 256
#define MAX_TAGS_READ 8192
#define CHILD_ALARM 600 /* seconds: a hung child dies on SIGALRM */

enum { CFG_GLIBC, CFG_MI, CFG_PT_MI, CFG_PT_LIBC, CFG_COUNT };

typedef struct churn_cfg {
    const char *name;
    int preload;       /* 0 none, 1 mimalloc, 2 pooltag */
    const char *backend;
    bool glibc_heap;
} churn_cfg;

static const churn_cfg cfgs[CFG_COUNT] = {
    [CFG_GLIBC] = {"glibc", 0, NULL, true},
    [CFG_MI] = {"mimalloc", 1, NULL, false},
    [CFG_PT_MI] = {"pooltag-mi", 2, "mimalloc", false},
    [CFG_PT_LIBC] = {"pooltag-libc", 2, "libc", true},
};

/* ---------------------------------------------------------------------- */
/* Child: the workload */

static void *volatile xfer[NXFER];
static uint64_t g_ops;

typedef struct worker {
    pthread_t th;
    uint64_t seed;
    uint64_t allocs, frees;
} worker;

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t pick_size(uint64_t r)
{
    if (r % 100 < 85)
        return 16 + (size_t)((r >> 8) % 241);
    return 257 + (size_t)((r >> 8) % 3840);
}

static void *work(void *arg)
{
    worker *w = arg;
    void *win[WIN] = {0};
    uint64_t s = w->seed, allocs = 0, frees = 0;
    for (uint64_t k = 0; k < g_ops; k++) {
        uint64_t r = rng(&s);
        unsigned slot = (unsigned)(r % WIN);
        if (win[slot]) {
            free(win[slot]);
            frees++;
        }
        size_t n = pick_size(r >> 6);
        char *p = malloc(n);
        if (!p) {
            fprintf(stderr, "churn_bench: malloc(%zu) failed\n", n);
            abort();
        }
        p[0] = 1;
        p[n - 1] = 2;
        allocs++;
        win[slot] = p;
        if ((r >> 58) % 8 == 0) {
            unsigned t = (unsigned)((r >> 20) % NXFER);
            unsigned o = (unsigned)((r >> 40) % WIN);
            win[o] = __atomic_exchange_n(&xfer[t], win[o], __ATOMIC_ACQ_REL);
        }
    }
    for (unsigned i = 0; i < WIN; i++)
        if (win[i]) {
            free(win[i]);
            frees++;
        }
    w->allocs = allocs;
    w->frees = frees;
    return NULL;
}

/* In-use bytes of glibc's own heap (NULL: none found). */
static size_t glibc_inuse(struct mallinfo2 (*mi2)(void))
{
    struct mallinfo2 m = mi2();
    return m.uordblks + m.hblkhd;
}

/* Is the pooltag segment mapped in this process? */

static pt_tag_info tags0[MAX_TAGS_READ], tags1[MAX_TAGS_READ];

static int child_main(int cfg, unsigned nthreads, uint64_t lifetimes, uint64_t ops)
{
    alarm(CHILD_ALARM);
    g_ops = ops;
    /* heap check */
    const char *heap = "unknown";
    void *lc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    struct mallinfo2 (*mi2)(void) = lc ? (struct mallinfo2(*)(void))dlsym(lc, "mallinfo2") : NULL;
    if (mi2) {
        static void *probe[1000];
        size_t before = glibc_inuse(mi2);
        for (int i = 0; i < 1000; i++)
            probe[i] = malloc(100);
        size_t after = glibc_inuse(mi2);
        for (int i = 0; i < 1000; i++)
            free(probe[i]);
        if (after >= before + 100000)
            heap = "glibc";
        else if (after < before + 10000)
            heap = "other";
    }
    size_t (*tags_read)(pt_tag_info *, size_t) =
        (size_t(*)(pt_tag_info *, size_t))dlsym(RTLD_DEFAULT, "pt_tags_read");
    bool mapped = segment_mapped();
    size_t n0 = 0;
    if (tags_read) {
        n0 = tags_read(tags0, MAX_TAGS_READ);
        if (n0 > MAX_TAGS_READ)
            n0 = MAX_TAGS_READ;
    }

    static worker ws[MAX_THREADS];
    struct timespec t0, t1;
    struct rusage u0, u1;
    getrusage(RUSAGE_SELF, &u0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t started = 0, allocs = 0, frees = 0;
    for (unsigned i = 0; i < nthreads && started < lifetimes; i++, started++) {
        ws[i].seed = started + 1;
        if (pthread_create(&ws[i].th, NULL, work, &ws[i])) {
            fprintf(stderr, "churn_bench: pthread_create failed\n");
            return 1;
        }
    }
    for (uint64_t done = 0; done < lifetimes; done++) {
        worker *w = &ws[done % nthreads];
        pthread_join(w->th, NULL);
        allocs += w->allocs;
        frees += w->frees;
        if (started < lifetimes) {
            w->seed = ++started;
            if (pthread_create(&w->th, NULL, work, w)) {
                fprintf(stderr, "churn_bench: pthread_create failed\n");
                return 1;
            }
        }
    }
    for (unsigned i = 0; i < NXFER; i++)
        if (xfer[i]) {
            free(xfer[i]);
            xfer[i] = NULL;
            frees++;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &u1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
    double cpu = (double)(u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) * 1e6 +
                 (double)(u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) +
                 (double)(u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) * 1e6 +
                 (double)(u1.ru_stime.tv_usec - u0.ru_stime.tv_usec);

    /* counts check: the tag that gained the most allocations */
    const char *counted = "none";
    char why[160] = "";
    if (tags_read) {
        size_t n1 = tags_read(tags1, MAX_TAGS_READ);
        if (n1 > MAX_TAGS_READ)
            n1 = MAX_TAGS_READ;
        uint64_t best = 0, bfree = 0;
        int64_t bnet = 0;
        uint32_t btag = 0;
        for (size_t i = 0; i < n1; i++) {
            uint64_t a0 = 0, f0 = 0, ba0 = 0, bf0 = 0;
            for (size_t j = 0; j < n0; j++)
                if (tags0[j].tag == tags1[i].tag) {
                    a0 = tags0[j].pool[PT_PAGED].allocs;
                    f0 = tags0[j].pool[PT_PAGED].frees;
                    ba0 = tags0[j].pool[PT_PAGED].bytes_alloc;
                    bf0 = tags0[j].pool[PT_PAGED].bytes_freed;
                }
            const pt_counts *c = &tags1[i].pool[PT_PAGED];
            if (c->allocs - a0 > best) {
                best = c->allocs - a0;
                bfree = c->frees - f0;
                bnet = (int64_t)((c->bytes_alloc - ba0) - (c->bytes_freed - bf0));
                btag = tags1[i].tag;
            }
        }
        char tt[5];
        memcpy(tt, &btag, 4);
        for (int i = 0; i < 4; i++)
            if (tt[i] < 0x20 || tt[i] > 0x7e)
                tt[i] = '?';
        tt[4] = 0;
        if (best == allocs && bfree == frees && bnet == 0 && mapped) {
            counted = "exact";
        } else {
            counted = "wrong";
            snprintf(why, sizeof why,
                     " tag '%s' gained allocs %llu frees %llu bytes %lld, segment %s",
                     tt, (unsigned long long)best, (unsigned long long)bfree, (long long)bnet,
                     mapped ? "mapped" : "not mapped");
        }
    } else if (mapped) {
        counted = "segment-without-api";
    }
    printf("wall=%.1f cpu=%.1f allocs=%llu frees=%llu heap=%s counted=%s%s\n", wall, cpu,
           (unsigned long long)allocs, (unsigned long long)frees, heap, counted, why);
    (void)cfg;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Parent */

typedef struct sample {
    double wall, cpu;
    unsigned long long allocs, frees;
    char heap[16], counted[24];
} sample;

static int run_child(const char *self, int cfg, const char *preload, const char *mimalloc,
                     unsigned nthreads, uint64_t lifetimes, uint64_t ops, sample *out)
{
    int rfd;
    pid_t pid = fork_piped(&rfd);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        unsetenv("PT_BACKEND");
        unsetenv("LD_PRELOAD");
        if (cfgs[cfg].preload == 1)
            setenv("LD_PRELOAD", mimalloc, 1);
        else if (cfgs[cfg].preload == 2)
            setenv("LD_PRELOAD", preload, 1);
        if (cfgs[cfg].backend)
            setenv("PT_BACKEND", cfgs[cfg].backend, 1);
        char a_cfg[16], a_thr[16], a_life[32], a_ops[32];
        snprintf(a_cfg, sizeof a_cfg, "%d", cfg);
        snprintf(a_thr, sizeof a_thr, "%u", nthreads);
        snprintf(a_life, sizeof a_life, "%llu", (unsigned long long)lifetimes);
        snprintf(a_ops, sizeof a_ops, "%llu", (unsigned long long)ops);
        execl(self, self, "--child", a_cfg, a_thr, a_life, a_ops, (char *)NULL);
        fprintf(stderr, "churn_bench: exec %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    char buf[512];
    int status = finish_piped(pid, rfd, buf, sizeof buf);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            fprintf(stderr, "churn_bench: %s: child killed by signal %d\n", cfgs[cfg].name,
                    WTERMSIG(status));
        else
            fprintf(stderr, "churn_bench: %s: child exited with status %d\n", cfgs[cfg].name,
                    WEXITSTATUS(status));
        return -1;
    }
    if (sscanf(buf, "wall=%lf cpu=%lf allocs=%llu frees=%llu heap=%15s counted=%23s", &out->wall,
               &out->cpu, &out->allocs, &out->frees, out->heap, out->counted) != 6 ||
        !(out->wall > 0)) {
        fprintf(stderr, "churn_bench: %s: unreadable result '%.100s'\n", cfgs[cfg].name, buf);
        return -1;
    }
    if (strcmp(out->counted, "exact") && strcmp(out->counted, "none")) {
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = 0;
        fprintf(stderr, "churn_bench: %s: counts not exact: %s\n", cfgs[cfg].name, buf);
    }
    return 0;
}





/* 95 % percentile bootstrap interval of median(a) / median(b). */
static void boot_ratio(const double *a, int na, const double *b, int nb, double *lo, double *hi)
{
    enum { B = 2000 };
    static double rs[B];
    uint64_t s = 12345;
    double ra[MAX_ROUNDS], rb[MAX_ROUNDS];
    for (int k = 0; k < B; k++) {
        for (int i = 0; i < na; i++)
            ra[i] = a[rng(&s) % (uint64_t)na];
        for (int i = 0; i < nb; i++)
            rb[i] = b[rng(&s) % (uint64_t)nb];
        rs[k] = median(ra, na) / median(rb, nb);
    }
    qsort(rs, B, sizeof *rs, cmp_double);
    *lo = rs[B / 40];
    *hi = rs[B - 1 - B / 40];
}

static const char usage_text[] =
    "usage: churn_bench [--quick] [--rounds N] [--lifetimes N] [--ops N]\n"
    "                   [--threads N] [--preload PATH] [--mimalloc LIB]\n"
    "\n"
    "Measures what the pooltag preload costs a program whose threads are\n"
    "created and end continually (blocks also freed by other threads):\n"
    "pooltag-mi against LD_PRELOAD=mimalloc, pooltag-libc against glibc,\n"
    "interleaved rounds, medians with min..max and bootstrap intervals.\n"
    "\n"
    "  --quick          a few seconds (2 rounds, 64 lifetimes of 5000 ops):\n"
    "                   checks that it runs and that pooltag counted exactly\n"
    "  --rounds N       rounds, each running every configuration (default 7, max 64)\n"
    "  --lifetimes N    worker threads started per run (default 600)\n"
    "  --ops N          malloc+free operations per worker (default 20000)\n"
    "  --threads N      workers alive at a time (default 8, max 256)\n"
    "  --preload PATH   libpooltag-preload.so (default: this build's)\n"
    "  --mimalloc LIB   the bare mimalloc to preload (default libmimalloc.so.2)\n";



int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--child")) {
        int cfg = atoi(argv[2]);
        unsigned nt = (unsigned)atoi(argv[3]);
        uint64_t lifetimes = strtoull(argv[4], NULL, 10);
        uint64_t ops = strtoull(argv[5], NULL, 10);
        if (cfg < 0 || cfg >= CFG_COUNT || nt < 1 || nt > MAX_THREADS || lifetimes < 1 ||
            ops < 1) {
            fprintf(stderr, "churn_bench: bad --child arguments\n");
            return 2;
        }
        return child_main(cfg, nt, lifetimes, ops);
    }
    unsigned rounds = 7, nthreads = 8;
    uint64_t lifetimes = 600, ops = 20000;
    bool quick = false, rounds_set = false, life_set = false, ops_set = false;
    const char *preload = PT_PRELOAD_PATH, *mimalloc = "libmimalloc.so.2";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            quick = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--rounds")) {
            rounds = (unsigned)parse_count(a, v, 1, MAX_ROUNDS);
            rounds_set = true;
            i++;
        } else if (!strcmp(a, "--lifetimes")) {
            lifetimes = parse_count(a, v, 1, 10000000);
            life_set = true;
            i++;
        } else if (!strcmp(a, "--ops")) {
            ops = parse_count(a, v, 1, 1ull << 32);
            ops_set = true;
            i++;
        } else if (!strcmp(a, "--threads")) {
            nthreads = (unsigned)parse_count(a, v, 1, MAX_THREADS);
            i++;
        } else if (!strcmp(a, "--preload") || !strcmp(a, "--mimalloc")) {
            if (!v || !*v)
                usage_error("missing value for", a);
            if (a[2] == 'p') {
                if (access(v, R_OK))
                    usage_error("cannot read the preload", v);
                preload = v;
            } else {
                mimalloc = v;
            }
            i++;
        } else {
            usage_error("unknown argument", a);
        }
    }
    if (quick) {
        if (!rounds_set)
            rounds = 2;
        if (!life_set)
            lifetimes = 64;
        if (!ops_set)
            ops = 5000;
    }
    if (access(preload, R_OK)) {
        fprintf(stderr, "churn_bench: cannot read the preload '%s' (use --preload)\n", preload);
        return 2;
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "churn_bench: cannot find own executable: %s\n", strerror(errno));
        return 1;
    }
    self[sl] = 0;

    printf("churn_bench: %u rounds x 4 configurations; per run %llu worker lifetimes, %u "
           "alive at a time,\n%llu malloc+free each (16 B..4 KiB, 1 in 8 handed to other "
           "threads); %ld CPUs online\n",
           rounds, (unsigned long long)lifetimes, nthreads, (unsigned long long)ops,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("churn_bench: preload %s, mimalloc %s\n", preload, mimalloc);
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "PT_", 3))
            printf("churn_bench: note: %s is set and applies to the pooltag configurations\n",
                   *e);

    static double wall[CFG_COUNT][MAX_ROUNDS], cpu[CFG_COUNT][MAX_ROUNDS];
    int n[CFG_COUNT] = {0};
    bool failed[CFG_COUNT] = {0}, invalid[CFG_COUNT] = {0};
    char heap_seen[CFG_COUNT][16], counted_seen[CFG_COUNT][24];
    memset(heap_seen, 0, sizeof heap_seen);
    memset(counted_seen, 0, sizeof counted_seen);
    for (unsigned r = 0; r < rounds; r++) {
        for (int k = 0; k < CFG_COUNT; k++) {
            int cfg = (k + (int)r) % CFG_COUNT;
            if (failed[cfg])
                continue;
            sample s;
            if (run_child(self, cfg, preload, mimalloc, nthreads, lifetimes, ops, &s)) {
                failed[cfg] = true;
                continue;
            }
            bool want_pt = cfgs[cfg].preload == 2;
            if (strcmp(s.heap, cfgs[cfg].glibc_heap ? "glibc" : "other") ||
                strcmp(s.counted, want_pt ? "exact" : "none") || s.allocs != s.frees)
                invalid[cfg] = true;
            memcpy(heap_seen[cfg], s.heap, sizeof s.heap);
            memcpy(counted_seen[cfg], s.counted, sizeof s.counted);
            wall[cfg][n[cfg]] = s.wall / (double)lifetimes;
            cpu[cfg][n[cfg]] = s.cpu / (double)lifetimes;
            n[cfg]++;
        }
    }

    bool any_error = false;
    printf("\n%-13s %-10s %-7s %9s %17s %9s %17s %8s\n", "config", "heap", "counts", "wall",
           "min..max", "cpu", "min..max", "lives/s");
    printf("%-13s %-10s %-7s %9s %17s %9s %17s\n", "", "", "", "us/life", "", "us/life", "");
    for (int c = 0; c < CFG_COUNT; c++) {
        if (failed[c] || !n[c]) {
            printf("%-13s %s\n", cfgs[c].name, "FAILED");
            any_error = true;
            continue;
        }
        char mm1[40], mm2[40];
        snprintf(mm1, sizeof mm1, "%.0f..%.0f", min_of(wall[c], n[c]), max_of(wall[c], n[c]));
        snprintf(mm2, sizeof mm2, "%.0f..%.0f", min_of(cpu[c], n[c]), max_of(cpu[c], n[c]));
        double mw = median(wall[c], n[c]);
        printf("%-13s %-10s %-7s %9.0f %17s %9.0f %17s %8.0f\n", cfgs[c].name,
               !strcmp(heap_seen[c], "other") ? "not-glibc" : heap_seen[c], counted_seen[c], mw,
               mm1, median(cpu[c], n[c]), mm2, 1e6 / mw);
        if (invalid[c]) {
            printf("churn_bench: INVALID: %s: expected heap %s and counts %s, saw %s and %s\n",
                   cfgs[c].name, cfgs[c].glibc_heap ? "glibc" : "not-glibc",
                   cfgs[c].preload == 2 ? "exact" : "none", heap_seen[c], counted_seen[c]);
            any_error = true;
        }
    }
    printf("us/life = the run's wall (CPU: user + system of the whole process) time / worker\n"
           "lifetimes, median over rounds; lives/s = worker lifetimes per wall second.\n");

    static const struct {
        const char *what;
        int a, b;
    } rows[] = {
        {"pooltag-mi / mimalloc", CFG_PT_MI, CFG_MI},
        {"pooltag-libc / glibc", CFG_PT_LIBC, CFG_GLIBC},
        {"mimalloc / glibc (ref)", CFG_MI, CFG_GLIBC},
        {"pooltag-mi / glibc (ref)", CFG_PT_MI, CFG_GLIBC},
    };
    printf("\n%-26s %7s %15s %7s %15s %7s\n", "ratio", "cpu", "95% interval", "wall",
           "95% interval", "noise");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int a = rows[i].a, b = rows[i].b;
        if (failed[a] || failed[b] || !n[a] || !n[b]) {
            printf("%-26s %7s\n", rows[i].what, "n/a");
            continue;
        }
        double clo, chi, wlo, whi;
        boot_ratio(cpu[a], n[a], cpu[b], n[b], &clo, &chi);
        boot_ratio(wall[a], n[a], wall[b], n[b], &wlo, &whi);
        char ci[40], wi[40];
        snprintf(ci, sizeof ci, "%.3f..%.3f", clo, chi);
        snprintf(wi, sizeof wi, "%.3f..%.3f", wlo, whi);
        double mb = median(cpu[b], n[b]);
        printf("%-26s %7.3f %15s %7.3f %15s %6.0f%%\n", rows[i].what,
               median(cpu[a], n[a]) / mb, ci, median(wall[a], n[a]) / median(wall[b], n[b]), wi,
               100 * (max_of(cpu[b], n[b]) - min_of(cpu[b], n[b])) / mb);
    }
    printf("ratios of the medians (lower is better); interval: 95%% percentile bootstrap over\n"
           "the rounds; noise: the spread (max - min) / median of the baseline's CPU time.\n");
    if (any_error) {
        printf("\nchurn_bench: some configurations FAILED or were INVALID (see above)\n");
        return 1;
    }
    return 0;
}
