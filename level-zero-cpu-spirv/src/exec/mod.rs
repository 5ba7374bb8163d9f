//! The interpreter, the engine's reference backend: runs the work-items of a work-group
//! together (lanes), one block at a time, and the work-groups of a launch in parallel on
//! worker threads.
//!
//! Scheduling (`control_flow.rs`): every lane (work-item) has a current block. The executor
//! keeps, per block, the list of lanes waiting to run it, and always runs the lowest-numbered
//! non-empty block for all its lanes at once. Blocks are numbered so that loops and branches
//! come before the blocks they reconverge at, so lanes that diverged meet again at the merge
//! point and run together from there. Correctness does not depend on that order: any
//! interleaving of lanes is a valid execution of independent work-items. A barrier ends a
//! block: the lanes reaching it wait until no lane can run any more, then all continue
//! together.
//!
//! [`Exec::step`] runs one instruction (`crate::ir::Inst`) for the active lanes: one `match`
//! whose arms call the family's `#[inline(always)]` method, so the dispatch stays one flat
//! jump table. The families, named like the decoder's (`crate::decode`):
//!
//! | file | SPIR-V capability / instructions | `Inst` |
//! |---|---|---|
//! | `control_flow.rs` | control flow, `OpPhi`, work-group `OpControlBarrier` (scheduler) | `Term` |
//! | `arithmetic.rs` | arithmetic, bit, relational and logical, numeric conversions, OpenCL.std math (values: `crate::ops`) | `Bin`, `Un`, `Tern`, `Select` |
//! | `memory.rs` | loads, stores, access chains (`Addresses`: `OpPtrAccessChain`, `OpCopyMemorySized`), copies | `Gep`, `Load*`, `Store*`, `CopyMem` |
//! | `atomics.rs` | atomics, `Int64Atomics` | `Atomic` |
//! | `builtins.rs` | built-in variables | `Builtin` |
//! | `composites.rs` | dynamic vector extract and insert | `ExtractDyn`, `InsertDyn` |
//! | `conversions.rs` | `OpBitcast` between element sizes | `Bitcast` |
//! | `extended_instructions.rs` | OpenCL.std geometric functions, `shuffle`, core `OpDot`/`OpAny`/`OpAll` | `Reduce`, `Cross`, `Normalize`, `Shuffle` |
//! | `printf.rs` | OpenCL.std `printf` | `Printf` |
//! | `groups.rs` | group instructions (`OpGroupAsyncCopy`), `Groups`, `GroupUniformArithmeticKHR`, `GroupNonUniform*`, `SubgroupShuffleINTEL` | `AsyncCopy`, `Group` |
//! | `images.rs` | `ImageBasic`: image reads, writes, sampling, queries | `Image` |
//! | this file | `OpMemoryBarrier`, `OpGroupWaitEvents` | `Fence` |
//!
//! `lanes.rs` has the lane loops they share; `launch.rs` spreads a launch's work-groups over
//! worker threads, one [`Exec`] each.

mod arithmetic;
mod atomics;
mod builtins;
mod composites;
mod control_flow;
mod conversions;
mod extended_instructions;
mod groups;
mod images;
mod lanes;
pub(crate) mod launch;
mod memory;
mod pool;
mod printf;

use crate::ir::*;
use crate::mem::{Fault, Memory, RawBuf};
use crate::{ArgValue, MemoryMap};
use lanes::copy;

/// Why a work-group stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A sanitizer fault by a lane.
    Oob {
        lane: usize,
        fault: Fault,
        write: bool,
    },
    /// Anything else.
    Failed(String),
}

/// The launch geometry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    pub(crate) size: [u32; 3],
    pub(crate) count: [u32; 3],
    pub(crate) offset: [u32; 3],
    pub(crate) work_dim: u32,
}

impl Grid {
    pub(crate) fn lanes(&self) -> usize {
        self.size.iter().map(|&s| s as usize).product()
    }
}

/// What all executors of a launch share.
pub(crate) struct Shared<'a> {
    pub(crate) code: &'a Code,
    pub(crate) grid: Grid,
    pub(crate) args: &'a [ArgValue<'a>],
    pub(crate) map: &'a dyn MemoryMap,
    pub(crate) globals: &'a [(u64, u64)],
    /// Offset of each `__local` pointer argument in the local arena (by parameter index).
    pub(crate) local_args: Vec<u64>,
    pub(crate) local_total: u64,
}

