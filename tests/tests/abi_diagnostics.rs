//! Misuse of the call and ABI vocabulary, through the LLVM backend: every
//! guaranteed tail call LLVM would reject or abort on is a `MustTail`
//! diagnostic (and the function can still be completed), bad attributes and
//! aggregate operands are precise errors, and each capability answer about
//! conventions, `nest` and tail calls matches what compiles on x86_64,
//! aarch64, riscv64, i686, wasm32 and x86_64 Windows.

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};

type G<'a> = Cg<LlvmBackend<'a>>;

const TRIPLES: [&str; 6] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "riscv64-unknown-linux-gnu",
    "i686-unknown-linux-gnu",
    "wasm32-unknown-unknown",
    "x86_64-pc-windows-msvc",
];

fn must_tail(e: &Error) -> MustTailProblem {
    match e.kind() {
        ErrorKind::MustTail { problem } => problem.clone(),
        other => panic!("expected a MustTail error, got {other:?}: {e}"),
    }
}

/// Opens `caller` and pushes `args` i64 arguments, then tries `tail_call(callee)`;
/// on refusal completes the function with a plain call and `ret`.
fn try_tail(cg: &mut G<'_>, caller: Sym, callee: Sym, args: u32) -> Result<()> {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    cg.func_begin(caller).unwrap();
    for k in 0..args {
        cg.push_int(i64t, i128::from(k)).unwrap();
    }
    let r = cg.tail_call(Callee::Direct(callee), args);
    if r.is_err() {
        assert_eq!(cg.stack_depth(), args as usize, "a refused tail call leaves its operands");
        cg.call(Callee::Direct(callee), args).unwrap();
        // Caller and callee results may differ: return a constant of the caller's.
        cg.discard().unwrap();
        ret_default(cg, caller);
    }
    cg.func_end().unwrap();
    r
}

fn ret_default(cg: &mut G<'_>, caller: Sym) {
    let SymbolKind::Func(d) = &cg.symbol(caller).unwrap().kind else { unreachable!() };
    let result = cg.types().func_sig(d.sig).unwrap().result.map(|r| r.ty);
    if let Some(ty) = result {
        cg.push_int(ty, 0).unwrap();
    }
    cg.ret().unwrap();
}

fn sig(cg: &mut G<'_>, n: usize, result: Option<TypeId>, conv: CallConv) -> TypeId {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    cg.ty_func(FuncSig::new(&vec![i64t; n], result).conv(conv)).unwrap()
}

fn func(cg: &mut G<'_>, name: &str, ty: TypeId) -> Sym {
    cg.declare_func(name, FuncDecl::new(ty)).unwrap()
}

#[test]
fn tail_call_mismatches_are_diagnosed() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let two = sig(&mut cg, 2, Some(i64t), CallConv::C);
    let one = sig(&mut cg, 1, Some(i64t), CallConv::C);
    let one_i32 = sig(&mut cg, 1, Some(i32t), CallConv::C);
    let one_fast = sig(&mut cg, 1, Some(i64t), CallConv::Fast);
    let one_var = cg.ty_func(FuncSig::new(&[i64t], Some(i64t)).variadic()).unwrap();
    let target = func(&mut cg, "target1", one);
    let cases = [
        ("proto", two, MustTailProblem::PrototypeMismatch),
        ("result", one_i32, MustTailProblem::ResultMismatch),
        ("conv", one_fast, MustTailProblem::ConventionMismatch),
    ];
    for (name, caller_ty, problem) in cases {
        let caller = func(&mut cg, name, caller_ty);
        let e = try_tail(&mut cg, caller, target, 1).unwrap_err();
        assert_eq!(e.call(), "tail_call");
        assert_eq!(e.code(), 605, "{e}");
        assert_eq!(must_tail(&e), problem, "{name}: {e}");
    }
    let var_callee = func(&mut cg, "var_callee", one_var);
    let caller = func(&mut cg, "var_caller", one);
    let e = try_tail(&mut cg, caller, var_callee, 1).unwrap_err();
    assert_eq!(must_tail(&e), MustTailProblem::VariadicMismatch);

    // Records passed in memory live in the frame the tail call discards.
    let big = cg.ty_record(&[i64t; 5]).unwrap();
    let big_sig = cg.ty_func(FuncSig::new(&[big], Some(i64t))).unwrap();
    let big_callee = func(&mut cg, "big_callee", big_sig);
    let big_caller = func(&mut cg, "big_caller", big_sig);
    cg.func_begin(big_caller).unwrap();
    let b = cg.param_slot(0, "b").unwrap();
    cg.push_local(b).unwrap();
    let e = cg.tail_call(Callee::Direct(big_callee), 1).unwrap_err();
    assert_eq!(must_tail(&e), MustTailProblem::AggregateInMemory, "{e}");
    cg.call(Callee::Direct(big_callee), 1).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    // Extra values under the operands: a tail call must be the function's last word.
    let caller = func(&mut cg, "extra", one);
    cg.func_begin(caller).unwrap();
    cg.push_int(i64t, 9).unwrap();
    cg.push_int(i64t, 1).unwrap();
    let e = cg.tail_call(Callee::Direct(target), 1).unwrap_err();
    assert_eq!(e.code(), 202, "{e}");
    cg.tail_call(Callee::Direct(target), 1).unwrap_err();
    cg.discard().unwrap();
    cg.tail_call(Callee::Direct(target), 1).unwrap();
    cg.func_end().unwrap();

    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    m.emit_object(OptLevel::O0).unwrap();
}

