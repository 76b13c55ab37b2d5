/*
 * test_reader_parse.c — the segment parser and the snapshot format, on
 * images built here byte by byte from src/common/segment.h.
 *
 * A valid image has two shards in use plus a third, beyond shard_hw, full of
 * counts that must be ignored; the fields of version 1's retired regions
 * and fold_seq set to values that must be ignored; an overflow entry; pool
 * records; an error ring filled out of order.  The sums are checked, then
 * the image is damaged in every way we can name (magic, version, every
 * truncation length, each offset out of range / misaligned / overlapping,
 * huge capacities, random byte flips) and each damage must give an error
 * message, never a crash (this test also runs under ASan+UBSan in the
 * sanitizer build).
 *
 * Modes:
 *   test_reader_parse                    run the tests
 *   test_reader_parse --write-snapshot F write the sample snapshot to F (for
 *                                        the CLI tests)
 *   test_reader_parse --write-seeds DIR  write fuzz seeds (raw, snapshot)
 */
#include "ptread.h"
#include "pt_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TAGS 8
#define MAX_SHARDS 4
#define SHARD_HW 2

typedef struct image {
    char *buf;
    size_t len;       /* bytes up to the end of shard SHARD_HW - 1   */
    size_t full;      /* seg_size                                    */
} image;

static pt_seg_header *hdr(image *im)
{
    return (pt_seg_header *)im->buf;
}

static pt_seg_counts *shard(image *im, uint32_t s, uint32_t i)
{
    pt_seg_header *h = hdr(im);
    return pt_seg_shard_counts(im->buf + h->shards_off + s * h->shard_stride,
                               i);
}

static void set_counts(pt_seg_counts *c, int pool, uint64_t allocs,
                       uint64_t frees, uint64_t ba, uint64_t bf)
{
    c->pool[pool] = (pt_seg_pool_counts){allocs, frees, ba, bf};
}

/* The fields every sample header shares: identity, capacities and the
 * regions up to the tag statistics. */
static void header_init(pt_seg_header *hp, uint32_t pid)
{
    uint64_t ntags = MAX_TAGS + 1;
    pt_seg_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN);
    h.version = PT_SEG_VERSION;
    h.header_size = PT_SEG_HEADER_SIZE;
    h.page_size = 4096;
    h.pid = pid;
    h.start_ns = 1700000000000000000ull;
    h.max_tags = MAX_TAGS;
    h.max_shards = MAX_SHARDS;
    h.shard_hw = SHARD_HW;
    h.pools_off = PT_SEG_HEADER_SIZE;
    h.errors_off = h.pools_off + PT_SEG_NPOOLS * sizeof(pt_seg_pool);
    h.keys_off = h.errors_off + PT_SEG_ERRORS * sizeof(pt_seg_error);
    h.tagstat_off = pt_seg_align(h.keys_off + ntags * 4, PT_SEG_LINE);
    *hp = h;
}

/* A zeroed image of the segment h describes, with h in front. */
static void image_init(image *im, const pt_seg_header *h)
{
    im->full = h->seg_size;
    im->len = h->shards_off + SHARD_HW * h->shard_stride;
    im->buf = aligned_alloc(64, im->full);
    CHECK(im->buf);
    memset(im->buf, 0, im->full);
    memcpy(im->buf, h, sizeof *h);
}

/* The sample: tags Leak (nonpaged), Cach (paged), "Se  " (both), an unknown
 * "Zq\x01!" tag, and the overflow entry.  Entry 2 is empty. */
