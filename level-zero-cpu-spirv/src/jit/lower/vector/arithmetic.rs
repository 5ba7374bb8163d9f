//! The vector path's arithmetic: integer and float operations, conversions, compares and
//! selects on SIMD vectors of the chunk's lanes.

use super::*;
use crate::ir::Slot;
use crate::jit::lower::{I32, I64, Lower};
use crate::jit::simd::Class;
use crate::ops::{BinOp, Cmp, FBin, FUn, Fk, Rm, TernOp, UnOp, mask};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, Value, types};

impl Lower<'_, '_> {
    pub(super) fn vbin_ok(&self, op: BinOp, d: Slot, a: Slot, b: Slot) -> bool {
        use BinOp::*;
        let (cd, ca, cb) = (self.class_of(d), self.class_of(a), self.class_of(b));
        let narrow = cd == Class::Narrow;
        match op {
            IAdd(_) | ISub(_) | IMul(_) | And | Or | Xor => cd != Class::Uniform,
            Shl(w) | Shr(w) | Sar(w) => {
                cb == Class::Uniform
                    && w > 0
                    && ((narrow && w <= 32 && (w == 32 || !matches!(op, Sar(_))))
                        || (cd == Class::Wide && w == 64))
            }
            IEq | INe | ULt | ULe | UGt | UGe => narrow,
            // Operands of a 32-bit compare hold 32-bit values, whatever their class.
            SLt(w) | SLe(w) | SGt(w) | SGe(w) => narrow && (w == 32 || w == 64),
            UMin | UMax => narrow && ca == Class::Narrow && cb == Class::Narrow,
            SMin(32) | SMax(32) => narrow,
            // fmin/fmax pick one operand's bits (`crate::ops`: y if y < x or x is NaN, else
            // x); copysign is bit arithmetic: the same bits as the interpreter's.
            F(
                k @ (Fk::S | Fk::D),
                FBin::Add
                | FBin::Sub
                | FBin::Mul
                | FBin::Div
                | FBin::Min
                | FBin::Max
                | FBin::Copysign
                | FBin::Step
                | FBin::Fdim
                | FBin::Maxmag
                | FBin::Minmag,
            ) => {
                if k == Fk::S {
                    narrow
                } else {
                    cd == Class::Wide
                }
            }
            FCmp(Fk::S | Fk::D, c, ordered) => narrow && vector_fcc(c, ordered).is_some(),
            _ => false,
        }
    }

    pub(super) fn mask_v(&mut self, v: V, m: u64) -> V {
        match v {
            V::N(x) if m < u64::from(u32::MAX) => {
                let k = self.b.ins().iconst(I32, m as i64);
                let k = self.b.ins().splat(I32X4, k);
                V::N(x.into_iter().map(|p| self.b.ins().band(p, k)).collect())
            }
            V::W(x) if m != u64::MAX => {
                let k = self.vconst_i64([m as i64, m as i64]);
                V::W(x.into_iter().map(|p| self.b.ins().band(p, k)).collect())
            }
            v => v,
        }
    }

    /// `f` part by part over two values of one kind.
    pub(super) fn zip2(&mut self, x: V, y: V, f: impl Fn(&mut Self, Value, Value) -> Value) -> V {
        match (x, y) {
            (V::N(x), V::N(y)) => V::N(x.into_iter().zip(y).map(|(p, q)| f(self, p, q)).collect()),
            (V::W(x), V::W(y)) => V::W(x.into_iter().zip(y).map(|(p, q)| f(self, p, q)).collect()),
            _ => unreachable!(),
        }
    }

    /// `f` part by part.
    pub(super) fn map1(&mut self, x: V, f: impl Fn(&mut Self, Value) -> Value) -> V {
        match x {
            V::N(x) => V::N(x.into_iter().map(|p| f(self, p)).collect()),
            V::W(x) => V::W(x.into_iter().map(|p| f(self, p)).collect()),
        }
    }

