//! Decodes one kernel of a parsed module into [`Code`]: inlines every call, allocates
//! component slots, resolves OpPhi into edge moves, and orders the blocks.

use crate::ir::*;
use crate::mem::{AtomicOp, Space};
use crate::module::{GVar, MAX_VALUE_LEAVES, Mod, Res, Sc, Ty, op_id, op_lit, result, result_type};
use crate::ops::{BinOp, Cmp, FBin, FIntOp, FUn, Fk, Reduce, Rm, TernOp, UnOp, mask};
use crate::{ArgInfo, ArgKind, KernelInfo};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{Op, StorageClass, Word};
use std::collections::{HashMap, HashSet};

mod builtin_access;
mod cross_module;
use builtin_access::builtin_store;
pub(crate) use cross_module::Ctx;

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
            Ty::Bool
            | Ty::Int(_)
            | Ty::Float(_)
            | Ty::Vector(..)
            | Ty::Struct(_)
            | Ty::Array(..) => {
                let n = md.leaf_count(t, MAX_VALUE_LEAVES)?;
                let s = d.alloc(n)?;
                vals.push(V::Reg(s));
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
    let entry_block = d.new_block();
    d.inline(entry, entry_block, &vals, None, None)?;
    d.code.entry = entry_block;
    d.order()?;
    validate(&d.code)?;
    let info = KernelInfo {
        name: name.to_string(),
        args,
        required_group_size: md.local_size.get(&entry).copied(),
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

    /// Inlines function `fid` with its first block at block index `entry`.
    fn inline(
        &mut self,
        fid: Word,
        entry: u32,
        args: &[V],
        ret: Option<(Slot, u16)>,
        cont: Option<u32>,
    ) -> Res<()> {
        let md = self.md;
        let fname = md.name(fid);
        if self.stack.contains(&(self.cur, fid)) {
            return Err(format!(
                "recursive call to `{fname}` (recursion is not supported)"
            ));
        }
        if self.stack.len() >= MAX_CALL_DEPTH {
            return Err("calls nested too deeply".into());
        }
        let f = &md.m.functions[*md
            .funcs
            .get(&fid)
            .ok_or_else(|| format!("call to an unknown function %{fid}"))?];
        if f.blocks.is_empty() {
            return self.call_import(fid, entry, args, ret, cont);
        }
        if f.parameters.len() != args.len() {
            return Err(format!(
                "call to `{fname}` with {} arguments, it has {} parameters",
                args.len(),
                f.parameters.len()
            ));
        }
        self.stack.push((self.cur, fid));
        let mut inst = Instance {
            vals: HashMap::new(),
            labels: HashMap::new(),
            phis: HashMap::new(),
            cont,
            ret,
            uses: HashMap::new(),
            builtin_loads: HashMap::new(),
            escaping: HashSet::new(),
            aliased: HashSet::new(),
            fused: HashMap::new(),
        };
        for b in &f.blocks {
            for i in &b.instructions {
                for (k, o) in i.operands.iter().enumerate() {
                    if let Operand::IdRef(id) = o {
                        let u = inst.uses.entry(*id).or_default();
                        u.0 += 1;
                        if k == 0 && i.class.opcode == Op::CompositeExtract {
                            u.1 += 1;
                        }
                        let pointer_use = k == 0
                            && matches!(
                                i.class.opcode,
                                Op::Load | Op::Store | Op::LifetimeStart | Op::LifetimeStop
                            );
                        if !pointer_use {
                            inst.escaping.insert(*id);
                        }
                    }
                }
            }
        }
        for (p, a) in f.parameters.iter().zip(args) {
            inst.vals.insert(result(p)?, *a);
        }
        // Pass 1: blocks, result slots, phis, private variables, built-in pointers.
        for (n, b) in f.blocks.iter().enumerate() {
            let label = result(
                b.label
                    .as_ref()
                    .ok_or("invalid SPIR-V: block without a label")?,
            )?;
            let idx = if n == 0 { entry } else { self.new_block() };
            inst.labels.insert(label, idx);
        }
        for b in &f.blocks {
            let label = result(
                b.label
                    .as_ref()
                    .ok_or("invalid SPIR-V: block without a label")?,
            )?;
            for i in &b.instructions {
                self.pass1(&mut inst, label, i)?;
            }
        }
        // Pass 1b: built-in loads used only through extracts; copy propagation.
        for b in &f.blocks {
            for i in &b.instructions {
                if i.class.opcode == Op::Load
                    && let (Some(r), Ok(p)) = (i.result_id, op_id(i, 0))
                    && let Ok(V::Builtin(bi)) = self.val(&inst, p)
                    && inst.uses.get(&r).is_some_and(|u| u.0 == u.1)
                {
                    inst.builtin_loads.insert(r, bi);
                }
            }
        }
        self.propagate_copies(&mut inst, f)?;
        self.fuse_addresses(&mut inst, f)?;
        // Pass 2: instructions.
        for b in &f.blocks {
            let label = result(
                b.label
                    .as_ref()
                    .ok_or("invalid SPIR-V: block without a label")?,
            )?;
            let mut cur = inst.labels[&label];
            let mut start = self.code.insts.len() as u32;
            let mut terminated = false;
            let mut hint = None;
            for i in &b.instructions {
                if terminated {
                    return Err("invalid SPIR-V: instruction after a block terminator".into());
                }
                match i.class.opcode {
                    Op::FunctionCall => {
                        let callee = op_id(i, 0)?;
                        let mut cargs = Vec::new();
                        for k in 1..i.operands.len() {
                            let a = op_id(i, k)?;
                            cargs.push(self.val(&inst, a)?);
                        }
                        let r = match i.result_id.and_then(|r| inst.vals.get(&r).copied()) {
                            Some(V::Reg(s)) => {
                                let n = self.comps(result_type(i)?)?;
                                Some((s, n))
                            }
                            _ => None,
                        };
                        let callee_entry = self.new_block();
                        let next = self.new_block();
                        self.finish(
                            cur,
                            start,
                            Term::Jump(Edge {
                                to: callee_entry,
                                moves: vec![],
                            }),
                        )?;
                        self.inline(callee, callee_entry, &cargs, r, Some(next))?;
                        cur = next;
                        start = self.code.insts.len() as u32;
                    }
                    Op::ControlBarrier => {
                        // A sub-group is one work-item here, so a sub-group barrier is only
                        // a fence; other scopes are refused (operands.rs).
                        if crate::operands::execution_scope(self.md, i, 0)?
                            == crate::operands::ExecScope::Workgroup
                        {
                            let next = self.new_block();
                            self.finish(cur, start, Term::Barrier(next))?;
                            self.code.has_barrier = true;
                            cur = next;
                            start = self.code.insts.len() as u32;
                        } else {
                            self.emit(Inst::Fence)?;
                        }
                    }
                    Op::LoopMerge | Op::SelectionMerge => {
                        hint = inst.labels.get(&op_id(i, 0)?).copied();
                    }
                    Op::Branch => {
                        let e = self.edge(&inst, op_id(i, 0)?, label)?;
                        self.finish(cur, start, Term::Jump(e))?;
                        terminated = true;
                    }
                    Op::BranchConditional => {
                        let c = self.slot(&inst, op_id(i, 0)?)?;
                        let t = self.edge(&inst, op_id(i, 1)?, label)?;
                        let f = self.edge(&inst, op_id(i, 2)?, label)?;
                        self.finish(cur, start, Term::Branch { c, t, f })?;
                        terminated = true;
                    }
                    Op::Switch => {
                        let sel_id = op_id(i, 0)?;
                        let sel = self.slot(&inst, sel_id)?;
                        let w = int_bits(self.md.scalar(self.ty_of(sel_id)?)?);
                        let default = self.edge(&inst, op_id(i, 1)?, label)?;
                        let mut cases = Vec::new();
                        let mut k = 2;
                        while k + 1 < i.operands.len() {
                            let v = op_lit(i, k)? & mask(w);
                            let e = self.edge(&inst, op_id(i, k + 1)?, label)?;
                            cases.push((v, e));
                            k += 2;
                        }
                        self.finish(
                            cur,
                            start,
                            Term::Switch {
                                sel,
                                cases,
                                default,
                            },
                        )?;
                        terminated = true;
                    }
                    Op::Return | Op::ReturnValue => {
                        let term = match inst.cont {
                            None => Term::Return,
                            Some(c) => {
                                let mut moves = vec![];
                                if i.class.opcode == Op::ReturnValue
                                    && let Some((d, n)) = inst.ret
                                {
                                    let s = self.slot(&inst, op_id(i, 0)?)?;
                                    if s != d {
                                        moves.push(Move { d, s, n });
                                    }
                                }
                                Term::Jump(Edge { to: c, moves })
                            }
                        };
                        self.finish(cur, start, term)?;
                        terminated = true;
                    }
                    Op::Unreachable => {
                        self.finish(cur, start, Term::Trap)?;
                        terminated = true;
                    }
                    Op::Kill | Op::TerminateInvocation => {
                        return Err(format!(
                            "unsupported instruction Op{:?} (fragment shaders only)",
                            i.class.opcode
                        ));
                    }
                    _ if i.result_id.is_some_and(|r| {
                        inst.aliased.contains(&r) || inst.fused.contains_key(&r)
                    }) => {}
                    _ => self.instruction(&mut inst, i)?,
                }
            }
            if !terminated {
                return Err("invalid SPIR-V: block without a terminator".into());
            }
            if let Some(h) = hint {
                self.hints[cur as usize] = Some(h);
            }
        }
        self.stack.pop();
        Ok(())
    }

    /// Copy propagation: a result that is an unchanged copy of (part of) an SSA value
    /// (`OpCompositeExtract`, widening `OpUConvert`, same-shape `OpBitcast`, pointer casts,
    /// `OpCopyObject`, `OpExpectKHR`) shares the value's slots instead of copying them.
    ///
    /// This is sound in SSA form: the source's slots are only rewritten when its definition
    /// runs again (for a phi, on the edge into its block), and a use that the copy dominates
    /// cannot be reached from that redefinition without running the copy again; phi moves
    /// that read an alias while writing its source go through temporaries (parallel copy).
    /// Promoted private variables are not SSA values: their loads are never aliased.
    fn propagate_copies(&mut self, inst: &mut Instance, f: &dr::Function) -> Res<()> {
        let md = self.md;
        for _round in 0..8 {
            let mut changed = false;
            for b in &f.blocks {
                for i in &b.instructions {
                    let Some(r) = i.result_id else { continue };
                    let Ok(src) = op_id(i, 0) else { continue };
                    let offset = match i.class.opcode {
                        Op::CompositeExtract if !inst.builtin_loads.contains_key(&src) => {
                            let idx: Res<Vec<u64>> =
                                (1..i.operands.len()).map(|k| op_lit(i, k)).collect();
                            match (self.ty_of(src), idx) {
                                (Ok(ct), Ok(idx)) => match self.path(ct, &idx) {
                                    Ok((start, _, _)) => start,
                                    Err(_) => continue,
                                },
                                _ => continue,
                            }
                        }
                        Op::UConvert => {
                            let (Ok(st), Some(rt)) = (self.ty_of(src), i.result_type) else {
                                continue;
                            };
                            match (md.scalar(st), md.scalar(rt)) {
                                (Ok(a), Ok(b)) if int_bits(a) <= int_bits(b) => 0,
                                _ => continue,
                            }
                        }
                        Op::Bitcast => {
                            let (Ok(st), Some(rt)) = (self.ty_of(src), i.result_type) else {
                                continue;
                            };
                            match (md.scalar(st), md.scalar(rt), md.width(st), md.width(rt)) {
                                (Ok(a), Ok(b), Ok(na), Ok(nb))
                                    if a.bytes() == b.bytes() && na == nb =>
                                {
                                    0
                                }
                                _ => continue,
                            }
                        }
                        Op::ConvertPtrToU => match i.result_type.map(|t| md.scalar(t)) {
                            Some(Ok(Sc::Int(64))) => 0,
                            _ => continue,
                        },
                        Op::CopyObject
                        | Op::ExpectKHR
                        | Op::ConvertUToPtr
                        | Op::PtrCastToGeneric
                        | Op::GenericCastToPtr
                        | Op::GenericCastToPtrExplicit => 0,
                        _ => continue,
                    };
                    let Ok(V::Reg(s)) = self.val(inst, src) else {
                        continue;
                    };
                    let new = V::Reg(s + offset);
                    let current = inst.vals.get(&r).copied();
                    if matches!(current, Some(V::Reg(_))) && current != Some(new) {
                        inst.vals.insert(r, new);
                        inst.aliased.insert(r);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        Ok(())
    }

    /// Finds access chains whose only use is the pointer of a scalar OpLoad/OpStore.
    fn fuse_addresses(&mut self, inst: &mut Instance, f: &dr::Function) -> Res<()> {
        let md = self.md;
        // Only within one block: a chain computed before a loop and used inside it stays
        // a loop-invariant register instead of being recomputed at every iteration.
        let mut chains: HashMap<Word, (&dr::Instruction, usize)> = HashMap::new();
        for (bn, b) in f.blocks.iter().enumerate() {
            for i in &b.instructions {
                if matches!(
                    i.class.opcode,
                    Op::AccessChain
                        | Op::InBoundsAccessChain
                        | Op::PtrAccessChain
                        | Op::InBoundsPtrAccessChain
                ) && let Some(r) = i.result_id
                    && matches!(inst.vals.get(&r), Some(V::Reg(_)))
                    && inst.uses.get(&r).is_some_and(|u| u.0 == 1)
                {
                    chains.insert(r, (i, bn));
                }
            }
        }
        for (bn, b) in f.blocks.iter().enumerate() {
            for i in &b.instructions {
                let scalar_type = match i.class.opcode {
                    Op::Load => i.result_type,
                    Op::Store => op_id(i, 1).ok().and_then(|v| self.ty_of(v).ok()),
                    _ => continue,
                };
                let Some(t) = scalar_type else { continue };
                if !matches!(
                    md.ty(t),
                    Ok(Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..))
                ) {
                    continue;
                }
                let Ok(p) = op_id(i, 0) else { continue };
                let Some(&(chain, cb)) = chains.get(&p) else {
                    continue;
                };
                if cb != bn {
                    continue;
                }
                let Ok((base, off, terms)) = self.gep_parts(inst, chain) else {
                    continue;
                };
                match terms.as_slice() {
                    [] => {
                        inst.fused.insert(p, (base, off, None));
                    }
                    [t] => {
                        inst.fused.insert(p, (base, off, Some(*t)));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, idx: u32, start: u32, term: Term) -> Res<()> {
        let end = self.code.insts.len() as u32;
        match self.blocks.get_mut(idx as usize) {
            Some(b @ None) => {
                *b = Some(Block { start, end, term });
                Ok(())
            }
            _ => Err("invalid SPIR-V: a block is defined twice".into()),
        }
    }

    /// The edge to `to` (a label of this instance) from the SPIR-V block `from`.
    fn edge(&mut self, inst: &Instance, to: Word, from: Word) -> Res<Edge> {
        let target = *inst.labels.get(&to).ok_or_else(|| {
            format!("invalid SPIR-V: branch to %{to}, not a block of this function")
        })?;
        let mut moves = Vec::new();
        if let Some(phis) = inst.phis.get(&to) {
            let mut pairs = Vec::new();
            for p in phis {
                let v = p
                    .incoming
                    .iter()
                    .find(|(_, pred)| *pred == from)
                    .map(|(v, _)| *v)
                    .ok_or_else(|| {
                        format!(
                            "invalid SPIR-V: OpPhi in %{to} has no value for predecessor %{from}"
                        )
                    })?;
                let s = self.slot(inst, v)?;
                if s != p.d {
                    pairs.push(Move { d: p.d, s, n: p.n });
                }
            }
            // Parallel-copy semantics: when a destination is also read by another move,
            // go through temporaries.
            let overlaps =
                |a: &Move, b: &Move| a.d < b.s + u32::from(b.n) && b.s < a.d + u32::from(a.n);
            let conflict = pairs.iter().any(|a| pairs.iter().any(|b| overlaps(a, b)));
            if conflict {
                let mut second = Vec::new();
                for m in &pairs {
                    let t = self.alloc(usize::from(m.n))?;
                    moves.push(Move {
                        d: t,
                        s: m.s,
                        n: m.n,
                    });
                    second.push(Move {
                        d: m.d,
                        s: t,
                        n: m.n,
                    });
                }
                moves.extend(second);
            } else {
                moves = pairs;
            }
        }
        Ok(Edge { to: target, moves })
    }

    fn pass1(&mut self, inst: &mut Instance, label: Word, i: &dr::Instruction) -> Res<()> {
        let Some(r) = i.result_id else { return Ok(()) };
        let md = self.md;
        match i.class.opcode {
            Op::Variable => {
                let t = result_type(i)?;
                let Ty::Ptr(_, pointee) = md.ty(t)? else {
                    return Err("invalid SPIR-V: OpVariable of a non-pointer type".into());
                };
                // Promote a variable whose address never escapes to registers (what
                // clang -O0 emits for every local: loads and stores through allocas).
                if !inst.escaping.contains(&r)
                    && let Ok(n) = md.leaf_count(*pointee, 64)
                    && n > 0
                {
                    let s = self.alloc(n)?;
                    inst.vals.insert(r, V::Promoted(s, n as u16));
                    return Ok(());
                }
                let (size, align) = md.size_align(*pointee, 0)?;
                let off = self.private(size, align)?;
                let s = self.alloc(1)?;
                self.code
                    .presets
                    .push(Preset::Private { d: s, offset: off });
                inst.vals.insert(r, V::Reg(s));
                return Ok(());
            }
            Op::AccessChain
            | Op::InBoundsAccessChain
            | Op::PtrAccessChain
            | Op::InBoundsPtrAccessChain
            | Op::Bitcast
            | Op::CopyObject
            | Op::PtrCastToGeneric
            | Op::GenericCastToPtr
            | Op::GenericCastToPtrExplicit => {
                if let Some(v) = self.builtin_pointer(inst, i)? {
                    inst.vals.insert(r, v);
                    return Ok(());
                }
            }
            Op::Phi => {
                let t = result_type(i)?;
                let n = self.comps(t)?;
                let d = self.alloc(usize::from(n))?;
                let mut incoming = Vec::new();
                let mut k = 0;
                while k + 1 < i.operands.len() {
                    incoming.push((op_id(i, k)?, op_id(i, k + 1)?));
                    k += 2;
                }
                inst.phis
                    .entry(label)
                    .or_default()
                    .push(Phi { d, n, incoming });
                inst.vals.insert(r, V::Reg(d));
                return Ok(());
            }
            _ => {}
        }
        if let Some(t) = i.result_type {
            match md.ty(t)? {
                Ty::Void => {}
                _ => {
                    let n = self.comps(t)?;
                    let s = self.alloc(usize::from(n))?;
                    inst.vals.insert(r, V::Reg(s));
                }
            }
        }
        Ok(())
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

    fn rounding(&self, r: Word, default: Rm) -> Rm {
        self.md.rounding.get(&r).copied().unwrap_or(default)
    }

    /// Emits a load of type `t` from pointer slot `p`.
    fn load(&mut self, d: Slot, p: Slot, t: Word, space: Space) -> Res<()> {
        let site = self.site();
        match self.md.ty(t)? {
            Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..) | Ty::Vector(..) => {
                let sc = self.md.scalar(t)?;
                let size = sc.bytes();
                let n = self.md.width(t)?;
                self.emit(Inst::Load {
                    d,
                    p,
                    size,
                    n,
                    stride: u16::from(size),
                    space,
                    site,
                })
            }
            _ => {
                let layout = self.layout_of(t)?;
                self.emit(Inst::LoadAgg {
                    d,
                    p,
                    layout,
                    space,
                    site,
                })
            }
        }
    }

    fn store(&mut self, p: Slot, v: Slot, t: Word, space: Space) -> Res<()> {
        let site = self.site();
        match self.md.ty(t)? {
            Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..) | Ty::Vector(..) => {
                let sc = self.md.scalar(t)?;
                let size = sc.bytes();
                let n = self.md.width(t)?;
                self.emit(Inst::Store {
                    p,
                    v,
                    size,
                    n,
                    stride: u16::from(size),
                    space,
                    site,
                })
            }
            _ => {
                let layout = self.layout_of(t)?;
                self.emit(Inst::StoreAgg {
                    p,
                    v,
                    layout,
                    space,
                    site,
                })
            }
        }
    }

    /// Leaf range (start, count, type) of a composite's path of constant indices.
    fn path(&self, mut t: Word, idx: &[u64]) -> Res<(u32, u16, Word)> {
        let md = self.md;
        let mut start = 0usize;
        for &k in idx {
            match md.ty(t)? {
                Ty::Vector(e, n) => {
                    if k >= u64::from(*n) {
                        return Err("invalid SPIR-V: composite index out of range".into());
                    }
                    start += k as usize;
                    t = *e;
                }
                Ty::Array(e, len) => {
                    if k >= *len {
                        return Err("invalid SPIR-V: composite index out of range".into());
                    }
                    start += k as usize * md.leaf_count(*e, MAX_VALUE_LEAVES)?;
                    t = *e;
                }
                Ty::Struct(ms) => {
                    let k = k as usize;
                    if k >= ms.len() {
                        return Err("invalid SPIR-V: composite index out of range".into());
                    }
                    for m in &ms[..k] {
                        start += md.leaf_count(*m, MAX_VALUE_LEAVES)?;
                    }
                    t = ms[k];
                }
                _ => return Err("invalid SPIR-V: index into a non-composite".into()),
            }
        }
        Ok((start as u32, self.comps(t)?, t))
    }

    fn copy(&mut self, d: Slot, s: Slot, n: u16) -> Res<()> {
        if n > 0 && d != s {
            self.emit(Inst::Copy { d, s, n })?;
        }
        Ok(())
    }

    fn instruction(&mut self, inst: &mut Instance, i: &dr::Instruction) -> Res<()> {
        let md = self.md;
        let op = i.class.opcode;
        // Result slot and type, when the instruction has them.
        let res = match i.result_id.and_then(|r| inst.vals.get(&r).copied()) {
            Some(V::Reg(s)) => Some(s),
            _ => None,
        };
        let rt = i.result_type;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        let n_of = |t: Option<Word>| -> Res<u16> {
            md.width(t.ok_or("invalid SPIR-V: missing result type")?)
        };
        let sc_of = |t: Option<Word>| -> Res<Sc> {
            md.scalar(t.ok_or("invalid SPIR-V: missing result type")?)
        };
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        macro_rules! operand_sc {
            ($k:expr) => {
                md.scalar(self.ty_of(op_id(i, $k)?)?)?
            };
        }
        macro_rules! bin {
            ($op:expr) => {{
                let (x, y) = (a!(0), a!(1));
                let n = n_of(rt)?;
                self.emit(Inst::Bin {
                    op: $op,
                    d: d()?,
                    a: x,
                    b: y,
                    n,
                })?
            }};
        }
        macro_rules! un {
            ($op:expr) => {{
                let x = a!(0);
                let n = n_of(rt)?;
                self.emit(Inst::Un {
                    op: $op,
                    d: d()?,
                    a: x,
                    n,
                })?
            }};
        }
        match op {
            Op::Nop | Op::Line | Op::NoLine | Op::LifetimeStart | Op::LifetimeStop | Op::Name => {}
            // SPV_KHR_expect_assume: a promise that the condition holds (undefined behaviour
            // if not), which only permits optimisation; nothing to run.
            Op::AssumeTrueKHR => {}
            Op::Phi => {}
            Op::Variable => {
                if let Some(Operand::IdRef(init)) = i.operands.get(1) {
                    if let Some(V::Promoted(s, n)) =
                        i.result_id.and_then(|r| inst.vals.get(&r).copied())
                    {
                        let v = self.slot(inst, *init)?;
                        return self.copy(s, v, n);
                    }
                    let t = result_type(i)?;
                    let (_, pointee) = match md.ty(t)? {
                        Ty::Ptr(sc, p) => (*sc, *p),
                        _ => return Err("invalid SPIR-V: OpVariable of a non-pointer type".into()),
                    };
                    let v = self.slot(inst, *init)?;
                    self.store(d()?, v, pointee, Space::Private)?;
                }
            }
            Op::Undef => {
                let t = result_type(i)?;
                let n = self.comps(t)?;
                let words = vec![0; usize::from(n)];
                let s = self.consts(&words)?;
                self.copy(d()?, s, n)?;
            }
            Op::Load => {
                let pid = op_id(i, 0)?;
                let t = result_type(i)?;
                if let Some(&(base, off, term)) = inst.fused.get(&pid) {
                    let (sc, _) = self.ptr_info(pid)?;
                    let size = md.scalar(t)?.bytes();
                    let (idx, scale, w) = match term {
                        Some(x) => x,
                        None => (self.zero()?, 0, 64),
                    };
                    let site = self.site();
                    return self.emit(Inst::LoadIdx {
                        d: d()?,
                        base,
                        idx,
                        w,
                        scale,
                        off,
                        size,
                        space: space_of(sc)?,
                        site,
                    });
                }
                match self.val(inst, pid)? {
                    V::Builtin(_)
                        if i.result_id
                            .is_some_and(|r| inst.builtin_loads.contains_key(&r)) => {}
                    v @ (V::Builtin(_) | V::BuiltinComp(..)) => {
                        self.load_builtin(d()?, v, t, pid)?
                    }
                    V::Promoted(s, n) => self.copy(d()?, s, n)?,
                    V::Reg(p) => {
                        let (sc, _) = self.ptr_info(pid)?;
                        self.load(d()?, p, t, space_of(sc)?)?;
                    }
                }
            }
            Op::Store if inst.fused.contains_key(&op_id(i, 0)?) => {
                let pid = op_id(i, 0)?;
                let (base, off, term) = inst.fused[&pid];
                let (sc, pointee) = self.ptr_info(pid)?;
                let size = md.scalar(pointee)?.bytes();
                let v = a!(1);
                let (idx, scale, w) = match term {
                    Some(x) => x,
                    None => (self.zero()?, 0, 64),
                };
                let site = self.site();
                self.emit(Inst::StoreIdx {
                    base,
                    idx,
                    w,
                    scale,
                    off,
                    v,
                    size,
                    space: space_of(sc)?,
                    site,
                })?;
            }
            Op::Store => {
                let pid = op_id(i, 0)?;
                let p = match self.val(inst, pid)? {
                    V::Promoted(s, n) => {
                        let v = a!(1);
                        return self.copy(s, v, n);
                    }
                    V::Reg(p) => p,
                    other => return Err(builtin_store(md, pid, other)),
                };
                let vid = op_id(i, 1)?;
                let v = self.slot(inst, vid)?;
                let (sc, pointee) = self.ptr_info(pid)?;
                self.store(p, v, pointee, space_of(sc)?)?;
            }
            Op::CopyMemory | Op::CopyMemorySized if self.copies_builtin(inst, i)? => {}
            Op::CopyMemory | Op::CopyMemorySized => {
                let (dp, sp) = (op_id(i, 0)?, op_id(i, 1)?);
                let (dsc, dt) = self.ptr_info(dp)?;
                let (ssc, _) = self.ptr_info(sp)?;
                let (dst, src) = (a!(0), a!(1));
                let (len, len_slot) = if op == Op::CopyMemory {
                    (md.size_align(dt, 0)?.0, None)
                } else {
                    let lid = op_id(i, 2)?;
                    match md.consts.get(&lid).and_then(|v| v.first()) {
                        Some(&c) => (c, None),
                        None => (0, Some(self.slot(inst, lid)?)),
                    }
                };
                let site = self.site();
                self.emit(Inst::CopyMem {
                    dst,
                    src,
                    len,
                    len_slot,
                    dspace: space_of(dsc)?,
                    sspace: space_of(ssc)?,
                    site,
                })?;
            }
            Op::AccessChain
            | Op::InBoundsAccessChain
            | Op::PtrAccessChain
            | Op::InBoundsPtrAccessChain => {
                if res.is_none() {
                    return Ok(()); // a pointer into a built-in (pass 1)
                }
                let (base, off, terms) = self.gep_parts(inst, i)?;
                let at = self.code.gep_terms.len() as u32;
                let len = terms.len() as u16;
                self.code.gep_terms.extend(terms);
                self.emit(Inst::Gep {
                    d: d()?,
                    base,
                    off,
                    at,
                    len,
                })?;
            }
            Op::Bitcast => {
                if res.is_none() {
                    return Ok(());
                }
                let s = a!(0);
                let from_t = self.ty_of(op_id(i, 0)?)?;
                let to_t = result_type(i)?;
                let (fs, nf) = (md.scalar(from_t)?.bytes(), md.width(from_t)?);
                let (ts, nt) = (md.scalar(to_t)?.bytes(), md.width(to_t)?);
                if u32::from(fs) * u32::from(nf) != u32::from(ts) * u32::from(nt) {
                    return Err("invalid SPIR-V: OpBitcast between types of different sizes".into());
                }
                if fs == ts {
                    self.copy(d()?, s, nt)?;
                } else {
                    self.emit(Inst::Bitcast {
                        d: d()?,
                        s,
                        fsize: fs,
                        nf,
                        tsize: ts,
                        nt,
                    })?;
                }
            }
            Op::CopyObject
            | Op::PtrCastToGeneric
            | Op::GenericCastToPtr
            | Op::GenericCastToPtrExplicit => {
                if res.is_none() {
                    return Ok(());
                }
                let n = self.comps(result_type(i)?)?;
                let s = a!(0);
                self.copy(d()?, s, n)?;
            }
            Op::ConvertUToPtr => {
                let s = a!(0);
                self.copy(d()?, s, 1)?;
            }
            // SPV_KHR_expect_assume: the result is Value (operand 0); ExpectedValue (operand
            // 1) is a branch-prediction hint. Usually shares Value's slots (copy propagation).
            Op::ExpectKHR => {
                let n = self.comps(result_type(i)?)?;
                let s = a!(0);
                self.copy(d()?, s, n)?;
            }
            Op::ConvertPtrToU => {
                let w = int_bits(sc_of(rt)?);
                un!(UnOp::Mask(mask(w)))
            }
            Op::UConvert | Op::SConvert => {
                let from = int_bits(operand_sc!(0));
                let to = int_bits(sc_of(rt)?);
                let r = result(i)?;
                un!(crate::conversions::int_convert(
                    md,
                    r,
                    op == Op::SConvert,
                    from,
                    to
                ))
            }
            Op::SizeOf => {
                let (_, pointee) = self.ptr_info(op_id(i, 0)?)?;
                let size = md.size_align(pointee, 0)?.0;
                let c = self.const_u64(size & mask(int_bits(sc_of(rt)?)))?;
                self.copy(d()?, c, 1)?;
            }
            Op::FConvert => {
                let from = fk_of(operand_sc!(0))?;
                let to = fk_of(sc_of(rt)?)?;
                let rm = self.rounding(result(i)?, Rm::Rte);
                un!(UnOp::FToF(from, to, rm))
            }
            Op::ConvertFToU | Op::ConvertFToS => {
                let from = fk_of(operand_sc!(0))?;
                let to = int_bits(sc_of(rt)?);
                let r = result(i)?;
                let sat = md.saturated.contains(&r);
                let rm = self.rounding(r, Rm::Rtz);
                un!(UnOp::FToI(from, to, op == Op::ConvertFToS, sat, rm))
            }
            Op::ConvertSToF | Op::ConvertUToF => {
                let from = int_bits(operand_sc!(0));
                let to = fk_of(sc_of(rt)?)?;
                let rm = self.rounding(result(i)?, Rm::Rte);
                un!(UnOp::IToF(from, op == Op::ConvertSToF, to, rm))
            }
            Op::SatConvertSToU => {
                let from = int_bits(operand_sc!(0));
                let to = int_bits(sc_of(rt)?);
                un!(UnOp::SatSToU(from, to))
            }
            Op::SatConvertUToS => {
                let from = int_bits(operand_sc!(0));
                let to = int_bits(sc_of(rt)?);
                un!(UnOp::SatUToS(from, to))
            }
            Op::SNegate => un!(UnOp::INeg(mask(int_bits(sc_of(rt)?)))),
            Op::Not => un!(UnOp::INot(mask(int_bits(sc_of(rt)?)))),
            Op::LogicalNot => un!(UnOp::LNot),
            Op::FNegate => un!(UnOp::F(fk_of(sc_of(rt)?)?, FUn::Neg)),
            Op::IAdd => bin!(BinOp::IAdd(mask(int_bits(sc_of(rt)?)))),
            Op::ISub => bin!(BinOp::ISub(mask(int_bits(sc_of(rt)?)))),
            Op::IMul => bin!(BinOp::IMul(mask(int_bits(sc_of(rt)?)))),
            Op::UDiv => bin!(BinOp::UDiv(mask(int_bits(sc_of(rt)?)))),
            Op::SDiv => bin!(BinOp::SDiv(int_bits(sc_of(rt)?))),
            Op::UMod => bin!(BinOp::UMod(mask(int_bits(sc_of(rt)?)))),
            Op::SRem => bin!(BinOp::SRem(int_bits(sc_of(rt)?))),
            Op::SMod => bin!(BinOp::SMod(int_bits(sc_of(rt)?))),
            Op::ShiftLeftLogical => bin!(BinOp::Shl(int_bits(sc_of(rt)?))),
            Op::ShiftRightLogical => bin!(BinOp::Shr(int_bits(sc_of(rt)?))),
            Op::ShiftRightArithmetic => bin!(BinOp::Sar(int_bits(sc_of(rt)?))),
            Op::BitwiseAnd | Op::LogicalAnd => bin!(BinOp::And),
            Op::BitwiseOr | Op::LogicalOr => bin!(BinOp::Or),
            Op::BitwiseXor => bin!(BinOp::Xor),
            Op::IEqual | Op::LogicalEqual => bin!(BinOp::IEq),
            Op::INotEqual | Op::LogicalNotEqual => bin!(BinOp::INe),
            Op::ULessThan => bin!(BinOp::ULt),
            Op::ULessThanEqual => bin!(BinOp::ULe),
            Op::UGreaterThan => bin!(BinOp::UGt),
            Op::UGreaterThanEqual => bin!(BinOp::UGe),
            Op::SLessThan => bin!(BinOp::SLt(int_bits(operand_sc!(0)))),
            Op::SLessThanEqual => bin!(BinOp::SLe(int_bits(operand_sc!(0)))),
            Op::SGreaterThan => bin!(BinOp::SGt(int_bits(operand_sc!(0)))),
            Op::SGreaterThanEqual => bin!(BinOp::SGe(int_bits(operand_sc!(0)))),
            Op::FAdd => bin!(BinOp::F(fk_of(sc_of(rt)?)?, FBin::Add)),
            Op::FSub => bin!(BinOp::F(fk_of(sc_of(rt)?)?, FBin::Sub)),
            Op::FMul => bin!(BinOp::F(fk_of(sc_of(rt)?)?, FBin::Mul)),
            Op::FDiv => bin!(BinOp::F(fk_of(sc_of(rt)?)?, FBin::Div)),
            Op::FRem => bin!(BinOp::F(fk_of(sc_of(rt)?)?, FBin::Rem)),
            Op::FMod => bin!(BinOp::F(fk_of(sc_of(rt)?)?, FBin::Mod)),
            Op::FOrdEqual
            | Op::FUnordEqual
            | Op::FOrdNotEqual
            | Op::FUnordNotEqual
            | Op::FOrdLessThan
            | Op::FUnordLessThan
            | Op::FOrdGreaterThan
            | Op::FUnordGreaterThan
            | Op::FOrdLessThanEqual
            | Op::FUnordLessThanEqual
            | Op::FOrdGreaterThanEqual
            | Op::FUnordGreaterThanEqual
            | Op::LessOrGreater => {
                let k = fk_of(operand_sc!(0))?;
                let (c, ordered) = match op {
                    Op::FOrdEqual => (Cmp::Eq, true),
                    Op::FUnordEqual => (Cmp::Eq, false),
                    Op::FOrdNotEqual | Op::LessOrGreater => (Cmp::Ne, true),
                    Op::FUnordNotEqual => (Cmp::Ne, false),
                    Op::FOrdLessThan => (Cmp::Lt, true),
                    Op::FUnordLessThan => (Cmp::Lt, false),
                    Op::FOrdGreaterThan => (Cmp::Gt, true),
                    Op::FUnordGreaterThan => (Cmp::Gt, false),
                    Op::FOrdLessThanEqual => (Cmp::Le, true),
                    Op::FUnordLessThanEqual => (Cmp::Le, false),
                    Op::FOrdGreaterThanEqual => (Cmp::Ge, true),
                    _ => (Cmp::Ge, false),
                };
                bin!(BinOp::FCmp(k, c, ordered))
            }
            Op::Ordered => bin!(BinOp::FOrd(fk_of(operand_sc!(0))?, true)),
            Op::Unordered => bin!(BinOp::FOrd(fk_of(operand_sc!(0))?, false)),
            Op::IsNan => un!(UnOp::IsNan(fk_of(operand_sc!(0))?)),
            Op::IsInf => un!(UnOp::IsInf(fk_of(operand_sc!(0))?)),
            Op::IsFinite => un!(UnOp::IsFinite(fk_of(operand_sc!(0))?)),
            Op::IsNormal => un!(UnOp::IsNormal(fk_of(operand_sc!(0))?)),
            Op::SignBitSet => un!(UnOp::SignBit(fk_of(operand_sc!(0))?)),
            Op::BitCount => un!(UnOp::Popcount),
            Op::Any | Op::All => {
                let x = a!(0);
                let n = md.width(self.ty_of(op_id(i, 0)?)?)?;
                let r = if op == Op::Any {
                    Reduce::Any
                } else {
                    Reduce::All
                };
                self.emit(Inst::Reduce {
                    op: r,
                    k: Fk::S,
                    d: d()?,
                    a: x,
                    b: x,
                    n,
                })?;
            }
            Op::Dot => {
                let (x, y) = (a!(0), a!(1));
                let n = md.width(self.ty_of(op_id(i, 0)?)?)?;
                let k = fk_of(sc_of(rt)?)?;
                self.emit(Inst::Reduce {
                    op: Reduce::Dot,
                    k,
                    d: d()?,
                    a: x,
                    b: y,
                    n,
                })?;
            }
            Op::VectorTimesScalar => {
                let (v, s) = (a!(0), a!(1));
                let n = n_of(rt)?;
                let k = fk_of(sc_of(rt)?)?;
                let t = self.alloc(usize::from(n))?;
                for c in 0..n {
                    self.emit(Inst::Copy {
                        d: t + u32::from(c),
                        s,
                        n: 1,
                    })?;
                }
                self.emit(Inst::Bin {
                    op: BinOp::F(k, FBin::Mul),
                    d: d()?,
                    a: v,
                    b: t,
                    n,
                })?;
            }
            Op::Select => {
                let (c, x, y) = (a!(0), a!(1), a!(2));
                let n = self.comps(result_type(i)?)?;
                let cn = md.width(self.ty_of(op_id(i, 0)?)?)?;
                self.emit(Inst::Select {
                    d: d()?,
                    c,
                    a: x,
                    b: y,
                    n,
                    scalar_cond: cn == 1 && n > 1,
                })?;
            }
            Op::CompositeExtract
                if i.operands.len() == 2
                    && let Ok(cid) = op_id(i, 0)
                    && let Some(&b) = inst.builtin_loads.get(&cid) =>
            {
                let k = op_lit(i, 1)?;
                let comp = match builtin_access::component(b, k)? {
                    V::BuiltinComp(_, c) => Some(c),
                    _ => None,
                };
                self.emit(Inst::Builtin {
                    d: d()?,
                    b,
                    n: 1,
                    comp,
                })?;
            }
            Op::CompositeExtract => {
                let c = a!(0);
                let ct = self.ty_of(op_id(i, 0)?)?;
                let idx: Vec<u64> = (1..i.operands.len())
                    .map(|k| op_lit(i, k))
                    .collect::<Res<_>>()?;
                let (start, n, _) = self.path(ct, &idx)?;
                self.copy(d()?, c + start, n)?;
            }
            Op::CompositeInsert => {
                let (obj, c) = (a!(0), a!(1));
                let ct = result_type(i)?;
                let total = self.comps(ct)?;
                let idx: Vec<u64> = (2..i.operands.len())
                    .map(|k| op_lit(i, k))
                    .collect::<Res<_>>()?;
                let (start, n, _) = self.path(ct, &idx)?;
                let dd = d()?;
                self.copy(dd, c, total)?;
                self.copy(dd + start, obj, n)?;
            }
            Op::CompositeConstruct => {
                let dd = d()?;
                let total = u32::from(self.comps(result_type(i)?)?);
                let mut at = 0u32;
                for k in 0..i.operands.len() {
                    let pid = op_id(i, k)?;
                    let s = self.slot(inst, pid)?;
                    let n = self.comps(self.ty_of(pid)?)?;
                    if at + u32::from(n) > total {
                        return Err(
                            "invalid SPIR-V: OpCompositeConstruct with too many components".into(),
                        );
                    }
                    self.copy(dd + at, s, n)?;
                    at += u32::from(n);
                }
            }
            Op::VectorShuffle => {
                let (v1, v2) = (a!(0), a!(1));
                let n1 = u32::from(md.width(self.ty_of(op_id(i, 0)?)?)?);
                let n2 = u32::from(md.width(self.ty_of(op_id(i, 1)?)?)?);
                let dd = d()?;
                for k in 2..i.operands.len() {
                    let c = op_lit(i, k)? as u32;
                    let src = if c == u32::MAX {
                        continue;
                    } else if c < n1 {
                        v1 + c
                    } else if c < n1 + n2 {
                        v2 + (c - n1)
                    } else {
                        return Err("invalid SPIR-V: OpVectorShuffle component out of range".into());
                    };
                    self.emit(Inst::Copy {
                        d: dd + (k as u32 - 2),
                        s: src,
                        n: 1,
                    })?;
                }
            }
            Op::VectorExtractDynamic => {
                let (v, idx) = (a!(0), a!(1));
                let n = md.width(self.ty_of(op_id(i, 0)?)?)?;
                self.emit(Inst::ExtractDyn { d: d()?, v, idx, n })?;
            }
            Op::VectorInsertDynamic => {
                let (v, x, idx) = (a!(0), a!(1), a!(2));
                let n = n_of(rt)?;
                self.emit(Inst::InsertDyn {
                    d: d()?,
                    v,
                    x,
                    idx,
                    n,
                })?;
            }
            Op::AtomicLoad
            | Op::AtomicStore
            | Op::AtomicExchange
            | Op::AtomicCompareExchange
            | Op::AtomicCompareExchangeWeak
            | Op::AtomicIIncrement
            | Op::AtomicIDecrement
            | Op::AtomicIAdd
            | Op::AtomicISub
            | Op::AtomicSMin
            | Op::AtomicUMin
            | Op::AtomicSMax
            | Op::AtomicUMax
            | Op::AtomicAnd
            | Op::AtomicOr
            | Op::AtomicXor => {
                let pid = op_id(i, 0)?;
                let p = a!(0);
                let (sc, pointee) = self.ptr_info(pid)?;
                let size = md.scalar(pointee)?.bytes();
                if size != 4 && size != 8 {
                    return Err(format!("unsupported {}-byte atomic", size));
                }
                let zero = self.zero()?;
                let (aop, v, cmp) = match op {
                    Op::AtomicLoad => (AtomicOp::Load, zero, zero),
                    Op::AtomicStore => (AtomicOp::Store, a!(3), zero),
                    Op::AtomicExchange => (AtomicOp::Exchange, a!(3), zero),
                    Op::AtomicCompareExchange | Op::AtomicCompareExchangeWeak => {
                        (AtomicOp::CompareExchange, a!(4), a!(5))
                    }
                    Op::AtomicIIncrement => (AtomicOp::Add, self.const_u64(1)?, zero),
                    Op::AtomicIDecrement => (AtomicOp::Sub, self.const_u64(1)?, zero),
                    Op::AtomicIAdd => (AtomicOp::Add, a!(3), zero),
                    Op::AtomicISub => (AtomicOp::Sub, a!(3), zero),
                    Op::AtomicSMin => (AtomicOp::SMin, a!(3), zero),
                    Op::AtomicUMin => (AtomicOp::UMin, a!(3), zero),
                    Op::AtomicSMax => (AtomicOp::SMax, a!(3), zero),
                    Op::AtomicUMax => (AtomicOp::UMax, a!(3), zero),
                    Op::AtomicAnd => (AtomicOp::And, a!(3), zero),
                    Op::AtomicOr => (AtomicOp::Or, a!(3), zero),
                    _ => (AtomicOp::Xor, a!(3), zero),
                };
                let dd = match res {
                    Some(s) => s,
                    None => self.alloc(1)?,
                };
                let site = self.site();
                self.emit(Inst::Atomic {
                    op: aop,
                    d: dd,
                    p,
                    v,
                    cmp,
                    size,
                    space: space_of(sc)?,
                    site,
                })?;
            }
            Op::MemoryBarrier | Op::GroupWaitEvents => self.emit(Inst::Fence)?,
            Op::GroupAsyncCopy => {
                let (dp, sp) = (op_id(i, 1)?, op_id(i, 2)?);
                let (dsc, dt) = self.ptr_info(dp)?;
                let (ssc, _) = self.ptr_info(sp)?;
                let esize = u32::try_from(md.stride(dt)?).map_err(|_| "element too large")?;
                let (dst, src, n, stride) = (a!(1), a!(2), a!(3), a!(4));
                let site = self.site();
                self.emit(Inst::AsyncCopy {
                    d: d()?,
                    dst,
                    src,
                    n,
                    stride,
                    esize,
                    dst_strided: dsc != StorageClass::Workgroup,
                    dspace: space_of(dsc)?,
                    sspace: space_of(ssc)?,
                    site,
                })?;
            }
            Op::ExtInst => self.ext_inst(inst, i, res)?,
            other => {
                return Err(format!("unsupported instruction Op{other:?}"));
            }
        }
        Ok(())
    }

    /// An access chain as (base slot, constant byte offset, dynamic terms).
    #[allow(clippy::type_complexity)]
    fn gep_parts(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
    ) -> Res<(Slot, i64, Vec<(Slot, i64, u8)>)> {
        let md = self.md;
        let op = i.class.opcode;
        let base_id = op_id(i, 0)?;
        let base = self.slot(inst, base_id)?;
        let (_, mut t) = self.ptr_info(base_id)?;
        let mut off: i64 = 0;
        let mut terms: Vec<(Slot, i64, u8)> = Vec::new();
        let ptr_chain = matches!(op, Op::PtrAccessChain | Op::InBoundsPtrAccessChain);
        for k in 1..i.operands.len() {
            let idx = op_id(i, k)?;
            let iw = int_bits(md.scalar(self.ty_of(idx)?)?);
            let cval = md
                .consts
                .get(&idx)
                .and_then(|v| v.first().copied())
                .map(|c| crate::ops::sext(c, iw));
            let stride: i64;
            if ptr_chain && k == 1 {
                stride = md.stride(t)? as i64;
            } else {
                match md.ty(t)?.clone() {
                    Ty::Struct(ms) => {
                        let c = cval.ok_or("invalid SPIR-V: non-constant struct index")? as usize;
                        let m = *ms
                            .get(c)
                            .ok_or("invalid SPIR-V: struct index out of range")?;
                        off += self.member_offset(t, c)? as i64;
                        t = m;
                        continue;
                    }
                    Ty::Array(e, _) => {
                        stride = md.stride(e)? as i64;
                        t = e;
                    }
                    Ty::Vector(e, _) => {
                        stride = md.size_align(e, 0)?.0 as i64;
                        t = e;
                    }
                    other => {
                        return Err(format!("invalid SPIR-V: access chain into {other:?}"));
                    }
                }
            }
            match cval {
                Some(c) => off = off.wrapping_add(c.wrapping_mul(stride)),
                None => {
                    let s = self.slot(inst, idx)?;
                    terms.push((s, stride, iw));
                }
            }
        }
        Ok((base, off, terms))
    }

    fn member_offset(&self, st: Word, k: usize) -> Res<u64> {
        self.md.member_offset(st, k)
    }

    fn ext_inst(&mut self, inst: &mut Instance, i: &dr::Instruction, res: Option<Slot>) -> Res<()> {
        let md = self.md;
        let set = op_id(i, 0)?;
        if Some(set) != md.ext_set {
            return Err("OpExtInst of an unknown instruction set".into());
        }
        let num = op_lit(i, 1)? as u32;
        let name = rspirv::grammar::OPENCL_STD_100_INSTRUCTION_TABLE
            .lookup_opcode(num)
            .map(|g| g.opname)
            .ok_or_else(|| format!("unknown OpenCL.std instruction {num}"))?;
        let rt = i.result_type;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: OpenCL.std {name} without a result"));
        let arg_id = |k: usize| op_id(i, k + 2);
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, arg_id($k)?)?
            };
        }
        let rsc = || -> Res<Sc> { md.scalar(rt.ok_or("missing result type")?) };
        let n = || -> Res<u16> { md.width(rt.ok_or("missing result type")?) };
        // Strip native_/half_ prefixes: the engine computes them at full precision.
        let base = name
            .strip_prefix("native_")
            .or_else(|| name.strip_prefix("half_"))
            .unwrap_or(name);
        let fun = match base {
            "sqrt" => Some(FUn::Sqrt),
            "rsqrt" => Some(FUn::Rsqrt),
            "exp" => Some(FUn::Exp),
            "exp2" => Some(FUn::Exp2),
            "exp10" => Some(FUn::Exp10),
            "expm1" => Some(FUn::Expm1),
            "log" => Some(FUn::Log),
            "log2" => Some(FUn::Log2),
            "log10" => Some(FUn::Log10),
            "log1p" => Some(FUn::Log1p),
            "sin" => Some(FUn::Sin),
            "cos" => Some(FUn::Cos),
            "tan" => Some(FUn::Tan),
            "asin" => Some(FUn::Asin),
            "acos" => Some(FUn::Acos),
            "atan" => Some(FUn::Atan),
            "sinh" => Some(FUn::Sinh),
            "cosh" => Some(FUn::Cosh),
            "tanh" => Some(FUn::Tanh),
            "asinh" => Some(FUn::Asinh),
            "acosh" => Some(FUn::Acosh),
            "atanh" => Some(FUn::Atanh),
            "sinpi" => Some(FUn::Sinpi),
            "cospi" => Some(FUn::Cospi),
            "tanpi" => Some(FUn::Tanpi),
            "asinpi" => Some(FUn::Asinpi),
            "acospi" => Some(FUn::Acospi),
            "atanpi" => Some(FUn::Atanpi),
            "cbrt" => Some(FUn::Cbrt),
            "fabs" => Some(FUn::Fabs),
            "floor" => Some(FUn::Floor),
            "ceil" => Some(FUn::Ceil),
            "round" => Some(FUn::Round),
            "trunc" => Some(FUn::Trunc),
            "rint" => Some(FUn::Rint),
            "sign" => Some(FUn::Sign),
            "degrees" => Some(FUn::Degrees),
            "radians" => Some(FUn::Radians),
            "recip" => Some(FUn::Recip),
            "logb" => Some(FUn::Logb),
            _ => None,
        };
        if let Some(f) = fun {
            let x = a!(0);
            let k = fk_of(rsc()?)?;
            return self.emit(Inst::Un {
                op: UnOp::F(k, f),
                d: d()?,
                a: x,
                n: n()?,
            });
        }
        let fbin = match base {
            "fmin" => Some(FBin::Min),
            "fmax" => Some(FBin::Max),
            "pow" | "powr" => Some(FBin::Pow),
            "atan2" => Some(FBin::Atan2),
            "hypot" => Some(FBin::Hypot),
            "fmod" => Some(FBin::Rem),
            "fdim" => Some(FBin::Fdim),
            "copysign" => Some(FBin::Copysign),
            "nextafter" => Some(FBin::Nextafter),
            "maxmag" => Some(FBin::Maxmag),
            "minmag" => Some(FBin::Minmag),
            "step" => Some(FBin::Step),
            "remainder" => Some(FBin::Remainder),
            "divide" => Some(FBin::Div),
            _ => None,
        };
        if let Some(f) = fbin {
            let (x, y) = (a!(0), a!(1));
            let k = fk_of(rsc()?)?;
            return self.emit(Inst::Bin {
                op: BinOp::F(k, f),
                d: d()?,
                a: x,
                b: y,
                n: n()?,
            });
        }
        let fint = match base {
            "ldexp" => Some(FIntOp::Ldexp),
            "pown" => Some(FIntOp::Pown),
            "rootn" => Some(FIntOp::Rootn),
            _ => None,
        };
        if let Some(f) = fint {
            let (x, y) = (a!(0), a!(1));
            let k = fk_of(rsc()?)?;
            let w = int_bits(md.scalar(self.ty_of(arg_id(1)?)?)?);
            return self.emit(Inst::Bin {
                op: BinOp::FInt(k, f, w),
                d: d()?,
                a: x,
                b: y,
                n: n()?,
            });
        }
        let bits = || -> Res<u8> { Ok(int_bits(rsc()?)) };
        let ibin = match name {
            "s_max" => Some(BinOp::SMax(bits()?)),
            "u_max" => Some(BinOp::UMax),
            "s_min" => Some(BinOp::SMin(bits()?)),
            "u_min" => Some(BinOp::UMin),
            "s_mul_hi" => Some(BinOp::SMulHi(bits()?)),
            "u_mul_hi" => Some(BinOp::UMulHi(bits()?)),
            "s_add_sat" => Some(BinOp::SAddSat(bits()?)),
            "u_add_sat" => Some(BinOp::UAddSat(bits()?)),
            "s_sub_sat" => Some(BinOp::SSubSat(bits()?)),
            "u_sub_sat" => Some(BinOp::USubSat(bits()?)),
            "rotate" => Some(BinOp::Rotate(bits()?)),
            "s_hadd" => Some(BinOp::SHadd(bits()?)),
            "u_hadd" => Some(BinOp::UHadd(bits()?)),
            "s_rhadd" => Some(BinOp::SRhadd(bits()?)),
            "u_rhadd" => Some(BinOp::URhadd(bits()?)),
            "s_abs_diff" => Some(BinOp::SAbsDiff(bits()?)),
            "u_abs_diff" => Some(BinOp::UAbsDiff(bits()?)),
            "s_mul24" => Some(BinOp::SMul24(bits()?)),
            "u_mul24" => Some(BinOp::UMul24(bits()?)),
            _ => None,
        };
        if let Some(o) = ibin {
            let (x, y) = (a!(0), a!(1));
            return self.emit(Inst::Bin {
                op: o,
                d: d()?,
                a: x,
                b: y,
                n: n()?,
            });
        }
        let iun = match name {
            "s_abs" => Some(UnOp::SAbs(bits()?)),
            "u_abs" => Some(UnOp::Mask(!0)),
            "popcount" => Some(UnOp::Popcount),
            "clz" => Some(UnOp::Clz(bits()?)),
            "ctz" => Some(UnOp::Ctz(bits()?)),
            _ => None,
        };
        if let Some(o) = iun {
            let x = a!(0);
            return self.emit(Inst::Un {
                op: o,
                d: d()?,
                a: x,
                n: n()?,
            });
        }
        let tern = match name {
            "fma" => Some(TernOp::Fma(fk_of(rsc()?)?)),
            "mad" => Some(TernOp::Mad(fk_of(rsc()?)?)),
            "fclamp" => Some(TernOp::FClamp(fk_of(rsc()?)?)),
            "mix" => Some(TernOp::Mix(fk_of(rsc()?)?)),
            "smoothstep" => Some(TernOp::SmoothStep(fk_of(rsc()?)?)),
            "s_clamp" => Some(TernOp::SClamp(bits()?)),
            "u_clamp" => Some(TernOp::UClamp),
            "s_mad24" => Some(TernOp::SMad24(bits()?)),
            "u_mad24" => Some(TernOp::UMad24(bits()?)),
            "s_mad_hi" => Some(TernOp::SMadHi(bits()?)),
            "u_mad_hi" => Some(TernOp::UMadHi(bits()?)),
            "s_mad_sat" => Some(TernOp::SMadSat(bits()?)),
            "u_mad_sat" => Some(TernOp::UMadSat(bits()?)),
            "bitselect" => Some(TernOp::Bitselect),
            "select" => {
                let csc = md.scalar(self.ty_of(arg_id(2)?)?)?;
                Some(TernOp::Select(int_bits(csc), n()? > 1))
            }
            _ => None,
        };
        if let Some(o) = tern {
            let (x, y, z) = (a!(0), a!(1), a!(2));
            return self.emit(Inst::Tern {
                op: o,
                d: d()?,
                a: x,
                b: y,
                c: z,
                n: n()?,
            });
        }
        match name {
            "cross" => {
                let (x, y) = (a!(0), a!(1));
                let k = fk_of(rsc()?)?;
                let dd = d()?;
                self.emit(Inst::Cross {
                    k,
                    d: dd,
                    a: x,
                    b: y,
                })?;
                if n()? == 4 {
                    // cross(float4) has w = 0.
                    let z = self.zero()?;
                    self.copy(dd + 3, z, 1)?;
                }
                Ok(())
            }
            "length" | "fast_length" | "distance" | "fast_distance" => {
                let x = a!(0);
                let y = if name.ends_with("distance") { a!(1) } else { x };
                let k = fk_of(rsc()?)?;
                let nn = md.width(self.ty_of(arg_id(0)?)?)?;
                let op = if name.ends_with("distance") {
                    Reduce::Distance
                } else {
                    Reduce::Length
                };
                self.emit(Inst::Reduce {
                    op,
                    k,
                    d: d()?,
                    a: x,
                    b: y,
                    n: nn,
                })
            }
            "normalize" | "fast_normalize" => {
                let x = a!(0);
                let k = fk_of(rsc()?)?;
                self.emit(Inst::Normalize {
                    k,
                    d: d()?,
                    a: x,
                    n: n()?,
                })
            }
            "vloadn" | "vload_half" | "vload_halfn" | "vloada_halfn" => {
                let off = a!(0);
                let pid = arg_id(1)?;
                let p = a!(1);
                let (sc, pointee) = self.ptr_info(pid)?;
                let space = space_of(sc)?;
                let count = n()?;
                let half = name != "vloadn";
                let esize = if half { 2 } else { md.scalar(pointee)?.bytes() };
                // vloada_half3 steps by 4 halves.
                let step = if name == "vloada_halfn" && count == 3 {
                    4
                } else {
                    count
                };
                let addr = self.alloc(1)?;
                let at = self.code.gep_terms.len() as u32;
                self.code
                    .gep_terms
                    .push((off, i64::from(step) * i64::from(esize), 64));
                self.emit(Inst::Gep {
                    d: addr,
                    base: p,
                    off: 0,
                    at,
                    len: 1,
                })?;
                let site = self.site();
                if half {
                    let tmp = self.alloc(usize::from(count))?;
                    self.emit(Inst::Load {
                        d: tmp,
                        p: addr,
                        size: 2,
                        n: count,
                        stride: 2,
                        space,
                        site,
                    })?;
                    let to = fk_of(rsc()?)?;
                    self.emit(Inst::Un {
                        op: UnOp::FToF(Fk::H, to, Rm::Rte),
                        d: d()?,
                        a: tmp,
                        n: count,
                    })
                } else {
                    self.emit(Inst::Load {
                        d: d()?,
                        p: addr,
                        size: esize,
                        n: count,
                        stride: u16::from(esize),
                        space,
                        site,
                    })
                }
            }
            "vstoren" | "vstore_half" | "vstore_halfn" | "vstorea_halfn" | "vstore_half_r"
            | "vstore_halfn_r" | "vstorea_halfn_r" => {
                let vid = arg_id(0)?;
                let v = a!(0);
                let off = a!(1);
                let pid = arg_id(2)?;
                let p = a!(2);
                let (sc, pointee) = self.ptr_info(pid)?;
                let space = space_of(sc)?;
                let vt = self.ty_of(vid)?;
                let count = md.width(vt)?;
                let half = name != "vstoren";
                let esize = if half { 2 } else { md.scalar(pointee)?.bytes() };
                let step = if name.starts_with("vstorea") && count == 3 {
                    4
                } else {
                    count
                };
                let addr = self.alloc(1)?;
                let at = self.code.gep_terms.len() as u32;
                self.code
                    .gep_terms
                    .push((off, i64::from(step) * i64::from(esize), 64));
                self.emit(Inst::Gep {
                    d: addr,
                    base: p,
                    off: 0,
                    at,
                    len: 1,
                })?;
                let site = self.site();
                if half {
                    let rm = if name.ends_with("_r") {
                        crate::operands::rounding_operand(name, i.operands.get(5))?
                    } else {
                        Rm::Rte
                    };
                    let from = fk_of(md.scalar(vt)?)?;
                    let tmp = self.alloc(usize::from(count))?;
                    self.emit(Inst::Un {
                        op: UnOp::FToF(from, Fk::H, rm),
                        d: tmp,
                        a: v,
                        n: count,
                    })?;
                    self.emit(Inst::Store {
                        p: addr,
                        v: tmp,
                        size: 2,
                        n: count,
                        stride: 2,
                        space,
                        site,
                    })
                } else {
                    self.emit(Inst::Store {
                        p: addr,
                        v,
                        size: esize,
                        n: count,
                        stride: u16::from(esize),
                        space,
                        site,
                    })
                }
            }
            "printf" => {
                let fmt = a!(0);
                let mut args = Vec::new();
                for k in 3..i.operands.len() {
                    let aid = op_id(i, k)?;
                    let t = self.ty_of(aid)?;
                    let sc = md.scalar(t)?;
                    let kind = match sc {
                        Sc::Bool => ArgScalar::Int(8),
                        Sc::Int(w) => ArgScalar::Int(w),
                        Sc::Float(k) => ArgScalar::Float(k),
                        Sc::Ptr => ArgScalar::Ptr,
                    };
                    let slot = self.slot(inst, aid)?;
                    args.push(PrintfArg {
                        slot,
                        n: md.width(t)?,
                        kind,
                    });
                }
                let site = self.site();
                let call = self.code.printfs.len() as u32;
                self.code.printfs.push(PrintfCall { fmt, args, site });
                let dd = match res {
                    Some(s) => s,
                    None => self.alloc(1)?,
                };
                self.emit(Inst::Printf { d: dd, call })
            }
            "prefetch" => Ok(()),
            "shuffle" | "shuffle2" => {
                let two = name == "shuffle2";
                let x = a!(0);
                let na = md.width(self.ty_of(arg_id(0)?)?)?;
                let (y, nb, m) = if two {
                    (a!(1), md.width(self.ty_of(arg_id(1)?)?)?, a!(2))
                } else {
                    (x, 0, a!(1))
                };
                self.emit(Inst::Shuffle {
                    d: d()?,
                    a: x,
                    b: y,
                    mask: m,
                    na,
                    nb,
                    n: n()?,
                })
            }
            // Two results: the function's value, and one stored through a pointer.
            "sincos" | "fract" | "modf" | "frexp" => {
                let x = a!(0);
                let pid = arg_id(1)?;
                let p = a!(1);
                let (sc, pointee) = self.ptr_info(pid)?;
                let xt = self.ty_of(arg_id(0)?)?;
                let k = fk_of(md.scalar(xt)?)?;
                let nn = md.width(xt)?;
                let (first, second) = match name {
                    "sincos" => (UnOp::F(k, FUn::Sin), UnOp::F(k, FUn::Cos)),
                    "fract" => (UnOp::F(k, FUn::Fract), UnOp::F(k, FUn::Floor)),
                    "modf" => (UnOp::F(k, FUn::ModfFrac), UnOp::F(k, FUn::Trunc)),
                    _ => (UnOp::FrexpMant(k), UnOp::FrexpExp(k)),
                };
                self.emit(Inst::Un {
                    op: first,
                    d: d()?,
                    a: x,
                    n: nn,
                })?;
                let tmp = self.alloc(usize::from(nn))?;
                self.emit(Inst::Un {
                    op: second,
                    d: tmp,
                    a: x,
                    n: nn,
                })?;
                self.store(p, tmp, pointee, space_of(sc)?)
            }
            "nan" => {
                let x = a!(0);
                let k = fk_of(rsc()?)?;
                self.emit(Inst::Un {
                    op: UnOp::Nan(k),
                    d: d()?,
                    a: x,
                    n: n()?,
                })
            }
            other => Err(format!("unsupported OpenCL.std instruction `{other}`")),
        }
    }

    /// Orders blocks (reverse post-order, merge blocks and loop exits last), drops
    /// unreachable ones and renumbers every reference.
    fn order(&mut self) -> Res<()> {
        let n = self.blocks.len();
        let mut blocks = Vec::with_capacity(n);
        for b in self.blocks.drain(..) {
            blocks.push(b.ok_or("internal: a block was never filled")?);
        }
        let succ = |b: &Block| -> Vec<u32> {
            match &b.term {
                Term::Jump(e) => vec![e.to],
                Term::Branch { t, f, .. } => vec![t.to, f.to],
                Term::Switch { cases, default, .. } => {
                    let mut v = vec![default.to];
                    v.extend(cases.iter().map(|(_, e)| e.to));
                    v
                }
                Term::Barrier(next) => vec![*next],
                Term::Return | Term::Trap => vec![],
            }
        };
        let succs: Vec<Vec<u32>> = blocks.iter().map(succ).collect();
        // Loop membership (natural loops of DFS back edges), for the visiting order.
        let loops = if n <= 4096 {
            loop_sets(&succs, self.code.entry as usize)
        } else {
            vec![]
        };
        let mut in_loops: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (li, set) in loops.iter().enumerate() {
            for &b in set {
                in_loops[b].push(li);
            }
        }
        let is_exit =
            |from: usize, to: usize| in_loops[from].iter().any(|l| !loops[*l].contains(&to));
        // Iterative DFS; children visited first end up later in the order.
        let mut post = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        let entry = self.code.entry as usize;
        let mut stack: Vec<(usize, Vec<u32>)> = Vec::new();
        let order_succ = |b: usize| -> Vec<u32> {
            // Visit order: merge hint, loop exits, then the rest in reverse.
            let mut v: Vec<u32> = succs[b].clone();
            v.reverse();
            v.sort_by_key(|&s| {
                let s = s as usize;
                if Some(s as u32) == self.hints[b] {
                    0
                } else if is_exit(b, s) {
                    1
                } else {
                    2
                }
            });
            // The stack pops from the back: reverse so the first wanted is visited first.
            v.reverse();
            v
        };
        seen[entry] = true;
        stack.push((entry, order_succ(entry)));
        while let Some((b, rest)) = stack.last_mut() {
            if let Some(s) = rest.pop() {
                let s = s as usize;
                if !seen[s] {
                    seen[s] = true;
                    let o = order_succ(s);
                    stack.push((s, o));
                }
            } else {
                post.push(*b);
                stack.pop();
            }
        }
        post.reverse();
        let mut new_index = vec![u32::MAX; n];
        for (k, &b) in post.iter().enumerate() {
            new_index[b] = k as u32;
        }
        let fix = |e: &mut Edge| e.to = new_index[e.to as usize];
        let mut out = Vec::with_capacity(post.len());
        for &b in &post {
            let mut blk = blocks[b].clone();
            match &mut blk.term {
                Term::Jump(e) => fix(e),
                Term::Branch { t, f, .. } => {
                    fix(t);
                    fix(f);
                }
                Term::Switch { cases, default, .. } => {
                    fix(default);
                    for (_, e) in cases {
                        fix(e);
                    }
                }
                Term::Barrier(next) => *next = new_index[*next as usize],
                Term::Return | Term::Trap => {}
            }
            out.push(blk);
        }
        self.code.blocks = out;
        self.code.entry = 0;
        Ok(())
    }
}

/// Natural loops: for each DFS back edge u -> h, the blocks that reach u without passing h.
fn loop_sets(succs: &[Vec<u32>], entry: usize) -> Vec<HashSet<usize>> {
    let n = succs.len();
    let mut preds = vec![Vec::new(); n];
    for (b, ss) in succs.iter().enumerate() {
        for &s in ss {
            preds[s as usize].push(b);
        }
    }
    // DFS for back edges.
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut back = Vec::new();
    let mut stack = vec![(entry, 0usize)];
    state[entry] = 1;
    while let Some((b, k)) = stack.last_mut() {
        let b = *b;
        if let Some(&s) = succs[b].get(*k) {
            *k += 1;
            let s = s as usize;
            match state[s] {
                0 => {
                    state[s] = 1;
                    stack.push((s, 0));
                }
                1 => back.push((b, s)),
                _ => {}
            }
        } else {
            state[b] = 2;
            stack.pop();
        }
    }
    let mut by_header: HashMap<usize, HashSet<usize>> = HashMap::new();
    for (latch, h) in back {
        let set = by_header.entry(h).or_insert_with(|| HashSet::from([h]));
        let mut work = vec![latch];
        while let Some(x) = work.pop() {
            if set.insert(x) {
                work.extend(preds[x].iter().copied());
            }
        }
    }
    by_header.into_values().collect()
}

/// Checks that every slot range, table index and size in the decoded code is in range, so
/// that a malformed module (inconsistent types, say) can never make the interpreter index
/// out of its registers: it then computes garbage, never panics.
fn validate(code: &Code) -> Res<()> {
    let bad = || "invalid SPIR-V: inconsistent operand types".to_string();
    let slot = |s: Slot, n: u32| -> Res<()> {
        if u64::from(s) + u64::from(n.max(1)) <= u64::from(code.slots) {
            Ok(())
        } else {
            Err(bad())
        }
    };
    let size_ok = |z: u8| matches!(z, 1 | 2 | 4 | 8);
    let layout = |k: u32| -> Res<u32> {
        code.layouts
            .get(k as usize)
            .map(|l| l.len() as u32)
            .ok_or_else(bad)
    };
    for i in &code.insts {
        match *i {
            Inst::Bin { d, a, b, n, .. } => {
                for x in [d, a, b] {
                    slot(x, n.into())?;
                }
            }
            Inst::Un { d, a, n, .. } => {
                slot(d, n.into())?;
                slot(a, n.into())?;
            }
            Inst::Tern { d, a, b, c, n, .. } => {
                for x in [d, a, b, c] {
                    slot(x, n.into())?;
                }
            }
            Inst::Select {
                d,
                c,
                a,
                b,
                n,
                scalar_cond,
            } => {
                for x in [d, a, b] {
                    slot(x, n.into())?;
                }
                slot(c, if scalar_cond { 1 } else { n.into() })?;
            }
            Inst::Copy { d, s, n } => {
                slot(d, n.into())?;
                slot(s, n.into())?;
            }
            Inst::Gep {
                d, base, at, len, ..
            } => {
                slot(d, 1)?;
                slot(base, 1)?;
                let terms = code
                    .gep_terms
                    .get(at as usize..at as usize + usize::from(len))
                    .ok_or_else(bad)?;
                for t in terms {
                    slot(t.0, 1)?;
                }
            }
            Inst::Load { d, p, size, n, .. } => {
                slot(d, n.into())?;
                slot(p, 1)?;
                if !size_ok(size) || n == 0 {
                    return Err(bad());
                }
            }
            Inst::Store { p, v, size, n, .. } => {
                slot(v, n.into())?;
                slot(p, 1)?;
                if !size_ok(size) || n == 0 {
                    return Err(bad());
                }
            }
            Inst::LoadIdx {
                d, base, idx, size, ..
            } => {
                for x in [d, base, idx] {
                    slot(x, 1)?;
                }
                if !size_ok(size) {
                    return Err(bad());
                }
            }
            Inst::StoreIdx {
                base, idx, v, size, ..
            } => {
                for x in [v, base, idx] {
                    slot(x, 1)?;
                }
                if !size_ok(size) {
                    return Err(bad());
                }
            }
            Inst::LoadAgg {
                d, p, layout: k, ..
            } => {
                slot(d, layout(k)?)?;
                slot(p, 1)?;
            }
            Inst::StoreAgg {
                p, v, layout: k, ..
            } => {
                slot(v, layout(k)?)?;
                slot(p, 1)?;
            }
            Inst::CopyMem {
                dst, src, len_slot, ..
            } => {
                slot(dst, 1)?;
                slot(src, 1)?;
                if let Some(l) = len_slot {
                    slot(l, 1)?;
                }
            }
            Inst::Atomic {
                d, p, v, cmp, size, ..
            } => {
                for x in [d, p, v, cmp] {
                    slot(x, 1)?;
                }
                if size != 4 && size != 8 {
                    return Err(bad());
                }
            }
            Inst::Builtin { d, n, comp, .. } => {
                // Built-ins have at most 3 components (decode refuses others, naming them);
                // the interpreter relies on it.
                if n > 3 || comp.is_some_and(|c| c >= 3) {
                    return Err(bad());
                }
                slot(d, if comp.is_some() { 1 } else { n.into() })?
            }
            Inst::ExtractDyn { d, v, idx, n } => {
                slot(d, 1)?;
                slot(v, n.into())?;
                slot(idx, 1)?;
            }
            Inst::InsertDyn { d, v, x, idx, n } => {
                slot(d, n.into())?;
                slot(v, n.into())?;
                slot(x, 1)?;
                slot(idx, 1)?;
            }
            Inst::Bitcast {
                d,
                s,
                fsize,
                nf,
                tsize,
                nt,
            } => {
                slot(d, nt.into())?;
                slot(s, nf.into())?;
                if !size_ok(fsize)
                    || !size_ok(tsize)
                    || usize::from(fsize) * usize::from(nf) > 128
                    || usize::from(tsize) * usize::from(nt) > 128
                {
                    return Err(bad());
                }
            }
            Inst::Reduce { d, a, b, n, .. } => {
                slot(d, 1)?;
                slot(a, n.into())?;
                slot(b, n.into())?;
                if n > 16 {
                    return Err(bad());
                }
            }
            Inst::Cross { d, a, b, .. } => {
                for x in [d, a, b] {
                    slot(x, 3)?;
                }
            }
            Inst::Normalize { d, a, n, .. } => {
                slot(d, n.into())?;
                slot(a, n.into())?;
            }
            Inst::Printf { d, call } => {
                slot(d, 1)?;
                let pc = code.printfs.get(call as usize).ok_or_else(bad)?;
                slot(pc.fmt, 1)?;
                for a in &pc.args {
                    slot(a.slot, a.n.into())?;
                }
            }
            Inst::AsyncCopy {
                d,
                dst,
                src,
                n,
                stride,
                ..
            } => {
                for x in [d, dst, src, n, stride] {
                    slot(x, 1)?;
                }
            }
            Inst::Shuffle {
                d,
                a,
                b,
                mask,
                na,
                nb,
                n,
            } => {
                slot(d, n.into())?;
                slot(mask, n.into())?;
                slot(a, na.into())?;
                slot(b, nb.into())?;
            }
            Inst::Fence => {}
        }
    }
    let nb = code.blocks.len() as u32;
    let edge = |e: &Edge| -> Res<()> {
        if e.to >= nb {
            return Err(bad());
        }
        for m in &e.moves {
            slot(m.d, m.n.into())?;
            slot(m.s, m.n.into())?;
        }
        Ok(())
    };
    for b in &code.blocks {
        if b.start > b.end || b.end as usize > code.insts.len() {
            return Err(bad());
        }
        match &b.term {
            Term::Jump(e) => edge(e)?,
            Term::Branch { c, t, f } => {
                slot(*c, 1)?;
                edge(t)?;
                edge(f)?;
            }
            Term::Switch {
                sel,
                cases,
                default,
            } => {
                slot(*sel, 1)?;
                edge(default)?;
                for (_, e) in cases {
                    edge(e)?;
                }
            }
            Term::Barrier(next) => {
                if *next >= nb {
                    return Err(bad());
                }
            }
            Term::Return | Term::Trap => {}
        }
    }
    if code.entry >= nb {
        return Err(bad());
    }
    for p in &code.presets {
        match *p {
            Preset::Const { d, at, n } => {
                slot(d, n.into())?;
                if at as usize + usize::from(n) > code.consts.len() {
                    return Err(bad());
                }
            }
            Preset::Private { d, .. } | Preset::Local { d, .. } => slot(d, 1)?,
        }
    }
    for p in &code.params {
        match *p {
            Param::Value { d, layout: k } => slot(d, layout(k)?)?,
            Param::Local { d } | Param::ByVal { d, .. } => slot(d, 1)?,
        }
    }
    Ok(())
}
