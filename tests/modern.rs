//! The spec 1.17 command model through the safe layer: in-order lists ordered by the driver,
//! counter-based events, host functions, the default context, device synchronisation and
//! the driver's error descriptions — each on the current CPU driver and, where the safe
//! layer has a fallback, on the CPU driver configured as an older driver.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::TestDriver;
use level_zero::{
    CommandList, CommandQueue, CounterEventFlags, DeviceBuffer, Error, Event, EventPool,
    EventPoolFlags, HostBuffer, ImmediateCommandList, QueueDesc,
};

/// A chain of dependent commands on one in-order list: each fill/copy reads what the one
/// before wrote, so any overlap shows in the result.
fn chain(t: &TestDriver, list: &mut ImmediateCommandList) {
    let (ctx, dev) = (list.context().clone(), t.device());
    let n = 1 << 16;
    let a = DeviceBuffer::<u32>::new(&ctx, &dev, n).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &dev, n).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, n).unwrap();
    for round in 0..20u32 {
        list.fill(&a, round).unwrap();
        list.copy(&b, &a).unwrap();
        list.copy(&out, &b).unwrap();
        list.synchronize().unwrap();
        assert!(
            out.as_slice().unwrap().iter().all(|&x| x == round),
            "round {round}"
        );
    }
}

#[test]
fn an_immediate_list_reports_its_mode_and_priority() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    for (mode, priority) in [
        (
            level_zero::QueueMode::Asynchronous,
            level_zero::QueuePriority::High,
        ),
        (
            level_zero::QueueMode::Synchronous,
            level_zero::QueuePriority::Low,
        ),
        (
            level_zero::QueueMode::Default,
            level_zero::QueuePriority::Normal,
        ),
    ] {
        let desc = QueueDesc {
            mode,
            priority,
            ..QueueDesc::compute(&dev).unwrap()
        };
        let list = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
        assert_eq!(list.mode().unwrap(), mode);
        assert_eq!(list.priority().unwrap(), priority);
        let queue = CommandQueue::new(&ctx, &dev, &desc).unwrap();
        assert_eq!(queue.mode().unwrap(), mode);
        assert_eq!(queue.priority().unwrap(), priority);
    }
}

#[test]
fn in_order_lists_are_ordered_by_the_driver_and_relaxed_ones_are_not() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let desc = QueueDesc::compute(&dev).unwrap();
    let mut list = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
    if !common::system_backend() {
        // Embedded: the CPU driver speaks 1.17. (Through a loader, its validation layer may
        // refuse the flag for an older specification, as 1.8.12's does: the list then orders
        // with barriers, checked by the same chain below.)
        assert!(list.is_ordered_by_driver(), "the CPU driver speaks 1.17");
    }
    chain(&t, &mut list);
    let regular = CommandList::new(&ctx, &dev, &desc).unwrap();
    assert_eq!(regular.is_ordered_by_driver(), list.is_ordered_by_driver());
    let relaxed = QueueDesc {
        ordering: level_zero::Ordering::Relaxed,
        ..desc
    };
    let r = ImmediateCommandList::new(&ctx, &dev, &relaxed).unwrap();
    assert!(!r.is_ordered_by_driver());
}

/// The regular list is recorded once and executed several times: host functions run at
/// each execution, in order with the list's commands.
#[test]
fn a_regular_lists_host_function_runs_at_each_execution_in_order() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeCommandListAppendHostFunction"]) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let buf = HostBuffer::<u32>::new(&ctx, 256).unwrap();
    let dbuf = DeviceBuffer::<u32>::new(&ctx, &dev, 256).unwrap();
    let seen = Arc::new(AtomicU32::new(0));
    let runs = Arc::new(AtomicU32::new(0));
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    list.fill(&dbuf, 9u32).unwrap();
    let host_ptr = buf.as_raw() as usize;
    list.copy(&buf, &dbuf).unwrap();
    let (s, r) = (seen.clone(), runs.clone());
    list.host_fn(move || {
        // The copy before it has completed: the host buffer holds 9s (read through its
        // address: the closure may not call Level Zero, nor borrow the buffer).
        // SAFETY: the buffer outlives the list's executions (dropped after them below),
        // and no command writes it while the host function runs.
        let first = unsafe { *(host_ptr as *const u32) };
        s.store(first, Ordering::SeqCst);
        r.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    for i in 1..=3 {
        queue.execute(&[&list]).unwrap();
        queue.synchronize().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), i);
        assert_eq!(seen.load(Ordering::SeqCst), 9);
    }
    drop(list);
    drop(buf);
}

