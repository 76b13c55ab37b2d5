/*
 * ptassert.h — contracts: PT_ASSERT(cond) checks an invariant that a
 * comment states.
 *
 * Compiled only when PT_CONTRACTS is defined (CMake option PT_CONTRACTS: on
 * by default in Debug builds, which include the sanitizer build, and in the
 * Makefile's test build; off in release builds, where PT_ASSERT(cond)
 * expands to nothing and cond is not evaluated).  A failed contract writes
 * one line, "pooltag: contract failed: FILE:LINE: COND", to stderr with
 * write(2) — no allocation, no stdio, usable inside the allocator and in a
 * signal handler — and aborts.
 */
#ifndef PT_PTASSERT_H
#define PT_PTASSERT_H

#ifdef PT_CONTRACTS

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PT_ASSERT_STR2(x) #x
#define PT_ASSERT_STR(x) PT_ASSERT_STR2(x)

static __attribute__((noinline, noreturn, cold, unused)) void pt_contract_failed(const char *what)
{
    static const char head[] = "pooltag: contract failed: ";
    ssize_t r = write(2, head, sizeof head - 1);
    r = write(2, what, strlen(what));
    r = write(2, "\n", 1);
    (void)r;
    abort();
}

#define PT_ASSERT(cond)                                                                  \
    do {                                                                                 \
        if (__builtin_expect(!(cond), 0))                                                \
            pt_contract_failed(__FILE__ ":" PT_ASSERT_STR(__LINE__) ": " #cond);         \
    } while (0)

#else

#define PT_ASSERT(cond) ((void)0)

#endif

#endif /* PT_PTASSERT_H */
