/*
 * elfdyn.h — the dynamic linking view of one ELF file, read with libelf
 * (elf_getdata and gelf_*, no parsing of our own): which symbols it imports
 * (undefined dynamic symbols) with the relocations that fill their PLT/GOT
 * slots, which symbols it exports (defined dynamic symbols), their symbol
 * versions, and its DT_SONAME and DT_NEEDED entries.  `pooltag imports`
 * and the fuzz target fuzz_imports use it.
 *
 * The file is untrusted: every index (symbol of a relocation, version of a
 * symbol, string offset) is checked, version chains are walked a bounded
 * number of steps, and a malformed file yields an error message, never a
 * crash.  Strings handed out point into the Elf's data: valid until
 * elf_end.
 */
#ifndef PT_CLI_ELFDYN_H
#define PT_CLI_ELFDYN_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#define ED_IMPORTS 0x1u /* undefined symbols and their relocations        */
#define ED_EXPORTS 0x2u /* defined, visible symbols                       */
#define ED_EXACT 0x4u   /* the pattern is a name, not a glob              */

typedef struct ed_sym {
    const char *name;
    const char *version;      /* symbol version ("GLIBC_2.2.5"), or NULL  */
    const char *version_file; /* import: the library the version is
                                 required from (DT_VERNEED), or NULL      */
    int hidden;               /* export: a non-default version (sym@V)    */
    int defined;              /* 1 export, 0 import                       */
    unsigned type, bind;      /* STT_*, STB_*                             */
    uint64_t value, size;     /* st_value, st_size (in the file's terms)  */
    /* Imports: one relocation that refers to the symbol.  A symbol with
     * several (JUMP_SLOT and GLOB_DAT) is reported once per relocation; one
     * with none is reported once with rtype 0. */
    uint32_t rtype;           /* ELF relocation type, 0 = none            */
    const char *rname;        /* "JUMP_SLOT", "GLOB_DAT", "64", ... or NULL */
    int plt;                  /* JUMP_SLOT: a PLT entry's GOT slot        */
    uint64_t slot;            /* r_offset: the slot's address in the file */
} ed_sym;

/* Return 0 to go on, anything else to stop the scan. */
typedef int (*ed_cb)(void *arg, const ed_sym *s);

/*
 * Report the dynamic symbols of `e` whose names match `pattern` (a glob
 * for fnmatch, or with ED_EXACT a plain name), imports and/or exports as
 * `what` says.  Returns the number of reports (0 when the file has no
 * dynamic symbols), or -1 with a one-line message in err for a file that
 * is not ELF or is damaged.
 */
long ed_scan(Elf *e, const char *pattern, unsigned what, ed_cb cb, void *arg, char *err,
             size_t errlen);

/* DT_SONAME (NULL if none) and the DT_NEEDED names (malloc'd array of
 * pointers into the Elf's data; free it with free). */
typedef struct ed_dyn {
    const char *soname;
    const char **needed;
    size_t nneeded;
} ed_dyn;
int ed_dynamic(Elf *e, ed_dyn *out, char *err, size_t errlen);

/* The names of the defined, visible dynamic symbols, sorted (malloc'd
 * array; NULL with *n = 0 when there are none).  For exact lookups with
 * ed_defines. */
int ed_export_names(Elf *e, const char ***names, size_t *n);
int ed_defines(const char *const *names, size_t n, const char *name);

/* A name for a relocation type of machine `machine` ("JUMP_SLOT"), or
 * NULL when it has none here. */
const char *ed_rel_name(unsigned machine, uint32_t rtype);

#endif
