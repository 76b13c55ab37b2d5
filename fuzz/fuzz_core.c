/*
 * fuzz_core.c — libFuzzer target for the core-file reader
 * (src/reader/core.c): pim_open_core_image on arbitrary bytes, then every
 * region, thread and module read back; when the bytes open as a core,
 * ptr_open's core path too (the same bytes as a file: a memfd), as the
 * report verbs read it.
 *
 * Beyond "no crash, no sanitizer report", what the reader returns must
 * hold together: regions sorted, not overlapping, non-empty, avail within
 * the region and its bytes inside the input; every region's bytes readable
 * through pim_read and pim_bytes; modules inside their span with a base
 * inside it and a build-id that fits; the segment, when found, a region.
 */
#define _GNU_SOURCE
#include "pimg.h"
#include "ptread.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check_pim(pim *p, const uint8_t *data, size_t size)
{
    static uint8_t buf[4096];
    for (size_t i = 0; i < p->nregions; i++) {
        const pim_region *r = &p->regions[i];
        if (r->end <= r->start || r->avail > r->end - r->start || !r->path)
            __builtin_trap();
        if (i && r->start < p->regions[i - 1].end)
            __builtin_trap();
        if (pim_region_at(p, r->start) != r || pim_region_at(p, r->end - 1) != r)
            __builtin_trap();
        size_t got = 0;
        const uint8_t *b = pim_bytes(p, r, 0, (size_t)r->avail, NULL, &got);
        if (r->avail && (!b || got != r->avail || b < data || got > size ||
                         (size_t)(b - data) > size - got))
            __builtin_trap();
        /* The first and last bytes through pim_read, across the edges. */
        size_t n = r->avail < sizeof buf ? (size_t)r->avail : sizeof buf;
        if (pim_read(p, r->start, buf, n) < n)
            __builtin_trap();
        if (r->avail && memcmp(buf, b, n) != 0)
            __builtin_trap();
        if (pim_read(p, r->start + r->avail - n, buf, sizeof buf) < n)
            __builtin_trap();
        uint64_t w;
        (void)pim_word(p, r->end - 4, &w);
    }
    for (size_t i = 0; i < p->nthreads; i++) {
        const pim_thread *t = &p->threads[i];
        if (t->have_regs && (t->sp != t->gregs[19] || t->pc != t->gregs[16]))
            __builtin_trap();
        if (memchr(t->name, 0, sizeof t->name) == NULL)
            __builtin_trap();
    }
    for (size_t i = 0; i < p->nmodules; i++) {
        const pim_module *m = &p->modules[i];
        if (!m->path || !m->name || m->end <= m->start || m->base < m->start ||
            m->base >= m->end || m->build_id_len > sizeof m->build_id)
            __builtin_trap();
        if (pim_module_at(p, m->base) == NULL)
            __builtin_trap();
    }
    const pim_region *s;
    if (pim_segment(p, &s) == 0 && (s < p->regions || s >= p->regions + p->nregions))
        __builtin_trap();
    if (memchr(p->comm, 0, sizeof p->comm) == NULL || memchr(p->exe, 0, sizeof p->exe) == NULL ||
        memchr(p->args, 0, sizeof p->args) == NULL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pim *p;
    char err[512];
    if (pim_open_core_image(data, size, "fuzz", &p, err, sizeof err) < 0) {
        if (!memchr(err, 0, sizeof err) || strchr(err, '\n'))
            __builtin_trap();
        return 0;
    }
    check_pim(p, data, size);
    pim_close(p);

    /* ptr_open's core path on the same bytes, through a file. */
    static int fd = -1;
    if (fd < 0)
        fd = memfd_create("fuzz_core", 0);
    if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ptr_source *src;
    if (ptr_open(path, &src, err, sizeof err) == 0) {
        ptr_view v;
        if (ptr_read(src, &v, err, sizeof err) == 0) {
            if (v.kind != PTR_CORE)
                __builtin_trap();
            ptr_view_free(&v);
        }
        ptr_close(src);
    }
    return 0;
}
