/*
 * stacks.c — symbolizing and printing recorded call stacks (stacks.h).
 */
#include "stacks.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

sym_ctx *cli_stack_symbols(ptr_source *src, const ptr_view *v, int network,
                           const char **with)
{
    char err[256];
    sym_ctx *sc = sym_new(network);
    int table = 0, maps = 0;
    if (!sc)
        return NULL;
    /* Newest record first: after a dlclose and a dlopen at the same
     * address the loaded module is tried before the unloaded one. */
    for (size_t i = v->nmodules; i-- > 0;) {
        const pt_seg_module *m = &v->modules[i];
        if (!m->path[0] || m->end <= m->start)
            continue;
        unsigned flags = (m->flags & PT_MOD_UNLOADED) ? SYM_UNLOADED : 0;
        if (sym_add_module(sc, m->path, NULL, m->base, m->start, m->end, m->build_id,
                           m->build_id_len, flags) < 0)
            break;
        table = 1;
    }
    if (ptr_kind(src) == PTR_LIVE && sym_add_proc_maps(sc, ptr_pid(src), err, sizeof err) > 0)
        maps = 1;
    if (with)
        *with = table && maps ? "module table and process maps"
                : table       ? "module table"
                : maps        ? "process maps"
                              : "none";
    return sc;
}

/* ret: addr is a return address (looked up at addr - 1), else the
 * address of an instruction itself (a faulting pc). */
static const char *frame_text(sym_ctx *sc, uint64_t addr, int ret, char *buf, size_t size,
                              sym_info *si)
{
    sym_info tmp;
    if (!si)
        si = &tmp;
    sym_lookup(sc, addr, ret, si);
    if (si->module && si->symbol)
        snprintf(buf, size, "%s!%s+0x%" PRIx64, cli_esc(si->module), cli_esc(si->symbol),
                 si->symoff);
    else if (si->module)
        snprintf(buf, size, "%s+0x%" PRIx64, cli_esc(si->module), si->modoff);
    else
        snprintf(buf, size, "0x%" PRIx64, addr);
    return buf;
}

const char *cli_frame_text(sym_ctx *sc, uint64_t addr, char *buf, size_t size,
                           sym_info *si)
{
    return frame_text(sc, addr, 1, buf, size, si);
}

void cli_emit_stack(emitter *e, sym_ctx *sc, const uint64_t *frames,
                    uint32_t depth, const char *indent)
{
    cli_emit_stack_pc(e, sc, frames, depth, indent, 0);
}

void cli_emit_stack_pc(emitter *e, sym_ctx *sc, const uint64_t *frames,
                       uint32_t depth, const char *indent, int first_is_pc)
{
    char text[1024];
    sym_info si;
    if (emit_json(e))
        emit_arr_begin(e, "frames");
    for (uint32_t i = 0; i < depth; i++) {
        frame_text(sc, frames[i], !(i == 0 && first_is_pc), text, sizeof text, &si);
        if (emit_json(e)) {
            emit_obj_begin(e, NULL);
            emit_kv_hex(e, "addr", frames[i]);
            emit_kv_str(e, "module", si.module);
            emit_kv_str(e, "symbol", si.symbol);
            if (si.symbol)
                emit_kv_u64(e, "offset", si.symoff);
            else
                emit_kv_null(e, "offset");
            emit_kv_str(e, "file", si.file);
            if (si.file)
                emit_kv_u64(e, "line", (uint64_t)si.line);
            else
                emit_kv_null(e, "line");
            emit_obj_end(e);
        } else if (si.file) {
            emit_text(e, "%s#%-2" PRIu32 " 0x%012" PRIx64 "  %s  %s:%d\n", indent, i,
                      frames[i], text, cli_esc(si.file), si.line);
        } else {
            emit_text(e, "%s#%-2" PRIu32 " 0x%012" PRIx64 "  %s\n", indent, i, frames[i],
                      text);
        }
    }
    if (emit_json(e))
        emit_arr_end(e);
}

const char *cli_time_text(uint64_t ns, char *buf, size_t size)
{
    time_t s = (time_t)(ns / 1000000000u);
    struct tm tm;
    char day[32];
    if (!localtime_r(&s, &tm) || !strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(day, sizeof day, "%" PRIu64, ns / 1000000000u);
    snprintf(buf, size, "%s.%06" PRIu64, day, (ns % 1000000000u) / 1000u);
    return buf;
}
