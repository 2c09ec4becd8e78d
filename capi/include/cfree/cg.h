/* cfree-llvm C API: the CG emitter, cfree_cg_* (doc/capi.md, doc/architecture.md).
 *
 * A module is an emitter with its own LLVM context; it belongs to the thread
 * that created it. Types, symbols, labels and locals (cfree_type, cfree_sym,
 * cfree_label, cfree_local) are handles of the module (or open function)
 * that made them; the emitter checks they are its own. Function bodies are
 * emitted through a value stack: push operands, apply operations, branch
 * between labels; "pops X, then Y" lists operands top first.
 */
#ifndef CFREE_CG_H
#define CFREE_CG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

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
#define CFREE_FM_REASSOC 1u
#define CFREE_FM_NNAN 2u
#define CFREE_FM_NINF 4u
#define CFREE_FM_NSZ 8u
#define CFREE_FM_ARCP 16u
#define CFREE_FM_CONTRACT 32u
#define CFREE_FM_AFN 64u
#define CFREE_FM_FAST 127u

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
/* cfree_access only: its `addr_space` field is set (else: the operand's). */
#define CFREE_MEM_ADDR_SPACE 8u

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

/* Modules: `triple` NULL = the host. Freeing a module drops everything
 * emitted into it; emission and publish consume it instead. */
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

/* Slot flags (doc/architecture.md): without ADDRESS_TAKEN, taking the slot's
 * address is refused (513); the others describe the slot to debug info. */
#define CFREE_SLOT_ADDRESS_TAKEN 1u
#define CFREE_SLOT_ARTIFICIAL 2u
#define CFREE_SLOT_OPTIMIZED_OUT 4u
#define CFREE_SLOT_COMPILER_TEMP 8u
int cfree_cg_local_slot_ex(cfree_module m, cfree_type ty, const char *name, uint32_t align, uint32_t flags,
                           cfree_local *out);
/* Parameter `index`'s slot with CFREE_SLOT_* flags (without ADDRESS_TAKEN a
 * parameter is SSA after this call). */
int cfree_cg_param_slot_ex(cfree_module m, uint32_t index, const char *name, uint32_t flags, cfree_local *out);
int cfree_cg_local_flags(cfree_module m, cfree_local local, uint32_t *out);
/* Entries on the open function's value stack. */
int cfree_cg_stack_depth(cfree_module m, size_t *out);

/* Checks (doc/runtime.md): `check` pops an i1 and branches to `handler` when it
 * is 1, keeping the rest of the stack; `check_nonnull` branches when the
 * pointer on top (kept) is null, as a faulting access in the trap table when
 * `implicit` is nonzero and the target folds it. */
int cfree_cg_check(cfree_module m, cfree_label handler);
int cfree_cg_check_nonnull(cfree_module m, cfree_label handler, int implicit);

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

/* Output: `level` CFREE_O0..CFREE_OS; consumes the module (unless an argument
 * is rejected before it is touched). The buffer is the caller's. */
int cfree_cg_emit_object(cfree_module m, int level, uint8_t **bytes, size_t *len);

/* ---- Enumerations of the extended calls ---- */

enum { CFREE_VIS_DEFAULT = 0, CFREE_VIS_HIDDEN, CFREE_VIS_PROTECTED };
/* GC roles of functions (doc/gc.md). A CFREE_GC_RUNTIME function is defined
 * by the host and receives the managed caller's frame pointer (the "entry")
 * as an extra FIRST argument: `T f(uint64_t entry_fp, <declared params>)`. */
