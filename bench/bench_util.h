/*
 * bench_util.h — the small pieces the benchmark programs of bench/ share
 * (alloc_bench.c, churn_bench.c): statistics over a few rounds, argument
 * parsing with one-line errors (exit 2), and the test whether pooltag's
 * segment is mapped in this process.  Static functions: each program
 * includes it once, after defining BU_PROG (its name in messages) and
 * MAX_ROUNDS (the most values median() sorts).
 */
#ifndef PT_BENCH_UTIL_H
#define PT_BENCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BU_PROG
#error "define BU_PROG (the program's name) before including bench_util.h"
#endif
#ifndef MAX_ROUNDS
#error "define MAX_ROUNDS before including bench_util.h"
#endif

#define BU_UNUSED __attribute__((unused))

static BU_UNUSED int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of x[0..n), 1 <= n <= MAX_ROUNDS. */
static BU_UNUSED double median(const double *x, int n)
{
    double v[MAX_ROUNDS];
    memcpy(v, x, sizeof(double) * (size_t)n);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static BU_UNUSED double min_of(const double *x, int n)
{
    double m = x[0];
    for (int i = 1; i < n; i++)
        m = x[i] < m ? x[i] : m;
    return m;
}

static BU_UNUSED double max_of(const double *x, int n)
{
    double m = x[0];
    for (int i = 1; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}

static BU_UNUSED void __attribute__((noreturn)) usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, BU_PROG ": %s '%s' (see " BU_PROG " --help)\n", msg, arg);
    exit(2);
}

/* Parse a decimal count in [lo, hi] or exit 2. */
static BU_UNUSED uint64_t parse_count(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    if (!s)
        usage_error("missing value for", opt);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s needs a count from %llu to %llu, not", opt,
                 (unsigned long long)lo, (unsigned long long)hi);
        usage_error(msg, s);
    }
    return v;
}

/* Is pooltag's segment (the memfd "pooltag") mapped in this process?  Read
 * with read(2) into a static buffer: no allocation, so that it can run in a
 * child whose malloc is the one being measured. */
static BU_UNUSED bool segment_mapped(void)
{
    static char buf[1 << 16];
    static const char needle[] = "memfd:pooltag";
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool found = false;
    size_t keep = 0;
    for (;;) {
        ssize_t r = read(fd, buf + keep, sizeof buf - 1 - keep);
        if (r <= 0)
            break;
        buf[keep + (size_t)r] = 0;
        if (strstr(buf, needle)) {
            found = true;
            break;
        }
        /* keep the tail, in case the name straddles two reads */
        size_t have = keep + (size_t)r;
        keep = have < sizeof needle ? have : sizeof needle;
        memmove(buf, buf + have - keep, keep);
    }
    close(fd);
    return found;
}

/* Fork a child whose standard output is a pipe to the parent: returns
 * its pid to the parent (*rfd: the read end) and 0 to the child (stdout
 * is the write end), or -1 after a one-line message. */
static BU_UNUSED pid_t fork_piped(int *rfd)
{
    int fd[2];
    if (pipe(fd)) {
        fprintf(stderr, BU_PROG ": pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, BU_PROG ": fork: %s\n", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        return 0;
    }
    close(fd[1]);
    *rfd = fd[0];
    return pid;
}

/* The parent's end of fork_piped: read the child's output into buf (at
 * most len - 1 bytes, NUL-terminated), close rfd and wait for the child.
 * Returns its wait status. */
static BU_UNUSED int finish_piped(pid_t pid, int rfd, char *buf, size_t len)
{
    size_t got = 0;
    ssize_t r;
    while ((r = read(rfd, buf + got, len - 1 - got)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
        if (got == len - 1)
            break;
    }
    buf[got] = 0;
    close(rfd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

#endif
