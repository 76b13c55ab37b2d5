/* Thread exits vs concurrent readers.  Short-lived threads (more over
 * time than PT_MAX_THREADS, so shards are reused) allocate and free blocks
 * of one tag while the main thread reads the counters in a loop.  A shard
 * keeps its counts when its thread exits, so every counter only grows and
 * successive reads must never go down; at the end the counters must be
 * exact and the threads' shards all returned.  Run with PT_MAX_THREADS=4. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

#define WAVES 200
#define PER_WAVE 6
#define OPS 300

static const uint32_t T = PT_TAG("Fold");
static atomic_int stop;

static void *worker(void *arg)
{
    (void)arg;
    void *keep[8] = {0};
    for (int i = 0; i < OPS; i++) {
        void *p = pt_alloc(i % 7 ? PT_PAGED : PT_NONPAGED, (size_t)(i % 100) + 1, T);
        CHECK(p != NULL);
        if (keep[i % 8])
            pt_free(keep[i % 8]);
        keep[i % 8] = p;
    }
    for (int i = 0; i < 8; i++)
        pt_free(keep[i]);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    uint64_t last[2][4] = {{0}};
    long reads = 0;
    while (!atomic_load(&stop)) {
        pt_tag_info t;
        if (pt_tag_read(T, &t) != 0)
            continue;
        for (int p = 0; p < 2; p++) {
            const pt_counts *c = &t.pool[p];
            uint64_t now[4] = {c->allocs, c->frees, c->bytes_alloc, c->bytes_freed};
            for (int k = 0; k < 4; k++) {
                if (now[k] < last[p][k]) {
                    fprintf(stderr, "read %ld: pool %d counter %d went down %llu -> %llu\n",
                            reads, p, k, (unsigned long long)last[p][k],
                            (unsigned long long)now[k]);
                    exit(1);
                }
                last[p][k] = now[k];
            }
        }
        reads++;
    }
    return NULL;
}

int main(void)
{
    pt_free(pt_alloc(PT_PAGED, 1, T)); /* the tag exists before the reader */
    pthread_t r;
    CHECK(pthread_create(&r, NULL, reader, NULL) == 0);
    for (int w = 0; w < WAVES; w++) {
        pthread_t th[PER_WAVE];
        for (int i = 0; i < PER_WAVE; i++)
            CHECK(pthread_create(&th[i], NULL, worker, NULL) == 0);
        for (int i = 0; i < PER_WAVE; i++)
            pthread_join(th[i], NULL);
    }
    atomic_store(&stop, 1);
    pthread_join(r, NULL);

    pt_tag_info t;
    CHECK(pt_tag_read(T, &t) == 0);
    uint64_t all = (uint64_t)WAVES * PER_WAVE * OPS;
    uint64_t np = 0;
    for (int i = 0; i < OPS; i++)
        np += i % 7 == 0;
    np *= (uint64_t)WAVES * PER_WAVE;
    CHECK_EQ_U(t.pool[0].allocs, all - np + 1);
    CHECK_EQ_U(t.pool[1].allocs, np);
    for (int p = 0; p < 2; p++) {
        CHECK_EQ_U(t.pool[p].frees, t.pool[p].allocs);
        CHECK_EQ_U(t.pool[p].bytes_freed, t.pool[p].bytes_alloc);
    }
    CHECK_EQ_U(pt_pool_used(PT_PAGED), 0);
    CHECK_EQ_U(pt_pool_used(PT_NONPAGED), 0);
    printf("test_rt_review_fold: %d threads, counters monotonic and exact\n",
           WAVES * PER_WAVE);
    return 0;
}
