/*
 * procmods.c — the ELF modules of a live process (procmods.h).
 *
 * The process is identified by PID and start time (field 22 of
 * /proc/PID/stat): pm_alive compares both, so a PID reused while we read
 * is not taken for the process we started with.  Every /proc file is read
 * through the reader's procfs.h (ptp_target_open: stat, comm, exe, maps,
 * mem), the same opening `pooltag find` uses.
 */
#include "procmods.h"
#include "pimg.h"
#include "pimsym.h"
#include "procfs.h"
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

int pm_open(pm_proc *p, uint32_t pid, int network, char *err, size_t errlen)
{
    ptp_target t;
    memset(p, 0, sizeof *p);
    p->memfd = -1;
    p->pid = pid;
    if (ptp_target_open(&t, pid) < 0) {
        snprintf(err, errlen, "no process with PID %" PRIu32, pid);
        return -1;
    }
    p->start = t.have_stat ? t.stat.start : 0;
    size_t cl = strnlen(t.comm, sizeof p->comm - 1);
    memcpy(p->comm, t.comm, cl);
    p->comm[cl] = 0;
    snprintf(p->exe, sizeof p->exe, "%s", t.exe);

    /* The ptrace rule shows as EACCES on maps. */
    if (!t.maps) {
        int e = t.maps_errno;
        if (e == EACCES || e == EPERM)
            ptr_perm_message(pid, err, errlen);
        else if (e == EFBIG || e == ENOMEM)
            snprintf(err, errlen, "cannot read /proc/%" PRIu32 "/maps: %s", pid,
                     "out of memory or too large");
        else
            snprintf(err, errlen, "no process with PID %" PRIu32, pid);
        ptp_target_close(&t);
        return -1;
    }
    p->sc = sym_new(network);
    if (!p->sc) {
        ptp_target_close(&t);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sym_add_maps_text(p->sc, t.maps, pid) < 0) {
        snprintf(err, errlen, "out of memory reading /proc/%" PRIu32 "/maps", pid);
        if (!pm_alive(p))
            snprintf(err, errlen, "process %" PRIu32 " exited while it was read", pid);
        ptp_target_close(&t);
        pm_close(p);
        return -1;
    }
    p->memfd = t.mem;   /* ours now */
    t.mem = -1;
    ptp_target_close(&t);
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
                  ptp_pread(p->memfd, magic, sizeof magic, mi.base) == (ssize_t)sizeof magic;
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

int pm_open_pim(pm_proc *p, pim *core, int network, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->memfd = -1;
    p->core = core;
    p->pid = core->pid;
    snprintf(p->comm, sizeof p->comm, "%.16s", core->comm);
    snprintf(p->exe, sizeof p->exe, "%s", core->exe);
    p->sc = pim_symbols(core, network);
    size_t nm = p->sc ? sym_nmodules(p->sc) : 0;
    p->elf = p->sc ? malloc(nm ? nm : 1) : NULL;
    if (!p->elf) {
        pm_close(p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(p->elf, 1, nm); /* a pim's modules have the ELF magic */
    return 0;
}

int pm_alive(pm_proc *p)
{
    if (p->core)
        return 1;
    ptp_stat st;
    int alive = ptp_read_stat(p->pid, &st) == 0 && st.start != 0 &&
                (p->start == 0 || st.start == p->start);
    if (!alive)
        p->exited = 1;
    return alive;
}

int pm_read(pm_proc *p, uint64_t addr, void *buf, size_t n)
{
    if (p->core)
        return pim_read_all(p->core, addr, buf, n);
    if (p->memfd < 0 || addr > (uint64_t)INT64_MAX)
        return -1;
    ssize_t r = ptp_pread(p->memfd, buf, n, addr);
    if (r == (ssize_t)n)
        return 0;
    pm_alive(p);
    return -1;
}

int pm_add_vdso(pm_proc *p)
{
    ptp_maps it;
    ptp_map m;
    unsigned long long start = 0, end = 0;
    int found = 0;
    if (p->core) {
        /* A core: the region at AT_SYSINFO_EHDR. */
        const pim_region *r = p->core->vdso ? pim_region_at(p->core, p->core->vdso) : NULL;
        if (r) {
            found = 1;
            start = r->start;
            end = r->end;
        }
    } else if (ptp_maps_open(&it, p->pid) == 0) {
        while (!found && ptp_maps_next(&it, &m)) {
            found = strcmp(m.path, "[vdso]") == 0;
            start = m.start;
            end = m.end;
        }
        ptp_maps_close(&it);
    }
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
    pim_close(p->core);
    p->core = NULL;
}