#[test]
fn tail_calls_from_managed_code_are_refused_at_safepoints() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let one = sig(&mut cg, 1, Some(i64t), CallConv::C);
    let callee = cg.declare_func("callee", FuncDecl::new(one).gc(GcRole::Safepoints)).unwrap();
    let leaf = cg.declare_func("leaf", FuncDecl::new(one).gc(GcRole::Leaf)).unwrap();
    let caller = cg.declare_func("caller", FuncDecl::new(one).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(caller).unwrap();
    cg.push_int(i64t, 1).unwrap();
    let e = cg.tail_call(Callee::Direct(callee), 1).unwrap_err();
    assert_eq!(must_tail(&e), MustTailProblem::Safepoint);
    // A leaf callee is not a safepoint: the tail call is fine.
    cg.tail_call(Callee::Direct(leaf), 1).unwrap();
    cg.func_end().unwrap();
    // Records by value at a safepoint are refused.
    let rec = cg.ty_record(&[i64t, i64t]).unwrap();
    let rec_sig = cg.ty_func(FuncSig::new(&[rec], Some(i64t))).unwrap();
    let plain = cg.declare_func("takes_rec", FuncDecl::new(rec_sig)).unwrap();
    let m2 = cg.declare_func("caller2", FuncDecl::new(one).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(m2).unwrap();
    let r = cg.local_slot(rec, "r", 0).unwrap();
    cg.push_local(r).unwrap();
    let e = cg.call(Callee::Direct(plain), 1).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Unsupported(Unimplemented::AggregateAtSafepoint(_))), "{e}");
    cg.func_abandon().unwrap();
}

/// riscv64 tail calls cannot pass stack arguments: nine integer arguments are
/// refused there, and compile on x86_64 and aarch64.
#[test]
fn stack_arguments_in_tail_calls_follow_the_target() {
    for triple in ["riscv64-unknown-linux-gnu", "x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("m", &TargetSpec::triple(triple)).unwrap();
        let i64t = cg.ty_int(IntWidth::I64).unwrap();
        let nine = sig(&mut cg, 9, Some(i64t), CallConv::C);
        let callee = func(&mut cg, "callee", nine);
        let caller = func(&mut cg, "caller", nine);
        let r = try_tail(&mut cg, caller, callee, 9);
        let eight = sig(&mut cg, 8, Some(i64t), CallConv::C);
        let (c8, d8) = (func(&mut cg, "c8", eight), func(&mut cg, "d8", eight));
        try_tail(&mut cg, d8, c8, 8).unwrap_or_else(|e| panic!("8 register arguments on {triple}: {e}"));
        if triple.starts_with("riscv64") {
            assert_eq!(must_tail(&r.unwrap_err()), MustTailProblem::StackArguments);
        } else {
            r.unwrap_or_else(|e| panic!("{triple}: {e}"));
        }
        let mut m = cfree_llvm_lower::finish(cg).unwrap();
        m.emit_object(OptLevel::O0).unwrap();
        m.emit_object(OptLevel::O2).unwrap();
    }
}

