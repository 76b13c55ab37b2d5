/*
 * boot.c — the preload's two arenas whose blocks are never freed.
 *
 * The bootstrap arena (BOOT_SIZE bytes, static) serves allocations made
 * before the runtime is ready and while it sets itself up (dlsym, atfork
 * registration, the loader's own allocations when libunwind is loaded).
 * The side arena serves allocations made by a signal handler that
 * interrupted the backend (rtstate.h, "Signal handlers") once the
 * bootstrap arena is full.
 *
 * Invariants: both are bump-allocated with a compare-and-swap (no lock, no
 * system call but the side arena's one mmap, which is async-signal-safe);
 * the 16 bytes before each block hold its size where a header's w0 is and
 * a check value that never matches it, so a block of these arenas is never
 * taken for a live pooltag block.
 */
#define _GNU_SOURCE
#include "plrt.h"

#include <errno.h>
#include <sys/mman.h>

_Alignas(64) char pt__boot_arena[PT_BOOT_SIZE];
static size_t boot_used;

/* The side arena: allocations made by a signal handler that interrupted
 * the backend (see "Signal handlers"), once the bootstrap arena is full.
 * Reserved (not committed) on first use; bump-allocated, never freed. */
char *pt__side_arena;
static size_t side_used;

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

void *pt__boot_alloc(size_t n, size_t align)
{
    void *p = bump_alloc(pt__boot_arena, PT_BOOT_SIZE, &boot_used, n, align);
    if (p || !tls.in_be)
        return p;
    /* a signal handler's: the side arena (mmap is async-signal-safe) */
    char *s = __atomic_load_n(&pt__side_arena, __ATOMIC_ACQUIRE);
    if (!s) {
        void *m = mmap(NULL, PT_SIDE_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        char *expect = NULL;
        if (__atomic_compare_exchange_n(&pt__side_arena, &expect, (char *)m, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            s = m;
        } else {
            munmap(m, PT_SIDE_SIZE);
            s = expect;
        }
    }
    return bump_alloc(s, PT_SIDE_SIZE, &side_used, n, align);
}
