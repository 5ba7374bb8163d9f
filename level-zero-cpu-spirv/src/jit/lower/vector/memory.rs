//! The vector path's loads and stores: the chunk's addresses (one, consecutive, or each
//! lane's), their checks in checked mode, and the fallback to the interpreter's step.

use super::*;
use crate::ir::{Inst, Slot};
use crate::jit::lower::{I32, Lower};
use crate::jit::simd::Class;
use crate::mem::Space;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, MemFlags, Value};

/// What the addresses of a family of local accesses of a vector block are computed from
/// (`X`; they are `X` plus a constant each).
#[derive(PartialEq)]
enum Key {
    /// Pointers with one pure definition each (`slots::recomputable`), `base + Σ terms +
    /// offset`: the same `X` (per lane) wherever they are computed.
    Gep(Slot, Vec<(Slot, i64, u8)>),
    /// One pointer slot (not written between the family's accesses).
    Ptr(Slot),
    /// `base + sext(idx, w) * scale` (neither written between the family's accesses).
    Idx(Slot, Slot, u8, i64),
}

/// A family's range check, made just before its first access (`at`), which computes `X`
/// from its own operands: lane 0's `X` is `anchor - g` (a pointer slot), or `base +
/// sext(idx, w) * scale`; the range is `[X + lo, X + lo + span)`.
pub(super) struct Precheck {
    pub(super) at: usize,
    anchor: Anchor,
    lo: i64,
    span: u64,
}

#[derive(Clone, Copy)]
enum Anchor {
    Slot(Slot, i64),
    Idx(Slot, Slot, u8, i64),
}

