/* fault_plug — a plugin for fault_prog (module:GLOB selection): n mallocs
 * of 64 bytes from this module; returns how many were NULL with ENOMEM
 * (-1000 for a NULL with another errno). */
#include <errno.h>
#include <stdlib.h>

void *volatile fault_plug_sink;

__attribute__((visibility("default"))) int fault_plug_alloc(int n)
{
    int f = 0;
    for (int i = 0; i < n; i++) {
        errno = 0;
        void *p = malloc(64);
        if (!p) {
            if (errno != ENOMEM)
                return -1000;
            f++;
        }
        fault_plug_sink = p;
        free(p);
    }
    return f;
}
