//! The value operations of the interpreter: what one lane computes for one component.
//!
//! Registers hold one `u64` per component and lane. Integers are kept zero-extended to their
//! width (so a `char` of -1 is `0xff`), booleans are 0 or 1, floats are their bit pattern
//! (`f16` in the low 16 bits, `f32` in the low 32), pointers are 64-bit addresses.
//!
//! These are the semantics behind `Inst::Bin`/`Un`/`Tern`/`Reduce`, whatever opcode or
//! OpenCL.std instruction the decoder made them from. The capabilities that only enable
//! types (`Int8`, `Int16`, `Int64`, `Float16`, `Float64`) have no opcodes of their own:
//! their values go through the same operations, by width (`mask`/`sext` for integers, the
//! float kind [`Fk`] for floats).
//!
//! - this file: integer operations and the per-instruction dispatch ([`bin`], [`un`],
//!   [`tern`], [`reduce_f`]);
//! - `float.rs`: float arithmetic and the OpenCL.std math functions, per float kind
//!   (`half` as [`H`], computed in `f32`);
//! - `convert.rs`: conversions between float kinds and integers, with rounding modes.

mod convert;
mod float;

pub(crate) use convert::ftof_f64;
use convert::{frexp, ftoi, itof, to_f64_any};
pub(crate) use float::{
    Cmp, FBin, FUn, Fl, H, fcmp, first_nan_f32, first_nan_f64, fma_f32, fma_f64,
};

use half::f16;

/// A float kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fk {
    H,
    S,
    D,
}

/// Rounding mode of a conversion (`FPRoundingMode` decoration, or the OpenCL default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rm {
    /// To nearest even.
    Rte,
    /// Toward zero.
    Rtz,
    /// Toward +infinity.
    Rtp,
    /// Toward -infinity.
    Rtn,
}

#[inline(always)]
pub(crate) fn mask(bits: u8) -> u64 {
    if bits >= 64 { !0 } else { (1u64 << bits) - 1 }
}

#[inline(always)]
pub(crate) fn sext(x: u64, bits: u8) -> i64 {
    if bits >= 64 {
        x as i64
    } else {
        let s = 64 - u32::from(bits);
        ((x << s) as i64) >> s
    }
}

/// Binary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    IAdd(u64),
    ISub(u64),
    IMul(u64),
    UDiv(u64),
    SDiv(u8),
    UMod(u64),
    SRem(u8),
    SMod(u8),
    Shl(u8),
    Shr(u8),
    Sar(u8),
    And,
    Or,
    Xor,
    IEq,
    INe,
    ULt,
    ULe,
    UGt,
    UGe,
    SLt(u8),
    SLe(u8),
    SGt(u8),
    SGe(u8),
    F(Fk, FBin),
    FCmp(Fk, Cmp, bool),
    /// OpOrdered / OpUnordered.
    FOrd(Fk, bool),
    SMin(u8),
    UMin,
    SMax(u8),
    UMax,
    SMulHi(u8),
    UMulHi(u8),
    SAddSat(u8),
    UAddSat(u8),
    SSubSat(u8),
    USubSat(u8),
    Rotate(u8),
    SHadd(u8),
    UHadd(u8),
    SRhadd(u8),
    URhadd(u8),
    SAbsDiff(u8),
    UAbsDiff(u8),
    SMul24(u8),
    UMul24(u8),
    /// ldexp / pown / rootn: float x, int n (of the given width).
    FInt(Fk, FIntOp, u8),
    /// `remquo(x, y)`'s quotient bits, an `i32` (`float::remquo_quotient`).
    RemquoQuotient(Fk),
    /// `upsample(hi, lo)` of `u8`-bit halves: `hi << w | lo`, 2w bits.
    Upsample(u8),
}

/// Float functions with an integer second argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FIntOp {
    Ldexp,
    Pown,
    Rootn,
}

