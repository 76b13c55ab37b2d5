/*
 * fuzz_leaks.c — libFuzzer target for the leak scanner (src/lib/leakscan.c)
 * over an in-memory process image (pim_open_memory): a pooltag segment
 * whose header and site table come from the input, a heap region and a
 * root region of input bytes, and a thread whose stack pointer and
 * registers come from the input.  So that block headers are found at all,
 * a 16-byte slot of the heap whose last byte is 0xab gets the check word
 * of a live header (and 0xac: of a freed one) before the scan.
 *
 * Beyond "no crash, no sanitizer report": the blocks are sorted and do not
 * overlap, each lies in a region, a tagged block names a site of its tag,
 * lk_block_at finds each one by its first and last byte, and the leaked
 * count and bytes are those of the blocks not reached.
 */
#include "leakscan.h"
#include "segment.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEG_AT 0x400000u
#define HEAP_AT 0x200000u
#define ROOT_AT 0x10000u
#define SEG_LEN 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint8_t ctl = data[0];
    size_t nsites = 1 + (data[1] & 15);
    data += 2;
    size -= 2;
    /* The segment: header (forced valid), then the site table. */
    static uint8_t seg[SEG_LEN];
    memset(seg, 0, sizeof seg);
    pt_seg_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN);
    h.version = PT_SEG_VERSION;
    h.flags = (ctl & 1) ? PT_SEGF_CHECK_KEY : 0;
    h.check_key = 0x9e3779b97f4a7c15ull ^ ctl;
    h.sites_off = (ctl & 2) ? 1024 : 8000; /* 8000: past the segment */
    h.max_sites = (uint32_t)nsites - 1;
    if (h.max_sites == 0)
        h.max_sites = 1, nsites = 2;
    memcpy(seg, &h, sizeof h);
    size_t take = size < nsites * sizeof(pt_seg_site) ? size : nsites * sizeof(pt_seg_site);
    if (1024 + take <= SEG_LEN)
        memcpy(seg + 1024, data, take);
    data += take;
    size -= take;
    /* Heap and roots: the rest, halved. */
    size_t hlen = size / 2, rlen = size - hlen;
    uint8_t *heap = malloc(hlen + 16), *root = malloc(rlen + 16);
    if (!heap || !root) {
        free(heap);
        free(root);
        return 0;
    }
    memcpy(heap, data, hlen);
    memcpy(root, data + hlen, rlen);
    for (size_t i = 0; i + 16 <= hlen; i += 16) {
        uint64_t w0;
        uint32_t tag, chk;
        memcpy(&w0, heap + i, 8);
        memcpy(&tag, heap + i + 8, 4);
        if (heap[i + 15] == 0xab)
            chk = pt_hdr_check_live(HEAP_AT + i, w0, tag, h.check_key);
        else if (heap[i + 15] == 0xac)
            chk = pt_hdr_check_freed(HEAP_AT + i, tag, h.check_key);
        else
            continue;
        memcpy(heap + i + 12, &chk, 4);
    }
    pim_region rg[3];
    const void *bytes[3];
    memset(rg, 0, sizeof rg);
    rg[0] = (pim_region){.start = ROOT_AT, .end = ROOT_AT + ((rlen + 4095) & ~4095ul) + 4096,
                         .prot = PIM_R | PIM_W, .path = "", .avail = rlen};
    rg[1] = (pim_region){.start = HEAP_AT, .end = HEAP_AT + ((hlen + 4095) & ~4095ul) + 4096,
                         .prot = PIM_R | PIM_W, .path = "[heap]", .avail = hlen};
    rg[2] = (pim_region){.start = SEG_AT, .end = SEG_AT + SEG_LEN, .prot = PIM_R | PIM_W,
                         .flags = PIM_RF_SEGMENT | PIM_RF_SHARED, .path = "/memfd:pooltag",
                         .avail = SEG_LEN};
    bytes[0] = root;
    bytes[1] = heap;
    bytes[2] = seg;
    pim *p;
    char err[256];
    if (pim_open_memory(rg, bytes, 3, &p, err, sizeof err) == 0) {
        if (ctl & 4) {
            pim_thread t;
            memset(&t, 0, sizeof t);
            t.tid = 1;
            t.have_regs = 1;
            t.sp = ROOT_AT + (rlen ? (root[0] * 8u) % (rlen + 8) : 0);
            for (int k = 0; k < PIM_NGREGS && (size_t)(k + 1) * 8 <= rlen; k++)
                memcpy(&t.gregs[k], root + k * 8, 8);
            t.fs_base = HEAP_AT + (ctl >> 3) * 64u;
            pim_add_thread(p, &t);
        }
        lk_result *r;
        if (lk_scan(p, &r, err, sizeof err) == 0) {
            size_t leaked = 0;
            uint64_t lbytes = 0;
            for (size_t i = 0; i < r->nblocks; i++) {
                const lk_block *b = &r->blocks[i];
                if (b->end <= b->start)
                    abort();
                if (i && b->start < r->blocks[i - 1].end)
                    abort();
                const pim_region *in = pim_region_at(p, b->start);
                if (!in || b->end > in->end)
                    abort();
                if (b->tagged && b->src == LK_POOLTAG && b->site >= nsites)
                    abort();
                if (lk_block_at(r, b->start) != b || lk_block_at(r, b->end - 1) != b)
                    abort();
                if (!b->reached) {
                    leaked++;
                    lbytes += b->size;
                }
            }
            if (leaked != r->nleaked || lbytes != r->leaked_bytes)
                abort();
            lk_free(r);
        }
        pim_close(p);
    }
    free(heap);
    free(root);
    return 0;
}
