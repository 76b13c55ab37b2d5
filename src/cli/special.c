/*
 * special.c — `pooltag special`: Windows' Special Pool for a running
 * process, switched live.
 *
 *   pooltag special PID SEL... [--underrun] [--exact] [--recover]
 *                   [--sample N] [--quarantine N] [--max-pages N]
 *   pooltag special PID SEL... --off       remove these selectors
 *   pooltag special PID --off              switch the pool off
 *   pooltag special SOURCE [--json]        status
 *   pooltag special --show SOURCE [--blocks] [--json]
 *
 * Data model
 * ----------
 * Changing: the selectors (src/common/ptsel.h: TAG pattern, MIN-MAX
 * requested bytes, module:GLOB; at most PT_SEL_MAX), their underrun flag
 * (per selector: the selectors of this command get --underrun's value),
 * the pool's flags (--exact, --recover: set when given, kept otherwise)
 * and its numbers (sample, quarantine, max pages: set when given) are
 * edited in the settings part of the special page and written through
 * ptr_special_change (src/reader/control.c: /proc/PID/mem opened for
 * writing, the kernel's ptrace rule; then the control block's generation
 * and the kick).  A selector already there is updated, not added twice.
 * --off with selectors removes them (each must be there); --off alone
 * removes every selector and stops sampling.  Blocks already in the pool
 * stay there (and keep their guard pages) until they are freed.
 *
 * Showing: the page (ptr_special_open), the reports (ptr_special_reports:
 * records whose seq was the same before and after the copy) and with
 * --blocks the block records (ptr_special_blocks), their stacks printed
 * through stacks.h as hit and verify print theirs.
 */
#include "verbs.h"
#include "opttab.h"
#include "ptsel.h"
#include "stacks.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "special";

#define OPT(id) (&pt_opt_table[PT_OPT_##id])

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: pooltag special PID SEL... [--underrun] [--exact] [--recover]\n"
        "                       [--sample N] [--quarantine N] [--max-pages N]\n"
        "       pooltag special PID [SEL...] --off\n"
        "       pooltag special SOURCE [--json]\n"
        "       pooltag special --show SOURCE [--blocks] [--json]\n"
        "\n"
        "Like Windows' Special Pool, switched on and off in a running process:\n"
        "the allocations that SEL selects get guard pages, so an overrun faults\n"
        "at the instruction that does it, and the process writes a report (the\n"
        "faulting, allocating and freeing stacks) before it dies.  SEL is\n"
        "  TAG           a tag or a tag pattern ('*', '?'): Ovr1, 'Se*'\n"
        "  MIN-MAX       requested sizes in bytes, inclusive: 100-200, 4K-1M\n"
        "  module:GLOB   what the modules matching GLOB allocate: module:libfoo*\n"
        "(1 to %u selectors in all; a selector already set is updated).\n"
        "Without SEL or a setting, prints the pool's status.\n"
        "\n"
        "Options:\n"
        "  --underrun       the selectors given: blocks start after a guard page\n"
        "                   (catches underruns) instead of ending before one\n"
        "  --exact          blocks end exactly at the page end (a 1-byte overrun\n"
        "                   of any size faults; alignment as the size allows)\n"
        "  --recover        after a report the program goes on instead of dying\n"
        "  --sample N       about 1 in N of the selected allocations (of all\n"
        "                   allocations without SEL) goes to the pool; 0: every\n"
        "                   selected one (%" PRIu64 " to %" PRIu64 ")\n"
        "  --quarantine N   pages of freed blocks kept inaccessible (%" PRIu64
        " to %" PRIu64 ")\n"
        "  --max-pages N    pages the pool may hold, guard and quarantined pages\n"
        "                   included (%" PRIu64 " to %" PRIu64 "); when full, allocations\n"
        "                   take the normal path and are counted as full\n"
        "  --off            remove the selectors given, or with no SEL switch the\n"
        "                   pool off (selectors and sampling); blocks already in\n"
        "                   the pool keep their guard pages until freed\n"
        "  --show SOURCE    print the reports of a PID, a snapshot or a core file\n"
        "  --blocks         with --show: also the live and quarantined blocks\n"
        "                   with their allocation (and free) stacks\n"
        "  --json           JSON (status and --show)\n"
        "  -h, --help       this text\n"
        "\n"
        "--exact and --recover, once set, stay set until the process ends.\n"
        "Changing a process needs the right to ptrace it: its owner or root.\n"
        "The same settings at start: pooltag run --special SEL ... (PT_SPECIAL).\n"
        "\n"
        "Exit status: 0 ok, 2 usage or input error (nothing changed).\n",
        PT_SEL_MAX, OPT(SAMPLE_GUARD)->min, OPT(SAMPLE_GUARD)->max,
        OPT(QUARANTINE)->min, OPT(QUARANTINE)->max, OPT(SPECIAL_MAX_PAGES)->min,
        OPT(SPECIAL_MAX_PAGES)->max);
}