/// One worker's state: registers and arenas for one work-group at a time.
pub(crate) struct Exec<'a> {
    sh: &'a Shared<'a>,
    lanes: usize,
    regs: Vec<u64>,
    private: RawBuf,
    private_stride: u64,
    local: RawBuf,
    mem: Memory<'a>,
    lid: Vec<[u32; 3]>,
    /// Local ids per dimension (structure of arrays).
    lid_soa: [Vec<u32>; 3],
    all: Vec<u32>,
    lists: Vec<Vec<u32>>,
    bits: Vec<u64>,
    waiting: Vec<u32>,
    /// Lanes at sub-group meeting points (`Term::SubgroupSync`).
    meeting: Vec<u32>,
    wait_next: Vec<u32>,
    /// Lanes that have returned, and how many.
    done: Vec<bool>,
    done_count: usize,
    spare: Vec<Vec<u32>>,
    group: [u32; 3],
    /// printf output of the current group.
    pub(crate) out: Vec<u8>,
    /// printf output per lane since the last barrier, moved to `out` in lane order when the
    /// lanes leave a barrier and when the group ends ([`Exec::flush_printf`]): the order a
    /// work-item-at-a-time schedule (the JIT's) produces.
    lane_out: Vec<Vec<u8>>,
    /// Some lane's `lane_out` may hold text (set by printf, cleared by `flush_printf`).
    printed: bool,
}