static void build(image *im)
{
    uint64_t ntags = MAX_TAGS + 1;
    pt_seg_header h;
    header_init(&h, 4242);
    h.reserved_off0 = 1; /* version 1's retired_off: ignored */
    h.shards_off = h.tagstat_off + ntags * sizeof(pt_seg_tagstat);
    h.shard_stride = pt_seg_shard_stride(MAX_TAGS);
    h.seg_size = h.shards_off + MAX_SHARDS * h.shard_stride;
    h.peak_grain = 65536;
    h.tags_used = 4;
    h.errors_total = 3;
    h.check_key = 7; /* version 1's fold_seq (odd: "folding"): ignored */
    h.threads_started = 3;
    h.threads_exited = 1;
    memcpy(h.comm, "sixteen-chars-xx", 16); /* no NUL: the parser adds one */
    snprintf(h.exe, sizeof h.exe, "/usr/bin/sample");

    image_init(im, &h);

    uint32_t *keys = (uint32_t *)(im->buf + h.keys_off);
    keys[0] = PT_TAG("Leak");
    keys[1] = PT_TAG("Cach");
    keys[3] = PT_TAG("Se");
    keys[4] = 'Z' | 'q' << 8 | 0x01 << 16 | (uint32_t)'!' << 24; /* Zq\x01! */

    /* Leak: nonpaged, in both shards in use. */
    set_counts(shard(im, 0, 0), PT_NONPAGED, 15, 1, 15360, 1024);
    set_counts(shard(im, 1, 0), PT_NONPAGED, 100, 0, 102400, 0);
    /* Shard 2 is beyond shard_hw: never counted. */
    set_counts(shard(im, 2, 0), PT_NONPAGED, 999999, 0, 999999, 0);
    /* Cach: paged, only in shard 1. */
    set_counts(shard(im, 1, 1), PT_PAGED, 16, 0, 262144, 0);
    /* Entry 2 has counts but no key: not a row. */
    set_counts(shard(im, 0, 2), PT_PAGED, 7, 0, 700, 0);
    /* "Se  ": both pools. */
    set_counts(shard(im, 1, 3), PT_PAGED, 40, 38, 4000, 3800);
    set_counts(shard(im, 0, 3), PT_NONPAGED, 3, 0, 48, 0);
    /* Unknown tag: a few paged bytes. */
    set_counts(shard(im, 1, 4), PT_PAGED, 2, 0, 20, 0);
    /* Overflow entry, key left 0 as a table that overflowed may have it. */
    set_counts(shard(im, 1, MAX_TAGS), PT_PAGED, 4, 1, 400, 100);

    pt_seg_tagstat *ts = (pt_seg_tagstat *)(im->buf + h.tagstat_off);
    ts[0].pool[PT_NONPAGED].peak = 50000;    /* below current: raised */
    ts[0].pool[PT_NONPAGED].failures = 3;
    ts[1].pool[PT_PAGED].peak = 300000;      /* above current: kept   */
    ts[MAX_TAGS].flags = PT_SEG_TAG_OVERFLOW;

    pt_seg_pool *pools = (pt_seg_pool *)(im->buf + h.pools_off);
    pools[PT_NONPAGED].limit = 131072;   /* usage 116736 > 80 %     */
    pools[PT_NONPAGED].failures = 3;
    pools[PT_NONPAGED].peak = 1000;
    pools[PT_PAGED].limit = 0;
    pools[PT_PAGED].peak = 10000000;

    pt_seg_error *ring = (pt_seg_error *)(im->buf + h.errors_off);
    ring[5] = (pt_seg_error){.seq = 3, .kind = PT_ERR_TAG_MISMATCH,
                             .tag = PT_TAG("Leak"), .tag2 = PT_TAG("Lea2"),
                             .size = 1024, .addr = 0x1000, .tid = 7};
    ring[2] = (pt_seg_error){.seq = 1, .kind = PT_ERR_DOUBLE_FREE,
                             .tag = PT_TAG("Cach"), .size = 16384};
    ring[9] = (pt_seg_error){.seq = 2, .kind = PT_ERR_BAD_POINTER};
}

static char err[512];

static int parse(const void *buf, size_t len, ptr_view *v)
{
    err[0] = 0;
    int r = ptr_parse(buf, len, v, err, sizeof err);
    if (r < 0) {
        CHECK(err[0] != 0);              /* every error says something  */
        CHECK(strchr(err, '\n') == NULL); /* ... on one line            */
        CHECK(v->tags == NULL);
    }
    return r;
}

static const pt_tag_info *find(const ptr_view *v, uint32_t tag)
{
    for (size_t i = 0; i < v->ntags; i++)
        if (v->tags[i].tag == tag)
            return &v->tags[i];
    return NULL;
}

