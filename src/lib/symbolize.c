/*
 * symbolize.c — addresses to names with elfutils' libdwfl (symbolize.h).
 *
 * Data model: an array of sym_mod, in the order they were added.  Each
 * holds its own Dwfl session with exactly one module reported with
 * dwfl_report_elf, opened lazily (state 0 = not tried, 1 = usable,
 * -1 = failed, with the reason in `note`).  elfutils owns every ELF and
 * DWARF byte we look at; this file only decides which file describes which
 * address.
 *
 * Load bias: libdwfl computes it from the base we pass.  A base from the
 * preload's module table is l_addr, the bias itself (add_p_vaddr = true:
 * the file's p_vaddr are added to it).  A base from /proc/PID/maps is the
 * start of the mapping at file offset 0, i.e. where the first PT_LOAD
 * landed (add_p_vaddr = false: libdwfl subtracts that segment's p_vaddr).
 * Both give bias = start - p_vaddr(first PT_LOAD) for PIE executables and
 * shared objects, and 0 for ET_EXEC files (libdwfl ignores the base).
 */
#include "symbolize.h"

#include "procfs.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_MAX 256
#define BUILD_ID_MAX 64

typedef struct sym_mod {
    char *path;         /* as the process knew it                        */
    char *open_path;    /* where to read it, NULL = path                 */
    const char *name;   /* last component of path                        */
    uint64_t base, start, end;
    uint8_t build_id[BUILD_ID_MAX];
    size_t build_id_len;
    unsigned flags;     /* SYM_*                                         */
    int deleted;        /* maps said "(deleted)"                          */
    int state;          /* 0 not tried, 1 usable, -1 failed              */
    Dwfl *dwfl;
    Dwfl_Module *mod;
    uint64_t bias;      /* once usable                                   */
    int dwarf;          /* 0 not looked up, 1 found, -1 none (sym_module_info) */
    char note[NOTE_MAX];
} sym_mod;

struct sym_ctx {
    sym_mod *m;
    size_t n, cap;
};

static char *debuginfo_path; /* NULL: elfutils' default ":.debug:/usr/lib/debug" */

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf, /* not used: every module is reported
                                           with its file */
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

sym_ctx *sym_new(int network)
{
    if (!network)
        unsetenv("DEBUGINFOD_URLS");
    return calloc(1, sizeof(sym_ctx));
}

void sym_free(sym_ctx *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->m[i].dwfl)
            dwfl_end(c->m[i].dwfl);
        free(c->m[i].path);
        free(c->m[i].open_path);
    }
    free(c->m);
    free(c);
}

size_t sym_nmodules(const sym_ctx *c)
{
    return c ? c->n : 0;
}

int sym_add_module(sym_ctx *c, const char *path, const char *open_path, uint64_t base,
                   uint64_t start, uint64_t end, const uint8_t *build_id, size_t build_id_len,
                   unsigned flags)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        sym_mod *nm = realloc(c->m, cap * sizeof *nm);
        if (!nm)
            return -1;
        c->m = nm;
        c->cap = cap;
    }
    sym_mod *m = &c->m[c->n];
    memset(m, 0, sizeof *m);
    m->path = strdup(path);
    m->open_path = open_path ? strdup(open_path) : NULL;
    if (!m->path || (open_path && !m->open_path)) {
        free(m->path);
        free(m->open_path);
        return -1;
    }
    const char *slash = strrchr(m->path, '/');
    m->name = slash && slash[1] ? slash + 1 : m->path;
    m->base = base;
    m->start = start;
    m->end = end;
    m->flags = flags;
    if (build_id && build_id_len && build_id_len <= BUILD_ID_MAX) {
        memcpy(m->build_id, build_id, build_id_len);
        m->build_id_len = build_id_len;
    }
    c->n++;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* /proc/PID/maps                                                         */

typedef struct map_file {
    uint64_t start, end, base;
    int have_base;          /* saw the mapping at file offset 0           */
    unsigned dev_major, dev_minor;
    uint64_t inode;
    uint64_t base_end;      /* end of the offset-0 mapping (map_files)    */
    char *path;             /* as shown, " (deleted)" removed             */
    int deleted;
} map_file;

