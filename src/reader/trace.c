/*
 * trace.c — reading the stack table, the hit ring, the verify log, the
 * verify statistics, the tracked blocks and the leak reports of a segment
 * (segment.h, "Stacks, hit tags and pool tracking").
 *
 * Data model
 * ----------
 * These regions are reserved at start (tens of MB, mostly never touched),
 * so ptr_read's image stops before them; a ptr_trace reads them on demand
 * through ptr_source_pread: a live source reads the target's segment
 * afresh at each call, a file source copies from its image.  The header's
 * layout is checked once at ptr_trace_open (every region inside what the
 * source can read, every count within the reader's limits) and each record
 * as it is read (stack ids, module indices, depths, ops, pools), so bad
 * bytes give a one-line error, never a read outside a buffer.
 *
 * Rings: record i lives in slot i % size and is complete when its seq is
 * i + 1.  A reading copies the slots of the indices it wants, then reads
 * the ring header again: a record is taken if its copy has seq == i + 1
 * and the slot was not claimed again before the copy ended (i >= head -
 * size with the head read after the copy), else it is counted as torn.  A
 * restart (base or size changed) during the copy retries the reading.
 */
#include "ptread.h"
#include "ptsel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define fail ptr__fail
#define RING_ATTEMPTS 8

/* [off, off + n * each) within limit, 8-aligned; 1 when it is. */
static int region_ok(uint64_t off, uint64_t n, uint64_t each, uint64_t limit,
                     uint64_t *end)
{
    uint64_t bytes, e;
    if (off % 8 || __builtin_mul_overflow(n, each, &bytes) ||
        __builtin_add_overflow(off, bytes, &e) || e > limit)
        return 0;
    if (end)
        *end = e;
    return 1;
}

uint64_t ptr_seg_extent(const void *seg, size_t len, uint64_t limit)
{
    pt_seg_header h;
    uint64_t end = len, e;
    if (len < sizeof h)
        return len;
    memcpy(&h, seg, sizeof h);
    if (memcmp(h.magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN) || !h.control_off)
        return len;
#define TAKE(off, n, each)                                                  \
    do {                                                                    \
        if ((off) && region_ok((off), (n), (each), limit, &e) && e > end)   \
            end = e;                                                        \
    } while (0)
    TAKE(h.control_off, 1, sizeof(pt_seg_control));
    TAKE(h.stacks_off, h.max_stacks, 8);
    TAKE(h.frames_off, h.max_frames, 8);
    TAKE(h.rings_off, PT_SEG_NRINGS, sizeof(pt_seg_ring));
    TAKE(h.vstats_off, h.max_modules, sizeof(pt_seg_vstat));
    TAKE(h.tracked_off, h.max_tracked, sizeof(pt_seg_tracked));
    TAKE(h.leaks_off, PT_SEG_LEAKS, sizeof(pt_seg_leak));
    /* The special pool's settings page, block records and reports. */
    if (h.special_off && h.max_special <= PTR_MAX_SPECIAL_LIMIT) {
        TAKE(h.special_off, 1, sizeof(pt_seg_special));
        TAKE(h.spblk_off, h.max_special, sizeof(pt_seg_spblk));
        TAKE(h.spreports_off, PT_SEG_SPREPORTS, sizeof(pt_seg_spreport));
    }
    if (h.rings_off && region_ok(h.rings_off, PT_SEG_NRINGS, sizeof(pt_seg_ring),
                                 len, NULL)) {
        for (unsigned i = 0; i < PT_SEG_NRINGS; i++) {
            pt_seg_ring r;
            memcpy(&r, (const char *)seg + h.rings_off + i * sizeof r, sizeof r);
            if (r.cap <= PTR_RING_CAP_LIMIT)
                TAKE(r.records_off, r.cap, sizeof(pt_seg_rec));
        }
    }
#undef TAKE
    return end < limit ? end : limit;
}

static const char *const ring_name[PT_SEG_NRINGS] = {"hit ring", "verify log"};

