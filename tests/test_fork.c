/* Across fork the child gets a fresh segment: it counts only its own
 * allocations, frees of blocks inherited from the parent are not counted,
 * and the parent's counters are untouched by the child. */
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pooltag.h"
#include "pt_test.h"

static int count_segments(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;
    CHECK(f != NULL);
    while (fgets(line, sizeof line, f))
        if (strstr(line, "/memfd:pooltag"))
            n++;
    fclose(f);
    return n;
}

static void *thread_alloc(void *arg)
{
    void **out = arg;
    *out = pt_alloc(PT_PAGED, 77, PT_TAG("ChTh"));
    return NULL;
}

int main(void)
{
    const uint32_t P = PT_TAG("Prnt"), C = PT_TAG("Chld");
    void *pb[10];
    for (int i = 0; i < 10; i++)
        pb[i] = pt_alloc(PT_PAGED, 100, P);
    CHECK(count_segments() == 1);

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pt_tag_info t;
        /* Fresh table: the parent's tag is unknown here. */
        CHECK(pt_tag_read(P, &t) == -1);
        CHECK(count_segments() == 1); /* the parent's mapping is gone */
        for (int i = 0; i < 5; i++)
            pt_free(pb[i]);           /* inherited: freed, not counted */
        CHECK(pt_tag_read(P, &t) == -1);
        void *c[3];
        for (int i = 0; i < 3; i++)
            c[i] = pt_alloc(PT_PAGED, 50, C);
        CHECK(pt_tag_read(C, &t) == 0);
        CHECK_EQ_U(t.pool[0].allocs, 3);
        CHECK_EQ_U(t.pool[0].bytes_alloc, 150);
        /* Threads in the child claim shards of the child's segment. */
        void *tb = NULL;
        pthread_t th;
        CHECK(pthread_create(&th, NULL, thread_alloc, &tb) == 0);
        pthread_join(th, NULL);
        CHECK(tb && pt_tag_read(PT_TAG("ChTh"), &t) == 0 && t.pool[0].allocs == 1);
        pt_free(tb);
        for (int i = 0; i < 3; i++)
            pt_free(c[i]);
        CHECK(pt_tag_read(C, &t) == 0 && t.pool[0].frees == 3);
        /* A realloc of an inherited block counts only the new block. */
        void *r = pt_realloc(pb[5], 1000);
        CHECK(r && pt_tag_of(r) == P);
        CHECK(pt_tag_read(P, &t) == 0);
        CHECK_EQ_U(t.pool[0].allocs, 1);
        CHECK_EQ_U(t.pool[0].frees, 0);
        CHECK_EQ_U(t.pool[0].bytes_alloc, 1000);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    pt_tag_info t;
    CHECK(pt_tag_read(P, &t) == 0);
    CHECK_EQ_U(t.pool[0].allocs, 10);
    CHECK_EQ_U(t.pool[0].frees, 0);
    CHECK(pt_tag_read(C, &t) == -1);
    for (int i = 0; i < 10; i++)
        pt_free(pb[i]);
    CHECK(pt_tag_read(P, &t) == 0 && t.pool[0].frees == 10);
    puts("test_fork: ok");
    return 0;
}
