//! Instruction operands that change what an instruction means, checked once per module
//! (every function, reachable or not) so that a value the engine would not honour fails the
//! build naming the instruction and the operand, never runs as something else:
//!
//! - memory-access masks (`OpLoad`, `OpStore`, `OpCopyMemory[Sized]`): `Volatile` (every
//!   access is performed, in program order per work-item), `Aligned` and `Nontemporal`
//!   (hints) are honoured; the Vulkan memory model's availability and visibility bits and
//!   the Intel aliasing masks are refused;
//! - execution scopes: `OpControlBarrier` at `Workgroup` (a barrier) or `Subgroup` (a sub-group
//!   is one work-item here: a fence); `OpGroupAsyncCopy` and `OpGroupWaitEvents` at
//!   `Workgroup`; anything else, or a scope that is not a constant, is refused;
//! - the rounding-mode operand of OpenCL.std `vstore_half_r` and friends.
//!
//! Memory scopes and semantics of atomics and fences are not checked: the engine performs
//! every atomic and fence sequentially consistent and device-wide, which is at least as
//! strong as any scope and semantics a kernel can ask for.

use crate::module::{Mod, Res, op_id};
use crate::ops::Rm;
use rspirv::dr::{self, Operand};
use rspirv::spirv::{FPRoundingMode, MemoryAccess, Op};

/// What an execution scope means here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExecScope {
    Workgroup,
    /// A sub-group is one work-item.
    Subgroup,
}

/// The SPIR-V name of scope value `v`.
fn scope_name(v: u64) -> String {
    match v {
        0 => "CrossDevice".into(),
        1 => "Device".into(),
        2 => "Workgroup".into(),
        3 => "Subgroup".into(),
        4 => "Invocation".into(),
        5 => "QueueFamily".into(),
        6 => "ShaderCallKHR".into(),
        other => format!("{other}"),
    }
}

/// The execution scope operand `k` of `i`: a constant `Workgroup` or `Subgroup`.
pub(crate) fn execution_scope(md: &Mod<'_>, i: &dr::Instruction, k: usize) -> Res<ExecScope> {
    let op = i.class.opcode;
    let id = op_id(i, k)?;
    match md.consts.get(&id).and_then(|v| v.first().copied()) {
        Some(2) => Ok(ExecScope::Workgroup),
        Some(3) => Ok(ExecScope::Subgroup),
        Some(v) => Err(format!(
            "unsupported execution scope {} of Op{op:?} (OpenCL work-items synchronise at Workgroup or Subgroup scope)",
            scope_name(v)
        )),
        None => Err(format!(
            "unsupported execution scope %{id} of Op{op:?}: not a constant"
        )),
    }
}

/// Checks the operands above in every function of the module.
pub(crate) fn check_module(md: &Mod<'_>) -> Res<()> {
    for f in &md.m.functions {
        for b in &f.blocks {
            for i in &b.instructions {
                check(md, i)?;
            }
        }
    }
    Ok(())
}

fn check(md: &Mod<'_>, i: &dr::Instruction) -> Res<()> {
    let op = i.class.opcode;
    match op {
        Op::Load | Op::Store | Op::CopyMemory | Op::CopyMemorySized => {
            let honoured =
                MemoryAccess::VOLATILE | MemoryAccess::ALIGNED | MemoryAccess::NONTEMPORAL;
            for o in &i.operands {
                if let Operand::MemoryAccess(m) = o
                    && !honoured.contains(*m)
                {
                    return Err(format!(
                        "unsupported memory operand {:?} of Op{op:?}",
                        m.difference(honoured)
                    ));
                }
            }
        }
        Op::ControlBarrier => {
            execution_scope(md, i, 0)?;
        }
        Op::GroupAsyncCopy | Op::GroupWaitEvents
            if execution_scope(md, i, 0)? != ExecScope::Workgroup =>
        {
            return Err(format!(
                "unsupported execution scope Subgroup of Op{op:?} (only work-group copies are implemented)"
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The rounding-mode operand of `vstore_half_r`, `vstore_halfn_r`, `vstorea_halfn_r` (an
/// `FPRoundingMode` enumerant: 0 RTE, 1 RTZ, 2 RTP, 3 RTN); anything else is refused.
pub(crate) fn rounding_operand(name: &str, o: Option<&Operand>) -> Res<Rm> {
    let v = match o {
        Some(Operand::FPRoundingMode(r)) => *r as u32,
        // rspirv parses an extended instruction's operands as ids, whatever their kind: the
        // mode arrives as `IdRef(mode)` (the old decoder's fallback then rounded every
        // `vstore_half_rtz`/`_rtp`/`_rtn` to nearest even).
        Some(Operand::IdRef(r) | Operand::LiteralExtInstInteger(r) | Operand::LiteralBit32(r)) => {
            *r
        }
        other => {
            return Err(format!(
                "invalid SPIR-V: OpenCL.std {name} without a rounding mode ({other:?})"
            ));
        }
    };
    Ok(match v {
        x if x == FPRoundingMode::RTE as u32 => Rm::Rte,
        x if x == FPRoundingMode::RTZ as u32 => Rm::Rtz,
        x if x == FPRoundingMode::RTP as u32 => Rm::Rtp,
        x if x == FPRoundingMode::RTN as u32 => Rm::Rtn,
        other => {
            return Err(format!(
                "unsupported rounding mode {other} of OpenCL.std {name}"
            ));
        }
    })
}
