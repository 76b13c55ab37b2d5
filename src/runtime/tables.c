/*
 * tables.c — the tag table and the call-site table of the segment.
 *
 * Data model
 * ----------
 * Tags: an open-addressed table of max_tags keys (segment.h, invariant 5),
 * probed linearly from tag_hash(tag); entry ovfl_idx (= max_tags) is the
 * overflow entry "Ovfl" that receives every tag that found the table full.
 * Sites: an open-addressed table of max_sites entries (tag, address, tag
 * index), probed linearly from site_hash(tag, address); entry site_ovfl (=
 * max_sites) is the overflow site.  Each tag gets an "other sites" entry
 * (address 0) when it is created, used once distinct sites have filled
 * their share of the table.
 *
 * Invariants
 * ----------
 *   - Keys are written once, by compare-and-swap (tags) or under site_lock
 *     (sites, key last with release), and never change or move, so that
 *     lookups need no lock and an index is valid for the life of the
 *     segment.
 *   - Every index returned is <= ovfl_idx (tags) or <= site_ovfl (sites).
 *   - Distinct sites leave site_keep entries, less the "other sites"
 *     entries already made, for tags still to come.
 */
#define _GNU_SOURCE
#include "rtstate.h"

static uint32_t site_find(uint32_t tag, uintptr_t addr, int insert, uint32_t tidx);

uint32_t pt__tag_index_slow(uint32_t tag)
{
    ensure_init();
    uint32_t h = tag_hash(tag);
    uint32_t idx = ovfl_idx;
    /* "Ovfl" is the overflow entry's name (as in Windows): a program that
     * uses it as a tag is counted there rather than shown twice. */
    for (uint32_t n = 0; tag != PT_TAG_OVFL && n <= tag_mask; n++) {
        uint32_t i = (h + n) & tag_mask;
        uint32_t k = __atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE);
        if (k == tag) {
            idx = i;
            break;
        }
        if (k == 0) {
            uint32_t zero = 0;
            if (__atomic_compare_exchange_n(&seg_keys[i], &zero, tag, 0,
                                            __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                __atomic_fetch_add(&pt__seg->tags_used, 1, __ATOMIC_RELAXED);
                idx = i;
                pt__tr_tag_added(i, tag); /* a hit pattern may name it */
                site_find(tag, 0, 1, i); /* the tag's "other sites" entry */
                break;
            }
            if (zero == tag) {
                idx = i;
                break;
            }
        }
    }
    PT_ASSERT(idx <= ovfl_idx);
    unsigned s = cache_slot(tag);
    tls.cache[s].tag = PT_CACHE_POISON; /* the key last (signal handlers) */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.cache[s].idx = idx;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.cache[s].tag = tag;
    return idx;
}

static inline uint32_t site_hash(uint32_t tag, uintptr_t addr)
{
    uint64_t x = ((uint64_t)addr ^ ((uint64_t)tag << 29)) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 40) & site_mask;
}

/* May another entry go in?  The tags' "other sites" entries (addr 0) may
 * take any free entry; a distinct site must leave site_keep entries, less
 * the "other sites" entries already made, for tags still to come.  Under
 * site_lock. */
static int site_room(uintptr_t addr)
{
    uint32_t used = pt__seg->sites_used, max = site_mask + 1;
    if (addr == 0)
        return used < max;
    uint32_t keep = site_keep > site_others ? site_keep - site_others : 0;
    return used + keep < max;
}

/* Find the site (tag, addr), or insert it.  Entries are never removed;
 * inserts take site_lock and publish addr last, so lookups need no lock.
 * When distinct sites filled their share of the table: the tag's "other
 * sites" entry (addr 0), made when the tag was created, or else (the
 * table is full: PT_MAX_TAGS > PT_MAX_SITES / 2) the overflow site. */
static uint32_t site_find(uint32_t tag, uintptr_t addr, int insert, uint32_t tidx)
{
    uint32_t h = site_hash(tag, addr);
    for (uint32_t n = 0; n <= site_mask; n++) {
        pt_seg_site *e = &seg_sites[(h + n) & site_mask];
        uint32_t t = __atomic_load_n(&e->tag, __ATOMIC_ACQUIRE);
        if (t == 0) {
            if (!insert)
                return UINT32_MAX;
            be_enter(); /* a signal handler must not wait for site_lock */
            pt__spin_lock(&site_lock);
            if (__atomic_load_n(&e->tag, __ATOMIC_ACQUIRE) == 0) {
                if (!site_room(addr)) {
                    pt__spin_unlock(&site_lock);
                    be_leave();
                    return UINT32_MAX;
                }
                site_others += addr == 0;
                e->addr = addr;
                e->tagidx = tidx;
                __atomic_store_n(&e->tag, tag, __ATOMIC_RELEASE);
                __atomic_fetch_add(&pt__seg->sites_used, 1, __ATOMIC_RELAXED);
                pt__spin_unlock(&site_lock);
                be_leave();
                return (h + n) & site_mask;
            }
            pt__spin_unlock(&site_lock);
            be_leave();
            t = __atomic_load_n(&e->tag, __ATOMIC_ACQUIRE);
        }
        if (t == tag && e->addr == addr)
            return (h + n) & site_mask;
    }
    return UINT32_MAX;
}

__attribute__((noinline)) uint32_t pt__site_index(uint32_t tag, uint32_t tidx, const void *ra)
{
    if (tidx == ovfl_idx)
        return site_ovfl;
    if (ra)
        pt__mod_note(ra); /* a new site may lie in a module loaded since */
    uint32_t s = site_find(tag, (uintptr_t)ra, 1, tidx);
    if (s == UINT32_MAX)
        s = site_find(tag, 0, 0, tidx);
    s = s == UINT32_MAX ? site_ovfl : s;
    PT_ASSERT(s <= site_ovfl && seg_sites[s].tagidx <= ovfl_idx);
    return s;
}

