/*
 * modules.c — loaded modules and their automatic tags (the preload).
 *
 * Data model
 * ----------
 * - Every loaded ELF object (dl_iterate_phdr) gets a record in the segment's
 *   module table (pt_seg_module: address range, build-id, path, tag), so
 *   that `pooltag` can say which module a tag stands for.
 * - Each module has one tag.  A rules file (PT_TAGS, lines "GLOB TAG") is
 *   consulted first; otherwise the tag is derived from the file name
 *   (pt__mod_derive_tag, documented in docs/run.md):
 *       drop a leading "lib" when at least 3 characters remain,
 *       cut at the first ".so", take the first 4 characters, pad with
 *       spaces:  libxml2.so.2 -> "xml2", libc.so.6 -> "libc",
 *       python3.11 -> "pyth", ld-linux-x86-64.so.2 -> "ld-l".
 *   Two modules never share a derived tag: a collision replaces the last
 *   character with 1..9, then a..z, then the third character, then both
 *   (1,295 variants of one prefix).  The same path loaded again gets its
 *   old tag back.  Unloaded modules keep their tags: blocks they allocated
 *   may still be live, so a module loaded later never gets one of them.
 * - Lookups (return address -> tag) use a private sorted array of ranges,
 *   rebuilt by a rescan when an address is not found in it (a dlopen since
 *   the last scan).  A rebuilt array is published by pointer; old arrays are
 *   never unmapped, so a reader racing a rescan reads valid (if stale)
 *   memory.  Nothing here calls malloc.
 * - Every dlclose (the preload interposes it) prunes: a module that is no
 *   longer mapped (dl_iterate_phdr after the real dlclose: a dlclose that
 *   only drops a reference changes nothing) is flagged PT_MOD_UNLOADED in
 *   its record, its range in the index is emptied, and pt__mod_gen is
 *   bumped.  The preload's per-thread return-address cache stores the
 *   generation it was filled under and misses once it changed, so no cache
 *   charges code loaded later at the same address to the module that left.
 * - When the record table is full (PT_MAX_MODULES), a new module still gets
 *   its own tag and index entry, without a record; the segment header
 *   counts such modules (modules_dropped) so that readers say so.
 *
 * Lock order: scan_lock is taken alone (never with the fold or arena lock).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "ptglob.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The limits of PT_TAGS, PT_WRAPPERS and PT_BEHALF: src/common/options.def. */
#define MAX_RULES PT_OPT_MAXN_TAGS
#define RULES_BUF (PT_OPT_MAXLEN_TAGS + 1)

typedef struct mod_range {
    uintptr_t start, end;
    uint32_t tag;
    uint32_t rec; /* index of the segment record */
} mod_range;

typedef struct mod_index {
    size_t n;
    mod_range r[];
} mod_index;

typedef struct rule {
    const char *glob;
    uint32_t tag;
} rule;

static pt_spin scan_lock;
static mod_index *cur_index; /* published sorted ranges */
/* Bumped (release) whenever a module is found unloaded, after its ranges
 * stopped matching; see internal.h. */
uint32_t pt__mod_gen;
static pt_seg_header *mseg;
static rule rules[MAX_RULES];
static size_t nrules;
static char rules_buf[RULES_BUF];

/* PT_WRAPPERS: function-name globs and the address ranges they matched. */
#define MAX_WRAP_GLOBS PT_OPT_MAXN_WRAPPERS
#define MAX_WRAP_RANGES 1024
static char wrap_buf[PT_OPT_MAXLEN_WRAPPERS + 1];
static const char *wrap_globs[MAX_WRAP_GLOBS];
static size_t nwrap_globs;
typedef struct wrap_range {
    uintptr_t start, end;
} wrap_range;
static wrap_range wrap_ranges[MAX_WRAP_RANGES];
static size_t nwrap_ranges; /* published with release after each scan */
int pt__mod_have_wrappers;

/* Rules of the form "func:GLOB TAG": allocations made directly by a
 * function whose name matches get TAG, whatever its module. */
