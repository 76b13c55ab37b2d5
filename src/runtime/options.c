/*
 * options.c — the runtime's settings, from one table of PT_* environment
 * variables.
 *
 * Parsing is tolerant: sizes take K/M/G/T suffixes (powers of 1024, with or
 * without "iB"/"B"), booleans take 1/0, yes/no, on/off, true/false.  A bad
 * value prints one warning line and keeps the default.  PT_VERBOSE=1 prints
 * the settings in effect at start.  Nothing here allocates: the table is
 * read with getenv, which does not allocate in glibc.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

pt_options pt__opt;

typedef enum { OPT_ENUM, OPT_SIZE, OPT_COUNT, OPT_BOOL } opt_kind;

typedef struct opt_desc {
    const char *name;
    opt_kind kind;
    const char *choices;   /* OPT_ENUM: '|' separated, index = value      */
    void *field;           /* int for ENUM and BOOL, else uint64_t or uint32_t */
    uint64_t min, max;     /* OPT_SIZE / OPT_COUNT bounds                 */
    int pow2;              /* round up to a power of two                  */
    const char *help;
} opt_desc;

static opt_desc opt_table[] = {
    {"PT_BACKEND", OPT_ENUM, "mimalloc|libc", &pt__opt.backend, 0, 0, 0,
     "allocator behind pooltag"},
    {"PT_ON_ERROR", OPT_ENUM, "report|abort", &pt__opt.on_error, 0, 0, 0,
     "what a caller error (bad/double free, tag mismatch) does"},
    {"PT_PAGED_MAX", OPT_SIZE, NULL, &pt__opt.paged_max, 0, PT_MAX_REQUEST, 0,
     "paged pool maximum, bytes (0 = unlimited)"},
    {"PT_NONPAGED_MAX", OPT_SIZE, NULL, &pt__opt.nonpaged_max, 0,
     PT_MAX_REQUEST, 0, "nonpaged pool maximum, bytes (0 = unlimited)"},
    {"PT_MAX_TAGS", OPT_COUNT, NULL, &pt__opt.max_tags, 16, 1u << 16, 1,
     "tag table capacity (power of two)"},
    {"PT_MAX_SITES", OPT_COUNT, NULL, &pt__opt.max_sites, 16, 1u << 16, 1,
     "call-site table capacity (power of two)"},
    {"PT_MAX_MODULES", OPT_COUNT, NULL, &pt__opt.max_modules, 16, 1u << 16, 0,
     "module table capacity (the preload)"},
    {"PT_MAX_THREADS", OPT_COUNT, NULL, &pt__opt.max_threads, 1, 4096, 0,
     "threads with private counter shards"},
    {"PT_PEAK_GRAIN", OPT_SIZE, NULL, &pt__opt.peak_grain, 64, 1u << 30, 1,
     "bytes between a thread's peak updates"},
    {"PT_VERBOSE", OPT_BOOL, NULL, &pt__opt.verbose, 0, 0, 0,
     "print the settings in effect at start"},
};

#define NOPTS (sizeof opt_table / sizeof opt_table[0])

static int parse_u64(const char *s, uint64_t *out, int allow_suffix)
{
    uint64_t v = 0;
    const char *p = s;
    if (!*p)
        return -1;
    while (*p >= '0' && *p <= '9') {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        p++;
    }
    if (p == s)
        return -1;
    if (allow_suffix && *p) {
        unsigned shift;
        switch (*p | 0x20) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        case 't': shift = 40; break;
        case 'b': shift = 0; p--; break;
        default: return -1;
        }
        p++;
        if ((*p | 0x20) == 'i')
            p++;
        if ((*p | 0x20) == 'b')
            p++;
        if (shift && v > (UINT64_MAX >> shift))
            return -1;
        v <<= shift;
    }
    if (*p)
        return -1;
    *out = v;
    return 0;
}

static int word_eq(const char *a, const char *b, size_t n)
{
    /* a is NUL-terminated user text, b a choice of length n; ASCII case
     * folding so "LIBC" works. */
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (!x)
            return 0;
        if ((x | 0x20) != (y | 0x20))
            return 0;
    }
    return a[n] == 0;
}

static int parse_enum(const char *s, const char *choices)
{
    int idx = 0;
    const char *c = choices;
    while (*c) {
        const char *e = strchr(c, '|');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (word_eq(s, c, n))
            return idx;
        idx++;
        c += n + (e ? 1 : 0);
    }
    return -1;
}

static int parse_bool(const char *s)
{
    static const char *yes[] = {"1", "yes", "on", "true"};
    static const char *no[] = {"0", "no", "off", "false"};
    for (int i = 0; i < 4; i++) {
        if (word_eq(s, yes[i], strlen(yes[i])))
            return 1;
        if (word_eq(s, no[i], strlen(no[i])))
            return 0;
    }
    return -1;
}