    /// Wide lane masks as narrow ones (0 or 1 per lane).
    pub(super) fn wide_mask_to_bool(&mut self, m: Vec<Value>) -> V {
        let parts = m
            .chunks(2)
            .map(|c| {
                let n = self.narrow_pair(c[0], c[1]);
                self.bool_n(n)
            })
            .collect();
        V::N(parts)
    }

    /// A lane mask (all ones / zeros per lane) as 0 or 1 per 32-bit lane.
    pub(super) fn bool_n(&mut self, m: Value) -> Value {
        self.b.ins().ushr_imm(m, 31)
    }

    pub(super) fn vbin(&mut self, op: BinOp, d: Slot, a: Slot, b: Slot) -> V {
        use BinOp::*;
        let cd = self.class_of(d);
        match op {
            IAdd(_) | ISub(_) | IMul(_) | And | Or | Xor => {
                let (x, y) = (self.vget(a, cd), self.vget(b, cd));
                let v = self.zip2(x, y, |me, p, q| match op {
                    IAdd(_) => me.b.ins().iadd(p, q),
                    ISub(_) => me.b.ins().isub(p, q),
                    IMul(_) => me.b.ins().imul(p, q),
                    And => me.b.ins().band(p, q),
                    Or => me.b.ins().bor(p, q),
                    _ => me.b.ins().bxor(p, q),
                });
                match op {
                    IAdd(m) | ISub(m) | IMul(m) => self.mask_v(v, m),
                    _ => v,
                }
            }
            Shl(w) | Shr(w) | Sar(w) => {
                let s = self.var(b);
                let s = self.b.ins().urem_imm(s, i64::from(w));
                let s = self.b.ins().ireduce(I32, s);
                let x = self.vget(a, cd);
                let v = self.map1(x, |me, p| match op {
                    Shl(_) => me.b.ins().ishl(p, s),
                    Shr(_) => me.b.ins().ushr(p, s),
                    _ => me.b.ins().sshr(p, s),
                });
                if matches!(op, Shl(_)) {
                    self.mask_v(v, mask(w))
                } else {
                    v
                }
            }
            IEq | INe | ULt | ULe | UGt | UGe | SLt(_) | SLe(_) | SGt(_) | SGe(_) => {
                let cc = match op {
                    IEq => IntCC::Equal,
                    INe => IntCC::NotEqual,
                    ULt => IntCC::UnsignedLessThan,
                    ULe => IntCC::UnsignedLessThanOrEqual,
                    UGt => IntCC::UnsignedGreaterThan,
                    UGe => IntCC::UnsignedGreaterThanOrEqual,
                    SLt(_) => IntCC::SignedLessThan,
                    SLe(_) => IntCC::SignedLessThanOrEqual,
                    SGt(_) => IntCC::SignedGreaterThan,
                    _ => IntCC::SignedGreaterThanOrEqual,
                };
                let narrow = match op {
                    SLt(w) | SLe(w) | SGt(w) | SGe(w) => w == 32,
                    _ => self.class_of(a) == Class::Narrow && self.class_of(b) == Class::Narrow,
                };
                if narrow {
                    let (x, y) = (V::N(self.n(a)), V::N(self.n(b)));
                    let m = self.zip2(x, y, |me, p, q| me.b.ins().icmp(cc, p, q));
                    self.map1(m, |me, p| me.bool_n(p))
                } else {
                    let (x, y) = (V::W(self.w(a)), V::W(self.w(b)));
                    let (V::W(m) | V::N(m)) = self.zip2(x, y, |me, p, q| me.b.ins().icmp(cc, p, q));
                    self.wide_mask_to_bool(m)
                }
            }
            UMin | UMax | SMin(_) | SMax(_) => {
                let (x, y) = (V::N(self.n(a)), V::N(self.n(b)));
                self.zip2(x, y, |me, p, q| match op {
                    UMin => me.b.ins().umin(p, q),
                    UMax => me.b.ins().umax(p, q),
                    SMin(_) => me.b.ins().smin(p, q),
                    _ => me.b.ins().smax(p, q),
                })
            }
            F(k, f) => {
                let want = if k == Fk::S {
                    Class::Narrow
                } else {
                    Class::Wide
                };
                let (x, y) = (self.vget(a, want), self.vget(b, want));
                self.zip2(x, y, |me, pi, qi| {
                    if f == FBin::Copysign {
                        // x's bits but the sign, y's sign.
                        let sign = if k == Fk::S {
                            me.vconst_i32([i32::MIN; 4])
                        } else {
                            me.vconst_i64([i64::MIN; 2])
                        };
                        return me.b.ins().bitselect(sign, qi, pi);
                    }
                    let (p, q) = (me.fvec(pi, k), me.fvec(qi, k));
                    let r = match f {
                        // step(edge = x, value = y): 0 if y < x, else 1 (NaN: 1).
                        FBin::Step => {
                            let lt = me.b.ins().fcmp(FloatCC::LessThan, q, p);
                            let lt = me.fvec(lt, k);
                            let (zero, one) = (me.fsplat(k, 0.0), me.fsplat(k, 1.0));
                            me.b.ins().bitselect(lt, zero, one)
                        }
                        // x - y if x > y; else the default NaN if either is NaN, else +0.
                        FBin::Fdim => {
                            let gt = me.b.ins().fcmp(FloatCC::GreaterThan, p, q);
                            let gt = me.fvec(gt, k);
                            let un = me.b.ins().fcmp(FloatCC::Unordered, p, q);
                            let un = me.fvec(un, k);
                            let (nan, zero) = (me.fsplat(k, f64::NAN), me.fsplat(k, 0.0));
                            let d = me.b.ins().fsub(p, q);
                            let other = me.b.ins().bitselect(un, nan, zero);
                            me.b.ins().bitselect(gt, d, other)
                        }
                        // The operand of larger (smaller) magnitude; on a tie or a NaN,
                        // fmax (fmin) of the two.
                        FBin::Maxmag | FBin::Minmag => {
                            let (ap, aq) = (me.b.ins().fabs(p), me.b.ins().fabs(q));
                            let cc = if f == FBin::Maxmag {
                                FloatCC::GreaterThan
                            } else {
                                FloatCC::LessThan
                            };
                            let take_x = me.b.ins().fcmp(cc, ap, aq);
                            let take_y = me.b.ins().fcmp(cc, aq, ap);
                            let tie = me.fminmax(
                                if f == FBin::Maxmag {
                                    FBin::Max
                                } else {
                                    FBin::Min
                                },
                                pi,
                                qi,
                                k,
                            );
                            let tie = me.fvec(tie, k);
                            let (take_x, take_y) = (me.fvec(take_x, k), me.fvec(take_y, k));
                            let r = me.b.ins().bitselect(take_y, q, tie);
                            me.b.ins().bitselect(take_x, p, r)
                        }
                        FBin::Add => me.b.ins().fadd(p, q),
                        FBin::Sub => me.b.ins().fsub(p, q),
                        FBin::Mul => me.b.ins().fmul(p, q),
                        FBin::Min | FBin::Max => return me.fminmax(f, pi, qi, k),
                        _ => me.b.ins().fdiv(p, q),
                    };
                    me.ivec(r, k)
                })
            }
            FCmp(k, c, ordered) => {
                let (cc, swap) = vector_fcc(c, ordered).unwrap_or_else(|| unreachable!());
                let want = if k == Fk::S {
                    Class::Narrow
                } else {
                    Class::Wide
                };
                let (x, y) = (self.vget(a, want), self.vget(b, want));
                let m = self.zip2(x, y, |me, p, q| {
                    let (p, q) = (me.fvec(p, k), me.fvec(q, k));
                    let (p, q) = if swap { (q, p) } else { (p, q) };
                    me.b.ins().fcmp(cc, p, q)
                });
                match m {
                    V::N(m) => self.map1(V::N(m), |me, p| me.bool_n(p)),
                    V::W(m) => self.wide_mask_to_bool(m),
                }
            }
            _ => unreachable!(),
        }
    }

