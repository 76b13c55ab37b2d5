/*
 * log.c — `pooltag log -o FILE.db [--interval T] [--sub T] [--max-size N] [--all]
 * [--duration T] PID...`: sample the counters of tagged processes into a
 * counter log (SQLite, docs/log-format.md) that `pooltag trend` reads.
 *
 * Data model: a target is one process followed through one reader source
 * (ptr_open), whose identity check (process start time) tells a PID reused
 * by another process from the one we follow: the reading fails and
 * ptr_alive says 0, so the series ends as 'exited'.  Each round reads every
 * target and writes one transaction: a sample row per target, its tag rows,
 * tag names (first sight), and the ends of targets that went away.
 *
 * Timing: rounds start at absolute CLOCK_MONOTONIC deadlines start + k *
 * interval, so the interval does not drift; a round that overruns skips the
 * ticks it missed.  Sample times are CLOCK_REALTIME (the reading's
 * taken_ns).
 *
 * Sub-sampling (issue 15): between two rounds the logger reads every
 * target's flushed Bytes (ptr_cur_read: tagstat.cur and pool.cur, one
 * pread, no pass over the shards) every --sub period and keeps each tag's
 * and pool's lowest and highest (minmax.h, one bucket reset at each
 * sample), so that every sample carries the extremes of its interval, not
 * only the value at its instant: a load whose period is near a multiple of
 * the interval would otherwise alias into a slow drift (sampled troughs
 * that rise while the true ones return to zero).  The instant values stay
 * the exact full reading; the extremes are clamped to hold them (logw.c).
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked and waited for with
 * sigtimedwait between rounds, so one arriving mid-round lets the round
 * finish; the logger then marks the open series 'logger stopped' and exits
 * 0.  SIGKILL loses nothing committed (WAL, see logw.c).
 *
 * The database layer is logw.c.
 */
#include "ptgrow.h"
#include "verbs.h"
#include "logw.h"
#include "minmax.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *VERB = "log";

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define MIN_INTERVAL_NS (10 * NS_PER_MS)
#define MAX_INTERVAL_NS (86400 * NS_PER_S)
#define MAX_FAILS 3    /* consecutive failed readings of a live process */
#define MIN_SUB_NS NS_PER_MS
#define DEF_SUB_NS (50 * NS_PER_MS)
#define DEF_SUB_DIV 20 /* default --sub: interval / 20, at most 50 ms     */

static void usage(FILE *f)
{
    fputs(
        "Usage: pooltag log -o FILE.db [--interval T] [--sub T] [--max-size N]\n"
        "                   [--duration T] [--quiet] PID...\n"
        "       pooltag log -o FILE.db --all [options]\n"
        "\n"
        "Sample the pooltag counters of running processes into a counter log,\n"
        "an SQLite database (format: docs/log-format.md) that `pooltag trend`\n"
        "and sqlite3 read.  Every interval, for each process: every tag's\n"
        "counters in each pool, the pool totals, RSS and commit.  Each round is\n"
        "one transaction: a logger killed even with SIGKILL leaves a database\n"
        "that opens and holds every sample it wrote.\n"
        "\n"
        "The logger ends by itself when every PID has exited (each exit is\n"
        "recorded as 'exited'), at the end of --duration, or on SIGINT,\n"
        "SIGTERM or SIGHUP: it finishes the current round and marks the open\n"
        "series 'logger stopped'.  A line on stderr says what was written.\n"
        "\n"
        "  -o, --output FILE   the log: a new (or empty) file, or a pooltag\n"
        "                      log of this format to append to; anything else\n"
        "                      is refused and left untouched\n"
        "  -i, --interval T    time between samples (default 5s): seconds\n"
        "                      (2, 0.5, 1e3) or with a unit: 250ms, 5s, 1m,\n"
        "                      1h; at least 10ms, at most 24h\n"
        "  -m, --max-size N    cap the log at N bytes, circularly: the oldest\n"
        "                      samples are deleted to stay under it.  512K,\n"
        "                      100M, 1G (x1024) or bytes; at least 64K; 0 = no\n"
        "                      cap (default)\n"
        "  -a, --all           follow every tagged process of this user (all,\n"
        "                      for root), including ones that start later;\n"
        "                      runs until stopped or --duration ends it\n"
        "  -s, --sub T         read each tag's bytes every T between samples\n"
        "                      (cheaply: the flushed totals) and log the\n"
        "                      lowest and highest of each interval with each\n"
        "                      sample; default interval/20, at most 50ms; at\n"
        "                      least 1ms; T >= --interval: no reads between\n"
        "                      samples (the extremes are the sample's values)\n"
        "  -d, --duration T    stop after T (same units as --interval)\n"
        "  -q, --quiet         print nothing but errors\n"
        "  -h, --help          this text\n"
        "\n"
        "Exit status 0 when the log was written, 2 for a usage error, a\n"
        "process that cannot be read at start, a file that is not a pooltag\n"
        "log, or a write error.\n",
        f);
}

