/*
 * fuzz_special.c — libFuzzer target for the reader of the special pool
 * (src/reader/special.c): the settings and statistics page, the block
 * records and the reports of a segment image or a snapshot file's bytes,
 * as `pooltag special FILE` and `pooltag special --show FILE --blocks`
 * read them.
 *
 * Beyond "no crash, no sanitizer report", what the reader returns must
 * hold together: selector counts within PT_SEL_MAX and texts NUL-ended,
 * block records in use, inside their run, with a known state, no more of
 * them than records used; reports in seq order, each naming its slot, with
 * a known kind and access; the names of kinds, states and accesses exist.
 */
#include "ptread.h"
#include "ptsel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const void *seg;
    size_t seglen;
    ptr_snapinfo info;
    ptr_source *s;
    ptr_trace t;
    ptr_special sp;
    char err[256], text[200];

    if (ptr_snapshot_decode(data, size, &seg, &seglen, &info, err, sizeof err) < 0)
        return 0;
    (void)ptr_special_check_image(seg, seglen, err, sizeof err);
    if (ptr_open_image(seg, seglen, &s, err, sizeof err) < 0)
        return 0;
    if (ptr_trace_open(s, &t, err, sizeof err) == 0 &&
        ptr_special_open(&t, &sp, err, sizeof err) == 0 && sp.present) {
        if (sp.sp.sp_n > PT_SEL_MAX || sp.sp.fault_n > PT_SEL_MAX)
            __builtin_trap();
        for (uint32_t i = 0; i < sp.sp.sp_n; i++) {
            if (memchr(sp.sp.sp[i].text, 0, sizeof sp.sp.sp[i].text) == NULL)
                __builtin_trap();
            if (pt_sel_format(&sp.sp.sp[i], 0, text, sizeof text) >= sizeof text)
                __builtin_trap();
        }
        pt_seg_spblk *b;
        size_t n, skipped, torn;
        if (ptr_special_blocks(&t, &sp, &b, &n, &skipped, err, sizeof err) == 0) {
            if (n + skipped > sp.sp.blk_hw || n > sp.max_special)
                __builtin_trap();
            for (size_t i = 0; i < n; i++) {
                if (!b[i].addr || b[i].addr < b[i].run || b[i].npages < 2 ||
                    b[i].state < PT_SPB_LIVE || b[i].state > PT_SPB_REPORTED ||
                    !*ptr_spb_state_name(b[i].state))
                    __builtin_trap();
                uint64_t fr[PT_SEG_DEPTH_LIMIT];
                uint32_t d;
                if (ptr_trace_stack(&t, b[i].alloc_stack, fr, &d, err, sizeof err) == 0 &&
                    d > t.hdr.max_depth)
                    __builtin_trap();
            }
            free(b);
        }
        pt_seg_spreport r[PT_SEG_SPREPORTS];
        if (ptr_special_reports(&t, &sp, r, &n, &torn, &skipped, err, sizeof err) == 0) {
            if (n + torn + skipped > PT_SEG_SPREPORTS)
                __builtin_trap();
            for (size_t i = 0; i < n; i++) {
                if (r[i].kind < PT_SPR_OVERRUN || r[i].kind > PT_SPR_WILD ||
                    r[i].access > PT_SPA_WRITE || (i && r[i - 1].seq >= r[i].seq) ||
                    !*ptr_spr_kind_name(r[i].kind) || !*ptr_spa_access_name(r[i].access))
                    __builtin_trap();
            }
        }
    }
    ptr_close(s);
    return 0;
}