fn fint<F: Fl>(x: u64, n: u64, op: FIntOp, bits: u8) -> u64 {
    let x = F::get(x).f64();
    let n = sext(n, bits);
    let r = match op {
        FIntOp::Ldexp => x * 2f64.powi(n.clamp(-2000, 2000) as i32),
        FIntOp::Pown => x.powi(n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
        FIntOp::Rootn => {
            if n == 0 {
                f64::NAN
            } else if x < 0.0 && n % 2 != 0 {
                -(-x).powf(1.0 / n as f64)
            } else {
                x.powf(1.0 / n as f64)
            }
        }
    };
    F::of64(r).put()
}

/// One lane of a binary operation. Hot operations are matched by [`crate::exec`]
/// (`arithmetic.rs`) before the lane loop; this is the general (slower) path.
#[inline(always)]
pub(crate) fn bin(op: BinOp, a: u64, b: u64) -> u64 {
    match op {
        BinOp::IAdd(m) => a.wrapping_add(b) & m,
        BinOp::ISub(m) => a.wrapping_sub(b) & m,
        BinOp::IMul(m) => a.wrapping_mul(b) & m,
        BinOp::UDiv(m) => a.checked_div(b).unwrap_or(0) & m,
        BinOp::SDiv(w) => (sext(a, w).checked_div(sext(b, w)).unwrap_or(0) as u64) & mask(w),
        BinOp::UMod(m) => a.checked_rem(b).unwrap_or(0) & m,
        BinOp::SRem(w) => (sext(a, w).checked_rem(sext(b, w)).unwrap_or(0) as u64) & mask(w),
        BinOp::SMod(w) => {
            let (x, y) = (sext(a, w), sext(b, w));
            let r = x.checked_rem(y).unwrap_or(0);
            let r = if r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            };
            (r as u64) & mask(w)
        }
        BinOp::Shl(w) => (a << (b % u64::from(w))) & mask(w),
        BinOp::Shr(w) => a >> (b % u64::from(w)),
        BinOp::Sar(w) => ((sext(a, w) >> (b % u64::from(w))) as u64) & mask(w),
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::IEq => u64::from(a == b),
        BinOp::INe => u64::from(a != b),
        BinOp::ULt => u64::from(a < b),
        BinOp::ULe => u64::from(a <= b),
        BinOp::UGt => u64::from(a > b),
        BinOp::UGe => u64::from(a >= b),
        BinOp::SLt(w) => u64::from(sext(a, w) < sext(b, w)),
        BinOp::SLe(w) => u64::from(sext(a, w) <= sext(b, w)),
        BinOp::SGt(w) => u64::from(sext(a, w) > sext(b, w)),
        BinOp::SGe(w) => u64::from(sext(a, w) >= sext(b, w)),
        BinOp::F(k, f) => match k {
            Fk::H => H::get(a).bin(H::get(b), f).put(),
            Fk::S => f32::get(a).bin(f32::get(b), f).put(),
            Fk::D => f64::get(a).bin(f64::get(b), f).put(),
        },
        BinOp::RemquoQuotient(k) => float::remquo_quotient(k, a, b),
        BinOp::Upsample(w) => ((a & mask(w)) << w) | (b & mask(w)),
        BinOp::FCmp(k, c, o) => match k {
            Fk::H => fcmp::<H>(a, b, c, o),
            Fk::S => fcmp::<f32>(a, b, c, o),
            Fk::D => fcmp::<f64>(a, b, c, o),
        },
        BinOp::FOrd(k, ordered) => {
            let nan = match k {
                Fk::H => H::get(a).is_nan() || H::get(b).is_nan(),
                Fk::S => f32::get(a).is_nan() || f32::get(b).is_nan(),
                Fk::D => f64::get(a).is_nan() || f64::get(b).is_nan(),
            };
            u64::from(nan != ordered)
        }
        BinOp::SMin(w) => {
            if sext(a, w) < sext(b, w) {
                a
            } else {
                b
            }
        }
        BinOp::UMin => a.min(b),
        BinOp::SMax(w) => {
            if sext(a, w) > sext(b, w) {
                a
            } else {
                b
            }
        }
        BinOp::UMax => a.max(b),
        BinOp::SMulHi(w) => {
            let p = i128::from(sext(a, w)) * i128::from(sext(b, w));
            ((p >> w) as u64) & mask(w)
        }
        BinOp::UMulHi(w) => (((u128::from(a) * u128::from(b)) >> w) as u64) & mask(w),
        BinOp::SAddSat(w) => sat_s(i128::from(sext(a, w)) + i128::from(sext(b, w)), w),
        BinOp::UAddSat(w) => (u128::from(a) + u128::from(b)).min(u128::from(mask(w))) as u64,
        BinOp::SSubSat(w) => sat_s(i128::from(sext(a, w)) - i128::from(sext(b, w)), w),
        BinOp::USubSat(_) => a.saturating_sub(b),
        BinOp::Rotate(w) => {
            let s = (b % u64::from(w)) as u32;
            if s == 0 {
                a
            } else {
                ((a << s) | (a >> (u32::from(w) - s))) & mask(w)
            }
        }
        BinOp::SHadd(w) => {
            (((i128::from(sext(a, w)) + i128::from(sext(b, w))) >> 1) as u64) & mask(w)
        }
        BinOp::UHadd(w) => (((u128::from(a) + u128::from(b)) >> 1) as u64) & mask(w),
        BinOp::SRhadd(w) => {
            (((i128::from(sext(a, w)) + i128::from(sext(b, w)) + 1) >> 1) as u64) & mask(w)
        }
        BinOp::URhadd(w) => (((u128::from(a) + u128::from(b) + 1) >> 1) as u64) & mask(w),
        BinOp::SAbsDiff(w) => {
            (i128::from(sext(a, w)) - i128::from(sext(b, w))).unsigned_abs() as u64 & mask(w)
        }
        BinOp::UAbsDiff(w) => a.abs_diff(b) & mask(w),
        BinOp::SMul24(w) => {
            (sext(a & 0xff_ffff, 24).wrapping_mul(sext(b & 0xff_ffff, 24)) as u64) & mask(w)
        }
        BinOp::UMul24(w) => ((a & 0xff_ffff).wrapping_mul(b & 0xff_ffff)) & mask(w),
        BinOp::FInt(k, op, w) => match k {
            Fk::H => fint::<H>(a, b, op, w),
            Fk::S => fint::<f32>(a, b, op, w),
            Fk::D => fint::<f64>(a, b, op, w),
        },
    }
}

