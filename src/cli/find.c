/*
 * find.c — `pooltag find TAG [PID | PATH...]`: where a tag's four bytes
 * occur in binaries (findstr /s, `!for_each_module s -a`, `lm a`, `ln`).
 *
 * Data model
 * ----------
 * The needle is the tag's four bytes in memory order (PT_TAG: "Leak" is
 * 4c 65 61 6b, the value 0x6b61654c, which is what an instruction such as
 * `mov edx, 0x6b61654c` carries as its immediate operand).
 *
 * A hit is (file or module, address, file offset, section, code or data,
 * nearest symbol, 16 bytes from the hit).  Hits go into two lists, code
 * (executable sections: the tag as an immediate) and data, each keeping
 * the first --max hits in scan order; every hit is counted.  The output
 * shows the code list, then the data list (code ranked first).
 *
 * Files: each PATH is a file or a directory walked recursively in name
 * order.  Symbolic links named on the command line are followed; inside a
 * walk they are not (like grep -r), so a link cannot lead into a loop or
 * scan a library twice under its soname; a directory that is its own
 * ancestor (bind mounts) is skipped.  A file is scanned in two passes:
 *   1. read() through one buffer, checking the ELF magic on the first
 *      block (other files are ignored unless --all-files) and stopping at
 *      the first hit: most files have none, and this pass costs what
 *      `grep -lF` costs;
 *   2. only a file with a hit is mapped and handed to elfscan.c
 *      (fe_scan_image: libelf's elf_memory), which finds every hit and
 *      names its section and symbol (.symtab, else .dynsym).
 * Unreadable files and directories are reported on stderr ("skipped:"),
 * one line each, and the scan goes on.
 *
 * A PID: the ELF files mapped into the process (/proc/PID/maps: file
 * mappings with a readable ELF header at their offset-0 mapping) are read
 * through /proc/PID/mem, mapping by mapping.  A hit's address is the live
 * address; code is a hit in an executable mapping; its file offset names
 * section and symbol in the file on disk (/proc/PID/map_files when the
 * kernel allows it, else the path, if it is still the same inode), and
 * symbolize.c adds file:line where debuginfo exists.  A process that exits
 * during the scan ends it: what was found is reported, with a note.
 *
 * Exit status: 0 hits found, 1 no hit (a finding verb), 2 usage or input
 * error (also: nothing at all could be scanned).
 */
#include "verbs.h"
#include "elfscan.h"
#include "procfs.h"
#include "emit.h"
#include "pimg.h"
#include "pimsym.h"
#include "symbolize.h"
#include "util.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *VERB = "find";

#define SCAN_BUF (256u << 10)     /* pass 1 read size                      */
#define MEM_CHUNK (1u << 20)      /* /proc/PID/mem read size               */
#define MAX_DEPTH 256             /* directory nesting                     */
#define DEFAULT_MAX 1000          /* hits kept per list                    */

typedef struct hit {
    const char *where;   /* file path / module path (shared, see names)   */
    int have_addr;
    uint64_t addr;       /* vaddr (file) or live address (PID)            */
    uint64_t off;        /* file offset                                   */
    int have_modaddr;
    uint64_t modaddr;    /* PID: address in the module's own terms        */
    int code;
    char *section;
    char *symbol;
    uint64_t symoff;
    int past_end, dynsym;
    char *note;
    char *srcfile;
    int line;
    uint8_t dump[16];
    unsigned ndump;
} hit;

typedef struct hitlist {
    hit *v;
    size_t n, cap;
    uint64_t total;
} hitlist;

typedef struct finder {
    uint8_t needle[4];
    uint32_t value;
    char tagtext[PT_TAG_TEXT_MAX];
    int code_only, all_files, json;
    size_t max;
    hitlist code, data;
    char **names;        /* interned file paths of hits                   */
    size_t nnames, capnames;
    uint64_t scanned, not_elf, skipped, files_hit;
    uint8_t *buf;        /* pass 1 buffer                                 */
    int oom;
    /* PID mode */
    uint32_t pid;
    char comm[64];
    int exited;
    const char *core;    /* core mode: the core file (pid, comm its process) */
} finder;

/* ---------------------------------------------------------------------- */
/* Hits                                                                    */

static char *dup_or_null(finder *F, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        F->oom = 1;
    return d;
}

static const char *intern(finder *F, const char *path)
{
    if (F->nnames && strcmp(F->names[F->nnames - 1], path) == 0)
        return F->names[F->nnames - 1];
    if (F->nnames == F->capnames) {
        size_t cap = F->capnames ? F->capnames * 2 : 64;
        char **nn = realloc(F->names, cap * sizeof *nn);
        if (!nn) {
            F->oom = 1;
            return NULL;
        }
        F->names = nn;
        F->capnames = cap;
    }
    char *d = strdup(path);
    if (!d) {
        F->oom = 1;
        return NULL;
    }
    F->names[F->nnames++] = d;
    return d;
}

/* Count a hit; returns a slot to fill if the list keeps it, else NULL. */
static hit *add_hit(finder *F, int code)
{
    hitlist *l = code ? &F->code : &F->data;
    l->total++;
    if ((!code && F->code_only) || l->n >= F->max)
        return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        if (cap > F->max)
            cap = F->max;
        hit *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            F->oom = 1;
            return NULL;
        }
        l->v = nv;
        l->cap = cap;
    }
    hit *h = &l->v[l->n++];
    memset(h, 0, sizeof *h);
    h->code = code;
    return h;
}

static void set_place(finder *F, hit *h, const fe_place *p)
{
    h->section = dup_or_null(F, p->section);
    h->symbol = dup_or_null(F, p->symbol);
    h->symoff = p->symoff;
    h->past_end = p->past_end;
    h->dynsym = p->dynsym;
    h->note = dup_or_null(F, p->note);
}

