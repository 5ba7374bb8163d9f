//! Decodes one kernel of a parsed module into [`Code`]: inlines every call, allocates
//! component slots, resolves OpPhi into edge moves, and orders the blocks.
//!
//! This is the engine's one frontend: everything after it (the interpreter, `crate::exec`)
//! sees only the IR (`crate::ir`). The decoder is [`Dec`]; its methods are spread over one
//! file per family of instructions, named after the SPIR-V capability or instruction class
//! that defines them. To find where an opcode is decoded, look it up here; where it runs,
//! in the matching file of `exec/` (same names; its table lists the `Inst` variants).
//!
//! | file | SPIR-V capability: instructions |
//! |---|---|
//! | `function.rs` | `OpFunctionCall` (inlined), `OpFunctionParameter`, pass 1 (result slots, `OpVariable` storage or promotion to registers, `OpPhi` slots) |
//! | `control_flow.rs` | `OpBranch[Conditional]`, `OpSwitch`, `OpReturn[Value]`, `OpUnreachable`, `OpLoopMerge`/`OpSelectionMerge` (hints), `OpPhi`; block ordering |
//! | `barriers.rs` | `OpControlBarrier`, `OpMemoryBarrier` |
//! | `memory.rs` | `OpVariable` initializers, `OpLoad`, `OpStore`, `OpCopyMemory`, `OpAccessChain`, `OpInBoundsAccessChain`; `Addresses`: `OpPtrAccessChain`, `OpInBoundsPtrAccessChain`, `OpCopyMemorySized`; `Kernel`: `OpLifetimeStart/Stop` |
//! | `conversions.rs` | `OpU/SConvert`, `OpFConvert`, `OpConvertFToU/S`, `OpConvertU/SToF`, `OpBitcast`; `Kernel`: `OpSatConvertSToU/UToS`; `Addresses`: `OpConvertPtrToU`, `OpConvertUToPtr`; `GenericPointer`: `OpPtrCastToGeneric`, `OpGenericCastToPtr[Explicit]` |
//! | `arithmetic.rs` | arithmetic, bit, relational and logical instructions (`OpIAdd` ... `OpSelect`); `Kernel`: `OpOrdered`, `OpUnordered`, `OpIsFinite`, `OpIsNormal`, `OpSignBitSet`, `OpLessOrGreater` |
//! | `composites.rs` | `OpCompositeExtract/Insert/Construct`, `OpVectorShuffle`, `OpVectorExtract/InsertDynamic`, `OpCopyObject` |
//! | `atomics.rs` | `OpAtomic*`; `Int64Atomics` (8-byte atomics) |
//! | `groups.rs` | `Kernel`: `OpGroupAsyncCopy`, `OpGroupWaitEvents` |
//! | `misc.rs` | `OpNop`, `OpUndef`, `OpLine`, `OpNoLine`, `OpName`; `Addresses`: `OpSizeOf` |
//! | `expect_assume.rs` | `ExpectAssumeKHR`: `OpExpectKHR`, `OpAssumeTrueKHR` |
//! | `extended_instructions.rs` | `OpExtInst` of OpenCL.std: math, integer, common, geometric, relational functions, `shuffle` |
//! | `vector_data.rs` | OpenCL.std `vloadn`, `vstoren`; `Float16Buffer`: `vload_half*`, `vstore_half*` |
//! | `printf.rs` | OpenCL.std `printf` |
//! | `operand_types.rs` | the operand types of the arithmetic, conversion and OpenCL.std instructions, checked before they are decoded |
//! | `builtin_access.rs` | the `BuiltIn` decoration: every way to read a built-in variable |
//! | `cross_module.rs` | `Linkage`: calls to imported functions, imported variables |
//! | `function_pointers.rs` | `FunctionPointersINTEL`: `OpConstantFunctionPointerINTEL`, `OpFunctionPointerCallINTEL` (a switch over inlined candidates) |
//!
//! The type-only capabilities (`Int8`, `Int16`, `Int64`, `Float16`, `Float64`,
//! `Vector16`) add no instructions: widths come from the types (`crate::module`) and the
//! values are computed by width (`crate::ops`). The hint capabilities are in `operands.rs`
//! and `annotations.rs`.
//!
//! A new capability: allow it in `check.rs`, add its opcodes in a new file here (an
//! `impl Dec` with a method that returns whether it decoded the instruction, added to
//! [`Dec::instruction`]), an `Inst` variant in `ir.rs` if none fits, its check in
//! `validate.rs`, and its execution in the file of the same name in `exec/`.
//!
//! Between pass 1 and pass 2, `passes.rs` propagates copies and fuses addresses; at the end,
//! `control_flow.rs` orders the blocks and `validate.rs` checks the code.

