//! Whether every launch of a kernel provably ends, in bounded time and memory: what the fuzz
//! target for module creation asks ([`crate::Program::kernel_terminates`]) before it
//! launches a kernel it made up on both engines.
//!
//! - **Control flow.** A kernel's code is one control-flow graph: every call is inlined at
//!   decode time, calls through function pointers included (a switch over inlined copies of
//!   the candidates, `Term::Fail` for any other value), and recursion is refused. So a kernel
//!   whose graph, from its entry block, has no cycle runs each block at most once per
//!   work-item. Work-group barriers and sub-group meeting points are edges like any other: a
//!   work-item passes each at most once, and both engines release the work-items waiting at
//!   one once no work-item can run (a barrier only some work-items reach is defined that way,
//!   never a hang: the interpreter's scheduler in `exec/control_flow.rs`, the JIT's rounds in
//!   `jit/run.rs`).
//! - **Instructions.** Each does bounded work: arithmetic over a fixed number of components,
//!   collectives over the group's work-items, memory copies (`CopyMem`, `AsyncCopy`) whose
//!   every byte is checked by the sanitizer first, so that they stop at the end of one
//!   allocation. All but printf: its format string is run-time data, and a width or a
//!   precision (any number up to `usize::MAX`) decides how many bytes it makes (the zeros of
//!   an integer's precision are even inserted one at a time). A kernel that calls printf
//!   terminates here only if each call's format is a constant address inside a
//!   program-scope variable whose string, as it is now, formats to a bounded size
//!   ([`MAX_PRINTF`] bytes per call, [`MAX_PRINTF_TOTAL`] per work-item), and the kernel
//!   writes no global or generic memory (so it cannot change that string; private and local
//!   stores cannot reach program-scope variables).

use crate::ir::{Code, ImageOp, Inst, Param, Preset, Slot, Term};
use crate::mem::{Memory, RawBuf, Space};
use crate::{MemoryMap, ops};

/// The most bytes one printf call may make (a bound computed from its format string).
const MAX_PRINTF: u64 = 1 << 18;

/// The most bytes all printf calls of a kernel may make for one work-item.
const MAX_PRINTF_TOTAL: u64 = 1 << 20;

/// The engine reads a format string up to its nul or this many bytes
/// (`exec/printf.rs`).
const MAX_FORMAT: usize = 1 << 16;

/// Whether every launch of `code` ends, in bounded time and memory (see the module docs);
/// `globals` are the program-scope variables its constant addresses may point into.
pub(crate) fn terminates(code: &Code, globals: &[(u64, u64)]) -> bool {
    acyclic(code) && printf_bounded(code, globals)
}

/// Whether the blocks reachable from the entry form no cycle (and every edge names a block).
fn acyclic(code: &Code) -> bool {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let n = code.blocks.len();
    if code.entry as usize >= n {
        return false;
    }
    let mut state = vec![NEW; n];
    // Depth-first, iteratively (a kernel may have hundreds of thousands of blocks): each
    // frame is a block and its successors still to visit.
    let mut stack: Vec<(usize, Vec<u32>)> = Vec::new();
    state[code.entry as usize] = OPEN;
    stack.push((
        code.entry as usize,
        code.blocks[code.entry as usize].term.successors(),
    ));
    while let Some((b, next)) = stack.last_mut() {
        match next.pop() {
            Some(s) => {
                let s = s as usize;
                match state.get(s) {
                    None | Some(&OPEN) => return false,
                    Some(&DONE) => {}
                    Some(_) => {
                        state[s] = OPEN;
                        let succ = code.blocks[s].term.successors();
                        stack.push((s, succ));
                    }
                }
            }
            None => {
                state[*b] = DONE;
                stack.pop();
            }
        }
    }
    true
}

