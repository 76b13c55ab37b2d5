/*
 * snapshot.c — the snapshot file: writing it, and finding the segment in it.
 *
 * Data model (docs/snapshot-format.md is the same for people)
 * ----------
 * A snapshot is a small fixed header followed by the segment image exactly
 * as it was read from the live process (the prefix that ends with the last
 * shard in use).  All integers are native little-endian.
 *
 *     off  size  field
 *       0     8  magic        "PTSNAP\0\0"
 *       8     4  version      1
 *      12     4  header_size  128 (a reader accepts more: later fields)
 *      16     8  taken_ns     CLOCK_REALTIME when the reading was taken
 *      24     4  pid
 *      28     4  flags        bit 0: the process figures below are valid
 *      32    16  comm         process name (/proc/PID/comm), NUL padded
 *      48     8  rss_kb       VmRSS
 *      56     8  vmsize_kb    VmSize
 *      64     8  vmdata_kb    VmData
 *      72     8  vmstk_kb     VmStk
 *      80     8  vmlck_kb     VmLck
 *      88     8  vmhwm_kb     VmHWM
 *      96     8  commit_kb    VmData + VmStk
 *     104     8  seg_off      where the segment image starts (>= header_size)
 *     112     8  seg_len      its length; seg_off + seg_len = file size
 *     120     4  crc32        CRC-32 (zlib's) of header_size header bytes with
 *                             this field zeroed, then of the segment image
 *     124     4  reserved     0
 *
 * Invariants: a snapshot parses with the same ptr_parse as a live reading;
 * `pooltag snap` writes it to a temporary file in the target directory and
 * renames it (cli_out_open in src/lib/util.c), so a reader never sees half a
 * snapshot under the final name.
 *
 * Note: the checksum is not verified in fuzzing builds
 * (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION), so that the fuzzer reaches the
 * segment parser through the snapshot path.
 */
#include "ptread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SNAP_MAGIC "PTSNAP\0\0"
#define SNAP_MAGIC_LEN 8
#define SNAP_VERSION 1u
#define SNAP_FLAG_PROC 0x1u

typedef struct snap_header {
    char magic[SNAP_MAGIC_LEN];
    uint32_t version;
    uint32_t header_size;
    uint64_t taken_ns;
    uint32_t pid;
    uint32_t flags;
    char comm[16];
    uint64_t rss_kb, vmsize_kb, vmdata_kb, vmstk_kb, vmlck_kb, vmhwm_kb;
    uint64_t commit_kb;
    uint64_t seg_off;
    uint64_t seg_len;
    uint32_t crc32;
    uint32_t reserved;
} snap_header;

_Static_assert(sizeof(snap_header) == 128, "snapshot header is 128 bytes");
_Static_assert(offsetof(snap_header, crc32) == 120, "crc32 at 120");

#define fail ptr__fail

/* Zero runs of this many bytes are left as holes (ptr_snapshot_write). */
#define SNAP_CHUNK 4096u

static int all_zero(const char *p, size_t n)
{
    static const char zero[SNAP_CHUNK];
    return memcmp(p, zero, n) == 0;
}

/* CRC-32, polynomial 0xedb88320 (the one of zlib, gzip and PNG), eight
 * bytes at a time ("slicing by 8": table k gives the CRC of a byte
 * followed by k zero bytes), since a snapshot holds the whole segment
 * (tens of MB with the rings and the stack table). */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                              crc_table[0][crc_table[t - 1][i] & 0xff];
}