int sym_add_maps_text(sym_ctx *c, const char *text, uint32_t pid)
{
    map_file *f = NULL;
    size_t nf = 0, capf = 0;
    int added = 0, oom = 0;

    ptp_maps it;
    ptp_map m;
    ptp_maps_text(&it, text);
    while (ptp_maps_next(&it, &m)) {
        uint64_t start = m.start, end = m.end, off = m.offset, ino = m.inode;
        unsigned maj = m.dev_major, min = m.dev_minor;
        char *path = m.path;
        /* Files only: not [heap], [stack], [vdso], anonymous memory, the
         * pooltag segment or any other memfd, or device mappings. */
        if (!ptp_map_is_file(&m))
            continue;
        int deleted = m.deleted;
        path[m.pathlen] = 0;
        map_file *mf = NULL;
        for (size_t i = 0; i < nf; i++)
            if (f[i].inode == ino && f[i].dev_major == maj && f[i].dev_minor == min &&
                strcmp(f[i].path, path) == 0) {
                mf = &f[i];
                break;
            }
        if (!mf) {
            if (nf == capf) {
                size_t cap = capf ? capf * 2 : 64;
                map_file *nfp = realloc(f, cap * sizeof *nfp);
                if (!nfp) {
                    oom = 1;
                    break;
                }
                f = nfp;
                capf = cap;
            }
            mf = &f[nf];
            memset(mf, 0, sizeof *mf);
            mf->path = strdup(path);
            if (!mf->path) {
                oom = 1;
                break;
            }
            nf++;
            mf->start = start;
            mf->end = end;
            mf->inode = ino;
            mf->dev_major = maj;
            mf->dev_minor = min;
            mf->deleted = deleted;
        }
        if (start < mf->start)
            mf->start = start;
        if (end > mf->end)
            mf->end = end;
        if (off == 0 && (!mf->have_base || start < mf->base)) {
            mf->base = start;
            mf->base_end = end;
            mf->have_base = 1;
        }
    }
    for (size_t i = 0; i < nf && !oom; i++) {
        if (!f[i].have_base)
            continue; /* no ELF header mapped: not a loaded object */
        char mfpath[96], *open_path = NULL;
        if (f[i].deleted && pid) {
            ptp_map_files_path(mfpath, sizeof mfpath, pid, f[i].base, f[i].base_end);
            open_path = mfpath;
        }
        if (sym_add_module(c, f[i].path, open_path, f[i].base, f[i].start, f[i].end, NULL, 0,
                           SYM_BASE_IS_START) < 0) {
            oom = 1;
            break;
        }
        c->m[c->n - 1].deleted = f[i].deleted;
        added++;
    }
    for (size_t i = 0; i < nf; i++)
        free(f[i].path);
    free(f);
    return oom ? -1 : added;
}

int sym_add_proc_maps(sym_ctx *c, uint32_t pid, char *err, size_t errlen)
{
    char path[PTP_PATH_SIZE];
    ptp_path(path, sizeof path, pid, "maps");
    char *text = ptp_read_text(pid, "maps", PTP_MAPS_MAX, NULL);
    if (!text) {
        if (errno == EFBIG || errno == ENOMEM)
            snprintf(err, errlen, "cannot read %s: %s", path, "out of memory or too large");
        else
            snprintf(err, errlen, "cannot read %s: %m", path);
        return -1;
    }
    int added = sym_add_maps_text(c, text, pid);
    free(text);
    if (added < 0)
        snprintf(err, errlen, "out of memory reading %s", path);
    return added;
}

/* ---------------------------------------------------------------------- */
/* Lookup                                                                 */

static void mod_fail(sym_mod *m, const char *fmt, const char *a, const char *b)
{
    snprintf(m->note, sizeof m->note, fmt, a, b);
    if (m->dwfl)
        dwfl_end(m->dwfl);
    m->dwfl = NULL;
    m->mod = NULL;
    m->state = -1;
}

