//! OpenCL.std `printf`: `Inst::Printf`. The format string is run-time data, read through
//! the sanitizer; the formatting is `crate::printf`; the text goes to the group's output,
//! which the launch writes out after the group. The result is 0, or -1 when the format
//! string cannot be read.

use super::lanes::s;
use super::{Exec, Stop};
use crate::ir::{ArgScalar, PrintfCall, Slot};
use crate::mem::{self, Fault, Space};
use crate::{ops, printf};

impl Exec<'_> {
    /// `Inst::Printf`: `Code::printfs[call]`, one lane after the other.
    #[inline(always)]
    pub(super) fn printf_call(&mut self, d: Slot, call: u32, act: &[u32]) -> Result<(), Stop> {
        let l = self.lanes;
        let code = self.sh.code;
        let pc = &code.printfs[call as usize];
        for &lane in act {
            let i = lane as usize;
            let r = self.printf(pc, i);
            self.regs[s(d, l) + i] = match r {
                Ok(()) => 0,
                Err(Stop::Oob { .. }) => 0xffff_ffff,
                Err(e) => return Err(e),
            };
        }
        Ok(())
    }

    #[inline]
    fn printf(&mut self, pc: &PrintfCall, lane: usize) -> Result<(), Stop> {
        let l = self.lanes;
        let site = pc.site as usize;
        let fmt_addr = self.regs[s(pc.fmt, l) + lane];
        let fmt = self.read_cstr(fmt_addr, lane, site).ok_or(Stop::Oob {
            lane,
            fault: Fault {
                address: fmt_addr,
                size: 1,
                read_only: false,
            },
            write: false,
        })?;
        let mut args = Vec::new();
        for a in &pc.args {
            let get = |k: u32| self.regs[s(a.slot + k, l) + lane];
            let one = |v: u64| match a.kind {
                ArgScalar::Int(w) => printf::Arg::Int(v, w),
                ArgScalar::Float(k) => printf::Arg::Float(ops::float_to_f64(k, v)),
                ArgScalar::Ptr => printf::Arg::Ptr(v),
            };
            if a.n == 1 {
                args.push(one(get(0)));
            } else {
                args.push(printf::Arg::Vector(
                    (0..u32::from(a.n)).map(|k| one(get(k))).collect(),
                ));
            }
        }
        let text = {
            let mut read = |p: u64| self.read_cstr(p, lane, site);
            printf::format(&fmt, &args, &mut read).map_err(Stop::Failed)?
        };
        self.lane_out[lane].extend_from_slice(&text);
        self.printed = true;
        Ok(())
    }

    #[inline]
    fn read_cstr(&mut self, addr: u64, lane: usize, site: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut a = addr;
        loop {
            let c = self.mem.check(Space::Generic, a, 1, lane, site).ok()?;
            let b = mem::read(c) as u8;
            if b == 0 || out.len() >= 1 << 16 {
                return Some(out);
            }
            out.push(b);
            a = a.wrapping_add(1);
        }
    }
}
