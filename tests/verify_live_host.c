/* verify_live_host PLUGIN — for tests/verify_live.sh: dlopens the plugin
 * (tests/rt_trace_plug.c), has it allocate 5 blocks of 100..104 bytes and
 * free the last 2, prints "ready ADDR" (the address of the freed block of
 * 104 bytes) and waits until its standard input closes (the test keeps it
 * open while it reads the process), then dlcloses the plugin and exits. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: verify_live_host PLUGIN\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        fprintf(stderr, "verify_live_host: %s\n", dlerror());
        return 2;
    }
    int (*work)(int, int) = (int (*)(int, int))dlsym(h, "plug_work");
    void *(*block)(int) = (void *(*)(int))dlsym(h, "plug_block");
    if (!work || !block || work(5, 3) != 0) {
        fprintf(stderr, "verify_live_host: plugin failed\n");
        return 2;
    }
    printf("ready %p\n", block(4));
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    dlclose(h);
    return 0;
}