#define MAX_FUNC_RANGES 1024
static rule func_rules[MAX_RULES];
static size_t nfunc_rules;
typedef struct func_range {
    uintptr_t start, end;
    uint32_t tag;
} func_range;
static func_range func_ranges[MAX_FUNC_RANGES];
static size_t nfunc_ranges;

/* PT_BEHALF (pooltag run --behalf): module-name and function-name globs of
 * APIs that allocate on behalf of their callers.  Each module in which a
 * glob matches the file name (the whole module is API code) or a function
 * symbol (those functions are) gets a host entry: the span of its
 * executable segments and its sorted slice of named functions.  Entries are
 * written under scan_lock and published by the release store of
 * nbehalf_hosts; a host whose module is unloaded is marked dead, never
 * removed, so a reader on another thread always reads a complete entry. */
#define MAX_BEHALF_GLOBS PT_OPT_MAXN_BEHALF
#define MAX_BEHALF_HOSTS 256
#define MAX_BEHALF_SYMS 8192
typedef struct behalf_host {
    uintptr_t start, end; /* span of the module's executable segments */
    uint32_t rec;         /* its module record */
    uint32_t whole;       /* the file name matched: every function is API */
    uint32_t sym0, nsym;  /* behalf_syms[sym0 .. sym0 + nsym), sorted */
    int dead;             /* the module was unloaded */
} behalf_host;
static const char *behalf_globs[MAX_BEHALF_GLOBS];
static size_t nbehalf_globs;
static behalf_host behalf_hosts[MAX_BEHALF_HOSTS];
static size_t nbehalf_hosts; /* published with release */
typedef struct behalf_sym_range {
    uintptr_t start, end;
    uintptr_t maxend; /* the largest end of this range and those before it */
} behalf_sym_range;
static behalf_sym_range behalf_syms[MAX_BEHALF_SYMS];
static size_t nbehalf_syms; /* written under scan_lock only */
static int behalf_full_warned;
int pt__mod_have_behalf;

static pt_seg_module *records(void)
{
    return (pt_seg_module *)((char *)mseg + mseg->modules_off);
}

/* ---- tags from names ---------------------------------------------------- */


uint32_t pt__mod_derive_tag(const char *path)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    size_t len = strlen(name);
    const char *so = strstr(name, ".so");
    if (so)
        len = (size_t)(so - name);
    if (len >= 6 && strncmp(name, "lib", 3) == 0) {
        name += 3;
        len -= 3;
    }
    uint32_t tag = 0;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = i < len ? (unsigned char)name[i] : ' ';
        tag |= (uint32_t)c << (8 * i);
    }
    if (tag == PT_TAG("    "))
        tag = PT_TAG("Anon");
    return tag;
}

static int tag_taken(uint32_t tag, const char *path, uint32_t nrec)
{
    pt_seg_module *r = records();
    for (uint32_t i = 0; i < nrec; i++)
        if (r[i].tag == tag && strncmp(r[i].path, path, PT_MOD_PATH_MAX - 1) != 0)
            return 1;
    return 0;
}

static uint32_t unique_tag(uint32_t tag, const char *path, uint32_t nrec)
{
    static const char alts[] = "123456789abcdefghijklmnopqrstuvwxyz";
    if (!tag_taken(tag, path, nrec))
        return tag;
    for (int pos = 3; pos >= 2; pos--) {
        for (const char *a = alts; *a; a++) {
            uint32_t t = (tag & ~(0xffu << (8 * pos))) | ((uint32_t)(unsigned char)*a << (8 * pos));
            if (!tag_taken(t, path, nrec))
                return t;
        }
    }
    /* Then the last two characters together (plugins copied under one
     * name into many directories, loaded in turn). */
    for (const char *a = alts; *a; a++) {
        for (const char *b = alts; *b; b++) {
            uint32_t t = (tag & 0xffffu) | ((uint32_t)(unsigned char)*a << 16) |
                         ((uint32_t)(unsigned char)*b << 24);
            if (!tag_taken(t, path, nrec))
                return t;
        }
    }
    return tag; /* 1,295 collisions of one prefix: share rather than fail */
}