/* ---- option values --------------------------------------------------- */

/* ---- targets --------------------------------------------------------- */

typedef struct target {
    uint32_t pid;
    ptr_source *src;   /* kept after an error end: its identity check
                          keeps --all from reopening the same process   */
    int64_t row;       /* process row, 0 until the first sample         */
    int ended;
    int fails;
    char comm[17];
    uint64_t samples;
    ptr_cur cur;       /* the cheap reading between samples             */
    mm_track *mm;      /* its extremes since the previous sample         */
} target;

typedef struct logger {
    logw *db;
    const char *path;
    target *t;
    size_t n, cap;
    int all, quiet;
    uint64_t samples, processes, deleted;
    int warned_small;
    uint64_t subs;     /* cheap readings taken                            */
} logger;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static target *add_target(logger *L, uint32_t pid, ptr_source *src)
{
    target *nt = pt_grow(L->t, L->n, &L->cap, sizeof *nt, 16);
    if (!nt)
        return NULL;
    L->t = nt;
    mm_track *mm = mm_new(1);
    if (!mm)
        return NULL;
    target *t = &L->t[L->n++];
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->src = src;
    t->mm = mm;
    return t;
}

static void target_free(target *t)
{
    ptr_close(t->src);
    t->src = NULL;
    ptr_cur_free(&t->cur);
    mm_free(t->mm);
    t->mm = NULL;
}

/* Drop ended targets whose source is closed (their rows are written). */
static void compact(logger *L)
{
    size_t j = 0;
    for (size_t i = 0; i < L->n; i++) {
        if (!L->t[i].ended || L->t[i].src)
            L->t[j++] = L->t[i];
        else
            target_free(&L->t[i]);
    }
    L->n = j;
}

/* End a target's series in the current transaction. */
static int end_target(logger *L, target *t, const char *reason, int keep_src,
                      char *err, size_t errlen)
{
    t->ended = 1;
    if (!keep_src) {
        ptr_close(t->src);
        t->src = NULL;
    }
    if (!L->quiet)
        cli_err(VERB, "process %" PRIu32 " (%s): %s after %" PRIu64
                      " sample%s",
                t->pid, t->comm[0] ? cli_esc(t->comm) : "?", reason, t->samples,
                t->samples == 1 ? "" : "s");
    if (!t->row)
        return 0;
    return logw_end(L->db, t->row, real_ns(), reason, err, errlen);
}

/* --all: start following tagged processes we do not follow yet. */
static void rescan(logger *L)
{
    uint32_t *pids;
    size_t n;
    char err[512];
    if (ptr_list_tagged(&pids, &n, err, sizeof err) < 0) {
        if (!L->quiet)
            cli_err(VERB, "%s", err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t k = 0; k < L->n && !known; k++) {
            target *t = &L->t[k];
            /* The same process (its source's identity still holds). */
            known = t->pid == pids[i] && t->src && ptr_alive(t->src);
        }
        if (known)
            continue;
        char spec[16];
        ptr_source *s;
        snprintf(spec, sizeof spec, "%" PRIu32, pids[i]);
        /* A process that cannot be opened (starting, exiting, another
         * user's) is tried again next round. */
        if (ptr_open(spec, &s, err, sizeof err) < 0)
            continue;
        if (!add_target(L, pids[i], s)) {
            ptr_close(s);
            break;
        }
    }
    free(pids);
}

