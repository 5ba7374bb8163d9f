//! Seventh red-team round: attacks on the launch builder (`level_zero::launch`), on the
//! diagnostics (driver descriptions attached to errors, call tracing, `LEVEL_ZERO_TRACE`)
//! and regressions of this session's allocator fixes, with safe code only (plus kernel
//! launches used within their documented `# Safety` contract, each time saying why).
//!
//! The findings (each test fails on the code it was written against):
//!
//! 1. silently wrong arguments: a `LaunchBuilder::run` that fails after its checks (here on
//!    a closed regular list: `check` does not look at the list's state, `launch_kernel`
//!    does) has already set its arguments into the kernel (`set_arg_use`/`set_arg_bytes`,
//!    which also replace the kernel's kept buffers). A later plain `launch` of the kernel,
//!    whose arguments the caller set with `set_arg_buffer` and never changed, runs with the
//!    failed builder's arguments and writes into the builder's output buffer
//!    (`a_failed_run_leaves_the_kernels_arguments_as_they_were`). The keep-alive holds (the
//!    kernel keeps the builder's buffers), so it is wrong data, not freed memory.
//! 2. the same for the group size, with a memory-safety edge: the failed run's `Grid` group
//!    size stays set, so a later `launch(&k, groups)` whose bounds the caller checked
//!    against the group size it set runs `groups * new size` work-items
//!    (`a_failed_run_leaves_the_kernels_group_size_as_it_was`).
//!
//! Both are fixed by one rule: a `run` that fails after its checks makes the kernel forget
//! its arguments and group size (`Kernel::forget_arguments`), so every later launch is
//! refused, saying why, until they are set again; the two tests now assert that.
//!
//! The other tests are attacks that held (they pin the behaviour): argument count and size
//! checks (too few, too many, wrong scalar size, a value for a pointer, zero-sized values,
//! `Local` of 0) cannot be bypassed; huge `Local` sizes are errors; the group size
//! remembered by `for_num_elems` follows the element count (1, primes, 4096...) and the
//! edges 0 / `u32::MAX` / `u32::MAX + 1` resolve or fail as documented; buffers given to the
//! builder are kept alive by later plain launches, regular lists executed after they are
//! dropped, and between `arg` and `run` (growable buffers truncated too); repeated and
//! concurrent failures carry their own driver descriptions; tracing toggled from threads
//! during calls is harmless; bad `LEVEL_ZERO_TRACE` values are errors; `empty_cache` is
//! refused in a host function and works after; `Runtime::describe` in a host function says
//! why each call was refused. Every test ends with its `TestDriver`'s leak check (declared
//! first, it is dropped last).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use common::{TestDriver, spv};
use level_zero::{
    BuildOptions, CommandList, CommandQueue, Context, DeviceBuffer, Error, EventPool,
    EventPoolFlags, HostBuffer, ImmediateCommandList, Kernel, LaunchConfig, Local, Module,
};

// =======================================================================================
// Helpers.

/// Runs `f` on a thread and fails (instead of hanging the test) when it takes longer than
/// `secs` seconds.
fn bounded<R: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(r)) => r,
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => panic!("{what} did not finish within {secs} s (a hang)"),
    }
}

fn kernel(ctx: &Context, t: &TestDriver, file: &str, name: &str) -> Kernel {
    let module =
        Module::from_spirv(ctx, &t.device(), &spv(file, "O2"), &BuildOptions::new()).unwrap();
    module.kernel(name).unwrap()
}

fn detail(e: &Error) -> Option<&str> {
    match e {
        Error::Call { detail, .. } => detail.as_deref(),
        _ => None,
    }
}

// =======================================================================================
// 1. The launch builder.