enum { CFREE_GC_NONE = 0, CFREE_GC_SAFEPOINTS, CFREE_GC_LEAF, CFREE_GC_RUNTIME };
enum { CFREE_RETAIN_NO = 0, CFREE_RETAIN_COMPILER, CFREE_RETAIN_LINKER };
enum {
    CFREE_COMDAT_ANY = 0,
    CFREE_COMDAT_EXACT_MATCH,
    CFREE_COMDAT_LARGEST,
    CFREE_COMDAT_NO_DEDUPLICATE,
    CFREE_COMDAT_SAME_SIZE
};
/* cfree_data_decl.tls: 0 = not thread-local. */
enum {
    CFREE_TLS_NONE = 0,
    CFREE_TLS_GENERAL_DYNAMIC,
    CFREE_TLS_LOCAL_DYNAMIC,
    CFREE_TLS_INITIAL_EXEC,
    CFREE_TLS_LOCAL_EXEC
};
/* cfree_func_decl.frame_pointer: 0 = the module's default. */
enum { CFREE_FP_DEFAULT = 0, CFREE_FP_NONE, CFREE_FP_NON_LEAF, CFREE_FP_ALL };
enum {
    CFREE_CONV_C = 0,
    CFREE_CONV_SYSV64,
    CFREE_CONV_WIN64,
    CFREE_CONV_FAST,
    CFREE_CONV_COLD,
    CFREE_CONV_TAIL,
    CFREE_CONV_PRESERVE_MOST,
    CFREE_CONV_PRESERVE_ALL
};
enum { CFREE_EXT_NONE = 0, CFREE_EXT_SIGN, CFREE_EXT_ZERO };
enum { CFREE_TAIL_NONE = 0, CFREE_TAIL_TAIL, CFREE_TAIL_NOTAIL };
enum { CFREE_IUNARY_CLZ = 0, CFREE_IUNARY_CTZ, CFREE_IUNARY_POPCOUNT, CFREE_IUNARY_BSWAP, CFREE_IUNARY_BITREVERSE };
enum {
    CFREE_CHECKED_SADD = 0,
    CFREE_CHECKED_UADD,
    CFREE_CHECKED_SSUB,
    CFREE_CHECKED_USUB,
    CFREE_CHECKED_SMUL,
    CFREE_CHECKED_UMUL,
    CFREE_CHECKED_SDIV,
    CFREE_CHECKED_UDIV,
    CFREE_CHECKED_SREM,
    CFREE_CHECKED_UREM
};
enum { CFREE_SCOPE_SYSTEM = 0, CFREE_SCOPE_SINGLE_THREAD };
enum { CFREE_PTR_STRONG = 0, CFREE_PTR_WEAK };
enum { CFREE_INIT_CONSTRUCTOR = 0, CFREE_INIT_DESTRUCTOR };
enum { CFREE_EMIT_OBJECT = 0, CFREE_EMIT_ASSEMBLY, CFREE_EMIT_IR };
enum {
    CFREE_ARCH_X86_64 = 0,
    CFREE_ARCH_X86,
    CFREE_ARCH_AARCH64,
    CFREE_ARCH_ARM,
    CFREE_ARCH_RISCV64,
    CFREE_ARCH_RISCV32,
    CFREE_ARCH_WASM32,
    CFREE_ARCH_WASM64,
    CFREE_ARCH_OTHER
};
enum { CFREE_OBJ_ELF = 0, CFREE_OBJ_MACHO, CFREE_OBJ_COFF, CFREE_OBJ_WASM, CFREE_OBJ_OTHER };
enum { CFREE_TARGET_TRIPLE = 0, CFREE_TARGET_CPU, CFREE_TARGET_FEATURES };
/* Capabilities (cfree_cg_target_supports) and their `arg`. */
enum {
    CFREE_CAP_GC_SAFEPOINTS = 0,   /* arg 0 */
    CFREE_CAP_CALL_CONV,           /* arg CFREE_CONV_* */
    CFREE_CAP_NEST,                /* arg 0 */
    CFREE_CAP_GUARANTEED_TAIL_CALLS,
    CFREE_CAP_STACK_PROBES,
    CFREE_CAP_HARDWARE_FLOAT,      /* arg 32 or 64 */
    CFREE_CAP_AGGREGATES_BY_VALUE,
    CFREE_CAP_VISIBILITY,          /* arg CFREE_VIS_* */
    CFREE_CAP_LINKAGE,             /* arg CFREE_LINKAGE_* */
    CFREE_CAP_COMDAT,              /* arg CFREE_COMDAT_* */
    CFREE_CAP_TLS,                 /* arg CFREE_TLS_* minus 1 (0 = general dynamic) */
    CFREE_CAP_SECTIONS,
    CFREE_CAP_ALIASES,
    CFREE_CAP_INIT_FINI_PRIORITY,
    CFREE_CAP_INT_WIDTH,           /* arg bits */
    CFREE_CAP_ATOMIC_BITS,         /* arg bits */
    CFREE_CAP_FAST_UNALIGNED
};

