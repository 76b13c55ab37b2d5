/* spv_host — for tests/spv_live.sh: allocates and frees blocks of tag Ovr1
 * (24 bytes, through pooltag's library) in a loop, 4 of them live at any
 * time, about every millisecond; prints "ready" once the first blocks are
 * out.  Each line on its standard input is a command:
 *   overrun  allocate a 24-byte Ovr1 block in spv_overrun_alloc and write
 *            the byte after its end in spv_overrun_write, then free it
 *   uaf      allocate, free, then read the freed block in spv_uaf_read
 *   quit     free everything and exit 0
 * and "done CMD" is printed after it (a command that is caught without
 * PT_SPECIAL_RECOVER ends the process instead). */
#include "pooltag.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OVR1 PT_TAG("Ovr1")

__attribute__((noinline)) char *spv_overrun_alloc(void)
{
    char *p = pt_alloc(PT_PAGED, 24, OVR1);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) void spv_overrun_write(char *p, size_t size)
{
    ((volatile char *)p)[size] = 'x';   /* one byte past the end */
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) int spv_uaf_read(const char *p)
{
    int c = ((const volatile char *)p)[8];
    __asm__ volatile("" ::: "memory");
    return c;
}

int main(void)
{
    char *live[4] = {0};
    unsigned n = 0;
    char line[64];
    size_t have = 0;
    for (int i = 0; i < 4; i++)
        live[i] = pt_alloc(PT_PAGED, 24, OVR1);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        unsigned k = n++ % 4;
        pt_free(live[k]);
        live[k] = pt_alloc(PT_PAGED, 24, OVR1);
        if (live[k])
            memset(live[k], 1, 24);
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        if (poll(&pfd, 1, 1) <= 0)
            continue;
        ssize_t r = read(0, line + have, sizeof line - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        line[have] = 0;
        char *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            if (!strcmp(line, "overrun")) {
                char *p = spv_overrun_alloc();
                spv_overrun_write(p, 24);
                pt_free(p);
            } else if (!strcmp(line, "uaf")) {
                char *p = pt_alloc(PT_PAGED, 24, OVR1);
                pt_free(p);
                spv_uaf_read(p);
            } else if (!strcmp(line, "quit")) {
                for (int i = 0; i < 4; i++)
                    pt_free(live[i]);
                printf("done quit\n");
                return 0;
            }
            printf("done %s\n", line);
            fflush(stdout);
            have -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, have + 1);
        }
        if (have >= sizeof line - 1)
            have = 0;
    }
    return 0;
}