fn sat_s(v: i128, w: u8) -> u64 {
    let max = (1i128 << (w - 1)) - 1;
    let min = -(1i128 << (w - 1));
    (v.clamp(min, max) as u64) & mask(w)
}

/// Unary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnOp {
    /// UConvert, ConvertPtrToU, ConvertUToPtr: keep the low bits.
    Mask(u64),
    /// SConvert: sign-extend from `from` bits, keep `to` bits.
    Sext(u8, u8),
    INeg(u64),
    INot(u64),
    LNot,
    F(Fk, FUn),
    /// Float to integer: (from, to bits, signed, saturate, rounding).
    FToI(Fk, u8, bool, bool, Rm),
    /// Integer to float: (from bits, signed, to, rounding).
    IToF(u8, bool, Fk, Rm),
    /// Float to float.
    FToF(Fk, Fk, Rm),
    /// OpSatConvertSToU (from, to) and OpSatConvertUToS (from, to).
    SatSToU(u8, u8),
    SatUToS(u8, u8),
    /// OpSConvert decorated `SaturatedConversion`: signed (from bits) to signed (to bits),
    /// clamped to the result's range.
    SatSToS(u8, u8),
    /// OpUConvert decorated `SaturatedConversion`: unsigned to unsigned (to bits), clamped.
    SatUToU(u8),
    IsNan(Fk),
    IsInf(Fk),
    IsFinite(Fk),
    IsNormal(Fk),
    SignBit(Fk),
    SAbs(u8),
    Popcount,
    Clz(u8),
    Ctz(u8),
    /// frexp's mantissa (in [0.5, 1)) and exponent (an `i32`).
    FrexpMant(Fk),
    FrexpExp(Fk),
    /// `ilogb(x)`, an `i32`: the unbiased exponent; `INT_MIN` for 0 (clang's `FP_ILOGB0`),
    /// `INT_MAX` for NaN (`FP_ILOGBNAN`) and infinities.
    Ilogb(Fk),
    /// The sign of Γ(x) that `lgamma_r` stores, an `i32` (1 or -1, as the `libm` crate's
    /// `lgamma_r`: -1 for -0 and where Γ is negative; 1 at its poles, infinities and NaN).
    LgammaSign(Fk),
    /// nan(code): a quiet NaN of the kind with the code as payload.
    Nan(Fk),
}

