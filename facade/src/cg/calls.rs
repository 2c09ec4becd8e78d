//! Direct and indirect calls, guaranteed tail calls, and which calls are GC
//! safepoints. Records and arrays travel by value as places: an argument is
//! copied from a place of its type, a result is written to a destination place
//! pushed before everything else (`doc/abi.md`).

use super::func::Entry;
use crate::*;

/// Where a call's operands lie on the value stack.
struct Operands {
    /// Arguments (first argument deepest).
    nargs: usize,
    /// An indirect callee's pointer lies below the arguments.
    indirect: bool,
    /// A destination place for an aggregate result lies below everything.
    dest: bool,
}

impl Operands {
    fn needed(&self) -> usize {
        self.nargs + usize::from(self.indirect) + usize::from(self.dest)
    }
}

impl<B: Backend> crate::Cg<B> {
    /// Calls `callee` with the top `nargs` values as arguments (first argument
    /// pushed first). An indirect callee's pointer lies below the arguments.
    /// Pushes the result, if the signature has a scalar one.
    ///
    /// A record or array parameter takes a place of its type (copied: the callee
    /// cannot change it). A record or array result is written to a destination
    /// place of its type that lies below everything else (and the call pushes
    /// nothing). Variadic extras are scalar values or places of aggregates.
    pub fn call(&mut self, callee: Callee, nargs: u32) -> Result<()> {
        self.call_with(callee, nargs, CallAttrs::default())
    }

    /// [`Self::call`] with call-site attributes.
    pub fn call_with(&mut self, callee: Callee, nargs: u32, attrs: CallAttrs) -> Result<()> {
        self.emit_call("call", callee, nargs, attrs, false)
    }

    /// A guaranteed tail call (LLVM `musttail`) followed by the return of its
    /// result: a terminator, like [`Self::ret`]. The stack holds exactly the
    /// call's operands. Caller and callee must have the same convention and,
    /// unless it is [`CallConv::Tail`], the same prototype; nothing may be
    /// passed in memory; see [`MustTailProblem`] for every refusal. The callee
    /// must not use the caller's stack slots (their frame is gone).
    pub fn tail_call(&mut self, callee: Callee, nargs: u32) -> Result<()> {
        self.emit_call("tail_call", callee, nargs, CallAttrs::default(), true)
    }

