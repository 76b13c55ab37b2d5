/*
 * read.c — the in-process read API: pt_tags_read, pt_tag_read, the pool
 * maxima and usage.
 *
 * Data model and invariants
 * -------------------------
 * A tag's counters are the sum of its counts over the shards [0, shard_hw)
 * (segment.h, invariant 3), summed by pt_seg_sum_entry (segsum.c), the
 * same code the `pooltag` reader uses, so that a live process and the
 * command agree to the byte.  Counters only grow and a shard keeps its
 * counts when its thread exits, so one pass suffices: no retry, no lock.
 * Each counter is read once with a relaxed load while its owner may be
 * writing it, so a reading taken while threads allocate mixes moments of
 * the call (a counter is never torn and never goes back).
 *
 * The read functions never initialise the runtime and never allocate:
 * before the first allocation there is nothing to read, and they may run
 * in a signal handler.
 */
#define _GNU_SOURCE
#include "rtstate.h"

#include <errno.h>

#include "segsum.h"

size_t pt_tags_read(pt_tag_info *out, size_t max)
{
    if (!ready())
        return 0;
    pt_seg_header *h = pt__seg;
    uint32_t hw = __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE);
    size_t n = 0;
    for (uint32_t i = 0; i <= ovfl_idx; i++) {
        if (!__atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE))
            continue;
        pt_tag_info tmp;
        pt_seg_sum_entry(seg_base, h, hw, i, &tmp);
        if (i == ovfl_idx && !tmp.pool[0].allocs && !tmp.pool[1].allocs &&
            !tmp.pool[0].failures && !tmp.pool[1].failures)
            continue;
        if (n < max)
            out[n] = tmp;
        n++;
    }
    return n;
}

int pt_tag_read(uint32_t tag, pt_tag_info *out)
{
    if (!ready() || tag == 0)
        return -1;
    pt_seg_header *h = pt__seg;
    uint32_t hi = tag_hash(tag);
    uint32_t idx = UINT32_MAX;
    for (uint32_t n = 0; n <= tag_mask; n++) {
        uint32_t i = (hi + n) & tag_mask;
        uint32_t k = __atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE);
        if (k == tag) {
            idx = i;
            break;
        }
        if (k == 0)
            break;
    }
    if (tag == PT_TAG_OVFL)
        idx = ovfl_idx;
    if (idx == UINT32_MAX)
        return -1;
    PT_ASSERT(idx <= ovfl_idx);
    pt_seg_sum_entry(seg_base, h, __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE), idx, out);
    return 0;
}

size_t pt_pool_limit(pt_pool pool)
{
    if ((unsigned)pool > PT_NONPAGED)
        return 0;
    ensure_init();
    return (size_t)__atomic_load_n(&seg_pools[pool].limit, __ATOMIC_RELAXED);
}

size_t pt_pool_used(pt_pool pool)
{
    if ((unsigned)pool > PT_NONPAGED || !ready())
        return 0;
    pt_seg_header *h = pt__seg;
    uint32_t hw = __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE);
    uint64_t total = 0;
    for (uint32_t i = 0; i <= ovfl_idx; i++) {
        if (!__atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE))
            continue;
        pt_tag_info t;
        pt_seg_sum_entry(seg_base, h, hw, i, &t);
        total += t.pool[pool].bytes_alloc - t.pool[pool].bytes_freed;
    }
    return (size_t)total;
}

int pt_set_pool_limit(pt_pool pool, size_t max_bytes)
{
    if ((unsigned)pool > PT_NONPAGED) {
        errno = EINVAL;
        return -1;
    }
    ensure_init();
    if (max_bytes && !lim(pool)) {
        /* Start exact accounting from the current usage.  Operations that
         * run concurrently with this call may be missed by a few blocks. */
        __atomic_store_n(&seg_pools[pool].used, (int64_t)pt_pool_used(pool),
                         __ATOMIC_RELAXED);
    }
    __atomic_store_n(&seg_pools[pool].limit, (uint64_t)max_bytes, __ATOMIC_RELAXED);
    /* (limit_on[PT_PAGED] is also the kick word: only its limit bit) */
    if (max_bytes)
        __atomic_fetch_or(&limit_on[pool], (int)PT_KICK_LIMIT, __ATOMIC_RELEASE);
    else
        __atomic_fetch_and(&limit_on[pool], ~(int)PT_KICK_LIMIT, __ATOMIC_RELEASE);
    return 0;
}
