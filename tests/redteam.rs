//! Red-team reproducers: attacks on the soundness, liveness and ordering promises of the
//! safe layer (hazard tracking across lists and queues, completion and drops, fences, host
//! guards), written with safe code only by a review of the first hazard-tracking design. The
//! first eight were holes (each failed every time before its fix; the name says what went
//! wrong); the rest document attacks that failed. All must pass.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::TestDriver;
use level_zero::{
    CommandList, CommandQueue, DeviceBuffer, EventPool, EventPoolFlags, Fence, HostBuffer,
    ImmediateCommandList, QueueDesc, QueueMode, deliberate_leaks,
};

/// Runs `body` on its own thread and fails the test if it has not finished after `secs`
/// seconds (the thread is left hanging: the hang is the finding).
fn watchdog(secs: u64, what: &str, body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        body();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => h.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: propagate its message.
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("HANG: {what} did not finish within {secs} s")
        }
    }
}

fn values(n: usize, seed: u32) -> Vec<u32> {
    (0..n as u32)
        .map(|i| i.wrapping_mul(2_654_435_761) ^ seed)
        .collect()
}

fn sanitizer_clean(t: &TestDriver) {
    let r = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    assert!(r.is_clean(), "sanitizer: {r:?}");
}

// ---------------------------------------------------------------------------------------
// Device loss and catch-up publications.

/// List A (device 0) writes X. List B (device 1) reads X: hazard tracking appends a catch-up
/// barrier to A that publishes an event, and B's copy waits for it on the device. That
/// barrier is the submission that loses device 0, so the event is never signalled by the
/// device; only a synchronisation *of A* host-signals it. B's `copy_to_slice` (which waits
/// for its borrow without bound) therefore never returns, although device 1 is healthy and
/// the program is sequential.
#[test]
fn a_lost_device_leaves_another_devices_copy_to_slice_hanging_forever() {
    let Some(mut t) = TestDriver::with(|c| c.device_lost_after = Some(1)) else {
        return;
    };
    t.allow_deliberate_leaks();
    watchdog(20, "B.copy_to_slice after device 0 was lost", move || {
        let (ctx, devs) = (t.context(), t.devices());
        const N: usize = 1 << 22;
        let x = HostBuffer::<u32>::new(&ctx, N).unwrap();
        let mut a = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
        let mut b = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
        a.fill(&x, 5u32).unwrap(); // submission 1 of device 0: runs
        let mut out = vec![0u32; N];
        // Catch-up barrier on A = submission 2 of device 0: loses it.
        let r = b.copy_to_slice(&mut out, &x);
        // Any outcome but a hang is acceptable here (device 0's write is of a lost device).
        let _ = r;
        let _ = a.synchronize();
        drop((a, b, t));
    });
}

/// Same, without a borrowed slice: B's plain copy never completes while A lives, so B's
/// `synchronize_timeout` keeps saying "not finished" although nothing B waits for can run.
#[test]
fn a_lost_device_blocks_another_devices_list_until_the_lost_list_is_synchronised() {
    let Some(mut t) = TestDriver::with(|c| c.device_lost_after = Some(1)) else {
        return;
    };
    t.allow_deliberate_leaks();
    let (ctx, devs) = (t.context(), t.devices());
    let x = DeviceBuffer::<u32>::new(&ctx, &devs[0], 1 << 20).unwrap();
    let y = DeviceBuffer::<u32>::new(&ctx, &devs[1], 1 << 20).unwrap();
    let mut a = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    let mut b = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    a.fill(&x, 5u32).unwrap();
    b.copy(&y, &x).unwrap(); // the catch-up barrier on A loses device 0
    let done = b.synchronize_timeout(Some(Duration::from_secs(5)));
    let _ = a.synchronize();
    // Once A saw the loss (and host-signalled its publications), B finishes at once.
    let after = b.synchronize_timeout(Some(Duration::from_secs(5)));
    eprintln!("B before A's synchronisation: {done:?}; after: {after:?}");
    assert!(
        matches!(done, Ok(true) | Err(_)),
        "device 1's copy waits for an event of lost device 0 that only A's synchronisation signals: {done:?}"
    );
}

