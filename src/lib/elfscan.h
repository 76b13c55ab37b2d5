/*
 * elfscan.h — where four bytes occur in a file image, and what lies there:
 * the scan kernel and the ELF naming behind `pooltag find` (find.c).
 *
 * Data model
 * ----------
 * fs_scan() finds every occurrence of a 4-byte needle in a buffer (SSE2
 * first/last-byte filter, then a 4-byte compare; plain C elsewhere).
 *
 * An fe_image is one ELF file image in memory, opened with libelf's
 * elf_memory (elfutils validates the headers; no ELF parsing here beyond
 * what gelf_* hands back).  It keeps:
 *   - the sections (index, name from the section-header string table, file
 *     range, address, flags), sorted by file offset, for "which section
 *     holds file offset X" and "which allocated section holds address V";
 *   - the PT_LOAD segments, for file offset -> virtual address when no
 *     section covers an offset (and for images without section headers);
 *   - the symbols of .symtab, else of .dynsym (defined, named, not
 *     section/file/TLS symbols), sorted by (section index, value), built on
 *     the first symbol lookup.  A hit is named after the nearest symbol at
 *     or before it *in its own section* (like the debugger's `ln`), so data
 *     in .rodata is never named after a function in .text.
 * Addresses are in the file's own terms (p_vaddr / sh_addr); for a
 * relocatable object (.o) every section starts at 0 and symbols are
 * section-relative, which the per-section lookup handles the same way.
 *
 * Strings returned in an fe_place live until fe_close.  Nothing here prints.
 */
#ifndef PT_CLI_ELFSCAN_H
#define PT_CLI_ELFSCAN_H

#include <stddef.h>
#include <stdint.h>

/* Called for each occurrence at offset `base + i`; return nonzero to stop. */
typedef int (*fs_hit_fn)(void *arg, uint64_t off);

/* Every occurrence of needle[0..4) in buf[0, len), in increasing order.
 * Returns the number of occurrences reported (up to and including the one
 * whose callback stopped the scan). */
uint64_t fs_scan(const uint8_t *buf, size_t len, const uint8_t needle[4], uint64_t base,
                 fs_hit_fn fn, void *arg);

/* Does the buffer start with the ELF magic? */
int fe_is_elf(const void *buf, size_t len);

typedef struct fe_image fe_image;

/* Open an image (not copied: it must stay valid and writable-private, as
 * libelf may use it in place, until fe_close).  NULL with a reason in err
 * when it is not an ELF file libelf accepts (e.g. truncated). */
fe_image *fe_open(void *img, size_t size, char *err, size_t errlen);
void fe_close(fe_image *im);

/* What lies at a place of the image. */
typedef struct fe_place {
    const char *section; /* section name, NULL: no section holds it          */
    int code;            /* in an executable section (SHF_EXECINSTR), or in an
                            executable PT_LOAD when there are no sections     */
    int have_vaddr;      /* the place is loaded: vaddr is meaningful          */
    uint64_t vaddr;      /* address in the file's own terms                   */
    const char *symbol;  /* nearest symbol at or before, same section; NULL   */
    uint64_t symoff;     /* vaddr - symbol value                             */
    int past_end;        /* the symbol has a size and vaddr lies beyond it    */
    int dynsym;          /* named from .dynsym (the file has no .symtab)      */
    const char *note;    /* why symbol is NULL, or NULL                       */
} fe_place;

/* The place at file offset `off`; with name == 0 the symbol is not looked
 * up (section, code and vaddr only: cheap). */
void fe_at_offset(fe_image *im, uint64_t off, int name, fe_place *out);

/* A hit of the scan of a whole image (fe_scan_image); `im` is the opened
 * image (NULL when it did not open), for naming a hit later with
 * fe_at_offset. */
typedef int (*fe_hit_fn)(void *arg, fe_image *im, uint64_t off, const fe_place *p);

/*
 * The whole ELF path on one image: scan img[0, size) for the needle and,
 * when the image is an ELF file libelf opens, name each hit's section (and,
 * with name != 0, its symbol).  For an image that is not ELF or does not
 * open, hits are still reported, with section NULL and `note` saying why.
 * `fn` may return nonzero to stop.  Returns the number of hits reported.
 * The image must be writable-private (see fe_open).
 */
uint64_t fe_scan_image(void *img, size_t size, const uint8_t needle[4], int name,
                       fe_hit_fn fn, void *arg);

#endif
