//! The decoder's per-function passes between slot allocation and decoding: copy
//! propagation (a copy shares its source's slots) and address fusion (an access chain used
//! only by one scalar load or store in its block is fused into it).

use super::{Dec, Instance, V, int_bits};
use crate::module::{Res, Sc, Ty, op_id, op_lit};
use rspirv::dr;
use rspirv::spirv::{Op, Word};
use std::collections::HashMap;

impl Dec<'_, '_> {
    /// Copy propagation: a result that is an unchanged copy of (part of) an SSA value
    /// (`OpCompositeExtract`, widening `OpUConvert`, same-shape `OpBitcast`, pointer casts,
    /// `OpCopyObject`, `OpExpectKHR`) shares the value's slots instead of copying them.
    ///
    /// This is sound in SSA form: the source's slots are only rewritten when its definition
    /// runs again (for a phi, on the edge into its block), and a use that the copy dominates
    /// cannot be reached from that redefinition without running the copy again; phi moves
    /// that read an alias while writing its source go through temporaries (parallel copy).
    /// Promoted private variables are not SSA values: their loads are never aliased.
    pub(super) fn propagate_copies(&mut self, inst: &mut Instance, f: &dr::Function) -> Res<()> {
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
                                    if a.bits() == b.bits() && na == nb =>
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
    pub(super) fn fuse_addresses(&mut self, inst: &mut Instance, f: &dr::Function) -> Res<()> {
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
}
