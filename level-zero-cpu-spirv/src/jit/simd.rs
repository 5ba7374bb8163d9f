//! What the vector path of the JIT needs to know of every component slot: whether the
//! work-items of one chunk (consecutive lanes running together, `lower::vector::width`) may hold different values
//! in it (*varying*) or always the same (*uniform*, kept in one scalar register), and, for a
//! varying slot, whether every value it can hold fits in 32 bits (*narrow*: one `i32x4`
//! vector) or not (*wide*: two `i64x2` vectors).
//!
//! # Why uniformity is a data-flow property here
//! A chunk's lanes run the vector path only while they follow the same control flow: a
//! branch whose condition differs among them sends each lane on alone, one after another,
//! from that branch (see `lower::vector`). So inside the vector path a value computed only
//! from uniform values by an instruction that gives every lane the same result is uniform,
//! whatever branches led there; no control dependence needs tracking. Where lanes that ran
//! alone meet again (a work-group barrier), the vector path takes them back only after
//! checking, value by value, that what is uniform here really is equal among them.
//!
//! # Soundness of *narrow*
//! A slot is narrow only if every instruction or edge move that writes it produces a value
//! below 2^32 for every input (the IR keeps each value zero-extended from its type's width,
//! and an operation with a width or mask parameter produces a value of that width). The
//! vector path stores a narrow slot as 32-bit lanes, so a wrong *narrow* would drop bits:
//! the rules below are the arithmetic facts of each operation, conservative (wide) when in
//! doubt.

use super::slots::{self, Run, Set};
use crate::ir::{Builtin, Code, Edge, Inst, Param, Preset, Slot, Term};
use crate::ops::{BinOp, Fk, TernOp, UnOp};

/// How the vector path keeps a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// The same value in every lane of the chunk: one scalar (`i64`).
    Uniform,
    /// Per lane, every value below 2^32: one `i32x4`.
    Narrow,
    /// Per lane, 64 bits: two `i64x2` (lanes 0–1, lanes 2–3).
    Wide,
    /// Lane `l` holds lane 0's value plus `l` times the stride (64-bit wrapping arithmetic):
    /// one scalar, lane 0's value. Work-item ids in x and addresses computed from them.
    Affine(i64),
}

/// Whether component `c` of `b` is the same for every lane of a chunk: what is the same in a
/// work-group, and the y and z local and global ids (a chunk's lanes have consecutive x ids
/// in one row: the vector path runs only when the group's size in x is a multiple of the
/// chunk width and its chunks start at multiples of it, see `Ctx::rows`).
pub(super) fn component_uniform(b: Builtin, c: u32) -> bool {
    uniform_builtin(b) || (matches!(b, Builtin::GlobalId | Builtin::LocalId) && c >= 1)
}

/// Whether the vector path relies on a chunk's lanes sharing a row with consecutive x ids:
/// whenever the kernel reads a local or global id (x ids are affine in the lane, y and z ids
/// uniform, only in such chunks).
pub(super) fn needs_rows(code: &Code) -> bool {
    code.insts.iter().any(|i| {
        matches!(
            *i,
            Inst::Builtin {
                b: Builtin::GlobalId | Builtin::LocalId,
                ..
            }
        )
    })
}

/// Whether `b` is the same for every work-item of a work-group.
fn uniform_builtin(b: Builtin) -> bool {
    !matches!(
        b,
        Builtin::GlobalId
            | Builtin::LocalId
            | Builtin::GlobalLinearId
            | Builtin::LocalLinearId
            | Builtin::SubgroupId
            | Builtin::SubgroupLocalId
    )
}

