/*
 * spreport.c — the special pool's fault handler and reports (issue 12):
 * SIGSEGV/SIGBUS in the special region, checks that failed at free, the
 * report (segment record and stderr), then death by the original signal.
 *
 * The handler (pt__sp_handler_install)
 * ------------------------------------
 * Installed for SIGSEGV and SIGBUS with SA_SIGINFO | SA_ONSTACK |
 * SA_NODEFER | SA_RESTART and an empty sa_mask:
 *   SA_ONSTACK  a program that set up a sigaltstack (to survive its own
 *               stack overflows) still gets its handler run there when we
 *               chain to it; without an alternate stack it changes nothing.
 *   SA_NODEFER  the signal is not blocked while ours runs: a fault inside
 *               the report code itself re-enters the handler, which sees
 *               the thread's in_report flag and dies with the signal
 *               instead of looping; the program's own handler is called
 *               with the mask it asked for (its sa_mask, plus the signal
 *               unless its SA_NODEFER), set by us before the call.  The
 *               kernel restores the interrupted mask at sigreturn.
 * The handlers that were there are saved as the ones to chain to.  A fault
 * (si_code > 0) whose address lies in the special region and that
 * pt__sp_lookup explains is reported; everything else goes to the saved
 * handler as the kernel would have run it: SA_SIGINFO or plain, SIG_IGN
 * (a fault cannot be ignored: the kernel kills; a kill(2) is ignored),
 * SIG_DFL (restore the default and return: the instruction faults again
 * and the kernel kills with a core; a kill(2) is raised again),
 * SA_RESETHAND (the saved handler becomes SIG_DFL before the call).
 *
 * The preload interposes sigaction() and the signal() family: while ours
 * is installed, a program's SIGSEGV/SIGBUS handler is recorded as the one
 * to chain to and the kernel keeps ours (pt__sp_sigaction).  The library
 * build cannot: it re-arms at each switch-on (docs/special-signals.md says
 * what is lost).  The runtime's own calls go to glibc's __sigaction, which
 * the preload does not interpose.
 *
 * The report (pt__sp_report)
 * --------------------------
 * No allocation, no lock that the thread could already hold: the segment
 * record first (ring claimed with reports_seq), then stderr under a spin
 * flag taken with a bounded wait (two threads' reports do not interleave;
 * a thread that waited too long writes anyway), with function names read
 * from the modules' files (open + mmap, elfsyms.c).
 */
#define _GNU_SOURCE
#include "rtstate.h"
#include "unwind_cfi.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* glibc's public alias of sigaction; the preload interposes sigaction. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

#define NSIG_OURS 2 /* 0: SIGSEGV, 1: SIGBUS */
static int sig_slot(int sig)
{
    return sig == SIGSEGV ? 0 : sig == SIGBUS ? 1 : -1;
}

/* The program's handlers (what the kernel would run without us).  Written
 * under act_lock into the slot not published, then published by flipping
 * cur: a handler copies the published slot without a lock. */
static struct sigaction chain_act[NSIG_OURS][2];
static unsigned chain_cur[NSIG_OURS];
static int ours_on; /* our handler is in the kernel (1), published release */
static pt_spin act_lock;

/* Per thread: inside pt__sp_report (a fault there dies), and the call to
 * the program's handler in progress (siginfo pointer and our frame), so
 * that a program handler that calls its saved old handler — ours, in the
 * library build after a re-arm — does not loop. */
static __thread int in_report;
static __thread const void *chain_si;
static __thread uintptr_t chain_fp;

static void sp_handler(int sig, siginfo_t *si, void *uctx);

static int is_ours(const struct sigaction *a)
{
    return (a->sa_flags & SA_SIGINFO) && a->sa_sigaction == sp_handler;
}

static void chain_get(int slot, struct sigaction *out)
{
    unsigned c = __atomic_load_n(&chain_cur[slot], __ATOMIC_ACQUIRE);
    *out = chain_act[slot][c & 1];
}

/* Caller holds act_lock (or is a signal handler that could not take it). */
static void chain_set(int slot, const struct sigaction *a)
{
    unsigned c = __atomic_load_n(&chain_cur[slot], __ATOMIC_RELAXED);
    chain_act[slot][(c + 1) & 1] = *a;
    __atomic_store_n(&chain_cur[slot], c + 1, __ATOMIC_RELEASE);
}

