/*
 * lm.c — `pooltag lm` (loaded modules) and `pooltag ln` (nearest symbols
 * of an address), after the debugger's commands of the same names.
 *
 * Data model: a module list (struct modsrc) from one of two sources:
 *   - a PID: the files /proc/PID/maps shows mapped at file offset 0 whose
 *     first bytes are the ELF magic (procmods.h), any process this user
 *     may trace; when the process is tagged and runs under the preload,
 *     the segment's module table adds each module's automatic tag, and
 *     the modules it recorded as unloaded (dlclose) after the mapped ones;
 *   - a snapshot file: the module table the preload recorded in the
 *     segment (pt_seg_module: base, start, end, tag, flags, build-id,
 *     path), loaded and unloaded modules alike.  A snapshot of a program
 *     linked with libpooltag (no preload) has no module table: an error.
 * Each module is one entry of a symbolizer context (symbolize.h), which
 * opens its file with libdwfl: build-id, load bias, debuginfo (elfutils'
 * standard lookup, offline unless --debuginfod), symbols, lines.
 *
 * Exit status: lm 0 (modules listed), 1 (none: a kernel thread or a
 * zombie), 2 usage or input error; ln 0 (the address is in a module),
 * 1 (it is in none), 2 usage or input error.
 */
#include "verbs.h"
#include "emit.h"
#include "pimg.h"
#include "pimsym.h"
#include "procmods.h"
#include "symbolize.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct modsrc {
    const char *spec;
    int live;                 /* a PID, or a core (read like one)           */
    int core;                 /* a core file: pm reads it (pm_open_pim)     */
    pm_proc pm;               /* live                                       */
    int have_pm;
    ptr_view v;               /* segment: snapshot, or live tagged process  */
    int have_view;
    ptr_source *src;
    sym_ctx *own;             /* snapshot: the modules of the table         */
    sym_ctx *sc;              /* pm.sc or own                               */
    size_t nmaps;             /* live: modules 0..nmaps-1 come from maps    */
    size_t n;
    const pt_seg_module **rec; /* per module: its table record, or NULL    */
    unsigned char *skip;      /* per module: not an ELF module: not listed  */
} modsrc;

static void modsrc_close(modsrc *ms)
{
    if (ms->have_pm)
        pm_close(&ms->pm);
    sym_free(ms->own);
    ptr_view_free(&ms->v);
    if (ms->src)
        ptr_close(ms->src);
    free(ms->rec);
    free(ms->skip);
    memset(ms, 0, sizeof *ms);
}

/* The table record of a live module: a loaded module whose range holds
 * the module's first mapping (paths may differ: the dynamic linker's
 * /lib/x86_64-linux-gnu/libc.so.6 is maps' /usr/lib/x86_64-linux-gnu/...). */
static const pt_seg_module *record_of(const ptr_view *v, const sym_modinfo *mi)
{
    for (size_t k = v->nmodules; k-- > 0;) {
        const pt_seg_module *r = &v->modules[k];
        if (!(r->flags & PT_MOD_UNLOADED) && r->start <= mi->base && mi->base < r->end)
            return r;
    }
    return NULL;
}

/* The k-th record flagged unloaded (the order modsrc_open added them). */
static const pt_seg_module *unloaded_record(const ptr_view *v, size_t k)
{
    for (size_t i = 0; i < v->nmodules; i++) {
        const pt_seg_module *r = &v->modules[i];
        if ((r->flags & PT_MOD_UNLOADED) && r->path[0] && r->end > r->start && k-- == 0)
            return r;
    }
    return NULL;
}

