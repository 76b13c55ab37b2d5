/*
 * elfsyms.c — function symbols of an ELF file image, for the preload's
 * user-named allocator wrappers (PT_WRAPPERS).
 *
 * This runs inside malloc (at a module rescan), so it cannot use libelf,
 * which allocates; it reads only what it needs — the ELF64 header, the
 * section headers, the symbol tables (SHT_SYMTAB, else SHT_DYNSYM) and
 * their string tables — from a read-only mapping of the file.  The bytes
 * are untrusted: every offset, size and index is bounds-checked against the
 * image, and fuzz/fuzz_elfsyms.c feeds it arbitrary input.
 */
#include "internal.h"

#include <elf.h>
#include <string.h>

static int in_image(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

size_t pt__elf_scan_funcs(const void *image, size_t len, pt_elf_sym_cb cb, void *arg)
{
    const unsigned char *b = image;
    if (len < sizeof(Elf64_Ehdr) || memcmp(b, ELFMAG, SELFMAG) != 0 ||
        b[EI_CLASS] != ELFCLASS64 || b[EI_DATA] != ELFDATA2LSB)
        return 0;
    Elf64_Ehdr eh;
    memcpy(&eh, b, sizeof eh);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
        !in_image(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len))
        return 0;
    const unsigned char *sh = b + eh.e_shoff;
    /* Prefer the full symbol table; a stripped file has only .dynsym. */
    int pick = -1;
    for (int pass = 0; pass < 2 && pick < 0; pass++) {
        uint32_t want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
        for (unsigned i = 0; i < eh.e_shnum; i++) {
            Elf64_Shdr s;
            memcpy(&s, sh + (size_t)i * sizeof s, sizeof s);
            if (s.sh_type == want) {
                pick = (int)i;
                break;
            }
        }
    }
    if (pick < 0)
        return 0;
    Elf64_Shdr sym, str;
    memcpy(&sym, sh + (size_t)pick * sizeof sym, sizeof sym);
    if (sym.sh_link >= eh.e_shnum || sym.sh_entsize != sizeof(Elf64_Sym) ||
        !in_image(sym.sh_offset, sym.sh_size, len))
        return 0;
    memcpy(&str, sh + (size_t)sym.sh_link * sizeof str, sizeof str);
    if (str.sh_type != SHT_STRTAB || !in_image(str.sh_offset, str.sh_size, len) || str.sh_size == 0)
        return 0;
    const char *strs = (const char *)b + str.sh_offset;
    size_t nsyms = sym.sh_size / sizeof(Elf64_Sym), found = 0;
    for (size_t i = 0; i < nsyms; i++) {
        Elf64_Sym s;
        memcpy(&s, b + sym.sh_offset + i * sizeof s, sizeof s);
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_size == 0 || s.st_value == 0 ||
            s.st_name >= str.sh_size)
            continue;
        /* The name must end inside the string table. */
        const char *name = strs + s.st_name;
        size_t room = str.sh_size - s.st_name;
        if (!memchr(name, 0, room))
            continue;
        if (cb(arg, name, s.st_value, s.st_size))
            found++;
    }
    return found;
}
