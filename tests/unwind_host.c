/* unwind_host LIB — a C program that loads a C++ library (unwind_cxx_lib)
 * and runs its cancellation and exception cases; the output must be the
 * same with and without the preload. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    int (*cancel)(void) = (int (*)(void))dlsym(h, "cxx_cancel_dtors");
    void (*throwc)(void) = (void (*)(void))dlsym(h, "cxx_throw_catch");
    if (!cancel || !throwc)
        return 2;
    for (int i = 0; i < 3; i++)
        printf("cancelled thread: %d destructors\n", cancel());
    fflush(stdout);
    throwc();
    fflush(stdout);
    return 0;
}