/// The slots instructions, edge moves and parameters may write: `(start, count, the
/// instruction)` runs, an over-approximation (a run too long only makes fewer slots
/// constant).
fn written_runs(code: &Code) -> Vec<(Slot, u32, Option<usize>)> {
    let n = u32::from;
    let mut out = Vec::new();
    for (k, inst) in code.insts.iter().enumerate() {
        let run = match *inst {
            Inst::Bin { d, n: k, .. }
            | Inst::Un { d, n: k, .. }
            | Inst::Tern { d, n: k, .. }
            | Inst::Select { d, n: k, .. }
            | Inst::Copy { d, n: k, .. }
            | Inst::Load { d, n: k, .. }
            | Inst::Builtin { d, n: k, .. }
            | Inst::InsertDyn { d, n: k, .. }
            | Inst::ExtractDyn { d, n: k, .. }
            | Inst::Reduce { d, n: k, .. }
            | Inst::Normalize { d, n: k, .. }
            | Inst::Shuffle { d, n: k, .. } => (d, n(k).max(1)),
            Inst::Gep { d, .. }
            | Inst::LoadIdx { d, .. }
            | Inst::Atomic { d, .. }
            | Inst::Printf { d, .. }
            | Inst::AsyncCopy { d, .. } => (d, 1),
            Inst::LoadAgg { d, layout, .. } => (
                d,
                code.layouts
                    .get(layout as usize)
                    .map_or(u32::MAX, |l| u32::try_from(l.len()).unwrap_or(u32::MAX)),
            ),
            Inst::Bitcast { d, nt, .. } => (d, n(nt)),
            Inst::Cross { d, .. } => (d, 3),
            Inst::Image(ref x) => (x.d, n(x.n).max(4)),
            // Ballots make 4 components whatever the operand's.
            Inst::Group(ref g) => (g.d, n(g.n).max(4)),
            Inst::Store { .. }
            | Inst::StoreIdx { .. }
            | Inst::StoreAgg { .. }
            | Inst::CopyMem { .. }
            | Inst::Fence => continue,
        };
        out.push((run.0, run.1, Some(k)));
    }
    for b in &code.blocks {
        let edges: Vec<&crate::ir::Edge> = match &b.term {
            Term::Jump(e) => vec![e],
            Term::Branch { t, f, .. } => vec![t, f],
            Term::Switch { cases, default, .. } => {
                cases.iter().map(|(_, e)| e).chain([default]).collect()
            }
            _ => Vec::new(),
        };
        for e in edges {
            out.extend(e.moves.iter().map(|m| (m.d, n(m.n), None)));
        }
    }
    for p in &code.params {
        let (d, count) = match *p {
            Param::Value { d, layout } => (
                d,
                code.layouts
                    .get(layout as usize)
                    .map_or(u32::MAX, |l| u32::try_from(l.len()).unwrap_or(u32::MAX)),
            ),
            Param::Local { d }
            | Param::Image { d }
            | Param::Sampler { d }
            | Param::ByVal { d, .. } => (d, 1),
        };
        out.push((d, count, None));
    }
    out
}

/// Who sets each slot of a kernel, as far as [`constant`] needs to know.
struct Defs {
    /// Per slot: how many instructions, edge moves and parameters write it (up to 2), and
    /// the instruction when one does.
    writers: Vec<(u8, Option<usize>)>,
    /// Per slot: the values constant presets give it, or `None` for a private or local
    /// address (different per work-item or per engine).
    presets: Vec<Option<Vec<u64>>>,
}

impl Defs {
    fn new(code: &Code) -> Defs {
        let n = code.slots as usize;
        let mut writers = vec![(0u8, None); n];
        for (d, count, inst) in written_runs(code) {
            let end = (u64::from(d) + u64::from(count)).min(n as u64) as usize;
            for w in writers.iter_mut().take(end).skip(d as usize) {
                *w = (w.0.saturating_add(1).min(2), inst);
            }
        }
        let mut presets = vec![Some(Vec::new()); n];
        for p in &code.presets {
            match *p {
                Preset::Const { d, at, n: count } => {
                    for k in 0..u32::from(count) {
                        let value = code.consts.get(at as usize + k as usize).copied();
                        if let (Some(Some(v)), Some(x)) =
                            (presets.get_mut(d as usize + k as usize), value)
                        {
                            v.push(x);
                        }
                    }
                }
                Preset::Private { d, .. } | Preset::Local { d, .. } => {
                    if let Some(v) = presets.get_mut(d as usize) {
                        *v = None;
                    }
                }
            }
        }
        Defs { writers, presets }
    }
}

/// Whether the kernel may write global or generic memory (anything that may be a
/// program-scope variable).
fn writes_global(code: &Code) -> bool {
    let g = |s: Space| matches!(s, Space::Global | Space::Generic);
    code.insts.iter().any(|inst| match inst {
        Inst::Store { space, .. }
        | Inst::StoreIdx { space, .. }
        | Inst::StoreAgg { space, .. }
        | Inst::Atomic { space, .. } => g(*space),
        Inst::CopyMem { dspace, .. } | Inst::AsyncCopy { dspace, .. } => g(*dspace),
        Inst::Image(x) => x.op == ImageOp::Write,
        _ => false,
    })
}

