/* fuzz_imports — the ELF scanning path of `pooltag imports`
 * (src/lib/elfdyn.c) over a file image in memory (elf_memory): imports
 * with their relocations, exports, versions, DT_NEEDED and DT_SONAME, on
 * arbitrary bytes.  Every string reported is read in full (strlen), so a
 * name or version outside the image is caught by ASan. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfdyn.h"

static size_t sink;

static int on_sym(void *arg, const ed_sym *s)
{
    size_t *n = arg;
    sink += strlen(s->name);
    if (s->version)
        sink += strlen(s->version);
    if (s->version_file)
        sink += strlen(s->version_file);
    if (s->rname)
        sink += strlen(s->rname);
    sink += (size_t)(s->slot & 1) + (size_t)(s->value & 1);
    return ++*n > 100000; /* stop a huge table: bounded work per input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        if (elf_version(EV_CURRENT) == EV_NONE)
            abort();
        init = 1;
    }
    char *img = malloc(size ? size : 1);
    if (!img)
        return 0;
    memcpy(img, data, size);
    Elf *e = elf_memory(img, size);
    if (e) {
        char err[256];
        size_t n = 0;
        ed_scan(e, "*", ED_IMPORTS | ED_EXPORTS, on_sym, &n, err, sizeof err);
        ed_scan(e, "api_query", ED_IMPORTS | ED_EXACT, on_sym, &n, err, sizeof err);
        ed_dyn dyn;
        if (ed_dynamic(e, &dyn, err, sizeof err) == 0) {
            if (dyn.soname)
                sink += strlen(dyn.soname);
            for (size_t i = 0; i < dyn.nneeded; i++)
                sink += strlen(dyn.needed[i]);
            free(dyn.needed);
        }
        const char **names;
        size_t nn;
        if (ed_export_names(e, &names, &nn) == 0) {
            for (size_t i = 0; i < nn; i++)
                sink += (size_t)ed_defines(names, nn, names[i]);
            free(names);
        }
        elf_end(e);
    }
    free(img);
    return 0;
}
