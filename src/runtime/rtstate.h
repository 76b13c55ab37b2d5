/*
 * rtstate.h — the state of the pooltag runtime and the small pieces that
 * every part of it inlines: the check hash, the header writer, the backend
 * calls, the tag cache.  Read internal.h (block header, counting, lock
 * order, which file holds what) and src/common/segment.h (segment layout
 * and invariants) first.
 *
 * Data model
 * ----------
 * Process-wide state is written by initialisation (init.c, once, before
 * rt_state becomes 2) and by the fork child handler (single-threaded);
 * every other access reads it.  The exceptions are named where they are
 * defined: limit_on (pt_set_pool_limit), gshift (flush), site_others
 * (site_lock).
 *
 * Per-thread state lives in `tls` (initial-exec TLS: no allocation, no
 * call to reach it).  Its caches map a key to table indices; an entry is
 * written key last, with signal fences, so that a signal handler of the
 * same thread never sees a half-written entry (it sees no entry).
 *
 * Invariants (checked with PT_ASSERT where a check is cheap):
 *   - a private shard (tls.ts == TS_PRIVATE) is written only by the thread
 *     that claimed it: its shard header's tid is tls.tid;
 *   - every tag index is <= ovfl_idx (= max_tags), every site index is <=
 *     site_ovfl (= max_sites) < 2^PT_W0_SITE_BITS;
 *   - a block header is written only by hdr_write (the preload's arenas
 *     write a never-matching one of their own, src/preload/boot.c), and
 *     only a header that checked as live is counted as freed (alloc.c,
 *     invariant 1).
 */
#ifndef PT_RTSTATE_H
#define PT_RTSTATE_H

#include <pthread.h>
#include <string.h>

#include <mimalloc.h>

#include "internal.h"
#include "ptassert.h"

#pragma GCC visibility push(hidden)

#define PT_TAG_NONE PT_TAG("None")
#define PT_TAG_OVFL PT_TAG("Ovfl")
#define PT_TLS_CACHE 64
#define PT_TCACHE 32 /* (static TLS: 32 bytes an entry) */

/* ---- process-wide state (read-mostly after init; init.c) --------------- */

extern char *seg_base;
extern uint32_t *seg_keys;
extern pt_seg_tagstat *seg_tagstat;
extern char *seg_shards;
extern uint64_t seg_stride;
extern pt_seg_pool *seg_pools;
extern pt_seg_site *seg_sites;       /* site table (keys)                  */
extern uint32_t site_mask;           /* max_sites - 1                      */
extern uint32_t site_ovfl;           /* max_sites: the overflow site       */
extern pt_spin site_lock;            /* site inserts (slow path only)      */
extern uint32_t site_keep;           /* entries kept for "other sites"     */
extern uint32_t site_others;         /* "other sites" entries inserted     */
extern uint32_t tag_mask;            /* max_tags - 1                       */
extern uint32_t ovfl_idx;            /* max_tags                           */
extern uint8_t *gshift;              /* per entry: log2 of its grain       */
extern unsigned gshift_min;          /* log2(PT_PEAK_GRAIN)                */
extern int backend;                  /* PT_BACKEND_*                       */
/* (preload) pointers at this offset in a page take pt__pl_free's careful
 * path: 0 for mimalloc, PL_LIBC_MMAP_OFF for glibc. */
extern unsigned pl_slow_off;
extern uint64_t secret;              /* the check hash's key               */
extern uint64_t epoch;               /* 0..31 (PT_W0_EPOCH_MASK)           */
extern uint64_t epoch_bits;          /* epoch << PT_W0_EPOCH_SHIFT         */
/* Age epochs (segment.h, "Age epochs"; alloc.c, "Age epochs"): the
 * current epoch (a copy of the header's age_now that is there before the
 * segment and survives fork), the live-by-epoch table (NULL: no ages, the
 * segment has no site table) and when the next epoch is due
 * (CLOCK_MONOTONIC ns). */
extern uint32_t pt__age_now;
extern pt_seg_age_live *seg_ages;
extern uint64_t age_due;
extern uint32_t pt__age_busy;         /* an epoch is being begun (alloc.c)  */
/* limit_on[PT_PAGED] is also the kick word (header.kick_addr): bit
 * PT_KICK_LIMIT = the paged pool has a maximum (exact `used` accounting),
 * bit PT_KICK_CONTROL = the control block changed (trace.c).  The fast
 * paths test the whole word (kick()); lim() is the maximum alone. */
