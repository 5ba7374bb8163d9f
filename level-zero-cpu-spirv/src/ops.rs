//! The value operations of the interpreter: what one lane computes for one component.
//!
//! Registers hold one `u64` per component and lane. Integers are kept zero-extended to their
//! width (so a `char` of -1 is `0xff`), booleans are 0 or 1, floats are their bit pattern
//! (`f16` in the low 16 bits, `f32` in the low 32), pointers are 64-bit addresses.

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

/// The float arithmetic every kind supports. `H` computes in `f32` and rounds on the way
/// out, which is exact for the basic operations (f32 has more than 2*11+2 bits).
pub(crate) trait Fl: Copy + PartialOrd {
    fn get(x: u64) -> Self;
    fn put(self) -> u64;
    fn f64(self) -> f64;
    fn of64(x: f64) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn fma(self, a: Self, b: Self) -> Self;
    fn un(self, f: FUn) -> Self;
    fn bin(self, o: Self, f: FBin) -> Self;
    fn is_nan(self) -> bool;
}

macro_rules! float_impl {
    ($t:ty, $get:expr, $put:expr) => {
        impl Fl for $t {
            #[inline(always)]
            fn get(x: u64) -> Self {
                $get(x)
            }
            #[inline(always)]
            fn put(self) -> u64 {
                $put(self)
            }
            #[inline(always)]
            fn f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn of64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn add(self, o: Self) -> Self {
                self + o
            }
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                self - o
            }
            #[inline(always)]
            fn mul(self, o: Self) -> Self {
                self * o
            }
            #[inline(always)]
            fn fma(self, a: Self, b: Self) -> Self {
                self.mul_add(a, b)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn un(self, f: FUn) -> Self {
                let x = self;
                match f {
                    FUn::Sqrt => x.sqrt(),
                    FUn::Rsqrt => 1.0 / x.sqrt(),
                    FUn::Exp => x.exp(),
                    FUn::Exp2 => x.exp2(),
                    FUn::Exp10 => (10.0 as $t).powf(x),
                    FUn::Expm1 => x.exp_m1(),
                    FUn::Log => x.ln(),
                    FUn::Log2 => x.log2(),
                    FUn::Log10 => x.log10(),
                    FUn::Log1p => x.ln_1p(),
                    FUn::Sin => x.sin(),
                    FUn::Cos => x.cos(),
                    FUn::Tan => x.tan(),
                    FUn::Asin => x.asin(),
                    FUn::Acos => x.acos(),
                    FUn::Atan => x.atan(),
                    FUn::Sinh => x.sinh(),
                    FUn::Cosh => x.cosh(),
                    FUn::Tanh => x.tanh(),
                    FUn::Asinh => x.asinh(),
                    FUn::Acosh => x.acosh(),
                    FUn::Atanh => x.atanh(),
                    FUn::Sinpi => (x * std::f64::consts::PI as $t).sin(),
                    FUn::Cospi => (x * std::f64::consts::PI as $t).cos(),
                    FUn::Tanpi => (x * std::f64::consts::PI as $t).tan(),
                    FUn::Asinpi => x.asin() / std::f64::consts::PI as $t,
                    FUn::Acospi => x.acos() / std::f64::consts::PI as $t,
                    FUn::Atanpi => x.atan() / std::f64::consts::PI as $t,
                    FUn::Cbrt => x.cbrt(),
                    FUn::Fabs => x.abs(),
                    FUn::Floor => x.floor(),
                    FUn::Ceil => x.ceil(),
                    FUn::Round => x.round(),
                    FUn::Trunc => x.trunc(),
                    FUn::Rint => x.round_ties_even(),
                    FUn::Neg => -x,
                    FUn::Sign => {
                        if x.is_nan() {
                            0.0
                        } else if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            x
                        }
                    }
                    FUn::Degrees => x * (180.0 / std::f64::consts::PI) as $t,
                    FUn::Radians => x * (std::f64::consts::PI / 180.0) as $t,
                    FUn::Recip => 1.0 / x,
                    FUn::Fract => (x - x.floor()).min(<$t>::from_bits(<$t>::to_bits(1.0) - 1)),
                    FUn::ModfFrac => {
                        if x.is_infinite() {
                            (0.0 as $t).copysign(x)
                        } else {
                            x - x.trunc()
                        }
                    }
                    FUn::Logb => {
                        if x == 0.0 {
                            <$t>::NEG_INFINITY
                        } else if x.is_infinite() {
                            <$t>::INFINITY
                        } else {
                            x.abs().log2().floor()
                        }
                    }
                }
            }
            fn bin(self, y: Self, f: FBin) -> Self {
                let x = self;
                match f {
                    FBin::Add => x + y,
                    FBin::Sub => x - y,
                    FBin::Mul => x * y,
                    FBin::Div => x / y,
                    // OpFRem / fmod: the sign of x.
                    FBin::Rem => x % y,
                    // OpFMod: the sign of y.
                    FBin::Mod => {
                        let r = x % y;
                        if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                            r + y
                        } else {
                            r
                        }
                    }
                    FBin::Min => {
                        if y < x || x.is_nan() {
                            y
                        } else {
                            x
                        }
                    }
                    FBin::Max => {
                        if y > x || x.is_nan() {
                            y
                        } else {
                            x
                        }
                    }
                    FBin::Pow => x.powf(y),
                    FBin::Atan2 => x.atan2(y),
                    FBin::Hypot => x.hypot(y),
                    FBin::Fdim => {
                        if x > y {
                            x - y
                        } else if x.is_nan() || y.is_nan() {
                            <$t>::NAN
                        } else {
                            0.0
                        }
                    }
                    FBin::Copysign => x.copysign(y),
                    // The next representable value after x toward y (C99 nextafter).
                    FBin::Nextafter => {
                        if x.is_nan() || y.is_nan() {
                            x + y
                        } else if x == y {
                            y
                        } else if x == 0.0 {
                            <$t>::from_bits(1).copysign(y)
                        } else if (x < y) == (x > 0.0) {
                            <$t>::from_bits(x.to_bits() + 1)
                        } else {
                            <$t>::from_bits(x.to_bits() - 1)
                        }
                    }
                    FBin::Maxmag => {
                        if x.abs() > y.abs() {
                            x
                        } else if y.abs() > x.abs() {
                            y
                        } else {
                            x.bin(y, FBin::Max)
                        }
                    }
                    FBin::Minmag => {
                        if x.abs() < y.abs() {
                            x
                        } else if y.abs() < x.abs() {
                            y
                        } else {
                            x.bin(y, FBin::Min)
                        }
                    }
                    // step(edge = x, value = y)
                    FBin::Step => {
                        if y < x {
                            0.0
                        } else {
                            1.0
                        }
                    }
                    FBin::Remainder => {
                        let n = (x / y).round_ties_even();
                        x - n * y
                    }
                }
            }
        }
    };
}

