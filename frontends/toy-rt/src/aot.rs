//! The runtime of ahead-of-time executables (`cfree-toy build`): the C
//! `main` that the compiler emits calls [`cfree_toy_rt_main`], which reads
//! the executable's own `.llvm_stackmaps` section, runs the program's `main`
//! on a thread with a [`STACK_SIZE`] stack with the collector installed, and
//! turns the result into an exit status.
//!
//! Stack maps come from `/proc/self/exe`, parsed with `object` (only the ELF
//! header, the section headers and `.llvm_stackmaps` are read). The
//! executable must not be position independent (`cc -no-pie`): the function
//! addresses in `.llvm_stackmaps` are absolute relocations, which the linker
//! resolves into the file only when the load address is fixed. The table is
//! built by [`SafepointTable::build`] (the builder the JIT's registry uses
//! too) from those addresses: each record's return address is its function's
//! address plus its instruction offset, decoded with its ID (the source
//! position `toy_panic` reports in its backtrace). A record that does not
//! decode, or a dynamic frame the AArch64 walk cannot step over, is an error
//! at startup (it would hide roots).

use std::ffi::{c_char, CStr};
use std::path::Path;
use std::sync::Arc;

use cfree_statepoint::{Arch, FaultMapSection, OtherRecords, Safepoint, SafepointTable, SourceMap, StackMapSection};
use object::elf::{FileHeader64, ET_DYN, ET_EXEC};
use object::read::elf::{FileHeader, SectionHeader};
use object::read::ReadCache;
use object::Endianness;

use crate::{SafepointSource, Settings};

/// The architecture of this runtime (and of the executables it is linked into).
#[cfg(target_arch = "x86_64")]
const ARCH: Arch = Arch::X86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: Arch = Arch::AArch64;
#[cfg(target_arch = "x86_64")]
const MACHINE: u16 = object::elf::EM_X86_64;
#[cfg(target_arch = "aarch64")]
const MACHINE: u16 = object::elf::EM_AARCH64;

/// Stack size of the thread that runs the program (deep recursion is normal in Toy).
pub const STACK_SIZE: usize = 1 << 30;

/// Exit status of startup failures (unreadable stack maps, no thread).
const STARTUP_FAILURE: i32 = 1;
/// Exit status of a bad command line.
const USAGE_FAILURE: i32 = 2;
/// Exit status when the runtime itself panicked (as a Rust program would).
const INTERNAL_FAILURE: i32 = 101;

/// The safepoints of an executable, sorted by return address, and its debug
/// information (read on first use, for a backtrace).
#[derive(Clone, Debug, Default)]
pub struct StackMaps {
    table: SafepointTable,
    /// The executable whose DWARF [`SafepointSource::source_frames`] reads.
    path: Option<std::path::PathBuf>,
    sources: Arc<std::sync::OnceLock<Option<SourceMap>>>,
}

impl SafepointSource for StackMaps {
    fn safepoint_at(&self, pc: u64) -> Option<&Safepoint> {
        self.table.safepoint_at(pc)
    }

    fn source_frames(&self, pc: u64) -> Vec<cfree_statepoint::SourcePos> {
        let map = self.sources.get_or_init(|| {
            let data = std::fs::read(self.path.as_ref()?).ok()?;
            SourceMap::from_linked(&data).ok().flatten()
        });
        map.as_ref().map(|m| m.frames(pc)).unwrap_or_default()
    }
}

impl StackMaps {
    /// Number of safepoints.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The table itself.
    pub fn table(&self) -> &SafepointTable {
        &self.table
    }

    /// Decodes the contents of a linked `.llvm_stackmaps` section of `arch`,
    /// whose function addresses are final ([`SafepointTable::build`] with the
    /// section's own addresses). Every record must be a statepoint the
    /// collector can walk; a function address of 0 (unrelocated) is refused.
    pub fn parse_for(arch: Arch, section: &[u8]) -> Result<StackMaps, String> {
        let maps = StackMapSection::parse(section).map_err(|e| format!(".llvm_stackmaps: {e}"))?;
        let addresses: Vec<u64> = maps.functions().map(|f| f.function_address).collect();
        if let Some(f) = maps.functions().find(|f| f.function_address == 0 && f.record_count > 0) {
            return Err(format!(
                ".llvm_stackmaps: function entry {} has address 0 (unrelocated: was the executable linked with \
                 -no-pie?)",
                f.index
            ));
        }
        let table = SafepointTable::build(arch, &maps, &addresses, OtherRecords::Refuse)
            .map_err(|e| format!(".llvm_stackmaps: {e}"))?;
        Ok(StackMaps { table, ..StackMaps::default() })
    }

