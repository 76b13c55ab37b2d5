/*
 * trace.c — call stacks, hit tags (PoolHitTag) and pool tracking (Driver
 * Verifier) inside the process: the control block, stack capture, the
 * stack table, the rings, tracked blocks, module statistics and leak
 * reports (issue 11).
 *
 * Read src/common/segment.h ("Stacks, hit tags and pool tracking") for the
 * layout and the protocols, rtstate.h for where the allocation paths call
 * in, internal.h for the traced block's layout (PT_W0_TRACED).
 *
 * Data model
 * ----------
 * The control block's settings are written from outside (pooltag hit /
 * verify through /proc/PID/mem) or at start from PT_HIT / PT_VERIFY, then
 * the kick word is ORed with PT_KICK_CONTROL.  The next slow path of any
 * thread applies them (pt__ctl_apply): it validates them, copies them into
 * this file's private state (hit_pat, vglob, depth...), recomputes the
 * private hit bit of every tag entry and the verify flag of every module
 * record, restarts a ring whose size changed, and bumps pt__mod_gen so that
 * every thread's site caches refill (a traced site is never cached, so its
 * allocations reach the slow path, and its blocks carry PT_W0_TRACED, so
 * their frees do too).
 *
 * Invariants
 * ----------
 *   - Nothing here allocates, takes a lock or waits: apply is a try-flag
 *     (a thread that finds another applying goes on), the stack table,
 *     the rings and the tracked free list are lock-free.
 *   - A trace event inside a trace event (a signal handler that allocates
 *     during a capture, or an allocation made by the capture itself) makes
 *     no capture and no ring record; tracked records and statistics are
 *     still kept (tls.tracing).
 *   - Every field read from the control block's outside part is
 *     validated; a bad one is refused (bad_settings), the previous value
 *     kept.
 *   - A tracked record is published by writing its addr last and freed by
 *     clearing addr before it goes back on the free list.
 */
#define _GNU_SOURCE
#include "rtstate.h"
#include "ptglob.h"
#include "unwind_cfi.h"

#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int pt__tr_on;

/* ---- the current segment's regions (set by bind) ----------------------- */
static pt_seg_control *ctl;
static uint64_t *stk_slots;
static uint64_t *stk_frames;
static uint32_t stk_mask, frames_max;
static pt_seg_ring *rings;
static pt_seg_vstat *vstats;
static pt_seg_tracked *tracked;
static uint32_t max_tracked, max_mods;
static pt_seg_leak *leaks;
static int tr_ready;

/* ---- private state ------------------------------------------------------ */
static uint8_t *hit_bits;   /* per tag entry: matches a hit pattern now   */
static uint8_t *mod_verify; /* per module record: verified now            */
static int applying;        /* try-flag of pt__ctl_apply                  */
static char hit_pat[PT_CTL_HIT_MAX][PT_CTL_PAT_LEN];
static uint32_t hit_n, hit_flags;
static char vglob[PT_CTL_VERIFY_MAX][PT_CTL_GLOB_LEN];
static uint32_t verify_n;
static uint32_t depth = 32;
static uintptr_t self_lo, self_hi; /* the runtime's own module, 0: unknown */
static int leaked_any;             /* a leak was reported (PT_FAIL_ON_LEAK) */
static uint32_t trap_lines;

/* The number of frames walked past the runtime's own: enough for its
 * deepest path (interposer, entry point, slow path, capture). */
#define CAPTURE_EXTRA 24
#define PROBE_MAX 256u

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

/* The time of an event record: the kernel's tick-resolution clock (4 ms
 * here), 3 ns against CLOCK_REALTIME's 30 ns under kvm-clock, which was a
 * sixth of the cost of verifying every allocation.  Records are ordered by
 * their sequence number, not by time. */
static uint64_t event_ns(void)
{
    return clock_ns(CLOCK_REALTIME_COARSE);
}

static uint32_t my_tid(void)
{
    if (!tls.tr_tid)
        tls.tr_tid = pt__gettid();
    return tls.tr_tid;
}

static void bind(pt_seg_header *h)
{
    char *b = (char *)h;
    ctl = (pt_seg_control *)(b + h->control_off);
    stk_slots = (uint64_t *)(b + h->stacks_off);
    stk_frames = (uint64_t *)(b + h->frames_off);
    stk_mask = h->max_stacks - 1;
    frames_max = h->max_frames;
    rings = (pt_seg_ring *)(b + h->rings_off);
    vstats = (pt_seg_vstat *)(b + h->vstats_off);
    tracked = (pt_seg_tracked *)(b + h->tracked_off);
    max_tracked = h->max_tracked;
    max_mods = h->max_modules;
    leaks = (pt_seg_leak *)(b + h->leaks_off);
    pt__spc = h->special_off ? (pt_seg_special *)(b + h->special_off) : NULL;
}

