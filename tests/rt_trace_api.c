/* rt_trace_api — hit tags and pool tracking through the pt_* API of
 * libpooltag (linked, so that it runs instrumented in the sanitizer build):
 * traced blocks of every entry point (pt_alloc, pt_calloc, pt_alloc_aligned,
 * pt_realloc, the nonpaged pool) behave like untraced ones, are recorded
 * with the caller as frame[0], and their tracked records and module
 * statistics come and go with them.  Run with PT_HIT=ApiT
 * PT_VERIFY=rt_trace_api (tests/trace.cmake). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "pooltag.h"
#include "pt_test.h"
#include "segment.h"

static char maps[1 << 16];

static pt_seg_header *seg(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    CHECK(fd >= 0);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, maps + n, sizeof maps - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    maps[n] = 0;
    char *l = strstr(maps, PT_SEG_MEMFD_SHOWN);
    CHECK(l != NULL);
    while (l > maps && l[-1] != '\n')
        l--;
    return (pt_seg_header *)(uintptr_t)strtoull(l, NULL, 16);
}

static void *volatile sink;
static void *leaf_ra;

__attribute__((noinline)) void *api_leaf(size_t n)
{
    leaf_ra = __builtin_return_address(0);
    void *p = pt_alloc(PT_PAGED, n, PT_TAG("ApiT"));
    sink = p;
    return p;
}

static const char *fname(uint64_t a)
{
    Dl_info di;
    return dladdr((void *)(uintptr_t)a, &di) && di.dli_sname ? di.dli_sname : "?";
}

int main(void)
{
    const uint32_t tag = PT_TAG("ApiT");
    char *p = api_leaf(40);
    pt_seg_header *h = seg();
    pt_seg_control *c = (pt_seg_control *)((char *)h + h->control_off);
    pt_seg_ring *R = (pt_seg_ring *)((char *)h + h->rings_off);
    CHECK(c->hit_n == 1 && c->verify_n == 1 && c->verify_matched == 1);
    CHECK(R[PT_RING_HIT].head == 1);
    pt_seg_rec *rec = (pt_seg_rec *)((char *)h + R[PT_RING_HIT].records_off);
    CHECK(rec[0].seq == 1 && rec[0].op == PT_OP_ALLOC && rec[0].addr == (uintptr_t)p &&
          rec[0].size == 40 && rec[0].tag == tag && rec[0].stack != 0 && rec[0].module != 0);
    uint64_t slot = ((uint64_t *)((char *)h + h->stacks_off))[rec[0].stack - 1];
    const uint64_t *f = (uint64_t *)((char *)h + h->frames_off) + pt_stk_off(slot);
    CHECK(pt_stk_depth(slot) >= 2);
    CHECK(strcmp(fname(f[0]), "api_leaf") == 0 && f[1] == (uintptr_t)leaf_ra);
    CHECK(pt_tag_of(p) == tag && pt_size_of(p) == 40 && pt_pool_of(p) == PT_PAGED);
    memset(p, 0x5a, 40);

    char *z = pt_calloc(PT_PAGED, 10, 10, tag);
    for (int i = 0; i < 100; i++)
        CHECK(z[i] == 0);
    char *a = pt_alloc_aligned(PT_PAGED, 100, 256, tag);
    CHECK(a && ((uintptr_t)a & 255) == 0 && pt_size_of(a) == 100);
    memset(a, 1, 100);
    char *np = pt_alloc(PT_NONPAGED, 64, tag);
    CHECK(np && pt_pool_of(np) == PT_NONPAGED);
    memset(np, 2, 64);
    char *q = pt_realloc(p, 4000);
    CHECK(q && q[0] == 0x5a && q[39] == 0x5a && pt_size_of(q) == 4000);
    q = pt_realloc(q, 8);
    CHECK(q && q[7] == 0x5a && pt_size_of(q) == 8);
    void *u = pt_alloc(PT_PAGED, 10, 0); /* untagged: None */

    pt_seg_vstat *vs = (pt_seg_vstat *)((char *)h + h->vstats_off);
    pt_seg_module *m = (pt_seg_module *)((char *)h + h->modules_off);
    uint32_t me = UINT32_MAX;
    for (uint32_t i = 0; i < h->modules_used; i++)
        if (strstr(m[i].path, "rt_trace_api") && (m[i].flags & PT_MOD_MAIN))
            me = i;
    CHECK(me != UINT32_MAX && (vs[me].flags & PT_VS_VERIFIED));
    /* p, z, a, np, 2 reallocs, u: 7 attempts; p went at the first realloc */
    CHECK_EQ_U(vs[me].attempted, 7);
    CHECK_EQ_U(vs[me].succeeded, 7);
    CHECK_EQ_U(vs[me].untagged, 1);
    CHECK_EQ_U(vs[me].frees, 2);
    CHECK_EQ_U(vs[me].pool[PT_PAGED].cur_blocks, 4);
    CHECK_EQ_U(vs[me].pool[PT_NONPAGED].cur_blocks, 1);
    CHECK_EQ_U(c->tracked_used, 5);

    pt_free(q);
    pt_free(z);
    pt_free(a);
    pt_free(np);
    pt_free(u);
    CHECK_EQ_U(c->tracked_used, 0);
    CHECK(vs[me].pool[PT_PAGED].cur_blocks == 0 && vs[me].pool[PT_PAGED].cur_bytes == 0 &&
          vs[me].pool[PT_NONPAGED].cur_blocks == 0);
    pt_tag_info ti;
    CHECK(pt_tag_read(tag, &ti) == 0);
    CHECK_EQ_U(ti.pool[PT_PAGED].allocs, 5);
    CHECK_EQ_U(ti.pool[PT_PAGED].frees, 5);
    CHECK_EQ_U(ti.pool[PT_PAGED].bytes_alloc, ti.pool[PT_PAGED].bytes_freed);
    CHECK_EQ_U(ti.pool[PT_NONPAGED].frees, 1);
    /* every hit event recorded: 6 allocations of ApiT, 6 frees */
    CHECK_EQ_U(R[PT_RING_HIT].head, 12);
    CHECK(c->stacks_dropped == 0 && c->bad_settings == 0);
    printf("ok\n");
    return 0;
}
