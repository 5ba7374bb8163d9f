//! Soundness under adversarial safe code: each test is a hole that safe code alone once
//! opened (a review's reproducers), written so that it failed before the fix. See
//! `docs/SOUNDNESS.md` for the rules these pin down.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::TestDriver;
use level_zero::{
    CommandList, CommandQueue, DeviceBuffer, Error, EventPool, EventPoolFlags, Fence, HostBuffer,
    ImmediateCommandList, Memory, SharedBuffer, deliberate_leaks,
};

// ---------------------------------------------------------------------------------------
// Hole 1: a fence that is already signalled.

#[test]
fn a_fence_created_signalled_is_refused_for_an_execution() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut host = HostBuffer::<u32>::new(&ctx, 1 << 16).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    list.fill(&host, 7u32).unwrap();
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut fence = Fence::with_state(&queue, true).unwrap();
    let err = queue.execute_with_fence(&[&list], &fence).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { reason, .. } if reason.contains("signalled")),
        "{err}"
    );
    // Nothing was submitted: the host may write, and the buffer is untouched.
    host.as_mut_slice().unwrap()[0] = 1;
    assert_eq!(host.as_slice().unwrap()[1], 0);
    // Once reset, the fence is accepted, and the execution is tracked until it completes.
    fence.reset().unwrap();
    queue.execute_with_fence(&[&list], &fence).unwrap();
    fence.synchronize().unwrap();
    assert!(host.as_slice().unwrap().iter().all(|&x| x == 7));
}

#[test]
fn a_fence_reused_without_reset_is_refused_and_nothing_is_released_early() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let mut host = HostBuffer::<u8>::new(&ctx, 4096).unwrap();
    let mut first = CommandList::compute(&ctx, &dev).unwrap();
    first.fill(&host, 1u8).unwrap();
    first.close().unwrap();
    // The second execution cannot finish before the host opens the gate.
    let mut second = CommandList::compute(&ctx, &dev).unwrap();
    second.wait_events(&[&gate]).unwrap();
    second.fill(&host, 2u8).unwrap();
    second.close().unwrap();

    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut fence = Fence::new(&queue).unwrap();
    queue.execute_with_fence(&[&first], &fence).unwrap();
    fence.synchronize().unwrap();
    // The fence is signalled by the first execution; handing it to the second would make
    // the queue take the old signal for the second one's completion.
    let err = queue.execute_with_fence(&[&second], &fence).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    fence.reset().unwrap();
    queue.execute_with_fence(&[&second], &fence).unwrap();
    // The execution is pending: the host may neither write nor read the buffer, and the
    // fence cannot be reset or reused.
    assert!(matches!(host.as_mut_slice(), Err(Error::Busy { .. })));
    assert!(matches!(host.as_slice(), Err(Error::Busy { .. })));
    assert!(matches!(fence.reset(), Err(Error::Busy { .. })));
    assert!(matches!(
        queue.execute_with_fence(&[&first], &fence),
        Err(Error::Busy { .. })
    ));
    assert!(!fence.is_signaled().unwrap());
    gate.host_signal().unwrap();
    fence.synchronize().unwrap();
    assert!(host.as_slice().unwrap().iter().all(|&x| x == 2));
    host.as_mut_slice().unwrap()[0] = 9;
}

// ---------------------------------------------------------------------------------------
// Hole 2: zero-sized element types.

