/*
 * logw.h — the writer of counter logs (docs/log-format.md) for
 * `pooltag log`.  Implemented in logw.c; only log.c uses it.
 *
 * Conventions: functions return 0 on success and -1 on error with a
 * one-line message (no "pooltag log:" prefix) in err[0..errlen).
 */
#ifndef PT_CLI_LOGW_H
#define PT_CLI_LOGW_H

#include <stddef.h>
#include <stdint.h>

#include "ptread.h"

#define LOG_MIN_CAP (64u * 1024u)     /* smallest --max-size but 0 */

typedef struct logw logw;

/* end_reason of a series whose logger was killed, recorded by the next
 * logger that appends to the log. */
#define LOGW_UNCLEAN "log ended without a clean stop"

/*
 * Check PATH before anything is created: 0 when it does not exist (a new
 * log will be made), 2 when it is an empty file we may write (the log is
 * made in it), 1 when it is a pooltag log of this format version
 * that we may write (samples will be appended), -1 (message in err) when
 * it is anything else or cannot be written.  Reads the file's header with
 * read(2) only: a file that is not a log is never modified.
 */
int logw_check(const char *path, char *err, size_t errlen);

/* Create (exists == 0 or 2, logw_check's answer) or open for appending
 * (exists == 1) the log at PATH.  interval_ms and max_size go to the meta table; max_size also sets
 * the circular cap (0 = none).  A file this call created is removed again
 * on failure. */
int logw_open(const char *path, int exists, uint64_t interval_ms,
               uint64_t max_size, logw **out, char *err, size_t errlen);
void logw_close(logw *db);

/* One transaction per sampling round. */
int logw_begin(logw *db, char *err, size_t errlen);
int logw_commit(logw *db, char *err, size_t errlen);
void logw_rollback(logw *db);

/* A new process row from its first reading; *id receives the row id. */
int logw_process(logw *db, const ptr_view *v, int64_t *id, char *err,
                  size_t errlen);
/* One sample of process `id` (with its tag rows and tag names).  Call
 * cli_use_modules(v) first so that ptdb_lookup names automatic tags.  mm:
 * the lowest and highest flushed Bytes since the previous sample (minmax.h),
 * or NULL; the extremes written leave out what the flushed totals' lag
 * cannot tell from the exact values at the interval's ends (mm_snap) and
 * hold the exact values of v (without mm they are those values); mm then
 * keeps v's exact values as the next interval's start. */
struct mm_track;
int logw_sample(logw *db, int64_t id, const ptr_view *v,
                struct mm_track *mm, char *err, size_t errlen);
/* The end of a process's series. */
int logw_end(logw *db, int64_t id, uint64_t end_ns, const char *reason,
              char *err, size_t errlen);

/*
 * Circular cap: when the used pages exceed the cap, delete the oldest
 * samples (never those of the last round) in one transaction until usage
 * is below 90 % of the cap, then checkpoint and truncate the WAL.  Call
 * after logw_commit.  *deleted receives the number of samples removed;
 * *too_small is set when the last round alone does not fit in the cap.
 * Does nothing without a cap.
 */
int logw_trim(logw *db, uint64_t *deleted, int *too_small, char *err,
               size_t errlen);

#endif