    /// An integer vector's bits as floats of kind `k` (`S`: `f32x4`, else `f64x2`).
    pub(super) fn fvec(&mut self, x: Value, k: Fk) -> Value {
        let t = if k == Fk::S {
            types::F32X4
        } else {
            types::F64X2
        };
        self.b.ins().bitcast(t, little(), x)
    }

    /// `c` rounded to kind `k`'s precision in every lane, as a float vector.
    pub(super) fn fsplat(&mut self, k: Fk, c: f64) -> Value {
        let v = if k == Fk::S {
            self.vconst_i32([(c as f32).to_bits() as i32; 4])
        } else {
            self.vconst_i64([c.to_bits() as i64; 2])
        };
        self.fvec(v, k)
    }

    /// A float vector's bits as the integer vector of its lanes.
    pub(super) fn ivec(&mut self, x: Value, k: Fk) -> Value {
        let t = if k == Fk::S { I32X4 } else { I64X2 };
        self.b.ins().bitcast(t, little(), x)
    }

    pub(super) fn vun_ok(&self, op: UnOp, d: Slot) -> bool {
        let cd = self.class_of(d);
        match op {
            UnOp::Mask(_) | UnOp::INeg(_) | UnOp::INot(_) => cd != Class::Uniform,
            UnOp::Sext(from, to) => {
                from > 0 && from <= to && (cd == Class::Wide || (cd == Class::Narrow && to <= 32))
            }
            UnOp::LNot => cd == Class::Narrow,
            // Exact IEEE operations: the same bits as `crate::ops` (rounding to an integer
            // needs SSE4.1 on x86-64); `rsqrt`, `recip`, `degrees` and `radians` are one or
            // two of them there (`1 / sqrt(x)`, `1 / x`, `x * c`), each rounded as here.
            UnOp::F(k, f) => {
                let exact = matches!(
                    f,
                    FUn::Neg
                        | FUn::Fabs
                        | FUn::Sqrt
                        | FUn::Rsqrt
                        | FUn::Recip
                        | FUn::Degrees
                        | FUn::Radians
                        | FUn::Sign
                ) || (matches!(
                    f,
                    FUn::Floor | FUn::Ceil | FUn::Trunc | FUn::Rint | FUn::Round
                ) && has_round());
                exact
                    && match k {
                        Fk::S => cd == Class::Narrow,
                        Fk::D => cd == Class::Wide,
                        Fk::H => false,
                    }
            }
            // `int` to `float`, rounded to nearest (as `ops::itof`); `float` to `int` or
            // `uint`, toward zero, saturating with NaN to 0 (as `ops::ftoi`: Rust's `as`).
            UnOp::IToF(32, true, Fk::S, Rm::Rte) | UnOp::FToI(Fk::S, 32, _, _, Rm::Rtz) => {
                cd == Class::Narrow
            }
            _ => false,
        }
    }

