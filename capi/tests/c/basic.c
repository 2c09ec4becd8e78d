/* The C API from C: a JIT'd function, an object file, and misuse that must
 * return its documented code. Built with -fsanitize=address,undefined by
 * capi/tests/c_api.rs. */
#include "cfree.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        int s_ = (x);                                                                              \
        if (s_ != 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s -> %d: %s (in %s)\n", __FILE__, __LINE__, #x, s_,           \
                    cfree_error_message(), cfree_error_call());                                     \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define EXPECT(x, code)                                                                            \
    do {                                                                                           \
        int s_ = (x);                                                                              \
        if (s_ != (code)) {                                                                        \
            fprintf(stderr, "%s:%d: %s -> %d, expected %d: %s\n", __FILE__, __LINE__, #x, s_,      \
                    (code), cfree_error_message());                                                \
            failures++;                                                                            \
        } else if (cfree_error_code() != (code) || (code != 0 && cfree_error_message()[0] == 0)) { \
            fprintf(stderr, "%s:%d: the error record does not say %d\n", __FILE__, __LINE__, code); \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* long long fib(long long n): iterative. */
static int build_fib(cfree_module m, cfree_type i64) {
    cfree_type sig;
    cfree_sym fib;
    cfree_local n, a, b, t;
    cfree_label head, body, done;
    CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig));
    CHECK(cfree_cg_declare_func(m, "fib", sig, CFREE_LINKAGE_EXTERNAL, &fib));
    CHECK(cfree_cg_func_begin(m, fib));
    CHECK(cfree_cg_param_slot(m, 0, "n", &n));
    CHECK(cfree_cg_local_slot(m, i64, "a", 0, &a));
    CHECK(cfree_cg_local_slot(m, i64, "b", 0, &b));
    CHECK(cfree_cg_local_slot(m, i64, "t", 0, &t));
    CHECK(cfree_cg_push_local(m, a));
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_local(m, b));
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_new_label(m, &head));
    CHECK(cfree_cg_new_label(m, &body));
    CHECK(cfree_cg_new_label(m, &done));
    CHECK(cfree_cg_place_label(m, head));
    CHECK(cfree_cg_push_local(m, n));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_int_cmp(m, CFREE_CMP_SGT));
    CHECK(cfree_cg_cond_br(m, body, done));
    CHECK(cfree_cg_place_label(m, body));
    /* t = a + b; a = b; b = t; n = n - 1 */
    CHECK(cfree_cg_push_local(m, t));
    CHECK(cfree_cg_push_local(m, a));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_local(m, b));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_local(m, a));
    CHECK(cfree_cg_push_local(m, b));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_local(m, b));
    CHECK(cfree_cg_push_local(m, t));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_local(m, n));
    CHECK(cfree_cg_push_local(m, n));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_SUB, CFREE_FLAG_NSW));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_br(m, head));
    CHECK(cfree_cg_place_label(m, done));
    CHECK(cfree_cg_push_local(m, a));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
    return 0;
}

int main(void) {
    cfree_module m, other, gone;
    cfree_jit jit;
    cfree_type i64, i32, foreign, t;
    const void *addr;
    uint8_t *bytes;
    size_t len;
    long long (*fib)(long long);

    if (cfree_version() != CFREE_VERSION || cfree_abi_check(CFREE_VERSION) != 0) {
        fprintf(stderr, "version mismatch\n");
        return 1;
    }
    EXPECT(cfree_abi_check(CFREE_VERSION + 1), CFREE_ERR_INVALID_ARGUMENT);

    /* A function through the JIT. */
    CHECK(cfree_cg_module_new("jit_unit", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    if (build_fib(m, i64)) return 1;
    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_publish(jit, m, 2));
    CHECK(cfree_jit_lookup(jit, "fib", &addr));
    memcpy(&fib, &addr, sizeof fib);
    if (fib(50) != 12586269025LL || fib(1) != 1) {
        fprintf(stderr, "fib(50) = %lld\n", fib(50));
        failures++;
    }
    EXPECT(cfree_cg_module_free(m), CFREE_ERR_UNKNOWN_HANDLE); /* consumed by publish */

    /* An object file. */
    CHECK(cfree_cg_module_new("aot_unit", "x86_64-unknown-linux-gnu", &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    if (build_fib(m, i64)) return 1;
    CHECK(cfree_cg_emit_object(m, 0, &bytes, &len));
    if (len < 64 || memcmp(bytes, "\177ELF", 4) != 0) {
        fprintf(stderr, "not an ELF object (%zu bytes)\n", len);
        failures++;
    }
    cfree_bytes_free(bytes, len);

    /* Misuse: every case returns its documented code. */
    CHECK(cfree_cg_module_new("misuse", NULL, &m));
    CHECK(cfree_cg_module_new("other", NULL, &other));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_int(m, 32, &i32));
    CHECK(cfree_cg_ty_int(other, 64, &foreign));
    EXPECT(cfree_cg_ty_int(m, 7, &t), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_ty_int(m, 64, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_module_new(NULL, NULL, &t), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_module_new("bad", "nonsense-none-none", &t), 1001);
    EXPECT(cfree_cg_ty_record(m, NULL, 2, &t), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_ret(m), 101);                   /* no open function */
    if (strcmp(cfree_error_call(), "ret") != 0) {
        fprintf(stderr, "error call is '%s'\n", cfree_error_call());
        failures++;
    }
    EXPECT(cfree_cg_ty_ptr(m, foreign, 0, &t), 301); /* a type of another module */
    EXPECT(cfree_cg_int_op(m, 99, 0), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_int_op(m, CFREE_INT_ADD, 0x80), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_module_free(12345678), CFREE_ERR_UNKNOWN_HANDLE); /* forged */
    EXPECT(cfree_cg_module_free(jit), CFREE_ERR_UNKNOWN_HANDLE);      /* a JIT, not a module */
    EXPECT(cfree_jit_free(m), CFREE_ERR_UNKNOWN_HANDLE);              /* a module, not a JIT */
    EXPECT(cfree_jit_lookup(jit, "no_such_function", &addr), cfree_error_code());
    if (cfree_error_code() == 0) {
        fprintf(stderr, "looking up a missing function succeeded\n");
        failures++;
    }
    EXPECT(cfree_jit_publish(jit, other, 9), CFREE_ERR_INVALID_ARGUMENT);
    gone = other;
    CHECK(cfree_cg_module_free(gone));
    EXPECT(cfree_cg_module_free(gone), CFREE_ERR_UNKNOWN_HANDLE);   /* double free */
    EXPECT(cfree_cg_ty_int(gone, 64, &t), CFREE_ERR_UNKNOWN_HANDLE); /* use after free */
    CHECK(cfree_cg_module_free(m));
    CHECK(cfree_jit_free(jit));
    EXPECT(cfree_jit_free(jit), CFREE_ERR_UNKNOWN_HANDLE);
    EXPECT(cfree_cg_ty_int(m, 64, &t), CFREE_ERR_UNKNOWN_HANDLE);
    EXPECT(cfree_abi_check(CFREE_VERSION), 0);

    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("c api ok\n");
    return 0;
}
