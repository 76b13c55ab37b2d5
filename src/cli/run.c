/*
 * run.c — `pooltag run [options] -- CMD [ARGS...]`: start an unmodified
 * program with every allocation tagged, by loading libpooltag-preload.so
 * into it through LD_PRELOAD.
 *
 * Data model
 * ----------
 * run is a translator from options to the environment the preload reads,
 * followed by an exec:
 *
 *     option               variable               when the option is absent
 *     --backend=B          PT_BACKEND=B           $PT_BACKEND passes through
 *     --tags FILE          PT_TAGS=/abs/FILE      $PT_TAGS passes through
 *     --wrapper PAT ...    PT_WRAPPERS=P1,P2      $PT_WRAPPERS passes through
 *     --behalf PAT ...     PT_BEHALF=P1,P2        $PT_BEHALF, checked
 *     --on-error=P         PT_ON_ERROR=P          $PT_ON_ERROR passes through
 *     --paged-max SIZE     PT_PAGED_MAX=bytes     $PT_PAGED_MAX passes through
 *     --nonpaged-max SIZE  PT_NONPAGED_MAX=bytes  $PT_NONPAGED_MAX passes through
 *     --verbose            PT_VERBOSE=1           $PT_VERBOSE passes through
 *     --follow-children    PT_FOLLOW_CHILDREN=1   PT_FOLLOW_CHILDREN removed
 *     --hit TAG ...        PT_HIT=T1,T2           $PT_HIT, checked
 *     --hit-trap           PT_HIT_TRAP=1          $PT_HIT_TRAP passes through
 *     --verify GLOB ...    PT_VERIFY=G1,G2        $PT_VERIFY, checked
 *     --fail-on-leak       PT_FAIL_ON_LEAK=1      $PT_FAIL_ON_LEAK passes through
 *     --stack-depth N      PT_STACK_DEPTH=N       $PT_STACK_DEPTH, checked
 *     --special SEL ...    PT_SPECIAL=S1,S2       $PT_SPECIAL, checked
 *     --underrun           PT_SPECIAL_UNDERRUN=1  $PT_SPECIAL_UNDERRUN passes through
 *     --exact              PT_SPECIAL_EXACT=1     $PT_SPECIAL_EXACT passes through
 *     --recover            PT_SPECIAL_RECOVER=1   $PT_SPECIAL_RECOVER passes through
 *     --sample N           PT_SAMPLE_GUARD=N      $PT_SAMPLE_GUARD, checked
 *     --quarantine N       PT_QUARANTINE=N        $PT_QUARANTINE, checked
 *     --max-pages N        PT_SPECIAL_MAX_PAGES=N $PT_SPECIAL_MAX_PAGES, checked
 *     --fail SPEC ...      PT_FAIL=F1,F2          $PT_FAIL, checked
 *     (always)             LD_PRELOAD=PRELOAD[:previous entries]
 *
 * The variables' names, choices, defaults and limits, and the list that -v
 * prints, come from the runtime's options table (src/common/options.def);
 * so does the docs' settings table, printed by the hidden option
 * --settings-table.
 *
 * An option overrides the variable; a variable that comes from the
 * environment is checked exactly as the option would be, so a bad value is
 * an error here rather than a warning the preload prints and ignores.
 * Following children is decided by the flag alone: `pooltag run` without it
 * always means "only CMD is tagged".
 *
 * PT_PRELOAD_ACTIVE, which the preload sets in its own process, is removed:
 * one inherited from a tagged parent says nothing about CMD.
 *
 * Invariants
 * ----------
 * - Everything is checked before the exec: once CMD runs, run is gone and
 *   can no longer say anything.  Errors are one line, exit status 2; a CMD
 *   that is missing or cannot be executed gives 127 / 126 as a shell would.
 * - run execs CMD in place (no fork): the PID the user sees is the tagged
 *   program's, signals reach it directly, and its exit status (or the
 *   signal that killed it) is run's.
 * - LD_PRELOAD holds exactly one libpooltag-preload.so, first: earlier
 *   copies (a run inside a run) are removed, other entries kept in order.
 * - CMD must be able to take the preload: a dynamically linked ELF of this
 *   build's class and machine (or a script, whose interpreter gets it), not
 *   one the loader runs in secure mode (set-ID, file capabilities), where
 *   LD_PRELOAD is dropped and the program would run untagged unnoticed.
 * - Nothing is written to stdout; stdin, stdout and stderr are CMD's
 *   untouched, and every file run opens is closed (or close-on-exec).
 *
 * The preload is found through $POOLTAG_PRELOAD, else relative to this
 * executable (the build tree's src/preload, then an install's library
 * directories), then the configured install directory (PT_LIBDIR).
 */
#include "verbs.h"
#include "elfdyn.h"
#include "opttab.h"
#include "ptsel.h"
#include "util.h"
#include "procfs.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef PT_LIBDIR
#define PT_LIBDIR "/usr/local/lib"         /* configured install libdir     */
#endif
#ifndef PT_LIBDIR_REL
#define PT_LIBDIR_REL "lib"                /* the same, from the prefix     */
#endif
#ifndef PT_MULTIARCH
#define PT_MULTIARCH ""                    /* e.g. x86_64-linux-gnu         */
#endif

#define PRELOAD_NAME "libpooltag-preload.so"

/* Names, choices, defaults and limits of the PT_* variables come from the
 * runtime's options table (src/common/options.def, opttab.h); OPT(ID) is
 * its entry for PT_<ID>. */
#define OPT(id) (&pt_opt_table[PT_OPT_##id])

/* What the preload reads of a rules file (the PT_TAGS limits): more would
 * be dropped there without a word. */
#define RUN_RULES_MAX PT_OPT_MAXN_TAGS
#define RUN_RULES_BYTES PT_OPT_MAXLEN_TAGS

#define RUN_EXIT_NOEXEC 126
#define RUN_EXIT_NOTFOUND 127

static const char *VERB = "run";

typedef struct run_cfg {
    const char *backend;     /* as given (checked later), NULL = env      */
    const char *on_error;    /* as given (checked later), NULL = env      */
    const char *tags;        /* rules file as given, NULL = env           */
    char *wrappers;          /* comma-joined --wrapper values, NULL = env */
    char *behalf;            /* comma-joined --behalf values, NULL = env  */
    const char *paged_max;   /* SIZE text as given, NULL = env            */
    const char *nonpaged_max;
    int follow;              /* --follow-children                         */
    int verbose;             /* --verbose                                 */
    char *hit;               /* comma-joined --hit values, NULL = env     */
    char *verify;            /* comma-joined --verify values, NULL = env  */
    int hit_trap;            /* --hit-trap                                */
    int fail_on_leak;        /* --fail-on-leak                            */
    const char *stack_depth; /* COUNT text as given, NULL = env           */
    char *special;           /* comma-joined --special values, NULL = env */
    char *fail;              /* comma-joined --fail values, NULL = env    */
    int underrun, exact, recover; /* --underrun, --exact, --recover       */
    const char *sample;      /* COUNT texts as given, NULL = env          */
    const char *quarantine;
    const char *max_pages;
} run_cfg;

/* What run learned about an ELF file (its header and program headers). */
typedef struct elf_id {
    int is_elf;
    unsigned char cls;       /* ELFCLASS32 / ELFCLASS64                   */
    uint16_t type;           /* ET_EXEC, ET_DYN                           */
    uint16_t machine;
    int has_interp;          /* PT_INTERP: started by the dynamic loader  */
    int is_pie;              /* DF_1_PIE: an executable, not a library    */
} elf_id;

/* A size as the usage text writes it: "64M" (the largest unit that
 * divides it), or the number of bytes. */
