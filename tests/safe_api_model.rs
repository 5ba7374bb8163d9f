//! Random programs over the safe API, run against the embedded CPU driver and checked against
//! a host-side model of sequential program order (see `tests/safe_api/mod.rs` for the ops and
//! the oracle). The cargo-fuzz target `fuzz/fuzz_targets/safe_api.rs` runs the same
//! interpreter on fuzzer-made programs.
//!
//! Bounded by default (64 programs of at most 40 ops, a few seconds). Environment:
//! - `SAFE_API_CASES`, `SAFE_API_OPS`: more and longer programs (a longer run:
//!   `SAFE_API_CASES=2000 SAFE_API_OPS=120 cargo test --release --test safe_api_model`);
//! - `SAFE_API_HOLES=signalled_fence,zst,lost_copy,panic_wait,cross_list_order,lost_blocked`
//!   (`all`: the five fixed holes' paths, the default; `none`): the paths of known holes the
//!   generator takes (all fixed);
//! - `SAFE_API_SEED`: a fixed seed for the random programs (a `u64`);
//! - `SAFE_API_STATS=1`: how often each op kind ran and was skipped;
//! - `SAFE_API_TRACE=1`: every op on stderr before it runs (where a hang is), and each
//!   program's number, which `SAFE_API_ONLY=k` runs alone (with the same seed);
//! - `SAFE_API_STRICT_LEAKS=1`: the leak check exact (or bounded by what forgotten and
//!   deliberately leaked objects hold) even when the interpreter cannot see the crate's
//!   deliberate leaks per thread (its log counter is the process's logger; if another logger
//!   took that place, a growth of `level_zero::deliberate_leaks()` excuses live objects);
//! - `SAFE_API_LARGE_BYTES`: the size of "large" buffers (512 KiB; larger widens race windows).

mod safe_api;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use safe_api::{
    Class, Engine, Evs, Faults, Holes, KernelKind, Kind, On, Op, Program, Scope, Sel, Settings, Ty,
    View, Wait,
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
        })
        .unwrap_or(default)
}

fn sel() -> impl Strategy<Value = Sel> {
    (
        any::<u8>(),
        prop_oneof![
            3 => Just(View::Whole),
            2 => (any::<u16>(), any::<u16>()).prop_map(|(start, len)| View::Range { start, len }),
        ],
    )
        .prop_map(|(buf, view)| Sel { buf, view })
}

fn on() -> impl Strategy<Value = On> {
    (prop::bool::weighted(0.35), any::<u8>()).prop_map(|(regular, idx)| On { regular, idx })
}

fn wait() -> impl Strategy<Value = Wait> {
    prop_oneof![
        2 => Just(Wait::Unbounded),
        1 => Just(Wait::Zero),
        1 => Just(Wait::Micro),
        1 => Just(Wait::Milli),
    ]
}

/// Mostly none; else a signal, a wait, or both (`launch_with`, `barrier_with`).
fn evs() -> impl Strategy<Value = Evs> {
    prop_oneof![
        3 => Just(Evs::NONE),
        2 => (prop::option::of(any::<u8>()), prop::option::of(any::<u8>()))
            .prop_map(|(signal, wait)| Evs { signal, wait }),
    ]
}

fn ty(zst: bool) -> impl Strategy<Value = Ty> {
    prop_oneof![
        2 => Just(Ty::U8),
        3 => Just(Ty::U32),
        3 => Just(Ty::F32),
        2 => Just(Ty::U64),
        if zst { 1 } else { 0 } => Just(Ty::Zst),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Device), Just(Kind::Host), Just(Kind::Shared)]
}

fn engine() -> impl Strategy<Value = Engine> {
    prop_oneof![3 => Just(Engine::Compute), 1 => Just(Engine::Copy)]
}

fn class() -> impl Strategy<Value = Class> {
    prop_oneof![
        3 => Just(Class::Buffer),
        2 => Just(Class::Immediate),
        1 => Just(Class::Regular),
        1 => Just(Class::Queue),
        1 => Just(Class::Pool),
        1 => Just(Class::Event),
        1 => Just(Class::Fence),
        1 => Just(Class::Kernel),
        1 => Just(Class::Context),
    ]
}

fn kernel_kind() -> impl Strategy<Value = KernelKind> {
    prop_oneof![
        Just(KernelKind::VectorAdd),
        Just(KernelKind::Saxpy),
        Just(KernelKind::EmptyArgs)
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        2 => (any::<u8>(), any::<bool>(), any::<u8>())
            .prop_map(|(buf, write, seed)| Scope::Guard { buf, write, seed }),
        2 => Just(Scope::Catch),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(list, bufs)| Scope::Thread { list, bufs }),
    ]
}

