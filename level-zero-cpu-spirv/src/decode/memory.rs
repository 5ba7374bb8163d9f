//! Memory instructions: `OpVariable` (its initializer; slots and private memory are given
//! in `function.rs`), `OpLoad`, `OpStore`, `OpCopyMemory`, `OpCopyMemorySized`
//! (`Addresses`), `OpAccessChain`, `OpInBoundsAccessChain`, `OpPtrAccessChain` and
//! `OpInBoundsPtrAccessChain` (`Addresses`), `OpLifetimeStart`/`OpLifetimeStop` (`Kernel`),
//! and SPIR-V 1.4's `OpPtrEqual`, `OpPtrNotEqual`, `OpPtrDiff`.
//!
//! Loads and stores become `Inst::Load`/`Store` (scalars and vectors) or
//! `Inst::LoadAgg`/`StoreAgg` (aggregates), or the fused `Inst::LoadIdx`/`StoreIdx` when an
//! access chain is used only by them (`passes.rs`); access chains become `Inst::Gep`.
//! Loads of built-ins and promoted variables are resolved here too (`builtin_access.rs`).

use super::builtin_access::builtin_store;
use super::{Dec, Instance, V, int_bits, space_of};
use crate::ir::{Inst, Slot};
use crate::mem::Space;
use crate::module::{MAX_VALUE_LEAVES, Res, Sc, Ty, op_id, result_type, standard_width};
use crate::ops::{BinOp, UnOp, mask};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{Op, Word};

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn memory(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let md = self.md;
        let op = i.class.opcode;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        if matches!(op, Op::Load | Op::Store) {
            self.check_access_type(inst, i)?;
        }
        match op {
            // The contents are undefined between them: keeping them is allowed.
            Op::LifetimeStart | Op::LifetimeStop => {}
            Op::Variable => {
                if let Some(Operand::IdRef(init)) = i.operands.get(1) {
                    if let Some(V::Promoted(s, n)) =
                        i.result_id.and_then(|r| inst.vals.get(&r).copied())
                    {
                        let v = self.slot(inst, *init)?;
                        return self.copy(s, v, n).map(|()| true);
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
                    self.emit(Inst::LoadIdx {
                        d: d()?,
                        base,
                        idx,
                        w,
                        scale,
                        off,
                        size,
                        space: space_of(sc)?,
                        site,
                    })?;
                    self.mask_loaded(d()?, t)?;
                    return Ok(true);
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
                        return self.copy(s, v, n).map(|()| true);
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
                    return Ok(true); // a pointer into a built-in (pass 1)
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
            // SPIR-V 1.4: pointer comparisons and differences.
            Op::PtrEqual | Op::PtrNotEqual => {
                let (x, y) = (a!(0), a!(1));
                let n = md.width(result_type(i)?)?;
                let op = if op == Op::PtrEqual {
                    BinOp::IEq
                } else {
                    BinOp::INe
                };
                self.emit(Inst::Bin {
                    op,
                    d: d()?,
                    a: x,
                    b: y,
                    n,
                })?;
            }
            Op::PtrDiff => {
                // In elements of the pointee: the Element operand of an OpPtrAccessChain
                // from operand 2 to operand 1 (a signed count, exact when both point into
                // one array).
                let (x, y) = (a!(0), a!(1));
                let rt = result_type(i)?;
                let n = md.width(rt)?;
                let w = int_bits(md.scalar(rt)?);
                let (_, pointee) = self.ptr_info(op_id(i, 0)?)?;
                let stride = md.stride(pointee)?;
                if stride == 0 {
                    return Err("invalid SPIR-V: OpPtrDiff of pointers to a type of no size".into());
                }
                let bytes = self.alloc(usize::from(n))?;
                self.emit(Inst::Bin {
                    op: BinOp::ISub(!0),
                    d: bytes,
                    a: x,
                    b: y,
                    n,
                })?;
                let st = self.consts(&vec![stride; usize::from(n)])?;
                let q = if w == 64 {
                    d()?
                } else {
                    self.alloc(usize::from(n))?
                };
                self.emit(Inst::Bin {
                    op: BinOp::SDiv(64),
                    d: q,
                    a: bytes,
                    b: st,
                    n,
                })?;
                if w != 64 {
                    self.emit(Inst::Un {
                        op: UnOp::Mask(mask(w)),
                        d: d()?,
                        a: q,
                        n,
                    })?;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Emits a load of type `t` from pointer slot `p`.
    pub(super) fn load(&mut self, d: Slot, p: Slot, t: Word, space: Space) -> Res<()> {
        self.load_bytes(d, p, t, space)?;
        self.mask_loaded(d, t)
    }

    /// After a load of type `t` into `d`: each integer of a width other than 8, 16, 32 and 64
    /// keeps its low bits (memory holds it in `int_bytes` bytes, whose padding bits are no
    /// part of the value; registers hold integers zero-extended to their width).
    pub(super) fn mask_loaded(&mut self, d: Slot, t: Word) -> Res<()> {
        let md = self.md;
        let odd = |sc: Sc| match sc {
            Sc::Int(w) if !standard_width(w) => Some(w),
            _ => None,
        };
        // Scalars and vectors: one mask over their components.
        if let Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..) | Ty::Vector(..) = md.ty(t)? {
            if let Some(w) = odd(md.scalar(t)?) {
                let n = md.width(t)?;
                self.emit(Inst::Un {
                    op: UnOp::Mask(mask(w)),
                    d,
                    a: d,
                    n,
                })?;
            }
            return Ok(());
        }
        let leaves: Vec<Option<u8>> = md
            .leaves(t, MAX_VALUE_LEAVES)?
            .into_iter()
            .map(|(_, sc)| odd(sc))
            .collect();
        for (k, w) in leaves.into_iter().enumerate() {
            if let Some(w) = w {
                let s = d + k as Slot;
                self.emit(Inst::Un {
                    op: UnOp::Mask(mask(w)),
                    d: s,
                    a: s,
                    n: 1,
                })?;
            }
        }
        Ok(())
    }

    fn load_bytes(&mut self, d: Slot, p: Slot, t: Word, space: Space) -> Res<()> {
        let site = self.site();
        match self.md.ty(t)? {
            Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..) | Ty::Handle(_) | Ty::Vector(..) => {
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

    pub(super) fn store(&mut self, p: Slot, v: Slot, t: Word, space: Space) -> Res<()> {
        let site = self.site();
        match self.md.ty(t)? {
            Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::Ptr(..) | Ty::Handle(_) | Ty::Vector(..) => {
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

    /// An access chain as (base slot, constant byte offset, dynamic terms).
    #[allow(clippy::type_complexity)]
    pub(super) fn gep_parts(
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

    pub(super) fn member_offset(&self, st: Word, k: usize) -> Res<u64> {
        self.md.member_offset(st, k)
    }
}
