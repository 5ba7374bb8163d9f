//! The vector path of the round function: chunks of `vw` consecutive lanes (16 unless
//! [`WIDTH_ENV`] says otherwise) run together, uniform values in scalar registers, affine
//! ones (lane `l` = lane 0 + `l` × stride) as lane 0's scalar, the others in SIMD vectors of
//! several 128-bit parts (`super::simd` says which slot is which).
//!
//! - The round's head takes the next `vw` lanes to the vector path when they start at a
//!   multiple of `vw`, the work-group's width is a multiple of `vw` (so that their x ids are
//!   consecutive and their y and z ids equal: `Ctx::rows`), and they all wait at the same
//!   block (at a barrier's continuation, also holding uniform and affine values that really
//!   are so); otherwise, and for a group's last lanes, the scalar path runs them.
//! - An instruction whose operands are all uniform and whose result is the same for every
//!   lane ([`simd::once_for_chunk`]) runs once, as on the scalar path; one with affine results
//!   runs once on lane 0's operands. Arithmetic, compares, selects, conversions between
//!   widths, address arithmetic, loads and stores and the work-item ids have vector forms;
//!   every other instruction is one call of the interpreter's step for the chunk's lanes
//!   (`run::cb_step_chunk`), its operands and results passing through the register file.
//! - A load or store at an affine address whose stride is its size is one vector access per
//!   part; at one address for every lane, one access; otherwise one compare decides at run
//!   time whether the addresses are consecutive. In checked mode a vector access is checked
//!   as one range. Any other access, and every private one, is the interpreter's step for
//!   the chunk's lanes (its checks, lane order).
//! - A branch whose condition is not the same in every lane of the chunk stores the chunk's
//!   live values to the register file and sends its lanes one by one down the scalar path
//!   from that branch (`div_end`, `div_site`); they meet the vector path again at the next
//!   barrier or at the next chunk.

