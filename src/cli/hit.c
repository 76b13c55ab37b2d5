/*
 * hit.c — `pooltag hit`: Windows' PoolHitTag for a running process.
 *
 *   pooltag hit PID TAG... [--ring N] [--trap]   record stacks of these tags
 *   pooltag hit PID --off                        stop recording
 *   pooltag hit --show SOURCE [--follow] [--tag T] [--address A] [--json]
 *
 * Data model
 * ----------
 * Changing: the tag patterns (1..PT_CTL_HIT_MAX, each checked against the
 * tags the process has: a pattern that matches none is an error and
 * nothing is written), the trap flag and the ring size go into the control
 * block through ptr_control_change (src/reader/control.c: /proc/PID/mem
 * opened for writing, the kernel's ptrace rule).  An exact tag is written
 * in its 4-character text form ("Se" -> "Se  "), a pattern as given.
 *
 * Showing: the hit ring (ptr_trace_ring: records whose seq was consistent,
 * oldest first; torn ones and ones overwritten before they were read are
 * counted and said) with each record's stack symbolized through
 * stacks.h.  --follow polls the ring (every 200 ms) from the index after
 * the last record printed, like tail -f, until SIGINT/SIGTERM or the
 * target's exit (then status 0).
 */
#include "verbs.h"
#include "stacks.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *VERB = "hit";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: pooltag hit PID TAG... [--ring N] [--trap]\n"
        "       pooltag hit PID --off\n"
        "       pooltag hit --show SOURCE [--follow] [--tag T] [--address A] [--json]\n"
        "\n"
        "Like Windows' PoolHitTag: the running process records the call stack of\n"
        "every allocation and free of the tags matching TAG ('*', '?'; 1 to %u\n"
        "patterns) in its hit ring, and --show prints them, newest last:\n"
        "time, thread, operation, address, size, tag, then the stack as\n"
        "module!function+offset and file:line where debuginfo exists.\n"
        "\n"
        "Options:\n"
        "  --ring N         use N records of the hit ring (at most the ring's\n"
        "                   capacity, PT_HIT_RING at start; without it the\n"
        "                   size stays as it is); a new size restarts the ring\n"
        "  --trap           also stop the thread at each event (SIGTRAP) for a\n"
        "                   debugger; prints the gdb command that attaches\n"
        "  --off            stop recording (the ring keeps what it has)\n"
        "  --show SOURCE    print the ring of a PID or a snapshot file\n"
        "  --follow         with --show PID: print new records as they come,\n"
        "                   like tail -f, until interrupted or the process exits\n"
        "  --tag T          with --show: only tags matching T\n"
        "  --address A      with --show: only records of the block containing\n"
        "                   A (hex 0x... or decimal)\n"
        "  --json           with --show: JSON (--follow: one object per line)\n"
        "  -h, --help       this text\n"
        "\n"
        "A pattern that matches no tag the process has used is an error and\n"
        "nothing is changed (to record a tag from its first allocation, start\n"
        "with pooltag run --hit TAG).  Changing a process needs the right to\n"
        "ptrace it: its owner or root.\n"
        "\n"
        "Exit status: 0 ok, 2 usage or input error (nothing changed).\n",
        PT_CTL_HIT_MAX);
}

/* ---------------------------------------------------------------------- */
/* Changing                                                               */

typedef struct hit_change {
    int off, trap;
    uint32_t ring;               /* 0: keep (or all, when unset)          */
    int npat;
    char pat[PT_CTL_HIT_MAX][PT_CTL_PAT_LEN];
    uint32_t matched;            /* tags of the reading that match        */
} hit_change;

static int tag_matches(uint32_t tag, const char *pat)
{
    char *incl[2] = {(char *)pat, NULL};
    return cli_tag_selected(tag, incl, NULL);
}

