//! The `ExpectAssumeKHR` capability (`SPV_KHR_expect_assume`): hints only.
//! `OpAssumeTrueKHR` does nothing; `OpExpectKHR` is its value operand (usually sharing its
//! slots: copy propagation, `passes.rs`).

use super::{Dec, Instance};
use crate::ir::Slot;
use crate::module::{Res, op_id, result_type};
use rspirv::dr;
use rspirv::spirv::Op;

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn expect_assume(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let op = i.class.opcode;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        match op {
            // SPV_KHR_expect_assume: a promise that the condition holds (undefined behaviour
            // if not), which only permits optimisation; nothing to run.
            Op::AssumeTrueKHR => {}
            // SPV_KHR_expect_assume: the result is Value (operand 0); ExpectedValue (operand
            // 1) is a branch-prediction hint. Usually shares Value's slots (copy propagation).
            Op::ExpectKHR => {
                let n = self.comps(result_type(i)?)?;
                let s = a!(0);
                self.copy(d()?, s, n)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