/* ---------------------------------------------------------------------- */
/* Changing                                                               */

typedef struct sp_change {
    int off, underrun, exact, recover;
    int have_sample, have_quarantine, have_max_pages;
    uint32_t sample, quarantine, max_pages;
    int nsel;
    pt_seg_sel sel[PT_SEL_MAX];
    char **words;                /* as given, for messages                */
} sp_change;

static int sel_same(const pt_seg_sel *a, const pt_seg_sel *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == PT_SEL_SIZE)
        return a->min == b->min && a->max == b->max;
    return strncmp(a->text, b->text, sizeof a->text) == 0;
}

static int edit_special(pt_seg_special *sp, const ptr_view *v, const ptr_trace *t,
                        void *arg, char *err, size_t errlen)
{
    const sp_change *c = arg;
    (void)v;
    (void)t;
    if (sp->sp_n > PT_SEL_MAX)
        return ptr__fail(err, errlen, "corrupt special pool settings: %" PRIu32
                         " selectors (at most %u)", sp->sp_n, PT_SEL_MAX);
    if (c->off && c->nsel == 0) {
        sp->sp_n = 0;
        memset(sp->sp, 0, sizeof sp->sp);
        sp->sample = 0;
        return 0;
    }
    for (int i = 0; i < c->nsel; i++) {
        uint32_t k = 0;
        while (k < sp->sp_n && !sel_same(&sp->sp[k], &c->sel[i]))
            k++;
        if (c->off) {
            if (k == sp->sp_n)
                return ptr__fail(err, errlen, "'%s' is not a special pool selector of "
                                 "the process: nothing changed (see pooltag special "
                                 "PID)", cli_esc(c->words[i]));
            memmove(&sp->sp[k], &sp->sp[k + 1], (sp->sp_n - k - 1) * sizeof sp->sp[0]);
            sp->sp_n--;
            memset(&sp->sp[sp->sp_n], 0, sizeof sp->sp[0]);
            continue;
        }
        if (k == sp->sp_n) {
            if (sp->sp_n >= PT_SEL_MAX)
                return ptr__fail(err, errlen, "the process has %u special pool "
                                 "selectors already (at most %u): remove some with "
                                 "pooltag special PID SEL --off", PT_SEL_MAX, PT_SEL_MAX);
            sp->sp_n++;
        }
        sp->sp[k] = c->sel[i];
        sp->sp[k].flags = c->underrun ? PT_SELF_UNDERRUN : 0;
    }
    if (c->exact)
        sp->sp_flags |= PT_SPF_EXACT;
    if (c->recover)
        sp->sp_flags |= PT_SPF_RECOVER;
    if (c->have_sample)
        sp->sample = c->sample;
    if (c->have_quarantine)
        sp->quarantine = c->quarantine;
    if (c->have_max_pages) {
        uint64_t page = t->hdr.page_size ? t->hdr.page_size : 4096;
        uint64_t region = sp->region_size / page;
        if (region && c->max_pages > region)
            return ptr__fail(err, errlen, "--max-pages %" PRIu32 ": the process reserved "
                             "%" PRIu64 " pages for the pool (PT_SPECIAL_MAX_PAGES at "
                             "start)", c->max_pages, region);
        sp->max_pages = c->max_pages;
    }
    return 0;
}

