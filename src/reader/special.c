/*
 * special.c — reading the special pool of a segment (segment.h, "Special
 * pool and fault injection"): the settings and statistics page, the block
 * records and the report ring, from a live PID or a file, through a
 * ptr_trace (the regions follow the trace regions; ptr_seg_extent covers
 * them, so a snapshot holds them).
 *
 * Every field that comes from the segment is outside input: the layout is
 * checked once (each region inside what the source can read), the
 * selectors are clamped, and a block record or a report that makes no
 * sense is skipped and counted, so a corrupt segment gives a one-line
 * error or fewer records, never a read outside a buffer.
 *
 * Reports: the runtime writes seq = 0, the fields, then seq (1-based,
 * slot (seq - 1) % PT_SEG_SPREPORTS).  A reading copies the ring, then
 * reads the seq words again: a record is taken only when its seq is the
 * same in both and names its slot.
 */
#include "ptread.h"
#include "ptsel.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define fail ptr__fail

static int region_in(uint64_t off, uint64_t n, uint64_t each, uint64_t limit)
{
    uint64_t bytes, e;
    return off % 8 == 0 && !__builtin_mul_overflow(n, each, &bytes) &&
           !__builtin_add_overflow(off, bytes, &e) && e <= limit;
}

const char *ptr_spr_kind_name(uint32_t kind)
{
    static const char *const names[] = {"?", "overrun", "underrun", "use after free",
                                        "slop overwritten", "double free", "bad free",
                                        "wild access"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

const char *ptr_spb_state_name(uint32_t state)
{
    switch (state) {
    case PT_SPB_LIVE: return "live";
    case PT_SPB_QUARANTINED: return "quarantined";
    case PT_SPB_REPORTED: return "reported";
    default: return "?";
    }
}

const char *ptr_spa_access_name(uint32_t access)
{
    switch (access) {
    case PT_SPA_READ: return "read";
    case PT_SPA_WRITE: return "write";
    default: return "unknown";
    }
}

/* A selector as shown: kind known, size range ordered, text NUL-ended. */
static int sel_ok(pt_seg_sel *s, int fault)
{
    s->text[sizeof s->text - 1] = 0;
    switch (s->kind) {
    case PT_SEL_TAG:
        return s->text[0] != 0 && strlen(s->text) < PT_CTL_PAT_LEN;
    case PT_SEL_MODULE:
        return s->text[0] != 0;
    case PT_SEL_SIZE:
        return !fault && s->min <= s->max;
    default:
        return 0;
    }
}

int ptr_special_open(ptr_trace *t, ptr_special *sp, char *err, size_t errlen)
{
    memset(sp, 0, sizeof *sp);
    const pt_seg_header *h = &t->hdr;
    if (!t->present || !h->special_off)
        return 0;
    uint64_t lim = ptr_source_size(t->src);
    if (h->max_special == 0 || h->max_special > PTR_MAX_SPECIAL_LIMIT)
        return fail(err, errlen, "corrupt segment: %" PRIu32 " special block records "
                    "(1 to %u)", h->max_special, PTR_MAX_SPECIAL_LIMIT);
    struct {
        const char *what;
        uint64_t off, n, each;
    } regs[] = {
        {"special pool page", h->special_off, 1, sizeof(pt_seg_special)},
        {"special block records", h->spblk_off, h->max_special, sizeof(pt_seg_spblk)},
        {"special pool reports", h->spreports_off, PT_SEG_SPREPORTS,
         sizeof(pt_seg_spreport)},
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        if (regs[i].off && region_in(regs[i].off, regs[i].n, regs[i].each, lim))
            continue;
        if (regs[i].off && ptr_kind(t->src) != PTR_LIVE &&
            region_in(regs[i].off, regs[i].n, regs[i].each, UINT64_MAX))
            return fail(err, errlen, "truncated segment image: the %s (offset %" PRIu64
                        ") ends past the image's %" PRIu64 " bytes", regs[i].what,
                        regs[i].off, lim);
        return fail(err, errlen, "corrupt segment: the %s (offset %" PRIu64 ", %"
                    PRIu64 " entries) is outside the %" PRIu64 " bytes", regs[i].what,
                    regs[i].off, regs[i].n, lim);
    }
    if (ptr_special_read(t, &sp->sp, err, errlen) < 0)
        return -1;
    pt_seg_special *s = &sp->sp;
    /* Unusable selectors are dropped from what is shown (and counted). */
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->sp_n; i++)
        if (sel_ok(&s->sp[i], 0))
            s->sp[k++] = s->sp[i];
        else
            sp->bad_selectors++;
    s->sp_n = k;
    k = 0;
    for (uint32_t i = 0; i < s->fault_n; i++)
        if (sel_ok(&s->fault[i], 1))
            s->fault[k++] = s->fault[i];
        else
            sp->bad_selectors++;
    s->fault_n = k;
    sp->max_special = h->max_special;
    sp->present = 1;
    return 0;
}

/* Does block record b make sense for this page and this trace? */
static int blk_ok(const ptr_trace *t, const ptr_special *sp, const pt_seg_spblk *b)
{
    uint64_t page = t->hdr.page_size ? t->hdr.page_size : 4096;
    uint64_t run_bytes, run_end, end;
    if (b->state != PT_SPB_LIVE && b->state != PT_SPB_QUARANTINED &&
        b->state != PT_SPB_REPORTED)
        return 0;
    if (b->flags & ~(PT_SPBF_UNDERRUN | PT_SPBF_SAMPLED | PT_SPBF_ZERO))
        return 0;
    if (b->npages < 2 || b->npages > (1u << 24) || b->align_log2 > 63 || b->tag == 0)
        return 0;
    if (b->alloc_stack > t->hdr.max_stacks || b->free_stack > t->hdr.max_stacks)
        return 0;
    if (b->run % page || __builtin_mul_overflow((uint64_t)b->npages, page, &run_bytes) ||
        __builtin_add_overflow(b->run, run_bytes, &run_end))
        return 0;
    /* The block lies in the run's data pages (guard page excluded). */
    if (b->addr < b->run || __builtin_add_overflow(b->addr, b->size, &end) ||
        end > run_end || b->size > run_bytes - page)
        return 0;
    const pt_seg_special *s = &sp->sp;
    if (s->region_size &&
        (b->run < s->region_base || run_end > s->region_base + s->region_size ||
         s->region_base + s->region_size < s->region_base))
        return 0;
    return 1;
}

int ptr_special_blocks(ptr_trace *t, const ptr_special *sp, pt_seg_spblk **out,
                       size_t *n, size_t *skipped, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    *skipped = 0;
    if (!sp->present)
        return fail(err, errlen, "no special pool in this segment");
    uint64_t hw = sp->sp.blk_hw;
    if (hw > sp->max_special)
        hw = sp->max_special;
    pt_seg_spblk *b = calloc(hw ? (size_t)hw : 1, sizeof *b);
    if (!b)
        return fail(err, errlen, "out of memory");
    if (hw && ptr_source_pread(t->src, b, (size_t)hw * sizeof *b, t->hdr.spblk_off, err,
                               errlen) < 0) {
        free(b);
        return -1;
    }
    size_t k = 0;
    for (uint64_t i = 0; i < hw; i++) {
        if (!b[i].addr)
            continue;
        if (!blk_ok(t, sp, &b[i])) {
            (*skipped)++;
            continue;
        }
        b[k++] = b[i];
    }
    *out = b;
    *n = k;
    return 0;
}

static int rep_cmp(const void *a, const void *b)
{
    const pt_seg_spreport *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ptr_special_reports(ptr_trace *t, const ptr_special *sp, pt_seg_spreport *out,
                        size_t *n, size_t *torn, size_t *skipped, char *err,
                        size_t errlen)
{
    pt_seg_spreport again[PT_SEG_SPREPORTS];
    *n = 0;
    *torn = 0;
    *skipped = 0;
    if (!sp->present)
        return fail(err, errlen, "no special pool in this segment");
    size_t bytes = PT_SEG_SPREPORTS * sizeof(pt_seg_spreport);
    if (ptr_source_pread(t->src, out, bytes, t->hdr.spreports_off, err, errlen) < 0 ||
        ptr_source_pread(t->src, again, bytes, t->hdr.spreports_off, err, errlen) < 0)
        return -1;
    size_t k = 0;
    for (unsigned i = 0; i < PT_SEG_SPREPORTS; i++) {
        pt_seg_spreport r = out[i];
        if (!r.seq && !again[i].seq)
            continue;
        if (r.seq != again[i].seq || !r.seq) {
            (*torn)++;
            continue;
        }
        if ((r.seq - 1) % PT_SEG_SPREPORTS != i || r.kind < PT_SPR_OVERRUN ||
            r.kind > PT_SPR_WILD || r.access > PT_SPA_WRITE || r.recovered > 1 ||
            r.stack > t->hdr.max_stacks || r.alloc_stack > t->hdr.max_stacks ||
            r.free_stack > t->hdr.max_stacks || r.signo > 64) {
            (*skipped)++;
            continue;
        }
        out[k++] = r;
    }
    qsort(out, k, sizeof *out, rep_cmp);
    *n = k;
    return 0;
}

int ptr_special_check_image(const void *seg, size_t len, char *err, size_t errlen)
{
    ptr_source *s;
    ptr_trace t;
    ptr_special sp;
    int rc = -1;
    if (ptr_open_image(seg, len, &s, err, errlen) < 0)
        return -1;
    if (ptr_trace_open(s, &t, err, errlen) < 0 || ptr_special_open(&t, &sp, err, errlen) < 0)
        goto out;
    rc = 0;
    if (!sp.present)
        goto out;
    rc = -1;
    char text[200];
    for (uint32_t i = 0; i < sp.sp.sp_n; i++)
        pt_sel_format(&sp.sp.sp[i], 0, text, sizeof text);
    for (uint32_t i = 0; i < sp.sp.fault_n; i++)
        pt_sel_format(&sp.sp.fault[i], 1, text, sizeof text);
    pt_seg_spblk *b;
    size_t n, skipped, torn;
    uint64_t fr[PT_SEG_DEPTH_LIMIT];
    uint32_t d;
    if (ptr_special_blocks(&t, &sp, &b, &n, &skipped, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (ptr_trace_stack(&t, b[i].alloc_stack, fr, &d, err, errlen) < 0 ||
            ptr_trace_stack(&t, b[i].free_stack, fr, &d, err, errlen) < 0) {
            free(b);
            goto out;
        }
    free(b);
    pt_seg_spreport r[PT_SEG_SPREPORTS];
    if (ptr_special_reports(&t, &sp, r, &n, &torn, &skipped, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        (void)ptr_spr_kind_name(r[i].kind);
        (void)ptr_spa_access_name(r[i].access);
        if (ptr_trace_stack(&t, r[i].stack, fr, &d, err, errlen) < 0 ||
            ptr_trace_stack(&t, r[i].alloc_stack, fr, &d, err, errlen) < 0 ||
            ptr_trace_stack(&t, r[i].free_stack, fr, &d, err, errlen) < 0)
            goto out;
    }
    rc = 0;
out:
    ptr_close(s);
    return rc;
}