static const char *size_text(uint64_t v, char *buf, size_t size)
{
    static const char units[] = "TGMK";
    for (int i = 0; i < 4; i++) {
        uint64_t u = 1ull << (10 * (4 - i));
        if (v && v % u == 0) {
            snprintf(buf, size, "%" PRIu64 "%c", v / u, units[i]);
            return buf;
        }
    }
    snprintf(buf, size, "%" PRIu64, v);
    return buf;
}

/* Write text to f in lines of at most width columns, breaking at spaces. */
static void wrap(FILE *f, const char *text, size_t width)
{
    size_t col = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " ");
        if (col && col + 1 + n > width) {
            fputc('\n', f);
            col = 0;
        } else if (col) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, n, f);
        col += n;
        p += n;
        p += strspn(p, " ");
    }
    if (col)
        fputc('\n', f);
}

static void usage(FILE *f)
{
    char be[64], oe[64], arg[64], def[32], vars[512];
    size_t vl = 0;
    fputs(
        "Usage: pooltag run [options] -- CMD [ARGS...]\n"
        "\n"
        "Start CMD with every allocation tagged: libpooltag-preload.so is\n"
        "loaded into it (LD_PRELOAD) and charges each malloc, calloc, realloc,\n"
        "free, operator new/delete ... to a tag named after the module that\n"
        "asked for it.  No rebuild of CMD is needed.\n"
        "\n"
        "run replaces itself with CMD (exec, no fork): the PID of `pooltag\n"
        "run` is CMD's PID, signals go straight to CMD, and CMD's exit status\n"
        "is run's.  Inspect it while it runs:\n"
        "    pooltag run -- redis-server &\n"
        "    pooltag mon $!;  pooltag used $!;  pooltag vm $!;  pooltag snap $!\n"
        "\n"
        "Options:\n",
        f);
    snprintf(arg, sizeof arg, "--backend=%s", OPT(BACKEND)->choices);
    fprintf(f,
        "  %-24s allocator behind pooltag (default\n"
        "                           %s; libc perturbs the program least)\n",
        arg, pt_opt_choice_name(OPT(BACKEND)->choices, (int)OPT(BACKEND)->def,
                                be, sizeof be));
    fputs(
        "  --tags FILE              tag rules, one \"GLOB TAG\" per line: a module\n"
        "                           whose file name (full path when GLOB has a\n"
        "                           '/') matches GLOB gets TAG (1-4 characters,\n"
        "                           \\xNN escapes); \"func:GLOB TAG\" tags what\n"
        "                           functions named GLOB allocate; the first\n"
        "                           matching rule wins; '#' starts a comment line\n"
        "  --wrapper PAT            treat functions matching PAT (a glob, e.g.\n"
        "                           'xmalloc*') as allocator wrappers: the call\n"
        "                           site is their caller; repeatable\n"
        "  --behalf PAT             an API that allocates for its callers: a\n"
        "                           module file name glob ('libfoo*') or a\n"
        "                           function name glob ('api_*'); what its code\n"
        "                           allocates is charged, as its call site, to\n"
        "                           the first caller outside it (see pooltag\n"
        "                           sites); the tag is unchanged; repeatable\n"
        "  --follow-children        programs CMD execs are tagged too (each with\n"
        "                           its own counters); without it only CMD is\n",
        f);
    snprintf(arg, sizeof arg, "--on-error=%s", OPT(ON_ERROR)->choices);
    fprintf(f,
        "  %-24s what a bad or double free does (default\n"
        "                           %s: counted and logged, CMD goes on)\n",
        arg, pt_opt_choice_name(OPT(ON_ERROR)->choices, (int)OPT(ON_ERROR)->def,
                                oe, sizeof oe));
    fprintf(f,
        "  --paged-max SIZE         paged pool maximum (K/M/G/T suffixes, at\n"
        "                           most %" PRIu64 " = 1T - 4097; 0 =\n"
        "                           unlimited, the default)\n"
        "  --nonpaged-max SIZE      nonpaged pool maximum (default: %s, or half\n"
        "                           of RLIMIT_MEMLOCK when that is lower; the\n"
        "                           same limits as --paged-max)\n",
        OPT(PAGED_MAX)->max, size_text(OPT(NONPAGED_MAX)->def, def, sizeof def));
    fprintf(f,
        "  --hit TAG                record the stack of every allocation and\n"
        "                           free of tags matching TAG ('*', '?'; 1-4\n"
        "                           characters) in the hit ring from the start\n"
        "                           (see pooltag hit); repeatable, at most %d\n"
        "  --hit-trap               each hit event also stops the thread with\n"
        "                           SIGTRAP for a debugger (not fatal without one)\n"
        "  --verify GLOB            track the outstanding blocks of modules whose\n"
        "                           path or base name matches GLOB ('libfoo*'),\n"
        "                           with stacks (see pooltag verify); repeatable,\n"
        "                           at most %d\n"
        "  --fail-on-leak           exit with status 1 when a verified module\n"
        "                           leaked (at dlclose or at exit)\n"
        "  --stack-depth N          frames captured per stack, %" PRIu64 " to %" PRIu64 "\n"
        "                           (default %" PRIu64 ")\n",
        PT_OPT_MAXN_HIT, PT_OPT_MAXN_VERIFY, OPT(STACK_DEPTH)->min,
        OPT(STACK_DEPTH)->max, OPT(STACK_DEPTH)->def);
    fprintf(f,
        "  --special SEL            allocations selected by SEL get guard pages\n"
        "                           from the start (see pooltag special): a tag\n"
        "                           pattern, MIN-MAX requested bytes or\n"
        "                           module:GLOB; repeatable, at most %d\n"
        "  --underrun               special blocks start after a guard page\n"
        "                           (underruns) instead of ending before one\n"
        "  --exact                  special blocks end exactly at the page end\n"
        "  --recover                after a special pool report CMD goes on\n"
        "                           instead of dying\n"
        "  --sample N               about 1 in N of the selected allocations (of\n"
        "                           all, without --special) get guard pages;\n"
        "                           %" PRIu64 " to %" PRIu64 " (default %" PRIu64 ": every selected one)\n"
        "  --quarantine N           pages of freed special blocks kept\n"
        "                           inaccessible, %" PRIu64 " to %" PRIu64 " (default %" PRIu64 ")\n"
        "  --max-pages N            pages the special pool may hold, %" PRIu64 " to\n"
        "                           %" PRIu64 " (default %" PRIu64 ")\n"
        "  --fail SPEC              fault injection: allocations of SPEC (TAG or\n"
        "                           module:GLOB, then :PERCENT, :after=SECONDS,\n"
        "                           :seed=N) fail with ENOMEM; repeatable, at\n"
        "                           most %d\n",
        PT_OPT_MAXN_SPECIAL, OPT(SAMPLE_GUARD)->min, OPT(SAMPLE_GUARD)->max,
        OPT(SAMPLE_GUARD)->def, OPT(QUARANTINE)->min, OPT(QUARANTINE)->max,
        OPT(QUARANTINE)->def, OPT(SPECIAL_MAX_PAGES)->min, OPT(SPECIAL_MAX_PAGES)->max,
        OPT(SPECIAL_MAX_PAGES)->def, PT_OPT_MAXN_FAIL);
    fputs(
        "  -v, --verbose            print what run does and, from CMD, the\n"
        "                           settings in effect (PT_VERBOSE=1)\n"
        "  -h, --help               this text\n"
        "\n",
        f);
    vars[0] = 0;
    for (size_t i = 0; i < PT_OPT_COUNT; i++)
        if (pt_opt_table[i].flags & PT_OPTF_RUN)
            vl += (size_t)snprintf(vars + vl, vl < sizeof vars ? sizeof vars - vl : 0,
                                   "%s%s", vl ? ", " : "", pt_opt_table[i].name);
    char para[1024];
    snprintf(para, sizeof para,
             "Each option sets the PT_ variable the preload reads (%s); a "
             "variable already in the environment is used when its option "
             "is not given, and is checked the same way.", vars);
    wrap(f, para, 72);
    fputs(
        "CMD is looked up in PATH.  The preload is $POOLTAG_PRELOAD (which must\n"
        "be pooltag's preload), else the one beside this pooltag (../preload/,\n"
        "../lib/), else the one in " PT_LIBDIR ".\n"
        "\n"
        "Exit status: CMD's (128+N when a signal N killed it); 2 usage or\n"
        "input error, 126 CMD cannot be executed, 127 CMD not found -- all\n"
        "reported before CMD starts.\n",
        f);
}

