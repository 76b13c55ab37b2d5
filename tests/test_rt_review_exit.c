/* Thread exit ordering.  pooltag folds a thread's shard in a pthread key
 * destructor; other libraries' destructors may run before or after it and
 * still allocate and free.  Checks, for threads whose allocations happen
 *   - before and inside a destructor that runs before pooltag's,
 *   - inside a destructor that runs after pooltag's (shard already folded),
 *   - only inside a destructor (first allocation during thread exit),
 *   - never (a thread that never allocates claims no shard),
 * that every counter is exact and that every claimed shard is folded
 * (segment header: threads_started == threads_exited + the main thread).
 * Also run with PT_MAX_THREADS=1 (every other thread uses shard 0). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

static const uint32_t T = PT_TAG("Exit");
static pthread_key_t before, after;
static void *kept[64];
static int nkept;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void keep(void *p)
{
    pthread_mutex_lock(&mu);
    kept[nkept++] = p;
    pthread_mutex_unlock(&mu);
}

/* Header fields at documented offsets (docs/segment-format.md). */
static const volatile uint64_t *seg_u64(size_t off)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long start = 0;
    CHECK(f != NULL);
    while (fgets(line, sizeof line, f))
        if (strstr(line, "/memfd:pooltag") && sscanf(line, "%lx-", &start) == 1)
            break;
    fclose(f);
    CHECK(start != 0);
    return (const volatile uint64_t *)(start + off);
}

static void dtor(void *v)
{
    /* Frees the block the thread left in the key, allocates and frees one,
     * and keeps one for main to free. */
    if (v != (void *)1)
        pt_free(v);
    pt_free(pt_alloc(PT_PAGED, 10, T));
    keep(pt_alloc(PT_PAGED, 1000, T));
}

static void *t_both(void *a)
{
    (void)a;
    pthread_setspecific(before, pt_alloc(PT_PAGED, 100, T));
    pthread_setspecific(after, pt_alloc(PT_PAGED, 100, T));
    pt_free(pt_alloc(PT_NONPAGED, 100, T));
    return NULL;
}

static void *t_dtor_only(void *a)
{
    (void)a;
    pthread_setspecific(after, (void *)1); /* first allocation at exit */
    return NULL;
}

static void *t_never(void *a)
{
    (void)a;
    uint32_t old = pt_tag_push(T);
    pt_tag_pop(old);
    return NULL;
}

int main(void)
{
    CHECK(pthread_key_create(&before, dtor) == 0);   /* runs before pooltag's */
    pt_free(pt_alloc(PT_PAGED, 1, T));                 /* runtime initialised */
    CHECK(pthread_key_create(&after, dtor) == 0);    /* runs after pooltag's  */
    const volatile uint64_t *started = seg_u64(144), *exited = seg_u64(152),
                            *shared = seg_u64(160);
    void *(*fn[])(void *) = {t_both, t_dtor_only, t_never, t_both, t_dtor_only};
    for (int r = 0; r < 4; r++)
        for (unsigned i = 0; i < sizeof fn / sizeof fn[0]; i++) {
            pthread_t th;
            CHECK(pthread_create(&th, NULL, fn[i], NULL) == 0);
            CHECK(pthread_join(th, NULL) == 0);
        }
    /* t_both: 2 kept + 1 + 100x2 + nonpaged; t_dtor_only: 1 kept + 1. */
    CHECK_EQ_U(nkept, 4 * (2 * 2 + 2 * 1));
    /* Every thread that allocated claimed a shard and had it folded (the
     * main thread's stays live); t_never claimed none. */
    CHECK_EQ_U(*started - *exited, 1);
    CHECK(*started == 1 + 4 * 4 || (*started == 1 && *shared > 0));

    pt_tag_info t;
    CHECK(pt_tag_read(T, &t) == 0);
    CHECK_EQ_U(t.pool[0].allocs - t.pool[0].frees, (uint64_t)nkept);
    CHECK_EQ_U(t.pool[0].bytes_alloc - t.pool[0].bytes_freed, 1000u * (uint64_t)nkept);
    CHECK_EQ_U(t.pool[1].allocs, 8);
    CHECK_EQ_U(t.pool[1].frees, 8);
    for (int i = 0; i < nkept; i++)
        pt_free(kept[i]);
    CHECK(pt_tag_read(T, &t) == 0);
    CHECK_EQ_U(t.pool[0].allocs, t.pool[0].frees);
    CHECK_EQ_U(t.pool[0].bytes_alloc, t.pool[0].bytes_freed);
    CHECK_EQ_U(pt_pool_used(PT_PAGED), 0);
    puts("test_rt_review_exit: ok");
    return 0;
}
