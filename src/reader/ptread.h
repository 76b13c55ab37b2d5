/*
 * ptread.h — the one reader of pooltag segments (internal library).
 *
 * Every report verb reads its data through this interface, whatever the
 * source: a live PID (read-only, through /proc/PID), a snapshot file written
 * by `pooltag snap`, or (later) a core file.  The bytes are untrusted: every
 * offset and count is bounds-checked, and bad input yields an error message,
 * never a crash.
 *
 * Conventions: functions return 0 on success and -1 on error, with a
 * one-line message (no trailing newline) in err[0..errlen).
 */
#ifndef PT_READ_H
#define PT_READ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pooltag.h"
#include "segment.h"

/* Process figures from /proc/PID (live) or stored in a snapshot. */
typedef struct ptr_proc {
    int valid;            /* 0 when not known (e.g. a bare segment)        */
    uint64_t rss_kb;      /* VmRSS                                         */
    uint64_t vmsize_kb;   /* VmSize                                        */
    uint64_t vmdata_kb;   /* VmData                                        */
    uint64_t vmstk_kb;    /* VmStk                                         */
    uint64_t vmlck_kb;    /* VmLck                                         */
    uint64_t vmhwm_kb;    /* VmHWM                                         */
    uint64_t commit_kb;   /* VmData + VmStk: private writable, the Linux
                             analogue of committed memory                  */
} ptr_proc;

/* Per pool totals, derived from the tag rows and the pool records. */
typedef struct ptr_pool {
    uint64_t limit;       /* 0 = unlimited                                 */
    uint64_t peak;        /* max(recorded peak, current bytes)             */
    uint64_t failures;
    uint64_t allocs, frees, bytes_alloc, bytes_freed; /* sums over tags    */
} ptr_pool;

enum ptr_kind { PTR_LIVE = 1, PTR_SNAPSHOT = 2, PTR_CORE = 3 };

/* One parsed, consistent reading of a segment. */
typedef struct ptr_view {
    int kind;             /* enum ptr_kind                                 */
    uint32_t version;
    uint32_t pid;
    uint32_t page_size;
    uint32_t max_tags;
    uint32_t flags;       /* PT_SEGF_*                                     */
    uint32_t on_error;
    uint64_t start_ns;    /* process start (segment creation)              */
    uint64_t taken_ns;    /* when this reading was taken                   */
    uint64_t errors_total;
    uint64_t threads_started, threads_exited;
    uint64_t peak_grain;  /* the runtime's smallest flush grain (invariant 6) */
    char comm[17];
    char exe[257];
    ptr_pool pool[PT_POOL_COUNT];
    size_t ntags;         /* rows in tags[], overflow entry included if used */
    pt_tag_info *tags;    /* malloc'd; table order                         */
    size_t nerrors;       /* valid entries in errors[], oldest first       */
    pt_seg_error errors[PT_SEG_ERRORS];
    ptr_proc proc;
    size_t nsites;        /* call sites with any counts                   */
    struct ptr_site {
        uint64_t addr;    /* code address; 0 = the tag's other sites      */
        uint32_t tag;
        uint32_t overflow; /* the overflow site (site table full)         */
        uint32_t index;   /* its entry in the segment's site table: the
                             index a block header's w0 holds (bits 47..63) */
        pt_counts pool[PT_POOL_COUNT];
    } *sites;             /* malloc'd, table order                        */
    size_t nmodules;      /* module table (preload); paths NUL-terminated */
    pt_seg_module *modules; /* malloc'd                                   */
    uint32_t modules_dropped; /* modules loaded while the table was full  */
    uint32_t max_modules;
    uint32_t max_sites;   /* site table capacity (0: no site table)       */
    uint32_t sites_used;  /* its entries in use                           */
    uint32_t tags_used;   /* tag table entries in use (of max_tags)       */
    /* Issue 12, one per row of tags[] (NULL in a view built otherwise):
     * failures injected (pooltag fault; counted in failures too) and
     * allocations that found the special pool full.  Sums over the rows. */
    struct ptr_tagx {
        uint64_t injected;
        uint64_t special_full;
    } *tagx;
    uint64_t injected, special_full;
    /* The block header check key (pt_seg_header.check_key): valid when
     * flags has PT_SEGF_CHECK_KEY (issue 13), else 0. */
    uint64_t check_key;
    /* Age epochs (issue 15): valid when flags has PT_SEGF_AGES, else
     * age_n is 0 and site_ages NULL.  Epoch e began at age_start_real[e]
     * (CLOCK_REALTIME ns; _mono: CLOCK_MONOTONIC) and ended when epoch
     * e + 1 began (the current one, age_n - 1, has not ended): a block of
     * epoch e is between taken_ns - age_start_real[e + 1] and taken_ns -
     * age_start_real[e] old.  site_ages[i * age_n + e] holds the live
     * bytes and blocks of sites[i] allocated in epoch e (segment.h, "Age
     * epochs"); their sum over e is the site's live bytes and blocks. */
    uint32_t age_n;       /* epochs begun (age_now + 1), <= PT_AGE_EPOCHS  */
    uint64_t age_start_real[PT_AGE_EPOCHS];
    uint64_t age_start_mono[PT_AGE_EPOCHS];
    pt_seg_age_live *site_ages; /* malloc'd, nsites * age_n, or NULL       */
} ptr_view;

