/*
 * parse.c — ptr_parse: turn untrusted segment bytes into a ptr_view.
 *
 * Data model
 * ----------
 * The input is `len` bytes that claim to be a pooltag segment (layout in
 * src/common/segment.h).  They may come from a live process (which may be
 * buggy), a snapshot file (which may be truncated or edited) or a fuzzer, so
 * nothing in them is believed until checked:
 *
 *   1. magic, version, header_size and page_size are checked first, so that
 *      a wrong file or a newer runtime gets a message that says so;
 *   2. capacities are bounded (max_tags, max_shards, shard_hw <= max_shards)
 *      and the shard stride must hold a shard of that many entries;
 *   3. every region [off, off + size) is computed with overflow checks and
 *      must lie inside the image, after the header, in the documented order
 *      (pools < errors < keys < tagstat < sites < modules < shards), not
 *      overlapping,
 *      and aligned for the structures read from it.
 *
 * Only after that does pt_seg_sum_entry (segsum.c), which trusts the header,
 * run over the image.  Its cost is bounded by the image size: a used entry
 * costs one 64-byte read per shard in use, and the shards lie in the image.
 *
 * The image may be shorter than header.seg_size (a reader copies only the
 * prefix up to the last shard in use); it must not be shorter than that.
 */
#include "ptread.h"
#include "segsum.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define fail ptr__fail

int ptr__fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int ptr__with_path(const char *path, char *err, size_t errlen)
{
    if (err && errlen) {
        char *msg = strdup(err);
        if (msg) {
            snprintf(err, errlen, "%s: %s", path, msg);
            free(msg);
        }
    }
    return -1;
}

typedef struct region {
    const char *name;
    uint64_t off;
    uint64_t size;  /* 0 when the multiplication overflowed: see valid */
    int valid;
    uint64_t align;
} region;

static int any_counts(const pt_tag_info *t)
{
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        const pt_counts *c = &t->pool[p];
        if (c->allocs || c->frees || c->bytes_alloc || c->bytes_freed ||
            c->failures)
            return 1;
    }
    return 0;
}

static int check_header(const pt_seg_header *h, size_t len, char *err,
                        size_t errlen)
{
    if (h->version == 1)
        return fail(err, errlen,
                    "segment version 1 (pooltag 0.1) is not supported: this pooltag reads "
                    "version %u; read it with the pooltag that wrote it",
                    PT_SEG_VERSION);
    if (h->version != PT_SEG_VERSION)
        return fail(err, errlen,
                    "segment version %u is not supported (this pooltag reads "
                    "version %u)",
                    h->version, PT_SEG_VERSION);
    if (h->header_size < sizeof(pt_seg_header) || h->header_size % 8)
        return fail(err, errlen, "corrupt segment: bad header size %u",
                    h->header_size);
    if (h->header_size > len)
        return fail(err, errlen,
                    "truncated segment: %zu bytes, the header alone is %u",
                    len, h->header_size);
    if (h->page_size == 0 || (h->page_size & (h->page_size - 1)) ||
        h->page_size > (1u << 30))
        return fail(err, errlen, "corrupt segment: bad page size %u",
                    h->page_size);
    if (h->max_tags > PT_SEG_MAX_TAGS_LIMIT)
        return fail(err, errlen,
                    "corrupt segment: max_tags %u exceeds the limit %u",
                    h->max_tags, PT_SEG_MAX_TAGS_LIMIT);
    if (h->max_shards > PT_SEG_MAX_SHARDS_LIMIT)
        return fail(err, errlen,
                    "corrupt segment: max_shards %u exceeds the limit %u",
                    h->max_shards, PT_SEG_MAX_SHARDS_LIMIT);
    if (h->shard_hw > h->max_shards)
        return fail(err, errlen,
                    "corrupt segment: shard_hw %u exceeds max_shards %u",
                    h->shard_hw, h->max_shards);
    if (h->shard_stride < pt_seg_shard_stride(h->max_tags) ||
        h->shard_stride % 8)
        return fail(err, errlen,
                    "corrupt segment: shard stride %llu is too small for "
                    "%u tags (needs %llu)",
                    (unsigned long long)h->shard_stride, h->max_tags,
                    (unsigned long long)pt_seg_shard_stride(h->max_tags));
    return 0;
}

