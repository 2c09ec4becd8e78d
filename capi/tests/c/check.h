/* Checks shared by the C tests that stop at the first failure (gc.c,
 * replace.c): CHECK a status call, REQUIRE a condition with a message. */
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

#endif
