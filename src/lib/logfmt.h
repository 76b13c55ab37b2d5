/*
 * logfmt.h — the counter log's format (docs/log-format.md), the one place
 * its identity, tables and columns are written: logw.c (the writer of
 * `pooltag log`) creates and fills the tables from it, logread.c (the
 * reader of `pooltag trend`) checks a log against it.
 *
 * The per-tag counter columns of tag_sample are generated from
 * src/common/counters.def: its SUM counters (allocs, frees, bytes_alloc,
 * bytes_freed), then `bytes` (bytes_alloc - bytes_freed, derived), then
 * the STAT counters that are logged (failures; a peak is not logged).  The
 * column is the counter's name.  A counter added to counters.def needs a
 * LOGFMT_STAT_name line below if it is a STAT counter (the build fails
 * until it has one); a SUM counter becomes a column, and that is a new
 * format version.
 *
 * Changing anything here changes the format: bump LOGFMT_VERSION.  The
 * writer appends only to a log of its own version; the reader reads every
 * version from LOGFMT_VERSION_MIN (what an older version lacks is NULL in
 * what it returns, logread.h).
 *
 * Version 2 (issue 15) added the lowest and highest Bytes of the interval
 * ending at each sample: tag_sample.bytes_min/bytes_max and the pool
 * totals' sample.paged_bytes_min/_max, nonpaged_bytes_min/_max.
 */
#ifndef PT_LOGFMT_H
#define PT_LOGFMT_H

#include <stdint.h>

#include "pooltag.h"

#define LOGFMT_APPLICATION_ID 1347701831 /* 0x50544C47, "PTLG"            */
#define LOGFMT_VERSION 2                 /* PRAGMA user_version          */
#define LOGFMT_VERSION_MIN 1             /* the oldest the reader reads  */

/* The columns of each table, in table order (the reader selects them all
 * to check a log; the writer's CREATE TABLE below names the same). */
#define LOGFMT_META_COLS "key, value"
#define LOGFMT_PROCESS_COLS \
    "id, pid, start_ns, comm, exe, first_ns, last_ns, end_ns, end_reason"
#define LOGFMT_SAMPLE_COLS_V1                                               \
    "id, process, t_ns, rss_kb, commit_kb, paged_bytes, nonpaged_bytes, "   \
    "paged_max, nonpaged_max, paged_failures, nonpaged_failures, errors"
/* Version 2: the pool totals' lowest and highest Bytes of the interval
 * that ends at the sample (paged_max stays the pool maximum, the limit). */
#define LOGFMT_SAMPLE_MM_COLS                                               \
    "paged_bytes_min, paged_bytes_max, nonpaged_bytes_min, nonpaged_bytes_max"
#define LOGFMT_SAMPLE_COLS LOGFMT_SAMPLE_COLS_V1 ", " LOGFMT_SAMPLE_MM_COLS
#define LOGFMT_TAG_SAMPLE_KEY_COLS "sample, tag, pool" /* then the counters */
/* Version 2: after the counters, the tag's lowest and highest Bytes in the
 * pool during the interval that ends at the sample. */
#define LOGFMT_TAG_SAMPLE_MM_COLS "bytes_min, bytes_max"
#define LOGFMT_TAG_COLS "tag, text, binary, description"

/* The tables, in the order they are created: LOGFMT_CREATE_HEAD, then
 * tag_sample (its counter columns generated, logw.c), then
 * LOGFMT_CREATE_TAIL. */