static int edit_hit(pt_seg_control *c, const ptr_view *v, const ptr_trace *t,
                    void *arg, char *err, size_t errlen)
{
    const hit_change *h = arg;
    (void)v;
    uint32_t cap = t->ring[PT_RING_HIT].cap;
    if (h->ring > cap)
        return ptr__fail(err, errlen,
                         "--ring %" PRIu32 ": the hit ring has %" PRIu32 " records "
                         "(reserved at start: raise PT_HIT_RING)", h->ring, cap);
    if (h->off) {
        c->hit_n = 0;
        memset(c->hit_pat, 0, sizeof c->hit_pat);
        c->hit_flags = 0;
        return 0;
    }
    memset(c->hit_pat, 0, sizeof c->hit_pat);
    for (int i = 0; i < h->npat; i++)
        memcpy(c->hit_pat[i], h->pat[i], PT_CTL_PAT_LEN);
    c->hit_n = (uint32_t)h->npat;
    c->hit_flags = h->trap ? PT_HITF_TRAP : 0;
    if (h->ring)
        c->hit_ring = h->ring;
    else if (c->hit_ring == 0 || c->hit_ring > cap)
        c->hit_ring = cap;
    if (c->depth == 0)
        c->depth = t->hdr.max_depth < 32 ? t->hdr.max_depth : 32;
    return 0;
}

static int do_change(const char *spec, char **words, int nwords, hit_change *h)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    char err[512];
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (!*spec || strspn(spec, "0123456789") != strlen(spec)) {
        cli_err(VERB, "'%s' is not a PID: hit changes a running process (to "
                "read a snapshot: pooltag hit --show FILE)", spec);
        return PT_EXIT_USAGE;
    }
    for (int i = 0; i < nwords; i++) {
        const char *w = words[i];
        size_t n = strlen(w);
        if (n == 0 || n >= PT_CTL_PAT_LEN) {
            cli_err(VERB, "bad tag pattern '%s': 1 to %u characters", w,
                    PT_CTL_PAT_LEN - 1);
            return PT_EXIT_USAGE;
        }
        if (strpbrk(w, "*?")) {
            memcpy(h->pat[i], w, n + 1);
        } else {
            uint32_t tag;
            if (pt_tag_parse(w, &tag) < 0) {
                cli_err(VERB, "bad tag '%s': a tag is 1 to 4 characters (\\xNN "
                        "escapes allowed), such as Leak or Se; patterns take * and ?", w);
                return PT_EXIT_USAGE;
            }
            char text[PT_TAG_TEXT_MAX];
            pt_tag_text(tag, text);
            if (strlen(text) >= PT_CTL_PAT_LEN) {
                cli_err(VERB, "bad tag '%s': its text form is too long", w);
                return PT_EXIT_USAGE;
            }
            snprintf(h->pat[i], PT_CTL_PAT_LEN, "%s", text);
        }
    }
    h->npat = nwords;
    if (cli_read_trace(VERB, spec, &v, &src, &t) != PT_EXIT_OK)
        goto out;
    if (!t.present) {
        cli_err(VERB, "process %s (%s) has no hit ring: its pooltag runtime "
                "predates hit tags", spec, cli_esc(v.comm));
        goto out;
    }
    if (t.ring[PT_RING_HIT].cap == 0) {
        cli_err(VERB, "process %s (%s) reserved no hit ring (PT_HIT_RING)", spec,
                cli_esc(v.comm));
        goto out;
    }
    /* Every pattern must name a tag the process has. */
    for (int i = 0; i < h->npat; i++) {
        uint32_t m = 0;
        for (size_t k = 0; k < v.ntags; k++)
            m += tag_matches(v.tags[k].tag, words[i]);
        if (!m) {
            cli_err(VERB, "'%s' matches no tag of process %s (%s): nothing "
                    "changed (see pooltag used %s; to record a tag from its first "
                    "allocation, start with pooltag run --hit)", words[i], spec,
                    cli_esc(v.comm), spec);
            goto out;
        }
    }
    for (size_t k = 0; k < v.ntags; k++)
        for (int i = 0; i < h->npat; i++)
            if (tag_matches(v.tags[k].tag, words[i])) {
                h->matched++;
                break;
            }
    ptr_control_result res;
    if (ptr_control_change(src, &v, &t, edit_hit, h, 1000, &res, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        goto out;
    }
    printf("process %s (%s): ", spec, cli_esc(v.comm));
    if (h->off) {
        printf("hit tags off");
    } else {
        printf("hit tags");
        for (int i = 0; i < h->npat; i++)
            printf(" '%s'", cli_esc(h->pat[i]));
        printf(" (%" PRIu32 " tag%s now), ring of %" PRIu32 " records%s", h->matched,
               h->matched == 1 ? "" : "s", res.after.hit_ring,
               h->trap ? ", trap on" : "");
    }
    printf(" (generation %" PRIu64 ")\n", res.gen);
    if (h->off)
        status = cli_change_outcome(VERB, &res, NULL);
    else
        status = cli_change_outcome(VERB, &res, "applied: %" PRIu32 " tag%s match",
                                    res.after.hit_matched,
                                    res.after.hit_matched == 1 ? "" : "s");
    if (h->trap && !h->off)
        printf("each event stops the thread with SIGTRAP; to see its stack "
               "(the debugger's bp \"k;g\"):\n  gdb -p %s -ex 'handle SIGTRAP stop "
               "print nopass' -ex continue    (then at each stop: bt, continue)\n",
               spec);
out:
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    if (fflush(stdout) != 0)
        status = PT_EXIT_USAGE;
    return status;
}