/* The module whose automatic tag is `tag` (the newest record), or NULL. */
const pt_seg_module *ptr_module_of_tag(const ptr_view *v, uint32_t tag);

/*
 * Parse a segment image (len bytes at buf, untrusted).  The image may be
 * shorter than header.seg_size as long as it covers every region up to the
 * last shard in use.  On success fills *v (call ptr_view_free).
 */
int ptr_parse(const void *buf, size_t len, ptr_view *v, char *err,
              size_t errlen);
void ptr_view_free(ptr_view *v);

/* A source of readings. */
typedef struct ptr_source ptr_source;

/*
 * Open a source from a command-line word: all digits = a PID, anything else
 * = a file path (snapshot; later a core file).  Errors name the problem and
 * what to do: no such process, process not tagged, permission denied (the
 * rule is ptrace's: same user or root), file not found, not a snapshot.
 */
int ptr_open(const char *spec, ptr_source **out, char *err, size_t errlen);

/* The one-line message for a permission error (EACCES, EPERM) reading
 * process pid's /proc files: "permission denied reading process PID (uid
 * U): pooltag follows the ptrace rule — WHY", where WHY names what is
 * missing: another uid, the target not dumpable (PR_SET_DUMPABLE 0), Yama's
 * ptrace_scope, CAP_SYS_PTRACE, or a security module (perm.c). */
void ptr_perm_message(uint32_t pid, char *buf, size_t size);

/* Take a reading.  For a live source each call reads afresh. */
int ptr_read(ptr_source *s, ptr_view *v, char *err, size_t errlen);

/* For a live source: is the process still there? */
int ptr_alive(ptr_source *s);
int ptr_kind(const ptr_source *s);
/* A core source's process image (pimg.h: its regions, threads, modules),
 * owned by the source; NULL for other kinds. */
struct pim;
struct pim *ptr_source_core(ptr_source *s);
/* The pooltag segment of a process image opened with pimg.h (a live PID, a
 * core, a memory image), parsed like any source: for a live process a
 * consistent image of the segment's prefix is read as ptr_read does (never
 * the whole mapping: reading untouched pages of the memfd would make the
 * kernel allocate them in the target); for a core or a memory image the
 * bytes are parsed where they are.  -1 with "not a tagged process (no
 * pooltag segment)" when the image has none, or the parser's message. */
int ptr_read_pim(struct pim *p, ptr_view *v, char *err, size_t errlen);
uint32_t ptr_pid(const ptr_source *s);
void ptr_close(ptr_source *s);

/*
 * The tagged processes this user may read (every one, for root): PIDs whose
 * /proc/PID/maps shows the pooltag segment, ascending, the caller excluded.
 * *pids is malloc'd (free it); *n may be 0.  Errors only when /proc cannot
 * be listed or memory runs out.
 */
