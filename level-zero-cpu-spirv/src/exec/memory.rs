//! Memory instructions (`OpLoad`, `OpStore`, the access chains, `OpCopyMemory[Sized]`,
//! `vloadn`/`vstoren`/`vload_half`/`vstore_half` after decoding): `Inst::Gep`, `Inst::Load`,
//! `Inst::Store`, the fused `Inst::LoadIdx`/`Inst::StoreIdx`, the aggregate
//! `Inst::LoadAgg`/`Inst::StoreAgg` and `Inst::CopyMem`.
//!
//! Every access is checked by the sanitizer (`crate::mem`) before it happens; each access
//! site keeps the allocation it hit last (`Memory::hint`), so the common case is two compares
//! per lane. Loads and stores are generic over the access size (1, 2, 4, 8 bytes).

use super::lanes::{overlaps, s, split1, split2};
use super::{Exec, Stop};
use crate::ir::Slot;
use crate::mem::{self, Space};
use crate::ops::sext;

/// A fused address: `base + off + sext(idx, w) * scale`.
#[derive(Clone, Copy)]
struct Addr {
    base: Slot,
    idx: Slot,
    w: u8,
    scale: i64,
    off: i64,
}

impl Exec<'_> {
    /// An access chain: `d = base + off + sum(sext(idx) * stride)` over
    /// `Code::gep_terms[at..at + len]`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn gep(
        &mut self,
        d: Slot,
        base: Slot,
        off: i64,
        at: u32,
        len: u16,
        act: &[u32],
        full: bool,
    ) {
        let l = self.lanes;
        let code = self.sh.code;
        if len == 1 && full {
            let (t, stride, w) = code.gep_terms[at as usize];
            let (ds, bs, ts) = (s(d, l), s(base, l), s(t, l));
            if !overlaps(ds, bs, l) && !overlaps(ds, ts, l) {
                let (dst, b, x) = split2(&mut self.regs, ds, bs, ts, l);
                let sh = 64 - u32::from(w.min(64));
                for ((o, &b), &x) in dst.iter_mut().zip(b).zip(x) {
                    let x = ((x << sh) as i64) >> sh;
                    *o = b
                        .wrapping_add(off as u64)
                        .wrapping_add(x.wrapping_mul(stride) as u64);
                }
            } else {
                for i in 0..l {
                    let x = sext(self.regs[ts + i], w);
                    self.regs[ds + i] = self.regs[bs + i]
                        .wrapping_add(off as u64)
                        .wrapping_add(x.wrapping_mul(stride) as u64);
                }
            }
        } else {
            let terms = &code.gep_terms[at as usize..at as usize + usize::from(len)];
            let (ds, bs) = (s(d, l), s(base, l));
            for &lane in act {
                let i = lane as usize;
                let mut v = self.regs[bs + i].wrapping_add(off as u64);
                for &(t, stride, w) in terms {
                    let x = sext(self.regs[s(t, l) + i], w);
                    v = v.wrapping_add(x.wrapping_mul(stride) as u64);
                }
                self.regs[ds + i] = v;
            }
        }
    }

    /// `Inst::Load`: `n` components of `size` bytes at `p + k * stride`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn load_any(
        &mut self,
        d: Slot,
        p: Slot,
        size: u8,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        match size {
            1 => self.load::<1>(d, p, n, stride, space, site, act, full),
            2 => self.load::<2>(d, p, n, stride, space, site, act, full),
            4 => self.load::<4>(d, p, n, stride, space, site, act, full),
            _ => self.load::<8>(d, p, n, stride, space, site, act, full),
        }
    }

    /// `Inst::Store`: `n` components of `size` bytes at `p + k * stride`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn store_any(
        &mut self,
        p: Slot,
        v: Slot,
        size: u8,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        match size {
            1 => self.store::<1>(p, v, n, stride, space, site, act, full),
            2 => self.store::<2>(p, v, n, stride, space, site, act, full),
            4 => self.store::<4>(p, v, n, stride, space, site, act, full),
            _ => self.store::<8>(p, v, n, stride, space, site, act, full),
        }
    }

    /// `Inst::LoadIdx`: a scalar load from `base + off + sext(idx, w) * scale`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn load_idx_any(
        &mut self,
        d: Slot,
        base: Slot,
        idx: Slot,
        w: u8,
        scale: i64,
        off: i64,
        size: u8,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        let a = Addr {
            base,
            idx,
            w,
            scale,
            off,
        };
        match size {
            1 => self.load_idx::<1>(d, a, space, site, act, full),
            2 => self.load_idx::<2>(d, a, space, site, act, full),
            4 => self.load_idx::<4>(d, a, space, site, act, full),
            _ => self.load_idx::<8>(d, a, space, site, act, full),
        }
    }

    /// `Inst::StoreIdx`: a scalar store to `base + off + sext(idx, w) * scale`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn store_idx_any(
        &mut self,
        base: Slot,
        idx: Slot,
        w: u8,
        scale: i64,
        off: i64,
        v: Slot,
        size: u8,
        space: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let a = Addr {
            base,
            idx,
            w,
            scale,
            off,
        };
        match size {
            1 => self.store_idx::<1>(v, a, space, site, act),
            2 => self.store_idx::<2>(v, a, space, site, act),
            4 => self.store_idx::<4>(v, a, space, site, act),
            _ => self.store_idx::<8>(v, a, space, site, act),
        }
    }

    /// `Inst::LoadAgg`: the scalar leaves of an aggregate (layout `Code::layouts[layout]`).
    #[inline(always)]
    pub(super) fn load_agg(
        &mut self,
        d: Slot,
        p: Slot,
        layout: u32,
        space: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let code = self.sh.code;
        let lay = &code.layouts[layout as usize];
        let span = code.layout_spans[layout as usize];
        let ps = s(p, l);
        for &lane in act {
            let i = lane as usize;
            let addr = self.regs[ps + i];
            let c = self
                .mem
                .check(space, addr, span, i, site as usize)
                .map_err(|fault| Stop::Oob {
                    lane: i,
                    fault,
                    write: false,
                })?;
            for (k, &(o, sz)) in lay.iter().enumerate() {
                self.regs[s(d + k as u32, l) + i] = mem::read(c.part(u64::from(o), u64::from(sz)));
            }
        }
        Ok(())
    }

    /// `Inst::StoreAgg`: the scalar leaves of an aggregate.
    #[inline(always)]
    pub(super) fn store_agg(
        &mut self,
        p: Slot,
        v: Slot,
        layout: u32,
        space: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let code = self.sh.code;
        let lay = &code.layouts[layout as usize];
        let span = code.layout_spans[layout as usize];
        let ps = s(p, l);
        for &lane in act {
            let i = lane as usize;
            let addr = self.regs[ps + i];
            let c = self
                .mem
                .check_write(space, addr, span, i, site as usize)
                .map_err(|fault| Stop::Oob {
                    lane: i,
                    fault,
                    write: true,
                })?;
            for (k, &(o, sz)) in lay.iter().enumerate() {
                mem::write(
                    c.part(u64::from(o), u64::from(sz)),
                    self.regs[s(v + k as u32, l) + i],
                );
            }
        }
        Ok(())
    }

    /// `Inst::CopyMem` (`OpCopyMemory[Sized]`): `len` bytes, or `len_slot`'s value.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn copy_mem(
        &mut self,
        dst: Slot,
        src: Slot,
        len: u64,
        len_slot: Option<Slot>,
        dspace: Space,
        sspace: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let l = self.lanes;
        for &lane in act {
            let i = lane as usize;
            let n = match len_slot {
                Some(ls) => self.regs[s(ls, l) + i],
                None => len,
            };
            if n == 0 {
                continue;
            }
            let (da, sa) = (self.regs[s(dst, l) + i], self.regs[s(src, l) + i]);
            let dc = self
                .mem
                .check_write(dspace, da, n, i, site as usize)
                .map_err(|fault| Stop::Oob {
                    lane: i,
                    fault,
                    write: true,
                })?;
            let sc = self
                .mem
                .check(sspace, sa, n, i, site as usize)
                .map_err(|fault| Stop::Oob {
                    lane: i,
                    fault,
                    write: false,
                })?;
            mem::copy(dc, sc);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn load<const N: usize>(
        &mut self,
        d: Slot,
        p: Slot,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let ps = s(p, l);
        let span = u64::from(n - 1) * u64::from(stride) + N as u64;
        let ds = s(d, l);
        let site = site as usize;
        // Local borrows: the compiler then knows memory writes cannot move the registers.
        let regs = &mut self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint(space, site);
        if n == 1 && full && ds != ps {
            let (dst, src) = split1(regs, ds, ps, l);
            for (i, (o, &addr)) in dst.iter_mut().zip(src).enumerate() {
                let c = match fast.get(addr, span) {
                    Some(c) => c,
                    None => {
                        let c = memory.check(space, addr, span, i, site).map_err(|fault| {
                            Stop::Oob {
                                lane: i,
                                fault,
                                write: false,
                            }
                        })?;
                        fast = memory.hint(space, site);
                        c
                    }
                };
                *o = mem::read_n::<N>(c);
            }
            return Ok(());
        }
        for &lane in act {
            let i = lane as usize;
            let addr = regs[ps + i];
            let c = match fast.get(addr, span) {
                Some(c) => c,
                None => {
                    let c =
                        memory
                            .check(space, addr, span, i, site)
                            .map_err(|fault| Stop::Oob {
                                lane: i,
                                fault,
                                write: false,
                            })?;
                    fast = memory.hint(space, site);
                    c
                }
            };
            if n == 1 {
                regs[ds + i] = mem::read_n::<N>(c);
            } else {
                for k in 0..u32::from(n) {
                    let part = c.part(u64::from(k) * u64::from(stride), N as u64);
                    regs[s(d + k, l) + i] = mem::read_n::<N>(part);
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn store<const N: usize>(
        &mut self,
        p: Slot,
        v: Slot,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let ps = s(p, l);
        let span = u64::from(n - 1) * u64::from(stride) + N as u64;
        let vs = s(v, l);
        let site = site as usize;
        let regs = &self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint_write(space, site);
        if n == 1 && full {
            for (i, (&addr, &val)) in regs[ps..ps + l].iter().zip(&regs[vs..vs + l]).enumerate() {
                let c = match fast.get(addr, span) {
                    Some(c) => c,
                    None => {
                        let c =
                            memory
                                .check_write(space, addr, span, i, site)
                                .map_err(|fault| Stop::Oob {
                                    lane: i,
                                    fault,
                                    write: true,
                                })?;
                        fast = memory.hint_write(space, site);
                        c
                    }
                };
                mem::write_n::<N>(c, val);
            }
            return Ok(());
        }
        for &lane in act {
            let i = lane as usize;
            let addr = regs[ps + i];
            let c = match fast.get(addr, span) {
                Some(c) => c,
                None => {
                    let c = memory
                        .check_write(space, addr, span, i, site)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: true,
                        })?;
                    fast = memory.hint_write(space, site);
                    c
                }
            };
            if n == 1 {
                mem::write_n::<N>(c, regs[vs + i]);
            } else {
                for k in 0..u32::from(n) {
                    let part = c.part(u64::from(k) * u64::from(stride), N as u64);
                    mem::write_n::<N>(part, regs[s(v + k, l) + i]);
                }
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn load_idx<const N: usize>(
        &mut self,
        d: Slot,
        a: Addr,
        space: Space,
        site: u32,
        act: &[u32],
        full: bool,
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let (ds, bs, is) = (s(d, l), s(a.base, l), s(a.idx, l));
        let site = site as usize;
        let regs = &mut self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint(space, site);
        let sh = 64 - u32::from(a.w.clamp(1, 64));
        let addr_of = |b: u64, x: u64| {
            let x = ((x << sh) as i64) >> sh;
            b.wrapping_add(a.off as u64)
                .wrapping_add(x.wrapping_mul(a.scale) as u64)
        };
        if full && !overlaps(ds, bs, l) && !overlaps(ds, is, l) {
            let (dst, base, idx) = split2(regs, ds, bs, is, l);
            for (i, ((o, &b), &x)) in dst.iter_mut().zip(base).zip(idx).enumerate() {
                let addr = addr_of(b, x);
                let c = match fast.get(addr, N as u64) {
                    Some(c) => c,
                    None => {
                        let c = memory
                            .check(space, addr, N as u64, i, site)
                            .map_err(|fault| Stop::Oob {
                                lane: i,
                                fault,
                                write: false,
                            })?;
                        fast = memory.hint(space, site);
                        c
                    }
                };
                *o = mem::read_n::<N>(c);
            }
            return Ok(());
        }
        for &lane in act {
            let i = lane as usize;
            let addr = addr_of(regs[bs + i], regs[is + i]);
            let c = match fast.get(addr, N as u64) {
                Some(c) => c,
                None => {
                    let c = memory
                        .check(space, addr, N as u64, i, site)
                        .map_err(|fault| Stop::Oob {
                            lane: i,
                            fault,
                            write: false,
                        })?;
                    fast = memory.hint(space, site);
                    c
                }
            };
            regs[ds + i] = mem::read_n::<N>(c);
        }
        Ok(())
    }

    #[inline(always)]
    fn store_idx<const N: usize>(
        &mut self,
        v: Slot,
        a: Addr,
        space: Space,
        site: u32,
        act: &[u32],
    ) -> Result<(), Stop> {
        let l = self.lanes;
        let (vs, bs, is) = (s(v, l), s(a.base, l), s(a.idx, l));
        let site = site as usize;
        let regs = &self.regs[..];
        let memory = &mut self.mem;
        let mut fast = memory.hint_write(space, site);
        let sh = 64 - u32::from(a.w.clamp(1, 64));
        for &lane in act {
            let i = lane as usize;
            let x = ((regs[is + i] << sh) as i64) >> sh;
            let addr = regs[bs + i]
                .wrapping_add(a.off as u64)
                .wrapping_add(x.wrapping_mul(a.scale) as u64);
            let c = match fast.get(addr, N as u64) {
                Some(c) => c,
                None => {
                    let c =
                        memory
                            .check_write(space, addr, N as u64, i, site)
                            .map_err(|fault| Stop::Oob {
                                lane: i,
                                fault,
                                write: true,
                            })?;
                    fast = memory.hint_write(space, site);
                    c
                }
            };
            mem::write_n::<N>(c, regs[vs + i]);
        }
        Ok(())
    }
}