#[test]
fn an_immediate_lists_host_function_runs_once_in_order_and_survives_a_panic() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list =
        ImmediateCommandList::new(&ctx, &dev, &QueueDesc::compute(&dev).unwrap()).unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    for i in 0..5u32 {
        let o = order.clone();
        list.host_fn(move || o.lock().unwrap().push(i)).unwrap();
    }
    list.host_fn(|| panic!("a deliberate panic in a host function"))
        .unwrap();
    let o = order.clone();
    list.host_fn(move || o.lock().unwrap().push(99)).unwrap();
    list.synchronize().unwrap();
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4, 99]);
}

#[test]
fn level_zero_calls_from_a_host_function_fail_instead_of_hanging() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list =
        ImmediateCommandList::new(&ctx, &dev, &QueueDesc::compute(&dev).unwrap()).unwrap();
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let e = pool.event(0).unwrap();
    let result = Arc::new(std::sync::Mutex::new(None));
    let (r, ev) = (result.clone(), e.clone());
    list.host_fn(move || {
        *r.lock().unwrap() = Some(ev.host_signal());
    })
    .unwrap();
    list.synchronize().unwrap();
    let got = result
        .lock()
        .unwrap()
        .take()
        .expect("the host function ran");
    match got {
        Err(Error::InvalidArgument { call, reason }) => {
            assert_eq!(call, "zeEventHostSignal");
            assert!(reason.contains("host function"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!e.is_signaled().unwrap());
}

#[test]
fn counter_based_events_rearm_with_each_signal_and_refuse_host_signal_and_reset() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeEventCounterBasedCreate"]) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let mut list =
        ImmediateCommandList::new(&ctx, &dev, &QueueDesc::compute(&dev).unwrap()).unwrap();
    let done = Event::counter_based(&ctx, &dev, CounterEventFlags::HOST_VISIBLE).unwrap();
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, 4096).unwrap();
    // Another list waits for the event's first signal, then copies.
    let mut other =
        ImmediateCommandList::new(&ctx, &dev, &QueueDesc::compute(&dev).unwrap()).unwrap();
    for v in 0..10u32 {
        list.fill(&buf, v).unwrap();
        list.barrier_with(Some(&done), &[]).unwrap();
        other.wait_events(&[&done]).unwrap();
        other.copy(&out, &buf).unwrap();
        other.synchronize().unwrap();
        assert!(out.as_slice().unwrap().iter().all(|&x| x == v));
    }
    assert!(matches!(
        done.host_signal(),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        done.host_reset(),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        list.reset_event(&done),
        Err(Error::InvalidArgument { .. })
    ));
    // A relaxed list may not signal it (nothing would order the counter).
    let relaxed = QueueDesc {
        ordering: level_zero::Ordering::Relaxed,
        ..QueueDesc::compute(&dev).unwrap()
    };
    let mut r = ImmediateCommandList::new(&ctx, &dev, &relaxed).unwrap();
    assert!(matches!(
        r.barrier_with(Some(&done), &[]),
        Err(Error::InvalidArgument { .. })
    ));
    // signal_event re-arms it too.
    list.signal_event(&done).unwrap();
    done.host_synchronize().unwrap();
    list.synchronize().unwrap();
}

#[test]
fn the_default_context_is_one_context_shared_by_every_caller() {
    let mut t = TestDriver::new();
    // The default context lives on (the driver's, or this crate's for the process): the
    // leak check allows that one context, and asserts below that no second one appears.
    t.allow_deliberate_leaks();
    let before = t.live().contexts;
    let a = t.driver.default_context().unwrap();
    let b = t.driver.default_context().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.devices().len(), t.devices().len());
    let dev = t.device();
    let buf = DeviceBuffer::<u8>::new(&a, &dev, 64).unwrap();
    drop(buf);
    // It is not destroyed with its last user: the driver (or, on an older driver, this
    // crate for the rest of the process) keeps it.
    drop((a, b));
    let c = t.driver.default_context().unwrap();
    let buf = DeviceBuffer::<u8>::new(&c, &dev, 64).unwrap();
    drop(buf);
    let now = t.live();
    assert!(now.contexts <= before + 1, "{now:?}");
    assert_eq!(now.allocations, 0);
}

