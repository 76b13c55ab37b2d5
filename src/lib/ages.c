/*
 * ages.c — age epochs as people and programs read them: bands, the
 * legend, the JSON of the epochs, and the one-reading leak suspects
 * (ages.h; the method is docs/used.md's "Leak suspects").
 */
#include "ages.h"
#include "fmt.h"
#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Bands of the youngest age.  Epochs grow with the process's age (each
 * about a fifth of the life so far), so ages are known to within a ratio:
 * bands a factor of 6 to 24 apart, at the round figures people think in
 * (docs/used.md, "Ages", says what they can and cannot resolve). */
const age_band age_bands[AGE_NBANDS] = {
    {"<10s", 0, 10},
    {"10s-1m", 10, 60},
    {"1m-10m", 60, 600},
    {"10m-1h", 600, 3600},
    {"1h-1d", 3600, 86400},
    {">1d", 86400, 0},
};

int age_present(const ptr_view *v)
{
    return v->age_n > 0 && v->age_n <= PT_AGE_EPOCHS && v->site_ages != NULL;
}

int age_require(const char *verb, const char *option, const ptr_view *v, const char *spec)
{
    if (age_present(v))
        return PT_EXIT_OK;
    cli_err(verb,
            "%s has no age epochs (its pooltag runtime or snapshot predates them): %s "
            "needs a process run with a newer libpooltag",
            spec, option);
    return PT_EXIT_USAGE;
}

static uint64_t since(const ptr_view *v, uint64_t t)
{
    return v->taken_ns > t ? v->taken_ns - t : 0;
}

uint64_t age_min_ns(const ptr_view *v, uint32_t e)
{
    return e + 1 < v->age_n ? since(v, v->age_start_real[e + 1]) : 0;
}

uint64_t age_max_ns(const ptr_view *v, uint32_t e)
{
    uint64_t hi = since(v, v->age_start_real[e]), lo = age_min_ns(v, e);
    return hi > lo ? hi : lo;
}

int age_band_of(const ptr_view *v, uint32_t e)
{
    uint64_t s = age_min_ns(v, e) / 1000000000u;
    int b = 0;
    while (b + 1 < AGE_NBANDS && s >= age_bands[b + 1].min_s)
        b++;
    return b;
}

/* a + b, wrapping as the counters do (hostile values never overflow a
 * signed sum). */
static int64_t add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

void age_row_add(age_row *r, const ptr_view *v, size_t i)
{
    if (!age_present(v) || i >= v->nsites)
        return;
    const pt_seg_age_live *a = &v->site_ages[i * v->age_n];
    for (uint32_t e = 0; e < v->age_n; e++) {
        int b = age_band_of(v, e);
        r->ep_bytes[e] = add(r->ep_bytes[e], a[e].bytes);
        r->ep_blocks[e] = add(r->ep_blocks[e], a[e].blocks);
        r->band_bytes[b] = add(r->band_bytes[b], a[e].bytes);
        r->band_blocks[b] = add(r->band_blocks[b], a[e].blocks);
    }
}

static void bb_member(emitter *e, int64_t bytes, int64_t blocks)
{
    emit_obj_begin(e, NULL);
    emit_kv_i64(e, "bytes", bytes);
    emit_kv_i64(e, "blocks", blocks);
    emit_obj_end(e);
}

void age_emit_row(emitter *e, int col0, const age_row *r, const ptr_view *v)
{
    char text[32];
    for (int b = 0; b < AGE_NBANDS; b++) {
        if (r->band_bytes[b] == 0 && r->band_blocks[b] == 0)
            snprintf(text, sizeof text, "-");
        else
            fmt_bytes((double)r->band_bytes[b], text, sizeof text);
        emit_col_text(e, col0 + b, text);
    }
    age_emit_json(e, r, v);
}

void age_emit_json(emitter *e, const age_row *r, const ptr_view *v)
{
    emit_obj_begin(e, "age");
    emit_arr_begin(e, "bands");
    for (int b = 0; b < AGE_NBANDS; b++)
        bb_member(e, r->band_bytes[b], r->band_blocks[b]);
    emit_arr_end(e);
    emit_arr_begin(e, "epochs");
    for (uint32_t k = 0; k < v->age_n && k < PT_AGE_EPOCHS; k++)
        bb_member(e, r->ep_bytes[k], r->ep_blocks[k]);
    emit_arr_end(e);
    emit_obj_end(e);
}

