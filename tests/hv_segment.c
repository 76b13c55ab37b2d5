/*
 * hv_segment — a segment with a control block, a stack table, both rings,
 * verify statistics, tracked blocks and (optionally) a leak report, with
 * known contents, for the tests of `pooltag hit` and `pooltag verify`
 * (tests/hit_*.sh, tests/verify_*.sh) before and beside the real runtime.
 *
 *   hv_segment --write FILE [VARIANT] [--leak] [--short-log] [--special]
 *       write the segment as a bare image (VARIANT damages it: trunc,
 *       badslot, badring, badop, badtracked, badleak)
 *   hv_segment --live [--idle | --exit-on-kick] [--leak] [--short-log] [--special]
 *       map it from a memfd named "pooltag", print "ready", and play the
 *       runtime's side of the control protocol (segment.h): poll the kick
 *       word every millisecond, apply (applied_gen = gen, hit_matched,
 *       verify_matched, bad_settings) and clear the bit; --idle never
 *       applies, --exit-on-kick exits when kicked.  SIGUSR1 appends 5
 *       records to the hit ring (alloc, Leak, 0x90000 + 0x10 i, 8 bytes),
 *       SIGUSR2 appends 40.  Exits after 60 s.
 *
 * The stacks are real: return addresses captured with backtrace(3) in
 * fixture_leak_step (called by fixture_outer, called by main) and in
 * fixture_cache_fill (called by main), so the symbolizer names them with
 * this file's lines.  Contents (the tests assert them):
 *   tags: Leak, Cach, "Se  "; modules: 1 this program, 2 /nonexistent/libvfix.so.1
 *   hit ring: cap 64, size 16, head 20: index i = alloc (even i) or free
 *     (odd i) of block b = i / 2 at 0x10000 + 0x100 b, size 100 + b, tag
 *     Cach when b % 3 == 2 else Leak, tid 4242 + i % 2, stack 1 (alloc)
 *     or 2 (free); index 19 is being written (seq 0); 0..3 overwritten
 *   verify log: cap 64, size 64 (--short-log: 4), head 6:
 *     0 alloc 0x20000 256 Leak, 1 alloc 0x30000 64 Cach, 2 free 0x20000,
 *     3 alloc 0x20000 128 Leak, 4 alloc 0x40000 32 "Se  ", 5 alloc 0x50000
 *     16 Leak (module 1); allocs of module 2 stack 1 except 1 and 4 (2)
 *   tracked: 0x20000 128 Leak, 0x30000 64 Cach, 0x40000 32 "Se  " (module 2)
 *   vstats of module 2: attempted 5, succeeded 5, failed 0, untagged 1,
 *     frees 1, paged current 3 / 224 bytes, peak 3 / 480 bytes
 *   --leak: a leak report, module 2 unloaded with 3 blocks, 224 bytes
 *   --special: the special pool (tests/spv_*.sh): tag Ovr1 too; selectors
 *     Ovr1 and 100-200 (underrun); quarantine 64, max 512 pages, region at
 *     SPV_REGION of 512 pages, handler on, allocs 7, frees 3, full 2,
 *     ineligible 1, sampled 0, 2 blocks (124 bytes) live, 10 pages used (2
 *     quarantined); blocks: [0] live 24 bytes Ovr1 at the end of run 0
 *     (stack 1, tid 4242), [2] quarantined 100 bytes Ovr1 at the end of
 *     run 2 (stack 1, freed by stack 2, tid 4243), [3] live 100 bytes
 *     "Se  " underrun at the start of run 4's data (stack 2); reports: 1
 *     overrun (write) 1 byte past block [0] (offset 1), stack 1, recovered;
 *     2 use after free (read) at offset 8 of block [2], stack 2, SIGSEGV.
 *     Variants: badblk (record 4: state 9), badreport (slot 2: kind 99),
 *     badspecial (max_special 0), truncsp (image ends in the records)
 */
#define _GNU_SOURCE
#include "pooltag.h"
#include "segment.h"

#include <execinfo.h>
#include <fnmatch.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_TAGS 8
#define MAX_MODULES 16
#define MAX_STACKS 256
#define MAX_FRAMES 4096
#define RING_CAP 64
#define MAX_TRACKED 64

