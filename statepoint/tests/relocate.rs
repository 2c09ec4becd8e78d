//! `relocate` over a synthetic stack of many frames: every slot gets its
//! object's new address (derived pointers keep their offset), `forward` runs
//! once per distinct object, and the work grows as m log m in the number m
//! of live slots, not quadratically (counted in comparisons of old
//! addresses, through the crate's test hook, so the test does not depend on
//! timing).

use std::collections::HashSet;

use cfree_statepoint::{relocate, relocation_comparisons, Frame, LivePointer, Safepoint, Slot};

/// Words per synthetic frame: slots at SP+0 (base A), SP+8 (base B), SP+16
/// (A + 24, derived), SP+24 (an explicit root C, at FP-8 with FP = SP+32).
const FRAME_WORDS: usize = 4;
const MOVED_BY: u64 = 0x4000_0000;

/// The old address of object `i`, in a scrambled order (so the sort does real work).
fn object(i: usize, n: usize) -> u64 {
    let scrambled = (i as u64).wrapping_mul(2_654_435_761) % (n as u64).next_power_of_two().max(1);
    0x1000_0000 + (scrambled * n as u64 + i as u64) * 64
}

/// Relocates `frames` synthetic frames; returns the comparisons it took.
fn relocate_frames(frames: usize) -> u64 {
    let objects = 2 * frames;
    let mut stack = vec![0u64; frames * FRAME_WORDS];
    for k in 0..frames {
        let (a, b, c) = (object(2 * k, objects), object(2 * k + 1, objects), object(k % 100, objects));
        stack[k * FRAME_WORDS..(k + 1) * FRAME_WORDS].copy_from_slice(&[a, b, a + 24, c]);
    }
    let safepoint = Safepoint {
        live: vec![
            LivePointer { base: Slot::Sp(0), derived: Slot::Sp(0) },
            LivePointer { base: Slot::Sp(8), derived: Slot::Sp(8) },
            LivePointer { base: Slot::Sp(0), derived: Slot::Sp(16) },
        ],
        roots: vec![Slot::Fp(-8)],
        ..Safepoint::default()
    };
    let base = stack.as_mut_ptr() as u64;
    let list: Vec<(Frame, &Safepoint)> = (0..frames)
        .map(|k| {
            let sp = base + (k * FRAME_WORDS * 8) as u64;
            (Frame { pc: 0, sp, fp: sp + 32 }, &safepoint)
        })
        .collect();
    let mut forwarded = HashSet::new();
    let before = relocation_comparisons();
    // SAFETY: every slot the frames and safepoint name is a word of `stack`, which is
    // alive and not otherwise accessed during the call.
    unsafe {
        relocate(&list, |old| {
            assert!(forwarded.insert(old), "forward called twice for {old:#x}");
            old + MOVED_BY
        })
    };
    let comparisons = relocation_comparisons() - before;
    assert_eq!(forwarded.len(), objects, "one forward per distinct object");
    for k in 0..frames {
        let (a, b, c) = (object(2 * k, objects), object(2 * k + 1, objects), object(k % 100, objects));
        let expected = [a + MOVED_BY, b + MOVED_BY, a + MOVED_BY + 24, c + MOVED_BY];
        assert_eq!(stack[k * FRAME_WORDS..(k + 1) * FRAME_WORDS], expected, "frame {k}");
    }
    comparisons
}

#[test]
fn relocation_updates_every_slot_and_is_not_quadratic() {
    let small = relocate_frames(5_000);
    let large = relocate_frames(40_000);
    // 7 slots are read per frame (1 root, 3 base/derived pairs).
    for (frames, comparisons) in [(5_000u64, small), (40_000, large)] {
        let m = 7 * frames;
        let bound = 3 * m * u64::from(m.ilog2() + 1);
        assert!(comparisons <= bound, "{frames} frames: {comparisons} comparisons, more than 3 m log2 m = {bound}");
    }
    // 8 times the frames: m log m grows about 9.8 times, a quadratic search 64 times.
    assert!(large < 12 * small, "{small} comparisons for 5,000 frames, {large} for 40,000");
}

#[test]
fn an_empty_stack_and_null_slots_are_left_alone() {
    // SAFETY: no frames, so no slots are read or written.
    unsafe { relocate(&[], |_| unreachable!("nothing to forward")) };
    let mut stack = [0u64; 2];
    let safepoint = Safepoint {
        live: vec![LivePointer { base: Slot::Sp(0), derived: Slot::Sp(0) }],
        roots: vec![Slot::Sp(8)],
        ..Safepoint::default()
    };
    let sp = stack.as_mut_ptr() as u64;
    // SAFETY: both slots are words of `stack`.
    unsafe { relocate(&[(Frame { pc: 0, sp, fp: sp }, &safepoint)], |_| unreachable!("null is not an object")) };
    assert_eq!(stack, [0, 0]);
}