/// Each capability answer agrees with what compiles: a supported convention,
/// `nest` parameter or tail call yields an object; an unsupported one is
/// refused before LLVM sees it.
#[test]
fn capabilities_match_what_compiles() {
    for triple in TRIPLES {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("caps", &TargetSpec::triple(triple)).unwrap();
        let target = cg.target().clone();
        let i32t = cg.ty_int(IntWidth::I32).unwrap();
        let ptr = cg.ty_ptr(i32t, 0).unwrap();
        for conv in CallConv::ALL {
            let r = cg.ty_func(FuncSig::new(&[i32t], Some(i32t)).conv(conv));
            if !target.supports_call_conv(conv) {
                assert_eq!(r.unwrap_err().code(), 901, "{conv:?} on {triple}");
                continue;
            }
            let ty = r.unwrap();
            let name = format!("f_{conv:?}");
            let f = func(&mut cg, &name, ty);
            let g = func(&mut cg, &format!("g_{conv:?}"), ty);
            cg.func_begin(f).unwrap();
            let p = cg.param_slot(0, "p").unwrap();
            cg.push_local(p).unwrap();
            cg.load(MemAccess::new(i32t)).unwrap();
            cg.call(Callee::Direct(g), 1).unwrap();
            cg.ret().unwrap();
            cg.func_end().unwrap();
        }
        let nest = Param::new(ptr).attrs(ParamAttrs { nest: true, ..ParamAttrs::default() });
        let r = cg.ty_func(FuncSig::with_params(vec![nest, Param::new(i32t)], Some(Param::new(i32t))));
        if target.supports_nest() {
            let ty = r.unwrap();
            let (f, g) = (func(&mut cg, "nest_f", ty), func(&mut cg, "nest_g", ty));
            cg.func_begin(f).unwrap();
            let (c, x) = (cg.param_slot(0, "c").unwrap(), cg.param_slot(1, "x").unwrap());
            cg.push_local(c).unwrap();
            cg.load(MemAccess::new(ptr)).unwrap();
            cg.push_local(x).unwrap();
            cg.load(MemAccess::new(i32t)).unwrap();
            cg.call(Callee::Direct(g), 2).unwrap();
            cg.ret().unwrap();
            cg.func_end().unwrap();
        } else {
            assert_eq!(r.unwrap_err().code(), 901, "nest on {triple}");
        }
        let one = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
        let (f, g) = (func(&mut cg, "tail_f", one), func(&mut cg, "tail_g", one));
        cg.func_begin(f).unwrap();
        cg.push_int(i32t, 3).unwrap();
        let r = cg.tail_call(Callee::Direct(g), 1);
        if target.supports_guaranteed_tail_calls() {
            r.unwrap_or_else(|e| panic!("tail call on {triple}: {e}"));
        } else {
            assert_eq!(r.unwrap_err().code(), 901, "tail call on {triple}");
            cg.call(Callee::Direct(g), 1).unwrap();
            cg.ret().unwrap();
        }
        cg.func_end().unwrap();
        let mut m = cfree_llvm_lower::finish(cg).unwrap();
        for level in [OptLevel::O0, OptLevel::O2] {
            m.emit_object(level).unwrap_or_else(|e| panic!("{triple} at {level:?}: {e}"));
        }
    }
    // WebAssembly makes tail calls with its `tail-call` feature.
    let llvm = LlvmContext::new();
    let spec = TargetSpec::triple("wasm32-unknown-unknown").with_features("+tail-call");
    let mut cg = llvm.module("wasm_tail", &spec).unwrap();
    assert!(cg.target().supports_guaranteed_tail_calls());
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let one = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
    let (f, g) = (func(&mut cg, "f", one), func(&mut cg, "g", one));
    cg.func_begin(f).unwrap();
    cg.push_int(i32t, 3).unwrap();
    cg.tail_call(Callee::Direct(g), 1).unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap().emit_object(OptLevel::O2).unwrap();
}

