//! Arithmetic, bit, relational and logical instructions (the core opcodes of those classes:
//! `OpIAdd` ... `OpFMod`, `OpSNegate`, `OpFNegate`, `OpVectorTimesScalar`, `OpDot`, shifts,
//! `OpBitwise*`, `OpNot`, `OpBitCount`, the integer, float and logical comparisons,
//! `OpOrdered`/`OpUnordered`/`OpIsNan`/`OpIsInf`/`OpIsFinite`/`OpIsNormal`/`OpSignBitSet`/
//! `OpLessOrGreater` (`Kernel`), `OpAny`, `OpAll`, `OpSelect`). Widths come from the
//! types (`Int8`/`Int16`/`Int64`, `Float16`/`Float64`, `Vector16` add no opcodes).
//!
//! Each becomes a lane-wise `Inst::Bin`/`Un`/`Select` (values: `crate::ops`) or, for
//! `OpDot`/`OpAny`/`OpAll`, an `Inst::Reduce`.

use super::{Dec, Instance, fk_of, int_bits};
use crate::ir::{Inst, Slot};
use crate::module::{Res, Sc, op_id, result_type};
use crate::ops::{BinOp, Cmp, FBin, FUn, Fk, Reduce, UnOp, mask};
use rspirv::dr;
use rspirv::spirv::{Op, Word};

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn arithmetic(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        if !self.check_arithmetic_types(i)? {
            return Ok(false);
        }
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
            _ => return Ok(false),
        }
        Ok(true)
    }
}
