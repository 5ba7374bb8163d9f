//! The JIT backend: compiles a decoded kernel (`crate::ir::Code`, the same IR the
//! interpreter runs) to native code with Cranelift.
//!
//! # Execution model
//! One compiled function runs one *round* of a work-group: for every work-item (lane) in
//! turn it runs from the block the lane waits at (the kernel's entry at first) until the lane
//! reaches a work-group barrier or returns. A barrier therefore costs the end of one
//! work-item loop, not a thread switch: the driver (`run.rs`) calls the function again while
//! some lane waits at a barrier, as the interpreter releases its lanes once none can run.
//! Values stay in machine registers inside a round (Cranelift `Variable`s, one per component
//! slot); only what is live across a barrier (`slots::live_in` of the barrier's target) is
//! stored, in the lane's frame (`frame[lane * frame_slots + index]`, each lane's values
//! together), and loaded again when the lane resumes. Slots no instruction writes (constants, arguments,
//! the addresses of static `__local` variables) are loaded once per round, outside the lane
//! loop. Work-groups run in parallel on the engine's worker threads as the interpreter's do
//! (`exec::launch`).
//!
//! # What is compiled, and what the interpreter does
//! Integer arithmetic and comparisons, `float`/`double` arithmetic, comparisons and
//! `fma`/`mad`, selects, copies, access chains, loads and stores of every size, and the
//! work-item ids are compiled to machine instructions. Every other value operation calls the
//! interpreter's own function for it (`crate::ops::bin`/`un`/`tern`: the same code, so the
//! same bits), and the remaining instructions (aggregate loads and stores, memory copies,
//! atomics, dynamic extracts and inserts, bitcasts, geometric functions, shuffles, printf,
//! images) run through the interpreter's instruction step for that one lane, with their
//! operands stored to and their results loaded from the register file around the call.
//!
//! Kernels that need lanes to run in lockstep are not compiled: collectives
//! (`Inst::Group`), `OpGroupAsyncCopy`, and sub-group meeting points (`Term::SubgroupSync`).
//! For them [`compile`] returns the reason, and the kernel runs on the interpreter
//! ([`crate::Program::engine`] tells which engine a kernel runs on, and why).
//!
//! # The sanitizer
//! In checked mode (the default) every load and store is bounds-checked as the interpreter
//! checks it: an inline compare against the access site's last allocation (the same per-site
//! cache the interpreter keeps, refreshed on a miss), the work-group's local arena, or the
//! work-item's private slice; on a miss the interpreter's checker decides, and a fault stops
//! the launch with the same error. Unchecked mode compiles plain loads and stores: a kernel
//! that reads or writes outside its memory then does so for real, as on a GPU.

mod lower;
pub(crate) mod run;
mod simd;
mod slots;

use crate::ir::{Code, Inst, Term};

/// A kernel compiled to native code.
pub(crate) struct Compiled {
    /// The round function: `fn(ctx: *mut run::Ctx) -> u32`.
    pub(crate) entry: unsafe extern "C" fn(*mut run::Ctx) -> u32,
    /// The kernel has no work-group barrier: one round runs every lane to its end.
    pub(crate) single_round: bool,
    /// Lanes per chunk of the vector path (0: no vector path).
    pub(crate) width: usize,
    /// The vector path takes chunks only in groups whose width is a multiple of `width`
    /// (the kernel reads work-item ids: `simd::needs_rows`).
    pub(crate) needs_rows: bool,
    /// Entries of each lane's frame (values live across barriers).
    pub(crate) frame_slots: usize,
    /// Per access site: the largest span its compiled accesses check inline.
    pub(crate) site_spans: Box<[u64]>,
    /// The read-only slots the vector path reads from `run::Ctx::uniforms` (their lane 0
    /// values, in this order).
    pub(crate) uniforms: Box<[crate::ir::Slot]>,
    /// The operations called out to `crate::ops`, referenced by address from the code.
    _ops: lower::OpTables,
    /// Owns the code's memory.
    module: Option<cranelift_jit::JITModule>,
}

