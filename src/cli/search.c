/*
 * search.c — `pooltag search SOURCE VALUE`: where a number or a string
 * occurs in a process's memory, live or from a core, after WinDbg's s -q,
 * s -d, s -w, s -b and s -a; each hit with its region's usage (pregions.h)
 * and, in a module's mappings, the `ln` step folded in: module!symbol+0xoff.
 *
 * Data model: the regions of a pim (pimg.h) that hold bytes (a core's
 * regions that were not dumped are skipped, as are those --in leaves out),
 * read through pim_bytes in chunks of CHUNK bytes: a pointer into the core's
 * mapping (no copy) or the live process's memory read into one buffer.
 * Numbers are little-endian of --width bytes; by default only naturally
 * aligned ones match (an address a multiple of the width, as s -q does),
 * --unaligned finds them anywhere; strings match anywhere.  A match never
 * spans two regions.
 *
 * Scanning: aligned numbers of 2, 4 or 8 bytes by a block loop that ORs the
 * comparisons of 256 bytes (no branch per word: the compiler vectorizes it
 * for 2 and 4 bytes; 8 bytes use SSE2 by hand) and looks closer only at a
 * block that holds a match; one byte by
 * memchr; strings and unaligned numbers by memmem.  Chunks of unaligned
 * patterns overlap by the pattern's length less one byte, so a match across
 * chunks is found once.
 *
 * Exit status 0 hits found, 1 no hit, 2 usage or input error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "verbs.h"
#include "emit.h"
#include "fmt.h"
#include "pimg.h"
#include "pimsym.h"
#include "pregions.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char *VERB = "search";

#define CHUNK (4u << 20)
#define PROGRESS_MIN (256ull << 20)
#define PROGRESS_STEP (128ull << 20)

static void usage(FILE *f)
{
    fputs("Usage: pooltag search [options] SOURCE VALUE\n"
          "       pooltag search [options] --string TEXT SOURCE\n"
          "\n"
          "Where a number or a string occurs in the memory of a process, like WinDbg's\n"
          "s -q / s -d / s -w / s -b (numbers) and s -a (strings): every hit with its\n"
          "address, the usage of its region (as pooltag address shows it) and, in a\n"
          "module's mappings, its nearest symbol: module!symbol+0xoff (the ln step).\n"
          "SOURCE is a PID (any process you may trace: tagged or not) or a core file.\n"
          "VALUE is a number: 0x... hex or decimal, stored little-endian in --width\n"
          "bytes.  A match never spans two regions; a core's regions that were not\n"
          "dumped are not searched.\n"
          "\n"
          "  -w, --width N      1, 2, 4 or 8 (default 8); VALUE must fit in it\n"
          "  -u, --unaligned    numbers at any address (default: only at addresses that\n"
          "                     are a multiple of the width, as s -q does)\n"
          "  -s, --string TEXT  the bytes of TEXT (no terminating NUL), at any address\n"
          "  -i, --in USAGES    only regions of these usages: heap, stack, image, file,\n"
          "                     anon, segment, other (a comma list; may be repeated)\n"
          "  -n, --max N        show at most N hits (default 1000); the others are\n"
          "                     counted\n"
          "      --stop         live: stop every thread for the search (ptrace) so the\n"
          "                     memory does not change under it; without it the process\n"
          "                     runs on\n"
          "  -j, --json         the hits as JSON\n"
          "  -h, --help         this text\n"
          "\n"
          "Progress goes to stderr when it is a terminal and the memory to search is\n"
          "over 256 MiB.  Exit status 0 hits found, 1 no hit, 2 usage or input error.\n",
          f);
}

/* ---- options ----------------------------------------------------------- */

