/*
 * notmyfault.c — a program that leaks on request, after Sysinternals
 * NotMyFault, so that a person can watch one pool tag grow while the others
 * stay steady (`pooltag mon PID`, `pooltag used PID`, `pooltag vm PID`).
 *
 * Data model
 * ----------
 * One process: a main thread and N workers (--threads, default 1).
 *
 *   main     allocates the steady background tags at start (Cach: a fixed
 *            paged cache; Conf: small nonpaged configuration blocks), starts
 *            the workers, waits for --duration or SIGINT/SIGTERM, stops and
 *            joins the workers, frees everything that was not leaked, then
 *            prints a summary read back from the runtime (pt_tag_read) and
 *            checks that the runtime's counters agree with its own
 *            bookkeeping.
 *
 *   worker   every TICK_NS it advances three activities, each private to the
 *            worker (nothing is shared between threads but the stop flag, the
 *            start time and the "first failure reported" flag):
 *            - Leak: its share rate/N of the leak.  At time t (seconds since
 *              start) it has attempted floor(share * t / block) blocks; a
 *              refused allocation (pool maximum reached) is counted and
 *              skipped, never retried, so a full pool costs no busy loop.
 *              When main stops the run at time T, each worker makes the
 *              attempts due at T, so the leak is rate x T to within a block
 *              per worker, however late the worker's last tick was.
 *              Leaked blocks are chained through their first word: they stay
 *              reachable (a debugger can walk them; LeakSanitizer does not
 *              call them leaks) and are never freed.
 *            - Load (--load): a table of request slots.  The target number
 *              of concurrent requests follows a raised cosine between 0 and
 *              the worker's share of --requests with period --period, so the
 *              tag's bytes rise and fall and reach 0 at every trough.  Each
 *              request holds LOAD_BUFS buffers of LOAD_BUF bytes; requests
 *              also end at random (mean lifetime ~200 ms) and are replaced,
 *              so allocs and frees keep moving at a steady load.
 *            - Sess: SESS_SLOTS sessions of fixed sizes; every tick a few are
 *              freed and allocated again with the same size: allocs and
 *              frees climb, Diff and Bytes stay exactly constant.
 *
 * Invariants checked at exit (after every worker has been joined, so every
 * operation has completed): for Leak, allocs == blocks leaked, frees == 0,
 * Bytes == bytes leaked, failures == refused attempts; for every other tag,
 * allocs == frees and Bytes == 0, allocs == the program's own count.  A
 * mismatch is reported and makes the exit status 1.
 *
 * Exit status: 0 normal end (duration reached or SIGINT/SIGTERM), 1 a
 * counter mismatch or a failure to start, 2 a usage error.
 */
#define _GNU_SOURCE
#include "pooltag.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAG_LEAK PT_TAG("Leak")
#define TAG_LOAD PT_TAG("Load")
#define TAG_CACH PT_TAG("Cach")
#define TAG_SESS PT_TAG("Sess")
#define TAG_CONF PT_TAG("Conf")

#define TICK_NS 10000000L        /* worker tick: 10 ms */
#define MAX_ATTEMPTS_TICK 100000 /* leak attempts per tick; rest deferred */
#define MAX_THREADS 64

#define CACH_BLOCKS 16 /* Cach: 16 x 16 KiB paged = 256 KiB */
#define CACH_BLOCK 16384
#define CONF_BLOCKS 24 /* Conf: 24 x 96 B nonpaged = 2304 B */
#define CONF_BLOCK 96
#define SESS_SLOTS 32 /* Sess: 32 sessions of 256..2048 B each */
#define SESS_PER_TICK 2
#define LOAD_BUFS 4 /* Load: a request holds 4 x 4 KiB */
#define LOAD_BUF 4096
#define LOAD_END_PER_MILLE 50 /* chance per tick that a request ends */

/* ---------------------------------------------------------------------- */
/* Options */

typedef struct nmf_opts {
    bool leak;         /* --leak given */
    pt_pool leak_pool; /* its pool */
    uint64_t rate;     /* --rate, bytes per second */
    uint64_t block;    /* --block, bytes per leaked block */
    uint64_t max_leak; /* --max-leak, 0 = no cap */
    bool load;         /* --load */
    double period;     /* --period, seconds */
    unsigned requests; /* --requests, peak concurrent requests */
    double duration;   /* --duration, seconds; 0 = until a signal */
    unsigned threads;  /* --threads */
    bool quiet;        /* --quiet */
} nmf_opts;