static int modsrc_open(const char *verb, const char *spec, int network, modsrc *ms)
{
    char err[512];
    uint32_t pid;
    memset(ms, 0, sizeof *ms);
    ms->spec = spec;
    int is_pid = pm_is_pid(spec, &pid);
    if (is_pid || pim_file_is_elf(spec)) {
        ms->live = 1;
        if (is_pid && pid == 0) {
            cli_err(verb, "no process with PID %s", spec);
            return PT_EXIT_USAGE;
        }
        if (is_pid && pm_open(&ms->pm, pid, network, err, sizeof err) < 0) {
            cli_err(verb, "%s", err);
            return PT_EXIT_USAGE;
        }
        if (!is_pid) {
            /* A core: its modules as NT_FILE and the dumped headers show
             * them; a file whose build-id differs is warned about. */
            pim *core;
            if (pim_open_core(spec, 0, &core, err, sizeof err) < 0) {
                cli_err(verb, "%s", err);
                return PT_EXIT_USAGE;
            }
            if (pm_open_pim(&ms->pm, core, network, err, sizeof err) < 0) {
                cli_err(verb, "%s", err);
                return PT_EXIT_USAGE;
            }
            ms->core = 1;
            pim_symbols_warn(ms->pm.sc, verb);
        }
        ms->have_pm = 1;
        if (pm_add_vdso(&ms->pm) < 0)
            goto oom;
        ms->sc = ms->pm.sc;
        /* Tagged under the preload?  Then the module table has the tags. */
        if (ptr_open(spec, &ms->src, err, sizeof err) == 0 &&
            ptr_read(ms->src, &ms->v, err, sizeof err) == 0 && ms->v.nmodules)
            ms->have_view = 1;
        ms->nmaps = sym_nmodules(ms->sc);
        /* Modules the process has unloaded: only the table remembers them. */
        for (size_t k = 0; ms->have_view && k < ms->v.nmodules; k++) {
            const pt_seg_module *r = &ms->v.modules[k];
            if ((r->flags & PT_MOD_UNLOADED) && r->path[0] && r->end > r->start &&
                sym_add_module(ms->sc, r->path, NULL, r->base, r->start, r->end, r->build_id,
                               r->build_id_len, SYM_UNLOADED) < 0)
                goto oom;
        }
    } else {
        if (cli_read(verb, spec, &ms->v, &ms->src) != PT_EXIT_OK)
            return PT_EXIT_USAGE;
        ms->have_view = 1;
        if (ms->v.nmodules == 0) {
            cli_err(verb,
                    "%s has no module list (the pooltag runtime that wrote it recorded "
                    "none); give the process's PID while it runs",
                    spec);
            return PT_EXIT_USAGE;
        }
        ms->own = ms->sc = sym_new(network);
        if (!ms->own)
            goto oom;
        for (size_t k = 0; k < ms->v.nmodules; k++) {
            const pt_seg_module *r = &ms->v.modules[k];
            if (sym_add_module(ms->sc, r->path, NULL, r->base, r->start, r->end, r->build_id,
                               r->build_id_len,
                               (r->flags & PT_MOD_UNLOADED) ? SYM_UNLOADED : 0) < 0)
                goto oom;
        }
    }
    ms->n = sym_nmodules(ms->sc);
    ms->rec = calloc(ms->n ? ms->n : 1, sizeof *ms->rec);
    ms->skip = calloc(ms->n ? ms->n : 1, 1);
    if (!ms->rec || !ms->skip)
        goto oom;
    for (size_t i = 0; i < ms->n; i++) {
        sym_modinfo mi;
        sym_module_info(ms->sc, i, 0, &mi);
        if (ms->live && i >= ms->nmaps) {
            ms->rec[i] = unloaded_record(&ms->v, i - ms->nmaps);
        } else if (ms->live) {
            ms->skip[i] = ms->pm.elf[i] == 0;
            if (ms->have_view)
                ms->rec[i] = record_of(&ms->v, &mi);
        } else {
            ms->rec[i] = &ms->v.modules[i];
            ms->skip[i] = !mi.path[0] || mi.end <= mi.start;
        }
    }
    return PT_EXIT_OK;
oom:
    cli_err(verb, "out of memory");
    return PT_EXIT_USAGE;
}

static void describe(FILE *f, const modsrc *ms)
{
    if (ms->core && ms->have_view)
        cli_describe(f, &ms->v, ms->spec);
    else if (ms->core)
        fprintf(f, "core %s of process %" PRIu32 " (%s)", cli_esc(ms->spec), ms->pm.pid,
                cli_esc(ms->pm.comm));
    else if (ms->live)
        fprintf(f, "process %" PRIu32 " (%s), live", ms->pm.pid, cli_esc(ms->pm.comm));
    else
        cli_describe(f, &ms->v, ms->spec);
}

/* The reading the answer comes from ($source; for a live process without
 * a module table, emit_source_proc: only the process is known), and
 * whether the segment's module table was used. */
static void emit_modsrc(emitter *e, const modsrc *ms)
{
    if (ms->have_view)
        emit_source(e, &ms->v, ms->spec);
    else
        emit_source_proc_kind(e, ms->core ? "core" : "live", ms->spec, ms->pm.pid,
                              ms->pm.comm, ms->pm.exe);
    emit_kv_bool(e, "module_table", ms->have_view);
}

