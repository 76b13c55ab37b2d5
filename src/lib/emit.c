/*
 * emit.c — the table/JSON emitter (emit.h).
 *
 * JSON layout: members of the outer object and elements of arrays start on
 * a line of their own, indented one space per level; members of inner
 * objects follow each other on the line ("a": 1, "b": 2).  So a verb's
 * rows read one per line and the output stays small.
 */
#include "emit.h"
#include "util.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

void emit_init(emitter *e, FILE *f, emit_mode mode)
{
    memset(e, 0, sizeof *e);
    e->f = f;
    e->mode = mode;
}

/* ---- JSON structure ---------------------------------------------------- */

static void indent(emitter *e, int depth)
{
    fputc('\n', e->f);
    for (int i = 0; i < depth; i++)
        fputc(' ', e->f);
}

/* Write what comes before a member or an element at the current level:
 * the comma, the line break, the key. */
static void member(emitter *e, const char *key)
{
    int d = e->depth;
    if (d == 0)                     /* a bare value at the top: nothing     */
        return;
    if (!e->first[d])
        fputc(',', e->f);
    if (e->array[d] || d == 1)
        indent(e, d);
    else if (!e->first[d])
        fputc(' ', e->f);
    e->first[d] = 0;
    if (!e->array[d]) {
        assert(key);
        emit_json_string(e->f, key);
        fputs(": ", e->f);
    }
}

static void open_level(emitter *e, const char *key, int array)
{
    member(e, key);
    fputc(array ? '[' : '{', e->f);
    assert(e->depth < EMIT_MAX_DEPTH);
    e->depth++;
    e->first[e->depth] = 1;
    e->array[e->depth] = (unsigned char)array;
}

static void close_level(emitter *e, int array)
{
    int d = e->depth;
    assert(d > 0 && e->array[d] == array);
    if (!e->first[d] && (array || d == 1))
        indent(e, d - 1);
    fputc(array ? ']' : '}', e->f);
    e->depth--;
}

void emit_begin(emitter *e)
{
    if (emit_json(e))
        open_level(e, NULL, 0);
}

void emit_end(emitter *e)
{
    if (!emit_json(e))
        return;
    while (e->depth > 0)
        close_level(e, e->array[e->depth]);
    fputc('\n', e->f);
}

void emit_text(emitter *e, const char *fmt, ...)
{
    if (emit_json(e))
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(e->f, fmt, ap);
    va_end(ap);
}

void emit_obj_begin(emitter *e, const char *key)
{
    if (emit_json(e))
        open_level(e, key, 0);
}

void emit_obj_end(emitter *e)
{
    if (emit_json(e))
        close_level(e, 0);
}

void emit_arr_begin(emitter *e, const char *key)
{
    if (emit_json(e))
        open_level(e, key, 1);
}

void emit_arr_end(emitter *e)
{
    if (emit_json(e))
        close_level(e, 1);
}

/* ---- values ------------------------------------------------------------ */

