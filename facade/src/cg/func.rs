//! Function bodies: begin/end, slots, labels and terminators.
//!
//! Block discipline: the value stack must be empty at every label and
//! terminator, because stack values are SSA values of one block. Code emitted
//! after a terminator, before the next label, goes into a fresh block that
//! nothing can branch to; at `func_end` such a block is closed as unreachable,
//! while a reachable open block is a "falls off the end" error.

use crate::*;

/// The largest total size of a function's fixed stack slots (1 GiB). Larger
/// frames are refused here rather than reaching a backend's own frame limits.
pub(crate) const MAX_FRAME_BYTES: u64 = 1 << 30;

/// A value-stack entry: an rvalue, or a place (lvalue) given by its address.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry<V> {
    Value {
        ty: TypeId,
        v: V,
    },
    /// `origin`: the local slot the place lies in when that slot is declared
    /// without `SlotFlags::ADDRESS_TAKEN` (its address must not be taken).
    Place {
        ty: TypeId,
        addr_space: u32,
        addr: V,
        origin: Option<u32>,
    },
}

impl<V: Copy> Entry<V> {
    pub(crate) fn category(&self) -> Category {
        match self {
            Entry::Value { .. } => Category::Value,
            Entry::Place { .. } => Category::Place,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockState {
    /// A block that may be reachable is open.
    Open,
    /// The last block was terminated; nothing is open.
    Terminated,
    /// Code after a terminator is going into a block no label names.
    Dead,
}

#[derive(Debug)]
pub(crate) struct LocalInfo<V> {
    pub(crate) ty: TypeId,
    pub(crate) addr: V,
    pub(crate) flags: crate::SlotFlags,
}

#[derive(Debug)]
pub(crate) struct LabelInfo<Bk> {
    pub(crate) block: Bk,
    pub(crate) placed: bool,
    pub(crate) used: bool,
}

/// The open function. Its vectors are reused from one function to the next.
#[derive(Debug)]
pub(crate) struct FuncState<B: Backend> {
    pub(crate) owner: u32,
    pub(crate) sym: Option<Sym>,
    pub(crate) name: String,
    pub(crate) result: Option<Param>,
    pub(crate) param_count: usize,
    pub(crate) locals: Vec<LocalInfo<B::Value>>,
    pub(crate) labels: Vec<LabelInfo<B::Block>>,
    pub(crate) stack: Vec<Entry<B::Value>>,
    pub(crate) block: BlockState,
    /// Whether the function is managed (`GcRole::Safepoints`).
    pub(crate) managed: bool,
    /// Whether the function's signature is variadic (`va_start` applies).
    pub(crate) variadic: bool,
    /// Whether the function is naked (`FuncAttrs::naked`): inline assembly only.
    pub(crate) naked: bool,
    /// Addresses of the explicit root slots, reported at every later safepoint.
    pub(crate) gc_roots: Vec<B::Value>,
    /// Addresses of the other slots of managed pointer type (see [`crate::Safepoint`]).
    pub(crate) managed_slots: Vec<B::Value>,
    /// Managed pointers live across the safepoint being lowered (reused buffer).
    pub(crate) live_scratch: Vec<B::Value>,
    /// Bytes of fixed stack slots so far, bounded by [`MAX_FRAME_BYTES`].
    pub(crate) frame_bytes: u64,
    /// Case values of the switch being lowered (reused buffer).
    pub(crate) case_scratch: Vec<u128>,
    /// The ID the next safepoint's stack map record carries.
    pub(crate) safepoint_id: Option<u64>,
    scratch: Vec<B::Value>,
    unused_blocks: Vec<B::Block>,
}

impl<B: Backend> FuncState<B> {
    pub(crate) fn new() -> Self {
        Self {
            owner: 0,
            sym: None,
            name: String::new(),
            result: None,
            param_count: 0,
            locals: Vec::new(),
            labels: Vec::new(),
            stack: Vec::new(),
            block: BlockState::Terminated,
            managed: false,
            variadic: false,
            naked: false,
            gc_roots: Vec::new(),
            managed_slots: Vec::new(),
            live_scratch: Vec::new(),
            frame_bytes: 0,
            case_scratch: Vec::new(),
            safepoint_id: None,
            scratch: Vec::new(),
            unused_blocks: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        self.sym.is_some()
    }

    fn reset(&mut self) {
        self.sym = None;
        self.name.clear();
        self.locals.clear();
        self.labels.clear();
        self.stack.clear();
        self.block = BlockState::Terminated;
        self.managed = false;
        self.variadic = false;
        self.naked = false;
        self.gc_roots.clear();
        self.managed_slots.clear();
        self.frame_bytes = 0;
        self.safepoint_id = None;
    }
}

impl<B: Backend> crate::Cg<B> {
    /// An error for `call` in the open function (if any).
    pub(crate) fn ferr(&self, call: &'static str, kind: impl Into<ErrorKind>) -> Error {
        let e = Error::new(call, kind);
        if self.func.is_open() {
            e.in_function(self.func.name.clone())
        } else {
            e
        }
    }

    /// A function must be open, and not naked (whose body is inline assembly only).
    #[inline]
    pub(crate) fn require_open(&self, call: &'static str) -> Result<()> {
        if self.func.is_open() && !self.func.naked {
            return Ok(());
        }
        Err(self.not_open(call))
    }

    #[cold]
    #[inline(never)]
    fn not_open(&self, call: &'static str) -> Error {
        match self.require_open_naked_ok(call) {
            Err(e) => e,
            Ok(()) => self.ferr(call, ErrorKind::NakedFunctionBody),
        }
    }

    /// A function must be open; it may be naked (`asm`, `unreachable`, ending the body).
    #[inline]
    pub(crate) fn require_open_naked_ok(&self, call: &'static str) -> Result<()> {
        if !self.func.is_open() {
            return Err(Error::new(call, ErrorKind::NoOpenFunction));
        }
        Ok(())
    }

    /// Opens a block for instructions if the last one was terminated.
    #[inline]
    pub(crate) fn ensure_block(&mut self, call: &'static str) -> Result<()> {
        if self.func.block == BlockState::Terminated {
            return self.open_dead_block(call);
        }
        Ok(())
    }

    /// Code after a terminator goes into a block nothing branches to.
    #[cold]
    fn open_dead_block(&mut self, call: &'static str) -> Result<()> {
        let b = self.backend.new_block();
        let b = self.lowered(call, b)?;
        let placed = self.backend.place_block(b, false);
        self.lowered(call, placed)?;
        self.func.block = BlockState::Dead;
        Ok(())
    }

    pub(crate) fn require_empty_stack(&self, call: &'static str, keep: usize) -> Result<()> {
        let extra = self.func.stack.len().saturating_sub(keep);
        if extra > 0 {
            return Err(self.ferr(call, ErrorKind::StackNotEmpty { count: extra }));
        }
        Ok(())
    }

    /// Starts emitting the body of function `sym`. Parameters get stack slots
    /// holding the incoming values; see [`Self::param_slot`].
    pub fn func_begin(&mut self, sym: Sym) -> Result<()> {
        const CALL: &str = "func_begin";
        if self.func.is_open() {
            return Err(self.ferr(CALL, ErrorKind::FunctionAlreadyOpen { open: self.func.name.clone() }));
        }
        self.check_sym(CALL, sym)?;
        let info = &self.syms[sym.index()];
        let SymbolKind::Func(decl) = &info.kind else {
            let e = ErrorKind::WrongSymbolKind { name: info.name.clone(), expected: SymbolClass::Function };
            return Err(Error::new(CALL, e));
        };
        if info.defined {
            return Err(Error::new(CALL, ErrorKind::DuplicateDefinition { name: info.name.clone() }));
        }
        let reason = if decl.gc == crate::GcRole::Runtime {
            Some(NoDefinitionReason::RuntimeFunction)
        } else {
            (!decl.linkage.allows_definition()).then_some(NoDefinitionReason::Linkage(decl.linkage))
        };
        if let Some(reason) = reason {
            return Err(Error::new(CALL, ErrorKind::NotDefinable { name: info.name.clone(), reason }));
        }
        let Some(sig) = self.types.func_sig(decl.sig) else {
            return Err(self.mismatch(CALL, "signature", Expected::Function, decl.sig));
        };
        if sig.variadic && (decl.gc == crate::GcRole::Safepoints || sig.conv != CallConv::C) {
            // Statepoints do not wrap variadic functions; `va_list` layouts are the C convention's.
            return Err(Error::new(CALL, ErrorKind::Unsupported(Unimplemented::VariadicDefinition))
                .in_function(info.name.clone()));
        }
        let variadic = sig.variadic;
        let naked = decl.attrs.naked;
        if naked {
            self.check_naked(decl).map_err(|k| Error::new(CALL, k).in_function(info.name.clone()))?;
        }
        // A naked function has no parameter slots: its assembly reads the registers.
        let param_types: Vec<TypeId> = if naked { Vec::new() } else { sig.params.iter().map(|p| p.ty).collect() };
        let result = sig.result;
        let managed = decl.gc == crate::GcRole::Safepoints;

        let mut slots = std::mem::take(&mut self.func.scratch);
        slots.clear();
        let begun = if naked {
            self.backend.begin_naked_function(sym)
        } else {
            self.backend.begin_function(sym, &param_types, &mut slots)
        };
        if let Err(kind) = begun {
            self.func.scratch = slots;
            return Err(Error::new(CALL, kind).in_function(self.syms[sym.index()].name.clone()));
        }
        debug_assert_eq!(slots.len(), param_types.len());
        self.func.reset();
        self.func.owner = crate::ids::next_owner();
        self.func.sym = Some(sym);
        self.func.name.push_str(&self.syms[sym.index()].name);
        self.func.result = result;
        self.func.managed = managed;
        self.func.variadic = variadic;
        self.func.naked = naked;
        self.func.param_count = param_types.len();
        for (ty, addr) in param_types.into_iter().zip(slots.drain(..)) {
            if self.is_managed_ptr(ty) {
                self.func.managed_slots.push(addr);
            }
            self.func.locals.push(LocalInfo { ty, addr, flags: crate::SlotFlags::ADDRESS_TAKEN });
        }
        self.func.scratch = slots;
        self.func.block = BlockState::Open;
        self.debug_function_begun(CALL, sym)
    }

    /// The slot of parameter `index`, named `name` (may be empty).
    pub fn param_slot(&mut self, index: u32, name: &str) -> Result<Local> {
        self.param_slot_impl("param_slot", index, name, None)
    }

    /// [`Self::param_slot`] with the slot's flags; they apply to the uses
    /// that follow (a parameter is [`SlotFlags::ADDRESS_TAKEN`] until then).
    pub fn param_slot_with(&mut self, index: u32, name: &str, flags: SlotFlags) -> Result<Local> {
        self.param_slot_impl("param_slot_with", index, name, Some(flags))
    }

    /// The flags of a parameter or local slot.
    pub fn local_flags(&self, local: Local) -> Result<SlotFlags> {
        Ok(self.check_local("local_flags", local)?.flags)
    }

    fn param_slot_impl(
        &mut self,
        call: &'static str,
        index: u32,
        name: &str,
        flags: Option<SlotFlags>,
    ) -> Result<Local> {
        self.require_open(call)?;
        let count = self.func.param_count;
        if index as usize >= count {
            return Err(self.ferr(call, ErrorKind::NoSuchParam { index, count }));
        }
        if name.contains('\0') {
            return Err(
                self.ferr(call, ErrorKind::InvalidName { name: name.into(), problem: NameProblem::ContainsNul })
            );
        }
        let addr = self.func.locals[index as usize].addr;
        if !name.is_empty() {
            self.backend.set_name(addr, name);
        }
        if let Some(flags) = flags {
            self.func.locals[index as usize].flags = flags;
        }
        let LocalInfo { ty, flags, .. } = self.func.locals[index as usize];
        self.debug_slot(call, addr, ty, name, Some(index), flags)?;
        Ok(Local::new(self.func.owner, index as usize))
    }

    /// A local stack slot of type `ty`; `align` 0 = natural alignment. Its
    /// address may be taken ([`SlotFlags::ADDRESS_TAKEN`]).
    pub fn local_slot(&mut self, ty: TypeId, name: &str, align: u32) -> Result<Local> {
        self.new_slot("local_slot", ty, name, align, SlotKind::Plain, SlotFlags::ADDRESS_TAKEN)
    }

    /// [`Self::local_slot`] with explicit flags (`doc/architecture.md`, "Slot flags").
    pub fn local_slot_with(&mut self, ty: TypeId, name: &str, align: u32, flags: SlotFlags) -> Result<Local> {
        self.new_slot("local_slot_with", ty, name, align, SlotKind::Plain, flags)
    }

    /// Validates and makes a slot: sizes are bounded per slot and per frame, so
    /// no request reaches a backend's own (fatal) frame size limits.
    pub(crate) fn new_slot(
        &mut self,
        call: &'static str,
        ty: TypeId,
        name: &str,
        align: u32,
        kind: SlotKind,
        flags: SlotFlags,
    ) -> Result<Local> {
        self.require_open(call)?;
        self.types.check(ty).map_err(|k| self.ferr(call, k).operand("type"))?;
        let Some(layout) = self.types.layout(ty) else {
            return Err(self.ferr(call, ErrorKind::Unsized { ty: self.types.name(ty) }).operand("type"));
        };
        super::check_align(call, u64::from(align)).map_err(|e| e.in_function(self.func.name.clone()))?;
        if name.contains('\0') {
            return Err(
                self.ferr(call, ErrorKind::InvalidName { name: name.into(), problem: NameProblem::ContainsNul })
            );
        }
        if layout.size > MAX_FRAME_BYTES {
            let e = ErrorKind::TooLarge { what: Quantity::LocalSize, size: layout.size.into(), limit: MAX_FRAME_BYTES };
            return Err(self.ferr(call, e).operand("type"));
        }
        let align = if align == 0 { layout.align } else { u64::from(align) };
        let frame = self.func.frame_bytes.next_multiple_of(align) + layout.size;
        if frame > MAX_FRAME_BYTES {
            let e = ErrorKind::TooLarge { what: Quantity::FrameSize, size: frame.into(), limit: MAX_FRAME_BYTES };
            return Err(self.ferr(call, e).operand("type"));
        }
        let addr = self.backend.local_slot(ty, align, name, kind);
        let addr = self.lowered(call, addr)?;
        self.func.frame_bytes = frame;
        let local = Local::new(self.func.owner, self.func.locals.len());
        match kind {
            SlotKind::GcRoot => self.func.gc_roots.push(addr),
            SlotKind::Plain if self.is_managed_ptr(ty) => self.func.managed_slots.push(addr),
            SlotKind::Plain => {}
        }
        self.func.locals.push(LocalInfo { ty, addr, flags });
        self.debug_slot(call, addr, ty, name, None, flags)?;
        Ok(local)
    }

    #[inline]
    pub(crate) fn check_local(&self, call: &'static str, local: Local) -> Result<&super::func::LocalInfo<B::Value>> {
        match self.func.locals.get(local.index()) {
            Some(info) if local.owner == self.func.owner => Ok(info),
            _ => Err(self.foreign_local(call, local)),
        }
    }

    #[cold]
    #[inline(never)]
    fn foreign_local(&self, call: &'static str, local: Local) -> Error {
        self.ferr(call, ErrorKind::ForeignHandle { what: HandleKind::Local, handle: local.to_bits() }).operand("local")
    }

    pub(crate) fn check_label(&self, call: &'static str, label: Label) -> Result<()> {
        if label.owner != self.func.owner || label.index() >= self.func.labels.len() {
            return Err(self
                .ferr(call, ErrorKind::ForeignHandle { what: HandleKind::Label, handle: label.to_bits() })
                .operand("label"));
        }
        Ok(())
    }

    /// A new label in the open function.
    pub fn new_label(&mut self) -> Result<Label> {
        const CALL: &str = "new_label";
        self.require_open(CALL)?;
        let block = self.backend.new_block();
        let block = self.lowered(CALL, block)?;
        self.func.labels.push(LabelInfo { block, placed: false, used: false });
        Ok(Label::new(self.func.owner, self.func.labels.len() - 1))
    }

    /// Places `label` here. An open block falls through to it.
    pub fn place_label(&mut self, label: Label) -> Result<()> {
        const CALL: &str = "place_label";
        self.require_open(CALL)?;
        self.check_label(CALL, label)?;
        if self.func.labels[label.index()].placed {
            return Err(self.ferr(CALL, ErrorKind::LabelPlacedTwice { label: label.index }));
        }
        self.require_empty_stack(CALL, 0)?;
        let fallthrough = self.func.block != BlockState::Terminated;
        let placed = self.backend.place_block(self.func.labels[label.index()].block, fallthrough);
        self.lowered(CALL, placed)?;
        let info = &mut self.func.labels[label.index()];
        info.placed = true;
        if fallthrough {
            info.used = true;
        }
        self.func.block = BlockState::Open;
        Ok(())
    }

    pub(crate) fn terminate(&mut self) {
        self.func.block = BlockState::Terminated;
    }

    /// Branches to `label`.
    pub fn br(&mut self, label: Label) -> Result<()> {
        const CALL: &str = "br";
        self.require_open(CALL)?;
        self.check_label(CALL, label)?;
        self.require_empty_stack(CALL, 0)?;
        self.ensure_block(CALL)?;
        let branched = self.backend.br(self.func.labels[label.index()].block);
        self.lowered(CALL, branched)?;
        self.func.labels[label.index()].used = true;
        self.terminate();
        Ok(())
    }

    /// Pops an `i1` and branches to `then` if it is 1, else to `otherwise`.
    pub fn cond_br(&mut self, then: Label, otherwise: Label) -> Result<()> {
        const CALL: &str = "cond_br";
        self.require_open(CALL)?;
        self.check_label(CALL, then)?;
        self.check_label(CALL, otherwise)?;
        let i1 = self.ty_i1()?;
        let cond = self.peek_value(CALL, 1, 0, "condition", Some(i1))?;
        self.require_empty_stack(CALL, 1)?;
        self.ensure_block(CALL)?;
        let (t, f) = (self.func.labels[then.index()].block, self.func.labels[otherwise.index()].block);
        let branched = self.backend.cond_br(cond, t, f);
        self.lowered(CALL, branched)?;
        self.func.stack.pop();
        self.func.labels[then.index()].used = true;
        self.func.labels[otherwise.index()].used = true;
        self.terminate();
        Ok(())
    }

    /// Pops an integer and branches to the label of the case equal to it, or
    /// to `default`. Case values are bit patterns of the operand's width (any
    /// value that fits as signed or unsigned); two cases may not be equal at that
    /// width. The backend chooses a jump table or a compare tree.
    pub fn switch(&mut self, default: Label, cases: &[(i128, Label)]) -> Result<()> {
        const CALL: &str = "switch";
        self.require_open(CALL)?;
        self.check_label(CALL, default)?;
        for (_, l) in cases {
            self.check_label(CALL, *l)?;
        }
        let (ty, value) = self.peek_typed(CALL, 1, 0, "value", None)?;
        let Some(width) = self.types.int_width(ty) else {
            return Err(self.mismatch(CALL, "value", Expected::Integer, ty));
        };
        let mut bits = std::mem::take(&mut self.func.case_scratch);
        bits.clear();
        let checked = self.switch_cases(CALL, ty, width.bits(), cases, &mut bits);
        if let Err(e) = checked.and_then(|()| self.require_empty_stack(CALL, 1)).and_then(|()| self.ensure_block(CALL))
        {
            self.func.case_scratch = bits;
            return Err(e);
        }
        let targets: Vec<(u128, B::Block)> =
            bits.iter().zip(cases).map(|(b, (_, l))| (*b, self.func.labels[l.index()].block)).collect();
        self.func.case_scratch = bits;
        let default_block = self.func.labels[default.index()].block;
        let branched = self.backend.switch(value, ty, default_block, &targets);
        self.lowered(CALL, branched)?;
        self.func.stack.pop();
        self.func.labels[default.index()].used = true;
        for (_, l) in cases {
            self.func.labels[l.index()].used = true;
        }
        self.terminate();
        Ok(())
    }

    /// Checks that each case value fits `bits` and that no two are equal; the
    /// values' bit patterns go to `out`.
    fn switch_cases(
        &self,
        call: &'static str,
        ty: TypeId,
        bits: u32,
        cases: &[(i128, Label)],
        out: &mut Vec<u128>,
    ) -> Result<()> {
        let mask = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
        for (i, (value, _)) in cases.iter().enumerate() {
            let fits = bits == 128 || (*value >= -(1i128 << (bits - 1)) && *value < (1i128 << bits));
            if !fits {
                let e = ErrorKind::ConstantOutOfRange { value: *value, ty: self.types.name(ty) };
                return Err(self.ferr(call, e).operand(format!("case {i}")));
            }
            out.push(*value as u128 & mask);
        }
        let mut sorted: Vec<(u128, usize)> = out.iter().copied().zip(0..).collect();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
            let (first, second) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
            let e = ErrorKind::DuplicateCase { value: cases[second].0, first };
            return Err(self.ferr(call, e).operand(format!("case {second}")));
        }
        Ok(())
    }

    /// Returns; pops the result value if the function has one (for a record or
    /// array result, a place of its type whose value is returned).
    pub fn ret(&mut self) -> Result<()> {
        const CALL: &str = "ret";
        self.require_open(CALL)?;
        let value = match self.func.result {
            Some(r) => {
                let v = if self.types.is_scalar(r.ty) {
                    self.peek_value(CALL, 1, 0, "return value", Some(r.ty))?
                } else {
                    self.peek_aggregate(CALL, 1, 0, "return value", r.ty)?
                };
                self.require_empty_stack(CALL, 1)?;
                Some(v)
            }
            None => {
                self.require_empty_stack(CALL, 0)?;
                None
            }
        };
        self.ensure_block(CALL)?;
        let returned = self.backend.ret(value);
        self.lowered(CALL, returned)?;
        self.func.stack.clear();
        self.terminate();
        Ok(())
    }

    /// Marks this point unreachable (a real terminator).
    pub fn unreachable(&mut self) -> Result<()> {
        const CALL: &str = "unreachable";
        self.require_open_naked_ok(CALL)?;
        self.require_empty_stack(CALL, 0)?;
        self.ensure_block(CALL)?;
        self.backend.unreachable().map_err(|k| self.ferr(CALL, k))?;
        self.terminate();
        Ok(())
    }

    /// Ends the open function. Fails (leaving it open) if control can fall off
    /// the end, a label that is branched to was never placed, or values remain.
    pub fn func_end(&mut self) -> Result<()> {
        const CALL: &str = "func_end";
        self.require_open_naked_ok(CALL)?;
        self.require_empty_stack(CALL, 0)?;
        if self.func.block == BlockState::Open {
            return Err(self.ferr(CALL, ErrorKind::FallsOffEnd));
        }
        if let Some(i) = self.func.labels.iter().position(|l| l.used && !l.placed) {
            return Err(self.ferr(CALL, ErrorKind::LabelNeverPlaced { label: i as u32 }));
        }
        if self.func.block == BlockState::Dead {
            self.backend.unreachable().map_err(|k| self.ferr(CALL, k))?;
            self.terminate();
        }
        let mut unused = std::mem::take(&mut self.func.unused_blocks);
        unused.clear();
        unused.extend(self.func.labels.iter().filter(|l| !l.placed).map(|l| l.block));
        let result = self.backend.end_function(&unused);
        self.func.unused_blocks = unused;
        self.lowered(CALL, result)?;
        let sym = self.func.sym.expect("open function has a symbol");
        self.syms[sym.index()].defined = true;
        self.func.reset();
        Ok(())
    }

    /// Discards the open function's body; its symbol stays declared and undefined.
    pub fn func_abandon(&mut self) -> Result<()> {
        self.require_open_naked_ok("func_abandon")?;
        self.backend.abandon_function();
        self.func.reset();
        Ok(())
    }
}
