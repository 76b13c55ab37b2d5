/*
 * pimg_priv.h — what pimg.c (live and memory backends) and core.c (the
 * core backend) share behind pimg.h.  Not for the verbs.
 */
#ifndef PT_PIMG_PRIV_H
#define PT_PIMG_PRIV_H

#include "pimg.h"

typedef struct pim_core pim_core;   /* core.c's state */

typedef struct pim_priv {
    /* strings owned by the pim (region paths, module paths, source) */
    char **strings;
    size_t nstrings;
    size_t cap_regions;
    /* live */
    int memfd;                 /* /proc/PID/mem, -1 */
    unsigned long long start;  /* start time: a recycled PID is not ours */
    int gone;
    int seized;                /* some threads are ptrace-seized */
    uint64_t stop_t0;
    /* memory: bytes per region, indexed by pim_region.core_off */
    const void **bytes;
    size_t nbytes;
    /* core */
    pim_core *core;
} pim_priv;

/* pim_thread.have_regs is -1 while a live thread is seized and its
 * registers not (yet) read. */

pim *pim__new(int kind);
/* A copy of s[0..n) owned by p (freed by pim_close). */
char *pim__strdup(pim *p, const char *s, size_t n);
int pim__add_region(pim *p, const pim_region *r);
void pim__sort_regions(pim *p);
int pim__find_modules(pim *p);
/* The bytes of region r (core and memory kinds), r->avail of them. */
const uint8_t *pim__region_bytes(pim *p, const pim_region *r);

/* core.c */
const uint8_t *pim__core_bytes(pim *p, const pim_region *r);
void pim__core_close(pim *p);

#endif
