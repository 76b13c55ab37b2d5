/*
 * fault.c — `pooltag fault`: fault injection in a running process (Driver
 * Verifier's Low Resources Simulation).
 *
 *   pooltag fault PID SPEC...         fail these allocations (add/replace)
 *   pooltag fault PID SPEC... --off   stop failing these
 *   pooltag fault PID --off           stop failing anything
 *   pooltag fault SOURCE [--json]     the selectors and injected failures
 *
 * Data model
 * ----------
 * A SPEC is a fault selector (src/common/ptsel.h, the one syntax of PT_FAIL
 * and run --fail): TAG or module:GLOB, then :PERCENT, :after=SECONDS,
 * :seed=N.  The selectors live in the process's special page
 * (pt_seg_special.fault[], fault_n), written through ptr_special_change
 * (src/reader/control.c: /proc/PID/mem opened for writing, the kernel's
 * ptrace rule).  A selector is identified by its TAG or module:GLOB: a
 * SPEC with the same one replaces it (new rate, delay, seed: its counter
 * and its delay restart), --off removes it.  An exact tag is stored in
 * its text form without padding ("Se" matches "Se  ").
 *
 * The status reads the special page (ptr_special_read) and the per-tag
 * counters of a reading (ptr_view.tagx: injected; failures from the
 * pools), so it works on a snapshot or a core too.
 */
#include "verbs.h"
#include "ptsel.h"
#include "emit.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "fault";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: pooltag fault PID SPEC... [--off]\n"
        "       pooltag fault PID --off\n"
        "       pooltag fault SOURCE [--json]\n"
        "\n"
        "Like Driver Verifier's Low Resources Simulation: the running process\n"
        "fails the allocations chosen by each SPEC (1 to %u) with NULL and errno\n"
        "ENOMEM (C++ new throws std::bad_alloc; nothrow new returns NULL); they\n"
        "count as failures of their tag, and as injected.  Without SPEC and\n"
        "--off: the selectors in effect and the injected failures per tag.\n"
        "\n"
        "SPEC is TAG or module:GLOB, then any of:\n"
        "  :PERCENT         the share of the selected requests that fail, 0.0001\n"
        "                   to 100 (default 100), e.g. Pars:20 or Pars:0.5%%\n"
        "  :after=SECONDS   only from SECONDS after the change is applied\n"
        "  :seed=N          the seed of the decisions (default 1): the same seed\n"
        "                   fails the same requests of a thread that makes the\n"
        "                   same requests\n"
        "TAG is a tag or a pattern ('*', '?'); module:GLOB selects by the module\n"
        "of the call site (its base name, or its path with a '/').  A SPEC with\n"
        "the TAG or module:GLOB of a selector in effect replaces it (its counter\n"
        "and delay restart).\n"
        "\n"
        "Options:\n"
        "  --off            stop failing the given SPECs (only their TAG or\n"
        "                   module:GLOB counts), or everything without SPEC\n"
        "  --json           with the status: JSON\n"
        "  -h, --help       this text\n"
        "\n"
        "From the start of a program: pooltag run --fail SPEC, or PT_FAIL=SPEC,...\n"
        "Changing a process needs the right to ptrace it: its owner or root.\n"
        "\n"
        "Exit status: 0 ok, 2 usage or input error (nothing changed).\n",
        PT_SEL_MAX);
}

/* ---------------------------------------------------------------------- */
/* Changing                                                               */

typedef struct fault_change {
    int off;
    uint32_t n;
    pt_seg_sel sel[PT_SEL_MAX];
    char words[PT_SEL_MAX][PT_CTL_GLOB_LEN + 64];
} fault_change;

static int same_target(const pt_seg_sel *a, const pt_seg_sel *b)
{
    return a->kind == b->kind && strncmp(a->text, b->text, sizeof a->text) == 0;
}

static int edit_fault(pt_seg_special *sp, const ptr_view *v, const ptr_trace *t, void *arg,
                      char *err, size_t errlen)
{
    const fault_change *c = arg;
    (void)t;
    uint32_t n = sp->fault_n <= PT_SEL_MAX ? sp->fault_n : 0;
    pt_seg_sel cur[PT_SEL_MAX];
    memcpy(cur, sp->fault, sizeof cur);
    if (c->off && c->n == 0) {
        n = 0;
    } else if (c->off) {
        for (uint32_t k = 0; k < c->n; k++) {
            uint32_t i = 0;
            while (i < n && !same_target(&cur[i], &c->sel[k]))
                i++;
            if (i == n)
                return ptr__fail(err, errlen, "'%s' is not in effect in process %" PRIu32
                                 " (%s): nothing changed (see pooltag fault %" PRIu32 ")",
                                 c->words[k], v->pid, v->comm, v->pid);
            memmove(&cur[i], &cur[i + 1], (n - i - 1) * sizeof cur[0]);
            n--;
        }
    } else {
        for (uint32_t k = 0; k < c->n; k++) {
            uint32_t i = 0;
            while (i < n && !same_target(&cur[i], &c->sel[k]))
                i++;
            if (i == n) {
                if (n == PT_SEL_MAX)
                    return ptr__fail(err, errlen, "process %" PRIu32 " has %u fault "
                                     "selectors already, the most there can be: nothing "
                                     "changed (remove some with --off)", v->pid, PT_SEL_MAX);
                n++;
            }
            cur[i] = c->sel[k];
        }
    }
    memset(&cur[n], 0, (PT_SEL_MAX - n) * sizeof cur[0]);
    memcpy(sp->fault, cur, sizeof cur);
    sp->fault_n = n;
    return 0;
}

