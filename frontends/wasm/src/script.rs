//! The `.wast` script runner (`cfree-wasm test FILE.wast`), on the `wast`
//! crate's parser: every directive counts as one pass or one failure; a
//! trap, a link error or a compiler error fails only its own directive.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use cfree_llvm_lower::OptLevel;
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

use crate::abi::Trap;
use crate::decode;
use crate::error::Error;
use crate::runtime::spectest::Spectest;
use crate::runtime::{Extern, Instance, Options, Store, Val};

/// The outcome of one script.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Directives that passed.
    pub passed: usize,
    /// Directives that failed, with line and reason.
    pub failures: Vec<String>,
    /// Directives not run, with line and reason (the script itself is at fault).
    pub skipped: Vec<String>,
}

impl Report {
    /// Number of failed directives.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }
}

/// Runs the script `source` (named `file` in messages) at `opt`.
/// `Err` only when the script cannot be parsed at all.
pub fn run(file: &str, source: &str, opt: OptLevel) -> Result<Report, String> {
    let mut lexer = wast::lexer::Lexer::new(source);
    // `names.wast` tests identifiers with bidirectional-override characters on purpose.
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| format!("{file}: {e}"))?;
    let script = parser::parse::<Wast<'_>>(&buf).map_err(|e| format!("{file}: {e}"))?;
    let mut runner = Runner::new(opt).map_err(|e| format!("{file}: {e}"))?;
    let mut report = Report::default();
    for directive in script.directives {
        let (line, _) = directive.span().linecol_in(source);
        let outcome = catch_unwind(AssertUnwindSafe(|| runner.directive(directive)))
            .unwrap_or_else(|_| Outcome::Fail("the runner panicked (a bug)".into()));
        match outcome {
            Outcome::Pass => report.passed += 1,
            Outcome::Fail(why) => report.failures.push(format!("{file}:{}: {why}", line + 1)),
            Outcome::Skip(why) => report.skipped.push(format!("{file}:{}: {why}", line + 1)),
        }
    }
    Ok(report)
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

fn check(ok: bool, why: impl FnOnce() -> String) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail(why())
    }
}

struct Runner {
    store: Store,
    spectest: Spectest,
    current: Option<Rc<Instance>>,
    named: HashMap<String, Rc<Instance>>,
    registered: HashMap<String, Rc<Instance>>,
}

impl Runner {
    fn new(opt: OptLevel) -> Result<Runner, Error> {
        let mut store = Store::new(Options::new(opt))?;
        let spectest = Spectest::new(&mut store);
        Ok(Runner { store, spectest, current: None, named: HashMap::new(), registered: HashMap::new() })
    }

