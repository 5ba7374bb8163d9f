//! Lane helpers of the interpreter: register addressing (`regs[slot * lanes + lane]`),
//! disjoint slices of the register file, and the lane loops (`copy`, `map1..3`) that every
//! lane-wise instruction uses: with all lanes active, they run over whole slices, which the
//! compiler vectorises.

use crate::ir::Slot;

#[inline(always)]
pub(super) fn s(slot: Slot, lanes: usize) -> usize {
    slot as usize * lanes
}

/// Destination and one source slice of `l` lanes (distinct slots: `d != a`).
#[inline(always)]
pub(super) fn split1(r: &mut [u64], d: usize, a: usize, l: usize) -> (&mut [u64], &[u64]) {
    if d < a {
        let (lo, hi) = r.split_at_mut(a);
        (&mut lo[d..d + l], &hi[..l])
    } else {
        let (lo, hi) = r.split_at_mut(d);
        (&mut hi[..l], &lo[a..a + l])
    }
}

/// Destination and two source slices (sources distinct from the destination).
#[inline(always)]
pub(super) fn split2(
    r: &mut [u64],
    d: usize,
    a: usize,
    b: usize,
    l: usize,
) -> (&mut [u64], &[u64], &[u64]) {
    let (lo, hi) = r.split_at_mut(d);
    let (dst, hi) = hi.split_at_mut(l);
    let pick = |x: usize| -> &[u64] {
        if x < d {
            &lo[x..x + l]
        } else {
            &hi[x - d - l..x - d]
        }
    };
    (dst, pick(a), pick(b))
}

pub(super) fn overlaps(d: usize, x: usize, l: usize) -> bool {
    d < x + l && x < d + l
}

pub(super) fn copy(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    d: Slot,
    src: Slot,
    n: u16,
) {
    for k in 0..u32::from(n) {
        let (ds, ss) = (s(d + k, l), s(src + k, l));
        if ds == ss {
            continue;
        }
        if full {
            regs.copy_within(ss..ss + l, ds);
        } else {
            for &lane in act {
                regs[ds + lane as usize] = regs[ss + lane as usize];
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn map1(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    d: Slot,
    a: Slot,
    n: u16,
    f: impl Fn(u64) -> u64,
) {
    for k in 0..u32::from(n) {
        let (ds, as_) = (s(d + k, l), s(a + k, l));
        if full && ds != as_ {
            let (dst, src) = split1(regs, ds, as_, l);
            for (x, &y) in dst.iter_mut().zip(src) {
                *x = f(y);
            }
        } else {
            for &lane in act {
                let i = lane as usize;
                regs[ds + i] = f(regs[as_ + i]);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn map2(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    d: Slot,
    a: Slot,
    b: Slot,
    n: u16,
    f: impl Fn(u64, u64) -> u64,
) {
    for k in 0..u32::from(n) {
        let (ds, as_, bs) = (s(d + k, l), s(a + k, l), s(b + k, l));
        if full && !overlaps(ds, as_, l) && !overlaps(ds, bs, l) {
            let (dst, x, y) = split2(regs, ds, as_, bs, l);
            for ((o, &p), &q) in dst.iter_mut().zip(x).zip(y) {
                *o = f(p, q);
            }
        } else {
            for &lane in act {
                let i = lane as usize;
                regs[ds + i] = f(regs[as_ + i], regs[bs + i]);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn map3(
    regs: &mut [u64],
    l: usize,
    act: &[u32],
    full: bool,
    d: Slot,
    a: Slot,
    b: Slot,
    c: Slot,
    n: u16,
    f: impl Fn(u64, u64, u64) -> u64,
) {
    for k in 0..u32::from(n) {
        let (ds, as_, bs, cs) = (s(d + k, l), s(a + k, l), s(b + k, l), s(c + k, l));
        if full && !overlaps(ds, as_, l) && !overlaps(ds, bs, l) && !overlaps(ds, cs, l) {
            let (lo, hi) = regs.split_at_mut(ds);
            let (dst, hi) = hi.split_at_mut(l);
            let pick = |x: usize| -> &[u64] {
                if x < ds {
                    &lo[x..x + l]
                } else {
                    &hi[x - ds - l..x - ds]
                }
            };
            let (x, y, z) = (pick(as_), pick(bs), pick(cs));
            for (((o, &p), &q), &r) in dst.iter_mut().zip(x).zip(y).zip(z) {
                *o = f(p, q, r);
            }
            continue;
        }
        for &lane in act {
            let i = lane as usize;
            regs[ds + i] = f(regs[as_ + i], regs[bs + i], regs[cs + i]);
        }
    }
}
