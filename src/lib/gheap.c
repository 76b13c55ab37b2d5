/*
 * gheap.c — gheap.h: glibc's malloc heap read from outside a process.
 *
 * The layout is glibc 2.36's on x86-64 (Debian 12), checked with gdb's
 * `ptype /o` against the installed libc6-dbg:
 *   struct malloc_state (2200 bytes): mutex 0, flags 4, have_fastchunks 8,
 *     fastbinsY[10] 16, top 96, last_remainder 104, bins[254] 112,
 *     binmap[4] 2144, next 2160, next_free 2168, attached_threads 2176,
 *     system_mem 2184, max_system_mem 2192;
 *   struct malloc_par mp_ (136 bytes; Debian's has thp_pagesize):
 *     n_mmaps 60, mmapped_mem 80, sbrk_base 96, tcache_count 120;
 *   heap_info (48 bytes): ar_ptr 0, prev 8, size 16, mprotect_size 24;
 *   tcache_perthread_struct (640 bytes, a 0x290 chunk): uint16_t
 *     counts[64] then tcache_entry *entries[64];
 *   tcache_entry: next (PROTECT_PTR'd), key.
 * A chunk: prev_size, size | PREV_INUSE 1 | IS_MMAPPED 2 | NON_MAIN_ARENA 4,
 * then the program's bytes (mem = chunk + 16); bin i (1-based) is the fake
 * chunk whose fd/bk are bins[2(i-1)], bins[2(i-1)+1] (so its address is
 * &bins[2(i-1)] - 16); an empty bin points at itself.
 */
#include "gheap.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* malloc_state */
#define MS_FASTBINS 16
#define MS_TOP 96
#define MS_BINS 112
#define MS_NEXT 2160
#define MS_SYSTEM_MEM 2184
#define MS_SIZE 2200
#define NFASTBINS 10
#define NBINS_WORDS 254
/* malloc_par */
#define MP_N_MMAPS 60
#define MP_MMAPPED_MEM 80
#define MP_SBRK_BASE 96
#define MP_TCACHE_COUNT 120
#define MP_SIZE 136
/* heap_info */
#define HI_SIZE 48
#define HEAP_MAX (64ull << 20)
/* tcache */
#define TC_BINS 64
#define TC_CHUNK 0x290
#define TC_STRUCT 640

#define CHUNK_MIN 32
#define FLAG_MASK 7ull
#define PREV_INUSE 1ull
#define IS_MMAPPED 2ull
#define NON_MAIN 4ull

#define MAX_ARENAS 4096
#define MAX_HEAPS 65536
#define WIN (1u << 20)

typedef struct special { uint64_t addr; int state; } special;

struct gh_heap {
    pim *p;
    const char *found_by;
    uint64_t main_arena;
    uint64_t mp;               /* 0: unknown                             */
    uint64_t tcache_count;     /* mp_.tcache_count, else glibc's default */
    size_t narenas;
    gh_arena *arenas;
    special *sp;               /* tcache/fastbin chunks and tcache structs,
                                  sorted by address                      */
    size_t nsp, capsp;
    struct mm { uint64_t addr, size; } *mm;
    size_t nmm, capmm;
    uint64_t mm_bytes;
    uint8_t *buf;              /* WIN bytes for live reads               */
};

/* ---------------------------------------------------------------------- */
/* reading                                                                  */

typedef struct rdwin {
    pim *p;
    uint64_t base;
    size_t len;
    const uint8_t *ptr;
    uint8_t *buf;
} rdwin;

static int win_word(rdwin *w, uint64_t addr, uint64_t *out)
{
    if (w->ptr && addr >= w->base && addr - w->base + 8 <= w->len) {
        memcpy(out, w->ptr + (addr - w->base), 8);
        return 0;
    }
    const pim_region *r = pim_region_at(w->p, addr);
    if (!r || addr - r->start + 8 > r->avail)
        return -1;
    size_t got = 0;
    const uint8_t *q = pim_bytes(w->p, r, addr - r->start, WIN, w->buf, &got);
    if (!q || got < 8)
        return -1;
    w->base = addr;
    w->len = got;
    w->ptr = q;
    memcpy(out, q, 8);
    return 0;
}

