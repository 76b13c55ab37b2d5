/*
 * unwind_cfi.c — x86-64 CFI stack unwinder for use inside malloc (see
 * unwind_cfi.h for what it guarantees).
 *
 * Four layers, each fixed-size and allocation-free:
 *  1. stack bounds, per thread (__thread, initial-exec): up to 4 ranges
 *     [lo, hi) the walk may read, from /proc/self/maps (raw syscalls, stack
 *     buffer) or sigaltstack(2) — see stack_range();
 *  2. module table: executable range -> .eh_frame_hdr and the PT_LOAD
 *     segment holding it (the bound of every CFI read), filled by
 *     pt_cfi_note_module, pt_cfi_scan_modules or, for a PC a walk meets in
 *     no module, from /proc/self/maps (maps_module); slots go
 *     UNUSED/FREE -> BUSY -> LIVE -> DEAD -> FREE; pt_cfi_forget waits for the walks
 *     parsing CFI (the `inflight` counts) before a DEAD slot is reused;
 *  3. rule cache: PC -> {CFA = rsp+N | rbp+N, rbp saved at CFA-8k or not,
 *     return address at CFA-8, end of stack, signal frame, or "stop here"},
 *     one 64-bit word per slot, written and read with relaxed atomics (a
 *     racing slot is a whole other PC's word, and the key check rejects it);
 *     a module registration or removal bumps `epoch` and sweeps the range, a
 *     miss that raced with it takes its word back;
 *  4. the CFA interpreter (cache miss): CIE + FDE, DW_CFA_def_cfa*,
 *     advance_loc*, offset*, restore*, remember/restore_state, and
 *     def_cfa_expression through a small symbolic DWARF expression
 *     evaluator (the PLT's rsp + 8 + ((rip & 15) >= 11) << 3 and anything
 *     else linear in rsp or rbp); rules for registers it does not track
 *     (rbx, r12..r15) are parsed and ignored; expression/register/val_*
 *     rules for rbp or the return address stop the walk (counted).
 */
#define _GNU_SOURCE
#include "unwind_cfi.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "unwind_cfi.c: x86-64 only"
#endif

#define R_RBP 6
#define R_RSP 7
#define R_RA 16
#define IE __attribute__((tls_model("initial-exec")))

/* ---------------------------------------------------------------- stats */
/* Misses, scans and stops: shared relaxed atomics (rare).  Hits: counted
 * only with -DPT_CFI_COUNT_HITS — a shared atomic add per frame cost more
 * than the rest of the frame (measured: 120 -> 86 ns a walk of 14). */
