/*
 * pimg.c — pimg.h's common part, the live backend (a PID) and the memory
 * backend.  The core backend is core.c.
 *
 * Live: the regions are /proc/PID/maps at open; memory is read through
 * /proc/PID/mem (ptp_pread); threads are /proc/PID/task.  With PIM_STOP
 * each thread is seized and interrupted (PTRACE_SEIZE, PTRACE_INTERRUPT:
 * no signal is sent that the program could see), waited for, its
 * registers read (PTRACE_GETREGS); the task list is read again until no
 * new thread shows, so a thread created meanwhile is stopped too.
 * pim_resume detaches them all.
 */
#include "ptgrow.h"
#include "pimg.h"

#include "procfs.h"
#include "ptread.h"
#include "segment.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pimg_priv.h"

#define fail ptr__fail

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------- */
/* common                                                                  */

pim *pim__new(int kind)
{
    pim *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    p->priv = calloc(1, sizeof(pim_priv));
    if (!p->priv) {
        free(p);
        return NULL;
    }
    ((pim_priv *)p->priv)->memfd = -1;
    return p;
}

char *pim__strdup(pim *p, const char *s, size_t n)
{
    pim_priv *pv = p->priv;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    char **ns = realloc(pv->strings, (pv->nstrings + 1) * sizeof *ns);
    if (!ns) {
        free(d);
        return NULL;
    }
    pv->strings = ns;
    ns[pv->nstrings++] = d;
    return d;
}

int pim__add_region(pim *p, const pim_region *r)
{
    pim_priv *pv = p->priv;
    pim_region *nr = pt_grow(p->regions, p->nregions, &pv->cap_regions, sizeof *nr, 64);
    if (!nr)
        return -1;
    p->regions = nr;
    p->regions[p->nregions++] = *r;
    return 0;
}

int pim_add_thread(pim *p, const pim_thread *t)
{
    pim_thread *nt = realloc(p->threads, (p->nthreads + 1) * sizeof *nt);
    if (!nt)
        return -1;
    p->threads = nt;
    p->threads[p->nthreads++] = *t;
    return 0;
}

