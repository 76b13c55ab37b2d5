/*
 * serve.c — `pooltag serve`: a Prometheus/OpenMetrics exporter and live
 * dashboard for every tagged process of the user.
 *
 * This file holds the verb: options, the listen socket (made here so that
 * "address in use" and friends are reported precisely), the live collector
 * (ptr_list_tagged + ptr_open/ptr_read per scrape) and the wait for
 * SIGINT/SIGTERM.  The HTTP routes are in serve_http.c, the accounting and
 * the output formats in serve_metrics.c, the page in serve_page.c; the
 * model is described in serve.h.
 */
#include "verbs.h"
#include "serve.h"
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
/* The live collector                                                      */

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sv_collect_live(sv_state *st, int all_users, sv_scrape *out)
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
        if (sv_account(st, &v, &out->procs[out->nprocs]) == 0)
            out->nprocs++;
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
    return sv_collect_live(srv->st, srv->all_users, out);
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

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"top", required_argument, NULL, 't'},
        {"all-users", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_spec = "127.0.0.1:9464";
    uint64_t top = SV_TOP_DEFAULT;
    int all_users = 0;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:t:ah", opts, NULL)) != -1) {
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

    /* SIGINT/SIGTERM are taken by sigwait below; blocked before the
     * server's thread starts so that it inherits the mask. */
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
    struct MHD_Daemon *d = srv.st ? sv_start(&srv, fd) : NULL;
    if (!d) {
        cli_err(VERB, "cannot start the HTTP server on %s", listen_spec);
        close(fd);
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
    sv_state_free(srv.st);
    return PT_EXIT_OK;
}