/* The tag of the module at `path`; `alias` is another name it goes by (the
 * main program's command name, as in `ps`: g++ rather than the file
 * x86_64-linux-gnu-g++-12 it links to), used before the file name. */
static uint32_t tag_for(const char *path, const char *alias, uint32_t nrec, uint32_t *flags)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    for (size_t i = 0; i < nrules; i++) {
        int hit = strchr(rules[i].glob, '/') ? pt_glob(rules[i].glob, path)
                                              : pt_glob(rules[i].glob, name) ||
                                                    (alias && pt_glob(rules[i].glob, alias));
        if (hit) {
            *flags |= PT_MOD_RULE;
            return rules[i].tag;
        }
    }
    /* The same path seen before (dlclose + dlopen) keeps its tag. */
    pt_seg_module *r = records();
    for (uint32_t i = 0; i < nrec; i++)
        if (!(r[i].flags & PT_MOD_RULE) && strncmp(r[i].path, path, PT_MOD_PATH_MAX - 1) == 0)
            return r[i].tag;
    return unique_tag(pt__mod_derive_tag(alias && *alias ? alias : path), path, nrec);
}

/* ---- rules file --------------------------------------------------------- */

/* Parse PT_TAGS without allocating.  Bad lines are reported once and
 * skipped (`pooltag run` validates the file before starting the program). */
static void load_rules(void)
{
    const char *file = pt__opt_env(PT_OPT_TAGS);
    if (!file || !*file)
        return;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pt__warn("cannot read PT_TAGS file ", file);
        return;
    }
    ssize_t n = read(fd, rules_buf, sizeof rules_buf - 1);
    close(fd);
    if (n < 0)
        n = 0;
    rules_buf[n] = 0;
    char *line = rules_buf;
    /* At most MAX_RULES rules of both kinds together (func_rules has room
     * for as many): `pooltag run` refuses a file with more. */
    while (line && *line && nrules + nfunc_rules < MAX_RULES) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#') {
            char *glob = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = 0;
            while (*p == ' ' || *p == '\t')
                p++;
            char *tagtext = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r')
                p++;
            *p = 0;
            uint32_t tag;
            if (pt_tag_parse(tagtext, &tag) == 0 && strncmp(glob, "func:", 5) == 0) {
                func_rules[nfunc_rules].glob = glob + 5;
                func_rules[nfunc_rules].tag = tag;
                nfunc_rules++;
            } else if (pt_tag_parse(tagtext, &tag) == 0) {
                rules[nrules].glob = glob;
                rules[nrules].tag = tag;
                nrules++;
            } else {
                pt__warn("ignoring a PT_TAGS line without a valid tag: ", glob);
            }
        }
        line = next;
    }
}

/* ---- allocator wrappers named by the user ------------------------------- */

/* Split the value of the LIST variable `var` (globs separated by commas
 * or spaces) into globs[0..max), kept in buf.  Returns how many. */
static size_t load_globs(pt_opt_id var, char *buf, size_t bufsize, const char **globs,
                         size_t max)
{
    const char *w = pt__opt_env(var);
    size_t n = 0;
    if (!w || !*w)
        return 0;
    strncpy(buf, w, bufsize - 1);
    for (char *p = buf; *p && n < max;) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        globs[n++] = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
    }
    return n;
}

static void load_wrappers(void)
{
    nwrap_globs = load_globs(PT_OPT_WRAPPERS, wrap_buf, sizeof wrap_buf, wrap_globs,
                             MAX_WRAP_GLOBS);
    pt__mod_have_wrappers = nwrap_globs > 0;
}

typedef struct wrap_ctx {
    uintptr_t bias;
    int behalf; /* also collect the functions PT_BEHALF names */
} wrap_ctx;

