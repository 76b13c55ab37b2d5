/*
 * elfscan.c — the byte scan and the libelf naming of `pooltag find`
 * (elfscan.h).  libelf reads every ELF structure; this file only sorts what
 * it hands back and searches it.
 */
#include "elfscan.h"

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---------------------------------------------------------------------- */
/* The scan                                                                */

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t fs_scan(const uint8_t *buf, size_t len, const uint8_t needle[4], uint64_t base,
                 fs_hit_fn fn, void *arg)
{
    uint64_t hits = 0;
    if (len < 4)
        return 0;
    const uint32_t want = load32(needle);
    size_t i = 0;
#if defined(__SSE2__)
    /* A candidate is a position whose first byte matches needle[0] and whose
     * fourth matches needle[3]: two compares per 16 positions, then the full
     * 4-byte compare for the few candidates.  Loads reach buf[i + 34]. */
    const __m128i first = _mm_set1_epi8((char)needle[0]);
    const __m128i last = _mm_set1_epi8((char)needle[3]);
    while (i + 35 <= len) {
        const uint8_t *p = buf + i;
        __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)(p + 3));
        __m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
        __m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 19));
        __m128i m0 = _mm_and_si128(_mm_cmpeq_epi8(a0, first), _mm_cmpeq_epi8(b0, last));
        __m128i m1 = _mm_and_si128(_mm_cmpeq_epi8(a1, first), _mm_cmpeq_epi8(b1, last));
        uint32_t mask = (uint32_t)_mm_movemask_epi8(m0) |
                        ((uint32_t)_mm_movemask_epi8(m1) << 16);
        while (mask) {
            unsigned k = (unsigned)__builtin_ctz(mask);
            mask &= mask - 1;
            if (load32(p + k) == want) {
                hits++;
                if (fn(arg, base + i + k))
                    return hits;
            }
        }
        i += 32;
    }
#endif
    for (; i + 4 <= len; i++) {
        if (buf[i] == needle[0] && load32(buf + i) == want) {
            hits++;
            if (fn(arg, base + i))
                return hits;
        }
    }
    return hits;
}

int fe_is_elf(const void *buf, size_t len)
{
    return len >= 4 && memcmp(buf, "\x7f" "ELF", 4) == 0;
}

/* ---------------------------------------------------------------------- */
/* The image                                                               */

typedef struct fe_sec {
    size_t index;
    const char *name;
    uint64_t off, end;   /* file range [off, end); end == off for NOBITS  */
    uint64_t addr, size;
    uint64_t flags;
} fe_sec;

typedef struct fe_seg {
    uint64_t off, fend, vaddr;
    int exec;
} fe_seg;

typedef struct fe_sym {
    size_t shndx;
    uint64_t value, size;
    const char *name;
    int rank;            /* among equal (shndx, value): higher is better   */
} fe_sym;