/// A `run` that fails after the builder has started to set arguments (here: on a closed
/// regular list, which `check` does not look at) must not leave the kernel holding the
/// builder's arguments: a later plain `launch` of the kernel — whose arguments the caller
/// set with `set_arg*` and did not change — must use those, not the failed builder's.
#[test]
fn a_failed_run_leaves_the_kernels_arguments_as_they_were() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 64;
    let mut imm = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    let a = DeviceBuffer::from_slice(&mut imm, &vec![1.0f32; n]).unwrap();
    let b = DeviceBuffer::from_slice(&mut imm, &vec![2.0f32; n]).unwrap();
    let mine = HostBuffer::<f32>::new(&ctx, n).unwrap();
    add.set_arg_buffer(0, &a).unwrap();
    add.set_arg_buffer(1, &b).unwrap();
    add.set_arg_buffer(2, &mine).unwrap();
    add.set_group_size([16, 1, 1]).unwrap();

    // The failed builder: its output would be `theirs`.
    let theirs = HostBuffer::<f32>::new(&ctx, n).unwrap();
    let mut closed = CommandList::compute(&ctx, &dev).unwrap();
    closed.close().unwrap();
    // SAFETY: vector_add touches a[i], b[i], c[i] for i < n = 4 * 16 (every buffer has n).
    let r = unsafe {
        closed
            .launch_builder(&mut add, LaunchConfig::grid([4, 1, 1], [16, 1, 1]))
            .arg(&b)
            .arg(&b)
            .arg(&theirs)
            .run()
    };
    assert!(r.is_err(), "a launch on a closed list succeeded");
    // The fix: the failed run made the kernel forget its arguments and group size; a plain
    // launch is refused, saying why, until they are set again.
    // SAFETY: as above: n = 4 * 16 work-items over buffers of n.
    let refused = unsafe { imm.launch(&add, [4, 1, 1]) };
    assert!(
        matches!(&refused, Err(level_zero::Error::InvalidArgument { reason, .. }) if reason.contains("failed launch_builder run")),
        "a launch after a failed builder run was not refused: {refused:?}"
    );
    add.set_arg_buffer(0, &a).unwrap();
    add.set_arg_buffer(1, &b).unwrap();
    add.set_arg_buffer(2, &mine).unwrap();
    add.set_group_size([16, 1, 1]).unwrap();
    // SAFETY: as above: n = 4 * 16 work-items over buffers of n.
    unsafe { imm.launch(&add, [4, 1, 1]) }.unwrap();
    imm.synchronize().unwrap();
    let got_mine = mine.as_slice().unwrap().to_vec();
    let got_theirs = theirs.as_slice().unwrap().to_vec();
    assert!(
        got_mine.iter().all(|&v| v == 3.0) && got_theirs.iter().all(|&v| v == 0.0),
        "the builder's run failed ({}), yet it left its arguments in the kernel: a later \
         plain launch, with the arguments set by set_arg_buffer (a + b -> mine), wrote \
         {:?}... to `mine` and {:?}... to the failed builder's output `theirs` \
         (silently the builder's arguments)",
        r.unwrap_err(),
        &got_mine[..4],
        &got_theirs[..4],
    );
}

/// The same for the group size: a caller who set the group size and checked its launch's
/// bounds against it must not find it changed by a builder whose run failed — a later plain
/// `launch` with the group count computed for the caller's size would run more work-items
/// than the caller's bounds allow (out of bounds for a kernel without a bound check).
#[test]
fn a_failed_run_leaves_the_kernels_group_size_as_it_was() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 64;
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    let a = HostBuffer::<f32>::new(&ctx, n).unwrap();
    add.set_group_size([16, 1, 1]).unwrap();
    let mut closed = CommandList::compute(&ctx, &dev).unwrap();
    closed.close().unwrap();
    // SAFETY: never launched (the list is closed); were it launched, 2 * 32 = n work-items
    // touch a[i] for i < n.
    let r = unsafe {
        closed
            .launch_builder(&mut add, LaunchConfig::grid([2, 1, 1], [32, 1, 1]))
            .arg(&a)
            .arg(&a)
            .arg(&a)
            .run()
    };
    assert!(r.is_err());
    // The fix: the group size is forgotten with the arguments (a launch is refused until
    // both are set again), never silently another one.
    assert_ne!(
        add.group_size(),
        Some([32, 1, 1]),
        "a builder whose run failed ({}) changed the kernel's group size: a later \
         `launch(&add, [4, 1, 1])` the caller bounded for 4 * 16 = 64 work-items now runs \
         4 * 32 = 128",
        r.unwrap_err()
    );
}

