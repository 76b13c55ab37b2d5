/*
 * test_pregions.c — the region classifier (src/lib/pregions.c) on process
 * images built in memory (pim_open_memory), one per rule: glibc's brk heap
 * by its first chunk, a thread arena's heap_info and its reserved rest, a
 * run of mmapped chunks that fills its region (and one that does not), the
 * nonpaged pool's slab magic, a mimalloc 2.0.9 segment header (and a bad
 * one), a thread stack by the stack pointer, by fs_base and by the glibc
 * TCB at its top (tid 0x2d0 bytes in), its guard page, the kernel's
 * special mappings, a module's mappings and its .bss (pim_module_bss_end),
 * a file mapping, a
 * PROT_NONE reserve and plain anonymous memory.  Also pr_kind_parse.
 */
#include "pimsym.h"
#include "pregions.h"
#include "pt_test.h"

#include <elf.h>
#include <string.h>

#define PAGE 4096u
#define BASE 0x7f0000000000ull /* 64 MiB aligned */
#define MB (1ull << 20)

enum {
    R_BRK, R_ARENA, R_ARENA_RES, R_MMAP, R_MMAP_BAD, R_NP, R_MI, R_MI_BAD, R_GUARD, R_TSTACK,
    R_SP, R_FS, R_IMG, R_BSS, R_FILE, R_RES, R_ANON, R_VDSO, R_VSYS, R_NAMED, NR
};

static uint8_t *zalloc(size_t n)
{
    uint8_t *b = calloc(1, n);
    CHECK(b);
    return b;
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}

