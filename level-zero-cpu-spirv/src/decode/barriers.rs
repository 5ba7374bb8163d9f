//! Barrier instructions: `OpControlBarrier` (it ends the block: a `Workgroup` one with
//! `Term::Barrier`, the scheduler's synchronisation point, a `Subgroup` one with
//! `Term::SubgroupSync`; other scopes are refused, `operands.rs`) and
//! `OpMemoryBarrier` (a fence: `Inst::Fence`). `OpMemoryNamedBarrier` is refused.

use super::Dec;
use super::control_flow::Cursor;
use crate::ir::{GroupScope, Inst};
use crate::module::Res;
use rspirv::dr;

impl Dec<'_, '_> {
    /// `OpControlBarrier`.
    pub(super) fn control_barrier(&mut self, i: &dr::Instruction, at: &mut Cursor) -> Res<()> {
        // Other scopes are refused (operands.rs).
        let scope = match crate::operands::execution_scope(self.md, i, 0)? {
            crate::operands::ExecScope::Workgroup => GroupScope::Workgroup,
            crate::operands::ExecScope::Subgroup => GroupScope::Subgroup,
        };
        self.meet(scope, at)
    }

    /// `OpMemoryBarrier`: every fence is sequentially consistent (`operands.rs`).
    pub(super) fn memory_barrier(&mut self) -> Res<()> {
        self.emit(Inst::Fence)
    }
}
