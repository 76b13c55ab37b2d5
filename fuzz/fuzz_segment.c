/*
 * fuzz_segment.c — libFuzzer target for the reader: every input goes
 * through ptr_parse (a raw segment image) and ptr_parse_snapshot (a
 * snapshot file's bytes, or a raw image, as `pooltag used FILE` reads them).
 *
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION so the snapshot
 * checksum does not stop the fuzzer at the door.  Beyond "no crash, no
 * sanitizer report", a successful parse must be self-consistent: the pool
 * counts are the sums of the rows, every row has a tag, the error ring is
 * sorted and the strings are terminated; with age epochs, a row of them
 * per site.  A snapshot is also opened as a file and read the two ways the
 * logger reads a source (ptr_read, ptr_cur_read).
 */
#define _GNU_SOURCE
#include "ptread.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check_view(const ptr_view *v)
{
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        uint64_t allocs = 0, frees = 0, ba = 0, bf = 0;
        for (size_t i = 0; i < v->ntags; i++) {
            allocs += v->tags[i].pool[p].allocs;
            frees += v->tags[i].pool[p].frees;
            ba += v->tags[i].pool[p].bytes_alloc;
            bf += v->tags[i].pool[p].bytes_freed;
        }
        if (allocs != v->pool[p].allocs || frees != v->pool[p].frees ||
            ba != v->pool[p].bytes_alloc || bf != v->pool[p].bytes_freed)
            __builtin_trap();
    }
    for (size_t i = 0; i < v->ntags; i++)
        if (v->tags[i].tag == 0)
            __builtin_trap();
    if (v->ntags > (size_t)v->max_tags + 1 || v->nerrors > PT_SEG_ERRORS)
        __builtin_trap();
    for (size_t i = 1; i < v->nerrors; i++)
        if (v->errors[i - 1].seq > v->errors[i].seq)
            __builtin_trap();
    if (memchr(v->comm, 0, sizeof v->comm) == NULL ||
        memchr(v->exe, 0, sizeof v->exe) == NULL)
        __builtin_trap();
    /* Age epochs (issue 15): a table row per site whenever there are any. */
    if (v->age_n > PT_AGE_EPOCHS || (v->age_n && v->nsites && !v->site_ages) ||
        (!v->age_n && v->site_ages))
        __builtin_trap();
    int64_t sum = 0;
    for (size_t i = 0; i < v->nsites && v->site_ages; i++)
        for (uint32_t e = 0; e < v->age_n; e++)
            sum += v->site_ages[i * v->age_n + e].blocks & 1; /* (read every entry) */
    (void)sum;
}

/* A snapshot through ptr_open (a file: a memfd), then the cheap reading of
 * the flushed totals (ptr_cur_read, `pooltag log`'s and `serve`'s
 * sub-samples) on the same source. */
static void through_source(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0)
        fd = memfd_create("fuzz_segment", 0);
    if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return;
    char path[64], err[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ptr_source *src;
    if (ptr_open(path, &src, err, sizeof err) != 0)
        return;
    ptr_view v;
    if (ptr_read(src, &v, err, sizeof err) == 0) {
        ptr_view_free(&v);
        ptr_cur c;
        memset(&c, 0, sizeof c);
        if (ptr_cur_read(src, &c, err, sizeof err) == 0 && c.n == 0)
            __builtin_trap();
        ptr_cur_free(&c);
    }
    ptr_close(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ptr_view v;
    char err[256];

    if (ptr_parse(data, size, &v, err, sizeof err) == 0) {
        check_view(&v);
        ptr_view_free(&v);
    } else if (memchr(err, 0, sizeof err) == NULL || err[0] == 0) {
        __builtin_trap();   /* an error always has a message */
    }
    if (ptr_parse_snapshot(data, size, &v, err, sizeof err) == 0) {
        check_view(&v);
        ptr_view_free(&v);
        through_source(data, size);
    } else if (err[0] == 0) {
        __builtin_trap();
    }
    return 0;
}