/* Open the module's file in its own Dwfl session; 1 if usable. */
static int mod_open(sym_mod *m)
{
    if (m->state)
        return m->state > 0;
    if (m->path[0] != '/' && !m->open_path) {
        /* linux-vdso.so.1 and the like: never a file of the current
         * directory that happens to have the name. */
        mod_fail(m, "provided by the kernel or the loader: no file%s%s", "", "");
        return 0;
    }
    m->dwfl = dwfl_begin(&callbacks);
    if (!m->dwfl) {
        mod_fail(m, "libdwfl: %s%s", dwfl_errmsg(-1), "");
        return 0;
    }
    dwfl_report_begin(m->dwfl);
    const char *file = m->open_path ? m->open_path : m->path;
    int add_p_vaddr = !(m->flags & SYM_BASE_IS_START);
    m->mod = dwfl_report_elf(m->dwfl, m->name, file, -1, m->base, add_p_vaddr);
    if (dwfl_report_end(m->dwfl, NULL, NULL) != 0 || !m->mod) {
        if (m->deleted)
            mod_fail(m, "%s was deleted or replaced since it was mapped%s", m->path, "");
        else
            mod_fail(m, "cannot read %s: %s", m->path, dwfl_errmsg(-1));
        return 0;
    }
    Dwarf_Addr bias = 0;
    if (!dwfl_module_getelf(m->mod, &bias)) {
        mod_fail(m, "cannot read %s: %s", m->path, dwfl_errmsg(-1));
        return 0;
    }
    if (m->build_id_len) {
        const unsigned char *bits = NULL;
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(m->mod, &bits, &vaddr);
        if (n <= 0 || (size_t)n != m->build_id_len || memcmp(bits, m->build_id, (size_t)n) != 0) {
            mod_fail(m, "%s changed since it was loaded (build-id differs)%s", m->path, "");
            return 0;
        }
    }
    m->bias = bias;
    m->state = 1;
    return 1;
}

/* The line of `addr` when libdwfl's own lookup finds no compilation unit:
 * elfutils 0.188 finds units through .debug_aranges, which clang does not
 * emit.  Walk the units and ask libdw which one covers the address. */
static const char *line_by_units(Dwfl_Module *mod, Dwarf_Addr addr, int *lineno)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = NULL;
    while ((cu = dwfl_module_nextcu(mod, cu, &bias)) != NULL) {
        if (dwarf_haspc(cu, addr - bias) <= 0)
            continue;
        Dwarf_Line *l = dwarf_getsrc_die(cu, addr - bias);
        if (!l || dwarf_lineno(l, lineno) != 0)
            return NULL;
        return dwarf_linesrc(l, NULL, NULL);
    }
    return NULL;
}

/* Lookup pass of a module: preferred, loaded, unloaded. */
static unsigned lookup_pass(const sym_mod *m)
{
    return (m->flags & SYM_PREFERRED) ? 0 : (m->flags & SYM_UNLOADED) ? 2 : 1;
}

void sym_lookup(sym_ctx *c, uint64_t addr, int return_addr, sym_info *out)
{
    memset(out, 0, sizeof *out);
    uint64_t q = return_addr && addr ? addr - 1 : addr;
    sym_mod *first = NULL;
    const char *first_note = NULL;
    for (unsigned pass = 0; pass < 3; pass++) {
        for (size_t i = 0; c && i < c->n; i++) {
            sym_mod *m = &c->m[i];
            if (lookup_pass(m) != pass || q < m->start || q >= m->end)
                continue;
            if (!first)
                first = m;
            if (!mod_open(m))
                continue;
            /* The file must cover the address where the process had it. */
            if (dwfl_addrmodule(m->dwfl, q) != m->mod) {
                if (first == m)
                    first_note = "the file has no segment at this address (replaced "
                                 "since it was mapped?)";
                continue;
            }
            out->module = m->name;
            out->path = m->path;
            out->modoff = addr - m->bias;
            GElf_Off off = 0;
            GElf_Sym sym;
            const char *name = dwfl_module_addrinfo(m->mod, q, &off, &sym, NULL, NULL, NULL);
            if (name && *name) {
                out->symbol = name;
                out->symoff = off + (addr - q);
            }
            Dwfl_Line *line = dwfl_module_getsrc(m->mod, q);
            int lineno = 0;
            const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL)
                                    : line_by_units(m->mod, q, &lineno);
            if (file && *file) {
                out->file = file;
                out->line = lineno;
            }
            return;
        }
    }
    if (first) {
        /* Named by its module only; the offset is from the load bias when
         * it is known (module table), else from the module's start. */
        out->module = first->name;
        out->path = first->path;
        out->modoff = addr - first->base;
        out->note = first->note[0] ? first->note : first_note;
    }
}

