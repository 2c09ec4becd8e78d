/* Misuse of the extended API, each returning its documented code with a
 * message (under AddressSanitizer and UndefinedBehaviorSanitizer, by
 * capi/tests/c_api.rs): null descriptors and arrays, out-of-range enums and
 * undefined bits, handles of the wrong kind, double frees, calls in the
 * wrong order, and malformed stack map sections. */
#include "cfree.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        int s_ = (x);                                                                              \
        if (s_ != 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #x, s_, cfree_error_message()); \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* `x` returns `code` (or, for code -1, some emitter error: 101-903), and the
 * error record says the same with a message. */
#define EXPECT(x, code)                                                                            \
    do {                                                                                           \
        int s_ = (x), want_ = (code);                                                              \
        int ok_ = want_ == -1 ? (s_ >= 101 && s_ <= 903) : s_ == want_;                            \
        if (!ok_) {                                                                                \
            fprintf(stderr, "%s:%d: %s -> %d, expected %d: %s\n", __FILE__, __LINE__, #x, s_, want_, \
                    cfree_error_message());                                                        \
            failures++;                                                                            \
        } else if (cfree_error_code() != s_ || (s_ != 0 && cfree_error_message()[0] == 0)) {      \
            fprintf(stderr, "%s:%d: the error record does not say %d\n", __FILE__, __LINE__, s_);  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static uint64_t ident(void *ctx, uint64_t old) {
    (void)ctx;
    return old;
}

int main(void) {
    cfree_module m;
    cfree_jit jit;
    cfree_type i64, sig;
    cfree_sym f, d, out_sym;
    cfree_local l;
    cfree_label lab;
    cfree_func_decl fd;
    cfree_data_decl dd;
    cfree_data_piece piece;
    cfree_access acc;
    cfree_gc_runtime rt;
    cfree_statepoint_table t;
    cfree_safepoint_info si;
    cfree_function_info fi;
    cfree_frame fr;
    uint8_t *buf;
    size_t n;
    int yes;
    uint64_t fps[1] = {0};
    int64_t vals[1] = {1};
    /* A stack map header (version 3) announcing one function and no records. */
    uint8_t one_fn[40] = {3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t bad_version[16] = {9};

    CHECK(cfree_cg_module_new("misuse", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig));

    /* Null descriptors, arrays and out-parameters. */
    EXPECT(cfree_cg_declare_func_ex(m, "f", NULL, &f), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_declare_data(m, "d", NULL, &d), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_load_access(m, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_set_gc_runtime(m, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_switch(m, 0, NULL, NULL, 2), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_layout(m, i64, NULL, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_target_info(m, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_target_string(m, CFREE_TARGET_TRIPLE, NULL, 8, &n), CFREE_ERR_NULL_POINTER);

    /* Out-of-range enums and undefined bits in descriptors. */
    memset(&fd, 0, sizeof fd);
    fd.sig = sig;
    fd.gc = 9;
    EXPECT(cfree_cg_declare_func_ex(m, "f", &fd, &f), CFREE_ERR_INVALID_ARGUMENT);
    fd.gc = CFREE_GC_NONE;
    fd.attrs = 1u << 20;
    EXPECT(cfree_cg_declare_func_ex(m, "f", &fd, &f), CFREE_ERR_INVALID_ARGUMENT);
    fd.attrs = 0;
    fd.frame_pointer = 7;
    EXPECT(cfree_cg_declare_func_ex(m, "f", &fd, &f), CFREE_ERR_INVALID_ARGUMENT);
    fd.frame_pointer = CFREE_FP_ALL;
    fd.visibility = -1;
    EXPECT(cfree_cg_declare_func_ex(m, "f", &fd, &f), CFREE_ERR_INVALID_ARGUMENT);
    fd.visibility = CFREE_VIS_HIDDEN;
    CHECK(cfree_cg_declare_func_ex(m, "f", &fd, &f));
    memset(&dd, 0, sizeof dd);
    dd.ty = i64;
    dd.tls = 5;
    EXPECT(cfree_cg_declare_data(m, "d", &dd, &d), CFREE_ERR_INVALID_ARGUMENT);
    dd.tls = CFREE_TLS_NONE;
    dd.flags = 8;
    EXPECT(cfree_cg_declare_data(m, "d", &dd, &d), CFREE_ERR_INVALID_ARGUMENT);
    dd.flags = 0;
    CHECK(cfree_cg_declare_data(m, "d", &dd, &d));
    memset(&piece, 0, sizeof piece);
    piece.kind = 9;
    EXPECT(cfree_cg_define_data(m, d, &piece, 1), CFREE_ERR_INVALID_ARGUMENT);
    piece.kind = CFREE_PIECE_BYTES;
    piece.size = 8;
    EXPECT(cfree_cg_define_data(m, d, &piece, 1), CFREE_ERR_NULL_POINTER);
    piece.kind = CFREE_PIECE_ZEROS;
    piece.size = 3;
    EXPECT(cfree_cg_define_data(m, d, &piece, 1), -1); /* 3 bytes for an i64 */
    EXPECT(cfree_cg_define_data(m, f, &piece, 1), -1); /* a function is not data */
    memset(&acc, 0, sizeof acc);
    acc.ty = i64;
    acc.flags = 64;
    EXPECT(cfree_cg_load_access(m, &acc), CFREE_ERR_INVALID_ARGUMENT);
    memset(&rt, 0, sizeof rt);
    rt.has = 128;
    EXPECT(cfree_cg_set_gc_runtime(m, &rt), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_target_string(m, 3, NULL, 0, &n), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_target_supports(m, 99, 0, &yes), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_target_supports(m, CFREE_CAP_HARDWARE_FLOAT, 16, &yes), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_int_unop(m, 5), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_checked(m, -1), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_call_with(m, f, 0, 3, 0), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_atomic_load(m, i64, CFREE_ORDER_ACQUIRE, 2), CFREE_ERR_INVALID_ARGUMENT);

    /* Wrong order: body operations with no open function, GC operations without a runtime. */
    EXPECT(cfree_cg_switch(m, 0, vals, &lab, 0), -1);
    EXPECT(cfree_cg_unreachable(m), -1);
    EXPECT(cfree_cg_tail_call(m, f, 0), -1);
    EXPECT(cfree_cg_safepoint(m), -1);
    EXPECT(cfree_cg_func_abandon(m), -1);
    CHECK(cfree_cg_func_begin(m, f));
    CHECK(cfree_cg_param_slot(m, 0, "x", &l));
    EXPECT(cfree_cg_gc_alloc(m, 0, 16), -1);
    EXPECT(cfree_cg_tail_call(m, f, 1), -1); /* no argument on the stack */
    CHECK(cfree_cg_func_abandon(m));
    EXPECT(cfree_cg_symbol_by_name(m, "missing", &out_sym), CFREE_ERR_NOT_FOUND);

    /* A rejected emission kind leaves the module valid; a real one consumes it. */
    EXPECT(cfree_cg_emit(m, 7, CFREE_O0, &buf, &n), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_emit(m, CFREE_EMIT_IR, 9, &buf, &n), CFREE_ERR_INVALID_ARGUMENT);
    CHECK(cfree_cg_emit(m, CFREE_EMIT_IR, CFREE_O0, &buf, &n));
    EXPECT(cfree_cg_emit(m, CFREE_EMIT_IR, CFREE_O0, &buf, &n), CFREE_ERR_UNKNOWN_HANDLE);
    cfree_bytes_free(buf, n);
    cfree_bytes_free(buf, n); /* a double free is refused, not undefined */
    if (cfree_error_code() != CFREE_ERR_UNKNOWN_HANDLE) {
        fprintf(stderr, "a double cfree_bytes_free is not reported (%d)\n", cfree_error_code());
        failures++;
    }

    /* Handles of the wrong kind and after free. */
    CHECK(cfree_jit_new(&jit));
    EXPECT(cfree_statepoint_table_new(one_fn, 16, CFREE_SP_ARCH_X86_64, NULL, 0, 0, &t), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_statepoint_table_new(one_fn, sizeof one_fn, CFREE_SP_ARCH_X86_64, fps, 1, 0, &t), 0);
    EXPECT(cfree_jit_generation(t, fps), CFREE_ERR_UNKNOWN_HANDLE);
    EXPECT(cfree_statepoint_table_len(jit, &n), CFREE_ERR_UNKNOWN_HANDLE);
    EXPECT(cfree_cg_ty_int(jit, 64, &i64), CFREE_ERR_UNKNOWN_HANDLE);
    EXPECT(cfree_statepoint_table_len(t, &n), 0);
    if (n != 0) {
        fprintf(stderr, "an empty section has %zu entries\n", n);
        failures++;
    }
    EXPECT(cfree_statepoint_table_entry(t, 0, &si), CFREE_ERR_NOT_FOUND);
    EXPECT(cfree_statepoint_table_safepoint_at(t, 0x1000, &si), CFREE_ERR_NOT_FOUND);
    EXPECT(cfree_statepoint_table_free(t), 0);
    EXPECT(cfree_statepoint_table_free(t), CFREE_ERR_UNKNOWN_HANDLE);
    EXPECT(cfree_statepoint_table_len(t, &n), CFREE_ERR_UNKNOWN_HANDLE);

    /* Malformed stack map sections and mismatched function counts. */
    EXPECT(cfree_statepoint_function_count(bad_version, sizeof bad_version, &n), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_statepoint_function_count(one_fn, 8, &n), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_statepoint_function_count(one_fn, sizeof one_fn, &n), 0);
    EXPECT(cfree_statepoint_table_new(one_fn, sizeof one_fn, CFREE_SP_ARCH_X86_64, NULL, 0, 0, &t),
           CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_statepoint_table_new(one_fn, sizeof one_fn, 5, fps, 1, 0, &t), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_statepoint_table_new(NULL, 16, CFREE_SP_ARCH_X86_64, NULL, 0, 0, &t), CFREE_ERR_NULL_POINTER);

    /* JIT queries that find nothing, and bad arguments. */
    EXPECT(cfree_jit_function_at(jit, 0x10, &fi), CFREE_ERR_NOT_FOUND);
    EXPECT(cfree_jit_safepoint_at(jit, 0x10, &si), CFREE_ERR_NOT_FOUND);
    EXPECT(cfree_jit_safepoint(jit, 0, &si), CFREE_ERR_NOT_FOUND);
    EXPECT(cfree_jit_retire(jit, 12345), 11);
    EXPECT(cfree_jit_unit_info(jit, 12345, NULL), 11);
    EXPECT(cfree_jit_symbol_info(jit, "nothing", NULL), 10);
    EXPECT(cfree_jit_gc_relocate(jit, fps, 1, NULL, NULL, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_jit_walk_frames(jit, 0, NULL, 4, &n), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_jit_walk_frames(jit, 0, &fr, 1, &n), 0); /* a null entry: no frame */
    if (n != 0) {
        fprintf(stderr, "a null entry has %zu frames\n", n);
        failures++;
    }
    EXPECT(cfree_jit_gc_relocate(jit, NULL, 0, ident, NULL, &n), 0);
    EXPECT(cfree_jit_new_ex(8, &jit), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_jit_define_host_symbol(jit, "x", NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_jit_add_reclaim_veto(jit, NULL, NULL), CFREE_ERR_NULL_POINTER);
    CHECK(cfree_jit_free(jit));
    EXPECT(cfree_jit_generation(jit, fps), CFREE_ERR_UNKNOWN_HANDLE);
    EXPECT(cfree_jit_reclaim(jit, NULL, 0, &n), CFREE_ERR_UNKNOWN_HANDLE);

    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("misuse ok\n");
    return 0;
}
