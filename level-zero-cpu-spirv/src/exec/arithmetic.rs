//! Lane-wise value instructions: `Inst::Bin`, `Inst::Un`, `Inst::Tern` and `Inst::Select`.
//!
//! Whatever opcode or OpenCL.std instruction they were decoded from (arithmetic, bit,
//! relational and logical instructions, conversions, OpenCL.std math and integer
//! functions: `decode/arithmetic.rs`, `decode/conversions.rs`,
//! `decode/extended_instructions.rs`), they run here; what one lane computes is in
//! `crate::ops`. The hottest operations (32-bit integer and `f32`/`f64` arithmetic, `mad`,
//! `fma`) are matched before the lane loop so that it is a plain vectorisable loop.

use super::Exec;
use super::lanes::{map1, map2, map3, s};
use crate::ir::Slot;
use crate::ops::{self, BinOp, FBin, Fk, TernOp, UnOp, first_nan_f32, first_nan_f64, sext};

impl Exec<'_> {
    /// `OpSelect`: `c` has `n` components, or one (`scalar_cond`) broadcast to all.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn select(
        &mut self,
        d: Slot,
        c: Slot,
        a: Slot,
        b: Slot,
        n: u16,
        scalar_cond: bool,
        act: &[u32],
    ) {
        let l = self.lanes;
        for k in 0..u32::from(n) {
            let cc = if scalar_cond { c } else { c + k };
            let (ds, cs, as_, bs) = (s(d + k, l), s(cc, l), s(a + k, l), s(b + k, l));
            for &lane in act {
                let i = lane as usize;
                self.regs[ds + i] = if self.regs[cs + i] != 0 {
                    self.regs[as_ + i]
                } else {
                    self.regs[bs + i]
                };
            }
        }
    }
}

#[inline(always)]
fn f32b(x: u64) -> f32 {
    f32::from_bits(x as u32)
}

#[inline(always)]
fn bf32(x: f32) -> u64 {
    u64::from(x.to_bits())
}

#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn bin(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    op: BinOp,
    d: Slot,
    a: Slot,
    b: Slot,
    n: u16,
) {
    match op {
        BinOp::IAdd(m) => map2(regs, l, act, full, d, a, b, n, |x, y| x.wrapping_add(y) & m),
        BinOp::ISub(m) => map2(regs, l, act, full, d, a, b, n, |x, y| x.wrapping_sub(y) & m),
        BinOp::IMul(m) => map2(regs, l, act, full, d, a, b, n, |x, y| x.wrapping_mul(y) & m),
        BinOp::And => map2(regs, l, act, full, d, a, b, n, |x, y| x & y),
        BinOp::Or => map2(regs, l, act, full, d, a, b, n, |x, y| x | y),
        BinOp::Xor => map2(regs, l, act, full, d, a, b, n, |x, y| x ^ y),
        BinOp::ULt => map2(regs, l, act, full, d, a, b, n, |x, y| u64::from(x < y)),
        BinOp::IEq => map2(regs, l, act, full, d, a, b, n, |x, y| u64::from(x == y)),
        BinOp::Shl(w) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            (x << (y % u64::from(w))) & ops::mask(w)
        }),
        BinOp::SLt(w) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            u64::from(sext(x, w) < sext(y, w))
        }),
        BinOp::F(Fk::S, FBin::Add) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(first_nan_f32(f32b(x), f32b(y), f32b(x) + f32b(y)))
        }),
        BinOp::F(Fk::S, FBin::Sub) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(first_nan_f32(f32b(x), f32b(y), f32b(x) - f32b(y)))
        }),
        BinOp::F(Fk::S, FBin::Mul) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(first_nan_f32(f32b(x), f32b(y), f32b(x) * f32b(y)))
        }),
        BinOp::F(Fk::S, FBin::Div) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(first_nan_f32(f32b(x), f32b(y), f32b(x) / f32b(y)))
        }),
        BinOp::F(Fk::D, FBin::Add) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            let (x, y) = (f64::from_bits(x), f64::from_bits(y));
            first_nan_f64(x, y, x + y).to_bits()
        }),
        BinOp::F(Fk::D, FBin::Mul) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            let (x, y) = (f64::from_bits(x), f64::from_bits(y));
            first_nan_f64(x, y, x * y).to_bits()
        }),
        op => map2(regs, l, act, full, d, a, b, n, |x, y| ops::bin(op, x, y)),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn un(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    op: UnOp,
    d: Slot,
    a: Slot,
    n: u16,
) {
    match op {
        UnOp::Mask(m) => map1(regs, l, act, full, d, a, n, |x| x & m),
        UnOp::Sext(from, to) => map1(regs, l, act, full, d, a, n, |x| {
            (sext(x, from) as u64) & ops::mask(to)
        }),
        op => map1(regs, l, act, full, d, a, n, |x| ops::un(op, x)),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn tern(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    op: TernOp,
    d: Slot,
    a: Slot,
    b: Slot,
    c: Slot,
    n: u16,
) {
    match op {
        // mad is fma (`crate::ops::tern`).
        TernOp::Fma(k @ (Fk::S | Fk::D)) | TernOp::Mad(k @ (Fk::S | Fk::D)) => {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the processor has the FMA extension (tested just above).
                unsafe { fused_lanes_fma(regs, l, act, full, k, d, a, b, c, n) };
                return;
            }
            fused_lanes(regs, l, act, full, k, d, a, b, c, n);
        }
        op => map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            ops::tern(op, x, y, z)
        }),
    }
}

/// `fma` of `f32` or `f64` (kind `k`) in each lane: `ops::fma_f32`/`ops::fma_f64`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn fused_lanes(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    k: Fk,
    d: Slot,
    a: Slot,
    b: Slot,
    c: Slot,
    n: u16,
) {
    if k == Fk::S {
        map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            bf32(ops::fma_f32(f32b(x), f32b(y), f32b(z)))
        });
    } else {
        map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            let f = f64::from_bits;
            ops::fma_f64(f(x), f(y), f(z)).to_bits()
        });
    }
}

/// [`fused_lanes`] compiled for processors with the FMA extension: one instruction per lane
/// (without it, `mul_add` is a call of the C library's `fma`, which made `mad`-heavy kernels
/// 1.8 times slower on the interpreter). The same results: both round once, and
/// `ops::fma_f32` chooses the NaN itself.
///
/// # Safety
/// The processor has the FMA extension.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "fma")]
unsafe fn fused_lanes_fma(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    k: Fk,
    d: Slot,
    a: Slot,
    b: Slot,
    c: Slot,
    n: u16,
) {
    fused_lanes(regs, l, act, full, k, d, a, b, c, n);
}
