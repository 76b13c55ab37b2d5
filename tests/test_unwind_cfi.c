/*
 * test_unwind_cfi.c — src/runtime/unwind_cfi.c against libunwind's
 * unw_backtrace (dlopened "libunwind.so.8", RTLD_LOCAL), frame for frame,
 * and against return addresses recorded with __builtin_return_address:
 *  1. own chains (-fomit-frame-pointer -O2), recursion, alloca (rbp-based
 *     CFA), a 600 KB frame (rule too big for the cache word), cold and warm;
 *  2. qsort's comparator (through libc);  3. a plugin;
 *  4. signal handlers: raise on the thread stack, on a sigaltstack, and an
 *     asynchronous pthread_kill into a spin loop — the walk crosses the
 *     signal frame into the interrupted code;
 *  5. every byte of every PLT entry (DW_CFA_def_cfa_expression);
 *  6. corrupt and truncated copies of the .eh_frame (heap blocks of exact
 *     size: ASan sees any stray read);
 *  7. dlclose + pt_cfi_forget + dlopen of another plugin at the same address;
 *  8. a user-allocated thread stack and a ucontext coroutine;
 *  9. no malloc-family call and no dl_iterate_phdr (loader lock) during a
 *     first walk and a sigaltstack walk;
 * 10. lazy scans off: pt_cfi_scan_modules, pt_cfi_note_module;
 * 11. lying CFI (CFA past the stack top, rbp far away): a clean stop;
 * 12. the vDSO, registered lazily from its mapping.
 * Exit 0 pass, 1 fail, 77 skip (no libunwind).
 */
#define _GNU_SOURCE
#include "unwind_cfi.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <ucontext.h>

#define NOINL __attribute__((noinline))
#define KEEP __asm__ volatile("" ::: "memory")
#define DEPTH 64

static int (*unw_bt)(void **, int);
static int failures, checks;

/* Both walks from the same function: frames[0] differ (two call sites in
 * here); frames[1..] are the return addresses into the chain and must be
 * equal up to the depth both reach.  libunwind's walk may report one more
 * frame (or one fewer) at the outermost end; only the common depth counts. */
NOINL static int capture_and_compare(const char *what, int want_min)
{
    void *mine[DEPTH], *theirs[DEPTH];
    int nm = pt_cfi_backtrace(mine, DEPTH);
    KEEP;
    int nt = unw_bt(theirs, DEPTH);
    KEEP;
    int n = nm < nt ? nm : nt, bad = -1;
    for (int i = 1; i < n; i++)
        if (mine[i] != theirs[i]) {
            bad = i;
            break;
        }
    checks++;
    if (bad >= 0 || n < want_min) {
        failures++;
        printf("FAIL %s: mine %d frames, unw_backtrace %d, first difference at %d (want >= %d common)\n",
               what, nm, nt, bad, want_min);
        for (int i = 0; i < (nm > nt ? nm : nt); i++) {
            Dl_info a = {0}, b = {0};
            if (i < nm) dladdr(mine[i], &a);
            if (i < nt) dladdr(theirs[i], &b);
            printf("  %2d %18p %-24s %18p %s\n", i, i < nm ? mine[i] : NULL,
                   a.dli_sname ? a.dli_sname : "?", i < nt ? theirs[i] : NULL,
                   b.dli_sname ? b.dli_sname : "?");
        }
    } else {
        printf("ok   %s: %d common frames (mine %d, unw_backtrace %d; stop: %s)\n", what, n, nm,
               nt, pt_cfi_last_stop());
    }
    return n;
}

