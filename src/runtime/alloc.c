/*
 * alloc.c — the tagged allocation API and its fast path: the block header,
 * the per-thread site cache, counting into shards, pool maxima,
 * pt_alloc / pt_free / pt_realloc.
 *
 * Read internal.h (block header, counting) and rtstate.h (state and its
 * invariants) first.
 *
 * Data model
 * ----------
 * A block is a backend allocation of size + 16 bytes whose first 16 bytes
 * are its header (hdr_write, rtstate.h); an aligned block keeps the
 * backend's pointer in the 8 bytes before the header.  A block is counted
 * twice per operation: under its call site (tls.scounts[sidx]) and under
 * the site's tag (tls.counts[tidx]), in the pool it came from, in the
 * shard of the thread that allocates or frees it.
 *
 * Invariants
 * ----------
 *   1. A live header checks (check_live); only a header that checks is
 *      counted as freed (or, in the preload, one that defer_free checked
 *      and marked freed, released later by the thread it interrupted), and
 *      a block is counted as freed once: its check value becomes the freed
 *      mark before its counts change.
 *   2. A block of another epoch (inherited across fork) is freed without
 *      being counted; realloc charges its new block to the tag's "other
 *      sites" entry.
 *   3. A thread writes its private shard with plain stores (never an
 *      atomic read-modify-write) and never writes another thread's shard;
 *      a thread without a private shard adds atomically into shard 0.
 *   4. While a pool has a maximum (lim(pool)), seg_pools[pool].used holds
 *      the exact bytes of its live blocks of this epoch: every successful
 *      allocation takes its size before it is made, every free gives it
 *      back.  Without a maximum `used` is not kept.
 *   5. No lock and no atomic read-modify-write on the fast path (a paged
 *      block, a (caller, tag) this thread has used, no paged maximum, a
 *      private shard).
 *   6. A traced site (hit tag or verified module, trace.c) is never in
 *      the site caches the fast paths read (scache, the preload's
 *      racache): its requests reach the slow path, where traced_or_not
 *      serves them from the per-thread cache of traced sites (tcache).
 *      A change of what is traced bumps pt__mod_gen, which every cache
 *      entry is checked against, and the kick word (limit_on[PT_PAGED],
 *      bit PT_KICK_CONTROL) sends the next request of every thread to the
 *      slow path, which applies the change (ctl_check).  Traced blocks
 *      carry PT_W0_TRACED (in W0_SLOW_MASK), so their frees reach
 *      release_ex, which records them (pt__tr_free).
 *   7. A special pool block (special.c) has no header: every path that
 *      reads a header asks sp_mine(p) first and hands such a pointer to
 *      special.c (pt__sp_free, pt__sp_info, sp_realloc).  While sampling
 *      is off the fast paths only count tls.sp_left down from
 *      PT_AGE_CHECK, the age clock's countdown (section 3b); when it
 *      reaches 0 the request takes the slow path, which looks at the clock
 *      and, while sampling is on, asks pt__sp_due (traced_or_not).
 *   8. A block's check word holds the stamp of its age epoch; a valid site
 *      cache entry holds the stamp of its thread's epoch (section 3b).
 *
 * Order of this file: the API (1), the fast paths it calls (2), the
 * counting they do (3), then everything the fast paths leave out: slow
 * allocation (4), checking and releasing blocks, realloc (5).  In the
 * preload, src/preload/plalloc.c (the malloc family's entry points) is
 * #included at the end, so that its fast path inlines the same pieces.
 */
#define _GNU_SOURCE
#include "rtstate.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

/* Functions defined below the code that calls them (see "Order"). */
static inline __attribute__((always_inline)) void *alloc_fast(unsigned pool, size_t size,
                                                               uint32_t tag, int zero,
                                                               const void *ra);
static inline __attribute__((always_inline)) void *paged_block(pt_tls *t, size_t size,
                                                               const pt_sent *e, int zero);
static inline void sent_fill(pt_sent *e, const void *ra, uint32_t tag, uint32_t tidx,
                             uint32_t sidx, uint32_t gen);
static inline __attribute__((always_inline)) void free_live(pt_hdr *h, uint64_t w0, uint32_t tag,
                                                             int pl);
static __attribute__((noinline)) void free_other_epoch(pt_hdr *h, void *p, int pl);
static inline void be_free_block(pt_tls *t, pt_hdr *h);
static __attribute__((noinline)) void libc_free_block(pt_hdr *h);
static inline unsigned scache_slot(const void *ra, uint32_t tag);
static inline void count_alloc_in(pt_seg_counts *cs, int64_t *fl, pt_seg_counts *ss,
                                  uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size);
static inline void count_free_in(pt_seg_counts *cs, int64_t *fl, pt_seg_counts *ss,
                                 uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size);
static inline void count_alloc(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size);
static inline void count_free(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size);
static void count_slow(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free);
static int claim_shard(void);
static void age_claim(pt_seg_shard_hdr *sh);
static void count_shared(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free);
static void count_failure(uint32_t idx, unsigned pool);
static void age_add(uint32_t sidx, uint32_t e, int64_t bytes, int64_t blocks);
static inline void age_free(uint32_t sidx, uint32_t e, uint64_t size);
static inline void age_slow_entry(void);
static void atomic_max_u64(uint64_t *p, uint64_t v);
static int limit_take(unsigned pool, uint64_t size);
static inline void limit_give(unsigned pool, uint64_t size);
static __attribute__((noinline)) void *alloc_slow(unsigned pool, size_t size, uint32_t tag,
                                                  int zero, const void *ra);
static inline __attribute__((always_inline)) void *
alloc_slow_at(unsigned pool, size_t size, uint32_t tag, int zero, const void *ra, int cache);
static inline void site_of(uint32_t tag, const void *ra, uint32_t *tidx, uint32_t *sidx,
                           int cache);
static inline uint32_t effective_tag(uint32_t tag);
static __attribute__((noinline)) void *fail(uint32_t idx, unsigned pool);
static inline void *pool_mem(unsigned pool, size_t total, int zero);
static inline void pool_mem_free(unsigned pool, void *base);
static inline void *finish(void *base, unsigned pool, uint64_t size, uint32_t tag,
                           uint32_t idx, uint32_t sidx, uint64_t flags);
static void *alloc_aligned(pt_pool pool, size_t size, size_t alignment, uint32_t tag,
                           const void *ra);
static void *alloc_aligned_at(pt_pool pool, size_t size, size_t alignment, uint32_t tag,
                              const void *ra, int cache);
static __attribute__((noinline)) void bad_header(const pt_hdr *h, const void *p);
static inline int header_ok(const pt_hdr *h, const void *p);
static inline uint32_t site_tag_index(uint32_t sidx);
static __attribute__((noinline)) void release_ex(pt_hdr *h, int give_limit);
static void release(pt_hdr *h);
static void *realloc_block(void *p, size_t size, const void *ra);
static __attribute__((noinline)) void *sp_realloc(void *p, size_t size, const void *ra);
#ifdef PT_PRELOAD
static void defer_free(void *p);               /* src/preload/plalloc.c */
static void pl_free_slow(void *p);             /* src/preload/plalloc.c */
const void *pt__behalf_site(const void *f0, int *cache); /* src/preload/unwind.c */
static inline const void *api_site(const void *ra, int *cache);
#endif

/* ==== 1. The API ========================================================= */

#define CALLER __builtin_return_address(0)

void *pt_alloc(pt_pool pool, size_t size, uint32_t tag)
{
    return alloc_fast((unsigned)pool, size, tag, 0, CALLER);
}

void *pt_calloc(pt_pool pool, size_t n, size_t size, uint32_t tag)
{
    size_t total;
    if (PT_UNLIKELY(__builtin_mul_overflow(n, size, &total))) {
        tag = effective_tag(tag);
        return fail(tag_index(tag), (unsigned)pool > PT_NONPAGED ? 0 : (unsigned)pool);
    }
    return alloc_fast((unsigned)pool, total, tag, 1, CALLER);
}

void *pt_alloc_aligned(pt_pool pool, size_t size, size_t alignment, uint32_t tag)
{
    return alloc_aligned(pool, size, alignment, tag, CALLER);
}

