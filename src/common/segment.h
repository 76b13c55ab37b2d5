/*
 * segment.h — the layout of the pooltag counter segment (version 2).
 *
 * This file is the single definition of the bytes that the runtime writes and
 * every reader (live PID, snapshot, core file) parses.  docs/segment-format.md
 * describes the same layout for people; keep the two in step.
 *
 * Data model and invariants
 * -------------------------
 * 1. The segment is one memfd named "pooltag", mapped MAP_SHARED by the
 *    process it counts.  All integers are native (little-endian x86-64 /
 *    aarch64); all offsets are from the start of the segment.
 * 2. Regions, in address order:
 *        header        (PT_SEG_HEADER_SIZE bytes, one page)
 *        pools         pt_seg_pool[2]           (one cache line each)
 *        errors        pt_seg_error[PT_SEG_ERRORS] ring
 *        keys          uint32_t[ntags]          tag of each table entry, 0 = empty
 *        tagstat       pt_seg_tagstat[ntags]    cur / peak / failures per pool
 *        sites         pt_seg_site[nsites]      call-site keys
 *        modules       pt_seg_module[max_modules]
 *        shards        shard[max_shards], each shard_stride bytes (the
 *                      first one page-aligned):
 *                        pt_seg_shard_hdr
 *                        pt_seg_counts[ntags]
 *                        int64_t flushed[ntags][2]
 *                        pt_seg_counts[nsites]    (when max_sites != 0)
 *    where ntags = max_tags + 1; entry max_tags is the overflow entry
 *    (key PT_TAG("Ovfl"), flag PT_SEG_TAG_OVERFLOW) that receives every tag
 *    that found the table full; nsites = max_sites + 1 likewise (entry
 *    max_sites is the overflow site).
 * 3. A tag's totals = the sum over shards s < shard_hw of
 *    shard[s].counts[i] (a site's: of its site counts).  Shard 0 is the
 *    shared shard, updated with atomic adds by threads that have no private
 *    shard; shards 1.. belong to one thread each and are written by that
 *    thread alone with plain stores.
 * 4. Counters only grow.  When a thread exits, its shard is released with
 *    its counts in place and the next owner adds to them, so a reader sums
 *    the shards in one pass and never retries.  (Version 1 also laid out
 *    `retired` regions and a fold_seq seqlock, left from a former protocol
 *    that folded an exiting thread's shard; version 2 has neither.)
 * 5. Keys are written once (0 -> tag, by compare-and-swap) and never change;
 *    an entry's index is stable for the life of the segment.
 * 6. tagstat.cur is the tag's Bytes as of the last "grain flush" of each
 *    thread: a thread pushes its local change to cur whenever its Bytes for
 *    the tag has moved (up or down) by at least the tag's grain since its
 *    last flush (flushed[i][pool] holds the value it last pushed), and when
 *    it exits.  The grain is max(peak_grain, 2^(floor(log2
 *    cur) - 5)): at most 1/32 of the tag's Bytes, never below peak_grain.
 *    peak = max(cur) over time, so peak is within grain x (threads using
 *    the tag) of the true peak; readers report max(peak, current Bytes).
 */
#ifndef PT_SEGMENT_H
#define PT_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#define PT_SEG_MAGIC "POOLTAG\0"   /* 8 bytes, NUL included */
#define PT_SEG_MAGIC_LEN 8
#define PT_SEG_VERSION 2u
#define PT_SEG_HEADER_SIZE 4096u
#define PT_SEG_LINE 64u
#define PT_SEG_ERRORS 16u          /* entries in the error ring */
#define PT_SEG_NPOOLS 2u

/* The segment's memfd: the runtime creates it with memfd_create(
 * PT_SEG_MEMFD_NAME), and /proc/PID/maps and /proc/PID/fd/N then show it
 * as PT_SEG_MEMFD_SHOWN (a memfd is never linked into a directory, so the
 * kernel always adds " (deleted)").  pt_seg_memfd_shown is the one test a
 * reader applies to such a path: equal to PT_SEG_MEMFD_SHOWN, nothing
 * longer or shorter ("/memfd:pooltag2 (deleted)" is another file). */
