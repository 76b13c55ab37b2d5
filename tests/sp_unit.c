/*
 * sp_unit.c — spreport.c and pt_cfi_backtrace_ctx tested without the
 * special pool (issue 12, item 2): linked with the static runtime so that
 * the internal functions are reachable.  A page of its own made PROT_NONE
 * stands in for a guard page; a block record of its own stands in for the
 * pool's.  Modes (argv[1]):
 *   ctx         the walk from a signal context: frame 0 is the faulting PC,
 *               frame 1 and 2 the return addresses recorded on the way in
 *   fault       pt__sp_report from the test's own SIGSEGV handler: the
 *               report on stderr (checked by sp_unit.sh), then death by
 *               SIGSEGV
 *   recover     the same with PT_SPF_RECOVER: the segment record's fields
 *   check       pt__sp_report for a failed check (no context): SIGABRT
 *   chain       pooltag's handler chains to the program's (siglongjmp),
 *               re-arms over a handler installed later (fix up and return),
 *               and pt__sp_sigaction records without touching the kernel
 *   chain-dfl   no program handler: a fault outside the pool kills with
 *               SIGSEGV, and pooltag says nothing
 *   chain-ign   SIG_IGN: a fault cannot be ignored, the process dies
 *   reenter     the report code itself faults, in the special pool (a test
 *               hook touches a freed special block in the middle of a
 *               check's report; PT_SPECIAL=Ovr1): the process dies by that
 *               SIGSEGV, without a second report
 */
#define _GNU_SOURCE
#include "pooltag.h"
#include "rtstate.h"
#include "unwind_cfi.h"

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
extern void (*pt__sp_report_test_hook)(void);

static char *guard;
static volatile void *ra1, *ra2;
static void *frames[64];
static volatile int nframes, hits;
static volatile uintptr_t rip;
static sigjmp_buf jb;
static int mode_fault, mode_recover;

#define FAIL(...)                                                            \
    do {                                                                     \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                               \
        fputc('\n', stderr);                                                 \
        exit(1);                                                             \
    } while (0)

