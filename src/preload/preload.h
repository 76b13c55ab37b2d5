/* preload.h — the runtime's entry points for the interposers (plalloc.c and
 * plexit.c, PT_PRELOAD build).  `ra` is the return address in the code that asked. */
#ifndef PT_PRELOAD_H
#define PT_PRELOAD_H
#include <stddef.h>
#include <stdint.h>
#include "opttab.h"
#ifdef __cplusplus
extern "C" {
#endif
/* The allocation entry points are hidden: the interposers reach them by a
 * direct jump, not through the PLT (they are never called from outside). */
#define PT_PL_HIDDEN __attribute__((visibility("hidden")))
PT_PL_HIDDEN void *pt__pl_malloc(size_t n, const void *ra);
PT_PL_HIDDEN void *pt__pl_calloc(size_t n, size_t size, const void *ra);
PT_PL_HIDDEN void *pt__pl_memalign(size_t align, size_t n, const void *ra);
PT_PL_HIDDEN void *pt__pl_realloc(void *p, size_t n, const void *ra);
PT_PL_HIDDEN void pt__pl_free(void *p);
PT_PL_HIDDEN size_t pt__pl_usable(void *p);
PT_PL_HIDDEN const void *pt__pl_site_push(const void *ra);
PT_PL_HIDDEN void pt__pl_site_pop(const void *old);
void pt__pl_init(void);
void pt__pl_dlclosed(void);
void pt__pl_exit_report(const char *pattern);
int pt__pl_heap(uint64_t *in_use, uint64_t *blocks);
void *pt__pl_libc_sym(const char *name);
/* options.c: PT_<id> from the environment now (src/common/options.def). */
const char *pt__opt_env(pt_opt_id id);
#ifdef __cplusplus
}
#endif
#endif
