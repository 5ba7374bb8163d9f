//! Group instructions (work-group collectives): `OpGroupAsyncCopy` (`Inst::AsyncCopy`),
//! done at once by the first active lane; `OpGroupWaitEvents` is a fence. The `Groups`
//! capability's collectives (`OpGroupAll`, `OpGroupBroadcast`, `OpGroupIAdd`, ...) and
//! `GroupUniformArithmeticKHR` belong here: every lane of the group is at the same
//! instruction (a collective is uniform control flow), so they can be computed across the
//! lanes of `act`.

use super::lanes::s;
use super::{Exec, Stop};
use crate::ir::Slot;
use crate::mem::{self, Space};

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
                    .check(dspace, to, e, i, site as usize)
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
}
