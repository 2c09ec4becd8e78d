/* The type table's queries checked against the C compiler's own layout,
 * completeness checks, inline assembly on x86-64 run through the JIT and
 * compared with C, the register tables, the typed lookup, and each misuse's
 * documented code. Built with -fsanitize=address,undefined by
 * capi/tests/c_api.rs, against the shared and the static library. */
#include "cfree.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static int failures = 0;

#define SAME(a, b)                                                                                 \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: %s = %llu, expected %s = %llu\n", __FILE__, __LINE__, #a, a_,  \
                    #b, b_);                                                                       \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* The record the emitter must lay out exactly as the C compiler does. */
struct sample {
    char a;
    double b;
    short c;
    int d[3];
    void *p;
    long long e;
};
struct sample_probe {
    char pad;
    struct sample s;
};
struct over_aligned {
    int x;
} __attribute__((aligned(32)));

static int names_equal(cfree_module m, cfree_type t, const char *want) {
    char buf[64];
    size_t len;
    CHECK(cfree_cg_type_name(m, t, buf, sizeof buf, &len));
    if (strcmp(buf, want) != 0 || len != strlen(want)) {
        fprintf(stderr, "type name `%s` (%zu), expected `%s`\n", buf, len, want);
        failures++;
    }
    return 0;
}

