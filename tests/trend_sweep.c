/*
 * trend_sweep.c — measured accuracy of the verdict (src/lib/verdict.c,
 * issue 15): thousands of generated series with a known truth, sampled the
 * way `pooltag log` samples them, and the verdicts counted.
 *
 * Ground truth is a function of continuous time (bytes): a periodic load
 * (five shapes, period 0.5 to 20 sampling intervals and never a multiple
 * of it, per-cycle jitter of period and amplitude), warm-ups (five shapes,
 * plateau reached within the first half of the log, alone or under a
 * load), steady tags (level plus churn), and leaks (0.5 % to 50 % of the
 * load's amplitude per period, alone or under a load).  Noise (0 to 10 % of
 * the amplitude) is a step function with steps of an eighth of the shorter
 * of the period and the interval.  Each sample has its instant value and
 * the lowest and highest value of the interval that ends at it: the
 * function at 24 points of the interval plus its analytic extremes (cycle
 * starts, half-periods, the pulse's edge).  Each series is judged twice:
 * with ymin/ymax, and with the instants only (ymin/ymax NULL, an old log).
 *
 * Asserted (with ymin/ymax): no leak verdict in any load-only, warm-up or
 * steady series.  The goal for leaks of at least 1 % of the amplitude per
 * period is `leak` within 10 periods (or at the first prefix the method
 * judges, 8 samples and 10 s, when 10 periods are shorter), the delay being
 * the shortest prefix from which every longer prefix is a leak; it is not
 * met by every series yet, so the test asserts the measured level (at most
 * 3 % missed, 8 % missed or late) and prints every miss.  The instants-only
 * figures are printed, not asserted (docs/trend.md, "Limits").  Last, the
 * judge's speed on series of 4096 samples.
 *
 * Usage: trend_sweep [SCALE]   SCALE (default 1) divides the counts (the
 * sanitizer build passes 10); PT_SWEEP_VERBOSE=1 lists every miss.
 * Deterministic: fixed seeds, the same table on every run.
 */
#include "verdict.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXN 4096      /* samples per series (the reader keeps 4096)      */
#define MAXC 8192      /* load cycles per series                          */
#define SUB 24         /* evaluation points per interval                  */

enum { C_LOAD, C_WARM, C_STEADY, C_ISSUE, C_LEAK_LOAD, C_LEAK_ALONE, NCLASS };
static const char *const cls_name[NCLASS] = {
    "load", "warm-up", "steady", "issue 15 case", "leak under load",
    "leak alone"};

/* --- deterministic randomness ---------------------------------------- */

static unsigned long long rs;
static double urand(void) /* [0, 1) */
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) / (double)(1ULL << 53);
}
static double uni(double a, double b) { return a + (b - a) * urand(); }
static double logu(double a, double b) { return a * exp(log(b / a) * urand()); }

static double hash01(unsigned long long x) /* splitmix64 → [-1, 1) */
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (double)(x >> 11) / (double)(1ULL << 52) - 1.0;
}

/* --- the truth: bytes as a function of time --------------------------- */

enum { L_SINE, L_SAW, L_REVSAW, L_PULSE, L_TRI, L_NSHAPE };
enum { W_EXP, W_RAMP, W_LOGISTIC, W_STAIRS, W_QUAD, W_NSHAPE };

typedef struct truth {
    int cls;
    double base;              /* floor of the load / level              */
    double amp, P;            /* load amplitude (0: none), mean period  */
    double scale;             /* the amplitude a leak's rate refers to  */
    int shape;
    double duty;              /* pulse: share of the period held high   */
    double leak;              /* bytes per second                       */
    double noise;             /* step noise amplitude, bytes            */
    double nstep;             /* noise step, seconds                    */
    double wh, wt;            /* warm-up height and time to plateau     */
    int wshape, wsteps;
    unsigned long long seed;
    /* cycles (jittered): start times and amplitudes */
    int ncyc;
    double cs[MAXC + 1], ca[MAXC];
} truth;

