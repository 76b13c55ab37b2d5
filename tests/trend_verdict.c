/*
 * trend_verdict.c — the verdict algorithm (src/lib/verdict.c) on generated
 * series with known answers, each at several sampling intervals and
 * lengths: the verdict must not depend on how often or how long one
 * sampled (as long as there are enough samples).  Prints one line per case
 * and a tally; exit 1 on any wrong verdict.
 */
#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 20000

static unsigned long long rng_state;
static double rnd(void) /* uniform in [-1, 1), deterministic */
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / (double)(1ULL << 52) - 1.0;
}

typedef double (*shape_fn)(double t, double T);

/* Shapes over a log of length T seconds (bytes). */
static double s_leak(double t, double T) { (void)T; return 1e6 + 1000 * t; }
static double s_saw(double t, double T)
{
    double P = T / 5, f = t / P - floor(t / P);
    return 2e5 + 1e6 * f;
}
static double s_sine(double t, double T)
{
    return 5e5 * (1 - cos(2 * M_PI * t / (T / 4)));
}
static double s_warm(double t, double T) { return 3e6 * (1 - exp(-t / (T / 6))); }
static double s_warm_rising(double t, double T)
{
    return 3e6 * (1 - exp(-t / (T / 1.5)));
}
static double s_hidden(double t, double T)
{
    double P = T / 6; /* 6 periods of 1 MB, leak 30 KB per period */
    return 1e5 + 5e5 * (1 - cos(2 * M_PI * t / P)) + 30e3 * t / P;
}
static double s_hidden_saw(double t, double T)
{
    double P = T / 6, f = t / P - floor(t / P);
    return 1e5 + 2e6 * f + 100e3 * t / P;
}
static double s_noise(double t, double T)
{
    (void)t, (void)T;
    return 4e6 * (1 + 0.03 * rnd());
}
static double s_partial(double t, double T) /* 0.7 of a load period */
{
    return 1e4 + 5e5 * (1 - cos(2 * M_PI * t / (T / 0.7)));
}
static double s_partial_noisy(double t, double T) /* 0.6 period, noise */
{
    return 1e4 + 5e5 * (1 - cos(2 * M_PI * t / (T / 0.6))) + 2e4 * rnd();
}
static double s_leak_noise(double t, double T)
{
    return 1e6 * (1 + 0.3 * t / T + 0.03 * rnd());
}
static double s_zero(double t, double T) { (void)t, (void)T; return 0; }
static double s_step_late(double t, double T) { return t < 0.85 * T ? 1e6 : 1.5e6; }
static double s_falling(double t, double T) { return 2e6 - 1.5e6 * t / T; }
static double s_late_leak(double t, double T) /* flat, then leaks from 40 % */
{
    return t < 0.4 * T ? 3e5 : 3e5 + 2000 * (t - 0.4 * T);
}
static double s_steady_churn(double t, double T)
{
    (void)T; /* one block of 4 KiB in and out on a 2 MB level */
    return 2e6 + ((long)(t * 7) % 3 == 0 ? 4096 : 0);
}

typedef struct tcase {
    const char *name;
    shape_fn f;
    vd_verdict want;
    vd_verdict also;  /* a second acceptable verdict, or VD_COUNT */
    int min_samples;  /* skip sparser sampling (aliasing: < 10 per period) */
} tcase;

static const tcase cases[] = {
    {"steady leak", s_leak, VD_LEAK, VD_COUNT, 0},
    {"sawtooth load", s_saw, VD_LOAD, VD_COUNT, 0},
    {"sine load", s_sine, VD_LOAD, VD_COUNT, 0},
    {"warm-up plateau", s_warm, VD_WARMUP, VD_COUNT, 0},
    {"warm-up still rising", s_warm_rising, VD_WARMUP, VD_COUNT, 0},
    {"slow leak under sine load", s_hidden, VD_LEAK, VD_COUNT, 0},
    {"slow leak under sawtooth", s_hidden_saw, VD_LEAK, VD_COUNT, 60},
    {"noise around a level", s_noise, VD_STEADY, VD_COUNT, 0},
    {"load 0.7 of a period", s_partial, VD_LOAD, VD_COUNT, 0},
    {"load 0.6 period, noisy", s_partial_noisy, VD_LOAD, VD_WARMUP, 0},
    {"leak in noise", s_leak_noise, VD_LEAK, VD_COUNT, 0},
    {"constant zero", s_zero, VD_STEADY, VD_COUNT, 0},
    {"one late step", s_step_late, VD_UNKNOWN, VD_STEADY, 0},
    {"falling", s_falling, VD_LOAD, VD_COUNT, 0},
    {"flat then leaking", s_late_leak, VD_LEAK, VD_COUNT, 0},
    {"steady with churn", s_steady_churn, VD_STEADY, VD_COUNT, 0},
};