static void free_list(hitlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].section);
        free(l->v[i].symbol);
        free(l->v[i].note);
        free(l->v[i].srcfile);
    }
    free(l->v);
}

static void skipped(finder *F, const char *path, const char *why)
{
    F->skipped++;
    cli_err(VERB, "skipped: %s: %s", cli_esc(path), cli_esc(why));
}

/* ---------------------------------------------------------------------- */
/* Files                                                                   */

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
    if (bus_armed)
        siglongjmp(bus_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

typedef struct file_ctx {
    finder *F;
    const char *path;   /* interned                                       */
    const uint8_t *img;
    size_t size;
} file_ctx;

static int on_file_hit(void *arg, fe_image *im, uint64_t off, const fe_place *p)
{
    file_ctx *c = arg;
    hit *h = add_hit(c->F, p->code);
    if (!h)
        return 0;
    fe_place named = *p;
    if (im)
        fe_at_offset(im, off, 1, &named);
    h->where = c->path;
    h->off = off;
    h->have_addr = named.have_vaddr;
    h->addr = named.vaddr;
    set_place(c->F, h, &named);
    h->ndump = (unsigned)(c->size - off < 16 ? c->size - off : 16);
    memcpy(h->dump, c->img + off, h->ndump);
    return 0;
}

static int stop_at_first(void *arg, uint64_t off)
{
    (void)arg;
    (void)off;
    return 1;
}

/* Pass 2: every hit of a file known to have one. */
static void scan_hits(finder *F, int fd, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        skipped(F, path, "cannot stat it after reading it");
        return;
    }
    size_t size = (size_t)st.st_size;
    void *img = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (img == MAP_FAILED) {
        skipped(F, path, strerror(errno));
        return;
    }
    file_ctx c = {F, intern(F, path), img, size};
    if (!c.path) {
        munmap(img, size);
        return;
    }
    F->files_hit++;
    /* A file truncated while mapped raises SIGBUS on access. */
    if (sigsetjmp(bus_jmp, 1) == 0) {
        bus_armed = 1;
        fe_scan_image(img, size, F->needle, 0, on_file_hit, &c);
    } else {
        F->skipped++;
        cli_err(VERB, "skipped: %s: the file shrank while it was read (hits before that are "
                      "reported)", cli_esc(path));
    }
    bus_armed = 0;
    munmap(img, size);
}

/* Both passes over one file; dirfd/name open it, path names it. */
static void scan_file(finder *F, int dirfd, const char *name, const char *path, int follow)
{
    int fd = openat(dirfd, name,
                    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        skipped(F, path, strerror(errno));
        return;
    }
    size_t carry = 0;
    int first = 1, found = 0;
    for (;;) {
        ssize_t r = read(fd, F->buf + carry, SCAN_BUF);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            skipped(F, path, strerror(errno));
            close(fd);
            return;
        }
        size_t n = carry + (size_t)r;
        if (first) {
            first = 0;
            if (!F->all_files && !fe_is_elf(F->buf, n)) {
                F->not_elf++;
                close(fd);
                return;
            }
        }
        if (r == 0)
            break;
        if (fs_scan(F->buf, n, F->needle, 0, stop_at_first, NULL)) {
            found = 1;
            break;
        }
        carry = n < 3 ? n : 3;
        memmove(F->buf, F->buf + n - carry, carry);
    }
    F->scanned++;
    if (found)
        scan_hits(F, fd, path);
    close(fd);
}

typedef struct dent {
    char *name;
    unsigned char type;
} dent;

static int dent_cmp(const void *a, const void *b)
{
    return strcmp(((const dent *)a)->name, ((const dent *)b)->name);
}

typedef struct dirid {
    dev_t dev;
    ino_t ino;
} dirid;

/* path is a growable buffer holding the directory's path. */
static void walk_dir(finder *F, int parentfd, const char *name, char **path, size_t *pathcap,
                     dirid *stack, int depth, int follow)
{
    if (depth >= MAX_DEPTH) {
        skipped(F, *path, "directories nested too deep");
        return;
    }
    int fd = openat(parentfd, name,
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    struct stat st;
    if (fd < 0) {
        skipped(F, *path, strerror(errno));
        return;
    }
    if (fstat(fd, &st) < 0) {
        skipped(F, *path, strerror(errno));
        close(fd);
        return;
    }
    for (int i = 0; i < depth; i++)
        if (stack[i].dev == st.st_dev && stack[i].ino == st.st_ino) {
            skipped(F, *path, "directory loop (it contains itself)");
            close(fd);
            return;
        }
    stack[depth] = (dirid){st.st_dev, st.st_ino};
    DIR *d = fdopendir(fd);
    if (!d) {
        skipped(F, *path, strerror(errno));
        close(fd);
        return;
    }
    dent *ents = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            dent *ne = realloc(ents, ncap * sizeof *ne);
            if (!ne)
                break;
            ents = ne;
            cap = ncap;
        }
        ents[n].name = strdup(e->d_name);
        if (!ents[n].name)
            break;
        ents[n++].type = e->d_type;
        errno = 0;
    }
    if (errno)
        skipped(F, *path, strerror(errno));
    if (n)
        qsort(ents, n, sizeof *ents, dent_cmp);
    size_t plen = strlen(*path);
    for (size_t i = 0; i < n; i++) {
        size_t need = plen + 1 + strlen(ents[i].name) + 1;
        if (need > *pathcap) {
            size_t ncap = need * 2;
            char *np = realloc(*path, ncap);
            if (!np) {
                F->oom = 1;
                break;
            }
            *path = np;
            *pathcap = ncap;
        }
        snprintf(*path + plen, *pathcap - plen, "%s%s",
                 plen && (*path)[plen - 1] == '/' ? "" : "/", ents[i].name);
        unsigned char t = ents[i].type;
        if (t == DT_UNKNOWN) {
            struct stat es;
            if (fstatat(dirfd(d), ents[i].name, &es, AT_SYMLINK_NOFOLLOW) < 0) {
                skipped(F, *path, strerror(errno));
                (*path)[plen] = 0;
                continue;
            }
            t = S_ISDIR(es.st_mode) ? DT_DIR : S_ISREG(es.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (t == DT_DIR)
            walk_dir(F, dirfd(d), ents[i].name, path, pathcap, stack, depth + 1, 0);
        else if (t == DT_REG)
            scan_file(F, dirfd(d), ents[i].name, *path, 0);
        /* Symbolic links, devices, FIFOs, sockets: not scanned. */
        (*path)[plen] = 0;
    }
    for (size_t i = 0; i < n; i++)
        free(ents[i].name);
    free(ents);
    closedir(d);
}

static void scan_path(finder *F, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) < 0) {
        skipped(F, arg, strerror(errno));
        return;
    }
    if (S_ISREG(st.st_mode)) {
        scan_file(F, AT_FDCWD, arg, arg, 1);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        skipped(F, arg, "not a regular file or directory");
        return;
    }
    size_t cap = strlen(arg) + 256;
    char *path = malloc(cap);
    dirid *stack = calloc(MAX_DEPTH, sizeof *stack);
    if (!path || !stack) {
        F->oom = 1;
        free(path);
        free(stack);
        return;
    }
    snprintf(path, cap, "%s", arg);
    walk_dir(F, AT_FDCWD, arg, &path, &cap, stack, 0, 1);
    free(path);
    free(stack);
}

