/*
 * imports.c — `pooltag imports SYMBOL [PID | PATH...]`: which modules
 * import a symbol (its undefined dynamic symbol and the PLT/GOT relocation
 * that fills its slot), or with --exports which modules define it.  The
 * Windows article walks import tables by hand to find every caller of an
 * API that allocates on their behalf; this is that walk as one command.
 *
 * Data model: a list of hits (struct hit), one per (module, symbol,
 * relocation).  Files come from PATHs (files, and directories walked
 * recursively over regular files with the ELF magic; symbolic links inside
 * directories are not followed, hard links are scanned once), or from a
 * PID's mapped modules (procmods.h).  ELF reading is elfdyn.h (libelf).
 *
 * Live (PID) imports are followed into the process: the GOT slot is at
 * load bias + r_offset; its current value, read through /proc/PID/mem, is
 * named with the symbolizer (module!symbol).  The status compares it with
 * the module that defines the symbol first in the normal lookup order,
 * which is computed from the files: the main program and its DT_NEEDED
 * libraries breadth first (the global scope), then the importer and its
 * own dependencies (its local scope, as for a dlopen'ed plugin), then the
 * other modules in address order.  LD_PRELOAD libraries are not in that
 * order unless something needs them, so an interposed definition shows as
 * "redirected".  A slot that still points into the importer's own .plt is
 * "lazy" (not called yet).  Symbol versions are shown but not used for the
 * lookup order (a simplification: it compares modules, not versions).
 *
 * Exit status: 0 something listed, 1 nothing matched, 2 usage error or no
 * source could be read at all.  Files that cannot be read get one line on
 * stderr each and the scan goes on.
 */
#include "verbs.h"
#include "elfdyn.h"
#include "emit.h"
#include "procmods.h"
#include "symbolize.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *VERB = "imports";

#define MAX_DEPTH 64

typedef struct hit {
    char *path;               /* the file, or the module's path           */
    const char *name;         /* last component of path                   */
    size_t mod;               /* live: module index                       */
    char *symbol, *version, *version_file;
    int defined, hidden;
    unsigned type, bind;
    uint64_t value, size;
    uint32_t rtype;
    char rname[24];
    int plt;
    uint64_t slot;            /* r_offset, in the file's terms            */
    /* live */
    uint64_t bias;
    int read;                 /* the slot was read                        */
    uint64_t target;          /* its value                                */
    char *target_name;        /* module!symbol+0xoff, or NULL             */
    const char *provider;     /* expected definer (module name), or NULL  */
    const char *status;       /* bound, redirected, lazy, unresolved, ... */
} hit;

typedef struct scanctx {
    const char *pattern;
    unsigned what;
    hit *h;
    size_t n, cap;
    int oom;
    /* the file or module being scanned */
    const char *path;
    size_t mod;
    uint64_t bias;
    /* files */
    size_t files_scanned, errors, operands_ok;
    struct fid {
        dev_t dev;
        ino_t ino;
    } *seen;
    size_t nseen, capseen;
} scanctx;

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static int on_sym(void *arg, const ed_sym *s)
{
    scanctx *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        hit *nh = realloc(c->h, cap * sizeof *nh);
        if (!nh) {
            c->oom = 1;
            return 1;
        }
        c->h = nh;
        c->cap = cap;
    }
    hit *h = &c->h[c->n];
    memset(h, 0, sizeof *h);
    h->path = dup_or_null(c->path, &c->oom);
    h->symbol = dup_or_null(s->name, &c->oom);
    h->version = dup_or_null(s->version, &c->oom);
    h->version_file = dup_or_null(s->version_file, &c->oom);
    if (c->oom) {
        free(h->path);
        free(h->symbol);
        free(h->version);
        free(h->version_file);
        return 1;
    }
    const char *slash = strrchr(h->path, '/');
    h->name = slash && slash[1] ? slash + 1 : h->path;
    h->mod = c->mod;
    h->bias = c->bias;
    h->defined = s->defined;
    h->hidden = s->hidden;
    h->type = s->type;
    h->bind = s->bind;
    h->value = s->value;
    h->size = s->size;
    h->rtype = s->rtype;
    if (s->rname)
        snprintf(h->rname, sizeof h->rname, "%s", s->rname);
    else if (s->rtype)
        snprintf(h->rname, sizeof h->rname, "type %" PRIu32, s->rtype);
    h->plt = s->plt;
    h->slot = s->slot;
    c->n++;
    return 0;
}