    pub(super) fn vun(&mut self, op: UnOp, d: Slot, a: Slot) -> V {
        let cd = self.class_of(d);
        match op {
            UnOp::Mask(m) => {
                let x = self.vget(a, cd);
                self.mask_v(x, m)
            }
            UnOp::INeg(m) | UnOp::INot(m) => {
                let x = self.vget(a, cd);
                let v = self.map1(x, |me, p| {
                    if matches!(op, UnOp::INeg(_)) {
                        me.b.ins().ineg(p)
                    } else {
                        me.b.ins().bnot(p)
                    }
                });
                self.mask_v(v, m)
            }
            UnOp::Sext(from, to) => {
                let v = if cd == Class::Narrow {
                    let x = V::N(self.n(a));
                    self.map1(x, |me, p| me.sext_n(p, from))
                } else {
                    V::W(self.wide_sext(a, from))
                };
                self.mask_v(v, mask(to))
            }
            UnOp::LNot => {
                if self.class_of(a) == Class::Narrow {
                    let x = V::N(self.n(a));
                    let z = self.vconst_i32([0; 4]);
                    let m = self.map1(x, |me, p| me.b.ins().icmp(IntCC::Equal, p, z));
                    self.map1(m, |me, p| me.bool_n(p))
                } else {
                    let x = V::W(self.w(a));
                    let z = self.vconst_i64([0, 0]);
                    let (V::W(m) | V::N(m)) =
                        self.map1(x, |me, p| me.b.ins().icmp(IntCC::Equal, p, z));
                    self.wide_mask_to_bool(m)
                }
            }
            UnOp::F(k, f) => {
                let x = if k == Fk::S {
                    V::N(self.n(a))
                } else {
                    V::W(self.w(a))
                };
                self.map1(x, |me, p| {
                    let x = me.fvec(p, k);
                    let r = match f {
                        FUn::Neg => me.b.ins().fneg(x),
                        FUn::Fabs => me.b.ins().fabs(x),
                        FUn::Sqrt => me.b.ins().sqrt(x),
                        FUn::Rsqrt => {
                            let s = me.b.ins().sqrt(x);
                            let one = me.fsplat(k, 1.0);
                            me.b.ins().fdiv(one, s)
                        }
                        FUn::Recip => {
                            let one = me.fsplat(k, 1.0);
                            me.b.ins().fdiv(one, x)
                        }
                        // The constants as `crate::ops` rounds them: in double, then to the
                        // operand's precision.
                        FUn::Degrees => {
                            let c = me.fsplat(k, 180.0 / std::f64::consts::PI);
                            me.b.ins().fmul(x, c)
                        }
                        FUn::Radians => {
                            let c = me.fsplat(k, std::f64::consts::PI / 180.0);
                            me.b.ins().fmul(x, c)
                        }
                        // 1, -1, or x itself (±0); 0 for a NaN.
                        FUn::Sign => {
                            let (zero, one, minus) =
                                (me.fsplat(k, 0.0), me.fsplat(k, 1.0), me.fsplat(k, -1.0));
                            let pos = me.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
                            let neg = me.b.ins().fcmp(FloatCC::LessThan, x, zero);
                            let nan = me.b.ins().fcmp(FloatCC::Unordered, x, x);
                            let (pos, neg, nan) =
                                (me.fvec(pos, k), me.fvec(neg, k), me.fvec(nan, k));
                            let r = me.b.ins().bitselect(pos, one, x);
                            let r = me.b.ins().bitselect(neg, minus, r);
                            me.b.ins().bitselect(nan, zero, r)
                        }
                        // Half-way cases away from zero: trunc(x), plus x's sign when the
                        // dropped part (exact) is at least one half.
                        FUn::Round => {
                            let t = me.b.ins().trunc(x);
                            let part = me.b.ins().fsub(x, t);
                            let part = me.b.ins().fabs(part);
                            let half = me.fsplat(k, 0.5);
                            let up = me.b.ins().fcmp(FloatCC::GreaterThanOrEqual, part, half);
                            let up = me.fvec(up, k);
                            // 1 with x's sign (the sign bit of -0's pattern).
                            let (one, sign) = (me.fsplat(k, 1.0), me.fsplat(k, -0.0));
                            let s = me.b.ins().bitselect(sign, x, one);
                            let away = me.b.ins().fadd(t, s);
                            me.b.ins().bitselect(up, away, t)
                        }
                        FUn::Floor => me.b.ins().floor(x),
                        FUn::Ceil => me.b.ins().ceil(x),
                        FUn::Trunc => me.b.ins().trunc(x),
                        _ => me.b.ins().nearest(x),
                    };
                    // Rounding to an integer returns a NaN as it is (the interpreter's
                    // `floor` & co. do not quiet a signalling NaN; `roundps` does). Its
                    // `round` quiets it, as `trunc` here does.
                    let r = if matches!(f, FUn::Floor | FUn::Ceil | FUn::Trunc | FUn::Rint) {
                        let nan = me.b.ins().fcmp(FloatCC::Unordered, x, x);
                        let nan = me.fvec(nan, k);
                        me.b.ins().bitselect(nan, x, r)
                    } else {
                        r
                    };
                    me.ivec(r, k)
                })
            }
            UnOp::IToF(..) => {
                let x = V::N(self.n(a));
                self.map1(x, |me, p| {
                    let r = me.b.ins().fcvt_from_sint(types::F32X4, p);
                    me.ivec(r, Fk::S)
                })
            }
            UnOp::FToI(_, _, signed, _, _) => {
                let x = V::N(self.n(a));
                self.map1(x, |me, p| {
                    let f = me.fvec(p, Fk::S);
                    if signed {
                        me.b.ins().fcvt_to_sint_sat(I32X4, f)
                    } else {
                        me.b.ins().fcvt_to_uint_sat(I32X4, f)
                    }
                })
            }
            _ => unreachable!(),
        }
    }

