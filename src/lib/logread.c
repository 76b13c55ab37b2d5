/*
 * logread.c — reader of counter logs (logread.h, docs/log-format.md).
 *
 * The log is opened read-only and read inside one read transaction, so a
 * logger that is still writing (WAL mode) does not change what we see
 * half-way.  Nothing is trusted: the identity pragmas and every table and
 * column the reader uses are checked before any data is read; values out
 * of their documented range (a pool other than 0/1, a tag beyond 32 bits)
 * are errors; text is copied with bounds; the samples of one process are
 * thinned to LDB_MAX_POINTS; the SQL work can be bounded (fuzzing).
 *
 * Versions: the reader reads every format version from LOGFMT_VERSION_MIN.
 * Version 1 has no interval extremes: bytes_min/bytes_max stay NULL.
 *
 * Thinning is sampling too (issue 15): a kept point stands for the
 * samples dropped since the previous kept one, so its interval extremes
 * are folded over theirs (the lowest minimum, the highest maximum): the
 * kept point's interval is the union of the intervals it replaces.  That
 * needs a dropped sample's kept point, found by id among the kept ids,
 * which holds when sample ids grow with time (the writer makes them so);
 * in a process whose ids do not (a damaged or hand-made log) the extremes
 * are dropped (NULL), never made up.
 */
#include "ptgrow.h"
#include "logread.h"
#include "procfs.h"
#include "logfmt.h"
#include "ptread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tagname {
    uint32_t tag;
    char *text, *binary, *description;
} tagname;

struct ldb_log {
    sqlite3 *db;
    long max_steps, steps;
    int64_t interval_ms, created_ns, nsamples;
    int version;          /* PRAGMA user_version                           */
    char host[256];
    char logger[128];     /* meta 'logger' (ldb_logger_id), "" if none   */
    ldb_proc *procs;
    size_t nprocs;
    tagname *tags;
    size_t ntags;
};

static void fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    /* One line: a message from SQLite could hold a newline. */
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static int progress(void *arg)
{
    ldb_log *l = arg;
    l->steps++;
    return l->max_steps > 0 && l->steps > l->max_steps;
}

/* SQLite's message, phrased for a person. */
static const char *why(ldb_log *l, int rc)
{
    if (rc == SQLITE_NOTADB)
        return "not a SQLite database";
    if (rc == SQLITE_CORRUPT)
        return "the database is corrupt";
    if (rc == SQLITE_INTERRUPT)
        return "the log is too large to read within the bound";
    return sqlite3_errmsg(l->db);
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static char *dup_text(const unsigned char *src)
{
    if (!src)
        return NULL;
    size_t n = strnlen((const char *)src, 4096);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, src, n);
        p[n] = 0;
    }
    return p;
}