static const char usage_text[] =
    "usage: notmyfault [--leak paged|nonpaged] [--rate BYTES/s] [--block BYTES]\n"
    "                  [--max-leak BYTES] [--load] [--period SECONDS]\n"
    "                  [--requests N] [--duration SECONDS] [--threads N]\n"
    "                  [--quiet] [--help]\n"
    "\n"
    "A program that leaks on request, so that a tag can be seen growing with\n"
    "pooltag (mon, used, vm) while the other tags stay steady.\n"
    "\n"
    "  --leak POOL        leak blocks tagged 'Leak' in the paged or nonpaged pool\n"
    "  --rate BYTES/s     leak rate (default 64K); suffixes K, M, G (x1024)\n"
    "  --block BYTES      size of each leaked block (default 1K, 16 B..64M)\n"
    "  --max-leak BYTES   stop leaking after this many bytes (default 1G, 0 = none)\n"
    "  --load             simulate a request load (tag 'Load') that rises and falls\n"
    "  --period SECONDS   period of the load (default 20)\n"
    "  --requests N       peak concurrent requests, 16 KiB each (default 64)\n"
    "  --duration SECONDS stop after this time (default: run until SIGINT/SIGTERM)\n"
    "  --threads N        worker threads sharing the work (default 1, max 64)\n"
    "  --quiet            print nothing but errors\n"
    "  --help             this text\n"
    "\n"
    "Background tags, always present and steady: Cach (256 KiB paged cache\n"
    "allocated at start), Conf (24 small nonpaged blocks), Sess (paged sessions\n"
    "freed and allocated again every tick: allocs and frees climb, bytes stay).\n"
    "At exit everything that was not leaked is freed and a summary of the\n"
    "counters is printed.  Pool maxima: PT_PAGED_MAX, PT_NONPAGED_MAX.\n";

/* Print one line "notmyfault: MESSAGE" to stderr and exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "notmyfault: %s (see notmyfault --help)\n", msg);
    exit(2);
}

/*
 * Parse a byte count: decimal digits with an optional K, M or G suffix
 * (binary multiples, optionally followed by "B" or "iB"), and, when
 * allow_per_s, an optional "/s".  Returns 0 and sets *out, or -1 for
 * anything else (empty, sign, junk, overflow).
 */
static int parse_bytes(const char *s, bool allow_per_s, uint64_t *out)
{
    const char *p = s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    unsigned shift = 0;
    switch (*p) {
    case 'k':
    case 'K':
        shift = 10;
        p++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        p++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        p++;
        break;
    default:
        break;
    }
    if (shift && *p == 'i' && p[1] == 'B')
        p += 2;
    else if (*p == 'B')
        p++;
    if (allow_per_s && p[0] == '/' && p[1] == 's')
        p += 2;
    if (*p)
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* Parse seconds: a finite decimal number in (0, 1e7].  Returns 0 or -1. */
static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 1e7)
        return -1;
    *out = v;
    return 0;
}

/* Parse an unsigned count in [lo, hi].  Returns 0 or -1. */
static int parse_count(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;
    if (parse_bytes(s, false, &v) || v < lo || v > hi)
        return -1;
    for (const char *p = s; *p; p++) /* plain digits only */
        if (*p < '0' || *p > '9')
            return -1;
    *out = (unsigned)v;
    return 0;
}