/* Default action for sig, and give it back to the kernel. */
static void set_default(int sig)
{
    struct sigaction d;
    memset(&d, 0, sizeof d);
    d.sa_handler = SIG_DFL;
    sigemptyset(&d.sa_mask);
    __sigaction(sig, &d, NULL);
}

/* Die by sig as the kernel would: a fault returns (the instruction runs
 * again under SIG_DFL); a signal sent by a process is raised again. */
static void die_default(int sig, const siginfo_t *si)
{
    set_default(sig);
    if (si && si->si_code <= 0) {
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, sig);
        pthread_sigmask(SIG_UNBLOCK, &m, NULL);
        raise(sig);
    }
}

void pt__sp_handler_install(void)
{
    pt_seg_special *spc = pt__spc;
    /* Not held by this thread already (a signal handler that interrupted
     * it): then it goes on without the lock rather than wait for itself. */
    int locked = pt__spin_lock_unless_mine(&act_lock);
    struct sigaction ours;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = sp_handler;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
    sigemptyset(&ours.sa_mask);
    int ok = 1;
    static const int sigs[NSIG_OURS] = {SIGSEGV, SIGBUS};
    for (int i = 0; i < NSIG_OURS; i++) {
        struct sigaction now;
        if (__sigaction(sigs[i], NULL, &now) != 0) {
            ok = 0;
            continue;
        }
        if (is_ours(&now))
            continue; /* still ours: the recorded chain stays */
        /* First install, or (library build) the program installed its own
         * since: that one is now the handler to chain to. */
        chain_set(i, &now);
        if (__sigaction(sigs[i], &ours, NULL) != 0)
            ok = 0;
    }
    __atomic_store_n(&ours_on, ok, __ATOMIC_RELEASE);
    if (locked)
        pt__spin_unlock(&act_lock);
    if (spc)
        __atomic_store_n(&spc->handler, ok ? PT_SPH_ON : PT_SPH_FAILED, __ATOMIC_RELEASE);
}

int pt__sp_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int slot = sig_slot(sig);
    if (slot < 0 || !__atomic_load_n(&ours_on, __ATOMIC_ACQUIRE))
        return -1;
    int locked = pt__spin_lock_unless_mine(&act_lock);
    struct sigaction now;
    /* Ours still in the kernel?  (Someone may have bypassed us.) */
    if (__sigaction(sig, NULL, &now) != 0 || !is_ours(&now)) {
        if (locked)
            pt__spin_unlock(&act_lock);
        return -1;
    }
    struct sigaction prev;
    chain_get(slot, &prev);
    if (act) {
        struct sigaction a = *act;
        /* What the kernel would keep: SIGKILL and SIGSTOP cannot be in a
         * mask; nothing else to normalise for SIGSEGV/SIGBUS. */
        sigdelset(&a.sa_mask, SIGKILL);
        sigdelset(&a.sa_mask, SIGSTOP);
        chain_set(slot, &a);
    }
    if (locked)
        pt__spin_unlock(&act_lock);
    if (old)
        *old = prev;
    return 0;
}

/* Call the program's handler for sig as the kernel would have. */
static void chain_to(int sig, siginfo_t *si, void *uctx)
{
    int slot = sig_slot(sig);
    struct sigaction a;
    chain_get(slot, &a);
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    if (chain_si == si && chain_fp && fp < chain_fp && chain_fp - fp < (1u << 20)) {
        /* Called again from inside the program's handler with the same
         * siginfo: it chains to its old handler, which was ours.  Nothing
         * is before us: act as the default would. */
        die_default(sig, si);
        return;
    }
    if (!(a.sa_flags & SA_SIGINFO) && a.sa_handler == SIG_IGN) {
        if (si->si_code > 0)
            die_default(sig, si); /* the kernel kills on an ignored fault */
        return;
    }
    if (!(a.sa_flags & SA_SIGINFO) && a.sa_handler == SIG_DFL) {
        die_default(sig, si);
        return;
    }
    if (a.sa_flags & SA_RESETHAND) {
        struct sigaction d;
        memset(&d, 0, sizeof d);
        d.sa_handler = SIG_DFL;
        sigemptyset(&d.sa_mask);
        chain_set(slot, &d);
    }
    sigset_t m = a.sa_mask;
    if (!(a.sa_flags & SA_NODEFER))
        sigaddset(&m, sig);
    pthread_sigmask(SIG_BLOCK, &m, NULL);
    const void *osi = chain_si;
    uintptr_t ofp = chain_fp;
    chain_si = si;
    chain_fp = fp;
    if (a.sa_flags & SA_SIGINFO)
        a.sa_sigaction(sig, si, uctx);
    else
        a.sa_handler(sig);
    /* Not reached when the handler jumps out: then chain_si stays, which
     * only matters for a call with the same siginfo deeper on the stack. */
    chain_si = osi;
    chain_fp = ofp;
}