/// Objects, then commands and synchronisation, then scopes and the rest.
fn op(zst: bool) -> impl Strategy<Value = Op> {
    let create = prop_oneof![
        1 => Just(Op::NewContext),
        1 => any::<u8>().prop_map(|dev| Op::NewContextOn { dev }),
        1 => (any::<bool>(), any::<u8>(), wait())
            .prop_map(|(queue, idx, wait)| Op::DropTimeout { queue, idx, wait }),
        8 => (any::<u8>(), kind(), any::<u8>(), ty(zst), any::<u16>(), any::<u8>()).prop_map(
            |(ctx, kind, dev, ty, len, seed)| Op::NewBuffer { ctx, kind, dev, ty, len, seed }
        ),
        4 => (any::<u8>(), any::<u8>(), engine(), prop::bool::weighted(0.2), prop::bool::weighted(0.15))
            .prop_map(|(ctx, dev, engine, relaxed, sync)| Op::NewImmediate { ctx, dev, engine, relaxed, sync }),
        2 => (any::<u8>(), any::<u8>(), engine(), prop::bool::weighted(0.2))
            .prop_map(|(ctx, dev, engine, relaxed)| Op::NewRegular { ctx, dev, engine, relaxed }),
        2 => (any::<u8>(), any::<u8>(), engine(), prop::bool::weighted(0.15))
            .prop_map(|(ctx, dev, engine, sync)| Op::NewQueue { ctx, dev, engine, sync }),
        1 => (any::<u8>(), any::<u8>(), prop::bool::weighted(0.85))
            .prop_map(|(ctx, count, host_visible)| Op::NewPool { ctx, count, host_visible }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(pool, index)| Op::NewEvent { pool, index }),
        1 => (any::<u8>(), prop::bool::weighted(0.3))
            .prop_map(|(queue, signalled)| Op::NewFence { queue, signalled }),
        2 => (any::<u8>(), any::<u8>(), kernel_kind())
            .prop_map(|(ctx, dev, kind)| Op::NewKernel { ctx, dev, kind }),
        2 => (class(), any::<u8>()).prop_map(|(class, idx)| Op::Drop { class, idx }),
        1 => (class(), any::<u8>()).prop_map(|(class, idx)| Op::Forget { class, idx }),
    ];
    let command = prop_oneof![
        6 => (on(), sel(), any::<u8>(), any::<u16>(), prop::bool::weighted(0.05)).prop_map(
            |(on, dst, src, src_start, mismatch)| Op::Copy { on, dst, src, src_start, mismatch }
        ),
        4 => (on(), sel(), any::<u64>()).prop_map(|(on, dst, value)| Op::Fill { on, dst, value }),
        1 => (on(), sel()).prop_map(|(on, dst)| Op::Timestamp { on, dst }),
        4 => (
            (on(), any::<u8>(), sel(), any::<u8>(), any::<u8>()),
            (any::<i8>(), any::<u8>(), any::<u8>(), evs()),
        )
            .prop_map(|((on, kernel, a, b, alias), (scalar, group, groups, evs))| Op::Launch {
                on, kernel, a, b, alias, scalar, group, groups, evs
            }),
        2 => (on(), evs()).prop_map(|(on, evs)| Op::Barrier { on, evs }),
        2 => (on(), any::<u8>()).prop_map(|(on, event)| Op::SignalEvent { on, event }),
        2 => (on(), any::<u8>()).prop_map(|(on, event)| Op::WaitEvent { on, event }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(list, event)| Op::ResetEvent { list, event }),
        3 => (any::<u8>(), sel(), any::<u8>())
            .prop_map(|(list, dst, seed)| Op::CopyFromSlice { list, dst, seed }),
        4 => (any::<u8>(), sel()).prop_map(|(list, src)| Op::CopyToSlice { list, src }),
        2 => (any::<u8>(), any::<u8>(), prop::bool::weighted(0.3))
            .prop_map(|(dst, src, staged)| Op::CopyPeer { dst, src, staged }),
    ];
    let sync = prop_oneof![
        3 => (any::<u8>(), wait()).prop_map(|(list, wait)| Op::ListSync { list, wait }),
        3 => any::<u8>().prop_map(|list| Op::Close { list }),
        1 => any::<u8>().prop_map(|list| Op::ResetList { list }),
        3 => (any::<u8>(), any::<[u8; 2]>(), prop::bool::weighted(0.2))
            .prop_map(|(queue, lists, two)| Op::Execute { queue, lists, two }),
        2 => (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(queue, list, fence)| Op::ExecuteFenced { queue, list, fence }),
        2 => (any::<u8>(), wait()).prop_map(|(queue, wait)| Op::QueueSync { queue, wait }),
        1 => any::<u8>().prop_map(|queue| Op::InFlight { queue }),
        1 => (any::<u8>(), wait()).prop_map(|(fence, wait)| Op::FenceSync { fence, wait }),
        1 => any::<u8>().prop_map(|fence| Op::FenceReset { fence }),
        1 => any::<u8>().prop_map(|fence| Op::FenceQuery { fence }),
        2 => any::<u8>().prop_map(|event| Op::HostSignal { event }),
        1 => any::<u8>().prop_map(|event| Op::HostReset { event }),
        1 => (any::<u8>(), wait()).prop_map(|(event, wait)| Op::HostSync { event, wait }),
        1 => any::<u8>().prop_map(|event| Op::EventQuery { event }),
    ];
    let rest = prop_oneof![
        4 => sel().prop_map(|buf| Op::HostRead { buf }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(buf, seed)| Op::HostWrite { buf, seed }),
        1 => Just(Op::Status),
        3 => scope().prop_map(Op::Open),
        3 => Just(Op::End),
        1 => Just(Op::Panic),
        1 => Just(Op::ForgetGuard),
        1 => Just(Op::Join),
    ];
    prop_oneof![5 => create, 8 => command, 5 => sync, 3 => rest]
}