/* Fill *o from argv; exits 0 after --help, 2 on any usage error. */
static void parse_args(int argc, char **argv, nmf_opts *o)
{
    enum {
        O_LEAK = 256,
        O_RATE,
        O_BLOCK,
        O_MAXLEAK,
        O_LOAD,
        O_PERIOD,
        O_REQUESTS,
        O_DURATION,
        O_THREADS,
        O_QUIET,
        O_HELP
    };
    static const struct option longopts[] = {
        {"leak", required_argument, NULL, O_LEAK},
        {"rate", required_argument, NULL, O_RATE},
        {"block", required_argument, NULL, O_BLOCK},
        {"max-leak", required_argument, NULL, O_MAXLEAK},
        {"load", no_argument, NULL, O_LOAD},
        {"period", required_argument, NULL, O_PERIOD},
        {"requests", required_argument, NULL, O_REQUESTS},
        {"duration", required_argument, NULL, O_DURATION},
        {"threads", required_argument, NULL, O_THREADS},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    *o = (nmf_opts){.leak_pool = PT_PAGED,
                    .rate = 64 << 10,
                    .block = 1024,
                    .max_leak = 1ull << 30,
                    .period = 20,
                    .requests = 64,
                    .threads = 1};
    bool rate_set = false, block_set = false, max_set = false;
    bool period_set = false, requests_set = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_LEAK:
            if (!strcmp(optarg, "paged"))
                o->leak_pool = PT_PAGED;
            else if (!strcmp(optarg, "nonpaged"))
                o->leak_pool = PT_NONPAGED;
            else
                usage_error("--leak: '%s' is not a pool (paged or nonpaged)", optarg);
            o->leak = true;
            break;
        case O_RATE:
            if (parse_bytes(optarg, true, &o->rate) || o->rate == 0 || o->rate > (1ull << 40))
                usage_error("--rate: '%s' is not a rate in bytes per second "
                            "(1..1T, e.g. 64K)",
                            optarg);
            rate_set = true;
            break;
        case O_BLOCK:
            if (parse_bytes(optarg, false, &o->block) || o->block < 16 || o->block > (64u << 20))
                usage_error("--block: '%s' is not a size from 16 to 64M", optarg);
            block_set = true;
            break;
        case O_MAXLEAK:
            if (parse_bytes(optarg, false, &o->max_leak))
                usage_error("--max-leak: '%s' is not a byte count", optarg);
            max_set = true;
            break;
        case O_LOAD:
            o->load = true;
            break;
        case O_PERIOD:
            if (parse_seconds(optarg, &o->period) || o->period < 0.1)
                usage_error("--period: '%s' is not a time in seconds "
                            "(0.1 or more)",
                            optarg);
            period_set = true;
            break;
        case O_REQUESTS:
            if (parse_count(optarg, 1, 100000, &o->requests))
                usage_error("--requests: '%s' is not a count from 1 to 100000", optarg);
            requests_set = true;
            break;
        case O_DURATION:
            if (parse_seconds(optarg, &o->duration))
                usage_error("--duration: '%s' is not a positive time in "
                            "seconds",
                            optarg);
            break;
        case O_THREADS:
            if (parse_count(optarg, 1, MAX_THREADS, &o->threads))
                usage_error("--threads: '%s' is not a count from 1 to %d", optarg, MAX_THREADS);
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case 'h':
        case O_HELP:
            fputs(usage_text, stdout);
            exit(0);
        case ':':
            usage_error("option '%s' needs an argument", argv[optind - 1]);
        default: /* '?': getopt_long sets optopt to the option's value */
            if (optopt >= O_LEAK)
                usage_error("option '%s' takes no argument", argv[optind - 1]);
            if (optopt > 0x20 && optopt < 0x7f)
                usage_error("unknown option '-%c'", optopt);
            usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->leak && (rate_set || block_set || max_set))
        usage_error("--rate, --block and --max-leak need --leak");
    if (!o->load && (period_set || requests_set))
        usage_error("--period and --requests need --load");
}

/* ---------------------------------------------------------------------- */
/* Shared state: the stop flag, the start time, the first-failure report. */

static volatile sig_atomic_t g_signal; /* SIGINT or SIGTERM arrived */
static atomic_int g_stop;              /* set by main: workers stop */
static double g_stop_at;               /* seconds since start when main stopped
                                          (written before g_stop, release)     */
static atomic_int g_failure_said;      /* the first failure has been reported */
static struct timespec g_start;        /* CLOCK_MONOTONIC at start */
static void *g_leaked[MAX_THREADS];    /* per worker: chain of leaked blocks */
static nmf_opts g_opt;

static void on_signal(int sig)
{
    (void)sig;
    g_signal = 1;
}

static double elapsed_since_start(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - g_start.tv_sec) + (double)(now.tv_nsec - g_start.tv_nsec) * 1e-9;
}

static const char *pool_name(pt_pool pool)
{
    return pool == PT_NONPAGED ? "nonpaged" : "paged";
}

/* Report an allocation failure on stderr, once per process: later ones are
 * only counted (and shown in the summary). */
