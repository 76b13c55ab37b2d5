/*
 * ptgrow.h — room for one more element in an array that grows by
 * doubling, the one copy of that step for the command, its library and
 * the reader (never the runtime, which does not allocate from the heap).
 */
#ifndef PT_GROW_H
#define PT_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* arr holds n elements of elem bytes in *cap: returns arr when n < *cap,
 * else arr reallocated to twice *cap (first when *cap is 0) with *cap
 * updated; NULL when out of memory or the size overflows (arr is then
 * untouched and still the caller's). */
static inline void *pt_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return arr;
    size_t nc = *cap ? 2 * *cap : first;
    if (nc <= *cap || elem == 0 || nc > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(arr, nc * elem);
    if (p)
        *cap = nc;
    return p;
}

#endif
