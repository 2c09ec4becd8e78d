/* calc: a tiny expression language compiled to native code through the
 * cfree-llvm C API and run in its JIT.
 *
 *   calc 'sq(x) = x * x' 'hyp(a, b) = sq(a) + sq(b)' '?hyp(3, 4)' '?sq(-12) / 5'
 *
 * Each argument is a definition `name(params) = expr` or, after `?`, an
 * expression to evaluate and print. Expressions: 64-bit integers, + - * / %
 * (signed; dividing by zero is undefined, as in C), unary minus, parentheses,
 * parameters, and calls of earlier definitions. Each
 * definition is its own module, published on its own; queries are compiled
 * as `__query_N()` and called. */
#include "cfree.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FUNCS 64
#define MAX_PARAMS 8

typedef struct {
    char name[32];
    int nparams;
} Func;

static Func funcs[MAX_FUNCS];
static int nfuncs;

typedef struct {
    const char *p;
    cfree_module m;
    cfree_type i64;
    char params[MAX_PARAMS][32];
    cfree_local slots[MAX_PARAMS];
    int nparams;
    cfree_sym callees[MAX_FUNCS]; /* functions declared in this module, by index */
    int have_callee[MAX_FUNCS];
    const char *error;
} Parser;

static void skip(Parser *ps) {
    while (isspace((unsigned char)*ps->p)) ps->p++;
}

static int ident(Parser *ps, char *out) {
    int n = 0;
    skip(ps);
    if (!isalpha((unsigned char)*ps->p) && *ps->p != '_') return 0;
    while ((isalnum((unsigned char)*ps->p) || *ps->p == '_') && n < 31) out[n++] = *ps->p++;
    out[n] = 0;
    return 1;
}

static int eat(Parser *ps, char c) {
    skip(ps);
    if (*ps->p != c) return 0;
    ps->p++;
    return 1;
}

