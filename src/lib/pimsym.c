/*
 * pimsym.c — pimsym.h: a pim's modules into a symbolizer.
 */
#include "pimsym.h"

#include "procfs.h"

#include <stdio.h>

sym_ctx *pim_symbols(const pim *p, int network)
{
    sym_ctx *c = sym_new(network);
    if (!c)
        return NULL;
    for (size_t i = 0; i < p->nmodules; i++) {
        const pim_module *m = &p->modules[i];
        const char *open_path = NULL;
        char mf[PTP_PATH_SIZE + 48];
        const pim_region *r = pim_region_at(p, m->base);
        if (p->kind == PIM_LIVE && r && (r->flags & PIM_RF_DELETED))
            open_path = ptp_map_files_path(mf, sizeof mf, p->pid, r->start, r->end);
        if (sym_add_module(c, m->path, open_path, m->base, m->start, m->end,
                           m->build_id_len ? m->build_id : NULL, m->build_id_len,
                           SYM_BASE_IS_START) < 0) {
            sym_free(c);
            return NULL;
        }
    }
    return c;
}

size_t pim_symbols_warn(sym_ctx *c, const char *verb)
{
    size_t n = 0;
    for (size_t i = 0; i < sym_nmodules(c); i++) {
        sym_modinfo mi;
        if (sym_module_info(c, i, SYM_INFO_FILE, &mi) < 0 || mi.usable > 0)
            continue;
        if (mi.path && mi.path[0] != '/')
            continue; /* the vDSO and the like: no file to read */
        fprintf(stderr, "pooltag %s: warning: %s\n", verb,
                mi.note ? mi.note : "a module's file cannot be read");
        n++;
    }
    return n;
}
