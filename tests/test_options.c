/*
 * test_options.c — the one size parser (src/common/sizeparse.c) and the
 * options table (src/common/options.def, opttab.c): syntax, edge cases and
 * overflow of sizes; choices; the table's own consistency (defaults within
 * limits, unique names, powers of two where the runtime rounds).
 */
#include "opttab.h"
#include "segment.h"
#include "pt_test.h"
#include "sizeparse.h"

#include <string.h>

static void size_ok(const char *s, int units, uint64_t want)
{
    uint64_t v = 12345;
    if (pt_parse_size(s, &v, units) != 0 || v != want) {
        fprintf(stderr, "pt_parse_size(\"%s\", %d): rc or value %" PRIu64
                        " wrong, want %" PRIu64 "\n", s, units, v, want);
        exit(1);
    }
}

static void size_bad(const char *s, int units)
{
    uint64_t v = 12345;
    if (pt_parse_size(s, &v, units) != -1 || v != 12345) {
        fprintf(stderr, "pt_parse_size(\"%s\", %d) accepted (%" PRIu64 ")\n", s,
                units, v);
        exit(1);
    }
}

static void test_sizes(void)
{
    size_ok("0", 1, 0);
    size_ok("4096", 1, 4096);
    size_ok("007", 1, 7);
    size_ok("100M", 1, 100ull << 20);
    size_ok("64KiB", 1, 64ull << 10);
    size_ok("64kib", 1, 64ull << 10);
    size_ok("64KB", 1, 64ull << 10);
    size_ok("64Ki", 1, 64ull << 10);
    size_ok("64k", 1, 64ull << 10);
    size_ok("3g", 1, 3ull << 30);
    size_ok("2T", 1, 2ull << 40);
    size_ok("2TiB", 1, 2ull << 40);
    size_ok("1B", 1, 1);
    size_ok("1b", 1, 1);
    /* The edge of 64 bits, before and after the unit. */
    size_ok("18446744073709551615", 1, UINT64_MAX);
    size_bad("18446744073709551616", 1);
    size_bad("99999999999999999999999", 1);
    size_ok("16777215T", 1, 16777215ull << 40);
    size_bad("16777216T", 1);                  /* exactly 2^64 */
    size_ok("17179869183G", 1, 17179869183ull << 30);
    size_bad("17179869184G", 1);
    size_ok("18014398509481983K", 1, 18014398509481983ull << 10);
    size_bad("18014398509481984K", 1);
    size_ok("00000000000000000000000001K", 1, 1024);
    /* Empty, junk, signs, spaces, fractions, other bases, doubled units. */
    const char *junk[] = {"", "K", "M", "B", "iB", "-1", "+1", " 1", "1 ",
                          "1 K", "1.5M", "0x10", "1e3", "1KK", "1KBB", "1bb",
                          "1iB", "1i", "1Kbi", "1P", "1E", "1Z", "1KiBx",
                          "1\n", "12a", "\xef\xbc\x91"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        size_bad(junk[i], 1);
    /* A count: digits only. */
    size_ok("12", 0, 12);
    size_ok("18446744073709551615", 0, UINT64_MAX);
    size_bad("1K", 0);
    size_bad("1B", 0);
    size_bad("", 0);
}

static void test_choices(void)
{
    char buf[16];
    CHECK(pt_opt_choice("mimalloc|libc", "mimalloc") == 0);
    CHECK(pt_opt_choice("mimalloc|libc", "LIBC") == 1);
    CHECK(pt_opt_choice("mimalloc|libc", "MiMalloc") == 0);
    CHECK(pt_opt_choice("mimalloc|libc", "lib") == -1);
    CHECK(pt_opt_choice("mimalloc|libc", "libcx") == -1);
    CHECK(pt_opt_choice("mimalloc|libc", "") == -1);
    CHECK(pt_opt_choice("mimalloc|libc", "mimalloc|libc") == -1);
    CHECK(pt_opt_choice("mimalloc|libc", "|") == -1);
    CHECK(pt_opt_choice(NULL, "x") == -1);
    CHECK(strcmp(pt_opt_choice_name("mimalloc|libc", 1, buf, sizeof buf), "libc") == 0);
    CHECK(strcmp(pt_opt_choice_name("mimalloc|libc", 0, buf, sizeof buf), "mimalloc") == 0);
    CHECK(strcmp(pt_opt_choice_name("mimalloc|libc", 2, buf, sizeof buf), "") == 0);
    CHECK(strcmp(pt_opt_choice_name("mimalloc|libc", -1, buf, sizeof buf), "") == 0);
    CHECK(strcmp(pt_opt_choice_name("mimalloc|libc", 0, buf, 4), "mim") == 0);
}

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static void test_table(void)
{
    size_t run = 0;
    for (size_t i = 0; i < PT_OPT_COUNT; i++) {
        const pt_opt_desc *o = &pt_opt_table[i];
        CHECK(o->name && strncmp(o->name, "PT_", 3) == 0 && o->name[3]);
        CHECK(o->help && *o->help && !strchr(o->help, '\n') && !strchr(o->help, '|'));
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(o->name, pt_opt_table[j].name) != 0);
        run += (o->flags & PT_OPTF_RUN) != 0;
        switch (o->kind) {
        case PT_OPTK_ENUM: {
            char c[32];
            CHECK(o->choices && *pt_opt_choice_name(o->choices, 1, c, sizeof c));
            CHECK(*pt_opt_choice_name(o->choices, (int)o->def, c, sizeof c));
            CHECK(pt_opt_choice(o->choices, c) == (int)o->def);
            break;
        }
        case PT_OPTK_SIZE:
        case PT_OPTK_COUNT:
            CHECK(o->min <= o->max);
            CHECK((o->def == 0 && (o->flags & PT_OPTF_ZERO_OFF)) ||
                  (o->def >= o->min && o->def <= o->max));
            if (o->flags & PT_OPTF_POW2)
                CHECK(is_pow2(o->def) && is_pow2(o->max));
            /* The runtime stores a COUNT in 32 bits. */
            if (o->kind == PT_OPTK_COUNT)
                CHECK(o->max <= UINT32_MAX);
            break;
        case PT_OPTK_PATH:
        case PT_OPTK_LIST:
            CHECK(o->maxn > 0 && o->maxlen > 0);
            break;
        default:
            break;
        }
        if (o->kind != PT_OPTK_PATH && o->kind != PT_OPTK_LIST)
            CHECK(o->maxn == 0 && o->maxlen == 0);
    }
    /* The pool maxima are the runtime's largest request, 1 TiB - 4097. */
    CHECK_EQ_U(pt_opt_table[PT_OPT_PAGED_MAX].max, (1ull << 40) - 4097);
    CHECK_EQ_U(pt_opt_table[PT_OPT_NONPAGED_MAX].max, (1ull << 40) - 4097);
    CHECK(strcmp(pt_opt_table[PT_OPT_FOLLOW_CHILDREN].name, "PT_FOLLOW_CHILDREN") == 0);
    CHECK_EQ_U(run, 22);
    /* Issue 11: the limits of the settings are the segment's. */
    CHECK_EQ_U(pt_opt_table[PT_OPT_STACK_DEPTH].max, PT_SEG_DEPTH_LIMIT);
    CHECK_EQ_U(PT_OPT_MAXN_HIT, PT_CTL_HIT_MAX);
    CHECK_EQ_U(PT_OPT_MAXN_VERIFY, PT_CTL_VERIFY_MAX);
    CHECK(pt_opt_table[PT_OPT_HIT].flags & PT_OPTF_RUN);
    CHECK(pt_opt_table[PT_OPT_VERIFY].flags & PT_OPTF_RUN);
    /* Issue 12: the selector lists and the pool's size are the segment's. */
    CHECK_EQ_U(PT_OPT_MAXN_SPECIAL, PT_SEL_MAX);
    CHECK_EQ_U(PT_OPT_MAXN_FAIL, PT_SEL_MAX);
    CHECK_EQ_U(pt_opt_table[PT_OPT_SPECIAL_MAX_PAGES].max, PT_SP_MAX_PAGES);
    CHECK(pt_opt_table[PT_OPT_SPECIAL].flags & PT_OPTF_RUN);
    CHECK(pt_opt_table[PT_OPT_FAIL].flags & PT_OPTF_RUN);
}

int main(void)
{
    test_sizes();
    test_choices();
    test_table();
    printf("options: ok (%d variables)\n", (int)PT_OPT_COUNT);
    return 0;
}