static int cmp_region(const void *a, const void *b)
{
    const pim_region *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort the regions and drop any that overlaps its predecessor (a
 * malformed source). */
void pim__sort_regions(pim *p)
{
    qsort(p->regions, p->nregions, sizeof *p->regions, cmp_region);
    size_t j = 0;
    for (size_t i = 0; i < p->nregions; i++) {
        if (j && p->regions[i].start < p->regions[j - 1].end)
            continue;
        p->regions[j++] = p->regions[i];
    }
    p->nregions = j;
}

const pim_region *pim_region_at(const pim *p, uint64_t addr)
{
    size_t lo = 0, hi = p->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const pim_region *r = &p->regions[mid];
        if (addr < r->start)
            hi = mid;
        else if (addr >= r->end)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

const pim_module *pim_module_at(const pim *p, uint64_t addr)
{
    for (size_t i = 0; i < p->nmodules; i++)
        if (addr >= p->modules[i].start && addr < p->modules[i].end)
            return &p->modules[i];
    return NULL;
}

int pim_segment(const pim *p, const pim_region **out)
{
    for (size_t i = 0; i < p->nregions; i++)
        if (p->regions[i].flags & PIM_RF_SEGMENT) {
            *out = &p->regions[i];
            return 0;
        }
    *out = NULL;
    return -1;
}

int pim_gone(pim *p)
{
    pim_priv *pv = p->priv;
    if (p->kind != PIM_LIVE)
        return 0;
    if (!pv->gone && !ptp_alive(p->pid, pv->start))
        pv->gone = 1;
    return pv->gone;
}

static size_t live_read(pim *p, uint64_t addr, void *buf, size_t n)
{
    pim_priv *pv = p->priv;
    if (pv->memfd < 0 || n == 0)
        return 0;
    ssize_t r = ptp_pread(pv->memfd, buf, n, addr);
    return r < 0 ? 0 : (size_t)r;
}

size_t pim_read(pim *p, uint64_t addr, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        const pim_region *r = pim_region_at(p, addr + done);
        if (!r)
            break;
        uint64_t off = addr + done - r->start;
        if (off >= r->avail)
            break;
        size_t want = n - done;
        if (want > r->avail - off)
            want = (size_t)(r->avail - off);
        size_t got;
        if (p->kind == PIM_LIVE) {
            got = live_read(p, addr + done, (char *)buf + done, want);
        } else {
            const uint8_t *src = pim__region_bytes(p, r);
            if (!src)
                break;
            memcpy((char *)buf + done, src + off, want);
            got = want;
        }
        done += got;
        if (got < want)
            break;
    }
    return done;
}

int pim_read_all(pim *p, uint64_t addr, void *buf, size_t n)
{
    return pim_read(p, addr, buf, n) == n ? 0 : -1;
}

int pim_word(pim *p, uint64_t addr, uint64_t *out)
{
    return pim_read_all(p, addr, out, sizeof *out);
}

const uint8_t *pim_bytes(pim *p, const pim_region *r, uint64_t off, size_t n,
                         void *buf, size_t *got)
{
    *got = 0;
    if (off >= r->avail)
        return NULL;
    if (n > r->avail - off)
        n = (size_t)(r->avail - off);
    if (p->kind != PIM_LIVE) {
        const uint8_t *src = pim__region_bytes(p, r);
        if (!src)
            return NULL;
        *got = n;
        return src + off;
    }
    size_t g = live_read(p, r->start + off, buf, n);
    if (g == 0)
        return NULL;
    *got = g;
    return buf;
}

/* ---------------------------------------------------------------------- */
/* modules and their build-ids                                             */

/* The GNU build-id from the ELF headers at base in p's memory. */
static void module_build_id(pim *p, pim_module *m)
{
    Elf64_Ehdr eh;
    if (pim_read_all(p, m->base, &eh, sizeof eh) < 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum == 0 || eh.e_phnum > 256 || eh.e_phoff > (1u << 20))
        return;
    Elf64_Phdr ph[256];
    if (pim_read_all(p, m->base + eh.e_phoff, ph, eh.e_phnum * sizeof ph[0]) < 0)
        return;
    /* The load bias: the first PT_LOAD maps file offset 0 at base. */
    uint64_t bias = m->base;
    for (unsigned i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {
            bias = m->base - (ph[i].p_vaddr & ~(uint64_t)0xfff);
            break;
        }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_memsz > 65536)
            continue;
        uint8_t notes[65536];
        size_t n = pim_read(p, bias + ph[i].p_vaddr, notes, (size_t)ph[i].p_memsz);
        size_t off = 0;
        while (off + 12 <= n) {
            uint32_t namesz, descsz, type;
            memcpy(&namesz, notes + off, 4);
            memcpy(&descsz, notes + off + 4, 4);
            memcpy(&type, notes + off + 8, 4);
            uint64_t name_off = off + 12;
            uint64_t desc_off = name_off + (((uint64_t)namesz + 3) & ~3ull);
            uint64_t next = desc_off + (((uint64_t)descsz + 3) & ~3ull);
            if (next > n)
                break;
            if (type == NT_GNU_BUILD_ID && namesz == 4 &&
                memcmp(notes + name_off, "GNU", 4) == 0 && descsz > 0 &&
                descsz <= sizeof m->build_id) {
                memcpy(m->build_id, notes + desc_off, descsz);
                m->build_id_len = descsz;
                return;
            }
            off = (size_t)next;
        }
    }
}

/* One module per file path among the regions flagged PIM_RF_FILE whose
 * file starts with the ELF magic in memory (its offset-0 mapping), spanning
 * every mapping of the same path; build-ids read from memory. */