static uint64_t round_pow2(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

static void bad_value(const opt_desc *o, const char *val)
{
    char buf[256];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag: ignoring ");
    pt__bputs(&b, o->name);
    pt__bputs(&b, "='");
    pt__bputs(&b, val);
    pt__bputs(&b, "': expected ");
    if (o->kind == OPT_ENUM)
        pt__bputs(&b, o->choices);
    else if (o->kind == OPT_BOOL)
        pt__bputs(&b, "1 or 0");
    else {
        pt__bputs(&b, o->kind == OPT_SIZE ? "a size (K/M/G suffix) from "
                                          : "a number from ");
        pt__bputu(&b, o->min);
        pt__bputs(&b, " to ");
        pt__bputu(&b, o->max);
    }
    pt__bputs(&b, "\n");
    pt__write_stderr(b.p, b.len);
}

static uint64_t default_nonpaged_max(void)
{
    /* Nonpaged memory is locked; without CAP_IPC_LOCK the kernel caps it at
     * RLIMIT_MEMLOCK.  Half of that leaves room for the arena's slabs. */
    uint64_t cap = 64ull << 20;
    struct rlimit rl;
    if (geteuid() != 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < cap)
        cap = rl.rlim_cur / 2;
    return cap;
}

void pt__options_load(int default_on_error)
{
    pt__opt.backend = PT_BACKEND_MIMALLOC;
    pt__opt.on_error = default_on_error;
    pt__opt.paged_max = 0;
    pt__opt.nonpaged_max = default_nonpaged_max();
    pt__opt.max_tags = 1024;
    pt__opt.max_threads = 128;
    pt__opt.max_sites = 4096;
    pt__opt.max_modules = 512;
    pt__opt.peak_grain = 512;
    pt__opt.verbose = 0;

    for (size_t i = 0; i < NOPTS; i++) {
        const opt_desc *o = &opt_table[i];
        const char *val = getenv(o->name);
        if (!val)
            continue;
        int ok = 0;
        uint64_t v;
        int e;
        switch (o->kind) {
        case OPT_ENUM:
            if ((e = parse_enum(val, o->choices)) >= 0) {
                *(int *)o->field = e;
                ok = 1;
            }
            break;
        case OPT_BOOL:
            if ((e = parse_bool(val)) >= 0) {
                *(int *)o->field = e;
                ok = 1;
            }
            break;
        case OPT_SIZE:
        case OPT_COUNT:
            if (parse_u64(val, &v, o->kind == OPT_SIZE) == 0 &&
                (v == 0 && o->kind == OPT_SIZE && o->min == 0 ? 1 : v >= o->min) &&
                v <= o->max) {
                if (o->pow2)
                    v = round_pow2(v);
                if (o->field == &pt__opt.max_tags || o->field == &pt__opt.max_threads ||
                    o->field == &pt__opt.max_sites || o->field == &pt__opt.max_modules)
                    *(uint32_t *)o->field = (uint32_t)v;
                else
                    *(uint64_t *)o->field = v;
                ok = 1;
            }
            break;
        }
        if (!ok)
            bad_value(o, val);
    }
}

void pt__options_print(void)
{
    char buf[1024];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag: settings in effect (pid ");
    pt__bputu(&b, (uint64_t)getpid());
    pt__bputs(&b, ")\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_desc *o = &opt_table[i];
        pt__bputs(&b, "  ");
        pt__bputs(&b, o->name);
        pt__bputs(&b, "=");
        if (o->kind == OPT_ENUM) {
            int v = *(int *)o->field;
            const char *c = o->choices;
            for (int k = 0; k < v; k++)
                c = strchr(c, '|') + 1;
            const char *e = strchr(c, '|');
            size_t n = e ? (size_t)(e - c) : strlen(c);
            char w[32];
            if (n >= sizeof w)
                n = sizeof w - 1;
            memcpy(w, c, n);
            w[n] = 0;
            pt__bputs(&b, w);
        } else if (o->kind == OPT_BOOL) {
            pt__bputu(&b, (uint64_t)*(int *)o->field);
        } else if (o->field == &pt__opt.max_tags || o->field == &pt__opt.max_threads ||
                   o->field == &pt__opt.max_sites || o->field == &pt__opt.max_modules) {
            pt__bputu(&b, *(uint32_t *)o->field);
        } else {
            uint64_t v = *(uint64_t *)o->field;
            if (v == 0 && o->kind == OPT_SIZE)
                pt__bputs(&b, "unlimited");
            else
                pt__bputu(&b, v);
        }
        pt__bputs(&b, "  # ");
        pt__bputs(&b, o->help);
        pt__bputs(&b, "\n");
    }
    pt__write_stderr(b.p, b.len);
}
