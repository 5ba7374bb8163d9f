//! Instruction operands that change what an instruction means, checked once per module
//! (every function, reachable or not) so that a value the engine would not honour fails the
//! build naming the instruction and the operand, never runs as something else:
//!
//! - memory-access masks (`OpLoad`, `OpStore`, `OpCopyMemory[Sized]`): `Volatile` (every
//!   access is performed, in program order per work-item), `Aligned` and `Nontemporal`
//!   (hints) are honoured, and so are `SPV_INTEL_memory_access_aliasing`'s
//!   `AliasScopeINTELMask` and `NoAliasINTELMask` (promises that accesses do not alias,
//!   which only permit reordering: the engine performs every access in order), whose id
//!   operands must name an `OpAliasScopeListDeclINTEL`; the Vulkan memory model's
//!   availability and visibility bits are refused;
//! - `SPV_INTEL_memory_access_aliasing`'s declarations (at module scope only) and
//!   decorations (`AliasScopeINTEL`, `NoAliasINTEL`: their id must name a scope list);
//! - function controls: `Inline`, `DontInline`, `Pure`, `Const` and `OptNoneINTEL` are
//!   hints (the engine neither inlines nor optimises across calls), any other bit is refused;
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
use rspirv::spirv::{Decoration, FPRoundingMode, FunctionControl, MemoryAccess, Op};

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

/// Records one of `SPV_INTEL_memory_access_aliasing`'s module-scope declarations after
/// checking its operands: a domain has an optional name; a scope names a declared domain
/// (and an optional name); a list names declared scopes.
pub(crate) fn alias_decl(md: &mut Mod<'_>, i: &dr::Instruction) -> Res<()> {
    let op = i.class.opcode;
    let r = crate::module::result(i)?;
    let refs = |from: usize, want: Op| -> Res<()> {
        for k in from..i.operands.len() {
            let id = op_id(i, k)?;
            if md.alias_decls.get(&id) != Some(&want) {
                return Err(format!(
                    "invalid SPIR-V: operand {k} (%{id}) of Op{op:?} %{r} is not the result of an Op{want:?}"
                ));
            }
        }
        Ok(())
    };
    match op {
        // Optional <id> Name: any id (it only makes the domain unique across modules).
        Op::AliasDomainDeclINTEL if i.operands.len() <= 1 => {}
        Op::AliasScopeDeclINTEL if (1..=2).contains(&i.operands.len()) => {
            // AliasDomain, then the optional Name.
            let d = op_id(i, 0)?;
            if md.alias_decls.get(&d) != Some(&Op::AliasDomainDeclINTEL) {
                return Err(format!(
                    "invalid SPIR-V: the domain %{d} of OpAliasScopeDeclINTEL %{r} is not the result of an OpAliasDomainDeclINTEL"
                ));
            }
        }
        Op::AliasScopeListDeclINTEL => refs(0, Op::AliasScopeDeclINTEL)?,
        _ => {
            return Err(format!(
                "invalid SPIR-V: Op{op:?} %{r} with {} operands",
                i.operands.len()
            ));
        }
    }
    if md.alias_decls.insert(r, op).is_some() {
        return Err(format!("invalid SPIR-V: %{r} is declared twice"));
    }
    Ok(())
}

/// An aliasing-scope-list id operand (of a memory operand or a decoration): must be the
/// result of an `OpAliasScopeListDeclINTEL`.
fn alias_list(md: &Mod<'_>, id: u32, what: &str) -> Res<()> {
    if md.alias_decls.get(&id) == Some(&Op::AliasScopeListDeclINTEL) {
        Ok(())
    } else {
        Err(format!(
            "invalid SPIR-V: the aliasing scope list %{id} of {what} is not the result of an OpAliasScopeListDeclINTEL"
        ))
    }
}

/// Function controls that are hints: the engine neither inlines (every call runs as a call
/// of the function as written) nor optimises, so `OptNoneINTEL` (`SPV_INTEL_optnone`,
/// `SPV_EXT_optnone`) holds too; `Pure` and `Const` are promises a correct program keeps.
const FUNCTION_CONTROL_HINTS: FunctionControl = FunctionControl::INLINE
    .union(FunctionControl::DONT_INLINE)
    .union(FunctionControl::PURE)
    .union(FunctionControl::CONST)
    .union(FunctionControl::OPT_NONE_EXT);

/// Checks the operands above in every function of the module.
pub(crate) fn check_module(md: &Mod<'_>) -> Res<()> {
    for i in &md.m.annotations {
        let at = match i.class.opcode {
            Op::Decorate | Op::DecorateId => 1,
            Op::MemberDecorate => 2,
            _ => continue,
        };
        if let Some(Operand::Decoration(
            d @ (Decoration::AliasScopeINTEL | Decoration::NoAliasINTEL),
        )) = i.operands.get(at)
        {
            let t = op_id(i, 0)?;
            let list = op_id(i, at + 1)?;
            alias_list(md, list, &format!("decoration {d:?} on %{t}"))?;
        }
    }
    for f in &md.m.functions {
        if let Some(def) = &f.def {
            match def.operands.first() {
                Some(Operand::FunctionControl(c)) if FUNCTION_CONTROL_HINTS.contains(*c) => {}
                Some(Operand::FunctionControl(c)) => {
                    return Err(format!(
                        "unsupported function control {:?} of OpFunction %{}",
                        c.difference(FUNCTION_CONTROL_HINTS),
                        def.result_id.unwrap_or(0)
                    ));
                }
                _ => return Err("invalid SPIR-V: malformed OpFunction".into()),
            }
        }
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
            let honoured = MemoryAccess::VOLATILE
                | MemoryAccess::ALIGNED
                | MemoryAccess::NONTEMPORAL
                | MemoryAccess::ALIAS_SCOPE_INTEL_MASK
                | MemoryAccess::NO_ALIAS_INTEL_MASK;
            let mut masks = false;
            for o in &i.operands {
                match o {
                    Operand::MemoryAccess(m) if !honoured.contains(*m) => {
                        return Err(format!(
                            "unsupported memory operand {:?} of Op{op:?}",
                            m.difference(honoured)
                        ));
                    }
                    Operand::MemoryAccess(_) => masks = true,
                    // After the first mask, the only <id> operands of the honoured bits are
                    // the aliasing masks' scope lists (`Aligned` takes a literal).
                    Operand::IdRef(id) if masks => {
                        alias_list(md, *id, &format!("a memory operand of Op{op:?}"))?
                    }
                    _ => {}
                }
            }
        }
        Op::AliasDomainDeclINTEL | Op::AliasScopeDeclINTEL | Op::AliasScopeListDeclINTEL => {
            return Err(format!(
                "invalid SPIR-V: Op{op:?} inside a function (SPV_INTEL_memory_access_aliasing declares it at module scope)"
            ));
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
