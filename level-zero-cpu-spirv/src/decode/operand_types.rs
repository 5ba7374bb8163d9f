//! The operand types that the numeric instruction classes take (the specification's rules for
//! the arithmetic, bit, relational, logical and conversion instructions and the OpenCL.std
//! functions), checked before any of them is decoded. The decoders compute by the result's
//! type; an operand of another type would be computed from whatever its slots hold: a
//! pointer's address (which differs between the engines and from run to run), a float's bits
//! as an integer, the neighbours of a scalar read as a vector's missing components. Such a
//! module is invalid (`spirv-val` refuses it too), and the build says which operand of which
//! instruction is wrong instead of running it with a guessed meaning. The same holds for
//! `OpLoad` and `OpStore`: the value has the type the pointer points to (or one laid out
//! the same: the same scalars at the same offsets).

use super::{Dec, Instance, V};
use crate::module::{MAX_VALUE_LEAVES, Res, Sc, op_id, result_type};
use crate::ops::Fk;
use rspirv::dr;
use rspirv::spirv::{Op, Word};
use std::fmt;

/// A scalar or vector type: its component scalar and component count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape {
    pub sc: Sc,
    pub n: u16,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.sc {
            Sc::Bool => "boolean".to_string(),
            Sc::Int(w) => format!("{w}-bit integer"),
            Sc::Float(k) => format!(
                "{}-bit float",
                match k {
                    Fk::H => 16,
                    Fk::S => 32,
                    Fk::D => 64,
                }
            ),
            Sc::Ptr => "pointer (or opaque handle)".to_string(),
        };
        if self.n == 1 {
            write!(f, "a {what}")
        } else {
            write!(f, "a vector of {} {what}s", self.n)
        }
    }
}

/// The component kinds an operand may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
}

impl Kind {
    fn has(self, sc: Sc) -> bool {
        matches!(
            (self, sc),
            (Kind::Int, Sc::Int(_)) | (Kind::Float, Sc::Float(_)) | (Kind::Bool, Sc::Bool)
        )
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Int => "integer",
            Kind::Float => "float",
            Kind::Bool => "boolean",
        }
    }
}

/// How an arithmetic-class instruction's operands relate to its result.
#[derive(Clone, Copy)]
enum Sig {
    /// The result is of `Kind`; every operand has the result's type (`OpIAdd`, `OpFNegate`).
    Same(Kind),
    /// An integer result; the base has the result's type, the shift is an integer with the
    /// result's component count.
    Shift,
    /// A boolean result; two operands of one type of `Kind` with the result's component
    /// count (the comparisons).
    Compare(Kind),
    /// A boolean result; one float operand with its component count (`OpIsNan`).
    Test,
    /// An integer result; one integer operand with its component count (`OpBitCount`).
    Count,
    /// A boolean scalar result; one boolean operand (`OpAny`, `OpAll`).
    Reduce,
    /// A float scalar result; two operands of one type whose components are the result's
    /// (`OpDot`).
    Dot,
    /// A float vector result; the vector has its type, the scalar is one of its components
    /// (`OpVectorTimesScalar`).
    VectorTimesScalar,
    /// A boolean condition with the result's component count or one; two objects of the
    /// result's type, which may be any type (`OpSelect`).
    Select,
}

