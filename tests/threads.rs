//! Several threads sharing one context, each with its own lists and buffers, doing copies and
//! kernel launches for a bounded number of rounds (and at most a bounded time); results
//! verified, nothing leaked.

mod common;

use std::time::{Duration, Instant};

use common::TestDriver;
use level_zero::{
    BuildOptions, CommandList, CommandQueue, DeviceBuffer, EventPool, EventPoolFlags, HostBuffer,
    ImmediateCommandList, Module,
};

const VECTOR_ADD: &[u8] = include_bytes!("../kernels/spv/vector_add.O2.spv");
const THREADS: usize = 4;
/// Rounds per thread; under Miri, which interleaves the threads and checks every access, 3.
const ROUNDS: usize = if cfg!(miri) { 3 } else { 40 };
const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn threads_sharing_a_context_copy_and_launch_correctly() {
    let t = TestDriver::new();
    let ctx = t.context();
    let devices = t.devices();
    // Shared across threads: the context, the devices, a module per device, an event pool.
    let modules: Vec<Module> = devices
        .iter()
        .map(|d| Module::from_spirv(&ctx, d, VECTOR_ADD, &BuildOptions::new()).unwrap())
        .collect();
    let pool = EventPool::new(&ctx, THREADS as u32, EventPoolFlags::HOST_VISIBLE).unwrap();
    let start = Instant::now();
    std::thread::scope(|s| {
        for id in 0..THREADS {
            let (ctx, devices, modules, pool) = (&ctx, &devices, &modules, &pool);
            s.spawn(move || {
                let d = id % devices.len();
                let dev = &devices[d];
                let event = pool.event(id as u32).unwrap();
                let mut list = ImmediateCommandList::compute(ctx, dev).unwrap();
                let mut kernel = modules[d].kernel("vector_add").unwrap();
                kernel.set_group_size([64, 1, 1]).unwrap();
                let n = 64 * (id + 1);
                let a = DeviceBuffer::<f32>::new(ctx, dev, n).unwrap();
                let b = DeviceBuffer::<f32>::new(ctx, dev, n).unwrap();
                let c = DeviceBuffer::<f32>::new(ctx, dev, n).unwrap();
                let mut out = HostBuffer::<f32>::new(ctx, n).unwrap();
                // A regular list on a queue too, replayed every round.
                let mut queue = CommandQueue::compute(ctx, dev).unwrap();
                let mut replay = CommandList::compute(ctx, dev).unwrap();
                replay.copy(&out, &c).unwrap();
                replay.close().unwrap();
                for round in 0..ROUNDS {
                    if start.elapsed() > LIMIT {
                        break;
                    }
                    let va: Vec<f32> = (0..n).map(|i| (i + round * 3 + id) as f32).collect();
                    let vb: Vec<f32> = (0..n).map(|i| (i * 2 + round) as f32 * 0.5).collect();
                    list.copy_from_slice(&a, &va).unwrap();
                    list.copy_from_slice(&b, &vb).unwrap();
                    kernel.set_arg_buffer(0, &a).unwrap();
                    kernel.set_arg_buffer(1, &b).unwrap();
                    kernel.set_arg_buffer(2, &c).unwrap();
                    // SAFETY: vector_add touches a[i], b[i], c[i] for i < n; n is a multiple
                    // of the group size and every buffer holds n elements.
                    unsafe {
                        list.launch_with(&kernel, [(n / 64) as u32, 1, 1], Some(&event), &[])
                            .unwrap()
                    };
                    event.host_synchronize().unwrap();
                    event.host_reset().unwrap();
                    list.synchronize().unwrap();
                    queue.execute(&[&replay]).unwrap();
                    queue.synchronize().unwrap();
                    let got = out.as_mut_slice().unwrap();
                    for i in 0..n {
                        assert_eq!(got[i], va[i] + vb[i], "thread {id} round {round} at {i}");
                    }
                }
            });
        }
    });
    drop((modules, pool));
}

#[test]
fn buffers_move_between_threads_and_are_freed_where_they_end() {
    let t = TestDriver::new();
    let ctx = t.context();
    let dev = t.device();
    let (tx, rx) = std::sync::mpsc::channel::<(DeviceBuffer<u64>, u64)>();
    std::thread::scope(|s| {
        let (ctx, dev) = (&ctx, &dev);
        s.spawn(move || {
            let mut list = ImmediateCommandList::copy_engine(ctx, dev).unwrap();
            for v in 0..50u64 {
                let b = DeviceBuffer::<u64>::new(ctx, dev, 256).unwrap();
                list.fill(&b, v).unwrap();
                list.synchronize().unwrap();
                tx.send((b, v)).unwrap();
            }
        });
        s.spawn(move || {
            let mut list = ImmediateCommandList::copy_engine(ctx, dev).unwrap();
            for (b, v) in rx {
                let mut back = vec![0u64; 256];
                list.copy_to_slice(&mut back, &b).unwrap();
                assert!(back.iter().all(|&x| x == v));
            }
        });
    });
}
