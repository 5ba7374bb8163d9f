//! The vector path of the round function: chunks of `vw` consecutive lanes (16 unless
//! [`WIDTH_ENV`] says otherwise) run together, uniform values in scalar registers, affine
//! ones (lane `l` = lane 0 + `l` × stride) as lane 0's scalar, the others in SIMD vectors of
//! several 128-bit parts (`super::simd` says which slot is which).
//!
//! - The round's head takes the next `vw` lanes to the vector path when they start at a
//!   multiple of `vw`, the work-group's width is a multiple of `vw` (so that their x ids are
//!   consecutive and their y and z ids equal: `Ctx::rows`), and they all wait at the same
//!   block (at a barrier's continuation, also holding uniform and affine values that really
//!   are so, or saved whole by the vector path); otherwise, and for a group's last lanes, the
//!   scalar path runs them. After a chunk saved whole at a barrier, the next one waiting
//!   where it started its round skips the head.
//! - An instruction whose operands are all uniform and whose result is the same for every
//!   lane ([`crate::jit::simd::once_for_chunk`]) runs once, as on the scalar path; one with affine results
//!   runs once on lane 0's operands. Arithmetic, compares, selects, conversions between
//!   widths, address arithmetic, loads and stores and the work-item ids have vector forms;
//!   every other instruction is one call of the interpreter's step for the chunk's lanes
//!   (`run::cb_step_chunk`), its operands and results passing through the register file.
//! - A load or store at an affine address whose stride is its size is one vector access per
//!   part; at one address for every lane, one access; otherwise one compare decides at run
//!   time whether the addresses are consecutive. In checked mode a vector access is checked
//!   as one range, and a block's local accesses at constant offsets from one address as one
//!   range before the first of them. Any other access, and every private one, is the
//!   interpreter's step for the chunk's lanes (its checks, lane order).
//! - A branch whose condition is not the same in every lane of the chunk stores the chunk's
//!   live values to the register file and sends its lanes one by one down the scalar path
//!   from that branch (`div_end`, `div_site`); they meet the vector path again at the next
//!   barrier or at the next chunk.
//!
//! This module keeps how a chunk's values are held (uniform, affine, narrow or wide vectors);
//! its children: `head` (which chunk runs next, its entry and the shortcut from a barrier to
//! the next chunk), `blocks` (terminators, barriers, divergence, anchors, cold-path saves),
//! `instructions` (each instruction's vector form or fallback), `arithmetic` (integer and
//! float operations, compares, conversions) and `memory` (addresses, vector loads and stores,
//! their checks).

use super::{I32, I64, Lower};
use crate::ir::{Builtin, Inst, Slot};
use crate::jit::simd::Class;
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlags, Value, types};

mod arithmetic;
mod blocks;
mod head;
mod instructions;
mod memory;

pub(super) use arithmetic::has_fma;
pub(super) use head::region_entries;

const I32X4: types::Type = types::I32X4;
const I64X2: types::Type = types::I64X2;

/// At most this many vector values are saved around one cold callout (`cold_save`); more
/// live ones stay where the register allocator puts them.
const COLD_SAVES: usize = 64;

/// The environment variable that sets the vector path's chunk width (4, 8 or 16 lanes; 0
/// turns the vector path off), for measurements and for tests of the narrower widths.
pub(crate) const WIDTH_ENV: &str = "LEVEL_ZERO_CPU_JIT_WIDTH";

/// The chunk width the vector path is compiled for (0: none): 16 lanes unless
/// [`WIDTH_ENV`] says otherwise, narrower for big kernels ([`VECTOR_BUDGET`]), 0 when no
/// instruction of `code` has a vector form worth having (no work-item id is read).
pub(super) fn width(code: &crate::ir::Code) -> Result<usize, String> {
    let w = match std::env::var(WIDTH_ENV) {
        Err(std::env::VarError::NotPresent) => 16,
        Ok(v) => match v.trim() {
            "0" => 0,
            "4" => 4,
            "8" => 8,
            "16" => 16,
            other => {
                return Err(format!(
                    "{WIDTH_ENV}={other:?}: the JIT's chunk width is 0 (no vector path), 4, 8 or 16"
                ));
            }
        },
        Err(e) => return Err(format!("{WIDTH_ENV}: {e}")),
    };
    let worth = code.insts.iter().any(|i| {
        matches!(
            i,
            Inst::Builtin {
                b: Builtin::GlobalId | Builtin::LocalId | Builtin::LocalLinearId,
                ..
            }
        )
    });
    if !worth {
        return Ok(0);
    }
    // Compile time grows with instructions times parts per value: big kernels get narrower
    // chunks (a straight-line kernel of 900 instructions took 0.6 s at 16 lanes, 50 ms on
    // the scalar path alone).
    let mut w = w;
    while w > 0 && code.insts.len() * w > VECTOR_BUDGET {
        w = if w > 4 { w / 2 } else { 0 };
    }
    Ok(w)
}

