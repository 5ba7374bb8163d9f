//! Sub-group instructions: the `GroupNonUniform*` capabilities (SPIR-V 1.3:
//! `OpGroupNonUniformElect`, `All`, `Any`, `AllEqual`, `Broadcast`, `BroadcastFirst`,
//! `Ballot`, `InverseBallot`, `BallotBitExtract`, `BallotBitCount`, `BallotFindLSB/MSB`,
//! `Shuffle`, `ShuffleXor`, `ShuffleUp`, `ShuffleDown`, and the arithmetic ones with
//! `Reduce`, `InclusiveScan`, `ExclusiveScan` and `ClusteredReduce`), at `Subgroup` scope
//! (the OpenCL environment allows no other), over the lanes of the sub-group that reach
//! them together: `Inst::Group` with `uniform: false`. And `SubgroupShuffleINTEL`
//! (`OpSubgroupShuffle{,Down,Up,Xor}INTEL`: every work-item of the sub-group reaches them,
//! so lanes meet before one, `Dec::group_sync`) and `SubgroupBufferBlockIOINTEL`
//! (`OpSubgroupBlockReadINTEL`/`WriteINTEL`: member `l` of the sub-group accesses element
//! `k * size + l` of component `k`, decoded as ordinary checked loads and stores at those
//! addresses; the sub-group size is fixed per kernel at decode time).

use super::groups::{arith, arith_kind, group_operation, op_name};
use super::{Dec, Instance, space_of};
use crate::ir::{Builtin, Collective, GroupKind, GroupScope, Inst, Slot};
use crate::module::{Res, Sc, op_id};
use crate::operands::ExecScope;
use crate::ops::{BinOp, Cmp};
use rspirv::dr;
use rspirv::spirv::{GroupOperation, Op};

