//! Programs over the safe `level-zero` API, decoded from the fuzzer's bytes and run by the
//! interpreter the proptest suite uses (`tests/safe_api`): the same ops, the same host-side
//! model of sequential program order, the same oracle (no crash, hang, panic from the crate,
//! wrong value read back, unexpected error or leak). A violation panics, which libFuzzer
//! reports as a crash with the program in the message.
//!
//! `SAFE_API_HOLES` (see `tests/safe_api/mod.rs`; unset: the paths of every fixed hole)
//! chooses the paths of known holes the interpreter takes.

#![no_main]

#[path = "../../tests/safe_api/mod.rs"]
mod safe_api;

use std::time::Duration;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use safe_api::{
    Class, Engine, Evs, Faults, Holes, KernelKind, Kind, On, Op, Program, Scope, Sel, Settings,
    Ty, View, Wait,
};

/// LeakSanitizer off for this target: programs leak on purpose (driver instances live for the
/// rest of the process; `mem::forget` is one of the ops), and the oracle checks leaks itself,
/// with the driver's live-object counters.
// SAFETY: LeakSanitizer looks this symbol up and calls it with no arguments; nothing else in
// the process defines it.
#[unsafe(no_mangle)]
pub extern "C" fn __lsan_is_turned_off() -> std::ffi::c_int {
    1
}

fn pick<T: Copy>(u: &mut Unstructured, items: &[T]) -> Result<T> {
    Ok(*u.choose(items)?)
}

fn sel(u: &mut Unstructured) -> Result<Sel> {
    let buf = u.arbitrary()?;
    let view = if u.ratio(3, 5)? {
        View::Whole
    } else {
        View::Range {
            start: u.arbitrary()?,
            len: u.arbitrary()?,
        }
    };
    Ok(Sel { buf, view })
}

fn on(u: &mut Unstructured) -> Result<On> {
    Ok(On {
        regular: u.ratio(1, 3)?,
        idx: u.arbitrary()?,
    })
}

fn wait(u: &mut Unstructured) -> Result<Wait> {
    pick(
        u,
        &[
            Wait::Unbounded,
            Wait::Unbounded,
            Wait::Zero,
            Wait::Micro,
            Wait::Milli,
        ],
    )
}

/// Mostly none; else a signal, a wait, or both (`launch_with`, `barrier_with`).
fn evs(u: &mut Unstructured) -> Result<Evs> {
    if u.ratio(3, 5)? {
        return Ok(Evs::NONE);
    }
    Ok(Evs {
        signal: if u.arbitrary()? {
            Some(u.arbitrary()?)
        } else {
            None
        },
        wait: if u.arbitrary()? {
            Some(u.arbitrary()?)
        } else {
            None
        },
    })
}

