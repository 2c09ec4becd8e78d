/* Control flow, symbols and data, layout and target queries, calls with
 * attributes, records by value, guaranteed tail calls, memory operations and
 * text emission, through the C API; every JIT'd result is compared with the
 * same computation in C. With a path argument, also writes an object (data,
 * a constructor, a function) that capi/tests/c_api.rs links with gcc and
 * tests/c/aot_main.c. */
#include "cfree.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        int s_ = (x);                                                                              \
        if (s_ != 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s -> %d: %s (in %s, operand %s)\n", __FILE__, __LINE__, #x,    \
                    s_, cfree_error_message(), cfree_error_call(), cfree_error_operand());          \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int failures = 0;
#define EXPECT_EQ(got, want, what)                                                                 \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_) {                                                                            \
            fprintf(stderr, "%s:%d: %s = %lld, C says %lld\n", __FILE__, __LINE__, what, g_, w_);  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static cfree_module m;
static cfree_type i8, i16, i32, i64, i128, ptr, sig1, sig2;

static void get(cfree_local l, cfree_type ty) {
    CHECK(cfree_cg_push_local(m, l));
    CHECK(cfree_cg_load(m, ty, 0));
}

static cfree_sym begin(const char *name, cfree_type sig, cfree_local *a, cfree_local *b) {
    cfree_sym s;
    CHECK(cfree_cg_declare_func(m, name, sig, CFREE_LINKAGE_EXTERNAL, &s));
    CHECK(cfree_cg_func_begin(m, s));
    if (a) {
        CHECK(cfree_cg_param_slot(m, 0, "a", a));
    }
    if (b) {
        CHECK(cfree_cg_param_slot(m, 1, "b", b));
    }
    return s;
}

static void end(void) {
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
}

/* ---- the C oracle ---- */
static int64_t c_classify(int64_t x) { return x == 1 ? 10 : x == 2 ? 20 : x == 5 ? 50 : -1; }
static int64_t c_bits(int64_t x) { return __builtin_popcountll((unsigned long long)x) + 100 * __builtin_clzll((unsigned long long)x); }
static int64_t c_sadd(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? -1 : r;
}
struct pair {
    int32_t a;
    int64_t b;
};
static int64_t c_sum_pair(struct pair p) { return p.a * 3 + p.b; }
static int64_t c_tri(int64_t n) { return n * (n + 1) / 2; }
__extension__ typedef __int128 wide_t;
static int64_t c_wide(int64_t x) { return (int64_t)(((wide_t)x + (((wide_t)1 << 64) + 5)) >> 64); }
struct layout {
    int8_t a;
    int64_t b;
    int16_t c;
};

/* jump(x): a dispatch table of label addresses, defined while the body is
 * open, and an indirect branch through it (x * 3 for even x, x * 5 for odd);
 * run in the JIT and linked AOT. */
static void emit_jump(void) {
    cfree_type arr2;
    cfree_data_decl dd;
    cfree_data_piece pc[2];
    cfree_sym table, jump;
    cfree_local a;
    cfree_label lj0, lj1, jl[2];
    CHECK(cfree_cg_ty_array(m, ptr, 2, &arr2));
    memset(&dd, 0, sizeof dd);
    dd.ty = arr2;
    dd.linkage = CFREE_LINKAGE_INTERNAL;
    dd.flags = CFREE_DATA_READONLY;
    CHECK(cfree_cg_declare_data(m, "jump_table", &dd, &table));
    jump = begin("jump", sig1, &a, NULL);
    CHECK(cfree_cg_new_label(m, &lj0));
    CHECK(cfree_cg_new_label(m, &lj1));
    memset(pc, 0, sizeof pc);
    pc[0].kind = CFREE_PIECE_LABEL_ADDR;
    pc[0].label = lj0;
    pc[1].kind = CFREE_PIECE_LABEL_ADDR;
    pc[1].label = lj1;
    CHECK(cfree_cg_define_data(m, table, pc, 2));
    CHECK(cfree_cg_push_global(m, table));
    get(a, i64);
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_AND, 0));
    CHECK(cfree_cg_addr_index(m, 8, ptr));
    CHECK(cfree_cg_load(m, ptr, 0));
    jl[0] = lj0;
    jl[1] = lj1;
    CHECK(cfree_cg_indirect_br(m, jl, 2));
    CHECK(cfree_cg_place_label(m, lj0));
    get(a, i64);
    CHECK(cfree_cg_push_int(m, i64, 3));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_place_label(m, lj1));
    get(a, i64);
    CHECK(cfree_cg_push_int(m, i64, 5));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    end();


    (void)jump;
}

