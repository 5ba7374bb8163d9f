//! The vector path's instructions: each in vector form when it has one, else once for the
//! chunk or lane by lane (the interpreter's step for the chunk's lanes).

use super::arithmetic::has_fma;
use super::memory::vmem_ok;
use super::*;
use crate::ir::{Builtin, Inst, Slot};
use crate::jit::lower::{I32, I64, Lower};
use crate::jit::run::Ctx;
use crate::jit::simd::{self, Class};
use crate::ops::{Fk, TernOp};
use cranelift_codegen::ir::{InstBuilder, MemFlags, Value};
use std::mem::offset_of;

impl Lower<'_, '_> {
    pub(super) fn vinst(&mut self, idx: usize) {
        let code = self.code;
        let inst = &code.insts[idx];
        self.reads.clear();
        crate::jit::slots::reads(code, inst, &mut self.reads);
        let uniform = self.reads.iter().all(|&(s, n)| {
            (s..s + n).all(|x| {
                self.class
                    .get(x as usize)
                    .is_none_or(|&c| c == Class::Uniform)
            })
        });
        if uniform && simd::once_for_chunk(inst) {
            self.inst(idx);
            // A result slot other instructions make varying gets the value in every lane.
            self.writes.clear();
            crate::jit::slots::writes(code, inst, &mut self.writes);
            let writes = self.writes.clone();
            for (s, n) in writes {
                for x in s..s + n {
                    if self.class_of(x) != Class::Uniform {
                        let v = self.var(x);
                        self.set_all(x, v);
                    }
                }
            }
            return;
        }
        // Results affine in the lane: lane 0's value is the instruction on lane 0's
        // operands (`simd::strides` proved the other lanes follow).
        self.writes.clear();
        crate::jit::slots::writes(code, inst, &mut self.writes);
        if !self.writes.is_empty()
            && self.writes.iter().all(|&(s, n)| {
                (s..s + n).all(|x| matches!(self.class.get(x as usize), Some(Class::Affine(_))))
            })
        {
            self.vlane = Some(0);
            self.inst(idx);
            self.vlane = None;
            return;
        }
        if self.vnative(idx) {
            // Pure arithmetic's results: anchored before the block's next load.
            if !matches!(
                code.insts[idx],
                Inst::Load { .. }
                    | Inst::LoadIdx { .. }
                    | Inst::Store { .. }
                    | Inst::StoreIdx { .. }
                    | Inst::Builtin { .. }
            ) {
                for &(s, n) in &self.writes {
                    self.pending.extend((s..s + n).filter(|&x| {
                        matches!(
                            self.class.get(x as usize),
                            Some(Class::Narrow | Class::Wide)
                        )
                    }));
                }
            }
            return;
        }
        self.vinst_lanes(idx);
    }

    /// Instruction `idx` lane by lane: the interpreter's step for the chunk's lanes in lane
    /// order (one call; copies of the scalar lowering per lane, or loops in the round
    /// function, made large kernels compile tens of times slower), its operands and results
    /// passing through the register file.
    pub(super) fn vinst_lanes(&mut self, idx: usize) {
        self.chunk_step(idx);
        let code = self.code;
        self.writes.clear();
        crate::jit::slots::writes(code, &code.insts[idx], &mut self.writes);
        let base = self.b.use_var(self.lane);
        let writes = self.writes.clone();
        for (s, n) in writes {
            for x in s..(s + n).min(code.slots) {
                match self.class_of(x) {
                    Class::Narrow | Class::Wide => self.vfill_regs(x, base),
                    // Never (such results are varying): lane 0's.
                    _ => self.fill(x, base),
                }
            }
        }
    }

    /// The chunk's operands of instruction `idx` into the register file, then the
    /// interpreter's step of it for the chunk's lanes; a fault or failure ends the round.
    /// The step writes every result slot of the instruction for every lane it runs, so the
    /// results' previous values are not stored (which would keep every result of a slow
    /// path live around the round's loop, through the previous chunk's values).
    pub(super) fn chunk_step(&mut self, idx: usize) {
        let code = self.code;
        let inst = &code.insts[idx];
        self.reads.clear();
        crate::jit::slots::reads(code, inst, &mut self.reads);
        let base = self.b.use_var(self.lane);
        let mut stored: Vec<Slot> = Vec::new();
        let runs: Vec<crate::jit::slots::Run> = self.reads.clone();
        for (s, n) in runs {
            for x in s..(s + n).min(code.slots) {
                if self.written.contains(x) && !stored.contains(&x) {
                    stored.push(x);
                    self.store_regs(x, base);
                }
            }
        }
        self.step_call(idx, base);
    }