impl Lower<'_, '_> {
    /// Checked mode, vector block `bi`: its local loads and stores at addresses `X + c`, two
    /// or more for one `X` ([`Key`]: a tile's row, an unrolled loop's elements), `c` a
    /// constant of each, are a family, checked as one range (from the lowest `c` to the end
    /// of the highest access) just before its first access (`Lower::precheck_at`); their own
    /// checks are left out (`Lower::prechecked`). Returns the checks and the accesses they
    /// cover (sorted).
    pub(super) fn prechecks(&mut self, bi: usize) -> (Vec<Precheck>, Vec<usize>) {
        if !self.checked {
            return (Vec::new(), Vec::new());
        }
        let code = self.code;
        let blk = &code.blocks[bi];
        let stride = |c: Class| match c {
            Class::Uniform => Some(0),
            Class::Affine(k) => Some(k),
            _ => None,
        };
        // The span of a chunk's access at a stride (as `ptr_addr`/`idx_addr` decide): one
        // place (loads only: a store to one place runs lane by lane), or consecutive.
        let span_of = |this: &Self, stride: Option<i64>, size: u8, load: bool| match stride {
            Some(0) if load => Some(u64::from(size)),
            Some(k) if k == i64::from(size) => Some(this.vw as u64 * u64::from(size)),
            _ => None,
        };
        struct Member {
            idx: usize,
            key: Key,
            anchor: Anchor,
            c: i64,
            span: u64,
            /// Slots that must keep their values from the family's first access to this one.
            stable: Vec<Slot>,
        }
        let gep_of = |s: Slot| match self.remat[s as usize].map(|i| &code.insts[i as usize]) {
            Some(&Inst::Gep {
                base, off, at, len, ..
            }) => Some((
                Key::Gep(
                    base,
                    code.gep_terms[at as usize..at as usize + len as usize].to_vec(),
                ),
                off,
            )),
            _ => None,
        };
        let mut members: Vec<Member> = Vec::new();
        for idx in blk.start as usize..blk.end as usize {
            let inst = &code.insts[idx];
            let load = matches!(inst, Inst::Load { .. } | Inst::LoadIdx { .. });
            // (pointer slot, its constant offset) or an indexed access.
            let (ptr, off, size, idx_form) = match *inst {
                Inst::Load {
                    p,
                    size,
                    n: 1,
                    space: Space::Local,
                    ..
                }
                | Inst::Store {
                    p,
                    size,
                    n: 1,
                    space: Space::Local,
                    ..
                } => (p, 0, size, None),
                Inst::LoadIdx {
                    base,
                    idx: i,
                    w,
                    scale,
                    off,
                    size,
                    space: Space::Local,
                    ..
                }
                | Inst::StoreIdx {
                    base,
                    idx: i,
                    w,
                    scale,
                    off,
                    size,
                    space: Space::Local,
                    ..
                } => (base, off, size, Some((i, w, scale))),
                _ => continue,
            };
            if !vmem_ok(size, Space::Local) {
                continue;
            }
            // The chunk's stride, as the lowering finds it.
            let total = match idx_form {
                None => stride(self.class_of(ptr)),
                Some((i, w, scale)) => {
                    let si = match self.class_of(i) {
                        Class::Affine(_) if w < 64 => None,
                        c => stride(c),
                    };
                    match (stride(self.class_of(ptr)), si) {
                        (Some(a), Some(b)) => b.checked_mul(scale).and_then(|x| x.checked_add(a)),
                        _ => None,
                    }
                }
            };
            let Some(span) = span_of(self, total, size, load) else {
                continue;
            };
            let m = match idx_form {
                Some((i, w, scale)) if scale != 0 => Member {
                    idx,
                    key: Key::Idx(ptr, i, w, scale),
                    anchor: Anchor::Idx(ptr, i, w, scale),
                    c: off,
                    span,
                    stable: vec![ptr, i],
                },
                _ => match gep_of(ptr) {
                    Some((key, g)) => Member {
                        idx,
                        key,
                        anchor: Anchor::Slot(ptr, g),
                        c: g.wrapping_add(off),
                        span,
                        stable: Vec::new(),
                    },
                    None => Member {
                        idx,
                        key: Key::Ptr(ptr),
                        anchor: Anchor::Slot(ptr, 0),
                        c: off,
                        span,
                        stable: vec![ptr],
                    },
                },
            };
            members.push(m);
        }
        // Families: by key, in order of first access.
        let mut families: Vec<Vec<Member>> = Vec::new();
        for m in members {
            match families.iter_mut().find(|f| f[0].key == m.key) {
                Some(f) => f.push(m),
                None => families.push(vec![m]),
            }
        }
        let written_in = |s: Slot, from: usize, to: usize| -> bool {
            let mut w = Vec::new();
            (from..to).any(|i| {
                w.clear();
                crate::jit::slots::writes(code, &code.insts[i], &mut w);
                w.iter().any(|&(x, n)| (x..x + n).contains(&s))
            })
        };
        let mut checks = Vec::new();
        let mut covered = Vec::new();
        for mut f in families {
            // Members whose operands change after the first access leave the family (they
            // keep their own checks), as do offsets too far apart to add.
            let first = f[0].idx;
            f.retain(|m| m.stable.iter().all(|&s| !written_in(s, first, m.idx)));
            if f.len() < 2 || f[0].idx != first {
                continue;
            }
            let lo = f.iter().map(|m| m.c).min().unwrap_or(0);
            let hi = f
                .iter()
                .map(|m| i128::from(m.c) + i128::from(m.span))
                .max()
                .unwrap_or(0);
            let Ok(span) = u64::try_from(hi - i128::from(lo)) else {
                continue;
            };
            if span > 1 << 32 {
                continue;
            }
            let anchor = f[0].anchor;
            covered.extend(f.iter().map(|m| m.idx));
            checks.push(Precheck {
                at: first,
                anchor,
                lo,
                span,
            });
        }
        covered.sort_unstable();
        (checks, covered)
    }

