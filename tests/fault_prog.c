/* fault_prog MODE ... — runs under libpooltag-preload.so with PT_FAIL
 * (tests/fault_*.sh).  Allocations of two tags through the pt_* functions
 * the preload exports (looked up with dlsym: not linked with libpooltag),
 * or of a plugin's module, and prints which failed:
 *   rate N            N requests of FiA and of FiB, interleaved: "A x B y",
 *                     then "idx i,j,..." the failing indices of FiA
 *   after N SECONDS   N requests of FiA at once, then N more from SECONDS
 *                     + 0.2 after main began: "before x after y"
 *   module PLUGIN N   N mallocs in the plugin (dlopen) and N in main:
 *                     "plugin x main y"
 *   live              "ready", then per line N on stdin: N requests of FiA,
 *                     "fails x"
 *   threads T N       T threads, N requests of FiA each: "threads x", the
 *                     failures of all of them
 *   family            malloc, calloc, realloc(NULL), posix_memalign,
 *                     aligned_alloc, strdup from main: "family k of 6",
 *                     k of them NULL (posix_memalign: ENOMEM) with ENOMEM
 * Every failure must be NULL with errno ENOMEM (else exit 3). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pooltag.h"

static void *(*p_alloc)(pt_pool, size_t, uint32_t);
static void (*p_free)(void *);
void *volatile sink;

static int one(uint32_t tag, size_t size)
{
    errno = 0;
    void *p = p_alloc(PT_PAGED, size, tag);
    if (!p) {
        if (errno != ENOMEM) {
            fprintf(stderr, "fault_prog: NULL with errno %d\n", errno);
            exit(3);
        }
        return 1;
    }
    sink = p;
    p_free(p);
    return 0;
}

static int per_thread;
static int thread_fails[64];

static void *worker(void *arg)
{
    int k = (int)(intptr_t)arg;
    for (int i = 0; i < per_thread; i++)
        thread_fails[k] += one(PT_TAG("FiA"), 40);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double t0 = now();
    p_alloc = (void *(*)(pt_pool, size_t, uint32_t))dlsym(RTLD_DEFAULT, "pt_alloc");
    p_free = (void (*)(void *))dlsym(RTLD_DEFAULT, "pt_free");
    if (!p_alloc || !p_free || argc < 2) {
        fprintf(stderr, "fault_prog: no pt_alloc (not under the preload?) or no MODE\n");
        return 2;
    }
    const uint32_t A = PT_TAG("FiA"), B = PT_TAG("FiB");
    if (strcmp(argv[1], "rate") == 0 && argc == 3) {
        int n = atoi(argv[2]), fa = 0, fb = 0;
        char *idx = malloc((size_t)n * 8 + 16);
        size_t len = 0;
        if (!idx)
            return 2;
        idx[0] = 0;
        for (int i = 0; i < n; i++) {
            if (one(A, 32 + (size_t)(i % 64))) {
                fa++;
                len += (size_t)sprintf(idx + len, "%s%d", len ? "," : "", i);
            }
            fb += one(B, 32 + (size_t)(i % 64));
        }
        printf("A %d B %d\nidx %s\n", fa, fb, idx);
        return 0;
    }
    if (strcmp(argv[1], "after") == 0 && argc == 4) {
        int n = atoi(argv[2]), f1 = 0, f2 = 0;
        double s = atof(argv[3]);
        for (int i = 0; i < n; i++)
            f1 += one(A, 48);
        double t1 = now() - t0;
        while (now() - t0 < s + 0.2) {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
        for (int i = 0; i < n; i++)
            f2 += one(A, 48);
        printf("before %d after %d (first batch done %.3f s after main began)\n", f1, f2, t1);
        return 0;
    }
    if (strcmp(argv[1], "module") == 0 && argc == 4) {
        void *h = dlopen(argv[2], RTLD_NOW);
        if (!h) {
            fprintf(stderr, "fault_prog: %s\n", dlerror());
            return 2;
        }
        int (*work)(int) = (int (*)(int))dlsym(h, "fault_plug_alloc");
        if (!work)
            return 2;
        int n = atoi(argv[3]), fm = 0;
        int fp = work(n);
        for (int i = 0; i < n; i++) {
            errno = 0;
            void *p = malloc(64);
            if (!p)
                fm++;
            sink = p;
            free(p);
        }
        printf("plugin %d main %d\n", fp, fm);
        return 0;
    }
    if (strcmp(argv[1], "threads") == 0 && argc == 4) {
        int nt = atoi(argv[2]), total = 0;
        pthread_t th[64];
        per_thread = atoi(argv[3]);
        if (nt < 1 || nt > 64)
            return 2;
        for (int k = 0; k < nt; k++)
            if (pthread_create(&th[k], NULL, worker, (void *)(intptr_t)k) != 0)
                return 2;
        for (int k = 0; k < nt; k++) {
            pthread_join(th[k], NULL);
            total += thread_fails[k];
        }
        printf("threads %d\n", total);
        return 0;
    }
    if (strcmp(argv[1], "family") == 0) {
        /* the malloc family from this module: each NULL with ENOMEM? */
        int ok = 0;
        void *q = NULL;
        errno = 0;
        ok += (sink = malloc(10)) == NULL && errno == ENOMEM;
        errno = 0;
        ok += (sink = calloc(10, 10)) == NULL && errno == ENOMEM;
        errno = 0;
        ok += (sink = realloc(NULL, 100)) == NULL && errno == ENOMEM;
        ok += posix_memalign(&q, 64, 100) == ENOMEM;
        errno = 0;
        ok += (sink = aligned_alloc(64, 128)) == NULL && errno == ENOMEM;
        errno = 0;
        ok += (sink = strdup("hello")) == NULL && errno == ENOMEM;
        printf("family %d of 6\n", ok);
        return 0;
    }
    if (strcmp(argv[1], "live") == 0) {
        char line[64];
        printf("ready\n");
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
            int n = atoi(line), f = 0;
            for (int i = 0; i < n; i++)
                f += one(A, 100);
            printf("fails %d\n", f);
            fflush(stdout);
        }
        return 0;
    }
    fprintf(stderr, "fault_prog: bad MODE\n");
    return 2;
}
