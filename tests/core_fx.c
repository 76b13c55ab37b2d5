/*
 * core_fx — a tagged program that stands still, for the core-file tests
 * (tests/core.cmake): it allocates with two tags in both pools, starts a
 * second thread, optionally dlopens a library and calls its chg_value,
 * writes "PID ADDR" (ADDR: chg_value's address, 0 without a library) to
 * READYFILE, then waits in pause() until a signal ends it.  Nothing in it
 * runs after the ready file is written, so a live reading and a core taken
 * afterwards see the same memory.
 *
 *   core_fx READYFILE [LIBRARY.so]
 */
#include <dlfcn.h>
#include <pooltag.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *keep[16];
static int (*chg_value)(void);
static volatile int chg_result;

static void *waiter(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: core_fx READYFILE [LIBRARY.so]\n");
        return 2;
    }
    for (int i = 0; i < 7; i++) {
        keep[i] = pt_alloc(PT_PAGED, 100, PT_TAG("CoA1"));
        if (keep[i])
            memset(keep[i], 'a', 100);
    }
    for (int i = 7; i < 10; i++)
        keep[i] = pt_alloc(PT_NONPAGED, 5000, PT_TAG("CoB2"));
    pt_free(pt_alloc(PT_PAGED, 64, PT_TAG("CoA1")));
    if (argc > 2) {
        void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "core_fx: %s\n", dlerror());
            return 2;
        }
        *(void **)&chg_value = dlsym(h, "chg_value");
        if (!chg_value) {
            fprintf(stderr, "core_fx: %s has no chg_value\n", argv[2]);
            return 2;
        }
        chg_result = chg_value();
    }
    pthread_t t;
    if (pthread_create(&t, NULL, waiter, NULL) != 0)
        return 2;
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 2;
    fprintf(f, "%d 0x%lx\n", (int)getpid(), (unsigned long)(uintptr_t)chg_value);
    fclose(f);
    for (;;)
        pause();
}