/// A command whose append fails (its device is lost) is "abandoned": the crate then waits on
/// the host, without bound, for the hazard events it would have waited for on the device.
/// Here those belong to a healthy device whose list waits for a gate the host opens right
/// after — an ordinary asynchronous program. `A.copy` (an asynchronous append that should
/// fail at once with `DEVICE_LOST`) blocks forever instead.
#[test]
fn an_append_failing_on_a_lost_device_blocks_the_host_on_other_lists_hazards() {
    let Some(mut t) = TestDriver::with(|c| c.device_lost_after = Some(3)) else {
        return;
    };
    t.allow_deliberate_leaks();
    watchdog(20, "A.copy on a lost device", move || {
        let (ctx, devs) = (t.context(), t.devices());
        let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
        let gate = pool.event(0).unwrap();
        let x = HostBuffer::<u32>::new(&ctx, 1 << 16).unwrap();
        let z = DeviceBuffer::<u32>::new(&ctx, &devs[0], 1 << 16).unwrap();
        let small = DeviceBuffer::<u32>::new(&ctx, &devs[0], 16).unwrap();
        let mut a = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
        let mut b = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
        // Device 0: four submissions, the fourth loses it.
        for i in 0..4u32 {
            let _ = a.fill(&small, i);
        }
        assert!(a.synchronize().is_err());
        // Device 1 (healthy): writes X once the host opens the gate.
        b.wait_events(&[&gate]).unwrap();
        b.fill(&x, 9u32).unwrap();
        // A reads X: the catch-up publishes on B, then A's append fails (device lost).
        let started = Instant::now();
        let r = a.copy(&z, &x);
        let took = started.elapsed();
        assert!(r.as_ref().is_err_and(|e| e.is_device_lost()), "{r:?}");
        assert!(took < Duration::from_secs(5), "A.copy blocked for {took:?}");
        gate.host_signal().unwrap();
        // Device 1 counts its own submissions (the catch-up barrier among them) and may be
        // lost by the same injection: either outcome is fine, a hang is not.
        if let Err(e) = b.synchronize() {
            assert!(e.is_device_lost(), "{e}");
        }
        drop((a, b, t));
    });
}

// ---------------------------------------------------------------------------------------
// Synchronous queues.

/// A synchronous queue's `execute` blocks until the execution completes, and the crate holds
/// the queue's in-flight lock across that call. A poll of a fence of the same queue on
/// another thread (`Fence::is_signaled`, documented "without waiting") takes that lock to
/// reap, so it blocks until the execution completes; when the polling thread is the one that
/// would open the execution's gate, both threads wait for each other forever.
#[test]
fn a_fence_poll_deadlocks_with_a_synchronous_queue_execution_on_another_thread() {
    let mut t = TestDriver::new();
    t.allow_deliberate_leaks();
    watchdog(
        20,
        "Fence::is_signaled during a synchronous execution",
        move || {
            let (ctx, dev) = (t.context(), t.device());
            let desc = QueueDesc {
                mode: QueueMode::Synchronous,
                ..QueueDesc::compute(&dev).unwrap()
            };
            let mut queue = CommandQueue::new(&ctx, &dev, &desc).unwrap();
            let fence = Fence::new(&queue).unwrap();
            let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
            let gate = pool.event(0).unwrap();
            let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 1024).unwrap();
            let mut list = CommandList::compute(&ctx, &dev).unwrap();
            list.wait_events(&[&gate]).unwrap();
            list.fill(&buf, 1u32).unwrap();
            list.close().unwrap();
            let submitter = std::thread::spawn(move || {
                // Blocks until the gate opens (synchronous mode).
                queue.execute(&[&list]).unwrap();
                queue.synchronize().unwrap();
            });
            std::thread::sleep(Duration::from_millis(300));
            // A poll: must not wait.
            let started = Instant::now();
            let polled = fence.is_signaled();
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "the poll waited"
            );
            assert!(!polled.unwrap());
            gate.host_signal().unwrap();
            submitter.join().unwrap();
            drop((fence, buf, t));
        },
    );
}

