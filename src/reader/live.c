/*
 * live.c — reading the segment of a running process through /proc/PID.
 *
 * Data model
 * ----------
 * A tagged process maps its segment from a memfd named "pooltag", so
 * /proc/PID/maps shows a line whose path is "/memfd:pooltag (deleted)"
 * (PT_SEG_MEMFD_SHOWN in segment.h; every /proc file is read through
 * procfs.h).  The same bytes can be reached three ways, tried in this order:
 *
 *   1. an open descriptor of that memfd in /proc/PID/fd/N (matched by inode):
 *      re-opening it gives us our own descriptor, and pread on it never
 *      touches the target's address space (no page faults, no mm lock);
 *   2. /proc/PID/map_files/START-END, which works even when the process has
 *      closed every descriptor (it needs CAP_SYS_ADMIN or
 *      CAP_CHECKPOINT_RESTORE, so in practice root);
 *   3. pread on /proc/PID/mem at the mapping's address.
 *
 * All three are guarded by the kernel's ptrace access check (same user or
 * root); pooltag asks for nothing weaker or stronger.
 *
 * Consistency: a reading copies the header, then the prefix of the segment
 * up to the end of shard shard_hw - 1 (not the whole mapping).  Counters
 * only grow and shards keep their counts (segment.h, invariant 4), so the
 * copy needs no seqlock; if a shard was claimed meanwhile (the copy's
 * shard_hw needs more bytes), it retries, up to READ_ATTEMPTS times.
 *
 * Identity: the process is remembered by PID and start time (field 22 of
 * /proc/PID/stat), so a recycled PID reads as "exited", not as another
 * process.
 */
#include "procfs.h"
#include "ptread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_ATTEMPTS 50
#define MAX_CANDIDATES 16

enum { VIA_FD = 1, VIA_MAP_FILES = 2, VIA_MEM = 3 };

struct ptr_live {
    uint32_t pid;
    long uid;                   /* real uid of the target, -1 unknown    */
    int fd;                     /* descriptor that reads the segment     */
    int via;                    /* VIA_*                                 */
    uint64_t base;              /* pread offset of segment byte 0        */
    uint64_t maplen;            /* bytes mapped                          */
    uint64_t mapstart;          /* address of segment byte 0 in the target */
    unsigned long long start;   /* start time, clock ticks after boot    */
    char comm[64];
};

typedef struct mapping {
    uint64_t start, end, pgoff;
    unsigned long inode;
} mapping;

#define fail ptr__fail

/* The process figures (and the real uid, if uid != NULL) from
 * /proc/PID/status.  Returns 0, or -1 with errno set. */
static int proc_status(uint32_t pid, ptr_proc *p, long *uid)
{
    ptp_status st;
    if (ptp_read_status(pid, &st) < 0)
        return -1;
    *p = st.vm;
    if (uid && st.nuid > 0)
        *uid = (long)st.uid[0];
    return 0;
}

/* Reads of the segment, whichever descriptor (procfs.h). */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    return ptp_pread(fd, buf, n, off);
}

static int perm_error(const ptr_live *l, char *err, size_t errlen)
{
    char msg[512];
    ptr_perm_message(l->pid, msg, sizeof msg);
    return fail(err, errlen, "%s", msg);
}

static int is_perm(int e)
{
    return e == EACCES || e == EPERM;
}

/* Open /proc/PID/fd/N for the memfd whose inode is `inode`. */
static int open_via_fd(uint32_t pid, unsigned long inode, int *perm)
{
    char dir[PTP_PATH_SIZE], path[384], link[256];
    ptp_path(dir, sizeof dir, pid, "fd");
    DIR *d = opendir(dir);
    int fd = -1;
    if (!d) {
        *perm |= is_perm(errno);
        return -1;
    }
    for (struct dirent *e; fd < 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0)
            continue;
        link[n] = 0;
        if (!pt_seg_memfd_shown(link))
            continue;
        struct stat st;
        if (stat(path, &st) < 0 || st.st_ino != inode)
            continue;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            *perm |= is_perm(errno);
    }
    closedir(d);
    return fd;
}

/* Try the three ways in order for one mapping; fill l->fd/via/base.
 * POOLTAG_READ_VIA=fd|map_files|mem restricts the reader to one way (for
 * tests and for diagnosing a machine where one of them misbehaves). */
