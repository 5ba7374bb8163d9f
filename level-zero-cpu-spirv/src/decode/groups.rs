//! Group instructions: `OpGroupAsyncCopy` (`Inst::AsyncCopy`, done at once by the first
//! active lane; `Workgroup` scope only, `operands.rs`) and `OpGroupWaitEvents` (a fence),
//! both `Kernel`; the `Groups` capability's collectives (`OpGroupAll`, `OpGroupAny`,
//! `OpGroupBroadcast`, `OpGroupIAdd`, `OpGroupFAdd`, `OpGroupS/U/FMin`, `OpGroupS/U/FMax`)
//! and `GroupUniformArithmeticKHR`'s (`OpGroupIMulKHR`, `OpGroupFMulKHR`,
//! `OpGroupBitwise{And,Or,Xor}KHR`, `OpGroupLogical{And,Or,Xor}KHR`), at `Workgroup` or
//! `Subgroup` scope: `Inst::Group`. Sub-group instructions (`GroupNonUniform*`, Intel's
//! shuffles and block reads/writes) are in `subgroups.rs`.
//!
//! These collectives must be reached by every work-item of their group (uniform control
//! flow), so the lanes meet before one ([`Dec::group_sync`]: a work-group barrier, or a
//! sub-group meeting point, `Term::SubgroupSync`) and the interpreter computes it over the
//! whole group at once, checking that no live work-item is missing.

use super::control_flow::Cursor;
use super::{Dec, Instance, fk_of, int_bits, space_of};
use crate::ir::{Collective, GroupKind, GroupScope, Inst, Slot, Term};
use crate::module::{Res, Sc, op_id};
use crate::operands::ExecScope;
use crate::ops::{BinOp, FBin, Fk, mask};
use rspirv::dr;
use rspirv::spirv::{GroupOperation, Op, StorageClass};

/// The bits of a float constant of kind `k`: 0, 1, +inf or -inf.
fn float_bits(k: Fk, v: f64) -> u64 {
    match k {
        Fk::H => u64::from(half::f16::from_f64(v).to_bits()),
        Fk::S => u64::from((v as f32).to_bits()),
        Fk::D => v.to_bits(),
    }
}

/// The combining operation of an arithmetic collective on values of scalar type `sc`, and
/// its identity (what an exclusive scan gives the first member).
pub(super) fn arith(op: Op, sc: Sc) -> Res<(BinOp, u64)> {
    let w = int_bits(sc);
    let fk = || fk_of(sc);
    Ok(match op {
        Op::GroupIAdd | Op::GroupNonUniformIAdd => (BinOp::IAdd(mask(w)), 0),
        Op::GroupIMulKHR | Op::GroupNonUniformIMul => (BinOp::IMul(mask(w)), 1),
        Op::GroupFAdd | Op::GroupNonUniformFAdd => (BinOp::F(fk()?, FBin::Add), 0),
        Op::GroupFMulKHR | Op::GroupNonUniformFMul => {
            (BinOp::F(fk()?, FBin::Mul), float_bits(fk()?, 1.0))
        }
        Op::GroupSMin | Op::GroupNonUniformSMin => (BinOp::SMin(w), mask(w) >> 1),
        Op::GroupUMin | Op::GroupNonUniformUMin => (BinOp::UMin, mask(w)),
        Op::GroupFMin | Op::GroupNonUniformFMin => {
            (BinOp::F(fk()?, FBin::Min), float_bits(fk()?, f64::INFINITY))
        }
        Op::GroupSMax | Op::GroupNonUniformSMax => (BinOp::SMax(w), 1 << (w - 1)),
        Op::GroupUMax | Op::GroupNonUniformUMax => (BinOp::UMax, 0),
        Op::GroupFMax | Op::GroupNonUniformFMax => (
            BinOp::F(fk()?, FBin::Max),
            float_bits(fk()?, f64::NEG_INFINITY),
        ),
        Op::GroupBitwiseAndKHR | Op::GroupNonUniformBitwiseAnd => (BinOp::And, mask(w)),
        Op::GroupBitwiseOrKHR | Op::GroupNonUniformBitwiseOr => (BinOp::Or, 0),
        Op::GroupBitwiseXorKHR | Op::GroupNonUniformBitwiseXor => (BinOp::Xor, 0),
        Op::GroupLogicalAndKHR | Op::GroupNonUniformLogicalAnd => (BinOp::And, 1),
        Op::GroupLogicalOrKHR | Op::GroupNonUniformLogicalOr => (BinOp::Or, 0),
        Op::GroupLogicalXorKHR | Op::GroupNonUniformLogicalXor => (BinOp::Xor, 0),
        _ => {
            return Err(format!(
                "internal: Op{op:?} is not an arithmetic collective"
            ));
        }
    })
}