static void print_selectors(const pt_seg_special *s)
{
    char text[200];
    if (!s->sp_n)
        printf(" none");
    for (uint32_t i = 0; i < s->sp_n; i++) {
        pt_sel_format(&s->sp[i], 0, text, sizeof text);
        printf(" '%s'%s", cli_esc(text), s->sp[i].flags & PT_SELF_UNDERRUN ? " (underrun)" : "");
    }
}

static int do_change(const char *spec, sp_change *c)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    ptr_special sp;
    char err[512];
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (cli_read_trace(VERB, spec, &v, &src, &t) != PT_EXIT_OK)
        goto out;
    if (ptr_special_open(&t, &sp, err, sizeof err) < 0) {
        cli_err(VERB, "%s: %s", spec, err);
        goto out;
    }
    if (!sp.present) {
        cli_err(VERB, "process %s (%s) has no special pool: its pooltag runtime "
                "predates the special pool", spec, cli_esc(v.comm));
        goto out;
    }
    ptr_control_result res;
    if (ptr_special_change(src, &v, &t, edit_special, c, 1000, &res, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        goto out;
    }
    status = PT_EXIT_OK;
    if (ptr_special_open(&t, &sp, err, sizeof err) < 0) {
        cli_err(VERB, "process %s: %s", spec, err);
        status = PT_EXIT_USAGE;
        goto out;
    }
    printf("process %s (%s): special pool", spec, cli_esc(v.comm));
    if (c->off && !c->nsel)
        printf(" off");
    printf(" (generation %" PRIu64 ")\nselectors:", res.gen);
    print_selectors(&sp.sp);
    printf("\n");
    if (sp.sp.sample)
        printf("sampling: about 1 in %" PRIu32 " %s\n", sp.sp.sample,
               sp.sp.sp_n ? "of the selected allocations" : "of all allocations");
    status = cli_change_outcome(VERB, &res, "applied: %" PRIu32 " tag%s now", sp.sp.sp_matched,
                                sp.sp.sp_matched == 1 ? " matches" : "s match");
    if (res.applied) {
        if (sp.sp.handler == PT_SPH_FAILED) {
            cli_err(VERB, "the process could not install its SIGSEGV/SIGBUS handler: "
                    "guard page faults are not reported");
            status = PT_EXIT_USAGE;
        }
    }
out:
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    if (fflush(stdout) != 0)
        status = PT_EXIT_USAGE;
    return status;
}

/* ---------------------------------------------------------------------- */
/* Status and reports                                                     */

static const char *handler_name(uint32_t h)
{
    switch (h) {
    case PT_SPH_NONE: return "not installed";
    case PT_SPH_ON: return "on";
    case PT_SPH_FAILED: return "failed";
    default: return "?";
    }
}

static const char *signal_name(uint32_t signo)
{
    static char buf[24];
    switch (signo) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGABRT: return "SIGABRT";
    default:
        snprintf(buf, sizeof buf, "signal %" PRIu32, signo);
        return buf;
    }
}

/* Open the source and its special page: 0, or PT_EXIT_USAGE after a
 * message. */
static int open_special(const char *spec, ptr_view *v, ptr_source **src, ptr_trace *t,
                        ptr_special *sp)
{
    char err[512];
    if (cli_read_trace(VERB, spec, v, src, t) != PT_EXIT_OK)
        return PT_EXIT_USAGE;
    if (ptr_special_open(t, sp, err, sizeof err) < 0) {
        cli_err(VERB, "%s: %s", spec, err);
        return PT_EXIT_USAGE;
    }
    if (!sp->present) {
        cli_err(VERB, "%s has no special pool: its pooltag runtime predates the "
                "special pool", spec);
        return PT_EXIT_USAGE;
    }
    return 0;
}

