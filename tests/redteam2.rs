//! Second red-team round: attacks on the hardened hazard tracking (`hazard.rs`) and what is
//! around it, written with safe code only (one test calls the `unsafe`
//! `disable_hazard_tracking` and keeps its contract). The tests under *Holes* each failed
//! before their fix; the attacks that failed follow them. All must pass:
//!
//! - hangs: a catch-up on a list being dropped spun until the drop ended
//!   (`an_asynchronous_append_blocks_until_a_list_dropped_on_another_thread_times_out`); a
//!   catch-up on a synchronous list or queue between its planning and the recording of its
//!   publication spun until its blocking append returned
//!   (`a_catch_up_before_a_synchronous_{list,queue}_records_its_publication_deadlocks`);
//! - wrong data after a device loss: a publication of a command that never ran was signalled
//!   without what the command waited for (`a_failed_synchronous_append_signals_its_publication_before_its_hazard_waits`,
//!   `a_read_after_a_lost_devices_unrun_write_is_not_ordered_after_what_that_write_waited_for`);
//! - wrong data with safe code after `enable_hazard_tracking`: the unsafe opt-out's contract
//!   now lasts until the untracked commands are seen complete
//!   (`commands_issued_while_tracking_was_off_are_the_callers_until_seen_complete`).

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::TestDriver;
use level_zero::{
    CommandList, CommandQueue, DeviceBuffer, EventPool, EventPoolFlags, Fence, HostBuffer,
    ImmediateCommandList, QueueDesc, QueueMode,
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

fn sync_desc(dev: &level_zero::Device) -> QueueDesc {
    QueueDesc {
        mode: QueueMode::Synchronous,
        ..QueueDesc::compute(dev).unwrap()
    }
}

// =======================================================================================
// Holes.

/// Thread 1 drops list A, whose write of X waits for a gate: the drop waits (up to its
/// timeout) for the gate. Thread 2 appends, to its own *asynchronous* list B, a copy that
/// reads X, then opens the gate — an ordinary program: B's copy only has to wait, on the
/// device, for A's write. But A is `CLOSING`, and a catch-up on a closing list spins
/// (`CatchUp::Retry`) until the drop ends: B's append blocks until A's drop timeout
/// expires, A is then leaked on purpose (a deliberate leak of a list whose work was about
/// to finish), and only then does B's copy return.
#[test]
fn an_asynchronous_append_blocks_until_a_list_dropped_on_another_thread_times_out() {
    let mut t = TestDriver::new();
    t.allow_deliberate_leaks();
    watchdog(60, "the test", move || {
        let (ctx, dev) = (t.context(), t.device());
        let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
        let gate = pool.event(0).unwrap();
        let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap());
        let y = DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap();
        let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        a.set_drop_timeout(Duration::from_secs(8));
        a.wait_events(&[&gate]).unwrap();
        a.fill(&*x, 1u32).unwrap();
        let dropper = std::thread::spawn(move || drop(a)); // waits for the gate
        std::thread::sleep(Duration::from_millis(200));
        let mut b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        let started = Instant::now();
        b.copy(&y, &*x).unwrap(); // asynchronous: must return at once
        let took = started.elapsed();
        gate.host_signal().unwrap();
        dropper.join().unwrap();
        let mut out = vec![0u32; 4096];
        b.copy_to_slice(&mut out, &y).unwrap();
        assert!(out.iter().all(|&v| v == 1));
        assert!(
            took < Duration::from_secs(2),
            "B's asynchronous copy blocked {took:?}, until A's drop timed out and leaked A"
        );
        drop((b, x, y, gate, pool, t));
    });
}