static void note_failure(uint32_t tag, pt_pool pool, size_t size)
{
    if (atomic_exchange(&g_failure_said, 1))
        return;
    char t[PT_TAG_TEXT_MAX];
    size_t max = pt_pool_limit(pool);
    char lim[64] = "no maximum";
    if (max)
        snprintf(lim, sizeof lim, "maximum %zu bytes", max);
    fprintf(stderr,
            "notmyfault: %s: allocation of %zu bytes in the %s pool failed "
            "(%zu bytes in use, %s); still running, counting failures\n",
            pt_tag_text(tag, t), size, pool_name(pool), pt_pool_used(pool), lim);
}

/* splitmix64: a small deterministic generator, one per worker. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---------------------------------------------------------------------- */
/* Workers */

/* What one worker did, in the program's own bookkeeping. */
typedef struct nmf_tally {
    uint64_t leak_blocks, leak_bytes, leak_failures;
    uint64_t load_allocs, load_failures;
    uint64_t sess_allocs, sess_failures;
} nmf_tally;

typedef struct nmf_request {
    void *buf[LOAD_BUFS];
    bool active;
} nmf_request;

typedef struct nmf_worker {
    pthread_t thread;
    unsigned index;
    uint64_t rng;
    double leak_share;      /* bytes per second for this worker */
    uint64_t leak_cap;      /* bytes this worker may leak (0 = no cap) */
    uint64_t leak_attempts; /* blocks attempted so far */
    unsigned load_share;    /* this worker's peak concurrent requests */
    unsigned load_active;
    nmf_request *req; /* load_share slots */
    void *sess[SESS_SLOTS];
    size_t sess_size[SESS_SLOTS];
    nmf_tally tally;
} nmf_worker;

/* Advance the leak to time t: attempt the blocks due by then. */
static void leak_step(nmf_worker *w, double t)
{
    uint64_t due = (uint64_t)(w->leak_share * t / (double)g_opt.block);
    if (w->leak_cap) {
        uint64_t cap_blocks = w->leak_cap / g_opt.block;
        if (due > cap_blocks)
            due = cap_blocks;
    }
    for (unsigned n = 0; w->leak_attempts < due && n < MAX_ATTEMPTS_TICK; n++) {
        w->leak_attempts++;
        void *p = pt_alloc(g_opt.leak_pool, g_opt.block, TAG_LEAK);
        if (!p) {
            w->tally.leak_failures++;
            note_failure(TAG_LEAK, g_opt.leak_pool, g_opt.block);
            continue;
        }
        memset(p, 0xa5, g_opt.block);     /* touch it: the leak is resident */
        *(void **)p = g_leaked[w->index]; /* chain: stays reachable */
        g_leaked[w->index] = p;
        w->tally.leak_blocks++;
        w->tally.leak_bytes += g_opt.block;
    }
}

/* Free the buffers of request r. */
static void request_end(nmf_worker *w, nmf_request *r)
{
    for (int i = 0; i < LOAD_BUFS; i++)
        pt_free(r->buf[i]);
    r->active = false;
    w->load_active--;
}

/* Start request r; returns false (nothing held) if a buffer was refused. */
static bool request_start(nmf_worker *w, nmf_request *r)
{
    for (int i = 0; i < LOAD_BUFS; i++) {
        r->buf[i] = pt_alloc(PT_PAGED, LOAD_BUF, TAG_LOAD);
        if (!r->buf[i]) {
            w->tally.load_failures++;
            note_failure(TAG_LOAD, PT_PAGED, LOAD_BUF);
            while (i-- > 0)
                pt_free(r->buf[i]);
            return false;
        }
        w->tally.load_allocs++;
        memset(r->buf[i], 0x5a, 64); /* a request writes its header */
    }
    r->active = true;
    w->load_active++;
    return true;
}

/* Advance the load to time t: end some requests at random, then start or
 * end requests until the count matches the raised-cosine target. */
static void load_step(nmf_worker *w, double t)
{
    const double two_pi = 6.283185307179586;
    unsigned target =
        (unsigned)lround(w->load_share * (1.0 - cos(two_pi * t / g_opt.period)) / 2.0);
    for (unsigned i = 0; i < w->load_share; i++)
        if (w->req[i].active && rng_next(&w->rng) % 1000 < LOAD_END_PER_MILLE)
            request_end(w, &w->req[i]);
    for (unsigned i = w->load_share; i-- > 0 && w->load_active > target;)
        if (w->req[i].active)
            request_end(w, &w->req[i]);
    for (unsigned i = 0; i < w->load_share && w->load_active < target; i++)
        if (!w->req[i].active && !request_start(w, &w->req[i]))
            break; /* pool full: try again next tick */
}