static pt_seg_module *mod_records(void)
{
    return (pt_seg_module *)((char *)pt__seg + pt__seg->modules_off);
}

/* ---- matching ------------------------------------------------------------ */

static int tag_hit(uint32_t tag)
{
    for (uint32_t i = 0; i < hit_n; i++)
        if (pt_tag_glob(hit_pat[i], tag))
            return 1;
    return 0;
}

static int mod_match(const char *path)
{
    for (uint32_t i = 0; i < verify_n; i++)
        if (pt_module_glob(vglob[i], path))
            return 1;
    return 0;
}

static void set_verified(uint32_t rec, int on)
{
    mod_verify[rec] = (uint8_t)on;
    uint32_t *f = &vstats[rec].flags;
    if (on)
        __atomic_fetch_or(f, PT_VS_VERIFIED | PT_VS_EVER, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(f, ~PT_VS_VERIFIED, __ATOMIC_RELAXED);
}

void pt__tr_tag_added(uint32_t idx, uint32_t tag)
{
    if (tr_ready && hit_n && idx <= ovfl_idx && tag_hit(tag)) {
        __atomic_store_n(&hit_bits[idx], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&ctl->hit_matched, 1, __ATOMIC_RELAXED);
    }
}

void pt__tr_mod_added(uint32_t rec)
{
    if (!tr_ready || rec >= max_mods)
        return;
    const pt_seg_module *m = &mod_records()[rec];
    if (verify_n && !(m->flags & PT_MOD_UNLOADED) && mod_match(m->path))
        set_verified(rec, 1);
}

unsigned pt__tr_classify(uint32_t tidx, const void *site, uint32_t *rec)
{
    unsigned k = 0;
    if (hit_n && tidx <= ovfl_idx && __atomic_load_n(&hit_bits[tidx], __ATOMIC_RELAXED))
        k |= PT_TR_HIT;
    uint32_t r = UINT32_MAX;
    if ((verify_n || rec) && site)
        r = pt__mod_rec(site);
    if (verify_n && r < max_mods && __atomic_load_n(&mod_verify[r], __ATOMIC_RELAXED))
        k |= PT_TR_VERIFY;
    if (__atomic_load_n(&pt__sp_on, __ATOMIC_RELAXED) |
        __atomic_load_n(&pt__fi_on, __ATOMIC_RELAXED)) {
        if (r == UINT32_MAX && site)
            r = pt__mod_rec(site);
        k |= pt__sp_classify(tidx, r) | pt__fi_classify(tidx, r);
    }
    if (rec)
        *rec = r;
    return k;
}

/* ---- applying the control block ------------------------------------------ */

/* Copy a string field written from outside: 0 if it holds a NUL within
 * cap bytes and is not empty. */
static int copy_field(char *dst, const char *src, size_t cap)
{
    char tmp[PT_CTL_GLOB_LEN];
    memcpy(tmp, src, cap);
    size_t n = 0;
    while (n < cap && tmp[n])
        n++;
    if (n == 0 || n == cap)
        return -1;
    memcpy(dst, tmp, n + 1);
    return 0;
}

static void ring_restart(unsigned r, uint32_t size)
{
    pt_seg_ring *R = &rings[r];
    if (__atomic_load_n(&R->size, __ATOMIC_RELAXED) == size)
        return;
    __atomic_store_n(&R->size, size, __ATOMIC_RELEASE);
    __atomic_store_n(&R->base, __atomic_load_n(&R->head, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

/* Apply the settings (the caller holds `applying`, or is alone). */
static void apply_now(void)
{
    uint64_t gen = __atomic_load_n(&ctl->gen, __ATOMIC_ACQUIRE);
    uint32_t bad = 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);

    uint32_t n = __atomic_load_n(&ctl->hit_n, __ATOMIC_RELAXED);
    char pats[PT_CTL_HIT_MAX][PT_CTL_PAT_LEN];
    int ok = n <= PT_CTL_HIT_MAX;
    for (uint32_t i = 0; ok && i < n; i++)
        ok = copy_field(pats[i], ctl->hit_pat[i], PT_CTL_PAT_LEN) == 0;
    if (ok) {
        memcpy(hit_pat, pats, sizeof pats);
        __atomic_store_n(&hit_n, n, __ATOMIC_RELEASE);
    } else {
        bad++;
    }
    uint32_t fl = __atomic_load_n(&ctl->hit_flags, __ATOMIC_RELAXED);
    if (fl & ~PT_HITF_TRAP)
        bad++;
    else
        hit_flags = fl;

    n = __atomic_load_n(&ctl->verify_n, __ATOMIC_RELAXED);
    char globs[PT_CTL_VERIFY_MAX][PT_CTL_GLOB_LEN];
    ok = n <= PT_CTL_VERIFY_MAX;
    for (uint32_t i = 0; ok && i < n; i++)
        ok = copy_field(globs[i], ctl->verify_glob[i], PT_CTL_GLOB_LEN) == 0;
    if (ok) {
        memcpy(vglob, globs, sizeof globs);
        __atomic_store_n(&verify_n, n, __ATOMIC_RELEASE);
    } else {
        bad++;
    }

    uint32_t d = __atomic_load_n(&ctl->depth, __ATOMIC_RELAXED);
    if (d < 1 || d > pt__seg->max_depth)
        bad++;
    else
        depth = d;
    uint32_t want[PT_SEG_NRINGS] = {__atomic_load_n(&ctl->hit_ring, __ATOMIC_RELAXED),
                                    __atomic_load_n(&ctl->verify_log, __ATOMIC_RELAXED)};
    for (unsigned r = 0; r < PT_SEG_NRINGS; r++) {
        if (want[r] < 1 || want[r] > rings[r].cap)
            bad++;
        else
            ring_restart(r, want[r]);
    }

    /* Hit bits of every tag entry, verify flags of every module record. */
    uint32_t hm = 0, vm = 0;
    for (uint32_t i = 0; i <= ovfl_idx; i++) {
        uint32_t k = __atomic_load_n(&seg_keys[i], __ATOMIC_ACQUIRE);
        uint8_t b = k && hit_n && tag_hit(k);
        __atomic_store_n(&hit_bits[i], b, __ATOMIC_RELAXED);
        hm += b;
    }
    uint32_t nrec = __atomic_load_n(&pt__seg->modules_used, __ATOMIC_ACQUIRE);
    const pt_seg_module *m = mod_records();
    for (uint32_t i = 0; i < nrec && i < max_mods; i++) {
        int on = verify_n && !(m[i].flags & PT_MOD_UNLOADED) && mod_match(m[i].path);
        if (on || mod_verify[i])
            set_verified(i, on);
        vm += (uint32_t)on;
    }
    /* the special pool and fault injection (special.c, fault.c) */
    if (pt__spc) {
        bad += pt__sp_apply();
        bad += pt__fi_apply();
    }
    __atomic_store_n(&pt__tr_on,
                     hit_n || verify_n || __atomic_load_n(&pt__sp_on, __ATOMIC_RELAXED) ||
                         __atomic_load_n(&pt__fi_on, __ATOMIC_RELAXED),
                     __ATOMIC_RELEASE);

    ctl->hit_matched = hm;
    ctl->verify_matched = vm;
    ctl->bad_settings = bad;
    ctl->applied_ns = now_ns();
    __atomic_store_n(&ctl->applied_gen, gen, __ATOMIC_RELEASE);
    /* Last: every thread's site caches miss and classify again. */
    __atomic_fetch_add(&pt__mod_gen, 1, __ATOMIC_RELEASE);
}

void pt__ctl_apply(void)
{
    if (!__atomic_load_n(&tr_ready, __ATOMIC_ACQUIRE))
        return;
    /* (a plain load first: while one thread applies, the others pass
     * without writing the flag's line) */
    if (__atomic_load_n(&applying, __ATOMIC_RELAXED) ||
        __atomic_exchange_n(&applying, 1, __ATOMIC_ACQUIRE))
        return; /* another thread (or the code this handler interrupted) */
    /* Clear first: a change written while we apply kicks again. */
    __atomic_fetch_and(&limit_on[PT_PAGED], ~(int)PT_KICK_CONTROL, __ATOMIC_ACQ_REL);
    apply_now();
    __atomic_store_n(&applying, 0, __ATOMIC_RELEASE);
}

/* ---- start-up and fork ---------------------------------------------------- */

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    int *first = arg;
    int main_prog = *first;
    *first = 0;
    uintptr_t me = (uintptr_t)&find_self, lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
    }
    if (me < lo || me >= hi)
        return 0;
    /* Linked statically into the program: its frames cannot be told from
     * the program's by module (captures then rely on the site's address). */
    if (!main_prog) {
        self_lo = lo;
        self_hi = hi;
    }
    return 1;
}

/* Split a LIST variable (commas or spaces) into fields of at most cap - 1
 * characters; longer ones are refused with a warning. */
static uint32_t env_list(pt_opt_id id, char *out, size_t cap, uint32_t max)
{
    const char *v = pt__opt_env(id);
    uint32_t n = 0;
    if (!v)
        return 0;
    while (*v && n < max) {
        while (*v == ',' || *v == ' ')
            v++;
        const char *e = v;
        while (*e && *e != ',' && *e != ' ')
            e++;
        size_t len = (size_t)(e - v);
        if (len >= cap) {
            pt__warn("ignoring a pattern that is too long in ", pt_opt_table[id].name);
        } else if (len) {
            memcpy(out + (size_t)n * cap, v, len);
            out[(size_t)n * cap + len] = 0;
            n++;
        }
        v = e;
    }
    return n;
}

static void *private_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void pt__tr_init(void)
{
    pt_seg_header *h = pt__seg;
    if (!h->control_off)
        return;
    bind(h);
    hit_bits = private_map((size_t)h->max_tags + 1);
    mod_verify = private_map(h->max_modules);
    if (!hit_bits || !mod_verify) {
        pt__warn("no memory for hit tags and pool tracking; they stay off", NULL);
        return;
    }
    int first = 1;
    dl_iterate_phdr(find_self, &first);
    /* PT_HIT, PT_HIT_TRAP, PT_VERIFY: as if an outside writer (pid 0) had
     * written them, applied now, before the first allocation is served. */
    uint32_t hn = env_list(PT_OPT_HIT, &ctl->hit_pat[0][0], PT_CTL_PAT_LEN, PT_CTL_HIT_MAX);
    uint32_t vn = env_list(PT_OPT_VERIFY, &ctl->verify_glob[0][0], PT_CTL_GLOB_LEN,
                           PT_CTL_VERIFY_MAX);
    const char *trap = pt__opt_env(PT_OPT_HIT_TRAP);
    ctl->hit_n = hn;
    ctl->verify_n = vn;
    ctl->hit_flags = trap && strcmp(trap, "1") == 0 ? PT_HITF_TRAP : 0;
    ctl->writer_pid = 0;
    ctl->writer_uid = (uint32_t)getuid();
    int sx = pt__spc ? pt__sp_env() | pt__fi_env() : 0;
    if (hn || vn || sx)
        ctl->gen = 1;
    __atomic_store_n(&tr_ready, 1, __ATOMIC_RELEASE);
    apply_now();
}

void pt__tr_fork_child(const pt_seg_control *parent)
{
    if (!hit_bits || !mod_verify || !pt__seg->control_off)
        return;
    bind(pt__seg);
    memset(hit_bits, 0, (size_t)pt__seg->max_tags + 1);
    memset(mod_verify, 0, pt__seg->max_modules);
    memcpy(ctl, parent, offsetof(pt_seg_control, applied_gen));
    applying = 0;
    leaked_any = 0;
    trap_lines = 0;
    apply_now();
}

/* ---- the stack table -------------------------------------------------------- */

static uint64_t stack_hash(const uint64_t *f, uint32_t n)
{
    uint64_t x = 0x9e3779b97f4a7c15ull ^ n;
    for (uint32_t i = 0; i < n; i++) {
        x ^= f[i];
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 32;
    }
    return x;
}

/* The id of the stack f[0..n) (inserted when new), 0 when the table or
 * the frame array is full. */
static uint32_t stack_insert(const uint64_t *f, uint32_t n)
{
    uint64_t hsh = stack_hash(f, n);
    uint64_t hi = hsh >> 32 ? hsh >> 32 : 1;
    uint32_t start = (uint32_t)hsh & stk_mask;
    uint64_t off = UINT64_MAX;
    for (uint32_t probe = 0; probe <= stk_mask && probe < PROBE_MAX; probe++) {
        uint32_t i = (start + probe) & stk_mask;
        uint64_t v = __atomic_load_n(&stk_slots[i], __ATOMIC_ACQUIRE);
        if (v == 0) {
            if (off == UINT64_MAX) {
                /* take n frames, write them, then publish the slot */
                uint64_t used = __atomic_load_n(&ctl->frames_used, __ATOMIC_RELAXED);
                do {
                    if (used + n > frames_max) {
                        __atomic_fetch_add(&ctl->stacks_dropped, 1, __ATOMIC_RELAXED);
                        return 0;
                    }
                } while (!__atomic_compare_exchange_n(&ctl->frames_used, &used, used + n, 1,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
                off = used;
                for (uint32_t k = 0; k < n; k++)
                    __atomic_store_n(&stk_frames[off + k], f[k], __ATOMIC_RELAXED);
            }
            uint64_t nv = off | ((uint64_t)n << PT_STK_DEPTH_SHIFT) | (hi << PT_STK_HASH_SHIFT);
            if (__atomic_compare_exchange_n(&stk_slots[i], &v, nv, 0, __ATOMIC_RELEASE,
                                            __ATOMIC_ACQUIRE)) {
                __atomic_fetch_add(&ctl->stacks_used, 1, __ATOMIC_RELAXED);
                return i + 1;
            }
            /* another thread took the slot: v is its value (our frames,
             * if the same stack, stay unused: frames_used counts them) */
        }
        if ((v >> PT_STK_HASH_SHIFT) == hi && pt_stk_depth(v) == n) {
            const uint64_t *g = &stk_frames[pt_stk_off(v)];
            uint32_t k = 0;
            while (k < n && __atomic_load_n(&g[k], __ATOMIC_RELAXED) == f[k])
                k++;
            if (k == n)
                return i + 1;
        }
    }
    __atomic_fetch_add(&ctl->stacks_dropped, 1, __ATOMIC_RELAXED);
    return 0;
}

/* Capture the current stack: frame[0] is `anchor` (the return address the
 * allocation is charged to) when the walk finds it, else the first frame
 * outside the runtime.  Returns the stack id (0: none). */
static uint32_t capture(const void *anchor)
{
    void *fr[PT_SEG_DEPTH_LIMIT + CAPTURE_EXTRA];
    uint32_t d = depth;
    int max = (int)d + CAPTURE_EXTRA;
    int n = pt_cfi_backtrace(fr, max);
    int i = 0;
    if (self_hi)
        while (i < n && (uintptr_t)fr[i] >= self_lo && (uintptr_t)fr[i] < self_hi)
            i++;
    if (anchor) {
        int from = self_hi ? i : 0, found = -1;
        for (int j = from; j < n && j < from + CAPTURE_EXTRA; j++)
            if (fr[j] == anchor) {
                found = j;
                break;
            }
        if (found >= 0)
            i = found;
        else if (!self_hi || i >= n) {
            /* the walk did not reach the site: keep what is known */
            fr[0] = (void *)anchor;
            i = 0;
            n = 1;
        }
    }
    if (i >= n)
        return 0;
    uint64_t f[PT_SEG_DEPTH_LIMIT];
    uint32_t c = 0;
    for (int j = i; j < n && c < d; j++)
        f[c++] = (uint64_t)(uintptr_t)fr[j];
    __atomic_fetch_add(&ctl->captures, 1, __ATOMIC_RELAXED);
    if (n - i > (int)d || n == max)
        __atomic_fetch_add(&ctl->captures_truncated, 1, __ATOMIC_RELAXED);
    return stack_insert(f, c);
}

uint32_t pt__tr_capture(const void *anchor)
{
    return tr_ready ? capture(anchor) : 0;
}

uint32_t pt__tr_stack_id(const uint64_t *frames, uint32_t n)
{
    if (!tr_ready || n == 0)
        return 0;
    return stack_insert(frames, n > PT_SEG_DEPTH_LIMIT ? PT_SEG_DEPTH_LIMIT : n);
}

/* ---- rings ------------------------------------------------------------------- */

static void ring_put(unsigned r, uint8_t op, const void *addr, uint64_t size, uint32_t tag,
                     uint32_t stack, unsigned pool, uint32_t rec, uint64_t t)
{
    pt_seg_ring *R = &rings[r];
    uint32_t size_now = __atomic_load_n(&R->size, __ATOMIC_ACQUIRE);
    if (!size_now)
        return;
    uint64_t i = __atomic_fetch_add(&R->head, 1, __ATOMIC_RELAXED);
    pt_seg_rec *d = (pt_seg_rec *)((char *)pt__seg + R->records_off) + i % size_now;
    __atomic_store_n(&d->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    d->time_ns = t;
    d->addr = (uint64_t)(uintptr_t)addr;
    d->size = size;
    d->stack = stack;
    d->tag = tag;
    d->tid = my_tid();
    d->op = op;
    d->pool = (uint8_t)pool;
    d->module = rec < 0xffffu ? (uint16_t)(rec + 1) : 0;
    __atomic_store_n(&d->seq, i + 1, __ATOMIC_RELEASE);
}

/* ---- trap (PT_HITF_TRAP) ------------------------------------------------------- */

static int tracer_attached(void)
{
    char buf[2048];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *t = strstr(buf, "TracerPid:");
    if (!t)
        return 0;
    t += 10;
    while (*t == ' ' || *t == '\t')
        t++;
    return *t >= '1' && *t <= '9';
}

#define TRAP_LINES 16u
static void trap(uint8_t op, const void *addr, uint32_t tag)
{
    if (tracer_attached()) {
        raise(SIGTRAP);
        return;
    }
    uint32_t k = __atomic_fetch_add(&trap_lines, 1, __ATOMIC_RELAXED);
    if (k > TRAP_LINES)
        return;
    char buf[320];
    pt_buf b = {buf, 0, sizeof buf};
    if (k == TRAP_LINES) {
        pt__bputs(&b, "pooltag: further hit traps without a debugger are not shown\n");
    } else {
        pt__bputs(&b, "pooltag: hit ");
        pt__bputtag(&b, tag);
        pt__bputs(&b, op == PT_OP_ALLOC ? " alloc " : " free ");
        pt__bputx(&b, (uint64_t)(uintptr_t)addr);
        pt__bputs(&b, " in thread ");
        pt__bputu(&b, my_tid());
        pt__bputs(&b, ": no debugger attached, going on; to stop here: gdb -p ");
        pt__bputu(&b, (uint64_t)getpid());
        pt__bputs(&b, "\n");
    }
    pt__write_stderr(b.p, b.len);
}

/* ---- tracked blocks and module statistics --------------------------------------- */

static uint32_t trk_take(void)
{
    uint64_t head = __atomic_load_n(&ctl->tracked_free, __ATOMIC_ACQUIRE);
    while ((uint32_t)head) {
        uint32_t idx = (uint32_t)head - 1;
        uint32_t next = __atomic_load_n(&tracked[idx].next, __ATOMIC_RELAXED);
        uint64_t nh = (((head >> 32) + 1) << 32) | next;
        if (__atomic_compare_exchange_n(&ctl->tracked_free, &head, nh, 1, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return idx;
    }
    uint64_t hw = __atomic_load_n(&ctl->tracked_hw, __ATOMIC_RELAXED);
    do {
        if (hw >= max_tracked)
            return UINT32_MAX;
    } while (!__atomic_compare_exchange_n(&ctl->tracked_hw, &hw, hw + 1, 1, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    return (uint32_t)hw;
}

static void trk_give(uint32_t idx)
{
    uint64_t head = __atomic_load_n(&ctl->tracked_free, __ATOMIC_RELAXED);
    uint64_t nh;
    do {
        __atomic_store_n(&tracked[idx].next, (uint32_t)head, __ATOMIC_RELAXED);
        nh = (((head >> 32) + 1) << 32) | (idx + 1);
    } while (!__atomic_compare_exchange_n(&ctl->tracked_free, &head, nh, 1, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
}

static void atomic_max(uint64_t *p, uint64_t v)
{
    uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > old &&
           !__atomic_compare_exchange_n(p, &old, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void vstat_move(pt_seg_vstat *vs, unsigned pool, int64_t blocks, int64_t bytes)
{
    int64_t b = __atomic_add_fetch(&vs->pool[pool].cur_blocks, blocks, __ATOMIC_RELAXED);
    int64_t y = __atomic_add_fetch(&vs->pool[pool].cur_bytes, bytes, __ATOMIC_RELAXED);
    if (blocks > 0) {
        atomic_max(&vs->pool[pool].peak_blocks, b > 0 ? (uint64_t)b : 0);
        atomic_max(&vs->pool[pool].peak_bytes, y > 0 ? (uint64_t)y : 0);
    }
}

/* ---- the events ------------------------------------------------------------------- */

uint64_t pt__tr_alloc(unsigned kinds, uint32_t rec, void *p, uint64_t size, uint32_t tag,
                      uint32_t tidx, unsigned pool, const void *site, int untagged)
{
    (void)tidx;
    uint32_t nested = tls.tracing;
    tls.tracing = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    uint32_t stack = 0;
    if (p && !nested)
        stack = capture(site);
    uint64_t slot = 0, t_ns = p ? event_ns() : 0; /* one clock read per event */
    if ((kinds & PT_TR_VERIFY) && rec < max_mods) {
        pt_seg_vstat *vs = &vstats[rec];
        __atomic_fetch_add(&vs->attempted, 1, __ATOMIC_RELAXED);
        if (untagged)
            __atomic_fetch_add(&vs->untagged, 1, __ATOMIC_RELAXED);
        if (!p) {
            __atomic_fetch_add(&vs->failed, 1, __ATOMIC_RELAXED);
        } else {
            __atomic_fetch_add(&vs->succeeded, 1, __ATOMIC_RELAXED);
            vstat_move(vs, pool, 1, (int64_t)size);
            uint32_t k = trk_take();
            if (k == UINT32_MAX) {
                __atomic_fetch_add(&ctl->tracked_dropped, 1, __ATOMIC_RELAXED);
            } else {
                pt_seg_tracked *t = &tracked[k];
                t->size = size;
                t->time_ns = t_ns;
                t->stack = stack;
                t->tag = tag;
                t->tid = my_tid();
                t->module = (uint16_t)(rec + 1);
                t->pool = (uint8_t)pool;
                t->flags = 0;
                __atomic_store_n(&t->addr, (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
                __atomic_fetch_add(&ctl->tracked_used, 1, __ATOMIC_RELAXED);
                slot = (uint64_t)k + 1;
            }
            if (!nested)
                ring_put(PT_RING_VERIFY, PT_OP_ALLOC, p, size, tag, stack, pool, rec, t_ns);
        }
    }
    if ((kinds & PT_TR_HIT) && p && !nested) {
        ring_put(PT_RING_HIT, PT_OP_ALLOC, p, size, tag, stack, pool, rec, t_ns);
        if (hit_flags & PT_HITF_TRAP)
            trap(PT_OP_ALLOC, p, tag);
    }
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.tracing = nested;
    return slot;
}

void pt__tr_free(pt_hdr *h, uint64_t w0, uint32_t tag, uint32_t tidx)
{
    pt__tr_free_at(h + 1, w0_size(w0), w0_pool(w0), tag, tidx, ((const uint64_t *)h)[-2],
                   w0_site(w0));
}

void pt__tr_free_at(void *p, uint64_t size, unsigned pool, uint32_t tag, uint32_t tidx,
                    uint64_t sv, uint32_t sidx)
{
    if (!tr_ready)
        return;
    uint32_t rec = UINT32_MAX;
    int verify = 0;
    if (sv && sv - 1 < __atomic_load_n(&ctl->tracked_hw, __ATOMIC_ACQUIRE)) {
        pt_seg_tracked *t = &tracked[sv - 1];
        if (__atomic_load_n(&t->addr, __ATOMIC_ACQUIRE) == (uint64_t)(uintptr_t)p) {
            rec = (uint32_t)t->module - 1u;
            __atomic_store_n(&t->addr, 0, __ATOMIC_RELEASE);
            trk_give((uint32_t)(sv - 1));
            __atomic_fetch_sub(&ctl->tracked_used, 1, __ATOMIC_RELAXED);
            if (rec < max_mods) {
                pt_seg_vstat *vs = &vstats[rec];
                __atomic_fetch_add(&vs->frees, 1, __ATOMIC_RELAXED);
                vstat_move(vs, pool, -1, -(int64_t)size);
                verify = 1;
            }
        }
    }
    int hit = hit_n && tidx <= ovfl_idx && __atomic_load_n(&hit_bits[tidx], __ATOMIC_RELAXED);
    if ((!hit && !verify) || tls.tracing)
        return;
    tls.tracing = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    uint32_t stack = capture(NULL);
    uint64_t t_ns = event_ns();
    if (rec == UINT32_MAX)
        rec = pt__mod_rec((const void *)(uintptr_t)seg_sites[sidx].addr);
    if (verify)
        ring_put(PT_RING_VERIFY, PT_OP_FREE, p, size, tag, stack, pool, rec, t_ns);
    if (hit) {
        ring_put(PT_RING_HIT, PT_OP_FREE, p, size, tag, stack, pool, rec, t_ns);
        if (hit_flags & PT_HITF_TRAP)
            trap(PT_OP_FREE, p, tag);
    }
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tls.tracing = 0;
}

/* ---- leaks ------------------------------------------------------------------------- */

/* "module+0xoffset" of a code address, or the bare address. */
static void put_code(pt_buf *b, uint64_t a)
{
    uint32_t nrec = __atomic_load_n(&pt__seg->modules_used, __ATOMIC_ACQUIRE);
    const pt_seg_module *m = mod_records();
    for (uint32_t i = nrec; i-- > 0;) {
        if (a >= m[i].start && a < m[i].end) {
            const char *base = strrchr(m[i].path, '/');
            pt__bputs(b, base ? base + 1 : m[i].path);
            pt__bputs(b, "+");
            pt__bputx(b, a - m[i].base);
            return;
        }
    }
    pt__bputx(b, a);
}

#define LEAK_LINES 10
/* Report module rec's outstanding tracked blocks as leaks (reason
 * PT_LEAK_*): flags, statistics, a leak record, and stderr. */
static void report_leaks(uint32_t rec, uint32_t reason)
{
    pt_seg_vstat *vs = &vstats[rec];
    uint64_t hw = __atomic_load_n(&ctl->tracked_hw, __ATOMIC_ACQUIRE);
    uint64_t blocks = 0, bytes = 0;
    char lines[LEAK_LINES * 160];
    pt_buf lb = {lines, 0, sizeof lines};
    for (uint64_t i = 0; i < hw; i++) {
        pt_seg_tracked *t = &tracked[i];
        uint64_t a = __atomic_load_n(&t->addr, __ATOMIC_ACQUIRE);
        if (!a || t->module != rec + 1 || (t->flags & PT_TRK_LEAKED))
            continue;
        __atomic_fetch_or(&t->flags, (uint8_t)PT_TRK_LEAKED, __ATOMIC_RELAXED);
        blocks++;
        bytes += t->size;
        if (blocks <= LEAK_LINES) {
            pt__bputs(&lb, "  ");
            pt__bputx(&lb, a);
            pt__bputs(&lb, " ");
            pt__bputu(&lb, t->size);
            pt__bputs(&lb, " ");
            pt__bputtag(&lb, t->tag);
            pt__bputs(&lb, " caller ");
            uint32_t s = t->stack;
            if (s && s - 1 <= stk_mask) {
                uint64_t v = __atomic_load_n(&stk_slots[s - 1], __ATOMIC_ACQUIRE);
                put_code(&lb, v ? stk_frames[pt_stk_off(v)] : 0);
            } else {
                pt__bputs(&lb, "unknown");
            }
            pt__bputs(&lb, "\n");
        }
    }
    if (reason == PT_LEAK_UNLOAD)
        __atomic_fetch_or(&vs->flags, PT_VS_UNLOADED, __ATOMIC_RELAXED);
    if (!blocks)
        return;
    __atomic_fetch_add(&vs->leaked_blocks, blocks, __ATOMIC_RELAXED);
    __atomic_fetch_add(&vs->leaked_bytes, bytes, __ATOMIC_RELAXED);
    uint64_t n = __atomic_fetch_add(&ctl->leaks_seq, 1, __ATOMIC_RELAXED);
    pt_seg_leak *L = &leaks[n % PT_SEG_LEAKS];
    __atomic_store_n(&L->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    L->time_ns = now_ns();
    L->blocks = blocks;
    L->bytes = bytes;
    L->module = rec + 1;
    L->reason = reason;
    __atomic_store_n(&L->seq, n + 1, __ATOMIC_RELEASE);
    leaked_any = 1;

    char head[400];
    pt_buf b = {head, 0, sizeof head};
    const pt_seg_module *m = &mod_records()[rec];
    pt__bputs(&b, "pooltag: ");
    pt__bputs(&b, m->path);
    pt__bputs(&b, reason == PT_LEAK_UNLOAD ? " unloaded with " : " at exit with ");
    pt__bputu(&b, blocks);
    pt__bputs(&b, blocks == 1 ? " block (" : " blocks (");
    pt__bputu(&b, bytes);
    pt__bputs(&b, " bytes) outstanding\n");
    pt__write_stderr(b.p, b.len);
    pt__write_stderr(lb.p, lb.len);
    if (blocks > LEAK_LINES) {
        b.len = 0;
        pt__bputs(&b, "  ... and ");
        pt__bputu(&b, blocks - LEAK_LINES);
        pt__bputs(&b, " more (pooltag verify lists them all)\n");
        pt__write_stderr(b.p, b.len);
    }
}

void pt__tr_mod_unloaded(uint32_t rec)
{
    /* The unwinder drops what it cached about the module's code (its
     * rules would apply to whatever is loaded there next). */
    if (pt__seg && rec < pt__seg->max_modules) {
        const pt_seg_module *m = &mod_records()[rec];
        pt_cfi_forget((uintptr_t)m->start, (uintptr_t)m->end);
    }
    if (!tr_ready || rec >= max_mods)
        return;
    if (!(__atomic_load_n(&vstats[rec].flags, __ATOMIC_ACQUIRE) & PT_VS_EVER))
        return;
    set_verified(rec, 0);
    report_leaks(rec, PT_LEAK_UNLOAD);
}

/* At exit (the preload's last destructor): every verified module that is
 * still loaded reports its outstanding blocks.  Returns 1 when a leak was
 * reported during the life of the process (at unload or now). */
int pt__tr_exit(void)
{
    if (!tr_ready)
        return 0;
    uint32_t nrec = __atomic_load_n(&pt__seg->modules_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < nrec && i < max_mods; i++) {
        uint32_t f = __atomic_load_n(&vstats[i].flags, __ATOMIC_ACQUIRE);
        if ((f & PT_VS_EVER) && !(f & PT_VS_UNLOADED))
            report_leaks(i, PT_LEAK_EXIT);
    }
    return leaked_any;
}
