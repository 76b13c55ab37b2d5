/*
 * rt.c — the pooltag runtime: segment, per-thread counter shards, the tagged
 * allocation API and the in-process read API.
 *
 * Read internal.h (block header, counting, lock order) and
 * src/common/segment.h (segment layout and invariants) first.
 *
 * Life of the runtime
 * -------------------
 * 1. The first call that needs a tag index initialises the runtime
 *    (pt__init): options from the environment, the memfd segment, the
 *    pthread key whose destructor folds a thread's shard, the fork handlers.
 *    Concurrent first callers wait for the one that initialises.
 * 2. A thread's first allocation claims a private shard (slow path); later
 *    allocations find the shard and the tag's index in initial-exec TLS and
 *    update counters with plain stores.
 * 3. At thread exit the shard is folded into `retired` under fold_seq.
 * 4. In a fork child the runtime builds a fresh segment and bumps the epoch:
 *    blocks inherited from the parent are freed without being counted, so
 *    the child's table holds only its own allocations and the parent's
 *    counters are not counted twice.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <mimalloc.h>
#ifdef PT_PRELOAD
#include <execinfo.h>
#endif

#include "segsum.h"

/* glibc's allocator under its own names.  libmimalloc.so exports malloc
 * and even __libc_malloc, so a plain reference may bind to mimalloc; init
 * looks the functions up in libc.so.6 itself (see libc_resolve). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static void *(*libc_malloc)(size_t) = __libc_malloc;
static void *(*libc_calloc)(size_t, size_t) = __libc_calloc;
static void *(*libc_realloc)(void *, size_t) = __libc_realloc;
static void (*libc_free)(void *) = __libc_free;

#define PT_TAG_NONE PT_TAG("None")
#define PT_TAG_OVFL PT_TAG("Ovfl")
#define PT_TLS_CACHE 64

/* ---- process-wide state (read-mostly after init) ----------------------- */

pt_seg_header *pt__seg;               /* NULL until initialised          */
static char *seg_base;
static size_t seg_len;
static int seg_fd = -1;
static uint32_t *seg_keys;
static pt_seg_tagstat *seg_tagstat;
static pt_seg_counts *seg_retired;
static char *seg_shards;
static uint64_t seg_stride;
static pt_seg_pool *seg_pools;
static pt_seg_site *seg_sites;         /* site table (keys)                */
static pt_seg_counts *seg_site_retired;
static uint32_t site_mask;             /* max_sites - 1                    */
static uint32_t site_ovfl;             /* max_sites: the overflow site     */
static pt_spin site_lock;              /* site inserts (slow path only)    */
static uint32_t site_keep;             /* entries kept for "other sites"   */
static uint32_t site_others;           /* "other sites" entries inserted   */
static uint32_t tag_mask;              /* max_tags - 1                     */
static uint32_t ovfl_idx;              /* max_tags                         */
static uint8_t *gshift;                /* per entry: log2 of its grain    */
static unsigned gshift_min;            /* log2(PT_PEAK_GRAIN)             */
static int backend;
/* (preload) pointers at this offset in a page take pt__pl_free's careful
 * path: 0 for mimalloc, PL_LIBC_MMAP_OFF for glibc. */
static unsigned pl_slow_off;
static uint64_t secret;
static uint64_t epoch;                 /* 0..31 (PT_W0_EPOCH_MASK)         */
static uint64_t epoch_bits;            /* epoch << PT_W0_EPOCH_SHIFT       */
static int limit_on[PT_POOL_COUNT];    /* exact `used` accounting active   */
static inline int lim(unsigned pool)
{
    return __atomic_load_n(&limit_on[pool], __ATOMIC_RELAXED);
}
static int state;                      /* 0 new, 2 ready, or INIT_BY(pid):
                                          being initialised by process pid */
/* The initialiser's PID lives in the state word itself, set by the same
 * compare-and-swap that elects it, so a waiting thread can never see
 * "initialising" without also seeing by whom (a fork child tells its
 * parent's unfinished initialisation from a sibling thread's by it). */
#define INIT_BY(pid) ((int)(((unsigned)(pid) << 2) | 1u))
static pthread_key_t exit_key;
static int key_ok;                     /* exit_key was created             */
/* Written at thread exit and fork: kept off the line of the read-mostly
 * globals above, which every allocation reads. */
static pt_spin fold_lock __attribute__((aligned(64)));

/* ---- per-thread state ------------------------------------------------- */

enum { TS_NEW = 0, TS_PRIVATE = 1, TS_SHARED = 2, TS_DEAD = 3 };

typedef struct pt_tls {
    pt_seg_counts *counts;  /* this thread's shard counters, or NULL       */
    int64_t *flushed;       /* this thread's shard flushed[][2]            */
    uint32_t shard;         /* shard index                                 */
    uint32_t ts;            /* TS_*                                        */
    uint32_t cur_tag;       /* pt_tag_push                                 */
    uint32_t busy;          /* inside the runtime's own setup (preload)    */
    uint32_t in_be;         /* inside the backend or a locked section
                               (preload): see "Signal handlers"            */
    void *deferred;         /* frees deferred by a signal handler          */
    struct {
        uint32_t tag, idx;
    } cache[PT_TLS_CACHE];
    pt_seg_counts *scounts; /* this thread's site counters, or NULL        */
    struct {                /* (caller, tag) -> site and tag index         */
        const void *ra;
        uint32_t tag, sidx, tidx;
    } scache[PT_TLS_CACHE];
#ifdef PT_PRELOAD
    const void *site_ra;    /* caller of an interposed wrapper (strdup...) */
    struct {                /* return address -> tag and its index, valid
                               while gen == pt__mod_gen (no module that
                               could hold ra was unloaded since)           */
        const void *ra;
        uint32_t tag, sidx, tidx, gen;
    } racache[256];
    uint32_t walking;       /* inside stack_walk                           */
#endif
    uint32_t fork_depth;    /* fork handlers running (see fork_prepare)    */
    uint32_t fork_took;     /* locks each of them took, two bits a level   */
} pt_tls;

static __thread pt_tls tls __attribute__((tls_model("initial-exec")));

/* ---- small helpers ------------------------------------------------------ */

uint32_t pt__gettid(void)
{
    return (uint32_t)syscall(SYS_gettid);
}

/* This thread's id for spin locks: the address of its TLS block (nonzero,
 * unique among live threads, kept by a fork child, no system call). */
static inline uintptr_t spin_owner(void)
{
    return (uintptr_t)&tls;
}

void pt__spin_lock(pt_spin *l)
{
    unsigned n = 0;
    uintptr_t me = spin_owner(), free_v = 0;
    while (!__atomic_compare_exchange_n(&l->v, &free_v, me, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        free_v = 0;
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED)) {
            if (++n > 64)
                sched_yield();
            else
                __builtin_ia32_pause();
        }
    }
}

int pt__spin_lock_unless_mine(pt_spin *l)
{
    /* Only this thread stores its own id, and a signal handler that
     * interrupted it returns before it goes on: the value read is exact. */
    if (__atomic_load_n(&l->v, __ATOMIC_RELAXED) == spin_owner())
        return 0;
    pt__spin_lock(l);
    return 1;
}