/* ---------------------------------------------------------------------- */
/* A live process                                                          */

typedef struct mapping {
    uint64_t start, end, off, ino;
    unsigned maj, min;
    char perms[5];
    char *path;
} mapping;

typedef struct module {
    const char *path;    /* interned                                      */
    uint64_t ino;
    unsigned maj, min;
    size_t first, count; /* its mappings: indexes into an index array     */
    int have_base;
    uint64_t base, base_end;
} module;

/* The mappings of files (not memfds or devices) in the maps text, in
 * order; paths (" (deleted)" cut) point into copies kept in *lines.
 * Returns the count (0 when memory runs out). */
static size_t parse_maps(const char *text, mapping **out, char ***lines)
{
    mapping *m = NULL;
    char **keep = NULL;
    size_t n = 0, cap = 0;
    ptp_maps it;
    ptp_map pm;
    ptp_maps_text(&it, text);
    while (ptp_maps_next(&it, &pm)) {
        if (!ptp_map_is_file(&pm))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 128;
            mapping *nm = realloc(m, ncap * sizeof *nm);
            char **nk = nm ? realloc(keep, ncap * sizeof *nk) : NULL;
            if (nm)
                m = nm;
            if (!nk)
                break;
            keep = nk;
            cap = ncap;
        }
        char *copy = strndup(pm.path, pm.pathlen);
        if (!copy)
            break;
        keep[n] = copy;
        m[n] = (mapping){pm.start, pm.end, pm.offset, pm.inode, pm.dev_major, pm.dev_minor, "",
                         copy};
        memcpy(m[n].perms, pm.perms, 5);
        n++;
    }
    *out = m;
    *lines = keep;
    return n;
}

typedef struct mem_ctx {
    finder *F;
    int memfd;
    const mapping *map;
    const char *path;
    const uint8_t *chunk;  /* the chunk being scanned, starting at caddr   */
    uint64_t caddr;
    size_t clen;
} mem_ctx;

static int on_mem_hit(void *arg, uint64_t addr)
{
    mem_ctx *c = arg;
    int code = strchr(c->map->perms, 'x') != NULL;
    hit *h = add_hit(c->F, code);
    if (!h)
        return 0;
    h->where = c->path;
    h->have_addr = 1;
    h->addr = addr;
    h->off = addr - c->map->start + c->map->off;
    uint64_t avail = c->map->end - addr;
    unsigned want = avail < 16 ? (unsigned)avail : 16;
    uint64_t in_chunk = c->caddr + c->clen - addr;
    if (in_chunk >= want) {
        memcpy(h->dump, c->chunk + (addr - c->caddr), want);
        h->ndump = want;
    } else {
        ssize_t r = ptp_pread(c->memfd, h->dump, want, addr);
        h->ndump = r > 0 ? (unsigned)r : 0;
    }
    return 0;
}

/* Scan one mapping; -1 when the process is gone. */
static int scan_mapping(finder *F, int memfd, const mapping *m, const char *path, uint8_t *buf)
{
    mem_ctx c = {F, memfd, m, path, buf, 0, 0};
    size_t carry = 0;
    for (uint64_t a = m->start; a < m->end;) {
        size_t want = m->end - a < MEM_CHUNK ? (size_t)(m->end - a) : MEM_CHUNK;
        ssize_t r = ptp_pread(memfd, buf + carry, want, a);
        if (r <= 0) {
            if (!ptp_alive(F->pid, 0))
                return -1;
            char why[192];
            snprintf(why, sizeof why, "cannot read its live memory at 0x%" PRIx64 ": %s", a,
                     r < 0 ? strerror(errno) : "end of file");
            skipped(F, path, why);
            return 0;
        }
        c.caddr = a - carry;
        c.clen = carry + (size_t)r;
        fs_scan(buf, c.clen, F->needle, c.caddr, on_mem_hit, &c);
        a += (uint64_t)r;
        carry = c.clen < 3 ? c.clen : 3;
        memmove(buf, buf + c.clen - carry, carry);
    }
    return 0;
}