int ptr_list_tagged(uint32_t **pids, size_t *n, char *err, size_t errlen);
/* The same, only the processes wholly owned by uid (ptr_proc_owned_by),
 * whoever the caller is: what `pooltag serve` exports by default. */
int ptr_list_tagged_owned(uid_t uid, uint32_t **pids, size_t *n, char *err,
                          size_t errlen);
/* 1 when /proc/PID is owned by uid and the process's real, effective and
 * saved uids are all uid (what the ptrace rule asks of an unprivileged
 * reader); 0 otherwise or when the process is gone. */
int ptr_proc_owned_by(uint32_t pid, uid_t uid);

/* Raw copy of the segment image as last read, used by `pooltag snap`.
 * Points into the source; valid until the next ptr_read or ptr_close. */
const void *ptr_raw(const ptr_source *s, size_t *len);
/*
 * The cheap reading (curread.c): each tag entry's flushed Bytes
 * (tagstat.cur, segment.h invariant 6: within the tag's grain per thread
 * of the exact Bytes) and the pools' flushed totals, read with one pread
 * and no pass over the shards, for readers that sample many times a
 * second between full readings.  The layout is the one of the source's
 * last ptr_read (call it first).  Entry i names tag key[i] (0: empty;
 * entry n - 1 is the overflow entry).  Arrays are reused from call to
 * call; ptr_cur_free releases them.
 */
typedef struct ptr_cur {
    size_t n;                        /* entries: max_tags + 1            */
    uint32_t *key;                   /* tag of each entry, 0 = empty     */
    int64_t (*cur)[PT_POOL_COUNT];   /* flushed Bytes per entry and pool */
    int64_t pool[PT_POOL_COUNT];     /* the pools' flushed totals        */
    char *buf;                       /* private                          */
    size_t cap;
} ptr_cur;
int ptr_cur_read(ptr_source *s, ptr_cur *c, char *err, size_t errlen);
void ptr_cur_free(ptr_cur *c);

/* Process figures read with the last reading (live) or stored (snapshot). */
const ptr_proc *ptr_proc_info(const ptr_source *s);

/* Write a snapshot (header, then the segment image) to F, which the caller
 * opened and will flush and close (`pooltag snap` writes through the
 * command's output-file helper: temporary file, fsync, rename).  Format in
 * docs/snapshot-format.md.  Returns 0, or -1 with the reason in err. */
int ptr_snapshot_write(FILE *f, const void *seg, size_t seglen,
                       const ptr_proc *proc, uint32_t pid,
                       const char *comm, char *err, size_t errlen);

/* Open an input file for reading without ever blocking on it: anything but
 * a regular file (a directory, FIFO, socket, device) is refused before it
 * is opened, and the open itself is non-blocking (O_NONBLOCK, cleared
 * afterwards).  Returns the descriptor (and *st, if st != NULL), or -1 with
 * err = "PATH: REASON" ("PATH: is a FIFO, not a regular file", "PATH: No
 * such file or directory") and errno set to the cause (ENOENT, EACCES, and
 * EINVAL for a file that is not regular). */
struct stat;
int ptr_open_input(const char *path, struct stat *st, char *err,
                   size_t errlen);
/* "a directory", "a FIFO", "a character device", "a block device",
 * "a socket", "a symbolic link", "a regular file" for an st_mode. */
const char *ptr_file_kind(unsigned mode);

/* ---------------------------------------------------------------------- */
/* Internal: shared by the reader sources, the fuzz targets and the tests. */

/* Format a one-line message into err[0..errlen) and return -1 (parse.c). */
int ptr__fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the message in err with "PATH: " (messages about a file name the
 * file) and return -1 (parse.c). */
int ptr__with_path(const char *path, char *err, size_t errlen);

/*
 * Parse a whole file image held in memory: a snapshot (magic "PTSNAP\0\0",
 * docs/snapshot-format.md) or a raw segment image (magic "POOLTAG\0").  This
 * is what ptr_read does for a file source, minus the file; the fuzz target
 * calls it directly.  Fills v->kind = PTR_SNAPSHOT, v->proc and v->taken_ns
 * from the snapshot header (a raw image has no process figures).
 */
