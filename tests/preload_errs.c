/* preload_errs CASE SIZE — one caller error on a block of SIZE bytes from
 * malloc, for preload_errors.sh (run under the preload, both backends).
 * CASE: double (free twice), interior (free an address 16 bytes into the
 * block), corrupt (overwrite the 16 bytes before the block, as an
 * underrun would).  After the error the program goes on: it allocates and
 * frees a little more, prints "survived PID", waits for its standard input
 * to close (so that the test can read its segment) and exits with 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    const char *c = argv[1];
    size_t n = strtoul(argv[2], NULL, 10);
    char *p = malloc(n);
    if (!p)
        return 4;
    memset(p, 0x5a, n);
    if (!strcmp(c, "double")) {
        free(p);
        free(p);
    } else if (!strcmp(c, "interior")) {
        free(p + 16);
        free(p);
    } else if (!strcmp(c, "corrupt")) {
        memset(p - 16, 'A', 16);
        free(p);
    } else {
        return 2;
    }
    /* The heap still works. */
    for (int i = 0; i < 1000; i++) {
        char *q = malloc((size_t)i * 7 + 1);
        if (!q)
            return 5;
        q[0] = 1;
        free(q);
    }
    printf("survived %d\n", (int)getpid());
    fflush(stdout);
    char buf[16];
    while (read(0, buf, sizeof buf) > 0)
        ;
    return 3;
}
