//! What the decoder needs to know about a parsed module: its types and their memory layouts,
//! constants, decorations, functions and module-scope variables.

use crate::ir::Builtin;
use crate::ops::{Fk, Rm, mask};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{self, Decoration, Op, StorageClass, Word};
use std::collections::{HashMap, HashSet};

/// A decode error: build-log text.
pub(crate) type Res<T> = Result<T, String>;

/// Most scalar leaves a value held in registers may have.
pub(crate) const MAX_VALUE_LEAVES: usize = 256;
/// Most leaves a constant (an initializer) may have.
const MAX_CONST_LEAVES: usize = 1 << 20;
/// Most bytes of one type.
const MAX_TYPE_SIZE: u64 = 1 << 30;

/// A SPIR-V type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Void,
    Bool,
    Int(u8),
    Float(Fk),
    Vector(Word, u32),
    Array(Word, u64),
    Struct(Vec<Word>),
    Ptr(StorageClass, Word),
    Func(Word, Vec<Word>),
    /// event_t, opaque structs, ...: can be passed around as pointers only.
    Opaque(String),
    /// An image, a sampler or a sampled image (`ImageBasic`, decode/images.rs): an opaque
    /// 8-byte value (a kernel parameter's index, packed sampler bits, or both).
    Handle(Handle),
}

/// The opaque handle types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Handle {
    Image(ImageTy),
    Sampler,
    /// A sampled image of the image type.
    SampledImage(Word),
}

/// An image type's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ImageTy {
    pub(crate) dim: spirv::Dim,
    pub(crate) arrayed: bool,
}

impl ImageTy {
    /// How many coordinates address a texel (array layers included).
    pub(crate) fn coords(self) -> usize {
        let base = match self.dim {
            spirv::Dim::Dim2D => 2,
            spirv::Dim::Dim3D => 3,
            _ => 1,
        };
        base + usize::from(self.arrayed)
    }
}

/// The bits of a sampler value: bit 0 normalised coordinates, bits 1..4 the addressing mode
/// (`crate::AddressMode` in declaration order), bit 4 linear filtering.
pub(crate) fn sampler_bits(s: crate::SamplerArg) -> u64 {
    let a = match s.address {
        crate::AddressMode::None => 0,
        crate::AddressMode::ClampToEdge => 1,
        crate::AddressMode::Clamp => 2,
        crate::AddressMode::Repeat => 3,
        crate::AddressMode::Mirror => 4,
    };
    u64::from(s.normalized) | a << 1 | u64::from(s.filter == crate::FilterMode::Linear) << 4
}

/// The sampler a value's bits describe (see [`sampler_bits`]).
pub(crate) fn sampler_of(bits: u64) -> crate::SamplerArg {
    crate::SamplerArg {
        normalized: bits & 1 != 0,
        address: match (bits >> 1) & 7 {
            1 => crate::AddressMode::ClampToEdge,
            2 => crate::AddressMode::Clamp,
            3 => crate::AddressMode::Repeat,
            4 => crate::AddressMode::Mirror,
            _ => crate::AddressMode::None,
        },
        filter: if bits & 16 != 0 {
            crate::FilterMode::Linear
        } else {
            crate::FilterMode::Nearest
        },
    }
}

/// A scalar as stored in memory and registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sc {
    Bool,
    Int(u8),
    Float(Fk),
    Ptr,
}

/// The bytes an integer of `w` bits (1 to 64) occupies in memory, its size and alignment:
/// the smallest of 1, 2, 4 and 8 bytes that holds it. This is LLVM's allocation size and ABI
/// alignment of `iN` on `spir64` (clang's `sizeof(_BitInt(N))`), which the producer's address
/// arithmetic and layouts assume. A load reads these bytes and keeps the low `w` bits; a
/// store writes them, the value zero-extended (the padding bits are 0).
pub(crate) fn int_bytes(w: u8) -> u8 {
    match w {
        0..=8 => 1,
        9..=16 => 2,
        17..=32 => 4,
        _ => 8,
    }
}

/// Whether an integer width is one of the standard 8, 16, 32, 64 (others need
/// `ArbitraryPrecisionIntegersINTEL`, and a mask after loads).
pub(crate) fn standard_width(w: u8) -> bool {
    matches!(w, 8 | 16 | 32 | 64)
}

impl Sc {
    /// The bits of its value (an integer's width; a boolean's byte).
    pub(crate) fn bits(self) -> u32 {
        match self {
            Sc::Int(w) => u32::from(w),
            other => u32::from(other.bytes()) * 8,
        }
    }

    /// The bytes the scalar occupies in memory.
    pub(crate) fn bytes(self) -> u8 {
        match self {
            Sc::Bool => 1,
            Sc::Int(w) => int_bytes(w),
            Sc::Float(Fk::H) => 2,
            Sc::Float(Fk::S) => 4,
            Sc::Float(Fk::D) => 8,
            Sc::Ptr => 8,
        }
    }
}

/// A module-scope variable.
#[derive(Clone, Debug)]
pub(crate) struct GVar {
    pub(crate) class: StorageClass,
    pub(crate) pointee: Word,
    pub(crate) init: Option<Word>,
}

