/*
 * options.c — the runtime's settings, parsed from the PT_* environment
 * variables that src/common/options.def lists (one table for the runtime,
 * the preload, `pooltag run` and the docs).
 *
 * Data model: pt__opt holds one member per ENUM, BOOL, SIZE or COUNT
 * variable (generated in internal.h from the same table), set once by
 * pt__options_load at initialisation; PATH, LIST, FLAG and TEXT variables
 * have no member and are read with pt__opt_env when they are used
 * (modules.c, the preload).
 *
 * Parsing is tolerant: sizes take K/M/G/T units (src/common/sizeparse.h),
 * booleans take 1/0, yes/no, on/off, true/false, choices ignore ASCII
 * case.  A bad value prints one warning line and keeps the default.
 * PT_VERBOSE=1 prints every variable of the table with the value in
 * effect at start.
 *
 * Invariants: nothing here allocates or takes a lock (getenv does not
 * allocate in glibc; output goes through stack buffers and write), so it
 * runs in the preload before malloc works; the allocation fast path never
 * reads pt__opt.
 */
#include "internal.h"
#include "sizeparse.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

_Static_assert(PT_OPT_POOL_MAX == PT_MAX_REQUEST,
               "the table's pool maximum is the runtime's largest request");

pt_options pt__opt;

