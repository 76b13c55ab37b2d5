/* Blocks, headers and counters of the tagged allocation API. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

static pt_tag_info info(uint32_t tag)
{
    pt_tag_info t;
    memset(&t, 0, sizeof t);
    CHECK(pt_tag_read(tag, &t) == 0);
    return t;
}

int main(void)
{
    const uint32_t A = PT_TAG("TstA"), B = PT_TAG("TstB");

    /* Unknown tag before use. */
    pt_tag_info t;
    CHECK(pt_tag_read(PT_TAG("Nevr"), &t) == -1);

    /* Basic block properties. */
    char *p = pt_alloc(PT_PAGED, 100, A);
    CHECK(p != NULL);
    CHECK(((uintptr_t)p & 15) == 0);
    CHECK_EQ_U(pt_tag_of(p), A);
    CHECK_EQ_U(pt_size_of(p), 100);
    CHECK(pt_pool_of(p) == PT_PAGED);
    memset(p, 0xab, 100);
    t = info(A);
    CHECK_EQ_U(t.pool[PT_PAGED].allocs, 1);
    CHECK_EQ_U(t.pool[PT_PAGED].bytes_alloc, 100);
    CHECK_EQ_U(t.pool[PT_NONPAGED].allocs, 0);

    /* Zero-size blocks are unique and freeable. */
    void *z1 = pt_alloc(PT_PAGED, 0, A), *z2 = pt_alloc(PT_PAGED, 0, A);
    CHECK(z1 && z2 && z1 != z2);
    pt_free(z1);
    pt_free(z2);

    /* calloc zeroes; overflow fails and is counted. */
    unsigned char *c = pt_calloc(PT_PAGED, 10, 30, B);
    CHECK(c != NULL);
    for (int i = 0; i < 300; i++)
        CHECK(c[i] == 0);
    errno = 0;
    CHECK(pt_calloc(PT_PAGED, SIZE_MAX / 2, 3, B) == NULL && errno == ENOMEM);
    CHECK_EQ_U(info(B).pool[PT_PAGED].failures, 1);

    /* realloc keeps tag, pool and contents; counts free + alloc. */
    char *r = pt_realloc(p, 5000);
    CHECK(r != NULL);
    CHECK_EQ_U(pt_tag_of(r), A);
    CHECK_EQ_U(pt_size_of(r), 5000);
    for (int i = 0; i < 100; i++)
        CHECK((unsigned char)r[i] == 0xab);
    t = info(A);
    CHECK_EQ_U(t.pool[PT_PAGED].allocs - t.pool[PT_PAGED].frees, 1);
    CHECK_EQ_U(t.pool[PT_PAGED].bytes_alloc - t.pool[PT_PAGED].bytes_freed, 5000);
    r = pt_realloc(r, 10);
    CHECK_EQ_U(pt_size_of(r), 10);
    CHECK((unsigned char)r[9] == 0xab);
    CHECK(pt_realloc(r, 0) == NULL);
    t = info(A);
    CHECK_EQ_U(t.pool[PT_PAGED].allocs, t.pool[PT_PAGED].frees);
    CHECK_EQ_U(t.pool[PT_PAGED].bytes_alloc, t.pool[PT_PAGED].bytes_freed);
    CHECK_EQ_U(t.pool[PT_PAGED].peak, 5000);

    /* Aligned blocks: header directly before the aligned address. */
    size_t aligns[] = {1, 8, 16, 32, 64, 256, 4096, 65536, 1 << 21};
    for (size_t i = 0; i < sizeof aligns / sizeof *aligns; i++) {
        for (int pool = 0; pool < 2; pool++) {
            char *a = pt_alloc_aligned((pt_pool)pool, 333, aligns[i], B);
            CHECK(a != NULL);
            CHECK(((uintptr_t)a & (aligns[i] - 1)) == 0);
            CHECK_EQ_U(pt_size_of(a), 333);
            CHECK_EQ_U(pt_tag_of(a), B);
            CHECK(pt_pool_of(a) == (pt_pool)pool);
            memset(a, 1, 333);
            char *a2 = pt_realloc(a, 1000); /* realloc of an aligned block */
            CHECK(a2 && a2[332] == 1 && pt_tag_of(a2) == B);
            pt_free(a2);
        }
    }
    errno = 0;
    CHECK(pt_alloc_aligned(PT_PAGED, 10, 48, B) == NULL && errno == EINVAL);

    /* Nonpaged pool: small and large blocks, counted in their own pool. */
    char *n1 = pt_alloc(PT_NONPAGED, 40, A);
    char *n2 = pt_alloc(PT_NONPAGED, 200000, A);
    CHECK(n1 && n2);
    CHECK(pt_pool_of(n1) == PT_NONPAGED && pt_pool_of(n2) == PT_NONPAGED);
    memset(n1, 7, 40);
    memset(n2, 7, 200000);
    t = info(A);
    CHECK_EQ_U(t.pool[PT_NONPAGED].allocs, 2);
    CHECK_EQ_U(t.pool[PT_NONPAGED].bytes_alloc, 200040);
    CHECK_EQ_U(pt_pool_used(PT_NONPAGED), 200040);
    pt_free(n1);
    pt_free(n2);
    CHECK_EQ_U(pt_pool_used(PT_NONPAGED), 0);

    /* Untagged allocations: "None", or the pushed tag; scopes nest. */
    void *u = pt_alloc(PT_PAGED, 8, 0);
    CHECK_EQ_U(pt_tag_of(u), PT_TAG("None"));
    uint32_t old = pt_tag_push(PT_TAG("Pars"));
    CHECK_EQ_U(old, 0);
    void *v = pt_alloc(PT_PAGED, 8, 0);
    uint32_t old2 = pt_tag_push(PT_TAG("Innr"));
    void *w = pt_alloc(PT_PAGED, 8, 0);
    pt_tag_pop(old2);
    void *x = pt_alloc(PT_PAGED, 8, 0);
    pt_tag_pop(old);
    void *y = pt_realloc(NULL, 8);
    CHECK_EQ_U(pt_tag_of(v), PT_TAG("Pars"));
    CHECK_EQ_U(pt_tag_of(w), PT_TAG("Innr"));
    CHECK_EQ_U(pt_tag_of(x), PT_TAG("Pars"));
    CHECK_EQ_U(pt_tag_of(y), PT_TAG("None"));
    pt_free(u), pt_free(v), pt_free(w), pt_free(x), pt_free(y);

    /* pt_free_tag with the right tag is silent; the read API lists tags. */
    void *q = pt_alloc(PT_PAGED, 64, A);
    pt_free_tag(q, A);
    pt_free(c);
    pt_free(NULL);
    pt_tag_info all[64];
    size_t n = pt_tags_read(all, 64);
    CHECK(n >= 5);
    int seen = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        if (all[i].tag == A || all[i].tag == B)
            seen++;
        CHECK(all[i].pool[0].allocs == all[i].pool[0].frees);
        CHECK(all[i].pool[1].allocs == all[i].pool[1].frees);
    }
    CHECK(seen == 2);
    CHECK(pt_tags_read(all, 1) == n); /* returns the count even if short */

    char buf[PT_TAG_TEXT_MAX];
    puts(pt_tag_text(A, buf));
    return 0;
}
