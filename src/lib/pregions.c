/*
 * pregions.c — pregions.h: what each region of a process is used for.
 *
 * The rules, in the order they are tried (the first that matches wins):
 *
 *   Segment    the region pimg flags PIM_RF_SEGMENT.
 *   Image      a mapping of a module's file (pim modules), and the
 *              anonymous regions just after it that its last PT_LOAD
 *              covers (its .bss pages beyond the file:
 *              pim_module_bss_end).
 *   Other      [vdso], [vvar], [vsyscall], [vectors].
 *   Heap       glibc's arenas' spans (gh, when given); "[heap]"; a region
 *              that starts with the brk heap's first chunk (glibc's tcache
 *              block: prev_size 0, size 0x291 — how a core's unnamed brk
 *              heap is recognised without gh); a glibc heap_info region (64
 *              MiB aligned, its header self-consistent: ar_ptr, size and
 *              mprotect_size) and the PROT_NONE rest of its 64 MiB; a run
 *              of mmapped malloc chunks filling an anonymous region
 *              exactly; pooltag's nonpaged pool (its 64 KiB-aligned
 *              mappings start with the slab or large-block magic);
 *              mimalloc 2.0.9's segments (32 MiB aligned, the segment
 *              header's sizes self-consistent).
 *   Stack      the region holding a thread's stack pointer (registers: a
 *              core, or a live process opened with PIM_STOP); "[stack]"
 *              (the main thread, live); the region holding a non-main
 *              thread's fs_base (glibc puts the thread's TCB at the top of
 *              its stack mapping); without registers, an anonymous region
 *              just above a PROT_NONE guard whose top holds a glibc TCB
 *              (two words that hold their own address: tcb and self) — its
 *              tid field names the thread.  A PROT_NONE region just below a
 *              stack is that stack's guard (Other, named after it).
 *   MappedFile any other file mapping (also /dev/zero, SysV and memfd
 *              mappings other than the segment).
 *   Other      PROT_NONE regions (guard pages, reserved address space).
 *   Anonymous  the rest ("[anon:NAME]" regions keep their name).
 *
 * Memory is read only through pim_read (a few words per region), so a
 * live process is classified in a few hundred small reads and a core
 * without reading its bulk.
 */
#include "pregions.h"

#include "emit.h"
#include "pimsym.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[PR_NKINDS] = {
    [PR_HEAP] = "Heap",       [PR_STACK] = "Stack",     [PR_IMAGE] = "Image",
    [PR_FILE] = "MappedFile", [PR_SEGMENT] = "Segment", [PR_ANON] = "Anonymous",
    [PR_OTHER] = "Other",
};
static const char *const kind_words[PR_NKINDS] = {
    [PR_HEAP] = "heap",  [PR_STACK] = "stack",     [PR_IMAGE] = "image", [PR_FILE] = "file",
    [PR_SEGMENT] = "segment", [PR_ANON] = "anon", [PR_OTHER] = "other",
};

const char *pr_kind_name(int kind)
{
    return kind >= 0 && kind < PR_NKINDS ? kind_names[kind] : "?";
}

int pr_kind_parse(const char *word)
{
    if (!word)
        return -1;
    for (int k = 0; k < PR_NKINDS; k++)
        if (strcasecmp(word, kind_words[k]) == 0 || strcasecmp(word, kind_names[k]) == 0)
            return k;
    if (strcasecmp(word, "anonymous") == 0)
        return PR_ANON;
    if (strcasecmp(word, "mapped") == 0)
        return PR_FILE;
    return -1;
}

void pr_free(pr_class *c, size_t n)
{
    if (!c)
        return;
    for (size_t i = 0; i < n; i++)
        free((char *)c[i].detail);
    free(c);
}

/* ---------------------------------------------------------------------- */

#define PAGE 4096u
/* glibc (x86-64): HEAP_MAX_SIZE of a thread arena's heap_info region. */
#define GLIBC_HEAP_MAX (64ull << 20)
/* glibc 2.26+ on 64 bits: the brk heap's first chunk is the main thread's
 * tcache_perthread_struct, 0x290 bytes, PREV_INUSE set. */
