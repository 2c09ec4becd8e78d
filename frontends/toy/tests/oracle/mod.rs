//! A reference interpreter over the typed program: the oracle that confirms
//! the examples' expected outputs (`examples/*.N.out`) and the semantics the
//! README specifies, so a code generator can later be compared against it.
//!
//! Test-only and deliberately plain: a value per local slot, a heap of
//! objects that is never collected, records stored by field index (their
//! byte layout is checked separately), and Rust's own arithmetic with the
//! wrapping, truncating and saturating choices spelled out.

use cfree_toy::typed::*;

/// What a finished program produced.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Everything `print` wrote.
    pub stdout: String,
    /// `main`'s return value.
    pub exit: i64,
}

/// Runs `main(n)`; a runtime error is `Err("line:col: message")`, with what
/// had been printed before it.
pub fn run(program: &TypedProgram, n: i64) -> Result<Outcome, (String, String)> {
    let mut machine = Machine {
        program,
        heap: Vec::new(),
        stdout: String::new(),
        globals: Vec::new(),
        defers: Vec::new(),
        stashes: Vec::new(),
        tasks: Vec::new(),
    };
    machine.globals = program.globals.iter().map(|g| machine.zero(g.ty)).collect();
    let initialised = program.globals.iter().enumerate().try_for_each(|(i, g)| {
        machine.globals[i] = machine.eval(&[], &g.init)?;
        Ok(())
    });
    if let Err(message) = initialised {
        return Err((message, machine.stdout));
    }
    match machine.call(program.main, vec![Value::Int(n)]) {
        Ok(Some(Value::Int(exit))) => Ok(Outcome { stdout: machine.stdout, exit }),
        Ok(other) => panic!("main returned {other:?}"),
        Err(message) => Err((message, machine.stdout)),
    }
}

/// Formats a `float` as `print` does: C's `%.9f`, with `inf`, `-inf` and `nan`.
pub fn format_float(value: f64) -> String {
    if value.is_nan() {
        "nan".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{value:.9}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// An index into the heap; `None` is nil.
    Ref(Option<usize>),
}

enum Object {
    Record(Vec<Value>),
    Array(Vec<Value>),
}

enum Flow {
    Next,
    Break,
    Continue,
    Return(Option<Value>),
}

type Eval<T> = std::result::Result<T, String>;

/// A registered deferred call: the callee and its evaluated arguments.
type Deferred = (FuncId, Vec<Value>);

struct Machine<'p> {
    program: &'p TypedProgram,
    heap: Vec<Object>,
    stdout: String,
    globals: Vec<Value>,
    /// Each active call's registered defers (by defer statement), innermost last.
    defers: Vec<Vec<Option<Deferred>>>,
    /// Deferred calls running during unwinds: the panic each interrupted, and
    /// whether `recover` stopped it (the runtime's `toy_defer_begin/end`).
    stashes: Vec<(Option<String>, bool)>,
    /// Results of spawned tasks, which the oracle runs at once, in spawn order.
    tasks: Vec<i64>,
}

