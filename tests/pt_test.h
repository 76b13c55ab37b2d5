/* pt_test.h — minimal assertions for pooltag's C tests.  A failed check
 * prints file:line and the expression and exits 1; each test is its own
 * process under CTest, so one failure never hides another test. */
#ifndef PT_TEST_H
#define PT_TEST_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* CHECK with a message: CHECKF(n == 3, "%zu suspects", n). */
#define CHECKF(cond, ...)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_EQ_U(a, b)                                                     \
    do {                                                                     \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                     \
        if (a_ != b_) {                                                      \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%" PRIu64        \
                            " != %" PRIu64 ")\n",                            \
                    __FILE__, __LINE__, #a, #b, a_, b_);                     \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#endif
