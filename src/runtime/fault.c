/*
 * fault.c — fault injection (issue 12, Driver Verifier's Low Resources
 * Simulation): the selected tags' or modules' requests fail with ENOMEM.
 *
 * Data model
 * ----------
 * The settings are the fault selectors of the special page
 * (pt_seg_special.fault[], fault_n), written from outside by `pooltag
 * fault` or at start from PT_FAIL (pt__fi_env).  pt__fi_apply (called by
 * trace.c's apply_now, which holds the apply flag) validates them and
 * copies them into one of two private configurations, then publishes it
 * (`cur`) with a new epoch.  A tag entry's (module record's) match is
 * computed once per epoch, lazily, by the first classify that needs it,
 * and kept in tag_sel[] (mod_sel[]): (epoch << 8) | (selector + 1), 0xff
 * in the low byte for "no selector" — so tags created after the apply are
 * matched too, without a hook in the tag table.  Apply also computes the
 * existing entries at once, for spc->fault_matched.
 *
 * A selector's decisions: request n (0, 1, ... counted per selector from
 * the moment its after= delay has passed) fails when
 * mix(seed, n) % PT_FI_RATE_ONE < rate: one thread sees a fixed sequence
 * for a seed.  A selector that an apply finds unchanged (any other setting
 * of the control block changed) keeps its counter and its start time.
 *
 * Invariants: no allocation, no lock, no wait (atomics only; safe in a
 * signal handler and across fork: the child inherits the state).
 */
#define _GNU_SOURCE
#include "rtstate.h"
#include "ptglob.h"
#include "ptsel.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>

int pt__fi_on;

typedef struct fi_state {
    uint64_t n;        /* requests decided since armed (atomic)          */
    uint64_t start_ms; /* CLOCK_MONOTONIC ms when the selector was applied */
    int armed;         /* after_ms has passed                             */
} fi_state;

typedef struct fi_cfg {
    uint32_t n;
    uint32_t epoch;
    pt_seg_sel sel[PT_SEL_MAX];
} fi_cfg;

static fi_cfg cfgs[2];
static fi_cfg *cur = &cfgs[0];           /* the published configuration */
static fi_state state[PT_SEL_MAX];
static uint32_t *tag_sel, *mod_sel;      /* private maps, lazily filled  */
static uint32_t tag_cap, mod_cap;
static uint32_t epoch_next = 1;

#define NO_SEL 0xffu
#define EMPTY 0x100u /* first_match: a free tag entry (never memoized) */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mix(uint64_t seed, uint64_t n)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ (n + 0x632be59bd9b4e019ull);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static void *private_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int maps_ready(void)
{
    if (tag_sel && mod_sel)
        return 1;
    if (!pt__seg)
        return 0;
    tag_cap = pt__seg->max_tags + 1;
    mod_cap = pt__seg->max_modules;
    tag_sel = private_map((size_t)tag_cap * sizeof *tag_sel);
    mod_sel = private_map((size_t)(mod_cap ? mod_cap : 1) * sizeof *mod_sel);
    if (!tag_sel || !mod_sel) {
        pt__warn("no memory for fault injection; it stays off", NULL);
        return 0;
    }
    return 1;
}

/* ---- matching ------------------------------------------------------------ */

static const pt_seg_module *module_rec(uint32_t rec)
{
    return &((const pt_seg_module *)((const char *)pt__seg + pt__seg->modules_off))[rec];
}

/* The first selector of kind `kind` of c that matches tag entry tidx
 * (module record rec), NO_SEL when none. */
static uint32_t first_match(const fi_cfg *c, unsigned kind, uint32_t tidx, uint32_t rec)
{
    uint32_t tag = 0;
    const char *path = NULL;
    if (kind == PT_SEL_TAG) {
        tag = __atomic_load_n(&seg_keys[tidx], __ATOMIC_ACQUIRE);
        if (!tag)
            return EMPTY; /* a free entry: decided when a tag takes it */
    } else {
        if (rec >= mod_cap || rec >= __atomic_load_n(&pt__seg->modules_used, __ATOMIC_ACQUIRE))
            return NO_SEL;
        path = module_rec(rec)->path;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        const pt_seg_sel *s = &c->sel[i];
        if (s->kind != kind)
            continue;
        if (kind == PT_SEL_TAG ? pt_tag_glob(s->text, tag) : pt_module_glob(s->text, path))
            return i;
    }
    return NO_SEL;
}

