/*
 * vm.c — `pooltag vm`: a memory summary after WinDbg's !vm 1.
 *
 * Data model: the process figures (ptr_proc: /proc/PID/status for a live
 * PID, stored in a snapshot) and, per pool, the usage (sum over tags of
 * bytes_alloc - bytes_freed), the recorded peak, the maximum (0 =
 * unlimited) and the failures.  A pool is flagged "Excessive" when its usage
 * is over 80 % of its maximum or an allocation in it has failed.  Figures
 * are shown in pages (of the process's page size) and KiB, as !vm does.
 */
#include "verbs.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static const char *VERB = "vm";

typedef struct pool_fig {
    const char *name;     /* "NonPaged", "Paged"                        */
    const char *key;      /* JSON key                                   */
    uint64_t usage, peak, limit, failures, allocs, frees;
    int excessive;
} pool_fig;

static uint64_t div_up(uint64_t n, uint64_t d)
{
    return n / d + (n % d != 0);
}

static void usage(FILE *f)
{
    fputs("Usage: pooltag vm [--json] SOURCE\n"
          "\n"
          "Memory summary of a tagged process, like WinDbg's !vm 1: resident\n"
          "and committed memory (from /proc/PID/status for a live process, as\n"
          "recorded for a snapshot), then per pool the usage, peak and maximum\n"
          "in pages and KiB, the allocation failures, and the caller errors\n"
          "detected.  A pool over 80 % of its maximum, or with failures, is\n"
          "flagged \"********** Excessive NonPaged Pool Usage *****\".\n"
          "\n"
          "  --json      the same figures as JSON\n"
          "  -h, --help  this text\n"
          "\n"
          "Exit status 0 ok, 2 usage or input error.\n",
          f);
}

static void fill_pools(const ptr_view *v, pool_fig out[2])
{
    static const int order[2] = {PT_NONPAGED, PT_PAGED};
    for (int i = 0; i < 2; i++) {
        const ptr_pool *p = &v->pool[order[i]];
        pool_fig *o = &out[i];
        o->name = order[i] == PT_NONPAGED ? "NonPaged" : "Paged";
        o->key = order[i] == PT_NONPAGED ? "nonpaged" : "paged";
        o->usage = p->bytes_alloc > p->bytes_freed
                       ? p->bytes_alloc - p->bytes_freed : 0;
        o->peak = p->peak > o->usage ? p->peak : o->usage;
        o->limit = p->limit;
        o->failures = p->failures;
        o->allocs = p->allocs;
        o->frees = p->frees;
        o->excessive =
            p->failures > 0 ||
            (p->limit && (unsigned __int128)o->usage * 5 >
                             (unsigned __int128)p->limit * 4);
    }
}

static const char *err_kind(uint32_t k)
{
    switch (k) {
    case PT_ERR_BAD_POINTER: return "bad pointer";
    case PT_ERR_DOUBLE_FREE: return "double free";
    case PT_ERR_TAG_MISMATCH: return "tag mismatch";
    case PT_ERR_LIMIT: return "pool limit";
    }
    return "unknown";
}

static void line_kb(const char *label, uint64_t kb, uint32_t page)
{
    printf("    %-26s%12" PRIu64 " (%12" PRIu64 " Kb)\n", label,
           div_up(kb * 1024, page), kb);
}

static void line_bytes(const char *label, uint64_t bytes, uint32_t page)
{
    printf("    %-26s%12" PRIu64 " (%12" PRIu64 " Kb)\n", label,
           div_up(bytes, page), div_up(bytes, 1024));
}

static void print_table(const ptr_view *v, const char *spec,
                        const pool_fig pools[2])
{
    char label[64], text[PT_TAG_TEXT_MAX], text2[PT_TAG_TEXT_MAX];
    const ptr_proc *pr = &v->proc;
    uint32_t page = v->page_size;

    fputs("*** Virtual Memory Usage ***  ", stdout);
    cli_describe(stdout, v, spec);
    printf("\n    %-26s%12" PRIu32 " bytes\n", "Page Size:", page);
    if (pr->valid) {
        line_kb("Resident (VmRSS):", pr->rss_kb, page);
        line_kb("Peak Resident (VmHWM):", pr->vmhwm_kb, page);
        line_kb("Commit (VmData+VmStk):", pr->commit_kb, page);
        line_kb("Virtual Size (VmSize):", pr->vmsize_kb, page);
        line_kb("Locked (VmLck):", pr->vmlck_kb, page);
    } else {
        printf("    %-26s%s\n", "Process Memory:",
               "not recorded (bare segment image)");
    }
    for (int i = 0; i < 2; i++) {
        const pool_fig *p = &pools[i];
        snprintf(label, sizeof label, "%sPool Usage:", p->name);
        line_bytes(label, p->usage, page);
        snprintf(label, sizeof label, "%sPool Peak:", p->name);
        line_bytes(label, p->peak, page);
        snprintf(label, sizeof label, "%sPool Max:", p->name);
        if (p->limit)
            line_bytes(label, p->limit, page);
        else
            printf("    %-26s%12s\n", label, "unlimited");
        snprintf(label, sizeof label, "%sPool Failures:", p->name);
        printf("    %-26s%12" PRIu64 "\n", label, p->failures);
    }
    printf("    %-26s%12" PRIu64 "\n", "Caller Errors Detected:",
           v->errors_total);
    for (int i = 0; i < 2; i++) {
        const pool_fig *p = &pools[i];
        if (!p->excessive)
            continue;
        printf("    ********** Excessive %s Pool Usage *****\n", p->name);
        if (p->failures)
            printf("    ********** %" PRIu64 " %s pool allocation%s failed "
                   "*****\n",
                   p->failures, p->name,
                   p->failures == 1 ? " has" : "s have");
    }
    if (v->nerrors) {
        printf("\n    Recent caller errors (oldest first):\n");
        for (size_t i = 0; i < v->nerrors; i++) {
            const pt_seg_error *e = &v->errors[i];
            printf("      #%-5" PRIu64 " %-12s tag %s%s%s size %" PRIu64
                   " addr 0x%" PRIx64 " tid %" PRIu32,
                   e->seq, err_kind(e->kind), e->tag ? "'" : "",
                   e->tag ? cli_tag(e->tag, text) : "(unreadable)",
                   e->tag ? "'" : "", e->size, e->addr, e->tid);
            if (e->kind == PT_ERR_TAG_MISMATCH)
                printf(" (freed as '%s')", cli_tag(e->tag2, text2));
            putchar('\n');
        }
    }
}

