//! How a kernel reads built-in variables (see `crate::builtins`): pointers derived from a
//! built-in are tracked at decode time as [`V::Builtin`] / [`V::BuiltinComp`], never as
//! addresses, and their loads become [`Inst::Builtin`]. Every access that cannot be honoured
//! fails the build with a message naming the variable.

use super::{Dec, Instance, V};
use crate::builtins::is_vector;
use crate::ir::{Builtin, Inst, Slot};
use crate::mem::Space;
use crate::module::{Mod, Res, Ty, op_id, result};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{Op, StorageClass, Word};

/// The build error for a store (or a copy) into a built-in.
pub(super) fn builtin_store(md: &Mod<'_>, p: Word, v: V) -> String {
    let b = match v {
        V::Builtin(b) | V::BuiltinComp(b, _) => format!(" {b:?}"),
        _ => String::new(),
    };
    format!(
        "unsupported store to built-in variable{b} through {} (built-ins are read-only)",
        md.name(p)
    )
}

/// The component `k` of built-in `b`, checked: only the 3-vector built-ins have components.
pub(super) fn component(b: Builtin, k: u64) -> Res<V> {
    if !is_vector(b) {
        return Err(format!(
            "invalid SPIR-V: component {k} of the scalar built-in {b:?}"
        ));
    }
    if k >= 3 {
        return Err(format!(
            "invalid SPIR-V: component {k} of the 3-component built-in {b:?}"
        ));
    }
    Ok(V::BuiltinComp(b, k as u8))
}

impl Dec<'_, '_> {
    /// The integer width of the elements of pointer `p`'s pointee when it is an integer or a
    /// 3-vector of integers (the shapes of a built-in).
    fn builtin_elem(&self, p: Word) -> Res<Option<(u8, bool)>> {
        let (_, t) = self.ptr_info(p)?;
        Ok(match self.md.ty(t)? {
            Ty::Int(w) => Some((*w, false)),
            Ty::Vector(e, 3) => match self.md.ty(*e)? {
                Ty::Int(w) => Some((*w, true)),
                _ => None,
            },
            _ => None,
        })
    }

    /// A constant index operand.
    fn const_index(&self, i: &dr::Instruction, k: usize, b: Builtin) -> Res<u64> {
        let c = op_id(i, k)?;
        self.md
            .consts
            .get(&c)
            .and_then(|v| v.first().copied())
            .ok_or_else(|| format!("unsupported dynamic index into built-in variable {b:?}"))
    }

    /// Pass 1: the value of an access chain or pointer cast whose base is a built-in (or a
    /// pointer derived from one); `None` when the base is not a built-in.
    pub(super) fn builtin_pointer(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
    ) -> Res<Option<V>> {
        let md = self.md;
        let base = op_id(i, 0)?;
        let bv = inst
            .vals
            .get(&base)
            .copied()
            .or_else(|| md.builtins.get(&base).map(|b| V::Builtin(*b)));
        let (b, comp) = match bv {
            Some(V::Builtin(b)) => (b, None),
            Some(V::BuiltinComp(b, c)) => (b, Some(c)),
            _ => return Ok(None),
        };
        let op = i.class.opcode;
        let r = result(i)?;
        let refuse = |what: &str| {
            Err(format!(
                "unsupported {what} of built-in variable {} ({b:?}) in Op{op:?} %{r}",
                md.name(base)
            ))
        };
        let v = match op {
            Op::CopyObject
            | Op::Bitcast
            | Op::PtrCastToGeneric
            | Op::GenericCastToPtr
            | Op::GenericCastToPtrExplicit => {
                // The element width must stay the same (a cast to a narrower or wider
                // element would reinterpret the components' bytes).
                let (from, to) = (self.builtin_elem(base)?, self.builtin_elem(r)?);
                match (from, to, comp) {
                    (Some((wf, _)), Some((wt, vt)), None) if wf == wt => {
                        if vt && !is_vector(b) {
                            return refuse("cast to a vector");
                        }
                        V::Builtin(b)
                    }
                    (Some((wf, _)), Some((wt, false)), Some(c)) if wf == wt => V::BuiltinComp(b, c),
                    _ => return refuse("reinterpreting cast"),
                }
            }
            Op::AccessChain | Op::InBoundsAccessChain => {
                if comp.is_some() || i.operands.len() != 2 {
                    return refuse("access chain");
                }
                component(b, self.const_index(i, 1, b)?)?
            }
            Op::PtrAccessChain | Op::InBoundsPtrAccessChain => {
                let first = self.const_index(i, 1, b)?;
                let vector_pointee = self.builtin_elem(base)?.is_some_and(|(_, v)| v);
                match (comp, i.operands.get(2), i.operands.len()) {
                    // p[0] or p[0][k] on a pointer to the whole built-in.
                    (None, None, 2) if first == 0 => V::Builtin(b),
                    (None, Some(Operand::IdRef(_)), 3) if first == 0 && vector_pointee => {
                        component(b, self.const_index(i, 2, b)?)?
                    }
                    // p[k] on a pointer to the built-in's element (after a cast to it).
                    (None, None, 2) if !vector_pointee && is_vector(b) => component(b, first)?,
                    (Some(c), None, 2) => component(b, u64::from(c) + first)?,
                    _ => return refuse("pointer arithmetic"),
                }
            }
            _ => return refuse("use"),
        };
        Ok(Some(v))
    }