// SAFETY: after `compile` returns, the JIT module is never used again except to free its
// memory in `Drop` (which has `&mut self`); the compiled code is immutable machine code that
// any thread may run, and the operation tables it reads are never written.
unsafe impl Send for Compiled {}
// SAFETY: as above: shared access only runs the code and reads the tables.
unsafe impl Sync for Compiled {}

impl Compiled {
    /// Whether the vector path takes chunks in work-groups `x` work-items wide.
    pub(crate) fn takes_group(&self, x: usize) -> bool {
        self.width > 0 && (!self.needs_rows || x.is_multiple_of(self.width))
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: a `Compiled` is dropped only when no launch holds it (launches borrow
            // it for their whole duration), so none of its functions runs or will run.
            unsafe { m.free_memory() }
        }
    }
}

/// Why a kernel cannot be compiled, if it cannot: the first instruction or terminator the
/// JIT does not take.
pub(crate) fn unsupported(code: &Code) -> Option<String> {
    for inst in &code.insts {
        match inst {
            Inst::Group(g) => {
                return Some(format!(
                    "it uses {}, a collective whose work-items run in lockstep (the JIT runs work-items one after another)",
                    g.name
                ));
            }
            Inst::AsyncCopy { .. } => {
                return Some(
                    "it uses OpGroupAsyncCopy, a work-group collective whose work-items run in lockstep (the JIT runs work-items one after another)"
                        .into(),
                );
            }
            _ => {}
        }
    }
    for b in &code.blocks {
        // The entry's live-ins come from the register file, a barrier's continuation's from
        // the lanes' frames: one block cannot be both (the decoder never makes it so).
        if matches!(b.term, Term::Barrier(n) if n == code.entry) {
            return Some(
                "a work-group barrier continues at the kernel's entry block, which the JIT does not lay out (a decoder invariant broken)"
                    .into(),
            );
        }
        if let Term::SubgroupSync(_) = b.term {
            return Some(
                "it has a sub-group barrier or meeting point, where work-items run in lockstep (the JIT runs work-items one after another)"
                    .into(),
            );
        }
    }
    None
}

/// The slots written somewhere that some path from the entry reads first
/// (`Code::undefined_at_entry`), except those a launch sets before the first instruction
/// (arguments, constants, arena addresses: some are rewritten in place, as arguments of
/// unusual integer widths masked to their width).
pub(crate) fn undefined_at_entry(code: &Code) -> Vec<crate::ir::Slot> {
    use crate::ir::{Param, Preset};
    let live = slots::live_in(code);
    let written = slots::written(code);
    let mut set_up = slots::Set::new(code.slots);
    for p in &code.params {
        match *p {
            Param::Value { d, layout } => {
                let n = code.layouts.get(layout as usize).map_or(1, Vec::len);
                for k in 0..n as u32 {
                    set_up.insert(d + k);
                }
            }
            Param::Local { d }
            | Param::Image { d }
            | Param::Sampler { d }
            | Param::ByVal { d, .. } => set_up.insert(d),
        }
    }
    for p in &code.presets {
        match *p {
            Preset::Const { d, n, .. } => {
                for k in 0..u32::from(n) {
                    set_up.insert(d + k);
                }
            }
            Preset::Private { d, .. } | Preset::Local { d, .. } => set_up.insert(d),
        }
    }
    live.get(code.entry as usize)
        .map(|l| {
            l.iter()
                .filter(|&s| written.contains(s) && !set_up.contains(s))
                .collect()
        })
        .unwrap_or_default()
}

/// Compiles `code`, with vector chunks of at most `max_width` lanes (16, 8 or 4); `Err`
/// says why it cannot be compiled.
pub(crate) fn compile(code: &Code, checked: bool, max_width: usize) -> Result<Compiled, String> {
    if let Some(why) = unsupported(code) {
        return Err(why);
    }
    lower::compile(code, checked, max_width)
}

/// The narrower chunk widths a kernel may be compiled for again, for groups whose width
/// its chunks do not divide ([`crate::JitSlot`]).
pub(crate) const NARROW_WIDTHS: [usize; 2] = [8, 4];