static void free_hits(scanctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->h[i].path);
        free(c->h[i].symbol);
        free(c->h[i].version);
        free(c->h[i].version_file);
        free(c->h[i].target_name);
    }
    free(c->h);
    free(c->seen);
}

/* ---------------------------------------------------------------------- */
/* Files and directories                                                  */

static int seen_before(scanctx *c, const struct stat *st)
{
    for (size_t i = 0; i < c->nseen; i++)
        if (c->seen[i].dev == st->st_dev && c->seen[i].ino == st->st_ino)
            return 1;
    if (c->nseen == c->capseen) {
        size_t cap = c->capseen ? c->capseen * 2 : 64;
        struct fid *ns = realloc(c->seen, cap * sizeof *ns);
        if (!ns)
            return 0;
        c->seen = ns;
        c->capseen = cap;
    }
    c->seen[c->nseen].dev = st->st_dev;
    c->seen[c->nseen].ino = st->st_ino;
    c->nseen++;
    return 0;
}

/* Scan one file.  Returns 1 when it was read (ELF or, inside a
 * directory, skipped as not ELF), 0 when it could not be. */
static int scan_file(scanctx *c, const char *path, int named)
{
    char err[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        cli_err(VERB, "cannot read %s: %s", cli_esc(path), strerror(errno));
        c->errors++;
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        if (named) {
            cli_err(VERB, "%s: not a regular file or directory, skipped", cli_esc(path));
            c->errors++;
        }
        return !named;
    }
    if (st.st_nlink > 1 && seen_before(c, &st)) {
        close(fd);
        return 1;
    }
    unsigned char magic[4];
    if (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
        memcmp(magic, ELFMAG, SELFMAG) != 0) {
        close(fd);
        if (named) {
            cli_err(VERB, "%s: not an ELF file, skipped", cli_esc(path));
            c->errors++;
        }
        return !named;
    }
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!e) {
        cli_err(VERB, "%s: damaged ELF file (libelf: %s), skipped", cli_esc(path), elf_errmsg(-1));
        c->errors++;
        close(fd);
        return 0;
    }
    c->path = path;
    long r = ed_scan(e, c->pattern, c->what, on_sym, c, err, sizeof err);
    elf_end(e);
    close(fd);
    if (r < 0) {
        cli_err(VERB, "%s: %s, skipped", cli_esc(path), cli_esc(err));
        c->errors++;
        return 0;
    }
    c->files_scanned++;
    return 1;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(scanctx *c, const char *path, int depth);

static int walk_dir(scanctx *c, const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d) {
        cli_err(VERB, "cannot read directory %s: %s", cli_esc(path), strerror(errno));
        c->errors++;
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            de->d_type == DT_LNK)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                c->oom = 1;
                break;
            }
            names = nn;
            cap = ncap;
        }
        size_t len = strlen(path) + strlen(de->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            c->oom = 1;
            break;
        }
        snprintf(names[n], len, "%s%s%s", path,
                 path[0] && path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (!c->oom)
            walk(c, names[i], depth + 1);
        free(names[i]);
    }
    free(names);
    return 1;
}

static int walk(scanctx *c, const char *path, int depth)
{
    struct stat st;
    int named = depth == 0;
    /* A named path is followed if it is a link; links inside are not. */
    if ((named ? stat(path, &st) : lstat(path, &st)) < 0) {
        cli_err(VERB, "cannot read %s: %s", cli_esc(path), strerror(errno));
        c->errors++;
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth >= MAX_DEPTH) {
            cli_err(VERB, "%s: directories nested deeper than %d, skipped", cli_esc(path), MAX_DEPTH);
            c->errors++;
            return 0;
        }
        return walk_dir(c, path, depth);
    }
    if (S_ISLNK(st.st_mode) || (!named && !S_ISREG(st.st_mode)))
        return 1;
    return scan_file(c, path, named);
}

/* ---------------------------------------------------------------------- */
/* A live process                                                         */

