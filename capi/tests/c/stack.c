/* A prologue stack check (doc/stacks.md) through the C API: the host's grow
 * function gives the callee more room by lowering the limit, then resumes
 * it; a recursion started with little room below the limit grows as often
 * as its depth needs, and every result is compared with C's. */
#include "cfree.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
    uint64_t other;
    uintptr_t limit;
};

static struct ctx context;
static int grows;
enum { ROOM = 64 << 10 };

static void host_grow(void (*resume)(void *), void *frame) {
    volatile char here = 0;
    uintptr_t old = context.limit;
    grows++;
    context.limit = (uintptr_t)&here - ROOM;
    resume(frame);
    context.limit = old;
}

static int64_t c_depth(int64_t n) { return n; }

int main(int argc, char **argv) {
    int level = argc > 1 ? atoi(argv[1]) : 0;
    cfree_module m;
    cfree_type i8, i64, ptr, grow_sig, sig;
    cfree_sym grow, depth, bad;
    cfree_local c, n;
    cfree_label base, rec;
    cfree_func_decl d;
    cfree_jit jit;
    const void *addr;
    int64_t (*fn)(struct ctx *, int64_t);
    void *grow_bits;
    volatile char here = 0;
    int64_t got;

    CHECK(cfree_cg_module_new("stack", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &ptr));
    {
        cfree_type gp[2] = {ptr, ptr}, dp[2] = {ptr, i64};
        CHECK(cfree_cg_ty_func(m, gp, 2, 0, 0, 0, &grow_sig));
        CHECK(cfree_cg_ty_func(m, dp, 2, 1, i64, 0, &sig));
    }
    CHECK(cfree_cg_declare_func(m, "host_grow", grow_sig, CFREE_LINKAGE_EXTERNAL, &grow));
    memset(&d, 0, sizeof d);
    d.sig = sig;
    d.stack_check_grow = grow;
    d.stack_check_param = 0;
    d.stack_check_offset = 8;
    d.stack_check_id = 7;
    CHECK(cfree_cg_declare_func_ex(m, "depth", &d, &depth));
    /* A limit read through a parameter that is not a pointer is refused. */
    d.stack_check_param = 1;
    if (cfree_cg_declare_func_ex(m, "bad", &d, &bad) == 0) {
        fprintf(stderr, "a stack check through an integer parameter was accepted\n");
        return 1;
    }
    printf("refused: %s\n", strstr(cfree_error_message(), "stack_check") ? "stack_check" : cfree_error_message());

    /* depth(c, n) = n == 0 ? 0 : depth(c, n - 1) + 1 */
    CHECK(cfree_cg_func_begin(m, depth));
    CHECK(cfree_cg_param_slot(m, 0, "c", &c));
    CHECK(cfree_cg_param_slot(m, 1, "n", &n));
    CHECK(cfree_cg_new_label(m, &base));
    CHECK(cfree_cg_new_label(m, &rec));
    CHECK(cfree_cg_push_local(m, n));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_int_cmp(m, CFREE_CMP_EQ));
    CHECK(cfree_cg_cond_br(m, base, rec));
    CHECK(cfree_cg_place_label(m, base));
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_place_label(m, rec));
    CHECK(cfree_cg_push_local(m, c));
    CHECK(cfree_cg_load(m, ptr, 0));
    CHECK(cfree_cg_push_local(m, n));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_SUB, 0));
    CHECK(cfree_cg_call(m, depth, 2));
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    CHECK(cfree_jit_new(&jit));
    {
        void (*g)(void (*)(void *), void *) = host_grow;
        memcpy(&grow_bits, &g, sizeof grow_bits);
    }
    CHECK(cfree_jit_define_host_symbol(jit, "host_grow", grow_bits));
    CHECK(cfree_jit_publish(jit, m, level));
    CHECK(cfree_jit_lookup(jit, "depth", &addr));
    memcpy(&fn, &addr, sizeof fn);

    context.limit = 0;
    got = fn(&context, 1000);
    if (got != c_depth(1000) || grows != 0) {
        fprintf(stderr, "with room: %lld, %d growths\n", (long long)got, grows);
        return 1;
    }
    context.limit = (uintptr_t)&here - ROOM;
    got = fn(&context, 20000);
    if (got != c_depth(20000) || grows < 2) {
        fprintf(stderr, "growing: %lld, %d growths\n", (long long)got, grows);
        return 1;
    }
    cfree_jit_free(jit);
    cfree_cg_module_free(m);
    printf("stack ok\n");
    return 0;
}