    /// Sign-extends each 32-bit lane from bit `from - 1`.
    pub(super) fn sext_n(&mut self, x: Value, from: u8) -> Value {
        if from >= 32 {
            return x;
        }
        let s = i64::from(32 - from);
        let y = self.b.ins().ishl_imm(x, s);
        self.b.ins().sshr_imm(y, s)
    }

    /// Varying slot `t` sign-extended from `w` bits to 64 (as the scalar path's `sext`), as
    /// wide parts.
    pub(super) fn wide_sext(&mut self, t: Slot, w: u8) -> Vec<Value> {
        if self.class_of(t) == Class::Narrow {
            let x = self.n(t);
            if w >= 64 {
                let V::W(v) = self.convert(V::N(x), Class::Wide) else {
                    unreachable!()
                };
                return v;
            }
            if w <= 32 {
                let mut out = Vec::with_capacity(self.wp());
                for p in x {
                    let p = self.sext_n(p, w);
                    out.push(self.b.ins().swiden_low(p));
                    out.push(self.b.ins().swiden_high(p));
                }
                return out;
            }
        }
        let x = self.w(t);
        if w >= 64 {
            return x;
        }
        let s = i64::from(64 - w);
        x.into_iter()
            .map(|p| {
                let y = self.b.ins().ishl_imm(p, s);
                self.b.ins().sshr_imm(y, s)
            })
            .collect()
    }