/* Prepare or fail with a message naming what was being read. */
static sqlite3_stmt *prep(ldb_log *l, const char *sql, const char *what,
                          char *err, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_ERROR && what)
            fail(err, size, "not a pooltag counter log of version %d: %s (%s)",
                 l->version, what, sqlite3_errmsg(l->db));
        else
            fail(err, size, "%s", why(l, rc));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static int pragma_int(ldb_log *l, const char *sql, int64_t *out, char *err,
                      size_t size)
{
    sqlite3_stmt *st = prep(l, sql, NULL, err, size);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        fail(err, size, "%s", why(l, rc));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* The tables and columns of the format (logfmt.h; tag_sample's counter
 * columns are added by load). */
static const struct {
    const char *table, *sql;
} schema[] = {
    {"meta", "SELECT " LOGFMT_META_COLS " FROM meta LIMIT 0"},
    {"process", "SELECT " LOGFMT_PROCESS_COLS " FROM process LIMIT 0"},
    {"sample", "SELECT " LOGFMT_SAMPLE_COLS " FROM sample LIMIT 0"},
    {"tag_sample", NULL},
    {"tag", "SELECT " LOGFMT_TAG_COLS " FROM tag LIMIT 0"},
};

static int by_tag(const void *a, const void *b)
{
    uint32_t x = ((const tagname *)a)->tag, y = ((const tagname *)b)->tag;
    return x < y ? -1 : x > y;
}

static int load(ldb_log *l, char *err, size_t size)
{
    int64_t v;
    if (pragma_int(l, "PRAGMA application_id", &v, err, size))
        return -1;
    if (v != LOGFMT_APPLICATION_ID) {
        fail(err, size, "not a pooltag counter log (application_id %lld, "
             "expected %d)", (long long)v, LOGFMT_APPLICATION_ID);
        return -1;
    }
    if (pragma_int(l, "PRAGMA user_version", &v, err, size))
        return -1;
    if (v < LOGFMT_VERSION_MIN || v > LOGFMT_VERSION) {
        fail(err, size, "counter log format version %lld is not supported "
             "(this pooltag reads versions %d to %d)", (long long)v,
             LOGFMT_VERSION_MIN, LOGFMT_VERSION);
        return -1;
    }
    l->version = (int)v;
    char tag_sample[1024];
    size_t n = (size_t)snprintf(tag_sample, sizeof tag_sample,
                                "SELECT " LOGFMT_TAG_SAMPLE_KEY_COLS);
    for (size_t i = 0; i < LOGFMT_TAG_NCOUNTERS && n < sizeof tag_sample; i++)
        n += (size_t)snprintf(tag_sample + n, sizeof tag_sample - n, ", %s",
                              logfmt_tag_counters[i]);
    if (n < sizeof tag_sample)
        snprintf(tag_sample + n, sizeof tag_sample - n, "%s FROM tag_sample LIMIT 0",
                 l->version >= 2 ? ", " LOGFMT_TAG_SAMPLE_MM_COLS : "");
    for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++) {
        char what[64];
        const char *sql = schema[i].sql ? schema[i].sql : tag_sample;
        if (strcmp(schema[i].table, "sample") == 0 && l->version < 2)
            sql = "SELECT " LOGFMT_SAMPLE_COLS_V1 " FROM sample LIMIT 0";
        snprintf(what, sizeof what, "table %s", schema[i].table);
        sqlite3_stmt *st = prep(l, sql, what, err, size);
        if (!st)
            return -1;
        sqlite3_finalize(st);
    }

    /* One snapshot for everything that follows. */
    if (sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        fail(err, size, "%s", sqlite3_errmsg(l->db));
        return -1;
    }

    sqlite3_stmt *st = prep(l, "SELECT key, value FROM meta LIMIT 256", NULL,
                            err, size);
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (!k)
            continue;
        if (strcmp(k, "interval_ms") == 0)
            l->interval_ms = sqlite3_column_int64(st, 1);
        else if (strcmp(k, "created_ns") == 0)
            l->created_ns = sqlite3_column_int64(st, 1);
        else if (strcmp(k, "host") == 0)
            copy_text(l->host, sizeof l->host, sqlite3_column_text(st, 1));
        else if (strcmp(k, "logger") == 0)
            copy_text(l->logger, sizeof l->logger, sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto dberr;

    st = prep(l, "SELECT id, pid, start_ns, comm, exe, first_ns, last_ns, "
                 "end_ns, end_reason FROM process ORDER BY id LIMIT 4097",
              NULL, err, size);
    if (!st)
        return -1;
    l->procs = calloc(LDB_MAX_PROCS, sizeof *l->procs);
    if (!l->procs) {
        sqlite3_finalize(st);
        fail(err, size, "out of memory");
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->nprocs == LDB_MAX_PROCS) {
            sqlite3_finalize(st);
            fail(err, size, "more than %d processes in one log", LDB_MAX_PROCS);
            return -1;
        }
        ldb_proc *p = &l->procs[l->nprocs++];
        p->id = sqlite3_column_int64(st, 0);
        p->pid = sqlite3_column_int64(st, 1);
        p->start_ns = sqlite3_column_int64(st, 2);
        copy_text(p->comm, sizeof p->comm, sqlite3_column_text(st, 3));
        copy_text(p->exe, sizeof p->exe, sqlite3_column_text(st, 4));
        p->first_ns = sqlite3_column_int64(st, 5);
        p->last_ns = sqlite3_column_int64(st, 6);
        p->ended = sqlite3_column_type(st, 7) != SQLITE_NULL;
        p->end_ns = p->ended ? sqlite3_column_int64(st, 7) : 0;
        copy_text(p->end_reason, sizeof p->end_reason, sqlite3_column_text(st, 8));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto dberr;
    /* A series without an end is being logged only while its logger runs. */
    int alive = ldb_logger_alive(l->logger);
    for (size_t i = 0; i < l->nprocs; i++)
        if (!l->procs[i].ended)
            l->procs[i].unclean = alive == 1 ? 0 : alive == 0 ? 1 : -1;

    st = prep(l, "SELECT tag, text, binary, description FROM tag LIMIT 65537",
              NULL, err, size);
    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 tag = sqlite3_column_int64(st, 0);
        if (tag < 0 || tag > (sqlite3_int64)UINT32_MAX || l->ntags == LDB_MAX_TAGS)
            continue;
        if (!l->tags) {
            l->tags = calloc(LDB_MAX_TAGS, sizeof *l->tags);
            if (!l->tags)
                break;
        }
        tagname *t = &l->tags[l->ntags++];
        t->tag = (uint32_t)tag;
        t->text = dup_text(sqlite3_column_text(st, 1));
        t->binary = dup_text(sqlite3_column_text(st, 2));
        t->description = dup_text(sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        goto dberr;
    if (l->ntags)
        qsort(l->tags, l->ntags, sizeof *l->tags, by_tag);

    if (pragma_int(l, "SELECT COUNT(*) FROM sample", &l->nsamples, err, size))
        return -1;
    if (l->nprocs == 0 || l->nsamples == 0) {
        fail(err, size, "the log holds no samples (was `pooltag log` stopped "
             "before its first reading?)");
        return -1;
    }
    return 0;
dberr:
    fail(err, size, "%s", why(l, rc));
    return -1;
}

int ldb_logger_id(long pid, char *buf, size_t size)
{
    char boot[64];
    ptp_stat st;
    if (ptp_read_small("/proc/sys/kernel/random/boot_id", boot, sizeof boot) <= 0)
        return -1;
    boot[strcspn(boot, "\n")] = 0;
    /* Field 22, the start time: with the PID it names the process. */
    if (pid <= 0 || pid > (long)UINT32_MAX || ptp_read_stat((uint32_t)pid, &st) < 0)
        return -1;
    snprintf(buf, size, "%s %ld %llu", boot, pid, st.start);
    return 0;
}

int ldb_logger_alive(const char *id)
{
    char boot[64], now[128];
    long pid;
    unsigned long long start;
    if (!id || sscanf(id, "%63s %ld %llu", boot, &pid, &start) != 3 || pid <= 0)
        return -1;
    if (ldb_logger_id((long)getpid(), now, sizeof now) < 0 ||
        strncmp(now, boot, strlen(boot)) != 0 || now[strlen(boot)] != ' ')
        return -1;   /* another boot, or another machine */
    if (ldb_logger_id(pid, now, sizeof now) < 0)
        return 0;    /* no such process any more */
    return strcmp(now, id) == 0;   /* the PID may have been reused */
}

static int finish_open(ldb_log *l, ldb_log **out, char *err, size_t size)
{
    sqlite3_busy_timeout(l->db, 2000);
    sqlite3_progress_handler(l->db, 1000, progress, l);
    if (load(l, err, size)) {
        ldb_close(l);
        return -1;
    }
    *out = l;
    return 0;
}

int ldb_open(ldb_log **out, const char *path, char *err, size_t size)
{
    *out = NULL;
    /* Look at the file before SQLite opens it by name: a FIFO would block
     * the open, a directory would read as an empty file. */
    char head[16];
    int fd = ptr_open_input(path, NULL, err, size);
    if (fd < 0) {
        int e = errno;
        if (e == EINVAL) {      /* "PATH: is a FIFO, ...": the caller names PATH */
            const char *why = strstr(err, ": is ");
            if (why)
                memmove(err, why + 2, strlen(why + 2) + 1);
        } else {
            fail(err, size, "cannot open: %s", strerror(e));
        }
        return -1;
    }
    ssize_t got;
    do
        got = read(fd, head, sizeof head);
    while (got < 0 && errno == EINTR);
    int rerr = errno;
    close(fd);
    if (got < 0) {
        fail(err, size, "cannot read: %s", strerror(rerr));
        return -1;
    }
    if (got == 0) {
        fail(err, size, "empty file, not a pooltag counter log");
        return -1;
    }
    if (got < (ssize_t)sizeof head || memcmp(head, "SQLite format 3", 16) != 0) {
        fail(err, size, "not a SQLite database (a counter log is one; see "
             "docs/log-format.md)");
        return -1;
    }
    ldb_log *l = calloc(1, sizeof *l);
    if (!l) {
        fail(err, size, "out of memory");
        return -1;
    }
    /* NOMUTEX: one thread uses the connection; SQLite's per-call mutex
     * was a sixth of trend's time on a large log. */
    int rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        fail(err, size, "cannot open: %s", l->db ? sqlite3_errmsg(l->db)
                                                : "out of memory");
        ldb_close(l);
        return -1;
    }
    return finish_open(l, out, err, size);
}

int ldb_open_image(ldb_log **out, const void *data, size_t size, long max_steps,
                   char *err, size_t errsize)
{
    *out = NULL;
    ldb_log *l = calloc(1, sizeof *l);
    if (!l) {
        fail(err, errsize, "out of memory");
        return -1;
    }
    l->max_steps = max_steps;
    if (sqlite3_open_v2(":memory:", &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        fail(err, errsize, "cannot open an in-memory database");
        ldb_close(l);
        return -1;
    }
    unsigned char *copy = sqlite3_malloc64(size ? size : 1);
    if (!copy) {
        fail(err, errsize, "out of memory");
        ldb_close(l);
        return -1;
    }
    memcpy(copy, data, size);
    /* An image of a WAL database reads as a rollback one in memory. */
    if (size >= 20 && copy[18] == 2 && copy[19] == 2)
        copy[18] = copy[19] = 1;
    if (sqlite3_deserialize(l->db, "main", copy, (sqlite3_int64)size,
                            (sqlite3_int64)size,
                            SQLITE_DESERIALIZE_FREEONCLOSE |
                                SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
        fail(err, errsize, "cannot load the image: %s", sqlite3_errmsg(l->db));
        ldb_close(l);
        return -1;
    }
    return finish_open(l, out, err, errsize);
}

void ldb_close(ldb_log *l)
{
    if (!l)
        return;
    if (l->db)
        sqlite3_close_v2(l->db);  /* ends the read transaction too */
    for (size_t i = 0; i < l->ntags; i++) {
        free(l->tags[i].text);
        free(l->tags[i].binary);
        free(l->tags[i].description);
    }
    free(l->tags);
    free(l->procs);
    free(l);
}

int64_t ldb_interval_ms(const ldb_log *l) { return l->interval_ms; }
const char *ldb_host(const ldb_log *l) { return l->host; }
int64_t ldb_created_ns(const ldb_log *l) { return l->created_ns; }
int64_t ldb_nsamples(const ldb_log *l) { return l->nsamples; }
size_t ldb_nprocs(const ldb_log *l) { return l->nprocs; }

const ldb_proc *ldb_proc_at(const ldb_log *l, size_t i)
{
    return i < l->nprocs ? &l->procs[i] : NULL;
}

static const tagname *find_tag(const ldb_log *l, uint32_t tag)
{
    if (!l->ntags)
        return NULL;
    tagname key = {.tag = tag};
    return bsearch(&key, l->tags, l->ntags, sizeof *l->tags, by_tag);
}

const char *ldb_tag_text(const ldb_log *l, uint32_t tag, char buf[PT_TAG_TEXT_MAX])
{
    const tagname *t = find_tag(l, tag);
    if (t && t->text && *t->text && strlen(t->text) < PT_TAG_TEXT_MAX) {
        uint32_t parsed;
        /* Only a text that names this very tag: a log cannot rename one. */
        if (pt_tag_parse(t->text, &parsed) == 0 && parsed == tag) {
            memcpy(buf, t->text, strlen(t->text) + 1);
            return buf;
        }
    }
    return pt_tag_text(tag, buf);
}

const char *ldb_tag_binary(const ldb_log *l, uint32_t tag)
{
    const tagname *t = find_tag(l, tag);
    return t && t->binary && *t->binary ? t->binary : NULL;
}

const char *ldb_tag_description(const ldb_log *l, uint32_t tag)
{
    const tagname *t = find_tag(l, tag);
    return t && t->description && *t->description ? t->description : NULL;
}

void ldb_samples_free(ldb_samples *s)
{
    free(s->id);
    free(s->t);
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        free(s->bytes[p]);
        free(s->bytes_min[p]);
        free(s->bytes_max[p]);
        free(s->allocs[p]);
    }
    free(s->sorted_id);
    free(s->sorted_ix);
    memset(s, 0, sizeof *s);
}

static int64_t *g_sort_ids;   /* qsort context: single-threaded CLI */
static int by_id(const void *a, const void *b)
{
    int64_t x = g_sort_ids[*(const uint32_t *)a], y = g_sort_ids[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

/* A counter read from column col of st: an SQLite integer (docs/log-format.md
 * stores them so), >= 0 when nonneg.  Anything else (text, a real such as
 * 1e300, a blob, NULL, a negative count) is refused with a message naming
 * the table, the row and the column, rather than read as some number. */
static int counter_col(sqlite3_stmt *st, int col, int nonneg, int64_t *out,
                       const char *where, char *err, size_t size)
{
    const char *name = sqlite3_column_name(st, col);
    int type = sqlite3_column_type(st, col);
    if (name && strncmp(name, "ts.", 3) == 0)
        name += 3;
    if (type == SQLITE_INTEGER) {
        *out = sqlite3_column_int64(st, col);
        if (!nonneg || *out >= 0)
            return 0;
        fail(err, size, "malformed log: %s: %s is %lld (a count, it cannot "
             "be negative)", where, name ? name : "?", (long long)*out);
        return -1;
    }
    char what[80];
    if (type == SQLITE_TEXT) {
        const unsigned char *t = sqlite3_column_text(st, col);
        size_t k = 0;
        what[k++] = '\'';
        for (; t && *t && k < 40; t++)   /* printable ASCII only */
            what[k++] = *t >= 0x20 && *t < 0x7f ? (char)*t : '?';
        what[k++] = '\'';
        what[k] = 0;
    } else if (type == SQLITE_FLOAT) {
        snprintf(what, sizeof what, "the real number %g",
                 sqlite3_column_double(st, col));
    } else {
        snprintf(what, sizeof what, "%s",
                 type == SQLITE_BLOB ? "a blob" : "NULL");
    }
    fail(err, size, "malformed log: %s: %s is %s, not an integer", where,
         name ? name : "?", what);
    return -1;
}

/* An interval's extremes hold its instant value (the writer clamps them
 * so): lo <= v <= hi, else the log is refused, naming the row. */
static int extremes_ok(int64_t lo, int64_t v, int64_t hi, const char *where,
                       const char *prefix, char *err, size_t size)
{
    if (lo <= v && v <= hi)
        return 0;
    fail(err, size, "malformed log: %s: %sbytes_min %lld, %sbytes %lld, "
         "%sbytes_max %lld (the interval's extremes must hold the sample)",
         where, prefix, (long long)lo, prefix, (long long)v, prefix, (long long)hi);
    return -1;
}

int ldb_load_samples(ldb_log *l, size_t i, ldb_samples *s, char *err,
                     size_t size)
{
    memset(s, 0, sizeof *s);
    const ldb_proc *p = ldb_proc_at(l, i);
    if (!p) {
        fail(err, size, "no process %zu", i);
        return -1;
    }
    sqlite3_stmt *st = prep(l, "SELECT COUNT(*) FROM sample WHERE process = ?",
                            NULL, err, size);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, p->id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        fail(err, size, "%s", why(l, rc));
        sqlite3_finalize(st);
        return -1;
    }
    s->total = sqlite3_column_int64(st, 0);
    s->proc_id = p->id;
    sqlite3_finalize(st);
    if (s->total <= 0)
        return 0;

    int64_t stride = (s->total + LDB_MAX_POINTS - 1) / LDB_MAX_POINTS;
    size_t cap = (size_t)(s->total < LDB_MAX_POINTS ? s->total : LDB_MAX_POINTS) + 1;
    s->id = calloc(cap, sizeof *s->id);
    s->t = calloc(cap, sizeof *s->t);
    for (int q = 0; q < PT_POOL_COUNT; q++) {
        s->bytes[q] = calloc(cap, sizeof *s->bytes[q]);
        s->allocs[q] = calloc(cap, sizeof *s->allocs[q]);
    }
    s->sorted_id = calloc(cap, sizeof *s->sorted_id);
    s->sorted_ix = calloc(cap, sizeof *s->sorted_ix);
    int mm = l->version >= 2, nomem = 0;
    for (int q = 0; q < PT_POOL_COUNT && mm; q++) {
        s->bytes_min[q] = calloc(cap, sizeof *s->bytes_min[q]);
        s->bytes_max[q] = calloc(cap, sizeof *s->bytes_max[q]);
        nomem |= !s->bytes_min[q] || !s->bytes_max[q];
    }
    if (nomem || !s->id || !s->t || !s->bytes[0] || !s->bytes[1] || !s->allocs[0] ||
        !s->allocs[1] || !s->sorted_id || !s->sorted_ix) {
        ldb_samples_free(s);
        fail(err, size, "out of memory");
        return -1;
    }

    st = prep(l, mm ? "SELECT id, t_ns, paged_bytes, nonpaged_bytes, paged_max, "
                      "nonpaged_max, rss_kb, " LOGFMT_SAMPLE_MM_COLS " FROM sample "
                      "WHERE process = ? ORDER BY t_ns, id"
                    : "SELECT id, t_ns, paged_bytes, nonpaged_bytes, paged_max, "
                      "nonpaged_max, rss_kb FROM sample WHERE process = ? "
                      "ORDER BY t_ns, id", NULL, err, size);
    if (!st) {
        ldb_samples_free(s);
        return -1;
    }
    sqlite3_bind_int64(st, 1, p->id);
    int64_t row = 0, prev_ns = 0, prev_id = 0;
    int last_in = 0, fresh = 1;
    s->ids_in_time = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Every row is written to slot n; every stride-th row is kept
         * (n grows).  The newest row is kept too: it stays in slot n.
         * The interval extremes of the rows written to a slot fold
         * together (fresh: the first row of the slot). */
        size_t at = s->n;
        if (sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
            /* NULL or text would read as 0 and skew every span. */
            fail(err, size, "malformed log: sample %lld has no time (t_ns "
                 "is not an integer)", (long long)sqlite3_column_int64(st, 0));
            sqlite3_finalize(st);
            ldb_samples_free(s);
            return -1;
        }
        int64_t t_ns = sqlite3_column_int64(st, 1);
        if (row == 0)
            s->base_ns = t_ns;
        else if (t_ns < prev_ns) {
            /* ORDER BY t_ns through a damaged index: out of order. */
            fail(err, size, "malformed log: sample %lld is out of time order",
                 (long long)sqlite3_column_int64(st, 0));
            sqlite3_finalize(st);
            ldb_samples_free(s);
            return -1;
        }
        prev_ns = t_ns;
        s->id[at] = sqlite3_column_int64(st, 0);
        if (row > 0 && s->id[at] <= prev_id)
            s->ids_in_time = 0;
        prev_id = s->id[at];
        /* Differences of int64 nanoseconds as double seconds; unsigned
         * arithmetic avoids overflow on hostile values. */
        s->t[at] = (double)(int64_t)((uint64_t)t_ns - (uint64_t)s->base_ns) / 1e9;
        int64_t v[11] = {0};
        char where[64] = "";   /* made only for a message */
#define WHERE() (where[0] ? where : (snprintf(where, sizeof where, "sample %lld", \
                                     (long long)sqlite3_column_int64(st, 0)), where))
        for (int c = 2; c <= (mm ? 10 : 6); c++)
            if (sqlite3_column_type(st, c) == SQLITE_INTEGER &&
                ((v[c] = sqlite3_column_int64(st, c)) >= 0 || c < 4 || c > 6))
                continue;   /* the common case, without counter_col's name */
            else if (counter_col(st, c, c >= 4 && c <= 6, &v[c], WHERE(), err, size) < 0) {
                sqlite3_finalize(st);
                ldb_samples_free(s);
                return -1;
            }
        s->bytes[0][at] = (double)v[2];
        s->bytes[1][at] = (double)v[3];
        for (int q = 0; q < PT_POOL_COUNT && mm; q++) {
            if ((v[7 + 2 * q] > v[2 + q] || v[2 + q] > v[8 + 2 * q]) &&
                extremes_ok(v[7 + 2 * q], v[2 + q], v[8 + 2 * q], WHERE(),
                            q ? "nonpaged_" : "paged_", err, size) < 0) {
                sqlite3_finalize(st);
                ldb_samples_free(s);
                return -1;
            }
            double lo = (double)v[7 + 2 * q], hi = (double)v[8 + 2 * q];
            if (!fresh) {
                lo = fmin(lo, s->bytes_min[q][at]);
                hi = fmax(hi, s->bytes_max[q][at]);
            }
            s->bytes_min[q][at] = lo;
            s->bytes_max[q][at] = hi;
        }
        s->pool_max[0] = (double)v[4];
        s->pool_max[1] = (double)v[5];
        s->rss_kb = (double)v[6];
#undef WHERE
        last_in = row % stride == 0 && s->n < cap - 1;
        fresh = last_in;
        if (last_in)
            s->n++;
        row++;
    }
    if (row > 0 && !last_in)
        s->n++;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fail(err, size, "%s", why(l, rc));
        ldb_samples_free(s);
        return -1;
    }
    if (mm && !s->ids_in_time && stride > 1) {
        /* Dropped samples cannot be placed (logread.c, Thinning). */
        for (int q = 0; q < PT_POOL_COUNT; q++) {
            free(s->bytes_min[q]);
            free(s->bytes_max[q]);
            s->bytes_min[q] = s->bytes_max[q] = NULL;
        }
    }
    for (size_t k = 0; k < s->n; k++)
        s->sorted_ix[k] = (uint32_t)k;
    g_sort_ids = s->id;
    qsort(s->sorted_ix, s->n, sizeof *s->sorted_ix, by_id);
    for (size_t k = 0; k < s->n; k++)
        s->sorted_id[k] = s->id[s->sorted_ix[k]];
    return 0;
}

