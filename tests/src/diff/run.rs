//! Running the kernels: in the JIT, and as AOT binaries through a generated
//! C driver (under qemu-user for foreign targets). Each returns the
//! mismatches and the number of cases checked.

use std::fmt::Write as _;
use std::process::Command;

use cfree_facade::TargetSpec;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};

use super::emit::{emit_all, folded_indices};
use super::{Spec, SLOT};
use crate::aot::{self, LinuxTarget};

/// What one run found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Cases whose results were compared (run-time and folded).
    pub cases: usize,
    /// Human-readable mismatches.
    pub mismatches: Vec<String>,
}

impl Outcome {
    fn check(&mut self, spec: &Spec, runtime: &[u8], folded: &[u8], path: &str) {
        self.mismatches.extend(spec.check(runtime, path));
        let sub = folded_spec(spec);
        self.mismatches.extend(sub.check(folded, &format!("{path} folded")));
        self.cases += spec.inputs.len() + sub.inputs.len();
    }
}

fn folded_spec(spec: &Spec) -> Spec {
    let inputs = folded_indices(spec).into_iter().map(|i| spec.inputs[i].clone()).collect();
    Spec { inputs, ..spec.clone() }
}

/// Builds the kernels for `triple` at `level` and returns the object.
pub fn object(specs: &[Spec], triple: &str, level: OptLevel) -> Result<Vec<u8>, String> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("semantics", &TargetSpec::triple(triple)).map_err(|e| e.to_string())?;
    emit_all(&mut cg, specs).map_err(|e| e.to_string())?;
    let mut module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    module.emit_object(level).map_err(|e| e.to_string())
}

/// Runs every kernel in the JIT at `level`.
pub fn jit(specs: &[Spec], level: OptLevel) -> Result<Outcome, Box<dyn std::error::Error>> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("semantics", &TargetSpec::host())?;
    emit_all(&mut cg, specs)?;
    let module = cfree_llvm_lower::finish(cg)?;
    let jit = Jit::new()?;
    jit.publish(&module, level)?;
    let mut outcome = Outcome::default();
    for spec in specs {
        let k = jit.get::<unsafe extern "C" fn(*const u8, *mut u8, i64)>(&format!("k_{}", spec.name))?;
        let c = jit.get::<unsafe extern "C" fn(*mut u8)>(&format!("c_{}", spec.name))?;
        let input = spec.encode_inputs();
        let mut out = vec![0u8; spec.output_len()];
        let mut folded = vec![0u8; folded_spec(spec).output_len()];
        // SAFETY: the kernel reads `n` input records and writes `n` output records, for which
        // the buffers are sized; the folded kernel writes exactly its cases' records.
        unsafe {
            k.call(input.as_ptr(), out.as_mut_ptr(), spec.inputs.len() as i64);
            c.call(folded.as_mut_ptr());
        }
        outcome.check(spec, &out, &folded, &format!("jit {level:?}"));
    }
    Ok(outcome)
}

/// The C driver for `specs`: reads each kernel's inputs from the file named by
/// `argv[1]` and writes run-time then folded results to stdout.
pub fn driver_source(specs: &[Spec]) -> String {
    let mut c = String::from("#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n\n");
    for s in specs {
        let _ = writeln!(
            c,
            "void k_{0}(const unsigned char *, unsigned char *, int64_t);\nvoid c_{0}(unsigned char *);",
            s.name
        );
    }
    let list = |f: &dyn Fn(&Spec) -> String| specs.iter().map(f).collect::<Vec<_>>().join(",\n    ");
    let _ = writeln!(
        c,
        "static void (*const ks[])(const unsigned char *, unsigned char *, int64_t) = {{\n    {}\n}};",
        list(&|s| format!("k_{}", s.name))
    );
    let _ =
        writeln!(c, "static void (*const cs[])(unsigned char *) = {{\n    {}\n}};", list(&|s| format!("c_{}", s.name)));
    let _ = writeln!(c, "static const int64_t nargs[] = {{{}}};", list(&|s| s.args.len().to_string()));
    let _ = writeln!(c, "static const int64_t nres[] = {{{}}};", list(&|s| s.results.len().to_string()));
    let _ = writeln!(c, "static const int64_t nfold[] = {{{}}};", list(&|s| folded_indices(s).len().to_string()));
    c.push_str(&format!(
        r#"
int main(int argc, char **argv) {{
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    if (!f) return 2;
    for (size_t i = 0; i < {n}; i++) {{
        int64_t n;
        if (fread(&n, 8, 1, f) != 1) return 3;
        unsigned char *in = malloc((size_t)(n * {slot} * nargs[i]) + 1);
        unsigned char *out = calloc((size_t)(n * {slot} * nres[i]) + 1, 1);
        unsigned char *fold = calloc((size_t)(nfold[i] * {slot} * nres[i]) + 1, 1);
        if (fread(in, {slot} * nargs[i], (size_t)n, f) != (size_t)n) return 4;
        ks[i](in, out, n);
        cs[i](fold);
        fwrite(out, {slot} * nres[i], (size_t)n, stdout);
        fwrite(fold, {slot} * nres[i], (size_t)nfold[i], stdout);
        free(in); free(out); free(fold);
    }}
    return 0;
}}
"#,
        n = specs.len(),
        slot = SLOT
    ));
    c
}

/// Builds, links and runs every kernel on `target` at `level`.
pub fn aot(specs: &[Spec], target: LinuxTarget, level: OptLevel) -> Result<Outcome, String> {
    let obj = object(specs, target.triple(), level)?;
    let dir = aot::scratch_dir(&format!("sem-{}", target.triple()))?;
    let exe = aot::link_with(target, &obj, &driver_source(specs), &dir)?;
    let mut input = Vec::new();
    for s in specs {
        input.extend_from_slice(&(s.inputs.len() as i64).to_le_bytes());
        input.extend_from_slice(&s.encode_inputs());
    }
    let input_path = dir.join("inputs.bin");
    std::fs::write(&input_path, &input).map_err(|e| e.to_string())?;
    let mut cmd = target.command(&exe);
    cmd.arg(&input_path);
    let out = run_binary(&mut cmd)?;
    let _ = std::fs::remove_dir_all(&dir);
    let mut outcome = Outcome::default();
    let mut at = 0;
    for s in specs {
        let (rt, fo) = (s.output_len(), folded_spec(s).output_len());
        if out.len() < at + rt + fo {
            return Err(format!("{}: output ends early at {}", s.name, out.len()));
        }
        outcome.check(s, &out[at..at + rt], &out[at + rt..at + rt + fo], &format!("{:?} {level:?}", target));
        at += rt + fo;
    }
    Ok(outcome)
}

fn run_binary(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}
