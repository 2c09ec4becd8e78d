//! Rust function-pointer types checked against the signatures a module exports.

use cfree_facade::{FloatWidth, IntWidth, ScalarType};

/// The integer width of `isize`/`usize` on the host.
const POINTER_WIDTH: IntWidth = if usize::BITS == 64 { IntWidth::I64 } else { IntWidth::I32 };

/// A Rust type that crosses the C ABI as one scalar of a known class.
pub trait AbiScalar: Copy {
    /// The scalar class it must match.
    fn scalar() -> ScalarType;
}

macro_rules! abi_scalar {
    ($($t:ty => $s:expr),* $(,)?) => {
        $(impl AbiScalar for $t {
            fn scalar() -> ScalarType {
                $s
            }
        })*
    };
}

abi_scalar! {
    bool => ScalarType::Int(IntWidth::I1),
    i8 => ScalarType::Int(IntWidth::I8), u8 => ScalarType::Int(IntWidth::I8),
    i16 => ScalarType::Int(IntWidth::I16), u16 => ScalarType::Int(IntWidth::I16),
    i32 => ScalarType::Int(IntWidth::I32), u32 => ScalarType::Int(IntWidth::I32),
    i64 => ScalarType::Int(IntWidth::I64), u64 => ScalarType::Int(IntWidth::I64),
    i128 => ScalarType::Int(IntWidth::I128), u128 => ScalarType::Int(IntWidth::I128),
    isize => ScalarType::Int(POINTER_WIDTH), usize => ScalarType::Int(POINTER_WIDTH),
    f32 => ScalarType::Float(FloatWidth::F32), f64 => ScalarType::Float(FloatWidth::F64),
}

impl<T> AbiScalar for *const T {
    fn scalar() -> ScalarType {
        ScalarType::Ptr(0)
    }
}

impl<T> AbiScalar for *mut T {
    fn scalar() -> ScalarType {
        ScalarType::Ptr(0)
    }
}

/// A function result: nothing, or one scalar.
pub trait AbiResult {
    /// The scalar class, or `None` for no result.
    fn scalar() -> Option<ScalarType>;
}

impl AbiResult for () {
    fn scalar() -> Option<ScalarType> {
        None
    }
}

impl<T: AbiScalar> AbiResult for T {
    fn scalar() -> Option<ScalarType> {
        Some(T::scalar())
    }
}

/// An `unsafe extern "C" fn` pointer type that JIT code can be called through.
///
/// # Safety
/// Implementors must be C-ABI function pointer types whose parameter and
/// result classes are what [`JitFn::params`] and [`JitFn::result`] report.
pub unsafe trait JitFn: Copy {
    /// Parameter classes in order.
    fn params() -> Vec<ScalarType>;
    /// Result class.
    fn result() -> Option<ScalarType>;
    /// Reinterprets a code address.
    ///
    /// # Safety
    /// `addr` must be the entry of a function with exactly this signature that stays
    /// loaded while the pointer is used.
    unsafe fn from_addr(addr: u64) -> Self;
}

macro_rules! jit_fn {
    ($($a:ident),*) => {
        // SAFETY: the type is a C-ABI function pointer whose classes are those of its
        // parameter and result types, as reported.
        unsafe impl<R: AbiResult, $($a: AbiScalar),*> JitFn for unsafe extern "C" fn($($a),*) -> R {
            fn params() -> Vec<ScalarType> {
                vec![$($a::scalar()),*]
            }
            fn result() -> Option<ScalarType> {
                R::scalar()
            }
            unsafe fn from_addr(addr: u64) -> Self {
                // SAFETY: the caller guarantees `addr` is the entry of a function of this type;
                // function pointers and code addresses have the same size on supported hosts.
                unsafe { std::mem::transmute::<usize, Self>(addr as usize) }
            }
        }

        impl<'jit, R: AbiResult, $($a: AbiScalar),*> crate::TypedFunc<'jit, unsafe extern "C" fn($($a),*) -> R> {
            /// Calls the function.
            ///
            /// # Safety
            /// The generated code runs natively with no sandbox: the caller vouches that
            /// it is correct for these arguments (e.g. pointers it dereferences are valid).
            #[allow(non_snake_case, clippy::too_many_arguments)]
            pub unsafe fn call(&self, $($a: $a),*) -> R {
                // SAFETY: `cell` is the function's live cell (the JIT outlives `self`); it always
                // holds a linked body with the signature checked at lookup. Reading it here and
                // calling the body skips the stub's second indirect jump.
                unsafe {
                    let body = std::sync::atomic::AtomicU64::from_ptr(self.cell as *mut u64)
                        .load(std::sync::atomic::Ordering::Acquire);
                    (<Self as crate::session::BodyOf<_>>::body(body))($($a),*)
                }
            }
        }
    };
}

jit_fn!();
jit_fn!(A);
jit_fn!(A, B);
jit_fn!(A, B, C);
jit_fn!(A, B, C, D);
jit_fn!(A, B, C, D, E);
jit_fn!(A, B, C, D, E, F);
