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

/// `remquo(x, y)` in type `$t`, exactly: `x - k * y` for the integer `k` nearest `x / y`
/// (ties to even), and `k`'s low 7 bits with the sign of `x / y` (OpenCL's `remquo`; its
/// value is `remainder`'s). NaN and 0 when `x` is infinite, `y` zero or either NaN; `(x, 0)`
/// when `y` is infinite.
///
/// Every step is exact: `fmod` is; scaling `|y|` by powers of two is (or overflows to
/// infinity, where the comparison it serves still holds); each subtraction has its operands
/// within a factor of two of each other (Sterbenz).
macro_rules! remquo {
    ($t:ty, $x:expr, $y:expr) => {{
        let (x, y): ($t, $t) = ($x, $y);
        if x.is_nan() || y.is_nan() || x.is_infinite() || y == 0.0 {
            (<$t>::NAN, 0i32)
        } else if y.is_infinite() {
            (x, 0)
        } else {
            let (ax, ay) = (x.abs(), y.abs());
            let wide = ay * 128.0;
            // r < 128 |y| from here on.
            let mut r = if wide.is_finite() { ax % wide } else { ax };
            let mut q = 0i32;
            for b in (0..7).rev() {
                let t = ay * (1u32 << b) as $t;
                if r >= t {
                    r -= t;
                    q |= 1 << b;
                }
            }
            // r < |y|: round the quotient to nearest, ties to even.
            let twice = r * 2.0;
            if twice > ay || (twice == ay && q & 1 == 1) {
                r -= ay;
                q += 1;
            }
            let r = if x.is_sign_negative() { -r } else { r };
            let q = q & 0x7f;
            (r, if (x < 0.0) != (y < 0.0) { -q } else { q })
        }
    }};
}

/// `remquo`'s quotient bits (an `i32`, as its 32 bits) for kind `k`.
pub(crate) fn remquo_quotient(k: super::Fk, a: u64, b: u64) -> u64 {
    let q = match k {
        // Half operands are exact in f32, and so is their remainder.
        super::Fk::H => remquo!(f32, H::get(a).0, H::get(b).0).1,
        super::Fk::S => remquo!(f32, f32::get(a), f32::get(b)).1,
        super::Fk::D => remquo!(f64, f64::get(a), f64::get(b)).1,
    };
    u64::from(q as u32)
}

macro_rules! first_nan {
    ($name:ident, $t:ty, $quiet:expr) => {
        /// `r`, the result of an arithmetic operation on `x` and `y` (in that order), with the
        /// NaN it gives made definite: `x` quieted when `x` is a NaN, else `r`. That is the
        /// x86 rule (the first source operand's NaN), which the JIT's code follows; Rust
        /// leaves the NaN of an operation on two NaNs unspecified (LLVM may swap the operands
        /// of a commutative one), so without this the interpreter's NaNs would depend on how
        /// it was compiled. When `x` is no NaN, `r` is already definite on the hardware: `y`
        /// quieted when `y` is one (the only NaN operand, in either order), else a NaN the
        /// operation made or none (Rust's abstract machine, which Miri runs, leaves even that
        /// unspecified). One select, which vectorises (a second one for `y` cost the
        /// interpreter 15% on tiled matmul).
        #[inline(always)]
        pub(crate) fn $name(x: $t, _y: $t, r: $t) -> $t {
            if x.is_nan() {
                <$t>::from_bits(x.to_bits() | $quiet)
            } else {
                r
            }
        }
    };
}
first_nan!(first_nan_f32, f32, 0x0040_0000);
first_nan!(first_nan_f64, f64, 0x0008_0000_0000_0000);

macro_rules! fused {
    ($name:ident, $t:ty, $quiet:expr) => {
        /// `fma(x, y, z)` (and `mad`, which is fused: `crate::ops::tern`), rounded once,
        /// with its NaN made definite: `y` quieted when `y` is a NaN, else `x` quieted when
        /// `x` is one, else the operation's own (`z` quieted, or the NaN an invalid product
        /// or sum makes). That is what x86's fused multiply-add gives for the operand order
        /// the JIT's code uses (`vfmadd213`, which multiplies `y` by `x`), on any machine;
        /// the C library's `fma` without the instruction may pick another NaN of two, and
        /// the JIT calls this function where the machine has no fused multiply-add.
        #[inline(always)]
        pub(crate) fn $name(x: $t, y: $t, z: $t) -> $t {
            let r = x.mul_add(y, z);
            if y.is_nan() {
                <$t>::from_bits(y.to_bits() | $quiet)
            } else if x.is_nan() {
                <$t>::from_bits(x.to_bits() | $quiet)
            } else {
                r
            }
        }
    };
}
fused!(fma_f32, f32, 0x0040_0000);
fused!(fma_f64, f64, 0x0008_0000_0000_0000);

