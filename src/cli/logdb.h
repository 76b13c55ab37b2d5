/*
 * logdb.h — the writer of counter logs (docs/log-format.md) for
 * `pooltag log`.  Implemented in logdb.c; only log.c uses it.
 *
 * Conventions: functions return 0 on success and -1 on error with a
 * one-line message (no "pooltag log:" prefix) in err[0..errlen).
 */
#ifndef PT_CLI_LOGDB_H
#define PT_CLI_LOGDB_H

#include <stddef.h>
#include <stdint.h>

#include "ptread.h"

#define LOG_APPLICATION_ID 1347701831 /* 0x50544C47, "PTLG" */
#define LOG_FORMAT_VERSION 1
#define LOG_MIN_CAP (64u * 1024u)     /* smallest --max-size but 0 */

typedef struct logdb logdb;

/*
 * Check PATH before anything is created: 0 when it does not exist (a new
 * log will be made), 2 when it is an empty file we may write (the log is
 * made in it), 1 when it is a pooltag log of this format version
 * that we may write (samples will be appended), -1 (message in err) when
 * it is anything else or cannot be written.  Reads the file's header with
 * read(2) only: a file that is not a log is never modified.
 */
int logdb_check(const char *path, char *err, size_t errlen);

/* Create (exists == 0 or 2, logdb_check's answer) or open for appending
 * (exists == 1) the log at PATH.  interval_ms and max_size go to the meta table; max_size also sets
 * the circular cap (0 = none).  A file this call created is removed again
 * on failure. */
int logdb_open(const char *path, int exists, uint64_t interval_ms,
               uint64_t max_size, logdb **out, char *err, size_t errlen);
void logdb_close(logdb *db);

/* One transaction per sampling round. */
int logdb_begin(logdb *db, char *err, size_t errlen);
int logdb_commit(logdb *db, char *err, size_t errlen);
void logdb_rollback(logdb *db);

/* A new process row from its first reading; *id receives the row id. */
int logdb_process(logdb *db, const ptr_view *v, int64_t *id, char *err,
                  size_t errlen);
/* One sample of process `id` (with its tag rows and tag names).  Call
 * cli_use_modules(v) first so that ptdb_lookup names automatic tags. */
int logdb_sample(logdb *db, int64_t id, const ptr_view *v, char *err,
                 size_t errlen);
/* The end of a process's series. */
int logdb_end(logdb *db, int64_t id, uint64_t end_ns, const char *reason,
              char *err, size_t errlen);

/*
 * Circular cap: when the used pages exceed the cap, delete the oldest
 * samples (never those of the last round) in one transaction until usage
 * is below 90 % of the cap, then checkpoint and truncate the WAL.  Call
 * after logdb_commit.  *deleted receives the number of samples removed;
 * *too_small is set when the last round alone does not fit in the cap.
 * Does nothing without a cap.
 */
int logdb_trim(logdb *db, uint64_t *deleted, int *too_small, char *err,
               size_t errlen);

#endif
