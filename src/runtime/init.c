/*
 * init.c — the life of the runtime: the segment, initialisation, the libc
 * binding, fork and thread exit.
 *
 * Read internal.h and rtstate.h (state, invariants) and
 * src/common/segment.h (segment layout and invariants) first.
 *
 * Life of the runtime
 * -------------------
 * 1. The first call that needs a tag index initialises the runtime
 *    (pt__init_slow): options from the environment, the memfd segment, the
 *    pthread key whose destructor releases a thread's shard, the fork
 *    handlers.  Concurrent first callers wait for the one that initialises.
 * 2. A thread's first allocation claims a private shard (alloc.c,
 *    claim_shard); later allocations find the shard and the tag's index in
 *    initial-exec TLS and update counters with plain stores.
 * 3. At thread exit (thread_exit) the thread's unflushed changes go to the
 *    tags' cur/peak and its shard is released with its counts in place; the
 *    next thread that claims the shard adds to them.  Counters only grow.
 * 4. In a fork child the runtime builds a fresh segment and bumps the epoch:
 *    blocks inherited from the parent are freed without being counted, so
 *    the child's table holds only its own allocations and the parent's
 *    counters are not counted twice.
 *
 * Invariants
 * ----------
 *   - The process-wide state defined here is written only by the one
 *     initialiser (before rt_state becomes 2, with release) and by the
 *     fork child handler (the child has one thread); everyone else reads.
 *   - A segment is published by storing its version last (release): a
 *     reader never takes a half-built header for a valid one.
 *   - Only the thread that claimed a shard releases it (thread_exit, its
 *     pthread key destructor), after pushing its unflushed changes.
 *   - fork_lock is held from the prepare handler to the parent handler, so
 *     that no two forks of this process change the runtime at once; the
 *     nonpaged arena lock is taken after it (internal.h, lock order).
 */
#define _GNU_SOURCE
#include "rtstate.h"
#include "unwind_cfi.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* glibc's allocator under its own names.  libmimalloc.so exports malloc
 * and even __libc_malloc, so a plain reference may bind to mimalloc; init
 * looks the functions up in libc.so.6 itself (see libc_resolve). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
void *(*libc_malloc)(size_t) = __libc_malloc;
void *(*libc_calloc)(size_t, size_t) = __libc_calloc;
void *(*libc_realloc)(void *, size_t) = __libc_realloc;
void (*libc_free)(void *) = __libc_free;
uint64_t libc_tcache_key; /* 0: unknown (no tcache) */

/* ---- process-wide state (see rtstate.h) --------------------------------- */

pt_seg_header *pt__seg;               /* NULL until initialised          */
char *seg_base;
static size_t seg_len;
uint32_t *seg_keys;
pt_seg_tagstat *seg_tagstat;
char *seg_shards;
uint64_t seg_stride;
pt_seg_pool *seg_pools;
pt_seg_site *seg_sites;
uint32_t site_mask;
uint32_t site_ovfl;
pt_spin site_lock;
uint32_t site_keep;
uint32_t site_others;
uint32_t tag_mask;
uint32_t ovfl_idx;
uint8_t *gshift;
unsigned gshift_min;
int backend;
unsigned pl_slow_off;
void *(*be_malloc_fn)(size_t) = mi_malloc;
void *(*be_calloc_fn)(size_t, size_t) = mi_calloc;
void *(*be_realloc_fn)(void *, size_t) = mi_realloc;
void (*be_free_fn)(void *) = mi_free;
uint64_t secret;
uint64_t epoch;
uint64_t epoch_bits;
uint32_t pt__age_now;
pt_seg_age_live *seg_ages;
uint64_t age_due;
int limit_on[PT_POOL_COUNT];
/* The special region (special.c): beside the other words every free reads,
 * so that sp_mine touches no cache line of its own. */
uintptr_t pt__sp_lo;
/* (aligned: gcc places later definitions at lower addresses, so this one
 * starts a cache line and backend .. pt__sp_len, 56 bytes, share it:
 * checked with nm in both builds) */
uintptr_t pt__sp_len __attribute__((aligned(64)));
int rt_state;
/* The initialiser's PID lives in the state word itself, set by the same
 * compare-and-swap that elects it, so a waiting thread can never see
 * "initialising" without also seeing by whom (a fork child tells its
 * parent's unfinished initialisation from a sibling thread's by it). */