typedef struct modcache {
    int done;
    Elf *e;
    uint64_t bias;
    ed_dyn dyn;
    const char **exports;
    size_t nexports;
} modcache;

typedef struct live {
    pm_proc pm;
    size_t n;
    modcache *mc;
    size_t main;
} live;

static modcache *cache(live *L, size_t i)
{
    modcache *m = &L->mc[i];
    if (!m->done) {
        char err[256];
        m->done = 1;
        if (L->pm.elf[i] != 1)
            return m;
        m->e = sym_module_elf(L->pm.sc, i, &m->bias);
        if (m->e) {
            ed_dynamic(m->e, &m->dyn, err, sizeof err);
            ed_export_names(m->e, &m->exports, &m->nexports);
        }
    }
    return m;
}

/* The module a DT_NEEDED name refers to: by soname, else by file name. */
static long module_named(live *L, const char *needed)
{
    long byname = -1;
    for (size_t i = 0; i < L->n; i++) {
        if (L->pm.elf[i] != 1)
            continue;
        modcache *m = cache(L, i);
        if (m->dyn.soname && strcmp(m->dyn.soname, needed) == 0)
            return (long)i;
        sym_modinfo mi;
        sym_module_info(L->pm.sc, i, 0, &mi);
        if (byname < 0 && strcmp(mi.name, needed) == 0)
            byname = (long)i;
    }
    return byname;
}

/* Append root and its dependencies, breadth first, to order[]. */
static void bfs(live *L, size_t root, size_t *order, size_t *norder, unsigned char *in)
{
    size_t head = *norder;
    if (!in[root]) {
        in[root] = 1;
        order[(*norder)++] = root;
    }
    while (head < *norder) {
        modcache *m = cache(L, order[head++]);
        for (size_t k = 0; k < m->dyn.nneeded; k++) {
            long j = module_named(L, m->dyn.needed[k]);
            if (j >= 0 && !in[j]) {
                in[j] = 1;
                order[(*norder)++] = (size_t)j;
            }
        }
    }
}

/* The module that defines `symbol` first in the normal lookup order seen
 * from module `importer`, or -1. */
static long provider_of(live *L, size_t importer, const char *symbol)
{
    size_t *order = calloc(L->n ? L->n : 1, sizeof *order);
    unsigned char *in = calloc(L->n ? L->n : 1, 1);
    long found = -1;
    if (order && in) {
        size_t norder = 0;
        bfs(L, L->main, order, &norder, in);
        bfs(L, importer, order, &norder, in);
        for (size_t i = 0; i < L->n; i++)
            if (!in[i] && L->pm.elf[i] == 1) {
                in[i] = 1;
                order[norder++] = i;
            }
        for (size_t k = 0; k < norder && found < 0; k++) {
            modcache *m = cache(L, order[k]);
            if (ed_defines(m->exports, m->nexports, symbol))
                found = (long)order[k];
        }
    }
    free(order);
    free(in);
    return found;
}

/* Does file address a of module i lie in a .plt* section? */
static int in_plt(Elf *e, uint64_t a)
{
    size_t shstrndx;
    if (!e || elf_getshdrstrndx(e, &shstrndx) != 0)
        return 0;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || a < sh.sh_addr || a - sh.sh_addr >= sh.sh_size)
            continue;
        const char *name = elf_strptr(e, shstrndx, sh.sh_name);
        return name && strncmp(name, ".plt", 4) == 0;
    }
    return 0;
}

