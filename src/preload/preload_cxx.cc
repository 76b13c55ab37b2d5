// preload_cxx.cc — C++ operator new and delete, every variant (plain,
// array, nothrow, sized, aligned), for libpooltag-preload.so.  Each hands
// its caller's return address to the runtime, so a `new` in user code is
// charged to the user's module, not to libstdc++.
#include <cstddef>
#include <new>

#include "preload.h"

#define RA __builtin_return_address(0)
#define EXPORT __attribute__((visibility("default")))

namespace {

// operator new must not return NULL: call the new-handler and retry, then
// throw std::bad_alloc, as the standard library's version does.
inline void *new_or_throw(std::size_t n, std::size_t align, const void *ra)
{
    for (;;) {
        void *p = align > 16 ? pt__pl_memalign(align, n, ra) : pt__pl_malloc(n, ra);
        if (p)
            return p;
        std::new_handler h = std::get_new_handler();
        if (!h)
            throw std::bad_alloc();
        h();
    }
}

inline void *new_nothrow(std::size_t n, std::size_t align, const void *ra) noexcept
{
    try {
        return new_or_throw(n, align, ra);
    } catch (...) {
        return nullptr;
    }
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
