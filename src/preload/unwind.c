/*
 * unwind.c — the preload's stack walks and call decoding: the site of an
 * allocation made through the user's allocator wrappers (PT_WRAPPERS) or
 * on behalf of a caller by a library API (PT_BEHALF).
 *
 * Invariants: a walk runs only on these paths, never on the fast path; an
 * allocation made by the walk itself (tls.walking) is charged to its own
 * caller without another walk; code is read with pt__peek, never
 * dereferenced (a return address may lie in a module being unloaded).
 */
#define _GNU_SOURCE
#include "plrt.h"

#include <dlfcn.h>
#include <execinfo.h>

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

void pt__stack_walk_load(void)
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
const void *pt__wrapper_caller(const void *ra)
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
    if (ra < 4096 || pt__peek(ra - 6, c, 6) != 0)
        return 0;
    memcpy(&d, c + 2, 4);
    if (c[1] == 0xe8) {
        t = ra + (uintptr_t)(intptr_t)d;
    } else if (c[0] == 0xff && c[1] == 0x15) {
        if (pt__peek(ra + (uintptr_t)(intptr_t)d, &t, sizeof t) != 0)
            return 0;
        return t;
    } else {
        return 0;
    }
    unsigned char p[16];
    if (pt__peek(t, p, sizeof p) != 0)
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
        if (pt__peek(slot, &g, sizeof g) == 0)
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
const void *pt__behalf_site(const void *f0, int *cache)
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

