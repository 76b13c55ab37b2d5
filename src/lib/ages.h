/*
 * ages.h — the age epochs of a reading (issue 15) as people and programs
 * read them: live bytes per age band (`used --age`, `sites --age`) and the
 * one-reading leak suspects (`used --suspects`).  Implemented in ages.c
 * over ptread.h's view (age_n, age_start_real[], site_ages) and emit.h.
 *
 * Ages.  A block of epoch e is between age_min_ns(v, e) = taken_ns -
 * start[e + 1] (0 for the current epoch, which has not ended) and
 * age_max_ns(v, e) = taken_ns - start[e] old.  Every figure here places an
 * epoch by its *youngest* possible age, so an age shown is never
 * overstated: the bytes of an epoch that spans 8 to 12 s ago are counted
 * as "<10s", those of the current epoch always in the first band.
 * Hostile values (start times out of order, a reading older than an
 * epoch) give ages clamped at 0, never a crash or a negative age.
 *
 * Bands: AGE_NBANDS fixed ranges of the youngest age, `<10s`, `10s-1m`,
 * `1m-10m`, `10m-1h`, `1h-1d`, `>1d` (docs/used.md says why these).
 */
#ifndef PT_CLI_AGES_H
#define PT_CLI_AGES_H

#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "ptread.h"

#define AGE_NBANDS 6

typedef struct age_band {
    const char *name;      /* "<10s", "10s-1m", ...                       */
    uint64_t min_s;        /* youngest age >= min_s ...                   */
    uint64_t max_s;        /* ... and < max_s (0: no upper bound)         */
} age_band;
extern const age_band age_bands[AGE_NBANDS];

/* 1 when the reading has age epochs (age_n > 0 and site_ages filled). */
int age_present(const ptr_view *v);
/* When it has none: prints "pooltag VERB: SPEC has no age epochs (...)"
 * (one line: what OPTION needs) and returns PT_EXIT_USAGE; else
 * PT_EXIT_OK. */
int age_require(const char *verb, const char *option, const ptr_view *v, const char *spec);

/* The youngest and oldest age (ns) a block of epoch e can have. */
uint64_t age_min_ns(const ptr_view *v, uint32_t e);
uint64_t age_max_ns(const ptr_view *v, uint32_t e);
/* The band that holds epoch e's youngest age. */
int age_band_of(const ptr_view *v, uint32_t e);

/* Live bytes and blocks per epoch and per band of one row (a site, or a
 * tag = the sum of its sites). */
typedef struct age_row {
    int64_t ep_bytes[PT_AGE_EPOCHS], ep_blocks[PT_AGE_EPOCHS];
    int64_t band_bytes[AGE_NBANDS], band_blocks[AGE_NBANDS];
} age_row;
/* Add site i of v (an index into v->sites) to *r (zero it first). */
void age_row_add(age_row *r, const ptr_view *v, size_t i);

/* The table's band columns: AGE_BAND_COLS in a verb's emit_col array, the
 * heading text of those columns (AGE_BAND_HEAD, to follow the columns
 * before them), and one row's cells plus its JSON member "age": {"bands":
 * [{bytes, blocks}], "epochs": [{bytes, blocks}]} (col0: the first band
 * column's index). */
#define AGE_COL {NULL, 9, 0, " "}
#define AGE_BAND_COLS AGE_COL, AGE_COL, AGE_COL, AGE_COL, AGE_COL, AGE_COL
#define AGE_BAND_HEAD "      <10s    10s-1m    1m-10m    10m-1h     1h-1d       >1d"
void age_emit_row(emitter *e, int col0, const age_row *r, const ptr_view *v);
/* Only the JSON member "age" of a row. */
void age_emit_json(emitter *e, const age_row *r, const ptr_view *v);
/* The reading's epochs and the bands, once per document: "age": {"epochs":
 * [{epoch, start_ns, end_ns?, min_age_ns, max_age_ns, band}], "bands":
 * [{name, min_age_s, max_age_s?}]} (JSON only). */
void age_emit_table(emitter *e, const ptr_view *v);
/* The legend under a band table (table only). */
void age_legend(emitter *e, const ptr_view *v);

/* ---- One-reading leak suspects (docs/used.md, "Leak suspects") -------- */

#define AGE_SUSPECT_MIN_OLD_S 2.0   /* "old": at least this old ...         */
#define AGE_SUSPECT_LIFETIMES 10.0  /* ... and this many typical lifetimes  */
#define AGE_SUSPECT_MIN_EPOCHS 3u   /* old epochs that must hold bytes       */
#define AGE_SUSPECT_MIN_STEADY 0.5  /* least steadiness listed               */
#define AGE_SUSPECT_MIN_FREED 0.05  /* share of its bytes a site must free
                                       for its lifetime to set the cut     */

typedef struct age_suspect {
    size_t site;                /* index into v->sites                      */
    int listed;                 /* enough evidence to list it               */
    double score;               /* old_bytes x steadiness                   */
    double steadiness;          /* 1 - total variation distance between the
                                   old bytes' and the old time's spread
                                   over the old epochs (from the first that
                                   holds bytes); 0..1                      */
    int64_t live_bytes, live_blocks;
    int64_t old_bytes, old_blocks;
    double old_age_s;           /* the old bytes are at least this old     */
    double cut_s;               /* the age from which an epoch is old      */
    uint32_t old_epochs;        /* old epochs from the first with bytes    */
    uint32_t old_epochs_bytes;  /* those holding bytes                     */
    double age_s;               /* the process's age at the reading        */
    double alloc_rate;          /* bytes allocated per second of its age   */
    uint64_t allocs, frees;
    double lifetime_s;          /* typical life of a freed block (Little's
                                   law); NAN when it frees less than
                                   AGE_SUSPECT_MIN_FREED of its bytes      */
} age_suspect;

/* Weigh site i of v (age_present(v) must hold).  Returns s->listed. */
int age_suspect_eval(const ptr_view *v, size_t i, age_suspect *s);
/* The one line of evidence: "holds 1.9 MiB (1900 blocks) allocated more
 * than 30 s ago; allocates 64.0 KiB/s and frees blocks within ~0.20 s;
 * bytes in 9 of 9 old epochs, steady 96%". */
void age_suspect_text(const age_suspect *s, char *buf, size_t size);
/* Order for qsort: score, then old bytes, then site index. */
int age_suspect_cmp(const void *a, const void *b);

#endif
