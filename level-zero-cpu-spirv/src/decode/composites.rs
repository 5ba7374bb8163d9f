//! Composite instructions: `OpCompositeExtract` (of a built-in load too: one component
//! read), `OpCompositeInsert`, `OpCompositeConstruct`, `OpVectorShuffle`,
//! `OpVectorExtractDynamic`, `OpVectorInsertDynamic`, `OpCopyObject`, `OpCopyLogical`
//! (SPIR-V 1.4: between composite types that differ only in their layout decorations).
//!
//! Values are component slots, so most are register copies (`Inst::Copy`) or share their
//! source's slots (`passes.rs`); the dynamic ones are `Inst::ExtractDyn`/`InsertDyn`.

use super::{Dec, Instance, V, builtin_access};
use crate::ir::{Inst, Slot};
use crate::module::{MAX_VALUE_LEAVES, Res, Ty, op_id, op_lit, result_type};
use rspirv::dr;
use rspirv::spirv::{Op, Word};

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn composites(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let md = self.md;
        let op = i.class.opcode;
        let rt = i.result_type;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        let n_of = |t: Option<Word>| -> Res<u16> {
            md.width(t.ok_or("invalid SPIR-V: missing result type")?)
        };
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        match op {
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
            Op::CopyObject => {
                if res.is_none() {
                    return Ok(true);
                }
                let n = self.comps(result_type(i)?)?;
                let s = a!(0);
                self.copy(d()?, s, n)?;
            }
            Op::CopyLogical => {
                // A value is its scalar leaves, whatever the layout of its type: the types
                // match logically when their leaves are the same scalars in the same order.
                let (t, ot) = (result_type(i)?, self.ty_of(op_id(i, 0)?)?);
                let leaves = |t| -> Res<Vec<_>> {
                    Ok(md
                        .leaves(t, MAX_VALUE_LEAVES)?
                        .into_iter()
                        .map(|(_, sc)| sc)
                        .collect())
                };
                if leaves(t)? != leaves(ot)? {
                    return Err(format!(
                        "invalid SPIR-V: OpCopyLogical %{} between types that do not match logically",
                        i.result_id.unwrap_or(0)
                    ));
                }
                if res.is_none() {
                    return Ok(true);
                }
                let n = self.comps(t)?;
                let s = a!(0);
                self.copy(d()?, s, n)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Leaf range (start, count, type) of a composite's path of constant indices.
    pub(super) fn path(&self, mut t: Word, idx: &[u64]) -> Res<(u32, u16, Word)> {
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
}
