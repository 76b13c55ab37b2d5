/*
 * control.c — the outside writer: changing the control block of a running
 * process (`pooltag hit`, `pooltag verify --on/--off`).
 *
 * Protocol (segment.h): write the settings, then gen = gen + 1, then store
 * 1 into byte PT_KICK_CONTROL_BYTE of the 32-bit word at header.kick_addr
 * (that is, OR PT_KICK_CONTROL into it); the runtime's
 * next allocation or free on any thread sees the bit, applies the block
 * (applied_gen = gen) and clears it.
 *
 * Permission: every write goes through /proc/PID/mem opened O_RDWR, which
 * the kernel grants only to a process that may ptrace the target
 * (PTRACE_MODE_ATTACH): its owner (dumpable, Yama's ptrace_scope
 * permitting) or a holder of CAP_SYS_PTRACE.  The open comes before
 * anything is written, so a refused change changes nothing.  The segment's
 * own descriptor (live.c reads through it) is read-only and is never used
 * for writing.
 *
 * The kick word is outside the segment, in the runtime's data: its address
 * is checked against /proc/PID/maps (4-aligned, inside one writable
 * mapping) before it is touched.  PT_KICK_CONTROL has a byte of its own:
 * the writer stores that one byte, so a change of the runtime's bits
 * (PT_KICK_LIMIT, pt_set_pool_limit) at the same moment is never undone.
 */
#include "procfs.h"
#include "ptread.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define fail ptr__fail

static int kick_mapping_ok(uint32_t pid, uint64_t addr)
{
    ptp_maps it;
    ptp_map m;
    int ok = 0;
    if (ptp_maps_open(&it, pid) < 0)
        return -1;
    while (ptp_maps_next(&it, &m))
        if (m.start <= addr && addr + 4 <= m.end) {
            ok = m.perms[1] == 'w';
            break;
        }
    ptp_maps_close(&it);
    return ok;
}

static int refused(uint32_t pid, char *err, size_t errlen)
{
    int scope = ptp_ptrace_scope();
    char sc[48];
    if (scope < 0)
        snprintf(sc, sizeof sc, "no Yama ptrace_scope");
    else
        snprintf(sc, sizeof sc, "ptrace_scope=%d", scope);
    return fail(err, errlen,
                "cannot change %" PRIu32 ": not permitted (only its owner or "
                "root; %s)", pid, sc);
}

static int gone(uint32_t pid, char *err, size_t errlen)
{
    return fail(err, errlen, "process %" PRIu32 " exited during the change", pid);
}

static int change(ptr_source *s, const ptr_view *v, ptr_trace *t, ptr_control_edit edit,
                  ptr_special_edit sp_edit, void *arg, int wait_ms, ptr_control_result *res,
                  char *err, size_t errlen);

int ptr_control_change(ptr_source *s, const ptr_view *v, ptr_trace *t,
                       ptr_control_edit edit, void *arg, int wait_ms,
                       ptr_control_result *res, char *err, size_t errlen)
{
    return change(s, v, t, edit, NULL, arg, wait_ms, res, err, errlen);
}

int ptr_special_change(ptr_source *s, const ptr_view *v, ptr_trace *t,
                       ptr_special_edit edit, void *arg, int wait_ms,
                       ptr_control_result *res, char *err, size_t errlen)
{
    return change(s, v, t, NULL, edit, arg, wait_ms, res, err, errlen);
}