static double load_shape(int shape, double ph, double duty)
{
    switch (shape) {
    case L_SINE: return 0.5 * (1 - cos(2 * M_PI * ph));
    case L_SAW: return ph;
    case L_REVSAW: return ph < 0.05 ? ph / 0.05 : 1 - (ph - 0.05) / 0.95;
    case L_PULSE: return ph >= 1 - duty ? 1 : 0;
    default: return ph < 0.5 ? 2 * ph : 2 - 2 * ph;
    }
}

static double warm_shape(const truth *g, double t)
{
    double u = t / g->wt;
    switch (g->wshape) {
    case W_EXP: return 1 - exp(-3 * u);          /* 95 % at wt */
    case W_RAMP: return u >= 1 ? 1 : u;
    case W_LOGISTIC: return 1 / (1 + exp(-10 * (u - 0.5)));
    case W_STAIRS: return u >= 1 ? 1 : floor(u * g->wsteps + 1) / g->wsteps;
    default: return u >= 1 ? 1 : 1 - (1 - u) * (1 - u);
    }
}

/* Cursor into the cycles: evaluation times only increase within an
 * interval, and each interval starts a new search from the previous one. */
static int cyc_at(const truth *g, double t, int *cur)
{
    int k = *cur;
    while (k > 0 && g->cs[k] > t)
        k--;
    while (k + 1 < g->ncyc && g->cs[k + 1] <= t)
        k++;
    *cur = k;
    return k;
}

static double f_at(const truth *g, double t, int *cur)
{
    double v = g->base + g->leak * t;
    if (g->amp > 0 && g->ncyc > 0) {
        int k = cyc_at(g, t, cur);
        double len = g->cs[k + 1] - g->cs[k];
        double ph = (t - g->cs[k]) / len;
        ph = ph < 0 ? 0 : ph >= 1 ? 0.999999 : ph;
        v += g->ca[k] * load_shape(g->shape, ph, g->duty);
    }
    if (g->wh > 0)
        v += g->wh * warm_shape(g, t);
    if (g->noise > 0)
        v += g->noise * hash01(g->seed ^ (unsigned long long)(long long)floor(t / g->nstep));
    return v < 0 ? 0 : v;
}

static void make_cycles(truth *g, double span, double pj, double aj)
{
    g->ncyc = 0;
    if (g->amp <= 0)
        return;
    double t = -g->P * urand(); /* random phase at t = 0 */
    while (g->ncyc < MAXC && t <= span + g->P) {
        g->cs[g->ncyc] = t;
        g->ca[g->ncyc] = g->amp * (1 + aj * uni(-1, 1));
        t += g->P * (1 + pj * uni(-1, 1));
        g->ncyc++;
    }
    g->cs[g->ncyc] = t;
}

/* --- sampling as the logger does it ----------------------------------- */

static double T_[MAXN], Y_[MAXN], LO_[MAXN], HI_[MAXN];

