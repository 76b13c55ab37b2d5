/* pt_realloc at a pool maximum: only growth is charged against the maximum.
 * A shrink (or same-size) realloc of a block that fits must succeed, must
 * not count a failure, and must leave the pool's usage exact — for the
 * paged path (backend realloc) and the nonpaged path (new block + copy). */
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

static void one(pt_pool pool, size_t max, size_t a, size_t b)
{
    const uint32_t T = pool == PT_PAGED ? PT_TAG("RlP ") : PT_TAG("RlN ");
    CHECK(pt_set_pool_limit(pool, max) == 0);
    size_t base = pt_pool_used(pool);
    char *p = pt_alloc(pool, a, T);
    CHECK(p != NULL);
    memset(p, 0x5a, a);
    char *q = pt_realloc(p, b);                 /* shrink: a + b > max */
    CHECK(q != NULL);
    CHECK(q[0] == 0x5a && q[b - 1] == 0x5a);
    CHECK_EQ_U(pt_size_of(q), b);
    CHECK_EQ_U(pt_pool_used(pool), base + b);
    q = pt_realloc(q, b);                       /* same size */
    CHECK(q != NULL);
    CHECK(pt_realloc(q, max + 1) == NULL);      /* growth past the maximum */
    CHECK_EQ_U(pt_size_of(q), b);               /* old block intact */
    pt_tag_info t;
    CHECK(pt_tag_read(T, &t) == 0);
    CHECK_EQ_U(t.pool[pool].failures, 1);
    pt_free(q);
    CHECK_EQ_U(pt_pool_used(pool), base);
    /* The maximum still holds exactly after the reallocs. */
    void *full = pt_alloc(pool, max - base, T);
    CHECK(full != NULL);
    CHECK(pt_alloc(pool, 1, T) == NULL);
    pt_free(full);
}

int main(void)
{
    one(PT_PAGED, 1u << 20, 600u << 10, 500u << 10);
    one(PT_NONPAGED, 256u << 10, 200u << 10, 100u << 10);
    puts("test_rt_review_realloc: ok");
    return 0;
}