/// The decoded facts of a module.
pub(crate) struct Mod<'a> {
    pub(crate) m: &'a dr::Module,
    pub(crate) types: HashMap<Word, Ty>,
    /// Constant leaf values.
    pub(crate) consts: HashMap<Word, Vec<u64>>,
    /// Value id -> type id, for every id with a result type.
    pub(crate) ty_of: HashMap<Word, Word>,
    pub(crate) funcs: HashMap<Word, usize>,
    pub(crate) names: HashMap<Word, String>,
    pub(crate) builtins: HashMap<Word, Builtin>,
    pub(crate) byval: HashSet<Word>,
    pub(crate) saturated: HashSet<Word>,
    pub(crate) rounding: HashMap<Word, Rm>,
    packed: HashSet<Word>,
    pub(crate) globals: HashMap<Word, GVar>,
    /// Module-scope variables in declaration order.
    pub(crate) global_order: Vec<Word>,
    pub(crate) ext_set: Option<Word>,
    /// `LinkageAttributes` `Export` (and `LinkOnceODR`) symbols.
    pub(crate) exports: HashMap<Word, String>,
    /// `LinkageAttributes` `Import` symbols (resolved by `Program::link`).
    pub(crate) imports: HashMap<Word, String>,
    pub(crate) local_size: HashMap<Word, [u32; 3]>,
    /// Per entry point: the sub-group size its `SubgroupSize` execution mode requires
    /// (`intel_reqd_sub_group_size`).
    pub(crate) subgroup_size: HashMap<Word, u32>,
    /// The sub-group size of kernels that require none (`BuildOptions::subgroup_size`).
    pub(crate) default_subgroup_size: u32,
    /// Decoration warnings for the build log.
    pub(crate) log: Vec<String>,
    /// `OpConstantFunctionPointerINTEL`s: constant id -> the function it points to. The
    /// pointer's value is the function's address ([`Mod::fn_addr`]); an imported function's
    /// is the exporter's, known once linked (the decoder's `function_pointers.rs`).
    pub(crate) fn_ptrs: HashMap<Word, Word>,
    /// Functions decorated `ReferencedIndirectlyINTEL` (their address may be taken).
    pub(crate) indirect: HashSet<Word>,
    /// The address of function 0 (a function's address is this plus its index in the
    /// module): the program's function slots, never 0.
    pub(crate) fn_base: u64,
    /// `SPV_INTEL_memory_access_aliasing` declarations: result id -> which declaration
    /// (`OpAliasDomainDeclINTEL`, `OpAliasScopeDeclINTEL`, `OpAliasScopeListDeclINTEL`).
    /// Hints only (see operands.rs): recorded so that the ids that use them are checked.
    pub(crate) alias_decls: HashMap<Word, Op>,
}

fn id(o: Option<&Operand>) -> Res<Word> {
    match o {
        Some(Operand::IdRef(w) | Operand::IdScope(w) | Operand::IdMemorySemantics(w)) => Ok(*w),
        other => Err(format!(
            "invalid SPIR-V: expected an id operand, found {other:?}"
        )),
    }
}

fn lit(o: Option<&Operand>) -> Res<u64> {
    match o {
        Some(Operand::LiteralBit32(w)) => Ok(u64::from(*w)),
        Some(Operand::LiteralBit64(w)) => Ok(*w),
        Some(Operand::LiteralExtInstInteger(w)) => Ok(u64::from(*w)),
        other => Err(format!(
            "invalid SPIR-V: expected a literal operand, found {other:?}"
        )),
    }
}

pub(crate) fn op_id(i: &dr::Instruction, n: usize) -> Res<Word> {
    id(i.operands.get(n)).map_err(|e| format!("{e} (operand {n} of Op{:?})", i.class.opcode))
}

pub(crate) fn op_lit(i: &dr::Instruction, n: usize) -> Res<u64> {
    lit(i.operands.get(n)).map_err(|e| format!("{e} (operand {n} of Op{:?})", i.class.opcode))
}

pub(crate) fn result(i: &dr::Instruction) -> Res<Word> {
    i.result_id
        .ok_or_else(|| format!("invalid SPIR-V: Op{:?} without a result id", i.class.opcode))
}

pub(crate) fn result_type(i: &dr::Instruction) -> Res<Word> {
    i.result_type.ok_or_else(|| {
        format!(
            "invalid SPIR-V: Op{:?} without a result type",
            i.class.opcode
        )
    })
}

