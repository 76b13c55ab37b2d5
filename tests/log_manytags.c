/*
 * log_manytags.c — a program with many tags, for tests/log_*.sh (the cost
 * of a logging round, circular logs that fill fast).
 *
 * Usage: log_manytags N READY_FILE
 * Allocates one 64-byte paged block under each of N tags "T000".."T999"
 * (then "U000"... past 1000), writes its PID to READY_FILE, then every
 * 10 ms frees and allocates again the block of one tag in turn (so the
 * counters move), until killed or 300 s have passed.
 */
#include "pooltag.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_N 10000

static uint32_t tag_of(int i)
{
    char name[8];
    snprintf(name, sizeof name, "%c%03d", 'T' + i / 1000, i % 1000);
    return PT_TAG4(name[0], name[1], name[2], name[3]);
}

int main(int argc, char **argv)
{
    static void *blocks[MAX_N];
    int n = argc == 3 ? atoi(argv[1]) : 0;
    if (n < 1 || n > MAX_N) {
        fprintf(stderr, "usage: log_manytags N(1..%d) READY_FILE\n", MAX_N);
        return 2;
    }
    for (int i = 0; i < n; i++)
        if (!(blocks[i] = pt_alloc(PT_PAGED, 64, tag_of(i)))) {
            fprintf(stderr, "log_manytags: allocation failed\n");
            return 1;
        }
    FILE *f = fopen(argv[2], "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
        fprintf(stderr, "log_manytags: cannot write %s\n", argv[2]);
        return 1;
    }
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (long k = 0; k < 30000; k++) {
        int i = (int)(k % n);
        pt_free(blocks[i]);
        blocks[i] = pt_alloc(PT_PAGED, 64 + (size_t)(k % 7), tag_of(i));
        nanosleep(&tick, NULL);
    }
    for (int i = 0; i < n; i++)
        pt_free(blocks[i]);
    return 0;
}