/// The fix of the first round's synchronous-list deadlock checks `publication(seq)` once,
/// before spinning until the owner has *appended* the command — but a synchronous list
/// records its publication only after planning *and its own catch-ups*. A catch-up arriving
/// in that window spins until the synchronous append returns, i.e. until the command
/// completed. Here the window is held open by B's own catch-up on a list C that another
/// thread is dropping (its drop waits for gate G2, which opens 500 ms later); thread 1 arrives
/// in it with an asynchronous append that reads what B writes, then would open gate G that
/// B's command waits for. Both wait for each other forever.
#[test]
fn a_catch_up_before_a_synchronous_list_records_its_publication_deadlocks() {
    let mut t = TestDriver::new();
    t.allow_deliberate_leaks();
    watchdog(
        20,
        "A.copy catching up on a synchronous list before it published",
        move || {
            let (ctx, dev) = (t.context(), t.device());
            let pool = EventPool::new(&ctx, 2, EventPoolFlags::HOST_VISIBLE).unwrap();
            let (gate, gate2) = (pool.event(0).unwrap(), pool.event(1).unwrap());
            const N: usize = 4096;
            let src = HostBuffer::from_slice(&ctx, &values(N, 1)).unwrap();
            let v = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap());
            let w = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap());
            let z = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
            // A: V is written once G opens.
            let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
            a.wait_events(&[&gate]).unwrap();
            a.copy(&*v, &src).unwrap();
            // C: W is written once G2 opens; C is dropped on thread 3 (its drop waits for G2).
            let mut c = ImmediateCommandList::compute(&ctx, &dev).unwrap();
            c.wait_events(&[&gate2]).unwrap();
            c.fill(&*w, 7u32).unwrap();
            let dropper = std::thread::spawn(move || drop(c));
            std::thread::sleep(Duration::from_millis(100));
            // Thread 2: synchronous B copies V into W (after C's write and A's write).
            let mut b = ImmediateCommandList::new(&ctx, &dev, &sync_desc(&dev)).unwrap();
            let (v2, w2) = (v.clone(), w.clone());
            let other = std::thread::spawn(move || {
                b.copy(&*w2, &*v2).unwrap(); // synchronous: returns once G opened
                b.synchronize().unwrap();
            });
            let g2 = gate2.clone();
            let opener = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                g2.host_signal().unwrap();
            });
            std::thread::sleep(Duration::from_millis(100));
            // Thread 1: an asynchronous read of W on A, then G opens.
            let started = Instant::now();
            a.copy(&z, &*w).unwrap();
            let took = started.elapsed();
            gate.host_signal().unwrap();
            other.join().unwrap();
            opener.join().unwrap();
            dropper.join().unwrap();
            let mut out = vec![0u32; N];
            a.copy_to_slice(&mut out, &z).unwrap();
            assert!(out == values(N, 1));
            assert!(took < Duration::from_secs(2), "A.copy blocked {took:?}");
            drop((a, v, w, z, src, t));
        },
    );
}

/// A synchronous list publishes its command (an event `e`, recorded before the append)
/// so that other lists can wait for it without waiting for its owner. When the append then
/// fails — here it is the submission that loses device 0, and it returns only once device 0
/// stopped (a large copy of another list was running) — `Issued::abandon` tries to signal
/// `e` with a barrier after the command's hazard waits and, that append failing too (the
/// device is lost), **signals `e` from the host at once**, before those waits. A list U of
/// healthy device 1 that picked up `e` meanwhile (it reads X, which the failed command was
/// to write) therefore runs before the write of X that the failed command waited for (list
/// T, device 1, behind a gate): U reads X before T's write, against program order.
#[test]
fn a_failed_synchronous_append_signals_its_publication_before_its_hazard_waits() {
    if common::system_backend() {
        return;
    }
    // Timing-dependent set-up (U must plan while B's append is blocked): up to 3 attempts,
    // each on a fresh driver; any attempt that reads X early is the finding.
    watchdog(60, "the test", || {
        for attempt in 0..3 {
            if let Some(bad) = failed_synchronous_append_attempt() {
                panic!("attempt {attempt}: {bad}");
            }
        }
    });
}

