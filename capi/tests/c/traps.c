/* Implicit null checks from C (doc/runtime.md): a JIT'd function whose null
 * check is folded into a faulting load, and a SIGSEGV handler that asks the
 * JIT's trap table where to resume (cfree_jit_trap_at). x86-64 Linux. */
#define _GNU_SOURCE
#include "cfree.h"
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "check.h"

static cfree_jit jit;
static volatile int resumed;

static void on_segv(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = (ucontext_t *)context;
    uint64_t handler;
    (void)info;
    if (cfree_jit_trap_at(jit, (uint64_t)uc->uc_mcontext.gregs[REG_RIP], &handler) == 0) {
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)handler;
        resumed++;
        return;
    }
    signal(sig, SIG_DFL); /* not ours: fault again, and die */
}

int main(void) {
    cfree_module m;
    cfree_type i8, i64, ptr, sig;
    cfree_type params[2];
    cfree_sym f;
    cfree_local p, d;
    cfree_label null_label;
    const void *addr;
    int64_t (*field)(const int64_t *, int64_t);
    int64_t words[2] = {11, 22};
    uint64_t unused;
    struct sigaction sa;
    int i;

    CHECK(cfree_cg_module_new("traps", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &ptr));
    params[0] = ptr;
    params[1] = i64;
    CHECK(cfree_cg_ty_func(m, params, 2, 1, i64, 0, &sig));
    /* field(p, d): p ? p[1] : d, with an implicit check */
    CHECK(cfree_cg_declare_func(m, "field", sig, CFREE_LINKAGE_EXTERNAL, &f));
    CHECK(cfree_cg_func_begin(m, f));
    CHECK(cfree_cg_param_slot(m, 0, "p", &p));
    CHECK(cfree_cg_param_slot(m, 1, "d", &d));
    CHECK(cfree_cg_new_label(m, &null_label));
    CHECK(cfree_cg_push_local(m, p));
    CHECK(cfree_cg_load(m, ptr, 0));
    CHECK(cfree_cg_check_nonnull(m, null_label, 1));
    CHECK(cfree_cg_addr_offset(m, 8, ptr));
    CHECK(cfree_cg_deref(m, i64));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_place_label(m, null_label));
    CHECK(cfree_cg_push_local(m, d));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_publish(jit, m, CFREE_O2));
    CHECK(cfree_jit_lookup(jit, "field", &addr));
    memcpy(&field, &addr, sizeof field);
    REQUIRE(cfree_jit_trap_at(jit, 0, &unused) == CFREE_ERR_NOT_FOUND, "no trap at pc 0");

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
    for (i = 0; i < 100; i++) {
        REQUIRE(field(words, 7) == 22, "field(words)");
        REQUIRE(field(NULL, 7) == 7, "field(NULL) reaches the handler");
    }
    REQUIRE(resumed == 100, "every null went through a fault and the trap table (resumed %d)", resumed);
    printf("traps ok\n");
    return 0;
}