static void emit_settings(emitter *e, const ptr_trace *t, const ptr_special *sp)
{
    const pt_seg_special *s = &sp->sp;
    char text[200];
    emit_obj_begin(e, "settings");
    emit_arr_begin(e, "selectors");
    for (uint32_t i = 0; i < s->sp_n; i++) {
        pt_sel_format(&s->sp[i], 0, text, sizeof text);
        emit_obj_begin(e, NULL);
        emit_kv_str(e, "selector", text);
        emit_kv_bool(e, "underrun", (s->sp[i].flags & PT_SELF_UNDERRUN) != 0);
        emit_obj_end(e);
    }
    emit_arr_end(e);
    emit_kv_bool(e, "exact", (s->sp_flags & PT_SPF_EXACT) != 0);
    emit_kv_bool(e, "recover", (s->sp_flags & PT_SPF_RECOVER) != 0);
    emit_kv_u64(e, "sample", s->sample);
    emit_kv_u64(e, "quarantine", s->quarantine);
    emit_kv_u64(e, "max_pages", s->max_pages);
    emit_kv_u64(e, "generation", t->ctl.gen);
    emit_kv_u64(e, "applied_generation", t->ctl.applied_gen);
    emit_obj_end(e);
}

static int do_status(const char *spec, int json)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    ptr_special sp;
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (open_special(spec, &v, &src, &t, &sp) != 0)
        goto out;
    const pt_seg_special *s = &sp.sp;
    uint64_t page = t.hdr.page_size ? t.hdr.page_size : 4096;
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    if (json) {
        emit_begin(&e);
        emit_source(&e, &v, spec);
        emit_settings(&e, &t, &sp);
        emit_obj_begin(&e, "pool");
        emit_kv_bool(&e, "on", s->sp_n != 0 || s->sample != 0);
        emit_kv_u64(&e, "tags_matched", s->sp_matched);
        emit_kv_u64(&e, "region_pages", s->region_size / page);
        emit_kv_u64(&e, "pages_used", s->pages_used);
        emit_kv_u64(&e, "pages_quarantined", s->pages_quarantined);
        emit_kv_u64(&e, "blocks_live", s->blocks_live);
        emit_kv_u64(&e, "bytes_live", s->bytes_live);
        emit_kv_u64(&e, "allocs", s->allocs);
        emit_kv_u64(&e, "frees", s->frees);
        emit_kv_u64(&e, "full", s->full);
        emit_kv_u64(&e, "ineligible", s->ineligible);
        emit_kv_u64(&e, "sampled", s->sampled);
        emit_obj_end(&e);
        emit_kv_str(&e, "handler", handler_name(s->handler));
        emit_kv_u64(&e, "reports", s->reports_seq);
        emit_kv_u64(&e, "bad_selectors", sp.bad_selectors);
        emit_end(&e);
    } else {
        printf("special pool of ");
        cli_describe(stdout, &v, spec);
        printf("\nselectors:");
        print_selectors(s);
        printf("%s\n", s->sp_n || s->sample ? "" : " (off)");
        if (sp.bad_selectors)
            printf("%" PRIu32 " selector%s unreadable (corrupt), not shown\n",
                   sp.bad_selectors, sp.bad_selectors == 1 ? "" : "s");
        printf("flags: %s%s%s\n", s->sp_flags & PT_SPF_EXACT ? "exact" : "",
               (s->sp_flags & PT_SPF_EXACT) && (s->sp_flags & PT_SPF_RECOVER) ? ", " : "",
               s->sp_flags & PT_SPF_RECOVER ? "recover"
               : s->sp_flags & PT_SPF_EXACT ? "" : "none");
        if (s->sample)
            printf("sampling: about 1 in %" PRIu32 " %s\n", s->sample,
                   s->sp_n ? "of the selected allocations" : "of all allocations");
        else
            printf("sampling: off (every selected allocation)\n");
        printf("quarantine %" PRIu32 " pages, at most %" PRIu32 " pages", s->quarantine,
               s->max_pages);
        if (s->region_size)
            printf(" (%" PRIu64 " reserved)\n", s->region_size / page);
        else
            printf(" (not reserved yet: the pool was never on)\n");
        printf("tags matched now: %" PRIu32 "\n", s->sp_matched);
        printf("pages used %" PRIu64 " (quarantined %" PRIu64 "); blocks live %" PRIu64
               " (%" PRIu64 " bytes)\n", s->pages_used, s->pages_quarantined,
               s->blocks_live, s->bytes_live);
        printf("allocs %" PRIu64 ", frees %" PRIu64 ", full %" PRIu64 ", ineligible %"
               PRIu64 ", sampled %" PRIu64 "\n", s->allocs, s->frees, s->full,
               s->ineligible, s->sampled);
        printf("fault handler: %s\n", handler_name(s->handler));
        printf("reports: %" PRIu64 "%s\n", s->reports_seq,
               s->reports_seq ? " (pooltag special --show SOURCE prints them)" : "");
        if (t.ctl.applied_gen != t.ctl.gen)
            printf("settings generation %" PRIu64 " not applied yet (applied: %" PRIu64
                   "): the process applies them at its next allocation or free\n",
                   t.ctl.gen, t.ctl.applied_gen);
    }
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}