fn arithmetic_sig(op: Op) -> Option<Sig> {
    use Kind::*;
    Some(match op {
        Op::SNegate
        | Op::Not
        | Op::IAdd
        | Op::ISub
        | Op::IMul
        | Op::UDiv
        | Op::SDiv
        | Op::UMod
        | Op::SRem
        | Op::SMod
        | Op::BitwiseAnd
        | Op::BitwiseOr
        | Op::BitwiseXor => Sig::Same(Int),
        Op::FNegate | Op::FAdd | Op::FSub | Op::FMul | Op::FDiv | Op::FRem | Op::FMod => {
            Sig::Same(Float)
        }
        Op::LogicalNot | Op::LogicalAnd | Op::LogicalOr => Sig::Same(Bool),
        Op::LogicalEqual | Op::LogicalNotEqual => Sig::Compare(Bool),
        Op::ShiftLeftLogical | Op::ShiftRightLogical | Op::ShiftRightArithmetic => Sig::Shift,
        Op::IEqual
        | Op::INotEqual
        | Op::ULessThan
        | Op::ULessThanEqual
        | Op::UGreaterThan
        | Op::UGreaterThanEqual
        | Op::SLessThan
        | Op::SLessThanEqual
        | Op::SGreaterThan
        | Op::SGreaterThanEqual => Sig::Compare(Int),
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
        | Op::LessOrGreater
        | Op::Ordered
        | Op::Unordered => Sig::Compare(Float),
        Op::IsNan | Op::IsInf | Op::IsFinite | Op::IsNormal | Op::SignBitSet => Sig::Test,
        Op::BitCount => Sig::Count,
        Op::Any | Op::All => Sig::Reduce,
        Op::Dot => Sig::Dot,
        Op::VectorTimesScalar => Sig::VectorTimesScalar,
        Op::Select => Sig::Select,
        _ => return None,
    })
}

/// The OpenCL.std functions that take pointers, and which of their arguments are pointers
/// (`None`: any argument may be, `printf`'s `%s` and `%p`).
fn pointer_args(name: &str) -> Option<&'static [usize]> {
    Some(match name {
        "printf" => return None,
        "prefetch" => &[0],
        "vloadn" | "vload_half" | "vload_halfn" | "vloada_halfn" => &[1],
        "vstoren" | "vstore_half" | "vstore_halfn" | "vstorea_halfn" | "vstore_half_r"
        | "vstore_halfn_r" | "vstorea_halfn_r" => &[2],
        "sincos" | "fract" | "modf" | "frexp" | "lgamma_r" => &[1],
        "remquo" => &[2],
        _ => &[],
    })
}

/// The build log's line for instruction `i` with operands of the wrong types.
fn invalid(i: &dr::Instruction, what: &str) -> String {
    format!(
        "invalid SPIR-V: Op{:?} (result %{}): {what}",
        i.class.opcode,
        i.result_id.unwrap_or(0)
    )
}

impl Dec<'_, '_> {
    /// The shape of a scalar or vector type.
    pub(super) fn shape_of_type(&self, t: Word) -> Res<Shape> {
        Ok(Shape {
            sc: self.md.scalar(t)?,
            n: self.md.width(t)?,
        })
    }

    /// Whether `i` is an instruction of the arithmetic class (`arithmetic.rs` decodes exactly
    /// the opcodes `arithmetic_sig` lists, so that none escapes these checks), after checking
    /// its operand and result types.
    pub(super) fn check_arithmetic_types(&self, i: &dr::Instruction) -> Res<bool> {
        let op = i.class.opcode;
        let Some(sig) = arithmetic_sig(op) else {
            return Ok(false);
        };
        self.check_signature(i, sig)?;
        Ok(true)
    }

