/* A call site's alias-scope promise through the C API (cfree_cg_call_scoped):
 * f(cell, g) loads *cell in scope s, calls g, loads *cell in s again and
 * returns the difference. g adds 1 to *cell. Without the promise the second
 * load sees g's write (-1); with it O2 keeps the first load across the call
 * (0), which is what the promise allows. A scope the module never made is
 * refused. */
#include "cfree.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t cell;
static void bump(void) { cell++; }

static int64_t run(int promise) {
    cfree_module m;
    cfree_type i8, i64, ptr, gsig, fsig;
    cfree_sym f;
    cfree_local c, g;
    cfree_access a;
    uint32_t scope;
    cfree_jit jit;
    const void *addr;
    int64_t (*fn)(int64_t *, void (*)(void));
    int64_t got;
    CHECK(cfree_cg_module_new("call_scope", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &ptr));
    CHECK(cfree_cg_alias_scope(m, "s", &scope));
    CHECK(cfree_cg_ty_func(m, NULL, 0, 0, 0, 0, &gsig));
    {
        cfree_type p[2] = {ptr, ptr};
        CHECK(cfree_cg_ty_func(m, p, 2, 1, i64, 0, &fsig));
    }
    CHECK(cfree_cg_declare_func(m, "f", fsig, CFREE_LINKAGE_EXTERNAL, &f));
    CHECK(cfree_cg_func_begin(m, f));
    CHECK(cfree_cg_param_slot(m, 0, "cell", &c));
    CHECK(cfree_cg_param_slot(m, 1, "g", &g));
    memset(&a, 0, sizeof a);
    a.ty = i64;
    a.alias_scope = scope;
    CHECK(cfree_cg_push_local(m, c));
    CHECK(cfree_cg_load(m, ptr, 0));
    CHECK(cfree_cg_load_access(m, &a));
    CHECK(cfree_cg_push_local(m, g));
    CHECK(cfree_cg_load(m, ptr, 0));
    CHECK(cfree_cg_call_indirect_scoped(m, gsig, 0, CFREE_TAIL_NONE, 0, promise ? scope : 0));
    CHECK(cfree_cg_push_local(m, c));
    CHECK(cfree_cg_load(m, ptr, 0));
    CHECK(cfree_cg_load_access(m, &a));
    CHECK(cfree_cg_int_op(m, CFREE_INT_SUB, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_publish(jit, m, 2));
    CHECK(cfree_jit_lookup(jit, "f", &addr));
    memcpy(&fn, &addr, sizeof fn);
    cell = 5;
    got = fn(&cell, bump);
    if (cell != 6) {
        fprintf(stderr, "the callee did not run\n");
        exit(1);
    }
    cfree_jit_free(jit);
    cfree_cg_module_free(m);
    return got;
}

int main(void) {
    cfree_module m;
    cfree_type i8, ptr, gsig, fsig;
    cfree_sym f;
    cfree_local g;
    int64_t without = run(0), with = run(1);
    printf("without the promise %lld, with it %lld\n", (long long)without, (long long)with);
    CHECK(cfree_cg_module_new("bad_scope", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &ptr));
    CHECK(cfree_cg_ty_func(m, NULL, 0, 0, 0, 0, &gsig));
    CHECK(cfree_cg_ty_func(m, &ptr, 1, 0, 0, 0, &fsig));
    CHECK(cfree_cg_declare_func(m, "f", fsig, CFREE_LINKAGE_EXTERNAL, &f));
    CHECK(cfree_cg_func_begin(m, f));
    CHECK(cfree_cg_param_slot(m, 0, "g", &g));
    CHECK(cfree_cg_push_local(m, g));
    CHECK(cfree_cg_load(m, ptr, 0));
    if (cfree_cg_call_indirect_scoped(m, gsig, 0, CFREE_TAIL_NONE, 0, 3) == 0 ||
        strcmp(cfree_error_operand(), "noalias scope") != 0) {
        fprintf(stderr, "an unknown scope: %s (operand %s)\n", cfree_error_message(), cfree_error_operand());
        return 1;
    }
    cfree_cg_module_free(m);
    printf("call_scope ok\n");
    return 0;
}
