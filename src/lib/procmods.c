/*
 * procmods.c — the ELF modules of a live process (procmods.h).
 *
 * The process is identified by PID and start time (field 22 of
 * /proc/PID/stat): pm_alive compares both, so a PID reused while we read
 * is not taken for the process we started with.
 */
#include "procmods.h"
#include "ptread.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pm_is_pid(const char *word, uint32_t *pid)
{
    uint64_t v = 0;
    if (!word[0])
        return 0;
    for (const char *q = word; *q; q++) {
        if (*q < '0' || *q > '9')
            return 0;
        if (v <= UINT32_MAX)
            v = v * 10 + (uint64_t)(*q - '0');
    }
    *pid = v > INT32_MAX ? 0 : (uint32_t)v;
    return 1;
}

/* Start time of the process, 0 when it cannot be read. */
static unsigned long long start_time(uint32_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *q = strrchr(buf, ')'); /* comm may hold spaces and ')' */
    if (!q)
        return 0;
    unsigned long long t = 0;
    /* after ")": state is field 3, start time field 22 */
    if (sscanf(q + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &t) != 1)
        return 0;
    return t;
}

int pm_open(pm_proc *p, uint32_t pid, int network, char *err, size_t errlen)
{
    char path[64];
    struct stat st;
    memset(p, 0, sizeof *p);
    p->memfd = -1;
    p->pid = pid;
    snprintf(path, sizeof path, "/proc/%" PRIu32, pid);
    if (pid == 0 || stat(path, &st) < 0) {
        snprintf(err, errlen, "no process with PID %" PRIu32, pid);
        return -1;
    }
    p->start = start_time(pid);
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/comm", pid);
    FILE *f = fopen(path, "re");
    if (f) {
        if (fgets(p->comm, sizeof p->comm, f))
            p->comm[strcspn(p->comm, "\n")] = 0;
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/exe", pid);
    ssize_t n = readlink(path, p->exe, sizeof p->exe - 1);
    p->exe[n > 0 ? n : 0] = 0;

    /* The ptrace rule shows as EACCES on maps. */
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/maps", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EACCES || errno == EPERM)
            ptr_perm_message(pid, err, errlen);
        else
            snprintf(err, errlen, "no process with PID %" PRIu32, pid);
        return -1;
    }
    close(fd);
    p->sc = sym_new(network);
    if (!p->sc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sym_add_proc_maps(p->sc, pid, err, errlen) < 0) {
        if (!pm_alive(p))
            snprintf(err, errlen, "process %" PRIu32 " exited while it was read", pid);
        pm_close(p);
        return -1;
    }
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/mem", pid);
    p->memfd = open(path, O_RDONLY | O_CLOEXEC);
    size_t nm = sym_nmodules(p->sc);
    p->elf = calloc(nm ? nm : 1, 1);
    if (!p->elf) {
        pm_close(p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nm; i++) {
        sym_modinfo mi;
        unsigned char magic[4];
        sym_module_info(p->sc, i, 0, &mi);
        int got = p->memfd >= 0 &&
                  pread(p->memfd, magic, sizeof magic, (off_t)mi.base) == (ssize_t)sizeof magic;
        if (!got) {
            /* The mapping may be unreadable; the file tells too. */
            int ffd = open(mi.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            got = ffd >= 0 && pread(ffd, magic, sizeof magic, 0) == (ssize_t)sizeof magic;
            if (ffd >= 0)
                close(ffd);
        }
        p->elf[i] = !got ? 2 : memcmp(magic, "\177ELF", 4) == 0 ? 1 : 0;
    }
    return 0;
}

int pm_alive(pm_proc *p)
{
    unsigned long long t = start_time(p->pid);
    int alive = t != 0 && (p->start == 0 || t == p->start);
    if (!alive)
        p->exited = 1;
    return alive;
}

int pm_read(pm_proc *p, uint64_t addr, void *buf, size_t n)
{
    if (p->memfd < 0 || addr > (uint64_t)INT64_MAX)
        return -1;
    ssize_t r = pread(p->memfd, buf, n, (off_t)addr);
    if (r == (ssize_t)n)
        return 0;
    pm_alive(p);
    return -1;
}

int pm_add_vdso(pm_proc *p)
{
    char path[64], line[512];
    unsigned long long start = 0, end = 0;
    int found = 0;
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/maps", p->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            line[--n] = 0;
        found = n > 7 && strcmp(line + n - 7, " [vdso]") == 0 &&
                sscanf(line, "%llx-%llx", &start, &end) == 2 && end > start;
    }
    fclose(f);
    if (!found)
        return 0;
    size_t nm = sym_nmodules(p->sc);
    unsigned char *elf = realloc(p->elf, nm + 1);
    if (!elf)
        return -1;
    p->elf = elf;
    if (sym_add_module(p->sc, "linux-vdso.so.1", NULL, start, start, end, NULL, 0,
                       SYM_BASE_IS_START) < 0)
        return -1;
    p->elf[nm] = 1;
    return 1;
}

void pm_close(pm_proc *p)
{
    if (p->memfd >= 0)
        close(p->memfd);
    p->memfd = -1;
    sym_free(p->sc);
    p->sc = NULL;
    free(p->elf);
    p->elf = NULL;
}
