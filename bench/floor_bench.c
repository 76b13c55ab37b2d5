/*
 * floor_bench.c — what any per-block-header design costs at the least, next
 * to what pooltag's preload costs, on one workload.
 *
 * One program, compiled several ways by bench/floor_bench.sh (-DVARIANT=):
 *   0 bare      mi_malloc / mi_free
 *   1 pad16     mi_malloc(n + 16), the caller's pointer 16 bytes in: only
 *               the size-class shift and the moved payload of a 16-byte header
 *   2 header    pad16 + a header written (size, tag, a check hash of the
 *               address) on malloc and checked and overwritten on free
 *   3 counted   header + two thread-local counters per operation
 *   4 malloc    plain malloc / free: run under (or linked against)
 *               libpooltag-preload.so, or libmimalloc.so.2, by the script
 * Variants 1-3 are a lower bound, not a design: inlined into the caller,
 * nothing looked up, nothing shared, no double-free or foreign-pointer
 * detection beyond the hash, no per-site or per-tag counts, no peaks, no
 * signal-handler safety.  What pooltag does on top of variant 3 is the
 * price of those.
 *
 * Workload (the shape of ../shared/bench/alloc_bench.c, written anew): a
 * window of W live blocks; each step frees a random slot's block and
 * allocates one of a random size into it, then touches it (first and last
 * byte, one byte per 4 KiB).  Sizes: 75 % 8..256 B, 24 % 257..4096 B,
 * 1 % 4097..65536 B.  Prints "ops=N cpu_ns=T" (this thread's CPU time for
 * the timed steps, after a warm-up that fills the window).
 *
 * usage: floor_bench OPS [WINDOW]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef VARIANT
#define VARIANT 4
#endif

#if VARIANT < 4
#include <mimalloc.h>
#define HDR (VARIANT >= 1 ? 16 : 0)
static __thread uint64_t counted[4];

static inline uint32_t check_of(const char *h, uint64_t n)
{
    return (uint32_t)((uintptr_t)h >> 4) ^ (uint32_t)n ^ 0x9e3779b9u;
}

static inline void *b_malloc(size_t n)
{
    char *h = mi_malloc(n + HDR);
    if (!h)
        return NULL;
#if VARIANT >= 2
    uint64_t w1 = 0x656b6174u | (uint64_t)check_of(h, n) << 32;
    memcpy(h, &n, 8);
    memcpy(h + 8, &w1, 8);
#endif
#if VARIANT >= 3
    counted[0]++;
    counted[1] += n;
#endif
    return h + HDR;
}

static inline void b_free(void *p)
{
    char *h = (char *)p - HDR;
#if VARIANT >= 2
    uint64_t n, w1;
    memcpy(&n, h, 8);
    memcpy(&w1, h + 8, 8);
    if ((uint32_t)(w1 >> 32) != check_of(h, n))
        abort();
    w1 ^= 1ull << 32;
    memcpy(h + 8, &w1, 8);
#if VARIANT >= 3
    counted[2]++;
    counted[3] += n;
#endif
#endif
    mi_free(h);
}
#else
#define b_malloc malloc
#define b_free free
#endif

static inline uint64_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static inline size_t pick(uint64_t r)
{
    unsigned b = (unsigned)(r % 100);
    uint64_t r2 = r >> 8;
    if (b < 75)
        return 8 + (size_t)(r2 % 249);
    if (b < 99)
        return 257 + (size_t)(r2 % 3840);
    return 4097 + (size_t)(r2 % 61440);
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 0, w = argc > 2 ? atol(argv[2]) : 1000;
    if (ops <= 0 || w <= 0 || w > 10000000) {
        fprintf(stderr, "usage: floor_bench OPS [WINDOW]\n");
        return 2;
    }
    char **slot = calloc((size_t)w, sizeof *slot);
    size_t *len = calloc((size_t)w, sizeof *len);
    if (!slot || !len)
        return 1;
    uint64_t s = 0x2545f4914f6cdd1dull, sum = 0, t0 = 0;
    for (long i = 0; i < ops + w; i++) {
        if (i == w)
            t0 = cpu_ns(); /* the window is full: timing starts */
        uint64_t r = next(&s);
        long k = (long)((r >> 32) % (uint64_t)w);
        if (slot[k]) {
            sum += (unsigned char)slot[k][0] + (unsigned char)slot[k][len[k] - 1];
            b_free(slot[k]);
        }
        size_t n = pick(next(&s));
        char *q = b_malloc(n);
        if (!q)
            return 1;
        for (size_t off = 0; off < n; off += 4096)
            q[off] = (char)i;
        q[0] = (char)r;
        q[n - 1] = (char)(r >> 8);
        slot[k] = q;
        len[k] = n;
    }
    uint64_t t = cpu_ns() - t0;
    for (long k = 0; k < w; k++)
        if (slot[k])
            b_free(slot[k]);
    free(slot);
    free(len);
    printf("ops=%ld cpu_ns=%llu sum=%llu\n", ops, (unsigned long long)t, (unsigned long long)sum);
    return 0;
}
