/*
 * sites_fixture.c — a program with known call sites, for tests/sites_*.sh.
 *
 * Data model: every block is tagged 'Site' and kept in one array (so none
 * leaks out of reach).  The call sites, each a separate non-inlined
 * function so that each pt_alloc has its own return address:
 *
 *   alloc_small   1000 x 100 B      paged      main then frees 250 of them
 *   alloc_big       10 x 100 KiB    paged
 *   alloc_np         4 x 64 B       nonpaged
 *   site_10..49  (--many only) 1 block each, 8+n bytes, paged: 40 more
 *                 sites, enough to fill a site table of PT_MAX_SITES=16
 *   alloc_late    (--late only, after the others) 1000 x 64 B paged of a
 *                 new tag 'Late', created once the site table is full
 *
 * Usage: sites_fixture READY_FILE [--many] [--late]
 * Allocates, writes its PID to READY_FILE, then sleeps until killed (at
 * most 300 s, so a forgotten fixture ends by itself).
 */
#include "pooltag.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TAG PT_TAG("Site")

/* One call instruction per loop: an unrolled loop would be several sites. */
#if defined(__clang__)
#define NO_UNROLL _Pragma("clang loop unroll(disable)")
#else
#define NO_UNROLL _Pragma("GCC unroll 1")
#endif

static void *blocks[4096];
static size_t nblocks;

static void keep(void *p)
{
    if (!p) {
        fprintf(stderr, "sites_fixture: allocation failed\n");
        _exit(1);
    }
    blocks[nblocks++] = p;
}

__attribute__((noinline)) static void alloc_small(void)
{
    NO_UNROLL
    for (int i = 0; i < 1000; i++)
        keep(pt_alloc(PT_PAGED, 100, TAG));
}

__attribute__((noinline)) static void alloc_big(void)
{
    NO_UNROLL
    for (int i = 0; i < 10; i++)
        keep(pt_alloc(PT_PAGED, 100 * 1024, TAG));
}

__attribute__((noinline)) static void alloc_np(void)
{
    NO_UNROLL
    for (int i = 0; i < 4; i++)
        keep(pt_alloc(PT_NONPAGED, 64, TAG));
}

__attribute__((noinline)) static void alloc_late(void)
{
    NO_UNROLL
    for (int i = 0; i < 1000; i++)
        keep(pt_alloc(PT_PAGED, 64, PT_TAG("Late")));
}

/* Forty distinct sites; the sizes differ so that no two bodies are
 * identical (gcc would fold identical functions into one). */
#define SITE(n)                                                              \
    __attribute__((noinline)) static void site_##n(void)                     \
    {                                                                        \
        keep(pt_alloc(PT_PAGED, 8 + n, TAG));                                \
    }
#define SITE10(d)                                                            \
    SITE(d##0) SITE(d##1) SITE(d##2) SITE(d##3) SITE(d##4) SITE(d##5)        \
        SITE(d##6) SITE(d##7) SITE(d##8) SITE(d##9)
SITE10(1)
SITE10(2)
SITE10(3)
SITE10(4)

static void (*const many[])(void) = {
#define REF10(d)                                                             \
    site_##d##0, site_##d##1, site_##d##2, site_##d##3, site_##d##4,         \
        site_##d##5, site_##d##6, site_##d##7, site_##d##8, site_##d##9,
    REF10(1) REF10(2) REF10(3) REF10(4)
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sites_fixture READY_FILE [--many] [--late]\n");
        return 2;
    }
    alloc_small();
    alloc_big();
    alloc_np();
    /* Free 250 of the small blocks: their frees go to alloc_small's site. */
    for (size_t i = 0; i < 250; i++) {
        pt_free(blocks[i]);
        blocks[i] = NULL;
    }
    int late = 0;
    for (int a = 2; a < argc; a++) {
        if (strcmp(argv[a], "--many") == 0)
            for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
                many[i]();
        late |= strcmp(argv[a], "--late") == 0;
    }
    if (late)
        alloc_late();

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[1]) != 0) {
        perror("sites_fixture: ready file");
        return 1;
    }
    for (int i = 0; i < 300; i++)
        sleep(1);
    return 0;
}