static int open_mapping(ptr_live *l, const mapping *m, int *perm)
{
    char path[128];
    const char *only = getenv("POOLTAG_READ_VIA");
    int fd = -1;

    if (only && !*only)
        only = NULL;
    if (!only || strcmp(only, "fd") == 0) {
        fd = open_via_fd(l->pid, m->inode, perm);
        l->via = VIA_FD;
        l->base = m->pgoff;
    }
    if (fd < 0 && (!only || strcmp(only, "map_files") == 0)) {
        ptp_map_files_path(path, sizeof path, l->pid, m->start, m->end);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            *perm |= is_perm(errno);
        l->via = VIA_MAP_FILES;
        l->base = m->pgoff;
    }
    if (fd < 0 && (!only || strcmp(only, "mem") == 0)) {
        fd = ptp_mem_open(l->pid);
        if (fd < 0)
            *perm |= is_perm(errno);
        l->via = VIA_MEM;
        l->base = m->start;
    }
    if (fd < 0)
        return -1;
    l->fd = fd;
    l->maplen = m->end - m->start;
    l->mapstart = m->start;
    return 0;
}

/* The pooltag segment's mappings in /proc/PID/maps (ptp_map_is_segment). */
static int find_mappings(ptp_maps *it, mapping *out, int max)
{
    ptp_map m;
    int n = 0;
    while (n < max && ptp_maps_next(it, &m))
        if (ptp_map_is_segment(&m))
            out[n++] = (mapping){m.start, m.end, m.offset, (unsigned long)m.inode};
    return n;
}

int ptr_live_open(uint32_t pid, ptr_live **out, char *err, size_t errlen)
{
    char path[PTP_PATH_SIZE];
    struct stat st;
    ptp_stat ps;
    ptp_maps it;
    mapping maps[MAX_CANDIDATES];
    int nmaps, perm = 0;

    *out = NULL;
    if (!ptp_exists(pid, &st))
        return fail(err, errlen, "no process with PID %" PRIu32, pid);

    ptr_live *l = calloc(1, sizeof *l);
    if (!l)
        return fail(err, errlen, "out of memory");
    l->pid = pid;
    l->fd = -1;
    l->uid = (long)st.st_uid;
    if (ptp_read_comm(pid, l->comm, sizeof l->comm) < 0)
        snprintf(l->comm, sizeof l->comm, "?");
    ptr_proc dummy;
    proc_status(pid, &dummy, &l->uid);
    if (ptp_read_stat(pid, &ps) < 0) {
        free(l);
        return fail(err, errlen, "no process with PID %" PRIu32, pid);
    }
    l->start = ps.start;
    if (ps.state == 'Z') {
        fail(err, errlen,
             "process %" PRIu32 " (%s) has exited (zombie): nothing to read",
             pid, l->comm);
        free(l);
        return -1;
    }

    if (ptp_maps_open(&it, pid) < 0) {
        int e = errno;
        ptp_path(path, sizeof path, pid, "maps");
        int r = is_perm(e) ? perm_error(l, err, errlen)
                : e == ENOENT || e == ESRCH
                    ? fail(err, errlen,
                           "process %" PRIu32 " exited while being read", pid)
                    : fail(err, errlen, "cannot read %s: %s", path,
                           strerror(e));
        free(l);
        return r;
    }
    nmaps = find_mappings(&it, maps, MAX_CANDIDATES);
    ptp_maps_close(&it);
    if (nmaps == 0) {
        int r = fail(err, errlen,
                     "process %" PRIu32 " (%s) is not tagged: no pooltag "
                     "segment in /proc/%" PRIu32 "/maps; start it with "
                     "libpooltag or under `pooltag run`",
                     pid, l->comm, pid);
        free(l);
        return r;
    }

    /* Several candidates after fork (the parent's mapping may be inherited):
     * prefer the segment whose header names this PID. */
    int chosen = -1;
    for (int i = 0; i < nmaps && chosen < 0; i++) {
        ptr_live t = *l;
        pt_seg_header h;
        if (open_mapping(&t, &maps[i], &perm) < 0)
            continue;
        if (pread_full(t.fd, &h, sizeof h, t.base) == (ssize_t)sizeof h &&
            memcmp(h.magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN) == 0 &&
            (h.pid == pid || nmaps == 1)) {
            *l = t;
            chosen = i;
        } else if (l->fd < 0) {
            *l = t;   /* keep the first readable one as a fallback */
        } else {
            close(t.fd);
        }
    }
    if (l->fd < 0) {
        int r;
        if (!ptr_live_alive(l))
            r = fail(err, errlen, "process %" PRIu32 " exited while being read",
                     pid);
        else if (perm)
            r = perm_error(l, err, errlen);
        else
            r = fail(err, errlen,
                     "cannot open the pooltag segment of process %" PRIu32
                     " (%s)",
                     pid, l->comm);
        free(l);
        return r;
    }
    *out = l;
    return 0;
}

/* Bytes to copy for the header h: up to the end of the last shard in use,
 * within the mapping.  Nonsense headers read as much as ptr_parse needs to
 * say what is wrong. */
static uint64_t bytes_needed(const pt_seg_header *h, uint64_t maplen)
{
    uint64_t need = sizeof *h, shards, end;
    if (memcmp(h->magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN) == 0 &&
        h->version == PT_SEG_VERSION) {
        if (__builtin_mul_overflow((uint64_t)h->shard_hw, h->shard_stride,
                                   &shards) ||
            __builtin_add_overflow(h->shards_off, shards, &end))
            end = maplen;
        need = end > h->header_size ? end : h->header_size;
    }
    return need < maplen ? need : maplen;
}

