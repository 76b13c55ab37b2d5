/*
 * serve.c — `pooltag serve`: a Prometheus/OpenMetrics exporter and live
 * dashboard for every tagged process of the user.
 *
 * This file holds the verb: options, the listen socket (made here so that
 * "address in use" and friends are reported precisely), the live collector
 * (ptr_list_tagged + ptr_open/ptr_read per scrape), the window's sampler
 * (a thread reading every process's flushed totals every --sub for the
 * trailing window's extremes, serve.h) and the wait for SIGINT/SIGTERM.  The HTTP routes are in serve_http.c, the accounting and
 * the output formats in serve_metrics.c, the page in serve_page.c; the
 * model is described in serve.h.
 */
#include "verbs.h"
#include "serve.h"
#include "minmax.h"
#include "util.h"
#include "procfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *VERB = "serve";

static void usage(FILE *f)
{
    fputs("Usage: pooltag serve [--listen HOST:PORT] [--top N] [--all-users]\n"
          "                     [--window W] [--sub T]\n"
          "\n"
          "Serve the pool counters of every tagged process of the user serve\n"
          "runs as (root too: only root's own processes) over HTTP, read afresh\n"
          "on each request:\n"
          "  /metrics            Prometheus text format 0.0.4, or OpenMetrics 1.0\n"
          "                      when the Accept header asks for it\n"
          "  /                   a live dashboard (charts of the pools and top tags)\n"
          "  /api/v1/processes   the same figures as JSON\n"
          "\n"
          "  -l, --listen HOST:PORT  address to listen on (default 127.0.0.1:9464;\n"
          "                     [::1]:PORT for IPv6; port 0 = any free port).\n"
          "                     Only loopback unless another address is given.\n"
          "  -t, --top N        tags exported per process (default 20, 1..1000);\n"
          "                     the rest are summed as tag=\"other\".  A tag that\n"
          "                     was in the top N stays while it is in the top 2N.\n"
          "  -a, --all-users    export every tagged process this user may read\n"
          "                     (as root: every user's).  Anyone who can connect\n"
          "                     to the port (every local user, on loopback) can\n"
          "                     then read them all.\n"
          "  -w, --window W     the trailing window of the *_min_bytes and\n"
          "                     *_max_bytes gauges (default 60s, 1s..24h): the\n"
          "                     lowest and highest bytes of each exported tag and\n"
          "                     pool over at least the last W (at most W + W/12).\n"
          "                     Make it at least the scrape interval.\n"
          "  -s, --sub T        read every process's flushed totals every T for\n"
          "                     those gauges (default 50ms, 1ms..10s, at most\n"
          "                     W/12)\n"
          "  -h, --help         this text\n"
          "\n"
          "A process counts as the user's when its real, effective and saved\n"
          "uids are all the user's.  Prints \"pooltag serve: listening on\n"
          "http://HOST:PORT/\" on stderr and runs until SIGINT or SIGTERM (exit\n"
          "status 0).  Exit status 2: bad option, or the address cannot be used.\n"
          "See docs/serve.md and docs/prometheus/ for the scrape config and the\n"
          "leak alert.\n",
          f);
}

/* ---------------------------------------------------------------------- */
/* The window's sampler (serve.h: the trailing window's extremes)          */

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define MIN_SUB_NS NS_PER_MS
#define MAX_SUB_NS (10 * NS_PER_S)
#define MIN_WINDOW_NS NS_PER_S
#define MAX_WINDOW_NS (86400 * NS_PER_S)
#define RESCAN_NS NS_PER_S /* new and ended processes: looked for every second */

/* One process the sampler follows: its own source (the scrapes open
 * theirs), the cheap reading's buffers and the extremes. */
typedef struct wproc {
    uint32_t pid;
    uint64_t start_ns; /* its identity, as a scrape's reading shows it      */
    ptr_source *src;
    ptr_cur cur;
    mm_track *mm;
} wproc;

/*
 * Threads: the sampler thread alone reads the sources, adds and removes
 * processes and folds readings; scrapes (the HTTP thread) only query.
 * `lock` guards every mm_track and the list as the scrapes see it: the
 * sampler takes it to fold one reading (no I/O under it: the pread is
 * done before), to rotate the buckets, and to add or drop a process;
 * a scrape takes it to turn one process's buckets into its extremes.  So
 * a scrape never sees a half-folded reading, and waits at most for one
 * fold (a pass over the tag table, microseconds).
 */
struct sv_window {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* stop asked (CLOCK_MONOTONIC waits)         */
    int stop;
    int all_users;
    uint64_t sub_ns, bucket_ns;
    size_t n, cap;
    wproc *p;
    pthread_t thread;
};

