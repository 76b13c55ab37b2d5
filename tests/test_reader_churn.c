/*
 * test_reader_churn.c — live readings stay consistent while threads exit
 * and their shards are released and claimed again.
 *
 * The child (this program re-executed with --churn) is a tagged process
 * whose threads keep exiting, so the runtime releases a shard (with its
 * counts in place) every few hundred microseconds.  Each round starts CHURN_THREADS
 * threads; each makes BLOCKS allocations tagged "Chrn" (paged), frees all
 * but one, and exits.
 *
 * The parent reads the child through the reader library (ptr_open /
 * ptr_read, as every verb does) as fast as it can for a few seconds.  A
 * reading that copied a shard while it was being folded would count it
 * twice or not at all; the seqlock retry in live.c must prevent both.
 * Checked on every reading: allocs, frees and bytes never go backwards; the
 * outstanding count is between 0 and what the running threads plus the
 * kept blocks can hold.
 */
#include "ptread.h"
#include "pt_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHURN_THREADS 2
#define BLOCKS 2000
#define READ_SECONDS 4

static void *worker(void *arg)
{
    void **keep = arg;
    void *blocks[BLOCKS];
    for (int i = 0; i < BLOCKS; i++)
        blocks[i] = pt_alloc(PT_PAGED, 16 + (size_t)(i % 64), PT_TAG("Chrn"));
    for (int i = 1; i < BLOCKS; i++)
        pt_free(blocks[i]);
    *keep = blocks[0];
    return NULL;
}

static int churn(int secs)
{
    time_t end = time(NULL) + secs;
    while (time(NULL) < end) {
        pthread_t t[CHURN_THREADS];
        void *keep[CHURN_THREADS];
        for (int i = 0; i < CHURN_THREADS; i++)
            if (pthread_create(&t[i], NULL, worker, &keep[i]) != 0)
                return 1;
        for (int i = 0; i < CHURN_THREADS; i++)
            pthread_join(t[i], NULL);
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--churn") == 0)
        return churn(atoi(argv[2]));

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "--churn", "30", (char *)NULL);
        _exit(127);
    }

    char spec[32], err[512];
    ptr_source *s = NULL;
    snprintf(spec, sizeof spec, "%d", (int)pid);
    for (int i = 0; i < 100 && ptr_open(spec, &s, err, sizeof err) < 0; i++)
        usleep(20000);
    if (!s) {
        fprintf(stderr, "cannot open the child: %s\n", err);
        kill(pid, SIGKILL);
        return 1;
    }

    pt_counts prev;
    memset(&prev, 0, sizeof prev);
    long readings = 0, with_tag = 0;
    double end = now() + READ_SECONDS;
    while (now() < end) {
        ptr_view v;
        if (ptr_read(s, &v, err, sizeof err) < 0) {
            fprintf(stderr, "reading %ld failed: %s\n", readings, err);
            kill(pid, SIGKILL);
            return 1;
        }
        readings++;
        for (size_t i = 0; i < v.ntags; i++) {
            if (v.tags[i].tag != PT_TAG("Chrn"))
                continue;
            const pt_counts *c = &v.tags[i].pool[PT_PAGED];
            uint64_t rounds = c->allocs / BLOCKS + 1;
            int ok = c->allocs >= prev.allocs && c->frees >= prev.frees &&
                     c->bytes_alloc >= prev.bytes_alloc &&
                     c->bytes_freed >= prev.bytes_freed &&
                     c->frees <= c->allocs &&
                     c->allocs - c->frees <= CHURN_THREADS * BLOCKS + rounds;
            if (!ok) {
                fprintf(stderr,
                        "inconsistent reading %ld: allocs %llu (was %llu) "
                        "frees %llu (was %llu)\n",
                        readings, (unsigned long long)c->allocs,
                        (unsigned long long)prev.allocs,
                        (unsigned long long)c->frees,
                        (unsigned long long)prev.frees);
                kill(pid, SIGKILL);
                return 1;
            }
            prev = *c;
            with_tag++;
        }
        ptr_view_free(&v);
    }
    ptr_close(s);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    printf("%ld readings (%ld with Chrn), %llu allocations seen\n", readings,
           with_tag, (unsigned long long)prev.allocs);
    CHECK(readings > 100 && with_tag > 100);
    CHECK(prev.allocs > 100000);
    return 0;
}
