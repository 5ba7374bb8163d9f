//! The spec 1.17 command model through the safe layer: the driver's default context, an
//! in-order immediate list the driver orders itself (no barrier between commands), a graph
//! (a kernel launch and a host function) captured once and replayed for every round, and a
//! counter-based event that a second list waits for without any reset — all verified
//! against Rust. On an older driver every piece falls back (barriers, a pool event reset
//! before each signal, an emulated graph) and the example says which path ran.
//!
//! ```sh
//! cargo run --release --example modern_launch            # 2^20 elements, 100 rounds
//! cargo run --release --example modern_launch -- 4096 10
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use level_zero::{
    BuildOptions, CounterEventFlags, DeviceBuffer, Error, Event, EventPool, EventPoolFlags,
    ImmediateCommandList, Module, QueueDesc, Runtime,
};

const SAXPY: &[u8] = include_bytes!("../kernels/spv/saxpy.O2.spv");

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1 << 20);
    let rounds: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let rt = Runtime::init()?;
    let driver = &rt.drivers()[0];
    let device = &driver.devices()?[0];
    let ctx = driver.default_context()?;
    println!(
        "backend: {}, device {}, {n} elements, {rounds} rounds",
        rt.backend(),
        device.name()?
    );

    let desc = QueueDesc::compute(device)?;
    let mut list = ImmediateCommandList::new(&ctx, device, &desc)?;
    let mut reader = ImmediateCommandList::new(&ctx, device, &desc)?;
    // The driver's counter-based event, or (before spec 1.15) a pool event reset before each
    // signal.
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE)?;
    let done = match Event::counter_based(&ctx, device, CounterEventFlags::HOST_VISIBLE) {
        Ok(e) => e,
        Err(Error::Unsupported { .. }) => pool.event(0)?,
        Err(e) => return Err(e),
    };
    println!(
        "in-order list: {}; completion event: {}",
        if list.is_ordered_by_driver() {
            "ordered by the driver (ZE_COMMAND_QUEUE_FLAG_IN_ORDER)"
        } else {
            "ordered by a barrier before each command (the driver refused the flag)"
        },
        if done.is_counter_based() {
            "the driver's counter-based event"
        } else {
            "a pool event reset before each signal (the driver has no counter-based events)"
        }
    );

    let module = Module::from_spirv(&ctx, device, SAXPY, &BuildOptions::new())?;
    let mut k = module.kernel("saxpy")?;
    let group = k.suggest_group_size([n as u32, 1, 1])?;
    k.set_group_size(group)?;
    let groups = [(n as u32).div_ceil(group[0]), 1, 1];
    if groups[0] * group[0] != n as u32 {
        eprintln!(
            "{n} elements is not a multiple of the group size {}",
            group[0]
        );
        std::process::exit(2);
    }

    let x: Vec<f32> = (0..n).map(|i| (i % 17) as f32).collect();
    let y0: Vec<f32> = (0..n).map(|i| (i % 5) as f32).collect();
    let dx = DeviceBuffer::<f32>::new(&ctx, device, n)?;
    let dy = DeviceBuffer::<f32>::new(&ctx, device, n)?;
    let snapshot = DeviceBuffer::<f32>::new(&ctx, device, n)?;
    list.copy_from_slice(&dx, &x)?;
    list.copy_from_slice(&dy, &y0)?;
    k.set_arg(0, &1.0f32)?;
    k.set_arg_buffer(1, &dx)?;
    k.set_arg_buffer(2, &dy)?;

    // One round, captured once: y += x, then a host function that counts the round (in
    // order: after the launch).
    let host_rounds = Arc::new(AtomicU32::new(0));
    let h = host_rounds.clone();
    let graph = list.capture(|g| {
        // SAFETY: saxpy touches x[i] and y[i] for every global id i, unchecked; the grid is
        // exactly n work-items (checked above), and both buffers hold n elements.
        unsafe { g.launch(&k, groups)? };
        g.host_fn(move || {
            h.fetch_add(1, Ordering::SeqCst);
        })
    })?;
    let round = graph.instantiate()?;
    println!(
        "graph: {}",
        if graph.is_native() {
            "the driver's (ZE_extension_record_replay_graph)"
        } else {
            "emulated by a regular list appended to the immediate list"
        }
    );
    // Each round replays the graph, and the counter-based event re-arms to stand for the
    // round's end. The reader list copies y when round 10 (and every tenth) has ended,
    // waiting on the same event with no reset in between.
    let t = std::time::Instant::now();
    for round_no in 1..=rounds {
        list.replay(&round)?;
        if !done.is_counter_based() {
            list.reset_event(&done)?;
        }
        list.barrier_with(Some(&done), &[])?;
        let round = round_no;
        if round % 10 == 0 {
            reader.wait_events(&[&done])?;
            reader.copy(&snapshot, &dy)?;
            reader.synchronize()?;
            let mut got = vec![0f32; n];
            reader.copy_to_slice(&mut got, &snapshot)?;
            // The snapshot is at least this round's y (the list may have run further).
            let at_least = round as f32;
            let ok = (0..n).all(|i| got[i] >= y0[i] + at_least * x[i]);
            assert!(ok, "round {round}: the reader saw y before the round ended");
        }
    }
    done.host_synchronize()?;
    list.synchronize()?;
    let wall = t.elapsed();
    assert_eq!(host_rounds.load(Ordering::SeqCst), rounds, "host functions");
    let mut y = vec![0f32; n];
    list.copy_to_slice(&mut y, &dy)?;
    let bad = (0..n)
        .filter(|&i| y[i] != y0[i] + rounds as f32 * x[i])
        .count();
    assert_eq!(bad, 0, "{bad} wrong elements");
    println!(
        "{rounds} replays of launch + host function, each signalling the counter-based event, verified in {:.2} ms ({:.1} µs per round)",
        wall.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e6 / f64::from(rounds)
    );
    Ok(())
}