/* The memo of entry i in map m for c's epoch: computed when stale. */
static uint32_t memo(uint32_t *m, uint32_t cap, const fi_cfg *c, unsigned kind, uint32_t i,
                     uint32_t rec, int count)
{
    if (i >= cap)
        return NO_SEL;
    uint32_t v = __atomic_load_n(&m[i], __ATOMIC_RELAXED);
    if (v && v >> 8 == c->epoch)
        return v & 0xffu;
    uint32_t s = first_match(c, kind, i, rec);
    if (s == EMPTY)
        return NO_SEL;
    uint32_t nv = (c->epoch << 8) | s;
    if (__atomic_compare_exchange_n(&m[i], &v, nv, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
        count && s != NO_SEL && kind == PT_SEL_TAG && pt__spc)
        __atomic_fetch_add(&pt__spc->fault_matched, 1, __ATOMIC_RELAXED);
    return s;
}

/* The selector that decides for (tidx, rec): the first in the list that
 * matches either, NO_SEL when none. */
static uint32_t pick(const fi_cfg *c, uint32_t tidx, uint32_t rec)
{
    uint32_t a = memo(tag_sel, tag_cap, c, PT_SEL_TAG, tidx, 0, 1);
    uint32_t b = rec == UINT32_MAX ? NO_SEL : memo(mod_sel, mod_cap, c, PT_SEL_MODULE, rec, rec, 0);
    return a < b ? a : b;
}

unsigned pt__fi_classify(uint32_t tidx, uint32_t rec)
{
    if (!__atomic_load_n(&pt__fi_on, __ATOMIC_ACQUIRE))
        return 0;
    const fi_cfg *c = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);
    return pick(c, tidx, rec) != NO_SEL ? PT_TR_FAULT : 0;
}

int pt__fi_fail(uint32_t tidx, uint32_t rec, uint64_t size)
{
    (void)size;
    if (!__atomic_load_n(&pt__fi_on, __ATOMIC_ACQUIRE))
        return 0;
    const fi_cfg *c = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);
    uint32_t i = pick(c, tidx, rec);
    if (i >= c->n)
        return 0;
    const pt_seg_sel *s = &c->sel[i];
    fi_state *st = &state[i];
    if (!__atomic_load_n(&st->armed, __ATOMIC_ACQUIRE)) {
        if (mono_ms() - __atomic_load_n(&st->start_ms, __ATOMIC_RELAXED) < s->after_ms)
            return 0;
        __atomic_store_n(&st->armed, 1, __ATOMIC_RELEASE);
    }
    uint64_t n = __atomic_fetch_add(&st->n, 1, __ATOMIC_RELAXED);
    if (s->rate < PT_FI_RATE_ONE && mix(s->seed, n) % PT_FI_RATE_ONE >= s->rate)
        return 0;
    if (tidx <= ovfl_idx)
        __atomic_fetch_add(&seg_tagstat[tidx].injected, 1, __ATOMIC_RELAXED);
    if (pt__spc)
        __atomic_fetch_add(&pt__spc->injected, 1, __ATOMIC_RELAXED);
    return 1;
}

/* ---- applying -------------------------------------------------------------- */

/* A selector written from outside, checked field by field: 0 if usable
 * (its text then NUL-terminated in *out). */
static int valid(const pt_seg_sel *in, pt_seg_sel *out)
{
    memcpy(out, in, sizeof *out);
    if (out->kind != PT_SEL_TAG && out->kind != PT_SEL_MODULE)
        return -1;
    if (out->flags || out->rate < 1 || out->rate > PT_FI_RATE_ONE)
        return -1;
    size_t n = 0;
    while (n < sizeof out->text && out->text[n])
        n++;
    if (n == 0 || n == sizeof out->text)
        return -1;
    if (out->kind == PT_SEL_TAG && n >= PT_CTL_PAT_LEN)
        return -1;
    memset(out->text + n, 0, sizeof out->text - n);
    out->min = out->max = 0;
    return 0;
}

