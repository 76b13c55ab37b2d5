/*
 * pregions.h — what each region of a process is used for (`pooltag
 * address`, and `search --in`, `leaks`' roots): the one classifier.
 *
 * Usage kinds (WinDbg's !address -summary names in parentheses):
 *   Heap        the brk heap, glibc's thread arenas (gheap.h), mimalloc's
 *               and jemalloc's segments where recognisable, mmapped malloc
 *               chunks, pooltag's nonpaged pool        (Heap)
 *   Stack       a thread's stack: the region holding its stack pointer, or
 *               [stack]; named by thread               (Stack)
 *   Image       a mapping of an ELF module             (Image)
 *   MappedFile  a mapping of any other file            (MappedFile)
 *   Segment     the pooltag segment
 *   Anonymous   private anonymous memory of no known use (<unknown>)
 *   Other       [vdso], [vvar], [vsyscall], guard pages, ... (Other)
 */
#ifndef PT_LIB_PREGIONS_H
#define PT_LIB_PREGIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gheap.h"
#include "pimg.h"

enum pr_kind {
    PR_HEAP = 0, PR_STACK, PR_IMAGE, PR_FILE, PR_SEGMENT, PR_ANON, PR_OTHER,
    PR_NKINDS
};

typedef struct pr_class {
    int kind;              /* enum pr_kind                                */
    const char *detail;    /* "brk heap", "glibc arena 1", "mimalloc
                              segment", "thread 1234 (worker)", the module
                              name, the file's path; "" when nothing more  */
    long thread;           /* index in p->threads (Stack), else -1        */
    long module;           /* index in p->modules (Image), else -1        */
    int reserved;          /* (appended) address space that is not in use:
                              PROT_NONE, or in a gcore core (which writes
                              PROT_NONE regions as read-only) a region
                              recognised as a guard page or an arena's
                              reserve; not counted as busy               */
} pr_class;

/* "Heap", "Stack", "Image", "MappedFile", "Segment", "Anonymous", "Other" */
const char *pr_kind_name(int kind);
/* The kind for a --in word ("heap", "stack", "image", "file", "anon",
 * "segment", "other"), or -1. */
int pr_kind_parse(const char *word);

/* One pr_class per region of p (p->nregions, same order), in a malloc'd
 * array (free with pr_free; the strings live with it).  gh may be NULL (no
 * glibc heap found).  -1 only when out of memory. */
int pr_classify(pim *p, gh_heap *gh, pr_class **out, char *err, size_t errlen);
void pr_free(pr_class *c, size_t n);

/* Appended for the dump verbs (address, search): the "source" member of
 * their JSON (docs/json.md dump_source: kind live|core|memory, spec, pid,
 * comm, exe, threads, stopped) and the one line that names the source in
 * their tables ("process 1234 (svc), live", "core FILE of process 1234
 * (svc)"). */
struct emitter;
void pr_emit_source(struct emitter *e, const pim *p, const char *spec);
void pr_describe(FILE *f, const pim *p, const char *spec);

#endif