static void check_sample(const ptr_view *v)
{
    CHECK_EQ_U(v->version, 2);
    CHECK_EQ_U(v->pid, 4242);
    CHECK_EQ_U(v->page_size, 4096);
    CHECK_EQ_U(v->max_tags, MAX_TAGS);
    CHECK(strcmp(v->comm, "sixteen-chars-xx") == 0);
    CHECK(strcmp(v->exe, "/usr/bin/sample") == 0);
    CHECK_EQ_U(v->errors_total, 3);
    CHECK_EQ_U(v->ntags, 5);

    const pt_tag_info *t = find(v, PT_TAG("Leak"));
    CHECK(t);
    CHECK_EQ_U(t->pool[PT_NONPAGED].allocs, 115);
    CHECK_EQ_U(t->pool[PT_NONPAGED].frees, 1);
    CHECK_EQ_U(t->pool[PT_NONPAGED].bytes_alloc, 117760);
    CHECK_EQ_U(t->pool[PT_NONPAGED].bytes_freed, 1024);
    CHECK_EQ_U(t->pool[PT_NONPAGED].peak, 116736);
    CHECK_EQ_U(t->pool[PT_NONPAGED].failures, 3);
    CHECK_EQ_U(t->pool[PT_PAGED].allocs, 0);

    t = find(v, PT_TAG("Cach"));
    CHECK(t);
    CHECK_EQ_U(t->pool[PT_PAGED].allocs, 16);
    CHECK_EQ_U(t->pool[PT_PAGED].bytes_alloc, 262144);
    CHECK_EQ_U(t->pool[PT_PAGED].peak, 300000);

    t = find(v, PT_TAG("Se"));
    CHECK(t);
    CHECK_EQ_U(t->pool[PT_PAGED].allocs, 40);
    CHECK_EQ_U(t->pool[PT_PAGED].frees, 38);
    CHECK_EQ_U(t->pool[PT_NONPAGED].bytes_alloc, 48);

    t = find(v, PT_TAG("Ovfl"));
    CHECK(t);
    CHECK(t->flags & PT_TAGINFO_OVERFLOW);
    CHECK_EQ_U(t->pool[PT_PAGED].allocs, 4);
    CHECK_EQ_U(t->pool[PT_PAGED].bytes_freed, 100);

    /* Pools: counts summed over rows (entry 2 has no key: not counted). */
    CHECK_EQ_U(v->pool[PT_NONPAGED].allocs, 118);
    CHECK_EQ_U(v->pool[PT_NONPAGED].bytes_alloc, 117808);
    CHECK_EQ_U(v->pool[PT_NONPAGED].limit, 131072);
    CHECK_EQ_U(v->pool[PT_NONPAGED].failures, 3);
    CHECK_EQ_U(v->pool[PT_NONPAGED].peak, 117808 - 1024);
    CHECK_EQ_U(v->pool[PT_PAGED].allocs, 16 + 40 + 2 + 4);
    CHECK_EQ_U(v->pool[PT_PAGED].bytes_alloc, 262144 + 4000 + 20 + 400);
    CHECK_EQ_U(v->pool[PT_PAGED].bytes_freed, 3800 + 100);
    CHECK_EQ_U(v->pool[PT_PAGED].peak, 10000000);
    CHECK_EQ_U(v->pool[PT_PAGED].limit, 0);

    CHECK_EQ_U(v->nerrors, 3);
    CHECK_EQ_U(v->errors[0].seq, 1);
    CHECK_EQ_U(v->errors[1].seq, 2);
    CHECK_EQ_U(v->errors[2].seq, 3);
    CHECK_EQ_U(v->errors[2].tag2, PT_TAG("Lea2"));
}

/* Parse a damaged copy; expect an error whose text contains `want`. */
static void expect_error(const image *im, size_t len, const char *want,
                         void (*damage)(pt_seg_header *h))
{
    char *copy = aligned_alloc(64, im->full);
    ptr_view v;
    CHECK(copy);
    memcpy(copy, im->buf, im->full);
    if (damage)
        damage((pt_seg_header *)copy);
    int r = parse(copy, len, &v);
    if (r == 0 || (want && !strstr(err, want))) {
        fprintf(stderr, "expected error containing '%s', got r=%d '%s'\n",
                want ? want : "", r, err);
        exit(1);
    }
    free(copy);
}

#define DAMAGE(name, stmt)                                                   \
    static void name(pt_seg_header *h) { stmt; }

