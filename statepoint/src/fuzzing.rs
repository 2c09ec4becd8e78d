//! The robustness check shared by the fuzz target `stackmap_parser`, the
//! proptests of `tests/no_panic.rs` and the corpus replay: whatever the bytes,
//! parsing, decoding and table building return a value or an error, never a
//! panic. Not part of the API.

use crate::{Arch, OtherRecords, Safepoint, SafepointTable, StackMapSection};

/// Parses `bytes` as a stack map section; if it parses, iterates every part,
/// decodes every record as a safepoint for each architecture, and builds a
/// safepoint table with made-up function addresses. Panics only if the parser
/// reports an error offset outside the input (which would be a bug).
pub fn exercise(bytes: &[u8]) {
    let section = match StackMapSection::parse(bytes) {
        Ok(s) => s,
        Err(e) => {
            assert!(e.offset <= bytes.len(), "error offset past the input: {e}");
            return;
        }
    };
    let _ = section.functions().count();
    let _ = section.constants().count();
    for r in section.records() {
        let _ = r.live_outs().count();
        for arch in [Arch::X86_64, Arch::AArch64] {
            let _ = Safepoint::from_record(arch, &r);
        }
    }
    let addresses: Vec<u64> = (0..section.functions().count() as u64).map(|i| 0x1000 + (i << 12)).collect();
    for arch in [Arch::X86_64, Arch::AArch64] {
        for other in [OtherRecords::Keep, OtherRecords::Refuse] {
            let _ = SafepointTable::build(arch, &section, &addresses, other);
        }
    }
}
