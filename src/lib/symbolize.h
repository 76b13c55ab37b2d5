/*
 * symbolize.h — code addresses of a process to module!symbol+offset and
 * file:line, with elfutils' libdwfl (no ELF or DWARF parsing of our own).
 *
 * Data model
 * ----------
 * A sym_ctx is a list of modules: ELF files that were mapped into one
 * process, each with
 *   - its address range [start, end) in that process,
 *   - where it was loaded: either the load bias (l_addr, what the preload's
 *     module table records) or the address of its mapping at file offset 0
 *     (what /proc/PID/maps shows); libdwfl turns either into the bias,
 *   - optionally the GNU build-id it had, so that a file replaced on disk
 *     since then is not used to name addresses it no longer describes.
 * Each module gets its own Dwfl session, opened on the first lookup of an
 * address inside it (modules never share a session, so overlapping records,
 * such as an unloaded module and the one loaded in its place, are fine).
 * Debuginfo is found by elfutils' standard callback: .gnu_debuglink next to
 * the file or in .debug/, and /usr/lib/debug/.build-id/xx/yyyy.debug.
 *
 * Lookup order: the modules that contain the address, those flagged
 * SYM_PREFERRED first, then loaded ones, then those flagged SYM_UNLOADED,
 * each group in the order they were added; the first one whose file opens
 * (and whose build-id matches) names the address.
 *
 * Strings in a sym_info stay valid until sym_free.  Nothing here prints.
 */
#ifndef PT_CLI_SYMBOLIZE_H
#define PT_CLI_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sym_ctx sym_ctx;

/* sym_add_module flags */
#define SYM_UNLOADED 0x1u      /* the module was unloaded (dlclose)        */
#define SYM_BASE_IS_START 0x2u /* base = address of the file's offset-0
                                  mapping (maps); else base = load bias    */
#define SYM_PREFERRED 0x4u     /* looked in before every other module: the
                                  module known to have made the request
                                  (its tag is the site's), even if it was
                                  unloaded and another took its place     */

/* A new, empty context.  With network == 0, elfutils is kept from asking
 * debuginfod servers (DEBUGINFOD_URLS is removed from this process's
 * environment), so a lookup never waits on the network.  NULL when out of
 * memory. */
sym_ctx *sym_new(int network);
void sym_free(sym_ctx *c);

/*
 * Add one module.  `path` is the file's name as the process knew it (shown,
 * and its last component is the module's name); `open_path`, if not NULL,
 * is where to read it instead (e.g. /proc/PID/map_files/...).  build_id may
 * be NULL (not checked).  Returns 0, or -1 when out of memory.
 */
int sym_add_module(sym_ctx *c, const char *path, const char *open_path, uint64_t base,
                   uint64_t start, uint64_t end, const uint8_t *build_id, size_t build_id_len,
                   unsigned flags);

/*
 * Add the ELF files mapped by a live process, from /proc/PID/maps: one
 * module per file (device, inode and path), spanning all its mappings,
 * placed at its mapping with file offset 0.  Anonymous and special
 * mappings (heap, stack, vdso, memfd) are skipped.  A file deleted since it
 * was mapped is read through /proc/PID/map_files when the kernel allows it.
 * Returns the number of modules added, or -1 with a message in err.
 */
int sym_add_proc_maps(sym_ctx *c, uint32_t pid, char *err, size_t errlen);

/* The same from the text of a maps file; pid (0 = none) is used only for
 * the map_files fallback.  Lines that do not parse are skipped. */
int sym_add_maps_text(sym_ctx *c, const char *text, uint32_t pid);

size_t sym_nmodules(const sym_ctx *c);

typedef struct sym_info {
    const char *module;  /* file name of the module; NULL: no module maps it */
    const char *path;    /* the module's path as the process knew it        */
    uint64_t modoff;     /* addr - load bias: the address in the file's own
                            terms (what `addr2line -e path` wants)          */
    const char *symbol;  /* nearest symbol at or before the address, or NULL */
    uint64_t symoff;     /* addr - symbol's address                         */
    const char *file;    /* source file from the line table, or NULL        */
    int line;            /* its line (0 when file is NULL)                  */
    const char *note;    /* why something above is missing, or NULL         */
} sym_info;

/*
 * Name the address.  With return_addr != 0 the address is a return address
 * (a call site): the symbol and line are looked up at addr - 1, which is
 * inside the call instruction even when the call is a function's last
 * instruction; offsets are still relative to addr.  Never fails: what
 * cannot be found is NULL, and `note` says why when there is a reason
 * worth showing.
 */
void sym_lookup(sym_ctx *c, uint64_t addr, int return_addr, sym_info *out);

/* ---------------------------------------------------------------------- */
/* Per-module access, for `pooltag lm`, `ln` and `imports`.  Modules are
 * numbered 0 .. sym_nmodules() - 1 in the order they were added.         */

struct Elf;

typedef struct sym_modinfo {
    const char *name;          /* last component of path                  */
    const char *path;          /* as the process knew it                  */
    uint64_t base, start, end; /* as added                                */
    unsigned flags;            /* SYM_*                                   */
    int usable;                /* the file opened (and its build-id, if one
                                  was recorded, matched); -1 not tried    */
    uint64_t bias;             /* load bias, when usable                  */
    const uint8_t *build_id;   /* the file's when usable, else as recorded;
                                  NULL when none is known                 */
    size_t build_id_len;
    int debuginfo;             /* -1 not looked up (or not usable), 0 none
                                  found, 1 DWARF found                     */
    const char *debugfile;     /* where the DWARF was found: a separate
                                  file, or the module's own file          */
    const char *note;          /* why the file is not usable, or NULL     */
} sym_modinfo;

/*
 * Describe module i.  `what`: 0 = only what was added (nothing is opened),
 * SYM_INFO_FILE = also open its file (first use) for usable, bias and
 * build-id, SYM_INFO_DEBUG = also look for its DWARF with elfutils'
 * standard lookup (as sym_lookup does for file:line).  Returns 0, or -1
 * when i is out of range.
 */
#define SYM_INFO_FILE 0x1u
#define SYM_INFO_DEBUG 0x3u
int sym_module_info(sym_ctx *c, size_t i, unsigned what, sym_modinfo *out);

/* The module sym_lookup would name `addr` with (same rule): its index, or
 * -1 when no module contains the address. */
long sym_module_at(sym_ctx *c, uint64_t addr);

/* The libelf handle of module i's file (owned by the context), and its
 * load bias; NULL when the file does not open. */
struct Elf *sym_module_elf(sym_ctx *c, size_t i, uint64_t *bias);

/* The nearest symbols of module i around `addr` (functions and objects of
 * .symtab, or .dynsym when the file has no .symtab): the last one at or
 * before addr and the first one after it, both within the module.  Names
 * stay valid until sym_free; NULL when there is none. */
typedef struct sym_near {
    const char *before;
    uint64_t before_addr;
    const char *after;
    uint64_t after_addr;
} sym_near;
void sym_nearest(sym_ctx *c, size_t i, uint64_t addr, sym_near *out);

#endif
