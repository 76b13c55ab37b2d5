/*
 * sp_fixtures.c — the special pool's bugs, one per mode (issue 12, item 6):
 * each block of tag 'Ovr1' is allocated by fx_alloc (pt_alloc: under the
 * preload the preload's runtime serves it, linked it is libpooltag.so's),
 * so that a report names fx_alloc, the function that did the bad access
 * (fx_write, fx_read) or the bad free (fx_free), and the offset.
 *
 *   probe        prints "placed" when an Ovr1 block of 32 bytes ends at a
 *                page end followed by an inaccessible page, else "normal"
 *   overrun1     32 bytes, writes p[32] (one byte past the end)
 *   overrun_page 32 bytes, writes p[32 + 4095] (the last byte of the page
 *                after the block)
 *   underrun1    32 bytes, writes p[-1] (PT_SPECIAL_UNDERRUN=1)
 *   uaf_read     32 bytes, freed, reads p[8]
 *   uaf_write    32 bytes, freed, writes p[8]
 *   slop         100 bytes, writes p[100], frees it
 *   double_free  32 bytes freed twice
 *   bad_free     frees p + 16 of a 32-byte block
 *   ownhandler   a SIGSEGV handler of the program's own for a guard page of
 *                its own, installed after the pool is on: 3 faults left
 *                with siglongjmp, 1 fixed up (mprotect) and returned from,
 *                then a handler set with signal() (siglongjmp); then the
 *                overrun of overrun1
 *   threads      two threads overrun their own blocks at the same moment,
 *                twice each (run with PT_SPECIAL_RECOVER=1: each block is
 *                reported once, the program goes on)
 * Every mode that survives prints "survived" and exits 0.  Without the
 * special pool the overruns land in the neighbouring block: overrun1 and
 * overrun_page write into a neighbour (b) that the program then prints.
 */
#define _GNU_SOURCE
#include "pooltag.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

NOINLINE char *fx_alloc(size_t n)
{
    char *p = pt_alloc(PT_PAGED, n, PT_TAG("Ovr1"));
    __asm__ volatile("" ::: "memory");
    return p;
}

NOINLINE void fx_free(void *p)
{
    pt_free(p);
    __asm__ volatile("" ::: "memory");
}

NOINLINE void fx_write(char *p, long off)
{
    ((volatile char *)p)[off] = 'X';
    __asm__ volatile("" ::: "memory");
}

NOINLINE int fx_read(const char *p, long off)
{
    int v = ((const volatile char *)p)[off];
    __asm__ volatile("" ::: "memory");
    return v;
}

static int probe(void)
{
    char *p = fx_alloc(32);
    if (!p)
        return 0;
    int placed = 0;
    if (((uintptr_t)p + 32) % 4096 == 0) {
        /* write(2) from the next byte: EFAULT when that page is
         * inaccessible, and no signal */
        int fd[2];
        if (pipe(fd) == 0) {
            placed = write(fd[1], p + 32, 1) < 0 && errno == EFAULT;
            close(fd[0]);
            close(fd[1]);
        }
    }
    fx_free(p);
    return placed;
}

static sigjmp_buf jb;
static volatile int own_hits;
static char *own_page;

static void own_handler(int sig, siginfo_t *si, void *uctx)
{
    (void)sig, (void)uctx;
    if ((char *)si->si_addr < own_page || (char *)si->si_addr >= own_page + 4096)
        _exit(3); /* not ours: this program has no other guard page */
    own_hits++;
    if (own_hits <= 3)
        siglongjmp(jb, 1);
    mprotect(own_page, 4096, PROT_READ | PROT_WRITE); /* fix up, return */
}

static volatile int expect_plain;

static void own_plain(int sig)
{
    (void)sig;
    if (!expect_plain)
        _exit(3); /* a fault that is not this program's */
    expect_plain = 0;
    own_hits += 1000;
    siglongjmp(jb, 1);
}

