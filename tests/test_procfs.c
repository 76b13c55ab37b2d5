/*
 * test_procfs.c — the /proc/PID reader (src/reader/procfs.h).
 *
 * 1. Crafted stat lines: a command name holding ')', '(', spaces and
 *    newlines is taken up to the LAST ')'; every field is where its number
 *    says; lines cut short, with a non-number or an overflowing number, or
 *    without parentheses are refused; the parser stops at the length given
 *    (the bytes after it are never read as part of the line).
 * 2. Crafted status text: Uid/Gid lists, CapEff, the Vm* figures.
 * 3. Crafted maps lines: paths with spaces, " (deleted)", anonymous and
 *    bracketed mappings, the segment's memfd matched exactly (and nothing
 *    like it), malformed lines refused, overlong lines skipped whole.
 * 4. Our own /proc/self: stat after prctl(PR_SET_NAME) to names with ')'
 *    and a newline, status against getuid()/getgid(), a file with spaces in
 *    its name mapped, then unlinked (deleted), a memfd named "pooltag"
 *    found as the segment, the mem file read at a known address, a zombie
 *    child seen as gone, ptp_target_open on ourselves and on no process.
 * Runs under ASan/UBSan in the sanitizer build.
 */
#define _GNU_SOURCE
#include "procfs.h"
#include "pt_test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (strcmp(a_, b_) != 0) {                                           \
            fprintf(stderr, "%s:%d: check failed: %s == %s (\"%s\" != "     \
                            "\"%s\")\n",                                     \
                    __FILE__, __LINE__, #a, #b, a_, b_);                     \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* A stat line "PID (COMM) S f4 f5 ... fN": field k (k >= 4) is
 * k * 1000 + seed, except fields 18/19 (priority, nice), which are
 * negative as the kernel may write them. */
static size_t make_stat(char *buf, size_t size, uint32_t pid, const char *comm,
                        char state, int last_field, unsigned seed)
{
    size_t n = (size_t)snprintf(buf, size, "%u (%s) %c", pid, comm, state);
    for (int k = 4; k <= last_field && n < size; k++) {
        long long v = (long long)k * 1000 + seed;
        if (k == 18 || k == 19)
            v = -v;
        n += (size_t)snprintf(buf + n, size - n, " %lld", v);
    }
    if (n < size - 1) {
        buf[n++] = '\n';
        buf[n] = 0;
    }
    return n;
}

static void test_stat_lines(void)
{
    static const char *const names[] = {
        "cat", "a) b", ") (", "x) S 1 2 3 (", "two words", "new\nline)",
        "", "((", "))", "0123456789abcde",
    };
    char buf[2048];
    ptp_stat st;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsigned seed = 7 + (unsigned)i;
        uint32_t pid = 100 + (uint32_t)i;
        for (int last = 22; last <= 52; last++) {
            size_t n = make_stat(buf, sizeof buf, pid, names[i], 'S', last, seed);
            CHECK(ptp_parse_stat(buf, n, &st) == 0);
            CHECK_EQ_U(st.pid, pid);
            CHECK_STR(st.comm, names[i]);
            CHECK(st.state == 'S');
            CHECK_EQ_U(st.ppid, 4 * 1000 + seed);
            CHECK_EQ_U(st.start, 22 * 1000 + seed);
            CHECK_EQ_U(st.vsize, last >= 23 ? 23 * 1000 + seed : 0);
            CHECK_EQ_U(st.rss_pages, last >= 24 ? 24 * 1000 + seed : 0);
            /* Without the final newline and without a NUL after it. */
            buf[n - 1] = '9';
            CHECK(ptp_parse_stat(buf, n - 1, &st) == 0);
            CHECK_EQ_U(st.pid, pid);
        }
        /* Cut before the start time: refused, whatever follows the cut. */
        size_t n = make_stat(buf, sizeof buf, pid, names[i], 'R', 52, seed);
        char *f22 = strstr(buf, " 22");
        CHECK(f22);
        size_t cut = (size_t)(f22 - buf);
        CHECK(ptp_parse_stat(buf, cut, &st) == -1);
        CHECK(ptp_parse_stat(buf, cut + 1, &st) == -1);
        /* A cut inside field 22's number reads the digits before it. */
        CHECK(ptp_parse_stat(buf, cut + 3, &st) == 0);
        CHECK_EQ_U(st.start, 22);
        (void)n;
    }
    /* A state letter and every name still fine with state 'Z'. */
    size_t n = make_stat(buf, sizeof buf, 9, "z", 'Z', 30, 1);
    CHECK(ptp_parse_stat(buf, n, &st) == 0 && st.state == 'Z' && ptp_gone(st.state));
    CHECK(!ptp_gone('S') && !ptp_gone('R') && !ptp_gone('D') && ptp_gone('X') &&
          ptp_gone('x'));

    /* Refused: no parentheses, no space before '(', a non-number field, a
     * start time beyond 64 bits, a PID beyond 32 bits, an empty line, a
     * double space, a missing state. */
    static const char *const bad[] = {
        "1 cat S 1 2 3",
        "1(cat) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
        "1 (cat) S 4 5 6 7 8 9 10 11 x2 13 14 15 16 17 18 19 20 21 22",
        ("1 (cat) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
         "99999999999999999999999"),
        "99999999999 (cat) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
        "",
        "1 (cat) S 4  5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
        "1 (cat)",
        "1 (cat) ",
        "1 (cat)S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
        "(cat) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
        "1 (cat) S - 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&st, 0x55, sizeof st);
        errno = 0;
        if (ptp_parse_stat(bad[i], strlen(bad[i]), &st) != -1) {
            fprintf(stderr, "accepted bad stat line %zu: %s\n", i, bad[i]);
            exit(1);
        }
        CHECK(errno == EINVAL && st.pid == 0 && st.start == 0);
    }
    /* The largest values fit. */
    const char *big = "4294967295 (m) S -9223372036854775808 5 6 7 8 9 10 11 12 13 14 "
                      "15 16 17 18 19 20 21 18446744073709551615";
    CHECK(ptp_parse_stat(big, strlen(big), &st) == 0);
    CHECK_EQ_U(st.pid, UINT32_MAX);
    CHECK(st.ppid == INT64_MIN);
    CHECK_EQ_U(st.start, UINT64_MAX);
    /* A long name is cut, the fields after it are still read. */
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    n = make_stat(buf, sizeof buf, 5, longname, 'S', 24, 3);
    CHECK(ptp_parse_stat(buf, n, &st) == 0);
    CHECK_EQ_U(strlen(st.comm), sizeof st.comm - 1);
    CHECK_EQ_U(st.start, 22 * 1000 + 3);
}

