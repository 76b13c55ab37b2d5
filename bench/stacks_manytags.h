/*
 * stacks_manytags.h — turns the reference workload into a program with many
 * tags, for bench/stacks_bench.sh (the "hit on one tag" and "switched off"
 * rows of the pt_alloc API).  Not a copy of the workload: it is compiled as
 *
 *     cc -O2 -pthread -include bench/stacks_manytags.h \
 *        ../shared/bench/alloc_bench.c -lpooltag
 *
 * so that the workload's malloc/calloc/free become pt_alloc/pt_calloc/
 * pt_free.  Each allocation takes the next of 16 tags, "Bt00".."Bt15", in
 * turn (a per-thread counter), so the timed loop spreads its blocks over 16
 * tags.  A 17th tag, "Bhit", gets one allocation (kept) before main: it is
 * the tag that the benchmark's hit row switches on (PT_HIT=Bhit), so every
 * allocation and free of the timed loop is one of "the other tags".
 */
#ifndef PT_STACKS_MANYTAGS_H
#define PT_STACKS_MANYTAGS_H

/* Declare the real functions first: the macros below must not rename them
 * in <stdlib.h>, which the workload includes again (include guard). */
#include <stdint.h>
#include <stdlib.h>

#include "pooltag.h"

#define PTB_NTAGS 16u

static const uint32_t ptb_tags[PTB_NTAGS] = {
    PT_TAG("Bt00"), PT_TAG("Bt01"), PT_TAG("Bt02"), PT_TAG("Bt03"),
    PT_TAG("Bt04"), PT_TAG("Bt05"), PT_TAG("Bt06"), PT_TAG("Bt07"),
    PT_TAG("Bt08"), PT_TAG("Bt09"), PT_TAG("Bt10"), PT_TAG("Bt11"),
    PT_TAG("Bt12"), PT_TAG("Bt13"), PT_TAG("Bt14"), PT_TAG("Bt15"),
};

static __thread unsigned ptb_next;

static inline uint32_t ptb_tag(void)
{
    return ptb_tags[ptb_next++ % PTB_NTAGS];
}

static inline void *ptb_malloc(size_t n)
{
    return pt_alloc(PT_PAGED, n, ptb_tag());
}

static inline void *ptb_calloc(size_t n, size_t size)
{
    return pt_calloc(PT_PAGED, n, size, ptb_tag());
}

static void *ptb_hit_block;

__attribute__((constructor)) static void ptb_make_hit_tag(void)
{
    ptb_hit_block = pt_alloc(PT_PAGED, 64, PT_TAG("Bhit"));
}

#define malloc(n) ptb_malloc(n)
#define calloc(n, size) ptb_calloc((n), (size))
#define free(p) pt_free(p)

#endif