/* One round: read every open target, write one transaction. */
static int round_once(logger *L, char *err, size_t errlen)
{
    if (logw_begin(L->db, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < L->n; i++) {
        target *t = &L->t[i];
        ptr_view v;
        char rerr[512];
        if (t->ended) {
            /* A source kept after an error end has done its job once the
             * process is gone: close it so that compact drops the target
             * (else --all keeps its descriptor until the logger ends). */
            if (t->src && !ptr_alive(t->src)) {
                ptr_close(t->src);
                t->src = NULL;
            }
            continue;
        }
        if (ptr_read(t->src, &v, rerr, sizeof rerr) < 0) {
            if (!ptr_alive(t->src)) {
                if (end_target(L, t, "exited", 0, err, errlen) < 0)
                    goto bad;
            } else if (++t->fails >= MAX_FAILS) {
                if (end_target(L, t, rerr, 1, err, errlen) < 0)
                    goto bad;
            }
            continue;
        }
        t->fails = 0;
        cli_use_modules(&v);
        int r = 0;
        if (!t->row) {
            snprintf(t->comm, sizeof t->comm, "%s", v.comm);
            r = logw_process(L->db, &v, &t->row, err, errlen);
            if (r == 0) {
                L->processes++;
                if (L->all && !L->quiet)
                    cli_err(VERB, "following process %" PRIu32 " (%s)",
                            t->pid, cli_esc(t->comm));
            }
        }
        if (r == 0)
            r = logw_sample(L->db, t->row, &v, t->mm, err, errlen);
        /* The next interval's extremes start after this reading. */
        mm_rotate(t->mm);
        ptr_view_free(&v);
        if (r < 0)
            goto bad;
        t->samples++;
        L->samples++;
    }
    if (logw_commit(L->db, err, errlen) < 0)
        goto bad;
    compact(L);
    uint64_t gone;
    int small;
    if (logw_trim(L->db, &gone, &small, err, errlen) < 0)
        return -1;
    L->deleted += gone;
    if (small && !L->warned_small && !L->quiet) {
        L->warned_small = 1;
        cli_err(VERB, "warning: --max-size is too small for one round of "
                      "samples; the log keeps only the newest round");
    }
    return 0;
bad:
    logw_rollback(L->db);
    return -1;
}

/* Between rounds: fold each open target's flushed Bytes into its extremes.
 * A target that cannot be read now is left to the next round (which ends
 * its series if it is gone). */
static void sub_round(logger *L)
{
    char err[256];
    for (size_t i = 0; i < L->n; i++) {
        target *t = &L->t[i];
        if (t->ended || !t->src || !t->row)
            continue;
        if (ptr_cur_read(t->src, &t->cur, err, sizeof err) == 0 &&
            mm_add(t->mm, &t->cur) == 0)
            L->subs++;
    }
}

static int open_targets(logger *L)
{
    for (size_t i = 0; i < L->n; i++)
        if (!L->t[i].ended)
            return 1;
    return 0;
}

/* Sleep until the absolute monotonic time `until` or a stop signal.
 * Returns 1 when a signal asks to stop. */
static int wait_until(const sigset_t *sigs, uint64_t until)
{
    for (;;) {
        uint64_t now = mono_ns();
        struct timespec ts = {0, 0};
        if (until > now) {
            uint64_t d = until - now;
            ts.tv_sec = (time_t)(d / NS_PER_S);
            ts.tv_nsec = (long)(d % NS_PER_S);
        }
        int sig = sigtimedwait(sigs, NULL, &ts);
        if (sig > 0)
            return 1;
        if (errno == EAGAIN && mono_ns() >= until)
            return 0;
        /* EINTR (another signal) or an early wake-up: wait again. */
    }
}

/* Wait for the absolute monotonic time `until` like wait_until, reading
 * the targets' flushed Bytes every `sub` on the way (a slow reading
 * delays the next one, never the sample).  Returns 1 when a signal asks
 * to stop. */
static int wait_sub(logger *L, const sigset_t *sigs, uint64_t until, uint64_t sub)
{
    uint64_t at = mono_ns();
    for (;;) {
        at += sub;
        if (at >= until)
            return wait_until(sigs, until);
        if (wait_until(sigs, at))
            return 1;
        sub_round(L);
        uint64_t now = mono_ns();
        if (now > at)
            at = now;
    }
}

int cmd_log(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"interval", required_argument, NULL, 'i'},
        {"max-size", required_argument, NULL, 'm'},
        {"all", no_argument, NULL, 'a'},
        {"duration", required_argument, NULL, 'd'},
        {"sub", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    logger L;
    const char *out = NULL;
    uint64_t interval = 5 * NS_PER_S, cap = 0, duration = 0, sub = 0;
    int c, status = PT_EXIT_USAGE;
    char err[1024];

    memset(&L, 0, sizeof L);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:i:m:ad:s:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'i':
            if (cli_parse_duration(optarg, &interval) < 0 ||
                interval > MAX_INTERVAL_NS) {
                cli_err(VERB,
                        "bad interval '%s': give seconds (0.5, 1e3) or a "
                        "unit: 250ms, 5s, 1m, 1h (at most 24h)",
                        optarg);
                return PT_EXIT_USAGE;
            }
            if (interval < MIN_INTERVAL_NS) {
                cli_err(VERB, "interval '%s' is too short: the minimum is 10ms",
                        optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'm':
            if (pt_parse_size(optarg, &cap, 1) < 0) {
                cli_err(VERB,
                        "bad size '%s': use e.g. 512K, 100M, 1G, a number of "
                        "bytes, or 0 for no cap",
                        optarg);
                return PT_EXIT_USAGE;
            }
            if (cap && cap < LOG_MIN_CAP) {
                cli_err(VERB,
                        "--max-size %s is too small to hold a useful log: use "
                        "at least 64K, or 0 for no cap",
                        optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'a': L.all = 1; break;
        case 'd':
            if (cli_parse_duration(optarg, &duration) < 0 || duration == 0) {
                cli_err(VERB,
                        "bad duration '%s': give seconds (30, 1e3) or a "
                        "unit: 30s, 10m, 2h (more than 0, at most 366 days)",
                        optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 's':
            if (cli_parse_duration(optarg, &sub) < 0 || sub > MAX_INTERVAL_NS) {
                cli_err(VERB,
                        "bad --sub '%s': give seconds (0.05) or a unit: 5ms, "
                        "50ms, 1s",
                        optarg);
                return PT_EXIT_USAGE;
            }
            if (sub < MIN_SUB_NS) {
                cli_err(VERB, "--sub '%s' is too short: the minimum is 1ms",
                        optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'q': L.quiet = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (!sub) {
        sub = interval / DEF_SUB_DIV;
        if (sub > DEF_SUB_NS)
            sub = DEF_SUB_NS;
        if (sub < MIN_SUB_NS)
            sub = MIN_SUB_NS;
    }
    if (!out || !*out) {
        cli_err(VERB, "missing -o FILE.db: where to write the log (see "
                      "pooltag log --help)");
        return PT_EXIT_USAGE;
    }
    if (L.all && optind < argc) {
        cli_err(VERB, "--all follows every tagged process: give no PID with "
                      "it (see pooltag log --help)");
        return PT_EXIT_USAGE;
    }
    if (!L.all && optind >= argc) {
        cli_err(VERB, "missing PID: give the processes to log, or --all (see "
                      "pooltag log --help)");
        return PT_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        const char *a = argv[i];
        if (!*a || strspn(a, "0123456789") != strlen(a)) {
            cli_err(VERB, "'%s' is not a PID: log follows running processes",
                    a);
            return PT_EXIT_USAGE;
        }
        for (int k = optind; k < i; k++)
            if (strtoull(argv[k], NULL, 10) == strtoull(a, NULL, 10)) {
                cli_err(VERB, "PID %s is given twice", a);
                return PT_EXIT_USAGE;
            }
    }

    /* Check everything before creating anything: the file, then each PID
     * (opened and read once). */
    int exists = logw_check(out, err, sizeof err);
    if (exists < 0) {
        cli_err(VERB, "%s", err);
        return PT_EXIT_USAGE;
    }
    L.path = out;
    for (int i = optind; i < argc; i++) {
        ptr_source *s;
        ptr_view v;
        if (ptr_open(argv[i], &s, err, sizeof err) < 0) {
            cli_err(VERB, "%s", err);
            goto done;
        }
        if (ptr_read(s, &v, err, sizeof err) < 0) {
            cli_err(VERB, "%s", err);
            ptr_close(s);
            goto done;
        }
        target *t = add_target(&L, ptr_pid(s), s);
        if (!t) {
            ptr_view_free(&v);
            ptr_close(s);
            cli_err(VERB, "out of memory");
            goto done;
        }
        snprintf(t->comm, sizeof t->comm, "%s", v.comm);
        ptr_view_free(&v);
    }

    /* Stop signals wait for the end of a round (see wait_until).  One that
     * is ignored stays ignored (nohup; SIGINT of a background job): a
     * blocked signal would be queued for sigtimedwait even so. */
    sigset_t sigs, old;
    static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP};
    sigemptyset(&sigs);
    for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++) {
        struct sigaction sa;
        if (sigaction(stop_sigs[i], NULL, &sa) == 0 &&
            sa.sa_handler == SIG_IGN)
            continue;
        sigaddset(&sigs, stop_sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &sigs, &old);

    if (logw_open(out, exists, interval / NS_PER_MS, cap, &L.db, err,
                   sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        sigprocmask(SIG_SETMASK, &old, NULL);
        goto done;
    }

    const uint64_t start = mono_ns();
    const uint64_t end = duration ? start + duration : UINT64_MAX;
    uint64_t tick = 0, rounds = 0, busy = 0, worst = 0;
    const char *why = "logger stopped";
    status = PT_EXIT_OK;
    for (;;) {
        uint64_t t0 = mono_ns();
        if (L.all)
            rescan(&L);
        if (round_once(&L, err, sizeof err) < 0) {
            cli_err(VERB, "%s", err);
            status = PT_EXIT_USAGE;
            break;
        }
        uint64_t spent = mono_ns() - t0;
        rounds++;
        busy += spent;
        if (spent > worst)
            worst = spent;
        if (!L.all && !open_targets(&L))
            break;
        /* Next tick on the absolute grid; skip ticks a slow round missed. */
        uint64_t now = mono_ns();
        tick = (now - start) / interval + 1;
        uint64_t next = start + tick * interval;
        if (next > end) {
            wait_until(&sigs, end);
            break;
        }
        if (wait_sub(&L, &sigs, next, sub))
            break;
    }

    /* Open series end here: the logger stopped (signal, --duration). */
    if (status == PT_EXIT_OK && open_targets(&L)) {
        if (logw_begin(L.db, err, sizeof err) < 0) {
            cli_err(VERB, "%s", err);
            status = PT_EXIT_USAGE;
        } else {
            int bad = 0;
            for (size_t i = 0; i < L.n && !bad; i++)
                if (!L.t[i].ended && L.t[i].row)
                    bad = logw_end(L.db, L.t[i].row, real_ns(), why, err,
                                    sizeof err) < 0;
            if (bad || logw_commit(L.db, err, sizeof err) < 0) {
                logw_rollback(L.db);
                cli_err(VERB, "%s", err);
                status = PT_EXIT_USAGE;
            }
        }
    }
    logw_close(L.db);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (status == PT_EXIT_OK && !L.quiet) {
        char extra[128] = "";
        if (L.deleted)
            snprintf(extra, sizeof extra, ", %" PRIu64 " oldest deleted (cap)",
                     L.deleted);
        cli_err(VERB,
                "wrote %" PRIu64 " sample%s of %" PRIu64 " process%s to %s%s; "
                "a round took %.2f ms on average, %.2f ms at most; %" PRIu64
                " reading%s of the flushed bytes between samples (every "
                "%g ms)",
                L.samples, L.samples == 1 ? "" : "s", L.processes,
                L.processes == 1 ? "" : "es", out, extra,
                rounds ? (double)busy / (double)rounds / 1e6 : 0.0,
                (double)worst / 1e6, L.subs, L.subs == 1 ? "" : "s",
                (double)sub / 1e6);
    }
done:
    for (size_t i = 0; i < L.n; i++)
        target_free(&L.t[i]);
    free(L.t);
    return status;
}
