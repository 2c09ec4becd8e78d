//! Ahead-of-time executables (`cfree-toy build`): the program lowered for
//! x86-64 or AArch64 Linux (the host by default) with a C `main` added through
//! the facade, emitted as an object and linked by the system `cc` (or
//! `aarch64-linux-gnu-gcc` when cross-building) with the runtime's static
//! library (`libcfree_toy_rt.a`, the `staticlib` of `cfree-toy-rt`, built for
//! the same target).
//!
//! The C `main(argc, argv)` is ordinary code (`GcRole::None`): it calls
//! `cfree_toy_rt_main(argc, argv, entry, file, file_len)` with the address of
//! the Toy `main` and the source file name (a string constant, for runtime
//! errors), and returns its result. The runtime then reads the executable's
//! own `.llvm_stackmaps` (see `cfree_toy_rt::aot`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use cfree_facade::{
    Arch, Backend, Callee, Cg, DataDecl, DataInit, FuncDecl, FuncSig, GcRole, IntWidth, Linkage, MemAccess, Sym,
    TargetSpec,
};
use cfree_llvm_lower::{LlvmContext, OptLevel};

use crate::codegen;
use crate::typed::TypedProgram;

/// The runtime function the C `main` calls.
pub const RUNTIME_MAIN: &str = "cfree_toy_rt_main";

/// File name of the runtime's static library.
pub const RUNTIME_LIBRARY: &str = "libcfree_toy_rt.a";

/// Environment variable naming the runtime library explicitly.
pub const RUNTIME_LIBRARY_ENV: &str = "CFREE_TOY_RT_LIB";

/// Adds to `cg` (where [`codegen::emit`] put the program) the C entry point
/// `int main(int argc, char **argv)`, which returns
/// `cfree_toy_rt_main(argc, argv, &toy.entry, file_name, len(file_name))`
/// (the entry initialises the globals, then calls the program's `main`).
pub fn emit_c_main<B: Backend>(cg: &mut Cg<B>, file_name: &str) -> Result<(), String> {
    let entry = codegen::ENTRY_SYMBOL;
    let toy_main = cg.symbol_by_name(entry).ok_or_else(|| format!("the program has no `{entry}`"))?;
    emit_c_main_calling(cg, toy_main, file_name).map_err(|e| e.to_string())
}

fn emit_c_main_calling<B: Backend>(cg: &mut Cg<B>, toy_main: Sym, file_name: &str) -> cfree_facade::Result<()> {
    let i8 = cg.ty_int(IntWidth::I8)?;
    let i32 = cg.ty_int(IntWidth::I32)?;
    let i64 = cg.ty_int(IntWidth::I64)?;
    let ptr = cg.ty_ptr(i8, 0)?;

    let bytes = if file_name.is_empty() { vec![0] } else { file_name.as_bytes().to_vec() };
    let array = cg.ty_array(i8, bytes.len() as u64)?;
    let name = cg.declare_data("toy.file_name", DataDecl::new(array).linkage(Linkage::Internal).readonly())?;
    cg.define_data(name, &DataInit::new().bytes(&bytes))?;

    let rt_sig = cg.ty_func(FuncSig::new(&[i32, ptr, ptr, ptr, i64], Some(i32)))?;
    let rt_main = cg.declare_func(RUNTIME_MAIN, FuncDecl::new(rt_sig).gc(GcRole::None))?;
    let main_sig = cg.ty_func(FuncSig::new(&[i32, ptr], Some(i32)))?;
    let main = cg.declare_func("main", FuncDecl::new(main_sig).gc(GcRole::None))?;

    cg.func_begin(main)?;
    let argc = cg.param_slot(0, "argc")?;
    let argv = cg.param_slot(1, "argv")?;
    cg.push_local(argc)?;
    cg.load(MemAccess::new(i32))?;
    cg.push_local(argv)?;
    cg.load(MemAccess::new(ptr))?;
    cg.push_sym_addr(toy_main)?;
    cg.push_sym_addr(name)?;
    cg.push_int(i64, file_name.len() as i128)?;
    cg.call(Callee::Direct(rt_main), 5)?;
    cg.ret()?;
    cg.func_end()
}

/// The targets executables can be built for (the runtime walks their frames).
pub const TARGETS: [&str; 2] = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

/// Where an executable is built for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The target triple, one of [`TARGETS`].
    pub triple: String,
    /// Whether it is the host's (no cross tools needed).
    pub native: bool,
}

impl Target {
    /// `triple` (one of [`TARGETS`]), or the host if `None`.
    pub fn new(triple: Option<&str>) -> Result<Target, String> {
        let host = match (cfg!(target_os = "linux"), std::env::consts::ARCH) {
            (true, "x86_64") => Some(TARGETS[0]),
            (true, "aarch64") => Some(TARGETS[1]),
            _ => None,
        };
        match triple {
            None => match host {
                Some(t) => Ok(Target { triple: t.to_string(), native: true }),
                None => Err(format!(
                    "executables can be built for {}, and this host is {} {}",
                    TARGETS.join(" and "),
                    std::env::consts::ARCH,
                    std::env::consts::OS
                )),
            },
            Some(t) if TARGETS.contains(&t) => Ok(Target { triple: t.to_string(), native: host == Some(t) }),
            Some(t) => Err(format!("`{t}`: executables can be built for {}", TARGETS.join(" and "))),
        }
    }

