/*
 * trend.h — the report of `pooltag trend`: collection, table and JSON
 * (trendrep.c), the HTML report (trend_html.c); used by the verb
 * (src/cli/trend.c) and fuzz/fuzz_log.c.
 */
#ifndef PT_TREND_H
#define PT_TREND_H

#include <stdio.h>

#include "logread.h"
#include "verdict.h"
#include "fmt.h"

#define TR_MAX_ROWS 200000   /* series in one report                     */
#define TR_TOP_CHARTS 12     /* tag charts in the HTML report            */
#define TR_PROC_CHARTS 16    /* pool-total charts in the HTML report     */

typedef struct tr_row {
    size_t proc;             /* index into the log's processes            */
    uint32_t tag;
    int pool;                /* 0 paged, 1 nonpaged                       */
    int total;               /* the pool total of the process, not a tag  */
    int extremes;            /* judged with the interval minima/maxima   */
    vd_result r;
} tr_row;

typedef struct tr_proc {
    size_t index;            /* into the log's processes                  */
    int64_t samples;         /* in the log                                */
    int64_t first_ns, last_ns; /* of the samples present                  */
    double worst_leak;       /* bytes/hour of its fastest leak, -1 none   */
} tr_proc;

typedef struct tr_report {
    ldb_log *db;
    const char *path;
    const char *tagpat;      /* --tag, or NULL                            */
    tr_row *rows;
    size_t nrows, cap;
    tr_proc *procs;          /* the selected processes, in report order   */
    size_t nprocs;
    int counts[VD_COUNT];
} tr_report;

/* Judge every selected series of the log.  tagpat: glob over tag text
 * (NULL = all, and the pool totals too); pid < 0: every process.  Returns
 * 0, or -1 with a one-line message in err. */
int tr_collect(tr_report *rep, ldb_log *db, const char *path, const char *tagpat,
               long long pid, char *err, size_t errsize);
void tr_free(tr_report *rep);

void tr_print_table(FILE *f, const tr_report *rep);
void tr_print_json(FILE *f, const tr_report *rep);
/* The self-contained HTML report; reads the charted series again from the
 * log.  Returns 0 or -1 with err. */
int tr_write_html(FILE *f, const tr_report *rep, char *err, size_t errsize);

/* Helpers shared by the writers. */
/* "still logged", "log ended without a clean stop (logger gone)", ...,
 * or the recorded end reason: what became of a process's series. */
const char *tr_proc_state(const ldb_proc *p);
const char *tr_pool_name(int pool);                 /* "Paged", "NonPaged" */
void tr_describe(const tr_report *rep, uint32_t tag, char *buf, size_t size);
const char *tr_row_label(const tr_report *rep, const tr_row *row,
                         char buf[PT_TAG_TEXT_MAX]);  /* tag or "(total)" */

#endif
