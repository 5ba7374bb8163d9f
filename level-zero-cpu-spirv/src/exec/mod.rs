//! The interpreter: runs the work-items of a work-group together (lanes), one block at a
//! time, and the work-groups of a launch in parallel on worker threads.
//!
//! Scheduling: every lane (work-item) has a current block. The executor keeps, per block,
//! the list of lanes waiting to run it, and always runs the lowest-numbered non-empty block
//! for all its lanes at once. Blocks are numbered so that loops and branches come before
//! the blocks they reconverge at, so lanes that diverged meet again at the merge point and
//! run together from there. Correctness does not depend on that order: any interleaving
//! of lanes is a valid execution of independent work-items. A barrier ends a block: the
//! lanes reaching it wait until no lane can run any more, then all continue together.

use crate::ir::*;
use crate::mem::{self, Fault, Memory, RawBuf, Space};
use crate::ops::{self, BinOp, FBin, Fk, Fl, H, TernOp, UnOp, sext};
use crate::printf;
use crate::{ArgValue, MemoryMap};

/// Why a work-group stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A sanitizer fault by a lane.
    Oob {
        lane: usize,
        fault: Fault,
        write: bool,
    },
    /// Anything else.
    Failed(String),
}

/// A fused address: `base + off + sext(idx, w) * scale`.
#[derive(Clone, Copy)]
struct Addr {
    base: Slot,
    idx: Slot,
    w: u8,
    scale: i64,
    off: i64,
}

/// The launch geometry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    pub(crate) size: [u32; 3],
    pub(crate) count: [u32; 3],
    pub(crate) offset: [u32; 3],
    pub(crate) work_dim: u32,
}

impl Grid {
    pub(crate) fn lanes(&self) -> usize {
        self.size.iter().map(|&s| s as usize).product()
    }
}

/// What all executors of a launch share.
pub(crate) struct Shared<'a> {
    pub(crate) code: &'a Code,
    pub(crate) grid: Grid,
    pub(crate) args: &'a [ArgValue<'a>],
    pub(crate) map: &'a dyn MemoryMap,
    pub(crate) globals: &'a [(u64, u64)],
    /// Offset of each `__local` pointer argument in the local arena (by parameter index).
    pub(crate) local_args: Vec<u64>,
    pub(crate) local_total: u64,
}

/// One worker's state: registers and arenas for one work-group at a time.
pub(crate) struct Exec<'a> {
    sh: &'a Shared<'a>,
    lanes: usize,
    regs: Vec<u64>,
    private: RawBuf,
    private_stride: u64,
    local: RawBuf,
    mem: Memory<'a>,
    lid: Vec<[u32; 3]>,
    /// Local ids per dimension (structure of arrays).
    lid_soa: [Vec<u32>; 3],
    all: Vec<u32>,
    lists: Vec<Vec<u32>>,
    bits: Vec<u64>,
    waiting: Vec<u32>,
    wait_next: Vec<u32>,
    spare: Vec<Vec<u32>>,
    group: [u32; 3],
    /// printf output of the current group.
    pub(crate) out: Vec<u8>,
}

