//! Direct and indirect calls, and which calls are GC safepoints.

use super::func::Entry;
use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Calls `callee` with the top `nargs` values as arguments (first argument
    /// pushed first). An indirect callee's pointer lies below the arguments.
    /// Pushes the result, if the signature has one.
    pub fn call(&mut self, callee: Callee, nargs: u32) -> Result<()> {
        const CALL: &str = "call";
        self.begin_op(CALL)?;
        let sig_ty = match callee {
            Callee::Direct(sym) => {
                self.check_sym(CALL, sym).map_err(|e| e.in_function(self.func.name.clone()))?;
                match &self.syms[sym.index()].kind {
                    SymbolKind::Func(d) => d.sig,
                    SymbolKind::Data(_) => {
                        let name = self.syms[sym.index()].name.clone();
                        let e = ErrorKind::WrongSymbolKind { name, expected: SymbolClass::Function };
                        return Err(self.ferr(CALL, e));
                    }
                }
            }
            Callee::Indirect(ty) => {
                self.check_type(CALL, ty, "signature")?;
                ty
            }
        };
        let Some(sig) = self.types.func_sig(sig_ty) else {
            return Err(self.mismatch(CALL, "signature", Expected::Function, sig_ty));
        };
        if sig.variadic && sig.result.is_some() && self.func.managed && !self.is_leaf_callee(callee) {
            // LLVM's statepoints cannot wrap such calls (its verifier rejects them).
            let e = ErrorKind::Unsupported(Unimplemented::VariadicSafepointWithResult);
            return Err(self.ferr(CALL, e).operand("callee"));
        }
        let n = nargs as usize;
        let fixed = sig.params.len();
        if n < fixed || (n > fixed && !sig.variadic) {
            return Err(self.ferr(CALL, ErrorKind::ArgumentCount { expected: fixed, found: n, variadic: sig.variadic }));
        }
        let indirect = matches!(callee, Callee::Indirect(_));
        let needed = n + usize::from(indirect);
        self.check_depth(CALL, needed)?;
        let mut args = Vec::with_capacity(n);
        let base = self.func.stack.len() - n;
        for i in 0..n {
            // Fast path without building operand names; errors take the checked path below.
            let fast = match (self.func.stack[base + i], sig.params.get(i)) {
                (Entry::Value { ty, v }, Some(p)) if self.types.compatible(ty, p.ty) => Some(v),
                (Entry::Value { ty, v }, None) if self.types.is_scalar(ty) => Some(v),
                _ => None,
            };
            if let Some(v) = fast {
                args.push(v);
                continue;
            }
            let from_top = n - 1 - i;
            let operand = format!("argument {i}");
            let v = match sig.params.get(i) {
                Some(p) => self.peek_value(CALL, needed, from_top, &operand, Some(p.ty))?,
                None => {
                    let (ty, v) = self.peek_typed(CALL, needed, from_top, &operand, None)?;
                    if !self.types.is_scalar(ty) {
                        return Err(self.mismatch(CALL, &operand, Expected::Scalar, ty));
                    }
                    v
                }
            };
            args.push(v);
        }
        let callee_ptr = if indirect {
            let a = self.peek_addr(CALL, needed, n)?;
            if a.is_place {
                return Err(self
                    .ferr(
                        CALL,
                        ErrorKind::WrongValueCategory { expected: Category::FunctionPointer, found: Category::Place },
                    )
                    .operand("callee"));
            }
            Some(a.addr)
        } else {
            None
        };
        let result = sig.result.map(|r| r.ty);
        self.ensure_block(CALL)?;
        let is_safepoint = self.func.managed && !self.is_leaf_callee(callee);
        let mut live = std::mem::take(&mut self.func.live_scratch);
        live.clear();
        if is_safepoint {
            let below = &self.func.stack[..self.func.stack.len() - needed];
            live.extend(below.iter().filter_map(|e| match *e {
                Entry::Value { ty, v } if self.is_managed_ptr(ty) => Some(v),
                Entry::Place { addr_space, addr, .. } if Some(addr_space) == self.managed_space => Some(addr),
                _ => None,
            }));
        }
        let safepoint = is_safepoint.then(|| Safepoint {
            id: self.func.safepoint_id,
            roots: &self.func.gc_roots,
            live: &live,
            managed_slots: &self.func.managed_slots,
        });
        let out = match (callee, callee_ptr) {
            (Callee::Direct(sym), _) => self.backend.call_direct(sym, &args, safepoint.as_ref()),
            (Callee::Indirect(ty), Some(p)) => self.backend.call_indirect(ty, p, &args, safepoint.as_ref()),
            (Callee::Indirect(_), None) => unreachable!("indirect callee was validated"),
        };
        self.func.live_scratch = live;
        let out = self.lowered(CALL, out)?;
        if is_safepoint {
            self.func.safepoint_id = None;
        }
        self.pop_n(needed);
        if let (Some(ty), Some(v)) = (result, out) {
            self.push_value(ty, v);
        }
        Ok(())
    }

    /// Whether a call of `callee` is not a safepoint (a `GcRole::Leaf` function).
    fn is_leaf_callee(&self, callee: Callee) -> bool {
        match callee {
            Callee::Direct(sym) => {
                matches!(&self.syms[sym.index()].kind, SymbolKind::Func(d) if d.gc == crate::GcRole::Leaf)
            }
            Callee::Indirect(_) => false,
        }
    }

    /// Whether `ty` is an integer type (a convenience for frontends).
    pub fn is_int(&self, ty: TypeId) -> bool {
        self.types.check(ty).is_ok() && matches!(self.types.kind(ty), TypeKind::Int(_))
    }
}