static struct pt_cfi_stats st;
static __thread const char *last_stop IE = "none";
#define BUMP(f) __atomic_fetch_add(&st.f, 1, __ATOMIC_RELAXED)
void pt_cfi_stats_get(struct pt_cfi_stats *out)
{
    const unsigned long *s = (const unsigned long *)&st;
    unsigned long *o = (unsigned long *)out;
    for (size_t i = 0; i < sizeof st / sizeof *s; i++)
        o[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}
const char *pt_cfi_last_stop(void) { return last_stop; }

/* Why a rule miss stops: index into why[] (negative cache entries keep it). */
enum {
    W_NOMOD = 1, W_NOFDE, W_BADFDE, W_CIE, W_OUTSIDE, W_CIEPROG, W_PROG, W_UNSUP,
    W_CFAREG, W_NWHY
};
static const char *const why[W_NWHY] = {
    "none", "pc in no module with .eh_frame_hdr", "no FDE", "FDE corrupt or outside its segment",
    "CIE unsupported or corrupt", "pc outside FDE", "CIE program unsupported",
    "FDE program corrupt", "rule for rbp/ra/CFA unsupported (expression, register, val_*)",
    "CFA register not rsp/rbp",
};
static int stop(int w)
{
    last_stop = why[w];
    BUMP(stops);
    return 0;
}

/* --------------------------------------------------------- stack bounds
 * The walk reads only inside [lo, hi) of the range holding its stack
 * pointer.  Per thread, up to NRANGE ranges (the thread's stack and, say,
 * coroutine stacks), most recent first; a signal handler can interrupt an
 * update, so an entry is invalidated (hi = 0) before it is rewritten and
 * the compiler keeps the order (signal fences). */
#define NRANGE 4
struct srange { uintptr_t lo, hi; };
static __thread struct srange ranges[NRANGE] IE;

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* One /proc/self/maps line, parsed: "lo-hi perms offset major:minor inode
 * path".  0 if malformed.  Not ptp_parse_maps_line (src/reader/procfs.c):
 * the runtime never links the reader (procfs.h says so); this takes only
 * the fields the unwinder needs, bounded by [s, e), no allocation. */
struct mline {
    uintptr_t lo, hi, off;
    unsigned long dev, inode;
    char r, x, vdso;
};
static const char *hexnum(const char *s, const char *e, uintptr_t *v)
{
    int d, nd = 0;
    *v = 0;
    while (s < e && (d = hexval(*s)) >= 0 && nd < 16) {
        *v = *v << 4 | (uintptr_t)d;
        s++;
        nd++;
    }
    return nd ? s : NULL;
}
static int parse_mline(const char *s, const char *e, struct mline *m)
{
    uintptr_t maj, min;
    memset(m, 0, sizeof *m);
    if (!(s = hexnum(s, e, &m->lo)) || s >= e || *s++ != '-' || !(s = hexnum(s, e, &m->hi)))
        return 0;
    if (e - s < 6 || *s != ' ')
        return 0;
    m->r = s[1] == 'r';
    m->x = s[3] == 'x';
    s += 5;
    if (*s++ != ' ' || !(s = hexnum(s, e, &m->off)) || s >= e || *s++ != ' ')
        return 0;
    if (!(s = hexnum(s, e, &maj)) || s >= e || *s++ != ':' || !(s = hexnum(s, e, &min)))
        return 0;
    m->dev = (unsigned long)(maj << 20 | min);
    if (s >= e || *s++ != ' ')
        return 0;
    while (s < e && *s >= '0' && *s <= '9')
        m->inode = m->inode * 10 + (unsigned long)(*s++ - '0');
    while (s < e && *s == ' ')
        s++;
    m->vdso = e - s >= 6 && memcmp(s, "[vdso]", 6) == 0;
    return 1;
}

/* Feeds each /proc/self/maps line (its first 511 bytes at most) to fn until
 * fn returns nonzero; raw system calls (no libc wrapper another preload
 * could interpose), a stack buffer, no lock.  Returns fn's last result, 0
 * if /proc/self/maps cannot be read. */
static int maps_each(int (*fn)(void *arg, const char *s, const char *e), void *arg)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[512];
    size_t n = 0;
    int skip = 0, res = 0;
    for (;;) {
        long r = syscall(SYS_read, fd, buf + n, sizeof buf - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        size_t s = 0;
        for (;;) {
            const char *nl = memchr(buf + s, '\n', n - s);
            if (!nl)
                break;
            if (!skip && (res = fn(arg, buf + s, nl)) != 0)
                goto out;
            skip = 0;
            s = (size_t)(nl - buf) + 1;
        }
        if (s == 0 && n == sizeof buf) { /* a line longer than buf: its start is all we need */
            if (!skip && (res = fn(arg, buf, buf + n)) != 0)
                goto out;
            skip = 1;
            n = 0;
        } else {
            memmove(buf, buf + s, n - s);
            n -= s;
        }
    }
out:
    syscall(SYS_close, fd);
    return res;
}

struct range_arg { uintptr_t sp, lo, hi; };
static int range_line(void *arg, const char *s, const char *e)
{
    struct range_arg *a = arg;
    struct mline m;
    if (!parse_mline(s, e, &m) || a->sp < m.lo || a->sp >= m.hi)
        return 0;
    a->lo = m.lo;
    a->hi = m.hi;
    return 1;
}

/* The mapping that holds sp. */
static int maps_range(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    BUMP(bounds_reads);
    struct range_arg a = { sp, 0, 0 };
    if (!maps_each(range_line, &a))
        return 0;
    *lo = a.lo;
    *hi = a.hi;
    return 1;
}

/* [lo, hi) the walk may read for stack pointer sp; hi = 0: unknown. */
static inline struct srange range_cached(unsigned i, uintptr_t sp)
{
    struct srange r = { ranges[i].lo, ranges[i].hi };
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (sp >= r.lo && sp < r.hi && r.lo == ranges[i].lo) /* lo re-read: an update in between */
        return r;
    return (struct srange){ 0, 0 };
}

static struct srange stack_range_sys(uintptr_t sp);

/* Not cached in entry 0: the other entries, else system calls — which keep
 * errno as it was (a walk may run in a signal handler). */
__attribute__((noinline)) static struct srange stack_range_slow(uintptr_t sp)
{
    struct srange r;
    for (unsigned i = 1; i < NRANGE; i++)
        if ((r = range_cached(i, sp)).hi)
            return r;
    int e = errno;
    r = stack_range_sys(sp);
    errno = e;
    return r;
}

static struct srange stack_range_sys(uintptr_t sp)
{
    /* A handler on the alternate signal stack: its exact range, asked each
     * time (the program may change or free it; not cached). */
    stack_t ss;
    if (syscall(SYS_sigaltstack, NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK)
        && sp >= (uintptr_t)ss.ss_sp && sp < (uintptr_t)ss.ss_sp + ss.ss_size)
        return (struct srange){ (uintptr_t)ss.ss_sp, (uintptr_t)ss.ss_sp + ss.ss_size };
    uintptr_t l, h, tp;
    if (!maps_range(sp, &l, &h))
        return (struct srange){ 0, 0 };
    /* glibc threads: struct pthread (the TCB, = the thread pointer) sits at
     * the top of the stack block, static TLS just below it, the stack below
     * that; the mapping may be merged with a neighbour above, which the
     * thread pointer excludes. */
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    if (tp > sp && tp < h)
        h = tp;
    /* The new range goes first (the walk checks entry 0 inline); the same
     * stack grown (main thread) replaces its old entry. */
    unsigned k = NRANGE - 1;
    for (unsigned i = 0; i < NRANGE; i++)
        if (ranges[i].hi == h) {
            k = i;
            break;
        }
    for (; k > 0; k--) {
        ranges[k].hi = 0;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        ranges[k].lo = ranges[k - 1].lo;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        ranges[k].hi = ranges[k - 1].hi;
    }
    ranges[0].hi = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    ranges[0].lo = l;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    ranges[0].hi = h;
    return (struct srange){ l, h };
}

static inline struct srange stack_range(uintptr_t sp)
{
    struct srange r = range_cached(0, sp);
    return __builtin_expect(r.hi != 0, 1) ? r : stack_range_slow(sp);
}

/* --------------------------------------------------------- module table */
#define MOD_MAX 512
/* UNUSED: beyond the high-water mark when reserved (only its reserver
 * writes it); FREE: given back by pt_cfi_forget, taken with a CAS. */
enum { MS_UNUSED, MS_BUSY, MS_LIVE, MS_DEAD, MS_FREE };
struct mod {
    uintptr_t lo, hi;    /* executable PT_LOAD range */
    uintptr_t elo, ehi;  /* the PT_LOAD holding .eh_frame_hdr: bound of CFI reads */
    const uint8_t *hdr;  /* .eh_frame_hdr */
    uint32_t state;      /* MS_*; LIVE published with release */
};
static struct mod mods[MOD_MAX];
static uint32_t nmods;    /* high-water mark of used slots */
/* Walks between "module looked up" and "rule stored", counted in
 * inflight[gp & 1] (gp read once on entry); pt_cfi_forget flips gp and waits
 * for the old count only, so a stream of new misses cannot starve it. */
static uint32_t inflight[2], gp;
static uint32_t forget_lock; /* serialises pt_cfi_forget calls */
static uint64_t epoch;    /* bumped by every module registration and removal */
static uint32_t lazy_scan = 1;
static uint64_t neg_live; /* negative entries ever stored (sweeps skip when 0) */

void pt_cfi_set_lazy_scan(int on) { __atomic_store_n(&lazy_scan, on ? 1u : 0u, __ATOMIC_RELAXED); }

/* A copy of a LIVE slot holding pc (read inside the inflight window). */
static int mod_lookup(uintptr_t pc, struct mod *out)
{
    uint32_t n = __atomic_load_n(&nmods, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < MOD_MAX; i++) {
        const struct mod *m = &mods[i];
        if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == MS_LIVE && pc >= m->lo && pc < m->hi) {
            *out = *m;
            return 1;
        }
    }
    return 0;
}

static void sweep(uintptr_t start, uintptr_t end, int negative_only);

