// preload_cxx.cc — C++ operator new and delete, every variant (plain,
// array, nothrow, sized, aligned), for libpooltag-preload.so.  Each hands
// its caller's return address to the runtime, so a `new` in user code is
// charged to the user's module, not to libstdc++.
#include <cstddef>
#include <new>

#include "preload.h"

#define RA __builtin_return_address(0)
#define EXPORT __attribute__((visibility("default")))

// The preload must not depend on libstdc++: a C program would load it, and
// its start-up allocations (the emergency exception pool) would be counted
// as leaks of the program.  A program that calls operator new has
// libstdc++ loaded already; these weak references find it there.
extern "C" {
__attribute__((weak, noreturn)) void pt_cxx_throw_bad_alloc() __asm__("_ZSt17__throw_bad_allocv");
__attribute__((weak)) std::new_handler pt_cxx_get_new_handler() noexcept
    __asm__("_ZSt15get_new_handlerv");
}

namespace {

inline std::new_handler current_handler() noexcept
{
    return pt_cxx_get_new_handler ? pt_cxx_get_new_handler() : nullptr;
}

inline void *try_alloc(std::size_t n, std::size_t align, const void *ra) noexcept
{
    return align > 16 ? pt__pl_memalign(align, n, ra) : pt__pl_malloc(n, ra);
}

// operator new must not return NULL: call the new-handler and retry, then
// throw std::bad_alloc (from libstdc++), as the standard library's does.
inline void *new_or_throw(std::size_t n, std::size_t align, const void *ra)
{
    for (;;) {
        void *p = try_alloc(n, align, ra);
        if (p)
            return p;
        std::new_handler h = current_handler();
        if (!h) {
            if (pt_cxx_throw_bad_alloc)
                pt_cxx_throw_bad_alloc();
            __builtin_trap();
        }
        h();
    }
}

// The nothrow forms return NULL on failure.  Note: they do not call the
// new-handler (a handler may throw, and catching it here would need the
// C++ runtime this library does not link).
inline void *new_nothrow(std::size_t n, std::size_t align, const void *ra) noexcept
{
    return try_alloc(n, align, ra);
}

} // namespace

EXPORT void *operator new(std::size_t n) { return new_or_throw(n, 0, RA); }
EXPORT void *operator new[](std::size_t n) { return new_or_throw(n, 0, RA); }
EXPORT void *operator new(std::size_t n, const std::nothrow_t &) noexcept
{
    return new_nothrow(n, 0, RA);
}
EXPORT void *operator new[](std::size_t n, const std::nothrow_t &) noexcept
{
    return new_nothrow(n, 0, RA);
}
EXPORT void *operator new(std::size_t n, std::align_val_t a)
{
    return new_or_throw(n, static_cast<std::size_t>(a), RA);
}
EXPORT void *operator new[](std::size_t n, std::align_val_t a)
{
    return new_or_throw(n, static_cast<std::size_t>(a), RA);
}
EXPORT void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept
{
    return new_nothrow(n, static_cast<std::size_t>(a), RA);
}
EXPORT void *operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept
{
    return new_nothrow(n, static_cast<std::size_t>(a), RA);
}

EXPORT void operator delete(void *p) noexcept { pt__pl_free(p); }
EXPORT void operator delete[](void *p) noexcept { pt__pl_free(p); }
EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept { pt__pl_free(p); }
EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept { pt__pl_free(p); }
EXPORT void operator delete(void *p, std::size_t) noexcept { pt__pl_free(p); }
EXPORT void operator delete[](void *p, std::size_t) noexcept { pt__pl_free(p); }
EXPORT void operator delete(void *p, std::align_val_t) noexcept { pt__pl_free(p); }
EXPORT void operator delete[](void *p, std::align_val_t) noexcept { pt__pl_free(p); }
EXPORT void operator delete(void *p, std::size_t, std::align_val_t) noexcept { pt__pl_free(p); }
EXPORT void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { pt__pl_free(p); }
EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept
{
    pt__pl_free(p);
}
EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept
{
    pt__pl_free(p);
}
