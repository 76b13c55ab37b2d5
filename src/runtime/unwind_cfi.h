/*
 * unwind_cfi.h — a self-contained x86-64 stack unwinder for use inside
 * malloc (issue 11, item 2): the runtime's stack capture.
 *
 * Walks the current thread's stack with the modules' .eh_frame CFI, found
 * through .eh_frame_hdr's binary-search table.  Steady state: one lookup per
 * frame in a fixed lock-free PC -> rule cache, no CFI parsing, no
 * allocation, no lock, no system call.  Cache miss: the FDE of the PC is
 * parsed and its CFA program interpreted (no allocation, no lock); a PC
 * without a usable rule is remembered too (negative entry), so a hot path
 * does not parse it again.
 *
 * Memory safety: every stack read (CFA, return address, saved rbp, the
 * ucontext of a signal frame) is bounded by the stack the walk runs on: per
 * thread, the mapping that holds the stack pointer (from /proc/self/maps,
 * read with raw system calls into a stack buffer, once per thread and again
 * only when the stack pointer leaves every cached range: main stack grown,
 * coroutine stacks), capped at the thread pointer for glibc threads (the
 * TCB sits at the top of their stack block); a handler on a sigaltstack
 * gets the alternate stack's range from sigaltstack(2), asked at each such
 * walk.  The maps read costs ~25 us (37 mappings; more with more), once per
 * thread.  No /proc: no bounds, no walk (0 frames, counted).  CIE/FDE
 * parsing is bounded by the PT_LOAD segment that holds .eh_frame_hdr (a
 * corrupt .eh_frame stops the walk, it cannot fault or loop).  What is NOT checked: that a registered
 * module is still mapped — pt_cfi_forget must be called when one is
 * unloaded (see there).
 *
 * Signal frames (glibc's __restore_rt, 'S' CIEs) are crossed through the
 * ucontext; the PLT's DW_CFA_def_cfa_expression is evaluated per PC.
 *
 * Modules and the loader lock.  A walk never calls into the dynamic loader.
 * A PC in no registered module is looked up in /proc/self/maps (system
 * calls, no lock; ~25 us): the file mapping that holds it and the same
 * file's mapping at offset 0, whose ELF program headers register the module
 * ("lazy registration"; pt_cfi_set_lazy_scan(0) switches it off: such a PC
 * then stops the walk).  pt_cfi_scan_modules (dl_iterate_phdr: glibc's
 * dl_load_write_lock) is for the runtime to call where that is safe, at
 * start-up and after dlopen, to save the first walks those maps reads.  Why
 * not dl_iterate_phdr in the walk: that lock is a recursive pthread mutex
 * (elf/dl-iteratephdr.c), and a signal handler that interrupts its own
 * thread between the mutex's acquisition and the recording of its owner
 * (pthread_mutex_lock) waits for itself forever; it is also held by
 * _dl_close_worker around free() and munmap of the unloaded objects
 * (elf/dl-close.c) and by libgcc's unwinder during C++ exception throws.
 */
#ifndef PT_UNWIND_CFI_H
#define PT_UNWIND_CFI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return addresses of the current thread, like unw_backtrace/backtrace():
 * frames[0] is the return address into the caller of pt_cfi_backtrace;
 * after a signal frame comes __restore_rt's address then the interrupted
 * PC.  Returns the number stored (<= max).  The walk stops at the end of the
 * stack (return address rule undefined), at max, or at anything it does not
 * handle (pt_cfi_last_stop says what).  No allocation, no lock, keeps
 * errno, async-signal-safe. */
int pt_cfi_backtrace(void **frames, int max);

/* The stack of an interrupted context (a signal handler's third argument,
 * a ucontext_t): frames[0] is the interrupted PC itself (an exact PC, not a
 * return address: look it up as is), then the return addresses of its
 * callers, walked from the context's rip, rsp and rbp with the same bounds
 * and rules as pt_cfi_backtrace (the stack bounds are those of the
 * interrupted rsp).  Returns the number stored (<= max); 0 when uctx is
 * NULL or its rip is 0.  Same guarantees: no allocation, no lock, keeps
 * errno, async-signal-safe. */
