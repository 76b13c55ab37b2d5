/*
 * sizeparse.c — the one size parser (sizeparse.h has the syntax).
 */
#include "sizeparse.h"

int pt_parse_size(const char *s, uint64_t *out, int units)
{
    const char *p = s;
    uint64_t v = 0;
    unsigned shift = 0;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (*p && units) {
        switch (*p | 0x20) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        case 't': shift = 40; break;
        case 'b': break;
        default: return -1;
        }
        if (shift) {
            p++;
            if ((*p | 0x20) == 'i')
                p++;
        }
        if ((*p | 0x20) == 'b')
            p++;
    }
    if (*p)
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}
