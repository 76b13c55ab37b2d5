/*
 * fuzz_trace.c — libFuzzer target for the reader of the trace regions
 * (src/reader/trace.c): the control block, the stack table, both rings,
 * the verify statistics, the tracked blocks and the leak reports of a
 * segment image or a snapshot file's bytes, as `pooltag hit --show FILE`
 * and `pooltag verify FILE` read them.
 *
 * Beyond "no crash, no sanitizer report", what the reader returns must
 * hold together: ring records in index order within [from, head), taken
 * plus torn = the indices asked for, stack depths within the header's
 * limit, tracked records in use with a module index, leak reports in seq
 * order.
 */
#include "ptread.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_ring(ptr_trace *t, unsigned w, uint64_t from)
{
    ptr_ring_read r;
    char err[256];
    if (ptr_trace_ring(t, w, from, &r, err, sizeof err) < 0)
        return;
    if (r.size > r.cap || r.from < r.first || r.from > r.head ||
        r.n + r.torn != r.head - r.from)
        __builtin_trap();
    for (size_t k = 0; k < r.n; k++) {
        uint64_t i = r.recs[k].seq - 1;
        if (i < r.from || i >= r.head || (k && r.recs[k - 1].seq >= r.recs[k].seq))
            __builtin_trap();
        uint64_t fr[PT_SEG_DEPTH_LIMIT];
        uint32_t d;
        if (ptr_trace_stack(t, r.recs[k].stack, fr, &d, err, sizeof err) == 0 &&
            d > t->hdr.max_depth)
            __builtin_trap();
    }
    ptr_ring_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const void *seg;
    size_t seglen;
    ptr_snapinfo info;
    ptr_source *s;
    ptr_trace t;
    char err[256];

    if (ptr_snapshot_decode(data, size, &seg, &seglen, &info, err, sizeof err) < 0)
        return 0;
    (void)ptr_trace_check_image(seg, seglen, err, sizeof err);
    if (ptr_open_image(seg, seglen, &s, err, sizeof err) < 0)
        return 0;
    if (ptr_trace_open(s, &t, err, sizeof err) == 0 && t.present) {
        for (unsigned w = 0; w < PT_SEG_NRINGS; w++) {
            check_ring(&t, w, 0);
            check_ring(&t, w, t.ring[w].head > 3 ? t.ring[w].head - 3 : 0);
        }
        pt_seg_tracked *tr;
        size_t n;
        if (ptr_trace_tracked(&t, &tr, &n, err, sizeof err) == 0) {
            if (n > t.hdr.max_tracked)
                __builtin_trap();
            for (size_t i = 0; i < n; i++)
                if (!tr[i].addr || !tr[i].module || tr[i].module > t.max_modules)
                    __builtin_trap();
            free(tr);
        }
        pt_seg_leak lk[PT_SEG_LEAKS];
        if (ptr_trace_leaks(&t, lk, &n, err, sizeof err) == 0)
            for (size_t i = 1; i < n; i++)
                if (lk[i - 1].seq >= lk[i].seq)
                    __builtin_trap();
        pt_seg_vstat *vs;
        if (ptr_trace_vstats(&t, t.max_modules, &vs, err, sizeof err) == 0)
            free(vs);
    }
    ptr_close(s);
    return 0;
}
