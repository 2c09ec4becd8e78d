//! The isolated code generation worker (`doc/isolation.md`): one request on stdin,
//! the object on stdout. See `cfree_llvm_lower::isolate`.

fn main() -> std::process::ExitCode {
    cfree_llvm_lower::isolate::worker_main()
}
