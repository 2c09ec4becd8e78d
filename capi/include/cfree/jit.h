/* cfree-llvm C API: the in-process JIT, cfree_jit_* (doc/jit.md, doc/capi.md).
 *
 * A JIT may be used from any thread: publish and replace from one while
 * others call published code and query the registry. Publishing consumes
 * the module. Exported functions are called through stable entries
 * (cfree_jit_lookup): publishing a function of the same name again replaces
 * its body (same signature required); frames already running finish in the
 * old body. Direct calls to a function of CFREE_VIS_PROTECTED visibility
 * from its own unit bind to its body (LLVM may inline them) and keep it
 * after a replacement; everyone else, and its address, use the entry
 * (doc/jit.md, "Protected functions"). A replaced unit may be retired,
 * then reclaimed once no frame runs its code (the embedder's proof; vetoes
 * can refuse). Each publish creates a generation. JIT code must not run
 * after cfree_jit_free.
 */
#ifndef CFREE_JIT_H
#define CFREE_JIT_H

#include "common.h"
#include "statepoint.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cfree_jit_new_ex flags. */
#define CFREE_JIT_PERF_MAP 1u /* append functions to /tmp/perf-<pid>.map for perf */
#define CFREE_JIT_DEBUGGER 2u /* register published code with debuggers (gdb JIT interface) */
#define CFREE_JIT_JITDUMP 4u  /* write perf's jit-<pid>.dump in $JITDUMPDIR or the temp directory */

enum { CFREE_UNIT_ACTIVE = 0, CFREE_UNIT_REPLACED, CFREE_UNIT_RETIRED, CFREE_UNIT_RECLAIMED };

typedef struct cfree_published {
    uint64_t unit;       /* the new unit */
    uint64_t generation; /* the generation it created */
    size_t replaced;     /* exported functions whose body it replaced */
} cfree_published;

typedef struct cfree_function_info {
    uint64_t start; /* first byte */
    uint64_t end;   /* one past the last */
    uint64_t generation;
    uint64_t unit;
} cfree_function_info;

typedef struct cfree_symbol_info {
    uint64_t entry; /* the stable entry (cfree_jit_lookup) */
    uint64_t cell;  /* the cell holding the active body's address */
    uint64_t body;  /* the active body */
    uint64_t generation;
    uint64_t unit;
} cfree_symbol_info;

typedef struct cfree_unit_info {
    uint64_t generation;
    int state; /* CFREE_UNIT_* */
    size_t nranges;
    uint64_t code_bytes;
    size_t nactive_exports;
} cfree_unit_info;

typedef struct cfree_publish_stats {
    uint64_t published;
    uint64_t failed;
    size_t compiling;
    size_t max_concurrent_compiles;
} cfree_publish_stats;

/* Non-zero keeps retired unit `unit` from being reclaimed. Called on the
 * thread running cfree_jit_reclaim; must not call the JIT. */
typedef int (*cfree_reclaim_veto_fn)(void *ctx, uint64_t unit, uint64_t generation);

/* JIT for the host. Publishing consumes the module (`level` CFREE_O0..OS). */
int cfree_jit_new(cfree_jit *out);
int cfree_jit_new_ex(uint32_t flags, cfree_jit *out);
int cfree_jit_publish(cfree_jit jit, cfree_module m, int level);
/* As cfree_jit_publish; `out` (may be NULL) says what it did. A failed
 * publish leaves the JIT as it was. */
int cfree_jit_publish_ex(cfree_jit jit, cfree_module m, int level, cfree_published *out);
/* The stable entry of exported function `name` (JIT error 10 if none). */
int cfree_jit_lookup(cfree_jit jit, const char *name, const void **out);
/* Scalar classes of an exported function's signature. */
enum { CFREE_SCALAR_NONE = 0, CFREE_SCALAR_INT, CFREE_SCALAR_FLOAT, CFREE_SCALAR_PTR };
typedef struct cfree_scalar {
    int kind;      /* CFREE_SCALAR_* (NONE only as a result) */
    uint32_t bits; /* INT: 1, 8, 16, 32, 64, 128; FLOAT: 32, 64; PTR: the address space */
} cfree_scalar;
/* cfree_jit_lookup, if `name`'s signature is exactly `params` -> `result`
 * (`result` NULL or NONE: no result); JIT error 4 otherwise, and for variadic
 * functions. Cast the entry to the matching C function pointer type. */
