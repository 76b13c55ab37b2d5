/*
 * cli.h — pieces shared by the verbs of the `pooltag` command (the library
 * src/lib; the verbs themselves are declared in src/cli/verbs.h).
 *
 * Exit statuses: PT_EXIT_OK 0, PT_EXIT_FINDING 1, PT_EXIT_USAGE 2 (usage or
 * input error).  Errors go to stderr as one line: "pooltag VERB: message".
 */
#ifndef PT_CLI_H
#define PT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "pooltag.h"
#include "ptread.h"

#define PT_EXIT_OK 0
#define PT_EXIT_FINDING 1
#define PT_EXIT_USAGE 2

/* Print "pooltag VERB: <fmt>\n" to stderr. */
void cli_err(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


/* ---- tag database (data/pooltag.txt format: "Tag - binary - description")
 * Search path: $POOLTAG_DB, ~/.config/pooltag/pooltag.txt, the installed
 * copy (PT_DATADIR/pooltag.txt), then ./data/pooltag.txt beside the
 * executable's source tree for an uninstalled build.  Loading is lazy and
 * silent when no database is found (lookups then return NULL). */
typedef struct ptdb_entry {
    uint32_t tag;
    const char *binary;       /* e.g. "notmyfault"                         */
    const char *description;
} ptdb_entry;
const ptdb_entry *ptdb_lookup(uint32_t tag);
/* Describe the automatic tags of this reading's module table too (the
 * preload): ptdb_lookup falls back to them.  Call after each ptr_read. */
void cli_use_modules(const ptr_view *v);
const char *ptdb_path(void);  /* file that was loaded, or NULL             */

/* Does the tag pass the -i (include) / -x (exclude) pattern lists?
 * incl/excl are NULL-terminated arrays (may be NULL = no filter). */
int cli_tag_selected(uint32_t tag, char *const *incl, char *const *excl);

/* Tag text for tables: escaped form (pt_tag_text). */
const char *cli_tag(uint32_t tag, char buf[PT_TAG_TEXT_MAX]);

/* JSON goes through the emitter (emit.h): emit_json_string is the one JSON
 * string writer. */

#endif