impl Machine<'_> {
    fn fail<T>(&self, expr: &Expr, message: &str) -> Eval<T> {
        let (line, column) = self.program.position(expr.span);
        Err(format!("{line}:{column}: {message}"))
    }

    fn zero(&self, ty: TypeId) -> Value {
        match self.program.types.kind(ty) {
            TypeKind::Int => Value::Int(0),
            TypeKind::Float => Value::Float(0.0),
            TypeKind::Bool => Value::Bool(false),
            TypeKind::Record(_) | TypeKind::Array(_) => Value::Ref(None),
            TypeKind::Error => panic!("error type in a checked program"),
        }
    }

    fn call(&mut self, func: FuncId, args: Vec<Value>) -> Eval<Option<Value>> {
        let function = self.program.function(func);
        let mut frame: Vec<Value> = function.locals.iter().map(|local| self.zero(local.ty)).collect();
        frame[..args.len()].copy_from_slice(&args);
        self.defers.push(vec![None; function.defers as usize]);
        let mut outcome = match self.block(&mut frame, &function.body) {
            Ok(Flow::Return(value)) => Ok(value),
            Ok(Flow::Break | Flow::Continue) => panic!("`break` or `continue` outside a loop"),
            Ok(Flow::Next) => {
                assert!(function.ret.is_none(), "`{}` fell off its end", function.name);
                Ok(None)
            }
            Err(panic) => Err(panic),
        };
        // The defers in reverse order; once unwinding, like the runtime's unwind path.
        let zero = function.ret.map(|t| self.zero(t));
        let mut unwinding = outcome.is_err();
        for k in (0..function.defers as usize).rev() {
            let Some((callee, args)) = self.defers.last_mut().unwrap()[k].take() else { continue };
            if unwinding {
                self.stashes.push((outcome.clone().err(), false));
                let result = self.call(callee, args);
                let (stashed, recovered) = self.stashes.pop().unwrap();
                outcome = match (result, stashed) {
                    (Err(new), _) => Err(new),
                    (Ok(_), Some(_)) if recovered => Ok(zero),
                    (Ok(_), Some(old)) => Err(old),
                    (Ok(_), None) => Ok(zero),
                };
            } else if let Err(new) = self.call(callee, args) {
                outcome = Err(new);
                unwinding = true;
            }
        }
        self.defers.pop();
        if unwinding && outcome.is_ok() {
            outcome = Ok(zero);
        }
        outcome
    }

    /// `recover()`: stops the panic of the innermost deferred call running during an unwind.
    fn recover(&mut self) -> bool {
        match self.stashes.last_mut() {
            Some((Some(_), recovered @ false)) => {
                *recovered = true;
                true
            }
            _ => false,
        }
    }

    fn block(&mut self, frame: &mut [Value], stmts: &[Stmt]) -> Eval<Flow> {
        for stmt in stmts {
            match self.stmt(frame, stmt)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn stmt(&mut self, frame: &mut [Value], stmt: &Stmt) -> Eval<Flow> {
        match &stmt.kind {
            StmtKind::Let { local, init } => frame[local.index()] = self.eval(frame, init)?,
            StmtKind::Assign { target, value } => self.assign(frame, target, value)?,
            StmtKind::If { cond, then_block, else_block } => {
                let taken = if self.eval_bool(frame, cond)? { then_block } else { else_block };
                return self.block(frame, taken);
            }
            StmtKind::While { cond, body } => {
                while self.eval_bool(frame, cond)? {
                    match self.block(frame, body)? {
                        Flow::Break => break,
                        Flow::Next | Flow::Continue => {}
                        Flow::Return(value) => return Ok(Flow::Return(value)),
                    }
                }
            }
            StmtKind::For { var, start, end, body } => {
                let (Value::Int(start), Value::Int(end)) = (self.eval(frame, start)?, self.eval(frame, end)?) else {
                    panic!("int bounds")
                };
                for i in start..end {
                    frame[var.index()] = Value::Int(i);
                    match self.block(frame, body)? {
                        Flow::Break => break,
                        Flow::Next | Flow::Continue => {}
                        Flow::Return(value) => return Ok(Flow::Return(value)),
                    }
                }
            }
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Return(value) => {
                let value = value.as_ref().map(|v| self.eval(frame, v)).transpose()?;
                return Ok(Flow::Return(value));
            }
            StmtKind::Print(args) => {
                let mut line = String::new();
                for arg in args {
                    match arg {
                        PrintArg::Str(text) => line.push_str(text),
                        PrintArg::Int(e) | PrintArg::Float(e) | PrintArg::Bool(e) => {
                            line.push_str(&match self.eval(frame, e)? {
                                Value::Int(v) => v.to_string(),
                                Value::Float(v) => format_float(v),
                                Value::Bool(v) => v.to_string(),
                                Value::Ref(_) => panic!("printing a reference"),
                            })
                        }
                    }
                }
                self.stdout.push_str(&line);
                self.stdout.push('\n');
            }
            StmtKind::Call { func, args } => {
                let args = args.iter().map(|a| self.eval(frame, a)).collect::<Eval<Vec<_>>>()?;
                self.call(*func, args)?;
            }
            StmtKind::Panic(message) => {
                let (line, column) = self.program.position(stmt.span);
                return Err(format!("{line}:{column}: panic: {message}"));
            }
            StmtKind::Defer { index, func, args } => {
                let args = args.iter().map(|a| self.eval(frame, a)).collect::<Eval<Vec<_>>>()?;
                self.defers.last_mut().unwrap()[*index as usize] = Some((*func, args));
            }
            StmtKind::Recover => {
                self.recover();
            }
        }
        Ok(Flow::Next)
    }

    fn assign(&mut self, frame: &mut [Value], target: &Place, value: &Expr) -> Eval<()> {
        match &target.kind {
            PlaceKind::Local(local) => frame[local.index()] = self.eval(frame, value)?,
            PlaceKind::Global(global) => self.globals[global.index()] = self.eval(frame, value)?,
            PlaceKind::Field { object, field } => {
                let object_ref = self.eval(frame, object)?;
                let value = self.eval(frame, value)?;
                let id = self.deref(object, object_ref)?;
                let Object::Record(fields) = &mut self.heap[id] else { panic!("field of an array") };
                fields[field.index as usize] = value;
            }
            PlaceKind::Index { array, index } => {
                let array_ref = self.eval(frame, array)?;
                let i = self.eval(frame, index)?;
                let value = self.eval(frame, value)?;
                let (id, i) = self.element(array, array_ref, index, i)?;
                let Object::Array(elems) = &mut self.heap[id] else { panic!("index of a record") };
                elems[i] = value;
            }
        }
        Ok(())
    }

    fn deref(&self, expr: &Expr, value: Value) -> Eval<usize> {
        match value {
            Value::Ref(Some(id)) => Ok(id),
            _ => self.fail(expr, "nil dereference"),
        }
    }

    /// The heap object and element position `array[index]` designates.
    fn element(&self, array: &Expr, array_ref: Value, index: &Expr, i: Value) -> Eval<(usize, usize)> {
        let id = self.deref(array, array_ref)?;
        let (Object::Array(elems), Value::Int(i)) = (&self.heap[id], i) else { panic!("bad index operands") };
        match usize::try_from(i) {
            Ok(i) if i < elems.len() => Ok((id, i)),
            _ => self.fail(index, &format!("index {i} out of bounds for length {}", elems.len())),
        }
    }

    fn eval_bool(&mut self, frame: &[Value], e: &Expr) -> Eval<bool> {
        match self.eval(frame, e)? {
            Value::Bool(b) => Ok(b),
            other => panic!("condition evaluated to {other:?}"),
        }
    }

    fn eval(&mut self, frame: &[Value], e: &Expr) -> Eval<Value> {
        Ok(match &e.kind {
            ExprKind::Int(v) => Value::Int(*v),
            ExprKind::Float(v) => Value::Float(*v),
            ExprKind::Bool(v) => Value::Bool(*v),
            ExprKind::Nil => Value::Ref(None),
            ExprKind::Local(local) => frame[local.index()],
            ExprKind::Global(global) => self.globals[global.index()],
            ExprKind::Call { func, args } => {
                let args = args.iter().map(|a| self.eval(frame, a)).collect::<Eval<Vec<_>>>()?;
                self.call(*func, args)?.expect("a call in an expression returns a value")
            }
            ExprKind::Field { object, field } => {
                let value = self.eval(frame, object)?;
                let Object::Record(fields) = &self.heap[self.deref(object, value)?] else { panic!("not a record") };
                fields[field.index as usize]
            }
            ExprKind::Index { array, index } => {
                let (array_ref, i) = (self.eval(frame, array)?, self.eval(frame, index)?);
                let (id, i) = self.element(array, array_ref, index, i)?;
                let Object::Array(elems) = &self.heap[id] else { panic!("not an array") };
                elems[i]
            }
            ExprKind::Len(array) => {
                let value = self.eval(frame, array)?;
                let Object::Array(elems) = &self.heap[self.deref(array, value)?] else { panic!("not an array") };
                Value::Int(elems.len() as i64)
            }
            ExprKind::NewRecord { record, fields } => {
                let layout = self.program.record(*record);
                let mut values: Vec<Value> = layout.fields.iter().map(|f| self.zero(f.ty)).collect();
                for (index, value) in fields {
                    values[*index as usize] = self.eval(frame, value)?;
                }
                self.heap.push(Object::Record(values));
                Value::Ref(Some(self.heap.len() - 1))
            }
            ExprKind::NewArray(len) => {
                let Value::Int(n) = self.eval(frame, len)? else { panic!("length is not an int") };
                let elem = self.program.types.array_elem(e.ty).expect("array type");
                let Ok(n) = usize::try_from(n) else { return self.fail(len, &format!("negative array length {n}")) };
                self.heap.push(Object::Array(vec![self.zero(elem); n]));
                Value::Ref(Some(self.heap.len() - 1))
            }
            ExprKind::IntArith(op, l, r) => {
                let (Value::Int(a), Value::Int(b)) = (self.eval(frame, l)?, self.eval(frame, r)?) else {
                    panic!("int operands")
                };
                let checked = match op {
                    ArithOp::Add => Some(a.wrapping_add(b)),
                    ArithOp::Sub => Some(a.wrapping_sub(b)),
                    ArithOp::Mul => Some(a.wrapping_mul(b)),
                    ArithOp::Div if b == 0 => return self.fail(e, "division by zero"),
                    ArithOp::Rem if b == 0 => return self.fail(e, "division by zero"),
                    ArithOp::Div => a.checked_div(b),
                    ArithOp::Rem => a.checked_rem(b),
                };
                match checked {
                    Some(v) => Value::Int(v),
                    None => return self.fail(e, "integer overflow in division"),
                }
            }
            ExprKind::FloatArith(op, l, r) => {
                let (Value::Float(a), Value::Float(b)) = (self.eval(frame, l)?, self.eval(frame, r)?) else {
                    panic!("float operands")
                };
                Value::Float(match op {
                    ArithOp::Add => a + b,
                    ArithOp::Sub => a - b,
                    ArithOp::Mul => a * b,
                    ArithOp::Div => a / b,
                    ArithOp::Rem => a % b,
                })
            }
            ExprKind::IntNeg(x) => match self.eval(frame, x)? {
                Value::Int(v) => Value::Int(v.wrapping_neg()),
                other => panic!("negating {other:?}"),
            },
            ExprKind::FloatNeg(x) => match self.eval(frame, x)? {
                Value::Float(v) => Value::Float(-v),
                other => panic!("negating {other:?}"),
            },
            ExprKind::Compare(op, l, r) => {
                let (a, b) = (self.eval(frame, l)?, self.eval(frame, r)?);
                Value::Bool(compare(*op, a, b))
            }
            ExprKind::And(l, r) => Value::Bool(self.eval_bool(frame, l)? && self.eval_bool(frame, r)?),
            ExprKind::Or(l, r) => Value::Bool(self.eval_bool(frame, l)? || self.eval_bool(frame, r)?),
            ExprKind::Not(x) => Value::Bool(!self.eval_bool(frame, x)?),
            ExprKind::IntToFloat(x) => match self.eval(frame, x)? {
                Value::Int(v) => Value::Float(v as f64),
                other => panic!("converting {other:?}"),
            },
            ExprKind::FloatToInt(x) => match self.eval(frame, x)? {
                Value::Float(v) => Value::Int(v as i64),
                other => panic!("converting {other:?}"),
            },
            ExprKind::Bitwise(op, l, r) => match (self.eval(frame, l)?, self.eval(frame, r)?) {
                (Value::Int(a), Value::Int(b)) => Value::Int(match op {
                    BitOp::And => a & b,
                    BitOp::Or => a | b,
                    BitOp::Xor => a ^ b,
                    BitOp::Shl => a.wrapping_shl(b as u32),
                    BitOp::Shr => a.wrapping_shr(b as u32),
                    BitOp::UShr => (a as u64).wrapping_shr(b as u32) as i64,
                }),
                (Value::Bool(a), Value::Bool(b)) => Value::Bool(match op {
                    BitOp::And => a & b,
                    BitOp::Or => a | b,
                    BitOp::Xor => a ^ b,
                    other => panic!("{other:?} on bools"),
                }),
                other => panic!("bitwise operands {other:?}"),
            },
            ExprKind::BitNot(x) => match self.eval(frame, x)? {
                Value::Int(v) => Value::Int(!v),
                other => panic!("complementing {other:?}"),
            },
            ExprKind::FloatFn(f, x) => match self.eval(frame, x)? {
                Value::Float(v) => Value::Float(match f {
                    FloatFn::Sqrt => v.sqrt(),
                    FloatFn::Abs => v.abs(),
                    FloatFn::Floor => v.floor(),
                    FloatFn::Ceil => v.ceil(),
                }),
                other => panic!("{f:?} of {other:?}"),
            },
            ExprKind::IntAbs(x) => match self.eval(frame, x)? {
                Value::Int(v) => Value::Int(v.wrapping_abs()),
                other => panic!("abs of {other:?}"),
            },
            ExprKind::Recover => Value::Bool(self.recover()),
            ExprKind::Spawn { func, args } => {
                let args = args.iter().map(|a| self.eval(frame, a)).collect::<Eval<Vec<_>>>()?;
                let result = match self.call(*func, args)? {
                    Some(Value::Int(v)) => v,
                    _ => 0,
                };
                self.tasks.push(result);
                Value::Int(self.tasks.len() as i64 - 1)
            }
            ExprKind::Join(task) => {
                let Value::Int(t) = self.eval(frame, task)? else { panic!("a task handle is an int") };
                match usize::try_from(t).ok().and_then(|i| self.tasks.get(i)) {
                    Some(&v) => Value::Int(v),
                    None => return self.fail(e, &format!("join of {t}, which is not a task")),
                }
            }
            ExprKind::MinMax(is_max, l, r) => match (self.eval(frame, l)?, self.eval(frame, r)?) {
                (Value::Int(a), Value::Int(b)) => Value::Int(if *is_max { a.max(b) } else { a.min(b) }),
                // IEEE 754-2019 minimum/maximum: NaN wins, and -0 < +0.
                (Value::Float(a), Value::Float(b)) => Value::Float(if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else if a == b {
                    let negative = if *is_max {
                        a.is_sign_negative() && b.is_sign_negative()
                    } else {
                        a.is_sign_negative() || b.is_sign_negative()
                    };
                    if negative {
                        -a.abs()
                    } else {
                        a.abs()
                    }
                } else if (a < b) != *is_max {
                    a
                } else {
                    b
                }),
                other => panic!("min/max of {other:?}"),
            },
        })
    }
}

fn compare(op: CmpOp, a: Value, b: Value) -> bool {
    // PartialOrd on f64 is IEEE: every ordered comparison with NaN is false.
    let ordering = match (a, b) {
        (Value::Int(a), Value::Int(b)) => a.partial_cmp(&b),
        (Value::Float(a), Value::Float(b)) => a.partial_cmp(&b),
        _ => None,
    };
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => ordering.is_some_and(|o| o.is_lt()),
        CmpOp::Le => ordering.is_some_and(|o| o.is_le()),
        CmpOp::Gt => ordering.is_some_and(|o| o.is_gt()),
        CmpOp::Ge => ordering.is_some_and(|o| o.is_ge()),
    }
}
