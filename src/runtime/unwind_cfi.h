/*
 * unwind_cfi.h — a self-contained x86-64 stack unwinder for use inside
 * malloc (issue 11, item 2).  PROTOTYPE: not yet wired into the runtime or
 * the preload build; only tests/test_unwind_cfi.c and bench/unwind_bench.c
 * link it.
 *
 * Walks the current thread's stack with the modules' .eh_frame CFI, found
 * through .eh_frame_hdr's binary-search table.  Steady state: one lookup per
 * frame in a fixed lock-free PC -> rule cache, no CFI parsing, no
 * allocation, no lock.  Cache miss: the FDE of the PC is parsed and its CFA
 * program interpreted (no allocation, no lock).  Module miss (a PC in no
 * cached module): dl_iterate_phdr, which TAKES THE LOADER LOCK — so a walk
 * from a signal handler that interrupted the loader, or from inside
 * dl_iterate_phdr/dlopen's own allocations, may deadlock on that path.  It
 * runs once per module (the module table is a fixed array, never evicted).
 */
#ifndef PT_UNWIND_CFI_H
#define PT_UNWIND_CFI_H

#ifdef __cplusplus
extern "C" {
#endif

/* Return addresses of the current thread, like unw_backtrace/backtrace():
 * frames[0] is the return address into the caller of pt_cfi_backtrace.
 * Returns the number stored (<= max).  The walk stops at the end of the
 * stack (return address rule undefined), at max, or at anything the
 * interpreter does not handle (signal frame, DW_CFA_expression for the CFA
 * or rbp or the return address, PC in no module, implausible CFA). */
int pt_cfi_backtrace(void **frames, int max);

/* Statistics for tests and the benchmark (relaxed counters; rule_hits only
 * when built with -DPT_CFI_COUNT_HITS). */
struct pt_cfi_stats {
    unsigned long rule_hits, rule_misses, rule_uncacheable, module_scans, stops;
};
void pt_cfi_stats_get(struct pt_cfi_stats *out);
/* Why the last walk of this thread stopped (a short static string). */
const char *pt_cfi_last_stop(void);

#ifdef __cplusplus
}
#endif
#endif