    /// [`Self::parse_for`] this runtime's architecture.
    pub fn parse(section: &[u8]) -> Result<StackMaps, String> {
        StackMaps::parse_for(ARCH, section)
    }

    /// Reads the stack maps of the non-PIE ELF executable at `path` (of this runtime's architecture).
    /// An executable without `.llvm_stackmaps` has no safepoints.
    pub fn read_executable(path: &Path) -> Result<StackMaps, String> {
        let shown = path.display();
        let maps = match executable_section(path, b".llvm_stackmaps")? {
            Some(data) => StackMaps::parse(&data).map_err(|e| format!("{shown}: {e}"))?,
            None => StackMaps::default(),
        };
        Ok(StackMaps { path: Some(path.to_path_buf()), ..maps })
    }
}

/// The implicit checks of the non-PIE executable at `path`: `(faulting pc,
/// handler pc)` from its `.llvm_faultmaps` (none without the section).
pub fn read_trap_sites(path: &Path) -> Result<Vec<(u64, u64)>, String> {
    let shown = path.display();
    let Some(data) = executable_section(path, b".llvm_faultmaps")? else {
        return Ok(Vec::new());
    };
    let maps = FaultMapSection::parse(&data).map_err(|e| format!("{shown}: .llvm_faultmaps: {e}"))?;
    if maps.functions.iter().any(|f| f.address == 0) {
        return Err(format!("{shown}: .llvm_faultmaps: a function address is 0 (unrelocated)"));
    }
    let starts: Vec<u64> = maps.functions.iter().map(|f| f.address).collect();
    Ok(maps.sites_at(&starts).map(|(pc, handler, _)| (pc, handler)).collect())
}

/// The contents of section `name` of the non-PIE ELF executable at `path` (of
/// this runtime's architecture), if it has one.
fn executable_section(path: &Path, name: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    let cache = ReadCache::new(file);
    let header = FileHeader64::<Endianness>::parse(&cache).map_err(|e| format!("{shown}: {e}"))?;
    let endian = header.endian().map_err(|e| format!("{shown}: {e}"))?;
    if header.e_machine(endian) != MACHINE {
        return Err(format!("{shown}: not an {ARCH:?} executable"));
    }
    match header.e_type(endian) {
        ET_EXEC => {}
        ET_DYN => {
            return Err(format!(
                "{shown} is a position-independent executable: its stack maps hold unrelocated addresses (link \
                 with -no-pie)"
            ))
        }
        _ => return Err(format!("{shown}: not an executable")),
    }
    let sections = header.sections(endian, &cache).map_err(|e| format!("{shown}: {e}"))?;
    let Some((_, section)) = sections.section_by_name(endian, name) else {
        return Ok(None);
    };
    let section_name = String::from_utf8_lossy(name);
    let data = section.data(endian, &cache).map_err(|e| format!("{shown}: {section_name}: {e}"))?;
    Ok(Some(data.to_vec()))
}

/// What the command line asked for.
fn parse_args(args: &[String]) -> Result<i64, String> {
    let program = args.first().map(String::as_str).unwrap_or("program");
    match args {
        [] | [_] => Ok(0),
        [_, n] => n.parse().map_err(|_| format!("{program}: `{n}` is not an integer\nusage: {program} [N]")),
        _ => Err(format!("usage: {program} [N]")),
    }
}

/// Reads `argc` C strings from `argv` (lossily converted to UTF-8).
///
/// # Safety
///
/// `argv` is null or points at `argc` valid pointers to NUL-terminated strings.
unsafe fn read_args(argc: i32, argv: *const *const c_char) -> Vec<String> {
    if argv.is_null() {
        return Vec::new();
    }
    (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: `i < argc`, and the caller guarantees `argc` valid entries.
            let p = unsafe { *argv.add(i) };
            if p.is_null() {
                return String::new();
            }
            // SAFETY: a non-null argv entry is a NUL-terminated string (caller's guarantee).
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        })
        .collect()
}