/* 1. own functions, three depths */
NOINL static int own_c(int x) { int r = capture_and_compare("own chain depth 3", 4); KEEP; return r + x; }
NOINL static int own_b(int x) { int r = own_c(x + 1); KEEP; return r + 1; }
NOINL static int own_a(int x) { int r = own_b(x * 3); KEEP; return r + 1; }
NOINL static int rec(int d)
{
    if (d == 0) {
        int r = capture_and_compare("own recursion depth 20", 21);
        KEEP;
        return r;
    }
    char buf[64]; /* a frame of varying size */
    memset(buf, d, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
    int r = rec(d - 1);
    KEEP;
    return r + buf[d % 64];
}
/* a frame that uses alloca: the CFA is rbp-based even at -fomit-frame-pointer */
NOINL static int with_alloca(int n)
{
    char *p = __builtin_alloca(n);
    memset(p, 1, n);
    __asm__ volatile("" : : "r"(p) : "memory");
    int r = own_a(p[0]);
    KEEP;
    return r;
}

/* a 600 KB frame: its CFA offset does not fit the rule cache's word; the
 * rule is used uncached (parsed at each walk).  Written in assembly: a
 * compiler may give such a frame an rbp-based CFA (clang with ASan does). */
void big_frame_call(int (*fn)(int), int x);
__asm__(".text\n"
        ".globl big_frame_call\n.type big_frame_call,@function\nbig_frame_call:\n"
        ".cfi_startproc\n"
        "  sub $600008, %rsp\n"
        "  .cfi_def_cfa_offset 600016\n"
        "  mov %rdi, %rax\n" /* fn */
        "  mov %esi, %edi\n" /* x */
        "  call *%rax\n"
        "  add $600008, %rsp\n"
        "  .cfi_def_cfa_offset 8\n"
        "  ret\n"
        ".cfi_endproc\n.size big_frame_call, .-big_frame_call\n");
static int big_cb(int x) { int r = capture_and_compare("through a 600 KB frame", 5); KEEP; return r + x; }
NOINL static int big_frame(int x)
{
    big_frame_call(big_cb, x);
    KEEP;
    return x;
}

/* 2. through libc: qsort's comparator */
static int cmp_done;
static int cmp(const void *a, const void *b)
{
    if (!cmp_done) {
        cmp_done = 1;
        capture_and_compare("qsort comparator", 4);
    }
    return *(const int *)a - *(const int *)b;
}

/* 4. signal handlers: the walk crosses the signal frame (__restore_rt)
 * through the ucontext into the interrupted code and matches unw_backtrace
 * frame for frame; it must reach the function that raised the signal (or
 * was interrupted).  Three kinds: raise() on the thread's stack, raise() with
 * the handler on a sigaltstack, and an asynchronous signal (pthread_kill)
 * interrupting a spin loop at an arbitrary instruction. */
/* the return address of the function that raised (or was interrupted): the
 * walk must reach it past the signal frame */
static void *volatile sig_expect;
static const char *volatile sig_what;
static volatile int sig_count;

static void on_signal(int sig)
{
    (void)sig;
    void *mine[DEPTH], *theirs[DEPTH];
    int nm = pt_cfi_backtrace(mine, DEPTH);
    KEEP;
    int nt = unw_bt(theirs, DEPTH);
    KEEP;
    const char *why = pt_cfi_last_stop();
    int n = nm < nt ? nm : nt, bad = -1, site = -1;
    for (int i = 1; i < n && bad < 0; i++)
        if (mine[i] != theirs[i])
            bad = i;
    for (int i = 0; i < nm; i++)
        if (mine[i] == sig_expect)
            site = i;
    int ok = bad < 0 && site >= 3 && nm >= site + 1;
    checks++;
    if (!ok)
        failures++;
    printf("%s signal handler (%s): mine %d frames (stop: %s), unw_backtrace %d, first difference %d, "
           "the interrupted function's return address at frame %d\n",
           ok ? "ok  " : "FAIL", sig_what, nm, why, nt, bad, site);
    if (!ok)
        for (int i = 0; i < (nm > nt ? nm : nt); i++) {
            Dl_info a = {0}, b = {0};
            if (i < nm) dladdr(mine[i], &a);
            if (i < nt) dladdr(theirs[i], &b);
            printf("  %2d %18p %-24s %18p %s\n", i, i < nm ? mine[i] : NULL,
                   a.dli_sname ? a.dli_sname : "?", i < nt ? theirs[i] : NULL,
                   b.dli_sname ? b.dli_sname : "?");
        }
    sig_count++;
}

NOINL static void raise_site(void)
{
    sig_expect = __builtin_return_address(0);
    raise(SIGUSR1);
    KEEP;
}

static volatile int spin_stop, spinning;
NOINL static void spin_site(void)
{
    unsigned x = 1;
    sig_expect = __builtin_return_address(0);
    spinning = 1;
    while (!spin_stop) {
        x = x * 1103515245u + 12345u;
        __asm__ volatile("" : "+r"(x));
    }
}
static void *spinner(void *arg)
{
    (void)arg;
    spin_site();
    return NULL;
}

static void signal_tests(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sig_what = "raise, thread stack";
    raise_site();

    /* the same on a sigaltstack (heap memory) */
    stack_t ss = { .ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0 }, old;
    sigaltstack(&ss, &old);
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    sig_what = "raise, sigaltstack";
    raise_site();
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    free(ss.ss_sp);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);

    /* asynchronous: another thread interrupts the spin loop */
    sig_what = "pthread_kill into a spin loop";
    spin_stop = 0;
    spinning = 0;
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    while (!spinning)
        sched_yield();
    int before = sig_count;
    for (int i = 0; i < 3; i++) {
        int c = sig_count;
        pthread_kill(t, SIGUSR1);
        while (sig_count == c)
            sched_yield();
    }
    spin_stop = 1;
    pthread_join(t, NULL);
    if (sig_count - before != 3) {
        failures++;
        printf("FAIL async signal: %d handler runs, want 3\n", sig_count - before);
    }
}