#[test]
fn buffers_of_zero_sized_types_have_elements_and_no_bytes() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut host = HostBuffer::<()>::new(&ctx, 8).unwrap();
    assert_eq!(host.len(), 8);
    assert_eq!(host.size_bytes(), 0);
    assert_eq!(host.as_slice().unwrap().len(), 8);
    assert_eq!(host.as_mut_slice().unwrap().len(), 8);
    assert_eq!(host.to_vec().unwrap(), vec![(); 8]);
    host.copy_from_slice(&[(); 8]).unwrap();
    assert!(host.copy_from_slice(&[(); 3]).is_err());

    let mut shared = SharedBuffer::<[u64; 0]>::new(&ctx, &dev, 5).unwrap();
    let s = shared.as_slice().unwrap();
    assert_eq!(s.len(), 5);
    assert_eq!(s.as_ptr() as usize % align_of::<[u64; 0]>(), 0);
    drop(s);
    assert_eq!(shared.as_mut_slice().unwrap().len(), 5);

    // Views and commands count elements, not bytes.
    let dbuf = DeviceBuffer::<()>::new(&ctx, &dev, 6).unwrap();
    assert_eq!(dbuf.slice(2..5).len(), 3);
    assert!(!dbuf.slice(2..5).is_empty());
    assert!(Memory::is_empty(&dbuf.slice(2..2)));
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.copy(&dbuf.slice(..3), &host.slice(..3)).unwrap();
    let err = list.copy(&dbuf, &host).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    let mut out = vec![(); 6];
    list.copy_to_slice(&mut out, &dbuf).unwrap();
    assert!(list.copy_to_slice(&mut out[..2], &dbuf).is_err());
    list.copy_from_slice(&dbuf, &out).unwrap();
    // A fill with a pattern of zero bytes is refused with a reason.
    let err = list.fill(&dbuf, ()).unwrap_err();
    assert!(err.to_string().contains("0-byte pattern"), "{err}");
    list.synchronize().unwrap();
    assert_eq!(host.as_slice().unwrap().len(), 8);
}

// ---------------------------------------------------------------------------------------
// Hole 3: a device lost while a command still runs.

/// The device is lost (by another list's submission) while a large copy into a borrowed
/// `Vec` runs on its worker: `copy_to_slice` must not return before the copy stopped
/// touching the `Vec`, which is then freed and its memory reused at once.
#[test]
fn a_device_lost_mid_copy_never_returns_a_borrowed_slice_early() {
    for round in 0..3 {
        let Some(t) = TestDriver::with(|c| c.device_lost_after = Some(3)) else {
            return;
        };
        let (ctx, dev) = (t.context(), t.device());
        const N: usize = 16 << 20;
        let src = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
        let small = DeviceBuffer::<u32>::new(&ctx, &dev, 16).unwrap();
        let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        let mut b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        a.fill(&src, 0xabcd_u32).unwrap();
        a.synchronize().unwrap();
        let start = Arc::new(Barrier::new(2));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, st2) = (start.clone(), stop.clone());
        // The other list submits until the device is lost: one of its submissions loses it
        // while the big copy runs (or before it starts).
        let other = std::thread::spawn(move || {
            s2.wait();
            while !st2.load(Ordering::Relaxed) {
                if b.fill(&small, 1u32).is_err() {
                    break;
                }
            }
            drop(b);
        });
        let mut dst = vec![0u32; N];
        start.wait();
        let r = a.copy_to_slice(&mut dst, &src);
        stop.store(true, Ordering::Relaxed);
        // Free the Vec and reuse its memory at once: a copy still running would write into
        // it (and crash, or corrupt `reuse`).
        drop(dst);
        let reuse = vec![7u8; N * 4];
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            reuse.iter().all(|&x| x == 7),
            "round {round}: memory was written after the copy returned"
        );
        if let Err(e) = &r {
            assert!(e.is_device_lost(), "round {round}: {e}");
        }
        other.join().unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Hole 4: drops never block forever.

#[test]
fn a_panic_between_a_wait_and_its_signal_does_not_hang_the_unwinding() {
    let mut t = TestDriver::new();
    t.allow_deliberate_leaks();
    let (ctx, dev) = (t.context(), t.device());
    let pool = EventPool::new(&ctx, 2, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 1024).unwrap();
    let leaks = deliberate_leaks();
    let started = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        list.wait_events(&[&gate]).unwrap();
        list.fill(&buf, 3u32).unwrap();
        panic!("between the wait and the signal");
    }));
    assert!(r.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the unwinding waited for work that could not finish"
    );
    assert!(
        deliberate_leaks() > leaks,
        "the list was neither finished nor leaked"
    );

    // Same through a queue.
    let leaks = deliberate_leaks();
    let gate2 = pool.event(1).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
        let mut list = CommandList::compute(&ctx, &dev).unwrap();
        list.wait_events(&[&gate2]).unwrap();
        list.fill(&buf, 4u32).unwrap();
        list.close().unwrap();
        queue.execute(&[&list]).unwrap();
        panic!("before the signal");
    }));
    assert!(r.is_err());
    assert!(deliberate_leaks() > leaks);

    // The leaked work may still run; everything it uses was kept.
    gate.host_signal().unwrap();
    gate2.host_signal().unwrap();
    drop(buf);
}