int main(int argc, char **argv) {
    cfree_type pair_ty, pair_sig, rec3, fields[3], p2[2], arr2, tsig, sig0;
    cfree_sym classify, bits, sadd, sum_pair, call_pair, tail, fill, counter, cptr, bump, via_ptr, wide;
    cfree_local a, b, r, f, lp;
    cfree_label l1, l2, l5, ldef, lbase, lrec;
    cfree_jit jit;
    cfree_target_info ti;
    cfree_access acc;
    cfree_data_decl dd;
    cfree_data_piece pc[2];
    uint64_t size, align, off;
    size_t len;
    char triple[128];
    int yes;
    const void *addr;
    int64_t (*f1)(int64_t);
    int64_t (*f2)(int64_t, int64_t);
    int64_t (*f0)(void);
    int64_t x;
    int64_t values[3] = {1, 2, 5};
    cfree_label labels[3];
    uint8_t seed[8] = {41, 0, 0, 0, 0, 0, 0, 0};

    CHECK(cfree_abi_check(CFREE_VERSION));
    CHECK(cfree_cg_module_new("flow", NULL, &m));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_int(m, 16, &i16));
    CHECK(cfree_cg_ty_int(m, 32, &i32));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_int(m, 128, &i128));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &ptr));
    CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig1));
    p2[0] = i64;
    p2[1] = i64;
    CHECK(cfree_cg_ty_func(m, p2, 2, 1, i64, 0, &sig2));
    CHECK(cfree_cg_ty_func(m, NULL, 0, 1, i64, 0, &sig0));

    /* Layout and target queries against C's own. */
    fields[0] = i8;
    fields[1] = i64;
    fields[2] = i16;
    CHECK(cfree_cg_ty_record(m, fields, 3, &rec3));
    CHECK(cfree_cg_layout(m, rec3, &size, &align));
    EXPECT_EQ(size, sizeof(struct layout), "record size");
    EXPECT_EQ(align, offsetof(struct { char c; struct layout l; }, l), "record alignment");
    CHECK(cfree_cg_field_offset(m, rec3, 1, &off));
    EXPECT_EQ(off, offsetof(struct layout, b), "field 1 offset");
    CHECK(cfree_cg_field_offset(m, rec3, 2, &off));
    EXPECT_EQ(off, offsetof(struct layout, c), "field 2 offset");
    CHECK(cfree_cg_ty_array(m, i16, 5, &arr2));
    CHECK(cfree_cg_layout(m, arr2, &size, &align));
    EXPECT_EQ(size, sizeof(int16_t[5]), "array size");
    CHECK(cfree_cg_target_info(m, &ti));
    EXPECT_EQ(ti.pointer_size, sizeof(void *), "pointer size");
    EXPECT_EQ(ti.int_size[4], sizeof(int64_t), "i64 size");
    EXPECT_EQ(ti.f64_size, sizeof(double), "f64 size");
    EXPECT_EQ(ti.object_format, CFREE_OBJ_ELF, "object format");
    CHECK(cfree_cg_target_string(m, CFREE_TARGET_TRIPLE, triple, sizeof triple, &len));
    EXPECT_EQ(len, strlen(triple), "triple length");
    CHECK(cfree_cg_target_string(m, CFREE_TARGET_TRIPLE, NULL, 0, &len));
    EXPECT_EQ(len, strlen(triple), "triple length without a buffer");
#if defined(__x86_64__)
    EXPECT_EQ(ti.arch, CFREE_ARCH_X86_64, "arch");
    EXPECT_EQ(strncmp(triple, "x86_64", 6), 0, "triple starts with x86_64");
#elif defined(__aarch64__)
    EXPECT_EQ(ti.arch, CFREE_ARCH_AARCH64, "arch");