// ---------------------------------------------------------------------------------------
// Catch-up barriers appended while the owner synchronises.

/// The owner of list A synchronises it while another thread's list B reads what A writes.
/// B's catch-up appends a publishing barrier to A *after* A's `zeCommandListHostSynchronize`
/// took its target, so A's synchronisation neither waits for that barrier nor knows of it,
/// yet `release` marks every publication of A finished and the list idle. Dropping A then
/// destroys the list without waiting: the barrier is abandoned, its event is never
/// signalled, and B's copy waits for it forever.
#[test]
fn a_catch_up_barrier_appended_during_the_owners_synchronisation_is_destroyed_with_the_list() {
    let Some(mut t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_millis(100)))
    else {
        return;
    };
    t.allow_deliberate_leaks();
    let (ctx, dev) = (t.context(), t.device());
    let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, 1024).unwrap());
    let y = DeviceBuffer::<u32>::new(&ctx, &dev, 1024).unwrap();
    let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    a.fill(&*x, 1u32).unwrap(); // runs after 100 ms
    let go = Arc::new(Barrier::new(2));
    let (x2, go2) = (x.clone(), go.clone());
    let owner = std::thread::spawn(move || {
        go2.wait();
        a.synchronize().unwrap();
        drop(a); // idle as far as the crate knows: destroyed at once
        drop(x2);
    });
    go.wait();
    std::thread::sleep(Duration::from_millis(30));
    b.copy(&y, &*x).unwrap(); // catch-up barrier on A, after A's synchronisation began
    owner.join().unwrap();
    let done = b.synchronize_timeout(Some(Duration::from_secs(5)));
    assert!(
        matches!(done, Ok(true)),
        "B waits forever for a publication of a destroyed list: {done:?}"
    );
    let mut out = vec![0u32; 1024];
    b.copy_to_slice(&mut out, &y).unwrap();
    assert!(out.iter().all(|&v| v == 1));
}

/// The queue analogue, worse: B's catch-up executes a publication on queue Q (with one of
/// Q's internal fences) after Q's owner entered `synchronize`. The synchronisation returns
/// once the owner's execution completed, and `release_all` retires *every* recorded
/// submission, the still-pending publication included: its internal fence is reset and
/// recycled while the publication runs. The owner's next execution gets that fence; the
/// publication signals it when *it* completes, before the new execution ran, so the queue
/// releases the new execution's host buffer (host access allowed, memory freed on drop)
/// while the device has yet to write it.
#[test]
fn a_publication_executed_during_queue_synchronize_recycles_a_pending_fence() {
    let Some(mut t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_millis(100)))
    else {
        return;
    };
    t.allow_deliberate_leaks();
    let (ctx, dev) = (t.context(), t.device());
    const N: usize = 1 << 16;
    let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap());
    let y = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut w = CommandList::compute(&ctx, &dev).unwrap();
    w.fill(&*x, 1u32).unwrap();
    w.close().unwrap();
    queue.execute(&[&w]).unwrap(); // runs after 100 ms
    let go = Arc::new(Barrier::new(2));
    let (ctx2, dev2, go2) = (ctx.clone(), dev.clone(), go.clone());
    let owner = std::thread::spawn(move || {
        go2.wait();
        queue.synchronize().unwrap();
        // A new execution writing a host buffer.
        let h = HostBuffer::<u32>::new(&ctx2, N).unwrap();
        let mut l2 = CommandList::compute(&ctx2, &dev2).unwrap();
        l2.fill(&h, 7u32).unwrap();
        l2.close().unwrap();
        queue.execute(&[&l2]).unwrap();
        // Poll until the queue says the execution completed.
        let started = Instant::now();
        while queue.in_flight() > 0 {
            assert!(started.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(1));
        }
        let seen = h.as_slice().unwrap().to_vec();
        drop(l2);
        drop(h); // freed: the device must be done with it
        let late = queue.synchronize();
        (seen, w, late)
    });
    go.wait();
    std::thread::sleep(Duration::from_millis(30));
    let mut b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    b.copy(&y, &*x).unwrap(); // catch-up: a publication executed on the queue
    let (seen, w, late) = owner.join().unwrap();
    b.synchronize().unwrap();
    drop((b, w));
    std::thread::sleep(Duration::from_millis(300));
    let report = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    let sevens = seen.iter().filter(|&&v| v == 7).count();
    assert!(
        sevens == N && report.is_clean(),
        "the queue released an execution before it ran: the host saw {sevens}/{N} written elements; sanitizer {report:?}; the execution then reported {late:?}"
    );
}