DAMAGE(d_magic, h->magic[0] = 'X')
DAMAGE(d_version, h->version = 3)
DAMAGE(d_version1, h->version = 1)
DAMAGE(d_version0, h->version = 0)
DAMAGE(d_hsize_small, h->header_size = 16)
DAMAGE(d_hsize_big, h->header_size = 0x7fffffff)
DAMAGE(d_hsize_odd, h->header_size = PT_SEG_HEADER_SIZE + 1)
DAMAGE(d_page0, h->page_size = 0)
DAMAGE(d_page3, h->page_size = 3000)
DAMAGE(d_tags_huge, h->max_tags = PT_SEG_MAX_TAGS_LIMIT + 1)
DAMAGE(d_tags_max, h->max_tags = PT_SEG_MAX_TAGS_LIMIT)
DAMAGE(d_tags_u32, h->max_tags = UINT32_MAX)
DAMAGE(d_shards_huge, h->max_shards = PT_SEG_MAX_SHARDS_LIMIT + 1)
DAMAGE(d_hw_over, h->shard_hw = MAX_SHARDS + 1)
DAMAGE(d_hw_max, h->max_shards = PT_SEG_MAX_SHARDS_LIMIT;
       h->shard_hw = PT_SEG_MAX_SHARDS_LIMIT)
DAMAGE(d_stride_small, h->shard_stride = 64)
DAMAGE(d_stride_huge, h->shard_stride = UINT64_MAX - 7)
DAMAGE(d_stride_odd, h->shard_stride += 4)
DAMAGE(d_segsize_small, h->seg_size = 4096)
DAMAGE(d_pools_far, h->pools_off = UINT64_MAX - 8)
DAMAGE(d_pools_mis, h->pools_off += 4)
DAMAGE(d_pools_low, h->pools_off = 64)
DAMAGE(d_errors_far, h->errors_off = h->seg_size)
DAMAGE(d_keys_far, h->keys_off = UINT64_MAX)
DAMAGE(d_keys_mis, h->keys_off += 2)
DAMAGE(d_keys_overlap, h->keys_off = h->errors_off)
DAMAGE(d_tagstat_overlap, h->tagstat_off = h->keys_off)
DAMAGE(d_tagstat_far, h->tagstat_off = 1ull << 62)
DAMAGE(d_shards_far, h->shards_off = UINT64_MAX - 63)
DAMAGE(d_shards_over, h->shards_off = h->seg_size - h->shard_stride)

static void test_valid(image *im)
{
    ptr_view v;
    CHECK(parse(im->buf, im->len, &v) == 0);
    check_sample(&v);
    ptr_view_free(&v);

    /* The whole mapping parses the same (shards past shard_hw ignored). */
    CHECK(parse(im->buf, im->full, &v) == 0);
    check_sample(&v);
    ptr_view_free(&v);

    /* Misaligned buffer: same result. */
    char *odd = malloc(im->len + 1);
    CHECK(odd);
    memcpy(odd + 1, im->buf, im->len);
    CHECK(parse(odd + 1, im->len, &v) == 0);
    check_sample(&v);
    ptr_view_free(&v);
    free(odd);

    /* An empty overflow entry is not a row. */
    char *copy = aligned_alloc(64, im->full);
    CHECK(copy);
    memcpy(copy, im->buf, im->full);
    pt_seg_header *h = (pt_seg_header *)copy;
    pt_seg_counts *c = pt_seg_shard_counts(copy + h->shards_off + h->shard_stride,
                                           MAX_TAGS);
    memset(c, 0, sizeof *c);
    CHECK(parse(copy, im->len, &v) == 0);
    CHECK_EQ_U(v.ntags, 4);
    CHECK(find(&v, PT_TAG("Ovfl")) == NULL);
    ptr_view_free(&v);

    /* shard_hw 0: no counts (Leak stays a row: its failures). */
    h->shard_hw = 0;
    CHECK(parse(copy, h->shards_off, &v) == 0);
    CHECK_EQ_U(find(&v, PT_TAG("Leak"))->pool[PT_NONPAGED].allocs, 0);
    CHECK_EQ_U(find(&v, PT_TAG("Leak"))->pool[PT_NONPAGED].failures, 3);
    ptr_view_free(&v);
    free(copy);
}

