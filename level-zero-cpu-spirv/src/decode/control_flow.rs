//! Control flow: the block terminators `OpBranch`, `OpBranchConditional`, `OpSwitch`,
//! `OpReturn`, `OpReturnValue` (a jump back to the caller's continuation when inlined),
//! `OpUnreachable` (`Term::Trap`), the merge hints `OpLoopMerge`/`OpSelectionMerge`, and
//! `OpPhi` (moves on the incoming edges, with parallel-copy semantics). `OpKill` and
//! `OpTerminateInvocation` are refused (fragment shaders only).
//!
//! Once a kernel is decoded, its blocks are ordered for reconvergence ([`Dec::order`]).

use super::{Dec, Instance, int_bits};
use crate::ir::{Block, Edge, Move, Term};
use crate::module::{Res, op_id, op_lit};
use crate::ops::mask;
use rspirv::dr;
use rspirv::spirv::{Op, Word};
use std::collections::{HashMap, HashSet};

/// Where the decoder is in a SPIR-V block: the decoded block being filled (`cur`, from
/// instruction `start`; a call or a barrier starts a new one), whether the SPIR-V block has
/// ended, and its merge block (a hint for [`Dec::order`]).
pub(super) struct Cursor {
    pub(super) cur: u32,
    pub(super) start: u32,
    pub(super) terminated: bool,
    pub(super) hint: Option<u32>,
}

