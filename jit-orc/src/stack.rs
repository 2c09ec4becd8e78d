//! Frame-pointer stack walking, for proving that no frame still runs code
//! about to be reclaimed: the walker of `cfree-statepoint` (the one the GC
//! uses too). JIT code is compiled with frame pointers
//! (`"frame-pointer"="all"`); host code must keep them too
//! (`-C force-frame-pointers=yes`, set in this workspace's cargo config).
//!
//! On x86-64 and AArch64 a frame record is `[fp] = caller's fp`,
//! `[fp + 8] = return address`.

pub use cfree_statepoint::{current_frame_pointer, return_addresses};
