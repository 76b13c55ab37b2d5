/*
 * internal.h — private declarations of the pooltag runtime (pt__ prefix).
 *
 * The block header
 * ----------------
 * Every block has 16 bytes in front of the address the caller gets.  One
 * function writes them (hdr_write, rtstate.h); the PT_W0_* constants below
 * name every field:
 *
 *     offset 0  w0     bits  0..39  requested size (PT_W0_SIZE_MASK: blocks
 *                                   < 1 TiB)
 *                      bit   40     pool (PT_W0_POOL: 0 paged, 1 nonpaged)
 *                      bit   41     aligned (PT_W0_ALIGNED): the backend's
 *                                   pointer is stored in the 8 bytes before
 *                                   the header
 *                      bits 42..45  epoch (PT_W0_EPOCH_*): the process
 *                                   generation (fork child = +1); blocks of
 *                                   another epoch are freed but not counted.
 *                                   It wraps after 16 generations of fork: a
 *                                   block that lives through 16 nested forks
 *                                   and is freed in the 16th child is
 *                                   counted there
 *                      bit   46     traced (PT_W0_TRACED): allocated while
 *                                   its site was traced (hit tag or verified
 *                                   module, src/runtime/trace.c); always
 *                                   with the aligned layout, and the 8 bytes
 *                                   before the backend pointer hold its
 *                                   tracked record's index + 1 (0: none), so
 *                                   that its free leaves the fast path and
 *                                   finds its record in O(1)
 *                      bits 47..63  index of the block's call site in the
 *                                   segment's site table (PT_W0_SITE_*;
 *                                   PT_MAX_SITES <= 65536, so the index <=
 *                                   65536 fits 17 bits); the site's entry
 *                                   names the tag's index, so that free
 *                                   needs no lookup
 *     offset 8  tag    the block's tag
 *     offset 12 check  hash(header address, w0, tag, per-process secret),
 *                      xor the stamp of the block's age epoch (segment.h,
 *                      "Age epochs": pt_age_stamp, 0 for epoch 0), so that
 *                      its epoch is known (pt_hdr_epoch) without a bit of
 *                      w0; a foreign word passes as a live header with
 *                      probability (epochs begun) / 2^32, at most 2^-26
 *
 * On free, check becomes a different hash of (address, tag, secret) that
 * marks the block freed.  mimalloc overwrites only offset 0 with its free
 * list link, so a second free of the same block still finds the freed mark
 * and is reported as a double free; glibc's free-list links overwrite the
 * whole header, so with the glibc backend a freed block is recognised by
 * what survives them (rtstate.h, "what survives glibc's bookkeeping").
 *
 * Counting
 * --------
 * See src/common/segment.h for the segment and its invariants.  Each thread
 * owns one shard (claimed at its first allocation, released with its counts
 * in place at exit by a pthread key destructor; the next owner adds to
 * them) and updates it with relaxed loads and stores: no atomic
 * read-modify-write, no shared cache line.  Each operation is counted in
 * its call site's counters only (the segment's PT_SEGF_SITE_COUNTS): the
 * tag's are their sum, which readers form (src/common/segsum.c), so the
 * fast paths write one cache line of counters, plus the thread's unflushed
 * change of the tag's Bytes (the peaks' grain flush, alloc.c).  Threads without a shard (more
 * threads than PT_MAX_THREADS, or allocating after their exit handler ran)
 * use shard 0 with atomic adds.
 *
 * The runtime's files
 * -------------------
 *   rtstate.h  process-wide and per-thread state, the check hash, the
 *              header writer, the backend calls (inline, shared by all)
 *   init.c     segment creation, initialisation, libc binding, fork,
 *              thread exit
 *   alloc.c    the allocation API and its fast path, counting, shards,
 *              pool maxima (and, in the preload, src/preload/plalloc.c,
 *              #included so that its fast path inlines the same pieces)
 *   tables.c   the tag table and the call-site table
 *   trace.c    stacks, hit tags, pool tracking, leak reports (issue 11):
 *              the control block, the stack table, the rings, tracked
 *              blocks; unwind_cfi.c the stack walker it uses
 *   read.c     the in-process read API (pt_tags_read & co.)
 *   src/preload/{boot,unwind,foreign,plexit}.c  the preload's half
 *
 * Lock order: fork_lock (init.c, taken only around fork), then the
 * nonpaged arena lock.  Both are taken in the pthread_atfork prepare
 * handler in that order, except one that this thread holds already: a
 * signal handler may fork while its thread is inside fork or a nonpaged
 * allocation (glibc keeps fork async-signal-safe with respect to malloc
 * in a single-threaded process; so does pooltag).  site_lock (tables.c)
 * is a leaf: nothing is taken while it is held.
 */
