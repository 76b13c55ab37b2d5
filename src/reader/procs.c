/*
 * procs.c — which processes are tagged: the PIDs of every process of the
 * calling user (every process, for root) whose /proc/PID/maps shows the
 * pooltag segment (ptp_map_is_segment: "/memfd:pooltag (deleted)").  Used by `pooltag log --all` and
 * `pooltag serve`.  ptr_list_tagged_owned narrows the list to the
 * processes that belong to one uid (serve's default, even as root).
 *
 * A process can exit between the directory scan and the maps read: such a
 * process is simply not listed.  Processes of other users are skipped
 * without reading their maps (the ptrace rule would refuse the segment
 * anyway).  The caller's own process is never listed.
 */
#include "procfs.h"
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

/* Does /proc/PID/maps show the segment? */
static int maps_has_segment(uint32_t pid)
{
    ptp_maps it;
    ptp_map m;
    int found = 0;
    if (ptp_maps_open(&it, pid) < 0)
        return 0;
    while (!found && ptp_maps_next(&it, &m))
        found = ptp_map_is_segment(&m);
    ptp_maps_close(&it);
    return found;
}

/* Is PID wholly owned by uid: its /proc directory owned by uid (root when
 * the process is not dumpable) and its real, effective and saved uids
 * (the Uid: line of /proc/PID/status) all equal to uid, as the kernel's
 * ptrace rule wants them for a caller without privileges? */
int ptr_proc_owned_by(uint32_t pid, uid_t uid)
{
    struct stat st;
    ptp_status ps;
    if (!ptp_exists(pid, &st) || st.st_uid != uid ||
        ptp_read_status(pid, &ps) < 0)
        return 0;
    return ps.nuid >= 3 && ps.uid[0] == uid && ps.uid[1] == uid &&
           ps.uid[2] == uid;
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
        struct stat st;
        if (!ptp_exists((uint32_t)v, &st) || (me != 0 && st.st_uid != me))
            continue;
        if (owner >= 0 && !ptr_proc_owned_by((uint32_t)v, (uid_t)owner))
            continue;
        if (!maps_has_segment((uint32_t)v))
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
