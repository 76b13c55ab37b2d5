/* wrap_prog — allocates through its own wrapper my_xmalloc from two
 * callers, prints its PID, and sleeps until killed.  Under the preload with
 * PT_WRAPPERS='my_x*' the sites must be caller_one and caller_two, not
 * my_xmalloc (test_wrappers.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) void *my_xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return p;
}

__attribute__((noinline)) void *caller_one(void)
{
    void *p = my_xmalloc(1000);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) void *caller_two(void)
{
    void *p = my_xmalloc(3000);
    __asm__ volatile("" ::: "memory");
    return p;
}

int main(void)
{
    static void *keep[20];
    for (int i = 0; i < 10; i++) {
        keep[i] = caller_one();
        keep[10 + i] = caller_two();
    }
    printf("%d\n", (int)getpid());
    fflush(stdout);
    sleep(60);
    for (int i = 0; i < 20; i++)
        free(keep[i]);
    return 0;
}
