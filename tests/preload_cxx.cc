// preload_cxx CASE — C++ new/delete under the preload: the main program's
// news are charged to the program's module, every variant is balanced.
#include <dlfcn.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "pooltag.h"

static char *volatile keep;

int main()
{
    auto tag_read = (int (*)(uint32_t, pt_tag_info *))dlsym(RTLD_DEFAULT, "pt_tag_read");
    auto tag_of = (uint32_t(*)(const void *))dlsym(RTLD_DEFAULT, "pt_tag_of");
    if (!tag_read || !tag_of)
        return 1;
    uint32_t me;
    pt_tag_parse("prel", &me);
    int *a = new int[1000];
    if (tag_of(a) != me) {
        std::fprintf(stderr, "new[] not charged to the program\n");
        return 1;
    }
    delete[] a;
    struct alignas(256) Big {
        char x[300];
    };
    Big *b = new Big;
    if (reinterpret_cast<uintptr_t>(b) % 256) {
        std::fprintf(stderr, "aligned new misaligned\n");
        return 1;
    }
    delete b;
    int *n = new (std::nothrow) int(5);
    delete n;
    {
        std::map<std::string, std::vector<int>> m;
        for (int i = 0; i < 10000; i++)
            m["key" + std::to_string(i)].push_back(i);
    }
    bool threw = false;
    try {
        volatile size_t huge = SIZE_MAX / 2;
        char *x = new char[huge];
        keep = x; // the allocation must not be elided
        delete[] x;
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    if (!threw) {
        std::fprintf(stderr, "new of SIZE_MAX/2 did not throw\n");
        return 1;
    }
    pt_tag_info t;
    std::memset(&t, 0, sizeof t);
    tag_read(me, &t);
    if (t.pool[0].allocs < 10000 || t.pool[0].allocs != t.pool[0].frees) {
        std::fprintf(stderr, "prel: allocs %llu frees %llu\n", (unsigned long long)t.pool[0].allocs,
                     (unsigned long long)t.pool[0].frees);
        return 1;
    }
    std::puts("ok");
    return 0;
}
