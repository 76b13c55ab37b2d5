/*
 * core.c — pimg.h's core backend: an ELF core file written by gcore, by
 * the kernel or by systemd-coredump (`coredumpctl dump -o FILE`).
 *
 * Data model
 * ----------
 * The file is mapped read-only (or, for the fuzzer, given as bytes) and
 * never trusted: every offset, size and count is checked against the file
 * before it is used.
 *
 *   ELF header      ELF64, little-endian, EM_X86_64, ET_CORE; anything else
 *                   is refused with one line naming what it is.
 *   program headers PT_LOAD: one region each (p_vaddr, p_memsz, p_flags;
 *                   its bytes at p_offset, p_filesz of them: the pages the
 *                   dumper left out make avail < end - start).  PT_NOTE:
 *                   the notes below.  e_phnum == PN_XNUM: the count is
 *                   section 0's sh_info (more than 65534 mappings).
 *   notes "CORE"    NT_PRSTATUS  one per thread: tid and registers;
 *                   NT_PRPSINFO  pid, name, command line;
 *                   NT_FILE      the file mappings: each region inside one
 *                                gets the path and the file offset (the
 *                                pooltag memfd's name marks the segment);
 *                   NT_AUXV      AT_EXECFN, the executable's path (read from
 *                                the dumped stack; else NT_FILE's first).
 * A region that begins with the segment magic is the segment even when
 * NT_FILE does not name it (a dumper that writes no NT_FILE).
 *
 * The layouts of struct elf_prstatus and elf_prpsinfo are x86-64's
 * (<sys/procfs.h>), written out as offsets so that the reader does not
 * depend on the host's headers.
 */
#include "pimg.h"

#include "ptread.h"
#include "segment.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pimg_priv.h"

#define fail ptr__fail

struct pim_core {
    const uint8_t *map;  /* the whole file                                 */
    size_t len;
    int mapped;          /* map is ours to munmap                          */
};

/* x86-64 struct elf_prstatus: pr_pid at 32, pr_reg (27 words) at 112, 336
 * bytes in all.  struct elf_prpsinfo: pr_pid at 24, pr_fname[16] at 40,
 * pr_psargs[80] at 56, 136 bytes. */
#define PRSTATUS_PID 32
#define PRSTATUS_REG 112
#define PRSTATUS_SIZE 336
#define PRPSINFO_PID 24
#define PRPSINFO_FNAME 40
#define PRPSINFO_ARGS 56
#define PRPSINFO_SIZE 136
#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/* The user_regs_struct order (pimg.h): rsp is word 19, rip 16, fs_base 21. */
#define REG_RIP 16
#define REG_RSP 19
#define REG_FS_BASE 21

