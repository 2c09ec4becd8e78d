/* Protected visibility in the JIT from C (doc/jit.md, "Protected
 * functions"): `f` calls `g` directly in the unit that defines both. With
 * `g` protected, that call keeps `g`'s first body after `g` is replaced, while
 * the stable entry (a lookup, `g`'s address taken in the unit) runs the new
 * one; with default visibility, `f` follows the replacement too. Run by
 * capi/tests/c_api.rs under the sanitizers. */
#include "cfree.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

typedef int64_t (*fn_i64)(int64_t);
typedef const void *(*fn_addr)(void);

/* `g(x) = x * mul + add` with visibility `vis`; with `with_f`, also
 * `f(x) = g(x) * 2` and `gaddr() = &g`. */
static cfree_module unit(const char *name, int vis, int64_t mul, int64_t add, int with_f) {
    cfree_module m;
    cfree_type i64, i8, ptr, sig, addr_sig;
    cfree_sym g, f, gaddr;
    cfree_local x;
    cfree_func_decl d;
    CHECK(cfree_cg_module_new(name, NULL, &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &ptr));
    CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig));
    CHECK(cfree_cg_ty_func(m, NULL, 0, 1, ptr, 0, &addr_sig));
    memset(&d, 0, sizeof d);
    d.sig = sig;
    d.linkage = CFREE_LINKAGE_EXTERNAL;
    d.visibility = vis;
    CHECK(cfree_cg_declare_func_ex(m, "g", &d, &g));
    CHECK(cfree_cg_func_begin(m, g));
    CHECK(cfree_cg_param_slot(m, 0, "x", &x));
    CHECK(cfree_cg_push_local(m, x));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_int(m, i64, mul));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_push_int(m, i64, add));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
    if (with_f) {
        CHECK(cfree_cg_declare_func(m, "f", sig, CFREE_LINKAGE_EXTERNAL, &f));
        CHECK(cfree_cg_func_begin(m, f));
        CHECK(cfree_cg_param_slot(m, 0, "x", &x));
        CHECK(cfree_cg_push_local(m, x));
        CHECK(cfree_cg_load(m, i64, 0));
        CHECK(cfree_cg_call(m, g, 1));
        CHECK(cfree_cg_push_int(m, i64, 2));
        CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
        CHECK(cfree_cg_ret(m));
        CHECK(cfree_cg_func_end(m));
        CHECK(cfree_cg_declare_func(m, "gaddr", addr_sig, CFREE_LINKAGE_EXTERNAL, &gaddr));
        CHECK(cfree_cg_func_begin(m, gaddr));
        CHECK(cfree_cg_push_sym_addr(m, g));
        CHECK(cfree_cg_ret(m));
        CHECK(cfree_cg_func_end(m));
    }
    return m;
}

static void check(int vis, int level) {
    cfree_jit jit;
    const void *a;
    fn_i64 f, g;
    fn_addr gaddr;
    int64_t x;
    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_publish(jit, unit("u", vis, 3, 1, 1), level));
    CHECK(cfree_jit_lookup(jit, "f", &a));
    memcpy(&f, &a, sizeof f);
    CHECK(cfree_jit_lookup(jit, "gaddr", &a));
    memcpy(&gaddr, &a, sizeof gaddr);
    CHECK(cfree_jit_lookup(jit, "g", &a));
    memcpy(&g, &a, sizeof g);
    REQUIRE(gaddr() == a, "vis %d: g's address in its unit is not the stable entry", vis);
    for (x = -5; x <= 5; x++) {
        REQUIRE(f(x) == (x * 3 + 1) * 2, "vis %d: f(%lld) before", vis, (long long)x);
    }
    /* Replace g by g(x) = x * 5. */
    CHECK(cfree_jit_publish(jit, unit("g2", vis, 5, 0, 0), level));
    REQUIRE(gaddr() == a, "vis %d: the entry moved", vis);
    for (x = -5; x <= 5; x++) {
        int64_t expected = vis == CFREE_VIS_PROTECTED ? (x * 3 + 1) * 2 : x * 5 * 2;
        REQUIRE(g(x) == x * 5, "vis %d: g(%lld) through the entry", vis, (long long)x);
        REQUIRE(f(x) == expected, "vis %d, level %d: f(%lld) = %lld, expected %lld", vis, level, (long long)x,
                (long long)f(x), (long long)expected);
    }
    CHECK(cfree_jit_free(jit));
}

int main(void) {
    CHECK(cfree_abi_check(CFREE_VERSION));
    check(CFREE_VIS_PROTECTED, CFREE_O0);
    check(CFREE_VIS_PROTECTED, CFREE_O2);
    check(CFREE_VIS_DEFAULT, CFREE_O2);
    printf("protected ok\n");
    return 0;
}
