//! Generated C record shapes and prototypes for the C ABI tests
//! (`tests/abi_interop.rs`, `tests/abi_vs_clang.rs`).
//!
//! A [`Record`] is built both ways: as a facade type ([`build`]) and as C
//! declarations ([`Record::c_decls`]), with the scalar leaves of both in the
//! same order ([`Leaf`]: byte offset from the facade's layout, C access path).
//! The generator is a seeded splitmix64, so a seed names every shape.
//!
//! C spellings use only built-in types (`unsigned int`, not `uint32_t`), so
//! the declarations compile for targets without a libc (wasm32, i686 headers).

use cfree_facade::{Backend, Cg, FloatWidth, IntWidth, Result, TypeId, TypeKind};

/// A scalar field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    I8,
    I16,
    I32,
    I64,
    /// Only on targets with `__int128`.
    I128,
    F32,
    F64,
    Ptr,
}

impl Scalar {
    /// The C spelling (integers unsigned, so any bit pattern is a value).
    pub fn c(self) -> &'static str {
        match self {
            Scalar::I8 => "unsigned char",
            Scalar::I16 => "unsigned short",
            Scalar::I32 => "unsigned int",
            Scalar::I64 => "unsigned long long",
            Scalar::I128 => "unsigned __int128",
            Scalar::F32 => "float",
            Scalar::F64 => "double",
            Scalar::Ptr => "void *",
        }
    }

    /// Width in bits of the integer the field is read and written as (floats
    /// by their bits, pointers as 64-bit integers: the interop targets are 64-bit).
    pub fn bits(self) -> u32 {
        match self {
            Scalar::I8 => 8,
            Scalar::I16 => 16,
            Scalar::I32 | Scalar::F32 => 32,
            Scalar::I64 | Scalar::F64 | Scalar::Ptr => 64,
            Scalar::I128 => 128,
        }
    }

    /// The facade type.
    pub fn facade<B: Backend>(self, cg: &mut Cg<B>) -> Result<TypeId> {
        match self {
            Scalar::I8 => cg.ty_int(IntWidth::I8),
            Scalar::I16 => cg.ty_int(IntWidth::I16),
            Scalar::I32 => cg.ty_int(IntWidth::I32),
            Scalar::I64 => cg.ty_int(IntWidth::I64),
            Scalar::I128 => cg.ty_int(IntWidth::I128),
            Scalar::F32 => cg.ty_float(FloatWidth::F32),
            Scalar::F64 => cg.ty_float(FloatWidth::F64),
            Scalar::Ptr => {
                let i8t = cg.ty_int(IntWidth::I8)?;
                cg.ty_ptr(i8t, 0)
            }
        }
    }

    /// `bits` made a value of this scalar: truncated, and for floats a normal
    /// number in [1, 2) (so it survives any register unchanged).
    pub fn normalise(self, bits: u128) -> u128 {
        match self {
            Scalar::F32 => 0x3f80_0000 | (bits & 0x7f_ffff),
            Scalar::F64 => 0x3ff0_0000_0000_0000 | (bits & 0x000f_ffff_ffff_ffff),
            s if s.bits() == 128 => bits,
            s => bits & ((1u128 << s.bits()) - 1),
        }
    }

    /// A C expression of this scalar with exactly `bits` (normalised).
    pub fn c_literal(self, bits: u128) -> String {
        let lo = bits as u64;
        match self {
            Scalar::F32 => format!("bf32({lo:#x}u)"),
            Scalar::F64 => format!("bf64({lo:#x}ull)"),
            Scalar::Ptr => format!("(void *){lo:#x}ull"),
            Scalar::I128 => format!("(((unsigned __int128){:#x}ull << 64) | {lo:#x}ull)", (bits >> 64) as u64),
            s => format!("({}){lo:#x}ull", s.c()),
        }
    }
}

/// A field: a scalar, an array or a nested record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Scalar(Scalar),
    Array(Box<Node>, u64),
    Record(Record),
}

/// A C record: fields in order and an optional `__attribute__((aligned))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub fields: Vec<Node>,
    /// Minimum alignment of the whole record (0: natural).
    pub align: u64,
}