void emit_json_string(FILE *f, const char *s)
{
    char buf[CLI_ESC_MAX];
    const char *t;
    /* The table's text (cli_text) is the string's one printable form; a
     * longer one is escaped in pieces cut at character boundaries. */
    fputc('"', f);
    while (s && *s) {
        size_t n = strlen(s), take = n < 4096 ? n : 4096;
        while (take < n && take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
            take--;         /* do not split a UTF-8 sequence               */
        if (take == 0)
            take = n < 4096 ? n : 4096;
        char piece[4097];
        memcpy(piece, s, take);
        piece[take] = 0;
        t = cli_text(piece, buf, sizeof buf);
        for (; *t; t++) {
            if (*t == '"' || *t == '\\')
                fputc('\\', f);
            fputc(*t, f);
        }
        s += take;
    }
    fputc('"', f);
}

/* A string that is printable ASCII already (a tag's text form): only the
 * JSON escapes. */
static void json_ascii(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_dbl(FILE *f, double v, int decimals)
{
    if (!isfinite(v))
        fputs("null", f);
    else if (decimals < 0)
        fprintf(f, "%.17g", v);
    else
        fprintf(f, "%.*f", decimals, v);
}

void emit_kv_u64(emitter *e, const char *key, uint64_t v)
{
    if (!emit_json(e))
        return;
    member(e, key);
    fprintf(e->f, "%" PRIu64, v);
}

void emit_kv_i64(emitter *e, const char *key, int64_t v)
{
    if (!emit_json(e))
        return;
    member(e, key);
    fprintf(e->f, "%" PRId64, v);
}

void emit_kv_dbl(emitter *e, const char *key, double v, int decimals)
{
    if (!emit_json(e))
        return;
    member(e, key);
    json_dbl(e->f, v, decimals);
}

void emit_kv_str(emitter *e, const char *key, const char *s)
{
    if (!emit_json(e))
        return;
    member(e, key);
    if (s)
        emit_json_string(e->f, s);
    else
        fputs("null", e->f);
}

void emit_kv_bool(emitter *e, const char *key, int v)
{
    if (!emit_json(e))
        return;
    member(e, key);
    fputs(v ? "true" : "false", e->f);
}

void emit_kv_null(emitter *e, const char *key)
{
    if (!emit_json(e))
        return;
    member(e, key);
    fputs("null", e->f);
}

/* Tags are written in their text form (pt_tag_text: printable, the form
 * -i/-x and --tag take), not escaped a second time. */
void emit_kv_tag(emitter *e, const char *key, uint32_t tag)
{
    char text[PT_TAG_TEXT_MAX];
    if (!emit_json(e))
        return;
    member(e, key);
    json_ascii(e->f, cli_tag(tag, text));
}

/* ---- tables ------------------------------------------------------------ */

void emit_table_begin(emitter *e, const emit_col *cols, int ncols)
{
    e->cols = cols;
    e->ncols = ncols;
    e->next_col = 0;
}

void emit_row_begin(emitter *e)
{
    e->next_col = 0;
    if (emit_json(e))
        open_level(e, NULL, 0);
}

void emit_row_end(emitter *e)
{
    if (emit_json(e))
        close_level(e, 0);
    else
        fputc('\n', e->f);
    e->next_col = 0;
}

/* Table mode: write the blank cells of skipped columns, then this cell's
 * separator and TEXT padded to the column's width. */
static void cell(emitter *e, int col, const char *text)
{
    assert(col >= e->next_col && col < e->ncols);
    for (; e->next_col < col; e->next_col++) {
        const emit_col *c = &e->cols[e->next_col];
        fprintf(e->f, "%s%*s", c->sep ? c->sep : " ", c->width, "");
    }
    const emit_col *c = &e->cols[col];
    fprintf(e->f, (c->flags & EMIT_LEFT) ? "%s%-*s" : "%s%*s", c->sep ? c->sep : " ",
            c->width, text);
    e->next_col = col + 1;
}

/* JSON mode: the member of column col, or nothing for a table-only column
 * (returns 0 then). */
static int col_member(emitter *e, int col)
{
    assert(col >= 0 && col < e->ncols);
    if (!e->cols[col].key)
        return 0;
    member(e, e->cols[col].key);
    return 1;
}

void emit_col_u64_as(emitter *e, int col, uint64_t v, const char *text)
{
    if (!emit_json(e))
        cell(e, col, text);
    else if (col_member(e, col))
        fprintf(e->f, "%" PRIu64, v);
}

void emit_col_i64_as(emitter *e, int col, int64_t v, const char *text)
{
    if (!emit_json(e))
        cell(e, col, text);
    else if (col_member(e, col))
        fprintf(e->f, "%" PRId64, v);
}

void emit_col_dbl_as(emitter *e, int col, double v, int decimals, const char *text)
{
    if (!emit_json(e))
        cell(e, col, text);
    else if (col_member(e, col))
        json_dbl(e->f, v, decimals);
}

void emit_col_text(emitter *e, int col, const char *text)
{
    if (!emit_json(e))
        cell(e, col, text);
}

void emit_col_u64(emitter *e, int col, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    emit_col_u64_as(e, col, v, b);
}

void emit_col_i64(emitter *e, int col, int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRId64, v);
    emit_col_i64_as(e, col, v, b);
}

void emit_col_dbl(emitter *e, int col, double v, int decimals)
{
    char b[64];
    if (!isfinite(v))
        snprintf(b, sizeof b, "-");
    else
        snprintf(b, sizeof b, "%.*f", decimals < 0 ? 6 : decimals, v);
    emit_col_dbl_as(e, col, v, decimals, b);
}

void emit_col_str(emitter *e, int col, const char *s)
{
    if (!emit_json(e)) {
        cell(e, col, cli_esc(s));
    } else if (col_member(e, col)) {
        if (s)
            emit_json_string(e->f, s);
        else
            fputs("null", e->f);
    }
}

void emit_col_tag(emitter *e, int col, uint32_t tag)
{
    char text[PT_TAG_TEXT_MAX];
    if (!emit_json(e)) {
        cell(e, col, cli_tag(tag, text));
    } else if (col_member(e, col)) {
        json_ascii(e->f, cli_tag(tag, text));
    }
}

/* ---- shared pieces ----------------------------------------------------- */

void emit_counts(emitter *e, const char *key, const pt_counts *c, int with_peak)
{
    if (!emit_json(e))
        return;
    emit_obj_begin(e, key);
#define PT_COUNTER(name, kind, help)                                         \
    if (with_peak || strcmp(#name, "peak") != 0)                             \
        emit_kv_u64(e, #name, c->name);
#include "counters.def"
    emit_kv_i64(e, "blocks", cli_diff(c->allocs, c->frees));
    emit_kv_i64(e, "bytes", cli_diff(c->bytes_alloc, c->bytes_freed));
    emit_obj_end(e);
}

void emit_source(emitter *e, const ptr_view *v, const char *spec)
{
    if (!emit_json(e))
        return;
    emit_obj_begin(e, "source");
    emit_kv_str(e, "kind", v->kind == PTR_LIVE ? "live" : v->kind == PTR_CORE ? "core" : "snapshot");
    emit_kv_str(e, "spec", spec);
    emit_kv_u64(e, "pid", v->pid);
    emit_kv_str(e, "comm", v->comm);
    emit_kv_str(e, "exe", v->exe);
    emit_kv_u64(e, "segment_version", v->version);
    emit_kv_u64(e, "start_ns", v->start_ns);
    emit_kv_u64(e, "taken_ns", v->taken_ns);
    emit_kv_u64(e, "page_size", v->page_size);
    emit_kv_u64(e, "max_tags", v->max_tags);
    emit_kv_str(e, "backend", v->flags & PT_SEGF_LIBC_BACKEND ? "libc" : "mimalloc");
    emit_obj_end(e);
}

void emit_source_proc(emitter *e, const char *spec, uint32_t pid, const char *comm,
                      const char *exe)
{
    emit_source_proc_kind(e, "live", spec, pid, comm, exe);
}

void emit_source_proc_kind(emitter *e, const char *kind, const char *spec, uint32_t pid,
                           const char *comm, const char *exe)
{
    static const char *const segment_only[] = {
        "segment_version", "start_ns", "taken_ns", "page_size", "max_tags", "backend",
    };
    if (!emit_json(e))
        return;
    emit_obj_begin(e, "source");
    emit_kv_str(e, "kind", kind);
    emit_kv_str(e, "spec", spec);
    emit_kv_u64(e, "pid", pid);
    emit_kv_str(e, "comm", comm);
    emit_kv_str(e, "exe", exe);
    for (size_t i = 0; i < sizeof segment_only / sizeof segment_only[0]; i++)
        emit_kv_null(e, segment_only[i]);
    emit_obj_end(e);
}

void emit_kv_hex(emitter *e, const char *key, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    emit_kv_str(e, key, b);
}