#define GLIBC_TCACHE_CHUNK 0x291u
/* glibc (x86-64, 2.3x): the tid field of struct pthread, after the
 * tcbhead_t header (0x2c0) and the list_t links (0x10). */
#define GLIBC_PTHREAD_TID 0x2d0u
/* pooltag's nonpaged arena (src/runtime/nonpaged.c). */
#define NP_ALIGN (64u * 1024u)
#define NP_MAGIC_SLAB 0x62616c5370746e70ull  /* "pntpSlab" */
#define NP_MAGIC_LARGE 0x67724c5370746e70ull /* "pntpSLrg" */
/* mimalloc 2.x: segments are 32 MiB aligned, made of 64 KiB slices. */
#define MI_SEGMENT (32ull << 20)
#define MI_SLICE (64ull << 10)
/* x86-64: the legacy vsyscall page, at a fixed address. */
#define VSYSCALL_ADDR 0xffffffffff600000ull

typedef struct cls_state {
    pim *p;
    pr_class *c;
    int oom;
    uint64_t *bss_end;     /* per module: pim_module_bss_end, once asked */
} cls_state;

static void set(cls_state *s, size_t i, int kind, long thread, long module, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void set(cls_state *s, size_t i, int kind, long thread, long module, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *d = strdup(buf);
    if (!d) {
        s->oom = 1;
        return;
    }
    free((char *)s->c[i].detail);
    s->c[i].kind = kind;
    s->c[i].detail = d;
    s->c[i].thread = thread;
    s->c[i].module = module;
}

static int unset(const cls_state *s, size_t i)
{
    return s->c[i].kind < 0;
}

static int anon(const pim_region *r)
{
    return !(r->flags & (PIM_RF_FILE | PIM_RF_SEGMENT)) && (!r->path || !r->path[0] ||
                                                            strncmp(r->path, "[anon:", 6) == 0);
}

static int anon_rw(const pim_region *r)
{
    return anon(r) && (r->prot & (PIM_R | PIM_W)) == (PIM_R | PIM_W) && !(r->flags & PIM_RF_SHARED);
}

/* PROT_NONE address space: PROT_NONE (not a core's file mapping whose
 * protection is unknown), or in a core an anonymous read-only region,
 * which is how gcore writes PROT_NONE ones. */
static int noaccess(const pim *p, const pim_region *r)
{
    if (r->prot == 0)
        return !(r->flags & PIM_RF_NOPHDR);
    return p->kind == PIM_CORE && r->prot == PIM_R && anon(r);
}

static size_t region_index(const pim *p, const pim_region *r)
{
    return (size_t)(r - p->regions);
}

/* The first 64 KiB-aligned address of r's, or 0. */
static uint64_t first_aligned(const pim_region *r, uint64_t align)
{
    uint64_t a = (r->start + align - 1) & ~(align - 1);
    return a >= r->start && a < r->end ? a : 0;
}

/* ---- Heap ---------------------------------------------------------------- */

/* The regions of glibc's arenas' spans, as gheap found them (the same
 * details as the signatures below give). */
static void heap_gh(cls_state *s, gh_heap *gh)
{
    pim *p = s->p;
    size_t na = gh_narenas(gh);
    for (size_t a = 0; a < na; a++) {
        const gh_arena *ar = gh_arena_at(gh, a);
        for (size_t k = 0; ar && k < ar->nspans; k++) {
            for (size_t i = 0; i < p->nregions; i++) {
                const pim_region *r = &p->regions[i];
                if (!unset(s, i) || r->end <= ar->spans[k].start ||
                    r->start >= ar->spans[k].end)
                    continue;
                int res = noaccess(p, r);
                if (ar->main)
                    set(s, i, PR_HEAP, -1, -1, "%s%s", "brk heap (glibc main arena)",
                        res ? " (reserved)" : "");
                else
                    set(s, i, PR_HEAP, -1, -1, "glibc arena heap%s", res ? " (reserved)" : "");
                s->c[i].reserved = res;
            }
        }
    }
}

/* A glibc heap_info header at r->start: 0, or 1 and the committed size. */
static int heap_info_at(pim *p, const pim_region *r, uint64_t *size)
{
    uint64_t h[4]; /* ar_ptr, prev, size, mprotect_size */
    if ((r->start & (GLIBC_HEAP_MAX - 1)) || r->avail < sizeof h ||
        pim_read_all(p, r->start, h, sizeof h) < 0)
        return 0;
    uint64_t ar = h[0], sz = h[2], mp = h[3];
    /* ar_ptr: this heap's arena, in this heap (the first one) or in an
     * earlier heap_info region of the same arena. */
    if (ar == 0 || (ar & 7) || sz == 0 || (sz & (PAGE - 1)) || sz > GLIBC_HEAP_MAX ||
        mp < sz || mp > GLIBC_HEAP_MAX || sz > r->end - r->start + PAGE)
        return 0;
    if (!(ar >= r->start + 32 && ar < r->start + sz)) {
        const pim_region *ra = pim_region_at(p, ar);
        if (!ra || (ra->start & (GLIBC_HEAP_MAX - 1)) || !anon_rw(ra))
            return 0;
    }
    *size = sz;
    return 1;
}

/* Whether r is a run of glibc mmapped chunks that fills it exactly. */
static size_t mmapped_chunks(pim *p, const pim_region *r)
{
    uint64_t len = r->end - r->start, off = 0;
    size_t n = 0;
    if (r->avail < len)
        return 0;
    while (off < len) {
        uint64_t h[2];
        if (n >= 4096 || pim_read_all(p, r->start + off, h, sizeof h) < 0)
            return 0;
        uint64_t csize = h[1] & ~7ull;
        if (h[0] != 0 || (h[1] & 7) != 2 || csize == 0 || (csize & (PAGE - 1)) ||
            csize > len - off)
            return 0;
        off += csize;
        n++;
    }
    return n;
}

/* pooltag's nonpaged pool: a slab or large-block header at the region's
 * first 64 KiB-aligned address, its map_size within the region. */
static int nonpaged_at(pim *p, const pim_region *r)
{
    uint64_t a = first_aligned(r, NP_ALIGN), h[2];
    if (!a || pim_read_all(p, a, h, sizeof h) < 0)
        return 0;
    return (h[0] == NP_MAGIC_SLAB && h[1] == NP_ALIGN) ||
           (h[0] == NP_MAGIC_LARGE && h[1] > 0 && h[1] <= r->end - a + NP_ALIGN);
}

/*
 * A mimalloc segment at the region's first 32 MiB-aligned address, in the
 * layout of mimalloc 2.0.9 (Debian 12's libmimalloc2.0): the header
 * (mi_segment_t) has, in words 27..31, cookie, segment_slices,
 * segment_info_slices, kind and slice_entries.  They must agree: a normal
 * segment (kind 0) is 512 slices of 64 KiB (32 MiB), a huge one (kind 1)
 * at least that; its info slices are few; slice_entries is at most
 * segment_slices.  Other versions' headers do not pass and stay Anonymous.
 */
static int mimalloc_at(pim *p, const pim_region *r)
{
    uint64_t a = first_aligned(r, MI_SEGMENT);
    uint64_t w[32];
    if (!a || a + MI_SLICE > r->end || pim_read_all(p, a, w, sizeof w) < 0)
        return 0;
    uint64_t slices = w[28], info = w[29], kind = w[30], entries = w[31];
    if (kind > 1 || info == 0 || info > 64 || entries == 0 || entries > slices)
        return 0;
    if (kind == 0 && slices * MI_SLICE != MI_SEGMENT)
        return 0;
    if (kind == 1 && (slices > (1ull << 24) || slices * MI_SLICE < MI_SEGMENT))
        return 0;
    return 1;
}

/* The rest of the 64 MiB of the heap_info region starting at region i:
 * reserved PROT_NONE (gcore: read-only) address space of the arena. */
static void arena_reserve(cls_state *s, size_t i)
{
    pim *p = s->p;
    const pim_region *r = &p->regions[i];
    for (size_t j = i + 1; j < p->nregions; j++) {
        const pim_region *q = &p->regions[j];
        if (q->start != p->regions[j - 1].end || q->end > r->start + GLIBC_HEAP_MAX ||
            !noaccess(p, q) || !anon(q) || !unset(s, j))
            break;
        set(s, j, PR_HEAP, -1, -1, "glibc arena heap (reserved)");
        s->c[j].reserved = 1;
    }
}

static void heap_signatures(cls_state *s)
{
    pim *p = s->p;
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        if (s->c[i].kind == PR_HEAP && !(r->start & (GLIBC_HEAP_MAX - 1)) &&
            strcmp(s->c[i].detail, "glibc arena heap") == 0)
            arena_reserve(s, i); /* an arena gheap found */
        if (!unset(s, i))
            continue;
        if (r->path && strcmp(r->path, "[heap]") == 0) {
            set(s, i, PR_HEAP, -1, -1, "brk heap (glibc main arena)");
            continue;
        }
        if (!anon_rw(r))
            continue;
        uint64_t h[2], hsz;
        size_t n;
        if (pim_read_all(p, r->start, h, sizeof h) == 0 && h[0] == 0 &&
            h[1] == GLIBC_TCACHE_CHUNK) {
            set(s, i, PR_HEAP, -1, -1, "brk heap (glibc main arena)");
        } else if (heap_info_at(p, r, &hsz)) {
            set(s, i, PR_HEAP, -1, -1, "glibc arena heap");
            arena_reserve(s, i);
        } else if ((n = mmapped_chunks(p, r)) > 0) {
            set(s, i, PR_HEAP, -1, -1, n == 1 ? "glibc mmapped chunk" : "%zu glibc mmapped chunks",
                n);
        } else if (nonpaged_at(p, r)) {
            set(s, i, PR_HEAP, -1, -1, "pooltag nonpaged pool");
        } else if (mimalloc_at(p, r)) {
            set(s, i, PR_HEAP, -1, -1, "mimalloc segment");
        }
    }
}