/* Function attributes (cfree_func_decl.attrs). */
#define CFREE_FN_NORETURN 1u
#define CFREE_FN_COLD 2u
#define CFREE_FN_HOT 4u
#define CFREE_FN_NOINLINE 8u
#define CFREE_FN_ALWAYSINLINE 16u
#define CFREE_FN_OPTSIZE 32u
#define CFREE_FN_MINSIZE 64u
#define CFREE_FN_NO_RED_ZONE 128u
#define CFREE_FN_STACK_PROBES 256u
#define CFREE_FN_NAKED 512u
/* Parameter facts (cfree_param.flags); pointer facts on pointers only. */
#define CFREE_PARAM_NOALIAS 1u
#define CFREE_PARAM_NOCAPTURE 2u
#define CFREE_PARAM_READONLY 4u
#define CFREE_PARAM_WRITEONLY 8u
#define CFREE_PARAM_NONNULL 16u
#define CFREE_PARAM_INREG 32u
#define CFREE_PARAM_NEST 64u
/* Data flags (cfree_data_decl.flags). */
#define CFREE_DATA_READONLY 1u
#define CFREE_DATA_MERGEABLE 2u
/* Initializer pieces (cfree_data_piece.kind). */
enum { CFREE_PIECE_BYTES = 0, CFREE_PIECE_ZEROS, CFREE_PIECE_RELOC, CFREE_PIECE_LABEL_ADDR };
/* cfree_gc_runtime.has. */
#define CFREE_GC_HAS_BARRIER 1u
#define CFREE_GC_HAS_POLL 2u
#define CFREE_GC_HAS_INLINE 4u

/* ---- Descriptors (zero-initialise, then set what you need) ---- */

/* A memory access (doc/semantics.md): type, alignment (0 = natural),
 * CFREE_MEM_* flags, address space (with CFREE_MEM_ADDR_SPACE), alias scopes
 * from cfree_cg_alias_scope (0 = none). */
typedef struct cfree_access {
    cfree_type ty;
    uint32_t align;
    uint32_t flags;
    uint32_t addr_space;
    uint32_t alias_scope;
    uint32_t noalias_scope;
} cfree_access;

/* A parameter or result with its ABI facts (doc/abi.md). */
typedef struct cfree_param {
    cfree_type ty;
    int ext;        /* CFREE_EXT_* */
    uint32_t flags; /* CFREE_PARAM_* */
    uint64_t dereferenceable;
    uint64_t dereferenceable_or_null;
    uint64_t align;
} cfree_param;

/* A function declaration (doc/symbols.md). Strings may be NULL; they are copied. */
typedef struct cfree_func_decl {
    cfree_type sig;
    int linkage;       /* CFREE_LINKAGE_* */
    int visibility;    /* CFREE_VIS_* */
    int gc;            /* CFREE_GC_* */
    uint32_t attrs;    /* CFREE_FN_* */
    uint32_t stack_align;
    int frame_pointer; /* CFREE_FP_* */
    int retain;        /* CFREE_RETAIN_* */
    int comdat_kind;   /* CFREE_COMDAT_*, with `comdat` */
    const char *comdat;
    const char *section;
    const char *display_name;
    const char *target_cpu;
    const char *target_features;
    const char *partition; /* ELF loadable partition (doc/symbols.md), or NULL */
    /* A prologue stack check for growable stacks (doc/stacks.md), when
     * stack_check_grow is nonzero: the function compares its stack pointer
     * with the pointer-sized limit at parameter stack_check_param plus
     * stack_check_offset bytes and, below it, calls stack_check_grow (a
     * `void(ptr resume, ptr frame)` C function that must run resume(frame)
     * on a larger stack); stack_check_id is that call's stack map ID. */
    cfree_sym stack_check_grow;
    uint32_t stack_check_param;
    uint32_t stack_check_offset;
    uint64_t stack_check_id;
} cfree_func_decl;

