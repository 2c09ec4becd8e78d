/* A precise, moving collector written in C, driven only by the C API: managed
 * code (address space 1, CFREE_GC_SAFEPOINTS) emitted through cfree_cg_*
 * builds linked lists through a C allocator (CFREE_GC_RUNTIME) that
 * collects at every allocation, copying every live object to the other
 * semispace (Cheney) and poisoning the old one. Roots come only from the JIT
 * registry's safepoints, reached from the entry frame pointers the
 * trampolines pass (cfree_jit_gc_relocate); the low-level walk
 * (cfree_jit_walk_frames + cfree_jit_safepoint_slots) is checked against it
 * at every collection. Covers a derived pointer live across a collection,
 * managed -> C -> managed re-entry, facade allocation with write barriers,
 * an explicit root slot, and safepoint IDs. Every result is compared with
 * the same computation in C. Run at O0 and O2 by capi/tests/c_api.rs. */
#include "cfree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* ---- the heap: header word = words | nptrs << 32; forwarded = FORWARDED | new ---- */

#define SPACE_WORDS (1u << 16)
#define FORWARDED (1ull << 63)
#define POISON 0xdeadbeefdeadbeefull
#define SAFEPOINT_ID 4242u

static uint64_t *spaces[2];
static unsigned from_space, top;
static cfree_jit jit;
static uint64_t entries[16]; /* entry frame pointers, outermost first */
static size_t nentries;
static uint64_t collections, words_copied, objects_forwarded, live_seen, max_frames, barriers;

static int in_space(unsigned s, uint64_t a) {
    uint64_t base = (uint64_t)(uintptr_t)spaces[s];
    return a >= base && a < base + SPACE_WORDS * 8u;
}

static uint64_t forward(void *ctx, uint64_t addr) {
    unsigned *to_top = ctx;
    unsigned to = 1 - from_space;
    uint64_t *obj, header, words, *dst;
    if (!in_space(from_space, addr)) {
        return addr;
    }
    obj = (uint64_t *)(uintptr_t)addr;
    header = obj[0];
    if (header & FORWARDED) {
        return header & ~FORWARDED;
    }
    words = header & 0xffffffffu;
    dst = spaces[to] + *to_top;
    memcpy(dst, obj, words * 8);
    *to_top += (unsigned)words;
    words_copied += words;
    objects_forwarded++;
    obj[0] = FORWARDED | (uint64_t)(uintptr_t)dst;
    return (uint64_t)(uintptr_t)dst;
}

/* The low-level path: walk the frames above every entry and count the live
 * pointers their safepoints name, each slot holding a from-space address. */
static uint64_t count_live(void) {
    uint64_t total = 0, frames = 0;
    size_t e;
    for (e = nentries; e-- > 0;) {
        cfree_frame fr[64];
        size_t n, i, k;
        CHECK(cfree_jit_walk_frames(jit, entries[e], fr, 64, &n));
        REQUIRE(n > 0 && n <= 64, "%zu frames above entry %zu", n, e);
        frames += n;
        for (i = 0; i < n; i++) {
            cfree_safepoint_info sp;
            cfree_live_pointer live[32];
            CHECK(cfree_jit_safepoint_at(jit, fr[i].pc, &sp));
            REQUIRE(sp.nlive <= 32, "%zu live pointers", sp.nlive);
            CHECK(cfree_jit_safepoint_slots(jit, fr[i].pc, live, 32, NULL, 0));
            for (k = 0; k < sp.nlive; k++) {
                uint64_t at = (live[k].base.base == CFREE_SLOT_SP ? fr[i].sp : fr[i].fp) + (int64_t)live[k].base.offset;
                uint64_t v = *(uint64_t *)(uintptr_t)at;
                REQUIRE(v == 0 || in_space(from_space, v), "a live base %#llx outside from-space",
                        (unsigned long long)v);
            }
            total += sp.nlive;
        }
    }
    if (frames > max_frames) {
        max_frames = frames;
    }
    return total;
}