#[test]
fn device_synchronize_waits_for_every_list_of_the_device() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut lists: Vec<_> = (0..3)
        .map(|_| ImmediateCommandList::new(&ctx, &dev, &QueueDesc::compute(&dev).unwrap()).unwrap())
        .collect();
    let pool = EventPool::new(&ctx, 3, EventPoolFlags::HOST_VISIBLE).unwrap();
    let events: Vec<_> = (0..3).map(|i| pool.event(i).unwrap()).collect();
    let bufs: Vec<_> = (0..3)
        .map(|_| DeviceBuffer::<u32>::new(&ctx, &dev, 1 << 18).unwrap())
        .collect();
    for ((l, b), e) in lists.iter_mut().zip(&bufs).zip(&events) {
        l.fill(b, 3u32).unwrap();
        l.barrier_with(Some(e), &[]).unwrap();
    }
    match dev.synchronize() {
        Ok(()) => {
            for e in &events {
                assert!(
                    e.is_signaled().unwrap(),
                    "zeDeviceSynchronize returned early"
                );
            }
        }
        Err(Error::MissingFunction(m)) => assert_eq!(m.name, "zeDeviceSynchronize"),
        Err(e) => panic!("{e}"),
    }
    for l in &mut lists {
        l.synchronize().unwrap();
    }
}

/// The same features on the CPU driver configured as an older driver
/// (`LEVEL_ZERO_CPU_API_VERSION`: its DDI tables then lack the newer functions, and it
/// refuses the newer flags): this test runs `older_driver_child` in a child process of this
/// binary for each version (the driver's tables follow the environment of the process).
#[test]
fn every_feature_falls_back_on_older_drivers() {
    if common::system_backend() {
        eprintln!("SKIPPED on the system backend: the child configures the embedded driver");
        return;
    }
    for version in ["1.6", "1.12", "1.16"] {
        let out = common::this_test_binary()
            .args([
                "--exact",
                "older_driver_child",
                "--include-ignored",
                "--nocapture",
            ])
            .env("LEVEL_ZERO_CPU_API_VERSION", version)
            .env("LEVEL_ZERO_BACKEND", "cpu")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "API {version}:\n{text}");
        assert!(
            text.contains("1 passed"),
            "API {version}: the child ran no test:\n{text}"
        );
    }
}

