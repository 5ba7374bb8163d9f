//! The vector path of the round function: chunks of [`W`] consecutive lanes run together,
//! uniform values in scalar registers, varying ones in SIMD vectors (`super::simd` says
//! which slot is which).
//!
//! - The round's head takes the next `W` lanes to the vector path when they all wait at the
//!   same block (and, at a barrier's continuation, hold equal values in every uniform slot),
//!   and otherwise, or for the group's last lanes, to the scalar path.
//! - An instruction whose operands are all uniform and whose result is the same for every
//!   lane ([`simd::once_for_chunk`]) runs once, as on the scalar path. Arithmetic, compares,
//!   selects, conversions between widths, address arithmetic, loads and stores and the
//!   work-item ids have vector forms; every other instruction runs lane after lane (the
//!   scalar lowering, reading and writing that lane of the vectors).
//! - A load or store whose `W` addresses turn out consecutive (checked at run time: one
//!   compare) is one vector access, bounds-checked as one range in checked mode; otherwise,
//!   and for private memory, each lane accesses memory alone, in lane order, with the scalar
//!   path's checks.
//! - A branch whose condition is not the same in every lane of the chunk stores the chunk's
//!   live values to the register file and sends its lanes one by one down the scalar path
//!   from that branch (`div_end`, `div_site`); they meet the vector path again at the next
//!   barrier or at the next chunk.

use super::super::run::{Ctx, DONE};
use super::super::simd::{self, Class, W};
use super::{I32, I64, Lower, flags};
use crate::ir::{Builtin, Edge, Inst, Slot, Term};
use crate::mem::Space;
use crate::ops::{BinOp, Cmp, FBin, Fk, TernOp, UnOp, mask};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{Block, ConstantData, Endianness, InstBuilder, MemFlags, Value, types};
use cranelift_frontend::Switch;
use std::mem::offset_of;

const I32X4: types::Type = types::I32X4;
const I64X2: types::Type = types::I64X2;

/// Whether the vector path is compiled for `code`: unless `LEVEL_ZERO_CPU_JIT_VECTOR=0`
/// turns it off (for measurements), when some instruction has a vector form worth having.
pub(super) fn enabled(code: &crate::ir::Code) -> bool {
    if std::env::var_os("LEVEL_ZERO_CPU_JIT_VECTOR").is_some_and(|v| v == "0") {
        return false;
    }
    code.insts.iter().any(|i| {
        matches!(
            i,
            Inst::Builtin {
                b: Builtin::GlobalId | Builtin::LocalId | Builtin::LocalLinearId,
                ..
            }
        )
    })
}

/// A varying value of the chunk.
#[derive(Clone, Copy)]
enum V {
    /// 32 bits per lane.
    N(Value),
    /// 64 bits per lane: lanes 0–1, lanes 2–3.
    W(Value, Value),
}

fn little() -> MemFlags {
    MemFlags::new().with_endianness(Endianness::Little)
}

impl Lower<'_, '_> {
    // ---- representation -----------------------------------------------------------------

    fn class_of(&self, s: Slot) -> Class {
        self.class[s as usize]
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
        let vars = self.vvars[s as usize];
        let v = match self.class_of(s) {
            Class::Uniform => {
                let x = self.b.use_var(self.vars[s as usize]);
                if want == Class::Narrow {
                    let x = self.b.ins().ireduce(I32, x);
                    return V::N(self.b.ins().splat(I32X4, x));
                }
                let v = self.b.ins().splat(I64X2, x);
                return V::W(v, v);
            }
            Class::Narrow => V::N(self.b.use_var(vars[0].unwrap_or_else(|| unreachable!()))),
            Class::Wide => V::W(
                self.b.use_var(vars[0].unwrap_or_else(|| unreachable!())),
                self.b.use_var(vars[1].unwrap_or_else(|| unreachable!())),
            ),
            Class::Affine(k) => {
                let x = self.b.use_var(self.vars[s as usize]);
                if want == Class::Narrow {
                    let x = self.b.ins().ireduce(I32, x);
                    let x = self.b.ins().splat(I32X4, x);
                    let k = k as i32;
                    let c = self.vconst_i32([0, k, k.wrapping_mul(2), k.wrapping_mul(3)]);
                    return V::N(self.b.ins().iadd(x, c));
                }
                let x = self.b.ins().splat(I64X2, x);
                let c1 = self.vconst_i64([0, k]);
                let c2 = self.vconst_i64([k.wrapping_mul(2), k.wrapping_mul(3)]);
                return V::W(self.b.ins().iadd(x, c1), self.b.ins().iadd(x, c2));
            }
        };
        self.convert(v, want)
    }

    fn convert(&mut self, v: V, want: Class) -> V {
        match (v, want) {
            (V::N(x), Class::Wide) => V::W(self.b.ins().uwiden_low(x), self.b.ins().uwiden_high(x)),
            (V::W(lo, hi), Class::Narrow) => V::N(self.narrow_pair(lo, hi)),
            _ => v,
        }
    }

    fn n(&mut self, s: Slot) -> Value {
        match self.vget(s, Class::Narrow) {
            V::N(x) => x,
            V::W(..) => unreachable!(),
        }
    }

    fn w(&mut self, s: Slot) -> (Value, Value) {
        match self.vget(s, Class::Wide) {
            V::W(a, b) => (a, b),
            V::N(_) => unreachable!(),
        }
    }