impl<'a> Mod<'a> {
    /// The facts of module `m` with specialization constants `spec`; its functions' addresses
    /// start at `fn_base` (not 0: see [`Mod::fn_addr`]).
    pub(crate) fn new(m: &'a dr::Module, spec: &[(u32, &[u8])], fn_base: u64) -> Res<Mod<'a>> {
        let mut md = Mod {
            m,
            types: HashMap::new(),
            consts: HashMap::new(),
            ty_of: HashMap::new(),
            funcs: HashMap::new(),
            names: HashMap::new(),
            builtins: HashMap::new(),
            byval: HashSet::new(),
            saturated: HashSet::new(),
            rounding: HashMap::new(),
            packed: HashSet::new(),
            globals: HashMap::new(),
            global_order: Vec::new(),
            ext_set: None,
            exports: HashMap::new(),
            imports: HashMap::new(),
            local_size: HashMap::new(),
            subgroup_size: HashMap::new(),
            default_subgroup_size: crate::DEFAULT_SUBGROUP_SIZE,
            log: Vec::new(),
            fn_ptrs: HashMap::new(),
            indirect: HashSet::new(),
            fn_base,
            alias_decls: HashMap::new(),
        };
        // Function indices first: function pointer constants are their addresses.
        for (n, f) in m.functions.iter().enumerate() {
            if let Some(fid) = f.def.as_ref().and_then(|d| d.result_id) {
                md.funcs.insert(fid, n);
            }
        }
        for i in &m.ext_inst_imports {
            md.ext_set = Some(result(i)?);
        }
        for i in &m.debug_names {
            if i.class.opcode == Op::Name
                && let (Ok(t), Some(Operand::LiteralString(s))) = (op_id(i, 0), i.operands.get(1))
            {
                md.names.insert(t, s.clone());
            }
        }
        crate::annotations::check_annotations(m)?;
        for i in &m.execution_modes {
            crate::annotations::check_mode(i)?;
            if let (Ok(f), Some(Operand::ExecutionMode(spirv::ExecutionMode::LocalSize))) =
                (op_id(i, 0), i.operands.get(1))
            {
                let x = op_lit(i, 2)? as u32;
                let y = op_lit(i, 3)? as u32;
                let z = op_lit(i, 4)? as u32;
                md.local_size.insert(f, [x, y, z]);
            }
            if let (Ok(f), Some(Operand::ExecutionMode(spirv::ExecutionMode::SubgroupSize))) =
                (op_id(i, 0), i.operands.get(1))
            {
                let n = op_lit(i, 2)? as u32;
                if !crate::SUBGROUP_SIZES.contains(&n) {
                    return Err(format!(
                        "unsupported sub-group size {n} required by execution mode SubgroupSize of %{f} (this engine runs sub-groups of {:?} work-items)",
                        crate::SUBGROUP_SIZES
                    ));
                }
                md.subgroup_size.insert(f, n);
            }
        }
        md.decorations()?;
        md.types_and_values(spec)?;
        md.local_size_ids()?;
        crate::builtins::check_targets(&md)?;
        for (n, f) in m.functions.iter().enumerate() {
            let def = f
                .def
                .as_ref()
                .ok_or("invalid SPIR-V: function without OpFunction")?;
            let fid = result(def)?;
            md.funcs.insert(fid, n);
            md.ty_of.insert(fid, result_type(def)?);
            for p in &f.parameters {
                md.ty_of.insert(result(p)?, result_type(p)?);
            }
            for b in &f.blocks {
                for i in &b.instructions {
                    if let (Some(r), Some(t)) = (i.result_id, i.result_type) {
                        md.ty_of.insert(r, t);
                    }
                }
            }
        }
        crate::conversions::check_targets(&md)?;
        crate::operands::check_module(&md)?;
        Ok(md)
    }

    fn decorations(&mut self) -> Res<()> {
        // Decoration groups: OpGroupDecorate copies a group's decorations to its targets.
        let mut groups: HashMap<Word, Vec<&dr::Instruction>> = HashMap::new();
        let m = self.m;
        let mut targets: Vec<(Word, &dr::Instruction)> = Vec::new();
        for i in &m.annotations {
            if i.class.opcode == Op::Decorate {
                targets.push((op_id(i, 0)?, i));
            }
        }
        for i in &m.annotations {
            if i.class.opcode == Op::DecorationGroup {
                groups.insert(result(i)?, Vec::new());
            }
        }
        for (t, i) in &targets {
            if let Some(g) = groups.get_mut(t) {
                g.push(i);
            }
        }
        let mut all: Vec<(Word, &dr::Instruction)> = targets.clone();
        for i in &m.annotations {
            if i.class.opcode == Op::GroupDecorate {
                let g = op_id(i, 0)?;
                for o in &i.operands[1..] {
                    if let Operand::IdRef(t) = o {
                        for d in groups.get(&g).into_iter().flatten() {
                            all.push((*t, d));
                        }
                    }
                }
            }
        }
        for (t, i) in all {
            let Some(Operand::Decoration(d)) = i.operands.get(1) else {
                continue;
            };
            match d {
                Decoration::BuiltIn => {
                    self.builtins.insert(t, crate::builtins::decoration(t, i)?);
                }
                Decoration::FuncParamAttr => {
                    if let Some(Operand::FunctionParameterAttribute(
                        spirv::FunctionParameterAttribute::ByVal,
                    )) = i.operands.get(2)
                    {
                        self.byval.insert(t);
                    } else {
                        crate::annotations::param_attr(i, t)?;
                    }
                }
                Decoration::SaturatedConversion => {
                    self.saturated.insert(t);
                }
                Decoration::FPRoundingMode => {
                    if let Some(Operand::FPRoundingMode(r)) = i.operands.get(2) {
                        let rm = match r {
                            spirv::FPRoundingMode::RTE => Rm::Rte,
                            spirv::FPRoundingMode::RTZ => Rm::Rtz,
                            spirv::FPRoundingMode::RTP => Rm::Rtp,
                            spirv::FPRoundingMode::RTN => Rm::Rtn,
                        };
                        self.rounding.insert(t, rm);
                    }
                }
                Decoration::CPacked => {
                    self.packed.insert(t);
                }
                Decoration::LinkageAttributes => {
                    crate::linkage::decoration(self, t, i)?;
                }
                Decoration::SpecId => {}
                Decoration::ReferencedIndirectlyINTEL => {
                    self.indirect.insert(t);
                }
                other => crate::annotations::other_decoration(*other, t)?,
            }
        }
        Ok(())
    }

    fn spec_ids(&self) -> HashMap<Word, u32> {
        let mut out = HashMap::new();
        for i in &self.m.annotations {
            if i.class.opcode == Op::Decorate
                && let (Ok(t), Some(Operand::Decoration(Decoration::SpecId)), Ok(n)) =
                    (op_id(i, 0), i.operands.get(1), op_lit(i, 2))
            {
                out.insert(t, n as u32);
            }
        }
        out
    }

    fn types_and_values(&mut self, spec: &[(u32, &[u8])]) -> Res<()> {
        let spec_ids = self.spec_ids();
        let m = self.m;
        // OpTypeForwardPointer ids not declared yet, and their storage classes.
        let mut forward: HashMap<Word, StorageClass> = HashMap::new();
        for i in &m.types_global_values {
            let op = i.class.opcode;
            match op {
                Op::TypeVoid => {
                    self.types.insert(result(i)?, Ty::Void);
                }
                Op::TypeBool => {
                    self.types.insert(result(i)?, Ty::Bool);
                }
                Op::TypeInt => {
                    let w = op_lit(i, 0)?;
                    if !(1..=64).contains(&w) {
                        return Err(format!("unsupported integer width {w} (at most 64 bits)"));
                    }
                    if !standard_width(w as u8)
                        && !self.has_capability(spirv::Capability::ArbitraryPrecisionIntegersINTEL)
                    {
                        return Err(format!(
                            "invalid SPIR-V: integer width {w} without the ArbitraryPrecisionIntegersINTEL capability"
                        ));
                    }
                    self.types.insert(result(i)?, Ty::Int(w as u8));
                }
                Op::TypeFloat => {
                    if let Some(e) = i.operands.get(1) {
                        // SPV_KHR_bfloat16 and friends: not IEEE 754 binary16/32/64.
                        return Err(format!(
                            "unsupported floating-point encoding {e} of OpTypeFloat"
                        ));
                    }
                    let k = match op_lit(i, 0)? {
                        16 => Fk::H,
                        32 => Fk::S,
                        64 => Fk::D,
                        w => return Err(format!("unsupported float width {w}")),
                    };
                    self.types.insert(result(i)?, Ty::Float(k));
                }
                Op::TypeVector => {
                    let e = op_id(i, 0)?;
                    let n = op_lit(i, 1)? as u32;
                    if ![2, 3, 4, 8, 16].contains(&n) {
                        return Err(format!("unsupported vector size {n}"));
                    }
                    match self.types.get(&e) {
                        Some(Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..)) => {}
                        _ => return Err("invalid SPIR-V: vector of a non-scalar type".into()),
                    }
                    self.types.insert(result(i)?, Ty::Vector(e, n));
                }
                Op::TypeArray => {
                    let e = op_id(i, 0)?;
                    let len_id = op_id(i, 1)?;
                    let len = self
                        .consts
                        .get(&len_id)
                        .and_then(|v| v.first().copied())
                        .ok_or("invalid SPIR-V: array length is not a constant")?;
                    if !self.types.contains_key(&e) {
                        return Err("invalid SPIR-V: array of an undefined type".into());
                    }
                    self.types.insert(result(i)?, Ty::Array(e, len));
                }
                Op::TypeStruct => {
                    let mut ms = Vec::new();
                    for n in 0..i.operands.len() {
                        let t = op_id(i, n)?;
                        if !self.types.contains_key(&t) {
                            return Err("invalid SPIR-V: struct member of an undefined type".into());
                        }
                        ms.push(t);
                    }
                    self.types.insert(result(i)?, Ty::Struct(ms));
                }
                Op::TypeOpaque => {
                    let name = match i.operands.first() {
                        Some(Operand::LiteralString(s)) => s.clone(),
                        _ => String::new(),
                    };
                    self.types.insert(result(i)?, Ty::Opaque(name));
                }
                Op::TypeEvent => {
                    // event_t (async copies complete at once): an opaque 64-bit value.
                    self.types.insert(result(i)?, Ty::Int(64));
                }
                Op::TypeForwardPointer => {
                    // A pointer type used before it is declared (a struct with a pointer
                    // to itself). Pointers are 8 bytes whatever they point to, so until its
                    // OpTypePointer comes it stands as a pointer to nothing (%0).
                    let p = op_id(i, 0)?;
                    let sc = match i.operands.get(1) {
                        Some(Operand::StorageClass(s)) => *s,
                        _ => return Err("invalid SPIR-V: malformed OpTypeForwardPointer".into()),
                    };
                    if self.types.contains_key(&p) {
                        return Err(format!(
                            "invalid SPIR-V: OpTypeForwardPointer of %{p}, which is already declared"
                        ));
                    }
                    forward.insert(p, sc);
                    self.types.insert(p, Ty::Ptr(sc, 0));
                }
                Op::TypePointer => {
                    let sc = match i.operands.first() {
                        Some(Operand::StorageClass(s)) => *s,
                        _ => return Err("invalid SPIR-V: malformed OpTypePointer".into()),
                    };
                    // The pointee comes first (a pointer used before it is the one of an
                    // OpTypeForwardPointer).
                    let p = op_id(i, 1)?;
                    if !self.types.contains_key(&p) {
                        return Err("invalid SPIR-V: pointer to an undefined type".into());
                    }
                    let r = result(i)?;
                    match forward.remove(&r) {
                        Some(fsc) if fsc != sc => {
                            return Err(format!(
                                "invalid SPIR-V: pointer type %{r} forward-declared in storage class {fsc:?}, declared in {sc:?}"
                            ));
                        }
                        Some(_) => {}
                        None if self.types.contains_key(&r) => {
                            return Err(format!("invalid SPIR-V: type %{r} declared twice"));
                        }
                        None => {}
                    }
                    self.types.insert(r, Ty::Ptr(sc, p));
                }
                Op::TypeFunction => {
                    let r = op_id(i, 0)?;
                    let mut ps = Vec::new();
                    for n in 1..i.operands.len() {
                        ps.push(op_id(i, n)?);
                    }
                    self.types.insert(result(i)?, Ty::Func(r, ps));
                }
                Op::Constant | Op::SpecConstant => {
                    let t = result_type(i)?;
                    let r = result(i)?;
                    let mut v = match (self.types.get(&t), i.operands.first()) {
                        (Some(Ty::Int(w)), Some(Operand::LiteralBit32(x))) => {
                            u64::from(*x) & mask(*w)
                        }
                        // A signed type's literal may be sign-extended to the words.
                        (Some(Ty::Int(w)), Some(Operand::LiteralBit64(x))) => *x & mask(*w),
                        (Some(Ty::Float(Fk::H)), Some(Operand::LiteralBit32(x))) => {
                            u64::from(*x) & 0xffff
                        }
                        (Some(Ty::Float(Fk::S)), Some(Operand::LiteralBit32(x))) => u64::from(*x),
                        (Some(Ty::Float(Fk::D)), Some(Operand::LiteralBit64(x))) => *x,
                        _ => return Err("invalid SPIR-V: malformed OpConstant".into()),
                    };
                    if op == Op::SpecConstant
                        && let Some(sid) = spec_ids.get(&r)
                        && let Some((_, bytes)) = spec.iter().find(|(s, _)| s == sid)
                    {
                        let size = self.size_align(t, 0)?.0 as usize;
                        if bytes.len() < size {
                            return Err(format!(
                                "specialization constant {sid}: {} bytes given, the constant has {size}",
                                bytes.len()
                            ));
                        }
                        let mut b = [0u8; 8];
                        b[..size].copy_from_slice(&bytes[..size]);
                        v = u64::from_le_bytes(b);
                        if let Some(Ty::Int(w)) = self.types.get(&t) {
                            // The bytes of an integer of another width hold it zero- or
                            // sign-extended: its value is the low bits.
                            v &= mask(*w);
                        }
                    }
                    self.consts.insert(r, vec![v]);
                    self.ty_of.insert(r, t);
                }
                Op::ConstantTrue
                | Op::ConstantFalse
                | Op::SpecConstantTrue
                | Op::SpecConstantFalse => {
                    let r = result(i)?;
                    let mut v = u64::from(matches!(op, Op::ConstantTrue | Op::SpecConstantTrue));
                    if matches!(op, Op::SpecConstantTrue | Op::SpecConstantFalse)
                        && let Some(sid) = spec_ids.get(&r)
                        && let Some((_, bytes)) = spec.iter().find(|(s, _)| s == sid)
                    {
                        v = u64::from(bytes.iter().any(|&b| b != 0));
                    }
                    self.consts.insert(r, vec![v]);
                    self.ty_of.insert(r, result_type(i)?);
                }
                Op::ConstantNull | Op::Undef => {
                    let t = result_type(i)?;
                    let n = self.leaf_count(t, MAX_CONST_LEAVES)?;
                    self.consts.insert(result(i)?, vec![0; n]);
                    self.ty_of.insert(result(i)?, t);
                }
                Op::ConstantComposite | Op::SpecConstantComposite => {
                    let t = result_type(i)?;
                    let mut v = Vec::new();
                    for n in 0..i.operands.len() {
                        let c = op_id(i, n)?;
                        let part = match self.consts.get(&c) {
                            Some(part) => part,
                            None if self.fn_ptrs.contains_key(&c) => {
                                return Err(format!(
                                    "unsupported constant %{} holding a pointer to the imported function `{}` (its address is known only once linked)",
                                    result(i)?,
                                    self.name(self.fn_ptrs[&c])
                                ));
                            }
                            None => {
                                return Err(
                                    "invalid SPIR-V: composite constant of a non-constant".into()
                                );
                            }
                        };
                        if v.len() + part.len() > MAX_CONST_LEAVES {
                            return Err("constant too large".into());
                        }
                        v.extend_from_slice(part);
                    }
                    if v.len() != self.leaf_count(t, MAX_CONST_LEAVES)? {
                        return Err(
                            "invalid SPIR-V: composite constant does not match its type".into()
                        );
                    }
                    self.consts.insert(result(i)?, v);
                    self.ty_of.insert(result(i)?, t);
                }
                Op::SpecConstantOp => {
                    let inner = match i.operands.first() {
                        Some(Operand::LiteralSpecConstantOpInteger(o)) => format!("Op{o:?}"),
                        _ => "?".into(),
                    };
                    return Err(format!(
                        "unsupported instruction OpSpecConstantOp ({inner})"
                    ));
                }
                Op::Variable => {
                    let r = result(i)?;
                    let t = result_type(i)?;
                    let (class, pointee) = match self.types.get(&t) {
                        Some(Ty::Ptr(c, p)) => (*c, *p),
                        _ => return Err("invalid SPIR-V: OpVariable of a non-pointer type".into()),
                    };
                    let init = match i.operands.get(1) {
                        Some(Operand::IdRef(c)) => Some(*c),
                        _ => None,
                    };
                    if class == StorageClass::Workgroup
                        && let Some(c) = init
                        && self
                            .consts
                            .get(&c)
                            .is_none_or(|v| v.iter().any(|&x| x != 0))
                    {
                        // The work-group's local memory starts zeroed: a zero initializer
                        // (OpConstantNull) is what it holds anyway; any other is refused.
                        return Err(format!(
                            "unsupported initializer of Workgroup variable {} (only a zero initializer is implemented)",
                            self.name(r)
                        ));
                    }
                    if let Some(&b) = self.builtins.get(&r) {
                        crate::builtins::check_variable(self, r, b, class, pointee, init)?;
                    } else {
                        match class {
                            StorageClass::Input => {
                                if !self.builtins.contains_key(&r) {
                                    return Err(format!(
                                        "unsupported Input variable %{r} without a BuiltIn decoration"
                                    ));
                                }
                            }
                            StorageClass::UniformConstant
                            | StorageClass::CrossWorkgroup
                            | StorageClass::Workgroup => {}
                            other => {
                                return Err(format!(
                                    "unsupported storage class {other:?} for a module-scope variable"
                                ));
                            }
                        }
                    }
                    self.globals.insert(
                        r,
                        GVar {
                            class,
                            pointee,
                            init,
                        },
                    );
                    self.global_order.push(r);
                    self.ty_of.insert(r, t);
                }
                Op::Line | Op::NoLine | Op::String => {}
                Op::AliasDomainDeclINTEL
                | Op::AliasScopeDeclINTEL
                | Op::AliasScopeListDeclINTEL => {
                    crate::operands::alias_decl(self, i)?;
                }
                Op::ConstantSampler => {
                    // LiteralSampler: addressing mode, normalised (0/1), filter mode.
                    let address = match i.operands.first() {
                        Some(Operand::SamplerAddressingMode(m)) => match m {
                            spirv::SamplerAddressingMode::None => crate::AddressMode::None,
                            spirv::SamplerAddressingMode::ClampToEdge => {
                                crate::AddressMode::ClampToEdge
                            }
                            spirv::SamplerAddressingMode::Clamp => crate::AddressMode::Clamp,
                            spirv::SamplerAddressingMode::Repeat => crate::AddressMode::Repeat,
                            spirv::SamplerAddressingMode::RepeatMirrored => {
                                crate::AddressMode::Mirror
                            }
                        },
                        _ => return Err("invalid SPIR-V: malformed OpConstantSampler".into()),
                    };
                    let normalized = op_lit(i, 1)? != 0;
                    let filter = match i.operands.get(2) {
                        Some(Operand::SamplerFilterMode(spirv::SamplerFilterMode::Nearest)) => {
                            crate::FilterMode::Nearest
                        }
                        Some(Operand::SamplerFilterMode(spirv::SamplerFilterMode::Linear)) => {
                            crate::FilterMode::Linear
                        }
                        _ => return Err("invalid SPIR-V: malformed OpConstantSampler".into()),
                    };
                    let r = result(i)?;
                    self.consts.insert(
                        r,
                        vec![sampler_bits(crate::SamplerArg {
                            address,
                            filter,
                            normalized,
                        })],
                    );
                    self.ty_of.insert(r, result_type(i)?);
                }
                Op::TypeImage => {
                    // Sampled type, Dim, Depth, Arrayed, MS, Sampled, Image Format[, access].
                    let dim = match i.operands.get(1) {
                        Some(Operand::Dim(d)) => *d,
                        _ => return Err("invalid SPIR-V: malformed OpTypeImage".into()),
                    };
                    if !matches!(
                        dim,
                        spirv::Dim::Dim1D
                            | spirv::Dim::Dim2D
                            | spirv::Dim::Dim3D
                            | spirv::Dim::DimBuffer
                    ) {
                        return Err(format!("unsupported image dimension {dim:?}"));
                    }
                    if op_lit(i, 2)? != 0 {
                        return Err(
                            "unsupported depth image (image2d_depth_t, cl_khr_depth_images)".into(),
                        );
                    }
                    if op_lit(i, 4)? != 0 {
                        return Err(
                            "unsupported multisampled image (cl_khr_gl_msaa_sharing)".into()
                        );
                    }
                    let arrayed = op_lit(i, 3)? != 0;
                    if arrayed && !matches!(dim, spirv::Dim::Dim1D | spirv::Dim::Dim2D) {
                        return Err(format!("unsupported arrayed image of dimension {dim:?}"));
                    }
                    self.types.insert(
                        result(i)?,
                        Ty::Handle(Handle::Image(ImageTy { dim, arrayed })),
                    );
                }
                Op::TypeSampler => {
                    self.types.insert(result(i)?, Ty::Handle(Handle::Sampler));
                }
                Op::TypeSampledImage => {
                    let image = op_id(i, 0)?;
                    if !matches!(self.types.get(&image), Some(Ty::Handle(Handle::Image(_)))) {
                        return Err("invalid SPIR-V: OpTypeSampledImage of a non-image type".into());
                    }
                    self.types
                        .insert(result(i)?, Ty::Handle(Handle::SampledImage(image)));
                }
                Op::ConstantFunctionPointerINTEL => {
                    let r = result(i)?;
                    let t = result_type(i)?;
                    let f = op_id(i, 0)?;
                    let Some(&n) = self.funcs.get(&f) else {
                        return Err(format!(
                            "invalid SPIR-V: OpConstantFunctionPointerINTEL %{r} of %{f}, which is no function"
                        ));
                    };
                    if !matches!(self.types.get(&t), Some(Ty::Ptr(..))) {
                        return Err(format!(
                            "invalid SPIR-V: OpConstantFunctionPointerINTEL %{r} of a non-pointer type"
                        ));
                    }
                    self.fn_ptrs.insert(r, f);
                    self.ty_of.insert(r, t);
                    if !m.functions[n].blocks.is_empty() {
                        self.consts.insert(r, vec![self.fn_base + n as u64]);
                    }
                }
                Op::TypePipe
                | Op::TypeQueue
                | Op::TypeDeviceEvent
                | Op::TypeReserveId
                | Op::TypePipeStorage => {
                    return Err(format!(
                        "unsupported type Op{op:?} (pipes and device-side enqueue are not supported)"
                    ));
                }
                other => {
                    return Err(format!(
                        "unsupported instruction Op{other:?} at module scope"
                    ));
                }
            }
        }
        if let Some(p) = forward.keys().min() {
            return Err(format!(
                "invalid SPIR-V: OpTypeForwardPointer %{p} without its OpTypePointer"
            ));
        }
        Ok(())
    }