/* One stack: JSON, an object KEY {stack_id, [stack_error], frames}; text,
 * a heading line then the frames. */
static void print_stack(emitter *e, ptr_trace *t, sym_ctx *sc, const char *key,
                        const char *heading, uint32_t id, uint64_t pc)
{
    uint64_t fr[PT_SEG_DEPTH_LIMIT];
    uint32_t d = 0;
    char err[256];
    int bad = ptr_trace_stack(t, id, fr, &d, err, sizeof err) < 0;
    /* A faulting stack starts at the faulting instruction itself. */
    int first_is_pc = pc && d && fr[0] == pc;
    if (emit_json(e)) {
        emit_obj_begin(e, key);
        emit_kv_u64(e, "stack_id", id);
        if (bad)
            emit_kv_str(e, "stack_error", err);
        cli_emit_stack_pc(e, sc, fr, d, "", first_is_pc);
        emit_obj_end(e);
        return;
    }
    emit_text(e, "  %s%s\n", heading,
              bad ? "" : id ? ":" : ": (no stack: capture off or stack table full)");
    if (bad)
        emit_text(e, "    (stack unreadable: %s)\n", err);
    cli_emit_stack_pc(e, sc, fr, d, "    ", first_is_pc);
}

/* Where the access was, from the block: "end+N" (overrun, slop: N = 0 is
 * the first byte after the block), "start-N" (underrun), "start+N". */
static void offset_text(const pt_seg_spreport *r, char *buf, size_t size)
{
    switch (r->kind) {
    case PT_SPR_OVERRUN:
    case PT_SPR_SLOP:
        snprintf(buf, size, "end+%" PRId64, r->offset);
        break;
    case PT_SPR_UNDERRUN:
        snprintf(buf, size, "start-%" PRIu64, (uint64_t)0 - (uint64_t)r->offset);
        break;
    default:
        snprintf(buf, size, "start+%" PRId64, r->offset);
        break;
    }
}