static uint16_t get16(const uint8_t *b, int big)
{
    return big ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

static uint32_t get32(const uint8_t *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

static uint64_t get64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

static const char *machine_name(unsigned m, int is64)
{
    switch (m) {
    case EM_AARCH64: return "AArch64";
    case EM_ARM: return "32-bit ARM";
    case EM_386: return "i386";
    case EM_X86_64: return is64 ? "x86-64" : "x32 or 32-bit x86-64";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "PowerPC64";
    case EM_PPC: return "PowerPC";
    case EM_S390: return "s390";
    case EM_MIPS: return "MIPS";
    case EM_SPARCV9: return "SPARC64";
    case 258: return "LoongArch";
    default: return NULL;
    }
}

/* An ELF file that is not a core: what it is, for "not a core file (...)". */
static const char *elf_kind(const uint8_t *b, size_t len, unsigned type, int big)
{
    switch (type) {
    case ET_REL: return "an ELF relocatable object";
    case ET_EXEC: return "an ELF executable";
    case ET_DYN:
        /* A position-independent executable is ET_DYN with DF_1_PIE in its
         * dynamic section (libc.so.6 has PT_INTERP and is a library). */
        if (!big && b[EI_CLASS] == ELFCLASS64 && len >= sizeof(Elf64_Ehdr)) {
            Elf64_Ehdr eh;
            memcpy(&eh, b, sizeof eh);
            if (eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phoff < len &&
                (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) <= len - eh.e_phoff)
                for (unsigned i = 0; i < eh.e_phnum; i++) {
                    Elf64_Phdr ph;
                    memcpy(&ph, b + eh.e_phoff + i * sizeof ph, sizeof ph);
                    if (ph.p_type != PT_DYNAMIC || ph.p_offset > len ||
                        ph.p_filesz > len - ph.p_offset)
                        continue;
                    for (uint64_t k = 0; k + sizeof(Elf64_Dyn) <= ph.p_filesz;
                         k += sizeof(Elf64_Dyn)) {
                        Elf64_Dyn dyn;
                        memcpy(&dyn, b + ph.p_offset + k, sizeof dyn);
                        if (dyn.d_tag == DT_NULL)
                            break;
                        if (dyn.d_tag == DT_FLAGS_1 && (dyn.d_un.d_val & DF_1_PIE))
                            return "a position-independent ELF executable";
                    }
                }
        }
        return "an ELF shared object";
    default: return "an ELF file of another type";
    }
}

/* The header checks: 0, or -1 with the reason (no path prefix). */
static int check_header(const uint8_t *b, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return fail(err, errlen, "empty file, not a core file");
    if (len >= 6 && memcmp(b, "PTSNAP", 6) == 0)
        return fail(err, errlen, "a pooltag snapshot, not a core file: it holds "
                    "no process memory");
    if (len >= PT_SEG_MAGIC_LEN && memcmp(b, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN) == 0)
        return fail(err, errlen, "a pooltag segment image, not a core file: it "
                    "holds no process memory");
    if (len < SELFMAG || memcmp(b, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, "not a core file (not an ELF file)");
    if (len < 20)
        return fail(err, errlen, "truncated core file: %zu bytes, the ELF header "
                    "alone is %zu", len, sizeof(Elf64_Ehdr));
    int big = b[EI_DATA] == ELFDATA2MSB;
    int is64 = b[EI_CLASS] == ELFCLASS64;
    unsigned type = get16(b + 16, big), mach = get16(b + 18, big);
    if (type != ET_CORE)
        return fail(err, errlen, "not a core file (%s)", elf_kind(b, len, type, big));
    if (mach != EM_X86_64 || !is64 || big) {
        const char *name = machine_name(mach, is64);
        char other[48];
        if (!name) {
            snprintf(other, sizeof other, "ELF machine %u%s", mach,
                     big ? ", big-endian" : "");
            name = other;
        }
        return fail(err, errlen, "a core file of another architecture (%s), this "
                    "pooltag reads x86-64 cores", name);
    }
    if (len < sizeof(Elf64_Ehdr))
        return fail(err, errlen, "truncated core file: %zu bytes, the ELF header "
                    "alone is %zu", len, sizeof(Elf64_Ehdr));
    return 0;
}

/* One NT_FILE entry. */
typedef struct nt_file_ent {
    uint64_t start, end, off;
    const char *name;   /* in the file, NUL-terminated there */
    size_t namelen;
} nt_file_ent;

typedef struct core_parse {
    nt_file_ent *files;
    size_t nfiles;
    uint64_t execfn;    /* AT_EXECFN, 0 none */
    uint64_t vdso;      /* AT_SYSINFO_EHDR, 0 none */
    int have_psinfo;
} core_parse;

static int cmp_file(const void *a, const void *b)
{
    const nt_file_ent *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int note_prstatus(pim *p, const uint8_t *d, size_t n)
{
    if (n < PRSTATUS_SIZE)
        return 0; /* not x86-64's layout: ignored */
    pim_thread t;
    memset(&t, 0, sizeof t);
    t.tid = get32(d + PRSTATUS_PID);
    memcpy(t.gregs, d + PRSTATUS_REG, sizeof t.gregs);
    t.have_regs = 1;
    t.pc = t.gregs[REG_RIP];
    t.sp = t.gregs[REG_RSP];
    t.fs_base = t.gregs[REG_FS_BASE];
    return pim_add_thread(p, &t);
}

static void note_prpsinfo(pim *p, core_parse *cp, const uint8_t *d, size_t n)
{
    if (n < PRPSINFO_SIZE)
        return;
    cp->have_psinfo = 1;
    p->pid = get32(d + PRPSINFO_PID);
    size_t k = strnlen((const char *)d + PRPSINFO_FNAME, 16);
    memcpy(p->comm, d + PRPSINFO_FNAME, k);
    p->comm[k] = 0;
    k = strnlen((const char *)d + PRPSINFO_ARGS, 80);
    memcpy(p->args, d + PRPSINFO_ARGS, k);
    p->args[k] = 0;
}

/* NT_FILE: count, page size, count x {start, end, page offset}, count
 * names.  Entries that do not fit are dropped; names must end inside. */
static int note_file(core_parse *cp, const uint8_t *d, size_t n)
{
    if (n < 16 || cp->files)
        return 0;
    uint64_t count = get64(d), page = get64(d + 8);
    if (count > (n - 16) / 24)
        return 0;
    if (page == 0 || page > (1u << 30) || (page & (page - 1)))
        return 0;
    cp->files = calloc(count ? count : 1, sizeof *cp->files);
    if (!cp->files)
        return -1;
    const uint8_t *names = d + 16 + count * 24, *end = d + n;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *e = d + 16 + i * 24;
        const uint8_t *nul = names < end ? memchr(names, 0, (size_t)(end - names)) : NULL;
        if (!nul)
            break;
        nt_file_ent f = {get64(e), get64(e + 8), 0, (const char *)names,
                         (size_t)(nul - names)};
        names = nul + 1;
        if (__builtin_mul_overflow(get64(e + 16), page, &f.off) || f.end <= f.start)
            continue;
        cp->files[cp->nfiles++] = f;
    }
    qsort(cp->files, cp->nfiles, sizeof *cp->files, cmp_file);
    return 0;
}

static void note_auxv(core_parse *cp, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 16 <= n; i += 16) {
        uint64_t type = get64(d + i), val = get64(d + i + 8);
        if (type == AT_NULL)
            break;
        if (type == AT_EXECFN)
            cp->execfn = val;
        else if (type == AT_SYSINFO_EHDR)
            cp->vdso = val;
    }
}

static int read_notes(pim *p, core_parse *cp, const uint8_t *d, size_t n)
{
    size_t off = 0;
    while (n - off >= 12) {
        uint32_t namesz = get32(d + off), descsz = get32(d + off + 4),
                 type = get32(d + off + 8);
        uint64_t name_off = off + 12;
        uint64_t desc_off = name_off + (((uint64_t)namesz + 3) & ~3ull);
        uint64_t next = desc_off + (((uint64_t)descsz + 3) & ~3ull);
        if (desc_off > n || descsz > n - desc_off)
            break; /* a note that does not fit ends the list */
        const uint8_t *desc = d + desc_off;
        int core = namesz == 5 && memcmp(d + name_off, "CORE", 5) == 0;
        if (core) {
            if (type == NT_PRSTATUS) {
                if (note_prstatus(p, desc, descsz) < 0)
                    return -1;
            } else if (type == NT_PRPSINFO) {
                note_prpsinfo(p, cp, desc, descsz);
            } else if (type == NT_FILE) {
                if (note_file(cp, desc, descsz) < 0)
                    return -1;
            } else if (type == NT_AUXV) {
                note_auxv(cp, desc, descsz);
            }
        }
        if (next >= n)
            break;
        off = (size_t)next;
    }
    return 0;
}

/* The NT_FILE entry containing addr, or NULL. */
static const nt_file_ent *file_at(const core_parse *cp, uint64_t addr)
{
    size_t lo = 0, hi = cp->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp->files[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const nt_file_ent *f = &cp->files[lo - 1];
    return addr < f->end ? f : NULL;
}

/* The file mappings that NT_FILE names and no PT_LOAD covers (gcore
 * writes no program header for read-only file mappings): regions without
 * bytes, so that `address` and the module spans still see them.  Entries
 * that overlap the one before are ignored (a real core has none). */
static int add_unloaded(pim *p, const core_parse *cp)
{
    size_t n0 = p->nregions;
    uint64_t prev_end = 0;
    for (size_t i = 0; i < cp->nfiles; i++) {
        const nt_file_ent *f = &cp->files[i];
        if (f->start < prev_end)
            continue;
        prev_end = f->end;
        uint64_t a = f->start;
        /* the first original region ending after a */
        size_t lo = 0, hi = n0;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (p->regions[mid].end <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        while (a < f->end) {
            uint64_t gap_end = f->end;
            if (lo < n0 && p->regions[lo].start < f->end)
                gap_end = p->regions[lo].start > a ? p->regions[lo].start : a;
            if (gap_end > a) {
                pim_region r;
                memset(&r, 0, sizeof r);
                r.start = a;
                r.end = gap_end;
                r.flags = PIM_RF_NOPHDR;
                r.path = "";
                if (pim__add_region(p, &r) < 0)
                    return -1;
            }
            if (lo >= n0 || p->regions[lo].start >= f->end)
                break;
            a = p->regions[lo].end;
            lo++;
        }
    }
    if (p->nregions != n0)
        pim__sort_regions(p);
    return 0;
}

/* Name the regions from NT_FILE and find the segment. */
static int name_regions(pim *p, const core_parse *cp)
{
    static const char deleted[] = " (deleted)";
    const size_t dl = sizeof deleted - 1;
    for (size_t i = 0; i < p->nregions; i++) {
        pim_region *r = &p->regions[i];
        const nt_file_ent *f = file_at(cp, r->start);
        if (f) {
            char name[4096];
            size_t k = f->namelen < sizeof name - 1 ? f->namelen : sizeof name - 1;
            memcpy(name, f->name, k);
            name[k] = 0;
            int seg = pt_seg_memfd_shown(name);
            if (k >= dl && memcmp(name + k - dl, deleted, dl) == 0) {
                k -= dl;
                r->flags |= PIM_RF_DELETED;
            }
            r->path = pim__strdup(p, name, k);
            if (!r->path)
                return -1;
            r->offset = f->off + (r->start - f->start);
            if (seg)
                r->flags |= PIM_RF_SEGMENT | PIM_RF_SHARED;
            else if (name[0] == '/' && strncmp(name, "/memfd:", 7) != 0 &&
                     strncmp(name, "/dev/", 5) != 0)
                r->flags |= PIM_RF_FILE;
        } else {
            r->path = "";
        }
        const uint8_t *b = pim__core_bytes(p, r);
        if (!(r->flags & (PIM_RF_SEGMENT | PIM_RF_FILE)) && b &&
            r->avail >= sizeof(pt_seg_header) &&
            memcmp(b, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN) == 0)
            r->flags |= PIM_RF_SEGMENT;
    }
    return 0;
}

/* The executable: AT_EXECFN's string in the dumped stack, else the first
 * NT_FILE entry (the lowest mapping, the executable's). */
static void find_exe(pim *p, const core_parse *cp)
{
    if (cp->execfn) {
        size_t n = pim_read(p, cp->execfn, p->exe, sizeof p->exe - 1);
        p->exe[n] = 0;
        if (memchr(p->exe, 0, n) && p->exe[0] == '/')
            return;
        p->exe[0] = 0;
    }
    if (cp->nfiles) {
        size_t k = cp->files[0].namelen;
        if (k > sizeof p->exe - 1)
            k = sizeof p->exe - 1;
        memcpy(p->exe, cp->files[0].name, k);
        p->exe[k] = 0;
    }
}

static int parse_core(pim *p, const char *what, char *err, size_t errlen)
{
    pim_core *c = ((pim_priv *)p->priv)->core;
    const uint8_t *b = c->map;
    size_t len = c->len;
    if (check_header(b, len, err, errlen) < 0)
        return -1;
    Elf64_Ehdr eh;
    memcpy(&eh, b, sizeof eh);
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        return fail(err, errlen, "corrupt core file: program header size %u, "
                    "not %zu", eh.e_phentsize, sizeof(Elf64_Phdr));
    uint64_t phnum = eh.e_phnum;
    if (phnum == PN_XNUM) {
        /* The real count is section 0's sh_info. */
        if (eh.e_shoff > len || len - eh.e_shoff < sizeof(Elf64_Shdr))
            return fail(err, errlen, "truncated core file: %zu bytes, section "
                        "header 0 (the program header count) is at %" PRIu64,
                        len, (uint64_t)eh.e_shoff);
        Elf64_Shdr sh;
        memcpy(&sh, b + eh.e_shoff, sizeof sh);
        phnum = sh.sh_info;
    }
    if (phnum == 0)
        return fail(err, errlen, "corrupt core file: no program headers");
    if (eh.e_phoff > len || phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
        return fail(err, errlen, "truncated core file: %zu bytes, its %" PRIu64
                    " program headers end at %" PRIu64, len, phnum,
                    (uint64_t)eh.e_phoff + phnum * sizeof(Elf64_Phdr));
    core_parse cp;
    memset(&cp, 0, sizeof cp);
    uint64_t need = 0;  /* the file size the program headers describe */
    int rc = 0;
    for (uint64_t i = 0; i < phnum && rc == 0; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh.e_phoff + i * sizeof ph, sizeof ph);
        uint64_t fend;
        if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
            continue;
        if (__builtin_add_overflow(ph.p_offset, ph.p_filesz, &fend)) {
            rc = fail(err, errlen, "corrupt core file: program header %" PRIu64
                      " has offset %#" PRIx64 " and size %#" PRIx64, i,
                      (uint64_t)ph.p_offset, (uint64_t)ph.p_filesz);
            break;
        }
        if (ph.p_filesz && fend > need)
            need = fend;
        if (ph.p_type == PT_NOTE) {
            if (fend > len)
                continue; /* reported below as truncation */
            rc = read_notes(p, &cp, b + ph.p_offset, (size_t)ph.p_filesz);
            if (rc < 0)
                fail(err, errlen, "out of memory");
            continue;
        }
        pim_region r;
        memset(&r, 0, sizeof r);
        r.start = ph.p_vaddr;
        if (ph.p_memsz == 0 || __builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &r.end))
            continue;
        r.prot = ((ph.p_flags & PF_R) ? PIM_R : 0) | ((ph.p_flags & PF_W) ? PIM_W : 0) |
                 ((ph.p_flags & PF_X) ? PIM_X : 0);
        r.path = "";
        r.core_off = ph.p_offset;
        r.avail = ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz;
        if (r.core_off > len)
            r.avail = 0;
        else if (r.avail > len - r.core_off)
            r.avail = len - r.core_off;
        if (pim__add_region(p, &r) < 0)
            rc = fail(err, errlen, "out of memory");
    }
    if (rc == 0 && need > len)
        rc = fail(err, errlen, "truncated core file: %zu bytes, its program headers "
                  "describe %" PRIu64 " (cut short while it was written: a core size "
                  "limit, a full disk?)", len, need);
    if (rc == 0 && p->nregions == 0)
        rc = fail(err, errlen, "corrupt core file: no memory (no PT_LOAD program "
                  "header)");
    if (rc == 0) {
        pim__sort_regions(p);
        if (add_unloaded(p, &cp) < 0 || name_regions(p, &cp) < 0 ||
            pim__find_modules(p) < 0)
            rc = fail(err, errlen, "out of memory");
    }
    if (rc == 0) {
        find_exe(p, &cp);
        p->vdso = cp.vdso;
        if (!cp.have_psinfo && p->nthreads)
            p->pid = p->threads[0].tid;
        /* The main thread (tid == pid) first; it is named after the process. */
        for (size_t i = 1; i < p->nthreads; i++)
            if (p->threads[i].tid == p->pid) {
                pim_thread t = p->threads[0];
                p->threads[0] = p->threads[i];
                p->threads[i] = t;
                break;
            }
        if (p->nthreads) {
            size_t k = strnlen(p->comm, sizeof p->threads[0].name - 1);
            memcpy(p->threads[0].name, p->comm, k);
            p->threads[0].name[k] = 0;
        }
        p->source = pim__strdup(p, what, strlen(what));
        if (!p->source)
            rc = fail(err, errlen, "out of memory");
    }
    free(cp.files);
    return rc;
}

static pim *new_core(const void *buf, size_t len, int mapped)
{
    pim *p = pim__new(PIM_CORE);
    if (!p)
        return NULL;
    pim_core *c = calloc(1, sizeof *c);
    if (!c) {
        pim_close(p);
        return NULL;
    }
    c->map = buf;
    c->len = len;
    c->mapped = mapped;
    ((pim_priv *)p->priv)->core = c;
    return p;
}

int pim_open_core_image(const void *buf, size_t len, const char *name,
                        pim **out, char *err, size_t errlen)
{
    *out = NULL;
    pim *p = new_core(buf, len, 0);
    if (!p)
        return fail(err, errlen, "out of memory");
    if (parse_core(p, name ? name : "core image", err, errlen) < 0) {
        pim_close(p);
        return -1;
    }
    *out = p;
    return 0;
}

int pim_file_is_elf(const char *path)
{
    char e[8];
    int fd = ptr_open_input(path, NULL, e, sizeof e);
    if (fd < 0)
        return 0;
    unsigned char m[SELFMAG];
    ssize_t n = pread(fd, m, sizeof m, 0);
    close(fd);
    return n == SELFMAG && memcmp(m, ELFMAG, SELFMAG) == 0;
}

int pim_file_is_core(const char *path)
{
    char e[8];
    int fd = ptr_open_input(path, NULL, e, sizeof e);
    if (fd < 0)
        return 0;
    unsigned char h[18];
    ssize_t n = pread(fd, h, sizeof h, 0);
    close(fd);
    return n == (ssize_t)sizeof h && memcmp(h, ELFMAG, SELFMAG) == 0 &&
           get16(h + 16, h[EI_DATA] == ELFDATA2MSB) == ET_CORE;
}

int pim_open_core(const char *path, unsigned flags, pim **out, char *err,
                  size_t errlen)
{
    (void)flags; /* a core is still by nature */
    *out = NULL;
    struct stat st;
    int fd = ptr_open_input(path, &st, err, errlen);
    if (fd < 0) {
        if (errno == ENOENT)
            return fail(err, errlen, "%s: no such file (give a PID or a core "
                        "file)", path);
        return -1;
    }
    if (st.st_size == 0) {
        close(fd);
        return fail(err, errlen, "%s: empty file, not a core file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX / 2) {
        close(fd);
        return fail(err, errlen, "%s: too large to map", path);
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return fail(err, errlen, "%s: cannot map it: %s", path, strerror(e));
    pim *p = new_core(map, len, 1);
    if (!p) {
        munmap(map, len);
        return fail(err, errlen, "out of memory");
    }
    if (parse_core(p, path, err, errlen) < 0) {
        pim_close(p);
        return ptr__with_path(path, err, errlen);
    }
    *out = p;
    return 0;
}

const uint8_t *pim__core_bytes(pim *p, const pim_region *r)
{
    pim_core *c = ((pim_priv *)p->priv)->core;
    if (!c || !r->avail || r->core_off > c->len || r->avail > c->len - r->core_off)
        return NULL;
    return c->map + r->core_off;
}

void pim__core_close(pim *p)
{
    pim_priv *pv = p->priv;
    pim_core *c = pv->core;
    if (!c)
        return;
    if (c->mapped)
        munmap((void *)c->map, c->len);
    free(c);
    pv->core = NULL;
}
