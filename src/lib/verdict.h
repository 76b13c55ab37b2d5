/*
 * verdict.h — leak or load?  The pure algorithm of `pooltag trend`: one
 * series of (time, bytes, cumulative allocations) in, a verdict and its
 * evidence out.  No I/O, no allocation beyond what the caller passes.
 * docs/trend.md explains the method and the thresholds below.
 */
#ifndef PT_VERDICT_H
#define PT_VERDICT_H

#include <stddef.h>

typedef enum vd_verdict {
    VD_LEAK,     /* grows steadily and does not give memory back          */
    VD_LOAD,     /* rises and falls (or fell): follows the work           */
    VD_WARMUP,   /* rose, and the rise is levelling off                   */
    VD_STEADY,   /* no change beyond noise                                */
    VD_UNKNOWN,  /* too little data to say                                */
    VD_COUNT
} vd_verdict;

/* Thresholds (documented in docs/trend.md). */
#define VD_MIN_SAMPLES 8        /* fewer samples: unknown                */
#define VD_MIN_SPAN_S 10.0      /* shorter span (seconds): unknown       */
#define VD_FLAT_FRAC 0.02       /* change under 2 % of the level: steady */
#define VD_NOISE_FRAC 0.10      /* wiggle under 10 % without trend: steady */
#define VD_SWING_FRAC 0.25      /* a fall of 25 % of the range is a swing */
#define VD_LATE_RATIO 0.6       /* last-quarter rate vs earlier: warm-up below */
#define VD_HOLD_RATIO 0.9       /* last sixth's pace vs the one before: a
                                   slowed rise that holds this is a leak   */
#define VD_MIN_TROUGHS 3        /* troughs needed to see a leak under load */
#define VD_FEW_TROUGHS 8        /* under this, every trough must be higher */
#define VD_PERSIST_RATIO 0.5    /* the second half's troughs rise at this
                                   share of the slope of all: still leaking */
#define VD_ALIAS_FRAC 0.25      /* instants only: troughs must rise by this
                                   share of the mean step between samples */
#define VD_DIP_FRAC 0.02        /* an interval's minimum this share of the
                                   range below its ends: a decrease        */

typedef struct vd_input {
    const double *t;      /* seconds, nondecreasing                        */
    const double *y;      /* bytes in use                                  */
    const double *allocs; /* cumulative allocations, or NULL               */
    /* The lowest and highest bytes in use during the interval that ends at
     * sample i (since sample i-1; for i = 0 the sample itself), as the log
     * records them (issue 15: a sample alone aliases a load whose period is
     * near a multiple of the interval).  NULL: unknown, only the instant
     * y[i] is known (a version-1 log).  When given, ymin[i] <= y[i] <=
     * ymax[i]. */
    const double *ymin, *ymax;
    size_t n;
    double pool_max;      /* the pool's maximum in bytes, 0 = none         */
    double pool_now;      /* the pool's total at the last sample           */
} vd_input;

typedef struct vd_result {
    vd_verdict verdict;
    const char *why;      /* short static reason, e.g. "troughs rising"    */
    const char *fit;      /* "linear" or "troughs": what rate/r2 refer to  */
    double rate;          /* bytes per hour (the verdict's growth rate)    */
    double nondecr;       /* fraction of the span without a decrease, 0..1 */
    double r2;            /* fit quality 0..1, NaN when undefined          */
    double hours_to_max;  /* NaN: no maximum; INFINITY: not growing        */
    double corr;          /* bytes vs allocations/s, NaN when undefined    */
    double first, last, min, max; /* bytes                                 */
    double span_s;
    size_t n;
    int troughs;          /* troughs found (swings), 0 when monotone       */
} vd_result;

/* Judge one series.  Never fails: bad input (n == 0, NaN, time going
 * backwards) gives VD_UNKNOWN with a reason. */
void vd_judge(const vd_input *in, vd_result *out);

/* "leak", "load", "warm-up", "steady", "unknown". */
const char *vd_name(vd_verdict v);

/* Rank for sorting reports: leaks first, then load, warm-up, steady,
 * unknown. */
int vd_rank(vd_verdict v);

#endif