static void collect(void) {
    unsigned to = 1 - from_space, to_top = 0, scan = 0;
    uint64_t rev[16];
    size_t i, frames = 0;
    live_seen += count_live();
    for (i = 0; i < nentries; i++) {
        rev[i] = entries[nentries - 1 - i]; /* innermost first */
    }
    CHECK(cfree_jit_gc_relocate(jit, rev, nentries, forward, &to_top, &frames));
    REQUIRE(frames > 0, "no managed frame above %zu entries", nentries);
    while (scan < to_top) {
        uint64_t header = spaces[to][scan];
        unsigned words = (unsigned)(header & 0xffffffffu), nptrs = (unsigned)(header >> 32), k;
        for (k = 1; k <= nptrs; k++) {
            spaces[to][scan + k] = forward(&to_top, spaces[to][scan + k]);
        }
        scan += words;
    }
    for (i = 0; i < SPACE_WORDS; i++) {
        spaces[from_space][i] = POISON;
    }
    from_space = to;
    top = to_top;
    collections++;
}

/* The runtime allocator (CFREE_GC_RUNTIME): the trampoline passes `entry` first. */
static uint64_t gc_alloc(uint64_t entry, int64_t words, int64_t nptrs) {
    uint64_t *obj;
    REQUIRE(nentries < 16, "entries overflow");
    entries[nentries++] = entry;
    collect();
    REQUIRE(top + (uint64_t)words <= SPACE_WORDS, "heap exhausted");
    obj = spaces[from_space] + top;
    obj[0] = (uint64_t)words | (uint64_t)nptrs << 32;
    memset(obj + 1, 0, (size_t)(words - 1) * 8);
    top += (unsigned)words;
    nentries--;
    return (uint64_t)(uintptr_t)obj;
}

/* cfree_cg_gc_alloc's runtime: `descriptor` pointer fields, `size` bytes after the header. */
static uint64_t gc_new(uint64_t entry, int64_t descriptor, int64_t size) {
    return gc_alloc(entry, 1 + size / 8, descriptor);
}

static void gc_barrier(uint64_t object, int64_t offset, uint64_t value, int32_t kind) {
    REQUIRE(*(uint64_t *)(uintptr_t)(object + (uint64_t)offset) == value, "the barrier runs after the store");
    REQUIRE(kind == CFREE_PTR_STRONG, "kind %d", kind);
    barriers++;
}

typedef int64_t (*fn_i64)(int64_t);

static int64_t reenter(uint64_t entry, int64_t k) {
    const void *a;
    fn_i64 inner;
    int64_t r;
    entries[nentries++] = entry;
    CHECK(cfree_jit_lookup(jit, "inner", &a));
    memcpy(&inner, &a, sizeof inner);
    r = inner(k + 7);
    nentries--;
    return r;
}

/* ---- the managed program ---- */

static cfree_module m;
static cfree_type i64, i32, obj, raw;

static void get(cfree_local l, cfree_type ty) {
    CHECK(cfree_cg_push_local(m, l));
    CHECK(cfree_cg_load(m, ty, 0));
}

static cfree_sym managed(const char *name, cfree_type sig) {
    cfree_func_decl d;
    cfree_sym s;
    memset(&d, 0, sizeof d);
    d.sig = sig;
    d.gc = CFREE_GC_SAFEPOINTS;
    CHECK(cfree_cg_declare_func_ex(m, name, &d, &s));
    return s;
}

static cfree_sym runtime(const char *name, cfree_type sig, int role) {
    cfree_func_decl d;
    cfree_sym s;
    memset(&d, 0, sizeof d);
    d.sig = sig;
    d.gc = role;
    CHECK(cfree_cg_declare_func_ex(m, name, &d, &s));
    return s;
}