static void behalf_sym(uintptr_t bias, const char *name, uint64_t value, uint64_t size)
{
    if (size == 0)
        return;
    for (size_t i = 0; i < nbehalf_globs; i++) {
        if (pt_glob(behalf_globs[i], name)) {
            if (nbehalf_syms >= MAX_BEHALF_SYMS) {
                if (!behalf_full_warned)
                    pt__warn("too many functions match PT_BEHALF; later ones are "
                             "not treated as on-behalf APIs: ", name);
                behalf_full_warned = 1;
                return;
            }
            behalf_syms[nbehalf_syms].start = bias + value;
            behalf_syms[nbehalf_syms].end = bias + value + size;
            behalf_syms[nbehalf_syms].maxend = 0;
            nbehalf_syms++;
            return;
        }
    }
}

static int wrap_sym(void *arg, const char *name, uint64_t value, uint64_t size)
{
    wrap_ctx *c = arg;
    if (c->behalf)
        behalf_sym(c->bias, name, value, size);
    for (size_t i = 0; i < nfunc_rules; i++) {
        if (pt_glob(func_rules[i].glob, name)) {
            size_t n = __atomic_load_n(&nfunc_ranges, __ATOMIC_RELAXED);
            if (n < MAX_FUNC_RANGES) {
                func_ranges[n].start = c->bias + value;
                func_ranges[n].end = c->bias + value + size;
                func_ranges[n].tag = func_rules[i].tag;
                __atomic_store_n(&nfunc_ranges, n + 1, __ATOMIC_RELEASE);
            }
            break;
        }
    }
    for (size_t i = 0; i < nwrap_globs; i++) {
        if (pt_glob(wrap_globs[i], name)) {
            size_t n = __atomic_load_n(&nwrap_ranges, __ATOMIC_RELAXED);
            if (n >= MAX_WRAP_RANGES)
                return 0;
            wrap_ranges[n].start = c->bias + value;
            wrap_ranges[n].end = c->bias + value + size;
            __atomic_store_n(&nwrap_ranges, n + 1, __ATOMIC_RELEASE);
            return 1;
        }
    }
    return 0;
}

/* Map the module's file read-only and record its wrapper functions (and,
 * when `behalf`, the functions PT_BEHALF names). */
static void scan_wrappers(const char *path, uintptr_t bias, int behalf)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t len = lseek(fd, 0, SEEK_END);
    if (len > 0) {
        void *img = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (img != MAP_FAILED) {
            wrap_ctx c = {bias, behalf};
            pt__elf_scan_funcs(img, (size_t)len, wrap_sym, &c);
            munmap(img, (size_t)len);
        }
    }
    close(fd);
}

int pt__mod_in_wrapper(const void *ra)
{
    size_t n = __atomic_load_n(&nwrap_ranges, __ATOMIC_ACQUIRE);
    uintptr_t a = (uintptr_t)ra;
    for (size_t i = 0; i < n; i++)
        if (a >= wrap_ranges[i].start && a < wrap_ranges[i].end)
            return 1;
    return 0;
}

/* ---- on-behalf APIs (PT_BEHALF) ----------------------------------------- */

#ifdef PT_PRELOAD
static void load_behalf(void)
{
    static char behalf_buf[PT_OPT_MAXLEN_BEHALF + 1];
    nbehalf_globs = load_globs(PT_OPT_BEHALF, behalf_buf, sizeof behalf_buf, behalf_globs,
                               MAX_BEHALF_GLOBS);
    pt__mod_have_behalf = nbehalf_globs > 0;
}
#endif

/* Does a PT_BEHALF glob name the module itself?  Like the rules file: the
 * full path when the glob has a '/', else the file name (or, for the main
 * program, its command name). */
static int behalf_names_module(const char *path, const char *alias)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    for (size_t i = 0; i < nbehalf_globs; i++) {
        const char *g = behalf_globs[i];
        if (strchr(g, '/') ? pt_glob(g, path)
                           : pt_glob(g, name) || (alias && *alias && pt_glob(g, alias)))
            return 1;
    }
    return 0;
}

