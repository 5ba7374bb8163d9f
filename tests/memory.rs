//! Allocations: kinds, round trips, limits, faults, host guards and keep-alive.

mod common;

use common::TestDriver;
use half::f16;
use level_zero::{
    AllocationKind, CommandList, CommandQueue, Context, DeviceBuffer, Error, HostBuffer,
    ImmediateCommandList, Memory, SharedBuffer,
};

#[test]
fn device_host_and_shared_buffers_round_trip() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();

    let data: Vec<f32> = (0..10_000).map(|i| i as f32 / 3.0).collect();
    let d = DeviceBuffer::<f32>::new(&ctx, &dev, data.len()).unwrap();
    assert_eq!(d.kind(), AllocationKind::Device);
    assert_eq!(d.size_bytes(), data.len() * 4);
    assert_eq!(d.device(), &dev);
    list.copy_from_slice(&d, &data).unwrap();
    let mut back = vec![0f32; data.len()];
    list.copy_to_slice(&mut back, &d).unwrap();
    assert_eq!(back, data);

    // f16 through host memory and a device-to-device copy.
    let halves: Vec<f16> = (0..512).map(|i| f16::from_f32(i as f32 * 0.25)).collect();
    let h = HostBuffer::from_slice(&ctx, &halves).unwrap();
    let d1 = DeviceBuffer::<f16>::new(&ctx, &dev, halves.len()).unwrap();
    let d2 = DeviceBuffer::<f16>::new(&ctx, &dev, halves.len()).unwrap();
    list.copy(&d1, &h).unwrap();
    list.copy(&d2, &d1).unwrap();
    let mut s = SharedBuffer::<f16>::new(&ctx, &dev, halves.len()).unwrap();
    list.copy(&s, &d2).unwrap();
    list.synchronize().unwrap();
    assert_eq!(s.to_vec().unwrap(), halves);
    assert_eq!(s.kind(), AllocationKind::Shared);
    s.as_mut_slice().unwrap()[0] = f16::from_f32(-1.0);
    assert_eq!(s.as_slice().unwrap()[0], f16::from_f32(-1.0));
}

#[test]
fn new_host_and_shared_buffers_are_zeroed() {
    let t = TestDriver::new();
    let ctx = t.context();
    let h = HostBuffer::<u64>::new(&ctx, 1000).unwrap();
    assert!(h.as_slice().unwrap().iter().all(|&x| x == 0));
    let s = SharedBuffer::<u32>::new(&ctx, &t.device(), 1000).unwrap();
    assert!(s.as_slice().unwrap().iter().all(|&x| x == 0));
}

#[test]
fn slices_copy_sub_ranges() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
    let d = DeviceBuffer::<u16>::new(&ctx, &dev, 100).unwrap();
    list.fill(&d, 1u16).unwrap();
    list.copy_from_slice(&d.slice(10..20), &[7u16; 10]).unwrap();
    let mut back = vec![0u16; 100];
    list.copy_to_slice(&mut back, &d).unwrap();
    for (i, v) in back.iter().enumerate() {
        assert_eq!(*v, if (10..20).contains(&i) { 7 } else { 1 }, "index {i}");
    }
    assert!(d.get(90..101).is_none());
    assert_eq!(d.slice(..).len(), 100);
}

#[test]
#[should_panic(expected = "out of bounds")]
fn slicing_out_of_bounds_panics_like_a_slice() {
    let t = TestDriver::new();
    let d = DeviceBuffer::<u8>::new(&t.context(), &t.device(), 8).unwrap();
    let _ = d.slice(4..9);
}

#[test]
fn zero_length_buffers_allocate_nothing_and_copy_nothing() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let before = t.live().allocations;
    let d = DeviceBuffer::<f32>::new(&ctx, &dev, 0).unwrap();
    let h = HostBuffer::<f32>::new(&ctx, 0).unwrap();
    let s = SharedBuffer::<f32>::new(&ctx, &dev, 0).unwrap();
    assert_eq!(t.live().allocations, before);
    assert!(d.is_empty() && h.is_empty() && s.is_empty());
    assert!(d.as_raw().is_null());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.copy(&d, &h).unwrap();
    list.fill(&s, 0f32).unwrap();
    list.copy_from_slice(&d, &[]).unwrap();
    list.copy_to_slice(&mut [], &s).unwrap();
    list.synchronize().unwrap();
    assert!(h.as_slice().unwrap().is_empty());
}

#[test]
fn allocations_above_the_limit_use_relaxed_limits() {
    // 1 MiB; under Miri, which checks every byte copied, 16 KiB.
    let limit: usize = if cfg!(miri) { 16 << 10 } else { 1 << 20 };
    let Some(t) = TestDriver::with(|c| c.max_alloc = Some(limit as u64)) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    assert_eq!(dev.properties().unwrap().max_mem_alloc_size, limit as u64);
    // Three times the limit, through the relaxed-allocation-limits descriptor.
    let n = 3 * limit;
    let d = DeviceBuffer::<u8>::new(&ctx, &dev, n).unwrap();
    let s = SharedBuffer::<u8>::new(&ctx, &dev, n).unwrap();
    let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    let mut list = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
    list.copy_from_slice(&d, &data).unwrap();
    list.copy(&s, &d).unwrap();
    list.synchronize().unwrap();
    assert_eq!(s.as_slice().unwrap()[..], data[..]);
}