/* Loop `for (i = 0; i < n; i++) body` with the body emitted by `body(i)`. */
static void emit_loop(cfree_local n, cfree_local i, void (*body)(cfree_local)) {
    cfree_label head, b, done;
    CHECK(cfree_cg_push_local(m, i));
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_new_label(m, &head));
    CHECK(cfree_cg_new_label(m, &b));
    CHECK(cfree_cg_new_label(m, &done));
    CHECK(cfree_cg_place_label(m, head));
    get(i, i64);
    get(n, i64);
    CHECK(cfree_cg_int_cmp(m, CFREE_CMP_SLT));
    CHECK(cfree_cg_cond_br(m, b, done));
    CHECK(cfree_cg_place_label(m, b));
    body(i);
    CHECK(cfree_cg_push_local(m, i));
    get(i, i64);
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_br(m, head));
    CHECK(cfree_cg_place_label(m, done));
}

static cfree_sym s_alloc, s_new;
static cfree_local b_list, b_node;

static void build_body(cfree_local i) {
    CHECK(cfree_cg_push_local(m, b_node));
    CHECK(cfree_cg_push_int(m, i64, 3));
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_call(m, s_alloc, 2));
    CHECK(cfree_cg_store(m, obj, 0));
    get(b_node, obj);
    CHECK(cfree_cg_addr_offset(m, 8, obj));
    get(b_list, obj);
    CHECK(cfree_cg_store(m, obj, 0));
    get(b_node, obj);
    CHECK(cfree_cg_addr_offset(m, 16, obj));
    get(i, i64);
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_local(m, b_list));
    get(b_node, obj);
    CHECK(cfree_cg_store(m, obj, 0));
}

static void build2_body(cfree_local i) {
    cfree_access a;
    memset(&a, 0, sizeof a);
    CHECK(cfree_cg_push_local(m, b_node));
    /* The buffer operand must be a raw pointer: an integer is refused, and stays. */
    CHECK(cfree_cg_push_int(m, i64, 0));
    if (cfree_cg_gc_alloc_in(m, 1, 16) != 203) {
        fprintf(stderr, "gc_alloc_in with an integer buffer: %s\n", cfree_error_message());
        exit(1);
    }
    CHECK(cfree_cg_discard(m));
    /* No inline buffer in this runtime: the address is popped and `alloc` allocates. */
    CHECK(cfree_cg_push_null(m, raw));
    CHECK(cfree_cg_gc_alloc_in(m, 1, 16));
    CHECK(cfree_cg_store(m, obj, 0));
    get(b_node, obj);
    get(b_list, obj);
    a.ty = obj;
    CHECK(cfree_cg_managed_store(m, &a, 8, CFREE_PTR_STRONG));
    get(b_node, obj);
    get(i, i64);
    a.ty = i64;
    CHECK(cfree_cg_managed_store(m, &a, 16, CFREE_PTR_STRONG));
    CHECK(cfree_cg_push_local(m, b_list));
    get(b_node, obj);
    CHECK(cfree_cg_store(m, obj, 0));
}

