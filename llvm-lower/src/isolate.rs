//! Isolated compilation: optimisation and code generation in a worker process,
//! so that a crash inside LLVM (a segfault or a fatal error on valid input, see
//! `doc/isolation.md`) becomes an [`Error::WorkerCrashed`] for the caller instead
//! of ending the embedding process.
//!
//! The caller serialises the finished module to bitcode and sends it with the
//! target (triple, CPU, features), the optimisation level and whether the module
//! has managed functions to the worker on stdin; the worker runs the same pipeline
//! as [`crate::LlvmModule::emit_object`] and writes the object to stdout. The
//! object is byte-identical to the in-process one.
//!
//! The worker is the `cfree-codegen-worker` binary of this crate, a thin `main`
//! calling [`worker_main`]; an embedder can build its own the same way.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;
use inkwell::targets::{FileType, Target, TargetTriple};

use crate::{Error, LlvmModule, OptLevel, Result};

/// The first bytes of a request (and the protocol version).
const MAGIC: &[u8; 8] = b"CFREECG1";
/// The worker's exit status when it reports an error of its own (bad request,
/// bitcode LLVM cannot read, a pass or code generation failing with an error).
const WORKER_ERROR: u8 = 3;
/// How much of the worker's stderr an error keeps (the end, where LLVM's last words are).
const STDERR_TAIL: usize = 4096;

/// Code generation in a separate worker process (see the module docs).
#[derive(Clone, Debug)]
pub struct IsolatedCodegen {
    worker: PathBuf,
}

impl IsolatedCodegen {
    /// Uses the worker executable at `worker` (normally `cfree-codegen-worker`, built
    /// with this crate and the same LLVM).
    pub fn new(worker: impl Into<PathBuf>) -> Self {
        Self { worker: worker.into() }
    }

    /// The worker executable.
    pub fn worker(&self) -> &Path {
        &self.worker
    }

    /// What [`LlvmModule::emit_object`] returns for `module` at `level`, computed in a
    /// worker process. `module` is not changed: pass it unoptimised (as [`crate::finish`]
    /// returns it), since the worker runs the whole `level` pipeline.
    ///
    /// The module is verified here first, like the in-process path. A worker killed by
    /// a signal (LLVM crashed, or aborted on a fatal error) or exiting abnormally gives
    /// [`Error::WorkerCrashed`]; a worker that could not be started or reported an error
    /// gives [`Error::Worker`]. Either way this process is unaffected and can compile again.
    pub fn emit_object(&self, module: &LlvmModule<'_>, level: OptLevel) -> Result<Vec<u8>> {
        module.verify()?;
        let target = module.target();
        let bitcode = module.llvm().write_bitcode_to_memory();
        let request = Request {
            level,
            gc: crate::ffi::has_gc_functions(module.llvm()),
            triple: &target.triple,
            cpu: &target.cpu,
            features: &target.features,
            bitcode: bitcode.as_slice(),
        };
        let output = self.run(&request.encode())?;
        let stderr_tail = tail(&output.stderr);
        match (output.status.code(), exit_signal(&output.status)) {
            (Some(0), _) if !output.stdout.is_empty() => Ok(output.stdout),
            (Some(0), _) => Err(Error::Worker("the worker exited successfully without an object".into())),
            (Some(code), _) if code == i32::from(WORKER_ERROR) => Err(Error::Worker(stderr_tail)),
            (status, signal) => Err(Error::WorkerCrashed { signal, status, stderr: stderr_tail }),
        }
    }

    /// Runs the worker with `request` as its stdin. The request goes through an
    /// anonymous file rather than a pipe: nothing blocks, and a worker that dies
    /// early cannot raise SIGPIPE in this process.
    fn run(&self, request: &[u8]) -> Result<std::process::Output> {
        let io = |what: &str, e: std::io::Error| Error::Worker(format!("{what} `{}`: {e}", self.worker.display()));
        let mut input = request_file().map_err(|e| io("cannot buffer the request for", e))?;
        input.write_all(request).map_err(|e| io("cannot buffer the request for", e))?;
        input.seek(SeekFrom::Start(0)).map_err(|e| io("cannot buffer the request for", e))?;
        Command::new(&self.worker)
            .stdin(Stdio::from(input))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| io("cannot run the worker", e))
    }
}

/// An unnamed read-write file for the request.
fn request_file() -> std::io::Result<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        crate::ffi::anonymous_file()
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("cfree-codegen-{}-{n}", std::process::id()));
        let file = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        // Unix keeps the open file after its name is gone; elsewhere the name stays behind.
        let _ = std::fs::remove_file(&path);
        Ok(file)
    }
}