static int mod_add(uintptr_t lo, uintptr_t hi, uintptr_t elo, uintptr_t ehi, const uint8_t *hdr)
{
    uint32_t n = __atomic_load_n(&nmods, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < MOD_MAX; i++) /* known (best effort: a racing twin is harmless) */
        if (__atomic_load_n(&mods[i].state, __ATOMIC_ACQUIRE) == MS_LIVE && mods[i].lo == lo
            && mods[i].hi == hi && mods[i].hdr == hdr)
            return 0;
    uint32_t k = MOD_MAX;
    for (uint32_t i = 0; i < n && i < MOD_MAX && k == MOD_MAX; i++) {
        uint32_t f = MS_FREE;
        if (__atomic_compare_exchange_n(&mods[i].state, &f, MS_BUSY, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            k = i;
    }
    if (k == MOD_MAX) {
        k = __atomic_fetch_add(&nmods, 1, __ATOMIC_ACQ_REL);
        if (k >= MOD_MAX) {
            __atomic_store_n(&nmods, MOD_MAX, __ATOMIC_RELEASE);
            return 0; /* table full: a PC there is a stop */
        }
        __atomic_store_n(&mods[k].state, MS_BUSY, __ATOMIC_RELAXED);
    }
    mods[k].lo = lo;
    mods[k].hi = hi;
    mods[k].elo = elo;
    mods[k].ehi = ehi;
    mods[k].hdr = hdr;
    __atomic_store_n(&mods[k].state, MS_LIVE, __ATOMIC_RELEASE);
    __atomic_fetch_add(&epoch, 1, __ATOMIC_SEQ_CST);
    BUMP(modules_noted);
    sweep(lo, hi, 1); /* "no module" entries of PCs now in one */
    return 1;
}

int pt_cfi_note_module(uintptr_t base, const void *phdr, int phnum)
{
    const ElfW(Phdr) *ph = phdr;
    const ElfW(Phdr) *eh = NULL;
    for (int i = 0; i < phnum; i++)
        if (ph[i].p_type == PT_GNU_EH_FRAME)
            eh = &ph[i];
    if (!eh)
        return 0;
    uintptr_t elo = 0, ehi = 0;
    for (int i = 0; i < phnum; i++)
        if (ph[i].p_type == PT_LOAD && eh->p_vaddr >= ph[i].p_vaddr
            && eh->p_vaddr + eh->p_memsz <= ph[i].p_vaddr + ph[i].p_memsz) {
            elo = base + ph[i].p_vaddr;
            ehi = elo + ph[i].p_memsz;
        }
    if (!elo)
        return 0;
    int added = 0;
    for (int i = 0; i < phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X))
            added += mod_add(base + ph[i].p_vaddr, base + ph[i].p_vaddr + ph[i].p_memsz, elo, ehi,
                             (const uint8_t *)(base + eh->p_vaddr));
    return added;
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(int *)data += pt_cfi_note_module(info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum);
    return 0;
}

int pt_cfi_scan_modules(void)
{
    int added = 0;
    BUMP(module_scans);
    dl_iterate_phdr(scan_cb, &added);
    return added;
}

/* Lazy registration without the loader (a walk meets a PC in no registered
 * module): /proc/self/maps names the mapping that holds the PC and, just
 * below it, the same file's mapping at offset 0 — the module's ELF header,
 * whose program headers pt_cfi_note_module takes.  System calls and reads
 * of the module's own header only: no lock, async-signal-safe.  The vDSO
 * ("[vdso]", no file) is its own offset-0 mapping. */
struct modmap_arg { uintptr_t pc; struct mline cand; int have; };
static int modmap_line(void *arg, const char *s, const char *e)
{
    struct modmap_arg *a = arg;
    struct mline m;
    if (!parse_mline(s, e, &m))
        return 0;
    if (m.lo > a->pc)
        return -1; /* lines come in address order: past it */
    if (m.off == 0 && m.r && (m.inode || m.vdso)) {
        a->cand = m;
        a->have = 1;
    }
    if (a->pc < m.lo || a->pc >= m.hi)
        return 0;
    if (!m.x || !a->have)
        return -1;
    if (m.vdso ? !a->cand.vdso : (!m.inode || a->cand.inode != m.inode || a->cand.dev != m.dev))
        return -1;
    return 1;
}

static void maps_module(uintptr_t pc)
{
    struct modmap_arg a;
    memset(&a, 0, sizeof a);
    a.pc = pc;
    BUMP(module_scans);
    int e = errno, r = maps_each(modmap_line, &a);
    errno = e;
    if (r != 1)
        return;
    uintptr_t lo = a.cand.lo, size = a.cand.hi - a.cand.lo;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)lo;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64
        || eh->e_phentsize != sizeof(ElfW(Phdr)) || eh->e_phoff > size
        || eh->e_phnum > (size - eh->e_phoff) / sizeof(ElfW(Phdr)))
        return;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(lo + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
            pt_cfi_note_module(lo - ph[i].p_vaddr, ph, eh->e_phnum);
            return;
        }
}


void pt_cfi_fork_child(void)
{
    /* Only the forking thread lives on: nothing is in flight, nobody holds
     * the forget lock (a module slot another thread was filling stays BUSY:
     * lost, harmless). */
    __atomic_store_n(&inflight[0], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&inflight[1], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&forget_lock, 0, __ATOMIC_RELEASE);
}

