/*
 * procs.c — which processes are tagged: the PIDs of every process of the
 * calling user (every process, for root) whose /proc/PID/maps shows the
 * pooltag segment ("/memfd:pooltag").  Used by `pooltag log --all` and
 * `pooltag serve`.  ptr_list_tagged_owned narrows the list to the
 * processes that belong to one uid (serve's default, even as root).
 *
 * A process can exit between the directory scan and the maps read: such a
 * process is simply not listed.  Processes of other users are skipped
 * without reading their maps (the ptrace rule would refuse the segment
 * anyway).  The caller's own process is never listed.
 */
#include "ptread.h"

#include <ctype.h>
#include <inttypes.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEMFD_NAME "/memfd:pooltag"

/* Does /proc/PID/maps name the segment? */
static int maps_has_segment(unsigned long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%lu/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strstr(line, MEMFD_NAME))
            found = 1;
        /* A long line (a path longer than the buffer): skip its rest. */
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;
    }
    fclose(f);
    return found;
}

/* Is PID wholly owned by uid: its /proc directory owned by uid (root when
 * the process is not dumpable) and its real, effective and saved uids
 * (the Uid: line of /proc/PID/status) all equal to uid, as the kernel's
 * ptrace rule wants them for a caller without privileges? */
int ptr_proc_owned_by(uint32_t pid, uid_t uid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%" PRIu32, pid);
    if (stat(path, &st) < 0 || st.st_uid != uid)
        return 0;
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[256];
    int owned = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long r, e, s;
        if (strncmp(line, "Uid:", 4) != 0)
            continue;
        owned = sscanf(line + 4, "%lu %lu %lu", &r, &e, &s) == 3 &&
                r == uid && e == uid && s == uid;
        break;
    }
    fclose(f);
    return owned;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* owner < 0: every process this user may read (every one, for root). */
static int list_tagged(long owner, uint32_t **pids, size_t *n, char *err,
                       size_t errlen)
{
    *pids = NULL;
    *n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return ptr__fail(err, errlen, "cannot list /proc: %s", strerror(errno));
    uid_t me = geteuid();
    pid_t self = getpid();
    size_t cap = 0, cnt = 0;
    uint32_t *out = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        if (!isdigit((unsigned char)s[0]))
            continue;
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (*end || v == 0 || v > UINT32_MAX || (pid_t)v == self)
            continue;
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%lu", v);
        if (stat(path, &st) < 0 || (me != 0 && st.st_uid != me))
            continue;
        if (owner >= 0 && !ptr_proc_owned_by((uint32_t)v, (uid_t)owner))
            continue;
        if (!maps_has_segment(v))
            continue;
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            uint32_t *p = realloc(out, ncap * sizeof *p);
            if (!p) {
                free(out);
                closedir(d);
                return ptr__fail(err, errlen, "out of memory listing processes");
            }
            out = p;
            cap = ncap;
        }
        out[cnt++] = (uint32_t)v;
    }
    closedir(d);
    if (cnt > 1)
        qsort(out, cnt, sizeof *out, cmp_u32);
    *pids = out;
    *n = cnt;
    return 0;
}

int ptr_list_tagged(uint32_t **pids, size_t *n, char *err, size_t errlen)
{
    return list_tagged(-1, pids, n, err, errlen);
}

int ptr_list_tagged_owned(uid_t uid, uint32_t **pids, size_t *n, char *err,
                          size_t errlen)
{
    return list_tagged((long)uid, pids, n, err, errlen);
}