static inline uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void atomic_max_u64(uint64_t *p, uint64_t v)
{
    uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > old &&
           !__atomic_compare_exchange_n(p, &old, v, 1, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
}

/* The check value ties a header to its address, its contents and this
 * process: base = f(address, tag, secret); live = base ^ fold(w0); freed =
 * base ^ constant.  Any single-bit change of w0 or the tag changes the live
 * value; a foreign pointer matches by chance with probability 2^-32.  The
 * freed value does not depend on w0, which the backend's free list
 * overwrites. */
static inline uint32_t check_base(const pt_hdr *h, uint32_t tag)
{
    return (uint32_t)((uintptr_t)h >> 4) ^ tag ^ (uint32_t)secret;
}

static inline uint32_t check_live(const pt_hdr *h, uint64_t w0, uint32_t tag)
{
    return check_base(h, tag) ^ (uint32_t)w0 ^ (uint32_t)(w0 >> 32);
}

static inline uint32_t check_freed(const pt_hdr *h, uint32_t tag)
{
    return check_base(h, tag) ^ 0x5eedf4eeu;
}

/* ---- backend ------------------------------------------------------------ */

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
static void drain_deferred(void);
/* (never nested: nothing inside calls the backend again) */
static inline void be_enter(void)
{
    tls.in_be = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
static inline void be_leave(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.in_be = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (PT_UNLIKELY(tls.deferred != NULL))
        drain_deferred();
}
#else
static inline void be_enter(void) {}
static inline void be_leave(void) {}
#endif

static inline void *be_malloc(size_t n)
{
    be_enter();
    void *p = PT_LIKELY(backend == PT_BACKEND_MIMALLOC) ? mi_malloc(n) : libc_malloc(n);
    be_leave();
    return p;
}

static inline void *be_calloc(size_t n)
{
    be_enter();
    void *p = PT_LIKELY(backend == PT_BACKEND_MIMALLOC) ? mi_calloc(1, n) : libc_calloc(1, n);
    be_leave();
    return p;
}

static inline void *be_realloc(void *p, size_t n)
{
    be_enter();
    void *q = PT_LIKELY(backend == PT_BACKEND_MIMALLOC) ? mi_realloc(p, n) : libc_realloc(p, n);
    be_leave();
    return q;
}

static inline void be_free(void *p)
{
    be_enter();
    if (PT_LIKELY(backend == PT_BACKEND_MIMALLOC))
        mi_free(p);
    else
        libc_free(p);
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
 *     (preload only, see pl_classify).
 * The mark is a hash of the address, the tag and the per-process secret,
 * followed by the tag. */
#define PT_LIBC_MARK_MIN 1024u
static uint64_t libc_tcache_key; /* 0: unknown (no tcache) */

static inline uint32_t libc_mark(const pt_hdr *h, uint32_t tag)
{
    return check_base(h, tag) ^ 0x0ddf4ee5u;
}

/* Free the paged block with header h (unaligned, so the backend's pointer
 * is h itself). */
/* (noinline: the mimalloc path of be_free_block stays a tail call) */
static __attribute__((noinline)) void libc_free_block(pt_hdr *h)
{
    /* (w0 and the tag are still there: only the check value changed) */
    if (PT_UNLIKELY((h->w0 & PT_SIZE_MASK) >= PT_LIBC_MARK_MIN)) {
        uint32_t *m = (uint32_t *)(h + 2);
        m[0] = libc_mark(h, h->tag);
        m[1] = h->tag;
    }
    be_enter();
    libc_free(h);
    be_leave();
}

static inline void be_free_block(pt_hdr *h)
{
    if (PT_LIKELY(backend == PT_BACKEND_MIMALLOC)) {
        be_enter();
        mi_free(h);
        be_leave();
        return;
    }
    libc_free_block(h);
}

/* ---- the segment -------------------------------------------------------- */

static void read_self(const char *path, char *out, size_t cap, int link)
{
    out[0] = 0;
    if (link) {
        ssize_t n = readlink(path, out, cap - 1);
        if (n > 0)
            out[n] = 0;
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n <= 0)
        return;
    out[n] = 0;
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = 0;
}

/* Create and lay out a segment; installs it in the globals.  Returns 0, or
 * -1 if no memory could be mapped at all. */
static int segment_create(void)
{
    uint32_t max_tags = pt__opt.max_tags;
    uint32_t max_shards = pt__opt.max_threads + 1;
    uint64_t ntags = (uint64_t)max_tags + 1;
    uint64_t off = PT_SEG_HEADER_SIZE;
    uint64_t pools_off = off;
    off += PT_SEG_NPOOLS * sizeof(pt_seg_pool);
    uint64_t errors_off = off;
    off += PT_SEG_ERRORS * sizeof(pt_seg_error);
    uint64_t keys_off = off;
    off = pt_seg_align(off + ntags * sizeof(uint32_t), PT_SEG_LINE);
    uint64_t tagstat_off = off;
    off += ntags * sizeof(pt_seg_tagstat);
    uint64_t retired_off = off;
    off += ntags * sizeof(pt_seg_counts);
    uint32_t max_sites = pt__opt.max_sites;
    uint64_t nsites = (uint64_t)max_sites + 1;
    uint64_t sites_off = off;
    off += nsites * sizeof(pt_seg_site);
    uint64_t site_retired_off = off;
    off += nsites * sizeof(pt_seg_counts);
    uint64_t modules_off = off;
    off += (uint64_t)pt__opt.max_modules * sizeof(pt_seg_module);
    off = pt_seg_align(off, 4096);
    uint64_t shards_off = off;
    uint64_t stride = pt_seg_shard_stride_sites(max_tags, max_sites);
    off += stride * max_shards;
    size_t len = (size_t)pt_seg_align(off, 4096);

    int fd = (int)syscall(SYS_memfd_create, "pooltag", 1u /* MFD_CLOEXEC */);
    void *p = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, (off_t)len) == 0)
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        if (fd >= 0)
            close(fd);
        fd = -1;
        /* No memfd (seccomp, old kernel): count in private memory.  The
         * process cannot be read from outside, but nothing breaks. */
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
        if (p == MAP_FAILED)
            return -1;
        pt__warn("no memfd segment; counters are not visible to `pooltag`",
                 NULL);
    }

    pt_seg_header *h = p;
    memcpy(h->magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN);
    h->header_size = PT_SEG_HEADER_SIZE;
    h->seg_size = len;
    h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    h->pid = (uint32_t)getpid();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    h->max_tags = max_tags;
    h->max_shards = max_shards;
    h->shard_hw = 1;
    h->flags = pt__opt.backend == PT_BACKEND_LIBC ? PT_SEGF_LIBC_BACKEND : 0;
    h->pools_off = pools_off;
    h->errors_off = errors_off;
    h->keys_off = keys_off;
    h->tagstat_off = tagstat_off;
    h->retired_off = retired_off;
    h->shards_off = shards_off;
    h->shard_stride = stride;
    h->peak_grain = pt__opt.peak_grain;
    h->on_error = (uint32_t)pt__opt.on_error;
    read_self("/proc/self/comm", h->comm, sizeof h->comm, 0);
    read_self("/proc/self/exe", h->exe, sizeof h->exe, 1);
    h->modules_off = modules_off;
    h->max_modules = pt__opt.max_modules;
    h->sites_off = sites_off;
    h->site_retired_off = site_retired_off;
    h->max_sites = max_sites;
#ifdef PT_PRELOAD
    h->flags |= PT_SEGF_PRELOAD;
#endif

    /* The mapping keeps the memfd alive; the descriptor itself would be
     * visible to the program (a child listing its fds would see it, and it
     * would take the lowest free number).  Readers use /proc/PID/map_files
     * or /proc/PID/mem instead. */
    if (fd >= 0)
        close(fd);
    fd = -1;
    seg_base = p;
    seg_len = len;
    seg_fd = fd;
    seg_keys = (uint32_t *)(seg_base + keys_off);
    seg_tagstat = (pt_seg_tagstat *)(seg_base + tagstat_off);
    seg_retired = (pt_seg_counts *)(seg_base + retired_off);
    seg_shards = seg_base + shards_off;
    seg_stride = stride;
    seg_pools = (pt_seg_pool *)(seg_base + pools_off);
    seg_sites = (pt_seg_site *)(seg_base + sites_off);
    seg_site_retired = (pt_seg_counts *)(seg_base + site_retired_off);
    site_mask = max_sites - 1;
    site_ovfl = max_sites;
    /* Distinct sites may not take the last entries: every tag created
     * later needs one for its "other sites" (else its blocks would count
     * under Ovfl).  Enough for every tag when PT_MAX_TAGS <= PT_MAX_SITES
     * / 2 (the defaults), else for the first max_sites / 2. */
    site_keep = max_tags < max_sites / 2 ? max_tags : max_sites / 2;
    site_others = 0;
    tag_mask = max_tags - 1;
    ovfl_idx = max_tags;
    gshift_min = (unsigned)__builtin_ctzll(pt__opt.peak_grain);
    /* Process-private (the grain is a tuning of this process's writers,
     * not data for readers); in a fork child the old array is reused. */
    if (!gshift) {
        void *g = mmap(NULL, (size_t)ntags, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (g == MAP_FAILED)
            return -1;
        gshift = g;
    }
    memset(gshift, (int)gshift_min, (size_t)ntags);

    seg_keys[ovfl_idx] = PT_TAG_OVFL;
    /* The overflow site: blocks whose site found the table full and whose
     * tag has no "other sites" entry; counted under the Ovfl tag. */
    seg_sites[site_ovfl].tag = PT_TAG_OVFL;
    seg_sites[site_ovfl].tagidx = ovfl_idx;
    h->sites_used = 0;
    seg_tagstat[ovfl_idx].flags = PT_SEG_TAG_OVERFLOW;
    ((pt_seg_shard_hdr *)seg_shards)->state = PT_SHARD_SHARED;
    seg_pools[PT_PAGED].limit = pt__opt.paged_max;
    seg_pools[PT_NONPAGED].limit = pt__opt.nonpaged_max;
    limit_on[PT_PAGED] = pt__opt.paged_max != 0;
    limit_on[PT_NONPAGED] = pt__opt.nonpaged_max != 0;

    /* Publish: the version goes last so a reader never sees a half-built
     * header as valid. */
    __atomic_store_n(&h->version, PT_SEG_VERSION, __ATOMIC_RELEASE);
    __atomic_store_n(&pt__seg, h, __ATOMIC_RELEASE);
    return 0;
}

/* Tag 0 ("untagged") hashes to cache slot 0; an empty slot holds tag 0 and
 * would match it.  A nonzero tag in slot 0 that does not hash there can never
 * be matched by anyone, so it poisons the slot until a real tag fills it. */
#define PT_CACHE_POISON 0xffffffffu

static void tls_reset(void)
{
    memset(&tls, 0, sizeof tls);
    tls.cache[0].tag = PT_CACHE_POISON;
}

/* The fork handlers may nest: a signal handler can fork while its thread
 * is inside fork, between the prepare and the parent handler (glibc keeps
 * fork async-signal-safe with respect to malloc in a single-threaded
 * process, and so must pooltag).  A nested prepare does not wait for a lock
 * that its own thread holds; which locks each level took is kept per
 * thread (tls.fork_took, two bits a level), so that each parent handler
 * releases only its own.  A handler that interrupts another restores what
 * it changed before it returns, so plain loads and stores do. */
#define FORK_NEST_MAX 16

static void fork_prepare(void)
{
    uint32_t d = tls.fork_depth;
    tls.fork_depth = d + 1;
    if (d >= FORK_NEST_MAX)
        return; /* forks nested this deep take no lock */
    uint32_t took = (uint32_t)pt__spin_lock_unless_mine(&fold_lock);
    took |= (uint32_t)pt__np_fork_prepare() << 1;
    tls.fork_took |= took << (2 * d);
}

static void fork_parent(void)
{
    if (!tls.fork_depth)
        return;
    uint32_t d = tls.fork_depth - 1;
    if (d < FORK_NEST_MAX) {
        uint32_t took = (tls.fork_took >> (2 * d)) & 3;
        tls.fork_took &= ~(3u << (2 * d));
        pt__np_fork_parent((int)(took & 2));
        if (took & 1)
            pt__spin_unlock(&fold_lock);
    }
    tls.fork_depth = d;
}

static void fork_child(void)
{
    /* Every lock is free in the child (whoever held it is not there, or is
     * this thread, interrupted, which only ever releases it).  The fork
     * nesting survives the reset of the thread's state below. */
    uint32_t fork_depth = tls.fork_depth, fork_took = tls.fork_took;
    if (fork_depth) {
        fork_depth--;
        if (fork_depth < FORK_NEST_MAX)
            fork_took &= ~(3u << (2 * fork_depth));
    }
    pt__np_fork_child();
    fold_lock.v = 0;
    site_lock.v = 0;
    char *old = seg_base;
    size_t old_len = seg_len;
    int old_fd = seg_fd;
    uint64_t limits[PT_POOL_COUNT] = {seg_pools[0].limit, seg_pools[1].limit};
    uint32_t cur_tag = tls.cur_tag;
    epoch = (epoch + 1) & PT_W0_EPOCH_MASK;
    epoch_bits = epoch << PT_W0_EPOCH_SHIFT;
    if (segment_create() == 0) {
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            seg_pools[p].limit = limits[p];
            limit_on[p] = limits[p] != 0;
        }
        pt__mod_fork_child(pt__seg);
        munmap(old, old_len);
        if (old_fd >= 0)
            close(old_fd);
    }
    /* else: keep counting into the parent's segment rather than crash.
     * (Both processes then share one table; mapping failed, so the system
     * is out of memory anyway.) */
    tls_reset();
    tls.cur_tag = cur_tag;
    tls.fork_depth = fork_depth;
    tls.fork_took = fork_took;
}

