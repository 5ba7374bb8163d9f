//! The conversion decorations, `SaturatedConversion` and `FPRoundingMode`: which
//! instructions they may decorate (anything else fails the build, naming the instruction:
//! a decoration the engine would not act on must never be dropped silently), and the integer
//! conversions they change. Resolved at decode time: the interpreter runs one `UnOp` per
//! conversion either way.
//!
//! - `SaturatedConversion` on `OpConvertFToU`/`OpConvertFToS` (the engine's float-to-integer
//!   conversions always saturate, which is also what an out-of-range unsaturated
//!   conversion, undefined in OpenCL, may do), on `OpSConvert`/`OpUConvert` (what the
//!   LLVM/SPIR-V translator emits for `convert_char_sat(int)`, `convert_uchar_sat(uint)`:
//!   the result is clamped to its type's range), and on `OpSatConvertSToU`/`UToS` (already
//!   saturating).
//! - `FPRoundingMode` on the float conversions (`OpFConvert`, `OpConvertFToU/S`,
//!   `OpConvertSToF/UToF`), where it selects the rounding, and on the integer-to-integer
//!   conversions (`convert_char_rte(int)` is valid OpenCL C), where there is nothing to round.

use crate::module::{Mod, Res, result};
use crate::ops::{UnOp, mask};
use rspirv::spirv::{Op, Word};
use std::collections::{HashMap, HashSet};

const SATURATED: &[Op] = &[
    Op::ConvertFToU,
    Op::ConvertFToS,
    Op::SConvert,
    Op::UConvert,
    Op::SatConvertSToU,
    Op::SatConvertUToS,
];

const ROUNDED: &[Op] = &[
    Op::FConvert,
    Op::ConvertFToU,
    Op::ConvertFToS,
    Op::ConvertSToF,
    Op::ConvertUToF,
    Op::SConvert,
    Op::UConvert,
    Op::SatConvertSToU,
    Op::SatConvertUToS,
];

/// Checks that every `SaturatedConversion` and `FPRoundingMode` decorates an instruction
/// the engine honours it on.
pub(crate) fn check_targets(md: &Mod<'_>) -> Res<()> {
    if md.saturated.is_empty() && md.rounding.is_empty() {
        return Ok(());
    }
    let mut op_of: HashMap<Word, Op> = HashMap::new();
    for f in &md.m.functions {
        for b in &f.blocks {
            for i in &b.instructions {
                if let Some(r) = i.result_id {
                    op_of.insert(r, i.class.opcode);
                }
            }
        }
    }
    // A decoration group's own id carries the decorations it hands out.
    let mut groups = HashSet::new();
    for i in &md.m.annotations {
        if i.class.opcode == Op::DecorationGroup {
            groups.insert(result(i)?);
        }
    }
    let check = |t: Word, name: &str, allowed: &[Op]| -> Res<()> {
        if groups.contains(&t) {
            return Ok(());
        }
        match op_of.get(&t) {
            Some(op) if allowed.contains(op) => Ok(()),
            Some(op) => Err(format!(
                "unsupported decoration {name} on Op{op:?} {} (the engine honours it on conversions only)",
                md.name(t)
            )),
            None => Err(format!(
                "unsupported decoration {name} on {}, which is not a conversion instruction",
                md.name(t)
            )),
        }
    };
    let mut sat: Vec<Word> = md.saturated.iter().copied().collect();
    sat.sort_unstable();
    for t in sat {
        check(t, "SaturatedConversion", SATURATED)?;
    }
    let mut rounded: Vec<Word> = md.rounding.keys().copied().collect();
    rounded.sort_unstable();
    for t in rounded {
        check(t, "FPRoundingMode", ROUNDED)?;
    }
    Ok(())
}

/// The operation of an `OpSConvert` (`signed`) or `OpUConvert` with result id `r`, from
/// `from` to `to` bits, saturating when decorated so.
pub(crate) fn int_convert(md: &Mod<'_>, r: Word, signed: bool, from: u8, to: u8) -> UnOp {
    let sat = md.saturated.contains(&r) && to < from;
    match (signed, sat) {
        (true, true) => UnOp::SatSToS(from, to),
        (true, false) => UnOp::Sext(from, to),
        (false, true) => UnOp::SatUToU(to),
        (false, false) => UnOp::Mask(mask(to)),
    }
}