/* ---------------------------------------------------------------------- */
/* Showing                                                                */

typedef struct show_opts {
    const char *tag;             /* pattern, or NULL                      */
    int have_addr;
    uint64_t addr;
    int follow, json;
} show_opts;

static volatile sig_atomic_t stop_flag;
static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int rec_selected(const show_opts *o, const pt_seg_rec *r)
{
    if (o->tag && !tag_matches(r->tag, o->tag))
        return 0;
    if (o->have_addr) {
        if (r->size ? o->addr < r->addr || o->addr - r->addr >= r->size
                    : o->addr != r->addr)
            return 0;
    }
    return 1;
}

/* One record and its stack (JSON: an element of "records", or with
 * `alone` 1 a document on one line; 2 is that document's own pass). */
static int print_rec(emitter *e, ptr_trace *t, sym_ctx *sc, const pt_seg_rec *r,
                     int alone)
{
    char tt[64], tg[PT_TAG_TEXT_MAX], err[256];
    uint64_t fr[PT_SEG_DEPTH_LIMIT];
    uint32_t d = 0;
    int bad = ptr_trace_stack(t, r->stack, fr, &d, err, sizeof err) < 0;
    const char *op = r->op == PT_OP_ALLOC ? "alloc" : "free";
    if (emit_json(e) && alone == 1) {
        /* JSON Lines: the record as one document on one line.  The
         * emitter's line breaks are all between members (a string's
         * newlines are escaped), so dropping them keeps the JSON. */
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
            return -1;
        emitter one;
        emit_init(&one, m, EMIT_JSON);
        print_rec(&one, t, sc, r, 2);
        if (fclose(m) != 0) {
            free(buf);
            return -1;
        }
        for (size_t i = 0; i < len; i++)
            if (buf[i] != '\n')
                putc(buf[i], e->f);
        putc('\n', e->f);
        free(buf);
        return 0;
    }
    if (emit_json(e)) {
        if (alone)
            emit_begin(e);
        else
            emit_obj_begin(e, NULL);
        emit_kv_u64(e, "index", r->seq - 1);
        emit_kv_u64(e, "time_ns", r->time_ns);
        emit_kv_u64(e, "tid", r->tid);
        emit_kv_str(e, "op", op);
        emit_kv_hex(e, "addr", r->addr);
        emit_kv_u64(e, "size", r->size);
        emit_kv_tag(e, "tag", r->tag);
        emit_kv_str(e, "pool", r->pool ? "nonpaged" : "paged");
        emit_kv_u64(e, "stack_id", r->stack);
        if (bad)
            emit_kv_str(e, "stack_error", err);
        cli_emit_stack(e, sc, fr, d, "");
        if (alone)
            emit_end(e);
        else
            emit_obj_end(e);
    } else {
        emit_text(e, "%s  tid %-7" PRIu32 " %-5s 0x%012" PRIx64 " %10" PRIu64 "  %-4s%s%s\n",
                  cli_time_text(r->time_ns, tt, sizeof tt), r->tid, op, r->addr, r->size,
                  cli_tag(r->tag, tg), r->pool ? "  nonpaged" : "",
                  r->stack ? "" : "  (no stack: capture off or stack table full)");
        if (bad)
            emit_text(e, "    (stack unreadable: %s)\n", err);
        cli_emit_stack(e, sc, fr, d, "    ");
    }
    return 0;
}