#[test]
fn a_drop_waits_at_most_its_timeout_then_leaks() {
    let mut t = TestDriver::new();
    t.allow_deliberate_leaks();
    let (ctx, dev) = (t.context(), t.device());
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let mut host = HostBuffer::<u32>::new(&ctx, 256).unwrap();
    let leaks = deliberate_leaks();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.set_drop_timeout(Duration::from_millis(50));
    list.wait_events(&[&gate]).unwrap();
    list.fill(&host, 5u32).unwrap();
    let started = Instant::now();
    drop(list);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert!(deliberate_leaks() > leaks);
    // The leaked fill still holds the buffer: the host may not touch it...
    assert!(matches!(host.as_mut_slice(), Err(Error::Busy { .. })));
    // ...and the memory stays valid when the work finally runs.
    gate.host_signal().unwrap();
    drop(host);
}

#[test]
fn a_drop_of_finished_work_neither_waits_nor_leaks() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 1 << 20).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.set_drop_timeout(Duration::from_secs(60));
    list.fill(&buf, 1u32).unwrap();
    drop(list); // waits for the fill, which finishes
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut l = CommandList::compute(&ctx, &dev).unwrap();
    l.fill(&buf, 2u32).unwrap();
    l.close().unwrap();
    queue.execute(&[&l]).unwrap();
    drop(queue);
    // The leak check of `t` proves nothing was kept.
}

// ---------------------------------------------------------------------------------------
// Hole 5: two lists or queues using the same buffer are ordered (hazard tracking).

/// Large enough that copies and fills run on the driver's worker threads, asynchronously.
const BIG: usize = 8 << 20;

fn values(seed: u32) -> Vec<u32> {
    (0..BIG as u32)
        .map(|i| i.wrapping_mul(2_654_435_761) ^ seed)
        .collect()
}

#[test]
fn a_read_on_another_list_sees_an_unsynchronised_write_of_the_first() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut l1 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut l2 = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &dev, BIG).unwrap();
    let mut out = vec![0u32; BIG];
    for seed in 1..4 {
        let src = HostBuffer::from_slice(&ctx, &values(seed)).unwrap();
        l1.copy(&b, &src).unwrap(); // asynchronous, not synchronised
        l2.copy_to_slice(&mut out, &b).unwrap();
        assert!(out == values(seed), "seed {seed}: list 2 read stale data");
    }
    l1.synchronize().unwrap();
}

#[test]
fn writers_on_two_lists_apply_in_program_order() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut l1 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut l2 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &dev, BIG).unwrap();
    let src = HostBuffer::from_slice(&ctx, &values(7)).unwrap();
    for round in 0..3u32 {
        l1.copy(&b, &src).unwrap(); // write 1
        l2.fill(&b.slice(..BIG / 2), round).unwrap(); // write 2, after write 1
        let mut out = vec![0u32; BIG];
        l1.copy_to_slice(&mut out, &b).unwrap(); // read, after both
        let want = values(7);
        assert!(out[..BIG / 2].iter().all(|&x| x == round), "round {round}");
        assert!(out[BIG / 2..] == want[BIG / 2..], "round {round}");
    }
    l2.synchronize().unwrap();
}

