/*
 * plalloc.c — the preload's malloc family: the entry points that
 * src/preload/preload.c's interposers call (pt__pl_malloc & co.), their
 * fast path, deferred frees and the wrapper-site scope.
 *
 * Not a translation unit of its own: src/runtime/alloc.c #includes it in
 * the preload build (PT_PRELOAD), so that pl_alloc and pt__pl_free inline
 * the same fast path as pt_alloc and pt_free (paged_block, free_live).
 *
 * Data model
 * ----------
 * Allocation on behalf of an unmodified program.  The tag is the scope's
 * (pt_tag_push) or the automatic tag of the module that called the
 * allocator (modules.c): `ra` is the return address in the caller, or the
 * caller of an interposed wrapper such as strdup (tls.site_ra).  A
 * per-thread cache (tls.racache) maps a return address to its tag, site
 * and tag index; an entry is valid while its gen equals pt__mod_gen (no
 * module was unloaded since it was filled).
 *
 * Before the runtime is ready, and while it sets itself up (dlsym, atfork
 * registration), allocations come from the bootstrap arena (boot.c), never
 * freed; free and realloc recognise its addresses.  A pointer that is not
 * ours (glibc's, allocated before the preload or by libc itself) is told
 * apart by foreign.c and handed to glibc.
 *
 * Invariants
 * ----------
 *   - Only a return address that stands for one site is cached: never a
 *     wrapper's (PT_WRAPPERS, tls.site_ra) nor one inside an on-behalf
 *     API (PT_BEHALF).
 *   - A signal handler that interrupted the backend (tls.in_be) never
 *     enters it: it allocates from the side arena and defers its frees to
 *     tls.deferred, drained by the interrupted code in be_leave.
 */
#include "plrt.h"

static inline unsigned ra_slot(const void *ra)
{
    return (unsigned)(((uintptr_t)ra * 0x9e3779b97f4a7c15ull) >> 56);
}

static __attribute__((noinline)) void *pl_alloc_slow(size_t size, size_t align,
                                                     const void *ra, int zero)
{
    pt_tls *t = &tls;
    if (PT_UNLIKELY(t->in_be)) /* a signal handler interrupted the backend */
        return pt__boot_alloc(size, align);
    if (PT_UNLIKELY(!ready())) {
        if (t->busy)
            return pt__boot_alloc(size, align);
        t->busy = 1;
        ensure_init();
        t->busy = 0;
    }
    if (PT_UNLIKELY(t->busy))
        return pt__boot_alloc(size, align);
    ctl_check(); /* a control change: applied before this request */
    /* Read before the module lookup: a dlclose from now on makes the
     * cache entry filled below stale. */
    uint32_t gen = __atomic_load_n(&pt__mod_gen, __ATOMIC_ACQUIRE);
    const void *site = t->site_ra ? t->site_ra : ra;
    int wrapped = !t->site_ra && pt__mod_have_wrappers && pt__mod_in_wrapper(ra);
    if (wrapped)
        site = pt__wrapper_caller(ra);
    uint32_t tag = t->cur_tag;
    if (!tag) {
        t->busy = 1;
        tag = pt__mod_tag(site);
        t->busy = 0;
    }
    /* --behalf: `site` made the request; it is charged to the first
     * caller outside the API (both still uncached when site lies in an
     * API module: its return address stands for many callers). */
    int cache = 1;
    if (PT_UNLIKELY(pt__mod_have_behalf)) {
        if (t->cur_tag)
            pt__mod_note(site); /* pt__mod_tag did it otherwise */
        site = pt__behalf_site(site, &cache);
    }
    t->pl_auto = !t->cur_tag; /* pool tracking's "untagged" */
    t->tr_last = 0;
    void *p = align > 16 ? alloc_aligned_at(PT_PAGED, size, align, tag, site, cache)
                         : alloc_slow_at(PT_PAGED, size, tag, zero, site, cache);
    t->pl_auto = 0;
    /* A wrapper's return address stands for many sites: never cached;
     * nor a traced site (trace.c). */
    uint32_t tidx, sidx;
    if (!t->cur_tag && !t->site_ra && !wrapped && cache && t->counts && !t->tr_last &&
        (site_of(tag, ra, &tidx, &sidx, 1), !tr_site(tidx, ra, NULL))) {
        sent_fill(&t->racache[ra_slot(ra)], ra, tag, tidx, sidx, gen);
    }
    return p;
}

