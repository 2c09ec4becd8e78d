/* Floats, conversions, select, addresses, memory flags, atomics and indirect
 * calls through the C API, JIT'd and compared with the same computations
 * done by C. Built with -fsanitize=address,undefined by capi/tests/c_api.rs. */
#include "cfree.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != 0) {                                                                            \
            fprintf(stderr, "%s:%d: %s: %s (in %s)\n", __FILE__, __LINE__, #x, cfree_error_message(), \
                    cfree_error_call());                                                           \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static cfree_module m;
static cfree_type i64, i32, f64, ptr;

/* Declares `name` with `n` params of `params` returning `result`, opens it, returns param slots. */
static int begin(const char *name, const cfree_type *params, size_t n, cfree_type result, cfree_sym *sym,
                 cfree_local *slots) {
    cfree_type sig;
    uint32_t i;
    CHECK(cfree_cg_ty_func(m, params, n, 1, result, 0, &sig));
    CHECK(cfree_cg_declare_func(m, name, sig, CFREE_LINKAGE_EXTERNAL, sym));
    CHECK(cfree_cg_func_begin(m, *sym));
    for (i = 0; i < n; i++) CHECK(cfree_cg_param_slot(m, i, NULL, &slots[i]));
    return 0;
}

static int get(cfree_local l, cfree_type t) {
    CHECK(cfree_cg_push_local(m, l));
    CHECK(cfree_cg_load(m, t, 0));
    return 0;
}

int main(void) {
    cfree_sym s_hyp, s_clamp, s_bits, s_bump, s_twice, s_apply;
    cfree_local p[3];
    cfree_jit jit;
    const void *a;
    double (*hyp)(double, double);
    double (*clamp)(double, double, double);
    long long (*bits)(double);
    long long (*bump)(long long *, long long);
    long long (*twice)(long long);
    long long (*apply)(long long);
    long long cell = 40;
    int failures = 0;
    cfree_type dd[2], ddd[3], pl[2];

    CHECK(cfree_cg_module_new("ops", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_int(m, 32, &i32));
    CHECK(cfree_cg_ty_float(m, 64, &f64));
    CHECK(cfree_cg_ty_ptr(m, i64, 0, &ptr));
    dd[0] = dd[1] = f64;
    ddd[0] = ddd[1] = ddd[2] = f64;

    /* hyp(x, y) = sqrt(x*x + y*y) */
    if (begin("hyp", dd, 2, f64, &s_hyp, p)) return 1;
    if (get(p[0], f64) || get(p[0], f64)) return 1;
    CHECK(cfree_cg_float_op(m, CFREE_FLOAT_MUL, CFREE_FM_NONE));
    if (get(p[1], f64)) return 1;
    CHECK(cfree_cg_dup(m));
    CHECK(cfree_cg_float_op(m, CFREE_FLOAT_MUL, CFREE_FM_NONE));
    CHECK(cfree_cg_float_op(m, CFREE_FLOAT_ADD, CFREE_FM_NONE));
    CHECK(cfree_cg_float_unop(m, CFREE_FUNARY_SQRT, CFREE_FM_NONE));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* clamp(x, lo, hi) = x < lo ? lo : (x > hi ? hi : x), with select */
    if (begin("clamp", ddd, 3, f64, &s_clamp, p)) return 1;
    if (get(p[1], f64) || get(p[2], f64) || get(p[0], f64) || get(p[2], f64)) return 1;
    CHECK(cfree_cg_float_cmp(m, CFREE_FCMP_OGT, CFREE_FM_NONE)); /* x > hi */
    if (get(p[0], f64)) return 1;
    CHECK(cfree_cg_swap(m));                                       /* hi, x, cond */
    CHECK(cfree_cg_select(m));                                     /* min(x, hi) */
    if (get(p[0], f64) || get(p[1], f64)) return 1;
    CHECK(cfree_cg_float_cmp(m, CFREE_FCMP_OLT, CFREE_FM_NONE)); /* lo, m, x < lo */
    CHECK(cfree_cg_select(m));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* bits(x) = bitcast(x) ^ (long long)trunc(x), through casts */
    if (begin("bits", &f64, 1, i64, &s_bits, p)) return 1;
    if (get(p[0], f64)) return 1;
    CHECK(cfree_cg_cast(m, CFREE_CAST_BITCAST, i64));
    if (get(p[0], f64)) return 1;
    CHECK(cfree_cg_cast(m, CFREE_CAST_FP_TO_SI_SAT, i64));
    CHECK(cfree_cg_int_op(m, CFREE_INT_XOR, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* bump(p, k) = atomic fetch-add of k at *p, then a volatile read of p[0] added */
    pl[0] = ptr;
    pl[1] = i64;
    if (begin("bump", pl, 2, i64, &s_bump, p)) return 1;
    if (get(p[0], ptr) || get(p[1], i64)) return 1;
    CHECK(cfree_cg_atomic_rmw(m, CFREE_RMW_ADD, i64, CFREE_ORDER_SEQ_CST)); /* old */
    CHECK(cfree_cg_fence(m, CFREE_ORDER_SEQ_CST));
    if (get(p[0], ptr)) return 1;
    CHECK(cfree_cg_deref(m, i64));
    CHECK(cfree_cg_load_ex(m, i64, 8, CFREE_MEM_VOLATILE)); /* new */
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* twice(x) = 2x; apply(x) = (&twice)(x) + 1, an indirect call */
    if (begin("twice", &i64, 1, i64, &s_twice, p)) return 1;
    if (get(p[0], i64)) return 1;
    CHECK(cfree_cg_push_int(m, i64, 2));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
    if (begin("apply", &i64, 1, i64, &s_apply, p)) return 1;
    {
        cfree_type sig;
        CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig));
        CHECK(cfree_cg_push_sym_addr(m, s_twice));
        if (get(p[0], i64)) return 1;
        CHECK(cfree_cg_call_indirect(m, sig, 1));
    }
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_publish(jit, m, 2));
    CHECK(cfree_jit_lookup(jit, "hyp", &a));
    memcpy(&hyp, &a, sizeof hyp);
    CHECK(cfree_jit_lookup(jit, "clamp", &a));
    memcpy(&clamp, &a, sizeof clamp);
    CHECK(cfree_jit_lookup(jit, "bits", &a));
    memcpy(&bits, &a, sizeof bits);
    CHECK(cfree_jit_lookup(jit, "bump", &a));
    memcpy(&bump, &a, sizeof bump);
    CHECK(cfree_jit_lookup(jit, "twice", &a));
    memcpy(&twice, &a, sizeof twice);
    CHECK(cfree_jit_lookup(jit, "apply", &a));
    memcpy(&apply, &a, sizeof apply);

    if (hyp(3.0, 4.0) != sqrt(3.0 * 3.0 + 4.0 * 4.0) || hyp(1e-3, 2.5) != sqrt(1e-6 + 6.25)) failures++;
    if (clamp(5.0, 0.0, 1.0) != 1.0 || clamp(-2.0, 0.0, 1.0) != 0.0 || clamp(0.25, 0.0, 1.0) != 0.25) failures++;
    {
        double x = -1234.75;
        long long b;
        memcpy(&b, &x, sizeof b);
        if (bits(x) != (b ^ -1234LL)) failures++;
    }
    if (bump(&cell, 2) != 40 + 42 || cell != 42) failures++;
    if (apply(20) != 41) failures++;
    if (cfree_cg_float_op(12345, CFREE_FLOAT_ADD, 0) != CFREE_ERR_UNKNOWN_HANDLE) failures++;
    CHECK(cfree_jit_free(jit));
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("ops ok\n");
    return 0;
}