/// The values slot `s` can hold when an instruction reads it, if it is a constant: the
/// constant presets of a slot nothing else writes, or the one access chain (or copy) that
/// writes it from constants. `None` when it is not (or too deep to tell).
fn constant(code: &Code, defs: &Defs, s: Slot, depth: u32) -> Option<Vec<u64>> {
    if depth > 16 {
        return None;
    }
    let mut values = defs.presets.get(s as usize)?.clone()?;
    match *defs.writers.get(s as usize)? {
        (0, _) => return (!values.is_empty()).then_some(values),
        // One writer: an access chain or a copy from constants. Before it runs, the slot
        // holds its presets' value, or without one 0 or what it wrote for the last
        // work-group: the same.
        (1, Some(k)) => match code.insts[k] {
            Inst::Gep {
                base, off, at, len, ..
            } => {
                let terms = code
                    .gep_terms
                    .get(at as usize..at as usize + usize::from(len))?;
                for b in constant(code, defs, base, depth + 1)? {
                    let mut v = b.wrapping_add(off as u64);
                    for &(t, stride, w) in terms {
                        let [x] = constant(code, defs, t, depth + 1)?[..] else {
                            return None;
                        };
                        v = v.wrapping_add(ops::sext(x, w).wrapping_mul(stride) as u64);
                    }
                    values.push(v);
                }
            }
            Inst::Copy { d, s: src, .. } => {
                values.extend(constant(code, defs, src.checked_add(s - d)?, depth + 1)?);
            }
            _ => return None,
        },
        _ => return None,
    }
    Some(values)
}

/// A memory map with no allocations: reads through it reach only program-scope variables.
struct NoAllocations;

// SAFETY: `find` reports no range, so the contract (every range reported stays readable and
// writable) holds vacuously.
unsafe impl MemoryMap for NoAllocations {
    fn find(&self, _address: u64) -> Option<(u64, u64)> {
        None
    }
}

/// Whether every printf call of `code` makes a bounded output (see the module docs).
fn printf_bounded(code: &Code, globals: &[(u64, u64)]) -> bool {
    if code.printfs.is_empty() {
        return true;
    }
    if writes_global(code) {
        return false;
    }
    let defs = Defs::new(code);
    let (local, private) = (RawBuf::zeroed(0), RawBuf::zeroed(0));
    let mut mem = Memory::new(&NoAllocations, globals, &local, &private, 0, 1);
    let mut total = 0u64;
    for inst in &code.insts {
        let Inst::Printf { call, .. } = *inst else {
            continue;
        };
        let Some(pc) = code.printfs.get(call as usize) else {
            return false;
        };
        let Some(addrs) = constant(code, &defs, pc.fmt, 0) else {
            return false;
        };
        let mut most = 0;
        for a in addrs {
            if !globals.iter().any(|&(lo, hi)| a >= lo && a < hi) {
                return false;
            }
            // As the engine reads it (`exec/printf.rs`): byte by byte up to the nul.
            let mut fmt = Vec::new();
            let mut at = a;
            while fmt.len() < MAX_FORMAT {
                let Ok(c) = mem.check(Space::Global, at, 1, 0, 0) else {
                    break;
                };
                let b = crate::mem::read(c) as u8;
                if b == 0 {
                    break;
                }
                fmt.push(b);
                at = at.wrapping_add(1);
            }
            match output_bound(&fmt) {
                Some(n) if n <= MAX_PRINTF => most = most.max(n),
                _ => return false,
            }
        }
        total += most;
        if total > MAX_PRINTF_TOTAL {
            return false;
        }
    }
    true
}

