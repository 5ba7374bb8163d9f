//! OpenCL.std, the one extended instruction set (`OpExtInst`; `check.rs` refuses others):
//! the math functions (`sqrt` ... `logb`, `native_*`/`half_*` at full precision, `fmin`,
//! `pow`, `ldexp`, `fma`, `mad`, `mix`, `smoothstep`, `sincos`, `fract`, `modf`, `frexp`,
//! `remquo`, `lgamma_r`, `ilogb`, `atan2pi`, `nan`), the integer functions (`s_max` ...
//! `u_mad_sat`, `clz`, `ctz`, `popcount`, `rotate`, `upsample`), the common and geometric functions (`cross`, `length`, `distance`,
//! `normalize`), `bitselect`, `select`, `shuffle`/`shuffle2` and `prefetch` (a hint).
//!
//! Lane-wise functions become `Inst::Un`/`Bin`/`Tern` (values: `crate::ops`); the vector
//! data functions are `vector_data.rs`, `printf` is `printf.rs`.

use super::{Dec, Instance, fk_of, int_bits, space_of};
use crate::ir::{Inst, Slot};
use crate::module::{Res, Sc, op_id, op_lit};
use crate::ops::{BinOp, FBin, FIntOp, FUn, Reduce, TernOp, UnOp};
use rspirv::dr;

