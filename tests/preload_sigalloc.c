/* preload_sigalloc SECONDS — a SIGALRM handler (setitimer, every 200 us)
 * allocates and frees while the main loop allocates and frees, for
 * SECONDS.  Undefined behaviour by POSIX (malloc is not async-signal-safe),
 * done by real programs anyway.  Prints "signals N loops M". */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t nsig;
static void *volatile keep[8];

static void on_alarm(int sig)
{
    (void)sig;
    unsigned i = (unsigned)nsig & 7;
    free(keep[i]);
    keep[i] = malloc(16 + i * 24);
    void *t = malloc(40);
    if (t)
        memset(t, 1, 40);
    free(t);
    nsig++;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long loops = 0;
    void *slot[64] = {0};
    for (;;) {
        for (int k = 0; k < 1000; k++, loops++) {
            unsigned j = (unsigned)(loops * 2654435761u) & 63;
            free(slot[j]);
            slot[j] = malloc(16 + (loops % 97) * 8);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
            break;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    for (int j = 0; j < 64; j++)
        free(slot[j]);
    printf("signals %d loops %lu\n", (int)nsig, loops);
    return 0;
}
