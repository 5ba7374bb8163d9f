//! Atomic instructions: `OpAtomicLoad`, `OpAtomicStore`, `OpAtomicExchange`,
//! `OpAtomicCompareExchange[Weak]`, `OpAtomicIIncrement/IDecrement`, `OpAtomicIAdd/ISub`,
//! `OpAtomicS/UMin`, `OpAtomicS/UMax`, `OpAtomicAnd/Or/Xor`, on 4-byte integers and, with
//! `Int64Atomics`, 8-byte ones: `Inst::Atomic`. Scope and semantics are not needed: every
//! atomic is sequentially consistent and device-wide (`operands.rs`). Float atomics
//! (`AtomicFloat32AddEXT`, `AtomicFloat64AddEXT`, `AtomicFloat32MinMaxEXT`,
//! `AtomicFloat64MinMaxEXT`: `OpAtomicFAddEXT`, `OpAtomicFMinEXT`, `OpAtomicFMaxEXT`) on
//! 4- and 8-byte floats, by compare-and-swap (`mem::atomic`). Half-float atomics are refused
//! (their capabilities are not accepted).

use super::{Dec, Instance, space_of};
use crate::ir::{Inst, Slot};
use crate::mem::AtomicOp;
use crate::module::{Res, Sc, op_id};
use rspirv::dr;
use rspirv::spirv::Op;

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn atomics(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let md = self.md;
        let op = i.class.opcode;
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        match op {
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
            | Op::AtomicXor
            | Op::AtomicFAddEXT
            | Op::AtomicFMinEXT
            | Op::AtomicFMaxEXT => {
                let pid = op_id(i, 0)?;
                let p = a!(0);
                let (sc, pointee) = self.ptr_info(pid)?;
                let elem = md.scalar(pointee)?;
                let size = elem.bytes();
                if let Sc::Int(w) = elem
                    && !crate::module::standard_width(w)
                {
                    return Err(format!("unsupported Op{op:?} on a {w}-bit integer"));
                }
                if size != 4 && size != 8 {
                    return Err(format!("unsupported {}-byte atomic", size));
                }
                let float_op = matches!(
                    op,
                    Op::AtomicFAddEXT | Op::AtomicFMinEXT | Op::AtomicFMaxEXT
                );
                let any_type = matches!(
                    op,
                    Op::AtomicLoad
                        | Op::AtomicStore
                        | Op::AtomicExchange
                        | Op::AtomicCompareExchange
                        | Op::AtomicCompareExchangeWeak
                );
                if !any_type && float_op != matches!(elem, crate::module::Sc::Float(_)) {
                    return Err(format!("invalid SPIR-V: Op{op:?} on a pointer to {elem:?}"));
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
                    Op::AtomicFAddEXT => (AtomicOp::FAdd, a!(3), zero),
                    Op::AtomicFMinEXT => (AtomicOp::FMin, a!(3), zero),
                    Op::AtomicFMaxEXT => (AtomicOp::FMax, a!(3), zero),
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
            _ => return Ok(false),
        }
        Ok(true)
    }
}