static void test_damage(image *im)
{
    ptr_view v;
    expect_error(im, im->len, "bad magic", d_magic);
    expect_error(im, im->len,
                 "segment version 3 is not supported (this pooltag reads "
                 "version 2)",
                 d_version);
    expect_error(im, im->len,
                 "segment version 1 (pooltag 0.1) is not supported: this pooltag reads "
                 "version 2",
                 d_version1);
    expect_error(im, im->len, "version 0 is not supported", d_version0);
    expect_error(im, im->len, "header size", d_hsize_small);
    expect_error(im, im->len, NULL, d_hsize_big);
    expect_error(im, im->len, "header size", d_hsize_odd);
    expect_error(im, im->len, "page size", d_page0);
    expect_error(im, im->len, "page size", d_page3);
    expect_error(im, im->len, "max_tags", d_tags_huge);
    expect_error(im, im->len, NULL, d_tags_max);
    expect_error(im, im->len, "max_tags", d_tags_u32);
    expect_error(im, im->len, "max_shards", d_shards_huge);
    expect_error(im, im->len, "shard_hw", d_hw_over);
    expect_error(im, im->len, NULL, d_hw_max);
    expect_error(im, im->len, "stride", d_stride_small);
    expect_error(im, im->len, NULL, d_stride_huge);
    expect_error(im, im->len, "stride", d_stride_odd);
    expect_error(im, im->len, "outside the segment", d_segsize_small);
    expect_error(im, im->len, "pools", d_pools_far);
    expect_error(im, im->len, "misaligned", d_pools_mis);
    expect_error(im, im->len, "overlaps", d_pools_low);
    expect_error(im, im->len, "errors", d_errors_far);
    expect_error(im, im->len, "keys", d_keys_far);
    expect_error(im, im->len, "misaligned", d_keys_mis);
    expect_error(im, im->len, "overlaps", d_keys_overlap);
    expect_error(im, im->len, "overlaps", d_tagstat_overlap);
    expect_error(im, im->len, "tagstat", d_tagstat_far);
    expect_error(im, im->len, "shards", d_shards_far);
    expect_error(im, im->len, "shards", d_shards_over);

    /* Every truncation: an error below the needed length, fine from it on. */
    for (size_t len = 0; len < im->len; len++) {
        char *cut = malloc(len ? len : 1);
        CHECK(cut);
        memcpy(cut, im->buf, len);
        if (parse(cut, len, &v) == 0) {
            fprintf(stderr, "truncated image of %zu bytes parsed\n", len);
            exit(1);
        }
        CHECK(len < PT_SEG_MAGIC_LEN || strstr(err, "truncated"));
        free(cut);
    }
    CHECK(parse(NULL, 0, &v) < 0);
}

/* Random damage to the header and the tables: must never crash. */
static void test_flips(image *im)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char *copy = aligned_alloc(64, im->full);
    int ok = 0, bad = 0;
    CHECK(copy);
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, im->buf, im->full);
        int nflips = 1 + round % 4;
        for (int k = 0; k < nflips; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* Mostly header fields (first 256 bytes), sometimes anywhere. */
            size_t at = (x >> 32) % (round % 3 ? 256 : im->len);
            copy[at] ^= (char)(1u << ((x >> 8) % 8));
            if (round % 5 == 0)
                copy[at] = (char)(x >> 16);
        }
        ptr_view v;
        if (parse(copy, im->len, &v) == 0) {
            ok++;
            ptr_view_free(&v);
        } else {
            bad++;
        }
    }
    CHECK(ok > 0 && bad > 0);
    free(copy);
}

static char tmpdir[] = "/tmp/pt_reader_XXXXXX";

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    CHECK(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, n, f) == n && fclose(f) == 0);
}

static const ptr_proc sample_proc = {1, 8000, 200000, 50000, 132, 4352, 9000,
                                     50132};

static void write_snapshot(image *im, const char *path)
{
    char e[256];
    FILE *f = fopen(path, "wb");
    if (!f || ptr_snapshot_write(f, im->buf, im->len, &sample_proc, 4242,
                                 "sample", e, sizeof e) < 0 ||
        fclose(f) != 0) {
        fprintf(stderr, "write %s: %s\n", path, f ? e : "cannot create");
        exit(1);
    }
}

static void expect_open_error(const char *path, const char *want)
{
    ptr_source *s;
    char e[512];
    int r = ptr_open(path, &s, e, sizeof e);
    if (r == 0 || !strstr(e, want) || strchr(e, '\n')) {
        fprintf(stderr, "open %s: expected '%s', got r=%d '%s'\n", path, want,
                r, r ? e : "");
        exit(1);
    }
}

