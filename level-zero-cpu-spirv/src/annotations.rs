//! Decorations and execution modes the engine accepts without acting on them, listed
//! explicitly: whatever is not implemented and not in these lists fails the build, naming it
//! (a decoration or mode that changes semantics must never be ignored silently).
//!
//! Implemented elsewhere: `BuiltIn` (builtins.rs), `FuncParamAttr ByVal`,
//! `SaturatedConversion`, `FPRoundingMode`, `CPacked`, `SpecId` (module.rs),
//! `LinkageAttributes` (linkage.rs), `ReferencedIndirectlyINTEL` (module.rs: the function's
//! address may be taken); the `LocalSize`, `LocalSizeId` and `SubgroupSize` execution modes.

use crate::module::{Res, op_id};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{Decoration, ExecutionMode, FunctionParameterAttribute, Op};

/// Decorations that are hints: promises about aliasing, alignment, overflow, precision or
/// access that a correct program keeps, so an interpreter that ignores them computes the
/// same results.
const HINTS: &[Decoration] = &[
    Decoration::Alignment,
    Decoration::AlignmentId,
    Decoration::MaxByteOffset,
    Decoration::MaxByteOffsetId,
    Decoration::Restrict,
    Decoration::Aliased,
    Decoration::RestrictPointer,
    Decoration::AliasedPointer,
    // Every access is performed, in program order per work-item.
    Decoration::Volatile,
    Decoration::Coherent,
    Decoration::NonWritable,
    Decoration::NonReadable,
    Decoration::Constant,
    Decoration::NoSignedWrap,
    Decoration::NoUnsignedWrap,
    // Allows less precise results; the engine is exact.
    Decoration::FPFastMathMode,
    // The engine never contracts.
    Decoration::NoContraction,
    Decoration::Uniform,
    Decoration::UniformId,
    Decoration::UserSemantic,
    // `SPV_INTEL_memory_access_aliasing` (on calls and atomics; their id must name an
    // `OpAliasScopeListDeclINTEL`, checked in operands.rs): promises that accesses do not
    // alias, which only permit reordering; the engine performs every access in order.
    Decoration::AliasScopeINTEL,
    Decoration::NoAliasINTEL,
];

/// `FuncParamAttr` values that are hints (ByVal is implemented).
const PARAM_HINTS: &[FunctionParameterAttribute] = &[
    FunctionParameterAttribute::Zext,
    FunctionParameterAttribute::Sext,
    FunctionParameterAttribute::Sret,
    FunctionParameterAttribute::NoAlias,
    FunctionParameterAttribute::NoCapture,
    FunctionParameterAttribute::NoWrite,
    FunctionParameterAttribute::NoReadWrite,
];

/// Execution modes that do not change what a kernel computes here.
const MODE_HINTS: &[ExecutionMode] = &[
    ExecutionMode::LocalSizeHint,
    ExecutionMode::LocalSizeHintId,
    ExecutionMode::VecTypeHint,
    // The engine never contracts, preserves denormals, signed zeros, infinities and NaNs,
    // and rounds to nearest even by default.
    ExecutionMode::ContractionOff,
    ExecutionMode::SignedZeroInfNanPreserve,
    ExecutionMode::DenormPreserve,
    ExecutionMode::RoundingModeRTE,
];

/// A decoration that module.rs does not implement: accepted if it is a hint.
pub(crate) fn other_decoration(d: Decoration, t: u32) -> Res<()> {
    if HINTS.contains(&d) {
        Ok(())
    } else {
        Err(format!("unsupported decoration {d:?} on %{t}"))
    }
}

/// A `FuncParamAttr` other than ByVal: accepted if it is a hint.
pub(crate) fn param_attr(i: &dr::Instruction, t: u32) -> Res<()> {
    match i.operands.get(2) {
        Some(Operand::FunctionParameterAttribute(a)) if PARAM_HINTS.contains(a) => Ok(()),
        other => Err(format!(
            "unsupported function parameter attribute {other:?} on %{t}"
        )),
    }
}

/// The annotation instructions module.rs does not read (member decorations, id and string
/// decorations, group member decorations): accepted only when they are hints.
pub(crate) fn check_annotations(m: &dr::Module) -> Res<()> {
    for i in &m.annotations {
        let op = i.class.opcode;
        let at = match op {
            Op::Decorate | Op::DecorationGroup | Op::GroupDecorate => continue,
            Op::MemberDecorate | Op::MemberDecorateString => 2,
            Op::DecorateId | Op::DecorateString => 1,
            _ => {
                return Err(format!("unsupported annotation instruction Op{op:?}"));
            }
        };
        let t = op_id(i, 0).unwrap_or(0);
        match i.operands.get(at) {
            Some(Operand::Decoration(d)) if HINTS.contains(d) => {}
            Some(Operand::Decoration(d)) => {
                return Err(format!("unsupported decoration {d:?} (Op{op:?}) on %{t}"));
            }
            _ => return Err(format!("invalid SPIR-V: malformed Op{op:?}")),
        }
    }
    Ok(())
}

/// Execution modes: `LocalSize`, `LocalSizeId` and `SubgroupSize` are implemented, the hints
/// are accepted, others refused.
pub(crate) fn check_mode(i: &dr::Instruction) -> Res<()> {
    match i.operands.get(1) {
        Some(Operand::ExecutionMode(
            ExecutionMode::LocalSize | ExecutionMode::LocalSizeId | ExecutionMode::SubgroupSize,
        )) => Ok(()),
        Some(Operand::ExecutionMode(m)) if MODE_HINTS.contains(m) => Ok(()),
        Some(Operand::ExecutionMode(m)) => Err(format!("unsupported execution mode {m:?}")),
        _ => Err("invalid SPIR-V: malformed OpExecutionMode".into()),
    }
}
