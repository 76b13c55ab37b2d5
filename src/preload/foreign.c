/*
 * foreign.c — pointers that the preload's free, realloc and
 * malloc_usable_size are given and that may not be pooltag's: glibc's own
 * blocks (allocated before the preload or by glibc internally), blocks of
 * ours that glibc has unmapped, and bad pointers.
 *
 * Invariants: a pointer is never handed to glibc's free unless glibc's
 * chunk header passes the checks glibc's free makes and more
 * (libc_foreign); memory that may be unmapped is read with pt__peek.
 */
#define _GNU_SOURCE
#include "plrt.h"

#include <dlfcn.h>

/* glibc's own free and malloc_usable_size, for blocks that are not ours. */
static void (*foreign_free)(void *);
static size_t (*foreign_usable)(void *);

static void resolve_foreign(void)
{
    if (foreign_free)
        return;
    void *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (h) {
        foreign_usable = (size_t(*)(void *))dlsym(h, "malloc_usable_size");
        __atomic_store_n(&foreign_free, (void (*)(void *))dlsym(h, "free"), __ATOMIC_RELEASE);
        dlclose(h);
    }
}

/* glibc backend: pooltag's blocks that glibc unmapped when they were freed
 * (or moved, by realloc).  Such a chunk is mmap'd: glibc's pointer is 16
 * bytes into a page, so pooltag's is 32 bytes in (PL_LIBC_MMAP_OFF).  A
 * second free of one must not read its header: the ring remembers the
 * last PL_UNMAPPED of them, and a pointer found here is read with pt__peek. */
#define PL_UNMAPPED 64u
static uintptr_t unmapped_ring[PL_UNMAPPED];
static unsigned unmapped_n;

void pt__unmapped_add(const void *p)
{
    unsigned i = __atomic_fetch_add(&unmapped_n, 1, __ATOMIC_RELAXED) % PL_UNMAPPED;
    __atomic_store_n(&unmapped_ring[i], (uintptr_t)p, __ATOMIC_RELAXED);
}

static int unmapped_has(const void *p)
{
    unsigned n = __atomic_load_n(&unmapped_n, __ATOMIC_RELAXED);
    if (n > PL_UNMAPPED)
        n = PL_UNMAPPED;
    for (unsigned i = 0; i < n; i++)
        if (__atomic_load_n(&unmapped_ring[i], __ATOMIC_RELAXED) == (uintptr_t)p)
            return 1;
    return 0;
}

/* Is the glibc chunk of our block with header h mmap'd (glibc's size
 * field, just before its pointer, has IS_MMAPPED)? */
int pt__libc_chunk_mmapped(const pt_hdr *h)
{
    const void *base = (h->w0 & PT_W0_ALIGNED) ? ((void *const *)h)[-1] : (const void *)h;
    return (((const uint64_t *)base)[-1] & 2) != 0;
}

/* glibc backend: is p, whose preceding 16 bytes are *hd, the pointer of a
 * chunk glibc allocated for someone else (a "foreign" block: glibc's
 * malloc called directly, not through the preload)?  The chunk header must
 * pass the checks glibc's free makes and more: a sane size, for a heap
 * chunk a next chunk that says this one is in use, for an mmap'd chunk a
 * page-aligned mapping that is there.  Returns 1 foreign and live, 2 a
 * foreign chunk glibc already freed (its tcache key), 0 neither (never
 * hand it to glibc's free). */
static int libc_foreign(const void *p, const pt_hdr *hd)
{
    uint64_t s, ps = hd->w0;
    memcpy(&s, &hd->tag, sizeof s);
    uint64_t cs = s & ~(uint64_t)7;
    uintptr_t c = (uintptr_t)p - 16, page = (uintptr_t)pt__seg->page_size;
    if (page < 4096 || (page & (page - 1)))
        page = 4096;
    if (s & 2) {
        uintptr_t off = (uintptr_t)p & (page - 1);
        if ((s & 4) || cs < page || cs > (1ull << 46) || ps >= cs || !off || (off & (off - 1)))
            return 0;
        if (((c - ps) | (ps + cs)) & (page - 1))
            return 0;
        unsigned char last;
        return pt__peek(c + cs - 1, &last, 1) == 0;
    }
    if (cs < 32 || (cs & 15) || cs >= (1ull << 40))
        return 0;
    uint64_t key, next[2];
    if (libc_tcache_key && pt__peek((uintptr_t)p + 8, &key, sizeof key) == 0 &&
        key == libc_tcache_key)
        return 2;
    if (pt__peek(c + cs, next, sizeof next) != 0)
        return 0;
    return (next[1] & 1) && (next[1] & ~(uint64_t)7) >= 16 && next[1] < (1ull << 46);
}