#[test]
fn allocations_above_the_limit_without_the_extension_name_the_limit() {
    let Some(t) = TestDriver::with(|c| {
        c.max_alloc = Some(1 << 20);
        c.hidden_extensions = vec!["ZE_experimental_relaxed_allocation_limits".into()];
    }) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let before = t.live();
    let err = DeviceBuffer::<u8>::new(&ctx, &dev, (1 << 20) + 1).unwrap_err();
    match &err {
        Error::AllocationTooLarge { requested, limit } => {
            assert_eq!((*requested, *limit), ((1 << 20) + 1, 1 << 20));
        }
        other => panic!("expected AllocationTooLarge, got {other:?}"),
    }
    assert!(err.to_string().contains("1048576"), "{err}");
    assert_eq!(t.live(), before, "nothing was allocated");
    // At the limit is fine.
    DeviceBuffer::<u8>::new(&ctx, &dev, 1 << 20).unwrap();
}

#[test]
fn running_out_of_device_memory_is_a_typed_error_and_the_process_goes_on() {
    let Some(t) = TestDriver::with(|c| {
        c.device_memory = 8 << 20;
        c.max_alloc = Some(8 << 20);
    }) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let a = DeviceBuffer::<u8>::new(&ctx, &dev, 6 << 20).unwrap();
    let err = DeviceBuffer::<u8>::new(&ctx, &dev, 4 << 20).unwrap_err();
    assert!(err.is_out_of_device_memory(), "{err}");
    assert!(err.to_string().contains("zeMemAllocDevice"), "{err}");
    // The other device has its own memory.
    let other = DeviceBuffer::<u8>::new(&ctx, &t.devices()[1], 4 << 20).unwrap();
    drop(a);
    // Memory is back once the first buffer is gone.
    let b = DeviceBuffer::<u8>::new(&ctx, &dev, 4 << 20).unwrap();
    drop((b, other));
}

#[test]
fn the_nth_allocation_fails_when_injected() {
    let Some(t) = TestDriver::with(|c| c.fail_alloc_at = Some(3)) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let a = DeviceBuffer::<u32>::new(&ctx, &dev, 16).unwrap();
    let b = HostBuffer::<u32>::new(&ctx, 16).unwrap();
    let err = SharedBuffer::<u32>::new(&ctx, &dev, 16).unwrap_err();
    assert!(err.is_out_of_device_memory(), "{err}");
    let c = SharedBuffer::<u32>::new(&ctx, &dev, 16).unwrap();
    drop((a, b, c));
}

#[test]
fn host_access_and_device_work_exclude_each_other() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let src = DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap();
    list.fill(&src, 9u32).unwrap();
    let mut host = HostBuffer::<u32>::new(&ctx, 4096).unwrap();

    // Device work writing the host buffer: no host access until synchronised.
    list.copy(&host, &src).unwrap();
    assert!(matches!(host.as_slice(), Err(Error::Busy { .. })));
    assert!(matches!(host.as_mut_slice(), Err(Error::Busy { .. })));
    list.synchronize().unwrap();
    assert!(host.as_slice().unwrap().iter().all(|&x| x == 9));

    // A host read guard: the device may read the buffer but not write it.
    {
        let guard = host.as_slice().unwrap();
        let err = list.copy(&host, &src).unwrap_err();
        assert!(matches!(err, Error::Busy { .. }), "{err}");
        list.copy(&src, &host).unwrap();
        assert_eq!(guard[0], 9);
    }
    list.synchronize().unwrap();
    // Device work reading the buffer (held back by a gate, so it is surely pending): host
    // reads are fine, host writes are not.
    let pool =
        level_zero::EventPool::new(&ctx, 1, level_zero::EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    list.wait_events(&[&gate]).unwrap();
    list.copy(&src, &host).unwrap();
    assert!(host.as_slice().is_ok());
    assert!(matches!(host.as_mut_slice(), Err(Error::Busy { .. })));
    gate.host_signal().unwrap();
    list.synchronize().unwrap();
    {
        let mut w = host.as_mut_slice().unwrap();
        w[0] = 1;
    }
    list.synchronize().unwrap();
    assert_eq!(host.as_slice().unwrap()[0], 1);
}