static double T_[MAXN], Y_[MAXN], A_[MAXN];

static int run(const tcase *c, double T, double dt, int jitter, int verbose)
{
    size_t n = 0;
    double alloc = 0;
    rng_state = 12345;
    for (double t = 0; t <= T + 1e-9 && n < MAXN; t += dt) {
        double tt = t + (jitter ? 0.1 * dt * rnd() : 0);
        if (tt < 0)
            tt = 0;
        if (n > 0 && 1.7e9 + tt < T_[n - 1])
            tt = T_[n - 1] - 1.7e9;
        T_[n] = 1.7e9 + tt;   /* realistic epoch seconds */
        Y_[n] = c->f(tt, T);
        if (n > 0) /* allocations: churn plus what the rise needs */
            alloc += dt * 10 + fmax(Y_[n] - Y_[n - 1], 0) / 4096 +
                     Y_[n] / 1e5 * dt;
        A_[n] = alloc;
        n++;
    }
    vd_input in = {.t = T_, .y = Y_, .allocs = A_, .n = n,
                   .pool_max = 64e6, .pool_now = Y_[n - 1]};
    vd_result r;
    vd_judge(&in, &r);
    int ok = r.verdict == c->want || r.verdict == c->also;
    if (verbose || !ok)
        printf("%-4s %-28s T=%6.0fs dt=%5.2fs n=%5zu %-8s (%s) rate=%.3g/h "
               "nondecr=%.2f r2=%.3f corr=%.2f troughs=%d\n",
               ok ? "ok" : "FAIL", c->name, T, dt, n, vd_name(r.verdict), r.why,
               r.rate, r.nondecr, r.r2, r.corr, r.troughs);
    return ok;
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    const double spans[] = {60, 600, 7200};
    const double per_span[] = {120, 30, 400}; /* samples per span */
    int total = 0, good = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t s = 0; s < 3; s++)
            for (size_t k = 0; k < 3; k++)
                for (int j = 0; j < 2; j++) {
                    if (per_span[k] < cases[c].min_samples)
                        continue;
                    total++;
                    good += run(&cases[c], spans[s], spans[s] / per_span[k], j,
                                verbose);
                }

    /* Edge cases: one sample, two samples, too short. */
    struct { size_t n; double dt; vd_verdict want; const char *name; } edges[] = {
        {1, 1, VD_UNKNOWN, "one sample"},
        {2, 30, VD_UNKNOWN, "two samples"},
        {50, 0.1, VD_UNKNOWN, "5 s span"},
    };
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        for (size_t i = 0; i < edges[e].n; i++) {
            T_[i] = i * edges[e].dt;
            Y_[i] = 1000.0 * (double)i;
        }
        vd_input in = {.t = T_, .y = Y_, .n = edges[e].n};
        vd_result r;
        vd_judge(&in, &r);
        total++;
        if (r.verdict == edges[e].want)
            good++;
        else
            printf("FAIL %s: %s\n", edges[e].name, vd_name(r.verdict));
    }
    /* Backwards time and NaN never crash and say unknown. */
    T_[0] = 5, T_[1] = 4, Y_[0] = Y_[1] = 0;
    vd_input bad = {.t = T_, .y = Y_, .n = 2};
    vd_result r;
    vd_judge(&bad, &r);
    total++;
    good += r.verdict == VD_UNKNOWN;

    /* False leaks: noise and loads of any period and phase, at random. */
    int sweeps = 0, false_leaks = 0;
    for (int k = 0; k < 400; k++) {
        rng_state = 777 + (unsigned long long)k * 7919;
        double T = 600, dt = (k % 2) ? 2 : 5;
        double noise = 0.01 + 0.09 * (rnd() + 1) / 2;
        double periods = 0.6 + 9.4 * (rnd() + 1) / 2;
        double phase = M_PI * rnd(), amp = k % 3 ? 5e5 : 0;
        size_t n = 0;
        for (double t = 0; t <= T; t += dt) {
            T_[n] = t;
            Y_[n] = 1e6 + amp * sin(2 * M_PI * t * periods / T + phase) +
                    1e6 * noise * rnd();
            n++;
        }
        vd_input in = {.t = T_, .y = Y_, .n = n};
        vd_result res;
        vd_judge(&in, &res);
        sweeps++;
        if (res.verdict == VD_LEAK) {
            false_leaks++;
            printf("FALSE LEAK noise=%.3f periods=%.2f phase=%.2f amp=%g (%s)\n",
                   noise, periods, phase, amp, res.why);
        }
    }
    printf("trend_verdict: %d false leaks in %d random loads and noise\n",
           false_leaks, sweeps);
    total += sweeps;
    good += sweeps - false_leaks;

    printf("trend_verdict: %d of %d verdicts right\n", good, total);
    return good == total ? 0 : 1;
}