/* ---------------------------------------------------------------------- */
/* Checking values                                                        */

/* Check an enumerated setting (the choices of table entry o, ASCII case
 * ignored as the runtime does) into canon (its spelling in the table);
 * `what` names its source in messages ("--backend", "PT_BACKEND (from the
 * environment)"), `noun` the thing. */
static int check_enum(const char *what, const char *noun, const char *val,
                      const pt_opt_desc *o, char *canon, size_t size)
{
    int i = pt_opt_choice(o->choices, val);
    if (i < 0) {
        char c0[32], c1[32];
        cli_err(VERB, "%s: unknown %s '%s' (use %s or %s)", what, noun, val,
                pt_opt_choice_name(o->choices, 0, c0, sizeof c0),
                pt_opt_choice_name(o->choices, 1, c1, sizeof c1));
        return -1;
    }
    pt_opt_choice_name(o->choices, i, canon, size);
    return 0;
}

/* Check a pool maximum (a SIZE entry o of the table, 0 = unlimited). */
static int check_size(const char *what, const char *val, const pt_opt_desc *o,
                      char *buf, size_t size)
{
    uint64_t v;
    if (pt_parse_size(val, &v, 1) < 0) {
        cli_err(VERB,
                "%s: '%s' is not a size (digits with an optional K, M, G or "
                "T suffix, at most %llu bytes; 0 = unlimited)",
                what, val, (unsigned long long)o->max);
        return -1;
    }
    if (v > o->max) {
        /* The runtime keeps a pool maximum in its 40-bit size field. */
        cli_err(VERB,
                "%s: '%s' is over the largest pool maximum, %llu bytes "
                "(1T - 4097; 0 = unlimited)",
                what, val, (unsigned long long)o->max);
        return -1;
    }
    snprintf(buf, size, "%" PRIu64, v);
    return 0;
}

/* Append pat to the comma-separated *list (malloc'd).  Returns 0, or -1
 * after a one-line message. */
static int append_pattern(char **list, const char *pat)
{
    size_t old = *list ? strlen(*list) : 0, n = strlen(pat);
    char *nl = realloc(*list, old + n + 2);
    if (!nl) {
        cli_err(VERB, "out of memory");
        return -1;
    }
    if (old)
        nl[old++] = ',';
    memcpy(nl + old, pat, n + 1);
    *list = nl;
    return 0;
}

/* Append one --wrapper value (itself possibly a comma-separated list) to
 * *list.  Returns 0, or -1 after an error message. */
static int add_wrapper(char **list, const char *pat)
{
    size_t n = strlen(pat);
    if (n == 0 || pat[0] == ',' || pat[n - 1] == ',' || strstr(pat, ",,")) {
        cli_err(VERB, "--wrapper wants a function name pattern such as "
                      "'xmalloc*', not '%s'", pat);
        return -1;
    }
    for (const char *p = pat; *p; p++)
        if (isspace((unsigned char)*p)) {
            cli_err(VERB, "--wrapper '%s': a function name pattern has no "
                          "spaces", pat);
            return -1;
        }
    return append_pattern(list, pat);
}

/* The runtime's limits for PT_BEHALF (the options table). */
#define BEHALF_MAX_PATTERNS PT_OPT_MAXN_BEHALF
#define BEHALF_MAX_TEXT PT_OPT_MAXLEN_BEHALF

/* Check a --hit / --verify value or PT_HIT / PT_VERIFY (comma-separated
 * patterns, `have` already given): each 1..maxlen characters without
 * spaces, commas or control characters, at most maxn in all and maxtext
 * characters of text.  `noun` names a pattern in messages.  Returns 0, or
 * -1 after a one-line message. */
static int check_list(const char *what, const char *noun, const char *val,
                      size_t have, size_t maxn, size_t maxlen, size_t maxtext)
{
    size_t n = strlen(val), count = have;
    if (n == 0 || val[0] == ',' || val[n - 1] == ',' || strstr(val, ",,")) {
        cli_err(VERB, "%s wants %s, not '%s'", what, noun, val);
        return -1;
    }
    if (n > maxtext) {
        cli_err(VERB, "%s: the patterns are longer than %zu characters in all",
                what, maxtext);
        return -1;
    }
    for (const char *p = val; *p;) {
        size_t len = strcspn(p, ",");
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)p[i];
            if (isspace(c) || iscntrl(c)) {
                cli_err(VERB, "%s '%s': a pattern has no spaces or control "
                              "characters", what, val);
                return -1;
            }
        }
        if (len > maxlen) {
            cli_err(VERB, "%s '%.*s': longer than %zu characters", what,
                    (int)len, p, maxlen);
            return -1;
        }
        count++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (count > maxn) {
        cli_err(VERB, "%s: at most %zu patterns", what, maxn);
        return -1;
    }
    return 0;
}

/* Check a --behalf value or PT_BEHALF (comma-separated globs): `what`
 * names the source.  Beyond check_list: a pattern must name something
 * (not only '*' and '?').  Returns 0, or -1 after a one-line message. */