struct fe_image {
    Elf *elf;
    int etype;
    fe_sec *sec;         /* sorted by off                                  */
    size_t nsec;
    fe_seg *seg;
    size_t nseg;
    int syms_built;
    int syms_dyn;        /* from .dynsym                                   */
    fe_sym *sym;         /* sorted by (shndx, value, rank)                 */
    size_t nsym;
    const char *damaged; /* why the section headers are unusable, or NULL */
};

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static int sec_cmp(const void *pa, const void *pb)
{
    const fe_sec *a = pa, *b = pb;
    if (a->off != b->off)
        return a->off < b->off ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int sym_cmp(const void *pa, const void *pb)
{
    const fe_sym *a = pa, *b = pb;
    if (a->shndx != b->shndx)
        return a->shndx < b->shndx ? -1 : 1;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return strcmp(a->name, b->name);
}

fe_image *fe_open(void *img, size_t size, char *err, size_t errlen)
{
    if (!fe_is_elf(img, size)) {
        snprintf(err, errlen, "not an ELF file");
        return NULL;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory(img, size);
    GElf_Ehdr eh;
    if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
        snprintf(err, errlen, "damaged ELF file (truncated?): libelf: %s", elf_errmsg(-1));
        if (elf)
            elf_end(elf);
        return NULL;
    }
    fe_image *im = calloc(1, sizeof *im);
    if (!im) {
        elf_end(elf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    im->elf = elf;
    im->etype = eh.e_type;

    size_t nsec = 0, shstrndx = 0;
    int have_names = elf_getshdrstrndx(elf, &shstrndx) == 0;
    if (elf_getshdrnum(elf, &nsec) == 0 && nsec > 1) {
        im->sec = calloc(nsec, sizeof *im->sec);
        for (Elf_Scn *scn = NULL; im->sec && (scn = elf_nextscn(elf, scn)) != NULL;) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh) || im->nsec >= nsec)
                continue;
            fe_sec *s = &im->sec[im->nsec++];
            s->index = elf_ndxscn(scn);
            const char *nm = have_names ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
            s->name = nm && *nm ? nm : "?";
            s->off = sh.sh_offset;
            s->end = sh.sh_type == SHT_NOBITS ? s->off : add_sat(s->off, sh.sh_size);
            s->addr = sh.sh_addr;
            s->size = sh.sh_size;
            s->flags = sh.sh_flags;
        }
        if (im->sec)
            qsort(im->sec, im->nsec, sizeof *im->sec, sec_cmp);
    }
    if (im->nsec == 0 && eh.e_shoff != 0)
        im->damaged = eh.e_shoff >= size
                          ? "no symbol: damaged ELF, its section headers lie past the end of "
                            "the file (truncated?)"
                          : "no symbol: damaged ELF, its section headers do not read";
    size_t nph = 0;
    if (elf_getphdrnum(elf, &nph) == 0 && nph > 0) {
        im->seg = calloc(nph, sizeof *im->seg);
        for (size_t i = 0; im->seg && i < nph; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
                continue;
            fe_seg *g = &im->seg[im->nseg++];
            g->off = ph.p_offset;
            g->fend = add_sat(ph.p_offset, ph.p_filesz);
            g->vaddr = ph.p_vaddr;
            g->exec = (ph.p_flags & PF_X) != 0;
        }
    }
    return im;
}

void fe_close(fe_image *im)
{
    if (!im)
        return;
    elf_end(im->elf);
    free(im->sec);
    free(im->seg);
    free(im->sym);
    free(im);
}

/* Read the symbols of every section of type `type`; returns how many. */
static size_t read_syms(fe_image *im, unsigned type)
{
    size_t cap = 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(im->elf, scn)) != NULL;) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != type)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t ent = gelf_fsize(im->elf, ELF_T_SYM, 1, EV_CURRENT);
        if (!d || !ent)
            continue;
        size_t n = d->d_size / ent;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s))
                break;
            int t = GELF_ST_TYPE(s.st_info);
            if (s.st_name == 0 || s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE ||
                t == STT_SECTION || t == STT_FILE || t == STT_TLS)
                continue;
            const char *name = elf_strptr(im->elf, sh.sh_link, s.st_name);
            if (!name || !*name || name[0] == '$' || strncmp(name, ".L", 2) == 0)
                continue;
            if (im->nsym == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                fe_sym *ns = realloc(im->sym, ncap * sizeof *ns);
                if (!ns)
                    return im->nsym;
                im->sym = ns;
                cap = ncap;
            }
            fe_sym *y = &im->sym[im->nsym++];
            y->shndx = s.st_shndx;
            y->value = s.st_value;
            y->size = s.st_size;
            y->name = name;
            y->rank = 2 * (t == STT_FUNC || t == STT_OBJECT) +
                      (GELF_ST_BIND(s.st_info) != STB_LOCAL);
        }
    }
    return im->nsym;
}

static void build_syms(fe_image *im)
{
    im->syms_built = 1;
    if (read_syms(im, SHT_SYMTAB) == 0 && read_syms(im, SHT_DYNSYM) > 0)
        im->syms_dyn = 1;
    if (im->nsym)
        qsort(im->sym, im->nsym, sizeof *im->sym, sym_cmp);
}