/// One attempt of the test above: `Some(what went wrong)`.
fn failed_synchronous_append_attempt() -> Option<String> {
    let mut t = TestDriver::with(|c| c.device_lost_after = Some(20)).unwrap();
    t.allow_deliberate_leaks();
    let (ctx, devs) = (t.context(), t.devices());
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    const N: usize = 4096;
    let src1 = HostBuffer::from_slice(&ctx, &values(N, 1)).unwrap();
    let x = Arc::new(HostBuffer::<u32>::new(&ctx, N).unwrap());
    // T (device 1): writes X once the gate opens (device 1: submissions 1 and 2).
    let mut tl = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    tl.wait_events(&[&gate]).unwrap();
    tl.copy(&*x, &src1).unwrap();
    // C (device 0): 19 small submissions, then a large copy (the 20th) that keeps device 0
    // busy while it is lost.
    const BIG: usize = 64 << 20;
    let big_src = HostBuffer::<u32>::new(&ctx, BIG).unwrap();
    let big_dst = DeviceBuffer::<u32>::new(&ctx, &devs[0], BIG).unwrap();
    let small = DeviceBuffer::<u32>::new(&ctx, &devs[0], 16).unwrap();
    let mut c = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    for i in 0..19u32 {
        c.fill(&small, i).unwrap();
        c.synchronize().unwrap(); // (no ordering barrier before the next command)
    }
    c.copy(&big_dst, &big_src).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    // B (device 0, synchronous): writes X after T (a hazard wait on T's publication). Its
    // append is submission 21 of device 0: it loses the device, and returns only once C's
    // copy ended.
    let mut b = ImmediateCommandList::new(&ctx, &devs[0], &sync_desc(&devs[0])).unwrap();
    let x2 = x.clone();
    let bt = std::thread::spawn(move || {
        let started = Instant::now();
        let r = b.fill(&*x2, 5u32);
        let took = started.elapsed();
        // B is kept (not synchronised, not dropped) until U returned.
        (r.map_err(|e| e.to_string()), took, b)
    });
    std::thread::sleep(Duration::from_millis(40));
    // U (device 1) reads X: after T's write in program order (B's write never ran).
    let g = gate.clone();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        g.host_signal().unwrap();
    });
    let mut u = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    let mut out = vec![0u32; N];
    let r = u.copy_to_slice(&mut out, &*x);
    let opened_already = gate.is_signaled().unwrap();
    let (rb, took, b) = bt.join().unwrap();
    drop(b);
    opener.join().unwrap();
    eprintln!(
        "B.fill: {rb:?} after {took:?}; U: {r:?}; gate open when U returned: {opened_already}"
    );
    tl.synchronize().unwrap();
    let _ = c.synchronize();
    assert!(rb.is_err(), "set-up: B's append did not fail");
    r.unwrap();
    let bad = (out != values(N, 1)).then(|| {
        format!(
            "U read X before T's earlier write (gate open when U returned: {opened_already}); first values {:?}",
            &out[..4]
        )
    });
    drop((tl, c, u, x, src1, big_src, big_dst, small, gate, pool, t));
    bad
}

