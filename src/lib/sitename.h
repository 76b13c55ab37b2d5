/*
 * sitename.h — call sites (ptr_view.sites) named as `pooltag sites` names
 * them: the symbolizer for a reading, the Site cell of a table and the
 * JSON members of a site's name.  Used by `sites` and `used --suspects`;
 * implemented in sitename.c over symbolize.h and emit.h.
 *
 * Which modules name the addresses:
 *   1. the segment's module table (the preload), newest record first, and
 *      before every other one the records whose tag is the tag asked for:
 *      a module unloaded since, whose address another module now holds,
 *      still names its own sites;
 *   2. for a live process, its /proc/PID/maps (a program linked with
 *      libpooltag has no module table; for the preload it is a fallback);
 *   3. for a snapshot without a module table, the maps of the process it
 *      was taken from if that process is still running with the same
 *      segment (same PID and segment start time); otherwise addresses
 *      stay raw and a note says why.
 */
#ifndef PT_CLI_SITENAME_H
#define PT_CLI_SITENAME_H

#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "ptread.h"
#include "symbolize.h"

/* Fill sc with the modules that name reading v's addresses, those of tag
 * `tag` preferred (0: none).  *with gets "module table and process maps",
 * "module table", "process maps" or "none"; note (size bytes) a sentence
 * about symbolization, or "". */
void site_symbols(sym_ctx *sc, ptr_source *src, const ptr_view *v, uint32_t tag,
                  const char **with, char *note, size_t size);

/* The text of a row without an address (the tag's other sites, the
 * overflow site), or NULL for a site with one. */
const char *site_special(const struct ptr_site *s);

/* A site's name: its symbol lookup (sym_lookup of its address as a return
 * address; nothing for the rows without one) and whether the symbolizer
 * had any module to look in. */
typedef struct site_name {
    sym_info sym;
    int have_modules;
} site_name;
void site_lookup(sym_ctx *sc, const struct ptr_site *s, site_name *n);

/* The Site cell: "  module!symbol+0xoff  file:line  [note]" (each part
 * escaped), or "  (other sites: ...)"; and the address cell text
 * ("0x0000deadbeef", or "-"). */
void site_cell(const struct ptr_site *s, const site_name *n, char *buf, size_t size);
void site_addr_cell(const struct ptr_site *s, char *buf, size_t size);

/* The JSON members of a site's name: address, other_sites, overflow,
 * module, path, module_offset, symbol, symbol_offset, file, line, note
 * (docs/json.md, sites). */
void site_emit_name(emitter *e, const struct ptr_site *s, const site_name *n);

#endif