/* A data declaration (doc/symbols.md). */
typedef struct cfree_data_decl {
    cfree_type ty;
    int linkage;    /* CFREE_LINKAGE_* */
    int visibility; /* CFREE_VIS_* */
    uint32_t flags; /* CFREE_DATA_* */
    uint32_t align; /* 0 = natural */
    int tls;        /* CFREE_TLS_* */
    int retain;     /* CFREE_RETAIN_* */
    int comdat_kind;
    const char *comdat;
    const char *section;
    const char *display_name;
    const char *partition; /* ELF loadable partition (doc/symbols.md), or NULL */
} cfree_data_decl;

/* One piece of a data initializer: BYTES (`bytes`, `size`), ZEROS (`size`),
 * RELOC (a pointer-sized slot holding `target` + `addend`), LABEL_ADDR (the
 * address of `label` of the open function). */
typedef struct cfree_data_piece {
    int kind;
    const uint8_t *bytes;
    uint64_t size;
    cfree_sym target;
    int64_t addend;
    cfree_label label;
    uint32_t addr_space; /* RELOC: address space of the stored pointer (0 = ordinary) */
} cfree_data_piece;

/* The runtime functions behind managed operations (doc/gc.md): `alloc`
 * (descriptor, size) -> ptr addrspace(1); `write_barrier` (object, offset,
 * value, kind), called after managed pointer stores; `poll`, called by
 * cfree_cg_safepoint; `inline_buffer`, a [next, limit] data symbol for inline
 * bump allocation with `header_bytes` (0 or 8), or 0 when every allocation
 * passes its buffer's address (cfree_cg_gc_alloc_in). */
typedef struct cfree_gc_runtime {
    cfree_sym alloc;
    cfree_sym write_barrier;
    cfree_sym poll;
    cfree_sym inline_buffer;
    uint32_t has; /* CFREE_GC_HAS_* */
    uint32_t header_bytes;
} cfree_gc_runtime;

/* Numeric facts of a module's target. int_* index i1, i8, i16, i32, i64, i128. */
typedef struct cfree_target_info {
    int arch;          /* CFREE_ARCH_* */
    int object_format; /* CFREE_OBJ_* */
    int big_endian;
    uint32_t max_atomic_bits;
    uint64_t pointer_size;
    uint64_t pointer_align;
    uint64_t int_size[6];
    uint64_t int_align[6];
    uint64_t f32_size;
    uint64_t f32_align;
    uint64_t f64_size;
    uint64_t f64_align;
    uint64_t red_zone_bytes;
} cfree_target_info;

/* ---- Types, layout and the target ---- */
int cfree_cg_ty_array(cfree_module m, cfree_type elem, uint64_t count, cfree_type *out);
int cfree_cg_ty_record_aligned(cfree_module m, const cfree_type *fields, size_t n, uint64_t align, cfree_type *out);
/* `result` NULL: no result. `conv`: CFREE_CONV_*. */
int cfree_cg_ty_func_ex(cfree_module m, const cfree_param *params, size_t n, const cfree_param *result, int variadic,
                        int conv, cfree_type *out);
int cfree_cg_layout(cfree_module m, cfree_type ty, uint64_t *size, uint64_t *align);
int cfree_cg_field_offset(cfree_module m, cfree_type record, size_t index, uint64_t *out);
int cfree_cg_target_info(cfree_module m, cfree_target_info *out);
/* Copies CFREE_TARGET_* string `which` into `buf` (at most `cap` bytes with
 * the NUL, truncated; `buf` may be NULL if `cap` is 0); `*len` = full length. */
int cfree_cg_target_string(cfree_module m, int which, char *buf, size_t cap, size_t *len);
/* `*out` = 1 if the target supports CFREE_CAP_* `what` with `arg`, else 0. */
int cfree_cg_target_supports(cfree_module m, int what, int64_t arg, int *out);

/* ---- Symbols and data ---- */
int cfree_cg_declare_func_ex(cfree_module m, const char *name, const cfree_func_decl *decl, cfree_sym *out);
int cfree_cg_declare_data(cfree_module m, const char *name, const cfree_data_decl *decl, cfree_sym *out);
/* Pieces in address order; their sizes must add up to the type's size. */
int cfree_cg_define_data(cfree_module m, cfree_sym sym, const cfree_data_piece *pieces, size_t n);
int cfree_cg_declare_alias(cfree_module m, const char *name, cfree_sym target, int linkage, int visibility,
                           cfree_sym *out);
