//! Built-in variables (the `BuiltIn` decoration; how they are read is decided at decode
//! time, `decode/builtin_access.rs`): `Inst::Builtin`. `GlobalId` and `LocalId` with every
//! lane active are written a dimension at a time from the structure-of-arrays local ids; the
//! others lane by lane. Sub-groups are consecutive local linear ids of the kernel's
//! sub-group size (`Code::subgroup_size`), the last one partial.

use super::Exec;
use super::lanes::s;
use crate::ir::{Builtin, Slot};

impl Exec<'_> {
    /// `Inst::Builtin`: the built-in `b`, all its `n` components or component `comp`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn builtin_read(
        &mut self,
        d: Slot,
        b: Builtin,
        n: u16,
        comp: Option<u8>,
        act: &[u32],
        full: bool,
    ) {
        let l = self.lanes;
        if full && matches!(b, Builtin::GlobalId | Builtin::LocalId) {
            let g = &self.sh.grid;
            let comps: &[u32] = match comp {
                Some(c) => &[c as u32][..],
                None => &[0, 1, 2][..n.min(3) as usize],
            };
            for (k, &c) in comps.iter().enumerate() {
                // `c < 3`: the decoder's `validate` guarantees it.
                let c = (c as usize).min(2);
                let ds = s(d + k as u32, l);
                let base = if b == Builtin::GlobalId {
                    u64::from(self.group[c]) * u64::from(g.size[c]) + u64::from(g.offset[c])
                } else {
                    0
                };
                for (r, &x) in self.regs[ds..ds + l].iter_mut().zip(&self.lid_soa[c]) {
                    *r = base + u64::from(x);
                }
            }
        } else {
            for &lane in act {
                let i = lane as usize;
                match comp {
                    Some(c) => self.regs[s(d, l) + i] = self.builtin(b, usize::from(c), i),
                    None if n == 1 => self.regs[s(d, l) + i] = self.builtin(b, 0, i),
                    None => {
                        for k in 0..u32::from(n) {
                            self.regs[s(d + k, l) + i] = self.builtin(b, k as usize, i);
                        }
                    }
                }
            }
        }
    }

    #[inline]
    pub(super) fn builtin(&self, b: Builtin, c: usize, lane: usize) -> u64 {
        let g = &self.sh.grid;
        let lid = self.lid[lane];
        let in_range = c < 3;
        let dimv = |a: [u32; 3], default: u64| if in_range { u64::from(a[c]) } else { default };
        match b {
            Builtin::GlobalId => {
                if in_range {
                    self.global_id(lane)[c]
                } else {
                    0
                }
            }
            Builtin::LocalId => dimv(lid, 0),
            Builtin::GroupId => dimv(self.group, 0),
            Builtin::NumGroups => dimv(g.count, 1),
            Builtin::LocalSize | Builtin::EnqueuedLocalSize => dimv(g.size, 1),
            Builtin::GlobalSize => {
                if in_range {
                    u64::from(g.size[c]) * u64::from(g.count[c])
                } else {
                    1
                }
            }
            Builtin::GlobalOffset => dimv(g.offset, 0),
            Builtin::GlobalLinearId => {
                let id = self.global_id(lane);
                let gs: [u64; 3] =
                    std::array::from_fn(|d| u64::from(g.size[d]) * u64::from(g.count[d]));
                let rel: [u64; 3] =
                    std::array::from_fn(|d| id[d].wrapping_sub(u64::from(g.offset[d])));
                (rel[2].wrapping_mul(gs[1]).wrapping_add(rel[1]))
                    .wrapping_mul(gs[0])
                    .wrapping_add(rel[0])
            }
            Builtin::LocalLinearId => lane as u64,
            Builtin::WorkDim => u64::from(g.work_dim),
            // Sub-groups: consecutive local linear ids (a lane is its local linear id), the
            // last one partial.
            Builtin::SubgroupId => (lane / self.subgroup()) as u64,
            Builtin::SubgroupLocalId => (lane % self.subgroup()) as u64,
            Builtin::SubgroupMaxSize => self.subgroup() as u64,
            Builtin::SubgroupSize => {
                let s = self.subgroup();
                s.min(self.lanes - lane / s * s) as u64
            }
            // Every work-group has the enqueued size (Level Zero launches have no
            // remainder groups).
            Builtin::NumSubgroups | Builtin::NumEnqueuedSubgroups => {
                self.lanes.div_ceil(self.subgroup()) as u64
            }
        }
    }
}