int main(void)
{
    pim_region r[NR];
    uint8_t *bytes[NR];
    memset(r, 0, sizeof r);
    memset(bytes, 0, sizeof bytes);
    /* start, size, prot, flags, path */
    struct { uint64_t start, size; unsigned prot, flags; const char *path; } d[NR] = {
        [R_BRK] = {0x555500000000ull, 33 * PAGE, 3, 0, ""},
        [R_ARENA] = {BASE, 132 * PAGE, 3, 0, ""},
        [R_ARENA_RES] = {BASE + 132 * PAGE, 64 * MB - 132 * PAGE, 0, 0, ""},
        [R_MMAP] = {BASE + 64 * MB, 12 * PAGE, 3, 0, ""},
        [R_MMAP_BAD] = {BASE + 64 * MB + 16 * PAGE, 12 * PAGE, 3, 0, ""},
        [R_NP] = {BASE + 65 * MB, 16 * PAGE, 3, 0, ""},
        [R_MI] = {BASE + 96 * MB, 32 * MB, 3, 0, ""},
        [R_MI_BAD] = {BASE + 160 * MB, 32 * MB, 3, 0, ""},
        [R_GUARD] = {BASE + 200 * MB, PAGE, 0, 0, ""},
        [R_TSTACK] = {BASE + 200 * MB + PAGE, 32 * PAGE, 3, 0, ""},
        [R_SP] = {BASE + 201 * MB, 8 * PAGE, 3, 0, ""},
        [R_FS] = {BASE + 202 * MB, 8 * PAGE, 3, 0, ""},
        [R_IMG] = {BASE + 210 * MB, 2 * PAGE, 3, PIM_RF_FILE, "/usr/lib/libt.so"},
        [R_BSS] = {BASE + 210 * MB + 2 * PAGE, 3 * PAGE, 3, 0, ""},
        [R_FILE] = {BASE + 211 * MB, PAGE, 1, PIM_RF_FILE, "/usr/share/data.bin"},
        [R_RES] = {BASE + 212 * MB, 16 * PAGE, 0, 0, ""},
        [R_ANON] = {BASE + 213 * MB, 16 * PAGE, 3, 0, ""},
        [R_VDSO] = {BASE + 214 * MB, 2 * PAGE, 5, 0, "[vdso]"},
        [R_VSYS] = {0xffffffffff600000ull, PAGE, 4, 0, ""},
        [R_NAMED] = {BASE + 215 * MB, PAGE, 3, 0, "[anon:cache]"},
    };
    for (int i = 0; i < NR; i++) {
        r[i].start = d[i].start;
        r[i].end = d[i].start + d[i].size;
        r[i].prot = d[i].prot;
        r[i].flags = d[i].flags;
        r[i].path = d[i].path;
        r[i].avail = d[i].prot ? d[i].size : 0;
        if (r[i].avail)
            bytes[i] = zalloc(r[i].avail);
    }
    /* glibc's first chunk of the brk heap: the tcache block. */
    put64(bytes[R_BRK], 8, 0x291);
    /* heap_info: ar_ptr just after it, size, mprotect_size. */
    put64(bytes[R_ARENA], 0, BASE + 32);
    put64(bytes[R_ARENA], 16, 132 * PAGE);
    put64(bytes[R_ARENA], 24, 132 * PAGE);
    /* Two mmapped chunks, 4 and 8 pages; the bad run leaves a page over. */
    put64(bytes[R_MMAP], 8, 4 * PAGE | 2);
    put64(bytes[R_MMAP], 4 * PAGE + 8, 8 * PAGE | 2);
    put64(bytes[R_MMAP_BAD], 8, 11 * PAGE | 2);
    /* A nonpaged slab. */
    put64(bytes[R_NP], 0, 0x62616c5370746e70ull);
    put64(bytes[R_NP], 8, 65536);
    /* mimalloc: segment_slices 512, info 1, kind 0, slice_entries 512; the
     * bad one has 511 slices (not 32 MiB). */
    for (int k = 0; k < 2; k++) {
        uint8_t *b = bytes[k ? R_MI_BAD : R_MI];
        put64(b, 28 * 8, k ? 511 : 512);
        put64(b, 29 * 8, 1);
        put64(b, 30 * 8, 0);
        put64(b, 31 * 8, 256);
    }
    /* A glibc TCB at the thread stack's top: tcb and self hold its
     * address, tid at 0x2d0. */
    uint64_t tcb = r[R_TSTACK].end - 0x1000;
    put64(bytes[R_TSTACK], tcb - r[R_TSTACK].start, tcb);
    put64(bytes[R_TSTACK], tcb - r[R_TSTACK].start + 16, tcb);
    uint32_t tid = 103;
    memcpy(bytes[R_TSTACK] + (tcb - r[R_TSTACK].start) + 0x2d0, &tid, 4);
    /* A module: ELF headers whose PT_LOAD covers the .bss pages after it. */
    Elf64_Ehdr eh = {.e_phoff = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = 1};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    Elf64_Phdr ph = {.p_type = PT_LOAD, .p_vaddr = 0, .p_filesz = 2 * PAGE,
                     .p_memsz = 4 * PAGE + 100};
    memcpy(bytes[R_IMG], &eh, sizeof eh);
    memcpy(bytes[R_IMG] + sizeof eh, &ph, sizeof ph);
    /* The vDSO is named; a core's would be found by its ELF magic. */

    pim *p = NULL;
    char err[256];
    CHECK(pim_open_memory(r, (const void *const *)bytes, NR, &p, err, sizeof err) == 0);
    CHECK_EQ_U(p->nregions, NR);
    CHECK_EQ_U(p->nmodules, 1);
    CHECK_EQ_U(p->modules[0].end, r[R_IMG].end); /* its file's mappings, as lm shows */
    CHECK_EQ_U(pim_module_bss_end(p, &p->modules[0]), r[R_BSS].end); /* and its .bss */
    pim_thread t[4];
    memset(t, 0, sizeof t);
    t[0].tid = 100; /* the main thread: no registers, no [stack] here */
    t[1].tid = 101;
    t[1].have_regs = 1;
    t[1].sp = r[R_SP].start + 100;
    t[1].fs_base = r[R_SP].end - 64;
    t[2].tid = 102;
    t[2].have_regs = 1;
    t[2].sp = r[R_ANON].start - 8; /* nowhere mapped */
    t[2].fs_base = r[R_FS].end - 128;
    t[3].tid = 103;
    strcpy(t[3].name, "worker");
    for (int k = 0; k < 4; k++)
        CHECK(pim_add_thread(p, &t[k]) == 0);
    p->pid = 100;

    pr_class *c = NULL;
    CHECK(pr_classify(p, NULL, &c, err, sizeof err) == 0);
    /* regions are sorted: find each by its start */
#define CLS(i) (&c[(size_t)(pim_region_at(p, r[i].start) - p->regions)])
#define IS(i, k, det)                                                                 \
    do {                                                                              \
        const pr_class *x_ = CLS(i);                                                   \
        if (x_->kind != (k) || strcmp(x_->detail, det) != 0) {                        \
            fprintf(stderr, "region %d: %s \"%s\", expected %s \"%s\"\n", i,           \
                    pr_kind_name(x_->kind), x_->detail, pr_kind_name(k), det);         \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)
    IS(R_BRK, PR_HEAP, "brk heap (glibc main arena)");
    IS(R_ARENA, PR_HEAP, "glibc arena heap");
    IS(R_ARENA_RES, PR_HEAP, "glibc arena heap (reserved)");
    CHECK(CLS(R_ARENA_RES)->reserved && !CLS(R_ARENA)->reserved);
    IS(R_MMAP, PR_HEAP, "2 glibc mmapped chunks");
    IS(R_MMAP_BAD, PR_ANON, "");
    IS(R_NP, PR_HEAP, "pooltag nonpaged pool");
    IS(R_MI, PR_HEAP, "mimalloc segment");
    IS(R_MI_BAD, PR_ANON, "");
    IS(R_TSTACK, PR_STACK, "thread 103 (worker)");
    CHECK_EQ_U(CLS(R_TSTACK)->thread, 3);
    IS(R_GUARD, PR_OTHER, "guard of thread 103 (worker)'s stack");
    CHECK(CLS(R_GUARD)->reserved);
    IS(R_SP, PR_STACK, "thread 101");
    CHECK_EQ_U(CLS(R_SP)->thread, 1);
    IS(R_FS, PR_STACK, "thread 102");
    IS(R_IMG, PR_IMAGE, "libt.so");
    IS(R_BSS, PR_IMAGE, "libt.so");
    CHECK_EQ_U(CLS(R_BSS)->module, 0);
    IS(R_FILE, PR_FILE, "/usr/share/data.bin");
    IS(R_RES, PR_OTHER, "PROT_NONE (guard or reserved)");
    CHECK(CLS(R_RES)->reserved);
    IS(R_ANON, PR_ANON, "");
    CHECK(!CLS(R_ANON)->reserved);
    IS(R_VDSO, PR_OTHER, "[vdso]");
    IS(R_VSYS, PR_OTHER, "[vsyscall]");
    IS(R_NAMED, PR_ANON, "[anon:cache]");
    pr_free(c, p->nregions);
    pim_close(p);

    for (int k = 0; k < PR_NKINDS; k++)
        CHECK_EQ_U(pr_kind_parse(pr_kind_name(k)), k);
    CHECK_EQ_U(pr_kind_parse("anon"), PR_ANON);
    CHECK_EQ_U(pr_kind_parse("file"), PR_FILE);
    CHECK_EQ_U(pr_kind_parse("HEAP"), PR_HEAP);
    CHECK(pr_kind_parse("heaps") < 0 && pr_kind_parse("") < 0);
    for (int i = 0; i < NR; i++)
        free(bytes[i]);
    puts("test_pregions: ok");
    return 0;
}