#[cfg(unix)]
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn exit_signal(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end();
    let mut start = text.len().saturating_sub(STDERR_TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

/// One compilation, as sent to the worker:
/// `MAGIC, level u8, gc u8, (len u32 LE, bytes) for triple, cpu, features, bitcode...`.
#[derive(Debug, PartialEq, Eq)]
struct Request<'a> {
    level: OptLevel,
    gc: bool,
    triple: &'a str,
    cpu: &'a str,
    features: &'a str,
    bitcode: &'a [u8],
}

fn level_code(level: OptLevel) -> u8 {
    match level {
        OptLevel::O0 => 0,
        OptLevel::O1 => 1,
        OptLevel::O2 => 2,
        OptLevel::O3 => 3,
        OptLevel::Os => 4,
    }
}

fn level_of(code: u8) -> Option<OptLevel> {
    [OptLevel::O0, OptLevel::O1, OptLevel::O2, OptLevel::O3, OptLevel::Os].into_iter().find(|l| level_code(*l) == code)
}

/// The code generation level matching the pipeline (the in-process mapping, `module.rs`).
impl<'a> Request<'a> {
    fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(MAGIC.len() + 14 + self.triple.len() + self.features.len() + self.bitcode.len());
        out.extend_from_slice(MAGIC);
        out.push(level_code(self.level));
        out.push(u8::from(self.gc));
        for s in [self.triple, self.cpu, self.features] {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(self.bitcode);
        out
    }

    fn decode(bytes: &'a [u8]) -> std::result::Result<Self, String> {
        let rest = bytes.strip_prefix(MAGIC).ok_or("not a cfree code generation request")?;
        let [level, gc, rest @ ..] = rest else { return Err("request truncated in its header".into()) };
        let level = level_of(*level).ok_or_else(|| format!("unknown optimisation level code {level}"))?;
        let gc = match gc {
            0 => false,
            1 => true,
            other => return Err(format!("bad GC flag {other}")),
        };
        let mut rest = rest;
        let mut text = |what: &str| -> std::result::Result<&'a str, String> {
            let (len, tail) =
                rest.split_first_chunk::<4>().ok_or_else(|| format!("request truncated before {what}"))?;
            let len = u32::from_le_bytes(*len) as usize;
            if tail.len() < len {
                return Err(format!("request truncated in {what}"));
            }
            let (s, tail) = tail.split_at(len);
            rest = tail;
            std::str::from_utf8(s).map_err(|e| format!("{what} is not UTF-8: {e}"))
        };
        let (triple, cpu, features) = (text("triple")?, text("cpu")?, text("features")?);
        Ok(Request { level, gc, triple, cpu, features, bitcode: rest })
    }
}

/// The worker's `main`: reads one request from stdin, writes the object to stdout and
/// exits 0; on an error LLVM reports, prints it to stderr and exits with status 3. A crash
/// inside LLVM ends the process by its signal, after LLVM's pretty stack trace (the pass
/// and function it was in) on stderr.
pub fn worker_main() -> ExitCode {
    crate::ffi::enable_pretty_stack_trace();
    let mut input = Vec::new();
    let result = std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .map_err(|e| format!("cannot read the request: {e}"))
        .and_then(|_| Request::decode(&input))
        .and_then(|request| compile(&request));
    let written = result.and_then(|object| {
        let mut out = std::io::stdout().lock();
        out.write_all(&object).and_then(|()| out.flush()).map_err(|e| format!("cannot write the object: {e}"))
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cfree-codegen-worker: {message}");
            ExitCode::from(WORKER_ERROR)
        }
    }
}

/// The in-process pipeline of [`LlvmModule::emit_object`] on the decoded module.
fn compile(request: &Request<'_>) -> std::result::Result<Vec<u8>, String> {
    crate::context::init_targets();
    let context = Context::create();
    let buffer = MemoryBuffer::create_from_memory_range(request.bitcode, "cfree-request");
    let module = Module::parse_bitcode_from_buffer(&buffer, &context).map_err(|e| format!("bitcode: {e}"))?;
    module.verify().map_err(|e| format!("LLVM verifier: {e}"))?;
    let target = Target::from_triple(&TargetTriple::create(request.triple)).map_err(|e| e.to_string())?;
    let level = crate::module::codegen_level(request.level);
    let tm = crate::target::machine(&target, request.triple, request.cpu, request.features, level)
        .map_err(|e| e.to_string())?;
    crate::module::optimize(&module, &tm, request.level, request.gc).map_err(|e| e.to_string())?;
    crate::module::write(&tm, &module, FileType::Object).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_truncation_is_an_error() {
        let r = Request {
            level: OptLevel::Os,
            gc: true,
            triple: "x86_64-unknown-linux-gnu",
            cpu: "skylake",
            features: "+avx2",
            bitcode: b"BC\xc0\xde",
        };
        let bytes = r.encode();
        assert_eq!(Request::decode(&bytes), Ok(r));
        for cut in 0..bytes.len() - 4 {
            assert!(Request::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = bytes.clone();
        bad[8] = 9;
        assert_eq!(Request::decode(&bad), Err("unknown optimisation level code 9".into()));
    }

    #[test]
    fn the_stderr_tail_keeps_the_end_on_a_char_boundary() {
        let long = "é".repeat(STDERR_TAIL);
        let t = tail(long.as_bytes());
        assert!(t.len() <= STDERR_TAIL && t.chars().all(|c| c == 'é'));
        assert_eq!(tail(b"short\n"), "short");
    }
}