extern int limit_on[PT_POOL_COUNT];  /* exact `used` accounting active     */
extern int rt_state;                 /* 0 new, 2 ready, or INIT_BY(pid)    */
extern pthread_key_t exit_key;
extern int key_ok;                   /* exit_key was created               */
extern uint64_t libc_tcache_key;     /* glibc's tcache key, 0: unknown     */
extern void *(*libc_malloc)(size_t);
extern void *(*libc_calloc)(size_t, size_t);
extern void *(*libc_realloc)(void *, size_t);
extern void (*libc_free)(void *);

static inline int lim(unsigned pool)
{
    return __atomic_load_n(&limit_on[pool], __ATOMIC_RELAXED) & (int)PT_KICK_LIMIT;
}

/* The fast paths' one test: no paged maximum and no control change. */
static inline int kick(void)
{
    return __atomic_load_n(&limit_on[PT_PAGED], __ATOMIC_RELAXED);
}

/* ---- per-thread state ------------------------------------------------- */

enum { TS_NEW = 0, TS_PRIVATE = 1, TS_SHARED = 2, TS_DEAD = 3 };

/* A site cache entry: what the fast paths need to allocate and count a
 * block of one (caller, tag), precomputed when the entry is filled
 * (sent_fill, alloc.c).  w0 is the header's first word without the size
 * (this epoch, paged, the site index in its top bits); ekey the part of
 * the check value that does not depend on the block's address and size
 * (tag, key, the high half of w0), so that a block's check value is
 * (h >> 4) ^ ekey ^ size for sizes below 4 GiB, the only ones the fast
 * paths take.  32 bytes, two to a cache line.  Written key (ra) last,
 * with signal fences: a signal handler of the same thread sees a whole
 * entry or none. */
typedef struct pt_sent {
    const void *ra;
    uint64_t w0;
    uint32_t tag, ekey; /* (adjacent: the header's second word, one load) */
    uint32_t tidx, gen;
} pt_sent;
_Static_assert(sizeof(pt_sent) == 32, "two site cache entries a line");

typedef struct pt_tls {
    pt_seg_counts *counts;  /* this thread's shard counters, or NULL       */
    int64_t *flushed;       /* this thread's shard flushed[][2]            */
    uint32_t shard;         /* shard index                                 */
    uint32_t ts;            /* TS_*                                        */
    uint32_t cur_tag;       /* pt_tag_push                                 */
    uint32_t busy;          /* inside the runtime's own setup (preload)    */
    uint32_t in_be;         /* inside the backend or a locked section
                               (preload): see "Signal handlers"            */
    uint32_t age_x;         /* the stamp of age_e (pt_age_stamp): what a
                               block this thread allocates now holds in its
                               check word, and the frees' fast test        */
    void *deferred;         /* frees deferred by a signal handler          */
    struct {
        uint32_t tag, idx;
    } cache[PT_TLS_CACHE];
    pt_seg_counts *scounts; /* this thread's site counters, or NULL        */
    uint32_t age_e;         /* the epoch this thread stamps and counts in
                               (with a private shard: its age_epoch)       */
    pt_sent scache[PT_TLS_CACHE]; /* (caller, tag) -> its site entry       */
#ifdef PT_PRELOAD
    const void *site_ra;    /* caller of an interposed wrapper (strdup...) */
    pt_sent racache[256];   /* return address -> its site entry (the tag
                               of the caller's module); valid while gen ==
                               pt__mod_gen (no module that could hold ra
                               was unloaded since)                         */
    uint32_t walking;       /* inside stack_walk                           */
#endif
    uint32_t tracing;       /* inside a trace event (trace.c): no nested one */
    uint32_t tr_last;       /* the last slow-path request was traced        */
    struct {                /* sites classified while hit or verify is on:
                               (caller, tag) -> indices, what traces them
                               (0: nothing) and the caller's module record,
                               valid while gen == pt__mod_gen (the fast
                               paths never read it)                        */
        const void *ra;
        uint32_t tag, tidx, sidx, rec, kinds, gen;
    } tcache[PT_TCACHE];
    uint32_t tr_tid;        /* this thread's tid for trace records, 0: unknown */
    uint32_t pl_auto;       /* (preload) the tag of the request being served is
                               the module's automatic one (vstat untagged)  */
    uint32_t fork_depth;    /* fork handlers running (see fork_prepare)    */
    uint32_t fork_took;     /* locks each of them took, two bits a level   */
    uint32_t sp_gen;        /* special.c: the sampling generation of the
                               countdowns below                            */
    uint64_t sp_left;       /* allocations until the next sampled one (the
                               fast paths count it down; huge when off)    */
    uint64_t sp_sel_left;   /* ... of the special selectors' requests       */
    uint64_t sp_rng;        /* xorshift state of the sampling intervals    */
    uint64_t age_seen;      /* when this thread last looked at the clock
                               for the age epochs (CLOCK_MONOTONIC ns)     */
    uint32_t age_every;     /* its countdown's length (alloc.c)            */
    uint32_t age_slow;      /* slow paths since the clock was looked at,
                               while sampling owns the countdown           */
#ifdef PT_CONTRACTS
    uint32_t tid;           /* the owner's tid written in its shard header */
#endif
} pt_tls;