static void test_snapshot(image *im)
{
    char path[256], bad[256], e[512];
    ptr_source *s;
    ptr_view v;
    size_t n;

    CHECK(mkdtemp(tmpdir));
    snprintf(path, sizeof path, "%s/sample.ptsnap", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.ptsnap", tmpdir);
    write_snapshot(im, path);

    /* Round trip through the file source. */
    CHECK(ptr_open(path, &s, e, sizeof e) == 0);
    CHECK_EQ_U(ptr_kind(s), PTR_SNAPSHOT);
    CHECK_EQ_U(ptr_pid(s), 4242);
    CHECK(ptr_read(s, &v, e, sizeof e) == 0);
    check_sample(&v);
    CHECK_EQ_U(v.kind, PTR_SNAPSHOT);
    CHECK(v.taken_ns > 0);
    CHECK(v.proc.valid);
    CHECK_EQ_U(v.proc.rss_kb, 8000);
    CHECK_EQ_U(v.proc.commit_kb, 50132);
    CHECK_EQ_U(v.proc.vmlck_kb, 4352);
    ptr_view_free(&v);
    const void *raw = ptr_raw(s, &n);
    CHECK_EQ_U(n, im->len);
    CHECK(memcmp(raw, im->buf, n) == 0);
    ptr_close(s);

    /* The file has no temporary left beside it.  (Its mode, 0600, and the
     * atomic replacement are the command's output-file helper's: tested by
     * cli_outfiles.) */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) = 1", tmpdir);
    CHECK(system(cmd) == 0);

    /* Snapshot bytes parse in memory too (the fuzz entry point). */
    char *file = slurp(path, &n);
    CHECK(ptr_parse_snapshot(file, n, &v, e, sizeof e) == 0);
    check_sample(&v);
    ptr_view_free(&v);

    /* Every truncation of the file fails cleanly. */
    for (size_t len = 0; len < n; len += len < 4096 ? 1 : 97) {
        if (ptr_parse_snapshot(file, len, &v, e, sizeof e) == 0) {
            fprintf(stderr, "truncated snapshot of %zu bytes parsed\n", len);
            exit(1);
        }
        CHECK(strchr(e, '\n') == NULL);
    }
    spit(bad, file, 200);
    expect_open_error(bad, "truncated snapshot");
    spit(bad, file, 5);
    expect_open_error(bad, "truncated snapshot");
    spit(bad, file, 0);
    expect_open_error(bad, "empty file");

    /* Damaged copies. */
    char *d = malloc(n + 8);
    CHECK(d);
    memcpy(d, file, n);
    d[0] = 'X';
    spit(bad, d, n);
    expect_open_error(bad, "not a pooltag snapshot (bad magic)");

    memcpy(d, file, n);
    d[8] = 9;   /* version */
    spit(bad, d, n);
    expect_open_error(bad, "snapshot version 9 is not supported (this pooltag "
                           "reads version 1)");

    memcpy(d, file, n);
    d[n - 100] ^= 0x40;   /* a counter byte: caught by the checksum */
    spit(bad, d, n);
    expect_open_error(bad, "checksum mismatch");

    memcpy(d, file, n);
    memset(d + n, 0, 8);
    spit(bad, d, n + 8);
    expect_open_error(bad, "trailing data");

    memcpy(d, file, n);
    d[12] = 8;    /* header_size 8 */
    d[13] = 0;
    spit(bad, d, n);
    expect_open_error(bad, "header size");

    memcpy(d, file, n);
    memset(d + 112, 0xff, 8);   /* seg_len overflows */
    spit(bad, d, n);
    expect_open_error(bad, "segment length");

    /* A snapshot whose segment has a newer version: the segment's message. */
    {
        image im2 = *im;
        im2.buf = aligned_alloc(64, im->full);
        CHECK(im2.buf);
        memcpy(im2.buf, im->buf, im->full);
        hdr(&im2)->version = 7;
        write_snapshot(&im2, bad);
        expect_open_error(bad, "segment version 7 is not supported");
        free(im2.buf);
    }

    /* A raw segment image is accepted as a file source. */
    spit(bad, im->buf, im->len);
    CHECK(ptr_open(bad, &s, e, sizeof e) == 0);
    CHECK(ptr_read(s, &v, e, sizeof e) == 0);
    check_sample(&v);
    CHECK(!v.proc.valid);
    CHECK_EQ_U(ptr_pid(s), 4242);
    ptr_view_free(&v);
    ptr_close(s);
    spit(bad, im->buf, im->len - 1);
    expect_open_error(bad, "truncated segment");

    /* Files that are not files. */
    expect_open_error(tmpdir, "is a directory, not a regular file");
    snprintf(bad, sizeof bad, "%s/none", tmpdir);
    expect_open_error(bad, "no such file");
    expect_open_error("", "empty source");

    /* Writing where one cannot. */
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        setvbuf(full, NULL, _IONBF, 0);
        CHECK(ptr_snapshot_write(full, im->buf, im->len, NULL, 1, "x", e,
                                 sizeof e) < 0);
        CHECK(strstr(e, "No space left"));
        fclose(full);
    }

    free(d);
    free(file);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK(system(cmd) == 0);
}

