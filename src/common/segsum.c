/* segsum.c — see segsum.h. */
#include "segsum.h"

#include <string.h>

static inline uint64_t ld64(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void add_counts(pt_counts *dst, const pt_seg_pool_counts *src)
{
    dst->allocs += ld64(&src->allocs);
    dst->frees += ld64(&src->frees);
    dst->bytes_alloc += ld64(&src->bytes_alloc);
    dst->bytes_freed += ld64(&src->bytes_freed);
}

void pt_seg_sum_site(const char *seg, const pt_seg_header *h, uint32_t shard_hw, uint32_t j,
                     pt_counts out[PT_POOL_COUNT])
{
    const pt_seg_counts *ret = (const pt_seg_counts *)(seg + h->site_retired_off) + j;
    memset(out, 0, PT_POOL_COUNT * sizeof *out);
    for (unsigned p = 0; p < PT_SEG_NPOOLS; p++)
        add_counts(&out[p], &ret->pool[p]);
    for (uint32_t s = 0; s < shard_hw; s++) {
        const char *shard = seg + h->shards_off + (uint64_t)s * h->shard_stride;
        const pt_seg_counts *c = pt_seg_shard_site_counts((void *)shard, h->max_tags, j);
        for (unsigned p = 0; p < PT_SEG_NPOOLS; p++)
            add_counts(&out[p], &c->pool[p]);
    }
}

void pt_seg_sum_entry(const char *seg, const pt_seg_header *h,
                      uint32_t shard_hw, uint32_t i, pt_tag_info *out)
{
    const uint32_t *keys = (const uint32_t *)(seg + h->keys_off);
    const pt_seg_tagstat *ts = (const pt_seg_tagstat *)(seg + h->tagstat_off) + i;
    const pt_seg_counts *ret = (const pt_seg_counts *)(seg + h->retired_off) + i;

    memset(out, 0, sizeof *out);
    out->tag = __atomic_load_n(&keys[i], __ATOMIC_ACQUIRE);
    out->flags = (__atomic_load_n(&ts->flags, __ATOMIC_RELAXED) & PT_SEG_TAG_OVERFLOW)
                     ? PT_TAGINFO_OVERFLOW : 0;
    for (unsigned p = 0; p < PT_SEG_NPOOLS; p++)
        add_counts(&out->pool[p], &ret->pool[p]);
    for (uint32_t s = 0; s < shard_hw; s++) {
        const char *shard = seg + h->shards_off + (uint64_t)s * h->shard_stride;
        const pt_seg_counts *c = pt_seg_shard_counts((void *)shard, i);
        for (unsigned p = 0; p < PT_SEG_NPOOLS; p++)
            add_counts(&out->pool[p], &c->pool[p]);
    }
    for (unsigned p = 0; p < PT_SEG_NPOOLS; p++) {
        pt_counts *c = &out->pool[p];
        c->failures = ld64(&ts->pool[p].failures);
        c->peak = ld64(&ts->pool[p].peak);
        uint64_t bytes = c->bytes_alloc >= c->bytes_freed ? c->bytes_alloc - c->bytes_freed : 0;
        if (bytes > c->peak)
            c->peak = bytes;
    }
}
