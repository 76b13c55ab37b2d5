/*
 * plrt.h — the preload's half of the runtime (compiled only into
 * libpooltag-preload.so, with PT_PRELOAD): declarations shared by
 * plalloc.c (included by src/runtime/alloc.c), boot.c, unwind.c,
 * foreign.c and plexit.c.  See src/runtime/internal.h for the runtime's
 * files and src/runtime/rtstate.h for its state.
 */
#ifndef PT_PLRT_H
#define PT_PLRT_H

#include "rtstate.h"

#ifndef PT_PRELOAD
#error "the preload's half of the runtime is built only with PT_PRELOAD"
#endif

#pragma GCC visibility push(hidden)

/* boot.c: the bootstrap and side arenas (blocks never freed). */
#define PT_BOOT_SIZE (1u << 20)
extern char pt__boot_arena[PT_BOOT_SIZE];
static inline int pt__is_boot_arena(const void *p)
{
    return (const char *)p >= pt__boot_arena && (const char *)p < pt__boot_arena + PT_BOOT_SIZE;
}
/* The side arena: allocations made by a signal handler that interrupted
 * the backend (rtstate.h, "Signal handlers"), once the bootstrap arena is
 * full.  Reserved (not committed) on first use; NULL until then. */
#define PT_SIDE_SIZE (64ul << 20)
extern char *pt__side_arena;
void *pt__boot_alloc(size_t n, size_t align);

static inline int pt__is_side(const void *p)
{
    const char *s = __atomic_load_n(&pt__side_arena, __ATOMIC_ACQUIRE);
    return s && (const char *)p >= s && (const char *)p < s + PT_SIDE_SIZE;
}

/* One of the two arenas whose blocks are never freed.  (pt__pl_free's fast
 * path tests neither: the 16 bytes before a block of either never check as
 * a live header, so its free takes the slow path, which tests this.) */
static inline int pt__is_boot(const void *p)
{
    if (pt__is_boot_arena(p))
        return 1;
    return pt__is_side(p);
}

/* The size of a block of either arena (kept in the 16 bytes before it). */
static inline size_t pt__boot_size(const void *p)
{
    return *(const size_t *)((const char *)p - 16);
}

/* unwind.c: stack walks and call decoding (PT_WRAPPERS, PT_BEHALF). */
void pt__stack_walk_load(void);
const void *pt__wrapper_caller(const void *ra);
const void *pt__behalf_site(const void *f0, int *cache);

/* foreign.c: pointers that may not be ours.  glibc backend: pooltag's
 * pointer into a chunk glibc mmap'd lies PL_LIBC_MMAP_OFF bytes into its
 * page (glibc's is 16 bytes in). */
#define PL_LIBC_MMAP_OFF 32u
int pt__pl_classify(const void *p); /* 1 live, 0 foreign, -1 reported */
void pt__free_foreign(void *p);
size_t pt__foreign_usable(void *p);
void pt__unmapped_add(const void *p);
int pt__libc_chunk_mmapped(const pt_hdr *h);

#pragma GCC visibility pop

#endif /* PT_PLRT_H */
