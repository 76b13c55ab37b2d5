/*
 * serve_http.c — the HTTP side of `pooltag serve` (libmicrohttpd).
 *
 * Routes: GET/HEAD /  (the dashboard page), /metrics (Prometheus text
 * 0.0.4, or OpenMetrics 1.0 when the Accept header asks for it),
 * /api/v1/processes (JSON for the page).  Any other path: 404; any other
 * method: 405 with Allow.  Every response is built in one call of the
 * handler (a request body is never read).  Robustness comes from MHD's
 * limits set in sv_start: per-connection memory (which bounds the request
 * line and headers: larger requests get 431/413) and an idle timeout that
 * ends stalled clients; and from our connection table (sv_conn, filled by
 * MHD's connection notifications):
 *  - a request deadline: the headers of a request must have arrived
 *    SV_REQUEST_DEADLINE seconds after the connection was accepted or its
 *    previous response was sent, and the whole request (any body, the
 *    response) SV_REPLY_DEADLINE seconds after that, else the connection is
 *    shut down — a client that trickles a byte at a time, which the idle
 *    timeout never ends, cannot keep its connection;
 *  - a free slot for every newcomer: at SV_CONN_LIMIT connections, a new
 *    one evicts the oldest connection still waiting for its headers (else
 *    the oldest of all), so clients that hold every connection cannot keep
 *    a scrape out — all local clients share 127.0.0.1, so a limit per IP
 *    would not help.  A scrape sends its whole request at once and is
 *    answered as soon as it is read; only the oldest waiting connections
 *    are pushed out.
 * Connections are ended with shutdown(): MHD sees the end of the stream
 * and closes them itself.  The table has a lock because sv_sweep runs in
 * serve's main thread; one internal polling thread serves every
 * connection, so the accounting state needs no lock.
 */
#include "serve.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SV_CONN_TIMEOUT 10        /* seconds of inactivity              */
#define SV_CONN_MEMORY (32 * 1024) /* request line + headers + buffers */
#define SV_REQUEST_DEADLINE 5     /* seconds to send a request's headers */
#define SV_REPLY_DEADLINE 30      /* seconds then to finish the request */

/* ---------------------------------------------------------------------- */
/* The connection table                                                    */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Shut a connection down; MHD closes it when it sees the end.  Called
 * with the lock held, between MHD's "started" and "closed" notifications,
 * so the descriptor is still the connection's. */
static void end_conn(sv_conn *c)
{
    if (c->evicted)
        return;
    c->evicted = 1;
    shutdown(c->fd, SHUT_RDWR);
}

static void sweep_locked(sv_server *srv, uint64_t now)
{
    for (int i = 0; i < SV_CONN_SLOTS; i++) {
        sv_conn *c = &srv->conn[i];
        uint64_t limit = c->receiving ? SV_REQUEST_DEADLINE * 1000u
                                      : SV_REPLY_DEADLINE * 1000u;
        if (c->used && !c->evicted && now - c->since_ms > limit)
            end_conn(c);
    }
}

void sv_sweep(sv_server *srv)
{
    pthread_mutex_lock(&srv->conn_lock);
    sweep_locked(srv, mono_ms());
    pthread_mutex_unlock(&srv->conn_lock);
}

/* At the limit: end the oldest connection still waiting for its headers,
 * or else the oldest one. */
static void evict_locked(sv_server *srv)
{
    sv_conn *oldest = NULL;
    for (int pass = 0; pass < 2 && !oldest; pass++)
        for (int i = 0; i < SV_CONN_SLOTS; i++) {
            sv_conn *c = &srv->conn[i];
            if (!c->used || c->evicted || (pass == 0 && !c->receiving))
                continue;
            if (!oldest || c->since_ms < oldest->since_ms)
                oldest = c;
        }
    if (oldest)
        end_conn(oldest);
}

static void notify_conn(void *cls, struct MHD_Connection *con,
                        void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    sv_server *srv = cls;
    sv_conn *c = *socket_context;
    pthread_mutex_lock(&srv->conn_lock);
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (c)
            memset(c, 0, sizeof *c);
        *socket_context = NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
        uint64_t now = mono_ms();
        int live = 0;
        sv_conn *free_slot = NULL;
        sweep_locked(srv, now);
        for (int i = 0; i < SV_CONN_SLOTS; i++) {
            if (!srv->conn[i].used)
                free_slot = free_slot ? free_slot : &srv->conn[i];
            else if (!srv->conn[i].evicted)
                live++;
        }
        if (live >= SV_CONN_LIMIT)
            evict_locked(srv);
        /* No slot (cannot happen: MHD's limit is the table's size) or no
         * descriptor: the connection is left to MHD's own limits. */
        if (free_slot && ci) {
            *free_slot = (sv_conn){.used = 1,
                                   .fd = (int)ci->connect_fd,
                                   .receiving = 1,
                                   .since_ms = now};
            *socket_context = free_slot;
        }
    }
    pthread_mutex_unlock(&srv->conn_lock);
}