    fn emit_call(
        &mut self,
        call: &'static str,
        callee: Callee,
        nargs: u32,
        attrs: CallAttrs,
        must: bool,
    ) -> Result<()> {
        self.begin_op(call)?;
        if attrs.noalias_scope > self.alias_scopes {
            let e = ErrorKind::ForeignHandle { what: HandleKind::AliasScope, handle: u64::from(attrs.noalias_scope) };
            return Err(self.ferr(call, e).operand("noalias scope"));
        }
        let sig_ty = self.callee_sig(call, callee)?;
        let Some(sig) = self.types.func_sig(sig_ty) else {
            return Err(self.mismatch(call, "signature", Expected::Function, sig_ty));
        };
        let is_safepoint = self.func.managed && !self.is_leaf_callee(callee);
        if sig.variadic && sig.result.is_some() && is_safepoint {
            // LLVM's statepoints cannot wrap such calls (its verifier rejects them).
            let e = ErrorKind::Unsupported(Unimplemented::VariadicSafepointWithResult);
            return Err(self.ferr(call, e).operand("callee"));
        }
        let n = nargs as usize;
        let fixed = sig.params.len();
        if n < fixed || (n > fixed && !sig.variadic) {
            return Err(self.ferr(call, ErrorKind::ArgumentCount { expected: fixed, found: n, variadic: sig.variadic }));
        }
        let result = sig.result.map(|r| r.ty);
        let aggregate_result = result.filter(|r| !self.types.is_scalar(*r));
        let ops = Operands {
            nargs: n,
            indirect: matches!(callee, Callee::Indirect(_)),
            dest: aggregate_result.is_some() && !must,
        };
        let needed = ops.needed();
        self.check_depth(call, needed)?;
        if must {
            self.check_tail_call(call, callee, sig_ty, is_safepoint)?;
            self.require_empty_stack(call, needed)?;
        }
        let mut args = Vec::with_capacity(n);
        let mut arg_types = Vec::with_capacity(n);
        let base = self.func.stack.len() - n;
        let mut aggregate_arg = None;
        for i in 0..n {
            let param = sig.params.get(i).map(|p| p.ty);
            // Fast path for scalars without building operand names; errors take the checked path.
            let fast = match (self.func.stack[base + i], param) {
                (Entry::Value { ty, v }, Some(p)) if self.types.compatible(ty, p) => Some((p, v)),
                (Entry::Value { ty, v }, None) if self.types.is_scalar(ty) => Some((ty, v)),
                _ => None,
            };
            let (ty, v) = match fast {
                Some(tv) => tv,
                None => self.checked_arg(call, needed, n - 1 - i, i, param)?,
            };
            if !self.types.is_scalar(ty) {
                aggregate_arg = aggregate_arg.or(Some(ty));
            }
            args.push(v);
            arg_types.push(ty);
        }
        if is_safepoint {
            if let Some(ty) = aggregate_arg.or(aggregate_result) {
                let e = ErrorKind::Unsupported(Unimplemented::AggregateAtSafepoint(self.types.name(ty)));
                return Err(self.ferr(call, e).operand("callee"));
            }
        }
        let callee_ptr = if ops.indirect {
            let a = self.peek_addr(call, needed, n)?;
            if a.is_place {
                let e = ErrorKind::WrongValueCategory { expected: Category::FunctionPointer, found: Category::Place };
                return Err(self.ferr(call, e).operand("callee"));
            }
            Some(a.addr)
        } else {
            None
        };
        let dest = match aggregate_result {
            Some(ty) if ops.dest => Some(self.peek_aggregate(call, needed, needed - 1, "destination", ty)?),
            _ => None,
        };
        self.ensure_block(call)?;
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
        let site = CallSite {
            args: &args,
            arg_types: &arg_types,
            dest,
            attrs,
            must_tail: must,
            safepoint: safepoint.as_ref(),
        };
        let out = match (callee, callee_ptr) {
            (Callee::Direct(sym), _) => self.backend.call_direct(sym, &site),
            (Callee::Indirect(ty), Some(p)) => self.backend.call_indirect(ty, p, &site),
            (Callee::Indirect(_), None) => unreachable!("indirect callee was validated"),
        };
        self.func.live_scratch = live;
        let out = self.lowered(call, out)?;
        if is_safepoint {
            self.func.safepoint_id = None;
        }
        self.pop_n(needed);
        if must {
            self.func.stack.clear();
            self.terminate();
            return Ok(());
        }
        if let (Some(ty), Some(v)) = (result, out) {
            if aggregate_result.is_none() {
                self.push_value(ty, v);
            }
        }
        Ok(())
    }

    /// The function type of `callee`.
    fn callee_sig(&self, call: &'static str, callee: Callee) -> Result<TypeId> {
        match callee {
            Callee::Direct(sym) => {
                self.check_sym(call, sym).map_err(|e| e.in_function(self.func.name.clone()))?;
                match &self.syms[sym.index()].kind {
                    SymbolKind::Func(d) => Ok(d.sig),
                    SymbolKind::Data(_) => {
                        let name = self.syms[sym.index()].name.clone();
                        let e = ErrorKind::WrongSymbolKind { name, expected: SymbolClass::Function };
                        Err(self.ferr(call, e))
                    }
                }
            }
            Callee::Indirect(ty) => {
                self.check_type(call, ty, "signature")?;
                Ok(ty)
            }
        }
    }