/* ------------------------------------------------------------------ */
/* The module (from dl_iterate_phdr) holding an address. */
struct modinfo { uintptr_t addr, bias; const ElfW(Phdr) *ph; int phnum; uintptr_t tlo, thi; const char *name; };
static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct modinfo *m = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + p->p_vaddr;
        if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && m->addr >= lo && m->addr < lo + p->p_memsz) {
            m->bias = info->dlpi_addr;
            m->ph = info->dlpi_phdr;
            m->phnum = info->dlpi_phnum;
            m->tlo = lo;
            m->thi = lo + p->p_memsz;
            m->name = info->dlpi_name;
            return 1;
        }
    }
    return 0;
}
static int find_module(const void *addr, struct modinfo *m)
{
    memset(m, 0, sizeof *m);
    m->addr = (uintptr_t)addr;
    return dl_iterate_phdr(find_cb, m);
}

/* 5. PLT entries: their FDE's CFA is DW_CFA_def_cfa_expression
 * rsp + 8 + ((rip & 15) >= 11 ? 8 : 0); every byte of every entry after
 * PLT0 must give exactly that (the entry pushes at offset 11 on the lazy path,
 * where "push index; jmp PLT0" starts). */
static void plt_test(void)
{
    struct modinfo m;
    if (!find_module((void *)plt_test, &m)) {
        failures++;
        printf("FAIL plt: own module not found\n");
        return;
    }
    FILE *f = fopen("/proc/self/exe", "rb");
    ElfW(Ehdr) eh;
    ElfW(Shdr) sh[128];
    char names[4096] = "";
    uintptr_t plt = 0, plt_size = 0;
    if (f && fread(&eh, sizeof eh, 1, f) == 1 && eh.e_shnum <= 128 && eh.e_shstrndx < eh.e_shnum
        && fseek(f, (long)eh.e_shoff, SEEK_SET) == 0 && fread(sh, sizeof sh[0], eh.e_shnum, f) == eh.e_shnum
        && fseek(f, (long)sh[eh.e_shstrndx].sh_offset, SEEK_SET) == 0) {
        size_t nn = fread(names, 1, sizeof names - 1, f);
        names[nn] = 0;
        for (int i = 0; i < eh.e_shnum; i++)
            if (sh[i].sh_name < nn && strcmp(names + sh[i].sh_name, ".plt") == 0) {
                plt = m.bias + sh[i].sh_addr;
                plt_size = sh[i].sh_size;
            }
    }
    if (f)
        fclose(f);
    checks++;
    if (plt_size < 32) {
        printf("ok   plt: no .plt with entries in this build (nothing to check)\n");
        return;
    }
    struct pt_cfi_stats s0, s1;
    pt_cfi_stats_get(&s0);
    int bad = 0, n = 0;
    for (uintptr_t e = plt + 16; e + 16 <= plt + plt_size; e += 16)
        for (int j = 0; j < 16; j++) {
            long off = -1;
            int k = pt_cfi_probe(e + j, &off);
            long want = 8 + (j >= 11 ? 8 : 0);
            n++;
            if (k != 1 || off != want) {
                if (bad++ < 5)
                    printf("  plt entry %#lx + %d: kind %d CFA rsp+%ld, want rsp+%ld (%s)\n",
                           (unsigned long)(e - plt), j, k, off, want, pt_cfi_last_stop());
            }
        }
    pt_cfi_stats_get(&s1);
    if (bad || s1.cfa_expressions == s0.cfa_expressions)
        failures++;
    printf("%s plt: %d PCs in %lu entries, %d wrong, %lu CFA expressions evaluated\n",
           bad || s1.cfa_expressions == s0.cfa_expressions ? "FAIL" : "ok  ", n,
           (unsigned long)(plt_size / 16 - 1), bad, s1.cfa_expressions - s0.cfa_expressions);
}

