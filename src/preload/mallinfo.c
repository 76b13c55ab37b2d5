/*
 * mallinfo.c — glibc's heap-statistics and tuning calls under the preload:
 * mallinfo, mallinfo2, malloc_stats, malloc_info, malloc_trim, mallopt.
 *
 * With the glibc backend (PT_BACKEND=libc) every block lives in glibc's
 * heap, so glibc's own answers are right: these calls are passed to
 * libc.so.6 (its figures include pooltag's 16-byte header per block).
 *
 * With mimalloc (the default), glibc's heap holds almost nothing of the
 * program's, so glibc's answers would be zeros.  The figures come from
 * pooltag's counters and mimalloc's (docs/run.md, "Heap statistics"):
 *
 *   uordblks  bytes the program asked for and has not freed, every tag and
 *             both pools (exact; no header, no rounding)
 *   arena     bytes mimalloc has committed from the system (all threads),
 *             at least uordblks
 *   fordblks  arena - uordblks: headers, rounding, mimalloc's free pages
 *   the rest  0 (no such thing in mimalloc)
 *
 * malloc_trim returns free memory to the system with mi_collect(true) and
 * returns 1 when the committed bytes went down.  mallopt accepts (returns 1,
 * no effect) the tuning settings that mimalloc makes for itself and refuses
 * (returns 0) the ones that would change behaviour: M_PERTURB other than 0,
 * M_CHECK_ACTION, and unknown ones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mimalloc.h>

#include "preload.h"

#define EXPORT

enum { BACKEND_LIBC = 1 }; /* PT_BACKEND_LIBC (src/runtime/internal.h) */

typedef struct heap_fig {
    uint64_t arena, in_use, blocks, peak;
} heap_fig;

/* 1 and the figures under mimalloc; 0 when glibc's own call applies (glibc
 * backend, or the runtime is not ready yet). */
static int mi_figures(heap_fig *f)
{
    int be = pt__pl_heap(&f->in_use, &f->blocks);
    if (be < 0 || be == BACKEND_LIBC)
        return 0;
    size_t el, us, sy, rss, prss, commit = 0, pcommit = 0, pf;
    mi_process_info(&el, &us, &sy, &rss, &prss, &commit, &pcommit, &pf);
    f->arena = commit > f->in_use ? commit : f->in_use;
    f->peak = pcommit > f->arena ? pcommit : f->arena;
    return 1;
}

#define LIBC(type, name) ((type)pt__pl_libc_sym(name))

EXPORT struct mallinfo2 mallinfo2(void)
{
    heap_fig f;
    struct mallinfo2 m;
    memset(&m, 0, sizeof m);
    if (!mi_figures(&f)) {
        struct mallinfo2 (*g)(void) = LIBC(struct mallinfo2 (*)(void), "mallinfo2");
        return g ? g() : m;
    }
    m.arena = f.arena;
    m.uordblks = f.in_use;
    m.fordblks = f.arena - f.in_use;
    return m;
}

EXPORT struct mallinfo mallinfo(void)
{
    heap_fig f;
    struct mallinfo m;
    memset(&m, 0, sizeof m);
    if (!mi_figures(&f)) {
        struct mallinfo (*g)(void) = LIBC(struct mallinfo (*)(void), "mallinfo");
        return g ? g() : m;
    }
    /* int fields: truncated as glibc's own mallinfo does */
    m.arena = (int)f.arena;
    m.uordblks = (int)f.in_use;
    m.fordblks = (int)(f.arena - f.in_use);
    return m;
}