/* The first index of the sorted ids[0..n) whose id is >= id (n: none). */
static size_t lower_bound(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of sample id among the kept samples, or -1. */
static long find_sample(const ldb_samples *s, int64_t id)
{
    size_t lo = lower_bound(s->sorted_id, s->n, id);
    return lo < s->n && s->sorted_id[lo] == id ? (long)s->sorted_ix[lo] : -1;
}

/* The values of one tag row (columns sample, tag, pool, allocs, bytes,
 * then with mm bytes_min, bytes_max), checked against the format: 0, or -1
 * with a message naming the row.  (The message is made only on failure:
 * this runs for every row of the log.) */
static int row_values(sqlite3_stmt *st, int mm, sqlite3_int64 tag, sqlite3_int64 pool,
                      int64_t *nallocs, int64_t *nbytes, int64_t *lo, int64_t *hi,
                      char *err, size_t size)
{
    if (tag < 0 || tag > (sqlite3_int64)UINT32_MAX) {
        fail(err, size, "malformed log: tag value %lld is not 32 bits", (long long)tag);
        return -1;
    }
    if (pool < 0 || pool >= PT_POOL_COUNT) {
        fail(err, size, "malformed log: pool %lld (expected 0 or 1)", (long long)pool);
        return -1;
    }
    *nallocs = sqlite3_column_int64(st, 3);
    *nbytes = sqlite3_column_int64(st, 4);
    if (mm) {
        *lo = sqlite3_column_int64(st, 5);
        *hi = sqlite3_column_int64(st, 6);
    }
    int ok = sqlite3_column_type(st, 3) == SQLITE_INTEGER && *nallocs >= 0 &&
             sqlite3_column_type(st, 4) == SQLITE_INTEGER &&
             (!mm || (sqlite3_column_type(st, 5) == SQLITE_INTEGER &&
                      sqlite3_column_type(st, 6) == SQLITE_INTEGER &&
                      *lo <= *nbytes && *nbytes <= *hi));
    if (ok)
        return 0;
    char where[96], tt[PT_TAG_TEXT_MAX];
    snprintf(where, sizeof where, "tag_sample (sample %lld, tag %s, pool %lld)",
             (long long)sqlite3_column_int64(st, 0), pt_tag_text((uint32_t)tag, tt),
             (long long)pool);
    if (counter_col(st, 3, 1, nallocs, where, err, size) < 0 ||
        counter_col(st, 4, 0, nbytes, where, err, size) < 0)
        return -1;
    if (mm && (counter_col(st, 5, 0, lo, where, err, size) < 0 ||
               counter_col(st, 6, 0, hi, where, err, size) < 0 ||
               extremes_ok(*lo, *nbytes, *hi, where, "", err, size) < 0))
        return -1;
    return 0;
}

/* The kept point that a dropped sample folds into: the first kept sample
 * at or after it (ids grow with time: s->ids_in_time), or -1. */
static long bucket_of(const ldb_samples *s, int64_t id)
{
    size_t lo = lower_bound(s->id, s->n, id);
    return lo < s->n ? (long)lo : -1;
}

#define SERIES_MM ", ts.bytes_min, ts.bytes_max"
/*
 * The fast walk (issue 15: a log of 1,000,000 samples in under 2 s): one
 * pass over the process's tag rows in time order, with no sort — a range
 * scan of tag_sample's primary key when the process's sample ids are one
 * contiguous run (one process logged), else a join through
 * sample_by_process — each row put into its series in memory, then the
 * series handed out in (tag, pool) order.  It needs sample ids that grow
 * with time (the kept point of a row is then found by walking the kept
 * ids forward) and at most LDB_FAST_BYTES of points; it returns without
 * calling fn (*fallback) when either does not hold, and the caller walks the sorted
 * query instead (bounded memory, one series at a time).
 */
typedef struct fseries {
    uint32_t tag;
    int pool;
    size_t n;
    double *t, *y, *a, *lo, *hi;   /* one block, capacity s->n each       */
    size_t *ix;
    long pend_k;                   /* extremes of dropped rows waiting    */
    double pend_lo, pend_hi;
} fseries;

static int fseries_cmp(const void *pa, const void *pb)
{
    const fseries *a = pa, *b = pb;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return a->pool - b->pool;
}

/* Series by (tag, pool): open addressing over indexes into fs. */
typedef struct fmap {
    fseries *fs;
    size_t n, cap;        /* series, capacity of fs                       */
    uint32_t *slot;       /* index + 1, 0 = empty; nslot a power of two   */
    size_t nslot;
} fmap;

static size_t fhash(uint32_t tag, int pool, size_t mask)
{
    return ((tag * 2654435761u) ^ (uint32_t)pool * 40503u) & mask;
}

static void fmap_free(fmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->fs[i].t);
    free(m->fs);
    free(m->slot);
}