    /// Family check `pc` of block `bi`, before its first access: lane 0's range in the
    /// work-group's arena goes on; else the rest of the block runs as the interpreter does
    /// (the live values into the register file, then each instruction's step for the chunk's
    /// lanes, in order, with its checks: no value of the hot path is live across those calls,
    /// which would spill it on the hot path too) and the round stops. The range's ends are
    /// accesses of the family, so one of them is outside the arena and faults if no earlier
    /// instruction does: the fault reported is the one the chunk's lanes meet first.
    pub(super) fn precheck_at(&mut self, pc: &Precheck, bi: usize, live: &[Slot]) {
        let x = match pc.anchor {
            Anchor::Slot(s, g) => {
                let v = self.lane_get(s, 0);
                self.b.ins().iadd_imm(v, pc.lo.wrapping_sub(g))
            }
            Anchor::Idx(base, i, w, scale) => {
                let b0 = self.lane_get(base, 0);
                let i0 = self.lane_get(i, 0);
                let i0 = self.sext(i0, w);
                let k = self.b.ins().imul_imm(i0, scale);
                let a = self.b.ins().iadd(b0, k);
                self.b.ins().iadd_imm(a, pc.lo)
            }
        };
        let ok = self.within_arena(x, pc.span, Space::Local);
        let (body, replay) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(ok, body, &[], replay, &[]);
        self.b.switch_to_block(replay);
        let first = self.b.func.dfg.num_blocks();
        let lane = self.b.use_var(self.lane);
        let stored: Vec<Slot> = live
            .iter()
            .copied()
            .filter(|&s| self.written.contains(s))
            .collect();
        for s in stored {
            self.store_regs(s, lane);
        }
        let end = self.code.blocks[bi].end as usize;
        for idx in pc.at..end {
            self.step_call(idx, lane);
        }
        let rs = self
            .b
            .ins()
            .iconst(I32, i64::from(crate::jit::run::ROUND_STOP));
        self.b.ins().return_(&[rs]);
        self.b.set_cold_block(replay);
        for k in first..self.b.func.dfg.num_blocks() {
            self.b.set_cold_block(Block::from_u32(k as u32));
        }
        self.b.switch_to_block(body);
    }

    /// The chunk's addresses `base + sext(idx, w) * scale + off`, as wide parts.
    pub(super) fn vaddr(&mut self, base: Slot, i: Slot, w: u8, scale: i64, off: i64) -> Vec<Value> {
        let x: Vec<Value> = if self.class_of(i) == Class::Uniform {
            let v = self.var(i);
            let v = self.sext(v, w);
            let v = self.b.ins().imul_imm(v, scale);
            let v = self.b.ins().splat(I64X2, v);
            vec![v; self.wp()]
        } else {
            let x = self.wide_sext(i, w);
            x.into_iter().map(|p| self.vmul_imm(p, scale)).collect()
        };
        let b = self.w(base);
        let o = self.vconst_i64([off, off]);
        x.into_iter()
            .zip(b)
            .map(|(p, q)| {
                let a = self.b.ins().iadd(p, q);
                self.b.ins().iadd(a, o)
            })
            .collect()
    }