/// A buffer given to a builder (the builder kept in a variable) and dropped, or a growable
/// buffer truncated, before `run`: the launch still uses live memory of the size given.
#[test]
fn buffers_dropped_between_arg_and_run_are_kept_alive() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 256;
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    let out = HostBuffer::<f32>::new(&ctx, n).unwrap();
    let a = DeviceBuffer::from_slice(&mut list, &vec![1.0f32; n]).unwrap();
    let mut g =
        level_zero::virtual_memory::GrowableBuffer::<f32>::new(&ctx, &dev, 1 << 20).unwrap();
    g.grow_to(n).unwrap();
    list.fill(&*g, 2.0f32).unwrap();
    list.synchronize().unwrap();
    let mut other = CommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: vector_add touches a[i], g[i], out[i] for i < n (all of n elements when
    // given); 16 * 16 = n work-items.
    let builder = other
        .launch_builder(&mut add, LaunchConfig::grid([16, 1, 1], [16, 1, 1]))
        .arg(&a)
        .arg(&g)
        .arg(&out);
    drop(a);
    g.truncate(1).unwrap();
    drop(g);
    let more: Vec<DeviceBuffer<f32>> = (0..4)
        .map(|_| DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap())
        .collect();
    // SAFETY: as when the builder was made: 16 * 16 = n work-items over buffers of n (the
    // builder holds them, dropped or truncated handles notwithstanding: what is tested).
    unsafe { builder.run() }.unwrap();
    other.close().unwrap();
    let mut q = CommandQueue::compute(&ctx, &dev).unwrap();
    q.execute(&[&other]).unwrap();
    q.synchronize().unwrap();
    drop(more);
    let got = out.as_slice().unwrap();
    assert!(got.iter().all(|&v| v == 3.0), "{:?}", &got[..8]);
}

/// Buffers given to the builder and dropped before a later plain launch of the kernel (which
/// reuses the builder's arguments, as documented for `set_arg*`) are kept alive by the
/// kernel: the launch reads the values they held, never freed memory.
#[test]
fn buffers_given_to_the_builder_outlive_later_plain_launches() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 256;
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    let out = HostBuffer::<f32>::new(&ctx, n).unwrap();
    {
        let a = DeviceBuffer::from_slice(&mut list, &vec![1.5f32; n]).unwrap();
        let b = DeviceBuffer::from_slice(&mut list, &vec![2.0f32; n]).unwrap();
        // SAFETY: vector_add touches a[i], b[i], c[i] for i < n; the suggested group size
        // divides n.
        unsafe {
            list.launch_builder(&mut add, LaunchConfig::for_num_elems(n).unwrap())
                .arg(&a)
                .arg(&b)
                .arg(&out)
                .run()
        }
        .unwrap();
        list.synchronize().unwrap();
    }
    // Other allocations of the same size that would reuse freed memory.
    let other: Vec<DeviceBuffer<f32>> = (0..4)
        .map(|_| DeviceBuffer::from_slice(&mut list, &vec![100.0f32; n]).unwrap())
        .collect();
    // SAFETY: the kernel's group size divides n and n / g groups run: i < n.
    let g = add.group_size().unwrap()[0];
    unsafe { list.launch(&add, [n as u32 / g, 1, 1]) }.unwrap();
    // And a regular list recorded now, executed after everything else is dropped.
    let mut reg = CommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: as above.
    unsafe { reg.launch(&add, [n as u32 / g, 1, 1]) }.unwrap();
    reg.close().unwrap();
    drop(add);
    list.synchronize().unwrap();
    assert!(out.as_slice().unwrap().iter().all(|&v| v == 3.5));
    let mut q = CommandQueue::compute(&ctx, &dev).unwrap();
    q.execute(&[&reg]).unwrap();
    q.synchronize().unwrap();
    drop(other);
    assert!(
        out.as_slice().unwrap().iter().all(|&v| v == 3.5),
        "a launch reusing the builder's dropped buffers read other memory"
    );
}