/* ---- Stack --------------------------------------------------------------- */

static void name_thread(const pim *p, long t, char *buf, size_t size)
{
    const pim_thread *th = &p->threads[t];
    if (th->name[0])
        snprintf(buf, size, "thread %" PRIu32 " (%.16s)", th->tid, th->name);
    else
        snprintf(buf, size, "thread %" PRIu32, th->tid);
}

static void set_stack(cls_state *s, size_t i, long t)
{
    char name[64];
    name_thread(s->p, t, name, sizeof name);
    set(s, i, PR_STACK, t, -1, "%s", name);
}

static long thread_by_tid(const pim *p, uint64_t tid)
{
    for (size_t t = 0; t < p->nthreads; t++)
        if (p->threads[t].tid == tid)
            return (long)t;
    return -1;
}

/* Without registers: the glibc TCB at the top of a thread's stack
 * mapping.  -2 when there is none, -1 a TCB of no listed thread (a stack
 * glibc keeps cached for the next thread), else the thread's index. */
static long tcb_thread(pim *p, const pim_region *r)
{
    enum { SCAN = 64 * 1024 };
    static uint8_t buf[SCAN];
    uint64_t len = r->end - r->start, from = len > SCAN ? r->end - SCAN : r->start;
    if (r->avail < len)
        return -2;
    size_t n = pim_read(p, from, buf, (size_t)(r->end - from));
    for (size_t off = (n >= 24 ? (n - 24) & ~(size_t)63 : 0) + 64; off-- > 0;) {
        if (off % 64 || off + 24 > n)
            continue;
        uint64_t w0, w2, pos = from + off;
        memcpy(&w0, buf + off, 8);
        memcpy(&w2, buf + off + 16, 8);
        if (w0 != pos || w2 != pos)
            continue;
        uint32_t tid = 0;
        if (off + GLIBC_PTHREAD_TID + 4 <= n)
            memcpy(&tid, buf + off + GLIBC_PTHREAD_TID, 4);
        else if (pim_read_all(p, pos + GLIBC_PTHREAD_TID, &tid, 4) < 0)
            return -1;
        long t = tid ? thread_by_tid(p, tid) : -1;
        return t;
    }
    return -2;
}