/* `kind`: CFREE_INIT_*; `func` is `void (void)`. */
int cfree_cg_add_init_fini(cfree_module m, int kind, cfree_sym func, uint32_t priority);
/* CFREE_ERR_NOT_FOUND if the module declares no `name`. */
int cfree_cg_symbol_by_name(cfree_module m, const char *name, cfree_sym *out);

/* ---- Control flow ---- */
/* Pops an integer; `values[i]` branches to `labels[i]`, others to `default_label`. */
int cfree_cg_switch(cfree_module m, cfree_label default_label, const int64_t *values, const cfree_label *labels,
                    size_t n);
/* Pushes the address of `label` (placed in this function). */
int cfree_cg_push_label_addr(cfree_module m, cfree_label label);
/* Pops a label address and jumps there; `labels` lists every possible target. */
int cfree_cg_indirect_br(cfree_module m, const cfree_label *labels, size_t n);
int cfree_cg_unreachable(cfree_module m);
/* Drops the open function's body; it stays declared. */
int cfree_cg_func_abandon(cfree_module m);

/* ---- Constants and operations ---- */
int cfree_cg_push_int128(cfree_module m, cfree_type ty, int64_t hi, uint64_t lo);
int cfree_cg_push_zero(cfree_module m, cfree_type ty);
int cfree_cg_push_null(cfree_module m, cfree_type ptr_ty);
int cfree_cg_int_unop(cfree_module m, int op);
/* Pushes the result, then an i1 that is 1 on overflow (or an undefined division). */
int cfree_cg_checked(cfree_module m, int op);
int cfree_cg_fma(cfree_module m, uint32_t fast_math);
int cfree_cg_freeze(cfree_module m);
/* Pushes the result, then an i1 that is 1 when the conversion was not exact. */
int cfree_cg_cast_checked(cfree_module m, int op, cfree_type to);

/* ---- Memory ---- */
int cfree_cg_load_access(cfree_module m, const cfree_access *a);
int cfree_cg_store_access(cfree_module m, const cfree_access *a);
/* Pops the source address, then the destination; `overlapping` != 0: memmove. */
int cfree_cg_memcpy(cfree_module m, uint64_t size, const cfree_access *dst, const cfree_access *src, int overlapping);
/* Pops the destination address. */
int cfree_cg_memset(cfree_module m, uint8_t value, uint64_t size, const cfree_access *dst);
int cfree_cg_alias_scope(cfree_module m, const char *name, uint32_t *out);
/* Pops the address (load) or the value, then the address (store). */
int cfree_cg_atomic_load(cfree_module m, cfree_type ty, int ordering, int scope);
int cfree_cg_atomic_store(cfree_module m, cfree_type ty, int ordering, int scope);
/* Pops a byte count; pushes an i8 pointer (`align` 0 = 16). */
int cfree_cg_alloca(cfree_module m, uint32_t align);
int cfree_cg_stack_save(cfree_module m);
int cfree_cg_stack_restore(cfree_module m);
int cfree_cg_push_global(cfree_module m, cfree_sym data);
/* Pops an index, then a place or pointer; pushes it moved by index * elem_size. */
int cfree_cg_addr_index(cfree_module m, uint64_t elem_size, cfree_type result_type);

/* ---- Calls (doc/abi.md: records by value are places of their type) ---- */
/* `tail`: CFREE_TAIL_*; `cold` != 0 marks the call rarely executed. */
int cfree_cg_call_with(cfree_module m, cfree_sym sym, uint32_t nargs, int tail, int cold);
int cfree_cg_call_indirect_with(cfree_module m, cfree_type sig, uint32_t nargs, int tail, int cold);
/* As the _with calls, promising that the callee never touches the accesses of
 * alias scope `noalias_scope` (cfree_cg_alias_scope; 0 = none): loads in that
 * scope may be kept across the call (e.g. a runtime poll and a flag only the
 * frontend's code reads). A promise: broken, the program reads stale values. */