/// Program order: T (device 1) writes X behind a gate; A (device 0) then writes X — its
/// write waits, on the device, for T's publication, and A's mark *replaces* T's on X ("this
/// command waits for the other timelines' marks, so its own mark covers them"); U (device 1)
/// then reads X. Device 0 is lost before A's write ran. U's catch-up on A fails with
/// `DEVICE_LOST`, waits for A to stop and takes A's work as done — but A's write never
/// ran, so it covers nothing: nobody orders U after T's write any more (A's hazard wait was
/// appended, so it is not an abandoned wait either). U reads X at once, before T's earlier
/// write. (Not tested here, same cause: a U that caught up before the loss waits for A's
/// publication, which the CPU driver signals once device 0 stopped — A's barrier never ran —
/// and which a synchronisation of A host-signals in `finished_through`.)
#[test]
fn a_read_after_a_lost_devices_unrun_write_is_not_ordered_after_what_that_write_waited_for() {
    let Some(mut t) = TestDriver::with(|c| c.device_lost_after = Some(10)) else {
        return;
    };
    t.allow_deliberate_leaks();
    watchdog(30, "the test", move || {
        let (ctx, devs) = (t.context(), t.devices());
        let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
        let gate = pool.event(0).unwrap();
        const N: usize = 4096;
        let src1 = HostBuffer::from_slice(&ctx, &values(N, 1)).unwrap();
        let x = HostBuffer::<u32>::new(&ctx, N).unwrap();
        let small = DeviceBuffer::<u32>::new(&ctx, &devs[0], 16).unwrap();
        // Device 0: nine submissions first.
        let mut c = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
        for i in 0..9u32 {
            c.fill(&small, i).unwrap();
            c.synchronize().unwrap();
        }
        // T (device 1): writes X once the gate opens.
        let mut tl = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
        tl.wait_events(&[&gate]).unwrap();
        tl.copy(&x, &src1).unwrap();
        // A (device 0, submission 10): writes X after T.
        let mut a = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
        a.fill(&x, 5u32).unwrap();
        // Submission 11 loses device 0: A's write never runs.
        c.fill(&small, 99u32).unwrap();
        let started = Instant::now();
        while ctx.status().is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "device 0 was not lost"
            );
            std::thread::yield_now();
        }
        // U (device 1) reads X: in program order after T's write.
        let g = gate.clone();
        let opener = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1000));
            g.host_signal().unwrap();
        });
        let mut u = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
        let mut out = vec![0u32; N];
        let r = u.copy_to_slice(&mut out, &x);
        let opened_already = gate.is_signaled().unwrap();
        opener.join().unwrap();
        tl.synchronize().unwrap();
        let _ = a.synchronize();
        let _ = c.synchronize();
        r.unwrap();
        assert!(
            out == values(N, 1),
            "U read X before T's earlier write (gate open when U returned: {opened_already}); first values {:?}",
            &out[..4]
        );
        drop((tl, a, c, u, x, src1, small, gate, pool, t));
    });
}

/// The queue form of the synchronous-list deadlock above: a synchronous queue's execution is
/// planned (its marks recorded), then catches up (here on a list being dropped, which holds
/// the window open), and only then records its publication. A catch-up arriving in that
/// window spins until the queue's owner has *executed* — which, on a synchronous queue, is
/// once the execution completed, and that needs the gate the catching-up thread opens next.
#[test]
fn a_catch_up_before_a_synchronous_queue_records_its_publication_deadlocks() {
    let mut t = TestDriver::new();
    t.allow_deliberate_leaks();
    watchdog(
        20,
        "A.copy catching up on a synchronous queue before it published",
        move || {
            let (ctx, dev) = (t.context(), t.device());
            let pool = EventPool::new(&ctx, 2, EventPoolFlags::HOST_VISIBLE).unwrap();
            let (gate, gate2) = (pool.event(0).unwrap(), pool.event(1).unwrap());
            const N: usize = 4096;
            let src = HostBuffer::from_slice(&ctx, &values(N, 1)).unwrap();
            let v = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap());
            let w = Arc::new(DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap());
            let z = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
            let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
            a.wait_events(&[&gate]).unwrap();
            a.copy(&*v, &src).unwrap();
            let mut c = ImmediateCommandList::compute(&ctx, &dev).unwrap();
            c.wait_events(&[&gate2]).unwrap();
            c.fill(&*w, 7u32).unwrap();
            let dropper = std::thread::spawn(move || drop(c));
            std::thread::sleep(Duration::from_millis(100));
            let mut q = CommandQueue::new(&ctx, &dev, &sync_desc(&dev)).unwrap();
            let mut l = CommandList::compute(&ctx, &dev).unwrap();
            l.copy(&*w, &*v).unwrap();
            l.close().unwrap();
            let other = std::thread::spawn(move || {
                q.execute(&[&l]).unwrap(); // synchronous: returns once G opened
                q.synchronize().unwrap();
                drop((q, l));
            });
            let g2 = gate2.clone();
            let opener = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                g2.host_signal().unwrap();
            });
            std::thread::sleep(Duration::from_millis(100));
            let started = Instant::now();
            a.copy(&z, &*w).unwrap();
            let took = started.elapsed();
            gate.host_signal().unwrap();
            other.join().unwrap();
            opener.join().unwrap();
            dropper.join().unwrap();
            let mut out = vec![0u32; N];
            a.copy_to_slice(&mut out, &z).unwrap();
            assert!(out == values(N, 1));
            assert!(took < Duration::from_secs(2), "A.copy blocked {took:?}");
            drop((a, v, w, z, src, t));
        },
    );
}