extern __thread pt_tls tls __attribute__((tls_model("initial-exec")));

/* This thread's state as a plain pointer held in a register: the fast
 * paths address every field from it (the compiler would otherwise mix
 * %fs-relative accesses with computed addresses of the caches and
 * recompute the thread pointer for each). */
static inline __attribute__((always_inline)) pt_tls *tls_self(void)
{
    pt_tls *t = &tls;
    __asm__("" : "+r"(t));
    return t;
}

/* Tag 0 ("untagged") hashes to cache slot 0; an empty slot holds tag 0 and
 * would match it.  A nonzero tag in slot 0 that does not hash there can never
 * be matched by anyone, so it poisons the slot until a real tag fills it. */
#define PT_CACHE_POISON 0xffffffffu

/* ---- init.c ----------------------------------------------------------- */

void pt__init_slow(void);

static inline void ensure_init(void)
{
    if (PT_UNLIKELY(__atomic_load_n(&rt_state, __ATOMIC_ACQUIRE) != 2))
        pt__init_slow();
}

/* The read API never initialises the runtime (it may run in a signal
 * handler): before the first allocation there is nothing to read. */
static inline int ready(void)
{
    return __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE) == 2;
}

/* Read n bytes of this process at addr without faulting (an address taken
 * from decoded code, or a pointer a program passed to free, may be
 * unmapped).  0 on success. */
int pt__peek(uintptr_t addr, void *out, size_t n);

/* Read n bytes at addr, known to be mapped when they lie on the page of
 * `mapped` (an address already read); pt__peek otherwise. */
static inline int read_near(uintptr_t addr, void *out, size_t n, uintptr_t mapped)
{
    if ((addr >> 12) == (mapped >> 12) && ((addr + n - 1) >> 12) == (mapped >> 12)) {
        memcpy(out, (const void *)addr, n);
        return 0;
    }
    return pt__peek(addr, out, n);
}

/* ---- trace.c: stacks, hit tags, pool tracking ------------------------- */

/* Nonzero while any hit pattern or verify glob is in effect: the only
 * thing the untraced slow paths read.  (Traced sites are never cached, and
 * applying the control block bumps pt__mod_gen, so the fast paths need no
 * test of their own.) */
extern int pt__tr_on;
/* Apply the control block (PT_KICK_CONTROL was seen).  Never waits: a
 * thread that finds another applying goes on. */
void pt__ctl_apply(void);
static inline void ctl_check(void)
{
    if (PT_UNLIKELY(kick() & (int)PT_KICK_CONTROL))
        pt__ctl_apply();
}
#define PT_TR_HIT 1u
#define PT_TR_VERIFY 2u
/* Is the site (tag index tidx, code address site) traced now?  Returns
 * PT_TR_* bits; *rec = the module record of `site` (UINT32_MAX: none). */
unsigned pt__tr_classify(uint32_t tidx, const void *site, uint32_t *rec);
static inline unsigned tr_site(uint32_t tidx, const void *site, uint32_t *rec)
{
    if (PT_LIKELY(!__atomic_load_n(&pt__tr_on, __ATOMIC_RELAXED)))
        return 0;
    return pt__tr_classify(tidx, site, rec);
}
/* Bytes in front of a traced block's header: its tracked record's index
 * + 1 (8 bytes), then the backend pointer (8 bytes). */