    fn check_signature(&self, i: &dr::Instruction, sig: Sig) -> Res<()> {
        let op = i.class.opcode;
        let ids: Vec<Word> = (0..i.operands.len())
            .map(|k| op_id(i, k))
            .collect::<Res<_>>()?;
        let rt = i
            .result_type
            .ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result type"))?;
        let wrong = |what: String| invalid(i, &what);
        let operand = |k: usize| -> Res<(Word, Shape)> {
            let id = *ids
                .get(k)
                .ok_or_else(|| wrong(format!("operand {k} missing")))?;
            let t = self.ty_of(id)?;
            let s = self
                .shape_of_type(t)
                .map_err(|e| wrong(format!("operand {k} (%{id}): {e}")))?;
            Ok((id, s))
        };
        let arity = |n: usize| -> Res<()> {
            if ids.len() == n {
                Ok(())
            } else {
                Err(wrong(format!("{} operands, expected {n}", ids.len())))
            }
        };
        if let Sig::Select = sig {
            // Objects of any type, the result's.
            arity(3)?;
            let (cid, c) = operand(0)?;
            let n = self.md.width(rt)?;
            if !Kind::Bool.has(c.sc) || (c.n != 1 && c.n != n) {
                return Err(wrong(format!(
                    "the condition (%{cid}) is {c}, expected a boolean or {n} booleans"
                )));
            }
            for (k, &id) in ids.iter().enumerate().skip(1) {
                let t = self.ty_of(id)?;
                if t != rt && self.md.ty(t)? != self.md.ty(rt)? {
                    return Err(wrong(format!(
                        "object {k} (%{id}) is not of the result's type"
                    )));
                }
            }
            return Ok(());
        }
        let result = self
            .shape_of_type(rt)
            .map_err(|e| wrong(format!("result type: {e}")))?;
        let kind_of = |what: &str, s: Shape, k: Kind| -> Res<()> {
            if k.has(s.sc) {
                Ok(())
            } else {
                Err(wrong(format!(
                    "{what} is {s}, expected {} components",
                    k.name()
                )))
            }
        };
        let expect = |k: usize, want: Shape| -> Res<()> {
            let (id, s) = operand(k)?;
            if s == want {
                Ok(())
            } else {
                Err(wrong(format!(
                    "operand {k} (%{id}) is {s}, expected {want}"
                )))
            }
        };
        match sig {
            Sig::Same(kind) => {
                kind_of("the result", result, kind)?;
                let n = if matches!(op, Op::SNegate | Op::Not | Op::FNegate | Op::LogicalNot) {
                    1
                } else {
                    2
                };
                arity(n)?;
                (0..n).try_for_each(|k| expect(k, result))
            }
            Sig::Shift => {
                kind_of("the result", result, Kind::Int)?;
                arity(2)?;
                expect(0, result)?;
                let (id, s) = operand(1)?;
                if Kind::Int.has(s.sc) && s.n == result.n {
                    Ok(())
                } else {
                    Err(wrong(format!(
                        "the shift (%{id}) is {s}, expected {} integer component(s)",
                        result.n
                    )))
                }
            }
            Sig::Compare(kind) => {
                kind_of("the result", result, Kind::Bool)?;
                arity(2)?;
                let (_, a) = operand(0)?;
                kind_of("operand 0", a, kind)?;
                if a.n != result.n {
                    return Err(wrong(format!("operand 0 is {a}, for {result}")));
                }
                expect(1, a)
            }
            Sig::Test | Sig::Count => {
                let (rk, ak) = if matches!(sig, Sig::Test) {
                    (Kind::Bool, Kind::Float)
                } else {
                    (Kind::Int, Kind::Int)
                };
                kind_of("the result", result, rk)?;
                arity(1)?;
                let (_, a) = operand(0)?;
                kind_of("operand 0", a, ak)?;
                if a.n == result.n {
                    Ok(())
                } else {
                    Err(wrong(format!("operand 0 is {a}, for {result}")))
                }
            }
            Sig::Reduce => {
                if result != (Shape { sc: Sc::Bool, n: 1 }) {
                    return Err(wrong(format!("the result is {result}, expected a boolean")));
                }
                arity(1)?;
                let (_, a) = operand(0)?;
                kind_of("operand 0", a, Kind::Bool)
            }
            Sig::Dot => {
                kind_of("the result", result, Kind::Float)?;
                if result.n != 1 {
                    return Err(wrong(format!("the result is {result}, expected a scalar")));
                }
                arity(2)?;
                let (_, a) = operand(0)?;
                if a.sc != result.sc {
                    return Err(wrong(format!("operand 0 is {a}, for {result}")));
                }
                expect(1, a)
            }
            Sig::VectorTimesScalar => {
                kind_of("the result", result, Kind::Float)?;
                arity(2)?;
                expect(0, result)?;
                expect(
                    1,
                    Shape {
                        sc: result.sc,
                        n: 1,
                    },
                )
            }
            // Checked above.
            Sig::Select => Ok(()),
        }
    }