static void print_json(const ptr_view *v, const char *spec,
                       const pool_fig pools[2])
{
    char text[PT_TAG_TEXT_MAX];
    const ptr_proc *pr = &v->proc;
    FILE *f = stdout;
    uint32_t page = v->page_size;

    fputs("{\"source\": ", f);
    cli_json_source(f, v, spec);
    fputs(",\n \"process\": ", f);
    if (pr->valid)
        fprintf(f,
                "{\"rss_kb\": %" PRIu64 ", \"hwm_kb\": %" PRIu64
                ", \"commit_kb\": %" PRIu64 ", \"vmsize_kb\": %" PRIu64
                ", \"vmdata_kb\": %" PRIu64 ", \"vmstk_kb\": %" PRIu64
                ", \"locked_kb\": %" PRIu64 "}",
                pr->rss_kb, pr->vmhwm_kb, pr->commit_kb, pr->vmsize_kb,
                pr->vmdata_kb, pr->vmstk_kb, pr->vmlck_kb);
    else
        fputs("null", f);
    fprintf(f, ",\n \"page_size\": %" PRIu32 ",\n \"pools\": {", page);
    for (int i = 0; i < 2; i++) {
        const pool_fig *p = &pools[i];
        fprintf(f, "%s\n  \"%s\": {\"usage_bytes\": %" PRIu64
                   ", \"usage_pages\": %" PRIu64 ", \"usage_kb\": %" PRIu64
                   ", \"peak_bytes\": %" PRIu64 ", \"limit_bytes\": %" PRIu64
                   ", \"unlimited\": %s, \"limit_pages\": %" PRIu64
                   ", \"failures\": %" PRIu64 ", \"allocs\": %" PRIu64
                   ", \"frees\": %" PRIu64 ", \"excessive\": %s}",
                i ? "," : "", p->key, p->usage, div_up(p->usage, page),
                div_up(p->usage, 1024), p->peak, p->limit,
                p->limit ? "false" : "true", div_up(p->limit, page),
                p->failures, p->allocs, p->frees,
                p->excessive ? "true" : "false");
    }
    fprintf(f, "},\n \"errors_total\": %" PRIu64 ",\n \"errors\": [",
            v->errors_total);
    for (size_t i = 0; i < v->nerrors; i++) {
        const pt_seg_error *e = &v->errors[i];
        fprintf(f, "%s{\"seq\": %" PRIu64 ", \"time_ns\": %" PRIu64
                   ", \"kind\": \"%s\", \"addr\": %" PRIu64
                   ", \"size\": %" PRIu64 ", \"tid\": %" PRIu32 ", \"tag\": ",
                i ? ", " : "", e->seq, e->time_ns, err_kind(e->kind), e->addr,
                e->size, e->tid);
        cli_json_str(f, e->tag ? cli_tag(e->tag, text) : "");
        fputs(", \"tag2\": ", f);
        cli_json_str(f, e->tag2 ? cli_tag(e->tag2, text) : "");
        fputc('}', f);
    }
    fputs("],\n \"flags\": [", f);
    int n = 0;
    for (int i = 0; i < 2; i++) {
        char flag[64];
        if (!pools[i].excessive)
            continue;
        snprintf(flag, sizeof flag, "Excessive %s Pool Usage", pools[i].name);
        fputs(n++ ? ", " : "", f);
        cli_json_str(f, flag);
    }
    fputs("]}\n", f);
}

int cmd_vm(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c, status;
    ptr_view v;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_err(VERB, optind >= argc
                          ? "missing SOURCE: give a PID or a snapshot file "
                            "(see pooltag vm --help)"
                          : "too many arguments (see pooltag vm --help)");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    if ((status = cli_read(VERB, spec, &v, NULL)) != PT_EXIT_OK)
        return status;
    pool_fig pools[2];
    memset(pools, 0, sizeof pools);
    fill_pools(&v, pools);
    if (json)
        print_json(&v, spec, pools);
    else
        print_table(&v, spec, pools);
    ptr_view_free(&v);
    return fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
}
