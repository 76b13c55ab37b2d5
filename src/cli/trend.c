/*
 * trend.c — `pooltag trend LOG.db`: options and the run of the verb.  The
 * data model, the collection and the table/JSON writers are in
 * src/lib/trendrep.c, the HTML report in src/lib/trend_html.c.
 */
#include "trend.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *VERB = "trend";

/* ---- the verb ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("Usage: pooltag trend [--tag PAT] [--pid PID] [--json] [--html FILE]\n"
          "                     [--fail-on-leak] LOG.db\n"
          "\n"
          "Leak or load?  Reads a counter log written by `pooltag log` and gives\n"
          "every series - each process x tag x pool, and each process's paged and\n"
          "nonpaged totals - a verdict: leak, load, warm-up, steady or unknown\n"
          "(too few samples or too short a span), with the evidence: growth rate,\n"
          "share of the time it never fell, fit quality, time to the pool maximum\n"
          "at this rate, and for load the correlation with allocation activity.\n"
          "A pool total leaks when one of its tags leaks.  Leaks come first,\n"
          "fastest first.  The method: docs/trend.md.\n"
          "\n"
          "      --tag PAT      only tags matching PAT (* and ?); the pool totals\n"
          "                     are then left out\n"
          "      --pid PID      only this process of the log\n"
          "      --json         the same report as JSON\n"
          "      --html FILE    also write a self-contained HTML report (charts of\n"
          "                     the pool totals and of the top tags, the verdicts);\n"
          "                     FILE is replaced atomically; a FIFO, device,\n"
          "                     directory or the LOG itself is refused\n"
          "      --fail-on-leak exit 1 when any selected series is a leak\n"
          "  -h, --help         this text\n"
          "\n"
          "Exit status 0 ok, 1 a leak with --fail-on-leak, 2 usage error or a file\n"
          "that is not a readable counter log.\n",
          f);
}

int cmd_trend(int argc, char **argv)
{
    enum { O_TAG = 256, O_PID, O_JSON, O_HTML, O_FAIL };
    static const struct option opts[] = {
        {"tag", required_argument, NULL, O_TAG},
        {"pid", required_argument, NULL, O_PID},
        {"json", no_argument, NULL, O_JSON},
        {"html", required_argument, NULL, O_HTML},
        {"fail-on-leak", no_argument, NULL, O_FAIL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tagpat = NULL, *html = NULL;
    long long pid = -1;
    int json = 0, fail_on_leak = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_TAG:
            if (!*optarg) {
                cli_err(VERB, "--tag: empty pattern (give a tag or a glob like 'Le*')");
                return PT_EXIT_USAGE;
            }
            tagpat = optarg;
            break;
        case O_PID: {
            uint64_t v;
            if (cli_parse_u64(optarg, &v) || v == 0 || v > INT32_MAX) {
                cli_err(VERB, "--pid: '%s' is not a process ID", optarg);
                return PT_EXIT_USAGE;
            }
            pid = (long long)v;
            break;
        }
        case O_JSON: json = 1; break;
        case O_HTML:
            if (!*optarg) {
                cli_err(VERB, "--html: empty file name");
                return PT_EXIT_USAGE;
            }
            html = optarg;
            break;
        case O_FAIL: fail_on_leak = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_err(VERB, "no log given (pooltag trend LOG.db; see --help)");
        return PT_EXIT_USAGE;
    }
    if (argc - optind > 1) {
        cli_err(VERB, "one log at a time ('%s' is extra)", argv[optind + 1]);
        return PT_EXIT_USAGE;
    }
    const char *path = argv[optind];

    char err[512];
    ldb_log *db;
    if (ldb_open(&db, path, err, sizeof err)) {
        cli_err(VERB, "%s: %s", path, err);
        return PT_EXIT_USAGE;
    }
    tr_report rep;
    if (tr_collect(&rep, db, path, tagpat, pid, err, sizeof err)) {
        cli_err(VERB, "%s: %s", path, err);
        tr_free(&rep);
        ldb_close(db);
        return PT_EXIT_USAGE;
    }
    int status = PT_EXIT_OK;
    if (html) {
        cli_out o;
        const char *inputs[] = {path, NULL};
        if (cli_out_open(&o, html, inputs, 0666, err, sizeof err) < 0) {
            cli_err(VERB, "--html: %s", err);
            status = PT_EXIT_USAGE;
        } else if (tr_write_html(o.f, &rep, err, sizeof err) < 0) {
            cli_out_discard(&o);
            cli_err(VERB, "--html %s: %s", html, err);
            status = PT_EXIT_USAGE;
        } else if (cli_out_commit(&o, err, sizeof err) < 0) {
            cli_err(VERB, "--html: %s", err);
            status = PT_EXIT_USAGE;
        }
    }
    if (status == PT_EXIT_OK) {
        if (json)
            tr_print_json(stdout, &rep);
        else
            tr_print_table(stdout, &rep);
        if (fail_on_leak && rep.counts[VD_LEAK] > 0)
            status = PT_EXIT_FINDING;
    }
    tr_free(&rep);
    ldb_close(db);
    if (fflush(stdout) != 0 && status == PT_EXIT_OK)
        status = PT_EXIT_USAGE;
    return status;
}
