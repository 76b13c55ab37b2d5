/*
 * vm.c — `pooltag vm`: a memory summary after WinDbg's !vm 1.
 *
 * Data model: the process figures (ptr_proc: /proc/PID/status for a live
 * PID, stored in a snapshot) and, per pool, the usage (sum over tags of
 * bytes_alloc - bytes_freed), the recorded peak, the maximum (0 =
 * unlimited) and the failures.  A pool is flagged "Excessive" when its usage
 * is over 80 % of its maximum or an allocation in it has failed.  Figures
 * are shown in pages (of the process's page size) and KiB, as !vm does.
 * The table and --json come from the same calls to one emitter (emit.h).
 */
#include "verbs.h"
#include "emit.h"
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
          "recorded for a snapshot; not known for a core file), then per pool the usage, peak and maximum\n"
          "in pages and KiB, the allocation failures, and the caller errors\n"
          "detected; when there are any, the failures injected by pooltag fault\n"
          "and the allocations that found the special pool full.  A pool over\n"
          "80 % of its maximum, or with failures, is flagged\n"
          "\"********** Excessive NonPaged Pool Usage *****\".\n"
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

static void line_kb(emitter *e, const char *label, uint64_t kb, uint32_t page)
{
    emit_text(e, "    %-26s%12" PRIu64 " (%12" PRIu64 " Kb)\n", label,
              div_up(kb * 1024, page), kb);
}

static void line_bytes(emitter *e, const char *label, uint64_t bytes, uint32_t page)
{
    emit_text(e, "    %-26s%12" PRIu64 " (%12" PRIu64 " Kb)\n", label,
              div_up(bytes, page), div_up(bytes, 1024));
}

/* The caller errors, described once.  The table's row reads "#SEQ KIND
 * tag 'TAG' size N addr 0x.. tid N (freed as 'TAG')"; the JSON has the
 * numbers, the tags and the address as members. */
enum { EC_SEQ, EC_KIND, EC_TAG, EC_SIZE, EC_ADDR, EC_TID, EC_FREED_AS, NECOLS };
static const emit_col err_cols[NECOLS] = {
    [EC_SEQ] = {"seq", 5, EMIT_LEFT, "      #"},
    [EC_KIND] = {"kind", 12, EMIT_LEFT, " "},
    [EC_TAG] = {NULL, 0, EMIT_LEFT, " tag "},       /* JSON: "tag"     */
    [EC_SIZE] = {"size", 0, 0, " size "},
    [EC_ADDR] = {NULL, 0, 0, " addr "},             /* JSON: "address" */
    [EC_TID] = {"tid", 0, 0, " tid "},
    [EC_FREED_AS] = {NULL, 0, EMIT_LEFT, ""},       /* JSON: "tag2"    */
};

static void emit_error(emitter *e, const pt_seg_error *er)
{
    char text[PT_TAG_TEXT_MAX], cell[PT_TAG_TEXT_MAX + 32], addr[24];
    emit_row_begin(e);
    emit_col_u64(e, EC_SEQ, er->seq);
    emit_col_str(e, EC_KIND, err_kind(er->kind));
    if (er->tag)
        snprintf(cell, sizeof cell, "'%s'", cli_tag(er->tag, text));
    else
        snprintf(cell, sizeof cell, "(unreadable)");
    emit_col_text(e, EC_TAG, cell);
    emit_col_u64(e, EC_SIZE, er->size);
    snprintf(addr, sizeof addr, "0x%" PRIx64, er->addr);
    emit_col_text(e, EC_ADDR, addr);
    emit_col_u64(e, EC_TID, er->tid);
    cell[0] = 0;
    if (er->kind == PT_ERR_TAG_MISMATCH)
        snprintf(cell, sizeof cell, " (freed as '%s')", cli_tag(er->tag2, text));
    emit_col_text(e, EC_FREED_AS, cell);
    emit_kv_u64(e, "time_ns", er->time_ns);
    emit_kv_str(e, "address", addr);
    if (er->tag)
        emit_kv_tag(e, "tag", er->tag);
    else
        emit_kv_null(e, "tag");
    if (er->tag2)
        emit_kv_tag(e, "tag2", er->tag2);
    else
        emit_kv_null(e, "tag2");
    emit_row_end(e);
}

