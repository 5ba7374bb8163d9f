//! Conversions between float kinds and integers, with the rounding modes of `FPRoundingMode`
//! (`OpConvertFToU/S`, `OpConvertU/SToF`, `OpFConvert`, `vload_half`/`vstore_half[_r]`),
//! and `frexp`'s decomposition.

use super::{Fk, Fl, H, Rm, mask, sext};
use half::f16;

pub(super) fn to_f64_any(k: Fk, a: u64) -> f64 {
    match k {
        Fk::H => H::get(a).f64(),
        Fk::S => f32::get(a).f64(),
        Fk::D => f64::get(a),
    }
}

fn round_rm(x: f64, rm: Rm) -> f64 {
    match rm {
        Rm::Rte => x.round_ties_even(),
        Rm::Rtz => x.trunc(),
        Rm::Rtp => x.ceil(),
        Rm::Rtn => x.floor(),
    }
}

/// Float to integer; Rust's `as` saturates and maps NaN to 0, which is the OpenCL
/// saturating behaviour (out-of-range non-saturating conversions are undefined in OpenCL).
pub(super) fn ftoi(k: Fk, a: u64, bits: u8, signed: bool, rm: Rm) -> u64 {
    let x = round_rm(to_f64_any(k, a), rm);
    if signed {
        let v = x as i64;
        let max = (mask(bits) >> 1) as i64;
        let min = -max - 1;
        (v.clamp(min, max) as u64) & mask(bits)
    } else {
        (x as u64).min(mask(bits))
    }
}

/// Exact value of an integer as i128.
fn int_val(a: u64, bits: u8, signed: bool) -> i128 {
    if signed {
        i128::from(sext(a, bits))
    } else {
        i128::from(a)
    }
}

/// Integer to float with a rounding mode: round to nearest, then step toward the requested
/// direction when that rounding went the wrong way.
pub(super) fn itof(a: u64, bits: u8, signed: bool, to: Fk, rm: Rm) -> u64 {
    let v = int_val(a, bits, signed);
    match to {
        Fk::D => {
            let r = v as f64;
            let r = adjust(r, (r as i128).cmp(&v), rm);
            r.to_bits()
        }
        Fk::S => {
            let r = v as f32;
            let r = adjust32(r, (r as i128).cmp(&v), rm);
            u64::from(r.to_bits())
        }
        Fk::H => {
            // Every integer of up to 64 bits converts to f32 with one rounding; at f16's
            // range (65504) the f32 value is exact for the values that matter, then round.
            let f = v as f64;
            ftof_f64(f, Fk::H, rm)
        }
    }
}

fn adjust(r: f64, ord: std::cmp::Ordering, rm: Rm) -> f64 {
    use std::cmp::Ordering::*;
    match (rm, ord) {
        (Rm::Rtz, Greater) if r > 0.0 => r.next_down(),
        (Rm::Rtz, Less) if r < 0.0 => r.next_up(),
        (Rm::Rtp, Less) => r.next_up(),
        (Rm::Rtn, Greater) => r.next_down(),
        _ => r,
    }
}

fn adjust32(r: f32, ord: std::cmp::Ordering, rm: Rm) -> f32 {
    use std::cmp::Ordering::*;
    match (rm, ord) {
        (Rm::Rtz, Greater) if r > 0.0 => r.next_down(),
        (Rm::Rtz, Less) if r < 0.0 => r.next_up(),
        (Rm::Rtp, Less) => r.next_up(),
        (Rm::Rtn, Greater) => r.next_down(),
        _ => r,
    }
}

/// f64 to a float kind with a rounding mode.
pub(crate) fn ftof_f64(x: f64, to: Fk, rm: Rm) -> u64 {
    if x.is_nan() || x.is_infinite() {
        return match to {
            Fk::D => x.to_bits(),
            Fk::S => u64::from((x as f32).to_bits()),
            Fk::H => u64::from(f16::from_f64(x).to_bits()),
        };
    }
    match to {
        Fk::D => x.to_bits(),
        Fk::S => {
            let r = x as f32;
            let r = adjust32(
                r,
                f64::from(r)
                    .partial_cmp(&x)
                    .unwrap_or(std::cmp::Ordering::Equal),
                rm,
            );
            u64::from(r.to_bits())
        }
        Fk::H => {
            let r = f16::from_f64(x);
            let back = r.to_f64();
            use std::cmp::Ordering::*;
            let ord = back.partial_cmp(&x).unwrap_or(Equal);
            let step_up = |h: f16| {
                // next representable toward +inf
                let b = h.to_bits();
                if h.to_f64() == 0.0 {
                    f16::from_bits(1)
                } else if b & 0x8000 == 0 {
                    f16::from_bits(b + 1)
                } else {
                    f16::from_bits(b - 1)
                }
            };
            let step_down = |h: f16| {
                let b = h.to_bits();
                if h.to_f64() == 0.0 {
                    f16::from_bits(0x8001)
                } else if b & 0x8000 == 0 {
                    f16::from_bits(b - 1)
                } else {
                    f16::from_bits(b + 1)
                }
            };
            let r = match (rm, ord) {
                (Rm::Rtz, Greater) if back > 0.0 => step_down(r),
                (Rm::Rtz, Less) if back < 0.0 => step_up(r),
                (Rm::Rtp, Less) => step_up(r),
                (Rm::Rtn, Greater) => step_down(r),
                _ => r,
            };
            u64::from(r.to_bits())
        }
    }
}

/// `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1` (zero, infinities and NaN: `(x, 0)`).
pub(super) fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    // Scale subnormals into the normal range first.
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        // 2^64, spelled exactly (as `powi` is on hardware, but not under Miri, which
        // perturbs what libm computes).
        (x * f64::from_bits((1023 + 64) << 52), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, e + bias)
}
