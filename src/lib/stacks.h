/*
 * stacks.h — call stacks recorded by the runtime (hit ring, verify log,
 * tracked blocks) as people and programs read them: the symbolizer set up
 * for a reading, and one frame or a whole stack through the emitter.
 * Used by `pooltag hit` and `pooltag verify`; implemented in stacks.c over
 * symbolize.h (the symbolizer `sites` uses) and emit.h.
 */
#ifndef PT_CLI_STACKS_H
#define PT_CLI_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "ptread.h"
#include "symbolize.h"

/* A symbolizer for the code addresses of reading v: every record of its
 * module table (unloaded ones flagged, so an address of a module since
 * unloaded is still named), and for a live source the modules of
 * /proc/PID/maps.  *with says what was used ("module table and process
 * maps", "module table", "process maps", "none").  NULL: out of memory. */
sym_ctx *cli_stack_symbols(ptr_source *src, const ptr_view *v, int network,
                           const char **with);

/* "module!symbol+0xoff" (or "module+0xoff", or "0xADDR") for a return
 * address, into buf; *si (if not NULL) gets the lookup. */
const char *cli_frame_text(sym_ctx *sc, uint64_t addr, char *buf, size_t size,
                           sym_info *si);

/* A stack: table mode, one line per frame "INDENT#N  0xADDR  FRAME
 * [FILE:LINE]"; JSON, "frames": [{addr, module, symbol, offset, file,
 * line}] (module..line null when unknown). */
void cli_emit_stack(emitter *e, sym_ctx *sc, const uint64_t *frames,
                    uint32_t depth, const char *indent);
/* The same for a stack whose frame 0 is, when first_is_pc, the address of
 * an instruction (a faulting pc: looked up as it is) rather than a return
 * address (looked up at address - 1: the call). */
void cli_emit_stack_pc(emitter *e, sym_ctx *sc, const uint64_t *frames,
                       uint32_t depth, const char *indent, int first_is_pc);

/* A wall-clock time in ns as "YYYY-MM-DD HH:MM:SS.uuuuuu" (local time). */
const char *cli_time_text(uint64_t ns, char *buf, size_t size);

#endif
