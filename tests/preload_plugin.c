/* A plugin for preload_prog's dlopen case: its allocations carry the
 * plugin's automatic tag (libptplug.so -> "ptpl").  The block is written
 * after malloc returns, so the call is not a tail call (a tail call would
 * make the plugin's caller the allocating code, by design). */
#include <stdlib.h>
#include <string.h>
__attribute__((visibility("default"))) void *plug_alloc(size_t n)
{
    char *p = malloc(n);
    if (p && n)
        p[0] = 0;
    return p;
}