static void type_table(void) {
    cfree_module m, other;
    cfree_type i8, i16, i32, i64, f64, p, p1, parr, arr, rec, rec2, aligned, fn, t, foreign;
    cfree_type_info info;
    cfree_param params[2], got;
    size_t n, i, kinds_seen = 0;
    uint64_t offset;
    int same;
    const size_t want_offsets[6] = {offsetof(struct sample, a), offsetof(struct sample, b),
                                    offsetof(struct sample, c), offsetof(struct sample, d),
                                    offsetof(struct sample, p), offsetof(struct sample, e)};

    CHECK(cfree_cg_module_new("types", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_int(m, 16, &i16));
    CHECK(cfree_cg_ty_int(m, 32, &i32));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_float(m, 64, &f64));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &p));
    CHECK(cfree_cg_ty_ptr(m, i64, 0, &parr));
    CHECK(cfree_cg_ty_ptr(m, i8, 1, &p1));
    CHECK(cfree_cg_ty_array(m, i32, 3, &arr));
    {
        cfree_type fields[6];
        fields[0] = i8;
        fields[1] = f64;
        fields[2] = i16;
        fields[3] = arr;
        fields[4] = p;
        fields[5] = i64;
        CHECK(cfree_cg_ty_record(m, fields, 6, &rec));
        CHECK(cfree_cg_ty_record(m, fields, 6, &rec2)); /* interned: the same id */
        SAME(rec2, rec);
        CHECK(cfree_cg_ty_record_aligned(m, &i32, 1, 32, &aligned));
    }
    memset(params, 0, sizeof params);
    params[0].ty = i32;
    params[0].ext = CFREE_EXT_SIGN;
    params[1].ty = p;
    params[1].flags = CFREE_PARAM_NONNULL | CFREE_PARAM_NOCAPTURE;
    params[1].dereferenceable = 16;
    {
        cfree_param result;
        memset(&result, 0, sizeof result);
        result.ty = i64;
        CHECK(cfree_cg_ty_func_ex(m, params, 2, &result, 1, CFREE_CONV_C, &fn));
    }

    /* The record: size, alignment and every field offset as gcc lays it out. */
    CHECK(cfree_cg_type_info(m, rec, &info));
    SAME(info.kind, CFREE_TYPE_RECORD);
    SAME(info.count, 6);
    SAME(info.has_layout, 1);
    SAME(info.size, sizeof(struct sample));
    SAME(info.align, offsetof(struct sample_probe, s));
    for (i = 0; i < 6; i++) {
        CHECK(cfree_cg_type_field(m, rec, i, &t, &offset));
        SAME(offset, want_offsets[i]);
    }
    CHECK(cfree_cg_type_field(m, rec, 3, &t, &offset));
    SAME(t, arr);
    EXPECT(cfree_cg_type_field(m, rec, 6, &t, &offset), CFREE_ERR_NOT_FOUND);
    CHECK(cfree_cg_type_info(m, aligned, &info));
    SAME(info.min_align, 32);
    SAME(info.size, sizeof(struct over_aligned));
    SAME(info.align, __alignof__(struct over_aligned));

    /* Scalars, pointers, arrays. */
    CHECK(cfree_cg_type_info(m, i16, &info));
    SAME(info.kind, CFREE_TYPE_INT);
    SAME(info.bits, 16);
    SAME(info.size, sizeof(short));
    CHECK(cfree_cg_type_info(m, f64, &info));
    SAME(info.kind, CFREE_TYPE_FLOAT);
    SAME(info.bits, 64);
    SAME(info.align, __alignof__(double));
    CHECK(cfree_cg_type_info(m, p1, &info));
    SAME(info.kind, CFREE_TYPE_PTR);
    SAME(info.addr_space, 1);
    SAME(info.inner, i8);
    SAME(info.size, sizeof(void *));
    CHECK(cfree_cg_type_info(m, arr, &info));
    SAME(info.kind, CFREE_TYPE_ARRAY);
    SAME(info.inner, i32);
    SAME(info.count, 3);
    SAME(info.size, sizeof(int[3]));

    /* The function type: its parameters round-trip as descriptors. */
    CHECK(cfree_cg_type_info(m, fn, &info));
    SAME(info.kind, CFREE_TYPE_FUNC);
    SAME(info.count, 2);
    SAME(info.has_result, 1);
    SAME(info.variadic, 1);
    SAME(info.conv, CFREE_CONV_C);
    SAME(info.has_layout, 0);
    CHECK(cfree_cg_type_param(m, fn, 0, &got));
    SAME(got.ty, i32);
    SAME(got.ext, CFREE_EXT_SIGN);
    SAME(got.flags, 0);
    CHECK(cfree_cg_type_param(m, fn, 1, &got));
    SAME(got.ty, p);
    SAME(got.flags, CFREE_PARAM_NONNULL | CFREE_PARAM_NOCAPTURE);
    SAME(got.dereferenceable, 16);
    CHECK(cfree_cg_type_param(m, fn, CFREE_TYPE_RESULT, &got));
    SAME(got.ty, i64);
    EXPECT(cfree_cg_type_param(m, fn, 2, &got), CFREE_ERR_NOT_FOUND);
    EXPECT(cfree_cg_type_param(m, rec, 0, &got), 203); /* not a function type */
    EXPECT(cfree_cg_type_field(m, fn, 0, &t, &offset), 203); /* not a record */

    /* Names and compatibility. */
    names_equal(m, i32, "i32");
    names_equal(m, p1, "ptr addrspace(1)");
    CHECK(cfree_cg_type_compatible(m, p, parr, &same));
    SAME(same, 1); /* pointers into one space, whatever the pointee */
    CHECK(cfree_cg_type_compatible(m, p, p1, &same));
    SAME(same, 0);
    CHECK(cfree_cg_type_compatible(m, i32, i64, &same));
    SAME(same, 0);

    /* The whole table: every index names a type whose info reads back. */
    CHECK(cfree_cg_type_count(m, &n));
    if (n < 12) {
        fprintf(stderr, "only %zu types interned\n", n);
        failures++;
    }
    for (i = 0; i < n; i++) {
        CHECK(cfree_cg_type_at(m, i, &t));
        CHECK(cfree_cg_type_info(m, t, &info));
        kinds_seen |= 1u << info.kind;
    }
    SAME(kinds_seen, 0x3f); /* all six kinds */
    EXPECT(cfree_cg_type_at(m, n, &t), CFREE_ERR_NOT_FOUND);

    /* Misuse. */
    CHECK(cfree_cg_module_new("other", NULL, &other));
    CHECK(cfree_cg_ty_int(other, 64, &foreign));
    EXPECT(cfree_cg_type_info(m, foreign, &info), 301);
    EXPECT(cfree_cg_type_name(m, foreign, NULL, 0, &n), 301);
    EXPECT(cfree_cg_type_compatible(m, i64, foreign, &same), 301);
    EXPECT(cfree_cg_type_info(m, i64, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_type_count(m, NULL), CFREE_ERR_NULL_POINTER);
    EXPECT(cfree_cg_type_count(12345, &n), CFREE_ERR_UNKNOWN_HANDLE);
    CHECK(cfree_cg_module_free(other));
    CHECK(cfree_cg_module_free(m));
}