int ptr_parse_snapshot(const void *buf, size_t len, ptr_view *v, char *err,
                       size_t errlen);

/* The segment image inside a snapshot file image: validates the snapshot
 * header (magic, version, sizes, checksum) and returns the segment bytes
 * (*seg, *seglen) and the stored figures.  A raw segment image is returned
 * as is.  Does not parse the segment itself. */
typedef struct ptr_snapinfo {
    int raw;              /* 1: the image is a bare segment, no snapshot header */
    uint64_t taken_ns;
    uint32_t pid;
    char comm[17];
    ptr_proc proc;
} ptr_snapinfo;
int ptr_snapshot_decode(const void *buf, size_t len, const void **seg,
                        size_t *seglen, ptr_snapinfo *info, char *err,
                        size_t errlen);

/* Live reading (live.c), used by ptr_open/ptr_read. */
typedef struct ptr_live ptr_live;
int ptr_live_open(uint32_t pid, ptr_live **out, char *err, size_t errlen);
/* Read a consistent image of the segment prefix into *buf (grown with
 * realloc, capacity *cap) and the process figures into *proc. */
int ptr_live_read(ptr_live *l, char **buf, size_t *cap, size_t *len,
                  ptr_proc *proc, char *err, size_t errlen);
int ptr_live_alive(ptr_live *l);
void ptr_live_close(ptr_live *l);

/* ---------------------------------------------------------------------- */
/* Stacks, hit tags and pool tracking (trace.c; segment.h "Stacks, hit
 * tags and pool tracking").  These regions are large (tens of MB reserved,
 * mostly untouched), so they are not part of ptr_read's image: they are
 * read on demand, region by region, through the source (live: pread of
 * the segment at each call; file: the image), and every field that comes
 * from the segment is checked before it is used.                          */

/* Read n bytes at segment offset off from the source (live: afresh).  A
 * region outside the mapping or the image is an error ("truncated"). */
int ptr_source_pread(ptr_source *s, void *buf, size_t n, uint64_t off,
                     char *err, size_t errlen);
/* Bytes that can be read: the mapping (live) or the segment image. */
uint64_t ptr_source_size(const ptr_source *s);
/* The segment image for a snapshot: the last reading's prefix, extended
 * (live sources) to the end of the last region the header lays out
 * (ptr_seg_extent), so that a snapshot holds the stacks, rings and
 * tracked blocks too.  Valid until the next ptr_read or ptr_close. */
int ptr_raw_full(ptr_source *s, const void **seg, size_t *len, char *err,
                 size_t errlen);
/* The end of the last region laid out by the header at seg (len bytes),
 * at most limit; regions whose offsets or sizes make no sense are left
 * out (the parser reports them). */
uint64_t ptr_seg_extent(const void *seg, size_t len, uint64_t limit);

/* Reader limits on the trace regions (the options table's maxima). */
#define PTR_MAX_STACKS_LIMIT (1u << 20)
#define PTR_RING_CAP_LIMIT (1u << 22)
#define PTR_MAX_TRACKED_LIMIT (1u << 24)

typedef struct ptr_trace {
    ptr_source *src;
    int present;                /* 0: the segment has no control block
                                   (its runtime predates issue 11)       */
    pt_seg_header hdr;          /* as read at ptr_trace_open              */
    pt_seg_control ctl;         /* as read at the last ptr_trace_control  */
    uint32_t max_modules;       /* vstats entries                         */
    pt_seg_ring ring[PT_SEG_NRINGS]; /* headers as read at open           */
} ptr_trace;

/* Read and check the header's trace layout (every region inside the
 * source, counts within limits) and the control block.  A segment
 * without one gives 0 with t->present = 0. */
int ptr_trace_open(ptr_source *s, ptr_trace *t, char *err, size_t errlen);
/* Read the control block afresh into t->ctl. */
int ptr_trace_control(ptr_trace *t, char *err, size_t errlen);
/* The special pool's and fault injection's page (pt_seg_special: the
 * settings and the runtime's statistics), read afresh; text fields
 * NUL-terminated, selector counts checked.  A segment without one
 * (header.special_off 0, or no control block) is an error. */
