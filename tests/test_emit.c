/*
 * test_emit.c — the table/JSON emitter (src/lib/emit.c): the same calls
 * give an aligned table and JSON; strings from outside are escaped the same
 * way in both; the shared pieces carry the names of docs/json.md.
 */
#include "emit.h"
#include "pt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const emit_col cols[] = {
    {"tag", 4, EMIT_LEFT, " "},
    {"blocks", 6, 0, NULL},
    {"bytes", 8, 0, NULL},
    {NULL, 0, 0, "  "},                 /* a table-only column          */
    {"name", 0, EMIT_LEFT, "  "},
};

/* Write the same report in MODE to a memory stream; returns the text. */
static char *report(emit_mode mode)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f);
    emitter e;
    emit_init(&e, f, mode);
    emit_begin(&e);
    emit_text(&e, " Tag  Blocks    Bytes\n");
    emit_kv_str(&e, "kind", "test");
    emit_table_begin(&e, cols, 5);
    emit_arr_begin(&e, "rows");
    emit_row_begin(&e);
    emit_col_tag(&e, 0, PT_TAG("Leak"));
    emit_col_i64(&e, 1, -3);
    emit_col_u64_as(&e, 2, 2621440, "2.50 MiB");
    emit_col_str(&e, 3, "x");
    emit_col_str(&e, 4, "a\"b\\c\x1b[31m\xff\xc3\xa9");
    emit_kv_dbl(&e, "rate", NAN, 2);
    emit_row_end(&e);
    emit_row_begin(&e);
    emit_col_tag(&e, 0, PT_TAG("A\nbc"));
    emit_col_str(&e, 4, NULL);          /* columns 1..3 skipped           */
    emit_kv_dbl(&e, "rate", 1.5, 2);
    pt_counts c = {.allocs = 5, .frees = 2, .bytes_alloc = 100, .bytes_freed = 40,
                   .peak = 70, .failures = 1};
    emit_counts(&e, "paged", &c, 1);
    emit_counts(&e, "total", &c, 0);
    emit_row_end(&e);
    emit_arr_end(&e);
    emit_arr_begin(&e, "empty");
    emit_arr_end(&e);
    emit_end(&e);
    CHECK(fclose(f) == 0);
    return buf;
}

int main(void)
{
    char *t = report(EMIT_TABLE);
    const char *want_t =
        " Tag  Blocks    Bytes\n"
        " Leak     -3 2.50 MiB  x  a\"b\\\\c\\x1b[31m\\xffé\n"
        " A\\x0abc                    \n";
    if (strcmp(t, want_t) != 0) {
        fprintf(stderr, "table:\n%s\nwanted:\n%s\n", t, want_t);
        return 1;
    }
    char *j = report(EMIT_JSON);
    const char *want_j =
        "{\n"
        " \"kind\": \"test\",\n"
        " \"rows\": [\n"
        "  {\"tag\": \"Leak\", \"blocks\": -3, \"bytes\": 2621440,"
        " \"name\": \"a\\\"b\\\\\\\\c\\\\x1b[31m\\\\xffé\", \"rate\": null},\n"
        "  {\"tag\": \"A\\\\x0abc\", \"name\": null, \"rate\": 1.50,"
        " \"paged\": {\"allocs\": 5, \"frees\": 2, \"bytes_alloc\": 100,"
        " \"bytes_freed\": 40, \"peak\": 70, \"failures\": 1, \"blocks\": 3, \"bytes\": 60},"
        " \"total\": {\"allocs\": 5, \"frees\": 2, \"bytes_alloc\": 100,"
        " \"bytes_freed\": 40, \"failures\": 1, \"blocks\": 3, \"bytes\": 60}}\n"
        " ],\n"
        " \"empty\": []\n"
        "}\n";
    if (strcmp(j, want_j) != 0) {
        fprintf(stderr, "json:\n%s\nwanted:\n%s\n", j, want_j);
        return 1;
    }
    /* A long name (more than one piece of the escaper) keeps every byte. */
    size_t n = 10000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (i % 3 == 2) ? '\xa9' : (i % 3 == 1 ? '\xc3' : 'z');
    big[n] = 0;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    emit_json_string(f, big);
    fclose(f);
    CHECK(len == n + 2);                /* all valid UTF-8: unchanged     */
    CHECK(memcmp(out + 1, big, n) == 0);
    free(big);
    free(out);
    free(t);
    free(j);
    return 0;
}