/* 6. A corrupt .eh_frame must not fault or loop.  The executable's
 * read-only image (text and the segment with .eh_frame_hdr/.eh_frame) is
 * copied into a heap block of exactly its size (so ASan sees any read past
 * it) and registered as a module: unchanged, every PC must give the rule
 * the original gives; then bytes of .eh_frame_hdr/.eh_frame are flipped
 * (300 rounds) and the segment is cut short at 40 places: each probe must
 * return (rule or stop). */
static uint32_t rng = 12345;
static uint32_t rnd(void) { rng = rng * 1103515245u + 12345u; return rng >> 8; }

/* Copies the loaded image: not through memcpy, which ASan checks against
 * the redzones of the globals in it. */
__attribute__((no_sanitize("address"))) static void image_copy(uint8_t *d, uintptr_t src, size_t n)
{
    const volatile uint8_t *s = (const volatile uint8_t *)src;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}

static void corrupt_test(void)
{
    struct modinfo m;
    find_module((void *)corrupt_test, &m);
    ElfW(Phdr) ph[32];
    int nph = 0;
    uintptr_t span = 0, ehdr = 0, elo = 0, ehi = 0;
    for (int i = 0; i < m.phnum && nph < 32; i++) {
        const ElfW(Phdr) *p = &m.ph[i];
        if (p->p_type == PT_GNU_EH_FRAME)
            ehdr = p->p_vaddr;
        if (p->p_type == PT_LOAD && (p->p_flags & PF_W))
            continue;
        if (p->p_type != PT_LOAD && p->p_type != PT_GNU_EH_FRAME)
            continue;
        ph[nph++] = *p;
        if (p->p_type == PT_LOAD && p->p_vaddr + p->p_memsz > span)
            span = p->p_vaddr + p->p_memsz;
    }
    for (int i = 0; i < nph; i++)
        if (ph[i].p_type == PT_LOAD && ehdr >= ph[i].p_vaddr && ehdr < ph[i].p_vaddr + ph[i].p_memsz) {
            elo = ph[i].p_vaddr;
            ehi = ph[i].p_vaddr + ph[i].p_memsz;
        }
    checks++;
    if (!ehdr || ehi != span) {
        printf("ok   corrupt .eh_frame: layout not as expected (eh segment not last), skipped\n");
        return;
    }
    uint8_t *img = malloc(span), *clean = malloc(span);
    memset(clean, 0, span);
    for (int i = 0; i < nph; i++)
        if (ph[i].p_type == PT_LOAD)
            image_copy(clean + ph[i].p_vaddr, m.bias + ph[i].p_vaddr, ph[i].p_memsz);
    memcpy(img, clean, span);
    uintptr_t toff = m.tlo - m.bias, tlen = m.thi - m.tlo;
    pt_cfi_note_module((uintptr_t)img, ph, nph);
    int diff = 0, nrule = 0;
    for (uintptr_t o = 0; o < tlen; o += 3) {
        long a = -1, b = -1;
        int ka = pt_cfi_probe(m.tlo + o, &a), kb = pt_cfi_probe((uintptr_t)img + toff + o, &b);
        nrule += ka != 0;
        if (ka != kb || (ka && a != b)) {
            if (diff++ < 5)
                printf("  copy differs at text+%#lx: %d/%ld vs %d/%ld\n", (unsigned long)o, ka, a, kb, b);
        }
    }
    pt_cfi_forget((uintptr_t)img + toff, (uintptr_t)img + toff + tlen);
    long probes = 0, rules = 0;
    int unregistered = 0; /* copies pt_cfi_note_module did not take: would test nothing */
    for (int round = 0; round < 300; round++) {
        memcpy(img + ehdr, clean + ehdr, ehi - ehdr);
        int flips = 1 + (int)(rnd() % 4);
        for (int i = 0; i < flips; i++) {
            uintptr_t at = ehdr + rnd() % (ehi - ehdr);
            img[at] = (uint8_t)(round & 1 ? rnd() : img[at] ^ (1u << (rnd() % 8)));
        }
        unregistered += pt_cfi_note_module((uintptr_t)img, ph, nph) != 1;
        for (int i = 0; i < 200; i++) {
            long off;
            rules += pt_cfi_probe((uintptr_t)img + toff + rnd() % tlen, &off) != 0;
            probes++;
        }
        pt_cfi_forget((uintptr_t)img + toff, (uintptr_t)img + toff + tlen);
    }
    free(img);
    for (int cut = 0; cut < 40; cut++) { /* the segment ends early: a block of exactly that size */
        uintptr_t len = ehdr + 32 + (ehi - ehdr - 32) * (uintptr_t)cut / 40 - elo;
        uint8_t *im = malloc(elo + len);
        memcpy(im, clean, elo + len);
        ElfW(Phdr) ph2[32];
        memcpy(ph2, ph, sizeof ph[0] * nph);
        for (int i = 0; i < nph; i++)
            if (ph2[i].p_type == PT_LOAD && ph2[i].p_vaddr == elo)
                ph2[i].p_memsz = len;
            else if (ph2[i].p_type == PT_GNU_EH_FRAME && ph2[i].p_memsz > len - (ehdr - elo))
                ph2[i].p_memsz = len - (ehdr - elo);
        unregistered += pt_cfi_note_module((uintptr_t)im, ph2, nph) != 1;
        for (uintptr_t o = 0; o < tlen; o += 61) {
            long off;
            rules += pt_cfi_probe((uintptr_t)im + toff + o, &off) != 0;
            probes++;
        }
        pt_cfi_forget((uintptr_t)im + toff, (uintptr_t)im + toff + tlen);
        free(im);
    }
    free(clean);
    int bad = diff || nrule == 0 || unregistered;
    if (bad)
        failures++;
    printf("%s corrupt .eh_frame: clean copy %s the original (%d PCs with a rule); "
           "%ld probes of corrupt/truncated copies returned (%ld with a rule; %d copies not registered)\n",
           bad ? "FAIL" : "ok  ", diff ? "DIFFERS FROM" : "matches", nrule, probes, rules, unregistered);
}

