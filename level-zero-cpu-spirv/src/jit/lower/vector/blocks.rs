//! The vector path's blocks and terminators: branches (uniform or divergent), barriers
//! (the chunk saved whole, then the next chunk), returns, and the anchors and cold-path
//! saves around a block's instructions.

use super::*;
use crate::ir::{Edge, Inst, Slot, Term};
use crate::jit::lower::{I32, I64, Lower};
use crate::jit::run::{CHUNK, Ctx, DONE};
use crate::jit::simd::{self, Class};
use crate::jit::slots::Set;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlags, StackSlotData, StackSlotKind};
use std::mem::offset_of;

impl Lower<'_, '_> {
    pub(in crate::jit::lower) fn vblock(&mut self, bi: usize) {
        let was = std::mem::replace(&mut self.in_vector, true);
        self.vblock_code(bi);
        self.in_vector = was;
    }

    fn vblock_code(&mut self, bi: usize) {
        let code = self.code;
        let blk = &code.blocks[bi];
        self.b.switch_to_block(self.vblocks[bi]);
        let live_after = self.vlive_after(bi);
        self.pending.clear();
        let (checks, prechecked) = self.prechecks(bi);
        let live_before = if checks.is_empty() {
            Vec::new()
        } else {
            self.live_before(bi)
        };
        for (idx, live) in (blk.start as usize..blk.end as usize).zip(live_after) {
            self.vlive = live;
            for pc in checks.iter().filter(|pc| pc.at == idx) {
                self.precheck_at(pc, bi, &live_before[idx - blk.start as usize]);
            }
            match code.insts[idx] {
                Inst::Load { p, .. } => self.anchor(p),
                Inst::LoadIdx { base, .. } => self.anchor(base),
                _ => {}
            }
            self.prechecked = prechecked.binary_search(&idx).is_ok();
            self.vinst(idx);
            self.prechecked = false;
        }
        self.vlive.clear();
        self.pending.clear();
        match &blk.term {
            Term::Jump(e) => self.vedge(e),
            Term::Branch { c, t, f } => {
                let (tb, fb) = (self.b.create_block(), self.b.create_block());
                if self.class_of(*c) == Class::Uniform {
                    let c = self.var(*c);
                    self.b.ins().brif(c, tb, &[], fb, &[]);
                } else {
                    let (V::N(parts) | V::W(parts)) = self.vget(*c, self.repr(*c));
                    let mut all = self.b.ins().vall_true(parts[0]);
                    let mut any = self.b.ins().vany_true(parts[0]);
                    for &p in &parts[1..] {
                        let (a, y) = (self.b.ins().vall_true(p), self.b.ins().vany_true(p));
                        all = self.b.ins().band(all, a);
                        any = self.b.ins().bor(any, y);
                    }
                    let (some, split) = (self.b.create_block(), self.b.create_block());
                    self.b.ins().brif(all, tb, &[], some, &[]);
                    self.b.switch_to_block(some);
                    self.b.ins().brif(any, split, &[], fb, &[]);
                    self.b.switch_to_block(split);
                    self.diverge(bi);
                }
                self.b.switch_to_block(tb);
                self.vedge(t);
                self.b.switch_to_block(fb);
                self.vedge(f);
            }
            Term::Switch {
                sel,
                cases,
                default,
            } => {
                let v = if self.class_of(*sel) == Class::Uniform {
                    self.var(*sel)
                } else {
                    // Every lane's selector equal to lane 0's, or the chunk splits.
                    let x0 = self.lane_get(*sel, 0);
                    let want = self.repr(*sel);
                    let (V::N(x) | V::W(x)) = self.vget(*sel, want);
                    let (V::N(y) | V::W(y)) = self.splat_v(x0, want);
                    let mut e = self.b.ins().icmp(IntCC::Equal, x[0], y[0]);
                    for (&p, &q) in x.iter().zip(&y).skip(1) {
                        let f = self.b.ins().icmp(IntCC::Equal, p, q);
                        e = self.b.ins().band(e, f);
                    }
                    let eq = self.b.ins().vall_true(e);
                    let (same, split) = (self.b.create_block(), self.b.create_block());
                    self.b.ins().brif(eq, same, &[], split, &[]);
                    self.b.switch_to_block(split);
                    self.diverge(bi);
                    self.b.switch_to_block(same);
                    x0
                };
                self.switch_edges(v, cases, default, Self::vedge);
            }
            Term::Return => {
                if !self.single_round() {
                    self.vset_resume(DONE);
                }
                self.jump_vnext();
            }
            Term::Barrier(n) => {
                // Each saved value as the chunk's lanes' entries of its frame row, whole
                // vectors (narrow ones as 32-bit entries); a uniform or affine one as the
                // first lane's entry only, which is all the vector path reads back (a lane
                // resuming on the scalar path from a chunk's save, marked `CHUNK`, computes
                // its own from it: `Lower::function`'s dispatch).
                let lane = self.b.use_var(self.lane);
                for s in self.saved(*n) {
                    if matches!(self.class_of(s), Class::Uniform | Class::Affine(_)) {
                        let x = self.var(s);
                        let a = self.frame_addr(s, lane);
                        self.b.ins().store(MemFlags::trusted(), x, a, 0);
                        continue;
                    }
                    let parts = if self.frame_narrow(s) {
                        self.n(s)
                    } else {
                        self.w(s)
                    };
                    let a = self.frame_addr(s, lane);
                    for (p, x) in parts.into_iter().enumerate() {
                        self.b.ins().store(vflags(), x, a, 16 * p as i32);
                    }
                }
                self.vset_resume(*n | CHUNK);
                // The round's head takes chunks at the entry and at barriers' continuations:
                // the next chunk may wait where this one started its round, which is one of
                // them (a chunk on the vector path started at one).
                let starts = self.round_starts();
                let from: Vec<u32> = self.region_entry[bi]
                    .iter()
                    .copied()
                    .filter(|t| starts.contains(t))
                    .collect();
                match from[..] {
                    [] => self.jump_vnext(),
                    [t] => self.next_chunk_at(t),
                    _ => {
                        let at = self.b.use_var(self.vfrom);
                        for (k, &t) in from.iter().enumerate() {
                            let (this, other) = (self.b.create_block(), self.b.create_block());
                            if k + 1 == from.len() {
                                self.b.ins().jump(this, &[]);
                            } else {
                                let is = self.b.ins().icmp_imm(IntCC::Equal, at, i64::from(t));
                                self.b.ins().brif(is, this, &[], other, &[]);
                            }
                            self.b.switch_to_block(this);
                            self.next_chunk_at(t);
                            self.b.switch_to_block(other);
                        }
                        // Never reached (the last start takes every other case).
                        self.b.ins().jump(self.head, &[]);
                    }
                }
            }
            // Trap, Fail and sub-group meetings (refused): as on the scalar path, for the
            // chunk's first lane (the first to get there in lane order).
            _ => {
                // `get` reads lane 0's value; `self.lane` is lane 0.
                self.vlane = Some(0);
                self.stop_term(bi);
                self.vlane = None;
            }
        }
    }