static void test_pid_errors(void)
{
    ptr_source *s;
    char e[512];
    CHECK(ptr_open("0", &s, e, sizeof e) < 0);
    CHECK(strstr(e, "no process with PID 0"));
    CHECK(ptr_open("99999999999", &s, e, sizeof e) < 0);
    CHECK(strstr(e, "no process with PID"));
    /* This process is not tagged (it does not link libpooltag). */
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    CHECK(ptr_open(pid, &s, e, sizeof e) < 0);
    CHECK(strstr(e, "is not tagged"));
}

/* A segment with call sites and age epochs (issue 15): 16 sites, three
 * epochs begun, two shards in use.  Site 3 (tag Leak): 100 bytes in each
 * epoch; site 5 (tag Cach): 1000 bytes in epoch 0 only, 200 of them freed
 * later by shard 1 (an old free: table and moved).  Shard 0 (shared) holds
 * no current part; shard 1 is in epoch 2 and its current part of site 3 is
 * epoch 2's 100 bytes. */
#define AGE_SITES 16
static void build_ages(image *im)
{
    uint64_t ntags = MAX_TAGS + 1, nsites = AGE_SITES + 1;
    pt_seg_header h;
    header_init(&h, 4243);
    h.flags = PT_SEGF_CHECK_KEY | PT_SEGF_SITE_COUNTS | PT_SEGF_AGES;
    h.sites_off = h.tagstat_off + ntags * sizeof(pt_seg_tagstat);
    h.max_sites = AGE_SITES;
    h.sites_used = 2;
    h.ages_off = pt_seg_align(h.sites_off + nsites * sizeof(pt_seg_site), PT_SEG_LINE);
    h.age_epochs = PT_AGE_EPOCHS;
    h.age_now = 2;
    for (unsigned e = 0; e <= 2; e++) {
        h.age_start_mono[e] = 5000000000ull + e * 1000000000ull;
        h.age_start_real[e] = h.start_ns + e * 1000000000ull;
    }
    h.shards_off = pt_seg_align(h.ages_off + PT_AGE_EPOCHS * nsites * sizeof(pt_seg_age_live),
                                PT_SEG_LINE);
    h.shard_stride = pt_seg_shard_stride_ages(MAX_TAGS, AGE_SITES);
    h.seg_size = h.shards_off + MAX_SHARDS * h.shard_stride;
    h.peak_grain = 65536;
    h.tags_used = 2;
    h.check_key = 99;
    memcpy(h.comm, "ages", 5);

    image_init(im, &h);
    uint32_t *keys = (uint32_t *)(im->buf + h.keys_off);
    keys[0] = PT_TAG("Leak");
    keys[1] = PT_TAG("Cach");
    pt_seg_site *st = (pt_seg_site *)(im->buf + h.sites_off);
    st[3] = (pt_seg_site){.addr = 0x401000, .tag = PT_TAG("Leak"), .tagidx = 0};
    st[5] = (pt_seg_site){.addr = 0x402000, .tag = PT_TAG("Cach"), .tagidx = 1};
    pt_seg_age_live *tab = (pt_seg_age_live *)(im->buf + h.ages_off);
    char *sh0 = im->buf + h.shards_off, *sh1 = sh0 + h.shard_stride;
    /* site 3: 300 bytes allocated by shard 1, 100 in each epoch; epochs 0
     * and 1 moved to the table when shard 1 changed epochs */
    pt_seg_shard_site_counts(sh1, MAX_TAGS, 3)->pool[PT_PAGED] =
        (pt_seg_pool_counts){3, 0, 300, 0};
    tab[0 * nsites + 3] = (pt_seg_age_live){100, 1};
    tab[1 * nsites + 3] = (pt_seg_age_live){100, 1};
    *pt_seg_shard_age_moved(sh1, MAX_TAGS, AGE_SITES, 3) = (pt_seg_age_live){200, 2};
    /* site 5: 1000 bytes in 10 blocks by shard 0 (shared: to the table at
     * once) in epoch 0; shard 1 freed 2 of them in epoch 2 (old frees) */
    pt_seg_shard_site_counts(sh0, MAX_TAGS, 5)->pool[PT_PAGED] =
        (pt_seg_pool_counts){10, 0, 1000, 0};
    *pt_seg_shard_age_moved(sh0, MAX_TAGS, AGE_SITES, 5) = (pt_seg_age_live){1000, 10};
    pt_seg_shard_site_counts(sh1, MAX_TAGS, 5)->pool[PT_PAGED] =
        (pt_seg_pool_counts){0, 2, 0, 200};
    *pt_seg_shard_age_moved(sh1, MAX_TAGS, AGE_SITES, 5) = (pt_seg_age_live){-200, -2};
    tab[0 * nsites + 5] = (pt_seg_age_live){1000 - 200, 10 - 2};
    ((pt_seg_shard_hdr *)sh0)->state = PT_SHARD_SHARED;
    ((pt_seg_shard_hdr *)sh1)->state = PT_SHARD_LIVE;
    ((pt_seg_shard_hdr *)sh1)->age_epoch = 2;
}

