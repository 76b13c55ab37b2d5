/*
 * test_used_age.c — the arithmetic of `used --age`, `sites --age` and
 * `used --suspects` (src/lib/ages.c) on readings built by hand: a process
 * an hour old with the runtime's epochs (pt_age_due), and sites with known
 * shapes:
 *   Leak  1000 B/s kept forever, never freed;
 *   Load  1 MB/s, blocks freed after ~0.2 s: bytes in the current epoch only;
 *   Cach  10 MB allocated in the first second, nothing since;
 *   Warm  bytes in the first minute only (a warm-up);
 *   Mixd  1 MB/s of which 1% is kept (10 KB/s), the rest freed in ~0.2 s;
 *   Sess  1000 B/s, blocks living ~20 min (exponential): decaying with age;
 *   Late  a leak that began at half the process's life.
 * Checks: bands by the youngest age (an epoch ending 9.9 s ago is <10s, one
 * ending 10 s ago 10s-1m, the current one <10s), bands sum to epochs;
 * the suspects are Mixd, Leak, Late in that order and none of the others,
 * with the lifetime of Mixd's freed blocks about 0.2 s; hostile epoch
 * times (out of order, later than the reading) give ages clamped at 0 and
 * no suspect; a reading without ages has none (age_present 0).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ages.h"
#include "pt_test.h"

#define NS 1000000000ull
#define T0 (1700000000ull * NS)

enum { LEAK, LOAD, CACH, WARM, MIXD, SESS, LATE, NSITES };
static const char *const names[NSITES] = {"Leak", "Load", "Cach", "Warm", "Mixd", "Sess", "Late"};

static uint32_t tag_of(const char *s)
{
    uint32_t t;
    memcpy(&t, s, 4);
    return t;
}

/* The epochs of a process `age` seconds old, as the runtime begins them. */
static void epochs(ptr_view *v, double age)
{
    v->taken_ns = T0 + (uint64_t)(age * NS);
    v->age_start_real[0] = T0;
    v->age_n = 1;
    while (v->age_n < PT_AGE_EPOCHS) {
        uint64_t next = pt_age_due(v->age_start_real[v->age_n - 1], T0);
        if (next >= v->taken_ns)
            break;
        v->age_start_real[v->age_n++] = next;
    }
}

/* Site i's live bytes in epoch e: rate r (B/s) times the time of the epoch
 * in [from, to) s of age (ages: a = taken - t), blocks of `block` bytes. */
static void keep(ptr_view *v, size_t i, double r, double from, double to, double block)
{
    for (uint32_t e = 0; e < v->age_n; e++) {
        double lo = (double)age_min_ns(v, e) / NS, hi = (double)age_max_ns(v, e) / NS;
        double a = lo > from ? lo : from, b = hi < to ? hi : to;
        if (b <= a)
            continue;
        double bytes = r * (b - a);
        v->site_ages[i * v->age_n + e].bytes += (int64_t)bytes;
        v->site_ages[i * v->age_n + e].blocks += (int64_t)ceil(bytes / block);
    }
}

/* Counters: `made` bytes allocated in blocks of `block`, `kept` live. */
static void counts(ptr_view *v, size_t i, double made, double block)
{
    int64_t live = 0, blocks = 0;
    for (uint32_t e = 0; e < v->age_n; e++) {
        live += v->site_ages[i * v->age_n + e].bytes;
        blocks += v->site_ages[i * v->age_n + e].blocks;
    }
    pt_counts *c = &v->sites[i].pool[PT_PAGED];
    c->bytes_alloc = (uint64_t)made;
    c->allocs = (uint64_t)ceil(made / block);
    if (c->allocs < (uint64_t)blocks)
        c->allocs = (uint64_t)blocks;
    c->bytes_freed = c->bytes_alloc - (uint64_t)live;
    c->frees = c->allocs - (uint64_t)blocks;
}