static void test_status_text(void)
{
    ptp_status st;
    const char *t = "Name:\tx) y\nUmask:\t0022\nState:\tS (sleeping)\n"
                    "Uid:\t1000\t1001\t1002\t1003\nGid:\t20\t21\t22\n"
                    "VmHWM:\t    4096 kB\nVmRSS:\t    1024 kB\nVmData:\t 300 kB\n"
                    "VmStk:\t 132 kB\nVmSize:\t99999 kB\nVmLck:\t0 kB\n"
                    "CapEff:\t000001ffffffffff\nCapBnd:\t0000000000000000\n";
    CHECK(ptp_parse_status(t, strlen(t), &st) == 0);
    CHECK(st.nuid == 4 && st.uid[0] == 1000 && st.uid[1] == 1001 &&
          st.uid[2] == 1002 && st.uid[3] == 1003);
    CHECK(st.ngid == 3 && st.gid[0] == 20 && st.gid[2] == 22);
    CHECK(st.have_capeff && st.capeff == 0x1ffffffffffull);
    CHECK(st.vm.valid);
    CHECK_EQ_U(st.vm.rss_kb, 1024);
    CHECK_EQ_U(st.vm.vmhwm_kb, 4096);
    CHECK_EQ_U(st.vm.vmsize_kb, 99999);
    CHECK_EQ_U(st.vm.commit_kb, 300 + 132);
    /* Cut inside the Uid line: only what is within the length counts. */
    const char *uid = strstr(t, "1002");
    CHECK(ptp_parse_status(t, (size_t)(uid - t) + 2, &st) == 0);
    CHECK(st.nuid == 3 && st.uid[2] == 10 && !st.vm.valid && st.ngid == 0);
    /* A kernel thread: no Vm lines. */
    const char *k = "Name:\tkthreadd\nUid:\t0\t0\t0\t0\n";
    CHECK(ptp_parse_status(k, strlen(k), &st) == 0);
    CHECK(st.nuid == 4 && st.uid[0] == 0 && !st.vm.valid && !st.have_capeff);
}

