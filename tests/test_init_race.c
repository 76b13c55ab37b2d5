/*
 * The runtime initialises once, whichever threads race to make the first
 * allocation.  Each round forks a fresh child (the parent never touches the
 * runtime, so every child starts uninitialised) in which THREADS threads
 * leave a barrier together and allocate; every allocation must be counted
 * in the one segment the reader sees.  A waiting thread that mistook its
 * sibling's initialisation for a forked parent's started a second segment,
 * and the first one's counts were lost (seen as rt_threads_4 failing under
 * load).
 */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pooltag.h"
#include "pt_test.h"

#define THREADS 16
#define ALLOCS 64

static pthread_barrier_t go;
static void *blocks[THREADS][ALLOCS];

static void *worker(void *arg)
{
    void **mine = arg;
    pthread_barrier_wait(&go);
    for (int i = 0; i < ALLOCS; i++)
        mine[i] = pt_alloc(PT_PAGED, 32, PT_TAG("Race"));
    return NULL;
}

static int child(void)
{
    pthread_t th[THREADS];
    pthread_barrier_init(&go, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, worker, blocks[i]) != 0)
            return 3;
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pt_tag_info info;
    if (pt_tag_read(PT_TAG("Race"), &info) != 0)
        return 1;
    if (info.pool[PT_PAGED].allocs != THREADS * ALLOCS) {
        fprintf(stderr, "test_init_race: %llu allocations counted, %d made\n",
                (unsigned long long)info.pool[PT_PAGED].allocs, THREADS * ALLOCS);
        return 1;
    }
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < ALLOCS; k++)
            pt_free(blocks[i][k]);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 300, bad = 0;
    for (int r = 0; r < rounds; r++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            _exit(child());
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    if (bad) {
        fprintf(stderr, "test_init_race: %d of %d rounds lost counts\n", bad, rounds);
        return 1;
    }
    printf("test_init_race: %d rounds exact\n", rounds);
    return 0;
}
