//! Atomic instructions (`OpAtomic*`; the `Int64Atomics` capability is their 8-byte form):
//! `Inst::Atomic`. Each is a real host atomic (`AtomicU32`/`AtomicU64`, sequentially
//! consistent) on the checked address, whatever scope and semantics the module states; a
//! misaligned one fails the launch. Float atomics (`AtomicFloat32AddEXT`, ...) belong here.

use super::lanes::s;
use super::{Exec, Stop};
use crate::ir::Slot;
use crate::mem::{self, AtomicOp, Space};

impl Exec<'_> {
    /// `Inst::Atomic`: `d = old value`, `v` the operand, `cmp` the comparator of a
    /// compare-exchange.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn atomic(
        &mut self,
        op: AtomicOp,
        d: Slot,
        p: Slot,
        v: Slot,
        cmp: Slot,
        size: u8,
        space: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let l = self.lanes;
        for &lane in act {
            let i = lane as usize;
            let addr = self.regs[s(p, l) + i];
            let c = self
                .mem
                .check_write(space, addr, u64::from(size), i, site as usize)
                .map_err(|fault| Stop::Oob {
                    lane: i,
                    fault,
                    write: true,
                })?;
            let (x, y) = (self.regs[s(v, l) + i], self.regs[s(cmp, l) + i]);
            let old = mem::atomic(c, op, x, y).map_err(|()| {
                Stop::Failed(format!("misaligned {size}-byte atomic at {addr:#x}"))
            })?;
            self.regs[s(d, l) + i] = old;
        }
        Ok(())
    }
}