#define PT_SEG_MEMFD_NAME "pooltag"
#define PT_SEG_MEMFD_SHOWN "/memfd:" PT_SEG_MEMFD_NAME " (deleted)"
static inline int pt_seg_memfd_shown(const char *path)
{
    const char *want = PT_SEG_MEMFD_SHOWN;
    while (*want && *path == *want)
        path++, want++;
    return *want == 0 && *path == 0;
}

/* Limits that a reader enforces on untrusted headers. */
#define PT_SEG_MAX_TAGS_LIMIT (1u << 20)
#define PT_SEG_MAX_SHARDS_LIMIT (1u << 16)
#define PT_SEG_MAX_MODULES_LIMIT (1u << 16)
#define PT_SEG_MAX_SITES_LIMIT (1u << 20)

/* header.flags */
#define PT_SEGF_LIBC_BACKEND 0x1u   /* backend is glibc (else mimalloc)     */
#define PT_SEGF_PRELOAD 0x2u        /* runtime was started by the preload    */

/* tagstat.flags */
#define PT_SEG_TAG_OVERFLOW 0x1u

/* shard_hdr.state */
#define PT_SHARD_FREE 0u
#define PT_SHARD_LIVE 1u
#define PT_SHARD_SHARED 2u

/* error kinds (pt_seg_error.kind) */
#define PT_ERR_BAD_POINTER 1u   /* not a pooltag block, or header corrupt  */
#define PT_ERR_DOUBLE_FREE 2u
#define PT_ERR_TAG_MISMATCH 3u  /* pt_free_tag with the wrong tag          */
#define PT_ERR_LIMIT 4u         /* (not reported; failures are counted)    */

typedef struct pt_seg_header {
    char magic[PT_SEG_MAGIC_LEN]; /* PT_SEG_MAGIC                          */
    uint32_t version;             /* PT_SEG_VERSION                        */
    uint32_t header_size;         /* PT_SEG_HEADER_SIZE                    */
    uint64_t seg_size;            /* bytes mapped                          */
    uint32_t page_size;
    uint32_t pid;
    uint64_t start_ns;            /* CLOCK_REALTIME at creation, ns        */
    uint32_t max_tags;            /* entries = max_tags + 1 (overflow)     */
    uint32_t max_shards;
    uint32_t shard_hw;            /* shards [0, shard_hw) may hold counts  */
    uint32_t flags;               /* PT_SEGF_*                             */
    uint64_t pools_off;
    uint64_t errors_off;
    uint64_t keys_off;
    uint64_t tagstat_off;
    uint64_t reserved_off0;       /* 0 (version 1: retired_off)            */
    uint64_t shards_off;
    uint64_t shard_stride;
    uint64_t peak_grain;          /* see invariant 6                       */
    uint32_t tags_used;           /* entries whose key is set              */
    uint32_t on_error;            /* 0 report, 1 abort                     */
    uint64_t errors_total;        /* caller errors detected                */
    uint64_t reserved_seq;        /* 0 (version 1: fold_seq)               */
    uint64_t threads_started;     /* shards claimed, ever                  */
    uint64_t threads_exited;      /* shards released, ever                 */
    uint64_t shared_users;        /* threads that found no free shard      */
    uint64_t control_gen;         /* control block generation (later use)  */
    char comm[16];                /* process name at creation              */
    char exe[256];                /* /proc/self/exe at creation, truncated */
    /* Module table (the preload; 0 when absent). */
    uint64_t modules_off;         /* pt_seg_module[max_modules]            */
    uint32_t max_modules;
    uint32_t modules_used;        /* records written, in order             */
    uint64_t modules_gen;         /* bumped after each change              */
    /* Call sites (0 when absent; added in version 1 without a bump: a
     * reader that does not know them sees a larger shard stride). */
    uint64_t sites_off;           /* pt_seg_site[max_sites + 1]            */
    uint64_t reserved_off1;       /* 0 (version 1: site_retired_off)       */
    uint32_t max_sites;           /* entry max_sites: the overflow site    */
    uint32_t sites_used;
    /* Added in version 1 without a bump (older segments: 0). */
    uint32_t modules_dropped;     /* modules loaded while the module table
                                     was full: tagged, but not recorded    */
    uint32_t reserved_hdr0;
} pt_seg_header;

