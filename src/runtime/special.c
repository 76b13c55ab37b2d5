/*
 * special.c — the special pool (issue 12): guard-page blocks for the
 * selected tags, sizes and modules, and sampled guard pages.
 *
 * Data model
 * ----------
 * The region: REGION_PAGES pages reserved PROT_NONE (MAP_NORESERVE) the
 * first time the pool is switched on, never unmapped, never moved
 * (pt__sp_lo, pt__sp_len).  A block is a run of pages: its data pages
 * and one guard page after them (before them with PT_SELF_UNDERRUN).
 * Runs are placed next-fit (a cursor that moves on), so a freed run is
 * reused late even after it left the quarantine.  A free replaces the
 * run's data pages by fresh PROT_NONE ones (mmap MAP_FIXED): the pool
 * holds memory only for its live blocks, and every block starts zero.
 *
 * Metadata is out of line: a pt_seg_spblk record per block in the
 * segment (readers list live and quarantined blocks) and private maps:
 *   pmap[page]  record index + 1 of the run holding the region page, 0 free
 *   rnext[r]    link of record r: free records, the quarantine FIFO, or the
 *               pending stack (below), index + 1
 *   rep[r]      the epoch r was allocated in (inherited blocks are freed
 *               without being counted, as alloc.c does)
 *   rage[r]     the age epoch r was allocated in (a special block has no
 *               header to stamp: its free is taken out of this epoch)
 *   rdue[r]     1 while the program's free of r is still to be counted
 *
 * Invariants
 *   1. Every region page outside a live (or reported) run's data pages is
 *      PROT_NONE: guard pages always, data pages from the free on.
 *   2. pmap, the free record list, the quarantine and the statistics are
 *      changed under sp_lock only (a pt_spin: rare path; mprotect happens
 *      outside it).  A thread that already holds it (a signal handler that
 *      interrupted it) never waits: its allocation takes the normal path
 *      (counted ineligible) and its free goes to the pending stack, a
 *      lock-free push, drained by the next holder of the lock.
 *   3. A record's state goes LIVE -> QUARANTINED by one compare-and-swap:
 *      of two frees of one block exactly one wins, the other is a double
 *      free.  addr is written last (release) and cleared when the record
 *      is given back.
 *   4. pt__sp_lookup reads pmap and the records without the lock: a signal
 *      handler may call it at any time.
 */
#define _GNU_SOURCE
#include "rtstate.h"

#include <signal.h>
#include <sys/mman.h>

#include "ptglob.h"
#include "ptsel.h"

/* pt__sp_lo, pt__sp_len: defined in init.c beside the fast paths' other
 * globals (one cache line). */
int pt__sp_on;
int pt__sp_all;
pt_seg_special *pt__spc;

#define REGION_PAGES (2u * 65536u)
#define MAX_PAGES_LIMIT 65536u

static pt_spin sp_lock;
static uintptr_t pg = 4096;
static unsigned pgshift = 12;
static uint32_t *pmap;
static uint32_t *rnext;
static uint8_t *rep;
static uint8_t *rage;
static uint8_t *rdue;
static uint32_t rfree;        /* free records: index + 1             */
static uint32_t qhead, qtail; /* quarantine FIFO: index + 1          */
static uint32_t pending;      /* freed under a held lock: index + 1  */
static uint32_t cursor;       /* next-fit: the next page to try      */
static uint32_t sp_sgen;      /* bumped by each apply: countdowns restart */
static int sp_dirty;          /* a freed run kept its memory (mmap failed) */

/* Private copy of the settings in effect (written by pt__sp_apply). */
static pt_seg_sel sel[PT_SEL_MAX];
static uint32_t sel_n, sp_flags, sample, quarantine, max_pages;

static inline pt_seg_spblk *records(void)
{
    return (pt_seg_spblk *)((char *)pt__seg + pt__seg->spblk_off);
}

static inline uint32_t nrecords(void)
{
    return pt__seg->max_special;
}

