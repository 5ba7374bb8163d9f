//! Command lists, queues, events, fences: behaviour, errors and faults.

mod common;

use std::time::Duration;

use common::TestDriver;
use level_zero::{
    CommandList, CommandQueue, DeviceBuffer, Error, EventPool, EventPoolFlags, Fence, HostBuffer,
    ImmediateCommandList, QueueDesc,
};

const SHORT: Option<Duration> = Some(Duration::from_millis(30));

#[test]
fn a_regular_list_records_closes_executes_twice_and_resets() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = DeviceBuffer::<u32>::new(&ctx, &dev, 1000).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, 1000).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    list.fill(&a, 5u32).unwrap();
    list.barrier().unwrap();
    list.copy(&out, &a).unwrap();
    assert!(!list.is_closed());
    // Executing an open list is refused.
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    assert!(matches!(
        queue.execute(&[&list]),
        Err(Error::InvalidArgument { .. })
    ));
    list.close().unwrap();
    // Appending to a closed list is refused.
    assert!(matches!(list.barrier(), Err(Error::InvalidArgument { .. })));

    for _ in 0..2 {
        queue.execute(&[&list]).unwrap();
        queue.synchronize().unwrap();
        assert!(out.as_slice().unwrap().iter().all(|&x| x == 5));
    }
    list.reset().unwrap();
    list.fill(&a, 6u32).unwrap();
    list.copy(&out, &a).unwrap();
    list.close().unwrap();
    queue.execute(&[&list]).unwrap();
    queue.synchronize().unwrap();
    assert!(out.as_slice().unwrap().iter().all(|&x| x == 6));
}

#[test]
fn an_executing_list_cannot_change_or_run_again_and_may_be_dropped() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let d = DeviceBuffer::<u8>::new(&ctx, &dev, 256).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    list.wait_events(&[&gate]).unwrap();
    list.fill(&d, 1u8).unwrap();
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&list]).unwrap();
    assert_eq!(queue.in_flight(), 1);
    assert!(matches!(list.reset(), Err(Error::Busy { .. })));
    assert!(matches!(queue.execute(&[&list]), Err(Error::Busy { .. })));
    // The same list twice in one submission is refused too.
    let mut other = CommandList::compute(&ctx, &dev).unwrap();
    other.close().unwrap();
    assert!(matches!(
        queue.execute(&[&other, &other]),
        Err(Error::Busy { .. })
    ));
    // Not complete yet: a bounded wait says so.
    assert!(!queue.synchronize_timeout(SHORT).unwrap());
    let lists_before = t.live().command_lists;
    drop(list);
    assert_eq!(
        t.live().command_lists,
        lists_before,
        "the queue keeps an executing list"
    );
    gate.host_signal().unwrap();
    queue.synchronize().unwrap();
    assert_eq!(queue.in_flight(), 0);
    assert_eq!(t.live().command_lists, lists_before - 1);
}

