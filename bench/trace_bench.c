/*
 * trace_bench.c — what stacks, hit tags and pool tracking (issue 11) cost
 * when they are off, and what hit on one tag costs the other tags.
 *
 *   trace_bench --base BASE.so --new NEW.so [--rounds N] [--ops N]
 *               [--threads N] [--quick]
 *
 * BASE.so and NEW.so are two builds of libpooltag-preload.so: the branch
 * point and this one.  Each case runs in a fresh child (this program run
 * again with --child under LD_PRELOAD=the case's preload and the case's
 * environment); the cases are interleaved over the rounds (the order
 * rotates each round) and the parent prints, per case, the median CPU ns
 * per operation (the workers' own CPU time: the machine is shared) with
 * the spread (min..max), then the ratios:
 *
 *   off/base malloc   the preload's malloc/free, hit and verify off, new
 *                     over base (target: <= 1.01)
 *   off/base api      pt_alloc/pt_free over 16 tags, new over base (<= 1.01)
 *   hit/off api       the same 16 tags while PT_HIT names a 17th tag that
 *                     the program also uses (hit on, traced, once at
 *                     start), over hit off (target: <= 1.02)
 *   hit/off malloc    likewise for malloc/free
 *   verify-all/off    malloc/free with PT_VERIFY='*' (a stack for every
 *                     block), over off: for information
 *
 * Workload, per thread: a window of 1,000 live blocks; one operation frees
 * a random slot's block and allocates a new one of a random size (8..512
 * bytes, mostly small) into it; sequence precomputed, deterministic.  In
 * the api mode slot k's blocks carry tag k % 16 (pt_alloc with an explicit
 * tag: the API's fast path).  The pt_* functions are looked up with dlsym
 * (the preload exports them): this program links no pooltag.
 *
 * Exit status 0 (numbers never fail a build), 1 if a child failed, 2 on a
 * usage error.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 1000
#define OPTAB 65536
#define NTAGS 16

typedef void *(*alloc_fn)(int, size_t, uint32_t);
typedef void (*free_fn)(void *);
typedef uint32_t (*tag_fn)(const char *);

static alloc_fn p_alloc;
static free_fn p_free;
static int api_mode;
static long ops;

static uint32_t tagv(int k)
{
    char t[5];
    snprintf(t, sizeof t, "T%03d", k);
    return (uint32_t)(unsigned char)t[0] | (uint32_t)(unsigned char)t[1] << 8 |
           (uint32_t)(unsigned char)t[2] << 16 | (uint32_t)(unsigned char)t[3] << 24;
}

typedef struct {
    uint32_t slot, size;
} op;

static double cpu_ns[16]; /* each worker's CPU time in its timed loop */

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *worker(void *arg)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull * (1 + (uintptr_t)arg);
    op *tab = malloc(sizeof(op) * OPTAB);
    void **win = calloc(WINDOW, sizeof(void *));
    uint32_t tags[NTAGS];
    for (int k = 0; k < NTAGS; k++)
        tags[k] = tagv(k);
    for (int i = 0; i < OPTAB; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        uint32_t r = (uint32_t)(seed >> 32);
        tab[i].slot = r % WINDOW;
        tab[i].size = (r >> 20) % 8 ? 8 + (r >> 12) % 120 : 128 + (r >> 12) % 384;
    }
    for (int i = 0; i < WINDOW; i++)
        win[i] = api_mode ? p_alloc(0, 64, tags[i % NTAGS]) : malloc(64);
    long warm = ops / 8;
    double c0 = 0;
    for (long n = -warm; n < ops; n++) {
        if (n == 0)
            c0 = thread_cpu();
        const op *o = &tab[n & (OPTAB - 1)];
        if (api_mode) {
            p_free(win[o->slot]);
            win[o->slot] = p_alloc(0, o->size, tags[o->slot % NTAGS]);
        } else {
            free(win[o->slot]);
            win[o->slot] = malloc(o->size);
        }
        *(volatile char *)win[o->slot] = 1;
    }
    cpu_ns[(uintptr_t)arg] = thread_cpu() - c0;
    for (int i = 0; i < WINDOW; i++)
        api_mode ? p_free(win[i]) : free(win[i]);
    free(win);
    free(tab);
    return NULL;
}