#[inline(always)]
pub(crate) fn un(op: UnOp, a: u64) -> u64 {
    match op {
        UnOp::Mask(m) => a & m,
        UnOp::Sext(from, to) => (sext(a, from) as u64) & mask(to),
        UnOp::INeg(m) => a.wrapping_neg() & m,
        UnOp::INot(m) => !a & m,
        UnOp::LNot => u64::from(a == 0),
        UnOp::F(k, f) => match k {
            Fk::H => H::get(a).un(f).put(),
            Fk::S => f32::get(a).un(f).put(),
            Fk::D => f64::get(a).un(f).put(),
        },
        UnOp::FToI(k, bits, signed, _sat, rm) => ftoi(k, a, bits, signed, rm),
        UnOp::IToF(bits, signed, to, rm) => itof(a, bits, signed, to, rm),
        UnOp::FToF(from, to, rm) => {
            if from == to {
                a
            } else {
                ftof_f64(to_f64_any(from, a), to, rm)
            }
        }
        UnOp::SatSToU(from, to) => {
            let v = sext(a, from);
            if v < 0 { 0 } else { (v as u64).min(mask(to)) }
        }
        UnOp::SatUToS(_from, to) => a.min(mask(to) >> 1),
        UnOp::SatSToS(from, to) => sat_s(i128::from(sext(a, from)), to),
        UnOp::SatUToU(to) => a.min(mask(to)),
        UnOp::IsNan(k) => u64::from(to_f64_any(k, a).is_nan()),
        UnOp::IsInf(k) => u64::from(to_f64_any(k, a).is_infinite()),
        UnOp::IsFinite(k) => u64::from(to_f64_any(k, a).is_finite()),
        UnOp::IsNormal(k) => u64::from(match k {
            Fk::H => f16::from_bits(a as u16).is_normal(),
            Fk::S => f32::get(a).is_normal(),
            Fk::D => f64::get(a).is_normal(),
        }),
        UnOp::SignBit(k) => match k {
            Fk::H => (a >> 15) & 1,
            Fk::S => (a >> 31) & 1,
            Fk::D => a >> 63,
        },
        UnOp::SAbs(w) => sext(a, w).unsigned_abs() & mask(w),
        UnOp::Popcount => u64::from(a.count_ones()),
        UnOp::Clz(w) => u64::from(a.leading_zeros()).saturating_sub(64 - u64::from(w)),
        UnOp::Ctz(w) => u64::from(a.trailing_zeros()).min(u64::from(w)),
        UnOp::FrexpMant(k) => ftof_f64(frexp(to_f64_any(k, a)).0, k, Rm::Rte),
        UnOp::FrexpExp(k) => u64::from(frexp(to_f64_any(k, a)).1 as u32),
        UnOp::Ilogb(k) => {
            let x = to_f64_any(k, a);
            let e = if x.is_nan() || x.is_infinite() {
                i32::MAX
            } else if x == 0.0 {
                i32::MIN
            } else {
                // frexp's mantissa is in [0.5, 1): one below its exponent.
                frexp(x).1 - 1
            };
            u64::from(e as u32)
        }
        UnOp::LgammaSign(k) => u64::from(libm::lgamma_r(to_f64_any(k, a)).1 as u32),
        UnOp::Nan(k) => match k {
            Fk::H => 0x7e00 | (a & 0x1ff),
            Fk::S => 0x7fc0_0000 | (a & 0x3f_ffff),
            Fk::D => 0x7ff8_0000_0000_0000 | (a & 0x7_ffff_ffff_ffff),
        },
    }
}

/// Ternary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TernOp {
    Fma(Fk),
    Mad(Fk),
    FClamp(Fk),
    Mix(Fk),
    SmoothStep(Fk),
    SClamp(u8),
    UClamp,
    SMad24(u8),
    UMad24(u8),
    SMadHi(u8),
    UMadHi(u8),
    SMadSat(u8),
    UMadSat(u8),
    Bitselect,
    /// OpenCL.std `select(a, b, c)`: `c` (of `u8` bits) nonzero (scalar) or MSB set
    /// (vector) picks `b`.
    Select(u8, bool),
}

