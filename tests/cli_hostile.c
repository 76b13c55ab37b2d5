/*
 * cli_hostile — a process whose text is hostile to a terminal, for
 * cli_hostile_text.sh (issue 9, item 8).
 *
 *   cli_hostile READYFILE LIBRARY.so
 *
 * Names itself "\e[2J\e]0;PWN\a" (PR_SET_NAME), dlopens LIBRARY (built from
 * cli_hostile_lib.c; the test gives it a path with ESC, BEL and newline
 * bytes), calls its hostile_alloc, writes its PID to READYFILE and waits
 * for SIGTERM.  Exit status 2 for a usage or load error.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <pooltag.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cli_hostile READYFILE LIBRARY.so\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (prctl(PR_SET_NAME, "\033[2J\033]0;PWN\a", 0, 0, 0) != 0) {
        perror("cli_hostile: PR_SET_NAME");
        return 2;
    }
    void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    void (*alloc)(void);
    if (!h || !(*(void **)&alloc = dlsym(h, "hostile_alloc"))) {
        fprintf(stderr, "cli_hostile: %s\n", dlerror());
        return 2;
    }
    alloc();
    /* Linked with libpooltag (as a host of tagged plugins is), so that the
     * dlopened library finds the runtime already loaded; the test looks
     * for this import of the executable (imports pt_tag_of). */
    (void)pt_tag_of(NULL);
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror("cli_hostile: ready file");
        return 2;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    int sig;
    sigwait(&set, &sig);
    return 0;
}
