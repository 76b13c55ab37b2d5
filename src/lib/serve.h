/*
 * serve.h — internals of `pooltag serve` (serve*.c), shared with the fuzz
 * target fuzz/fuzz_http.c.
 *
 * Data model.  One scrape reads every tagged process of the user once and
 * reduces each reading (ptr_view) to an sv_proc: the process figures, the
 * pool totals and a bounded list of rows — the member tags (at most 2N, see
 * below) and one "other" row.  Every output (Prometheus text 0.0.4,
 * OpenMetrics 1.0, the dashboard's JSON) is rendered from that one sv_scrape
 * by walking one table of metric families (serve_metrics.c: each family's
 * metric and JSON member), so the formats never disagree.
 *
 * Bounded cardinality and counters.  Per process, the member tags are
 *     members(k) = top N by bytes in use at scrape k
 *                  ∪ (members(k-1) ∩ top 2N at scrape k)
 * so the top N are always shown, a tag near the border does not flap, and
 * there are at most 2N member series (+ other) per (process, pool).  A
 * member's counters are the tag's own counters (the same numbers as
 * `pooltag used --json`).  The "other" row's counters are not a sum over
 * the current non-members (that sum drops when a tag joins the members,
 * which Prometheus would read as a counter reset): they accumulate, per
 * tag, the increments seen between two scrapes while the tag was not a
 * member.  So every exported counter is monotonic, and the sum of rate()
 * over a process's series is the process's true rate (the raw values of a
 * tag that has been in "other" are counted in both its own series and in
 * other's).  Gauges (bytes, blocks) of "other" are the plain sums over the
 * current non-members.
 */
#ifndef PT_SERVE_H
#define PT_SERVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ptread.h"

/* Counters kept per (tag, pool). */
enum { SV_ALLOCS, SV_FREES, SV_BALLOC, SV_BFREED, SV_FAILURES, SV_NC };

#define SV_TOP_DEFAULT 20
#define SV_TOP_MAX 1000

/* A growable output buffer; on allocation failure `failed` is set and
 * further appends are dropped. */
