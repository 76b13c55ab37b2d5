/*
 * procfs.h — the one reader of /proc/PID (part of ptread).
 *
 * Every verb and library unit that looks at another process (or at itself)
 * through /proc goes through here: its stat line, comm, exe link, status
 * (Uid/Gid/CapEff and the Vm* figures), its maps (one line parser and an
 * iterator), its memory (/proc/PID/mem) and the path names of those files.
 * The permission message is ptr_perm_message (ptread.h, perm.c) and the
 * name the segment's memfd shows under is pt_seg_memfd_shown (segment.h).
 *
 * Data model and invariants
 * -------------------------
 * - The bytes of /proc files are outside input: every parser here is
 *   bounded by the length it is given and never reads past it; a stat or
 *   maps line is taken whole or refused (the maps iterator skips refused
 *   and overlong lines); status keeps the lines it knows.  The parsers
 *   never allocate; the readers use fixed buffers, except ptp_read_text,
 *   the maps iterator's FILE and ptp_target_open.  fuzz/fuzz_procfs.c
 *   drives ptp_parse_stat, ptp_parse_status, ptp_parse_maps_line and the
 *   maps text iterator.
 * - pid 0 names the calling process ("/proc/self/...") where a file is
 *   read; ptp_exists, ptp_alive and ptp_target_open take 0 for "no such
 *   process" (no real process has PID 0).
 * - Functions that read a file return -1 with errno set (ENOENT or ESRCH:
 *   the process is gone; EACCES or EPERM: the ptrace rule said no) and
 *   leave the message to the caller, which knows its verb.
 * - This is the command's side: it may allocate and block; the runtime in
 *   the traced process never links it.
 */
#ifndef PT_PROCFS_H
#define PT_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ptread.h"

/* "/proc/PID" or "/proc/PID/FILE" (FILE NULL or "": the directory; pid 0:
 * "self") into buf.  Returns buf.  64 bytes hold any of them. */
#define PTP_PATH_SIZE 64
char *ptp_path(char *buf, size_t size, uint32_t pid, const char *file);
/* "/proc/PID/map_files/START-END" (lower-case hex, as the kernel names
 * them) into buf, which should hold PTP_PATH_SIZE + 32 bytes. */
char *ptp_map_files_path(char *buf, size_t size, uint32_t pid, uint64_t start,
                         uint64_t end);

/* 1 when /proc/PID exists (*st filled, if st != NULL), else 0 (pid 0
 * included: no such process). */
struct stat;
int ptp_exists(uint32_t pid, struct stat *st);

/* Read a small file of /proc (or /sys) into buf, NUL terminated, at most
 * size - 1 bytes (the rest is cut).  Returns the length, or -1 with errno. */
ssize_t ptp_read_small(const char *path, char *buf, size_t size);

/* The whole of /proc/PID/FILE (e.g. "maps") in a malloc'd, NUL terminated
 * buffer (*len bytes, if len != NULL), or NULL with errno (EFBIG when it
 * is longer than max bytes, ENOMEM). */
char *ptp_read_text(uint32_t pid, const char *file, size_t max, size_t *len);

/* ---------------------------------------------------------------------- */
/* /proc/PID/stat                                                          */

/* The command name sits between the first '(' and the LAST ')': it may
 * itself hold ')', '(', spaces and newlines (prctl(PR_SET_NAME) takes any
 * bytes); every field after the last ')' is a number or the state letter. */
typedef struct ptp_stat {
    uint32_t pid;              /* field 1                                  */
    char comm[64];             /* field 2, without the parentheses; cut at
                                  63 bytes (the kernel's limit is 15)      */
    char state;                /* field 3: R S D Z X ... (see ptp_gone)    */
    int64_t ppid;              /* field 4                                  */
    unsigned long long start;  /* field 22: start time, clock ticks after
                                  boot; with the PID it names the process  */
    uint64_t vsize;            /* field 23, bytes (0 when absent)          */
    int64_t rss_pages;         /* field 24, pages (0 when absent)          */
} ptp_stat;

/* Parse a stat line of len bytes (no NUL needed; a trailing newline is
 * fine).  Fields 1 to 22 must be there; 23 and 24 are read when present.
 * Returns 0, or -1 (EINVAL) for anything else. */
int ptp_parse_stat(const char *text, size_t len, ptp_stat *st);
/* Read and parse /proc/PID/stat.  -1 with errno (EINVAL: unparsable). */
int ptp_read_stat(uint32_t pid, ptp_stat *st);
/* 1 for the states of a process that has ended: Z (zombie), X and x
 * (dead). */
int ptp_gone(char state);
/* 1 when process pid is there, not ended, and (start != 0) started at
 * `start` (so a recycled PID is not taken for the process we began with). */
int ptp_alive(uint32_t pid, unsigned long long start);

/* ---------------------------------------------------------------------- */
/* comm, exe                                                               */

/* /proc/PID/comm up to its first newline, into buf.  0, or -1 with errno
 * (buf is then left as it was). */
int ptp_read_comm(uint32_t pid, char *buf, size_t size);
/* The target of /proc/PID/exe into buf (NUL terminated, "" on error).
 * Returns its length, or -1 with errno. */
ssize_t ptp_read_exe(uint32_t pid, char *buf, size_t size);

/* ---------------------------------------------------------------------- */
/* /proc/PID/status                                                        */

