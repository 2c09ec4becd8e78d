//! NaN quieting only where an operand may be signalling (`doc/wasm.md`,
//! "NaNs"): arithmetic on values known quiet (constants, results of
//! arithmetic, locals that only ever hold such values) gets no
//! compare-and-select, arithmetic on parameters, loads or locals written
//! from them does. The results themselves are checked by the spec suite
//! (`float_exprs.wast`, `float_misc.wast` and the rest of `tests/spec.rs`);
//! here, the lowered IR and runs with a signalling NaN argument.

use cfree_facade::TargetSpec;
use cfree_llvm_lower::LlvmContext;
use cfree_wasm::{compile, decode};

const MODULE: &str = r#"(module
  ;; Only constants and arithmetic: no quieting.
  (func (export "known") (result f64) (local $z f64) (local $i i32)
    (loop $l
      (local.set $z (f64.add (f64.mul (local.get $z) (local.get $z)) (f64.const 0.25)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_s (local.get $i) (i32.const 10))))
    (local.get $z))
  ;; The parameter may be a signalling NaN: `p * 1` is quieted, and so is
  ;; arithmetic on a local written from the parameter.
  (func (export "param") (param $p f64) (result f64) (local $q f64)
    (local.set $q (local.get $p))
    (f64.add (f64.mul (local.get $p) (f64.const 1)) (f64.mul (local.get $q) (f64.const 1))))
)"#;

fn wasm() -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(MODULE).unwrap();
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).unwrap();
    wat.encode().unwrap()
}

#[test]
fn only_operands_that_may_be_signalling_are_quieted() {
    let bytes = wasm();
    let m = decode::decode(&bytes).unwrap();
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("q", &TargetSpec::host()).unwrap();
    let ids: Vec<u64> = (0..m.types.len() as u64).collect();
    compile::compile(&mut cg, &m, "q_", &ids, compile::BoundsChecks::Explicit).unwrap();
    let module = cfree_llvm_lower::finish(cg).unwrap();
    let ir = module.ir();
    let function = |name: &str| {
        let start = ir.find(&format!("@{name}(")).unwrap_or_else(|| panic!("no {name} in\n{ir}"));
        let body = &ir[start..];
        body[..body.find("\n}\n").unwrap()].to_string()
    };
    let (known, param) = (function("q_f0"), function("q_f1"));
    assert_eq!(known.matches("fcmp ord").count(), 0, "{known}");
    assert_eq!(param.matches("fcmp ord").count(), 2, "p * 1 and q * 1, not their sum:\n{param}");
}

/// Run at O0 and O2: a signalling NaN argument comes out of `p * 1` quiet
/// (LLVM folds `p * 1` to `p` at O2); the loop over known values is exact.
#[test]
fn a_signalling_argument_comes_out_quiet() {
    use cfree_llvm_lower::OptLevel;
    use cfree_wasm::runtime::{run_on_wasm_thread, Extern, Options, Store, Val};
    run_on_wasm_thread(|| {
        for level in [OptLevel::O0, OptLevel::O2] {
            let mut store = Store::new(Options::new(level)).unwrap();
            let inst = store.instantiate(&wasm(), &mut |_, _| None).unwrap();
            let (Some(Extern::Func(known)), Some(Extern::Func(param))) = (inst.export("known"), inst.export("param"))
            else {
                panic!("exports")
            };
            let mut z = 0.0f64;
            for _ in 0..10 {
                z = z * z + 0.25;
            }
            assert_eq!(store.call(known, &[]).unwrap(), vec![Val::F64(z.to_bits())], "{level:?}");
            let signalling = 0x7ff4_0000_0000_0001u64;
            let got = store.call(param, &[Val::F64(signalling)]).unwrap();
            let [Val::F64(bits)] = got[..] else { panic!("{got:?}") };
            let quiet_bit = 0x0008_0000_0000_0000u64;
            assert!(f64::from_bits(bits).is_nan() && bits & quiet_bit != 0, "{level:?}: {bits:#x} is not quiet");
        }
    });
}
