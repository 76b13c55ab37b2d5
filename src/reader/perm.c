/*
 * perm.c — the one message for "permission denied reading process PID"
 * (ptread.h: ptr_perm_message), used by the reader, find and the module
 * verbs (lm, ln, imports).
 *
 * Reading another process's /proc/PID/mem, maps and fd/ follows the
 * kernel's ptrace access check (PTRACE_MODE_READ/ATTACH with the file-system
 * credentials).  It refuses when
 *   - the reader's uid differs from the target's real, effective and saved
 *     uids, and the reader lacks CAP_SYS_PTRACE;
 *   - the target is not dumpable (prctl(PR_SET_DUMPABLE, 0), or it changed
 *     its credentials, e.g. a set-user-ID program), and the reader lacks
 *     CAP_SYS_PTRACE.  The files in /proc/PID then belong to root (the
 *     kernel's rule for non-dumpable processes), while the Uid: line of
 *     /proc/PID/status still names the target's own uid: that is how it is recognised from outside;
 *   - Yama's ptrace_scope (/proc/sys/kernel/yama/ptrace_scope) is 1 (only
 *     ancestors), 2 (only CAP_SYS_PTRACE) or 3 (nobody) for an attach-mode
 *     check;
 *   - a security module (SELinux, AppArmor) or a user namespace says no.
 * The message names the first of these that applies.
 */
#include "procfs.h"
#include "ptread.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAP_SYS_PTRACE_BIT 19

/* From /proc/PID/status (pid 0: our own): the four Uid: values and
 * CapEff.  Returns 0, or -1 when it cannot be read or has no full Uid:
 * line. */
static int read_status(uint32_t pid, long uids[4], uint64_t *capeff)
{
    ptp_status st;
    if (ptp_read_status(pid, &st) < 0 || st.nuid != 4)
        return -1;
    for (int i = 0; i < 4; i++)
        uids[i] = (long)st.uid[i];
    if (capeff && st.have_capeff)
        *capeff = st.capeff;
    return 0;
}

static int yama_scope(void)
{
    return ptp_ptrace_scope();
}

void ptr_perm_message(uint32_t pid, char *buf, size_t size)
{
    char path[PTP_PATH_SIZE];
    long t[4] = {-1, -1, -1, -1}, me[4] = {-1, -1, -1, -1};
    uint64_t capeff = 0;
    struct stat st;
    int have_t = pid != 0 && read_status(pid, t, NULL) == 0;
    read_status(0, me, &capeff);
    int cap = (capeff >> CAP_SYS_PTRACE_BIT) & 1;
    long fsuid = me[3] >= 0 ? me[3] : (long)geteuid();
    int same = have_t && t[0] == fsuid && t[1] == fsuid && t[2] == fsuid;
    ptp_path(path, sizeof path, pid, "status");
    int root_owned = pid != 0 && stat(path, &st) == 0 && st.st_uid == 0;
    int scope = yama_scope();
    char who[32] = "";
    if (have_t)
        snprintf(who, sizeof who, " (uid %ld)", t[0]);
    const char *why;
    char tmp[160];
    if (scope == 3)
        why = "Yama's ptrace_scope is 3 (/proc/sys/kernel/yama/ptrace_scope): "
              "no process may read another's memory until reboot";
    else if (!cap && same && root_owned && t[0] != 0)
        why = "the process is not dumpable (it called prctl(PR_SET_DUMPABLE, 0) "
              "or changed its user IDs), so only a reader with CAP_SYS_PTRACE "
              "(e.g. root) may read it";
    else if (!cap && scope == 2)
        why = "Yama's ptrace_scope is 2 (/proc/sys/kernel/yama/ptrace_scope): "
              "only a reader with CAP_SYS_PTRACE (e.g. root) may read it";
    else if (!cap && !same && have_t) {
        snprintf(tmp, sizeof tmp,
                 "it runs as uid %ld and you as uid %ld: run as that user, or "
                 "with CAP_SYS_PTRACE (e.g. root)", t[0], fsuid);
        why = tmp;
    } else if (!cap && scope == 1)
        why = "Yama's ptrace_scope is 1 (/proc/sys/kernel/yama/ptrace_scope): "
              "only its ancestors or a reader with CAP_SYS_PTRACE may read it";
    else if (!cap && fsuid == 0)
        why = "you are root without CAP_SYS_PTRACE (a container that drops it?)";
    else if (cap)
        why = "denied although you have CAP_SYS_PTRACE: a security module "
              "(SELinux, AppArmor) or a user namespace forbids it";
    else
        why = "the kernel's ptrace access check refused (same user, dumpable, "
              "Yama ptrace_scope, or CAP_SYS_PTRACE)";
    snprintf(buf, size,
             "permission denied reading process %" PRIu32 "%s: pooltag "
             "follows the ptrace rule \xe2\x80\x94 %s",
             pid, who, why);
}