int pim__find_modules(pim *p)
{
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        if (!(r->flags & PIM_RF_FILE) || !r->path || !r->path[0])
            continue;
        pim_module *m = NULL;
        for (size_t j = 0; j < p->nmodules; j++)
            if (strcmp(p->modules[j].path, r->path) == 0) {
                m = &p->modules[j];
                break;
            }
        if (!m) {
            if (r->offset != 0)
                continue; /* not mapped from its start: data of some file */
            unsigned char mag[SELFMAG];
            if (pim_read_all(p, r->start, mag, SELFMAG) < 0 ||
                memcmp(mag, ELFMAG, SELFMAG) != 0)
                continue;
            pim_module *nm = realloc(p->modules, (p->nmodules + 1) * sizeof *nm);
            if (!nm)
                return -1;
            p->modules = nm;
            m = &p->modules[p->nmodules++];
            memset(m, 0, sizeof *m);
            m->path = r->path;
            const char *slash = strrchr(r->path, '/');
            m->name = slash ? slash + 1 : r->path;
            m->start = r->start;
            m->end = r->end;
            m->base = r->start;
            module_build_id(p, m);
            continue;
        }
        /* Another module's mappings may lie between (rare); the span grows
         * only over this file's own mappings after its start. */
        if (r->end > m->end)
            m->end = r->end;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* live                                                                    */

static int live_regions(pim *p, char *err, size_t errlen)
{
    ptp_maps it;
    if (ptp_maps_open(&it, p->pid) < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM) {
            char msg[512];
            ptr_perm_message(p->pid, msg, sizeof msg);
            return fail(err, errlen, "%s", msg);
        }
        if (e == ENOENT || e == ESRCH)
            return fail(err, errlen, "no process with PID %" PRIu32, p->pid);
        return fail(err, errlen, "process %" PRIu32 ": cannot read its maps: %s",
                    p->pid, strerror(e));
    }
    ptp_map m;
    while (ptp_maps_next(&it, &m) > 0) {
        pim_region r;
        memset(&r, 0, sizeof r);
        r.start = m.start;
        r.end = m.end;
        r.offset = m.offset;
        r.prot = (m.perms[0] == 'r' ? PIM_R : 0) | (m.perms[1] == 'w' ? PIM_W : 0) |
                 (m.perms[2] == 'x' ? PIM_X : 0);
        r.flags = (m.perms[3] == 's' ? PIM_RF_SHARED : 0) |
                  (m.deleted ? PIM_RF_DELETED : 0);
        if (ptp_map_is_segment(&m))
            r.flags |= PIM_RF_SEGMENT;
        else if (ptp_map_is_file(&m))
            r.flags |= PIM_RF_FILE;
        r.path = pim__strdup(p, m.path, m.pathlen);
        /* [vvar] and [vsyscall] cannot be read through mem. */
        r.avail = (strcmp(r.path ? r.path : "", "[vvar]") == 0 ||
                   strcmp(r.path ? r.path : "", "[vsyscall]") == 0 || !(r.prot & PIM_R))
                      ? 0 : r.end - r.start;
        if (!r.path || pim__add_region(p, &r) < 0) {
            ptp_maps_close(&it);
            return fail(err, errlen, "out of memory");
        }
    }
    ptp_maps_close(&it);
    if (p->nregions == 0) {
        if (!ptp_exists(p->pid, NULL))
            return fail(err, errlen, "no process with PID %" PRIu32, p->pid);
        return fail(err, errlen, "process %" PRIu32 " has no memory mapped "
                    "(a kernel thread or a zombie)", p->pid);
    }
    pim__sort_regions(p);
    return 0;
}

static int read_task_comm(uint32_t pid, uint32_t tid, char *buf, size_t size)
{
    char path[PTP_PATH_SIZE + 32];
    snprintf(path, sizeof path, "/proc/%" PRIu32 "/task/%" PRIu32 "/comm", pid, tid);
    ssize_t n = ptp_read_small(path, buf, size);
    if (n < 0) {
        buf[0] = 0;
        return -1;
    }
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    return 0;
}

static pim_thread *find_thread(pim *p, uint32_t tid)
{
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].tid == tid)
            return &p->threads[i];
    return NULL;
}

/* Stop one thread and read its registers.  0, 1 when it is gone, -1
 * (errno) when ptrace refuses. */
static int stop_thread(pim *p, pim_thread *t)
{
    pim_priv *pv = p->priv;
    if (ptrace(PTRACE_SEIZE, t->tid, 0, 0) < 0)
        return errno == ESRCH ? 1 : -1;
    pv->seized = 1;
    t->have_regs = -1; /* seized, to be detached */
    if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0)
        return errno == ESRCH ? 1 : -1;
    for (;;) {
        int st;
        pid_t w = waitpid((pid_t)t->tid, &st, __WALL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return 1;
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            t->have_regs = 0;
            return 1;
        }
        if (WIFSTOPPED(st)) {
            /* A group-stop or the interrupt: stopped either way.  A signal
             * stop other than ours is left pending: re-injected at detach. */
            int sig = WSTOPSIG(st);
            if ((st >> 16) != PTRACE_EVENT_STOP && sig != SIGTRAP && sig != SIGSTOP)
                t->pending_sig = sig;
            break;
        }
    }
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
        return 0;
    _Static_assert(sizeof regs == PIM_NGREGS * 8, "user_regs_struct: 27 words");
    memcpy(t->gregs, &regs, sizeof regs);
    t->sp = regs.rsp;
    t->pc = regs.rip;
    t->fs_base = regs.fs_base;
    t->have_regs = 1;
    return 0;
}