static sv_conn *conn_of(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* A request's headers are in (receiving = 0), or its response has been
 * sent and the next request may start (receiving = 1). */
static void conn_phase(sv_server *srv, struct MHD_Connection *con,
                       int receiving)
{
    sv_conn *c = conn_of(con);
    if (!c)
        return;
    pthread_mutex_lock(&srv->conn_lock);
    if (c->used) {
        c->receiving = receiving;
        c->since_ms = mono_ms();
    }
    pthread_mutex_unlock(&srv->conn_lock);
}

static void request_done(void *cls, struct MHD_Connection *con,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)con_cls;
    (void)toe;
    conn_phase(cls, con, 1);
}

/* ---------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *con, unsigned status,
                             const char *ctype, char *body, size_t len,
                             enum MHD_ResponseMemoryMode mode,
                             const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (strncmp(ctype, "text/html", 9) == 0)
        /* The page is self-contained: nothing may be loaded from
         * elsewhere, and it talks only to this server. */
        MHD_add_response_header(
            r, "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
    enum MHD_Result ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *con,
                                  unsigned status, const char *text,
                                  const char *allow)
{
    return reply(con, status, "text/plain; charset=utf-8", (char *)text,
                 strlen(text), MHD_RESPMEM_PERSISTENT, allow);
}

static enum MHD_Result reply_scrape(sv_server *srv,
                                    struct MHD_Connection *con, int format)
{
    sv_scrape s;
    sv_buf b = {0};
    memset(&s, 0, sizeof s);
    if (srv->collect(srv, &s) < 0)
        return reply_text(con, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "pooltag serve: cannot read the processes\n", NULL);
    sv_render(&s, format, &b);
    sv_scrape_free(&s);
    if (b.failed || !b.p) {
        free(b.p);
        return reply_text(con, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "pooltag serve: out of memory\n", NULL);
    }
    const char *ct = format == SV_JSON ? "application/json; charset=utf-8"
                     : format == SV_OPENMETRICS ? SV_CT_OPENMETRICS
                                                : SV_CT_PROM;
    return reply(con, MHD_HTTP_OK, ct, b.p, b.len, MHD_RESPMEM_MUST_FREE,
                 NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    static int answered;
    sv_server *srv = cls;
    (void)version;
    (void)upload_data;
    if (*con_cls) {
        /* A body after the answer was queued: discard it. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    *con_cls = &answered;
    srv->requests++;
    conn_phase(srv, con, 0);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(con, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "method not allowed: use GET or HEAD\n",
                          "GET, HEAD");
    if (strcmp(url, "/") == 0)
        return reply(con, MHD_HTTP_OK, "text/html; charset=utf-8",
                     (char *)sv_page_html, strlen(sv_page_html),
                     MHD_RESPMEM_PERSISTENT, NULL);
    if (strcmp(url, "/metrics") == 0) {
        const char *acc =
            MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Accept");
        return reply_scrape(srv, con,
                            sv_accept_openmetrics(acc) ? SV_OPENMETRICS
                                                       : SV_PROM);
    }
    if (strcmp(url, "/api/v1/processes") == 0)
        return reply_scrape(srv, con, SV_JSON);
    return reply_text(con, MHD_HTTP_NOT_FOUND,
                      "not found: pooltag serve answers /, /metrics and "
                      "/api/v1/processes\n",
                      NULL);
}

struct MHD_Daemon *sv_start(sv_server *srv, int fd)
{
    memset(srv->conn, 0, sizeof srv->conn);
    if (pthread_mutex_init(&srv->conn_lock, NULL) != 0)
        return NULL;
    if (fd >= 0)
        return MHD_start_daemon(
            MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, handle, srv,
            MHD_OPTION_LISTEN_SOCKET, fd,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)SV_CONN_SLOTS,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SV_CONN_TIMEOUT,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SV_CONN_MEMORY,
            MHD_OPTION_NOTIFY_CONNECTION, notify_conn, srv,
            MHD_OPTION_NOTIFY_COMPLETED, request_done, srv,
            MHD_OPTION_END);
    return MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, handle, srv,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)SV_CONN_SLOTS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SV_CONN_TIMEOUT,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SV_CONN_MEMORY,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn, srv,
        MHD_OPTION_NOTIFY_COMPLETED, request_done, srv,
        MHD_OPTION_END);
}