/* A hex JSON member ("0x..."). */
static void kv_hex(emitter *e, const char *key, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    emit_kv_str(e, key, b);
}

static void hex(char *buf, size_t size, const uint8_t *b, size_t n)
{
    buf[0] = 0;
    for (size_t k = 0; k < n && 2 * k + 2 < size; k++)
        snprintf(buf + 2 * k, 3, "%02x", b[k]);
}

/* "file" (DWARF in the module's own file), "separate", "no" or "?" */
static const char *debug_word(const sym_modinfo *mi)
{
    if (mi->usable <= 0)
        return "?";
    if (mi->debuginfo <= 0)
        return "no";
    return mi->debugfile && strcmp(mi->debugfile, mi->path) != 0 ? "separate" : "file";
}

/* ---------------------------------------------------------------------- */
/* lm                                                                     */

static void lm_usage(FILE *f)
{
    fputs("Usage: pooltag lm [--json] [--debuginfod] SOURCE\n"
          "\n"
          "The loaded modules of a process, like the debugger's lm: start and end\n"
          "address, name, build-id, whether debuginfo was found, and the path.\n"
          "SOURCE is a PID (any process you may trace; under the preload the\n"
          "module table adds each module's automatic tag, and the modules it\n"
          "unloaded), a core file of any process (its NT_FILE mappings and the\n"
          "build-ids in its dumped headers; a file changed since is warned about\n"
          "and not used), or a snapshot file of a process run under the preload\n"
          "(pooltag run), which records its modules with their tags, unloaded\n"
          "ones included.\n"
          "\n"
          "  -j, --json         the modules as JSON\n"
          "      --debuginfod   let elfutils download debuginfo from $DEBUGINFOD_URLS\n"
          "                     (off: the lookup stays offline)\n"
          "  -h, --help         this text\n"
          "\n"
          "Debuginfo column: file (DWARF in the module itself), separate (found\n"
          "next to it, in .debug/ or /usr/lib/debug/.build-id), no, or ? (the file\n"
          "cannot be read, or changed since it was loaded).  Exit status 0 ok,\n"
          "1 no modules (a kernel thread or a zombie), 2 usage or input error.\n",
          f);
}

typedef struct lm_row {
    size_t idx;
    sym_modinfo mi;
} lm_row;

/* The build-id of a row: its file's, else the module table's (the vDSO,
 * which has no file, live under the preload). */
static void row_build_id(const modsrc *ms, const lm_row *r, char *buf, size_t size)
{
    const pt_seg_module *rec = ms->rec[r->idx];
    if (r->mi.build_id_len || !rec)
        hex(buf, size, r->mi.build_id, r->mi.build_id_len);
    else
        hex(buf, size, rec->build_id, rec->build_id_len);
}