/// `enable_hazard_tracking` is safe, and commands issued while tracking was off leave no
/// marks. (This was a hole when the contract of `disable_hazard_tracking` ended with
/// `enable_hazard_tracking`: a safe read after re-enabling raced with an untracked write.)
/// The contract now lasts until the untracked commands are seen complete; a program that
/// keeps it — here by synchronising the untracked list before the safe read — reads in
/// program order.
#[test]
fn commands_issued_while_tracking_was_off_are_the_callers_until_seen_complete() {
    let t = TestDriver::new();
    watchdog(20, "the test", move || {
        let (ctx, dev) = (t.context(), t.device());
        let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
        let gate = pool.event(0).unwrap();
        const N: usize = 4096;
        let src = HostBuffer::from_slice(&ctx, &values(N, 3)).unwrap();
        let x = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
        let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        a.fill(&x, 0u32).unwrap();
        a.synchronize().unwrap();
        // SAFETY: the only command issued while tracking is off is ordered after the earlier
        // conflicting one (the synchronised fill), and before the later one (the read below
        // comes after `a.synchronize()`).
        unsafe { ctx.disable_hazard_tracking() };
        a.wait_events(&[&gate]).unwrap();
        a.copy(&x, &src).unwrap();
        ctx.enable_hazard_tracking();
        let g = gate.clone();
        let opener = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            g.host_signal().unwrap();
        });
        a.synchronize().unwrap();
        opener.join().unwrap();
        let mut b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        let mut out = vec![0u32; N];
        b.copy_to_slice(&mut out, &x).unwrap();
        assert!(out == values(N, 3), "{:?}", &out[..4]);
        drop((a, b, x, src, gate, pool, ctx, dev));
        sanitizer_clean(&t);
    });
}

// =======================================================================================
// Stress: many threads hammering one buffer.

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The program order across threads is the order in which the threads issue their commands
/// under `model` (hazard tracking orders by planning, which happens inside the call).
struct Shared {
    model: std::sync::Mutex<Vec<u32>>,
    counter: std::sync::atomic::AtomicU32,
}

enum Engine {
    Imm(ImmediateCommandList),
    Queue(CommandQueue, Vec<CommandList>),
}