static void *private_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Reserve the region and the private maps, once.  0 on success. */
static int reserve(void)
{
    if (__atomic_load_n(&pt__sp_len, __ATOMIC_ACQUIRE))
        return 0;
    uint32_t ps = pt__seg->page_size;
    if (ps >= 4096 && !(ps & (ps - 1))) {
        pg = ps;
        pgshift = (unsigned)__builtin_ctz(ps);
    }
    uint32_t nr = nrecords();
    pmap = private_map((size_t)REGION_PAGES * sizeof *pmap);
    rnext = private_map((size_t)nr * sizeof *rnext);
    rep = private_map(nr);
    rage = private_map(nr);
    rdue = private_map(nr);
    void *r = mmap(NULL, (size_t)REGION_PAGES << pgshift, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!pmap || !rnext || !rep || !rage || !rdue || r == MAP_FAILED || !nr) {
        pt__warn("cannot reserve the special pool's address space; it stays off", NULL);
        return -1;
    }
    pt__spc->region_base = (uint64_t)(uintptr_t)r;
    pt__spc->region_size = (uint64_t)REGION_PAGES << pgshift;
    __atomic_store_n(&pt__sp_lo, (uintptr_t)r, __ATOMIC_RELAXED);
    __atomic_store_n(&pt__sp_len, (uintptr_t)REGION_PAGES << pgshift, __ATOMIC_RELEASE);
    return 0;
}

/* ---- settings -------------------------------------------------------------- */

static int sel_ok(const pt_seg_sel *s)
{
    if (s->flags & ~PT_SELF_UNDERRUN)
        return 0;
    if (s->kind == PT_SEL_SIZE)
        return s->min <= s->max;
    if (s->kind != PT_SEL_TAG && s->kind != PT_SEL_MODULE)
        return 0;
    size_t n = strnlen(s->text, sizeof s->text);
    return n > 0 && n < sizeof s->text && (s->kind != PT_SEL_TAG || n < PT_CTL_PAT_LEN);
}

static int tag_selected(uint32_t tag)
{
    for (uint32_t i = 0; i < sel_n; i++)
        if (sel[i].kind == PT_SEL_TAG && pt_tag_glob(sel[i].text, tag))
            return 1;
    return 0;
}

uint32_t pt__sp_apply(void)
{
    pt_seg_special *spc = pt__spc;
    if (!spc)
        return 0;
    uint32_t bad = 0;
    uint32_t n = __atomic_load_n(&spc->sp_n, __ATOMIC_RELAXED);
    pt_seg_sel s[PT_SEL_MAX];
    int ok = n <= PT_SEL_MAX;
    for (uint32_t i = 0; ok && i < n; i++) {
        memcpy(&s[i], &spc->sp[i], sizeof s[i]);
        ok = sel_ok(&s[i]);
    }
    uint32_t nn = sel_n, nf = sp_flags, ns = sample, nq = quarantine, nm = max_pages;
    if (ok)
        nn = n;
    else
        bad++;
    uint32_t f = __atomic_load_n(&spc->sp_flags, __ATOMIC_RELAXED);
    if (f & ~(PT_SPF_EXACT | PT_SPF_RECOVER))
        bad++;
    else
        nf = f;
    uint32_t v = __atomic_load_n(&spc->sample, __ATOMIC_RELAXED);
    if (v > (1u << 30))
        bad++;
    else
        ns = v;
    v = __atomic_load_n(&spc->quarantine, __ATOMIC_RELAXED);
    if (v > MAX_PAGES_LIMIT)
        bad++;
    else
        nq = v;
    v = __atomic_load_n(&spc->max_pages, __ATOMIC_RELAXED);
    if (v < 16 || v > MAX_PAGES_LIMIT)
        bad++;
    else
        nm = v;
    int on = nn > 0 || ns > 0;
    if (on && reserve() != 0) {
        on = 0;
        bad++;
    }
    __atomic_store_n(&pt__sp_on, 0, __ATOMIC_RELAXED);
    if (ok)
        memcpy(sel, s, sizeof(pt_seg_sel) * n);
    sel_n = nn;
    sp_flags = nf;
    sample = ns;
    quarantine = nq;
    max_pages = nm;
    __atomic_add_fetch(&sp_sgen, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&pt__sp_all, on && nn == 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pt__sp_on, on, __ATOMIC_RELEASE);
    uint32_t m = 0;
    if (on && nn)
        for (uint32_t i = 0; i <= ovfl_idx; i++) {
            uint32_t k = __atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE);
            m += k && tag_selected(k);
        }
    spc->sp_matched = m;
    if (on)
        pt__sp_handler_install();
    return bad;
}

