//! Control flow and the scheduler: how a block ends (`Term`: `OpBranch`,
//! `OpBranchConditional`, `OpSwitch`, `OpReturn[Value]`, `OpUnreachable`; `OpPhi` as moves on
//! the edges) and work-group barriers (`OpControlBarrier` with `Workgroup` scope ends a
//! block, `Term::Barrier`).
//!
//! Every lane has a current block; the executor keeps one lane list per block and always
//! runs the lowest-numbered block that has lanes, for all of them at once. Lanes at a barrier
//! wait until no lane can run, then all continue. Lanes at a sub-group meeting point
//! (`Term::SubgroupSync`: a sub-group barrier, or before a collective every member of the
//! sub-group must reach) wait the same way but continue first, before the lanes at
//! work-group barriers: a sub-group that meets never lets a work-group barrier open early.

use super::lanes::copy;
use super::{Exec, Stop};
use crate::ArgValue;
use crate::ir::{Move, Param, Term};

impl Exec<'_> {
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

    /// Prepares work-group `group`: its by-value arguments in private memory, its local
    /// memory zeroed (what both engines do before the group's first instruction).
    pub(crate) fn begin_group(&mut self, group: [u32; 3]) {
        self.group = group;
        let code = self.sh.code;
        for &s in &code.undefined_at_entry {
            let at = s as usize * self.lanes;
            if let Some(r) = self.regs.get_mut(at..at + self.lanes) {
                r.fill(0);
            }
        }
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
    }

    /// Runs one work-group to completion.
    pub(crate) fn run_group(&mut self, group: [u32; 3]) -> Result<(), Stop> {
        self.begin_group(group);
        let code = self.sh.code;
        for l in &mut self.lists {
            l.clear();
        }
        self.bits.fill(0);
        self.waiting.clear();
        self.meeting.clear();
        self.done.fill(false);
        self.done_count = 0;
        let all = std::mem::take(&mut self.all);
        self.push(code.entry, &all);
        self.all = all;
        loop {
            let b = match self.first_block() {
                Some(b) => b,
                None => {
                    // No lane can run: lanes at sub-group meeting points continue first
                    // (their sub-groups are complete: every other lane waits or is done);
                    // lanes at work-group barriers only once every live lane is at one.
                    let queue = if !self.meeting.is_empty() {
                        &mut self.meeting
                    } else if !self.waiting.is_empty() {
                        &mut self.waiting
                    } else {
                        self.flush_printf();
                        return Ok(());
                    };
                    let released = std::mem::take(queue);
                    self.flush_printf();
                    for &lane in &released {
                        let nb = self.wait_next[lane as usize];
                        self.push(nb, &[lane]);
                    }
                    self.recycle(released);
                    continue;
                }
            };
            let act = std::mem::replace(&mut self.lists[b], self.spare.pop().unwrap_or_default());
            self.bits[b / 64] &= !(1 << (b % 64));
            if let Err(e) = self.run_block(b, act) {
                self.flush_printf();
                return Err(e);
            }
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
            Term::Return => {
                for &lane in &act {
                    self.done[lane as usize] = true;
                }
                self.done_count += act.len();
                self.recycle(act);
            }
            Term::Barrier(next) => {
                for &lane in &act {
                    self.wait_next[lane as usize] = *next;
                }
                self.waiting.extend_from_slice(&act);
                self.recycle(act);
            }
            Term::SubgroupSync(next) => {
                for &lane in &act {
                    self.wait_next[lane as usize] = *next;
                }
                self.meeting.extend_from_slice(&act);
                self.recycle(act);
            }
            Term::Trap => return Err(Stop::Failed("a work-item reached OpUnreachable".into())),
            Term::Fail { value, .. } => {
                let x = match (value, act.first()) {
                    (Some(v), Some(&lane)) => self.regs[*v as usize * self.lanes + lane as usize],
                    _ => 0,
                };
                return Err(self.fail_message(b, x));
            }
        }
        Ok(())
    }

    /// The failure of a lane that reached `Term::Fail` at block `block`, whose value slot
    /// (if it names one) holds `value`.
    pub(crate) fn fail_message(&self, block: usize, value: u64) -> Stop {
        match &self.sh.code.blocks[block].term {
            Term::Fail {
                msg,
                value: Some(_),
            } => Stop::Failed(format!("{msg}: {value:#x}")),
            Term::Fail { msg, value: None } => Stop::Failed(msg.clone()),
            _ => Stop::Failed("a work-item stopped at a block that does not fail (a bug)".into()),
        }
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
}