static void print_selectors(const pt_seg_special *sp)
{
    if (!sp->fault_n)
        printf(" none (off)");
    for (uint32_t i = 0; i < sp->fault_n && i < PT_SEL_MAX; i++) {
        char b[PT_CTL_GLOB_LEN + 64];
        pt_sel_format(&sp->fault[i], 1, b, sizeof b);
        printf(" %s", cli_esc(b));
    }
}

static int do_change(const char *spec, fault_change *c)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    pt_seg_special sp;
    char err[512];
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (cli_read_trace(VERB, spec, &v, &src, &t) != PT_EXIT_OK)
        goto out;
    if (!t.present || !t.hdr.special_off) {
        cli_err(VERB, "process %s (%s) has no fault injection settings: its pooltag "
                "runtime predates fault injection", spec, cli_esc(v.comm));
        goto out;
    }
    ptr_control_result res;
    if (ptr_special_change(src, &v, &t, edit_fault, c, 1000, &res, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        goto out;
    }
    if (ptr_special_read(&t, &sp, err, sizeof err) < 0) {
        cli_err(VERB, "process %s: %s", spec, err);
        goto out;
    }
    printf("process %s (%s): fault injection", spec, cli_esc(v.comm));
    print_selectors(&sp);
    printf(" (generation %" PRIu64 ")\n", res.gen);
    if (sp.fault_n)
        status = cli_change_outcome(VERB, &res, "applied: %" PRIu32 " tag%s match now, %" PRIu64
                                    " failure%s injected so far", sp.fault_matched,
                                    sp.fault_matched == 1 ? "" : "s", sp.injected,
                                    sp.injected == 1 ? "" : "s");
    else
        status = cli_change_outcome(VERB, &res, NULL);
out:
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    if (fflush(stdout) != 0)
        status = PT_EXIT_USAGE;
    return status;
}

/* ---------------------------------------------------------------------- */
/* Status                                                                 */

static uint64_t tag_failures(const pt_tag_info *ti)
{
    uint64_t f = 0;
    for (int p = 0; p < PT_POOL_COUNT; p++)
        f += ti->pool[p].failures;
    return f;
}

static int do_status(const char *spec, int json)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    pt_seg_special sp;
    char err[512];
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (cli_read_trace(VERB, spec, &v, &src, &t) != PT_EXIT_OK)
        goto out;
    if (!t.present || !t.hdr.special_off) {
        cli_err(VERB, "%s has no fault injection settings: its pooltag runtime "
                "predates fault injection", spec);
        goto out;
    }
    if (ptr_special_read(&t, &sp, err, sizeof err) < 0) {
        cli_err(VERB, "%s: %s", spec, err);
        goto out;
    }
    size_t shown = 0;
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_begin(&e);
    if (json) {
        emit_source(&e, &v, spec);
        emit_arr_begin(&e, "selectors");
        for (uint32_t i = 0; i < sp.fault_n; i++) {
            const pt_seg_sel *s = &sp.fault[i];
            char b[PT_CTL_GLOB_LEN + 64];
            pt_sel_format(s, 1, b, sizeof b);
            emit_obj_begin(&e, NULL);
            emit_kv_str(&e, "spec", b);
            emit_kv_str(&e, "kind", s->kind == PT_SEL_MODULE ? "module" : "tag");
            emit_kv_str(&e, "pattern", s->text);
            emit_kv_dbl(&e, "percent", s->rate / 10000.0, 4);
            emit_kv_dbl(&e, "after_seconds", s->after_ms / 1000.0, 3);
            emit_kv_u64(&e, "seed", s->seed);
            emit_obj_end(&e);
        }
        emit_arr_end(&e);
        emit_kv_u64(&e, "generation", t.ctl.gen);
        emit_kv_u64(&e, "applied_generation", t.ctl.applied_gen);
        emit_kv_u64(&e, "matched_tags", sp.fault_matched);
        emit_kv_u64(&e, "injected", sp.injected);
        emit_arr_begin(&e, "tags");
        for (size_t i = 0; i < v.ntags; i++) {
            if (!v.tagx || !v.tagx[i].injected)
                continue;
            emit_obj_begin(&e, NULL);
            emit_kv_tag(&e, "tag", v.tags[i].tag);
            emit_kv_u64(&e, "injected", v.tagx[i].injected);
            emit_kv_u64(&e, "failures", tag_failures(&v.tags[i]));
            emit_obj_end(&e);
            shown++;
        }
        emit_arr_end(&e);
        emit_end(&e);
    } else {
        printf("fault injection of ");
        cli_describe(stdout, &v, spec);
        printf("\nselectors:");
        print_selectors(&sp);
        printf("\n");
        if (t.ctl.applied_gen < t.ctl.gen)
            printf("(a change is not applied yet: the process applies it at its next "
                   "allocation or free)\n");
        printf("%" PRIu64 " failure%s injected", sp.injected, sp.injected == 1 ? "" : "s");
        if (sp.fault_n)
            printf("; %" PRIu32 " tag%s match now", sp.fault_matched,
                   sp.fault_matched == 1 ? "" : "s");
        printf("\n");
        for (size_t i = 0; i < v.ntags; i++) {
            if (!v.tagx || !v.tagx[i].injected)
                continue;
            char tg[PT_TAG_TEXT_MAX];
            if (!shown)
                printf("\n%-4s %12s %12s\n", "Tag", "Injected", "Failures");
            printf("%-4s %12" PRIu64 " %12" PRIu64 "\n", cli_tag(v.tags[i].tag, tg),
                   v.tagx[i].injected, tag_failures(&v.tags[i]));
            shown++;
        }
    }
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}

