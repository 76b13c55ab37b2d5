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
 * 3. A site's totals = the sum over shards s < shard_hw of its site
 *    counts.  A tag's totals = the sum over shards of shard[s].counts[i],
 *    plus, when header.flags has PT_SEGF_SITE_COUNTS (the runtime since
 *    issue 14 always sets it), the totals of every site whose entry names
 *    tag index i (pt_seg_site.tagidx; the overflow site names the overflow
 *    entry): such a runtime counts each operation in its site's counts only
 *    and leaves the tag lines at 0, so that an allocation touches one line
 *    of counters, not two.  Shard 0 is the
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
 *    last flush (flushed[i][pool] holds that change: with
 *    PT_SEGF_SITE_COUNTS the change not yet pushed, before it the value
 *    last pushed; only the runtime reads it), and when it exits.  The grain is max(peak_grain, 2^(floor(log2
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

/* Age epochs (issue 15).  A process's life is cut into at most
 * PT_AGE_EPOCHS epochs that grow with its age: epoch 0 begins when the
 * runtime starts, and epoch k + 1 is due max(1 s, (start[k] - start[0]) /
 * 4) after epoch k began (1 s epochs for the first 4 s, then each a
 * quarter of the age so far: the current epoch covers the last fifth of
 * the process's life; 64 epochs last about a month, the last one then
 * holds everything after).  An epoch begins when a thread of the process
 * notices it is due (the runtime checks on its slow paths and every
 * PT_AGE_CHECK allocations), so start times are the true instants of the
 * change.
 *
 * Every block records the epoch it was allocated in, in its header's check
 * word: check = pt_hdr_check_live(...) ^ pt_age_stamp(e), so a header is a
 * live block's when check ^ pt_hdr_check_live(...) is the stamp of an
 * epoch e <= age_now (pt_hdr_epoch).  Stamp 0 is epoch 0: a segment
 * without ages, and every older reader, sees epoch 0 only.
 *
 * Live bytes and blocks by epoch, per call site, are exact:
 *   live(site j, epoch e) = ages[e][j]
 *                         + sum over shards s whose age_epoch == e of
 *                           (live_s(j) - moved_s(j))
 * where live_s(j) is the shard's site counters' bytes_alloc - bytes_freed
 * (allocs - frees for blocks), summed over both pools, and moved_s(j) the
 * shard's pt_seg_age_moved entry (after its site counters).  A thread
 * counts its allocations and the frees of blocks of its own current epoch
 * in its site counters alone (the fast paths: nothing more); the frees of
 * older blocks also go to ages[e][j] and moved_s(j) (atomic adds); when it
 * moves to a newer epoch it adds (live_s - moved_s) of every site to
 * ages[its old epoch] and to moved_s (under age_seq, odd while it does).
 * Threads without a shard (shard 0 shared) count everything in ages[][]
 * and moved_0 at once.  Readers see each value with relaxed loads: a
 * reading taken while a thread moves epochs may count that thread's
 * current part twice or not at all (retry while age_seq is odd or
 * changed). */
#define PT_AGE_EPOCHS 64u
#define PT_AGE_CHECK 4096u            /* allocations between clock checks  */
#define PT_AGE_MIN_NS 1000000000ull   /* shortest epoch                      */
#define PT_AGE_STAMP_MUL 0x9e3779b1u  /* stamp(e) = e * MUL (mod 2^32)       */
#define PT_AGE_STAMP_INV 0x0e8b2f51u  /* MUL * INV == 1 (mod 2^32)           */
_Static_assert((uint32_t)(PT_AGE_STAMP_MUL * PT_AGE_STAMP_INV) == 1u, "inverse");
static inline uint32_t pt_age_stamp(uint32_t e)
{
    return e * PT_AGE_STAMP_MUL;
}
/* The epoch whose stamp is x (any value: only one epoch has it). */
static inline uint32_t pt_age_unstamp(uint32_t x)
{
    return x * PT_AGE_STAMP_INV;
}
/* When epoch k + 1 is due, given its start and the runtime's (ns). */
static inline uint64_t pt_age_due(uint64_t start_k, uint64_t start_0)
{
    uint64_t q = (start_k - start_0) / 4;
    return start_k + (q > PT_AGE_MIN_NS ? q : PT_AGE_MIN_NS);
}

/* header.flags */
#define PT_SEGF_LIBC_BACKEND 0x1u   /* backend is glibc (else mimalloc)     */
#define PT_SEGF_PRELOAD 0x2u        /* runtime was started by the preload    */
#define PT_SEGF_CHECK_KEY 0x4u      /* check_key holds the header check key  */
#define PT_SEGF_SITE_COUNTS 0x8u    /* tag counts = tag lines + its sites'
                                       (invariant 3; issue 14)               */
#define PT_SEGF_AGES 0x10u          /* age epochs: the header's age fields,
                                       the live-by-epoch table and each
                                       shard's moved counters are valid
                                       (issue 15, "Age epochs" below)        */

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
    uint64_t check_key;           /* the block header check's key (the
                                     per-process secret), so that an outside
                                     reader (`pooltag leaks`) can recognise
                                     live blocks by their header; valid when
                                     flags has PT_SEGF_CHECK_KEY (issue 13;
                                     version 1: fold_seq)                  */
    uint64_t threads_started;     /* shards claimed, ever                  */
    uint64_t threads_exited;      /* shards released, ever                 */
    uint64_t shared_users;        /* threads that found no free shard      */
    uint64_t control_gen;         /* 0 (the control block's gen is in it)  */
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
    /* Stacks, hit tags and pool tracking (issue 11; added in version 2
     * without a bump: an older segment has 0 here and none of them). */
    uint64_t control_off;         /* pt_seg_control (one page)             */
    uint64_t kick_addr;           /* address, in the process, of the 32-bit
                                     word that an outside writer ORs
                                     PT_KICK_CONTROL into after a change   */
    uint64_t stacks_off;          /* uint64_t slot[max_stacks] (PT_STK_*)  */
    uint64_t frames_off;          /* uint64_t frame[max_frames]            */
    uint32_t max_stacks;          /* power of two                          */
    uint32_t max_frames;          /* <= PT_STK_OFF_MASK + 1                */
    uint64_t rings_off;           /* pt_seg_ring[PT_SEG_NRINGS]            */
    uint64_t vstats_off;          /* pt_seg_vstat[max_modules], one per
                                     module record, same index             */
    uint64_t tracked_off;         /* pt_seg_tracked[max_tracked]           */
    uint32_t max_tracked;
    uint32_t max_depth;           /* frames captured at most (<= PT_SEG_DEPTH_LIMIT) */
    uint64_t leaks_off;           /* pt_seg_leak[PT_SEG_LEAKS] ring        */
    /* Special pool and fault injection (issue 12; added in version 2
     * without a bump: an older segment has 0 here). */
    uint64_t special_off;         /* pt_seg_special (one page), then
                                     pt_seg_spblk[max_special] at
                                     spblk_off, pt_seg_spreport[
                                     PT_SEG_SPREPORTS] at spreports_off     */
    uint64_t spblk_off;
    uint64_t spreports_off;
    uint32_t max_special;         /* special block records                 */
    uint32_t reserved_hdr1;
    /* Age epochs (issue 15; added in version 2 without a bump: valid when
     * flags has PT_SEGF_AGES, an older segment has 0 here).  See "Age
     * epochs" below. */
    uint64_t ages_off;            /* pt_seg_age_live[age_epochs][max_sites+1] */
    uint32_t age_epochs;          /* epochs the table holds (PT_AGE_EPOCHS)  */
    uint32_t age_now;             /* the current epoch, < age_epochs; only
                                     grows (written after its start times)   */
    uint64_t age_start_mono[PT_AGE_EPOCHS]; /* CLOCK_MONOTONIC, ns, when each
                                     epoch began ([0]: the runtime's start;
                                     0 for epochs not begun)                 */
    uint64_t age_start_real[PT_AGE_EPOCHS]; /* the same, CLOCK_REALTIME      */
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

/* ---- Stacks, hit tags and pool tracking --------------------------------
 *
 * The control block holds the settings that `pooltag hit` and `pooltag
 * verify` change while the program runs (first part, written from outside
 * through /proc/PID/mem, which the kernel allows only to a process that may
 * ptrace the target) and what the runtime reports about applying them and
 * about its stack table (second part, written by the runtime only).
 *
 * The outside writer's protocol: write the settings, then gen = gen + 1,
 * then store 1 into byte PT_KICK_CONTROL_BYTE of the word at
 * header.kick_addr (= OR PT_KICK_CONTROL into it, without a read-modify-
 * write from outside that could undo a change of the runtime's bits).  The runtime's
 * fast paths already test that word (it also carries the paged maximum), so
 * the next allocation or free on any thread takes the slow path, which
 * applies the control block once (applied_gen = gen) and clears the bit.
 *
 * A stack is stored once: slot[i] of the stack table is 0 (empty) or
 *     bits  0..23  offset of its first frame in frame[]   (PT_STK_OFF_MASK)
 *     bits 24..31  its number of frames, 1..PT_SEG_DEPTH_LIMIT
 *     bits 32..63  the high 32 bits of the hash of its frames, never 0
 * written once with compare-and-swap after its frames; the stack's id is
 * i + 1 (id 0: no stack — capture off, or a table full, counted).
 * Frames are return addresses, frame[0] the allocator's caller, never
 * symbolized in the process. */
#define PT_SEG_DEPTH_LIMIT 64u
#define PT_STK_OFF_MASK 0xffffffull
#define PT_STK_DEPTH_SHIFT 24
#define PT_STK_HASH_SHIFT 32
static inline uint32_t pt_stk_off(uint64_t slot) { return (uint32_t)(slot & PT_STK_OFF_MASK); }
static inline uint32_t pt_stk_depth(uint64_t slot) { return (uint32_t)(slot >> PT_STK_DEPTH_SHIFT) & 0xffu; }

#define PT_KICK_LIMIT 0x1u       /* kick word: the paged pool has a maximum */
#define PT_KICK_CONTROL 0x100u   /* kick word: the control block changed; a
                                    byte of its own (byte 1, little-endian),
                                    so the outside writer stores that byte
                                    alone (PT_KICK_CONTROL_BYTE = 1) and
                                    never rewrites the runtime's bits      */
#define PT_KICK_CONTROL_BYTE 1u

#define PT_CTL_HIT_MAX 8u        /* hit tag patterns                        */
#define PT_CTL_PAT_LEN 16u       /* a pattern, NUL included: tag chars, '*', '?' */
#define PT_CTL_VERIFY_MAX 8u     /* verified module globs                   */
#define PT_CTL_GLOB_LEN 120u     /* a glob, NUL included                    */
#define PT_HITF_TRAP 0x1u        /* hit: stop the thread at each event      */

typedef struct pt_seg_control {
    /* -- written from outside (pooltag hit / verify) and at start from
     *    PT_HIT / PT_VERIFY; read by the runtime when it applies them -- */
    uint64_t gen;                /* bumped after each change, last          */
    uint32_t writer_pid;         /* the last writer (0: the environment)    */
    uint32_t writer_uid;
    uint32_t hit_n;              /* patterns in use, 0..PT_CTL_HIT_MAX       */
    uint32_t hit_flags;          /* PT_HITF_*                               */
    uint32_t hit_ring;           /* records of the hit ring to use, 1..cap;
                                    a change restarts the ring              */
    uint32_t verify_n;           /* globs in use, 0..PT_CTL_VERIFY_MAX       */
    uint32_t verify_log;         /* records of the verify log to use, 1..cap */
    uint32_t depth;              /* frames to capture, 1..header.max_depth   */
    uint32_t reserved0[2];
    char hit_pat[PT_CTL_HIT_MAX][PT_CTL_PAT_LEN];
    char verify_glob[PT_CTL_VERIFY_MAX][PT_CTL_GLOB_LEN]; /* a module's path
                                    or its base name                        */
    uint8_t next_issue[1024];    /* special pool and fault injection (0)    */
    /* -- written by the runtime (its own cache lines) -- */
    uint64_t applied_gen __attribute__((aligned(64)));
    uint64_t applied_ns;         /* CLOCK_REALTIME when it was applied      */
    uint32_t hit_matched;        /* tag table entries that match now        */
    uint32_t verify_matched;     /* module records that match now           */
    uint32_t bad_settings;       /* settings refused at the last apply (out
                                    of range: the previous value stays)     */
    uint32_t reserved1;
    uint64_t captures;           /* stacks captured                         */
    uint64_t captures_truncated; /* ... that reached the depth              */
    uint64_t stacks_used;        /* table slots filled                      */
    uint64_t stacks_dropped;     /* captures that found the table (or the
                                    frame array) full: stack id 0           */
    uint64_t frames_used;        /* frame[] entries taken                   */
    uint64_t tracked_used;       /* tracked records in use now              */
    uint64_t tracked_dropped;    /* verified blocks not listed: table full  */
    uint64_t tracked_free;       /* (runtime) free-list head: ABA count << 32
                                    | record index + 1                      */
    uint64_t leaks_seq;          /* leak reports written, ever              */
    uint64_t tracked_hw;         /* records [0, tracked_hw) have been used:
                                    a reader scans only those              */
    uint64_t reserved2[2];
} pt_seg_control;

/* The rings: a record per allocation and free of a hit tag (PT_RING_HIT),
 * or of a verified module's block (PT_RING_VERIFY, `verify --address`). */
#define PT_SEG_NRINGS 2u
#define PT_RING_HIT 0u
#define PT_RING_VERIFY 1u
typedef struct pt_seg_ring {
    uint64_t records_off;        /* pt_seg_rec[cap]                         */
    uint32_t cap;                /* records reserved at start               */
    uint32_t size;               /* records in use (<= cap)                 */
    uint64_t head;               /* records ever claimed: the next index    */
    uint64_t base;               /* head when the ring was last restarted:
                                    the ring holds indices
                                    [max(base, head - size), head)          */
    uint64_t reserved[4];
} pt_seg_ring;

/* Record i of a ring lives in slot i % size.  The writer claims i with an
 * atomic add on head, sets seq = 0, writes the fields, then seq = i + 1
 * (release).  A reader takes a record only if seq == i + 1 both before and
 * after it copied the fields. */
#define PT_OP_ALLOC 1u
#define PT_OP_FREE 2u
typedef struct pt_seg_rec {
    uint64_t seq;
    uint64_t time_ns;            /* CLOCK_REALTIME_COARSE (tick resolution) */
    uint64_t addr;               /* the caller's pointer                    */
    uint64_t size;               /* requested bytes                         */
    uint32_t stack;              /* stack id, 0: none                       */
    uint32_t tag;
    uint32_t tid;
    uint8_t op;                  /* PT_OP_*                                 */
    uint8_t pool;
    uint16_t module;             /* caller's module record index + 1, 0: none */
} pt_seg_rec;

/* Pool tracking statistics of one module record (`pooltag verify`, after
 * Driver Verifier's !verifier 3).  Counted while the module is verified. */
#define PT_VS_VERIFIED 0x1u      /* verified now                            */
#define PT_VS_EVER 0x2u          /* was verified at some time               */
#define PT_VS_UNLOADED 0x4u      /* unloaded; its outstanding blocks were
                                    reported as leaks                       */
typedef struct pt_seg_vstat {
    uint64_t attempted;          /* allocations asked for                   */
    uint64_t succeeded;
    uint64_t failed;
    uint64_t untagged;           /* with no explicit tag (the module's own) */
    uint64_t frees;
    uint64_t leaked_blocks;      /* outstanding at unload or exit           */
    uint64_t leaked_bytes;
    uint32_t flags;              /* PT_VS_*                                 */
    uint32_t reserved;
    struct {
        int64_t cur_blocks, cur_bytes;
        uint64_t peak_blocks, peak_bytes;
    } pool[PT_SEG_NPOOLS];
} pt_seg_vstat;

/* One outstanding block of a verified module (addr 0: free record). */
#define PT_TRK_LEAKED 0x1u       /* reported as a leak (unload or exit)     */
typedef struct pt_seg_tracked {
    uint64_t addr;               /* the caller's pointer, written last      */
    uint64_t size;
    uint64_t time_ns;
    uint32_t stack;
    uint32_t tag;
    uint32_t tid;
    uint16_t module;             /* module record index + 1                 */
    uint8_t pool;
    uint8_t flags;               /* PT_TRK_*                                */
    uint32_t next;               /* (runtime) free-list link: index + 1     */
    uint32_t reserved;
} pt_seg_tracked;

/* A leak report: a verified module unloaded (or the process exiting) with
 * outstanding blocks, Driver Verifier's bug check 0xC4/0x62.  A ring of
 * PT_SEG_LEAKS; entry (leaks_seq - 1) % PT_SEG_LEAKS is the newest. */
#define PT_SEG_LEAKS 64u
#define PT_LEAK_UNLOAD 1u
#define PT_LEAK_EXIT 2u
typedef struct pt_seg_leak {
    uint64_t seq;                /* 1-based, written last; 0 = empty        */
    uint64_t time_ns;
    uint64_t blocks;
    uint64_t bytes;
    uint32_t module;             /* module record index + 1                 */
    uint32_t reason;             /* PT_LEAK_*                               */
    uint64_t reserved[3];
} pt_seg_leak;

/* ---- Special pool and fault injection ----------------------------------
 *
 * The settings of `pooltag special` and `pooltag fault` (and PT_SPECIAL,
 * PT_FAIL... at start) live in the first part of pt_seg_special, written
 * from outside with the control block's protocol: write them, then
 * control.gen + 1, then the kick (see above).  The runtime applies them
 * with the rest of the control block; a bad one counts in
 * control.bad_settings and the previous value stays.
 *
 * A selector picks allocations: PT_SEL_TAG (text: a tag pattern, '*' '?'),
 * PT_SEL_SIZE (min..max requested bytes, inclusive; special only) or
 * PT_SEL_MODULE (text: a module glob, matched as PT_VERIFY's are, against
 * the module of the call site).  src/common/ptsel.h parses and prints them
 * (the one syntax of the runtime's environment and of the command).
 *
 * A special block is a run of pages in the special region: its data pages
 * and one guard page (PROT_NONE) after them (before them with
 * PT_SELF_UNDERRUN).  Its caller pointer is placed so that the block ends
 * at the end of its last data page (rounded down to its alignment; the
 * bytes between its end and the page end, the slop, hold PT_SP_SLOP_BYTE
 * and are checked at free), or starts at the first data page (underrun).
 * Its metadata is out of line, in pt_seg_spblk records (a reader lists
 * live and quarantined blocks from them); the block has no header.
 * After its free its data pages are PROT_NONE in the quarantine (FIFO,
 * `quarantine` pages) before the run is reused.
 *
 * A detected error (a fault in the region, or a check at free or realloc)
 * writes one pt_seg_spreport (a ring of PT_SEG_SPREPORTS, seq protocol of
 * pt_seg_leak) and one report on stderr, then the process dies with the
 * original signal (SIGSEGV/SIGBUS for a fault, SIGABRT for a failed check)
 * unless PT_SPF_RECOVER is set. */
#define PT_SEL_MAX 8u            /* selectors of each kind                  */
#define PT_SEL_TAG 1u
#define PT_SEL_SIZE 2u
#define PT_SEL_MODULE 3u
#define PT_SELF_UNDERRUN 0x1u    /* special: the guard page before the block */
#define PT_FI_RATE_ONE 1000000u  /* fault rate: failures per million         */
typedef struct pt_seg_sel {
    uint32_t kind;               /* PT_SEL_*; 0: unused                     */
    uint32_t flags;              /* PT_SELF_*                               */
    uint64_t min, max;           /* PT_SEL_SIZE: requested bytes, inclusive */
    uint32_t rate;               /* fault: failures per PT_FI_RATE_ONE
                                    requests, 1..PT_FI_RATE_ONE (special: 0) */
    uint32_t after_ms;           /* fault: only from this long after the
                                    setting was applied                     */
    uint64_t seed;               /* fault: seed of the decisions            */
    char text[PT_CTL_GLOB_LEN];  /* PT_SEL_TAG, PT_SEL_MODULE: NUL-ended    */
} pt_seg_sel;

#define PT_SPF_EXACT 0x1u        /* blocks end exactly at the page end
                                    (aligned only as far as the size allows) */
#define PT_SPF_RECOVER 0x2u      /* after a report the program goes on: the
                                    page is opened, the block never reused  */
#define PT_SP_SLOP_BYTE 0xd5u
#define PT_SP_MAX_PAGES 65536u   /* the largest max_pages (PT_SPECIAL_MAX_PAGES);
                                    header.max_special = PT_SP_MAX_PAGES / 2:
                                    a block takes two pages at least        */

/* Handler states (pt_seg_special.handler) */
#define PT_SPH_NONE 0u           /* not installed (the pool was never on)   */
#define PT_SPH_ON 1u             /* installed for SIGSEGV and SIGBUS        */
#define PT_SPH_FAILED 2u         /* sigaction refused                       */

typedef struct pt_seg_special {
    /* -- written from outside (pooltag special / fault) and at start from
     *    PT_SPECIAL... / PT_FAIL -- */
    uint32_t sp_n;               /* special selectors in use, 0..PT_SEL_MAX  */
    uint32_t sp_flags;           /* PT_SPF_*                                */
    uint32_t sample;             /* 0: every selected allocation; N: about 1
                                    in N of them (of every allocation when
                                    sp_n == 0)                              */
    uint32_t quarantine;         /* pages kept inaccessible after frees      */
    uint32_t max_pages;          /* pages the pool may hold (data, guard and
                                    quarantined), <= region_pages            */
    uint32_t fault_n;            /* fault selectors in use, 0..PT_SEL_MAX    */
    uint32_t reserved0[2];
    pt_seg_sel sp[PT_SEL_MAX];
    pt_seg_sel fault[PT_SEL_MAX];
    /* -- written by the runtime (its own cache lines) -- */
    uint64_t region_base __attribute__((aligned(64))); /* reserved range (0:
                                    not yet: reserved when first switched on) */
    uint64_t region_size;        /* bytes                                   */
    uint32_t sp_matched;         /* tag entries a tag selector matches now  */
    uint32_t fault_matched;      /* tag entries a fault selector matches now */
    uint32_t handler;            /* PT_SPH_*                                */
    uint32_t reserved1;
    uint64_t allocs;             /* blocks placed in the pool, ever         */
    uint64_t frees;
    uint64_t full;               /* selected allocations that found the pool
                                    full (served by the normal path)        */
    uint64_t ineligible;         /* selected but not placed: alignment over
                                    a page, nonpaged pool, a signal handler
                                    inside the pool's code                  */
    uint64_t sampled;            /* placed by sampling                      */
    uint64_t blocks_live;
    uint64_t bytes_live;         /* requested bytes of live blocks          */
    uint64_t pages_used;         /* pages held: live runs + quarantine       */
    uint64_t pages_quarantined;
    uint64_t blk_hw;             /* records [0, blk_hw) have been used      */
    uint64_t reports_seq;        /* reports written, ever                   */
    uint64_t injected;           /* failures injected, ever (all tags)      */
    uint64_t reserved2[4];
} pt_seg_special;

/* One special block (a record; addr 0: unused). */
#define PT_SPB_LIVE 1u
#define PT_SPB_QUARANTINED 2u    /* freed, pages inaccessible               */
#define PT_SPB_REPORTED 3u       /* an error was reported: kept, never reused */
#define PT_SPBF_UNDERRUN 0x1u
#define PT_SPBF_SAMPLED 0x2u
#define PT_SPBF_ZERO 0x4u        /* its pages were zeroed when handed out   */
typedef struct pt_seg_spblk {
    uint64_t addr;               /* the caller's pointer, written last      */
    uint64_t size;               /* requested bytes                         */
    uint64_t run;                /* address of the run's first page (guard
                                    page included)                          */
    uint32_t npages;             /* pages of the run, guard page included   */
    uint32_t tag;
    uint32_t alloc_stack;        /* stack ids (0: none)                     */
    uint32_t free_stack;
    uint32_t alloc_tid;
    uint32_t free_tid;
    uint32_t sidx;               /* call site index (counting at free)      */
    uint32_t trk;                /* tracked record index + 1 (verify), 0    */
    uint8_t state;               /* PT_SPB_*                                */
    uint8_t flags;               /* PT_SPBF_*                               */
    uint8_t kinds;               /* (runtime) trace kinds at allocation     */
    uint8_t align_log2;          /* the caller pointer's alignment          */
    uint32_t reuse;              /* times the record was reused             */
} pt_seg_spblk;

/* A special pool report (Windows' bug checks 0xCC/0xCD/0xD5/0xC1). */
#define PT_SEG_SPREPORTS 16u
#define PT_SPR_OVERRUN 1u        /* access to the guard page after a block  */
#define PT_SPR_UNDERRUN 2u       /* ... before a block (underrun layout)    */
#define PT_SPR_USE_AFTER_FREE 3u /* access to a quarantined block           */
#define PT_SPR_SLOP 4u           /* slop bytes overwritten (found at free)  */
#define PT_SPR_DOUBLE_FREE 5u    /* free (or realloc) of a freed block      */
#define PT_SPR_BAD_FREE 6u       /* free of an address inside the pool that
                                    is not a block's                        */
#define PT_SPR_WILD 7u           /* access to a page of the pool that holds
                                    no block                                */
#define PT_SPA_UNKNOWN 0u
#define PT_SPA_READ 1u
#define PT_SPA_WRITE 2u
typedef struct pt_seg_spreport {
    uint64_t seq;                /* 1-based, written last; 0 = empty        */
    uint64_t time_ns;            /* CLOCK_REALTIME                          */
    uint64_t fault_addr;         /* the address accessed (or freed)         */
    uint64_t block;              /* the block's caller pointer (0: none)    */
    uint64_t size;               /* its requested bytes                     */
    int64_t offset;              /* overrun, slop: bytes past the block's
                                    end (0 = the first byte after it);
                                    underrun: negative, bytes before its
                                    start; use after free, bad free: offset
                                    from its start                          */
    uint64_t pc;                 /* the faulting instruction (0: a check)   */
    uint32_t kind;               /* PT_SPR_*                                */
    uint32_t tag;
    uint32_t tid;                /* the thread that did it                  */
    uint32_t signo;              /* the signal it dies with (0: recovered)  */
    uint32_t stack;              /* the faulting (or freeing) stack         */
    uint32_t alloc_stack;
    uint32_t free_stack;         /* 0: not freed                            */
    uint32_t alloc_tid;
    uint32_t free_tid;
    uint8_t access;              /* PT_SPA_*                                */
    uint8_t recovered;           /* 1: the program went on                  */
    uint16_t reserved0;
    uint64_t reserved[4];
} pt_seg_spreport;

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
    uint32_t special_full; /* selected for the special pool, found it full
                              (issue 12; older segments: 0; wraps)         */
    uint64_t injected;  /* failures injected (pooltag fault), counted in
                           failures too (issue 12; older segments: 0)      */
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
    uint32_t age_epoch; /* the epoch its site counters' current part is in
                           (PT_SEGF_AGES; "Age epochs")                    */
    uint32_t age_seq;   /* odd while its owner moves to a newer epoch      */
    uint64_t reserved[5];
} pt_seg_shard_hdr;

/* Live bytes and blocks (PT_SEGF_AGES): ages[e][j] in the header's table,
 * and each shard's moved counters (one per site, after its site
 * counters).  Signed: a free is counted where the block's epoch says, the
 * allocation where it happened. */
typedef struct pt_seg_age_live {
    int64_t bytes;
    int64_t blocks;
} pt_seg_age_live;

_Static_assert(sizeof(pt_seg_header) <= PT_SEG_HEADER_SIZE, "header fits");
/* The offsets documented in docs/segment-format.md. */
_Static_assert(offsetof(pt_seg_header, version) == 8, "layout");
_Static_assert(offsetof(pt_seg_header, max_tags) == 40, "layout");
_Static_assert(offsetof(pt_seg_header, pools_off) == 56, "layout");
_Static_assert(offsetof(pt_seg_header, tags_used) == 120, "layout");
_Static_assert(offsetof(pt_seg_header, check_key) == 136, "layout");
_Static_assert(offsetof(pt_seg_header, comm) == 176, "layout");
_Static_assert(offsetof(pt_seg_header, exe) == 192, "layout");
_Static_assert(offsetof(pt_seg_header, modules_off) == 448, "layout");
_Static_assert(sizeof(pt_seg_module) == 256, "module record");
_Static_assert(offsetof(pt_seg_header, sites_off) == 472, "layout");
_Static_assert(sizeof(pt_seg_site) == 16, "site record");
_Static_assert(offsetof(pt_seg_header, modules_dropped) == 496, "layout");
_Static_assert(offsetof(pt_seg_header, control_off) == 504, "layout");
_Static_assert(offsetof(pt_seg_header, leaks_off) == 576, "layout");
_Static_assert(offsetof(pt_seg_header, special_off) == 584, "layout");
_Static_assert(sizeof(pt_seg_control) <= 4096, "control block: one page");
_Static_assert(sizeof(pt_seg_special) <= 4096, "special settings: one page");
_Static_assert(offsetof(pt_seg_special, region_base) % 64 == 0, "runtime's part: own lines");
_Static_assert(sizeof(pt_seg_sel) == 160, "selector");
_Static_assert(sizeof(pt_seg_spblk) == 64, "special block record");
_Static_assert(sizeof(pt_seg_spreport) == 128, "special report");
_Static_assert(offsetof(pt_seg_control, applied_gen) % 64 == 0, "runtime's part: own lines");
_Static_assert(sizeof(pt_seg_ring) == PT_SEG_LINE, "ring header line");
_Static_assert(sizeof(pt_seg_rec) == 48, "ring record");
_Static_assert(sizeof(pt_seg_vstat) == 128, "vstat record");
_Static_assert(sizeof(pt_seg_tracked) == 48, "tracked record");
_Static_assert(sizeof(pt_seg_leak) == PT_SEG_LINE, "leak record");
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

/* The stride with site counters and, with ages, each site's moved
 * counters after them. */
static inline uint64_t pt_seg_shard_stride_ages(uint32_t max_tags, uint32_t max_sites)
{
    return pt_seg_align(pt_seg_shard_stride_sites(max_tags, max_sites) +
                            ((uint64_t)max_sites + 1) * sizeof(pt_seg_age_live),
                        PT_SEG_LINE);
}

/* The moved counters of site j in the shard that starts at `shard`. */
static inline pt_seg_age_live *pt_seg_shard_age_moved(void *shard, uint32_t max_tags,
                                                      uint32_t max_sites, uint32_t j)
{
    return (pt_seg_age_live *)((char *)shard + pt_seg_shard_stride_sites(max_tags, max_sites)) + j;
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

/* The block header's check (src/runtime/internal.h, "The block header"),
 * the one definition the runtime and the outside readers share: a header
 * at address haddr holding w0 and tag is a live block's when its check
 * word equals pt_hdr_check_live(haddr, w0, tag, key) with key the
 * segment's check_key; a freed block's holds pt_hdr_check_freed. */
#define PT_HDR_FREED_MARK 0x5eedf4eeu
static inline uint32_t pt_hdr_check_base(uint64_t haddr, uint32_t tag, uint64_t key)
{
    return (uint32_t)(haddr >> 4) ^ tag ^ (uint32_t)key;
}
static inline uint32_t pt_hdr_check_live(uint64_t haddr, uint64_t w0, uint32_t tag, uint64_t key)
{
    return pt_hdr_check_base(haddr, tag, key) ^ (uint32_t)w0 ^ (uint32_t)(w0 >> 32);
}
/* The epoch of the live block whose header at haddr holds w0, tag and
 * check, given the segment's age_now (0 without ages): its epoch, or
 * UINT32_MAX when the header is not a live block's.  A foreign word
 * passes with probability (age_now + 1) / 2^32. */
static inline uint32_t pt_hdr_epoch(uint64_t haddr, uint64_t w0, uint32_t tag, uint32_t check,
                                    uint64_t key, uint32_t age_now)
{
    uint32_t e = pt_age_unstamp(check ^ pt_hdr_check_live(haddr, w0, tag, key));
    return e <= age_now ? e : UINT32_MAX;
}
static inline uint32_t pt_hdr_check_freed(uint64_t haddr, uint32_t tag, uint64_t key)
{
    return pt_hdr_check_base(haddr, tag, key) ^ PT_HDR_FREED_MARK;
}

#endif /* PT_SEGMENT_H */