static void emit_program(void) {
    cfree_type i8, p2[2], p4[4], alloc_sig, build_sig, sum_sig, run_sig, barrier_sig;
    cfree_sym build, sum, run, inner, outer, s_reenter, build2, s_barrier, rooted;
    cfree_local n, i, acc, p, l, field, a, root;
    cfree_label head, body, done;
    cfree_gc_runtime rt;

    CHECK(cfree_cg_module_new("gc_list", NULL, &m));
    CHECK(cfree_cg_set_address_space_policy(m, 1, 1, 1, 1));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_int(m, 32, &i32));
    CHECK(cfree_cg_ty_int(m, 8, &i8));
    CHECK(cfree_cg_ty_ptr(m, i8, 1, &obj));
    CHECK(cfree_cg_ty_ptr(m, i8, 0, &raw));
    p2[0] = i64;
    p2[1] = i64;
    CHECK(cfree_cg_ty_func(m, p2, 2, 1, obj, 0, &alloc_sig));
    CHECK(cfree_cg_ty_func(m, &i64, 1, 1, obj, 0, &build_sig));
    CHECK(cfree_cg_ty_func(m, &obj, 1, 1, i64, 0, &sum_sig));
    CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &run_sig));
    s_alloc = runtime("gc_alloc", alloc_sig, CFREE_GC_RUNTIME);
    s_reenter = runtime("reenter", run_sig, CFREE_GC_RUNTIME);
    build = managed("build", build_sig);
    sum = managed("sum", sum_sig);
    run = managed("run", run_sig);

    /* build(n): a list of n nodes {header, next, value = i}, head = the last. */
    CHECK(cfree_cg_func_begin(m, build));
    CHECK(cfree_cg_param_slot(m, 0, "n", &n));
    CHECK(cfree_cg_local_slot(m, obj, "list", 0, &b_list));
    CHECK(cfree_cg_local_slot(m, i64, "i", 0, &i));
    CHECK(cfree_cg_local_slot(m, obj, "node", 0, &b_node));
    CHECK(cfree_cg_push_local(m, b_list));
    CHECK(cfree_cg_push_null(m, obj));
    CHECK(cfree_cg_store(m, obj, 0));
    emit_loop(n, i, build_body);
    get(b_list, obj);
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* sum(list) */
    CHECK(cfree_cg_func_begin(m, sum));
    CHECK(cfree_cg_param_slot(m, 0, "list", &p));
    CHECK(cfree_cg_local_slot(m, i64, "acc", 0, &acc));
    CHECK(cfree_cg_push_local(m, acc));
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_new_label(m, &head));
    CHECK(cfree_cg_new_label(m, &body));
    CHECK(cfree_cg_new_label(m, &done));
    CHECK(cfree_cg_place_label(m, head));
    get(p, obj);
    CHECK(cfree_cg_push_null(m, obj));
    CHECK(cfree_cg_int_cmp(m, CFREE_CMP_NE));
    CHECK(cfree_cg_cond_br(m, body, done));
    CHECK(cfree_cg_place_label(m, body));
    CHECK(cfree_cg_push_local(m, acc));
    get(acc, i64);
    get(p, obj);
    CHECK(cfree_cg_addr_offset(m, 16, obj));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_store(m, i64, 0));
    CHECK(cfree_cg_push_local(m, p));
    get(p, obj);
    CHECK(cfree_cg_addr_offset(m, 8, obj));
    CHECK(cfree_cg_load(m, obj, 0));
    CHECK(cfree_cg_store(m, obj, 0));
    CHECK(cfree_cg_br(m, head));
    CHECK(cfree_cg_place_label(m, done));
    get(acc, i64);
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* run(n): l = build(n); field = &l->value (derived); allocate (collects);
     * sum(l) * 1000 + *field. */
    CHECK(cfree_cg_func_begin(m, run));
    CHECK(cfree_cg_param_slot(m, 0, "n", &n));
    CHECK(cfree_cg_local_slot(m, obj, "l", 0, &l));
    CHECK(cfree_cg_local_slot(m, obj, "field", 0, &field));
    CHECK(cfree_cg_push_local(m, l));
    get(n, i64);
    CHECK(cfree_cg_call(m, build, 1));
    CHECK(cfree_cg_store(m, obj, 0));
    CHECK(cfree_cg_push_local(m, field));
    get(l, obj);
    CHECK(cfree_cg_addr_offset(m, 16, obj));
    CHECK(cfree_cg_store(m, obj, 0));
    CHECK(cfree_cg_set_safepoint_id(m, SAFEPOINT_ID));
    CHECK(cfree_cg_push_int(m, i64, 2));
    CHECK(cfree_cg_push_int(m, i64, 0));
    CHECK(cfree_cg_call(m, s_alloc, 2));
    CHECK(cfree_cg_discard(m));
    get(l, obj);
    CHECK(cfree_cg_call(m, sum, 1));
    CHECK(cfree_cg_push_int(m, i64, 1000));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    get(field, obj);
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* inner(k) = sum(build(k)); outer(n): a = build(n); r = reenter(n); sum(a) * 1000 + r. */
    inner = managed("inner", run_sig);
    CHECK(cfree_cg_func_begin(m, inner));
    CHECK(cfree_cg_param_slot(m, 0, "k", &n));
    get(n, i64);
    CHECK(cfree_cg_call(m, build, 1));
    CHECK(cfree_cg_call(m, sum, 1));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
    outer = managed("outer", run_sig);
    CHECK(cfree_cg_func_begin(m, outer));
    CHECK(cfree_cg_param_slot(m, 0, "n", &n));
    CHECK(cfree_cg_local_slot(m, obj, "a", 0, &a));
    CHECK(cfree_cg_push_local(m, a));
    get(n, i64);
    CHECK(cfree_cg_call(m, build, 1));
    CHECK(cfree_cg_store(m, obj, 0));
    get(n, i64);
    CHECK(cfree_cg_call(m, s_reenter, 1));
    get(a, obj);
    CHECK(cfree_cg_call(m, sum, 1));
    CHECK(cfree_cg_push_int(m, i64, 1000));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* build2(n): build through cfree_cg_gc_alloc and barriered managed stores; sum. */
    s_new = runtime("gc_new", alloc_sig, CFREE_GC_RUNTIME);
    p4[0] = obj;
    p4[1] = i64;
    p4[2] = obj;
    p4[3] = i32;
    CHECK(cfree_cg_ty_func(m, p4, 4, 0, 0, 0, &barrier_sig));
    s_barrier = runtime("gc_barrier", barrier_sig, CFREE_GC_LEAF);
    memset(&rt, 0, sizeof rt);
    rt.alloc = s_new;
    rt.write_barrier = s_barrier;
    rt.has = CFREE_GC_HAS_BARRIER;
    CHECK(cfree_cg_set_gc_runtime(m, &rt));
    build2 = managed("build2", run_sig);
    CHECK(cfree_cg_func_begin(m, build2));
    CHECK(cfree_cg_param_slot(m, 0, "n", &n));
    CHECK(cfree_cg_local_slot(m, obj, "list", 0, &b_list));
    CHECK(cfree_cg_local_slot(m, i64, "i", 0, &i));
    CHECK(cfree_cg_local_slot(m, obj, "node", 0, &b_node));
    CHECK(cfree_cg_push_local(m, b_list));
    CHECK(cfree_cg_push_null(m, obj));
    CHECK(cfree_cg_store(m, obj, 0));
    emit_loop(n, i, build2_body);
    get(b_list, obj);
    CHECK(cfree_cg_call(m, sum, 1));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));

    /* rooted(n): an explicit root slot holds build(n) across build(n + 1). */
    rooted = managed("rooted", run_sig);
    CHECK(cfree_cg_func_begin(m, rooted));
    CHECK(cfree_cg_param_slot(m, 0, "n", &n));
    CHECK(cfree_cg_gc_root_slot(m, obj, "root", &root));
    CHECK(cfree_cg_push_local(m, root));
    get(n, i64);
    CHECK(cfree_cg_call(m, build, 1));
    CHECK(cfree_cg_store(m, obj, 0));
    get(n, i64);
    CHECK(cfree_cg_push_int(m, i64, 1));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_call(m, build, 1));
    CHECK(cfree_cg_call(m, sum, 1));
    get(root, obj);
    CHECK(cfree_cg_call(m, sum, 1));
    CHECK(cfree_cg_push_int(m, i64, 1000));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
}

