//! OpenCL.std vector data load and store functions: `vloadn`, `vstoren`, `vload_half`,
//! `vload_halfn`, `vloada_halfn`, `vstore_half[n]`, `vstorea_halfn` and their `_r` forms
//! (`Float16Buffer`: halves in memory, converted on the way in and out, with the `_r`
//! rounding operand). Each is an `Inst::Gep` to the element, then an `Inst::Load`/`Store`
//! (and an `Inst::Un` conversion for halves).

use super::{Dec, Instance, fk_of, space_of};
use crate::ir::{Inst, Slot};
use crate::module::{Res, Sc, op_id};
use crate::ops::{Fk, Rm, UnOp};
use rspirv::dr;

impl Dec<'_, '_> {
    /// `vloadn`, `vload_half`, `vload_halfn`, `vloada_halfn` (`name`).
    pub(super) fn vload(
        &mut self,
        inst: &mut Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
        name: &str,
    ) -> Res<()> {
        let md = self.md;
        let rt = i.result_type;
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: OpenCL.std {name} without a result"));
        let arg_id = |k: usize| op_id(i, k + 2);
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, arg_id($k)?)?
            };
        }
        let rsc = || -> Res<Sc> { md.scalar(rt.ok_or("missing result type")?) };
        let n = || -> Res<u16> { md.width(rt.ok_or("missing result type")?) };
        let off = a!(0);
        let pid = arg_id(1)?;
        let p = a!(1);
        let (sc, pointee) = self.ptr_info(pid)?;
        let space = space_of(sc)?;
        let count = n()?;
        let half = name != "vloadn";
        let esize = if half { 2 } else { md.scalar(pointee)?.bytes() };
        // vloada_half3 steps by 4 halves.
        let step = if name == "vloada_halfn" && count == 3 {
            4
        } else {
            count
        };
        let addr = self.alloc(1)?;
        let at = self.code.gep_terms.len() as u32;
        self.code
            .gep_terms
            .push((off, i64::from(step) * i64::from(esize), 64));
        self.emit(Inst::Gep {
            d: addr,
            base: p,
            off: 0,
            at,
            len: 1,
        })?;
        let site = self.site();
        if half {
            let tmp = self.alloc(usize::from(count))?;
            self.emit(Inst::Load {
                d: tmp,
                p: addr,
                size: 2,
                n: count,
                stride: 2,
                space,
                site,
            })?;
            let to = fk_of(rsc()?)?;
            self.emit(Inst::Un {
                op: UnOp::FToF(Fk::H, to, Rm::Rte),
                d: d()?,
                a: tmp,
                n: count,
            })
        } else {
            self.emit(Inst::Load {
                d: d()?,
                p: addr,
                size: esize,
                n: count,
                stride: u16::from(esize),
                space,
                site,
            })?;
            self.mask_loaded(d()?, rt.ok_or("missing result type")?)
        }
    }

    /// `vstoren`, `vstore_half[n][_r]`, `vstorea_halfn[_r]` (`name`).
    pub(super) fn vstore(
        &mut self,
        inst: &mut Instance,
        i: &dr::Instruction,
        _res: Option<Slot>,
        name: &str,
    ) -> Res<()> {
        let md = self.md;
        let arg_id = |k: usize| op_id(i, k + 2);
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, arg_id($k)?)?
            };
        }
        let vid = arg_id(0)?;
        let v = a!(0);
        let off = a!(1);
        let pid = arg_id(2)?;
        let p = a!(2);
        let (sc, pointee) = self.ptr_info(pid)?;
        let space = space_of(sc)?;
        let vt = self.ty_of(vid)?;
        let count = md.width(vt)?;
        let half = name != "vstoren";
        let esize = if half { 2 } else { md.scalar(pointee)?.bytes() };
        let step = if name.starts_with("vstorea") && count == 3 {
            4
        } else {
            count
        };
        let addr = self.alloc(1)?;
        let at = self.code.gep_terms.len() as u32;
        self.code
            .gep_terms
            .push((off, i64::from(step) * i64::from(esize), 64));
        self.emit(Inst::Gep {
            d: addr,
            base: p,
            off: 0,
            at,
            len: 1,
        })?;
        let site = self.site();
        if half {
            let rm = if name.ends_with("_r") {
                crate::operands::rounding_operand(name, i.operands.get(5))?
            } else {
                Rm::Rte
            };
            let from = fk_of(md.scalar(vt)?)?;
            let tmp = self.alloc(usize::from(count))?;
            self.emit(Inst::Un {
                op: UnOp::FToF(from, Fk::H, rm),
                d: tmp,
                a: v,
                n: count,
            })?;
            self.emit(Inst::Store {
                p: addr,
                v: tmp,
                size: 2,
                n: count,
                stride: 2,
                space,
                site,
            })
        } else {
            self.emit(Inst::Store {
                p: addr,
                v,
                size: esize,
                n: count,
                stride: u16::from(esize),
                space,
                site,
            })
        }
    }
}