static void wproc_free(wproc *w)
{
    ptr_close(w->src);
    ptr_cur_free(&w->cur);
    mm_free(w->mm);
}

static int listed(const uint32_t *pids, size_t n, uint32_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return 1;
    return 0;
}

/* Follow the tagged processes that appeared, drop those that are gone
 * (no longer listed, or the PID names another process now). */
static void window_rescan(sv_window *w)
{
    uint32_t *pids = NULL;
    size_t n = 0;
    char err[256];
    uid_t me = geteuid();
    if ((w->all_users ? ptr_list_tagged(&pids, &n, err, sizeof err)
                      : ptr_list_tagged_owned(me, &pids, &n, err, sizeof err)) < 0)
        return;
    for (size_t i = 0; i < w->n;) {
        if (listed(pids, n, w->p[i].pid) && ptr_alive(w->p[i].src)) {
            i++;
            continue;
        }
        wproc gone = w->p[i];
        pthread_mutex_lock(&w->lock);
        w->p[i] = w->p[--w->n];
        pthread_mutex_unlock(&w->lock);
        wproc_free(&gone);
    }
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t k = 0; k < w->n && !known; k++)
            known = w->p[k].pid == pids[i];
        if (known)
            continue;
        char spec[16];
        wproc np;
        ptr_view v;
        memset(&np, 0, sizeof np);
        snprintf(spec, sizeof spec, "%u", (unsigned)pids[i]);
        /* (a full reading first: ptr_cur_read needs the header it keeps) */
        if (ptr_open(spec, &np.src, err, sizeof err) < 0)
            continue;
        if (ptr_read(np.src, &v, err, sizeof err) < 0) {
            ptr_close(np.src);
            continue;
        }
        np.pid = pids[i];
        np.start_ns = v.start_ns;
        ptr_view_free(&v);
        if (!w->all_users && !ptr_proc_owned_by(pids[i], me)) {
            ptr_close(np.src);
            continue;
        }
        np.mm = mm_new(SV_BUCKETS);
        if (!np.mm) {
            wproc_free(&np);
            continue;
        }
        pthread_mutex_lock(&w->lock);
        if (w->n == w->cap) {
            size_t cap = w->cap ? 2 * w->cap : 16;
            wproc *p = realloc(w->p, cap * sizeof *p);
            if (p) {
                w->p = p;
                w->cap = cap;
            }
        }
        int added = w->n < w->cap;
        if (added)
            w->p[w->n++] = np;
        pthread_mutex_unlock(&w->lock);
        if (!added)
            wproc_free(&np);
    }
    free(pids);
}

