/* unwind_cancel_stdio — a thread cancelled while blocked in fwrite on a
 * full pipe must leave the stream unlocked: glibc releases the stream's
 * lock in a cleanup run by the unwinder (libgcc_s) during cancellation.
 * If another unwinder's _Unwind_* functions take libgcc_s's place, the
 * cleanup is skipped and the main thread's flockfile below never returns
 * (the test script runs this under a timeout).  Prints "ok". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static FILE *out;
static int pipe_size;

static void *writer(void *arg)
{
    (void)arg;
    size_t n = (size_t)pipe_size * 4;
    char *buf = malloc(n);
    if (!buf)
        abort();
    memset(buf, 'x', n);
    fwrite(buf, 1, n, out); /* blocks: nobody reads the pipe */
    fprintf(stderr, "fwrite returned\n");
    return NULL;
}

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 2;
    pipe_size = fcntl(p[1], F_GETPIPE_SZ);
    if (pipe_size <= 0)
        return 2;
    out = fdopen(p[1], "w");
    if (!out)
        return 2;
    setvbuf(out, NULL, _IOFBF, 4096);
    pthread_t t;
    if (pthread_create(&t, NULL, writer, NULL) != 0)
        return 2;
    /* Wait until the pipe is full: the writer is then in (or entering)
     * write(2) with the stream locked. */
    for (;;) {
        int avail = 0;
        if (ioctl(p[0], FIONREAD, &avail) != 0)
            return 2;
        if (avail >= pipe_size)
            break;
        sched_yield();
    }
    pthread_cancel(t);
    void *res = NULL;
    pthread_join(t, &res);
    if (res != PTHREAD_CANCELED) {
        fprintf(stderr, "writer was not cancelled\n");
        return 1;
    }
    /* Drain the pipe so the writes below cannot block. */
    int fl = fcntl(p[0], F_GETFL);
    fcntl(p[0], F_SETFL, fl | O_NONBLOCK);
    char sink[65536];
    while (read(p[0], sink, sizeof sink) > 0)
        ;
    flockfile(out); /* deadlocks when the cancelled writer kept the lock */
    fputs("after", out);
    funlockfile(out);
    puts("ok");
    return 0;
}
