/*
 * test_ages.c — age epochs (issue 15): every live block is counted in the
 * epoch it was allocated in, exactly, whoever frees it and whenever.
 *
 * The program reads its own segment through the reader library (a live
 * reading of getpid()) while it allocates in known epochs:
 *   Olda  400 blocks of 1000 bytes at the start (epoch 0), half of them
 *         freed later by another thread (frees of an old epoch, from a
 *         shard that never allocated them);
 *   Chrn  allocated and freed at once, tens of thousands of times, across
 *         epoch changes (this is also what makes the epochs begin: the
 *         runtime looks at the clock every PT_AGE_CHECK allocations);
 *   Newb  100 blocks of 500 bytes once epoch >= 3, kept;
 *   Thrd  blocks allocated by a thread that then exits (its shard keeps
 *         its current part), then freed by main in a later epoch.
 * Checks, for every site: the epochs' sum equals the site's live bytes and
 * blocks; Olda's live bytes are all in epoch 0, Newb's in epochs >= the
 * one seen before they were allocated, Chrn holds nothing in any epoch,
 * and the epochs' start times increase; a fork child keeps the epochs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pooltag.h"
#include "ptread.h"

static int fails;
#define CHECK(c, ...)                                                 \
    do {                                                              \
        if (!(c)) {                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                             \
            fputc('\n', stderr);                                      \
            fails++;                                                  \
        }                                                             \
    } while (0)

static void read_self(ptr_view *v)
{
    char spec[32], err[256];
    snprintf(spec, sizeof spec, "%d", (int)getpid());
    ptr_source *s;
    if (ptr_open(spec, &s, err, sizeof err) < 0 || ptr_read(s, v, err, sizeof err) < 0) {
        fprintf(stderr, "FAIL reading myself: %s\n", err);
        exit(1);
    }
    ptr_close(s);
}

static uint32_t epoch_now(void)
{
    ptr_view v;
    read_self(&v);
    uint32_t n = v.age_n;
    ptr_view_free(&v);
    return n ? n - 1 : 0;
}

static void churn(int n)
{
    for (int i = 0; i < n; i++) {
        void *p = pt_alloc(PT_PAGED, 64 + (i & 63), PT_TAG("Chrn"));
        pt_free(p);
    }
}

#define NOLD 400
static void *old_blocks[NOLD];

static void *free_half(void *arg)
{
    (void)arg;
    churn(5000); /* (this thread's own shard first) */
    for (int i = 0; i < NOLD; i += 2)
        pt_free(old_blocks[i]);
    return NULL;
}

#define NTHR 50
static void *thr_blocks[NTHR];
static void *alloc_and_exit(void *arg)
{
    (void)arg;
    for (int i = 0; i < NTHR; i++)
        thr_blocks[i] = pt_alloc(PT_PAGED, 300, PT_TAG("Thrd"));
    return NULL;
}