#define PT_TR_FRONT 16u
/* A traced allocation: p the caller's pointer (NULL: it failed).  Records
 * it (hit ring, verify log, tracked record, module statistics) and returns
 * the value for the block's tracked slot. */
uint64_t pt__tr_alloc(unsigned kinds, uint32_t rec, void *p, uint64_t size, uint32_t tag,
                      uint32_t tidx, unsigned pool, const void *site, int untagged);
/* The free of a traced block of this epoch (header still live). */
void pt__tr_free(pt_hdr *h, uint64_t w0, uint32_t tag, uint32_t tidx);
/* The same for a block without a header (special.c): its caller pointer,
 * size, pool, tag, the site's tag index, the value pt__tr_alloc returned
 * and its site index. */
void pt__tr_free_at(void *p, uint64_t size, unsigned pool, uint32_t tag, uint32_t tidx,
                    uint64_t slot, uint32_t sidx);
/* A tag entry was created: set its hit bit. */
void pt__tr_tag_added(uint32_t idx, uint32_t tag);
/* Set up at initialisation (after the module table: PT_HIT, PT_VERIFY
 * applied) and in a fork child (the parent's settings, empty tables). */
void pt__tr_init(void);
void pt__tr_fork_child(const pt_seg_control *parent);
/* At exit: verified modules still loaded report their outstanding blocks
 * as leaks; 1 when any leak was reported in this process. */
int pt__tr_exit(void);

/* ---- special.c, spreport.c, fault.c: the special pool, its reports and
 *      fault injection (issue 12; segment.h, "Special pool") ------------ */

#define PT_TR_SPECIAL 4u  /* the site may go to the special pool          */
#define PT_TR_FAULT 8u    /* the site's requests may be failed (injection) */
/* The special region: [pt__sp_lo, pt__sp_lo + pt__sp_len); len 0 until it
 * is reserved, then never changes.  Every path that reads a block's header
 * asks sp_mine first: a special block has none. */
extern uintptr_t pt__sp_lo, pt__sp_len;
static inline int sp_mine(const void *p)
{
    return (uintptr_t)p - __atomic_load_n(&pt__sp_lo, __ATOMIC_RELAXED) <
           __atomic_load_n(&pt__sp_len, __ATOMIC_RELAXED);
}
/* Nonzero while special selectors or sampling (pt__sp_on) or fault
 * selectors (pt__fi_on) are in effect; pt__tr_on is set too then. */
extern int pt__sp_on, pt__fi_on;
/* The settings page of the current segment (NULL: none). */
extern pt_seg_special *pt__spc;
/* Apply the special pool's (fault injection's) settings from the page,
 * with the rest of the control block (trace.c, apply_now, its caller
 * holds the apply flag); returns the number of settings refused. */
uint32_t pt__sp_apply(void);
uint32_t pt__fi_apply(void);
/* At start, before the first apply: PT_SPECIAL, PT_SPECIAL_*, PT_SAMPLE_GUARD,
 * PT_QUARANTINE (PT_FAIL) written into the settings page; 1 if any was set. */
int pt__sp_env(void);
int pt__fi_env(void);
/* A site's kinds: PT_TR_SPECIAL (PT_TR_FAULT) when a selector of its tag
 * (index tidx) or its module (record rec, UINT32_MAX: none) is in effect,
 * or a size selector exists (decided per request). */
unsigned pt__sp_classify(uint32_t tidx, uint32_t rec);
unsigned pt__fi_classify(uint32_t tidx, uint32_t rec);
/* Fault injection: should this request of tag index tidx fail now?  When
 * it says 1 it has counted the injection (tag and total). */
int pt__fi_fail(uint32_t tidx, uint32_t rec, uint64_t size);
/* Place a request in the special pool: the caller's pointer, or NULL when
 * it is not placed (a size selector does not match, the pool is full,
 * ineligible), counted as alloc_slow would count it. */
void *pt__sp_alloc(unsigned kinds, uint32_t rec, unsigned pool, size_t size, size_t alignment,
                   uint32_t tag, uint32_t idx, uint32_t sidx, int zero, const void *site,
                   int untagged);
/* Where an address of the special region lies (special.c): kind
 * PT_SPR_OVERRUN / UNDERRUN / USE_AFTER_FREE / WILD (0: outside the
 * region), blk the block record's index (UINT32_MAX: none), offset as in
 * pt_seg_spreport.  Lock-free and safe in a signal handler. */