fn faults() -> impl Strategy<Value = Faults> {
    prop_oneof![
        8 => Just(Faults::default()),
        1 => (0u8..40).prop_map(|n| Faults { device_lost_after: Some(n), ..Faults::default() }),
        1 => (1u8..24).prop_map(|n| Faults { fail_alloc_at: Some(n), ..Faults::default() }),
        1 => Just(Faults { no_p2p: true, ..Faults::default() }),
    ]
}

/// A program starts with a few objects so that most ops find something to work on.
fn program(max_ops: usize, zst: bool) -> impl Strategy<Value = Program> {
    let prelude = Program::prelude();
    (
        faults(),
        prop::collection::vec(op(zst), 0..=max_ops),
        any::<u64>(),
    )
        .prop_map(move |(faults, ops, drop_seed)| {
            let mut all = prelude.clone();
            all.extend(ops);
            Program {
                faults,
                ops: all,
                drop_seed,
            }
        })
}

#[test]
fn random_programs_behave_in_sequential_program_order() {
    let cases = env_usize("SAFE_API_CASES", 64) as u32;
    let max_ops = env_usize("SAFE_API_OPS", 40);
    let holes = Holes::from_env();
    let settings = Settings {
        holes,
        ..Settings::default()
    };
    let mut config = RunnerConfig::with_cases(cases);
    config.failure_persistence = None;
    config.max_shrink_iters = 2000;
    // A seed always, printed, so that any run (including one the watchdog aborts) can be
    // repeated.
    let seed: u64 = match std::env::var("SAFE_API_SEED") {
        Ok(s) => s.parse().expect("SAFE_API_SEED: a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    };
    eprintln!("safe_api_model: SAFE_API_SEED={seed} (holes {holes:?})");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let start = std::time::Instant::now();
    let (run, skipped) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0usize));
    let leaked = std::cell::Cell::new(0usize);
    let per_op = std::cell::RefCell::new(std::collections::BTreeMap::<&str, (usize, usize)>::new());
    // `SAFE_API_ONLY=k`: run only the k-th program of the seed's sequence (`SAFE_API_TRACE`
    // prints each program's number), e.g. to trace a hang the watchdog reported.
    let only: Option<usize> = std::env::var("SAFE_API_ONLY")
        .ok()
        .map(|v| v.parse().expect("SAFE_API_ONLY: a number"));
    let case = std::cell::Cell::new(0usize);
    let result = runner.run(&program(max_ops, holes.zst), |p| {
        let k = case.get();
        case.set(k + 1);
        if only.is_some_and(|o| o != k) {
            return Ok(());
        }
        if std::env::var_os("SAFE_API_TRACE").is_some() {
            eprintln!("safe_api_model: program {k}");
        }
        let r = safe_api::run(&p, &settings);
        run.set(run.get() + r.ops_run);
        leaked.set(leaked.get() + r.leaked_drops);
        skipped.set(skipped.get() + r.ops_skipped);
        for (k, (a, b)) in &r.per_op {
            let mut m = per_op.borrow_mut();
            let e = m.entry(k).or_default();
            e.0 += a;
            e.1 += b;
        }
        prop_assert!(r.violations.is_empty(), "violations: {:#?}", r.violations);
        Ok(())
    });
    eprintln!(
        "safe_api_model: {cases} programs (at most {max_ops} ops), {} ops run, {} skipped, {} lists and queues leaked on drop, {:.1?}",
        run.get(),
        skipped.get(),
        leaked.get(),
        start.elapsed()
    );
    if std::env::var_os("SAFE_API_STATS").is_some() {
        for (k, (a, b)) in per_op.borrow().iter() {
            eprintln!("  {k:<16} run {a:>7}  skipped {b:>7}");
        }
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Every op kind on a program written by hand: the interpreter and the model agree with the
/// crate on the plain paths (so that the random runs test the crate, not the interpreter).
#[test]
fn a_program_using_every_op_passes() {
    use Op::*;
    let s = |buf: u8| Sel {
        buf,
        view: View::Whole,
    };
    let v = |buf: u8, start: u16, len: u16| Sel {
        buf,
        view: View::Range { start, len },
    };
    let imm = On {
        regular: false,
        idx: 0,
    };
    let reg = On {
        regular: true,
        idx: 0,
    };
    let ops = vec![
        NewContext,
        NewBuffer {
            ctx: 0,
            kind: Kind::Device,
            dev: 0,
            ty: Ty::F32,
            len: 2 + (8 << 3),
            seed: 0,
        },
        NewBuffer {
            ctx: 0,
            kind: Kind::Host,
            dev: 0,
            ty: Ty::F32,
            len: 2 + (8 << 3),
            seed: 4,
        },
        NewBuffer {
            ctx: 0,
            kind: Kind::Shared,
            dev: 1,
            ty: Ty::F32,
            len: 2 + (8 << 3),
            seed: 1,
        },
        NewBuffer {
            ctx: 0,
            kind: Kind::Device,
            dev: 1,
            ty: Ty::F32,
            len: 2 + (8 << 3),
            seed: 0,
        },
        NewBuffer {
            ctx: 0,
            kind: Kind::Host,
            dev: 0,
            ty: Ty::U64,
            len: 3,
            seed: 0,
        },
        NewImmediate {
            ctx: 0,
            dev: 0,
            engine: Engine::Compute,
            relaxed: false,
            sync: false,
        },
        NewImmediate {
            ctx: 0,
            dev: 1,
            engine: Engine::Copy,
            relaxed: true,
            sync: false,
        },
        NewRegular {
            ctx: 0,
            dev: 0,
            engine: Engine::Compute,
            relaxed: false,
        },
        NewQueue {
            ctx: 0,
            dev: 0,
            engine: Engine::Compute,
            sync: false,
        },
        NewPool {
            ctx: 0,
            count: 3,
            host_visible: true,
        },
        NewEvent { pool: 0, index: 0 },
        NewEvent { pool: 0, index: 1 },
        NewFence {
            queue: 0,
            signalled: false,
        },
        NewKernel {
            ctx: 0,
            dev: 0,
            kind: KernelKind::VectorAdd,
        },
        NewKernel {
            ctx: 0,
            dev: 0,
            kind: KernelKind::Saxpy,
        },
        CopyFromSlice {
            list: 0,
            dst: s(0),
            seed: 2,
        },
        Copy {
            on: imm,
            dst: s(1),
            src: 0,
            src_start: 0,
            mismatch: false,
        },
        Fill {
            on: imm,
            dst: v(2, 3, 9),
            value: 0x4040_0000,
        },
        Launch {
            on: imm,
            kernel: 0,
            a: s(0),
            b: 1,
            alias: 0,
            scalar: 3,
            group: 2,
            groups: 3,
            evs: Evs::NONE,
        },
        Launch {
            on: imm,
            kernel: 1,
            a: v(1, 0, 32),
            b: 2,
            alias: 2,
            scalar: -5,
            group: 1,
            groups: 7,
            evs: Evs::NONE,
        },
        Timestamp { on: imm, dst: s(4) },
        ListSync {
            list: 0,
            wait: Wait::Unbounded,
        },
        HostRead { buf: s(1) },
        HostRead { buf: v(2, 5, 20) },
        CopyToSlice { list: 1, src: s(3) },
        Copy {
            on: reg,
            dst: s(3),
            src: 0,
            src_start: 0,
            mismatch: false,
        },
        Fill {
            on: reg,
            dst: v(0, 1, 2),
            value: 7,
        },
        SignalEvent { on: reg, event: 0 },
        Close { list: 0 },
        ExecuteFenced {
            queue: 0,
            list: 0,
            fence: 0,
        },
        FenceSync {
            fence: 0,
            wait: Wait::Unbounded,
        },
        FenceReset { fence: 0 },
        Execute {
            queue: 0,
            lists: [0, 0],
            two: false,
        },
        QueueSync {
            queue: 0,
            wait: Wait::Unbounded,
        },
        HostSync {
            event: 0,
            wait: Wait::Unbounded,
        },
        WaitEvent { on: imm, event: 1 },
        Fill {
            on: imm,
            dst: s(1),
            value: 1,
        },
        ListSync {
            list: 0,
            wait: Wait::Micro,
        },
        HostSignal { event: 1 },
        ListSync {
            list: 0,
            wait: Wait::Unbounded,
        },
        Open(Scope::Guard {
            buf: 1,
            write: true,
            seed: 9,
        }),
        Copy {
            on: imm,
            dst: s(0),
            src: 3,
            src_start: 0,
            mismatch: false,
        },
        End,
        Open(Scope::Catch),
        NewImmediate {
            ctx: 0,
            dev: 1,
            engine: Engine::Compute,
            relaxed: false,
            sync: false,
        },
        Fill {
            on: On {
                regular: false,
                idx: 2,
            },
            dst: s(3),
            value: 5,
        },
        Panic,
        End,
        Open(Scope::Thread { list: 1, bufs: 0b1 }),
        Fill {
            on: imm,
            dst: s(0),
            value: 6,
        },
        CopyToSlice { list: 0, src: s(0) },
        End,
        CopyPeer {
            dst: 3,
            src: 0,
            staged: false,
        },
        CopyPeer {
            dst: 0,
            src: 3,
            staged: true,
        },
        Join,
        HostWrite { buf: 1, seed: 3 },
        Forget {
            class: Class::Fence,
            idx: 0,
        },
        Drop {
            class: Class::Immediate,
            idx: 1,
        },
        Status,
    ];
    let p = Program {
        faults: Faults::default(),
        ops,
        drop_seed: 7,
    };
    let r = safe_api::run(&p, &Settings::default());
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    assert!(
        r.ops_skipped <= 3,
        "too many ops skipped ({}): the program does not test what it says",
        r.ops_skipped
    );
}

/// The oracle is not vacuous: a model that disagrees with the crate is reported.
#[test]
fn the_leak_check_sees_a_forgotten_buffer_within_its_bound() {
    let ops = vec![
        Op::NewBuffer {
            ctx: 0,
            kind: Kind::Device,
            dev: 0,
            ty: Ty::U32,
            len: 3,
            seed: 0,
        },
        Op::Forget {
            class: Class::Buffer,
            idx: 0,
        },
    ];
    let p = Program {
        faults: Faults::default(),
        ops,
        drop_seed: 1,
    };
    let r = safe_api::run(&p, &Settings::default());
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    match r.leak_policy {
        safe_api::LeakPolicy::Bounded(b) => {
            assert_eq!((b.allocations, b.contexts), (1, 1), "{b:?}");
        }
        other => panic!("a forgotten buffer: {other:?}"),
    }
}

// -----------------------------------------------------------------------------------------
// The known holes: a directed program for each switch. With the switch off, the interpreter
// keeps the program away from the hole and it passes; with it on, the program reaches the
// hole. All five are fixed: the `hole_*` tests are regression tests (each failed, hung or
// aborted before its fix).

/// The prelude without its kernels (the directed programs launch none; building the modules
/// is most of a short program's time in a debug build).
fn prelude() -> Vec<Op> {
    Program::prelude()
        .into_iter()
        .filter(|op| !matches!(op, Op::NewKernel { .. }))
        .collect()
}

fn big(kind: Kind, dev: u8, seed: u8) -> Op {
    // `len % 8 == 7`: a "large" buffer (512 KiB), which the CPU driver runs on its worker
    // threads rather than inline.
    Op::NewBuffer {
        ctx: 0,
        kind,
        dev,
        ty: Ty::F32,
        len: 7,
        seed,
    }
}

fn whole(buf: u8) -> Sel {
    Sel {
        buf,
        view: View::Whole,
    }
}

/// Hole 1: an execution with a signalled fence is released by the next reap while it runs.
fn hole_signalled_fence() -> Program {
    use Op::*;
    let mut ops = prelude();
    ops.extend([
        big(Kind::Host, 0, 0), // buffer 3
        Fill {
            on: On {
                regular: true,
                idx: 0,
            },
            dst: whole(3),
            value: 0x4142_4344,
        },
        Close { list: 0 },
        NewFence {
            queue: 0,
            signalled: true,
        }, // fence 1
        ExecuteFenced {
            queue: 0,
            list: 0,
            fence: 1,
        },
        InFlight { queue: 0 },
        // Host-visible buffers only: index 2 of [host, shared, buffer 3].
        HostRead { buf: whole(2) },
    ]);
    Program {
        faults: Faults::default(),
        ops,
        drop_seed: 1,
    }
}

/// Hole 2: zero-sized elements.
fn hole_zst() -> Program {
    use Op::*;
    let mut ops = prelude();
    ops.extend([
        NewBuffer {
            ctx: 0,
            kind: Kind::Host,
            dev: 0,
            ty: Ty::Zst,
            len: 2 + (6 << 3),
            seed: 0,
        },
        // Host-visible buffers only: index 2 of [host, shared, buffer 3].
        HostRead {
            buf: Sel {
                buf: 2,
                view: View::Whole,
            },
        },
        CopyToSlice {
            list: 0,
            src: Sel {
                buf: 3,
                view: View::Whole,
            },
        },
    ]);
    Program {
        faults: Faults::default(),
        ops,
        drop_seed: 1,
    }
}

/// Hole 3: `copy_to_slice` returns DEVICE_LOST while its copy still runs, when another list of
/// the device (on another thread) loses it.
fn hole_lost_copy(after: u8) -> Program {
    use Op::*;
    let mut ops = prelude();
    ops.extend([
        big(Kind::Device, 0, 0), // buffer 3
        big(Kind::Device, 0, 0), // buffer 4
        NewImmediate {
            ctx: 0,
            dev: 0,
            engine: Engine::Compute,
            relaxed: false,
            sync: false,
        }, // list 2
        // The thread takes list 0 (device 0) and buffer 3; its barriers are submissions.
        Open(Scope::Thread {
            list: 0,
            bufs: 0b100,
        }),
    ]);
    ops.extend((0..12).map(|_| Barrier {
        on: On {
            regular: false,
            idx: 0,
        },
        evs: Evs::NONE,
    }));
    ops.push(End);
    for _ in 0..12 {
        // List 2 (index 1 once list 0 is away) copies buffer 4 (index 3 once 3 is away).
        ops.push(CopyToSlice {
            list: 1,
            src: whole(3),
        });
        ops.push(CopyFromSlice {
            list: 1,
            dst: whole(3),
            seed: 3,
        });
    }
    Program {
        faults: Faults {
            device_lost_after: Some(after),
            ..Faults::default()
        },
        ops,
        drop_seed: 1,
    }
}

/// Hole 3, without a borrowed slice: `synchronize` returns DEVICE_LOST and releases a host
/// buffer that an asynchronous copy of the list is still writing; the host's writes through
/// `as_mut_slice` then race with the driver's.
fn hole_lost_host_buffer(after: u8) -> Program {
    use Op::*;
    let list = |idx| On {
        regular: false,
        idx,
    };
    let mut ops = prelude();
    ops.extend([
        big(Kind::Device, 0, 0), // buffer 3
        big(Kind::Host, 0, 0),   // buffer 4
        NewImmediate {
            ctx: 0,
            dev: 0,
            engine: Engine::Compute,
            relaxed: false,
            sync: false,
        }, // list 2
        CopyFromSlice {
            list: 2,
            dst: whole(3),
            seed: 9,
        },
        // List 2: buffer 4 <- buffer 3 (index 2 of the f32 buffers [0, 1, 3, 4]), asynchronous.
        Copy {
            on: list(2),
            dst: whole(4),
            src: 2,
            src_start: 0,
            mismatch: false,
        },
        // Then a thread takes list 0 (device 0) and no buffer; its barriers are submissions,
        // one of which loses the device while the copy runs.
        Open(Scope::Thread { list: 0, bufs: 0 }),
    ]);
    ops.extend((0..12).map(|_| Barrier {
        on: list(0),
        evs: Evs::NONE,
    }));
    ops.extend([
        End,
        // List 2 is index 1 once list 0 is away.
        ListSync {
            list: 1,
            wait: Wait::Unbounded,
        },
        // Host-visible buffers [1, 2, 4]: buffer 4.
        HostWrite { buf: 2, seed: 1 },
        HostRead { buf: whole(2) },
    ]);
    Program {
        faults: Faults {
            device_lost_after: Some(after),
            ..Faults::default()
        },
        ops,
        drop_seed: 1,
    }
}

/// Hole 4: unwinding drops a list that waits for an event nobody will signal.
fn hole_panic_wait() -> Program {
    use Op::*;
    let mut ops = prelude();
    ops.extend([
        Open(Scope::Catch),
        NewImmediate {
            ctx: 0,
            dev: 0,
            engine: Engine::Compute,
            relaxed: false,
            sync: false,
        }, // list 2
        WaitEvent {
            on: On {
                regular: false,
                idx: 2,
            },
            event: 0,
        },
        Panic,
        End,
    ]);
    Program {
        faults: Faults::default(),
        ops,
        drop_seed: 1,
    }
}

/// Hole 5: an asynchronous copy on one list, read on another list right after.
fn hole_cross_list_order(seed: u8) -> Program {
    use Op::*;
    let mut ops = prelude();
    ops.extend([
        big(Kind::Device, 0, 0), // buffer 3
        big(Kind::Device, 0, 0), // buffer 4
        CopyFromSlice {
            list: 0,
            dst: whole(4),
            seed,
        },
        Copy {
            on: On {
                regular: false,
                idx: 0,
            },
            dst: whole(3),
            src: 3,
            src_start: 0,
            mismatch: false,
        },
        CopyToSlice {
            list: 1,
            src: whole(3),
        },
    ]);
    Program {
        faults: Faults::default(),
        ops,
        drop_seed: 1,
    }
}

/// Hole 5, without a race: the first list's copy waits for an event the host signals only
/// after a second list copied the destination on. Unordered, the second copy reads the old
/// bytes every time; in program order it reads what the first copy wrote.
fn hole_cross_list_order_blocked() -> Program {
    use Op::*;
    let imm = |idx| On {
        regular: false,
        idx,
    };
    let mut ops = prelude();
    ops.extend([
        big(Kind::Device, 0, 0), // buffer 3
        big(Kind::Device, 0, 0), // buffer 4
        big(Kind::Device, 0, 0), // buffer 5
        CopyFromSlice {
            list: 0,
            dst: whole(3),
            seed: 1,
        },
        CopyFromSlice {
            list: 0,
            dst: whole(4),
            seed: 2,
        },
        WaitEvent {
            on: imm(0),
            event: 0,
        },
        // List 0: buffer 3 <- buffer 4 (index 3 of the f32 buffers [0, 1, 3, 4, 5]), blocked.
        Copy {
            on: imm(0),
            dst: whole(3),
            src: 3,
            src_start: 0,
            mismatch: false,
        },
        // List 1 (device 1): buffer 5 <- buffer 3 (index 2), after list 0's copy.
        Copy {
            on: imm(1),
            dst: whole(5),
            src: 2,
            src_start: 0,
            mismatch: false,
        },
        HostSignal { event: 0 },
        CopyToSlice {
            list: 1,
            src: whole(5),
        },
    ]);
    Program {
        faults: Faults::default(),
        ops,
        drop_seed: 1,
    }
}

fn violations(p: &Program, holes: Holes) -> Vec<String> {
    safe_api::run(
        p,
        &Settings {
            holes,
            ..Settings::default()
        },
    )
    .violations
}

#[test]
fn the_known_hole_programs_pass_with_their_switches_off() {
    let off = Holes::none();
    for p in [
        hole_signalled_fence(),
        hole_cross_list_order(5),
        hole_cross_list_order_blocked(),
        hole_panic_wait(),
        hole_zst(),
    ] {
        let v = violations(&p, off);
        assert!(v.is_empty(), "{v:#?}\n{p:?}");
    }
    for p in [
        hole_lost_copy(1),
        hole_lost_copy(4),
        hole_lost_host_buffer(2),
        hole_lost_host_buffer(5),
    ] {
        let v = violations(&p, off);
        assert!(v.is_empty(), "{v:#?}\n{p:?}");
    }
}

/// Runs `make(i)` up to `tries` times with `holes`; the first violation found.
fn find(tries: u32, holes: Holes, make: impl Fn(u32) -> Program) -> Option<String> {
    (0..tries).find_map(|i| violations(&make(i), holes).into_iter().next())
}

#[test]
fn hole_1_signalled_fence_is_found() {
    let holes = Holes {
        signalled_fence: true,
        ..Holes::none()
    };
    // The model expects the execution with a signalled fence to be refused: the crate
    // before the fix accepted it, a violation on the first run (before, the oracle needed
    // the release's race to show, and 200 runs).
    let found = find(4, holes, |_| hole_signalled_fence());
    assert!(found.is_none(), "hole 1: {found:?}");
}

#[test]
fn hole_2_zst_is_found() {
    let holes = Holes {
        zst: true,
        ..Holes::none()
    };
    let v = violations(&hole_zst(), holes);
    assert!(v.is_empty(), "hole 2: {v:#?}");
}

#[test]
fn hole_3_lost_copy_is_found() {
    let holes = Holes {
        lost_copy: true,
        ..Holes::none()
    };
    let found = find(24, holes, |i| hole_lost_copy(1 + (i % 6) as u8));
    assert!(found.is_none(), "hole 3: {found:?}");
}

#[test]
fn hole_3_lost_host_buffer_is_found() {
    let holes = Holes {
        lost_copy: true,
        ..Holes::none()
    };
    let found = find(36, holes, |i| hole_lost_host_buffer(1 + (i % 6) as u8));
    assert!(found.is_none(), "hole 3 (host buffer): {found:?}");
}

#[test]
fn hole_4_panic_wait_is_found() {
    let holes = Holes {
        panic_wait: true,
        ..Holes::none()
    };
    let v = violations(&hole_panic_wait(), holes);
    assert!(v.is_empty(), "hole 4: {v:#?}");
}

#[test]
fn hole_5_cross_list_order_is_found() {
    let holes = Holes {
        cross_list_order: true,
        ..Holes::none()
    };
    // Deterministic: unordered lists fail it on every run.
    let v = violations(&hole_cross_list_order_blocked(), holes);
    assert!(v.is_empty(), "hole 5 (blocked writer): {v:#?}");
    // The race (fewer runs than its 200 before the blocked program above).
    let found = find(40, holes, |i| hole_cross_list_order(i as u8));
    assert!(found.is_none(), "hole 5: {found:?}");
}

/// Hole 3's general form, written directly against the API (the interpreter's directed
/// program above rarely wins this race): a list's asynchronous copy into a host buffer runs
/// when another thread's list loses the device; `synchronize` returns DEVICE_LOST and releases
/// the host buffer, `as_mut_slice` is granted, and the driver's copy then overwrites what the
/// host wrote through it: a data race on memory safe code holds `&mut` to.
#[test]
fn hole_3_device_lost_releases_a_host_buffer_still_being_written() {
    use level_zero::{Context, DeviceBuffer, HostBuffer, ImmediateCommandList};
    let (mut overwritten, mut lost) = (0, 0);
    for k in 0..40u64 {
        let mut config = level_zero::cpu::Config::default();
        config.device_lost_after = Some(2 + k % 4);
        let driver = level_zero::cpu::driver(config).unwrap();
        let devices = driver.devices().unwrap();
        let ctx = Context::new(&driver).unwrap();
        let n = 1 << 20; // 4 MiB of u32: the CPU driver runs it on its worker thread
        let src = DeviceBuffer::<u32>::new(&ctx, &devices[0], n).unwrap();
        let other = DeviceBuffer::<u32>::new(&ctx, &devices[0], n).unwrap();
        let mut host = HostBuffer::<u32>::new(&ctx, n).unwrap();
        let mut list = ImmediateCommandList::compute(&ctx, &devices[0]).unwrap();
        let mut second = ImmediateCommandList::compute(&ctx, &devices[0]).unwrap();
        list.fill(&src, 7u32).unwrap();
        list.synchronize().unwrap();
        list.copy(&host, &src).unwrap();
        let t = std::thread::spawn(move || {
            for _ in 0..8 {
                if second.fill(&other, 1u32).is_err() {
                    break;
                }
            }
        });
        if list.synchronize().is_err() {
            lost += 1;
            let wrote = match host.as_mut_slice() {
                Ok(mut g) => {
                    g.fill(0xdead_beef);
                    true
                }
                Err(_) => false,
            };
            if wrote {
                std::thread::sleep(std::time::Duration::from_millis(5));
                if host.as_slice().unwrap().iter().any(|&x| x != 0xdead_beef) {
                    overwritten += 1;
                }
            }
        }
        t.join().unwrap();
    }
    assert_eq!(
        overwritten, 0,
        "{overwritten} of {lost} device losses: the host's writes were overwritten by the copy the crate had released"
    );
}

/// Hole 6 (fixed; `Holes::lost_blocked`): after a device loss, an immediate list of the lost
/// device that waits for an event nobody signals, with commands queued behind the wait,
/// keeps the device from ever being quiescent (the CPU driver completes the lost device's
/// unrun commands as no-ops *after their wait events*, and counts the jobs queued behind the
/// blocked one as work in flight), so every unbounded wait on the device hangs: here
/// `copy_to_slice` on another, idle list of the device, which in program order returns (the
/// device is lost: `DEVICE_LOST`). The same blocks `synchronize()` of any list or queue of the
/// device and a hazard catch-up on one (which synchronises a lost list without a timeout).
/// Found by the sequence fuzzer (a hang of the final read-back of an unused buffer). Fixed in
/// the CPU driver: a job counts as work in flight only while it runs its commands.
#[test]
fn hole_6_a_blocked_list_of_a_lost_device_does_not_hang_other_lists() {
    use level_zero::{Context, DeviceBuffer, EventPool, EventPoolFlags, ImmediateCommandList};
    let mut hung = Vec::new();
    for after in 1..=5u64 {
        let mut config = level_zero::cpu::Config::default();
        config.device_lost_after = Some(after);
        let driver = level_zero::cpu::driver(config).unwrap();
        let devices = driver.devices().unwrap();
        let ctx = Context::new(&driver).unwrap();
        let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
        let never = pool.event(0).unwrap();
        let buf = DeviceBuffer::<u32>::new(&ctx, &devices[0], 16).unwrap();
        let mut blocked = ImmediateCommandList::compute(&ctx, &devices[0]).unwrap();
        blocked.set_drop_timeout(std::time::Duration::ZERO);
        // Errors are fine (one of these submissions may lose the device).
        let _ = blocked.wait_events(&[&never]);
        let _ = blocked.barrier();
        let _ = blocked.barrier();
        let mut other = ImmediateCommandList::compute(&ctx, &devices[0]).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut out = vec![0u32; 16];
            // Submits the copy (losing the device if not lost yet) and waits for it.
            let r = other.copy_to_slice(&mut out, &buf);
            let _ = tx.send(r.map_err(|e| e.to_string()));
        });
        if rx.recv_timeout(std::time::Duration::from_secs(5)).is_err() {
            hung.push(after);
        }
        // The blocked list (and the hung thread's) stay: dropping them cannot finish.
        std::mem::forget(blocked);
    }
    assert!(
        hung.is_empty(),
        "copy_to_slice on an idle list of a lost device hung (device lost after {hung:?} submissions)"
    );
}
