/*
 * pimsym.h — the symbolizer (symbolize.h) for the modules of a pim
 * (pimg.h): a live process or a core.  Each module is added with the
 * build-id read from the process's memory, so a file that changed on disk
 * since the core was written is not used to name addresses; the verbs warn
 * about such files once (pim_symbols_warn), never silently.
 */
#ifndef PT_LIB_PIMSYM_H
#define PT_LIB_PIMSYM_H

#include <stddef.h>
#include <stdint.h>

#include "pimg.h"
#include "symbolize.h"

/* A symbolizer with one module per p->modules entry, in the same order
 * (module i of the context is p->modules[i]).  network as for sym_new.
 * NULL when out of memory. */
sym_ctx *pim_symbols(const pim *p, int network);

/* Open every module's file and print one line to stderr for each that
 * cannot name addresses: "pooltag VERB: warning: NOTE" (e.g. "... changed
 * since it was loaded (build-id differs)").  Returns how many. */
size_t pim_symbols_warn(sym_ctx *c, const char *verb);

/* (Appended for search and the classifier.)  The end of module m's .bss:
 * its last PT_LOAD's end as its ELF headers in p's memory say, page
 * rounded, when the anonymous regions right after m's file mappings reach
 * no further (its .bss pages past the file); else m->end.  A pim's module
 * spans are its file's mappings only, as `lm` shows them. */
uint64_t pim_module_bss_end(pim *p, const pim_module *m);
/* pim_symbols whose modules reach over their .bss (pim_module_bss_end), so
 * that a global there is named by sym_nearest. */
sym_ctx *pim_symbols_bss(pim *p, int network);

#endif