static int do_show(const char *spec, const show_opts *o)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    ptr_ring_read r;
    sym_ctx *sc = NULL;
    char err[512];
    const char *with = "none";
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    memset(&r, 0, sizeof r);
    if (cli_read(VERB, spec, &v, &src) != PT_EXIT_OK)
        return PT_EXIT_USAGE;
    if (o->follow && ptr_kind(src) != PTR_LIVE) {
        cli_err(VERB, "--follow reads a running process: give a PID, not a file");
        goto out;
    }
    if (ptr_trace_open(src, &t, err, sizeof err) < 0) {
        cli_err(VERB, "%s: %s", spec, err);
        goto out;
    }
    if (!t.present) {
        cli_err(VERB, "%s has no hit ring: its pooltag runtime predates hit tags", spec);
        goto out;
    }
    if (ptr_trace_ring(&t, PT_RING_HIT, 0, &r, err, sizeof err) < 0) {
        cli_err(VERB, "%s: %s", spec, err);
        goto out;
    }
    sc = cli_stack_symbols(src, &v, 0, &with);
    if (!sc) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    emitter e;
    emit_init(&e, stdout, o->json ? EMIT_JSON : EMIT_TABLE);
    size_t shown = 0;
    if (!o->json || !o->follow) {
        emit_begin(&e);
        if (o->json) {
            emit_source(&e, &v, spec);
            emit_obj_begin(&e, "settings");
            emit_arr_begin(&e, "patterns");
            for (uint32_t i = 0; i < t.ctl.hit_n; i++)
                emit_kv_str(&e, NULL, t.ctl.hit_pat[i]);
            emit_arr_end(&e);
            emit_kv_bool(&e, "trap", (t.ctl.hit_flags & PT_HITF_TRAP) != 0);
            emit_kv_u64(&e, "generation", t.ctl.gen);
            emit_kv_u64(&e, "applied_generation", t.ctl.applied_gen);
            emit_obj_end(&e);
            emit_obj_begin(&e, "ring");
            emit_kv_u64(&e, "capacity", r.cap);
            emit_kv_u64(&e, "size", r.size);
            emit_kv_u64(&e, "head", r.head);
            emit_kv_u64(&e, "first", r.first);
            emit_kv_u64(&e, "overwritten", r.lost);
            emit_kv_u64(&e, "torn", r.torn);
            emit_obj_end(&e);
            emit_obj_begin(&e, "stacks");
            emit_kv_u64(&e, "captures", t.ctl.captures);
            emit_kv_u64(&e, "truncated", t.ctl.captures_truncated);
            emit_kv_u64(&e, "used", t.ctl.stacks_used);
            emit_kv_u64(&e, "capacity", t.hdr.max_stacks);
            emit_kv_u64(&e, "dropped", t.ctl.stacks_dropped);
            emit_obj_end(&e);
            emit_kv_str(&e, "symbolized_with", with);
            emit_arr_begin(&e, "records");
        } else {
            printf("hit ring of ");
            cli_describe(stdout, &v, spec);
            printf("\npatterns:");
            if (!t.ctl.hit_n)
                printf(" none (off)");
            for (uint32_t i = 0; i < t.ctl.hit_n; i++)
                printf(" '%s'", cli_esc(t.ctl.hit_pat[i]));
            printf("%s; ring %" PRIu32 " of %" PRIu32 " records, %" PRIu64
                   " recorded since it started\n",
                   t.ctl.hit_flags & PT_HITF_TRAP ? " (trap)" : "", r.size, r.cap,
                   r.head - r.base);
            if (r.lost)
                printf("%" PRIu64 " older record%s overwritten (the ring holds the "
                       "last %" PRIu32 ")\n", r.lost, r.lost == 1 ? " was" : "s were",
                       r.size);
            if (t.ctl.stacks_dropped)
                printf("%" PRIu64 " capture%s found the stack table full (%" PRIu32
                       " stacks): shown without a stack (raise PT_MAX_STACKS)\n",
                       t.ctl.stacks_dropped, t.ctl.stacks_dropped == 1 ? "" : "s",
                       t.hdr.max_stacks);
        }
    }
    for (size_t k = 0; k < r.n; k++)
        if (rec_selected(o, &r.recs[k])) {
            if (!o->json && shown)
                putchar('\n');
            print_rec(&e, &t, sc, &r.recs[k], o->json && o->follow);
            shown++;
        }
    if (!o->json || !o->follow) {
        if (o->json) {
            emit_arr_end(&e);
            emit_kv_u64(&e, "shown", shown);
            if (!o->follow)
                emit_end(&e);
        } else {
            if (r.torn)
                printf("%s%" PRIu64 " record%s skipped: being written while read\n",
                       shown ? "\n" : "", r.torn, r.torn == 1 ? "" : "s");
            if (!shown)
                printf("no records%s\n", o->tag || o->have_addr ? " match" : "");
        }
    }
    if (o->follow) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* next: the first index not yet looked at; retry: one record that
         * was being written at the last poll, looked at again (at most 5
         * polls: a writer stopped mid-record must not stall the rest). */
        uint64_t next = r.head, retry = r.pending;
        int stuck = 0;
        if (!o->json)
            printf("-- following (Ctrl-C stops) --\n");
        fflush(stdout);
        while (!stop_flag) {
            struct timespec ts = {0, 200 * 1000000};
            nanosleep(&ts, NULL);
            if (stop_flag)
                break;
            uint64_t from = retry != UINT64_MAX && retry < next ? retry : next;
            ptr_ring_free(&r);
            if (!ptr_alive(src) ||
                ptr_trace_ring(&t, PT_RING_HIT, from, &r, err, sizeof err) < 0) {
                if (!ptr_alive(src)) {
                    if (!o->json)
                        printf("-- process %" PRIu32 " exited --\n", ptr_pid(src));
                    break;
                }
                cli_err(VERB, "%s", err);
                goto out;
            }
            uint64_t lost = r.first > next ? r.first - next : 0;
            if (retry != UINT64_MAX && retry < r.first)
                lost++, retry = UINT64_MAX;
            if (lost && !o->json)
                printf("-- %" PRIu64 " record%s lost: the ring overwrote them before "
                       "they were read --\n", lost, lost == 1 ? "" : "s");
            for (size_t k = 0; k < r.n; k++) {
                uint64_t idx = r.recs[k].seq - 1;
                if (idx == retry)
                    retry = UINT64_MAX, stuck = 0;
                else if (idx < next)
                    continue;
                if (rec_selected(o, &r.recs[k])) {
                    if (!o->json)
                        putchar('\n');
                    print_rec(&e, &t, sc, &r.recs[k], o->json);
                }
            }
            if (retry != UINT64_MAX && ++stuck >= 5) {
                if (!o->json)
                    printf("-- record %" PRIu64 " skipped: still being written after "
                           "a second --\n", retry);
                retry = UINT64_MAX;
                stuck = 0;
            }
            if (retry == UINT64_MAX && r.pending != UINT64_MAX && r.pending >= next) {
                retry = r.pending;
                stuck = 0;
            }
            if (r.head > next)
                next = r.head;
            if (fflush(stdout) != 0)
                break;
        }
    }
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    ptr_ring_free(&r);
    sym_free(sc);
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}

