/*
 * fuzz_segment.c — libFuzzer target for the reader: every input goes
 * through ptr_parse (a raw segment image) and ptr_parse_snapshot (a
 * snapshot file's bytes, or a raw image, as `pooltag used FILE` reads them).
 *
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION so the snapshot
 * checksum does not stop the fuzzer at the door.  Beyond "no crash, no
 * sanitizer report", a successful parse must be self-consistent: the pool
 * counts are the sums of the rows, every row has a tag, the error ring is
 * sorted and the strings are terminated.
 */
#include "ptread.h"

#include <stdint.h>
#include <string.h>

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
    } else if (err[0] == 0) {
        __builtin_trap();
    }
    return 0;
}