/// One scalar inside a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// Byte offset (from the facade's layout).
    pub offset: u64,
    pub scalar: Scalar,
    /// The C access path from the record, e.g. `.f1[2].f0`.
    pub path: String,
}

/// A record built in a module: its type, size and leaves.
#[derive(Clone, Debug)]
pub struct Built {
    pub ty: TypeId,
    pub size: u64,
    pub leaves: Vec<Leaf>,
}

/// Builds `rec` as a facade type and lists its leaves.
pub fn build<B: Backend>(cg: &mut Cg<B>, rec: &Record) -> Result<Built> {
    let ty = node_type(cg, &Node::Record(rec.clone()))?;
    let mut leaves = Vec::new();
    collect(cg, &Node::Record(rec.clone()), ty, 0, String::new(), &mut leaves)?;
    Ok(Built { ty, size: cg.layout(ty)?.size, leaves })
}

fn node_type<B: Backend>(cg: &mut Cg<B>, node: &Node) -> Result<TypeId> {
    match node {
        Node::Scalar(s) => s.facade(cg),
        Node::Array(elem, n) => {
            let e = node_type(cg, elem)?;
            cg.ty_array(e, *n)
        }
        Node::Record(r) => {
            let fields = r.fields.iter().map(|f| node_type(cg, f)).collect::<Result<Vec<_>>>()?;
            if r.align == 0 {
                cg.ty_record(&fields)
            } else {
                cg.ty_record_aligned(&fields, r.align)
            }
        }
    }
}

fn collect<B: Backend>(
    cg: &Cg<B>,
    node: &Node,
    ty: TypeId,
    base: u64,
    path: String,
    out: &mut Vec<Leaf>,
) -> Result<()> {
    match (node, cg.types().kind(ty).clone()) {
        (Node::Scalar(s), _) => out.push(Leaf { offset: base, scalar: *s, path }),
        (Node::Array(elem, n), TypeKind::Array { elem: ety, .. }) => {
            let size = cg.layout(ety)?.size;
            for i in 0..*n {
                collect(cg, elem, ety, base + i * size, format!("{path}[{i}]"), out)?;
            }
        }
        (Node::Record(r), TypeKind::Record { fields, .. }) => {
            for (i, (f, fty)) in r.fields.iter().zip(fields).enumerate() {
                let off = cg.field_offset(ty, i)?;
                collect(cg, f, fty, base + off, format!("{path}.f{i}"), out)?;
            }
        }
        _ => unreachable!("node and type are built together"),
    }
    Ok(())
}

impl Record {
    /// C declarations defining `struct name` (nested records first, as
    /// `struct name_i`) and `typedef struct name name;`.
    pub fn c_decls(&self, name: &str) -> String {
        let mut out = String::new();
        self.declare(name, &mut out);
        out.push_str(&format!("typedef struct {name} {name};\n"));
        out
    }

    fn declare(&self, name: &str, out: &mut String) {
        let mut body = String::new();
        for (i, f) in self.fields.iter().enumerate() {
            let mut dims = String::new();
            let mut node = f;
            while let Node::Array(elem, n) = node {
                dims.push_str(&format!("[{n}]"));
                node = elem;
            }
            let base = match node {
                Node::Scalar(s) => s.c().to_string(),
                Node::Record(r) => {
                    let inner = format!("{name}_{i}");
                    r.declare(&inner, out);
                    format!("struct {inner}")
                }
                Node::Array(..) => unreachable!("arrays unwrapped above"),
            };
            body.push_str(&format!(" {base} f{i}{dims};"));
        }
        let attr = if self.align == 0 { String::new() } else { format!("__attribute__((aligned({}))) ", self.align) };
        out.push_str(&format!("struct {attr}{name} {{{body} }};\n"));
    }

    /// Whether every leaf is a float (and there is one).
    pub fn float_only(&self) -> bool {
        fn leaves(n: &Node, out: &mut Vec<Scalar>) {
            match n {
                Node::Scalar(s) => out.push(*s),
                Node::Array(e, _) => leaves(e, out),
                Node::Record(r) => r.fields.iter().for_each(|f| leaves(f, out)),
            }
        }
        let mut all = Vec::new();
        self.fields.iter().for_each(|f| leaves(f, &mut all));
        !all.is_empty() && all.iter().all(|s| matches!(s, Scalar::F32 | Scalar::F64))
    }