static void completeness(void) {
    cfree_module m;
    cfree_type i64, sig;
    cfree_sym f;
    cfree_func_decl d;

    CHECK(cfree_cg_module_new("complete", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_func(m, NULL, 0, 1, i64, 0, &sig));
    memset(&d, 0, sizeof d);
    d.sig = sig;
    d.linkage = CFREE_LINKAGE_INTERNAL;
    CHECK(cfree_cg_declare_func_ex(m, "helper", &d, &f));
    EXPECT(cfree_cg_check_complete(m), 405); /* internal, never defined */
    CHECK(cfree_cg_func_begin(m, f));
    EXPECT(cfree_cg_check_complete(m), 102); /* a function is open */
    CHECK(cfree_cg_push_int(m, i64, 7));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
    CHECK(cfree_cg_check_complete(m));
    EXPECT(cfree_cg_check_complete(999999), CFREE_ERR_UNKNOWN_HANDLE);

    /* Slot flags read back, and the value stack's depth. */
    {
        cfree_type sig1;
        cfree_sym g;
        cfree_local prm, tmp;
        uint32_t flags;
        size_t depth;
        CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig1));
        CHECK(cfree_cg_declare_func(m, "slots", sig1, CFREE_LINKAGE_EXTERNAL, &g));
        CHECK(cfree_cg_func_begin(m, g));
        EXPECT(cfree_cg_param_slot_ex(m, 0, "x", 16, &prm), CFREE_ERR_INVALID_ARGUMENT); /* unknown flag */
        CHECK(cfree_cg_param_slot_ex(m, 0, "x", CFREE_SLOT_ARTIFICIAL, &prm));
        CHECK(cfree_cg_local_flags(m, prm, &flags));
        SAME(flags, CFREE_SLOT_ARTIFICIAL);
        CHECK(cfree_cg_local_slot_ex(m, i64, "t", 0, CFREE_SLOT_ADDRESS_TAKEN | CFREE_SLOT_COMPILER_TEMP, &tmp));
        CHECK(cfree_cg_local_flags(m, tmp, &flags));
        SAME(flags, CFREE_SLOT_ADDRESS_TAKEN | CFREE_SLOT_COMPILER_TEMP);
        CHECK(cfree_cg_stack_depth(m, &depth));
        SAME(depth, 0);
        CHECK(cfree_cg_push_local(m, prm));
        EXPECT(cfree_cg_addr_of(m), 513); /* the parameter's address may not be taken */
        CHECK(cfree_cg_load(m, i64, 0));
        CHECK(cfree_cg_push_int(m, i64, 1));
        CHECK(cfree_cg_stack_depth(m, &depth));
        SAME(depth, 2);
        CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
        CHECK(cfree_cg_stack_depth(m, &depth));
        SAME(depth, 1);
        CHECK(cfree_cg_ret(m));
        CHECK(cfree_cg_func_end(m));
        EXPECT(cfree_cg_local_flags(m, prm, &flags), 301); /* the function is closed */
    }
    CHECK(cfree_cg_module_free(m));
}

static long long triple_plus_one(long long v) {
    return (long long)(3ULL * (unsigned long long)v + 1);
}

/* Declares `name` (i64 params) and opens it with its parameters pushed as values. */
static void open_fn(cfree_module m, const char *name, const cfree_type *params, size_t n, cfree_type result) {
    cfree_type sig;
    cfree_sym f;
    cfree_local l;
    size_t i;
    CHECK(cfree_cg_ty_func(m, params, n, 1, result, 0, &sig));
    CHECK(cfree_cg_declare_func(m, name, sig, CFREE_LINKAGE_EXTERNAL, &f));
    CHECK(cfree_cg_func_begin(m, f));
    for (i = 0; i < n; i++) {
        CHECK(cfree_cg_param_slot(m, (uint32_t)i, "p", &l));
        CHECK(cfree_cg_push_local(m, l));
        CHECK(cfree_cg_load(m, params[i], 0));
    }
}

static void finish_fn(cfree_module m) {
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
}

static int has_register(cfree_module m, int klass, const char *want, size_t *count) {
    char buf[16];
    size_t i, len;
    int found = 0;
    for (i = 0;; i++) {
        int s = cfree_cg_asm_register(m, klass, i, buf, sizeof buf, &len);
        if (s == CFREE_ERR_NOT_FOUND) break;
        CHECK(s);
        if (strcmp(buf, want) == 0) found = 1;
    }
    *count = i;
    return found;
}

