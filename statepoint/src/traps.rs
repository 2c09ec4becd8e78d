//! The fault handler of implicit checks (`doc/runtime.md`): a `SIGSEGV` or
//! `SIGBUS` at a PC the runtime's trap table knows resumes the thread at
//! that entry's handler (the check's failure path, compiled code that calls
//! the language's panic routine); any other fault goes to the previous
//! disposition, so a fault outside managed code still ends the process.
//!
//! Linux on x86-64 and AArch64 (the targets with implicit null checks).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Where a fault at `pc` resumes, if `pc` is an implicit check's access: the
/// runtime's trap table (the JIT registry's `trap_at`, or the executable's
/// `.llvm_faultmaps`). Called inside the signal handler, on the faulting
/// thread: it must not allocate or take a lock that managed code may hold.
pub type TrapLookup = fn(pc: u64) -> Option<u64>;

static LOOKUP: AtomicUsize = AtomicUsize::new(0);

/// Why the handler could not be installed.
#[derive(Debug)]
pub struct InstallError(std::io::Error);

impl std::fmt::Display for InstallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "installing the trap handler: {}", self.0)
    }
}

impl std::error::Error for InstallError {}

/// Installs the handler for `SIGSEGV` and `SIGBUS`, answering from `lookup`
/// (a later call replaces the lookup). Unsupported platforms get an error.
pub fn install_trap_handler(lookup: TrapLookup) -> Result<(), InstallError> {
    LOOKUP.store(lookup as usize, Ordering::Release);
    imp::install().map_err(InstallError)
}

/// Resumes at the handler of the check whose access faulted at `pc`.
fn resume_at(pc: u64) -> Option<u64> {
    let f = LOOKUP.load(Ordering::Acquire);
    if f == 0 {
        return None;
    }
    // SAFETY: LOOKUP holds 0 or a `TrapLookup` stored by `install_trap_handler`.
    let lookup: TrapLookup = unsafe { std::mem::transmute::<usize, TrapLookup>(f) };
    lookup(pc)
}

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    use std::sync::Once;

    /// The dispositions before ours, consulted for faults we do not own.
    static mut PREVIOUS: [std::mem::MaybeUninit<libc::sigaction>; 2] =
        [std::mem::MaybeUninit::uninit(), std::mem::MaybeUninit::uninit()];
    const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

    pub(super) fn install() -> std::io::Result<()> {
        static ONCE: Once = Once::new();
        let mut result = Ok(());
        ONCE.call_once(|| {
            for (i, &sig) in SIGNALS.iter().enumerate() {
                // SAFETY: `action` is fully initialised before use; PREVIOUS[i] is written
                // once here, before the handler that reads it is installed for `sig`.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = handler as *const () as usize;
                    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                    libc::sigemptyset(&mut action.sa_mask);
                    let previous = std::ptr::addr_of_mut!(PREVIOUS[i]).cast::<libc::sigaction>();
                    if libc::sigaction(sig, &action, previous) != 0 {
                        result = Err(std::io::Error::last_os_error());
                        return;
                    }
                }
            }
        });
        result
    }

    /// # Safety
    /// Called by the kernel with a valid `ucontext_t` for an installed signal.
    unsafe extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        let uc = context.cast::<libc::ucontext_t>();
        // SAFETY: the kernel passes the interrupted context; its PC field is read and
        // written in place, which is how a handler redirects the thread on return.
        let pc = unsafe { pc_of(uc) };
        if let Some(resume) = super::resume_at(*pc) {
            *pc = resume;
            return;
        }
        let i = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
        // SAFETY: PREVIOUS[i] was initialised by `install` before this handler existed.
        let previous = unsafe { (*std::ptr::addr_of!(PREVIOUS[i])).assume_init_ref() };
        let action = previous.sa_sigaction;
        if action == libc::SIG_DFL || action == libc::SIG_IGN {
            // Not ours: restore the default and return; the access faults again and
            // the process ends as it would have without us.
            // SAFETY: resetting a signal's disposition is async-signal-safe.
            unsafe { libc::signal(sig, libc::SIG_DFL) };
        } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the previous handler was installed with SA_SIGINFO and this signature.
            let f: unsafe extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(action) };
            // SAFETY: chaining to the previous handler with the kernel's own arguments.
            unsafe { f(sig, info, context) };
        } else {
            // SAFETY: the previous handler was installed without SA_SIGINFO.
            let f: unsafe extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(action) };
            // SAFETY: chaining to the previous handler with the signal number.
            unsafe { f(sig) };
        }
    }

    /// # Safety
    /// `uc` is a valid interrupted context.
    #[cfg(target_arch = "x86_64")]
    unsafe fn pc_of<'a>(uc: *mut libc::ucontext_t) -> &'a mut u64 {
        // SAFETY: per the caller; greg_t is i64, read as the unsigned PC.
        unsafe { &mut *(&mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as *mut i64).cast::<u64>() }
    }

    /// # Safety
    /// `uc` is a valid interrupted context.
    #[cfg(target_arch = "aarch64")]
    unsafe fn pc_of<'a>(uc: *mut libc::ucontext_t) -> &'a mut u64 {
        // SAFETY: per the caller.
        unsafe { &mut (*uc).uc_mcontext.pc }
    }
}

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
mod imp {
    pub(super) fn install() -> std::io::Result<()> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "implicit checks need Linux on x86-64 or AArch64"))
    }
}