fn op(u: &mut Unstructured, zst: bool) -> Result<Op> {
    let b = |u: &mut Unstructured| -> Result<u8> { u.arbitrary() };
    let tys: &[Ty] = if zst {
        &[Ty::U8, Ty::U32, Ty::F32, Ty::U64, Ty::Zst]
    } else {
        &[Ty::U8, Ty::U32, Ty::F32, Ty::U64]
    };
    let kinds = [Kind::Device, Kind::Host, Kind::Shared];
    let engines = [Engine::Compute, Engine::Compute, Engine::Copy];
    let classes = [
        Class::Buffer,
        Class::Buffer,
        Class::Immediate,
        Class::Regular,
        Class::Queue,
        Class::Pool,
        Class::Event,
        Class::Fence,
        Class::Kernel,
        Class::Context,
    ];
    Ok(match u.int_in_range(0u8..=45)? {
        0 => match u.int_in_range(0u8..=2)? {
            0 => Op::NewContext,
            1 => Op::NewContextOn { dev: b(u)? },
            _ => Op::DropTimeout {
                queue: u.arbitrary()?,
                idx: b(u)?,
                wait: wait(u)?,
            },
        },
        1..=3 => Op::NewBuffer {
            ctx: b(u)?,
            kind: pick(u, &kinds)?,
            dev: b(u)?,
            ty: pick(u, tys)?,
            len: u.arbitrary()?,
            seed: b(u)?,
        },
        4 => Op::NewImmediate {
            ctx: b(u)?,
            dev: b(u)?,
            engine: pick(u, &engines)?,
            relaxed: u.ratio(1, 5)?,
            sync: u.ratio(1, 6)?,
        },
        5 => Op::NewRegular {
            ctx: b(u)?,
            dev: b(u)?,
            engine: pick(u, &engines)?,
            relaxed: u.ratio(1, 5)?,
        },
        6 => Op::NewQueue {
            ctx: b(u)?,
            dev: b(u)?,
            engine: pick(u, &engines)?,
            sync: u.ratio(1, 6)?,
        },
        7 => Op::NewPool {
            ctx: b(u)?,
            count: b(u)?,
            host_visible: !u.ratio(1, 8)?,
        },
        8 => Op::NewEvent {
            pool: b(u)?,
            index: b(u)?,
        },
        9 => Op::NewFence {
            queue: b(u)?,
            signalled: u.ratio(1, 3)?,
        },
        10 => Op::NewKernel {
            ctx: b(u)?,
            dev: b(u)?,
            kind: pick(
                u,
                &[
                    KernelKind::VectorAdd,
                    KernelKind::Saxpy,
                    KernelKind::EmptyArgs,
                ],
            )?,
        },
        11 => Op::Drop {
            class: pick(u, &classes)?,
            idx: b(u)?,
        },
        12 => Op::Forget {
            class: pick(u, &classes)?,
            idx: b(u)?,
        },
        13..=15 => Op::Copy {
            on: on(u)?,
            dst: sel(u)?,
            src: b(u)?,
            src_start: u.arbitrary()?,
            mismatch: u.ratio(1, 20)?,
        },
        16 | 17 => Op::Fill {
            on: on(u)?,
            dst: sel(u)?,
            value: u.arbitrary()?,
        },
        18 => Op::Timestamp {
            on: on(u)?,
            dst: sel(u)?,
        },
        19 | 20 => Op::Launch {
            on: on(u)?,
            kernel: b(u)?,
            a: sel(u)?,
            b: b(u)?,
            alias: b(u)?,
            scalar: u.arbitrary()?,
            group: b(u)?,
            groups: b(u)?,
            evs: evs(u)?,
        },
        21 => Op::Barrier {
            on: on(u)?,
            evs: evs(u)?,
        },
        22 => Op::SignalEvent {
            on: on(u)?,
            event: b(u)?,
        },
        23 => Op::WaitEvent {
            on: on(u)?,
            event: b(u)?,
        },
        24 => Op::ResetEvent {
            list: b(u)?,
            event: b(u)?,
        },
        25 => Op::CopyFromSlice {
            list: b(u)?,
            dst: sel(u)?,
            seed: b(u)?,
        },
        26 | 27 => Op::CopyToSlice {
            list: b(u)?,
            src: sel(u)?,
        },
        28 => Op::ListSync {
            list: b(u)?,
            wait: wait(u)?,
        },
        29 => Op::Close { list: b(u)? },
        30 => Op::ResetList { list: b(u)? },
        31 => Op::Execute {
            queue: b(u)?,
            lists: [b(u)?, b(u)?],
            two: u.ratio(1, 5)?,
        },
        32 => Op::ExecuteFenced {
            queue: b(u)?,
            list: b(u)?,
            fence: b(u)?,
        },
        33 => Op::QueueSync {
            queue: b(u)?,
            wait: wait(u)?,
        },
        34 => match u.int_in_range(0u8..=3)? {
            0 => Op::InFlight { queue: b(u)? },
            1 => Op::FenceSync {
                fence: b(u)?,
                wait: wait(u)?,
            },
            2 => Op::FenceReset { fence: b(u)? },
            _ => Op::FenceQuery { fence: b(u)? },
        },
        35 => Op::HostSignal { event: b(u)? },
        36 => match u.int_in_range(0u8..=2)? {
            0 => Op::HostReset { event: b(u)? },
            1 => Op::HostSync {
                event: b(u)?,
                wait: wait(u)?,
            },
            _ => Op::EventQuery { event: b(u)? },
        },
        37 | 38 => Op::HostRead { buf: sel(u)? },
        39 => Op::HostWrite {
            buf: b(u)?,
            seed: b(u)?,
        },
        40 => Op::CopyPeer {
            dst: b(u)?,
            src: b(u)?,
            staged: u.ratio(1, 3)?,
        },
        41 => Op::Open(match u.int_in_range(0u8..=4)? {
            0 | 1 => Scope::Guard {
                buf: b(u)?,
                write: u.arbitrary()?,
                seed: b(u)?,
            },
            2 | 3 => Scope::Catch,
            _ => Scope::Thread {
                list: b(u)?,
                bufs: b(u)?,
            },
        }),
        42 => Op::End,
        43 => Op::Panic,
        44 => match u.int_in_range(0u8..=2)? {
            0 => Op::ForgetGuard,
            1 => Op::Join,
            _ => Op::Status,
        },
        _ => Op::Barrier {
            on: on(u)?,
            evs: evs(u)?,
        },
    })
}

fn program(u: &mut Unstructured, zst: bool) -> Result<Program> {
    let faults = match u.int_in_range(0u8..=9)? {
        0 => Faults {
            device_lost_after: Some(u.int_in_range(0..=40)?),
            ..Faults::default()
        },
        1 => Faults {
            fail_alloc_at: Some(u.int_in_range(1..=24)?),
            ..Faults::default()
        },
        2 => Faults {
            no_p2p: true,
            ..Faults::default()
        },
        _ => Faults::default(),
    };
    let drop_seed = u.arbitrary()?;
    // The prelude without its kernels: building modules is most of a short program's time
    // under the sanitizer; the fuzzer makes kernels with `NewKernel` when it wants them.
    let mut ops: Vec<Op> = Program::prelude()
        .into_iter()
        .filter(|op| !matches!(op, Op::NewKernel { .. }))
        .collect();
    // At most 64 ops of the fuzzer's: a program stays a few milliseconds.
    for _ in 0..64 {
        if u.is_empty() {
            break;
        }
        ops.push(op(u, zst)?);
    }
    Ok(Program {
        faults,
        ops,
        drop_seed,
    })
}

fuzz_target!(|data: &[u8]| {
    let holes = Holes::from_env();
    let mut u = Unstructured::new(data);
    let Ok(p) = program(&mut u, holes.zst) else {
        return;
    };
    let settings = Settings {
        holes,
        time_limit: Duration::from_secs(10),
        large: true,
    };
    let r = safe_api::run(&p, &settings);
    if !r.violations.is_empty() {
        panic!("safe_api violations: {:#?}\n{p:?}", r.violations);
    }
});