#define INIT_BY(pid) ((int)(((unsigned)(pid) << 2) | 1u))
pthread_key_t exit_key;
int key_ok;
/* Taken only around fork (the prepare handler holds it until the parent
 * handler), so that two threads never fork at once into a half-changed
 * runtime.  Kept off the line of the read-mostly globals above, which
 * every allocation reads. */
static pt_spin fork_lock __attribute__((aligned(64)));

__thread pt_tls tls __attribute__((tls_model("initial-exec")));

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

int pt__peek(uintptr_t addr, void *out, size_t n)
{
    struct iovec local = {out, n}, remote = {(void *)addr, n};
    return syscall(SYS_process_vm_readv, (long)getpid(), &local, 1L, &remote, 1L, 0L) ==
                   (long)n
               ? 0
               : -1;
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
    uint32_t max_sites = pt__opt.max_sites;
    uint64_t nsites = (uint64_t)max_sites + 1;
    uint64_t sites_off = off;
    off += nsites * sizeof(pt_seg_site);
    uint64_t modules_off = off;
    off += (uint64_t)pt__opt.max_modules * sizeof(pt_seg_module);
    /* Live bytes and blocks by age epoch and site (segment.h, "Age
     * epochs"): touched only for the epochs and sites that have some;
     * before the shards, so that a reader's copy (up to the last shard in
     * use) holds it. */
    off = pt_seg_align(off, 4096);
    uint64_t ages_off = off;
    off += (uint64_t)PT_AGE_EPOCHS * nsites * sizeof(pt_seg_age_live);
    off = pt_seg_align(off, 4096);
    uint64_t shards_off = off;
    uint64_t stride = pt_seg_shard_stride_ages(max_tags, max_sites);
    off += stride * max_shards;
    /* Stacks, hit tags and pool tracking (segment.h; trace.c): reserved at
     * their full capacities, touched only when used (the memfd is sparse:
     * pages nobody wrote take no memory). */
    off = pt_seg_align(off, 4096);
    uint64_t control_off = off;
    off += 4096;
    uint32_t max_stacks = pt__opt.max_stacks;
    uint64_t max_frames = 16ull * max_stacks;
    if (max_frames > PT_STK_OFF_MASK + 1)
        max_frames = PT_STK_OFF_MASK + 1;
    uint64_t stacks_off = off;
    off += (uint64_t)max_stacks * sizeof(uint64_t);
    uint64_t frames_off = off;
    off += max_frames * sizeof(uint64_t);
    uint64_t rings_off = off;
    off += PT_SEG_NRINGS * sizeof(pt_seg_ring);
    uint32_t ring_cap[PT_SEG_NRINGS] = {pt__opt.hit_ring, pt__opt.verify_log};
    uint64_t ring_recs[PT_SEG_NRINGS];
    for (unsigned r = 0; r < PT_SEG_NRINGS; r++) {
        ring_recs[r] = off;
        off += (uint64_t)ring_cap[r] * sizeof(pt_seg_rec);
    }
    off = pt_seg_align(off, PT_SEG_LINE);
    uint64_t vstats_off = off;
    off += (uint64_t)pt__opt.max_modules * sizeof(pt_seg_vstat);
    uint64_t tracked_off = off;
    off += (uint64_t)pt__opt.max_tracked * sizeof(pt_seg_tracked);
    off = pt_seg_align(off, PT_SEG_LINE);
    uint64_t leaks_off = off;
    off += PT_SEG_LEAKS * sizeof(pt_seg_leak);
    /* The special pool's settings page, its block records and reports
     * (special.c): one record per two pages of the largest pool. */
    off = pt_seg_align(off, 4096);
    uint64_t special_off = off;
    off += 4096;
    uint32_t max_special = PT_SP_MAX_PAGES / 2;
    uint64_t spblk_off = off;
    off += (uint64_t)max_special * sizeof(pt_seg_spblk);
    uint64_t spreports_off = off;
    off += PT_SEG_SPREPORTS * sizeof(pt_seg_spreport);
    size_t len = (size_t)pt_seg_align(off, 4096);

    int fd = (int)syscall(SYS_memfd_create, PT_SEG_MEMFD_NAME, 1u /* MFD_CLOEXEC */);
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
    h->shards_off = shards_off;
    h->shard_stride = stride;
    h->peak_grain = pt__opt.peak_grain;
    h->on_error = (uint32_t)pt__opt.on_error;
    read_self("/proc/self/comm", h->comm, sizeof h->comm, 0);
    read_self("/proc/self/exe", h->exe, sizeof h->exe, 1);
    h->modules_off = modules_off;
    h->max_modules = pt__opt.max_modules;
    h->sites_off = sites_off;
    h->max_sites = max_sites;
#ifdef PT_PRELOAD
    h->flags |= PT_SEGF_PRELOAD;
#endif
    h->check_key = secret;
    h->flags |= PT_SEGF_CHECK_KEY;
    /* Age epochs: epoch 0 begins now (a fork child then takes its parent's
     * epochs, fork_child). */
    h->ages_off = ages_off;
    h->age_epochs = PT_AGE_EPOCHS;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    h->age_start_mono[0] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    h->age_start_real[0] = h->start_ns;
    h->flags |= PT_SEGF_AGES;
    h->flags |= PT_SEGF_SITE_COUNTS; /* alloc.c counts per site only */
    h->control_off = control_off;
    h->kick_addr = (uint64_t)(uintptr_t)&limit_on[PT_PAGED];
    h->stacks_off = stacks_off;
    h->frames_off = frames_off;
    h->max_stacks = max_stacks;
    h->max_frames = (uint32_t)max_frames;
    h->rings_off = rings_off;
    pt_seg_ring *rings = (pt_seg_ring *)((char *)p + rings_off);
    for (unsigned r = 0; r < PT_SEG_NRINGS; r++) {
        rings[r].records_off = ring_recs[r];
        rings[r].cap = ring_cap[r];
        rings[r].size = ring_cap[r];
    }
    h->vstats_off = vstats_off;
    h->tracked_off = tracked_off;
    h->max_tracked = pt__opt.max_tracked;
    h->max_depth = PT_SEG_DEPTH_LIMIT;
    h->leaks_off = leaks_off;
    h->special_off = special_off;
    h->spblk_off = spblk_off;
    h->spreports_off = spreports_off;
    h->max_special = max_special;
    pt_seg_special *spc = (pt_seg_special *)((char *)p + special_off);
    spc->quarantine = pt__opt.quarantine;
    spc->max_pages = pt__opt.special_max_pages;
    pt_seg_control *ctl = (pt_seg_control *)((char *)p + control_off);
    ctl->hit_ring = ring_cap[PT_RING_HIT];
    ctl->verify_log = ring_cap[PT_RING_VERIFY];
    ctl->depth = pt__opt.stack_depth;

    /* The mapping keeps the memfd alive; the descriptor itself would be
     * visible to the program (a child listing its fds would see it, and it
     * would take the lowest free number).  Readers use /proc/PID/map_files
     * or /proc/PID/mem instead. */
    if (fd >= 0)
        close(fd);
    seg_base = p;
    seg_len = len;
    seg_keys = (uint32_t *)(seg_base + keys_off);
    seg_tagstat = (pt_seg_tagstat *)(seg_base + tagstat_off);
    seg_shards = seg_base + shards_off;
    seg_stride = stride;
    seg_pools = (pt_seg_pool *)(seg_base + pools_off);
    seg_sites = (pt_seg_site *)(seg_base + sites_off);
    seg_ages = (pt_seg_age_live *)(seg_base + ages_off);
    pt__age_now = 0;
    age_due = pt_age_due(h->age_start_mono[0], h->age_start_mono[0]);
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
    /* (the kick word: a fresh segment has no control change pending) */
    limit_on[PT_PAGED] = pt__opt.paged_max != 0 ? (int)PT_KICK_LIMIT : 0;
    limit_on[PT_NONPAGED] = pt__opt.nonpaged_max != 0;

    /* Publish: the version goes last so a reader never sees a half-built
     * header as valid. */
    __atomic_store_n(&h->version, PT_SEG_VERSION, __ATOMIC_RELEASE);
    __atomic_store_n(&pt__seg, h, __ATOMIC_RELEASE);
    return 0;
}

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
    uint32_t took = (uint32_t)pt__spin_lock_unless_mine(&fork_lock);
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
            pt__spin_unlock(&fork_lock);
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
    fork_lock.v = 0;
    site_lock.v = 0;
    pt__sp_fork_child(); /* the special pool's lock (special.c) */
    char *old = seg_base;
    size_t old_len = seg_len;
    uint64_t limits[PT_POOL_COUNT] = {seg_pools[0].limit, seg_pools[1].limit};
    uint32_t cur_tag = tls.cur_tag;
    epoch = (epoch + 1) & PT_W0_EPOCH_MASK;
    epoch_bits = epoch << PT_W0_EPOCH_SHIFT;
    /* The parent's control settings (hit stays on in the child); its
     * stacks, rings and tracked blocks stay with it. */
    pt_seg_control parent_ctl;
    const pt_seg_header *oh = (const pt_seg_header *)old;
    int have_ctl = oh && oh->control_off;
    if (have_ctl)
        memcpy(&parent_ctl, old + oh->control_off, sizeof parent_ctl);
    pt_cfi_fork_child(); /* walks that were in flight in the parent's other threads */
    if (segment_create() == 0) {
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            seg_pools[p].limit = limits[p];
            limit_on[p] = limits[p] != 0;
        }
        pt__mod_fork_child(pt__seg);
        /* The special pool's settings, statistics and block records: the
         * child has the parent's special blocks (its region is inherited). */
        if (oh && oh->special_off && pt__seg->special_off) {
            const pt_seg_special *os = (const pt_seg_special *)(old + oh->special_off);
            memcpy((char *)pt__seg + pt__seg->special_off, os, sizeof *os);
            uint64_t hw = os->blk_hw;
            if (hw > oh->max_special)
                hw = oh->max_special;
            if (hw > pt__seg->max_special)
                hw = pt__seg->max_special;
            memcpy((char *)pt__seg + pt__seg->spblk_off, old + oh->spblk_off,
                   hw * sizeof(pt_seg_spblk));
        }
        if (have_ctl)
            pt__tr_fork_child(&parent_ctl);
        /* The parent's age epochs: the inherited blocks carry their stamps
         * (and are not counted here: another fork epoch). */
        if (oh && (oh->flags & PT_SEGF_AGES) && oh->age_now < PT_AGE_EPOCHS) {
            uint32_t n = oh->age_now;
            memcpy(pt__seg->age_start_mono, oh->age_start_mono, sizeof oh->age_start_mono);
            memcpy(pt__seg->age_start_real, oh->age_start_real, sizeof oh->age_start_real);
            __atomic_store_n(&pt__seg->age_now, n, __ATOMIC_RELEASE);
            pt__age_now = n;
            age_due = pt_age_due(oh->age_start_mono[n], oh->age_start_mono[0]);
        }
        pt__age_busy = 0;
        munmap(old, old_len);
    }
    /* else: keep counting into the parent's segment rather than crash.
     * (Both processes then share one table; mapping failed, so the system
     * is out of memory anyway.)  Its age epochs are the parent's: this
     * process neither begins them nor moves counts between them. */
    else
        seg_ages = NULL;
    tls_reset();
    tls.cur_tag = cur_tag;
    tls.fork_depth = fork_depth;
    tls.fork_took = fork_took;
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
    PT_ASSERT(sh->tid == tls.tid); /* the shard is this thread's */
    for (uint32_t i = 0; i <= ovfl_idx; i++) {
        if (!__atomic_load_n(&seg_keys[i], __ATOMIC_RELAXED))
            continue;
        for (unsigned p = 0; p < PT_SEG_NPOOLS; p++)
            if (tls.flushed[2 * i + p] != 0) /* unflushed change */
                pt__flush(i, p);
    }
    __atomic_fetch_add(&h->threads_exited, 1, __ATOMIC_RELAXED);
    sh->tid = 0;
    __atomic_store_n(&sh->state, PT_SHARD_FREE, __ATOMIC_RELEASE);
    tls.counts = NULL;
    tls.flushed = NULL;
    tls.scounts = NULL;
    tls.ts = TS_DEAD;
}

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

void pt__init_slow(void)
{
    int expect = 0;
    if (__atomic_compare_exchange_n(&rt_state, &expect, INIT_BY(getpid()), 0,
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
            be_malloc_fn = libc_malloc;
            be_calloc_fn = libc_calloc;
            be_realloc_fn = libc_realloc;
            be_free_fn = libc_free;
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
        pt__tr_init(); /* PT_HIT, PT_VERIFY: in effect from the first allocation */
        if (pt__opt.verbose)
            pt__options_print();
        __atomic_store_n(&rt_state, 2, __ATOMIC_RELEASE);
        return;
    }
    int st;
    while ((st = __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE)) != 2) {
        /* A fork by another thread while it was initialising leaves the
         * child single-threaded, initialising, with nobody to finish: start
         * again (the half-built segment, if any, is abandoned).  A sibling
         * thread's initialisation carries this process's own PID. */
        if ((st & 1) && st != INIT_BY(getpid())) {
            if (__atomic_compare_exchange_n(&rt_state, &st, 0, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                pt__seg = NULL;
                pt__init_slow();
                return;
            }
        }
        sched_yield();
    }
}