/// Device 0 is lost while list A's large copy into X still runs (the running command
/// finishes: the driver's documented behaviour). List B (device 1) then writes the last
/// element of X: its catch-up on A fails with `DEVICE_LOST`, which hazard tracking takes as
/// "A's work stopped, nothing to wait for" — but only a *wait* returning `DEVICE_LOST` says
/// that; an append returning it does not. B's write lands, then A's still-running copy
/// overwrites it: after both lists are synchronised the host reads A's value where program
/// order says B's.
#[test]
fn a_write_after_a_lost_devices_running_copy_is_overwritten_by_it() {
    let Some(mut t) = TestDriver::with(|c| c.device_lost_after = Some(3)) else {
        return;
    };
    t.allow_deliberate_leaks();
    let (ctx, devs) = (t.context(), t.devices());
    const N: usize = 64 << 20; // 256 MiB of u32
    let src = HostBuffer::<u32>::from_slice(&ctx, &vec![0x5555_5555u32; N]).unwrap();
    let x = HostBuffer::<u32>::new(&ctx, N).unwrap();
    let small = DeviceBuffer::<u32>::new(&ctx, &devs[0], 16).unwrap();
    let mut a = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    let mut c = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    let mut b = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    a.fill(&small, 1u32).unwrap(); // device 0: submission 1
    a.synchronize().unwrap();
    a.fill(&small, 2u32).unwrap(); // 2 (no ordering barrier after a synchronisation)
    a.synchronize().unwrap();
    a.copy(&x, &src).unwrap(); // 3: runs for tens of milliseconds
    std::thread::sleep(Duration::from_millis(5)); // let A's worker start the copy
    c.fill(&small, 3u32).unwrap(); // 4: loses device 0 while the copy runs
    // Wait until the loss is visible (not until device 0 is quiescent: the copy still runs).
    let started = Instant::now();
    while ctx.status().is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "device 0 was not lost"
        );
        std::thread::yield_now();
    }
    let r = b.fill(&x.slice(N - 1..), 0xdead_beefu32); // must come after A's copy
    let rb = b.synchronize_timeout(Some(Duration::from_secs(10)));
    let ra = a.synchronize(); // device lost, once nothing of device 0 runs
    let _ = c.synchronize();
    eprintln!("B.fill {r:?}, B.synchronize {rb:?}, A.synchronize {ra:?}");
    assert!(matches!(rb, Ok(true)), "B did not finish: {rb:?}");
    let (first, last) = {
        let s = x.as_slice().unwrap();
        (s[0], s[N - 1])
    };
    assert_eq!(
        first, 0x5555_5555,
        "set-up: A's copy did not run (it was lost first)"
    );
    if r.is_ok() {
        assert_eq!(
            last, 0xdead_beef,
            "B's later write was overwritten by the lost device's copy (program order broken)"
        );
    }
}

