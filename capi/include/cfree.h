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

/* Float operations (cfree_cg_float_op), unary ones (cfree_cg_float_unop), comparisons. */
enum {
    CFREE_FLOAT_ADD = 0,
    CFREE_FLOAT_SUB,
    CFREE_FLOAT_MUL,
    CFREE_FLOAT_DIV,
    CFREE_FLOAT_REM,
    CFREE_FLOAT_COPYSIGN,
    CFREE_FLOAT_MINNUM,
    CFREE_FLOAT_MAXNUM,
    CFREE_FLOAT_MINIMUM,
    CFREE_FLOAT_MAXIMUM
};
enum {
    CFREE_FUNARY_NEG = 0,
    CFREE_FUNARY_ABS,
    CFREE_FUNARY_SQRT,
    CFREE_FUNARY_FLOOR,
    CFREE_FUNARY_CEIL,
    CFREE_FUNARY_TRUNC,
    CFREE_FUNARY_ROUND,
    CFREE_FUNARY_ROUND_EVEN
};
enum {
    CFREE_FCMP_OEQ = 0,
    CFREE_FCMP_OGT,
    CFREE_FCMP_OGE,
    CFREE_FCMP_OLT,
    CFREE_FCMP_OLE,
    CFREE_FCMP_ONE,
    CFREE_FCMP_ORD,
    CFREE_FCMP_UEQ,
    CFREE_FCMP_UGT,
    CFREE_FCMP_UGE,
    CFREE_FCMP_ULT,
    CFREE_FCMP_ULE,
    CFREE_FCMP_UNE,
    CFREE_FCMP_UNO
};
/* Fast-math bits (0 = strict IEEE), doc/semantics.md. */
#define CFREE_FM_NONE 0u

/* Conversions (cfree_cg_cast). */
enum {
    CFREE_CAST_SEXT = 0,
    CFREE_CAST_ZEXT,
    CFREE_CAST_TRUNC,
    CFREE_CAST_PTR_TO_INT,
    CFREE_CAST_INT_TO_PTR,
    CFREE_CAST_FP_EXT,
    CFREE_CAST_FP_TRUNC,
    CFREE_CAST_SI_TO_FP,
    CFREE_CAST_UI_TO_FP,
    CFREE_CAST_FP_TO_SI,
    CFREE_CAST_FP_TO_UI,
    CFREE_CAST_FP_TO_SI_SAT,
    CFREE_CAST_FP_TO_UI_SAT,
    CFREE_CAST_BITCAST
};

/* Memory flags (cfree_cg_load_ex, cfree_cg_store_ex). */
#define CFREE_MEM_VOLATILE 1u
#define CFREE_MEM_NONTEMPORAL 2u
#define CFREE_MEM_INVARIANT 4u

/* Atomic read-modify-write operations and orderings. */
enum {
    CFREE_RMW_XCHG = 0,
    CFREE_RMW_ADD,
    CFREE_RMW_SUB,
    CFREE_RMW_AND,
    CFREE_RMW_OR,
    CFREE_RMW_XOR,
    CFREE_RMW_NAND,
    CFREE_RMW_SMIN,
    CFREE_RMW_SMAX,
    CFREE_RMW_UMIN,
    CFREE_RMW_UMAX,
    CFREE_RMW_FADD,
    CFREE_RMW_FSUB,
    CFREE_RMW_FMIN,
    CFREE_RMW_FMAX
};
enum {
    CFREE_ORDER_RELAXED = 0,
    CFREE_ORDER_ACQUIRE,
    CFREE_ORDER_RELEASE,
    CFREE_ORDER_ACQ_REL,
    CFREE_ORDER_SEQ_CST
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

/* Floats, conversions and choice. */
int cfree_cg_push_f64(cfree_module m, double value);
int cfree_cg_push_f32(cfree_module m, float value);
int cfree_cg_float_op(cfree_module m, int op, uint32_t fast_math);
int cfree_cg_float_unop(cfree_module m, int op, uint32_t fast_math);
int cfree_cg_float_cmp(cfree_module m, int pred, uint32_t fast_math);
int cfree_cg_cast(cfree_module m, int op, cfree_type to);
int cfree_cg_select(cfree_module m);

/* Stack shuffles and addresses. */
int cfree_cg_discard(cfree_module m);
int cfree_cg_dup(cfree_module m);
int cfree_cg_swap(cfree_module m);
int cfree_cg_addr_of(cfree_module m);
int cfree_cg_deref(cfree_module m, cfree_type ty);
int cfree_cg_addr_offset(cfree_module m, int64_t offset, cfree_type result_type);
int cfree_cg_push_sym_addr(cfree_module m, cfree_sym sym);
int cfree_cg_call_indirect(cfree_module m, cfree_type sig, uint32_t nargs);

/* Memory facts and atomics (system scope). */
int cfree_cg_load_ex(cfree_module m, cfree_type ty, uint32_t align, uint32_t flags);
int cfree_cg_store_ex(cfree_module m, cfree_type ty, uint32_t align, uint32_t flags);
int cfree_cg_atomic_rmw(cfree_module m, int op, cfree_type ty, int ordering);
int cfree_cg_cmpxchg(cfree_module m, cfree_type ty, int success, int failure);
int cfree_cg_fence(cfree_module m, int ordering);

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
