//! Running compiled kernels: the context a round function reads ([`Ctx`]), the functions
//! compiled code calls back into (the interpreter's operations and checks), and the rounds
//! of one work-group ([`run_group`]).

use super::Compiled;
use crate::exec::{Exec, Stop};
use crate::ir::{Builtin, Inst};
use crate::mem::Space;
use crate::ops::{self, BinOp, TernOp, UnOp};

/// The resume block of a lane that has returned.
pub(crate) const DONE: u32 = u32::MAX;

/// Set in the resume block of lanes the vector path saved at a barrier as one chunk
/// (`vector.rs`). When every lane of a chunk holds it with the same block, the last write
/// of each was that one chunk's save (a chunk's lanes are saved together, and any later save
/// of a lane alone, on the scalar path, clears it), so the values it saved as uniform or
/// affine are so, and the chunk resumes without checking them. The scalar path ignores it.
pub(super) const CHUNK: u32 = 1 << 30;

/// What a round function returns.
pub(super) const ROUND_OK: u32 = 0;
/// A callout recorded a [`Stop`] in [`Ctx::stop`].
pub(super) const ROUND_STOP: u32 = 1;
/// A lane reached `OpUnreachable`.
pub(super) const ROUND_TRAP: u32 = 2;
/// A lane reached `Term::Fail` number [`Ctx::fail`] (with [`Ctx::fail_value`]).
pub(super) const ROUND_FAIL: u32 = 3;

/// What a round function reads and writes besides the kernel's memory. Compiled code reads
/// its fields at their `offset_of!` offsets (`lower.rs`).
#[repr(C)]
pub(crate) struct Ctx {
    /// The register file (`regs[slot * lanes + lane]`): values live across barriers, the
    /// operands of instructions run by the interpreter, and the slots no instruction writes.
    pub(super) regs: *mut u64,
    pub(super) lanes: u64,
    /// Per lane: the block it resumes at, or [`DONE`].
    pub(super) resume: *mut u32,
    /// The values live across a barrier: `Compiled::frame_slots` rows of one entry per
    /// lane (`frame[index * lanes + lane]`).
    pub(super) frame: *mut u64,
    /// Local ids per dimension, per lane.
    pub(super) lid: [*const u32; 3],
    /// Per dimension: `group id * group size + global offset`.
    pub(super) gbase: [u64; 3],
    /// Per access site: the allocation it hit last (checked mode), as its start and the
    /// number of addresses an access of the site's span may start at (0: ask the checker).
    pub(super) sites: *mut [u64; 2],
    /// Per access site: that span (`Compiled::site_spans`).
    pub(super) site_spans: *const u64,
    /// The work-group's local arena `[lo, hi)`.
    pub(super) local: [u64; 2],
    pub(super) private_base: u64,
    pub(super) private_stride: u64,
    /// The lane that stopped the round (`ROUND_TRAP`, `ROUND_FAIL`).
    pub(super) fail_lane: u64,
    /// Which `Term::Fail` (block index), and the value it reports.
    pub(super) fail: u64,
    pub(super) fail_value: u64,
    /// `Compiled::uniforms`' values: the read-only slots the vector path loads where a chunk
    /// starts its round.
    pub(super) uniforms: *const u64,
    /// Non-zero when the work-group's size in x is a multiple of the vector path's chunk, so
    /// that a chunk's lanes share their local ids in y and z (`simd::component_uniform`).
    pub(super) rows: u64,
    /// The executor (`*mut Exec`) the callouts use.
    exec: *mut (),
    /// Why the round stopped (`ROUND_STOP`).
    stop: Option<Stop>,
}

/// The built-ins by the index compiled code passes to [`cb_builtin`].
pub(super) const BUILTINS: [Builtin; 17] = [
    Builtin::GlobalId,
    Builtin::LocalId,
    Builtin::GroupId,
    Builtin::NumGroups,
    Builtin::LocalSize,
    Builtin::EnqueuedLocalSize,
    Builtin::GlobalSize,
    Builtin::GlobalOffset,
    Builtin::GlobalLinearId,
    Builtin::LocalLinearId,
    Builtin::WorkDim,
    Builtin::SubgroupSize,
    Builtin::SubgroupMaxSize,
    Builtin::NumSubgroups,
    Builtin::NumEnqueuedSubgroups,
    Builtin::SubgroupId,
    Builtin::SubgroupLocalId,
];

