/*
 * fuzz_log.c — libFuzzer target for the counter-log reader of `pooltag
 * trend`: every input is loaded as a SQLite database image (in memory,
 * read-only, through ldb_open_image) and goes the whole way a log goes:
 * validation, the thinned samples and series of every process, the
 * verdicts, and the table, JSON and HTML writers (to /dev/null).
 *
 * The SQL work per input is bounded (ldb_open_image's max_steps), so a
 * damaged file whose b-tree loops or is huge cannot hang the target.
 * Beyond "no crash, no leak, no sanitizer report": an error is one
 * non-empty line; a successful collection has consistent counts and every
 * verdict in range.
 */
#include "trend.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void check_err(const char *err)
{
    if (err[0] == 0 || strchr(err, '\n'))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    ldb_log *db;
    if (ldb_open_image(&db, data, size, 20000, err, sizeof err) != 0) {
        check_err(err);
        return 0;
    }
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    /* Every other input also through the --tag and --pid paths. */
    const char *pat = (size & 1) ? "L*" : NULL;
    long long pid = (size & 2) ? 1001 : -1;
    tr_report rep;
    if (tr_collect(&rep, db, "fuzz.db", pat, pid, err, sizeof err) == 0) {
        int sum = 0;
        for (int v = 0; v < VD_COUNT; v++)
            sum += rep.counts[v];
        if ((size_t)sum != rep.nrows || rep.nrows == 0)
            __builtin_trap();
        for (size_t i = 0; i < rep.nrows; i++)
            if ((unsigned)rep.rows[i].r.verdict >= VD_COUNT ||
                rep.rows[i].r.nondecr < 0 || rep.rows[i].r.nondecr > 1.0000001)
                __builtin_trap();
        if (sink) {
            tr_print_table(sink, &rep);
            tr_print_json(sink, &rep);
            if (tr_write_html(sink, &rep, err, sizeof err) != 0)
                check_err(err);
        }
    } else {
        check_err(err);
    }
    tr_free(&rep);
    ldb_close(db);
    return 0;
}