/// An upper bound of the bytes `crate::printf::format` makes from `fmt` with any arguments,
/// or `None` when a number in a conversion has more than four digits.
fn output_bound(fmt: &[u8]) -> Option<u64> {
    // A number's text (a double's `%f` has up to 309 integer digits), a `%s` string (read up
    // to 64 KiB), the most components of a `%v` conversion.
    const NUMBER: u64 = 400;
    const STRING: u64 = 1 << 16;
    let mut total = 0u64;
    let mut i = 0;
    let num = |i: &mut usize| -> Option<u64> {
        let start = *i;
        while fmt.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        if *i - start > 4 {
            return None;
        }
        Some(
            std::str::from_utf8(&fmt[start..*i])
                .ok()?
                .parse()
                .unwrap_or(0),
        )
    };
    while i < fmt.len() {
        if fmt[i] != b'%' {
            total += 1;
            i += 1;
            continue;
        }
        i += 1;
        while fmt
            .get(i)
            .is_some_and(|c| matches!(c, b'-' | b'+' | b' ' | b'#' | b'0'))
        {
            i += 1;
        }
        let width = num(&mut i)?;
        let mut prec = 0;
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            prec = num(&mut i)?;
        }
        let mut vec = 1;
        if fmt.get(i) == Some(&b'v') {
            i += 1;
            vec = num(&mut i)?.max(1);
        }
        while fmt.get(i).is_some_and(|&c| c == b'h' || c == b'l') {
            i += 1;
        }
        let body = match fmt.get(i) {
            Some(b's') => STRING,
            Some(b'%') => 1,
            _ => NUMBER,
        };
        i += 1;
        total += width + vec * (prec + body);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuildOptions, Program};

    fn program(name: &str) -> Program {
        let path = format!("{}/kernels/spv/{name}.spv", env!("CARGO_MANIFEST_DIR"));
        let spirv = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Program::build(&spirv, &BuildOptions::default()).unwrap()
    }

    #[test]
    // Program builds: slow under Miri, and nothing here is unsafe beyond a map of no memory.
    #[cfg_attr(miri, ignore)]
    fn straight_line_kernels_terminate() {
        for opt in ["O0", "O2"] {
            let p = program(&format!("vector_add.{opt}"));
            assert_eq!(p.kernel_terminates("vector_add"), Some(true), "{opt}");
            assert_eq!(p.kernel_terminates("no_such_kernel"), None);
        }
    }

    #[test]
    // Program builds: slow under Miri, and nothing here is unsafe beyond a map of no memory.
    #[cfg_attr(miri, ignore)]
    fn loops_do_not() {
        for opt in ["O0", "O2"] {
            let p = program(&format!("matmul.{opt}"));
            assert_eq!(p.kernel_terminates("matmul_naive"), Some(false), "{opt}");
            assert_eq!(p.kernel_terminates("matmul_tiled"), Some(false), "{opt}");
        }
    }

    #[test]
    // Program builds: slow under Miri, and nothing here is unsafe beyond a map of no memory.
    #[cfg_attr(miri, ignore)]
    fn a_constant_printf_format_terminates() {
        for opt in ["O0", "O2"] {
            let p = program(&format!("printf.{opt}"));
            assert_eq!(p.kernel_terminates("printf_kernel"), Some(true), "{opt}");
        }
    }

    #[test]
    // Program builds: slow under Miri, and nothing here is unsafe beyond a map of no memory.
    #[cfg_attr(miri, ignore)]
    fn printf_formats_must_be_constant_bounded_and_unchanged() {
        let p = program("printf.O2");
        let code = p.codes[0].clone().unwrap();
        let globals = &p.global_ranges;
        assert!(terminates(&code, globals));
        // A kernel that may write global memory could change its format.
        let mut c = code.clone();
        c.insts.push(Inst::Store {
            p: 0,
            v: 0,
            size: 4,
            n: 1,
            stride: 4,
            space: Space::Global,
            site: 0,
        });
        assert!(!terminates(&c, globals));
        // A format pointer set twice is no constant.
        let fmt = code.printfs[0].fmt;
        let mut c = code.clone();
        c.insts.push(Inst::Copy { d: fmt, s: 0, n: 1 });
        assert!(!terminates(&c, globals));
        // A format whose width makes a huge output.
        let [addr] = constant(&code, &Defs::new(&code), fmt, 0).unwrap()[..] else {
            panic!("one format address");
        };
        p.storage
            .write_at((addr - p.storage.addr()) as usize, b"%99999d\0");
        assert!(!terminates(&code, globals));
        assert_eq!(p.kernel_terminates("printf_kernel"), Some(false));
        p.storage
            .write_at((addr - p.storage.addr()) as usize, b"%9999d\0");
        assert_eq!(p.kernel_terminates("printf_kernel"), Some(true));
    }

    #[test]
    // Program builds: slow under Miri, and nothing here is unsafe beyond a map of no memory.
    #[cfg_attr(miri, ignore)]
    fn cycles_anywhere_reachable_count() {
        use crate::ir::{Block, Edge};
        let jump = |to| {
            Term::Jump(Edge {
                to,
                moves: Vec::new(),
            })
        };
        let block = |term| Block {
            start: 0,
            end: 0,
            term,
        };
        let mut code = Code {
            blocks: vec![block(jump(1)), block(jump(2)), block(Term::Return)],
            ..Code::default()
        };
        assert!(acyclic(&code));
        // A cycle among unreachable blocks does not count; a reachable one does.
        code.blocks.push(block(jump(3)));
        assert!(acyclic(&code));
        code.blocks[1].term = Term::Barrier(1);
        assert!(!acyclic(&code));
        // An edge to no block.
        code.blocks[1].term = jump(7);
        assert!(!acyclic(&code));
    }

    #[test]
    // Program builds: slow under Miri, and nothing here is unsafe beyond a map of no memory.
    #[cfg_attr(miri, ignore)]
    fn output_bounds() {
        assert_eq!(output_bound(b"abc"), Some(3));
        assert!(output_bound(b"%d").is_some_and(|n| n < MAX_PRINTF));
        assert!(output_bound(b"%9999d").is_some_and(|n| n < MAX_PRINTF));
        assert_eq!(output_bound(b"%99999d"), None);
        assert_eq!(output_bound(b"%.99999d"), None);
        assert_eq!(output_bound(b"%v99999d"), None);
        assert!(output_bound(b"%s%s").is_some_and(|n| n < MAX_PRINTF));
        assert!(output_bound(b"%s%s%s%s%s").is_some_and(|n| n > MAX_PRINTF));
        assert!(output_bound(b"%%").is_some_and(|n| n < 1000));
    }
}
