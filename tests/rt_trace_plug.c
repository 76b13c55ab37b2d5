/* rt_trace_plug — a plugin for rt_trace (verify): allocates `n` blocks with
 * malloc (its own automatic tag) and frees all but `leak` of them. */
#include <stdlib.h>

static void *blocks[64];

__attribute__((visibility("default"))) int plug_work(int n, int leak)
{
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++) {
        blocks[i] = malloc(100 + (size_t)i);
        if (!blocks[i])
            return -1;
    }
    for (int i = leak; i < n; i++)
        free(blocks[i]);
    return 0;
}

/* Block i of the last plug_work (freed or not), for verify_live. */
__attribute__((visibility("default"))) void *plug_block(int i)
{
    return i >= 0 && i < 64 ? blocks[i] : NULL;
}
