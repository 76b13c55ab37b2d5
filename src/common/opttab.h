/*
 * opttab.h — the table of PT_* environment variables (options.def) as data
 * that the runtime, the preload and the `pooltag` command share.
 *
 * pt_opt_table[PT_OPT_<ID>] describes variable "PT_<ID>"; the entries are
 * in the order of options.def, which is the order of PT_VERBOSE=1's lines
 * and of the docs' settings table.  The table is constant data: reading it
 * allocates nothing and takes no lock (the preload reads it before malloc
 * works).
 */
#ifndef PT_OPTTAB_H
#define PT_OPTTAB_H

#include <stddef.h>
#include <stdint.h>

/* The largest pool maximum: the runtime's largest request, PT_MAX_REQUEST
 * (a 40-bit size field less a page; src/runtime/options.c checks that the
 * two agree). */
#define PT_OPT_POOL_MAX ((1ull << 40) - 1 - 4096)

typedef enum {
    PT_OPTK_ENUM,
    PT_OPTK_BOOL,
    PT_OPTK_SIZE,
    PT_OPTK_COUNT,
    PT_OPTK_FLAG,
    PT_OPTK_PATH,
    PT_OPTK_LIST,
    PT_OPTK_TEXT,
} pt_opt_kind;

enum {
    PT_OPTF_POW2 = 1,     /* rounded up to a power of two                  */
    PT_OPTF_ZERO_OFF = 2, /* 0 = unlimited, allowed whatever min says      */
    PT_OPTF_MEMLOCK = 4,  /* default capped at RLIMIT_MEMLOCK / 2 (not root) */
    PT_OPTF_RUN = 8,      /* `pooltag run` has an option for it            */
};

/* PT_OPT_<ID>: the index of each variable; PT_OPT_COUNT of them. */
typedef enum {
#define PT_OPT(ID, KIND, FIELD, DEF, MIN, MAX, MAXN, MAXLEN, FLAGS, CHOICES, DOCDEF, HELP) \
    PT_OPT_##ID,
#include "options.def"
#undef PT_OPT
    PT_OPT_COUNT
} pt_opt_id;

/* PT_OPT_MAXN_<ID>, PT_OPT_MAXLEN_<ID>: the PATH and LIST limits as
 * constant expressions, for the runtime's buffers. */
#define PT_OPT(ID, KIND, FIELD, DEF, MIN, MAX, MAXN, MAXLEN, FLAGS, CHOICES, DOCDEF, HELP) \
    enum { PT_OPT_MAXN_##ID = (MAXN), PT_OPT_MAXLEN_##ID = (MAXLEN) };
#include "options.def"
#undef PT_OPT

typedef struct pt_opt_desc {
    const char *name;     /* "PT_BACKEND"                                  */
    pt_opt_kind kind;
    uint64_t def, min, max;
    uint32_t maxn, maxlen;
    unsigned flags;
    const char *choices;  /* ENUM: "a|b"                                   */
    const char *docdef;   /* NULL: the docs write def                      */
    const char *help;     /* one line, Markdown `code` spans               */
} pt_opt_desc;

extern const pt_opt_desc pt_opt_table[PT_OPT_COUNT];

/* Index of the '|' separated choice equal to s[0..) (ASCII case ignored)
 * in choices, or -1. */
int pt_opt_choice(const char *choices, const char *s);

/* The choice with index i into buf (size bytes, cut to fit); "" when there
 * is none.  Returns buf. */
const char *pt_opt_choice_name(const char *choices, int i, char *buf, size_t size);

#endif