/* 7. dlclose: walk through plugin variant 1, dlclose it, pt_cfi_forget its
 * text, dlopen variant 2 (the loader usually maps it at the same address:
 * its PCs then had rules of variant 1's code), walk again, and once more
 * with variant 1 back.  Expected chain: the return addresses the plugin's
 * functions record (libunwind is no reference here: its own cache goes
 * stale across the dlclose). */
static void **plugin_ras;
static int forget_cb(int x)
{
    void *f[DEPTH];
    void *want[4] = { __builtin_return_address(0), plugin_ras[0], plugin_ras[1], plugin_ras[2] };
    int n = pt_cfi_backtrace(f, DEPTH), ok = n >= 5;
    KEEP;
    for (int i = 0; ok && i < 4; i++)
        ok = f[i + 1] == want[i];
    checks++;
    if (!ok) {
        failures++;
        printf("FAIL plugin after dlclose+dlopen: %d frames (stop: %s)\n", n, pt_cfi_last_stop());
        for (int i = 0; i < n && i < 6; i++)
            printf("  %2d %18p want %18p\n", i, f[i], i >= 1 && i <= 4 ? want[i - 1] : NULL);
    } else {
        printf("ok   plugin after dlclose+dlopen: the plugin's 3 frames and its caller (%d frames)\n", n);
    }
    return x;
}

static void dlclose_test(const char *p1, const char *p2)
{
    const char *paths[3] = { p1, p2, p1 };
    uintptr_t prev_lo = 0;
    int same = 0;
    for (int i = 0; i < 3; i++) {
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        int (*pc)(int (*)(int), int) = h ? (int (*)(int (*)(int), int))dlsym(h, "plugin_call") : NULL;
        struct modinfo m;
        if (!pc || !find_module((void *)pc, &m)) {
            failures++;
            printf("FAIL dlopen %s: %s\n", paths[i], dlerror());
            return;
        }
        same += m.tlo == prev_lo;
        printf("     plugin %d text at %#lx%s\n", i, (unsigned long)m.tlo,
               m.tlo == prev_lo ? " (same address as the one before)" : "");
        plugin_ras = dlsym(h, "plugin_ras");
        pc(forget_cb, 1);
        pc(forget_cb, 2); /* warm */
        prev_lo = m.tlo;
        dlclose(h);
        if (!getenv("PT_TEST_NO_FORGET")) /* to see this test fail: set it */
            pt_cfi_forget(m.tlo, m.thi);
    }
    printf("     %d of 2 reloads at the same address\n", same);
}


/* 8. Other stacks: a thread on a stack the program allocated
 * (pthread_attr_setstack, heap memory) and a ucontext coroutine
 * (makecontext/swapcontext on a heap stack): the walk finds the stack's
 * bounds there too and matches unw_backtrace. */