/* Emission failures end the parse; the API's message says why. */
#define EMIT(x)                                                                                    \
    do {                                                                                           \
        if ((x) != 0) {                                                                            \
            ps->error = cfree_error_message();                                                     \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

static int expr(Parser *ps);

static int declared(cfree_module m, cfree_type i64, const Func *f, cfree_sym *sym) {
    cfree_type params[MAX_PARAMS], sig;
    int i;
    for (i = 0; i < f->nparams; i++) params[i] = i64;
    if (cfree_cg_ty_func(m, params, (size_t)f->nparams, 1, i64, 0, &sig) != 0) return 0;
    return cfree_cg_declare_func(m, f->name, sig, CFREE_LINKAGE_EXTERNAL, sym) == 0;
}

static int primary(Parser *ps) {
    char name[32];
    int i;
    skip(ps);
    if (isdigit((unsigned char)*ps->p)) {
        long long v = strtoll(ps->p, (char **)&ps->p, 10);
        EMIT(cfree_cg_push_int(ps->m, ps->i64, v));
        return 1;
    }
    if (eat(ps, '(')) {
        if (!expr(ps)) return 0;
        if (!eat(ps, ')')) { ps->error = "expected ')'"; return 0; }
        return 1;
    }
    if (eat(ps, '-')) {
        EMIT(cfree_cg_push_int(ps->m, ps->i64, 0));
        if (!primary(ps)) return 0;
        EMIT(cfree_cg_int_op(ps->m, CFREE_INT_SUB, 0));
        return 1;
    }
    if (!ident(ps, name)) { ps->error = "expected a number, a name or '('"; return 0; }
    if (eat(ps, '(')) {
        int nargs = 0;
        cfree_sym sym;
        for (i = 0; i < nfuncs && strcmp(funcs[i].name, name) != 0; i++) {}
        if (i == nfuncs) { ps->error = "call of an undefined function"; return 0; }
        if (!eat(ps, ')')) {
            do {
                if (!expr(ps)) return 0;
                nargs++;
            } while (eat(ps, ','));
            if (!eat(ps, ')')) { ps->error = "expected ')' after arguments"; return 0; }
        }
        if (nargs != funcs[i].nparams) { ps->error = "wrong number of arguments"; return 0; }
        if (!ps->have_callee[i]) {
            if (!declared(ps->m, ps->i64, &funcs[i], &ps->callees[i])) { ps->error = cfree_error_message(); return 0; }
            ps->have_callee[i] = 1;
        }
        sym = ps->callees[i];
        EMIT(cfree_cg_call(ps->m, sym, (uint32_t)nargs));
        return 1;
    }
    for (i = 0; i < ps->nparams && strcmp(ps->params[i], name) != 0; i++) {}
    if (i == ps->nparams) { ps->error = "unknown name"; return 0; }
    EMIT(cfree_cg_push_local(ps->m, ps->slots[i]));
    EMIT(cfree_cg_load(ps->m, ps->i64, 0));
    return 1;
}

static int term(Parser *ps) {
    if (!primary(ps)) return 0;
    for (;;) {
        int op;
        if (eat(ps, '*')) op = CFREE_INT_MUL;
        else if (eat(ps, '/')) op = CFREE_INT_SDIV;
        else if (eat(ps, '%')) op = CFREE_INT_SREM;
        else return 1;
        if (!primary(ps)) return 0;
        EMIT(cfree_cg_int_op(ps->m, op, 0));
    }
}

static int expr(Parser *ps) {
    if (!term(ps)) return 0;
    for (;;) {
        int op;
        if (eat(ps, '+')) op = CFREE_INT_ADD;
        else if (eat(ps, '-')) op = CFREE_INT_SUB;
        else return 1;
        if (!term(ps)) return 0;
        EMIT(cfree_cg_int_op(ps->m, op, 0));
    }
}

/* Compiles `name(params) = body` (params may be empty) into a new module
 * and publishes it. */
static int define(cfree_jit jit, const char *name, const char *params_text, const char *body) {
    Parser ps;
    Func f;
    cfree_sym sym;
    int i;
    memset(&ps, 0, sizeof ps);
    memset(&f, 0, sizeof f);
    if (nfuncs == MAX_FUNCS) { fprintf(stderr, "calc: too many functions\n"); return 0; }
    strncpy(f.name, name, sizeof f.name - 1);
    ps.p = params_text;
    while (ident(&ps, ps.params[ps.nparams])) {
        if (++ps.nparams == MAX_PARAMS) break;
        if (!eat(&ps, ',')) break;
    }
    f.nparams = ps.nparams;
    if (cfree_cg_module_new(name, NULL, &ps.m) != 0 || cfree_cg_ty_int(ps.m, 64, &ps.i64) != 0) {
        fprintf(stderr, "calc: %s\n", cfree_error_message());
        return 0;
    }
    if (!declared(ps.m, ps.i64, &f, &sym) || cfree_cg_func_begin(ps.m, sym) != 0) {
        fprintf(stderr, "calc: %s\n", cfree_error_message());
        cfree_cg_module_free(ps.m);
        return 0;
    }
    for (i = 0; i < ps.nparams; i++) {
        if (cfree_cg_param_slot(ps.m, (uint32_t)i, ps.params[i], &ps.slots[i]) != 0) break;
    }
    ps.p = body;
    if (!expr(&ps) || (skip(&ps), *ps.p != 0) || cfree_cg_ret(ps.m) != 0 || cfree_cg_func_end(ps.m) != 0) {
        fprintf(stderr, "calc: in %s: %s at '%s'\n", name, ps.error ? ps.error : cfree_error_message(), ps.p);
        cfree_cg_module_free(ps.m);
        return 0;
    }
    if (cfree_jit_publish(jit, ps.m, 2) != 0) {
        fprintf(stderr, "calc: publishing %s: %s\n", name, cfree_error_message());
        return 0;
    }
    funcs[nfuncs++] = f;
    return 1;
}

int main(int argc, char **argv) {
    cfree_jit jit;
    int i, queries = 0, ok = 1;
    if (cfree_abi_check(CFREE_VERSION) != 0 || cfree_jit_new(&jit) != 0) {
        fprintf(stderr, "calc: %s\n", cfree_error_message());
        return 1;
    }
    for (i = 1; i < argc && ok; i++) {
        const char *arg = argv[i];
        if (arg[0] == '?') {
            char name[32];
            const void *addr;
            long long (*query)(void);
            snprintf(name, sizeof name, "__query_%d", queries++);
            ok = define(jit, name, "", arg + 1);
            if (ok && cfree_jit_lookup(jit, name, &addr) == 0) {
                memcpy(&query, &addr, sizeof query);
                printf("%s = %lld\n", arg + 1, query());
            }
        } else {
            char name[32], params[256];
            const char *open = strchr(arg, '('), *close = strchr(arg, ')'), *eq = strchr(arg, '=');
            size_t n;
            if (!open || !close || !eq || close < open || eq < close) {
                fprintf(stderr, "calc: expected 'name(params) = expr', got '%s'\n", arg);
                ok = 0;
                break;
            }
            n = (size_t)(open - arg) < sizeof name - 1 ? (size_t)(open - arg) : sizeof name - 1;
            memcpy(name, arg, n);
            name[n] = 0;
            while (n > 0 && isspace((unsigned char)name[n - 1])) name[--n] = 0;
            n = (size_t)(close - open - 1) < sizeof params - 1 ? (size_t)(close - open - 1) : sizeof params - 1;
            memcpy(params, open + 1, n);
            params[n] = 0;
            ok = define(jit, name, params, eq + 1);
        }
    }
    cfree_jit_free(jit);
    return ok ? 0 : 1;
}