use super::super::run::{CHUNK, Ctx, DONE};
use super::super::simd::{self, Class};
use super::super::slots::Set;
use super::{I32, I64, Lower, flags};
use crate::ir::{Builtin, Edge, Inst, Slot, Term};
use crate::mem::Space;
use crate::ops::{BinOp, Cmp, FBin, FUn, Fk, Rm, TernOp, UnOp, mask};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    Block, ConstantData, Endianness, InstBuilder, MemFlags, StackSlotData, StackSlotKind, Value,
    types,
};
use cranelift_frontend::Switch;
use std::mem::offset_of;

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
                let x = self.b.use_var(self.vars[s as usize]);
                return self.splat_v(x, want);
            }
            Class::Narrow => V::N(vars.iter().map(|&v| self.b.use_var(v)).collect()),
            Class::Wide => V::W(vars.iter().map(|&v| self.b.use_var(v)).collect()),
            Class::Affine(k) => {
                let x = self.b.use_var(self.vars[s as usize]);
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
    fn fill_block(&mut self, t: u32) -> Block {
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
    fn next_chunk_at(&mut self, t: u32) {
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
    fn vector_check(&mut self, t: u32, dispatch: Block) {
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
    fn vector_entry(&mut self, t: u32) {
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
    fn vfill_regs(&mut self, s: Slot, lane: Value) {
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

    // ---- blocks and terminators ---------------------------------------------------------

    pub(super) fn vblock(&mut self, bi: usize) {
        let code = self.code;
        let blk = &code.blocks[bi];
        self.b.switch_to_block(self.vblocks[bi]);
        let live_after = self.vlive_after(bi);
        self.pending.clear();
        for (idx, live) in (blk.start as usize..blk.end as usize).zip(live_after) {
            self.vlive = live;
            match code.insts[idx] {
                Inst::Load { p, .. } => self.anchor(p),
                Inst::LoadIdx { base, .. } => self.anchor(base),
                _ => {}
            }
            self.vinst(idx);
        }
        self.vlive.clear();
        self.pending.clear();
        match &blk.term {
            Term::Jump(e) => self.vedge(e),
            Term::Branch { c, t, f } => {
                let (tb, fb) = (self.b.create_block(), self.b.create_block());
                if self.class_of(*c) == Class::Uniform {
                    let c = self.b.use_var(self.vars[*c as usize]);
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
                    self.b.use_var(self.vars[*sel as usize])
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
                // vectors (uniform and affine ones spelled out per lane: lanes resuming on
                // the scalar path read them so; narrow ones as 32-bit entries).
                let lane = self.b.use_var(self.lane);
                for s in self.saved(*n) {
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
                let code = self.code;
                let start = |t: u32| {
                    t == code.entry
                        || code
                            .blocks
                            .iter()
                            .any(|b| matches!(b.term, Term::Barrier(x) if x == t))
                };
                let from: Vec<u32> = self.region_entry[bi]
                    .iter()
                    .copied()
                    .filter(|&t| start(t))
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
    fn anchor(&mut self, addr: Slot) {
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
            Class::Uniform | Class::Affine(_) => self.b.use_var(self.vars[addr as usize]),
            _ => self.b.use_var(self.lane),
        };
        self.b.ins().brif(any, next, &same, next, &through);
        self.b.switch_to_block(next);
        let params = self.b.block_params(next).to_vec();
        for (var, p) in vars.into_iter().zip(params) {
            self.b.def_var(var, p);
        }
    }

    /// Per instruction of block `bi`: the vector slots (narrow or wide) live after it, its
    /// own results excepted: what a cold callout inside its lowering saves and reloads.
    /// Live after the block: what its terminator reads or its successors do, and a barrier's
    /// continuation's live-ins.
    fn vlive_after(&mut self, bi: usize) -> Vec<Vec<Slot>> {
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
        let vector = |c: Class| matches!(c, Class::Narrow | Class::Wide);
        let mut out = vec![Vec::new(); (blk.end - blk.start) as usize];
        for idx in (blk.start as usize..blk.end as usize).rev() {
            let inst = &code.insts[idx];
            self.writes.clear();
            super::slots::writes(code, inst, &mut self.writes);
            for &(s, n) in &self.writes {
                for x in s..(s + n).min(code.slots) {
                    live.remove(x);
                }
            }
            out[idx - blk.start as usize] =
                live.iter().filter(|&x| vector(self.class_of(x))).collect();
            self.reads.clear();
            super::slots::reads(code, inst, &mut self.reads);
            for &(s, n) in &self.reads {
                for x in s..(s + n).min(code.slots) {
                    live.insert(x);
                }
            }
        }
        out
    }

    /// Before a callout on a cold path of the vector path: the live vector values
    /// (`Lower::vlive`, up to [`COLD_SAVES`]) stored to the stack, so that the hot path
    /// keeps them in registers (a value live across a call is otherwise spilled on every
    /// path, the hot one too: every vector register is caller-saved). [`Self::cold_restore`]
    /// reloads them after the call.
    pub(super) fn cold_save(&mut self) -> Vec<Slot> {
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
    pub(super) fn cold_restore(&mut self, saved: &[Slot]) {
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

    fn jump_vnext(&mut self) {
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

    fn vset_resume(&mut self, to: u32) {
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

    /// The chunk splits at block `bi`'s branch: its live values go to the register file and
    /// its lanes continue one by one from the branch on the scalar path.
    fn diverge(&mut self, bi: usize) {
        let lane = self.b.use_var(self.lane);
        let live = simd::live_at_term(self.code, &self.live, &self.written, bi);
        for s in live {
            // The chunk's lanes are consecutive in the register file: whole parts at once.
            let parts = self.w(s);
            let a = self.reg_addr(s, lane);
            for (p, x) in parts.into_iter().enumerate() {
                self.b.ins().store(vflags(), x, a, 16 * p as i32);
            }
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
    fn vinst_lanes(&mut self, idx: usize) {
        self.chunk_step(idx);
        let code = self.code;
        self.writes.clear();
        super::slots::writes(code, &code.insts[idx], &mut self.writes);
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
    fn chunk_step(&mut self, idx: usize) {
        let code = self.code;
        let inst = &code.insts[idx];
        self.reads.clear();
        super::slots::reads(code, inst, &mut self.reads);
        let base = self.b.use_var(self.lane);
        let mut stored: Vec<Slot> = Vec::new();
        let runs: Vec<super::slots::Run> = self.reads.clone();
        for (s, n) in runs {
            for x in s..(s + n).min(code.slots) {
                if self.written.contains(x) && !stored.contains(&x) {
                    stored.push(x);
                    let parts = self.w(x);
                    let a = self.reg_addr(x, base);
                    for (p, v) in parts.into_iter().enumerate() {
                        self.b.ins().store(vflags(), v, a, 16 * p as i32);
                    }
                }
            }
        }
        let args = [
            self.ctx,
            self.b.ins().iconst(I64, idx as i64),
            base,
            self.b.ins().iconst(I64, self.vw as i64),
        ];
        let r = self
            .call(super::run::cb_step_chunk as *const (), &args, Some(I32))
            .unwrap_or_else(|| unreachable!());
        let (ok, stop) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(r, stop, &[], ok, &[]);
        self.b.set_cold_block(stop);
        self.b.switch_to_block(stop);
        let rs = self.b.ins().iconst(I32, i64::from(super::ROUND_STOP));
        self.b.ins().return_(&[rs]);
        self.b.switch_to_block(ok);
    }

    /// Instruction `idx` in vector form, if it has one for these operands.
    fn vnative(&mut self, idx: usize) -> bool {
        let code = self.code;
        // Vector forms write vectors: a result slot kept as one scalar (uniform, or affine
        // where this instruction computes one component of a vector with others varying)
        // takes the interpreter's step, whose lane 0 sets it. Copies and ids set such
        // components themselves.
        if !matches!(code.insts[idx], Inst::Copy { .. } | Inst::Builtin { .. }) {
            self.writes.clear();
            super::slots::writes(code, &code.insts[idx], &mut self.writes);
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

    fn vbuiltin(&mut self, b: Builtin, c: u32) -> V {
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
                | FBin::Copysign,
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

    fn mask_v(&mut self, v: V, m: u64) -> V {
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
    fn zip2(&mut self, x: V, y: V, f: impl Fn(&mut Self, Value, Value) -> Value) -> V {
        match (x, y) {
            (V::N(x), V::N(y)) => V::N(x.into_iter().zip(y).map(|(p, q)| f(self, p, q)).collect()),
            (V::W(x), V::W(y)) => V::W(x.into_iter().zip(y).map(|(p, q)| f(self, p, q)).collect()),
            _ => unreachable!(),
        }
    }

    /// `f` part by part.
    fn map1(&mut self, x: V, f: impl Fn(&mut Self, Value) -> Value) -> V {
        match x {
            V::N(x) => V::N(x.into_iter().map(|p| f(self, p)).collect()),
            V::W(x) => V::W(x.into_iter().map(|p| f(self, p)).collect()),
        }
    }

    /// Wide lane masks as narrow ones (0 or 1 per lane).
    fn wide_mask_to_bool(&mut self, m: Vec<Value>) -> V {
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
    fn bool_n(&mut self, m: Value) -> Value {
        self.b.ins().ushr_imm(m, 31)
    }

    fn vbin(&mut self, op: BinOp, d: Slot, a: Slot, b: Slot) -> V {
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
                let s = self.b.use_var(self.vars[b as usize]);
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
                        FBin::Add => me.b.ins().fadd(p, q),
                        FBin::Sub => me.b.ins().fsub(p, q),
                        FBin::Mul => me.b.ins().fmul(p, q),
                        FBin::Min | FBin::Max => {
                            let cc = if f == FBin::Min {
                                FloatCC::LessThan
                            } else {
                                FloatCC::GreaterThan
                            };
                            let better = me.b.ins().fcmp(cc, q, p);
                            let nan = me.b.ins().fcmp(FloatCC::Unordered, p, p);
                            let take_y = me.b.ins().bor(better, nan);
                            return me.b.ins().bitselect(take_y, qi, pi);
                        }
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
    fn fvec(&mut self, x: Value, k: Fk) -> Value {
        let t = if k == Fk::S {
            types::F32X4
        } else {
            types::F64X2
        };
        self.b.ins().bitcast(t, little(), x)
    }

    /// A float vector's bits as the integer vector of its lanes.
    fn ivec(&mut self, x: Value, k: Fk) -> Value {
        let t = if k == Fk::S { I32X4 } else { I64X2 };
        self.b.ins().bitcast(t, little(), x)
    }

    fn vun_ok(&self, op: UnOp, d: Slot) -> bool {
        let cd = self.class_of(d);
        match op {
            UnOp::Mask(_) | UnOp::INeg(_) | UnOp::INot(_) => cd != Class::Uniform,
            UnOp::Sext(from, to) => {
                from > 0 && from <= to && (cd == Class::Wide || (cd == Class::Narrow && to <= 32))
            }
            UnOp::LNot => cd == Class::Narrow,
            // Exact IEEE operations: the same bits as `crate::ops` (rounding to an integer
            // needs SSE4.1 on x86-64).
            UnOp::F(k, f) => {
                let exact = matches!(f, FUn::Neg | FUn::Fabs | FUn::Sqrt)
                    || (matches!(f, FUn::Floor | FUn::Ceil | FUn::Trunc | FUn::Rint)
                        && has_round());
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

    fn vun(&mut self, op: UnOp, d: Slot, a: Slot) -> V {
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
                        FUn::Floor => me.b.ins().floor(x),
                        FUn::Ceil => me.b.ins().ceil(x),
                        FUn::Trunc => me.b.ins().trunc(x),
                        _ => me.b.ins().nearest(x),
                    };
                    // Rounding to an integer returns a NaN as it is (the interpreter's
                    // `floor` & co. do not quiet a signalling NaN; `roundps` does).
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
    fn sext_n(&mut self, x: Value, from: u8) -> Value {
        if from >= 32 {
            return x;
        }
        let s = i64::from(32 - from);
        let y = self.b.ins().ishl_imm(x, s);
        self.b.ins().sshr_imm(y, s)
    }

    /// Varying slot `t` sign-extended from `w` bits to 64 (as the scalar path's `sext`), as
    /// wide parts.
    fn wide_sext(&mut self, t: Slot, w: u8) -> Vec<Value> {
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
        let k = match op {
            TernOp::Fma(k) | TernOp::Mad(k) => k,
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
                let (p, q, r) = (self.fvec(x[i], k), self.fvec(y[i], k), self.fvec(z[i], k));
                let v = if matches!(op, TernOp::Fma(_)) {
                    self.b.ins().fma(p, q, r)
                } else {
                    // Rounded twice, as `crate::ops::tern` defines `mad`.
                    let t = self.b.ins().fmul(p, q);
                    self.b.ins().fadd(t, r)
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
    fn truth_mask(&mut self, c: Slot, want: Class) -> V {
        match self.class_of(c) {
            Class::Uniform => {
                let x = self.b.use_var(self.vars[c as usize]);
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

    // ---- memory -------------------------------------------------------------------------

    /// The chunk's addresses `base + sext(idx, w) * scale + off`, as wide parts.
    fn vaddr(&mut self, base: Slot, i: Slot, w: u8, scale: i64, off: i64) -> Vec<Value> {
        let x: Vec<Value> = if self.class_of(i) == Class::Uniform {
            let v = self.b.use_var(self.vars[i as usize]);
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
    fn contiguous(
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
        if !self.checked {
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
    fn fatal_step(&mut self, idx: usize) {
        self.chunk_step(idx);
        let rs = self.b.ins().iconst(I32, i64::from(super::ROUND_STOP));
        self.b.ins().return_(&[rs]);
    }

    /// Load `idx` (result `d`) at `addr`.
    fn vload(&mut self, idx: usize, d: Slot, addr: Addr, size: u8, space: Space, site: u32) -> V {
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
    fn vstore(&mut self, idx: usize, addr: Addr, size: u8, v: Slot, space: Space, site: u32) {
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
            _ => Addr::Lanes(self.vaddr(base, i, w, scale, off)),
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
            _ => Addr::Lanes(self.w(p)),
        }
    }
}

/// Per block of `code`: the round starts (the entry, barriers' and sub-group meetings'
/// continuations) whose rounds reach it without passing a barrier or a sub-group meeting.
pub(super) fn region_entries(code: &crate::ir::Code) -> Vec<Vec<u32>> {
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

/// Where the chunk's lanes access memory.
enum Addr {
    /// Lane `l` at lane 0's address plus `l` times the access size (known statically).
    Contig(Value),
    /// Every lane at one address.
    Same(Value),
    /// Each lane's own address (consecutive or not, checked at run time), as wide parts.
    Lanes(Vec<Value>),
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
/// SSE4.1's `roundps`/`roundpd`, which Cranelift lowers vector `floor`, `ceil`, `trunc` and
/// `nearest` to.
fn has_round() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

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
