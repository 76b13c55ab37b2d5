/*
 * verify.c — `pooltag verify`: Driver Verifier's pool tracking for a
 * process.
 *
 *   pooltag verify PID --module GLOB[,GLOB] --on [--log-size N]
 *   pooltag verify PID [--module GLOB[,GLOB]] --off
 *   pooltag verify SOURCE [--stacks] [--json]          (!verifier 3)
 *   pooltag verify SOURCE --address ADDR [--json]      (!verifier 80 ADDR)
 *
 * Data model
 * ----------
 * Changing: the verified module globs (at most PT_CTL_VERIFY_MAX; --on
 * adds, --off removes the given ones or, without --module, all) and the
 * size of the verify log go into the control block through
 * ptr_control_change (control.c).  A glob must match a module the process
 * has loaded now (with a '/' its path, else its base name) or
 * nothing is changed: a module loaded later is verified from the start
 * with `pooltag run --verify`.
 *
 * Reporting: per module record whose statistics say it is or was verified
 * (pt_seg_vstat, same index as the module table), the counters in the
 * layout of `!verifier 3`; then its outstanding blocks (the tracked
 * records of that module, caller = the first frame of the block's stack,
 * --stacks: every frame); then the leak reports.  --address searches the
 * verify log (ring PT_RING_VERIFY) for the records of the block that
 * contains ADDR and prints them newest first with their stacks, and says
 * when the log does not reach back to the block's allocation.
 */
#include "verbs.h"
#include "stacks.h"
#include "util.h"
#include "ptglob.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *VERB = "verify";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: pooltag verify PID --module GLOB[,GLOB] --on [--log-size N]\n"
        "       pooltag verify PID [--module GLOB[,GLOB]] --off\n"
        "       pooltag verify SOURCE [--stacks] [--json]\n"
        "       pooltag verify SOURCE --address ADDR [--json]\n"
        "\n"
        "Pool tracking, after Driver Verifier: the running process records every\n"
        "allocation and free made by the verified modules (a glob on the\n"
        "module's base name, e.g. 'libfoo*', or with a '/' on its path; at\n"
        "most %u) with its stack.\n"
        "\n"
        "  --on, --off        start or stop verifying the --module globs (--off\n"
        "                     without --module: all); a glob must match a module\n"
        "                     loaded now, else nothing is changed (verify a module\n"
        "                     loaded later from the start: pooltag run --verify)\n"
        "  --module GLOB      module globs, comma-separated or repeated\n"
        "  --log-size N       with --on: records of the verify log to use (at most\n"
        "                     its capacity, PT_VERIFY_LOG at start; without it the\n"
        "                     size stays as it is); a new size restarts the log\n"
        "\n"
        "Reading a PID or a snapshot file:\n"
        "  (default)          per verified module, like !verifier 3: allocations\n"
        "                     attempted, succeeded, failed, with no explicit tag,\n"
        "                     current and peak allocations and bytes per pool,\n"
        "                     then its outstanding blocks (address, size, tag,\n"
        "                     caller) and the leaks reported at unload or exit\n"
        "  --stacks           the full stack of each outstanding block\n"
        "  --address ADDR     like !verifier 80 ADDR: every allocation and free of\n"
        "                     the block containing ADDR in the verify log, newest\n"
        "                     first, with stacks\n"
        "  --json             JSON\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 ok, 1 leaks were reported, 2 usage or input error\n"
        "(nothing changed).\n",
        PT_CTL_VERIFY_MAX);
}

/* ---------------------------------------------------------------------- */
/* Changing                                                               */

typedef struct verify_change {
    int on, off;
    uint32_t log_size;
    int nglob;
    char glob[PT_CTL_VERIFY_MAX][PT_CTL_GLOB_LEN];
} verify_change;