/// A synchronous immediate list's append returns only once its command completed. Thread 2
/// appends to such a list B a copy that reads V, which list A (thread 1) writes after a gate
/// the host opens later; B's append blocks (legitimately: synchronous mode). Thread 1 then
/// appends to its *asynchronous* list A a copy that reads what B's copy writes: the catch-up
/// on B spins until B's command is "appended", i.e. completed, which needs the gate thread 1
/// opens right after its append. Without hazard tracking thread 1 would return and open the
/// gate; with it, both threads wait forever.
#[test]
fn a_catch_up_on_a_synchronous_list_deadlocks_an_asynchronous_append() {
    let mut t = TestDriver::new();
    t.allow_deliberate_leaks();
    watchdog(20, "A.copy catching up on a synchronous list", move || {
        let (ctx, dev) = (t.context(), t.device());
        let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
        let gate = pool.event(0).unwrap();
        let src = HostBuffer::from_slice(&ctx, &values(4096, 1)).unwrap();
        let v = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap());
        let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap());
        let z = DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap();
        let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        a.wait_events(&[&gate]).unwrap();
        a.copy(&*v, &src).unwrap(); // V written once the gate opens
        let desc = QueueDesc {
            mode: QueueMode::Synchronous,
            ..QueueDesc::compute(&dev).unwrap()
        };
        let mut b = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
        let (v2, x2) = (v.clone(), x.clone());
        let other = std::thread::spawn(move || {
            b.copy(&*x2, &*v2).unwrap(); // synchronous: returns once the gate opened
            b.synchronize().unwrap();
        });
        std::thread::sleep(Duration::from_millis(300));
        a.copy(&z, &*x).unwrap(); // asynchronous: must return
        gate.host_signal().unwrap();
        other.join().unwrap();
        let mut out = vec![0u32; 4096];
        a.copy_to_slice(&mut out, &z).unwrap();
        assert!(out == values(4096, 1));
        drop((a, t));
    });
}

// ---------------------------------------------------------------------------------------
// Attacks that failed (kept: quick, and they pin the behaviour down).

/// The brief's hand-off patterns, deadlock-free in program order: A writes X then waits for
/// E, which B signals after reading X; a three-list ring of hand-offs; a queue executing a
/// regular list that waits for an event an immediate list signals. All under a command delay.
#[test]
fn event_hand_offs_across_lists_and_queues_do_not_deadlock_and_keep_program_order() {
    let Some(t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_micros(200))) else {
        return;
    };
    watchdog(30, "event hand-offs", move || {
        let (ctx, dev) = (t.context(), t.device());
        const N: usize = 4096;
        let pool = EventPool::new(&ctx, 8, EventPoolFlags::HOST_VISIBLE).unwrap();
        let ev: Vec<_> = (0..8).map(|i| pool.event(i).unwrap()).collect();
        let x = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
        let y = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
        let z = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
        let src1 = HostBuffer::from_slice(&ctx, &values(N, 1)).unwrap();
        let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        let mut b = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
        let mut c = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        // A writes X, then waits for E0; B reads X into Y, then signals E0; A then writes X.
        a.copy(&x, &src1).unwrap();
        a.wait_events(&[&ev[0]]).unwrap();
        b.copy(&y, &x).unwrap();
        b.signal_event(&ev[0]).unwrap();
        a.fill(&x, 2u32).unwrap(); // after B's read (write after read)
        // Ring: C waits for E1 (signalled by A after its fill), then copies X into Z; B waits
        // for E2 (signalled by C), then overwrites Y.
        a.signal_event(&ev[1]).unwrap();
        c.wait_events(&[&ev[1]]).unwrap();
        c.copy(&z, &x).unwrap();
        c.signal_event(&ev[2]).unwrap();
        b.wait_events(&[&ev[2]]).unwrap();
        let mut out = vec![0u32; N];
        b.copy_to_slice(&mut out, &y).unwrap();
        assert!(out == values(N, 1), "B's read of X saw A's later fill");
        c.copy_to_slice(&mut out, &z).unwrap();
        assert!(out.iter().all(|&v| v == 2));
        // A queue executes a list that waits for an event an immediate list signals after
        // reading what the queue's previous execution wrote.
        let mut q = CommandQueue::compute(&ctx, &dev).unwrap();
        let mut w = CommandList::compute(&ctx, &dev).unwrap();
        w.fill(&x, 3u32).unwrap();
        w.close().unwrap();
        let mut r = CommandList::compute(&ctx, &dev).unwrap();
        r.wait_events(&[&ev[3]]).unwrap();
        r.fill(&x, 4u32).unwrap();
        r.close().unwrap();
        q.execute(&[&w]).unwrap();
        a.copy(&y, &x).unwrap(); // must see 3 (after w, before r)
        q.execute(&[&r]).unwrap(); // waits for A's signal, and (hazard) for A's read
        a.signal_event(&ev[3]).unwrap();
        a.copy_to_slice(&mut out, &y).unwrap();
        assert!(out.iter().all(|&v| v == 3), "{:?}", &out[..4]);
        c.copy_to_slice(&mut out, &x).unwrap(); // after r
        assert!(out.iter().all(|&v| v == 4));
        q.synchronize().unwrap();
        b.synchronize().unwrap();
        drop((a, b, c, q, w, r, ev, pool, x, y, z, src1, ctx, dev));
        sanitizer_clean(&t);
        drop(t);
    });
}

