/*
 * source.c — ptr_open / ptr_read: one interface over every kind of source.
 *
 * Data model
 * ----------
 * A source is either live (a PID: live.c reads a fresh image at each
 * ptr_read) or a file (read whole at ptr_open, validated there so that a bad
 * file fails early, and parsed again at each ptr_read).  In both cases the
 * source owns the bytes of the last image (ptr_raw) and the process figures
 * that go with it (ptr_proc_info); the view that ptr_read fills owns only
 * its tag array.
 */
#include "ptread.h"

#include "pimg.h"

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

/* Files larger than this are not snapshots of any sane process. */
#define MAX_FILE_BYTES (4ull << 30)

struct ptr_source {
    int kind;            /* PTR_LIVE, PTR_SNAPSHOT or PTR_CORE             */
    uint32_t pid;
    char *path;          /* file sources                                   */
    ptr_live *live;      /* live sources                                   */
    char *buf;           /* live: last image; file: whole file             */
    size_t cap, len;
    const char *seg;     /* the segment image inside buf                   */
    size_t seglen;
    ptr_proc proc;
    pim *core;           /* core sources: seg points into its mapping      */
    uint64_t core_ns;    /* core sources: the file's modification time     */
};

#define fail ptr__fail

static int is_pid(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

const char *ptr_file_kind(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    case S_IFREG: return "a regular file";
    default: return "not a regular file";
    }
}