static void *window_thread(void *arg)
{
    sv_window *w = arg;
    char err[256];
    uint64_t t = now_ns(CLOCK_MONOTONIC);
    uint64_t next_rotate = t + w->bucket_ns, next_scan = t, next_sub = t;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        pthread_mutex_unlock(&w->lock);
        t = now_ns(CLOCK_MONOTONIC);
        if (t >= next_scan) {
            window_rescan(w);
            next_scan = t + RESCAN_NS;
        }
        for (size_t i = 0; i < w->n; i++) {
            wproc *p = &w->p[i];
            /* A process that cannot be read now is dropped by the next
             * rescan if it is gone. */
            if (ptr_cur_read(p->src, &p->cur, err, sizeof err) < 0)
                continue;
            pthread_mutex_lock(&w->lock);
            mm_add(p->mm, &p->cur);
            pthread_mutex_unlock(&w->lock);
        }
        t = now_ns(CLOCK_MONOTONIC);
        if (t >= next_rotate) {
            /* A late rotation (a slow pass) rotates for every bucket time
             * it missed, at most once round. */
            unsigned k = 0;
            while (t >= next_rotate) {
                next_rotate += w->bucket_ns;
                k++;
            }
            if (k > SV_BUCKETS)
                k = SV_BUCKETS;
            pthread_mutex_lock(&w->lock);
            for (size_t i = 0; i < w->n; i++)
                for (unsigned j = 0; j < k; j++)
                    mm_rotate(w->p[i].mm);
            pthread_mutex_unlock(&w->lock);
        }
        /* The next reading at the next multiple of --sub (a slow pass
         * delays it, never piles readings up). */
        next_sub += w->sub_ns;
        if (next_sub < t)
            next_sub = t;
        struct timespec until = {(time_t)(next_sub / NS_PER_S),
                                 (long)(next_sub % NS_PER_S)};
        pthread_mutex_lock(&w->lock);
        while (!w->stop && pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static sv_window *window_start(uint64_t sub_ns, uint64_t window_ns, int all_users)
{
    sv_window *w = calloc(1, sizeof *w);
    pthread_condattr_t ca;
    if (!w)
        return NULL;
    w->sub_ns = sub_ns;
    w->bucket_ns = window_ns / (SV_BUCKETS - 1);
    w->all_users = all_users;
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&w->wake, &ca) != 0) {
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, window_thread, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

static void window_stop(sv_window *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    for (size_t i = 0; i < w->n; i++)
        wproc_free(&w->p[i]);
    free(w->p);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* A scrape's reading v, accounted in *out: its window's extremes. */
static void window_extremes_of(sv_window *w, const ptr_view *v, sv_proc *out)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++)
        if (w->p[i].pid == v->pid && w->p[i].start_ns == v->start_ns) {
            sv_extremes(out, v, w->p[i].mm);
            break;
        }
    pthread_mutex_unlock(&w->lock);
}

/* ---------------------------------------------------------------------- */
/* The live collector                                                      */

int sv_collect_live(sv_state *st, int all_users, sv_window *w, sv_scrape *out)
{
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    uint32_t *pids = NULL;
    size_t n = 0;
    char err[256];

    uid_t me = geteuid();
    memset(out, 0, sizeof *out);
    if ((all_users ? ptr_list_tagged(&pids, &n, err, sizeof err)
                   : ptr_list_tagged_owned(me, &pids, &n, err, sizeof err)) < 0)
        return -1;
    out->procs = calloc(n + 1, sizeof *out->procs);
    if (!out->procs) {
        free(pids);
        return -1;
    }
    sv_state_begin(st);
    for (size_t i = 0; i < n; i++) {
        char spec[16];
        ptr_source *src = NULL;
        ptr_view v;
        snprintf(spec, sizeof spec, "%u", (unsigned)pids[i]);
        if (ptr_open(spec, &src, err, sizeof err) < 0) {
            /* Gone between the listing and the opening: simply skipped. */
            if (ptp_exists(pids[i], NULL)) {
                ++*sv_state_read_errors(st);
                sv_state_keep(st, pids[i]);
            }
            continue;
        }
        if (ptr_read(src, &v, err, sizeof err) < 0) {
            if (ptr_alive(src)) {
                ++*sv_state_read_errors(st);
                sv_state_keep(st, pids[i]);
            }
            ptr_close(src);
            continue;
        }
        if (!all_users && !ptr_proc_owned_by(pids[i], me)) {
            /* The PID now names another user's process (reused, or the
             * process changed its uids): not exported. */
            ptr_view_free(&v);
            ptr_close(src);
            continue;
        }
        if (sv_account(st, &v, &out->procs[out->nprocs]) == 0) {
            window_extremes_of(w, &v, &out->procs[out->nprocs]);
            out->nprocs++;
        }
        else
            ++*sv_state_read_errors(st);
        ptr_view_free(&v);
        ptr_close(src);
    }
    sv_state_end(st);
    free(pids);
    out->top = sv_state_top(st);
    out->read_errors_total = *sv_state_read_errors(st);
    out->time_ms = now_ns(CLOCK_REALTIME) / 1000000u;
    out->seconds = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    return 0;
}

static int collect(sv_server *srv, sv_scrape *out)
{
    return sv_collect_live(srv->st, srv->all_users, srv->arg, out);
}

/* ---------------------------------------------------------------------- */
/* The listen socket                                                       */

/* Split HOST:PORT ([V6]:PORT) into host and port; -1 when malformed. */
static int split_listen(const char *spec, char *host, size_t hostsz,
                        char *port, size_t portsz)
{
    const char *colon, *h = spec;
    size_t hl;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return -1;
        h = spec + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
            return -1;
        hl = (size_t)(colon - spec);
    }
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (hl == 0 || hl >= hostsz || pl == 0 || pl > 5 || pl >= portsz ||
        strspn(p, "0123456789") != pl || atoi(p) > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, p, pl + 1);
    return 0;
}

/* Bind and listen; on failure prints the one-line error and returns -1.
 * url gets "http://HOST:PORT/" with the port actually bound. */
