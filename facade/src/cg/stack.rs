//! The value stack: peeking at typed operands, popping and pushing, and the
//! shuffles (`discard`, `swap`, `dup`). Every operation validates what it
//! will consume with these before changing anything.

use super::func::Entry;
use crate::*;

/// An address operand: a place or a pointer value.
pub(crate) struct Addr<V> {
    pub(crate) addr: V,
    pub(crate) addr_space: u32,
    pub(crate) is_place: bool,
    /// A place's non-address-taken slot (see `Entry::Place`).
    pub(crate) origin: Option<u32>,
}

impl<B: Backend> crate::Cg<B> {
    #[inline]
    pub(crate) fn check_depth(&self, call: &'static str, needed: usize) -> Result<()> {
        if self.func.stack.len() < needed {
            return Err(self.underflow(call, needed));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn underflow(&self, call: &'static str, needed: usize) -> Error {
        self.ferr(call, ErrorKind::StackUnderflow { needed, available: self.func.stack.len() })
    }

    #[inline]
    pub(crate) fn entry(&self, from_top: usize) -> Entry<B::Value> {
        self.func.stack[self.func.stack.len() - 1 - from_top]
    }

    pub(crate) fn mismatch(&self, call: &'static str, operand: &str, expected: Expected, found: TypeId) -> Error {
        self.ferr(call, ErrorKind::TypeMismatch { expected, found: self.types.name(found) }).operand(operand)
    }

    /// A backend result as the result of `call`.
    pub(crate) fn lowered<T>(&self, call: &'static str, result: BackendResult<T>) -> Result<T> {
        result.map_err(|k| self.ferr(call, k))
    }

    /// The value `from_top` entries below the top (stack must hold `needed`),
    /// checked to be an rvalue compatible with `expected`.
    #[inline]
    pub(crate) fn peek_value(
        &self,
        call: &'static str,
        needed: usize,
        from_top: usize,
        operand: &str,
        expected: Option<TypeId>,
    ) -> Result<B::Value> {
        Ok(self.peek_typed(call, needed, from_top, operand, expected)?.1)
    }

    pub(crate) fn peek_typed(
        &self,
        call: &'static str,
        needed: usize,
        from_top: usize,
        operand: &str,
        expected: Option<TypeId>,
    ) -> Result<(TypeId, B::Value)> {
        self.check_depth(call, needed)?;
        match self.entry(from_top) {
            // The common case, checked inline: exactly the expected type (a
            // valid one: values on the stack have valid types).
            Entry::Value { ty, v } if expected.is_none_or(|e| e == ty) => Ok((ty, v)),
            _ => self.peek_typed_slow(call, from_top, operand, expected),
        }
    }

    #[inline(never)]
    fn peek_typed_slow(
        &self,
        call: &'static str,
        from_top: usize,
        operand: &str,
        expected: Option<TypeId>,
    ) -> Result<(TypeId, B::Value)> {
        match self.entry(from_top) {
            Entry::Value { ty, v } => {
                if let Some(e) = expected {
                    if !self.types.compatible(ty, e) {
                        return Err(self.mismatch(call, operand, Expected::Type(self.types.name(e)), ty));
                    }
                }
                Ok((ty, v))
            }
            other => Err(self
                .ferr(call, ErrorKind::WrongValueCategory { expected: Category::Value, found: other.category() })
                .operand(operand)),
        }
    }

    #[inline]
    pub(crate) fn peek_addr(&self, call: &'static str, needed: usize, from_top: usize) -> Result<Addr<B::Value>> {
        self.check_depth(call, needed)?;
        match self.entry(from_top) {
            Entry::Place { addr_space, addr, origin, .. } => Ok(Addr { addr, addr_space, is_place: true, origin }),
            _ => self.peek_addr_slow(call, from_top),
        }
    }

    #[inline(never)]
    fn peek_addr_slow(&self, call: &'static str, from_top: usize) -> Result<Addr<B::Value>> {
        match self.entry(from_top) {
            Entry::Place { addr_space, addr, origin, .. } => Ok(Addr { addr, addr_space, is_place: true, origin }),
            Entry::Value { ty, v } => match self.types.ptr_addr_space(ty) {
                Some(addr_space) => Ok(Addr { addr: v, addr_space, is_place: false, origin: None }),
                None => Err(self.mismatch(call, "address", Expected::Pointer, ty)),
            },
        }
    }

    #[inline]
    pub(crate) fn pop_n(&mut self, n: usize) {
        let len = self.func.stack.len();
        self.func.stack.truncate(len - n);
    }

    #[inline]
    pub(crate) fn push_value(&mut self, ty: TypeId, v: B::Value) {
        self.func.stack.push(Entry::Value { ty, v });
    }

    #[inline]
    pub(crate) fn begin_op(&mut self, call: &'static str) -> Result<()> {
        self.require_open(call)?;
        Ok(())
    }

    pub(crate) fn check_type(&self, call: &'static str, ty: TypeId, operand: &str) -> Result<()> {
        self.types.check(ty).map_err(|k| self.ferr(call, k).operand(operand.to_string()))
    }

    /// Number of entries on the value stack.
    pub fn stack_depth(&self) -> usize {
        self.func.stack.len()
    }

    /// Pops the top entry.
    pub fn discard(&mut self) -> Result<()> {
        const CALL: &str = "discard";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 1)?;
        self.pop_n(1);
        Ok(())
    }

    /// Exchanges the top two entries (e.g. to store a value that lies under
    /// another: push the address, `swap`, `store`).
    pub fn swap(&mut self) -> Result<()> {
        const CALL: &str = "swap";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 2)?;
        let len = self.func.stack.len();
        self.func.stack.swap(len - 1, len - 2);
        Ok(())
    }

    /// Pushes a copy of the top entry.
    pub fn dup(&mut self) -> Result<()> {
        const CALL: &str = "dup";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 1)?;
        let top = self.entry(0);
        self.func.stack.push(top);
        Ok(())
    }
}
