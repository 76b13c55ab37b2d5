/*
 * special.c — the special pool (issue 12): guard-page blocks for the
 * selected tags, sizes and modules, and sampled guard pages.
 *
 * (Base of issue 12: the interface only; the pool is not built yet, so no
 * allocation is ever placed here.)
 */
#define _GNU_SOURCE
#include "rtstate.h"

uintptr_t pt__sp_lo, pt__sp_len;
int pt__sp_on;
pt_seg_special *pt__spc;

uint32_t pt__sp_apply(void)
{
    return 0;
}

int pt__sp_env(void)
{
    return 0;
}

unsigned pt__sp_classify(uint32_t tidx, uint32_t rec)
{
    (void)tidx;
    (void)rec;
    return 0;
}

void *pt__sp_alloc(unsigned kinds, uint32_t rec, unsigned pool, size_t size, size_t alignment,
                   uint32_t tag, uint32_t idx, uint32_t sidx, int zero, const void *site,
                   int untagged)
{
    (void)kinds, (void)rec, (void)pool, (void)size, (void)alignment, (void)tag, (void)idx;
    (void)sidx, (void)zero, (void)site, (void)untagged;
    return NULL;
}

void pt__sp_lookup(uintptr_t addr, pt_sp_where *w)
{
    (void)addr;
    w->kind = 0;
    w->blk = UINT32_MAX;
    w->offset = 0;
}

void pt__sp_recover_open(uint32_t blk)
{
    (void)blk;
}
