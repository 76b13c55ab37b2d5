/*
 * leakscan.c — leakscan.h: conservative reachability of a process's heap
 * blocks from its roots, read from outside.
 */
#include "leakscan.h"

#include "gheap.h"
#include "ptread.h"
#include "segment.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* The fields of a block header's w0 (src/runtime/internal.h, "The block
 * header"): size in bits 0..39, the site index in bits 47..63. */
#define LK_W0_SIZE_MASK ((1ull << 40) - 1)
#define LK_W0_SITE_SHIFT 47
#define LK_HDR 16u

#define LK_CHUNK (1u << 20) /* bytes per read of a streamed region */
#define LK_BIGREAD (64u << 20) /* bytes per read of a heap area (live) */
#define LK_REDZONE 128u     /* x86-64: below sp, a leaf function's data */
#define LK_HEAP_GRAIN 0x10000ull /* pooltag heap extents: 64 KiB aligned */

/* libstdc++'s demangler (C ABI). */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

typedef struct lk_area {
    uint64_t start, len;     /* readable bytes of a heap region          */
    const uint8_t *bytes;
    uint8_t *owned;          /* live: the copy                           */
    size_t mapped;           /* its size when mmapped (else malloc'd)    */
} lk_area;

typedef struct lk_site {
    uint64_t addr;
    uint32_t tag;
} lk_site;

typedef struct scan {
    pim *p;
    lk_result *r;
    size_t cap;
    lk_area *areas;
    size_t nareas, capareas;
    struct lk_iv { uint64_t start, end; } *hiv; /* heap memory: never roots */
    size_t nhiv, caphiv;
    uint8_t *stackreg;       /* per region: holds a thread's sp          */
    uint64_t lo, span;       /* blocks lie in [lo, lo + span)            */
    size_t *stack;           /* marked blocks still to scan              */
    size_t nstack;
    lk_site *sites;
    size_t nsites;
    uint64_t key;
    uint32_t age_now;        /* the segment's newest age epoch (0: none)  */
    uint8_t *buf;            /* LK_CHUNK bytes for streamed reads        */
    char *err;
    size_t errlen;
} scan;