/* Where each variable's parsed value goes (NULL: no member). */
#define PT_OPT_PTR_ENUM(f) &pt__opt.f
#define PT_OPT_PTR_BOOL(f) &pt__opt.f
#define PT_OPT_PTR_SIZE(f) &pt__opt.f
#define PT_OPT_PTR_COUNT(f) &pt__opt.f
#define PT_OPT_PTR_FLAG(f) NULL
#define PT_OPT_PTR_PATH(f) NULL
#define PT_OPT_PTR_LIST(f) NULL
#define PT_OPT_PTR_TEXT(f) NULL
static void *const opt_field[PT_OPT_COUNT] = {
#define PT_OPT(ID, KIND, FIELD, DEF, MIN, MAX, MAXN, MAXLEN, FLAGS, CHOICES, DOCDEF, HELP) \
    [PT_OPT_##ID] = PT_OPT_PTR_##KIND(FIELD),
#include "options.def"
#undef PT_OPT
};

const char *pt__opt_env(pt_opt_id id)
{
    return getenv(pt_opt_table[id].name);
}

static int parse_bool(const char *s)
{
    int i = pt_opt_choice("1|yes|on|true|0|no|off|false", s);
    return i < 0 ? -1 : i < 4;
}

static uint64_t round_pow2(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

static void bad_value(const pt_opt_desc *o, const char *val)
{
    char buf[256];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag: ignoring ");
    pt__bputs(&b, o->name);
    pt__bputs(&b, "='");
    pt__bputs(&b, val);
    pt__bputs(&b, "': expected ");
    if (o->kind == PT_OPTK_ENUM)
        pt__bputs(&b, o->choices);
    else if (o->kind == PT_OPTK_BOOL)
        pt__bputs(&b, "1 or 0");
    else {
        pt__bputs(&b, o->kind == PT_OPTK_SIZE ? "a size (K/M/G suffix) from "
                                              : "a number from ");
        pt__bputu(&b, o->min);
        pt__bputs(&b, " to ");
        pt__bputu(&b, o->max);
    }
    pt__bputs(&b, "\n");
    pt__write_stderr(b.p, b.len);
}

static uint64_t memlock_cap(uint64_t cap)
{
    /* Nonpaged memory is locked; without CAP_IPC_LOCK the kernel caps it at
     * RLIMIT_MEMLOCK.  Half of that leaves room for the arena's slabs. */
    struct rlimit rl;
    if (geteuid() != 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < cap)
        cap = rl.rlim_cur / 2;
    return cap;
}

static void store(const pt_opt_desc *o, void *field, uint64_t v)
{
    if (o->kind == PT_OPTK_SIZE)
        *(uint64_t *)field = v;
    else if (o->kind == PT_OPTK_COUNT)
        *(uint32_t *)field = (uint32_t)v;
    else
        *(int *)field = (int)v;
}

void pt__options_load(int default_on_error)
{
    for (size_t i = 0; i < PT_OPT_COUNT; i++) {
        const pt_opt_desc *o = &pt_opt_table[i];
        void *field = opt_field[i];
        if (!field)
            continue;
        uint64_t def = o->def;
        if (o->flags & PT_OPTF_MEMLOCK)
            def = memlock_cap(def);
        store(o, field, def);
    }
    pt__opt.on_error = default_on_error;

    for (size_t i = 0; i < PT_OPT_COUNT; i++) {
        const pt_opt_desc *o = &pt_opt_table[i];
        void *field = opt_field[i];
        const char *val = field ? getenv(o->name) : NULL;
        if (!val)
            continue;
        int ok = 0, e;
        uint64_t v;
        switch (o->kind) {
        case PT_OPTK_ENUM:
            if ((e = pt_opt_choice(o->choices, val)) >= 0) {
                store(o, field, (uint64_t)e);
                ok = 1;
            }
            break;
        case PT_OPTK_BOOL:
            if ((e = parse_bool(val)) >= 0) {
                store(o, field, (uint64_t)e);
                ok = 1;
            }
            break;
        case PT_OPTK_SIZE:
        case PT_OPTK_COUNT:
            if (pt_parse_size(val, &v, o->kind == PT_OPTK_SIZE) == 0 &&
                ((v == 0 && (o->flags & PT_OPTF_ZERO_OFF)) || v >= o->min) &&
                v <= o->max) {
                if (o->flags & PT_OPTF_POW2)
                    v = round_pow2(v);
                store(o, field, v);
                ok = 1;
            }
            break;
        default:
            break;
        }
        if (!ok)
            bad_value(o, val);
    }
}

/* Append s without its Markdown backticks. */
static void bputs_plain(pt_buf *b, const char *s)
{
    char one[2] = {0, 0};
    for (; *s; s++)
        if (*s != '`') {
            one[0] = *s;
            pt__bputs(b, one);
        }
}

void pt__options_print(void)
{
    char buf[512];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag: settings in effect (pid ");
    pt__bputu(&b, (uint64_t)getpid());
    pt__bputs(&b, ")\n");
    pt__write_stderr(b.p, b.len);
    for (size_t i = 0; i < PT_OPT_COUNT; i++) {
        const pt_opt_desc *o = &pt_opt_table[i];
        const void *field = opt_field[i];
        const char *env;
        b.len = 0;
        pt__bputs(&b, "  ");
        pt__bputs(&b, o->name);
        pt__bputs(&b, "=");
        switch (o->kind) {
        case PT_OPTK_ENUM: {
            char w[32];
            pt__bputs(&b, pt_opt_choice_name(o->choices, *(const int *)field, w, sizeof w));
            break;
        }
        case PT_OPTK_BOOL:
            pt__bputu(&b, (uint64_t)*(const int *)field);
            break;
        case PT_OPTK_COUNT:
            pt__bputu(&b, *(const uint32_t *)field);
            break;
        case PT_OPTK_SIZE:
            if (*(const uint64_t *)field == 0 && (o->flags & PT_OPTF_ZERO_OFF))
                pt__bputs(&b, "unlimited");
            else
                pt__bputu(&b, *(const uint64_t *)field);
            break;
        case PT_OPTK_FLAG:
            env = getenv(o->name);
            pt__bputs(&b, env && strcmp(env, "1") == 0 ? "1" : "0");
            break;
        default:
            env = getenv(o->name);
            pt__bputs(&b, env && *env ? env : "(unset)");
            break;
        }
        pt__bputs(&b, "  # ");
        bputs_plain(&b, o->help);
        pt__bputs(&b, "\n");
        if (b.len + 1 == b.cap)   /* cut: still end the line */
            b.p[b.len - 1] = '\n';
        pt__write_stderr(b.p, b.len);
    }
}
