/* cfree-llvm C API (doc/capi.md): the CG emitter (cfree/cg.h), the JIT
 * (cfree/jit.h) and safepoints for C runtimes (cfree/statepoint.h), over the
 * conventions of cfree/common.h (status codes, per-thread error record,
 * integer handles never reused, ownership, threads). Include this file. */
#ifndef CFREE_H
#define CFREE_H

#include "cfree/common.h"
#include "cfree/cg.h"
#include "cfree/statepoint.h"
#include "cfree/jit.h"

#endif /* CFREE_H */