/* Check the regions in order; on success *end is the end of the last. */
static int check_regions(const pt_seg_header *h, size_t len, uint64_t *end,
                         char *err, size_t errlen)
{
    uint64_t ntags = (uint64_t)h->max_tags + 1;
    uint64_t shards_size;
    /* The module table is optional (zeros in segments without it). */
    int has_modules = h->modules_off != 0;
    int has_sites = h->sites_off != 0;
    uint64_t nsites = has_sites ? (uint64_t)h->max_sites + 1 : 0;
    /* Age epochs (issue 15): with the flag, a table after the modules. */
    int has_ages = (h->flags & PT_SEGF_AGES) != 0;
    int shards_ok = !__builtin_mul_overflow((uint64_t)h->shard_hw,
                                            h->shard_stride, &shards_size);
    region r[] = {
        {"pools", h->pools_off, PT_SEG_NPOOLS * sizeof(pt_seg_pool), 1, 8},
        {"errors", h->errors_off, PT_SEG_ERRORS * sizeof(pt_seg_error), 1, 8},
        {"keys", h->keys_off, ntags * sizeof(uint32_t), 1, 4},
        {"tagstat", h->tagstat_off, ntags * sizeof(pt_seg_tagstat), 1, 8},
        {"sites", h->sites_off, nsites * sizeof(pt_seg_site), 1, 8},
        {"modules", h->modules_off, (uint64_t)h->max_modules * sizeof(pt_seg_module), 1, 8},
        {"ages", h->ages_off,
         has_ages ? (uint64_t)h->age_epochs * nsites * sizeof(pt_seg_age_live) : 0, 1, 8},
        {"shards", h->shards_off, shards_ok ? shards_size : 0, shards_ok, 8},
    };
    uint64_t prev = h->header_size;
    const char *prev_name = "header";

    if (has_modules && (h->max_modules > PT_SEG_MAX_MODULES_LIMIT ||
                        h->modules_used > h->max_modules))
        return fail(err, errlen,
                    "corrupt segment: module table of %u records with %u used",
                    h->max_modules, h->modules_used);
    if (!has_modules && (h->max_modules || h->modules_used))
        return fail(err, errlen, "corrupt segment: module records without a table");
    if (has_sites && (h->max_sites == 0 || h->max_sites > PT_SEG_MAX_SITES_LIMIT ||
                      h->sites_used > h->max_sites + 1u))
        return fail(err, errlen, "corrupt segment: site table of %u entries with %u used",
                    h->max_sites, h->sites_used);
    if (!has_sites && (h->max_sites || h->sites_used))
        return fail(err, errlen, "corrupt segment: site fields without a site table");
    if (has_sites && h->shard_stride < pt_seg_shard_stride_sites(h->max_tags, h->max_sites))
        return fail(err, errlen, "corrupt segment: shard stride %llu has no room for %u sites",
                    (unsigned long long)h->shard_stride, h->max_sites);
    if (has_ages && (!has_sites || h->age_epochs != PT_AGE_EPOCHS ||
                     h->age_now >= h->age_epochs || h->ages_off == 0 ||
                     h->shard_stride < pt_seg_shard_stride_ages(h->max_tags, h->max_sites)))
        return fail(err, errlen,
                    "corrupt segment: age epochs (%u of %u, table at %llu) do not fit",
                    h->age_now, h->age_epochs, (unsigned long long)h->ages_off);
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        uint64_t e;
        if (!strcmp(r[i].name, "modules") && !has_modules)
            continue;
        if (!strcmp(r[i].name, "ages") && !has_ages)
            continue;
        if (!strncmp(r[i].name, "site", 4) && !has_sites)
            continue;
        if (!r[i].valid || __builtin_add_overflow(r[i].off, r[i].size, &e))
            return fail(err, errlen,
                        "corrupt segment: %s region size overflows",
                        r[i].name);
        if (r[i].off % r[i].align)
            return fail(err, errlen,
                        "corrupt segment: %s offset %llu is misaligned",
                        r[i].name, (unsigned long long)r[i].off);
        if (r[i].off < prev)
            return fail(err, errlen,
                        "corrupt segment: %s offset %llu overlaps the %s "
                        "region (which ends at %llu)",
                        r[i].name, (unsigned long long)r[i].off, prev_name,
                        (unsigned long long)prev);
        if (e > h->seg_size)
            return fail(err, errlen,
                        "corrupt segment: %s region [%llu, %llu) lies "
                        "outside the segment (%llu bytes)",
                        r[i].name, (unsigned long long)r[i].off,
                        (unsigned long long)e,
                        (unsigned long long)h->seg_size);
        if (e > len)
            return fail(err, errlen,
                        "truncated segment: the %s region ends at byte %llu "
                        "but the image has %zu bytes",
                        r[i].name, (unsigned long long)e, len);
        prev = e;
        prev_name = r[i].name;
    }
    *end = prev;
    return 0;
}