    /// Sets varying slot `s` (its class decides the form kept).
    fn vset(&mut self, s: Slot, v: V) {
        let c = self.class_of(s);
        let vars = self.vvars[s as usize];
        match (c, self.convert(v, c)) {
            (Class::Narrow, V::N(x)) => {
                self.b.def_var(vars[0].unwrap_or_else(|| unreachable!()), x)
            }
            (Class::Wide, V::W(lo, hi)) => {
                self.b
                    .def_var(vars[0].unwrap_or_else(|| unreachable!()), lo);
                self.b
                    .def_var(vars[1].unwrap_or_else(|| unreachable!()), hi);
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
            Class::Narrow => {
                let y = self.b.ins().ireduce(I32, x);
                let v = self.b.ins().splat(I32X4, y);
                self.vset(s, V::N(v));
            }
            Class::Wide => {
                let v = self.b.ins().splat(I64X2, x);
                self.vset(s, V::W(v, v));
            }
        }
    }

    /// Lane `l` of varying slot `s`, as the scalar path keeps it (`i64`).
    pub(super) fn lane_get(&mut self, s: Slot, l: u8) -> Value {
        let vars = self.vvars[s as usize];
        match self.class_of(s) {
            Class::Narrow => {
                let v = self.b.use_var(vars[0].unwrap_or_else(|| unreachable!()));
                let x = self.b.ins().extractlane(v, l);
                self.b.ins().uextend(I64, x)
            }
            Class::Wide => {
                let v = self
                    .b
                    .use_var(vars[usize::from(l / 2)].unwrap_or_else(|| unreachable!()));
                self.b.ins().extractlane(v, l % 2)
            }
            Class::Uniform => self.b.use_var(self.vars[s as usize]),
            Class::Affine(k) => {
                let x = self.b.use_var(self.vars[s as usize]);
                self.b.ins().iadd_imm(x, k.wrapping_mul(i64::from(l)))
            }
        }
    }

    /// Sets lane `l` of varying slot `s` from a scalar-path value (an affine slot keeps lane
    /// 0's: the others follow from it, `simd::strides` having proven them so).
    pub(super) fn lane_set(&mut self, s: Slot, l: u8, x: Value) {
        let vars = self.vvars[s as usize];
        match self.class_of(s) {
            Class::Narrow => {
                let var = vars[0].unwrap_or_else(|| unreachable!());
                let v = self.b.use_var(var);
                let x = self.b.ins().ireduce(I32, x);
                let v = self.b.ins().insertlane(v, x, l);
                self.b.def_var(var, v);
            }
            Class::Wide => {
                let var = vars[usize::from(l / 2)].unwrap_or_else(|| unreachable!());
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

    // ---- the round's head ---------------------------------------------------------------

    /// The head's choice for the lane at `self.lane`: lanes left at a divergent branch first,
    /// then a chunk on the vector path when it can take one, else `dispatch` (scalar).
    pub(super) fn vector_head(&mut self, head: Block, dispatch: Block) {
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
        let end = self.b.ins().iadd_imm(lane, W as i64);
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, self.lanes);
        let rem = self.b.ins().band_imm(lane, W as i64 - 1);
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
        let mut targets: Vec<u32> = vec![self.code.entry];
        for blk in &self.code.blocks {
            if let Term::Barrier(n) = blk.term
                && !targets.contains(&n)
            {
                targets.push(n);
            }
        }
        let mut stubs = Vec::new();
        if self.single_round() {
            let stub = self.b.create_block();
            self.b.ins().jump(stub, &[]);
            stubs.push((self.code.entry, stub));
        } else {
            // The chunk's lanes must all wait at the same block.
            let resume = self.ctx_field(offset_of!(Ctx, resume));
            let off = self.b.ins().ishl_imm(lane, 2);
            let at = self.b.ins().iadd(resume, off);
            let r = self.b.ins().load(I32X4, MemFlags::new(), at, 0);
            let r0 = self.b.ins().extractlane(r, 0);
            let s = self.b.ins().splat(I32X4, r0);
            let eq = self.b.ins().icmp(IntCC::Equal, r, s);
            let all = self.b.ins().vall_true(eq);
            let same = self.b.create_block();
            self.b.ins().brif(all, same, &[], dispatch, &[]);
            self.b.switch_to_block(same);
            let mut sw = Switch::new();
            for &t in &targets {
                let stub = self.b.create_block();
                sw.set_entry(u128::from(t), stub);
                stubs.push((t, stub));
            }
            sw.emit(self.b, r0, vnext);
        }
        for (t, stub) in stubs {
            self.b.switch_to_block(stub);
            self.vector_entry(t, dispatch);
            self.b.ins().jump(self.vblocks[t as usize], &[]);
        }

        // vnext: the next chunk.
        self.b.switch_to_block(vnext);
        let lane = self.b.use_var(self.lane);
        let l = self.b.ins().iadd_imm(lane, W as i64);
        self.b.def_var(self.lane, l);
        self.b.ins().jump(head, &[]);
    }

    /// Loads the chunk's values live into block `t` (the kernel's entry: from the register
    /// file; a barrier's continuation: from the lanes' frames, after checking that the
    /// uniform ones are equal in every lane, else to `dispatch`).
    fn vector_entry(&mut self, t: u32, dispatch: Block) {
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
        let live = self.saved(t);
        let lanes: Vec<Value> = (0..W as i64)
            .map(|l| self.b.ins().iadd_imm(lane, l))
            .collect();
        for &s in &live {
            let k = match self.class_of(s) {
                Class::Uniform => 0,
                Class::Affine(k) => k,
                _ => continue,
            };
            {
                let a0 = self.frame_addr(s, lanes[0]);
                let x0 = self.b.ins().load(I64, flags(), a0, 0);
                for (l, &ln) in lanes.iter().enumerate().skip(1) {
                    let a = self.frame_addr(s, ln);
                    let x = self.b.ins().load(I64, flags(), a, 0);
                    let want = self.b.ins().iadd_imm(x0, k.wrapping_mul(l as i64));
                    let eq = self.b.ins().icmp(IntCC::Equal, x, want);
                    let ok = self.b.create_block();
                    self.b.ins().brif(eq, ok, &[], dispatch, &[]);
                    self.b.switch_to_block(ok);
                }
            }
        }
        for &s in &live {
            if matches!(self.class_of(s), Class::Uniform | Class::Affine(_)) {
                self.fill_frame(s, lanes[0]);
            } else {
                for (l, &ln) in lanes.iter().enumerate() {
                    let a = self.frame_addr(s, ln);
                    let x = self.b.ins().load(I64, flags(), a, 0);
                    self.lane_set(s, l as u8, x);
                }
            }
        }
        for idx in self.recompute(t) {
            self.vinst(idx);
        }
    }

    /// Varying slot `s` of the chunk from the register file (consecutive lanes).
    fn vfill_regs(&mut self, s: Slot, lane: Value) {
        let a = self.reg_addr(s, lane);
        let lo = self.b.ins().load(I64X2, MemFlags::new(), a, 0);
        let hi = self.b.ins().load(I64X2, MemFlags::new(), a, 16);
        if matches!(self.class_of(s), Class::Uniform | Class::Affine(_)) {
            // Never: such slots are seeded varying (wide).
            let x = self.b.ins().extractlane(lo, 0);
            self.b.def_var(self.vars[s as usize], x);
        } else {
            self.vset(s, V::W(lo, hi));
        }
    }

    // ---- blocks and terminators ---------------------------------------------------------

    pub(super) fn vblock(&mut self, bi: usize) {
        let code = self.code;
        let blk = &code.blocks[bi];
        self.b.switch_to_block(self.vblocks[bi]);
        for idx in blk.start as usize..blk.end as usize {
            self.vinst(idx);
        }
        match &blk.term {
            Term::Jump(e) => self.vedge(e),
            Term::Branch { c, t, f } => {
                let (tb, fb) = (self.b.create_block(), self.b.create_block());
                if self.class_of(*c) == Class::Uniform {
                    let c = self.b.use_var(self.vars[*c as usize]);
                    self.b.ins().brif(c, tb, &[], fb, &[]);
                } else {
                    let (all, any) = match self.vget(*c, self.repr(*c)) {
                        V::N(x) => (self.b.ins().vall_true(x), self.b.ins().vany_true(x)),
                        V::W(lo, hi) => {
                            let (a1, a2) = (self.b.ins().vall_true(lo), self.b.ins().vall_true(hi));
                            let (y1, y2) = (self.b.ins().vany_true(lo), self.b.ins().vany_true(hi));
                            (self.b.ins().band(a1, a2), self.b.ins().bor(y1, y2))
                        }
                    };
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
                    self.b.use_var(self.vars[*sel as usize])
                } else {
                    // Every lane's selector equal to lane 0's, or the chunk splits.
                    let x0 = self.lane_get(*sel, 0);
                    let eq = match self.vget(*sel, self.repr(*sel)) {
                        V::N(x) => {
                            let y = self.b.ins().ireduce(I32, x0);
                            let y = self.b.ins().splat(I32X4, y);
                            let e = self.b.ins().icmp(IntCC::Equal, x, y);
                            self.b.ins().vall_true(e)
                        }
                        V::W(lo, hi) => {
                            let y = self.b.ins().splat(I64X2, x0);
                            let e1 = self.b.ins().icmp(IntCC::Equal, lo, y);
                            let e2 = self.b.ins().icmp(IntCC::Equal, hi, y);
                            let e = self.b.ins().band(e1, e2);
                            self.b.ins().vall_true(e)
                        }
                    };
                    let (same, split) = (self.b.create_block(), self.b.create_block());
                    self.b.ins().brif(eq, same, &[], split, &[]);
                    self.b.switch_to_block(split);
                    self.diverge(bi);
                    self.b.switch_to_block(same);
                    x0
                };
                let mut sw = Switch::new();
                let mut seen = Vec::new();
                let mut targets = Vec::new();
                for (c, e) in cases {
                    if seen.contains(c) {
                        continue;
                    }
                    seen.push(*c);
                    let eb = self.b.create_block();
                    sw.set_entry(u128::from(*c), eb);
                    targets.push((eb, e));
                }
                let db = self.b.create_block();
                sw.emit(self.b, v, db);
                for (eb, e) in targets {
                    self.b.switch_to_block(eb);
                    self.vedge(e);
                }
                self.b.switch_to_block(db);
                self.vedge(default);
            }
            Term::Return => {
                if !self.single_round() {
                    self.vset_resume(DONE);
                }
                self.jump_vnext();
            }
            Term::Barrier(n) => {
                let lane = self.b.use_var(self.lane);
                let live = self.saved(*n);
                for l in 0..W as u8 {
                    let ln = self.b.ins().iadd_imm(lane, i64::from(l));
                    for &s in &live {
                        let x = self.lane_get(s, l);
                        let a = self.frame_addr(s, ln);
                        self.b.ins().store(flags(), x, a, 0);
                    }
                }
                self.vset_resume(*n);
                self.jump_vnext();
            }
            // Trap, Fail and sub-group meetings (refused): as on the scalar path, for the
            // chunk's first lane (the first to get there in lane order).
            _ => {
                // `get` reads lane 0's value; `self.lane` is lane 0.
                self.vlane = Some(0);
                self.scalar_term(bi);
                self.vlane = None;
            }
        }
    }

    /// The terminators the vector path shares with the scalar one (trap, fail).
    fn scalar_term(&mut self, bi: usize) {
        match &self.code.blocks[bi].term {
            Term::Trap => {
                self.stop_lane();
                let r = self.b.ins().iconst(I32, i64::from(super::ROUND_TRAP));
                self.b.ins().return_(&[r]);
            }
            Term::Fail { value, .. } => {
                self.stop_lane();
                let which = self.b.ins().iconst(I64, bi as i64);
                self.b
                    .ins()
                    .store(flags(), which, self.ctx, offset_of!(Ctx, fail) as i32);
                if let Some(v) = *value {
                    let x = self.get(v);
                    self.b
                        .ins()
                        .store(flags(), x, self.ctx, offset_of!(Ctx, fail_value) as i32);
                }
                let r = self.b.ins().iconst(I32, i64::from(super::ROUND_FAIL));
                self.b.ins().return_(&[r]);
            }
            _ => {
                self.b
                    .ins()
                    .trap(cranelift_codegen::ir::TrapCode::unwrap_user(1));
            }
        }
    }

    fn jump_vnext(&mut self) {
        let lane = self.b.use_var(self.lane);
        let l = self.b.ins().iadd_imm(lane, W as i64);
        self.b.def_var(self.lane, l);
        // The head again (the chunk's `vnext` is the same thing).
        let head = self.head;
        self.b.ins().jump(head, &[]);
    }

    fn vset_resume(&mut self, to: u32) {
        let lane = self.b.use_var(self.lane);
        let resume = self.ctx_field(offset_of!(Ctx, resume));
        let off = self.b.ins().ishl_imm(lane, 2);
        let at = self.b.ins().iadd(resume, off);
        let v = self.b.ins().iconst(I32, i64::from(to as i32));
        let v = self.b.ins().splat(I32X4, v);
        self.b.ins().store(MemFlags::new(), v, at, 0);
    }

    /// The chunk splits at block `bi`'s branch: its live values go to the register file and
    /// its lanes continue one by one from the branch on the scalar path.
    fn diverge(&mut self, bi: usize) {
        let lane = self.b.use_var(self.lane);
        let live = simd::live_at_term(self.code, &self.live, &self.written, bi);
        for s in live {
            let a = self.reg_addr(s, lane);
            for l in 0..W as u8 {
                let x = self.lane_get(s, l);
                self.b.ins().store(flags(), x, a, 8 * i32::from(l));
            }
        }
        let end = self.b.ins().iadd_imm(lane, W as i64);
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

    fn vedge(&mut self, e: &Edge) {
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

    // ---- instructions -------------------------------------------------------------------

    fn vinst(&mut self, idx: usize) {
        let code = self.code;
        let inst = &code.insts[idx];
        self.reads.clear();
        super::slots::reads(code, inst, &mut self.reads);
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
            super::slots::writes(code, inst, &mut self.writes);
            let writes = self.writes.clone();
            for (s, n) in writes {
                for x in s..s + n {
                    if self.class_of(x) != Class::Uniform {
                        let v = self.b.use_var(self.vars[x as usize]);
                        self.set_all(x, v);
                    }
                }
            }
            return;
        }
        // Results affine in the lane: lane 0's value is the instruction on lane 0's
        // operands (`simd::strides` proved the other lanes follow).
        self.writes.clear();
        super::slots::writes(code, inst, &mut self.writes);
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
            return;
        }
        let base = self.b.use_var(self.lane);
        for l in 0..W as u8 {
            self.vlane = Some(l);
            let ln = self.b.ins().iadd_imm(base, i64::from(l));
            self.b.def_var(self.lane, ln);
            self.inst(idx);
        }
        self.vlane = None;
        self.b.def_var(self.lane, base);
    }

    /// Instruction `idx` in vector form, if it has one for these operands.
    fn vnative(&mut self, idx: usize) -> bool {
        let code = self.code;
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
                    TernOp::Fma(Fk::S) | TernOp::Mad(Fk::S) => {
                        (0..n).all(|k| self.class_of(d + k) == Class::Narrow)
                    }
                    TernOp::Fma(Fk::D) | TernOp::Mad(Fk::D) => {
                        (0..n).all(|k| self.class_of(d + k) == Class::Wide)
                    }
                    _ => false,
                };
                if !ok || (matches!(op, TernOp::Fma(_)) && !has_fma()) {
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
                    let m = self.truth_mask(ck, want);
                    let (x, y) = (self.vget(a + k, want), self.vget(b + k, want));
                    let r = match (m, x, y) {
                        (V::N(m), V::N(x), V::N(y)) => V::N(self.b.ins().bitselect(m, x, y)),
                        (V::W(m1, m2), V::W(x1, x2), V::W(y1, y2)) => V::W(
                            self.b.ins().bitselect(m1, x1, y1),
                            self.b.ins().bitselect(m2, x2, y2),
                        ),
                        _ => unreachable!(),
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
                    Some(self.b.use_var(self.vars[base as usize]))
                } else {
                    None
                };
                let mut acc = bv.map(|x| self.b.ins().iadd_imm(x, off));
                for &(t, stride, w) in terms {
                    if self.class_of(t) == Class::Uniform {
                        let x = self.b.use_var(self.vars[t as usize]);
                        let x = self.sext(x, w);
                        let x = self.b.ins().imul_imm(x, stride);
                        acc = Some(match acc {
                            Some(a) => self.b.ins().iadd(a, x),
                            None => x,
                        });
                    }
                }
                let (mut lo, mut hi) = if bv.is_some() {
                    let z = self.vconst_i64([0, 0]);
                    (z, z)
                } else {
                    let (l, h) = self.w(base);
                    let o = self.vconst_i64([off, off]);
                    (self.b.ins().iadd(l, o), self.b.ins().iadd(h, o))
                };
                if let Some(a) = acc {
                    let s = self.b.ins().splat(I64X2, a);
                    lo = self.b.ins().iadd(lo, s);
                    hi = self.b.ins().iadd(hi, s);
                }
                for &(t, stride, w) in terms {
                    if self.class_of(t) != Class::Uniform {
                        let (x, y) = self.wide_sext(t, w);
                        let (x, y) = (self.vmul_imm(x, stride), self.vmul_imm(y, stride));
                        lo = self.b.ins().iadd(lo, x);
                        hi = self.b.ins().iadd(hi, y);
                    }
                }
                self.vset(d, V::W(lo, hi));
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
                let v = self.vload(a, size, space, site);
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
                self.vstore(a, size, v, space, site);
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
                let v = self.vload(a, size, space, site);
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
                self.vstore(a, size, v, space, site);
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

    fn vbuiltin(&mut self, b: Builtin, c: u32) -> V {
        let lane = self.b.use_var(self.lane);
        if b == Builtin::LocalLinearId {
            let l = self.b.ins().ireduce(I32, lane);
            let l = self.b.ins().splat(I32X4, l);
            let k = self.vconst_i32([0, 1, 2, 3]);
            return V::N(self.b.ins().iadd(l, k));
        }
        let lid = self.ctx_field(offset_of!(Ctx, lid) + 8 * c as usize);
        let off = self.b.ins().ishl_imm(lane, 2);
        let at = self.b.ins().iadd(lid, off);
        let l = self.b.ins().load(I32X4, MemFlags::new(), at, 0);
        if b == Builtin::LocalId {
            return V::N(l);
        }
        let base = self.ctx_field(offset_of!(Ctx, gbase) + 8 * c as usize);
        let base = self.b.ins().splat(I64X2, base);
        let (lo, hi) = (self.b.ins().uwiden_low(l), self.b.ins().uwiden_high(l));
        V::W(self.b.ins().iadd(lo, base), self.b.ins().iadd(hi, base))
    }

    // ---- arithmetic ---------------------------------------------------------------------

    fn vbin_ok(&self, op: BinOp, d: Slot, a: Slot, b: Slot) -> bool {
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
            F(Fk::S, FBin::Add | FBin::Sub | FBin::Mul | FBin::Div) => narrow,
            F(Fk::D, FBin::Add | FBin::Sub | FBin::Mul | FBin::Div) => cd == Class::Wide,
            FCmp(Fk::S | Fk::D, c, ordered) => narrow && vector_fcc(c, ordered).is_some(),
            _ => false,
        }
    }

    fn mask_v(&mut self, v: V, m: u64) -> V {
        match v {
            V::N(x) if m < u64::from(u32::MAX) => {
                let k = self.b.ins().iconst(I32, m as i64);
                let k = self.b.ins().splat(I32X4, k);
                V::N(self.b.ins().band(x, k))
            }
            V::W(lo, hi) if m != u64::MAX => {
                let k = self.vconst_i64([m as i64, m as i64]);
                V::W(self.b.ins().band(lo, k), self.b.ins().band(hi, k))
            }
            _ => v,
        }
    }

    /// A lane mask (all ones / zeros per lane) as 0 or 1 per 32-bit lane.
    fn bool_n(&mut self, m: Value) -> Value {
        self.b.ins().ushr_imm(m, 31)
    }

    fn vbin(&mut self, op: BinOp, d: Slot, a: Slot, b: Slot) -> V {
        use BinOp::*;
        let cd = self.class_of(d);
        match op {
            IAdd(_) | ISub(_) | IMul(_) | And | Or | Xor => {
                let (x, y) = (self.vget(a, cd), self.vget(b, cd));
                let r = |me: &mut Self, p: Value, q: Value| match op {
                    IAdd(_) => me.b.ins().iadd(p, q),
                    ISub(_) => me.b.ins().isub(p, q),
                    IMul(_) => me.b.ins().imul(p, q),
                    And => me.b.ins().band(p, q),
                    Or => me.b.ins().bor(p, q),
                    _ => me.b.ins().bxor(p, q),
                };
                let v = match (x, y) {
                    (V::N(p), V::N(q)) => V::N(r(self, p, q)),
                    (V::W(p1, p2), V::W(q1, q2)) => V::W(r(self, p1, q1), r(self, p2, q2)),
                    _ => unreachable!(),
                };
                match op {
                    IAdd(m) | ISub(m) | IMul(m) => self.mask_v(v, m),
                    _ => v,
                }
            }
            Shl(w) | Shr(w) | Sar(w) => {
                let s = self.b.use_var(self.vars[b as usize]);
                let s = self.b.ins().urem_imm(s, i64::from(w));
                let s = self.b.ins().ireduce(I32, s);
                let x = self.vget(a, cd);
                let sh = |me: &mut Self, p: Value| match op {
                    Shl(_) => me.b.ins().ishl(p, s),
                    Shr(_) => me.b.ins().ushr(p, s),
                    _ => me.b.ins().sshr(p, s),
                };
                let v = match x {
                    V::N(p) => V::N(sh(self, p)),
                    V::W(p, q) => V::W(sh(self, p), sh(self, q)),
                };
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
                let m = if narrow {
                    let (x, y) = (self.n(a), self.n(b));
                    self.b.ins().icmp(cc, x, y)
                } else {
                    let ((x1, x2), (y1, y2)) = (self.w(a), self.w(b));
                    let m1 = self.b.ins().icmp(cc, x1, y1);
                    let m2 = self.b.ins().icmp(cc, x2, y2);
                    self.narrow_pair(m1, m2)
                };
                V::N(self.bool_n(m))
            }
            UMin | UMax | SMin(_) | SMax(_) => {
                let (x, y) = (self.n(a), self.n(b));
                V::N(match op {
                    UMin => self.b.ins().umin(x, y),
                    UMax => self.b.ins().umax(x, y),
                    SMin(_) => self.b.ins().smin(x, y),
                    _ => self.b.ins().smax(x, y),
                })
            }
            F(k, f) => {
                let arith = |me: &mut Self, p: Value, q: Value| match f {
                    FBin::Add => me.b.ins().fadd(p, q),
                    FBin::Sub => me.b.ins().fsub(p, q),
                    FBin::Mul => me.b.ins().fmul(p, q),
                    _ => me.b.ins().fdiv(p, q),
                };
                if k == Fk::S {
                    let (x, y) = (self.n(a), self.n(b));
                    let (x, y) = (self.f32x4(x), self.f32x4(y));
                    let r = arith(self, x, y);
                    V::N(self.b.ins().bitcast(I32X4, little(), r))
                } else {
                    let ((x1, x2), (y1, y2)) = (self.w(a), self.w(b));
                    let (x1, x2, y1, y2) = (
                        self.f64x2(x1),
                        self.f64x2(x2),
                        self.f64x2(y1),
                        self.f64x2(y2),
                    );
                    let (r1, r2) = (arith(self, x1, y1), arith(self, x2, y2));
                    V::W(
                        self.b.ins().bitcast(I64X2, little(), r1),
                        self.b.ins().bitcast(I64X2, little(), r2),
                    )
                }
            }
            FCmp(k, c, ordered) => {
                let (cc, swap) = vector_fcc(c, ordered).unwrap_or_else(|| unreachable!());
                let m = if k == Fk::S {
                    let (x, y) = (self.n(a), self.n(b));
                    let (x, y) = (self.f32x4(x), self.f32x4(y));
                    let (x, y) = if swap { (y, x) } else { (x, y) };
                    self.b.ins().fcmp(cc, x, y)
                } else {
                    let ((x1, x2), (y1, y2)) = (self.w(a), self.w(b));
                    let (x1, x2, y1, y2) = (
                        self.f64x2(x1),
                        self.f64x2(x2),
                        self.f64x2(y1),
                        self.f64x2(y2),
                    );
                    let (m1, m2) = if swap {
                        (self.b.ins().fcmp(cc, y1, x1), self.b.ins().fcmp(cc, y2, x2))
                    } else {
                        (self.b.ins().fcmp(cc, x1, y1), self.b.ins().fcmp(cc, x2, y2))
                    };
                    self.narrow_pair(m1, m2)
                };
                V::N(self.bool_n(m))
            }
            _ => unreachable!(),
        }
    }

    fn f32x4(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(types::F32X4, little(), x)
    }

    fn f64x2(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(types::F64X2, little(), x)
    }

    fn vun_ok(&self, op: UnOp, d: Slot) -> bool {
        let cd = self.class_of(d);
        match op {
            UnOp::Mask(_) | UnOp::INeg(_) | UnOp::INot(_) => cd != Class::Uniform,
            UnOp::Sext(from, to) => {
                from > 0 && from <= to && (cd == Class::Wide || (cd == Class::Narrow && to <= 32))
            }
            UnOp::LNot => cd == Class::Narrow,
            _ => false,
        }
    }

    fn vun(&mut self, op: UnOp, d: Slot, a: Slot) -> V {
        let cd = self.class_of(d);
        match op {
            UnOp::Mask(m) => {
                let x = self.vget(a, cd);
                self.mask_v(x, m)
            }
            UnOp::INeg(m) | UnOp::INot(m) => {
                let x = self.vget(a, cd);
                let f = |me: &mut Self, p: Value| {
                    if matches!(op, UnOp::INeg(_)) {
                        me.b.ins().ineg(p)
                    } else {
                        me.b.ins().bnot(p)
                    }
                };
                let v = match x {
                    V::N(p) => V::N(f(self, p)),
                    V::W(p, q) => V::W(f(self, p), f(self, q)),
                };
                self.mask_v(v, m)
            }
            UnOp::Sext(from, to) => {
                let v = if cd == Class::Narrow {
                    let x = self.n(a);
                    V::N(self.sext_n(x, from))
                } else {
                    let (lo, hi) = self.wide_sext(a, from);
                    V::W(lo, hi)
                };
                self.mask_v(v, mask(to))
            }
            UnOp::LNot => {
                let m = if self.class_of(a) == Class::Narrow {
                    let x = self.n(a);
                    let z = self.vconst_i32([0; 4]);
                    self.b.ins().icmp(IntCC::Equal, x, z)
                } else {
                    let (x, y) = self.w(a);
                    let z = self.vconst_i64([0, 0]);
                    let m1 = self.b.ins().icmp(IntCC::Equal, x, z);
                    let m2 = self.b.ins().icmp(IntCC::Equal, y, z);
                    self.narrow_pair(m1, m2)
                };
                V::N(self.bool_n(m))
            }
            _ => unreachable!(),
        }
    }

    /// Sign-extends each 32-bit lane from bit `from - 1`.
    fn sext_n(&mut self, x: Value, from: u8) -> Value {
        if from >= 32 {
            return x;
        }
        let s = i64::from(32 - from);
        let y = self.b.ins().ishl_imm(x, s);
        self.b.ins().sshr_imm(y, s)
    }

    /// Varying slot `t` sign-extended from `w` bits to 64 (as the scalar path's `sext`).
    fn wide_sext(&mut self, t: Slot, w: u8) -> (Value, Value) {
        if self.class_of(t) == Class::Narrow {
            let x = self.n(t);
            if w >= 64 {
                return (self.b.ins().uwiden_low(x), self.b.ins().uwiden_high(x));
            }
            if w <= 32 {
                let x = self.sext_n(x, w);
                return (self.b.ins().swiden_low(x), self.b.ins().swiden_high(x));
            }
        }
        let (lo, hi) = self.w(t);
        if w >= 64 {
            return (lo, hi);
        }
        let s = i64::from(64 - w);
        let f = |me: &mut Self, p: Value| {
            let y = me.b.ins().ishl_imm(p, s);
            me.b.ins().sshr_imm(y, s)
        };
        (f(self, lo), f(self, hi))
    }

    fn vmul_imm(&mut self, x: Value, k: i64) -> Value {
        if k == 1 {
            return x;
        }
        if k > 0 && (k as u64).is_power_of_two() {
            return self.b.ins().ishl_imm(x, i64::from(k.trailing_zeros()));
        }
        let c = self.vconst_i64([k, k]);
        self.b.ins().imul(x, c)
    }

    fn vtern(&mut self, op: TernOp, a: Slot, b: Slot, c: Slot) -> V {
        match op {
            TernOp::Fma(Fk::S) | TernOp::Mad(Fk::S) => {
                let (x, y, z) = (self.n(a), self.n(b), self.n(c));
                let (x, y, z) = (self.f32x4(x), self.f32x4(y), self.f32x4(z));
                let r = if matches!(op, TernOp::Fma(_)) {
                    self.b.ins().fma(x, y, z)
                } else {
                    // Rounded twice, as `crate::ops::tern` defines `mad`.
                    let p = self.b.ins().fmul(x, y);
                    self.b.ins().fadd(p, z)
                };
                V::N(self.b.ins().bitcast(I32X4, little(), r))
            }
            _ => {
                let ((x1, x2), (y1, y2), (z1, z2)) = (self.w(a), self.w(b), self.w(c));
                let mut half = |p: Value, q: Value, r: Value| {
                    let (p, q, r) = (self.f64x2(p), self.f64x2(q), self.f64x2(r));
                    let v = if matches!(op, TernOp::Fma(_)) {
                        self.b.ins().fma(p, q, r)
                    } else {
                        let t = self.b.ins().fmul(p, q);
                        self.b.ins().fadd(t, r)
                    };
                    self.b.ins().bitcast(I64X2, little(), v)
                };
                let lo = half(x1, y1, z1);
                let hi = half(x2, y2, z2);
                V::W(lo, hi)
            }
        }
    }

    /// Per lane, all ones where slot `c` is non-zero, in the form `want`.
    fn truth_mask(&mut self, c: Slot, want: Class) -> V {
        match self.class_of(c) {
            Class::Uniform => {
                let x = self.b.use_var(self.vars[c as usize]);
                let t = self.b.ins().icmp_imm(IntCC::NotEqual, x, 0);
                let t = self.b.ins().uextend(I64, t);
                let m = self.b.ins().ineg(t);
                if want == Class::Narrow {
                    let m = self.b.ins().ireduce(I32, m);
                    V::N(self.b.ins().splat(I32X4, m))
                } else {
                    let m = self.b.ins().splat(I64X2, m);
                    V::W(m, m)
                }
            }
            Class::Narrow => {
                let x = self.n(c);
                let z = self.vconst_i32([0; 4]);
                let m = self.b.ins().icmp(IntCC::NotEqual, x, z);
                if want == Class::Narrow {
                    V::N(m)
                } else {
                    V::W(self.b.ins().swiden_low(m), self.b.ins().swiden_high(m))
                }
            }
            Class::Wide | Class::Affine(_) => {
                let (x, y) = self.w(c);
                let z = self.vconst_i64([0, 0]);
                let (m1, m2) = (
                    self.b.ins().icmp(IntCC::NotEqual, x, z),
                    self.b.ins().icmp(IntCC::NotEqual, y, z),
                );
                if want == Class::Narrow {
                    V::N(self.narrow_pair(m1, m2))
                } else {
                    V::W(m1, m2)
                }
            }
        }
    }

    // ---- memory -------------------------------------------------------------------------

    /// The chunk's addresses `base + sext(idx, w) * scale + off`.
    fn vaddr(&mut self, base: Slot, i: Slot, w: u8, scale: i64, off: i64) -> (Value, Value) {
        let (x, y) = if self.class_of(i) == Class::Uniform {
            let v = self.b.use_var(self.vars[i as usize]);
            let v = self.sext(v, w);
            let v = self.b.ins().imul_imm(v, scale);
            let v = self.b.ins().splat(I64X2, v);
            (v, v)
        } else {
            let (x, y) = self.wide_sext(i, w);
            (self.vmul_imm(x, scale), self.vmul_imm(y, scale))
        };
        let (b1, b2) = self.w(base);
        let o = self.vconst_i64([off, off]);
        let (x, y) = (self.b.ins().iadd(x, b1), self.b.ins().iadd(y, b2));
        (self.b.ins().iadd(x, o), self.b.ins().iadd(y, o))
    }

    /// Whether the chunk's addresses are consecutive `size`-byte places (checked at run
    /// time unless known), and, in checked mode, inside the memory the site may touch: jumps
    /// to `fast` with lane 0's address returned, or to `slow`.
    fn contiguous(
        &mut self,
        addr: Addr,
        size: u8,
        space: Space,
        site: u32,
        (fast, slow): (Block, Block),
    ) -> Value {
        let s = i64::from(size);
        let a0 = match addr {
            Addr::Contig(a0) | Addr::Same(a0) => a0,
            Addr::Lanes(lo, hi) => {
                let a0 = self.b.ins().extractlane(lo, 0);
                let sp = self.b.ins().splat(I64X2, a0);
                let k1 = self.vconst_i64([0, s]);
                let k2 = self.vconst_i64([2 * s, 3 * s]);
                let (e1, e2) = (self.b.ins().iadd(sp, k1), self.b.ins().iadd(sp, k2));
                let (m1, m2) = (
                    self.b.ins().icmp(IntCC::Equal, lo, e1),
                    self.b.ins().icmp(IntCC::Equal, hi, e2),
                );
                let m = self.b.ins().band(m1, m2);
                let all = self.b.ins().vall_true(m);
                let next = self.b.create_block();
                self.b.ins().brif(all, next, &[], slow, &[]);
                self.b.switch_to_block(next);
                a0
            }
        };
        if !self.checked {
            self.b.ins().jump(fast, &[]);
            return a0;
        }
        let ok = match space {
            Space::Global | Space::Generic => {
                let (lo_v, count) = self.site_bounds(site);
                let off0 = self.b.ins().isub(a0, lo_v);
                let off3 = self.b.ins().iadd_imm(off0, 3 * s);
                let c0 = self.b.ins().icmp(IntCC::UnsignedLessThan, off0, count);
                let c3 = self.b.ins().icmp(IntCC::UnsignedLessThan, off3, count);
                self.b.ins().band(c0, c3)
            }
            _ => self.within_arena(a0, W as u64 * u64::from(size), space),
        };
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        a0
    }

    /// Lane `l`'s address.
    fn lane_addr(&mut self, addr: Addr, size: u8, l: u8) -> Value {
        match addr {
            Addr::Contig(a0) => self.b.ins().iadd_imm(a0, i64::from(l) * i64::from(size)),
            Addr::Same(a0) => a0,
            Addr::Lanes(lo, hi) => {
                if l < 2 {
                    self.b.ins().extractlane(lo, l)
                } else {
                    self.b.ins().extractlane(hi, l - 2)
                }
            }
        }
    }

    fn vload(&mut self, addr: Addr, size: u8, space: Space, site: u32) -> V {
        let narrow = size <= 4;
        if let Addr::Same(a) = addr {
            // One place for every lane: one access (lane 0's, the first in lane order).
            self.check(a, u64::from(size), space, site, false);
            let x = self.load_at(a, 0, size);
            return if narrow {
                let y = self.b.ins().ireduce(I32, x);
                V::N(self.b.ins().splat(I32X4, y))
            } else {
                let v = self.b.ins().splat(I64X2, x);
                V::W(v, v)
            };
        }
        let (fast, slow, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        if narrow {
            self.b.append_block_param(join, I32X4);
        } else {
            self.b.append_block_param(join, I64X2);
            self.b.append_block_param(join, I64X2);
        }
        let a0 = self.contiguous(addr, size, space, site, (fast, slow));
        self.b.switch_to_block(fast);
        if narrow {
            let v = self.b.ins().load(I32X4, MemFlags::new(), a0, 0);
            self.b.ins().jump(join, &[v.into()]);
        } else {
            let v1 = self.b.ins().load(I64X2, MemFlags::new(), a0, 0);
            let v2 = self.b.ins().load(I64X2, MemFlags::new(), a0, 16);
            self.b.ins().jump(join, &[v1.into(), v2.into()]);
        }
        // slow: lane by lane, with the scalar path's checks.
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let base = self.b.use_var(self.lane);
        let mut xs = Vec::new();
        for l in 0..W as u8 {
            let ln = self.b.ins().iadd_imm(base, i64::from(l));
            self.b.def_var(self.lane, ln);
            let a = self.lane_addr(addr, size, l);
            self.check(a, u64::from(size), space, site, false);
            xs.push(self.load_at(a, 0, size));
        }
        self.b.def_var(self.lane, base);
        if narrow {
            let mut v = self.vconst_i32([0; 4]);
            for (l, x) in xs.into_iter().enumerate() {
                let x = self.b.ins().ireduce(I32, x);
                v = self.b.ins().insertlane(v, x, l as u8);
            }
            self.b.ins().jump(join, &[v.into()]);
        } else {
            let mut v = [self.vconst_i64([0, 0]), self.vconst_i64([0, 0])];
            for (l, x) in xs.into_iter().enumerate() {
                v[l / 2] = self.b.ins().insertlane(v[l / 2], x, (l % 2) as u8);
            }
            self.b.ins().jump(join, &[v[0].into(), v[1].into()]);
        }
        self.b.switch_to_block(join);
        let p = self.b.block_params(join).to_vec();
        if narrow { V::N(p[0]) } else { V::W(p[0], p[1]) }
    }

    fn vstore(&mut self, addr: Addr, size: u8, v: Slot, space: Space, site: u32) {
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
            let a0 = self.contiguous(addr, size, space, site, (fast, slow));
            self.b.switch_to_block(fast);
            if narrow {
                let x = self.n(v);
                self.b.ins().store(MemFlags::new(), x, a0, 0);
            } else {
                let (x, y) = self.w(v);
                self.b.ins().store(MemFlags::new(), x, a0, 0);
                self.b.ins().store(MemFlags::new(), y, a0, 16);
            }
            self.b.ins().jump(join, &[]);
        }
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let base = self.b.use_var(self.lane);
        for l in 0..W as u8 {
            let ln = self.b.ins().iadd_imm(base, i64::from(l));
            self.b.def_var(self.lane, ln);
            let a = self.lane_addr(addr, size, l);
            self.check(a, u64::from(size), space, site, true);
            let x = self.lane_get(v, l);
            self.store_at(a, 0, size, x);
        }
        self.b.def_var(self.lane, base);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
    }

    /// The chunk's addresses of an indexed access `base + sext(idx, w) * scale + off`: lane
    /// 0's and a stride when the operands' strides tell one, else every lane's.
    fn idx_addr(&mut self, base: Slot, i: Slot, w: u8, scale: i64, off: i64, size: u8) -> Addr {
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
            _ => {
                let (lo, hi) = self.vaddr(base, i, w, scale, off);
                Addr::Lanes(lo, hi)
            }
        }
    }

    /// The chunk's addresses held in slot `p`.
    fn ptr_addr(&mut self, p: Slot, size: u8) -> Addr {
        match self.class_of(p) {
            Class::Affine(0) | Class::Uniform => {
                let a = self.lane_get(p, 0);
                Addr::Same(a)
            }
            Class::Affine(k) if k == i64::from(size) => {
                let a = self.lane_get(p, 0);
                Addr::Contig(a)
            }
            _ => {
                let (lo, hi) = self.w(p);
                Addr::Lanes(lo, hi)
            }
        }
    }
}

/// Where the chunk's lanes access memory.
#[derive(Clone, Copy)]
enum Addr {
    /// Lane `l` at lane 0's address plus `l` times the access size (known statically).
    Contig(Value),
    /// Every lane at one address.
    Same(Value),
    /// Each lane's own address (consecutive or not, checked at run time).
    Lanes(Value, Value),
}

/// Loads and stores the vector path does itself (others run lane by lane): 4- and 8-byte
/// values outside private memory (each lane's private memory is its own).
fn vmem_ok(size: u8, space: Space) -> bool {
    matches!(size, 4 | 8) && space != Space::Private
}

/// The vector compare for `c` (ordered or not), and whether its operands are swapped; the
/// forms every target lowers (others run lane by lane).
fn vector_fcc(c: Cmp, ordered: bool) -> Option<(FloatCC, bool)> {
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

/// Whether this machine fuses multiply-add in vectors (the vector `fma` needs it).
fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}