static void thread_exit(void *arg);

/* Bind the glibc backend to libc.so.6's own malloc family. */
static void libc_resolve(void)
{
    void *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (!h)
        return;
    void *m = dlsym(h, "malloc"), *c = dlsym(h, "calloc");
    void *r = dlsym(h, "realloc"), *f = dlsym(h, "free");
    if (m && c && r && f) {
        libc_malloc = (void *(*)(size_t))m;
        libc_calloc = (void *(*)(size_t, size_t))c;
        libc_realloc = (void *(*)(void *, size_t))r;
        libc_free = (void (*)(void *))f;
        /* glibc sets its heap up on the first call and expects that call
         * before any second thread allocates.  In a process where nothing
         * else calls glibc's malloc (an ASan build intercepts it), the
         * first calls would otherwise come from several threads at once
         * as they leave the wait for this initialisation ("malloc():
         * corrupted top size", seen in rt_threads_libc under ASan). */
        uint64_t *probe = libc_malloc(24);
        if (probe) {
            /* Learn glibc's tcache key: free stores it at offset 8 of a
             * block it keeps in its per-thread cache (one value per
             * process since glibc 2.34).  No tcache: the word stays 0. */
            __atomic_store_n(&probe[1], 0, __ATOMIC_RELAXED);
            libc_free(probe);
            libc_tcache_key = __atomic_load_n(&probe[1], __ATOMIC_RELAXED);
        }
    }
    dlclose(h);
}

static void init_slow(void)
{
    int expect = 0;
    if (__atomic_compare_exchange_n(&state, &expect, INIT_BY(getpid()), 0,
                                    __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
#ifdef PT_PRELOAD
        /* Never kill a production program for a diagnostic. */
        pt__options_load(PT_ONERR_REPORT);
#else
        pt__options_load(PT_ONERR_ABORT);
#endif
        backend = pt__opt.backend;
        if (backend == PT_BACKEND_LIBC) {
            libc_resolve();
            pl_slow_off = 32; /* PL_LIBC_MMAP_OFF */
        }
        const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
        if (r)
            memcpy(&secret, r + 8, sizeof secret);
        secret ^= (uint64_t)(uintptr_t)&secret * 0x9e3779b97f4a7c15ull;
        secret ^= secret >> 32;
        if (segment_create() != 0) {
            pt__warn("cannot map the counter segment: out of memory", NULL);
            abort();
        }
        key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        /* The module table: the preload needs it for tags; for a linked
         * program it lets `pooltag sites` name functions from a snapshot
         * after the process is gone. */
        pt__mod_init(pt__seg);
        if (pt__opt.verbose)
            pt__options_print();
        __atomic_store_n(&state, 2, __ATOMIC_RELEASE);
        return;
    }
    int st;
    while ((st = __atomic_load_n(&state, __ATOMIC_ACQUIRE)) != 2) {
        /* A fork by another thread while it was initialising leaves the
         * child single-threaded, initialising, with nobody to finish: start
         * again (the half-built segment, if any, is abandoned).  A sibling
         * thread's initialisation carries this process's own PID. */
        if ((st & 1) && st != INIT_BY(getpid())) {
            if (__atomic_compare_exchange_n(&state, &st, 0, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                pt__seg = NULL;
                init_slow();
                return;
            }
        }
        sched_yield();
    }
}

static inline void ensure_init(void)
{
    if (PT_UNLIKELY(__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2))
        init_slow();
}

/* ---- tags ------------------------------------------------------------- */

static inline unsigned cache_slot(uint32_t tag)
{
    return (tag * 0x9e3779b1u) >> (32 - 6); /* PT_TLS_CACHE == 64 */
}

static uint32_t site_find(uint32_t tag, uintptr_t addr, int insert, uint32_t tidx);

static uint32_t tag_index_slow(uint32_t tag)
{
    ensure_init();
    uint32_t h = (uint32_t)((tag * 0x85ebca6bu) ^ (tag >> 13)) & tag_mask;
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
                site_find(tag, 0, 1, i); /* the tag's "other sites" entry */
                break;
            }
            if (zero == tag) {
                idx = i;
                break;
            }
        }
    }
    unsigned s = cache_slot(tag);
    tls.cache[s].tag = PT_CACHE_POISON; /* the key last (signal handlers) */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.cache[s].idx = idx;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.cache[s].tag = tag;
    return idx;
}

static inline uint32_t tag_index(uint32_t tag)
{
    unsigned s = cache_slot(tag);
    if (PT_LIKELY(tls.cache[s].tag == tag))
        return tls.cache[s].idx;
    return tag_index_slow(tag);
}

/* ---- sites ------------------------------------------------------------ */

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

static __attribute__((noinline)) uint32_t site_index(uint32_t tag, uint32_t tidx, const void *ra)
{
    if (tidx == ovfl_idx)
        return site_ovfl;
    if (ra)
        pt__mod_note(ra); /* a new site may lie in a module loaded since */
    uint32_t s = site_find(tag, (uintptr_t)ra, 1, tidx);
    if (s == UINT32_MAX)
        s = site_find(tag, 0, 0, tidx);
    return s == UINT32_MAX ? site_ovfl : s;
}

static inline unsigned scache_slot(const void *ra, uint32_t tag)
{
    return (unsigned)((((uintptr_t)ra ^ tag) * 0x9e3779b97f4a7c15ull) >> 58);
}

/* ---- counting ----------------------------------------------------------- */

/* Push this thread's change of entry idx/pool since its last flush to the
 * shared cur, and raise the peaks. */
static void flush(uint32_t idx, unsigned pool)
{
    pt_seg_pool_counts *c = &tls.counts[idx].pool[pool];
    int64_t net = (int64_t)(ld(&c->bytes_alloc) - ld(&c->bytes_freed));
    int64_t *fl = &tls.flushed[2 * idx + pool];
    int64_t d = net - *fl;
    __atomic_store_n(fl, net, __ATOMIC_RELAXED);
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
        if (tls.cache[0].tag == 0)
            tls.cache[0].tag = PT_CACHE_POISON;
        pthread_setspecific(exit_key, (void *)1);
        return 1;
    }
    return 0;
}

/* Counting for a thread without a private shard: atomic adds into shard 0,
 * exact cur and peak. */
static void count_shared(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free)
{
    pt_seg_pool_counts *c = &pt_seg_shard_counts(seg_shards, idx)->pool[pool];
    pt_seg_pool_counts *sc =
        &pt_seg_shard_site_counts(seg_shards, pt__seg->max_tags, sidx)->pool[pool];
    int64_t d;
    if (is_free) {
        __atomic_fetch_add(&c->frees, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&c->bytes_freed, size, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sc->frees, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sc->bytes_freed, size, __ATOMIC_RELAXED);
        d = -(int64_t)size;
    } else {
        __atomic_fetch_add(&c->allocs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&c->bytes_alloc, size, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sc->allocs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sc->bytes_alloc, size, __ATOMIC_RELAXED);
        d = (int64_t)size;
    }
    int64_t cur = __atomic_add_fetch(&seg_tagstat[idx].pool[pool].cur, d,
                                     __ATOMIC_RELAXED);
    if (cur > 0)
        atomic_max_u64(&seg_tagstat[idx].pool[pool].peak, (uint64_t)cur);
    int64_t pc = __atomic_add_fetch(&seg_pools[pool].cur, d, __ATOMIC_RELAXED);
    if (pc > 0)
        atomic_max_u64(&seg_pools[pool].peak, (uint64_t)pc);
}

static void count_slow(uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size, int is_free);

