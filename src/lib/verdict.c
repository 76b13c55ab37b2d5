/*
 * verdict.c — leak or load?  (verdict.h; the method is in docs/trend.md)
 *
 * A leak never gives memory back; a load does when the work falls.  Bytes
 * over time are all we have, so the question is asked of the shape:
 *
 *  1. Too few samples or too short a span: unknown.  A change under
 *     VD_FLAT_FRAC of the level: steady.
 *  2. Swings.  The largest fall (with the intervals' min/max: falls known
 *     to have happened inside or across intervals) against the range.
 *  3. No significant fall (monotone up to small wiggles): the pace of the
 *     floor (instants, or interval minima) is the slope of a line through
 *     each third of the span, and the floor's rise is counted per eighth.
 *     Still rising at the end at the earlier pace and rising in most
 *     eighths: leak.  Rise slowing down at the end: warm-up.  A few steps
 *     only: unknown.  A fall: load.
 *  4. Significant falls: a zigzag over the path (through each interval's
 *     minimum and maximum when known) finds the troughs, the floor the load
 *     returns to.  At least VD_MIN_TROUGHS troughs, rising along a line that
 *     fits or with a slope well above its error, by a noticeable part of
 *     the range, still rising in the log's second half (VD_PERSIST_RATIO),
 *     peaks not falling, and from instants alone beyond what phase drift
 *     can fake (VD_ALIAS_FRAC): a leak under the load, its rate the
 *     troughs' slope.  Otherwise a wiggle under VD_NOISE_FRAC of the level
 *     is steady (noise) and anything larger is load.
 *
 * Everything is computed in a few passes (the zigzag twice) with sums: no
 * allocation, bounded time, no dependence on the sampling interval beyond
 * needing a few samples per eighth of the span.
 */
#include "verdict.h"

#include <math.h>
#include <string.h>

static const char *const names[VD_COUNT] = {
    [VD_LEAK] = "leak",     [VD_LOAD] = "load",       [VD_WARMUP] = "warm-up",
    [VD_STEADY] = "steady", [VD_UNKNOWN] = "unknown",
};

const char *vd_name(vd_verdict v)
{
    return (unsigned)v < VD_COUNT ? names[v] : "unknown";
}

int vd_rank(vd_verdict v)
{
    return (unsigned)v < VD_COUNT ? (int)v : (int)VD_UNKNOWN;
}

/* Running least-squares line through points (x, y): Welford-style updates
 * keep it exact enough for nanosecond timestamps turned into seconds. */
typedef struct line {
    double n, mx, my, sxx, syy, sxy;
} line;

static void line_add(line *l, double x, double y)
{
    l->n += 1;
    double dx = x - l->mx, dy = y - l->my;
    l->mx += dx / l->n;
    l->my += dy / l->n;
    l->sxx += dx * (x - l->mx);
    l->syy += dy * (y - l->my);
    l->sxy += dx * (y - l->my);
}

static double line_slope(const line *l)
{
    return l->sxx > 0 ? l->sxy / l->sxx : 0;
}

/* R²: NaN when y does not vary (nothing to explain). */
static double line_r2(const line *l)
{
    if (l->sxx <= 0 || l->syy <= 0)
        return NAN;
    double r2 = (l->sxy * l->sxy) / (l->sxx * l->syy);
    return r2 > 1 ? 1 : r2;
}

/* Slope over its standard error (n - 2 degrees of freedom). */
static double line_tstat(const line *l)
{
    if (l->n < 3 || l->sxx <= 0)
        return 0;
    double b = l->sxy / l->sxx;
    double sse = l->syy - b * l->sxy;
    if (sse <= 0)
        return INFINITY;
    return b / sqrt(sse / (l->n - 2) / l->sxx);
}