static uint32_t crc32_update(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    if (crc_table[0][1] == 0)
        crc_init();
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 |
                             (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
              crc_table[3][b[4]] ^ crc_table[2][b[5]] ^ crc_table[1][b[6]] ^
              crc_table[0][b[7]];
        b += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_table[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t snap_crc(const void *hdr, size_t hdrlen, const void *seg,
                         size_t seglen)
{
    static const unsigned char zero[4];
    const char *h = hdr;
    size_t at = offsetof(snap_header, crc32);
    uint32_t crc = crc32_update(0, h, at);
    crc = crc32_update(crc, zero, sizeof zero);
    crc = crc32_update(crc, h + at + 4, hdrlen - at - 4);
    return crc32_update(crc, seg, seglen);
}

int ptr_snapshot_decode(const void *buf, size_t len, const void **seg,
                        size_t *seglen, ptr_snapinfo *info, char *err,
                        size_t errlen)
{
    snap_header h;

    memset(info, 0, sizeof *info);
    if (len == 0)
        return fail(err, errlen, "empty file, not a pooltag snapshot");
    if (len >= PT_SEG_MAGIC_LEN &&
        memcmp(buf, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN) == 0) {
        /* A bare segment image (e.g. dumped from /proc/PID/map_files). */
        info->raw = 1;
        *seg = buf;
        *seglen = len;
        return 0;
    }
    if (memcmp(buf, SNAP_MAGIC, len < SNAP_MAGIC_LEN ? len : SNAP_MAGIC_LEN))
        return fail(err, errlen, "not a pooltag snapshot (bad magic)");
    if (len < sizeof h)
        return fail(err, errlen,
                    "truncated snapshot: %zu bytes, the header alone is %zu",
                    len, sizeof h);
    memcpy(&h, buf, sizeof h);
    if (h.version != SNAP_VERSION)
        return fail(err, errlen,
                    "snapshot version %u is not supported (this pooltag "
                    "reads version %u)",
                    h.version, SNAP_VERSION);
    if (h.header_size < sizeof h || h.header_size > (1u << 20))
        return fail(err, errlen, "corrupt snapshot: bad header size %u",
                    h.header_size);
    if (h.seg_off < h.header_size)
        return fail(err, errlen,
                    "corrupt snapshot: segment offset %llu inside the header",
                    (unsigned long long)h.seg_off);
    uint64_t end;
    if (__builtin_add_overflow(h.seg_off, h.seg_len, &end))
        return fail(err, errlen, "corrupt snapshot: segment length overflows");
    if (h.header_size > len || end > len)
        return fail(err, errlen,
                    "truncated snapshot: %zu bytes, the header says %llu",
                    len, (unsigned long long)(end > h.header_size ? end : h.header_size));
    if (end < len)
        return fail(err, errlen,
                    "corrupt snapshot: %llu bytes of trailing data",
                    (unsigned long long)(len - end));
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    uint32_t crc = snap_crc(buf, h.header_size, (const char *)buf + h.seg_off,
                            h.seg_len);
    if (crc != h.crc32)
        return fail(err, errlen,
                    "corrupt snapshot: checksum mismatch (stored %08x, "
                    "computed %08x)",
                    h.crc32, crc);
#endif
    info->taken_ns = h.taken_ns;
    info->pid = h.pid;
    memcpy(info->comm, h.comm, sizeof h.comm);
    info->comm[sizeof h.comm] = 0;
    if (h.flags & SNAP_FLAG_PROC) {
        info->proc.valid = 1;
        info->proc.rss_kb = h.rss_kb;
        info->proc.vmsize_kb = h.vmsize_kb;
        info->proc.vmdata_kb = h.vmdata_kb;
        info->proc.vmstk_kb = h.vmstk_kb;
        info->proc.vmlck_kb = h.vmlck_kb;
        info->proc.vmhwm_kb = h.vmhwm_kb;
        info->proc.commit_kb = h.commit_kb;
    }
    *seg = (const char *)buf + h.seg_off;
    *seglen = h.seg_len;
    return 0;
}

int ptr_parse_snapshot(const void *buf, size_t len, ptr_view *v, char *err,
                       size_t errlen)
{
    const void *seg = NULL; /* (set on success; gcc -O3 cannot tell) */
    size_t seglen = 0;
    ptr_snapinfo info;

    memset(v, 0, sizeof *v);
    if (ptr_snapshot_decode(buf, len, &seg, &seglen, &info, err, errlen) < 0)
        return -1;
    if (ptr_parse(seg, seglen, v, err, errlen) < 0)
        return -1;
    v->kind = PTR_SNAPSHOT;
    if (!info.raw) {
        v->taken_ns = info.taken_ns;
        v->proc = info.proc;
    }
    return 0;
}

int ptr_snapshot_write(FILE *f, const void *seg, size_t seglen,
                       const ptr_proc *proc, uint32_t pid, const char *comm,
                       char *err, size_t errlen)
{
    snap_header h;
    struct timespec ts;

    memset(&h, 0, sizeof h);
    memcpy(h.magic, SNAP_MAGIC, SNAP_MAGIC_LEN);
    h.version = SNAP_VERSION;
    h.header_size = sizeof h;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.taken_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    h.pid = pid;
    if (comm) {
        size_t n = strlen(comm);
        memcpy(h.comm, comm, n < sizeof h.comm ? n : sizeof h.comm);
    }
    if (proc && proc->valid) {
        h.flags |= SNAP_FLAG_PROC;
        h.rss_kb = proc->rss_kb;
        h.vmsize_kb = proc->vmsize_kb;
        h.vmdata_kb = proc->vmdata_kb;
        h.vmstk_kb = proc->vmstk_kb;
        h.vmlck_kb = proc->vmlck_kb;
        h.vmhwm_kb = proc->vmhwm_kb;
        h.commit_kb = proc->commit_kb;
    }
    h.seg_off = sizeof h;
    h.seg_len = seglen;
    h.crc32 = snap_crc(&h, sizeof h, seg, seglen);

    errno = 0;
    if (fwrite(&h, 1, sizeof h, f) != sizeof h)
        goto werr;
    /* Pages of zeros (the mostly untouched stack table, rings and tracked
     * records) are skipped with a seek, leaving holes in a regular file:
     * the file reads back the same, byte for byte (same format, same
     * checksum), without storing them.  Where the output cannot seek, the
     * zeros are written. */
    const char *p = seg;
    size_t at = 0;
    int hole = 0, can_seek = 1;
    while (at < seglen) {
        size_t n = seglen - at < SNAP_CHUNK ? seglen - at : SNAP_CHUNK;
        if (can_seek && n == SNAP_CHUNK && all_zero(p + at, n)) {
            if (fseeko(f, (off_t)n, SEEK_CUR) == 0) {
                hole = 1;
                at += n;
                continue;
            }
            can_seek = 0;
        }
        if (fwrite(p + at, 1, n, f) != n)
            goto werr;
        hole = 0;
        at += n;
    }
    if (hole) {
        /* The file ends in a hole: give it its length. */
        off_t end = ftello(f);
        if (end < 0 || fflush(f) != 0 || ftruncate(fileno(f), end) < 0)
            goto werr;
    }
    return 0;
werr:
    return fail(err, errlen, "%s", strerror(errno ? errno : EIO));
}