typedef struct pt_sp_where {
    uint32_t kind;
    uint32_t blk;
    int64_t offset;
} pt_sp_where;
void pt__sp_lookup(uintptr_t addr, pt_sp_where *w);
/* PT_SPF_RECOVER after a fault: make block blk's whole run accessible and
 * mark it PT_SPB_REPORTED (never reused, never freed). */
void pt__sp_recover_open(uint32_t blk);
/* Sampling of every allocation (PT_SAMPLE_GUARD without selectors): set
 * while it is on; pt__sp_due counts this thread's request (slow path) and
 * says 1 when it is the sampled one. */
extern int pt__sp_all;
int pt__sp_due(void);
/* The free (pt_free, the preload's free, realloc) of p, sp_mine(p): checks
 * it (bad free, double free, slop) and puts it in the quarantine.  ra: the
 * caller (the free stack's anchor; NULL: unknown). */
void pt__sp_free(void *p, const void *ra);
/* Is p a live special block?  Its requested size, tag and site index
 * (UINT32_MAX: inherited across fork).  0: not a live block (not reported). */
int pt__sp_info(const void *p, uint64_t *size, uint32_t *tag, uint32_t *sidx);
/* init.c's fork child handler: the pool's lock is free in the child. */
void pt__sp_fork_child(void);
/* spreport.c: install (or re-arm) the SIGSEGV/SIGBUS handler; the pool
 * calls it when it is switched on. */
void pt__sp_handler_install(void);
/* spreport.c, for the preload's sigaction()/signal() interposers: while
 * the handler is installed, a change of SIGSEGV/SIGBUS is recorded as the
 * handler to chain to (the kernel keeps ours) and *old gets the recorded
 * one; returns 0 then, -1 when the call is not for us (another signal, the
 * handler not installed): the caller passes it to libc. */