static int fail(scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(scan *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int gone(scan *s)
{
    return fail(s, "process %u exited during the scan", (unsigned)s->p->pid);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* [start, end) is heap memory (an arena's span, an mmapped chunk, the
 * extent of pooltag headers in a region): not scanned as a root. */
static int add_heap(scan *s, uint64_t start, uint64_t end)
{
    if (end <= start)
        return 0;
    if (s->nhiv == s->caphiv) {
        size_t nc = s->caphiv ? 2 * s->caphiv : 64;
        struct lk_iv *n = realloc(s->hiv, nc * sizeof *n);
        if (!n)
            return fail(s, "out of memory");
        s->hiv = n;
        s->caphiv = nc;
    }
    s->hiv[s->nhiv].start = start;
    s->hiv[s->nhiv++].end = end;
    return 0;
}

static int iv_cmp(const void *a, const void *b)
{
    const struct lk_iv *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort and merge the heap intervals. */
static void heap_merge(scan *s)
{
    int sorted = 1;
    for (size_t i = 1; i < s->nhiv && sorted; i++)
        sorted = s->hiv[i - 1].start <= s->hiv[i].start;
    if (!sorted)
        qsort(s->hiv, s->nhiv, sizeof *s->hiv, iv_cmp);
    size_t o = 0;
    for (size_t i = 0; i < s->nhiv; i++) {
        if (o && s->hiv[i].start <= s->hiv[o - 1].end) {
            if (s->hiv[i].end > s->hiv[o - 1].end)
                s->hiv[o - 1].end = s->hiv[i].end;
            continue;
        }
        s->hiv[o++] = s->hiv[i];
    }
    s->nhiv = o;
}

/* The first heap interval that ends after addr (index; nhiv if none). */
static size_t heap_after(const scan *s, uint64_t addr)
{
    size_t lo = 0, hi = s->nhiv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->hiv[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int in_heap(const scan *s, uint64_t addr)
{
    size_t i = heap_after(s, addr);
    return i < s->nhiv && s->hiv[i].start <= addr;
}

static int add_block(scan *s, const lk_block *b)
{
    lk_result *r = s->r;
    if (r->nblocks == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 1024;
        lk_block *nb = realloc(r->blocks, nc * sizeof *nb);
        if (!nb)
            return fail(s, "out of memory");
        r->blocks = nb;
        s->cap = nc;
    }
    r->blocks[r->nblocks++] = *b;
    return 0;
}

/* The index of the region containing addr, or -1. */
static long region_index(const pim *p, uint64_t addr)
{
    size_t lo = 0, hi = p->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->regions[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->nregions && p->regions[lo].start <= addr)
        return (long)lo;
    return -1;
}

static void area_free(lk_area *a)
{
    if (a->mapped)
        munmap(a->owned, a->mapped);
    else
        free(a->owned);
    a->owned = NULL;
    a->mapped = 0;
}

/* All readable bytes of r from off, up to len: a pointer into the core or
 * the memory image, or a copy (live) in *owned.  *got is the count. */
static const uint8_t *region_read(scan *s, const pim_region *r, uint64_t off, uint64_t len,
                                  uint8_t **owned, size_t *mapped, uint64_t *got)
{
    *owned = NULL;
    *mapped = 0;
    *got = 0;
    if (off >= r->avail)
        return NULL;
    if (len > r->avail - off)
        len = r->avail - off;
    size_t g;
    if (s->p->kind != PIM_LIVE) {
        const uint8_t *b = pim_bytes(s->p, r, off, (size_t)len, NULL, &g);
        *got = b ? g : 0;
        return b;
    }
    /* A large copy is mapped populated: faulting its pages in one at a
     * time costs more than reading them. */
    uint8_t *buf;
    if (len >= LK_CHUNK) {
        void *m = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        buf = m;
        *mapped = (size_t)len;
    } else if (!(buf = malloc(len ? len : 1)))
        return NULL;
    uint64_t done = 0;
    while (done < len) {
        size_t want = len - done > LK_BIGREAD ? LK_BIGREAD : (size_t)(len - done);
        const uint8_t *b = pim_bytes(s->p, r, off + done, want, buf + done, &g);
        if (!b || g == 0)
            break;
        if (b != buf + done)
            memcpy(buf + done, b, g);
        done += g;
    }
    *owned = buf;
    *got = done;
    return buf;
}

/* ---------------------------------------------------------------------- */
/* blocks                                                                  */

/* The segment's site table and check key, through the reader
 * (ptr_read_pim: for a live process the consistent prefix that every
 * report verb reads, never the whole memfd).  An untagged process, or a
 * segment older than the check key, leaves s->nsites 0: no pooltag blocks
 * are looked for. */
static int seg_read(scan *s)
{
    const pim_region *sr;
    if (pim_segment(s->p, &sr) < 0)
        return 0;
    ptr_view v;
    char e[256];
    if (ptr_read_pim(s->p, &v, e, sizeof e) < 0) {
        if (pim_gone(s->p))
            return gone(s);
        return 0;
    }
    if (!(v.flags & PT_SEGF_CHECK_KEY) || !v.max_sites) {
        ptr_view_free(&v);
        return 0;
    }
    size_t n = (size_t)v.max_sites + 1;
    s->sites = calloc(n, sizeof *s->sites);
    if (!s->sites) {
        ptr_view_free(&v);
        return fail(s, "out of memory");
    }
    for (size_t i = 0; i < v.nsites; i++)
        if (v.sites[i].index < n) {
            s->sites[v.sites[i].index].addr = v.sites[i].addr;
            s->sites[v.sites[i].index].tag = v.sites[i].tag;
        }
    s->nsites = n;
    s->key = v.check_key;
    s->age_now = v.age_n ? v.age_n - 1 : 0;
    s->r->tagged = 1;
    ptr_view_free(&v);
    return 0;
}

typedef struct walk_arg {
    scan *s;
    int failed;
} walk_arg;

static int on_chunk(void *arg, const gh_chunk *c)
{
    walk_arg *w = arg;
    scan *s = w->s;
    if (c->state == GH_MMAPPED && add_heap(s, c->addr, c->addr + c->size) < 0) {
        w->failed = 1;
        return 1;
    }
    if ((c->state != GH_BUSY && c->state != GH_MMAPPED) || c->usable == 0)
        return 0;
    lk_block b;
    memset(&b, 0, sizeof b);
    b.start = b.addr = c->mem;
    b.end = c->mem + c->usable;
    b.size = c->usable;
    b.src = LK_GLIBC;
    if (add_block(s, &b) < 0) {
        w->failed = 1;
        return 1;
    }
    return 0;
}

static int glibc_blocks(scan *s)
{
    gh_heap *h;
    char e[256];
    if (gh_open(s->p, &h, e, sizeof e) < 0) {
        snprintf(s->r->glibc_note, sizeof s->r->glibc_note, "%s", e);
        return 0;
    }
    s->r->glibc = 1;
    for (size_t i = 0; i < gh_narenas(h); i++) {
        const gh_arena *a = gh_arena_at(h, i);
        for (size_t j = 0; j < a->nspans; j++)
            if (add_heap(s, a->spans[j].start, a->spans[j].end) < 0) {
                gh_close(h);
                return -1;
            }
        if (a->broken && !s->r->glibc_note[0])
            snprintf(s->r->glibc_note, sizeof s->r->glibc_note,
                     "the walk of arena %zu stopped at 0x%llx: %s", i,
                     (unsigned long long)a->broken_at, a->broken);
    }
    /* Room for every busy chunk at once (the walk's counts). */
    uint64_t want = 0, mc = 0, mb = 0;
    for (size_t i = 0; i < gh_narenas(h); i++)
        want += gh_arena_at(h, i)->nbusy;
    gh_mmapped(h, &mc, &mb);
    want += mc;
    if (want > s->cap && want < (1ull << 32)) {
        lk_block *nb = realloc(s->r->blocks, (size_t)want * sizeof *nb);
        if (nb) {
            s->r->blocks = nb;
            s->cap = (size_t)want;
        }
    }
    walk_arg w = {s, 0};
    gh_walk(h, on_chunk, &w);
    gh_close(h);
    return w.failed ? -1 : 0;
}

/* Pooltag headers in region ri (writable, anonymous), streamed through
 * s->buf. */
static int header_scan(scan *s, size_t ri)
{
    const pim_region *r = &s->p->regions[ri];
    uint64_t off = 0, lo = UINT64_MAX, hi = 0;
    while (off < r->avail) {
        size_t got;
        const uint8_t *b = pim_bytes(s->p, r, off, LK_CHUNK, s->buf, &got);
        if (!b || got < LK_HDR) {
            if (pim_gone(s->p))
                return gone(s);
            break;
        }
        s->r->read_bytes += got;
        size_t n = got & ~(size_t)(LK_HDR - 1);
        for (size_t i = 0; i < n; i += LK_HDR) {
            uint32_t tag;
            memcpy(&tag, b + i + 8, 4);
            if (tag == 0)
                continue;
            uint64_t w0;
            uint32_t check;
            memcpy(&w0, b + i, 8);
            memcpy(&check, b + i + 12, 4);
            uint64_t site = w0 >> LK_W0_SITE_SHIFT;
            if (site >= s->nsites || s->sites[site].tag != tag)
                continue;
            uint64_t h = r->start + off + i;
            if (check == pt_hdr_check_freed(h, tag, s->key)) {
                if (h < lo)
                    lo = h;
                if (h + LK_HDR > hi)
                    hi = h + LK_HDR;
                continue;
            }
            /* (a live block's check holds its age epoch's stamp) */
            if (pt_hdr_epoch(h, w0, tag, check, s->key, s->age_now) == UINT32_MAX)
                continue;
            uint64_t size = w0 & LK_W0_SIZE_MASK;
            if (size > r->end - h - LK_HDR)
                continue;
            if (h < lo)
                lo = h;
            if (h + LK_HDR + size > hi)
                hi = h + LK_HDR + size;
            lk_block bl;
            memset(&bl, 0, sizeof bl);
            bl.start = bl.addr = h + LK_HDR;
            bl.end = bl.start + (size ? size : 1);
            bl.size = size;
            bl.tag = tag;
            bl.site = (uint32_t)site;
            bl.site_addr = s->sites[site].addr;
            bl.src = LK_POOLTAG;
            bl.tagged = 1;
            if (add_block(s, &bl) < 0)
                return -1;
        }
        off += n;
    }
    /* The allocator's pages around them (mimalloc: 64 KiB pages). */
    if (hi) {
        lo = lo - r->start > LK_HEAP_GRAIN ? (lo & ~(LK_HEAP_GRAIN - 1)) : r->start;
        hi = r->end - hi > LK_HEAP_GRAIN ? (hi + LK_HEAP_GRAIN - 1) & ~(LK_HEAP_GRAIN - 1)
                                         : r->end;
        return add_heap(s, lo, hi);
    }
    return 0;
}

static int block_cmp(const void *a, const void *b)
{
    const lk_block *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (int)x->src - (int)y->src;
}

/* Sort; a pooltag block inside a glibc chunk (the libc backend) gives the
 * chunk its tag and site; any other overlap keeps the first block. */
static void blocks_merge(lk_result *r)
{
    int sorted = 1;
    for (size_t i = 1; i < r->nblocks && sorted; i++)
        sorted = block_cmp(&r->blocks[i - 1], &r->blocks[i]) <= 0;
    if (!sorted)
        qsort(r->blocks, r->nblocks, sizeof *r->blocks, block_cmp);
    size_t o = 0;
    for (size_t i = 0; i < r->nblocks; i++) {
        lk_block *b = &r->blocks[i];
        if (o && b->start < r->blocks[o - 1].end) {
            lk_block *last = &r->blocks[o - 1];
            if (last->src == LK_GLIBC && b->src == LK_POOLTAG && !last->tagged) {
                last->tagged = 1;
                last->addr = b->addr;
                last->size = b->size;
                last->tag = b->tag;
                last->site = b->site;
                last->site_addr = b->site_addr;
            }
            continue;
        }
        r->blocks[o++] = *b;
    }
    r->nblocks = o;
}

/* ---------------------------------------------------------------------- */
/* marking                                                                 */

static long block_index(const lk_result *r, uint64_t v)
{
    size_t lo = 0, hi = r->nblocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->blocks[mid].start <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const lk_block *b = &r->blocks[lo - 1];
    return v < b->end ? (long)(lo - 1) : -1;
}

const lk_block *lk_block_at(const lk_result *r, uint64_t addr)
{
    long i = block_index(r, addr);
    return i < 0 ? NULL : &r->blocks[i];
}

static inline void consider(scan *s, uint64_t v)
{
    if (v - s->lo >= s->span)
        return;
    long i = block_index(s->r, v);
    if (i < 0 || s->r->blocks[i].reached)
        return;
    s->r->blocks[i].reached = 1;
    s->stack[s->nstack++] = (size_t)i;
}

static void scan_words(scan *s, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, b + i, 8);
        consider(s, v);
    }
}

/* Stream [from, to) of region r (from 8-aligned) through consider. */
static int scan_range(scan *s, const pim_region *r, uint64_t from, uint64_t to)
{
    uint64_t avail_end = r->start + r->avail;
    if (to > r->end)
        to = r->end;
    s->r->root_regions++;
    if (to > avail_end) {
        s->r->root_unread += to - (from > avail_end ? from : avail_end);
        to = avail_end;
    }
    while (from + 8 <= to) {
        size_t want = to - from > LK_CHUNK ? LK_CHUNK : (size_t)(to - from);
        size_t got;
        const uint8_t *b = pim_bytes(s->p, r, from - r->start, want, s->buf, &got);
        if (!b || got < 8) {
            if (pim_gone(s->p))
                return gone(s);
            s->r->root_unread += to - from;
            break;
        }
        got &= ~(size_t)7;
        scan_words(s, b, got);
        s->r->root_bytes += got;
        s->r->read_bytes += got;
        from += got;
    }
    return 0;
}

/* The bytes of each heap region that hold blocks (from its first block's
 * start to its last block's end: a core's without a copy, a live
 * process's read once). */
static int areas_read(scan *s)
{
    pim *p = s->p;
    lk_result *r = s->r;
    size_t bi = 0;
    for (size_t ri = 0; ri < p->nregions && bi < r->nblocks; ri++) {
        const pim_region *rg = &p->regions[ri];
        while (bi < r->nblocks && r->blocks[bi].start < rg->start) {
            r->blocks[bi].unread = 1;
            r->blocks[bi++].area = UINT32_MAX;
        }
        while (bi < r->nblocks && r->blocks[bi].start < rg->end) {
            /* One area per cluster of blocks (a gap of 64 KiB or more
             * starts another), so sparse blocks are not read with all
             * the memory between them. */
            size_t first = bi;
            uint64_t hi = 0;
            while (bi < r->nblocks && r->blocks[bi].start < rg->end &&
                   (bi == first || r->blocks[bi].start < hi + LK_HEAP_GRAIN)) {
                uint64_t e = r->blocks[bi].end;
                if (e > rg->end)
                    e = rg->end;
                if (e > hi)
                    hi = e;
                bi++;
            }
            if (s->nareas == s->capareas) {
                size_t nc = s->capareas ? 2 * s->capareas : 64;
                lk_area *na = realloc(s->areas, nc * sizeof *na);
                if (!na)
                    return fail(s, "out of memory");
                s->areas = na;
                s->capareas = nc;
            }
            lk_area *a = &s->areas[s->nareas];
            memset(a, 0, sizeof *a);
            uint64_t from = r->blocks[first].start & ~7ull, got = 0;
            if (hi < from + 8)
                hi = from + 8;
            a->bytes = region_read(s, rg, from - rg->start, hi - from, &a->owned, &a->mapped,
                                   &got);
            if (!a->bytes || got == 0) {
                area_free(a);
                a->bytes = NULL;
                if (pim_gone(p))
                    return gone(s);
            } else {
                a->start = from;
                a->len = got;
                r->heap_read += got;
                r->read_bytes += got;
            }
            for (size_t k = first; k < bi; k++) {
                lk_block *b = &r->blocks[k];
                if (!a->bytes || b->end > a->start + a->len) {
                    b->unread = 1;
                    b->area = UINT32_MAX;
                    continue;
                }
                b->area = (uint32_t)s->nareas;
                if (b->size >= 8)
                    memcpy(&b->first, a->bytes + (b->start - a->start), 8);
            }
            if (a->bytes)
                s->nareas++;
        }
    }
    for (; bi < r->nblocks; bi++) {
        r->blocks[bi].unread = 1;
        r->blocks[bi].area = UINT32_MAX;
    }
    return 0;
}

static void mark_all(scan *s)
{
    while (s->nstack) {
        const lk_block *b = &s->r->blocks[s->stack[--s->nstack]];
        if (b->unread)
            continue;
        const lk_area *a = &s->areas[b->area];
        uint64_t from = (b->start + 7) & ~7ull, to = b->end;
        if (from >= to)
            continue;
        scan_words(s, a->bytes + (from - a->start), (size_t)(to - from));
        s->r->heap_bytes += to - from;
    }
}

static int roots(scan *s)
{
    pim *p = s->p;
    for (size_t t = 0; t < p->nthreads; t++) {
        const pim_thread *th = &p->threads[t];
        if (!th->have_regs) {
            s->r->nthreads_noregs++;
            continue;
        }
        s->r->nthreads_regs++;
        for (int k = 0; k < PIM_NGREGS; k++)
            consider(s, th->gregs[k]);
        s->r->root_bytes += PIM_NGREGS * 8;
        long ri = region_index(p, th->sp);
        if (ri < 0)
            continue;
        const pim_region *r = &p->regions[ri];
        uint64_t from = th->sp - r->start > LK_REDZONE ? th->sp - LK_REDZONE : r->start;
        from &= ~7ull;
        s->stackreg[ri] = 1;
        if (scan_range(s, r, from, r->end) < 0)
            return -1;
        /* Static TLS under a TCB inside a heap region (a static program's
         * brk): the pages around fs_base. */
        long fi = region_index(p, th->fs_base);
        if (fi >= 0 && in_heap(s, th->fs_base)) {
            const pim_region *fr = &p->regions[fi];
            uint64_t lo = th->fs_base - fr->start > 16384 ? (th->fs_base - 16384) & ~7ull
                                                          : fr->start;
            if (scan_range(s, fr, lo, th->fs_base + 4096) < 0)
                return -1;
        }
    }
    const pim_region *seg = NULL;
    if (pim_segment(p, &seg) < 0)
        seg = NULL;
    for (size_t ri = 0; ri < p->nregions; ri++) {
        const pim_region *r = &p->regions[ri];
        if (!(r->prot & PIM_W) || s->stackreg[ri] || r == seg || (r->flags & PIM_RF_SEGMENT))
            continue;
        /* The parts of the region outside heap memory. */
        uint64_t at = r->start;
        for (size_t i = heap_after(s, at); at < r->end; i++) {
            uint64_t to = i < s->nhiv && s->hiv[i].start < r->end ? s->hiv[i].start : r->end;
            if (to > at && scan_range(s, r, at, to) < 0)
                return -1;
            if (i >= s->nhiv || s->hiv[i].start >= r->end)
                break;
            at = s->hiv[i].end;
        }
    }
    return 0;
}

int lk_scan(pim *p, lk_result **out, char *err, size_t errlen)
{
    *out = NULL;
    scan s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.err = err;
    s.errlen = errlen;
    s.r = calloc(1, sizeof *s.r);
    s.stackreg = calloc(p->nregions + 1, 1);
    s.buf = malloc(LK_CHUNK);
    int rc = -1;
    if (!s.r || !s.stackreg || !s.buf) {
        fail(&s, "out of memory");
        goto done;
    }
    uint64_t t0 = now_ns();
    if (seg_read(&s) < 0 || glibc_blocks(&s) < 0)
        goto done;
    if (s.r->tagged)
        for (size_t ri = 0; ri < p->nregions; ri++) {
            const pim_region *r = &p->regions[ri];
            if (!(r->prot & PIM_W) || (r->flags & (PIM_RF_FILE | PIM_RF_SEGMENT)))
                continue;
            if (header_scan(&s, ri) < 0)
                goto done;
        }
    blocks_merge(s.r);
    for (size_t ri = 0; ri < p->nregions; ri++)
        if (p->regions[ri].path && !strcmp(p->regions[ri].path, "[heap]") &&
            add_heap(&s, p->regions[ri].start, p->regions[ri].end) < 0)
            goto done;
    /* Blocks outside the arenas' spans and the header extents (there
     * should be none) are heap memory too. */
    heap_merge(&s);
    size_t nh = s.nhiv;
    for (size_t i = 0; i < s.r->nblocks; i++) {
        const lk_block *b = &s.r->blocks[i];
        s.r->block_bytes += b->size;
        size_t k = heap_after(&s, b->start);
        if ((k >= nh || s.hiv[k].start > b->start || s.hiv[k].end < b->end) &&
            add_heap(&s, b->start, b->end) < 0)
            goto done;
    }
    heap_merge(&s);
    if (s.r->nblocks) {
        s.lo = s.r->blocks[0].start;
        uint64_t hi = 0;
        for (size_t i = 0; i < s.r->nblocks; i++)
            if (s.r->blocks[i].end > hi)
                hi = s.r->blocks[i].end;
        s.span = hi - s.lo;
    }
    s.stack = malloc((s.r->nblocks + 1) * sizeof *s.stack);
    if (!s.stack) {
        fail(&s, "out of memory");
        goto done;
    }
    if (areas_read(&s) < 0 || roots(&s) < 0)
        goto done;
    mark_all(&s);
    if (pim_gone(p)) {
        gone(&s);
        goto done;
    }
    for (size_t i = 0; i < s.r->nblocks; i++)
        if (!s.r->blocks[i].reached) {
            s.r->nleaked++;
            s.r->leaked_bytes += s.r->blocks[i].size;
        }
    s.r->scan_ns = now_ns() - t0;
    *out = s.r;
    s.r = NULL;
    rc = 0;
done:
    for (size_t i = 0; i < s.nareas; i++)
        area_free(&s.areas[i]);
    free(s.areas);
    free(s.hiv);
    free(s.stackreg);
    free(s.stack);
    free(s.sites);
    free(s.buf);
    lk_free(s.r);
    return rc;
}

void lk_free(lk_result *r)
{
    if (!r)
        return;
    free(r->blocks);
    free(r);
}

const char *lk_demangle(const char *sym, char *buf, size_t size)
{
    if (!sym || strncmp(sym, "_Z", 2) != 0 || size == 0)
        return NULL;
    int status = 0;
    char *d = __cxa_demangle(sym, NULL, NULL, &status);
    if (!d || status != 0) {
        free(d);
        return NULL;
    }
    snprintf(buf, size, "%s", d);
    free(d);
    return buf;
}