    /// Before a load: the vector values computed by pure arithmetic since the block's
    /// previous load (`Lower::pending`) that are still live after it, passed through a
    /// block parameter so that they are computed before the load.
    ///
    /// Cranelift computes a pure value where it is first needed: an accumulation that
    /// alternates loads and multiply-adds (tiled matmul's 16) was otherwise computed after
    /// all the loads, every loaded vector spilled to the stack meanwhile. A branch's
    /// arguments are computed before it. The branch goes to one block either way, with the
    /// values on one edge and the same values through an identity (`bor x, x`) on the other:
    /// a parameter that every edge gives one value would be removed before the values are
    /// placed (`remove_constant_phis`). The hot path then has one test and branch more per
    /// anchor.
    pub(super) fn anchor(&mut self, addr: Slot) {
        let mut slots = std::mem::take(&mut self.pending);
        slots.sort_unstable();
        slots.dedup();
        slots.retain(|s| self.vlive.contains(s));
        if slots.is_empty() {
            return;
        }
        let vars: Vec<_> = slots
            .iter()
            .flat_map(|&s| self.vvars[s as usize].clone())
            .collect();
        let next = self.b.create_block();
        let (mut same, mut through) = (Vec::new(), Vec::new());
        for &var in &vars {
            let v = self.b.use_var(var);
            let ty = self.b.func.dfg.value_type(v);
            self.b.append_block_param(next, ty);
            same.push(v.into());
            through.push(self.b.ins().bor(v, v).into());
        }
        // Either edge gives the same values: the condition is any value at hand, the
        // load's address (or base) when it is one scalar, which the load needs in a
        // register anyway.
        let any = match self.class_of(addr) {
            Class::Uniform | Class::Affine(_) => self.var(addr),
            _ => self.b.use_var(self.lane),
        };
        self.b.ins().brif(any, next, &same, next, &through);
        self.b.switch_to_block(next);
        let params = self.b.block_params(next).to_vec();
        for (var, p) in vars.into_iter().zip(params) {
            self.b.def_var(var, p);
        }
    }