/// The entry point of AOT executables, called by the `main` that `cfree-toy
/// build` emits: `main(N)` of the Toy program (`entry`, which takes the
/// thread's context first) runs on a thread
/// with a [`STACK_SIZE`] stack, with the collector installed
/// ([`Settings::from_env`], so `CFREE_GC_STRESS=1` works) over the stack maps
/// of `/proc/self/exe`. Runtime errors are reported against the source file
/// name `file[..file_len]`. With `CFREE_TOY_STATS=1` the collector's
/// statistics go to stderr. Returns the result modulo 256, 2 for a bad
/// command line (`PROGRAM [N]`), 1 if the stack maps cannot be used.
///
/// # Safety
///
/// `argv` holds `argc` C strings (as C's `main` receives them); `file` points
/// at `file_len` readable bytes (or is null); `entry` is a Toy `main` compiled
/// into this executable, whose safepoints are in its `.llvm_stackmaps`.
#[no_mangle]
pub unsafe extern "C" fn cfree_toy_rt_main(
    argc: i32,
    argv: *const *const c_char,
    entry: Option<unsafe extern "C" fn(u64, i64) -> i64>,
    file: *const u8,
    file_len: i64,
) -> i32 {
    // The whole body is caught: a panic must not unwind into the C `main` (`guard.rs`).
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: forwarded from this function's contract.
        let args = unsafe { read_args(argc, argv) };
        let file_name = match usize::try_from(file_len) {
            Ok(len) if !file.is_null() => {
                // SAFETY: the caller guarantees `file_len` readable bytes at `file`.
                let bytes = unsafe { std::slice::from_raw_parts(file, len) };
                String::from_utf8_lossy(bytes).into_owned()
            }
            _ => String::new(),
        };
        main_with(&args, entry, file_name)
    }));
    match outcome {
        Ok(status) => status,
        Err(payload) => {
            eprintln!(
                "cfree-toy-rt: internal error (the runtime panicked: {})",
                crate::guard::panic_message(&*payload)
            );
            INTERNAL_FAILURE
        }
    }
}