    /// A one-line description, e.g. `{i8, [2 x f32], align(16) {}}`.
    pub fn describe(&self) -> String {
        let fields: Vec<String> = self.fields.iter().map(describe_node).collect();
        let align = if self.align == 0 { String::new() } else { format!("align({}) ", self.align) };
        format!("{align}{{{}}}", fields.join(", "))
    }
}

fn describe_node(n: &Node) -> String {
    match n {
        Node::Scalar(s) => format!("{s:?}").to_lowercase(),
        Node::Array(e, n) => format!("[{n} x {}]", describe_node(e)),
        Node::Record(r) => r.describe(),
    }
}

/// splitmix64: the deterministic source of every generated shape and value.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Generates record shapes of the kinds the C ABIs treat differently.
#[derive(Clone, Debug)]
pub struct ShapeGen {
    pub rng: Rng,
    int128: bool,
    /// Whether empty records appear (MSVC's C has none; the facade refuses them there).
    empty_records: bool,
}

impl ShapeGen {
    /// `int128`: whether the target has `__int128`.
    pub fn new(seed: u64, int128: bool) -> Self {
        Self { rng: Rng(seed), int128, empty_records: true }
    }

    /// A generator that never makes empty records (for `*-windows-msvc`).
    pub fn without_empty_records(mut self) -> Self {
        self.empty_records = false;
        self
    }

    fn scalar(&mut self) -> Scalar {
        loop {
            let s = match self.rng.below(8) {
                0 => Scalar::I8,
                1 => Scalar::I16,
                2 => Scalar::I32,
                3 => Scalar::I64,
                4 => Scalar::I128,
                5 => Scalar::F32,
                6 => Scalar::F64,
                _ => Scalar::Ptr,
            };
            // i128 rarely, and only where C has it.
            if s != Scalar::I128 || (self.int128 && self.rng.chance(30)) {
                return s;
            }
        }
    }

    fn float(&mut self) -> Scalar {
        if self.rng.chance(50) {
            Scalar::F32
        } else {
            Scalar::F64
        }
    }

    fn small_int(&mut self) -> Scalar {
        [Scalar::I8, Scalar::I16, Scalar::I32, Scalar::I64][self.rng.below(4) as usize]
    }

    fn node(&mut self, depth: u32) -> Node {
        match self.rng.below(10) {
            0 | 1 if depth < 2 => Node::Record(self.general(depth + 1)),
            2 => Node::Array(Box::new(self.leafish(depth)), 1 + self.rng.below(4)),
            _ => Node::Scalar(self.scalar()),
        }
    }

    fn leafish(&mut self, depth: u32) -> Node {
        if depth < 2 && self.rng.chance(20) {
            Node::Record(self.general(depth + 1))
        } else {
            Node::Scalar(self.scalar())
        }
    }

    fn general(&mut self, depth: u32) -> Record {
        let n = 1 + self.rng.below(if depth == 0 { 5 } else { 3 });
        Record { fields: (0..n).map(|_| self.node(depth)).collect(), align: 0 }
    }

    /// Wraps `node` in a single-field record or a one-element array, sometimes.
    fn wrap(&mut self, node: Node) -> Node {
        match self.rng.below(5) {
            0 => Node::Record(Record { fields: vec![node], align: 0 }),
            1 => Node::Array(Box::new(node), 1),
            _ => node,
        }
    }

    fn empty() -> Record {
        Record { fields: Vec::new(), align: 0 }
    }