/// Whether `inst`, run once with uniform operands, does for the whole chunk what running it
/// for each lane would: a pure function of its operands (loads included: the chunk's lanes
/// run it at the same moment), or a store of one value to one place — in global or local
/// memory, where the sanitizer's verdict is the same for every lane.
pub(super) fn once_for_chunk(inst: &Inst) -> bool {
    match inst {
        // The sanitizer's verdict on a private (or generic: maybe private) address depends on
        // the work-item: every lane's access is checked.
        Inst::Load { space, .. }
        | Inst::Store { space, .. }
        | Inst::LoadIdx { space, .. }
        | Inst::StoreIdx { space, .. }
        | Inst::LoadAgg { space, .. }
        | Inst::StoreAgg { space, .. }
            if matches!(
                space,
                crate::mem::Space::Private | crate::mem::Space::Generic
            ) =>
        {
            false
        }
        Inst::Builtin { b, comp, .. } => comp.is_some_and(|c| component_uniform(*b, c.into())),
        Inst::Bin { .. }
        | Inst::Un { .. }
        | Inst::Tern { .. }
        | Inst::Select { .. }
        | Inst::Copy { .. }
        | Inst::Gep { .. }
        | Inst::Load { .. }
        | Inst::LoadIdx { .. }
        | Inst::LoadAgg { .. }
        | Inst::Store { .. }
        | Inst::StoreIdx { .. }
        | Inst::StoreAgg { .. }
        | Inst::ExtractDyn { .. }
        | Inst::InsertDyn { .. }
        | Inst::Bitcast { .. }
        | Inst::Reduce { .. }
        | Inst::Cross { .. }
        | Inst::Normalize { .. }
        | Inst::Shuffle { .. }
        | Inst::Fence => true,
        // Atomics, printf, memory copies (their length may be huge and repeated copies of
        // overlapping ranges differ), images, collectives: per lane.
        _ => false,
    }
}

fn w32(w: u8) -> bool {
    w <= 32
}

fn m32(m: u64) -> bool {
    m <= u64::from(u32::MAX)
}

fn fk32(k: Fk) -> bool {
    !matches!(k, Fk::D)
}

/// Whether `op(a, b)` is below 2^32 whenever the operands known narrow are.
fn bin_narrow(op: BinOp, a: bool, b: bool) -> bool {
    use BinOp::*;
    match op {
        IAdd(m) | ISub(m) | IMul(m) | UDiv(m) | UMod(m) => m32(m),
        SDiv(w) | SRem(w) | SMod(w) | Shl(w) | Sar(w) | SMin(w) | SMax(w) | SMulHi(w)
        | UMulHi(w) | SAddSat(w) | UAddSat(w) | SSubSat(w) | USubSat(w) | Rotate(w) | SHadd(w)
        | UHadd(w) | SRhadd(w) | URhadd(w) | SAbsDiff(w) | UAbsDiff(w) | SMul24(w) | UMul24(w) => {
            w32(w)
        }
        Shr(w) => w32(w) || a,
        And | UMin => a || b,
        Or | Xor | UMax => a && b,
        IEq | INe | ULt | ULe | UGt | UGe | SLt(_) | SLe(_) | SGt(_) | SGe(_) => true,
        FCmp(..) | FOrd(..) => true,
        F(k, _) | FInt(k, ..) => fk32(k),
        // An i32.
        RemquoQuotient(_) => true,
        // 2w bits.
        Upsample(w) => w <= 16,
    }
}

fn un_narrow(op: UnOp, a: bool) -> bool {
    match op {
        UnOp::Mask(m) | UnOp::INeg(m) | UnOp::INot(m) => m32(m),
        UnOp::Sext(_, to)
        | UnOp::SatSToU(_, to)
        | UnOp::SatUToS(_, to)
        | UnOp::SatSToS(_, to)
        | UnOp::SAbs(to) => w32(to),
        // min(a, mask(to)).
        UnOp::SatUToU(to) => w32(to) || a,
        UnOp::Clz(_)
        | UnOp::Ctz(_)
        | UnOp::LNot
        | UnOp::IsNan(_)
        | UnOp::IsInf(_)
        | UnOp::IsFinite(_)
        | UnOp::IsNormal(_)
        | UnOp::SignBit(_)
        | UnOp::Popcount
        | UnOp::FrexpExp(_)
        | UnOp::Ilogb(_)
        | UnOp::LgammaSign(_) => true,
        UnOp::F(k, _) | UnOp::FrexpMant(k) | UnOp::Nan(k) => fk32(k),
        UnOp::FToI(_, bits, ..) => w32(bits),
        UnOp::IToF(_, _, to, _) | UnOp::FToF(_, to, _) => fk32(to),
    }
}

fn tern_narrow(op: TernOp, a: bool, b: bool, c: bool) -> bool {
    match op {
        TernOp::Fma(k) | TernOp::Mad(k) | TernOp::FClamp(k) | TernOp::Mix(k) => fk32(k),
        TernOp::SmoothStep(k) => fk32(k),
        TernOp::SClamp(w)
        | TernOp::SMad24(w)
        | TernOp::UMad24(w)
        | TernOp::SMadHi(w)
        | TernOp::UMadHi(w)
        | TernOp::SMadSat(w)
        | TernOp::UMadSat(w)
        | TernOp::Select(w, _) => w32(w),
        // min(max(a, b), c) <= c.
        TernOp::UClamp => c,
        TernOp::Bitselect => a && b,
    }
}