static int row_cmp(const void *pa, const void *pb)
{
    const lm_row *a = pa, *b = pb;
    if (a->mi.start != b->mi.start)
        return a->mi.start < b->mi.start ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static const char *lm_note(const modsrc *ms, const lm_row *r)
{
    if (r->mi.path[0] != '/')
        return "provided by the kernel or the loader: no file";
    if (r->mi.note)
        return r->mi.note;
    if (ms->live && r->idx < ms->nmaps && ms->pm.elf[r->idx] == 2)
        return "neither its mapping nor its file could be read";
    return NULL;
}

/* The rows, described once.  The table's tag column (with its separator)
 * is there only when the module table gives tags. */
enum { LC_START, LC_END, LC_NAME, LC_TAG, LC_DEBUG, LC_BUILD_ID, LC_PATH, LC_MARKS, NLCOLS };
static const emit_col lm_cols[NLCOLS] = {
    [LC_START] = {NULL, 16, 0, ""},             /* JSON: "start", "0x..."  */
    [LC_END] = {NULL, 16, 0, " "},              /* JSON: "end"             */
    [LC_NAME] = {"name", 24, EMIT_LEFT, " "},
    [LC_TAG] = {NULL, 0, EMIT_LEFT, ""},        /* " TAG ", JSON: "tag"    */
    [LC_DEBUG] = {NULL, 9, EMIT_LEFT, " "},     /* JSON: "debuginfo"       */
    [LC_BUILD_ID] = {NULL, 40, EMIT_LEFT, " "}, /* JSON: "build_id"        */
    [LC_PATH] = {"path", 0, EMIT_LEFT, " "},
    [LC_MARKS] = {NULL, 0, EMIT_LEFT, ""},      /* (unloaded), [note]      */
};

static void lm_report(emitter *e, const modsrc *ms, const lm_row *rows, size_t n)
{
    char text[PT_TAG_TEXT_MAX], bid[2 * 64 + 1], cell[64];
    char marks[CLI_ESC_MAX + 32];           /* "  (unloaded)  [note]"       */
    int tags = ms->have_view;
    emit_begin(e);
    if (!emit_json(e)) {
        fputs("   ", e->f);
        describe(e->f, ms);
    }
    emit_modsrc(e, ms);
    emit_text(e, ": %zu module%s%s\n\n", n, n == 1 ? "" : "s",
              ms->core   ? (ms->have_view ? " (core, tags from the module table)" : " (core)")
              : ms->live ? (ms->have_view ? " (maps, tags from the module table)" : " (maps)")
                         : " (module table)");
    emit_text(e, "%-16s %-16s %-24s %s%-9s %-40s %s\n", "start", "end", "module",
              tags ? "tag  " : "", "debuginfo", "build-id", "path");
    emit_table_begin(e, lm_cols, NLCOLS);
    emit_arr_begin(e, "modules");
    for (size_t k = 0; k < n; k++) {
        const lm_row *r = &rows[k];
        const pt_seg_module *rec = ms->rec[r->idx];
        const char *note = lm_note(ms, r);
        row_build_id(ms, r, bid, sizeof bid);
        emit_row_begin(e);
        snprintf(cell, sizeof cell, "%016" PRIx64, r->mi.start);
        emit_col_text(e, LC_START, cell);
        snprintf(cell, sizeof cell, "%016" PRIx64, r->mi.end);
        emit_col_text(e, LC_END, cell);
        emit_col_str(e, LC_NAME, r->mi.name);
        if (tags) {
            snprintf(cell, sizeof cell, " %-4s", rec ? cli_tag(rec->tag, text) : "-");
            emit_col_text(e, LC_TAG, cell);
        }
        emit_col_text(e, LC_DEBUG, debug_word(&r->mi));
        emit_col_text(e, LC_BUILD_ID, bid[0] ? bid : "-");
        emit_col_str(e, LC_PATH, r->mi.path);
        snprintf(marks, sizeof marks, "%s%s%s%s",
                 r->mi.flags & SYM_UNLOADED ? "  (unloaded)" : "", note ? "  [" : "",
                 note ? cli_esc(note) : "", note ? "]" : "");
        emit_col_text(e, LC_MARKS, marks);
        kv_hex(e, "start", r->mi.start);
        kv_hex(e, "end", r->mi.end);
        emit_kv_str(e, "build_id", bid[0] ? bid : NULL);
        if (r->mi.usable <= 0)
            emit_kv_null(e, "debuginfo");
        else
            emit_kv_bool(e, "debuginfo", r->mi.debuginfo > 0);
        emit_kv_str(e, "debugfile",
                    r->mi.debuginfo > 0 && r->mi.debugfile ? r->mi.debugfile : NULL);
        if (rec)
            emit_kv_tag(e, "tag", rec->tag);
        else
            emit_kv_null(e, "tag");
        emit_kv_bool(e, "main", rec && (rec->flags & PT_MOD_MAIN));
        emit_kv_bool(e, "unloaded", (r->mi.flags & SYM_UNLOADED) != 0);
        emit_kv_str(e, "note", note);
        emit_row_end(e);
    }
    emit_arr_end(e);
    if (ms->have_view && !emit_json(e))
        cli_full_tables_note(e->f, &ms->v);
    emit_end(e);
}

int cmd_lm(int argc, char **argv)
{
    static const char *VERB = "lm";
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"debuginfod", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, network = 0, c, status = PT_EXIT_USAGE;
    modsrc ms;
    lm_row *rows = NULL;
    memset(&ms, 0, sizeof ms);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'd': network = 1; break;
        case 'h':
            lm_usage(stdout);
            return PT_EXIT_OK;
        default:
            cli_opt_error(VERB, argv, c);
            return PT_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_err(VERB, argc == optind ? "missing SOURCE: give a PID, a core or a snapshot file "
                                       "(see pooltag lm --help)"
                                     : "too many arguments (see pooltag lm --help)");
        return PT_EXIT_USAGE;
    }
    if (modsrc_open(VERB, argv[optind], network, &ms) != PT_EXIT_OK)
        goto out;
    rows = calloc(ms.n ? ms.n : 1, sizeof *rows);
    if (!rows) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < ms.n; i++) {
        if (ms.skip[i])
            continue;
        rows[n].idx = i;
        sym_module_info(ms.sc, i, SYM_INFO_DEBUG, &rows[n].mi);
        n++;
    }
    qsort(rows, n, sizeof *rows, row_cmp);
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    if (json || n)
        lm_report(&e, &ms, rows, n);
    else {
        describe(stdout, &ms);
        puts(": no modules mapped (a kernel thread, or a process that has exited)");
    }
    if (fflush(stdout) != 0)
        goto out;
    status = n ? PT_EXIT_OK : PT_EXIT_FINDING;