#ifndef PT_INTERNAL_H
#define PT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "opttab.h"
#include "pooltag.h"
#include "segment.h"

#define PT_LIKELY(x) __builtin_expect(!!(x), 1)
#define PT_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define PT_HDR_SIZE 16u
#define PT_SIZE_BITS 40
#define PT_SIZE_MASK ((1ull << PT_SIZE_BITS) - 1)
#define PT_MAX_REQUEST (PT_SIZE_MASK - 4096)
/* The fields of w0 (see "The block header" above). */
#define PT_W0_SIZE_MASK PT_SIZE_MASK
#define PT_W0_POOL_SHIFT 40
#define PT_W0_POOL (1ull << PT_W0_POOL_SHIFT)
#define PT_W0_ALIGNED (1ull << 41)
#define PT_W0_EPOCH_SHIFT 42
#define PT_W0_EPOCH_MASK 0xfull
#define PT_W0_TRACED (1ull << 46)
#define PT_W0_SITE_SHIFT 47
#define PT_W0_SITE_BITS 17
_Static_assert(PT_W0_SITE_SHIFT + PT_W0_SITE_BITS == 64, "site index: the top bits");
_Static_assert(PT_W0_EPOCH_SHIFT + 4 == 46, "epoch: 4 bits, then the traced bit");

typedef struct pt_hdr {
    uint64_t w0;
    uint32_t tag;
    uint32_t check;
} pt_hdr;
_Static_assert(sizeof(pt_hdr) == PT_HDR_SIZE, "16-byte header");

enum { PT_BACKEND_MIMALLOC = 0, PT_BACKEND_LIBC = 1 };
enum { PT_ONERR_REPORT = 0, PT_ONERR_ABORT = 1 };

/* Settings in effect (options.c), one member per PT_* variable that is
 * parsed at initialisation, generated from src/common/options.def (ENUM
 * and BOOL: int; SIZE: uint64_t; COUNT: uint32_t).  Read once at
 * initialisation; the allocation fast path never reads them. */
#define PT_OPT_FIELD_ENUM(f) int f;
#define PT_OPT_FIELD_BOOL(f) int f;
#define PT_OPT_FIELD_SIZE(f) uint64_t f;
#define PT_OPT_FIELD_COUNT(f) uint32_t f;
#define PT_OPT_FIELD_FLAG(f)
#define PT_OPT_FIELD_PATH(f)
#define PT_OPT_FIELD_LIST(f)
#define PT_OPT_FIELD_TEXT(f)
typedef struct pt_options {
#define PT_OPT(ID, KIND, FIELD, DEF, MIN, MAX, MAXN, MAXLEN, FLAGS, CHOICES, DOCDEF, HELP) \
    PT_OPT_FIELD_##KIND(FIELD)
#include "options.def"
#undef PT_OPT
} pt_options;

extern pt_options pt__opt;
void pt__options_load(int default_on_error);
void pt__options_print(void);
/* The value of PT_<id> in the environment now (getenv: no allocation), or
 * NULL; for the variables without a pt_options member, read when used. */
const char *pt__opt_env(pt_opt_id id);

/* report.c: formatting into stack buffers, never allocating. */
typedef struct pt_buf {
    char *p;
    size_t len, cap;
} pt_buf;
void pt__bputs(pt_buf *b, const char *s);
void pt__bputu(pt_buf *b, uint64_t v);
void pt__bputx(pt_buf *b, uint64_t v);
void pt__bputtag(pt_buf *b, uint32_t tag);
void pt__write_stderr(const char *s, size_t n);
void pt__warn(const char *msg1, const char *msg2);

