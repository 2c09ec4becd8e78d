//! LLVM's fault maps (`.llvm_faultmaps`, `__LLVM_FaultMaps`): the trap table
//! of implicit null checks. For each function, the PCs of memory accesses that
//! stand in for a null check and the PC of the check's failure path; a runtime
//! that catches the fault at such a PC resumes at the handler (`doc/runtime.md`).
//!
//! ```text
//! Header        u8 version=1, u8 0, u16 0
//! u32 NumFunctions
//! FunctionInfo[NumFunctions]  u64 FunctionAddress, u32 NumFaultingPCs, u32 0,
//!                             FaultInfo[NumFaultingPCs]: u32 FaultKind,
//!                             u32 FaultingPCOffset, u32 HandlerPCOffset
//! ```
//! As in stack maps, function addresses are relocations in an object file
//! (unrelocated bytes hold 0); [`FaultMapFunction::address_offset`] says where.

use crate::parse::Error;

/// What kind of access faults (LLVM's `FaultMaps::FaultKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// A load.
    Load,
    /// A load and store of one location (x86 read-modify-write).
    LoadStore,
    /// A store.
    Store,
}

/// One faulting access and its handler, as offsets from the function start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultSite {
    /// The access.
    pub kind: FaultKind,
    /// Offset of the faulting instruction.
    pub fault_offset: u32,
    /// Offset where execution resumes when it faults (the check's failure path).
    pub handler_offset: u32,
}

/// The faulting accesses of one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultMapFunction {
    /// The function's address as stored (0 in an unrelocated object).
    pub address: u64,
    /// Byte offset of the address field in the section (its relocation's offset).
    pub address_offset: usize,
    /// Its faulting accesses.
    pub sites: Vec<FaultSite>,
}

/// A parsed `.llvm_faultmaps` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultMapSection {
    /// The functions, in section order.
    pub functions: Vec<FaultMapFunction>,
}

impl FaultMapSection {
    /// Parses a whole section (little-endian, version 1). A linked executable
    /// holds one section per object concatenated: each is parsed in turn.
    pub fn parse(data: &[u8]) -> Result<FaultMapSection, Error> {
        let mut out = FaultMapSection::default();
        let mut at = 0;
        while at < data.len() {
            at = parse_one(data, at, &mut out)?;
        }
        Ok(out)
    }

    /// Every site with its absolute addresses `(fault pc, handler pc, kind)`,
    /// given each function's start (`starts[i]` for `functions[i]`).
    pub fn sites_at<'a>(&'a self, starts: &'a [u64]) -> impl Iterator<Item = (u64, u64, FaultKind)> + 'a {
        self.functions.iter().zip(starts).flat_map(|(f, &start)| {
            f.sites
                .iter()
                .map(move |s| (start + u64::from(s.fault_offset), start + u64::from(s.handler_offset), s.kind))
        })
    }
}

fn read<const N: usize>(data: &[u8], at: usize, what: &'static str) -> Result<[u8; N], Error> {
    at.checked_add(N)
        .and_then(|end| data.get(at..end))
        .map(|s| {
            let mut b = [0; N];
            b.copy_from_slice(s);
            b
        })
        .ok_or(Error { offset: at.min(data.len()), what })
}

fn u32_at(data: &[u8], at: usize, what: &'static str) -> Result<u32, Error> {
    Ok(u32::from_le_bytes(read(data, at, what)?))
}

/// Parses one object's table starting at `at`; returns where the next begins
/// (tables are 8-byte aligned in a linked section).
fn parse_one(data: &[u8], start: usize, out: &mut FaultMapSection) -> Result<usize, Error> {
    let [version, _, _, _] = read::<4>(data, start, "truncated header")?;
    if version != 1 {
        return Err(Error { offset: start, what: "unsupported fault map version (expected 1)" });
    }
    let count = u32_at(data, start + 4, "truncated function count")?;
    let mut at = start + 8;
    for _ in 0..count {
        let address = u64::from_le_bytes(read(data, at, "truncated function address")?);
        let sites_count = u32_at(data, at + 8, "truncated fault count")?;
        let mut sites = Vec::new();
        let mut site = at + 16;
        for _ in 0..sites_count {
            let kind = match u32_at(data, site, "truncated fault kind")? {
                1 => FaultKind::Load,
                2 => FaultKind::LoadStore,
                3 => FaultKind::Store,
                _ => return Err(Error { offset: site, what: "unknown fault kind" }),
            };
            let fault_offset = u32_at(data, site + 4, "truncated faulting PC offset")?;
            let handler_offset = u32_at(data, site + 8, "truncated handler PC offset")?;
            sites.push(FaultSite { kind, fault_offset, handler_offset });
            site += 12;
        }
        out.functions.push(FaultMapFunction { address, address_offset: at, sites });
        at = site;
    }
    // The linker pads each object's table to the section alignment (8) with zeros.
    let next = at.next_multiple_of(8);
    if next < data.len() && data[at..next].iter().any(|&b| b != 0) {
        return Err(Error { offset: at, what: "garbage between fault map tables" });
    }
    Ok(next.min(data.len()).max(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (kind, fault offset, handler offset).
    type Site = (u32, u32, u32);

    fn table(functions: &[(u64, &[Site])]) -> Vec<u8> {
        let mut b = vec![1, 0, 0, 0];
        b.extend_from_slice(&(functions.len() as u32).to_le_bytes());
        for (addr, sites) in functions {
            b.extend_from_slice(&addr.to_le_bytes());
            b.extend_from_slice(&(sites.len() as u32).to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            for (k, f, h) in *sites {
                for v in [k, f, h] {
                    b.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        b
    }

    #[test]
    fn parses_functions_sites_and_concatenated_tables() {
        let mut data = table(&[(0x1000, &[(1, 4, 40), (3, 12, 60)]), (0x2000, &[])]);
        data.resize(data.len().next_multiple_of(8), 0);
        data.extend(table(&[(0x3000, &[(2, 0, 8)])]));
        let maps = FaultMapSection::parse(&data).unwrap();
        assert_eq!(maps.functions.len(), 3);
        assert_eq!(maps.functions[0].address_offset, 8);
        assert_eq!(
            maps.functions[0].sites,
            vec![
                FaultSite { kind: FaultKind::Load, fault_offset: 4, handler_offset: 40 },
                FaultSite { kind: FaultKind::Store, fault_offset: 12, handler_offset: 60 }
            ]
        );
        let starts = [0x1000, 0x2000, 0x3000];
        let sites: Vec<_> = maps.sites_at(&starts).collect();
        assert_eq!(
            sites,
            vec![
                (0x1004, 0x1028, FaultKind::Load),
                (0x100c, 0x103c, FaultKind::Store),
                (0x3000, 0x3008, FaultKind::LoadStore)
            ]
        );
    }

    #[test]
    fn malformed_tables_are_errors_not_panics() {
        let good = table(&[(0x1000, &[(1, 4, 40)])]);
        for cut in 0..good.len() {
            assert!(FaultMapSection::parse(&good[..cut]).is_err() || cut == 0, "cut at {cut}");
        }
        let mut bad = good.clone();
        bad[0] = 2;
        assert_eq!(FaultMapSection::parse(&bad).unwrap_err().what, "unsupported fault map version (expected 1)");
        let mut bad = good.clone();
        bad[24] = 9;
        assert_eq!(FaultMapSection::parse(&bad).unwrap_err().what, "unknown fault kind");
        let mut huge = good;
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(FaultMapSection::parse(&huge).is_err());
    }
}