static void print_report(emitter *e, ptr_trace *t, sym_ctx *sc, const pt_seg_spreport *r)
{
    char tt[64], tg[PT_TAG_TEXT_MAX], off[48], tid[40];
    if (emit_json(e)) {
        emit_obj_begin(e, NULL);
        emit_kv_u64(e, "seq", r->seq);
        emit_kv_u64(e, "time_ns", r->time_ns);
        emit_kv_str(e, "kind", ptr_spr_kind_name(r->kind));
        emit_kv_hex(e, "fault_addr", r->fault_addr);
        if (r->pc)
            emit_kv_hex(e, "pc", r->pc);
        else
            emit_kv_null(e, "pc");
        emit_kv_str(e, "access", ptr_spa_access_name(r->access));
        if (r->block) {
            emit_kv_hex(e, "block", r->block);
            emit_kv_u64(e, "size", r->size);
            emit_kv_tag(e, "tag", r->tag);
            emit_kv_i64(e, "offset", r->offset);
        } else {
            emit_kv_null(e, "block");
            emit_kv_null(e, "size");
            emit_kv_null(e, "tag");
            emit_kv_null(e, "offset");
        }
        emit_kv_u64(e, "tid", r->tid);
        if (r->signo)
            emit_kv_str(e, "signal", signal_name(r->signo));
        else
            emit_kv_null(e, "signal");
        emit_kv_bool(e, "recovered", r->recovered);
        print_stack(e, t, sc, "stack", NULL, r->stack, r->pc);
        emit_kv_u64(e, "alloc_tid", r->alloc_tid);
        print_stack(e, t, sc, "alloc_stack", NULL, r->alloc_stack, 0);
        if (r->free_stack || r->free_tid) {
            emit_kv_u64(e, "free_tid", r->free_tid);
            print_stack(e, t, sc, "free_stack", NULL, r->free_stack, 0);
        } else {
            emit_kv_null(e, "free_tid");
            emit_kv_null(e, "free_stack");
        }
        emit_obj_end(e);
        return;
    }
    emit_text(e, "report %" PRIu64 "  %s  %s", r->seq, cli_time_text(r->time_ns, tt, sizeof tt),
              ptr_spr_kind_name(r->kind));
    if (r->access != PT_SPA_UNKNOWN)
        emit_text(e, " (%s)", ptr_spa_access_name(r->access));
    emit_text(e, " at 0x%" PRIx64, r->fault_addr);
    if (r->block) {
        offset_text(r, off, sizeof off);
        emit_text(e, ", %s of block 0x%" PRIx64 " (%" PRIu64 " bytes, tag %s)", off, r->block,
                  r->size, cli_tag(r->tag, tg));
    } else {
        emit_text(e, ", in no block");
    }
    emit_text(e, "\n  thread %" PRIu32 "%s", r->tid, r->pc ? "" : ", found by a check");
    if (r->pc)
        emit_text(e, ", instruction 0x%" PRIx64, r->pc);
    if (r->recovered)
        emit_text(e, "; the program went on (recover)\n");
    else if (r->signo)
        emit_text(e, "; the process died with %s\n", signal_name(r->signo));
    else
        emit_text(e, "\n");
    print_stack(e, t, sc, NULL, r->pc ? "faulting stack" : "stack of the call", r->stack,
                r->pc);
    if (r->block) {
        snprintf(tid, sizeof tid, "allocated by thread %" PRIu32, r->alloc_tid);
        print_stack(e, t, sc, NULL, tid, r->alloc_stack, 0);
    }
    if (r->free_stack || r->free_tid) {
        snprintf(tid, sizeof tid, "freed by thread %" PRIu32, r->free_tid);
        print_stack(e, t, sc, NULL, tid, r->free_stack, 0);
    }
}

static void print_block(emitter *e, ptr_trace *t, sym_ctx *sc, const pt_seg_spblk *b)
{
    char tg[PT_TAG_TEXT_MAX], tid[40];
    if (emit_json(e)) {
        emit_obj_begin(e, NULL);
        emit_kv_hex(e, "addr", b->addr);
        emit_kv_u64(e, "size", b->size);
        emit_kv_tag(e, "tag", b->tag);
        emit_kv_str(e, "state", ptr_spb_state_name(b->state));
        emit_kv_bool(e, "underrun", (b->flags & PT_SPBF_UNDERRUN) != 0);
        emit_kv_bool(e, "sampled", (b->flags & PT_SPBF_SAMPLED) != 0);
        emit_kv_hex(e, "run", b->run);
        emit_kv_u64(e, "pages", b->npages);
        emit_kv_u64(e, "alloc_tid", b->alloc_tid);
        print_stack(e, t, sc, "alloc_stack", NULL, b->alloc_stack, 0);
        if (b->state != PT_SPB_LIVE) {
            emit_kv_u64(e, "free_tid", b->free_tid);
            print_stack(e, t, sc, "free_stack", NULL, b->free_stack, 0);
        } else {
            emit_kv_null(e, "free_tid");
            emit_kv_null(e, "free_stack");
        }
        emit_obj_end(e);
        return;
    }
    emit_text(e, "0x%012" PRIx64 " %10" PRIu64 "  %-4s  %-11s %" PRIu32 " pages%s%s\n",
              b->addr, b->size, cli_tag(b->tag, tg), ptr_spb_state_name(b->state),
              b->npages, b->flags & PT_SPBF_UNDERRUN ? ", underrun" : "",
              b->flags & PT_SPBF_SAMPLED ? ", sampled" : "");
    snprintf(tid, sizeof tid, "allocated by thread %" PRIu32, b->alloc_tid);
    print_stack(e, t, sc, NULL, tid, b->alloc_stack, 0);
    if (b->state != PT_SPB_LIVE) {
        snprintf(tid, sizeof tid, "freed by thread %" PRIu32, b->free_tid);
        print_stack(e, t, sc, NULL, tid, b->free_stack, 0);
    }
}

