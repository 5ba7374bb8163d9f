//! Composite instructions with a dynamic index (`OpVectorExtractDynamic`,
//! `OpVectorInsertDynamic`): `Inst::ExtractDyn`, `Inst::InsertDyn`. The other composite
//! instructions (`OpCompositeExtract/Insert/Construct`, `OpVectorShuffle`, `OpCopyObject`)
//! are decoded into register copies (`Inst::Copy`) or nothing at all (`decode/composites.rs`).

use super::Exec;
use super::lanes::{copy, s};
use crate::ir::Slot;

impl Exec<'_> {
    /// `Inst::ExtractDyn`: `d = v[idx]` (component 0 when out of range: undefined in SPIR-V).
    #[inline(always)]
    pub(super) fn extract_dyn(&mut self, d: Slot, v: Slot, idx: Slot, n: u16, act: &[u32]) {
        let l = self.lanes;
        for &lane in act {
            let i = lane as usize;
            let c = self.regs[s(idx, l) + i];
            // Out of range: undefined in SPIR-V; read component 0.
            let c = if c < u64::from(n) { c as u32 } else { 0 };
            self.regs[s(d, l) + i] = self.regs[s(v + c, l) + i];
        }
    }

    /// `Inst::InsertDyn`: `d = v` with `d[idx] = x` (nothing inserted when out of range).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn insert_dyn(
        &mut self,
        d: Slot,
        v: Slot,
        x: Slot,
        idx: Slot,
        n: u16,
        act: &[u32],
        full: bool,
    ) {
        let l = self.lanes;
        copy(&mut self.regs, l, act, full, d, v, n);
        for &lane in act {
            let i = lane as usize;
            let c = self.regs[s(idx, l) + i];
            if c < u64::from(n) {
                self.regs[s(d + c as u32, l) + i] = self.regs[s(x, l) + i];
            }
        }
    }
}