/// The kind of an arithmetic collective with group operation `g`.
pub(super) fn arith_kind(op: Op, g: GroupOperation, bin: BinOp, id: u64) -> Res<GroupKind> {
    Ok(match g {
        GroupOperation::Reduce => GroupKind::Reduce { op: bin, id },
        GroupOperation::InclusiveScan => GroupKind::InclusiveScan { op: bin, id },
        GroupOperation::ExclusiveScan => GroupKind::ExclusiveScan { op: bin, id },
        GroupOperation::ClusteredReduce => GroupKind::ClusteredReduce { op: bin, id },
        other => {
            return Err(format!("unsupported group operation {other:?} of Op{op:?}"));
        }
    })
}

/// The group operation literal operand `k` of `i`.
pub(super) fn group_operation(i: &dr::Instruction, k: usize) -> Res<GroupOperation> {
    match i.operands.get(k) {
        Some(dr::Operand::GroupOperation(g)) => Ok(*g),
        _ => Err(format!(
            "invalid SPIR-V: Op{:?} without a group operation",
            i.class.opcode
        )),
    }
}

/// Whether `op` is a `Groups`/`GroupUniformArithmeticKHR` collective.
fn is_uniform_group_op(op: Op) -> bool {
    matches!(
        op,
        Op::GroupAll
            | Op::GroupAny
            | Op::GroupBroadcast
            | Op::GroupIAdd
            | Op::GroupFAdd
            | Op::GroupFMin
            | Op::GroupUMin
            | Op::GroupSMin
            | Op::GroupFMax
            | Op::GroupUMax
            | Op::GroupSMax
            | Op::GroupIMulKHR
            | Op::GroupFMulKHR
            | Op::GroupBitwiseAndKHR
            | Op::GroupBitwiseOrKHR
            | Op::GroupBitwiseXorKHR
            | Op::GroupLogicalAndKHR
            | Op::GroupLogicalOrKHR
            | Op::GroupLogicalXorKHR
    )
}