int main(void)
{
    for (int i = 0; i < NOLD; i++)
        old_blocks[i] = pt_alloc(PT_PAGED, 1000, PT_TAG("Olda"));
    pthread_t th;
    pthread_create(&th, NULL, alloc_and_exit, NULL);
    pthread_join(th, NULL);
    /* Let epochs begin: >= 3 within 10 s (epochs of 1 s first). */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t e = 0;
    do {
        churn(20000);
        usleep(50000);
        e = epoch_now();
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (e < 3 && t.tv_sec - t0.tv_sec < 15);
    CHECK(e >= 3, "epoch %u after %ld s of allocations: epochs do not begin", e,
          (long)(t.tv_sec - t0.tv_sec));
    uint32_t e_newb = e;
    void *newb[100];
    for (int i = 0; i < 100; i++)
        newb[i] = pt_alloc(PT_PAGED, 500, PT_TAG("Newb"));
    pthread_create(&th, NULL, free_half, NULL);
    pthread_join(th, NULL);
    for (int i = 0; i < NTHR; i += 5)
        pt_free(thr_blocks[i]); /* frees of another thread's (exited) blocks */
    churn(3000);

    ptr_view v;
    read_self(&v);
    CHECK(v.age_n >= 4 && v.site_ages, "no age epochs in the reading (age_n %u)", v.age_n);
    for (uint32_t k = 1; k < v.age_n; k++)
        CHECK(v.age_start_real[k] > v.age_start_real[k - 1] &&
                  v.age_start_mono[k] >= v.age_start_mono[k - 1] + 999000000ull,
              "epoch %u starts %llu, epoch %u %llu", k, (unsigned long long)v.age_start_mono[k],
              k - 1, (unsigned long long)v.age_start_mono[k - 1]);
    int seen_old = 0, seen_new = 0, seen_chrn = 0, seen_thr = 0;
    for (size_t i = 0; i < v.nsites && v.site_ages; i++) {
        const struct ptr_site *s = &v.sites[i];
        const pt_seg_age_live *a = v.site_ages + i * v.age_n;
        int64_t bytes = 0, blocks = 0;
        for (uint32_t k = 0; k < v.age_n; k++) {
            bytes += a[k].bytes;
            blocks += a[k].blocks;
        }
        int64_t live = 0, nlive = 0;
        for (int q = 0; q < PT_POOL_COUNT; q++) {
            live += (int64_t)(s->pool[q].bytes_alloc - s->pool[q].bytes_freed);
            nlive += (int64_t)(s->pool[q].allocs - s->pool[q].frees);
        }
        char tt[PT_TAG_TEXT_MAX];
        pt_tag_text(s->tag, tt);
        CHECK(bytes == live && blocks == nlive,
              "site %s: epochs hold %lld bytes in %lld blocks, the site %lld in %lld", tt,
              (long long)bytes, (long long)blocks, (long long)live, (long long)nlive);
        for (uint32_t k = 0; k < v.age_n; k++)
            CHECK(a[k].bytes >= 0 && a[k].blocks >= 0, "site %s epoch %u: %lld bytes %lld blocks",
                  tt, k, (long long)a[k].bytes, (long long)a[k].blocks);
        if (s->tag == PT_TAG("Olda")) {
            seen_old = 1;
            CHECK(a[0].bytes == (NOLD / 2) * 1000 && a[0].blocks == NOLD / 2,
                  "Olda: epoch 0 holds %lld bytes, want %d", (long long)a[0].bytes,
                  (NOLD / 2) * 1000);
        } else if (s->tag == PT_TAG("Newb")) {
            seen_new = 1;
            int64_t late = 0;
            for (uint32_t k = e_newb; k < v.age_n; k++)
                late += a[k].bytes;
            CHECK(late == 100 * 500, "Newb: epochs >= %u hold %lld bytes, want %d", e_newb,
                  (long long)late, 100 * 500);
        } else if (s->tag == PT_TAG("Chrn")) {
            seen_chrn = 1;
            for (uint32_t k = 0; k < v.age_n; k++)
                CHECK(a[k].bytes == 0 && a[k].blocks == 0, "Chrn epoch %u: %lld bytes", k,
                      (long long)a[k].bytes);
        } else if (s->tag == PT_TAG("Thrd")) {
            seen_thr = 1;
            CHECK(a[0].blocks == NTHR - NTHR / 5 && a[0].bytes == (NTHR - NTHR / 5) * 300,
                  "Thrd: epoch 0 holds %lld blocks, want %d", (long long)a[0].blocks,
                  NTHR - NTHR / 5);
        }
    }
    CHECK(seen_old && seen_new && seen_chrn && seen_thr, "sites missing: %d %d %d %d", seen_old,
          seen_new, seen_chrn, seen_thr);
    /* A fork child keeps the parent's epochs: it frees an inherited block
     * (not counted: another fork epoch) and its own blocks are of the
     * current epoch or later. */
    uint32_t parent_n = v.age_n;
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
        pt_free(old_blocks[1]);
        void *k = pt_alloc(PT_PAGED, 777, PT_TAG("Kidb"));
        ptr_view c;
        read_self(&c);
        int bad = c.age_n < parent_n;
        for (size_t i = 0; i < c.nsites && c.site_ages; i++) {
            const pt_seg_age_live *a = c.site_ages + i * c.age_n;
            if (c.sites[i].tag == PT_TAG("Kidb")) {
                int64_t late = 0;
                for (uint32_t k2 = parent_n - 1; k2 < c.age_n; k2++)
                    late += a[k2].bytes;
                bad |= late != 777;
            }
            if (c.sites[i].tag == PT_TAG("Olda"))
                bad = 1; /* the parent's counts are not the child's */
        }
        if (bad)
            fprintf(stderr, "FAIL fork child: %u epochs (parent %u), Kidb or Olda wrong\n",
                    c.age_n, parent_n);
        ptr_view_free(&c);
        pt_free(k);
        _exit(bad);
    }
    int st = 0;
    waitpid(kid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork child failed (status %d)", st);
    printf("age epochs: %u begun; %s\n", v.age_n, fails ? "FAILED" : "ok");
    ptr_view_free(&v);
    for (int i = 0; i < 100; i++)
        pt_free(newb[i]);
    return fails ? 1 : 0;
}