/* Read each import's GOT slot and say where it points. */
static void resolve(live *L, scanctx *c)
{
    for (size_t k = 0; k < c->n && !L->pm.exited; k++) {
        hit *h = &c->h[k];
        if (h->defined)
            continue;
        if (!h->rtype) {
            h->status = "no slot";
            continue;
        }
        modcache *m = cache(L, h->mod);
        int wide = m->e && gelf_getclass(m->e) == ELFCLASS64;
        uint64_t v = 0;
        if (wide) {
            if (pm_read(&L->pm, h->bias + h->slot, &v, 8) < 0) {
                h->status = "unread";
                continue;
            }
        } else {
            uint32_t v32;
            if (pm_read(&L->pm, h->bias + h->slot, &v32, 4) < 0) {
                h->status = "unread";
                continue;
            }
            v = v32;
        }
        h->read = 1;
        h->target = v;
        long p = provider_of(L, h->mod, h->symbol);
        if (p >= 0) {
            sym_modinfo pi;
            sym_module_info(L->pm.sc, (size_t)p, 0, &pi);
            h->provider = pi.name;
        }
        if (v == 0) {
            h->status = "unresolved";
            continue;
        }
        sym_info si;
        sym_lookup(L->pm.sc, v, 0, &si);
        char buf[1024];
        if (si.module && si.symbol)
            snprintf(buf, sizeof buf, si.symoff ? "%s!%s+0x%" PRIx64 : "%s!%s", si.module,
                     si.symbol, si.symoff);
        else if (si.module)
            snprintf(buf, sizeof buf, "%s+0x%" PRIx64, si.module, si.modoff);
        else
            snprintf(buf, sizeof buf, "?");
        h->target_name = strdup(buf);
        long t = sym_module_at(L->pm.sc, v);
        if (t == (long)h->mod && in_plt(m->e, v - h->bias)) {
            h->status = "lazy";
            if (h->target_name && si.module && !si.symbol) {
                /* The PLT entries have no symbols: name the stub. */
                snprintf(buf, sizeof buf, "%s!%s@plt", si.module, h->symbol);
                free(h->target_name);
                h->target_name = strdup(buf);
            }
        }
        else if (t >= 0 && t != (long)h->mod && !si.symbol &&
                 in_plt(cache(L, (size_t)t)->e, v - cache(L, (size_t)t)->bias)) {
            /* A non-PIE program's PLT entry: the address the program gave
             * the symbol (ld.so hands it to GLOB_DAT slots everywhere); its
             * own slot says where calls go. */
            h->status = "canonical";
            snprintf(buf, sizeof buf, "%s!%s@plt", si.module, h->symbol);
            free(h->target_name);
            h->target_name = strdup(buf);
        }
        else if (t < 0)
            h->status = "outside modules";
        else if (p < 0 || t == p)
            h->status = "bound";
        else
            h->status = "redirected";
    }
}

static int scan_live(scanctx *c, live *L, const char *spec, int network)
{
    char err[512];
    uint32_t pid = 0;
    pm_is_pid(spec, &pid);
    if (pid == 0) {
        cli_err(VERB, "no process with PID %s", spec);
        return -1;
    }
    if (pm_open(&L->pm, pid, network, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        return -1;
    }
    L->n = sym_nmodules(L->pm.sc);
    L->mc = calloc(L->n ? L->n : 1, sizeof *L->mc);
    if (!L->mc) {
        c->oom = 1;
        return -1;
    }
    for (size_t i = 0; i < L->n; i++) {
        sym_modinfo mi;
        sym_module_info(L->pm.sc, i, 0, &mi);
        if (L->pm.exe[0] && strncmp(mi.path, L->pm.exe, strlen(mi.path)) == 0 &&
            (L->pm.exe[strlen(mi.path)] == 0 || L->pm.exe[strlen(mi.path)] == ' ')) {
            L->main = i;
            break;
        }
    }
    for (size_t i = 0; i < L->n && !c->oom; i++) {
        if (L->pm.elf[i] == 2) {
            sym_modinfo mi;
            sym_module_info(L->pm.sc, i, 0, &mi);
            cli_err(VERB, "%s: neither its mapping nor its file can be read, skipped", cli_esc(mi.path));
            c->errors++;
        }
        if (L->pm.elf[i] != 1)
            continue;
        sym_modinfo mi;
        sym_module_info(L->pm.sc, i, SYM_INFO_FILE, &mi);
        modcache *m = cache(L, i);
        if (!m->e) {
            cli_err(VERB, "%s: %s, skipped", cli_esc(mi.path), cli_esc(mi.note ? mi.note : "cannot read it"));
            c->errors++;
            continue;
        }
        c->path = mi.path;
        c->mod = i;
        c->bias = m->bias;
        if (ed_scan(m->e, c->pattern, c->what, on_sym, c, err, sizeof err) < 0) {
            cli_err(VERB, "%s: %s, skipped", cli_esc(mi.path), cli_esc(err));
            c->errors++;
            continue;
        }
        c->files_scanned++;
    }
    if (c->what & ED_IMPORTS) {
        resolve(L, c);
        for (size_t k = 0; k < c->n; k++)
            if (!c->h[k].defined && !c->h[k].status)
                c->h[k].status = "unread"; /* the process exited first */
    }
    return 0;
}

static void live_free(live *L)
{
    for (size_t i = 0; L->mc && i < L->n; i++) {
        free(L->mc[i].dyn.needed);
        free(L->mc[i].exports);
    }
    free(L->mc);
    if (L->pm.sc)
        pm_close(&L->pm);
}

/* ---------------------------------------------------------------------- */
/* Output                                                                 */

static int hit_cmp(const void *pa, const void *pb)
{
    const hit *a = pa, *b = pb;
    int r;
    if (a->mod != b->mod)
        return a->mod < b->mod ? -1 : 1;
    if ((r = strcmp(a->path, b->path)) != 0)
        return r;
    if ((r = strcmp(a->symbol, b->symbol)) != 0)
        return r;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    return 0;
}

static size_t count_modules(const hit *h, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || h[i].mod != h[i - 1].mod || strcmp(h[i].path, h[i - 1].path) != 0)
            m++;
    return m;
}

