//! The parser never panics: arbitrary bytes, and valid sections with bytes
//! changed or cut short, either parse (and then iterate fully) or fail with
//! an offset inside the input.

use cfree_statepoint::fuzzing::exercise;
use cfree_statepoint::StackMapSection;
use proptest::prelude::*;

/// A valid section: one function with two records (locations and a live-out).
fn valid() -> Vec<u8> {
    let mut v = vec![3, 0, 0, 0];
    v.extend_from_slice(&1u32.to_le_bytes()); // functions
    v.extend_from_slice(&1u32.to_le_bytes()); // constants
    v.extend_from_slice(&2u32.to_le_bytes()); // records
    v.extend_from_slice(&0x1000u64.to_le_bytes());
    v.extend_from_slice(&32u64.to_le_bytes());
    v.extend_from_slice(&2u64.to_le_bytes());
    v.extend_from_slice(&(1u64 << 40).to_le_bytes());
    for (id, nloc) in [(7u64, 2u16), (8, 0)] {
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&12u32.to_le_bytes());
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&nloc.to_le_bytes());
        for k in 0..nloc {
            v.extend_from_slice(&[3, 0, 8, 0, 7, 0, 0, 0]);
            v.extend_from_slice(&(16 * i32::from(k)).to_le_bytes());
        }
        while v.len() % 8 != 0 {
            v.push(0);
        }
        v.extend_from_slice(&[0, 0, 1, 0, 6, 0, 0, 8]);
    }
    v
}

#[test]
fn valid_section_parses() {
    let v = valid();
    let s = StackMapSection::parse(&v).unwrap();
    let recs: Vec<_> = s.records().collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].id, 7);
    assert_eq!(recs[0].locations().map(|l| l.offset).collect::<Vec<_>>(), vec![0, 16]);
    assert_eq!(recs[1].live_outs().next().unwrap().dwarf_reg, 6);
    assert_eq!(s.constants().collect::<Vec<_>>(), vec![1 << 40]);
    for cut in 0..v.len() {
        assert!(StackMapSection::parse(&v[..cut]).is_err(), "cut at {cut} must fail");
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_sections_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut v = valid();
        for (at, b) in edits {
            let n = v.len();
            v[at % n] = b;
        }
        let keep = cut % (v.len() + 1);
        exercise(&v[..keep]);
    }
}