/* PT_SPECIAL, PT_SPECIAL_UNDERRUN/EXACT/RECOVER, PT_SAMPLE_GUARD,
 * PT_QUARANTINE, PT_SPECIAL_MAX_PAGES into the settings page. */
int pt__sp_env(void)
{
    pt_seg_special *spc = pt__spc;
    const char *v = pt__opt_env(PT_OPT_SPECIAL);
    const char *u = pt__opt_env(PT_OPT_SPECIAL_UNDERRUN);
    const char *e = pt__opt_env(PT_OPT_SPECIAL_EXACT);
    const char *r = pt__opt_env(PT_OPT_SPECIAL_RECOVER);
    uint32_t n = 0;
    if (!v)
        v = "";
    while (*v && n < PT_SEL_MAX) {
        while (*v == ',' || *v == ' ')
            v++;
        const char *end = v;
        while (*end && *end != ',' && *end != ' ')
            end++;
        size_t len = (size_t)(end - v);
        char one[PT_CTL_GLOB_LEN + 32];
        if (len >= sizeof one) {
            pt__warn("ignoring a selector that is too long in ", "PT_SPECIAL");
        } else if (len) {
            memcpy(one, v, len);
            one[len] = 0;
            const char *why = NULL;
            pt_seg_sel s;
            if (pt_sel_parse(one, 0, &s, &why) != 0) {
                pt__warn("ignoring a bad selector in PT_SPECIAL: ", why ? why : one);
            } else {
                if (u && strcmp(u, "1") == 0)
                    s.flags |= PT_SELF_UNDERRUN;
                spc->sp[n++] = s;
            }
        }
        v = end;
    }
    spc->sp_n = n;
    spc->sp_flags = (e && strcmp(e, "1") == 0 ? PT_SPF_EXACT : 0) |
                    (r && strcmp(r, "1") == 0 ? PT_SPF_RECOVER : 0);
    spc->sample = pt__opt.sample_guard;
    spc->quarantine = pt__opt.quarantine;
    spc->max_pages = pt__opt.special_max_pages;
    return n > 0 || spc->sample > 0;
}

static const char *module_path(uint32_t rec)
{
    if (rec == UINT32_MAX || rec >= pt__seg->max_modules ||
        rec >= __atomic_load_n(&pt__seg->modules_used, __ATOMIC_ACQUIRE))
        return NULL;
    const pt_seg_module *m = (const pt_seg_module *)((char *)pt__seg + pt__seg->modules_off);
    return m[rec].path;
}

unsigned pt__sp_classify(uint32_t tidx, uint32_t rec)
{
    if (!__atomic_load_n(&pt__sp_on, __ATOMIC_ACQUIRE))
        return 0;
    uint32_t tag = tidx <= ovfl_idx ? __atomic_load_n(&seg_keys[tidx], __ATOMIC_ACQUIRE) : 0;
    const char *path = NULL;
    for (uint32_t i = 0; i < sel_n; i++) {
        switch (sel[i].kind) {
        case PT_SEL_SIZE:
            return PT_TR_SPECIAL;
        case PT_SEL_TAG:
            if (tag && pt_tag_glob(sel[i].text, tag))
                return PT_TR_SPECIAL;
            break;
        case PT_SEL_MODULE:
            if (!path)
                path = module_path(rec);
            if (path && pt_module_glob(sel[i].text, path))
                return PT_TR_SPECIAL;
            break;
        }
    }
    return 0;
}