static int change(ptr_source *s, const ptr_view *v, ptr_trace *t, ptr_control_edit edit,
                  ptr_special_edit sp_edit, void *arg, int wait_ms, ptr_control_result *res,
                  char *err, size_t errlen)
{
    ptr_live *l = ptr_source_live(s);
    uint32_t pid = ptr_pid(s);
    pt_seg_control c;
    memset(res, 0, sizeof *res);
    if (!l)
        return fail(err, errlen, "a snapshot cannot be changed: give the PID "
                    "of a running process");
    if (!t->present)
        return fail(err, errlen, "process %" PRIu32 " (%s) has no control "
                    "block: its pooltag runtime predates hit and verify",
                    pid, v->comm);
    uint64_t kick = t->hdr.kick_addr;
    if (kick == 0 || kick % 4)
        return fail(err, errlen, "process %" PRIu32 ": corrupt segment: kick "
                    "word address 0x%" PRIx64 " is not 4-aligned", pid, kick);
    int fd = ptp_mem_open_rw(pid);
    if (fd < 0) {
        int e = errno;
        if (!ptr_alive(s) || e == ENOENT || e == ESRCH)
            return gone(pid, err, errlen);
        if (e == EACCES || e == EPERM)
            return refused(pid, err, errlen);
        return fail(err, errlen, "cannot change %" PRIu32 ": /proc/%" PRIu32
                    "/mem: %s", pid, pid, strerror(e));
    }
    int k = kick_mapping_ok(pid, kick);
    if (k <= 0) {
        close(fd);
        if (!ptr_alive(s))
            return gone(pid, err, errlen);
        return fail(err, errlen, "process %" PRIu32 ": corrupt segment: kick "
                    "word at 0x%" PRIx64 " is not in a writable mapping", pid, kick);
    }
    uint64_t caddr = ptr_live_mapstart(l) + t->hdr.control_off;
    if (ptp_pread(fd, &c, sizeof c, caddr) != (ssize_t)sizeof c) {
        close(fd);
        if (!ptr_alive(s))
            return gone(pid, err, errlen);
        return fail(err, errlen, "cannot read the control block of %" PRIu32
                    ": %s", pid, strerror(errno));
    }
    pt_seg_special sp;
    uint64_t spaddr = 0;
    if (sp_edit) {
        if (!t->hdr.special_off)
            return close(fd), fail(err, errlen, "process %" PRIu32 " (%s) has no special "
                                   "pool settings: its pooltag runtime predates the "
                                   "special pool and fault injection", pid, v->comm);
        spaddr = ptr_live_mapstart(l) + t->hdr.special_off;
        if (ptp_pread(fd, &sp, sizeof sp, spaddr) != (ssize_t)sizeof sp) {
            close(fd);
            if (!ptr_alive(s))
                return gone(pid, err, errlen);
            return fail(err, errlen, "cannot read the special pool settings of %" PRIu32
                        ": %s", pid, strerror(errno));
        }
        if (sp_edit(&sp, v, t, arg, err, errlen) < 0) {
            close(fd);
            return -1;
        }
    } else if (edit(&c, v, t, arg, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    c.writer_pid = (uint32_t)getpid();
    c.writer_uid = (uint32_t)getuid();
    size_t from = offsetof(pt_seg_control, writer_pid);
    size_t to = offsetof(pt_seg_control, applied_gen);
    uint64_t gen = c.gen + 1;
    const uint8_t one = 1;
    size_t spn = offsetof(pt_seg_special, region_base);
    if ((sp_edit ? ptp_pwrite(fd, &sp, spn, spaddr) < 0
                 : ptp_pwrite(fd, (const char *)&c + from, to - from, caddr + from) < 0) ||
        ptp_pwrite(fd, &gen, sizeof gen, caddr) < 0 ||
        ptp_pwrite(fd, &one, 1, kick + PT_KICK_CONTROL_BYTE) < 0) {
        int e = errno;
        close(fd);
        if (!ptr_alive(s))
            return gone(pid, err, errlen);
        if (e == EACCES || e == EPERM)
            return refused(pid, err, errlen);
        return fail(err, errlen, "cannot write the control block of %" PRIu32
                    ": %s", pid, strerror(e));
    }
    close(fd);
    res->gen = gen;
    for (int waited = 0;; waited += 10) {
        if (ptr_trace_control(t, err, errlen) < 0) {
            if (!ptr_alive(s))
                return gone(pid, err, errlen);
            return -1;
        }
        if (t->ctl.applied_gen >= gen) {
            res->applied = 1;
            break;
        }
        if (waited >= wait_ms)
            break;
        if (!ptr_alive(s))
            return gone(pid, err, errlen);
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    res->after = t->ctl;
    return 0;
}