mod arithmetic;
mod atomics;
mod barriers;
mod builtin_access;
mod composites;
mod control_flow;
mod conversions;
mod cross_module;
mod expect_assume;
mod extended_instructions;
mod function;
mod function_pointers;
mod groups;
mod images;
mod memory;
mod misc;
mod operand_types;
mod passes;
mod printf;
mod subgroups;
mod validate;
mod vector_data;

use crate::ir::*;
use crate::mem::Space;
use crate::module::{GVar, Handle, MAX_VALUE_LEAVES, Mod, Res, Sc, Ty, result, result_type};
use crate::ops::Fk;
use crate::{ArgInfo, ArgKind, KernelInfo};
use rspirv::dr;
use rspirv::spirv::{Op, StorageClass, Word};
use std::collections::{HashMap, HashSet};

pub(crate) use cross_module::Ctx;
use validate::validate;

/// Most decoded instructions per kernel (after inlining).
const MAX_INSTS: usize = 2_000_000;
/// Deepest call nesting.
const MAX_CALL_DEPTH: usize = 64;
/// Most private bytes per work-item.
const MAX_PRIVATE: u64 = 1 << 20;
/// Most component slots per kernel.
const MAX_SLOTS: u32 = 1 << 20;

/// A decoded value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V {
    Reg(Slot),
    /// A built-in variable (the pointer to it).
    Builtin(Builtin),
    /// A pointer to one component of a built-in variable.
    BuiltinComp(Builtin, u8),
    /// A private variable promoted to registers (its address is never taken): loads and
    /// stores through it are register copies of `n` components at the slot.
    Promoted(Slot, u16),
}

/// A fused address: base slot, constant offset, optional (index slot, scale, index width).
type FusedAddr = (Slot, i64, Option<(Slot, i64, u8)>);

struct Phi {
    d: Slot,
    n: u16,
    incoming: Vec<(Word, Word)>,
}

/// One inlined copy of a function.
struct Instance {
    vals: HashMap<Word, V>,
    labels: HashMap<Word, u32>,
    phis: HashMap<Word, Vec<Phi>>,
    /// Where returns go (None: the kernel itself).
    cont: Option<u32>,
    ret: Option<(Slot, u16)>,
    /// Per id: (uses, uses as the composite of an OpCompositeExtract).
    uses: HashMap<Word, (u32, u32)>,
    /// Loads of built-ins that are only ever extracted from: not materialised, each
    /// extract reads its component of the built-in directly.
    builtin_loads: HashMap<Word, Builtin>,
    /// Ids used other than as the pointer of OpLoad/OpStore/OpLifetimeStart/Stop.
    escaping: HashSet<Word>,
    /// Results that are copies of (part of) another SSA value: they share its slots and
    /// emit no instruction.
    aliased: HashSet<Word>,
    /// Access chains used only as the pointer of one scalar load or store: the access is
    /// fused with the address computation (base, offset, at most one index term).
    fused: HashMap<Word, FusedAddr>,
}

struct Dec<'a, 'm> {
    md: &'a Mod<'m>,
    code: Code,
    mod_vals: HashMap<Word, V>,
    global_addr: &'a HashMap<Word, u64>,
    blocks: Vec<Option<Block>>,
    hints: Vec<Option<u32>>,
    /// Functions being inlined: (module, function).
    stack: Vec<(usize, Word)>,
    zero: Option<Slot>,
    /// Every module the kernel may reach (one unless linked) and the current one.
    mods: &'a [Ctx<'a, 'm>],
    cur: usize,
    /// The other modules' `mod_vals` while the current one is another.
    stash: Vec<HashMap<Word, V>>,
    /// Imports the kernel reaches that are not resolved (the kernel is unlinked).
    unresolved: Vec<String>,
}

