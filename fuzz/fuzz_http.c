/*
 * fuzz_http.c — libFuzzer target for the request path of `pooltag serve`.
 *
 * Every input is
 *   1. a raw HTTP request: written through a socketpair into an MHD daemon
 *      that has no listen socket (MHD_add_connection, external polling with
 *      a bounded number of MHD_run rounds), answered by the real handler
 *      of serve_http.c, whose collector (below) builds a synthetic process
 *      out of the same bytes;
 *   2. an Accept header for sv_accept_openmetrics;
 *   3. a process (command name, tags, counters) accounted twice and
 *      rendered in the three formats, which must stay well formed: every
 *      line of the metrics has balanced quotes, no control character
 *      reaches any output, and the JSON never holds a raw byte < 0x20 in
 *      a string.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char sv_page_html[] = "<!DOCTYPE html><title>fuzz</title>";

static const uint8_t *g_data;
static size_t g_size;
static sv_server g_srv;
static struct MHD_Daemon *g_d;

/* A process made of the input: comm from the first 16 bytes, then per
 * 12 bytes a tag (4) and counters (8, spread over both pools). */
static void make_view(const uint8_t *d, size_t n, ptr_view *v,
                      pt_tag_info *tags, size_t max)
{
    memset(v, 0, sizeof *v);
    v->pid = 4242;
    v->start_ns = 1;
    size_t c = n < 16 ? n : 16;
    memcpy(v->comm, d, c);
    v->comm[c] = 0;
    v->proc.valid = 1;
    v->proc.rss_kb = 1;
    size_t k = 0;
    for (size_t off = 16; off + 12 <= n && k < max; off += 12, k++) {
        pt_tag_info *t = &tags[k];
        memset(t, 0, sizeof *t);
        memcpy(&t->tag, d + off, 4);
        if (!t->tag)
            t->tag = 1;
        for (int p = 0; p < PT_POOL_COUNT; p++) {
            pt_counts *pc = &t->pool[p];
            pc->allocs = d[off + 4 + p];
            pc->frees = d[off + 6 + p] % (pc->allocs + 1);
            pc->bytes_alloc = (uint64_t)d[off + 8 + p] << 10;
            pc->bytes_freed = pc->bytes_alloc * pc->frees / (pc->allocs + 1);
            pc->failures = d[off + 10 + p] & 3;
            v->pool[p].allocs += pc->allocs;
            v->pool[p].bytes_alloc += pc->bytes_alloc;
            v->pool[p].bytes_freed += pc->bytes_freed;
        }
    }
    v->ntags = k;
    v->tags = tags;
}

static int fuzz_collect(sv_server *srv, sv_scrape *out)
{
    pt_tag_info tags[64];
    ptr_view v;
    (void)srv;
    memset(out, 0, sizeof *out);
    sv_state *st = sv_state_new(1 + (g_size ? g_data[0] % 4 : 0));
    out->procs = calloc(1, sizeof *out->procs);
    if (!st || !out->procs) {
        sv_state_free(st);
        free(out->procs);
        out->procs = NULL;
        return -1;
    }
    make_view(g_data, g_size, &v, tags, 64);
    sv_state_begin(st);
    if (sv_account(st, &v, &out->procs[0]) == 0)
        out->nprocs = 1;
    sv_state_end(st);
    out->top = sv_state_top(st);
    sv_state_free(st);
    return 0;
}

static void check_output(const sv_buf *b, int format)
{
    if (b->failed || !b->p)
        return;
    int quotes = 0;
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->p[i];
        if (c < 0x20 && c != '\n')
            __builtin_trap();
        if (format == SV_JSON)
            continue;
        if (c == '\\') {
            i++;               /* an escape: the next byte is taken */
            if (i >= b->len || (b->p[i] != '\\' && b->p[i] != '"' &&
                                b->p[i] != 'n'))
                __builtin_trap();
        } else if (c == '"') {
            quotes++;
        } else if (c == '\n') {
            if (quotes % 2)
                __builtin_trap(); /* a line ended inside a label value */
            quotes = 0;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    g_srv.collect = fuzz_collect;
    g_d = sv_start(&g_srv, -1);
    if (!g_d)
        abort();
    return 0;
}

static void http_round(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return;
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(40000);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(g_d, sv[0], (struct sockaddr *)&sa,
                           sizeof sa) != MHD_YES) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    size_t off = 0;
    int idle = 0;
    char buf[65536];
    for (int round = 0; round < 400 && idle < 4; round++) {
        int progress = 0;
        if (off < size) {
            ssize_t n = write(sv[1], data + off, size - off);
            if (n > 0)
                off += (size_t)n, progress = 1;
        }
        MHD_run(g_d);
        for (;;) {
            ssize_t n = read(sv[1], buf, sizeof buf);
            if (n > 0) {
                progress = 1;
                continue;
            }
            if (n == 0)
                idle = 99; /* the server closed the connection */
            break;
        }
        idle = progress ? 0 : idle + 1;
    }
    close(sv[1]);
    for (int round = 0; round < 50; round++) {
        MHD_run(g_d);
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(g_d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (info && info->num_connections == 0)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    g_data = data;
    g_size = size;

    char *accept = malloc(size + 1);
    if (accept) {
        memcpy(accept, data, size);
        accept[size] = 0;
        (void)sv_accept_openmetrics(accept);
        free(accept);
    }

    sv_scrape s;
    if (fuzz_collect(&g_srv, &s) == 0) {
        for (int f = SV_PROM; f <= SV_JSON; f++) {
            sv_buf b = {0};
            sv_render(&s, f, &b);
            check_output(&b, f);
            free(b.p);
        }
        sv_scrape_free(&s);
    }

    http_round(data, size);
    return 0;
}
