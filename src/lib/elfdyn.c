/*
 * elfdyn.c — imports, exports, versions and DT_NEEDED of one ELF file with
 * libelf (elfdyn.h).
 *
 * Data model: the sections that matter are found by type, not by name:
 * SHT_DYNSYM (the dynamic symbols; sh_link = their strings), SHT_REL and
 * SHT_RELA sections whose sh_link is that symbol table (.rela.plt,
 * .rela.dyn), SHT_GNU_versym (one version index per dynamic symbol),
 * SHT_GNU_verdef and SHT_GNU_verneed (version names), SHT_DYNAMIC.
 * libelf converts every record (gelf_getsym, gelf_getrela, ...) and checks
 * that it lies inside its section; this file checks what libelf cannot
 * know: symbol indexes of relocations, version indexes, string offsets
 * (elf_strptr) and the chains of version records.
 */
#include "elfdyn.h"

#include <elf.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VERSION_RECORDS 4096 /* bound on version chain walks */

typedef struct ver {
    unsigned ndx;      /* version index (versym value & 0x7fff) */
    const char *name;
    const char *file;  /* verneed: the library; verdef: NULL     */
} ver;

typedef struct scan {
    Elf *e;
    Elf_Scn *dynsym;
    size_t dynsym_ndx, strndx, nsyms;
    Elf_Data *syms;
    Elf_Data *versym;
    size_t nversym;
    ver *vers;
    size_t nvers;
    unsigned machine;
} scan;

static long fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s (libelf: %s)", what, elf_errmsg(-1));
    return -1;
}

const char *ed_rel_name(unsigned machine, uint32_t rtype)
{
    switch (machine) {
    case EM_X86_64:
        switch (rtype) {
        case R_X86_64_64: return "64";
        case R_X86_64_COPY: return "COPY";
        case R_X86_64_GLOB_DAT: return "GLOB_DAT";
        case R_X86_64_JUMP_SLOT: return "JUMP_SLOT";
        case R_X86_64_DTPMOD64: return "DTPMOD64";
        case R_X86_64_DTPOFF64: return "DTPOFF64";
        case R_X86_64_TPOFF64: return "TPOFF64";
        }
        break;
    case EM_386:
        switch (rtype) {
        case R_386_32: return "32";
        case R_386_COPY: return "COPY";
        case R_386_GLOB_DAT: return "GLOB_DAT";
        case R_386_JMP_SLOT: return "JUMP_SLOT";
        }
        break;
    case EM_AARCH64:
        switch (rtype) {
        case R_AARCH64_ABS64: return "ABS64";
        case R_AARCH64_COPY: return "COPY";
        case R_AARCH64_GLOB_DAT: return "GLOB_DAT";
        case R_AARCH64_JUMP_SLOT: return "JUMP_SLOT";
        }
        break;
    }
    return NULL;
}

static int is_plt_rel(unsigned machine, uint32_t rtype)
{
    return (machine == EM_X86_64 && rtype == R_X86_64_JUMP_SLOT) ||
           (machine == EM_386 && rtype == R_386_JMP_SLOT) ||
           (machine == EM_AARCH64 && rtype == R_AARCH64_JUMP_SLOT);
}

static void add_ver(scan *s, size_t *cap, unsigned ndx, const char *name, const char *file)
{
    if (!name)
        return;
    if (s->nvers == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        ver *nv = realloc(s->vers, ncap * sizeof *nv);
        if (!nv)
            return; /* versions are decoration: go on without */
        s->vers = nv;
        *cap = ncap;
    }
    s->vers[s->nvers++] = (ver){ndx, name, file};
}