/// A regular list executed on two queues alternately, and an immediate list in between, all
/// touching one buffer: program order holds, and a list still in flight is refused.
#[test]
fn a_regular_list_alternating_between_two_queues_keeps_program_order() {
    let Some(t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_micros(300))) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    const N: usize = 1024;
    let x = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, N).unwrap();
    let mut q1 = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut q2 = CommandQueue::copy_engine(&ctx, &dev).unwrap();
    let mut imm = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut inc = CommandList::compute(&ctx, &dev).unwrap();
    inc.copy(&out, &x).unwrap();
    inc.close().unwrap();
    let mut inc2 = CommandList::copy_engine(&ctx, &dev).unwrap();
    inc2.copy(&out, &x).unwrap();
    inc2.close().unwrap();
    for round in 0..4u32 {
        imm.fill(&x, round).unwrap();
        if round % 2 == 0 {
            q1.execute(&[&inc]).unwrap();
            assert!(q1.execute(&[&inc]).is_err());
            q1.synchronize().unwrap();
        } else {
            q2.execute(&[&inc2]).unwrap();
            q2.synchronize().unwrap();
        }
        assert!(
            out.as_slice().unwrap().iter().all(|&v| v == round),
            "round {round}"
        );
    }
    imm.synchronize().unwrap();
    drop((q1, q2, imm, inc, inc2, x, out));
    sanitizer_clean(&t);
}

/// Everything dropped before the lists and queues that use it (buffers, events, pools, the
/// context), lists forgotten or dropped while a catch-up waits on them, a panic mid-recording:
/// no freed-memory access, data in program order, and no leak beyond deliberate ones.
#[test]
fn odd_drop_orders_forgets_and_panics_stay_sound() {
    let Some(mut t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_millis(2))) else {
        return;
    };
    t.allow_deliberate_leaks();
    let (ctx, dev) = (t.context(), t.device());
    const N: usize = 4096;
    let x = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
    let mut b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    {
        // Drop the context handle, buffers, pool and events before the list and queue.
        let ctx2 = t.context();
        let mut a = ImmediateCommandList::compute(&ctx2, &dev).unwrap();
        let mut q = CommandQueue::compute(&ctx2, &dev).unwrap();
        let pool = EventPool::new(&ctx2, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
        let e = pool.event(0).unwrap();
        let h = HostBuffer::<u32>::from_slice(&ctx2, &values(N, 5)).unwrap();
        let d = DeviceBuffer::<u32>::new(&ctx2, &dev, N).unwrap();
        a.copy(&d, &h).unwrap();
        a.signal_event(&e).unwrap();
        let mut l = CommandList::compute(&ctx2, &dev).unwrap();
        l.wait_events(&[&e]).unwrap();
        l.copy(&h, &d).unwrap();
        l.close().unwrap();
        q.execute(&[&l]).unwrap();
        drop((h, d, e, pool, l, ctx2));
        drop(a);
        drop(q);
    }
    // A list forgotten while its write is pending: a later reader still waits for it.
    let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let src = HostBuffer::from_slice(&ctx, &values(N, 6)).unwrap();
    a.copy(&x, &src).unwrap();
    std::mem::forget(a);
    let mut out = vec![0u32; N];
    b.copy_to_slice(&mut out, &x).unwrap();
    assert!(out == values(N, 6));
    // A panic while a list's write is pending: the unwinding leaks the list, and the reader
    // still sees the write.
    let src7 = HostBuffer::from_slice(&ctx, &values(N, 7)).unwrap();
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let leaks = deliberate_leaks();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        a.wait_events(&[&gate]).unwrap();
        a.copy(&x, &src7).unwrap();
        panic!("mid-recording");
    }));
    assert!(r.is_err());
    assert!(
        deliberate_leaks() > leaks,
        "the unwinding neither finished nor leaked the list"
    );
    // The reader catches up on the leaked list, whose write runs once the gate opens.
    let g2 = gate.clone();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        g2.host_signal().unwrap();
    });
    b.copy_to_slice(&mut out, &x).unwrap();
    opener.join().unwrap();
    assert!(out == values(N, 7));
    drop((b, x, src, src7, gate, pool));
    sanitizer_clean(&t);
}