    /// `OpExecutionModeId ... LocalSizeId` (SPIR-V 1.2): `reqd_work_group_size` given by
    /// constant ids (read once the constants are known).
    fn local_size_ids(&mut self) -> Res<()> {
        for i in &self.m.execution_modes {
            if let (Ok(f), Some(Operand::ExecutionMode(spirv::ExecutionMode::LocalSizeId))) =
                (op_id(i, 0), i.operands.get(1))
            {
                let mut size = [0u32; 3];
                for (k, s) in size.iter_mut().enumerate() {
                    let c = op_id(i, 2 + k)?;
                    let v = self
                        .consts
                        .get(&c)
                        .filter(|_| matches!(self.ty_of.get(&c).and_then(|t| self.types.get(t)), Some(Ty::Int(_))))
                        .and_then(|v| v.first())
                        .ok_or_else(|| format!("invalid SPIR-V: LocalSizeId of %{f}: %{c} is not an integer constant"))?;
                    *s = u32::try_from(*v)
                        .map_err(|_| format!("LocalSizeId of %{f}: {v} is too large"))?;
                }
                self.local_size.insert(f, size);
            }
        }
        Ok(())
    }

    fn has_capability(&self, c: spirv::Capability) -> bool {
        self.m
            .capabilities
            .iter()
            .any(|i| matches!(i.operands.first(), Some(Operand::Capability(x)) if *x == c))
    }