/* The series of (tag, pool), made when new; NULL: out of memory or past
 * the budget (*over). */
static fseries *fmap_get(fmap *m, uint32_t tag, int pool, size_t npts, int *over)
{
    if (2 * (m->n + 1) > m->nslot) {
        size_t ns = m->nslot ? 2 * m->nslot : 64;
        uint32_t *sl = calloc(ns, sizeof *sl);
        if (!sl)
            return NULL;
        for (size_t i = 0; i < m->n; i++) {
            size_t h = fhash(m->fs[i].tag, m->fs[i].pool, ns - 1);
            while (sl[h])
                h = (h + 1) & (ns - 1);
            sl[h] = (uint32_t)i + 1;
        }
        free(m->slot);
        m->slot = sl;
        m->nslot = ns;
    }
    size_t h = fhash(tag, pool, m->nslot - 1);
    for (; m->slot[h]; h = (h + 1) & (m->nslot - 1)) {
        fseries *f = &m->fs[m->slot[h] - 1];
        if (f->tag == tag && f->pool == pool)
            return f;
    }
    size_t per = npts * (5 * sizeof(double) + sizeof(size_t));
    if ((m->n + 1) * per > LDB_FAST_BYTES) {
        *over = 1;
        return NULL;
    }
    fseries *fs = pt_grow(m->fs, m->n, &m->cap, sizeof *fs, 16);
    if (!fs)
        return NULL;
    m->fs = fs;
    double *block = malloc(per);
    if (!block)
        return NULL;
    fseries *f = &m->fs[m->n];
    *f = (fseries){.tag = tag, .pool = pool, .t = block, .y = block + npts,
                   .a = block + 2 * npts, .lo = block + 3 * npts, .hi = block + 4 * npts,
                   .ix = (size_t *)(void *)((char *)block + 5 * npts * sizeof *block),
                   .pend_k = -1};
    m->slot[h] = (uint32_t)++m->n;
    return f;
}