    /// Reads the built-in that `v` points to into `d` as a value of type `t`.
    pub(super) fn load_builtin(&mut self, d: Slot, v: V, t: Word, p: Word) -> Res<()> {
        let md = self.md;
        let (b, comp) = match v {
            V::Builtin(b) => (b, None),
            V::BuiltinComp(b, c) => (b, Some(c)),
            _ => return Err("internal error: not a built-in".into()),
        };
        let n = match (md.ty(t)?, comp) {
            (Ty::Int(_), _) => 1,
            (Ty::Vector(e, 3), None) if is_vector(b) && matches!(md.ty(*e)?, Ty::Int(_)) => 3,
            (other, _) => {
                return Err(format!(
                    "unsupported load of built-in variable {} ({b:?}) as {other:?}",
                    md.name(p)
                ));
            }
        };
        self.emit(Inst::Builtin { d, b, n, comp })
    }

    /// `OpCopyMemory`/`OpCopyMemorySized` from a built-in: a load of the built-in and a
    /// store of it. `false` when neither pointer is a built-in.
    pub(super) fn copies_builtin(&mut self, inst: &Instance, i: &dr::Instruction) -> Res<bool> {
        let md = self.md;
        let (dp, sp) = (op_id(i, 0)?, op_id(i, 1)?);
        let (dv, sv) = (self.val(inst, dp)?, self.val(inst, sp)?);
        if matches!(dv, V::Builtin(_) | V::BuiltinComp(..)) {
            return Err(builtin_store(md, dp, dv));
        }
        if !matches!(sv, V::Builtin(_) | V::BuiltinComp(..)) {
            return Ok(false);
        }
        let (_, st) = self.ptr_info(sp)?;
        let (size, _) = md.size_align(st, 0)?;
        if i.class.opcode == Op::CopyMemorySized {
            let len = md
                .consts
                .get(&op_id(i, 2)?)
                .and_then(|v| v.first().copied());
            if len != Some(size) {
                return Err(format!(
                    "unsupported OpCopyMemorySized of built-in variable {} with a size other than its own ({size} bytes)",
                    md.name(sp)
                ));
            }
        }
        let n = self.comps(st)?;
        let tmp = self.alloc(usize::from(n))?;
        self.load_builtin(tmp, sv, st, sp)?;
        let (dsc, dt) = self.ptr_info(dp)?;
        if self.md.leaf_count(dt, 64)? != usize::from(n) {
            return Err(format!(
                "unsupported copy of built-in variable {} into a different type",
                md.name(sp)
            ));
        }
        match dv {
            V::Promoted(s, n) => self.copy(s, tmp, n)?,
            V::Reg(p) => {
                let space = if dsc == StorageClass::Function {
                    Space::Private
                } else {
                    super::space_of(dsc)?
                };
                self.store(p, tmp, dt, space)?;
            }
            other => return Err(builtin_store(md, dp, other)),
        }
        Ok(true)
    }
}
