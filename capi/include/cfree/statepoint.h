/* cfree-llvm C API: safepoints for runtimes written in C (doc/gc.md, doc/capi.md).
 *
 * Managed functions (CFREE_GC_SAFEPOINTS) record, at every call that may
 * collect, which frame slots hold managed pointers. A runtime function
 * (CFREE_GC_RUNTIME) receives the frame pointer of its entry trampoline as
 * its first argument; from it, the managed frames are found by following
 * frame records while each return address has a safepoint. A moving
 * collector then rewrites every slot with the new address of its object
 * (cfree_jit_gc_relocate / cfree_statepoint_table_relocate), derived
 * pointers keeping their offset. Frame walks exist on x86-64 and AArch64.
 *
 * Tables built here from an AOT object's `.llvm_stackmaps` are immutable and
 * may be used from any thread; the JIT's registry answers the same queries
 * (cfree/jit.h).
 */
#ifndef CFREE_STATEPOINT_H
#define CFREE_STATEPOINT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { CFREE_SP_ARCH_X86_64 = 0, CFREE_SP_ARCH_AARCH64 };
/* A slot is at [frame.sp + offset] (CFREE_SLOT_SP) or [frame.fp + offset] (CFREE_SLOT_FP). */
enum { CFREE_SLOT_SP = 0, CFREE_SLOT_FP };

/* One decoded safepoint. */
typedef struct cfree_safepoint_info {
    uint64_t pc;         /* the return address it describes */
    uint64_t id;         /* cfree_cg_set_safepoint_id's ID, or 0xABCDEF00 */
    size_t nlive;        /* live (base, derived) pointer pairs */
    size_t nroots;       /* explicit root slots (cfree_cg_gc_root_slot) */
    uint64_t frame_size; /* the function's fixed frame size, if has_frame_size */
    int has_frame_size;
} cfree_safepoint_info;

typedef struct cfree_slot {
    int base; /* CFREE_SLOT_* */
    int32_t offset;
} cfree_slot;

/* A managed pointer live across a safepoint: the slot of its object's base
 * and the slot of the (possibly interior) pointer in use. */
typedef struct cfree_live_pointer {
    cfree_slot base;
    cfree_slot derived;
} cfree_live_pointer;

/* A managed frame found by a walk, innermost first. */
typedef struct cfree_frame {
    uint64_t pc; /* return address into the frame's function */
    uint64_t sp; /* base of CFREE_SLOT_SP slots */
    uint64_t fp; /* base of CFREE_SLOT_FP slots */
} cfree_frame;

/* The collector's new address of the object whose base was `old_base`
 * (return it unchanged for objects that do not move). Must not call back
 * into this library's relocation. */
typedef uint64_t (*cfree_forward_fn)(void *ctx, uint64_t old_base);

/* The number of functions in a `.llvm_stackmaps` section (how many addresses
 * cfree_statepoint_table_new needs). CFREE_ERR_INVALID_ARGUMENT if malformed. */
int cfree_statepoint_function_count(const uint8_t *section, size_t len, size_t *out);
/* Builds a table from a `.llvm_stackmaps` section of CFREE_SP_ARCH_* `arch`,
 * given each function's start address in section order (the addresses the
 * linker gave them). `keep_other` != 0 keeps non-statepoint records as
 * entries without a safepoint; 0 refuses them. The section is copied. */
int cfree_statepoint_table_new(const uint8_t *section, size_t len, int arch, const uint64_t *function_addresses,
                               size_t nfuncs, int keep_other, cfree_statepoint_table *out);
int cfree_statepoint_table_free(cfree_statepoint_table t);
int cfree_statepoint_table_len(cfree_statepoint_table t, size_t *out);
/* Entry `index` in PC order. A kept non-statepoint record returns
 * CFREE_ERR_NOT_FOUND but still fills `pc` and `id` (counts 0). */
int cfree_statepoint_table_entry(cfree_statepoint_table t, size_t index, cfree_safepoint_info *out);
int cfree_statepoint_table_safepoint_at(cfree_statepoint_table t, uint64_t pc, cfree_safepoint_info *out);
/* Copies up to `live_cap` live pointers and `roots_cap` root slots. */
int cfree_statepoint_table_slots(cfree_statepoint_table t, uint64_t pc, cfree_live_pointer *live, size_t live_cap,
                                 cfree_slot *roots, size_t roots_cap);
/* Up to `cap` frames above runtime entry `entry_fp` into `out`; `*n` = all of them. */
int cfree_statepoint_table_walk(cfree_statepoint_table t, uint64_t entry_fp, cfree_frame *out, size_t cap, size_t *n);
/* Relocates the frames above each of `entry_fps` (innermost entry first);
 * `*frames` (may be NULL) = frames seen. */
int cfree_statepoint_table_relocate(cfree_statepoint_table t, const uint64_t *entry_fps, size_t n,
                                    cfree_forward_fn forward, void *ctx, size_t *frames);

#ifdef __cplusplus
}
#endif

#endif /* CFREE_STATEPOINT_H */
