/*
 * serve_http.c — the HTTP side of `pooltag serve` (libmicrohttpd).
 *
 * Routes: GET/HEAD /  (the dashboard page), /metrics (Prometheus text
 * 0.0.4, or OpenMetrics 1.0 when the Accept header asks for it),
 * /api/v1/processes (JSON for the page).  Any other path: 404; any other
 * method: 405 with Allow.  Every response is built in one call of the
 * handler (a request body is never read).  Robustness comes from MHD's
 * limits set in sv_start: connections, per-connection memory (which bounds
 * the request line and headers: larger requests get 431/413), and an idle
 * timeout that ends slow or stalled clients.  One internal polling thread
 * serves every connection, so the accounting state needs no lock.
 */
#include "serve.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define SV_CONN_LIMIT 64
#define SV_CONN_TIMEOUT 10        /* seconds of inactivity              */
#define SV_CONN_MEMORY (32 * 1024) /* request line + headers + buffers */

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
    if (fd >= 0)
        return MHD_start_daemon(
            MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, handle, srv,
            MHD_OPTION_LISTEN_SOCKET, fd,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)SV_CONN_LIMIT,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SV_CONN_TIMEOUT,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SV_CONN_MEMORY,
            MHD_OPTION_END);
    return MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, handle, srv,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)SV_CONN_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SV_CONN_TIMEOUT,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SV_CONN_MEMORY,
        MHD_OPTION_END);
}
