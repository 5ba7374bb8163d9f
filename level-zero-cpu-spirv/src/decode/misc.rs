//! Miscellaneous and debug instructions: `OpNop`, `OpUndef` (reads as zero: any value is
//! allowed), `OpSizeOf` (`Addresses`: the pointee's OpenCL C size, padding included), and
//! the debug `OpLine`, `OpNoLine`, `OpName` inside functions (nothing to run).

use super::{Dec, Instance, int_bits};
use crate::ir::Slot;
use crate::module::{Res, Sc, op_id, result_type};
use crate::ops::mask;
use rspirv::dr;
use rspirv::spirv::{Op, Word};

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn misc(
        &mut self,
        _inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let md = self.md;
        let op = i.class.opcode;
        let rt = i.result_type;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        let sc_of = |t: Option<Word>| -> Res<Sc> {
            md.scalar(t.ok_or("invalid SPIR-V: missing result type")?)
        };
        match op {
            Op::Nop | Op::Line | Op::NoLine | Op::Name => {}
            Op::Undef => {
                let t = result_type(i)?;
                let n = self.comps(t)?;
                let words = vec![0; usize::from(n)];
                let s = self.consts(&words)?;
                self.copy(d()?, s, n)?;
            }
            Op::SizeOf => {
                let (_, pointee) = self.ptr_info(op_id(i, 0)?)?;
                let size = md.size_align(pointee, 0)?.0;
                let c = self.const_u64(size & mask(int_bits(sc_of(rt)?)))?;
                self.copy(d()?, c, 1)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