/* fe_at_offset on a mapped file, which SIGBUS would end if the file
 * shrank: -1 then. */
static int guarded_at_offset(fe_image *im, uint64_t off, fe_place *p)
{
    volatile int ok = 0;
    if (sigsetjmp(bus_jmp, 1) == 0) {
        bus_armed = 1;
        fe_at_offset(im, off, 1, p);
        ok = 1;
    }
    bus_armed = 0;
    if (!ok)
        memset(p, 0, sizeof *p);
    return ok ? 0 : -1;
}

/* Name the hits [from_code, ...) and [from_data, ...) of one module. */
static void name_module_hits(finder *F, const module *mod, sym_ctx *sc, size_t from_code,
                             size_t from_data)
{
    if (F->code.n == from_code && F->data.n == from_data)
        return;
    char why[256] = "";
    int fd = -1;
    if (mod->have_base) {
        char mf[96];
        ptp_map_files_path(mf, sizeof mf, F->pid, mod->base, mod->base_end);
        fd = open(mf, O_RDONLY | O_CLOEXEC);
    }
    struct stat st;
    if (fd < 0) {
        fd = open(mod->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0 && (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != mod->ino)) {
            close(fd);
            fd = -1;
            snprintf(why, sizeof why, "no symbol: %s was replaced since it was mapped",
                     mod->path);
        } else if (fd < 0) {
            snprintf(why, sizeof why, "no symbol: cannot open %s: %s", mod->path,
                     strerror(errno));
        }
    }
    void *img = MAP_FAILED;
    size_t size = 0;
    fe_image *im = NULL;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
        size = (size_t)st.st_size;
        img = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (img != MAP_FAILED) {
            char err[192];
            im = fe_open(img, size, err, sizeof err);
            if (!im)
                snprintf(why, sizeof why, "no symbol: %s", err);
        }
    }
    if (fd >= 0)
        close(fd);
    hitlist *lists[2] = {&F->code, &F->data};
    size_t from[2] = {from_code, from_data};
    for (int k = 0; k < 2; k++) {
        for (size_t i = from[k]; i < lists[k]->n; i++) {
            hit *h = &lists[k]->v[i];
            fe_place p;
            memset(&p, 0, sizeof p);
            if (!im || guarded_at_offset(im, h->off, &p) < 0)
                p.note = !im && why[0] ? why : "no symbol";
            if (p.have_vaddr) {
                h->have_modaddr = 1;
                h->modaddr = p.vaddr;
            }
            sym_info si;
            sym_lookup(sc, h->addr, 0, &si);
            /* libdwfl also reads separate debuginfo: it may name code of a
             * stripped file; data is left unnamed rather than named after
             * whatever symbol precedes it. */
            if (!p.symbol && si.symbol && (h->code || !im)) {
                p.symbol = si.symbol;
                p.symoff = si.symoff;
                p.note = NULL;
            }
            set_place(F, h, &p);
            if (si.file) {
                h->srcfile = dup_or_null(F, si.file);
                h->line = si.line;
            }
        }
    }
    fe_close(im);
    if (img != MAP_FAILED)
        munmap(img, size);
}

static int module_cmp_key(const mapping *a, const module *m)
{
    return a->ino == m->ino && a->maj == m->maj && a->min == m->min &&
           strcmp(a->path, m->path) == 0;
}

static int scan_pid(finder *F, uint32_t pid)
{
    ptp_target t;
    F->pid = pid;
    if (ptp_target_open(&t, pid) < 0 || !t.have_stat || ptp_gone(t.stat.state)) {
        ptp_target_close(&t);
        cli_err(VERB, "no process with PID %" PRIu32 " (or it has exited)", pid);
        return PT_EXIT_USAGE;
    }
    if (t.comm[0])
        snprintf(F->comm, sizeof F->comm, "%s", t.comm);
    if (t.mem < 0) {
        int e = t.maps ? t.mem_errno : t.maps_errno;
        ptp_target_close(&t);
        if (e == EACCES || e == EPERM) {
            char msg[512];
            ptr_perm_message(pid, msg, sizeof msg);
            cli_err(VERB, "%s", msg);
        } else if (e == ENOENT || e == ESRCH)
            cli_err(VERB, "no process with PID %" PRIu32 " (or it has exited)", pid);
        else
            cli_err(VERB, "cannot read process %" PRIu32 ": %s", pid, strerror(e));
        return PT_EXIT_USAGE;
    }
    int memfd = t.mem;
    char *text = t.maps;
    sym_ctx *sc = sym_new(0);
    if (sc)
        sym_add_maps_text(sc, text, pid);
    mapping *maps = NULL;
    char **paths = NULL;
    size_t nmaps = parse_maps(text, &maps, &paths);
    /* Modules in order of first mapping, each with its mappings. */
    module *mods = calloc(nmaps ? nmaps : 1, sizeof *mods);
    size_t *order = calloc(nmaps ? nmaps : 1, sizeof *order);
    uint8_t *buf = malloc(MEM_CHUNK + 3);
    size_t nmods = 0;
    int status = PT_EXIT_OK;
    if (!mods || !order || !buf || !sc) {
        cli_err(VERB, "out of memory");
        status = PT_EXIT_USAGE;
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < nmaps; i++) {
        size_t j;
        for (j = 0; j < nmods; j++)
            if (module_cmp_key(&maps[i], &mods[j]))
                break;
        if (j < nmods)
            continue;
        module *m = &mods[nmods++];
        m->path = intern(F, maps[i].path);
        m->ino = maps[i].ino;
        m->maj = maps[i].maj;
        m->min = maps[i].min;
        m->first = k;
        for (size_t q = i; q < nmaps; q++)
            if (module_cmp_key(&maps[q], m)) {
                order[k++] = q;
                if (maps[q].off == 0 && !m->have_base) {
                    m->have_base = 1;
                    m->base = maps[q].start;
                    m->base_end = maps[q].end;
                }
            }
        m->count = k - m->first;
        if (!m->path) {
            status = PT_EXIT_USAGE;
            goto out;
        }
    }
    const char *pause_env = getenv("POOLTAG_FIND_TEST_PAUSE");
    int paused = 0;
    for (size_t j = 0; j < nmods && !F->exited; j++) {
        module *m = &mods[j];
        uint8_t magic[4];
        int elf = 0;
        if (m->have_base) {
            ssize_t r = ptp_pread(memfd, magic, 4, m->base);
            if (r != 4 && !ptp_alive(pid, 0)) {
                F->exited = 1;
                break;
            }
            elf = r == 4 && fe_is_elf(magic, 4);
        }
        if (!elf && !F->all_files) {
            F->not_elf++;
            continue;
        }
        size_t from_code = F->code.n, from_data = F->data.n;
        uint64_t before = F->code.total + F->data.total;
        for (size_t q = 0; q < m->count; q++) {
            const mapping *mp = &maps[order[m->first + q]];
            if (mp->perms[0] != 'r')
                continue;
            if (scan_mapping(F, memfd, mp, m->path, buf) < 0) {
                F->exited = 1;
                break;
            }
        }
        F->scanned++;
        if (F->code.total + F->data.total > before)
            F->files_hit++;
        name_module_hits(F, m, sc, from_code, from_data);
        if (pause_env && *pause_env == '1' && !paused) {
            /* Test hook (tests/find_errors.sh): stop after the first
             * module so the test can end the process mid-scan. */
            paused = 1;
            raise(SIGSTOP);
        }
    }
out:
    ptp_target_close(&t);   /* memfd, text */
    free(buf);
    free(order);
    free(mods);
    for (size_t i = 0; i < nmaps; i++)
        free(paths[i]);
    free(paths);
    free(maps);
    sym_free(sc);
    return status;
}