/* The selector that picks this request (-1: none). */
static int select_req(uint32_t tag, uint32_t rec, uint64_t size)
{
    const char *path = NULL;
    for (uint32_t i = 0; i < sel_n; i++) {
        switch (sel[i].kind) {
        case PT_SEL_SIZE:
            if (size >= sel[i].min && size <= sel[i].max)
                return (int)i;
            break;
        case PT_SEL_TAG:
            if (pt_tag_glob(sel[i].text, tag))
                return (int)i;
            break;
        case PT_SEL_MODULE:
            if (!path)
                path = module_path(rec);
            if (path && pt_module_glob(sel[i].text, path))
                return (int)i;
            break;
        }
    }
    return -1;
}

/* ---- sampling ------------------------------------------------------------------ */

/* A random interval of mean `sample`: uniform in [1, 2 * sample - 1]. */
static uint64_t interval(void)
{
    uint64_t x = tls.sp_rng;
    if (!x)
        x = ((uint64_t)(uintptr_t)&tls * 0x9e3779b97f4a7c15ull) ^ (uint64_t)pt__gettid() ^ secret;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    tls.sp_rng = x ? x : 1;
    uint64_t n = sample;
    if (!n)
        return UINT64_MAX >> 1;
    return 1 + x % (2 * n - 1);
}

/* A countdown: 1 when this request is the sampled one. */
static int due(uint64_t *left)
{
    uint32_t g = __atomic_load_n(&sp_sgen, __ATOMIC_ACQUIRE);
    if (tls.sp_gen != g) {
        tls.sp_gen = g;
        tls.sp_left = pt__sp_all ? interval() : PT_AGE_CHECK; /* (the age clock's, alloc.c) */
        tls.sp_sel_left = interval();
    }
    if (*left <= 1) {
        *left = interval();
        return 1;
    }
    (*left)--;
    return 0;
}

int pt__sp_due(void)
{
    if (!__atomic_load_n(&pt__sp_all, __ATOMIC_RELAXED)) {
        if (tls.sp_left == 0 || tls.sp_left > PT_AGE_CHECK)
            tls.sp_left = PT_AGE_CHECK; /* the age clock's countdown (alloc.c) */
        return 0;
    }
    return due(&tls.sp_left);
}

/* ---- the lock, the quarantine, page runs ----------------------------------------- */

static void stat_add(uint64_t *p, int64_t d)
{
    __atomic_fetch_add(p, (uint64_t)d, __ATOMIC_RELAXED);
}

static void run_release(uint32_t r)
{
    pt_seg_spblk *b = &records()[r];
    uint32_t first = (uint32_t)((b->run - pt__sp_lo) >> pgshift);
    for (uint32_t i = 0; i < b->npages; i++)
        __atomic_store_n(&pmap[first + i], 0, __ATOMIC_RELAXED);
    stat_add(&pt__spc->pages_used, -(int64_t)b->npages);
    __atomic_store_n(&b->addr, 0, __ATOMIC_RELEASE);
    b->state = 0;
    rnext[r] = rfree;
    rfree = r + 1;
}

/* The oldest quarantined run leaves the quarantine (lock held).  0: none. */
static int evict_one(void)
{
    if (!qhead)
        return 0;
    uint32_t r = qhead - 1;
    qhead = rnext[r];
    if (!qhead)
        qtail = 0;
    pt_seg_spblk *b = &records()[r];
    stat_add(&pt__spc->pages_quarantined, -(int64_t)b->npages);
    if (__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) != PT_SPB_REPORTED)
        run_release(r);
    return 1;
}

static void quarantine_push(uint32_t r)
{
    pt_seg_spblk *b = &records()[r];
    rnext[r] = 0;
    if (qtail)
        rnext[qtail - 1] = r + 1;
    else
        qhead = r + 1;
    qtail = r + 1;
    stat_add(&pt__spc->pages_quarantined, b->npages);
    uint32_t q = quarantine;
    while (__atomic_load_n(&pt__spc->pages_quarantined, __ATOMIC_RELAXED) > q && evict_one())
        ;
}