    /// The address of function `fid` of this module (whose pointer is `fn_base` plus its
    /// index: stable for the program's life, distinct per function, never 0).
    pub(crate) fn fn_addr(&self, fid: Word) -> Option<u64> {
        self.funcs.get(&fid).map(|&n| self.fn_base + n as u64)
    }

    pub(crate) fn ty(&self, t: Word) -> Res<&Ty> {
        self.types
            .get(&t)
            .ok_or_else(|| format!("invalid SPIR-V: %{t} is not a type"))
    }

    /// The type of a value id.
    pub(crate) fn type_of(&self, v: Word) -> Res<Word> {
        self.ty_of
            .get(&v)
            .copied()
            .ok_or_else(|| format!("invalid SPIR-V: %{v} has no type"))
    }

    /// (size, alignment) in bytes, OpenCL C layout (vec3 is the size of vec4; CPacked
    /// structs have no padding).
    pub(crate) fn size_align(&self, t: Word, depth: u32) -> Res<(u64, u64)> {
        if depth > 64 {
            return Err("type nesting too deep".into());
        }
        let r = match self.ty(t)? {
            Ty::Void | Ty::Func(..) | Ty::Opaque(_) => (0, 1),
            Ty::Bool => (1, 1),
            Ty::Int(w) => (u64::from(int_bytes(*w)), u64::from(int_bytes(*w))),
            Ty::Float(k) => {
                let s = u64::from(Sc::Float(*k).bytes());
                (s, s)
            }
            Ty::Ptr(..) | Ty::Handle(_) => (8, 8),
            Ty::Vector(e, n) => {
                let (es, _) = self.size_align(*e, depth + 1)?;
                let n = if *n == 3 { 4 } else { u64::from(*n) };
                (es * n, es * n)
            }
            Ty::Array(e, len) => {
                let (es, ea) = self.size_align(*e, depth + 1)?;
                let stride = es.div_ceil(ea.max(1)) * ea.max(1);
                let size = stride
                    .checked_mul(*len)
                    .filter(|s| *s <= MAX_TYPE_SIZE)
                    .ok_or("type too large")?;
                (size, ea)
            }
            Ty::Struct(ms) => {
                let packed = self.packed.contains(&t);
                let (mut off, mut align) = (0u64, 1u64);
                for m in ms {
                    let (s, a) = self.size_align(*m, depth + 1)?;
                    let a = if packed { 1 } else { a.max(1) };
                    off = off.div_ceil(a) * a + s;
                    align = align.max(a);
                    if off > MAX_TYPE_SIZE {
                        return Err("type too large".into());
                    }
                }
                (off.div_ceil(align) * align, align)
            }
        };
        Ok(r)
    }

