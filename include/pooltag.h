/*
 * pooltag.h — tagged pool allocation for C and C++ programs on Linux.
 *
 * Every block allocated through this API carries a four-character tag and a
 * pool type.  Per-tag counters (allocations, frees, bytes, peak, failures) are
 * always on, live in a shared-memory segment named "pooltag", and can be read
 * at any moment from inside the process (pt_tags_read) or from outside it
 * (`pooltag mon PID`, `pooltag used PID`, a snapshot, a core file).
 *
 * The model follows the Windows kernel pool: ExAllocatePoolWithTag becomes
 * pt_alloc, ExFreePoolWithTag becomes pt_free_tag, paged and nonpaged pools
 * become PT_PAGED (ordinary memory) and PT_NONPAGED (resident, mlock'd).
 *
 * Thread safety: every function may be called from any thread at any time.
 * The allocation fast path takes no lock and makes no atomic read-modify-write.
 */
#ifndef POOLTAG_H
#define POOLTAG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define POOLTAG_VERSION_MAJOR 0
#define POOLTAG_VERSION_MINOR 1

#if defined(__GNUC__)
#define PT_API __attribute__((visibility("default")))
#else
#define PT_API
#endif

/*
 * PT_TAG("Leak") is the tag whose four bytes in memory read "Leak" on a
 * little-endian machine: 0x6b61654c.  Given a string literal, gcc and clang
 * fold it to a constant (it may initialise a static variable); where C needs
 * an integer constant expression (case labels, _Static_assert) use
 * PT_TAG4('L','e','a','k').  Tags shorter than four characters are padded
 * with spaces: PT_TAG("Se") == PT_TAG("Se  ").  Tags are case-sensitive.
 *
 * Note: the argument must be a string literal or an array of at least one
 * character; characters past a NUL are treated as spaces.
 */
#define PT_TAG4(a, b, c, d)                                                  \
    ((uint32_t)(unsigned char)(a) | ((uint32_t)(unsigned char)(b) << 8) |     \
     ((uint32_t)(unsigned char)(c) << 16) | ((uint32_t)(unsigned char)(d) << 24))
#define PT__TAGC(s, i)                                                       \
    ((uint32_t)(sizeof(s) - 1 > (i) && (s)[(i) < sizeof(s) - 1 ? (i) : 0]   \
                    ? (unsigned char)(s)[(i) < sizeof(s) - 1 ? (i) : 0]      \
                    : (unsigned char)' '))
#define PT_TAG(s)                                                            \
    (PT__TAGC(s, 0) | (PT__TAGC(s, 1) << 8) | (PT__TAGC(s, 2) << 16) |       \
     (PT__TAGC(s, 3) << 24))

/* The two pool types. */
typedef enum pt_pool {
    PT_PAGED = 0,    /* ordinary memory from the backend allocator         */
    PT_NONPAGED = 1, /* resident memory: mlock'd, counted against its own
                        maximum (PT_NONPAGED_MAX)                          */
} pt_pool;

#define PT_POOL_COUNT 2

/*
 * pt_alloc returns a block of at least `size` bytes, aligned to 16 bytes,
 * charged to `tag` in pool `pool`.  A tag of 0 means "untagged": the block
 * gets the calling thread's current tag (pt_tag_push) or, if none, "None".
 *
 * Returns NULL (errno = ENOMEM) when the backend has no memory or when the
 * pool's maximum would be exceeded; the failure is counted for the tag.
 * pt_alloc(pool, 0, tag) returns a unique pointer that must be freed.
 */
PT_API void *pt_alloc(pt_pool pool, size_t size, uint32_t tag);

/*
 * pt_calloc is pt_alloc of n * size zeroed bytes.  Returns NULL with errno =
 * ENOMEM if n * size overflows (counted as a failure of the tag).
 */
PT_API void *pt_calloc(pt_pool pool, size_t n, size_t size, uint32_t tag);

/*
 * pt_alloc_aligned is pt_alloc with the block aligned to `alignment`, which
 * must be a power of two (otherwise NULL with errno = EINVAL).  The 16-byte
 * header sits directly before the returned address, so pt_tag_of, pt_size_of
 * and pt_free work on aligned blocks as on any other.
 */
PT_API void *pt_alloc_aligned(pt_pool pool, size_t size, size_t alignment,
                              uint32_t tag);

/*
 * pt_realloc resizes a block allocated by this API, keeping its tag and pool
 * and its contents up to the smaller of the two sizes.  The new block is
 * 16-byte aligned even if the old one came from pt_alloc_aligned.  pt_realloc(NULL, n)
 * is pt_alloc(PT_PAGED, n, 0).  pt_realloc(p, 0) frees p and returns NULL.
 * On failure it returns NULL and leaves p untouched and still allocated.
 * Counted as one free of the old size and one allocation of the new size.
 */
PT_API void *pt_realloc(void *p, size_t size);

