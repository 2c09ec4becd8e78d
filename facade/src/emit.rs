//! What a finished module offers to those who turn it into machine code
//! without knowing its backend: the optimisation level vocabulary and the
//! [`ObjectModule`] trait a JIT is generic over (`doc/jit.md`).

use crate::{FuncExport, TargetInfo};

/// Optimisation levels, as clang spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum OptLevel {
    /// No optimisation; fastest compile.
    #[default]
    O0,
    /// Light optimisation.
    O1,
    /// The standard optimising pipeline.
    O2,
    /// Aggressive optimisation.
    O3,
    /// O2 tuned for size.
    Os,
}

/// A finished module that can be compiled to a relocatable object for a JIT.
///
/// The JIT links one object per publish and calls exported functions through
/// stable entries it owns (`doc/jit.md`, "Stable entries and replacement"),
/// so it asks for the object with each export renamed:
/// [`emit_jit_object`](Self::emit_jit_object) defines each export of a
/// [`JitRename`] under its body name instead, and makes every use of it in
/// the module (recursion included) refer to the external symbol
/// `name`, which the JIT resolves to the stable entry; direct calls to a
/// protected function stay on its body (`doc/jit.md`, "Protected functions").
pub trait ObjectModule {
    /// The backend's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The module's name (the JIT names the linked unit after it).
    fn name(&self) -> &str;

    /// The target the module was emitted for.
    fn target(&self) -> &TargetInfo;

    /// Defined functions visible outside the module, with their signatures.
    fn exports(&self) -> &[FuncExport];

    /// Emits a relocatable, position-independent object at `level` in which
    /// each export of `renames` is defined as its `body`, every use of it in
    /// the module refers to the external symbol `entry` (but a protected
    /// export's direct calls call its `body`), and every defined
    /// function keeps a frame pointer (JIT stack walks follow frame records).
    ///
    /// Must not change `self` observably: a failed publish can be retried with
    /// the same module, and publishing it twice compiles it twice. May be
    /// called from several threads at once on different modules.
    fn emit_jit_object(&self, renames: &[JitRename], level: OptLevel) -> Result<Vec<u8>, Self::Error>;
}

/// How [`ObjectModule::emit_jit_object`] renames one export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitRename {
    /// The export's name in the module.
    pub export: String,
    /// The name its definition takes.
    pub body: String,
    /// The symbol every use of the export in the module refers to (the
    /// export's stable entry): its own name, or the JIT's name for an entry
    /// it has not named yet.
    pub entry: String,
}

impl JitRename {
    /// `export` defined as `body`, used through its own name.
    pub fn new(export: &str, body: &str) -> Self {
        JitRename { export: export.to_string(), body: body.to_string(), entry: export.to_string() }
    }
}