impl<'a> Exec<'a> {
    pub(crate) fn new(sh: &'a Shared<'a>) -> Result<Exec<'a>, String> {
        let code = sh.code;
        let lanes = sh.grid.lanes();
        let private_stride = code.private_size.div_ceil(16) * 16;
        let private_total = private_stride
            .checked_mul(lanes as u64)
            .filter(|&t| t <= 1 << 32)
            .ok_or("the launch needs too much private memory")?;
        let private = RawBuf::zeroed(private_total as usize);
        let local = RawBuf::zeroed(sh.local_total as usize);
        let mem = Memory::new(
            sh.map,
            sh.globals,
            &local,
            &private,
            private_stride,
            code.sites as usize,
        );
        let nregs = (code.slots as usize)
            .checked_mul(lanes)
            .ok_or("too many registers")?;
        if nregs > 1 << 31 {
            return Err("the kernel needs too many registers for this work-group size".into());
        }
        let mut regs = vec![0u64; nregs];
        let mut lid = Vec::with_capacity(lanes);
        for z in 0..sh.grid.size[2] {
            for y in 0..sh.grid.size[1] {
                for x in 0..sh.grid.size[0] {
                    lid.push([x, y, z]);
                }
            }
        }
        let l = lanes;
        let bcast = |regs: &mut Vec<u64>, slot: Slot, v: u64| {
            let s = slot as usize * l;
            regs[s..s + l].fill(v);
        };
        for p in &code.presets {
            match *p {
                Preset::Const { d, at, n } => {
                    for k in 0..u32::from(n) {
                        bcast(&mut regs, d + k, code.consts[(at + k) as usize]);
                    }
                }
                Preset::Private { d, offset } => {
                    let s = d as usize * l;
                    for (lane, r) in regs[s..s + l].iter_mut().enumerate() {
                        *r = private.addr() + lane as u64 * private_stride + offset;
                    }
                }
                Preset::Local { d, offset } => bcast(&mut regs, d, local.addr() + offset),
            }
        }
        for (k, p) in code.params.iter().enumerate() {
            match p {
                Param::Value { d, layout } => {
                    let bytes = match sh.args.get(k) {
                        Some(ArgValue::Bytes(b)) => *b,
                        _ => return Err(format!("argument {k} must be a value")),
                    };
                    for (c, &(off, size)) in code.layouts[*layout as usize].iter().enumerate() {
                        let mut w = [0u8; 8];
                        let (off, size) = (off as usize, usize::from(size));
                        if off + size <= bytes.len() {
                            w[..size].copy_from_slice(&bytes[off..off + size]);
                        }
                        bcast(&mut regs, d + c as u32, u64::from_le_bytes(w));
                    }
                }
                Param::Local { d } => bcast(&mut regs, *d, local.addr() + sh.local_args[k]),
                Param::ByVal { d, offset, .. } => {
                    let s = *d as usize * l;
                    for (lane, r) in regs[s..s + l].iter_mut().enumerate() {
                        *r = private.addr() + lane as u64 * private_stride + offset;
                    }
                }
            }
        }
        let nb = code.blocks.len();
        Ok(Exec {
            sh,
            lanes,
            regs,
            private,
            private_stride,
            local,
            mem,
            lid_soa: std::array::from_fn(|d| lid.iter().map(|x| x[d]).collect()),
            lid,
            all: (0..lanes as u32).collect(),
            lists: vec![Vec::new(); nb],
            bits: vec![0; nb.div_ceil(64)],
            waiting: Vec::new(),
            wait_next: vec![0; lanes],
            spare: Vec::new(),
            group: [0; 3],
            out: Vec::new(),
        })
    }

    /// The global id of a lane in the current group.
    pub(crate) fn global_id(&self, lane: usize) -> [u64; 3] {
        let g = &self.sh.grid;
        let l = self.lid.get(lane).copied().unwrap_or([0; 3]);
        std::array::from_fn(|d| {
            u64::from(self.group[d]) * u64::from(g.size[d])
                + u64::from(l[d])
                + u64::from(g.offset[d])
        })
    }

    fn push(&mut self, block: u32, lanes: &[u32]) {
        let b = block as usize;
        if lanes.is_empty() {
            return;
        }
        self.lists[b].extend_from_slice(lanes);
        self.bits[b / 64] |= 1 << (b % 64);
    }

    fn first_block(&self) -> Option<usize> {
        self.bits
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(k, w)| k * 64 + w.trailing_zeros() as usize)
    }

    /// Runs one work-group to completion.
    pub(crate) fn run_group(&mut self, group: [u32; 3]) -> Result<(), Stop> {
        self.group = group;
        let code = self.sh.code;
        for (k, p) in code.params.iter().enumerate() {
            if let Param::ByVal { offset, size, .. } = p {
                let bytes = match self.sh.args.get(k) {
                    Some(ArgValue::Bytes(b)) => *b,
                    _ => &[],
                };
                let n = (*size as usize).min(bytes.len());
                for lane in 0..self.lanes {
                    let at = lane * self.private_stride as usize + *offset as usize;
                    self.private.write_at(at, &bytes[..n]);
                }
            }
        }
        if self.local.len() > 0 {
            self.local.clear();
        }
        for l in &mut self.lists {
            l.clear();
        }
        self.bits.fill(0);
        self.waiting.clear();
        let all = std::mem::take(&mut self.all);
        self.push(code.entry, &all);
        self.all = all;
        loop {
            let b = match self.first_block() {
                Some(b) => b,
                None => {
                    if self.waiting.is_empty() {
                        return Ok(());
                    }
                    // Everyone is at a barrier (or done): release them.
                    let waiting = std::mem::take(&mut self.waiting);
                    for &lane in &waiting {
                        let nb = self.wait_next[lane as usize];
                        self.push(nb, &[lane]);
                    }
                    self.waiting = waiting;
                    self.waiting.clear();
                    continue;
                }
            };
            let act = std::mem::replace(&mut self.lists[b], self.spare.pop().unwrap_or_default());
            self.bits[b / 64] &= !(1 << (b % 64));
            self.run_block(b, act)?;
        }
    }

    /// Sends lanes to a block, reusing the vector when the block has no lanes yet.
    fn send(&mut self, block: u32, mut lanes: Vec<u32>) {
        let b = block as usize;
        if lanes.is_empty() {
            self.spare.push(lanes);
            return;
        }
        if self.lists[b].is_empty() {
            std::mem::swap(&mut self.lists[b], &mut lanes);
        } else {
            self.lists[b].extend_from_slice(&lanes);
        }
        lanes.clear();
        self.spare.push(lanes);
        self.bits[b / 64] |= 1 << (b % 64);
    }

    fn run_block(&mut self, b: usize, act: Vec<u32>) -> Result<(), Stop> {
        let code = self.sh.code;
        let blk = &code.blocks[b];
        let full = act.len() == self.lanes;
        for inst in &code.insts[blk.start as usize..blk.end as usize] {
            self.step(inst, &act, full)?;
        }
        match &blk.term {
            Term::Jump(e) => {
                self.moves(&e.moves, &act);
                self.send(e.to, act);
            }
            Term::Branch { c, t, f } => {
                let l = self.lanes;
                let cs = *c as usize * l;
                let taken = act
                    .iter()
                    .filter(|&&lane| self.regs[cs + lane as usize] != 0)
                    .count();
                if taken == act.len() || taken == 0 {
                    // Uniform branch: everyone goes the same way.
                    let e = if taken == 0 { f } else { t };
                    self.moves(&e.moves, &act);
                    self.send(e.to, act);
                } else {
                    let mut tl = self.spare.pop().unwrap_or_default();
                    let mut fl = self.spare.pop().unwrap_or_default();
                    for &lane in &act {
                        if self.regs[cs + lane as usize] != 0 {
                            tl.push(lane);
                        } else {
                            fl.push(lane);
                        }
                    }
                    self.moves(&t.moves, &tl);
                    self.moves(&f.moves, &fl);
                    self.send(t.to, tl);
                    self.send(f.to, fl);
                    self.recycle(act);
                }
            }
            Term::Switch {
                sel,
                cases,
                default,
            } => {
                let l = self.lanes;
                let ss = *sel as usize * l;
                for &lane in &act {
                    let v = self.regs[ss + lane as usize];
                    let e = cases
                        .iter()
                        .find(|(c, _)| *c == v)
                        .map(|(_, e)| e)
                        .unwrap_or(default);
                    self.moves(&e.moves, &[lane]);
                    self.push(e.to, &[lane]);
                }
                self.recycle(act);
            }
            Term::Return => self.recycle(act),
            Term::Barrier(next) => {
                for &lane in &act {
                    self.wait_next[lane as usize] = *next;
                }
                self.waiting.extend_from_slice(&act);
                self.recycle(act);
            }
            Term::Trap => return Err(Stop::Failed("a work-item reached OpUnreachable".into())),
        }
        Ok(())
    }

    fn recycle(&mut self, mut v: Vec<u32>) {
        v.clear();
        self.spare.push(v);
    }

    fn moves(&mut self, moves: &[Move], act: &[u32]) {
        if act.is_empty() {
            return;
        }
        let full = act.len() == self.lanes;
        for m in moves {
            copy(&mut self.regs, self.lanes, act, full, m.d, m.s, m.n);
        }
    }

    #[inline]
    fn step(&mut self, inst: &Inst, act: &[u32], full: bool) -> Result<(), Stop> {
        let l = self.lanes;
        let code = self.sh.code;
        match *inst {
            Inst::Bin { op, d, a, b, n } => bin(&mut self.regs, l, act, full, op, d, a, b, n),
            Inst::Un { op, d, a, n } => un(&mut self.regs, l, act, full, op, d, a, n),
            Inst::Tern { op, d, a, b, c, n } => {
                tern(&mut self.regs, l, act, full, op, d, a, b, c, n)
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
                    let cc = if scalar_cond { c } else { c + k };
                    let (ds, cs, as_, bs) = (s(d + k, l), s(cc, l), s(a + k, l), s(b + k, l));
                    for &lane in act {
                        let i = lane as usize;
                        self.regs[ds + i] = if self.regs[cs + i] != 0 {
                            self.regs[as_ + i]
                        } else {
                            self.regs[bs + i]
                        };
                    }
                }
            }
            Inst::Copy { d, s: src, n } => copy(&mut self.regs, l, act, full, d, src, n),
            Inst::Gep {
                d,
                base,
                off,
                at,
                len: 1,
            } if full => {
                let (t, stride, w) = code.gep_terms[at as usize];
                let (ds, bs, ts) = (s(d, l), s(base, l), s(t, l));
                if !overlaps(ds, bs, l) && !overlaps(ds, ts, l) {
                    let (dst, b, x) = split2(&mut self.regs, ds, bs, ts, l);
                    let sh = 64 - u32::from(w.min(64));
                    for ((o, &b), &x) in dst.iter_mut().zip(b).zip(x) {
                        let x = ((x << sh) as i64) >> sh;
                        *o = b
                            .wrapping_add(off as u64)
                            .wrapping_add(x.wrapping_mul(stride) as u64);
                    }
                } else {
                    for i in 0..l {
                        let x = sext(self.regs[ts + i], w);
                        self.regs[ds + i] = self.regs[bs + i]
                            .wrapping_add(off as u64)
                            .wrapping_add(x.wrapping_mul(stride) as u64);
                    }
                }
            }
            Inst::Gep {
                d,
                base,
                off,
                at,
                len,
            } => {
                let terms = &code.gep_terms[at as usize..at as usize + usize::from(len)];
                let (ds, bs) = (s(d, l), s(base, l));
                for &lane in act {
                    let i = lane as usize;
                    let mut v = self.regs[bs + i].wrapping_add(off as u64);
                    for &(t, stride, w) in terms {
                        let x = sext(self.regs[s(t, l) + i], w);
                        v = v.wrapping_add(x.wrapping_mul(stride) as u64);
                    }
                    self.regs[ds + i] = v;
                }
            }
            Inst::Load {
                d,
                p,
                size,
                n,
                stride,
                space,
                site,
            } => match size {
                1 => self.load::<1>(d, p, n, stride, space, site, act, full)?,
                2 => self.load::<2>(d, p, n, stride, space, site, act, full)?,
                4 => self.load::<4>(d, p, n, stride, space, site, act, full)?,
                _ => self.load::<8>(d, p, n, stride, space, site, act, full)?,
            },
            Inst::Store {
                p,
                v,
                size,
                n,
                stride,
                space,
                site,
            } => match size {
                1 => self.store::<1>(p, v, n, stride, space, site, act, full)?,
                2 => self.store::<2>(p, v, n, stride, space, site, act, full)?,
                4 => self.store::<4>(p, v, n, stride, space, site, act, full)?,
                _ => self.store::<8>(p, v, n, stride, space, site, act, full)?,
            },
            Inst::LoadIdx {
                d,
                base,
                idx,
                w,
                scale,
                off,
                size,
                space,
                site,
            } => {
                let a = Addr {
                    base,
                    idx,
                    w,
                    scale,
                    off,
                };
                match size {
                    1 => self.load_idx::<1>(d, a, space, site, act, full)?,
                    2 => self.load_idx::<2>(d, a, space, site, act, full)?,
                    4 => self.load_idx::<4>(d, a, space, site, act, full)?,
                    _ => self.load_idx::<8>(d, a, space, site, act, full)?,
                }
            }
            Inst::StoreIdx {
                base,
                idx,
                w,
                scale,
                off,
                v,
                size,
                space,
                site,
            } => {
                let a = Addr {
                    base,
                    idx,
                    w,
                    scale,
                    off,
                };
                match size {
                    1 => self.store_idx::<1>(v, a, space, site, act)?,
                    2 => self.store_idx::<2>(v, a, space, site, act)?,
                    4 => self.store_idx::<4>(v, a, space, site, act)?,
                    _ => self.store_idx::<8>(v, a, space, site, act)?,
                }
            }
            Inst::LoadAgg {
                d,
                p,
                layout,
                space,
                site,
            } => {
                let lay = &code.layouts[layout as usize];
                let span = code.layout_spans[layout as usize];
                let ps = s(p, l);
                for &lane in act {
                    let i = lane as usize;
                    let addr = self.regs[ps + i];
                    let c = self
                        .mem
                        .check(space, addr, span, i, site as usize)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: false,
                        })?;
                    for (k, &(o, sz)) in lay.iter().enumerate() {
                        self.regs[s(d + k as u32, l) + i] =
                            mem::read(c.part(u64::from(o), u64::from(sz)));
                    }
                }
            }
            Inst::StoreAgg {
                p,
                v,
                layout,
                space,
                site,
            } => {
                let lay = &code.layouts[layout as usize];
                let span = code.layout_spans[layout as usize];
                let ps = s(p, l);
                for &lane in act {
                    let i = lane as usize;
                    let addr = self.regs[ps + i];
                    let c = self
                        .mem
                        .check(space, addr, span, i, site as usize)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: true,
                        })?;
                    for (k, &(o, sz)) in lay.iter().enumerate() {
                        mem::write(
                            c.part(u64::from(o), u64::from(sz)),
                            self.regs[s(v + k as u32, l) + i],
                        );
                    }
                }
            }
            Inst::CopyMem {
                dst,
                src,
                len,
                len_slot,
                dspace,
                sspace,
                site,
            } => {
                for &lane in act {
                    let i = lane as usize;
                    let n = match len_slot {
                        Some(ls) => self.regs[s(ls, l) + i],
                        None => len,
                    };
                    if n == 0 {
                        continue;
                    }
                    let (da, sa) = (self.regs[s(dst, l) + i], self.regs[s(src, l) + i]);
                    let dc = self
                        .mem
                        .check(dspace, da, n, i, site as usize)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: true,
                        })?;
                    let sc = self
                        .mem
                        .check(sspace, sa, n, i, site as usize)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: false,
                        })?;
                    mem::copy(dc, sc);
                }
            }
            Inst::Atomic {
                op,
                d,
                p,
                v,
                cmp,
                size,
                space,
                site,
            } => {
                for &lane in act {
                    let i = lane as usize;
                    let addr = self.regs[s(p, l) + i];
                    let c = self
                        .mem
                        .check(space, addr, u64::from(size), i, site as usize)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: true,
                        })?;
                    let (x, y) = (self.regs[s(v, l) + i], self.regs[s(cmp, l) + i]);
                    let old = mem::atomic(c, op, x, y).map_err(|()| {
                        Stop::Failed(format!("misaligned {size}-byte atomic at {addr:#x}"))
                    })?;
                    self.regs[s(d, l) + i] = old;
                }
            }
            Inst::Builtin { d, b, n, comp }
                if full && matches!(b, Builtin::GlobalId | Builtin::LocalId) =>
            {
                let g = &self.sh.grid;
                let comps: &[u32] = match comp {
                    Some(c) => &[c as u32][..],
                    None => &[0, 1, 2][..n.min(3) as usize],
                };
                for (k, &c) in comps.iter().enumerate() {
                    // `c < 3`: the decoder's `validate` guarantees it.
                    let c = (c as usize).min(2);
                    let ds = s(d + k as u32, l);
                    let base = if b == Builtin::GlobalId {
                        u64::from(self.group[c]) * u64::from(g.size[c]) + u64::from(g.offset[c])
                    } else {
                        0
                    };
                    for (r, &x) in self.regs[ds..ds + l].iter_mut().zip(&self.lid_soa[c]) {
                        *r = base + u64::from(x);
                    }
                }
            }
            Inst::Builtin { d, b, n, comp } => {
                for &lane in act {
                    let i = lane as usize;
                    match comp {
                        Some(c) => self.regs[s(d, l) + i] = self.builtin(b, usize::from(c), i),
                        None if n == 1 => self.regs[s(d, l) + i] = self.builtin(b, 0, i),
                        None => {
                            for k in 0..u32::from(n) {
                                self.regs[s(d + k, l) + i] = self.builtin(b, k as usize, i);
                            }
                        }
                    }
                }
            }
            Inst::ExtractDyn { d, v, idx, n } => {
                for &lane in act {
                    let i = lane as usize;
                    let c = self.regs[s(idx, l) + i];
                    // Out of range: undefined in SPIR-V; read component 0.
                    let c = if c < u64::from(n) { c as u32 } else { 0 };
                    self.regs[s(d, l) + i] = self.regs[s(v + c, l) + i];
                }
            }
            Inst::InsertDyn { d, v, x, idx, n } => {
                copy(&mut self.regs, l, act, full, d, v, n);
                for &lane in act {
                    let i = lane as usize;
                    let c = self.regs[s(idx, l) + i];
                    if c < u64::from(n) {
                        self.regs[s(d + c as u32, l) + i] = self.regs[s(x, l) + i];
                    }
                }
            }
            Inst::Bitcast {
                d,
                s: src,
                fsize,
                nf,
                tsize,
                nt,
            } => {
                for &lane in act {
                    let i = lane as usize;
                    let mut bytes = [0u8; 128];
                    let fs = usize::from(fsize);
                    for k in 0..usize::from(nf) {
                        let v = self.regs[s(src + k as u32, l) + i];
                        bytes[k * fs..k * fs + fs].copy_from_slice(&v.to_le_bytes()[..fs]);
                    }
                    let ts = usize::from(tsize);
                    for k in 0..usize::from(nt) {
                        let mut w = [0u8; 8];
                        w[..ts].copy_from_slice(&bytes[k * ts..k * ts + ts]);
                        self.regs[s(d + k as u32, l) + i] = u64::from_le_bytes(w);
                    }
                }
            }
            Inst::Reduce { op, k, d, a, b, n } => {
                let mut xa = [0u64; 16];
                let mut xb = [0u64; 16];
                let n = usize::from(n).min(16);
                for &lane in act {
                    let i = lane as usize;
                    for c in 0..n {
                        xa[c] = self.regs[s(a + c as u32, l) + i];
                        xb[c] = self.regs[s(b + c as u32, l) + i];
                    }
                    self.regs[s(d, l) + i] = ops::reduce_f(k, op, &xa[..n], &xb[..n]);
                }
            }
            Inst::Cross { k, d, a, b } => {
                for &lane in act {
                    let i = lane as usize;
                    let g = |r: &Vec<u64>, x: u32| ops::float_to_f64(k, r[s(x, l) + i]);
                    let (a0, a1, a2) =
                        (g(&self.regs, a), g(&self.regs, a + 1), g(&self.regs, a + 2));
                    let (b0, b1, b2) =
                        (g(&self.regs, b), g(&self.regs, b + 1), g(&self.regs, b + 2));
                    let r = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0];
                    for (c, v) in r.iter().enumerate() {
                        self.regs[s(d + c as u32, l) + i] = ops::ftof_f64(*v, k, ops::Rm::Rte);
                    }
                }
            }
            Inst::Normalize { k, d, a, n } => {
                for &lane in act {
                    let i = lane as usize;
                    let mut sum = 0.0;
                    for c in 0..u32::from(n) {
                        let x = ops::float_to_f64(k, self.regs[s(a + c, l) + i]);
                        sum += x * x;
                    }
                    let len = sum.sqrt();
                    for c in 0..u32::from(n) {
                        let x = ops::float_to_f64(k, self.regs[s(a + c, l) + i]);
                        let r = if len == 0.0 { x } else { x / len };
                        self.regs[s(d + c, l) + i] = ops::ftof_f64(r, k, ops::Rm::Rte);
                    }
                }
            }
            Inst::Printf { d, call } => {
                let pc = &code.printfs[call as usize];
                for &lane in act {
                    let i = lane as usize;
                    let r = self.printf(pc, i);
                    self.regs[s(d, l) + i] = match r {
                        Ok(()) => 0,
                        Err(Stop::Oob { .. }) => 0xffff_ffff,
                        Err(e) => return Err(e),
                    };
                }
            }
            Inst::AsyncCopy {
                d,
                dst,
                src,
                n,
                stride,
                esize,
                dst_strided,
                dspace,
                sspace,
                site,
            } => {
                if let Some(&first) = act.first() {
                    let i = first as usize;
                    let get = |x: Slot| self.regs[s(x, l) + i];
                    let (da, sa, mut count, step) =
                        (get(dst), get(src), get(n), get(stride).max(1));
                    if esize == 0 {
                        count = 0;
                    }
                    let e = u64::from(esize);
                    for k in 0..count {
                        let (dk, sk) = if dst_strided {
                            (k * step, k)
                        } else {
                            (k, k * step)
                        };
                        let to = da.wrapping_add(dk.wrapping_mul(e));
                        let from = sa.wrapping_add(sk.wrapping_mul(e));
                        let dc =
                            self.mem
                                .check(dspace, to, e, i, site as usize)
                                .map_err(|fault| Stop::Oob {
                                    lane: i,
                                    fault,
                                    write: true,
                                })?;
                        let sc =
                            self.mem
                                .check(sspace, from, e, i, site as usize)
                                .map_err(|fault| Stop::Oob {
                                    lane: i,
                                    fault,
                                    write: false,
                                })?;
                        mem::copy(dc, sc);
                    }
                }
                for &lane in act {
                    self.regs[s(d, l) + lane as usize] = 0;
                }
            }
            Inst::Shuffle {
                d,
                a,
                b,
                mask,
                na,
                nb,
                n,
            } => {
                let total = u64::from(na) + u64::from(nb);
                for &lane in act {
                    let i = lane as usize;
                    let mut src = [0u64; 32];
                    for k in 0..u32::from(na) {
                        src[k as usize] = self.regs[s(a + k, l) + i];
                    }
                    for k in 0..u32::from(nb) {
                        src[(u32::from(na) + k) as usize] = self.regs[s(b + k, l) + i];
                    }
                    for k in 0..u32::from(n) {
                        let sel = self.regs[s(mask + k, l) + i] % total.max(1);
                        self.regs[s(d + k, l) + i] = src[sel as usize];
                    }
                }
            }
            Inst::Fence => std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst),
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn load<const N: usize>(
        &mut self,
        d: Slot,
        p: Slot,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let ps = s(p, l);
        let span = u64::from(n - 1) * u64::from(stride) + N as u64;
        let ds = s(d, l);
        let site = site as usize;
        // Local borrows: the compiler then knows memory writes cannot move the registers.
        let regs = &mut self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint(space, site);
        if n == 1 && full && ds != ps {
            let (dst, src) = split1(regs, ds, ps, l);
            for (i, (o, &addr)) in dst.iter_mut().zip(src).enumerate() {
                let c = match fast.get(addr, span) {
                    Some(c) => c,
                    None => {
                        let c = memory.check(space, addr, span, i, site).map_err(|fault| {
                            Stop::Oob {
                                lane: i,
                                fault,
                                write: false,
                            }
                        })?;
                        fast = memory.hint(space, site);
                        c
                    }
                };
                *o = mem::read_n::<N>(c);
            }
            return Ok(());
        }
        for &lane in act {
            let i = lane as usize;
            let addr = regs[ps + i];
            let c = match fast.get(addr, span) {
                Some(c) => c,
                None => {
                    let c =
                        memory
                            .check(space, addr, span, i, site)
                            .map_err(|fault| Stop::Oob {
                                lane: i,
                                fault,
                                write: false,
                            })?;
                    fast = memory.hint(space, site);
                    c
                }
            };
            if n == 1 {
                regs[ds + i] = mem::read_n::<N>(c);
            } else {
                for k in 0..u32::from(n) {
                    let part = c.part(u64::from(k) * u64::from(stride), N as u64);
                    regs[s(d + k, l) + i] = mem::read_n::<N>(part);
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn store<const N: usize>(
        &mut self,
        p: Slot,
        v: Slot,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let ps = s(p, l);
        let span = u64::from(n - 1) * u64::from(stride) + N as u64;
        let vs = s(v, l);
        let site = site as usize;
        let regs = &self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint(space, site);
        if n == 1 && full {
            for (i, (&addr, &val)) in regs[ps..ps + l].iter().zip(&regs[vs..vs + l]).enumerate() {
                let c = match fast.get(addr, span) {
                    Some(c) => c,
                    None => {
                        let c = memory.check(space, addr, span, i, site).map_err(|fault| {
                            Stop::Oob {
                                lane: i,
                                fault,
                                write: true,
                            }
                        })?;
                        fast = memory.hint(space, site);
                        c
                    }
                };
                mem::write_n::<N>(c, val);
            }
            return Ok(());
        }
        for &lane in act {
            let i = lane as usize;
            let addr = regs[ps + i];
            let c = match fast.get(addr, span) {
                Some(c) => c,
                None => {
                    let c =
                        memory
                            .check(space, addr, span, i, site)
                            .map_err(|fault| Stop::Oob {
                                lane: i,
                                fault,
                                write: true,
                            })?;
                    fast = memory.hint(space, site);
                    c
                }
            };
            if n == 1 {
                mem::write_n::<N>(c, regs[vs + i]);
            } else {
                for k in 0..u32::from(n) {
                    let part = c.part(u64::from(k) * u64::from(stride), N as u64);
                    mem::write_n::<N>(part, regs[s(v + k, l) + i]);
                }
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn load_idx<const N: usize>(
        &mut self,
        d: Slot,
        a: Addr,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let (ds, bs, is) = (s(d, l), s(a.base, l), s(a.idx, l));
        let site = site as usize;
        let regs = &mut self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint(space, site);
        let sh = 64 - u32::from(a.w.clamp(1, 64));
        let addr_of = |b: u64, x: u64| {
            let x = ((x << sh) as i64) >> sh;
            b.wrapping_add(a.off as u64)
                .wrapping_add(x.wrapping_mul(a.scale) as u64)
        };
        if full && !overlaps(ds, bs, l) && !overlaps(ds, is, l) {
            let (dst, base, idx) = split2(regs, ds, bs, is, l);
            for (i, ((o, &b), &x)) in dst.iter_mut().zip(base).zip(idx).enumerate() {
                let addr = addr_of(b, x);
                let c = match fast.get(addr, N as u64) {
                    Some(c) => c,
                    None => {
                        let c = memory
                            .check(space, addr, N as u64, i, site)
                            .map_err(|fault| Stop::Oob {
                                lane: i,
                                fault,
                                write: false,
                            })?;
                        fast = memory.hint(space, site);
                        c
                    }
                };
                *o = mem::read_n::<N>(c);
            }
            return Ok(());
        }
        for &lane in act {
            let i = lane as usize;
            let addr = addr_of(regs[bs + i], regs[is + i]);
            let c = match fast.get(addr, N as u64) {
                Some(c) => c,
                None => {
                    let c = memory
                        .check(space, addr, N as u64, i, site)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: false,
                        })?;
                    fast = memory.hint(space, site);
                    c
                }
            };
            regs[ds + i] = mem::read_n::<N>(c);
        }
        Ok(())
    }

    #[inline(always)]
    fn store_idx<const N: usize>(
        &mut self,
        v: Slot,
        a: Addr,
        space: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let (vs, bs, is) = (s(v, l), s(a.base, l), s(a.idx, l));
        let site = site as usize;
        let regs = &self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint(space, site);
        let sh = 64 - u32::from(a.w.clamp(1, 64));
        for &lane in act {
            let i = lane as usize;
            let x = ((regs[is + i] << sh) as i64) >> sh;
            let addr = regs[bs + i]
                .wrapping_add(a.off as u64)
                .wrapping_add(x.wrapping_mul(a.scale) as u64);
            let c = match fast.get(addr, N as u64) {
                Some(c) => c,
                None => {
                    let c = memory
                        .check(space, addr, N as u64, i, site)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: true,
                        })?;
                    fast = memory.hint(space, site);
                    c
                }
            };
            mem::write_n::<N>(c, regs[vs + i]);
        }
        Ok(())
    }

    fn builtin(&self, b: Builtin, c: usize, lane: usize) -> u64 {
        let g = &self.sh.grid;
        let lid = self.lid[lane];
        let in_range = c < 3;
        let dimv = |a: [u32; 3], default: u64| if in_range { u64::from(a[c]) } else { default };
        match b {
            Builtin::GlobalId => {
                if in_range {
                    self.global_id(lane)[c]
                } else {
                    0
                }
            }
            Builtin::LocalId => dimv(lid, 0),
            Builtin::GroupId => dimv(self.group, 0),
            Builtin::NumGroups => dimv(g.count, 1),
            Builtin::LocalSize | Builtin::EnqueuedLocalSize => dimv(g.size, 1),
            Builtin::GlobalSize => {
                if in_range {
                    u64::from(g.size[c]) * u64::from(g.count[c])
                } else {
                    1
                }
            }
            Builtin::GlobalOffset => dimv(g.offset, 0),
            Builtin::GlobalLinearId => {
                let id = self.global_id(lane);
                let gs: [u64; 3] =
                    std::array::from_fn(|d| u64::from(g.size[d]) * u64::from(g.count[d]));
                let rel: [u64; 3] =
                    std::array::from_fn(|d| id[d].wrapping_sub(u64::from(g.offset[d])));
                (rel[2].wrapping_mul(gs[1]).wrapping_add(rel[1]))
                    .wrapping_mul(gs[0])
                    .wrapping_add(rel[0])
            }
            Builtin::LocalLinearId
            | Builtin::SubgroupId
            | Builtin::NumSubgroups
            | Builtin::NumEnqueuedSubgroups => match b {
                Builtin::LocalLinearId | Builtin::SubgroupId => lane as u64,
                _ => self.lanes as u64,
            },
            Builtin::WorkDim => u64::from(g.work_dim),
            // A sub-group is one work-item.
            Builtin::SubgroupSize | Builtin::SubgroupMaxSize => 1,
            Builtin::SubgroupLocalId => 0,
        }
    }

    fn printf(&mut self, pc: &PrintfCall, lane: usize) -> Result<(), Stop> {
        let l = self.lanes;
        let site = pc.site as usize;
        let fmt_addr = self.regs[s(pc.fmt, l) + lane];
        let fmt = self.read_cstr(fmt_addr, lane, site).ok_or(Stop::Oob {
            lane,
            fault: Fault {
                address: fmt_addr,
                size: 1,
            },
            write: false,
        })?;
        let mut args = Vec::new();
        for a in &pc.args {
            let get = |k: u32| self.regs[s(a.slot + k, l) + lane];
            let one = |v: u64| match a.kind {
                ArgScalar::Int(w) => printf::Arg::Int(v, w),
                ArgScalar::Float(k) => printf::Arg::Float(ops::float_to_f64(k, v)),
                ArgScalar::Ptr => printf::Arg::Ptr(v),
            };
            if a.n == 1 {
                args.push(one(get(0)));
            } else {
                args.push(printf::Arg::Vector(
                    (0..u32::from(a.n)).map(|k| one(get(k))).collect(),
                ));
            }
        }
        let text = {
            let mut read = |p: u64| self.read_cstr(p, lane, site);
            printf::format(&fmt, &args, &mut read).map_err(Stop::Failed)?
        };
        self.out.extend_from_slice(&text);
        Ok(())
    }

    fn read_cstr(&mut self, addr: u64, lane: usize, site: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut a = addr;
        loop {
            let c = self.mem.check(Space::Generic, a, 1, lane, site).ok()?;
            let b = mem::read(c) as u8;
            if b == 0 || out.len() >= 1 << 16 {
                return Some(out);
            }
            out.push(b);
            a = a.wrapping_add(1);
        }
    }
}

#[inline(always)]
fn s(slot: Slot, lanes: usize) -> usize {
    slot as usize * lanes
}

/// Destination and one source slice of `l` lanes (distinct slots: `d != a`).
#[inline(always)]
fn split1(r: &mut [u64], d: usize, a: usize, l: usize) -> (&mut [u64], &[u64]) {
    if d < a {
        let (lo, hi) = r.split_at_mut(a);
        (&mut lo[d..d + l], &hi[..l])
    } else {
        let (lo, hi) = r.split_at_mut(d);
        (&mut hi[..l], &lo[a..a + l])
    }
}

/// Destination and two source slices (sources distinct from the destination).
#[inline(always)]
fn split2(r: &mut [u64], d: usize, a: usize, b: usize, l: usize) -> (&mut [u64], &[u64], &[u64]) {
    let (lo, hi) = r.split_at_mut(d);
    let (dst, hi) = hi.split_at_mut(l);
    let pick = |x: usize| -> &[u64] {
        if x < d {
            &lo[x..x + l]
        } else {
            &hi[x - d - l..x - d]
        }
    };
    (dst, pick(a), pick(b))
}

fn overlaps(d: usize, x: usize, l: usize) -> bool {
    d < x + l && x < d + l
}

fn copy(regs: &mut [u64], l: usize, act: &[u32], full: bool, d: Slot, src: Slot, n: u16) {
    for k in 0..u32::from(n) {
        let (ds, ss) = (s(d + k, l), s(src + k, l));
        if ds == ss {
            continue;
        }
        if full {
            regs.copy_within(ss..ss + l, ds);
        } else {
            for &lane in act {
                regs[ds + lane as usize] = regs[ss + lane as usize];
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn map1(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    d: Slot,
    a: Slot,
    n: u16,
    f: impl Fn(u64) -> u64,
) {
    for k in 0..u32::from(n) {
        let (ds, as_) = (s(d + k, l), s(a + k, l));
        if full && ds != as_ {
            let (dst, src) = split1(regs, ds, as_, l);
            for (x, &y) in dst.iter_mut().zip(src) {
                *x = f(y);
            }
        } else {
            for &lane in act {
                let i = lane as usize;
                regs[ds + i] = f(regs[as_ + i]);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn map2(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    d: Slot,
    a: Slot,
    b: Slot,
    n: u16,
    f: impl Fn(u64, u64) -> u64,
) {
    for k in 0..u32::from(n) {
        let (ds, as_, bs) = (s(d + k, l), s(a + k, l), s(b + k, l));
        if full && !overlaps(ds, as_, l) && !overlaps(ds, bs, l) {
            let (dst, x, y) = split2(regs, ds, as_, bs, l);
            for ((o, &p), &q) in dst.iter_mut().zip(x).zip(y) {
                *o = f(p, q);
            }
        } else {
            for &lane in act {
                let i = lane as usize;
                regs[ds + i] = f(regs[as_ + i], regs[bs + i]);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn map3(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    d: Slot,
    a: Slot,
    b: Slot,
    c: Slot,
    n: u16,
    f: impl Fn(u64, u64, u64) -> u64,
) {
    for k in 0..u32::from(n) {
        let (ds, as_, bs, cs) = (s(d + k, l), s(a + k, l), s(b + k, l), s(c + k, l));
        if full && !overlaps(ds, as_, l) && !overlaps(ds, bs, l) && !overlaps(ds, cs, l) {
            let (lo, hi) = regs.split_at_mut(ds);
            let (dst, hi) = hi.split_at_mut(l);
            let pick = |x: usize| -> &[u64] {
                if x < ds {
                    &lo[x..x + l]
                } else {
                    &hi[x - ds - l..x - ds]
                }
            };
            let (x, y, z) = (pick(as_), pick(bs), pick(cs));
            for (((o, &p), &q), &r) in dst.iter_mut().zip(x).zip(y).zip(z) {
                *o = f(p, q, r);
            }
            continue;
        }
        for &lane in act {
            let i = lane as usize;
            regs[ds + i] = f(regs[as_ + i], regs[bs + i], regs[cs + i]);
        }
    }
}

#[inline(always)]
fn f32b(x: u64) -> f32 {
    f32::from_bits(x as u32)
}

#[inline(always)]
fn bf32(x: f32) -> u64 {
    u64::from(x.to_bits())
}

#[allow(clippy::too_many_arguments)]
fn bin(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    op: BinOp,
    d: Slot,
    a: Slot,
    b: Slot,
    n: u16,
) {
    match op {
        BinOp::IAdd(m) => map2(regs, l, act, full, d, a, b, n, |x, y| x.wrapping_add(y) & m),
        BinOp::ISub(m) => map2(regs, l, act, full, d, a, b, n, |x, y| x.wrapping_sub(y) & m),
        BinOp::IMul(m) => map2(regs, l, act, full, d, a, b, n, |x, y| x.wrapping_mul(y) & m),
        BinOp::And => map2(regs, l, act, full, d, a, b, n, |x, y| x & y),
        BinOp::Or => map2(regs, l, act, full, d, a, b, n, |x, y| x | y),
        BinOp::Xor => map2(regs, l, act, full, d, a, b, n, |x, y| x ^ y),
        BinOp::ULt => map2(regs, l, act, full, d, a, b, n, |x, y| u64::from(x < y)),
        BinOp::IEq => map2(regs, l, act, full, d, a, b, n, |x, y| u64::from(x == y)),
        BinOp::Shl(w) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            (x << (y % u64::from(w))) & ops::mask(w)
        }),
        BinOp::SLt(w) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            u64::from(sext(x, w) < sext(y, w))
        }),
        BinOp::F(Fk::S, FBin::Add) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(f32b(x) + f32b(y))
        }),
        BinOp::F(Fk::S, FBin::Sub) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(f32b(x) - f32b(y))
        }),
        BinOp::F(Fk::S, FBin::Mul) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(f32b(x) * f32b(y))
        }),
        BinOp::F(Fk::S, FBin::Div) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            bf32(f32b(x) / f32b(y))
        }),
        BinOp::F(Fk::D, FBin::Add) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            (f64::from_bits(x) + f64::from_bits(y)).to_bits()
        }),
        BinOp::F(Fk::D, FBin::Mul) => map2(regs, l, act, full, d, a, b, n, |x, y| {
            (f64::from_bits(x) * f64::from_bits(y)).to_bits()
        }),
        op => map2(regs, l, act, full, d, a, b, n, |x, y| ops::bin(op, x, y)),
    }
}