static int child(const char *mode, int threads)
{
    api_mode = strcmp(mode, "api") == 0;
    p_alloc = (alloc_fn)dlsym(RTLD_DEFAULT, "pt_alloc");
    p_free = (free_fn)dlsym(RTLD_DEFAULT, "pt_free");
    if (!p_alloc || !p_free) {
        fprintf(stderr, "trace_bench: no pt_alloc: not run under the preload\n");
        return 1;
    }
    /* the hit tag (PT_HIT=HitT in the hit cases) exists and is traced once */
    uint32_t hit = 'H' | 'i' << 8 | 't' << 16 | 'T' << 24;
    p_free(p_alloc(0, 16, hit));
    pthread_t th[16];
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    /* CPU time per operation, averaged over the threads: time the machine
     * gave to other processes does not count (it is shared) */
    double sum = 0;
    for (int i = 0; i < threads; i++)
        sum += cpu_ns[i];
    printf("%.3f\n", sum / threads / (double)ops);
    return 0;
}

typedef struct {
    const char *name, *mode;
    int use_new;
    const char *env; /* one NAME=VALUE or NULL */
    double v[64];
} kase;

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double run_case(const char *self, const kase *k, const char *so, int threads)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        /* (verify-all reports every module's blocks still live at exit) */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        setenv("LD_PRELOAD", so, 1);
        unsetenv("PT_HIT");
        unsetenv("PT_VERIFY");
        if (k->env)
            putenv((char *)k->env);
        char t[16], o[32];
        snprintf(t, sizeof t, "%d", threads);
        snprintf(o, sizeof o, "%ld", ops);
        execl(self, self, "--child", k->mode, t, o, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[64] = "";
    ssize_t n = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return atof(buf);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--child") == 0) {
        ops = atol(argv[4]);
        return child(argv[2], atoi(argv[3]));
    }
    const char *base = NULL, *nw = NULL;
    int rounds = 9, threads = 1;
    ops = 4000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--base") && i + 1 < argc)
            base = argv[++i];
        else if (!strcmp(argv[i], "--new") && i + 1 < argc)
            nw = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
            ops = atol(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            rounds = 2, ops = 200000;
        else {
            fprintf(stderr, "usage: trace_bench --base BASE.so --new NEW.so [--rounds N] "
                            "[--ops N] [--threads N] [--quick]\n");
            return 2;
        }
    }
    if (!base || !nw || rounds < 1 || rounds > 64 || ops < 1000 || threads < 1 ||
        threads > 16) {
        fprintf(stderr, "trace_bench: need --base and --new; rounds 1..64, ops >= 1000, "
                        "threads 1..16\n");
        return 2;
    }
    kase ks[] = {
        {"base malloc", "malloc", 0, NULL, {0}},
        {"off malloc", "malloc", 1, NULL, {0}},
        {"base api", "api", 0, NULL, {0}},
        {"off api", "api", 1, NULL, {0}},
        {"hit api", "api", 1, "PT_HIT=HitT", {0}},
        {"hit malloc", "malloc", 1, "PT_HIT=HitT", {0}},
        {"verify-all malloc", "malloc", 1, "PT_VERIFY=*", {0}},
    };
    int nk = (int)(sizeof ks / sizeof ks[0]);
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0)
        return 1;
    self[sl] = 0;
    for (int r = 0; r < rounds; r++)
        for (int j = 0; j < nk; j++) {
            kase *k = &ks[(j + r) % nk];
            double v = run_case(self, k, k->use_new ? nw : base, threads);
            if (v < 0) {
                fprintf(stderr, "trace_bench: case '%s' failed\n", k->name);
                return 1;
            }
            k->v[r] = v;
        }
    double med[16];
    printf("%d thread(s), %d rounds of %ld ops (median CPU ns/op, min..max):\n", threads, rounds,
           ops);
    for (int j = 0; j < nk; j++) {
        qsort(ks[j].v, (size_t)rounds, sizeof(double), cmp);
        med[j] = ks[j].v[rounds / 2];
        printf("  %-18s %8.2f  (%.2f..%.2f)\n", ks[j].name, med[j], ks[j].v[0],
               ks[j].v[rounds - 1]);
    }
    printf("ratios:\n");
    printf("  off/base malloc    %.3f  (target <= 1.01)\n", med[1] / med[0]);
    printf("  off/base api       %.3f  (target <= 1.01)\n", med[3] / med[2]);
    printf("  hit/off api        %.3f  (target <= 1.02)\n", med[4] / med[3]);
    printf("  hit/off malloc     %.3f  (target <= 1.02)\n", med[5] / med[1]);
    printf("  verify-all/off     %.3f  (malloc/free with a stack for every block)\n",
           med[6] / med[1]);
    return 0;
}