static int edit_verify(pt_seg_control *c, const ptr_view *v, const ptr_trace *t,
                       void *arg, char *err, size_t errlen)
{
    const verify_change *h = arg;
    (void)v;
    uint32_t cap = t->ring[PT_RING_VERIFY].cap;
    if (h->log_size > cap)
        return ptr__fail(err, errlen,
                         "--log-size %" PRIu32 ": the verify log has %" PRIu32
                         " records (reserved at start: raise PT_VERIFY_LOG)",
                         h->log_size, cap);
    if (h->off) {
        if (!h->nglob) {
            c->verify_n = 0;
            memset(c->verify_glob, 0, sizeof c->verify_glob);
            return 0;
        }
        for (int i = 0; i < h->nglob; i++) {
            uint32_t k;
            for (k = 0; k < c->verify_n; k++)
                if (strcmp(c->verify_glob[k], h->glob[i]) == 0)
                    break;
            if (k == c->verify_n)
                return ptr__fail(err, errlen, "'%s' is not verified in this process: "
                                 "nothing changed (see pooltag verify PID)", h->glob[i]);
            memmove(c->verify_glob[k], c->verify_glob[k + 1],
                    (c->verify_n - k - 1) * sizeof c->verify_glob[0]);
            c->verify_n--;
            memset(c->verify_glob[c->verify_n], 0, sizeof c->verify_glob[0]);
        }
        return 0;
    }
    for (int i = 0; i < h->nglob; i++) {
        uint32_t k;
        for (k = 0; k < c->verify_n; k++)
            if (strcmp(c->verify_glob[k], h->glob[i]) == 0)
                break;
        if (k < c->verify_n)
            continue;
        if (c->verify_n >= PT_CTL_VERIFY_MAX)
            return ptr__fail(err, errlen, "at most %u module globs are verified at "
                             "once: nothing changed (--off some first)",
                             PT_CTL_VERIFY_MAX);
        memcpy(c->verify_glob[c->verify_n++], h->glob[i], PT_CTL_GLOB_LEN);
    }
    if (h->log_size)
        c->verify_log = h->log_size;
    else if (c->verify_log == 0 || c->verify_log > cap)
        c->verify_log = cap;
    if (c->depth == 0)
        c->depth = t->hdr.max_depth < 32 ? t->hdr.max_depth : 32;
    return 0;
}