    /// The byte offset of member `k` of struct `st`.
    pub(crate) fn member_offset(&self, st: Word, k: usize) -> Res<u64> {
        let Ty::Struct(ms) = self.ty(st)? else {
            return Err("invalid SPIR-V: member offset of a non-struct".into());
        };
        let packed = self.packed.contains(&st);
        let mut off = 0u64;
        for (n, m) in ms.iter().enumerate() {
            let (s, a) = self.size_align(*m, 1)?;
            let a = if packed { 1 } else { a.max(1) };
            off = off.div_ceil(a) * a;
            if n == k {
                return Ok(off);
            }
            off += s;
        }
        Err("invalid SPIR-V: struct index out of range".into())
    }

    /// Alloc size (size rounded up to alignment): the stride of arrays and pointers.
    pub(crate) fn stride(&self, t: Word) -> Res<u64> {
        let (s, a) = self.size_align(t, 0)?;
        Ok(s.div_ceil(a.max(1)) * a.max(1))
    }

    /// The scalar leaves of a type with their byte offsets, at most `limit` of them.
    pub(crate) fn leaves(&self, t: Word, limit: usize) -> Res<Vec<(u64, Sc)>> {
        let mut out = Vec::new();
        self.leaves_into(t, 0, &mut out, limit, 0)?;
        Ok(out)
    }

