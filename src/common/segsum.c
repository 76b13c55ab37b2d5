/* segsum.c — see segsum.h. */
#include "segsum.h"

#include <stddef.h>
#include <string.h>

/* The public pt_counts (pooltag.h, installed and self-contained, so it
 * spells its members out) must hold every counter of counters.def under
 * its name, in its order: the SUM rows first, then the STAT rows. */
enum {
#define PT_COUNTER(name, kind, help) PT_COUNTS_IDX_##name,
#include "counters.def"
    PT_COUNTS_N
};
#define PT_COUNTER(name, kind, help)                                                     \
    _Static_assert(offsetof(pt_counts, name) == PT_COUNTS_IDX_##name * sizeof(uint64_t), \
                   "pt_counts." #name " follows counters.def");                          \
    _Static_assert(sizeof(((pt_counts *)0)->name) == sizeof(uint64_t), "64-bit " #name);
#include "counters.def"
_Static_assert(sizeof(pt_counts) == PT_COUNTS_N * sizeof(uint64_t),
               "pt_counts holds the counters of counters.def and nothing else");
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help)                                                       \
    _Static_assert(offsetof(pt_seg_pool_counts, name) == offsetof(pt_counts, name),      \
                   "the SUM counters come first in pt_counts");
#include "counters.def"

static inline uint64_t ld64(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* dst += src, for every SUM counter. */
static void add_counts(pt_counts *dst, const pt_seg_pool_counts *src)
{
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help) dst->name += ld64(&src->name);
#include "counters.def"
}

void pt_seg_sum_site(const char *seg, const pt_seg_header *h, uint32_t shard_hw, uint32_t j,
                     pt_counts out[PT_POOL_COUNT])
{
    memset(out, 0, PT_POOL_COUNT * sizeof *out);
    for (uint32_t s = 0; s < shard_hw; s++) {
        const char *shard = seg + h->shards_off + (uint64_t)s * h->shard_stride;
        const pt_seg_counts *c = pt_seg_shard_site_counts((void *)shard, h->max_tags, j);
        for (unsigned p = 0; p < PT_SEG_NPOOLS; p++)
            add_counts(&out[p], &c->pool[p]);
    }
}

int pt_seg_site_counted(const pt_seg_header *h)
{
    return (h->flags & PT_SEGF_SITE_COUNTS) && h->sites_off && h->max_sites;
}

void pt_seg_add_counts(pt_counts dst[PT_POOL_COUNT], const pt_counts src[PT_POOL_COUNT])
{
    for (unsigned p = 0; p < PT_SEG_NPOOLS; p++) {
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help) dst[p].name += src[p].name;
#include "counters.def"
    }
}

void pt_seg_sum_entry_lines(const char *seg, const pt_seg_header *h, uint32_t shard_hw,
                            uint32_t i, pt_tag_info *out)
{
    const uint32_t *keys = (const uint32_t *)(seg + h->keys_off);
    const pt_seg_tagstat *ts = (const pt_seg_tagstat *)(seg + h->tagstat_off) + i;

    memset(out, 0, sizeof *out);
    out->tag = __atomic_load_n(&keys[i], __ATOMIC_ACQUIRE);
    out->flags = (__atomic_load_n(&ts->flags, __ATOMIC_RELAXED) & PT_SEG_TAG_OVERFLOW)
                     ? PT_TAGINFO_OVERFLOW : 0;
    for (uint32_t s = 0; s < shard_hw; s++) {
        const char *shard = seg + h->shards_off + (uint64_t)s * h->shard_stride;
        const pt_seg_counts *c = pt_seg_shard_counts((void *)shard, i);
        for (unsigned p = 0; p < PT_SEG_NPOOLS; p++)
            add_counts(&out->pool[p], &c->pool[p]);
    }
    for (unsigned p = 0; p < PT_SEG_NPOOLS; p++) {
        out->pool[p].failures = ld64(&ts->pool[p].failures);
        out->pool[p].peak = ld64(&ts->pool[p].peak);
    }
}

void pt_seg_entry_done(pt_tag_info *out)
{
    for (unsigned p = 0; p < PT_SEG_NPOOLS; p++) {
        pt_counts *c = &out->pool[p];
        uint64_t bytes = c->bytes_alloc >= c->bytes_freed ? c->bytes_alloc - c->bytes_freed : 0;
        if (bytes > c->peak)
            c->peak = bytes;
    }
}

void pt_seg_sum_entry(const char *seg, const pt_seg_header *h,
                      uint32_t shard_hw, uint32_t i, pt_tag_info *out)
{
    pt_seg_sum_entry_lines(seg, h, shard_hw, i, out);
    if (pt_seg_site_counted(h)) {
        /* the sites that name entry i (segment.h, invariant 3) */
        const pt_seg_site *st = (const pt_seg_site *)(seg + h->sites_off);
        for (uint32_t j = 0; j <= h->max_sites; j++) {
            if (!__atomic_load_n(&st[j].tag, __ATOMIC_ACQUIRE) ||
                __atomic_load_n(&st[j].tagidx, __ATOMIC_RELAXED) != i)
                continue;
            pt_counts sc[PT_POOL_COUNT];
            pt_seg_sum_site(seg, h, shard_hw, j, sc);
            pt_seg_add_counts(out->pool, sc);
        }
    }
    pt_seg_entry_done(out);
}
