/* Pool maxima: allocations past a pool's maximum fail with ENOMEM and are
 * counted as failures of the tag and the pool.  Run with PT_PAGED_MAX=1M and
 * PT_NONPAGED_MAX=256K (tests/runtime.cmake). */
#include <errno.h>
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

static void *blocks[4096];

static void fill(pt_pool pool, uint32_t tag, size_t limit)
{
    size_t n = 0, used = 0;
    for (;;) {
        errno = 0;
        void *p = pt_alloc(pool, 1000, tag);
        if (!p) {
            CHECK(errno == ENOMEM);
            break;
        }
        CHECK(n < 4096);
        blocks[n++] = p;
        used += 1000;
    }
    /* The pool is full to within one block of its maximum. */
    CHECK(used <= limit && used + 1000 > limit);
    CHECK_EQ_U(pt_pool_used(pool), used);
    pt_tag_info t;
    CHECK(pt_tag_read(tag, &t) == 0);
    CHECK_EQ_U(t.pool[pool].failures, 1);
    CHECK_EQ_U(t.pool[pool].allocs, n);
    /* Another tag is refused too: the maximum is per pool. */
    CHECK(pt_alloc(pool, 1000, PT_TAG("Othr")) == NULL);
    CHECK(pt_tag_read(PT_TAG("Othr"), &t) == 0);
    CHECK(t.pool[pool].failures >= 1);
    /* Freeing makes room again. */
    pt_free(blocks[--n]);
    void *again = pt_alloc(pool, 1000, tag);
    CHECK(again != NULL);
    blocks[n++] = again;
    while (n)
        pt_free(blocks[--n]);
    CHECK_EQ_U(pt_pool_used(pool), 0);
}

int main(void)
{
    CHECK_EQ_U(pt_pool_limit(PT_PAGED), 1 << 20);
    CHECK_EQ_U(pt_pool_limit(PT_NONPAGED), 256 << 10);
    fill(PT_PAGED, PT_TAG("LimP"), 1 << 20);
    fill(PT_NONPAGED, PT_TAG("LimN"), 256 << 10);

    /* A single request over the maximum fails at once. */
    CHECK(pt_alloc(PT_PAGED, 2 << 20, PT_TAG("Big")) == NULL);
    /* Raising the maximum through the API lets it through. */
    CHECK(pt_set_pool_limit(PT_PAGED, 4 << 20) == 0);
    void *big = pt_alloc(PT_PAGED, 2 << 20, PT_TAG("Big"));
    CHECK(big != NULL);
    /* Lowering it below usage refuses new blocks until usage drops. */
    CHECK(pt_set_pool_limit(PT_PAGED, 1 << 20) == 0);
    CHECK(pt_alloc(PT_PAGED, 10, PT_TAG("Big")) == NULL);
    pt_free(big);
    void *small = pt_alloc(PT_PAGED, 10, PT_TAG("Big"));
    CHECK(small != NULL);
    pt_free(small);
    /* Unlimited. */
    CHECK(pt_set_pool_limit(PT_PAGED, 0) == 0);
    big = pt_alloc(PT_PAGED, 8 << 20, PT_TAG("Big"));
    CHECK(big != NULL);
    pt_free(big);
    /* Turning a limit on with blocks live starts from the current usage. */
    void *live = pt_alloc(PT_PAGED, 600 << 10, PT_TAG("Big"));
    CHECK(pt_set_pool_limit(PT_PAGED, 1 << 20) == 0);
    CHECK(pt_alloc(PT_PAGED, 500 << 10, PT_TAG("Big")) == NULL);
    pt_free(live);
    live = pt_alloc(PT_PAGED, 500 << 10, PT_TAG("Big"));
    CHECK(live != NULL);
    pt_free(live);

    errno = 0;
    CHECK(pt_set_pool_limit((pt_pool)7, 1) == -1 && errno == EINVAL);
    puts("test_limits: ok");
    return 0;
}