    /// Backward over block `bi`'s instructions from what is live at its end (what its
    /// terminator reads or its successors do, and a barrier's continuation's live-ins):
    /// `at(idx, after, before)` per instruction, `after` the slots live after it without its
    /// own results, `before` those live before it (its operands included).
    fn scan_live(&self, bi: usize, mut at: impl FnMut(usize, &Set, &Set)) {
        let code = self.code;
        let blk = &code.blocks[bi];
        let mut live = Set::new(code.slots);
        for s in simd::live_at_term(code, &self.live, &self.written, bi) {
            live.insert(s);
        }
        if let Term::Barrier(n) = blk.term {
            for s in self.live[n as usize].iter() {
                live.insert(s);
            }
        }
        let mut runs = Vec::new();
        for idx in (blk.start as usize..blk.end as usize).rev() {
            let inst = &code.insts[idx];
            runs.clear();
            crate::jit::slots::writes(code, inst, &mut runs);
            for &(s, n) in &runs {
                for x in s..(s + n).min(code.slots) {
                    live.remove(x);
                }
            }
            let after = live.clone();
            runs.clear();
            crate::jit::slots::reads(code, inst, &mut runs);
            for &(s, n) in &runs {
                for x in s..(s + n).min(code.slots) {
                    live.insert(x);
                }
            }
            at(idx, &after, &live);
        }
    }

    /// Per instruction of block `bi`: the vector slots (narrow or wide) live after it, its
    /// own results excepted: what a cold callout inside its lowering saves and reloads.
    pub(super) fn vlive_after(&mut self, bi: usize) -> Vec<Vec<Slot>> {
        let blk = &self.code.blocks[bi];
        let mut out = vec![Vec::new(); (blk.end - blk.start) as usize];
        self.scan_live(bi, |idx, after, _| {
            out[idx - blk.start as usize] = after
                .iter()
                .filter(|&x| matches!(self.class_of(x), Class::Narrow | Class::Wide))
                .collect();
        });
        out
    }

    /// Per instruction of block `bi`: every slot live before it (its operands included).
    pub(super) fn live_before(&mut self, bi: usize) -> Vec<Vec<Slot>> {
        let blk = &self.code.blocks[bi];
        let mut out = vec![Vec::new(); (blk.end - blk.start) as usize];
        self.scan_live(bi, |idx, _, before| {
            out[idx - blk.start as usize] = before.iter().collect();
        });
        out
    }