    /// Whether the chunk's addresses are consecutive `size`-byte places (checked at run
    /// time unless known), and, in checked mode, inside the memory the site may touch: jumps
    /// to `fast` with lane 0's address returned, or to `slow` (whose interpreter's step for
    /// the chunk's lanes goes on to the next instruction); local addresses outside the
    /// work-group's arena stop the round from a block of their own (`idx`'s step).
    pub(super) fn contiguous(
        &mut self,
        idx: usize,
        addr: &Addr,
        size: u8,
        space: Space,
        site: u32,
        (fast, slow): (Block, Block),
    ) -> Value {
        let s = i64::from(size);
        let a0 = match addr {
            Addr::Contig(a0) => *a0,
            Addr::Same(_) => unreachable!("one address for every lane is not consecutive"),
            Addr::Lanes(parts) => {
                let a0 = self.b.ins().extractlane(parts[0], 0);
                let sp = self.b.ins().splat(I64X2, a0);
                let mut all = None;
                for (p, &part) in parts.iter().enumerate() {
                    let p = p as i64;
                    let k = self.vconst_i64([2 * p * s, (2 * p + 1) * s]);
                    let e = self.b.ins().iadd(sp, k);
                    let m = self.b.ins().icmp(IntCC::Equal, part, e);
                    all = Some(match all {
                        None => m,
                        Some(a) => self.b.ins().band(a, m),
                    });
                }
                let all = self
                    .b
                    .ins()
                    .vall_true(all.unwrap_or_else(|| unreachable!()));
                let next = self.b.create_block();
                self.b.ins().brif(all, next, &[], slow, &[]);
                self.b.switch_to_block(next);
                a0
            }
        };
        if !self.checked || self.prechecked {
            self.b.ins().jump(fast, &[]);
            return a0;
        }
        let ok = match space {
            Space::Global | Space::Generic => {
                let (lo_v, count) = self.site_bounds(site);
                let off0 = self.b.ins().isub(a0, lo_v);
                let last = self.b.ins().iadd_imm(off0, (self.vw as i64 - 1) * s);
                let c0 = self.b.ins().icmp(IntCC::UnsignedLessThan, off0, count);
                let c1 = self.b.ins().icmp(IntCC::UnsignedLessThan, last, count);
                self.b.ins().band(c0, c1)
            }
            _ => self.within_arena(a0, self.vw as u64 * u64::from(size), space),
        };
        if space == Space::Local {
            // Consecutive accesses of the chunk's lanes cover the range tested, which lies
            // outside the work-group's arena: some lane's access does, and the sanitizer's
            // own test (the same) refuses it. The interpreter's step for the chunk's lanes
            // finds and reports the first such lane; the hot path is not rejoined (a
            // rejoining call costs it spills).
            let oob = self.b.create_block();
            self.b.ins().brif(ok, fast, &[], oob, &[]);
            self.b.switch_to_block(oob);
            self.b.set_cold_block(oob);
            self.fatal_step(idx);
        } else {
            self.b.ins().brif(ok, fast, &[], slow, &[]);
        }
        a0
    }

    /// The interpreter's step of instruction `idx` for the chunk's lanes when it must stop
    /// the round: if it does not (it never should), the launch fails as a bug of the JIT
    /// (no reason in `Ctx::stop`), never going on.
    pub(super) fn fatal_step(&mut self, idx: usize) {
        self.chunk_step(idx);
        let rs = self
            .b
            .ins()
            .iconst(I32, i64::from(crate::jit::run::ROUND_STOP));
        self.b.ins().return_(&[rs]);
    }