int cfree_cg_call_scoped(cfree_module m, cfree_sym sym, uint32_t nargs, int tail, int cold, uint32_t noalias_scope);
int cfree_cg_call_indirect_scoped(cfree_module m, cfree_type sig, uint32_t nargs, int tail, int cold,
                                  uint32_t noalias_scope);
/* Guaranteed tail call + return of its result (a terminator). */
int cfree_cg_tail_call(cfree_module m, cfree_sym sym, uint32_t nargs);
int cfree_cg_tail_call_indirect(cfree_module m, cfree_type sig, uint32_t nargs);

/* ---- Variadic functions ---- */
int cfree_cg_ty_va_list(cfree_module m, cfree_type *out);
int cfree_cg_ty_va_list_param(cfree_module m, cfree_type *out);
int cfree_cg_va_list_arg(cfree_module m);
int cfree_cg_va_list_of_param(cfree_module m, cfree_local param);
int cfree_cg_va_start(cfree_module m);
int cfree_cg_va_end(cfree_module m);
int cfree_cg_va_copy(cfree_module m);
int cfree_cg_va_arg(cfree_module m, cfree_type ty);

/* ---- Garbage collection (doc/gc.md) ---- */
/* Address space 1 is the managed one: e.g. (1, 1, 1, 1) for a moving collector. */
int cfree_cg_set_address_space_policy(cfree_module m, uint32_t space, int managed, int movable, int interior);
int cfree_cg_set_gc_runtime(cfree_module m, const cfree_gc_runtime *rt);
/* Pushes a new managed object of `size` bytes. */
int cfree_cg_gc_alloc(cfree_module m, int64_t descriptor, uint64_t size);
/* The same from the allocation buffer whose address (a raw pointer) is popped
 * instead of the runtime's inline buffer symbol: one buffer per mutator
 * thread, reached through a context the frontend passes around. */
int cfree_cg_gc_alloc_in(cfree_module m, int64_t descriptor, uint64_t size);
int cfree_cg_gc_root_slot(cfree_module m, cfree_type managed_ptr_ty, const char *name, cfree_local *out);
int cfree_cg_set_safepoint_id(cfree_module m, uint64_t id);
int cfree_cg_safepoint(cfree_module m);
/* Pops a value, then a managed object; stores at object + offset; barrier for
 * managed pointers. `kind`: CFREE_PTR_*. */
int cfree_cg_managed_store(cfree_module m, const cfree_access *a, int64_t offset, int kind);

/* ---- Type table ---- */
/* The module's interned types in creation order: ids of indexes 0..count-1. */
enum { CFREE_TYPE_INT = 0, CFREE_TYPE_FLOAT, CFREE_TYPE_PTR, CFREE_TYPE_ARRAY, CFREE_TYPE_RECORD, CFREE_TYPE_FUNC };
/* cfree_cg_type_param's index of the result. */
#define CFREE_TYPE_RESULT ((size_t)-1)
typedef struct cfree_type_info {
    int kind;            /* CFREE_TYPE_* */
    uint32_t bits;       /* INT, FLOAT: width in bits */
    uint32_t addr_space; /* PTR */
    cfree_type inner;    /* PTR: pointee; ARRAY: element; otherwise 0 */
    uint64_t count;      /* ARRAY: elements; RECORD: fields; FUNC: fixed parameters */
    uint64_t min_align;  /* RECORD: requested minimum alignment (0 = natural) */
    int has_layout;      /* 1 for every kind but FUNC */
    uint64_t size;       /* with has_layout: allocation size in bytes */
    uint64_t align;      /* with has_layout: ABI alignment in bytes */
    int has_result;      /* FUNC */
    int variadic;        /* FUNC */
    int conv;            /* FUNC: CFREE_CONV_* */
} cfree_type_info;
int cfree_cg_type_count(cfree_module m, size_t *out);
/* CFREE_ERR_NOT_FOUND past the last type. */
int cfree_cg_type_at(cfree_module m, size_t index, cfree_type *out);
int cfree_cg_type_info(cfree_module m, cfree_type ty, cfree_type_info *out);
/* Field `index` of a record: its type and byte offset (CFREE_ERR_NOT_FOUND past the last). */
int cfree_cg_type_field(cfree_module m, cfree_type record, size_t index, cfree_type *ty, uint64_t *offset);
/* Parameter `index` of a function type, or its result with CFREE_TYPE_RESULT
 * (CFREE_ERR_NOT_FOUND past the last, or for the result of a void function). */
