/*
 * fault.c — fault injection (issue 12, Driver Verifier's Low Resources
 * Simulation): the selected tags' or modules' requests fail with ENOMEM.
 *
 * (Base of issue 12: the interface only; nothing is failed yet.)
 */
#define _GNU_SOURCE
#include "rtstate.h"

int pt__fi_on;

uint32_t pt__fi_apply(void)
{
    return 0;
}

int pt__fi_env(void)
{
    return 0;
}

unsigned pt__fi_classify(uint32_t tidx, uint32_t rec)
{
    (void)tidx;
    (void)rec;
    return 0;
}

int pt__fi_fail(uint32_t tidx, uint32_t rec, uint64_t size)
{
    (void)tidx, (void)rec, (void)size;
    return 0;
}