/// Host guards against device work, regular lists executed while a guard lives, forgotten
/// guards, and zero-sized types through every API (slices, copies, peer copies between
/// contexts, kernel-free queues).
#[test]
fn host_guards_and_zero_sized_types_hold() {
    let t = TestDriver::new();
    let (ctx, devs) = (t.context(), t.devices());
    let dev = &devs[0];
    let mut h = HostBuffer::<u32>::from_slice(&ctx, &[1; 64]).unwrap();
    let d = DeviceBuffer::<u32>::new(&ctx, dev, 64).unwrap();
    let mut l = CommandList::compute(&ctx, dev).unwrap();
    l.copy(&h, &d).unwrap();
    l.close().unwrap();
    let mut q = CommandQueue::compute(&ctx, dev).unwrap();
    {
        let g = h.as_slice().unwrap();
        assert!(
            q.execute(&[&l]).is_err(),
            "a list writing a guarded buffer was executed"
        );
        let mut imm = ImmediateCommandList::compute(&ctx, dev).unwrap();
        imm.copy(&d, &h).unwrap(); // reading it is fine
        assert!(imm.fill(&h, 3u32).is_err());
        imm.synchronize().unwrap();
        assert_eq!(g[0], 1);
    }
    q.execute(&[&l]).unwrap();
    assert!(h.as_mut_slice().is_err());
    q.synchronize().unwrap();
    assert_eq!(h.as_slice().unwrap()[0], 1);
    std::mem::forget(h.as_mut_slice().unwrap());
    assert!(
        q.execute(&[&l]).is_err(),
        "a forgotten write guard must keep the device out"
    );
    // Zero-sized types.
    let ctx2 = t.context();
    let z0 = DeviceBuffer::<()>::new(&ctx, dev, 7).unwrap();
    let z1 = DeviceBuffer::<()>::new(&ctx2, &devs[1], 7).unwrap();
    let z2 = DeviceBuffer::<()>::new(&ctx, &devs[1], 7).unwrap();
    level_zero::copy_peer(&z1, &z0).unwrap();
    level_zero::copy_peer(&z2, &z0).unwrap();
    level_zero::copy_peer_with(&z0, &z2, level_zero::PeerPolicy::StagedOnly).unwrap();
    let hz = HostBuffer::<[u64; 0]>::new(&ctx, 3).unwrap();
    let mut lz = CommandList::copy_engine(&ctx, dev).unwrap();
    lz.copy(&hz.slice(1..), &hz.slice(..2)).unwrap();
    lz.close().unwrap();
    let mut qz = CommandQueue::copy_engine(&ctx, dev).unwrap();
    qz.execute(&[&lz]).unwrap();
    qz.synchronize().unwrap();
    assert_eq!(hz.as_slice().unwrap().len(), 3);
    drop((q, l, d, lz, qz, hz, z0, z1, z2, ctx2));
    sanitizer_clean(&t);
}
