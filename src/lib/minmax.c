/*
 * minmax.c — lowest and highest flushed Bytes per tag entry and pool over
 * a few buckets of readings (minmax.h).
 *
 * Data model: entries are the segment's tag table (index -> tag, stable
 * for the life of the segment, curread.c); for each entry, bucket and
 * pool a pair (lo, hi), empty as (INT64_MAX, INT64_MIN).  Lookups by tag
 * go through a sorted copy of the keys, rebuilt when a reading shows a
 * key the copy does not have (keys are only ever added).
 */
#include "ptgrow.h"
#include "minmax.h"

#include <stdlib.h>
#include <string.h>

#define MM_MAX_BUCKETS 64

typedef struct mm_pair {
    int64_t lo, hi;
} mm_pair;

typedef struct mm_key {
    uint32_t tag, index;
} mm_key;

typedef struct mm_prev {
    uint32_t tag;
    uint32_t kind; /* pool, | 2 for the overflow entry */
    int64_t v;
} mm_prev;

struct mm_track {
    unsigned nb, cur;          /* buckets, the current one                  */
    size_t n;                  /* entries (0 until the first reading)       */
    mm_pair *e;                /* [n][nb][PT_POOL_COUNT]                    */
    mm_pair pool[MM_MAX_BUCKETS][PT_POOL_COUNT]; /* the pools' totals   */
    uint64_t readings[MM_MAX_BUCKETS]; /* per bucket                        */
    mm_key *keys;              /* sorted by tag, entries 0 .. n - 2         */
    size_t nkeys;
    mm_prev *prev, *next;      /* the previous sample's exact Bytes (sorted)
                                  and this one's, being recorded            */
    size_t nprev, capprev, nnext, capnext;
    int64_t prev_pool[PT_POOL_COUNT], next_pool[PT_POOL_COUNT];
    int have_prev_pool, have_next_pool;
};

static void empty(mm_pair *p, size_t count)
{
    for (size_t i = 0; i < count; i++)
        p[i] = (mm_pair){INT64_MAX, INT64_MIN};
}

mm_track *mm_new(unsigned nbuckets)
{
    if (nbuckets < 1 || nbuckets > MM_MAX_BUCKETS)
        return NULL;
    mm_track *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nb = nbuckets;
    empty(&m->pool[0][0], MM_MAX_BUCKETS * PT_POOL_COUNT);
    return m;
}

void mm_free(mm_track *m)
{
    if (!m)
        return;
    free(m->e);
    free(m->keys);
    free(m->prev);
    free(m->next);
    free(m);
}

static mm_pair *slot(const mm_track *m, size_t entry, unsigned b, int pool)
{
    return &m->e[(entry * m->nb + b) * PT_POOL_COUNT + (size_t)pool];
}

static void fold(mm_pair *p, int64_t v)
{
    if (v < p->lo)
        p->lo = v;
    if (v > p->hi)
        p->hi = v;
}

static int key_cmp(const void *a, const void *b)
{
    uint32_t x = ((const mm_key *)a)->tag, y = ((const mm_key *)b)->tag;
    return x < y ? -1 : x > y;
}

int mm_add(mm_track *m, const ptr_cur *c)
{
    if (c->n == 0)
        return 0;
    if (m->n != c->n) {
        /* A new segment layout (the first reading): start afresh. */
        mm_pair *e = malloc(c->n * m->nb * PT_POOL_COUNT * sizeof *e);
        mm_key *k = malloc(c->n * sizeof *k);
        if (!e || !k) {
            free(e);
            free(k);
            return -1;
        }
        free(m->e);
        free(m->keys);
        m->e = e;
        m->keys = k;
        m->n = c->n;
        m->nkeys = 0;
        empty(m->e, m->n * m->nb * PT_POOL_COUNT);
    }
    size_t used = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!c->key[i])
            continue;
        used += i + 1 < m->n;
        for (int p = 0; p < PT_POOL_COUNT; p++)
            fold(slot(m, i, m->cur, p), c->cur[i][p]);
    }
    for (int p = 0; p < PT_POOL_COUNT; p++)
        fold(&m->pool[m->cur][p], c->pool[p]);
    m->readings[m->cur]++;
    if (used != m->nkeys) {
        m->nkeys = 0;
        for (size_t i = 0; i + 1 < m->n; i++)
            if (c->key[i])
                m->keys[m->nkeys++] = (mm_key){c->key[i], (uint32_t)i};
        qsort(m->keys, m->nkeys, sizeof *m->keys, key_cmp);
    }
    return 0;
}

void mm_rotate(mm_track *m)
{
    m->cur = (m->cur + 1) % m->nb;
    for (size_t i = 0; i < m->n; i++)
        empty(slot(m, i, m->cur, 0), PT_POOL_COUNT);
    empty(m->pool[m->cur], PT_POOL_COUNT);
    m->readings[m->cur] = 0;
}

uint64_t mm_readings(const mm_track *m)
{
    uint64_t n = 0;
    for (unsigned b = 0; b < m->nb; b++)
        n += m->readings[b];
    return n;
}

