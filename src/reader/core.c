/*
 * core.c — pimg.h's core backend: an ELF core file (stub until issue 13's
 * core reader lands).
 */
#include "pimg.h"
#include "pimg_priv.h"
#include "ptread.h"

int pim_open_core(const char *path, unsigned flags, pim **out, char *err,
                  size_t errlen)
{
    (void)flags;
    *out = NULL;
    return ptr__fail(err, errlen, "%s: core files cannot be read yet", path);
}

const uint8_t *pim__core_bytes(pim *p, const pim_region *r)
{
    (void)p;
    (void)r;
    return NULL;
}

void pim__core_close(pim *p)
{
    (void)p;
}