/* ---------------------------------------------------------------------- */
/* Per-module access (lm, ln, imports)                                    */

int sym_module_info(sym_ctx *c, size_t i, unsigned what, sym_modinfo *out)
{
    memset(out, 0, sizeof *out);
    out->debuginfo = -1;
    if (!c || i >= c->n)
        return -1;
    sym_mod *m = &c->m[i];
    out->name = m->name;
    out->path = m->path;
    out->base = m->base;
    out->start = m->start;
    out->end = m->end;
    out->flags = m->flags;
    if (!(what & SYM_INFO_FILE)) {
        out->usable = -1;
        if (m->build_id_len) {
            out->build_id = m->build_id;
            out->build_id_len = m->build_id_len;
        }
        return 0;
    }
    if (!mod_open(m)) {
        if (m->build_id_len) {
            out->build_id = m->build_id;
            out->build_id_len = m->build_id_len;
        }
        out->note = m->note[0] ? m->note : NULL;
        return 0;
    }
    out->usable = 1;
    out->bias = m->bias;
    const unsigned char *bits = NULL;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(m->mod, &bits, &vaddr);
    if (n > 0) {
        out->build_id = bits;
        out->build_id_len = (size_t)n;
    }
    if ((what & SYM_INFO_DEBUG) == SYM_INFO_DEBUG) {
        if (!m->dwarf) {
            Dwarf_Addr b;
            m->dwarf = dwfl_module_getdwarf(m->mod, &b) ? 1 : -1;
        }
        out->debuginfo = m->dwarf > 0;
        if (m->dwarf > 0) {
            const char *mainfile = NULL, *debugfile = NULL;
            dwfl_module_info(m->mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
            out->debugfile = debugfile ? debugfile : mainfile;
        }
    }
    return 0;
}

long sym_module_at(sym_ctx *c, uint64_t addr)
{
    long first = -1;
    for (unsigned pass = 0; pass < 3; pass++) {
        for (size_t i = 0; c && i < c->n; i++) {
            sym_mod *m = &c->m[i];
            if (lookup_pass(m) != pass || addr < m->start || addr >= m->end)
                continue;
            if (first < 0)
                first = (long)i;
            if (mod_open(m) && dwfl_addrmodule(m->dwfl, addr) == m->mod)
                return (long)i;
        }
    }
    return first;
}

struct Elf *sym_module_elf(sym_ctx *c, size_t i, uint64_t *bias)
{
    if (!c || i >= c->n || !mod_open(&c->m[i]))
        return NULL;
    Dwarf_Addr b = 0;
    Elf *e = dwfl_module_getelf(c->m[i].mod, &b);
    if (bias)
        *bias = b;
    return e;
}

static int bind_rank(int bind)
{
    switch (bind) {
    case STB_GLOBAL: return 3;
    case STB_WEAK:
    case STB_GNU_UNIQUE: return 2;
    default: return 1;
    }
}

void sym_nearest(sym_ctx *c, size_t i, uint64_t addr, sym_near *out)
{
    memset(out, 0, sizeof *out);
    if (!c || i >= c->n || !mod_open(&c->m[i]))
        return;
    sym_mod *m = &c->m[i];
    int n = dwfl_module_getsymtab(m->mod);
    int brank = 0, arank = 0;
    for (int k = 1; k < n; k++) {
        GElf_Sym sym;
        GElf_Addr a = 0;
        GElf_Word shndx = 0;
        const char *name = dwfl_module_getsym_info(m->mod, k, &sym, &a, &shndx, NULL, NULL);
        int type = GELF_ST_TYPE(sym.st_info);
        if (!name || !*name || shndx == SHN_UNDEF || a < m->start || a >= m->end ||
            (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT))
            continue;
        int rank = bind_rank(GELF_ST_BIND(sym.st_info));
        if (a <= addr) {
            if (!out->before || a > out->before_addr || (a == out->before_addr && rank > brank)) {
                out->before = name;
                out->before_addr = a;
                brank = rank;
            }
        } else if (!out->after || a < out->after_addr ||
                   (a == out->after_addr && rank > arank)) {
            out->after = name;
            out->after_addr = a;
            arank = rank;
        }
    }
}