    fn instantiate(&mut self, bytes: &[u8]) -> Result<Rc<Instance>, Error> {
        let Runner { store, spectest, registered, .. } = self;
        let mut resolve = |module: &str, name: &str| -> Option<Extern> {
            if module == "spectest" {
                return spectest.get(name);
            }
            registered.get(module)?.export(name).cloned()
        };
        store.instantiate(bytes, &mut resolve)
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Outcome {
        match d {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(e) => return Outcome::Skip(format!("the wast crate cannot encode this module: {e}")),
                };
                match self.instantiate(&bytes) {
                    Ok(inst) => {
                        if let Some(name) = name {
                            self.named.insert(name, inst.clone());
                        }
                        self.current = Some(inst);
                        Outcome::Pass
                    }
                    Err(e) => Outcome::Fail(format!("module: {e}")),
                }
            }
            WastDirective::Register { name, module, .. } => {
                let inst = match module {
                    Some(id) => self.named.get(id.name()).cloned(),
                    None => self.current.clone(),
                };
                match inst {
                    Some(inst) => {
                        self.registered.insert(name.to_string(), inst);
                        Outcome::Pass
                    }
                    None => Outcome::Fail("register: no such module".into()),
                }
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => Outcome::Pass,
                Err(e) => Outcome::Fail(format!("invoke `{}`: {e}", invoke.name)),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let what = describe(&exec);
                match self.execute(exec) {
                    Ok(got) => {
                        let ok = got.len() == results.len() && got.iter().zip(&results).all(|(g, e)| matches(*g, e));
                        check(ok, || {
                            let got: Vec<String> = got.iter().map(|v| v.to_string()).collect();
                            format!("{what}: got [{}], expected {results:?}", got.join(", "))
                        })
                    }
                    Err(e) => Outcome::Fail(format!("{what}: {e}")),
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let what = describe(&exec);
                match self.execute(exec) {
                    Err(Error::Trap(t)) => check(trap_matches(t, message), || {
                        format!("{what}: trapped with `{}`, expected `{message}`", t.message())
                    }),
                    Ok(v) => Outcome::Fail(format!("{what}: returned {v:?}, expected trap `{message}`")),
                    Err(e) => Outcome::Fail(format!("{what}: {e}, expected trap `{message}`")),
                }
            }
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Err(Error::Trap(Trap::StackExhausted)) => Outcome::Pass,
                Ok(v) => Outcome::Fail(format!("invoke `{}`: returned {v:?}, expected `{message}`", call.name)),
                Err(e) => Outcome::Fail(format!("invoke `{}`: {e}, expected `{message}`", call.name)),
            },
            WastDirective::AssertInvalid { module, message, .. } => self.assert_rejected(module, message, false),
            WastDirective::AssertMalformed { module, message, .. } => self.assert_rejected(module, message, true),
            WastDirective::AssertUnlinkable { mut module, message, .. } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(e) => return Outcome::Skip(format!("the wast crate cannot encode this module: {e}")),
                };
                match self.instantiate(&bytes) {
                    Err(Error::Link(_)) => Outcome::Pass,
                    Ok(_) => Outcome::Fail(format!("module linked, expected `{message}`")),
                    Err(e) => Outcome::Fail(format!("{e}, expected link error `{message}`")),
                }
            }
            other => Outcome::Fail(format!("unsupported directive {:?}", std::mem::discriminant(&other))),
        }
    }

    /// `assert_invalid` / `assert_malformed`: the text may not encode, or the
    /// binary must fail decoding or validation.
    fn assert_rejected(&mut self, mut module: QuoteWat<'_>, message: &str, malformed: bool) -> Outcome {
        let bytes = match module.encode() {
            Ok(b) => b,
            // A text module the text format rejects is malformed; one it cannot even
            // encode for an `assert_invalid` is a failure to reject by validation.
            Err(_) if malformed => return Outcome::Pass,
            Err(e) => return Outcome::Fail(format!("the module does not encode ({e}), expected invalid `{message}`")),
        };
        match decode::decode(&bytes) {
            Err(Error::Invalid(_)) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!("{e}, expected rejection `{message}`")),
            Ok(_) => Outcome::Fail(format!("module accepted, expected `{message}`")),
        }
    }

    fn instance(&self, module: Option<wast::token::Id<'_>>) -> Result<Rc<Instance>, Error> {
        match module {
            Some(id) => self.named.get(id.name()).cloned(),
            None => self.current.clone(),
        }
        .ok_or_else(|| Error::Usage("no such module instance".into()))
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, Error> {
        let inst = self.instance(invoke.module)?;
        let Some(Extern::Func(f)) = inst.export(invoke.name) else {
            return Err(Error::Usage(format!("no exported function `{}`", invoke.name)));
        };
        let args = invoke.args.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
        self.store.call(f, &args)
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, Error> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode().map_err(|e| Error::Usage(format!("encoding: {e}")))?;
                self.instantiate(&bytes).map(|_| Vec::new())
            }
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module)?;
                match inst.export(global) {
                    Some(Extern::Global(g)) => Ok(vec![g.get()]),
                    _ => Err(Error::Usage(format!("no exported global `{global}`"))),
                }
            }
        }
    }
}

fn describe(exec: &WastExecute<'_>) -> String {
    match exec {
        WastExecute::Invoke(i) => format!("invoke `{}`", i.name),
        WastExecute::Wat(_) => "module".into(),
        WastExecute::Get { global, .. } => format!("get `{global}`"),
    }
}

fn arg(a: &WastArg<'_>) -> Result<Val, Error> {
    match a {
        WastArg::Core(WastArgCore::I32(v)) => Ok(Val::I32(*v)),
        WastArg::Core(WastArgCore::I64(v)) => Ok(Val::I64(*v)),
        WastArg::Core(WastArgCore::F32(v)) => Ok(Val::F32(v.bits)),
        WastArg::Core(WastArgCore::F64(v)) => Ok(Val::F64(v.bits)),
        other => Err(Error::Usage(format!("unsupported argument {other:?}"))),
    }
}

fn matches(got: Val, expected: &WastRet<'_>) -> bool {
    let WastRet::Core(expected) = expected else { return false };
    core_matches(got, expected)
}

fn core_matches(got: Val, expected: &WastRetCore<'_>) -> bool {
    match (got, expected) {
        (Val::I32(g), WastRetCore::I32(e)) => g == *e,
        (Val::I64(g), WastRetCore::I64(e)) => g == *e,
        (Val::F32(g), WastRetCore::F32(p)) => match p {
            NanPattern::CanonicalNan => g & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => g & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(v) => g == v.bits,
        },
        (Val::F64(g), WastRetCore::F64(p)) => match p {
            NanPattern::CanonicalNan => g & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => g & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(v) => g == v.bits,
        },
        (_, WastRetCore::Either(alts)) => alts.iter().any(|a| core_matches(got, a)),
        _ => false,
    }
}

/// The spec's trap messages sometimes carry more words than ours ("undefined
/// element 7"); either may be a prefix of the other.
fn trap_matches(t: Trap, message: &str) -> bool {
    let ours = t.message();
    message.starts_with(ours) || ours.starts_with(message)
}