int ptr_open_input(const char *path, struct stat *out, char *err,
                   size_t errlen)
{
    struct stat st, fst;
    int fd, e;
    /* Look before opening: opening a FIFO blocks until a writer comes, and
     * opening a device can have effects of its own. */
    if (stat(path, &st) < 0) {
        e = errno;
        fail(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode))
        goto notreg;
    /* Non-blocking in case it was replaced by a FIFO since the stat. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        e = errno;
        fail(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode)) {
        close(fd);
        st = fst;
        goto notreg;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (out)
        *out = fst;
    return fd;
notreg:
    fail(err, errlen, "%s: is %s, not a regular file", path,
         ptr_file_kind(st.st_mode));
    errno = EINVAL;
    return -1;
}

static int open_file(ptr_source *s, const char *path, char *err,
                     size_t errlen)
{
    struct stat st;
    int fd = ptr_open_input(path, &st, err, errlen);
    if (fd < 0) {
        if (errno == ENOENT)
            return fail(err, errlen,
                        "%s: no such file (give a PID, a snapshot or a core file)",
                        path);
        return -1;
    }
    if ((uint64_t)st.st_size > MAX_FILE_BYTES) {
        close(fd);
        return fail(err, errlen, "%s: not a pooltag snapshot (%" PRIu64
                    " bytes is too large)", path, (uint64_t)st.st_size);
    }
    /* Read to the end of the file, not to st_size: files of /proc and /sys
     * say 0 and have content (they are then "not a snapshot", not empty). */
    size_t n = 0, cap = (size_t)st.st_size + 1;
    s->buf = malloc(cap);
    if (!s->buf) {
        close(fd);
        return fail(err, errlen, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE_BYTES) {
                close(fd);
                return fail(err, errlen, "%s: not a pooltag snapshot (more "
                            "than %llu bytes)", path, MAX_FILE_BYTES);
            }
            char *nb = realloc(s->buf, cap * 2);
            if (!nb) {
                close(fd);
                return fail(err, errlen, "%s: out of memory", path);
            }
            s->buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, s->buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return fail(err, errlen, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    s->len = s->cap = n;

    ptr_snapinfo info;
    const void *seg;
    if (ptr_snapshot_decode(s->buf, s->len, &seg, &s->seglen, &info, err,
                            errlen) < 0)
        return ptr__with_path(path, err, errlen);
    s->seg = seg;
    s->proc = info.proc;
    s->pid = info.pid;
    /* Parse once now so that a bad file is reported at open. */
    ptr_view v;
    if (ptr_parse(s->seg, s->seglen, &v, err, errlen) < 0)
        return ptr__with_path(path, err, errlen);
    if (info.raw)
        s->pid = v.pid;
    ptr_view_free(&v);
    return 0;
}

/* A core file: the segment is the bytes of the pim's segment region (no
 * copy); the process figures are not known (a core holds no VmRSS); the
 * reading's time is the file's modification time (when it was written). */
static int open_core(ptr_source *s, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (pim_open_core(path, 0, &s->core, err, errlen) < 0)
        return -1;
    if (stat(path, &st) == 0)
        s->core_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    const pim_region *r;
    if (pim_segment(s->core, &r) < 0)
        return fail(err, errlen, "%s: not a tagged process (no pooltag segment in "
                    "this core); the dump verbs (address, heap, search, leaks) read "
                    "any core", path);
    size_t got = 0;
    const uint8_t *b = pim_bytes(s->core, r, 0, (size_t)(r->end - r->start), NULL, &got);
    if (!b || got < sizeof(pt_seg_header))
        return fail(err, errlen, "%s: the pooltag segment at %#" PRIx64 " was not "
                    "dumped into this core (%zu of its %" PRIu64 " bytes are in the "
                    "file)", path, r->start, got, r->end - r->start);
    s->seg = (const char *)b;
    s->seglen = got;
    s->pid = s->core->pid;
    ptr_view v;
    if (ptr_parse(s->seg, s->seglen, &v, err, errlen) < 0)
        return ptr__with_path(path, err, errlen);
    if (!s->pid)
        s->pid = v.pid;
    ptr_view_free(&v);
    return 0;
}

int ptr_open(const char *spec, ptr_source **out, char *err, size_t errlen)
{
    ptr_source *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return fail(err, errlen, "out of memory");
    if (!spec || !*spec) {
        free(s);
        return fail(err, errlen, "empty source: give a PID, a snapshot or a core file");
    }
    if (is_pid(spec)) {
        unsigned long long pid = strlen(spec) > 10 ? ~0ull : strtoull(spec, NULL, 10);
        s->kind = PTR_LIVE;
        if (pid == 0 || pid > INT32_MAX) {
            free(s);
            return fail(err, errlen, "no process with PID %s", spec);
        }
        s->pid = (uint32_t)pid;
        if (ptr_live_open(s->pid, &s->live, err, errlen) < 0) {
            free(s);
            return -1;
        }
    } else if (pim_file_is_elf(spec)) {
        s->kind = PTR_CORE;
        s->path = strdup(spec);
        if (!s->path || open_core(s, spec, err, errlen) < 0) {
            ptr_close(s);
            return -1;
        }
    } else {
        s->kind = PTR_SNAPSHOT;
        s->path = strdup(spec);
        if (!s->path || open_file(s, spec, err, errlen) < 0) {
            ptr_close(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

int ptr_open_image(const void *seg, size_t len, ptr_source **out, char *err,
                   size_t errlen)
{
    ptr_source *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s || !(s->path = strdup("segment image")) ||
        !(s->buf = malloc(len ? len : 1))) {
        ptr_close(s);
        return fail(err, errlen, "out of memory");
    }
    s->kind = PTR_SNAPSHOT;
    memcpy(s->buf, seg, len);
    s->len = s->cap = s->seglen = len;
    s->seg = s->buf;
    *out = s;
    return 0;
}

int ptr_read(ptr_source *s, ptr_view *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    if (s->kind == PTR_LIVE) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (ptr_live_read(s->live, &s->buf, &s->cap, &s->len, &s->proc, err,
                          errlen) < 0)
            return -1;
        s->seg = s->buf;
        s->seglen = s->len;
        if (ptr_parse(s->seg, s->seglen, v, err, errlen) < 0) {
            char *msg = strdup(err ? err : "");
            if (msg && err)
                snprintf(err, errlen, "process %" PRIu32 ": %s", s->pid, msg);
            free(msg);
            return -1;
        }
        v->kind = PTR_LIVE;
        v->taken_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        v->proc = s->proc;
        return 0;
    }
    if (s->kind == PTR_CORE) {
        if (ptr_parse(s->seg, s->seglen, v, err, errlen) < 0)
            return ptr__with_path(s->path, err, errlen);
        v->kind = PTR_CORE;
        v->taken_ns = s->core_ns;
        return 0;
    }
    if (ptr_parse_snapshot(s->buf, s->len, v, err, errlen) < 0)
        return ptr__with_path(s->path, err, errlen);
    return 0;
}

int ptr_read_pim(pim *p, ptr_view *v, char *err, size_t errlen)
{
    const pim_region *sr;
    memset(v, 0, sizeof *v);
    if (pim_segment(p, &sr) < 0)
        return fail(err, errlen, "not a tagged process (no pooltag segment)");
    if (p->kind == PIM_LIVE) {
        ptr_source s;
        memset(&s, 0, sizeof s);
        s.kind = PTR_LIVE;
        s.pid = p->pid;
        if (ptr_live_open(s.pid, &s.live, err, errlen) < 0)
            return -1;
        int rc = ptr_read(&s, v, err, errlen);
        ptr_live_close(s.live);
        free(s.buf);
        return rc;
    }
    size_t got = 0;
    const uint8_t *b = pim_bytes(p, sr, 0, sr->avail, NULL, &got);
    if (!b || got == 0)
        return fail(err, errlen, "the pooltag segment's pages are not in %s",
                    p->source ? p->source : "this image");
    if (ptr_parse(b, got, v, err, errlen) < 0)
        return -1;
    v->kind = PTR_CORE;
    return 0;
}

pim *ptr_source_core(ptr_source *s)
{
    return s->kind == PTR_CORE ? s->core : NULL;
}

int ptr_alive(ptr_source *s)
{
    return s->kind == PTR_LIVE ? ptr_live_alive(s->live) : 0;
}

int ptr_kind(const ptr_source *s)
{
    return s->kind;
}

uint32_t ptr_pid(const ptr_source *s)
{
    return s->pid;
}

void ptr_close(ptr_source *s)
{
    if (!s)
        return;
    ptr_live_close(s->live);
    pim_close(s->core);
    free(s->buf);
    free(s->path);
    free(s);
}

int ptr_source_pread(ptr_source *s, void *buf, size_t n, uint64_t off,
                     char *err, size_t errlen)
{
    if (s->kind == PTR_LIVE)
        return ptr_live_pread(s->live, buf, n, off, err, errlen);
    if (off > s->seglen || n > s->seglen - off)
        return fail(err, errlen,
                    "%s: truncated: a region at %" PRIu64 " (+%zu bytes) "
                    "ends past the %zu-byte segment image",
                    s->path, off, n, s->seglen);
    memcpy(buf, s->seg + off, n);
    return 0;
}

uint64_t ptr_source_size(const ptr_source *s)
{
    return s->kind == PTR_LIVE ? ptr_live_maplen(s->live) : s->seglen;
}

ptr_live *ptr_source_live(ptr_source *s)
{
    return s->kind == PTR_LIVE ? s->live : NULL;
}

int ptr_raw_full(ptr_source *s, const void **seg, size_t *len, char *err,
                 size_t errlen)
{
    *seg = s->seg;
    *len = s->seglen;
    if (s->kind != PTR_LIVE || s->seglen < sizeof(pt_seg_header))
        return 0;
    uint64_t end = ptr_seg_extent(s->seg, s->seglen, ptr_live_maplen(s->live));
    if (end <= s->seglen)
        return 0;
    if (end > SIZE_MAX / 2)
        return fail(err, errlen, "segment too large (%" PRIu64 " bytes)", end);
    if (s->cap < end) {
        char *nb = realloc(s->buf, (size_t)end);
        if (!nb)
            return fail(err, errlen, "out of memory (%" PRIu64 " bytes)", end);
        s->buf = nb;
        s->cap = (size_t)end;
        s->seg = s->buf;
    }
    if (ptr_live_pread(s->live, s->buf + s->seglen, (size_t)end - s->seglen,
                       s->seglen, err, errlen) < 0)
        return -1;
    s->len = s->seglen = (size_t)end;
    *seg = s->seg;
    *len = s->seglen;
    return 0;
}

const void *ptr_raw(const ptr_source *s, size_t *len)
{
    *len = s->seglen;
    return s->seg;
}

const ptr_proc *ptr_proc_info(const ptr_source *s)
{
    return &s->proc;
}