static double pearson(const line *l)
{
    if (l->sxx <= 0 || l->syy <= 0)
        return NAN;
    double r = l->sxy / sqrt(l->sxx * l->syy);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

/* Zigzag state: significant turning points with threshold h. */
typedef struct zigzag {
    double h;
    int dir;              /* 0 undecided, 1 rising, -1 falling */
    double hi, hi_t, lo, lo_t;
    line troughs, peaks;
    int ntroughs, npeaks, trough_rises;
    double last_trough, first_trough_t, last_trough_t, prev_trough_t;
    double split;         /* troughs from this time on also go to late  */
    line late;
} zigzag;

static void zz_trough(zigzag *z)
{
    if (z->ntroughs > 0 && z->lo > z->last_trough)
        z->trough_rises++;
    z->last_trough = z->lo;
    if (z->ntroughs == 0)
        z->first_trough_t = z->lo_t;
    z->prev_trough_t = z->last_trough_t;
    z->last_trough_t = z->lo_t;
    z->ntroughs++;
    line_add(&z->troughs, z->lo_t, z->lo);
    if (z->lo_t >= z->split)
        line_add(&z->late, z->lo_t, z->lo);
}

static void zz_peak(zigzag *z)
{
    z->npeaks++;
    line_add(&z->peaks, z->hi_t, z->hi);
}

static void zz_add(zigzag *z, double t, double y)
{
    switch (z->dir) {
    case 0:
        if (y > z->hi)
            z->hi = y, z->hi_t = t;
        if (y < z->lo)
            z->lo = y, z->lo_t = t;
        /* The first sample is where the log began, not a turning point
         * (a load caught halfway up would make it a high first trough). */
        if (y - z->lo >= z->h) {
            if (z->lo_t > 0)
                zz_trough(z);
            z->dir = 1;
            z->hi = y, z->hi_t = t;
        } else if (z->hi - y >= z->h) {
            if (z->hi_t > 0)
                zz_peak(z);
            z->dir = -1;
            z->lo = y, z->lo_t = t;
        }
        break;
    case 1:
        if (y > z->hi) {
            z->hi = y, z->hi_t = t;
        } else if (z->hi - y >= z->h) {
            zz_peak(z);
            z->dir = -1;
            z->lo = y, z->lo_t = t;
        }
        break;
    default:
        if (y < z->lo) {
            z->lo = y, z->lo_t = t;
        } else if (y - z->lo >= z->h) {
            zz_trough(z);
            z->dir = 1;
            z->hi = y, z->hi_t = t;
        }
        break;
    }
}

static void set(vd_result *r, vd_verdict v, const char *why)
{
    r->verdict = v;
    r->why = why;
}

/* The lowest and highest bytes on the way from sample i-1 to sample i: the
 * log's ymin/ymax when it has them, widened to hold both ends (the
 * logger's minimum may start after sample i-1 and is exact to within a few
 * KiB), else the instant itself. */
static double lo_at(const vd_input *in, size_t i)
{
    if (!in->ymin)
        return in->y[i];
    double lo = fmin(in->ymin[i], in->y[i]);
    return i > 0 ? fmin(lo, in->y[i - 1]) : lo;
}

static double hi_at(const vd_input *in, size_t i)
{
    if (!in->ymax)
        return in->y[i];
    double hi = fmax(in->ymax[i], in->y[i]);
    return i > 0 ? fmax(hi, in->y[i - 1]) : hi;
}

/* The zigzag over the whole path.  With the interval's extremes the path
 * from sample i-1 to sample i passes through both in an order the log does
 * not keep: the order with the least travel (down first when the interval
 * ends higher than it started, else up first) invents no turning point
 * that the data does not force. */
static void zz_run(zigzag *z, const vd_input *in, double t0)
{
    for (size_t i = 0; i < in->n; i++) {
        double ti = in->t[i] - t0;
        if (i > 0 && in->ymin) {
            double lo = lo_at(in, i), hi = hi_at(in, i);
            int up = in->y[i] >= in->y[i - 1];
            zz_add(z, ti, up ? lo : hi);
            zz_add(z, ti, up ? hi : lo);
        }
        zz_add(z, ti, in->y[i]);
    }
}

void vd_judge(const vd_input *in, vd_result *r)
{
    memset(r, 0, sizeof *r);
    r->r2 = NAN;
    r->corr = NAN;
    r->hours_to_max = NAN;
    r->fit = "linear";
    r->n = in->n;
    set(r, VD_UNKNOWN, "no samples");
    if (in->n == 0 || !in->t || !in->y)
        return;

    /* Only both extremes are of use (a path needs its floor and its top). */
    vd_input ex = *in;
    if (!in->ymin || !in->ymax)
        ex.ymin = ex.ymax = NULL;
    in = &ex;
    const double *t = in->t, *y = in->y;
    size_t n = in->n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i]) || !isfinite(y[i]) ||
            (in->allocs && !isfinite(in->allocs[i])) ||
            (in->ymin && (!isfinite(in->ymin[i]) || !isfinite(in->ymax[i])))) {
            set(r, VD_UNKNOWN, "bad values");
            return;
        }
        if (i > 0 && t[i] < t[i - 1]) {
            set(r, VD_UNKNOWN, "time goes backwards");
            return;
        }
    }

    /* Pass 1: extremes (of the intervals when known), the line through the
     * instants, time without decrease, the largest fall, activity. */
    double t0 = t[0], span = t[n - 1] - t[0];
    r->first = y[0];
    r->last = y[n - 1];
    r->min = lo_at(in, 0);
    r->max = hi_at(in, 0);
    for (size_t i = 1; i < n; i++) {
        r->min = fmin(r->min, lo_at(in, i));
        r->max = fmax(r->max, hi_at(in, i));
    }
    r->span_s = span;
    /* The extremes are exact to within a few KiB (docs/log-format.md): a
     * dip under VD_DIP_FRAC of the range below both ends of an interval is
     * not a decrease. */
    double tol = in->ymin ? VD_DIP_FRAC * (r->max - r->min) : 0;
    line all = {0}, act = {0};
    double up_time = 0, maxfall = 0, runmax = hi_at(in, 0), travel = 0;
    for (size_t i = 0; i < n; i++) {
        line_add(&all, t[i] - t0, y[i]);
        if (i == 0)
            continue;
        double lo = lo_at(in, i), hi = hi_at(in, i);
        /* Falls known to have happened: from an earlier top to this
         * interval's floor, and from this interval's top to its end. */
        maxfall = fmax(maxfall, fmax(runmax - lo, hi - y[i]));
        runmax = fmax(runmax, hi);
        travel += fabs(y[i] - y[i - 1]);
        double dt = t[i] - t[i - 1];
        if (y[i] >= y[i - 1] && lo >= y[i - 1] - tol && hi <= y[i] + tol)
            up_time += span > 0 ? dt : 1;
        if (in->allocs && dt > 0)
            line_add(&act, (in->allocs[i] - in->allocs[i - 1]) / dt, y[i]);
    }
    r->nondecr = n > 1 ? up_time / (span > 0 ? span : (double)(n - 1)) : 1;
    r->corr = pearson(&act);
    double slope = line_slope(&all);          /* bytes per second */
    r->rate = slope * 3600;
    r->r2 = line_r2(&all);

    if (n < VD_MIN_SAMPLES) {
        set(r, VD_UNKNOWN, "too few samples");
        goto out;
    }
    if (span < VD_MIN_SPAN_S) {
        set(r, VD_UNKNOWN, "span too short");
        goto out;
    }

    double range = r->max - r->min;
    double scale = fmax(fmax(fabs(r->max), fabs(r->min)), 1);
    if (range <= VD_FLAT_FRAC * scale) {
        set(r, VD_STEADY, range == 0 ? "flat" : "within 2%");
        goto out;
    }

    if (maxfall < VD_SWING_FRAC * range) {
        /* Monotone up to small wiggles.  A line through each third of
         * the span gives the pace; the floor of each eighth (its lowest
         * value) tells sustained growth from a few steps.  With the intervals' minima, of the floor: a load
         * faster than the interval on top of the rise makes the instants
         * jump, not the floor. */
        line third[3] = {{0}}, sixth[2] = {{0}};
        double elow[8] = {0}, eprev = 0;
        int eseen[8] = {0};
        for (size_t i = 0; i < n; i++) {
            double u = (t[i] - t0) / span, v = lo_at(in, i);
            int k = (int)(u * 3), e = (int)(u * 8);
            k = k > 2 ? 2 : k < 0 ? 0 : k;
            e = e > 7 ? 7 : e < 0 ? 0 : e;
            line_add(&third[k], t[i] - t0, v);
            if (k == 2)
                line_add(&sixth[u >= 5.0 / 6 ? 1 : 0], t[i] - t0, v);
            elow[e] = eseen[e] ? fmin(elow[e], v) : v;
            eseen[e] = 1;
        }
        if (third[0].n < 2 || third[1].n < 2 || third[2].n < 2) {
            set(r, VD_UNKNOWN, "samples unevenly spread");
            goto out;
        }
        double growth = third[2].my - third[0].my;
        double sig = VD_FLAT_FRAC * scale;
        if (growth < -sig) {
            set(r, VD_LOAD, "fell");
            goto out;
        }
        if (growth <= sig) {
            set(r, VD_STEADY, "no trend");
            goto out;
        }
        int ebins = 0, egrew = 0, efirst = 1;
        for (int e = 0; e < 8; e++) {
            if (!eseen[e])
                continue;
            if (!efirst) {
                ebins++;
                egrew += elow[e] - eprev > growth / 32;
            }
            efirst = 0;
            eprev = elow[e];
        }
        double early = fmax(line_slope(&third[0]), line_slope(&third[1]));
        double late = line_slope(&third[2]);
        /* A warm-up keeps slowing down to its plateau; growth that slowed
         * once and then holds its pace to the end (a leak behind a
         * warm-up, e.g. a pool total) is a leak at the late pace, if
         * nothing fell by more than noise (a load slower than the log is
         * long, on top of a warm-up, rises in its last third too). */
        int holds = maxfall < VD_NOISE_FRAC * range &&
                    sixth[0].n >= 2 && sixth[1].n >= 2 &&
                    line_slope(&sixth[1]) >= VD_HOLD_RATIO * line_slope(&sixth[0]) &&
                    late * span / 3 >= VD_NOISE_FRAC * range;
        if (late < VD_LATE_RATIO * early && holds) {
            set(r, VD_LEAK, "rising after warm-up");
            r->fit = "last third";
            r->rate = late * 3600;
            r->r2 = line_r2(&third[2]);
        } else if (late < VD_LATE_RATIO * early) {
            set(r, VD_WARMUP, "rise slowing");
        } else if (2 * egrew < ebins) {
            set(r, VD_UNKNOWN, "grew in steps");
        } else {
            set(r, VD_LEAK, r->nondecr >= 0.999 ? "never fell" : "steady rise");
            r->rate = fmax(slope, 0) * 3600;
        }
        goto out;
    }

    /* Significant swings: look at the troughs (of the intervals' minima
     * when known: the floor the load really returned to). */
    /* The threshold is a share of the largest fall (at least of half the
     * range), not of the range alone: a leak that has grown far beyond its
     * load's swing still shows every cycle of the load. */
    zigzag z = {.h = VD_SWING_FRAC * fmax(maxfall, range / 2), .hi = y[0], .lo = y[0],
                .split = INFINITY};
    zz_run(&z, in, t0);
    r->troughs = z.ntroughs;
    if (z.ntroughs >= VD_MIN_TROUGHS) {
        double ts = line_slope(&z.troughs);
        double rise = ts * (z.last_trough_t - z.first_trough_t);
        double tr2 = line_r2(&z.troughs);
        int pairs = z.ntroughs - 1;
        int peaks_ok = z.npeaks < 2 || line_slope(&z.peaks) >= 0.25 * ts;
        /* Either the troughs climb nearly every time along a line that
         * fits, or (sampling phase makes trough values noisy) there are
         * enough of them for the slope to stand well above its error. */
        int few = z.ntroughs < 5;
        int climbing = 4 * z.trough_rises >= 3 * pairs && tr2 >= 0.7 &&
                       (z.ntroughs >= VD_FEW_TROUGHS || z.trough_rises == pairs);
        int significant = !few && line_tstat(&z.troughs) >= 4;
        /* A leak keeps raising the floor to the end; a warm-up under a load
         * raises it and stops.  The troughs of the log's second half (at
         * least the last two) must still rise at VD_PERSIST_RATIO of the
         * slope of them all. */
        int persists = 0;
        if (ts > 0) {
            zigzag z2 = {.h = z.h, .hi = y[0], .lo = y[0],
                         .split = fmin(span / 2, z.prev_trough_t)};
            zz_run(&z2, in, t0);
            persists = z2.late.n >= 2 &&
                       line_slope(&z2.late) >= VD_PERSIST_RATIO * ts;
        }
        /* From the instants alone, a load whose period drifts against the
         * interval moves the sampled troughs (phase drift: issue 15) by up
         * to a part of the load's step between two samples, and back: a
         * sine sampled m times a period by (1 - cos(pi/m))/2 of its swing,
         * a quarter of its mean step.  A trough rise within that is not
         * evidence of a leak. */
        int beyond_alias = in->ymin || rise >= VD_ALIAS_FRAC * travel / (double)(n - 1);
        if (ts > 0 && (climbing || significant) && persists && beyond_alias &&
            rise >= VD_FLAT_FRAC * scale &&
            rise >= (few ? VD_SWING_FRAC : 0.05) * range && peaks_ok) {
            set(r, VD_LEAK, "troughs rising");
            r->fit = "troughs";
            r->rate = ts * 3600;
            r->r2 = tr2;
            goto out;
        }
    }
    if (range <= VD_NOISE_FRAC * scale)
        set(r, VD_STEADY, "noise");
    else
        set(r, VD_LOAD, z.npeaks + z.ntroughs >= 3 ? "rises and falls"
                                                   : "rose and fell");

out:
    /* Only growth that lasts heads for the maximum: the line through a
     * load, a warm-up or noise says nothing about when the pool fills. */
    if (in->pool_max > 0) {
        if (r->rate > 0 && (r->verdict == VD_LEAK || r->verdict == VD_UNKNOWN))
            r->hours_to_max = fmax(in->pool_max - in->pool_now, 0) / r->rate;
        else
            r->hours_to_max = INFINITY;
    }
}
