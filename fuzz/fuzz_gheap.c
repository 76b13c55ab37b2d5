/*
 * fuzz_gheap.c — the glibc heap walker (src/lib/gheap.c) over arbitrary
 * memory: the input is a 48-byte header (three base addresses and three
 * lengths, little-endian) and the bytes of three regions: libc's writable
 * data (named libc.so.6, where main_arena is looked for by its shape; a
 * page with libc's ELF header is put below it so that it is a module), a
 * brk heap ("[heap]") and an anonymous region (a thread arena's heap_info
 * region or mmapped chunks).  gh_open (without symbols) and gh_walk must
 * never crash, read outside the regions or loop; every chunk gh_walk
 * gives lies inside a region, and the per-arena sums of the walk equal
 * the arena's figures.  Seeds: fuzz/gheap_seeds.py cuts them from a gcore
 * of tests/heapfix.
 */
#include "gheap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEN (4u << 20)

typedef struct acc { pim *p; size_t narenas; uint64_t busy[64], free[64]; } acc;

static int each(void *arg, const gh_chunk *c)
{
    acc *a = arg;
    if (!pim_region_at(a->p, c->addr) || c->size < 16 || c->mem != c->addr + 16)
        abort();
    if (c->arena >= 0 && (size_t)c->arena < a->narenas && c->arena < 64) {
        if (c->state == GH_BUSY || c->state == GH_INTERNAL)
            a->busy[c->arena] += c->size;
        else if (c->state != GH_TOP)
            a->free[c->arena] += c->size;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 48)
        return 0;
    uint64_t base[3], len[3];
    memcpy(base, data, 24);
    memcpy(len, data + 24, 24);
    data += 48;
    size -= 48;
    pim_region r[4];
    const void *bytes[4];
    static const uint8_t elfhdr[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    static const char *const paths[3] = {"/usr/lib/x86_64-linux-gnu/libc.so.6", "[heap]", ""};
    for (int i = 0; i < 3; i++) {
        uint64_t l = len[i] % MAXLEN;
        if (l > size)
            l = size;
        memset(&r[i], 0, sizeof r[i]);
        r[i].start = base[i] & 0x7ffffffff000ull;
        r[i].end = r[i].start + ((l + 4095) & ~4095ull) + (l == 0 ? 4096 : 0);
        r[i].avail = l;
        r[i].prot = PIM_R | PIM_W;
        r[i].flags = i == 0 ? PIM_RF_FILE : 0;
        r[i].offset = i == 0 ? 0x1000 : 0;
        r[i].path = paths[i];
        bytes[i] = data;
        data += l;
        size -= l;
    }
    /* libc's ELF header just below its data: what makes it a module */
    if (r[0].start < 0x1000)
        return 0;
    memset(&r[3], 0, sizeof r[3]);
    r[3].start = r[0].start - 0x1000;
    r[3].end = r[0].start;
    r[3].avail = sizeof elfhdr;
    r[3].prot = PIM_R;
    r[3].flags = PIM_RF_FILE;
    r[3].path = paths[0];
    bytes[3] = elfhdr;
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (r[i].start < r[j].end && r[j].start < r[i].end)
                return 0;
    pim *p;
    char err[256];
    if (pim_open_memory(r, bytes, 4, &p, err, sizeof err) < 0)
        return 0;
    gh_heap *h;
    if (gh_open_flags(p, GH_NO_SYMBOLS, &h, err, sizeof err) == 0) {
        acc a = {.p = p, .narenas = gh_narenas(h)};
        gh_walk(h, each, &a);
        for (size_t i = 0; i < a.narenas && i < 64; i++) {
            const gh_arena *x = gh_arena_at(h, i);
            if (!x->broken && (a.busy[i] != x->busy_bytes || a.free[i] != x->free_bytes))
                abort();
        }
        uint64_t n, b;
        gh_mmapped(h, &n, &b);
        gh_close(h);
    }
    pim_close(p);
    return 0;
}