static void sort_behalf_syms(behalf_sym_range *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        behalf_sym_range x = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].start > x.start) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
    uintptr_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].end > m)
            m = r[i].end;
        r[i].maxend = m;
    }
}

/* A module seen for the first time (record `rec`), in two steps around the
 * scan of its symbols: behalf_begin fills a host entry (not yet published)
 * and says whether its functions must be collected; behalf_end publishes
 * it if PT_BEHALF named the module or some of its functions.  Under
 * scan_lock. */
static int behalf_begin(behalf_host *h, const struct dl_phdr_info *info, const char *path,
                        const char *alias, uint32_t rec)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        if (s < lo)
            lo = s;
        if (e > hi)
            hi = e;
    }
    memset(h, 0, sizeof *h);
    if (hi <= lo)
        return 0;
    /* The same file loaded again at the same address (a dlopen after a
     * dlclose, the common case): its dead entry, unchanged, lives again,
     * so that reloading a module does not use up the host table. */
    const pt_seg_module *r = records();
    size_t nh = __atomic_load_n(&nbehalf_hosts, __ATOMIC_RELAXED);
    for (size_t i = 0; i < nh; i++) {
        behalf_host *o = &behalf_hosts[i];
        const pt_seg_module *om = &r[o->rec], *nm = &r[rec];
        if (o->dead && o->start == lo && o->end == hi &&
            strncmp(om->path, nm->path, PT_MOD_PATH_MAX) == 0 &&
            om->build_id_len == nm->build_id_len &&
            memcmp(om->build_id, nm->build_id, nm->build_id_len) == 0) {
            o->rec = rec;
            __atomic_store_n(&o->dead, 0, __ATOMIC_RELEASE);
            return 0; /* h stays empty: behalf_end adds nothing */
        }
    }
    if (nh >= MAX_BEHALF_HOSTS)
        return 0;
    h->start = lo;
    h->end = hi;
    h->rec = rec;
    h->whole = (uint32_t)behalf_names_module(path, alias);
    h->sym0 = (uint32_t)nbehalf_syms;
    return !h->whole;
}

static void behalf_end(const behalf_host *h)
{
    if (h->end <= h->start)
        return;
    behalf_host x = *h;
    if (!x.whole) {
        x.nsym = (uint32_t)(nbehalf_syms - x.sym0);
        if (x.nsym == 0)
            return;
        sort_behalf_syms(&behalf_syms[x.sym0], x.nsym);
    }
    size_t nh = __atomic_load_n(&nbehalf_hosts, __ATOMIC_RELAXED);
    behalf_hosts[nh] = x;
    __atomic_store_n(&nbehalf_hosts, nh + 1, __ATOMIC_RELEASE);
}

int pt__mod_behalf_kind(const void *ra)
{
    uintptr_t a = (uintptr_t)ra;
    size_t n = __atomic_load_n(&nbehalf_hosts, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++) {
        const behalf_host *h = &behalf_hosts[i];
        if (a < h->start || a >= h->end || __atomic_load_n(&h->dead, __ATOMIC_ACQUIRE))
            continue;
        if (h->whole)
            return 2;
        /* The last function that starts at or before a; maxend covers
         * functions that nest or overlap. */
        size_t lo = h->sym0, hi = (size_t)h->sym0 + h->nsym;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (behalf_syms[mid].start <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo > h->sym0 && a < behalf_syms[lo - 1].maxend ? 2 : 1;
    }
    return 0;
}

/* ---- scanning ----------------------------------------------------------- */

typedef struct scan_ctx {
    mod_range *out;
    size_t n, cap;
    int first;
} scan_ctx;

static void read_build_id(const struct dl_phdr_info *info, pt_seg_module *m)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const char *name = p + sizeof *nh;
            const char *desc = name + ((nh->n_namesz + 3) & ~3u);
            const char *nx = desc + ((nh->n_descsz + 3) & ~3u);
            if (nx > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                uint32_t len = nh->n_descsz > 20 ? 20 : nh->n_descsz;
                memcpy(m->build_id, desc, len);
                m->build_id_len = len;
                return;
            }
            p = nx;
        }
    }
}