static uint64_t exe_bias, exe_start, exe_end;
static uint64_t stack1[PT_SEG_DEPTH_LIMIT], stack2[PT_SEG_DEPTH_LIMIT];
static uint32_t depth1, depth2;
static volatile uint32_t kick;
static char *seg;

static int find_exe(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD)
            continue;
        if (p->p_vaddr < lo)
            lo = p->p_vaddr;
        if (p->p_vaddr + p->p_memsz > hi)
            hi = p->p_vaddr + p->p_memsz;
    }
    exe_bias = info->dlpi_addr;
    exe_start = info->dlpi_addr + lo;
    exe_end = info->dlpi_addr + hi;
    return 1;   /* the first object is the program */
}

/* The frames of the current stack that lie in this program, from the
 * function CAPTURE is written in (SELF) on: frames before it are
 * backtrace's own, or a sanitizer's interceptor of it; frames of the C
 * library lie outside the program.  A macro, so that
 * frame 0 is the line of CAPTURE itself, whatever the compiler inlines. */
#define CAPTURE(out, depth, self)                                           \
    do {                                                                    \
        void *bt_[64];                                                      \
        int n_ = backtrace(bt_, 64);                                        \
        uint32_t d_ = 0;                                                    \
        uint64_t f_ = (uint64_t)(uintptr_t)(self);                          \
        for (int i_ = 0; i_ < n_ && d_ < 16; i_++) {                        \
            uint64_t a_ = (uint64_t)(uintptr_t)bt_[i_];                     \
            if (!d_ && (a_ < f_ || a_ >= f_ + 4096))                        \
                continue;   /* not yet in SELF: backtrace's own frames */   \
            if (a_ >= exe_start && a_ < exe_end)                            \
                (out)[d_++] = a_;                                           \
        }                                                                   \
        (depth) = d_;                                                       \
    } while (0)