/*
 * pt_free releases a block allocated by this API.  pt_free(NULL) does
 * nothing.  A pointer this API did not hand out, a block already freed, or a
 * block whose header was overwritten is detected and reported (see
 * PT_ON_ERROR) and is not passed to the allocator.
 *
 * Note: detection reads the 16 bytes before p.  If those bytes are no longer
 * mapped — a double free of a block the backend returned to the system
 * (glibc blocks of 128 KiB and more, mimalloc's huge blocks, nonpaged blocks
 * over 32 KiB), or a foreign pointer at the start of a mapping — the read
 * faults, as it would in any allocator.  With the glibc backend a double
 * free of a small block reads as "not a live pooltag block", because glibc
 * reuses the header bytes for its own free list.
 */
PT_API void pt_free(void *p);

/*
 * pt_free_tag is pt_free that also checks the block's tag, like
 * ExFreePoolWithTag: a mismatch is reported with both tags (the block is
 * freed all the same, under its own tag, in `report` mode).
 */
PT_API void pt_free_tag(void *p, uint32_t tag);

/* The tag of a live block, or 0 for NULL or a pointer that is not one of
 * ours (in which case an error is reported as for pt_free). */
PT_API uint32_t pt_tag_of(const void *p);

/* The size that was requested for a live block (not the rounded-up size the
 * backend gave), or 0 for NULL or a pointer that is not one of ours. */
PT_API size_t pt_size_of(const void *p);

/* The pool type of a live block (PT_PAGED for NULL or a foreign pointer). */
PT_API pt_pool pt_pool_of(const void *p);

/*
 * pt_tag_push makes `tag` the calling thread's tag for untagged allocations
 * (tag 0 in pt_alloc; every allocation of an unmodified program under the
 * preload) and returns the previous one, to be given back to pt_tag_pop:
 *
 *     uint32_t old = pt_tag_push(PT_TAG("Pars"));
 *     parse(input);              // its allocations are charged to "Pars"
 *     pt_tag_pop(old);
 *
 * Scopes nest.  The returned value may be 0 (no tag was pushed).
 */
PT_API uint32_t pt_tag_push(uint32_t tag);
PT_API void pt_tag_pop(uint32_t previous);

/* ---------------------------------------------------------------------- */
/* Reading the counters from inside the process.                           */

/* Counters of one (tag, pool type).  Derived figures: Diff = allocs - frees,
 * Bytes = bytes_alloc - bytes_freed, Per Alloc = Bytes / Diff. */
typedef struct pt_counts {
    uint64_t allocs;      /* successful allocations                      */
    uint64_t frees;       /* frees                                       */
    uint64_t bytes_alloc; /* bytes requested by those allocations        */
    uint64_t bytes_freed; /* bytes released by those frees               */
    uint64_t peak;        /* highest Bytes seen (see docs: bounded error) */
    uint64_t failures;    /* allocations refused (pool maximum, ENOMEM)   */
} pt_counts;

typedef struct pt_tag_info {
    uint32_t tag;      /* the tag; PT_TAG("Ovfl") for the overflow entry  */
    uint32_t flags;    /* PT_TAGINFO_OVERFLOW                             */
    pt_counts pool[PT_POOL_COUNT];
} pt_tag_info;

#define PT_TAGINFO_OVERFLOW 0x1u /* tags that found the table full */

/*
 * pt_tags_read fills out[0..max) with one entry per tag in use, in table
 * order, and returns the number of tags in use (which may exceed max: call
 * again with a larger array).  It never allocates, never initialises the
 * runtime (before the first allocation it returns 0) and may be called from
 * a signal handler.  Each counter is exact for operations that completed
 * before the call; operations running concurrently in other threads may or
 * may not be included.
 *
 * Note: the allocation functions themselves are not async-signal-safe
 * (neither are the allocators behind them): a signal handler that allocates
 * while the interrupted code is inside pt_alloc/pt_free may corrupt the
 * backend's state or lose a count.
 */
PT_API size_t pt_tags_read(pt_tag_info *out, size_t max);

/* pt_tag_read fills *out for one tag.  Returns 0, or -1 if the tag has never
 * been used. */
PT_API int pt_tag_read(uint32_t tag, pt_tag_info *out);

/* Pool maxima, in bytes of requested size.  0 means unlimited.  Setting a
 * maximum below the current usage makes further allocations fail until
 * usage drops.  Returns 0, or -1 with errno = EINVAL for a bad pool. */
PT_API size_t pt_pool_limit(pt_pool pool);
PT_API int pt_set_pool_limit(pt_pool pool, size_t max_bytes);

/* Bytes currently allocated in a pool (sum over tags). */
PT_API size_t pt_pool_used(pt_pool pool);

/* Text form of a tag into buf (at least PT_TAG_TEXT_MAX bytes): printable
 * ASCII as is, other bytes escaped as \xNN, so no byte is dropped.  Returns
 * buf. */
#define PT_TAG_TEXT_MAX 17
PT_API char *pt_tag_text(uint32_t tag, char *buf);

/* Parse a tag from text: 1–4 characters, padded with spaces; \xNN escapes
 * allowed.  Returns 0 and sets *tag, or -1 for an empty, too long or
 * malformed text. */
PT_API int pt_tag_parse(const char *text, uint32_t *tag);

#ifdef __cplusplus
}
#endif

#endif /* POOLTAG_H */