    fn leaves_into(
        &self,
        t: Word,
        base: u64,
        out: &mut Vec<(u64, Sc)>,
        limit: usize,
        depth: u32,
    ) -> Res<()> {
        if depth > 64 {
            return Err("type nesting too deep".into());
        }
        let too_big = || format!("a value of type %{t} has more than {limit} scalar components");
        match self.ty(t)? {
            Ty::Bool => out.push((base, Sc::Bool)),
            Ty::Int(w) => out.push((base, Sc::Int(*w))),
            Ty::Float(k) => out.push((base, Sc::Float(*k))),
            Ty::Ptr(..) | Ty::Handle(_) => out.push((base, Sc::Ptr)),
            Ty::Vector(e, n) => {
                let (es, _) = self.size_align(*e, depth + 1)?;
                for k in 0..u64::from(*n) {
                    self.leaves_into(*e, base + k * es, out, limit, depth + 1)?;
                }
            }
            Ty::Array(e, len) => {
                let stride = self.stride(*e)?;
                let per = self.leaf_count_depth(*e, limit, depth + 1)?;
                if per.saturating_mul(*len as usize) + out.len() > limit {
                    return Err(too_big());
                }
                for k in 0..*len {
                    self.leaves_into(*e, base + k * stride, out, limit, depth + 1)?;
                }
            }
            Ty::Struct(ms) => {
                let packed = self.packed.contains(&t);
                let mut off = 0u64;
                for m in ms {
                    let (s, a) = self.size_align(*m, depth + 1)?;
                    let a = if packed { 1 } else { a.max(1) };
                    off = off.div_ceil(a) * a;
                    self.leaves_into(*m, base + off, out, limit, depth + 1)?;
                    off += s;
                }
            }
            Ty::Void | Ty::Func(..) | Ty::Opaque(_) => {
                return Err(format!("type %{t} cannot be held in registers"));
            }
        }
        if out.len() > limit {
            return Err(too_big());
        }
        Ok(())
    }