impl Dec<'_, '_> {
    /// Decodes `i` if it is a terminator, a merge hint or an `OpPhi` (allocated in pass 1,
    /// `function.rs`; its moves are made on the edges).
    pub(super) fn control_flow(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        label: Word,
        at: &mut Cursor,
    ) -> Res<bool> {
        match i.class.opcode {
            Op::Phi => {}
            Op::LoopMerge | Op::SelectionMerge => {
                at.hint = inst.labels.get(&op_id(i, 0)?).copied();
            }
            Op::Branch => {
                let e = self.edge(inst, op_id(i, 0)?, label)?;
                self.finish(at.cur, at.start, Term::Jump(e))?;
                at.terminated = true;
            }
            Op::BranchConditional => {
                let c = self.slot(inst, op_id(i, 0)?)?;
                let t = self.edge(inst, op_id(i, 1)?, label)?;
                let f = self.edge(inst, op_id(i, 2)?, label)?;
                self.finish(at.cur, at.start, Term::Branch { c, t, f })?;
                at.terminated = true;
            }
            Op::Switch => {
                let sel_id = op_id(i, 0)?;
                let sel = self.slot(inst, sel_id)?;
                let w = int_bits(self.md.scalar(self.ty_of(sel_id)?)?);
                let default = self.edge(inst, op_id(i, 1)?, label)?;
                let mut cases = Vec::new();
                let mut k = 2;
                while k + 1 < i.operands.len() {
                    let v = op_lit(i, k)? & mask(w);
                    let e = self.edge(inst, op_id(i, k + 1)?, label)?;
                    cases.push((v, e));
                    k += 2;
                }
                self.finish(
                    at.cur,
                    at.start,
                    Term::Switch {
                        sel,
                        cases,
                        default,
                    },
                )?;
                at.terminated = true;
            }
            Op::Return | Op::ReturnValue => {
                let term = match inst.cont {
                    None => Term::Return,
                    Some(c) => {
                        let mut moves = vec![];
                        if i.class.opcode == Op::ReturnValue
                            && let Some((d, n)) = inst.ret
                        {
                            let s = self.slot(inst, op_id(i, 0)?)?;
                            if s != d {
                                moves.push(Move { d, s, n });
                            }
                        }
                        Term::Jump(Edge { to: c, moves })
                    }
                };
                self.finish(at.cur, at.start, term)?;
                at.terminated = true;
            }
            Op::Unreachable => {
                self.finish(at.cur, at.start, Term::Trap)?;
                at.terminated = true;
            }
            Op::Kill | Op::TerminateInvocation => {
                return Err(format!(
                    "unsupported instruction Op{:?} (fragment shaders only)",
                    i.class.opcode
                ));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn finish(&mut self, idx: u32, start: u32, term: Term) -> Res<()> {
        let end = self.code.insts.len() as u32;
        match self.blocks.get_mut(idx as usize) {
            Some(b @ None) => {
                *b = Some(Block { start, end, term });
                Ok(())
            }
            _ => Err("invalid SPIR-V: a block is defined twice".into()),
        }
    }

    /// The edge to `to` (a label of this instance) from the SPIR-V block `from`.
    pub(super) fn edge(&mut self, inst: &Instance, to: Word, from: Word) -> Res<Edge> {
        let target = *inst.labels.get(&to).ok_or_else(|| {
            format!("invalid SPIR-V: branch to %{to}, not a block of this function")
        })?;
        let mut moves = Vec::new();
        if let Some(phis) = inst.phis.get(&to) {
            let mut pairs = Vec::new();
            for p in phis {
                let v = p
                    .incoming
                    .iter()
                    .find(|(_, pred)| *pred == from)
                    .map(|(v, _)| *v)
                    .ok_or_else(|| {
                        format!(
                            "invalid SPIR-V: OpPhi in %{to} has no value for predecessor %{from}"
                        )
                    })?;
                let s = self.slot(inst, v)?;
                if s != p.d {
                    pairs.push(Move { d: p.d, s, n: p.n });
                }
            }
            // Parallel-copy semantics: when a destination is also read by another move,
            // go through temporaries.
            let overlaps =
                |a: &Move, b: &Move| a.d < b.s + u32::from(b.n) && b.s < a.d + u32::from(a.n);
            let conflict = pairs.iter().any(|a| pairs.iter().any(|b| overlaps(a, b)));
            if conflict {
                let mut second = Vec::new();
                for m in &pairs {
                    let t = self.alloc(usize::from(m.n))?;
                    moves.push(Move {
                        d: t,
                        s: m.s,
                        n: m.n,
                    });
                    second.push(Move {
                        d: m.d,
                        s: t,
                        n: m.n,
                    });
                }
                moves.extend(second);
            } else {
                moves = pairs;
            }
        }
        Ok(Edge { to: target, moves })
    }

    /// Orders blocks (reverse post-order, merge blocks and loop exits last), drops
    /// unreachable ones and renumbers every reference.
    pub(super) fn order(&mut self) -> Res<()> {
        let n = self.blocks.len();
        let mut blocks = Vec::with_capacity(n);
        for b in self.blocks.drain(..) {
            blocks.push(b.ok_or("internal: a block was never filled")?);
        }
        let succ = |b: &Block| -> Vec<u32> {
            match &b.term {
                Term::Jump(e) => vec![e.to],
                Term::Branch { t, f, .. } => vec![t.to, f.to],
                Term::Switch { cases, default, .. } => {
                    let mut v = vec![default.to];
                    v.extend(cases.iter().map(|(_, e)| e.to));
                    v
                }
                Term::Barrier(next) | Term::SubgroupSync(next) => vec![*next],
                Term::Return | Term::Trap | Term::Fail { .. } => vec![],
            }
        };
        let succs: Vec<Vec<u32>> = blocks.iter().map(succ).collect();
        // Loop membership (natural loops of DFS back edges), for the visiting order.
        let loops = if n <= 4096 {
            loop_sets(&succs, self.code.entry as usize)
        } else {
            vec![]
        };
        let mut in_loops: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (li, set) in loops.iter().enumerate() {
            for &b in set {
                in_loops[b].push(li);
            }
        }
        let is_exit =
            |from: usize, to: usize| in_loops[from].iter().any(|l| !loops[*l].contains(&to));
        // Iterative DFS; children visited first end up later in the order.
        let mut post = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        let entry = self.code.entry as usize;
        let mut stack: Vec<(usize, Vec<u32>)> = Vec::new();
        let order_succ = |b: usize| -> Vec<u32> {
            // Visit order: merge hint, loop exits, then the rest in reverse.
            let mut v: Vec<u32> = succs[b].clone();
            v.reverse();
            v.sort_by_key(|&s| {
                let s = s as usize;
                if Some(s as u32) == self.hints[b] {
                    0
                } else if is_exit(b, s) {
                    1
                } else {
                    2
                }
            });
            // The stack pops from the back: reverse so the first wanted is visited first.
            v.reverse();
            v
        };
        seen[entry] = true;
        stack.push((entry, order_succ(entry)));
        while let Some((b, rest)) = stack.last_mut() {
            if let Some(s) = rest.pop() {
                let s = s as usize;
                if !seen[s] {
                    seen[s] = true;
                    let o = order_succ(s);
                    stack.push((s, o));
                }
            } else {
                post.push(*b);
                stack.pop();
            }
        }
        post.reverse();
        let mut new_index = vec![u32::MAX; n];
        for (k, &b) in post.iter().enumerate() {
            new_index[b] = k as u32;
        }
        let fix = |e: &mut Edge| e.to = new_index[e.to as usize];
        let mut out = Vec::with_capacity(post.len());
        for &b in &post {
            let mut blk = blocks[b].clone();
            match &mut blk.term {
                Term::Jump(e) => fix(e),
                Term::Branch { t, f, .. } => {
                    fix(t);
                    fix(f);
                }
                Term::Switch { cases, default, .. } => {
                    fix(default);
                    for (_, e) in cases {
                        fix(e);
                    }
                }
                Term::Barrier(next) | Term::SubgroupSync(next) => *next = new_index[*next as usize],
                Term::Return | Term::Trap | Term::Fail { .. } => {}
            }
            out.push(blk);
        }
        self.code.blocks = out;
        self.code.entry = 0;
        Ok(())
    }
}

/// Natural loops: for each DFS back edge u -> h, the blocks that reach u without passing h.
fn loop_sets(succs: &[Vec<u32>], entry: usize) -> Vec<HashSet<usize>> {
    let n = succs.len();
    let mut preds = vec![Vec::new(); n];
    for (b, ss) in succs.iter().enumerate() {
        for &s in ss {
            preds[s as usize].push(b);
        }
    }
    // DFS for back edges.
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut back = Vec::new();
    let mut stack = vec![(entry, 0usize)];
    state[entry] = 1;
    while let Some((b, k)) = stack.last_mut() {
        let b = *b;
        if let Some(&s) = succs[b].get(*k) {
            *k += 1;
            let s = s as usize;
            match state[s] {
                0 => {
                    state[s] = 1;
                    stack.push((s, 0));
                }
                1 => back.push((b, s)),
                _ => {}
            }
        } else {
            state[b] = 2;
            stack.pop();
        }
    }
    let mut by_header: HashMap<usize, HashSet<usize>> = HashMap::new();
    for (latch, h) in back {
        let set = by_header.entry(h).or_insert_with(|| HashSet::from([h]));
        let mut work = vec![latch];
        while let Some(x) = work.pop() {
            if set.insert(x) {
                work.extend(preds[x].iter().copied());
            }
        }
    }
    by_header.into_values().collect()
}
