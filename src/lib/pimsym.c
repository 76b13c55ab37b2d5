/*
 * pimsym.c — pimsym.h: a pim's modules into a symbolizer.
 */
#include "pimsym.h"

#include "procfs.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

static sym_ctx *symbols(const pim *p, int network, pim *bss)
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
        uint64_t end = bss ? pim_module_bss_end(bss, m) : m->end;
        if (sym_add_module(c, m->path, open_path, m->base, m->start, end,
                           m->build_id_len ? m->build_id : NULL, m->build_id_len,
                           SYM_BASE_IS_START) < 0) {
            sym_free(c);
            return NULL;
        }
    }
    return c;
}

sym_ctx *pim_symbols(const pim *p, int network)
{
    return symbols(p, network, NULL);
}

sym_ctx *pim_symbols_bss(pim *p, int network)
{
    return symbols(p, network, p);
}

uint64_t pim_module_bss_end(pim *p, const pim_module *m)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    if (pim_read_all(p, m->base, &eh, sizeof eh) < 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum == 0 || eh.e_phnum > 64 || eh.e_phoff > (1u << 20) ||
        pim_read_all(p, m->base + eh.e_phoff, ph, eh.e_phnum * sizeof ph[0]) < 0)
        return m->end;
    uint64_t bias = 0, load_end = 0;
    int first = 1;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (first)
            bias = m->base - (ph[i].p_vaddr & ~(uint64_t)0xfff);
        first = 0;
        if (ph[i].p_memsz > (1ull << 40) || ph[i].p_vaddr > (1ull << 47))
            return m->end;
        uint64_t e = bias + ph[i].p_vaddr + ph[i].p_memsz;
        if (e > load_end)
            load_end = e;
    }
    load_end = (load_end + 0xfff) & ~(uint64_t)0xfff;
    uint64_t end = m->end;
    for (;;) {
        const pim_region *r = pim_region_at(p, end);
        if (!r || r->start != end || r->end > load_end || (r->flags & PIM_RF_FILE) ||
            (r->path && r->path[0] && strncmp(r->path, "[anon:", 6) != 0))
            return end;
        end = r->end;
    }
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
