/*
 * fuzz_ptsel.c — libFuzzer target for the selector syntax of the special
 * pool and fault injection (src/common/ptsel.c), which reads PT_SPECIAL /
 * PT_FAIL in the runtime and run's --special / --fail, `pooltag special`
 * and `pooltag fault` in the command.
 *
 * The input's first byte chooses special (even) or fault (odd); the rest,
 * up to its first NUL, is the selector.  Beyond "no crash": a refusal
 * comes with a message; an accepted selector has a known kind, a NUL-ended
 * text, min <= max, a fault rate in 1..PT_FI_RATE_ONE; and it prints as
 * text that reads back to the same selector.
 */
#include "ptsel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 600)
        return 0;
    int fault = data[0] & 1;
    char s[600];
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    pt_seg_sel sel;
    const char *why = NULL;
    if (pt_sel_parse(s, fault, &sel, &why) != 0) {
        if (!why || !*why)
            abort();
        return 0;
    }
    if (sel.kind != PT_SEL_TAG && sel.kind != PT_SEL_SIZE && sel.kind != PT_SEL_MODULE)
        abort();
    if (!memchr(sel.text, 0, sizeof sel.text) || sel.min > sel.max)
        abort();
    if (fault && (sel.rate < 1 || sel.rate > PT_FI_RATE_ONE || sel.kind == PT_SEL_SIZE))
        abort();
    char buf[300];
    pt_sel_format(&sel, fault, buf, sizeof buf);
    pt_seg_sel again;
    if (pt_sel_parse(buf, fault, &again, &why) != 0 || memcmp(&sel, &again, sizeof sel) != 0)
        abort();
    return 0;
}