void pt_cfi_forget(uintptr_t start, uintptr_t end)
{
    uint32_t unlocked = 0;
    while (!__atomic_compare_exchange_n(&forget_lock, &unlocked, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        unlocked = 0;
        sched_yield();
    }
    uint32_t n = __atomic_load_n(&nmods, __ATOMIC_ACQUIRE);
    uint32_t mine[MOD_MAX / 32] = { 0 };
    for (uint32_t i = 0; i < n && i < MOD_MAX; i++) {
        uint32_t s = MS_LIVE;
        if (mods[i].lo < end && mods[i].hi > start
            && __atomic_compare_exchange_n(&mods[i].state, &s, MS_DEAD, 0, __ATOMIC_SEQ_CST,
                                           __ATOMIC_RELAXED)) {
            mine[i / 32] |= 1u << (i % 32);
            BUMP(modules_forgotten);
        }
    }
    __atomic_fetch_add(&epoch, 1, __ATOMIC_SEQ_CST);
    /* A walk that saw a slot LIVE before it was marked DEAD incremented
     * inflight before loading the state (Dekker: both sides seq_cst), in
     * either count: the other one holds only walks that read gp before the
     * last flip (no new ones join it), then, after the flip, the current
     * one only drains.  Once both were zero none holds a copy of a slot. */
    uint32_t cur = __atomic_load_n(&gp, __ATOMIC_SEQ_CST) & 1;
    while (__atomic_load_n(&inflight[cur ^ 1], __ATOMIC_SEQ_CST))
        sched_yield();
    __atomic_fetch_add(&gp, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&inflight[cur], __ATOMIC_SEQ_CST))
        sched_yield();
    sweep(start, end, 0);
    for (uint32_t i = 0; i < n && i < MOD_MAX; i++)
        if (mine[i / 32] & (1u << (i % 32)))
            __atomic_store_n(&mods[i].state, MS_FREE, __ATOMIC_RELEASE);
    __atomic_store_n(&forget_lock, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------ DWARF decoding */
struct rd { const uint8_t *p, *end; int bad; };

static uint64_t uleb(struct rd *r)
{
    uint64_t v = 0;
    unsigned s = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (s < 64)
            v |= (uint64_t)(b & 0x7f) << s;
        s += 7;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t sleb(struct rd *r)
{
    uint64_t v = 0; /* built unsigned: no signed shifts */
    unsigned s = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (s < 64)
            v |= (uint64_t)(b & 0x7f) << s;
        s += 7;
        if (!(b & 0x80)) {
            if (s < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << s;
            return (int64_t)v;
        }
    }
    r->bad = 1;
    return 0;
}

#define RD(T, r) ({ T v_ = 0; if ((r)->p + sizeof(T) <= (r)->end) { memcpy(&v_, (r)->p, sizeof(T)); (r)->p += sizeof(T); } else (r)->bad = 1; v_; })

/* A DW_EH_PE-encoded pointer; datarel relative to `data`. */
static uintptr_t enc_ptr(struct rd *r, uint8_t enc, uintptr_t data)
{
    if (enc == 0xff)
        return 0;
    uintptr_t at = (uintptr_t)r->p, v;
    switch (enc & 0x0f) {
    case 0x00: v = RD(uint64_t, r); break;
    case 0x01: v = uleb(r); break;
    case 0x02: v = RD(uint16_t, r); break;
    case 0x03: v = RD(uint32_t, r); break;
    case 0x04: v = RD(uint64_t, r); break;
    case 0x09: v = (uintptr_t)sleb(r); break;
    case 0x0a: v = (uintptr_t)(intptr_t)RD(int16_t, r); break;
    case 0x0b: v = (uintptr_t)(intptr_t)RD(int32_t, r); break;
    case 0x0c: v = RD(uint64_t, r); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += at; break;
    case 0x30: v += data; break;
    default: r->bad = 1; return 0; /* textrel/funcrel/aligned: unused on x86-64 */
    }
    if (enc & 0x80) /* indirect: only personality pointers, which we skip */
        v = 0;
    return v;
}

/* .eh_frame_hdr: the FDE whose initial location is the greatest <= pc;
 * every read inside the module's [elo, ehi). */
static const uint8_t *fde_lookup(const struct mod *m, uintptr_t pc)
{
    const uint8_t *hdr = m->hdr, *end = (const uint8_t *)m->ehi;
    if ((uintptr_t)hdr < m->elo || (uintptr_t)hdr > m->ehi || end - hdr < 4)
        return NULL;
    struct rd r = { hdr, end, 0 };
    uint8_t ver = RD(uint8_t, &r), ptr_enc = RD(uint8_t, &r),
            cnt_enc = RD(uint8_t, &r), tab_enc = RD(uint8_t, &r);
    if (ver != 1 || tab_enc != 0x3b) /* datarel|sdata4: what ld and lld write */
        return NULL;
    enc_ptr(&r, ptr_enc, (uintptr_t)hdr);
    uintptr_t n = enc_ptr(&r, cnt_enc, (uintptr_t)hdr);
    if (r.bad || n == 0 || n > (uintptr_t)(end - r.p) / 8)
        return NULL;
    const uint8_t *t = r.p; /* pairs of int32 {initial loc, fde}, hdr-relative */
    int64_t rel = (int64_t)(pc - (uintptr_t)hdr);
    int32_t v;
    size_t lo = 0, hi = n;
    memcpy(&v, t, 4);
    if (rel < v)
        return NULL;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        memcpy(&v, t + 8 * mid, 4);
        if (v <= rel)
            lo = mid;
        else
            hi = mid;
    }
    memcpy(&v, t + 8 * lo + 4, 4);
    uintptr_t f = (uintptr_t)hdr + (uintptr_t)(intptr_t)v;
    if (f < m->elo || f >= m->ehi)
        return NULL;
    return (const uint8_t *)f;
}

/* ------------------------------------------------------ CFA interpreter */
struct rules {
    uint8_t cfa_reg;   /* R_RSP or R_RBP; anything else: unsupported */
    int64_t cfa_off;
    int64_t rbp_off;   /* 0: rbp not saved (same value) */
    int64_t ra_off;    /* return address at CFA + ra_off */
    uint8_t ra_undef;  /* end of stack */
    uint8_t expr;      /* the CFA came from an expression (stats) */
};

#define STATE_STACK 8
struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc, has_z, signal;
    struct rd ins;
};

/* One CIE/FDE record at p inside [lo, end): its content [*body, *rend).
 * 0 if the record does not fit or is a terminator. */
static int record(const uint8_t *p, uintptr_t lo, uintptr_t end, struct rd *body, int *is64)
{
    if ((uintptr_t)p < lo || (uintptr_t)p >= end || end - (uintptr_t)p < 4)
        return 0;
    struct rd r = { p, (const uint8_t *)end, 0 };
    uint64_t len = RD(uint32_t, &r);
    *is64 = 0;
    if (len == 0xffffffffu) {
        len = RD(uint64_t, &r);
        *is64 = 1;
    }
    if (r.bad || len == 0 || len > (uint64_t)(r.end - r.p))
        return 0;
    body->p = r.p;
    body->end = r.p + len;
    body->bad = 0;
    return 1;
}

static int parse_cie(const uint8_t *c, const struct mod *m, struct cie *out)
{
    struct rd r;
    int is64;
    if (!record(c, m->elo, m->ehi, &r, &is64))
        return 0;
    uint64_t id = is64 ? RD(uint64_t, &r) : RD(uint32_t, &r);
    if (r.bad || id != 0)
        return 0;
    uint8_t ver = RD(uint8_t, &r);
    const uint8_t *aug = r.p;
    while (r.p < r.end && *r.p)
        r.p++;
    if (r.p >= r.end)
        return 0;
    const uint8_t *aug_stop = r.p++;
    out->code_align = uleb(&r);
    out->data_align = sleb(&r);
    out->ra_reg = ver == 1 ? RD(uint8_t, &r) : uleb(&r);
    out->fde_enc = 0;
    out->has_z = 0;
    out->signal = 0;
    const uint8_t *aug_end = NULL;
    for (const uint8_t *a = aug; a < aug_stop && !r.bad; a++) {
        switch (*a) {
        case 'z': {
            if (a != aug)
                return 0;
            out->has_z = 1;
            uint64_t al = uleb(&r);
            if (al > (uint64_t)(r.end - r.p))
                return 0;
            aug_end = r.p + al;
            break;
        }
        case 'R': out->fde_enc = RD(uint8_t, &r); break;
        case 'L': (void)RD(uint8_t, &r); break;
        case 'P': { uint8_t e = RD(uint8_t, &r); enc_ptr(&r, e & 0x7f, 0); break; }
        case 'S': out->signal = 1; break;
        case 'B': break; /* aarch64 only */
        default:
            if (!aug_end)
                return 0;
            goto done; /* unknown: 'z' lets us skip the rest */
        }
    }
done:
    if (aug_end)
        r.p = aug_end;
    out->ins = r;
    return !r.bad && out->ra_reg == R_RA && out->code_align > 0;
}

/* A DWARF expression, evaluated symbolically: each value is reg + off with
 * reg 0 (a constant), R_RSP or R_RBP; rip is the PC being asked about (a
 * constant).  Enough for the PLT's CFA and anything linear in rsp/rbp;
 * DW_OP_deref and the rest: unsupported.  1 with the result in *reg, *off. */
static int eval_expr(struct rd r, uintptr_t rip, uint8_t *reg, int64_t *off)
{
    struct { uint8_t reg; int64_t v; } s[8];
    int n = 0, steps = 0;
    while (r.p < r.end && !r.bad) {
        if (++steps > 64)
            return 0;
        uint8_t op = *r.p++;
        int64_t k = 0;
        int push = 1;
        uint8_t kr = 0;
        if (op >= 0x30 && op <= 0x4f) { /* lit0..31 */
            k = op - 0x30;
        } else if (op >= 0x70 && op <= 0x8f) { /* breg0..31 */
            int64_t o = sleb(&r);
            unsigned rn = op - 0x70;
            if (rn == R_RSP || rn == R_RBP) { kr = (uint8_t)rn; k = o; }
            else if (rn == R_RA) k = (int64_t)rip + o; /* DWARF reg 16 is rip */
            else return 0;
        } else {
            push = 0;
            switch (op) {
            case 0x08: k = RD(uint8_t, &r); push = 1; break;                  /* const1u */
            case 0x09: k = RD(int8_t, &r); push = 1; break;                   /* const1s */
            case 0x0a: k = RD(uint16_t, &r); push = 1; break;                 /* const2u */
            case 0x0b: k = RD(int16_t, &r); push = 1; break;                  /* const2s */
            case 0x0c: k = RD(uint32_t, &r); push = 1; break;                 /* const4u */
            case 0x0d: k = RD(int32_t, &r); push = 1; break;                  /* const4s */
            case 0x0e: case 0x0f: k = (int64_t)RD(uint64_t, &r); push = 1; break; /* const8 */
            case 0x10: k = (int64_t)uleb(&r); push = 1; break;                /* constu */
            case 0x11: k = sleb(&r); push = 1; break;                         /* consts */
            case 0x23: /* plus_uconst */
                if (n < 1) return 0;
                s[n - 1].v += (int64_t)uleb(&r);
                break;
            default: { /* binary operators */
                if (n < 2) return 0;
                uint8_t ra_ = s[n - 2].reg, rb = s[n - 1].reg;
                int64_t a = s[n - 2].v, b = s[n - 1].v, v;
                if (op == 0x22) { /* plus */
                    if (ra_ && rb) return 0;
                    s[n - 2].reg = ra_ | rb;
                    s[n - 2].v = a + b;
                    n--;
                    break;
                }
                if (op == 0x1c) { /* minus */
                    if (rb && rb != ra_) return 0;
                    s[n - 2].reg = rb ? 0 : ra_;
                    s[n - 2].v = a - b;
                    n--;
                    break;
                }
                if (ra_ || rb) return 0;
                switch (op) {
                case 0x1a: v = a & b; break;
                case 0x21: v = a | b; break;
                case 0x27: v = a ^ b; break;
                case 0x1e: v = (int64_t)((uint64_t)a * (uint64_t)b); break;
                case 0x24: v = b >= 64 || b < 0 ? 0 : (int64_t)((uint64_t)a << b); break;
                case 0x25: v = b >= 64 || b < 0 ? 0 : (int64_t)((uint64_t)a >> b); break;
                case 0x29: v = a == b; break;
                case 0x2a: v = a >= b; break;
                case 0x2b: v = a > b; break;
                case 0x2c: v = a <= b; break;
                case 0x2d: v = a < b; break;
                case 0x2e: v = a != b; break;
                default: return 0;
                }
                s[n - 2].v = v;
                n--;
            }
            }
        }
        if (push) {
            if (n == 8) return 0;
            s[n].reg = kr;
            s[n].v = k;
            n++;
        }
    }
    if (r.bad || n != 1 || !s[0].reg)
        return 0;
    *reg = s[0].reg;
    *off = s[0].v;
    return 1;
}

/* Run the instructions until the location passes `pc`.  `init` is the rule
 * set after the CIE's initial instructions (for DW_CFA_restore).  Returns 1
 * done, else a W_* reason. */
static int run_cfa(struct rd r, const struct cie *cie, uintptr_t loc, uintptr_t pc,
                   struct rules *rs, const struct rules *init)
{
    struct rules stack[STATE_STACK];
    int sp = 0;
    while (r.p < r.end && !r.bad) {
        uint8_t op = *r.p++;
        uint8_t hi = op & 0xc0, lo = op & 0x3f;
        uint64_t reg, n;
        int64_t off;
        if (hi == 0x40) {
            loc += lo * cie->code_align;
            if (loc > pc)
                return 1;
            continue;
        }
        if (hi == 0x80) {
            off = (int64_t)uleb(&r) * cie->data_align;
            if (lo == R_RBP) rs->rbp_off = off;
            else if (lo == R_RA) rs->ra_off = off;
            continue;
        }
        if (hi == 0xc0) {
            if (!init) return W_PROG;
            if (lo == R_RBP) rs->rbp_off = init->rbp_off;
            else if (lo == R_RA) rs->ra_off = init->ra_off;
            continue;
        }
        switch (op) {
        case 0x00: break; /* nop */
        case 0x02: loc += RD(uint8_t, &r) * cie->code_align; if (loc > pc) return 1; break;
        case 0x03: loc += RD(uint16_t, &r) * cie->code_align; if (loc > pc) return 1; break;
        case 0x04: loc += RD(uint32_t, &r) * cie->code_align; if (loc > pc) return 1; break;
        case 0x05: /* offset_extended */
        case 0x11: /* offset_extended_sf */
            reg = uleb(&r);
            off = op == 0x05 ? (int64_t)uleb(&r) * cie->data_align : sleb(&r) * cie->data_align;
            if (reg == R_RBP) rs->rbp_off = off;
            else if (reg == R_RA) rs->ra_off = off;
            break;
        case 0x06: /* restore_extended */
            reg = uleb(&r);
            if (!init) return W_PROG;
            if (reg == R_RBP) rs->rbp_off = init->rbp_off;
            else if (reg == R_RA) rs->ra_off = init->ra_off;
            break;
        case 0x07: /* undefined */
            reg = uleb(&r);
            if (reg == R_RA) rs->ra_undef = 1;
            else if (reg == R_RBP) rs->rbp_off = 0; /* unrecoverable: treat as kept */
            break;
        case 0x08: /* same_value */
            reg = uleb(&r);
            if (reg == R_RBP) rs->rbp_off = 0;
            else if (reg == R_RA) return W_UNSUP;
            break;
        case 0x09: /* register reg1 in reg2 */
            reg = uleb(&r);
            (void)uleb(&r);
            if (reg == R_RBP || reg == R_RA) return W_UNSUP;
            break;
        case 0x0a: /* remember_state */
            if (sp == STATE_STACK) return W_UNSUP;
            stack[sp++] = *rs;
            break;
        case 0x0b: /* restore_state: the CFA rule is part of the state */
            if (sp == 0) return W_PROG;
            *rs = stack[--sp];
            break;
        case 0x0c: rs->cfa_reg = (uint8_t)uleb(&r); rs->cfa_off = (int64_t)uleb(&r); rs->expr = 0; break;
        case 0x12: rs->cfa_reg = (uint8_t)uleb(&r); rs->cfa_off = sleb(&r) * cie->data_align; rs->expr = 0; break;
        case 0x0d: rs->cfa_reg = (uint8_t)uleb(&r); break;
        case 0x0e: rs->cfa_off = (int64_t)uleb(&r); break;
        case 0x13: rs->cfa_off = sleb(&r) * cie->data_align; break;
        case 0x0f: { /* def_cfa_expression: the PLT's, evaluated at pc */
            n = uleb(&r);
            if (r.bad || n > (uint64_t)(r.end - r.p)) return W_PROG;
            struct rd e = { r.p, r.p + n, 0 };
            r.p += n;
            if (!eval_expr(e, pc, &rs->cfa_reg, &rs->cfa_off)) {
                rs->cfa_reg = 0xfe; /* unsupported unless a later row replaces it */
                break;
            }
            rs->expr = 1;
            break;
        }
        case 0x10: case 0x16: /* expression / val_expression */
            reg = uleb(&r);
            n = uleb(&r);
            if (r.bad || n > (uint64_t)(r.end - r.p)) return W_PROG;
            if (reg == R_RBP || reg == R_RA || reg == R_RSP) return W_UNSUP;
            r.p += n;
            break;
        case 0x14: case 0x15: /* val_offset(_sf) */
            reg = uleb(&r);
            if (op == 0x14) (void)uleb(&r); else (void)sleb(&r);
            if (reg == R_RBP || reg == R_RA) return W_UNSUP;
            break;
        case 0x2e: (void)uleb(&r); break; /* GNU_args_size */
        case 0x2f: /* GNU_negative_offset_extended */
            reg = uleb(&r);
            off = -(int64_t)uleb(&r) * cie->data_align;
            if (reg == R_RBP) rs->rbp_off = off;
            else if (reg == R_RA) rs->ra_off = off;
            break;
        default: return W_UNSUP; /* set_loc, vendor ops: stop */
        }
    }
    return r.bad ? W_PROG : 1;
}

/* glibc's __restore_rt: mov $15,%rax; syscall (rt_sigreturn). */
static const uint8_t restore_rt[9] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

enum { K_RULE = 1, K_SIGNAL };

/* The rules at lookup address `pc` of module m: K_RULE, K_SIGNAL, or a
 * negative W_* reason. */
static int rules_for(const struct mod *m, uintptr_t pc, uintptr_t ret, struct rules *rs)
{
    /* A return address at __restore_rt (pc = ret - 1 is its padding nop):
     * libunwind's test, the bytes, for restorers without an 'S' FDE. */
    if (ret >= m->lo && ret + sizeof restore_rt <= m->hi && !memcmp((const void *)ret, restore_rt, sizeof restore_rt))
        return K_SIGNAL;
    const uint8_t *f = fde_lookup(m, pc);
    if (!f)
        return -W_NOFDE;
    struct rd r;
    int is64;
    if (!record(f, m->elo, m->ehi, &r, &is64))
        return -W_BADFDE;
    const uint8_t *idp = r.p;
    uint64_t cie_off = is64 ? RD(uint64_t, &r) : RD(uint32_t, &r);
    if (r.bad || cie_off == 0 || cie_off > (uint64_t)((uintptr_t)idp - m->elo))
        return -W_BADFDE;
    struct cie cie;
    if (!parse_cie(idp - cie_off, m, &cie))
        return -W_CIE;
    uintptr_t start = enc_ptr(&r, cie.fde_enc, 0);
    uintptr_t range = enc_ptr(&r, cie.fde_enc & 0x0f, 0);
    if (r.bad || pc < start || pc - start >= range)
        return -W_OUTSIDE;
    if (cie.signal)
        return K_SIGNAL;
    if (cie.has_z) {
        uint64_t al = uleb(&r);
        if (r.bad || al > (uint64_t)(r.end - r.p))
            return -W_BADFDE;
        r.p += al;
    }
    struct rules init = { 0xff, 0, 0, 0, 0, 0 };
    int k = run_cfa(cie.ins, &cie, start, ~(uintptr_t)0, &init, NULL);
    if (k != 1)
        return -(k == W_PROG ? W_CIEPROG : k);
    *rs = init;
    k = run_cfa(r, &cie, start, pc, rs, &init);
    if (k != 1)
        return -k;
    if (rs->cfa_reg == 0xfe)
        return -W_UNSUP;
    if (rs->cfa_reg != R_RSP && rs->cfa_reg != R_RBP)
        return -W_CFAREG;
    return K_RULE;
}

/* ----------------------------------------------------------- rule cache
 * One u64 per slot.  Slot index i = (pc ^ pc >> 12) & MASK, so pc's low 12
 * bits are i ^ ((pc >> 12) & MASK) and need not be stored (CACHE_BITS must
 * stay 12); the word holds
 * pc >> 12 (35 bits, user space < 2^47) and the rule (29 bits):
 *   bit 0 valid, bit 1 cfa reg (0 rsp, 1 rbp), bit 2 ra undefined,
 *   bits 3..18 cfa offset / 8 (so w & CFA_MASK is the offset: 0..524280,
 *   a multiple of 8), bits 19..26 rbp saved at CFA-8k (k, 0 = not saved),
 *   bit 27 signal frame (the ucontext is at the CFA of the frame before),
 *   bit 28 stop here (negative entry; bits 3..10 the W_* reason).  Return
 *   address at CFA-8.  A rule that does not fit (a CFA offset not a
 *   multiple of 8 or above 512 KiB, the return address elsewhere, rbp saved
 *   above the CFA or far below) is not cached: rule_miss hands it to the
 *   walk as a "slow" word (C_SIG | C_NEG, never stored) with the rules in a
 *   struct, and every walk through that PC parses it again. */
#define CACHE_BITS 12
#define CACHE_N (1u << CACHE_BITS)
#define CACHE_MASK (CACHE_N - 1)
#define C_VALID 1u
#define C_RBP 2u
#define C_END 4u
#define C_SIG (1u << 27)
#define C_NEG (1u << 28)
#define C_SLOW (C_SIG | C_NEG)
#define CFA_MASK 0x7fff8u
static uint64_t cache[CACHE_N];

/* PT_CFI_SLOT_MIX (odd; tests only): multiplies the page number before the
 * xor, so PCs of nearby pages collide like random ones (1: the contiguous
 * code of a module maps to distinct slots as long as it can). */
#ifndef PT_CFI_SLOT_MIX
#define PT_CFI_SLOT_MIX 1u
#endif
static inline uint32_t slot_of(uintptr_t pc)
{
    return (uint32_t)((pc ^ (pc >> 12) * PT_CFI_SLOT_MIX) & CACHE_MASK);
}
unsigned pt_cfi_cache_slot(uintptr_t pc) { return slot_of(pc); }
static inline uint64_t key_of(uintptr_t pc) { return (uint64_t)(pc >> 12) << 29; }

static void sweep(uintptr_t start, uintptr_t end, int negative_only)
{
    if (negative_only && !__atomic_load_n(&neg_live, __ATOMIC_RELAXED))
        return;
    for (uint32_t i = 0; i < CACHE_N; i++) {
        uint64_t w = __atomic_load_n(&cache[i], __ATOMIC_RELAXED);
        if (!(w & C_VALID) || (negative_only && !(w & C_NEG)))
            continue;
        uintptr_t hi = (uintptr_t)(w >> 29);
        uintptr_t pc = hi << 12 | ((i ^ hi * PT_CFI_SLOT_MIX) & CACHE_MASK);
        if (pc >= start && pc < end)
            __atomic_compare_exchange_n(&cache[i], &w, 0, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
}

void pt_cfi_flush_rules(void)
{
    for (uint32_t i = 0; i < CACHE_N; i++)
        __atomic_store_n(&cache[i], 0, __ATOMIC_RELAXED);
}

void pt_cfi_reset(void)
{
    pt_cfi_forget(0, UINTPTR_MAX);
    pt_cfi_flush_rules();
    for (unsigned i = 0; i < NRANGE; i++)
        ranges[i].hi = ranges[i].lo = 0;
}

/* The packed word of a rule set (pc bits included), 0 if it does not fit. */
static uint64_t pack(uintptr_t pc, const struct rules *rs)
{
    if (rs->ra_off != -8 || rs->cfa_off < 0 || rs->cfa_off > (int64_t)CFA_MASK || (rs->cfa_off & 7)
        || rs->rbp_off > 0 || (rs->rbp_off & 7) || -rs->rbp_off / 8 > 0xff)
        return 0;
    return C_VALID | (rs->cfa_reg == R_RBP ? C_RBP : 0) | (rs->ra_undef ? C_END : 0)
           | (uint64_t)rs->cfa_off | ((uint64_t)(-rs->rbp_off / 8) << 19) | key_of(pc);
}

/* Cache miss at lookup address `at` (ret: the return address or exact PC
 * it came from): find the module, interpret the CFI, store the word —
 * negative ones too — and return it; 0 means stop without remembering
 * (a transient reason); C_SLOW: a rule the word cannot hold, in *slow. */
__attribute__((noinline)) static uint64_t rule_miss(uintptr_t at, uintptr_t ret, struct rules *slow)
{
    BUMP(rule_misses);
    if (at >> 47) {
        stop(W_NOMOD);
        return 0;
    }
    uint32_t ph = __atomic_load_n(&gp, __ATOMIC_SEQ_CST) & 1;
    __atomic_fetch_add(&inflight[ph], 1, __ATOMIC_SEQ_CST);
    uint64_t e = __atomic_load_n(&epoch, __ATOMIC_SEQ_CST);
    struct mod m;
    int found = mod_lookup(at, &m);
    if (!found && __atomic_load_n(&lazy_scan, __ATOMIC_RELAXED)) {
        /* Outside the inflight window: pt_cfi_forget need not wait for a
         * maps read. */
        __atomic_fetch_sub(&inflight[ph], 1, __ATOMIC_SEQ_CST);
        maps_module(at);
        ph = __atomic_load_n(&gp, __ATOMIC_SEQ_CST) & 1;
        __atomic_fetch_add(&inflight[ph], 1, __ATOMIC_SEQ_CST);
        e = __atomic_load_n(&epoch, __ATOMIC_SEQ_CST);
        found = mod_lookup(at, &m);
    }
    struct rules rs;
    int k = found ? rules_for(&m, at, ret, &rs) : -W_NOMOD;
    uint64_t w;
    if (k == K_SIGNAL) {
        w = C_VALID | C_SIG | key_of(at);
    } else if (k == K_RULE && (w = pack(at, &rs)) != 0) {
        if (rs.expr)
            BUMP(cfa_expressions);
    } else if (k == K_RULE) {
        BUMP(rule_uncacheable);
        *slow = rs;
        __atomic_fetch_sub(&inflight[ph], 1, __ATOMIC_SEQ_CST);
        return C_VALID | C_SLOW;
    } else {
        if (k == -W_UNSUP)
            BUMP(unsupported);
        w = C_VALID | C_NEG | ((uint64_t)-k << 3) | key_of(at);
        stop(-k);
        BUMP(negative_stored);
        __atomic_store_n(&neg_live, 1, __ATOMIC_RELAXED);
    }
    uint32_t i = slot_of(at);
    __atomic_store_n(&cache[i], w, __ATOMIC_SEQ_CST);
    /* A module registration or removal since the lookup: its sweep may
     * have run before this store; take the word back. */
    if (__atomic_load_n(&epoch, __ATOMIC_SEQ_CST) != e) {
        uint64_t x = w;
        __atomic_compare_exchange_n(&cache[i], &x, 0, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
    __atomic_fetch_sub(&inflight[ph], 1, __ATOMIC_SEQ_CST);
    return w;
}

int pt_cfi_probe(uintptr_t pc, long *cfa_off)
{
    uint64_t w = __atomic_load_n(&cache[slot_of(pc)], __ATOMIC_RELAXED);
    struct rules slow;
    if (!(w & C_VALID) || (w >> 29) != (pc >> 12))
        w = rule_miss(pc, pc + 1, &slow);
    *cfa_off = (long)(w & CFA_MASK);
    if (!w)
        return 0;
    if ((w & C_SLOW) == C_SLOW) {
        *cfa_off = (long)slow.cfa_off;
        return slow.ra_undef ? 4 : slow.cfa_reg == R_RBP ? 2 : 1;
    }
    if (w & C_NEG) {
        last_stop = why[(w >> 3) & 0xff];
        return 0;
    }
    if (w & C_SIG)
        return 3;
    if (w & C_END)
        return 4;
    return (w & C_RBP) ? 2 : 1;
}

/* ---------------------------------------------------------------- walk */
#define OFF_RIP offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP])
#define OFF_RSP offsetof(ucontext_t, uc_mcontext.gregs[REG_RSP])
#define OFF_RBP offsetof(ucontext_t, uc_mcontext.gregs[REG_RBP])

/* The walk from (pc, rsp, rbp); exact: pc is an interrupted PC (1), not a
 * return address (0); frames[0, n) already stored.  Inlined into both
 * entries, so pt_cfi_backtrace's fast path stays one function. */
static inline __attribute__((always_inline)) int walk(uintptr_t pc, uintptr_t rsp, uintptr_t rbp,
                                                      uintptr_t exact, void **frames, int max,
                                                      int n)
{
    struct srange b = stack_range(rsp);
    uintptr_t lo = b.lo, hi = b.hi;
    if (__builtin_expect(!hi, 0)) {
        last_stop = "stack bounds unknown (no /proc/self/maps?)";
        BUMP(bounds_stops);
        return n;
    }
    struct rules slow;
    while (n < max) {
        /* A return address is the instruction after the call: look up the
         * call itself (pc - 1). */
        uintptr_t at = pc - 1 + exact;
        uint64_t w = __atomic_load_n(&cache[slot_of(at)], __ATOMIC_RELAXED);
        if (__builtin_expect(!(w & C_VALID) || (w >> 29) != (at >> 12), 0)) {
            w = rule_miss(at, pc, &slow);
            if (!w)
                break;
        }
#ifdef PT_CFI_COUNT_HITS
        else
            BUMP(rule_hits);
#endif
        if (__builtin_expect(w & (C_END | C_SIG | C_NEG), 0)) {
            if (w & C_END) {
                last_stop = "end of stack";
                break;
            }
            if ((w & C_SLOW) == C_SLOW) {
                /* A rule the cache cannot hold: applied from the struct,
                 * every read checked the same way. */
                if (slow.ra_undef) {
                    last_stop = "end of stack";
                    break;
                }
                uintptr_t cfa = (slow.cfa_reg == R_RBP ? rbp : rsp) + (uintptr_t)slow.cfa_off;
                uintptr_t ra_at = cfa + (uintptr_t)slow.ra_off, rbp_at = cfa + (uintptr_t)slow.rbp_off;
                if (cfa <= rsp || cfa > hi || (cfa & 7) || ra_at < rsp || ra_at > hi - 8 || (ra_at & 7)
                    || (slow.rbp_off && (rbp_at < rsp || rbp_at > hi - 8 || (rbp_at & 7)))) {
                    last_stop = "CFA outside the stack";
                    BUMP(bounds_stops);
                    break;
                }
                uintptr_t ra = *(const uintptr_t *)ra_at;
                if (slow.rbp_off)
                    rbp = *(const uintptr_t *)rbp_at;
                rsp = cfa;
                exact = 0;
                if (ra == 0) {
                    last_stop = "return address 0";
                    break;
                }
                frames[n++] = (void *)ra;
                pc = ra;
                continue;
            }
            if (w & C_NEG) {
                last_stop = why[(w >> 3) & 0xff];
                break;
            }
            /* Signal frame: the ucontext is at rsp (the handler's CFA). */
            if (rsp < lo || hi - rsp < OFF_RIP + 8) {
                last_stop = "signal frame outside the stack";
                BUMP(bounds_stops);
                break;
            }
            uintptr_t nrip = *(const uintptr_t *)(rsp + OFF_RIP);
            uintptr_t nrsp = *(const uintptr_t *)(rsp + OFF_RSP);
            rbp = *(const uintptr_t *)(rsp + OFF_RBP);
            /* The interrupted stack: above the frame on the same stack, or
             * another one (a handler on the sigaltstack). */
            if (!(nrsp > rsp && nrsp < hi)) {
                b = stack_range(nrsp);
                lo = b.lo;
                hi = b.hi;
                if (!hi) {
                    last_stop = "interrupted stack unknown";
                    BUMP(bounds_stops);
                    break;
                }
            }
            BUMP(signal_frames);
            rsp = nrsp;
            pc = nrip;
            exact = 1;
            if (pc == 0) {
                last_stop = "return address 0";
                break;
            }
            frames[n++] = (void *)pc;
            continue;
        }
        uintptr_t cfa = ((w & C_RBP) ? rbp : rsp) + (w & CFA_MASK);
        uintptr_t k = (w >> 19) & 0xff, d = cfa - rsp;
        /* rsp + 8 <= cfa <= hi (rsp <= hi holds throughout), and the saved
         * rbp (CFA-8k) inside the frame: every read in [rsp, hi). */
        if (__builtin_expect(d < 8 || d > hi - rsp || 8 * k > d || (cfa & 7), 0)) {
            last_stop = "CFA outside the stack";
            BUMP(bounds_stops);
            break;
        }
        uintptr_t ra = ((const uintptr_t *)cfa)[-1];
        if (k)
            rbp = ((const uintptr_t *)cfa)[-(intptr_t)k];
        rsp = cfa;
        exact = 0;
        if (ra == 0) {
            last_stop = "return address 0";
            break;
        }
        frames[n++] = (void *)ra;
        pc = ra;
    }
    return n;
}

__attribute__((noinline)) int pt_cfi_backtrace(void **frames, int max)
{
    uintptr_t pc, rsp, rbp;
    /* pc and rsp of the same instruction: pc - 1 lies inside the lea, whose
     * CFI row describes the rsp read right after it (lea changes no rsp). */
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=&r"(pc), "=&r"(rsp), "=&r"(rbp));
    return walk(pc, rsp, rbp, 0, frames, max, 0);
}

int pt_cfi_backtrace_ctx(const void *uctx, void **frames, int max)
{
    if (!uctx || max <= 0)
        return 0;
    const ucontext_t *uc = uctx;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t rsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    uintptr_t rbp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
    if (!pc) {
        last_stop = "return address 0";
        return 0;
    }
    frames[0] = (void *)pc;
    return walk(pc, rsp, rbp, 1, frames, max, 1);
}
