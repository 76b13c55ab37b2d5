/* fuzz_elfsyms — the preload's ELF symbol scanner (src/runtime/elfsyms.c),
 * which reads the symbol tables of loaded modules' files for PT_WRAPPERS,
 * on arbitrary bytes.  Every symbol it reports must lie within the image's
 * string table, which the callback checks by reading the name. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

static int on_sym(void *arg, const char *name, uint64_t value, uint64_t size)
{
    size_t *total = arg;
    *total += strlen(name) + (size_t)(value & 1) + (size_t)(size & 1);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t total = 0;
    pt__elf_scan_funcs(data, size, on_sym, &total);
    return 0;
}