uint32_t pt__fi_apply(void)
{
    pt_seg_special *spc = pt__spc;
    if (!spc)
        return 0;
    uint32_t n = __atomic_load_n(&spc->fault_n, __ATOMIC_ACQUIRE);
    fi_cfg *old = __atomic_load_n(&cur, __ATOMIC_RELAXED);
    fi_cfg *next = old == &cfgs[0] ? &cfgs[1] : &cfgs[0];
    int ok = n <= PT_SEL_MAX;
    for (uint32_t i = 0; ok && i < n; i++)
        ok = valid(&spc->fault[i], &next->sel[i]) == 0;
    if (!ok)
        return 1; /* the previous selectors stay */
    if (n && !maps_ready())
        return 1;
    uint64_t now = mono_ms();
    for (uint32_t i = 0; i < n; i++) {
        /* an unchanged selector keeps its counter and start time */
        if (i < old->n && memcmp(&old->sel[i], &next->sel[i], sizeof next->sel[i]) == 0)
            continue;
        __atomic_store_n(&state[i].armed, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&state[i].n, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&state[i].start_ms, now, __ATOMIC_RELAXED);
    }
    next->n = n;
    next->epoch = epoch_next;
    epoch_next = epoch_next + 1 > 0xffffffu ? 1 : epoch_next + 1;
    __atomic_store_n(&cur, next, __ATOMIC_RELEASE);
    __atomic_store_n(&pt__fi_on, n != 0, __ATOMIC_RELEASE);

    /* the tag entries that match now (later ones count when classified) */
    uint32_t matched = 0;
    spc->fault_matched = 0;
    if (n) {
        for (uint32_t i = 0; i <= ovfl_idx && i < tag_cap; i++) {
            uint32_t v = __atomic_load_n(&tag_sel[i], __ATOMIC_RELAXED);
            uint32_t s = first_match(next, PT_SEL_TAG, i, 0);
            uint32_t nv = s == EMPTY ? 0 : (next->epoch << 8) | s;
            if (__atomic_compare_exchange_n(&tag_sel[i], &v, nv, 0, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                matched += s < NO_SEL; /* (else a classify did, and counted it) */
        }
    }
    __atomic_fetch_add(&spc->fault_matched, matched, __ATOMIC_RELAXED);
    return 0;
}

/* ---- the environment --------------------------------------------------------- */

int pt__fi_env(void)
{
    pt_seg_special *spc = pt__spc;
    const char *v = pt__opt_env(PT_OPT_FAIL);
    if (!spc || !v)
        return 0;
    uint32_t n = 0;
    while (*v) {
        while (*v == ',' || *v == ' ')
            v++;
        const char *e = v;
        while (*e && *e != ',' && *e != ' ')
            e++;
        size_t len = (size_t)(e - v);
        if (len) {
            char buf[PT_CTL_GLOB_LEN + 64];
            const char *why = "too long";
            pt_seg_sel s;
            if (n >= PT_SEL_MAX) {
                pt__warn("PT_FAIL: more than 8 selectors; ignoring the rest", NULL);
                break;
            }
            if (len < sizeof buf) {
                memcpy(buf, v, len);
                buf[len] = 0;
            }
            if (len >= sizeof buf || pt_sel_parse(buf, 1, &s, &why) < 0) {
                /* "PT_FAIL: ignoring 'SPEC': " (SPEC cut at 60 bytes) */
                char msg[96];
                size_t k = 0, c = len < 60 ? len : 60;
                memcpy(msg, "PT_FAIL: ignoring '", 19);
                k = 19;
                memcpy(msg + k, v, c);
                k += c;
                memcpy(msg + k, "': ", 4);
                pt__warn(msg, why);
            } else {
                spc->fault[n++] = s;
            }
        }
        v = e;
    }
    spc->fault_n = n;
    return n != 0;
}
