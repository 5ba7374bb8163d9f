//! Conversion instructions that are not lane-wise value operations: `OpBitcast` between
//! element sizes (`Inst::Bitcast`, e.g. `float2` to `ulong`). Same-size bitcasts, pointer
//! casts and `OpConvertUToPtr` are copies or share their source's slots; the numeric
//! conversions are `Inst::Un` (`exec/arithmetic.rs`, `crate::ops::convert`).

use super::Exec;
use super::lanes::s;
use crate::ir::Slot;

impl Exec<'_> {
    /// `Inst::Bitcast`: reinterprets `nf` components of `fsize` bytes as `nt` components of
    /// `tsize` bytes (little endian).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn bitcast(
        &mut self,
        d: Slot,
        src: Slot,
        fsize: u8,
        nf: u16,
        tsize: u8,
        nt: u16,
        act: &[u32],
    ) {
        let l = self.lanes;
        for &lane in act {
            let i = lane as usize;
            let mut bytes = [0u8; 128];
            let fs = usize::from(fsize);
            for k in 0..usize::from(nf) {
                let v = self.regs[s(src + k as u32, l) + i];
                bytes[k * fs..k * fs + fs].copy_from_slice(&v.to_le_bytes()[..fs]);
            }
            let ts = usize::from(tsize);
            for k in 0..usize::from(nt) {
                let mut w = [0u8; 8];
                w[..ts].copy_from_slice(&bytes[k * ts..k * ts + ts]);
                self.regs[s(d + k as u32, l) + i] = u64::from_le_bytes(w);
            }
        }
    }
}