void pt_free(void *p)
{
    if (PT_UNLIKELY(!p))
        return;
    if (PT_UNLIKELY(sp_mine(p))) {
        pt__sp_free(p, CALLER);
        return;
    }
    pt_hdr *h = (pt_hdr *)p - 1;
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    /* (a block of this thread's current epoch: the fast path) */
    if (PT_UNLIKELY(h->check != (check_live(h, w0, tag) ^ tls.age_x))) {
        free_other_epoch(h, p, 0);
        return;
    }
    free_live(h, w0, tag, 0);
}

void pt_free_tag(void *p, uint32_t tag)
{
    if (!p)
        return;
    if (PT_UNLIKELY(sp_mine(p))) {
        uint64_t n;
        uint32_t t;
        if (pt__sp_info(p, &n, &t, NULL) && t != effective_tag(tag))
            pt__report(PT_ERR_TAG_MISMATCH, p, t, tag, n, 1);
        pt__sp_free(p, CALLER);
        return;
    }
    pt_hdr *h = (pt_hdr *)p - 1;
    if (!header_ok(h, p))
        return;
    if (PT_UNLIKELY(h->tag != effective_tag(tag)))
        pt__report(PT_ERR_TAG_MISMATCH, p, h->tag, tag, w0_size(h->w0), 1);
    release(h);
}

void *pt_realloc(void *p, size_t size)
{
    return realloc_block(p, size, CALLER);
}

uint32_t pt_tag_of(const void *p)
{
    if (!p)
        return 0;
    uint32_t t;
    if (PT_UNLIKELY(sp_mine(p)))
        return pt__sp_info(p, NULL, &t, NULL) ? t : 0;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    return header_ok(h, p) ? h->tag : 0;
}

size_t pt_size_of(const void *p)
{
    if (!p)
        return 0;
    uint64_t n;
    if (PT_UNLIKELY(sp_mine(p)))
        return pt__sp_info(p, &n, NULL, NULL) ? (size_t)n : 0;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    return header_ok(h, p) ? (size_t)(w0_size(h->w0)) : 0;
}

pt_pool pt_pool_of(const void *p)
{
    if (!p)
        return PT_PAGED;
    if (PT_UNLIKELY(sp_mine(p)))
        return PT_PAGED; /* special blocks are paged */
    const pt_hdr *h = (const pt_hdr *)p - 1;
    return header_ok(h, p) ? (pt_pool)w0_pool(h->w0) : PT_PAGED;
}

uint32_t pt_tag_push(uint32_t tag)
{
    uint32_t prev = tls.cur_tag;
    tls.cur_tag = tag;
    return prev;
}

void pt_tag_pop(uint32_t previous)
{
    tls.cur_tag = previous;
}

/* ==== 2. The fast paths ================================================= */

/* The fast path: a paged block from a (caller, tag) this thread has used
 * before, no paged maximum, a private shard.  No lock, no atomic
 * read-modify-write. */
static inline __attribute__((always_inline)) void *
alloc_fast(unsigned pool, size_t size, uint32_t tag, int zero, const void *ra)
{
    pt_tls *t = tls_self();
    unsigned s = scache_slot(ra, tag);
    pt_seg_counts *cs = t->counts;
    /* One test for: paged pool, size below 4 GiB (pt_sent), no paged maximum
     * and no control change (the kick word), an entry of the current
     * generation (a traced site is never cached; a change of what is
     * traced bumps pt__mod_gen). */
    const pt_sent *e = &t->scache[s];
    if (PT_LIKELY(e->ra == ra && e->tag == tag &&
                  ((size >> 32) | pool | (unsigned)kick() |
                   (e->gen ^ __atomic_load_n(&pt__mod_gen, __ATOMIC_RELAXED))) == 0 &&
                  cs && --t->sp_left != 0)) {
        /* (sp_left: the sampled guard pages' countdown, special.c; huge
         * while sampling is off) */
        return paged_block(t, size, e, zero);
    }
    return alloc_slow(pool, size, tag, zero, ra);
}

/* The common end of both fast paths: a paged block of the site cache entry
 * e with its header, counted in this thread's shard (t->counts, not NULL). */
static inline __attribute__((always_inline)) void *
paged_block(pt_tls *t, size_t size, const pt_sent *e, int zero)
{
    PT_ASSERT(size >> 32 == 0);
    /* Read before the backend call (a signal handler may refill e): w0,
     * the header's second word less the block's part of the check
     * (tag | ekey << 32, one load) and the tag index. */
    uint64_t w0 = e->w0 | size, w1;
    __builtin_memcpy(&w1, &e->tag, sizeof w1); /* (-fno-builtin: spelled out) */
    uint32_t idx = e->tidx;
    pt_hdr *h = zero ? be_calloc_t(t, size + PT_HDR_SIZE) : be_malloc_t(t, size + PT_HDR_SIZE);
    if (PT_UNLIKELY(!h))
        return fail(idx, PT_PAGED);
    /* hdr_write's header: check = (h >> 4) ^ ekey ^ size (pt_sent) */
    h->w0 = w0;
    w1 ^= (((uintptr_t)h >> 4) ^ (uint32_t)w0) << 32;
    __builtin_memcpy(&h->tag, &w1, sizeof w1);
    PT_ASSERT(h->check == (check_live(h, w0, h->tag) ^ t->age_x));
    /* (t->counts, tested by the caller, is read again: fewer registers
     * live across the call; only this thread changes it) */
    count_alloc_in(t->counts, t->flushed, t->scounts, idx, w0_site(w0), PT_PAGED,
                   (uint32_t)w0);
    return h + 1;
}

/* Fill a site cache entry (the slow paths): the key last, so that a
 * signal handler of this thread never sees a half-written entry. */
static inline void sent_fill(pt_sent *e, const void *ra, uint32_t tag, uint32_t tidx,
                             uint32_t sidx, uint32_t gen)
{
    uint64_t w0 = epoch_bits | ((uint64_t)sidx << PT_W0_SITE_SHIFT);
    e->ra = NULL;
    /* (not cached while this thread is behind the current age epoch: its
     * next slow path catches up first) */
    if (PT_UNLIKELY(tls.age_e != __atomic_load_n(&pt__age_now, __ATOMIC_ACQUIRE)))
        return;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    e->w0 = w0;
    /* the stamp of this thread's epoch (hdr_write): an entry is valid only
     * while it is (a change of epoch bumps pt__mod_gen) */
    e->ekey = tag ^ (uint32_t)secret ^ (uint32_t)(w0 >> 32) ^ tls.age_x;
    e->tag = tag;
    e->tidx = tidx;
    e->gen = gen;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    e->ra = ra;
}

#define W0_SLOW_MASK                                                                       \
    (PT_W0_POOL | PT_W0_ALIGNED | PT_W0_TRACED | (PT_W0_EPOCH_MASK << PT_W0_EPOCH_SHIFT))

/* Free a block whose header (w0, tag) was validated.  Fast path: a paged,
 * unaligned block of this epoch, no paged maximum, a private shard.
 * pl: called by the preload's free, whose fast path also excludes a signal
 * handler that interrupted the backend (its free is deferred). */
static inline __attribute__((always_inline)) void free_live(pt_hdr *h, uint64_t w0, uint32_t tag,
                                                             int pl)
{
    pt_tls *t = tls_self();
    pt_seg_counts *cs = t->counts;
    if (PT_LIKELY((((w0 & W0_SLOW_MASK) ^ epoch_bits) | (uint64_t)kick() |
                   (pl ? t->in_be : 0)) == 0 &&
                  cs)) {
        h->check = check_freed(h, tag);
        uint32_t sidx = w0_site(w0);
        count_free_in(cs, t->flushed, t->scounts, site_tag_index(sidx), sidx, PT_PAGED,
                      w0_size(w0));
        be_free_block(t, h);
        return;
    }
#ifdef PT_PRELOAD
    if (pl && t->in_be) {
        defer_free(h + 1);
        return;
    }
#endif
    release(h);
}