#[allow(clippy::too_many_arguments)]
fn un(regs: &mut [u64], l: usize, act: &[u32], full: bool, op: UnOp, d: Slot, a: Slot, n: u16) {
    match op {
        UnOp::Mask(m) => map1(regs, l, act, full, d, a, n, |x| x & m),
        UnOp::Sext(from, to) => map1(regs, l, act, full, d, a, n, |x| {
            (sext(x, from) as u64) & ops::mask(to)
        }),
        op => map1(regs, l, act, full, d, a, n, |x| ops::un(op, x)),
    }
}

#[allow(clippy::too_many_arguments)]
fn tern(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    op: TernOp,
    d: Slot,
    a: Slot,
    b: Slot,
    c: Slot,
    n: u16,
) {
    match op {
        // mad: a * b + c, rounding twice is allowed (and is what is fast without FMA).
        TernOp::Mad(Fk::S) => map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            bf32(f32b(x) * f32b(y) + f32b(z))
        }),
        TernOp::Mad(Fk::D) => map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            (f64::from_bits(x) * f64::from_bits(y) + f64::from_bits(z)).to_bits()
        }),
        TernOp::Mad(Fk::H) => map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            H(H::get(x).0 * H::get(y).0 + H::get(z).0).put()
        }),
        TernOp::Fma(Fk::S) => map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            bf32(f32b(x).mul_add(f32b(y), f32b(z)))
        }),
        op => map3(regs, l, act, full, d, a, b, c, n, |x, y, z| {
            ops::tern(op, x, y, z)
        }),
    }
}
