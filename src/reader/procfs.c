/*
 * procfs.c — the one reader of /proc/PID (procfs.h).
 *
 * Parsers take a length and stop at it; numbers are read digit by digit
 * with an overflow check (no strtoull on bytes that may not end in a NUL,
 * no sscanf that would accept signs or leading blanks where the kernel
 * writes none).
 */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DELETED_MARK " (deleted)"

char *ptp_path(char *buf, size_t size, uint32_t pid, const char *file)
{
    char who[16];
    if (pid)
        snprintf(who, sizeof who, "%" PRIu32, pid);
    else
        snprintf(who, sizeof who, "self");
    if (file && *file)
        snprintf(buf, size, "/proc/%s/%s", who, file);
    else
        snprintf(buf, size, "/proc/%s", who);
    return buf;
}

char *ptp_map_files_path(char *buf, size_t size, uint32_t pid, uint64_t start,
                         uint64_t end)
{
    char dir[PTP_PATH_SIZE];
    snprintf(buf, size, "%s/%" PRIx64 "-%" PRIx64,
             ptp_path(dir, sizeof dir, pid, "map_files"), start, end);
    return buf;
}

int ptp_exists(uint32_t pid, struct stat *st)
{
    char path[PTP_PATH_SIZE];
    struct stat tmp;
    if (pid == 0)
        return 0;
    return stat(ptp_path(path, sizeof path, pid, NULL), st ? st : &tmp) == 0;
}

