/*
 * sizeparse.h — the one parser of sizes ("100M", "64KiB", "4096"), shared
 * by the runtime's options (src/runtime/options.c, which runs before malloc
 * works in the preload) and the command (pooltag run, log --max-size).
 *
 * Syntax: one or more decimal digits, then optionally a unit:
 *     K, M, G, T   powers of 1024 (2^10, 2^20, 2^30, 2^40), each optionally
 *                  followed by "i", "B" or "iB" (KiB, KB, Ki, K are equal)
 *     B            bytes (the same as no unit)
 * Letters in either case.  Nothing else: no sign, no spaces, no fraction,
 * no hexadecimal, nothing after the unit.
 *
 * Invariants: no allocation, no locale, no errno, no global state (safe in
 * a signal handler and in the preload's constructor); a value that does
 * not fit in 64 bits (before or after the unit) is an error, never wrapped.
 */
#ifndef PT_SIZEPARSE_H
#define PT_SIZEPARSE_H

#include <stdint.h>

/* Parse s (NUL-terminated) into *out.  units = 0 accepts plain digits
 * only (a count).  Returns 0, or -1 (and leaves *out alone) when s is
 * empty, malformed or over UINT64_MAX. */
int pt_parse_size(const char *s, uint64_t *out, int units);

#endif
