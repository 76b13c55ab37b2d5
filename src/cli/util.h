/*
 * util.h — helpers shared by the report verbs (used, vm, snap), beyond the
 * contract in cli.h.  Implemented in util.c.
 */
#ifndef PT_CLI_UTIL_H
#define PT_CLI_UTIL_H

#include "cli.h"

/* Report a getopt_long failure ('?' or ':') for argv[optind - 1] in the
 * "pooltag VERB: ..." form, with a pointer to --help. */
void cli_opt_error(const char *verb, char **argv, int c);

/* Open SPEC and take one reading into *v.  On error prints the one-line
 * message for VERB and returns PT_EXIT_USAGE; on success returns PT_EXIT_OK
 * and the source in *out (the caller closes it) if out != NULL. */
int cli_read(const char *verb, const char *spec, ptr_view *v,
             ptr_source **out);

/* One line that names the reading: "process 1234 (notmyfault), live at
 * 12:01:02" or "snapshot FILE of process 1234 (notmyfault), taken ...". */
void cli_describe(FILE *f, const ptr_view *v, const char *spec);

/* The description of the reading's overflow entry (tag Ovfl), naming the
 * limit to raise from the tables that are full: "overflow entry:
 * allocations of tags that found the tag table full (raise PT_MAX_TAGS)",
 * "... the site table full (raise PT_MAX_SITES)", or both.  It takes the
 * place of pooltag.txt's generic line for Ovfl. */
const char *cli_overflow_desc(const ptr_view *v);

/* Print a note (a blank line, then "   " and one line each) for every
 * table of the reading that filled up: the call-site table (later sites
 * are counted as their tag's other sites) and the module table (later
 * modules are tagged but not recorded).  Nothing when none did. */
void cli_full_tables_note(FILE *f, const ptr_view *v);
/* The same as JSON members (no braces): "site_table_full": BOOL,
 * "modules_not_recorded": N. */
void cli_json_full_tables(FILE *f, const ptr_view *v);

/* The "source" JSON object for a reading (no trailing newline). */
void cli_json_source(FILE *f, const ptr_view *v, const char *spec);

/* Parse a size: decimal digits, then optionally K, M, G or T (powers of
 * 1024), an optional "i", an optional "B" ("100M", "64KiB", "4096").
 * Returns 0 and *out, or -1 for bad text or a value over 2^64 - 1. */
int cli_parse_size(const char *s, uint64_t *out);

/* Order of tags as text (byte by byte), for sorted tables. */
static inline int cli_tag_cmp(uint32_t a, uint32_t b)
{
    for (int i = 0; i < 4; i++) {
        unsigned x = (a >> (8 * i)) & 0xff, y = (b >> (8 * i)) & 0xff;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* Parse a non-negative decimal integer; returns 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Signed difference a - b of two counters. */
static inline int64_t cli_diff(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b);
}

#endif