    /// The C compiler that links for this target.
    fn linker(&self) -> &'static str {
        match (self.native, self.triple.starts_with("aarch64")) {
            (true, _) => "cc",
            (false, true) => "aarch64-linux-gnu-gcc",
            (false, false) => "x86_64-linux-gnu-gcc",
        }
    }
}

/// The object file of `program` with its C `main`, optimised at `level`, for `target`.
pub fn object(
    program: &TypedProgram,
    level: OptLevel,
    target: &Target,
    options: &codegen::Options,
) -> Result<Vec<u8>, String> {
    let llvm = LlvmContext::new();
    let spec = if target.native { TargetSpec::host() } else { TargetSpec::triple(&target.triple) };
    let mut cg = llvm.module(&program.file_name, &spec).map_err(|e| e.to_string())?;
    let info = cg.target().clone();
    if !matches!(info.arch, Arch::X86_64 | Arch::Aarch64) || !info.triple.contains("linux") {
        return Err(format!("executables can be built for {TARGETS:?}, not {}", info.triple));
    }
    codegen::emit(program, &mut cg, options).map_err(|e| format!("code generation: {e}"))?;
    emit_c_main(&mut cg, &program.file_name).map_err(|e| format!("code generation: {e}"))?;
    let mut module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    module.emit_object(level).map_err(|e| e.to_string())
}

/// The runtime library to link: `$CFREE_TOY_RT_LIB` if set, else
/// `libcfree_toy_rt.a` beside this executable, or the one Cargo left in
/// `deps/` beside it when it built `cfree-toy-rt` as a dependency
/// (`libcfree_toy_rt-<hash>.a`); the most recently built of those wins.
/// For a cross target, Cargo's layout for `--target`: beside this
/// executable's directory, in `<triple>/<profile>/` (`cargo build -p
/// cfree-toy-rt --target <triple>`).
pub fn runtime_library(target: &Target) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(RUNTIME_LIBRARY_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("the runtime library {} ({RUNTIME_LIBRARY_ENV}) does not exist", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the cfree-toy executable: {e}"))?;
    let dir = exe.parent().ok_or_else(|| format!("{} has no directory", exe.display()))?;
    if !target.native {
        let profile = dir.file_name().unwrap_or_default();
        let lib = dir.parent().unwrap_or(dir).join(&target.triple).join(profile).join(RUNTIME_LIBRARY);
        return if lib.is_file() {
            Ok(lib)
        } else {
            Err(format!(
                "the {} runtime library was not found at {}; build it with `cargo build -p cfree-toy-rt --target \
                 {}` (same profile as cfree-toy) or set {RUNTIME_LIBRARY_ENV}",
                target.triple,
                lib.display(),
                target.triple
            ))
        };
    }
    let mut candidates = vec![dir.join(RUNTIME_LIBRARY)];
    let deps = dir.join("deps");
    if let Ok(entries) = std::fs::read_dir(&deps) {
        candidates.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libcfree_toy_rt-") && n.ends_with(".a"))
        }));
    }
    let newest = candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok().filter(|m| m.is_file())?.modified().ok()?, p)))
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, p)| p.clone());
    newest.ok_or_else(|| {
        format!(
            "the runtime library was not found: tried {} and {}; build it with `cargo build -p cfree-toy-rt` \
             (same profile as cfree-toy) or set {RUNTIME_LIBRARY_ENV}",
            dir.join(RUNTIME_LIBRARY).display(),
            deps.join("libcfree_toy_rt-*.a").display()
        )
    })
}

/// A fresh scratch directory under the system temp dir.
fn scratch_dir() -> Result<PathBuf, String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cfree-toy-build-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Links `object` with the runtime library `runtime` into the executable `out`,
/// with `cc` (or the cross compiler of `target`).
pub fn link(object: &[u8], runtime: &Path, out: &Path, target: &Target) -> Result<(), String> {
    let dir = scratch_dir()?;
    let result = link_in(&dir, object, runtime, out, target.linker());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn link_in(dir: &Path, object: &[u8], runtime: &Path, out: &Path, cc: &str) -> Result<(), String> {
    let obj = dir.join("program.o");
    std::fs::write(&obj, object).map_err(|e| format!("writing {}: {e}", obj.display()))?;
    let mut cmd = Command::new(cc);
    // `-no-pie`: the function addresses in `.llvm_stackmaps` are absolute relocations
    // (R_X86_64_64). In a position-independent executable they would become dynamic
    // relocations, applied in memory at load time only, and the section in the file (which
    // the runtime reads through /proc/self/exe) would keep unrelocated addresses. With a
    // fixed load address the linker writes the final addresses into the file.
    cmd.arg("-no-pie").arg(&obj).arg(runtime).args(["-lpthread", "-ldl", "-lm", "-o"]).arg(out);
    let output = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("cannot link: `{cc}` was not found (install a C compiler such as gcc)")
        }
        _ => format!("cannot run `{cc}`: {e}"),
    })?;
    if !output.status.success() {
        return Err(format!(
            "linking {} failed ({cc}: {}):\n{}",
            out.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    Ok(())
}

/// Builds the executable `out` from `program` at `level` for `target`: finds
/// the runtime library, emits the object, links.
pub fn build(
    program: &TypedProgram,
    level: OptLevel,
    out: &Path,
    target: &Target,
    options: &codegen::Options,
) -> Result<(), String> {
    let runtime = runtime_library(target)?;
    let object = object(program, level, target, options)?;
    link(&object, &runtime, out, target)
}