static void stacks(cls_state *s)
{
    pim *p = s->p;
    for (size_t t = 0; t < p->nthreads; t++) {
        const pim_thread *th = &p->threads[t];
        if (th->have_regs <= 0)
            continue;
        const pim_region *r = pim_region_at(p, th->sp);
        if (r && (unset(s, region_index(p, r)) || s->c[region_index(p, r)].kind == PR_ANON))
            set_stack(s, region_index(p, r), (long)t);
        /* A non-main thread's TCB is at the top of its stack mapping. */
        r = t > 0 ? pim_region_at(p, th->fs_base) : NULL;
        if (r && anon_rw(r) && unset(s, region_index(p, r)))
            set_stack(s, region_index(p, r), (long)t);
    }
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        if (!unset(s, i))
            continue;
        if (r->path && strcmp(r->path, "[stack]") == 0) {
            long main = p->nthreads && p->threads[0].tid == p->pid ? 0 : -1;
            if (main == 0)
                set_stack(s, i, 0);
            else
                set(s, i, PR_STACK, -1, -1, "main thread");
            continue;
        }
        /* glibc's thread stacks: a guard page below, the TCB on top. */
        if (i == 0 || !anon_rw(r) || !noaccess(p, &p->regions[i - 1]) ||
            p->regions[i - 1].end != r->start)
            continue;
        long t = tcb_thread(p, r);
        if (t >= 0)
            set_stack(s, i, t);
        else if (t == -1)
            set(s, i, PR_STACK, -1, -1, "thread stack of no live thread (glibc's cache)");
    }
    /* Guard pages: PROT_NONE just below a stack. */
    for (size_t i = 0; i + 1 < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        if (unset(s, i) && noaccess(p, r) && anon(r) && r->end == p->regions[i + 1].start &&
            s->c[i + 1].kind == PR_STACK && r->end - r->start <= (1u << 20)) {
            set(s, i, PR_OTHER, -1, -1, "guard of %s's stack", s->c[i + 1].detail);
            s->c[i].reserved = 1;
        }
    }
}

