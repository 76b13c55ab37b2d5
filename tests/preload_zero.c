/* preload_zero — malloc_usable_size of zero-byte blocks and realloc(p, 0)
 * of a block of glibc's own, under the preload (issue 9, low items).
 * Prints "ok" or the first failed check. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) {                                                           \
            printf("FAIL line %d: %s\n", __LINE__, #c);                       \
            return 1;                                                         \
        }                                                                     \
    } while (0)

int main(void)
{
    /* Every non-NULL block has at least 1 usable byte (jemalloc's
     * test_zero_alloc), and writing all of them harms no other block
     * (pooltag would report the next block's damaged header). */
    void *v[4000];
    for (int i = 0; i < 1000; i++) {
        v[4 * i] = malloc(0);
        v[4 * i + 1] = calloc(0, 8);
        v[4 * i + 2] = realloc(NULL, 0);
        v[4 * i + 3] = memalign(64, 0);
        for (int k = 0; k < 4; k++) {
            void *p = v[4 * i + k];
            CHECK(p != NULL);
            size_t u = malloc_usable_size(p);
            CHECK(u >= 1);
            memset(p, 0xff, u);
        }
    }
    for (int i = 0; i < 4000; i++)
        free(v[i]);
    void *q = malloc(5);
    CHECK(q && malloc_usable_size(q) == 5); /* otherwise the size asked */
    free(q);

    /* realloc(p, 0) frees a block of glibc's own and returns NULL, as
     * glibc does and as for pooltag's blocks. */
    void *libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    CHECK(libc != NULL);
    void *(*gmalloc)(size_t) = (void *(*)(size_t))dlsym(libc, "malloc");
    CHECK(gmalloc && gmalloc != malloc);
    void *g = gmalloc(100);
    CHECK(g != NULL);
    CHECK(realloc(g, 0) == NULL);
    void *m = malloc(100);
    CHECK(realloc(m, 0) == NULL);
    puts("ok");
    return 0;
}
