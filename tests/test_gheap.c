/*
 * test_gheap PID — gheap's two ways to find main_arena agree: by libc's
 * debug symbols and by its shape (GH_NO_SYMBOLS); every figure of every
 * arena is the same both ways, and gh_walk's chunks add up to them.
 */
#include "gheap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sums { uint64_t busy, free, n; } sums;

static int add(void *arg, const gh_chunk *c)
{
    sums *s = arg;
    if (c->arena < 0)
        return 0;
    if (c->state == GH_BUSY || c->state == GH_INTERNAL)
        s[c->arena].busy += c->size;
    else if (c->state != GH_TOP)
        s[c->arena].free += c->size;
    s[c->arena].n++;
    return 0;
}

int main(int argc, char **argv)
{
    char err[512];
    pim *p;
    gh_heap *a, *b;
    if (argc != 2 || pim_open(argv[1], PIM_STOP, &p, err, sizeof err) < 0) {
        fprintf(stderr, "test_gheap: %s\n", argc == 2 ? err : "usage: test_gheap PID|CORE");
        return 2;
    }
    if (gh_open(p, &a, err, sizeof err) < 0 || gh_open_flags(p, GH_NO_SYMBOLS, &b, err, sizeof err) < 0) {
        fprintf(stderr, "test_gheap: %s\n", err);
        return 1;
    }
    int bad = 0;
    if (strcmp(gh_found_by(a), "symbol") || strcmp(gh_found_by(b), "signature")) {
        fprintf(stderr, "found by %s / %s\n", gh_found_by(a), gh_found_by(b));
        bad = 1;
    }
    if (gh_narenas(a) != gh_narenas(b) || gh_narenas(a) < 1) {
        fprintf(stderr, "arenas: %zu / %zu\n", gh_narenas(a), gh_narenas(b));
        return 1;
    }
    sums *s = calloc(gh_narenas(a), sizeof *s);
    gh_walk(a, add, s);
    for (size_t i = 0; i < gh_narenas(a); i++) {
        const gh_arena *x = gh_arena_at(a, i), *y = gh_arena_at(b, i);
        if (x->addr != y->addr || x->busy_bytes != y->busy_bytes || x->free_bytes != y->free_bytes ||
            x->nbusy != y->nbusy || x->nfree != y->nfree || x->ntcache != y->ntcache ||
            x->nfast != y->nfast || x->top_size != y->top_size) {
            fprintf(stderr, "arena %zu differs between symbol and signature\n", i);
            bad = 1;
        }
        if (s[i].busy != x->busy_bytes || s[i].free != x->free_bytes ||
            s[i].n != x->nbusy + x->nfree + 1) {
            fprintf(stderr, "arena %zu: the walk's sums differ from its figures\n", i);
            bad = 1;
        }
    }
    printf("%zu arenas, main_arena 0x%" PRIx64 "\n", gh_narenas(a), gh_arena_at(a, 0)->addr);
    free(s);
    gh_close(a);
    gh_close(b);
    pim_close(p);
    return bad;
}