static void drain_pending(void)
{
    uint32_t p = __atomic_exchange_n(&pending, 0, __ATOMIC_ACQUIRE);
    while (p) {
        uint32_t r = p - 1;
        p = rnext[r];
        quarantine_push(r);
    }
}

/* Take the lock unless this thread holds it (a signal handler): 0 then. */
static int lock(void)
{
    if (!pt__spin_lock_unless_mine(&sp_lock))
        return 0;
    drain_pending();
    return 1;
}

static void unlock(void)
{
    pt__spin_unlock(&sp_lock);
}

/* n free pages in a row, next-fit (lock held): the first page, or -1. */
static int64_t find_run(uint32_t n)
{
    uint32_t start = cursor, i = start, len = 0, first = start;
    uint32_t scanned = 0;
    while (scanned < REGION_PAGES + n) {
        if (i >= REGION_PAGES) {
            i = 0;
            len = 0;
            first = 0;
        }
        if (pmap[i]) {
            len = 0;
            first = i + 1;
        } else if (++len == n) {
            cursor = first + n;
            return first;
        }
        i++;
        scanned++;
    }
    return -1;
}

/* ---- allocation ------------------------------------------------------------------ */

static inline uint32_t my_tid(void)
{
    if (!tls.tr_tid)
        tls.tr_tid = pt__gettid();
    return tls.tr_tid;
}

static uint32_t stack_here(const void *anchor)
{
    if (tls.tracing)
        return 0;
    tls.tracing = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    uint32_t s = pt__tr_capture(anchor);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.tracing = 0;
    return s;
}

