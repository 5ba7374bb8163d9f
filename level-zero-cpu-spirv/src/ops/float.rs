//! Float arithmetic per float kind: the [`Fl`] trait, implemented by `f32`, `f64` and
//! [`H`] (`half`, computed in `f32`: the `Float16` capability), with the OpenCL.std math
//! functions ([`FUn`], [`FBin`]) and the comparisons of `OpFOrd*`/`OpFUnord*` ([`fcmp`]).

use half::f16;

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
                    FUn::Erf => libm::erf(x as f64) as $t,
                    FUn::Erfc => libm::erfc(x as f64) as $t,
                    FUn::Tgamma => libm::tgamma(x as f64) as $t,
                    FUn::Lgamma => libm::lgamma(x as f64) as $t,
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
    /// OpenCL.std `erf`, `erfc`, `tgamma`, `lgamma` (the `libm` crate's, computed in double
    /// precision and rounded for `float` and `half`).
    Erf,
    Erfc,
    Tgamma,
    Lgamma,
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
