//! Protected visibility in the JIT (`doc/jit.md`, "Protected functions"):
//! calls inside the unit that defines a protected function bind to its body
//! and survive its replacement; its address, and every other unit's calls,
//! go through the stable entry and see the replacement. Default visibility
//! keeps every use on the entry. Checked by running the code at O0 and O2.

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, LlvmModule, OptLevel};

type Unary = unsafe extern "C" fn(i64) -> i64;
type Addr = unsafe extern "C" fn() -> *const u8;

/// Defines `sym` as `x -> calls(x) * mul + add`: `x` passed through each
/// function of `calls` in turn, then the arithmetic (a multiplication by 1 or
/// an addition of 0 is left out).
fn define<B: Backend>(cg: &mut Cg<B>, sym: Sym, i64t: TypeId, calls: &[Sym], mul: i64, add: i64) {
    cg.func_begin(sym).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    for &callee in calls {
        cg.call(Callee::Direct(callee), 1).unwrap();
    }
    for (op, k) in [(IntBinOp::Mul, mul), (IntBinOp::Add, add)] {
        if k != i64::from(op == IntBinOp::Mul) {
            cg.push_int(i64t, i128::from(k)).unwrap();
            cg.int_op(op, IntFlags::NONE).unwrap();
        }
    }
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// A module declaring `i64 -> i64` functions: (module, the i64 type, the signature).
fn module<'c>(llvm: &'c LlvmContext, name: &str) -> (Cg<LlvmBackend<'c>>, TypeId, TypeId) {
    let mut cg = llvm.module(name, &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    (cg, i64t, sig)
}

/// `g(x) = x * 3 + 1` with visibility `vis`; `f(x) = g(x) * 2`, which calls `g`
/// directly; `ptr gaddr()` returns `g`'s address; `twice(x) = g(g(x))` (two calls
/// in one function).
fn unit<'c>(llvm: &'c LlvmContext, name: &str, vis: Visibility) -> LlvmModule<'c> {
    let (mut cg, i64t, sig) = module(llvm, name);
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let ptr = cg.ty_ptr(i8t, 0).unwrap();
    let addr_sig = cg.ty_func(FuncSig::new(&[], Some(ptr))).unwrap();
    let g = cg.declare_func("g", FuncDecl::new(sig).visibility(vis)).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig)).unwrap();
    let gaddr = cg.declare_func("gaddr", FuncDecl::new(addr_sig)).unwrap();
    let twice = cg.declare_func("twice", FuncDecl::new(sig)).unwrap();
    define(&mut cg, g, i64t, &[], 3, 1);
    define(&mut cg, f, i64t, &[g], 2, 0);
    cg.func_begin(gaddr).unwrap();
    cg.push_sym_addr(g).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    define(&mut cg, twice, i64t, &[g, g], 1, 0);
    cfree_llvm_lower::finish(cg).unwrap()
}

/// `g(x) = x * 5` (the replacement), with visibility `vis`.
fn replacement<'c>(llvm: &'c LlvmContext, vis: Visibility) -> LlvmModule<'c> {
    let (mut cg, i64t, sig) = module(llvm, "g2");
    let g = cg.declare_func("g", FuncDecl::new(sig).visibility(vis)).unwrap();
    define(&mut cg, g, i64t, &[], 5, 0);
    cfree_llvm_lower::finish(cg).unwrap()
}

/// `h(x) = g(x) + 1` in another unit.
fn other_unit(llvm: &LlvmContext) -> LlvmModule<'_> {
    let (mut cg, i64t, sig) = module(llvm, "h");
    let g = cg.declare_func("g", FuncDecl::new(sig)).unwrap();
    let h = cg.declare_func("h", FuncDecl::new(sig)).unwrap();
    define(&mut cg, h, i64t, &[g], 1, 1);
    cfree_llvm_lower::finish(cg).unwrap()
}

fn call(jit: &Jit, name: &str, x: i64) -> i64 {
    // SAFETY: the test functions compute on their argument and call each other.
    unsafe { jit.get::<Unary>(name).unwrap().call(x) }
}

fn old_g(x: i64) -> i64 {
    x.wrapping_mul(3).wrapping_add(1)
}

fn new_g(x: i64) -> i64 {
    x.wrapping_mul(5)
}