#endif
    CHECK(cfree_cg_target_supports(m, CFREE_CAP_GC_SAFEPOINTS, 0, &yes));
    EXPECT_EQ(yes, 1, "GC safepoints on the host");
    CHECK(cfree_cg_target_supports(m, CFREE_CAP_INT_WIDTH, 128, &yes));
    EXPECT_EQ(yes, 1, "i128 on a 64-bit host");
    CHECK(cfree_cg_target_supports(m, CFREE_CAP_INT_WIDTH, 24, &yes));
    EXPECT_EQ(yes, 0, "i24");
    CHECK(cfree_cg_target_supports(m, CFREE_CAP_TLS, CFREE_TLS_LOCAL_EXEC - 1, &yes));
    EXPECT_EQ(yes, 1, "TLS on ELF");

    /* classify(x): a switch. */
    classify = begin("classify", sig1, &a, NULL);
    CHECK(cfree_cg_new_label(m, &l1));
    CHECK(cfree_cg_new_label(m, &l2));
    CHECK(cfree_cg_new_label(m, &l5));
    CHECK(cfree_cg_new_label(m, &ldef));
    labels[0] = l1;
    labels[1] = l2;
    labels[2] = l5;
    get(a, i64);
    CHECK(cfree_cg_switch(m, ldef, values, labels, 3));
    CHECK(cfree_cg_place_label(m, l1));
    CHECK(cfree_cg_push_int(m, i64, 10));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_place_label(m, l2));
    CHECK(cfree_cg_push_int(m, i64, 20));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_place_label(m, l5));
    CHECK(cfree_cg_push_int(m, i64, 50));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_place_label(m, ldef));
    CHECK(cfree_cg_push_int(m, i64, -1));
    end();

    /* bits(x) = popcount(x) + 100 * clz(x). */
    bits = begin("bits", sig1, &a, NULL);
    get(a, i64);
    CHECK(cfree_cg_int_unop(m, CFREE_IUNARY_POPCOUNT));
    get(a, i64);
    CHECK(cfree_cg_int_unop(m, CFREE_IUNARY_CLZ));
    CHECK(cfree_cg_push_int(m, i64, 100));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    end();

    /* sadd(a, b) = overflow ? -1 : a + b. */
    sadd = begin("sadd", sig2, &a, &b);
    CHECK(cfree_cg_local_slot(m, i64, "r", 0, &r));
    CHECK(cfree_cg_ty_int(m, 1, &fields[0]));
    CHECK(cfree_cg_local_slot(m, fields[0], "f", 0, &f));
    get(a, i64);
    get(b, i64);
    CHECK(cfree_cg_checked(m, CFREE_CHECKED_SADD)); /* result, flag */
    CHECK(cfree_cg_push_local(m, f));
    CHECK(cfree_cg_swap(m));
    CHECK(cfree_cg_store(m, fields[0], 0)); /* the flag into f */
    CHECK(cfree_cg_push_local(m, r));
    CHECK(cfree_cg_swap(m));
    CHECK(cfree_cg_store(m, i64, 0)); /* the result into r */
    CHECK(cfree_cg_push_int(m, i64, -1));
    get(r, i64);
    get(f, fields[0]);
    CHECK(cfree_cg_select(m));
    end();

    /* sum_pair(struct pair p) = p.a * 3 + p.b: a record by value. */
    p2[0] = i32;
    p2[1] = i64;
    CHECK(cfree_cg_ty_record(m, p2, 2, &pair_ty));
    CHECK(cfree_cg_ty_func(m, &pair_ty, 1, 1, i64, 0, &pair_sig));
    sum_pair = begin("sum_pair", pair_sig, &a, NULL);
    CHECK(cfree_cg_push_local(m, a));
    CHECK(cfree_cg_load(m, i32, 0));
    CHECK(cfree_cg_cast(m, CFREE_CAST_SEXT, i64));
    CHECK(cfree_cg_push_int(m, i64, 3));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_field_offset(m, pair_ty, 1, &off));
    CHECK(cfree_cg_push_local(m, a));
    CHECK(cfree_cg_addr_offset(m, (int64_t)off, i64));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    end();
    /* call_pair(a, b): builds a pair in a local and passes the place (cold, notail call). */
    call_pair = begin("call_pair", sig2, &a, &b);
    CHECK(cfree_cg_local_slot(m, pair_ty, "p", 0, &lp));
    CHECK(cfree_cg_push_local(m, lp));
    get(a, i64);
    CHECK(cfree_cg_cast(m, CFREE_CAST_TRUNC, i32));
    CHECK(cfree_cg_store(m, i32, 0));
    CHECK(cfree_cg_push_local(m, lp));
    CHECK(cfree_cg_addr_offset(m, (int64_t)off, i64));
    get(b, i64);
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_local(m, lp));
    CHECK(cfree_cg_call_with(m, sum_pair, 1, CFREE_TAIL_NOTAIL, 1));
    end();

    /* tail(n, acc) = n == 0 ? acc : tail(n - 1, acc + n), with guaranteed tail calls. */
    tail = begin("tail", sig2, &a, &b);
    CHECK(cfree_cg_new_label(m, &lbase));
    CHECK(cfree_cg_new_label(m, &lrec));
    get(a, i64);
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_int_cmp(m, CFREE_CMP_EQ));
    CHECK(cfree_cg_cond_br(m, lbase, lrec));
    CHECK(cfree_cg_place_label(m, lbase));
    get(b, i64);
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_place_label(m, lrec));
    get(a, i64);
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_SUB, 0));
    get(b, i64);
    get(a, i64);
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_tail_call(m, tail, 2));
    CHECK(cfree_cg_func_end(m));

    /* fill(n): n bytes of stack, memset to 3, copied (memcpy) to a second block; the
     * first 8 bytes of the copy as an i64. */
    fill = begin("fill", sig1, &a, NULL);
    CHECK(cfree_cg_local_slot(m, ptr, "p", 0, &r));
    CHECK(cfree_cg_local_slot(m, ptr, "q", 0, &f));
    CHECK(cfree_cg_push_local(m, r));
    get(a, i64);
    CHECK(cfree_cg_alloca(m, 0));
    CHECK(cfree_cg_store(m, ptr, 0));
    CHECK(cfree_cg_push_local(m, f));
    get(a, i64);
    CHECK(cfree_cg_alloca(m, 0));
    CHECK(cfree_cg_store(m, ptr, 0));
    memset(&acc, 0, sizeof acc);
    acc.ty = i8;
    get(r, ptr);
    CHECK(cfree_cg_memset(m, 3, 16, &acc));
    get(f, ptr);
    get(r, ptr);
    CHECK(cfree_cg_memcpy(m, 16, &acc, &acc, 0));
    get(f, ptr);
    acc.ty = i64;
    acc.align = 1;
    CHECK(cfree_cg_load_access(m, &acc));
    end();

    /* Data: counter = 41 (bytes), cptr = &counter (a relocation); bump() and via_ptr(). */
    memset(&dd, 0, sizeof dd);
    dd.ty = i64;
    CHECK(cfree_cg_declare_data(m, "counter", &dd, &counter));
    memset(pc, 0, sizeof pc);
    pc[0].kind = CFREE_PIECE_BYTES;
    pc[0].bytes = seed;
    pc[0].size = 8;
    CHECK(cfree_cg_define_data(m, counter, pc, 1));
    dd.ty = ptr;
    dd.linkage = CFREE_LINKAGE_INTERNAL;
    CHECK(cfree_cg_declare_data(m, "cptr", &dd, &cptr));
    pc[0].kind = CFREE_PIECE_RELOC;
    pc[0].target = counter;
    pc[0].addend = 0;
    CHECK(cfree_cg_define_data(m, cptr, pc, 1));
    bump = begin("bump", sig0, NULL, NULL);
    CHECK(cfree_cg_push_global(m, counter));
    CHECK(cfree_cg_push_global(m, counter));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_global(m, counter));
    CHECK(cfree_cg_load(m, i64, 0));
    end();
    via_ptr = begin("via_ptr", sig0, NULL, NULL);
    CHECK(cfree_cg_push_global(m, cptr));
    CHECK(cfree_cg_load(m, ptr, 0));
    CHECK(cfree_cg_load(m, i64, 0));
    end();

    /* wide(x) = (int64)((i128)x * 2^64 >> 64) + low part of 2^64 + 5, via push_int128. */
    wide = begin("wide", sig1, &a, NULL);
    get(a, i64);
    CHECK(cfree_cg_cast(m, CFREE_CAST_SEXT, i128));
    CHECK(cfree_cg_push_int128(m, i128, 1, 5)); /* 2^64 + 5 */
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_push_int128(m, i128, 0, 64));
    CHECK(cfree_cg_int_op(m, CFREE_INT_LSHR, 0));
    CHECK(cfree_cg_cast(m, CFREE_CAST_TRUNC, i64));
    end();
    CHECK(cfree_cg_symbol_by_name(m, "wide", &tsig));
    EXPECT_EQ(tsig, wide, "symbol_by_name(wide)");
    EXPECT_EQ(cfree_cg_symbol_by_name(m, "nope", &tsig), CFREE_ERR_NOT_FOUND, "symbol_by_name(nope)");
    (void)classify;
    (void)bits;
    (void)sadd;
    (void)call_pair;
    (void)fill;
    (void)bump;
    (void)via_ptr;

    /* safe_div(a, b): a / b, or -1 through a check's failure path; the
     * quotient lives in a slot declared without ADDRESS_TAKEN. */
    {
        cfree_local a, b, q;
        cfree_label zero;
        begin("safe_div", sig2, &a, &b);
        CHECK(cfree_cg_local_slot_ex(m, i64, "q", 0, CFREE_SLOT_COMPILER_TEMP, &q));
        CHECK(cfree_cg_push_local(m, q));
        EXPECT_EQ(cfree_cg_addr_of(m), 513, "addr_of a slot without ADDRESS_TAKEN");
        EXPECT_EQ(cfree_cg_local_slot_ex(m, i64, "bad", 0, 16, &b), CFREE_ERR_INVALID_ARGUMENT, "unknown slot flags");
        CHECK(cfree_cg_new_label(m, &zero));
        get(a, i64);
        get(b, i64);
        CHECK(cfree_cg_dup(m));
        CHECK(cfree_cg_push_int(m, i64, 0));
        CHECK(cfree_cg_int_cmp(m, CFREE_CMP_EQ));
        CHECK(cfree_cg_check(m, zero));
        CHECK(cfree_cg_int_op(m, CFREE_INT_SDIV, 0));
        CHECK(cfree_cg_store(m, i64, 0));
        get(q, i64);
        CHECK(cfree_cg_ret(m));
        CHECK(cfree_cg_place_label(m, zero));
        CHECK(cfree_cg_push_int(m, i64, -1));
        end();
    }

    emit_jump();

    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_publish(jit, m, CFREE_O1));