static int scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    scan_ctx *c = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        if (s < lo)
            lo = s;
        if (e > hi)
            hi = e;
    }
    if (hi <= lo)
        return 0;
    char path[PT_MOD_PATH_MAX], comm[20] = "";
    const char *name = info->dlpi_name;
    uint32_t flags = 0;
    if (c->first && (!name || !*name)) {
        /* The main program: dl_iterate_phdr reports it first, nameless. */
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        path[n > 0 ? n : 0] = 0;
        flags |= PT_MOD_MAIN;
        memcpy(comm, mseg->comm, sizeof mseg->comm);
        comm[sizeof mseg->comm] = 0;
    } else if (!name || !*name) {
        c->first = 0;
        return 0; /* the vDSO */
    } else {
        strncpy(path, name, sizeof path - 1);
        path[sizeof path - 1] = 0;
    }
    c->first = 0;

    /* Existing record for this range? */
    pt_seg_module *r = records();
    uint32_t nrec = __atomic_load_n(&mseg->modules_used, __ATOMIC_ACQUIRE);
    uint32_t rec = UINT32_MAX;
    for (uint32_t i = 0; i < nrec; i++)
        if (r[i].start == lo && r[i].end == hi && !(r[i].flags & PT_MOD_UNLOADED) &&
            strncmp(r[i].path, path, PT_MOD_PATH_MAX - 1) == 0)
            rec = i;
    if (rec == UINT32_MAX && nrec < mseg->max_modules) {
        pt_seg_module *m = &r[nrec];
        memset(m, 0, sizeof *m);
        m->base = info->dlpi_addr;
        m->start = lo;
        m->end = hi;
        m->tag = tag_for(path, comm, nrec, &flags);
        m->flags = flags;
        memcpy(m->path, path, sizeof m->path);
        read_build_id(info, m);
        behalf_host bh = {0, 0, 0, 0, 0, 0, 0};
        int syms = pt__mod_have_behalf && behalf_begin(&bh, info, path, comm, nrec);
        if (pt__mod_have_wrappers || nfunc_rules || syms)
            scan_wrappers(path, info->dlpi_addr, syms);
        if (pt__mod_have_behalf)
            behalf_end(&bh);
        rec = nrec;
        __atomic_store_n(&mseg->modules_used, nrec + 1, __ATOMIC_RELEASE);
        pt__tr_mod_added(rec); /* PT_VERIFY / pooltag verify globs */
    }
    uint32_t tag = rec != UINT32_MAX ? r[rec].tag : 0;
    if (rec == UINT32_MAX) {
        /* The record table is full.  The module still gets its own tag
         * (kept from the index while it stays loaded) and is counted once
         * in the header, so that readers say the table overflowed. */
        const mod_index *old = cur_index;
        for (size_t k = 0; old && k < old->n && !tag; k++)
            if (old->r[k].rec == UINT32_MAX && old->r[k].start == lo && old->r[k].end == hi)
                tag = old->r[k].tag;
        if (!tag) {
            tag = tag_for(path, comm, nrec, &flags);
            __atomic_fetch_add(&mseg->modules_dropped, 1, __ATOMIC_RELAXED);
        }
    }
    if (c->n < c->cap) {
        c->out[c->n].start = lo;
        c->out[c->n].end = hi;
        c->out[c->n].tag = tag;
        c->out[c->n].rec = rec;
        c->n++;
    }
    return 0;
}

/* Insertion sort: qsort may call malloc, and we are inside it. */
static void sort_ranges(mod_range *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        mod_range x = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].start > x.start) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
}

/* Record `rec` is a module that is gone: flag it, and its PT_BEHALF host
 * no longer matches (a module loaded later at the same address is another
 * one, with its own record and host entry). */
