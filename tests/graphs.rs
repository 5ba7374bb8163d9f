//! Graph capture and replay through the safe layer: what a replay does, what it keeps
//! alive, how it orders with host access and other lists, and what a capture refuses.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{TestDriver, spv};
use level_zero::{
    BuildOptions, DeviceBuffer, Error, EventPool, EventPoolFlags, HostBuffer, ImmediateCommandList,
    Module,
};

#[test]
fn a_captured_graph_replays_its_commands_each_time() {
    let t = TestDriver::new();
    if !common::reaches(
        &t,
        &[
            "zeCommandListBeginGraphCaptureExt",
            "zeCommandListAppendHostFunction",
        ],
    ) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let n = 4096;
    let module = Module::from_spirv(&ctx, &dev, &spv("saxpy", "O2"), &BuildOptions::new()).unwrap();
    let mut k = module.kernel("saxpy").unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    let x = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let y = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let out = HostBuffer::<f32>::new(&ctx, n).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.fill(&x, 1.5f32).unwrap();
    list.fill(&y, 0f32).unwrap();
    k.set_arg(0, &2.0f32).unwrap();
    k.set_arg_buffer(1, &x).unwrap();
    k.set_arg_buffer(2, &y).unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let graph = list
        .capture(|g| {
            // SAFETY: saxpy touches x[i], y[i] for i < 64 * 64 = n.
            unsafe { g.launch(&k, [(n / 64) as u32, 1, 1])? };
            g.copy(&out, &y)?;
            g.host_fn(move || {
                r.fetch_add(1, Ordering::SeqCst);
            })
        })
        .unwrap();
    // Nothing ran: capture records.
    list.synchronize().unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert!(!graph.is_empty().unwrap());
    // Changing the kernel's arguments after capture does not change the graph.
    k.set_arg(0, &100.0f32).unwrap();
    let exec = graph.instantiate().unwrap();
    drop(graph);
    for i in 1..=5u32 {
        list.replay(&exec).unwrap();
        list.synchronize().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), i);
        let v = out.as_slice().unwrap();
        assert!(
            v.iter().all(|&e| e == 3.0 * i as f32),
            "replay {i}: {}",
            v[0]
        );
    }
}

#[test]
fn a_replay_keeps_its_graph_and_buffers_alive_and_orders_host_access() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeCommandListBeginGraphCaptureExt"]) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let host = HostBuffer::<u32>::new(&ctx, 1024).unwrap();
    let exec = {
        let d = DeviceBuffer::<u32>::new(&ctx, &dev, 1024).unwrap();
        let g = list
            .capture(|g| {
                g.fill(&d, 42u32)?;
                g.copy(&host, &d)
            })
            .unwrap();
        g.instantiate().unwrap()
        // `d` and the graph go out of scope: the executable graph keeps them.
    };
    // The replay waits for the gate, so it is in flight when the host asks for the buffer.
    list.wait_events(&[&gate]).unwrap();
    list.replay(&exec).unwrap();
    drop(exec);
    assert!(
        matches!(host.as_slice(), Err(Error::Busy { .. })),
        "host access to a buffer a pending replay writes must be refused"
    );
    gate.host_signal().unwrap();
    list.synchronize().unwrap();
    assert!(host.as_slice().unwrap().iter().all(|&v| v == 42));
}

#[test]
fn a_capture_refuses_events_and_a_failed_capture_leaves_the_list_usable() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeCommandListBeginGraphCaptureExt"]) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let e = pool.event(0).unwrap();
    let d = DeviceBuffer::<u32>::new(&ctx, &dev, 64).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, 64).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let err = list
        .capture(|g| {
            g.fill(&d, 1u32)?;
            g.barrier_with(Some(&e), &[])
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    // A closure that fails: the capture ends, nothing was recorded for good.
    let err = list
        .capture(|_| Err(Error::Timeout { call: "user" }))
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }));
    // The list runs commands again.
    list.fill(&d, 5u32).unwrap();
    list.copy(&out, &d).unwrap();
    list.synchronize().unwrap();
    assert!(out.as_slice().unwrap().iter().all(|&v| v == 5));
    // A panicking closure: the capture ends too.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = list.capture(|_| panic!("deliberate"));
    }));
    assert!(caught.is_err());
    list.fill(&d, 6u32).unwrap();
    list.copy(&out, &d).unwrap();
    list.synchronize().unwrap();
    assert!(out.as_slice().unwrap().iter().all(|&v| v == 6));
}

#[test]
fn a_graph_replays_only_on_its_own_device() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeCommandListBeginGraphCaptureExt"]) {
        return;
    }
    let ctx = t.context();
    let devs = t.devices();
    let d = DeviceBuffer::<u32>::new(&ctx, &devs[0], 64).unwrap();
    let mut a = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    let exec = a
        .capture(|g| g.fill(&d, 1u32))
        .unwrap()
        .instantiate()
        .unwrap();
    let mut b = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    assert!(matches!(
        b.replay(&exec),
        Err(Error::InvalidArgument { .. })
    ));
    a.replay(&exec).unwrap();
    a.synchronize().unwrap();
}