int ptr_trace_open(ptr_source *s, ptr_trace *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->src = s;
    if (ptr_source_pread(s, &t->hdr, sizeof t->hdr, 0, err, errlen) < 0)
        return -1;
    const pt_seg_header *h = &t->hdr;
    if (memcmp(h->magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN))
        return fail(err, errlen, "not a pooltag segment (bad magic)");
    if (!h->control_off)
        return 0;
    uint64_t lim = ptr_source_size(s);
    if (!region_ok(h->control_off, 1, sizeof(pt_seg_control), lim, NULL))
        return fail(err, errlen, "corrupt segment: control block at %" PRIu64
                    " is outside the %" PRIu64 " bytes", h->control_off, lim);
    if (h->max_depth == 0 || h->max_depth > PT_SEG_DEPTH_LIMIT)
        return fail(err, errlen, "corrupt segment: stack depth %" PRIu32
                    " (1 to %u)", h->max_depth, PT_SEG_DEPTH_LIMIT);
    if (h->max_stacks == 0 || h->max_stacks > PTR_MAX_STACKS_LIMIT ||
        (h->max_stacks & (h->max_stacks - 1)))
        return fail(err, errlen, "corrupt segment: stack table of %" PRIu32
                    " slots (a power of two up to %u)", h->max_stacks,
                    PTR_MAX_STACKS_LIMIT);
    if (h->max_frames == 0 || h->max_frames > PT_STK_OFF_MASK + 1)
        return fail(err, errlen, "corrupt segment: frame array of %" PRIu32
                    " entries", h->max_frames);
    if (h->max_tracked > PTR_MAX_TRACKED_LIMIT)
        return fail(err, errlen, "corrupt segment: tracked table of %" PRIu32
                    " records", h->max_tracked);
    if (h->max_modules > PT_SEG_MAX_MODULES_LIMIT)
        return fail(err, errlen, "corrupt segment: module table of %" PRIu32
                    " records", h->max_modules);
    struct {
        const char *what;
        uint64_t off, n, each;
    } regs[] = {
        {"stack table", h->stacks_off, h->max_stacks, 8},
        {"frame array", h->frames_off, h->max_frames, 8},
        {"ring headers", h->rings_off, PT_SEG_NRINGS, sizeof(pt_seg_ring)},
        {"verify statistics", h->vstats_off, h->max_modules, sizeof(pt_seg_vstat)},
        {"tracked blocks", h->tracked_off, h->max_tracked, sizeof(pt_seg_tracked)},
        {"leak reports", h->leaks_off, PT_SEG_LEAKS, sizeof(pt_seg_leak)},
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        uint64_t e = 0;
        if (!regs[i].off || !region_ok(regs[i].off, regs[i].n, regs[i].each, lim, &e)) {
            if (regs[i].off && !region_ok(regs[i].off, regs[i].n, regs[i].each,
                                          UINT64_MAX, &e))
                e = UINT64_MAX;
            if (e != UINT64_MAX && ptr_kind(s) != PTR_LIVE && regs[i].off)
                return fail(err, errlen, "truncated segment image: the %s end"
                            "s at %" PRIu64 ", the image has %" PRIu64 " bytes",
                            regs[i].what, e, lim);
            return fail(err, errlen, "corrupt segment: the %s (offset %" PRIu64
                        ", %" PRIu64 " entries) is outside the %" PRIu64 " bytes",
                        regs[i].what, regs[i].off, regs[i].n, lim);
        }
    }
    if (ptr_source_pread(s, t->ring, sizeof t->ring, h->rings_off, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < PT_SEG_NRINGS; i++) {
        const pt_seg_ring *r = &t->ring[i];
        uint64_t e = 0;
        if (r->cap > PTR_RING_CAP_LIMIT || r->size > r->cap)
            return fail(err, errlen, "corrupt segment: %s of %" PRIu32
                        " records, %" PRIu32 " in use", ring_name[i], r->cap, r->size);
        if (r->cap && !region_ok(r->records_off, r->cap, sizeof(pt_seg_rec), lim, &e)) {
            if (ptr_kind(s) != PTR_LIVE &&
                region_ok(r->records_off, r->cap, sizeof(pt_seg_rec), UINT64_MAX, &e))
                return fail(err, errlen, "truncated segment image: the %s ends at %"
                            PRIu64 ", the image has %" PRIu64 " bytes",
                            ring_name[i], e, lim);
            return fail(err, errlen, "corrupt segment: the %s (offset %" PRIu64
                        ") is outside the %" PRIu64 " bytes", ring_name[i],
                        r->records_off, lim);
        }
    }
    t->max_modules = h->max_modules;
    t->present = 1;
    return ptr_trace_control(t, err, errlen);
}

int ptr_trace_control(ptr_trace *t, char *err, size_t errlen)
{
    if (!t->present)
        return fail(err, errlen, "no control block");
    if (ptr_source_pread(t->src, &t->ctl, sizeof t->ctl, t->hdr.control_off,
                         err, errlen) < 0)
        return -1;
    pt_seg_control *c = &t->ctl;
    /* The settings are outside input too: clamp what is shown. */
    if (c->hit_n > PT_CTL_HIT_MAX || c->verify_n > PT_CTL_VERIFY_MAX)
        return fail(err, errlen, "corrupt control block: %" PRIu32
                    " hit patterns, %" PRIu32 " verify globs (at most %u, %u)",
                    c->hit_n, c->verify_n, PT_CTL_HIT_MAX, PT_CTL_VERIFY_MAX);
    for (unsigned i = 0; i < PT_CTL_HIT_MAX; i++)
        c->hit_pat[i][PT_CTL_PAT_LEN - 1] = 0;
    for (unsigned i = 0; i < PT_CTL_VERIFY_MAX; i++)
        c->verify_glob[i][PT_CTL_GLOB_LEN - 1] = 0;
    return 0;
}

int ptr_special_read(ptr_trace *t, pt_seg_special *sp, char *err, size_t errlen)
{
    memset(sp, 0, sizeof *sp);
    if (!t->present || !t->hdr.special_off)
        return fail(err, errlen, "no special pool and fault injection settings (the "
                    "pooltag runtime predates them)");
    if (!region_ok(t->hdr.special_off, 1, sizeof *sp, ptr_source_size(t->src), NULL))
        return fail(err, errlen, "corrupt segment: the special pool settings (offset %"
                    PRIu64 ") are outside the %" PRIu64 " bytes", t->hdr.special_off,
                    ptr_source_size(t->src));
    if (ptr_source_pread(t->src, sp, sizeof *sp, t->hdr.special_off, err, errlen) < 0)
        return -1;
    /* The settings are outside input too: clamp what is shown. */
    if (sp->sp_n > PT_SEL_MAX || sp->fault_n > PT_SEL_MAX)
        return fail(err, errlen, "corrupt special pool settings: %" PRIu32 " special and %"
                    PRIu32 " fault selectors (at most %u each)", sp->sp_n, sp->fault_n,
                    PT_SEL_MAX);
    for (unsigned i = 0; i < PT_SEL_MAX; i++) {
        sp->sp[i].text[PT_CTL_GLOB_LEN - 1] = 0;
        sp->fault[i].text[PT_CTL_GLOB_LEN - 1] = 0;
    }
    return 0;
}

int ptr_trace_stack(ptr_trace *t, uint32_t id, uint64_t *frames,
                    uint32_t *depth, char *err, size_t errlen)
{
    uint64_t slot;
    *depth = 0;
    if (id == 0)
        return 0;
    if (!t->present || id > t->hdr.max_stacks)
        return fail(err, errlen, "corrupt record: stack id %" PRIu32
                    " (the table has %" PRIu32 ")", id, t->hdr.max_stacks);
    if (ptr_source_pread(t->src, &slot, sizeof slot,
                         t->hdr.stacks_off + (uint64_t)(id - 1) * 8, err, errlen) < 0)
        return -1;
    if (slot == 0)
        return 0;
    uint32_t off = pt_stk_off(slot), d = pt_stk_depth(slot);
    if (d == 0 || d > t->hdr.max_depth || (uint64_t)off + d > t->hdr.max_frames)
        return fail(err, errlen, "corrupt stack table: stack %" PRIu32 " says %"
                    PRIu32 " frames at %" PRIu32 " (depth at most %" PRIu32
                    ", %" PRIu32 " frames)", id, d, off, t->hdr.max_depth,
                    t->hdr.max_frames);
    if (ptr_source_pread(t->src, frames, (size_t)d * 8,
                         t->hdr.frames_off + (uint64_t)off * 8, err, errlen) < 0)
        return -1;
    *depth = d;
    return 0;
}

static int check_rec(const ptr_trace *t, unsigned which, const pt_seg_rec *r,
                     char *err, size_t errlen)
{
    if ((r->op != PT_OP_ALLOC && r->op != PT_OP_FREE) || r->pool >= PT_SEG_NPOOLS ||
        r->stack > t->hdr.max_stacks || r->module > t->max_modules)
        return fail(err, errlen, "corrupt %s: record %" PRIu64 " (op %u, pool %u, "
                    "stack %" PRIu32 ", module %u)", ring_name[which], r->seq - 1,
                    r->op, r->pool, r->stack, r->module);
    return 0;
}

void ptr_ring_free(ptr_ring_read *r)
{
    free(r->recs);
    r->recs = NULL;
    r->n = 0;
}

int ptr_trace_ring(ptr_trace *t, unsigned which, uint64_t from,
                   ptr_ring_read *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->pending = UINT64_MAX;
    if (!t->present || which >= PT_SEG_NRINGS)
        return fail(err, errlen, "no rings in this segment");
    uint64_t hoff = t->hdr.rings_off + which * sizeof(pt_seg_ring);
    pt_seg_rec *copy = NULL;
    for (int attempt = 0; attempt < RING_ATTEMPTS; attempt++) {
        pt_seg_ring h, h2;
        if (ptr_source_pread(t->src, &h, sizeof h, hoff, err, errlen) < 0)
            goto bad;
        if (h.records_off != t->ring[which].records_off || h.cap != t->ring[which].cap ||
            h.size > h.cap || h.base > h.head) {
            fail(err, errlen, "corrupt %s: %" PRIu32 " of %" PRIu32 " records in "
                 "use, base %" PRIu64 ", head %" PRIu64, ring_name[which], h.size,
                 h.cap, h.base, h.head);
            goto bad;
        }
        r->cap = h.cap;
        r->size = h.size;
        r->head = h.head;
        r->base = h.base;
        uint64_t first = h.size == 0 ? h.head
                         : h.head - h.base > h.size ? h.head - h.size : h.base;
        uint64_t want = from > h.base ? from : h.base;
        r->first = first;
        r->lost = first > want ? first - want : 0;
        r->from = want > first ? want : first;
        if (r->from > h.head)
            r->from = h.head;
        uint64_t count = h.head - r->from;
        if (count == 0) {
            free(copy);
            return 0;
        }
        pt_seg_rec *grown = realloc(copy, (size_t)count * sizeof *copy);
        if (!grown) {
            fail(err, errlen, "out of memory");
            goto bad;
        }
        copy = grown;
        /* The slots of [from, head): at most two runs. */
        uint64_t s0 = r->from % h.size, n0 = h.size - s0;
        if (n0 > count)
            n0 = count;
        if (ptr_source_pread(t->src, copy, (size_t)n0 * sizeof *copy,
                             h.records_off + s0 * sizeof *copy, err, errlen) < 0 ||
            (count > n0 &&
             ptr_source_pread(t->src, copy + n0, (size_t)(count - n0) * sizeof *copy,
                              h.records_off, err, errlen) < 0))
            goto bad;
        if (ptr_source_pread(t->src, &h2, sizeof h2, hoff, err, errlen) < 0)
            goto bad;
        if (h2.size != h.size || h2.base != h.base || h2.head < h.head)
            continue;   /* restarted while we copied */
        r->head = h2.head;
        uint64_t safe = h2.head > h.size ? h2.head - h.size : 0;
        size_t n = 0;
        for (uint64_t k = 0; k < count; k++) {
            uint64_t i = r->from + k;
            if (copy[k].seq == i + 1 && i >= safe) {
                if (check_rec(t, which, &copy[k], err, errlen) < 0)
                    goto bad;
                copy[n++] = copy[k];
            } else {
                r->torn++;
                if (i >= safe && r->pending == UINT64_MAX)
                    r->pending = i;
            }
        }
        r->recs = copy;
        r->n = n;
        return 0;
    }
    fail(err, errlen, "the %s kept restarting while being read; try again",
         ring_name[which]);
bad:
    free(copy);
    return -1;
}

int ptr_trace_vstats(ptr_trace *t, size_t n, pt_seg_vstat **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    if (!t->present)
        return fail(err, errlen, "no verify statistics in this segment");
    if (n > t->max_modules)
        n = t->max_modules;
    pt_seg_vstat *vs = calloc(n ? n : 1, sizeof *vs);
    if (!vs)
        return fail(err, errlen, "out of memory");
    if (n && ptr_source_pread(t->src, vs, n * sizeof *vs, t->hdr.vstats_off, err,
                              errlen) < 0) {
        free(vs);
        return -1;
    }
    *out = vs;
    return 0;
}

int ptr_trace_tracked(ptr_trace *t, pt_seg_tracked **out, size_t *n,
                      char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!t->present)
        return fail(err, errlen, "no tracked blocks in this segment");
    size_t cap = t->hdr.max_tracked;
    pt_seg_tracked *tr = calloc(cap ? cap : 1, sizeof *tr);
    if (!tr)
        return fail(err, errlen, "out of memory");
    if (cap && ptr_source_pread(t->src, tr, cap * sizeof *tr, t->hdr.tracked_off,
                                err, errlen) < 0) {
        free(tr);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < cap; i++) {
        if (!tr[i].addr)
            continue;
        if (tr[i].module == 0 || tr[i].module > t->max_modules ||
            tr[i].pool >= PT_SEG_NPOOLS || tr[i].stack > t->hdr.max_stacks) {
            fail(err, errlen, "corrupt tracked block %zu: module %u, pool %u, "
                 "stack %" PRIu32, i, tr[i].module, tr[i].pool, tr[i].stack);
            free(tr);
            return -1;
        }
        tr[k++] = tr[i];
    }
    *out = tr;
    *n = k;
    return 0;
}