static void mark_unloaded(uint32_t rec)
{
    pt_seg_module *m = &records()[rec];
    if (m->flags & PT_MOD_UNLOADED)
        return;
    __atomic_fetch_or(&m->flags, PT_MOD_UNLOADED, __ATOMIC_RELEASE);
    size_t n = __atomic_load_n(&nbehalf_hosts, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++)
        if (behalf_hosts[i].rec == rec)
            __atomic_store_n(&behalf_hosts[i].dead, 1, __ATOMIC_RELEASE);
    pt__tr_mod_unloaded(rec); /* a verified module's outstanding blocks: leaks */
}

/* The code range [start, end) is no longer mapped: the function ranges of
 * PT_WRAPPERS and "func:" rules inside it stop matching (emptied in place,
 * as the index entries are). */
static void forget_ranges(uintptr_t start, uintptr_t end)
{
    size_t n = __atomic_load_n(&nwrap_ranges, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++)
        if (wrap_ranges[i].start >= start && wrap_ranges[i].start < end)
            __atomic_store_n(&wrap_ranges[i].end, wrap_ranges[i].start, __ATOMIC_RELEASE);
    n = __atomic_load_n(&nfunc_ranges, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++)
        if (func_ranges[i].start >= start && func_ranges[i].start < end)
            __atomic_store_n(&func_ranges[i].end, func_ranges[i].start, __ATOMIC_RELEASE);
}

static void rescan(void)
{
    size_t cap = mseg->max_modules;
    size_t bytes = sizeof(mod_index) + cap * sizeof(mod_range);
    mod_index *ix = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ix == MAP_FAILED)
        return;
    scan_ctx c = {ix->r, 0, cap, 1};
    dl_iterate_phdr(scan_one, &c);
    sort_ranges(ix->r, c.n);
    ix->n = c.n;
    /* Records of modules that are gone (a dlclose this library did not
     * see: one made inside libc). */
    uint32_t nrec = mseg->modules_used;
    int gone = 0;
    const pt_seg_module *r = records();
    for (uint32_t i = 0; i < nrec; i++) {
        int live = 0;
        for (size_t k = 0; k < c.n && !live; k++)
            live = ix->r[k].rec == i;
        if (!live && !(r[i].flags & PT_MOD_UNLOADED)) {
            mark_unloaded(i);
            forget_ranges(r[i].start, r[i].end);
            gone = 1;
        }
    }
    __atomic_store_n(&cur_index, ix, __ATOMIC_RELEASE);
    __atomic_fetch_add(&mseg->modules_gen, 1, __ATOMIC_RELEASE);
    if (gone)
        __atomic_fetch_add(&pt__mod_gen, 1, __ATOMIC_RELEASE);
}

static int lookup(const mod_index *ix, uintptr_t a, uint32_t *tag)
{
    size_t lo = 0, hi = ix ? ix->n : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a < ix->r[mid].start)
            hi = mid;
        else if (a >= ix->r[mid].end)
            lo = mid + 1;
        else {
            *tag = ix->r[mid].tag;
            return 1;
        }
    }
    return 0;
}

uint32_t pt__mod_rec(const void *ra)
{
    const mod_index *ix = __atomic_load_n(&cur_index, __ATOMIC_ACQUIRE);
    uintptr_t a = (uintptr_t)ra;
    size_t lo = 0, hi = ix ? ix->n : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a < ix->r[mid].start)
            hi = mid;
        else if (a >= ix->r[mid].end)
            lo = mid + 1;
        else
            return ix->r[mid].rec;
    }
    return UINT32_MAX;
}

uint32_t pt__mod_tag(const void *ra)
{
    uint32_t tag;
    size_t nf = __atomic_load_n(&nfunc_ranges, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < nf; i++)
        if ((uintptr_t)ra >= func_ranges[i].start && (uintptr_t)ra < func_ranges[i].end)
            return func_ranges[i].tag;
    if (lookup(__atomic_load_n(&cur_index, __ATOMIC_ACQUIRE), (uintptr_t)ra, &tag))
        return tag;
    pt__spin_lock(&scan_lock);
    if (!lookup(cur_index, (uintptr_t)ra, &tag)) {
        rescan();
        if (!lookup(cur_index, (uintptr_t)ra, &tag))
            tag = PT_TAG("Anon"); /* code outside any module: JIT, trampolines */
    }
    pt__spin_unlock(&scan_lock);
    return tag;
}