/// Decodes the kernel whose entry point function is `entry`, in module `cur` of `mods`.
/// Also returns the imports it reaches that are not resolved: the code is not runnable
/// unless that list is empty.
pub(crate) fn kernel<'a, 'm>(
    mods: &'a [Ctx<'a, 'm>],
    cur: usize,
    entry: Word,
    name: &str,
) -> Res<(KernelInfo, Code, Vec<String>)> {
    let md = mods[cur].md;
    let global_addr = mods[cur].global_addr;
    let fi = *md
        .funcs
        .get(&entry)
        .ok_or_else(|| format!("entry point `{name}` names no function"))?;
    let f = &md.m.functions[fi];
    let mut d = Dec {
        md,
        code: Code::default(),
        mod_vals: HashMap::new(),
        global_addr,
        blocks: Vec::new(),
        hints: Vec::new(),
        stack: Vec::new(),
        zero: None,
        mods,
        cur,
        stash: vec![HashMap::new(); mods.len()],
        unresolved: Vec::new(),
    };
    // Parameters.
    let mut args = Vec::new();
    let mut vals = Vec::new();
    // Value parameters holding integers of a width other than 8, 16, 32, 64: their bytes
    // are masked to the width on entry.
    let mut odd = Vec::new();
    for p in &f.parameters {
        let pid = result(p)?;
        let t = result_type(p)?;
        match md.ty(t)? {
            Ty::Ptr(sc, pointee) => {
                let s = d.alloc(1)?;
                vals.push(V::Reg(s));
                match sc {
                    StorageClass::CrossWorkgroup | StorageClass::Generic => {
                        args.push(ArgInfo {
                            kind: ArgKind::GlobalPointer,
                            size: 8,
                        });
                        let layout = d.layout_of(t)?;
                        d.code.params.push(Param::Value { d: s, layout });
                    }
                    StorageClass::UniformConstant => {
                        args.push(ArgInfo {
                            kind: ArgKind::ConstantPointer,
                            size: 8,
                        });
                        let layout = d.layout_of(t)?;
                        d.code.params.push(Param::Value { d: s, layout });
                    }
                    StorageClass::Workgroup => {
                        args.push(ArgInfo {
                            kind: ArgKind::LocalPointer,
                            size: 0,
                        });
                        d.code.params.push(Param::Local { d: s });
                    }
                    StorageClass::Function if md.byval.contains(&pid) => {
                        let (size, align) = md.size_align(*pointee, 0)?;
                        let offset = d.private(size, align)?;
                        args.push(ArgInfo {
                            kind: ArgKind::Value,
                            size: size as usize,
                        });
                        d.code.params.push(Param::ByVal { d: s, offset, size });
                    }
                    other => {
                        return Err(format!(
                            "kernel `{name}`: unsupported parameter {} of storage class {other:?}",
                            md.name(pid)
                        ));
                    }
                }
            }
            Ty::Handle(h @ (Handle::Image(_) | Handle::Sampler)) => {
                let s = d.alloc(1)?;
                vals.push(V::Reg(s));
                if matches!(h, Handle::Image(_)) {
                    args.push(ArgInfo {
                        kind: ArgKind::Image,
                        size: 8,
                    });
                    d.code.params.push(Param::Image { d: s });
                } else {
                    args.push(ArgInfo {
                        kind: ArgKind::Sampler,
                        size: 8,
                    });
                    d.code.params.push(Param::Sampler { d: s });
                }
            }
            Ty::Bool
            | Ty::Int(_)
            | Ty::Float(_)
            | Ty::Vector(..)
            | Ty::Struct(_)
            | Ty::Array(..) => {
                let n = md.leaf_count(t, MAX_VALUE_LEAVES)?;
                let s = d.alloc(n)?;
                vals.push(V::Reg(s));
                if md
                    .leaves(t, MAX_VALUE_LEAVES)?
                    .iter()
                    .any(|(_, sc)| matches!(sc, Sc::Int(w) if !crate::module::standard_width(*w)))
                {
                    odd.push((s, t));
                }
                let size = md.size_align(t, 0)?.0;
                args.push(ArgInfo {
                    kind: ArgKind::Value,
                    size: size as usize,
                });
                let layout = d.layout_of(t)?;
                d.code.params.push(Param::Value { d: s, layout });
            }
            other => {
                return Err(format!(
                    "kernel `{name}`: unsupported parameter type {other:?}"
                ));
            }
        }
    }
    d.code.subgroup_size = md
        .subgroup_size
        .get(&entry)
        .copied()
        .unwrap_or(md.default_subgroup_size);
    let entry_block = d.new_block();
    d.code.entry = entry_block;
    if !odd.is_empty() {
        let pre = d.new_block();
        let start = d.code.insts.len() as u32;
        for (s, t) in odd {
            d.mask_loaded(s, t)?;
        }
        let to = Edge {
            to: entry_block,
            moves: vec![],
        };
        d.finish(pre, start, Term::Jump(to))?;
        d.code.entry = pre;
    }
    d.inline(entry, entry_block, &vals, None, None)?;
    d.order()?;
    validate(&d.code)?;
    d.code.undefined_at_entry = crate::jit::undefined_at_entry(&d.code);
    let info = KernelInfo {
        name: name.to_string(),
        args,
        required_group_size: md.local_size.get(&entry).copied(),
        subgroup_size: d.code.subgroup_size,
        required_subgroup_size: md.subgroup_size.get(&entry).copied(),
        private_memory_size: u32::try_from(d.code.private_size).unwrap_or(u32::MAX),
        local_memory_size: u32::try_from(d.code.local_size).unwrap_or(u32::MAX),
    };
    d.unresolved.sort();
    Ok((info, d.code, d.unresolved))
}

