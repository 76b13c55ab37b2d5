/*
 * emit.h — one writer for every verb's report: an aligned table for people
 * or JSON for programs, from one description of the rows (after jemalloc's
 * emitter.h).  Implemented in emit.c.
 *
 * A verb opens an emitter on a stream in one of the two modes and makes the
 * same calls in both; each call does what its mode needs:
 *
 *   call                        table mode              JSON mode
 *   emit_begin / emit_end       nothing                 the outer { }
 *   emit_text(fmt, ...)         printf                  nothing
 *   emit_kv_*(key, value)       nothing                 "key": value
 *   emit_obj_begin/end(key)     nothing                 "key": { ... }
 *   emit_arr_begin/end(key)     nothing                 "key": [ ... ]
 *   emit_row_begin/end()        the end of the line     { ... } in the array
 *   emit_col_*(col, value)      the cell, aligned       "key": value
 *
 * A table is described once by an array of emit_col: the JSON member's
 * name (NULL: the column is for people only), the width, the alignment and
 * the separator written before the cell.  A row is emit_row_begin, one
 * emit_col_* per column in order (columns may be skipped: their cells are
 * blank), any number of emit_kv_* or emit_obj_* members that only the JSON
 * has, then emit_row_end.  Headings and notes around the table are the
 * verb's own text (emit_text), so every table keeps its exact look.
 *
 * Values: integers as decimal; doubles with a given number of decimals
 * (NaN and infinities: null in JSON, "-" in a table); strings from outside
 * (names from the target, a snapshot, a log) go through the one escaper
 * (cli_text: valid UTF-8 kept, control characters and invalid bytes as
 * \xNN, a backslash doubled) in both modes, so a table and the JSON show
 * the same text, and JSON strings are always valid UTF-8.  A NULL string
 * is null in JSON and empty in a table.
 *
 * The JSON schema every verb follows (the names of shared numbers, the
 * "source" object) is docs/json.md; emit_counts and emit_source write the
 * pieces that several verbs share, so their names cannot drift.
 *
 * Errors: writes go to a stdio stream; the caller checks ferror() at the
 * end as for any other output.  Nesting deeper than EMIT_MAX_DEPTH is a
 * programming error (asserted).
 */
#ifndef PT_EMIT_H
#define PT_EMIT_H

#include <stdint.h>
#include <stdio.h>

#include "cli.h"

#define EMIT_MAX_DEPTH 16

typedef enum emit_mode { EMIT_TABLE, EMIT_JSON } emit_mode;

#define EMIT_LEFT 0x1u      /* emit_col.flags: left-aligned (default right) */

typedef struct emit_col {
    const char *key;        /* JSON member name; NULL: table only           */
    int width;              /* minimum width of the cell in the table       */
    unsigned flags;         /* EMIT_*                                       */
    const char *sep;        /* written before the cell; NULL: " "           */
} emit_col;

typedef struct emitter {
    FILE *f;
    emit_mode mode;
    int depth;                       /* JSON nesting                          */
    unsigned char first[EMIT_MAX_DEPTH + 1]; /* no member written yet       */
    unsigned char array[EMIT_MAX_DEPTH + 1]; /* the level is an array      */
    const emit_col *cols;            /* the current table                     */
    int ncols;
    int next_col;                    /* table mode: the next cell's column    */
} emitter;

void emit_init(emitter *e, FILE *f, emit_mode mode);
static inline int emit_json(const emitter *e) { return e->mode == EMIT_JSON; }

void emit_begin(emitter *e);
void emit_end(emitter *e);          /* JSON: the closing } and a newline     */

void emit_text(emitter *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Members (JSON only).  key is NULL for an element of an array. */
void emit_kv_u64(emitter *e, const char *key, uint64_t v);
void emit_kv_i64(emitter *e, const char *key, int64_t v);
void emit_kv_dbl(emitter *e, const char *key, double v, int decimals);
void emit_kv_str(emitter *e, const char *key, const char *s);
void emit_kv_bool(emitter *e, const char *key, int v);
void emit_kv_null(emitter *e, const char *key);
void emit_kv_tag(emitter *e, const char *key, uint32_t tag);
/* An address: the string "0x..." (lower-case hex, docs/json.md). */
void emit_kv_hex(emitter *e, const char *key, uint64_t v);
void emit_obj_begin(emitter *e, const char *key);
void emit_obj_end(emitter *e);
void emit_arr_begin(emitter *e, const char *key);
void emit_arr_end(emitter *e);

/* Tables.  emit_table_begin sets the columns of the rows that follow (JSON:
 * nothing; the verb opens the array with emit_arr_begin). */
void emit_table_begin(emitter *e, const emit_col *cols, int ncols);
void emit_row_begin(emitter *e);
void emit_row_end(emitter *e);
/* Cells of column `col` (an index into the table's columns). */
void emit_col_u64(emitter *e, int col, uint64_t v);
void emit_col_i64(emitter *e, int col, int64_t v);
void emit_col_dbl(emitter *e, int col, double v, int decimals);
void emit_col_str(emitter *e, int col, const char *s);
void emit_col_tag(emitter *e, int col, uint32_t tag);
/* A number whose table cell is TEXT ("2.50 MiB", "-"): the JSON keeps the
 * number.  TEXT is the verb's own formatting and is not escaped. */
void emit_col_u64_as(emitter *e, int col, uint64_t v, const char *text);
void emit_col_i64_as(emitter *e, int col, int64_t v, const char *text);
void emit_col_dbl_as(emitter *e, int col, double v, int decimals, const char *text);
/* A cell that only the table has: TEXT is the verb's own formatting (text
 * it escaped itself, a tag in its text form) and is written as it is; the
 * JSON writes nothing, whatever the column's key. */
void emit_col_text(emitter *e, int col, const char *text);

/* Shared pieces (docs/json.md). */
/* "key": {allocs, frees, bytes_alloc, bytes_freed, [peak,] failures,
 * blocks, bytes}: the counters of counters.def and the two derived
 * numbers; with_peak 0 leaves peak out (a sum over tags has no peak). */
void emit_counts(emitter *e, const char *key, const pt_counts *c, int with_peak);
/* "source": the reading (kind, spec, pid, comm, exe, segment_version,
 * start_ns, taken_ns, page_size, max_tags, backend). */
void emit_source(emitter *e, const ptr_view *v, const char *spec);
/* "source" of a live process that has no segment to read (lm, ln of an
 * untagged PID): the members of emit_source, those that only a segment
 * knows (segment_version, start_ns, taken_ns, page_size, max_tags,
 * backend) null. */
void emit_source_proc(emitter *e, const char *spec, uint32_t pid, const char *comm,
                      const char *exe);
/* The same with another "kind" ("core": lm, ln of an untagged core). */
void emit_source_proc_kind(emitter *e, const char *kind, const char *spec, uint32_t pid,
                           const char *comm, const char *exe);

/* The one JSON string writer: "text" with s escaped as described above. */
void emit_json_string(FILE *f, const char *s);

#endif
