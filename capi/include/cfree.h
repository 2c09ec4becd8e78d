/* cfree-llvm C API (doc/capi.md).
 *
 * Conventions
 * - Every function returns a status: 0 on success, else an error code
 *   (doc/errors.md for the emitter's codes 101-903, LLVM backend 1001-1006,
 *   JIT 1-14; this API's own 2001-2005 below). The details of the last error
 *   on the calling thread are read with cfree_error_*(); the strings stay
 *   valid until the next call on that thread.
 * - Objects are integer handles. A handle that was never issued, was freed,
 *   or belongs to another thread is an error (CFREE_ERR_UNKNOWN_HANDLE),
 *   never undefined behaviour. Handles are never reused.
 * - Threads: a module belongs to the thread that created it (its LLVM context
 *   is not shared); a JIT may be used from any thread.
 * - Ownership: a module is consumed by cfree_cg_emit_object and
 *   cfree_jit_publish, whether they succeed or not; the object buffer from
 *   cfree_cg_emit_object is the caller's, freed with cfree_bytes_free.
 * - Types, symbols, labels and locals (cfree_type, cfree_sym, cfree_label,
 *   cfree_local) are handles of the module (or open function) that made
 *   them; the emitter checks they are its own.
 */
#ifndef CFREE_H
#define CFREE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CFREE_VERSION 1u

typedef uint64_t cfree_module;
typedef uint64_t cfree_jit;
typedef uint64_t cfree_type;
typedef uint64_t cfree_sym;
typedef uint64_t cfree_label;
typedef uint64_t cfree_local;

/* This API's own error codes. */
#define CFREE_ERR_NULL_POINTER 2001
#define CFREE_ERR_UNKNOWN_HANDLE 2002
#define CFREE_ERR_INVALID_ARGUMENT 2004
#define CFREE_ERR_PANIC 2005

/* Linkages (cfree_cg_declare_func). */
enum {
    CFREE_LINKAGE_EXTERNAL = 0,
    CFREE_LINKAGE_INTERNAL = 1,
    CFREE_LINKAGE_WEAK = 2,
    CFREE_LINKAGE_WEAK_ODR = 3,
    CFREE_LINKAGE_LINKONCE_ODR = 4,
    CFREE_LINKAGE_EXTERN_WEAK = 5
};

/* Integer operations (cfree_cg_int_op), doc/semantics.md. */
enum {
    CFREE_INT_ADD = 0,
    CFREE_INT_SUB,
    CFREE_INT_MUL,
    CFREE_INT_AND,
    CFREE_INT_OR,
    CFREE_INT_XOR,
    CFREE_INT_SHL,
    CFREE_INT_LSHR,
    CFREE_INT_ASHR,
    CFREE_INT_SHL_MASKED,
    CFREE_INT_LSHR_MASKED,
    CFREE_INT_ASHR_MASKED,
    CFREE_INT_SDIV,
    CFREE_INT_UDIV,
    CFREE_INT_SREM,
    CFREE_INT_UREM,
    CFREE_INT_SMIN,
    CFREE_INT_SMAX,
    CFREE_INT_UMIN,
    CFREE_INT_UMAX
};

/* Integer flags (cfree_cg_int_op). */
#define CFREE_FLAG_NSW 1u
#define CFREE_FLAG_NUW 2u
#define CFREE_FLAG_EXACT 4u

/* Integer comparisons (cfree_cg_int_cmp). */
enum {
    CFREE_CMP_EQ = 0,
    CFREE_CMP_NE,
    CFREE_CMP_SLT,
    CFREE_CMP_SLE,
    CFREE_CMP_SGT,
    CFREE_CMP_SGE,
    CFREE_CMP_ULT,
    CFREE_CMP_ULE,
    CFREE_CMP_UGT,
    CFREE_CMP_UGE
};

/* Version and errors. */
uint32_t cfree_version(void);
/* 0 if this library serves programs built with CFREE_VERSION `header_version`. */
int cfree_abi_check(uint32_t header_version);
int cfree_error_code(void);
const char *cfree_error_message(void);
const char *cfree_error_call(void);
const char *cfree_error_function(void);
const char *cfree_error_operand(void);

/* Modules: `triple` NULL = the host. */
int cfree_cg_module_new(const char *name, const char *triple, cfree_module *out);
int cfree_cg_module_free(cfree_module m);

/* Types. */
int cfree_cg_ty_int(cfree_module m, uint32_t bits, cfree_type *out);
int cfree_cg_ty_float(cfree_module m, uint32_t bits, cfree_type *out);
int cfree_cg_ty_ptr(cfree_module m, cfree_type pointee, uint32_t addr_space, cfree_type *out);
int cfree_cg_ty_record(cfree_module m, const cfree_type *fields, size_t n, cfree_type *out);
int cfree_cg_ty_func(cfree_module m, const cfree_type *params, size_t n, int has_result, cfree_type result,
                     int variadic, cfree_type *out);

/* Declarations and bodies. */
int cfree_cg_declare_func(cfree_module m, const char *name, cfree_type sig, int linkage, cfree_sym *out);
int cfree_cg_func_begin(cfree_module m, cfree_sym sym);
int cfree_cg_param_slot(cfree_module m, uint32_t index, const char *name, cfree_local *out);
int cfree_cg_local_slot(cfree_module m, cfree_type ty, const char *name, uint32_t align, cfree_local *out);
int cfree_cg_new_label(cfree_module m, cfree_label *out);
int cfree_cg_place_label(cfree_module m, cfree_label label);
int cfree_cg_br(cfree_module m, cfree_label label);
int cfree_cg_cond_br(cfree_module m, cfree_label then_label, cfree_label else_label);
int cfree_cg_ret(cfree_module m);
int cfree_cg_func_end(cfree_module m);

/* The value stack (doc/architecture.md). */
int cfree_cg_push_int(cfree_module m, cfree_type ty, int64_t value);
int cfree_cg_push_local(cfree_module m, cfree_local local);
int cfree_cg_load(cfree_module m, cfree_type ty, uint32_t align);
int cfree_cg_store(cfree_module m, cfree_type ty, uint32_t align);
int cfree_cg_int_op(cfree_module m, int op, uint32_t flags);
int cfree_cg_int_cmp(cfree_module m, int pred);
int cfree_cg_call(cfree_module m, cfree_sym sym, uint32_t nargs);

/* Output: `level` 0-3; consumes the module. */
int cfree_cg_emit_object(cfree_module m, int level, uint8_t **bytes, size_t *len);
void cfree_bytes_free(uint8_t *bytes, size_t len);

/* JIT for the host. Publishing consumes the module. */
int cfree_jit_new(cfree_jit *out);
int cfree_jit_publish(cfree_jit jit, cfree_module m, int level);
int cfree_jit_lookup(cfree_jit jit, const char *name, const void **out);
int cfree_jit_free(cfree_jit jit);

#ifdef __cplusplus
}
#endif

#endif /* CFREE_H */