/* 0x hex or decimal (a leading 0 is decimal), at most 64 bits. */
static int parse_value(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int base = 10, digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (; *s; s++) {
        unsigned d;
        if (base == 16 && *s == '`')
            continue; /* the debugger's separator: 00007f12`34560000 */
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
            d = (unsigned)((*s | 0x20) - 'a' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + d;
        digits++;
    }
    if (!digits)
        return -1;
    *out = v;
    return 0;
}

static int parse_in(const char *arg, unsigned *mask)
{
    char *dup = strdup(arg), *save = NULL;
    if (!dup)
        return -1;
    int ok = 1;
    for (char *w = strtok_r(dup, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int k = pr_kind_parse(w);
        if (k < 0) {
            cli_err(VERB, "unknown usage '%s' in --in: give heap, stack, image, file, anon, "
                          "segment or other (a comma list)",
                    cli_esc(w));
            ok = 0;
            break;
        }
        *mask |= 1u << k;
    }
    if (ok && !*mask) {
        cli_err(VERB, "empty --in: give heap, stack, image, file, anon, segment or other");
        ok = 0;
    }
    free(dup);
    return ok ? 0 : -1;
}

/* ---- scanning ---------------------------------------------------------- */

typedef struct hit {
    uint64_t addr;
    size_t region;
} hit;

typedef struct search {
    pim *p;
    const pr_class *cls;
    uint8_t pat[4096];
    size_t len;          /* pattern bytes                                */
    size_t align;        /* 1 or the width                               */
    uint64_t value;
    const char *text;    /* --string                                     */
    size_t max;
    hit *hits;
    size_t nhits;        /* stored (at most max)                         */
    uint64_t total;      /* found                                        */
    size_t region;       /* the region being scanned                     */
    uint64_t scanned, to_scan, next_progress;
    int progress;
} search;

static void add_hit(search *s, uint64_t addr)
{
    if (s->nhits < s->max)
        s->hits[s->nhits++] = (hit){addr, s->region};
    s->total++;
}

/* Aligned numbers of width W: blocks of 256 bytes are compared without a
 * branch per word; a block with a match is looked at word by word. */
#define SCAN_ALIGNED(NAME, T)                                                              \
    static void NAME(search *s, const uint8_t *b, size_t n, uint64_t base)                 \
    {                                                                                      \
        const T v = (T)s->value;                                                           \
        const size_t per = 256 / sizeof(T);                                                \
        size_t nw = n / sizeof(T), i = 0;                                                  \
        for (; i + per <= nw; i += per) {                                                  \
            T blk[256 / sizeof(T)];                                                        \
            memcpy(blk, b + i * sizeof(T), sizeof blk);                                    \
            unsigned any = 0;                                                              \
            for (size_t k = 0; k < per; k++)                                               \
                any |= blk[k] == v;                                                        \
            if (__builtin_expect(any != 0, 0))                                             \
                for (size_t k = 0; k < per; k++)                                           \
                    if (blk[k] == v)                                                       \
                        add_hit(s, base + (i + k) * sizeof(T));                            \
        }                                                                                  \
        for (; i < nw; i++) {                                                              \
            T x;                                                                           \
            memcpy(&x, b + i * sizeof(T), sizeof x);                                       \
            if (x == v)                                                                    \
                add_hit(s, base + i * sizeof(T));                                          \
        }                                                                                  \
    }
SCAN_ALIGNED(scan_u16, uint16_t)
SCAN_ALIGNED(scan_u32, uint32_t)
#ifdef __SSE2__
SCAN_ALIGNED(scan_u64_words, uint64_t)
/* 8-byte words with SSE2, x86-64's baseline (it has no 64-bit compare,
 * which the compiler would need to vectorize the loop above): the 32-bit
 * halves are compared, and a word matches where both of its halves do
 * (the compare ANDed with itself, halves swapped).  256-byte blocks, ORed;
 * a block with a match is looked at word by word. */
static void scan_u64(search *s, const uint8_t *b, size_t n, uint64_t base)
{
    const __m128i v = _mm_set1_epi64x((long long)s->value);
    size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        __m128i acc = _mm_setzero_si128();
        for (size_t k = 0; k < 256; k += 16) {
            __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(b + i + k)), v);
            acc = _mm_or_si128(acc, _mm_and_si128(eq, _mm_shuffle_epi32(eq, 0xb1)));
        }
        if (__builtin_expect(_mm_movemask_epi8(acc) != 0, 0))
            scan_u64_words(s, b + i, 256, base + i);
    }
    if (i < n)
        scan_u64_words(s, b + i, n - i, base + i);
}
#else
SCAN_ALIGNED(scan_u64, uint64_t)
#endif