__attribute__((noinline)) static void unit_overrun(char *p)
{
    ra1 = __builtin_return_address(0);
    *(volatile char *)p = 1;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void unit_outer(char *p)
{
    ra2 = __builtin_return_address(0);
    unit_overrun(p);
    __asm__ volatile("" ::: "memory");
}

/* The stand-in block record: index 0, a live 32-byte 'Ovr1' block ending
 * at the guard page, its allocation stack captured here. */
__attribute__((noinline)) static uint32_t unit_alloc(void)
{
    void *fr[64];
    int n = pt_cfi_backtrace(fr, 64);
    uint64_t f[64];
    for (int i = 0; i < n; i++)
        f[i] = (uint64_t)(uintptr_t)fr[i];
    uint32_t id = pt__tr_stack_id(f, (uint32_t)n);
    pt_seg_spblk *b = (pt_seg_spblk *)((char *)pt__seg + pt__seg->spblk_off);
    b->size = 32;
    b->run = (uint64_t)(uintptr_t)guard - 4096;
    b->npages = 2;
    b->tag = PT_TAG("Ovr1");
    b->alloc_stack = id;
    b->alloc_tid = (uint32_t)gettid();
    b->state = PT_SPB_LIVE;
    __atomic_store_n(&b->addr, (uint64_t)(uintptr_t)guard - 32, __ATOMIC_RELEASE);
    return id;
}

static char *freed_block;

static void touch_freed(void)
{
    *(volatile char *)freed_block = 1;
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    ucontext_t *uc = uctx;
    rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (mode_fault) {
        /* what spreport's own handler does for a fault in the pool */
        unsigned acc = (uc->uc_mcontext.gregs[REG_ERR] & 2) ? PT_SPA_WRITE : PT_SPA_READ;
        pt__sp_report(PT_SPR_OVERRUN, (uintptr_t)si->si_addr, 0,
                      (int64_t)((uintptr_t)si->si_addr - (uintptr_t)guard), uctx, sig, acc);
        if (mode_recover) /* pt__sp_recover_open is the pool's */
            mprotect(guard, 4096, PROT_READ | PROT_WRITE);
        return;
    }
    nframes = pt_cfi_backtrace_ctx(uctx, frames, 64);
    mprotect(guard, 4096, PROT_READ | PROT_WRITE);
}

static void own_longjmp(int sig)
{
    (void)sig;
    hits++;
    siglongjmp(jb, 1);
}

static void own_fixup(int sig, siginfo_t *si, void *uctx)
{
    (void)sig, (void)uctx;
    hits += 100;
    mprotect((void *)((uintptr_t)si->si_addr & ~(uintptr_t)4095), 4096, PROT_READ | PROT_WRITE);
}

static void handler_for(void (*f)(int, siginfo_t *, void *))
{
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_sigaction = f;
    a.sa_flags = SA_SIGINFO;
    sigemptyset(&a.sa_mask);
    if (__sigaction(SIGSEGV, &a, NULL) != 0)
        FAIL("sigaction");
}

static int kernel_has(void *f)
{
    struct sigaction now;
    __sigaction(SIGSEGV, NULL, &now);
    return (void *)now.sa_sigaction == f;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        FAIL("usage: sp_unit MODE");
    const char *m = argv[1];
    /* the runtime up (segment, stack table) */
    pt_free(pt_alloc(PT_PAGED, 16, PT_TAG("Unit")));
    if (!pt__seg || !pt__spc || !pt__seg->spblk_off)
        FAIL("no segment or no special pool records");
    char *area = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        FAIL("mmap");
    guard = area + 4096;
    mprotect(guard, 4096, PROT_NONE);

    if (!strcmp(m, "ctx")) {
        handler_for(on_segv);
        unit_outer(guard + 8);
        if (nframes < 3)
            FAIL("%d frames from the context", nframes);
        if ((uintptr_t)frames[0] != rip)
            FAIL("frame 0 %p, not the faulting pc %#lx", frames[0], (unsigned long)rip);
        if (frames[1] != ra1 || frames[2] != ra2)
            FAIL("frames 1, 2 = %p %p, expected %p %p", frames[1], frames[2], (void *)ra1,
                 (void *)ra2);
        printf("ok %d frames\n", nframes);
        return 0;
    }
    if (!strcmp(m, "fault") || !strcmp(m, "recover")) {
        mode_fault = 1;
        mode_recover = !strcmp(m, "recover");
        if (mode_recover)
            pt__spc->sp_flags |= PT_SPF_RECOVER;
        uint32_t aid = unit_alloc();
        uint64_t seq0 = pt__spc->reports_seq;
        handler_for(on_segv);
        unit_outer(guard); /* one byte past the 32-byte block */
        if (!mode_recover)
            FAIL("survived a reported fault");
        const pt_seg_spreport *r =
            (const pt_seg_spreport *)((char *)pt__seg + pt__seg->spreports_off) + seq0 % PT_SEG_SPREPORTS;
        if (pt__spc->reports_seq != seq0 + 1 || r->seq != seq0 + 1)
            FAIL("report not recorded (reports_seq %lu, seq %lu)",
                 (unsigned long)pt__spc->reports_seq, (unsigned long)r->seq);
        if (r->kind != PT_SPR_OVERRUN || r->fault_addr != (uint64_t)(uintptr_t)guard ||
            r->block != (uint64_t)(uintptr_t)(guard - 32) || r->size != 32 || r->offset != 0 ||
            r->pc != rip || r->tag != PT_TAG("Ovr1") || r->access != PT_SPA_WRITE ||
            r->signo != 0 || r->recovered != 1 || r->alloc_stack != aid || r->free_stack != 0 ||
            r->tid != (uint32_t)gettid() || !r->stack)
            FAIL("record fields: kind %u addr %#lx block %#lx size %lu off %ld pc %#lx tag %#x "
                 "access %u signo %u recovered %u",
                 r->kind, (unsigned long)r->fault_addr, (unsigned long)r->block,
                 (unsigned long)r->size, (long)r->offset, (unsigned long)r->pc, r->tag, r->access,
                 r->signo, r->recovered);
        /* the faulting stack in the table: frame 0 the faulting pc */
        const uint64_t *slots = (const uint64_t *)((char *)pt__seg + pt__seg->stacks_off);
        const uint64_t *fr = (const uint64_t *)((char *)pt__seg + pt__seg->frames_off);
        uint64_t v = slots[r->stack - 1];
        if (pt_stk_depth(v) < 3 || fr[pt_stk_off(v)] != rip ||
            fr[pt_stk_off(v) + 1] != (uint64_t)(uintptr_t)ra1)
            FAIL("faulting stack: depth %u, frame 0 %#lx", pt_stk_depth(v),
                 (unsigned long)fr[pt_stk_off(v)]);
        printf("ok recovered\n");
        return 0;
    }
    if (!strcmp(m, "check")) {
        unit_alloc();
        pt__sp_report(PT_SPR_DOUBLE_FREE, (uintptr_t)guard - 32, 0, 0, NULL, 0, PT_SPA_UNKNOWN);
        FAIL("survived a failed check");
    }
    if (!strcmp(m, "chain")) {
        /* the program's handler first, then pooltag's */
        signal(SIGSEGV, own_longjmp);
        pt__sp_handler_install();
        if (pt__spc->handler != PT_SPH_ON)
            FAIL("handler state %u", pt__spc->handler);
        if (kernel_has((void *)own_longjmp))
            FAIL("pooltag's handler not installed");
        for (int i = 0; i < 3; i++)
            if (!sigsetjmp(jb, 1))
                unit_outer(guard);
        if (hits != 3)
            FAIL("own handler ran %d times, expected 3", hits);
        /* a handler installed later behind pooltag's back (the library
         * build: no interposer), then a re-arm at the next switch-on */
        handler_for(own_fixup);
        pt__sp_handler_install();
        if (kernel_has((void *)own_fixup))
            FAIL("not re-armed");
        unit_outer(guard); /* fixed up: returns */
        if (hits != 103)
            FAIL("fix-up handler: hits %d", hits);
        mprotect(guard, 4096, PROT_NONE);
        /* the interposers' path: recorded, the kernel keeps pooltag's, old
         * says what the program had */
        struct sigaction a, old;
        memset(&a, 0, sizeof a);
        a.sa_handler = own_longjmp;
        sigemptyset(&a.sa_mask);
        if (pt__sp_sigaction(SIGSEGV, &a, &old) != 0)
            FAIL("pt__sp_sigaction refused SIGSEGV");
        if (!(old.sa_flags & SA_SIGINFO) || old.sa_sigaction != own_fixup)
            FAIL("old action is not the program's previous handler");
        if (kernel_has((void *)own_longjmp))
            FAIL("the kernel got the program's handler");
        if (pt__sp_sigaction(SIGINT, &a, &old) != -1)
            FAIL("pt__sp_sigaction took SIGINT");
        if (!sigsetjmp(jb, 1))
            unit_outer(guard);
        if (hits != 104)
            FAIL("recorded handler not chained to: hits %d", hits);
        printf("ok chain\n");
        return 0;
    }
    if (!strcmp(m, "chain-dfl") || !strcmp(m, "chain-ign")) {
        if (!strcmp(m, "chain-ign"))
            signal(SIGSEGV, SIG_IGN);
        pt__sp_handler_install();
        unit_outer(guard);
        FAIL("survived a fault with %s", m);
    }
    if (!strcmp(m, "reenter")) {
        /* PT_SPECIAL=Ovr1: a real special block, freed (quarantined) */
        freed_block = pt_alloc(PT_PAGED, 32, PT_TAG("Ovr1"));
        if (!freed_block || !sp_mine(freed_block)) {
            printf("not placed\n");
            return 77;
        }
        pt_free(freed_block);
        unit_alloc();
        pt__sp_report_test_hook = touch_freed;
        pt__sp_report(PT_SPR_DOUBLE_FREE, (uintptr_t)guard - 32, 0, 0, NULL, 0, PT_SPA_UNKNOWN);
        FAIL("survived");
    }
    FAIL("unknown mode %s", m);
}
