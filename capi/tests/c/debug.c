/* Debug information from C: a compile unit, two files, a record with member
 * names, a function with a parameter, locals and a lexical scope, written as
 * an object to argv[1] (capi/tests/c_api.rs checks it with llvm-dwarfdump);
 * then each misuse with its code. */
#include "cfree.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static int failures = 0;

int main(int argc, char **argv) {
    cfree_module m;
    cfree_debug_options o;
    uint32_t unit, header;
    cfree_type i32, pair, pptr, sig;
    cfree_sym f;
    cfree_local p, s, inner;
    const char *fields[2] = {"a", "b"};
    const char *too_many[3] = {"a", "b", "c"};
    uint8_t *bytes;
    size_t len;
    FILE *out;

    REQUIRE(argc == 2, "usage: debug OUTPUT.o");
    CHECK(cfree_cg_module_new("dbg", "x86_64-unknown-linux-gnu", &m));
    memset(&o, 0, sizeof o);
    o.language = CFREE_LANG_C11;
    o.producer = "capi debug.c";
    o.file = "pair.c";
    o.directory = "/src";
    EXPECT(cfree_cg_enable_debug_info(m, NULL, &unit), CFREE_ERR_NULL_POINTER);
    o.flags = 64;
    EXPECT(cfree_cg_enable_debug_info(m, &o, &unit), CFREE_ERR_INVALID_ARGUMENT);
    o.flags = 0;
    o.language = 99;
    EXPECT(cfree_cg_enable_debug_info(m, &o, &unit), CFREE_ERR_INVALID_ARGUMENT);
    o.language = CFREE_LANG_C11;
    CHECK(cfree_cg_enable_debug_info(m, &o, &unit));
    REQUIRE(unit == 1, "unit file %u", unit);
    EXPECT(cfree_cg_enable_debug_info(m, &o, &unit), 801);
    CHECK(cfree_cg_debug_file(m, "pair.h", "/src/include", &header));
    REQUIRE(header == 2, "header file %u", header);
    EXPECT(cfree_cg_set_loc(m, 3, 1, 1), 802);

    CHECK(cfree_cg_ty_int(m, 32, &i32));
    {
        cfree_type two[2];
        two[0] = i32;
        two[1] = i32;
        CHECK(cfree_cg_ty_record(m, two, 2, &pair));
    }
    EXPECT(cfree_cg_describe_type(m, pair, "Pair", too_many, 3, CFREE_ENC_DEFAULT), 804);
    EXPECT(cfree_cg_describe_type(m, i32, "int", NULL, 0, 42), CFREE_ERR_INVALID_ARGUMENT);
    CHECK(cfree_cg_describe_type(m, pair, "Pair", fields, 2, CFREE_ENC_DEFAULT));
    CHECK(cfree_cg_describe_type(m, i32, "int", NULL, 0, CFREE_ENC_SIGNED));
    CHECK(cfree_cg_ty_ptr(m, pair, 0, &pptr));
    CHECK(cfree_cg_set_loc(m, header, 4, 1));
    CHECK(cfree_cg_ty_func(m, &pptr, 1, 1, i32, 0, &sig));
    CHECK(cfree_cg_declare_func(m, "sum_pair", sig, CFREE_LINKAGE_EXTERNAL, &f));
    CHECK(cfree_cg_set_loc(m, unit, 10, 1));
    CHECK(cfree_cg_func_begin(m, f));
    EXPECT(cfree_cg_scope_end(m), 805);
    CHECK(cfree_cg_param_slot(m, 0, "p", &p));
    CHECK(cfree_cg_set_loc(m, unit, 11, 5));
    CHECK(cfree_cg_local_slot(m, i32, "s", 0, &s));
    CHECK(cfree_cg_push_local(m, s));
    CHECK(cfree_cg_push_local(m, p));
    CHECK(cfree_cg_load(m, pptr, 0));
    CHECK(cfree_cg_deref(m, pair));
    CHECK(cfree_cg_addr_offset(m, 0, i32));
    CHECK(cfree_cg_load(m, i32, 0));
    CHECK(cfree_cg_push_local(m, p));
    CHECK(cfree_cg_load(m, pptr, 0));
    CHECK(cfree_cg_deref(m, pair));
    CHECK(cfree_cg_addr_offset(m, 4, i32));
    CHECK(cfree_cg_load(m, i32, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_store(m, i32, 0));
    CHECK(cfree_cg_set_loc(m, unit, 12, 5));
    CHECK(cfree_cg_scope_begin(m));
    CHECK(cfree_cg_set_loc(m, unit, 13, 9));
    CHECK(cfree_cg_local_slot(m, i32, "doubled", 0, &inner));
    CHECK(cfree_cg_push_local(m, inner));
    CHECK(cfree_cg_push_local(m, s));
    CHECK(cfree_cg_load(m, i32, 0));
    CHECK(cfree_cg_push_local(m, s));
    CHECK(cfree_cg_load(m, i32, 0));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_store(m, i32, 0));
    CHECK(cfree_cg_set_loc(m, unit, 14, 9));
    CHECK(cfree_cg_push_local(m, inner));
    CHECK(cfree_cg_load(m, i32, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_scope_end(m));
    CHECK(cfree_cg_func_end(m));
    EXPECT(cfree_cg_scope_begin(m), 101);
    EXPECT(cfree_cg_describe_type(m, i32, "long", NULL, 0, CFREE_ENC_DEFAULT), 803);
    CHECK(cfree_cg_emit_object(m, CFREE_O0, &bytes, &len));
    out = fopen(argv[1], "wb");
    REQUIRE(out != NULL && fwrite(bytes, 1, len, out) == len && fclose(out) == 0, "writing %s", argv[1]);
    cfree_bytes_free(bytes, len);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("debug ok\n");
    return 0;
}
