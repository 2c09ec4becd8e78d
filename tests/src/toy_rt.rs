//! The toy language's runtime (`cfree-toy-rt`) driven by a JIT's registry,
//! for tests that run facade-emitted managed code under its moving collector.

use std::sync::Arc;

use cfree_jit_orc::{Jit, Registry};
use cfree_statepoint::Safepoint;
use cfree_toy_rt::{Context, SafepointSource, Settings};

/// The safepoints of a registry snapshot, as the collector asks for them.
#[derive(Debug)]
pub struct RegistrySafepoints(pub Arc<Registry>);

impl SafepointSource for RegistrySafepoints {
    fn safepoint_at(&self, pc: u64) -> Option<&Safepoint> {
        self.0.safepoint_at(pc)
    }
}

/// Installs this thread's toy heap over `jit`'s current registry, allocating inline from `buffer`.
pub fn install(jit: &Jit, settings: Settings, buffer: &'static Context) {
    cfree_toy_rt::install_in(Arc::new(RegistrySafepoints(jit.registry())), settings, buffer);
}