    /// The call of the interpreter's step of instruction `idx` for the chunk of lanes from
    /// `base`, its operands in the register file; a fault or failure ends the round.
    pub(super) fn step_call(&mut self, idx: usize, base: Value) {
        let args = [
            self.ctx,
            self.b.ins().iconst(I64, idx as i64),
            base,
            self.b.ins().iconst(I64, self.vw as i64),
        ];
        let r = self
            .call(
                crate::jit::run::cb_step_chunk as *const (),
                &args,
                Some(I32),
            )
            .unwrap_or_else(|| unreachable!());
        let (ok, stop) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(r, stop, &[], ok, &[]);
        self.b.set_cold_block(stop);
        self.b.switch_to_block(stop);
        let rs = self
            .b
            .ins()
            .iconst(I32, i64::from(crate::jit::run::ROUND_STOP));
        self.b.ins().return_(&[rs]);
        self.b.switch_to_block(ok);
    }

    /// Instruction `idx` in vector form, if it has one for these operands.
    pub(super) fn vnative(&mut self, idx: usize) -> bool {
        let code = self.code;
        // Vector forms write vectors: a result slot kept as one scalar (uniform, or affine
        // where this instruction computes one component of a vector with others varying)
        // takes the interpreter's step, whose lane 0 sets it. Copies and ids set such
        // components themselves.
        if !matches!(code.insts[idx], Inst::Copy { .. } | Inst::Builtin { .. }) {
            self.writes.clear();
            crate::jit::slots::writes(code, &code.insts[idx], &mut self.writes);
            let scalar = self.writes.iter().any(|&(s, n)| {
                (s..s + n).any(|x| {
                    matches!(
                        self.class.get(x as usize),
                        Some(Class::Uniform | Class::Affine(_))
                    )
                })
            });
            if scalar {
                return false;
            }
        }
        match code.insts[idx] {
            Inst::Copy { d, s, n } => {
                for k in 0..u32::from(n) {
                    match self.class_of(d + k) {
                        Class::Uniform | Class::Affine(_) => {
                            let x = self.lane_get(s + k, 0);
                            self.b.def_var(self.vars[(d + k) as usize], x);
                        }
                        c => {
                            let v = self.vget(s + k, c);
                            self.vset(d + k, v);
                        }
                    }
                }
                true
            }
            Inst::Bin { op, d, a, b, n } => {
                let n = u32::from(n);
                if !(0..n).all(|k| self.vbin_ok(op, d + k, a + k, b + k)) {
                    return false;
                }
                for k in 0..n {
                    let v = self.vbin(op, d + k, a + k, b + k);
                    self.vset(d + k, v);
                }
                true
            }
            Inst::Un { op, d, a, n } => {
                let n = u32::from(n);
                if !(0..n).all(|k| self.vun_ok(op, d + k)) {
                    return false;
                }
                for k in 0..n {
                    let v = self.vun(op, d + k, a + k);
                    self.vset(d + k, v);
                }
                true
            }
            Inst::Tern { op, d, a, b, c, n } => {
                let n = u32::from(n);
                let ok = match op {
                    TernOp::Fma(Fk::S)
                    | TernOp::Mad(Fk::S)
                    | TernOp::Mix(Fk::S)
                    | TernOp::FClamp(Fk::S) => {
                        (0..n).all(|k| self.class_of(d + k) == Class::Narrow)
                    }
                    TernOp::Fma(Fk::D)
                    | TernOp::Mad(Fk::D)
                    | TernOp::Mix(Fk::D)
                    | TernOp::FClamp(Fk::D) => (0..n).all(|k| self.class_of(d + k) == Class::Wide),
                    _ => false,
                };
                if !ok || (matches!(op, TernOp::Fma(_) | TernOp::Mad(_)) && !has_fma()) {
                    return false;
                }
                for k in 0..n {
                    let v = self.vtern(op, a + k, b + k, c + k);
                    self.vset(d + k, v);
                }
                true
            }
            Inst::Select {
                d,
                c,
                a,
                b,
                n,
                scalar_cond,
            } => {
                for k in 0..u32::from(n) {
                    let dk = d + k;
                    let ck = if scalar_cond { c } else { c + k };
                    let want = self.class_of(dk);
                    if want == Class::Uniform {
                        // Never: a select reading a varying slot has a varying result.
                        return false;
                    }
                    let (V::N(m) | V::W(m)) = self.truth_mask(ck, want);
                    let (V::N(x) | V::W(x)) = self.vget(a + k, want);
                    let (V::N(y) | V::W(y)) = self.vget(b + k, want);
                    let parts: Vec<Value> = (0..m.len())
                        .map(|p| self.b.ins().bitselect(m[p], x[p], y[p]))
                        .collect();
                    let r = if want == Class::Narrow {
                        V::N(parts)
                    } else {
                        V::W(parts)
                    };
                    self.vset(dk, r);
                }
                true
            }
            Inst::Gep {
                d,
                base,
                off,
                at,
                len,
            } => {
                if self.class_of(d) != Class::Wide {
                    return false;
                }
                let terms = &code.gep_terms[at as usize..at as usize + usize::from(len)];
                // Uniform terms in scalar, then one splat.
                let bv = if self.class_of(base) == Class::Uniform {
                    Some(self.var(base))
                } else {
                    None
                };
                let mut acc = bv.map(|x| self.b.ins().iadd_imm(x, off));
                for &(t, stride, w) in terms {
                    if self.class_of(t) == Class::Uniform {
                        let x = self.var(t);
                        let x = self.sext(x, w);
                        let x = self.b.ins().imul_imm(x, stride);
                        acc = Some(match acc {
                            Some(a) => self.b.ins().iadd(a, x),
                            None => x,
                        });
                    }
                }
                let mut parts: Vec<Value> = if bv.is_some() {
                    let z = self.vconst_i64([0, 0]);
                    vec![z; self.wp()]
                } else {
                    let b = self.w(base);
                    let o = self.vconst_i64([off, off]);
                    b.into_iter().map(|p| self.b.ins().iadd(p, o)).collect()
                };
                if let Some(a) = acc {
                    let s = self.b.ins().splat(I64X2, a);
                    for p in parts.iter_mut() {
                        *p = self.b.ins().iadd(*p, s);
                    }
                }
                for &(t, stride, w) in terms {
                    if self.class_of(t) != Class::Uniform {
                        let x = self.wide_sext(t, w);
                        for (p, x) in parts.iter_mut().zip(x) {
                            let x = self.vmul_imm(x, stride);
                            *p = self.b.ins().iadd(*p, x);
                        }
                    }
                }
                self.vset(d, V::W(parts));
                true
            }
            Inst::LoadIdx {
                d,
                base,
                idx: i,
                w,
                scale,
                off,
                size,
                space,
                site,
            } => {
                if !vmem_ok(size, space) {
                    return false;
                }
                let a = self.idx_addr(base, i, w, scale, off, size);
                let v = self.vload(idx, d, a, size, space, site);
                self.vset(d, v);
                true
            }
            Inst::StoreIdx {
                base,
                idx: i,
                w,
                scale,
                off,
                v,
                size,
                space,
                site,
            } => {
                if !vmem_ok(size, space) {
                    return false;
                }
                let a = self.idx_addr(base, i, w, scale, off, size);
                self.vstore(idx, a, size, v, space, site);
                true
            }
            Inst::Load {
                d,
                p,
                size,
                n: 1,
                space,
                site,
                ..
            } => {
                if !vmem_ok(size, space) {
                    return false;
                }
                let a = self.ptr_addr(p, size);
                let v = self.vload(idx, d, a, size, space, site);
                self.vset(d, v);
                true
            }
            Inst::Store {
                p,
                v,
                size,
                n: 1,
                space,
                site,
                ..
            } => {
                if !vmem_ok(size, space) {
                    return false;
                }
                let a = self.ptr_addr(p, size);
                self.vstore(idx, a, size, v, space, site);
                true
            }
            Inst::Builtin { d, b, n, comp } => {
                let comps: Vec<u32> = match comp {
                    Some(c) => vec![u32::from(c)],
                    None => (0..u32::from(n)).collect(),
                };
                let native = |c: u32| match b {
                    Builtin::GlobalId | Builtin::LocalId => c < 3,
                    Builtin::LocalLinearId => true,
                    _ => false,
                };
                if !comps
                    .iter()
                    .all(|&c| simd::component_uniform(b, c) || native(c))
                {
                    return false;
                }
                for (k, c) in comps.into_iter().enumerate() {
                    let dk = d + k as u32;
                    if simd::component_uniform(b, c) {
                        let v = self.builtin(b, c);
                        self.set_all(dk, v);
                    } else if let Class::Affine(_) = self.class_of(dk) {
                        // Lane 0's id (`self.lane` is lane 0 of the chunk).
                        let v = self.builtin(b, c);
                        self.b.def_var(self.vars[dk as usize], v);
                    } else {
                        let v = self.vbuiltin(b, c);
                        self.vset(dk, v);
                    }
                }
                true
            }
            _ => false,
        }
    }

