//! OpenCL.std `printf`: the format string pointer and the typed arguments are recorded in
//! `Code::printfs`; the interpreter reads the format at run time (`exec/printf.rs`) and
//! formats with `crate::printf`.

use super::{Dec, Instance};
use crate::ir::{ArgScalar, Inst, PrintfArg, PrintfCall, Slot};
use crate::module::{Res, Sc, op_id};
use rspirv::dr;

impl Dec<'_, '_> {
    /// `printf(format, args...)`: `Inst::Printf` over a `Code::printfs` entry.
    pub(super) fn printf(
        &mut self,
        inst: &mut Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<()> {
        let md = self.md;
        let arg_id = |k: usize| op_id(i, k + 2);
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, arg_id($k)?)?
            };
        }
        let fmt = a!(0);
        let mut args = Vec::new();
        for k in 3..i.operands.len() {
            let aid = op_id(i, k)?;
            let t = self.ty_of(aid)?;
            let sc = md.scalar(t)?;
            let kind = match sc {
                Sc::Bool => ArgScalar::Int(8),
                Sc::Int(w) => ArgScalar::Int(w),
                Sc::Float(k) => ArgScalar::Float(k),
                Sc::Ptr => ArgScalar::Ptr,
            };
            let slot = self.slot(inst, aid)?;
            args.push(PrintfArg {
                slot,
                n: md.width(t)?,
                kind,
            });
        }
        let site = self.site();
        let call = self.code.printfs.len() as u32;
        self.code.printfs.push(PrintfCall { fmt, args, site });
        let dd = match res {
            Some(s) => s,
            None => self.alloc(1)?,
        };
        self.emit(Inst::Printf { d: dd, call })
    }
}
