/*
 * leakscan.h — conservative reachability from outside a process (live,
 * core or memory image: pimg.h), for `pooltag leaks` (libumem's
 * ::findleaks, LeakSanitizer's scan, done by another process).
 *
 * Blocks
 * ------
 *   - glibc's busy chunks (gheap.h: GH_BUSY and GH_MMAPPED; the
 *     allocator's own chunks, tcache and fastbin chunks are not blocks):
 *     the range [mem, mem + usable);
 *   - in a tagged process (a pooltag segment with PT_SEGF_CHECK_KEY),
 *     pooltag's live blocks, found by their 16-byte header anywhere in a
 *     writable anonymous region: a header at a 16-aligned address h whose
 *     check word is pt_hdr_check_live(h, w0, tag, check_key) xor the stamp
 *     of an age epoch the segment has begun (pt_hdr_epoch) and whose
 *     site index (w0 >> 47) names a site of the same tag; the range
 *     [h + 16, h + 16 + size).  A glibc chunk that holds such a header (the
 *     libc backend) is that block: it keeps the chunk's range and takes
 *     the header's tag and site.
 *
 * Roots
 * -----
 * Every writable mapping except heap memory, the pooltag segment and the
 * threads' stacks: the modules' .data and .bss (and the anonymous bss
 * continuation), TLS blocks of the main thread, memory the program mapped
 * itself (an allocator of its own such as Python's pymalloc arenas holds
 * pointers there); each thread's stack from its stack pointer (less the
 * 128-byte red zone) to the end of the region holding it, and its
 * registers.  Heap memory is the spans of glibc's arenas (the brk heap,
 * each thread arena's heaps), each mmapped chunk, every block, and in a
 * tagged process the extent of the pooltag block headers (live or freed)
 * of a region, widened to 64 KiB boundaries (the allocator's pages): the
 * kernel merges neighbouring anonymous mappings, so a region may hold
 * both heap memory and a root.  The segment is never scanned: its records
 * (sites, tracked blocks of `verify`, special pool records) hold addresses
 * of blocks, and scanning them would hide every leak of a tagged process.
 *
 * Marking: a word at an 8-aligned address whose value lies in a block's
 * range marks it (interior pointers count); marked blocks are scanned in
 * turn, with an explicit stack, each once.  What is left unmarked is
 * leaked.
 *
 * Nothing read from the process is trusted: block ranges come from the
 * heap walker (which stops at corruption) and from headers whose check
 * matched; every read is bounded by the region's readable bytes.
 */
#ifndef PT_LIB_LEAKSCAN_H
#define PT_LIB_LEAKSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "pimg.h"

enum lk_src { LK_GLIBC = 1, LK_POOLTAG = 2 };

typedef struct lk_block {
    uint64_t start, end;   /* the range that pointers mark (end > start):
                              glibc: the chunk's user bytes; pooltag: the
                              block's                                     */
    uint64_t addr;         /* what the allocator returned to the program:
                              start, or in a glibc chunk that holds a
                              pooltag block (libc backend) the address
                              after its header                            */
    uint64_t size;         /* glibc: usable bytes; pooltag (also in a glibc
                              chunk): requested                           */
    uint64_t first;        /* its first 8 bytes (0 when size < 8 or not
                              readable)                                   */
    uint64_t site_addr;    /* tagged: the call site's address (0: the
                              tag's other sites)                          */
    uint32_t tag;          /* tagged: its tag; else 0                      */
    uint32_t site;         /* tagged: index in the site table              */
    uint8_t src;           /* enum lk_src of the range                     */
    uint8_t tagged;        /* a pooltag header names its tag and site      */
    uint8_t reached;       /* marked from a root                           */
    uint8_t unread;        /* its bytes could not be read (not dumped)    */
    uint32_t area;         /* internal: its heap area                      */
} lk_block;

typedef struct lk_result {
    size_t nblocks;
    lk_block *blocks;        /* sorted by start, not overlapping          */
    uint64_t block_bytes;    /* sum of sizes                              */
    size_t nleaked;
    uint64_t leaked_bytes;
    int tagged;              /* a pooltag segment with the check key      */
    int glibc;               /* glibc's heap was found and walked         */
    char glibc_note[256];    /* why not, or where a walk broke ("")       */
    size_t root_regions;     /* regions scanned as roots (stacks included) */
    uint64_t root_bytes;     /* bytes of roots scanned (stacks, registers) */
    uint64_t root_unread;    /* bytes of root regions a core does not hold */
    uint64_t heap_bytes;     /* bytes of reached blocks scanned           */
    uint64_t heap_read;      /* bytes of heap regions read                */
    uint64_t read_bytes;     /* every byte read from the process or core
                                and looked at (headers, heap, roots)      */
    size_t nthreads_regs;    /* threads whose registers were used         */
    size_t nthreads_noregs;  /* threads without registers (stack scanned
                                whole, as a root region)                  */
    uint64_t scan_ns;        /* the scan, from the first read to the end  */
} lk_result;

/*
 * Scan p.  A live p must have been opened with PIM_STOP (the caller
 * resumes it after lk_scan returns).  Fails (-1, one line in err) when the
 * process exited during the scan (pim_gone: "process N exited during the
 * scan") or when out of memory.  A process without a glibc heap (another
 * allocator replaces malloc, e.g. jemalloc) and without a segment has no
 * blocks: 0 with glibc 0 and glibc_note saying why.
 */
int lk_scan(pim *p, lk_result **out, char *err, size_t errlen);
void lk_free(lk_result *r);

/* The block containing addr (interior included), or NULL. */
const lk_block *lk_block_at(const lk_result *r, uint64_t addr);

/* A C++ symbol's readable name ("_ZTV7Session" -> "vtable for Session")
 * into buf, or NULL when sym is not a mangled name. */
const char *lk_demangle(const char *sym, char *buf, size_t size);

#endif