#[test]
fn attribute_and_operand_misuse() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let ptr = cg.ty_ptr(i64t, 0).unwrap();
    let code = |r: Result<TypeId>| r.unwrap_err().code();
    let noalias = ParamAttrs { noalias: true, ..ParamAttrs::default() };
    let nest = ParamAttrs { nest: true, ..ParamAttrs::default() };
    let bad = [
        FuncSig::with_params(vec![Param::new(i64t).attrs(noalias)], None),
        FuncSig::with_params(vec![Param::new(ptr).attrs(nest), Param::new(ptr).attrs(nest)], None),
        FuncSig::with_params(vec![Param::new(ptr).attrs(ParamAttrs { align: 3, ..ParamAttrs::default() })], None),
        FuncSig::with_params(
            vec![Param::new(ptr).attrs(ParamAttrs { readonly: true, writeonly: true, ..ParamAttrs::default() })],
            None,
        ),
        FuncSig::new(&[i64t], None).variadic().conv(CallConv::Fast),
    ];
    for s in bad {
        assert_eq!(code(cg.ty_func(s.clone())), 604, "{s:?}");
    }
    let ty = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let conflicting = FuncAttrs { cold: true, hot: true, ..FuncAttrs::default() };
    assert_eq!(cg.declare_func("c", FuncDecl::new(ty).attrs(conflicting)).unwrap_err().code(), 604);
    let odd_align = FuncAttrs { stack_align: 24, ..FuncAttrs::default() };
    assert_eq!(cg.declare_func("a", FuncDecl::new(ty).attrs(odd_align)).unwrap_err().code(), 604);
    let bad_cpu = FuncAttrs { target_cpu: Some("no-such-cpu".into()), ..FuncAttrs::default() };
    let e = cg.declare_func("cpu", FuncDecl::new(ty).attrs(bad_cpu)).unwrap_err();
    assert!(e.to_string().contains("no-such-cpu"), "{e}");
    let good = FuncAttrs {
        target_cpu: Some("x86-64-v3".into()),
        target_features: Some("+avx2".into()),
        frame_pointer: Some(FramePointer::All),
        stack_align: 32,
        no_red_zone: true,
        minsize: true,
        ..FuncAttrs::default()
    };
    let f = cg.declare_func("good", FuncDecl::new(ty).attrs(good)).unwrap();

    // Aggregate operands: a place of the right type in address space 0.
    let rec = cg.ty_record(&[i64t, i64t]).unwrap();
    let other = cg.ty_record(&[i64t, i64t, i64t]).unwrap();
    let takes = cg.ty_func(FuncSig::new(&[rec], Some(rec))).unwrap();
    let callee = cg.declare_func("takes", FuncDecl::new(takes)).unwrap();
    cg.func_begin(f).unwrap();
    let (r, o) = (cg.local_slot(rec, "r", 0).unwrap(), cg.local_slot(other, "o", 0).unwrap());
    cg.push_local(r).unwrap();
    cg.push_int(i64t, 1).unwrap();
    let e = cg.call(Callee::Direct(callee), 1).unwrap_err();
    assert_eq!(e.code(), 606, "a value where a record place is needed: {e}");
    cg.discard().unwrap();
    cg.push_local(o).unwrap();
    let e = cg.call(Callee::Direct(callee), 1).unwrap_err();
    assert_eq!(e.code(), 203, "a place of another record type: {e}");
    cg.discard().unwrap();
    cg.push_local(r).unwrap();
    cg.call(Callee::Direct(callee), 1).unwrap();
    assert_eq!(cg.stack_depth(), 0, "a record result goes to the destination, nothing is pushed");
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    let ir = m.ir();
    for attr in ["\"target-cpu\"=\"x86-64-v3\"", "\"frame-pointer\"=\"all\"", "alignstack(32)", "noredzone", "minsize"]
    {
        assert!(ir.contains(attr), "{attr} missing:\n{ir}");
    }
    m.emit_object(OptLevel::O2).unwrap();
}

