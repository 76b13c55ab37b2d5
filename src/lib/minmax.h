/*
 * minmax.h — the lowest and highest Bytes of each tag (and pool) between
 * two readings, from cheap readings of the flushed totals (ptr_cur_read,
 * curread.c) taken many times a second.  Issue 15: a sample at one
 * instant aliases a load whose period is near a multiple of the interval;
 * the minimum and maximum of the interval do not.
 *
 * The extremes are kept in nbuckets buckets: readings fold into the
 * current bucket, mm_rotate starts a new one (dropping the oldest), and a
 * query answers over every bucket kept.  `pooltag log` uses one bucket,
 * rotated at each sample (the extremes since the previous sample);
 * `pooltag serve` several, rotated by the clock (a trailing window).
 *
 * Exactness: a flushed total is within the tag's grain per thread of the
 * exact Bytes (segment.h invariant 6), and an excursion shorter than the
 * time between two readings can be missed.  The caller clamps with the
 * exact value it reads at the sample (logw.c, serve_metrics.c).
 */
#ifndef PT_LIB_MINMAX_H
#define PT_LIB_MINMAX_H

#include <stddef.h>
#include <stdint.h>

#include "ptread.h"

typedef struct mm_track mm_track;

/* NULL when out of memory.  nbuckets >= 1. */
mm_track *mm_new(unsigned nbuckets);
void mm_free(mm_track *m);
/* Fold one cheap reading into the current bucket; -1 out of memory. */
int mm_add(mm_track *m, const ptr_cur *c);
/* Start a new bucket; the oldest is forgotten (one bucket: reset). */
void mm_rotate(mm_track *m);
/* Readings folded into the kept buckets. */
uint64_t mm_readings(const mm_track *m);
/* The lowest and highest flushed Bytes of tag in pool over the kept
 * buckets (overflow: the table's overflow entry, whatever its key).
 * Returns 0 and leaves *lo, *hi alone when no reading saw the tag. */
int mm_tag(const mm_track *m, uint32_t tag, int overflow, int pool, int64_t *lo,
           int64_t *hi);
/* The same for a pool's total. */
int mm_pool(const mm_track *m, int pool, int64_t *lo, int64_t *hi);

/* How far a flushed total may lie from the exact Bytes of a tag whose
 * exact values are a and b (segment.h invariant 6): each live thread
 * holds back less than its grain, max(peak_grain, 1/32 of the Bytes). */
int64_t mm_bound(const ptr_view *v, int64_t a, int64_t b);

/* The logged extremes of an interval that starts just after the exact
 * value `start` (the previous sample's) and ends at the exact value `end`:
 * a dip or peak of the flushed totals within `bound` of the exact ends
 * cannot be told from their lag, so it is left out ([*lo, *hi] become the
 * ends there); one beyond it is kept.  Then clamped to hold end. */
void mm_snap(int have, int64_t start, int64_t end, int64_t bound, int64_t *lo, int64_t *hi);

/* The previous sample's exact Bytes of tag/pool (0: none), and the pools'
 * totals; mm_prev_set records this sample's, which mm_prev_commit makes
 * the previous ones (once per sample, after every set). */
int mm_prev_tag(const mm_track *m, uint32_t tag, int overflow, int pool, int64_t *v);
int mm_prev_pool(const mm_track *m, int pool, int64_t *v);
int mm_prev_set(mm_track *m, uint32_t tag, int overflow, int pool, int64_t v);
void mm_prev_set_pool(mm_track *m, int pool, int64_t v);
void mm_prev_commit(mm_track *m);

/* Clamp [*lo, *hi] so that it holds the exact value v (the caller's exact
 * reading at the sample, which belongs to the interval): the logged
 * extremes always satisfy lo <= v <= hi.  have == 0: [v, v]. */
static inline void mm_clamp(int have, int64_t v, int64_t *lo, int64_t *hi)
{
    if (!have || v < *lo)
        *lo = v;
    if (!have || v > *hi)
        *hi = v;
}

#endif
