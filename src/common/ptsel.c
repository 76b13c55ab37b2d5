/*
 * ptsel.c — selectors of the special pool and of fault injection: see
 * ptsel.h.  No allocation, no libc call that could allocate.
 */
#include "ptsel.h"

#include <string.h>

#include "sizeparse.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal with at most `decimals` digits after the point, scaled by
 * 10^decimals, into *out; the whole string must be taken. */
static int parse_fixed(const char *s, size_t n, unsigned decimals, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned frac = 0;
    int seen_point = 0, digits = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.' && !seen_point) {
            seen_point = 1;
            continue;
        }
        if (!is_digit(c))
            return -1;
        if (seen_point && ++frac > decimals)
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(c - '0');
        digits++;
    }
    if (!digits)
        return -1;
    for (; frac < decimals; frac++) {
        if (v > UINT64_MAX / 10)
            return -1;
        v *= 10;
    }
    *out = v;
    return 0;
}

/* "MIN-MAX" with sizes: 1 = it is one (parsed into out or *why set),
 * 0 = not a size range at all. */
static int size_range(const char *s, pt_seg_sel *out, const char **why, int *bad)
{
    const char *dash = strchr(s, '-');
    *bad = 0;
    if (!dash || dash == s || !is_digit(s[0]) || !is_digit(dash[1]))
        return 0;
    char a[32], b[32];
    size_t na = (size_t)(dash - s), nb = strlen(dash + 1);
    if (na >= sizeof a || nb >= sizeof b) {
        *why = "a size in a size range is too long";
        *bad = 1;
        return 1;
    }
    memcpy(a, s, na);
    a[na] = 0;
    memcpy(b, dash + 1, nb + 1);
    uint64_t lo, hi;
    if (pt_parse_size(a, &lo, 1) < 0 || pt_parse_size(b, &hi, 1) < 0) {
        *why = "a size range is MIN-MAX with sizes such as 100, 4K, 1M";
        *bad = 1;
        return 1;
    }
    if (lo > hi) {
        *why = "a size range needs MIN <= MAX";
        *bad = 1;
        return 1;
    }
    out->kind = PT_SEL_SIZE;
    out->min = lo;
    out->max = hi;
    return 1;
}

int pt_sel_parse(const char *s, int fault, pt_seg_sel *out, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    memset(out, 0, sizeof *out);
    if (!s || !*s) {
        *why = "an empty selector";
        return -1;
    }
    size_t len = strlen(s);
    /* the selector proper ends at the first ':' after an optional "module:" */
    const char *body = s;
    int module = 0;
    if (strncmp(s, "module:", 7) == 0) {
        module = 1;
        body = s + 7;
    }
    const char *end = fault ? strchr(body, ':') : NULL;
    if (!end)
        end = s + len;
    size_t n = (size_t)(end - body);
    if (!fault && memchr(body, ':', n)) {
        *why = module ? "a module glob cannot hold ':'"
                      : "a special pool selector is TAG, MIN-MAX or module:GLOB";
        return -1;
    }
    if (module) {
        if (n == 0) {
            *why = "module: needs a glob";
            return -1;
        }
        if (n >= PT_CTL_GLOB_LEN) {
            *why = "a module glob is at most 119 characters";
            return -1;
        }
        out->kind = PT_SEL_MODULE;
        memcpy(out->text, body, n);
        out->text[n] = 0;
    } else {
        char tmp[PT_CTL_GLOB_LEN];
        if (n >= sizeof tmp) {
            *why = "a tag pattern is at most 15 characters";
            return -1;
        }
        memcpy(tmp, body, n);
        tmp[n] = 0;
        int bad;
        if (size_range(tmp, out, why, &bad)) {
            if (bad)
                return -1;
            if (fault) {
                *why = "fault injection selects by TAG or module:GLOB, not by size";
                return -1;
            }
        } else {
            if (n == 0) {
                *why = "an empty tag pattern";
                return -1;
            }
            if (n >= PT_CTL_PAT_LEN) {
                *why = "a tag pattern is at most 15 characters";
                return -1;
            }
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)tmp[i] < 0x20 || (unsigned char)tmp[i] >= 0x7f) {
                    *why = "a tag pattern holds printable characters only";
                    return -1;
                }
            out->kind = PT_SEL_TAG;
            memcpy(out->text, tmp, n + 1);
        }
    }
    if (!fault)
        return 0;
    out->rate = PT_FI_RATE_ONE;
    out->seed = 1;
    int have_rate = 0, have_after = 0, have_seed = 0;
    while (*end == ':') {
        const char *f = end + 1;
        const char *e = strchr(f, ':');
        if (!e)
            e = f + strlen(f);
        size_t fn = (size_t)(e - f);
        uint64_t v;
        if (fn > 6 && strncmp(f, "after=", 6) == 0) {
            if (have_after++ || parse_fixed(f + 6, fn - 6, 3, &v) < 0 || v > 86400000000ull) {
                *why = "after=SECONDS takes one number of seconds (up to 3 decimals)";
                return -1;
            }
            out->after_ms = (uint32_t)v;
        } else if (fn > 5 && strncmp(f, "seed=", 5) == 0) {
            if (have_seed++ || parse_fixed(f + 5, fn - 5, 0, &v) < 0) {
                *why = "seed=N takes one decimal number";
                return -1;
            }
            out->seed = v;
        } else {
            size_t k = fn;
            if (k && f[k - 1] == '%')
                k--;
            if (have_rate++ || parse_fixed(f, k, 4, &v) < 0 || v == 0 ||
                v > PT_FI_RATE_ONE) {
                *why = "PERCENT is a number from 0.0001 to 100";
                return -1;
            }
            out->rate = (uint32_t)v;
        }
        end = e;
    }
    if (*end) {
        *why = "unexpected text after the selector";
        return -1;
    }
    return 0;
}