out:
    free(rows);
    modsrc_close(&ms);
    return status;
}

/* ---------------------------------------------------------------------- */
/* ln                                                                     */

static void ln_usage(FILE *f)
{
    fputs("Usage: pooltag ln [--json] [--debuginfod] SOURCE ADDR\n"
          "\n"
          "The nearest symbols of an address, like the debugger's ln: the module\n"
          "that contains ADDR, the symbol at or before it (module!symbol+0xoff),\n"
          "the next symbol after it, and the source file:line where debuginfo\n"
          "exists.  SOURCE is a PID, a core file (a module whose file changed\n"
          "since is warned about and not used), or a snapshot file of a process\n"
          "run under the preload (its module table); ADDR is hex, with or\n"
          "without 0x.\n"
          "\n"
          "ADDR is taken as typed: Source is the line of the instruction at ADDR.\n"
          "pooltag sites (like every stack) shows return addresses, whose line is\n"
          "the call's (looked up at ADDR - 1); when that line differs, ln prints\n"
          "it too (\"As a return address\"), so an address copied from sites gives\n"
          "sites's file:line.\n"
          "\n"
          "  -j, --json         the answer as JSON\n"
          "      --debuginfod   let elfutils download debuginfo from $DEBUGINFOD_URLS\n"
          "  -h, --help         this text\n"
          "\n"
          "Exit status 0 the address is in a module, 1 it is in none (heap, stack,\n"
          "anonymous memory or unmapped), 2 usage or input error.\n",
          f);
}

/* Hex with or without 0x; the debugger's ` separators are allowed. */
static int parse_addr(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s; s++) {
        unsigned d;
        if (*s == '`')
            continue;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
            d = (unsigned)((*s | 0x20) - 'a' + 10);
        else
            return -1;
        if (v >> 60)
            return -1;
        v = v << 4 | d;
        digits++;
    }
    if (!digits)
        return -1;
    *out = v;
    return 0;
}