/* A call site: the code address that asked for memory (the caller of
 * pt_alloc, or for the preload the first caller outside allocator wrappers)
 * under one tag.  tagidx is the tag's table entry; the counters of a block
 * go to its site's counters and to its site's tag.  An entry's tag is
 * written last (0 = empty slot): readers that see it nonzero see addr and
 * tagidx.  addr 0 is the tag's "other sites" entry, reserved when the tag
 * is created and used when the site table is full; entry max_sites is the
 * overflow site (tag Ovfl) for tags that have no such entry. */
typedef struct pt_seg_site {
    uint64_t addr;
    uint32_t tag;
    uint32_t tagidx;
} pt_seg_site;

/* One loaded ELF object, as the runtime saw it (the preload).  Records are
 * appended and never moved; an unloaded module keeps its record with
 * PT_MOD_UNLOADED set. */
#define PT_MOD_UNLOADED 0x1u
#define PT_MOD_MAIN 0x2u        /* the main executable                    */
#define PT_MOD_RULE 0x4u        /* tag set by a rules file (PT_TAGS)      */
#define PT_MOD_PATH_MAX 200
typedef struct pt_seg_module {
    uint64_t base;              /* load bias (l_addr)                     */
    uint64_t start, end;        /* lowest and highest mapped address + 1  */
    uint32_t tag;               /* the module's automatic tag             */
    uint32_t flags;             /* PT_MOD_*                               */
    uint32_t build_id_len;      /* 0..20                                  */
    uint8_t build_id[20];
    char path[PT_MOD_PATH_MAX]; /* NUL-terminated, truncated              */
} pt_seg_module;

typedef struct pt_seg_pool {
    uint64_t limit;     /* bytes; 0 = unlimited                            */
    int64_t used;       /* exact bytes in use, kept only while limit != 0  */
    uint64_t peak;      /* highest flushed total (see invariant 6)         */
    uint64_t failures;  /* allocations refused in this pool                */
    int64_t cur;        /* flushed total (invariant 6)                     */
    uint64_t reserved[3];
} pt_seg_pool;

typedef struct pt_seg_error {
    uint64_t seq;       /* 1-based number of the error; 0 = empty slot     */
    uint64_t time_ns;   /* CLOCK_REALTIME                                  */
    uint64_t addr;      /* the pointer the caller passed                   */
    uint64_t size;      /* size from the header, when it could be read     */
    uint32_t kind;      /* PT_ERR_*                                        */
    uint32_t tag;       /* tag from the header (0 if unreadable)           */
    uint32_t tag2;      /* the tag the caller claimed (tag mismatch)       */
    uint32_t tid;
    uint64_t reserved[2];
} pt_seg_error;

/* One entry's counters in one pool, per shard: the SUM rows of
 * counters.def, in its order. */
typedef struct pt_seg_pool_counts {
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help) uint64_t name;
#include "counters.def"
} pt_seg_pool_counts;

/* Indices of the SUM counters, and their number. */
enum {
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help) PT_SEG_SUM_##name,
#include "counters.def"
    PT_SEG_NSUMS
};

typedef struct pt_seg_counts {
    pt_seg_pool_counts pool[PT_SEG_NPOOLS];
} pt_seg_counts;