#[test]
fn lists_must_match_the_queue_group_device_and_context() {
    let t = TestDriver::new();
    let (ctx, devs) = (t.context(), t.devices());
    let compute = QueueDesc::compute(&devs[0]).unwrap();
    let copy = QueueDesc::copy(&devs[0]).unwrap();
    assert_ne!(
        compute.ordinal, copy.ordinal,
        "the CPU driver has a copy group"
    );
    let mut l = CommandList::new(&ctx, &devs[0], &copy).unwrap();
    l.close().unwrap();
    let mut q = CommandQueue::new(&ctx, &devs[0], &compute).unwrap();
    let err = q.execute(&[&l]).unwrap_err();
    assert!(err.to_string().contains("queue group"), "{err}");
    let mut l1 = CommandList::compute(&ctx, &devs[1]).unwrap();
    l1.close().unwrap();
    assert!(matches!(
        q.execute(&[&l1]),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(q.execute(&[]), Err(Error::InvalidArgument { .. })));
    // Out-of-range ordinals and indices are refused before any call.
    let bad = QueueDesc {
        ordinal: 99,
        ..Default::default()
    };
    assert!(matches!(
        CommandQueue::new(&ctx, &devs[0], &bad),
        Err(Error::InvalidArgument { .. })
    ));
    let bad = QueueDesc {
        index: 99,
        ..compute
    };
    assert!(matches!(
        ImmediateCommandList::new(&ctx, &devs[0], &bad),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn fills_take_every_power_of_two_pattern_up_to_the_limit() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    fn check<const N: usize>(
        list: &mut ImmediateCommandList,
        ctx: &level_zero::Context,
        dev: &level_zero::Device,
    ) where
        [u8; N]: bytemuck::Pod,
    {
        let pattern: [u8; N] = std::array::from_fn(|i| (i * 7 + N) as u8);
        let d = DeviceBuffer::<[u8; N]>::new(ctx, dev, 33).unwrap();
        list.fill(&d, pattern).unwrap();
        let mut back = vec![[0u8; N]; 33];
        list.copy_to_slice(&mut back, &d).unwrap();
        assert!(back.iter().all(|p| *p == pattern), "pattern of {N} bytes");
    }
    check::<1>(&mut list, &ctx, &dev);
    check::<2>(&mut list, &ctx, &dev);
    check::<4>(&mut list, &ctx, &dev);
    check::<8>(&mut list, &ctx, &dev);
    check::<16>(&mut list, &ctx, &dev);
    check::<32>(&mut list, &ctx, &dev);
    check::<64>(&mut list, &ctx, &dev);
    check::<128>(&mut list, &ctx, &dev);
    let d3 = DeviceBuffer::<[u8; 3]>::new(&ctx, &dev, 4).unwrap();
    let err = list.fill(&d3, [1, 2, 3]).unwrap_err();
    assert!(err.to_string().contains("power of two"), "{err}");
    let d256 = DeviceBuffer::<[u8; 256]>::new(&ctx, &dev, 1).unwrap();
    assert!(list.fill(&d256, [0; 256]).is_err());
}

#[test]
fn events_gate_work_signal_and_time_out() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let pool = EventPool::new(&ctx, 4, EventPoolFlags::HOST_VISIBLE).unwrap();
    assert_eq!(pool.count(), 4);
    let gate = pool.event(0).unwrap();
    let done = pool.event(1).unwrap();
    // One event per index at a time; out-of-range indices are refused.
    assert!(pool.event(0).is_err());
    assert!(pool.event(4).is_err());

    assert!(!gate.is_signaled().unwrap());
    assert!(!gate.host_synchronize_timeout(SHORT).unwrap());
    assert!(matches!(
        gate.host_synchronize_timeout(Some(Duration::ZERO)),
        Ok(false)
    ));

    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let d = DeviceBuffer::<u32>::new(&ctx, &dev, 64).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, 64).unwrap();
    list.wait_events(&[&gate]).unwrap();
    list.fill(&d, 77u32).unwrap();
    list.copy(&out, &d).unwrap();
    list.signal_event(&done).unwrap();
    // Held back by the gate.
    assert!(!list.synchronize_timeout(SHORT).unwrap());
    assert!(!done.is_signaled().unwrap());
    gate.host_signal().unwrap();
    done.host_synchronize().unwrap();
    list.synchronize().unwrap();
    assert!(out.as_slice().unwrap().iter().all(|&x| x == 77));

    // Reset from the host and from a list.
    done.host_reset().unwrap();
    assert!(!done.is_signaled().unwrap());
    gate.host_reset().unwrap();
    list.signal_event(&gate).unwrap();
    list.reset_event(&gate).unwrap();
    list.barrier_with(Some(&done), &[]).unwrap();
    list.synchronize().unwrap();
    assert!(done.is_signaled().unwrap());
    assert!(!gate.is_signaled().unwrap());
    // Dropping an event frees its index.
    drop(gate);
    let again = pool.event(0).unwrap();
    drop(again);
}

#[test]
fn fences_signal_time_out_and_reset() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut fence = Fence::new(&queue).unwrap();
    // No execution: the wait times out.
    assert!(!fence.synchronize_timeout(SHORT).unwrap());
    assert!(!fence.is_signaled().unwrap());
    assert!(
        Fence::with_state(&queue, true)
            .unwrap()
            .is_signaled()
            .unwrap()
    );

    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let d = DeviceBuffer::<u8>::new(&ctx, &dev, 1024).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    list.wait_events(&[&gate]).unwrap();
    list.fill(&d, 3u8).unwrap();
    list.close().unwrap();
    queue.execute_with_fence(&[&list], &fence).unwrap();
    assert!(!fence.synchronize_timeout(SHORT).unwrap());
    // Attached to a pending execution: cannot be reset or reused yet.
    assert!(matches!(fence.reset(), Err(Error::Busy { .. })));
    assert!(matches!(
        queue.execute_with_fence(&[&list], &fence),
        Err(Error::Busy { .. })
    ));
    gate.host_signal().unwrap();
    fence.synchronize().unwrap();
    // The fence's completion released the execution.
    assert_eq!(queue.in_flight(), 0);
    fence.reset().unwrap();
    assert!(!fence.is_signaled().unwrap());
    queue.execute_with_fence(&[&list], &fence).unwrap();
    fence.synchronize().unwrap();
    // A fence of another queue is refused.
    let other = CommandQueue::compute(&ctx, &dev).unwrap();
    let foreign = Fence::new(&other).unwrap();
    assert!(matches!(
        queue.execute_with_fence(&[&list], &foreign),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn global_timestamps_are_written_and_advance() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let ts = HostBuffer::<u64>::new(&ctx, 2).unwrap();
    list.write_global_timestamp(&ts.slice(0..1)).unwrap();
    list.fill(&DeviceBuffer::<u8>::new(&ctx, &dev, 1 << 20).unwrap(), 1u8)
        .unwrap();
    list.write_global_timestamp(&ts.slice(1..2)).unwrap();
    list.synchronize().unwrap();
    let v = ts.to_vec().unwrap();
    assert!(v[0] > 0 && v[1] >= v[0], "{v:?}");
    let empty = HostBuffer::<u64>::new(&ctx, 0).unwrap();
    assert!(list.write_global_timestamp(&empty).is_err());
    let (h1, d1) = dev.global_timestamps().unwrap();
    let (h2, d2) = dev.global_timestamps().unwrap();
    assert!(h2 >= h1 && d2 >= d1);
}

#[test]
fn a_lost_device_is_a_typed_error_everywhere_and_nothing_leaks() {
    let Some(t) = TestDriver::with(|c| c.device_lost_after = Some(1)) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let d = DeviceBuffer::<u32>::new(&ctx, &dev, 1024).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    // The first submission works.
    list.fill(&d, 1u32).unwrap();
    list.synchronize().unwrap();
    // The device is lost while running the second.
    let r = list.fill(&d, 2u32).and_then(|()| list.synchronize());
    let err = r.unwrap_err();
    assert!(err.is_device_lost(), "{err}");
    assert!(dev.status().unwrap_err().is_device_lost());
    let err = list.copy_from_slice(&d, &[0; 1024]).unwrap_err();
    assert!(err.is_device_lost(), "{err}");
    let mut q = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut l = CommandList::compute(&ctx, &dev).unwrap();
    l.close().unwrap();
    let r = q.execute(&[&l]).and_then(|()| q.synchronize());
    assert!(r.unwrap_err().is_device_lost());
    // The other device still works.
    let dev1 = &t.devices()[1];
    let d1 = DeviceBuffer::<u32>::new(&ctx, dev1, 4).unwrap();
    let mut l1 = ImmediateCommandList::compute(&ctx, dev1).unwrap();
    l1.copy_from_slice(&d1, &[1, 2, 3, 4]).unwrap();
}

#[test]
fn immediate_lists_on_every_queue_group_run_in_order() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    for g in dev.queue_groups().unwrap() {
        for index in 0..g.num_queues {
            let desc = QueueDesc {
                ordinal: g.ordinal,
                index,
                ..Default::default()
            };
            let mut list = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
            let d = DeviceBuffer::<u64>::new(&ctx, &dev, 4096).unwrap();
            for v in 0..20u64 {
                list.fill(&d, v).unwrap();
            }
            let mut back = vec![0u64; 4096];
            list.copy_to_slice(&mut back, &d).unwrap();
            assert!(
                back.iter().all(|&x| x == 19),
                "group {} queue {index}",
                g.ordinal
            );
        }
    }
}

#[test]
fn dropping_queues_and_lists_with_pending_work_waits_for_it() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let out = HostBuffer::<u32>::new(&ctx, 1 << 16).unwrap();
    let d = DeviceBuffer::<u32>::new(&ctx, &dev, 1 << 16).unwrap();
    {
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        list.fill(&d, 42u32).unwrap();
        list.copy(&out, &d).unwrap();
        // Dropped without synchronising.
    }
    assert!(out.as_slice().unwrap().iter().all(|&x| x == 42));
    {
        let mut l = CommandList::compute(&ctx, &dev).unwrap();
        l.fill(&d, 43u32).unwrap();
        l.copy(&out, &d).unwrap();
        l.close().unwrap();
        let mut q = CommandQueue::compute(&ctx, &dev).unwrap();
        q.execute(&[&l]).unwrap();
    }
    assert!(out.as_slice().unwrap().iter().all(|&x| x == 43));
}