static int rw_region(const pim *p, uint64_t a)
{
    const pim_region *r = pim_region_at(p, a);
    return r && (r->prot & PIM_W) && a - r->start < r->avail;
}

/* ---------------------------------------------------------------------- */
/* finding main_arena                                                       */

static int is_libc(const pim_module *m)
{
    return m->name && (strncmp(m->name, "libc.so", 7) == 0 || strncmp(m->name, "libc-2.", 7) == 0);
}

/* Look main_arena and mp_ up in libc's separate debug file, found by the
 * build-id read from the process (so it is the file of this very libc). */
static void lookup_symbols(const pim_module *m, uint64_t *arena, uint64_t *mp)
{
    *arena = *mp = 0;
    if (m->build_id_len < 2 || !m->base)
        return;
    char path[256];
    int n = snprintf(path, sizeof path, "/usr/lib/debug/.build-id/%02x/", m->build_id[0]);
    for (size_t i = 1; i < m->build_id_len && n < (int)sizeof path - 8; i++)
        n += snprintf(path + n, sizeof path - (size_t)n, "%02x", m->build_id[i]);
    snprintf(path + n, sizeof path - (size_t)n, ".debug");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e) {
        close(fd);
        return;
    }
    /* The load bias: libc's offset-0 mapping is its first PT_LOAD. */
    uint64_t vaddr0 = 0;
    size_t phn = 0;
    if (elf_getphdrnum(e, &phn) == 0)
        for (size_t i = 0; i < phn; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
                vaddr0 = ph.p_vaddr & ~0xfffull;
                break;
            }
        }
    uint64_t bias = m->base - vaddr0;
    Elf_Scn *s = NULL;
    while ((s = elf_nextscn(e, s)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(s, NULL);
        if (!d)
            continue;
        size_t cnt = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < cnt && (!*arena || !*mp); i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
                continue;
            const char *nm = elf_strptr(e, sh.sh_link, sym.st_name);
            if (!nm)
                continue;
            if (strcmp(nm, "main_arena") == 0 && sym.st_size == MS_SIZE)
                *arena = sym.st_value + bias;
            else if (strcmp(nm, "mp_") == 0 && sym.st_size == MP_SIZE)
                *mp = sym.st_value + bias;
        }
    }
    elf_end(e);
    close(fd);
}

/* Does a malloc_state's shape hold at a (bytes ms[0..MS_SIZE))?  Every
 * empty bin points at itself, every other at writable memory; top lies in
 * a writable region; most bins are empty (a heap has a few dozen sizes in
 * its bins at most). */
static int arena_shape(const pim *p, uint64_t a, const uint8_t *ms)
{
    int empty = 0;
    for (int i = 0; i < NBINS_WORDS / 2; i++) {
        uint64_t fd, bk, self = a + MS_BINS + 16u * (unsigned)i - 16;
        memcpy(&fd, ms + MS_BINS + 16 * i, 8);
        memcpy(&bk, ms + MS_BINS + 16 * i + 8, 8);
        if (fd == self && bk == self)
            empty++;
        else if (fd == self || bk == self || (fd & 15) || (bk & 15) || !rw_region(p, fd) ||
                 !rw_region(p, bk))
            return 0;
    }
    uint64_t top, next;
    memcpy(&top, ms + MS_TOP, 8);
    memcpy(&next, ms + MS_NEXT, 8);
    return empty >= 64 && top && !(top & 15) && rw_region(p, top) && next && !(next & 7);
}

