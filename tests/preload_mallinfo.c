/* preload_mallinfo MIB XMLFILE — glibc's heap statistics calls as a program
 * that watches its own memory uses them: mallinfo2 and mallinfo before and
 * after allocating MIB MiB in 8 KiB blocks, then malloc_stats (stderr) and
 * malloc_info (into XMLFILE) while the blocks are live, then malloc_trim and
 * mallopt after they are freed.  Prints "name value" lines for
 * preload_mallinfo.sh. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    size_t n = strtoul(argv[1], NULL, 10) * 128; /* 8 KiB blocks */
    char **v = malloc(n * sizeof *v);
    if (!v)
        return 3;
    struct mallinfo2 a2 = mallinfo2();
    struct mallinfo a1 = mallinfo();
    for (size_t i = 0; i < n; i++) {
        v[i] = malloc(8192);
        if (!v[i])
            return 3;
        memset(v[i], 1, 8192);
    }
    struct mallinfo2 b2 = mallinfo2();
    struct mallinfo b1 = mallinfo();
    printf("uordblks2 %lld\n", (long long)(b2.uordblks - a2.uordblks));
    printf("uordblks %lld\n", (long long)b1.uordblks - (long long)a1.uordblks);
    printf("arena2 %zu\n", b2.arena + b2.hblkhd);
    fflush(stdout);
    malloc_stats();
    FILE *f = fopen(argv[2], "w");
    if (!f || malloc_info(0, f) != 0)
        return 4;
    fclose(f);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    struct mallinfo2 c2 = mallinfo2();
    printf("after_free %lld\n", (long long)(c2.uordblks - a2.uordblks));
    printf("trim %d\n", malloc_trim(0));
    printf("mallopt_arena_max %d\n", mallopt(M_ARENA_MAX, 2));
    free(v);
    return 0;
}
