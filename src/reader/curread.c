/*
 * curread.c — the cheap reading of a segment: every tag entry's flushed
 * Bytes (tagstat.cur, segment.h invariant 6) and the pools' (pool.cur),
 * for readers that look many times a second (`pooltag log` between two
 * samples, `pooltag serve` between two scrapes) to catch the lowest and
 * highest Bytes that a sample at one instant would miss.
 *
 * Cost: one pread of the pools, errors, keys and tagstat regions (they are
 * adjacent: 64 B per tag entry plus 4 B of key, about 70 KB for the
 * default 1,024 entries), no pass over the shards or sites as a full
 * reading (segsum.c) makes.  Exactness: cur lags a thread's true change by
 * less than the tag's grain (max(peak_grain, 1/32 of the tag's Bytes)) per
 * thread using the tag; docs/log.md states what that means for the logged
 * minima and maxima.
 *
 * The layout comes from the header of the source's last full reading
 * (ptr_read), which the parser validated; the offsets are checked again
 * here against the readable size, and the source's pread checks every
 * read.  Keys go from 0 to a tag once and never change (invariant 5), so
 * an entry index names the same tag for the life of the segment.
 */
#include "ptread.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define fail ptr__fail

void ptr_cur_free(ptr_cur *c)
{
    free(c->key);
    free(c->cur);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* Region [off, off + len) as a span of the source; 0 when it fits. */
static int region_ok(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

int ptr_cur_read(ptr_source *s, ptr_cur *c, char *err, size_t errlen)
{
    size_t rawlen;
    const pt_seg_header *h = ptr_raw(s, &rawlen);
    if (!h || rawlen < sizeof *h)
        return fail(err, errlen, "no segment read yet");
    uint64_t ntags = (uint64_t)h->max_tags + 1, size = ptr_source_size(s);
    uint64_t poolsz = PT_SEG_NPOOLS * sizeof(pt_seg_pool);
    uint64_t keysz = ntags * sizeof(uint32_t), statsz = ntags * sizeof(pt_seg_tagstat);
    if (h->max_tags > PT_SEG_MAX_TAGS_LIMIT || !region_ok(h->pools_off, poolsz, size) ||
        !region_ok(h->keys_off, keysz, size) || !region_ok(h->tagstat_off, statsz, size))
        return fail(err, errlen, "the segment's layout does not fit its %" PRIu64
                    "-byte mapping", size);
    /* One read when the three regions are near each other (they are
     * adjacent in every segment the runtime makes), else three. */
    uint64_t lo = h->pools_off, hi = h->pools_off + poolsz;
    if (h->keys_off < lo)
        lo = h->keys_off;
    if (h->tagstat_off < lo)
        lo = h->tagstat_off;
    if (h->keys_off + keysz > hi)
        hi = h->keys_off + keysz;
    if (h->tagstat_off + statsz > hi)
        hi = h->tagstat_off + statsz;
    int one = hi - lo <= 2 * (poolsz + keysz + statsz) + 65536;
    size_t need = one ? (size_t)(hi - lo) : (size_t)(poolsz + keysz + statsz);
    if (c->cap < need) {
        char *nb = realloc(c->buf, need);
        if (!nb)
            return fail(err, errlen, "out of memory");
        c->buf = nb;
        c->cap = need;
    }
    if (c->n != ntags) {
        free(c->key);
        free(c->cur);
        c->key = calloc(ntags, sizeof *c->key);
        c->cur = calloc(ntags, sizeof *c->cur);
        c->n = c->key && c->cur ? (size_t)ntags : 0;
        if (!c->n)
            return fail(err, errlen, "out of memory");
    }
    const char *pools, *keys, *stats;
    if (one) {
        if (ptr_source_pread(s, c->buf, need, lo, err, errlen) < 0)
            return -1;
        pools = c->buf + (h->pools_off - lo);
        keys = c->buf + (h->keys_off - lo);
        stats = c->buf + (h->tagstat_off - lo);
    } else {
        pools = c->buf;
        keys = pools + poolsz;
        stats = keys + keysz;
        if (ptr_source_pread(s, (char *)pools, poolsz, h->pools_off, err, errlen) < 0 ||
            ptr_source_pread(s, (char *)keys, keysz, h->keys_off, err, errlen) < 0 ||
            ptr_source_pread(s, (char *)stats, statsz, h->tagstat_off, err, errlen) < 0)
            return -1;
    }
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        pt_seg_pool pl;
        memcpy(&pl, pools + p * sizeof pl, sizeof pl);
        c->pool[p] = pl.cur;
    }
    memcpy(c->key, keys, keysz);
    for (uint64_t i = 0; i < ntags; i++) {
        pt_seg_tagstat ts;
        memcpy(&ts, stats + i * sizeof ts, sizeof ts);
        for (int p = 0; p < PT_POOL_COUNT; p++)
            c->cur[i][p] = ts.pool[p].cur;
    }
    return 0;
}