/// Per slot: its value when it is one of the module's constants (`Preset::Const`).
pub(super) fn constant_values(code: &Code) -> Vec<Option<u64>> {
    let mut value = vec![None; code.slots as usize];
    for p in &code.presets {
        if let Preset::Const { d, at, n: k } = *p {
            for i in 0..u32::from(k) {
                let v = code.consts.get(at as usize + i as usize).copied();
                if let Some(s) = value.get_mut((d + i) as usize) {
                    *s = v;
                }
            }
        }
    }
    value
}

/// The class of every slot.
pub(super) fn classes(code: &Code, live: &[Set], written: &Set) -> Vec<Class> {
    let n = code.slots as usize;
    // Values known below 2^32 among the read-only slots: constants.
    let const_value = constant_values(code);
    let const_narrow: Vec<bool> = const_value
        .iter()
        .map(|v| v.is_some_and(|v| v <= u64::from(u32::MAX)))
        .collect();
    let mut varying = vec![false; n];
    // Read-only slots that differ per lane: private addresses and by-value arguments (each
    // lane's own copy).
    for p in &code.presets {
        if let Preset::Private { d, .. } = *p {
            varying[d as usize] = true;
        }
    }
    for p in &code.params {
        if let Param::ByVal { d, .. } = *p {
            varying[d as usize] = true;
        }
    }
    // Written slots read before any write: their first value is whatever each lane's
    // register holds.
    for s in live[code.entry as usize].iter() {
        if written.contains(s) {
            varying[s as usize] = true;
        }
    }
    let seeds = varying.clone();
    let (mut r, mut w) = (Vec::<Run>::new(), Vec::<Run>::new());
    let any = |v: &[bool], runs: &[Run]| {
        runs.iter()
            .any(|&(s, k)| (s..s + k).any(|x| v.get(x as usize).copied().unwrap_or(false)))
    };
    // Uniformity: varying spreads from operands to results, and from move sources to
    // destinations, until nothing changes.
    let mut changed = true;
    while changed {
        changed = false;
        for inst in &code.insts {
            r.clear();
            w.clear();
            slots::reads(code, inst, &mut r);
            slots::writes(code, inst, &mut w);
            if let Inst::Builtin {
                b,
                d,
                n,
                comp: None,
                ..
            } = *inst
            {
                // Every component: each its own.
                for c in 0..u32::from(n) {
                    if !component_uniform(b, c) && !varying[(d + c) as usize] {
                        varying[(d + c) as usize] = true;
                        changed = true;
                    }
                }
                continue;
            }
            if !once_for_chunk(inst) || any(&varying, &r) {
                for &(s, k) in &w {
                    for x in s..s + k {
                        if let Some(v) = varying.get_mut(x as usize)
                            && !*v
                        {
                            *v = true;
                            changed = true;
                        }
                    }
                }
            }
        }
        for_each_move(code, |d, s| {
            if varying[s as usize] && !varying[d as usize] {
                varying[d as usize] = true;
                changed = true;
            }
        });
    }
    // Narrowness of varying slots: assume narrow, refute until nothing changes.
    let mut narrow: Vec<bool> = (0..n).map(|s| varying[s] && !seeds[s]).collect();
    let known = |narrow: &[bool], s: Slot| -> bool {
        let s = s as usize;
        if varying[s] {
            narrow[s]
        } else {
            const_narrow[s]
        }
    };
    let mut changed = true;
    while changed {
        changed = false;
        let mut refute = |narrow: &mut Vec<bool>, d: Slot, ok: bool| {
            if !ok && narrow[d as usize] {
                narrow[d as usize] = false;
                changed = true;
            }
        };
        for inst in &code.insts {
            w.clear();
            slots::writes(code, inst, &mut w);
            for &(d0, k) in &w {
                for i in 0..k {
                    let d = d0 + i;
                    if !varying[d as usize] {
                        continue;
                    }
                    let ok = match *inst {
                        Inst::Bin { op, a, b, .. } => {
                            bin_narrow(op, known(&narrow, a + i), known(&narrow, b + i))
                        }
                        Inst::Un { op, a, .. } => un_narrow(op, known(&narrow, a + i)),
                        Inst::Tern { op, a, b, c, .. } => tern_narrow(
                            op,
                            known(&narrow, a + i),
                            known(&narrow, b + i),
                            known(&narrow, c + i),
                        ),
                        Inst::Select { a, b, .. } => known(&narrow, a + i) && known(&narrow, b + i),
                        Inst::Copy { s, .. } => known(&narrow, s + i),
                        Inst::Load { size, .. } | Inst::LoadIdx { size, .. } => size <= 4,
                        Inst::Atomic { size, .. } => size <= 4,
                        Inst::Builtin { b, .. } => {
                            matches!(b, Builtin::LocalId | Builtin::LocalLinearId)
                        }
                        Inst::Printf { .. } => true,
                        _ => false,
                    };
                    refute(&mut narrow, d, ok);
                }
            }
        }
        for_each_move(code, |d, s| {
            if varying[d as usize] {
                let ok = known(&narrow, s);
                refute(&mut narrow, d, ok);
            }
        });
    }
    let affine = strides(code, &varying, &seeds, &const_value);
    (0..n)
        .map(|s| {
            if !varying[s] {
                Class::Uniform
            } else if let Aff::Stride(k) = affine[s] {
                Class::Affine(k)
            } else if narrow[s] {
                Class::Narrow
            } else {
                Class::Wide
            }
        })
        .collect()
}

