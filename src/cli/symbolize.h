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
 * Lookup order: the modules that contain the address, loaded ones in the
 * order they were added, then those flagged SYM_UNLOADED; the first one
 * whose file opens (and whose build-id matches) names the address.
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

#endif