/* The last symbol with (shndx, value) <= (s, v) if it is in section s. */
static const fe_sym *sym_find(const fe_image *im, size_t s, uint64_t v)
{
    size_t lo = 0, hi = im->nsym; /* answer: count of entries <= key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const fe_sym *y = &im->sym[mid];
        if (y->shndx < s || (y->shndx == s && y->value <= v))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || im->sym[lo - 1].shndx != s)
        return NULL;
    return &im->sym[lo - 1];
}

/* The section holding file offset off (allocated ones first). */
static const fe_sec *sec_at(const fe_image *im, uint64_t off)
{
    size_t lo = 0, hi = im->nsec;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (im->sec[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Sections may overlap (hostile or odd files): look back a little. */
    const fe_sec *any = NULL;
    for (size_t k = 0; k < 64 && lo > 0; k++, lo--) {
        const fe_sec *s = &im->sec[lo - 1];
        if (off >= s->off && off < s->end) {
            if (s->flags & SHF_ALLOC)
                return s;
            if (!any)
                any = s;
        }
    }
    return any;
}

void fe_at_offset(fe_image *im, uint64_t off, int name, fe_place *out)
{
    memset(out, 0, sizeof *out);
    const fe_sec *s = sec_at(im, off);
    const fe_seg *g = NULL;
    for (size_t i = 0; i < im->nseg; i++)
        if (off >= im->seg[i].off && off < im->seg[i].fend) {
            g = &im->seg[i];
            break;
        }
    if (s) {
        out->section = s->name;
        out->code = (s->flags & SHF_EXECINSTR) != 0;
        if (s->flags & SHF_ALLOC) {
            out->have_vaddr = 1;
            out->vaddr = s->addr + (off - s->off);
        }
    } else if (g) {
        out->code = im->nsec == 0 && g->exec;
    }
    if (!out->have_vaddr && g) {
        out->have_vaddr = 1;
        out->vaddr = g->vaddr + (off - g->off);
    }
    if (!name)
        return;
    if (!s) {
        out->note = im->damaged    ? im->damaged
                    : im->nsec ? "no symbol: in no section"
                               : "no symbol: no section headers";
        return;
    }
    if (!(s->flags & SHF_ALLOC)) {
        out->note = "no symbol: section not loaded";
        return;
    }
    if (!im->syms_built)
        build_syms(im);
    if (!im->nsym) {
        out->note = "no symbol: no readable .symtab or .dynsym (stripped?)";
        return;
    }
    const fe_sym *y = sym_find(im, s->index, out->vaddr);
    if (!y) {
        out->note = im->syms_dyn ? "no symbol: stripped: .dynsym names nothing here"
                                 : "no symbol";
        return;
    }
    uint64_t symoff = out->vaddr - y->value;
    int past_end = y->size && symoff >= y->size;
    if (past_end && !(s->flags & SHF_EXECINSTR)) {
        /* Data after the end of the nearest object (string literals have
         * no symbols): naming it after that object would mislead. */
        out->note = "no symbol: no data symbol covers it";
        return;
    }
    out->symbol = y->name;
    out->symoff = symoff;
    out->past_end = past_end;
    out->dynsym = im->syms_dyn;
}

/* ---------------------------------------------------------------------- */
/* The whole path on one image                                             */

typedef struct scan_ctx {
    fe_image *im;
    int name;
    const char *note;
    fe_hit_fn fn;
    void *arg;
} scan_ctx;

static int on_raw_hit(void *arg, uint64_t off)
{
    scan_ctx *c = arg;
    fe_place p;
    if (c->im) {
        fe_at_offset(c->im, off, c->name, &p);
    } else {
        memset(&p, 0, sizeof p);
        p.note = c->note;
    }
    return c->fn(c->arg, c->im, off, &p);
}

uint64_t fe_scan_image(void *img, size_t size, const uint8_t needle[4], int name,
                       fe_hit_fn fn, void *arg)
{
    char err[192];
    scan_ctx c = {NULL, name, NULL, fn, arg};
    c.im = fe_open(img, size, err, sizeof err);
    if (!c.im)
        c.note = err;
    uint64_t n = fs_scan(img, size, needle, 0, on_raw_hit, &c);
    fe_close(c.im);
    return n;
}
