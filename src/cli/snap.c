/*
 * snap.c — `pooltag snap -o FILE PID`: write a snapshot of a running
 * process's counters that every report verb reads like the process itself.
 *
 * The snapshot holds the segment image exactly as the reading copied it
 * (validated by parsing it first: a reading that does not parse is not
 * written) and the process figures of the same moment.  Format:
 * docs/snapshot-format.md.  Written through cli_out_open (util.h): never
 * over a FIFO, device or directory; a temporary file, fsync, rename.
 */
#include "verbs.h"
#include "emit.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *VERB = "snap";

static void usage(FILE *f)
{
    fputs("Usage: pooltag snap [-o FILE] [--json] PID\n"
          "\n"
          "Write a snapshot of the pooltag counters of a running process: the\n"
          "segment as read at this moment and the process memory figures.\n"
          "Every report verb (used, vm, ...) reads the file as it reads a PID.\n"
          "The file is written atomically (temporary file, then rename) with\n"
          "mode 0600, like a core file (a file replaced keeps its mode).  An\n"
          "existing FILE that is not a regular file (a FIFO, a device, a\n"
          "directory) is refused and left alone.\n"
          "\n"
          "  -o, --output FILE  where to write (default:\n"
          "                     pooltag-PID-YYYYmmdd-HHMMSS.ptsnap here)\n"
          "      --json         report what was written as JSON\n"
          "  -h, --help         this text\n"
          "\n"
          "Exit status 0 ok, 2 usage or input error.\n",
          f);
}

int cmd_snap(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    char defname[128], err[512];
    int json = 0, c, status;
    ptr_view v;
    ptr_source *s;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_err(VERB, optind >= argc
                          ? "missing PID (see pooltag snap --help)"
                          : "too many arguments (see pooltag snap --help)");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    if (!*spec || strspn(spec, "0123456789") != strlen(spec)) {
        cli_err(VERB, "'%s' is not a PID: snap reads a running process", spec);
        return PT_EXIT_USAGE;
    }
    if (out && !*out) {
        cli_err(VERB, "-o wants a file name");
        return PT_EXIT_USAGE;
    }
    if ((status = cli_read(VERB, spec, &v, &s)) != PT_EXIT_OK)
        return status;
    if (!out) {
        time_t now = time(NULL);
        struct tm tm;
        char stamp[32] = "now";
        if (localtime_r(&now, &tm))
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(defname, sizeof defname, "pooltag-%" PRIu32 "-%s.ptsnap",
                 v.pid ? v.pid : ptr_pid(s), stamp);
        out = defname;
    }
    size_t len;
    const void *raw;
    cli_out o;
    char werr[512];
    if (ptr_raw_full(s, &raw, &len, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        status = PT_EXIT_USAGE;
    } else if (cli_out_open(&o, out, NULL, 0600, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        status = PT_EXIT_USAGE;
    } else if (ptr_snapshot_write(o.f, raw, len, ptr_proc_info(s), ptr_pid(s),
                                  v.comm, werr, sizeof werr) < 0) {
        cli_err(VERB, "cannot write %s: %s", out, werr);
        cli_out_discard(&o);
        status = PT_EXIT_USAGE;
    } else if (cli_out_commit(&o, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        status = PT_EXIT_USAGE;
    } else if (json) {
        /* What was written: the reading it holds ($source), the file. */
        emitter e;
        emit_init(&e, stdout, EMIT_JSON);
        emit_begin(&e);
        emit_source(&e, &v, spec);
        emit_kv_str(&e, "file", out);
        emit_kv_u64(&e, "tags", v.ntags);
        emit_kv_u64(&e, "segment_bytes", len);
        emit_end(&e);
    } else {
        printf("wrote snapshot of process %" PRIu32 " (%s) to %s: %zu tag%s, "
               "%zu segment bytes\n",
               ptr_pid(s), cli_esc(v.comm), cli_esc(out), v.ntags, v.ntags == 1 ? "" : "s", len);
    }
    ptr_view_free(&v);
    ptr_close(s);
    if (status == PT_EXIT_OK && fflush(stdout) != 0)
        status = PT_EXIT_USAGE;
    return status;
}
