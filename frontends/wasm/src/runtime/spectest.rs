//! The `spectest` host module of the spec interpreter (its `README.md`,
//! "spectest host module"): print functions, four immutable globals, a
//! funcref table of 10 to 20 elements and a memory of 1 to 2 pages.

use std::rc::Rc;

use super::ffi::{GlobalCell, Memory, Table};
use super::{Extern, Func, FuncRef, Global, Store};
use crate::decode::{FuncType, GlobalType, ValType};

extern "C" fn print(_vmctx: *mut u64) {
    println!();
}
extern "C" fn print_i32(_vmctx: *mut u64, x: i32) {
    println!("{x} : i32");
}
extern "C" fn print_i64(_vmctx: *mut u64, x: i64) {
    println!("{x} : i64");
}
extern "C" fn print_f32(_vmctx: *mut u64, x: f32) {
    println!("{x} : f32");
}
extern "C" fn print_f64(_vmctx: *mut u64, x: f64) {
    println!("{x} : f64");
}
extern "C" fn print_i32_f32(_vmctx: *mut u64, x: i32, y: f32) {
    println!("{x} : i32");
    println!("{y} : f32");
}
extern "C" fn print_f64_f64(_vmctx: *mut u64, x: f64, y: f64) {
    println!("{x} : f64");
    println!("{y} : f64");
}

/// The host module's exports, made once per store.
#[derive(Debug)]
pub struct Spectest {
    items: Vec<(&'static str, Extern)>,
}

impl Spectest {
    /// The module for `store` (function type ids are the store's).
    pub fn new(store: &mut Store) -> Spectest {
        use ValType::*;
        let funcs: [(&str, u64, &[ValType]); 7] = [
            ("print", print as *const () as usize as u64, &[]),
            ("print_i32", print_i32 as *const () as usize as u64, &[I32]),
            ("print_i64", print_i64 as *const () as usize as u64, &[I64]),
            ("print_f32", print_f32 as *const () as usize as u64, &[F32]),
            ("print_f64", print_f64 as *const () as usize as u64, &[F64]),
            ("print_i32_f32", print_i32_f32 as *const () as usize as u64, &[I32, F32]),
            ("print_f64_f64", print_f64_f64 as *const () as usize as u64, &[F64, F64]),
        ];
        let mut items = Vec::new();
        for (name, code, params) in funcs {
            let ty = FuncType { params: params.to_vec(), results: Vec::new() };
            let fref = FuncRef { code, vmctx: 0, type_id: store.type_id(&ty) };
            items.push((name, Extern::Func(Func { fref, ty, entry: None, store: store.id })));
        }
        let global = |ty, bits| {
            Extern::Global(Global { cell: Rc::new(GlobalCell::new(bits)), ty: GlobalType { ty, mutable: false } })
        };
        items.push(("global_i32", global(I32, 666)));
        items.push(("global_i64", global(I64, 666)));
        items.push(("global_f32", global(F32, u64::from(666.6f32.to_bits()))));
        items.push(("global_f64", global(F64, 666.6f64.to_bits())));
        items.push(("table", Extern::Table(Rc::new(Table::new(10, Some(20), store.id)))));
        let memory = Memory::new(1, Some(2), 2).expect("one page");
        items.push(("memory", Extern::Memory(Rc::new(memory))));
        Spectest { items }
    }

    /// The export `name`.
    pub fn get(&self, name: &str) -> Option<Extern> {
        self.items.iter().find(|(n, _)| *n == name).map(|(_, e)| e.clone())
    }
}