/// # Safety
/// `ctx.exec` points to the live executor of the running round.
unsafe fn exec<'a>(ctx: &'a mut Ctx) -> &'a mut Exec<'a> {
    // SAFETY: `run_group` sets `exec` from a `&mut Exec` it holds for the whole round, and
    // touches the executor only through this pointer while the round runs.
    unsafe { &mut *(ctx.exec as *mut Exec<'a>) }
}

/// `crate::ops::bin` for compiled code.
pub(super) extern "C" fn cb_bin(op: *const BinOp, a: u64, b: u64) -> u64 {
    // SAFETY: compiled code passes the address of an operation in its `OpTables`, which the
    // `Compiled` owns for as long as its code can run.
    ops::bin(unsafe { *op }, a, b)
}

/// `crate::ops::un` for compiled code.
pub(super) extern "C" fn cb_un(op: *const UnOp, a: u64) -> u64 {
    // SAFETY: as for `cb_bin`.
    ops::un(unsafe { *op }, a)
}

/// `crate::ops::tern` for compiled code.
pub(super) extern "C" fn cb_tern(op: *const TernOp, a: u64, b: u64, c: u64) -> u64 {
    // SAFETY: as for `cb_bin`.
    ops::tern(unsafe { *op }, a, b, c)
}

/// Built-in `BUILTINS[b]`, component `c`, of `lane`.
pub(super) extern "C" fn cb_builtin(ctx: *mut Ctx, b: u64, c: u64, lane: u64) -> u64 {
    // SAFETY: compiled code passes the context `run_group` gave it.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: the round is running.
    let ex = unsafe { exec(ctx) };
    ex.builtin_value(BUILTINS[b as usize], c as usize, lane as usize)
}

/// Instruction `idx` of the kernel for `lane`, on the interpreter. `ROUND_OK`, or
/// `ROUND_STOP` with the reason in `ctx.stop`.
pub(super) extern "C" fn cb_step(ctx: *mut Ctx, idx: u64, lane: u64) -> u32 {
    // SAFETY: compiled code passes the context `run_group` gave it.
    let ctx = unsafe { &mut *ctx };
    guarded(ctx, |ex| ex.step_lane(idx as usize, lane as u32))
}

/// Instruction `idx` on the interpreter for the `n` lanes from `first` (a chunk of the
/// vector path), as [`cb_step`] for one.
pub(super) extern "C" fn cb_step_chunk(ctx: *mut Ctx, idx: u64, first: u64, n: u64) -> u32 {
    // SAFETY: compiled code passes the context `run_group` gave it.
    let ctx = unsafe { &mut *ctx };
    let (sites, spans) = (ctx.sites, ctx.site_spans);
    guarded(ctx, |ex| {
        ex.step_lanes(idx as usize, first as u32, n as u32)?;
        // A global access: the site's range, as `cb_check` leaves it, so that the compiled
        // fast path takes the next chunks.
        let site = match ex.code().insts.get(idx as usize) {
            Some(&(Inst::Load { space, site, .. } | Inst::LoadIdx { space, site, .. }))
                if matches!(space, Space::Global | Space::Generic) =>
            {
                Some((site, false))
            }
            Some(&(Inst::Store { space, site, .. } | Inst::StoreIdx { space, site, .. }))
                if matches!(space, Space::Global | Space::Generic) =>
            {
                Some((site, true))
            }
            _ => None,
        };
        if let Some((site, write)) = site {
            // SAFETY: `site` is the site of one of the kernel's instructions.
            unsafe {
                store_site(
                    sites,
                    spans,
                    site as u64,
                    ex.site_hint(site as usize, write),
                )
            };
        }
        Ok(())
    })
}

/// `f` on the running round's executor, a panic turned into an internal error: `ROUND_OK`,
/// or `ROUND_STOP` with the reason in `ctx.stop`.
fn guarded(ctx: &mut Ctx, f: impl FnOnce(&mut Exec<'_>) -> Result<(), Stop>) -> u32 {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the round is running.
        let ex = unsafe { exec(ctx) };
        f(ex)
    }));
    match r {
        Ok(Ok(())) => ROUND_OK,
        Ok(Err(stop)) => {
            ctx.stop = Some(stop);
            ROUND_STOP
        }
        Err(_) => {
            ctx.stop = Some(Stop::Failed(
                "internal error in the engine's JIT callout (a bug)".into(),
            ));
            ROUND_STOP
        }
    }
}

/// Stores site `site`'s allocation `[lo, hi)` for compiled code: its start and the number of
/// addresses an access of the site's span may start at (`Ctx::sites`).
///
/// # Safety
/// `sites` and `spans` are the running round's `Ctx::sites` and `Ctx::site_spans` (one
/// entry per access site of the kernel), and `site` is one of the kernel's sites.
unsafe fn store_site(sites: *mut [u64; 2], spans: *const u64, site: u64, (lo, hi): (u64, u64)) {
    // SAFETY: the caller's contract: `site` indexes both arrays.
    let span = unsafe { *spans.add(site as usize) };
    let count = match hi.checked_sub(lo) {
        Some(d) if d >= span => d - span + 1,
        _ => 0,
    };
    // SAFETY: as above.
    unsafe { *sites.add(site as usize) = [lo, count] };
}

