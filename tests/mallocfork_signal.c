/* mallocfork_signal [FORKS] — fork from signal handlers that interrupt
 * malloc, free and fork itself (after glibc's tst-mallocfork2; written
 * anew).  glibc keeps fork async-signal-safe with respect to malloc in a
 * single-threaded process, so this must not hang under the preload either.
 *
 * An interval timer (setitimer: no second thread, the process stays
 * single-threaded) delivers SIGALRM every 50 microseconds, with
 * SA_NODEFER, so the handler interrupts itself, typically inside fork (the
 * kernel's copy of the address space takes longer than a period): the
 * case that deadlocked, a fork from a handler that interrupted a fork of
 * the same thread between the atfork handlers.  A handler two deep forks
 * too; deeper ones return at once (a bounded stack).  Each child _exit()s
 * at once and is reaped.  The main thread allocates and frees until FORKS
 * forks (default 300) are done.  Prints "ok N" (the test script runs this
 * under a timeout: a hang is a failure). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t forks, bad, depth, nested_forks;
static volatile long want = 300;

static void stop_timer(void)
{
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
}

static void handler(int sig)
{
    (void)sig;
    int saved = errno;
    depth++;
    if (depth <= 2 && forks < want && !bad) {
        if (depth == 2)
            nested_forks++;
        pid_t pid = fork();
        if (pid == 0)
            _exit(7);
        if (pid < 0) {
            bad = 1;
        } else {
            int st;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
                bad = 1;
            forks++;
        }
    }
    if (forks >= want || bad)
        stop_timer();
    depth--;
    errno = saved;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        want = atol(argv[1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0)
        return 2;
    struct itimerval it = {{0, 50}, {0, 50}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0)
        return 2;
    void *keep[64] = {0};
    unsigned long i = 0, x = 88172645463325252ull;
    while (forks < want && !bad) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned k = (unsigned)(x % 64);
        size_t n = (size_t)(x >> 20) % (i & 1 ? 100000 : 200);
        free(keep[k]);
        keep[k] = (x & 0x100) ? calloc(1, n) : malloc(n);
        if ((x & 0xf000) == 0)
            keep[k] = realloc(keep[k], n * 2 + 1);
        i++;
    }
    stop_timer();
    for (unsigned k = 0; k < 64; k++)
        free(keep[k]);
    if (bad) {
        fprintf(stderr, "a fork failed or its child did not exit cleanly\n");
        return 1;
    }
    printf("ok %ld\n", (long)forks);
    fprintf(stderr, "%ld forks from a handler inside another\n", (long)nested_forks);
    return 0;
}
