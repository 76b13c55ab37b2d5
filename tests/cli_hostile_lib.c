/* libcli_hostile_lib.so — allocates with its own tag (Host) and plain
 * malloc, and keeps both blocks, for cli_hostile.c. */
#include <stdlib.h>

#include <pooltag.h>

static void *volatile keep[2];

__attribute__((noinline, visibility("default"))) void hostile_alloc(void)
{
    keep[0] = pt_alloc(PT_PAGED, 100, PT_TAG("Host"));
    keep[1] = malloc(200);
}