static int live_threads(pim *p, unsigned flags, char *err, size_t errlen)
{
    pim_priv *pv = p->priv;
    char path[PTP_PATH_SIZE];
    int rounds = 0, added;
    if (flags & PIM_STOP)
        pv->stop_t0 = now_ns();
    do {
        added = 0;
        DIR *d = opendir(ptp_path(path, sizeof path, p->pid, "task"));
        if (!d) {
            if (errno == ENOENT)
                return fail(err, errlen, "process %" PRIu32 " has exited", p->pid);
            return fail(err, errlen, "process %" PRIu32 ": cannot list its "
                        "threads: %s", p->pid, strerror(errno));
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            char *end;
            unsigned long tid = strtoul(de->d_name, &end, 10);
            if (*end || !tid || tid > INT32_MAX || find_thread(p, (uint32_t)tid))
                continue;
            pim_thread t;
            memset(&t, 0, sizeof t);
            t.tid = (uint32_t)tid;
            read_task_comm(p->pid, t.tid, t.name, sizeof t.name);
            if (pim_add_thread(p, &t) < 0) {
                closedir(d);
                return fail(err, errlen, "out of memory");
            }
            added++;
            if (flags & PIM_STOP) {
                pim_thread *nt = &p->threads[p->nthreads - 1];
                if (stop_thread(p, nt) < 0) {
                    int e = errno;
                    closedir(d);
                    if (e == EPERM || e == EACCES) {
                        char msg[512];
                        ptr_perm_message(p->pid, msg, sizeof msg);
                        return fail(err, errlen, "%s", msg);
                    }
                    return fail(err, errlen, "process %" PRIu32 ": cannot stop "
                                "thread %" PRIu32 ": %s", p->pid, nt->tid,
                                strerror(e));
                }
            }
        }
        closedir(d);
    } while ((flags & PIM_STOP) && added && ++rounds < 100);
    if (flags & PIM_STOP)
        p->stopped = 1;
    /* The main thread first. */
    for (size_t i = 1; i < p->nthreads; i++)
        if (p->threads[i].tid == p->pid) {
            pim_thread t = p->threads[0];
            p->threads[0] = p->threads[i];
            p->threads[i] = t;
        }
    if (p->nthreads == 0)
        return fail(err, errlen, "process %" PRIu32 " has exited", p->pid);
    return 0;
}

void pim_resume(pim *p)
{
    pim_priv *pv = p->priv;
    if (p->kind != PIM_LIVE || !pv->seized)
        return;
    for (size_t i = 0; i < p->nthreads; i++) {
        pim_thread *t = &p->threads[i];
        if (t->have_regs != 0)
            ptrace(PTRACE_DETACH, t->tid, 0, (void *)(uintptr_t)t->pending_sig);
        if (t->have_regs < 0)
            t->have_regs = 0;
    }
    pv->seized = 0;
    if (p->stopped)
        p->stopped_ns = now_ns() - pv->stop_t0;
    p->stopped = 0;
}