ssize_t ptp_read_small(const char *path, char *buf, size_t size)
{
    if (size == 0) {
        errno = EINVAL;
        return -1;
    }
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

char *ptp_read_text(uint32_t pid, const char *file, size_t max, size_t *len)
{
    char path[PTP_PATH_SIZE];
    int fd = open(ptp_path(path, sizeof path, pid, file), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t n = 0, cap = 0;
    char *t = NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (cap >= max) {
                free(t);
                close(fd);
                errno = EFBIG;
                return NULL;
            }
            char *nt = realloc(t, ncap);
            if (!nt) {
                free(t);
                close(fd);
                errno = ENOMEM;
                return NULL;
            }
            t = nt;
            cap = ncap;
        }
        ssize_t r = read(fd, t + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(t);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        free(t);
        errno = EFBIG;
        return NULL;
    }
    t[n] = 0;
    if (len)
        *len = n;
    return t;
}

/* ---------------------------------------------------------------------- */
/* Numbers                                                                 */

/* Unsigned decimal at s[*i..len), at least one digit; no overflow. */
static int dec_u64(const char *s, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t k = *i;
    if (k >= len || s[k] < '0' || s[k] > '9')
        return -1;
    for (; k < len && s[k] >= '0' && s[k] <= '9'; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *i = k;
    *out = v;
    return 0;
}

/* Signed decimal ("-" then digits). */
static int dec_i64(const char *s, size_t len, size_t *i, int64_t *out)
{
    size_t k = *i;
    int neg = k < len && s[k] == '-';
    uint64_t v;
    if (neg)
        k++;
    if (dec_u64(s, len, &k, &v) < 0 || v > (uint64_t)INT64_MAX + neg)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    *i = k;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hexadecimal at s[*i..], at least one digit, at most 16. */
static int hex_u64(const char *s, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t k = *i, nd = 0;
    for (; k < len && hexval(s[k]) >= 0; k++, nd++) {
        if (nd == 16)
            return -1;
        v = v << 4 | (uint64_t)hexval(s[k]);
    }
    if (nd == 0)
        return -1;
    *i = k;
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* stat                                                                    */

int ptp_parse_stat(const char *text, size_t len, ptp_stat *st)
{
    size_t i = 0;
    uint64_t u;
    memset(st, 0, sizeof *st);
    if (dec_u64(text, len, &i, &u) < 0 || u > UINT32_MAX)
        goto bad;
    st->pid = (uint32_t)u;
    if (i + 1 >= len || text[i] != ' ' || text[i + 1] != '(')
        goto bad;
    size_t open = i + 1, close = len;
    while (close > open + 1 && text[close - 1] != ')')
        close--;
    if (close <= open + 1 || text[close - 1] != ')')
        goto bad;
    close--;   /* the last ')' */
    size_t cl = close - open - 1;
    if (cl >= sizeof st->comm)
        cl = sizeof st->comm - 1;
    memcpy(st->comm, text + open + 1, cl);
    st->comm[cl] = 0;
    i = close + 1;
    /* " S " then fields 4.. separated by one space each. */
    if (i + 2 > len || text[i] != ' ')
        goto bad;
    st->state = text[i + 1];
    if (st->state == ' ' || st->state == '\n' || st->state == 0)
        goto bad;
    i += 2;
    for (int field = 4; field <= 24; field++) {
        int64_t sv;
        if (i >= len || text[i] != ' ') {
            if (field > 22)
                break;   /* 23 and 24 are optional */
            goto bad;
        }
        i++;
        if (field == 4) {
            if (dec_i64(text, len, &i, &st->ppid) < 0)
                goto bad;
        } else if (field == 22) {
            if (dec_u64(text, len, &i, &u) < 0)
                goto bad;
            st->start = u;
        } else if (field == 23) {
            if (dec_u64(text, len, &i, &st->vsize) < 0)
                goto bad;
        } else if (field == 24) {
            if (dec_i64(text, len, &i, &st->rss_pages) < 0)
                goto bad;
        } else if (dec_i64(text, len, &i, &sv) < 0) {
            /* Every field between is a number (signed for priority and
             * nice; the unsigned ones fit in int64 on any Linux). */
            if (dec_u64(text, len, &i, &u) < 0)
                goto bad;
        }
    }
    return 0;
bad:
    memset(st, 0, sizeof *st);
    errno = EINVAL;
    return -1;
}

int ptp_read_stat(uint32_t pid, ptp_stat *st)
{
    char path[PTP_PATH_SIZE], buf[2048];
    ssize_t n = ptp_read_small(ptp_path(path, sizeof path, pid, "stat"), buf,
                               sizeof buf);
    if (n < 0)
        return -1;
    return ptp_parse_stat(buf, (size_t)n, st);
}

int ptp_gone(char state)
{
    return state == 'Z' || state == 'X' || state == 'x';
}

int ptp_alive(uint32_t pid, unsigned long long start)
{
    ptp_stat st;
    if (pid == 0 || ptp_read_stat(pid, &st) < 0)
        return 0;
    return !ptp_gone(st.state) && (start == 0 || st.start == start);
}

/* ---------------------------------------------------------------------- */
/* comm, exe                                                               */

int ptp_read_comm(uint32_t pid, char *buf, size_t size)
{
    char path[PTP_PATH_SIZE], tmp[256];
    if (ptp_read_small(ptp_path(path, sizeof path, pid, "comm"), tmp,
                       sizeof tmp) < 0)
        return -1;
    tmp[strcspn(tmp, "\n")] = 0;
    snprintf(buf, size, "%s", tmp);
    return 0;
}

ssize_t ptp_read_exe(uint32_t pid, char *buf, size_t size)
{
    char path[PTP_PATH_SIZE];
    if (size == 0) {
        errno = EINVAL;
        return -1;
    }
    ssize_t n = readlink(ptp_path(path, sizeof path, pid, "exe"), buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
    return n > 0 ? n : -1;
}

/* ---------------------------------------------------------------------- */
/* status                                                                  */

/* Up to 4 unsigned decimals after KEY: on a line [s, s+len). */
static int id_list(const char *s, size_t len, unsigned long out[4])
{
    size_t i = 0;
    int n = 0;
    while (n < 4) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        uint64_t v;
        if (dec_u64(s, len, &i, &v) < 0 || v > ULONG_MAX)
            break;
        out[n++] = (unsigned long)v;
    }
    return n;
}

int ptp_parse_status(const char *text, size_t len, ptp_status *st)
{
    static const struct {
        const char *key;
        size_t off;
    } vm[] = {
        {"VmRSS:", offsetof(ptr_proc, rss_kb)},
        {"VmSize:", offsetof(ptr_proc, vmsize_kb)},
        {"VmData:", offsetof(ptr_proc, vmdata_kb)},
        {"VmStk:", offsetof(ptr_proc, vmstk_kb)},
        {"VmLck:", offsetof(ptr_proc, vmlck_kb)},
        {"VmHWM:", offsetof(ptr_proc, vmhwm_kb)},
    };
    memset(st, 0, sizeof *st);
    for (size_t at = 0; at < len;) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t ll = nl ? (size_t)(nl - line) : len - at;
        at += ll + 1;
        if (ll >= 4 && memcmp(line, "Uid:", 4) == 0 && !st->nuid)
            st->nuid = id_list(line + 4, ll - 4, st->uid);
        else if (ll >= 4 && memcmp(line, "Gid:", 4) == 0 && !st->ngid)
            st->ngid = id_list(line + 4, ll - 4, st->gid);
        else if (ll >= 7 && memcmp(line, "CapEff:", 7) == 0) {
            size_t i = 7;
            while (i < ll && (line[i] == ' ' || line[i] == '\t'))
                i++;
            st->have_capeff = hex_u64(line, ll, &i, &st->capeff) == 0;
        } else {
            for (size_t k = 0; k < sizeof vm / sizeof vm[0]; k++) {
                size_t kl = strlen(vm[k].key);
                if (ll < kl || memcmp(line, vm[k].key, kl) != 0)
                    continue;
                size_t i = kl;
                uint64_t v = 0;
                while (i < ll && (line[i] == ' ' || line[i] == '\t'))
                    i++;
                if (dec_u64(line, ll, &i, &v) < 0)
                    v = 0;
                memcpy((char *)&st->vm + vm[k].off, &v, sizeof v);
                st->vm.valid = 1;
            }
        }
    }
    st->vm.commit_kb = st->vm.vmdata_kb + st->vm.vmstk_kb;
    return 0;
}

int ptp_read_status(uint32_t pid, ptp_status *st)
{
    char path[PTP_PATH_SIZE], buf[8192];
    ssize_t n = ptp_read_small(ptp_path(path, sizeof path, pid, "status"), buf,
                               sizeof buf);
    if (n < 0) {
        memset(st, 0, sizeof *st);
        return -1;
    }
    return ptp_parse_status(buf, (size_t)n, st);
}

/* ---------------------------------------------------------------------- */
/* maps                                                                    */

int ptp_parse_maps_line(char *line, ptp_map *m)
{
    size_t len = strlen(line), i = 0;
    uint64_t maj, min;
    memset(m, 0, sizeof *m);
    if (hex_u64(line, len, &i, &m->start) < 0 || i >= len || line[i++] != '-' ||
        hex_u64(line, len, &i, &m->end) < 0 || m->end <= m->start ||
        i >= len || line[i++] != ' ')
        return -1;
    if (len - i < 5 || line[i + 4] != ' ')
        return -1;
    for (int k = 0; k < 4; k++) {
        char c = line[i + k];
        if (c == ' ' || c == '\t' || c == '\n')
            return -1;
        m->perms[k] = c;
    }
    i += 5;
    if (hex_u64(line, len, &i, &m->offset) < 0 || i >= len || line[i++] != ' ' ||
        hex_u64(line, len, &i, &maj) < 0 || maj > UINT32_MAX || i >= len ||
        line[i++] != ':' || hex_u64(line, len, &i, &min) < 0 ||
        min > UINT32_MAX || i >= len || line[i++] != ' ' ||
        dec_u64(line, len, &i, &m->inode) < 0)
        return -1;
    m->dev_major = (unsigned)maj;
    m->dev_minor = (unsigned)min;
    if (i < len && line[i] != ' ')
        return -1;
    while (i < len && line[i] == ' ')
        i++;
    m->path = line + i;
    m->pathlen = len - i;
    size_t dl = sizeof DELETED_MARK - 1;
    if (m->pathlen > dl && memcmp(m->path + m->pathlen - dl, DELETED_MARK, dl) == 0) {
        m->deleted = 1;
        m->pathlen -= dl;
    }
    return 0;
}

int ptp_maps_open(ptp_maps *it, uint32_t pid)
{
    char path[PTP_PATH_SIZE];
    it->text = NULL;
    it->f = fopen(ptp_path(path, sizeof path, pid, "maps"), "re");
    return it->f ? 0 : -1;
}

void ptp_maps_text(ptp_maps *it, const char *text)
{
    it->f = NULL;
    it->text = text;
}

/* The next line into it->line: 1, 0 at the end, 2 for a line too long
 * (skipped). */
static int next_line(ptp_maps *it)
{
    if (it->f) {
        if (!fgets(it->line, sizeof it->line, it->f))
            return 0;
        size_t n = strlen(it->line);
        if (n && it->line[n - 1] == '\n') {
            it->line[n - 1] = 0;
            return 1;
        }
        if (n + 1 < sizeof it->line)
            return 1;   /* the last line, without a newline */
        /* Overlong: skip to its end. */
        int c;
        while ((c = getc(it->f)) != EOF && c != '\n')
            ;
        return 2;
    }
    if (!it->text || !*it->text)
        return 0;
    const char *nl = strchr(it->text, '\n');
    size_t n = nl ? (size_t)(nl - it->text) : strlen(it->text);
    const char *line = it->text;
    it->text = nl ? nl + 1 : line + n;
    if (n >= sizeof it->line)
        return 2;
    memcpy(it->line, line, n);
    it->line[n] = 0;
    return 1;
}

int ptp_maps_next(ptp_maps *it, ptp_map *m)
{
    for (;;) {
        int r = next_line(it);
        if (r == 0)
            return 0;
        if (r == 1 && ptp_parse_maps_line(it->line, m) == 0)
            return 1;
    }
}

void ptp_maps_close(ptp_maps *it)
{
    if (it->f)
        fclose(it->f);
    it->f = NULL;
    it->text = NULL;
}

int ptp_map_is_segment(const ptp_map *m)
{
    return m->path && pt_seg_memfd_shown(m->path);
}

int ptp_map_is_file(const ptp_map *m)
{
    return m->path && m->path[0] == '/' && m->inode != 0 &&
           strncmp(m->path, "/memfd:", 7) != 0 && strncmp(m->path, "/dev/", 5) != 0;
}

/* ---------------------------------------------------------------------- */
/* mem                                                                     */

int ptp_mem_open(uint32_t pid)
{
    char path[PTP_PATH_SIZE];
    return open(ptp_path(path, sizeof path, pid, "mem"), O_RDONLY | O_CLOEXEC);
}

int ptp_mem_open_rw(uint32_t pid)
{
    char path[PTP_PATH_SIZE];
    return open(ptp_path(path, sizeof path, pid, "mem"), O_RDWR | O_CLOEXEC);
}

ssize_t ptp_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    if (off > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - off) {
        errno = EINVAL;
        return -1;
    }
    while (done < n) {
        ssize_t r = pwrite(fd, (const char *)buf + done, n - done,
                           (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return (ssize_t)done;
}

int ptp_ptrace_scope(void)
{
    char buf[32], *end;
    if (ptp_read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof buf) <= 0)
        return -1;
    long v = strtol(buf, &end, 10);
    return end == buf ? -1 : (int)v;
}

ssize_t ptp_pread(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    if (off > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - off) {
        errno = EINVAL;
        return -1;
    }
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

/* ---------------------------------------------------------------------- */
/* A process opened for reading                                            */

int ptp_target_open(ptp_target *t, uint32_t pid)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->mem = -1;
    t->maps_errno = t->mem_errno = ESRCH;
    if (!ptp_exists(pid, NULL)) {
        errno = ESRCH;
        return -1;
    }
    t->have_stat = ptp_read_stat(pid, &t->stat) == 0;
    ptp_read_comm(pid, t->comm, sizeof t->comm);
    ptp_read_exe(pid, t->exe, sizeof t->exe);
    t->maps = ptp_read_text(pid, "maps", PTP_MAPS_MAX, NULL);
    t->maps_errno = t->maps ? 0 : errno;
    if (t->maps) {
        t->mem = ptp_mem_open(pid);
        t->mem_errno = t->mem < 0 ? errno : 0;
    }
    return 0;
}

void ptp_target_close(ptp_target *t)
{
    free(t->maps);
    t->maps = NULL;
    if (t->mem >= 0)
        close(t->mem);
    t->mem = -1;
}
