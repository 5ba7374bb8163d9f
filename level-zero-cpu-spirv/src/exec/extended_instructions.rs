//! OpenCL.std instructions that are not lane-wise: the geometric functions (`length`,
//! `distance`, `cross`, `normalize`, and core `OpDot`/`OpAny`/`OpAll`, which reduce a vector
//! the same way) and `shuffle`/`shuffle2`: `Inst::Reduce`, `Inst::Cross`, `Inst::Normalize`,
//! `Inst::Shuffle`. The lane-wise OpenCL.std math and integer functions are `Inst::Un`/
//! `Bin`/`Tern` (`exec/arithmetic.rs`); `printf` is `exec/printf.rs`.

use super::Exec;
use super::lanes::s;
use crate::ir::Slot;
use crate::ops::{self, Fk, Reduce};

impl Exec<'_> {
    /// `Inst::Reduce`: `d = op(a, b)` over `n` components, computed in `f64`, rounded once.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn reduce(
        &mut self,
        op: Reduce,
        k: Fk,
        d: Slot,
        a: Slot,
        b: Slot,
        n: u16,
        act: &[u32],
    ) {
        let l = self.lanes;
        let mut xa = [0u64; 16];
        let mut xb = [0u64; 16];
        let n = usize::from(n).min(16);
        for &lane in act {
            let i = lane as usize;
            for c in 0..n {
                xa[c] = self.regs[s(a + c as u32, l) + i];
                xb[c] = self.regs[s(b + c as u32, l) + i];
            }
            self.regs[s(d, l) + i] = ops::reduce_f(k, op, &xa[..n], &xb[..n]);
        }
    }

    /// `Inst::Cross`: `cross(a, b)` of 3-vectors.
    #[inline(always)]
    pub(super) fn cross(&mut self, k: Fk, d: Slot, a: Slot, b: Slot, act: &[u32]) {
        let l = self.lanes;
        for &lane in act {
            let i = lane as usize;
            let g = |r: &Vec<u64>, x: u32| ops::float_to_f64(k, r[s(x, l) + i]);
            let (a0, a1, a2) = (g(&self.regs, a), g(&self.regs, a + 1), g(&self.regs, a + 2));
            let (b0, b1, b2) = (g(&self.regs, b), g(&self.regs, b + 1), g(&self.regs, b + 2));
            let r = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0];
            for (c, v) in r.iter().enumerate() {
                self.regs[s(d + c as u32, l) + i] = ops::ftof_f64(*v, k, ops::Rm::Rte);
            }
        }
    }

    /// `Inst::Normalize`: `a / length(a)` (`a` itself when its length is 0).
    #[inline(always)]
    pub(super) fn normalize(&mut self, k: Fk, d: Slot, a: Slot, n: u16, act: &[u32]) {
        let l = self.lanes;
        for &lane in act {
            let i = lane as usize;
            let mut sum = 0.0;
            for c in 0..u32::from(n) {
                let x = ops::float_to_f64(k, self.regs[s(a + c, l) + i]);
                sum += x * x;
            }
            let len = sum.sqrt();
            for c in 0..u32::from(n) {
                let x = ops::float_to_f64(k, self.regs[s(a + c, l) + i]);
                let r = if len == 0.0 { x } else { x / len };
                self.regs[s(d + c, l) + i] = ops::ftof_f64(r, k, ops::Rm::Rte);
            }
        }
    }

    /// `Inst::Shuffle`: `d[k] = (a ++ b)[mask[k] % (na + nb)]`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn shuffle(
        &mut self,
        d: Slot,
        a: Slot,
        b: Slot,
        mask: Slot,
        na: u16,
        nb: u16,
        n: u16,
        act: &[u32],
    ) {
        let l = self.lanes;
        let total = u64::from(na) + u64::from(nb);
        for &lane in act {
            let i = lane as usize;
            let mut src = [0u64; 32];
            for k in 0..u32::from(na) {
                src[k as usize] = self.regs[s(a + k, l) + i];
            }
            for k in 0..u32::from(nb) {
                src[(u32::from(na) + k) as usize] = self.regs[s(b + k, l) + i];
            }
            for k in 0..u32::from(n) {
                let sel = self.regs[s(mask + k, l) + i] % total.max(1);
                self.regs[s(d + k, l) + i] = src[sel as usize];
            }
        }
    }
}