static int open_listen(const char *spec, char *url, size_t urlsz)
{
    char host[256], port[8];
    struct addrinfo hints, *res = NULL;
    if (split_listen(spec, host, sizeof host, port, sizeof port) < 0) {
        cli_err(VERB,
                "--listen wants HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, "
                "port 0 = any free port), not '%s'",
                spec);
        return -1;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0 || !res) {
        cli_err(VERB, "--listen %s: cannot resolve '%s' (%s); give an IP "
                      "address such as 127.0.0.1",
                spec, host, gai ? gai_strerror(gai) : "no address");
        if (res)
            freeaddrinfo(res);
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
                    res->ai_protocol);
    int one = 1;
    if (fd < 0) {
        cli_err(VERB, "--listen %s: cannot create a socket: %s", spec,
                strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        if (e == EADDRINUSE)
            cli_err(VERB, "%s is in use: choose another port with --listen "
                          "HOST:PORT (port 0 = any free port)",
                    spec);
        else if (e == EADDRNOTAVAIL)
            cli_err(VERB, "--listen %s: not an address of this machine", spec);
        else
            cli_err(VERB, "--listen %s: cannot listen: %s", spec, strerror(e));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);

    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char numhost[INET6_ADDRSTRLEN + 2], numport[8];
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, numhost, sizeof numhost,
                    numport, sizeof numport,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        cli_err(VERB, "--listen %s: cannot read the bound address", spec);
        close(fd);
        return -1;
    }
    snprintf(url, urlsz, ss.ss_family == AF_INET6 ? "http://[%s]:%s/"
                                                  : "http://%s:%s/",
             numhost, numport);
    return fd;
}

/* ---------------------------------------------------------------------- */

/* A duration option's value within [lo, hi]; else the one-line error. */
static int duration_opt(const char *opt, const char *arg, uint64_t lo, uint64_t hi,
                        const char *range, uint64_t *ns)
{
    if (cli_parse_duration(arg, ns) < 0 || *ns < lo || *ns > hi) {
        cli_err(VERB, "%s wants a duration %s, not '%s'", opt, range, arg);
        return -1;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"top", required_argument, NULL, 't'},
        {"all-users", no_argument, NULL, 'a'},
        {"window", required_argument, NULL, 'w'},
        {"sub", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_spec = "127.0.0.1:9464";
    uint64_t top = SV_TOP_DEFAULT;
    uint64_t window = SV_WINDOW_DEFAULT_NS, sub = SV_SUB_DEFAULT_NS;
    const char *window_arg = NULL, *sub_arg = NULL;
    int all_users = 0;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:t:aw:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_spec = optarg; break;
        case 't':
            if (cli_parse_u64(optarg, &top) < 0 || top < 1 ||
                top > SV_TOP_MAX) {
                cli_err(VERB, "--top wants a number of tags from 1 to %d, "
                              "not '%s'",
                        SV_TOP_MAX, optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'a': all_users = 1; break;
        case 'w':
            window_arg = optarg;
            if (duration_opt("--window", optarg, MIN_WINDOW_NS, MAX_WINDOW_NS,
                             "from 1s to 24h (e.g. 60s, 5m)", &window) < 0)
                return PT_EXIT_USAGE;
            break;
        case 's':
            sub_arg = optarg;
            if (duration_opt("--sub", optarg, MIN_SUB_NS, MAX_SUB_NS,
                             "from 1ms to 10s (e.g. 50ms, 0.1)", &sub) < 0)
                return PT_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_err(VERB, "unexpected argument '%s': serve reads every tagged "
                      "process (see pooltag serve --help)",
                argv[optind]);
        return PT_EXIT_USAGE;
    }
    if (sub > window / (SV_BUCKETS - 1)) {
        cli_err(VERB, "--sub %s is longer than a twelfth of --window %s (the "
                      "window is kept in 12 parts): give a shorter --sub or a "
                      "longer --window",
                sub_arg ? sub_arg : "50ms", window_arg ? window_arg : "60s");
        return PT_EXIT_USAGE;
    }

    /* SIGINT/SIGTERM are taken by sigwait below; blocked before the
     * server's and the sampler's threads start so that they inherit the
     * mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    char url[300];
    int fd = open_listen(listen_spec, url, sizeof url);
    if (fd < 0)
        return PT_EXIT_USAGE;
    sv_server srv;
    memset(&srv, 0, sizeof srv);
    srv.st = sv_state_new((size_t)top);
    srv.collect = collect;
    srv.all_users = all_users;
    sv_window *win = srv.st ? window_start(sub, window, all_users) : NULL;
    srv.arg = win;
    struct MHD_Daemon *d = win ? sv_start(&srv, fd) : NULL;
    if (!d) {
        cli_err(VERB, "cannot start the HTTP server on %s", listen_spec);
        close(fd);
        window_stop(win);
        sv_state_free(srv.st);
        return PT_EXIT_USAGE;
    }
    fprintf(stderr, "pooltag serve: listening on %s\n", url);
    fflush(stderr);

    /* Wait for SIGINT/SIGTERM, ending the connections past their request
     * deadline every second meanwhile. */
    const struct timespec tick = {1, 0};
    while (sigtimedwait(&stop, NULL, &tick) < 0)
        sv_sweep(&srv);
    MHD_stop_daemon(d); /* closes the listen socket too */
    window_stop(win);
    sv_state_free(srv.st);
    return PT_EXIT_OK;
}