fn main_with(args: &[String], entry: Option<unsafe extern "C" fn(u64, i64) -> i64>, file_name: String) -> i32 {
    let n = match parse_args(args) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{e}");
            return USAGE_FAILURE;
        }
    };
    let Some(entry) = entry else {
        eprintln!("cfree-toy-rt: no entry point");
        return STARTUP_FAILURE;
    };
    let maps = match StackMaps::read_executable(Path::new("/proc/self/exe")) {
        Ok(maps) => maps,
        Err(e) => {
            eprintln!("cfree-toy-rt: reading the stack maps: {e}");
            return STARTUP_FAILURE;
        }
    };
    let traps = read_trap_sites(Path::new("/proc/self/exe")).and_then(crate::set_trap_table);
    if let Err(e) = traps {
        eprintln!("cfree-toy-rt: installing the trap table: {e}");
        return STARTUP_FAILURE;
    }
    let settings = Settings::from_env();
    let thread = std::thread::Builder::new().stack_size(STACK_SIZE).spawn(move || {
        crate::set_file_name(&file_name);
        let ctx = crate::install(Arc::new(maps), settings);
        // SAFETY: `entry` is the program's compiled `main` (this function's contract); it
        // allocates only through the runtime installed above, on the threads it registers,
        // and its frames are described by the stack maps just read.
        let result = unsafe { entry(ctx, n) };
        // A panic that no deferred call recovered: its report, and status 101.
        crate::panic::exit_if_unrecovered();
        (result, crate::finish())
    });
    let (result, stats) = match thread.map(|t| t.join()) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => {
            eprintln!("cfree-toy-rt: the program thread panicked");
            return INTERNAL_FAILURE;
        }
        Err(e) => {
            eprintln!("cfree-toy-rt: starting the program thread: {e}");
            return STARTUP_FAILURE;
        }
    };
    if std::env::var("CFREE_TOY_STATS").is_ok_and(|v| v == "1") {
        eprintln!("{stats}");
    }
    (result & 0xff) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_args(&args(&[])), Ok(0));
        assert_eq!(parse_args(&args(&["p"])), Ok(0));
        assert_eq!(parse_args(&args(&["p", "-16"])), Ok(-16));
        assert!(parse_args(&args(&["p", "x"])).unwrap_err().contains("`x` is not an integer"));
        assert!(parse_args(&args(&["p", "1", "2"])).unwrap_err().starts_with("usage: p [N]"));
    }

    fn section(functions: &[(u64, u64)], records: &[(u32, &[[u8; 12]])]) -> Vec<u8> {
        let mut b = vec![3, 0, 0, 0];
        b.extend((functions.len() as u32).to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend((records.len() as u32).to_le_bytes());
        for (addr, count) in functions {
            b.extend(addr.to_le_bytes());
            b.extend(16u64.to_le_bytes());
            b.extend(count.to_le_bytes());
        }
        for (offset, locations) in records {
            b.extend(0xabcd_ef00u64.to_le_bytes());
            b.extend(offset.to_le_bytes());
            b.extend(0u16.to_le_bytes());
            b.extend((locations.len() as u16).to_le_bytes());
            for l in *locations {
                b.extend(l);
            }
            while b.len() % 8 != 0 {
                b.push(0);
            }
            b.extend([0u8; 4]); // padding, no live-outs
            while b.len() % 8 != 0 {
                b.push(0);
            }
        }
        b
    }

    /// A 12-byte location: kind, 0, size, register, 0, offset.
    fn loc(kind: u8, reg: u16, offset: i32) -> [u8; 12] {
        let mut l = [0u8; 12];
        l[0] = kind;
        l[2..4].copy_from_slice(&8u16.to_le_bytes());
        l[4..6].copy_from_slice(&reg.to_le_bytes());
        l[8..12].copy_from_slice(&offset.to_le_bytes());
        l
    }

    #[test]
    fn records_map_return_addresses_to_safepoints() {
        let constant = |v| loc(4, 0, v);
        let spilled = loc(3, 7, 16);
        let header = [constant(0), constant(0), constant(0)];
        let with_root: Vec<[u8; 12]> = header.iter().copied().chain([spilled, spilled]).collect();
        let bytes = section(&[(0x401000, 2), (0x402000, 1)], &[(5, &with_root), (9, &header), (3, &header)]);
        let maps = StackMaps::parse_for(Arch::X86_64, &bytes).unwrap();
        assert_eq!(maps.len(), 3);
        assert_eq!(maps.safepoint_at(0x401005).map(|s| s.live.len()), Some(1));
        assert_eq!(maps.safepoint_at(0x401009).map(|s| s.live.len()), Some(0));
        assert_eq!(maps.safepoint_at(0x402003).map(|s| s.live.len()), Some(0));
        assert!(maps.safepoint_at(0x401000).is_none());
    }

    #[test]
    fn undecodable_or_unrelocated_records_are_errors() {
        let constant = |v| loc(4, 0, v);
        let in_register = loc(1, 3, 0);
        let bad: Vec<[u8; 12]> = [constant(0), constant(0), constant(0), in_register, in_register].to_vec();
        let e = StackMaps::parse_for(Arch::X86_64, &section(&[(0x401000, 1)], &[(5, &bad)])).unwrap_err();
        assert!(e.contains("cannot be used by the collector"), "{e}");
        let header = [constant(0), constant(0), constant(0)];
        let e = StackMaps::parse_for(Arch::X86_64, &section(&[(0, 1)], &[(5, &header)])).unwrap_err();
        assert!(e.contains("-no-pie"), "{e}");
        // More records claimed than present (refused by the parser or by the table).
        let e = StackMaps::parse_for(Arch::X86_64, &section(&[(0x401000, 2)], &[(5, &header)])).unwrap_err();
        assert!(e.starts_with(".llvm_stackmaps: "), "{e}");
        assert!(StackMaps::parse_for(Arch::X86_64, &[1, 2, 3]).is_err());
    }
}