/// What the stride analysis knows of a slot.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Aff {
    /// Nothing yet (no definition seen).
    Bottom,
    Stride(i64),
    /// Not affine in the lane.
    Top,
}

/// The lane stride of every varying slot whose every definition is affine in the lane with
/// one stride: an optimistic fixpoint (a slot starts unknown, takes the stride of its first
/// definition, becomes `Top` on any disagreement), run again after unknowns become `Top`
/// until nothing changes, so that the result is consistent: every definition, given its
/// operands' strides, produces its slot's stride.
fn strides(code: &Code, varying: &[bool], seeds: &[bool], consts: &[Option<u64>]) -> Vec<Aff> {
    let n = code.slots as usize;
    let mut aff: Vec<Aff> = (0..n)
        .map(|s| {
            if !varying[s] {
                Aff::Stride(0)
            } else if seeds[s] {
                Aff::Top
            } else {
                Aff::Bottom
            }
        })
        .collect();
    let (mut r, mut w) = (Vec::<Run>::new(), Vec::<Run>::new());
    loop {
        let mut changed = true;
        while changed {
            changed = false;
            let mut put = |aff: &mut Vec<Aff>, d: Slot, v: Option<Aff>| {
                let Some(v) = v else { return };
                let d = d as usize;
                if !varying[d] {
                    return;
                }
                let new = match (aff[d], v) {
                    (Aff::Top, _) | (_, Aff::Bottom) => return,
                    (Aff::Bottom, v) => v,
                    (Aff::Stride(a), Aff::Stride(b)) if a == b => return,
                    _ => Aff::Top,
                };
                aff[d] = new;
                changed = true;
            };
            for inst in &code.insts {
                r.clear();
                w.clear();
                slots::reads(code, inst, &mut r);
                slots::writes(code, inst, &mut w);
                let all_uniform = r.iter().all(|&(s, k)| {
                    (s..s + k).all(|x| !varying.get(x as usize).copied().unwrap_or(true))
                });
                if let Inst::Builtin { b, d, n: k, comp } = *inst {
                    for i in 0..u32::from(k) {
                        let c = comp.map_or(i, u32::from);
                        let v = if component_uniform(b, c) {
                            Aff::Stride(0)
                        } else if matches!(b, Builtin::GlobalId | Builtin::LocalId) && c == 0
                            || b == Builtin::LocalLinearId
                        {
                            Aff::Stride(1)
                        } else {
                            Aff::Top
                        };
                        put(&mut aff, d + i, Some(v));
                    }
                    continue;
                }
                if all_uniform && once_for_chunk(inst) {
                    for &(s, k) in &w {
                        for x in s..s + k {
                            put(&mut aff, x, Some(Aff::Stride(0)));
                        }
                    }
                    continue;
                }
                let mut outs: Vec<(Slot, Option<Aff>)> = Vec::new();
                let st = |x: Slot| aff.get(x as usize).copied().unwrap_or(Aff::Top);
                let konst = |x: Slot| consts.get(x as usize).copied().flatten();
                let join2 = |a: Aff, b: Aff, f: &dyn Fn(i64, i64) -> Option<i64>| match (a, b) {
                    (Aff::Stride(x), Aff::Stride(y)) => Some(f(x, y).map_or(Aff::Top, Aff::Stride)),
                    (Aff::Top, _) | (_, Aff::Top) => Some(Aff::Top),
                    _ => None,
                };
                match *inst {
                    Inst::Bin { op, d, a, b, n: k } => {
                        for i in 0..u32::from(k) {
                            let (sa, sb) = (st(a + i), st(b + i));
                            let v = match op {
                                BinOp::IAdd(u64::MAX) => join2(sa, sb, &|x, y| x.checked_add(y)),
                                BinOp::ISub(u64::MAX) => join2(sa, sb, &|x, y| x.checked_sub(y)),
                                BinOp::IMul(u64::MAX) => match (konst(a + i), konst(b + i)) {
                                    (_, Some(c)) => {
                                        join2(sa, Aff::Stride(0), &|x, _| x.checked_mul(c as i64))
                                    }
                                    (Some(c), _) => {
                                        join2(sb, Aff::Stride(0), &|x, _| x.checked_mul(c as i64))
                                    }
                                    _ => Some(Aff::Top),
                                },
                                BinOp::Shl(64) => match konst(b + i) {
                                    Some(c) if c < 63 => {
                                        join2(sa, Aff::Stride(0), &|x, _| x.checked_mul(1i64 << c))
                                    }
                                    _ => Some(Aff::Top),
                                },
                                _ => Some(Aff::Top),
                            };
                            outs.push((d + i, v));
                        }
                    }
                    Inst::Copy { d, s, n: k } => {
                        for i in 0..u32::from(k) {
                            outs.push((d + i, Some(st(s + i))));
                        }
                    }
                    Inst::Gep {
                        d,
                        base,
                        off: _,
                        at,
                        len,
                    } => {
                        let mut v = Some(st(base));
                        for &(t, stride, tw) in
                            &code.gep_terms[at as usize..at as usize + usize::from(len)]
                        {
                            let term = match st(t) {
                                Aff::Stride(0) => Aff::Stride(0),
                                Aff::Stride(x) if tw >= 64 => {
                                    x.checked_mul(stride).map_or(Aff::Top, Aff::Stride)
                                }
                                Aff::Bottom => Aff::Bottom,
                                _ => Aff::Top,
                            };
                            v = v.and_then(|a| join2(a, term, &|x, y| x.checked_add(y)));
                        }
                        outs.push((d, v));
                    }
                    _ => {
                        for &(s, k) in &w {
                            for x in s..s + k {
                                outs.push((x, Some(Aff::Top)));
                            }
                        }
                    }
                }
                for (d, v) in outs {
                    put(&mut aff, d, v);
                }
            }
            for_each_move(code, |d, s| {
                let v = aff.get(s as usize).copied().unwrap_or(Aff::Top);
                put(&mut aff, d, Some(v));
            });
        }
        // Slots still unknown have no definition the analysis could follow: not affine,
        // and everything computed from them again.
        let mut any = false;
        for a in aff.iter_mut() {
            if *a == Aff::Bottom {
                *a = Aff::Top;
                any = true;
            }
        }
        if !any {
            return aff;
        }
    }
}

