/*
 * logread.h — the reader of counter logs (docs/log-format.md) for `pooltag
 * trend`: opens a log read-only, checks that it is one (application_id,
 * user_version, tables and columns), and loads series with bounded memory.
 *
 * Every function that can fail returns 0 or -1 with a one-line message in
 * err (no trailing newline, no file name: the caller adds it).
 *
 * Bounds: at most LDB_MAX_POINTS samples of a process are kept (evenly
 * thinned, the last one always kept), at most LDB_MAX_PROCS processes and
 * LDB_MAX_TAGS tag names; a log beyond them is read in part or refused
 * with a message, never loaded whole.
 */
#ifndef PT_LOGREAD_H
#define PT_LOGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "pooltag.h"

#define LDB_MAX_POINTS 4096
#define LDB_MAX_PROCS 4096
#define LDB_MAX_TAGS 65536
/* Points the fast walk of ldb_each_series may hold in memory (bytes):
 * beyond it the series are read one at a time through a sorted query. */
#define LDB_FAST_BYTES (64u << 20)

typedef struct ldb_log ldb_log;

/* The logger's identity, meta key 'logger' (docs/log-format.md): "BOOT_ID
 * PID START" (the kernel's boot_id, the PID and its start time in clock
 * ticks, /proc/PID/stat field 22) of process PID, into buf.  0, or -1 when
 * /proc cannot tell. */
int ldb_logger_id(long pid, char *buf, size_t size);
/* Is the logger named by such an identity still running?  1 yes, 0 no (it
 * ran on this boot of this machine and has gone), -1 cannot tell (no
 * identity, another machine or boot). */
int ldb_logger_alive(const char *id);

typedef struct ldb_proc {
    int64_t id, pid;
    int64_t start_ns, first_ns, last_ns, end_ns; /* end_ns 0: still logged */
    int ended;
    int unclean;   /* not ended: 0 its logger runs, 1 the logger is gone
                    * (killed before it recorded the end: SIGKILL, a crash,
                    * power loss), -1 cannot tell (no 'logger' in meta, or
                    * another machine or boot)                            */
    char comm[64];
    char exe[512];
    char end_reason[256];
} ldb_proc;

/* The kept samples of one process, in time order. */
typedef struct ldb_samples {
    size_t n;             /* kept samples                                  */
    int64_t total;        /* samples in the log for this process           */
    int64_t proc_id;      /* process.id                                    */
    int64_t base_ns;      /* t[i] = (t_ns - base_ns) / 1e9                 */
    int64_t *id;          /* sample ids                                    */
    double *t;            /* seconds since base_ns                         */
    double *bytes[PT_POOL_COUNT];  /* pool totals (sample.paged_bytes ...) */
    /* the pool totals' lowest/highest of the interval ending at each
     * sample (issue 15); NULL for a log without them */
    double *bytes_min[PT_POOL_COUNT], *bytes_max[PT_POOL_COUNT];
    double *allocs[PT_POOL_COUNT]; /* sum of the tags' allocs, filled by
                                    * ldb_each_series                      */
    double pool_max[PT_POOL_COUNT]; /* at the last sample, 0 = none        */
    double rss_kb;        /* at the last sample                            */
    int ids_in_time;      /* sample ids grow with time (logread.c)         */
    /* private: ids sorted for lookup */
    int64_t *sorted_id;
    uint32_t *sorted_ix;
} ldb_samples;

/* One tag/pool series over the kept samples where it appears. */
typedef struct ldb_series {
    uint32_t tag;
    int pool;
    size_t n;
    const double *t, *bytes, *allocs;
    /* lowest/highest bytes of the interval ending at each point (the
     * log's bytes_min/bytes_max, issue 15); NULL for a log without them */
    const double *bytes_min, *bytes_max;
    const size_t *ix;    /* index of each point in the ldb_samples arrays */
} ldb_series;

/* Open PATH read-only and validate it. */
int ldb_open(ldb_log **out, const char *path, char *err, size_t errsize);
/* The same over a database image in memory (the fuzz target); the image
 * is copied.  max_steps bounds the SQL work (0 = no bound). */
int ldb_open_image(ldb_log **out, const void *data, size_t size,
                   long max_steps, char *err, size_t errsize);
void ldb_close(ldb_log *db);

/* meta table values (0 / "" when absent). */
int64_t ldb_interval_ms(const ldb_log *db);
const char *ldb_host(const ldb_log *db);
int64_t ldb_created_ns(const ldb_log *db);
int64_t ldb_nsamples(const ldb_log *db);  /* all samples in the log */

size_t ldb_nprocs(const ldb_log *db);
const ldb_proc *ldb_proc_at(const ldb_log *db, size_t i);

/* Tag text (the log's tag table, else pt_tag_text) and the log's own
 * binary/description for it (NULL when absent). */
const char *ldb_tag_text(const ldb_log *db, uint32_t tag, char buf[PT_TAG_TEXT_MAX]);
const char *ldb_tag_binary(const ldb_log *db, uint32_t tag);
const char *ldb_tag_description(const ldb_log *db, uint32_t tag);

/* Load the kept samples of process i. */
int ldb_load_samples(ldb_log *db, size_t i, ldb_samples *s, char *err,
                     size_t errsize);
void ldb_samples_free(ldb_samples *s);

/* Call fn for every tag/pool series of the process (tag, pool order);
 * a nonzero return from fn stops the walk and is returned.  When only is
 * nonzero, only the series of tag `only_tag` in pool `only_pool`.  Fills
 * s->allocs (only complete when only == 0).  Returns -1 with err on a
 * database error. */
typedef int (*ldb_series_fn)(void *ctx, const ldb_series *series);
int ldb_each_series(ldb_log *db, ldb_samples *s, int only, uint32_t only_tag,
                    int only_pool, ldb_series_fn fn, void *ctx, char *err,
                    size_t errsize);

#endif