static int find_by_shape(pim *p, const pim_module *m, uint64_t *out)
{
    uint8_t *ms = malloc(MS_SIZE);
    if (!ms)
        return -1;
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        /* libc's writable data: its file's rw mappings and the bss after */
        if (!(r->prot & PIM_W) || r->start < m->start || r->start > m->end + 0x10000)
            continue;
        if (r->start >= m->end && (r->flags & PIM_RF_FILE))
            continue;
        for (uint64_t a = r->start; a + MS_SIZE <= r->start + r->avail; a += 16) {
            uint64_t w0, w1;
            if (pim_word(p, a + MS_BINS, &w0) < 0 || w0 != a + MS_BINS - 16 ||
                pim_word(p, a + MS_BINS + 8, &w1) < 0 || w1 != w0)
                continue;
            if (pim_read_all(p, a, ms, MS_SIZE) == 0 && arena_shape(p, a, ms)) {
                uint64_t next;
                memcpy(&next, ms + MS_NEXT, 8);
                /* the ring of arenas returns to main_arena */
                uint64_t x = next;
                int ok = 0;
                for (int k = 0; k < MAX_ARENAS && x; k++) {
                    if (x == a) {
                        ok = 1;
                        break;
                    }
                    if (pim_word(p, x + MS_NEXT, &x) < 0)
                        break;
                }
                if (ok) {
                    *out = a;
                    free(ms);
                    return 0;
                }
            }
        }
    }
    free(ms);
    return -1;
}

/* ---------------------------------------------------------------------- */
/* free lists                                                               */

static int add_special(gh_heap *h, uint64_t addr, int state)
{
    if (h->nsp == h->capsp) {
        size_t nc = h->capsp ? h->capsp * 2 : 256;
        special *ns = realloc(h->sp, nc * sizeof *ns);
        if (!ns)
            return -1;
        h->sp = ns;
        h->capsp = nc;
    }
    h->sp[h->nsp].addr = addr;
    h->sp[h->nsp].state = state;
    h->nsp++;
    return 0;
}

static int in_spans(const gh_arena *a, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; i < a->nspans; i++)
        if (addr >= a->spans[i].start && addr <= a->spans[i].end &&
            len <= a->spans[i].end - addr)
            return 1;
    return 0;
}

static void note_list(gh_arena *a, const char *why, uint64_t at)
{
    if (!a->list_note) {
        a->list_note = why;
        a->list_note_at = at;
    }
}

/* The arena's fastbins: heads are chunk addresses, each fd is
 * PROTECT_PTR'd with the address of the fd field. */
static int read_fastbins(gh_heap *h, gh_arena *a, size_t ai, const uint8_t *ms)
{
    uint64_t bound = 0;
    for (size_t i = 0; i < a->nspans; i++)
        bound += (a->spans[i].end - a->spans[i].start) / CHUNK_MIN;
    for (int i = 0; i < NFASTBINS; i++) {
        uint64_t c;
        memcpy(&c, ms + MS_FASTBINS + 8 * i, 8);
        uint64_t want = CHUNK_MIN + 16u * (unsigned)i;
        for (uint64_t k = 0; c; k++) {
            uint64_t sz, fd;
            if (k > bound) {
                note_list(a, "a fastbin list loops", c);
                break;
            }
            if ((c & 15) || !in_spans(a, c, want) || pim_word(h->p, c + 8, &sz) < 0 ||
                (sz & ~FLAG_MASK) != want || pim_word(h->p, c + 16, &fd) < 0) {
                note_list(a, "a fastbin entry is not a chunk of its size", c);
                break;
            }
            if (add_special(h, c, GH_FAST) < 0)
                return -1;
            c = fd ^ ((c + 16) >> 12);
        }
    }
    (void)ai;
    return 0;
}

/* Is the busy 0x290 chunk at c a tcache_perthread_struct of arena a?  Its
 * counts are at most tcache_count and each list holds exactly counts[i]
 * entries of chunks of size class i in the arena, the last one's next
 * NULL.  On success the entries are added as GH_TCACHE. */
