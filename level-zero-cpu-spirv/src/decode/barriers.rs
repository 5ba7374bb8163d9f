//! Barrier instructions: `OpControlBarrier` (a `Workgroup` one ends the block:
//! `Term::Barrier`, the scheduler's synchronisation point; a `Subgroup` one is a fence, a
//! sub-group being one work-item; other scopes are refused, `operands.rs`) and
//! `OpMemoryBarrier` (a fence: `Inst::Fence`). `OpMemoryNamedBarrier` is refused.

use super::Dec;
use super::control_flow::Cursor;
use crate::ir::{Inst, Term};
use crate::module::Res;
use rspirv::dr;

impl Dec<'_, '_> {
    /// `OpControlBarrier`.
    pub(super) fn control_barrier(&mut self, i: &dr::Instruction, at: &mut Cursor) -> Res<()> {
        // A sub-group is one work-item here, so a sub-group barrier is only
        // a fence; other scopes are refused (operands.rs).
        if crate::operands::execution_scope(self.md, i, 0)? == crate::operands::ExecScope::Workgroup
        {
            let next = self.new_block();
            self.finish(at.cur, at.start, Term::Barrier(next))?;
            self.code.has_barrier = true;
            at.cur = next;
            at.start = self.code.insts.len() as u32;
        } else {
            self.emit(Inst::Fence)?;
        }
        Ok(())
    }

    /// `OpMemoryBarrier`: every fence is sequentially consistent (`operands.rs`).
    pub(super) fn memory_barrier(&mut self) -> Res<()> {
        self.emit(Inst::Fence)
    }
}