/// `first_nan_f32`/`first_nan_f64` and `fma_f32`/`fma_f64` for the type of the operands.
trait FirstNan: Copy {
    fn first_nan(self, y: Self, r: Self) -> Self;
    fn fused(self, y: Self, z: Self) -> Self;
}
impl FirstNan for f32 {
    #[inline(always)]
    fn first_nan(self, y: Self, r: Self) -> Self {
        first_nan_f32(self, y, r)
    }
    #[inline(always)]
    fn fused(self, y: Self, z: Self) -> Self {
        fma_f32(self, y, z)
    }
}
impl FirstNan for f64 {
    #[inline(always)]
    fn first_nan(self, y: Self, r: Self) -> Self {
        first_nan_f64(self, y, r)
    }
    #[inline(always)]
    fn fused(self, y: Self, z: Self) -> Self {
        fma_f64(self, y, z)
    }
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
                self.first_nan(o, self + o)
            }
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                self.first_nan(o, self - o)
            }
            #[inline(always)]
            fn mul(self, o: Self) -> Self {
                self.first_nan(o, self * o)
            }
            #[inline(always)]
            fn fma(self, a: Self, b: Self) -> Self {
                self.fused(a, b)
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
                    FBin::Add => x.first_nan(y, x + y),
                    FBin::Sub => x.first_nan(y, x - y),
                    FBin::Mul => x.first_nan(y, x * y),
                    FBin::Div => x.first_nan(y, x / y),
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
                    FBin::Remainder => remquo!($t, x, y).0,
                    FBin::Atan2pi => x.atan2(y) / std::f64::consts::PI as $t,
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
        H(first_nan_f32(self.0, o.0, self.0 + o.0))
    }
    fn sub(self, o: Self) -> Self {
        H(first_nan_f32(self.0, o.0, self.0 - o.0))
    }
    fn mul(self, o: Self) -> Self {
        H(first_nan_f32(self.0, o.0, self.0 * o.0))
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
    /// IEEE remainder, exact (`remainder`, and `remquo`'s value).
    Remainder,
    /// `atan2(y, x) / pi`.
    Atan2pi,
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

#[cfg(test)]
mod tests {
    use super::super::{BinOp, Fk, UnOp, bin, un};

    /// The exact `remquo` of two floats `m · 2^e` with exponents in a window where their
    /// integer multiples of the smallest exponent fit an `i128`: `(remainder, low 7 bits of
    /// the quotient with its sign)`.
    fn exact(x: (i64, i32), y: (i64, i32), low: i32) -> (f64, i32) {
        let nx = i128::from(x.0) << (x.1 - low);
        let ny = i128::from(y.0) << (y.1 - low);
        let (q, r) = (nx / ny, nx % ny);
        // Round to nearest, ties to even (q truncates toward zero, r has x's sign).
        let (twice, ay) = (2 * r.abs(), ny.abs());
        let q = if twice > ay || (twice == ay && q % 2 != 0) {
            q + if (nx < 0) == (ny < 0) { 1 } else { -1 }
        } else {
            q
        };
        let r = nx - q * ny;
        let bits = (q.unsigned_abs() & 0x7f) as i32;
        (r as f64 * pow2(low), if q < 0 { -bits } else { bits })
    }

    /// 2^e for a normal `f64` exponent, exactly (`powi` is not exact under Miri).
    fn pow2(e: i32) -> f64 {
        f64::from_bits(((1023 + e) as u64) << 52)
    }

    fn next(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    #[test]
    fn remquo_is_exact_for_floats() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        // Fewer under Miri (interpreted, and slow at it).
        for k in 0..if cfg!(miri) { 300 } else { 20_000 } {
            // Mantissas of 24 bits, exponents in [-149, -149 + 90]: near ties too (k % 4).
            let mut draw = || {
                let m = (next(&mut s) % (1 << 24)) as i64
                    * if next(&mut s).is_multiple_of(2) {
                        1
                    } else {
                        -1
                    };
                let e = -149 + (next(&mut s) % 90) as i32;
                (m, e)
            };
            let (x, mut y) = (draw(), draw());
            if y.0 == 0 {
                y.0 = 3;
            }
            if k % 4 == 0 {
                // x = (n + 1/2) y exactly, for ties.
                let n = (next(&mut s) % 300) as i64;
                y = (if y.0 & !1 == 0 { 2 } else { y.0 & !1 }, y.1.min(-149 + 60));
                let xm = (2 * n + 1) * (y.0 / 2);
                if xm.unsigned_abs() < (1 << 24) {
                    let x = (xm, y.1);
                    check(x, y);
                    continue;
                }
            }
            check(x, y);
        }
        fn check(x: (i64, i32), y: (i64, i32)) {
            let xf = x.0 as f64 * pow2(x.1);
            let yf = y.0 as f64 * pow2(y.1);
            let (xs, ys) = (xf as f32, yf as f32);
            assert_eq!((xs as f64, ys as f64), (xf, yf), "inputs exact in f32");
            let (r, q) = exact(x, y, -149);
            let a = u64::from(xs.to_bits());
            let b = u64::from(ys.to_bits());
            let got_r = f32::from_bits(bin(BinOp::F(Fk::S, super::FBin::Remainder), a, b) as u32);
            let got_q = bin(BinOp::RemquoQuotient(Fk::S), a, b) as u32 as i32;
            assert_eq!(got_r as f64, r, "remainder({xs:e}, {ys:e})");
            if r == 0.0 {
                assert_eq!(
                    got_r.is_sign_negative(),
                    xs < 0.0,
                    "sign of a zero remainder"
                );
            }
            assert_eq!(got_q, q, "remquo({xs:e}, {ys:e}) quotient bits");
        }
    }

    #[test]
    fn remquo_edges() {
        let f = |x: f32, y: f32| {
            let (a, b) = (u64::from(x.to_bits()), u64::from(y.to_bits()));
            (
                f32::from_bits(bin(BinOp::F(Fk::S, super::FBin::Remainder), a, b) as u32),
                bin(BinOp::RemquoQuotient(Fk::S), a, b) as u32 as i32,
            )
        };
        assert!(f(1.0, 0.0).0.is_nan() && f(1.0, 0.0).1 == 0);
        assert!(f(f32::INFINITY, 2.0).0.is_nan());
        assert!(f(f32::NAN, 2.0).0.is_nan());
        assert_eq!(f(5.5, f32::INFINITY), (5.5, 0));
        // 5 / 2 = 2.5: ties to even 2, remainder 1; 7 / 2 = 3.5 -> 4, remainder -1.
        assert_eq!(f(5.0, 2.0), (1.0, 2));
        assert_eq!(f(7.0, 2.0), (-1.0, 4));
        assert_eq!(f(-7.0, 2.0), (1.0, -4));
        assert_eq!(f(7.0, -2.0), (-1.0, -4));
        // A quotient of 2^100: its low 7 bits are 0; the remainder is exact.
        let (r, q) = f(pow2(100) as f32, 1.0);
        assert_eq!((r, q), (0.0, 0));
        // A quotient near 2^126: the remainder is at most half of y.
        let (r, _) = f(f32::MAX, 3.0);
        assert!(r.abs() <= 1.5);
        // Largest |y|: 128 |y| overflows.
        let (r, q) = f(f32::MAX, f32::MAX / 3.0);
        assert_eq!(q, 3);
        assert_eq!(r as f64, f32::MAX as f64 - 3.0 * (f32::MAX / 3.0) as f64);
        // Doubles and halves.
        let d = |x: f64, y: f64| {
            let (a, b) = (x.to_bits(), y.to_bits());
            (
                f64::from_bits(bin(BinOp::F(Fk::D, super::FBin::Remainder), a, b)),
                bin(BinOp::RemquoQuotient(Fk::D), a, b) as u32 as i32,
            )
        };
        assert_eq!(d(1e300, 7.0).0, libm::remainder(1e300, 7.0));
        // -10.5 / 3 = -3.5: ties to even -4, remainder 1.5.
        assert_eq!(d(-10.5, 3.0), (1.5, -4));
        let h = |x: f32, y: f32| {
            let (a, b) = (
                u64::from(half::f16::from_f32(x).to_bits()),
                u64::from(half::f16::from_f32(y).to_bits()),
            );
            (
                half::f16::from_bits(bin(BinOp::F(Fk::H, super::FBin::Remainder), a, b) as u16)
                    .to_f32(),
                bin(BinOp::RemquoQuotient(Fk::H), a, b) as u32 as i32,
            )
        };
        assert_eq!(h(65504.0, 3.0), (65504.0 - 3.0 * 21835.0, 21835 & 0x7f));
    }

    #[test]
    fn ilogb_lgamma_sign_upsample() {
        let il = |x: f32| un(UnOp::Ilogb(Fk::S), u64::from(x.to_bits())) as u32 as i32;
        assert_eq!(il(0.0), i32::MIN);
        assert_eq!(il(-0.0), i32::MIN);
        assert_eq!(il(f32::NAN), i32::MAX);
        assert_eq!(il(f32::NEG_INFINITY), i32::MAX);
        assert_eq!(il(1.0), 0);
        assert_eq!(il(-0.75), -1);
        assert_eq!(il(f32::MAX), 127);
        assert_eq!(il(f32::MIN_POSITIVE), -126);
        assert_eq!(il(f32::from_bits(1)), -149);
        let id = |x: f64| un(UnOp::Ilogb(Fk::D), x.to_bits()) as u32 as i32;
        assert_eq!(id(f64::from_bits(1)), -1074);
        assert_eq!(id(1e300), 996);
        let sg = |x: f32| un(UnOp::LgammaSign(Fk::S), u64::from(x.to_bits())) as u32 as i32;
        assert_eq!(sg(2.5), 1);
        assert_eq!(sg(-0.5), -1);
        assert_eq!(sg(-1.5), 1);
        assert_eq!(sg(-2.5), -1);
        assert_eq!(sg(-0.0), -1);
        assert_eq!(sg(0.0), 1);
        assert_eq!(sg(-3.0), 1);
        assert_eq!(sg(f32::NAN), 1);
        assert_eq!(bin(BinOp::Upsample(8), 0xff, 0x12), 0xff12);
        assert_eq!(
            bin(BinOp::Upsample(32), 0xffff_ffff, 0x8000_0001),
            0xffff_ffff_8000_0001
        );
        // Operands wider than their width (not masked by a caller) do not leak.
        assert_eq!(bin(BinOp::Upsample(16), 0x1_0002, 0xf_0003), 0x0002_0003);
    }

    /// An operation on two NaNs gives the first one's, quieted, on every path of the
    /// interpreter and in either operand order (the JIT's x86 code does): release builds
    /// of the interpreter used to give either, as LLVM swapped operands.
    #[test]
    fn nan_of_two_nans_is_the_first() {
        use super::super::{TernOp, tern};
        use super::FBin;
        // Run-time values, as a kernel's are (LLVM's constant folding need not quiet a
        // signalling NaN).
        use std::hint::black_box as rt;
        let (p, q) = (rt(0x7fc0_1234u64), rt(0xff80_0001u64)); // a quiet NaN, a signalling one
        let one = rt(0x3f80_0000u64);
        for op in [FBin::Add, FBin::Sub, FBin::Mul, FBin::Div] {
            assert_eq!(bin(BinOp::F(Fk::S, op), p, q), p, "{op:?}");
            assert_eq!(bin(BinOp::F(Fk::S, op), q, p), q | 0x0040_0000, "{op:?}");
        }
        let (dp, dq) = (rt(0x7ff8_0000_0000_0001u64), rt(0xfff0_0000_0000_0002u64));
        assert_eq!(bin(BinOp::F(Fk::D, FBin::Add), dp, dq), dp);
        assert_eq!(
            bin(BinOp::F(Fk::D, FBin::Mul), dq, dp),
            dq | 0x0008_0000_0000_0000
        );
        // With one NaN operand, the second, the rule leaves the operation's own NaN: the
        // hardware's, that operand quieted (x86; the JIT's code gives the same). Rust's
        // abstract machine leaves it unspecified (Miri picks any NaN), so not under Miri.
        if !cfg!(miri) {
            for op in [FBin::Add, FBin::Sub, FBin::Mul, FBin::Div] {
                assert_eq!(bin(BinOp::F(Fk::S, op), one, q), q | 0x0040_0000, "{op:?}");
            }
            assert_eq!(tern(TernOp::Mad(Fk::S), one, one, q), q | 0x0040_0000);
            assert_eq!(tern(TernOp::Mad(Fk::S), one, q, one), q | 0x0040_0000);
        }
    }

    // Not under Miri, which may add an error to `mul_add` (its float non-determinism).
    #[test]
    #[cfg_attr(miri, ignore)]
    fn mad_is_fused() {
        use super::super::{TernOp, tern};
        use super::{Fl, H};
        // x * x = 1 + 2^-22 + 2^-46 exactly: rounded to 1 + 2^-22 the sum would be 0.
        let x = std::hint::black_box(1.0f32 + f32::EPSILON);
        let z = -(1.0f32 + 2.0 * f32::EPSILON);
        let r = tern(TernOp::Mad(Fk::S), x.put(), x.put(), z.put());
        assert_eq!(f32::get(r), 2f32.powi(-46));
        let x = std::hint::black_box(1.0f64 + f64::EPSILON);
        let z = -(1.0f64 + 2.0 * f64::EPSILON);
        let r = tern(TernOp::Mad(Fk::D), x.put(), x.put(), z.put());
        assert_eq!(f64::get(r), 2f64.powi(-104));
        // half: 1 + 2^-10 squared is 1 + 2^-9 + 2^-20.
        let x = H(1.0 + 2f32.powi(-10));
        let z = H(-(1.0 + 2f32.powi(-9)));
        let r = tern(TernOp::Mad(Fk::H), x.put(), x.put(), z.put());
        assert_eq!(H::get(r).0, 2f32.powi(-20));
    }
}
