/*
 * logw.c — the SQLite side of `pooltag log`: creating or reopening a
 * counter log, writing samples, and keeping a capped log circular.  The
 * format is the contract in docs/log-format.md; this file is its writer.
 *
 * Identity.  A new log is made in rollback-journal mode in one transaction
 * (application_id, user_version, tables, meta) and only then switched to
 * WAL, so the main file carries its identity from the first commit and a
 * later `pooltag log` (or `pooltag trend`) can recognise it from the first
 * 100 bytes alone.  An existing file is judged by those bytes, read with
 * read(2), before SQLite opens it: a file that is not a log is never
 * touched.
 *
 * Durability.  WAL + synchronous=NORMAL: every round is one transaction;
 * a commit is in the WAL (in the page cache) when it returns, so a logger
 * killed with SIGKILL loses nothing it committed (a power cut may lose the
 * last rounds, never the database).
 *
 * Cap.  Used bytes are (page_count - freelist_count) * page_size.  Above
 * the cap the oldest samples go, oldest sample ids first, in one
 * transaction, until usage is below 90 % of it; the freed pages are reused
 * by the next rounds, so the file stops growing near the cap.  The WAL is
 * kept small too: auto-checkpoints every cap/8 bytes of WAL, a
 * journal_size_limit of cap/8, and a TRUNCATE checkpoint after each trim.
 */
#include "logw.h"
#include "logfmt.h"
#include "logread.h"
#include "minmax.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef PT_VERSION
#define PT_VERSION "unknown"
#endif

/* The tables (logfmt.h); tag_sample's counter columns come from
 * counters.def (tag_sample_sql). */
#define SQL_MAX 2048
enum {
    ST_PROCESS,
    ST_SAMPLE,
    ST_TAGSAMPLE,
    ST_LAST,
    ST_END,
    ST_TAG,
    ST_META,
    ST_COUNT
};