static void ext(double v, double *lo, double *hi)
{
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

/* n samples at interval dt (timestamps jittered by 2 %). */
static void sample(const truth *g, size_t n, double dt)
{
    int cur = 0;
    for (size_t i = 0; i < n; i++) {
        double ti = i * dt + (i ? 0.02 * dt * hash01(g->seed * 31 + i) : 0);
        T_[i] = 1.7e9 + ti;
        double y = f_at(g, ti, &cur);
        Y_[i] = LO_[i] = HI_[i] = y;
        if (i == 0)
            continue;
        double a = T_[i - 1] - 1.7e9; /* the interval (a, ti] */
        int c2 = cur;
        for (int s = 1; s < SUB; s++)
            ext(f_at(g, a + (ti - a) * s / SUB, &c2), &LO_[i], &HI_[i]);
        /* analytic extremes: each cycle start (and just before it), the
         * half-period and the pulse's edge inside (a, ti] */
        if (g->amp > 0) {
            int k = cyc_at(g, a, &c2);
            for (; k < g->ncyc && g->cs[k] <= ti; k++) {
                double len = g->cs[k + 1] - g->cs[k];
                const double at[] = {g->cs[k], g->cs[k] + 0.05 * len,
                                     g->cs[k] + 0.5 * len,
                                     g->cs[k] + (1 - g->duty) * len,
                                     g->cs[k + 1] - 1e-6 * len};
                for (size_t j = 0; j < sizeof at / sizeof at[0]; j++)
                    if (at[j] > a && at[j] <= ti) {
                        int c3 = k;
                        ext(f_at(g, at[j], &c3), &LO_[i], &HI_[i]);
                    }
            }
        }
    }
}

/* --- the sweep -------------------------------------------------------- */

static int min_samples(double dt)
{
    int n = (int)ceil(VD_MIN_SPAN_S / dt - 1e-9) + 2; /* + timing jitter */
    return n < VD_MIN_SAMPLES ? VD_MIN_SAMPLES : n;
}

static const char *last_why;

static vd_verdict judge(size_t n, int minmax)
{
    vd_input in = {.t = T_, .y = Y_, .n = n,
                   .ymin = minmax ? LO_ : NULL, .ymax = minmax ? HI_ : NULL};
    vd_result r;
    vd_judge(&in, &r);
    last_why = r.why;
    return r.verdict;
}

static const double dts[] = {0.25, 1, 10};

/* Draw a series of class cls (seeded by idx); sets *n and *dt. */
static void draw(truth *g, int cls, int idx, size_t *n, double *dt)
{
    memset(g, 0, offsetof(truth, ncyc));
    rs = 0x5eed0000ULL + (unsigned long long)cls * 1000003ULL + (unsigned long long)idx;
    urand();
    g->cls = cls;
    g->seed = rs ^ 0xabcdef;
    *dt = dts[idx % 3];
    double pj = 0, aj = 0;
    int nmin = min_samples(*dt);
    double span;
    switch (cls) {
    case C_LOAD:
    case C_LEAK_LOAD:
    case C_LEAK_ALONE:
    case C_ISSUE: {
        double ratio;
        do /* period / interval: never (nearly) a multiple */
            ratio = logu(0.5, 20);
        while (fabs(ratio - floor(ratio + 0.5)) < 0.01);
        g->P = ratio * *dt;
        g->amp = g->scale = logu(16e3, 64e6);
        g->base = urand() < 0.4 ? 0 : g->amp * logu(0.01, 2);
        g->shape = (int)(urand() * L_NSHAPE);
        g->duty = uni(0.1, 0.9);
        pj = urand() < 0.5 ? 0 : uni(0, 0.2);
        aj = urand() < 0.5 ? 0 : uni(0, 0.3);
        g->noise = g->amp * (urand() < 0.2 ? 0 : uni(0, 0.10));
        double periods = cls == C_LOAD ? logu(2, 40) : 20;
        span = periods * g->P;
        if (cls == C_ISSUE) { /* ~4 s cycle at 1 s for 45 s */
            *dt = 1;
            g->P = uni(3.8, 4.2);
            span = 45;
            g->base = 0; /* the cache returns to zero every cycle */
            nmin = 8;
        }
        if (cls == C_LEAK_LOAD || cls == C_LEAK_ALONE) {
            double frac = logu(0.005, 0.5);
            g->leak = frac * g->amp / g->P;
        }
        if (cls == C_LEAK_ALONE) {
            g->base = g->amp * logu(0.01, 2);
            g->amp = 0; /* the scale of the noise and the rate only */
        }
        break;
    }
    case C_WARM:
        span = logu(nmin - 1, 1500) * *dt;
        g->wh = logu(16e3, 64e6);
        g->base = urand() < 0.4 ? 0 : g->wh * logu(0.01, 2);
        g->wt = span * uni(0.05, 0.5);
        g->wshape = (int)(urand() * W_NSHAPE);
        g->wsteps = 2 + (int)(urand() * 5);
        g->noise = g->wh * (urand() < 0.3 ? 0 : uni(0, 0.05));
        if (urand() < 0.5) { /* under a load of at least 2 periods */
            double ratio;
            do
                ratio = logu(0.5, 20);
            while (fabs(ratio - floor(ratio + 0.5)) < 0.01);
            g->P = ratio * *dt;
            if (span < 2 * g->P)
                span = 2 * g->P;
            g->wt = fmin(g->wt, span * 0.5);
            g->amp = g->wh * logu(0.1, 1);
            g->shape = (int)(urand() * L_NSHAPE);
            g->duty = uni(0.1, 0.9);
            pj = urand() < 0.5 ? 0 : uni(0, 0.2);
            aj = urand() < 0.5 ? 0 : uni(0, 0.3);
            g->noise = g->amp * (urand() < 0.2 ? 0 : uni(0, 0.10));
        }
        break;
    default: /* steady */
        span = logu(nmin - 1, 2000) * *dt;
        g->base = logu(4096, 100e6);
        g->noise = urand() < 0.25 ? 0 : g->base * logu(1e-4, 0.04);
        if (urand() < 0.3) { /* one block in and out: the churn test */
            g->amp = fmin(g->base * 0.04, 65536);
            g->P = logu(0.5, 20) * *dt;
            g->shape = L_PULSE;
            g->duty = uni(0.1, 0.9);
        }
        break;
    }
    g->nstep = fmin(g->P > 0 ? g->P : *dt, *dt) / 8;
    size_t nn = (size_t)(span / *dt) + 1;
    if (nn < (size_t)nmin)
        nn = nmin;
    if (nn > MAXN)
        nn = MAXN;
    *n = nn;
    make_cycles(g, nn * *dt, pj, aj);
}

typedef struct tally {
    long conf[2][NCLASS][VD_COUNT];
    long count[NCLASS];
    double *delay[2];   /* leaks >= 1 %: detection delay in periods */
    size_t ndelay[2];
    double *delay10[2]; /* the same, where 10 periods >= the minimum log */
    size_t ndelay10[2];
    long missed[2], late[2], missed_small[2], small[2];
} tally;

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void print_table(const tally *ta, int mm)
{
    printf("\nverdicts %s (rows: truth; columns: verdict)\n",
           mm ? "WITH interval min/max" : "from the INSTANTS only (no min/max)");
    printf("  %-16s %7s", "truth", "series");
    for (int v = 0; v < VD_COUNT; v++)
        printf(" %8s", vd_name((vd_verdict)v));
    printf("\n");
    for (int c = 0; c < NCLASS; c++) {
        printf("  %-16s %7ld", cls_name[c], ta->count[c]);
        for (int v = 0; v < VD_COUNT; v++)
            printf(" %8ld", ta->conf[mm][c][v]);
        printf("\n");
    }
}

static double pct(double *d, size_t n, double p)
{
    if (n == 0)
        return NAN;
    size_t k = (size_t)ceil(p * n) - 1;
    return d[k >= n ? n - 1 : k];
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    int verbose = getenv("PT_SWEEP_VERBOSE") != NULL;
    const int counts[NCLASS] = {4000, 4000, 2500, 500, 1500, 500};
    static truth g;
    static tally ta;
    clock_t c0 = clock();
    for (int mm = 0; mm < 2; mm++)
        ta.delay[mm] = calloc(counts[C_LEAK_LOAD] + counts[C_LEAK_ALONE], sizeof(double)),
        ta.delay10[mm] = calloc(counts[C_LEAK_LOAD] + counts[C_LEAK_ALONE], sizeof(double));
    long judged = 0;
    const char *one = getenv("PT_SWEEP_ONE"); /* "CLASS INDEX": dump one */
    if (one) {
        int cls = atoi(one), idx = atoi(strchr(one, ' ') ? strchr(one, ' ') : "0");
        size_t n;
        double dt;
        draw(&g, cls, idx, &n, &dt);
        sample(&g, n, dt);
        for (size_t i = 0; i < n; i++) {
            vd_input in = {.t = T_, .y = Y_, .n = i + 1, .ymin = LO_, .ymax = HI_};
            vd_result r;
            vd_judge(&in, &r);
            printf("%4zu t=%8.2f y=%12.0f lo=%12.0f hi=%12.0f  %-8s %-16s troughs=%d\n",
                   i, T_[i] - T_[0], Y_[i], LO_[i], HI_[i], vd_name(r.verdict),
                   r.why, r.troughs);
        }
        return 0;
    }
    for (int cls = 0; cls < NCLASS; cls++) {
        for (int idx = 0; idx < counts[cls] / scale; idx++) {
            size_t n;
            double dt;
            draw(&g, cls, idx, &n, &dt);
            sample(&g, n, dt);
            ta.count[cls]++;
            int leakcls = cls == C_LEAK_LOAD || cls == C_LEAK_ALONE;
            double frac = leakcls ? g.leak * g.P / g.scale : 0;
            for (int mm = 0; mm < 2; mm++) {
                vd_verdict v = judge(n, mm);
                judged++;
                ta.conf[mm][cls][v]++;
                if (!leakcls) {
                    if (v == VD_LEAK && (mm || verbose))
                        printf("%s: %s #%d judged leak (%s): dt=%g P=%.3g "
                               "amp=%.3g base=%.3g shape=%d noise=%.3g n=%zu "
                               "wshape=%d wt/span=%.2f\n",
                               mm ? "FALSE LEAK" : "instant-only false leak",
                               cls_name[cls], idx, last_why, dt, g.P, g.amp,
                               g.base, g.shape, g.noise, n, g.wshape,
                               g.wt / (n * dt));
                    continue;
                }
                /* detection delay: the shortest prefix from which every
                 * longer prefix is a leak */
                size_t first = n + 1;
                for (size_t k = n; k >= 2 && judge(k, mm) == VD_LEAK; k--, judged++)
                    first = k;
                size_t k0 = VD_MIN_SAMPLES; /* the first prefix judged */
                while (k0 < n && T_[k0 - 1] - T_[0] < VD_MIN_SPAN_S)
                    k0++;
                double limit = fmax(10, (T_[k0 - 1] - T_[0]) / g.P + 1e-9);
                int big = frac >= 0.01;
                if (first > n) {
                    if (big)
                        ta.missed[mm]++;
                    else
                        ta.missed_small[mm]++;
                    if (big && (mm || verbose))
                        printf("%s: %s #%d (%.2f %% per period) not a leak after "
                               "%.1f periods: dt=%g P=%.3g shape=%d noise=%.3g "
                               "verdict %s\n",
                               mm ? "MISSED" : "instant-only missed", cls_name[cls],
                               idx, 100 * frac, (T_[n - 1] - T_[0]) / g.P, dt, g.P,
                               g.shape, g.noise / g.scale,
                               vd_name(v));
                    if (!big)
                        ta.small[mm]++;
                    continue;
                }
                double d = (T_[first - 1] - T_[0]) / g.P;
                if (big) {
                    ta.delay[mm][ta.ndelay[mm]++] = d;
                    if (limit <= 10)
                        ta.delay10[mm][ta.ndelay10[mm]++] = d;
                    if (d > limit) {
                        ta.late[mm]++;
                        if (mm || verbose)
                            printf("%s: %s #%d (%.2f %% per period) leak only after "
                                   "%.1f periods: dt=%g P=%.3g shape=%d noise=%.3g\n",
                                   mm ? "LATE" : "instant-only late", cls_name[cls],
                                   idx, 100 * frac, d, dt, g.P, g.shape,
                                   g.noise / g.scale);
                    }
                } else {
                    ta.small[mm]++;
                }
            }
        }
    }
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;

    long false_leaks[2] = {0, 0}, nonleak = 0;
    for (int c = 0; c <= C_ISSUE; c++) {
        nonleak += ta.count[c];
        for (int mm = 0; mm < 2; mm++)
            false_leaks[mm] += ta.conf[mm][c][VD_LEAK];
    }
    print_table(&ta, 1);
    print_table(&ta, 0);
    printf("\ndetection delay of leaks >= 1 %% of the amplitude per period "
           "(periods; from the first prefix that stays leak):\n");
    for (int mm = 1; mm >= 0; mm--) {
        qsort(ta.delay[mm], ta.ndelay[mm], sizeof(double), cmpd);
        printf("  %-13s detected %zu, missed %ld, later than 10 periods %ld; "
               "median %.1f, p90 %.1f, max %.1f\n",
               mm ? "with min/max" : "instants only", ta.ndelay[mm], ta.missed[mm],
               ta.late[mm], pct(ta.delay[mm], ta.ndelay[mm], 0.5),
               pct(ta.delay[mm], ta.ndelay[mm], 0.9),
               pct(ta.delay[mm], ta.ndelay[mm], 1.0));
        qsort(ta.delay10[mm], ta.ndelay10[mm], sizeof(double), cmpd);
        printf("  %-13s where 10 periods >= the minimum log (%zu): median %.1f, "
               "p90 %.1f, max %.1f\n", "", ta.ndelay10[mm],
               pct(ta.delay10[mm], ta.ndelay10[mm], 0.5),
               pct(ta.delay10[mm], ta.ndelay10[mm], 0.9),
               pct(ta.delay10[mm], ta.ndelay10[mm], 1.0));
    }
    printf("  leaks under 1 %% per period not called leak within 20 periods: "
           "%ld with min/max, %ld instants only\n",
           ta.missed_small[1], ta.missed_small[0]);
    printf("\nfalse leaks: %ld of %ld non-leak series with min/max, %ld from "
           "the instants only\n", false_leaks[1], nonleak, false_leaks[0]);
    printf("trend_sweep: %ld verdicts in %.2f s CPU (scale 1/%d)\n", judged, secs,
           scale);
    /* The speed of the judge: series of 4096 points (the reader's bound),
     * a load with a leak, with and without min/max. */
    {
        truth *b = &g;
        size_t n;
        double dt;
        draw(b, C_LEAK_LOAD, 1, &n, &dt);
        b->P = 37.3 * dt;
        make_cycles(b, 4096 * dt, 0.1, 0.1);
        sample(b, 4096, dt);
        for (int mm = 1; mm >= 0; mm--) {
            int reps = 2000 / scale;
            clock_t b0 = clock();
            for (int k = 0; k < reps; k++)
                judge(4096, mm);
            double us = 1e6 * (double)(clock() - b0) / CLOCKS_PER_SEC / reps;
            printf("speed: %.1f us per series of 4096 samples %s (%.1f ns a "
                   "sample)\n", us, mm ? "with min/max" : "instants only",
                   1e3 * us / 4096);
        }
    }

    /* Asserted: no false leak with min/max; every leak >= 1 % per period
     * within 10 periods is the goal, not yet met by every series (see
     * docs/trend.md, "Measured"): at most 3 % missed and 8 % missed or
     * late guard against a regression. */
    long big = (long)ta.ndelay[1] + ta.missed[1];
    double miss_frac = big ? (double)ta.missed[1] / big : 0;
    double slow_frac = big ? (double)(ta.missed[1] + ta.late[1]) / big : 0;
    printf("with min/max: %.1f %% of leaks >= 1 %% per period missed, %.1f %% "
           "missed or later than 10 periods\n", 100 * miss_frac, 100 * slow_frac);
    int ok = false_leaks[1] == 0 && miss_frac <= 0.03 && slow_frac <= 0.08 &&
             (scale > 1 || nonleak >= 10000);
    for (int mm = 0; mm < 2; mm++)
        free(ta.delay[mm]), free(ta.delay10[mm]);
    return ok ? 0 : 1;
}