static void sp_handler(int sig, siginfo_t *si, void *uctx)
{
    int saved = errno;
    if (in_report) {
        /* A fault inside the report: never loop. */
        set_default(sig);
        errno = saved;
        return;
    }
    uintptr_t a = (uintptr_t)si->si_addr;
    if (si->si_code > 0 && sp_mine((const void *)a)) {
        pt_sp_where w;
        pt__sp_lookup(a, &w);
        if (w.kind) {
            const ucontext_t *uc = uctx;
            unsigned acc = PT_SPA_UNKNOWN;
            if (uc->uc_mcontext.gregs[REG_TRAPNO] == 14) /* page fault */
                acc = (uc->uc_mcontext.gregs[REG_ERR] & 2) ? PT_SPA_WRITE : PT_SPA_READ;
            pt__sp_report(w.kind, a, w.blk, w.offset, uctx, sig, acc);
            errno = saved;
            return;
        }
    }
    chain_to(sig, si, uctx);
    errno = saved;
}

/* ---- report ---------------------------------------------------------------- */

static const char *kind_name(unsigned kind)
{
    switch (kind) {
    case PT_SPR_OVERRUN: return "overrun";
    case PT_SPR_UNDERRUN: return "underrun";
    case PT_SPR_USE_AFTER_FREE: return "use after free";
    case PT_SPR_SLOP: return "slop overwritten";
    case PT_SPR_DOUBLE_FREE: return "double free";
    case PT_SPR_BAD_FREE: return "free of an address that is not a block's";
    case PT_SPR_WILD: return "access to a page of the pool that holds no block";
    default: return "error";
    }
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGABRT: return "SIGABRT";
    default: return "a signal";
    }
}

static void bputi(pt_buf *b, int64_t v)
{
    if (v < 0) {
        pt__bputs(b, "-");
        pt__bputu(b, (uint64_t)0 - (uint64_t)v);
    } else {
        pt__bputu(b, (uint64_t)v);
    }
}

/* One mapped module file at a time (most frames of a stack share one). */
typedef struct symcache {
    uint32_t rec; /* UINT32_MAX: none */
    int failed;
    const void *img;
    size_t len;
} symcache;

typedef struct symfind {
    uint64_t target;
    uint64_t best_value;
    char name[96];
    int found;
} symfind;

static int sym_cb(void *arg, const char *name, uint64_t value, uint64_t size)
{
    symfind *f = arg;
    if (f->target < value || f->target - value >= size)
        return 0;
    if (f->found && value < f->best_value)
        return 0;
    size_t i = 0;
    while (name[i] && i + 1 < sizeof f->name) {
        f->name[i] = name[i];
        i++;
    }
    f->name[i] = 0;
    f->best_value = value;
    f->found = 1;
    return 1;
}

static void cache_drop(symcache *c)
{
    if (c->img)
        munmap((void *)c->img, c->len);
    c->img = NULL;
    c->len = 0;
    c->rec = UINT32_MAX;
    c->failed = 0;
}

static int cache_load(symcache *c, uint32_t rec, const char *path)
{
    if (c->rec == rec)
        return !c->failed;
    cache_drop(c);
    c->rec = rec;
    c->failed = 1;
    if (path[0] != '/')
        return 0; /* [vdso] and the like: no file */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    off_t len = lseek(fd, 0, SEEK_END);
    if (len > 0) {
        void *img = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (img != MAP_FAILED) {
            c->img = img;
            c->len = (size_t)len;
            c->failed = 0;
        }
    }
    close(fd);
    return !c->failed;
}