/* "name = %10u\n" without stdio (malloc_stats must not allocate). */
static size_t line(char *out, const char *name, uint64_t v)
{
    char num[24];
    int n = 0;
    do {
        num[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t len = strlen(name);
    memcpy(out, name, len);
    memcpy(out + len, " = ", 3);
    len += 3;
    for (int pad = 10 - n; pad > 0; pad--)
        out[len++] = ' ';
    while (n)
        out[len++] = num[--n];
    out[len++] = '\n';
    return len;
}

EXPORT void malloc_stats(void)
{
    heap_fig f;
    if (!mi_figures(&f)) {
        void (*g)(void) = LIBC(void (*)(void), "malloc_stats");
        if (g)
            g();
        return;
    }
    /* glibc's layout: one "arena" (mimalloc's heaps together). */
    char buf[512];
    size_t n = 0;
    memcpy(buf, "Arena 0:\n", 9);
    n += 9;
    n += line(buf + n, "system bytes    ", f.arena);
    n += line(buf + n, "in use bytes    ", f.in_use);
    memcpy(buf + n, "Total (incl. mmap):\n", 20);
    n += 20;
    n += line(buf + n, "system bytes    ", f.arena);
    n += line(buf + n, "in use bytes    ", f.in_use);
    n += line(buf + n, "max mmap regions", 0);
    n += line(buf + n, "max mmap bytes  ", 0);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(2, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

EXPORT int malloc_info(int options, FILE *fp)
{
    heap_fig f;
    if (!mi_figures(&f)) {
        int (*g)(int, FILE *) = LIBC(int (*)(int, FILE *), "malloc_info");
        if (!g) {
            errno = ENOSYS;
            return -1;
        }
        return g(options, fp);
    }
    if (options != 0) {
        errno = EINVAL;
        return -1;
    }
    uint64_t free_b = f.arena - f.in_use;
    /* glibc's document shape, one heap; <pooltag> adds what glibc's lacks. */
    fprintf(fp,
            "<malloc version=\"1\">\n"
            "<heap nr=\"0\">\n<sizes>\n</sizes>\n"
            "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
            "<total type=\"rest\" count=\"0\" size=\"%" PRIu64 "\"/>\n"
            "<system type=\"current\" size=\"%" PRIu64 "\"/>\n"
            "<system type=\"max\" size=\"%" PRIu64 "\"/>\n"
            "<aspace type=\"total\" size=\"%" PRIu64 "\"/>\n"
            "<aspace type=\"mprotect\" size=\"%" PRIu64 "\"/>\n"
            "</heap>\n"
            "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
            "<total type=\"rest\" count=\"0\" size=\"%" PRIu64 "\"/>\n"
            "<total type=\"mmap\" count=\"0\" size=\"0\"/>\n"
            "<system type=\"current\" size=\"%" PRIu64 "\"/>\n"
            "<system type=\"max\" size=\"%" PRIu64 "\"/>\n"
            "<aspace type=\"total\" size=\"%" PRIu64 "\"/>\n"
            "<aspace type=\"mprotect\" size=\"%" PRIu64 "\"/>\n"
            "<pooltag backend=\"mimalloc\" in_use=\"%" PRIu64 "\" blocks=\"%" PRIu64 "\"/>\n"
            "</malloc>\n",
            free_b, f.arena, f.peak, f.arena, f.arena, free_b, f.arena, f.peak, f.arena,
            f.arena, f.in_use, f.blocks);
    return 0;
}

EXPORT int malloc_trim(size_t pad)
{
    heap_fig f;
    if (!mi_figures(&f)) {
        int (*g)(size_t) = LIBC(int (*)(size_t), "malloc_trim");
        return g ? g(pad) : 0;
    }
    uint64_t before = f.arena;
    mi_collect(true);
    return mi_figures(&f) && f.arena < before;
}

EXPORT int mallopt(int param, int value)
{
    heap_fig f;
    if (!mi_figures(&f)) {
        int (*g)(int, int) = LIBC(int (*)(int, int), "mallopt");
        return g ? g(param, value) : 0;
    }
    switch (param) {
    case M_MXFAST:
    case M_TRIM_THRESHOLD:
    case M_TOP_PAD:
    case M_MMAP_THRESHOLD:
    case M_MMAP_MAX:
    case M_ARENA_TEST:
    case M_ARENA_MAX:
        return 1; /* mimalloc tunes these itself: accepted, no effect */
    case M_PERTURB:
        return value == 0; /* off, as it is */
    default:
        return 0; /* M_CHECK_ACTION, unknown settings */
    }
}
