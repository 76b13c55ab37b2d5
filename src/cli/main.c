/*
 * main.c — `pooltag VERB [options] [args]`: finds the verb and hands it the
 * arguments from the verb's name on (argv[0] of the verb is its name, so
 * each verb runs getopt_long over its own options).
 *
 * `pooltag help VERB` is `pooltag VERB --help`; `pooltag --help`,
 * `pooltag help` and `pooltag help help` print the verb list.  Exit status
 * 2 for an unknown verb or option, and for extra arguments to help or
 * --version.
 */
#include "verbs.h"
#include "cli.h"

#include <string.h>

#ifndef PT_VERSION
#define PT_VERSION "0.1.0"
#endif

static const struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verbs[] = {
    {"run", cmd_run, "start a program with every allocation tagged (the preload)"},
    {"mon", cmd_mon, "live per-tag table of a running process (poolmon)"},
    {"used", cmd_used, "top pool consumers of a process or snapshot (!poolused)"},
    {"vm", cmd_vm, "process memory and pool usage, maxima, failures (!vm 1)"},
    {"snap", cmd_snap, "write a snapshot file of a running process"},
    {"log", cmd_log, "sample counters into a SQLite log over time (logman)"},
    {"trend", cmd_trend, "leak or load? a verdict per tag from a log (perfmon)"},
    {"serve", cmd_serve, "Prometheus /metrics and a live dashboard of all tagged processes"},
    {"find", cmd_find, "where a tag's bytes occur in binaries or a process (findstr, s -a)"},
    {"lm", cmd_lm, "loaded modules: range, build-id, debuginfo, tag (lm)"},
    {"ln", cmd_ln, "nearest symbols of an address: module!symbol+off, file:line (ln)"},
    {"imports", cmd_imports, "who imports (or --exports) a symbol; live GOT slots"},
    {"sites", cmd_sites, "call sites of one tag: module!symbol+off, file:line"},
    {"hit", cmd_hit, "stacks of a tag's allocations and frees, live (PoolHitTag)"},
    {"verify", cmd_verify, "a module's outstanding blocks with callers (Driver Verifier)"},
    {"special", cmd_special, "guard pages for a tag, size or module, live (Special Pool)"},
    {"fault", cmd_fault, "fail chosen allocations with ENOMEM, live (Low Resources Simulation)"},
    {"address", cmd_address, "regions of any process or core by usage: heap, stack, image (!address)"},
    {"heap", cmd_heap, "glibc heaps of any process or core: arenas, --stat by size (!heap)"},
    {"search", cmd_search, "find a number or string in memory of a process or core (s -q, s -a)"},
    {"leaks", cmd_leaks, "heap blocks nothing reaches, live or a core (::findleaks)"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static void usage(FILE *f)
{
    fputs("Usage: pooltag VERB [options] [args]\n"
          "       pooltag help [VERB]\n"
          "       pooltag --version\n"
          "\n"
          "Per-tag memory counters of programs that use libpooltag (or run\n"
          "under its preload), read from outside the process.\n"
          "\n"
          "Verbs:\n",
          f);
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  %-7s %s\n", verbs[i].name, verbs[i].summary);
    fputs("  help    this text, or a verb's options: pooltag help VERB\n"
          "\n"
          "SOURCE is a PID (a running tagged process, read through /proc/PID),\n"
          "a snapshot file written by `pooltag snap`, or a core file of a\n"
          "tagged process (gcore, the kernel's).  Tags are given as\n"
          "text: Leak, Se (= \"Se  \"); they are case-sensitive.\n"
          "\n"
          "Exit status: 0 ok, 1 finding, 2 usage or input error.\n",
          f);
}

static const struct verb *find_verb(const char *name)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        /* Every verb, from the table, so the list cannot go stale. */
        char list[256] = "";
        for (size_t i = 0; i < NVERBS; i++) {
            strncat(list, verbs[i].name, sizeof list - strlen(list) - 1);
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        }
        cli_err(NULL, "missing VERB: one of %shelp (see pooltag --help)", list);
        return PT_EXIT_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    if (strcmp(word, "--version") == 0 || strcmp(word, "-V") == 0) {
        if (argc > 2) {
            cli_err(NULL, "%s takes no arguments ('%s' is extra)", word,
                    argv[2]);
            return PT_EXIT_USAGE;
        }
        printf("pooltag %s\n", PT_VERSION);
        return PT_EXIT_OK;
    }
    if (strcmp(word, "help") == 0) {
        if (argc > 3) {
            cli_err("help", "one verb at a time ('%s' is extra; see "
                    "pooltag --help)", argv[3]);
            return PT_EXIT_USAGE;
        }
        if (argc < 3 || strcmp(argv[2], "help") == 0) {
            usage(stdout);   /* help's own help is the verb list */
            return PT_EXIT_OK;
        }
        const struct verb *v = find_verb(argv[2]);
        if (!v) {
            cli_err(NULL, "unknown verb '%s' (see pooltag --help)", argv[2]);
            return PT_EXIT_USAGE;
        }
        char *args[] = {(char *)v->name, "--help", NULL};
        return v->run(2, args);
    }
    const struct verb *v = find_verb(word);
    if (!v) {
        if (word[0] == '-')
            cli_err(NULL, "unknown option '%s': options come after the verb "
                    "(see pooltag --help)", word);
        else
            cli_err(NULL, "unknown verb '%s' (see pooltag --help)", word);
        return PT_EXIT_USAGE;
    }
    return v->run(argc - 1, argv + 1);
}