/* ---------------------------------------------------------------------- */

/* Parse SPEC into c->sel[k]: 0, or an error message printed. */
static int parse_spec(const char *w, fault_change *c, uint32_t k)
{
    const char *why = NULL;
    pt_seg_sel *s = &c->sel[k];
    if (strlen(w) >= sizeof c->words[k] || pt_sel_parse(w, 1, s, &why) < 0) {
        cli_err(VERB, "bad SPEC '%s': %s (see pooltag fault --help)", cli_esc(w),
                why ? why : "too long");
        return -1;
    }
    snprintf(c->words[k], sizeof c->words[k], "%s", w);
    if (s->kind == PT_SEL_TAG && !strpbrk(s->text, "*?")) {
        uint32_t tag;
        char text[PT_TAG_TEXT_MAX];
        if (pt_tag_parse(s->text, &tag) < 0) {
            cli_err(VERB, "bad tag '%s': a tag is 1 to 4 characters (\\xNN escapes "
                    "allowed), such as Leak or Se; patterns take * and ?", cli_esc(s->text));
            return -1;
        }
        pt_tag_text(tag, text);
        size_t n = strlen(text);
        while (n && text[n - 1] == ' ')
            text[--n] = 0;
        if (n == 0 || n >= PT_CTL_PAT_LEN) {
            cli_err(VERB, "bad tag '%s': its text form is empty or too long",
                    cli_esc(s->text));
            return -1;
        }
        memset(s->text, 0, sizeof s->text);
        memcpy(s->text, text, n);
    }
    for (uint32_t i = 0; i < k; i++)
        if (same_target(&c->sel[i], s)) {
            cli_err(VERB, "'%s' and '%s' select the same allocations: give one",
                    cli_esc(c->words[i]), cli_esc(w));
            return -1;
        }
    return 0;
}

int cmd_fault(int argc, char **argv)
{
    static const struct option opts[] = {
        {"off", no_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static fault_change c;
    int json = 0, ch;

    memset(&c, 0, sizeof c);
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': c.off = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, ch); return PT_EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    if (nargs == 0) {
        cli_err(VERB, "missing PID: pooltag fault PID SPEC... or pooltag fault SOURCE "
                "(see pooltag fault --help)");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    int nspec = nargs - 1;
    if (nspec == 0 && !c.off)
        return do_status(spec, json);
    if (json) {
        cli_err(VERB, "--json goes with the status (pooltag fault SOURCE --json), not "
                "with a change");
        return PT_EXIT_USAGE;
    }
    if (!*spec || strspn(spec, "0123456789") != strlen(spec)) {
        cli_err(VERB, "'%s' is not a PID: fault changes a running process (to read a "
                "snapshot: pooltag fault FILE)", cli_esc(spec));
        return PT_EXIT_USAGE;
    }
    if (nspec > (int)PT_SEL_MAX) {
        cli_err(VERB, "at most %u SPECs (%d given)", PT_SEL_MAX, nspec);
        return PT_EXIT_USAGE;
    }
    for (int k = 0; k < nspec; k++)
        if (parse_spec(argv[optind + 1 + k], &c, (uint32_t)k) < 0)
            return PT_EXIT_USAGE;
    c.n = (uint32_t)nspec;
    return do_change(spec, &c);
}