static const char *base_name(const char *p)
{
    const char *s = p;
    for (; *p; p++)
        if (*p == '/')
            s = p + 1;
    return s;
}

/* "module+0xoff function+0xoff" for pc (exact: an interrupted PC; else a
 * return address, looked up at pc - 1). */
static void put_frame(pt_buf *b, uint64_t pc, int exact, symcache *c)
{
    pt__bputx(b, pc);
    pt_seg_header *h = pt__seg;
    if (!h || !h->modules_off)
        return;
    const pt_seg_module *m = (const pt_seg_module *)((const char *)h + h->modules_off);
    uint32_t n = __atomic_load_n(&h->modules_used, __ATOMIC_ACQUIRE);
    if (n > h->max_modules)
        n = h->max_modules;
    uint32_t k = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (!(m[i].flags & PT_MOD_UNLOADED) && pc >= m[i].start && pc < m[i].end) {
            k = i;
            break;
        }
    if (k == UINT32_MAX)
        return;
    char path[PT_MOD_PATH_MAX];
    memcpy(path, m[k].path, sizeof path);
    path[sizeof path - 1] = 0;
    uint64_t off = pc - m[k].base;
    pt__bputs(b, " ");
    pt__bputs(b, path[0] ? base_name(path) : "?");
    pt__bputs(b, "+");
    pt__bputx(b, off);
    if (!cache_load(c, k, path))
        return;
    symfind f;
    f.target = off - (exact ? 0 : 1);
    f.best_value = 0;
    f.found = 0;
    f.name[0] = 0;
    pt__elf_scan_funcs(c->img, c->len, sym_cb, &f);
    if (!f.found)
        return;
    pt__bputs(b, " ");
    pt__bputs(b, f.name);
    pt__bputs(b, "+");
    pt__bputx(b, off - f.best_value);
}

#define PRINT_FRAMES 24

static void line_out(pt_buf *b)
{
    pt__bputs(b, "\n");
    pt__write_stderr(b->p, b->len);
    b->len = 0;
    b->p[0] = 0;
}

static void put_stack(const char *title, uint32_t tid, const uint64_t *fr, uint32_t n,
                      int first_exact, symcache *c)
{
    char buf[512];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag:   ");
    pt__bputs(&b, title);
    if (tid) {
        pt__bputs(&b, " (thread ");
        pt__bputu(&b, tid);
        pt__bputs(&b, ")");
    }
    pt__bputs(&b, n ? ":" : ": no stack recorded");
    line_out(&b);
    for (uint32_t i = 0; i < n && i < PRINT_FRAMES; i++) {
        pt__bputs(&b, "pooltag:     #");
        pt__bputu(&b, i);
        pt__bputs(&b, " ");
        put_frame(&b, fr[i], first_exact && i == 0, c);
        line_out(&b);
    }
    if (n > PRINT_FRAMES) {
        pt__bputs(&b, "pooltag:     ...");
        line_out(&b);
    }
}

/* The frames of stack id (0: none) from the segment's table. */
static uint32_t stack_frames(uint32_t id, uint64_t *out, uint32_t max)
{
    pt_seg_header *h = pt__seg;
    if (!id || !h || !h->stacks_off || id > h->max_stacks)
        return 0;
    const uint64_t *slots = (const uint64_t *)((const char *)h + h->stacks_off);
    const uint64_t *frames = (const uint64_t *)((const char *)h + h->frames_off);
    uint64_t v = __atomic_load_n(&slots[id - 1], __ATOMIC_ACQUIRE);
    uint32_t off = pt_stk_off(v), n = pt_stk_depth(v);
    if (!v || (uint64_t)off + n > h->max_frames)
        return 0;
    if (n > max)
        n = max;
    for (uint32_t i = 0; i < n; i++)
        out[i] = __atomic_load_n(&frames[off + i], __ATOMIC_RELAXED);
    return n;
}