fn tern_f<F: Fl>(op: TernOp, a: u64, b: u64, c: u64) -> u64 {
    let (x, y, z) = (F::get(a), F::get(b), F::get(c));
    match op {
        TernOp::Fma(_) | TernOp::Mad(_) => x.fma(y, z).put(),
        TernOp::FClamp(_) => x.bin(y, FBin::Max).bin(z, FBin::Min).put(),
        TernOp::Mix(_) => x.add(y.sub(x).mul(z)).put(),
        TernOp::SmoothStep(_) => {
            // smoothstep(edge0 = x, edge1 = y, v = z)
            let (e0, e1, v) = (x.f64(), y.f64(), z.f64());
            let t = ((v - e0) / (e1 - e0)).clamp(0.0, 1.0);
            F::of64(t * t * (3.0 - 2.0 * t)).put()
        }
        _ => 0,
    }
}

#[inline(always)]
pub(crate) fn tern(op: TernOp, a: u64, b: u64, c: u64) -> u64 {
    match op {
        // mad: `fma` (OpenCL.std allows a correctly rounded fma or a multiply and an add each
        // rounded; fused is what Intel's and pocl's CPU runtimes and GPUs give, and one
        // instruction where the machine fuses). The interpreter's lane loops
        // (`exec/arithmetic.rs`) and the JIT compute exactly this.
        TernOp::Mad(k)
        | TernOp::Fma(k)
        | TernOp::FClamp(k)
        | TernOp::Mix(k)
        | TernOp::SmoothStep(k) => match k {
            Fk::H => tern_f::<H>(op, a, b, c),
            Fk::S => tern_f::<f32>(op, a, b, c),
            Fk::D => tern_f::<f64>(op, a, b, c),
        },
        TernOp::SClamp(w) => bin(BinOp::SMin(w), bin(BinOp::SMax(w), a, b), c),
        TernOp::UClamp => a.max(b).min(c),
        TernOp::SMad24(w) => bin(BinOp::IAdd(mask(w)), bin(BinOp::SMul24(w), a, b), c),
        TernOp::UMad24(w) => bin(BinOp::IAdd(mask(w)), bin(BinOp::UMul24(w), a, b), c),
        TernOp::SMadHi(w) => bin(BinOp::IAdd(mask(w)), bin(BinOp::SMulHi(w), a, b), c),
        TernOp::UMadHi(w) => bin(BinOp::IAdd(mask(w)), bin(BinOp::UMulHi(w), a, b), c),
        TernOp::SMadSat(w) => {
            let p = i128::from(sext(a, w)) * i128::from(sext(b, w)) + i128::from(sext(c, w));
            sat_s(p, w)
        }
        TernOp::UMadSat(w) => {
            (u128::from(a) * u128::from(b) + u128::from(c)).min(u128::from(mask(w))) as u64
        }
        TernOp::Bitselect => (a & !c) | (b & c),
        TernOp::Select(w, vector) => {
            let pick = if vector {
                (c >> (w - 1)) & 1 != 0
            } else {
                c != 0
            };
            if pick { b } else { a }
        }
    }
}

/// Reductions over whole vectors (`n` components of float kind `Fk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reduce {
    /// OpDot.
    Dot,
    /// length(a).
    Length,
    /// distance(a, b).
    Distance,
    /// OpAny over bools.
    Any,
    /// OpAll over bools.
    All,
}

/// Computes a float reduction in f64 and rounds once.
pub(crate) fn reduce_f(k: Fk, op: Reduce, a: &[u64], b: &[u64]) -> u64 {
    let g = |x: u64| to_f64_any(k, x);
    let r = match op {
        Reduce::Dot => a.iter().zip(b).map(|(&x, &y)| g(x) * g(y)).sum::<f64>(),
        Reduce::Length => a.iter().map(|&x| g(x) * g(x)).sum::<f64>().sqrt(),
        Reduce::Distance => a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (g(x) - g(y)).powi(2))
            .sum::<f64>()
            .sqrt(),
        Reduce::Any => return u64::from(a.iter().any(|&x| x != 0)),
        Reduce::All => return u64::from(a.iter().all(|&x| x != 0)),
    };
    ftof_f64(r, k, Rm::Rte)
}

/// Converts any float kind's bits to f64 (printf).
pub(crate) fn float_to_f64(k: Fk, a: u64) -> f64 {
    to_f64_any(k, a)
}