static ucontext_t co_main, co_ctx;
static void co_body(void)
{
    own_a(7);
    swapcontext(&co_ctx, &co_main);
}
static void *user_stack_thread(void *arg)
{
    (void)arg;
    own_a(5);
    return NULL;
}
static void other_stacks_test(void)
{
    size_t sz = 256 << 10;
    void *stk = NULL;
    if (posix_memalign(&stk, 4096, sz) == 0) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstack(&a, stk, sz);
        pthread_t t;
        printf("     -- thread on a user-allocated stack\n");
        if (pthread_create(&t, &a, user_stack_thread, NULL) == 0)
            pthread_join(t, NULL);
        pthread_attr_destroy(&a);
        free(stk);
    }
    void *cs = malloc(128 << 10);
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = cs;
    co_ctx.uc_stack.ss_size = 128 << 10;
    co_ctx.uc_link = &co_main;
    makecontext(&co_ctx, co_body, 0);
    printf("     -- ucontext coroutine on a heap stack\n");
    swapcontext(&co_main, &co_ctx);
    free(cs);
}


/* 9. No allocation, no loader lock: the malloc family and dl_iterate_phdr
 * are interposed here (not under ASan, which owns them) and count calls made
 * while a walk runs — a first walk
 * after pt_cfi_reset (module scan, stack bounds from /proc/self/maps, every
 * FDE parsed) and a walk from a signal handler on a sigaltstack. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PT_TEST_ASAN 1
#endif
#ifndef PT_TEST_ASAN
static __thread int in_walk;
static int walk_allocs;
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void *malloc(size_t n) { walk_allocs += in_walk; return __libc_malloc(n); }
void *calloc(size_t n, size_t m) { walk_allocs += in_walk; return __libc_calloc(n, m); }
void *realloc(void *p, size_t n) { walk_allocs += in_walk; return __libc_realloc(p, n); }
/* and the loader's lock: a walk must not call dl_iterate_phdr */
static int walk_iterates;
int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);
int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
    static int (*real)(int (*)(struct dl_phdr_info *, size_t, void *), void *);
    walk_iterates += in_walk;
    if (!real)
        real = (int (*)(int (*)(struct dl_phdr_info *, size_t, void *), void *))dlsym(RTLD_NEXT,
                                                                                   "dl_iterate_phdr");
    return real(cb, data);
}
static int alloc_walk_n;
static void alloc_walk(void)
{
    void *f[DEPTH];
    in_walk = 1;
    alloc_walk_n += pt_cfi_backtrace(f, DEPTH);
    in_walk = 0;
}
static void on_alloc_signal(int sig) { (void)sig; alloc_walk(); }
static void no_alloc_test(void)
{
    pt_cfi_reset();
    walk_allocs = 0;
    walk_iterates = 0;
    alloc_walk_n = 0;
    alloc_walk();
    stack_t ss = { .ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alloc_signal;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    free(ss.ss_sp);
    checks++;
    int ok = walk_allocs == 0 && walk_iterates == 0 && alloc_walk_n >= 8;
    if (!ok)
        failures++;
    printf("%s no allocation, no loader lock: first walk and a sigaltstack walk, %d frames, "
           "%d malloc-family calls, %d dl_iterate_phdr calls\n",
           ok ? "ok  " : "FAIL", alloc_walk_n, walk_allocs, walk_iterates);
}
#else
static void no_alloc_test(void) { printf("ok   no allocation: not checked under ASan (it owns malloc)\n"); }
#endif


/* 10. Lazy scans off (the runtime's mode once it registers modules): after
 * pt_cfi_reset a walk knows no module and stops at once; after
 * pt_cfi_scan_modules it is whole; a plugin dlopened then is unknown (the
 * walk stops in it, and that PC is remembered as a negative entry) until
 * pt_cfi_note_module registers it — which must drop the negative entry. */
static int lazy_result; /* the plugin's functions change the callback's return value */
static int lazy_cb(int x)
{
    void *f[DEPTH];
    void *want[4] = { __builtin_return_address(0), plugin_ras[0], plugin_ras[1], plugin_ras[2] };
    int n = pt_cfi_backtrace(f, DEPTH), ok = n >= 5;
    for (int i = 0; ok && i < 4; i++)
        ok = f[i + 1] == want[i];
    lazy_result = ok ? n : -n;
    return x;
}
struct note_arg { uintptr_t addr; int added; };
static int note_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct note_arg *a = data;
    struct modinfo m;
    if (find_module((void *)a->addr, &m) && m.bias == info->dlpi_addr && m.ph == info->dlpi_phdr)
        a->added += pt_cfi_note_module(info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum);
    return 0;
}
static void lazy_off_test(const char *plug)
{
    void *f[DEPTH];
    pt_cfi_set_lazy_scan(0);
    pt_cfi_reset();
    int n0 = pt_cfi_backtrace(f, DEPTH);
    const char *why0 = pt_cfi_last_stop();
    int added = pt_cfi_scan_modules();
    int n1 = pt_cfi_backtrace(f, DEPTH);
    void *h = dlopen(plug, RTLD_NOW | RTLD_LOCAL);
    int (*pc)(int (*)(int), int) = h ? (int (*)(int (*)(int), int))dlsym(h, "plugin_call") : NULL;
    plugin_ras = h ? dlsym(h, "plugin_ras") : NULL;
    int before = 0, after = 0;
    if (pc && plugin_ras) {
        pc(lazy_cb, 1); /* stops inside the plugin: not registered */
        before = lazy_result;
        struct note_arg a = { (uintptr_t)pc, 0 };
        dl_iterate_phdr(note_cb, &a);
        pc(lazy_cb, 1);
        after = lazy_result;
        struct modinfo m;
        find_module((void *)pc, &m);
        dlclose(h);
        pt_cfi_forget(m.tlo, m.thi);
    }
    pt_cfi_set_lazy_scan(1);
    checks++;
    int ok = n0 == 0 && added > 0 && n1 >= 4 && before <= 0 && after > 0;
    if (!ok)
        failures++;
    printf("%s lazy scans off: %d frames before registering (%s), %d after scanning %d ranges; "
           "plugin before pt_cfi_note_module %s, after %s\n",
           ok ? "ok  " : "FAIL", n0, why0, n1, added, before > 0 ? "whole (WRONG)" : "stopped",
           after > 0 ? "whole" : "stopped (WRONG)");
}