int cmd_ln(int argc, char **argv)
{
    static const char *VERB = "ln";
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"debuginfod", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, network = 0, c, status = PT_EXIT_USAGE;
    modsrc ms;
    memset(&ms, 0, sizeof ms);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'd': network = 1; break;
        case 'h':
            ln_usage(stdout);
            return PT_EXIT_OK;
        default:
            cli_opt_error(VERB, argv, c);
            return PT_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        cli_err(VERB, argc - optind == 0   ? "missing SOURCE and ADDR: give a PID or a snapshot "
                                             "file, and a hex address (see pooltag ln --help)"
                      : argc - optind == 1 ? "missing ADDR after SOURCE: give a hex address "
                                             "such as 0x7f12a4c01139 (see pooltag ln --help)"
                                           : "too many arguments (see pooltag ln --help)");
        return PT_EXIT_USAGE;
    }
    uint64_t addr;
    if (parse_addr(argv[optind + 1], &addr) < 0) {
        cli_err(VERB, "bad address '%s': give a hex address of up to 16 digits, such as "
                      "0x7f12a4c01139",
                argv[optind + 1]);
        return PT_EXIT_USAGE;
    }
    if (modsrc_open(VERB, argv[optind], network, &ms) != PT_EXIT_OK)
        goto out;

    long idx = sym_module_at(ms.sc, addr);
    if (idx >= 0 && ms.skip[idx]) {
        /* A mapped file that is not ELF: no module, no symbols. */
        idx = -1;
    }
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_begin(&e);
    emit_modsrc(&e, &ms);
    kv_hex(&e, "address", addr);
    emit_kv_bool(&e, "found", idx >= 0);
    if (idx < 0) {
        if (!json) {
            printf("%016" PRIx64 " is in no module of ", addr);
            describe(stdout, &ms);
            puts(" (heap, stack, anonymous memory, or not mapped)");
        }
        emit_end(&e);
        status = fflush(stdout) == 0 ? PT_EXIT_FINDING : PT_EXIT_USAGE;
        goto out;
    }
    sym_modinfo mi;
    sym_near nr;
    sym_info si;
    sym_module_info(ms.sc, (size_t)idx, SYM_INFO_DEBUG, &mi);
    sym_nearest(ms.sc, (size_t)idx, addr, &nr);
    sym_lookup(ms.sc, addr, 0, &si);
    /* The same address read as a return address, the rule of sites (and
     * of every stack): its line is the call's, at addr - 1.  Shown when it
     * differs, so that an address copied from sites gives sites's line. */
    sym_info ri;
    sym_lookup(ms.sc, addr, 1, &ri);
    int ret_differs = ri.file && (!si.file || si.line != ri.line || strcmp(si.file, ri.file));
    int exact = nr.before && nr.before_addr == addr;
    const pt_seg_module *rec = ms.rec[idx];

    emit_kv_str(&e, "module", mi.name);
    emit_kv_str(&e, "path", mi.path);
    kv_hex(&e, "module_start", mi.start);
    kv_hex(&e, "module_end", mi.end);
    kv_hex(&e, "module_offset", addr - (mi.usable > 0 ? mi.bias : mi.base));
    if (rec)
        emit_kv_tag(&e, "tag", rec->tag);
    else
        emit_kv_null(&e, "tag");
    if (nr.before) {
        emit_text(&e, "(%016" PRIx64 ")   %s!%s+0x%" PRIx64, nr.before_addr, cli_esc(mi.name),
                  cli_esc(nr.before), addr - nr.before_addr);
        emit_obj_begin(&e, "before");
        emit_kv_str(&e, "symbol", nr.before);
        kv_hex(&e, "address", nr.before_addr);
        emit_kv_u64(&e, "offset", addr - nr.before_addr);
        emit_obj_end(&e);
    } else {
        emit_text(&e, "(%016" PRIx64 ")   %s+0x%" PRIx64, mi.start, cli_esc(mi.name),
                  addr - mi.start);
        emit_kv_null(&e, "before");
    }
    if (nr.after) {
        emit_text(&e, "   |  (%016" PRIx64 ")   %s!%s", nr.after_addr, cli_esc(mi.name),
                  cli_esc(nr.after));
        emit_obj_begin(&e, "after");
        emit_kv_str(&e, "symbol", nr.after);
        kv_hex(&e, "address", nr.after_addr);
        emit_obj_end(&e);
    } else {
        emit_kv_null(&e, "after");
    }
    emit_text(&e, "\n");
    if (exact)
        emit_text(&e, "Exact matches:\n    %s!%s\n", cli_esc(mi.name), cli_esc(nr.before));
    emit_kv_bool(&e, "exact", exact);
    if (si.file) {
        emit_text(&e, "Source: %s:%d\n", cli_esc(si.file), si.line);
        emit_kv_str(&e, "file", si.file);
        emit_kv_i64(&e, "line", si.line);
    } else {
        emit_kv_null(&e, "file");
        emit_kv_null(&e, "line");
    }
    if (ret_differs)
        emit_text(&e, "As a return address (the call before it, as sites shows it): %s:%d\n",
                  cli_esc(ri.file), ri.line);
    if (ri.file) {
        emit_obj_begin(&e, "as_return_address");
        emit_kv_str(&e, "file", ri.file);
        emit_kv_i64(&e, "line", ri.line);
        emit_obj_end(&e);
    } else {
        emit_kv_null(&e, "as_return_address");
    }
    emit_text(&e, "Module: %s  %016" PRIx64 "-%016" PRIx64 "  %s", cli_esc(mi.name), mi.start,
              mi.end, cli_esc(mi.path));
    if (mi.flags & SYM_UNLOADED)
        emit_text(&e, "  (unloaded)");
    if (mi.usable > 0 && mi.debuginfo <= 0)
        emit_text(&e, "  (no debuginfo)");
    if (mi.note)
        emit_text(&e, "  [%s]", cli_esc(mi.note));
    emit_text(&e, "\n");
    if (mi.usable <= 0)
        emit_kv_null(&e, "debuginfo");
    else
        emit_kv_bool(&e, "debuginfo", mi.debuginfo > 0);
    emit_kv_str(&e, "note", mi.note);
    emit_end(&e);
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    modsrc_close(&ms);
    return status;
}