void *pt__sp_alloc(unsigned kinds, uint32_t rec, unsigned pool, size_t size, size_t alignment,
                   uint32_t tag, uint32_t idx, uint32_t sidx, int zero, const void *site,
                   int untagged)
{
    pt_seg_special *spc = pt__spc;
    if (!spc || !__atomic_load_n(&pt__sp_on, __ATOMIC_ACQUIRE) ||
        !__atomic_load_n(&pt__sp_len, __ATOMIC_ACQUIRE))
        return NULL;
    unsigned uflags = 0;
    int sampled = 0;
    if (sel_n) {
        int s = select_req(tag, rec, size);
        if (s < 0)
            return NULL;
        uflags = sel[s].flags & PT_SELF_UNDERRUN;
        if (sample) {
            if (!due(&tls.sp_sel_left))
                return NULL;
            sampled = 1;
        }
    } else {
        sampled = 1; /* sampling every allocation: the caller found it due */
    }
    uint64_t a = alignment < 16 ? 16 : alignment;
    uint64_t slot = size ? size : 1;
    if (pool != PT_PAGED || a > pg || lim(PT_PAGED) ||
        slot > ((uint64_t)MAX_PAGES_LIMIT << pgshift)) {
        stat_add(&spc->ineligible, 1);
        return NULL;
    }
    if ((sp_flags & PT_SPF_EXACT) && alignment <= 16) {
        uint64_t nat = slot & (~slot + 1);
        a = nat < a ? nat : a;
    }
    uint64_t span = (slot + a - 1) & ~(a - 1);
    uint32_t dpages = (uint32_t)((span + pg - 1) >> pgshift);
    uint32_t need = dpages + 1;
    if (!lock()) {
        stat_add(&spc->ineligible, 1);
        return NULL;
    }
    uint32_t mp = max_pages;
    while (__atomic_load_n(&spc->pages_used, __ATOMIC_RELAXED) + need > mp && evict_one())
        ;
    int64_t first = -1;
    uint32_t r = UINT32_MAX;
    if (__atomic_load_n(&spc->pages_used, __ATOMIC_RELAXED) + need <= mp) {
        if (rfree) {
            r = rfree - 1;
            rfree = rnext[r];
        } else if (spc->blk_hw < nrecords()) {
            r = (uint32_t)spc->blk_hw;
            __atomic_store_n(&spc->blk_hw, spc->blk_hw + 1, __ATOMIC_RELEASE);
        }
        if (r != UINT32_MAX) {
            while ((first = find_run(need)) < 0 && evict_one())
                ;
            if (first < 0) {
                rnext[r] = rfree;
                rfree = r + 1;
            }
        }
    }
    if (first < 0) {
        unlock();
        stat_add(&spc->full, 1);
        __atomic_fetch_add(&seg_tagstat[idx].special_full, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    for (uint32_t i = 0; i < need; i++)
        __atomic_store_n(&pmap[first + i], r + 1, __ATOMIC_RELAXED);
    stat_add(&spc->pages_used, need);
    pt_seg_spblk *b = &records()[r];
    b->state = PT_SPB_LIVE; /* (addr still 0: not listed, not a block yet) */
    unlock();

    uintptr_t run = pt__sp_lo + ((uintptr_t)first << pgshift);
    uintptr_t data = uflags ? run + pg : run;
    uintptr_t dend = data + ((uintptr_t)dpages << pgshift);
    if (mprotect((void *)data, (size_t)dpages << pgshift, PROT_READ | PROT_WRITE) != 0) {
        lock();
        run_release(r);
        unlock();
        stat_add(&spc->full, 1);
        __atomic_fetch_add(&seg_tagstat[idx].special_full, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    char *p = uflags ? (char *)data : (char *)((dend - slot) & ~(uintptr_t)(a - 1));
    /* calloc: the run's pages are fresh, never written since they were
     * mapped or replaced at a free, unless a replacement failed once */
    if (zero && __atomic_load_n(&sp_dirty, __ATOMIC_RELAXED))
        memset(p, 0, slot);
    memset(p + slot, PT_SP_SLOP_BYTE, dend - ((uintptr_t)p + slot));
    b->size = size;
    b->run = run;
    b->npages = need;
    b->tag = tag;
    b->alloc_stack = stack_here(site);
    b->free_stack = 0;
    b->alloc_tid = my_tid();
    b->free_tid = 0;
    b->sidx = sidx;
    b->trk = 0;
    b->flags =
        (uint8_t)((uflags ? PT_SPBF_UNDERRUN : 0) | (sampled ? PT_SPBF_SAMPLED : 0) |
                  (zero || !__atomic_load_n(&sp_dirty, __ATOMIC_RELAXED) ? PT_SPBF_ZERO : 0));
    b->kinds = (uint8_t)(kinds & (PT_TR_HIT | PT_TR_VERIFY));
    b->align_log2 = (uint8_t)__builtin_ctzll(a);
    b->reuse++;
    rep[r] = (uint8_t)epoch;
    rdue[r] = 1;
    if (kinds & (PT_TR_HIT | PT_TR_VERIFY))
        b->trk = (uint32_t)pt__tr_alloc(kinds & (PT_TR_HIT | PT_TR_VERIFY), rec, p, size, tag, idx,
                                        pool, site, untagged);
    __atomic_store_n(&b->addr, (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
    stat_add(&spc->allocs, 1);
    stat_add(&spc->blocks_live, 1);
    stat_add(&spc->bytes_live, (int64_t)size);
    if (sampled)
        stat_add(&spc->sampled, 1);
    rage[r] = (uint8_t)tls.age_e; /* (what count_slow calls the block's epoch) */
    pt__count(idx, sidx, pool, size, 0);
    return p;
}

/* ---- blocks: lookup, free ------------------------------------------------------- */

/* The record of the run holding p, or UINT32_MAX. */
static uint32_t rec_of(uintptr_t p)
{
    uintptr_t off = p - __atomic_load_n(&pt__sp_lo, __ATOMIC_RELAXED);
    if (off >= __atomic_load_n(&pt__sp_len, __ATOMIC_ACQUIRE) || !pmap)
        return UINT32_MAX;
    uint32_t r = __atomic_load_n(&pmap[off >> pgshift], __ATOMIC_ACQUIRE);
    return r && r <= nrecords() ? r - 1 : UINT32_MAX;
}

void pt__sp_lookup(uintptr_t addr, pt_sp_where *w)
{
    w->kind = 0;
    w->blk = UINT32_MAX;
    w->offset = 0;
    if (addr - __atomic_load_n(&pt__sp_lo, __ATOMIC_RELAXED) >=
        __atomic_load_n(&pt__sp_len, __ATOMIC_ACQUIRE))
        return;
    uint32_t r = rec_of(addr);
    if (r == UINT32_MAX) {
        w->kind = PT_SPR_WILD;
        return;
    }
    const pt_seg_spblk *b = &records()[r];
    uint64_t p = __atomic_load_n(&b->addr, __ATOMIC_ACQUIRE);
    uint8_t st = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
    w->blk = r;
    if (!p) {
        w->kind = PT_SPR_WILD;
        return;
    }
    if (st == PT_SPB_QUARANTINED) {
        w->kind = PT_SPR_USE_AFTER_FREE;
        w->offset = (int64_t)(addr - p);
        return;
    }
    if (addr < p) {
        w->kind = (b->flags & PT_SPBF_UNDERRUN) ? PT_SPR_UNDERRUN : PT_SPR_WILD;
        w->offset = (int64_t)addr - (int64_t)p;
        if (w->kind == PT_SPR_WILD)
            w->offset = (int64_t)(addr - p);
        return;
    }
    w->kind = PT_SPR_OVERRUN;
    w->offset = (int64_t)(addr - (p + b->size));
}

void pt__sp_recover_open(uint32_t blk)
{
    if (blk >= nrecords() || !__atomic_load_n(&pt__sp_len, __ATOMIC_ACQUIRE))
        return;
    pt_seg_spblk *b = &records()[blk];
    if (!b->run || !b->npages)
        return;
    __atomic_store_n(&b->state, PT_SPB_REPORTED, __ATOMIC_RELEASE);
    mprotect((void *)(uintptr_t)b->run, (size_t)b->npages << pgshift, PROT_READ | PROT_WRITE);
}

/* Count the program's free of record r once (tag, site, statistics). */
static void count_free(uint32_t r)
{
    if (!__atomic_exchange_n(&rdue[r], 0, __ATOMIC_ACQ_REL))
        return;
    pt_seg_spblk *b = &records()[r];
    stat_add(&pt__spc->frees, 1);
    stat_add(&pt__spc->blocks_live, -1);
    stat_add(&pt__spc->bytes_live, -(int64_t)b->size);
    if (rep[r] == (uint8_t)epoch && b->sidx <= site_ovfl) {
        pt__count(pt__site_tag(b->sidx), b->sidx, PT_PAGED, b->size, 1);
        pt__age_free(b->sidx, rage[r], b->size);
    }
}

/* The block at p, live: its record, else UINT32_MAX (not reported). */
static uint32_t live_rec(const void *p)
{
    uint32_t r = rec_of((uintptr_t)p);
    if (r == UINT32_MAX)
        return r;
    const pt_seg_spblk *b = &records()[r];
    uint8_t st = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&b->addr, __ATOMIC_ACQUIRE) != (uint64_t)(uintptr_t)p ||
        (st != PT_SPB_LIVE && !(st == PT_SPB_REPORTED && rdue[r])))
        return UINT32_MAX;
    return r;
}

int pt__sp_info(const void *p, uint64_t *size, uint32_t *tag, uint32_t *sidx)
{
    uint32_t r = live_rec(p);
    if (r == UINT32_MAX)
        return 0;
    const pt_seg_spblk *b = &records()[r];
    if (size)
        *size = b->size;
    if (tag)
        *tag = b->tag;
    if (sidx)
        *sidx = rep[r] == (uint8_t)epoch ? b->sidx : UINT32_MAX;
    return 1;
}

/* Is p a block that may be freed?  Reports (and returns UINT32_MAX) a
 * double free or a bad free. */
static uint32_t check_free(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    uint32_t r = rec_of(a);
    if (r == UINT32_MAX) {
        pt__sp_report(PT_SPR_BAD_FREE, a, UINT32_MAX, 0, NULL, SIGABRT, PT_SPA_UNKNOWN);
        return UINT32_MAX;
    }
    pt_seg_spblk *b = &records()[r];
    uint64_t addr = __atomic_load_n(&b->addr, __ATOMIC_ACQUIRE);
    uint8_t st = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
    if (addr != a) {
        pt__sp_report(PT_SPR_BAD_FREE, a, addr ? r : UINT32_MAX, addr ? (int64_t)(a - addr) : 0,
                      NULL, SIGABRT, PT_SPA_UNKNOWN);
        return UINT32_MAX;
    }
    if (st == PT_SPB_QUARANTINED || (st == PT_SPB_REPORTED && !rdue[r])) {
        pt__sp_report(PT_SPR_DOUBLE_FREE, a, r, 0, NULL, SIGABRT, PT_SPA_UNKNOWN);
        return UINT32_MAX;
    }
    return r;
}

void pt__sp_free(void *p, const void *ra)
{
    uint32_t r = check_free(p);
    if (r == UINT32_MAX)
        return;
    pt_seg_spblk *b = &records()[r];
    uint8_t live = PT_SPB_LIVE;
    if (!__atomic_compare_exchange_n(&b->state, &live, PT_SPB_QUARANTINED, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (live == PT_SPB_REPORTED) { /* opened after a report: kept */
            count_free(r);
            return;
        }
        pt__sp_report(PT_SPR_DOUBLE_FREE, (uintptr_t)p, r, 0, NULL, SIGABRT, PT_SPA_UNKNOWN);
        return;
    }
    b->free_stack = stack_here(ra);
    b->free_tid = my_tid();
    uintptr_t run = (uintptr_t)b->run;
    int under = (b->flags & PT_SPBF_UNDERRUN) != 0;
    uintptr_t data = under ? run + pg : run;
    size_t dlen = (size_t)(b->npages - 1) << pgshift;
    uint64_t slot = b->size ? b->size : 1;
    const unsigned char *s = (const unsigned char *)p + slot,
                        *e = (const unsigned char *)(data + dlen);
    while (s < e && *s == PT_SP_SLOP_BYTE)
        s++;
    if (s < e) {
        int64_t off = (int64_t)((uintptr_t)s - ((uintptr_t)p + b->size));
        __atomic_store_n(&b->state, PT_SPB_REPORTED, __ATOMIC_RELEASE);
        pt__sp_report(PT_SPR_SLOP, (uintptr_t)s, r, off, NULL, SIGABRT, PT_SPA_UNKNOWN);
        count_free(r); /* recovered: the block stays open, never reused */
        return;
    }
    if (b->kinds && b->sidx <= site_ovfl && rep[r] == (uint8_t)epoch)
        pt__tr_free_at(p, b->size, PT_PAGED, b->tag, pt__site_tag(b->sidx), b->trk, b->sidx);
    count_free(r);
    /* Inaccessible, and its memory given back at once: fresh PROT_NONE
     * pages in its place (one system call; mprotect if that fails).  So
     * quarantined and free runs hold no memory, and a run is zero when it
     * is handed out again. */
    if (mmap((void *)data, dlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
             -1, 0) == MAP_FAILED) {
        __atomic_store_n(&sp_dirty, 1, __ATOMIC_RELAXED);
        mprotect((void *)data, dlen, PROT_NONE);
    }
    if (lock()) {
        quarantine_push(r);
        unlock();
        return;
    }
    /* a signal handler of the thread holding the lock: the next holder
     * puts it in the quarantine */
    uint32_t old = __atomic_load_n(&pending, __ATOMIC_RELAXED);
    do
        rnext[r] = old;
    while (
        !__atomic_compare_exchange_n(&pending, &old, r + 1, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

void pt__sp_fork_child(void)
{
    sp_lock.v = 0;
}
