/*
 * fuzz_procfs.c — the /proc line parsers of the reader (src/reader/procfs.c):
 * ptp_parse_stat, ptp_parse_status, ptp_parse_maps_line and the maps text
 * iterator, on arbitrary bytes.  The first byte picks the parser; the rest
 * is the text, copied into a buffer of exactly its size (stat, status: no
 * NUL after it, so ASan sees any read past the length) or NUL terminated
 * (maps).  Besides "no crash", the results must hold what procfs.h
 * promises: a NUL-terminated comm within its array, end > start, a
 * 4-letter perms, a path length within the path, the " (deleted)" mark
 * only where it is.
 */
#include "procfs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_map(const ptp_map *m)
{
    if (m->end <= m->start || strlen(m->perms) != 4 || !m->path ||
        m->pathlen > strlen(m->path))
        abort();
    if (m->deleted && strcmp(m->path + m->pathlen, " (deleted)") != 0)
        abort();
    if (ptp_map_is_segment(m) && (!m->deleted || strncmp(m->path, "/memfd:", 7) != 0))
        abort();
    if (ptp_map_is_file(m) && (m->path[0] != '/' || m->inode == 0 || ptp_map_is_segment(m)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 4;
    data++;
    size--;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    switch (which) {
    case 0: {
        ptp_stat st;
        if (ptp_parse_stat(buf, size, &st) == 0) {
            if (strnlen(st.comm, sizeof st.comm) >= sizeof st.comm)
                abort();
        } else if (st.pid != 0 || st.start != 0 || st.state != 0) {
            abort();
        }
        break;
    }
    case 1: {
        ptp_status st;
        ptp_parse_status(buf, size, &st);
        if (st.nuid < 0 || st.nuid > 4 || st.ngid < 0 || st.ngid > 4 ||
            st.vm.commit_kb != st.vm.vmdata_kb + st.vm.vmstk_kb)
            abort();
        break;
    }
    case 2: {
        ptp_map m;
        buf[size] = 0;
        if (ptp_parse_maps_line(buf, &m) == 0)
            check_map(&m);
        break;
    }
    default: {
        ptp_maps it;
        ptp_map m;
        buf[size] = 0;
        ptp_maps_text(&it, buf);
        while (ptp_maps_next(&it, &m))
            check_map(&m);
        ptp_maps_close(&it);
        break;
    }
    }
    free(buf);
    return 0;
}
