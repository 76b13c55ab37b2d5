/* fuzz_find — the ELF scanning path of `pooltag find` (src/lib/elfscan.c):
 * given a file image in memory, find the tag's bytes, then name each hit's
 * section and symbol with libelf (elf_memory), on arbitrary bytes.  Every
 * name handed back must be a readable string, every hit inside the image
 * and every reported offset in increasing order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfscan.h"

typedef struct check {
    size_t size;
    uint64_t last;
    int any;
    size_t sum;
} check;

static int on_hit(void *arg, fe_image *im, uint64_t off, const fe_place *p)
{
    check *c = arg;
    if (off + 4 > c->size || (c->any && off <= c->last))
        abort();
    c->any = 1;
    c->last = off;
    if (p->section)
        c->sum += strlen(p->section);
    if (p->symbol)
        c->sum += strlen(p->symbol) + (size_t)(p->symoff & 1);
    if (p->note)
        c->sum += strlen(p->note);
    if (im) {
        /* The lookup without names must agree with the one with names. */
        fe_place q;
        fe_at_offset(im, off, 0, &q);
        if (q.code != p->code || q.have_vaddr != p->have_vaddr ||
            (q.have_vaddr && q.vaddr != p->vaddr) || q.section != p->section)
            abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libelf may use the image in place: give it a private copy. */
    uint8_t *img = malloc(size ? size : 1);
    if (!img)
        return 0;
    memcpy(img, data, size);
    static const uint8_t needle[4] = {'F', 'x', 'T', 'w'};
    check c = {size, 0, 0, 0};
    uint64_t n = fe_scan_image(img, size, needle, 1, on_hit, &c);
    (void)n;
    free(img);
    return 0;
}