/// Whether `op` is one of Intel's sub-group shuffles (every member must reach it).
pub(super) fn is_intel_shuffle(op: Op) -> bool {
    matches!(
        op,
        Op::SubgroupShuffleINTEL
            | Op::SubgroupShuffleDownINTEL
            | Op::SubgroupShuffleUpINTEL
            | Op::SubgroupShuffleXorINTEL
    )
}

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn subgroups(
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
        let name = op_name(op);
        match op {
            Op::SubgroupBlockReadINTEL => {
                let rt = i.result_type.ok_or("invalid SPIR-V: missing result type")?;
                let p = a!(0);
                let d = d()?;
                self.block_io(op_id(i, 0)?, p, d, md.width(rt)?, md.scalar(rt)?, false)?;
                return Ok(true);
            }
            Op::SubgroupBlockWriteINTEL => {
                let data = op_id(i, 1)?;
                let (p, v) = (a!(0), a!(1));
                let sc = md.scalar(self.ty_of(data)?)?;
                let n = md.width(self.ty_of(data)?)?;
                self.block_io(op_id(i, 0)?, p, v, n, sc, true)?;
                return Ok(true);
            }
            _ => {}
        }
        let intel = is_intel_shuffle(op);
        let non_uniform = matches!(
            op,
            Op::GroupNonUniformElect
                | Op::GroupNonUniformAll
                | Op::GroupNonUniformAny
                | Op::GroupNonUniformAllEqual
                | Op::GroupNonUniformBroadcast
                | Op::GroupNonUniformBroadcastFirst
                | Op::GroupNonUniformBallot
                | Op::GroupNonUniformInverseBallot
                | Op::GroupNonUniformBallotBitExtract
                | Op::GroupNonUniformBallotBitCount
                | Op::GroupNonUniformBallotFindLSB
                | Op::GroupNonUniformBallotFindMSB
                | Op::GroupNonUniformShuffle
                | Op::GroupNonUniformShuffleXor
                | Op::GroupNonUniformShuffleUp
                | Op::GroupNonUniformShuffleDown
                | Op::GroupNonUniformIAdd
                | Op::GroupNonUniformFAdd
                | Op::GroupNonUniformIMul
                | Op::GroupNonUniformFMul
                | Op::GroupNonUniformSMin
                | Op::GroupNonUniformUMin
                | Op::GroupNonUniformFMin
                | Op::GroupNonUniformSMax
                | Op::GroupNonUniformUMax
                | Op::GroupNonUniformFMax
                | Op::GroupNonUniformBitwiseAnd
                | Op::GroupNonUniformBitwiseOr
                | Op::GroupNonUniformBitwiseXor
                | Op::GroupNonUniformLogicalAnd
                | Op::GroupNonUniformLogicalOr
                | Op::GroupNonUniformLogicalXor
        );
        if !intel && !non_uniform {
            return Ok(false);
        }
        // The value operands start after the scope (GroupNonUniform) or at 0 (Intel's).
        let first = if intel {
            0
        } else {
            if crate::operands::execution_scope(md, i, 0)? != ExecScope::Subgroup {
                return Err(format!(
                    "unsupported execution scope Workgroup of {name} (the OpenCL environment allows non-uniform group operations at Subgroup scope only)"
                ));
            }
            1
        };
        let zero = self.zero()?;
        let rt = i.result_type.ok_or("invalid SPIR-V: missing result type")?;
        let mut n = md.width(rt)?;
        let (kind, x, b, c) = match op {
            Op::GroupNonUniformElect => (GroupKind::Elect, zero, zero, zero),
            Op::GroupNonUniformAll => (GroupKind::All, a!(first), zero, zero),
            Op::GroupNonUniformAny => (GroupKind::Any, a!(first), zero, zero),
            Op::GroupNonUniformAllEqual => {
                let v = op_id(i, first)?;
                n = md.width(self.ty_of(v)?)?;
                let eq = match md.scalar(self.ty_of(v)?)? {
                    Sc::Float(k) => BinOp::FCmp(k, Cmp::Eq, true),
                    _ => BinOp::IEq,
                };
                (GroupKind::AllEqual { eq }, a!(first), zero, zero)
            }
            Op::GroupNonUniformBroadcast => (GroupKind::Broadcast, a!(first), a!(first + 1), zero),
            Op::GroupNonUniformBroadcastFirst => (GroupKind::BroadcastFirst, a!(first), zero, zero),
            Op::GroupNonUniformBallot => (GroupKind::Ballot, a!(first), zero, zero),
            Op::GroupNonUniformInverseBallot => (GroupKind::InverseBallot, a!(first), zero, zero),
            Op::GroupNonUniformBallotBitExtract => {
                (GroupKind::BallotBitExtract, a!(first), a!(first + 1), zero)
            }
            Op::GroupNonUniformBallotBitCount => {
                let kind = match group_operation(i, first)? {
                    GroupOperation::Reduce => crate::ir::ScanKind::Reduce,
                    GroupOperation::InclusiveScan => crate::ir::ScanKind::Inclusive,
                    GroupOperation::ExclusiveScan => crate::ir::ScanKind::Exclusive,
                    other => {
                        return Err(format!("unsupported group operation {other:?} of {name}"));
                    }
                };
                (GroupKind::BallotBitCount(kind), a!(first + 1), zero, zero)
            }
            Op::GroupNonUniformBallotFindLSB => (GroupKind::BallotFindLsb, a!(first), zero, zero),
            Op::GroupNonUniformBallotFindMSB => (GroupKind::BallotFindMsb, a!(first), zero, zero),
            Op::GroupNonUniformShuffle | Op::SubgroupShuffleINTEL => {
                (GroupKind::Shuffle, a!(first), a!(first + 1), zero)
            }
            Op::GroupNonUniformShuffleXor | Op::SubgroupShuffleXorINTEL => {
                (GroupKind::ShuffleXor, a!(first), a!(first + 1), zero)
            }
            Op::GroupNonUniformShuffleUp => (GroupKind::ShuffleUp, a!(first), a!(first + 1), zero),
            Op::GroupNonUniformShuffleDown => {
                (GroupKind::ShuffleDown, a!(first), a!(first + 1), zero)
            }
            Op::SubgroupShuffleDownINTEL => (GroupKind::IntelShuffleDown, a!(0), a!(1), a!(2)),
            Op::SubgroupShuffleUpINTEL => (GroupKind::IntelShuffleUp, a!(0), a!(1), a!(2)),
            _ => {
                // The arithmetic ones: scope, group operation, value[, cluster size].
                let g = group_operation(i, first)?;
                let (bin, id) = arith(op, md.scalar(rt)?)?;
                let kind = arith_kind(op, g, bin, id)?;
                let cluster = if g == GroupOperation::ClusteredReduce {
                    let cid = op_id(i, first + 2)?;
                    match md.consts.get(&cid).and_then(|v| v.first().copied()) {
                        Some(cs) if cs.is_power_of_two() => {}
                        _ => {
                            return Err(format!(
                                "invalid SPIR-V: the cluster size of {name} must be a constant power of two"
                            ));
                        }
                    }
                    a!(first + 2)
                } else {
                    zero
                };
                (kind, a!(first + 1), cluster, zero)
            }
        };
        self.emit(Inst::Group(Box::new(Collective {
            kind,
            scope: GroupScope::Subgroup,
            uniform: intel,
            d: d()?,
            a: x,
            b,
            c,
            n,
            nb: 1,
            name,
        })))?;
        Ok(true)
    }

    /// `OpSubgroupBlockReadINTEL` (`write`: false; `v` is the result) or
    /// `OpSubgroupBlockWriteINTEL` (`v` is the data): `n` components of scalar type `sc`;
    /// member `l` of the sub-group accesses element `k * size + l` of `p` for component `k`.
    fn block_io(&mut self, pid: u32, p: Slot, v: Slot, n: u16, sc: Sc, write: bool) -> Res<()> {
        let (class, _) = self.ptr_info(pid)?;
        let space = space_of(class)?;
        let size = sc.bytes();
        if !matches!(size, 1 | 2 | 4 | 8)
            || matches!(sc, Sc::Bool | Sc::Ptr)
            || matches!(sc, Sc::Int(w) if !crate::module::standard_width(w))
        {
            return Err(format!(
                "unsupported element type {sc:?} of a sub-group block {}",
                if write { "write" } else { "read" }
            ));
        }
        let lid = self.alloc(1)?;
        self.emit(Inst::Builtin {
            d: lid,
            b: Builtin::SubgroupLocalId,
            n: 1,
            comp: None,
        })?;
        let s = i64::from(self.code.subgroup_size);
        for k in 0..n {
            let addr = self.alloc(1)?;
            let at = self.code.gep_terms.len() as u32;
            self.code.gep_terms.push((lid, i64::from(size), 32));
            self.emit(Inst::Gep {
                d: addr,
                base: p,
                off: i64::from(k) * s * i64::from(size),
                at,
                len: 1,
            })?;
            let site = self.site();
            let comp = v + u32::from(k);
            self.emit(if write {
                Inst::Store {
                    p: addr,
                    v: comp,
                    size,
                    n: 1,
                    stride: u16::from(size),
                    space,
                    site,
                }
            } else {
                Inst::Load {
                    d: comp,
                    p: addr,
                    size,
                    n: 1,
                    stride: u16::from(size),
                    space,
                    site,
                }
            })?;
        }
        Ok(())
    }
}