__attribute__((noinline)) void fixture_leak_step(void)
{
    CAPTURE(stack1, depth1, fixture_leak_step);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void fixture_outer(void)
{
    fixture_leak_step();
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void fixture_cache_fill(void)
{
    CAPTURE(stack2, depth2, fixture_cache_fill);
    __asm__ volatile("" ::: "memory");
}

typedef struct layout {
    pt_seg_header h;
    size_t size;
} layout;

static volatile sig_atomic_t grow_small, grow_big;
static void on_usr(int sig)
{
    if (sig == SIGUSR1)
        grow_small = 1;
    else
        grow_big = 1;
}

/* Append n records to the hit ring as the runtime does: claim the index
 * (head + 1), seq = 0, the fields, then seq = index + 1. */
static void grow(unsigned n)
{
    pt_seg_header *h = (pt_seg_header *)seg;
    pt_seg_ring *ring = (pt_seg_ring *)(seg + h->rings_off) + PT_RING_HIT;
    pt_seg_rec *recs = (pt_seg_rec *)(seg + ring->records_off);
    for (unsigned k = 0; k < n; k++) {
        uint64_t i = __atomic_fetch_add(&ring->head, 1, __ATOMIC_ACQ_REL);
        pt_seg_rec *r = &recs[i % ring->size];
        __atomic_store_n(&r->seq, 0, __ATOMIC_RELEASE);
        r->time_ns = 1700000000000000000ull + i * 1000000ull;
        r->addr = 0x90000 + i * 0x10;
        r->size = 8;
        r->stack = 1;
        r->tag = PT_TAG("Leak");
        r->tid = 4242;
        r->op = PT_OP_ALLOC;
        r->pool = 0;
        r->module = 1;
        __atomic_store_n(&r->seq, i + 1, __ATOMIC_RELEASE);
    }
    printf("grew %u to %llu\n", n, (unsigned long long)ring->head);
    fflush(stdout);
}

static void tagname(char *buf, uint32_t tag)
{
    for (int i = 0; i < 4; i++)
        buf[i] = (char)(tag >> (8 * i));
    buf[4] = 0;
}

static pt_seg_rec rec(uint64_t i, uint8_t op, uint64_t addr, uint64_t size, uint32_t tag,
                      uint32_t stack, uint16_t module)
{
    return (pt_seg_rec){.seq = i + 1, .time_ns = 1700000000000000000ull + i * 1000000ull,
                        .addr = addr, .size = size, .stack = stack, .tag = tag,
                        .tid = 4242 + (uint32_t)(i % 2), .op = op, .pool = 0,
                        .module = module};
}

#define SPV_REGION 0x7e0000000000ull
#define SPV_MAX 64

static size_t build(int leak, int short_log, int special)
{
    pt_seg_header h;
    uint64_t ntags = MAX_TAGS + 1;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN);
    h.version = PT_SEG_VERSION;
    h.header_size = PT_SEG_HEADER_SIZE;
    h.page_size = 4096;
    h.pid = (uint32_t)getpid();
    h.start_ns = 1700000000000000000ull;
    h.max_tags = MAX_TAGS;
    h.max_shards = 1;
    h.shard_hw = 1;
    h.flags = PT_SEGF_PRELOAD | PT_SEGF_LIBC_BACKEND;
    h.pools_off = PT_SEG_HEADER_SIZE;
    h.errors_off = h.pools_off + PT_SEG_NPOOLS * sizeof(pt_seg_pool);
    h.keys_off = h.errors_off + PT_SEG_ERRORS * sizeof(pt_seg_error);
    h.tagstat_off = pt_seg_align(h.keys_off + ntags * 4, PT_SEG_LINE);
    h.modules_off = h.tagstat_off + ntags * sizeof(pt_seg_tagstat);
    h.max_modules = MAX_MODULES;
    h.modules_used = 2;
    h.shards_off = pt_seg_align(h.modules_off + MAX_MODULES * sizeof(pt_seg_module), 4096);
    h.shard_stride = pt_seg_shard_stride(MAX_TAGS);
    h.peak_grain = 512;
    h.tags_used = 3;
    h.threads_started = 1;
    memcpy(h.comm, "hv_segment", 10);
    snprintf(h.exe, sizeof h.exe, "/proc/self/exe");
    h.control_off = pt_seg_align(h.shards_off + h.shard_stride, 4096);
    h.kick_addr = (uint64_t)(uintptr_t)&kick;
    h.stacks_off = h.control_off + 4096;
    h.max_stacks = MAX_STACKS;
    h.frames_off = h.stacks_off + MAX_STACKS * 8;
    h.max_frames = MAX_FRAMES;
    h.rings_off = h.frames_off + MAX_FRAMES * 8;
    uint64_t hit_off = h.rings_off + PT_SEG_NRINGS * sizeof(pt_seg_ring);
    uint64_t ver_off = hit_off + RING_CAP * sizeof(pt_seg_rec);
    h.vstats_off = ver_off + RING_CAP * sizeof(pt_seg_rec);
    h.tracked_off = h.vstats_off + MAX_MODULES * sizeof(pt_seg_vstat);
    h.max_tracked = MAX_TRACKED;
    h.max_depth = 32;
    h.leaks_off = h.tracked_off + MAX_TRACKED * sizeof(pt_seg_tracked);
    h.seg_size = pt_seg_align(h.leaks_off + PT_SEG_LEAKS * sizeof(pt_seg_leak), 4096);
    if (special) {
        h.special_off = h.seg_size;
        h.spblk_off = h.special_off + 4096;
        h.max_special = SPV_MAX;
        h.spreports_off = h.spblk_off + SPV_MAX * sizeof(pt_seg_spblk);
        h.seg_size = pt_seg_align(h.spreports_off + PT_SEG_SPREPORTS * sizeof(pt_seg_spreport),
                                  4096);
        h.tags_used = 4;
    }

    seg = calloc(1, h.seg_size);
    if (!seg)
        exit(1);
    memcpy(seg, &h, sizeof h);
    uint32_t *keys = (uint32_t *)(seg + h.keys_off);
    keys[0] = PT_TAG("Leak");
    keys[1] = PT_TAG("Cach");
    keys[2] = PT_TAG("Se");
    if (special) {
        keys[3] = PT_TAG("Ovr1");
        pt_seg_counts *c3 = pt_seg_shard_counts(seg + h.shards_off, 3);
        c3->pool[PT_PAGED] = (pt_seg_pool_counts){5, 3, 424, 300};
    }
    pt_seg_counts *c0 = pt_seg_shard_counts(seg + h.shards_off, 0);
    c0->pool[PT_PAGED] = (pt_seg_pool_counts){12, 3, 4000, 600};
    pt_seg_counts *c1 = pt_seg_shard_counts(seg + h.shards_off, 1);
    c1->pool[PT_PAGED] = (pt_seg_pool_counts){3, 1, 300, 100};
    pt_seg_counts *c2 = pt_seg_shard_counts(seg + h.shards_off, 2);
    c2->pool[PT_PAGED] = (pt_seg_pool_counts){1, 0, 32, 0};

    pt_seg_module *m = (pt_seg_module *)(seg + h.modules_off);
    char exe[PATH_MAX];
    if (!realpath("/proc/self/exe", exe))
        snprintf(exe, sizeof exe, "/proc/self/exe");
    m[0] = (pt_seg_module){.base = exe_bias, .start = exe_start, .end = exe_end,
                           .tag = PT_TAG("hv_s"), .flags = PT_MOD_MAIN};
    strncpy(m[0].path, exe, sizeof m[0].path - 1);
    m[1] = (pt_seg_module){.base = 0x7f0000000000ull, .start = 0x7f0000000000ull,
                           .end = 0x7f0000010000ull, .tag = PT_TAG("vfix")};
    snprintf(m[1].path, sizeof m[1].path, "/nonexistent/libvfix.so.1");

    /* Stacks 1 and 2. */
    uint64_t *slots = (uint64_t *)(seg + h.stacks_off);
    uint64_t *frames = (uint64_t *)(seg + h.frames_off);
    memcpy(frames, stack1, depth1 * 8);
    memcpy(frames + depth1, stack2, depth2 * 8);
    slots[0] = 0 | (uint64_t)depth1 << PT_STK_DEPTH_SHIFT | 0x1234ull << PT_STK_HASH_SHIFT;
    slots[1] = (uint64_t)depth1 | (uint64_t)depth2 << PT_STK_DEPTH_SHIFT |
               0x5678ull << PT_STK_HASH_SHIFT;

    pt_seg_control *ctl = (pt_seg_control *)(seg + h.control_off);
    ctl->gen = 1;
    ctl->applied_gen = 1;
    ctl->hit_n = 1;
    snprintf(ctl->hit_pat[0], PT_CTL_PAT_LEN, "Leak");
    ctl->hit_ring = 16;
    ctl->verify_n = 1;
    snprintf(ctl->verify_glob[0], PT_CTL_GLOB_LEN, "libvfix*");
    ctl->verify_log = short_log ? 4 : RING_CAP;
    ctl->depth = 32;
    ctl->hit_matched = 1;
    ctl->verify_matched = 1;
    ctl->captures = 26;
    ctl->stacks_used = 2;
    ctl->frames_used = depth1 + depth2;
    ctl->tracked_used = 3;
    ctl->leaks_seq = leak ? 1 : 0;

    pt_seg_ring *rings = (pt_seg_ring *)(seg + h.rings_off);
    rings[PT_RING_HIT] = (pt_seg_ring){.records_off = hit_off, .cap = RING_CAP, .size = 16,
                                       .head = 20, .base = 0};
    pt_seg_rec *hr = (pt_seg_rec *)(seg + hit_off);
    for (uint64_t i = 0; i < 20; i++) {
        uint64_t b = i / 2;
        pt_seg_rec r = rec(i, i % 2 ? PT_OP_FREE : PT_OP_ALLOC, 0x10000 + 0x100 * b, 100 + b,
                           b % 3 == 2 ? PT_TAG("Cach") : PT_TAG("Leak"), i % 2 ? 2 : 1, 1);
        if (i == 19)
            r.seq = 0;   /* being written */
        hr[i % 16] = r;
    }
    uint32_t size = short_log ? 4 : RING_CAP;
    rings[PT_RING_VERIFY] = (pt_seg_ring){.records_off = ver_off, .cap = RING_CAP,
                                          .size = size, .head = 6, .base = 0};
    pt_seg_rec vr[6] = {
        rec(0, PT_OP_ALLOC, 0x20000, 256, PT_TAG("Leak"), 1, 2),
        rec(1, PT_OP_ALLOC, 0x30000, 64, PT_TAG("Cach"), 2, 2),
        rec(2, PT_OP_FREE, 0x20000, 256, PT_TAG("Leak"), 2, 2),
        rec(3, PT_OP_ALLOC, 0x20000, 128, PT_TAG("Leak"), 1, 2),
        rec(4, PT_OP_ALLOC, 0x40000, 32, PT_TAG("Se"), 2, 2),
        rec(5, PT_OP_ALLOC, 0x50000, 16, PT_TAG("Leak"), 2, 1),
    };
    pt_seg_rec *vrec = (pt_seg_rec *)(seg + ver_off);
    for (uint32_t i = 0; i < 6; i++)
        vrec[i % size] = vr[i];

    pt_seg_vstat *vs = (pt_seg_vstat *)(seg + h.vstats_off);
    vs[1] = (pt_seg_vstat){.attempted = 5, .succeeded = 5, .untagged = 1, .frees = 1,
                           .flags = PT_VS_VERIFIED | PT_VS_EVER};
    vs[1].pool[PT_PAGED].cur_blocks = 3;
    vs[1].pool[PT_PAGED].cur_bytes = 224;
    vs[1].pool[PT_PAGED].peak_blocks = 3;
    vs[1].pool[PT_PAGED].peak_bytes = 480;
    if (leak) {
        vs[1].leaked_blocks = 3;
        vs[1].leaked_bytes = 224;
        vs[1].flags |= PT_VS_UNLOADED;
        m[1].flags |= PT_MOD_UNLOADED;
    }

    pt_seg_tracked *tr = (pt_seg_tracked *)(seg + h.tracked_off);
    uint8_t lf = leak ? PT_TRK_LEAKED : 0;
    tr[0] = (pt_seg_tracked){.addr = 0x20000, .size = 128, .stack = 1, .tag = PT_TAG("Leak"),
                             .tid = 4242, .module = 2, .flags = lf};
    tr[5] = (pt_seg_tracked){.addr = 0x30000, .size = 64, .stack = 2, .tag = PT_TAG("Cach"),
                             .tid = 4243, .module = 2, .flags = lf};
    tr[9] = (pt_seg_tracked){.addr = 0x40000, .size = 32, .stack = 2, .tag = PT_TAG("Se"),
                             .tid = 4242, .module = 2, .flags = lf};
    if (leak) {
        pt_seg_leak *lk = (pt_seg_leak *)(seg + h.leaks_off);
        lk[0] = (pt_seg_leak){.seq = 1, .time_ns = 1700000001000000000ull, .blocks = 3,
                              .bytes = 224, .module = 2, .reason = PT_LEAK_UNLOAD};
    }
    if (special) {
        pt_seg_special *sp = (pt_seg_special *)(seg + h.special_off);
        sp->sp_n = 2;
        sp->sp[0] = (pt_seg_sel){.kind = PT_SEL_TAG};
        snprintf(sp->sp[0].text, sizeof sp->sp[0].text, "Ovr1");
        sp->sp[1] = (pt_seg_sel){.kind = PT_SEL_SIZE, .flags = PT_SELF_UNDERRUN, .min = 100,
                                 .max = 200};
        sp->quarantine = 64;
        sp->max_pages = 512;
        sp->region_base = SPV_REGION;
        sp->region_size = 512 * 4096;
        sp->sp_matched = 1;
        sp->handler = PT_SPH_ON;
        sp->allocs = 7;
        sp->frees = 3;
        sp->full = 2;
        sp->ineligible = 1;
        sp->blocks_live = 2;
        sp->bytes_live = 124;
        sp->pages_used = 10;
        sp->pages_quarantined = 2;
        sp->blk_hw = 5;
        sp->reports_seq = 2;
        pt_seg_spblk *b = (pt_seg_spblk *)(seg + h.spblk_off);
        b[0] = (pt_seg_spblk){.addr = SPV_REGION + 4096 - 24, .size = 24, .run = SPV_REGION,
                              .npages = 2, .tag = PT_TAG("Ovr1"), .alloc_stack = 1,
                              .alloc_tid = 4242, .state = PT_SPB_LIVE, .align_log2 = 3};
        b[2] = (pt_seg_spblk){.addr = SPV_REGION + 3 * 4096 - 100, .size = 100,
                              .run = SPV_REGION + 2 * 4096, .npages = 2,
                              .tag = PT_TAG("Ovr1"), .alloc_stack = 1, .free_stack = 2,
                              .alloc_tid = 4242, .free_tid = 4243,
                              .state = PT_SPB_QUARANTINED, .align_log2 = 2};
        b[3] = (pt_seg_spblk){.addr = SPV_REGION + 5 * 4096, .size = 100,
                              .run = SPV_REGION + 4 * 4096, .npages = 2,
                              .tag = PT_TAG("Se"), .alloc_stack = 2, .alloc_tid = 4242,
                              .state = PT_SPB_LIVE, .flags = PT_SPBF_UNDERRUN,
                              .align_log2 = 4};
        pt_seg_spreport *r = (pt_seg_spreport *)(seg + h.spreports_off);
        r[0] = (pt_seg_spreport){.seq = 1, .time_ns = 1700000002000000000ull,
                                 .fault_addr = b[0].addr + 25, .block = b[0].addr,
                                 .size = 24, .offset = 1, .pc = stack1[0],
                                 .kind = PT_SPR_OVERRUN, .tag = PT_TAG("Ovr1"), .tid = 4242,
                                 .stack = 1, .alloc_stack = 1, .alloc_tid = 4242,
                                 .access = PT_SPA_WRITE, .recovered = 1};
        r[1] = (pt_seg_spreport){.seq = 2, .time_ns = 1700000003000000000ull,
                                 .fault_addr = b[2].addr + 8, .block = b[2].addr,
                                 .size = 100, .offset = 8, .pc = stack2[0],
                                 .kind = PT_SPR_USE_AFTER_FREE, .tag = PT_TAG("Ovr1"),
                                 .tid = 4243, .signo = SIGSEGV, .stack = 2,
                                 .alloc_stack = 1, .free_stack = 2, .alloc_tid = 4242,
                                 .free_tid = 4243, .access = PT_SPA_READ};
    }
    return h.seg_size;
}

static void damage(const char *variant, size_t *len)
{
    pt_seg_header *h = (pt_seg_header *)seg;
    pt_seg_ring *rings = (pt_seg_ring *)(seg + h->rings_off);
    if (!strcmp(variant, "trunc"))
        *len = rings[PT_RING_HIT].records_off + 10 * sizeof(pt_seg_rec);
    else if (!strcmp(variant, "badslot"))
        ((uint64_t *)(seg + h->stacks_off))[0] = 100ull << PT_STK_DEPTH_SHIFT | 1ull << 32;
    else if (!strcmp(variant, "badring"))
        rings[PT_RING_HIT].size = RING_CAP + 1;
    else if (!strcmp(variant, "badop"))
        ((pt_seg_rec *)(seg + rings[PT_RING_HIT].records_off))[5].op = 9;
    else if (!strcmp(variant, "badtracked"))
        ((pt_seg_tracked *)(seg + h->tracked_off))[5].module = 99;
    else if (!strcmp(variant, "badleak"))
        ((pt_seg_leak *)(seg + h->leaks_off))[0] =
            (pt_seg_leak){.seq = 1, .module = 500, .reason = PT_LEAK_UNLOAD};
    else if (!strcmp(variant, "badblk") && h->special_off)
        ((pt_seg_spblk *)(seg + h->spblk_off))[4] =
            (pt_seg_spblk){.addr = SPV_REGION + 7 * 4096, .size = 8, .run = SPV_REGION + 6 * 4096,
                           .npages = 2, .tag = PT_TAG("Ovr1"), .state = 9};
    else if (!strcmp(variant, "badreport") && h->special_off)
        ((pt_seg_spreport *)(seg + h->spreports_off))[2] =
            (pt_seg_spreport){.seq = 3, .kind = 99, .tag = PT_TAG("Ovr1")};
    else if (!strcmp(variant, "badspecial") && h->special_off)
        h->max_special = 0;
    else if (!strcmp(variant, "truncsp") && h->special_off)
        *len = h->spblk_off + 10 * sizeof(pt_seg_spblk);
    else {
        fprintf(stderr, "hv_segment: unknown variant %s\n", variant);
        exit(2);
    }
}

static int pat_match(const char *pat, uint32_t tag)
{
    char t[5];
    tagname(t, tag);
    if (!fnmatch(pat, t, 0))
        return 1;
    for (int n = 4; n > 0 && t[n - 1] == ' ';)
        t[--n] = 0;
    return !fnmatch(pat, t, 0);
}

static void apply(void)
{
    pt_seg_header *h = (pt_seg_header *)seg;
    pt_seg_control *c = (pt_seg_control *)(seg + h->control_off);
    pt_seg_ring *rings = (pt_seg_ring *)(seg + h->rings_off);
    uint64_t gen = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
    uint32_t bad = 0, hm = 0, vm = 0;
    if (c->hit_ring == 0 || c->hit_ring > rings[PT_RING_HIT].cap)
        bad++;
    if (c->verify_log == 0 || c->verify_log > rings[PT_RING_VERIFY].cap)
        bad++;
    uint32_t *keys = (uint32_t *)(seg + h->keys_off);
    for (uint32_t k = 0; k < MAX_TAGS; k++)
        for (uint32_t i = 0; keys[k] && i < c->hit_n && i < PT_CTL_HIT_MAX; i++)
            if (pat_match(c->hit_pat[i], keys[k])) {
                hm++;
                break;
            }
    pt_seg_module *m = (pt_seg_module *)(seg + h->modules_off);
    for (uint32_t k = 0; k < h->modules_used; k++)
        for (uint32_t i = 0; i < c->verify_n && i < PT_CTL_VERIFY_MAX; i++) {
            const char *b = strrchr(m[k].path, '/');
            if (!fnmatch(c->verify_glob[i], m[k].path, 0) ||
                !fnmatch(c->verify_glob[i], b ? b + 1 : m[k].path, 0)) {
                vm++;
                break;
            }
        }
    if (h->special_off) {
        pt_seg_special *sp = (pt_seg_special *)(seg + h->special_off);
        uint32_t sm = 0;
        for (uint32_t k = 0; k < MAX_TAGS; k++)
            for (uint32_t i = 0; keys[k] && i < sp->sp_n && i < PT_SEL_MAX; i++)
                if (sp->sp[i].kind == PT_SEL_TAG && pat_match(sp->sp[i].text, keys[k])) {
                    sm++;
                    break;
                }
        sp->sp_matched = sm;
        if (sp->max_pages > sp->region_size / 4096)
            bad++;
        printf("special sp_n %u sample %u max_pages %u flags %u\n", sp->sp_n, sp->sample,
               sp->max_pages, sp->sp_flags);
    }
    c->hit_matched = hm;
    c->verify_matched = vm;
    c->bad_settings = bad;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->applied_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    __atomic_store_n(&c->applied_gen, gen, __ATOMIC_RELEASE);
    printf("applied %llu hit_n %u verify_n %u\n", (unsigned long long)gen, c->hit_n,
           c->verify_n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *variant = NULL;
    int live = 0, idle = 0, exit_on_kick = 0, leak = 0, short_log = 0, special = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--write") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--live"))
            live = 1;
        else if (!strcmp(argv[i], "--idle"))
            idle = 1;
        else if (!strcmp(argv[i], "--exit-on-kick"))
            exit_on_kick = 1;
        else if (!strcmp(argv[i], "--leak"))
            leak = 1;
        else if (!strcmp(argv[i], "--short-log"))
            short_log = 1;
        else if (!strcmp(argv[i], "--special"))
            special = 1;
        else if (out && !variant)
            variant = argv[i];
        else {
            fprintf(stderr, "usage: hv_segment --write FILE [VARIANT] | --live [--idle|--exit-on-kick]\n");
            return 2;
        }
    }
    dl_iterate_phdr(find_exe, NULL);
    fixture_outer();
    fixture_cache_fill();
    if (!depth1 || !depth2) {
        fprintf(stderr, "hv_segment: backtrace found no frames\n");
        return 1;
    }
    size_t len = build(leak, short_log, special);
    if (out) {
        if (variant)
            damage(variant, &len);
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(seg, 1, len, f) != len || fclose(f) != 0)
            return 1;
        return 0;
    }
    if (!live)
        return 2;
    int fd = (int)syscall(SYS_memfd_create, PT_SEG_MEMFD_NAME, 0u);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0)
        return 1;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return 1;
    memcpy(p, seg, len);
    free(seg);
    seg = p;
    signal(SIGUSR1, on_usr);
    signal(SIGUSR2, on_usr);
    printf("ready\n");
    fflush(stdout);
    for (int ms = 0; ms < 60000; ms++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        if (grow_small)
            grow_small = 0, grow(5);
        if (grow_big)
            grow_big = 0, grow(40);
        if (!(__atomic_load_n(&kick, __ATOMIC_ACQUIRE) & PT_KICK_CONTROL))
            continue;
        if (exit_on_kick)
            _exit(0);
        if (idle)
            continue;
        __atomic_fetch_and(&kick, ~PT_KICK_CONTROL, __ATOMIC_ACQ_REL);
        apply();
    }
    return 0;
}
