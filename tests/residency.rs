//! Residency, accounting, sysman memory state and device selection: what multi-GPU users
//! fought with.

mod common;

use common::TestDriver;
use level_zero::cpu::Sysman;
use level_zero::{
    Context, DeviceBuffer, DeviceFilter, DeviceType, Error, HostBuffer, ImmediateCommandList,
    MemorySource, SharedBuffer, SysmanUnavailable, copy_peer,
};

/// The residency part of what the CPU driver recorded for a device.
fn residency(d: &level_zero::Device) -> (u64, u64, u64, u64) {
    let r = level_zero::cpu::residency(d).unwrap();
    (
        r.resident_ranges,
        r.resident_bytes,
        r.make_resident_calls,
        r.evict_calls,
    )
}

#[test]
fn residency_reaches_only_the_device_asked_for() {
    let t = TestDriver::new();
    let (ctx, devs) = (t.context(), t.devices());
    let r0 = residency(&devs[0]);
    let r1 = residency(&devs[1]);

    // Allocating, copying between the devices and synchronising never touches residency.
    let a = DeviceBuffer::<u32>::new(&ctx, &devs[0], 1 << 16).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &devs[1], 1 << 16).unwrap();
    ImmediateCommandList::copy_engine(&ctx, &devs[0])
        .unwrap()
        .fill(&a, 1u32)
        .unwrap();
    copy_peer(&b, &a).unwrap();
    assert_eq!(residency(&devs[0]), r0);
    assert_eq!(residency(&devs[1]), r1);

    // Explicit residency reaches the named device only.
    ctx.make_resident(&devs[0], &a).unwrap();
    assert_eq!(
        residency(&devs[0]),
        (r0.0 + 1, r0.1 + (1 << 18), r0.2 + 1, r0.3)
    );
    assert_eq!(residency(&devs[1]), r1);
    ctx.evict(&devs[0], &a).unwrap();
    assert_eq!(residency(&devs[0]), (r0.0, r0.1, r0.2 + 1, r0.3 + 1));
    // Devices outside the context and memory of another context are refused.
    let only0 = Context::with_devices(&devs[..1]).unwrap();
    assert!(matches!(
        only0.make_resident(&devs[1], &a),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        only0.make_resident(&devs[0], &a),
        Err(Error::InvalidArgument { .. })
    ));
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

enum Buf {
    Device(DeviceBuffer<u8>),
    Shared(SharedBuffer<u8>),
    Host(HostBuffer<u8>),
}

#[test]
fn accounting_matches_the_live_buffers_through_random_allocations_and_frees() {
    let t = TestDriver::new();
    let (ctx, devs) = (t.context(), t.devices());
    let dev = &devs[0];
    let base = dev.allocation_stats();
    let host_base = t.driver.host_allocation_stats();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut live: Vec<Buf> = Vec::new();
    let mut peak = 0u64;
    // Under Miri, which checks every allocation and free, fewer steps.
    let steps = if cfg!(miri) { 40 } else { 300 };
    for step in 0..steps {
        if live.is_empty() || !rng.next().is_multiple_of(3) {
            let n = (rng.next() % (256 << 10)) as usize;
            live.push(match rng.next() % 3 {
                0 => Buf::Device(DeviceBuffer::new(&ctx, dev, n).unwrap()),
                1 => Buf::Shared(SharedBuffer::new(&ctx, dev, n).unwrap()),
                _ => Buf::Host(HostBuffer::new(&ctx, n).unwrap()),
            });
        } else {
            let i = (rng.next() as usize) % live.len();
            live.swap_remove(i);
        }
        let sum = |f: &dyn Fn(&Buf) -> Option<usize>| -> (u64, u64) {
            let v: Vec<usize> = live.iter().filter_map(f).filter(|&n| n > 0).collect();
            (v.iter().sum::<usize>() as u64, v.len() as u64)
        };
        let (dbytes, dcount) = sum(&|b| match b {
            Buf::Device(d) => Some(d.size_bytes()),
            _ => None,
        });
        let (sbytes, scount) = sum(&|b| match b {
            Buf::Shared(s) => Some(s.size_bytes()),
            _ => None,
        });
        let (hbytes, hcount) = sum(&|b| match b {
            Buf::Host(h) => Some(h.size_bytes()),
            _ => None,
        });
        let s = dev.allocation_stats();
        assert_eq!(s.device.bytes - base.device.bytes, dbytes, "step {step}");
        assert_eq!(s.device.count - base.device.count, dcount, "step {step}");
        assert_eq!(s.shared.bytes - base.shared.bytes, sbytes, "step {step}");
        assert_eq!(s.shared.count - base.shared.count, scount, "step {step}");
        let h = t.driver.host_allocation_stats();
        assert_eq!(h.bytes - host_base.bytes, hbytes, "step {step}");
        assert_eq!(h.count - host_base.count, hcount, "step {step}");
        peak = peak.max(dbytes);
        assert!(s.device.peak_bytes >= base.device.bytes + peak);
        assert!(s.device.total_count >= s.device.count);
    }
    // The process-wide snapshot has the same figures.
    let all = level_zero::memory_stats();
    let (_, s) = all.devices.iter().find(|(d, _)| d == dev).unwrap();
    assert_eq!(*s, dev.allocation_stats());
    // The other device saw nothing.
    assert_eq!(devs[1].allocation_stats().bytes(), 0);
}