/* Version names from SHT_GNU_verdef and SHT_GNU_verneed. */
static void read_versions(scan *s, Elf_Scn *scn, const GElf_Shdr *sh, size_t *cap)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || d->d_size > INT_MAX)
        return;
    size_t off = 0;
    unsigned steps = 0;
    if (sh->sh_type == SHT_GNU_verdef) {
        for (GElf_Word i = 0; i < sh->sh_info && steps < MAX_VERSION_RECORDS; i++, steps++) {
            GElf_Verdef vd;
            GElf_Verdaux va;
            if (!gelf_getverdef(d, (int)off, &vd) || off + vd.vd_aux > (size_t)d->d_size ||
                !gelf_getverdaux(d, (int)(off + vd.vd_aux), &va))
                return;
            if (!(vd.vd_flags & VER_FLG_BASE))
                add_ver(s, cap, vd.vd_ndx & 0x7fffu, elf_strptr(s->e, sh->sh_link, va.vda_name),
                        NULL);
            if (vd.vd_next == 0 || off + vd.vd_next > (size_t)d->d_size)
                return;
            off += vd.vd_next;
        }
    } else {
        for (GElf_Word i = 0; i < sh->sh_info && steps < MAX_VERSION_RECORDS; i++, steps++) {
            GElf_Verneed vn;
            if (!gelf_getverneed(d, (int)off, &vn))
                return;
            const char *file = elf_strptr(s->e, sh->sh_link, vn.vn_file);
            size_t aoff = off + vn.vn_aux;
            for (unsigned j = 0; j < vn.vn_cnt && steps < MAX_VERSION_RECORDS; j++, steps++) {
                GElf_Vernaux va;
                if (aoff > (size_t)d->d_size || !gelf_getvernaux(d, (int)aoff, &va))
                    break;
                add_ver(s, cap, va.vna_other & 0x7fffu,
                        elf_strptr(s->e, sh->sh_link, va.vna_name), file);
                if (va.vna_next == 0)
                    break;
                aoff += va.vna_next;
            }
            if (vn.vn_next == 0 || off + vn.vn_next > (size_t)d->d_size)
                return;
            off += vn.vn_next;
        }
    }
}

/* Find the dynamic symbol table and the version sections. */
static long open_scan(scan *s, Elf *e, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->e = e;
    if (elf_kind(e) != ELF_K_ELF) {
        snprintf(err, errlen, "not an ELF file, or its header is cut short");
        return -1;
    }
    GElf_Ehdr eh;
    if (!gelf_getehdr(e, &eh))
        return fail(err, errlen, "damaged ELF header");
    s->machine = eh.e_machine;
    /* libelf reads a file cut short as one with fewer sections or none:
     * compare the headers with the file's size. */
    size_t fsize = 0;
    if (!elf_rawfile(e, &fsize))
        return fail(err, errlen, "cannot read the file");
    if (eh.e_shoff == 0) {
        snprintf(err, errlen, "no section headers (stripped with sstrip?): cannot find the "
                              "dynamic symbols");
        return -1;
    }
    size_t shnum;
    if (elf_getshdrnum(e, &shnum) != 0)
        return fail(err, errlen, "damaged section headers");
    if (eh.e_shnum)
        shnum = eh.e_shnum; /* else the count is in section 0 (many sections) */
    if (eh.e_shoff > fsize || (uint64_t)shnum * eh.e_shentsize > fsize - eh.e_shoff) {
        snprintf(err, errlen,
                 "truncated ELF file: its section headers end past its %zu bytes", fsize);
        return -1;
    }
    Elf_Scn *scn = NULL;
    size_t vcap = 0;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return fail(err, errlen, "damaged section header");
        if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
            (sh.sh_offset > fsize || sh.sh_size > fsize - sh.sh_offset)) {
            snprintf(err, errlen,
                     "truncated ELF file: section %zu ends past its %zu bytes", elf_ndxscn(scn),
                     fsize);
            return -1;
        }
        if (sh.sh_type == SHT_DYNSYM && !s->dynsym) {
            s->dynsym = scn;
            s->dynsym_ndx = elf_ndxscn(scn);
            s->strndx = sh.sh_link;
        } else if (sh.sh_type == SHT_GNU_versym && !s->versym) {
            s->versym = elf_getdata(scn, NULL);
            if (s->versym) {
                size_t fs = gelf_fsize(e, ELF_T_HALF, 1, EV_CURRENT);
                s->nversym = fs ? s->versym->d_size / fs : 0;
                if (s->nversym > INT_MAX)
                    s->nversym = INT_MAX;
            }
        } else if (sh.sh_type == SHT_GNU_verdef || sh.sh_type == SHT_GNU_verneed) {
            read_versions(s, scn, &sh, &vcap);
        }
    }
    if (!s->dynsym)
        return 0;
    s->syms = elf_getdata(s->dynsym, NULL);
    if (!s->syms)
        return fail(err, errlen, "damaged dynamic symbol table");
    size_t fs = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
    s->nsyms = fs ? s->syms->d_size / fs : 0;
    if (s->nsyms > INT_MAX)
        s->nsyms = INT_MAX; /* gelf_getsym takes an int */
    return 0;
}

