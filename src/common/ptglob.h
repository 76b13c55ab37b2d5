/*
 * ptglob.h — the one pattern matcher of pooltag, for the runtime (which
 * must not allocate or lock: PT_TAGS, PT_BEHALF, PT_WRAPPERS, PT_HIT,
 * PT_VERIFY) and the command (tag patterns, `hit`, `verify --module`), so
 * that what the command says matches is what the process matches.
 *
 * Patterns: '*' any run of bytes (including '/'), '?' one byte, anything
 * else itself; no classes, no escapes.
 */
#ifndef PT_GLOB_H
#define PT_GLOB_H

#include <stdint.h>
#include <string.h>

#include "pooltag.h" /* pt_tag_text, PT_TAG_TEXT_MAX */

static inline int pt_glob(const char *pat, const char *text)
{
    const char *star = NULL, *resume = NULL;
    while (*text) {
        if (*pat == '*') {
            star = pat++;
            resume = text;
        } else if (*pat == '?' || *pat == *text) {
            pat++;
            text++;
        } else if (star) {
            pat = star + 1;
            text = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == 0;
}

/* A tag matches a pattern by its text (pt_tag_text), with or without its
 * trailing padding spaces: "S?" matches "Se  ". */
static inline int pt_tag_glob(const char *pat, uint32_t tag)
{
    char text[PT_TAG_TEXT_MAX];
    pt_tag_text(tag, text);
    if (pt_glob(pat, text))
        return 1;
    size_t n = strlen(text);
    while (n && text[n - 1] == ' ')
        text[--n] = 0;
    return n > 0 && pt_glob(pat, text);
}

/* A module glob (PT_VERIFY, `verify --module`): with a '/' it matches the
 * module's full path, else its base name. */
static inline int pt_module_glob(const char *glob, const char *path)
{
    const char *base = strrchr(path, '/');
    return pt_glob(glob, strchr(glob, '/') ? path : base ? base + 1 : path);
}

#endif /* PT_GLOB_H */