static const char *type_name(unsigned t)
{
    switch (t) {
    case STT_FUNC: return "FUNC";
    case STT_OBJECT: return "OBJECT";
    case STT_GNU_IFUNC: return "IFUNC";
    case STT_TLS: return "TLS";
    case STT_NOTYPE: return "NOTYPE";
    default: return "other";
    }
}

static const char *bind_name(unsigned b)
{
    switch (b) {
    case STB_GLOBAL: return "GLOBAL";
    case STB_WEAK: return "WEAK";
    case STB_GNU_UNIQUE: return "UNIQUE";
    default: return "LOCAL";
    }
}

static void symtext(const hit *h, char *buf, size_t size)
{
    if (h->version)
        snprintf(buf, size, "%s%s%s", h->symbol, h->defined && !h->hidden ? "@@" : "@",
                 h->version);
    else
        snprintf(buf, size, "%s", h->symbol);
}

static void status_text(const hit *h, char *buf, size_t size)
{
    const char *s = h->status ? h->status : "";
    if (strcmp(s, "redirected") == 0)
        snprintf(buf, size, "redirected (normally %s)", h->provider ? h->provider : "?");
    else if (strcmp(s, "lazy") == 0)
        snprintf(buf, size, "lazy (still in the PLT: not called yet)");
    else if (strcmp(s, "bound") == 0 && !h->provider)
        snprintf(buf, size, "bound (no module exports it)");
    else
        snprintf(buf, size, "%s", s);
}

/* The three tables (exports; imports in files; imports in a process),
 * each described once.  The module is the JSON's "module"; the other cells
 * are the table's own text, and every result's JSON members are written by
 * json_result (the same in the three layouts). */
enum { X_MODULE, X_SYMBOL, X_TYPE, X_BIND, X_VALUE, X_SIZE, X_PATH, X_COUNT };
static const emit_col exports_cols[X_COUNT] = {
    [X_MODULE] = {"module", 24, EMIT_LEFT, ""},
    [X_SYMBOL] = {NULL, 32, EMIT_LEFT, " "},
    [X_TYPE] = {NULL, 6, EMIT_LEFT, " "},
    [X_BIND] = {NULL, 6, EMIT_LEFT, " "},
    [X_VALUE] = {NULL, 16, EMIT_LEFT, " "},
    [X_SIZE] = {NULL, 8, 0, " "},
    [X_PATH] = {NULL, 0, EMIT_LEFT, "  "},
};
enum { F_MODULE, F_SYMBOL, F_RELOC, F_SLOT, F_PATH, F_COUNT };
static const emit_col file_cols[F_COUNT] = {
    [F_MODULE] = {"module", 24, EMIT_LEFT, ""},
    [F_SYMBOL] = {NULL, 32, EMIT_LEFT, " "},
    [F_RELOC] = {NULL, 10, EMIT_LEFT, " "},
    [F_SLOT] = {NULL, 16, EMIT_LEFT, " "},
    [F_PATH] = {NULL, 0, EMIT_LEFT, "  "},
};
enum { L_MODULE, L_SYMBOL, L_RELOC, L_SLOT, L_VALUE, L_POINTS, L_STATUS, L_COUNT };
static const emit_col live_cols[L_COUNT] = {
    [L_MODULE] = {"module", 24, EMIT_LEFT, ""},
    [L_SYMBOL] = {NULL, 28, EMIT_LEFT, " "},
    [L_RELOC] = {NULL, 10, EMIT_LEFT, " "},
    [L_SLOT] = {NULL, 16, EMIT_LEFT, " "},
    [L_VALUE] = {NULL, 16, EMIT_LEFT, "  "},
    [L_POINTS] = {NULL, 36, EMIT_LEFT, " "},
    [L_STATUS] = {NULL, 0, EMIT_LEFT, " "},
};

