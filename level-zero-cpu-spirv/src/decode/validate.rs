//! The last step of decoding: the decoded code is checked against what the interpreter
//! relies on. A new `Inst` variant gets its arm here.

use crate::ir::*;
use crate::module::Res;

/// Checks that every slot range, table index and size in the decoded code is in range, so
/// that a malformed module (inconsistent types, say) can never make the interpreter index
/// out of its registers: it then computes garbage, never panics.
pub(super) fn validate(code: &Code) -> Res<()> {
    let bad = || "invalid SPIR-V: inconsistent operand types".to_string();
    let slot = |s: Slot, n: u32| -> Res<()> {
        if u64::from(s) + u64::from(n.max(1)) <= u64::from(code.slots) {
            Ok(())
        } else {
            Err(bad())
        }
    };
    let size_ok = |z: u8| matches!(z, 1 | 2 | 4 | 8);
    let layout = |k: u32| -> Res<u32> {
        code.layouts
            .get(k as usize)
            .map(|l| l.len() as u32)
            .ok_or_else(bad)
    };
    for i in &code.insts {
        match *i {
            Inst::Bin { d, a, b, n, .. } => {
                for x in [d, a, b] {
                    slot(x, n.into())?;
                }
            }
            Inst::Un { d, a, n, .. } => {
                slot(d, n.into())?;
                slot(a, n.into())?;
            }
            Inst::Tern { d, a, b, c, n, .. } => {
                for x in [d, a, b, c] {
                    slot(x, n.into())?;
                }
            }
            Inst::Select {
                d,
                c,
                a,
                b,
                n,
                scalar_cond,
            } => {
                for x in [d, a, b] {
                    slot(x, n.into())?;
                }
                slot(c, if scalar_cond { 1 } else { n.into() })?;
            }
            Inst::Copy { d, s, n } => {
                slot(d, n.into())?;
                slot(s, n.into())?;
            }
            Inst::Gep {
                d, base, at, len, ..
            } => {
                slot(d, 1)?;
                slot(base, 1)?;
                let terms = code
                    .gep_terms
                    .get(at as usize..at as usize + usize::from(len))
                    .ok_or_else(bad)?;
                for t in terms {
                    slot(t.0, 1)?;
                }
            }
            Inst::Load { d, p, size, n, .. } => {
                slot(d, n.into())?;
                slot(p, 1)?;
                if !size_ok(size) || n == 0 {
                    return Err(bad());
                }
            }
            Inst::Store { p, v, size, n, .. } => {
                slot(v, n.into())?;
                slot(p, 1)?;
                if !size_ok(size) || n == 0 {
                    return Err(bad());
                }
            }
            Inst::LoadIdx {
                d, base, idx, size, ..
            } => {
                for x in [d, base, idx] {
                    slot(x, 1)?;
                }
                if !size_ok(size) {
                    return Err(bad());
                }
            }
            Inst::StoreIdx {
                base, idx, v, size, ..
            } => {
                for x in [v, base, idx] {
                    slot(x, 1)?;
                }
                if !size_ok(size) {
                    return Err(bad());
                }
            }
            Inst::LoadAgg {
                d, p, layout: k, ..
            } => {
                slot(d, layout(k)?)?;
                slot(p, 1)?;
            }
            Inst::StoreAgg {
                p, v, layout: k, ..
            } => {
                slot(v, layout(k)?)?;
                slot(p, 1)?;
            }
            Inst::CopyMem {
                dst, src, len_slot, ..
            } => {
                slot(dst, 1)?;
                slot(src, 1)?;
                if let Some(l) = len_slot {
                    slot(l, 1)?;
                }
            }
            Inst::Atomic {
                d, p, v, cmp, size, ..
            } => {
                for x in [d, p, v, cmp] {
                    slot(x, 1)?;
                }
                if size != 4 && size != 8 {
                    return Err(bad());
                }
            }
            Inst::Builtin { d, n, comp, .. } => {
                // Built-ins have at most 3 components (decode refuses others, naming them);
                // the interpreter relies on it.
                if n > 3 || comp.is_some_and(|c| c >= 3) {
                    return Err(bad());
                }
                slot(d, if comp.is_some() { 1 } else { n.into() })?
            }
            Inst::ExtractDyn { d, v, idx, n } => {
                slot(d, 1)?;
                slot(v, n.into())?;
                slot(idx, 1)?;
            }
            Inst::InsertDyn { d, v, x, idx, n } => {
                slot(d, n.into())?;
                slot(v, n.into())?;
                slot(x, 1)?;
                slot(idx, 1)?;
            }
            Inst::Bitcast {
                d,
                s,
                fsize,
                nf,
                tsize,
                nt,
            } => {
                slot(d, nt.into())?;
                slot(s, nf.into())?;
                if !size_ok(fsize)
                    || !size_ok(tsize)
                    || usize::from(fsize) * usize::from(nf) > 128
                    || usize::from(tsize) * usize::from(nt) > 128
                {
                    return Err(bad());
                }
            }
            Inst::Reduce { d, a, b, n, .. } => {
                slot(d, 1)?;
                slot(a, n.into())?;
                slot(b, n.into())?;
                if n > 16 {
                    return Err(bad());
                }
            }
            Inst::Cross { d, a, b, .. } => {
                for x in [d, a, b] {
                    slot(x, 3)?;
                }
            }
            Inst::Normalize { d, a, n, .. } => {
                slot(d, n.into())?;
                slot(a, n.into())?;
            }
            Inst::Printf { d, call } => {
                slot(d, 1)?;
                let pc = code.printfs.get(call as usize).ok_or_else(bad)?;
                slot(pc.fmt, 1)?;
                for a in &pc.args {
                    slot(a.slot, a.n.into())?;
                }
            }
            Inst::AsyncCopy {
                d,
                dst,
                src,
                n,
                stride,
                ..
            } => {
                for x in [d, dst, src, n, stride] {
                    slot(x, 1)?;
                }
            }
            Inst::Shuffle {
                d,
                a,
                b,
                mask,
                na,
                nb,
                n,
            } => {
                slot(d, n.into())?;
                slot(mask, n.into())?;
                slot(a, na.into())?;
                slot(b, nb.into())?;
            }
            Inst::Fence => {}
            Inst::Image(ref x) => {
                slot(x.d, u32::from(x.n))?;
                slot(x.img, 1)?;
                slot(x.coord, u32::from(x.ncoord))?;
                slot(x.texel, if x.op == ImageOp::Write { 4 } else { 1 })?;
            }
            Inst::Group(ref g) => {
                let n = u32::from(g.n);
                let (na, nd, nbc) = match g.kind {
                    GroupKind::Ballot => (1, 4, 1),
                    GroupKind::InverseBallot
                    | GroupKind::BallotBitExtract
                    | GroupKind::BallotBitCount(_)
                    | GroupKind::BallotFindLsb
                    | GroupKind::BallotFindMsb => (4, 1, 1),
                    GroupKind::AllEqual { .. } => (n, 1, 1),
                    GroupKind::IntelShuffleDown | GroupKind::IntelShuffleUp => (n, n, n),
                    GroupKind::Broadcast => (n, n, u32::from(g.nb)),
                    _ => (n, n, 1),
                };
                if matches!(g.kind, GroupKind::Ballot) && n != 4 {
                    return Err(bad());
                }
                slot(g.d, nd)?;
                slot(g.a, na)?;
                slot(g.b, nbc)?;
                slot(g.c, 1)?;
            }
        }
    }
    let nb = code.blocks.len() as u32;
    let edge = |e: &Edge| -> Res<()> {
        if e.to >= nb {
            return Err(bad());
        }
        for m in &e.moves {
            slot(m.d, m.n.into())?;
            slot(m.s, m.n.into())?;
        }
        Ok(())
    };
    for b in &code.blocks {
        if b.start > b.end || b.end as usize > code.insts.len() {
            return Err(bad());
        }
        match &b.term {
            Term::Jump(e) => edge(e)?,
            Term::Branch { c, t, f } => {
                slot(*c, 1)?;
                edge(t)?;
                edge(f)?;
            }
            Term::Switch {
                sel,
                cases,
                default,
            } => {
                slot(*sel, 1)?;
                edge(default)?;
                for (_, e) in cases {
                    edge(e)?;
                }
            }
            Term::Barrier(next) | Term::SubgroupSync(next) => {
                if *next >= nb {
                    return Err(bad());
                }
            }
            Term::Return | Term::Trap => {}
            Term::Fail { value, .. } => {
                if let Some(v) = value {
                    slot(*v, 1)?;
                }
            }
        }
    }
    if code.entry >= nb {
        return Err(bad());
    }
    for p in &code.presets {
        match *p {
            Preset::Const { d, at, n } => {
                slot(d, n.into())?;
                if at as usize + usize::from(n) > code.consts.len() {
                    return Err(bad());
                }
            }
            Preset::Private { d, .. } | Preset::Local { d, .. } => slot(d, 1)?,
        }
    }
    for p in &code.params {
        match *p {
            Param::Value { d, layout: k } => slot(d, layout(k)?)?,
            Param::Local { d }
            | Param::ByVal { d, .. }
            | Param::Image { d }
            | Param::Sampler { d } => slot(d, 1)?,
        }
    }
    Ok(())
}
