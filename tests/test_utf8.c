/*
 * test_utf8.c — the one UTF-8 check (cli_utf8_len, src/lib/util.c) that the
 * table escaper, the JSON strings and serve's label values use: what it
 * accepts, what it refuses, and that it never reads past n bytes.
 */
#include "util.h"
#include "pt_test.h"

#include <stdint.h>
#include <string.h>

/* cli_utf8_len on the first len bytes of s (copied to a buffer of exactly
 * that size, so a read past n would be caught by ASan). */
static size_t len_of(const char *s, size_t len, size_t n)
{
    char *b = malloc(len ? len : 1);
    CHECK(b);
    memcpy(b, s, len);
    size_t k = cli_utf8_len(b, n);
    free(b);
    return k;
}

int main(void)
{
    /* Valid sequences of each length, at the ends of their ranges. */
    CHECK_EQ_U(len_of("a", 1, 1), 1);
    CHECK_EQ_U(len_of("\x7f", 1, 1), 1);
    CHECK_EQ_U(len_of("\xc2\x80", 2, 2), 2);          /* U+0080          */
    CHECK_EQ_U(len_of("\xc3\xa9", 2, 2), 2);          /* é               */
    CHECK_EQ_U(len_of("\xe0\xa0\x80", 3, 3), 3);      /* U+0800          */
    CHECK_EQ_U(len_of("\xef\xbf\xbf", 3, 3), 3);      /* U+FFFF          */
    CHECK_EQ_U(len_of("\xf0\x90\x80\x80", 4, 4), 4);  /* U+10000         */
    CHECK_EQ_U(len_of("\xf4\x8f\xbf\xbf", 4, 4), 4);  /* U+10FFFF        */
    /* Refused: stray continuation, bad lead bytes, overlong forms,
     * surrogates, past U+10FFFF, a continuation that is not one. */
    CHECK_EQ_U(len_of("\x80", 1, 1), 0);
    CHECK_EQ_U(len_of("\xff", 1, 1), 0);
    CHECK_EQ_U(len_of("\xf8\x88\x80\x80\x80", 5, 5), 0);
    CHECK_EQ_U(len_of("\xc0\xaf", 2, 2), 0);          /* overlong '/'    */
    CHECK_EQ_U(len_of("\xc1\xbf", 2, 2), 0);
    CHECK_EQ_U(len_of("\xe0\x9f\xbf", 3, 3), 0);      /* overlong U+07FF */
    CHECK_EQ_U(len_of("\xf0\x8f\xbf\xbf", 4, 4), 0);  /* overlong U+FFFF */
    CHECK_EQ_U(len_of("\xed\xa0\x80", 3, 3), 0);      /* U+D800          */
    CHECK_EQ_U(len_of("\xed\xbf\xbf", 3, 3), 0);      /* U+DFFF          */
    CHECK_EQ_U(len_of("\xf4\x90\x80\x80", 4, 4), 0);  /* U+110000        */
    CHECK_EQ_U(len_of("\xc3\x41", 2, 2), 0);
    CHECK_EQ_U(len_of("\xe2\x82\x41", 3, 3), 0);
    /* Cut short by n: refused, and nothing past n is read. */
    CHECK_EQ_U(len_of("\xc3", 1, 1), 0);
    CHECK_EQ_U(len_of("\xe2\x82", 2, 2), 0);
    CHECK_EQ_U(len_of("\xf0\x90\x80", 3, 3), 0);
    CHECK_EQ_U(len_of("\xe2\x82\xac", 3, 2), 0);
    CHECK_EQ_U(len_of("x", 1, 0), 0);
    /* NUL-terminated text with n = SIZE_MAX: the NUL ends a sequence. */
    CHECK_EQ_U(cli_utf8_len("\xe2\x82", SIZE_MAX), 0);
    CHECK_EQ_U(cli_utf8_len("\xe2\x82\xac", SIZE_MAX), 3);
    /* The table escaper uses it: valid kept, invalid as \xNN. */
    char buf[64];
    CHECK(strcmp(cli_text("\xc3\xa9\xc3\x41\xed\xa0\x80", buf, sizeof buf),
                 "\xc3\xa9\\xc3A\\xed\\xa0\\x80") == 0);
    return 0;
}