    /// One shape; `kind` picks the family (any `u64`, taken modulo the count).
    pub fn shape(&mut self, kind: u64) -> Record {
        match kind % 9 {
            // Anything: nested records, arrays, padding.
            0 | 1 => self.general(0),
            // A single field, possibly nested or a one-element array.
            2 => {
                let s = Node::Scalar(self.scalar());
                let n = self.wrap(s);
                Record { fields: vec![n], align: 0 }
            }
            // HFA-like: 1-4 floats of one kind, as fields, an array or nested.
            3 => {
                let f = self.float();
                let count = 1 + self.rng.below(4);
                let mut fields = Vec::new();
                let mut left = count;
                while left > 0 {
                    let take = 1 + self.rng.below(left);
                    let part = if take == 1 { Node::Scalar(f) } else { Node::Array(Box::new(Node::Scalar(f)), take) };
                    fields.push(self.wrap(part));
                    left -= take;
                }
                // Sometimes spoil it: a different float or an int among them.
                if self.rng.chance(20) {
                    let spoiler = if self.rng.chance(50) { self.float() } else { self.small_int() };
                    fields.push(Node::Scalar(spoiler));
                }
                Record { fields, align: 0 }
            }
            // Float and integer pairs (RISC-V flattening), in either order.
            4 => {
                let f = Node::Scalar(self.float());
                let i = Node::Scalar(if self.rng.chance(25) { Scalar::Ptr } else { self.small_int() });
                let mut fields = if self.rng.chance(50) { vec![f, i] } else { vec![i, f] };
                if self.rng.chance(25) {
                    fields[0] = Node::Scalar(self.float());
                }
                if self.rng.chance(30) {
                    let inner = Record { fields: fields.split_off(1), align: 0 };
                    fields.push(Node::Record(inner));
                }
                Record { fields, align: 0 }
            }
            // Empty records, alone or beside other fields.
            5 => {
                let mut fields = Vec::new();
                for _ in 0..self.rng.below(3) {
                    if self.rng.chance(40) && self.empty_records {
                        fields.push(Node::Record(Self::empty()));
                    } else {
                        fields.push(Node::Scalar(if self.rng.chance(50) { self.float() } else { self.small_int() }));
                    }
                }
                if fields.is_empty() && !self.empty_records {
                    fields.push(Node::Scalar(self.small_int()));
                }
                Record { fields, align: 0 }
            }
            // Over-aligned (the record itself, or a nested one).
            6 => {
                let mut r = self.general(1);
                let align = if self.rng.chance(60) { 16 } else { 32 };
                if self.rng.chance(70) {
                    r.align = align;
                    r
                } else {
                    let inner = Record { fields: vec![Node::Scalar(self.scalar())], align };
                    r.fields.insert(self.rng.below(r.fields.len() as u64 + 1) as usize, Node::Record(inner));
                    r
                }
            }
            // Integer bytes to a size near 8, 16 or 32.
            7 => {
                let target = [7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33][self.rng.below(11) as usize];
                let mut fields = Vec::new();
                let mut size = 0;
                while size < target {
                    let (s, w) = match self.rng.below(3) {
                        0 if size % 4 == 0 && target - size >= 4 => (Scalar::I32, 4),
                        1 if size % 2 == 0 && target - size >= 2 => (Scalar::I16, 2),
                        _ => (Scalar::I8, 1),
                    };
                    fields.push(Node::Scalar(s));
                    size += w;
                }
                Record { fields, align: 0 }
            }
            // Arrays of small records or mixed scalars.
            _ => {
                let inner =
                    Record { fields: vec![Node::Scalar(self.scalar()), Node::Scalar(self.small_int())], align: 0 };
                let n = 1 + self.rng.below(4);
                let mut fields = vec![Node::Array(Box::new(Node::Record(inner)), n)];
                if self.rng.chance(50) {
                    fields.push(Node::Scalar(self.scalar()));
                }
                Record { fields, align: 0 }
            }
        }
    }

    /// `n` shapes cycling through every family.
    pub fn shapes(&mut self, n: usize) -> Vec<Record> {
        (0..n as u64).map(|k| self.shape(k)).collect()
    }
}

/// A parameter or result of a generated prototype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A record by value: an index into the shape list.
    Record(usize),
    /// `int`
    I32,
    /// `long long`
    I64,
    /// `float`
    F32,
    /// `double`
    F64,
    /// `signed char` (sign-extended)
    I8s,
    /// `unsigned short` (zero-extended)
    U16z,
}

