//! Which component slots each instruction reads and writes, and which slots are live where:
//! what the JIT needs to keep a kernel's values in machine registers and store to the
//! register file only what must survive a barrier or what an instruction run by the
//! interpreter (a callout) reads and writes.
//!
//! `reads` is a superset of what an instruction reads (reading more only stores more);
//! `writes` is exactly what it writes for every work-item that runs it (liveness kills a
//! slot on a write, so a write that might not happen must not be listed: none of the
//! instructions the JIT accepts writes only sometimes).

use crate::ir::{Code, Edge, ImageOp, Inst, Slot, Term};

/// A run of `n` consecutive slots from `s`.
pub(super) type Run = (Slot, u32);

/// The slots an instruction reads (a superset), as runs.
pub(super) fn reads(code: &Code, inst: &Inst, out: &mut Vec<Run>) {
    let n = |x: u16| u32::from(x);
    match *inst {
        Inst::Bin { a, b, n: k, .. } => out.extend([(a, n(k)), (b, n(k))]),
        Inst::Un { a, n: k, .. } => out.push((a, n(k))),
        Inst::Tern { a, b, c, n: k, .. } => out.extend([(a, n(k)), (b, n(k)), (c, n(k))]),
        Inst::Select {
            c,
            a,
            b,
            n: k,
            scalar_cond,
            ..
        } => out.extend([
            (c, if scalar_cond { 1 } else { n(k) }),
            (a, n(k)),
            (b, n(k)),
        ]),
        Inst::Copy { s, n: k, .. } => out.push((s, n(k))),
        Inst::Gep { base, at, len, .. } => {
            out.push((base, 1));
            for &(t, _, _) in &code.gep_terms[at as usize..at as usize + usize::from(len)] {
                out.push((t, 1));
            }
        }
        Inst::Load { p, .. } | Inst::LoadAgg { p, .. } => out.push((p, 1)),
        Inst::Store { p, v, n: k, .. } => out.extend([(p, 1), (v, n(k))]),
        Inst::LoadIdx { base, idx, .. } => out.extend([(base, 1), (idx, 1)]),
        Inst::StoreIdx { base, idx, v, .. } => out.extend([(base, 1), (idx, 1), (v, 1)]),
        Inst::StoreAgg { p, v, layout, .. } => {
            out.extend([(p, 1), (v, code.layouts[layout as usize].len() as u32)])
        }
        Inst::CopyMem {
            dst, src, len_slot, ..
        } => {
            out.extend([(dst, 1), (src, 1)]);
            if let Some(l) = len_slot {
                out.push((l, 1));
            }
        }
        Inst::Atomic { p, v, cmp, .. } => out.extend([(p, 1), (v, 1), (cmp, 1)]),
        Inst::Builtin { .. } | Inst::Fence => {}
        Inst::ExtractDyn { v, idx, n: k, .. } => out.extend([(v, n(k)), (idx, 1)]),
        Inst::InsertDyn {
            v, x, idx, n: k, ..
        } => out.extend([(v, n(k)), (x, 1), (idx, 1)]),
        Inst::Bitcast { s, nf, .. } => out.push((s, n(nf))),
        Inst::Reduce { a, b, n: k, .. } => out.extend([(a, n(k)), (b, n(k))]),
        Inst::Cross { a, b, .. } => out.extend([(a, 3), (b, 3)]),
        Inst::Normalize { a, n: k, .. } => out.push((a, n(k))),
        Inst::Shuffle {
            a,
            b,
            mask,
            na,
            nb,
            n: k,
            ..
        } => out.extend([(a, n(na)), (b, n(nb)), (mask, n(k))]),
        Inst::Printf { call, .. } => {
            let pc = &code.printfs[call as usize];
            out.push((pc.fmt, 1));
            for a in &pc.args {
                out.push((a.slot, n(a.n)));
            }
        }
        Inst::AsyncCopy {
            dst,
            src,
            n: c,
            stride,
            ..
        } => out.extend([(dst, 1), (src, 1), (c, 1), (stride, 1)]),
        Inst::Image(ref x) => {
            out.push((x.img, 1));
            out.push((x.coord, n(x.ncoord).max(1)));
            if x.op == ImageOp::Write {
                out.push((x.texel, 4));
            }
        }
        Inst::Group(ref g) => out.extend([(g.a, n(g.n)), (g.b, n(g.nb).max(1)), (g.c, 1)]),
    }
}