static void test_ages(void)
{
    image im;
    build_ages(&im);
    ptr_view v;
    CHECK(parse(im.buf, im.len, &v) == 0);
    CHECK_EQ_U(v.age_n, 3);
    CHECK(v.site_ages != NULL);
    int seen = 0;
    for (size_t i = 0; i < v.nsites && v.site_ages; i++) {
        const pt_seg_age_live *a = v.site_ages + i * v.age_n;
        if (v.sites[i].index == 3) {
            seen |= 1;
            for (unsigned e = 0; e < 3; e++)
                CHECK(a[e].bytes == 100 && a[e].blocks == 1);
        } else if (v.sites[i].index == 5) {
            seen |= 2;
            CHECK(a[0].bytes == 800 && a[0].blocks == 8);
            CHECK(a[1].bytes == 0 && a[2].bytes == 0 && a[2].blocks == 0);
        }
    }
    CHECK(seen == 3);
    CHECK(v.age_start_real[2] == v.start_ns + 2000000000ull);
    ptr_view_free(&v);
    /* damage: the current epoch beyond the table, a table that overlaps the
     * sites, a shard stride without the moved counters */
    pt_seg_header *h = hdr(&im), save = *h;
    h->age_now = PT_AGE_EPOCHS;
    CHECK(parse(im.buf, im.len, &v) < 0 && strstr(err, "age epochs"));
    *h = save;
    h->ages_off = h->sites_off;
    CHECK(parse(im.buf, im.len, &v) < 0);
    *h = save;
    h->shard_stride = pt_seg_shard_stride_sites(MAX_TAGS, AGE_SITES);
    CHECK(parse(im.buf, im.len, &v) < 0 && strstr(err, "age epochs"));
    *h = save;
    /* a shard claiming an epoch not begun counts in the newest */
    ((pt_seg_shard_hdr *)(im.buf + h->shards_off + h->shard_stride))->age_epoch = 40;
    CHECK(parse(im.buf, im.len, &v) == 0);
    ptr_view_free(&v);
    /* without the flag: no ages, whatever the fields hold */
    h->flags &= ~PT_SEGF_AGES;
    CHECK(parse(im.buf, im.len, &v) == 0 && v.age_n == 0 && v.site_ages == NULL);
    ptr_view_free(&v);
    free(im.buf);
}

int main(int argc, char **argv)
{
    image im;
    build(&im);
    if (argc == 3 && strcmp(argv[1], "--write-snapshot") == 0) {
        write_snapshot(&im, argv[2]);
        free(im.buf);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/synthetic.seg", argv[2]);
        spit(path, im.buf, im.len);
        snprintf(path, sizeof path, "%s/synthetic.ptsnap", argv[2]);
        write_snapshot(&im, path);
        free(im.buf);
        build_ages(&im);
        snprintf(path, sizeof path, "%s/ages.seg", argv[2]);
        spit(path, im.buf, im.len);
        snprintf(path, sizeof path, "%s/ages.ptsnap", argv[2]);
        write_snapshot(&im, path);
        free(im.buf);
        return 0;
    }
    test_valid(&im);
    test_damage(&im);
    test_flips(&im);
    test_snapshot(&im);
    test_pid_errors();
    test_ages();
    free(im.buf);
    printf("reader parse tests passed\n");
    return 0;
}
