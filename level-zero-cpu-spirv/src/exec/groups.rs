//! Group instructions: `OpGroupAsyncCopy` (`Inst::AsyncCopy`), done at once by the first
//! active lane; `OpGroupWaitEvents` is a fence. And every collective (`Inst::Group`: the
//! `Groups` capability, `GroupUniformArithmeticKHR`, `GroupNonUniform*`,
//! `SubgroupShuffleINTEL`), computed across the lanes of `act` that share a group: the
//! work-group, or a sub-group (consecutive local linear ids of the kernel's sub-group
//! size). Members are ordered by local linear id (= sub-group local id within a
//! sub-group), and reductions and scans combine them in that order: one of the orders
//! OpenCL allows, so float results are those of a left-to-right evaluation (exact for the
//! integer-valued floats the tests use).
//!
//! A collective every member must reach (`Collective::uniform`) was preceded by a meeting
//! point (see `decode/groups.rs`), so all its live members are in `act`; one missing (a
//! kernel that reaches it in non-uniform control flow, which the specification leaves
//! undefined) fails the launch naming the instruction instead of computing over part of the
//! group. A non-uniform one spans the members in `act`: the active ones. Reading the value
//! of a member that is not active (a shuffle or broadcast from it) gives its register's last
//! value, and of an id outside the group 0: both undefined in SPIR-V.

use super::lanes::s;
use super::{Exec, Stop};
use crate::ir::{Collective, GroupKind, GroupScope, ScanKind, Slot};
use crate::mem::{self, Space};
use crate::ops::{BinOp, bin};