static int each_series_fast(ldb_log *l, ldb_samples *s, ldb_series_fn fn, void *ctx,
                            int *fallback, char *err, size_t size)
{
    *fallback = 0;
    if (!s->ids_in_time) {
        *fallback = 1;
        return 0;
    }
    int mm = l->version >= 2 && s->bytes_min[0];
    /* One contiguous run of ids: nobody else's samples in between. */
    int range = s->id[s->n - 1] - s->id[0] + 1 == s->total;
#define FAST_COLS "SELECT ts.sample, ts.tag, ts.pool, ts.allocs, ts.bytes"
    static const char *const sql[2][2] = {
        {FAST_COLS " FROM sample s JOIN tag_sample ts ON ts.sample = s.id "
                   "WHERE s.process = ?1 ORDER BY s.t_ns, s.id",
         FAST_COLS " FROM tag_sample ts WHERE ts.sample BETWEEN ?2 AND ?3 "
                   "ORDER BY ts.sample"},
        {FAST_COLS SERIES_MM " FROM sample s JOIN tag_sample ts ON ts.sample = s.id "
                   "WHERE s.process = ?1 ORDER BY s.t_ns, s.id",
         FAST_COLS SERIES_MM " FROM tag_sample ts WHERE ts.sample BETWEEN ?2 AND ?3 "
                   "ORDER BY ts.sample"},
    };
    sqlite3_stmt *st = prep(l, sql[mm][range], NULL, err, size);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, s->proc_id);
    sqlite3_bind_int64(st, 2, s->id[0]);
    sqlite3_bind_int64(st, 3, s->id[s->n - 1]);
    fmap m = {0};
    int ret = 0, rc, over = 0;
    size_t kp = 0;              /* the kept point of the current row       */
    for (int q = 0; q < PT_POOL_COUNT; q++)
        memset(s->allocs[q], 0, s->n * sizeof *s->allocs[q]);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t sid = sqlite3_column_int64(st, 0);
        sqlite3_int64 tag = sqlite3_column_int64(st, 1), pool = sqlite3_column_int64(st, 2);
        int64_t nallocs = 0, nbytes = 0, lo = 0, hi = 0;
        if ((ret = row_values(st, mm, tag, pool, &nallocs, &nbytes, &lo, &hi, err, size)))
            goto out;
        while (kp < s->n && s->id[kp] < sid)
            kp++;
        if (kp == s->n)
            break;              /* past the last kept sample: none left   */
        fseries *f = fmap_get(&m, (uint32_t)tag, (int)pool, s->n, &over);
        if (!f) {
            if (over) {
                *fallback = 1;
                goto out;
            }
            fail(err, size, "out of memory");
            ret = -1;
            goto out;
        }
        if (s->id[kp] != sid) {
            /* Thinned out: its extremes go to its kept point kp. */
            if (mm && f->pend_k == (long)kp) {
                f->pend_lo = fmin(f->pend_lo, (double)lo);
                f->pend_hi = fmax(f->pend_hi, (double)hi);
            } else if (mm) {
                f->pend_k = (long)kp;
                f->pend_lo = (double)lo;
                f->pend_hi = (double)hi;
            }
            continue;
        }
        s->allocs[pool][kp] += (double)nallocs;
        if (f->n > 0 && f->ix[f->n - 1] >= kp)
            continue;
        f->ix[f->n] = kp;
        f->t[f->n] = s->t[kp];
        f->y[f->n] = (double)nbytes;
        f->a[f->n] = (double)nallocs;
        f->lo[f->n] = f->pend_k == (long)kp ? fmin(f->pend_lo, (double)lo) : (double)lo;
        f->hi[f->n] = f->pend_k == (long)kp ? fmax(f->pend_hi, (double)hi) : (double)hi;
        f->pend_k = -1;
        f->n++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fail(err, size, "%s", why(l, rc));
        ret = -1;
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (m.n)
        qsort(m.fs, m.n, sizeof *m.fs, fseries_cmp);
    for (size_t i = 0; i < m.n && ret == 0; i++) {
        fseries *f = &m.fs[i];
        ldb_series se = {.tag = f->tag, .pool = f->pool, .n = f->n, .t = f->t,
                         .bytes = f->y, .allocs = f->a, .ix = f->ix,
                         .bytes_min = mm ? f->lo : NULL, .bytes_max = mm ? f->hi : NULL};
        if (f->n)
            ret = fn(ctx, &se);
    }
