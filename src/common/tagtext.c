/* tagtext.c — tags as text: printing (never dropping a byte) and parsing. */
#include "pooltag.h"

#include <string.h>

static const char hexdig[] = "0123456789abcdef";

/* Trailing spaces are padding: printed as spaces so columns line up and
 * "Se  " reads as typed.  Non-printable bytes, and backslash, are escaped. */
char *pt_tag_text(uint32_t tag, char *buf)
{
    char *o = buf;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(tag >> (8 * i));
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            *o++ = (char)c;
        } else {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hexdig[c >> 4];
            *o++ = hexdig[c & 15];
        }
    }
    *o = 0;
    return buf;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int pt_tag_parse(const char *text, uint32_t *tag)
{
    uint32_t t = 0;
    int n = 0;
    if (!text || !*text)
        return -1;
    for (const char *s = text; *s; n++) {
        unsigned c;
        if (n == 4)
            return -1;
        if (s[0] == '\\' && s[1] == 'x') {
            int hi = hexval(s[2]), lo = hi >= 0 ? hexval(s[3]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned)(hi << 4 | lo);
            s += 4;
        } else {
            c = (unsigned char)*s++;
        }
        t |= (uint32_t)c << (8 * n);
    }
    for (; n < 4; n++)
        t |= (uint32_t)' ' << (8 * n);
    if (t == 0)
        return -1;
    *tag = t;
    return 0;
}