static void put(char *buf, size_t cap, size_t *n, const char *s)
{
    for (; *s; s++, (*n)++)
        if (*n + 1 < cap)
            buf[*n] = *s;
}

static void put_u(char *buf, size_t cap, size_t *n, uint64_t v)
{
    char t[24];
    int i = 0;
    do {
        t[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char r[24];
    int k = 0;
    while (i)
        r[k++] = t[--i];
    r[k] = 0;
    put(buf, cap, n, r);
}

/* v / 10^dec without trailing zeros */
static void put_fixed(char *buf, size_t cap, size_t *n, uint64_t v, unsigned dec)
{
    uint64_t p = 1;
    for (unsigned i = 0; i < dec; i++)
        p *= 10;
    put_u(buf, cap, n, v / p);
    uint64_t f = v % p;
    if (!f)
        return;
    char t[8] = {0}; /* (cppcheck: t is filled for every i < dec) */
    for (unsigned i = dec; i-- > 0;) {
        t[i] = (char)('0' + f % 10);
        f /= 10;
    }
    unsigned k = dec;
    while (k && t[k - 1] == '0')
        k--;
    t[k] = 0;
    put(buf, cap, n, ".");
    put(buf, cap, n, t);
}

size_t pt_sel_format(const pt_seg_sel *s, int fault, char *buf, size_t cap)
{
    size_t n = 0;
    char text[PT_CTL_GLOB_LEN];
    memcpy(text, s->text, sizeof text);
    text[sizeof text - 1] = 0;
    switch (s->kind) {
    case PT_SEL_TAG:
        put(buf, cap, &n, text);
        break;
    case PT_SEL_SIZE:
        put_u(buf, cap, &n, s->min);
        put(buf, cap, &n, "-");
        put_u(buf, cap, &n, s->max);
        break;
    case PT_SEL_MODULE:
        put(buf, cap, &n, "module:");
        put(buf, cap, &n, text);
        break;
    default:
        put(buf, cap, &n, "?");
        break;
    }
    if (fault) {
        if (s->rate != PT_FI_RATE_ONE) {
            put(buf, cap, &n, ":");
            put_fixed(buf, cap, &n, s->rate, 4);
            put(buf, cap, &n, "%");
        }
        if (s->after_ms) {
            put(buf, cap, &n, ":after=");
            put_fixed(buf, cap, &n, s->after_ms, 3);
        }
        if (s->seed != 1) {
            put(buf, cap, &n, ":seed=");
            put_u(buf, cap, &n, s->seed);
        }
    }
    if (cap)
        buf[n < cap ? n : cap - 1] = 0;
    return n < cap ? n : (cap ? cap - 1 : 0);
}