void age_emit_table(emitter *e, const ptr_view *v)
{
    if (!emit_json(e))
        return;
    emit_obj_begin(e, "age");
    emit_arr_begin(e, "epochs");
    for (uint32_t k = 0; k < v->age_n && k < PT_AGE_EPOCHS; k++) {
        emit_obj_begin(e, NULL);
        emit_kv_u64(e, "epoch", k);
        emit_kv_u64(e, "start_ns", v->age_start_real[k]);
        if (k + 1 < v->age_n)
            emit_kv_u64(e, "end_ns", v->age_start_real[k + 1]);
        else
            emit_kv_null(e, "end_ns");
        emit_kv_u64(e, "min_age_ns", age_min_ns(v, k));
        emit_kv_u64(e, "max_age_ns", age_max_ns(v, k));
        emit_kv_str(e, "band", age_bands[age_band_of(v, k)].name);
        emit_obj_end(e);
    }
    emit_arr_end(e);
    emit_arr_begin(e, "bands");
    for (int b = 0; b < AGE_NBANDS; b++) {
        emit_obj_begin(e, NULL);
        emit_kv_str(e, "name", age_bands[b].name);
        emit_kv_u64(e, "min_age_s", age_bands[b].min_s);
        if (age_bands[b].max_s)
            emit_kv_u64(e, "max_age_s", age_bands[b].max_s);
        else
            emit_kv_null(e, "max_age_s");
        emit_obj_end(e);
    }
    emit_arr_end(e);
    emit_obj_end(e);
}

void age_legend(emitter *e, const ptr_view *v)
{
    char cur[32], life[32], longest[32];
    if (emit_json(e) || !age_present(v))
        return;
    uint64_t lmax = 0;
    for (uint32_t k = 0; k + 1 < v->age_n; k++)
        if (age_max_ns(v, k) - age_min_ns(v, k) > lmax)
            lmax = age_max_ns(v, k) - age_min_ns(v, k);
    fmt_secs((double)age_max_ns(v, v->age_n - 1) / 1e9, cur, sizeof cur);
    fmt_secs((double)age_max_ns(v, 0) / 1e9, life, sizeof life);
    fmt_secs((double)lmax / 1e9, longest, sizeof longest);
    emit_text(e,
              "\n   Age bands: live bytes (both pools) by the age of their blocks, known to within\n"
              "   the epoch each was allocated in (%" PRIu32 " epochs over the process's %s, the longest\n"
              "   ended one %s).  A block counts in the band of the youngest age it may have,\n"
              "   so no age is overstated: the current epoch's blocks (the last %s) count\n"
              "   as <10s.\n",
              v->age_n, life, v->age_n > 1 ? longest : "-", cur);
}

/* ---- Suspects ----------------------------------------------------------- */

/* The old epochs for cut (s): e < n - 1 with a youngest age >= cut; their
 * bytes, blocks and time span, from the first that holds bytes. */
typedef struct old_set {
    int64_t bytes, blocks;
    double span_s;              /* time the old epochs cover, from onset   */
    uint32_t first, last;       /* onset .. youngest old epoch             */
    uint32_t n, with_bytes;
} old_set;

static double len_s(const ptr_view *v, uint32_t e)
{
    return (double)(age_max_ns(v, e) - age_min_ns(v, e)) / 1e9;
}

static void old_epochs(const ptr_view *v, const pt_seg_age_live *a, double cut, old_set *o)
{
    memset(o, 0, sizeof *o);
    int onset = 0;
    for (uint32_t e = 0; e + 1 < v->age_n; e++) {
        if ((double)age_min_ns(v, e) / 1e9 < cut)
            break;      /* epochs only get younger */
        if (!onset && a[e].bytes <= 0)
            continue;
        if (!onset)
            o->first = e;
        onset = 1;
        o->last = e;
        o->n++;
        o->span_s += len_s(v, e);
        if (a[e].bytes > 0) {
            o->with_bytes++;
            o->bytes = add(o->bytes, a[e].bytes);
            o->blocks = add(o->blocks, a[e].blocks > 0 ? a[e].blocks : 0);
        }
    }
}