/* Is file offset off in an executable PT_LOAD of the ELF file fd? (The
 * protection of a mapping gcore left out, which the core does not give.) */
static int offset_is_code(int fd, uint64_t off)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || !fe_is_elf(&eh, sizeof eh) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum > 256)
        return 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
            return 0;
        if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && off >= (ph.p_offset & ~0xfffull) &&
            off < ph.p_offset + ph.p_filesz)
            return 1;
    }
    return 0;
}

/* A core: the modules of the pim (NT_FILE, build-ids from the dumped
 * headers), each mapping scanned in the core's bytes; the pages the dumper
 * left out (gcore writes no read-only file mapping, the kernel only the
 * first page of one) are read from the module's file when its build-id is
 * the core's, else left out of the scan with a note on stderr. */
static int scan_core(finder *F, const char *path)
{
    char err[512];
    pim *p;
    if (pim_open_core(path, 0, &p, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        return PT_EXIT_USAGE;
    }
    F->core = path;
    F->pid = p->pid;
    snprintf(F->comm, sizeof F->comm, "%s", p->comm);
    sym_ctx *sc = pim_symbols(p, 0);
    if (!sc) {
        pim_close(p);
        cli_err(VERB, "out of memory");
        return PT_EXIT_USAGE;
    }
    pim_symbols_warn(sc, VERB);
    for (size_t j = 0; j < p->nmodules; j++) {
        const pim_module *pm = &p->modules[j];
        sym_modinfo mi;
        sym_module_info(sc, j, SYM_INFO_FILE, &mi);
        module m;
        memset(&m, 0, sizeof m);
        m.path = intern(F, pm->path);
        if (!m.path)
            break;
        struct stat st;
        int fd = -1;
        if (mi.usable > 0 && stat(pm->path, &st) == 0) {
            m.ino = (uint64_t)st.st_ino; /* the file is the core's: name hits from it */
            fd = open(pm->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        }
        size_t from_code = F->code.n, from_data = F->data.n;
        uint64_t before = F->code.total + F->data.total, missing = 0;
        for (size_t i = 0; i < p->nregions; i++) {
            const pim_region *r = &p->regions[i];
            if (!(r->flags & PIM_RF_FILE) || strcmp(r->path, pm->path) != 0 ||
                (!(r->prot & PIM_R) && !(r->flags & PIM_RF_NOPHDR)))
                continue;
            uint64_t size = r->end - r->start;
            size_t have = 0;
            const uint8_t *bytes = pim_bytes(p, r, 0, (size_t)r->avail, NULL, &have);
            uint8_t *img = NULL;
            size_t len = (size_t)r->avail;
            if (r->avail < size && fd >= 0 && size <= (1ull << 32) && (img = malloc(size))) {
                if (r->avail && bytes)
                    memcpy(img, bytes, (size_t)r->avail);
                ssize_t got = pread(fd, img + r->avail, size - r->avail, r->offset + r->avail);
                len = (size_t)r->avail + (got > 0 ? (size_t)got : 0);
                bytes = img;
            }
            if (len < size)
                missing += size - len;
            if (len) {
                mapping mp = {r->start, r->start + len, r->offset, m.ino, 0, 0, "r--p",
                              (char *)m.path};
                /* gcore leaves out read-only file mappings: code among them */
                if ((r->prot & PIM_X) ||
                    ((r->flags & PIM_RF_NOPHDR) && fd >= 0 && offset_is_code(fd, r->offset)))
                    mp.perms[2] = 'x';
                mem_ctx c = {F, -1, &mp, m.path, bytes, r->start, len};
                fs_scan(bytes, len, F->needle, r->start, on_mem_hit, &c);
            }
            free(img);
        }
        if (fd >= 0)
            close(fd);
        if (missing)
            cli_err(VERB, "warning: %s: %" PRIu64 " bytes of its mappings are not in the core "
                    "and %s: not scanned", cli_esc(pm->path), missing,
                    mi.usable > 0 ? "could not be read from its file"
                                  : "its file is not the one the core mapped");
        F->scanned++;
        if (F->code.total + F->data.total > before)
            F->files_hit++;
        name_module_hits(F, &m, sc, from_code, from_data);
    }
    sym_free(sc);
    pim_close(p);
    return PT_EXIT_OK;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

static void fmt_addr(char *buf, size_t n, uint64_t a)
{
    snprintf(buf, n, "%08" PRIx32 "`%08" PRIx32, (uint32_t)(a >> 32), (uint32_t)a);
}

/* "46 78 54 77 e8 bc fe ff-ff 48 85 c0 ..  FxTw....." (debugger's db) */
static void fmt_dump(char *buf, size_t n, const hit *h, char *ascii, size_t an)
{
    size_t pos = 0;
    for (unsigned i = 0; i < 16 && pos + 4 < n; i++) {
        if (i < h->ndump)
            pos += (size_t)snprintf(buf + pos, n - pos, "%s%02x", i == 0 ? "" : i == 8 ? "-" : " ",
                                    h->dump[i]);
        else
            pos += (size_t)snprintf(buf + pos, n - pos, "%s  ", i == 0 ? "" : " ");
    }
    size_t a = 0;
    for (unsigned i = 0; i < h->ndump && a + 1 < an; i++)
        ascii[a++] = h->dump[i] >= 0x20 && h->dump[i] < 0x7f ? (char)h->dump[i] : '.';
    ascii[a] = 0;
}

static void fmt_name(char *buf, size_t n, const hit *h)
{
    const char *mod = basename_of(h->where);
    if (h->symbol)
        snprintf(buf, n, "%s!%s+0x%" PRIx64 "%s%s", mod, h->symbol, h->symoff,
                 h->past_end ? " (past its end)" : "", h->dynsym ? " (.dynsym)" : "");
    else
        snprintf(buf, n, "%s [%s]", mod, h->note ? h->note : "no symbol");
}

/* A hit, described once: two lines in the table (the hit, then its address
 * and 16 bytes), one object in the JSON.  Cells without a JSON key are the
 * table's own text; the JSON's other members follow the cells. */
enum { H_KIND, H_NAME, H_SECTION, H_ADDR, H_OFFSET, H_SRC, H_FILE, H_DBADDR, H_DUMP, H_ASCII,
       H_COUNT };
static const emit_col hit_cols[H_COUNT] = {
    [H_KIND] = {"kind", 0, EMIT_LEFT, ""},
    [H_NAME] = {NULL, 0, EMIT_LEFT, "  "},
    [H_SECTION] = {NULL, 0, EMIT_LEFT, "  "},
    [H_ADDR] = {NULL, 0, EMIT_LEFT, "  "},
    [H_OFFSET] = {NULL, 0, EMIT_LEFT, "  "},
    [H_SRC] = {NULL, 0, EMIT_LEFT, ""},          /* "  file:line", or nothing */
    [H_FILE] = {"file", 0, EMIT_LEFT, "  "},
    [H_DBADDR] = {NULL, 0, EMIT_LEFT, "\n      "},
    [H_DUMP] = {"dump", 0, EMIT_LEFT, "  "},
    [H_ASCII] = {NULL, 0, EMIT_LEFT, "  "},
};

/* A table-only cell whose text is the verb's own (not escaped again). */
static void text_cell(emitter *e, int col, const char *text)
{
    emit_col_u64_as(e, col, 0, text);
}

static void kv_hex(emitter *e, const char *key, int have, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    emit_kv_str(e, key, have ? b : NULL);
}

static void emit_hit(emitter *e, const finder *F, const hit *h)
{
    char name[1024], dump[64], ascii[20], addr[24], text[CLI_ESC_MAX + 32];
    fmt_name(name, sizeof name, h);
    fmt_dump(dump, sizeof dump, h, ascii, sizeof ascii);
    fmt_addr(addr, sizeof addr, h->have_addr ? h->addr : h->off);
    emit_row_begin(e);
    emit_col_str(e, H_KIND, h->code ? "code" : "data");
    emit_col_str(e, H_NAME, name);
    if (h->section)
        emit_col_str(e, H_SECTION, h->section);
    else
        text_cell(e, H_SECTION, "-");
    if (h->have_addr)
        snprintf(text, sizeof text, "addr 0x%" PRIx64, h->addr);
    else
        snprintf(text, sizeof text, "addr -");
    text_cell(e, H_ADDR, text);
    snprintf(text, sizeof text, "offset 0x%" PRIx64, h->off);
    text_cell(e, H_OFFSET, text);
    if (h->srcfile) {
        snprintf(text, sizeof text, "  %s:%d", cli_esc(h->srcfile), h->line);
        text_cell(e, H_SRC, text);
    }
    emit_col_str(e, H_FILE, h->where);
    text_cell(e, H_DBADDR, addr);
    emit_col_str(e, H_DUMP, dump);
    text_cell(e, H_ASCII, ascii);

    emit_kv_str(e, "module", basename_of(h->where));
    emit_kv_str(e, "section", h->section);
    kv_hex(e, "address", h->have_addr, h->addr);
    if (F->pid)
        kv_hex(e, "module_address", h->have_modaddr, h->modaddr);
    emit_kv_u64(e, "offset", h->off);
    emit_kv_str(e, "symbol", h->symbol);
    if (h->symbol) {
        emit_kv_u64(e, "symbol_offset", h->symoff);
        emit_kv_bool(e, "past_end", h->past_end);
        emit_kv_bool(e, "from_dynsym", h->dynsym);
    } else {
        emit_kv_null(e, "symbol_offset");
        emit_kv_null(e, "past_end");
        emit_kv_null(e, "from_dynsym");
    }
    emit_kv_str(e, "name", name);
    emit_kv_str(e, "source_file", h->srcfile);
    if (h->srcfile)
        emit_kv_i64(e, "line", h->line);
    else
        emit_kv_null(e, "line");
    emit_kv_str(e, "note", h->note);
    emit_kv_str(e, "ascii", ascii);
    emit_row_end(e);
}

static void print_report(const finder *F, char **paths, int npaths, emit_mode mode)
{
    uint64_t total = F->code.total + (F->code_only ? 0 : F->data.total);
    size_t shown = F->code.n + F->data.n;
    const char *unit = F->pid ? "module" : "file";
    char key[32], bytes[16];
    emitter em, *e = &em;
    emit_init(e, stdout, mode);
    emit_begin(e);
    snprintf(bytes, sizeof bytes, "%02x %02x %02x %02x", F->needle[0], F->needle[1],
             F->needle[2], F->needle[3]);
    emit_text(e, "Tag '%s': bytes %s (0x%08" PRIx32 " as a little-endian value)", F->tagtext,
              bytes, F->value);
    emit_kv_tag(e, "tag", F->value);
    emit_kv_str(e, "tag_bytes", bytes);
    emit_kv_u64(e, "tag_value", F->value);
    emit_arr_begin(e, "sources");
    for (int i = 0; i < npaths; i++)
        emit_kv_str(e, NULL, paths[i]);
    emit_arr_end(e);
    if (F->core) {
        emit_text(e, " in core %s of process %" PRIu32 " (%s)", cli_esc(F->core), F->pid,
                  cli_esc(F->comm));
        emit_obj_begin(e, "process");
        emit_kv_u64(e, "pid", F->pid);
        emit_kv_str(e, "comm", F->comm);
        emit_kv_bool(e, "exited", 0);
        emit_obj_end(e);
    } else if (F->pid) {
        emit_text(e, " in process %" PRIu32 " (%s)", F->pid, cli_esc(F->comm));
        emit_obj_begin(e, "process");
        emit_kv_u64(e, "pid", F->pid);
        emit_kv_str(e, "comm", F->comm);
        emit_kv_bool(e, "exited", F->exited);
        emit_obj_end(e);
    } else {
        emit_kv_null(e, "process");
    }
    emit_text(e, "\n\n");
    emit_kv_bool(e, "code_only", F->code_only);
    emit_table_begin(e, hit_cols, H_COUNT);
    emit_arr_begin(e, "hits");
    for (size_t i = 0; i < F->code.n; i++)
        emit_hit(e, F, &F->code.v[i]);
    for (size_t i = 0; i < F->data.n; i++)
        emit_hit(e, F, &F->data.v[i]);
    emit_arr_end(e);
    if (shown)
        emit_text(e, "\n");
    emit_text(e, "%" PRIu64 " hit%s (%" PRIu64 " code, %" PRIu64 " data%s) in %" PRIu64 " %s%s; ",
              total, total == 1 ? "" : "s", F->code.total, F->data.total,
              F->code_only && F->data.total ? " not shown: --code-only" : "", F->files_hit, unit,
              F->files_hit == 1 ? "" : "s");
    emit_text(e, "%" PRIu64 " %s%s%s scanned, %" PRIu64 " not ELF ignored, %" PRIu64 " skipped\n",
              F->scanned, F->all_files ? "" : "ELF ", unit, F->scanned == 1 ? "" : "s",
              F->not_elf, F->skipped);
    if (shown < total)
        emit_text(e, "showing the first %zu of each kind (--max N shows more)\n", F->max);
    if (F->exited)
        emit_text(e, "process %" PRIu32 " exited during the scan: the hits above are from the "
                     "modules read before it did\n",
                  F->pid);
    emit_kv_u64(e, "total", total);
    emit_kv_u64(e, "code", F->code.total);
    emit_kv_u64(e, "data", F->data.total);
    emit_kv_u64(e, "shown", shown);
    snprintf(key, sizeof key, "%ss_with_hits", unit);
    emit_kv_u64(e, key, F->files_hit);
    snprintf(key, sizeof key, "%ss_scanned", unit);
    emit_kv_u64(e, key, F->scanned);
    emit_kv_u64(e, "not_elf", F->not_elf);
    emit_kv_u64(e, "skipped", F->skipped);
    emit_end(e);
}

/* ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("Usage: pooltag find [options] TAG PATH...\n"
          "       pooltag find [options] TAG PID|CORE\n"
          "\n"
          "Where the tag's four bytes occur: in ELF files (PATHs: files, and\n"
          "directories searched recursively) or in the modules mapped into a\n"
          "running process (PID, read through /proc/PID/mem) or of a core file\n"
          "(CORE: its mappings, and the pages the dumper left out read from the\n"
          "module's file when its build-id is the core's).  Each hit names the\n"
          "file or module, its address (the file's own virtual address, or the\n"
          "live address in the process), the file offset, the section, the\n"
          "nearest symbol (module!symbol+0xoff) and shows 16 bytes from the hit.\n"
          "Hits in executable sections (the tag as an immediate operand, as in\n"
          "`mov edx, 0x6b61654c`) are marked code and listed first.\n"
          "\n"
          "TAG is text (Leak, Se = \"Se  \", \\xNN escapes) searched as its four\n"
          "bytes in memory order; with --hex it is a 32-bit value (0x6b61654c).\n"
          "An all-digit operand is a PID (write ./123 for a file named 123).\n"
          "\n"
          "  -c, --code-only    only hits in executable sections\n"
          "  -a, --all-files    scan every file, not only ELF files\n"
          "  -n, --max N        keep the first N code and N data hits (default 1000;\n"
          "                     all hits are counted)\n"
          "      --hex          TAG is a hexadecimal value, not text\n"
          "      --json         the hits as JSON\n"
          "  -h, --help         this text\n"
          "\n"
          "Directories are walked without following symbolic links (links named\n"
          "on the command line are followed).  Files that cannot be read are\n"
          "reported on stderr (\"skipped: PATH: reason\") and the scan goes on.\n"
          "Exit status 0 hits found, 1 no hit, 2 usage or input error (also when\n"
          "nothing could be scanned).\n",
          f);
}

static int parse_hex32(const char *s, uint32_t *out)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    size_t n = strlen(s);
    if (n == 0 || n > 8 || strspn(s, "0123456789abcdefABCDEF") != n)
        return -1;
    *out = (uint32_t)strtoul(s, NULL, 16);
    return 0;
}

int cmd_find(int argc, char **argv)
{
    static const struct option opts[] = {
        {"code-only", no_argument, NULL, 'c'},
        {"all-files", no_argument, NULL, 'a'},
        {"max", required_argument, NULL, 'n'},
        {"hex", no_argument, NULL, 'x'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    finder F;
    memset(&F, 0, sizeof F);
    F.max = DEFAULT_MAX;
    int hex = 0, c;
    uint64_t u;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":can:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': F.code_only = 1; break;
        case 'a': F.all_files = 1; break;
        case 'n':
            if (cli_parse_u64(optarg, &u) < 0 || u == 0 || u > 100000000) {
                cli_err(VERB, "--max wants a number of hits from 1 to 100000000, not '%s'",
                        optarg);
                return PT_EXIT_USAGE;
            }
            F.max = (size_t)u;
            break;
        case 'x': hex = 1; break;
        case 'j': F.json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_err(VERB, "missing TAG and what to search: a PID or PATHs (see pooltag find --help)");
        return PT_EXIT_USAGE;
    }
    const char *tagarg = argv[optind++];
    if (hex) {
        if (parse_hex32(tagarg, &F.value) < 0) {
            cli_err(VERB, "bad value '%s': --hex wants up to 8 hex digits, e.g. 0x6b61654c",
                    tagarg);
            return PT_EXIT_USAGE;
        }
    } else if (pt_tag_parse(tagarg, &F.value) < 0) {
        cli_err(VERB, "bad tag '%s': 1 to 4 characters, \\xNN escapes allowed", tagarg);
        return PT_EXIT_USAGE;
    }
    for (int i = 0; i < 4; i++)
        F.needle[i] = (uint8_t)(F.value >> (8 * i));
    cli_tag(F.value, F.tagtext);
    if (optind >= argc) {
        cli_err(VERB, "missing what to search after TAG: a PID, or files and directories "
                      "(see pooltag find --help)");
        return PT_EXIT_USAGE;
    }
    int npids = 0, npaths = argc - optind;
    char **paths = argv + optind;
    for (int i = 0; i < npaths; i++) {
        if (!*paths[i]) {
            cli_err(VERB, "empty PATH argument");
            return PT_EXIT_USAGE;
        }
        if (strspn(paths[i], "0123456789") == strlen(paths[i]))
            npids++;
    }
    if (npids && npaths > 1) {
        cli_err(VERB, "give one PID or PATHs, not both or several PIDs (a file named "
                      "with digits: ./%s)",
                paths[0]);
        return PT_EXIT_USAGE;
    }
    int status;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    if (npids) {
        uint64_t pid;
        if (cli_parse_u64(paths[0], &pid) < 0 || pid > UINT32_MAX) {
            cli_err(VERB, "no process with PID %s", paths[0]);
            return PT_EXIT_USAGE;
        }
        status = scan_pid(&F, (uint32_t)pid);
        if (status != PT_EXIT_OK)
            goto done;
    } else if (npaths == 1 && pim_file_is_core(paths[0])) {
        status = scan_core(&F, paths[0]);
        if (status != PT_EXIT_OK)
            goto done;
    } else {
        F.buf = malloc(SCAN_BUF + 3);
        if (!F.buf) {
            cli_err(VERB, "out of memory");
            return PT_EXIT_USAGE;
        }
        for (int i = 0; i < npaths; i++)
            scan_path(&F, paths[i]);
        if (F.scanned == 0 && F.skipped > 0) {
            cli_err(VERB, "nothing could be scanned (%" PRIu64 " skipped)", F.skipped);
            status = PT_EXIT_USAGE;
            goto done;
        }
    }
    if (F.oom) {
        cli_err(VERB, "out of memory");
        status = PT_EXIT_USAGE;
        goto done;
    }
    if (F.exited)
        cli_err(VERB, "process %" PRIu32 " exited during the scan; results are partial",
                F.pid);
    print_report(&F, paths, npaths, F.json ? EMIT_JSON : EMIT_TABLE);
    status = F.code.total + (F.code_only ? 0 : F.data.total) ? PT_EXIT_OK : PT_EXIT_FINDING;
    if (fflush(stdout) != 0)
        status = PT_EXIT_USAGE;
done:
    free_list(&F.code);
    free_list(&F.data);
    for (size_t i = 0; i < F.nnames; i++)
        free(F.names[i]);
    free(F.names);
    free(F.buf);
    return status;
}