static inline __attribute__((always_inline)) void *pl_alloc(size_t size, const void *ra,
                                                              int zero)
{
    pt_tls *t = tls_self();
    unsigned s = ra_slot(ra);
    pt_seg_counts *cs = t->counts;
    const pt_sent *e = &t->racache[s];
    if (PT_LIKELY(e->ra == ra &&
                  ((size >> 32) | (uint64_t)kick() | t->cur_tag | t->in_be |
                   (uintptr_t)t->site_ra |
                   (e->gen ^ __atomic_load_n(&pt__mod_gen, __ATOMIC_RELAXED))) == 0 &&
                  cs && --t->sp_left != 0)) /* (sampled guard pages, as alloc_fast) */
        return paged_block(t, size, e, zero);
    return pl_alloc_slow(size, 16, ra, zero);
}

void *pt__pl_malloc(size_t n, const void *ra)
{
    if (PT_UNLIKELY(!n))
        return pl_alloc_slow(0, 16, ra, 0);
    return pl_alloc(n, ra, 0);
}

void *pt__pl_calloc(size_t n, size_t size, const void *ra)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (PT_UNLIKELY(!total))
        return pl_alloc_slow(0, 16, ra, 1);
    return pl_alloc(total, ra, 1);
}

void *pt__pl_memalign(size_t align, size_t n, const void *ra)
{
    if (align <= 16 && n)
        return pl_alloc(n, ra, 0);
    return pl_alloc_slow(n, align, ra, 0);
}

/* A free by a signal handler that interrupted the backend: checked now,
 * freed when the interrupted code leaves the backend (be_leave).  The list
 * runs through the blocks' first 8 bytes (every block has them: see
 * malloc(0)); the freed check value makes a second free before then a
 * double free. */
static __attribute__((noinline)) void defer_free(void *p)
{
    if (sp_mine(p)) { /* a special block has no header (special.c) */
        pt__sp_free(p, NULL);
        return;
    }
    pt_hdr *h = (pt_hdr *)p - 1;
    int c = ((uintptr_t)p & 4095) != pl_slow_off && hdr_live(h)
                ? 1
                : pt__pl_classify(p);
    if (c != 1)
        return; /* reported; or glibc's own block: left alone, glibc may
                   not be entered here */
    /* Its age epoch is in the check word, which the freed mark replaces:
     * take it out of that epoch now (release_ex, at the drain, counts the
     * free in this thread's epoch, which cannot change before it: no epoch
     * change happens inside the backend). */
    uint64_t w0 = h->w0;
    if (w0_epoch(w0) == epoch)
        age_free(w0_site(w0), hdr_epoch(h, w0, h->tag, h->check), w0_size(w0));
    h->check = check_freed(h, h->tag);
    *(void **)p = tls.deferred;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.deferred = p;
}