/* A table-only cell whose text is the verb's own (not escaped again). */
static void text_cell(emitter *e, int col, const char *text)
{
    emit_col_u64_as(e, col, 0, text);
}

static void hex_cell(emitter *e, int col, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%016" PRIx64, v);
    text_cell(e, col, b);
}

static void kv_hex(emitter *e, const char *key, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    emit_kv_str(e, key, b);
}

/* The JSON members of a result (all but "module", the first column). */
static void json_result(emitter *e, const hit *h, int is_live)
{
    char st[256];
    emit_kv_str(e, "path", h->path);
    emit_kv_str(e, "symbol", h->symbol);
    emit_kv_str(e, "version", h->version);
    emit_kv_str(e, "type", type_name(h->type));
    emit_kv_str(e, "bind", bind_name(h->bind));
    if (h->defined) {
        kv_hex(e, "value", h->value);
        emit_kv_u64(e, "size", h->size);
        emit_kv_bool(e, "hidden", h->hidden);
        if (is_live)
            kv_hex(e, "address", h->bias + h->value);
        return;
    }
    emit_kv_str(e, "version_file", h->version_file);
    emit_kv_str(e, "relocation", *h->rname ? h->rname : NULL);
    emit_kv_bool(e, "plt", h->plt);
    kv_hex(e, "slot", h->slot);
    if (!is_live)
        return;
    kv_hex(e, "slot_address", h->bias + h->slot);
    emit_kv_bool(e, "read", h->read);
    if (h->read)
        kv_hex(e, "target", h->target);
    else
        emit_kv_null(e, "target");
    emit_kv_str(e, "target_name", h->target_name);
    emit_kv_str(e, "provider", h->provider);
    emit_kv_str(e, "status", h->status);
    status_text(h, st, sizeof st);
    emit_kv_str(e, "status_text", st);
}

