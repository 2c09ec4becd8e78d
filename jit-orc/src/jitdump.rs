//! perf's JIT dump format (`jit-<pid>.dump`, `JitOptions::jitdump`): a
//! header, then per published function its line table (`JIT_CODE_DEBUG_INFO`,
//! from the unit's DWARF when it has some) and its code
//! (`JIT_CODE_LOAD`). `perf record -k 1` notices the file by the mmap the
//! header write makes, and `perf inject --jit` turns the records into ELF
//! images, so samples in JIT code get function names and source lines.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cfree_statepoint::SourceMap;

use crate::ffi;

const MAGIC: u32 = 0x4A69_5444;
const VERSION: u32 = 1;
const HEADER_SIZE: u32 = 40;
const CODE_LOAD: u32 = 0;
const DEBUG_INFO: u32 = 2;

/// An open JIT dump.
#[derive(Debug)]
pub(crate) struct JitDump {
    file: File,
    path: PathBuf,
    /// Functions written so far (`code_index`).
    index: u64,
}

fn elf_machine() -> u32 {
    match std::env::consts::ARCH {
        "x86_64" => 62,
        "aarch64" => 183,
        "riscv64" => 243,
        _ => 0,
    }
}

impl JitDump {
    /// Creates `jit-<pid>.dump` in `dir` and writes its header.
    pub(crate) fn create(dir: &Path) -> io::Result<JitDump> {
        let path = dir.join(format!("jit-{}.dump", std::process::id()));
        // Readable too: the mmap that marks the file needs it.
        let mut file = File::options().read(true).write(true).create(true).truncate(true).open(&path)?;
        let mut h = Vec::with_capacity(HEADER_SIZE as usize);
        h.extend_from_slice(&MAGIC.to_ne_bytes());
        h.extend_from_slice(&VERSION.to_ne_bytes());
        h.extend_from_slice(&HEADER_SIZE.to_ne_bytes());
        h.extend_from_slice(&elf_machine().to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h.extend_from_slice(&std::process::id().to_ne_bytes());
        h.extend_from_slice(&ffi::monotonic_nanos().to_ne_bytes());
        h.extend_from_slice(&0u64.to_ne_bytes());
        file.write_all(&h)?;
        ffi::mark_jitdump(&file)?;
        Ok(JitDump { file, path, index: 0 })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one published function: its line rows (if `source` has any
    /// for it), then its name and `code`, loaded at `start`.
    pub(crate) fn function(
        &mut self,
        name: &str,
        start: u64,
        code: &[u8],
        source: Option<&SourceMap>,
    ) -> io::Result<()> {
        let rows = source.map(|s| s.lines(start, start + code.len() as u64)).unwrap_or_default();
        if !rows.is_empty() {
            let mut body = Vec::new();
            body.extend_from_slice(&start.to_ne_bytes());
            body.extend_from_slice(&(rows.len() as u64).to_ne_bytes());
            for (addr, file, line) in &rows {
                body.extend_from_slice(&addr.to_ne_bytes());
                body.extend_from_slice(&line.to_ne_bytes());
                body.extend_from_slice(&0u32.to_ne_bytes());
                body.extend_from_slice(file.as_bytes());
                body.push(0);
            }
            self.record(DEBUG_INFO, &body)?;
        }
        let mut body = Vec::with_capacity(40 + name.len() + 1 + code.len());
        body.extend_from_slice(&std::process::id().to_ne_bytes());
        body.extend_from_slice(&ffi::thread_id().to_ne_bytes());
        body.extend_from_slice(&start.to_ne_bytes()); // vma
        body.extend_from_slice(&start.to_ne_bytes()); // code_addr
        body.extend_from_slice(&(code.len() as u64).to_ne_bytes());
        body.extend_from_slice(&self.index.to_ne_bytes());
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(code);
        self.index += 1;
        self.record(CODE_LOAD, &body)
    }

    fn record(&mut self, id: u32, body: &[u8]) -> io::Result<()> {
        let mut r = Vec::with_capacity(16 + body.len());
        r.extend_from_slice(&id.to_ne_bytes());
        r.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        r.extend_from_slice(&ffi::monotonic_nanos().to_ne_bytes());
        r.extend_from_slice(body);
        self.file.write_all(&r)
    }
}