int cfree_cg_type_param(cfree_module m, cfree_type func, size_t index, cfree_param *out);
/* `*out` = 1 if a value of type `a` may be used where `b` is expected. */
int cfree_cg_type_compatible(cfree_module m, cfree_type a, cfree_type b, int *out);
/* The type's spelling in diagnostics, copied as cfree_cg_target_string does. */
int cfree_cg_type_name(cfree_module m, cfree_type ty, char *buf, size_t cap, size_t *len);
/* 0 if no function is open and every symbol that needs a definition has one
 * (what emission checks first), else that error. */
int cfree_cg_check_complete(cfree_module m);

/* ---- Inline assembly (doc/asm.md) ---- */
/* cfree_asm_block.targets bits: the architectures a block is written for. */
#define CFREE_ASM_ARCH_X86_64 1u
#define CFREE_ASM_ARCH_AARCH64 2u
#define CFREE_ASM_ARCH_RISCV64 4u
enum { CFREE_ASM_ATT = 0, CFREE_ASM_INTEL };
/* cfree_asm_block.options bits (Rust asm! options). */
#define CFREE_ASM_PURE 1u
#define CFREE_ASM_NOMEM 2u
#define CFREE_ASM_READONLY 4u
#define CFREE_ASM_PRESERVES_FLAGS 8u
#define CFREE_ASM_NOSTACK 16u
#define CFREE_ASM_NORETURN 32u
/* Operand directions: OUT may be written before every input is read
 * (earlyclobber); LATEOUT only after. INOUT/INLATEOUT outputs have the input's type. */
enum { CFREE_ASM_IN = 0, CFREE_ASM_OUT, CFREE_ASM_LATEOUT, CFREE_ASM_INOUT, CFREE_ASM_INLATEOUT };
/* Operand locations: any register of a class, a named register, or (inputs)
 * the register of output operand `tied`. */
enum { CFREE_ASM_LOC_CLASS = 0, CFREE_ASM_LOC_REG, CFREE_ASM_LOC_TIED };
/* Register classes: reg (x86-64, AArch64, riscv64), reg_abcd and xmm_reg
 * (x86-64), vreg (AArch64), freg (riscv64). */
enum { CFREE_REG_GPR = 0, CFREE_REG_ABCD, CFREE_REG_XMM, CFREE_REG_VREG, CFREE_REG_FREG };
enum { CFREE_CLOBBER_NONE = 0, CFREE_CLOBBER_C };
/* One operand; all-zero is an input in any general-purpose register. */
typedef struct cfree_asm_operand {
    int dir;         /* CFREE_ASM_IN .. CFREE_ASM_INLATEOUT */
    cfree_type ty;   /* OUT, LATEOUT: the output's type */
    int loc;         /* CFREE_ASM_LOC_* */
    int reg_class;   /* LOC_CLASS: CFREE_REG_* */
    const char *reg; /* LOC_REG: e.g. "rax", "x0", "a0" */
    uint32_t tied;   /* LOC_TIED: index of the output operand */
} cfree_asm_operand;
/* A block: `text` is the template, where {n} is operand n, {n:m} prints it
 * with modifier m, and {{ }} are braces. Strings are copied. */
typedef struct cfree_asm_block {
    uint32_t targets; /* CFREE_ASM_ARCH_* */
    const char *text;
    int dialect;      /* CFREE_ASM_ATT or CFREE_ASM_INTEL (x86-64) */
    uint32_t options; /* CFREE_ASM_* */
    const cfree_asm_operand *operands;
    size_t noperands;
    int clobber_abi;  /* CFREE_CLOBBER_* */
    const char *const *clobbers;
    size_t nclobbers;
} cfree_asm_block;
/* Pops the inputs (the last input on top), pushes the outputs in operand
 * order. Validated completely first (emitter codes 607-617). */
int cfree_cg_asm(cfree_module m, const cfree_asm_block *block);
/* Register `index` of class `reg_class` on the module's target, copied as
 * cfree_cg_target_string does; CFREE_ERR_NOT_FOUND past the last one. */