out:
    sqlite3_finalize(st);
    fmap_free(&m);
    return ret;
}

int ldb_each_series(ldb_log *l, ldb_samples *s, int only, uint32_t only_tag,
                    int only_pool, ldb_series_fn fn, void *ctx, char *err,
                    size_t size)
{
    if (s->n == 0)
        return 0;
    if (!only) {
        int fallback, r = each_series_fast(l, s, fn, ctx, &fallback, err, size);
        if (!fallback)
            return r;
    }
    /* The extremes when the log has them and the samples kept them. */
    int mm = l->version >= 2 && s->bytes_min[0];
    double *t = malloc(s->n * sizeof *t), *y = malloc(s->n * sizeof *y),
           *a = malloc(s->n * sizeof *a);
    double *ylo = mm ? malloc(s->n * sizeof *ylo) : NULL,
           *yhi = mm ? malloc(s->n * sizeof *yhi) : NULL;
    size_t *ix = malloc(s->n * sizeof *ix);
    int ret = 0, rc;
    sqlite3_stmt *st = NULL;
    if (!t || !y || !a || !ix || (mm && (!ylo || !yhi))) {
        fail(err, size, "out of memory");
        ret = -1;
        goto out;
    }
    for (int q = 0; q < PT_POOL_COUNT; q++)
        if (!only)
            memset(s->allocs[q], 0, s->n * sizeof *s->allocs[q]);
#define SERIES_COLS "SELECT ts.sample, ts.tag, ts.pool, ts.allocs, ts.bytes"
#define SERIES_FROM " FROM tag_sample ts JOIN sample s ON s.id = ts.sample WHERE s.process = ?1"
#define SERIES_ONLY " AND ts.tag = ?2 AND ts.pool = ?3 ORDER BY s.t_ns, s.id"
#define SERIES_ALL " ORDER BY ts.tag, ts.pool, s.t_ns, s.id"
    static const char *const sql[2][2] = {
        {SERIES_COLS SERIES_FROM SERIES_ALL, SERIES_COLS SERIES_FROM SERIES_ONLY},
        {SERIES_COLS SERIES_MM SERIES_FROM SERIES_ALL,
         SERIES_COLS SERIES_MM SERIES_FROM SERIES_ONLY},
    };
    st = prep(l, sql[mm][!!only], NULL, err, size);
    if (!st) {
        ret = -1;
        goto out;
    }
    sqlite3_bind_int64(st, 1, s->proc_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)only_tag);
    sqlite3_bind_int(st, 3, only_pool);

    ldb_series cur = {.t = t, .bytes = y, .allocs = a, .ix = ix, .bytes_min = ylo,
                      .bytes_max = yhi};
    int have = 0;
    /* Extremes of dropped samples waiting for their kept point pend_k. */
    long pend_k = -1;
    double pend_lo = 0, pend_hi = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 tag = sqlite3_column_int64(st, 1);
        sqlite3_int64 pool = sqlite3_column_int64(st, 2);
        int64_t nallocs = 0, nbytes = 0, lo = 0, hi = 0;
        if ((ret = row_values(st, mm, tag, pool, &nallocs, &nbytes, &lo, &hi, err, size)))
            goto out;
        if (have && (cur.tag != (uint32_t)tag || cur.pool != (int)pool)) {
            if ((ret = fn(ctx, &cur)) != 0)
                goto out;
            have = 0;
            pend_k = -1;
        }
        long k = find_sample(s, sqlite3_column_int64(st, 0));
        if (k < 0) {
            /* Thinned out: its extremes go to its kept point. */
            long b = mm ? bucket_of(s, sqlite3_column_int64(st, 0)) : -1;
            if (b >= 0 && b == pend_k) {
                pend_lo = fmin(pend_lo, (double)lo);
                pend_hi = fmax(pend_hi, (double)hi);
            } else if (b >= 0) {
                pend_k = b;
                pend_lo = (double)lo;
                pend_hi = (double)hi;
            }
            continue;
        }
        if (!have) {
            cur.tag = (uint32_t)tag;
            cur.pool = (int)pool;
            cur.n = 0;
            have = 1;
        }
        double allocs = (double)nallocs;
        if (!only)
            s->allocs[pool][k] += allocs;
        /* Time order, one point per sample, whatever a damaged file says. */
        if (cur.n > 0 && ix[cur.n - 1] >= (size_t)k)
            continue;
        if (cur.n >= s->n)
            continue;
        ix[cur.n] = (size_t)k;
        t[cur.n] = s->t[k];
        y[cur.n] = (double)nbytes;
        a[cur.n] = allocs;
        if (mm) {
            ylo[cur.n] = pend_k == k ? fmin(pend_lo, (double)lo) : (double)lo;
            yhi[cur.n] = pend_k == k ? fmax(pend_hi, (double)hi) : (double)hi;
        }
        pend_k = -1;
        cur.n++;
    }
    if (rc != SQLITE_DONE) {
        fail(err, size, "%s", why(l, rc));
        ret = -1;
        goto out;
    }
    if (have)
        ret = fn(ctx, &cur);
out:
    sqlite3_finalize(st);
    free(t);
    free(y);
    free(a);
    free(ylo);
    free(yhi);
    free(ix);
    return ret;
}
