/* Counters are exact under concurrency: N threads x OPS random alloc/free
 * operations over a few tags and both pools; at quiescence the counters
 * equal the live blocks and bytes each thread kept, both while the threads
 * are alive (their shards) and after they exit (the released shards keep
 * their counts). */
#include <pthread.h>
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

#define NTAGS 4
#define SLOTS 512

static const uint32_t tags[NTAGS] = {PT_TAG("Thr0"), PT_TAG("Thr1"), PT_TAG("Thr2"),
                                     PT_TAG("Thr3")};
static long ops = 1000000;
static pthread_barrier_t done, check;

typedef struct {
    unsigned seed;
    void *slot[SLOTS];
    uint64_t allocs[NTAGS][2], frees[NTAGS][2], bytes[NTAGS][2];
} worker;

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void *run(void *arg)
{
    worker *w = arg;
    for (long i = 0; i < ops; i++) {
        unsigned r = rnd(&w->seed);
        unsigned k = r % SLOTS;
        if (w->slot[k]) {
            void *p = w->slot[k];
            uint32_t tag = pt_tag_of(p);
            int pool = pt_pool_of(p);
            int ti = (int)(strchr("0123", (char)(tag >> 24)) - "0123");
            w->frees[ti][pool]++;
            w->bytes[ti][pool] -= pt_size_of(p);
            if ((r >> 12) % 3 == 0) {
                size_t ns = 1 + (r >> 14) % 3000;
                void *q = pt_realloc(p, ns);
                CHECK(q != NULL);
                w->allocs[ti][pool]++;
                w->bytes[ti][pool] += ns;
                w->slot[k] = q;
            } else {
                pt_free(p);
                w->slot[k] = NULL;
            }
        } else {
            int ti = (int)((r >> 10) % NTAGS);
            int pool = ((r >> 13) % 16) == 0; /* 1 in 16 nonpaged */
            size_t size = (r >> 16) % 4 == 0 ? (r >> 4) % 20000 : (r >> 4) % 256;
            void *p = pt_alloc((pt_pool)pool, size, tags[ti]);
            CHECK(p != NULL);
            w->slot[k] = p;
            w->allocs[ti][pool]++;
            w->bytes[ti][pool] += size;
        }
    }
    pthread_barrier_wait(&done);  /* main checks the live shards */
    pthread_barrier_wait(&check);
    return NULL;                  /* blocks stay live: checked after fold */
}

static void verify(worker *ws, int n, const char *when)
{
    for (int t = 0; t < NTAGS; t++) {
        pt_tag_info info;
        CHECK(pt_tag_read(tags[t], &info) == 0);
        for (int pool = 0; pool < 2; pool++) {
            uint64_t a = 0, f = 0, b = 0;
            for (int i = 0; i < n; i++) {
                a += ws[i].allocs[t][pool];
                f += ws[i].frees[t][pool];
                b += ws[i].bytes[t][pool];
            }
            const pt_counts *c = &info.pool[pool];
            if (c->allocs != a || c->frees != f ||
                c->bytes_alloc - c->bytes_freed != b) {
                fprintf(stderr, "%s: tag %d pool %d: counters %llu/%llu/%llu, "
                        "truth %llu/%llu/%llu\n", when, t, pool,
                        (unsigned long long)c->allocs, (unsigned long long)c->frees,
                        (unsigned long long)(c->bytes_alloc - c->bytes_freed),
                        (unsigned long long)a, (unsigned long long)f,
                        (unsigned long long)b);
                exit(1);
            }
            CHECK(c->peak >= b);
        }
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    if (argc > 2)
        ops = atol(argv[2]);
    worker *ws = calloc((size_t)n, sizeof *ws);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    pthread_barrier_init(&done, NULL, (unsigned)n + 1);
    pthread_barrier_init(&check, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        ws[i].seed = 12345u + (unsigned)i * 7919u;
        CHECK(pthread_create(&th[i], NULL, run, &ws[i]) == 0);
    }
    pthread_barrier_wait(&done);
    verify(ws, n, "live threads");
    pthread_barrier_wait(&check);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    verify(ws, n, "after exit");
    /* Free everything from the main thread: counters return to zero. */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < SLOTS; k++)
            pt_free(ws[i].slot[k]);
    for (int t = 0; t < NTAGS; t++) {
        pt_tag_info info;
        pt_tag_read(tags[t], &info);
        for (int pool = 0; pool < 2; pool++) {
            CHECK_EQ_U(info.pool[pool].allocs, info.pool[pool].frees);
            CHECK_EQ_U(info.pool[pool].bytes_alloc, info.pool[pool].bytes_freed);
        }
    }
    CHECK_EQ_U(pt_pool_used(PT_PAGED), 0);
    CHECK_EQ_U(pt_pool_used(PT_NONPAGED), 0);
    printf("test_threads: %d threads x %ld ops exact\n", n, ops);
    return 0;
}