int cfree_cg_asm_register(cfree_module m, int reg_class, size_t index, char *buf, size_t cap, size_t *len);
/* Register `index` of the clobber set `abi` (CFREE_CLOBBER_C). */
int cfree_cg_asm_clobber_set(cfree_module m, int abi, size_t index, char *buf, size_t cap, size_t *len);

/* ---- Debug information (doc/debuginfo.md) ---- */
/* Source languages (cfree_debug_options.language). */
enum {
    CFREE_LANG_C89 = 0,
    CFREE_LANG_C99,
    CFREE_LANG_C11,
    CFREE_LANG_C17,
    CFREE_LANG_CPP,
    CFREE_LANG_CPP11,
    CFREE_LANG_CPP14,
    CFREE_LANG_CPP17,
    CFREE_LANG_CPP20,
    CFREE_LANG_OBJC,
    CFREE_LANG_RUST,
    CFREE_LANG_GO,
    CFREE_LANG_ZIG,
    CFREE_LANG_SWIFT,
    CFREE_LANG_D,
    CFREE_LANG_HASKELL,
    CFREE_LANG_OCAML,
    CFREE_LANG_JULIA,
    CFREE_LANG_KOTLIN,
    CFREE_LANG_JAVA,
    CFREE_LANG_PYTHON,
    CFREE_LANG_FORTRAN95,
    CFREE_LANG_CRYSTAL,
    CFREE_LANG_MOJO,
    CFREE_LANG_ASSEMBLY
};
/* cfree_debug_options.flags. */
#define CFREE_DEBUG_DWARF4 1u           /* DWARF 4 instead of 5 */
#define CFREE_DEBUG_OPTIMIZED 2u        /* a hint for debuggers */
#define CFREE_DEBUG_NO_LINKAGE_NAMES 4u /* no DW_AT_linkage_name beside display names */
/* Scalar encodings (cfree_cg_describe_type); DEFAULT keeps the type's own. */
enum {
    CFREE_ENC_DEFAULT = 0,
    CFREE_ENC_SIGNED,
    CFREE_ENC_UNSIGNED,
    CFREE_ENC_BOOLEAN,
    CFREE_ENC_FLOAT,
    CFREE_ENC_SIGNED_CHAR,
    CFREE_ENC_UNSIGNED_CHAR
};
typedef struct cfree_debug_options {
    int language;          /* CFREE_LANG_* */
    const char *producer;  /* may be NULL */
    const char *file;      /* the primary source file */
    const char *directory; /* the compilation directory; may be NULL */
    uint32_t flags;        /* CFREE_DEBUG_* */
} cfree_debug_options;
/* Turns on DWARF for the module: defined functions, named parameter and local
 * slots, data definitions and their types are described as they are emitted.
 * `*file` is the unit file's id (file ids are dense from 1). */
int cfree_cg_enable_debug_info(cfree_module m, const cfree_debug_options *options, uint32_t *file);
/* Registers a source file; accepted with debug information off too. */
int cfree_cg_debug_file(cfree_module m, const char *name, const char *directory, uint32_t *out);
/* The position of what is emitted from here on, and of declarations made now
 * (file 0 or line 0: no position of its own). */
int cfree_cg_set_loc(cfree_module m, uint32_t file, uint32_t line, uint32_t column);
/* A lexical scope of the open function (scopes still open end with it). */
int cfree_cg_scope_begin(cfree_module m);
int cfree_cg_scope_end(cfree_module m);
/* Decorates `ty` before its first use in debug information: a source name
 * (may be NULL), member names of a record, a scalar encoding (CFREE_ENC_*). */
int cfree_cg_describe_type(cfree_module m, cfree_type ty, const char *name, const char *const *fields, size_t nfields,
                           int encoding);

/* ---- Emission ---- */
/* Finishes the module and emits CFREE_EMIT_* `kind` at `level` (IR and
 * assembly after the `level` pipeline). Text is NUL-terminated (the NUL not
 * counted in `*len`). Consumes the module; free the buffer with cfree_bytes_free. */
int cfree_cg_emit(cfree_module m, int kind, int level, uint8_t **bytes, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* CFREE_CG_H */
