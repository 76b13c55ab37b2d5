/* Tags and their text forms. */
#include <string.h>

#include "pooltag.h"
#include "pt_test.h"

_Static_assert(PT_TAG4('L', 'e', 'a', 'k') == 0x6b61654cu, "PT_TAG4 is an ICE");
static const uint32_t static_tag = PT_TAG("Stat"); /* folds to a constant */

int main(void)
{
    char buf[PT_TAG_TEXT_MAX];
    uint32_t t;

    /* Memory reads as the text. */
    uint32_t leak = PT_TAG("Leak");
    CHECK(memcmp(&leak, "Leak", 4) == 0);
    CHECK_EQ_U(PT_TAG("Leak"), 0x6b61654c);
    CHECK_EQ_U(static_tag, PT_TAG4('S', 't', 'a', 't'));

    /* Short tags are padded with spaces. */
    CHECK_EQ_U(PT_TAG("Se"), PT_TAG("Se  "));
    CHECK(strcmp(pt_tag_text(PT_TAG("Se"), buf), "Se  ") == 0);
    CHECK(pt_tag_parse("Se", &t) == 0 && t == PT_TAG("Se  "));

    /* Case-sensitive. */
    CHECK(PT_TAG("leak") != PT_TAG("Leak"));
    CHECK(pt_tag_parse("leak", &t) == 0 && t == PT_TAG("leak"));

    /* Round trip of every printable tag text we try. */
    const char *samples[] = {"Leak", "a", "ab", "abc", "Ovfl", "1234", "~!@#"};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        CHECK(pt_tag_parse(samples[i], &t) == 0);
        uint32_t t2;
        CHECK(pt_tag_parse(pt_tag_text(t, buf), &t2) == 0 && t2 == t);
    }

    /* Bytes outside printable ASCII are escaped, never dropped. */
    uint32_t odd = 0x01ff5c41u; /* 'A', '\\', 0xff, 0x01 */
    pt_tag_text(odd, buf);
    CHECK(strcmp(buf, "A\\x5c\\xff\\x01") == 0);
    CHECK(pt_tag_parse(buf, &t) == 0 && t == odd);
    pt_tag_text(0x00414141u, buf);
    CHECK(strcmp(buf, "AAA\\x00") == 0);
    CHECK(strlen(pt_tag_text(0x01010101u, buf)) == PT_TAG_TEXT_MAX - 1);

    /* Malformed text is refused. */
    CHECK(pt_tag_parse("", &t) == -1);
    CHECK(pt_tag_parse("Leaky", &t) == -1);
    CHECK(pt_tag_parse("\\xZZ", &t) == -1);
    CHECK(pt_tag_parse("\\x4", &t) == -1);
    CHECK(pt_tag_parse("\\x00\\x00\\x00\\x00", &t) == -1); /* tag 0 is "untagged" */
    puts("test_tags: ok");
    return 0;
}