/* Fold the kept buckets of pairs[b * PT_POOL_COUNT + pool]. */
static int over_buckets(const mm_track *m, const mm_pair *pairs, int pool,
                        int64_t *lo, int64_t *hi)
{
    mm_pair r = {INT64_MAX, INT64_MIN};
    for (unsigned b = 0; b < m->nb; b++) {
        const mm_pair *p = &pairs[b * PT_POOL_COUNT + (unsigned)pool];
        if (p->lo < r.lo)
            r.lo = p->lo;
        if (p->hi > r.hi)
            r.hi = p->hi;
    }
    if (r.lo > r.hi)
        return 0;
    *lo = r.lo;
    *hi = r.hi;
    return 1;
}

int mm_tag(const mm_track *m, uint32_t tag, int overflow, int pool, int64_t *lo,
           int64_t *hi)
{
    if (m->n == 0 || pool < 0 || pool >= PT_POOL_COUNT)
        return 0;
    size_t entry;
    if (overflow) {
        entry = m->n - 1;
    } else {
        mm_key key = {tag, 0};
        const mm_key *k = bsearch(&key, m->keys, m->nkeys, sizeof *m->keys, key_cmp);
        if (!k)
            return 0;
        entry = k->index;
    }
    return over_buckets(m, slot(m, entry, 0, 0), pool, lo, hi);
}

int mm_pool(const mm_track *m, int pool, int64_t *lo, int64_t *hi)
{
    if (pool < 0 || pool >= PT_POOL_COUNT)
        return 0;
    return over_buckets(m, &m->pool[0][0], pool, lo, hi);
}

int64_t mm_bound(const ptr_view *v, int64_t a, int64_t b)
{
    uint64_t x = a < 0 ? 0 - (uint64_t)a : (uint64_t)a;
    uint64_t y = b < 0 ? 0 - (uint64_t)b : (uint64_t)b;
    uint64_t g = (x > y ? x : y) / 32;
    if (g < v->peak_grain)
        g = v->peak_grain;
    uint64_t live = v->threads_started >= v->threads_exited
                        ? v->threads_started - v->threads_exited : 0;
    uint64_t threads = live + 1; /* (and the shared shard's users) */
    if (threads > 4096)
        threads = 4096;
    uint64_t r = g * threads;
    return r > (uint64_t)INT64_MAX / 4 ? INT64_MAX / 4 : (int64_t)r;
}

void mm_snap(int have, int64_t start, int64_t end, int64_t bound, int64_t *lo, int64_t *hi)
{
    if (have) {
        int64_t a = start < end ? start : end, b = start < end ? end : start;
        if (*lo >= a - bound)
            *lo = a;
        if (*hi <= b + bound)
            *hi = b;
    }
    mm_clamp(have, end, lo, hi);
}

static int prev_cmp(const void *x, const void *y)
{
    const mm_prev *a = x, *b = y;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return a->kind < b->kind ? -1 : a->kind > b->kind;
}

int mm_prev_tag(const mm_track *m, uint32_t tag, int overflow, int pool, int64_t *v)
{
    mm_prev key = {tag, (uint32_t)pool | (overflow ? 2u : 0u), 0};
    const mm_prev *p = m->nprev ? bsearch(&key, m->prev, m->nprev, sizeof key, prev_cmp) : NULL;
    if (!p)
        return 0;
    *v = p->v;
    return 1;
}

int mm_prev_pool(const mm_track *m, int pool, int64_t *v)
{
    if (!m->have_prev_pool || pool < 0 || pool >= PT_POOL_COUNT)
        return 0;
    *v = m->prev_pool[pool];
    return 1;
}

int mm_prev_set(mm_track *m, uint32_t tag, int overflow, int pool, int64_t v)
{
    mm_prev *n = pt_grow(m->next, m->nnext, &m->capnext, sizeof *n, 64);
    if (!n)
        return -1;
    m->next = n;
    m->next[m->nnext++] = (mm_prev){tag, (uint32_t)pool | (overflow ? 2u : 0u), v};
    return 0;
}

void mm_prev_set_pool(mm_track *m, int pool, int64_t v)
{
    if (pool >= 0 && pool < PT_POOL_COUNT) {
        m->next_pool[pool] = v;
        m->have_next_pool = 1;
    }
}

void mm_prev_commit(mm_track *m)
{
    qsort(m->next, m->nnext, sizeof *m->next, prev_cmp);
    /* (the two arrays trade places: the old one is reused for the next) */
    mm_prev *t = m->prev;
    size_t cap = m->capprev;
    m->prev = m->next;
    m->nprev = m->nnext;
    m->capprev = m->capnext;
    m->next = t;
    m->capnext = cap;
    m->nnext = 0;
    memcpy(m->prev_pool, m->next_pool, sizeof m->prev_pool);
    m->have_prev_pool = m->have_next_pool;
    m->have_next_pool = 0;
}
