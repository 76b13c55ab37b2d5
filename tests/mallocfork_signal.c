/* mallocfork_signal [FORKS] — fork from signal handlers that interrupt
 * malloc, free and fork itself (after glibc's tst-mallocfork2; written
 * anew).  glibc keeps fork async-signal-safe with respect to malloc in a
 * single-threaded process, so this must not hang under the preload either.
 *
 * A sender process floods this one with SIGUSR1 and SIGUSR2, whose
 * handlers may interrupt each other (a handler blocks only its own signal,
 * so they nest two deep); each
 * handler forks a child that _exit()s at once, and reaps it.  The main
 * thread allocates and frees until FORKS forks (default 300) are done.
 * Prints "ok FORKS" (the test script runs this under a timeout: a hang is
 * a failure). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t forks, bad;

static void handler(int sig)
{
    (void)sig;
    int saved = errno;
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
    errno = saved;
}

int main(int argc, char **argv)
{
    long want = argc > 1 ? atol(argv[1]) : 300;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigaction(SIGUSR2, &sa, NULL) != 0)
        return 2;
    pid_t me = getpid();
    pid_t sender = fork();
    if (sender < 0)
        return 2;
    if (sender == 0) {
        for (;;) {
            if (kill(me, SIGUSR1) != 0 || kill(me, SIGUSR2) != 0)
                _exit(0);
        }
    }
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
    kill(sender, SIGKILL);
    while (waitpid(sender, NULL, 0) < 0 && errno == EINTR)
        ;
    for (unsigned k = 0; k < 64; k++)
        free(keep[k]);
    if (bad) {
        fprintf(stderr, "a fork failed or its child did not exit cleanly\n");
        return 1;
    }
    printf("ok %ld\n", (long)forks);
    return 0;
}