typedef struct sv_buf {
    char *p;
    size_t len, cap;
    int failed;
} sv_buf;
void sv_put(sv_buf *b, const char *s, size_t n);
void sv_puts(sv_buf *b, const char *s);
void sv_printf(sv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append bytes as a Prometheus label value: valid UTF-8 kept, other bytes
 * and control characters written as the text \xNN, then backslash and
 * quote escaped. */
void sv_put_text(sv_buf *b, const char *s, size_t n);

/* One exported row: a member tag or "other". */
typedef struct sv_row {
    char tag[PT_TAG_TEXT_MAX]; /* escaped tag text, or "other"            */
    uint32_t tagv;             /* the tag (a member row)                  */
    int ovf;                   /* the tag table's overflow entry          */
    int other;
    uint64_t c[PT_POOL_COUNT][SV_NC]; /* counters                          */
    int64_t bytes[PT_POOL_COUNT];     /* gauges: bytes in use, blocks      */
    int64_t blocks[PT_POOL_COUNT];
    /* the lowest and highest bytes over the trailing window (sv_extremes;
     * a member row only: "other" has none) */
    int64_t lo[PT_POOL_COUNT], hi[PT_POOL_COUNT];
} sv_row;

typedef struct sv_proc {
    uint32_t pid;
    char comm[17];
    uint64_t start_ns;
    ptr_proc proc;
    ptr_pool pool[PT_POOL_COUNT];
    int64_t bytes[PT_POOL_COUNT];     /* bytes in use, all tags            */
    int64_t lo[PT_POOL_COUNT], hi[PT_POOL_COUNT]; /* their window's extremes */
    uint64_t errors_total;
    size_t ntags;
    size_t nrows;                     /* members (bytes desc) + other last */
    sv_row *rows;
    /* issue 12: every tag with injected failures (top N or not), and the
     * allocations that found the special pool full, all tags */
    size_t ninj;
    struct sv_inj {
        char tag[PT_TAG_TEXT_MAX];
        uint64_t n;
    } *inj;
    uint64_t special_full;
} sv_proc;

typedef struct sv_scrape {
    uint64_t time_ms;                 /* CLOCK_REALTIME                    */
    double seconds;                   /* time taken to read               */
    uint64_t read_errors_total;       /* since start                       */
    size_t top;
    size_t nprocs;
    sv_proc *procs;
} sv_scrape;
void sv_scrape_free(sv_scrape *s);

/* Per-process accounting state (membership, counters of "other"). */
typedef struct sv_state sv_state;
sv_state *sv_state_new(size_t top);
void sv_state_free(sv_state *st);
size_t sv_state_top(const sv_state *st);
/* Start a scrape: processes not touched before sv_state_end are dropped. */
void sv_state_begin(sv_state *st);
void sv_state_end(sv_state *st);
/* Keep a process's state although it could not be read this time. */
void sv_state_keep(sv_state *st, uint32_t pid);
/* Account one reading and fill *out (rows malloc'd).  -1: out of memory. */
int sv_account(sv_state *st, const ptr_view *v, sv_proc *out);
uint64_t *sv_state_read_errors(sv_state *st);

/*
 * The trailing window's extremes (issue 15).  A sampler thread (serve.c)
 * reads each process's flushed totals (ptr_cur_read) every --sub into an
 * mm_track of SV_BUCKETS buckets, rotated every window / (SV_BUCKETS - 1):
 * the buckets kept cover the last window at least, window + window/12 at
 * most.  At a scrape, sv_extremes turns them into each member row's and
 * pool's lowest and highest bytes: a dip or peak of the flushed totals
 * within their lag (mm_bound) of the scrape's exact value is not counted
 * (mm_snap), and the result always holds the exact value
 * (lo <= bytes <= hi).  sv_account sets every extreme to the value
 * ([bytes, bytes]: what a process the sampler has not read yet shows).
 */
#define SV_BUCKETS 13
#define SV_SUB_DEFAULT_NS (50ull * 1000000)
#define SV_WINDOW_DEFAULT_NS (60ull * 1000000000)
struct mm_track;
void sv_extremes(sv_proc *out, const ptr_view *v, const struct mm_track *mm);

/* The sampler (serve.c); NULL: no window (every extreme is the value). */
typedef struct sv_window sv_window;

/* Read every tagged process of the user serve runs as, even as root
 * (all_users: every process this user may read; serve.c's collector). */
int sv_collect_live(sv_state *st, int all_users, sv_window *w, sv_scrape *out);

enum sv_format { SV_PROM = 0, SV_OPENMETRICS = 1, SV_JSON = 2 };
void sv_render(const sv_scrape *s, int format, sv_buf *b);

/* Content types of the formats. */
#define SV_CT_PROM "text/plain; version=0.0.4; charset=utf-8"
#define SV_CT_OPENMETRICS \
    "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Does this Accept header prefer OpenMetrics 1.0 over the text format? */
int sv_accept_openmetrics(const char *accept);

/* ---- HTTP (serve_http.c) ---- */
struct MHD_Daemon;

/* Connections kept at once: one more evicts the oldest (see serve_http.c);
 * libmicrohttpd's own limit is twice that, room for the evicted ones until
 * they are closed. */
#define SV_CONN_LIMIT 64
#define SV_CONN_SLOTS (2 * SV_CONN_LIMIT)

/* One connection, from MHD's notification that it started to the one that
 * it closed (its socket stays open until then). */
typedef struct sv_conn {
    int used;
    int fd;
    int receiving;     /* waiting for (the rest of) a request's headers    */
    int evicted;       /* shut down by us, waiting for MHD to close it     */
    uint64_t since_ms; /* start of the current phase (CLOCK_MONOTONIC)     */
} sv_conn;

typedef struct sv_server {
    sv_state *st;
    /* Fill *out with a fresh scrape; 0 ok, -1 error (answered with 500). */
    int (*collect)(struct sv_server *srv, sv_scrape *out);
    void *arg;
    int all_users;                    /* --all-users                       */
    uint64_t requests;
    /* The connection table: MHD's thread fills it, sv_sweep (another
     * thread) ends the connections past their deadline. */
    pthread_mutex_t conn_lock;
    sv_conn conn[SV_CONN_SLOTS];
} sv_server;

/* Start a daemon on fd (listen socket), or with no listen socket when
 * fd < 0 and external polling (the fuzzer).  NULL on failure. */
struct MHD_Daemon *sv_start(sv_server *srv, int fd);
/* End the connections past their deadline; call it about every second
 * (serve.c's main loop; new connections call it too). */
void sv_sweep(sv_server *srv);

/* The dashboard page (serve_page.c). */
extern const char sv_page_html[];

#endif