static int parse_line(const char *text, ptp_map *m, char *buf, size_t size)
{
    snprintf(buf, size, "%s", text);
    return ptp_parse_maps_line(buf, m);
}

static void test_maps_lines(void)
{
    char buf[PTP_MAPS_LINE];
    ptp_map m;
    CHECK(parse_line("00400000-0040b000 r-xp 00001000 fd:01 1234567           "
                     "/usr/lib/a b/lib c.so", &m, buf, sizeof buf) == 0);
    CHECK_EQ_U(m.start, 0x400000);
    CHECK_EQ_U(m.end, 0x40b000);
    CHECK_EQ_U(m.offset, 0x1000);
    CHECK(m.dev_major == 0xfd && m.dev_minor == 1);
    CHECK_EQ_U(m.inode, 1234567);
    CHECK_STR(m.perms, "r-xp");
    CHECK_STR(m.path, "/usr/lib/a b/lib c.so");
    CHECK(!m.deleted && m.pathlen == strlen(m.path) && !ptp_map_is_segment(&m));
    CHECK(ptp_map_is_file(&m));
    /* Not files: no inode, a device, a memfd, a pseudo path. */
    static const char *const not_file[] = {
        "1000-2000 r--p 00000000 08:01 0 /usr/lib/x.so",
        "1000-2000 rw-s 00000000 00:05 12 /dev/zero (deleted)",
        "1000-2000 rw-s 00000000 00:01 12 /memfd:other (deleted)",
        "1000-2000 r-xp 00000000 00:00 0 [vdso]",
        "1000-2000 r-xp 00000000 00:00 7 relative/path",
    };
    for (size_t i = 0; i < sizeof not_file / sizeof not_file[0]; i++) {
        CHECK(parse_line(not_file[i], &m, buf, sizeof buf) == 0);
        CHECK(!ptp_map_is_file(&m));
    }

    CHECK(parse_line("7f0000000000-7f0000001000 rw-s 00000000 00:01 99084 "
                     "/memfd:pooltag (deleted)", &m, buf, sizeof buf) == 0);
    CHECK(m.deleted && ptp_map_is_segment(&m) && !ptp_map_is_file(&m));
    CHECK_EQ_U(m.pathlen, strlen("/memfd:pooltag"));
    /* Only that exact name is the segment. */
    static const char *const not_seg[] = {
        "/memfd:pooltag", "/memfd:pooltag2 (deleted)", "/memfd:pooltag (deleted) (deleted)",
        "/tmp/memfd:pooltag (deleted)", "/memfd:pool (deleted)", "/memfd:Pooltag (deleted)",
    };
    for (size_t i = 0; i < sizeof not_seg / sizeof not_seg[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "1000-2000 rw-s 00000000 00:01 5 %s", not_seg[i]);
        CHECK(parse_line(line, &m, buf, sizeof buf) == 0);
        CHECK(!ptp_map_is_segment(&m));
        CHECK(!pt_seg_memfd_shown(not_seg[i]));
    }
    CHECK(pt_seg_memfd_shown(PT_SEG_MEMFD_SHOWN));

    /* A deleted file whose name has spaces and parentheses. */
    CHECK(parse_line("1000-2000 r--p 00000000 08:02 77 /tmp/x (1) (deleted)", &m, buf,
                     sizeof buf) == 0);
    CHECK(m.deleted);
    m.path[m.pathlen] = 0;
    CHECK_STR(m.path, "/tmp/x (1)");
    /* " (deleted)" alone is a name, not a mark. */
    CHECK(parse_line("1000-2000 r--p 00000000 08:02 77  (deleted)", &m, buf, sizeof buf) == 0);
    CHECK(!m.deleted);
    /* Anonymous, bracketed. */
    CHECK(parse_line("1000-2000 rw-p 00000000 00:00 0", &m, buf, sizeof buf) == 0);
    CHECK(m.path[0] == 0 && m.pathlen == 0 && m.inode == 0);
    CHECK(parse_line("1000-2000 rw-p 00000000 00:00 0   [anon:my heap]", &m, buf,
                     sizeof buf) == 0);
    CHECK_STR(m.path, "[anon:my heap]");
    CHECK(parse_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]", &m,
                     buf, sizeof buf) == 0);
    CHECK_EQ_U(m.end, 0xffffffffff601000ull);

    static const char *const bad[] = {
        "", "garbage", "2000-1000 r-xp 00000000 08:01 12 /bin/true",
        "1000-1000 r-xp 00000000 08:01 12 /bin/true",
        "1000-2000 r-x 00000000 08:01 12 /bin/true",
        "1000-2000 r-xpq 00000000 08:01 12 /bin/true",
        "1000-2000 r-xp 00000000 0801 12 /bin/true",
        "1000-2000 r-xp 00000000 08:01 /bin/true",
        "1000-2000 r-xp 00000000 08:01 12x /bin/true",
        "10000000000000000-20000000000000000 r-xp 00000000 08:01 12 /x",
        "-1000-2000 r-xp 00000000 08:01 12 /x",
        " 1000-2000 r-xp 00000000 08:01 12 /x",
        "1000-2000 r-xp 0000000g 08:01 12 /x",
        "1000-2000 r-xp 00000000 08:01 99999999999999999999 /x",
        "1000 2000 r-xp 00000000 08:01 12 /x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_line(bad[i], &m, buf, sizeof buf) != -1) {
            fprintf(stderr, "accepted bad maps line %zu: %s\n", i, bad[i]);
            exit(1);
        }

    /* The text iterator: junk skipped, an overlong line skipped whole (its
     * tail is not read as a line), the last line without a newline. */
    size_t big = PTP_MAPS_LINE + 100;
    char *text = malloc(big + 512);
    CHECK(text);
    size_t n = (size_t)sprintf(text, "junk\n1000-2000 r-xp 00000000 08:01 1 /a\n"
                                     "3000-4000 r-xp 00000000 08:01 2 /");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\n5000-6000 rw-s 00000000 00:01 3 /memfd:pooltag (deleted)\n"
                                   "\n7000-8000 r--p 00000000 08:01 4 /last");
    ptp_maps it;
    ptp_maps_text(&it, text);
    uint64_t starts[8];
    int k = 0;
    while (k < 8 && ptp_maps_next(&it, &m)) {
        if (m.start == 0x5000)
            CHECK(ptp_map_is_segment(&m));
        if (m.start == 0x7000)
            CHECK_STR(m.path, "/last");
        starts[k++] = m.start;
    }
    CHECK(ptp_maps_next(&it, &m) == 0);
    ptp_maps_close(&it);
    CHECK(k == 3 && starts[0] == 0x1000 && starts[1] == 0x5000 && starts[2] == 0x7000);
    free(text);
}