int ptr_live_read(ptr_live *l, char **buf, size_t *cap, size_t *len,
                  ptr_proc *proc, char *err, size_t errlen)
{
    *len = 0;
    int unpublished = 0;
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        pt_seg_header h;
        if (attempt) {
            struct timespec ts = {0, attempt < 5 ? 50000 : 1000000};
            nanosleep(&ts, NULL);
        }
        if (!ptr_live_alive(l))
            return fail(err, errlen, "process %" PRIu32 " (%s) has exited",
                        l->pid, l->comm);
        ssize_t r = pread_full(l->fd, &h, sizeof h, l->base);
        if (r != (ssize_t)sizeof h) {
            int e = errno;
            if (!ptr_live_alive(l))
                return fail(err, errlen,
                            "process %" PRIu32 " exited while being read",
                            l->pid);
            if (r < 0 && is_perm(e))
                return perm_error(l, err, errlen);
            if (r < 0)
                return fail(err, errlen,
                            "cannot read the segment of process %" PRIu32
                            ": %s",
                            l->pid, strerror(e));
            /* Short: let the parser say how short. */
            if (*cap < (size_t)r) {
                char *nb = realloc(*buf, sizeof h);
                if (!nb)
                    return fail(err, errlen, "out of memory");
                *buf = nb;
                *cap = sizeof h;
            }
            memcpy(*buf, &h, (size_t)r);
            *len = (size_t)r;
            goto done;
        }
        /* Mapped but not published yet: the runtime writes the version
         * last, and a reader can find the mapping in between. */
        unpublished = h.version == 0;
        if (unpublished)
            continue;
        uint64_t need = bytes_needed(&h, l->maplen);
        if (need > SIZE_MAX / 2)
            return fail(err, errlen, "segment too large (%" PRIu64 " bytes)",
                        need);
        if (*cap < need) {
            char *nb = realloc(*buf, need);
            if (!nb)
                return fail(err, errlen, "out of memory (%" PRIu64 " bytes)",
                            need);
            *buf = nb;
            *cap = need;
        }
        r = pread_full(l->fd, *buf, need, l->base);
        if (r < 0) {
            if (!ptr_live_alive(l))
                return fail(err, errlen,
                            "process %" PRIu32 " exited while being read",
                            l->pid);
            return fail(err, errlen,
                        "cannot read the segment of process %" PRIu32 ": %s",
                        l->pid, strerror(errno));
        }
        if ((size_t)r >= sizeof h) {
            const pt_seg_header *c = (const pt_seg_header *)*buf;
            if (bytes_needed(c, l->maplen) > need)
                continue;   /* a shard was claimed while we copied */
        }
        *len = (size_t)r;
        goto done;
    }
    if (unpublished)
        return fail(err, errlen,
                    "process %" PRIu32 " (%s) is still setting up its "
                    "segment; try again",
                    l->pid, l->comm);
    return fail(err, errlen,
                "process %" PRIu32 " (%s): counters kept changing while "
                "being read (%d attempts); try again",
                l->pid, l->comm, READ_ATTEMPTS);
done:
    if (proc_status(l->pid, proc, NULL) < 0)
        return fail(err, errlen, "process %" PRIu32 " exited while being read",
                    l->pid);
    return 0;
}

int ptr_live_pread(ptr_live *l, void *buf, size_t n, uint64_t off,
                   char *err, size_t errlen)
{
    if (off > l->maplen || n > l->maplen - off)
        return fail(err, errlen,
                    "process %" PRIu32 ": segment region at %" PRIu64
                    " (+%zu bytes) is outside the %" PRIu64 "-byte mapping",
                    l->pid, off, n, l->maplen);
    ssize_t r = pread_full(l->fd, buf, n, l->base + off);
    if (r == (ssize_t)n)
        return 0;
    int e = r < 0 ? errno : EIO;
    if (!ptr_live_alive(l))
        return fail(err, errlen, "process %" PRIu32 " (%s) has exited",
                    l->pid, l->comm);
    if (r < 0 && is_perm(e))
        return perm_error(l, err, errlen);
    return fail(err, errlen,
                "cannot read the segment of process %" PRIu32 ": %s",
                l->pid, r < 0 ? strerror(e) : "short read");
}

uint64_t ptr_live_maplen(const ptr_live *l)
{
    return l->maplen;
}

uint64_t ptr_live_mapstart(const ptr_live *l)
{
    return l->mapstart;
}

unsigned long long ptr_live_start(const ptr_live *l)
{
    return l->start;
}

int ptr_live_alive(ptr_live *l)
{
    return ptp_alive(l->pid, l->start);
}

void ptr_live_close(ptr_live *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}