impl<'a> Exec<'a> {
    pub(crate) fn new(sh: &'a Shared<'a>) -> Result<Exec<'a>, String> {
        let code = sh.code;
        let lanes = sh.grid.lanes();
        let private_stride = code.private_size.div_ceil(16) * 16;
        let private_total = private_stride
            .checked_mul(lanes as u64)
            .filter(|&t| t <= 1 << 32)
            .ok_or("the launch needs too much private memory")?;
        let private = RawBuf::zeroed(private_total as usize);
        let local = RawBuf::zeroed(sh.local_total as usize);
        let mem = Memory::new(
            sh.map,
            sh.globals,
            &local,
            &private,
            private_stride,
            code.sites as usize,
        );
        let nregs = (code.slots as usize)
            .checked_mul(lanes)
            .ok_or("too many registers")?;
        if nregs > 1 << 31 {
            return Err("the kernel needs too many registers for this work-group size".into());
        }
        let mut regs = vec![0u64; nregs];
        let mut lid = Vec::with_capacity(lanes);
        for z in 0..sh.grid.size[2] {
            for y in 0..sh.grid.size[1] {
                for x in 0..sh.grid.size[0] {
                    lid.push([x, y, z]);
                }
            }
        }
        let l = lanes;
        let bcast = |regs: &mut Vec<u64>, slot: Slot, v: u64| {
            let s = slot as usize * l;
            regs[s..s + l].fill(v);
        };
        for p in &code.presets {
            match *p {
                Preset::Const { d, at, n } => {
                    for k in 0..u32::from(n) {
                        bcast(&mut regs, d + k, code.consts[(at + k) as usize]);
                    }
                }
                Preset::Private { d, offset } => {
                    let s = d as usize * l;
                    for (lane, r) in regs[s..s + l].iter_mut().enumerate() {
                        *r = private.addr() + lane as u64 * private_stride + offset;
                    }
                }
                Preset::Local { d, offset } => bcast(&mut regs, d, local.addr() + offset),
            }
        }
        for (k, p) in code.params.iter().enumerate() {
            match p {
                Param::Value { d, layout } => {
                    let bytes = match sh.args.get(k) {
                        Some(ArgValue::Bytes(b)) => *b,
                        _ => return Err(format!("argument {k} must be a value")),
                    };
                    for (c, &(off, size)) in code.layouts[*layout as usize].iter().enumerate() {
                        let mut w = [0u8; 8];
                        let (off, size) = (off as usize, usize::from(size));
                        if off + size <= bytes.len() {
                            w[..size].copy_from_slice(&bytes[off..off + size]);
                        }
                        bcast(&mut regs, d + c as u32, u64::from_le_bytes(w));
                    }
                }
                Param::Local { d } => bcast(&mut regs, *d, local.addr() + sh.local_args[k]),
                Param::Image { d } => bcast(&mut regs, *d, k as u64),
                Param::Sampler { d } => match sh.args.get(k) {
                    Some(ArgValue::Sampler(smp)) => {
                        bcast(&mut regs, *d, crate::module::sampler_bits(*smp))
                    }
                    _ => return Err(format!("argument {k} must be a sampler")),
                },
                Param::ByVal { d, offset, .. } => {
                    let s = *d as usize * l;
                    for (lane, r) in regs[s..s + l].iter_mut().enumerate() {
                        *r = private.addr() + lane as u64 * private_stride + offset;
                    }
                }
            }
        }
        let nb = code.blocks.len();
        Ok(Exec {
            sh,
            lanes,
            regs,
            private,
            private_stride,
            local,
            mem,
            lid_soa: std::array::from_fn(|d| lid.iter().map(|x| x[d]).collect()),
            lid,
            all: (0..lanes as u32).collect(),
            lists: vec![Vec::new(); nb],
            bits: vec![0; nb.div_ceil(64)],
            waiting: Vec::new(),
            meeting: Vec::new(),
            wait_next: vec![0; lanes],
            done: vec![false; lanes],
            done_count: 0,
            spare: Vec::new(),
            group: [0; 3],
            out: Vec::new(),
            lane_out: vec![Vec::new(); lanes],
            printed: false,
        })
    }

    /// The kernel's sub-group size.
    #[inline(always)]
    pub(crate) fn subgroup(&self) -> usize {
        self.sh.code.subgroup_size.max(1) as usize
    }

    /// The global id of a lane in the current group.
    pub(crate) fn global_id(&self, lane: usize) -> [u64; 3] {
        let g = &self.sh.grid;
        let l = self.lid.get(lane).copied().unwrap_or([0; 3]);
        std::array::from_fn(|d| {
            u64::from(self.group[d]) * u64::from(g.size[d])
                + u64::from(l[d])
                + u64::from(g.offset[d])
        })
    }

    // ---- What the JIT's rounds (`crate::jit::run`) use --------------------------------

    /// The kernel's code.
    pub(crate) fn code(&self) -> &'a Code {
        self.sh.code
    }

    /// The launch geometry.
    pub(crate) fn grid(&self) -> Grid {
        self.sh.grid
    }

    /// The local ids of every lane, per dimension (`lanes` entries each).
    pub(crate) fn lid_ptrs(&self) -> [*const u32; 3] {
        std::array::from_fn(|d| self.lid_soa[d].as_ptr())
    }

    /// The local arena: address and length.
    pub(crate) fn local_range(&self) -> (u64, u64) {
        (self.local.addr(), self.local.len() as u64)
    }

    /// The private arena: address and bytes per lane.
    pub(crate) fn private_layout(&self) -> (u64, u64) {
        (self.private.addr(), self.private_stride)
    }

    /// Lane 0's entry of slot `slot` in the register file (0 past its end).
    pub(crate) fn first_lane(&self, slot: Slot) -> u64 {
        self.regs
            .get(slot as usize * self.lanes)
            .copied()
            .unwrap_or(0)
    }

    /// The register file (`slots * lanes` entries, never reallocated).
    pub(crate) fn regs_ptr(&mut self) -> *mut u64 {
        self.regs.as_mut_ptr()
    }

    /// Moves the lanes' printf output to `out`, lane after lane.
    pub(crate) fn flush_printf(&mut self) {
        if !std::mem::take(&mut self.printed) {
            return;
        }
        for o in &mut self.lane_out {
            self.out.append(o);
        }
    }

    /// Instruction `idx` of the kernel for one lane.
    pub(crate) fn step_lane(&mut self, idx: usize, lane: u32) -> Result<(), Stop> {
        let code = self.sh.code;
        self.step(&code.insts[idx], &[lane], false)
    }

    /// The range later accesses of global (or generic) access site `site` may use without
    /// asking the checker (as `check_access` returns it), for a read or a write.
    pub(crate) fn site_hint(&self, site: usize, write: bool) -> (u64, u64) {
        let space = crate::mem::Space::Global;
        if write {
            self.mem.hint_write(space, site).bounds()
        } else {
            self.mem.hint(space, site).bounds()
        }
    }

    /// Instruction `idx` of the kernel for lanes `first..first + n`, in lane order.
    pub(crate) fn step_lanes(&mut self, idx: usize, first: u32, n: u32) -> Result<(), Stop> {
        let code = self.sh.code;
        // A chunk is at most 16 lanes: no allocation on this path.
        let mut buf = [0u32; 16];
        let lanes: Vec<u32>;
        let act = if n as usize <= buf.len() {
            for (k, l) in buf.iter_mut().take(n as usize).enumerate() {
                *l = first + k as u32;
            }
            &buf[..n as usize]
        } else {
            lanes = (first..first + n).collect();
            &lanes[..]
        };
        self.step(&code.insts[idx], act, false)
    }

    /// Component `c` of built-in `b` for `lane`.
    pub(crate) fn builtin_value(&self, b: Builtin, c: usize, lane: usize) -> u64 {
        self.builtin(b, c, lane)
    }

    /// The sanitizer on one access; when allowed, the range later accesses of the same
    /// site may use without asking again (empty if none).
    pub(crate) fn check_access(
        &mut self,
        space: crate::mem::Space,
        addr: u64,
        span: u64,
        lane: usize,
        site: usize,
        write: bool,
    ) -> Result<(u64, u64), Stop> {
        let r = if write {
            self.mem.check_write(space, addr, span, lane, site)
        } else {
            self.mem.check(space, addr, span, lane, site)
        };
        match r {
            Ok(_) if write => Ok(self.mem.hint_write(space, site).bounds()),
            Ok(_) => Ok(self.mem.hint(space, site).bounds()),
            Err(fault) => Err(Stop::Oob { lane, fault, write }),
        }
    }

    /// Runs one instruction for the active lanes `act` (`full`: every lane of the group).
    #[inline]
    fn step(&mut self, inst: &Inst, act: &[u32], full: bool) -> Result<(), Stop> {
        let l = self.lanes;
        match *inst {
            Inst::Bin { op, d, a, b, n } => {
                arithmetic::bin(&mut self.regs, l, act, full, op, d, a, b, n)
            }
            Inst::Un { op, d, a, n } => arithmetic::un(&mut self.regs, l, act, full, op, d, a, n),
            Inst::Tern { op, d, a, b, c, n } => {
                arithmetic::tern(&mut self.regs, l, act, full, op, d, a, b, c, n)
            }
            Inst::Select {
                d,
                c,
                a,
                b,
                n,
                scalar_cond,
            } => self.select(d, c, a, b, n, scalar_cond, act),
            Inst::Copy { d, s: src, n } => copy(&mut self.regs, l, act, full, d, src, n),
            Inst::Gep {
                d,
                base,
                off,
                at,
                len,
            } => self.gep(d, base, off, at, len, act, full),
            Inst::Load {
                d,
                p,
                size,
                n,
                stride,
                space,
                site,
            } => self.load_any(d, p, size, n, stride, space, site, act, full)?,
            Inst::Store {
                p,
                v,
                size,
                n,
                stride,
                space,
                site,
            } => self.store_any(p, v, size, n, stride, space, site, act, full)?,
            Inst::LoadIdx {
                d,
                base,
                idx,
                w,
                scale,
                off,
                size,
                space,
                site,
            } => self.load_idx_any(d, base, idx, w, scale, off, size, space, site, act, full)?,
            Inst::StoreIdx {
                base,
                idx,
                w,
                scale,
                off,
                v,
                size,
                space,
                site,
            } => self.store_idx_any(base, idx, w, scale, off, v, size, space, site, act)?,
            Inst::LoadAgg {
                d,
                p,
                layout,
                space,
                site,
            } => self.load_agg(d, p, layout, space, site, act)?,
            Inst::StoreAgg {
                p,
                v,
                layout,
                space,
                site,
            } => self.store_agg(p, v, layout, space, site, act)?,
            Inst::CopyMem {
                dst,
                src,
                len,
                len_slot,
                dspace,
                sspace,
                site,
            } => self.copy_mem(dst, src, len, len_slot, dspace, sspace, site, act)?,
            Inst::Atomic {
                op,
                d,
                p,
                v,
                cmp,
                size,
                space,
                site,
            } => self.atomic(op, d, p, v, cmp, size, space, site, act)?,
            Inst::Builtin { d, b, n, comp } => self.builtin_read(d, b, n, comp, act, full),
            Inst::ExtractDyn { d, v, idx, n } => self.extract_dyn(d, v, idx, n, act),
            Inst::InsertDyn { d, v, x, idx, n } => self.insert_dyn(d, v, x, idx, n, act, full),
            Inst::Bitcast {
                d,
                s: src,
                fsize,
                nf,
                tsize,
                nt,
            } => self.bitcast(d, src, fsize, nf, tsize, nt, act),
            Inst::Reduce { op, k, d, a, b, n } => self.reduce(op, k, d, a, b, n, act),
            Inst::Cross { k, d, a, b } => self.cross(k, d, a, b, act),
            Inst::Normalize { k, d, a, n } => self.normalize(k, d, a, n, act),
            Inst::Printf { d, call } => self.printf_call(d, call, act)?,
            Inst::AsyncCopy {
                d,
                dst,
                src,
                n,
                stride,
                esize,
                dst_strided,
                dspace,
                sspace,
                site,
            } => self.async_copy(
                d,
                dst,
                src,
                n,
                stride,
                esize,
                dst_strided,
                dspace,
                sspace,
                site,
                act,
            )?,
            Inst::Shuffle {
                d,
                a,
                b,
                mask,
                na,
                nb,
                n,
            } => self.shuffle(d, a, b, mask, na, nb, n, act),
            // OpMemoryBarrier, OpGroupWaitEvents.
            Inst::Fence => std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst),
            Inst::Group(ref g) => self.collective(g, act)?,
            Inst::Image(ref x) => self.image(x, act)?,
        }
        Ok(())
    }
}
