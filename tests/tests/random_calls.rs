//! Robustness property: any sequence of CG calls, valid or not, with handles
//! from the right module, the wrong module or nowhere, never panics, and
//! whatever the facade accepts forms a module that LLVM's verifier accepts and
//! compiles. This is the check that validation, not LLVM, stops bad input.
//! The module has a managed address space, managed functions and a GC runtime
//! with inline allocation, so the GC calls and the statepoint rewrite are
//! exercised too.

use cfree_tests::random_calls::{check, Step};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn call_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => any::<u8>().prop_map(Step::BeginFunc),
        1 => Just(Step::EndFunc),
        3 => any::<u8>().prop_map(Step::Local),
        3 => Just(Step::Label),
        3 => any::<u8>().prop_map(Step::Place),
        2 => any::<u8>().prop_map(Step::Br),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Step::CondBr(a, b)),
        2 => Just(Step::Ret),
        2 => Just(Step::Unreachable),
        6 => (any::<u8>(), prop_oneof![4 => -300i64..300, 1 => any::<i64>()]).prop_map(|(t, v)| Step::PushInt(t, v)),
        6 => any::<u8>().prop_map(Step::PushLocal),
        2 => any::<u8>().prop_map(Step::PushGlobal),
        2 => any::<u8>().prop_map(Step::PushSymAddr),
        2 => Just(Step::AddrOf),
        2 => any::<u8>().prop_map(Step::Deref),
        2 => (any::<i8>(), any::<u8>()).prop_map(|(o, t)| Step::AddrOffset(o, t)),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(t, a)| Step::Load(t, a)),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(t, a)| Step::Store(t, a)),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(o, f)| Step::IntOp(o, f)),
        6 => any::<u8>().prop_map(Step::Cmp),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(o, t)| Step::Cast(o, t)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, n)| Step::CallDirect(s, n)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, n)| Step::CallIndirect(s, n)),
        2 => Just(Step::Discard),
        2 => Just(Step::Dup),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, n)| Step::DefineData(s, n)),
        2 => Just(Step::Swap),
        2 => any::<u8>().prop_map(Step::IntUn),
        2 => any::<u8>().prop_map(Step::Checked),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(o, f)| Step::FloatOp(o, f)),
        2 => any::<u8>().prop_map(Step::FloatCmp),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(o, t)| Step::CastChecked(o, t)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(n, a)| Step::Memcpy(n, a)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(o, t)| Step::AtomicRmw(o, t)),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(t, w)| Step::Cmpxchg(t, w)),
        1 => any::<u8>().prop_map(Step::Fence),
        1 => Just(Step::Freeze),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(d, n)| Step::Switch(d, n)),
        2 => Just(Step::Select),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, n)| Step::TailCall(s, n)),
        3 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(s, n, a)| Step::CallWith(s, n, a)),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(o, t)| Step::VaOp(o, t)),
        2 => any::<u8>().prop_map(Step::LabelAddr),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(i, n)| Step::IndirectBr(i, n)),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(o, a)| Step::DynStack(o, a)),
        2 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| Step::Asm(a, b, c)),
        4 => (any::<u8>(), 0u16..400).prop_map(|(f, l)| Step::SetLoc(f, l)),
        1 => Just(Step::ScopeBegin),
        1 => Just(Step::ScopeEnd),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(t, n)| Step::DescribeType(t, n)),
        3 => (any::<i8>(), any::<u8>()).prop_map(|(d, n)| Step::GcAlloc(d, n)),
        2 => any::<u8>().prop_map(Step::GcRootSlot),
        1 => any::<u64>().prop_map(Step::SafepointId),
        1 => Just(Step::Safepoint),
        2 => (any::<u8>(), any::<i8>()).prop_map(|(t, o)| Step::ManagedStore(t, o)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(t, f)| Step::DeclarePlaced(t, f)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(s, l)| Step::DeclareAlias(s, l)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(s, p)| Step::InitFini(s, p)),
    ]
}

#[test]
fn random_call_sequences_never_panic_and_accepted_ones_verify() {
    let cases = std::env::var("CFREE_RANDOM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    // Deterministic by default so CI is reproducible; CFREE_RANDOM_SEED=random explores further.
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = match std::env::var("CFREE_RANDOM_SEED").as_deref() {
        Ok("random") => TestRunner::new(config),
        _ => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    };
    runner
        .run(&prop::collection::vec(call_strategy(), 1..80), |calls| check(&calls).map_err(TestCaseError::fail))
        .unwrap();
}
