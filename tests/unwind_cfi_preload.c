/*
 * unwind_cfi_preload.c — an LD_PRELOAD library that checks
 * src/runtime/unwind_cfi.c inside the malloc of real programs: every 16th
 * malloc/calloc/realloc/free walks with pt_cfi_backtrace and with
 * libunwind's unw_backtrace (dlopened at load, RTLD_LOCAL) from the same
 * function and compares them frame for frame up to the depth both reach
 * (frames[0] differ: two call sites here).  At exit it prints one line to
 * stderr:
 *   unwind_cfi_preload: walks W, equal E, differ D, shorter S (stops: ...) [program]
 * "shorter": the own walk stopped before unw_backtrace's end, with why.
 * Used by tests/unwind_real.sh; not part of pooltag.
 */
#define _GNU_SOURCE
#include "unwind_cfi.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEPTH 64
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static int (*unw_bt)(void **, int);
static __thread int busy;
static unsigned long calls, walks, equal, differ, shorter;
#define NWHY 8
static const char *why[NWHY];
static unsigned long why_n[NWHY];
static char first_diff[512];

__attribute__((noinline)) static void check(void)
{
    void *a[DEPTH], *b[DEPTH];
    int na = pt_cfi_backtrace(a, DEPTH);
    const char *stop = pt_cfi_last_stop();
    int nb = unw_bt(b, DEPTH);
    __asm__ volatile("" ::: "memory");
    int n = na < nb ? na : nb, bad = 0;
    for (int i = 1; i < n && !bad; i++)
        bad = a[i] != b[i];
    __atomic_fetch_add(&walks, 1, __ATOMIC_RELAXED);
    if (bad) {
        if (__atomic_fetch_add(&differ, 1, __ATOMIC_RELAXED) == 0) {
            int o = snprintf(first_diff, sizeof first_diff, "first difference (own | unw):");
            for (int i = 0; i < n && o < (int)sizeof first_diff - 40; i++)
                o += snprintf(first_diff + o, sizeof first_diff - (size_t)o, " %p|%p", a[i], b[i]);
        }
        return;
    }
    __atomic_fetch_add(&equal, 1, __ATOMIC_RELAXED);
    if (na < nb - 1) { /* one frame of slack at the outer end */
        __atomic_fetch_add(&shorter, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < NWHY; i++) {
            const char *w = __atomic_load_n(&why[i], __ATOMIC_RELAXED);
            if (!w) {
                const char *z = NULL;
                if (__atomic_compare_exchange_n(&why[i], &z, stop, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                    w = stop;
                else
                    w = z;
            }
            if (w == stop) {
                __atomic_fetch_add(&why_n[i], 1, __ATOMIC_RELAXED);
                break;
            }
        }
    }
}

static inline void maybe_check(void)
{
    if (unw_bt && !busy && __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED) % 16 == 0) {
        busy = 1;
        check();
        busy = 0;
    }
}

void *malloc(size_t n) { maybe_check(); return __libc_malloc(n); }
void *calloc(size_t n, size_t m) { maybe_check(); return __libc_calloc(n, m); }
void *realloc(void *p, size_t n) { maybe_check(); return __libc_realloc(p, n); }
void free(void *p) { maybe_check(); __libc_free(p); }

__attribute__((constructor)) static void init(void)
{
    busy = 1;
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    unw_bt = h ? (int (*)(void **, int))dlsym(h, "unw_backtrace") : NULL;
    busy = 0;
}

__attribute__((destructor)) static void fini(void)
{
    busy = 1;
    char line[1024];
    int o = snprintf(line, sizeof line, "unwind_cfi_preload: walks %lu, equal %lu, differ %lu, shorter %lu (stops:",
                     walks, equal, differ, shorter);
    for (int i = 0; i < NWHY && why[i] && o < (int)sizeof line - 80; i++)
        o += snprintf(line + o, sizeof line - (size_t)o, " %s %lu;", why[i], why_n[i]);
    o += snprintf(line + o, sizeof line - (size_t)o, ") [%s]\n", program_invocation_short_name);
    if (write(2, line, (size_t)o) < 0)
        return;
    if (differ && write(2, first_diff, strlen(first_diff)) >= 0)
        (void)!write(2, "\n", 1);
}
