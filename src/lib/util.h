/*
 * util.h — helpers shared by the report verbs (used, vm, snap), beyond the
 * contract in cli.h.  Implemented in util.c.
 */
#ifndef PT_CLI_UTIL_H
#define PT_CLI_UTIL_H

#include "cli.h"
#include "sizeparse.h"

/* Report a getopt_long failure ('?' or ':') for argv[optind - 1] in the
 * "pooltag VERB: ..." form, with a pointer to --help. */
void cli_opt_error(const char *verb, char **argv, int c);

/* Open SPEC and take one reading into *v.  On error prints the one-line
 * message for VERB and returns PT_EXIT_USAGE; on success returns PT_EXIT_OK
 * and the source in *out (the caller closes it) if out != NULL. */
int cli_read(const char *verb, const char *spec, ptr_view *v,
             ptr_source **out);

/* cli_read, then ptr_trace_open (the stacks, rings and control block of
 * the reading: hit, verify, special, fault).  On error prints the
 * one-line message for VERB ("process SPEC: ...") and returns
 * PT_EXIT_USAGE; *src (NULL or open) and *v are the caller's to free
 * either way. */
int cli_read_trace(const char *verb, const char *spec, ptr_view *v, ptr_source **src,
                   ptr_trace *t);

/* The outcome of a live change written with ptr_control_change or
 * ptr_special_change: "not applied yet: ..." when the process did not
 * apply it within the wait; else the line applied_fmt (printf-style, a
 * newline added; NULL: "applied") and, when the process refused
 * settings as out of range, one error line for VERB.  Returns PT_EXIT_OK,
 * or PT_EXIT_USAGE when settings were refused. */
int cli_change_outcome(const char *verb, const ptr_control_result *res, const char *applied_fmt,
                       ...) __attribute__((format(printf, 3, 4)));

/* One line that names the reading: "process 1234 (notmyfault), live at
 * 12:01:02", "snapshot FILE of process 1234 (notmyfault), taken ...", "core FILE of process 1234 (notmyfault), written ..." or,
 * for a bare segment image, "segment image FILE of process 1234
 * (notmyfault), bare: no checksum, damage is not detected". */
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
/* The JSON members of cli_full_tables_note through an emitter (nothing in
 * table mode): "site_table_full": BOOL, "modules_not_recorded": N. */
struct emitter;
void cli_emit_full_tables(struct emitter *e, const ptr_view *v);

/* Sizes ("100M", "64KiB", "4096") are parsed by pt_parse_size(s, &v, 1),
 * the one size parser (src/common/sizeparse.h), shared with the runtime. */

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

/* ---- Output files ------------------------------------------------------
 * Every verb that writes a file (snap -o, mon -n FILE, trend --html; log -o
 * through cli_out_check, as SQLite writes the log itself) goes through
 * these, so that all refuse the same targets:
 *
 *   - an existing target that is not a regular file once symbolic links
 *     are followed: a directory, FIFO, socket or device is never opened,
 *     written or replaced ("pooltag snap: ./n is a FIFO, not a regular
 *     file: left alone; give a file name");
 *   - a target that is the same file (st_dev and st_ino, through any link)
 *     as one of INPUTS, the NULL-terminated list of the files the verb
 *     reads (NULL: none);
 *   - a target that cannot be written, or whose status cannot be read for
 *     another reason than that it does not exist.
 *
 * Reasons come from strerror.  cli_out_check returns 1 (an existing regular
 * file), 0 (no such file yet) or -1 (refused, reason in err, which does not
 * name the verb: the caller prints it with cli_err).
 *
 * cli_out_open checks, then opens a temporary file "NAME.tmpXXXXXX" in the
 * directory of the file to replace (the final target of a symbolic link,
 * so a link stays a link) for the caller to write through o->f.
 * cli_out_commit flushes it, fsyncs it, closes it and renames it over the
 * target: a reader sees the old file or the whole new one, never a part,
 * and a failed write leaves the old file as it was.  A replaced file keeps
 * its permission bits (and, for root, its owner); a new one gets MODE less
 * the umask.  Any failure removes the temporary file and says why: "cannot
 * write FILE: No space left on device".  cli_out_discard drops an open
 * cli_out (the target is untouched). */
typedef struct cli_out {
    FILE *f;       /* where the caller writes                              */
    char *path;    /* the file created or replaced                         */
    char *tmp;     /* the temporary file, renamed to path by commit        */
} cli_out;
int cli_out_check(const char *path, const char *const *inputs, char *err,
                  size_t errlen);
int cli_out_open(cli_out *o, const char *path, const char *const *inputs,
                 unsigned mode, char *err, size_t errlen);
int cli_out_commit(cli_out *o, char *err, size_t errlen);
void cli_out_discard(cli_out *o);
/*
 * Text that came from a target, a snapshot, a core or a log (comm, exe and
 * module paths, symbol names, file:line paths, database descriptions), for
 * table and plain output: valid UTF-8 is kept, a byte below 0x20, 0x7f, a
 * C1 control (U+0080..U+009F, as its two bytes) and a byte that is not
 * part of valid UTF-8 become \xNN (lower-case hex), a
 * backslash becomes two.  So a hostile name cannot drive the terminal or
 * break a table's lines, and two different names never look the same.
 * The one escaper of the table output: every verb goes through it.
 *
 * cli_text writes into buf (size bytes, always NUL-terminated; cut at a
 * character boundary if too small: CLI_TEXT_SIZE(n) holds any n bytes) and
 * returns buf.  cli_esc returns one of CLI_ESC_SLOTS static buffers in turn
 * (of CLI_ESC_MAX bytes), so that up to that many can be passed to one
 * printf; s == NULL gives "".
 */
/* The one UTF-8 check: the length (1..4) of the valid UTF-8 sequence at s
 * within n bytes, or 0 when it is not one (a stray continuation byte, an
 * overlong form, a surrogate, past U+10FFFF, cut short).  A NUL byte is
 * never a continuation byte, so NUL-terminated text may pass SIZE_MAX. */
size_t cli_utf8_len(const char *s, size_t n);
#define CLI_TEXT_SIZE(n) (4 * (size_t)(n) + 1)
#define CLI_ESC_MAX CLI_TEXT_SIZE(4096)
#define CLI_ESC_SLOTS 8
const char *cli_text(const char *s, char *buf, size_t size);
const char *cli_esc(const char *s);

/* Parse a duration (every interval and duration option of every verb):
 * a decimal number, fraction and exponent allowed ("2", "0.5", "1e3",
 * "2.5e-1"), then optionally a unit: ms, s, m (or min), h; no unit means
 * seconds.  Returns 0 and *ns (rounded to the nanosecond), or -1 for bad
 * text or more than CLI_DURATION_MAX_NS. */
#define CLI_DURATION_MAX_NS (366ull * 86400 * 1000000000)
int cli_parse_duration(const char *s, uint64_t *ns);

/* Parse a non-negative decimal integer; returns 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Signed difference a - b of two counters. */
static inline int64_t cli_diff(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b);
}

#endif