__attribute__((noinline, cold)) void pt__drain_deferred(void)
{
    void *p;
    while ((p = __atomic_exchange_n(&tls.deferred, NULL, __ATOMIC_RELAXED)) != NULL) {
        while (p) {
            void *next = *(void **)p;
            pt_hdr *h = (pt_hdr *)p - 1;
            if (backend == PT_BACKEND_LIBC && ((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF &&
                pt__libc_chunk_mmapped(h))
                pt__unmapped_add(p);
            release(h);
            p = next;
        }
    }
}

/* pt__pl_free of a pointer whose header does not check, or may not be
 * readable. */
static __attribute__((noinline)) void pl_free_slow(void *p)
{
    if (pt__is_boot(p))
        return;
    if (tls.in_be) { /* a signal handler that interrupted the backend */
        defer_free(p);
        return;
    }
    int c = pt__pl_classify(p);
    if (c == 0)
        pt__free_foreign(p);
    if (c != 1)
        return;
    pt_hdr *h = (pt_hdr *)p - 1;
    if (backend == PT_BACKEND_LIBC && ((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF &&
        pt__libc_chunk_mmapped(h))
        pt__unmapped_add(p);
    release(h);
}

void pt__pl_free(void *p)
{
    if (PT_UNLIKELY(!p))
        return;
    if (PT_UNLIKELY(sp_mine(p))) { /* before reading a header: it has none */
        pt__sp_free(p, NULL);
        return;
    }
    /* (a block of the bootstrap or side arena never checks as live: the
     * slow path tells it apart) */
    pt_hdr *h = (pt_hdr *)p - 1;
    if (PT_UNLIKELY(((uintptr_t)p & 4095) == pl_slow_off)) {
        /* mimalloc: the 16 bytes before a page-aligned foreign pointer may
         * not be mapped: ask the backend before reading them.  glibc: this
         * may be a block of ours that glibc has unmapped (libc_classify). */
        pl_free_slow(p);
        return;
    }
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    /* (a block of this thread's current age epoch: the fast path; one of
     * another epoch takes the slow path too, which counts it there) */
    if (PT_UNLIKELY(h->check != (check_live(h, w0, tag) ^ tls.age_x))) {
        free_other_epoch(h, p, 1);
        return;
    }
    free_live(h, w0, tag, 1);
}

size_t pt__pl_usable(void *p)
{
    if (!p)
        return 0;
    uint64_t sn;
    if (PT_UNLIKELY(sp_mine(p))) /* a special block: its record */
        return pt__sp_info(p, &sn, NULL, NULL) ? (sn ? (size_t)sn : 1) : 0;
    /* At least 1 for a block of 0 bytes (it has one: see malloc(0)). */
    if (pt__is_boot(p))
        return pt__boot_size(p) ? pt__boot_size(p) : 1;
    int c = ((uintptr_t)p & 4095) == 0 ? pt__pl_classify(p) : -2;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    if (c == 1 || (c == -2 && hdr_live(h))) {
        size_t n = (size_t)(w0_size(h->w0));
        return n ? n : 1;
    }
    if (c == -2)
        c = pt__pl_classify(p);
    if (c == 0) {
        return pt__foreign_usable(p);
    }
    return 0;
}

void *pt__pl_realloc(void *p, size_t n, const void *ra)
{
    if (!p)
        return n ? pl_alloc(n, ra, 0) : pl_alloc_slow(0, 16, ra, 0);
    if (PT_UNLIKELY(sp_mine(p))) { /* a special block (no header) */
        uint64_t old;
        if (!tls.in_be || !pt__sp_info(p, &old, NULL, NULL))
            return sp_realloc(p, n, ra);
        /* a signal handler's: from the side arena, as below */
        void *q = n ? pt__boot_alloc(n, 16) : NULL;
        if (q)
            memcpy(q, p, old < n ? old : n);
        if (q || !n)
            pt__sp_free(p, ra);
        return q;
    }
    if (pt__is_boot(p)) {
        void *q = n ? pl_alloc(n, ra, 0) : pl_alloc_slow(0, 16, ra, 0);
        if (q) {
            size_t old = pt__boot_size(p);
            memcpy(q, p, old < n ? old : n);
        }
        return q;
    }
    if (PT_UNLIKELY(tls.in_be)) {
        /* a signal handler's: a new block from the side arena, the old
         * one's free deferred */
        const pt_hdr *h = (const pt_hdr *)p - 1;
        size_t old = hdr_live(h) ? w0_size(h->w0) : 0;
        void *q = n ? pt__boot_alloc(n, 16) : NULL;
        if (q)
            memcpy(q, p, old < n ? old : n);
        if (q || !n)
            defer_free(p);
        return q;
    }
    int c = pt__pl_classify(p);
    if (c == 1) {
        if (n == 0) {
            /* glibc frees and returns NULL for realloc(p, 0). */
            pt__pl_free(p);
            return NULL;
        }
        pt_hdr *h = (pt_hdr *)p - 1;
        int mm = backend == PT_BACKEND_LIBC && ((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF &&
                 pt__libc_chunk_mmapped(h);
        void *q = realloc_block(p, n, ra);
        if (mm && q && q != p)
            pt__unmapped_add(p); /* glibc moved it with mremap */
        return q;
    }
    if (c < 0) {
        errno = EINVAL;
        return NULL;
    }
    /* A block of glibc's: freed for realloc(p, 0) as glibc does, else moved
     * into our heap. */
    if (n == 0) {
        pt__free_foreign(p);
        return NULL;
    }
    size_t old = pt__foreign_usable(p);
    void *q = pl_alloc(n, ra, 0);
    if (q) {
        memcpy(q, p, old < n ? old : n);
        pt__free_foreign(p);
    }
    return q;
}

/* Wrappers (strdup, asprintf, ...) name their caller as the site. */
const void *pt__pl_site_push(const void *ra)
{
    const void *old = tls.site_ra;
    if (!old)
        tls.site_ra = ra;
    return old;
}

void pt__pl_site_pop(const void *old)
{
    tls.site_ra = old;
}

/* The runtime's own setup must not re-enter the interposed allocator's
 * tagging path: the preload marks calls into libc it makes itself. */
__attribute__((visibility("default"))) uint32_t pt__pl_busy(uint32_t busy)
{
    uint32_t old = tls.busy;
    tls.busy = busy;
    return old;
}