fn space_of(sc: StorageClass) -> Res<Space> {
    Ok(match sc {
        StorageClass::CrossWorkgroup | StorageClass::UniformConstant => Space::Global,
        StorageClass::Workgroup => Space::Local,
        StorageClass::Function => Space::Private,
        StorageClass::Generic => Space::Generic,
        other => {
            return Err(format!(
                "unsupported storage class {other:?} for a memory access"
            ));
        }
    })
}

fn fk_of(sc: Sc) -> Res<Fk> {
    match sc {
        Sc::Float(k) => Ok(k),
        other => Err(format!("expected a float type, found {other:?}")),
    }
}

fn int_bits(sc: Sc) -> u8 {
    match sc {
        Sc::Bool => 1,
        Sc::Int(w) => w,
        Sc::Ptr => 64,
        Sc::Float(_) => 64,
    }
}

impl<'a, 'm> Dec<'a, 'm> {
    fn alloc(&mut self, n: usize) -> Res<Slot> {
        let s = self.code.slots;
        let n = u32::try_from(n).map_err(|_| "value too large")?;
        self.code.slots = s
            .checked_add(n.max(1))
            .filter(|&t| t <= MAX_SLOTS)
            .ok_or("kernel needs too many registers")?;
        Ok(s)
    }

    fn private(&mut self, size: u64, align: u64) -> Res<u64> {
        let a = align.clamp(1, 128);
        let off = self.code.private_size.div_ceil(a) * a;
        self.code.private_size = off + size;
        if self.code.private_size > MAX_PRIVATE {
            return Err(format!(
                "kernel needs more than {MAX_PRIVATE} bytes of private memory per work-item"
            ));
        }
        Ok(off)
    }

    fn site(&mut self) -> u32 {
        self.code.sites += 1;
        self.code.sites - 1
    }

    fn new_block(&mut self) -> u32 {
        self.blocks.push(None);
        self.hints.push(None);
        (self.blocks.len() - 1) as u32
    }

    fn emit(&mut self, i: Inst) -> Res<()> {
        if self.code.insts.len() >= MAX_INSTS {
            return Err("kernel too large after inlining".into());
        }
        self.code.insts.push(i);
        Ok(())
    }

    fn layout_of(&mut self, t: Word) -> Res<u32> {
        let leaves = self.md.leaves(t, MAX_VALUE_LEAVES)?;
        let l: Layout = leaves
            .iter()
            .map(|(o, sc)| (u32::try_from(*o).unwrap_or(u32::MAX), sc.bytes()))
            .collect();
        if let Some(p) = self.code.layouts.iter().position(|x| *x == l) {
            return Ok(p as u32);
        }
        let span = l
            .iter()
            .map(|&(o, sz)| u64::from(o) + u64::from(sz))
            .max()
            .unwrap_or(0);
        self.code.layouts.push(l);
        self.code.layout_spans.push(span);
        Ok((self.code.layouts.len() - 1) as u32)
    }

    fn consts(&mut self, words: &[u64]) -> Res<Slot> {
        let s = self.alloc(words.len())?;
        let at = self.code.consts.len() as u32;
        self.code.consts.extend_from_slice(words);
        self.code.presets.push(Preset::Const {
            d: s,
            at,
            n: words.len() as u16,
        });
        Ok(s)
    }

    fn const_u64(&mut self, v: u64) -> Res<Slot> {
        self.consts(&[v])
    }

    fn zero(&mut self) -> Res<Slot> {
        if let Some(z) = self.zero {
            return Ok(z);
        }
        let z = self.const_u64(0)?;
        self.zero = Some(z);
        Ok(z)
    }