/* The live bytes and blocks of site j by age epoch (segment.h, "Age
 * epochs"): the table's, plus each shard's current part in the epoch the
 * shard is in.  out has h->age_now + 1 entries. */
static void site_ages(const char *seg, const pt_seg_header *h, uint32_t j, pt_seg_age_live *out)
{
    /* (sums wrap as uint64_t: the values come from outside) */
    uint64_t nsites = (uint64_t)h->max_sites + 1;
    const pt_seg_age_live *tab = (const pt_seg_age_live *)(seg + h->ages_off);
    uint64_t b[PT_AGE_EPOCHS], n[PT_AGE_EPOCHS];
    for (uint32_t e = 0; e <= h->age_now; e++) {
        b[e] = __atomic_load_n((const uint64_t *)&tab[e * nsites + j].bytes, __ATOMIC_RELAXED);
        n[e] = __atomic_load_n((const uint64_t *)&tab[e * nsites + j].blocks, __ATOMIC_RELAXED);
    }
    for (uint32_t s = 0; s < h->shard_hw; s++) {
        char *sh = (char *)seg + h->shards_off + (uint64_t)s * h->shard_stride;
        const pt_seg_shard_hdr *hd = (const pt_seg_shard_hdr *)sh;
        uint32_t e = __atomic_load_n(&hd->age_epoch, __ATOMIC_RELAXED);
        if (e > h->age_now) /* (a thread that moved on since the header was
                               copied: its newest epoch known here) */
            e = h->age_now;
        const pt_seg_counts *c = pt_seg_shard_site_counts(sh, h->max_tags, j);
        const pt_seg_age_live *m = pt_seg_shard_age_moved(sh, h->max_tags, h->max_sites, j);
        for (unsigned q = 0; q < PT_SEG_NPOOLS; q++) {
            b[e] += __atomic_load_n(&c->pool[q].bytes_alloc, __ATOMIC_RELAXED) -
                    __atomic_load_n(&c->pool[q].bytes_freed, __ATOMIC_RELAXED);
            n[e] += __atomic_load_n(&c->pool[q].allocs, __ATOMIC_RELAXED) -
                    __atomic_load_n(&c->pool[q].frees, __ATOMIC_RELAXED);
        }
        b[e] -= __atomic_load_n((const uint64_t *)&m->bytes, __ATOMIC_RELAXED);
        n[e] -= __atomic_load_n((const uint64_t *)&m->blocks, __ATOMIC_RELAXED);
    }
    for (uint32_t e = 0; e <= h->age_now; e++) {
        out[e].bytes = (int64_t)b[e];
        out[e].blocks = (int64_t)n[e];
    }
}

