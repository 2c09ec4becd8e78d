/* cfree-llvm C API: what every part shares (doc/capi.md). Include "cfree.h".
 *
 * Conventions
 * - Every function returns a status: 0 on success, else an error code
 *   (doc/errors.md for the emitter's codes 101-903, LLVM backend 1001-1006,
 *   JIT 1-14; this API's own 2001-2006 below). The details of the last error
 *   on the calling thread are read with cfree_error_*(); the strings stay
 *   valid until the next call on that thread.
 * - Objects are integer handles. A handle that was never issued, was freed,
 *   belongs to another thread (modules), or is of another kind is an error
 *   (CFREE_ERR_UNKNOWN_HANDLE), never undefined behaviour. Handles are never
 *   reused.
 * - Threads: a module belongs to the thread that created it (its LLVM context
 *   is not shared); a JIT and a statepoint table may be used from any thread.
 * - Ownership: nothing returned is borrowed from the caller. Buffers from
 *   cfree_cg_emit_object / cfree_cg_emit are the caller's, freed with
 *   cfree_bytes_free; error strings belong to the library (valid until the
 *   next call on the thread); strings the caller passes are copied.
 * - Out-parameters are written only on success unless a function says
 *   otherwise.
 * - Zero-initialised descriptor structs (`cfree_func_decl d = {0};`) mean
 *   "the defaults"; set only the fields you need.
 */
#ifndef CFREE_COMMON_H
#define CFREE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CFREE_VERSION 2u

typedef uint64_t cfree_module;
typedef uint64_t cfree_jit;
typedef uint64_t cfree_type;
typedef uint64_t cfree_sym;
typedef uint64_t cfree_label;
typedef uint64_t cfree_local;
typedef uint64_t cfree_statepoint_table;

/* This API's own error codes. */
#define CFREE_ERR_NULL_POINTER 2001     /* a required pointer is null */
#define CFREE_ERR_UNKNOWN_HANDLE 2002   /* never issued, freed, foreign thread, other kind */
#define CFREE_ERR_NOT_FOUND 2003        /* no such symbol, safepoint, function at a PC, entry */
#define CFREE_ERR_INVALID_ARGUMENT 2004 /* enum out of range, undefined bits, non-UTF-8, bad section */
#define CFREE_ERR_PANIC 2005            /* an internal panic caught at the boundary (a bug) */
#define CFREE_ERR_UNSUPPORTED 2006      /* not available on this host (frame walks off x86-64/AArch64) */

/* Optimisation levels (emission and publish). */
enum { CFREE_O0 = 0, CFREE_O1, CFREE_O2, CFREE_O3, CFREE_OS };

/* Version and errors. Thread-safe; the error record is per thread. */
uint32_t cfree_version(void);
/* 0 if this library serves programs built with CFREE_VERSION `header_version`,
 * else CFREE_ERR_INVALID_ARGUMENT. Call it once at start-up. */
int cfree_abi_check(uint32_t header_version);
int cfree_error_code(void);
const char *cfree_error_message(void);
const char *cfree_error_call(void);
const char *cfree_error_function(void);
const char *cfree_error_operand(void);

/* Frees a buffer from cfree_cg_emit_object or cfree_cg_emit (NULL is
 * ignored; `len` is not needed). A pointer that is not a live buffer of this
 * library (a double free) is ignored and leaves CFREE_ERR_UNKNOWN_HANDLE in
 * the error record. Thread-safe. */
void cfree_bytes_free(uint8_t *bytes, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* CFREE_COMMON_H */