/* pt__pl_classify for the glibc backend. */
static int libc_classify(const void *p)
{
    const pt_hdr *h = (const pt_hdr *)p - 1;
    pt_hdr hd = {0, 0, 0};
    if (((uintptr_t)p & 4095) == PL_LIBC_MMAP_OFF && unmapped_has(p) &&
        pt__peek((uintptr_t)h, &hd, sizeof hd) != 0) {
        /* pooltag freed it and glibc unmapped it */
        pt__report(PT_ERR_DOUBLE_FREE, p, 0, 0, 0, 0);
        return -1;
    }
    if (((uintptr_t)p & 15) || read_near((uintptr_t)h, &hd, sizeof hd, (uintptr_t)p) != 0) {
        if (!ready())
            return 0;
        /* glibc's pointers are 16-aligned, and it has none with nothing
         * mapped before it */
        pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
        return -1;
    }
    if (hdr_epoch(h, hd.w0, hd.tag, hd.check) != UINT32_MAX)
        return 1;
    if (!ready())
        return 0;
    uint32_t tag;
    if (pt__freed_block(h, &hd, &tag)) {
        pt__report(PT_ERR_DOUBLE_FREE, p, tag, 0, 0, 0);
        return -1;
    }
    int f = libc_foreign(p, &hd);
    if (f == 1)
        return 0;
    pt__report(f == 2 ? PT_ERR_DOUBLE_FREE : PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
    return -1;
}

/* Is p plausibly one of ours?  Returns 1 live, 0 not ours (foreign), and
 * reports (returning -1) a double free or a damaged block of our heap. */
__attribute__((noinline)) int pt__pl_classify(const void *p)
{
    /* A special block has no header (special.c): the callers in plalloc.c
     * send such pointers to the special pool before they get here. */
    if (sp_mine(p))
        return -1;
    const pt_hdr *h = (const pt_hdr *)p - 1;
    if (backend == PT_BACKEND_LIBC)
        return libc_classify(p);
    /* With mimalloc, a pointer outside mimalloc's heap is glibc's if glibc's
     * chunk header says so; mimalloc may also have given the memory of a
     * large block of ours back (a second free of it). */
    if (!mi_is_in_heap_region(p)) {
        pt_hdr hd = {0, 0, 0};
        if (!ready())
            return 0;
        if (((uintptr_t)p & 15) || pt__peek((uintptr_t)h, &hd, sizeof hd) != 0) {
            pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
            return -1;
        }
        if (hd.check == check_freed(h, hd.tag)) {
            pt__report(PT_ERR_DOUBLE_FREE, p, hd.tag, 0, 0, 0);
            return -1;
        }
        int f = libc_foreign(p, &hd);
        if (f == 1)
            return 0;
        pt__report(f == 2 ? PT_ERR_DOUBLE_FREE : PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
        return -1;
    }
    if (hdr_live(h))
        return 1;
    if (!ready())
        return 0;
    if (h->check == check_freed(h, h->tag)) {
        pt__report(PT_ERR_DOUBLE_FREE, p, h->tag, 0, 0, 0);
        return -1;
    }
    pt__report(PT_ERR_BAD_POINTER, p, 0, 0, 0, 0);
    return -1;
}

void pt__free_foreign(void *p)
{
    pt_tls *t = &tls;
    uint32_t was = t->busy;
    t->busy = 1;
    resolve_foreign();
    t->busy = was;
    if (foreign_free)
        foreign_free(p);
}

size_t pt__foreign_usable(void *p)
{
    resolve_foreign();
    return foreign_usable ? foreign_usable(p) : 0;
}