typedef struct pt_seg_tagstat {
    uint32_t flags;     /* PT_SEG_TAG_*                                    */
    uint32_t reserved0;
    uint64_t reserved1;
    struct {
        int64_t cur;
        uint64_t peak;
        uint64_t failures;
    } pool[PT_SEG_NPOOLS];
} pt_seg_tagstat;

typedef struct pt_seg_shard_hdr {
    uint32_t state;     /* PT_SHARD_*                                      */
    uint32_t tid;       /* owner thread (Linux tid), 0 when free           */
    uint64_t claims;    /* times this shard was claimed                    */
    uint64_t reserved[6];
} pt_seg_shard_hdr;

_Static_assert(sizeof(pt_seg_header) <= PT_SEG_HEADER_SIZE, "header fits");
/* The offsets documented in docs/segment-format.md. */
_Static_assert(offsetof(pt_seg_header, version) == 8, "layout");
_Static_assert(offsetof(pt_seg_header, max_tags) == 40, "layout");
_Static_assert(offsetof(pt_seg_header, pools_off) == 56, "layout");
_Static_assert(offsetof(pt_seg_header, tags_used) == 120, "layout");
_Static_assert(offsetof(pt_seg_header, reserved_seq) == 136, "layout");
_Static_assert(offsetof(pt_seg_header, comm) == 176, "layout");
_Static_assert(offsetof(pt_seg_header, exe) == 192, "layout");
_Static_assert(offsetof(pt_seg_header, modules_off) == 448, "layout");
_Static_assert(sizeof(pt_seg_module) == 256, "module record");
_Static_assert(offsetof(pt_seg_header, sites_off) == 472, "layout");
_Static_assert(sizeof(pt_seg_site) == 16, "site record");
_Static_assert(offsetof(pt_seg_header, modules_dropped) == 496, "layout");
_Static_assert(sizeof(pt_seg_pool) == PT_SEG_LINE, "pool line");
_Static_assert(sizeof(pt_seg_error) == 64, "error record");
_Static_assert(sizeof(pt_seg_counts) == PT_SEG_LINE, "counts line");
_Static_assert(sizeof(pt_seg_tagstat) == PT_SEG_LINE, "tagstat line");
_Static_assert(sizeof(pt_seg_shard_hdr) == PT_SEG_LINE, "shard header line");

static inline uint64_t pt_seg_align(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* The stride of one shard for a given table size, without sites (the tag
 * part of a shard). */
static inline uint64_t pt_seg_shard_stride(uint32_t max_tags)
{
    uint64_t n = (uint64_t)max_tags + 1;
    return pt_seg_align(sizeof(pt_seg_shard_hdr) + n * sizeof(pt_seg_counts) +
                            n * 2 * sizeof(int64_t),
                        PT_SEG_LINE);
}

/* The stride with site counters after the tag part (max_sites 0: none). */
static inline uint64_t pt_seg_shard_stride_sites(uint32_t max_tags, uint32_t max_sites)
{
    return pt_seg_shard_stride(max_tags) +
           (max_sites ? ((uint64_t)max_sites + 1) * sizeof(pt_seg_counts) : 0);
}

/* Counters of site j in the shard that starts at `shard`. */
static inline pt_seg_counts *pt_seg_shard_site_counts(void *shard, uint32_t max_tags, uint32_t j)
{
    return (pt_seg_counts *)((char *)shard + pt_seg_shard_stride(max_tags)) + j;
}

/* Counters of entry i in the shard that starts at `shard`. */
static inline pt_seg_counts *pt_seg_shard_counts(void *shard, uint32_t i)
{
    return (pt_seg_counts *)((char *)shard + sizeof(pt_seg_shard_hdr)) + i;
}

static inline int64_t *pt_seg_shard_flushed(void *shard, uint32_t max_tags,
                                            uint32_t i)
{
    return (int64_t *)((char *)shard + sizeof(pt_seg_shard_hdr) +
                       ((uint64_t)max_tags + 1) * sizeof(pt_seg_counts)) +
           2 * (uint64_t)i;
}

#endif /* PT_SEGMENT_H */