/* Count into this thread's shard: counters `cs`, flushed values `fl` (not
 * NULL).  A flush happens when the thread's Bytes for the entry has moved by
 * the entry's grain since its last flush: in either direction, so a tag that
 * allocates and frees at a steady level never flushes, and one that grows
 * or shrinks flushes once per grain. */
static inline void count_alloc_in(pt_seg_counts *cs, int64_t *fl, pt_seg_counts *ss,
                                  uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size)
{
    pt_seg_pool_counts *sc = &ss[sidx].pool[pool];
    st(&sc->allocs, ld(&sc->allocs) + 1);
    st(&sc->bytes_alloc, ld(&sc->bytes_alloc) + size);
    pt_seg_pool_counts *c = &cs[idx].pool[pool];
    st(&c->allocs, ld(&c->allocs) + 1);
    uint64_t ba = ld(&c->bytes_alloc) + size;
    st(&c->bytes_alloc, ba);
    int64_t moved = (int64_t)(ba - ld(&c->bytes_freed)) - fl[2 * idx + pool];
    if (PT_UNLIKELY((moved >> __atomic_load_n(&gshift[idx], __ATOMIC_RELAXED)) > 0))
        flush(idx, pool);
}

static inline void count_free_in(pt_seg_counts *cs, int64_t *fl, pt_seg_counts *ss,
                                 uint32_t idx, uint32_t sidx, unsigned pool, uint64_t size)
{
    pt_seg_pool_counts *sc = &ss[sidx].pool[pool];
    st(&sc->frees, ld(&sc->frees) + 1);
    st(&sc->bytes_freed, ld(&sc->bytes_freed) + size);
    pt_seg_pool_counts *c = &cs[idx].pool[pool];
    st(&c->frees, ld(&c->frees) + 1);
    uint64_t bf = ld(&c->bytes_freed) + size;
    st(&c->bytes_freed, bf);
    int64_t moved = fl[2 * idx + pool] - (int64_t)(ld(&c->bytes_alloc) - bf);
    if (PT_UNLIKELY((moved >> __atomic_load_n(&gshift[idx], __ATOMIC_RELAXED)) > 0))
        flush(idx, pool);
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
    if (tls.ts == TS_NEW && claim_shard()) {
        if (is_free)
            count_free(idx, sidx, pool, size);
        else
            count_alloc(idx, sidx, pool, size);
        return;
    }
    if (tls.ts == TS_NEW) {
        tls.ts = TS_SHARED;
        __atomic_fetch_add(&pt__seg->shared_users, 1, __ATOMIC_RELAXED);
    }
    count_shared(idx, sidx, pool, size, is_free);
}

/* Thread exit (pthread key destructor): push this thread's unflushed
 * changes to the tags' cur/peak and give the shard back.  The counts stay
 * in the shard: the next thread that claims it adds to them, so counters
 * only ever grow and a reader never has to care about thread exits. */
static void thread_exit(void *arg)
{
    (void)arg;
    if (tls.ts != TS_PRIVATE) {
        tls.ts = TS_DEAD;
        return;
    }
    pt_seg_header *h = pt__seg;
    pt_seg_shard_hdr *sh = (pt_seg_shard_hdr *)(seg_shards + (uint64_t)tls.shard * seg_stride);
    for (uint32_t i = 0; i <= ovfl_idx; i++) {
        if (!__atomic_load_n(&seg_keys[i], __ATOMIC_RELAXED))
            continue;
        for (unsigned p = 0; p < PT_SEG_NPOOLS; p++) {
            pt_seg_pool_counts *c = &tls.counts[i].pool[p];
            int64_t net = (int64_t)(ld(&c->bytes_alloc) - ld(&c->bytes_freed));
            if (net != tls.flushed[2 * i + p])
                flush(i, p);
        }
    }
    __atomic_fetch_add(&h->threads_exited, 1, __ATOMIC_RELAXED);
    sh->tid = 0;
    __atomic_store_n(&sh->state, PT_SHARD_FREE, __ATOMIC_RELEASE);
    tls.counts = NULL;
    tls.flushed = NULL;
    tls.scounts = NULL;
    tls.ts = TS_DEAD;
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

/* ---- the allocation API ------------------------------------------------- */

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
    uint64_t w0 = size | ((uint64_t)pool << 40) | flags | epoch_bits |
                  ((uint64_t)sidx << PT_W0_IDX_SHIFT);
    h->w0 = w0;
    h->tag = tag;
    h->check = check_live(h, w0, tag);
    count_alloc(idx, sidx, pool, size);
    return h + 1;
}

/* Tag and site of a request: tidx from the tag table, sidx from the site
 * table, through this thread's (caller, tag) cache.  The tag index used
 * for counting is the site's (the overflow site counts under Ovfl). */
static inline void site_of(uint32_t tag, const void *ra, uint32_t *tidx, uint32_t *sidx,
                           int cache)
{
    unsigned s = scache_slot(ra, tag);
    if (PT_LIKELY(tls.scache[s].ra == ra && tls.scache[s].tag == tag)) {
        *tidx = tls.scache[s].tidx;
        *sidx = tls.scache[s].sidx;
        return;
    }
    uint32_t t = tag_index(tag);
    uint32_t si = site_index(tag, t, ra);
    t = seg_sites[si].tagidx;
    if (cache && tls.counts) { /* cached only once the thread has its shard */
        /* the key last: a signal handler never sees a half-written entry */
        tls.scache[s].ra = NULL;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        tls.scache[s].tag = tag;
        tls.scache[s].tidx = t;
        tls.scache[s].sidx = si;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        tls.scache[s].ra = ra;
    }
    *tidx = t;
    *sidx = si;
}

#ifdef PT_PRELOAD
static const void *behalf_site(const void *f0, int *cache);

/* The site of a pt_* call from `ra` under PT_BEHALF: the first caller
 * outside the on-behalf API when ra lies in one (rt.c, preload section). */
static inline const void *api_site(const void *ra, int *cache)
{
    ensure_init();
    if (PT_LIKELY(!pt__mod_have_behalf))
        return ra;
    pt__mod_note(ra); /* a module loaded since: its API ranges first */
    return behalf_site(ra, cache);
}
#endif

/* A request that is not served from this thread's caches, charged to the
 * site `ra`; `cache` = 0 when ra must not be cached as a site key. */
