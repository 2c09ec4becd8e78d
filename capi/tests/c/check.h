/* Checks shared by the C tests: CHECK a status call and REQUIRE a condition
 * (both stop at the first failure); EXPECT a call to return a documented
 * code, also in the error record (counted in the including file's
 * `failures`, so every misuse of a program is reported). */
#ifndef CFREE_TEST_CHECK_H
#define CFREE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        int s_ = (x);                                                                              \
        if (s_ != 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s -> %d: %s (in %s)\n", __FILE__, __LINE__, #x, s_,           \
                    cfree_error_message(), cfree_error_call());                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Needs `static int failures` in the including file. */
#define EXPECT(x, code)                                                                            \
    do {                                                                                           \
        int s_ = (x);                                                                              \
        if (s_ != (code) || cfree_error_code() != (code)) {                                        \
            fprintf(stderr, "%s:%d: %s -> %d, expected %d: %s\n", __FILE__, __LINE__, #x, s_,      \
                    (code), cfree_error_message());                                                \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
