/*
 * sitename.c — call sites named as `pooltag sites` names them
 * (sitename.h).
 */
#include "sitename.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Is process `pid` still running with the segment this snapshot came from? */
static int same_process_running(const ptr_view *v)
{
    char spec[16], err[256];
    ptr_source *s;
    ptr_view lv;
    int same = 0;
    if (!v->pid)
        return 0;
    snprintf(spec, sizeof spec, "%" PRIu32, v->pid);
    if (ptr_open(spec, &s, err, sizeof err) < 0)
        return 0;
    memset(&lv, 0, sizeof lv);
    if (ptr_read(s, &lv, err, sizeof err) == 0)
        same = lv.pid == v->pid && lv.start_ns == v->start_ns;
    ptr_view_free(&lv);
    ptr_close(s);
    return same;
}

void site_symbols(sym_ctx *sc, ptr_source *src, const ptr_view *v, uint32_t tag,
                  const char **with, char *note, size_t size)
{
    char err[256];
    int have_table = v->nmodules > 0, have_maps = 0;
    note[0] = 0;
    for (size_t i = v->nmodules; i-- > 0;) {
        const pt_seg_module *m = &v->modules[i];
        if (!m->path[0] || m->end <= m->start)
            continue;
        unsigned flags = (m->flags & PT_MOD_UNLOADED) ? SYM_UNLOADED : 0;
        if (tag && m->tag == tag)
            flags |= SYM_PREFERRED;
        if (sym_add_module(sc, m->path, NULL, m->base, m->start, m->end, m->build_id,
                           m->build_id_len, flags) < 0)
            break;
    }
    if (ptr_kind(src) == PTR_LIVE) {
        if (sym_add_proc_maps(sc, ptr_pid(src), err, sizeof err) >= 0)
            have_maps = 1;
        else if (!have_table)
            snprintf(note, size, "Addresses are not symbolized: %s.", err);
    } else if (!have_table) {
        if (same_process_running(v) && sym_add_proc_maps(sc, v->pid, err, sizeof err) >= 0) {
            have_maps = 1;
            snprintf(note, size,
                     "The snapshot has no module table; addresses were named with the "
                     "modules of process %" PRIu32 ", which is still running.",
                     v->pid);
        } else {
            snprintf(note, size,
                     "Addresses are not symbolized: the snapshot has no module table (the "
                     "program was linked with libpooltag, not run under the preload) and "
                     "process %" PRIu32 " is no longer running (or cannot be read).  Read "
                     "the PID live, or read the snapshot while the process runs.",
                     v->pid);
        }
    }
    *with = have_table && have_maps ? "module table and process maps"
            : have_table            ? "module table"
            : have_maps             ? "process maps"
                                    : "none";
}

const char *site_special(const struct ptr_site *s)
{
    if (s->overflow)
        return "(overflow site: tag table or site table full)";
    if (s->addr == 0)
        return "(other sites: site table full)";
    return NULL;
}

void site_lookup(sym_ctx *sc, const struct ptr_site *s, site_name *n)
{
    memset(n, 0, sizeof *n);
    n->have_modules = sym_nmodules(sc) > 0;
    if (!site_special(s))
        sym_lookup(sc, s->addr, 1, &n->sym);
}

/* module!symbol+0xoff, module+0xoff or "?" */
static void name_text(const site_name *n, char *buf, size_t size)
{
    const sym_info *y = &n->sym;
    if (y->module && y->symbol)
        snprintf(buf, size, "%s!%s+0x%" PRIx64, y->module, y->symbol, y->symoff);
    else if (y->module)
        snprintf(buf, size, "%s+0x%" PRIx64, y->module, y->modoff);
    else if (n->have_modules)
        snprintf(buf, size, "?");   /* no module maps the address */
    else
        buf[0] = 0;                 /* nothing to name it with: see the note */
}

void site_cell(const struct ptr_site *s, const site_name *n, char *buf, size_t size)
{
    /* Each part escaped (cli_esc: at most CLI_ESC_MAX bytes). */
    char name[1024];
    const sym_info *y = &n->sym;
    const char *special = site_special(s);
    size_t o = 0;
    if (special) {
        snprintf(buf, size, "  %s", special);
        return;
    }
    name_text(n, name, sizeof name);
    buf[0] = 0;
    if (*name)
        o += (size_t)snprintf(buf + o, size - o, "  %s", cli_esc(name));
    if (y->file && o < size)
        o += (size_t)snprintf(buf + o, size - o, "  %s:%d", cli_esc(y->file), y->line);
    if (y->note && o < size)
        snprintf(buf + o, size - o, "  [%s]", cli_esc(y->note));
}

void site_addr_cell(const struct ptr_site *s, char *buf, size_t size)
{
    if (site_special(s))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "0x%012" PRIx64, s->addr);
}

/* A hex JSON member ("0x..."), or null when the value is unknown. */
static void kv_hex(emitter *e, const char *key, int known, uint64_t v)
{
    if (known)
        emit_kv_hex(e, key, v);
    else
        emit_kv_null(e, key);
}

void site_emit_name(emitter *e, const struct ptr_site *s, const site_name *n)
{
    const sym_info *y = &n->sym;
    kv_hex(e, "address", !site_special(s), s->addr);
    emit_kv_bool(e, "other_sites", s->addr == 0 && !s->overflow);
    emit_kv_bool(e, "overflow", s->overflow != 0);
    emit_kv_str(e, "module", y->module);
    emit_kv_str(e, "path", y->path);
    kv_hex(e, "module_offset", y->module != NULL, y->modoff);
    emit_kv_str(e, "symbol", y->symbol);
    if (y->symbol)
        emit_kv_u64(e, "symbol_offset", y->symoff);
    else
        emit_kv_null(e, "symbol_offset");
    emit_kv_str(e, "file", y->file);
    if (y->file)
        emit_kv_i64(e, "line", y->line);
    else
        emit_kv_null(e, "line");
    emit_kv_str(e, "note", y->note);
}