static inline __attribute__((always_inline)) void *
alloc_slow_at(unsigned pool, size_t size, uint32_t tag, int zero, const void *ra, int cache)
{
    tag = effective_tag(tag);
    uint32_t idx, sidx;
    ensure_init();
    site_of(tag, ra, &idx, &sidx, cache);
    if (PT_UNLIKELY(pool > PT_NONPAGED)) {
        errno = EINVAL;
        return NULL;
    }
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

/* The common end of both fast paths: a paged block with its header,
 * counted in this thread's shard `cs`. */
static inline __attribute__((always_inline)) void *
paged_block(pt_tls *t, pt_seg_counts *cs, size_t size, uint32_t tag, uint32_t idx, uint32_t sidx,
            int zero)
{
    pt_hdr *h = zero ? be_calloc(size + PT_HDR_SIZE) : be_malloc(size + PT_HDR_SIZE);
    if (PT_UNLIKELY(!h))
        return fail(idx, PT_PAGED);
    uint64_t w0 = size | epoch_bits | ((uint64_t)sidx << PT_W0_IDX_SHIFT);
    h->w0 = w0;
    h->tag = tag;
    h->check = check_live(h, w0, tag);
    count_alloc_in(cs, t->flushed, t->scounts, idx, sidx, PT_PAGED, size);
    return h + 1;
}

/* The fast path: a paged block from a (caller, tag) this thread has used
 * before, no paged maximum, a private shard.  No lock, no atomic
 * read-modify-write. */
static inline __attribute__((always_inline)) void *
alloc_fast(unsigned pool, size_t size, uint32_t tag, int zero, const void *ra)
{
    pt_tls *t = &tls;
    unsigned s = scache_slot(ra, tag);
    pt_seg_counts *cs = t->counts;
    /* One test for: paged pool, size fits the header, no paged maximum. */
    if (PT_LIKELY(t->scache[s].ra == ra && t->scache[s].tag == tag &&
                  ((size >> PT_SIZE_BITS) | pool | (unsigned)lim(PT_PAGED)) == 0 && cs)) {
        return paged_block(t, cs, size, tag, t->scache[s].tidx, t->scache[s].sidx, zero);
    }
    return alloc_slow(pool, size, tag, zero, ra);
}

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

/* An alignment above 16 (a power of two), charged to the site `ra`. */
static void *alloc_aligned_at(pt_pool pool, size_t size, size_t alignment, uint32_t tag,
                              const void *ra, int cache)
{
    tag = effective_tag(tag);
    uint32_t idx, sidx;
    ensure_init();
    site_of(tag, ra, &idx, &sidx, cache);
    unsigned pl = (unsigned)pool;
    if (pl > PT_NONPAGED) {
        errno = EINVAL;
        return NULL;
    }
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

void *pt_alloc_aligned(pt_pool pool, size_t size, size_t alignment, uint32_t tag)
{
    return alloc_aligned(pool, size, alignment, tag, CALLER);
}

/* Read n bytes of this process at addr without faulting (an address taken
 * from decoded code, or a pointer a program passed to free, may be
 * unmapped).  0 on success. */
static int peek(uintptr_t addr, void *out, size_t n)
{
    struct iovec local = {out, n}, remote = {(void *)addr, n};
    return syscall(SYS_process_vm_readv, (long)getpid(), &local, 1L, &remote, 1L, 0L) ==
                   (long)n
               ? 0
               : -1;
}

/* Read n bytes at addr, known to be mapped when they lie on the page of
 * `mapped` (an address already read); peek otherwise. */
static int read_near(uintptr_t addr, void *out, size_t n, uintptr_t mapped)
{
    if ((addr >> 12) == (mapped >> 12) && ((addr + n - 1) >> 12) == (mapped >> 12)) {
        memcpy(out, (const void *)addr, n);
        return 0;
    }
    return peek(addr, out, n);
}

/* The header at h (its bytes copied in *hd) does not check as live: was
 * it a block of ours that has been freed?  Returns 1 and the tag (0 when
 * unknown) if so.  See "what survives glibc's bookkeeping" above. */
static int freed_block(const pt_hdr *h, const pt_hdr *hd, uint32_t *tag)
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
    if (freed_block(h, &hd, &tag))
        pt__report(PT_ERR_DOUBLE_FREE, p, tag, 0, 0, 0);
    else
        pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
}

/* Validate the header of p.  Returns 1 when live; otherwise reports and
 * returns 0. */
static inline int header_ok(const pt_hdr *h, const void *p)
{
    if (PT_LIKELY(h->check == check_live(h, h->w0, h->tag)))
        return 1;
    bad_header(h, p);
    return 0;
}

/* Site and tag index of a live block of this epoch. */
static inline uint32_t block_site(uint64_t w0)
{
    return (uint32_t)(w0 >> PT_W0_IDX_SHIFT);
}

static inline uint32_t site_tag_index(uint32_t sidx)
{
    return seg_sites[sidx].tagidx;
}

/* Free a block whose header was validated; give_limit = 0 when the caller
 * already gave its bytes back to the pool maximum (pt_realloc). */
static __attribute__((noinline)) void release_ex(pt_hdr *h, int give_limit)
{
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    uint64_t size = w0 & PT_SIZE_MASK;
    unsigned pool = (unsigned)(w0 >> 40) & 1;
    h->check = check_freed(h, tag);
    if (PT_LIKELY(((w0 >> PT_W0_EPOCH_SHIFT) & PT_W0_EPOCH_MASK) == epoch)) {
        uint32_t sidx = block_site(w0);
        count_free(site_tag_index(sidx), sidx, pool, size);
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

#define W0_SLOW_MASK (PT_W0_POOL | PT_W0_ALIGNED | (PT_W0_EPOCH_MASK << PT_W0_EPOCH_SHIFT))

/* Free a block whose header (w0, tag) was validated.  Fast path: a paged,
 * unaligned block of this epoch, no paged maximum, a private shard. */
#ifdef PT_PRELOAD
static void defer_free(void *p);
#endif

/* pl: called by the preload's free, whose fast path also excludes a signal
 * handler that interrupted the backend (its free is deferred). */
static inline __attribute__((always_inline)) void free_live(pt_hdr *h, uint64_t w0, uint32_t tag,
                                                             int pl)
{
    pt_tls *t = &tls;
    pt_seg_counts *cs = t->counts;
    if (PT_LIKELY((((w0 & W0_SLOW_MASK) ^ epoch_bits) | (uint64_t)lim(PT_PAGED) |
                   (pl ? t->in_be : 0)) == 0 &&
                  cs)) {
        h->check = check_freed(h, tag);
        uint32_t sidx = block_site(w0);
        count_free_in(cs, t->flushed, t->scounts, site_tag_index(sidx), sidx, PT_PAGED,
                      w0 & PT_SIZE_MASK);
        be_free_block(h);
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

void pt_free(void *p)
{
    if (PT_UNLIKELY(!p))
        return;
    pt_hdr *h = (pt_hdr *)p - 1;
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    if (PT_UNLIKELY(h->check != check_live(h, w0, tag))) {
        bad_header(h, p);
        return;
    }
    free_live(h, w0, tag, 0);
}

void pt_free_tag(void *p, uint32_t tag)
{
    if (!p)
        return;
    pt_hdr *h = (pt_hdr *)p - 1;
    if (!header_ok(h, p))
        return;
    if (PT_UNLIKELY(h->tag != effective_tag(tag)))
        pt__report(PT_ERR_TAG_MISMATCH, p, h->tag, tag, h->w0 & PT_SIZE_MASK, 1);
    release(h);
}

/* pt_realloc keeps the block's tag and site.  A block inherited across
 * fork (another epoch) is charged to its tag's "other sites" entry. */
static void *realloc_block(void *p, size_t size, const void *ra)
{
    if (!p)
        return alloc_fast(PT_PAGED, size, 0, 0, ra);
    if (size == 0) {
        pt_free(p);
        return NULL;
    }
    pt_hdr *h = (pt_hdr *)p - 1;
    if (!header_ok(h, p)) {
        errno = EINVAL;
        return NULL;
    }
    uint64_t w0 = h->w0;
    uint32_t tag = h->tag;
    uint64_t old = w0 & PT_SIZE_MASK;
    unsigned pool = (unsigned)(w0 >> 40) & 1;
    int same_epoch = ((w0 >> PT_W0_EPOCH_SHIFT) & PT_W0_EPOCH_MASK) == epoch;
    uint32_t sidx, idx;
    if (same_epoch) {
        sidx = block_site(w0);
    } else {
        uint32_t t = tag_index(tag);
        sidx = site_index(tag, t, NULL);
    }
    idx = site_tag_index(sidx);
    if (size > PT_MAX_REQUEST)
        return fail(idx, pool);
    /* Bytes the old block holds against the pool maximum: only the growth
     * is reserved, so that a shrink at the maximum succeeds. */
    uint64_t held = same_epoch ? old : 0;
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
    if (same_epoch)
        count_free(idx, sidx, pool, old);
    if (held > size)
        limit_give(pool, held - size);
    return finish(nh, pool, size, tag, idx, sidx, 0);
}

void *pt_realloc(void *p, size_t size)
{
    return realloc_block(p, size, CALLER);
}

uint32_t pt_tag_of(const void *p)
{
    if (!p)
        return 0;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    return header_ok(h, p) ? h->tag : 0;
}

size_t pt_size_of(const void *p)
{
    if (!p)
        return 0;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    return header_ok(h, p) ? (size_t)(h->w0 & PT_SIZE_MASK) : 0;
}

pt_pool pt_pool_of(const void *p)
{
    if (!p)
        return PT_PAGED;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    return header_ok(h, p) ? (pt_pool)((h->w0 >> 40) & 1) : PT_PAGED;
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

/* ---- reading ------------------------------------------------------------ */

/* The read API never initialises the runtime (it may run in a signal
 * handler): before the first allocation there is nothing to read. */
static inline int ready(void)
{
    return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == 2;
}

size_t pt_tags_read(pt_tag_info *out, size_t max)
{
    if (!ready())
        return 0;
    pt_seg_header *h = pt__seg;
    size_t n = 0;
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint64_t s1 = __atomic_load_n(&h->fold_seq, __ATOMIC_ACQUIRE);
        /* A fold in progress: wait, unless it never ends because this very
         * thread was interrupted in it; then read as is (last attempt). */
        if ((s1 & 1) && attempt < 999) {
            sched_yield();
            continue;
        }
        uint32_t hw = __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE);
        n = 0;
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
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->fold_seq, __ATOMIC_RELAXED) == s1)
            break;
    }
    return n;
}

int pt_tag_read(uint32_t tag, pt_tag_info *out)
{
    if (!ready() || tag == 0)
        return -1;
    pt_seg_header *h = pt__seg;
    uint32_t hi = (uint32_t)((tag * 0x85ebca6bu) ^ (tag >> 13)) & tag_mask;
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
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint64_t s1 = __atomic_load_n(&h->fold_seq, __ATOMIC_ACQUIRE);
        if ((s1 & 1) && attempt < 999) {
            sched_yield();
            continue;
        }
        pt_seg_sum_entry(seg_base, h, __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE),
                         idx, out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->fold_seq, __ATOMIC_RELAXED) == s1)
            break;
    }
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
    uint64_t total = 0;
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint64_t s1 = __atomic_load_n(&h->fold_seq, __ATOMIC_ACQUIRE);
        if ((s1 & 1) && attempt < 999) {
            sched_yield();
            continue;
        }
        uint32_t hw = __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE);
        total = 0;
        for (uint32_t i = 0; i <= ovfl_idx; i++) {
            if (!__atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE))
                continue;
            pt_tag_info t;
            pt_seg_sum_entry(seg_base, h, hw, i, &t);
            total += t.pool[pool].bytes_alloc - t.pool[pool].bytes_freed;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->fold_seq, __ATOMIC_RELAXED) == s1)
            break;
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
    __atomic_store_n(&limit_on[pool], max_bytes != 0, __ATOMIC_RELEASE);
    return 0;
}

/* ---- the preload's entry points ----------------------------------------- */
#ifdef PT_PRELOAD
/*
 * Allocation on behalf of an unmodified program.  The tag is the scope's
 * (pt_tag_push) or the automatic tag of the module that called the
 * allocator (modules.c): `ra` is the return address in the caller, or the
 * caller of an interposed wrapper such as strdup (tls.site_ra).
 *
 * Before the runtime is ready, and while it sets itself up (dlsym, atfork
 * registration), allocations come from a static bootstrap arena that is
 * never freed; free and realloc recognise its addresses.
 */
#define BOOT_SIZE (1u << 20)
static _Alignas(64) char boot_arena[BOOT_SIZE];
static size_t boot_used;

/* The side arena: allocations made by a signal handler that interrupted
 * the backend (see "Signal handlers"), once the bootstrap arena is full.
 * Reserved (not committed) on first use; bump-allocated, never freed. */