/* The free of a block whose header does not hold this thread's current
 * epoch: a live block of another epoch (a block that lived through an
 * epoch change, common in long-lived programs) is freed as free_live does,
 * and taken out of its epoch (age_add: the epoch table, atomically, and
 * this shard's moved counters); anything else is the caller's slow path
 * (pl: the preload's, which tells foreign pointers apart; else reported). */
static __attribute__((noinline)) void free_other_epoch(pt_hdr *h, void *p, int pl)
{
    pt_tls *t = tls_self();
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    uint32_t e = hdr_epoch(h, w0, tag, h->check);
    if (PT_UNLIKELY(e == UINT32_MAX || w0_site(w0) > site_ovfl)) { /* (release_ex) */
#ifdef PT_PRELOAD
        if (pl) {
            pl_free_slow(p);
            return;
        }
#endif
        bad_header(h, p);
        return;
    }
    /* A thread that only frees catches up here (its frees of the current
     * epoch's blocks then take the fast path again); not inside the
     * backend (a signal handler's free: deferred below). */
    if (PT_UNLIKELY(t->age_e != __atomic_load_n(&pt__age_now, __ATOMIC_ACQUIRE)) &&
        !(pl && t->in_be))
        pt__age_sync_slow();
    pt_seg_counts *cs = t->counts;
    if (PT_LIKELY((((w0 & W0_SLOW_MASK) ^ epoch_bits) | (uint64_t)kick() |
                   (pl ? t->in_be : 0)) == 0 &&
                  cs && t->ts == TS_PRIVATE)) {
        h->check = check_freed(h, tag);
        uint32_t sidx = w0_site(w0);
        uint64_t size = w0_size(w0);
        count_free_in(cs, t->flushed, t->scounts, site_tag_index(sidx), sidx, PT_PAGED, size);
        age_free(sidx, e, size);
        be_free_block(t, h);
        return;
    }
#ifdef PT_PRELOAD
    if (pl && t->in_be) {
        defer_free(p);
        return;
    }
#endif
    release(h);
}

static inline void be_free_block(pt_tls *t, pt_hdr *h)
{
    if (PT_LIKELY(backend == PT_BACKEND_MIMALLOC)) {
        be_enter_t(t);
        mi_free(h);
        be_leave_t(t);
        return;
    }
    libc_free_block(h);
}

/* Free the paged block with header h (unaligned, so the backend's pointer
 * is h itself). */
/* (noinline: the mimalloc path of be_free_block stays a tail call) */
static __attribute__((noinline)) void libc_free_block(pt_hdr *h)
{
    /* (w0 and the tag are still there: only the check value changed) */
    if (PT_UNLIKELY(w0_size(h->w0) >= PT_LIBC_MARK_MIN)) {
        uint32_t *m = (uint32_t *)(h + 2);
        m[0] = libc_mark(h, h->tag);
        m[1] = h->tag;
    }
    be_enter();
    libc_free(h);
    be_leave();
}

static inline unsigned scache_slot(const void *ra, uint32_t tag)
{
    return (unsigned)((((uintptr_t)ra ^ tag) * 0x9e3779b97f4a7c15ull) >> 58);
}

/* ==== 3. Counting ======================================================= */

/* Count into this thread's shard `cs`: its site counters `ss` and its
 * unflushed changes `fl` (segment.h, invariants 3 and 6).  Only the site's
 * counters are written: a tag's are the sum of its sites' (the site's
 * entry names its tag index, idx here), so one cache line of counters is
 * touched per operation.  fl[2 * idx + pool] is this thread's change of the
 * tag's Bytes since it last pushed it to the tag's cur: a flush happens when
 * it reaches the tag's grain, in either direction, so a tag that allocates
 * and frees at a steady level never flushes, and one that grows or shrinks
 * flushes once per grain. */
static inline void count_alloc_in(pt_seg_counts *cs, int64_t *fl, pt_seg_counts *ss,
                                  uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size)
{
    (void)cs;
    PT_ASSERT(((const pt_seg_shard_hdr *)cs - 1)->tid == tls.tid); /* invariant 3 */
    PT_ASSERT(idx <= ovfl_idx && sidx <= site_ovfl && seg_sites[sidx].tagidx == idx);
    pt_seg_pool_counts *sc = &ss[sidx].pool[pool];
    st(&sc->allocs, ld(&sc->allocs) + 1);
    st(&sc->bytes_alloc, ld(&sc->bytes_alloc) + size);
    int64_t d = fl[2 * idx + pool] + (int64_t)size;
    fl[2 * idx + pool] = d;
    if (PT_UNLIKELY((d >> __atomic_load_n(&gshift[idx], __ATOMIC_RELAXED)) > 0))
        pt__flush(idx, pool);
}

static inline void count_free_in(pt_seg_counts *cs, int64_t *fl, pt_seg_counts *ss,
                                 uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size)
{
    (void)cs;
    PT_ASSERT(((const pt_seg_shard_hdr *)cs - 1)->tid == tls.tid); /* invariant 3 */
    PT_ASSERT(idx <= ovfl_idx && sidx <= site_ovfl && seg_sites[sidx].tagidx == idx);
    pt_seg_pool_counts *sc = &ss[sidx].pool[pool];
    st(&sc->frees, ld(&sc->frees) + 1);
    st(&sc->bytes_freed, ld(&sc->bytes_freed) + size);
    int64_t d = fl[2 * idx + pool] - (int64_t)size;
    fl[2 * idx + pool] = d;
    if (PT_UNLIKELY((-d >> __atomic_load_n(&gshift[idx], __ATOMIC_RELAXED)) > 0))
        pt__flush(idx, pool);
}

static inline void count_alloc(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size)
{
    pt_seg_counts *cs = tls.counts;
    if (PT_UNLIKELY(!cs)) {
        count_slow(idx, sidx, pool, size, 0);
        return;
    }
    count_alloc_in(cs, tls.flushed, tls.scounts, idx, sidx, pool, size);
}

static inline void count_free(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size)
{
    pt_seg_counts *cs = tls.counts;
    if (PT_UNLIKELY(!cs)) {
        count_slow(idx, sidx, pool, size, 1);
        return;
    }
    count_free_in(cs, tls.flushed, tls.scounts, idx, sidx, pool, size);
}

static void count_slow(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free)
{
    uint32_t e0 = tls.age_e; /* the epoch the block was stamped with */
    if (tls.ts == TS_NEW && claim_shard()) {
        if (is_free) {
            count_free(idx, sidx, pool, size);
        } else {
            count_alloc(idx, sidx, pool, size);
            if (PT_UNLIKELY(tls.age_e != e0)) /* the shard was ahead: the
                                                 block belongs to e0 */
                age_add(sidx, e0, (int64_t)size, 1);
        }
        return;
    }
    if (tls.ts == TS_NEW) {
        tls.ts = TS_SHARED;
        __atomic_fetch_add(&pt__seg->shared_users, 1, __ATOMIC_RELAXED);
    }
    count_shared(idx, sidx, pool, size, is_free);
}

/* ==== 3b. Age epochs ===================================================== */

/* segment.h, "Age epochs", says what is counted where; this is how.
 *
 *   - A thread stamps every block it allocates with its epoch, tls.age_e
 *     (tls.age_x in the check word: hdr_write, and sent_fill's ekey for the
 *     fast paths), and counts it in its site counters as always: with a
 *     private shard that is the shard's "current part", which belongs to
 *     the shard's age_epoch == tls.age_e.  The fast paths do nothing more.
 *   - A free whose block has the thread's epoch is the frees' fast test
 *     (check == check_live ^ tls.age_x): counted as always.  A block of
 *     another epoch takes release_ex, which also moves its bytes out of
 *     that epoch (age_free: ages[e][site] and the shard's moved counters,
 *     so that the shard's current part does not change).
 *   - A thread changes epoch only in a slow path (age_sync): it moves its
 *     shard's current part to ages[old epoch] (shard_age_move) and bumps
 *     pt__mod_gen, so that no cache entry with the old stamp is used again:
 *     a valid site cache entry always holds the stamp of tls.age_e.
 *   - Epochs begin (age_tick) when a thread finds one due: every
 *     PT_AGE_CHECK allocations of each thread (the fast paths' countdown
 *     tls.sp_left, which the sampled guard pages share) and at the start of
 *     the slow paths that ran it out.  Beginning an epoch bumps pt__mod_gen
 *     too, so every thread's next allocation catches up.
 *   - A thread without a private shard (shard 0) counts every block in
 *     ages[][] at once (age_add in count_shared and age_free): shard 0 has
 *     no current part. */