#[test]
fn sysman_memory_state_is_capacity_minus_allocations() {
    let Some(t) = TestDriver::with(|c| c.device_memory = 64 << 20) else {
        return;
    };
    let (ctx, devs) = (t.context(), t.devices());
    let state = devs[0].memory_state().unwrap();
    assert_eq!(state.modules.len(), 1);
    assert_eq!(state.total(), 64 << 20);
    assert_eq!(state.free(), 64 << 20);
    let _d = DeviceBuffer::<u8>::new(&ctx, &devs[0], 10 << 20).unwrap();
    let _s = SharedBuffer::<u8>::new(&ctx, &devs[0], 2 << 20).unwrap();
    let _h = HostBuffer::<u8>::new(&ctx, 5 << 20).unwrap();
    let state = devs[0].memory_state().unwrap();
    assert_eq!(state.free(), (64 - 12) << 20);
    assert_eq!(state.modules[0].health, "OK");
    assert_eq!(devs[1].memory_state().unwrap().free(), 64 << 20);
    let usage = devs[0].memory_usage().unwrap();
    assert_eq!(usage.source, MemorySource::Sysman);
    assert_eq!((usage.total, usage.free), (64 << 20, (64 - 12) << 20));
}

#[test]
fn sysman_state_through_any_backend() {
    // The default driver (embedded, or through the loader's legacy sysman path).
    let t = TestDriver::new();
    let dev = t.device();
    let total = dev.total_memory().unwrap();
    let usage = dev.memory_usage().unwrap();
    assert_eq!(usage.total, total);
    match &usage.source {
        MemorySource::Sysman => assert!(usage.free <= total),
        MemorySource::CoreFallback(why) => panic!("the CPU driver implements sysman: {why}"),
    }
}

#[test]
fn sysman_denied_is_a_typed_error_with_a_core_fallback() {
    let Some(t) = TestDriver::with(|c| {
        c.device_memory = 32 << 20;
        c.sysman = Sysman::Denied;
    }) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let _d = DeviceBuffer::<u8>::new(&ctx, &dev, 4 << 20).unwrap();
    let err = dev.memory_state().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::SysmanUnavailable(SysmanUnavailable::PermissionDenied {
                call: "zesMemoryGetState"
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("elevated rights"), "{err}");
    let usage = dev.memory_usage().unwrap();
    assert_eq!(
        usage.source,
        MemorySource::CoreFallback(SysmanUnavailable::PermissionDenied {
            call: "zesMemoryGetState"
        })
    );
    assert_eq!(usage.total, 32 << 20);
    assert_eq!(usage.free, (32 - 4) << 20);
}

#[test]
fn sysman_absent_is_a_typed_error_with_a_core_fallback() {
    let Some(t) = TestDriver::with(|c| c.sysman = Sysman::Absent) else {
        return;
    };
    let dev = t.device();
    let err = dev.memory_state().unwrap_err();
    assert!(
        matches!(
            err,
            Error::SysmanUnavailable(SysmanUnavailable::DeviceNotFound)
        ),
        "{err}"
    );
    assert!(matches!(
        dev.memory_usage().unwrap().source,
        MemorySource::CoreFallback(SysmanUnavailable::DeviceNotFound)
    ));
}

#[test]
fn device_filters_pick_predictably() {
    let Some(t) = TestDriver::with(|c| c.devices = 3) else {
        return;
    };
    let devs = t.devices();
    let all = || devs.clone();
    // The CPU driver's devices are discrete CPU devices of equal memory.
    assert!(
        DeviceFilter::new()
            .device_type(DeviceType::Gpu)
            .select_from(all())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        DeviceFilter::new()
            .device_type(DeviceType::Cpu)
            .discrete()
            .select_from(all())
            .unwrap(),
        devs
    );
    assert!(
        DeviceFilter::new()
            .integrated()
            .select_from(all())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        DeviceFilter::new()
            .most_memory_from(all())
            .unwrap()
            .as_ref(),
        Some(&devs[0]),
        "the first of equals"
    );
    let total = devs[0].total_memory().unwrap();
    assert!(
        DeviceFilter::new()
            .min_memory(total + 1)
            .most_memory_from(all())
            .unwrap()
            .is_none()
    );
    assert!(devs[0].is_discrete().unwrap() && !devs[0].is_sub_device().unwrap());
    assert_eq!(devs[0].root_device().unwrap(), None);
}

#[test]
fn kernels_for_large_buffers_get_the_build_flag() {
    let opts = level_zero::BuildOptions::new()
        .greater_than_4gb_buffers()
        .disable_optimizations();
    assert_eq!(
        opts.flags_string(),
        "-ze-opt-greater-than-4GB-buffer-required -ze-opt-disable"
    );
}