/* Find the mapping that starts at addr in our own maps: 1 and *out (path
 * copied into path[]), else 0. */
static int own_mapping(const void *addr, ptp_map *out, char *path, size_t size)
{
    ptp_maps it;
    ptp_map m;
    int found = 0;
    CHECK(ptp_maps_open(&it, 0) == 0);
    while (!found && ptp_maps_next(&it, &m))
        if (m.start == (uint64_t)(uintptr_t)addr) {
            *out = m;
            snprintf(path, size, "%s", m.path);
            out->path = path;
            found = 1;
        }
    ptp_maps_close(&it);
    return found;
}

static void test_self(void)
{
    ptp_stat st, st2;
    char comm[64], want[32];

    /* stat and comm after renaming ourselves. */
    static const char *const names[] = {"plain", "a) b (c)", "x\ny) z", ") "};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(prctl(PR_SET_NAME, names[i], 0, 0, 0) == 0);
        CHECK(ptp_read_stat(0, &st) == 0);
        CHECK(ptp_read_stat((uint32_t)getpid(), &st2) == 0);
        CHECK_EQ_U(st.pid, getpid());
        CHECK_EQ_U(st.ppid, getppid());
        CHECK(st.state == 'R');
        CHECK_STR(st.comm, names[i]);
        CHECK_EQ_U(st.start, st2.start);
        CHECK(st.rss_pages > 0 && st.vsize > 0);
        CHECK(ptp_read_comm(0, comm, sizeof comm) == 0);
        snprintf(want, sizeof want, "%.*s", (int)strcspn(names[i], "\n"), names[i]);
        CHECK_STR(comm, want);
    }
    CHECK(ptp_alive((uint32_t)getpid(), st.start));
    CHECK(ptp_alive((uint32_t)getpid(), 0));
    CHECK(!ptp_alive((uint32_t)getpid(), st.start + 1));
    CHECK(!ptp_alive(0, 0));

    /* status against the system calls. */
    ptp_status ps;
    CHECK(ptp_read_status(0, &ps) == 0);
    CHECK(ps.nuid == 4 && ps.uid[0] == getuid() && ps.uid[1] == geteuid());
    CHECK(ps.ngid == 4 && ps.gid[0] == getgid() && ps.gid[1] == getegid());
    CHECK(ps.have_capeff);
    CHECK(ps.vm.valid && ps.vm.rss_kb > 0 && ps.vm.vmhwm_kb >= ps.vm.rss_kb);
    CHECK(ps.vm.vmsize_kb >= ps.vm.rss_kb);

    /* exe: the same file as /proc/self/exe. */
    char exe[4096];
    struct stat a, b;
    CHECK(ptp_read_exe(0, exe, sizeof exe) > 0);
    CHECK(stat(exe, &a) == 0 && stat("/proc/self/exe", &b) == 0);
    CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);

    /* A file with spaces in its name, mapped; then deleted. */
    char dir[] = "/tmp/pt_procfs_XXXXXX", file[128];
    CHECK(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/a file (x).bin", dir);
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 8192) == 0);
    struct stat fst;
    CHECK(fstat(fd, &fst) == 0);
    void *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 4096);
    CHECK(p != MAP_FAILED);
    ptp_map m;
    char path[PTP_MAPS_LINE];
    CHECK(own_mapping(p, &m, path, sizeof path));
    CHECK_STR(m.path, file);
    CHECK(!m.deleted && ptp_map_is_file(&m));
    CHECK_EQ_U(m.inode, fst.st_ino);
    CHECK_EQ_U(m.offset, 4096);
    CHECK_EQ_U(m.end - m.start, 8192);
    CHECK(m.perms[0] == 'r' && m.perms[3] == 'p');
    CHECK(unlink(file) == 0);
    CHECK(own_mapping(p, &m, path, sizeof path));
    CHECK(m.deleted && m.pathlen == strlen(file) && strncmp(m.path, file, m.pathlen) == 0);
    munmap(p, 8192);
    close(fd);
    rmdir(dir);

    /* The segment's memfd, exactly; another memfd name is not it. */
    int mfd = (int)syscall(SYS_memfd_create, PT_SEG_MEMFD_NAME, 1u);
    int ofd = (int)syscall(SYS_memfd_create, PT_SEG_MEMFD_NAME "2", 1u);
    CHECK(mfd >= 0 && ofd >= 0 && ftruncate(mfd, 4096) == 0 && ftruncate(ofd, 4096) == 0);
    void *seg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    void *other = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ofd, 0);
    CHECK(seg != MAP_FAILED && other != MAP_FAILED);
    CHECK(own_mapping(seg, &m, path, sizeof path) && ptp_map_is_segment(&m));
    CHECK(own_mapping(other, &m, path, sizeof path) && !ptp_map_is_segment(&m));
    char link[64], lpath[PTP_PATH_SIZE + 16];
    snprintf(lpath, sizeof lpath, "/proc/self/fd/%d", mfd);
    ssize_t ln = readlink(lpath, link, sizeof link - 1);
    CHECK(ln > 0);
    link[ln] = 0;
    CHECK(pt_seg_memfd_shown(link));

    /* The mem file at a known address, and the bytes of the shared map. */
    memcpy(seg, "segment bytes", 14);
    int mem = ptp_mem_open(0);
    CHECK(mem >= 0);
    char got[32];
    static const char here[] = "read me through /proc";
    CHECK(ptp_pread(mem, got, sizeof here, (uint64_t)(uintptr_t)here) == (ssize_t)sizeof here);
    CHECK(memcmp(got, here, sizeof here) == 0);
    CHECK(ptp_pread(mem, got, 14, (uint64_t)(uintptr_t)seg) == 14);
    CHECK_STR(got, "segment bytes");
    CHECK(ptp_pread(mem, got, 4, (uint64_t)INT64_MAX + 1) == -1 && errno == EINVAL);
    close(mem);
    munmap(seg, 4096);
    munmap(other, 4096);
    close(mfd);
    close(ofd);

    /* The whole maps text, and its bound. */
    size_t len = 0;
    char *text = ptp_read_text(0, "maps", PTP_MAPS_MAX, &len);
    CHECK(text && len == strlen(text) && len > 0);
    free(text);
    CHECK(ptp_read_text(0, "maps", 16, NULL) == NULL && errno == EFBIG);

    /* ptp_target_open on ourselves. */
    ptp_target t;
    CHECK(ptp_target_open(&t, (uint32_t)getpid()) == 0);
    CHECK(t.have_stat && t.stat.pid == (uint32_t)getpid() && t.maps && t.mem >= 0);
    CHECK(strcmp(t.comm, ") ") == 0);
    CHECK(t.exe[0] == '/');
    ptp_target_close(&t);
    ptp_target_close(&t);
    CHECK(ptp_target_open(&t, 0) == -1 && errno == ESRCH);
    ptp_target_close(&t);
}

/* A child that exited and was not waited for is a zombie: gone; once
 * reaped, there is no such process. */
static void test_zombie(void)
{
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0)
        _exit(0);
    ptp_stat st;
    int zombie = 0;
    for (int i = 0; i < 2000 && !zombie; i++) {
        zombie = ptp_read_stat((uint32_t)c, &st) == 0 && st.state == 'Z';
        if (!zombie)
            usleep(1000);
    }
    CHECK(zombie);
    CHECK(st.ppid == getpid());
    CHECK(ptp_exists((uint32_t)c, NULL));
    CHECK(!ptp_alive((uint32_t)c, 0));
    CHECK(waitpid(c, NULL, 0) == c);
    CHECK(!ptp_exists((uint32_t)c, NULL));
    CHECK(ptp_read_stat((uint32_t)c, &st) == -1 && (errno == ENOENT || errno == ESRCH));
    ptp_target t;
    CHECK(ptp_target_open(&t, (uint32_t)c) == -1 && errno == ESRCH);
    ptp_target_close(&t);
}

int main(void)
{
    test_stat_lines();
    test_status_text();
    test_maps_lines();
    test_self();
    test_zombie();
    fprintf(stderr, "test_procfs: ok\n");
    return 0;
}