/// The slots an instruction writes (exactly), as runs.
pub(super) fn writes(code: &Code, inst: &Inst, out: &mut Vec<Run>) {
    let n = |x: u16| u32::from(x);
    match *inst {
        Inst::Bin { d, n: k, .. }
        | Inst::Un { d, n: k, .. }
        | Inst::Tern { d, n: k, .. }
        | Inst::Select { d, n: k, .. }
        | Inst::Copy { d, n: k, .. }
        | Inst::Load { d, n: k, .. }
        | Inst::Builtin { d, n: k, .. }
        | Inst::InsertDyn { d, n: k, .. }
        | Inst::Normalize { d, n: k, .. }
        | Inst::Shuffle { d, n: k, .. } => out.push((d, n(k))),
        Inst::Gep { d, .. }
        | Inst::LoadIdx { d, .. }
        | Inst::Atomic { d, .. }
        | Inst::ExtractDyn { d, .. }
        | Inst::Reduce { d, .. }
        | Inst::Printf { d, .. }
        | Inst::AsyncCopy { d, .. } => out.push((d, 1)),
        Inst::LoadAgg { d, layout, .. } => {
            out.push((d, code.layouts[layout as usize].len() as u32))
        }
        Inst::Bitcast { d, nt, .. } => out.push((d, n(nt))),
        Inst::Cross { d, .. } => out.push((d, 3)),
        Inst::Store { .. }
        | Inst::StoreIdx { .. }
        | Inst::StoreAgg { .. }
        | Inst::CopyMem { .. }
        | Inst::Fence => {}
        Inst::Image(ref x) => {
            if x.op != ImageOp::Write {
                out.push((x.d, n(x.n)));
            }
        }
        Inst::Group(ref g) => out.push((g.d, n(g.n))),
    }
}

/// A set of slots.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Set(Vec<u64>);

impl Set {
    pub(super) fn new(slots: u32) -> Set {
        Set(vec![0; (slots as usize).div_ceil(64)])
    }
    pub(super) fn insert(&mut self, s: Slot) {
        if let Some(w) = self.0.get_mut(s as usize / 64) {
            *w |= 1 << (s % 64);
        }
    }
    pub(super) fn remove(&mut self, s: Slot) {
        if let Some(w) = self.0.get_mut(s as usize / 64) {
            *w &= !(1 << (s % 64));
        }
    }
    pub(super) fn contains(&self, s: Slot) -> bool {
        self.0
            .get(s as usize / 64)
            .is_some_and(|w| w & (1 << (s % 64)) != 0)
    }
    fn union(&mut self, o: &Set) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a |= b;
        }
    }
    /// The slots in the set, ascending.
    pub(super) fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        self.0.iter().enumerate().flat_map(|(k, &w)| {
            (0..64)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| (k * 64 + b) as Slot)
        })
    }
}

fn add_runs(set: &mut Set, runs: &[Run]) {
    for &(s, n) in runs {
        for k in 0..n {
            set.insert(s + k);
        }
    }
}

fn remove_runs(set: &mut Set, runs: &[Run]) {
    for &(s, n) in runs {
        for k in 0..n {
            set.remove(s + k);
        }
    }
}

/// What is live on entry to `e.to`, seen before the edge's moves.
fn through_edge(e: &Edge, live_in: &[Set], slots: u32) -> Set {
    let mut s = live_in[e.to as usize].clone();
    // The moves run in order: walk them backwards.
    for m in e.moves.iter().rev() {
        let mut w = Set::new(slots);
        add_runs(&mut w, &[(m.s, u32::from(m.n))]);
        remove_runs(&mut s, &[(m.d, u32::from(m.n))]);
        s.union(&w);
    }
    s
}

/// The slots live on entry to every block (read before written on some path from it).
pub(super) fn live_in(code: &Code) -> Vec<Set> {
    let slots = code.slots;
    let nb = code.blocks.len();
    // Per block: reads before any write (gen) and writes (kill), instructions in order.
    let mut gen_kill = Vec::with_capacity(nb);
    let (mut r, mut w) = (Vec::new(), Vec::new());
    for b in &code.blocks {
        let (mut g, mut k) = (Set::new(slots), Set::new(slots));
        for inst in &code.insts[b.start as usize..b.end as usize] {
            r.clear();
            w.clear();
            reads(code, inst, &mut r);
            writes(code, inst, &mut w);
            for &(s, n) in &r {
                for x in s..s + n {
                    if !k.contains(x) {
                        g.insert(x);
                    }
                }
            }
            add_runs(&mut k, &w);
        }
        match &b.term {
            Term::Branch { c, .. } if !k.contains(*c) => g.insert(*c),
            Term::Switch { sel, .. } if !k.contains(*sel) => g.insert(*sel),
            Term::Fail { value: Some(v), .. } if !k.contains(*v) => g.insert(*v),
            _ => {}
        }
        gen_kill.push((g, k));
    }
    let mut live = vec![Set::new(slots); nb];
    let mut changed = true;
    while changed {
        changed = false;
        for bi in (0..nb).rev() {
            let b = &code.blocks[bi];
            let mut out = Set::new(slots);
            match &b.term {
                Term::Jump(e) => out.union(&through_edge(e, &live, slots)),
                Term::Branch { t, f, .. } => {
                    out.union(&through_edge(t, &live, slots));
                    out.union(&through_edge(f, &live, slots));
                }
                Term::Switch { cases, default, .. } => {
                    for (_, e) in cases {
                        out.union(&through_edge(e, &live, slots));
                    }
                    out.union(&through_edge(default, &live, slots));
                }
                Term::Barrier(n) | Term::SubgroupSync(n) => out.union(&live[*n as usize]),
                Term::Return | Term::Trap | Term::Fail { .. } => {}
            }
            let (g, k) = &gen_kill[bi];
            for (o, (kk, gg)) in out.0.iter_mut().zip(k.0.iter().zip(&g.0)) {
                *o = (*o & !kk) | gg;
            }
            if out != live[bi] {
                live[bi] = out;
                changed = true;
            }
        }
    }
    live
}