static void report(emitter *e, const ptr_view *v, const char *spec, const pool_fig pools[2])
{
    char label[64];
    const ptr_proc *pr = &v->proc;
    uint32_t page = v->page_size;

    emit_begin(e);
    if (!emit_json(e)) {
        fputs("*** Virtual Memory Usage ***  ", e->f);
        cli_describe(e->f, v, spec);
    }
    emit_source(e, v, spec);
    emit_text(e, "\n    %-26s%12" PRIu32 " bytes\n", "Page Size:", page);
    emit_kv_u64(e, "page_size", page);
    if (pr->valid) {
        line_kb(e, "Resident (VmRSS):", pr->rss_kb, page);
        line_kb(e, "Peak Resident (VmHWM):", pr->vmhwm_kb, page);
        line_kb(e, "Commit (VmData+VmStk):", pr->commit_kb, page);
        line_kb(e, "Virtual Size (VmSize):", pr->vmsize_kb, page);
        line_kb(e, "Locked (VmLck):", pr->vmlck_kb, page);
        emit_obj_begin(e, "process");
        emit_kv_u64(e, "rss_kb", pr->rss_kb);
        emit_kv_u64(e, "hwm_kb", pr->vmhwm_kb);
        emit_kv_u64(e, "commit_kb", pr->commit_kb);
        emit_kv_u64(e, "vmsize_kb", pr->vmsize_kb);
        emit_kv_u64(e, "vmdata_kb", pr->vmdata_kb);
        emit_kv_u64(e, "vmstk_kb", pr->vmstk_kb);
        emit_kv_u64(e, "locked_kb", pr->vmlck_kb);
        emit_obj_end(e);
    } else {
        emit_text(e, "    %-26s%s\n", "Process Memory:", v->kind == PTR_CORE ? "not known (a core file holds no VmRSS)" : "not recorded (bare segment image)");
        emit_kv_null(e, "process");
    }
    emit_obj_begin(e, "pools");
    for (int i = 0; i < 2; i++) {
        const pool_fig *p = &pools[i];
        emit_obj_begin(e, p->key);
        snprintf(label, sizeof label, "%sPool Usage:", p->name);
        line_bytes(e, label, p->usage, page);
        emit_kv_u64(e, "usage_bytes", p->usage);
        emit_kv_u64(e, "usage_pages", div_up(p->usage, page));
        emit_kv_u64(e, "usage_kb", div_up(p->usage, 1024));
        snprintf(label, sizeof label, "%sPool Peak:", p->name);
        line_bytes(e, label, p->peak, page);
        emit_kv_u64(e, "peak_bytes", p->peak);
        snprintf(label, sizeof label, "%sPool Max:", p->name);
        if (p->limit)
            line_bytes(e, label, p->limit, page);
        else
            emit_text(e, "    %-26s%12s\n", label, "unlimited");
        emit_kv_u64(e, "limit_bytes", p->limit);
        emit_kv_bool(e, "unlimited", !p->limit);
        emit_kv_u64(e, "limit_pages", div_up(p->limit, page));
        snprintf(label, sizeof label, "%sPool Failures:", p->name);
        emit_text(e, "    %-26s%12" PRIu64 "\n", label, p->failures);
        emit_kv_u64(e, "failures", p->failures);
        emit_kv_u64(e, "allocs", p->allocs);
        emit_kv_u64(e, "frees", p->frees);
        emit_kv_bool(e, "excessive", p->excessive);
        emit_obj_end(e);
    }
    emit_obj_end(e);
    emit_text(e, "    %-26s%12" PRIu64 "\n", "Caller Errors Detected:", v->errors_total);
    emit_kv_u64(e, "errors_total", v->errors_total);
    /* issue 12: only when nonzero (the table's layout stays otherwise) */
    if (v->injected)
        emit_text(e, "    %-26s%12" PRIu64 "  (pooltag fault; in the failures above; per "
                  "tag: pooltag used)\n", "Injected Failures:", v->injected);
    if (v->special_full)
        emit_text(e, "    %-26s%12" PRIu64 "  (allocations served by the normal pool)\n",
                  "Special Pool Full:", v->special_full);
    emit_kv_u64(e, "injected", v->injected);
    emit_kv_u64(e, "special_full", v->special_full);
    emit_arr_begin(e, "flags");
    for (int i = 0; i < 2; i++) {
        const pool_fig *p = &pools[i];
        char flag[64];
        if (!p->excessive)
            continue;
        snprintf(flag, sizeof flag, "Excessive %s Pool Usage", p->name);
        emit_text(e, "    ********** %s *****\n", flag);
        emit_kv_str(e, NULL, flag);
        if (p->failures)
            emit_text(e, "    ********** %" PRIu64 " %s pool allocation%s failed *****\n",
                      p->failures, p->name, p->failures == 1 ? " has" : "s have");
    }
    emit_arr_end(e);
    if (v->nerrors)
        emit_text(e, "\n    Recent caller errors (oldest first):\n");
    emit_table_begin(e, err_cols, NECOLS);
    emit_arr_begin(e, "errors");
    for (size_t i = 0; i < v->nerrors; i++)
        emit_error(e, &v->errors[i]);
    emit_arr_end(e);
    emit_end(e);
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
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    report(&e, &v, spec, pools);
    ptr_view_free(&v);
    return fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
}