static void build(ptr_view *v, double age)
{
    memset(v, 0, sizeof *v);
    epochs(v, age);
    v->nsites = NSITES;
    v->sites = calloc(NSITES, sizeof *v->sites);
    v->site_ages = calloc((size_t)NSITES * v->age_n, sizeof *v->site_ages);
    if (!v->sites || !v->site_ages)
        exit(2);
    for (size_t i = 0; i < NSITES; i++) {
        v->sites[i].tag = tag_of(names[i]);
        v->sites[i].addr = 0x1000 + 16 * i;
        v->sites[i].index = (uint32_t)i;
    }
    keep(v, LEAK, 1000, 0, age, 1000);
    counts(v, LEAK, 1000 * age, 1000);
    keep(v, LOAD, 1e6, 0, 0.2, 4096);
    counts(v, LOAD, 1e6 * age, 4096);
    keep(v, CACH, 1e7, age - 1, age, 65536);
    counts(v, CACH, 1e7, 65536);
    keep(v, WARM, 2e4, age - 60, age, 1024);
    counts(v, WARM, 2e4 * 60, 1024);
    keep(v, MIXD, 1e4, 0, age, 512);
    keep(v, MIXD, 99e4, 0, 0.2, 512);
    counts(v, MIXD, 1e6 * age, 512);
    /* Sess: survival e^(-a/1200) over the ages, in 1 s slices. */
    for (double a = 0; a < age; a += 1)
        keep(v, SESS, 1000 * exp(-(a + 0.5) / 1200), a, a + 1, 256);
    counts(v, SESS, 1000 * age, 256);
    keep(v, LATE, 1000, 0, age / 2, 1000);
    counts(v, LATE, 1000 * age / 2, 1000);
}

static void bands(void)
{
    ptr_view v;
    memset(&v, 0, sizeof v);
    v.age_n = 4;
    v.taken_ns = T0 + 100 * NS;
    v.age_start_real[0] = T0;
    v.age_start_real[1] = T0 + 50 * NS;          /* epoch 0 ended 50 s ago */
    v.age_start_real[2] = T0 + 90 * NS;          /* epoch 1 ended 10 s ago */
    v.age_start_real[3] = T0 + 90 * NS + NS / 10; /* epoch 2: 9.9 s ago */
    CHECKF(age_band_of(&v, 0) == 1, "epoch ending 50 s ago: band %d", age_band_of(&v, 0));
    CHECKF(age_band_of(&v, 1) == 1, "epoch ending 10 s ago: band %d", age_band_of(&v, 1));
    CHECKF(age_band_of(&v, 2) == 0, "epoch ending 9.9 s ago: band %d", age_band_of(&v, 2));
    CHECKF(age_band_of(&v, 3) == 0, "current epoch: band %d", age_band_of(&v, 3));
    CHECKF(age_min_ns(&v, 3) == 0 && age_max_ns(&v, 3) == 9900000000ull, "current: %llu..%llu",
          (unsigned long long)age_min_ns(&v, 3), (unsigned long long)age_max_ns(&v, 3));
    CHECKF(age_max_ns(&v, 0) == 100 * NS && age_min_ns(&v, 0) == 50 * NS, "epoch 0 ages");
    CHECKF(!age_present(&v), "no site_ages: not present");

    /* Every band: an epoch ending just at each bound. */
    static const uint64_t at[] = {0, 10, 60, 600, 3600, 86400};
    for (int b = 0; b < AGE_NBANDS; b++) {
        memset(&v, 0, sizeof v);
        v.age_n = 2;
        v.taken_ns = T0 + 200000 * NS;
        v.age_start_real[0] = T0;
        v.age_start_real[1] = v.taken_ns - at[b] * NS;
        CHECKF(age_band_of(&v, 0) == b, "epoch ending %llu s ago: band %d, not %d",
              (unsigned long long)at[b], age_band_of(&v, 0), b);
        CHECKF(age_bands[b].min_s == at[b], "band %d starts at %llu", b,
              (unsigned long long)age_bands[b].min_s);
    }
}

static void sums(const ptr_view *v)
{
    for (size_t i = 0; i < v->nsites; i++) {
        age_row r;
        int64_t eb = 0, bb = 0, ek = 0, bk = 0;
        memset(&r, 0, sizeof r);
        age_row_add(&r, v, i);
        for (uint32_t e = 0; e < v->age_n; e++) {
            eb += r.ep_bytes[e];
            ek += r.ep_blocks[e];
        }
        for (int b = 0; b < AGE_NBANDS; b++) {
            bb += r.band_bytes[b];
            bk += r.band_blocks[b];
        }
        CHECKF(eb == bb && ek == bk, "%s: bands %lld/%lld, epochs %lld/%lld", names[i],
              (long long)bb, (long long)bk, (long long)eb, (long long)ek);
    }
    /* Load and Cach: only the youngest and the oldest band. */
    age_row r;
    memset(&r, 0, sizeof r);
    age_row_add(&r, v, LOAD);
    CHECKF(r.band_bytes[0] > 0 && !r.band_bytes[1] && !r.band_bytes[2] && !r.band_bytes[3] &&
              !r.band_bytes[4] && !r.band_bytes[5],
          "Load not all <10s");
    memset(&r, 0, sizeof r);
    age_row_add(&r, v, CACH);
    CHECKF(r.band_bytes[3] > 0 && r.band_bytes[0] == 0, "Cach of an hour-old process: 10m-1h");
}