float_impl!(f32, |x: u64| f32::from_bits(x as u32), |v: f32| u64::from(
    v.to_bits()
));
float_impl!(f64, f64::from_bits, f64::to_bits);

/// `half`, computed in f32.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct H(pub(crate) f32);

impl Fl for H {
    #[inline(always)]
    fn get(x: u64) -> Self {
        H(f16::from_bits(x as u16).to_f32())
    }
    #[inline(always)]
    fn put(self) -> u64 {
        u64::from(f16::from_f32(self.0).to_bits())
    }
    fn f64(self) -> f64 {
        f64::from(self.0)
    }
    fn of64(x: f64) -> Self {
        H(f16::from_f64(x).to_f32())
    }
    fn add(self, o: Self) -> Self {
        H(self.0 + o.0)
    }
    fn sub(self, o: Self) -> Self {
        H(self.0 - o.0)
    }
    fn mul(self, o: Self) -> Self {
        H(self.0 * o.0)
    }
    fn fma(self, a: Self, b: Self) -> Self {
        // Exact product in f64, one rounding to f16 of the f64 sum is close enough to a
        // single rounding for half precision (the product of two halves is exact in f32).
        H(f16::from_f64(f64::from(self.0) * f64::from(a.0) + f64::from(b.0)).to_f32())
    }
    fn un(self, f: FUn) -> Self {
        H(self.0.un(f))
    }
    fn bin(self, o: Self, f: FBin) -> Self {
        if f == FBin::Nextafter {
            // In half's own representation: f32's next value would round back to x.
            let (x, y) = (self.0, o.0);
            return H(if x.is_nan() || y.is_nan() {
                x + y
            } else if x == y {
                y
            } else if x == 0.0 {
                f16::from_bits(1).to_f32().copysign(y)
            } else {
                let b = f16::from_f32(x).to_bits();
                f16::from_bits(if (x < y) == (x > 0.0) { b + 1 } else { b - 1 }).to_f32()
            });
        }
        H(self.0.bin(o.0, f))
    }
    fn is_nan(self) -> bool {
        self.0.is_nan()
    }
}

/// Unary float functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FUn {
    Sqrt,
    Rsqrt,
    Exp,
    Exp2,
    Exp10,
    Expm1,
    Log,
    Log2,
    Log10,
    Log1p,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Sinpi,
    Cospi,
    Tanpi,
    Asinpi,
    Acospi,
    Atanpi,
    Cbrt,
    Fabs,
    Floor,
    Ceil,
    Round,
    Trunc,
    Rint,
    Neg,
    Sign,
    Degrees,
    Radians,
    Recip,
    Logb,
    /// fract's result: `min(x - floor(x), largest below 1)`.
    Fract,
    /// modf's result: the fractional part with x's sign.
    ModfFrac,
}

/// Binary float functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FBin {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Mod,
    Min,
    Max,
    Pow,
    Atan2,
    Hypot,
    Fdim,
    Copysign,
    Nextafter,
    Maxmag,
    Minmag,
    Step,
    Remainder,
}

/// Float comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[inline(always)]
pub(crate) fn fcmp<F: Fl>(a: u64, b: u64, c: Cmp, ordered: bool) -> u64 {
    let (x, y) = (F::get(a), F::get(b));
    if x.is_nan() || y.is_nan() {
        return u64::from(!ordered);
    }
    u64::from(match c {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
    })
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

/// One lane of a binary operation. Hot operations are matched by [`crate::exec`] before the
/// lane loop; this is the general (slower) path.
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
    /// nan(code): a quiet NaN of the kind with the code as payload.
    Nan(Fk),
}

fn to_f64_any(k: Fk, a: u64) -> f64 {
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
fn ftoi(k: Fk, a: u64, bits: u8, signed: bool, rm: Rm) -> u64 {
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
fn itof(a: u64, bits: u8, signed: bool, to: Fk, rm: Rm) -> u64 {
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
        UnOp::Nan(k) => match k {
            Fk::H => 0x7e00 | (a & 0x1ff),
            Fk::S => 0x7fc0_0000 | (a & 0x3f_ffff),
            Fk::D => 0x7ff8_0000_0000_0000 | (a & 0x7_ffff_ffff_ffff),
        },
    }
}

/// `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1` (zero, infinities and NaN: `(x, 0)`).
fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    // Scale subnormals into the normal range first.
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        (x * 2f64.powi(64), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, e + bias)
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
        TernOp::Fma(k)
        | TernOp::Mad(k)
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