fn hammer(seed: u64, threads: usize, ops: usize, delay: Option<Duration>, forget: bool) {
    let Some(mut t) = TestDriver::with(|c| c.command_delay = delay) else {
        return;
    };
    if forget {
        t.allow_deliberate_leaks();
    }
    let t = Arc::new(t);
    let ctx = t.context();
    let devs = t.devices();
    const N: usize = 1024;
    const CH: usize = 256;
    let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &devs[0], N).unwrap());
    let sh = Arc::new(Shared {
        model: std::sync::Mutex::new(vec![0; N]),
        counter: std::sync::atomic::AtomicU32::new(1),
    });
    {
        let mut l = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
        l.fill(&*x, 0u32).unwrap();
        l.synchronize().unwrap();
    }
    let start = Arc::new(Barrier::new(threads));
    let mut hs = Vec::new();
    for ti in 0..threads {
        let (ctx, devs, x, sh, start) = (
            ctx.clone(),
            devs.clone(),
            x.clone(),
            sh.clone(),
            start.clone(),
        );
        hs.push(std::thread::spawn(move || {
            let mut rng = Rng(
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((ti as u64 + 1) * 0x1234_5678_9abc)
            );
            let make = |rng: &mut Rng| -> Engine {
                let dev = &devs[rng.below(2) as usize];
                let sync = rng.below(3) == 0;
                let desc = QueueDesc {
                    mode: if sync {
                        QueueMode::Synchronous
                    } else {
                        QueueMode::Default
                    },
                    ..if rng.below(2) == 0 {
                        QueueDesc::compute(dev).unwrap()
                    } else {
                        QueueDesc::copy(dev).unwrap()
                    }
                };
                if rng.below(3) == 0 {
                    Engine::Queue(CommandQueue::new(&ctx, dev, &desc).unwrap(), Vec::new())
                } else {
                    Engine::Imm(ImmediateCommandList::new(&ctx, dev, &desc).unwrap())
                }
            };
            let mut eng = make(&mut rng);
            // Reads waiting for a synchronisation: (buffer, expected).
            let mut reads: Vec<(HostBuffer<u32>, Vec<u32>)> = Vec::new();
            let mut pollers = Vec::new();
            let check = |reads: &mut Vec<(HostBuffer<u32>, Vec<u32>)>| {
                for (b, want) in reads.drain(..) {
                    let got = b.as_slice().expect("synchronised: readable").to_vec();
                    assert!(
                        got == want,
                        "thread {ti}: read {:?}.. expected {:?}..",
                        &got[..4],
                        &want[..4]
                    );
                }
            };
            start.wait();
            for _ in 0..ops {
                let c = (rng.below(4) as usize) * CH;
                let len = if rng.below(4) == 0 { N - c } else { CH };
                let dev_of = |e: &Engine| match e {
                    Engine::Imm(l) => l.device().clone(),
                    Engine::Queue(q, _) => q.device().clone(),
                };
                let dev = dev_of(&eng);
                match rng.below(10) {
                    0..=3 => {
                        // Write.
                        let mut m = sh.model.lock().unwrap();
                        let v = sh
                            .counter
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let r = match &mut eng {
                            Engine::Imm(l) => l.fill(&x.slice(c..c + len), v),
                            Engine::Queue(q, keep) => {
                                let mut l = CommandList::new(
                                    &ctx,
                                    &dev,
                                    &QueueDesc {
                                        ordinal: q.ordinal(),
                                        ..Default::default()
                                    },
                                )
                                .unwrap();
                                l.fill(&x.slice(c..c + len), v).unwrap();
                                l.close().unwrap();
                                let r = q.execute(&[&l]);
                                if rng.below(2) == 0 {
                                    keep.push(l)
                                }
                                r
                            }
                        };
                        r.unwrap();
                        m[c..c + len].fill(v);
                    }
                    4..=6 => {
                        // Asynchronous read into a host buffer.
                        let h = HostBuffer::<u32>::new(&ctx, len).unwrap();
                        let m = sh.model.lock().unwrap();
                        match &mut eng {
                            Engine::Imm(l) => l.copy(&h, &x.slice(c..c + len)).unwrap(),
                            Engine::Queue(q, _) => {
                                let mut l = CommandList::new(
                                    &ctx,
                                    &dev,
                                    &QueueDesc {
                                        ordinal: q.ordinal(),
                                        ..Default::default()
                                    },
                                )
                                .unwrap();
                                l.copy(&h, &x.slice(c..c + len)).unwrap();
                                l.close().unwrap();
                                if rng.below(2) == 0 {
                                    let fence = Arc::new(Fence::new(q).unwrap());
                                    q.execute_with_fence(&[&l], &fence).unwrap();
                                    let f2 = fence.clone();
                                    // Polled from another thread.
                                    pollers.push(std::thread::spawn(move || {
                                        while !f2.is_signaled().unwrap_or(true) {
                                            std::thread::yield_now();
                                        }
                                    }));
                                } else {
                                    q.execute(&[&l]).unwrap();
                                }
                            }
                        }
                        reads.push((h, m[c..c + len].to_vec()));
                    }
                    7 => {
                        // A borrowed read (immediate lists only).
                        if let Engine::Imm(l) = &mut eng {
                            let mut out = vec![0u32; len];
                            let m = sh.model.lock().unwrap();
                            l.copy_to_slice(&mut out, &x.slice(c..c + len)).unwrap();
                            let want = m[c..c + len].to_vec();
                            drop(m);
                            assert!(
                                out == want,
                                "thread {ti}: borrowed read {:?}.. expected {:?}..",
                                &out[..4],
                                &want[..4]
                            );
                        }
                    }
                    8 => {
                        // Synchronise (sometimes with a tiny timeout) and check.
                        let done = match &mut eng {
                            Engine::Imm(l) => l
                                .synchronize_timeout(Some(Duration::from_micros(rng.below(2) * 50)))
                                .unwrap(),
                            Engine::Queue(q, keep) => {
                                let d = q
                                    .synchronize_timeout(Some(Duration::from_micros(
                                        rng.below(2) * 50,
                                    )))
                                    .unwrap();
                                if d {
                                    keep.clear()
                                }
                                d
                            }
                        };
                        if done {
                            check(&mut reads);
                        }
                    }
                    9 if forget && rng.below(3) == 0 => {
                        // A panic with a write pending: the list is dropped while unwinding
                        // (a poll, then a deliberate leak), and later readers catch up on it.
                        let dev = dev.clone();
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            let mut l = ImmediateCommandList::compute(&ctx, &dev).unwrap();
                            let mut m = sh.model.lock().unwrap();
                            let v = sh
                                .counter
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            l.fill(&x.slice(c..c + len), v).unwrap();
                            m[c..c + len].fill(v);
                            drop(m);
                            std::panic::resume_unwind(Box::new("planned panic"));
                        }));
                        assert!(r.is_err());
                    }
                    _ => {
                        // Drop (or forget, rarely) the engine and make another.
                        match &mut eng {
                            Engine::Imm(l) => l.synchronize().unwrap(),
                            Engine::Queue(q, _) => q.synchronize().unwrap(),
                        }
                        check(&mut reads);
                        let old = std::mem::replace(&mut eng, make(&mut rng));
                        if forget && rng.below(8) == 0 {
                            std::mem::forget(old);
                        } else {
                            drop(old);
                        }
                    }
                }
            }
            match &mut eng {
                Engine::Imm(l) => l.synchronize().unwrap(),
                Engine::Queue(q, _) => q.synchronize().unwrap(),
            }
            check(&mut reads);
            for p in pollers {
                p.join().unwrap();
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    let mut l = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    let mut out = vec![0u32; N];
    l.copy_to_slice(&mut out, &*x).unwrap();
    assert!(
        out == *sh.model.lock().unwrap(),
        "final contents differ from the model"
    );
    drop((l, x, ctx, devs));
    sanitizer_clean(&t);
}

#[test]
fn many_threads_hammering_one_buffer_keep_program_order() {
    watchdog(
        std::env::var("RT2_SEEDS").map_or(120, |_| 3000),
        "the hammer",
        || {
            for seed in 1..=3 {
                hammer(seed, 6, 150, Some(Duration::from_micros(20)), seed == 3);
            }
            hammer(9, 8, 200, None, false);
            // More seeds on demand: RT2_SEEDS=n.
            let n: u64 = std::env::var("RT2_SEEDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            for seed in 100..100 + n {
                let delay = [None, Some(Duration::ZERO), Some(Duration::from_micros(50))]
                    [seed as usize % 3];
                hammer(seed, 4 + seed as usize % 5, 300, delay, seed % 4 == 0);
            }
        },
    );
}

// =======================================================================================
// Device loss at every submission count.

/// A fixed program over both devices — immediate lists (asynchronous and synchronous), an
/// asynchronous and a synchronous queue, peer memory, borrowed copies, drops mid-way — run
/// with device loss injected at every submission count. Oracle: nothing hangs or panics,
/// every error is typed, the sanitizer sees no freed-memory access.
fn lossy_program(lost_after: u64, delay: Option<Duration>) {
    let Some(mut t) = TestDriver::with(|c| {
        c.device_lost_after = Some(lost_after);
        c.command_delay = delay;
    }) else {
        return;
    };
    t.allow_deliberate_leaks();
    let (ctx, devs) = (t.context(), t.devices());
    const N: usize = 2048;
    let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &devs[0], N).unwrap());
    let y = Arc::new(DeviceBuffer::<u32>::new(&ctx, &devs[1], N).unwrap());
    let h = Arc::new(HostBuffer::<u32>::from_slice(&ctx, &values(N, 2)).unwrap());
    let go = Arc::new(Barrier::new(2));
    let spawn = |k: usize| {
        let (ctx, devs, x, y, h, go) = (
            ctx.clone(),
            devs.clone(),
            x.clone(),
            y.clone(),
            h.clone(),
            go.clone(),
        );
        std::thread::spawn(move || {
            let d = &devs[k];
            let mut a = ImmediateCommandList::compute(&ctx, d).unwrap();
            a.set_drop_timeout(Duration::from_secs(5));
            let mut s = ImmediateCommandList::new(&ctx, d, &sync_desc(d)).unwrap();
            s.set_drop_timeout(Duration::from_secs(5));
            let mut q = CommandQueue::compute(&ctx, d).unwrap();
            q.set_drop_timeout(Duration::from_secs(5));
            let mut sq = CommandQueue::new(&ctx, d, &sync_desc(d)).unwrap();
            sq.set_drop_timeout(Duration::from_secs(5));
            let mut errs = Vec::new();
            let mut note = |r: level_zero::Result<()>| {
                if let Err(e) = r {
                    errs.push(e.to_string());
                }
            };
            go.wait();
            for round in 0..3u32 {
                let v = round * 10 + k as u32;
                note(a.fill(&*x, v));
                note(s.copy(&*y, &*x));
                let mut l = CommandList::compute(&ctx, d).unwrap();
                note(l.copy(&*x, &*h));
                note(l.fill(&*y, v + 1));
                note(l.close());
                note(q.execute(&[&l]));
                let mut l2 = CommandList::compute(&ctx, d).unwrap();
                note(l2.copy(&*h, &*y));
                note(l2.close());
                note(sq.execute(&[&l2]));
                let mut out = vec![0u32; N];
                note(a.copy_to_slice(&mut out, &*y));
                note(s.copy_from_slice(&*x, &out));
                if round == 1 {
                    // Drop and recreate mid-way.
                    drop(std::mem::replace(
                        &mut a,
                        ImmediateCommandList::compute(&ctx, d).unwrap(),
                    ));
                    a.set_drop_timeout(Duration::from_secs(5));
                    let _ = q.synchronize();
                }
            }
            let _ = a.synchronize();
            let _ = q.synchronize();
            drop((a, s, q, sq));
            errs
        })
    };
    let (t0, t1) = (spawn(0), spawn(1));
    let (e0, e1) = (t0.join().unwrap(), t1.join().unwrap());
    if std::env::var("RT2_VERBOSE").is_ok() {
        eprintln!(
            "lost_after {lost_after}: {} + {} errors",
            e0.len(),
            e1.len()
        );
    }
    for e in e0.iter().chain(&e1) {
        assert!(
            e.contains("DEVICE_LOST")
                || e.contains("Busy")
                || e.contains("busy")
                || e.contains("guard"),
            "lost_after {lost_after}: unexpected error {e}"
        );
    }
    drop((x, y, h, ctx, devs));
    sanitizer_clean(&t);
}

#[test]
fn device_loss_at_every_submission_count_neither_hangs_nor_corrupts_memory() {
    watchdog(300, "the lossy programs", || {
        for n in 0..36 {
            lossy_program(n, None);
        }
        for n in (0..36).step_by(5) {
            lossy_program(n, Some(Duration::from_micros(100)));
        }
    });
}
