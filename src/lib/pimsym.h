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

#endif