static int in_clobber_set(cfree_module m, const char *want) {
    char buf[16];
    size_t i, len;
    for (i = 0;; i++) {
        int s = cfree_cg_asm_clobber_set(m, CFREE_CLOBBER_C, i, buf, sizeof buf, &len);
        if (s == CFREE_ERR_NOT_FOUND) return 0;
        CHECK(s);
        if (strcmp(buf, want) == 0) return 1;
    }
}

static void inline_asm(void) {
    cfree_module m;
    cfree_jit jit;
    cfree_type i64, i32, ptr, two[2], f64;
    cfree_asm_operand ops[3];
    cfree_asm_block b;
    const void *addr;
    size_t count;
    long long (*bswap_fn)(long long), (*lea_fn)(long long, long long), (*imul_fn)(long long),
        (*tied_fn)(long long), (*call_fn)(void *, long long);
    static const long long samples[] = {0, 1, -1, 42, -7777, 0x0123456789abcdefLL, -0x7fffffffffffffffLL};
    size_t i;

    CHECK(cfree_cg_module_new("asm", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_int(m, 32, &i32));
    CHECK(cfree_cg_ty_float(m, 64, &f64));
    CHECK(cfree_cg_ty_ptr(m, i64, 0, &ptr));
    two[0] = i64;
    two[1] = i64;

    /* Register tables. */
    REQUIRE(has_register(m, CFREE_REG_GPR, "rax", &count), "rax is not a reg register");
    REQUIRE(count >= 14, "%zu reg registers", count);
    REQUIRE(has_register(m, CFREE_REG_XMM, "xmm15", &count), "xmm15 is not an xmm_reg register");
    REQUIRE(!has_register(m, CFREE_REG_VREG, "v0", &count) && count == 0, "x86-64 has %zu vreg registers", count);
    REQUIRE(in_clobber_set(m, "rax") && in_clobber_set(m, "xmm0") && in_clobber_set(m, "r11"),
            "the C clobber set misses a caller-saved register");
    REQUIRE(!in_clobber_set(m, "rbx") && !in_clobber_set(m, "r12"), "the C clobber set has a callee-saved register");

    /* bswap(x), AT&T, in-out operand. */
    open_fn(m, "asm_bswap", &i64, 1, i64);
    memset(ops, 0, sizeof ops);
    memset(&b, 0, sizeof b);
    ops[0].dir = CFREE_ASM_INOUT;
    b.targets = CFREE_ASM_ARCH_X86_64 | CFREE_ASM_ARCH_AARCH64;
    b.text = "bswapq {0}";
    b.options = CFREE_ASM_PURE | CFREE_ASM_NOMEM | CFREE_ASM_NOSTACK | CFREE_ASM_PRESERVES_FLAGS;
    b.operands = ops;
    b.noperands = 1;
    CHECK(cfree_cg_asm(m, &b));
    finish_fn(m);

    /* a * 8 + b + 3 with lea, Intel syntax, two class inputs and a late output. */
    open_fn(m, "asm_lea", two, 2, i64);
    memset(ops, 0, sizeof ops);
    ops[0].dir = CFREE_ASM_LATEOUT;
    ops[0].ty = i64;
    b.text = "lea {0}, [{2} + {1}*8 + 3]";
    b.dialect = CFREE_ASM_INTEL;
    b.noperands = 3;
    CHECK(cfree_cg_asm(m, &b));
    finish_fn(m);

    /* Explicit registers: x * 7 from rcx into rax. */
    open_fn(m, "asm_imul", &i64, 1, i64);
    memset(ops, 0, sizeof ops);
    ops[0].dir = CFREE_ASM_LATEOUT;
    ops[0].ty = i64;
    ops[0].loc = CFREE_ASM_LOC_REG;
    ops[0].reg = "rax";
    ops[1].loc = CFREE_ASM_LOC_REG;
    ops[1].reg = "rcx";
    b.text = "imul {0}, {1}, 7";
    b.options = CFREE_ASM_PURE | CFREE_ASM_NOMEM | CFREE_ASM_NOSTACK;
    b.noperands = 2;
    CHECK(cfree_cg_asm(m, &b));
    finish_fn(m);

    /* A tied input: x + 10 in one register, with an explicit clobber. */
    open_fn(m, "asm_tied", &i64, 1, i64);
    memset(ops, 0, sizeof ops);
    ops[0].dir = CFREE_ASM_LATEOUT;
    ops[0].ty = i64;
    ops[1].loc = CFREE_ASM_LOC_TIED;
    ops[1].tied = 0;
    {
        const char *clobbers[1] = {"rdx"};
        b.text = "mov rdx, 10\n\tadd {0}, rdx";
        b.clobbers = clobbers;
        b.nclobbers = 1;
        b.noperands = 2;
        CHECK(cfree_cg_asm(m, &b));
        b.clobbers = NULL;
        b.nclobbers = 0;
    }
    finish_fn(m);

    /* A call to a C function from the block, with the C clobber set. */
    {
        cfree_type params[2];
        params[0] = ptr;
        params[1] = i64;
        open_fn(m, "asm_call", params, 2, i64);
    }
    memset(ops, 0, sizeof ops);
    ops[0].dir = CFREE_ASM_LATEOUT;
    ops[0].ty = i64;
    ops[0].loc = CFREE_ASM_LOC_REG;
    ops[0].reg = "rax";
    ops[1].loc = CFREE_ASM_LOC_CLASS; /* the function pointer */
    ops[2].loc = CFREE_ASM_LOC_REG;
    ops[2].reg = "rdi";
    b.text = "call {1}";
    b.options = 0;
    b.clobber_abi = CFREE_CLOBBER_C;
    b.noperands = 3;
    CHECK(cfree_cg_asm(m, &b));
    b.clobber_abi = CFREE_CLOBBER_NONE;
    finish_fn(m);

    /* Misuse of blocks: each refused with its code, the function stays usable. */
    open_fn(m, "asm_misuse", &i64, 1, i64);
    memset(ops, 0, sizeof ops);
    memset(&b, 0, sizeof b);
    b.targets = CFREE_ASM_ARCH_X86_64;
    b.text = "nop";
    b.operands = ops;
    b.targets = CFREE_ASM_ARCH_AARCH64;
    EXPECT(cfree_cg_asm(m, &b), 607); /* written for another architecture */
    b.targets = CFREE_ASM_ARCH_X86_64;
    b.options = CFREE_ASM_PURE; /* pure without outputs */
    EXPECT(cfree_cg_asm(m, &b), 609);
    b.options = 0;
    ops[0].reg_class = CFREE_REG_VREG;
    b.noperands = 1;
    EXPECT(cfree_cg_asm(m, &b), 610); /* an AArch64 class */
    ops[0].reg_class = CFREE_REG_GPR;
    ops[0].loc = CFREE_ASM_LOC_REG;
    ops[0].reg = "r99";
    EXPECT(cfree_cg_asm(m, &b), 611);
    ops[0].reg = "rsp";
    EXPECT(cfree_cg_asm(m, &b), 612);
    ops[0].loc = CFREE_ASM_LOC_CLASS;
    ops[0].reg_class = CFREE_REG_XMM; /* an i64 input in an xmm register */
    EXPECT(cfree_cg_asm(m, &b), 613);
    ops[0].reg_class = CFREE_REG_GPR;
    ops[1].dir = CFREE_ASM_LATEOUT;
    ops[1].ty = i64;
    ops[1].loc = CFREE_ASM_LOC_REG;
    ops[1].reg = "rax";
    ops[2].dir = CFREE_ASM_LATEOUT;
    ops[2].ty = i64;
    ops[2].loc = CFREE_ASM_LOC_REG;
    ops[2].reg = "rax";
    b.noperands = 3;
    EXPECT(cfree_cg_asm(m, &b), 614); /* two outputs in rax */
    ops[2].reg = "rdx";
    ops[0].loc = CFREE_ASM_LOC_TIED;
    ops[0].tied = 0; /* tied to itself, an input */
    EXPECT(cfree_cg_asm(m, &b), 615);
    ops[0].loc = CFREE_ASM_LOC_CLASS;
    b.text = "mov {0}, {7}";
    EXPECT(cfree_cg_asm(m, &b), 616); /* no operand 7 */
    b.text = NULL;
    EXPECT(cfree_cg_asm(m, &b), CFREE_ERR_NULL_POINTER);
    b.text = "nop";
    ops[0].dir = 9;
    EXPECT(cfree_cg_asm(m, &b), CFREE_ERR_INVALID_ARGUMENT);
    ops[0].dir = CFREE_ASM_IN;
    b.options = 64;
    EXPECT(cfree_cg_asm(m, &b), CFREE_ERR_INVALID_ARGUMENT);
    b.options = 0;
    b.targets = 8;
    EXPECT(cfree_cg_asm(m, &b), CFREE_ERR_INVALID_ARGUMENT);
    EXPECT(cfree_cg_asm(m, NULL), CFREE_ERR_NULL_POINTER);
    finish_fn(m); /* the parameter is still on the stack */

    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_publish(jit, m, CFREE_O2));

    /* The typed lookup. */
    {
        cfree_scalar s64[2], r64, sig[4], res;
        size_t np;
        int variadic;
        s64[0].kind = CFREE_SCALAR_INT;
        s64[0].bits = 64;
        s64[1] = s64[0];
        r64 = s64[0];
        CHECK(cfree_jit_lookup_typed(jit, "asm_lea", s64, 2, &r64, &addr));
        memcpy(&lea_fn, &addr, sizeof lea_fn);
        CHECK(cfree_jit_lookup_typed(jit, "asm_bswap", s64, 1, &r64, &addr));
        memcpy(&bswap_fn, &addr, sizeof bswap_fn);
        CHECK(cfree_jit_lookup_typed(jit, "asm_imul", s64, 1, &r64, &addr));
        memcpy(&imul_fn, &addr, sizeof imul_fn);
        CHECK(cfree_jit_lookup_typed(jit, "asm_tied", s64, 1, &r64, &addr));
        memcpy(&tied_fn, &addr, sizeof tied_fn);
        EXPECT(cfree_jit_lookup_typed(jit, "asm_call", s64, 2, &r64, &addr), 4); /* first is a pointer */
        s64[0].kind = CFREE_SCALAR_PTR;
        s64[0].bits = 0;
        CHECK(cfree_jit_lookup_typed(jit, "asm_call", s64, 2, &r64, &addr));
        memcpy(&call_fn, &addr, sizeof call_fn);
        s64[0].kind = CFREE_SCALAR_INT;
        s64[0].bits = 64;
        EXPECT(cfree_jit_lookup_typed(jit, "asm_lea", s64, 2, NULL, &addr), 4); /* no result asked */
        EXPECT(cfree_jit_lookup_typed(jit, "asm_lea", s64, 1, &r64, &addr), 4);
        r64.bits = 32;
        EXPECT(cfree_jit_lookup_typed(jit, "asm_bswap", s64, 1, &r64, &addr), 4);
        r64.bits = 7;
        EXPECT(cfree_jit_lookup_typed(jit, "asm_bswap", s64, 1, &r64, &addr), CFREE_ERR_INVALID_ARGUMENT);
        EXPECT(cfree_jit_lookup_typed(jit, "nope", s64, 1, NULL, &addr), 10);
        EXPECT(cfree_jit_lookup_typed(jit, "asm_bswap", NULL, 1, NULL, &addr), CFREE_ERR_NULL_POINTER);

        CHECK(cfree_jit_signature(jit, "asm_call", sig, 4, &np, &res, &variadic));
        SAME(np, 2);
        SAME(sig[0].kind, CFREE_SCALAR_PTR);
        SAME(sig[1].kind, CFREE_SCALAR_INT);
        SAME(sig[1].bits, 64);
        SAME(res.kind, CFREE_SCALAR_INT);
        SAME(variadic, 0);
        CHECK(cfree_jit_signature(jit, "asm_call", NULL, 0, &np, &res, &variadic));
        SAME(np, 2);
        EXPECT(cfree_jit_signature(jit, "nope", NULL, 0, &np, &res, &variadic), 10);
        EXPECT(cfree_jit_signature(jit, "asm_call", NULL, 0, NULL, &res, &variadic), CFREE_ERR_NULL_POINTER);
    }

    /* Every block against C. */
    for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        long long x = samples[i], y = samples[(i + 3) % 7];
        void *f;
        long long (*fp)(long long) = triple_plus_one;
        memcpy(&f, &fp, sizeof f);
        SAME(bswap_fn(x), __builtin_bswap64((unsigned long long)x));
        SAME(lea_fn(x, y), (unsigned long long)x * 8 + (unsigned long long)y + 3);
        SAME(imul_fn(x), (unsigned long long)x * 7);
        SAME(tied_fn(x), (unsigned long long)x + 10);
        SAME(call_fn(f, x), (unsigned long long)x * 3 + 1);
    }
    CHECK(cfree_jit_free(jit));
}

int main(void) {
    type_table();
    completeness();
    inline_asm();
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("inspect ok\n");
    return 0;
}