/* ---------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

int cmd_hit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ring", required_argument, NULL, 'r'},
        {"trap", no_argument, NULL, 'T'},
        {"off", no_argument, NULL, 'o'},
        {"show", required_argument, NULL, 's'},
        {"follow", no_argument, NULL, 'f'},
        {"tag", required_argument, NULL, 't'},
        {"address", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hit_change h;
    show_opts so;
    const char *show = NULL;
    int c;

    memset(&h, 0, sizeof h);
    memset(&so, 0, sizeof so);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': {
            uint64_t n;
            if (parse_u64(optarg, &n) < 0 || n == 0 || n > UINT32_MAX) {
                cli_err(VERB, "--ring wants a number of records >= 1, not '%s'", optarg);
                return PT_EXIT_USAGE;
            }
            h.ring = (uint32_t)n;
            break;
        }
        case 'T': h.trap = 1; break;
        case 'o': h.off = 1; break;
        case 's': show = optarg; break;
        case 'f': so.follow = 1; break;
        case 't':
            if (!*optarg || strlen(optarg) >= PT_CTL_PAT_LEN) {
                cli_err(VERB, "--tag wants a tag or a pattern such as Leak or 'Se*', "
                        "not '%s'", optarg);
                return PT_EXIT_USAGE;
            }
            so.tag = optarg;
            break;
        case 'a':
            if (parse_u64(optarg, &so.addr) < 0) {
                cli_err(VERB, "--address wants an address (0x... or decimal), not '%s'",
                        optarg);
                return PT_EXIT_USAGE;
            }
            so.have_addr = 1;
            break;
        case 'j': so.json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    if (show) {
        if (nargs) {
            cli_err(VERB, "--show takes one SOURCE ('%s' is extra; see pooltag hit --help)",
                    argv[optind]);
            return PT_EXIT_USAGE;
        }
        if (h.ring || h.trap || h.off) {
            cli_err(VERB, "--ring, --trap and --off change a process; --show reads one: "
                    "give one or the other");
            return PT_EXIT_USAGE;
        }
        return do_show(show, &so);
    }
    if (so.follow || so.tag || so.have_addr || so.json) {
        cli_err(VERB, "--follow, --tag, --address and --json go with --show SOURCE "
                "(see pooltag hit --help)");
        return PT_EXIT_USAGE;
    }
    if (nargs == 0) {
        cli_err(VERB, "missing PID and TAG: pooltag hit PID TAG... or pooltag hit "
                "--show SOURCE (see pooltag hit --help)");
        return PT_EXIT_USAGE;
    }
    int ntags = nargs - 1;
    if (h.off && ntags) {
        cli_err(VERB, "--off takes no TAG ('%s' is extra)", argv[optind + 1]);
        return PT_EXIT_USAGE;
    }
    if (h.off && (h.trap || h.ring)) {
        cli_err(VERB, "--off stops recording: --ring and --trap do not go with it");
        return PT_EXIT_USAGE;
    }
    if (!h.off && ntags == 0) {
        cli_err(VERB, "missing TAG after PID: give 1 to %u tags or patterns, or --off",
                PT_CTL_HIT_MAX);
        return PT_EXIT_USAGE;
    }
    if (ntags > (int)PT_CTL_HIT_MAX) {
        cli_err(VERB, "at most %u tag patterns (%d given)", PT_CTL_HIT_MAX, ntags);
        return PT_EXIT_USAGE;
    }
    return do_change(argv[optind], argv + optind + 1, ntags, &h);
}
