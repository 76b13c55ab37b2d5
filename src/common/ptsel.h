/*
 * ptsel.h — the one syntax of special pool and fault injection selectors
 * (segment.h, pt_seg_sel), for the runtime (PT_SPECIAL, PT_FAIL: read
 * before malloc works, so no allocation, no locale, no errno) and the
 * command (run --special/--fail, pooltag special, pooltag fault).
 *
 * Special (fault = 0):
 *     TAG          a tag pattern ('*', '?'; 1..15 characters, no ':' and
 *                  no '-' between digits only)
 *     MIN-MAX      requested bytes, inclusive, sizes as sizeparse.h reads
 *                  them ("100-200", "4K-1M"); MIN <= MAX
 *     module:GLOB  a module glob (base name, or path with a '/'), as
 *                  PT_VERIFY's; 1..119 characters, no ':'
 * Fault (fault = 1): TAG or module:GLOB, then any of, in any order:
 *     :PERCENT     the share of the selected requests that fail, 0.0001 ..
 *                  100, up to 4 decimals, an optional '%' (default 100)
 *     :after=S     only from S seconds (decimals allowed, up to 3) after
 *                  the setting was applied; at most 86400000
 *     :seed=N      the seed of the decisions (decimal; default 1)
 */
#ifndef PT_SEL_H
#define PT_SEL_H

#include <stddef.h>
#include <stdint.h>

#include "segment.h"

/* Parse s into *out (zeroed first).  Returns 0, or -1 with *why set to a
 * static message that says what is wrong ("a size range needs MIN <= MAX"). */
int pt_sel_parse(const char *s, int fault, pt_seg_sel *out, const char **why);

/* The text of a selector, as pt_sel_parse reads it back ("Ovr1",
 * "100-200", "module:libfoo*.so", "Ovr1:25%:after=3:seed=7"); flags are
 * not part of it.  Returns the length (truncated to cap - 1). */
size_t pt_sel_format(const pt_seg_sel *s, int fault, char *buf, size_t cap);

#endif
