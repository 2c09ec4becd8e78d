//! `cfree-statepoint`: LLVM's stack map format, version 3 (the
//! `.llvm_stackmaps` section that `gc.statepoint`, `llvm.experimental.stackmap`
//! and patchpoints produce), parsed zero-copy and without panics, for a GC
//! runtime that needs no compiler.
//!
//! ```
//! use cfree_statepoint::StackMapSection;
//! // Header only: version 3, no functions, constants or records.
//! let bytes = [3u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
//! let maps = StackMapSection::parse(&bytes)?;
//! assert_eq!(maps.functions().count(), 0);
//! assert_eq!(maps.records().count(), 0);
//! # Ok::<(), cfree_statepoint::Error>(())
//! ```
//!
//! Layout (LLVM `StackMaps.rst`, "Stack Map Format"):
//!
//! ```text
//! Header        u8 version=3, u8 0, u16 0, u32 NumFunctions, u32 NumConstants, u32 NumRecords
//! StkSizeRecord[NumFunctions]  u64 FunctionAddress, u64 StackSize, u64 RecordCount
//! Constants[NumConstants]      u64
//! StkMapRecord[NumRecords]     u64 ID, u32 InstructionOffset, u16 0, u16 NumLocations,
//!                              Location[NumLocations] (12 bytes), pad to 8,
//!                              u16 0, u16 NumLiveOuts, LiveOut[NumLiveOuts] (4 bytes), pad to 8
//! ```
//! Function addresses are relocations in an object file: unrelocated bytes
//! hold 0, and the caller matches functions by position (see [`StkSizeRecord`]).
//!
//! For a moving collector, on top of the parser:
//!
//! - [`Safepoint::from_record`] decodes a `gc.statepoint` record of an
//!   [`Arch`] into the live managed pointers at one return address ((base,
//!   derived) slot pairs, duplicates merged), the explicit root slots, and the
//!   record's ID.
//! - [`SafepointTable::build`] turns a whole section into PC-sorted entries
//!   with decoded safepoints and their functions' [`Safepoint::frame_size`],
//!   given each function's start address (the JIT's registry and an AOT
//!   runtime both use it).
//! - [`enter_runtime`] records, per thread, the frame pointer that managed
//!   code passes when it enters the runtime (cfree's entry trampolines);
//!   [`runtime_entries`] lists them, innermost first.
//! - [`walk_managed_frames`] (x86-64) and [`aarch64::walk_managed_frames`]
//!   climb from an entry record through the managed frames, pairing each
//!   [`Frame`] with its safepoint; [`return_addresses`] lists a thread's
//!   return addresses (a JIT's proof that no frame runs code it releases).
//! - [`relocate`] rewrites every slot from the collector's `forward(old base)`,
//!   keeping derived pointers at their offset from the base.
//!
//! - [`FaultMapSection`] parses `.llvm_faultmaps`, the trap table of
//!   implicit null checks (faulting PC to handler PC).
//!
//! `doc/gc.md` and `doc/runtime.md` in the repository are the contracts these follow.

#![warn(missing_docs)]

mod entry;
mod faultmap;
mod frames;
#[doc(hidden)]
pub mod fuzzing;
mod parse;
mod safepoint;
mod source;
mod table;
mod traps;

pub use entry::{enter_runtime, runtime_entries, swap_runtime_entries, EntryGuard};
pub use faultmap::{FaultKind, FaultMapFunction, FaultMapSection, FaultSite};
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub use frames::current_frame_pointer;
pub use frames::{return_addresses, walk_frames, walk_managed_frames, walk_managed_frames_aarch64, Frame};
pub use parse::{
    Error, LiveOut, Location, LocationKind, Record, Records, StackMapSection, StkSizeRecord, StkSizeRecords,
};
pub use safepoint::{
    aarch64, relocate, relocation_comparisons, x86_64, Arch, DecodeError, LivePointer, Safepoint, Slot,
};
pub use source::{SourceMap, SourceMapError, SourcePos};
pub use table::{OtherRecords, SafepointTable, TableEntry, TableError};
pub use traps::{install_trap_handler, InstallError, TrapLookup};