#[test]
fn variadic_misuse() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::triple("aarch64-unknown-linux-gnu")).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let f32t = cg.ty_float(FloatWidth::F32).unwrap();
    let list = cg.ty_va_list().unwrap();
    assert_eq!(cg.layout(list).unwrap().size, 32, "AAPCS64 va_list is 32 bytes");
    let plain = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
    let f = func(&mut cg, "plain", plain);
    cg.func_begin(f).unwrap();
    let ap = cg.local_slot(list, "ap", 0).unwrap();
    cg.push_local(ap).unwrap();
    assert_eq!(cg.va_start().unwrap_err().code(), 105, "va_start outside a variadic function");
    let e = cg.va_arg(f32t).unwrap_err();
    assert_eq!(e.code(), 203, "f32 is promoted by C callers: {e}");
    cg.discard().unwrap();
    cg.push_int(i32t, 1).unwrap();
    assert_eq!(cg.va_end().unwrap_err().code(), 204, "a value where the va_list place belongs");
    cg.ret().unwrap();
    cg.func_end().unwrap();
    // A variadic definition that never reads its extras compiles.
    let var = cg.ty_func(FuncSig::new(&[i32t], Some(i32t)).variadic()).unwrap();
    let v = func(&mut cg, "v", var);
    cg.func_begin(v).unwrap();
    cg.push_int(i32t, 0).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    assert!(!cfree_llvm_lower::finish(cg).unwrap().emit_object(OptLevel::O0).unwrap().is_empty());
}

/// MSVC's C has no empty records or zero-length arrays (clang's extension
/// gives them 4 bytes, unlike every other target): refused there, size 0
/// elsewhere.
#[test]
fn zero_sized_types_on_msvc() {
    for (triple, refused) in [("x86_64-pc-windows-msvc", true), ("x86_64-unknown-linux-gnu", false)] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("m", &TargetSpec::triple(triple)).unwrap();
        let i32t = cg.ty_int(IntWidth::I32).unwrap();
        let empty = cg.ty_record(&[]);
        let zero = cg.ty_array(i32t, 0);
        if refused {
            assert_eq!(empty.unwrap_err().code(), 901);
            assert_eq!(zero.unwrap_err().code(), 901);
        } else {
            assert_eq!(cg.layout(empty.unwrap()).unwrap().size, 0);
            assert_eq!(cg.layout(zero.unwrap()).unwrap().size, 0);
        }
    }
}

/// A body abandoned and written again keeps what the declaration said:
/// function attributes, the GC strategy, the section and the COMDAT group.
#[test]
fn abandoned_bodies_keep_their_declaration() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let attrs = FuncAttrs { noinline: true, cold: true, ..FuncAttrs::default() };
    let decl = FuncDecl::new(sig)
        .attrs(attrs)
        .section(".text.kept")
        .comdat(Comdat::any("grouped"))
        .linkage(Linkage::LinkOnceOdr);
    let f = cg.declare_func("grouped", decl).unwrap();
    let m = cg.declare_func("managed", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    for sym in [f, m] {
        cg.func_begin(sym).unwrap();
        cg.push_int(i64t, 1).unwrap();
        cg.func_abandon().unwrap();
        cg.func_begin(sym).unwrap();
        let x = cg.param_slot(0, "x").unwrap();
        cg.push_local(x).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
    }
    let mut module = cfree_llvm_lower::finish(cg).unwrap();
    let ir = module.ir();
    let define = |name: &str| {
        ir.lines().find(|l| l.starts_with("define") && l.contains(&format!("@{name}("))).unwrap_or("").to_string()
    };
    let grouped = define("grouped");
    assert!(grouped.contains("section \".text.kept\"") && grouped.contains("comdat"), "{grouped}");
    assert!(define("managed").contains("gc \"statepoint-example\""), "{}", define("managed"));
    let attr_group: String =
        grouped.split('#').nth(1).map(|n| n.chars().take_while(char::is_ascii_digit).collect()).unwrap_or_default();
    let attrs_line = ir.lines().find(|l| l.starts_with(&format!("attributes #{attr_group} "))).unwrap_or("");
    assert!(attrs_line.contains("noinline") && attrs_line.contains("cold"), "{attrs_line}\n{ir}");
    module.emit_object(OptLevel::O2).unwrap();
}