/* 11. CFI that lies must not make the walk read outside the stack: two
 * hand-written functions call back with CFI claiming the CFA is 60,000
 * bytes above rsp (past the top of the 64 KiB thread stack they run on)
 * and rbp + 16 with rbp pointing far away.  The walk must report the frames
 * below the liar correctly, then stop with "CFA outside the stack". */
void lie_far(void (*fn)(void));
void lie_rbp(void (*fn)(void));
__asm__(".text\n"
        ".globl lie_far\n.type lie_far,@function\nlie_far:\n"
        ".cfi_startproc\n"
        "  sub $8, %rsp\n"
        "  .cfi_def_cfa_offset 60000\n"
        "  call *%rdi\n"
        "  add $8, %rsp\n"
        "  .cfi_def_cfa_offset 8\n"
        "  ret\n"
        ".cfi_endproc\n.size lie_far, .-lie_far\n"
        ".globl lie_rbp\n.type lie_rbp,@function\nlie_rbp:\n"
        ".cfi_startproc\n"
        "  push %rbp\n"
        "  .cfi_def_cfa_offset 16\n"
        "  .cfi_offset %rbp, -16\n"
        "  movabs $0x7ffffffff000, %rbp\n"
        "  .cfi_def_cfa %rbp, 16\n"
        "  call *%rdi\n"
        "  .cfi_def_cfa %rsp, 16\n"
        "  pop %rbp\n"
        "  .cfi_def_cfa_offset 8\n"
        "  ret\n"
        ".cfi_endproc\n.size lie_rbp, .-lie_rbp\n");

static void *liar_ra;
static int liar_n;
static const char *liar_stop;
NOINL static void liar_cb(void)
{
    void *f[DEPTH];
    liar_ra = __builtin_return_address(0);
    liar_n = pt_cfi_backtrace(f, DEPTH);
    liar_stop = pt_cfi_last_stop();
    /* frames[0]: into here; frames[1]: into the liar; then the lie */
    if (liar_n >= 2 && f[1] != liar_ra)
        liar_n = -liar_n;
}
static void *liar_thread(void *arg)
{
    const char *what = arg;
    liar_n = 0;
    if (what[0] == 'f')
        lie_far(liar_cb);
    else
        lie_rbp(liar_cb);
    return NULL;
}
static void liar_test(void)
{
    const char *kinds[2] = { "far CFA", "rbp far away" };
    for (int k = 0; k < 2; k++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 64 << 10);
        pthread_t t;
        pthread_create(&t, &a, liar_thread, (void *)kinds[k]);
        pthread_join(t, NULL);
        pthread_attr_destroy(&a);
        checks++;
        int ok = liar_n == 2 && liar_stop && strcmp(liar_stop, "CFA outside the stack") == 0;
        if (!ok)
            failures++;
        printf("%s lying CFI (%s): %d frames, stop: %s\n", ok ? "ok  " : "FAIL", kinds[k], liar_n,
               liar_stop ? liar_stop : "?");
    }
}