/// The opcode's name, for messages (`Op` has no `'static` names of its own).
pub(super) fn op_name(op: Op) -> &'static str {
    macro_rules! names {
        ($($o:ident),*) => {
            match op {
                $(Op::$o => concat!("Op", stringify!($o)),)*
                _ => "a group instruction",
            }
        };
    }
    names!(
        GroupAll,
        GroupAny,
        GroupBroadcast,
        GroupIAdd,
        GroupFAdd,
        GroupFMin,
        GroupUMin,
        GroupSMin,
        GroupFMax,
        GroupUMax,
        GroupSMax,
        GroupIMulKHR,
        GroupFMulKHR,
        GroupBitwiseAndKHR,
        GroupBitwiseOrKHR,
        GroupBitwiseXorKHR,
        GroupLogicalAndKHR,
        GroupLogicalOrKHR,
        GroupLogicalXorKHR,
        GroupNonUniformElect,
        GroupNonUniformAll,
        GroupNonUniformAny,
        GroupNonUniformAllEqual,
        GroupNonUniformBroadcast,
        GroupNonUniformBroadcastFirst,
        GroupNonUniformBallot,
        GroupNonUniformInverseBallot,
        GroupNonUniformBallotBitExtract,
        GroupNonUniformBallotBitCount,
        GroupNonUniformBallotFindLSB,
        GroupNonUniformBallotFindMSB,
        GroupNonUniformShuffle,
        GroupNonUniformShuffleXor,
        GroupNonUniformShuffleUp,
        GroupNonUniformShuffleDown,
        GroupNonUniformIAdd,
        GroupNonUniformFAdd,
        GroupNonUniformIMul,
        GroupNonUniformFMul,
        GroupNonUniformSMin,
        GroupNonUniformUMin,
        GroupNonUniformFMin,
        GroupNonUniformSMax,
        GroupNonUniformUMax,
        GroupNonUniformFMax,
        GroupNonUniformBitwiseAnd,
        GroupNonUniformBitwiseOr,
        GroupNonUniformBitwiseXor,
        GroupNonUniformLogicalAnd,
        GroupNonUniformLogicalOr,
        GroupNonUniformLogicalXor,
        SubgroupShuffleINTEL,
        SubgroupShuffleDownINTEL,
        SubgroupShuffleUpINTEL,
        SubgroupShuffleXorINTEL
    )
}

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn groups(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let md = self.md;
        let op = i.class.opcode;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        match op {
            // Events complete at once (the copy is done when it is issued): a fence.
            Op::GroupWaitEvents => self.emit(Inst::Fence)?,
            Op::GroupAsyncCopy => {
                let (dp, sp) = (op_id(i, 1)?, op_id(i, 2)?);
                let (dsc, dt) = self.ptr_info(dp)?;
                let (ssc, _) = self.ptr_info(sp)?;
                let esize = u32::try_from(md.stride(dt)?).map_err(|_| "element too large")?;
                let (dst, src, n, stride) = (a!(1), a!(2), a!(3), a!(4));
                let site = self.site();
                self.emit(Inst::AsyncCopy {
                    d: d()?,
                    dst,
                    src,
                    n,
                    stride,
                    esize,
                    dst_strided: dsc != StorageClass::Workgroup,
                    dspace: space_of(dsc)?,
                    sspace: space_of(ssc)?,
                    site,
                })?;
            }
            _ if is_uniform_group_op(op) => {
                let scope = match crate::operands::execution_scope(md, i, 0)? {
                    ExecScope::Workgroup => GroupScope::Workgroup,
                    ExecScope::Subgroup => GroupScope::Subgroup,
                };
                let zero = self.zero()?;
                let rt = i.result_type.ok_or("invalid SPIR-V: missing result type")?;
                let n = md.width(rt)?;
                let (kind, x, b, nb) = match op {
                    Op::GroupAll => (GroupKind::All, a!(1), zero, 1),
                    Op::GroupAny => (GroupKind::Any, a!(1), zero, 1),
                    Op::GroupBroadcast => {
                        let lid = op_id(i, 2)?;
                        let nb = md.width(self.ty_of(lid)?)?;
                        if nb > 3 || (scope == GroupScope::Subgroup && nb != 1) {
                            return Err(format!(
                                "invalid SPIR-V: OpGroupBroadcast with a {nb}-component local id"
                            ));
                        }
                        (GroupKind::Broadcast, a!(1), a!(2), nb)
                    }
                    _ => {
                        let g = group_operation(i, 1)?;
                        if g == GroupOperation::ClusteredReduce {
                            return Err(format!(
                                "invalid SPIR-V: {} with ClusteredReduce (a GroupNonUniform operation)",
                                op_name(op)
                            ));
                        }
                        let (bin, id) = arith(op, md.scalar(rt)?)?;
                        (arith_kind(op, g, bin, id)?, a!(2), zero, 1)
                    }
                };
                self.emit(Inst::Group(Box::new(Collective {
                    kind,
                    scope,
                    uniform: true,
                    d: d()?,
                    a: x,
                    b,
                    c: zero,
                    n,
                    nb,
                    name: op_name(op),
                })))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Where lanes must meet before `i`: the work-group or sub-group of a collective every
    /// work-item of its group must reach (see the module documentation); `None` otherwise.
    pub(super) fn group_sync(&self, i: &dr::Instruction) -> Res<Option<GroupScope>> {
        let op = i.class.opcode;
        if is_uniform_group_op(op) {
            return Ok(Some(
                match crate::operands::execution_scope(self.md, i, 0)? {
                    ExecScope::Workgroup => GroupScope::Workgroup,
                    ExecScope::Subgroup => GroupScope::Subgroup,
                },
            ));
        }
        Ok(super::subgroups::is_intel_shuffle(op).then_some(GroupScope::Subgroup))
    }

    /// Ends the current block so that lanes meet before the next instruction: at a
    /// work-group barrier, or at a sub-group meeting point.
    pub(super) fn meet(&mut self, scope: GroupScope, at: &mut Cursor) -> Res<()> {
        let next = self.new_block();
        let term = match scope {
            GroupScope::Workgroup => Term::Barrier(next),
            GroupScope::Subgroup => Term::SubgroupSync(next),
        };
        self.finish(at.cur, at.start, term)?;
        self.code.has_barrier = true;
        at.cur = next;
        at.start = self.code.insts.len() as u32;
        Ok(())
    }
}