struct sigaction;
int pt__sp_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* spreport.c: report a special pool error: a segment record and stderr,
 * then death by signo (SIGABRT for a check: uctx NULL, the current stack
 * is the culprit's) unless PT_SPF_RECOVER, when it returns.  addr: the
 * address accessed or freed; blk: the block record (UINT32_MAX: none);
 * access: PT_SPA_*. */
void pt__sp_report(unsigned kind, uintptr_t addr, uint32_t blk, int64_t offset,
                   const void *uctx, int signo, unsigned access);
/* Counting for the files outside alloc.c (alloc.c's count_alloc/free). */
void pt__count(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free);
uint32_t pt__site_tag(uint32_t sidx);
void pt__count_failure(uint32_t idx, unsigned pool);
/* Stack table for the files outside trace.c: capture the current stack
 * (frame[0] = anchor when the walk finds it), or store given frames;
 * returns the stack id (0: none). */
uint32_t pt__tr_capture(const void *anchor);
uint32_t pt__tr_stack_id(const uint64_t *frames, uint32_t n);

/* ---- tables.c --------------------------------------------------------- */

uint32_t pt__tag_index_slow(uint32_t tag);
/* The site (tag, ra) with tag index tidx: its entry, else the tag's "other
 * sites" entry, else the overflow site.  Never fails. */
uint32_t pt__site_index(uint32_t tag, uint32_t tidx, const void *ra);

/* Where a tag's probe sequence starts in the tag table. */
static inline uint32_t tag_hash(uint32_t tag)
{
    return (uint32_t)((tag * 0x85ebca6bu) ^ (tag >> 13)) & tag_mask;
}

static inline unsigned cache_slot(uint32_t tag)
{
    return (tag * 0x9e3779b1u) >> (32 - 6); /* PT_TLS_CACHE == 64 */
}

/* The tag's index in the table (inserted when new; ovfl_idx when full). */
static inline uint32_t tag_index(uint32_t tag)
{
    unsigned s = cache_slot(tag);
    if (PT_LIKELY(tls.cache[s].tag == tag))
        return tls.cache[s].idx;
    return pt__tag_index_slow(tag);
}

/* ---- small helpers ------------------------------------------------------ */

static inline uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* ---- the block header --------------------------------------------------- */

/* The check value ties a header to its address, its contents and this
 * process: base = f(address, tag, secret); live = base ^ fold(w0); freed =
 * base ^ constant.  Any single-bit change of w0 or the tag changes the live
 * value; a foreign pointer matches by chance with probability 2^-32.  The
 * freed value does not depend on w0, which the backend's free list
 * overwrites. */
static inline uint32_t check_base(const pt_hdr *h, uint32_t tag)
{
    return pt_hdr_check_base((uint64_t)(uintptr_t)h, tag, secret);
}

static inline uint32_t check_live(const pt_hdr *h, uint64_t w0, uint32_t tag)
{
    return pt_hdr_check_live((uint64_t)(uintptr_t)h, w0, tag, secret);
}

static inline uint32_t check_freed(const pt_hdr *h, uint32_t tag)
{
    return pt_hdr_check_freed((uint64_t)(uintptr_t)h, tag, secret);
}

/* The epoch of the block whose header at h holds w0, tag and check (as
 * read), or UINT32_MAX when it is not a live block's.  (A block of this
 * thread's current epoch is the frees' fast test: check ==
 * check_live(...) ^ tls.age_x.) */
static inline uint32_t hdr_epoch(const pt_hdr *h, uint64_t w0, uint32_t tag, uint32_t check)
{
    return pt_hdr_epoch((uint64_t)(uintptr_t)h, w0, tag, check, secret,
                        __atomic_load_n(&pt__age_now, __ATOMIC_ACQUIRE));
}

/* Is the header at h a live block's (any epoch)? */
static inline int hdr_live(const pt_hdr *h)
{
    return hdr_epoch(h, h->w0, h->tag, h->check) != UINT32_MAX;
}

/* The one writer of a block header: a live block of `size` bytes in
 * `pool`, of this process's epoch, at site sidx, tagged `tag`; flags is 0
 * or PT_W0_ALIGNED. */
static inline __attribute__((always_inline)) void hdr_write(pt_hdr *h, uint64_t size, unsigned pool,
                                                             uint64_t flags, uint32_t sidx,
                                                             uint32_t tag)
{
    PT_ASSERT(size <= PT_W0_SIZE_MASK && pool <= PT_NONPAGED && sidx <= site_ovfl &&
              sidx < (1u << PT_W0_SITE_BITS));
    uint64_t w0 = size | ((uint64_t)pool << PT_W0_POOL_SHIFT) | flags | epoch_bits |
                  ((uint64_t)sidx << PT_W0_SITE_SHIFT);
    h->w0 = w0;
    h->tag = tag;
    h->check = check_live(h, w0, tag) ^ tls.age_x; /* (stamped: its epoch) */
}

static inline uint64_t w0_size(uint64_t w0)
{
    return w0 & PT_W0_SIZE_MASK;
}

static inline unsigned w0_pool(uint64_t w0)
{
    return (unsigned)(w0 >> PT_W0_POOL_SHIFT) & 1;
}

static inline uint64_t w0_epoch(uint64_t w0)
{
    return (w0 >> PT_W0_EPOCH_SHIFT) & PT_W0_EPOCH_MASK;
}

/* The site of a live block (of this epoch). */
static inline uint32_t w0_site(uint64_t w0)
{
    return (uint32_t)(w0 >> PT_W0_SITE_SHIFT);
}

/* ---- the backend -------------------------------------------------------- */

/* Signal handlers (preload)
 * ------------------------
 * Neither mimalloc nor glibc's malloc may be re-entered by a signal handler
 * of the same thread: mimalloc hands one block to both callers (found: a
 * program whose SIGALRM handler allocates crashes under plain mimalloc,
 * and pooltag then reported the block's second free as a double free),
 * glibc deadlocks on its arena lock.  So the preload marks the thread while
 * it is inside the backend (or holds one of pooltag's own spin locks):
 * a malloc from a handler that interrupted such a section is served from
 * the side arena (never re-entering the backend, never freed), and a free
 * is deferred to a per-thread list that the interrupted code frees when it
 * leaves the backend.  Counters updated by a handler that interrupted the
 * counting of the same tag may lose that update (they are plain per-thread
 * stores). */
#ifdef PT_PRELOAD
void pt__drain_deferred(void); /* src/preload/plalloc.c */
/* (never nested: nothing inside calls the backend again) */
static inline void be_enter_t(pt_tls *t)
{
    t->in_be = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
static inline void be_leave_t(pt_tls *t)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->in_be = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (PT_UNLIKELY(t->deferred != NULL))
        pt__drain_deferred();
}
#else
static inline void be_enter_t(pt_tls *t) { (void)t; }
static inline void be_leave_t(pt_tls *t) { (void)t; }
#endif
static inline void be_enter(void) { be_enter_t(&tls); }
static inline void be_leave(void) { be_leave_t(&tls); }

/* The backend's functions, chosen at initialisation (init.c): mimalloc's
 * by default, glibc's with PT_BACKEND=libc.  One indirect call, no test
 * of `backend` on the fast paths.  be_calloc_fn is called as (1, n). */
extern void *(*be_malloc_fn)(size_t);
extern void *(*be_calloc_fn)(size_t, size_t);
extern void *(*be_realloc_fn)(void *, size_t);
extern void (*be_free_fn)(void *);

static inline void *be_malloc_t(pt_tls *t, size_t n)
{
    be_enter_t(t);
    void *p = be_malloc_fn(n);
    be_leave_t(t);
    return p;
}

static inline void *be_calloc_t(pt_tls *t, size_t n)
{
    be_enter_t(t);
    void *p = be_calloc_fn(1, n);
    be_leave_t(t);
    return p;
}

static inline void *be_malloc(size_t n) { return be_malloc_t(&tls, n); }
static inline void *be_calloc(size_t n) { return be_calloc_t(&tls, n); }

static inline void *be_realloc(void *p, size_t n)
{
    be_enter();
    void *q = be_realloc_fn(p, n);
    be_leave();
    return q;
}

static inline void be_free(void *p)
{
    be_enter();
    be_free_fn(p);
    be_leave();
}

/* glibc backend: what survives glibc's own bookkeeping of a freed block.
 * glibc writes its free-list links into the first bytes of the chunk's user
 * area, which is pooltag's header: tcache `next` and `key` (offsets 0 and
 * 8), fastbin `fd` (0), bin `fd`/`bk` (0, 8), large-bin `fd_nextsize`/
 * `bk_nextsize` (16, 24), and the next chunk's `prev_size` (the last 8
 * bytes).  So a freed block is recognised by one of:
 *   - its freed check value, intact in a fastbin chunk;
 *   - glibc's tcache key at offset 8 (learnt at initialisation);
 *   - for blocks of at least PT_LIBC_MARK_MIN bytes (beyond the tcache's
 *     1032, so they go to glibc's bins), a freed mark written at offset 32
 *     of the chunk (16 bytes into the block), which no bin link and no
 *     chunk foot reaches;
 *   (a smaller block that glibc moved from a full tcache bin to its bins
 *   is not recognised: its second free is a "bad pointer", still never
 *   passed to glibc)
 *   - for a chunk glibc unmapped (mmap'd, >= 128 KiB by default), its
 *     address in a small ring of recently unmapped blocks
 *     (preload only, see pl_classify in src/preload/foreign.c).
 * The mark is a hash of the address, the tag and the per-process secret,
 * followed by the tag. */
#define PT_LIBC_MARK_MIN 1024u

static inline uint32_t libc_mark(const pt_hdr *h, uint32_t tag)
{
    return check_base(h, tag) ^ 0x0ddf4ee5u;
}

/* alloc.c, age epochs: bring this thread (and its shard) to the current
 * epoch before it stamps a block (the slow paths); count a free of a
 * block of epoch e that is not this thread's current one. */
void pt__age_sync_slow(void);
/* A block of age epoch e of site sidx was counted as freed (pt__count):
 * take it out of its epoch (special.c: its blocks have no header). */
void pt__age_free(uint32_t sidx, uint32_t e, uint64_t size);
static inline void age_sync(void)
{
    if (PT_UNLIKELY(tls.age_e != __atomic_load_n(&pt__age_now, __ATOMIC_ACQUIRE)))
        pt__age_sync_slow();
}

/* alloc.c: push this thread's change of entry idx/pool since its last
 * flush to the shared cur, and raise the peaks (segment.h, invariant 6). */
void pt__flush(uint32_t idx, unsigned pool);
/* alloc.c: the header at h (its bytes copied in *hd) does not check as
 * live: was it a block of ours that has been freed?  Returns 1 and the tag
 * (0 when unknown) if so. */
int pt__freed_block(const pt_hdr *h, const pt_hdr *hd, uint32_t *tag);

#pragma GCC visibility pop

#endif /* PT_RTSTATE_H */