#[test]
fn a_mutable_host_guard_blocks_device_reads_and_regular_list_execution() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut host = HostBuffer::<u8>::new(&ctx, 64).unwrap();
    let d = DeviceBuffer::<u8>::new(&ctx, &dev, 64).unwrap();
    let mut recorded = CommandList::compute(&ctx, &dev).unwrap();
    recorded.copy(&host, &d).unwrap();
    recorded.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    {
        let _w = host.as_mut_slice().unwrap();
        // A recorded list that writes the buffer cannot start while the host writes it.
        let err = queue.execute(&[&recorded]).unwrap_err();
        assert!(matches!(err, Error::Busy { .. }), "{err}");
        // (Appending a command that reads `host` here does not even compile: the guard
        // borrows the buffer mutably.)
    }
    queue.execute(&[&recorded]).unwrap();
    queue.synchronize().unwrap();
    assert_eq!(queue.in_flight(), 0);
    list.copy(&d, &host).unwrap();
    list.synchronize().unwrap();
}

#[test]
fn dropping_a_buffer_while_a_command_uses_it_keeps_the_memory_until_completion() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let pool =
        level_zero::EventPool::new(&ctx, 1, level_zero::EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let src = DeviceBuffer::<u64>::new(&ctx, &dev, 1 << 16).unwrap();
    let dst = HostBuffer::<u64>::new(&ctx, 1 << 16).unwrap();
    // The copy waits for the gate, so it is certainly pending when the buffers are dropped.
    list.wait_events(&[&gate]).unwrap();
    list.fill(&src, 0xfeed_u64).unwrap();
    list.copy(&dst, &src).unwrap();
    let allocations = t.live().allocations;
    drop(src);
    drop(dst);
    assert_eq!(
        t.live().allocations,
        allocations,
        "memory of pending commands must not be freed"
    );
    gate.host_signal().unwrap();
    list.synchronize().unwrap();
    assert_eq!(
        t.live().allocations,
        allocations - 2,
        "freed after completion"
    );
}

#[test]
fn a_context_dropped_before_its_buffers_stays_alive_for_them() {
    let t = TestDriver::new();
    let dev = t.device();
    let ctx = t.context();
    let d = DeviceBuffer::<u32>::new(&ctx, &dev, 100).unwrap();
    let h = HostBuffer::<u32>::from_slice(&ctx, &[3; 100]).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    drop(ctx);
    assert_eq!(t.live().contexts, 1);
    list.copy(&d, &h).unwrap();
    let mut back = vec![0u32; 100];
    list.copy_to_slice(&mut back, &d).unwrap();
    assert_eq!(back, vec![3; 100]);
    drop((d, h, list));
    assert_eq!(t.live().contexts, 0);
}

#[test]
fn buffers_of_another_context_or_an_unreachable_device_are_refused_before_any_call() {
    let Some(t) = TestDriver::with(|c| c.p2p = false) else {
        return;
    };
    let devs = t.devices();
    let (c1, c2) = (t.context(), t.context());
    let a = DeviceBuffer::<u8>::new(&c1, &devs[0], 16).unwrap();
    let b = DeviceBuffer::<u8>::new(&c2, &devs[0], 16).unwrap();
    let mut list = ImmediateCommandList::compute(&c1, &devs[0]).unwrap();
    let err = list.copy(&a, &b).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { reason, .. } if reason.contains("another context")),
        "{err}"
    );
    // Memory of device 1, which device 0 cannot reach without peer access.
    let other = DeviceBuffer::<u8>::new(&c1, &devs[1], 16).unwrap();
    let err = list.copy(&a, &other).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { reason, .. } if reason.contains("peer")),
        "{err}"
    );
    // A device that is not in the context.
    let only0 = Context::with_devices(&devs[..1]).unwrap();
    let err = DeviceBuffer::<u8>::new(&only0, &devs[1], 16).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
}

#[test]
fn length_mismatches_are_refused() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = DeviceBuffer::<u32>::new(&ctx, &dev, 10).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &dev, 11).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let err = list.copy(&a, &b).unwrap_err();
    assert!(err.to_string().contains("length mismatch"), "{err}");
    let err = list.copy_from_slice(&a, &[1, 2, 3]).unwrap_err();
    assert!(err.to_string().contains("length mismatch"), "{err}");
    let mut h = HostBuffer::<u32>::new(&ctx, 2).unwrap();
    assert!(h.copy_from_slice(&[1, 2, 3]).is_err());
    // Overflowing sizes never reach the driver.
    let err = DeviceBuffer::<u64>::new(&ctx, &dev, usize::MAX / 4).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    // Alignment must be a power of two.
    let opts = level_zero::AllocOptions {
        alignment: 24,
        ..Default::default()
    };
    let err = DeviceBuffer::<u8>::with_options(&ctx, &dev, 8, &opts).unwrap_err();
    assert!(err.to_string().contains("power of two"), "{err}");
}

#[test]
fn alignment_is_honoured() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    for align in [64usize, 4096, 1 << 16] {
        let opts = level_zero::AllocOptions {
            alignment: align,
            ..Default::default()
        };
        let d = DeviceBuffer::<u8>::with_options(&ctx, &dev, 100, &opts).unwrap();
        assert_eq!(d.as_raw() as usize % align, 0, "alignment {align}");
        let h = HostBuffer::<u8>::with_options(&ctx, 100, &opts).unwrap();
        assert_eq!(h.as_raw() as usize % align, 0, "alignment {align}");
    }
}