/* Report a caller error: record it in the segment's error ring, print one
 * line on stderr, and abort if PT_ON_ERROR=abort. */
void pt__report(uint32_t kind, const void *addr, uint32_t tag, uint32_t tag2,
                uint64_t size, int size_known);

/* nonpaged.c: the resident (mlock'd) arena.  Blocks are 16-byte aligned;
 * pt__np_alloc returns NULL with errno ENOMEM when memory cannot be locked. */
void *pt__np_alloc(size_t n);
void pt__np_free(void *p);
int pt__np_fork_prepare(void); /* 1 if it took the arena lock */
void pt__np_fork_parent(int took);
void pt__np_fork_child(void);

/* modules.c: module table (both builds) and automatic tags (preload). */
void pt__mod_init(pt_seg_header *seg);
void pt__mod_fork_child(pt_seg_header *seg);
uint32_t pt__mod_tag(const void *ra);
/* Make sure the module holding `ra` is in the table (rescans if not). */
void pt__mod_note(const void *ra);
uint32_t pt__mod_derive_tag(const char *path);
/* PT_WRAPPERS: is `ra` inside a function the user named as an allocator
 * wrapper?  (0 when no wrappers were named.) */
int pt__mod_in_wrapper(const void *ra);
extern int pt__mod_have_wrappers;
/* PT_BEHALF (preload only): 0 when `ra` lies outside every module that
 * holds an on-behalf API, 2 inside a function (or a whole module) the
 * patterns name, 1 elsewhere in such a module.  pt__mod_have_behalf is
 * set once at initialisation when patterns were given. */
int pt__mod_behalf_kind(const void *ra);
extern int pt__mod_have_behalf;
/* After a dlclose: modules that are gone stop matching (module index,
 * PT_BEHALF hosts, wrapper and "func:" ranges) and are flagged unloaded
 * in the segment; pt__mod_gen is bumped when one was. */
void pt__mod_prune(void);
/* Generation of the module map: changes (release) whenever a module was
 * found unloaded.  A per-thread cache from return address to tag is
 * valid only while the generation it was filled under is current. */
extern uint32_t pt__mod_gen;

/* The module record holding code address ra (UINT32_MAX: none known). */
uint32_t pt__mod_rec(const void *ra);
/* The glob matcher of PT_TAGS and PT_BEHALF ('*', '?'; no allocation). */
/* trace.c, called by modules.c (under its scan lock): a module record was
 * written (verify globs are checked), a module was unloaded (its verified
 * blocks still outstanding are reported as leaks). */
void pt__tr_mod_added(uint32_t rec);
void pt__tr_mod_unloaded(uint32_t rec);

/* elfsyms.c: call cb(arg, name, value, size) for each function symbol of an
 * ELF64 image (the symbol table, else the dynamic one); returns how many
 * calls returned nonzero.  Bounds-checked: the image is untrusted. */
typedef int (*pt_elf_sym_cb)(void *arg, const char *name, uint64_t value, uint64_t size);
size_t pt__elf_scan_funcs(const void *image, size_t len, pt_elf_sym_cb cb, void *arg);

/* init.c: the segment, for report.c. */
extern pt_seg_header *pt__seg;
uint32_t pt__gettid(void);

/* A small spin lock (rare paths only: fork, site inserts, module scans,
 * nonpaged arena).  v is 0 when free, else an id of the thread that holds
 * it, so that a fork handler run by a signal handler can tell a lock that
 * the interrupted code of its own thread holds (it must not wait for it). */
typedef struct { uintptr_t v; } pt_spin;
void pt__spin_lock(pt_spin *l);
/* Take l unless this thread holds it already: 1 if taken, 0 if held by
 * this thread (interrupted by a signal handler that forks). */
int pt__spin_lock_unless_mine(pt_spin *l);
static inline void pt__spin_unlock(pt_spin *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

#endif