    /// The number of scalar leaves of a type (at most `limit`).
    pub(crate) fn leaf_count(&self, t: Word, limit: usize) -> Res<usize> {
        self.leaf_count_depth(t, limit, 0)
    }

    fn leaf_count_depth(&self, t: Word, limit: usize, depth: u32) -> Res<usize> {
        if depth > 64 {
            return Err("type nesting too deep".into());
        }
        let n = match self.ty(t)? {
            Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..) | Ty::Handle(_) => 1,
            Ty::Vector(_, n) => *n as usize,
            Ty::Array(e, len) => self
                .leaf_count_depth(*e, limit, depth + 1)?
                .saturating_mul(*len as usize),
            Ty::Struct(ms) => {
                let mut n = 0usize;
                for m in ms {
                    n = n.saturating_add(self.leaf_count_depth(*m, limit, depth + 1)?);
                }
                n
            }
            Ty::Void | Ty::Func(..) | Ty::Opaque(_) => 0,
        };
        if n > limit {
            return Err(format!(
                "a value of type %{t} has more than {limit} scalar components"
            ));
        }
        Ok(n)
    }

    /// The scalar of a scalar or vector type (the element of a vector).
    pub(crate) fn scalar(&self, t: Word) -> Res<Sc> {
        match self.ty(t)? {
            Ty::Bool => Ok(Sc::Bool),
            Ty::Int(w) => Ok(Sc::Int(*w)),
            Ty::Float(k) => Ok(Sc::Float(*k)),
            Ty::Ptr(..) | Ty::Handle(_) => Ok(Sc::Ptr),
            Ty::Vector(e, _) => self.scalar(*e),
            other => Err(format!("expected a scalar or vector type, found {other:?}")),
        }
    }

    /// The number of components of a scalar or vector type.
    pub(crate) fn width(&self, t: Word) -> Res<u16> {
        match self.ty(t)? {
            Ty::Vector(_, n) => Ok(*n as u16),
            _ => Ok(1),
        }
    }

    /// Serialises a constant's leaves into memory bytes of its type's layout.
    pub(crate) fn const_bytes(&self, c: Word, t: Word, out: &mut [u8]) -> Res<()> {
        let vals = self
            .consts
            .get(&c)
            .ok_or("invalid SPIR-V: initializer is not a constant")?;
        let leaves = self.leaves(t, MAX_CONST_LEAVES)?;
        if leaves.len() != vals.len() {
            return Err("invalid SPIR-V: initializer does not match the variable's type".into());
        }
        for ((off, sc), v) in leaves.iter().zip(vals) {
            let n = usize::from(sc.bytes());
            let off = *off as usize;
            if off + n > out.len() {
                return Err("invalid SPIR-V: initializer larger than its variable".into());
            }
            out[off..off + n].copy_from_slice(&v.to_le_bytes()[..n]);
        }
        Ok(())
    }

    /// A readable name for an id.
    pub(crate) fn name(&self, id: Word) -> String {
        self.names
            .get(&id)
            .or_else(|| self.exports.get(&id))
            .cloned()
            .unwrap_or_else(|| format!("%{id}"))
    }
}