/// The largest instruction count times chunk width the vector path is compiled for.
const VECTOR_BUDGET: usize = 2048;

/// A varying value of the chunk.
#[derive(Clone)]
enum V {
    /// 32 bits per lane: `np()` parts.
    N(Vec<Value>),
    /// 64 bits per lane: `wp()` parts.
    W(Vec<Value>),
}

/// Vector accesses to the register file, the frame and the stack: in memory the engine
/// owns (no trap), but without a claim of 16-byte alignment (`Vec<u64>` promises 8).
fn vflags() -> MemFlags {
    MemFlags::new().with_notrap()
}

fn little() -> MemFlags {
    MemFlags::new().with_endianness(Endianness::Little)
}

impl Lower<'_, '_> {
    // ---- representation -----------------------------------------------------------------

    fn class_of(&self, s: Slot) -> Class {
        self.class[s as usize]
    }

    /// `i32x4` parts of a narrow value of the chunk (lanes `4p..4p+4` in part `p`).
    fn np(&self) -> usize {
        self.vw / 4
    }

    /// `i64x2` parts of a wide value (lanes `2p..2p+2` in part `p`).
    fn wp(&self) -> usize {
        self.vw / 2
    }

    fn vconst_i32(&mut self, v: [i32; 4]) -> Value {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let c = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
        self.b.ins().vconst(I32X4, c)
    }

    fn vconst_i64(&mut self, v: [i64; 2]) -> Value {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let c = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
        self.b.ins().vconst(I64X2, c)
    }