/* pc is in the runtime's module (the preload or libpooltag.so; never the
 * main program, which a static link makes the runtime's module too). */
static int in_self(uint64_t pc)
{
    static uint64_t lo, hi;
    if (!hi) {
        pt_seg_header *h = pt__seg;
        if (!h || !h->modules_off)
            return 0;
        const pt_seg_module *m = (const pt_seg_module *)((const char *)h + h->modules_off);
        uint32_t n = __atomic_load_n(&h->modules_used, __ATOMIC_ACQUIRE);
        uint64_t me = (uint64_t)(uintptr_t)&in_self;
        for (uint32_t i = 0; i < n && i < h->max_modules; i++)
            if (me >= m[i].start && me < m[i].end) {
                if (m[i].flags & PT_MOD_MAIN)
                    return 0; /* linked statically: the program's own code too */
                lo = m[i].start;
                hi = m[i].end;
                break;
            }
        if (!hi)
            return 0;
    }
    return pc >= lo && pc < hi;
}

/* Tests only (sp_unit reenter): called in the middle of each report, to
 * make the report code itself fault. */
void (*pt__sp_report_test_hook)(void);

/* stderr: one report at a time across threads, waiting a bounded time. */
static int out_flag;

static void out_begin(void)
{
    for (int i = 0; i < 2000; i++) {
        int z = 0;
        if (__atomic_compare_exchange_n(&out_flag, &z, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

static void out_end(void)
{
    __atomic_store_n(&out_flag, 0, __ATOMIC_RELEASE);
}

void pt__sp_report(unsigned kind, uintptr_t addr, uint32_t blk, int64_t offset,
                   const void *uctx, int signo, unsigned access)
{
    int saved = errno;
    in_report++;
    pt_seg_header *h = pt__seg;
    pt_seg_special *spc = pt__spc;
    const pt_seg_spblk *bk = NULL;
    if (h && h->spblk_off && blk < h->max_special)
        bk = (const pt_seg_spblk *)((const char *)h + h->spblk_off) + blk;
    uint64_t baddr = bk ? __atomic_load_n(&bk->addr, __ATOMIC_ACQUIRE) : 0;
    if (!baddr)
        bk = NULL;
    int fault = uctx != NULL;
    int dsig = fault ? (signo ? signo : SIGSEGV) : SIGABRT;
    /* Recover only where the program can go on: a fault needs a block to
     * open (a wild access would fault forever). */
    int recover = spc && (__atomic_load_n(&spc->sp_flags, __ATOMIC_RELAXED) & PT_SPF_RECOVER) &&
                  (!fault || bk);

    /* The culprit's stack: from the signal context, or here minus the
     * runtime's own frames. */
    void *raw[PT_SEG_DEPTH_LIMIT + 16];
    uint64_t fr[PT_SEG_DEPTH_LIMIT];
    uint32_t nf = 0;
    if (fault) {
        int n = pt_cfi_backtrace_ctx(uctx, raw, PT_SEG_DEPTH_LIMIT);
        for (int i = 0; i < n; i++)
            fr[nf++] = (uint64_t)(uintptr_t)raw[i];
    } else {
        int n = pt_cfi_backtrace(raw, PT_SEG_DEPTH_LIMIT + 16);
        int i = 0;
        while (i < n && in_self((uint64_t)(uintptr_t)raw[i]))
            i++;
        for (; i < n && nf < PT_SEG_DEPTH_LIMIT; i++)
            fr[nf++] = (uint64_t)(uintptr_t)raw[i];
    }
    uint32_t stack = pt__tr_stack_id(fr, nf);
    uint32_t tid = pt__gettid();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);

    /* The record. */
    if (h && spc && h->spreports_off) {
        uint64_t n = __atomic_fetch_add(&spc->reports_seq, 1, __ATOMIC_RELAXED);
        pt_seg_spreport *r = (pt_seg_spreport *)((char *)h + h->spreports_off) + n % PT_SEG_SPREPORTS;
        __atomic_store_n(&r->seq, 0, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        r->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        r->fault_addr = addr;
        r->block = baddr;
        r->size = bk ? bk->size : 0;
        r->offset = offset;
        r->pc = fault ? (uint64_t)((const ucontext_t *)uctx)->uc_mcontext.gregs[REG_RIP] : 0;
        r->kind = kind;
        r->tag = bk ? bk->tag : 0;
        r->tid = tid;
        r->signo = recover ? 0 : (uint32_t)dsig;
        r->stack = stack;
        r->alloc_stack = bk ? bk->alloc_stack : 0;
        r->free_stack = bk ? bk->free_stack : 0;
        r->alloc_tid = bk ? bk->alloc_tid : 0;
        r->free_tid = bk ? bk->free_tid : 0;
        r->access = (uint8_t)access;
        r->recovered = (uint8_t)recover;
        r->reserved0 = 0;
        __atomic_store_n(&r->seq, n + 1, __ATOMIC_RELEASE);
    }

    /* stderr. */
    out_begin();
    char buf[512];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag: special pool: ");
    pt__bputs(&b, kind_name(kind));
    if (fault)
        pt__bputs(&b, access == PT_SPA_WRITE ? " (write)" : access == PT_SPA_READ ? " (read)" : "");
    pt__bputs(&b, ": address ");
    pt__bputx(&b, addr);
    if (bk) {
        pt__bputs(&b, kind == PT_SPR_OVERRUN || kind == PT_SPR_SLOP ? ": block end + "
                      : kind == PT_SPR_UNDERRUN                     ? ": block start - "
                                                                    : ": block start + ");
        bputi(&b, kind == PT_SPR_UNDERRUN ? -offset : offset);
        pt__bputs(&b, " (block ");
        pt__bputx(&b, baddr);
        pt__bputs(&b, ", size ");
        pt__bputu(&b, bk->size);
        pt__bputs(&b, ", tag ");
        pt__bputtag(&b, bk->tag);
        pt__bputs(&b, bk->state == PT_SPB_LIVE ? ", live)" : ", freed)");
    }
    line_out(&b);
    pt__bputs(&b, "pooltag:   pid ");
    pt__bputu(&b, (uint64_t)getpid());
    pt__bputs(&b, ", tid ");
    pt__bputu(&b, tid);
    if (fault) {
        pt__bputs(&b, ", pc ");
        pt__bputx(&b, (uint64_t)((const ucontext_t *)uctx)->uc_mcontext.gregs[REG_RIP]);
    }
    line_out(&b);
    void (*hook)(void) = __atomic_load_n(&pt__sp_report_test_hook, __ATOMIC_RELAXED);
    if (hook)
        hook();
    symcache c = {UINT32_MAX, 0, NULL, 0};
    put_stack(fault ? "faulting stack" : kind == PT_SPR_SLOP ? "freed by (found at free)" : "called by",
              tid, fr, nf, fault, &c);
    if (bk) {
        uint64_t g[PT_SEG_DEPTH_LIMIT];
        uint32_t ng = stack_frames(bk->alloc_stack, g, PT_SEG_DEPTH_LIMIT);
        put_stack("allocated by", bk->alloc_tid, g, ng, 0, &c);
        /* the block's free stack, unless it is the culprit's (a check at
         * this free) */
        if (bk->state != PT_SPB_LIVE && bk->free_stack && bk->free_stack != stack) {
            ng = stack_frames(bk->free_stack, g, PT_SEG_DEPTH_LIMIT);
            put_stack("freed by", bk->free_tid, g, ng, 0, &c);
        }
    }
    cache_drop(&c);
    if (recover)
        pt__bputs(&b, "pooltag:   going on (PT_SPECIAL_RECOVER=1)");
    else {
        pt__bputs(&b, "pooltag:   the process dies with ");
        pt__bputs(&b, sig_name(dsig));
    }
    line_out(&b);
    out_end();

    if (recover) {
        if (fault)
            pt__sp_recover_open(blk);
        in_report--;
        errno = saved;
        return;
    }
    /* Die.  A fault: SIG_DFL and return, the instruction faults again. */
    set_default(dsig);
    if (!fault) {
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGABRT);
        pthread_sigmask(SIG_UNBLOCK, &m, NULL);
        raise(SIGABRT);
        _exit(128 + SIGABRT); /* not reached */
    }
    in_report--;
    errno = saved;
}