impl Arg {
    /// The C spelling; records are named `S{index}`.
    pub fn c(self) -> String {
        match self {
            Arg::Record(i) => format!("S{i}"),
            Arg::I32 => "int".into(),
            Arg::I64 => "long long".into(),
            Arg::F32 => "float".into(),
            Arg::F64 => "double".into(),
            Arg::I8s => "signed char".into(),
            Arg::U16z => "unsigned short".into(),
        }
    }

    /// The scalar this argument's bits are drawn as (`None` for records).
    pub fn scalar(self) -> Option<Scalar> {
        match self {
            Arg::Record(_) => None,
            Arg::I32 => Some(Scalar::I32),
            Arg::I64 => Some(Scalar::I64),
            Arg::F32 => Some(Scalar::F32),
            Arg::F64 => Some(Scalar::F64),
            Arg::I8s => Some(Scalar::I8),
            Arg::U16z => Some(Scalar::I16),
        }
    }
}

/// A generated prototype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proto {
    pub params: Vec<Arg>,
    pub result: Option<Arg>,
}

impl Proto {
    /// The C declarator `R name(P0 p0, ...)`.
    pub fn c(&self, name: &str) -> String {
        let params: Vec<String> = self.params.iter().enumerate().map(|(i, a)| format!("{} p{i}", a.c())).collect();
        let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
        let result = self.result.map_or("void".to_string(), Arg::c);
        format!("{result} {name}({params})")
    }

    /// The records it uses, in order of first appearance.
    pub fn records(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for a in self.result.iter().chain(&self.params) {
            if let Arg::Record(i) = a {
                if !out.contains(i) {
                    out.push(*i);
                }
            }
        }
        out
    }
}

/// Prototypes over `shapes`: prototype `k` uses shape `k % shapes.len()`
/// (as its result one time in three), with up to ten parameters mixing
/// records and scalars, enough to run out of argument registers. One in six
/// takes floats and float-only records only, to run out of FP registers
/// (AArch64 HFAs and RISC-V flattened pairs then travel on the stack).
pub fn protos(rng: &mut Rng, shapes: &[Record], n: usize) -> Vec<Proto> {
    let nshapes = shapes.len();
    let floaty: Vec<usize> = (0..nshapes).filter(|i| shapes[*i].float_only()).collect();
    let scalar = |rng: &mut Rng| [Arg::I32, Arg::I64, Arg::F32, Arg::F64, Arg::I8s, Arg::U16z][rng.below(6) as usize];
    (0..n)
        .map(|k| {
            if k % 6 == 5 && !floaty.is_empty() {
                let params = (0..8 + rng.below(4))
                    .map(|_| match rng.below(4) {
                        0 => Arg::F32,
                        1 => Arg::F64,
                        _ => Arg::Record(floaty[rng.below(floaty.len() as u64) as usize]),
                    })
                    .collect();
                let result = Some(Arg::Record(floaty[rng.below(floaty.len() as u64) as usize]));
                return Proto { params, result };
            }
            let primary = Arg::Record(k % nshapes);
            let nparams = rng.below(11) as usize;
            let mut params: Vec<Arg> = (0..nparams)
                .map(|_| if rng.chance(55) { Arg::Record(rng.below(nshapes as u64) as usize) } else { scalar(rng) })
                .collect();
            let result = if k % 3 == 0 {
                Some(primary)
            } else {
                params.insert(rng.below(params.len() as u64 + 1) as usize, primary);
                match rng.below(4) {
                    0 => None,
                    1 => Some(scalar(rng)),
                    _ => Some(Arg::Record(rng.below(nshapes as u64) as usize)),
                }
            };
            Proto { params, result }
        })
        .collect()
}

/// The generators' seed: `CFREE_ABI_SEED` (hex) if set, else `default`.
///
/// # Panics
/// If `CFREE_ABI_SEED` is not hexadecimal.
pub fn seed(default: u64) -> u64 {
    match std::env::var("CFREE_ABI_SEED") {
        Ok(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("CFREE_ABI_SEED is hex"),
        Err(_) => default,
    }
}