static int check_behalf(const char *what, const char *val, size_t have)
{
    if (check_list(what, "a module or function name pattern such as 'libfoo*' or 'api_*'",
                   val, have, BEHALF_MAX_PATTERNS, BEHALF_MAX_TEXT, BEHALF_MAX_TEXT) < 0)
        return -1;
    for (const char *p = val; *p;) {
        size_t len = strcspn(p, ",");
        if (strspn(p, "*?") >= len) {
            cli_err(VERB, "%s '%.*s' matches every module and function: name the API "
                          "('libfoo*', 'api_*')", what, (int)len, p);
            return -1;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Append one --behalf value to *list after checking it. */
static int add_behalf(char **list, const char *pat)
{
    size_t have = 0, old = *list ? strlen(*list) : 0, n = strlen(pat);
    for (size_t i = 0; i < old; i++)
        have += (*list)[i] == ',';
    if (check_behalf("--behalf", pat, old ? have + 1 : 0) < 0)
        return -1;
    if (old + n + 1 > BEHALF_MAX_TEXT) {
        cli_err(VERB, "--behalf: the patterns are longer than %d characters "
                      "in all", BEHALF_MAX_TEXT);
        return -1;
    }
    return append_pattern(list, pat);
}

static int check_hit(const char *what, const char *val, size_t have)
{
    return check_list(what, "tag patterns such as 'Leak' or 'Se*'", val, have,
                      PT_OPT_MAXN_HIT, PT_CTL_PAT_LEN - 1, PT_OPT_MAXLEN_HIT);
}

static int check_verify(const char *what, const char *val, size_t have)
{
    return check_list(what, "module name globs such as 'libfoo*'", val, have,
                      PT_OPT_MAXN_VERIFY, PT_CTL_GLOB_LEN - 1,
                      PT_OPT_MAXLEN_VERIFY);
}

/* Check a --special / --fail value or PT_SPECIAL / PT_FAIL (comma-
 * separated selectors, `have` already given): each one as pt_sel_parse
 * reads it (fault = 1: fault injection's syntax), at most maxn in all and
 * maxtext characters of text.  Returns 0, or -1 after a one-line message
 * (a bad selector: pt_sel_parse's reason). */
static int check_sel_list(const char *what, const char *val, size_t have, int fault,
                          size_t maxn, size_t maxtext)
{
    size_t n = strlen(val), count = have;
    if (n == 0 || val[0] == ',' || val[n - 1] == ',' || strstr(val, ",,")) {
        cli_err(VERB, "%s wants %s, not '%s'", what,
                fault ? "TAG or module:GLOB[:PERCENT][:after=SECONDS][:seed=N]"
                      : "a tag pattern, MIN-MAX or module:GLOB", val);
        return -1;
    }
    if (n > maxtext) {
        cli_err(VERB, "%s: the selectors are longer than %zu characters in all", what,
                maxtext);
        return -1;
    }
    for (const char *p = val; *p;) {
        size_t len = strcspn(p, ",");
        char one[PT_CTL_GLOB_LEN + 64];
        pt_seg_sel sel;
        const char *why = "too long";
        int bad = len >= sizeof one;
        if (!bad) {
            memcpy(one, p, len);
            one[len] = 0;
            bad = pt_sel_parse(one, fault, &sel, &why) < 0;
        }
        if (bad) {
            cli_err(VERB, "%s: bad selector '%.*s': %s", what, (int)len, p, why);
            return -1;
        }
        count++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (count > maxn) {
        cli_err(VERB, "%s: at most %zu selectors", what, maxn);
        return -1;
    }
    return 0;
}

static int check_special(const char *what, const char *val, size_t have)
{
    return check_sel_list(what, val, have, 0, PT_OPT_MAXN_SPECIAL, PT_OPT_MAXLEN_SPECIAL);
}

static int check_fail(const char *what, const char *val, size_t have)
{
    return check_sel_list(what, val, have, 1, PT_OPT_MAXN_FAIL, PT_OPT_MAXLEN_FAIL);
}

/* Append one --hit, --verify, --special or --fail value to *list after
 * checking it. */
static int add_listed(char **list, const char *val,
                      int (*check)(const char *, const char *, size_t),
                      const char *what)
{
    size_t have = 0, old = *list ? strlen(*list) : 0;
    for (size_t i = 0; i < old; i++)
        have += (*list)[i] == ',';
    if (check(what, val, old ? have + 1 : 0) < 0)
        return -1;
    if (append_pattern(list, val) < 0)
        return -1;
    return check(what, *list, 0);   /* the joined text's length */
}

/* Check a stack depth (the COUNT entry PT_STACK_DEPTH) into buf. */
static int check_count(const char *what, const char *val, const pt_opt_desc *o,
                       char *buf, size_t size)
{
    unsigned long long v = 0;
    size_t n = strlen(val);
    int ok = n > 0 && n <= 10 && strspn(val, "0123456789") == n;
    if (ok)
        v = strtoull(val, NULL, 10);
    if (!ok || v < o->min || v > o->max) {
        cli_err(VERB, "%s: '%s' is not a number from %" PRIu64 " to %" PRIu64,
                what, val, o->min, o->max);
        return -1;
    }
    snprintf(buf, size, "%llu", v);
    return 0;
}

/* Check the rules file PATH line by line (the format in the usage text and
 * docs/run.md) and put its absolute path in abs (PATH_MAX bytes), so CMD
 * finds it whatever its working directory.  `what` names the source for
 * messages about the file itself ("--tags", "PT_TAGS from the
 * environment").  Returns 0, or -1 after a one-line message that names the
 * line and what is wrong with it. */
static int check_rules(const char *what, const char *path, char *abs)
{
    struct stat st;
    FILE *f;
    char *line = NULL;
    size_t cap = 0, lineno = 0, nrules = 0;
    ssize_t len;
    int rc = -1;

    if (!*path) {
        cli_err(VERB, "%s: empty file name", what);
        return -1;
    }
    if (stat(path, &st) < 0) {
        cli_err(VERB, "%s: cannot read rules file '%s': %s", what, path,
                strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        cli_err(VERB, "%s: rules file '%s' is not a regular file", what,
                path);
        return -1;
    }
    if (st.st_size > RUN_RULES_BYTES) {
        cli_err(VERB, "%s: rules file '%s' is %lld bytes; the preload reads "
                      "at most %d", what, path, (long long)st.st_size,
                RUN_RULES_BYTES);
        return -1;
    }
    if (!(f = fopen(path, "re"))) {
        cli_err(VERB, "%s: cannot read rules file '%s': %s", what, path,
                strerror(errno));
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, 0, (size_t)len)) {
            cli_err(VERB, "%s:%zu: a NUL byte (the rules file is text: "
                          "GLOB TAG per line)", path, lineno);
            goto out;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        char *glob = s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
        char *glob_end = s;
        while (*s == ' ' || *s == '\t')
            s++;
        char *tag = s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
        char *tag_end = s;
        while (*s == ' ' || *s == '\t')
            s++;
        *glob_end = 0;
        if (!*tag) {
            cli_err(VERB, "%s:%zu: '%s' has no tag (a rule is GLOB TAG, "
                          "e.g. 'libxml2.so* xml2')", path, lineno, glob);
            goto out;
        }
        if (*s) {
            cli_err(VERB, "%s:%zu: unexpected '%s' after the tag (a rule "
                          "is GLOB TAG; a tag has no spaces, write one as "
                          "\\x20)", path, lineno, s);
            goto out;
        }
        *tag_end = 0;
        uint32_t t;
        if (pt_tag_parse(tag, &t) < 0) {
            cli_err(VERB, "%s:%zu: bad tag '%s': 1 to 4 characters, "
                          "\\xNN for any other byte", path, lineno, tag);
            goto out;
        }
        if (++nrules > RUN_RULES_MAX) {
            cli_err(VERB, "%s:%zu: more than %d rules; the preload reads "
                          "at most %d", path, lineno, RUN_RULES_MAX,
                    RUN_RULES_MAX);
            goto out;
        }
    }
    if (ferror(f)) {
        cli_err(VERB, "%s: cannot read rules file '%s': %s", what, path,
                strerror(errno));
        goto out;
    }
    if (!realpath(path, abs)) {
        cli_err(VERB, "%s: cannot resolve '%s': %s", what, path,
                strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

/* The interpreter a "#!" line names (first word), into buf.  Returns 0
 * when PATH does not start with "#!". */
static int script_interpreter(const char *path, char *buf, size_t size)
{
    char line[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n < 2 || line[0] != '#' || line[1] != '!')
        return 0;
    line[n] = 0;
    char *p = line + 2;
    p += strspn(p, " \t");
    size_t len = strcspn(p, " \t\n");
    if (!len)
        return 0;
    p[len] = 0;
    snprintf(buf, size, "%s", p);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* ELF files                                                              */

/* Read the ELF identity of PATH into *id.  A file that is not ELF (a
 * script) gives is_elf = 0.  Returns 0, or -1 with errno when the file
 * cannot be read at all. */
static int elf_identify(const char *path, elf_id *id)
{
    unsigned char h[sizeof(Elf64_Ehdr)];
    memset(id, 0, sizeof *id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, h, sizeof h, 0);
    if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(h, ELFMAG, SELFMAG) != 0 ||
        (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64) ||
        h[EI_DATA] != ELFDATA2LSB) {
        close(fd);
        return 0;   /* not ELF, or not one this little-endian tool reads */
    }
    id->is_elf = 1;
    id->cls = h[EI_CLASS];
    uint64_t phoff;
    uint16_t phentsize, phnum;
    if (id->cls == ELFCLASS64) {
        Elf64_Ehdr e;
        if (n < (ssize_t)sizeof e) {
            close(fd);
            return 0;
        }
        memcpy(&e, h, sizeof e);
        id->type = e.e_type, id->machine = e.e_machine;
        phoff = e.e_phoff, phentsize = e.e_phentsize, phnum = e.e_phnum;
    } else {
        Elf32_Ehdr e;
        memcpy(&e, h, sizeof e);
        id->type = e.e_type, id->machine = e.e_machine;
        phoff = e.e_phoff, phentsize = e.e_phentsize, phnum = e.e_phnum;
    }
    size_t want = id->cls == ELFCLASS64 ? sizeof(Elf64_Phdr)
                                        : sizeof(Elf32_Phdr);
    if (phentsize != want)
        phnum = 0;
    uint64_t dyn_off = 0, dyn_size = 0;
    for (uint16_t i = 0; i < phnum; i++) {
        unsigned char ph[sizeof(Elf64_Phdr)];
        if (pread(fd, ph, want, (off_t)(phoff + (uint64_t)i * want)) !=
            (ssize_t)want)
            break;
        uint32_t type;
        memcpy(&type, ph, sizeof type);   /* p_type leads both layouts */
        if (type == PT_INTERP)
            id->has_interp = 1;
        if (type == PT_DYNAMIC && id->cls == ELFCLASS64) {
            Elf64_Phdr p;
            memcpy(&p, ph, sizeof p);
            dyn_off = p.p_offset, dyn_size = p.p_filesz;
        }
    }
    /* DT_FLAGS_1 & DF_1_PIE marks an executable, which ld.so refuses to
     * preload even though it is ET_DYN like a library. */
    for (uint64_t o = 0; dyn_size && o + sizeof(Elf64_Dyn) <= dyn_size &&
                         o < 4096 * sizeof(Elf64_Dyn);
         o += sizeof(Elf64_Dyn)) {
        Elf64_Dyn d;
        if (pread(fd, &d, sizeof d, (off_t)(dyn_off + o)) != sizeof d ||
            d.d_tag == DT_NULL)
            break;
        if (d.d_tag == DT_FLAGS_1 && (d.d_un.d_val & DF_1_PIE))
            id->is_pie = 1;
    }
    close(fd);
    return 0;
}

static const char *elf_class_name(unsigned char cls)
{
    return cls == ELFCLASS64 ? "64-bit" : "32-bit";
}

/* ---------------------------------------------------------------------- */
/* Finding the preload                                                    */

/* Is the shared object at PATH pooltag's preload?  It exports the
 * interposed malloc and pooltag's API (pt_alloc); read from its dynamic
 * symbol table, never loaded. */
static int is_pooltag_preload(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int ok = 0;
    Elf *e = elf_version(EV_CURRENT) != EV_NONE ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
    const char **names = NULL;
    size_t n = 0;
    if (e && ed_export_names(e, &names, &n) == 0)
        ok = ed_defines(names, n, "malloc") && ed_defines(names, n, "pt_alloc");
    free(names);
    if (e)
        elf_end(e);
    close(fd);
    return ok;
}

/* Is PATH a usable preload for this pooltag (a shared object of the same
 * class and machine, pooltag's)?  On no, writes the reason into why. */
static int preload_ok(const char *path, const elf_id *self, char *why,
                      size_t size)
{
    struct stat st;
    elf_id id;
    if (stat(path, &st) < 0) {
        snprintf(why, size, "%s", strerror(errno));
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, size, "not a regular file");
        return 0;
    }
    if (elf_identify(path, &id) < 0) {
        snprintf(why, size, "%s", strerror(errno));
        return 0;
    }
    if (!id.is_elf || id.type != ET_DYN || id.is_pie) {
        snprintf(why, size, "not an ELF shared object");
        return 0;
    }
    if (self->is_elf &&
        (id.cls != self->cls || id.machine != self->machine)) {
        snprintf(why, size, "built for another machine (%s, e_machine %u)",
                 elf_class_name(id.cls), id.machine);
        return 0;
    }
    if (!is_pooltag_preload(path)) {
        snprintf(why, size, "not pooltag's preload (a " PRELOAD_NAME
                            " defines malloc and pt_alloc; this does not)");
        return 0;
    }
    return 1;
}

/* Find the preload into out (PATH_MAX bytes, absolute).  Returns 0, or -1
 * after the error message. */
static int find_preload(const elf_id *self, char *out)
{
    char why[256], exe[PATH_MAX], cand[PATH_MAX + 128];
    const char *env = getenv("POOLTAG_PRELOAD");

    if (env && *env) {
        if (!preload_ok(env, self, why, sizeof why)) {
            cli_err(VERB, "POOLTAG_PRELOAD=%s: %s", env, why);
            return -1;
        }
        if (!realpath(env, out)) {
            cli_err(VERB, "POOLTAG_PRELOAD=%s: %s", env, strerror(errno));
            return -1;
        }
        return 0;
    }

    /* Candidates, in order: under the executable's prefix (the parent of
     * its directory; /proc/self/exe is canonical, so cutting two path
     * components is the real ".."), "" entries skipped; then the
     * configured install directory. */
    const char *rel[] = {"preload", PT_LIBDIR_REL, "lib",
                         *PT_MULTIARCH ? "lib/" PT_MULTIARCH : ""};
    const size_t nrel = sizeof rel / sizeof rel[0];
    char dirs[sizeof rel / sizeof rel[0] + 1][PATH_MAX + 64];
    size_t ndirs = 0;
    char *cut = ptp_read_exe(0, exe, sizeof exe) > 0 ? strrchr(exe, '/') : NULL;
    if (cut) {
        *cut = 0;                              /* PREFIX/bin */
        cut = strrchr(exe, '/');
        if (cut)
            *cut = 0;                          /* PREFIX ("" for /) */
    }
    for (size_t i = 0; i <= nrel; i++) {
        char dir[PATH_MAX + 64];
        if (i < nrel) {
            if (!cut || !*rel[i])
                continue;
            snprintf(dir, sizeof dir, "%s/%s", exe, rel[i]);
        } else {
            snprintf(dir, sizeof dir, "%s", PT_LIBDIR);
        }
        size_t k = 0;
        while (k < ndirs && strcmp(dirs[k], dir) != 0)
            k++;
        if (k < ndirs)
            continue;                          /* looked there already */
        memcpy(dirs[ndirs++], dir, sizeof dir);
        snprintf(cand, sizeof cand, "%s/" PRELOAD_NAME, dir);
        if (preload_ok(cand, self, why, sizeof why) && realpath(cand, out))
            return 0;
    }
    char looked[1024] = "";
    size_t ll = 0;
    for (size_t k = 0; k < ndirs && ll < sizeof looked; k++)
        ll += (size_t)snprintf(looked + ll, sizeof looked - ll, "%s%s",
                               k ? ", " : "", dirs[k]);
    cli_err(VERB, "cannot find " PRELOAD_NAME " (looked in %s); set "
                  "POOLTAG_PRELOAD to its path", looked);
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Finding CMD                                                            */

/* Resolve CMD as execvp would: a name with a '/' as is, else the first
 * PATH entry (an empty one is the current directory) holding an executable
 * regular file.  Returns 0 with the path in out (PATH_MAX bytes), or the
 * exit status a shell gives (127 not found, 126 found but not executable)
 * after printing "cannot run 'CMD': reason". */
static int find_cmd(const char *cmd, char *out)
{
    struct stat st;
    int err = ENOENT;

    if (strchr(cmd, '/')) {
        if (stat(cmd, &st) < 0)
            err = errno;
        else if (S_ISDIR(st.st_mode))
            err = EISDIR;
        else if (!S_ISREG(st.st_mode) ||
                 faccessat(AT_FDCWD, cmd, X_OK, AT_EACCESS) < 0)
            err = EACCES;
        else if (strlen(cmd) >= PATH_MAX)
            err = ENAMETOOLONG;
        else {
            strcpy(out, cmd);
            return 0;
        }
    } else if (*cmd) {
        char defpath[256];
        const char *path = getenv("PATH");
        if (!path) {
            if (!confstr(_CS_PATH, defpath, sizeof defpath))
                snprintf(defpath, sizeof defpath, "/bin:/usr/bin");
            path = defpath;
        }
        for (const char *p = path;; p++) {
            const char *e = p + strcspn(p, ":");
            int dl = (int)(e - p);
            if (snprintf(out, PATH_MAX, "%.*s%s%s", dl, p, dl ? "/" : "",
                         cmd) < PATH_MAX &&
                stat(out, &st) == 0) {
                if (S_ISREG(st.st_mode) &&
                    faccessat(AT_FDCWD, out, X_OK, AT_EACCESS) == 0)
                    return 0;
                err = EACCES;   /* keep looking; report this if no other */
            }
            if (!*e)
                break;
            p = e;
        }
    }
    cli_err(VERB, "cannot run '%s': %s", cmd,
            err == EISDIR ? "Is a directory" : strerror(err));
    return err == ENOENT || err == ENOTDIR ? RUN_EXIT_NOTFOUND
                                           : RUN_EXIT_NOEXEC;
}

/* Check that the preload can load into the program at PATH: a dynamically
 * linked ELF of our class and machine, or a script (whose interpreter gets
 * the preload).  Returns 0, or PT_EXIT_USAGE after a message. */
static int check_loadable(const char *cmd, const char *path,
                          const elf_id *self, int follow)
{
    elf_id id;
    struct stat st;
    /* Secure execution (AT_SECURE): the loader drops LD_PRELOAD for a
     * program that gains privileges, so it would run untagged. */
    if (stat(path, &st) == 0 &&
        (((st.st_mode & S_ISUID) && st.st_uid != getuid()) ||
         ((st.st_mode & S_ISGID) && st.st_gid != getgid()))) {
        cli_err(VERB, "'%s' is set-%s-ID: the loader ignores LD_PRELOAD for "
                      "it, so it cannot be tagged", cmd,
                st.st_mode & S_ISUID ? "user" : "group");
        return PT_EXIT_USAGE;
    }
    if (getuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0) {
        cli_err(VERB, "'%s' has file capabilities: the loader ignores "
                      "LD_PRELOAD for it, so it cannot be tagged", cmd);
        return PT_EXIT_USAGE;
    }
    if (elf_identify(path, &id) < 0)
        return 0;   /* execute-only: the kernel can still start it */
    if (!id.is_elf) {
        /* A script: the kernel starts its #! interpreter with our
         * environment, so the interpreter is what gets tagged.  Through
         * `#!/usr/bin/env NAME`, only env would be without
         * --follow-children: say so, as a note, and go on. */
        char buf[256];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 2 && buf[0] == '#' && buf[1] == '!' && !follow) {
            buf[n] = 0;
            char *s = buf + 2;
            while (*s == ' ' || *s == '\t')
                s++;
            size_t w = strcspn(s, " \t\r\n");
            if (w >= 4 && strncmp(s + w - 4, "/env", 4) == 0)
                fprintf(stderr,
                        "pooltag %s: note: '%s' starts through %.*s, which "
                        "execs the interpreter untagged; use "
                        "--follow-children or run the interpreter directly\n",
                        VERB, cmd, (int)w, s);
        }
        return 0;
    }
    if (self->is_elf &&
        (id.cls != self->cls || id.machine != self->machine)) {
        cli_err(VERB, "'%s' is a %s program for e_machine %u: the %s preload "
                      "cannot load into it",
                cmd, elf_class_name(id.cls), id.machine,
                elf_class_name(self->cls));
        return PT_EXIT_USAGE;
    }
    /* No PT_INTERP: a static executable (ET_EXEC, or a static PIE).  An
     * ET_DYN without it and without DF_1_PIE is a library run directly
     * (ld.so itself), which does honour LD_PRELOAD. */
    if (!id.has_interp && (id.type == ET_EXEC || id.is_pie) && !follow) {
        cli_err(VERB, "'%s' is statically linked: LD_PRELOAD cannot load "
                      "into it (with --follow-children, the programs it "
                      "execs are tagged)", cmd);
        return PT_EXIT_USAGE;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* The environment                                                        */

/* Is the LD_PRELOAD entry e[0..n) a libpooltag-preload.so (any copy,
 * any version suffix)?  The same test the preload uses on itself. */
static int is_preload_entry(const char *e, size_t n)
{
    size_t pl = sizeof PRELOAD_NAME - 1, b = n;
    while (b && e[b - 1] != '/')
        b--;
    return n - b >= pl && memcmp(e + b, PRELOAD_NAME, pl) == 0;
}

/* LD_PRELOAD = PRELOAD, then the entries of the old value (separated by
 * ':' or spaces, as ld.so reads it) that are not a libpooltag-preload.so.
 * Returns 0 or -1 after a message. */
static int set_ld_preload(const char *preload)
{
    const char *old = getenv("LD_PRELOAD");
    size_t cap = strlen(preload) + (old ? strlen(old) : 0) + 2, len;
    char *v = malloc(cap);
    if (!v) {
        cli_err(VERB, "out of memory");
        return -1;
    }
    len = (size_t)snprintf(v, cap, "%s", preload);
    for (const char *p = old; p && *p;) {
        size_t n = strcspn(p, ": \t");
        if (n && !is_preload_entry(p, n)) {
            v[len++] = ':';
            memcpy(v + len, p, n);
            len += n;
        }
        p += n;
        p += strspn(p, ": \t");
    }
    v[len] = 0;
    int rc = setenv("LD_PRELOAD", v, 1);
    free(v);
    if (rc < 0) {
        cli_err(VERB, "cannot set LD_PRELOAD: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int set_var(const char *name, const char *value)
{
    if (setenv(name, value, 1) < 0) {
        cli_err(VERB, "cannot set %s: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

/* The value of setting NAME: the option's if given, else the
 * environment's.  *what names the source for messages. */
static const char *setting(const char *opt_val, const char *opt_name,
                           const char *env_name, char *what, size_t size)
{
    if (opt_val) {
        snprintf(what, size, "%s", opt_name);
        return opt_val;
    }
    const char *e = getenv(env_name);
    snprintf(what, size, "%s (from the environment)", env_name);
    if (e && !*e) {             /* exported but empty: not set */
        unsetenv(env_name);
        e = NULL;
    }
    return e;
}

/* Check every setting and export it.  Returns 0 or PT_EXIT_USAGE. */
static int export_settings(const run_cfg *cfg)
{
    char what[64], buf[64], abs[PATH_MAX];
    const char *v;
    const pt_opt_desc *o;

    o = OPT(BACKEND);
    if ((v = setting(cfg->backend, "--backend", o->name, what, sizeof what))) {
        if (check_enum(what, "backend", v, o, buf, sizeof buf) < 0 ||
            set_var(o->name, buf) < 0)
            return PT_EXIT_USAGE;
    }
    o = OPT(ON_ERROR);
    if ((v = setting(cfg->on_error, "--on-error", o->name, what, sizeof what))) {
        if (check_enum(what, "error policy", v, o, buf, sizeof buf) < 0 ||
            set_var(o->name, buf) < 0)
            return PT_EXIT_USAGE;
    }
    o = OPT(PAGED_MAX);
    if ((v = setting(cfg->paged_max, "--paged-max", o->name, what, sizeof what))) {
        if (check_size(what, v, o, buf, sizeof buf) < 0 || set_var(o->name, buf) < 0)
            return PT_EXIT_USAGE;
    }
    o = OPT(NONPAGED_MAX);
    if ((v = setting(cfg->nonpaged_max, "--nonpaged-max", o->name, what, sizeof what))) {
        if (check_size(what, v, o, buf, sizeof buf) < 0 || set_var(o->name, buf) < 0)
            return PT_EXIT_USAGE;
    }
    o = OPT(TAGS);
    if ((v = setting(cfg->tags, "--tags", o->name, what, sizeof what))) {
        if (check_rules(what, v, abs) < 0 || set_var(o->name, abs) < 0)
            return PT_EXIT_USAGE;
    }
    if (cfg->wrappers && set_var(OPT(WRAPPERS)->name, cfg->wrappers) < 0)
        return PT_EXIT_USAGE;
    o = OPT(BEHALF);
    if (cfg->behalf) {
        if (set_var(o->name, cfg->behalf) < 0)
            return PT_EXIT_USAGE;
    } else if ((v = setting(NULL, "--behalf", o->name, what, sizeof what))) {
        if (check_behalf(what, v, 0) < 0)
            return PT_EXIT_USAGE;
        if (strlen(v) > BEHALF_MAX_TEXT) {
            cli_err(VERB, "%s: the patterns are longer than %d characters "
                          "in all", what, BEHALF_MAX_TEXT);
            return PT_EXIT_USAGE;
        }
    }
    o = OPT(FOLLOW_CHILDREN);
    if (cfg->follow) {
        if (set_var(o->name, "1") < 0)
            return PT_EXIT_USAGE;
    } else {
        unsetenv(o->name);
    }
    if (cfg->verbose && set_var(OPT(VERBOSE)->name, "1") < 0)
        return PT_EXIT_USAGE;
    o = OPT(HIT);
    if ((v = setting(cfg->hit, "--hit", o->name, what, sizeof what))) {
        if (check_hit(what, v, 0) < 0 || set_var(o->name, v) < 0)
            return PT_EXIT_USAGE;
    }
    if (cfg->hit_trap && set_var(OPT(HIT_TRAP)->name, "1") < 0)
        return PT_EXIT_USAGE;
    o = OPT(VERIFY);
    if ((v = setting(cfg->verify, "--verify", o->name, what, sizeof what))) {
        if (check_verify(what, v, 0) < 0 || set_var(o->name, v) < 0)
            return PT_EXIT_USAGE;
    }
    if (cfg->fail_on_leak && set_var(OPT(FAIL_ON_LEAK)->name, "1") < 0)
        return PT_EXIT_USAGE;
    o = OPT(STACK_DEPTH);
    if ((v = setting(cfg->stack_depth, "--stack-depth", o->name, what, sizeof what))) {
        if (check_count(what, v, o, buf, sizeof buf) < 0 || set_var(o->name, buf) < 0)
            return PT_EXIT_USAGE;
    }
    o = OPT(SPECIAL);
    if ((v = setting(cfg->special, "--special", o->name, what, sizeof what))) {
        if (check_special(what, v, 0) < 0 || set_var(o->name, v) < 0)
            return PT_EXIT_USAGE;
    }
    if (cfg->underrun && set_var(OPT(SPECIAL_UNDERRUN)->name, "1") < 0)
        return PT_EXIT_USAGE;
    if (cfg->exact && set_var(OPT(SPECIAL_EXACT)->name, "1") < 0)
        return PT_EXIT_USAGE;
    if (cfg->recover && set_var(OPT(SPECIAL_RECOVER)->name, "1") < 0)
        return PT_EXIT_USAGE;
    struct {
        const char *val, *opt;
        const pt_opt_desc *o;
    } counts[] = {
        {cfg->sample, "--sample", OPT(SAMPLE_GUARD)},
        {cfg->quarantine, "--quarantine", OPT(QUARANTINE)},
        {cfg->max_pages, "--max-pages", OPT(SPECIAL_MAX_PAGES)},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        o = counts[i].o;
        if ((v = setting(counts[i].val, counts[i].opt, o->name, what, sizeof what))) {
            if (check_count(what, v, o, buf, sizeof buf) < 0 || set_var(o->name, buf) < 0)
                return PT_EXIT_USAGE;
        }
    }
    o = OPT(FAIL);
    if ((v = setting(cfg->fail, "--fail", o->name, what, sizeof what))) {
        if (check_fail(what, v, 0) < 0 || set_var(o->name, v) < 0)
            return PT_EXIT_USAGE;
    }
    /* Set by the preload in its own process; one inherited from a tagged
     * parent says nothing about CMD. */
    unsetenv("PT_PRELOAD_ACTIVE");
    return 0;
}

/* run -v: the preload, then LD_PRELOAD and every variable run has an
 * option for (the table's PT_OPTF_RUN entries, in its order) that is set. */
static void print_verbose(const char *preload, const char *path)
{
    const char *v;
    fprintf(stderr, "pooltag %s: preload %s\n", VERB, preload);
    if ((v = getenv("LD_PRELOAD")))
        fprintf(stderr, "pooltag %s:   %s=%s\n", VERB, "LD_PRELOAD", v);
    for (size_t i = 0; i < PT_OPT_COUNT; i++) {
        if (!(pt_opt_table[i].flags & PT_OPTF_RUN))
            continue;
        if ((v = getenv(pt_opt_table[i].name)))
            fprintf(stderr, "pooltag %s:   %s=%s\n", VERB, pt_opt_table[i].name, v);
    }
    fprintf(stderr, "pooltag %s: exec %s as pid %ld\n", VERB, path,
            (long)getpid());
}

/* ---------------------------------------------------------------------- */
/* The docs' settings table                                               */

/* A default or a limit in bytes as the docs write it: "64 MiB" when a
 * unit of 1024 divides it, else the number. */
static void md_size(FILE *f, uint64_t v)
{
    static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
    for (int i = 0; i < 4; i++) {
        uint64_t u = 1ull << (10 * (4 - i));
        if (v && v % u == 0) {
            fprintf(f, "%" PRIu64 " %s", v / u, units[i]);
            return;
        }
    }
    fprintf(f, "%" PRIu64, v);
}

/* `pooltag run --settings-table` (not in --help): the Markdown table of
 * every PT_* variable of the options table, which README.md holds under
 * "Settings" (tests/docs_env.sh compares the two). */
static void settings_table(FILE *f)
{
    char c[64];
    fputs("| variable | default | values | meaning |\n|---|---|---|---|\n", f);
    for (size_t i = 0; i < PT_OPT_COUNT; i++) {
        const pt_opt_desc *o = &pt_opt_table[i];
        fprintf(f, "| `%s` | ", o->name);
        /* default */
        if (o->docdef)
            fputs(o->docdef, f);
        else if (o->kind == PT_OPTK_ENUM)
            fprintf(f, "`%s`", pt_opt_choice_name(o->choices, (int)o->def, c, sizeof c));
        else if (o->kind == PT_OPTK_BOOL || o->kind == PT_OPTK_COUNT)
            fprintf(f, "%" PRIu64, o->def);
        else if (o->kind == PT_OPTK_SIZE && o->def == 0 && (o->flags & PT_OPTF_ZERO_OFF))
            fputs("unlimited", f);
        else if (o->kind == PT_OPTK_SIZE)
            md_size(f, o->def);
        else
            fputs(o->kind == PT_OPTK_FLAG ? "unset" : "none", f);
        if (o->flags & PT_OPTF_MEMLOCK)
            fputs(", or half of `RLIMIT_MEMLOCK` when not root", f);
        fputs(" | ", f);
        /* values */
        switch (o->kind) {
        case PT_OPTK_ENUM:
            for (int k = 0; *pt_opt_choice_name(o->choices, k, c, sizeof c); k++)
                fprintf(f, "%s`%s`", k ? " or " : "", c);
            break;
        case PT_OPTK_BOOL:
            fputs("`1`, `yes`, `on`, `true` or `0`, `no`, `off`, `false`", f);
            break;
        case PT_OPTK_SIZE:
            fprintf(f, "%s%" PRIu64 " to %" PRIu64 " bytes, with K/M/G/T units",
                    o->flags & PT_OPTF_ZERO_OFF && o->min ? "0 or " : "", o->min, o->max);
            break;
        case PT_OPTK_COUNT:
            fprintf(f, "%" PRIu64 " to %" PRIu64, o->min, o->max);
            break;
        case PT_OPTK_FLAG:
            fputs("`1` (anything else is off)", f);
            break;
        case PT_OPTK_PATH:
            fprintf(f, "a file of at most %u rules and %u bytes", o->maxn, o->maxlen);
            break;
        case PT_OPTK_LIST:
            fprintf(f, "at most %u globs and %u characters", o->maxn, o->maxlen);
            break;
        case PT_OPTK_TEXT:
            fputs("text", f);
            break;
        }
        if (o->flags & PT_OPTF_POW2)
            fputs(", rounded up to a power of two", f);
        fprintf(f, " | %s |\n", o->help);
    }
}

/* ---------------------------------------------------------------------- */

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"tags", required_argument, NULL, 't'},
        {"wrapper", required_argument, NULL, 'w'},
        {"behalf", required_argument, NULL, 'B'},
        {"follow-children", no_argument, NULL, 'f'},
        {"on-error", required_argument, NULL, 'e'},
        {"paged-max", required_argument, NULL, 'p'},
        {"nonpaged-max", required_argument, NULL, 'n'},
        {"hit", required_argument, NULL, 'H'},
        {"hit-trap", no_argument, NULL, 'T'},
        {"verify", required_argument, NULL, 'V'},
        {"fail-on-leak", no_argument, NULL, 'L'},
        {"stack-depth", required_argument, NULL, 'D'},
        {"special", required_argument, NULL, 'P'},
        {"underrun", no_argument, NULL, 'U'},
        {"exact", no_argument, NULL, 'X'},
        {"recover", no_argument, NULL, 'R'},
        {"sample", required_argument, NULL, 'G'},
        {"quarantine", required_argument, NULL, 'Q'},
        {"max-pages", required_argument, NULL, 'M'},
        {"fail", required_argument, NULL, 'F'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"settings-table", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    run_cfg cfg;
    char path[PATH_MAX], preload[PATH_MAX];
    elf_id self;
    int c, status = PT_EXIT_USAGE;

    memset(&cfg, 0, sizeof cfg);
    opterr = 0;
    /* '+': stop at CMD, so its own options are left to it. Only the long
     * forms (and -v, -h) exist, so that no letter is taken from CMD. */
    while ((c = getopt_long(argc, argv, "+:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': cfg.backend = optarg; break;
        case 't': cfg.tags = optarg; break;
        case 'w':
            if (add_wrapper(&cfg.wrappers, optarg) < 0)
                goto out;
            break;
        case 'B':
            if (add_behalf(&cfg.behalf, optarg) < 0)
                goto out;
            break;
        case 'f': cfg.follow = 1; break;
        case 'e': cfg.on_error = optarg; break;
        case 'p': cfg.paged_max = optarg; break;
        case 'n': cfg.nonpaged_max = optarg; break;
        case 'H':
            if (add_listed(&cfg.hit, optarg, check_hit, "--hit") < 0)
                goto out;
            break;
        case 'T': cfg.hit_trap = 1; break;
        case 'V':
            if (add_listed(&cfg.verify, optarg, check_verify, "--verify") < 0)
                goto out;
            break;
        case 'L': cfg.fail_on_leak = 1; break;
        case 'D': cfg.stack_depth = optarg; break;
        case 'P':
            if (add_listed(&cfg.special, optarg, check_special, "--special") < 0)
                goto out;
            break;
        case 'U': cfg.underrun = 1; break;
        case 'X': cfg.exact = 1; break;
        case 'R': cfg.recover = 1; break;
        case 'G': cfg.sample = optarg; break;
        case 'Q': cfg.quarantine = optarg; break;
        case 'M': cfg.max_pages = optarg; break;
        case 'F':
            if (add_listed(&cfg.fail, optarg, check_fail, "--fail") < 0)
                goto out;
            break;
        case 'v': cfg.verbose = 1; break;
        case 'h':
            usage(stdout);
            status = PT_EXIT_OK;
            goto out;
        case 'S':
            settings_table(stdout);
            status = PT_EXIT_OK;
            goto out;
        default:
            cli_opt_error(VERB, argv, c);
            goto out;
        }
    }
    if (optind >= argc) {
        cli_err(VERB, "missing CMD: pooltag run [options] -- CMD [ARGS...] "
                      "(see pooltag run --help)");
        goto out;
    }
    char **cmdv = argv + optind;

    char self_exe[PTP_PATH_SIZE];
    if (elf_identify(ptp_path(self_exe, sizeof self_exe, 0, "exe"), &self) < 0)
        memset(&self, 0, sizeof self);   /* no class check then */
    if ((status = export_settings(&cfg)) != 0)
        goto out;
    if ((status = find_cmd(cmdv[0], path)) != 0)
        goto out;
    if ((status = check_loadable(cmdv[0], path, &self, cfg.follow)) != 0)
        goto out;
    status = PT_EXIT_USAGE;
    if (find_preload(&self, preload) < 0)
        goto out;
    if (strpbrk(preload, ": \t")) {
        cli_err(VERB, "the preload's path '%s' has a ':' or a space, which "
                      "LD_PRELOAD cannot hold; set POOLTAG_PRELOAD to a "
                      "copy elsewhere", preload);
        goto out;
    }
    if (set_ld_preload(preload) < 0)
        goto out;
    if (cfg.verbose)
        print_verbose(preload, path);
    fflush(NULL);

    execv(path, cmdv);
    if (errno == ENOEXEC) {
        /* No #! line and not a binary: execvp runs it with the shell, and
         * so does every shell; so does run (the shell is then tagged). */
        int n = 0;
        while (cmdv[n])
            n++;
        char **shv = calloc((size_t)n + 2, sizeof *shv);
        if (shv) {
            shv[0] = "sh";
            shv[1] = path;
            memcpy(shv + 2, cmdv + 1, (size_t)n * sizeof *shv);
            execv("/bin/sh", shv);
            free(shv);
        }
    }
    int err = errno;
    char interp[256];
    if (err == ENOENT && access(path, F_OK) == 0) {
        /* The file is there: what is missing is what runs it. */
        if (script_interpreter(path, interp, sizeof interp))
            cli_err(VERB, "cannot run '%s': its interpreter '%s' (the #! "
                    "line) does not exist", cmdv[0], interp);
        else
            cli_err(VERB, "cannot run '%s': its program interpreter (the "
                    "dynamic loader it names) does not exist", cmdv[0]);
        status = RUN_EXIT_NOEXEC;
        goto out;
    }
    cli_err(VERB, "cannot run '%s': %s", cmdv[0], strerror(err));
    status = err == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_NOEXEC;
out:
    free(cfg.wrappers);
    free(cfg.behalf);
    free(cfg.hit);
    free(cfg.verify);
    free(cfg.special);
    free(cfg.fail);
    return status;
}