    pub(super) fn vmul_imm(&mut self, x: Value, k: i64) -> Value {
        if k == 1 {
            return x;
        }
        if k > 0 && (k as u64).is_power_of_two() {
            return self.b.ins().ishl_imm(x, i64::from(k.trailing_zeros()));
        }
        let c = self.vconst_i64([k, k]);
        self.b.ins().imul(x, c)
    }

    /// `fmin` (`f` `Min`) or `fmax` of two integer vectors' bits as floats of kind `k`: one
    /// operand's bits, as `crate::ops` picks them (y if y < x, or y > x, or x is NaN; else x).
    fn fminmax(&mut self, f: FBin, xi: Value, yi: Value, k: Fk) -> Value {
        let (p, q) = (self.fvec(xi, k), self.fvec(yi, k));
        let cc = if f == FBin::Min {
            FloatCC::LessThan
        } else {
            FloatCC::GreaterThan
        };
        let better = self.b.ins().fcmp(cc, q, p);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, p, p);
        let take_y = self.b.ins().bor(better, nan);
        self.b.ins().bitselect(take_y, yi, xi)
    }

    pub(super) fn vtern(&mut self, op: TernOp, a: Slot, b: Slot, c: Slot) -> V {
        let k = match op {
            TernOp::Fma(k) | TernOp::Mad(k) | TernOp::Mix(k) | TernOp::FClamp(k) => k,
            _ => unreachable!(),
        };
        let want = if k == Fk::S {
            Class::Narrow
        } else {
            Class::Wide
        };
        let (V::N(x) | V::W(x)) = self.vget(a, want);
        let (V::N(y) | V::W(y)) = self.vget(b, want);
        let (V::N(z) | V::W(z)) = self.vget(c, want);
        let parts: Vec<Value> = (0..x.len())
            .map(|i| {
                if matches!(op, TernOp::FClamp(_)) {
                    // `crate::ops::tern`: fmin(fmax(x, lo), hi), each picking bits.
                    let m = self.fminmax(FBin::Max, x[i], y[i], k);
                    return self.fminmax(FBin::Min, m, z[i], k);
                }
                let (p, q, r) = (self.fvec(x[i], k), self.fvec(y[i], k), self.fvec(z[i], k));
                let v = match op {
                    // `mad` is `fma` (`crate::ops::tern`).
                    TernOp::Fma(_) | TernOp::Mad(_) => self.b.ins().fma(p, q, r),
                    // `crate::ops::tern`: x + (y - x) * a, three roundings; each operation
                    // gives its first operand's NaN, as the interpreter's do.
                    TernOp::Mix(_) => {
                        let d = self.b.ins().fsub(q, p);
                        let t = self.b.ins().fmul(d, r);
                        self.b.ins().fadd(p, t)
                    }
                    _ => unreachable!("vtern takes fma, mad, mix and fclamp"),
                };
                self.ivec(v, k)
            })
            .collect();
        if want == Class::Narrow {
            V::N(parts)
        } else {
            V::W(parts)
        }
    }

    /// Per lane, all ones where slot `c` is non-zero, in the form `want`.
    pub(super) fn truth_mask(&mut self, c: Slot, want: Class) -> V {
        match self.class_of(c) {
            Class::Uniform => {
                let x = self.var(c);
                let t = self.b.ins().icmp_imm(IntCC::NotEqual, x, 0);
                let t = self.b.ins().uextend(I64, t);
                let m = self.b.ins().ineg(t);
                self.splat_v(m, want)
            }
            Class::Narrow => {
                let x = V::N(self.n(c));
                let z = self.vconst_i32([0; 4]);
                let m = self.map1(x, |me, p| me.b.ins().icmp(IntCC::NotEqual, p, z));
                if want == Class::Narrow {
                    m
                } else {
                    let V::N(m) = m else { unreachable!() };
                    let mut out = Vec::with_capacity(self.wp());
                    for p in m {
                        out.push(self.b.ins().swiden_low(p));
                        out.push(self.b.ins().swiden_high(p));
                    }
                    V::W(out)
                }
            }
            Class::Wide | Class::Affine(_) => {
                let x = V::W(self.w(c));
                let z = self.vconst_i64([0, 0]);
                let m = self.map1(x, |me, p| me.b.ins().icmp(IntCC::NotEqual, p, z));
                if want == Class::Narrow {
                    let V::W(m) = m else { unreachable!() };
                    V::N(m.chunks(2).map(|c| self.narrow_pair(c[0], c[1])).collect())
                } else {
                    m
                }
            }
        }
    }
}