/* 12. The vDSO (no file behind it): lazily registered from its [vdso]
 * mapping, its functions have rules. */
static void vdso_test(void)
{
    uintptr_t b = getauxval(AT_SYSINFO_EHDR);
    checks++;
    if (!b) {
        printf("ok   vdso: none in this process (nothing to check)\n");
        return;
    }
    const ElfW(Ehdr) *e = (const ElfW(Ehdr) *)b;
    const ElfW(Phdr) *p = (const ElfW(Phdr) *)(b + e->e_phoff);
    uintptr_t lo = 0, hi = 0;
    for (int i = 0; i < e->e_phnum; i++)
        if (p[i].p_type == PT_LOAD && (p[i].p_flags & PF_X)) {
            lo = b + p[i].p_vaddr;
            hi = lo + p[i].p_memsz;
        }
    pt_cfi_reset();
    struct pt_cfi_stats s0, s1;
    pt_cfi_stats_get(&s0);
    int rules = 0, n = 0;
    for (uintptr_t a = lo; a < hi; a += 16, n++) {
        long off;
        rules += pt_cfi_probe(a, &off) != 0;
    }
    pt_cfi_stats_get(&s1);
    int ok = rules > 0 && s1.modules_noted == s0.modules_noted + 1;
    if (!ok)
        failures++;
    printf("%s vdso: registered lazily (%lu module), %d of %d probes with a rule\n", ok ? "ok  " : "FAIL",
           s1.modules_noted - s0.modules_noted, rules, n);
}

/* 3. through a plugin */
static int plugin_cb(int x) { int r = capture_and_compare("plugin callback", 6); KEEP; return r + x; }

int main(int argc, char **argv)
{
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    unw_bt = h ? (int (*)(void **, int))dlsym(h, "unw_backtrace") : NULL;
    if (!unw_bt) {
        printf("SKIP libunwind.so.8 / unw_backtrace not available\n");
        return 77;
    }
    const char *plug = argc > 1 ? argv[1] : "./unwind_cfi_plugin.so";

    for (int round = 0; round < 2; round++) { /* round 1: the rule cache is warm */
        printf("-- round %d (%s cache)\n", round, round ? "warm" : "cold");
        own_a(1);
        rec(20);
        with_alloca(100 + round * 3000);
        struct pt_cfi_stats b0, b1;
        pt_cfi_stats_get(&b0);
        big_frame(round);
        pt_cfi_stats_get(&b1);
        checks++;
        if (b1.rule_uncacheable == b0.rule_uncacheable) {
            failures++;
            printf("FAIL 600 KB frame: its rule was not the uncached kind\n");
        }
        cmp_done = 0;
        int v[64];
        for (int i = 0; i < 64; i++) v[i] = (i * 37) % 64;
        qsort(v, 64, sizeof v[0], cmp);
        void *ph = dlopen(plug, RTLD_NOW | RTLD_LOCAL);
        int (*pc)(int (*)(int), int) = ph ? (int (*)(int (*)(int), int))dlsym(ph, "plugin_call") : NULL;
        if (!pc) {
            printf("FAIL plugin %s: %s\n", plug, dlerror());
            failures++;
        } else {
            pc(plugin_cb, 1);
        }
        signal_tests();
        /* the plugin stays loaded: unloading would leave its module-table
         * entry stale (a gap of this prototype, see the report) */
    }
    other_stacks_test();
    plt_test();
    corrupt_test();
    if (argc > 3)
        dlclose_test(argv[2], argv[3]);
    no_alloc_test();
    liar_test();
    vdso_test();
    if (argc > 2)
        lazy_off_test(argv[2]);
    struct pt_cfi_stats s;
    pt_cfi_stats_get(&s);
    printf("stats: rule hits %lu misses %lu uncacheable %lu module scans %lu stops %lu negative %lu "
           "unsupported %lu cfa-expressions %lu signal-frames %lu bounds-reads %lu bounds-stops %lu "
           "modules noted %lu forgotten %lu\n",
           s.rule_hits, s.rule_misses, s.rule_uncacheable, s.module_scans, s.stops, s.negative_stored,
           s.unsupported, s.cfa_expressions, s.signal_frames, s.bounds_reads, s.bounds_stops,
           s.modules_noted, s.modules_forgotten);
    printf("%s: %d/%d checks\n", failures ? "FAIL" : "PASS", checks - failures, checks);
    return failures ? 1 : 0;
}