static void define(const char *name, void *fp_bits) {
    CHECK(cfree_jit_define_host_symbol(jit, name, fp_bits));
}

static fn_i64 lookup(const char *name) {
    const void *a;
    fn_i64 f;
    CHECK(cfree_jit_lookup(jit, name, &a));
    memcpy(&f, &a, sizeof f);
    return f;
}

static int64_t tri(int64_t n) { return n * (n - 1) / 2; }

int main(int argc, char **argv) {
    int level = argc > 1 ? atoi(argv[1]) : 0;
    uint64_t (*alloc_fn)(uint64_t, int64_t, int64_t) = gc_alloc, (*new_fn)(uint64_t, int64_t, int64_t) = gc_new;
    int64_t (*reenter_fn)(uint64_t, int64_t) = reenter;
    void (*barrier_fn)(uint64_t, int64_t, uint64_t, int32_t) = gc_barrier;
    void *bits;
    size_t nsp, k;
    int found_id = 0;
    int64_t n, got, want;
    uint64_t c0, b0, first_list;

    CHECK(cfree_abi_check(CFREE_VERSION));
    spaces[0] = malloc(SPACE_WORDS * 8);
    spaces[1] = malloc(SPACE_WORDS * 8);
    REQUIRE(spaces[0] && spaces[1], "out of memory");
    emit_program();
    CHECK(cfree_jit_new(&jit));
    memcpy(&bits, &alloc_fn, sizeof bits);
    define("gc_alloc", bits);
    memcpy(&bits, &new_fn, sizeof bits);
    define("gc_new", bits);
    memcpy(&bits, &reenter_fn, sizeof bits);
    define("reenter", bits);
    memcpy(&bits, &barrier_fn, sizeof bits);
    define("gc_barrier", bits);
    CHECK(cfree_jit_publish(jit, m, level));

    /* The registry holds the statepoints, one with the frontend's ID. */
    CHECK(cfree_jit_safepoint_count(jit, &nsp));
    REQUIRE(nsp >= 5, "%zu safepoints", nsp);
    for (k = 0; k < nsp; k++) {
        cfree_safepoint_info sp, again;
        CHECK(cfree_jit_safepoint(jit, k, &sp));
        CHECK(cfree_jit_safepoint_at(jit, sp.pc, &again));
        REQUIRE(again.id == sp.id && again.nlive == sp.nlive, "safepoint %zu differs by PC", k);
        found_id |= sp.id == SAFEPOINT_ID;
    }
    REQUIRE(found_id, "no safepoint carries ID %u", SAFEPOINT_ID);

    /* run: a collection per allocation, a derived pointer across the last one. */
    n = 200;
    c0 = collections;
    got = lookup("run")(n);
    want = tri(n) * 1000 + (n - 1);
    REQUIRE(got == want, "run(%lld) = %lld, C says %lld", (long long)n, (long long)got, (long long)want);
    REQUIRE(collections - c0 == (uint64_t)n + 1, "%llu collections", (unsigned long long)(collections - c0));
    REQUIRE(words_copied > (uint64_t)n * 3, "only %llu words copied", (unsigned long long)words_copied);
    REQUIRE(live_seen > (uint64_t)n, "only %llu live pointers seen", (unsigned long long)live_seen);
    for (k = 0; k < SPACE_WORDS; k++) {
        REQUIRE(spaces[1 - from_space][k] == POISON, "from-space word %zu not poisoned", k);
    }

    /* Re-entry: the outer list lives only in outer's frame during inner's collections. */
    n = 50;
    c0 = collections;
    max_frames = 0;
    got = lookup("outer")(n);
    want = tri(n) * 1000 + tri(n + 7);
    REQUIRE(got == want, "outer(%lld) = %lld, C says %lld", (long long)n, (long long)got, (long long)want);
    REQUIRE(collections - c0 == 2 * (uint64_t)n + 7, "%llu collections", (unsigned long long)(collections - c0));
    REQUIRE(max_frames >= 3, "collections saw %llu frames", (unsigned long long)max_frames);

    /* Facade allocation and barriers: one barrier per pointer store. */
    n = 120;
    c0 = collections;
    b0 = barriers;
    got = lookup("build2")(n);
    REQUIRE(got == tri(n), "build2(%lld) = %lld, C says %lld", (long long)n, (long long)got, (long long)tri(n));
    REQUIRE(collections - c0 == (uint64_t)n, "%llu collections", (unsigned long long)(collections - c0));
    REQUIRE(barriers - b0 == (uint64_t)n, "%llu barriers", (unsigned long long)(barriers - b0));

    /* An explicit root slot survives the collections of a second build. */
    n = 30;
    first_list = objects_forwarded;
    got = lookup("rooted")(n);
    want = tri(n) * 1000 + tri(n + 1);
    REQUIRE(got == want, "rooted(%lld) = %lld, C says %lld", (long long)n, (long long)got, (long long)want);
    REQUIRE(objects_forwarded > first_list, "nothing moved");

    CHECK(cfree_jit_free(jit));
    free(spaces[0]);
    free(spaces[1]);
    printf("gc ok\n");
    return 0;
}
