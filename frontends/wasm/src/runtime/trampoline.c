/* The one piece of the wasm runtime written in C: entering compiled wasm code
 * with a resume point, and leaving it on a trap.
 *
 * cfree_wasm_invoke() records a jump buffer and calls an entry wrapper
 * (void wrapper(void *vmctx, uint64_t *vals)). Compiled code that traps calls
 * cfree_wasm_trap(code), which longjmps back to the innermost invoke: only
 * frames of compiled wasm code (no destructors, no unwind tables needed) and
 * host functions that called back into wasm lie between them. The invoke
 * returns the trap code (0 when the call returned normally).
 *
 * The stack limit: compiled functions compare the stack pointer with
 * cfree_wasm_stack_limit in their prologue and trap with code 8 (call stack
 * exhausted) below it. The outermost invoke sets it to its own frame minus
 * `budget` bytes and clears it when it returns. */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

typedef void (*cfree_wasm_wrapper)(void *vmctx, uint64_t *vals);

/* Read by compiled code: the lowest stack address it may run at. */
uint64_t cfree_wasm_stack_limit;

static __thread jmp_buf *current;

int32_t cfree_wasm_invoke(cfree_wasm_wrapper f, void *vmctx, uint64_t *vals, uint64_t budget) {
    jmp_buf buf;
    jmp_buf *volatile prev = current;
    volatile int outermost = cfree_wasm_stack_limit == 0;
    if (outermost) {
        uintptr_t here = (uintptr_t)__builtin_frame_address(0);
        cfree_wasm_stack_limit = here > budget ? here - budget : 1;
    }
    current = &buf;
    int code = _setjmp(buf);
    if (code == 0) {
        f(vmctx, vals);
    }
    current = prev;
    if (outermost) {
        cfree_wasm_stack_limit = 0;
    }
    return code;
}

void cfree_wasm_trap(int32_t code) {
    if (current == 0 || code == 0) {
        abort(); /* compiled wasm code runs only inside cfree_wasm_invoke */
    }
    _longjmp(*current, code);
}