/// The group size remembered for one element count is not used for another: launches over
/// different counts, through the same kernel, each cover exactly their count.
#[test]
fn for_num_elems_of_changing_counts_covers_each_count() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    for n in [1000usize, 7, 1, 257, 1000, 4096, 3] {
        let a = DeviceBuffer::from_slice(&mut list, &vec![1.0f32; n]).unwrap();
        let b = DeviceBuffer::from_slice(&mut list, &vec![2.0f32; n]).unwrap();
        let c = DeviceBuffer::from_slice(&mut list, &vec![0.0f32; n]).unwrap();
        let cfg = LaunchConfig::for_num_elems(n).unwrap();
        let (groups, size) = cfg.resolve(&mut add).unwrap();
        assert_eq!(
            groups[0] as usize * size[0] as usize,
            n,
            "for_num_elems({n}) resolves to {groups:?} x {size:?}"
        );
        // SAFETY: vector_add touches a[i], b[i], c[i] for i < n: resolve above shows the
        // launch is exactly n work-items (the CPU driver suggests a divisor of n).
        unsafe {
            list.launch_builder(&mut add, cfg)
                .arg(&a)
                .arg(&b)
                .arg(&c)
                .run()
        }
        .unwrap();
        let got = c.to_vec(&mut list).unwrap();
        assert!(got.iter().all(|&v| v == 3.0), "n = {n}: {got:?}");
    }
    // Edge values without a launch.
    assert!(LaunchConfig::for_num_elems(0).is_err());
    assert!(LaunchConfig::for_num_elems(u32::MAX as usize + 1).is_err());
    let (groups, size) = LaunchConfig::for_num_elems(u32::MAX as usize)
        .unwrap()
        .resolve(&mut add)
        .unwrap();
    assert!(
        groups[0] as u64 * size[0] as u64 >= u32::MAX as u64,
        "{groups:?} x {size:?} does not cover u32::MAX"
    );
}

/// Argument counts and sizes cannot be bypassed: a size refused before, a value for a
/// pointer (wrong size), too many or too few, `Local` of 0 or of a huge size — each an
/// error, and the kernel still launches correctly afterwards.
#[test]
fn the_builders_argument_checks_cannot_be_bypassed() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 64;
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut saxpy = kernel(&ctx, &t, "saxpy", "saxpy");
    let x = DeviceBuffer::from_slice(&mut list, &vec![1.0f32; n]).unwrap();
    let y = DeviceBuffer::from_slice(&mut list, &vec![1.0f32; n]).unwrap();
    let cfg = LaunchConfig::grid([4, 1, 1], [16, 1, 1]);
    // SAFETY (every launch below): saxpy touches x[i], y[i] for i < 64 = 4 * 16 and both
    // buffers have 64; the ones that are refused never launch.
    let e = unsafe {
        list.launch_builder(&mut saxpy, cfg)
            .arg(&2.0f64)
            .arg(&x)
            .arg(&y)
            .run()
    };
    assert!(e.is_err(), "a double for a float accepted");
    // SAFETY: as above: refused, or saxpy over 64 elements of 64-element buffers.
    let e = unsafe {
        list.launch_builder(&mut saxpy, cfg)
            .arg(&2.0f32)
            .arg(&1u8)
            .arg(&y)
            .run()
    };
    assert!(e.is_err(), "a byte for a pointer accepted");
    // SAFETY: as above: refused, or saxpy over 64 elements of 64-element buffers.
    let e = unsafe {
        list.launch_builder(&mut saxpy, cfg)
            .arg(&2.0f32)
            .arg(&x)
            .run()
    };
    assert!(e.is_err(), "two arguments of three accepted");
    let e = unsafe {
        list.launch_builder(&mut saxpy, cfg)
            .arg(&2.0f32)
            .arg(&x)
            .arg(&y)
            .arg(&y)
            .run()
    };
    assert!(e.is_err(), "four arguments of three accepted");
    let e = unsafe {
        list.launch_builder(&mut saxpy, cfg)
            .arg(&2.0f32)
            .arg(&x)
            .arg(&Local::bytes(0))
            .run()
    };
    assert!(e.is_err(), "zero bytes of local memory accepted");
    let e = unsafe {
        list.launch_builder(&mut saxpy, cfg)
            .arg(&())
            .arg(&x)
            .arg(&y)
            .run()
    };
    assert!(e.is_err(), "a zero-sized value accepted");
    // And the kernel still runs with the right arguments.
    unsafe {
        list.launch_builder(&mut saxpy, cfg)
            .arg(&2.0f32)
            .arg(&x)
            .arg(&y)
            .run()
    }
    .unwrap();
    let got = y.to_vec(&mut list).unwrap();
    assert!(got.iter().all(|&v| v == 3.0), "{got:?}");
}

