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
        pt_counts pool[PT_POOL_COUNT];
    } *sites;             /* malloc'd, table order                        */
    size_t nmodules;      /* module table (preload); paths NUL-terminated */
    pt_seg_module *modules; /* malloc'd                                   */
    uint32_t modules_dropped; /* modules loaded while the table was full  */
    uint32_t max_modules;
    uint32_t max_sites;   /* site table capacity (0: no site table)       */
    uint32_t sites_used;  /* its entries in use                           */
    uint32_t tags_used;   /* tag table entries in use (of max_tags)       */
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

#endif /* PT_READ_H */