int pim_open_pid(uint32_t pid, unsigned flags, pim **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    if (pid == 0 || pid > INT32_MAX)
        return fail(err, errlen, "no process with PID %" PRIu32, pid);
    pim *p = pim__new(PIM_LIVE);
    if (!p)
        return fail(err, errlen, "out of memory");
    pim_priv *pv = p->priv;
    p->pid = pid;
    char src[64];
    snprintf(src, sizeof src, "process %" PRIu32, pid);
    p->source = pim__strdup(p, src, strlen(src));
    ptp_stat st;
    if (ptp_read_stat(pid, &st) < 0) {
        int e = errno;
        pim_close(p);
        if (e == EACCES || e == EPERM) {
            char msg[512];
            ptr_perm_message(pid, msg, sizeof msg);
            return fail(err, errlen, "%s", msg);
        }
        return fail(err, errlen, "no process with PID %" PRIu32, pid);
    }
    if (ptp_gone(st.state)) {
        pim_close(p);
        return fail(err, errlen, "process %" PRIu32 " has exited (state %c)",
                    pid, st.state);
    }
    pv->start = st.start;
    ptp_read_comm(pid, p->comm, sizeof p->comm);
    ptp_read_exe(pid, p->exe, sizeof p->exe);
    if (live_regions(p, err, errlen) < 0) {
        pim_close(p);
        return -1;
    }
    pv->memfd = ptp_mem_open(pid);
    if (pv->memfd < 0) {
        int e = errno;
        pim_close(p);
        if (e == EACCES || e == EPERM) {
            char msg[512];
            ptr_perm_message(pid, msg, sizeof msg);
            return fail(err, errlen, "%s", msg);
        }
        return fail(err, errlen, "process %" PRIu32 ": cannot open its memory: %s",
                    pid, strerror(e));
    }
    if (live_threads(p, flags, err, errlen) < 0 || pim__find_modules(p) < 0) {
        if (!err || !*err)
            fail(err, errlen, "out of memory");
        pim_close(p);
        return -1;
    }
    *out = p;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* memory                                                                  */

int pim_open_memory(const pim_region *regions, const void *const *bytes,
                    size_t n, pim **out, char *err, size_t errlen)
{
    *out = NULL;
    pim *p = pim__new(PIM_MEMORY);
    if (!p)
        return fail(err, errlen, "out of memory");
    pim_priv *pv = p->priv;
    p->source = "memory image";
    pv->bytes = calloc(n ? n : 1, sizeof *pv->bytes);
    if (!pv->bytes) {
        pim_close(p);
        return fail(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        pim_region r = regions[i];
        if (r.end <= r.start)
            continue;
        if (r.avail > r.end - r.start)
            r.avail = r.end - r.start;
        if (!bytes || !bytes[i])
            r.avail = 0;
        /* core_off carries the index of the bytes through the sort. */
        r.core_off = i;
        r.path = r.path ? pim__strdup(p, r.path, strlen(r.path)) : "";
        if (!r.path || pim__add_region(p, &r) < 0) {
            pim_close(p);
            return fail(err, errlen, "out of memory");
        }
        pv->bytes[i] = bytes ? bytes[i] : NULL;
    }
    pv->nbytes = n;
    pim__sort_regions(p);
    if (pim__find_modules(p) < 0) {
        pim_close(p);
        return fail(err, errlen, "out of memory");
    }
    *out = p;
    return 0;
}

const uint8_t *pim__region_bytes(pim *p, const pim_region *r)
{
    pim_priv *pv = p->priv;
    if (p->kind == PIM_MEMORY)
        return r->core_off < pv->nbytes ? pv->bytes[r->core_off] : NULL;
    if (p->kind == PIM_CORE)
        return pim__core_bytes(p, r);
    return NULL;
}

/* ---------------------------------------------------------------------- */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int pim_open(const char *spec, unsigned flags, pim **out, char *err,
             size_t errlen)
{
    *out = NULL;
    if (!spec || !*spec)
        return fail(err, errlen, "empty source: give a PID or a core file");
    if (all_digits(spec)) {
        unsigned long long pid = strlen(spec) > 10 ? ~0ull : strtoull(spec, NULL, 10);
        if (pid == 0 || pid > INT32_MAX)
            return fail(err, errlen, "no process with PID %s", spec);
        return pim_open_pid((uint32_t)pid, flags, out, err, errlen);
    }
    return pim_open_core(spec, flags, out, err, errlen);
}

void pim_close(pim *p)
{
    if (!p)
        return;
    pim_resume(p);
    pim_priv *pv = p->priv;
    if (pv) {
        if (pv->memfd >= 0)
            close(pv->memfd);
        pim__core_close(p);
        for (size_t i = 0; i < pv->nstrings; i++)
            free(pv->strings[i]);
        free(pv->strings);
        free(pv->bytes);
        free(pv);
    }
    free(p->regions);
    free(p->threads);
    free(p->modules);
    free(p);
}
