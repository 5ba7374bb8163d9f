//! Group instructions (work-group collectives): `OpGroupAsyncCopy` (`Inst::AsyncCopy`,
//! done at once by the first active lane; `Workgroup` scope only, `operands.rs`) and
//! `OpGroupWaitEvents` (a fence), both `Kernel`. The `Groups` capability
//! (`OpGroupAll/Any/Broadcast`, `OpGroupIAdd/FAdd/...`) and `GroupUniformArithmeticKHR`
//! belong here; sub-group (`GroupNonUniform*`, `SubgroupShuffleINTEL`) instructions in a
//! `subgroups.rs` beside it.

use super::{Dec, Instance, space_of};
use crate::ir::{Inst, Slot};
use crate::module::{Res, op_id};
use rspirv::dr;
use rspirv::spirv::{Op, StorageClass};

impl Dec<'_, '_> {
    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn groups(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let md = self.md;
        let op = i.class.opcode;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        match op {
            // Events complete at once (the copy is done when it is issued): a fence.
            Op::GroupWaitEvents => self.emit(Inst::Fence)?,
            Op::GroupAsyncCopy => {
                let (dp, sp) = (op_id(i, 1)?, op_id(i, 2)?);
                let (dsc, dt) = self.ptr_info(dp)?;
                let (ssc, _) = self.ptr_info(sp)?;
                let esize = u32::try_from(md.stride(dt)?).map_err(|_| "element too large")?;
                let (dst, src, n, stride) = (a!(1), a!(2), a!(3), a!(4));
                let site = self.site();
                self.emit(Inst::AsyncCopy {
                    d: d()?,
                    dst,
                    src,
                    n,
                    stride,
                    esize,
                    dst_strided: dsc != StorageClass::Workgroup,
                    dspace: space_of(dsc)?,
                    sspace: space_of(ssc)?,
                    site,
                })?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