static int by_seq(const void *a, const void *b)
{
    const pt_seg_error *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ptr_parse(const void *buf, size_t len, ptr_view *v, char *err,
              size_t errlen)
{
    pt_seg_header h;
    uint64_t end = 0;
    char *copy = NULL;
    const char *seg = buf;

    memset(v, 0, sizeof *v);
    if (!buf || len < PT_SEG_MAGIC_LEN ||
        memcmp(buf, PT_SEG_MAGIC, PT_SEG_MAGIC_LEN) != 0)
        return fail(err, errlen, "not a pooltag segment (bad magic)");
    if (len < sizeof h)
        return fail(err, errlen,
                    "truncated segment: %zu bytes, the header alone is %zu",
                    len, sizeof h);
    memcpy(&h, buf, sizeof h);
    if (check_header(&h, len, err, errlen) < 0 ||
        check_regions(&h, len, &end, err, errlen) < 0)
        return -1;

    /* The structures are read in place: they need 8-byte alignment. */
    if ((uintptr_t)buf % 8) {
        copy = malloc(end);
        if (!copy)
            return fail(err, errlen, "out of memory (%llu bytes)",
                        (unsigned long long)end);
        memcpy(copy, buf, end);
        seg = copy;
    }

    v->version = h.version;
    v->pid = h.pid;
    v->page_size = h.page_size;
    v->max_tags = h.max_tags;
    v->flags = h.flags;
    v->check_key = (h.flags & PT_SEGF_CHECK_KEY) ? h.check_key : 0;
    v->on_error = h.on_error;
    v->start_ns = h.start_ns;
    v->errors_total = h.errors_total;
    v->threads_started = h.threads_started;
    v->peak_grain = h.peak_grain;
    v->threads_exited = h.threads_exited;
    memcpy(v->comm, h.comm, sizeof h.comm);
    v->comm[sizeof h.comm] = 0;
    memcpy(v->exe, h.exe, sizeof h.exe);
    v->exe[sizeof h.exe] = 0;

    /* Rows: every used key, plus the overflow entry when it holds counts. */
    const uint32_t *keys = (const uint32_t *)(seg + h.keys_off);
    size_t used = 1;
    for (uint32_t i = 0; i < h.max_tags; i++)
        used += keys[i] != 0;
    v->tags = calloc(used, sizeof *v->tags);
    v->tagx = calloc(used, sizeof *v->tagx);
    if (!v->tags || !v->tagx) {
        free(copy);
        ptr_view_free(v);
        return fail(err, errlen, "out of memory (%zu tags)", used);
    }
    const pt_seg_tagstat *tstat = (const pt_seg_tagstat *)(seg + h.tagstat_off);
    /* With PT_SEGF_SITE_COUNTS a tag's counts are its lines' plus its
     * sites' (segment.h, invariant 3): row[i] is entry i's row, for the
     * site pass below to add each site's counts to. */
    uint32_t *row = NULL;
    if (pt_seg_site_counted(&h)) {
        row = malloc(((size_t)h.max_tags + 1) * sizeof *row);
        if (!row) {
            free(copy);
            ptr_view_free(v);
            return fail(err, errlen, "out of memory (%zu tags)", used);
        }
        memset(row, 0xff, ((size_t)h.max_tags + 1) * sizeof *row);
    }
    for (uint32_t i = 0; i <= h.max_tags; i++) {
        pt_tag_info *t = &v->tags[v->ntags];
        if (i < h.max_tags && keys[i] == 0)
            continue;
        pt_seg_sum_entry_lines(seg, &h, h.shard_hw, i, t);
        if (i == h.max_tags) { /* kept below only if it holds counts */
            t->tag = PT_TAG("Ovfl");
            t->flags |= PT_TAGINFO_OVERFLOW;
        }
        /* issue 12: injected failures and "special pool full" (0 in older
         * segments) */
        v->tagx[v->ntags].injected = tstat[i].injected;
        v->tagx[v->ntags].special_full = tstat[i].special_full;
        if (row)
            row[i] = (uint32_t)v->ntags;
        v->ntags++;
    }

    /* Error ring: used slots, oldest first. */
    const pt_seg_error *ring = (const pt_seg_error *)(seg + h.errors_off);
    for (unsigned i = 0; i < PT_SEG_ERRORS; i++)
        if (ring[i].seq != 0)
            v->errors[v->nerrors++] = ring[i];
    qsort(v->errors, v->nerrors, sizeof v->errors[0], by_seq);

    /* Call sites with any counts. */
    if (h.sites_off) {
        const pt_seg_site *st = (const pt_seg_site *)(seg + h.sites_off);
        size_t n = 0;
        for (uint32_t j = 0; j <= h.max_sites; j++)
            if (st[j].tag)
                n++;
        v->sites = calloc(n ? n : 1, sizeof *v->sites);
        if (h.flags & PT_SEGF_AGES) {
            v->age_n = h.age_now + 1; /* (checked: < age_epochs) */
            memcpy(v->age_start_real, h.age_start_real, sizeof v->age_start_real);
            memcpy(v->age_start_mono, h.age_start_mono, sizeof v->age_start_mono);
            v->site_ages = calloc((n ? n : 1) * (size_t)v->age_n, sizeof *v->site_ages);
        }
        if (!v->sites || (v->age_n && !v->site_ages)) {
            free(row);
            free(copy);
            ptr_view_free(v);
            return fail(err, errlen, "out of memory");
        }
        for (uint32_t j = 0; j <= h.max_sites; j++) {
            if (!st[j].tag)
                continue;
            struct ptr_site *o = &v->sites[v->nsites];
            pt_seg_sum_site(seg, &h, h.shard_hw, j, o->pool);
            uint32_t ti = st[j].tagidx;
            if (row && ti <= h.max_tags && row[ti] != UINT32_MAX)
                pt_seg_add_counts(v->tags[row[ti]].pool, o->pool);
            if (!o->pool[0].allocs && !o->pool[1].allocs && !o->pool[0].frees &&
                !o->pool[1].frees)
                continue;
            o->addr = st[j].addr;
            o->tag = st[j].tag;
            o->overflow = j == h.max_sites;
            o->index = j;
            if (v->age_n)
                site_ages(seg, &h, j, v->site_ages + v->nsites * (size_t)v->age_n);
            v->nsites++;
        }
    }

    free(row);
    /* Peaks raised to the current Bytes; the overflow entry (the last row)
     * dropped when it holds nothing. */
    for (size_t i = 0; i < v->ntags; i++)
        pt_seg_entry_done(&v->tags[i]);
    if (v->ntags && !any_counts(&v->tags[v->ntags - 1])) /* (always the last) */
        v->ntags--;
    for (size_t i = 0; i < v->ntags; i++) {
        v->injected += v->tagx[i].injected;
        v->special_full += v->tagx[i].special_full;
    }

    /* Pools: limit, peak and failures as recorded; counts summed over tags. */
    const pt_seg_pool *pools = (const pt_seg_pool *)(seg + h.pools_off);
    for (int p = 0; p < PT_POOL_COUNT; p++) {
        ptr_pool *o = &v->pool[p];
        o->limit = pools[p].limit;
        o->peak = pools[p].peak;
        o->failures = pools[p].failures;
        for (size_t i = 0; i < v->ntags; i++) {
            const pt_counts *c = &v->tags[i].pool[p];
            o->allocs += c->allocs;
            o->frees += c->frees;
            o->bytes_alloc += c->bytes_alloc;
            o->bytes_freed += c->bytes_freed;
        }
        if (o->bytes_alloc >= o->bytes_freed &&
            o->bytes_alloc - o->bytes_freed > o->peak)
            o->peak = o->bytes_alloc - o->bytes_freed;
    }

    v->max_modules = h.max_modules;
    v->max_sites = h.sites_off ? h.max_sites : 0;
    v->sites_used = h.sites_off ? h.sites_used : 0;
    for (uint32_t i = 0; i < h.max_tags; i++)
        v->tags_used += keys[i] != 0;
    v->modules_dropped = h.modules_off ? h.modules_dropped : 0;

    /* Module table: copied, every path forced to end in NUL. */
    if (h.modules_off && h.modules_used) {
        v->modules = malloc((size_t)h.modules_used * sizeof(pt_seg_module));
        if (!v->modules) {
            free(copy);
            ptr_view_free(v);
            return fail(err, errlen, "out of memory");
        }
        memcpy(v->modules, seg + h.modules_off, (size_t)h.modules_used * sizeof(pt_seg_module));
        v->nmodules = h.modules_used;
        for (size_t i = 0; i < v->nmodules; i++) {
            v->modules[i].path[PT_MOD_PATH_MAX - 1] = 0;
            if (v->modules[i].build_id_len > sizeof v->modules[i].build_id)
                v->modules[i].build_id_len = 0;
        }
    }

    free(copy);
    return 0;
}

void ptr_view_free(ptr_view *v)
{
    if (!v)
        return;
    free(v->tags);
    v->tags = NULL;
    free(v->tagx);
    v->tagx = NULL;
    v->ntags = 0;
    free(v->modules);
    v->modules = NULL;
    v->nmodules = 0;
    free(v->sites);
    v->sites = NULL;
    v->nsites = 0;
    free(v->site_ages);
    v->site_ages = NULL;
    v->age_n = 0;
}

const pt_seg_module *ptr_module_of_tag(const ptr_view *v, uint32_t tag)
{
    for (size_t i = v->nmodules; i-- > 0;)
        if (v->modules[i].tag == tag)
            return &v->modules[i];
    return NULL;
}