/// Publishes the unit with `g` of visibility `vis` and `h` calling `g` from
/// another unit, replaces `g`, and checks what each caller runs.
fn check(vis: Visibility, level: OptLevel, owned: bool) {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    let m = unit(&llvm, "u", vis);
    if owned {
        jit.publish_owned(m, level).unwrap();
    } else {
        jit.publish(&m, level).unwrap();
    }
    jit.publish_owned(other_unit(&llvm), level).unwrap();
    let what = format!("{vis:?} at {level:?}");
    let entry = jit.address("g").unwrap();
    // SAFETY: `gaddr` takes nothing and returns a pointer.
    let gaddr = unsafe { jit.get::<Addr>("gaddr").unwrap().call() } as u64;
    assert_eq!(gaddr, entry, "{what}: the address of `g` inside its unit is the stable entry");
    for x in [-7i64, 0, 4, i64::MAX] {
        assert_eq!(call(&jit, "f", x), old_g(x).wrapping_mul(2), "{what}: f({x}) before");
        assert_eq!(call(&jit, "h", x), old_g(x).wrapping_add(1), "{what}: h({x}) before");
    }

    let replaced = jit.publish_owned(replacement(&llvm, vis), level).unwrap();
    assert_eq!(replaced.replaced.len(), 1, "{what}: `g` was replaced");
    assert_eq!(jit.address("g").unwrap(), entry, "{what}: the entry is stable");
    // SAFETY: as above.
    let gaddr = unsafe { jit.get::<Addr>("gaddr").unwrap().call() } as u64;
    assert_eq!(gaddr, entry);
    // SAFETY: the entry is `g`'s stable entry, of type i64 -> i64.
    let through_address: Unary = unsafe { std::mem::transmute::<u64, Unary>(gaddr) };
    for x in [-7i64, 0, 4, i64::MAX] {
        assert_eq!(call(&jit, "g", x), new_g(x), "{what}: g({x}) after");
        // SAFETY: as above.
        assert_eq!(unsafe { through_address(x) }, new_g(x), "{what}: g({x}) through its address");
        assert_eq!(call(&jit, "h", x), new_g(x).wrapping_add(1), "{what}: another unit's call sees the new g");
        let (f, twice) = (call(&jit, "f", x), call(&jit, "twice", x));
        if vis == Visibility::Protected {
            assert_eq!(f, old_g(x).wrapping_mul(2), "{what}: f({x}) keeps its unit's g");
            assert_eq!(twice, old_g(old_g(x)), "{what}: twice({x}) keeps its unit's g");
        } else {
            assert_eq!(f, new_g(x).wrapping_mul(2), "{what}: f({x}) calls the new g");
            assert_eq!(twice, new_g(new_g(x)), "{what}: twice({x}) calls the new g");
        }
    }
}

#[test]
fn protected_calls_bind_inside_the_unit() {
    for level in [OptLevel::O0, OptLevel::O2] {
        check(Visibility::Protected, level, true);
        check(Visibility::Protected, level, false);
    }
}

#[test]
fn default_visibility_calls_go_through_the_entry() {
    for level in [OptLevel::O0, OptLevel::O2] {
        check(Visibility::Default, level, true);
    }
}

/// A protected function that recurses: the recursion and its unit's callers
/// bind to the body, and a replacement is seen by outside callers only.
#[test]
fn protected_recursion_binds_to_the_body() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    // sum(n) = n == 0 ? 0 : n + sum(n - 1)
    let (mut cg, i64t, sig) = module(&llvm, "sum");
    let sum = cg.declare_func("sum", FuncDecl::new(sig).visibility(Visibility::Protected)).unwrap();
    let outer = cg.declare_func("outer", FuncDecl::new(sig)).unwrap();
    define(&mut cg, outer, i64t, &[sum], 1, 0);
    cg.func_begin(sum).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (zero, more) = (cg.new_label().unwrap(), cg.new_label().unwrap());
    cg.push_local(n).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.int_cmp(IntCmp::Eq).unwrap();
    cg.cond_br(zero, more).unwrap();
    cg.place_label(zero).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.ret().unwrap();
    cg.place_label(more).unwrap();
    cg.push_local(n).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_local(n).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_int(i64t, 1).unwrap();
    cg.int_op(IntBinOp::Sub, IntFlags::NONE).unwrap();
    cg.call(Callee::Direct(sum), 1).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    jit.publish_owned(cfree_llvm_lower::finish(cg).unwrap(), OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "sum", 100), 5050);
    assert_eq!(call(&jit, "outer", 100), 5050);

    // Replace `sum` by `sum(n) = -n`: `outer` and the old body's recursion stay
    // inside the unit (through the entry, `outer(100)` would be 100 + -99).
    let (mut cg, i64t, sig) = module(&llvm, "sum2");
    let sum = cg.declare_func("sum", FuncDecl::new(sig)).unwrap();
    define(&mut cg, sum, i64t, &[], -1, 0);
    jit.publish_owned(cfree_llvm_lower::finish(cg).unwrap(), OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "sum", 100), -100);
    assert_eq!(call(&jit, "outer", 100), 5050);
}
