// fault_cxx — C++ allocation under fault injection (tests/fault_basic.sh,
// with PT_FAIL=module:fault_cxx): every operator new of this program fails.
// Prints what each form did: plain and array new throw std::bad_alloc,
// aligned new too, nothrow new returns NULL, and a new_handler is called
// before the throw.
#include <cstdio>
#include <new>

static void *volatile sink;
static int handler_calls;

static void handler()
{
    handler_calls++;
    std::set_new_handler(nullptr); // the next failure throws
}

struct alignas(64) Wide {
    char b[64];
};

int main()
{
    int ok = 0;
    try {
        sink = new char[100];
        std::puts("new[]: returned");
    } catch (const std::bad_alloc &) {
        std::puts("new[]: bad_alloc");
        ok++;
    }
    try {
        sink = new int(7);
        std::puts("new: returned");
    } catch (const std::bad_alloc &) {
        std::puts("new: bad_alloc");
        ok++;
    }
    try {
        sink = new Wide;
        std::puts("aligned new: returned");
    } catch (const std::bad_alloc &) {
        std::puts("aligned new: bad_alloc");
        ok++;
    }
    sink = new (std::nothrow) char[100];
    std::puts(sink ? "nothrow new: returned" : "nothrow new: NULL");
    ok += sink == nullptr;
    std::set_new_handler(handler);
    try {
        sink = new char[10];
        std::puts("handler new: returned");
    } catch (const std::bad_alloc &) {
        std::printf("handler new: bad_alloc after %d handler call(s)\n", handler_calls);
        ok += handler_calls == 1;
    }
    std::printf("ok %d\n", ok);
    return 0;
}