static int try_tcache(gh_heap *h, gh_arena *a, uint64_t c, int require_nonempty)
{
    uint8_t t[TC_STRUCT];
    if (pim_read_all(h->p, c + 16, t, sizeof t) < 0)
        return 0;
    uint16_t counts[TC_BINS];
    uint64_t heads[TC_BINS];
    memcpy(counts, t, sizeof counts);
    memcpy(heads, t + 2 * TC_BINS, sizeof heads);
    unsigned total = 0;
    for (int i = 0; i < TC_BINS; i++) {
        if (counts[i] > h->tcache_count || (counts[i] == 0) != (heads[i] == 0))
            return 0;
        total += counts[i];
    }
    if (require_nonempty && total == 0)
        return 0;
    size_t mark = h->nsp;
    for (int i = 0; i < TC_BINS; i++) {
        uint64_t e = heads[i], want = CHUNK_MIN + 16u * (unsigned)i;
        for (unsigned k = 0; k < counts[i]; k++) {
            uint64_t sz, nx;
            if (!e || (e & 15) || !in_spans(a, e - 16, want) || pim_word(h->p, e - 8, &sz) < 0 ||
                (sz & ~FLAG_MASK) != want || pim_word(h->p, e, &nx) < 0)
                goto bad;
            if (add_special(h, e - 16, GH_TCACHE) < 0)
                goto bad;
            e = nx ^ (e >> 12);
        }
        if (counts[i] && e != 0)
            goto bad;
    }
    return add_special(h, c, GH_INTERNAL) == 0;
bad:
    h->nsp = mark;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* the chunk walk                                                           */

static int cmp_special(const void *x, const void *y)
{
    const special *a = x, *b = y;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static size_t sp_lower(const gh_heap *h, uint64_t addr)
{
    size_t lo = 0, hi = h->nsp;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->sp[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Walk one span of arena ai.  mode 0: the tcache pass (find the arena's
 * tcache structs); mode 1: count into the arena; mode 2: call cb.  Returns
 * cb's nonzero value, else 0. */
static int walk_span(gh_heap *h, size_t ai, size_t si, int mode, gh_chunk_fn cb, void *arg)
{
    gh_arena *a = &h->arenas[ai];
    uint64_t start = a->spans[si].start, end = a->spans[si].end;
    int top_span = a->top >= start && a->top < end;
    rdwin w = {.p = h->p, .buf = h->buf};
    size_t spi = sp_lower(h, start);
    uint64_t pos = start;
    int first = 1;
    while (pos < end) {
        if (a->broken && pos == a->broken_at && mode != 1)
            return 0;
        uint64_t hdr;
        if (win_word(&w, pos + 8, &hdr) < 0) {
            if (mode == 1 && !a->broken) {
                a->broken = "its header cannot be read";
                a->broken_at = pos;
            }
            return 0;
        }
        uint64_t sz = hdr & ~FLAG_MASK;
        gh_chunk c = {.addr = pos, .mem = pos + 16, .size = sz, .arena = (int)ai};
        if (pos == a->top) {
            if (mode == 2) {
                c.state = GH_TOP;
                c.usable = sz >= 16 ? sz - 16 : 0;
                return cb(arg, &c);
            }
            return 0;
        }
        if (!top_span && sz < CHUNK_MIN && end - pos <= CHUNK_MIN)
            return 0; /* the fenceposts that end an older heap (sysmalloc) */
        const char *why = NULL;
        if (sz & 15)
            why = "is not a multiple of 16";
        else if (sz < CHUNK_MIN)
            why = "is below the minimum chunk";
        else if (sz > end - pos)
            why = "goes beyond its heap";
        else if (top_span && pos < a->top && pos + sz > a->top)
            why = "overlaps the top chunk";
        uint64_t nhdr = 0;
        if (!why && win_word(&w, pos + sz + 8, &nhdr) < 0)
            why = "leaves the next chunk's header unreadable";
        if (why) {
            if (mode == 1 && !a->broken) {
                a->broken = why;
                a->broken_at = pos;
                a->broken_size = sz;
            }
            return 0;
        }
        while (spi < h->nsp && h->sp[spi].addr < pos)
            spi++;
        int st = GH_BUSY;
        if (spi < h->nsp && h->sp[spi].addr == pos)
            st = h->sp[spi].state;
        else if (!(nhdr & PREV_INUSE))
            st = GH_FREE;
        if (mode == 0) {
            if (st == GH_BUSY && sz == TC_CHUNK)
                try_tcache(h, a, pos, !first);
        } else if (mode == 1) {
            if (st == GH_BUSY || st == GH_INTERNAL) {
                a->busy_bytes += sz;
                a->nbusy++;
            } else {
                a->free_bytes += sz;
                a->nfree++;
                if (sz > a->largest_free)
                    a->largest_free = sz;
                if (st == GH_FAST) {
                    a->fast_bytes += sz;
                    a->nfast++;
                } else if (st == GH_TCACHE) {
                    a->tcache_bytes += sz;
                    a->ntcache++;
                }
            }
        } else {
            c.state = st;
            c.usable = sz - 16 + 8; /* the next chunk's prev_size is ours */
            int rc = cb(arg, &c);
            if (rc)
                return rc;
        }
        first = 0;
        pos += sz;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* arenas                                                                   */

static int add_span(gh_arena *a, uint64_t s, uint64_t e)
{
    struct gh_span *ns = realloc(a->spans, (a->nspans + 1) * sizeof *ns);
    if (!ns)
        return -1;
    a->spans = ns;
    ns[a->nspans].start = s;
    ns[a->nspans].end = e;
    a->nspans++;
    return 0;
}

static uint64_t writable_bytes(const pim *p, uint64_t s, uint64_t e)
{
    uint64_t n = 0;
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        if (!(r->prot & PIM_W) || r->end <= s || r->start >= e)
            continue;
        n += (r->end < e ? r->end : e) - (r->start > s ? r->start : s);
    }
    return n;
}

/* Fill arena a (its malloc_state ms at a->addr): spans, figures. */
static int setup_arena(gh_heap *h, gh_arena *a, const uint8_t *ms)
{
    pim *p = h->p;
    memcpy(&a->top, ms + MS_TOP, 8);
    memcpy(&a->system_mem, ms + MS_SYSTEM_MEM, 8);
    uint64_t tsz;
    if (!a->top || (a->top & 15) || pim_word(p, a->top + 8, &tsz) < 0) {
        a->broken = "its top chunk cannot be read";
        a->broken_at = a->top;
        return 0;
    }
    a->top_size = tsz & ~FLAG_MASK;
    if (a->main) {
        const pim_region *r = pim_region_at(p, a->top);
        uint64_t first = r->start;
        uint64_t sb;
        if (h->mp && pim_word(p, h->mp + MP_SBRK_BASE, &sb) == 0 && sb && sb <= a->top &&
            sb >= r->start)
            first = sb;
        first = (first + 15) & ~15ull; /* mem = first + 16 is 16-aligned */
        uint64_t end = a->top + a->top_size;
        if (end < a->top || end > r->start + r->avail)
            end = a->top + 16;
        if (add_span(a, first, end) < 0)
            return -1;
        a->reserved = r->end - r->start;
        a->committed = writable_bytes(p, r->start, r->end);
        return 0;
    }
    /* heap_info regions, newest (top's) first, then prev */
    uint64_t hi = a->top & ~(HEAP_MAX - 1);
    for (int k = 0; hi && k < MAX_HEAPS; k++) {
        uint64_t info[3];
        if (pim_read_all(p, hi, info, sizeof info) < 0 || info[0] != a->addr ||
            info[2] < HI_SIZE || info[2] > HEAP_MAX) {
            a->broken = "a heap_info does not name its arena";
            a->broken_at = hi;
            break;
        }
        uint64_t first = hi + HI_SIZE;
        if (a->addr == hi + HI_SIZE)
            first = (hi + HI_SIZE + MS_SIZE + 15) & ~15ull;
        uint64_t end = hi + info[2];
        if (a->top >= hi && a->top < hi + HEAP_MAX)
            end = a->top + a->top_size <= hi + HEAP_MAX ? a->top + a->top_size : end;
        if (add_span(a, first, end) < 0)
            return -1;
        a->reserved += HEAP_MAX;
        a->committed += writable_bytes(p, hi, hi + HEAP_MAX);
        if (info[1] & (HEAP_MAX - 1))
            break;
        hi = info[1];
    }
    /* spans in address order */
    for (size_t i = 1; i < a->nspans; i++)
        for (size_t j = i; j > 0 && a->spans[j].start < a->spans[j - 1].start; j--) {
            struct gh_span t = a->spans[j];
            a->spans[j] = a->spans[j - 1];
            a->spans[j - 1] = t;
        }
    return 0;
}

/* mmapped chunks: in anonymous writable regions outside every arena, a
 * page that starts a chunk flagged IS_MMAPPED alone (prev_size 0 on
 * x86-64, where mmap's pages are already 16-aligned), whose size is a
 * whole number of pages within the region.  Adjacent mmaps share one
 * region in the maps, with other mappings too, so every page is a
 * candidate; a chunk found is skipped over whole. */
static int find_mmapped(gh_heap *h)
{
    pim *p = h->p;
    rdwin w = {.p = p, .buf = h->buf};
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        if (!(r->prot & PIM_W) || (r->flags & (PIM_RF_FILE | PIM_RF_SEGMENT)) ||
            (r->path && r->path[0] == '['))
            continue;
        int ours = 0;
        for (size_t k = 0; k < h->narenas && !ours; k++)
            for (size_t s = 0; s < h->arenas[k].nspans; s++)
                if (h->arenas[k].spans[s].start < r->end && h->arenas[k].spans[s].end > r->start)
                    ours = 1;
        if (ours)
            continue;
        uint64_t pos = r->start;
        while (pos + 16 <= r->start + r->avail) {
            uint64_t ps, sz;
            if (win_word(&w, pos, &ps) < 0 || win_word(&w, pos + 8, &sz) < 0)
                break;
            uint64_t csz = sz & ~FLAG_MASK;
            if (ps != 0 || (sz & FLAG_MASK) != IS_MMAPPED || csz < 4096 || (csz & 4095) ||
                csz > r->end - pos) {
                pos += 4096;
                continue;
            }
            if (h->nmm == h->capmm) {
                size_t nc = h->capmm ? h->capmm * 2 : 16;
                struct mm *n = realloc(h->mm, nc * sizeof *n);
                if (!n)
                    return -1;
                h->mm = n;
                h->capmm = nc;
            }
            h->mm[h->nmm].addr = pos;
            h->mm[h->nmm].size = csz;
            h->nmm++;
            h->mm_bytes += csz;
            pos += csz;
        }
    }
    return 0;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

int gh_open_flags(pim *p, unsigned flags, gh_heap **out, char *err, size_t errlen)
{
    *out = NULL;
    const pim_module *libc = NULL;
    for (size_t i = 0; i < p->nmodules && !libc; i++)
        if (is_libc(&p->modules[i]))
            libc = &p->modules[i];
    if (!libc)
        return fail(err, errlen, "no glibc malloc heap found (libc.so.6 is not mapped)");
    gh_heap *h = calloc(1, sizeof *h);
    if (!h)
        return fail(err, errlen, "out of memory");
    h->p = p;
    h->tcache_count = 7;
    if (p->kind == PIM_LIVE && !(h->buf = malloc(WIN))) {
        gh_close(h);
        return fail(err, errlen, "out of memory");
    }
    uint8_t *ms = malloc(MS_SIZE);
    if (!ms) {
        gh_close(h);
        return fail(err, errlen, "out of memory");
    }
    uint64_t sa = 0, smp = 0;
    if (!(flags & GH_NO_SYMBOLS))
        lookup_symbols(libc, &sa, &smp);
    if (sa && pim_read_all(p, sa, ms, MS_SIZE) == 0 && arena_shape(p, sa, ms)) {
        h->main_arena = sa;
        h->mp = smp;
        h->found_by = "symbol";
    } else if (find_by_shape(p, libc, &h->main_arena) == 0) {
        h->found_by = "signature";
    } else {
        free(ms);
        gh_close(h);
        uint64_t top;
        if (sa && pim_word(p, sa + MS_TOP, &top) == 0 && top == 0)
            return fail(err, errlen,
                        "no glibc malloc heap found (main_arena is not set up: no malloc yet)");
        return fail(err, errlen,
                    sa ? "no glibc malloc heap found (main_arena does not look like an arena)"
                       : "no glibc malloc heap found (main_arena not found in libc's data)");
    }
    uint64_t tc;
    if (h->mp && pim_word(p, h->mp + MP_TCACHE_COUNT, &tc) == 0 && tc <= 65535)
        h->tcache_count = tc;
    /* the ring of arenas */
    uint64_t x = h->main_arena;
    for (int k = 0; k < MAX_ARENAS; k++) {
        if (pim_read_all(p, x, ms, MS_SIZE) < 0)
            break;
        gh_arena *na = realloc(h->arenas, (h->narenas + 1) * sizeof *na);
        if (!na)
            goto oom;
        h->arenas = na;
        gh_arena *a = &na[h->narenas++];
        memset(a, 0, sizeof *a);
        a->addr = x;
        a->main = x == h->main_arena;
        if (setup_arena(h, a, ms) < 0 || read_fastbins(h, a, h->narenas - 1, ms) < 0)
            goto oom;
        memcpy(&x, ms + MS_NEXT, 8);
        if (x == h->main_arena || !x)
            break;
        int seen = 0;
        for (size_t i = 0; i < h->narenas; i++)
            seen |= h->arenas[i].addr == x;
        if (seen)
            break;
    }
    free(ms);
    ms = NULL;
    if (h->nsp)
        qsort(h->sp, h->nsp, sizeof *h->sp, cmp_special);
    /* tcache structs (and their lists), then the figures */
    for (size_t i = 0; i < h->narenas; i++) {
        size_t before = h->nsp;
        for (size_t s = 0; s < h->arenas[i].nspans; s++)
            walk_span(h, i, s, 0, NULL, NULL);
        if (h->nsp != before)
            qsort(h->sp, h->nsp, sizeof *h->sp, cmp_special);
    }
    /* a chunk in two lists is kept once */
    size_t o = 0;
    for (size_t i = 0; i < h->nsp; i++)
        if (o == 0 || h->sp[o - 1].addr != h->sp[i].addr)
            h->sp[o++] = h->sp[i];
    h->nsp = o;
    for (size_t i = 0; i < h->narenas; i++)
        for (size_t s = 0; s < h->arenas[i].nspans; s++)
            walk_span(h, i, s, 1, NULL, NULL);
    if (find_mmapped(h) < 0)
        goto oom;
    *out = h;
    return 0;
oom:
    free(ms);
    gh_close(h);
    return fail(err, errlen, "out of memory");
}

int gh_open(pim *p, gh_heap **out, char *err, size_t errlen)
{
    return gh_open_flags(p, 0, out, err, errlen);
}

void gh_close(gh_heap *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->narenas; i++)
        free(h->arenas[i].spans);
    free(h->arenas);
    free(h->sp);
    free(h->mm);
    free(h->buf);
    free(h);
}

size_t gh_narenas(const gh_heap *h)
{
    return h->narenas;
}

const gh_arena *gh_arena_at(const gh_heap *h, size_t i)
{
    return i < h->narenas ? &h->arenas[i] : NULL;
}

void gh_mmapped(const gh_heap *h, uint64_t *count, uint64_t *bytes)
{
    *count = h->nmm;
    *bytes = h->mm_bytes;
}

const char *gh_found_by(const gh_heap *h)
{
    return h->found_by;
}

int gh_walk(gh_heap *h, gh_chunk_fn cb, void *arg)
{
    for (size_t i = 0; i < h->narenas; i++)
        for (size_t s = 0; s < h->arenas[i].nspans; s++) {
            int rc = walk_span(h, i, s, 2, cb, arg);
            if (rc)
                return rc;
        }
    for (size_t i = 0; i < h->nmm; i++) {
        gh_chunk c = {.addr = h->mm[i].addr,
                      .mem = h->mm[i].addr + 16,
                      .size = h->mm[i].size,
                      .usable = h->mm[i].size - 16,
                      .state = GH_MMAPPED,
                      .arena = -1};
        int rc = cb(arg, &c);
        if (rc)
            return rc;
    }
    return 0;
}