    /// A module-level value: constant or module-scope variable.
    fn mod_val(&mut self, id: Word) -> Res<V> {
        if let Some(v) = self.mod_vals.get(&id) {
            return Ok(*v);
        }
        let v = if let Some(words) = self.md.consts.get(&id) {
            if words.len() > MAX_VALUE_LEAVES {
                return Err(format!("constant %{id} is too large to use as a value"));
            }
            let words = words.clone();
            V::Reg(self.consts(&words)?)
        } else if let Some(&b) = self.md.builtins.get(&id) {
            // Whatever its storage class (builtins.rs).
            V::Builtin(b)
        } else if let Some(g) = self.md.globals.get(&id) {
            let GVar { class, pointee, .. } = g.clone();
            match class {
                StorageClass::Input => {
                    return Err(format!("Input variable %{id} is not a built-in"));
                }
                StorageClass::Workgroup => {
                    let (size, align) = self.md.size_align(pointee, 0)?;
                    let a = align.clamp(1, 128);
                    let off = self.code.local_size.div_ceil(a) * a;
                    self.code.local_size = off + size;
                    let s = self.alloc(1)?;
                    self.code.presets.push(Preset::Local { d: s, offset: off });
                    V::Reg(s)
                }
                _ => match self.global_addr.get(&id) {
                    Some(&addr) => V::Reg(self.const_u64(addr)?),
                    None => self.imported_variable(id)?,
                },
            }
        } else if let Some(v) = self.imported_function_pointer(id)? {
            v
        } else {
            return Err(format!("invalid SPIR-V: %{id} is used but not defined"));
        };
        self.mod_vals.insert(id, v);
        Ok(v)
    }

    fn val(&mut self, inst: &Instance, id: Word) -> Res<V> {
        match inst.vals.get(&id) {
            Some(v) => Ok(*v),
            None => self.mod_val(id),
        }
    }

    fn slot(&mut self, inst: &Instance, id: Word) -> Res<Slot> {
        match self.val(inst, id)? {
            V::Reg(s) => Ok(s),
            _ => Err(format!(
                "built-in variable %{id} used as a value (only loads from built-ins are supported)"
            )),
        }
    }

    fn ty_of(&self, id: Word) -> Res<Word> {
        self.md.type_of(id)
    }

    fn comps(&self, t: Word) -> Res<u16> {
        Ok(self.md.leaf_count(t, MAX_VALUE_LEAVES)? as u16)
    }

    /// The pointer type facts of a pointer value: (space, pointee type).
    fn ptr_info(&self, p: Word) -> Res<(StorageClass, Word)> {
        match self.md.ty(self.ty_of(p)?)? {
            Ty::Ptr(sc, t) => Ok((*sc, *t)),
            other => Err(format!(
                "invalid SPIR-V: %{p} is not a pointer (type {other:?})"
            )),
        }
    }

    fn copy(&mut self, d: Slot, s: Slot, n: u16) -> Res<()> {
        if n > 0 && d != s {
            self.emit(Inst::Copy { d, s, n })?;
        }
        Ok(())
    }

    /// Decodes one instruction of a block body (terminators, calls and barriers are taken
    /// care of by `function.rs`) by its family; an opcode that no family decodes is refused.
    fn instruction(&mut self, inst: &mut Instance, i: &dr::Instruction) -> Res<()> {
        // Result slot, when the instruction has one.
        let res = match i.result_id.and_then(|r| inst.vals.get(&r).copied()) {
            Some(V::Reg(s)) => Some(s),
            _ => None,
        };
        let decoded = match i.class.opcode {
            Op::ExtInst => return self.ext_inst(inst, i, res),
            Op::MemoryBarrier => return self.memory_barrier(),
            _ => {
                self.misc(inst, i, res)?
                    || self.expect_assume(inst, i, res)?
                    || self.memory(inst, i, res)?
                    || self.conversions(inst, i, res)?
                    || self.arithmetic(inst, i, res)?
                    || self.composites(inst, i, res)?
                    || self.atomics(inst, i, res)?
                    || self.groups(inst, i, res)?
                    || self.subgroups(inst, i, res)?
                    || self.images(inst, i, res)?
                    || self.function_pointers(inst, i, res)?
            }
        };
        if decoded {
            Ok(())
        } else {
            Err(format!("unsupported instruction Op{:?}", i.class.opcode))
        }
    }
}
