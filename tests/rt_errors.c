/* rt_errors CASE — commits one caller error for test_errors.sh, which checks
 * the report line and the exit status under PT_ON_ERROR=report|abort.
 * Prints "survived" when the process goes on after the error. */
#include <stdio.h>
#include <string.h>

#include "pooltag.h"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *c = argv[1];
    const uint32_t T = PT_TAG("Errs");
    pt_tag_info before, after;
    void *keep = pt_alloc(PT_PAGED, 10, T); /* makes the tag exist */
    pt_tag_read(T, &before);

    if (!strcmp(c, "badptr")) {
        static _Alignas(16) char fake[64];
        pt_free(fake + 32);
    } else if (!strcmp(c, "doublefree")) {
        void *p = pt_alloc(PT_PAGED, 48, T);
        pt_free(p);
        pt_free(p);
    } else if (!strcmp(c, "corrupt")) {
        char *p = pt_alloc(PT_PAGED, 48, T);
        p[-16] ^= 0x40; /* flip a bit of the size */
        pt_free(p);
    } else if (!strcmp(c, "mismatch")) {
        void *p = pt_alloc(PT_PAGED, 48, T);
        pt_free_tag(p, PT_TAG("Othr"));
    } else if (!strcmp(c, "tagof")) {
        static _Alignas(16) char fake[64];
        if (pt_tag_of(fake + 32) != 0)
            return 3;
    } else {
        return 2;
    }
    pt_tag_read(T, &after);
    /* A refused free must not change the counters; a mismatch frees. */
    long dfrees = (long)(after.pool[0].frees - before.pool[0].frees);
    printf("survived frees+%ld allocs+%ld\n", dfrees,
           (long)(after.pool[0].allocs - before.pool[0].allocs));
    pt_free(keep);
    return 0;
}