int pt_cfi_backtrace_ctx(const void *uctx, void **frames, int max);

/* Register the executable PT_LOAD ranges of one loaded module (phdr: its
 * ElfW(Phdr)[phnum], base: the load bias, as in struct dl_phdr_info).  Safe
 * to call while walks run on other threads; no lock, no allocation.  Drops
 * negative cache entries of PCs in the new ranges.  Returns the number of
 * ranges added (0: already known, no .eh_frame_hdr, or table full). */
int pt_cfi_note_module(uintptr_t base, const void *phdr, int phnum);
/* Register every loaded module (one dl_iterate_phdr pass: loader lock; not
 * from a signal handler).  Returns the number of ranges added. */
int pt_cfi_scan_modules(void);
/* 1 (default): a PC in no registered module is looked up in /proc/self/maps
 * (lazy registration, see above); 0: it stops the walk ("pc in no module"). */
void pt_cfi_set_lazy_scan(int on);

/* A module whose text covers [start, end) is being (or has been) unloaded:
 * drop its ranges and every cached rule of a PC in [start, end).  Walks on
 * other threads may race: they stop early or use an old rule for a PC that
 * can no longer be on a stack.  Waits (yielding) for walks that are parsing
 * CFI at that moment, so it must not be called from a signal handler or
 * from inside a walk; it may be called inside a dl_iterate_phdr callback.
 * Call it before the module is unmapped where possible: between the unmap
 * and this call a walk that meets a (stale) PC of the module would parse
 * unmapped memory. */
void pt_cfi_forget(uintptr_t start, uintptr_t end);

/* In the child of fork(), before anything else here (the runtime's fork
 * child handler): other threads' walks were in flight at the fork and will
 * never finish there; without this a pt_cfi_forget in the child can wait
 * for them forever.  Walks themselves need nothing after a fork. */
void pt_cfi_fork_child(void);

/* Statistics for tests and the benchmark (relaxed counters; rule_hits only
 * when built with -DPT_CFI_COUNT_HITS; stops: rule misses that stop the
 * walk — a walk stopped by a cached negative entry is not counted again). */
struct pt_cfi_stats {
    /* rule_uncacheable: misses whose rule the cache word cannot hold (used,
     * not cached: parsed again at every walk through that PC) */
    /* module_scans: pt_cfi_scan_modules calls and lazy registrations */
    unsigned long rule_hits, rule_misses, rule_uncacheable, module_scans, stops;
    unsigned long negative_stored;  /* rule misses remembered as "stop here" */
    unsigned long unsupported;      /* CFI the interpreter does not evaluate */
    unsigned long cfa_expressions;  /* DW_CFA_def_cfa_expression evaluated (PLT) */
    unsigned long signal_frames;    /* signal frames crossed */
    unsigned long bounds_reads;     /* /proc/self/maps reads for stack bounds */
    unsigned long bounds_stops;     /* walks stopped: a read would leave the stack */
    unsigned long modules_noted, modules_forgotten;
};
void pt_cfi_stats_get(struct pt_cfi_stats *out);
/* Why the last walk of this thread stopped (a short static string). */
const char *pt_cfi_last_stop(void);

/* Tests and benchmarks only. */
/* The rule for lookup address pc (through the cache, like a walk): 0 stop
 * (pt_cfi_last_stop says why), 1 CFA = rsp + *cfa_off, 2 CFA = rbp +
 * *cfa_off, 3 signal frame, 4 end of stack. */
int pt_cfi_probe(uintptr_t pc, long *cfa_off);
/* The rule cache slot of lookup address pc (to build colliding PCs). */
unsigned pt_cfi_cache_slot(uintptr_t pc);
/* Empty the rule cache (concurrent walks just miss). */
void pt_cfi_flush_rules(void);
/* Forget all modules and rules and this thread's stack bounds: the next
 * walk is a first walk (module scan, bounds read, parse). */
void pt_cfi_reset(void);

#ifdef __cplusplus
}
#endif
#endif
