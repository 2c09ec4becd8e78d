//! Mutated modules: decoding and compiling never panic. Each mutant either
//! fails with an error or, when it still validates, compiles to an object
//! (the facade and LLVM's verifier accept everything the compiler emits).

use cfree_facade::TargetSpec;
use cfree_llvm_lower::OptLevel;

const SEEDS: [&str; 3] = [
    include_str!("../bench/memory.wat"),
    r#"(module (type $t (func (param i32) (result i32 i64)))
         (table 2 funcref) (elem (i32.const 0) $a $b) (memory 1 2) (global $g (mut f64) (f64.const 1.5))
         (func $a (type $t) (local.get 0) (i64.const 3))
         (func $b (param i32) (result i32 i64)
           (block (result i32 i64) (local.get 0) (i64.extend_i32_s (local.get 0)) (br_if 0 (local.get 0)) (drop) (drop)
             (call_indirect (type $t) (i32.const 1) (local.get 0))))
         (func (export "c") (param i32) (result f64)
           (global.set $g (f64.add (global.get $g) (f64.convert_i32_u (memory.grow (local.get 0)))))
           (block $x (block $y (br_table $x $y $x (local.get 0))) (unreachable))
           (f64.div (global.get $g) (f64.load offset=8 (i32.const 0)))))"#,
    r#"(module (func (export "loop") (param i64) (result i64) (local i64)
         (loop $l (local.set 1 (i64.add (local.get 1) (i64.rem_s (local.get 0) (i64.const 7))))
           (br_if $l (i64.ne (local.tee 0 (i64.sub (local.get 0) (i64.const 1))) (i64.const 0))))
         (i64.trunc_sat_f64_s (f64.convert_i64_s (local.get 1)))))"#,
];

fn encode(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lexing");
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parsing");
    wat.encode().expect("encoding")
}

/// xorshift64*: deterministic, so a failure is reproducible from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn mutants_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut valid, mut total) = (0, 0);
    for seed in SEEDS {
        let original = encode(seed);
        // The unmutated module compiles.
        cfree_wasm::aot::compile_object(&original, &TargetSpec::host(), OptLevel::O0).expect("the seed compiles");
        for case in 0..150 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.next() % 3 {
                let i = (rng.next() % bytes.len() as u64) as usize;
                bytes[i] = match rng.next() % 3 {
                    0 => bytes[i] ^ (1 << (rng.next() % 8)),
                    1 => rng.next() as u8,
                    _ => bytes[i].wrapping_add(1),
                };
            }
            total += 1;
            let decoded = cfree_wasm::decode::decode(&bytes).is_ok();
            let compiled = cfree_wasm::aot::compile_object(&bytes, &TargetSpec::host(), OptLevel::O0);
            if decoded {
                valid += 1;
                assert!(compiled.is_ok(), "case {case}: a valid mutant failed to compile: {:?}", compiled.err());
            } else {
                assert!(compiled.is_err(), "case {case}: an invalid mutant compiled");
            }
        }
    }
    eprintln!("{valid} of {total} mutants still validated and compiled");
    assert!(valid > 0, "no mutant validated: the test checks only the decoder");
}
