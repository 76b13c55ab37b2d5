/*
 * live.c — reading the segment of a running process through /proc/PID.
 *
 * Data model
 * ----------
 * A tagged process maps its segment from a memfd named "pooltag", so
 * /proc/PID/maps shows a line whose path is "/memfd:pooltag (deleted)".  The
 * same bytes can be reached three ways, tried in this order:
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
#define MEMFD_PATH "/memfd:pooltag"

enum { VIA_FD = 1, VIA_MAP_FILES = 2, VIA_MEM = 3 };

struct ptr_live {
    uint32_t pid;
    long uid;                   /* real uid of the target, -1 unknown    */
    int fd;                     /* descriptor that reads the segment     */
    int via;                    /* VIA_*                                 */
    uint64_t base;              /* pread offset of segment byte 0        */
    uint64_t maplen;            /* bytes mapped                          */
    unsigned long long start;   /* start time, clock ticks after boot    */
    char comm[64];
};

typedef struct mapping {
    uint64_t start, end, pgoff;
    unsigned long inode;
} mapping;

#define fail ptr__fail

/* Read a small /proc file into buf (NUL terminated).  Returns the length or
 * -1 with errno set. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t n = 0;
    if (fd < 0)
        return -1;
    while (n + 1 < size) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return (ssize_t)n;
}

/* State letter and start time from /proc/PID/stat.  The command name is in
 * parentheses and may itself contain ')' and spaces: parse after the last. */
static int proc_stat(uint32_t pid, char *state, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/stat", pid);
    if (read_small(path, buf, sizeof buf) < 0)
        return -1;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 2;
    *state = *p;
    /* p is at field 3; the start time is field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 0;
}

static void proc_comm(uint32_t pid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/comm", pid);
    if (read_small(path, out, size) < 0) {
        snprintf(out, size, "?");
        return;
    }
    out[strcspn(out, "\n")] = 0;
}

/* Fill *p from /proc/PID/status.  Returns 0, or -1 with errno set. */
static int proc_status(uint32_t pid, ptr_proc *p, long *uid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/status", pid);
    if (read_small(path, buf, sizeof buf) < 0)
        return -1;
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"VmRSS:", offsetof(ptr_proc, rss_kb)},
        {"VmSize:", offsetof(ptr_proc, vmsize_kb)},
        {"VmData:", offsetof(ptr_proc, vmdata_kb)},
        {"VmStk:", offsetof(ptr_proc, vmstk_kb)},
        {"VmLck:", offsetof(ptr_proc, vmlck_kb)},
        {"VmHWM:", offsetof(ptr_proc, vmhwm_kb)},
    };
    memset(p, 0, sizeof *p);
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (uid && strncmp(line, "Uid:", 4) == 0)
            *uid = strtol(line + 4, NULL, 10);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            size_t kl = strlen(keys[k].key);
            if (strncmp(line, keys[k].key, kl) == 0) {
                *(uint64_t *)((char *)p + keys[k].off) =
                    strtoull(line + kl, NULL, 10);
                p->valid = 1;
            }
        }
        line = next;
    }
    p->commit_kb = p->vmdata_kb + p->vmstk_kb;
    return 0;
}

static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return got ? (ssize_t)got : -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
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
    char dir[64], path[384], link[256];
    snprintf(dir, sizeof dir, "/proc/%" PRIu32 "/fd", pid);
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
        if (strncmp(link, MEMFD_PATH, strlen(MEMFD_PATH)) != 0)
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
        snprintf(path, sizeof path,
                 "/proc/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64, l->pid,
                 m->start, m->end);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            *perm |= is_perm(errno);
        l->via = VIA_MAP_FILES;
        l->base = m->pgoff;
    }
    if (fd < 0 && (!only || strcmp(only, "mem") == 0)) {
        snprintf(path, sizeof path, "/proc/%" PRIu32 "/mem", l->pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            *perm |= is_perm(errno);
        l->via = VIA_MEM;
        l->base = m->start;
    }
    if (fd < 0)
        return -1;
    l->fd = fd;
    l->maplen = m->end - m->start;
    return 0;
}

/* Parse /proc/PID/maps for pooltag memfd mappings. */
static int find_mappings(FILE *f, mapping *out, int max)
{
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        uint64_t start, end, pgoff;
        unsigned long inode;
        char perms[8];
        unsigned dmaj, dmin;
        int pos = -1;
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %lu %n",
                   &start, &end, perms, &pgoff, &dmaj, &dmin, &inode,
                   &pos) < 7 ||
            pos < 0)
            continue;
        const char *p = line + pos;
        if (strcmp(p, MEMFD_PATH " (deleted)") != 0 && strcmp(p, MEMFD_PATH) != 0)
            continue;
        if (end <= start || n == max)
            continue;
        out[n++] = (mapping){start, end, pgoff, inode};
    }
    return n;
}

int ptr_live_open(uint32_t pid, ptr_live **out, char *err, size_t errlen)
{
    char path[64];
    struct stat st;
    char state = 0;
    mapping maps[MAX_CANDIDATES];
    int nmaps, perm = 0;

    *out = NULL;
    snprintf(path, sizeof path, "/proc/%" PRIu32, pid);
    if (pid == 0 || stat(path, &st) < 0)
        return fail(err, errlen, "no process with PID %" PRIu32, pid);

    ptr_live *l = calloc(1, sizeof *l);
    if (!l)
        return fail(err, errlen, "out of memory");
    l->pid = pid;
    l->fd = -1;
    l->uid = (long)st.st_uid;
    proc_comm(pid, l->comm, sizeof l->comm);
    ptr_proc dummy;
    proc_status(pid, &dummy, &l->uid);
    if (proc_stat(pid, &state, &l->start) < 0) {
        free(l);
        return fail(err, errlen, "no process with PID %" PRIu32, pid);
    }
    if (state == 'Z') {
        fail(err, errlen,
             "process %" PRIu32 " (%s) has exited (zombie): nothing to read",
             pid, l->comm);
        free(l);
        return -1;
    }

    snprintf(path, sizeof path, "/proc/%" PRIu32 "/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        int r = is_perm(e) ? perm_error(l, err, errlen)
                : e == ENOENT || e == ESRCH
                    ? fail(err, errlen,
                           "process %" PRIu32 " exited while being read", pid)
                    : fail(err, errlen, "cannot read %s: %s", path,
                           strerror(e));
        free(l);
        return r;
    }
    nmaps = find_mappings(f, maps, MAX_CANDIDATES);
    fclose(f);
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

int ptr_live_alive(ptr_live *l)
{
    char state;
    unsigned long long start;
    if (proc_stat(l->pid, &state, &start) < 0)
        return 0;
    return start == l->start && state != 'Z' && state != 'X';
}

void ptr_live_close(ptr_live *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}