    /// Argument `index`, `from_top` below the top: a value of the parameter's
    /// scalar type, a place of its aggregate type, or for a variadic extra a
    /// scalar value or an aggregate place.
    fn checked_arg(
        &self,
        call: &'static str,
        needed: usize,
        from_top: usize,
        index: usize,
        param: Option<TypeId>,
    ) -> Result<(TypeId, B::Value)> {
        let operand = format!("argument {index}");
        match param {
            Some(p) if self.types.is_scalar(p) => Ok((p, self.peek_value(call, needed, from_top, &operand, Some(p))?)),
            Some(p) => Ok((p, self.peek_aggregate(call, needed, from_top, &operand, p)?)),
            None => match self.entry(from_top) {
                Entry::Place { ty, .. } if !self.types.is_scalar(ty) => {
                    Ok((ty, self.peek_aggregate(call, needed, from_top, &operand, ty)?))
                }
                _ => {
                    let (ty, v) = self.peek_typed(call, needed, from_top, &operand, None)?;
                    if !self.types.is_scalar(ty) {
                        return Err(self.mismatch(call, &operand, Expected::Scalar, ty));
                    }
                    Ok((ty, v))
                }
            },
        }
    }

    /// The address of a place of aggregate type `ty` in address space 0.
    pub(crate) fn peek_aggregate(
        &self,
        call: &'static str,
        needed: usize,
        from_top: usize,
        operand: &str,
        ty: TypeId,
    ) -> Result<B::Value> {
        self.check_depth(call, needed)?;
        match self.entry(from_top) {
            Entry::Place { ty: found, addr_space, addr, .. } => {
                if !self.types.compatible(found, ty) {
                    return Err(self.mismatch(call, operand, Expected::Type(self.types.name(ty)), found));
                }
                if addr_space != 0 {
                    let e = ErrorKind::AddressSpaceMismatch { access: 0, pointer: addr_space };
                    return Err(self.ferr(call, e).operand(operand));
                }
                Ok(addr)
            }
            Entry::Value { .. } => {
                Err(self.ferr(call, ErrorKind::AggregateNotPlace { ty: self.types.name(ty) }).operand(operand))
            }
        }
    }

    /// The facade's part of the `musttail` rules; the backend checks the ABI's.
    fn check_tail_call(
        &self,
        call: &'static str,
        callee: Callee,
        callee_sig: TypeId,
        is_safepoint: bool,
    ) -> Result<()> {
        let problem = |p: MustTailProblem| Err(self.ferr(call, ErrorKind::MustTail { problem: p }));
        if !self.target.supports_guaranteed_tail_calls() {
            let e = ErrorKind::UnsupportedOnTarget {
                feature: TargetFeature::GuaranteedTailCall,
                triple: self.target.triple.clone(),
            };
            return Err(self.ferr(call, e));
        }
        if let Callee::Direct(sym) = callee {
            if matches!(&self.syms[sym.index()].kind, SymbolKind::Func(d) if d.gc == GcRole::Runtime) {
                return problem(MustTailProblem::RuntimeCallee);
            }
        }
        if is_safepoint {
            return problem(MustTailProblem::Safepoint);
        }
        let caller_sym = self.func.sym.expect("open function has a symbol");
        let SymbolKind::Func(caller) = &self.syms[caller_sym.index()].kind else { unreachable!("functions only") };
        let (Some(a), Some(b)) = (self.types.func_sig(caller.sig), self.types.func_sig(callee_sig)) else {
            unreachable!("both signatures were checked")
        };
        if a.conv != b.conv {
            return problem(MustTailProblem::ConventionMismatch);
        }
        if a.variadic != b.variadic {
            return problem(MustTailProblem::VariadicMismatch);
        }
        let same = |x: &Param, y: &Param| x.ext == y.ext && x.attrs == y.attrs && self.types.compatible(x.ty, y.ty);
        let results_match = match (&a.result, &b.result) {
            (None, None) => true,
            (Some(x), Some(y)) => same(x, y),
            _ => false,
        };
        if !results_match {
            return problem(MustTailProblem::ResultMismatch);
        }
        let prototypes_match =
            a.params.len() == b.params.len() && a.params.iter().zip(&b.params).all(|(x, y)| same(x, y));
        if !prototypes_match && a.conv != CallConv::Tail {
            return problem(MustTailProblem::PrototypeMismatch);
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