    /// Checks the operand and result types of `i` if it is a numeric conversion
    /// (`conversions.rs`'s opcodes other than the bitcast and the pointer casts); does nothing
    /// for other opcodes.
    pub(super) fn check_conversion_types(&self, i: &dr::Instruction) -> Res<()> {
        let op = i.class.opcode;
        let (from, to) = match op {
            Op::UConvert | Op::SConvert | Op::SatConvertSToU | Op::SatConvertUToS => {
                (Kind::Int, Some(Kind::Int))
            }
            Op::FConvert => (Kind::Float, Some(Kind::Float)),
            Op::ConvertFToU | Op::ConvertFToS => (Kind::Float, Some(Kind::Int)),
            Op::ConvertSToF | Op::ConvertUToF => (Kind::Int, Some(Kind::Float)),
            // To a pointer: the result is checked by its users.
            Op::ConvertUToPtr => (Kind::Int, None),
            _ => return Ok(()),
        };
        let wrong = |what: String| invalid(i, &what);
        let id = op_id(i, 0)?;
        let a = self
            .shape_of_type(self.ty_of(id)?)
            .map_err(|e| wrong(format!("operand 0 (%{id}): {e}")))?;
        if !from.has(a.sc) {
            return Err(wrong(format!(
                "operand 0 (%{id}) is {a}, expected {} components",
                from.name()
            )));
        }
        let Some(to) = to else {
            return if a.n == 1 {
                Ok(())
            } else {
                Err(wrong(format!(
                    "operand 0 (%{id}) is {a}, expected a scalar"
                )))
            };
        };
        let rt = i
            .result_type
            .ok_or_else(|| wrong("no result type".into()))?;
        let r = self
            .shape_of_type(rt)
            .map_err(|e| wrong(format!("result type: {e}")))?;
        if !to.has(r.sc) || r.n != a.n {
            return Err(wrong(format!(
                "the result is {r}, expected {} {} component(s)",
                a.n,
                to.name()
            )));
        }
        Ok(())
    }

    /// Checks that an OpenCL.std function's arguments are scalars or vectors, and pointers
    /// only where the function takes one.
    pub(super) fn check_ext_arguments(&self, i: &dr::Instruction, name: &str) -> Res<()> {
        let pointers = pointer_args(name);
        // The literal arguments (the parser reads every argument as an id).
        let literal: &[usize] = match name {
            "vloadn" | "vload_halfn" | "vloada_halfn" => &[2],
            "vstore_half_r" | "vstore_halfn_r" | "vstorea_halfn_r" => &[3],
            _ => &[],
        };
        for (k, o) in i.operands.iter().enumerate().skip(2) {
            let arg = k - 2;
            let &dr::Operand::IdRef(id) = o else {
                continue;
            };
            if literal.contains(&arg) {
                continue;
            }
            let s = self.shape_of_type(self.ty_of(id)?).map_err(|e| {
                format!("invalid SPIR-V: OpenCL.std {name}: argument {arg} (%{id}): {e}")
            })?;
            let pointer_ok = pointers.is_none_or(|p| p.contains(&arg));
            if s.sc == Sc::Ptr && !pointer_ok {
                return Err(format!(
                    "invalid SPIR-V: OpenCL.std {name}: argument {arg} (%{id}) is {s}; {name} takes numbers there"
                ));
            }
        }
        Ok(())
    }

    /// Checks that an `OpLoad`'s result or an `OpStore`'s object has the type its pointer
    /// points to, or one laid out the same (types may be declared twice); loads from
    /// built-in variables are `builtin_access.rs`'s.
    pub(super) fn check_access_type(&mut self, inst: &Instance, i: &dr::Instruction) -> Res<()> {
        let op = i.class.opcode;
        let pid = op_id(i, 0)?;
        if matches!(self.val(inst, pid)?, V::Builtin(_) | V::BuiltinComp(..)) {
            return Ok(());
        }
        let (_, pointee) = self.ptr_info(pid)?;
        let (what, t) = if op == Op::Load {
            ("the result type".to_string(), result_type(i)?)
        } else {
            let v = op_id(i, 1)?;
            (format!("the object (%{v})"), self.ty_of(v)?)
        };
        if t == pointee || self.md.ty(t)? == self.md.ty(pointee)? {
            return Ok(());
        }
        let layout = |t: Word| self.md.leaves(t, MAX_VALUE_LEAVES).ok();
        match (layout(t), layout(pointee)) {
            (Some(a), Some(b)) if a == b => Ok(()),
            _ => Err(format!(
                "invalid SPIR-V: Op{op:?} through %{pid}: {what} is {:?}, the pointer points to {:?}",
                self.md.ty(t)?,
                self.md.ty(pointee)?
            )),
        }
    }
}