int ptr_special_read(ptr_trace *t, pt_seg_special *sp, char *err, size_t errlen);
/* The frames of stack `id` (1-based; id 0 is "no stack": *depth 0).
 * frames holds PT_SEG_DEPTH_LIMIT entries.  An empty slot gives *depth 0;
 * a slot that points outside the frame array or says more frames than
 * the depth limit is an error. */
int ptr_trace_stack(ptr_trace *t, uint32_t id, uint64_t *frames,
                    uint32_t *depth, char *err, size_t errlen);

/* One reading of a ring.  Records are those of indices [first, head)
 * whose seq was consistent (seq == index + 1 in the copy, and the slot not
 * claimed again before the copy ended), oldest first. */
typedef struct ptr_ring_read {
    uint32_t cap, size;         /* the ring's (size: records in use)     */
    uint64_t head, base;        /* as read after the copy                */
    uint64_t first;             /* oldest index the ring still holds     */
    uint64_t from;              /* the first index asked for (max'd with
                                   first)                                 */
    uint64_t lost;              /* indices asked for that the ring had
                                   already overwritten (from < first)    */
    uint64_t torn;              /* indices in range skipped: being written
                                   or overwritten while copied           */
    uint64_t pending;           /* first index skipped as being written,
                                   UINT64_MAX when none                  */
    size_t n;
    pt_seg_rec *recs;           /* malloc'd; index of recs[k] = seq - 1  */
} ptr_ring_read;
/* Read ring `which` (PT_RING_*), records of index >= from (0: all). */
int ptr_trace_ring(ptr_trace *t, unsigned which, uint64_t from,
                   ptr_ring_read *r, char *err, size_t errlen);
void ptr_ring_free(ptr_ring_read *r);

/* The verify statistics of the module records [0, n) (n = the module
 * table's records in use, at most max_modules); malloc'd. */
int ptr_trace_vstats(ptr_trace *t, size_t n, pt_seg_vstat **out,
                     char *err, size_t errlen);
/* The tracked records in use (addr != 0), in table order; records whose
 * module index or depth makes no sense are an error.  malloc'd. */
int ptr_trace_tracked(ptr_trace *t, pt_seg_tracked **out, size_t *n,
                      char *err, size_t errlen);
/* The leak reports, oldest first (at most PT_SEG_LEAKS). */
int ptr_trace_leaks(ptr_trace *t, pt_seg_leak *out, size_t *n, char *err,
                    size_t errlen);

/* The same checks over a segment image in memory (fuzz/fuzz_trace.c,
 * tests): opens a source over the bytes (copied) and runs every reader
 * above on it.  Returns 0 or -1 with the first error. */
int ptr_trace_check_image(const void *seg, size_t len, char *err,
                          size_t errlen);
/* A file source over a segment image held in memory (copied). */
int ptr_open_image(const void *seg, size_t len, ptr_source **out, char *err,
                   size_t errlen);

/* ---------------------------------------------------------------------- */
/* The special pool (special.c; segment.h "Special pool and fault
 * injection"): its settings page, block records and reports, read on
 * demand through a ptr_trace (they lie after the trace regions).  Every
 * field is checked: a layout outside the source is an error, a record that
 * makes no sense is skipped and counted.                                 */

#define PTR_MAX_SPECIAL_LIMIT (1u << 20)   /* block records a reader takes */

typedef struct ptr_special {
    int present;                /* 0: the segment has no special pool
                                   (its runtime predates issue 12)       */
    pt_seg_special sp;          /* the page as read; selector counts and
                                   texts clamped (NUL-ended)              */
    uint32_t max_special;       /* block records                         */
    uint32_t bad_selectors;     /* selectors whose kind or range made no
                                   sense (not shown)                      */
} ptr_special;

/* Check the layout of the three regions (inside the source, max_special
 * within the limit) and read the page through ptr_special_read; selectors
 * whose kind or range make no sense are dropped and counted.  A segment
 * without a special pool gives 0 with sp->present = 0. */
