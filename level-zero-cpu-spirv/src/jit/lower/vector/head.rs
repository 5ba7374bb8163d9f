//! The vector path's round head: which chunk runs next, and its entry (its values loaded
//! at the kernel's entry or a barrier's continuation).

use super::*;
use crate::ir::{Slot, Term};
use crate::jit::lower::{I32, I64, Lower, flags, inst_reads, term_reads};
use crate::jit::run::{CHUNK, Ctx};
use crate::jit::simd::{self, Class};
use crate::jit::slots::Set;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, MemFlags, Value};
use cranelift_frontend::Switch;
use cranelift_frontend::Variable;
use std::mem::offset_of;

impl Lower<'_, '_> {
    /// The head's choice for the lane at `self.lane`: lanes left at a divergent branch first,
    /// then a chunk on the vector path when it can take one, else `dispatch` (scalar).
    pub(in crate::jit::lower) fn vector_head(&mut self, head: Block, dispatch: Block) {
        let lane = self.b.use_var(self.lane);
        let div_end = self.b.use_var(self.div_end);
        let (divided, pick) = (self.b.create_block(), self.b.create_block());
        let parted = self.b.ins().icmp(IntCC::UnsignedLessThan, lane, div_end);
        self.b.ins().brif(parted, divided, &[], pick, &[]);

        // divided: this lane continues alone from the branch where its chunk diverged.
        self.b.switch_to_block(divided);
        self.fill_lane_inputs();
        let lane = self.b.use_var(self.lane);
        let site = self.b.use_var(self.div_site);
        let mut sw = Switch::new();
        let mut stubs = Vec::new();
        for (k, &bi) in self.div_sites.iter().enumerate() {
            let stub = self.b.create_block();
            sw.set_entry(k as u128, stub);
            stubs.push((bi, stub));
        }
        let lost = self.b.create_block();
        sw.emit(self.b, site, lost);
        self.b.switch_to_block(lost);
        self.b
            .ins()
            .trap(cranelift_codegen::ir::TrapCode::unwrap_user(2));
        for (bi, stub) in stubs {
            self.b.switch_to_block(stub);
            let live = simd::live_at_term(self.code, &self.live, &self.written, bi);
            for s in live {
                self.fill(s, lane);
            }
            let t = self.term_blocks[bi].unwrap_or_else(|| unreachable!());
            self.b.ins().jump(t, &[]);
        }

        // pick: a whole chunk left, starting at a multiple of `W` (and, when the kernel reads
        // y or z ids, in one row)?
        self.b.switch_to_block(pick);
        let lane = self.b.use_var(self.lane);
        let end = self.b.ins().iadd_imm(lane, self.vw as i64);
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, self.lanes);
        let rem = self.b.ins().band_imm(lane, self.vw as i64 - 1);
        let aligned = self.b.ins().icmp_imm(IntCC::Equal, rem, 0);
        let mut fits = self.b.ins().band(fits, aligned);
        if simd::needs_rows(self.code) {
            let rows = self.ctx_field(offset_of!(Ctx, rows));
            let rows = self.b.ins().icmp_imm(IntCC::NotEqual, rows, 0);
            fits = self.b.ins().band(fits, rows);
        }
        let chunk = self.b.create_block();
        self.b.ins().brif(fits, chunk, &[], dispatch, &[]);
        self.b.switch_to_block(chunk);

        let vnext = self.b.create_block();
        let targets = self.round_starts();
        let mut stubs = Vec::new();
        if self.single_round() {
            let stub = self.b.create_block();
            self.b.ins().jump(stub, &[]);
            stubs.push((self.code.entry, stub, true));
            self.vstart = Some(stub);
        } else {
            // The chunk's lanes must all wait at the same block.
            let resume = self.ctx_field(offset_of!(Ctx, resume));
            let off = self.b.ins().ishl_imm(lane, 2);
            let at = self.b.ins().iadd(resume, off);
            let r = self.b.ins().load(I32X4, MemFlags::new(), at, 0);
            let r0 = self.b.ins().extractlane(r, 0);
            let s = self.b.ins().splat(I32X4, r0);
            let mut eq = self.b.ins().icmp(IntCC::Equal, r, s);
            for p in 1..self.np() as i32 {
                let r = self.b.ins().load(I32X4, MemFlags::new(), at, 16 * p);
                let e = self.b.ins().icmp(IntCC::Equal, r, s);
                eq = self.b.ins().band(eq, e);
            }
            let all = self.b.ins().vall_true(eq);
            let same = self.b.create_block();
            self.b.ins().brif(all, same, &[], dispatch, &[]);
            self.b.switch_to_block(same);
            let mut sw = Switch::new();
            for &t in &targets {
                let stub = self.b.create_block();
                sw.set_entry(u128::from(t), stub);
                stubs.push((t, stub, true));
                // Saved as one chunk at a barrier (`run::CHUNK`): nothing to check.
                if t != self.code.entry {
                    let stub = self.b.create_block();
                    sw.set_entry(u128::from(t | CHUNK), stub);
                    stubs.push((t, stub, false));
                }
            }
            sw.emit(self.b, r0, vnext);
        }
        // Both entries of a target (checked, and saved whole) meet before the chunk's values
        // are loaded: values defined once need no block parameter where they meet, so
        // Cranelift is free to compute each recomputed one where it is used (with a
        // parameter, every one is computed at the entry and most are spilled).
        let mut fills: Vec<u32> = Vec::new();
        for (t, stub, check) in stubs {
            self.b.switch_to_block(stub);
            if check {
                self.vector_check(t, dispatch);
            }
            let fill = self.fill_block(t);
            self.b.ins().jump(fill, &[]);
            if !fills.contains(&t) {
                fills.push(t);
            }
        }
        for t in fills {
            let fill = self.fill_block(t);
            self.b.switch_to_block(fill);
            self.vector_entry(t);
            self.b.ins().jump(self.vblocks[t as usize], &[]);
        }