uint32_t pt__age_busy; /* an epoch is being begun (init.c resets it in a fork child) */

static inline pt_seg_shard_hdr *shard_hdr(uint32_t i)
{
    return (pt_seg_shard_hdr *)(seg_shards + (uint64_t)i * seg_stride);
}

/* Add to the live bytes and blocks of (site, epoch e) and to the moved
 * counters of the shard this thread counts in (atomic: shard 0 is shared,
 * and a signal handler may free in the middle of its thread's own add). */
static void age_add(uint32_t sidx, uint32_t e, int64_t bytes, int64_t blocks)
{
    if (!seg_ages || e >= PT_AGE_EPOCHS)
        return;
    PT_ASSERT(sidx <= site_ovfl);
    pt_seg_age_live *a = &seg_ages[(uint64_t)e * (site_ovfl + 1) + sidx];
    __atomic_fetch_add(&a->bytes, bytes, __ATOMIC_RELAXED);
    __atomic_fetch_add(&a->blocks, blocks, __ATOMIC_RELAXED);
    uint32_t shard = tls.ts == TS_PRIVATE && tls.counts ? tls.shard : 0;
    pt_seg_age_live *m =
        pt_seg_shard_age_moved(shard_hdr(shard), pt__seg->max_tags, pt__seg->max_sites, sidx);
    __atomic_fetch_add(&m->bytes, bytes, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->blocks, blocks, __ATOMIC_RELAXED);
}

/* A block of epoch e (UINT32_MAX: unknown) of site sidx was counted as
 * freed: take it out of its epoch unless it is this thread's current one. */
static inline void age_free(uint32_t sidx, uint32_t e, uint64_t size)
{
    if (e == UINT32_MAX || (tls.ts == TS_PRIVATE && tls.counts && e == tls.age_e))
        return;
    age_add(sidx, e, -(int64_t)size, -1);
}

void pt__age_free(uint32_t sidx, uint32_t e, uint64_t size)
{
    age_free(sidx, e, size);
}

/* Move the current part of shard sh (this thread's own) to ages[its
 * epoch], and give it epoch `to`.  Only the site counters' pages that were
 * ever written are read (mincore: the memfd is sparse, and reading a page
 * nobody wrote would give it memory). */
static void shard_age_move(pt_seg_shard_hdr *sh, uint32_t to)
{
    const pt_seg_header *h = pt__seg;
    uint32_t from = sh->age_epoch;
    uint64_t nsites = (uint64_t)h->max_sites + 1;
    pt_seg_counts *sc = pt_seg_shard_site_counts(sh, h->max_tags, 0);
    pt_seg_age_live *mv = pt_seg_shard_age_moved(sh, h->max_tags, h->max_sites, 0);
    __atomic_store_n(&sh->age_seq, sh->age_seq + 1, __ATOMIC_RELAXED); /* odd */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    /* (pt_seg_counts is 64 bytes, 64-aligned: each lies on one page.  A
     * page that is not resident was never written — or was swapped out,
     * when its counts are left where they are: a reading then shows them in
     * the newer epoch) */
    uintptr_t pgsz = h->page_size >= 4096 && !(h->page_size & (h->page_size - 1))
                         ? h->page_size : 4096;
    uintptr_t lo = (uintptr_t)sc & ~(pgsz - 1);
    uintptr_t end = (uintptr_t)(sc + nsites);
    unsigned char vec[256];
    for (uintptr_t a = lo; a < end; a += sizeof vec * pgsz) {
        uintptr_t b = a + sizeof vec * pgsz < end ? a + sizeof vec * pgsz : end;
        size_t npages = (b - a + pgsz - 1) / pgsz;
        if (mincore((void *)a, b - a, vec) != 0)
            memset(vec, 1, npages); /* (cannot tell: read them all) */
        for (size_t pg = 0; pg < npages; pg++) {
            if (!(vec[pg] & 1))
                continue;
            uintptr_t p0 = a + pg * pgsz, p1 = p0 + pgsz;
            uint64_t j0 = p0 <= (uintptr_t)sc ? 0 : (p0 - (uintptr_t)sc) / sizeof *sc;
            uint64_t j1 = p1 >= end ? nsites : (p1 - (uintptr_t)sc) / sizeof *sc;
            for (uint64_t j = j0; j < j1; j++) {
                int64_t bytes = 0, blocks = 0;
                for (unsigned q = 0; q < PT_SEG_NPOOLS; q++) {
                    const pt_seg_pool_counts *c = &sc[j].pool[q];
                    bytes += (int64_t)(ld(&c->bytes_alloc) - ld(&c->bytes_freed));
                    blocks += (int64_t)(ld(&c->allocs) - ld(&c->frees));
                }
                int64_t db = bytes - __atomic_load_n(&mv[j].bytes, __ATOMIC_RELAXED);
                int64_t dn = blocks - __atomic_load_n(&mv[j].blocks, __ATOMIC_RELAXED);
                if (db == 0 && dn == 0)
                    continue;
                pt_seg_age_live *ag = &seg_ages[(uint64_t)from * nsites + j];
                __atomic_fetch_add(&ag->bytes, db, __ATOMIC_RELAXED);
                __atomic_fetch_add(&ag->blocks, dn, __ATOMIC_RELAXED);
                __atomic_fetch_add(&mv[j].bytes, db, __ATOMIC_RELAXED);
                __atomic_fetch_add(&mv[j].blocks, dn, __ATOMIC_RELAXED);
            }
        }
    }
    __atomic_store_n(&sh->age_epoch, to, __ATOMIC_RELEASE);
    __atomic_store_n(&sh->age_seq, sh->age_seq + 1, __ATOMIC_RELEASE); /* even */
}

/* A shard just claimed takes this thread's epoch: its current part (the
 * last owner's) goes to the epoch it was in.  A shard ahead of this thread
 * (released by a thread that saw a newer epoch) brings the thread to it. */
static void age_claim(pt_seg_shard_hdr *sh)
{
    if (!seg_ages)
        return;
    uint32_t se = __atomic_load_n(&sh->age_epoch, __ATOMIC_ACQUIRE);
    if (se < tls.age_e) {
        pt_seg_counts *cs = tls.counts; /* (as in pt__age_sync_slow) */
        tls.counts = NULL;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        shard_age_move(sh, tls.age_e);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        tls.counts = cs;
    } else if (se > tls.age_e) {
        tls.age_e = se;
        tls.age_x = pt_age_stamp(se);
        __atomic_fetch_add(&pt__mod_gen, 1, __ATOMIC_RELEASE);
    }
}