typedef struct ptp_status {
    int nuid, ngid;            /* values read from the Uid:/Gid: lines
                                  (0: no such line; 4 on any Linux)        */
    unsigned long uid[4];      /* real, effective, saved, file system      */
    unsigned long gid[4];
    int have_capeff;
    uint64_t capeff;           /* CapEff: effective capabilities           */
    ptr_proc vm;               /* VmRSS, VmSize, VmData, VmStk, VmLck,
                                  VmHWM in KiB; vm.valid when any was there;
                                  commit_kb = VmData + VmStk               */
} ptp_status;

/* Parse status text of len bytes.  Unknown lines are ignored; a Uid/Gid
 * line keeps the values before its first non-number.  Always 0. */
int ptp_parse_status(const char *text, size_t len, ptp_status *st);
/* Read and parse /proc/PID/status.  0, or -1 with errno. */
int ptp_read_status(uint32_t pid, ptp_status *st);

/* ---------------------------------------------------------------------- */
/* /proc/PID/maps                                                          */

/* One line: "START-END PERMS OFFSET MAJ:MIN INODE   PATH". */
typedef struct ptp_map {
    uint64_t start, end;       /* [start, end), end > start                */
    uint64_t offset;           /* file offset of start                     */
    unsigned dev_major, dev_minor;
    uint64_t inode;            /* 0: no file                               */
    char perms[5];             /* "r-xp": r w x, then p (private) or s     */
    int deleted;               /* the path ended in " (deleted)"           */
    char *path;                /* the path field exactly as shown (may hold
                                  spaces; "" for anonymous memory)         */
    size_t pathlen;            /* its length without " (deleted)": cut
                                  path[pathlen] = 0 for the file's name    */
} ptp_map;

/* The longest maps line read; longer lines (none that the kernel writes:
 * its paths are at most a page) are skipped whole. */
#define PTP_MAPS_LINE (4096 + 256)

/* Parse one line (NUL terminated, no newline; may be modified).  0, or -1
 * for a malformed line.  m->path points into line. */
int ptp_parse_maps_line(char *line, ptp_map *m);

/* The iterator: over /proc/PID/maps (ptp_maps_open) or over maps text
 * held in memory (ptp_maps_text; the text is not modified and must
 * outlive the iteration).  ptp_maps_next returns 1 with *m filled (its
 * path valid until the next call), 0 at the end; malformed and overlong
 * lines are skipped.  ptp_maps_close is safe on both kinds. */
typedef struct ptp_maps {
    FILE *f;
    const char *text;
    char line[PTP_MAPS_LINE];
} ptp_maps;
int ptp_maps_open(ptp_maps *it, uint32_t pid);   /* 0, or -1 with errno */
void ptp_maps_text(ptp_maps *it, const char *text);
int ptp_maps_next(ptp_maps *it, ptp_map *m);
void ptp_maps_close(ptp_maps *it);

/* Is this mapping the pooltag segment (pt_seg_memfd_shown)? */
int ptp_map_is_segment(const ptp_map *m);
/* Is it a mapping of a file (what find, lm and the symbolizer look at): a
 * path from the root with an inode, but not a memfd (the segment or any
 * other) or a device (/dev/...)? */
int ptp_map_is_file(const ptp_map *m);

/* ---------------------------------------------------------------------- */
/* /proc/PID/mem                                                           */

/* Open /proc/PID/mem read-only.  The descriptor, or -1 with errno. */
int ptp_mem_open(uint32_t pid);
/* Open /proc/PID/mem for writing (O_RDWR): the kernel allows it only to a
 * process that may ptrace the target (PTRACE_MODE_ATTACH: the same user
 * and dumpable, Yama's ptrace_scope permitting, or CAP_SYS_PTRACE).  The
 * descriptor, or -1 with errno (EACCES, EPERM: refused). */
int ptp_mem_open_rw(uint32_t pid);
/* pwrite all n bytes at off (retrying after EINTR and short writes).
 * Returns n, or -1 with errno. */
ssize_t ptp_pwrite(int fd, const void *buf, size_t n, uint64_t off);
/* Yama's ptrace_scope (/proc/sys/kernel/yama/ptrace_scope), or -1 when
 * there is no Yama. */
int ptp_ptrace_scope(void);
/* pread n bytes at off from fd (a mem file, a map_files entry, a memfd),
 * retrying after EINTR and short reads.  Returns the bytes read (fewer at
 * the end of what is readable), or -1 with errno when nothing was read;
 * an offset beyond INT64_MAX reads nothing (-1, EINVAL). */
ssize_t ptp_pread(int fd, void *buf, size_t n, uint64_t off);

/* ---------------------------------------------------------------------- */
/* A process opened for reading its modules and memory                     */

/* What `pooltag find`, `lm`, `ln` and `imports` read first: that the
 * process exists, its stat, comm and exe, the whole maps text and (when
 * the maps could be read) the mem file.  A file that cannot be read leaves
 * its field empty and its errno set; the caller words the error. */
typedef struct ptp_target {
    uint32_t pid;
    int have_stat;
    ptp_stat stat;             /* when have_stat                           */
    char comm[64];             /* "" when unknown                          */
    char exe[4096];            /* "" when unknown                          */
    char *maps;                /* malloc'd text of /proc/PID/maps, or NULL */
    int maps_errno;            /* why maps is NULL                         */
    int mem;                   /* /proc/PID/mem, or -1                     */
    int mem_errno;             /* why mem is -1                            */
} ptp_target;

#define PTP_MAPS_MAX (64u << 20)   /* the longest maps text read (EFBIG) */

/* -1 (errno ESRCH) when there is no process pid (pid 0 included);
 * otherwise 0.  ptp_target_close frees and closes (twice is harmless). */
int ptp_target_open(ptp_target *t, uint32_t pid);
void ptp_target_close(ptp_target *t);

#endif /* PT_PROCFS_H */
