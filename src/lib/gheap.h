/*
 * gheap.h — glibc's malloc heap, read from outside a process (live, core or
 * memory image: pimg.h), for `pooltag heap`, `address` and `leaks`.
 *
 * Data model
 * ----------
 * glibc keeps one malloc_state per arena: main_arena in libc's data (its
 * memory is the brk heap, [heap]), and one per thread arena, at the start
 * of its first heap_info-aligned region (64 MiB reserved each); the arenas
 * form a ring through malloc_state.next.  Chunks of an arena's memory are
 * walked from its first chunk to its top chunk by their size fields; large
 * requests are mmapped chunks (IS_MMAPPED) outside every arena.  A chunk
 * that the allocator holds for reuse but that looks busy to the walk (the
 * next chunk's PREV_INUSE bit is set) is counted free: those in the
 * fastbins and in every thread's tcache (lists read with glibc's
 * safe-linking, PROTECT_PTR: next ^ (address >> 12)).
 *
 * main_arena is found through libc's symbol table when its debug symbols
 * are installed, else by its shape in libc's writable data (every empty
 * bin points at itself; next leads back to it; top lies in a writable
 * region).  The layout is the installed glibc's (Debian 12: 2.36, x86-64);
 * tests compare the figures with mallinfo2() in the same process.
 *
 * Nothing read from the process is trusted: a size that leaves the region,
 * overlaps the top chunk, or is not aligned ends the walk of that arena
 * with a note of where and why (gh_arena.broken); lists are followed at
 * most as far as their counts allow and never off the map
 * (fuzz/fuzz_gheap.c).
 */
#ifndef PT_LIB_GHEAP_H
#define PT_LIB_GHEAP_H

#include <stddef.h>
#include <stdint.h>

#include "pimg.h"

enum gh_state {
    GH_BUSY = 1,      /* in use by the program                            */
    GH_FREE = 2,      /* in a bin (unsorted, small, large)                */
    GH_FAST = 3,      /* in a fastbin                                     */
    GH_TCACHE = 4,    /* in a thread's tcache                             */
    GH_TOP = 5,       /* the arena's top chunk                            */
    GH_MMAPPED = 6,   /* a busy chunk mmapped on its own                  */
    GH_INTERNAL = 7,  /* busy, but the allocator's own (a tcache_perthread
                         struct): not the program's, never a leak         */
};

typedef struct gh_chunk {
    uint64_t addr;    /* the chunk (its prev_size field)                  */
    uint64_t mem;     /* what malloc returned: addr + 16                  */
    uint64_t size;    /* the chunk's size, flags masked                   */
    uint64_t usable;  /* bytes the program may use (malloc_usable_size)    */
    int state;        /* enum gh_state                                    */
    int arena;        /* index in gh_arenas; -1 for mmapped chunks        */
} gh_chunk;

typedef struct gh_arena {
    uint64_t addr;         /* its malloc_state                            */
    int main;              /* main_arena                                  */
    size_t nspans;
    struct gh_span { uint64_t start, end; } *spans; /* memory it carves:
                              the brk heap's part, or each heap_info region */
    uint64_t system_mem;   /* malloc_state.system_mem                    */
    uint64_t reserved;     /* address space reserved (heap_info regions: 64
                              MiB each; main: the [heap] region)           */
    uint64_t committed;    /* bytes of its spans that are mapped writable  */
    uint64_t top, top_size;
    uint64_t busy_bytes, free_bytes;    /* chunk sizes, top not included   */
    uint64_t nbusy, nfree;              /* free = bins + fast + tcache      */
    uint64_t fast_bytes, tcache_bytes, nfast, ntcache;
    uint64_t largest_free;
    const char *broken;    /* NULL, or why its walk stopped                */
    uint64_t broken_at;    /* the chunk where it stopped                   */
    /* appended by the heap part: */
    uint64_t broken_size;  /* the size field found there (flags masked)    */
    const char *list_note; /* NULL, or why a fastbin list was not followed
                              to its end (the chunks walk on)            */
    uint64_t list_note_at; /* the entry where it was left                 */
} gh_arena;

typedef struct gh_heap gh_heap;

/* Find glibc's heap in p.  -1 with "no glibc malloc heap found (...)"
 * when libc is not mapped or main_arena cannot be found; the message says
 * which. */
int gh_open(pim *p, gh_heap **out, char *err, size_t errlen);
void gh_close(gh_heap *h);
/* gh_open with flags: GH_NO_SYMBOLS finds main_arena by its shape only
 * (the fuzz target; tests of the signature path). */
#define GH_NO_SYMBOLS 0x1u
int gh_open_flags(pim *p, unsigned flags, gh_heap **out, char *err, size_t errlen);

size_t gh_narenas(const gh_heap *h);
const gh_arena *gh_arena_at(const gh_heap *h, size_t i);
/* mmapped chunks: count and bytes (busy) */
void gh_mmapped(const gh_heap *h, uint64_t *count, uint64_t *bytes);
/* How main_arena was found: "symbol" or "signature". */
const char *gh_found_by(const gh_heap *h);

/* Every chunk of every arena, in address order per arena, then the mmapped
 * chunks; cb returns nonzero to stop (gh_walk returns that value).  The
 * figures of gh_arena are filled by gh_open's own walk. */
typedef int (*gh_chunk_fn)(void *arg, const gh_chunk *c);
int gh_walk(gh_heap *h, gh_chunk_fn cb, void *arg);

#endif