static int leak_cmp(const void *a, const void *b)
{
    const pt_seg_leak *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ptr_trace_leaks(ptr_trace *t, pt_seg_leak *out, size_t *n, char *err,
                    size_t errlen)
{
    pt_seg_leak all[PT_SEG_LEAKS];
    *n = 0;
    if (!t->present)
        return fail(err, errlen, "no leak reports in this segment");
    if (ptr_source_pread(t->src, all, sizeof all, t->hdr.leaks_off, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < PT_SEG_LEAKS; i++) {
        if (!all[i].seq)
            continue;
        if (all[i].module > t->max_modules ||
            (all[i].reason != PT_LEAK_UNLOAD && all[i].reason != PT_LEAK_EXIT) ||
            (all[i].seq - 1) % PT_SEG_LEAKS != i)
            return fail(err, errlen, "corrupt leak report %u: seq %" PRIu64
                        ", module %" PRIu32 ", reason %" PRIu32, i, all[i].seq,
                        all[i].module, all[i].reason);
        out[(*n)++] = all[i];
    }
    qsort(out, *n, sizeof *out, leak_cmp);
    return 0;
}

int ptr_trace_check_image(const void *seg, size_t len, char *err,
                          size_t errlen)
{
    ptr_source *s;
    ptr_trace t;
    int rc = -1;
    if (ptr_open_image(seg, len, &s, err, errlen) < 0)
        return -1;
    if (ptr_trace_open(s, &t, err, errlen) < 0)
        goto out;
    rc = 0;
    if (!t.present)
        goto out;
    rc = -1;
    for (unsigned w = 0; w < PT_SEG_NRINGS; w++) {
        ptr_ring_read r;
        if (ptr_trace_ring(&t, w, 0, &r, err, errlen) < 0)
            goto out;
        for (size_t k = 0; k < r.n; k++) {
            uint64_t fr[PT_SEG_DEPTH_LIMIT];
            uint32_t d;
            if (ptr_trace_stack(&t, r.recs[k].stack, fr, &d, err, errlen) < 0) {
                ptr_ring_free(&r);
                goto out;
            }
        }
        ptr_ring_free(&r);
    }
    pt_seg_vstat *vs;
    if (ptr_trace_vstats(&t, t.max_modules, &vs, err, errlen) < 0)
        goto out;
    free(vs);
    pt_seg_tracked *tr;
    size_t n;
    if (ptr_trace_tracked(&t, &tr, &n, err, errlen) < 0)
        goto out;
    free(tr);
    pt_seg_leak lk[PT_SEG_LEAKS];
    if (ptr_trace_leaks(&t, lk, &n, err, errlen) < 0)
        goto out;
    if (t.hdr.special_off) { /* issue 12: the settings as pooltag fault prints them */
        pt_seg_special sp;
        char b[PT_CTL_GLOB_LEN + 64];
        if (ptr_special_read(&t, &sp, err, errlen) < 0)
            goto out;
        for (uint32_t i = 0; i < sp.fault_n; i++)
            pt_sel_format(&sp.fault[i], 1, b, sizeof b);
        for (uint32_t i = 0; i < sp.sp_n; i++)
            pt_sel_format(&sp.sp[i], 0, b, sizeof b);
    }
    rc = 0;
out:
    ptr_close(s);
    return rc;
}
