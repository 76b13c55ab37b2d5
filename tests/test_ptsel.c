/*
 * test_ptsel.c — the one selector syntax of the special pool and fault
 * injection (src/common/ptsel.c): what each form parses to, what is
 * refused and why, and that printing reads back to the same selector.
 */
#include "ptsel.h"
#include "pt_test.h"

#include <string.h>

static pt_seg_sel ok(const char *s, int fault)
{
    pt_seg_sel sel;
    const char *why = NULL;
    if (pt_sel_parse(s, fault, &sel, &why) != 0) {
        fprintf(stderr, "pt_sel_parse(\"%s\", %d) refused: %s\n", s, fault, why);
        exit(1);
    }
    /* printing reads back to the same selector */
    char buf[256];
    pt_sel_format(&sel, fault, buf, sizeof buf);
    pt_seg_sel again;
    if (pt_sel_parse(buf, fault, &again, &why) != 0 || memcmp(&sel, &again, sizeof sel) != 0) {
        fprintf(stderr, "\"%s\" prints as \"%s\", which does not read back\n", s, buf);
        exit(1);
    }
    return sel;
}

static void bad(const char *s, int fault, const char *want_in_why)
{
    pt_seg_sel sel;
    const char *why = NULL;
    if (pt_sel_parse(s, fault, &sel, &why) != -1 || !why || !strstr(why, want_in_why)) {
        fprintf(stderr, "pt_sel_parse(\"%s\", %d): accepted, or message \"%s\" lacks \"%s\"\n",
                s, fault, why ? why : "(none)", want_in_why);
        exit(1);
    }
}

static void printed(const char *s, int fault, const char *want)
{
    pt_seg_sel sel = ok(s, fault);
    char buf[256];
    pt_sel_format(&sel, fault, buf, sizeof buf);
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "\"%s\" prints as \"%s\", want \"%s\"\n", s, buf, want);
        exit(1);
    }
}

int main(void)
{
    pt_seg_sel s = ok("Ovr1", 0);
    CHECK_EQ_U(s.kind, PT_SEL_TAG);
    CHECK(strcmp(s.text, "Ovr1") == 0);
    s = ok("S*", 0);
    CHECK_EQ_U(s.kind, PT_SEL_TAG);
    s = ok("100-200", 0);
    CHECK_EQ_U(s.kind, PT_SEL_SIZE);
    CHECK_EQ_U(s.min, 100);
    CHECK_EQ_U(s.max, 200);
    s = ok("4K-1M", 0);
    CHECK_EQ_U(s.min, 4096);
    CHECK_EQ_U(s.max, 1048576);
    s = ok("0-0", 0);
    CHECK_EQ_U(s.kind, PT_SEL_SIZE);
    s = ok("module:libfoo*.so", 0);
    CHECK_EQ_U(s.kind, PT_SEL_MODULE);
    CHECK(strcmp(s.text, "libfoo*.so") == 0);
    s = ok("module:/usr/lib/*/libz.so.1", 0);
    CHECK(strcmp(s.text, "/usr/lib/*/libz.so.1") == 0);
    /* a tag that only looks like a range is a tag */
    s = ok("a-b", 0);
    CHECK_EQ_U(s.kind, PT_SEL_TAG);

    bad("", 0, "empty");
    bad("200-100", 0, "MIN <= MAX");
    bad("1x-2", 0, "size range");
    bad("module:", 0, "needs a glob");
    bad("module:a:b", 0, "':'");
    bad("Ovr1:50", 0, "TAG, MIN-MAX or module:GLOB");
    bad("0123456789abcdef", 0, "at most 15");
    bad("Ov\x01r", 0, "printable");

    /* fault injection */
    s = ok("Ovr1", 1);
    CHECK_EQ_U(s.kind, PT_SEL_TAG);
    CHECK_EQ_U(s.rate, PT_FI_RATE_ONE);
    CHECK_EQ_U(s.seed, 1);
    CHECK_EQ_U(s.after_ms, 0);
    s = ok("Ovr1:25", 1);
    CHECK_EQ_U(s.rate, 250000);
    s = ok("Ovr1:0.0001%", 1);
    CHECK_EQ_U(s.rate, 1);
    s = ok("module:libsqlite3*:12.5%:after=1.5:seed=7", 1);
    CHECK_EQ_U(s.kind, PT_SEL_MODULE);
    CHECK(strcmp(s.text, "libsqlite3*") == 0);
    CHECK_EQ_U(s.rate, 125000);
    CHECK_EQ_U(s.after_ms, 1500);
    CHECK_EQ_U(s.seed, 7);
    s = ok("Ovr1:seed=3:after=2", 1);
    CHECK_EQ_U(s.after_ms, 2000);
    CHECK_EQ_U(s.seed, 3);
    printed("Ovr1:25.50%:after=0.250:seed=9", 1, "Ovr1:25.5%:after=0.25:seed=9");
    printed("Ovr1:100", 1, "Ovr1");
    printed("4k-8k", 0, "4096-8192");

    bad("100-200", 1, "not by size");
    bad("Ovr1:0", 1, "PERCENT");
    bad("Ovr1:101", 1, "PERCENT");
    bad("Ovr1:1.00001", 1, "PERCENT");
    bad("Ovr1:50:50", 1, "PERCENT");
    bad("Ovr1:after=", 1, "PERCENT");
    bad("Ovr1:after=x", 1, "after=SECONDS");
    bad("Ovr1:after=1.0001", 1, "after=SECONDS");
    bad("Ovr1:seed=-1", 1, "seed=N");
    bad("Ovr1:seed=99999999999999999999999", 1, "seed=N");
    bad("Ovr1:", 1, "PERCENT");
    printf("ok\n");
    return 0;
}