/// The sanitizer's decision on an access the inline check did not accept: 1 if allowed
/// (and the site's cache refreshed), 0 with the fault in `ctx.stop`.
pub(super) extern "C" fn cb_check(
    ctx: *mut Ctx,
    space: u64,
    addr: u64,
    span: u64,
    lane: u64,
    site: u64,
    write: u64,
) -> u32 {
    // SAFETY: compiled code passes the context `run_group` gave it.
    let ctx = unsafe { &mut *ctx };
    let space = match space {
        0 => Space::Global,
        1 => Space::Local,
        2 => Space::Private,
        _ => Space::Generic,
    };
    let (sites, spans) = (ctx.sites, ctx.site_spans);
    // SAFETY: the round is running.
    let ex = unsafe { exec(ctx) };
    match ex.check_access(space, addr, span, lane as usize, site as usize, write != 0) {
        Ok(range) => {
            if space == Space::Global || space == Space::Generic {
                // SAFETY: compiled code passes only its own sites, of this round's kernel.
                unsafe { store_site(sites, spans, site, range) };
            }
            1
        }
        Err(stop) => {
            ctx.stop = Some(stop);
            0
        }
    }
}

/// The space number compiled code passes to [`cb_check`].
pub(super) fn space_code(s: Space) -> i64 {
    match s {
        Space::Global => 0,
        Space::Local => 1,
        Space::Private => 2,
        Space::Generic => 3,
    }
}

/// Per-worker state of compiled launches (kept across work-groups).
pub(crate) struct Worker {
    resume: Vec<u32>,
    frame: Vec<u64>,
    sites: Vec<[u64; 2]>,
    uniforms: Vec<u64>,
}

impl Worker {
    pub(crate) fn new(lanes: usize, sites: u32) -> Worker {
        Worker {
            resume: vec![DONE; lanes],
            frame: Vec::new(),
            // No start address allowed: the first access of every site asks the checker.
            sites: vec![[0, 0]; sites as usize],
            uniforms: Vec::new(),
        }
    }
}

/// Runs work-group `group` on compiled code: rounds until every lane has returned.
pub(crate) fn run_group(
    ex: &mut Exec<'_>,
    w: &mut Worker,
    jit: &Compiled,
    group: [u32; 3],
) -> Result<(), Stop> {
    ex.begin_group(group);
    let entry = ex.code().entry;
    if !jit.single_round {
        w.resume.fill(entry);
    }
    let frame_len = jit.frame_slots * w.resume.len();
    if w.frame.len() != frame_len {
        w.frame = vec![0; frame_len];
    }
    let g = ex.grid();
    let lid = ex.lid_ptrs();
    let (local_lo, local_len) = ex.local_range();
    let (private_base, private_stride) = ex.private_layout();
    w.uniforms.clear();
    w.uniforms
        .extend(jit.uniforms.iter().map(|&s| ex.first_lane(s)));
    let mut ctx = Ctx {
        regs: ex.regs_ptr(),
        lanes: w.resume.len() as u64,
        resume: w.resume.as_mut_ptr(),
        frame: w.frame.as_mut_ptr(),
        lid,
        gbase: std::array::from_fn(|d| {
            u64::from(group[d]) * u64::from(g.size[d]) + u64::from(g.offset[d])
        }),
        sites: w.sites.as_mut_ptr(),
        site_spans: jit.site_spans.as_ptr(),
        local: [local_lo, local_lo + local_len],
        private_base,
        private_stride,
        fail_lane: 0,
        fail: 0,
        fail_value: 0,
        uniforms: w.uniforms.as_ptr(),
        rows: u64::from(jit.width > 0 && (g.size[0] as usize).is_multiple_of(jit.width)),
        exec: ex as *mut Exec<'_> as *mut (),
        stop: None,
    };
    loop {
        // SAFETY: `jit` was compiled from this executor's code (`Shared::code`), for
        // which every pointer of `ctx` is laid out: `regs` has `slots * lanes` entries,
        // `resume` and the local ids `lanes`, `frame` `frame_slots * lanes`, `sites` and
        // `site_spans` one per access site, `uniforms` one per `jit.uniforms`; the vector
        // path touches the entries of a chunk only when the whole chunk is below `lanes`. The executor outlives the call and is
        // reached only through `ctx.exec` during it. In checked mode every access the code
        // makes was proven inside memory the launch may touch.
        let r = unsafe { (jit.entry)(&mut ctx) };
        ex.flush_printf();
        match r {
            ROUND_OK => {}
            ROUND_STOP => {
                return Err(ctx.stop.take().unwrap_or_else(|| {
                    Stop::Failed("the JIT stopped without a reason (a bug)".into())
                }));
            }
            ROUND_TRAP => return Err(Stop::Failed("a work-item reached OpUnreachable".into())),
            ROUND_FAIL => return Err(ex.fail_message(ctx.fail as usize, ctx.fail_value)),
            other => {
                return Err(Stop::Failed(format!("the JIT returned {other} (a bug)")));
            }
        }
        if jit.single_round || w.resume.iter().all(|&r| r == DONE) {
            return Ok(());
        }
    }
}
