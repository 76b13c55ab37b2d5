/*
 * fuzz_pregions.c — the region classifier (src/lib/pregions.c) on arbitrary
 * process images: every signature it reads (glibc's first chunk and
 * heap_info, mmapped chunk runs, the nonpaged pool's magic, mimalloc's
 * segment header, glibc's thread control blocks at a stack's top, a core's
 * vDSO) comes from bytes the fuzzer writes, in regions it places (page,
 * 64 KiB, 32 MiB or 64 MiB aligned) with protections, flags and paths it
 * picks, and threads whose stack pointers and fs_base it aims.
 *
 * Input: byte 0 the region count (1..16), byte 1 the thread count (0..4),
 * then 8 bytes per region (u16 index, granularity, pages, prot, flags,
 * path, avail) and 6 bytes per thread (tid, sp region and page, fs_base
 * region); the rest is copied to the start and to the end of every
 * region's bytes.  Besides "no crash", the classes must hold what
 * pregions.h promises: a kind in range, a detail string, a thread index
 * below nthreads (Stack only), a module index below nmodules (Image only).
 */
#include "pregions.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXR 16
#define PAGE 4096u

static const char *const paths[] = {
    "", "[heap]", "[stack]", "[vdso]", "/usr/lib/libfuzz.so", "[anon:fz]",
    "/memfd:pooltag (deleted)", "[vvar]", "/dev/zero",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t nr = (size_t)(data[0] % MAXR) + 1, nt = data[1] % 5;
    size_t need = 2 + nr * 8 + nt * 6;
    if (size < need)
        return 0;
    const uint8_t *d = data + 2, *tail = data + need;
    size_t ntail = size - need;
    static const uint64_t gran[4] = {PAGE, 64u << 10, 32ull << 20, 64ull << 20};
    const uint64_t base = 0x7f0000000000ull;
    pim_region regs[MAXR];
    void *bytes[MAXR];
    memset(regs, 0, sizeof regs);
    memset(bytes, 0, sizeof bytes);
    for (size_t i = 0; i < nr; i++, d += 8) {
        uint16_t idx = (uint16_t)(d[0] | d[1] << 8);
        pim_region *r = &regs[i];
        r->start = base + (uint64_t)idx * gran[d[2] & 3];
        r->end = r->start + (uint64_t)((d[3] % 64) + 1) * PAGE;
        r->prot = d[4] & 7;
        r->flags = d[5] & 0x1f;
        r->path = paths[d[6] % (sizeof paths / sizeof paths[0])];
        uint64_t len = r->end - r->start;
        r->avail = d[7] >= 128 ? len : (len * d[7]) / 128;
        if (r->avail) {
            uint8_t *b = calloc(1, (size_t)r->avail);
            if (!b)
                goto out;
            if (ntail) {
                memcpy(b, tail, ntail < r->avail ? ntail : (size_t)r->avail);
                size_t n = ntail < r->avail ? ntail : (size_t)r->avail;
                memcpy(b + r->avail - n, tail + ntail - n, n);
            }
            bytes[i] = b;
        }
    }
    pim *p = NULL;
    char err[256];
    if (pim_open_memory(regs, (const void *const *)bytes, nr, &p, err, sizeof err) < 0)
        goto out;
    for (size_t t = 0; t < nt; t++, d += 6) {
        pim_thread th;
        memset(&th, 0, sizeof th);
        th.tid = (uint32_t)(d[0] | d[1] << 8);
        th.have_regs = d[2] & 1;
        const pim_region *sr = &regs[d[3] % nr], *fr = &regs[d[5] % nr];
        th.sp = sr->start + (uint64_t)(d[4] % 64) * PAGE;
        th.fs_base = fr->end - 64 * (uint64_t)(d[4] % 8);
        if (pim_add_thread(p, &th) < 0)
            break;
    }
    if (p->nthreads)
        p->pid = p->threads[0].tid;
    pr_class *c = NULL;
    if (pr_classify(p, NULL, &c, err, sizeof err) == 0) {
        for (size_t i = 0; i < p->nregions; i++) {
            if (c[i].kind < 0 || c[i].kind >= PR_NKINDS || !c[i].detail)
                abort();
            if (c[i].thread >= 0 && (c[i].kind != PR_STACK || (size_t)c[i].thread >= p->nthreads))
                abort();
            if (c[i].module >= 0 && (c[i].kind != PR_IMAGE || (size_t)c[i].module >= p->nmodules))
                abort();
            if (pr_kind_parse(pr_kind_name(c[i].kind)) != c[i].kind)
                abort();
        }
        pr_free(c, p->nregions);
    }
    pim_close(p);
out:
    for (size_t i = 0; i < nr; i++)
        free(bytes[i]);
    return 0;
}