/// Every edge move, component by component, as (destination, source).
fn for_each_move(code: &Code, mut f: impl FnMut(Slot, Slot)) {
    let mut edge = |e: &Edge| {
        for m in &e.moves {
            for k in 0..u32::from(m.n) {
                f(m.d + k, m.s + k);
            }
        }
    };
    for b in &code.blocks {
        match &b.term {
            Term::Jump(e) => edge(e),
            Term::Branch { t, f, .. } => {
                edge(t);
                edge(f);
            }
            Term::Switch { cases, default, .. } => {
                for (_, e) in cases {
                    edge(e);
                }
                edge(default);
            }
            _ => {}
        }
    }
}

/// The written slots live at block `bi`'s terminator (what its successors read, the moves'
/// sources, the condition): what lanes leaving the vector path there carry on with.
pub(super) fn live_at_term(code: &Code, live: &[Set], written: &Set, bi: usize) -> Vec<Slot> {
    let mut set = Set::new(code.slots);
    let edge = |e: &Edge, set: &mut Set| {
        for s in live[e.to as usize].iter() {
            set.insert(s);
        }
        for m in &e.moves {
            for k in 0..u32::from(m.n) {
                set.insert(m.s + k);
            }
        }
    };
    match &code.blocks[bi].term {
        Term::Branch { c, t, f } => {
            set.insert(*c);
            edge(t, &mut set);
            edge(f, &mut set);
        }
        Term::Switch {
            sel,
            cases,
            default,
        } => {
            set.insert(*sel);
            for (_, e) in cases {
                edge(e, &mut set);
            }
            edge(default, &mut set);
        }
        Term::Jump(e) => edge(e, &mut set),
        _ => {}
    }
    set.iter().filter(|&s| written.contains(s)).collect()
}