static void report(const scanctx *c, const live *L, int is_live, char **ops, int nops,
                   emit_mode mode)
{
    char sym[512], st[256];
    size_t nm = count_modules(c->h, c->n);
    int exports = (c->what & ED_EXPORTS) != 0;
    emitter em, *e = &em;
    emit_init(e, stdout, mode);
    emit_begin(e);
    emit_kv_str(e, "symbol", c->pattern);
    emit_kv_str(e, "mode", exports ? "exports" : "imports");
    emit_arr_begin(e, "sources");
    for (int i = 0; i < nops; i++)
        emit_kv_str(e, NULL, ops[i]);
    emit_arr_end(e);
    if (is_live) {
        emit_text(e, "   process %" PRIu32 " (%s), live: ", L->pm.pid, cli_esc(L->pm.comm));
        emit_obj_begin(e, "process");
        emit_kv_u64(e, "pid", L->pm.pid);
        emit_kv_str(e, "comm", L->pm.comm);
        emit_kv_str(e, "exe", *L->pm.exe ? L->pm.exe : NULL);
        emit_kv_bool(e, "exited", L->pm.exited);
        emit_obj_end(e);
    } else {
        emit_text(e, "   ");
        emit_kv_null(e, "process");
    }
    emit_text(e, "%zu module%s %s %s (%zu ELF file%s read)\n\n", nm, nm == 1 ? "" : "s",
              exports ? (nm == 1 ? "exports" : "export") : (nm == 1 ? "imports" : "import"),
              cli_esc(c->pattern), c->files_scanned, c->files_scanned == 1 ? "" : "s");
    emit_kv_u64(e, "files_scanned", c->files_scanned);
    emit_kv_u64(e, "errors", c->errors);
    emit_kv_u64(e, "modules", nm);

    if (exports) {
        emit_text(e, "%-24s %-32s %-6s %-6s %-16s %8s  %s\n", "module", "symbol", "type", "bind",
                  is_live ? "address" : "value", "size", "path");
        emit_table_begin(e, exports_cols, X_COUNT);
    } else if (!is_live) {
        emit_text(e, "%-24s %-32s %-10s %-16s  %s\n", "module", "symbol", "reloc", "slot",
                  "path");
        emit_table_begin(e, file_cols, F_COUNT);
    } else {
        emit_text(e, "%-24s %-28s %-10s %-16s  %-16s %-36s %s\n", "module", "symbol", "reloc",
                  "GOT slot", "value", "points to", "status");
        emit_table_begin(e, live_cols, L_COUNT);
    }
    emit_arr_begin(e, "results");
    for (size_t i = 0; i < c->n; i++) {
        const hit *h = &c->h[i];
        symtext(h, sym, sizeof sym);
        emit_row_begin(e);
        emit_col_str(e, 0, h->name);
        if (exports) {
            emit_col_str(e, X_SYMBOL, sym);
            text_cell(e, X_TYPE, type_name(h->type));
            text_cell(e, X_BIND, bind_name(h->bind));
            hex_cell(e, X_VALUE, h->value + (is_live ? h->bias : 0));
            emit_col_u64(e, X_SIZE, h->size);
            emit_col_str(e, X_PATH, h->path);
        } else if (!is_live) {
            emit_col_str(e, F_SYMBOL, sym);
            text_cell(e, F_RELOC, h->rtype ? h->rname : "-");
            if (h->rtype)
                hex_cell(e, F_SLOT, h->slot);
            else
                text_cell(e, F_SLOT, "-");
            emit_col_str(e, F_PATH, h->path);
        } else {
            emit_col_str(e, L_SYMBOL, sym);
            status_text(h, st, sizeof st);
            if (!h->rtype) {
                text_cell(e, L_RELOC, "-");
                text_cell(e, L_SLOT, "-");
                text_cell(e, L_VALUE, "-");
                text_cell(e, L_POINTS, "-");
            } else {
                text_cell(e, L_RELOC, h->rname);
                hex_cell(e, L_SLOT, h->bias + h->slot);
                if (h->read) {
                    hex_cell(e, L_VALUE, h->target);
                    if (h->target_name)
                        emit_col_str(e, L_POINTS, h->target_name);
                    else
                        text_cell(e, L_POINTS, "-");
                } else {
                    text_cell(e, L_VALUE, "?");
                    text_cell(e, L_POINTS, "-");
                }
            }
            emit_col_str(e, L_STATUS, st);
        }
        json_result(e, h, is_live);
        emit_row_end(e);
    }
    emit_arr_end(e);
    emit_end(e);
}

/* ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("Usage: pooltag imports [--exports] [--json] SYMBOL PID\n"
          "       pooltag imports [--exports] [--json] SYMBOL PATH...\n"
          "\n"
          "Every module that imports SYMBOL: its undefined dynamic symbol and the\n"
          "relocation that fills its PLT/GOT slot (JUMP_SLOT, GLOB_DAT), with the\n"
          "slot's address.  SYMBOL is a glob (*, ?, [...]): api_*, 'mall?c'.\n"
          "\n"
          "PATH: files and directories (walked recursively over ELF files;\n"
          "symbolic links inside directories are not followed).  PID: the modules\n"
          "mapped into that process; each GOT slot is read through /proc/PID/mem\n"
          "and named (module!symbol it points to now), with a status:\n"
          "  bound       it points to the module that defines the symbol first in\n"
          "              the normal lookup order (the program and its libraries,\n"
          "              then the importer's own dependencies)\n"
          "  redirected  it points elsewhere: interposed, e.g. by LD_PRELOAD\n"
          "  lazy        it still points into the importer's PLT (not called yet)\n"
          "  canonical   it points to another module's PLT entry for the symbol\n"
          "              (a non-PIE program's address for it): calls go where that\n"
          "              module's own slot points\n"
          "  unresolved  the slot is 0 (an undefined weak symbol)\n"
          "\n"
          "      --exports      list the modules that define (export) SYMBOL instead\n"
          "  -j, --json         the list as JSON\n"
          "      --debuginfod   let elfutils download debuginfo from $DEBUGINFOD_URLS\n"
          "  -h, --help         this text\n"
          "\n"
          "A word of digits is a PID (write ./123 for a file named 123).  Files\n"
          "that cannot be read are reported on stderr, one line each, and the scan\n"
          "goes on.  Exit status 0 something listed, 1 nothing matched, 2 usage\n"
          "error or nothing could be read.\n",
          f);
}

int cmd_imports(int argc, char **argv)
{
    static const struct option opts[] = {
        {"exports", no_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        {"debuginfod", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, network = 0, exports = 0, c, status = PT_EXIT_USAGE;
    scanctx sc;
    live L;
    memset(&sc, 0, sizeof sc);
    memset(&L, 0, sizeof L);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
        switch (c) {
        case 'e': exports = 1; break;
        case 'j': json = 1; break;
        case 'd': network = 1; break;
        case 'h':
            usage(stdout);
            return PT_EXIT_OK;
        default:
            cli_opt_error(VERB, argv, c);
            return PT_EXIT_USAGE;
        }
    }
    if (argc - optind < 2) {
        cli_err(VERB, argc == optind ? "missing SYMBOL and PID or PATH (see pooltag imports "
                                       "--help)"
                                     : "missing PID or PATH after SYMBOL: give a process or "
                                       "files and directories to scan");
        return PT_EXIT_USAGE;
    }
    sc.pattern = argv[optind];
    if (!sc.pattern[0]) {
        cli_err(VERB, "empty SYMBOL: give a name or a glob such as 'api_*'");
        return PT_EXIT_USAGE;
    }
    sc.what = exports ? ED_EXPORTS : ED_IMPORTS;
    char **ops = argv + optind + 1;
    int nops = argc - optind - 1;
    uint32_t pid;
    int is_live = pm_is_pid(ops[0], &pid);
    for (int i = 0; i < nops; i++)
        if (pm_is_pid(ops[i], &pid) && (nops > 1)) {
            cli_err(VERB, "a PID must be the only source: give one PID, or files and "
                          "directories (write ./%s for a file)",
                    ops[i]);
            return PT_EXIT_USAGE;
        }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        cli_err(VERB, "libelf is too old: %s", elf_errmsg(-1));
        return PT_EXIT_USAGE;
    }
    if (is_live) {
        if (scan_live(&sc, &L, ops[0], network) < 0) {
            if (sc.oom)
                cli_err(VERB, "out of memory");
            goto out;
        }
        sc.operands_ok = 1;
    } else {
        for (int i = 0; i < nops && !sc.oom; i++)
            if (walk(&sc, ops[i], 0))
                sc.operands_ok++;
    }
    if (sc.oom) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    if (sc.n)
        qsort(sc.h, sc.n, sizeof *sc.h, hit_cmp);
    if (!sc.n && sc.operands_ok && sc.files_scanned == 0 && sc.errors > 0) {
        /* Every file (or module) found was skipped: as find.  (When no
         * operand could be read at all, each said so already: exit 2.) */
        cli_err(VERB, "nothing could be read (%zu skipped)", sc.errors);
        goto out;
    }
    if (json || sc.n)
        report(&sc, &L, is_live, ops, nops, json ? EMIT_JSON : EMIT_TABLE);
    else if (sc.operands_ok)
        printf("no module %s %s (%zu ELF file%s read)\n", exports ? "exports" : "imports",
               cli_esc(sc.pattern), sc.files_scanned, sc.files_scanned == 1 ? "" : "s");
    if (fflush(stdout) != 0)
        goto out;
    if (is_live && L.pm.exited)
        cli_err(VERB, "process %" PRIu32 " exited during the scan: the list shows what was read "
                      "before",
                L.pm.pid);
    status = sc.n ? PT_EXIT_OK : sc.operands_ok ? PT_EXIT_FINDING : PT_EXIT_USAGE;
out:
    free_hits(&sc);
    live_free(&L);
    return status;
}