        // vnext: the next chunk.
        self.b.switch_to_block(vnext);
        let lane = self.b.use_var(self.lane);
        let l = self.b.ins().iadd_imm(lane, self.vw as i64);
        self.b.def_var(self.lane, l);
        self.b.ins().jump(head, &[]);
    }

    /// Where a chunk loads its values before going on at round start `t` (made at the first
    /// call; [`Self::vector_head`] fills it).
    pub(super) fn fill_block(&mut self, t: u32) -> Block {
        match self.vfills[t as usize] {
            Some(b) => b,
            None => {
                let b = self.b.create_block();
                self.vfills[t as usize] = Some(b);
                b
            }
        }
    }

    /// After a chunk saved whole at a barrier: the next chunk, when it is whole and waits
    /// where this one started its round (`t`, marked saved whole unless it is the kernel's
    /// entry), goes straight to loading its values; anything else goes to the round's head.
    ///
    /// Such a chunk passes the head's other tests: this one started at a multiple of the
    /// width and ran on the vector path (so the group's rows hold whole chunks and no lane
    /// before the next one was left at a divergent branch).
    pub(super) fn next_chunk_at(&mut self, t: u32) {
        let lane = self.b.use_var(self.lane);
        let l = self.b.ins().iadd_imm(lane, self.vw as i64);
        self.b.def_var(self.lane, l);
        let head = self.head;
        let end = self.b.ins().iadd_imm(l, self.vw as i64);
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, self.lanes);
        let look = self.b.create_block();
        self.b.ins().brif(fits, look, &[], head, &[]);
        self.b.switch_to_block(look);
        let want = if t == self.code.entry { t } else { t | CHUNK };
        let resume = self.ctx_field(offset_of!(Ctx, resume));
        let off = self.b.ins().ishl_imm(l, 2);
        let at = self.b.ins().iadd(resume, off);
        let want = self.b.ins().iconst(I32, i64::from(want as i32));
        let want = self.b.ins().splat(I32X4, want);
        let mut eq = None;
        for p in 0..self.np() as i32 {
            let r = self.b.ins().load(I32X4, MemFlags::new(), at, 16 * p);
            let e = self.b.ins().icmp(IntCC::Equal, r, want);
            eq = Some(match eq {
                None => e,
                Some(m) => self.b.ins().band(m, e),
            });
        }
        let all = self
            .b
            .ins()
            .vall_true(eq.unwrap_or_else(|| unreachable!("a chunk has lanes")));
        let fill = self.fill_block(t);
        self.b.ins().brif(all, fill, &[], head, &[]);
    }

    /// Whether the uniform and affine values live into barrier continuation `t` are so in
    /// the chunk's lanes' frames (lanes that reached the barrier one by one may hold
    /// anything): lane 0's, checked against all; if not, to `dispatch`.
    pub(super) fn vector_check(&mut self, t: u32, dispatch: Block) {
        if t == self.code.entry {
            return;
        }
        let lane = self.b.use_var(self.lane);
        let mut all: Option<Value> = None;
        for s in self.saved(t) {
            let k = match self.class_of(s) {
                Class::Uniform => 0,
                Class::Affine(k) => k,
                _ => continue,
            };
            let a = self.frame_addr(s, lane);
            let x0 = self.b.ins().load(I64, flags(), a, 0);
            let x0 = self.b.ins().splat(I64X2, x0);
            for p in 0..self.wp() as i64 {
                let x = self.b.ins().load(I64X2, vflags(), a, 16 * p as i32);
                let step =
                    self.vconst_i64(std::array::from_fn(|j| k.wrapping_mul(2 * p + j as i64)));
                let want = self.b.ins().iadd(x0, step);
                let eq = self.b.ins().icmp(IntCC::Equal, x, want);
                all = Some(match all {
                    None => eq,
                    Some(m) => self.b.ins().band(m, eq),
                });
            }
        }
        if let Some(m) = all {
            let same = self.b.ins().vall_true(m);
            let ok = self.b.create_block();
            self.b.ins().brif(same, ok, &[], dispatch, &[]);
            self.b.switch_to_block(ok);
        }
    }

    /// Loads the chunk's values live into block `t` (the kernel's entry: from the register
    /// file; a barrier's continuation: from the lanes' frames, whose uniform and affine
    /// values [`Self::vector_check`] found so, or the vector path saved so) and computes the
    /// recomputable ones.
    pub(super) fn vector_entry(&mut self, t: u32) {
        // The read-only slots the round reads, loaded again (`Lower::hvars`).
        let reads = self.round_reads(t);
        let wanted: Vec<(Variable, u32)> = reads
            .iter()
            .filter_map(|s| self.hvars[s as usize])
            .collect();
        if !wanted.is_empty() {
            let table = self
                .b
                .ins()
                .load(I64, flags(), self.ctx, offset_of!(Ctx, uniforms) as i32);
            for (h, k) in wanted {
                let v = self.b.ins().load(I64, flags(), table, 8 * k as i32);
                self.b.def_var(h, v);
            }
        }
        let was = std::mem::replace(&mut self.in_vector, true);
        self.vector_entry_values(t);
        self.in_vector = was;
    }

    /// The slots a round from start `t` on the vector path reads: the instructions and
    /// terminators of the blocks it reaches before a barrier, and the values recomputed at
    /// `t`.
    fn round_reads(&self, t: u32) -> Set {
        let code = self.code;
        let mut set = Set::new(code.slots);
        for (bi, blk) in code.blocks.iter().enumerate() {
            if self.region_entry[bi].contains(&t) {
                for inst in &code.insts[blk.start as usize..blk.end as usize] {
                    inst_reads(code, inst, &mut set);
                }
                term_reads(&blk.term, &mut set);
            }
        }
        for idx in self.recompute(t) {
            inst_reads(code, &code.insts[idx], &mut set);
        }
        set
    }

    fn vector_entry_values(&mut self, t: u32) {
        let from = self.b.ins().iconst(I32, i64::from(t as i32));
        self.b.def_var(self.vfrom, from);
        let lane = self.b.use_var(self.lane);
        let inputs: Vec<Slot> = self
            .used
            .iter()
            .filter(|&s| !self.written.contains(s) && self.per_lane.contains(s))
            .collect();
        for s in inputs {
            self.vfill_regs(s, lane);
        }
        let live: Vec<Slot> = self.live[t as usize]
            .iter()
            .filter(|&s| self.written.contains(s))
            .collect();
        if t == self.code.entry {
            // Seeded varying by `simd::classes`.
            for s in live {
                self.vfill_regs(s, lane);
            }
            return;
        }
        for s in self.saved(t) {
            if matches!(self.class_of(s), Class::Uniform | Class::Affine(_)) {
                self.fill_frame(s, lane);
            } else if self.frame_narrow(s) {
                let a = self.frame_addr(s, lane);
                let parts: Vec<Value> = (0..self.np() as i32)
                    .map(|p| self.b.ins().load(I32X4, vflags(), a, 16 * p))
                    .collect();
                self.vset(s, V::N(parts));
            } else {
                let a = self.frame_addr(s, lane);
                let parts: Vec<Value> = (0..self.wp() as i32)
                    .map(|p| self.b.ins().load(I64X2, vflags(), a, 16 * p))
                    .collect();
                self.vset(s, V::W(parts));
            }
        }
        for idx in self.recompute(t) {
            self.vinst(idx);
        }
    }

    /// Varying slot `s` of the chunk from the register file (consecutive lanes).
    pub(super) fn vfill_regs(&mut self, s: Slot, lane: Value) {
        let a = self.reg_addr(s, lane);
        let parts: Vec<Value> = (0..self.wp() as i32)
            .map(|p| self.b.ins().load(I64X2, MemFlags::new(), a, 16 * p))
            .collect();
        if matches!(self.class_of(s), Class::Uniform | Class::Affine(_)) {
            // Never: such slots are seeded varying (wide).
            let x = self.b.ins().extractlane(parts[0], 0);
            self.b.def_var(self.vars[s as usize], x);
        } else {
            self.vset(s, V::W(parts));
        }
    }
}

/// Per block of `code`: the round starts (the entry, barriers' and sub-group meetings'
/// continuations) whose rounds reach it without passing a barrier or a sub-group meeting.
pub(in crate::jit::lower) fn region_entries(code: &crate::ir::Code) -> Vec<Vec<u32>> {
    let n = code.blocks.len();
    let mut starts = vec![code.entry];
    for blk in &code.blocks {
        if let Term::Barrier(t) | Term::SubgroupSync(t) = blk.term
            && !starts.contains(&t)
        {
            starts.push(t);
        }
    }
    let mut from = vec![Vec::new(); n];
    let mut seen = vec![false; n];
    let mut stack = Vec::new();
    for &t in &starts {
        seen.iter_mut().for_each(|x| *x = false);
        stack.clear();
        stack.push(t);
        seen[t as usize] = true;
        while let Some(b) = stack.pop() {
            let b = b as usize;
            from[b].push(t);
            let term = &code.blocks[b].term;
            if matches!(term, Term::Barrier(_) | Term::SubgroupSync(_)) {
                continue;
            }
            for s in term.successors() {
                if (s as usize) < n && !seen[s as usize] {
                    seen[s as usize] = true;
                    stack.push(s);
                }
            }
        }
    }
    from
}
