/*
 * opttab.c — pt_opt_table, generated from options.def, and the choice
 * helpers.  Nothing here allocates or takes a lock: the preload uses it
 * before malloc works.
 */
#include "opttab.h"

const pt_opt_desc pt_opt_table[PT_OPT_COUNT] = {
#define PT_OPT(ID, KIND, FIELD, DEF, MIN, MAX, MAXN, MAXLEN, FLAGS, CHOICES, DOCDEF, HELP) \
    [PT_OPT_##ID] = {"PT_" #ID, PT_OPTK_##KIND, (DEF), (MIN), (MAX), (MAXN), (MAXLEN), \
                     (FLAGS), (CHOICES), (DOCDEF), (HELP)},
#include "options.def"
#undef PT_OPT
};

int pt_opt_choice(const char *choices, const char *s)
{
    int idx = 0;
    const char *c = choices;
    if (!c)
        return -1;
    for (;;) {
        const char *a = s, *b = c;
        /* ASCII case folding, so that "LIBC" works. */
        while (*a && *b && *b != '|' && (*a | 0x20) == (*b | 0x20))
            a++, b++;
        if (!*a && (!*b || *b == '|'))
            return idx;
        while (*c && *c != '|')
            c++;
        if (!*c)
            return -1;
        c++;
        idx++;
    }
}

const char *pt_opt_choice_name(const char *choices, int i, char *buf, size_t size)
{
    const char *c = choices;
    size_t n = 0;
    for (; c && i > 0; i--) {
        while (*c && *c != '|')
            c++;
        c = *c ? c + 1 : NULL;
    }
    if (c && i == 0)
        while (c[n] && c[n] != '|' && n + 1 < size)
            buf[n] = c[n], n++;
    if (size)
        buf[n] = 0;
    return buf;
}