int ptr_special_open(ptr_trace *t, ptr_special *sp, char *err, size_t errlen);

/* The live, quarantined and reported block records among [0, blk_hw),
 * table order.  A record whose state, flags, pages, address (outside its
 * run or the region), size or stack ids make no sense is skipped and
 * counted in *skipped.  *out malloc'd. */
int ptr_special_blocks(ptr_trace *t, const ptr_special *sp, pt_seg_spblk **out,
                       size_t *n, size_t *skipped, char *err, size_t errlen);

/* The reports, oldest first (at most PT_SEG_SPREPORTS): a record is taken
 * only if its seq was the same before and after the copy and names its
 * slot ((seq - 1) % PT_SEG_SPREPORTS); records being written (*torn) or
 * that make no sense (kind, access, stack ids: *skipped) are left out. */
int ptr_special_reports(ptr_trace *t, const ptr_special *sp, pt_seg_spreport *out,
                        size_t *n, size_t *torn, size_t *skipped, char *err,
                        size_t errlen);

/* The special readers over a segment image (fuzz/fuzz_special.c, tests):
 * 0, or -1 with the first error. */
int ptr_special_check_image(const void *seg, size_t len, char *err, size_t errlen);

/* Names for reports and blocks: "overrun", "underrun", "use after free",
 * "slop overwritten", "double free", "bad free", "wild access"; "live",
 * "quarantined", "reported"; "read", "write", "unknown". */
const char *ptr_spr_kind_name(uint32_t kind);
const char *ptr_spb_state_name(uint32_t state);
const char *ptr_spa_access_name(uint32_t access);

/* ---------------------------------------------------------------------- */
/* Changing a running process's control block (control.c).               */

/* The change to make: a function that edits the settings part of the
 * control block (hit_n .. verify_glob; gen, writer and the runtime's part
 * are the writer's).  Returns 0, or -1 with a message (nothing written). */
typedef int (*ptr_control_edit)(pt_seg_control *c, const ptr_view *v,
                                const ptr_trace *t, void *arg, char *err,
                                size_t errlen);

typedef struct ptr_control_result {
    uint64_t gen;               /* the generation written                */
    int applied;                /* the runtime applied it within wait_ms */
    pt_seg_control after;       /* the control block as last read        */
} ptr_control_result;

/* Write a change to process s (live) following segment.h's protocol:
 * open /proc/PID/mem for writing (the kernel's PTRACE_MODE_ATTACH check:
 * refused = nothing written, message "cannot change PID: not permitted
 * (...)"), check the kick word's address (4-aligned, inside a writable
 * mapping), read the control block, edit it, write the settings, then
 * gen + 1, then OR PT_KICK_CONTROL into the kick word; then poll
 * applied_gen for up to wait_ms. */
int ptr_control_change(ptr_source *s, const ptr_view *v, ptr_trace *t,
                       ptr_control_edit edit, void *arg, int wait_ms,
                       ptr_control_result *res, char *err, size_t errlen);

/* The same for the special pool's and fault injection's settings (the
 * first part of pt_seg_special, up to region_base): edit them, write
 * them, then the control block's gen + 1 and the kick (segment.h).  A
 * segment without them (header.special_off 0) is refused with a message. */
typedef int (*ptr_special_edit)(pt_seg_special *sp, const ptr_view *v,
                                const ptr_trace *t, void *arg, char *err,
                                size_t errlen);
int ptr_special_change(ptr_source *s, const ptr_view *v, ptr_trace *t,
                       ptr_special_edit edit, void *arg, int wait_ms,
                       ptr_control_result *res, char *err, size_t errlen);

/* Live internals for trace.c and control.c. */
int ptr_live_pread(ptr_live *l, void *buf, size_t n, uint64_t off,
                   char *err, size_t errlen);
uint64_t ptr_live_maplen(const ptr_live *l);
uint64_t ptr_live_mapstart(const ptr_live *l);
unsigned long long ptr_live_start(const ptr_live *l);
ptr_live *ptr_source_live(ptr_source *s);

#endif /* PT_READ_H */
