//! Conversion instructions: `OpUConvert`, `OpSConvert` (with `SaturatedConversion`,
//! `crate::conversions`), `OpFConvert`, `OpConvertFToU/S`, `OpConvertU/SToF` (with
//! `FPRoundingMode`), `OpSatConvertSToU/UToS`, `OpBitcast`, and the pointer conversions
//! `OpConvertPtrToU`/`OpConvertUToPtr` (`Addresses`) and `OpPtrCastToGeneric`,
//! `OpGenericCastToPtr[Explicit]` (`GenericPointer`).
//!
//! Numeric conversions are `Inst::Un` (values: `crate::ops::convert`); a bitcast between
//! element sizes is `Inst::Bitcast`; the others are copies, usually sharing their source's
//! slots instead (`passes.rs`).

use super::{Dec, Instance, fk_of, int_bits};
use crate::ir::{Inst, Slot};
use crate::module::{Res, Sc, op_id, result, result_type};
use crate::ops::{Rm, UnOp, mask};
use rspirv::dr;
use rspirv::spirv::{Op, Word};

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn conversions(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        self.check_conversion_types(i)?;
        let md = self.md;
        let op = i.class.opcode;
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
            Op::Bitcast => {
                if res.is_none() {
                    return Ok(true);
                }
                let s = a!(0);
                let from_t = self.ty_of(op_id(i, 0)?)?;
                let to_t = result_type(i)?;
                let (fsc, nf) = (md.scalar(from_t)?, md.width(from_t)?);
                let (tsc, nt) = (md.scalar(to_t)?, md.width(to_t)?);
                if fsc.bits() * u32::from(nf) != tsc.bits() * u32::from(nt) {
                    return Err("invalid SPIR-V: OpBitcast between types of different sizes".into());
                }
                let (fs, ts) = (fsc.bytes(), tsc.bytes());
                let odd = |sc: Sc| matches!(sc, Sc::Int(w) if !crate::module::standard_width(w));
                if (odd(fsc) || odd(tsc)) && fsc.bits() != tsc.bits() {
                    // Registers hold such an integer in a 64-bit word, memory in
                    // `int_bytes` bytes: a reinterpretation would split its bits.
                    return Err(format!(
                        "unsupported OpBitcast from {}-bit to {}-bit elements (integers of a width other than 8, 16, 32, 64 are only reinterpreted as a type of their own width)",
                        fsc.bits(),
                        tsc.bits()
                    ));
                }
                if fsc.bits() == tsc.bits() {
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
            Op::PtrCastToGeneric | Op::GenericCastToPtr | Op::GenericCastToPtrExplicit => {
                if res.is_none() {
                    return Ok(true);
                }
                let n = self.comps(result_type(i)?)?;
                let s = a!(0);
                self.copy(d()?, s, n)?;
            }
            Op::ConvertUToPtr => {
                let s = a!(0);
                self.copy(d()?, s, 1)?;
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
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn rounding(&self, r: Word, default: Rm) -> Rm {
        self.md.rounding.get(&r).copied().unwrap_or(default)
    }
}