static void suspects(const ptr_view *v)
{
    age_suspect s[NSITES];
    size_t n = 0;
    char text[512];
    for (size_t i = 0; i < NSITES; i++) {
        age_suspect x;
        int listed = age_suspect_eval(v, i, &x);
        age_suspect_text(&x, text, sizeof text);
        printf("%s %s score %.0f steady %.2f cut %.1f s life %.3f s: %s\n", names[i],
               listed ? "LISTED" : "-", x.score, x.steadiness, x.cut_s, x.lifetime_s, text);
        if (listed)
            s[n++] = x;
    }
    qsort(s, n, sizeof *s, age_suspect_cmp);
    CHECKF(n == 3, "%zu suspects, not 3 (Mixd, Leak, Late)", n);
    if (n == 3)
        CHECKF(s[0].site == MIXD && s[1].site == LEAK && s[2].site == LATE,
              "order %s %s %s", names[s[0].site], names[s[1].site], names[s[2].site]);
    for (size_t k = 0; k < n; k++) {
        if (s[k].site == MIXD)
            CHECKF(fabs(s[k].lifetime_s - 0.2) < 0.05, "Mixd's lifetime %.3f s", s[k].lifetime_s);
        if (s[k].site == LEAK) {
            CHECKF(s[k].frees == 0 && isnan(s[k].lifetime_s), "Leak frees nothing");
            CHECKF(s[k].steadiness > 0.95, "Leak's steadiness %.3f", s[k].steadiness);
            CHECKF(s[k].old_epochs_bytes == s[k].old_epochs, "Leak: %u of %u epochs",
                  s[k].old_epochs_bytes, s[k].old_epochs);
            age_suspect_text(&s[k], text, sizeof text);
            CHECKF(strstr(text, "frees none") && strstr(text, "allocates 1000 B/s"), "text: %s",
                  text);
        }
    }
}

static void hostile(void)
{
    ptr_view v;
    build(&v, 3600);
    /* Start times out of order and past the reading. */
    for (uint32_t e = 0; e < v.age_n; e++)
        v.age_start_real[e] = (e % 2) ? T0 + 90000 * NS : T0 - (uint64_t)e * NS;
    for (uint32_t e = 0; e < v.age_n; e++) {
        CHECKF(age_min_ns(&v, e) <= age_max_ns(&v, e), "epoch %u: min > max", e);
        CHECKF(age_band_of(&v, e) >= 0 && age_band_of(&v, e) < AGE_NBANDS, "band");
    }
    for (size_t i = 0; i < NSITES; i++) {
        age_suspect x;
        age_suspect_eval(&v, i, &x);
        CHECKF(x.steadiness >= 0 && x.steadiness <= 1, "steadiness %.3f", x.steadiness);
    }
    /* Huge and negative counts. */
    for (size_t k = 0; k < (size_t)NSITES * v.age_n; k++)
        v.site_ages[k].bytes = (k % 3) ? INT64_MIN / 4 : INT64_MAX / 4;
    for (size_t i = 0; i < NSITES; i++) {
        age_suspect x;
        age_row r;
        memset(&r, 0, sizeof r);
        age_row_add(&r, &v, i);
        age_suspect_eval(&v, i, &x);
    }
    /* taken before every epoch: all ages 0, nothing old. */
    v.taken_ns = 1;
    for (size_t i = 0; i < NSITES; i++) {
        age_suspect x;
        CHECKF(!age_suspect_eval(&v, i, &x), "a reading older than its epochs has suspects");
    }
    free(v.sites);
    free(v.site_ages);
    memset(&v, 0, sizeof v);
    age_suspect x;
    CHECKF(!age_present(&v) && !age_suspect_eval(&v, 0, &x), "no ages, no suspects");
}

int main(void)
{
    bands();
    ptr_view v;
    build(&v, 3600);
    printf("%u epochs over an hour\n", v.age_n);
    CHECKF(age_present(&v), "built view has ages");
    sums(&v);
    suspects(&v);
    free(v.sites);
    free(v.site_ages);
    hostile();
    puts("test_used_age: ok");
    return 0;
}