static int same(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static void scan_bytes(search *s, const uint8_t *b, size_t n, uint64_t base)
{
    if (s->len == 1) {
        const uint8_t *q = b, *end = b + n;
        while (q < end && (q = memchr(q, s->pat[0], (size_t)(end - q)))) {
            add_hit(s, base + (uint64_t)(q - b));
            q++;
        }
        return;
    }
    const uint8_t *q = b, *end = b + n;
    while ((size_t)(end - q) >= s->len && (q = memmem(q, (size_t)(end - q), s->pat, s->len))) {
        /* A match; the next ones, when they follow at once (a run of the
         * same bytes), are checked here rather than by one memmem call
         * each. */
        do {
            uint64_t a = base + (uint64_t)(q - b);
            if (s->align == 1 || a % s->align == 0)
                add_hit(s, a);
            q++;
        } while ((size_t)(end - q) >= s->len && same(q, s->pat, s->len));
    }
}

static void scan(search *s, const uint8_t *b, size_t n, uint64_t base)
{
    if (s->align > 1 && s->align == s->len) {
        switch (s->len) {
        case 2: scan_u16(s, b, n, base); return;
        case 4: scan_u32(s, b, n, base); return;
        case 8: scan_u64(s, b, n, base); return;
        default: break;
        }
    }
    scan_bytes(s, b, n, base);
}

static void progress(search *s, int done)
{
    if (!s->progress)
        return;
    if (done) {
        fputs("\r\033[K", stderr);
        return;
    }
    if (s->scanned < s->next_progress)
        return;
    s->next_progress = s->scanned + PROGRESS_STEP;
    char a[32], b[32];
    fmt_bytes((double)s->scanned, a, sizeof a);
    fmt_bytes((double)s->to_scan, b, sizeof b);
    fprintf(stderr, "\rpooltag search: %3.0f%%  %s of %s", 100.0 * (double)s->scanned /
            (double)(s->to_scan ? s->to_scan : 1), a, b);
}

/* Scan region i.  -1 when the process is gone. */
static int scan_region(search *s, size_t i, uint8_t *buf)
{
    const pim_region *r = &s->p->regions[i];
    uint64_t off = 0;
    size_t overlap = s->align == s->len && s->len > 1 && s->len <= 8 ? 0 : s->len - 1;
    s->region = i;
    while (off < r->avail) {
        size_t got = 0;
        const uint8_t *b = pim_bytes(s->p, r, off, CHUNK, buf, &got);
        if (!b || !got)
            return pim_gone(s->p) ? -1 : 0; /* the rest cannot be read */
        scan(s, b, got, r->start + off);
        uint64_t adv = got;
        if (off + got < r->avail && got > overlap)
            adv = got - overlap;
        off += adv;
        s->scanned += adv;
        progress(s, 0);
    }
    return 0;
}

/* ---- report ------------------------------------------------------------ */

enum { HC_ADDR, HC_USAGE, HC_WHERE, NHC };
static const emit_col hit_cols[NHC] = {
    [HC_ADDR] = {NULL, 16, 0, ""},
    [HC_USAGE] = {"usage", 10, EMIT_LEFT, "  "},
    [HC_WHERE] = {NULL, 0, EMIT_LEFT, " "},
};

static void report(emitter *e, search *s, const char *spec, unsigned in_mask, const char *what,
                   sym_ctx *sc)
{
    pim *p = s->p;
    char cell[64];
    emit_begin(e);
    if (!emit_json(e)) {
        fputs("   ", e->f);
        pr_describe(e->f, p, spec);
    }
    pr_emit_source(e, p, spec);
    emit_text(e, ": %s in ", what);
    if (in_mask == (1u << PR_NKINDS) - 1)
        emit_text(e, "every region");
    else
        for (int k = 0, first = 1; k < PR_NKINDS; k++)
            if (in_mask & (1u << k)) {
                emit_text(e, "%s%s", first ? "" : ", ", pr_kind_name(k));
                first = 0;
            }
    char sz[32];
    fmt_bytes((double)s->scanned, sz, sizeof sz);
    emit_text(e, " (%s searched): %" PRIu64 " hit%s\n", sz, s->total, s->total == 1 ? "" : "s");
    emit_obj_begin(e, "pattern");
    emit_kv_str(e, "kind", s->text ? "string" : "number");
    if (s->text) {
        emit_kv_str(e, "text", s->text);
        emit_kv_null(e, "value");
    } else {
        emit_kv_null(e, "text");
        emit_kv_hex(e, "value", s->value);
    }
    emit_kv_u64(e, "width", s->len);
    emit_kv_bool(e, "aligned", s->align > 1);
    emit_obj_end(e);
    emit_arr_begin(e, "in");
    for (int k = 0; k < PR_NKINDS; k++)
        if (in_mask & (1u << k))
            emit_kv_str(e, NULL, pr_kind_name(k));
    emit_arr_end(e);
    emit_kv_u64(e, "searched", s->scanned);
    emit_kv_u64(e, "total", s->total);
    emit_kv_bool(e, "truncated", s->total > s->nhits);
    if (s->nhits)
        emit_text(e, "\n%-16s  %-10s %s\n", "Address", "Usage", "Where");
    emit_table_begin(e, hit_cols, NHC);
    emit_arr_begin(e, "hits");
    for (size_t k = 0; k < s->nhits; k++) {
        const hit *h = &s->hits[k];
        const pr_class *c = &s->cls[h->region];
        const pim_region *r = &p->regions[h->region];
        emit_row_begin(e);
        snprintf(cell, sizeof cell, "%016" PRIx64, h->addr);
        emit_col_text(e, HC_ADDR, cell);
        emit_col_str(e, HC_USAGE, pr_kind_name(c->kind));
        sym_near nr = {0};
        const char *mod = NULL;
        if (sc && c->kind == PR_IMAGE && c->module >= 0) {
            mod = p->modules[c->module].name;
            sym_nearest(sc, (size_t)c->module, h->addr, &nr);
        }
        char where[CLI_ESC_MAX + 96];
        if (mod && nr.before && h->addr == nr.before_addr)
            snprintf(where, sizeof where, "%s!%s", cli_esc(mod), cli_esc(nr.before));
        else if (mod && nr.before)
            snprintf(where, sizeof where, "%s!%s+0x%" PRIx64, cli_esc(mod), cli_esc(nr.before),
                     h->addr - nr.before_addr);
        else if (mod)
            snprintf(where, sizeof where, "%s+0x%" PRIx64, cli_esc(mod),
                     h->addr - p->modules[c->module].start);
        else
            snprintf(where, sizeof where, "%s%s+0x%" PRIx64, cli_esc(c->detail),
                     c->detail && c->detail[0] ? " " : "", h->addr - r->start);
        emit_col_text(e, HC_WHERE, where);
        emit_kv_hex(e, "address", h->addr);
        emit_kv_str(e, "detail", c->detail);
        emit_kv_hex(e, "region_start", r->start);
        emit_kv_str(e, "module", mod);
        emit_kv_str(e, "symbol", nr.before);
        if (nr.before)
            emit_kv_u64(e, "offset", h->addr - nr.before_addr);
        else
            emit_kv_null(e, "offset");
        if (c->thread >= 0)
            emit_kv_u64(e, "tid", p->threads[c->thread].tid);
        else
            emit_kv_null(e, "tid");
        emit_row_end(e);
    }
    emit_arr_end(e);
    if (s->total > s->nhits)
        emit_text(e, "... more hits not shown: %" PRIu64 " (raise --max)\n",
                  s->total - s->nhits);
    emit_end(e);
}

int cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {
        {"width", required_argument, NULL, 'w'},
        {"unaligned", no_argument, NULL, 'u'},
        {"string", required_argument, NULL, 's'},
        {"in", required_argument, NULL, 'i'},
        {"max", required_argument, NULL, 'n'},
        {"stop", no_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, unaligned = 0, stop = 0, c, width_given = 0;
    uint64_t width = 8, max = 1000;
    const char *text = NULL;
    unsigned in_mask = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":w:us:i:n:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            if (cli_parse_u64(optarg, &width) < 0 ||
                (width != 1 && width != 2 && width != 4 && width != 8)) {
                cli_err(VERB, "bad --width '%s': give 1, 2, 4 or 8", cli_esc(optarg));
                return PT_EXIT_USAGE;
            }
            width_given = 1;
            break;
        case 'u': unaligned = 1; break;
        case 's': text = optarg; break;
        case 'i':
            if (parse_in(optarg, &in_mask) < 0)
                return PT_EXIT_USAGE;
            break;
        case 'n':
            if (cli_parse_u64(optarg, &max) < 0 || max > 100000000) {
                cli_err(VERB, "bad --max '%s': give a number of hits (0 to 100000000)",
                        cli_esc(optarg));
                return PT_EXIT_USAGE;
            }
            break;
        case 'S': stop = 1; break;
        case 'j': json = 1; break;
        case 'h':
            usage(stdout);
            return PT_EXIT_OK;
        default:
            cli_opt_error(VERB, argv, c);
            return PT_EXIT_USAGE;
        }
    }
    int nargs = argc - optind, want = text ? 1 : 2;
    if (nargs != want) {
        if (nargs == 0)
            cli_err(VERB, "missing SOURCE%s: give a PID or a core file (see pooltag search "
                          "--help)", text ? "" : " and VALUE");
        else if (nargs < want)
            cli_err(VERB, "missing VALUE after SOURCE: give a number such as 0x7f12a4c01000, "
                          "or --string TEXT (see pooltag search --help)");
        else
            cli_err(VERB, text ? "give either VALUE or --string TEXT, not both"
                               : "too many arguments (see pooltag search --help)");
        return PT_EXIT_USAGE;
    }
    static search s;
    memset(&s, 0, sizeof s);
    char what[CLI_ESC_MAX + 96];
    if (text) {
        size_t n = strlen(text);
        if (n == 0 || n > sizeof s.pat) {
            cli_err(VERB, "bad --string: give 1 to %zu bytes", sizeof s.pat);
            return PT_EXIT_USAGE;
        }
        if (width_given) {
            cli_err(VERB, "--width is for numbers, not with --string");
            return PT_EXIT_USAGE;
        }
        memcpy(s.pat, text, n);
        s.len = n;
        s.align = 1;
        s.text = text;
        snprintf(what, sizeof what, "\"%s\" (%zu bytes)", cli_esc(text), n);
    } else {
        const char *vs = argv[optind + 1];
        if (parse_value(vs, &s.value) < 0) {
            cli_err(VERB, "bad VALUE '%s': give a number, 0x... hex or decimal (up to 64 "
                          "bits), or --string TEXT",
                    cli_esc(vs));
            return PT_EXIT_USAGE;
        }
        if (width < 8 && (s.value >> (8 * width)) != 0) {
            cli_err(VERB, "VALUE %s does not fit in %" PRIu64 " byte%s (--width %" PRIu64 ")",
                    cli_esc(vs), width, width == 1 ? "" : "s", width);
            return PT_EXIT_USAGE;
        }
        s.len = (size_t)width;
        for (size_t k = 0; k < s.len; k++)
            s.pat[k] = (uint8_t)(s.value >> (8 * k));
        s.align = unaligned ? 1 : (size_t)width;
        snprintf(what, sizeof what, "0x%" PRIx64 " (%zu byte%s, %s)", s.value, s.len,
                 s.len == 1 ? "" : "s", unaligned || width == 1 ? "any address" : "aligned");
    }
    if (!in_mask)
        in_mask = (1u << PR_NKINDS) - 1;
    s.max = (size_t)max;

    const char *spec = argv[optind];
    char err[512];
    pim *p = NULL;
    if (pim_open(spec, stop ? PIM_STOP : 0, &p, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        return PT_EXIT_USAGE;
    }
    int status = PT_EXIT_USAGE;
    pr_class *cls = NULL;
    uint8_t *buf = NULL;
    sym_ctx *sc = NULL;
    s.p = p;
    /* The same usages as pooltag address gives (signatures only). */
    if (pr_classify(p, NULL, &cls, err, sizeof err) < 0) {
        cli_err(VERB, "%s", err);
        goto out;
    }
    s.cls = cls;
    s.hits = malloc((s.max ? s.max : 1) * sizeof *s.hits);
    buf = p->kind == PIM_LIVE ? malloc(CHUNK) : NULL;
    if (!s.hits || (p->kind == PIM_LIVE && !buf)) {
        cli_err(VERB, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < p->nregions; i++)
        if (in_mask & (1u << cls[i].kind))
            s.to_scan += p->regions[i].avail;
    s.progress = isatty(2) && s.to_scan >= PROGRESS_MIN;
    for (size_t i = 0; i < p->nregions; i++) {
        if (!(in_mask & (1u << cls[i].kind)) || p->regions[i].avail < s.len)
            continue;
        if (scan_region(&s, i, buf) < 0) {
            progress(&s, 1);
            cli_err(VERB, "process %" PRIu32 " exited during the scan", p->pid);
            goto out;
        }
    }
    progress(&s, 1);
    pim_resume(p);
    int image_hit = 0;
    for (size_t k = 0; k < s.nhits && !image_hit; k++)
        image_hit = cls[s.hits[k].region].kind == PR_IMAGE;
    if (image_hit) {
        sc = pim_symbols_bss(p, 0); /* globals in .bss named too */
        if (!sc) {
            cli_err(VERB, "out of memory");
            goto out;
        }
        pim_symbols_warn(sc, VERB);
    }
    emitter e;
    emit_init(&e, stdout, json ? EMIT_JSON : EMIT_TABLE);
    report(&e, &s, spec, in_mask, what, sc);
    if (fflush(stdout) == 0 && !ferror(stdout))
        status = s.total ? PT_EXIT_OK : PT_EXIT_FINDING;
out:
    sym_free(sc);
    free(buf);
    free(s.hits);
    pr_free(cls, p->nregions);
    pim_close(p);
    return status;
}