impl Exec<'_> {
    /// `Inst::AsyncCopy`: `n` elements of `esize` bytes, strided on the source (or, when
    /// `dst_strided`, on the destination); the event `d` is 0.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn async_copy(
        &mut self,
        d: Slot,
        dst: Slot,
        src: Slot,
        n: Slot,
        stride: Slot,
        esize: u32,
        dst_strided: bool,
        dspace: Space,
        sspace: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let l = self.lanes;
        if let Some(&first) = act.first() {
            let i = first as usize;
            let get = |x: Slot| self.regs[s(x, l) + i];
            let (da, sa, mut count, step) = (get(dst), get(src), get(n), get(stride).max(1));
            if esize == 0 {
                count = 0;
            }
            let e = u64::from(esize);
            for k in 0..count {
                let (dk, sk) = if dst_strided {
                    (k * step, k)
                } else {
                    (k, k * step)
                };
                let to = da.wrapping_add(dk.wrapping_mul(e));
                let from = sa.wrapping_add(sk.wrapping_mul(e));
                let dc = self
                    .mem
                    .check_write(dspace, to, e, i, site as usize)
                    .map_err(|fault| Stop::Oob {
                        lane: i,
                        fault,
                        write: true,
                    })?;
                let sc = self
                    .mem
                    .check(sspace, from, e, i, site as usize)
                    .map_err(|fault| Stop::Oob {
                        lane: i,
                        fault,
                        write: false,
                    })?;
                mem::copy(dc, sc);
            }
        }
        for &lane in act {
            self.regs[s(d, l) + lane as usize] = 0;
        }
        Ok(())
    }

    /// `Inst::Group`: the collective `g` for the lanes of `act`, group by group.
    pub(super) fn collective(&mut self, g: &Collective, act: &[u32]) -> Result<(), Stop> {
        let mut lanes = act.to_vec();
        lanes.sort_unstable();
        let sg = self.subgroup();
        let key = |lane: u32| match g.scope {
            GroupScope::Workgroup => 0,
            GroupScope::Subgroup => lane as usize / sg,
        };
        let mut out = Vec::new();
        let mut at = 0;
        while at < lanes.len() {
            let k = key(lanes[at]);
            let len = lanes[at..].iter().take_while(|&&x| key(x) == k).count();
            let members = &lanes[at..at + len];
            let (base, size) = match g.scope {
                GroupScope::Workgroup => (0, self.lanes),
                GroupScope::Subgroup => (k * sg, sg.min(self.lanes - k * sg)),
            };
            if g.uniform {
                let live = match g.scope {
                    GroupScope::Workgroup => self.lanes - self.done_count,
                    GroupScope::Subgroup => {
                        self.done[base..base + size].iter().filter(|d| !**d).count()
                    }
                };
                if len != live {
                    let what = match g.scope {
                        GroupScope::Workgroup => "work-group",
                        GroupScope::Subgroup => "sub-group",
                    };
                    return Err(Stop::Failed(format!(
                        "{} was reached by {len} of the {live} running work-items of a {what}: every work-item of the {what} must reach it (it is in non-uniform control flow)",
                        g.name
                    )));
                }
            }
            self.group_values(g, members, base, size, &mut out);
            at += len;
        }
        // Results are written once all are computed: a result may overwrite an operand.
        let l = self.lanes;
        for (lane, comp, v) in out {
            self.regs[s(g.d + comp, l) + lane as usize] = v;
        }
        Ok(())
    }

    /// Component `c` of operand `x` of `lane`; 0 for a lane outside the work-group. (Also
    /// what `images.rs` reads its operands with.)
    pub(super) fn reg(&self, x: Slot, c: u16, lane: usize) -> u64 {
        if lane >= self.lanes {
            return 0;
        }
        self.regs[s(x + u32::from(c), self.lanes) + lane]
    }

    /// The results of `g` for `members` (sorted lanes) of one group, whose lanes are
    /// `base..base + size`: pushed to `out` as (lane, component, value).
    fn group_values(
        &self,
        g: &Collective,
        members: &[u32],
        base: usize,
        size: usize,
        out: &mut Vec<(u32, u32, u64)>,
    ) {
        let pos = |lane: u32| lane as usize - base;
        // The lane of the member at position `p` of the group, when inside it.
        let at = |p: u64| {
            usize::try_from(p)
                .ok()
                .filter(|&p| p < size)
                .map(|p| base + p)
        };
        let from = |x: Slot, c: u16, p: Option<usize>| p.map_or(0, |lane| self.reg(x, c, lane));
        let fold = |op: BinOp, id: u64, c: u16, lanes: &mut dyn Iterator<Item = u32>| {
            lanes.fold(id, |acc, m| bin(op, acc, self.reg(g.a, c, m as usize)))
        };
        let first = members[0];
        let mask = |x: Slot, lane: usize| -> u128 {
            (0..4).fold(0u128, |m, c| {
                m | u128::from(self.reg(x, c, lane) as u32) << (32 * c)
            })
        };
        for &m in members {
            let lane = m as usize;
            let p = pos(m);
            let mut put = |c: u16, v: u64| out.push((m, u32::from(c), v));
            match g.kind {
                GroupKind::Reduce { op, id } => {
                    for c in 0..g.n {
                        put(c, fold(op, id, c, &mut members.iter().copied()));
                    }
                }
                GroupKind::InclusiveScan { op, id } => {
                    for c in 0..g.n {
                        let mut it = members.iter().copied().filter(|&x| x <= m);
                        put(c, fold(op, id, c, &mut it));
                    }
                }
                GroupKind::ExclusiveScan { op, id } => {
                    for c in 0..g.n {
                        let mut it = members.iter().copied().filter(|&x| x < m);
                        put(c, fold(op, id, c, &mut it));
                    }
                }
                GroupKind::ClusteredReduce { op, id } => {
                    let cs = self.reg(g.b, 0, lane).max(1) as usize;
                    let cluster = p / cs;
                    for c in 0..g.n {
                        let mut it = members.iter().copied().filter(|&x| pos(x) / cs == cluster);
                        put(c, fold(op, id, c, &mut it));
                    }
                }
                GroupKind::All => put(
                    0,
                    u64::from(members.iter().all(|&x| self.reg(g.a, 0, x as usize) != 0)),
                ),
                GroupKind::Any => put(
                    0,
                    u64::from(members.iter().any(|&x| self.reg(g.a, 0, x as usize) != 0)),
                ),
                GroupKind::AllEqual { eq } => {
                    let same = members.iter().all(|&x| {
                        (0..g.n).all(|c| {
                            bin(
                                eq,
                                self.reg(g.a, c, x as usize),
                                self.reg(g.a, c, first as usize),
                            ) != 0
                        })
                    });
                    put(0, u64::from(same));
                }
                GroupKind::Broadcast => {
                    let id: Vec<u64> = (0..g.nb).map(|c| self.reg(g.b, c, lane)).collect();
                    let linear = match g.scope {
                        GroupScope::Subgroup => Some(id[0]),
                        GroupScope::Workgroup => {
                            let sz = self.sh.grid.size.map(u64::from);
                            let coord = |d: usize| id.get(d).copied().unwrap_or(0);
                            (0..3)
                                .all(|d| coord(d) < sz[d])
                                .then(|| coord(0) + coord(1) * sz[0] + coord(2) * sz[0] * sz[1])
                        }
                    };
                    let src = linear.and_then(at);
                    for c in 0..g.n {
                        put(c, from(g.a, c, src));
                    }
                }
                GroupKind::BroadcastFirst => {
                    for c in 0..g.n {
                        put(c, self.reg(g.a, c, first as usize));
                    }
                }
                GroupKind::Elect => put(0, u64::from(m == first)),
                GroupKind::Ballot => {
                    let bits = members
                        .iter()
                        .filter(|&&x| self.reg(g.a, 0, x as usize) != 0)
                        .fold(0u128, |b, &x| b | 1 << pos(x));
                    for c in 0..4 {
                        put(c, u64::from((bits >> (32 * c)) as u32));
                    }
                }
                GroupKind::InverseBallot => put(0, ((mask(g.a, lane) >> p) & 1) as u64),
                GroupKind::BallotBitExtract => {
                    let i = self.reg(g.b, 0, lane);
                    put(0, u64::from(i < 128 && (mask(g.a, lane) >> i) & 1 == 1));
                }
                GroupKind::BallotBitCount(kind) => {
                    let bits = mask(g.a, lane);
                    let upto = match kind {
                        ScanKind::Reduce => size,
                        ScanKind::Inclusive => p + 1,
                        ScanKind::Exclusive => p,
                    };
                    let keep = if upto >= 128 { !0 } else { (1u128 << upto) - 1 };
                    put(0, u64::from((bits & keep).count_ones()));
                }
                GroupKind::BallotFindLsb | GroupKind::BallotFindMsb => {
                    let bits = mask(g.a, lane);
                    // No bit set: undefined; all ones, like GLSL's findLSB.
                    let v = if bits == 0 {
                        u32::MAX
                    } else if matches!(g.kind, GroupKind::BallotFindLsb) {
                        bits.trailing_zeros()
                    } else {
                        127 - bits.leading_zeros()
                    };
                    put(0, u64::from(v));
                }
                GroupKind::Shuffle
                | GroupKind::ShuffleXor
                | GroupKind::ShuffleUp
                | GroupKind::ShuffleDown => {
                    let v = self.reg(g.b, 0, lane);
                    let p = p as u64;
                    let src = match g.kind {
                        GroupKind::Shuffle => Some(v),
                        GroupKind::ShuffleXor => Some(p ^ v),
                        GroupKind::ShuffleUp => p.checked_sub(v),
                        _ => p.checked_add(v),
                    }
                    .and_then(at);
                    for c in 0..g.n {
                        put(c, from(g.a, c, src));
                    }
                }
                GroupKind::IntelShuffleDown | GroupKind::IntelShuffleUp => {
                    let delta = self.reg(g.c, 0, lane);
                    let (p, sg) = (p as u64, self.subgroup() as u64);
                    // (operand, position) of the value this member gets: positions count
                    // in the sub-group's maximum size.
                    let (x, src) = if matches!(g.kind, GroupKind::IntelShuffleDown) {
                        match p.checked_add(delta) {
                            Some(i) if i < sg => (g.a, Some(i)),
                            Some(i) => (g.b, Some(i - sg)),
                            None => (g.a, None),
                        }
                    } else {
                        match p.checked_sub(delta) {
                            Some(i) => (g.b, Some(i)),
                            None => (g.a, (p + sg).checked_sub(delta)),
                        }
                    };
                    let src = src.and_then(at);
                    for c in 0..g.n {
                        put(c, from(x, c, src));
                    }
                }
            }
        }
    }
}