#[test]
fn a_write_on_another_list_waits_for_earlier_reads() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut l1 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut l2 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let b = DeviceBuffer::<u32>::from_slice_via(&ctx, &dev, &values(3));
    let c = DeviceBuffer::<u32>::new(&ctx, &dev, BIG).unwrap();
    l1.copy(&c, &b).unwrap(); // reads b, asynchronously
    l2.fill(&b, 0u32).unwrap(); // must not overwrite b before the read
    let mut out = vec![0u32; BIG];
    l2.copy_to_slice(&mut out, &c).unwrap();
    assert!(out == values(3), "the fill overtook the read");
    l1.synchronize().unwrap();
    l2.copy_to_slice(&mut out, &b).unwrap();
    assert!(out.iter().all(|&x| x == 0));
}

/// `DeviceBuffer::from_slice`-like helper for these tests.
trait FromSliceVia: Sized {
    fn from_slice_via(ctx: &level_zero::Context, dev: &level_zero::Device, data: &[u32]) -> Self;
}

impl FromSliceVia for DeviceBuffer<u32> {
    fn from_slice_via(ctx: &level_zero::Context, dev: &level_zero::Device, data: &[u32]) -> Self {
        let b = DeviceBuffer::new(ctx, dev, data.len()).unwrap();
        let mut l = ImmediateCommandList::copy_engine(ctx, dev).unwrap();
        l.copy_from_slice(&b, data).unwrap();
        b
    }
}

#[test]
fn queues_and_immediate_lists_are_ordered_both_ways() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let b = DeviceBuffer::<u32>::new(&ctx, &dev, BIG).unwrap();
    let src = HostBuffer::from_slice(&ctx, &values(11)).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, BIG).unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut imm = ImmediateCommandList::compute(&ctx, &dev).unwrap();

    // Queue writes, immediate list reads.
    let mut w = CommandList::compute(&ctx, &dev).unwrap();
    w.copy(&b, &src).unwrap();
    w.close().unwrap();
    queue.execute(&[&w]).unwrap();
    let mut got = vec![0u32; BIG];
    imm.copy_to_slice(&mut got, &b).unwrap();
    assert!(
        got == values(11),
        "the immediate list read before the queue's write"
    );

    // Immediate list writes, queue reads (into a host buffer).
    imm.fill(&b, 5u32).unwrap();
    let mut r = CommandList::compute(&ctx, &dev).unwrap();
    r.copy(&out, &b).unwrap();
    r.close().unwrap();
    queue.execute(&[&r]).unwrap();
    queue.synchronize().unwrap();
    assert!(
        out.as_slice().unwrap().iter().all(|&x| x == 5),
        "the queue read before the list's write"
    );

    // Two queues.
    let mut q2 = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&w]).unwrap(); // b = values(11) again
    q2.execute(&[&r]).unwrap(); // out = b
    q2.synchronize().unwrap();
    assert!(
        *out.as_slice().unwrap() == values(11)[..],
        "the second queue overtook the first"
    );
    imm.synchronize().unwrap();
    queue.synchronize().unwrap();
}

#[test]
fn lists_of_two_devices_are_ordered() {
    let t = TestDriver::new();
    let ctx = t.context();
    let devs = t.devices();
    let (d0, d1) = (&devs[0], &devs[1]);
    let b0 = DeviceBuffer::<u32>::new(&ctx, d0, BIG).unwrap();
    let b1 = DeviceBuffer::<u32>::new(&ctx, d1, BIG).unwrap();
    let src = HostBuffer::from_slice(&ctx, &values(13)).unwrap();
    let mut l0 = ImmediateCommandList::compute(&ctx, d0).unwrap();
    let mut l1 = ImmediateCommandList::compute(&ctx, d1).unwrap();
    l0.copy(&b0, &src).unwrap();
    l1.copy(&b1, &b0).unwrap(); // device 1 reads device 0's memory (peer access)
    let mut out = vec![0u32; BIG];
    l1.copy_to_slice(&mut out, &b1).unwrap();
    assert!(out == values(13));
    l0.synchronize().unwrap();
}