static int do_show(const char *spec, int blocks, int json)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    ptr_special sp;
    sym_ctx *sc = NULL;
    pt_seg_spblk *blk = NULL;
    pt_seg_spreport rep[PT_SEG_SPREPORTS];
    size_t nrep = 0, torn = 0, skipped = 0, nblk = 0, bskipped = 0;
    char err[512];
    const char *with = "none";
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (open_special(spec, &v, &src, &t, &sp) != 0)
        goto out;
    if (ptr_special_reports(&t, &sp, rep, &nrep, &torn, &skipped, err, sizeof err) < 0 ||
        (blocks && ptr_special_blocks(&t, &sp, &blk, &nblk, &bskipped, err, sizeof err) < 0)) {
        cli_err(VERB, "%s: %s", spec, err);
        goto out;
    }
    sc = cli_stack_symbols(src, &v, 0, &with);
    if (!sc) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    uint64_t total = sp.sp.reports_seq;
    uint64_t lost = total > PT_SEG_SPREPORTS ? total - PT_SEG_SPREPORTS : 0;
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_begin(&e);
    if (json) {
        emit_source(&e, &v, spec);
        emit_settings(&e, &t, &sp);
        emit_kv_u64(&e, "reports_total", total);
        emit_kv_u64(&e, "overwritten", lost);
        emit_kv_u64(&e, "torn", torn);
        emit_kv_u64(&e, "skipped", skipped);
        emit_kv_str(&e, "symbolized_with", with);
        emit_arr_begin(&e, "reports");
    } else {
        printf("special pool reports of ");
        cli_describe(stdout, &v, spec);
        printf("\nselectors:");
        print_selectors(&sp.sp);
        printf("; %" PRIu64 " report%s written\n", total, total == 1 ? "" : "s");
        if (lost)
            printf("%" PRIu64 " older report%s overwritten (the segment keeps the last %u)\n",
                   lost, lost == 1 ? " was" : "s were", PT_SEG_SPREPORTS);
    }
    for (size_t k = 0; k < nrep; k++) {
        if (!json)
            putchar('\n');
        print_report(&e, &t, sc, &rep[k]);
    }
    if (json) {
        emit_arr_end(&e);
    } else {
        if (torn)
            printf("\n%zu report%s skipped: being written while read\n", torn,
                   torn == 1 ? "" : "s");
        if (skipped)
            printf("\n%zu report%s skipped: corrupt\n", skipped, skipped == 1 ? "" : "s");
        if (!nrep)
            printf("no reports\n");
    }
    if (blocks) {
        if (json) {
            emit_kv_u64(&e, "blocks_skipped", bskipped);
            emit_arr_begin(&e, "blocks");
        } else {
            printf("\nblocks (%zu live, quarantined or reported)%s\n", nblk,
                   nblk ? ":" : "");
        }
        for (size_t k = 0; k < nblk; k++)
            print_block(&e, &t, sc, &blk[k]);
        if (json)
            emit_arr_end(&e);
        else if (bskipped)
            printf("%zu block record%s skipped: corrupt\n", bskipped,
                   bskipped == 1 ? "" : "s");
    }
    if (json)
        emit_end(&e);
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    free(blk);
    sym_free(sc);
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}

/* ---------------------------------------------------------------------- */