static int own_handler_works(void)
{
    own_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (own_page == MAP_FAILED)
        return 0;
    struct sigaction a, old;
    memset(&a, 0, sizeof a);
    a.sa_sigaction = own_handler;
    a.sa_flags = SA_SIGINFO;
    sigemptyset(&a.sa_mask);
    if (sigaction(SIGSEGV, &a, &old) != 0)
        return 0;
    for (volatile int i = 0; i < 3; i++)
        if (!sigsetjmp(jb, 1))
            fx_write(own_page, 100);
    fx_write(own_page, 200); /* fixed up by the handler */
    struct sigaction now;
    sigaction(SIGSEGV, NULL, &now);
    /* what the program sees: its own handler */
    if (!(now.sa_flags & SA_SIGINFO) || now.sa_sigaction != own_handler) {
        fprintf(stderr, "sigaction does not report the program's handler\n");
        return 0;
    }
    if (own_hits != 4 || own_page[200] != 'X')
        return 0;
    /* signal() too (glibc's does not go through the PLT sigaction): it
     * returns the previous handler, and the new one runs */
    mprotect(own_page, 4096, PROT_NONE);
    sighandler_t prev = signal(SIGSEGV, own_plain);
    if (prev != (sighandler_t)(void *)own_handler) {
        fprintf(stderr, "signal() did not return the program's previous handler\n");
        return 0;
    }
    expect_plain = 1;
    if (!sigsetjmp(jb, 1))
        fx_write(own_page, 300);
    return own_hits == 1004;
}

static pthread_barrier_t bar;

static void *overrun_thread(void *arg)
{
    char *p = arg;
    pthread_barrier_wait(&bar);
    fx_write(p, 32);
    fx_write(p, 33);
    return NULL;
}

static int two_threads(void)
{
    char *p[2] = {fx_alloc(32), fx_alloc(32)};
    pthread_t t[2];
    if (!p[0] || !p[1] || pthread_barrier_init(&bar, NULL, 2) != 0)
        return 1;
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, overrun_thread, p[i]) != 0)
            return 1;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    puts("survived");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sp_fixtures MODE\n");
        return 2;
    }
    const char *m = argv[1];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(m, "probe")) {
        puts(probe() ? "placed" : "normal");
        return 0;
    }
    if (!strcmp(m, "threads"))
        return two_threads();
    if (!strcmp(m, "ownhandler")) {
        char *p = fx_alloc(32); /* the pool is on from here */
        if (!own_handler_works()) {
            printf("own handler broken: %d hits\n", own_hits);
            return 1;
        }
        puts("own handler ok");
        fx_write(p, 32);
        puts("survived");
        return 0;
    }
    if (!strcmp(m, "slop")) {
        char *p = fx_alloc(100);
        memset(p, 'a', 100);
        fx_write(p, 100);
        fx_free(p);
        puts("survived");
        return 0;
    }
    char *p = fx_alloc(32);
    char *b = fx_alloc(32); /* the neighbour an overrun corrupts */
    if (!p || !b)
        return 1;
    memset(p, 'p', 32);
    memset(b, 'b', 32);
    if (!strcmp(m, "overrun1")) {
        fx_write(p, 32);
    } else if (!strcmp(m, "overrun_page")) {
        fx_write(p, 32 + 4095);
    } else if (!strcmp(m, "underrun1")) {
        fx_write(p, -1);
    } else if (!strcmp(m, "uaf_read")) {
        fx_free(p);
        printf("read %d\n", fx_read(p, 8));
        puts("survived");
        return 0;
    } else if (!strcmp(m, "uaf_write")) {
        fx_free(p);
        fx_write(p, 8);
        puts("survived");
        return 0;
    } else if (!strcmp(m, "double_free")) {
        fx_free(p);
        fx_free(p);
        puts("survived");
        return 0;
    } else if (!strcmp(m, "bad_free")) {
        fx_free(p + 16);
        puts("survived");
        return 0;
    } else {
        fprintf(stderr, "sp_fixtures: unknown mode %s\n", m);
        return 2;
    }
    int changed = 0;
    for (int i = 0; i < 32; i++)
        changed += b[i] != 'b';
    printf("neighbour bytes changed: %d\n", changed);
    fx_free(b);
    fx_free(p);
    puts("survived");
    return 0;
}