impl Dec<'_, '_> {
    pub(super) fn ext_inst(
        &mut self,
        inst: &mut Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<()> {
        let md = self.md;
        let set = op_id(i, 0)?;
        if Some(set) != md.ext_set {
            return Err("OpExtInst of an unknown instruction set".into());
        }
        let num = op_lit(i, 1)? as u32;
        let name = rspirv::grammar::OPENCL_STD_100_INSTRUCTION_TABLE
            .lookup_opcode(num)
            .map(|g| g.opname)
            .ok_or_else(|| format!("unknown OpenCL.std instruction {num}"))?;
        self.check_ext_arguments(i, name)?;
        let rt = i.result_type;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: OpenCL.std {name} without a result"));
        let arg_id = |k: usize| op_id(i, k + 2);
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, arg_id($k)?)?
            };
        }
        let rsc = || -> Res<Sc> { md.scalar(rt.ok_or("missing result type")?) };
        let n = || -> Res<u16> { md.width(rt.ok_or("missing result type")?) };
        // Strip native_/half_ prefixes: the engine computes them at full precision.
        let base = name
            .strip_prefix("native_")
            .or_else(|| name.strip_prefix("half_"))
            .unwrap_or(name);
        let fun = match base {
            "sqrt" => Some(FUn::Sqrt),
            "rsqrt" => Some(FUn::Rsqrt),
            "exp" => Some(FUn::Exp),
            "exp2" => Some(FUn::Exp2),
            "exp10" => Some(FUn::Exp10),
            "expm1" => Some(FUn::Expm1),
            "log" => Some(FUn::Log),
            "log2" => Some(FUn::Log2),
            "log10" => Some(FUn::Log10),
            "log1p" => Some(FUn::Log1p),
            "sin" => Some(FUn::Sin),
            "cos" => Some(FUn::Cos),
            "tan" => Some(FUn::Tan),
            "asin" => Some(FUn::Asin),
            "acos" => Some(FUn::Acos),
            "atan" => Some(FUn::Atan),
            "sinh" => Some(FUn::Sinh),
            "cosh" => Some(FUn::Cosh),
            "tanh" => Some(FUn::Tanh),
            "asinh" => Some(FUn::Asinh),
            "acosh" => Some(FUn::Acosh),
            "atanh" => Some(FUn::Atanh),
            "sinpi" => Some(FUn::Sinpi),
            "cospi" => Some(FUn::Cospi),
            "tanpi" => Some(FUn::Tanpi),
            "asinpi" => Some(FUn::Asinpi),
            "acospi" => Some(FUn::Acospi),
            "atanpi" => Some(FUn::Atanpi),
            "cbrt" => Some(FUn::Cbrt),
            "fabs" => Some(FUn::Fabs),
            "floor" => Some(FUn::Floor),
            "ceil" => Some(FUn::Ceil),
            "round" => Some(FUn::Round),
            "trunc" => Some(FUn::Trunc),
            "rint" => Some(FUn::Rint),
            "sign" => Some(FUn::Sign),
            "degrees" => Some(FUn::Degrees),
            "radians" => Some(FUn::Radians),
            "recip" => Some(FUn::Recip),
            "logb" => Some(FUn::Logb),
            "erf" => Some(FUn::Erf),
            "erfc" => Some(FUn::Erfc),
            "tgamma" => Some(FUn::Tgamma),
            "lgamma" => Some(FUn::Lgamma),
            _ => None,
        };
        if let Some(f) = fun {
            let x = a!(0);
            let k = fk_of(rsc()?)?;
            return self.emit(Inst::Un {
                op: UnOp::F(k, f),
                d: d()?,
                a: x,
                n: n()?,
            });
        }
        let fbin = match base {
            // `min`/`max` of floats (`*_common`: undefined for NaN operands, where these
            // return the other operand).
            "fmin" | "fmin_common" => Some(FBin::Min),
            "fmax" | "fmax_common" => Some(FBin::Max),
            "pow" | "powr" => Some(FBin::Pow),
            "atan2" => Some(FBin::Atan2),
            "hypot" => Some(FBin::Hypot),
            "fmod" => Some(FBin::Rem),
            "fdim" => Some(FBin::Fdim),
            "copysign" => Some(FBin::Copysign),
            "nextafter" => Some(FBin::Nextafter),
            "maxmag" => Some(FBin::Maxmag),
            "minmag" => Some(FBin::Minmag),
            "step" => Some(FBin::Step),
            "remainder" => Some(FBin::Remainder),
            "atan2pi" => Some(FBin::Atan2pi),
            "divide" => Some(FBin::Div),
            _ => None,
        };
        if let Some(f) = fbin {
            let (x, y) = (a!(0), a!(1));
            let k = fk_of(rsc()?)?;
            return self.emit(Inst::Bin {
                op: BinOp::F(k, f),
                d: d()?,
                a: x,
                b: y,
                n: n()?,
            });
        }
        let fint = match base {
            "ldexp" => Some(FIntOp::Ldexp),
            "pown" => Some(FIntOp::Pown),
            "rootn" => Some(FIntOp::Rootn),
            _ => None,
        };
        if let Some(f) = fint {
            let (x, y) = (a!(0), a!(1));
            let k = fk_of(rsc()?)?;
            let w = int_bits(md.scalar(self.ty_of(arg_id(1)?)?)?);
            return self.emit(Inst::Bin {
                op: BinOp::FInt(k, f, w),
                d: d()?,
                a: x,
                b: y,
                n: n()?,
            });
        }
        let bits = || -> Res<u8> { Ok(int_bits(rsc()?)) };
        let ibin = match name {
            "s_max" => Some(BinOp::SMax(bits()?)),
            "u_max" => Some(BinOp::UMax),
            "s_min" => Some(BinOp::SMin(bits()?)),
            "u_min" => Some(BinOp::UMin),
            "s_mul_hi" => Some(BinOp::SMulHi(bits()?)),
            "u_mul_hi" => Some(BinOp::UMulHi(bits()?)),
            "s_add_sat" => Some(BinOp::SAddSat(bits()?)),
            "u_add_sat" => Some(BinOp::UAddSat(bits()?)),
            "s_sub_sat" => Some(BinOp::SSubSat(bits()?)),
            "u_sub_sat" => Some(BinOp::USubSat(bits()?)),
            "rotate" => Some(BinOp::Rotate(bits()?)),
            "s_hadd" => Some(BinOp::SHadd(bits()?)),
            "u_hadd" => Some(BinOp::UHadd(bits()?)),
            "s_rhadd" => Some(BinOp::SRhadd(bits()?)),
            "u_rhadd" => Some(BinOp::URhadd(bits()?)),
            "s_abs_diff" => Some(BinOp::SAbsDiff(bits()?)),
            "u_abs_diff" => Some(BinOp::UAbsDiff(bits()?)),
            "s_mul24" => Some(BinOp::SMul24(bits()?)),
            "u_mul24" => Some(BinOp::UMul24(bits()?)),
            // The same bits for signed and unsigned halves (llvm-spirv writes `u_upsample`
            // for both); the width is the low half's.
            "s_upsample" | "u_upsample" => Some(BinOp::Upsample(int_bits(
                md.scalar(self.ty_of(arg_id(1)?)?)?,
            ))),
            _ => None,
        };
        if let Some(o) = ibin {
            let (x, y) = (a!(0), a!(1));
            return self.emit(Inst::Bin {
                op: o,
                d: d()?,
                a: x,
                b: y,
                n: n()?,
            });
        }
        if name == "ilogb" {
            let x = a!(0);
            let k = fk_of(md.scalar(self.ty_of(arg_id(0)?)?)?)?;
            return self.emit(Inst::Un {
                op: UnOp::Ilogb(k),
                d: d()?,
                a: x,
                n: n()?,
            });
        }
        let iun = match name {
            "s_abs" => Some(UnOp::SAbs(bits()?)),
            "u_abs" => Some(UnOp::Mask(!0)),
            "popcount" => Some(UnOp::Popcount),
            "clz" => Some(UnOp::Clz(bits()?)),
            "ctz" => Some(UnOp::Ctz(bits()?)),
            _ => None,
        };
        if let Some(o) = iun {
            let x = a!(0);
            return self.emit(Inst::Un {
                op: o,
                d: d()?,
                a: x,
                n: n()?,
            });
        }
        let tern = match name {
            "fma" => Some(TernOp::Fma(fk_of(rsc()?)?)),
            "mad" => Some(TernOp::Mad(fk_of(rsc()?)?)),
            "fclamp" => Some(TernOp::FClamp(fk_of(rsc()?)?)),
            "mix" => Some(TernOp::Mix(fk_of(rsc()?)?)),
            "smoothstep" => Some(TernOp::SmoothStep(fk_of(rsc()?)?)),
            "s_clamp" => Some(TernOp::SClamp(bits()?)),
            "u_clamp" => Some(TernOp::UClamp),
            "s_mad24" => Some(TernOp::SMad24(bits()?)),
            "u_mad24" => Some(TernOp::UMad24(bits()?)),
            "s_mad_hi" => Some(TernOp::SMadHi(bits()?)),
            "u_mad_hi" => Some(TernOp::UMadHi(bits()?)),
            "s_mad_sat" => Some(TernOp::SMadSat(bits()?)),
            "u_mad_sat" => Some(TernOp::UMadSat(bits()?)),
            "bitselect" => Some(TernOp::Bitselect),
            "select" => {
                let csc = md.scalar(self.ty_of(arg_id(2)?)?)?;
                Some(TernOp::Select(int_bits(csc), n()? > 1))
            }
            _ => None,
        };
        if let Some(o) = tern {
            let (x, y, z) = (a!(0), a!(1), a!(2));
            return self.emit(Inst::Tern {
                op: o,
                d: d()?,
                a: x,
                b: y,
                c: z,
                n: n()?,
            });
        }
        match name {
            "cross" => {
                let (x, y) = (a!(0), a!(1));
                let k = fk_of(rsc()?)?;
                let dd = d()?;
                self.emit(Inst::Cross {
                    k,
                    d: dd,
                    a: x,
                    b: y,
                })?;
                if n()? == 4 {
                    // cross(float4) has w = 0.
                    let z = self.zero()?;
                    self.copy(dd + 3, z, 1)?;
                }
                Ok(())
            }
            "length" | "fast_length" | "distance" | "fast_distance" => {
                let x = a!(0);
                let y = if name.ends_with("distance") { a!(1) } else { x };
                let k = fk_of(rsc()?)?;
                let nn = md.width(self.ty_of(arg_id(0)?)?)?;
                let op = if name.ends_with("distance") {
                    Reduce::Distance
                } else {
                    Reduce::Length
                };
                self.emit(Inst::Reduce {
                    op,
                    k,
                    d: d()?,
                    a: x,
                    b: y,
                    n: nn,
                })
            }
            "normalize" | "fast_normalize" => {
                let x = a!(0);
                let k = fk_of(rsc()?)?;
                self.emit(Inst::Normalize {
                    k,
                    d: d()?,
                    a: x,
                    n: n()?,
                })
            }
            "vloadn" | "vload_half" | "vload_halfn" | "vloada_halfn" => {
                self.vload(inst, i, res, name)
            }
            "vstoren" | "vstore_half" | "vstore_halfn" | "vstorea_halfn" | "vstore_half_r"
            | "vstore_halfn_r" | "vstorea_halfn_r" => self.vstore(inst, i, res, name),
            "printf" => self.printf(inst, i, res),
            "prefetch" => Ok(()),
            "shuffle" | "shuffle2" => {
                let two = name == "shuffle2";
                let x = a!(0);
                let na = md.width(self.ty_of(arg_id(0)?)?)?;
                let (y, nb, m) = if two {
                    (a!(1), md.width(self.ty_of(arg_id(1)?)?)?, a!(2))
                } else {
                    (x, 0, a!(1))
                };
                self.emit(Inst::Shuffle {
                    d: d()?,
                    a: x,
                    b: y,
                    mask: m,
                    na,
                    nb,
                    n: n()?,
                })
            }
            // Two results: the function's value, and one stored through a pointer (remquo's
            // third operand, the others' second).
            "sincos" | "fract" | "modf" | "frexp" | "lgamma_r" | "remquo" => {
                enum Op {
                    Un(UnOp),
                    Bin(BinOp),
                }
                let x = a!(0);
                let xt = self.ty_of(arg_id(0)?)?;
                let k = fk_of(md.scalar(xt)?)?;
                let nn = md.width(xt)?;
                let (y, at) = if name == "remquo" { (a!(1), 2) } else { (x, 1) };
                let p = a!(at);
                let (sc, pointee) = self.ptr_info(arg_id(at)?)?;
                let (first, second) = match name {
                    "sincos" => (Op::Un(UnOp::F(k, FUn::Sin)), Op::Un(UnOp::F(k, FUn::Cos))),
                    "fract" => (
                        Op::Un(UnOp::F(k, FUn::Fract)),
                        Op::Un(UnOp::F(k, FUn::Floor)),
                    ),
                    "modf" => (
                        Op::Un(UnOp::F(k, FUn::ModfFrac)),
                        Op::Un(UnOp::F(k, FUn::Trunc)),
                    ),
                    "frexp" => (Op::Un(UnOp::FrexpMant(k)), Op::Un(UnOp::FrexpExp(k))),
                    "lgamma_r" => (Op::Un(UnOp::F(k, FUn::Lgamma)), Op::Un(UnOp::LgammaSign(k))),
                    _ => (
                        Op::Bin(BinOp::F(k, FBin::Remainder)),
                        Op::Bin(BinOp::RemquoQuotient(k)),
                    ),
                };
                let inst = |op, d| match op {
                    Op::Un(op) => Inst::Un { op, d, a: x, n: nn },
                    Op::Bin(op) => Inst::Bin {
                        op,
                        d,
                        a: x,
                        b: y,
                        n: nn,
                    },
                };
                self.emit(inst(first, d()?))?;
                let tmp = self.alloc(usize::from(nn))?;
                self.emit(inst(second, tmp))?;
                self.store(p, tmp, pointee, space_of(sc)?)
            }
            "nan" => {
                let x = a!(0);
                let k = fk_of(rsc()?)?;
                self.emit(Inst::Un {
                    op: UnOp::Nan(k),
                    d: d()?,
                    a: x,
                    n: n()?,
                })
            }
            other => Err(format!("unsupported OpenCL.std instruction `{other}`")),
        }
    }
}