#[test]
#[ignore = "run by every_feature_falls_back_on_older_drivers with LEVEL_ZERO_CPU_API_VERSION set"]
fn older_driver_child() {
    let v = std::env::var("LEVEL_ZERO_CPU_API_VERSION").expect("run by the parent test");
    let minor: u32 = v.strip_prefix("1.").unwrap().parse().unwrap();
    // The instance reports the version and refuses the flags of its configuration; the DDI
    // tables (process-wide) follow the environment.
    let t = TestDriver::with(|c| {
        let (env, errors) = level_zero::cpu::Config::from_env();
        assert!(errors.is_empty(), "{errors:?}");
        *c = env;
    })
    .expect("the embedded backend");
    assert_eq!(t.driver.api_version().unwrap().minor, minor as u16);
    let (ctx, dev) = (t.context(), t.device());
    let desc = QueueDesc::compute(&dev).unwrap();

    // In-order lists: the flag from 1.7, barriers before.
    let mut list = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
    // Mode and priority: from the creation description before 1.17.
    assert_eq!(list.mode().unwrap(), desc.mode);
    assert_eq!(list.priority().unwrap(), desc.priority);
    assert_eq!(list.is_ordered_by_driver(), minor >= 7);
    chain(&t, &mut list);

    // Counter-based events from 1.15; before, an error that says so (no emulation).
    match Event::counter_based(&ctx, &dev, CounterEventFlags::HOST_VISIBLE) {
        Ok(done) => {
            assert!(minor >= 15);
            assert!(done.is_counter_based());
            let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 1024).unwrap();
            let out = HostBuffer::<u32>::new(&ctx, 1024).unwrap();
            let mut other = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
            for v in 0..4u32 {
                list.fill(&buf, v).unwrap();
                list.barrier_with(Some(&done), &[]).unwrap();
                other.wait_events(&[&done]).unwrap();
                other.copy(&out, &buf).unwrap();
                other.synchronize().unwrap();
                assert!(out.as_slice().unwrap().iter().all(|&x| x == v));
            }
        }
        Err(Error::Unsupported { what, .. }) => {
            assert!(minor < 15);
            assert!(what.contains("zeEventCounterBasedCreate"), "{what}");
        }
        Err(e) => panic!("{e}"),
    }

    // Host functions: emulated on immediate lists; regular lists need the function.
    let ran = Arc::new(AtomicU32::new(0));
    let r = ran.clone();
    list.host_fn(move || {
        r.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    list.synchronize().unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    let mut regular = CommandList::new(&ctx, &dev, &desc).unwrap();
    match regular.host_fn(|| {}) {
        Err(Error::MissingFunction(m)) => assert_eq!(m.name, "zeCommandListAppendHostFunction"),
        other => panic!("{other:?}"),
    }

    // The default context: made once by the crate.
    let mut t = t;
    t.allow_deliberate_leaks();
    assert_eq!(
        t.driver.default_context().unwrap(),
        t.driver.default_context().unwrap()
    );
    match dev.synchronize() {
        Ok(()) => assert!(minor >= 14),
        Err(Error::MissingFunction(m)) => {
            assert!(minor < 14);
            assert_eq!(m.name, "zeDeviceSynchronize")
        }
        Err(e) => panic!("{e}"),
    }

    // Graphs: emulated by a regular list from 1.9 (immediate append), unavailable before.
    let d = DeviceBuffer::<u32>::new(&ctx, &dev, 256).unwrap();
    let host = HostBuffer::<u32>::new(&ctx, 256).unwrap();
    let captured = list.capture(|g| {
        g.fill(&d, 11u32)?;
        g.copy(&host, &d)
    });
    if minor >= 9 {
        let graph = captured.unwrap();
        assert!(!graph.is_native());
        let exec = graph.instantiate().unwrap();
        for _ in 0..3 {
            list.replay(&exec).unwrap();
        }
        list.synchronize().unwrap();
        assert!(host.as_slice().unwrap().iter().all(|&x| x == 11));
    } else {
        match captured {
            Err(Error::MissingFunction(m)) => {
                assert_eq!(m.name, "zeCommandListBeginGraphCaptureExt")
            }
            other => panic!("{other:?}"),
        }
    }
    list.synchronize().unwrap();
}

/// On a 1.17 driver a launch with changed arguments is one driver call
/// (`zeCommandListAppendLaunchKernelWithArguments`); a value of a new size is still checked
/// by `set_arg` itself; every launch uses the values set before it.
#[test]
fn a_launch_with_changed_arguments_is_one_driver_call() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let counter = level_zero::cpu::CallCounter::new(&t.driver).unwrap();
    let module = level_zero::Module::from_spirv(
        &ctx,
        &dev,
        &common::spv("saxpy", "O2"),
        &level_zero::BuildOptions::new(),
    )
    .unwrap();
    let mut k = module.kernel("saxpy").unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    let n = 1024;
    let x = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let ys: Vec<_> = (0..3)
        .map(|_| DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap())
        .collect();
    let mut list =
        ImmediateCommandList::new(&ctx, &dev, &QueueDesc::compute(&dev).unwrap()).unwrap();
    list.fill(&x, 1.0f32).unwrap();
    for y in &ys {
        list.fill(y, 0f32).unwrap();
    }
    for (round, y) in ys.iter().enumerate() {
        let before = counter.calls().unwrap();
        k.set_arg(0, &(round as f32 + 1.0)).unwrap();
        k.set_arg_buffer(1, &x).unwrap();
        k.set_arg_buffer(2, y).unwrap();
        // SAFETY: saxpy touches x[i], y[i] for i < 16 * 64 = n.
        unsafe { list.launch(&k, [16, 1, 1]).unwrap() };
        let calls = counter.calls().unwrap() - before;
        let one_call = t
            .driver
            .runtime()
            .api()
            .zeCommandListAppendLaunchKernelWithArguments
            .is_some();
        if !one_call {
            // A loader without one-call launches (1.8.12): each value is set as it is given;
            // its launches also signal events of their own (no zeCommandListHostSynchronize),
            // so the count is not pinned here.
        } else if round == 0 {
            // First values: each value is set, and its size checked, as it is given.
            assert_eq!(calls, 4, "3 zeKernelSetArgumentValue + the launch");
        } else {
            assert_eq!(
                calls, 1,
                "round {round}: one zeCommandListAppendLaunchKernelWithArguments"
            );
        }
    }
    // A value of another size than the driver accepted is checked at once, and the error
    // carries the driver's own description where it gives one (zerGetLastErrorDescription).
    let e = k.set_arg(0, &1.0f64).unwrap_err();
    let described = t
        .driver
        .runtime()
        .api()
        .zerGetLastErrorDescription
        .is_some();
    match &e {
        Error::Call { call, detail, .. } => {
            assert_eq!(*call, "zeKernelSetArgumentValue");
            if described {
                let d = detail
                    .as_deref()
                    .expect("the CPU driver describes its failures");
                assert!(d.contains("argument"), "{d}");
                assert!(e.to_string().contains(d), "{e}");
            }
        }
        other => panic!("{other:?}"),
    }
    list.synchronize().unwrap();
    for (round, y) in ys.iter().enumerate() {
        let mut v = vec![0f32; n];
        list.copy_to_slice(&mut v, y).unwrap();
        assert!(
            v.iter().all(|&e| e == round as f32 + 1.0),
            "round {round}: {}",
            v[0]
        );
    }
}