/// The vector compare for `c` (ordered or not), and whether its operands are swapped; the
/// forms every target lowers (others run lane by lane).
pub(super) fn vector_fcc(c: Cmp, ordered: bool) -> Option<(FloatCC, bool)> {
    Some(match (c, ordered) {
        (Cmp::Eq, true) => (FloatCC::Equal, false),
        (Cmp::Ne, false) => (FloatCC::NotEqual, false),
        (Cmp::Lt, true) => (FloatCC::LessThan, false),
        (Cmp::Le, true) => (FloatCC::LessThanOrEqual, false),
        (Cmp::Gt, true) => (FloatCC::LessThan, true),
        (Cmp::Ge, true) => (FloatCC::LessThanOrEqual, true),
        _ => return None,
    })
}

/// SSE4.1's `roundps`/`roundpd`, which Cranelift lowers vector `floor`, `ceil`, `trunc` and
/// `nearest` to.
pub(super) fn has_round() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

/// Whether this machine has x86's fused multiply-add: Cranelift's `fma` is then one
/// `vfmadd213` (NaN as `ops::fma_f32` chooses it); else a call of the C library's `fma` per
/// lane, whose NaN of two NaN operands may differ, so `fma` and `mad` go to the
/// interpreter's operation instead.
pub(in crate::jit::lower) fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}