#define LOGFMT_CREATE_HEAD                                                  \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"       \
    "CREATE TABLE process(\n"                                               \
    "  id INTEGER PRIMARY KEY, pid INTEGER NOT NULL,\n"                     \
    "  start_ns INTEGER NOT NULL, comm TEXT NOT NULL, exe TEXT NOT NULL,\n" \
    "  first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,\n"              \
    "  end_ns INTEGER, end_reason TEXT);\n"                                 \
    "CREATE TABLE sample(\n"                                                \
    "  id INTEGER PRIMARY KEY,\n"                                           \
    "  process INTEGER NOT NULL REFERENCES process(id),\n"                  \
    "  t_ns INTEGER NOT NULL, rss_kb INTEGER NOT NULL,\n"                   \
    "  commit_kb INTEGER NOT NULL,\n"                                       \
    "  paged_bytes INTEGER NOT NULL, nonpaged_bytes INTEGER NOT NULL,\n"    \
    "  paged_max INTEGER NOT NULL, nonpaged_max INTEGER NOT NULL,\n"        \
    "  paged_failures INTEGER NOT NULL, nonpaged_failures INTEGER NOT NULL,\n" \
    "  errors INTEGER NOT NULL,\n"                                          \
    "  paged_bytes_min INTEGER NOT NULL, paged_bytes_max INTEGER NOT NULL,\n" \
    "  nonpaged_bytes_min INTEGER NOT NULL,\n"                               \
    "  nonpaged_bytes_max INTEGER NOT NULL);\n"                              \
    "CREATE INDEX sample_by_process ON sample(process, t_ns);\n"
#define LOGFMT_CREATE_TAG_SAMPLE_HEAD                                       \
    "CREATE TABLE tag_sample(\n"                                            \
    "  sample INTEGER NOT NULL REFERENCES sample(id) ON DELETE CASCADE,\n"  \
    "  tag INTEGER NOT NULL, pool INTEGER NOT NULL,\n"
    /* ... "  COUNTER INTEGER NOT NULL,\n" for each counter column, then
     * LOGFMT_CREATE_TAG_SAMPLE_MM ... */
#define LOGFMT_CREATE_TAG_SAMPLE_MM                                         \
    "  bytes_min INTEGER NOT NULL, bytes_max INTEGER NOT NULL,\n"
#define LOGFMT_CREATE_TAG_SAMPLE_TAIL "  PRIMARY KEY(sample, tag, pool)) WITHOUT ROWID;\n"
#define LOGFMT_CREATE_TAIL                                                  \
    "CREATE TABLE tag(\n"                                                   \
    "  tag INTEGER PRIMARY KEY, text TEXT NOT NULL,\n"                      \
    "  binary TEXT, description TEXT);\n"

/* STAT counters: X(name) when the log has the column, nothing when not. */
#define LOGFMT_STAT_peak(X)                /* not logged                 */
#define LOGFMT_STAT_failures(X) X(failures)

#define LOGFMT_NAME_(name) #name,
#define LOGFMT_VALUE_(name) c->name,

/* The counter columns of tag_sample, in table order. */
static const char *const logfmt_tag_counters[] = {
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help) #name,
#define PT_COUNTER_STAT(name, help)
#include "counters.def"
    "bytes",
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help)
#define PT_COUNTER_STAT(name, help) LOGFMT_STAT_##name(LOGFMT_NAME_)
#include "counters.def"
};
#define LOGFMT_TAG_NCOUNTERS \
    (sizeof logfmt_tag_counters / sizeof logfmt_tag_counters[0])

/* The values of those columns for one tag's counters in one pool, in the
 * same order (unsigned counters as they are; bytes may be negative). */
static inline void logfmt_tag_values(const pt_counts *c, uint64_t v[LOGFMT_TAG_NCOUNTERS])
{
    const uint64_t sums[] = {
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help) c->name,
#define PT_COUNTER_STAT(name, help)
#include "counters.def"
    };
    const uint64_t stats[] = {
        0, /* a placeholder: an array may not be empty */
#define PT_COUNTER(name, kind, help)
#define PT_COUNTER_SUM(name, help)
#define PT_COUNTER_STAT(name, help) LOGFMT_STAT_##name(LOGFMT_VALUE_)
#include "counters.def"
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
        v[n++] = sums[i];
    v[n++] = c->bytes_alloc - c->bytes_freed; /* bytes */
    for (size_t i = 1; i < sizeof stats / sizeof stats[0]; i++)
        v[n++] = stats[i];
}

#endif
