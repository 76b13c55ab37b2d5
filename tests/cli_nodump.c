/*
 * cli_nodump — a process that makes itself non-dumpable
 * (prctl(PR_SET_DUMPABLE, 0)), for cli_perm_hint.sh.
 *
 *   cli_nodump READYFILE
 *
 * Allocates a block (tagged when run under the preload), writes its PID to
 * READYFILE and waits for SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static void *volatile keep;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cli_nodump READYFILE\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    keep = malloc(100);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        perror("cli_nodump: PR_SET_DUMPABLE");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror("cli_nodump: ready file");
        return 2;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    int sig;
    sigwait(&set, &sig);
    return 0;
}