/// `Local` memory of a huge size for a real `__local` argument is refused with an error,
/// never an abort or a hang.
#[test]
fn huge_local_memory_is_an_error() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 64;
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut reduce = kernel(&ctx, &t, "reduce", "reduce_sum");
    let input = DeviceBuffer::from_slice(&mut list, &vec![1.0f32; n]).unwrap();
    let partial = HostBuffer::<f32>::new(&ctx, n / 8).unwrap();
    for bytes in [usize::MAX, 1 << 40, u32::MAX as usize + 1] {
        // SAFETY: reduce_sum reads in[gid] (< 64), writes partial[group] (< 8) and scratch
        // [lid] (< 8 floats, far fewer than given).
        let r = unsafe {
            list.launch_builder(&mut reduce, LaunchConfig::grid([8, 1, 1], [8, 1, 1]))
                .arg(&input)
                .arg(&partial)
                .arg(&Local::bytes(bytes))
                .run()
        };
        let s = list.synchronize();
        assert!(
            r.is_err() || s.is_err(),
            "{bytes} bytes of local memory per group were accepted and launched"
        );
    }
    // The kernel is still usable with a sane size.
    unsafe {
        list.launch_builder(&mut reduce, LaunchConfig::grid([8, 1, 1], [8, 1, 1]))
            .arg(&input)
            .arg(&partial)
            .arg(&Local::array::<f32>(8))
            .run()
    }
    .unwrap();
    list.synchronize().unwrap();
    assert!(partial.as_slice().unwrap().iter().all(|&v| v == 8.0));
}

// =======================================================================================
// 2. Diagnostics.

/// An error's driver description is this failure's: the same failure twice, with an
/// unrelated driver error between them (an event still not signalled: the driver's
/// `ZE_RESULT_NOT_READY` replaces its description), carries its description both times.
#[test]
fn a_repeated_failure_keeps_its_drivers_description() {
    let t = TestDriver::new();
    let ctx = t.context();
    let mut saxpy = kernel(&ctx, &t, "saxpy", "saxpy");
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let ev = pool.event(0).unwrap();
    let mut missing = Vec::new();
    for round in 0..20 {
        let e = saxpy.set_arg(0, &0u8).unwrap_err();
        if detail(&e).is_none() {
            missing.push((round, e.to_string()));
        }
        assert!(!ev.is_signaled().unwrap());
    }
    assert!(
        missing.is_empty(),
        "the driver described each of 20 identical failures, but the crate dropped the \
         description (taken for the previous failure's, stale: same text at the same address, \
         the driver's string having been freed and reallocated in between) in rounds {:?}",
        missing
    );
}