#define LOOK(name, fnp)                                                                            \
    do {                                                                                           \
        CHECK(cfree_jit_lookup(jit, name, &addr));                                                 \
        memcpy(&fnp, &addr, sizeof fnp);                                                           \
    } while (0)
    LOOK("classify", f1);
    for (x = -2; x < 8; x++) {
        EXPECT_EQ(f1(x), c_classify(x), "classify");
    }
    LOOK("bits", f1);
    for (x = 1; x < (int64_t)1 << 40; x = x * 7 + 3) {
        EXPECT_EQ(f1(x), c_bits(x), "bits");
    }
    LOOK("sadd", f2);
    EXPECT_EQ(f2(40, 2), c_sadd(40, 2), "sadd");
    EXPECT_EQ(f2(INT64_MAX, 1), c_sadd(INT64_MAX, 1), "sadd overflow");
    EXPECT_EQ(f2(INT64_MIN, -1), c_sadd(INT64_MIN, -1), "sadd underflow");
    /* sum_pair takes a record: not a JIT export (stable entries carry scalar
     * signatures); call_pair reaches it by a direct call with a place. */
    LOOK("call_pair", f2);
    {
        struct pair p;
        p.a = 123;
        p.b = -99;
        EXPECT_EQ(f2(123, -99), c_sum_pair(p), "call_pair");
    }
    LOOK("tail", f2);
    EXPECT_EQ(f2(1000000, 0), c_tri(1000000), "tail(1e6)");
    LOOK("fill", f1);
    {
        int64_t want;
        memset(&want, 3, sizeof want);
        EXPECT_EQ(f1(64), want, "fill");
    }
    LOOK("bump", f0);
    EXPECT_EQ(f0(), 42, "bump");
    LOOK("safe_div", f2);
    EXPECT_EQ(f2(42, 5), 42 / 5, "safe_div");
    EXPECT_EQ(f2(-42, 5), -42 / 5, "safe_div negative");
    EXPECT_EQ(f2(42, 0), -1, "safe_div by zero takes the check's failure path");
    LOOK("jump", f1);
    for (x = 0; x < 8; x++) {
        EXPECT_EQ(f1(x), x * (x % 2 ? 5 : 3), "jump through a table of label addresses");
    }
    EXPECT_EQ(f0(), 43, "bump again");
    LOOK("via_ptr", f0);
    EXPECT_EQ(f0(), 43, "via_ptr");
    LOOK("wide", f1);
    for (x = -12; x < 12; x += 3) {
        EXPECT_EQ(f1(x), c_wide(x), "wide");
    }
    CHECK(cfree_jit_free(jit));

    /* Text emission: IR and assembly name what was emitted; an alias in the IR. */
    {
        int kind;
        for (kind = CFREE_EMIT_ASSEMBLY; kind <= CFREE_EMIT_IR; kind++) {
            uint8_t *text;
            size_t n;
            cfree_sym g, al;
            CHECK(cfree_cg_module_new("text", NULL, &m));
            CHECK(cfree_cg_ty_int(m, 64, &i64));
            CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig1));
            g = begin("twice_it", sig1, &a, NULL);
            get(a, i64);
            CHECK(cfree_cg_dup(m));
            CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
            end();
            CHECK(cfree_cg_declare_alias(m, "twice_alias", g, CFREE_LINKAGE_EXTERNAL, CFREE_VIS_DEFAULT, &al));
            CHECK(cfree_cg_emit(m, kind, CFREE_O2, &text, &n));
            EXPECT_EQ(strlen((const char *)text), n, "text length");
            EXPECT_EQ(strstr((const char *)text, "twice_it") != NULL, 1, "the function in the text");
            EXPECT_EQ(strstr((const char *)text, "twice_alias") != NULL, 1, "the alias in the text");
            if (kind == CFREE_EMIT_IR) {
                EXPECT_EQ(strstr((const char *)text, "define") != NULL, 1, "a define in the IR");
            }
            cfree_bytes_free(text, n);
        }
    }

    /* AOT: data, a constructor and a function, written for gcc to link. */
    if (argc > 1) {
        cfree_sym data, init, get_fn;
        cfree_type vsig;
        uint8_t five[8] = {5, 0, 0, 0, 0, 0, 0, 0};
        uint8_t *obj;
        size_t n;
        FILE *out;
        CHECK(cfree_cg_module_new("aot", NULL, &m));
        CHECK(cfree_cg_ty_int(m, 64, &i64));
        memset(&dd, 0, sizeof dd);
        dd.ty = i64;
        CHECK(cfree_cg_declare_data(m, "aot_counter", &dd, &data));
        memset(pc, 0, sizeof pc);
        pc[0].kind = CFREE_PIECE_BYTES;
        pc[0].bytes = five;
        pc[0].size = 8;
        CHECK(cfree_cg_define_data(m, data, pc, 1));
        CHECK(cfree_cg_ty_func(m, NULL, 0, 0, 0, 0, &vsig));
        CHECK(cfree_cg_declare_func(m, "aot_init", vsig, CFREE_LINKAGE_INTERNAL, &init));
        CHECK(cfree_cg_func_begin(m, init));
        CHECK(cfree_cg_push_global(m, data));
        CHECK(cfree_cg_push_global(m, data));
        CHECK(cfree_cg_load(m, i64, 0));
        CHECK(cfree_cg_push_int(m, i64, 10));
        CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
        CHECK(cfree_cg_store(m, i64, 0));
        end();
        CHECK(cfree_cg_add_init_fini(m, CFREE_INIT_CONSTRUCTOR, init, 65535));
        CHECK(cfree_cg_ty_func(m, NULL, 0, 1, i64, 0, &sig0));
        CHECK(cfree_cg_declare_func(m, "aot_get", sig0, CFREE_LINKAGE_EXTERNAL, &get_fn));
        CHECK(cfree_cg_func_begin(m, get_fn));
        CHECK(cfree_cg_push_global(m, data));
        CHECK(cfree_cg_load(m, i64, 0));
        end();
        CHECK(cfree_cg_ty_int(m, 8, &i8));
        CHECK(cfree_cg_ty_ptr(m, i8, 0, &ptr));
        CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig1));
        emit_jump();
        CHECK(cfree_cg_emit(m, CFREE_EMIT_OBJECT, CFREE_O2, &obj, &n));
        out = fopen(argv[1], "wb");
        if (!out || fwrite(obj, 1, n, out) != n || fclose(out) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[1]);
            return 1;
        }
        cfree_bytes_free(obj, n);
    }

    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("flow ok\n");
    return 0;
}