    /// The low 32 bits of each lane of a wide value.
    fn narrow_pair(&mut self, lo: Value, hi: Value) -> Value {
        let a = self.b.ins().bitcast(types::I8X16, little(), lo);
        let b = self.b.ins().bitcast(types::I8X16, little(), hi);
        let mut m = [0u8; 16];
        for (l, src) in [0u8, 8, 16, 24].into_iter().enumerate() {
            for k in 0..4u8 {
                m[l * 4 + k as usize] = src + k;
            }
        }
        let imm = self
            .b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(m.as_ref()));
        let r = self.b.ins().shuffle(a, b, imm);
        self.b.ins().bitcast(I32X4, little(), r)
    }

    /// Slot `s` as a vector of the given kind (`Class::Narrow` or `Class::Wide`).
    fn vget(&mut self, s: Slot, want: Class) -> V {
        let vars = self.vvars[s as usize].clone();
        let v = match self.class_of(s) {
            Class::Uniform => {
                let x = self.var(s);
                return self.splat_v(x, want);
            }
            Class::Narrow => V::N(vars.iter().map(|&v| self.b.use_var(v)).collect()),
            Class::Wide => V::W(vars.iter().map(|&v| self.b.use_var(v)).collect()),
            Class::Affine(k) => {
                let x = self.var(s);
                if want == Class::Narrow {
                    let x = self.b.ins().ireduce(I32, x);
                    let x = self.b.ins().splat(I32X4, x);
                    let k = k as i32;
                    let parts = (0..self.np() as i32)
                        .map(|p| {
                            let c = self.vconst_i32(std::array::from_fn(|j| {
                                k.wrapping_mul(4 * p + j as i32)
                            }));
                            self.b.ins().iadd(x, c)
                        })
                        .collect();
                    return V::N(parts);
                }
                let x = self.b.ins().splat(I64X2, x);
                let parts = (0..self.wp() as i64)
                    .map(|p| {
                        let c = self
                            .vconst_i64(std::array::from_fn(|j| k.wrapping_mul(2 * p + j as i64)));
                        self.b.ins().iadd(x, c)
                    })
                    .collect();
                return V::W(parts);
            }
        };
        self.convert(v, want)
    }

    /// `x` (`i64`) in every lane, as a vector of the given kind.
    fn splat_v(&mut self, x: Value, want: Class) -> V {
        if want == Class::Narrow {
            let x = self.b.ins().ireduce(I32, x);
            let v = self.b.ins().splat(I32X4, x);
            V::N(vec![v; self.np()])
        } else {
            let v = self.b.ins().splat(I64X2, x);
            V::W(vec![v; self.wp()])
        }
    }

    fn convert(&mut self, v: V, want: Class) -> V {
        match (v, want) {
            (V::N(x), Class::Wide) => V::W(
                x.into_iter()
                    .flat_map(|p| [p, p])
                    .enumerate()
                    .map(|(i, p)| {
                        if i % 2 == 0 {
                            self.b.ins().uwiden_low(p)
                        } else {
                            self.b.ins().uwiden_high(p)
                        }
                    })
                    .collect(),
            ),
            (V::W(x), Class::Narrow) => {
                V::N(x.chunks(2).map(|c| self.narrow_pair(c[0], c[1])).collect())
            }
            (v, _) => v,
        }
    }

    fn n(&mut self, s: Slot) -> Vec<Value> {
        match self.vget(s, Class::Narrow) {
            V::N(x) => x,
            V::W(..) => unreachable!(),
        }
    }

    fn w(&mut self, s: Slot) -> Vec<Value> {
        match self.vget(s, Class::Wide) {
            V::W(x) => x,
            V::N(_) => unreachable!(),
        }
    }

    /// Sets varying slot `s` (its class decides the form kept).
    fn vset(&mut self, s: Slot, v: V) {
        let c = self.class_of(s);
        let vars = self.vvars[s as usize].clone();
        match (c, self.convert(v, c)) {
            (Class::Narrow, V::N(x)) | (Class::Wide, V::W(x)) => {
                for (var, p) in vars.into_iter().zip(x) {
                    self.b.def_var(var, p);
                }
            }
            _ => unreachable!("a uniform or affine slot set from a vector (slot {s})"),
        }
    }

    /// The vector form slot `s` is read in: its own, wide for affine ones.
    fn repr(&self, s: Slot) -> Class {
        match self.class_of(s) {
            Class::Narrow => Class::Narrow,
            _ => Class::Wide,
        }
    }

    /// Sets slot `s` to the same value `x` (`i64`) in every lane.
    fn set_all(&mut self, s: Slot, x: Value) {
        match self.class_of(s) {
            // An affine slot written with one value has stride 0 (`simd::strides`).
            Class::Uniform | Class::Affine(_) => self.b.def_var(self.vars[s as usize], x),
            c => {
                let v = self.splat_v(x, c);
                self.vset(s, v);
            }
        }
    }

    /// Lane `l` of varying slot `s`, as the scalar path keeps it (`i64`).
    pub(super) fn lane_get(&mut self, s: Slot, l: u8) -> Value {
        let vars = &self.vvars[s as usize];
        match self.class_of(s) {
            Class::Narrow => {
                let v = self.b.use_var(vars[usize::from(l / 4)]);
                let x = self.b.ins().extractlane(v, l % 4);
                self.b.ins().uextend(I64, x)
            }
            Class::Wide => {
                let v = self.b.use_var(vars[usize::from(l / 2)]);
                self.b.ins().extractlane(v, l % 2)
            }
            Class::Uniform => self.var(s),
            Class::Affine(k) => {
                let x = self.var(s);
                self.b.ins().iadd_imm(x, k.wrapping_mul(i64::from(l)))
            }
        }
    }

    /// Sets lane `l` of varying slot `s` from a scalar-path value (an affine slot keeps lane
    /// 0's: the others follow from it, `simd::strides` having proven them so).
    pub(super) fn lane_set(&mut self, s: Slot, l: u8, x: Value) {
        let vars = &self.vvars[s as usize];
        match self.class_of(s) {
            Class::Narrow => {
                let var = vars[usize::from(l / 4)];
                let v = self.b.use_var(var);
                let x = self.b.ins().ireduce(I32, x);
                let v = self.b.ins().insertlane(v, x, l % 4);
                self.b.def_var(var, v);
            }
            Class::Wide => {
                let var = vars[usize::from(l / 2)];
                let v = self.b.use_var(var);
                let v = self.b.ins().insertlane(v, x, l % 2);
                self.b.def_var(var, v);
            }
            Class::Uniform => self.b.def_var(self.vars[s as usize], x),
            Class::Affine(_) => {
                if l == 0 {
                    self.b.def_var(self.vars[s as usize], x);
                }
            }
        }
    }
}