void pt__mod_note(const void *ra)
{
    (void)pt__mod_tag(ra);
}

/* After every dlclose: forget the modules that are gone, without rebuilding
 * the index (a rebuild maps a new one, and old ones are never unmapped).
 * Their ranges in the current index are emptied in place (end = start:
 * the array stays sorted, so a racing lookup stays correct), so that code
 * loaded later at the same address misses, and the rescan that follows
 * gives it a record (and a host entry) of its own. */
typedef struct prune_ctx {
    const mod_index *ix;
    uint8_t *live;  /* per index entry */
    int first;
} prune_ctx;

static int prune_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    prune_ctx *c = arg;
    int main_prog = c->first;
    c->first = 0;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        if (s < lo)
            lo = s;
        if (e > hi)
            hi = e;
    }
    const pt_seg_module *r = records();
    for (size_t k = 0; k < c->ix->n; k++) {
        const mod_range *m = &c->ix->r[k];
        if (m->start != lo || m->end != hi)
            continue;
        const char *name = info->dlpi_name;
        /* A module without a record (the table was full) is known by its
         * range alone. */
        if (m->rec == UINT32_MAX || (main_prog && (r[m->rec].flags & PT_MOD_MAIN)) ||
            (name && strncmp(r[m->rec].path, name, PT_MOD_PATH_MAX - 1) == 0))
            c->live[k] = 1;
    }
    return 0;
}

void pt__mod_prune(void)
{
    pt__spin_lock(&scan_lock);
    mod_index *ix = cur_index;
    if (ix && ix->n) {
        /* One byte per entry, on the stack: PT_MAX_MODULES is at most 65536
         * but the index holds only loaded modules; past 4096 rebuild it. */
        uint8_t live[4096];
        if (ix->n <= sizeof live) {
            memset(live, 0, ix->n);
            prune_ctx c = {ix, live, 1};
            dl_iterate_phdr(prune_one, &c);
            int gone = 0;
            for (size_t k = 0; k < ix->n; k++) {
                if (live[k] || ix->r[k].end == ix->r[k].start)
                    continue;
                if (ix->r[k].rec != UINT32_MAX)
                    mark_unloaded(ix->r[k].rec);
                forget_ranges(ix->r[k].start, ix->r[k].end);
                __atomic_store_n(&ix->r[k].end, ix->r[k].start, __ATOMIC_RELEASE);
                gone = 1;
            }
            __atomic_fetch_add(&mseg->modules_gen, 1, __ATOMIC_RELEASE);
            /* Last: a thread that sees the new generation misses its
             * cache and finds the emptied ranges. */
            if (gone)
                __atomic_fetch_add(&pt__mod_gen, 1, __ATOMIC_RELEASE);
        } else {
            /* Too many modules to prune in place: rebuild the index. */
            rescan();
        }
    }
    pt__spin_unlock(&scan_lock);
}

void pt__mod_init(pt_seg_header *seg)
{
    mseg = seg;
    load_rules();
    load_wrappers();
#ifdef PT_PRELOAD
    load_behalf();
#endif
    pt__spin_lock(&scan_lock);
    rescan();
    pt__spin_unlock(&scan_lock);
}

void pt__mod_fork_child(pt_seg_header *seg)
{
    /* The child has the same modules: copy the records, keep the index. */
    pt_seg_header *old = mseg;
    scan_lock.v = 0;
    if (!old || !seg->modules_off)
        return;
    uint32_t n = old->modules_used < seg->max_modules ? old->modules_used : seg->max_modules;
    memcpy((char *)seg + seg->modules_off, (char *)old + old->modules_off, (size_t)n * sizeof(pt_seg_module));
    seg->modules_used = n;
    seg->modules_dropped = old->modules_dropped;
    mseg = seg;
}

void pt__mod_set_segment(pt_seg_header *seg)
{
    mseg = seg;
}