void pt__age_sync_slow(void)
{
    uint32_t now = __atomic_load_n(&pt__age_now, __ATOMIC_ACQUIRE);
    pt_seg_counts *cs = tls.counts;
    /* While the shard moves, a signal handler of this thread counts through
     * shard 0 (tls.counts NULL: no fast path, count_shared), which puts
     * its blocks in their epoch at once: never into a current part that
     * is being moved, nor with a stamp that is about to change. */
    tls.counts = NULL;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (tls.ts == TS_PRIVATE && cs && seg_ages) {
        pt_seg_shard_hdr *sh = shard_hdr(tls.shard);
        if (sh->age_epoch < now)
            shard_age_move(sh, now);
    }
    tls.age_e = now;
    tls.age_x = pt_age_stamp(now);
    /* this thread's cache entries hold the old stamp */
    __atomic_fetch_add(&pt__mod_gen, 1, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.counts = cs;
}

/* Begin the next epoch if it is due (one thread at a time; the others go
 * on without waiting). */
static void age_tick(uint64_t now)
{
    if (!seg_ages)
        return;
    uint32_t e = __atomic_load_n(&pt__age_now, __ATOMIC_RELAXED);
    if (e + 1 >= PT_AGE_EPOCHS)
        return;
    if (now < __atomic_load_n(&age_due, __ATOMIC_RELAXED))
        return;
    uint32_t free_ = 0;
    if (!__atomic_compare_exchange_n(&pt__age_busy, &free_, 1, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return;
    pt_seg_header *h = pt__seg;
    e = pt__age_now;
    if (e + 1 < PT_AGE_EPOCHS && now >= age_due) {
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        h->age_start_mono[e + 1] = now;
        h->age_start_real[e + 1] = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
        __atomic_store_n(&age_due, pt_age_due(now, h->age_start_mono[0]), __ATOMIC_RELAXED);
        __atomic_store_n(&h->age_now, e + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&pt__age_now, e + 1, __ATOMIC_RELEASE);
        __atomic_fetch_add(&pt__mod_gen, 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&pt__age_busy, 0, __ATOMIC_RELEASE);
}

/* The countdown ran out (or was never armed): look at the clock, and arm
 * it again unless the sampled guard pages own it (special.c re-arms it
 * then, and the age clock is looked at each time it runs out).  Its length
 * adapts to the thread's pace, between PT_AGE_CHECK_MIN and PT_AGE_CHECK
 * allocations: doubled while the clock is looked at more often than every
 * 2 ms, halved while less often than every 20 ms, so that a busy thread
 * reads the clock about once per millisecond or less (a few ns per
 * thousand allocations) and a thread that allocates rarely still notices
 * a due epoch within a few allocations. */
#define PT_AGE_CHECK_MIN 8u
static __attribute__((noinline)) void age_countdown(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    age_tick(now);
    uint64_t dt = now - tls.age_seen;
    tls.age_seen = now;
    uint32_t n = tls.age_every ? tls.age_every : PT_AGE_CHECK_MIN;
    if (dt < 2000000 && n < PT_AGE_CHECK)
        n *= 2;
    else if (dt > 20000000 && n > PT_AGE_CHECK_MIN)
        n /= 2;
    tls.age_every = n;
    if (!__atomic_load_n(&pt__sp_all, __ATOMIC_RELAXED))
        tls.sp_left = n;
}

/* At the start of the slow allocation paths.  They count down too (a
 * program whose requests all take them still looks at the clock), except
 * while the sampled guard pages own the countdown (pt__sp_due counts). */
static inline void age_slow_entry(void)
{
    pt_tls *t = &tls;
    if (PT_UNLIKELY(__atomic_load_n(&pt__sp_all, __ATOMIC_RELAXED))) {
        /* the sampled guard pages own sp_left, and slow paths do not count
         * it down: the slow paths have a countdown of their own then */
        if (++t->age_slow >= (t->age_every ? t->age_every : PT_AGE_CHECK_MIN)) {
            t->age_slow = 0;
            age_countdown();
        }
    } else if (PT_UNLIKELY(t->sp_left == 0 || t->sp_left > PT_AGE_CHECK) ||
               --t->sp_left == 0) {
        age_countdown();
    }
    age_sync();
}

/* Push this thread's change of entry idx/pool since its last flush to the
 * shared cur, and raise the peaks. */
void pt__flush(uint32_t idx, unsigned pool)
{
    int64_t *fl = &tls.flushed[2 * idx + pool];
    int64_t d = *fl;
    __atomic_store_n(fl, 0, __ATOMIC_RELAXED);
    int64_t cur = __atomic_add_fetch(&seg_tagstat[idx].pool[pool].cur, d,
                                     __ATOMIC_RELAXED);
    if (cur > 0)
        atomic_max_u64(&seg_tagstat[idx].pool[pool].peak, (uint64_t)cur);
    int64_t pc = __atomic_add_fetch(&seg_pools[pool].cur, d, __ATOMIC_RELAXED);
    if (pc > 0)
        atomic_max_u64(&seg_pools[pool].peak, (uint64_t)pc);
    /* Adapt the grain to the tag's size: 1/32 of its Bytes, at least
     * PT_PEAK_GRAIN, so that a big tag that moves flushes rarely and a
     * small one keeps an exact-enough peak. */
    unsigned want = cur > 0 ? 63u - (unsigned)__builtin_clzll((uint64_t)cur) : 0;
    want = want > 5 + gshift_min ? want - 5 : gshift_min;
    if (want != gshift[idx])
        __atomic_store_n(&gshift[idx], (uint8_t)want, __ATOMIC_RELAXED);
}

static int claim_shard(void)
{
    pt_seg_header *h = pt__seg;
    if (!key_ok) /* no exit handler: such threads count in shard 0 */
        return 0;
    for (uint32_t i = 1; i < h->max_shards; i++) {
        pt_seg_shard_hdr *sh = (pt_seg_shard_hdr *)(seg_shards + (uint64_t)i * seg_stride);
        uint32_t expect = PT_SHARD_FREE;
        if (__atomic_load_n(&sh->state, __ATOMIC_RELAXED) != PT_SHARD_FREE)
            continue;
        if (!__atomic_compare_exchange_n(&sh->state, &expect, PT_SHARD_LIVE, 0,
                                         __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        sh->tid = pt__gettid();
#ifdef PT_CONTRACTS
        tls.tid = sh->tid;
#endif
        sh->claims++;
        uint32_t hw = __atomic_load_n(&h->shard_hw, __ATOMIC_RELAXED);
        while (hw < i + 1 &&
               !__atomic_compare_exchange_n(&h->shard_hw, &hw, i + 1, 1,
                                            __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            ;
        __atomic_fetch_add(&h->threads_started, 1, __ATOMIC_RELAXED);
        tls.shard = i;
        tls.counts = pt_seg_shard_counts(sh, 0);
        tls.flushed = pt_seg_shard_flushed(sh, h->max_tags, 0);
        tls.scounts = pt_seg_shard_site_counts(sh, h->max_tags, 0);
        tls.ts = TS_PRIVATE;
        age_claim(sh);
        if (tls.cache[0].tag == 0)
            tls.cache[0].tag = PT_CACHE_POISON;
        pthread_setspecific(exit_key, (void *)1);
        return 1;
    }
    return 0;
}

static void atomic_max_u64(uint64_t *p, uint64_t v)
{
    uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > old &&
           !__atomic_compare_exchange_n(p, &old, v, 1, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
}

/* Counting for a thread without a private shard: atomic adds into shard 0,
 * exact cur and peak. */
static void count_shared(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free)
{
    PT_ASSERT(idx <= ovfl_idx && sidx <= site_ovfl && seg_sites[sidx].tagidx == idx);
    pt_seg_pool_counts *sc =
        &pt_seg_shard_site_counts(seg_shards, pt__seg->max_tags, sidx)->pool[pool];
    int64_t d;
    if (is_free) {
        __atomic_fetch_add(&sc->frees, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sc->bytes_freed, size, __ATOMIC_RELAXED);
        d = -(int64_t)size;
    } else {
        __atomic_fetch_add(&sc->allocs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sc->bytes_alloc, size, __ATOMIC_RELAXED);
        d = (int64_t)size;
        /* shard 0 has no current part: its blocks go to their epoch now */
        age_add(sidx, tls.age_e, (int64_t)size, 1);
    }
    int64_t cur = __atomic_add_fetch(&seg_tagstat[idx].pool[pool].cur, d,
                                     __ATOMIC_RELAXED);
    if (cur > 0)
        atomic_max_u64(&seg_tagstat[idx].pool[pool].peak, (uint64_t)cur);
    int64_t pc = __atomic_add_fetch(&seg_pools[pool].cur, d, __ATOMIC_RELAXED);
    if (pc > 0)
        atomic_max_u64(&seg_pools[pool].peak, (uint64_t)pc);
}

void pt__count(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free)
{
    if (is_free)
        count_free(idx, sidx, pool, size);
    else
        count_alloc(idx, sidx, pool, size);
}

uint32_t pt__site_tag(uint32_t sidx)
{
    return site_tag_index(sidx);
}

void pt__count_failure(uint32_t idx, unsigned pool)
{
    count_failure(idx, pool);
}

static void count_failure(uint32_t idx, unsigned pool)
{
    __atomic_fetch_add(&seg_tagstat[idx].pool[pool].failures, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&seg_pools[pool].failures, 1, __ATOMIC_RELAXED);
}

/* Reserve `size` bytes against the pool maximum.  Returns 0, or -1 if the
 * maximum would be exceeded. */
static int limit_take(unsigned pool, uint64_t size)
{
    int64_t u = __atomic_add_fetch(&seg_pools[pool].used, (int64_t)size, __ATOMIC_RELAXED);
    uint64_t lim = __atomic_load_n(&seg_pools[pool].limit, __ATOMIC_RELAXED);
    if (lim && u > (int64_t)lim) {
        __atomic_sub_fetch(&seg_pools[pool].used, (int64_t)size, __ATOMIC_RELAXED);
        return -1;
    }
    return 0;
}

static inline void limit_give(unsigned pool, uint64_t size)
{
    if (PT_UNLIKELY(lim(pool)))
        __atomic_sub_fetch(&seg_pools[pool].used, (int64_t)size, __ATOMIC_RELAXED);
}

/* ==== 4. Slow allocation ================================================ */

/* Every case the fast path leaves out: untagged, nonpaged, pool maxima,
 * oversized requests, a thread without a private shard or a cached site. */
static __attribute__((noinline)) void *alloc_slow(unsigned pool, size_t size, uint32_t tag,
                                                  int zero, const void *ra)
{
    int cache = 1;
#ifdef PT_PRELOAD
    ra = api_site(ra, &cache);
#endif
    return alloc_slow_at(pool, size, tag, zero, ra, cache);
}

/* Did the request ask for no tag (none given, no pt_tag_push scope; in
 * the preload: the module's automatic tag)?  For pool tracking's
 * "untagged" count. */
static inline int untagged_request(uint32_t tag)
{
#ifdef PT_PRELOAD
    if (tls.pl_auto)
        return 1;
#endif
    return tag == 0 && !tls.cur_tag;
}

/* A block of a traced site (trace.c): the aligned layout with
 * PT_TR_FRONT bytes in front for the tracked slot and the backend pointer
 * (internal.h, bit PT_W0_TRACED), recorded by pt__tr_alloc, failures
 * included. */
static __attribute__((noinline)) void *traced_alloc(unsigned kinds, uint32_t rec, unsigned pool,
                                                    size_t size, size_t alignment, uint32_t tag,
                                                    uint32_t idx, uint32_t sidx, int zero,
                                                    const void *site, int untagged)
{
    size_t a = alignment < 16 ? 16 : alignment;
    char *base = NULL;
    if (size <= PT_MAX_REQUEST && a <= PT_MAX_REQUEST - size &&
        !(lim(pool) && limit_take(pool, size) != 0)) {
        base = pool_mem(pool, size + a + PT_HDR_SIZE + PT_TR_FRONT + (size == 0), zero);
        if (!base)
            limit_give(pool, size);
    }
    if (PT_UNLIKELY(!base)) {
        pt__tr_alloc(kinds, rec, NULL, size, tag, idx, pool, site, untagged);
        return fail(idx, pool);
    }
    /* base is 16-aligned: user >= base + 32 leaves the slot at base and
     * the backend pointer at base + 8; rounding up to `a` adds at most
     * a - 16, so the block ends within the allocation. */
    uintptr_t user = ((uintptr_t)base + PT_TR_FRONT + PT_HDR_SIZE + a - 1) & ~(uintptr_t)(a - 1);
    pt_hdr *h = (pt_hdr *)user - 1;
    ((void **)h)[-1] = base;
    ((uint64_t *)h)[-2] = 0;
    void *p = finish(h, pool, size, tag, idx, sidx, PT_W0_ALIGNED | PT_W0_TRACED);
    ((uint64_t *)h)[-2] = pt__tr_alloc(kinds, rec, p, size, tag, idx, pool, site, untagged);
    return p;
}

static inline unsigned tcache_slot(const void *ra, uint32_t tag)
{
    _Static_assert(PT_TCACHE == 32, "tcache_slot: 5 bits");
    return (unsigned)((((uintptr_t)ra ^ tag) * 0xc2b2ae3d27d4eb4full) >> 59);
}

static inline __attribute__((always_inline)) void *
plain_block(unsigned pool, size_t size, uint32_t tag, uint32_t idx, uint32_t sidx, int zero);
static void *aligned_block(unsigned pl, size_t size, size_t alignment, uint32_t tag,
                           uint32_t idx, uint32_t sidx);

/* A request while hit or verify is on (pool valid): its site is looked up
 * in this thread's cache of classified sites first (a traced site's
 * allocations all come here, and so do an untraced site's whose fast-path
 * cache entry another site took: no table lookup, no module search), else
 * classified and cached. */
static __attribute__((noinline)) void *traced_or_not(unsigned pool, size_t size,
                                                     size_t alignment, uint32_t tag, int zero,
                                                     const void *ra, int cache, int untagged)
{
    pt_tls *t = &tls;
    unsigned s = tcache_slot(ra, tag);
    uint32_t gen = __atomic_load_n(&pt__mod_gen, __ATOMIC_ACQUIRE);
    uint32_t idx, sidx, rec;
    unsigned kinds;
    if (t->tcache[s].ra == ra && t->tcache[s].tag == tag && t->tcache[s].gen == gen) {
        idx = t->tcache[s].tidx;
        sidx = t->tcache[s].sidx;
        rec = t->tcache[s].rec;
        kinds = t->tcache[s].kinds;
        goto classified;
    }
    site_of(tag, ra, &idx, &sidx, cache);
    kinds = pt__tr_classify(idx, ra, &rec);
    if (cache && t->counts) { /* the key last (signal handlers), as in site_of */
        t->tcache[s].ra = NULL;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        t->tcache[s].tag = tag;
        t->tcache[s].tidx = idx;
        t->tcache[s].sidx = sidx;
        t->tcache[s].rec = rec;
        t->tcache[s].kinds = kinds;
        t->tcache[s].gen = gen;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        t->tcache[s].ra = ra;
    }
classified:;
    /* sampled guard pages of every allocation (special.c): this one? */
    int due = PT_UNLIKELY(__atomic_load_n(&pt__sp_all, __ATOMIC_RELAXED)) && pt__sp_due();
    if (PT_UNLIKELY((kinds & (PT_TR_FAULT | PT_TR_SPECIAL)) || due)) {
        /* fault injection first: a failed request never reaches the pool */
        if ((kinds & PT_TR_FAULT) && pt__fi_fail(idx, rec, size)) {
            if (kinds & (PT_TR_HIT | PT_TR_VERIFY))
                pt__tr_alloc(kinds & (PT_TR_HIT | PT_TR_VERIFY), rec, NULL, size, tag, idx, pool,
                             ra, untagged);
            return fail(idx, pool);
        }
        if ((kinds & PT_TR_SPECIAL) || due) {
            void *p = pt__sp_alloc(kinds | PT_TR_SPECIAL, rec, pool, size, alignment, tag, idx,
                                   sidx, zero, ra, untagged);
            if (p) {
                t->tr_last = 1;
                return p;
            }
        }
        kinds &= PT_TR_HIT | PT_TR_VERIFY;
    }
    if (!kinds)
        return alignment > 16 ? aligned_block(pool, size, alignment, tag, idx, sidx)
                              : plain_block(pool, size, tag, idx, sidx, zero);
    t->tr_last = 1;
    return traced_alloc(kinds, rec, pool, size, alignment, tag, idx, sidx, zero, ra, untagged);
}

/* A request that is not served from this thread's caches, charged to the
 * site `ra`; `cache` = 0 when ra must not be cached as a site key. */
static inline __attribute__((always_inline)) void *
alloc_slow_at(unsigned pool, size_t size, uint32_t tag, int zero, const void *ra, int cache)
{
    int untagged = untagged_request(tag);
    tag = effective_tag(tag);
    uint32_t idx, sidx;
    ensure_init();
    ctl_check();
    age_slow_entry();
    if (PT_UNLIKELY(__atomic_load_n(&pt__tr_on, __ATOMIC_RELAXED)) && pool <= PT_NONPAGED)
        return traced_or_not(pool, size, 16, tag, zero, ra, cache, untagged);
    site_of(tag, ra, &idx, &sidx, cache);
    if (PT_UNLIKELY(pool > PT_NONPAGED)) {
        errno = EINVAL;
        return NULL;
    }
    return plain_block(pool, size, tag, idx, sidx, zero);
}

/* The rest of a request whose site (idx, sidx) is known and pool valid. */
static inline __attribute__((always_inline)) void *
plain_block(unsigned pool, size_t size, uint32_t tag, uint32_t idx, uint32_t sidx, int zero)
{
    if (PT_UNLIKELY(size > PT_MAX_REQUEST))
        return fail(idx, pool);
    if (PT_UNLIKELY(lim(pool)) && limit_take(pool, size) != 0)
        return fail(idx, pool);
    /* (malloc(0): a byte more, so that malloc_usable_size's 1 is true; the
     * backend rounds it to 8, which defer_free needs) */
    void *base = pool_mem(pool, size + PT_HDR_SIZE + (size == 0), zero);
    if (PT_UNLIKELY(!base)) {
        limit_give(pool, size);
        return fail(idx, pool);
    }
    return finish(base, pool, size, tag, idx, sidx, 0);
}

#ifdef PT_PRELOAD
/* The site of a pt_* call from `ra` under PT_BEHALF: the first caller
 * outside the on-behalf API when ra lies in one (src/preload/unwind.c). */
static inline const void *api_site(const void *ra, int *cache)
{
    ensure_init();
    if (PT_LIKELY(!pt__mod_have_behalf))
        return ra;
    pt__mod_note(ra); /* a module loaded since: its API ranges first */
    return pt__behalf_site(ra, cache);
}
#endif

/* Tag and site of a request: tidx from the tag table, sidx from the site
 * table, through this thread's (caller, tag) cache.  The tag index used
 * for counting is the site's (the overflow site counts under Ovfl). */
static inline void site_of(uint32_t tag, const void *ra, uint32_t *tidx, uint32_t *sidx,
                           int cache)
{
    unsigned s = scache_slot(ra, tag);
    /* Read before deciding whether the site is traced: a change applied
     * from now on makes the entry filled below stale. */
    uint32_t gen = __atomic_load_n(&pt__mod_gen, __ATOMIC_ACQUIRE);
    /* (an entry of an older generation is filled again: else the fast
     * path, which checks the generation, would never take it again) */
    if (PT_LIKELY(tls.scache[s].ra == ra && tls.scache[s].tag == tag &&
                  tls.scache[s].gen == gen)) {
        *tidx = tls.scache[s].tidx;
        *sidx = w0_site(tls.scache[s].w0);
        return;
    }
    uint32_t t = tag_index(tag);
    uint32_t si = pt__site_index(tag, t, ra);
    t = seg_sites[si].tagidx;
    /* cached only once the thread has its shard, and never a traced site */
    if (cache && tls.counts && !tr_site(t, ra, NULL))
        sent_fill(&tls.scache[s], ra, tag, t, si, gen);
    *tidx = t;
    *sidx = si;
}

static inline uint32_t effective_tag(uint32_t tag)
{
    if (PT_UNLIKELY(tag == 0))
        tag = tls.cur_tag ? tls.cur_tag : PT_TAG_NONE;
    return tag;
}

static __attribute__((noinline)) void *fail(uint32_t idx, unsigned pool)
{
    count_failure(idx, pool);
    errno = ENOMEM;
    return NULL;
}

/* Allocate `total` bytes (header included) from the pool's memory. */
static inline void *pool_mem(unsigned pool, size_t total, int zero)
{
    if (PT_LIKELY(pool == PT_PAGED))
        return zero ? be_calloc(total) : be_malloc(total);
    void *p = pt__np_alloc(total);
    if (p && zero)
        memset(p, 0, total);
    return p;
}

static inline void pool_mem_free(unsigned pool, void *base)
{
    if (PT_LIKELY(pool == PT_PAGED))
        be_free(base);
    else
        pt__np_free(base);
}

/* Write the header of a new block and count it.  The header holds the
 * site index; the tag index is the site's. */
static inline void *finish(void *base, unsigned pool, uint64_t size, uint32_t tag,
                           uint32_t idx, uint32_t sidx, uint64_t flags)
{
    pt_hdr *h = (pt_hdr *)base;
    hdr_write(h, size, pool, flags, sidx, tag);
    count_alloc(idx, sidx, pool, size);
    return h + 1;
}

/* An alignment above 16 (a power of two), charged to the site `ra`. */
static void *alloc_aligned_at(pt_pool pool, size_t size, size_t alignment, uint32_t tag,
                              const void *ra, int cache)
{
    int untagged = untagged_request(tag);
    tag = effective_tag(tag);
    uint32_t idx, sidx;
    ensure_init();
    ctl_check();
    age_slow_entry();
    unsigned pl = (unsigned)pool;
    if (PT_UNLIKELY(__atomic_load_n(&pt__tr_on, __ATOMIC_RELAXED)) && pl <= PT_NONPAGED)
        return traced_or_not(pl, size, alignment, tag, 0, ra, cache, untagged);
    site_of(tag, ra, &idx, &sidx, cache);
    if (pl > PT_NONPAGED) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_block(pl, size, alignment, tag, idx, sidx);
}

/* The rest of an aligned request whose site is known and pool valid. */
static void *aligned_block(unsigned pl, size_t size, size_t alignment, uint32_t tag,
                           uint32_t idx, uint32_t sidx)
{
    if (size > PT_MAX_REQUEST || alignment > PT_MAX_REQUEST - size)
        return fail(idx, pl);
    if (PT_UNLIKELY(lim(pl)) && limit_take(pl, size) != 0)
        return fail(idx, pl);
    /* base is 16-aligned, so base+24 is 8 mod 16 and rounding it up to the
     * alignment adds at most alignment-8: the block ends within the
     * allocation of size + alignment + 16 bytes. */
    char *base = pool_mem(pl, size + alignment + PT_HDR_SIZE + (size == 0), 0);
    if (!base) {
        limit_give(pl, size);
        return fail(idx, pl);
    }
    uintptr_t user = ((uintptr_t)base + 24 + alignment - 1) & ~(uintptr_t)(alignment - 1);
    pt_hdr *h = (pt_hdr *)user - 1;
    ((void **)h)[-1] = base;
    return finish(h, pl, size, tag, idx, sidx, PT_W0_ALIGNED);
}

static void *alloc_aligned(pt_pool pool, size_t size, size_t alignment, uint32_t tag,
                           const void *ra)
{
    if (alignment == 0 || (alignment & (alignment - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment <= 16)
        return alloc_fast((unsigned)pool, size, tag, 0, ra);
    int cache = 1;
#ifdef PT_PRELOAD
    ra = api_site(ra, &cache);
#endif
    return alloc_aligned_at(pool, size, alignment, tag, ra, cache);
}

/* ==== 5. Checking and releasing blocks, realloc ========================= */

/* The header at h (its bytes copied in *hd) does not check as live: was
 * it a block of ours that has been freed?  Returns 1 and the tag (0 when
 * unknown) if so.  See "what survives glibc's bookkeeping" (rtstate.h). */
int pt__freed_block(const pt_hdr *h, const pt_hdr *hd, uint32_t *tag)
{
    if (hd->check == check_freed(h, hd->tag)) {
        *tag = hd->tag;
        return 1;
    }
    if (backend != PT_BACKEND_LIBC)
        return 0;
    uint64_t key;
    memcpy(&key, &hd->tag, sizeof key);
    if (libc_tcache_key && key == libc_tcache_key) {
        *tag = 0;
        return 1;
    }
    uint32_t m[2];
    if (read_near((uintptr_t)(h + 2), m, sizeof m, (uintptr_t)h) == 0 &&
        m[0] == libc_mark(h, m[1])) {
        *tag = m[1];
        return 1;
    }
    return 0;
}

/* Report why the header of p is not a live block's. */
static __attribute__((noinline)) void bad_header(const pt_hdr *h, const void *p)
{
    ensure_init();
    pt_hdr hd = *h;
    uint32_t tag;
    if (pt__freed_block(h, &hd, &tag))
        pt__report(PT_ERR_DOUBLE_FREE, p, tag, 0, 0, 0);
    else
        pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
}

/* Validate the header of p.  Returns 1 when live; otherwise reports and
 * returns 0. */
static inline int header_ok(const pt_hdr *h, const void *p)
{
    if (PT_LIKELY(hdr_live(h)))
        return 1;
    bad_header(h, p);
    return 0;
}

/* The tag index of site sidx (of a live block of this epoch). */
static inline uint32_t site_tag_index(uint32_t sidx)
{
    PT_ASSERT(sidx <= site_ovfl);
    return seg_sites[sidx].tagidx;
}

/* Free a block whose header was validated; give_limit = 0 when the caller
 * already gave its bytes back to the pool maximum (pt_realloc). */
static __attribute__((noinline)) void release_ex(pt_hdr *h, int give_limit)
{
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    uint64_t size = w0_size(w0);
    unsigned pool = w0_pool(w0);
    /* live, or marked freed by the preload's defer_free after it checked
     * it (a free deferred from a signal handler, released now) */
    /* its epoch (UINT32_MAX for a deferred free: defer_free took it out of
     * its epoch already) */
    uint32_t e = h->check == check_freed(h, tag) ? UINT32_MAX : hdr_epoch(h, w0, tag, h->check);
    PT_ASSERT(e != UINT32_MAX || h->check == check_freed(h, tag));
    if (PT_UNLIKELY(w0_epoch(w0) == epoch && w0_site(w0) > site_ovfl)) {
        /* a header that checks by chance (a foreign word passes with
         * probability (epochs begun) / 2^32) but names no site: not ours */
        pt__report(PT_ERR_BAD_POINTER, h + 1, 0, 0, 0, 0);
        return;
    }
    ctl_check();
    /* A traced block: its free record and tracked record (before its
     * memory goes back; blocks of another epoch are the parent's). */
    if (PT_UNLIKELY(w0 & PT_W0_TRACED) && w0_epoch(w0) == epoch)
        pt__tr_free(h, w0, tag, site_tag_index(w0_site(w0)));
    h->check = check_freed(h, tag);
    if (PT_LIKELY(w0_epoch(w0) == epoch)) {
        uint32_t sidx = w0_site(w0);
        count_free(site_tag_index(sidx), sidx, pool, size);
        age_free(sidx, e, size);
        if (give_limit)
            limit_give(pool, size);
    }
    void *base = (w0 & PT_W0_ALIGNED) ? ((void **)h)[-1] : (void *)h;
    if (backend == PT_BACKEND_LIBC && pool == PT_PAGED && size >= PT_LIBC_MARK_MIN) {
        /* (an aligned block's header lies >= 16 bytes into its chunk: the
         * mark is still past glibc's links) */
        uint32_t *m = (uint32_t *)(h + 2);
        m[0] = libc_mark(h, tag);
        m[1] = tag;
    }
    pool_mem_free(pool, base);
}

static void release(pt_hdr *h)
{
    release_ex(h, 1);
}

/* realloc of a special block (special.c): a new block of its tag and site
 * (special again if still selected), the contents copied, the old one
 * freed (to the quarantine).  A bad or double free is reported. */
static __attribute__((noinline)) void *sp_realloc(void *p, size_t size, const void *ra)
{
    uint64_t old;
    uint32_t tag, sidx;
    if (!pt__sp_info(p, &old, &tag, &sidx)) {
        pt__sp_free(p, ra); /* reports it */
        errno = EINVAL;
        return NULL;
    }
    if (size == 0) {
        pt__sp_free(p, ra);
        return NULL;
    }
    const void *site = sidx <= site_ovfl ? (const void *)(uintptr_t)seg_sites[sidx].addr : NULL;
    void *n = alloc_slow_at(PT_PAGED, size, tag, 0, site, 0);
    if (!n)
        return NULL;
    memcpy(n, p, old < size ? old : size);
    pt__sp_free(p, ra);
    return n;
}

/* pt_realloc keeps the block's tag and site.  A block inherited across
 * fork (another epoch) is charged to its tag's "other sites" entry. */
static void *realloc_block(void *p, size_t size, const void *ra)
{
    if (!p)
        return alloc_fast(PT_PAGED, size, 0, 0, ra);
    if (PT_UNLIKELY(sp_mine(p)))
        return sp_realloc(p, size, ra);
    if (size == 0) {
        pt_free(p);
        return NULL;
    }
    pt_hdr *h = (pt_hdr *)p - 1;
    if (!header_ok(h, p)) {
        errno = EINVAL;
        return NULL;
    }
    age_slow_entry(); /* (before the new block is stamped) */
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    uint32_t oe = hdr_epoch(h, w0, tag, h->check);
    uint64_t old = w0_size(w0);
    unsigned pool = w0_pool(w0);
    int same_epoch = w0_epoch(w0) == epoch;
    uint32_t sidx, idx;
    if (same_epoch) {
        sidx = w0_site(w0);
    } else {
        uint32_t t = tag_index(tag);
        sidx = pt__site_index(tag, t, NULL);
    }
    idx = site_tag_index(sidx);
    if (size > PT_MAX_REQUEST)
        return fail(idx, pool);
    /* Bytes the old block holds against the pool maximum: only the growth
     * is reserved, so that a shrink at the maximum succeeds. */
    uint64_t held = same_epoch ? old : 0;
    /* A site traced now: a new traced block (its alloc record), the old
     * one released (its free record when it was traced). */
    uint32_t trec;
    unsigned tk = tr_site(idx, (const void *)(uintptr_t)seg_sites[sidx].addr, &trec);
    if (PT_UNLIKELY(tk & PT_TR_SPECIAL)) { /* a new special block when still selected */
        void *n = pt__sp_alloc(tk, trec, pool, size, 16, tag, idx, sidx, 0, ra, 0);
        if (n) {
            limit_give(pool, held);
            memcpy(n, p, old < size ? old : size);
            release_ex(h, 0);
            return n;
        }
        tk &= ~PT_TR_SPECIAL;
    }
    if (PT_UNLIKELY(tk)) {
        limit_give(pool, held);
        void *n = traced_alloc(tk, trec, pool, size, 16, tag, idx, sidx, 0, ra, 0);
        if (!n) {
            if (lim(pool))
                __atomic_add_fetch(&seg_pools[pool].used, (int64_t)held, __ATOMIC_RELAXED);
            return NULL;
        }
        memcpy(n, p, old < size ? old : size);
        release_ex(h, 0);
        return n;
    }
    if (pool != PT_PAGED || (w0 & PT_W0_ALIGNED)) {
        limit_give(pool, held);
        void *n;
        if (lim(pool) && limit_take(pool, size) != 0) {
            if (lim(pool))
                __atomic_add_fetch(&seg_pools[pool].used, (int64_t)held, __ATOMIC_RELAXED);
            return fail(idx, pool);
        }
        void *base = pool_mem(pool, size + PT_HDR_SIZE, 0);
        if (!base) {
            limit_give(pool, size);
            if (lim(pool))
                __atomic_add_fetch(&seg_pools[pool].used, (int64_t)held, __ATOMIC_RELAXED);
            return fail(idx, pool);
        }
        n = finish(base, pool, size, tag, idx, sidx, 0);
        memcpy(n, p, old < size ? old : size);
        release_ex(h, 0);
        return n;
    }
    uint64_t grow = size > held ? size - held : 0;
    if (lim(pool) && grow && limit_take(pool, grow) != 0)
        return fail(idx, pool);
    pt_hdr *nh = be_realloc(h, size + PT_HDR_SIZE);
    if (!nh) {
        limit_give(pool, grow);
        return fail(idx, pool);
    }
    if (same_epoch) {
        count_free(idx, sidx, pool, old);
        age_free(sidx, oe, old);
    }
    if (held > size)
        limit_give(pool, held - size);
    return finish(nh, pool, size, tag, idx, sidx, 0);
}

#ifdef PT_PRELOAD
#include "../preload/plalloc.c"
#endif