static int add_globs(verify_change *h, const char *list)
{
    const char *p = list;
    if (!*list || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,")) {
        cli_err(VERB, "--module wants module globs such as 'libfoo*', not '%s'", list);
        return -1;
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n >= PT_CTL_GLOB_LEN) {
            cli_err(VERB, "--module '%.*s': longer than %u characters", (int)n, p,
                    PT_CTL_GLOB_LEN - 1);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
                cli_err(VERB, "--module: a glob has no control characters");
                return -1;
            }
        if (h->nglob >= (int)PT_CTL_VERIFY_MAX) {
            cli_err(VERB, "--module: at most %u globs", PT_CTL_VERIFY_MAX);
            return -1;
        }
        memcpy(h->glob[h->nglob], p, n);
        h->glob[h->nglob][n] = 0;
        h->nglob++;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int do_change(const char *spec, verify_change *h)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    char err[512];
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (!*spec || strspn(spec, "0123456789") != strlen(spec)) {
        cli_err(VERB, "'%s' is not a PID: --on and --off change a running process", spec);
        return PT_EXIT_USAGE;
    }
    if (cli_read_trace(VERB, spec, &v, &src, &t) != PT_EXIT_OK)
        goto out;
    if (!t.present) {
        cli_err(VERB, "process %s (%s) cannot be verified: its pooltag runtime "
                "predates pool tracking", spec, cli_esc(v.comm));
        goto out;
    }
    if (h->on) {
        if (v.nmodules == 0) {
            cli_err(VERB, "process %s (%s) has no module table: pool tracking needs "
                    "the preload (pooltag run)", spec, cli_esc(v.comm));
            goto out;
        }
        for (int i = 0; i < h->nglob; i++) {
            int m = 0;
            for (size_t k = 0; k < v.nmodules; k++)
                if (!(v.modules[k].flags & PT_MOD_UNLOADED) &&
                    pt_module_glob(h->glob[i], v.modules[k].path))
                    m++;
            if (!m) {
                cli_err(VERB, "'%s' matches no module loaded in process %s (%s): "
                        "nothing changed (see pooltag lm %s; a module loaded later is "
                        "verified from the start with pooltag run --verify)",
                        h->glob[i], spec, cli_esc(v.comm), spec);
                goto out;
            }
        }
    }
    ptr_control_result res;
    if (ptr_control_change(src, &v, &t, edit_verify, h, 1000, &res, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        goto out;
    }
    printf("process %s (%s): verified modules:", spec, cli_esc(v.comm));
    if (!res.after.verify_n)
        printf(" none");
    for (uint32_t i = 0; i < res.after.verify_n; i++)
        printf(" '%s'", cli_esc(res.after.verify_glob[i]));
    printf("; log of %" PRIu32 " records (generation %" PRIu64 ")\n",
           res.after.verify_log, res.gen);
    status = cli_change_outcome(VERB, &res, "applied: %" PRIu32 " module%s verified now",
                                res.after.verify_matched,
                                res.after.verify_matched == 1 ? "" : "s");
out:
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    if (fflush(stdout) != 0)
        status = PT_EXIT_USAGE;
    return status;
}

/* ---------------------------------------------------------------------- */
/* Reporting                                                              */

static const char *mod_name(const ptr_view *v, uint32_t idx1)
{
    if (idx1 == 0 || idx1 > v->nmodules)
        return "?";
    const char *path = v->modules[idx1 - 1].path, *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int trk_cmp(const void *a, const void *b)
{
    const pt_seg_tracked *x = a, *y = b;
    if (x->module != y->module)
        return x->module < y->module ? -1 : 1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void emit_pool_line(emitter *e, const char *what, uint64_t n, uint64_t bytes)
{
    emit_text(e, "  %-34s %10" PRIu64 " for %12" PRIu64 " bytes\n", what, n, bytes);
}

static int do_report(const char *spec, int stacks, int json)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    pt_seg_vstat *vs = NULL;
    pt_seg_tracked *tr = NULL;
    size_t ntr = 0, nleaks = 0;
    pt_seg_leak leaks[PT_SEG_LEAKS];
    sym_ctx *sc = NULL;
    char err[512], text[1024], tg[PT_TAG_TEXT_MAX], tt[64];
    const char *with = "none";
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    if (cli_read_trace(VERB, spec, &v, &src, &t) != PT_EXIT_OK)
        goto out;
    if (!t.present) {
        cli_err(VERB, "%s has no pool tracking: its pooltag runtime predates it", spec);
        goto out;
    }
    if (ptr_trace_vstats(&t, v.nmodules, &vs, err, sizeof err) < 0 ||
        ptr_trace_tracked(&t, &tr, &ntr, err, sizeof err) < 0 ||
        ptr_trace_leaks(&t, leaks, &nleaks, err, sizeof err) < 0) {
        cli_err(VERB, "%s: %s", spec, err);
        goto out;
    }
    /* Blocks of a module recorded after the module table was read (a
     * module loaded meanwhile: the table is read first, the blocks after)
     * are counted, not listed. */
    size_t later = 0;
    for (size_t i = 0; i < ntr; i++)
        later += tr[i].module > v.nmodules;
    qsort(tr, ntr, sizeof *tr, trk_cmp);
    sc = cli_stack_symbols(src, &v, 0, &with);
    if (!sc) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_begin(&e);
    emit_source(&e, &v, spec);
    /* Totals over the modules verified now or before. */
    pt_seg_vstat tot;
    memset(&tot, 0, sizeof tot);
    size_t nver = 0;
    for (size_t i = 0; i < v.nmodules; i++) {
        const pt_seg_vstat *s = &vs[i];
        if (!(s->flags & (PT_VS_VERIFIED | PT_VS_EVER)))
            continue;
        nver++;
        tot.attempted += s->attempted;
        tot.succeeded += s->succeeded;
        tot.failed += s->failed;
        tot.untagged += s->untagged;
        tot.frees += s->frees;
        for (unsigned p = 0; p < PT_SEG_NPOOLS; p++) {
            tot.pool[p].cur_blocks += s->pool[p].cur_blocks;
            tot.pool[p].cur_bytes += s->pool[p].cur_bytes;
            tot.pool[p].peak_blocks += s->pool[p].peak_blocks;
            tot.pool[p].peak_bytes += s->pool[p].peak_bytes;
        }
    }
    if (!json) {
        printf("pool tracking of ");
        cli_describe(stdout, &v, spec);
        printf("\nverified module globs:");
        if (!t.ctl.verify_n)
            printf(" none");
        for (uint32_t i = 0; i < t.ctl.verify_n; i++)
            printf(" '%s'", cli_esc(t.ctl.verify_glob[i]));
        printf("\n\n");
        emit_text(&e, "Global counters (the %zu module%s verified now or before)\n", nver,
                  nver == 1 ? "" : "s");
        emit_text(&e, "  %-34s %10" PRIu64 "\n", "AllocationsAttempted", tot.attempted);
        emit_text(&e, "  %-34s %10" PRIu64 "\n", "AllocationsSucceeded", tot.succeeded);
        emit_text(&e, "  %-34s %10" PRIu64 "\n", "AllocationsFailed", tot.failed);
        emit_text(&e, "  %-34s %10" PRIu64 "\n", "AllocationsWithNoTag", tot.untagged);
        emit_text(&e, "  %-34s %10" PRIu64 "\n", "Frees", tot.frees);
        emit_text(&e, "\n");
        emit_pool_line(&e, "Current paged pool allocations", (uint64_t)tot.pool[PT_PAGED].cur_blocks,
                       (uint64_t)tot.pool[PT_PAGED].cur_bytes);
        emit_pool_line(&e, "Peak paged pool allocations", tot.pool[PT_PAGED].peak_blocks,
                       tot.pool[PT_PAGED].peak_bytes);
        emit_pool_line(&e, "Current nonpaged pool allocations",
                       (uint64_t)tot.pool[PT_NONPAGED].cur_blocks,
                       (uint64_t)tot.pool[PT_NONPAGED].cur_bytes);
        emit_pool_line(&e, "Peak nonpaged pool allocations", tot.pool[PT_NONPAGED].peak_blocks,
                       tot.pool[PT_NONPAGED].peak_bytes);
        if (t.ctl.tracked_dropped)
            emit_text(&e, "\n  %" PRIu64 " block%s not listed: the tracked table (%" PRIu32
                      " records) was full (raise PT_MAX_TRACKED)\n", t.ctl.tracked_dropped,
                      t.ctl.tracked_dropped == 1 ? "" : "s", t.hdr.max_tracked);
        if (t.ctl.stacks_dropped)
            emit_text(&e, "  %" PRIu64 " capture%s found the stack table full (%" PRIu32
                      " stacks): caller unknown (raise PT_MAX_STACKS)\n", t.ctl.stacks_dropped,
                      t.ctl.stacks_dropped == 1 ? "" : "s", t.hdr.max_stacks);
        emit_text(&e, "\nModule Verification List\n");
        emit_text(&e, "%-6s %-10s %14s %14s  %s\n", "Entry", "State", "NonPagedPool",
                  "PagedPool", "Module");
        for (size_t i = 0; i < v.nmodules; i++) {
            const pt_seg_vstat *s = &vs[i];
            if (!(s->flags & (PT_VS_VERIFIED | PT_VS_EVER)))
                continue;
            emit_text(&e, "%-6zu %-10s %14" PRId64 " %14" PRId64 "  %s\n", i + 1,
                      (v.modules[i].flags & PT_MOD_UNLOADED) ? "Unloaded"
                      : (s->flags & PT_VS_VERIFIED)        ? "Loaded"
                                                           : "Loaded(off)",
                      s->pool[PT_NONPAGED].cur_bytes, s->pool[PT_PAGED].cur_bytes,
                      cli_esc(v.modules[i].path));
        }
    } else {
        emit_obj_begin(&e, "settings");
        emit_arr_begin(&e, "modules");
        for (uint32_t i = 0; i < t.ctl.verify_n; i++)
            emit_kv_str(&e, NULL, t.ctl.verify_glob[i]);
        emit_arr_end(&e);
        emit_kv_u64(&e, "generation", t.ctl.gen);
        emit_kv_u64(&e, "applied_generation", t.ctl.applied_gen);
        emit_obj_end(&e);
        emit_kv_u64(&e, "tracked_dropped", t.ctl.tracked_dropped);
        emit_kv_u64(&e, "stacks_dropped", t.ctl.stacks_dropped);
        emit_kv_u64(&e, "blocks_not_shown", later);
        emit_kv_str(&e, "symbolized_with", with);
    }
    emit_arr_begin(&e, "modules");
    for (size_t i = 0; i < v.nmodules; i++) {
        const pt_seg_vstat *s = &vs[i];
        if (!(s->flags & (PT_VS_VERIFIED | PT_VS_EVER)))
            continue;
        size_t nb = 0;
        for (size_t k = 0; k < ntr; k++)
            nb += tr[k].module == i + 1;
        if (json) {
            emit_obj_begin(&e, NULL);
            emit_kv_str(&e, "path", v.modules[i].path);
            emit_kv_bool(&e, "verified", (s->flags & PT_VS_VERIFIED) != 0);
            emit_kv_bool(&e, "unloaded", (v.modules[i].flags & PT_MOD_UNLOADED) != 0);
            emit_kv_u64(&e, "attempted", s->attempted);
            emit_kv_u64(&e, "succeeded", s->succeeded);
            emit_kv_u64(&e, "failed", s->failed);
            emit_kv_u64(&e, "untagged", s->untagged);
            emit_kv_u64(&e, "frees", s->frees);
            emit_kv_u64(&e, "leaked_blocks", s->leaked_blocks);
            emit_kv_u64(&e, "leaked_bytes", s->leaked_bytes);
            emit_obj_begin(&e, "pools");
            for (unsigned p = 0; p < PT_SEG_NPOOLS; p++) {
                emit_obj_begin(&e, p == PT_PAGED ? "paged" : "nonpaged");
                emit_kv_i64(&e, "current_allocations", s->pool[p].cur_blocks);
                emit_kv_i64(&e, "current_bytes", s->pool[p].cur_bytes);
                emit_kv_u64(&e, "peak_allocations", s->pool[p].peak_blocks);
                emit_kv_u64(&e, "peak_bytes", s->pool[p].peak_bytes);
                emit_obj_end(&e);
            }
            emit_obj_end(&e);
            emit_arr_begin(&e, "outstanding");
        } else {
            emit_text(&e, "\n%s (%s%s)\n", cli_esc(v.modules[i].path),
                      (v.modules[i].flags & PT_MOD_UNLOADED) ? "unloaded" : "loaded",
                      (s->flags & PT_VS_VERIFIED) ? ", verified" : ", verified before");
            emit_text(&e, "  %-28s %12s %12s\n", "", "NonPagedPool", "PagedPool");
            emit_text(&e, "  %-28s %12" PRId64 " %12" PRId64 "\n", "Current Pool Allocations",
                      s->pool[PT_NONPAGED].cur_blocks, s->pool[PT_PAGED].cur_blocks);
            emit_text(&e, "  %-28s %12" PRId64 " %12" PRId64 "\n", "Current Pool Bytes",
                      s->pool[PT_NONPAGED].cur_bytes, s->pool[PT_PAGED].cur_bytes);
            emit_text(&e, "  %-28s %12" PRIu64 " %12" PRIu64 "\n", "Peak Pool Allocations",
                      s->pool[PT_NONPAGED].peak_blocks, s->pool[PT_PAGED].peak_blocks);
            emit_text(&e, "  %-28s %12" PRIu64 " %12" PRIu64 "\n", "Peak Pool Bytes",
                      s->pool[PT_NONPAGED].peak_bytes, s->pool[PT_PAGED].peak_bytes);
            emit_text(&e, "  attempted %" PRIu64 ", succeeded %" PRIu64 ", failed %" PRIu64
                      ", with no explicit tag %" PRIu64 ", frees %" PRIu64 "\n",
                      s->attempted, s->succeeded, s->failed, s->untagged, s->frees);
            emit_text(&e, "\n  %zu outstanding block%s%s\n", nb, nb == 1 ? "" : "s",
                      nb ? ":" : "");
            if (nb)
                emit_text(&e, "  %-18s %12s  %-4s  %s\n", "PoolAddress", "SizeInBytes",
                          "Tag", "CallersAddress");
        }
        for (size_t k = 0; k < ntr; k++) {
            if (tr[k].module != i + 1)
                continue;
            uint64_t fr[PT_SEG_DEPTH_LIMIT];
            uint32_t d = 0;
            int bad = ptr_trace_stack(&t, tr[k].stack, fr, &d, err, sizeof err) < 0;
            if (json) {
                emit_obj_begin(&e, NULL);
                emit_kv_hex(&e, "addr", tr[k].addr);
                emit_kv_u64(&e, "size", tr[k].size);
                emit_kv_tag(&e, "tag", tr[k].tag);
                emit_kv_str(&e, "pool", tr[k].pool ? "nonpaged" : "paged");
                emit_kv_u64(&e, "tid", tr[k].tid);
                emit_kv_u64(&e, "time_ns", tr[k].time_ns);
                emit_kv_bool(&e, "leaked", (tr[k].flags & PT_TRK_LEAKED) != 0);
                if (d)
                    emit_kv_str(&e, "caller", cli_frame_text(sc, fr[0], text, sizeof text, NULL));
                else
                    emit_kv_null(&e, "caller");
                if (bad)
                    emit_kv_str(&e, "stack_error", err);
                if (stacks)
                    cli_emit_stack(&e, sc, fr, d, "");
                emit_obj_end(&e);
            } else {
                emit_text(&e, "  0x%016" PRIx64 " %12" PRIu64 "  %-4s  %s%s\n", tr[k].addr,
                          tr[k].size, cli_tag(tr[k].tag, tg),
                          d ? cli_frame_text(sc, fr[0], text, sizeof text, NULL)
                            : bad ? "(stack unreadable)" : "(no stack)",
                          (tr[k].flags & PT_TRK_LEAKED) ? "  LEAKED" : "");
                if (stacks && d > 1)
                    cli_emit_stack(&e, sc, fr, d, "        ");
            }
        }
        if (json) {
            emit_arr_end(&e);
            emit_obj_end(&e);
        }
    }
    emit_arr_end(&e);
    /* Leak reports (bug check 0xC4/0x62, without the crash). */
    emit_arr_begin(&e, "leaks");
    if (!json && nleaks)
        emit_text(&e, "\nLeaks reported (Driver Verifier's bug check 0xC4, 0x62: a module "
                  "unloaded, or the process exited, with outstanding blocks):\n");
    for (size_t i = 0; i < nleaks; i++) {
        const pt_seg_leak *l = &leaks[i];
        const char *why = l->reason == PT_LEAK_UNLOAD ? "unload" : "exit";
        if (json) {
            emit_obj_begin(&e, NULL);
            emit_kv_u64(&e, "seq", l->seq);
            emit_kv_u64(&e, "time_ns", l->time_ns);
            emit_kv_str(&e, "module", l->module && l->module <= v.nmodules
                                          ? v.modules[l->module - 1].path : NULL);
            emit_kv_str(&e, "reason", why);
            emit_kv_u64(&e, "blocks", l->blocks);
            emit_kv_u64(&e, "bytes", l->bytes);
            emit_obj_end(&e);
        } else {
            emit_text(&e, "  %s  %s at %s: %" PRIu64 " block%s, %" PRIu64 " bytes\n",
                      cli_time_text(l->time_ns, tt, sizeof tt),
                      cli_esc(mod_name(&v, l->module)), why, l->blocks,
                      l->blocks == 1 ? "" : "s", l->bytes);
        }
    }
    emit_arr_end(&e);
    if (!json && t.ctl.leaks_seq > nleaks)
        emit_text(&e, "  (%" PRIu64 " earlier report%s overwritten: the last %u are kept)\n",
                  t.ctl.leaks_seq - nleaks, t.ctl.leaks_seq - nleaks == 1 ? " was" : "s were",
                  PT_SEG_LEAKS);
    if (later)
        emit_text(&e, "\n%zu outstanding block%s of modules loaded while this was read "
                  "not shown (read again)\n", later, later == 1 ? "" : "s");
    if (!json && nver == 0)
        emit_text(&e, "\nno module is or was verified (pooltag verify PID --module GLOB --on, "
                  "or pooltag run --verify GLOB)\n");
    emit_end(&e);
    status = nleaks ? PT_EXIT_FINDING : PT_EXIT_OK;
    if (fflush(stdout) != 0)
        status = PT_EXIT_USAGE;
out:
    sym_free(sc);
    free(vs);
    free(tr);
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}

static int do_address(const char *spec, uint64_t addr, int json)
{
    ptr_view v;
    ptr_source *src = NULL;
    ptr_trace t;
    ptr_ring_read r;
    pt_seg_tracked *tr = NULL;
    size_t ntr = 0;
    sym_ctx *sc = NULL;
    char err[512], tg[PT_TAG_TEXT_MAX], tt[64];
    int status = PT_EXIT_USAGE;

    memset(&v, 0, sizeof v);
    memset(&r, 0, sizeof r);
    if (cli_read_trace(VERB, spec, &v, &src, &t) != PT_EXIT_OK)
        goto out;
    if (!t.present) {
        cli_err(VERB, "%s has no verify log: its pooltag runtime predates it", spec);
        goto out;
    }
    if (ptr_trace_ring(&t, PT_RING_VERIFY, 0, &r, err, sizeof err) < 0 ||
        ptr_trace_tracked(&t, &tr, &ntr, err, sizeof err) < 0) {
        cli_err(VERB, "%s: %s", spec, err);
        goto out;
    }
    sc = cli_stack_symbols(src, &v, 0, NULL);
    if (!sc) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    /* The blocks that contain addr: allocation records that cover it; the
     * frees of those blocks (a free record's address is the block's). */
    uint64_t *blocks = NULL;
    size_t nblocks = 0;
    for (size_t k = 0; k < r.n; k++) {
        const pt_seg_rec *x = &r.recs[k];
        if (x->op == PT_OP_ALLOC && addr >= x->addr && addr - x->addr < (x->size ? x->size : 1)) {
            uint64_t *nb = realloc(blocks, (nblocks + 1) * sizeof *nb);
            if (!nb) {
                free(blocks);
                cli_err(VERB, "out of memory");
                goto out;
            }
            blocks = nb;
            blocks[nblocks++] = x->addr;
        }
    }
    const pt_seg_tracked *live = NULL;
    for (size_t k = 0; k < ntr; k++)
        if (addr >= tr[k].addr && addr - tr[k].addr < (tr[k].size ? tr[k].size : 1))
            live = &tr[k];
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    emit_begin(&e);
    emit_source(&e, &v, spec);
    emit_kv_hex(&e, "address", addr);
    emit_obj_begin(&e, "log");
    emit_kv_u64(&e, "capacity", r.cap);
    emit_kv_u64(&e, "size", r.size);
    emit_kv_u64(&e, "first", r.first);
    emit_kv_u64(&e, "head", r.head);
    emit_kv_u64(&e, "overwritten", r.lost);
    emit_kv_u64(&e, "torn", r.torn);
    emit_obj_end(&e);
    if (!json) {
        printf("verify log of ");
        cli_describe(stdout, &v, spec);
        printf("\nsearching %zu record%s for the block containing 0x%" PRIx64 "\n", r.n,
               r.n == 1 ? "" : "s", addr);
    }
    size_t shown = 0;
    int oldest_op = 0;   /* of the matching records */
    emit_arr_begin(&e, "records");
    for (size_t k = r.n; k-- > 0;) {
        const pt_seg_rec *x = &r.recs[k];
        int mine = 0;
        for (size_t b = 0; b < nblocks && !mine; b++)
            mine = x->addr == blocks[b];
        if (!mine)
            continue;
        oldest_op = x->op;
        uint64_t fr[PT_SEG_DEPTH_LIMIT];
        uint32_t d = 0;
        int bad = ptr_trace_stack(&t, x->stack, fr, &d, err, sizeof err) < 0;
        const char *op = x->op == PT_OP_ALLOC ? "allocation" : "free";
        if (json) {
            emit_obj_begin(&e, NULL);
            emit_kv_u64(&e, "index", x->seq - 1);
            emit_kv_str(&e, "op", x->op == PT_OP_ALLOC ? "alloc" : "free");
            emit_kv_u64(&e, "time_ns", x->time_ns);
            emit_kv_u64(&e, "tid", x->tid);
            emit_kv_hex(&e, "addr", x->addr);
            emit_kv_u64(&e, "size", x->size);
            emit_kv_tag(&e, "tag", x->tag);
            emit_kv_str(&e, "module", x->module ? mod_name(&v, x->module) : NULL);
            if (bad)
                emit_kv_str(&e, "stack_error", err);
            cli_emit_stack(&e, sc, fr, d, "");
            emit_obj_end(&e);
        } else {
            emit_text(&e, "\n%s  %s of 0x%" PRIx64 " (%" PRIu64 " bytes, tag %s, module %s) "
                      "by thread %" PRIu32 "\n", cli_time_text(x->time_ns, tt, sizeof tt), op,
                      x->addr, x->size, cli_tag(x->tag, tg),
                      cli_esc(x->module ? mod_name(&v, x->module) : "?"), x->tid);
            if (bad)
                emit_text(&e, "    (stack unreadable: %s)\n", err);
            cli_emit_stack(&e, sc, fr, d, "    ");
        }
        shown++;
    }
    emit_arr_end(&e);
    /* The log does not reach back to the block's allocation when it lost
     * records and what it has of the block starts with a free (or it has
     * nothing of it at all). */
    int short_log = r.lost > 0 && (!shown || oldest_op == PT_OP_FREE);
    emit_kv_bool(&e, "log_too_short", short_log);
    if (live) {
        emit_obj_begin(&e, "outstanding");
        emit_kv_hex(&e, "addr", live->addr);
        emit_kv_u64(&e, "size", live->size);
        emit_kv_tag(&e, "tag", live->tag);
        emit_obj_end(&e);
    }
    if (!json) {
        if (live)
            emit_text(&e, "\n0x%" PRIx64 " is inside outstanding block 0x%" PRIx64 " (%" PRIu64
                      " bytes, tag %s, module %s)\n", addr, live->addr, live->size,
                      cli_tag(live->tag, tg), cli_esc(mod_name(&v, live->module)));
        if (!shown)
            emit_text(&e, "\nno allocation or free of a block containing 0x%" PRIx64
                      " in the verify log\n", addr);
        if (short_log) {
            char first[64] = "?";
            if (r.n)
                cli_time_text(r.recs[0].time_ns, first, sizeof first);
            emit_text(&e, "the log no longer reaches back far enough: its oldest record "
                      "is from %s and %" PRIu64 " older one%s were overwritten (raise "
                      "--log-size, at most PT_VERIFY_LOG = %" PRIu32 ")\n", first, r.lost,
                      r.lost == 1 ? "" : "s", r.cap);
        }
        if (r.torn)
            emit_text(&e, "%" PRIu64 " record%s skipped: being written while read\n", r.torn,
                      r.torn == 1 ? "" : "s");
    }
    emit_end(&e);
    free(blocks);
    status = fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
out:
    ptr_ring_free(&r);
    sym_free(sc);
    free(tr);
    ptr_view_free(&v);
    if (src)
        ptr_close(src);
    return status;
}

/* ---------------------------------------------------------------------- */

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"module", required_argument, NULL, 'm'},
        {"on", no_argument, NULL, 'n'},
        {"off", no_argument, NULL, 'f'},
        {"log-size", required_argument, NULL, 'l'},
        {"stacks", no_argument, NULL, 's'},
        {"address", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    verify_change h;
    int c, stacks = 0, json = 0, have_addr = 0;
    uint64_t addr = 0;

    memset(&h, 0, sizeof h);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (add_globs(&h, optarg) < 0)
                return PT_EXIT_USAGE;
            break;
        case 'n': h.on = 1; break;
        case 'f': h.off = 1; break;
        case 'l': {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (!*optarg || *end || errno || *optarg == '-' || n == 0 || n > UINT32_MAX) {
                cli_err(VERB, "--log-size wants a number of records >= 1, not '%s'", optarg);
                return PT_EXIT_USAGE;
            }
            h.log_size = (uint32_t)n;
            break;
        }
        case 's': stacks = 1; break;
        case 'a': {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 0);
            if (!*optarg || *end || errno || *optarg == '-') {
                cli_err(VERB, "--address wants an address (0x... or decimal), not '%s'",
                        optarg);
                return PT_EXIT_USAGE;
            }
            addr = n;
            have_addr = 1;
            break;
        }
        case 'j': json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default: cli_opt_error(VERB, argv, c); return PT_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_err(VERB, argc == optind ? "missing SOURCE: a PID or a snapshot file (see "
                                       "pooltag verify --help)"
                                     : "too many arguments (see pooltag verify --help)");
        return PT_EXIT_USAGE;
    }
    const char *spec = argv[optind];
    if (h.on && h.off) {
        cli_err(VERB, "--on or --off, not both");
        return PT_EXIT_USAGE;
    }
    if (h.on || h.off) {
        if (stacks || json || have_addr) {
            cli_err(VERB, "--stacks, --address and --json read a report; --on and --off "
                    "change a process: give one or the other");
            return PT_EXIT_USAGE;
        }
        if (h.on && !h.nglob) {
            cli_err(VERB, "--on wants --module GLOB (which modules to verify)");
            return PT_EXIT_USAGE;
        }
        if (h.off && h.log_size) {
            cli_err(VERB, "--log-size goes with --on");
            return PT_EXIT_USAGE;
        }
        return do_change(spec, &h);
    }
    if (h.nglob || h.log_size) {
        cli_err(VERB, "--module and --log-size go with --on or --off");
        return PT_EXIT_USAGE;
    }
    if (have_addr) {
        if (stacks) {
            cli_err(VERB, "--address always prints stacks: --stacks does not go with it");
            return PT_EXIT_USAGE;
        }
        return do_address(spec, addr, json);
    }
    return do_report(spec, stacks, json);
}