#[test]
fn a_relaxed_list_is_waited_for_as_a_whole() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let desc = level_zero::QueueDesc {
        ordering: level_zero::Ordering::Relaxed,
        ..level_zero::QueueDesc::compute(&dev).unwrap()
    };
    let mut relaxed = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
    let mut other = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &dev, BIG).unwrap();
    let c = DeviceBuffer::<u32>::new(&ctx, &dev, BIG).unwrap();
    let src = HostBuffer::from_slice(&ctx, &values(17)).unwrap();
    relaxed.copy(&b, &src).unwrap();
    relaxed.copy(&c, &src).unwrap();
    let mut out = vec![0u32; BIG];
    other.copy_to_slice(&mut out, &b).unwrap();
    assert!(out == values(17));
    other.copy_to_slice(&mut out, &c).unwrap();
    assert!(out == values(17));
    relaxed.synchronize().unwrap();
}

#[test]
fn a_command_that_fails_to_append_does_not_block_other_lists() {
    // One submission runs; the second (the second fill: an in-order list the driver
    // orders appends no barrier between them) loses device 0.
    let Some(t) = TestDriver::with(|c| c.device_lost_after = Some(1)) else {
        return;
    };
    let (ctx, devs) = (t.context(), t.devices());
    let b = DeviceBuffer::<u32>::new(&ctx, &devs[0], 1024).unwrap();
    let mut l0 = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    l0.fill(&b, 1u32).unwrap();
    l0.fill(&b, 2u32).unwrap(); // this submission loses device 0
    let _ = l0.synchronize();
    assert!(l0.fill(&b, 3u32).is_err());
    // Device 1 reads b: it must not wait forever for commands that never ran.
    let mut l1 = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    let c = DeviceBuffer::<u32>::new(&ctx, &devs[1], 1024).unwrap();
    l1.copy(&c, &b).unwrap();
    assert!(
        l1.synchronize_timeout(Some(Duration::from_secs(10)))
            .unwrap(),
        "device 1 waits for a lost device's commands"
    );
}

#[test]
fn with_hazard_tracking_off_commands_are_ordered_only_by_the_user() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    assert!(ctx.hazard_tracking());
    // SAFETY: below, the two lists' uses of `b` are ordered by the event.
    unsafe { ctx.disable_hazard_tracking() };
    assert!(!ctx.hazard_tracking());
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let done = pool.event(0).unwrap();
    let mut l1 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut l2 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &dev, BIG).unwrap();
    let src = HostBuffer::from_slice(&ctx, &values(19)).unwrap();
    l1.copy(&b, &src).unwrap();
    l1.signal_event(&done).unwrap();
    l2.wait_events(&[&done]).unwrap();
    let mut out = vec![0u32; BIG];
    l2.copy_to_slice(&mut out, &b).unwrap();
    assert!(out == values(19));
    ctx.enable_hazard_tracking();
    l1.synchronize().unwrap();
}

/// One thread creates a list, writes a buffer with it and drops the list at once (its drop
/// waits for the write); another keeps reading the buffer on lists of its own, catching up
/// on lists that are being dropped. Every read sees one whole write, nothing touches freed
/// memory, nothing hangs.
#[test]
fn lists_dropped_while_another_list_catches_up_on_them_stay_sound() {
    let Some(t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_micros(300))) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    const N: usize = 4096;
    let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap());
    let (c2, d2, x2) = (ctx.clone(), dev.clone(), x.clone());
    let writer = std::thread::spawn(move || {
        for i in 1..=40u32 {
            let mut l = ImmediateCommandList::compute(&c2, &d2).unwrap();
            l.fill(&*x2, i).unwrap();
            drop(l);
        }
    });
    let mut last = 0;
    for _ in 0..40 {
        let mut l = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
        let mut out = vec![0u32; N];
        l.copy_to_slice(&mut out, &*x).unwrap();
        assert!(
            out.iter().all(|&v| v == out[0]),
            "a read saw a partial write"
        );
        assert!(out[0] >= last, "a read went back in time");
        last = out[0];
    }
    writer.join().unwrap();
    let report = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    assert_eq!(report.freed_memory_accesses, 0);
}