static void close_scan(scan *s)
{
    free(s->vers);
    s->vers = NULL;
}

/* Symbol i: 1 with *sym and *name, 0 when it cannot be read or is unnamed. */
static int get_sym(scan *s, size_t i, GElf_Sym *sym, const char **name)
{
    if (i == 0 || i >= s->nsyms || !gelf_getsym(s->syms, (int)i, sym))
        return 0;
    *name = elf_strptr(s->e, s->strndx, sym->st_name);
    return *name && **name;
}

static void sym_version(scan *s, size_t i, ed_sym *out)
{
    GElf_Versym vs;
    if (!s->versym || i >= s->nversym || !gelf_getversym(s->versym, (int)i, &vs))
        return;
    unsigned ndx = vs & 0x7fffu;
    if (ndx <= 1)
        return; /* local or global base version: none */
    out->hidden = (vs & 0x8000u) != 0;
    for (size_t k = 0; k < s->nvers; k++)
        if (s->vers[k].ndx == ndx) {
            out->version = s->vers[k].name;
            out->version_file = s->vers[k].file;
            return;
        }
}

static int visible_export(const GElf_Sym *sym)
{
    int bind = GELF_ST_BIND(sym->st_info), vis = GELF_ST_VISIBILITY(sym->st_other);
    return sym->st_shndx != SHN_UNDEF &&
           (bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE) &&
           vis != STV_HIDDEN && vis != STV_INTERNAL;
}

static int name_matches(const char *pattern, unsigned what, const char *name)
{
    return (what & ED_EXACT) ? strcmp(pattern, name) == 0 : fnmatch(pattern, name, 0) == 0;
}

static void fill(scan *s, size_t i, const GElf_Sym *sym, const char *name, ed_sym *out)
{
    memset(out, 0, sizeof *out);
    out->name = name;
    out->defined = sym->st_shndx != SHN_UNDEF;
    out->type = GELF_ST_TYPE(sym->st_info);
    out->bind = GELF_ST_BIND(sym->st_info);
    out->value = sym->st_value;
    out->size = sym->st_size;
    sym_version(s, i, out);
}

/* The imports: walk the relocation sections that use the dynamic symbol
 * table; then the matching undefined symbols no relocation refers to. */
static long scan_imports(scan *s, const char *pattern, unsigned what, ed_cb cb, void *arg,
                         int *stop)
{
    unsigned char *match = calloc(s->nsyms ? s->nsyms : 1, 1); /* 1 match, 2 reported */
    if (!match)
        return -1;
    size_t nmatch = 0;
    for (size_t i = 1; i < s->nsyms; i++) {
        GElf_Sym sym;
        const char *name;
        if (get_sym(s, i, &sym, &name) && sym.st_shndx == SHN_UNDEF &&
            GELF_ST_BIND(sym.st_info) != STB_LOCAL && name_matches(pattern, what, name)) {
            match[i] = 1;
            nmatch++;
        }
    }
    long reports = 0;
    Elf_Scn *scn = NULL;
    while (nmatch && !*stop && (scn = elf_nextscn(s->e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL) ||
            sh.sh_link != s->dynsym_ndx)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d)
            continue;
        int rela = sh.sh_type == SHT_RELA;
        size_t fs = gelf_fsize(s->e, rela ? ELF_T_RELA : ELF_T_REL, 1, EV_CURRENT);
        size_t n = fs ? d->d_size / fs : 0;
        if (n > INT_MAX)
            n = INT_MAX;
        for (size_t j = 0; j < n && !*stop; j++) {
            GElf_Rela r;
            if (rela) {
                if (!gelf_getrela(d, (int)j, &r))
                    break;
            } else {
                GElf_Rel rl;
                if (!gelf_getrel(d, (int)j, &rl))
                    break;
                r.r_offset = rl.r_offset;
                r.r_info = rl.r_info;
                r.r_addend = 0;
            }
            size_t si = GELF_R_SYM(r.r_info);
            if (si >= s->nsyms || !match[si])
                continue;
            GElf_Sym sym;
            const char *name;
            if (!get_sym(s, si, &sym, &name))
                continue;
            ed_sym out;
            fill(s, si, &sym, name, &out);
            out.rtype = (uint32_t)GELF_R_TYPE(r.r_info);
            out.rname = ed_rel_name(s->machine, out.rtype);
            out.plt = is_plt_rel(s->machine, out.rtype);
            out.slot = r.r_offset;
            match[si] = 2;
            reports++;
            if (cb(arg, &out))
                *stop = 1;
        }
    }
    for (size_t i = 1; i < s->nsyms && !*stop; i++) {
        GElf_Sym sym;
        const char *name;
        if (match[i] != 1 || !get_sym(s, i, &sym, &name))
            continue;
        ed_sym out;
        fill(s, i, &sym, name, &out);
        reports++;
        if (cb(arg, &out))
            *stop = 1;
    }
    free(match);
    return reports;
}