/* ---------------------------------------------------------------------- */

static long module_of_path(const pim *p, const char *path)
{
    for (size_t m = 0; m < p->nmodules; m++)
        if (strcmp(p->modules[m].path, path) == 0)
            return (long)m;
    return -1;
}

/* The module whose .bss (pim_module_bss_end) holds anonymous region r,
 * or -1. */
static long bss_module(cls_state *s, const pim_region *r)
{
    pim *p = s->p;
    if (!s->bss_end) {
        s->bss_end = calloc(p->nmodules ? p->nmodules : 1, sizeof *s->bss_end);
        if (!s->bss_end) {
            s->oom = 1;
            return -1;
        }
        for (size_t m = 0; m < p->nmodules; m++)
            s->bss_end[m] = pim_module_bss_end(p, &p->modules[m]);
    }
    for (size_t m = 0; m < p->nmodules; m++)
        if (r->start >= p->modules[m].start && r->end <= s->bss_end[m])
            return (long)m;
    return -1;
}

int pr_classify(pim *p, gh_heap *gh, pr_class **out, char *err, size_t errlen)
{
    *out = NULL;
    cls_state s = {p, calloc(p->nregions ? p->nregions : 1, sizeof(pr_class)), 0, NULL};
    if (!s.c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < p->nregions; i++) {
        s.c[i].kind = -1;
        s.c[i].thread = s.c[i].module = -1;
    }
    /* Segment, Image, and the kernel's special mappings. */
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        const char *path = r->path ? r->path : "";
        long m;
        if (r->flags & PIM_RF_SEGMENT) {
            set(&s, i, PR_SEGMENT, -1, -1, "pooltag segment");
        } else if ((r->flags & PIM_RF_FILE) && (m = module_of_path(p, path)) >= 0) {
            set(&s, i, PR_IMAGE, -1, m, "%s", p->modules[m].name);
        } else if (r->start == VSYSCALL_ADDR) {
            set(&s, i, PR_OTHER, -1, -1, "[vsyscall]");
        } else if (anon(r) && !(r->flags & PIM_RF_SHARED) && (m = bss_module(&s, r)) >= 0) {
            set(&s, i, PR_IMAGE, -1, m, "%s", p->modules[m].name);
        } else if (!strcmp(path, "[vdso]") || !strcmp(path, "[vvar]") ||
                   !strcmp(path, "[vsyscall]") || !strcmp(path, "[vectors]") ||
                   !strncmp(path, "[vvar_", 6)) {
            set(&s, i, PR_OTHER, -1, -1, "%s", path);
        }
        if (unset(&s, i) && p->kind == PIM_CORE && anon(r) && (r->prot & PIM_X) &&
            !(r->prot & PIM_W) && r->end - r->start <= (64u << 10)) {
            /* A core does not name the vDSO: an anonymous executable ELF. */
            unsigned char mag[4];
            if (pim_read_all(p, r->start, mag, 4) == 0 && memcmp(mag, "\177ELF", 4) == 0)
                set(&s, i, PR_OTHER, -1, -1, "[vdso]");
        }
    }
    if (gh)
        heap_gh(&s, gh);
    heap_signatures(&s);
    stacks(&s);
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        const char *path = r->path ? r->path : "";
        if (r->prot == 0 && !(r->flags & PIM_RF_NOPHDR))
            s.c[i].reserved = 1;
        if (!unset(&s, i))
            continue;
        if ((r->flags & PIM_RF_FILE) || (path[0] == '/'))
            set(&s, i, PR_FILE, -1, -1, "%s", path);
        else if (r->prot == 0)
            set(&s, i, PR_OTHER, -1, -1, "PROT_NONE (guard or reserved)");
        else if (path[0] == '[' && strncmp(path, "[anon:", 6) != 0)
            set(&s, i, PR_OTHER, -1, -1, "%s", path);
        else
            set(&s, i, PR_ANON, -1, -1, "%s", path);
    }
    free(s.bss_end);
    if (s.oom) {
        pr_free(s.c, p->nregions);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = s.c;
    return 0;
}