int age_suspect_eval(const ptr_view *v, size_t i, age_suspect *s)
{
    memset(s, 0, sizeof *s);
    s->site = i;
    s->lifetime_s = NAN;
    if (!age_present(v) || i >= v->nsites)
        return 0;
    const struct ptr_site *site = &v->sites[i];
    const pt_seg_age_live *a = &v->site_ages[i * v->age_n];
    uint64_t ba = 0, bf = 0;
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        s->allocs += site->pool[p].allocs;
        s->frees += site->pool[p].frees;
        ba += site->pool[p].bytes_alloc;
        bf += site->pool[p].bytes_freed;
    }
    s->live_bytes = cli_diff(ba, bf);
    s->live_blocks = cli_diff(s->allocs, s->frees);
    s->age_s = (double)age_max_ns(v, 0) / 1e9;
    if (s->age_s <= 0)
        return 0;
    s->alloc_rate = (double)ba / s->age_s;
    double free_rate = (double)bf / s->age_s;
    uint32_t cur = v->age_n - 1;
    double cur_len = len_s(v, cur);
    double cur_bytes = a[cur].bytes > 0 ? (double)a[cur].bytes : 0;

    /* The cut: old = at least AGE_SUSPECT_MIN_OLD_S old and, for a site
     * that frees (AGE_SUSPECT_MIN_FREED of its bytes or more),
     * AGE_SUSPECT_LIFETIMES typical lifetimes.  The lifetime is Little's
     * law on the current epoch's bytes less the steady part that the old
     * epochs' density predicts there, over the rate of freeing; the cut
     * only moves older, so this ends.  (A site that frees a sliver of
     * what it allocates has no lifetime worth the name: the noise of its
     * current epoch over a tiny rate of freeing would push the cut past
     * any age.) */
    old_set o;
    double cut = AGE_SUSPECT_MIN_OLD_S;
    for (int round = 0; round < 16; round++) {
        old_epochs(v, a, cut, &o);
        double next = cut;
        if (bf > 0 && (double)bf >= AGE_SUSPECT_MIN_FREED * (double)ba) {
            double density = o.span_s > 0 ? (double)o.bytes / o.span_s : 0;
            double young = cur_bytes - density * cur_len;
            s->lifetime_s = (young > 0 ? young : 0) / free_rate;
            if (AGE_SUSPECT_LIFETIMES * s->lifetime_s > next)
                next = AGE_SUSPECT_LIFETIMES * s->lifetime_s;
        }
        if (!(next > cut))
            break;
        cut = next;
    }
    s->cut_s = cut;
    s->old_bytes = o.bytes;
    s->old_blocks = o.blocks;
    s->old_epochs = o.n;
    s->old_epochs_bytes = o.with_bytes;
    if (o.n == 0 || o.bytes <= 0 || o.span_s <= 0)
        return 0;
    s->old_age_s = (double)age_min_ns(v, o.last) / 1e9;

    /* Steadiness: a steady leak holds bytes in each old epoch in
     * proportion to its length; a cache or a warm-up holds them in a few
     * early epochs.  1 - the total variation distance between the two
     * spreads. */
    double tv = 0;
    for (uint32_t e = o.first; e <= o.last; e++) {
        double p = a[e].bytes > 0 ? (double)a[e].bytes / (double)o.bytes : 0;
        double q = len_s(v, e) / o.span_s;
        tv += fabs(p - q);
    }
    s->steadiness = 1 - tv / 2;
    if (s->steadiness < 0)
        s->steadiness = 0;
    s->score = (double)s->old_bytes * s->steadiness;
    s->listed = s->old_epochs_bytes >= AGE_SUSPECT_MIN_EPOCHS &&
                s->steadiness >= AGE_SUSPECT_MIN_STEADY;
    return s->listed;
}

void age_suspect_text(const age_suspect *s, char *buf, size_t size)
{
    char held[32], old[32], rate[32], life[32];
    size_t o = 0;
    fmt_bytes((double)s->old_bytes, held, sizeof held);
    fmt_secs(s->old_age_s, old, sizeof old);
    fmt_bytes(s->alloc_rate, rate, sizeof rate);
    o += (size_t)snprintf(buf + o, size - o,
                          "holds %s (%" PRId64 " block%s) allocated more than %s ago; "
                          "allocates %s/s",
                          held, s->old_blocks, s->old_blocks == 1 ? "" : "s", old, rate);
    if (o < size) {
        if (s->frees == 0)
            o += (size_t)snprintf(buf + o, size - o, ", frees none");
        else if (isnan(s->lifetime_s))
            o += (size_t)snprintf(buf + o, size - o, ", frees %" PRIu64 " blocks", s->frees);
        else {
            fmt_secs(s->lifetime_s, life, sizeof life);
            o += (size_t)snprintf(buf + o, size - o, " and frees blocks within ~%s", life);
        }
    }
    if (o < size)
        snprintf(buf + o, size - o, "; bytes in %" PRIu32 " of %" PRIu32 " old epochs, steady %.0f%%",
                 s->old_epochs_bytes, s->old_epochs, 100 * s->steadiness);
}

int age_suspect_cmp(const void *pa, const void *pb)
{
    const age_suspect *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->old_bytes != b->old_bytes)
        return a->old_bytes > b->old_bytes ? -1 : 1;
    return a->site < b->site ? -1 : a->site > b->site;
}