long ed_scan(Elf *e, const char *pattern, unsigned what, ed_cb cb, void *arg, char *err,
             size_t errlen)
{
    scan s;
    if (open_scan(&s, e, err, errlen) < 0) {
        close_scan(&s);
        return -1;
    }
    long reports = 0;
    int stop = 0;
    if (s.dynsym && (what & ED_IMPORTS)) {
        long r = scan_imports(&s, pattern, what, cb, arg, &stop);
        if (r < 0) {
            close_scan(&s);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        reports += r;
    }
    for (size_t i = 1; s.dynsym && (what & ED_EXPORTS) && !stop && i < s.nsyms; i++) {
        GElf_Sym sym;
        const char *name;
        if (!get_sym(&s, i, &sym, &name) || !visible_export(&sym) ||
            !name_matches(pattern, what, name))
            continue;
        ed_sym out;
        fill(&s, i, &sym, name, &out);
        reports++;
        if (cb(arg, &out))
            stop = 1;
    }
    close_scan(&s);
    return reports;
}

int ed_dynamic(Elf *e, ed_dyn *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (elf_kind(e) != ELF_K_ELF) {
        snprintf(err, errlen, "not an ELF file");
        return -1;
    }
    Elf_Scn *scn = NULL;
    size_t cap = 0;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t fs = gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
        size_t n = d && fs ? d->d_size / fs : 0;
        for (size_t i = 0; i < n && i < INT_MAX; i++) {
            GElf_Dyn dyn;
            if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
                break;
            if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME)
                continue;
            const char *name = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
            if (!name)
                continue;
            if (dyn.d_tag == DT_SONAME) {
                out->soname = name;
                continue;
            }
            if (out->nneeded == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                const char **nn = realloc(out->needed, ncap * sizeof *nn);
                if (!nn) {
                    free(out->needed);
                    memset(out, 0, sizeof *out);
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
                out->needed = nn;
                cap = ncap;
            }
            out->needed[out->nneeded++] = name;
        }
        break;
    }
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ed_export_names(Elf *e, const char ***names, size_t *n)
{
    char err[256];
    scan s;
    *names = NULL;
    *n = 0;
    if (open_scan(&s, e, err, sizeof err) < 0) {
        close_scan(&s);
        return -1;
    }
    if (!s.dynsym) {
        close_scan(&s);
        return 0;
    }
    const char **v = calloc(s.nsyms ? s.nsyms : 1, sizeof *v);
    if (!v) {
        close_scan(&s);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 1; i < s.nsyms; i++) {
        GElf_Sym sym;
        const char *name;
        if (get_sym(&s, i, &sym, &name) && visible_export(&sym))
            v[k++] = name;
    }
    close_scan(&s);
    qsort(v, k, sizeof *v, str_cmp);
    *names = v;
    *n = k;
    return 0;
}

int ed_defines(const char *const *names, size_t n, const char *name)
{
    return names && bsearch(&name, names, n, sizeof *names, str_cmp) != NULL;
}