/// Two threads failing different calls at the same time each get their own description.
#[test]
fn concurrent_failures_get_their_own_descriptions() {
    let t = TestDriver::new();
    let ctx = t.context();
    let dev = t.device();
    let module = Module::from_spirv(&ctx, &dev, &spv("saxpy", "O2"), &BuildOptions::new()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for which in 0..2 {
        let module = module.clone();
        let stop = stop.clone();
        handles.push(std::thread::spawn(move || {
            let mut k = module.kernel("saxpy").unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 2000 {
                n += 1;
                let e = if which == 0 {
                    k.set_arg(0, &0u8).unwrap_err()
                } else {
                    module.kernel("no_such_kernel").unwrap_err()
                };
                let s = e.to_string();
                let ok = if which == 0 {
                    s.contains("zeKernelSetArgumentValue") && !s.contains("no_such_kernel")
                } else {
                    s.contains("zeKernelCreate") && !s.contains("argument")
                };
                assert!(ok, "thread {which}: {s}");
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
}

/// Tracing switched on and off from several threads while other threads make calls (some
/// failing, some with out-parameters) never panics, and every call still gives its result.
#[test]
fn tracing_toggled_from_threads_during_calls_is_harmless() {
    let t = TestDriver::new();
    let ctx = t.context();
    let dev = t.device();
    let module = Module::from_spirv(&ctx, &dev, &spv("saxpy", "O2"), &BuildOptions::new()).unwrap();
    let before = level_zero::trace::is_enabled();
    let stop = Arc::new(AtomicBool::new(false));
    let togglers: Vec<_> = (0..2)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut on = i == 0;
                while !stop.load(Ordering::Relaxed) {
                    level_zero::trace::set_enabled(on);
                    on = !on;
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (module, ctx, dev) = (module.clone(), ctx.clone(), dev.clone());
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let mut k = module.kernel("saxpy").unwrap();
                    assert!(k.set_arg(0, &0u8).is_err());
                    k.set_arg(0, &1.0f32).unwrap();
                    assert!(k.suggest_group_size([64, 1, 1]).is_ok());
                    let _ = k.source_attributes().unwrap();
                    let b = DeviceBuffer::<u32>::new(&ctx, &dev, 16).unwrap();
                    drop(b);
                }
            })
        })
        .collect();
    let mut failed = None;
    for c in callers {
        if let Err(p) = c.join() {
            failed = Some(p);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for h in togglers {
        h.join().unwrap();
    }
    level_zero::trace::set_enabled(before);
    if let Some(p) = failed {
        std::panic::resume_unwind(p);
    }
}

/// `LEVEL_ZERO_TRACE` with a value that is not a switch makes creating a runtime an error
/// naming the variable (checked in a process of its own: the variable is read once per
/// process).
#[test]
fn a_bad_level_zero_trace_is_an_error() {
    if let Ok(v) = std::env::var("REDTEAM7_CHILD_TRACE") {
        let r = level_zero::cpu::driver(level_zero::cpu::Config::default());
        match r {
            Err(e) => {
                let s = e.to_string();
                assert!(s.contains("LEVEL_ZERO_TRACE"), "{s}");
                println!("REDTEAM7-REFUSED {v:?}: {s}");
            }
            Ok(_) => println!("REDTEAM7-ACCEPTED {v:?}"),
        }
        return;
    }
    for bad in ["2", "tru", "enable", "1 1", "y", "-1", "oN\tx", "\u{FF11}"] {
        let out = common::this_test_binary()
            .args([
                "--exact",
                "a_bad_level_zero_trace_is_an_error",
                "--nocapture",
            ])
            .env("REDTEAM7_CHILD_TRACE", bad)
            .env("LEVEL_ZERO_TRACE", bad)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{bad:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("REDTEAM7-REFUSED"),
            "LEVEL_ZERO_TRACE={bad:?} was accepted: {stdout}"
        );
    }
}

// =======================================================================================
// 3. Regressions.

/// `empty_cache` inside a host function is refused with an error (not a panic, not a hang),
/// and the cache is emptied by the next call outside.
#[test]
fn empty_cache_is_refused_inside_a_host_function_and_works_after() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeCommandListAppendHostFunction"]) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let alloc = level_zero::alloc::CachingAllocator::with_config(
        &ctx,
        &dev,
        level_zero::alloc::AllocatorConfig::default(),
    )
    .unwrap();
    drop(alloc.alloc::<u8>(1000).unwrap());
    let (tx, rx) = mpsc::channel();
    let a2 = alloc.clone();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.host_fn(move || {
        let _ = tx.send(a2.empty_cache().map_err(|e| e.to_string()));
    })
    .unwrap();
    bounded(30, "the host function", move || list.synchronize().unwrap());
    let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(r.is_err(), "empty_cache inside a host function: {r:?}");
    assert!(alloc.empty_cache().unwrap() > 0);
    assert_eq!(alloc.memory_reserved(), 0);
}

/// `Runtime::describe` (which makes driver calls) inside a host function, with tracing on:
/// no panic, no hang; and the first failure outside afterwards carries its own description.
#[test]
fn describing_the_runtime_inside_a_host_function_neither_panics_nor_hangs() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeCommandListAppendHostFunction"]) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let rt = t.driver.runtime().clone();
    let (tx, rx) = mpsc::channel();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let before = level_zero::trace::is_enabled();
    level_zero::trace::set_enabled(true);
    list.host_fn(move || {
        let _ = tx.send(rt.describe());
    })
    .unwrap();
    bounded(30, "the host function", move || list.synchronize().unwrap());
    level_zero::trace::set_enabled(before);
    let text = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(text.contains("level-zero runtime"), "{text}");
    let mut saxpy = kernel(&ctx, &t, "saxpy", "saxpy");
    let e = saxpy.set_arg(0, &0u8).unwrap_err();
    let d = detail(&e).unwrap_or_default().to_owned();
    assert!(
        d.contains("argument") || d.contains("size"),
        "the failure's description is not its own: {e}"
    );
}