    pub(super) fn vbuiltin(&mut self, b: Builtin, c: u32) -> V {
        let lane = self.b.use_var(self.lane);
        if b == Builtin::LocalLinearId {
            let l = self.b.ins().ireduce(I32, lane);
            let l = self.b.ins().splat(I32X4, l);
            let parts = (0..self.np() as i32)
                .map(|p| {
                    let k = self.vconst_i32(std::array::from_fn(|j| 4 * p + j as i32));
                    self.b.ins().iadd(l, k)
                })
                .collect();
            return V::N(parts);
        }
        let lid = self.ctx_field(offset_of!(Ctx, lid) + 8 * c as usize);
        let off = self.b.ins().ishl_imm(lane, 2);
        let at = self.b.ins().iadd(lid, off);
        let l: Vec<Value> = (0..self.np() as i32)
            .map(|p| self.b.ins().load(I32X4, MemFlags::new(), at, 16 * p))
            .collect();
        if b == Builtin::LocalId {
            return V::N(l);
        }
        let base = self.ctx_field(offset_of!(Ctx, gbase) + 8 * c as usize);
        let base = self.b.ins().splat(I64X2, base);
        let V::W(w) = self.convert(V::N(l), Class::Wide) else {
            unreachable!()
        };
        V::W(w.into_iter().map(|p| self.b.ins().iadd(p, base)).collect())
    }
}