    /// Before a callout on a cold path of the vector path: the live vector values
    /// (`Lower::vlive`, up to [`COLD_SAVES`]) stored to the stack, so that the hot path
    /// keeps them in registers (a value live across a call is otherwise spilled on every
    /// path, the hot one too: every vector register is caller-saved). [`Self::cold_restore`]
    /// reloads them after the call.
    pub(in crate::jit::lower) fn cold_save(&mut self) -> Vec<Slot> {
        if self.vlive.is_empty() {
            return Vec::new();
        }
        let per = 16 * self.wp() as u32;
        let area = match self.cold {
            Some(a) => a,
            None => {
                // Room for every vector slot of the kernel, up to `COLD_SAVES`.
                let n = self
                    .class
                    .iter()
                    .filter(|&&c| matches!(c, Class::Narrow | Class::Wide))
                    .count()
                    .min(COLD_SAVES);
                let a = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    n as u32 * per,
                    4,
                ));
                self.cold = Some(a);
                a
            }
        };
        let saved: Vec<Slot> = self.vlive.iter().copied().take(COLD_SAVES).collect();
        for (k, &s) in saved.iter().enumerate() {
            let vars = self.vvars[s as usize].clone();
            for (p, var) in vars.into_iter().enumerate() {
                let v = self.b.use_var(var);
                let at = k as u32 * per + 16 * p as u32;
                self.b.ins().stack_store(v, area, at as i32);
            }
        }
        saved
    }

    /// After the callout: the values [`Self::cold_save`] stored, reloaded.
    pub(in crate::jit::lower) fn cold_restore(&mut self, saved: &[Slot]) {
        let Some(area) = self.cold else {
            return;
        };
        let per = 16 * self.wp() as u32;
        for (k, &s) in saved.iter().enumerate() {
            let ty = if self.class_of(s) == Class::Narrow {
                I32X4
            } else {
                I64X2
            };
            let vars = self.vvars[s as usize].clone();
            for (p, var) in vars.into_iter().enumerate() {
                let at = k as u32 * per + 16 * p as u32;
                let v = self.b.ins().stack_load(ty, area, at as i32);
                self.b.def_var(var, v);
            }
        }
    }

    pub(super) fn jump_vnext(&mut self) {
        let lane = self.b.use_var(self.lane);
        let l = self.b.ins().iadd_imm(lane, self.vw as i64);
        self.b.def_var(self.lane, l);
        // The head again (the chunk's `vnext` is the same thing).
        let head = self.head;
        if let Some(start) = self.vstart {
            // Without barriers, a chunk that got here started at the entry, at a multiple
            // of the width, in a group whose rows hold whole chunks, with no lanes left
            // from a divergent branch before it (the head saw to all that): the next one
            // takes the vector path too if it is whole. The head's checks for it reduce to
            // that.
            let end = self.b.ins().iadd_imm(l, self.vw as i64);
            let fits = self
                .b
                .ins()
                .icmp(IntCC::UnsignedLessThanOrEqual, end, self.lanes);
            self.b.ins().brif(fits, start, &[], head, &[]);
        } else {
            self.b.ins().jump(head, &[]);
        }
    }

    pub(super) fn vset_resume(&mut self, to: u32) {
        let lane = self.b.use_var(self.lane);
        let resume = self.ctx_field(offset_of!(Ctx, resume));
        let off = self.b.ins().ishl_imm(lane, 2);
        let at = self.b.ins().iadd(resume, off);
        let v = self.b.ins().iconst(I32, i64::from(to as i32));
        let v = self.b.ins().splat(I32X4, v);
        for p in 0..self.np() as i32 {
            self.b.ins().store(MemFlags::new(), v, at, 16 * p);
        }
    }

    /// Slot `s` of the chunk from `lane` into the register file: the chunk's lanes are
    /// consecutive there, so whole vector parts at once.
    pub(super) fn store_regs(&mut self, s: Slot, lane: Value) {
        let parts = self.w(s);
        let a = self.reg_addr(s, lane);
        for (p, x) in parts.into_iter().enumerate() {
            self.b.ins().store(vflags(), x, a, 16 * p as i32);
        }
    }

    /// The chunk splits at block `bi`'s branch: its live values go to the register file and
    /// its lanes continue one by one from the branch on the scalar path.
    pub(super) fn diverge(&mut self, bi: usize) {
        let lane = self.b.use_var(self.lane);
        let live = simd::live_at_term(self.code, &self.live, &self.written, bi);
        for s in live {
            self.store_regs(s, lane);
        }
        let end = self.b.ins().iadd_imm(lane, self.vw as i64);
        self.b.def_var(self.div_end, end);
        let k = self
            .div_sites
            .iter()
            .position(|&x| x == bi)
            .unwrap_or_else(|| unreachable!());
        let k = self.b.ins().iconst(I64, k as i64);
        self.b.def_var(self.div_site, k);
        let head = self.head;
        self.b.ins().jump(head, &[]);
    }

    pub(super) fn vedge(&mut self, e: &Edge) {
        for m in &e.moves {
            for k in 0..u32::from(m.n) {
                let (d, s) = (m.d + k, m.s + k);
                match self.class_of(d) {
                    Class::Uniform | Class::Affine(_) => {
                        let x = self.lane_get(s, 0);
                        self.b.def_var(self.vars[d as usize], x);
                    }
                    c => {
                        let v = self.vget(s, c);
                        self.vset(d, v);
                    }
                }
            }
        }
        self.b.ins().jump(self.vblocks[e.to as usize], &[]);
    }
}