/// The slots some instruction or edge move writes.
pub(super) fn written(code: &Code) -> Set {
    let mut set = Set::new(code.slots);
    let mut w = Vec::new();
    for inst in &code.insts {
        w.clear();
        writes(code, inst, &mut w);
        add_runs(&mut set, &w);
    }
    for b in &code.blocks {
        let edges: Vec<&Edge> = match &b.term {
            Term::Jump(e) => vec![e],
            Term::Branch { t, f, .. } => vec![t, f],
            Term::Switch { cases, default, .. } => {
                cases.iter().map(|(_, e)| e).chain([default]).collect()
            }
            _ => vec![],
        };
        for e in edges {
            for m in &e.moves {
                add_runs(&mut set, &[(m.d, u32::from(m.n))]);
            }
        }
    }
    set
}

/// Per slot: the instruction that computes it, when a barrier need not save it because its
/// value can be computed again where the work-item resumes: the slot is written by exactly
/// one instruction (no edge move), a pure one (arithmetic, an address, a copy, a built-in
/// id) whose operands are read-only or themselves recomputable. Its operands never change
/// once computed, so computing it again gives the value the work-item had.
pub(super) fn recomputable(code: &Code, live: &[Set]) -> Vec<Option<u32>> {
    let n = code.slots as usize;
    let mut defs = vec![0u32; n];
    let mut def_at = vec![None; n];
    let mut w = Vec::new();
    for (idx, inst) in code.insts.iter().enumerate() {
        w.clear();
        writes(code, inst, &mut w);
        for &(s, k) in &w {
            for x in s..s + k {
                if let Some(c) = defs.get_mut(x as usize) {
                    *c += 1;
                    def_at[x as usize] = Some(idx as u32);
                }
            }
        }
    }
    for b in &code.blocks {
        let mut edge = |e: &Edge| {
            for m in &e.moves {
                for x in m.d..m.d + u32::from(m.n) {
                    if let Some(c) = defs.get_mut(x as usize) {
                        *c += 2;
                    }
                }
            }
        };
        match &b.term {
            Term::Jump(e) => edge(e),
            Term::Branch { t, f, .. } => {
                edge(t);
                edge(f);
            }
            Term::Switch { cases, default, .. } => {
                for (_, e) in cases {
                    edge(e);
                }
                edge(default);
            }
            _ => {}
        }
    }
    let pure = |inst: &Inst| match *inst {
        Inst::Bin { n, .. } | Inst::Un { n, .. } | Inst::Tern { n, .. } => n == 1,
        Inst::Copy { n, .. } | Inst::Select { n, .. } => n == 1,
        Inst::Builtin { n, comp, .. } => n == 1 || comp.is_some(),
        Inst::Gep { .. } => true,
        _ => false,
    };
    // A slot some path reaches a barrier without assigning (live at the entry: an
    // uninitialised variable assigned in one branch) keeps what it held there, not what its
    // definition would compute.
    let at_entry = live
        .get(code.entry as usize)
        .cloned()
        .unwrap_or_else(|| Set::new(code.slots));
    let mut cand: Vec<Option<u32>> = (0..n)
        .map(|s| match def_at[s] {
            Some(i)
                if defs[s] == 1
                    && pure(&code.insts[i as usize])
                    && !at_entry.contains(s as Slot) =>
            {
                Some(i)
            }
            _ => None,
        })
        .collect();
    let mut r = Vec::new();
    let mut changed = true;
    while changed {
        changed = false;
        for s in 0..n {
            let Some(i) = cand[s] else { continue };
            r.clear();
            reads(code, &code.insts[i as usize], &mut r);
            let ok = r.iter().all(|&(x, k)| {
                (x..x + k).all(|y| {
                    let y = y as usize;
                    y != s && y < n && (defs[y] == 0 || cand[y].is_some())
                })
            });
            if !ok {
                cand[s] = None;
                changed = true;
            }
        }
    }
    cand
}