    /// Load `idx` (result `d`) at `addr`.
    pub(super) fn vload(
        &mut self,
        idx: usize,
        d: Slot,
        addr: Addr,
        size: u8,
        space: Space,
        site: u32,
    ) -> V {
        let narrow = size <= 4;
        let want = if narrow { Class::Narrow } else { Class::Wide };
        if let Addr::Same(a) = addr
            && space != Space::Generic
        {
            // One place for every lane: one access (lane 0's, the first in lane order).
            self.check(a, u64::from(size), space, site, false);
            let x = self.load_at(a, 0, size);
            return self.splat_v(x, want);
        }
        let (fast, slow, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        let (ty, parts) = if narrow {
            (I32X4, self.np())
        } else {
            (I64X2, self.wp())
        };
        for _ in 0..parts {
            self.b.append_block_param(join, ty);
        }
        let a0 = if let Addr::Same(a0) = addr {
            // A generic address the same for every lane: the sanitizer decides per lane
            // (it may be private memory), so the interpreter's step does the chunk's loads.
            self.b.ins().jump(slow, &[]);
            a0
        } else {
            self.contiguous(idx, &addr, size, space, site, (fast, slow))
        };
        self.b.switch_to_block(fast);
        let vs: Vec<_> = (0..parts as i32)
            .map(|p| self.b.ins().load(ty, MemFlags::new(), a0, 16 * p).into())
            .collect();
        self.b.ins().jump(join, &vs);
        // slow: the interpreter's step for the chunk's lanes (its checks, lane order).
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let saved = self.cold_save();
        self.chunk_step(idx);
        self.cold_restore(&saved);
        let base = self.b.use_var(self.lane);
        let a = self.reg_addr(d, base);
        let wide: Vec<Value> = (0..self.wp() as i32)
            .map(|p| self.b.ins().load(I64X2, vflags(), a, 16 * p))
            .collect();
        let want = if narrow { Class::Narrow } else { Class::Wide };
        let vs: Vec<_> = match self.convert(V::W(wide), want) {
            V::N(x) | V::W(x) => x.into_iter().map(Into::into).collect(),
        };
        self.b.ins().jump(join, &vs);
        self.b.switch_to_block(join);
        let p = self.b.block_params(join).to_vec();
        if narrow { V::N(p) } else { V::W(p) }
    }

    /// Store `idx` (of slot `v`) at `addr`.
    pub(super) fn vstore(
        &mut self,
        idx: usize,
        addr: Addr,
        size: u8,
        v: Slot,
        space: Space,
        site: u32,
    ) {
        let (fast, slow, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        let narrow = size <= 4;
        if let Addr::Same(_) = addr {
            // Every lane in lane order (the last one's value stays).
            self.b.ins().jump(slow, &[]);
            self.b.switch_to_block(fast);
            self.b.ins().jump(join, &[]);
        } else {
            let a0 = self.contiguous(idx, &addr, size, space, site, (fast, slow));
            self.b.switch_to_block(fast);
            let x = if narrow { self.n(v) } else { self.w(v) };
            for (p, x) in x.into_iter().enumerate() {
                self.b.ins().store(MemFlags::new(), x, a0, 16 * p as i32);
            }
            self.b.ins().jump(join, &[]);
        }
        // slow: the interpreter's step for the chunk's lanes (its checks, lane order).
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let saved = self.cold_save();
        self.chunk_step(idx);
        self.cold_restore(&saved);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
    }

    /// The chunk's addresses of an indexed access `base + sext(idx, w) * scale + off`: lane
    /// 0's and a stride when the operands' strides tell one, else every lane's.
    pub(super) fn idx_addr(
        &mut self,
        base: Slot,
        i: Slot,
        w: u8,
        scale: i64,
        off: i64,
        size: u8,
    ) -> Addr {
        let stride = |c: Class| match c {
            Class::Uniform => Some(0),
            Class::Affine(k) => Some(k),
            _ => None,
        };
        let si = match self.class_of(i) {
            Class::Affine(k) if w < 64 => {
                let _ = k;
                None
            }
            c => stride(c),
        };
        let total = match (stride(self.class_of(base)), si) {
            (Some(a), Some(b)) => b.checked_mul(scale).and_then(|x| x.checked_add(a)),
            _ => None,
        };
        match total {
            Some(t) if t == 0 || t == i64::from(size) => {
                let b0 = self.lane_get(base, 0);
                let i0 = self.lane_get(i, 0);
                let i0 = self.sext(i0, w);
                let x = self.b.ins().imul_imm(i0, scale);
                let a = self.b.ins().iadd(b0, x);
                let a = self.b.ins().iadd_imm(a, off);
                if t == 0 {
                    Addr::Same(a)
                } else {
                    Addr::Contig(a)
                }
            }
            _ => Addr::Lanes(self.vaddr(base, i, w, scale, off)),
        }
    }

    /// The chunk's addresses held in slot `p`.
    pub(super) fn ptr_addr(&mut self, p: Slot, size: u8) -> Addr {
        match self.class_of(p) {
            Class::Affine(0) | Class::Uniform => {
                let a = self.lane_get(p, 0);
                Addr::Same(a)
            }
            Class::Affine(k) if k == i64::from(size) => {
                let a = self.lane_get(p, 0);
                Addr::Contig(a)
            }
            _ => Addr::Lanes(self.w(p)),
        }
    }
}

/// Where the chunk's lanes access memory.
pub(super) enum Addr {
    /// Lane `l` at lane 0's address plus `l` times the access size (known statically).
    Contig(Value),
    /// Every lane at one address.
    Same(Value),
    /// Each lane's own address (consecutive or not, checked at run time), as wide parts.
    Lanes(Vec<Value>),
}

/// Loads and stores the vector path does itself (others run lane by lane): 4- and 8-byte
/// values outside private memory (each lane's private memory is its own).
pub(super) fn vmem_ok(size: u8, space: Space) -> bool {
    matches!(size, 4 | 8) && space != Space::Private
}