static const char *const SQL[ST_COUNT] = {
    [ST_PROCESS] = "INSERT INTO process(pid, start_ns, comm, exe, first_ns, "
                   "last_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?5)",
    [ST_SAMPLE] = "INSERT INTO sample(process, t_ns, rss_kb, commit_kb, "
                  "paged_bytes, nonpaged_bytes, paged_max, nonpaged_max, "
                  "paged_failures, nonpaged_failures, errors, "
                  LOGFMT_SAMPLE_MM_COLS ") "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                  "?13, ?14, ?15)",
    /* ST_TAGSAMPLE: made by tag_sample_sql from the counter columns. */
    [ST_LAST] = "UPDATE process SET last_ns = ?2 WHERE id = ?1",
    [ST_END] = "UPDATE process SET end_ns = ?2, end_reason = ?3 WHERE id = ?1",
    /* First sight of a tag in this run; a name learnt later (from a module
     * table) fills a row that had none. */
    [ST_TAG] = "INSERT INTO tag(tag, text, binary, description) "
               "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(tag) DO UPDATE SET "
               "binary = excluded.binary, description = excluded.description "
               "WHERE tag.description IS NULL "
               "AND excluded.description IS NOT NULL",
    [ST_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
};

/* Tags named in this run: 1 = row written without a description, 2 = with
 * one.  Open addressing on the tag value. */
typedef struct tagslot {
    uint32_t tag;
    uint8_t state;
} tagslot;

struct logw {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st[ST_COUNT];
    uint64_t cap;
    int64_t round_first;   /* first sample id of the current round, 0 = none */
    tagslot *tags;
    size_t ntags, tagcap;  /* tagcap: power of two */
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int dberr(logw *d, char *err, size_t errlen, const char *what)
{
    return fail(err, errlen, "cannot %s %s: %s", what, d->path,
                sqlite3_errmsg(d->db));
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

int logw_check(const char *path, char *err, size_t errlen)
{
    struct stat st;
    /* The checks of every output file (util.h): not a FIFO, device or
     * directory, writable.  SQLite then writes the file itself. */
    int r = cli_out_check(path, NULL, err, errlen);
    if (r <= 0)
        return r;
    if (stat(path, &st) < 0)
        return fail(err, errlen, "cannot use %s: %s", path, strerror(errno));
    if (st.st_size == 0) {
        /* Empty (e.g. made by `sqlite3 FILE` or mktemp): nothing to lose,
         * and SQLite's own reading of it is an empty database. */
        if (access(path, W_OK) < 0)
            return fail(err, errlen, "cannot write %s: %s", path,
                        strerror(errno));
        return 2;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "cannot read %s: %s", path, strerror(errno));
    unsigned char h[100];
    ssize_t n = read(fd, h, sizeof h);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0)
        return fail(err, errlen,
                    "%s exists and is not a pooltag log (not an SQLite "
                    "database): it was left alone; choose another file",
                    path);
    uint32_t app = be32(h + 68), ver = be32(h + 60);
    if (app != LOGFMT_APPLICATION_ID)
        return fail(err, errlen,
                    "%s is an SQLite database but not a pooltag log "
                    "(application_id %" PRIu32 "): it was left alone; choose "
                    "another file",
                    path, app);
    /* An older log is not upgraded: its rows would lack the columns of
     * this version (and older pooltags could no longer read it). */
    if (ver != LOGFMT_VERSION)
        return fail(err, errlen,
                    "%s is a pooltag log of format version %" PRIu32
                    "; this pooltag writes version %d: it was left alone "
                    "(pooltag trend %s); choose another file",
                    path, ver, LOGFMT_VERSION,
                    ver >= LOGFMT_VERSION_MIN && ver < LOGFMT_VERSION
                        ? "still reads it" : "cannot read it");
    if (access(path, W_OK) < 0)
        return fail(err, errlen, "cannot append to %s: %s", path,
                    strerror(errno));
    return 1;
}

static int exec(logw *d, const char *sql, char *err, size_t errlen,
                const char *what)
{
    if (sqlite3_exec(d->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return dberr(d, err, errlen, what);
    return 0;
}

/* Run a one-value query (a PRAGMA or SELECT); *out = its integer. */
static int query_int(logw *d, const char *sql, int64_t *out)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(d->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else if (rc == SQLITE_DONE)
        *out = 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int meta_set(logw *d, const char *key, const char *value)
{
    sqlite3_stmt *s = d->st[ST_META];
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
    return sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
}

static int meta_u64(logw *d, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return meta_set(d, key, buf);
}

/* Who writes the log (meta 'logger', ldb_logger_id): lets a reader tell a
 * series still being logged from one whose logger was killed. */
static int meta_logger(logw *d)
{
    char id[128];
    if (ldb_logger_id((long)getpid(), id, sizeof id) < 0)
        return 0;   /* no /proc: readers cannot tell, as before */
    return meta_set(d, "logger", id);
}

/* Appending: series left open by an earlier logger that is gone (killed)
 * are closed with the time of their last sample, so that they do not pass
 * for this logger's.  A logger still running keeps its series. */
static int close_orphans(logw *d)
{
    sqlite3_stmt *st;
    int alive = -1;
    if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key = "
                           "'logger'", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        alive = ldb_logger_alive((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (alive != 0)
        return 0;
    return sqlite3_exec(d->db, "UPDATE process SET end_ns = last_ns, "
                        "end_reason = '" LOGW_UNCLEAN "' WHERE end_ns IS NULL",
                        NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Append s to buf, SQL_MAX bytes (cut there; the statements are a few
 * hundred bytes). */
static void append(char *buf, const char *s)
{
    size_t n = strlen(buf);
    snprintf(buf + n, SQL_MAX - n, "%s", s);
}

/*
 * The SQL of tag_sample from its counter columns (logfmt.h) and the
 * interval's bytes_min, bytes_max: create, its CREATE TABLE; insert, the
 * INSERT of one row, where a tag value listed twice in one reading (a
 * program's own 'Ovfl' and the overflow entry) adds up instead of failing
 * the round (the sums of the two minima and maxima still bound the sum of
 * the two Bytes).
 */
static void tag_sample_sql(char create[SQL_MAX], char insert[SQL_MAX])
{
    char part[256];
    create[0] = insert[0] = 0;
    append(create, LOGFMT_CREATE_TAG_SAMPLE_HEAD);
    append(insert, "INSERT INTO tag_sample(" LOGFMT_TAG_SAMPLE_KEY_COLS);
    for (size_t i = 0; i < LOGFMT_TAG_NCOUNTERS; i++) {
        snprintf(part, sizeof part, "  %s INTEGER NOT NULL,\n", logfmt_tag_counters[i]);
        append(create, part);
        snprintf(part, sizeof part, ", %s", logfmt_tag_counters[i]);
        append(insert, part);
    }
    append(create, LOGFMT_CREATE_TAG_SAMPLE_MM);
    append(create, LOGFMT_CREATE_TAG_SAMPLE_TAIL);
    append(insert, ", " LOGFMT_TAG_SAMPLE_MM_COLS ") VALUES(?1, ?2, ?3");
    for (size_t i = 0; i < LOGFMT_TAG_NCOUNTERS + 2; i++) {
        snprintf(part, sizeof part, ", ?%zu", i + 4);
        append(insert, part);
    }
    append(insert, ") ON CONFLICT(" LOGFMT_TAG_SAMPLE_KEY_COLS ") DO UPDATE SET ");
    for (size_t i = 0; i < LOGFMT_TAG_NCOUNTERS + 2; i++) {
        const char *c = i < LOGFMT_TAG_NCOUNTERS ? logfmt_tag_counters[i]
                        : i == LOGFMT_TAG_NCOUNTERS ? "bytes_min" : "bytes_max";
        snprintf(part, sizeof part, "%s%s = %s + excluded.%s", i ? ", " : "", c, c, c);
        append(insert, part);
    }
}

static int prepare_all(logw *d, char *err, size_t errlen)
{
    char create[SQL_MAX], insert[SQL_MAX];
    tag_sample_sql(create, insert);
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(d->db, i == ST_TAGSAMPLE ? insert : SQL[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &d->st[i], NULL) != SQLITE_OK)
            return dberr(d, err, errlen, "prepare statements for");
    return 0;
}

/* An existing log: the tables must be there (the header said it is ours). */
static int check_tables(logw *d, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int ok = 0;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT value FROM meta WHERE key = 'format'", -1,
                           &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            const unsigned char *v = sqlite3_column_text(s, 0);
            ok = v && strcmp((const char *)v, "pooltag-log") == 0;
        }
        sqlite3_finalize(s);
    }
    int64_t n = 0;
    if (ok && (query_int(d,
                         "SELECT count(*) FROM sqlite_schema WHERE name IN "
                         "('process', 'sample', 'tag_sample', 'tag')",
                         &n) < 0 ||
               n != 4))
        ok = 0;
    if (!ok)
        return fail(err, errlen,
                    "%s has the pooltag log identity but not its tables "
                    "(damaged?): it was left alone; choose another file",
                    d->path);
    return 0;
}

static int create_schema(logw *d, uint64_t interval_ms, uint64_t max_size,
                         char *err, size_t errlen)
{
    char sql[128], host[256] = "", create[SQL_MAX], insert[SQL_MAX];
    tag_sample_sql(create, insert);
    if (exec(d, "BEGIN", err, errlen, "create") < 0)
        return -1;
    snprintf(sql, sizeof sql,
             "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             LOGFMT_APPLICATION_ID, LOGFMT_VERSION);
    if (exec(d, sql, err, errlen, "create") < 0 ||
        exec(d, LOGFMT_CREATE_HEAD, err, errlen, "create") < 0 ||
        exec(d, create, err, errlen, "create") < 0 ||
        exec(d, LOGFMT_CREATE_TAIL, err, errlen, "create") < 0 ||
        prepare_all(d, err, errlen) < 0)
        goto bad;
    if (gethostname(host, sizeof host - 1) < 0)
        host[0] = 0;
    if (meta_set(d, "format", "pooltag-log") < 0 ||
        meta_u64(d, "version", LOGFMT_VERSION) < 0 ||
        meta_u64(d, "interval_ms", interval_ms) < 0 ||
        meta_u64(d, "max_size", max_size) < 0 ||
        meta_u64(d, "created_ns", now_ns()) < 0 ||
        meta_set(d, "host", host) < 0 ||
        meta_set(d, "pooltag_version", PT_VERSION) < 0 ||
        meta_logger(d) < 0) {
        dberr(d, err, errlen, "create");
        goto bad;
    }
    if (exec(d, "COMMIT", err, errlen, "create") < 0)
        goto bad;
    return 0;
bad:
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int logw_open(const char *path, int exists, uint64_t interval_ms,
               uint64_t max_size, logw **out, char *err, size_t errlen)
{
    int created = 0, fresh = exists != 1;
    *out = NULL;
    if (!exists) {
        /* Create the file ourselves: errno says why it cannot be.  Mode
         * 0600 like a snapshot: it names processes and their memory. */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return fail(err, errlen, "cannot create %s: %s", path,
                        strerror(errno));
        close(fd);
        created = 1;
    }
    logw *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        fail(err, errlen, "out of memory");
        goto gone;
    }
    d->cap = max_size;
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK) {
        if (d->db)
            dberr(d, err, errlen, "open");
        else
            fail(err, errlen, "cannot open %s: out of memory", path);
        goto bad;
    }
    sqlite3_busy_timeout(d->db, 5000);
    sqlite3_extended_result_codes(d->db, 1);
    if (fresh) {
        if (create_schema(d, interval_ms, max_size, err, errlen) < 0)
            goto bad;
    } else if (check_tables(d, err, errlen) < 0 ||
               prepare_all(d, err, errlen) < 0) {
        goto bad;
    }
    /* WAL: readers (pooltag trend) never block the logger and a killed
     * logger loses no committed round. */
    sqlite3_stmt *s;
    int wal = 0;
    if (sqlite3_prepare_v2(d->db, "PRAGMA journal_mode = WAL", -1, &s,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            const unsigned char *m = sqlite3_column_text(s, 0);
            wal = m && strcmp((const char *)m, "wal") == 0;
        }
        sqlite3_finalize(s);
    }
    if (!wal) {
        fail(err, errlen, "cannot put %s in WAL mode: %s", path,
             sqlite3_errmsg(d->db));
        goto bad;
    }
    if (exec(d, "PRAGMA synchronous = NORMAL", err, errlen, "set up") < 0)
        goto bad;
    if (d->cap) {
        char sql[128];
        int64_t psize = 4096;
        query_int(d, "PRAGMA page_size", &psize);
        if (psize <= 0)
            psize = 4096;
        uint64_t walmax = d->cap / 8;
        int64_t pages = (int64_t)(walmax / (uint64_t)psize);
        snprintf(sql, sizeof sql,
                 "PRAGMA wal_autocheckpoint = %" PRId64
                 "; PRAGMA journal_size_limit = %" PRIu64,
                 pages < 4 ? 4 : pages, walmax);
        if (exec(d, sql, err, errlen, "set up") < 0)
            goto bad;
    }
    if (!fresh) {
        /* The settings of the latest run (created_ns stays). */
        if (exec(d, "BEGIN IMMEDIATE", err, errlen, "write") < 0)
            goto bad;
        if (close_orphans(d) < 0 ||
            meta_u64(d, "interval_ms", interval_ms) < 0 ||
            meta_u64(d, "max_size", max_size) < 0 ||
            meta_set(d, "pooltag_version", PT_VERSION) < 0 ||
            meta_logger(d) < 0) {
            dberr(d, err, errlen, "write");
            sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
            goto bad;
        }
        if (exec(d, "COMMIT", err, errlen, "write") < 0)
            goto bad;
    }
    *out = d;
    return 0;
bad:
    logw_close(d);
gone:
    if (created) {
        /* Nothing useful was written: leave no half-made file behind. */
        char side[4200];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-journal", path);
        unlink(side);
    }
    return -1;
}

void logw_close(logw *d)
{
    if (!d)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(d->st[i]);
    if (d->db)
        sqlite3_close(d->db);
    free(d->tags);
    free(d->path);
    free(d);
}

int logw_begin(logw *d, char *err, size_t errlen)
{
    d->round_first = 0;
    return exec(d, "BEGIN IMMEDIATE", err, errlen, "write to");
}

int logw_commit(logw *d, char *err, size_t errlen)
{
    return exec(d, "COMMIT", err, errlen, "write to");
}

void logw_rollback(logw *d)
{
    if (!sqlite3_get_autocommit(d->db))
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Counters are unsigned 64-bit; SQLite integers are signed. */
static int64_t i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int step_done(logw *d, sqlite3_stmt *s, char *err, size_t errlen)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return dberr(d, err, errlen, "write to");
    return 0;
}

int logw_process(logw *d, const ptr_view *v, int64_t *id, char *err,
                  size_t errlen)
{
    sqlite3_stmt *s = d->st[ST_PROCESS];
    sqlite3_bind_int64(s, 1, v->pid);
    sqlite3_bind_int64(s, 2, i64(v->start_ns));
    sqlite3_bind_text(s, 3, v->comm, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, v->exe, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, i64(v->taken_ns));
    if (step_done(d, s, err, errlen) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(d->db);
    return 0;
}

static tagslot *tag_slot(logw *d, uint32_t tag)
{
    if (2 * (d->ntags + 1) > d->tagcap) {
        size_t ncap = d->tagcap ? 2 * d->tagcap : 256;
        tagslot *nt = calloc(ncap, sizeof *nt);
        if (!nt)
            return NULL;
        for (size_t i = 0; i < d->tagcap; i++) {
            if (!d->tags[i].state)
                continue;
            size_t j = (d->tags[i].tag * 2654435761u) & (ncap - 1);
            while (nt[j].state)
                j = (j + 1) & (ncap - 1);
            nt[j] = d->tags[i];
        }
        free(d->tags);
        d->tags = nt;
        d->tagcap = ncap;
    }
    size_t j = (tag * 2654435761u) & (d->tagcap - 1);
    while (d->tags[j].state && d->tags[j].tag != tag)
        j = (j + 1) & (d->tagcap - 1);
    return &d->tags[j];
}

/* Name the tag in the tag table the first time this run meets it (and
 * again once a description turns up). */
static int name_tag(logw *d, const ptr_view *v, const pt_tag_info *t, char *err, size_t errlen)
{
    tagslot *slot = tag_slot(d, t->tag);
    if (!slot)
        return fail(err, errlen, "out of memory");
    if (slot->state == 2)
        return 0;
    const ptdb_entry *e = ptdb_lookup(t->tag);
    const char *bin = e && *e->binary ? e->binary : NULL;
    const char *desc = e ? e->description : NULL;
    if (t->flags & PT_TAGINFO_OVERFLOW) {
        bin = "pooltag";
        desc = cli_overflow_desc(v);
    }
    if (slot->state == 1 && !desc)
        return 0;
    char text[PT_TAG_TEXT_MAX];
    sqlite3_stmt *s = d->st[ST_TAG];
    sqlite3_bind_int64(s, 1, t->tag);
    sqlite3_bind_text(s, 2, pt_tag_text(t->tag, text), -1, SQLITE_TRANSIENT);
    if (bin)
        sqlite3_bind_text(s, 3, bin, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 3);
    if (desc)
        sqlite3_bind_text(s, 4, desc, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 4);
    if (step_done(d, s, err, errlen) < 0)
        return -1;
    if (!slot->state)
        d->ntags++;
    slot->tag = t->tag;
    slot->state = desc ? 2 : 1;
    return 0;
}

/* The interval's extremes of an exact value `now`: the flushed totals'
 * (have: found in mm), snapped to the exact ends where they cannot be told
 * from the lag (mm_snap), else clamped to hold now. */
static void extremes(const ptr_view *v, int have, int have_prev, int64_t prev, int64_t now,
                     int64_t *lo, int64_t *hi)
{
    if (have && have_prev)
        mm_snap(1, prev, now, mm_bound(v, prev, now), lo, hi);
    else
        mm_clamp(have, now, lo, hi);
}

int logw_sample(logw *d, int64_t id, const ptr_view *v, mm_track *mm,
                char *err, size_t errlen)
{
    sqlite3_stmt *s = d->st[ST_SAMPLE];
    const ptr_pool *pp = &v->pool[PT_PAGED], *np = &v->pool[PT_NONPAGED];
    int64_t lo, hi;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, i64(v->taken_ns));
    sqlite3_bind_int64(s, 3, i64(v->proc.valid ? v->proc.rss_kb : 0));
    sqlite3_bind_int64(s, 4, i64(v->proc.valid ? v->proc.commit_kb : 0));
    sqlite3_bind_int64(s, 5, (int64_t)(pp->bytes_alloc - pp->bytes_freed));
    sqlite3_bind_int64(s, 6, (int64_t)(np->bytes_alloc - np->bytes_freed));
    sqlite3_bind_int64(s, 7, i64(pp->limit));
    sqlite3_bind_int64(s, 8, i64(np->limit));
    sqlite3_bind_int64(s, 9, i64(pp->failures));
    sqlite3_bind_int64(s, 10, i64(np->failures));
    sqlite3_bind_int64(s, 11, i64(v->errors_total));
    int64_t prev;
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        const ptr_pool *pl = &v->pool[p];
        int64_t now = (int64_t)(pl->bytes_alloc - pl->bytes_freed);
        int have = mm && mm_pool(mm, p, &lo, &hi);
        int have_prev = mm && mm_prev_pool(mm, p, &prev); /* (before prev is passed) */
        extremes(v, have, have_prev, prev, now, &lo, &hi);
        if (mm)
            mm_prev_set_pool(mm, p, now);
        sqlite3_bind_int64(s, 12 + 2 * p, lo);
        sqlite3_bind_int64(s, 13 + 2 * p, hi);
    }
    if (step_done(d, s, err, errlen) < 0)
        return -1;
    int64_t sid = sqlite3_last_insert_rowid(d->db);
    if (!d->round_first)
        d->round_first = sid;

    s = d->st[ST_TAGSAMPLE];
    for (size_t i = 0; i < v->ntags; i++) {
        const pt_tag_info *t = &v->tags[i];
        int any = 0;
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            const pt_counts *c = &t->pool[p];
            if (!c->allocs && !c->failures)
                continue;   /* not used in this pool (yet) */
            any = 1;
            sqlite3_bind_int64(s, 1, sid);
            sqlite3_bind_int64(s, 2, t->tag);
            sqlite3_bind_int64(s, 3, p);
            uint64_t val[LOGFMT_TAG_NCOUNTERS];
            logfmt_tag_values(c, val);
            for (size_t k = 0; k < LOGFMT_TAG_NCOUNTERS; k++)
                sqlite3_bind_int64(s, (int)k + 4,
                                   strcmp(logfmt_tag_counters[k], "bytes") == 0
                                       ? (int64_t)val[k] : i64(val[k]));
            /* The interval's extremes, holding the exact Bytes. */
            int ovf = !!(t->flags & PT_TAGINFO_OVERFLOW);
            int64_t now = (int64_t)(c->bytes_alloc - c->bytes_freed);
            int have = mm && mm_tag(mm, t->tag, ovf, p, &lo, &hi);
            int have_prev = mm && mm_prev_tag(mm, t->tag, ovf, p, &prev);
            extremes(v, have, have_prev, prev, now, &lo, &hi);
            if (mm && mm_prev_set(mm, t->tag, ovf, p, now) < 0)
                return fail(err, errlen, "out of memory");
            sqlite3_bind_int64(s, (int)LOGFMT_TAG_NCOUNTERS + 4, lo);
            sqlite3_bind_int64(s, (int)LOGFMT_TAG_NCOUNTERS + 5, hi);
            if (step_done(d, s, err, errlen) < 0)
                return -1;
        }
        if (any && name_tag(d, v, t, err, errlen) < 0)
            return -1;
    }

    if (mm)
        mm_prev_commit(mm);
    s = d->st[ST_LAST];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, i64(v->taken_ns));
    return step_done(d, s, err, errlen);
}

int logw_end(logw *d, int64_t id, uint64_t end_ns, const char *reason,
              char *err, size_t errlen)
{
    sqlite3_stmt *s = d->st[ST_END];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, i64(end_ns));
    sqlite3_bind_text(s, 3, reason, -1, SQLITE_TRANSIENT);
    return step_done(d, s, err, errlen);
}

static int used_bytes(logw *d, uint64_t *out)
{
    int64_t pages, freep, psize;
    if (query_int(d, "PRAGMA page_count", &pages) < 0 ||
        query_int(d, "PRAGMA freelist_count", &freep) < 0 ||
        query_int(d, "PRAGMA page_size", &psize) < 0)
        return -1;
    *out = (uint64_t)(pages - freep) * (uint64_t)psize;
    return 0;
}

int logw_trim(logw *d, uint64_t *deleted, int *too_small, char *err,
               size_t errlen)
{
    uint64_t used;
    *deleted = 0;
    *too_small = 0;
    if (!d->cap)
        return 0;
    if (used_bytes(d, &used) < 0)
        return dberr(d, err, errlen, "read");
    if (used <= d->cap)
        return 0;

    const uint64_t goal = d->cap / 10 * 9;
    /* Samples of the round just written stay. */
    int64_t keep_from = d->round_first ? d->round_first : INT64_MAX;
    sqlite3_stmt *cnt = NULL, *cut = NULL, *del_t = NULL, *del_s = NULL;
    int r = -1;
    if (exec(d, "BEGIN IMMEDIATE", err, errlen, "trim") < 0)
        return -1;
    if (sqlite3_prepare_v2(d->db, "SELECT count(*) FROM sample", -1, &cnt,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db,
                           "SELECT id FROM sample WHERE id < ?1 ORDER BY id "
                           "LIMIT 1 OFFSET ?2",
                           -1, &cut, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, "DELETE FROM tag_sample WHERE sample <= ?1",
                           -1, &del_t, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, "DELETE FROM sample WHERE id <= ?1", -1,
                           &del_s, NULL) != SQLITE_OK) {
        dberr(d, err, errlen, "trim");
        goto out;
    }
    /* Delete by estimate (bytes per sample), then measure again: pages
     * hold many rows, so usage falls in steps. */
    for (int iter = 0; iter < 64 && used >= goal; iter++) {
        int64_t total = 0;
        if (sqlite3_step(cnt) == SQLITE_ROW)
            total = sqlite3_column_int64(cnt, 0);
        sqlite3_reset(cnt);
        if (total <= 0)
            break;
        uint64_t per = used / (uint64_t)total;
        uint64_t n = per ? (used - goal) / per + 1 : 1;
        if (n > (uint64_t)total)
            n = (uint64_t)total;
        sqlite3_bind_int64(cut, 1, keep_from);
        sqlite3_bind_int64(cut, 2, (int64_t)n - 1);
        int rc = sqlite3_step(cut);
        int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(cut, 0) : 0;
        sqlite3_reset(cut);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            dberr(d, err, errlen, "trim");
            goto out;
        }
        if (rc == SQLITE_DONE)   /* fewer than n before this round: all */
            last = keep_from - 1;
        sqlite3_bind_int64(del_t, 1, last);
        sqlite3_bind_int64(del_s, 1, last);
        if (step_done(d, del_t, err, errlen) < 0 ||
            step_done(d, del_s, err, errlen) < 0)
            goto out;
        int gone = sqlite3_changes(d->db);
        if (gone <= 0) {   /* nothing older than this round left */
            *too_small = 1;
            break;
        }
        *deleted += (uint64_t)gone;
        if (used_bytes(d, &used) < 0) {
            dberr(d, err, errlen, "trim");
            goto out;
        }
    }
    if (exec(d, "COMMIT", err, errlen, "trim") < 0)
        goto out;
    r = 0;
out:
    sqlite3_finalize(cnt);
    sqlite3_finalize(cut);
    sqlite3_finalize(del_t);
    sqlite3_finalize(del_s);
    if (r < 0) {
        logw_rollback(d);
        return -1;
    }
    /* The deletes went through the WAL: fold it in and cut it back.  A busy
     * reader may keep a checkpoint from finishing; the next one will.
     * No busy handler here: TRUNCATE would otherwise wait the whole busy
     * timeout for such a reader on every trim, stalling the rounds; without
     * one it does what it can at once, like PASSIVE. */
    sqlite3_busy_timeout(d->db, 0);
    sqlite3_wal_checkpoint_v2(d->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
                              NULL);
    sqlite3_busy_timeout(d->db, 5000);
    if (used > d->cap)
        *too_small = 1;
    return 0;
}