int cfree_jit_lookup_typed(cfree_jit jit, const char *name, const cfree_scalar *params, size_t n,
                           const cfree_scalar *result, const void **out);
/* `name`'s signature: up to `cap` parameter classes (all counted in `*n`),
 * the result (NONE for none) and whether it is variadic. */
int cfree_jit_signature(cfree_jit jit, const char *name, cfree_scalar *params, size_t cap, size_t *n,
                        cfree_scalar *result, int *variadic);
int cfree_jit_free(cfree_jit jit);
int cfree_jit_triple(cfree_jit jit, char *buf, size_t cap, size_t *len);
/* Lets JIT code refer to host function or object `name` at `address`. */
int cfree_jit_define_host_symbol(cfree_jit jit, const char *name, const void *address);

/* Generations and code lifetime. */
int cfree_jit_generation(cfree_jit jit, uint64_t *out);
int cfree_jit_retire(cfree_jit jit, uint64_t unit);
/* Releases retired units no veto keeps: up to `cap` ids into `units`, all counted in `*n`. */
int cfree_jit_reclaim(cfree_jit jit, uint64_t *units, size_t cap, size_t *n);
int cfree_jit_add_reclaim_veto(cfree_jit jit, cfree_reclaim_veto_fn veto, void *ctx);
int cfree_jit_publish_stats(cfree_jit jit, cfree_publish_stats *out);

/* Registry queries (lock-free snapshots; CFREE_ERR_NOT_FOUND when absent). */
int cfree_jit_function_at(cfree_jit jit, uint64_t pc, cfree_function_info *out);
/* The trap table (doc/runtime.md): if `pc` is an implicit null check's faulting
 * access (cfree_cg_check_nonnull with `implicit`), where execution resumes; a
 * host's SIGSEGV handler sets the interrupted PC to it. Safe to call from that
 * handler on the faulting thread. CFREE_ERR_NOT_FOUND otherwise. */
int cfree_jit_trap_at(cfree_jit jit, uint64_t pc, uint64_t *handler);
/* Object names: bodies of exported functions are `name.cfree.u<unit>`. */
int cfree_jit_function_name_at(cfree_jit jit, uint64_t pc, char *buf, size_t cap, size_t *len);
int cfree_jit_symbol_info(cfree_jit jit, const char *name, cfree_symbol_info *out);
int cfree_jit_unit_info(cfree_jit jit, uint64_t unit, cfree_unit_info *out);
int cfree_jit_safepoint_count(cfree_jit jit, size_t *out);
int cfree_jit_safepoint(cfree_jit jit, size_t index, cfree_safepoint_info *out);
int cfree_jit_safepoint_at(cfree_jit jit, uint64_t pc, cfree_safepoint_info *out);
int cfree_jit_safepoint_slots(cfree_jit jit, uint64_t pc, cfree_live_pointer *live, size_t live_cap, cfree_slot *roots,
                              size_t roots_cap);

/* A moving collector's view of the stack (cfree/statepoint.h): `entry_fp`
 * is the first argument a CFREE_GC_RUNTIME function received, and the call
 * must happen while that function runs, on its thread. */
int cfree_jit_walk_frames(cfree_jit jit, uint64_t entry_fp, cfree_frame *out, size_t cap, size_t *n);
/* Rewrites every live managed pointer and root above each entry of
 * `entry_fps` (innermost first) with `forward`; called once per distinct
 * object, in increasing old-address order, before any slot is written. */
int cfree_jit_gc_relocate(cfree_jit jit, const uint64_t *entry_fps, size_t n, cfree_forward_fn forward, void *ctx,
                          size_t *frames);

#ifdef __cplusplus
}
#endif

#endif /* CFREE_JIT_H */