/* ---------------------------------------------------------------------- */

void pr_emit_source(struct emitter *e, const pim *p, const char *spec)
{
    if (!emit_json(e))
        return;
    emit_obj_begin(e, "source");
    emit_kv_str(e, "kind", p->kind == PIM_LIVE ? "live" : p->kind == PIM_CORE ? "core" : "memory");
    emit_kv_str(e, "spec", spec);
    if (p->pid)
        emit_kv_u64(e, "pid", p->pid);
    else
        emit_kv_null(e, "pid");
    emit_kv_str(e, "comm", p->comm[0] ? p->comm : NULL);
    emit_kv_str(e, "exe", p->exe[0] ? p->exe : NULL);
    emit_kv_u64(e, "threads", p->nthreads);
    emit_kv_bool(e, "stopped", p->stopped || p->stopped_ns > 0);
    emit_obj_end(e);
}

void pr_describe(FILE *f, const pim *p, const char *spec)
{
    if (p->kind == PIM_LIVE)
        fprintf(f, "process %" PRIu32 " (%s), live%s", p->pid, cli_esc(p->comm),
                p->stopped ? ", stopped" : "");
    else if (p->kind == PIM_CORE) {
        fprintf(f, "core %s", cli_esc(spec));
        if (p->pid || p->comm[0])
            fprintf(f, " of process %" PRIu32 " (%s)", p->pid, cli_esc(p->comm));
    } else
        fprintf(f, "%s", cli_esc(p->source ? p->source : spec));
}
