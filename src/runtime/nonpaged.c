/*
 * nonpaged.c — the nonpaged arena: resident (mlock'd) memory.
 *
 * Data model
 * ----------
 * - Small blocks (<= PT_NP_MAX_SMALL bytes, header included) come from
 *   64 KiB slabs, one size class per slab, classes are powers of two from
 *   32 bytes.  A slab is mmap'd 64 KiB-aligned and mlock'd as a whole when
 *   it is created; its first cache line is a slab header.  Free blocks are
 *   kept on one list per class; slabs are never returned to the system
 *   (like a kernel's nonpaged pool, the arena does not shrink).
 * - Large blocks get their own mapping, mlock'd, 64 KiB-aligned, with the
 *   same kind of header; they are unmapped when freed.
 * - pt__np_free finds the header by rounding the pointer down to 64 KiB:
 *   every pointer handed out lies in the first 64 KiB of its mapping.
 *
 * This is not the fast path (the paged pool is): one spin lock protects the
 * arena.  Not async-signal-safe: do not allocate nonpaged memory in a signal
 * handler that may interrupt another nonpaged allocation in the same thread.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NP_SLAB (64u * 1024u)
#define NP_MIN_SHIFT 5
#define NP_CLASSES 11 /* 32 .. 32768 */
#define PT_NP_MAX_SMALL (1u << (NP_MIN_SHIFT + NP_CLASSES - 1))
#define NP_MAGIC_SLAB 0x62616c5370746e70ull  /* "pntpSlab" */
#define NP_MAGIC_LARGE 0x67724c5370746e70ull /* "pntpSLrg" */

typedef struct np_mapping {
    uint64_t magic;
    uint64_t map_size; /* bytes mapped (large) or NP_SLAB                */
    uint32_t cls;      /* size class (slab)                              */
    uint32_t gen;      /* np_gen when last locked (see fork below)       */
    uint64_t pad[5];
} np_mapping;
_Static_assert(sizeof(np_mapping) == 64, "one line");

typedef struct np_free {
    struct np_free *next;
} np_free;

static pt_spin np_lock;
static np_free *np_lists[NP_CLASSES];
/* Memory locks are not inherited across fork: a child's copy of a slab is
 * ordinary memory.  Each fork bumps np_gen in the child, and a slab whose
 * gen is older is locked again before a block of it is handed out. */
static uint32_t np_gen;

static void *map_aligned(size_t size)
{
    size_t len = size + NP_SLAB;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + NP_SLAB - 1) & ~(uintptr_t)(NP_SLAB - 1);
    size_t head = a - (uintptr_t)p;
    if (head)
        munmap(p, head);
    size_t tail = len - head - size;
    if (tail)
        munmap((char *)a + size, tail);
    if (mlock((void *)a, size) != 0) {
        int e = errno;
        munmap((void *)a, size);
        errno = e == EPERM || e == EAGAIN ? ENOMEM : e;
        return NULL;
    }
    return (void *)a;
}

static unsigned size_class(size_t n)
{
    unsigned c = 0;
    size_t s = (size_t)1 << NP_MIN_SHIFT;
    while (s < n) {
        s <<= 1;
        c++;
    }
    return c;
}

void *pt__np_alloc(size_t n)
{
    if (n > PT_NP_MAX_SMALL) {
        size_t size = (n + sizeof(np_mapping) + NP_SLAB - 1) & ~(size_t)(NP_SLAB - 1);
        if (size < n)
            return NULL;
        np_mapping *m = map_aligned(size);
        if (!m)
            return NULL;
        m->magic = NP_MAGIC_LARGE;
        m->map_size = size;
        return (char *)m + sizeof(np_mapping);
    }
    unsigned c = size_class(n);
    size_t bsize = (size_t)1 << (NP_MIN_SHIFT + c);
    pt__spin_lock(&np_lock);
    np_free *f = np_lists[c];
    if (!f) {
        pt__spin_unlock(&np_lock);
        np_mapping *m = map_aligned(NP_SLAB);
        if (!m)
            return NULL;
        m->magic = NP_MAGIC_SLAB;
        m->map_size = NP_SLAB;
        m->cls = c;
        m->gen = np_gen;
        /* Carve the slab; blocks start after the header line, rounded up to
         * the block size for classes above 64 bytes so that blocks do not
         * straddle more pages than needed. */
        size_t start = bsize > sizeof(np_mapping) ? bsize : sizeof(np_mapping);
        np_free *head = NULL, *tail = NULL;
        for (size_t off = NP_SLAB - bsize; off >= start; off -= bsize) {
            np_free *b = (np_free *)((char *)m + off);
            b->next = head;
            head = b;
            if (!tail)
                tail = b;
        }
        if (!head) { /* cannot happen: every class fits one block */
            munmap(m, NP_SLAB);
            errno = ENOMEM;
            return NULL;
        }
        pt__spin_lock(&np_lock);
        /* Splice the new blocks in front of whatever others freed meanwhile. */
        tail->next = np_lists[c];
        f = head;
    }
    np_mapping *m = (np_mapping *)((uintptr_t)f & ~(uintptr_t)(NP_SLAB - 1));
    if (PT_UNLIKELY(m->gen != np_gen)) {
        if (mlock(m, NP_SLAB) != 0) {
            pt__spin_unlock(&np_lock);
            errno = ENOMEM;
            return NULL;
        }
        m->gen = np_gen;
    }
    np_lists[c] = f->next;
    pt__spin_unlock(&np_lock);
    return f;
}

void pt__np_free(void *p)
{
    np_mapping *m = (np_mapping *)((uintptr_t)p & ~(uintptr_t)(NP_SLAB - 1));
    if (m->magic == NP_MAGIC_LARGE) {
        munmap(m, m->map_size);
        return;
    }
    unsigned c = m->cls;
    np_free *f = p;
    pt__spin_lock(&np_lock);
    f->next = np_lists[c];
    np_lists[c] = f;
    pt__spin_unlock(&np_lock);
}

/* Not waited for when this thread holds it (a signal handler forking
 * while its thread allocates here): the child then sees the lists as the
 * interrupted code left them, which is what that code continues with. */
int pt__np_fork_prepare(void)
{
    return pt__spin_lock_unless_mine(&np_lock);
}

void pt__np_fork_parent(int took)
{
    if (took)
        pt__spin_unlock(&np_lock);
}

void pt__np_fork_child(void)
{
    /* The child holds no memory locks (see np_gen); slabs are locked again
     * as they are used.  Large blocks inherited from the parent stay
     * unlocked: they were allocated by the parent and are not counted in
     * the child. */
    np_gen++;
    np_lock.v = 0;
}