#define SIDE_SIZE (64ul << 20)
static char *side_arena;
static size_t side_used;

static int is_side(const void *p)
{
    const char *s = __atomic_load_n(&side_arena, __ATOMIC_ACQUIRE);
    return s && (const char *)p >= s && (const char *)p < s + SIDE_SIZE;
}

/* One of the two arenas whose blocks are never freed.  (pt__pl_free tests
 * only the bootstrap one first: a side-arena block's 16 bytes never check
 * as a live header, so it takes the slow path, which tests is_side.) */
static int is_boot(const void *p)
{
    if ((const char *)p >= boot_arena && (const char *)p < boot_arena + BOOT_SIZE)
        return 1;
    return is_side(p);
}

static int is_boot_arena(const void *p)
{
    return (const char *)p >= boot_arena && (const char *)p < boot_arena + BOOT_SIZE;
}

/* 16 bytes before each block hold its size. */
static void *bump_alloc(char *arena, size_t cap, size_t *used, size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    size_t need = n ? (n + 15) & ~(size_t)15 : 16;
    size_t off = __atomic_load_n(used, __ATOMIC_RELAXED), start, end;
    do {
        start = ((off + 16 + align - 1) & ~(align - 1));
        end = start + need;
        if (end > cap || end < start) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!__atomic_compare_exchange_n(used, &off, end, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    /* the size where a header's w0 is, and a check value that never
     * matches it: the block is never taken for a live one */
    pt_hdr *h = (pt_hdr *)(arena + start) - 1;
    h->w0 = n;
    h->tag = 0;
    h->check = ~check_live(h, n, 0);
    return arena + start; /* zeroed: fresh memory, never reused */
}

static void *boot_alloc(size_t n, size_t align)
{
    void *p = bump_alloc(boot_arena, BOOT_SIZE, &boot_used, n, align);
    if (p || !tls.in_be)
        return p;
    /* a signal handler's: the side arena (mmap is async-signal-safe) */
    char *s = __atomic_load_n(&side_arena, __ATOMIC_ACQUIRE);
    if (!s) {
        void *m = mmap(NULL, SIDE_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        char *expect = NULL;
        if (__atomic_compare_exchange_n(&side_arena, &expect, (char *)m, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            s = m;
        } else {
            munmap(m, SIDE_SIZE);
            s = expect;
        }
    }
    return bump_alloc(s, SIDE_SIZE, &side_used, n, align);
}

static size_t boot_size(const void *p)
{
    return *(const size_t *)((const char *)p - 16);
}

/* Stack walks (PT_WRAPPERS, PT_BEHALF).  The preload links no unwinder:
 * a libunwind.so dependency would put its _Unwind_* functions (and its
 * `backtrace`) in the place of libgcc_s's and glibc's for the whole
 * program, and thread cancellation and C++ exceptions would go through it.
 * pt__pl_init loads libunwind.so.8 at start, with RTLD_LOCAL (its symbols
 * stay out of the program's scope), when a walk may be needed, and walks
 * with its unw_backtrace, which caches what it learns (about ten times
 * faster here than glibc's backtrace(), libgcc_s's unwinder, which is the
 * fallback: libunwind.so.8 missing, or a walk before the constructor).
 * Allocations made inside a walk (libunwind's dynamic TLS block, the first
 * time a thread walks) are ordinary allocations, charged to their own
 * caller without another walk. */
typedef int (*pt_walk_fn)(void **, int);
static pt_walk_fn unw_walk;

static void stack_walk_load(void)
{
    static int tried;
    if (tried)
        return;
    tried = 1;
    pt_tls *t = &tls;
    uint32_t was = t->busy;
    t->busy = 1; /* the loader's own allocations: the bootstrap arena */
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    void *f = h ? dlsym(h, "unw_backtrace") : NULL;
    t->busy = was;
    if (f)
        __atomic_store_n(&unw_walk, (pt_walk_fn)f, __ATOMIC_RELEASE);
}

static int stack_walk(void **frames, int max)
{
    pt_tls *t = &tls;
    if (t->walking)
        return 0; /* an allocation made by the walk itself */
    t->walking = 1;
    pt_walk_fn f = __atomic_load_n(&unw_walk, __ATOMIC_ACQUIRE);
    int n = f ? f(frames, max) : backtrace(frames, max);
    t->walking = 0;
    return n;
}

/* The first caller outside the user's allocator wrappers (PT_WRAPPERS):
 * `ra` lies in a wrapper, so walk the stack (only on this path) past every
 * wrapper frame. */
static const void *wrapper_caller(const void *ra)
{
    void *frames[32];
    int n = stack_walk(frames, 32), i = 0;
    while (i < n && frames[i] != ra)
        i++;
    while (i < n && pt__mod_in_wrapper(frames[i]))
        i++;
    return i < n ? frames[i] : ra;
}

/* The function that the call instruction ending at return address `ra`
 * called: `call rel32` (through a PLT stub `[endbr64] [bnd] jmp *GOT`,
 * followed once) or `call *GOT(%rip)` (-fno-plt).  0 when it cannot tell
 * (an indirect call through a register, another architecture). */
static uintptr_t call_target(uintptr_t ra)
{
#if defined(__x86_64__)
    unsigned char c[6];
    int32_t d;
    uintptr_t t = 0, slot;
    if (ra < 4096 || peek(ra - 6, c, 6) != 0)
        return 0;
    memcpy(&d, c + 2, 4);
    if (c[1] == 0xe8) {
        t = ra + (uintptr_t)(intptr_t)d;
    } else if (c[0] == 0xff && c[1] == 0x15) {
        if (peek(ra + (uintptr_t)(intptr_t)d, &t, sizeof t) != 0)
            return 0;
        return t;
    } else {
        return 0;
    }
    unsigned char p[16];
    if (peek(t, p, sizeof p) != 0)
        return t;
    size_t o = 0;
    if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
        o = 4; /* endbr64 */
    if (p[o] == 0xf2)
        o++; /* bnd */
    if (p[o] == 0xff && p[o + 1] == 0x25) {
        memcpy(&d, p + o + 2, 4);
        slot = t + o + 6 + (uintptr_t)(intptr_t)d;
        uintptr_t g;
        if (peek(slot, &g, sizeof g) == 0)
            return g;
    }
    return t;
#else
    (void)ra;
    return 0;
#endif
}

/* --behalf (PT_BEHALF): the site of an allocation made at f0 (the return
 * address into the code that called the allocator, after known wrappers).
 * When f0 lies in a module that holds an on-behalf API, the stack is
 * walked (stack_walk, only on this path): from f0 outward, the run of
 * frames inside such modules.  If a frame of the run lies in a named
 * function (or a named module), the site is the caller of the outermost
 * one.  A named function entered by a tail call has no frame of its own:
 * then, if the first frame after the run called a named function (its
 * call instruction, decoded), that frame is the site.  Otherwise the site
 * is f0.  *cache = 0 whenever f0 lies in such a module: the same return
 * address stands for many callers. */
#define BEHALF_FRAMES 128
static const void *behalf_site(const void *f0, int *cache)
{
    int k = pt__mod_behalf_kind(f0);
    if (PT_LIKELY(k == 0))
        return f0;
    *cache = 0;
    void *frames[BEHALF_FRAMES];
    int n = stack_walk(frames, BEHALF_FRAMES);
    int i = 0;
    while (i < n && frames[i] != f0)
        i++;
    int outer = -1;
    for (; i < n; i++) {
        k = pt__mod_behalf_kind(frames[i]);
        if (k == 0)
            break;
        if (k == 2)
            outer = i;
    }
    if (outer >= 0) /* outer + 1 == n: the walk ended inside the API */
        return outer + 1 < n ? frames[outer + 1] : frames[outer];
    if (i < n) {
        uintptr_t callee = call_target((uintptr_t)frames[i]);
        if (callee && pt__mod_behalf_kind((const void *)callee) == 2)
            return frames[i];
    }
    return f0; /* not called through a named function: the API's own */
}

static inline unsigned ra_slot(const void *ra)
{
    return (unsigned)(((uintptr_t)ra * 0x9e3779b97f4a7c15ull) >> 56);
}

static __attribute__((noinline)) void *pl_alloc_slow(size_t size, size_t align,
                                                     const void *ra, int zero)
{
    pt_tls *t = &tls;
    if (PT_UNLIKELY(t->in_be)) /* a signal handler interrupted the backend */
        return boot_alloc(size, align);
    if (PT_UNLIKELY(!ready())) {
        if (t->busy)
            return boot_alloc(size, align);
        t->busy = 1;
        ensure_init();
        t->busy = 0;
    }
    if (PT_UNLIKELY(t->busy))
        return boot_alloc(size, align);
    /* Read before the module lookup: a dlclose from now on makes the
     * cache entry filled below stale. */
    uint32_t gen = __atomic_load_n(&pt__mod_gen, __ATOMIC_ACQUIRE);
    const void *site = t->site_ra ? t->site_ra : ra;
    int wrapped = !t->site_ra && pt__mod_have_wrappers && pt__mod_in_wrapper(ra);
    if (wrapped)
        site = wrapper_caller(ra);
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
        site = behalf_site(site, &cache);
    }
    void *p = align > 16 ? alloc_aligned_at(PT_PAGED, size, align, tag, site, cache)
                         : alloc_slow_at(PT_PAGED, size, tag, zero, site, cache);
    /* A wrapper's return address stands for many sites: never cached. */
    if (!t->cur_tag && !t->site_ra && !wrapped && cache && t->counts) {
        uint32_t tidx, sidx;
        site_of(tag, ra, &tidx, &sidx, 1);
        unsigned s = ra_slot(ra);
        t->racache[s].ra = NULL; /* the key last, as in site_of */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        t->racache[s].tag = tag;
        t->racache[s].tidx = tidx;
        t->racache[s].sidx = sidx;
        t->racache[s].gen = gen;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        t->racache[s].ra = ra;
    }
    return p;
}

static inline __attribute__((always_inline)) void *pl_alloc(size_t size, const void *ra,
                                                              int zero)
{
    pt_tls *t = &tls;
    unsigned s = ra_slot(ra);
    pt_seg_counts *cs = t->counts;
    if (PT_LIKELY(t->racache[s].ra == ra &&
                  ((size >> PT_SIZE_BITS) | (uint64_t)lim(PT_PAGED) | t->cur_tag | t->in_be |
                   (uintptr_t)t->site_ra |
                   (t->racache[s].gen ^ __atomic_load_n(&pt__mod_gen, __ATOMIC_RELAXED))) == 0 &&
                  cs)) {
        return paged_block(t, cs, size, t->racache[s].tag, t->racache[s].tidx,
                           t->racache[s].sidx, zero);
    }
    return pl_alloc_slow(size, 16, ra, zero);
}

__attribute__((visibility("default"))) void *pt__pl_malloc(size_t n, const void *ra)
{
    if (PT_UNLIKELY(!n))
        return pl_alloc_slow(0, 16, ra, 0);
    return pl_alloc(n, ra, 0);
}

__attribute__((visibility("default"))) void *pt__pl_calloc(size_t n, size_t size,
                                                            const void *ra)
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

__attribute__((visibility("default"))) void *pt__pl_memalign(size_t align, size_t n,
                                                             const void *ra)
{
    if (align <= 16 && n)
        return pl_alloc(n, ra, 0);
    return pl_alloc_slow(n, align, ra, 0);
}

/* glibc's own free and malloc_usable_size, for blocks that are not ours. */
static void (*foreign_free)(void *);
static size_t (*foreign_usable)(void *);

static void resolve_foreign(void)
{
    if (foreign_free)
        return;
    void *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (h) {
        foreign_usable = (size_t(*)(void *))dlsym(h, "malloc_usable_size");
        __atomic_store_n(&foreign_free, (void (*)(void *))dlsym(h, "free"), __ATOMIC_RELEASE);
        dlclose(h);
    }
}

/* glibc backend: pooltag's blocks that glibc unmapped when they were freed
 * (or moved, by realloc).  Such a chunk is mmap'd: glibc's pointer is 16
 * bytes into a page, so pooltag's is 32 bytes in (PL_LIBC_MMAP_OFF).  A
 * second free of one must not read its header: the ring remembers the
 * last PL_UNMAPPED of them, and a pointer found here is read with peek. */
#define PL_LIBC_MMAP_OFF 32u
#define PL_UNMAPPED 64u
static uintptr_t unmapped_ring[PL_UNMAPPED];
static unsigned unmapped_n;

static void unmapped_add(const void *p)
{
    unsigned i = __atomic_fetch_add(&unmapped_n, 1, __ATOMIC_RELAXED) % PL_UNMAPPED;
    __atomic_store_n(&unmapped_ring[i], (uintptr_t)p, __ATOMIC_RELAXED);
}

static int unmapped_has(const void *p)
{
    unsigned n = __atomic_load_n(&unmapped_n, __ATOMIC_RELAXED);
    if (n > PL_UNMAPPED)
        n = PL_UNMAPPED;
    for (unsigned i = 0; i < n; i++)
        if (__atomic_load_n(&unmapped_ring[i], __ATOMIC_RELAXED) == (uintptr_t)p)
            return 1;
    return 0;
}

/* Is the glibc chunk of our block with header h mmap'd (glibc's size
 * field, just before its pointer, has IS_MMAPPED)? */
static int libc_chunk_mmapped(const pt_hdr *h)
{
    const void *base = (h->w0 & PT_W0_ALIGNED) ? ((void *const *)h)[-1] : (const void *)h;
    return (((const uint64_t *)base)[-1] & 2) != 0;
}

/* glibc backend: is p, whose preceding 16 bytes are *hd, the pointer of a
 * chunk glibc allocated for someone else (a "foreign" block: glibc's
 * malloc called directly, not through the preload)?  The chunk header must
 * pass the checks glibc's free makes and more: a sane size, for a heap
 * chunk a next chunk that says this one is in use, for an mmap'd chunk a
 * page-aligned mapping that is there.  Returns 1 foreign and live, 2 a
 * foreign chunk glibc already freed (its tcache key), 0 neither (never
 * hand it to glibc's free). */
static int libc_foreign(const void *p, const pt_hdr *hd)
{
    uint64_t s, ps = hd->w0;
    memcpy(&s, &hd->tag, sizeof s);
    uint64_t cs = s & ~(uint64_t)7;
    uintptr_t c = (uintptr_t)p - 16, page = (uintptr_t)pt__seg->page_size;
    if (page < 4096 || (page & (page - 1)))
        page = 4096;
    if (s & 2) {
        uintptr_t off = (uintptr_t)p & (page - 1);
        if ((s & 4) || cs < page || cs > (1ull << 46) || ps >= cs || !off || (off & (off - 1)))
            return 0;
        if (((c - ps) | (ps + cs)) & (page - 1))
            return 0;
        unsigned char last;
        return peek(c + cs - 1, &last, 1) == 0;
    }
    if (cs < 32 || (cs & 15) || cs >= (1ull << 40))
        return 0;
    uint64_t key, next[2];
    if (libc_tcache_key && peek((uintptr_t)p + 8, &key, sizeof key) == 0 &&
        key == libc_tcache_key)
        return 2;
    if (peek(c + cs, next, sizeof next) != 0)
        return 0;
    return (next[1] & 1) && (next[1] & ~(uint64_t)7) >= 16 && next[1] < (1ull << 46);
}

/* pl_classify for the glibc backend. */
static int libc_classify(const void *p)
{
    const pt_hdr *h = (const pt_hdr *)p - 1;
    pt_hdr hd = {0, 0, 0};
    if (((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF && unmapped_has(p) &&
        peek((uintptr_t)h, &hd, sizeof hd) != 0) {
        /* pooltag freed it and glibc unmapped it */
        pt__report(PT_ERR_DOUBLE_FREE, p, 0, 0, 0, 0);
        return -1;
    }
    if (((uintptr_t)p & 15) || read_near((uintptr_t)h, &hd, sizeof hd, (uintptr_t)p) != 0) {
        if (!ready())
            return 0;
        /* glibc's pointers are 16-aligned, and it has none with nothing
         * mapped before it */
        pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
        return -1;
    }
    if (hd.check == check_live(h, hd.w0, hd.tag))
        return 1;
    if (!ready())
        return 0;
    uint32_t tag;
    if (freed_block(h, &hd, &tag)) {
        pt__report(PT_ERR_DOUBLE_FREE, p, tag, 0, 0, 0);
        return -1;
    }
    int f = libc_foreign(p, &hd);
    if (f == 1)
        return 0;
    pt__report(f == 2 ? PT_ERR_DOUBLE_FREE : PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
    return -1;
}

/* Is p plausibly one of ours?  Returns 1 live, 0 not ours (foreign), and
 * reports (returning -1) a double free or a damaged block of our heap. */
static __attribute__((noinline)) int pl_classify(const void *p)
{
    const pt_hdr *h = (const pt_hdr *)p - 1;
    if (backend == PT_BACKEND_LIBC)
        return libc_classify(p);
    /* With mimalloc, a pointer outside mimalloc's heap is glibc's if glibc's
     * chunk header says so; mimalloc may also have given the memory of a
     * large block of ours back (a second free of it). */
    if (!mi_is_in_heap_region(p)) {
        pt_hdr hd = {0, 0, 0};
        if (!ready())
            return 0;
        if (((uintptr_t)p & 15) || peek((uintptr_t)h, &hd, sizeof hd) != 0) {
            pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
            return -1;
        }
        if (hd.check == check_freed(h, hd.tag)) {
            pt__report(PT_ERR_DOUBLE_FREE, p, hd.tag, 0, 0, 0);
            return -1;
        }
        int f = libc_foreign(p, &hd);
        if (f == 1)
            return 0;
        pt__report(f == 2 ? PT_ERR_DOUBLE_FREE : PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
        return -1;
    }
    if (h->check == check_live(h, h->w0, h->tag))
        return 1;
    if (!ready())
        return 0;
    if (h->check == check_freed(h, h->tag)) {
        pt__report(PT_ERR_DOUBLE_FREE, p, h->tag, 0, 0, 0);
        return -1;
    }
    pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
    return -1;
}

static void free_foreign(void *p)
{
    pt_tls *t = &tls;
    uint32_t was = t->busy;
    t->busy = 1;
    resolve_foreign();
    t->busy = was;
    if (foreign_free)
        foreign_free(p);
}

/* A free by a signal handler that interrupted the backend: checked now,
 * freed when the interrupted code leaves the backend (be_leave).  The list
 * runs through the blocks' first 8 bytes (every block has them: see
 * malloc(0)); the freed check value makes a second free before then a
 * double free. */
static __attribute__((noinline)) void defer_free(void *p)
{
    pt_hdr *h = (pt_hdr *)p - 1;
    int c = ((uintptr_t)p & 4095) != pl_slow_off && h->check == check_live(h, h->w0, h->tag)
                ? 1
                : pl_classify(p);
    if (c != 1)
        return; /* reported; or glibc's own block: left alone, glibc may
                   not be entered here */
    h->check = check_freed(h, h->tag);
    *(void **)p = tls.deferred;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.deferred = p;
}

static void drain_deferred(void)
{
    void *p;
    while ((p = __atomic_exchange_n(&tls.deferred, NULL, __ATOMIC_RELAXED)) != NULL) {
        while (p) {
            void *next = *(void **)p;
            pt_hdr *h = (pt_hdr *)p - 1;
            if (backend == PT_BACKEND_LIBC && ((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF &&
                libc_chunk_mmapped(h))
                unmapped_add(p);
            release(h);
            p = next;
        }
    }
}

/* pt__pl_free of a pointer whose header does not check, or may not be
 * readable. */
static __attribute__((noinline)) void pl_free_slow(void *p)
{
    if (is_side(p))
        return;
    if (tls.in_be) { /* a signal handler that interrupted the backend */
        defer_free(p);
        return;
    }
    int c = pl_classify(p);
    if (c == 0)
        free_foreign(p);
    if (c != 1)
        return;
    pt_hdr *h = (pt_hdr *)p - 1;
    if (backend == PT_BACKEND_LIBC && ((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF &&
        libc_chunk_mmapped(h))
        unmapped_add(p);
    release(h);
}

__attribute__((visibility("default"))) void pt__pl_free(void *p)
{
    if (PT_UNLIKELY(!p))
        return;
    if (PT_UNLIKELY(is_boot_arena(p)))
        return;
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
    if (PT_UNLIKELY(h->check != check_live(h, w0, tag))) {
        pl_free_slow(p);
        return;
    }
    free_live(h, w0, tag, 1);
}

__attribute__((visibility("default"))) size_t pt__pl_usable(void *p)
{
    if (!p)
        return 0;
    /* At least 1 for a block of 0 bytes (it has one: see malloc(0)). */
    if (is_boot(p))
        return boot_size(p) ? boot_size(p) : 1;
    int c = ((uintptr_t)p & 4095) == 0 ? pl_classify(p) : -2;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    if (c == 1 || (c == -2 && h->check == check_live(h, h->w0, h->tag))) {
        size_t n = (size_t)(h->w0 & PT_SIZE_MASK);
        return n ? n : 1;
    }
    if (c == -2)
        c = pl_classify(p);
    if (c == 0) {
        resolve_foreign();
        return foreign_usable ? foreign_usable(p) : 0;
    }
    return 0;
}

__attribute__((visibility("default"))) void *pt__pl_realloc(void *p, size_t n,
                                                             const void *ra)
{
    if (!p)
        return n ? pl_alloc(n, ra, 0) : pl_alloc_slow(0, 16, ra, 0);
    if (is_boot(p)) {
        void *q = n ? pl_alloc(n, ra, 0) : pl_alloc_slow(0, 16, ra, 0);
        if (q) {
            size_t old = boot_size(p);
            memcpy(q, p, old < n ? old : n);
        }
        return q;
    }
    if (PT_UNLIKELY(tls.in_be)) {
        /* a signal handler's: a new block from the side arena, the old
         * one's free deferred */
        const pt_hdr *h = (const pt_hdr *)p - 1;
        size_t old = h->check == check_live(h, h->w0, h->tag) ? h->w0 & PT_SIZE_MASK : 0;
        void *q = n ? boot_alloc(n, 16) : NULL;
        if (q)
            memcpy(q, p, old < n ? old : n);
        if (q || !n)
            defer_free(p);
        return q;
    }
    int c = pl_classify(p);
    if (c == 1) {
        if (n == 0) {
            /* glibc frees and returns NULL for realloc(p, 0). */
            pt__pl_free(p);
            return NULL;
        }
        pt_hdr *h = (pt_hdr *)p - 1;
        int mm = backend == PT_BACKEND_LIBC && ((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF &&
                 libc_chunk_mmapped(h);
        void *q = realloc_block(p, n, ra);
        if (mm && q && q != p)
            unmapped_add(p); /* glibc moved it with mremap */
        return q;
    }
    if (c < 0) {
        errno = EINVAL;
        return NULL;
    }
    /* A block of glibc's: freed for realloc(p, 0) as glibc does, else moved
     * into our heap. */
    if (n == 0) {
        free_foreign(p);
        return NULL;
    }
    resolve_foreign();
    size_t old = foreign_usable ? foreign_usable(p) : 0;
    void *q = pl_alloc(n, ra, 0);
    if (q) {
        memcpy(q, p, old < n ? old : n);
        free_foreign(p);
    }
    return q;
}

/* mallinfo & co (src/preload/mallinfo.c): the bytes the program has asked
 * for and not freed, and its live blocks, over every tag and both pools
 * (pooltag's counters; no header or backend rounding).  Returns the
 * backend, or -1 before the runtime is ready. */
__attribute__((visibility("default"))) int pt__pl_heap(uint64_t *in_use, uint64_t *blocks)
{
    *in_use = *blocks = 0;
    if (!ready())
        return -1;
    pt_seg_header *h = pt__seg;
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint64_t s1 = __atomic_load_n(&h->fold_seq, __ATOMIC_ACQUIRE);
        if ((s1 & 1) && attempt < 999) {
            sched_yield();
            continue;
        }
        uint32_t hw = __atomic_load_n(&h->shard_hw, __ATOMIC_ACQUIRE);
        uint64_t b = 0, n = 0;
        for (uint32_t i = 0; i <= ovfl_idx; i++) {
            if (!__atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE))
                continue;
            pt_tag_info t;
            pt_seg_sum_entry(seg_base, h, hw, i, &t);
            for (unsigned p = 0; p < PT_POOL_COUNT; p++) {
                b += t.pool[p].bytes_alloc - t.pool[p].bytes_freed;
                n += t.pool[p].allocs - t.pool[p].frees;
            }
        }
        *in_use = b;
        *blocks = n;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->fold_seq, __ATOMIC_RELAXED) == s1)
            break;
    }
    return backend;
}

/* A function of libc.so.6 itself (glibc's mallinfo2, malloc_trim...), or
 * NULL. */
__attribute__((visibility("default"))) void *pt__pl_libc_sym(const char *name)
{
    pt_tls *t = &tls;
    uint32_t was = t->busy;
    t->busy = 1; /* dlsym may allocate */
    void *f = NULL, *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (h) {
        f = dlsym(h, name);
        dlclose(h);
    }
    t->busy = was;
    return f;
}

/* Wrappers (strdup, asprintf, ...) name their caller as the site. */
__attribute__((visibility("default"))) const void *pt__pl_site_push(const void *ra)
{
    const void *old = tls.site_ra;
    if (!old)
        tls.site_ra = ra;
    return old;
}

__attribute__((visibility("default"))) void pt__pl_site_pop(const void *old)
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

/* After every dlclose of the program: modules that are gone are flagged
 * unloaded and stop matching (tags, PT_BEHALF API ranges, the per-thread
 * caches), so code loaded later at the same address is charged to itself. */
__attribute__((visibility("default"))) void pt__pl_dlclosed(void)
{
    if (ready())
        pt__mod_prune();
}

__attribute__((visibility("default"))) void pt__pl_init(void)
{
    pt_tls *t = &tls;
    if (!ready()) {
        t->busy = 1;
        ensure_init();
        t->busy = 0;
    }
    /* Called from the preload's constructor: load the unwinder now rather
     * than inside some later malloc (see stack_walk). */
    if (pt__mod_have_wrappers || pt__mod_have_behalf)
        stack_walk_load();
}

/* Write the counters to a file at exit (PT_EXIT_REPORT): one line per tag
 * and pool with any activity, "TAG\tPOOL\tALLOCS\tFREES\tBYTES_ALLOC\t
 * BYTES_FREED", without allocating. */
static pt_tag_info exit_rows[4096];

__attribute__((visibility("default"))) void pt__pl_exit_report(const char *pattern)
{
    if (!ready() || !pattern || !*pattern)
        return;
    char path[512];
    pt_buf pb = {path, 0, sizeof path};
    for (const char *c = pattern; *c; c++) {
        if (c[0] == '%' && c[1] == 'p') {
            pt__bputu(&pb, (uint64_t)getpid());
            c++;
        } else {
            char one[2] = {*c, 0};
            pt__bputs(&pb, one);
        }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    size_t n = pt_tags_read(exit_rows, sizeof exit_rows / sizeof exit_rows[0]);
    if (n > sizeof exit_rows / sizeof exit_rows[0])
        n = sizeof exit_rows / sizeof exit_rows[0];
    for (size_t i = 0; i < n; i++) {
        for (unsigned pool = 0; pool < PT_POOL_COUNT; pool++) {
            const pt_counts *c = &exit_rows[i].pool[pool];
            if (!c->allocs && !c->frees)
                continue;
            char line[256];
            pt_buf b = {line, 0, sizeof line};
            char tt[PT_TAG_TEXT_MAX];
            pt__bputs(&b, pt_tag_text(exit_rows[i].tag, tt));
            pt__bputs(&b, pool ? "\tnonpaged\t" : "\tpaged\t");
            pt__bputu(&b, c->allocs);
            pt__bputs(&b, "\t");
            pt__bputu(&b, c->frees);
            pt__bputs(&b, "\t");
            pt__bputu(&b, c->bytes_alloc);
            pt__bputs(&b, "\t");
            pt__bputu(&b, c->bytes_freed);
            pt__bputs(&b, "\n");
            if (write(fd, b.p, b.len) < 0)
                break;
        }
    }
    close(fd);
}
#endif /* PT_PRELOAD */
