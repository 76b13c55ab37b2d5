/* With PT_MAX_TAGS=16, the 17th distinct tag and later land in the overflow
 * entry (tag "Ovfl", flagged), which is listed; totals are never lost. */
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

int main(void)
{
    uint64_t total = 0;
    void *keep[40];
    for (int i = 0; i < 40; i++) {
        char name[5];
        snprintf(name, sizeof name, "T%03d", i);
        uint32_t tag;
        CHECK(pt_tag_parse(name, &tag) == 0);
        keep[i] = pt_alloc(PT_PAGED, (size_t)(i + 1), tag);
        CHECK(keep[i] != NULL);
        CHECK_EQ_U(pt_tag_of(keep[i]), tag); /* the block keeps its own tag */
        total += (uint64_t)(i + 1);
    }
    pt_tag_info t[64];
    size_t n = pt_tags_read(t, 64);
    CHECK(n == 17); /* 16 table entries + the overflow entry */
    uint64_t sum = 0, ovfl_allocs = 0;
    int ovfl = 0;
    for (size_t i = 0; i < n; i++) {
        sum += t[i].pool[0].bytes_alloc;
        if (t[i].flags & PT_TAGINFO_OVERFLOW) {
            ovfl++;
            CHECK_EQ_U(t[i].tag, PT_TAG("Ovfl"));
            ovfl_allocs = t[i].pool[0].allocs;
        }
    }
    CHECK(ovfl == 1);
    CHECK_EQ_U(ovfl_allocs, 40 - 16);
    CHECK_EQ_U(sum, total);
    for (int i = 0; i < 40; i++)
        pt_free(keep[i]);
    n = pt_tags_read(t, 64);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_U(t[i].pool[0].frees, t[i].pool[0].allocs);
    puts("test_overflow: ok");
    return 0;
}