/* A COUNT setting of the options table (entry o) for option `what`. */
static int parse_count(const char *what, const char *s, const pt_opt_desc *o, uint32_t *out)
{
    size_t n = strlen(s);
    unsigned long long v = 0;
    int ok = n > 0 && n <= 10 && strspn(s, "0123456789") == n;
    if (ok)
        v = strtoull(s, NULL, 10);
    if (!ok || v < o->min || v > o->max) {
        cli_err(VERB, "%s wants a number from %" PRIu64 " to %" PRIu64 ", not '%s'", what,
                o->min, o->max, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int cmd_special(int argc, char **argv)
{
    static const struct option opts[] = {
        {"underrun", no_argument, NULL, 'u'},
        {"exact", no_argument, NULL, 'x'},
        {"recover", no_argument, NULL, 'r'},
        {"sample", required_argument, NULL, 'S'},
        {"quarantine", required_argument, NULL, 'q'},
        {"max-pages", required_argument, NULL, 'm'},
        {"off", no_argument, NULL, 'o'},
        {"show", required_argument, NULL, 's'},
        {"blocks", no_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sp_change c;
    const char *show = NULL;
    int blocks = 0, json = 0, opt;

    memset(&c, 0, sizeof c);
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': c.underrun = 1; break;
        case 'x': c.exact = 1; break;
        case 'r': c.recover = 1; break;
        case 'S':
            if (parse_count("--sample", optarg, OPT(SAMPLE_GUARD), &c.sample) < 0)
                return PT_EXIT_USAGE;
            c.have_sample = 1;
            break;
        case 'q':
            if (parse_count("--quarantine", optarg, OPT(QUARANTINE), &c.quarantine) < 0)
                return PT_EXIT_USAGE;
            c.have_quarantine = 1;
            break;
        case 'm':
            if (parse_count("--max-pages", optarg, OPT(SPECIAL_MAX_PAGES), &c.max_pages) < 0)
                return PT_EXIT_USAGE;
            c.have_max_pages = 1;
            break;
        case 'o': c.off = 1; break;
        case 's': show = optarg; break;
        case 'b': blocks = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, opt); return PT_EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    int settings = c.underrun || c.exact || c.recover || c.have_sample ||
                   c.have_quarantine || c.have_max_pages;
    if (show) {
        if (nargs) {
            cli_err(VERB, "--show takes one SOURCE ('%s' is extra; see pooltag special "
                    "--help)", argv[optind]);
            return PT_EXIT_USAGE;
        }
        if (settings || c.off) {
            cli_err(VERB, "--show reads a process or a file; the other options change "
                    "one: give one or the other");
            return PT_EXIT_USAGE;
        }
        return do_show(show, blocks, json);
    }
    if (blocks) {
        cli_err(VERB, "--blocks goes with --show SOURCE (see pooltag special --help)");
        return PT_EXIT_USAGE;
    }
    if (nargs == 0) {
        cli_err(VERB, "missing PID: pooltag special PID SEL..., pooltag special PID "
                "(status) or pooltag special --show SOURCE (see pooltag special --help)");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    int nsel = nargs - 1;
    if (nsel == 0 && !settings && !c.off)
        return do_status(spec, json);
    if (json) {
        cli_err(VERB, "--json goes with the status (pooltag special SOURCE --json) or "
                "--show; a change prints text");
        return PT_EXIT_USAGE;
    }
    if (!*spec || strspn(spec, "0123456789") != strlen(spec)) {
        cli_err(VERB, "'%s' is not a PID: special changes a running process (to read "
                "a snapshot: pooltag special --show FILE)", spec);
        return PT_EXIT_USAGE;
    }
    if (nsel > (int)PT_SEL_MAX) {
        cli_err(VERB, "at most %u selectors (%d given)", PT_SEL_MAX, nsel);
        return PT_EXIT_USAGE;
    }
    if (c.off && settings) {
        cli_err(VERB, "--off removes selectors or switches the pool off: --underrun, "
                "--exact, --recover, --sample, --quarantine and --max-pages do not go "
                "with it");
        return PT_EXIT_USAGE;
    }
    if (c.underrun && nsel == 0) {
        cli_err(VERB, "--underrun applies to the selectors given with it: give SEL");
        return PT_EXIT_USAGE;
    }
    c.words = argv + optind + 1;
    for (int i = 0; i < nsel; i++) {
        const char *why = "";
        if (pt_sel_parse(c.words[i], 0, &c.sel[i], &why) < 0) {
            cli_err(VERB, "bad selector '%s': %s", cli_esc(c.words[i]), why);
            return PT_EXIT_USAGE;
        }
        for (int k = 0; k < i; k++)
            if (sel_same(&c.sel[k], &c.sel[i])) {
                cli_err(VERB, "selector '%s' given twice", cli_esc(c.words[i]));
                return PT_EXIT_USAGE;
            }
    }
    c.nsel = nsel;
    return do_change(spec, &c);
}