/* Allocate session slot i with its fixed size. */
static void sess_alloc(nmf_worker *w, unsigned i)
{
    w->sess[i] = pt_alloc(PT_PAGED, w->sess_size[i], TAG_SESS);
    if (!w->sess[i]) {
        w->tally.sess_failures++;
        note_failure(TAG_SESS, PT_PAGED, w->sess_size[i]);
        return;
    }
    w->tally.sess_allocs++;
    memset(w->sess[i], 0x3c, w->sess_size[i] < 128 ? w->sess_size[i] : 128);
}

/* Replace a few sessions: the same sizes, so Bytes stays constant. */
static void sess_step(nmf_worker *w)
{
    for (int n = 0; n < SESS_PER_TICK; n++) {
        unsigned i = (unsigned)(rng_next(&w->rng) % SESS_SLOTS);
        pt_free(w->sess[i]);
        sess_alloc(w, i);
    }
}

static void *worker_main(void *arg)
{
    nmf_worker *w = arg;
    for (unsigned i = 0; i < SESS_SLOTS; i++) {
        w->sess_size[i] = 256 + (size_t)(rng_next(&w->rng) % 1793);
        sess_alloc(w, i);
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load_explicit(&g_stop, memory_order_acquire)) {
        double t = elapsed_since_start();
        if (g_opt.leak)
            leak_step(w, t);
        if (g_opt.load)
            load_step(w, t);
        sess_step(w);

        next.tv_nsec += TICK_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
            next = now; /* behind: do not try to catch up ticks */
        else
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    /* Stop: leak what was due at the moment main stopped (so the leak is
     * rate x run time to within a block per worker), then free what is not
     * leaked.  The leak chain stays. */
    if (g_opt.leak)
        leak_step(w, g_stop_at);
    for (unsigned i = 0; i < w->load_share; i++)
        if (w->req[i].active)
            request_end(w, &w->req[i]);
    for (unsigned i = 0; i < SESS_SLOTS; i++)
        pt_free(w->sess[i]);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Summary and the counter check */

typedef struct nmf_expect {
    uint32_t tag;
    pt_pool pool;
    uint64_t allocs; /* successful allocations, own count */
    uint64_t frees;
    uint64_t bytes; /* Bytes outstanding at exit */
    uint64_t failures;
} nmf_expect;

/* Print one row per expected tag from the runtime's counters and compare
 * them with *e.  Returns the number of mismatches (each reported). */
static int summarize(const nmf_expect *e, int n, bool quiet)
{
    int bad = 0;
    if (!quiet)
        printf("%-4s  %-8s %10s %10s %10s %12s %12s %9s\n", "Tag", "Pool", "Allocs", "Frees",
               "Diff", "Bytes", "Peak", "Failures");
    for (int i = 0; i < n; i++) {
        char t[PT_TAG_TEXT_MAX];
        pt_tag_info info;
        pt_tag_text(e[i].tag, t);
        if (pt_tag_read(e[i].tag, &info) != 0) {
            if (e[i].allocs || e[i].failures) {
                fprintf(stderr,
                        "notmyfault: counter check: tag %s unknown "
                        "to the runtime\n",
                        t);
                bad++;
            }
            memset(&info, 0, sizeof info); /* never used: a row of zeros */
        }
        const pt_counts *c = &info.pool[e[i].pool];
        uint64_t bytes = c->bytes_alloc - c->bytes_freed;
        if (!quiet)
            printf("%-4s  %-8s %10llu %10llu %10lld %12llu %12llu %9llu\n", t, pool_name(e[i].pool),
                   (unsigned long long)c->allocs, (unsigned long long)c->frees,
                   (long long)(c->allocs - c->frees), (unsigned long long)bytes,
                   (unsigned long long)c->peak, (unsigned long long)c->failures);
        if (c->allocs != e[i].allocs || c->frees != e[i].frees || bytes != e[i].bytes ||
            c->failures != e[i].failures) {
            fprintf(stderr,
                    "notmyfault: counter check: %s %s: runtime says allocs %llu "
                    "frees %llu bytes %llu failures %llu, program counted "
                    "%llu %llu %llu %llu\n",
                    t, pool_name(e[i].pool), (unsigned long long)c->allocs,
                    (unsigned long long)c->frees, (unsigned long long)bytes,
                    (unsigned long long)c->failures, (unsigned long long)e[i].allocs,
                    (unsigned long long)e[i].frees, (unsigned long long)e[i].bytes,
                    (unsigned long long)e[i].failures);
            bad++;
        }
        const pt_counts *o = &info.pool[e[i].pool == PT_PAGED ? PT_NONPAGED : PT_PAGED];
        if (o->allocs || o->frees || o->failures) {
            fprintf(stderr,
                    "notmyfault: counter check: %s has counts in the "
                    "%s pool, which it never used\n",
                    t, pool_name(e[i].pool == PT_PAGED ? PT_NONPAGED : PT_PAGED));
            bad++;
        }
    }
    return bad;
}

/* ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    parse_args(argc, argv, &g_opt);
    setvbuf(stdout, NULL, _IOLBF, 0);
    clock_gettime(CLOCK_MONOTONIC, &g_start);

    /* Signals go to the main thread only: block them before the workers
     * exist (they inherit the mask), unblock them here afterwards. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: nanosleep returns early */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t stopsigs, oldmask;
    sigemptyset(&stopsigs);
    sigaddset(&stopsigs, SIGINT);
    sigaddset(&stopsigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopsigs, &oldmask);

    if (!g_opt.quiet) {
        char what[512];
        int len = 0;
        if (g_opt.leak)
            len += snprintf(what + len, sizeof what - (size_t)len,
                            "leaking %llu B/s in %llu-byte blocks, tag Leak, "
                            "%s pool; ",
                            (unsigned long long)g_opt.rate, (unsigned long long)g_opt.block,
                            pool_name(g_opt.leak_pool));
        if (g_opt.load)
            len += snprintf(what + len, sizeof what - (size_t)len,
                            "load up to %u requests (tag Load) with period "
                            "%g s; ",
                            g_opt.requests, g_opt.period);
        if (!g_opt.leak && !g_opt.load)
            len += snprintf(what + len, sizeof what - (size_t)len, "not leaking; ");
        char until[64] = "until SIGINT/SIGTERM";
        if (g_opt.duration > 0)
            snprintf(until, sizeof until, "for %g s", g_opt.duration);
        printf("notmyfault: pid %d: %ssteady tags Cach Conf Sess; %u "
               "thread%s; %s\n",
               (int)getpid(), what, g_opt.threads, g_opt.threads == 1 ? "" : "s", until);
    }

    /* Background tags owned by main. */
    void *cach[CACH_BLOCKS], *conf[CONF_BLOCKS];
    uint64_t cach_allocs = 0, cach_failures = 0;
    uint64_t conf_allocs = 0, conf_failures = 0;
    for (int i = 0; i < CACH_BLOCKS; i++) {
        cach[i] = pt_alloc(PT_PAGED, CACH_BLOCK, TAG_CACH);
        if (!cach[i]) {
            cach_failures++;
            note_failure(TAG_CACH, PT_PAGED, CACH_BLOCK);
            continue;
        }
        cach_allocs++;
        memset(cach[i], 0, CACH_BLOCK);
    }
    for (int i = 0; i < CONF_BLOCKS; i++) {
        conf[i] = pt_calloc(PT_NONPAGED, 1, CONF_BLOCK, TAG_CONF);
        if (!conf[i]) {
            conf_failures++;
            note_failure(TAG_CONF, PT_NONPAGED, CONF_BLOCK);
            continue;
        }
        conf_allocs++;
        snprintf(conf[i], CONF_BLOCK, "setting.%d=%d", i, i * 7);
    }

    /* Workers: split the leak rate, the cap and the requests evenly. */
    unsigned nt = g_opt.threads;
    nmf_worker *w = calloc(nt, sizeof *w);
    if (!w) {
        fprintf(stderr, "notmyfault: out of memory\n");
        return 1;
    }
    unsigned started = 0;
    for (unsigned i = 0; i < nt; i++) {
        w[i].index = i;
        w[i].rng = 0x6e6f746d79666c74ull + i; /* deterministic per worker */
        w[i].leak_share = (double)g_opt.rate / nt;
        w[i].leak_cap = g_opt.max_leak / nt;
        if (g_opt.max_leak && !w[i].leak_cap)
            w[i].leak_cap = 1; /* a cap below one block: leak nothing */
        if (g_opt.load) {
            w[i].load_share = g_opt.requests / nt + (i < g_opt.requests % nt);
            w[i].req = calloc(w[i].load_share ? w[i].load_share : 1, sizeof *w[i].req);
            if (!w[i].req) {
                fprintf(stderr, "notmyfault: out of memory\n");
                g_signal = 1;
                break;
            }
        }
        int err = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
        if (err) {
            fprintf(stderr, "notmyfault: cannot start thread %u: %s\n", i, strerror(err));
            g_signal = 1;
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);

    /* Wait for the deadline or a signal. */
    while (!g_signal) {
        double left = 0.1;
        if (g_opt.duration > 0) {
            left = g_opt.duration - elapsed_since_start();
            if (left <= 0)
                break;
            if (left > 0.1)
                left = 0.1;
        }
        struct timespec ts = {0, (long)(left * 1e9)};
        nanosleep(&ts, NULL);
    }
    double ran = elapsed_since_start();
    g_stop_at = ran;
    atomic_store_explicit(&g_stop, 1, memory_order_release);
    for (unsigned i = 0; i < started; i++)
        pthread_join(w[i].thread, NULL);

    for (int i = 0; i < CACH_BLOCKS; i++)
        pt_free(cach[i]);
    for (int i = 0; i < CONF_BLOCKS; i++)
        if (conf[i])
            pt_free_tag(conf[i], TAG_CONF);

    nmf_tally sum = {0};
    for (unsigned i = 0; i < nt; i++) {
        nmf_tally *t = &w[i].tally;
        sum.leak_blocks += t->leak_blocks;
        sum.leak_bytes += t->leak_bytes;
        sum.leak_failures += t->leak_failures;
        sum.load_allocs += t->load_allocs;
        sum.load_failures += t->load_failures;
        sum.sess_allocs += t->sess_allocs;
        sum.sess_failures += t->sess_failures;
    }

    nmf_expect e[5];
    int ne = 0;
    if (g_opt.leak)
        e[ne++] = (nmf_expect){TAG_LEAK, g_opt.leak_pool, sum.leak_blocks,
                               0,        sum.leak_bytes,  sum.leak_failures};
    if (g_opt.load)
        e[ne++] = (nmf_expect){TAG_LOAD,        PT_PAGED, sum.load_allocs,
                               sum.load_allocs, 0,        sum.load_failures};
    e[ne++] = (nmf_expect){TAG_CACH, PT_PAGED, cach_allocs, cach_allocs, 0, cach_failures};
    e[ne++] = (nmf_expect){TAG_CONF, PT_NONPAGED, conf_allocs, conf_allocs, 0, conf_failures};
    e[ne++] =
        (nmf_expect){TAG_SESS, PT_PAGED, sum.sess_allocs, sum.sess_allocs, 0, sum.sess_failures};

    if (!g_opt.quiet)
        printf("notmyfault: stopped after %.2f s; counters at exit, after "
               "freeing everything not leaked:\n",
               ran);
    int bad = summarize(e, ne, g_opt.quiet);
    uint64_t failures =
        sum.leak_failures + sum.load_failures + sum.sess_failures + cach_failures + conf_failures;
    if (!g_opt.quiet) {
        if (g_opt.leak)
            printf("notmyfault: leaked %llu bytes in %llu blocks (tag Leak, "
                   "%s pool)\n",
                   (unsigned long long)sum.leak_bytes, (unsigned long long)sum.leak_blocks,
                   pool_name(g_opt.leak_pool));
        pt_tag_info li;
        if (g_opt.load && pt_tag_read(TAG_LOAD, &li) == 0)
            printf("notmyfault: load peaked at %llu bytes (tag Load); all "
                   "freed\n",
                   (unsigned long long)li.pool[PT_PAGED].peak);
        if (failures)
            printf("notmyfault: %llu allocations failed (Leak %llu, Load "
                   "%llu, other %llu); nonpaged maximum %zu bytes, paged "
                   "maximum %zu bytes (0 = none)\n",
                   (unsigned long long)failures, (unsigned long long)sum.leak_failures,
                   (unsigned long long)sum.load_failures,
                   (unsigned long long)(failures - sum.leak_failures - sum.load_failures),
                   pt_pool_limit(PT_NONPAGED), pt_pool_limit(PT_PAGED));
        else
            printf("notmyfault: no allocation failed\n");
        if (!bad)
            printf("notmyfault: the runtime's counters agree with the "
                   "program's own count\n");
    }
    for (unsigned i = 0; i < nt; i++)
        free(w[i].req);
    free(w);
    return bad ? 1 : 0;
}
