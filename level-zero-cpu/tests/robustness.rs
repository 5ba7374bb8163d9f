//! Misuse the driver must survive without undefined behaviour, on the embedded driver (through
//! the loader's handle wrapping these would reach the loader's own objects first).

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ptr::null_mut;
use std::time::Duration;

use common::{Backend, NO_WAITS, NULL_EVENT};
use level_zero_sys::*;

#[test]
fn memory_freed_before_a_recorded_copy_runs_fails_the_submission_not_the_process() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let d = b.alloc_device(c, 1 << 20, 0);
    let pool = b.event_pool(c, 1, 0);
    let gate = b.event(pool, 0);
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    let src = vec![9u8; 1 << 20];
    let mut waits = [gate];
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            d.cast(),
            src.as_ptr().cast(),
            1 << 20,
            NULL_EVENT,
            1,
            waits.as_mut_ptr()
        )
    );
    ok!(b, zeCommandListClose(l));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    // The application frees the destination while the copy waits: a use-after-free on real
    // hardware; here the copy finds its allocation gone, touches nothing, and the submission
    // fails.
    b.free(c, d);
    ok!(b, zeEventHostSignal(gate));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn destroying_a_queue_wakes_a_thread_waiting_on_it() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let pool = b.event_pool(c, 1, 0);
    let never = b.event(pool, 0);
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    let mut waits = [never];
    ok!(
        b,
        zeCommandListAppendBarrier(l, NULL_EVENT, 1, waits.as_mut_ptr())
    );
    ok!(b, zeCommandListClose(l));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    let raw = q as usize;
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            ze!(
                b,
                zeCommandQueueSynchronize(raw as ze_command_queue_handle_t, u64::MAX)
            )
        });
        std::thread::sleep(Duration::from_millis(20));
        ok!(b, zeCommandQueueDestroy(q));
        assert_eq!(
            waiter.join().unwrap(),
            ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
        );
    });
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeEventDestroy(never));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn absurd_regions_and_configurations_are_refused_cleanly() {
    let mut config = level_zero_cpu::Config::default();
    config.devices = 100_000;
    let b = Backend::embedded_with(config);
    assert_eq!(b.devices.len(), 64, "clamped");
    let c = b.context();
    let d = b.alloc_device(c, 4096, 0);
    let l = b.list(c, 0);
    // Pitches large enough for the region, origins far outside the allocation: the region
    // would walk out of it into unmapped memory.
    let huge = ze_copy_region_t {
        originX: 0,
        originY: 0x7fff_ffff,
        originZ: 0,
        width: 1,
        height: 2,
        depth: 1,
    };
    let mut out = [0u8; 4];
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryCopyRegion(
            l,
            out.as_mut_ptr().cast(),
            &huge,
            u32::MAX,
            u32::MAX,
            d.cast(),
            &huge,
            u32::MAX,
            u32::MAX,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListDestroy(l));
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn instances_are_independent_across_threads() {
    std::thread::scope(|s| {
        for i in 0..4 {
            s.spawn(move || {
                let fail_at = (i + 2).to_string();
                let b = Backend::embedded(&[("LEVEL_ZERO_CPU_FAIL_ALLOC_AT", fail_at.as_str())]);
                let c = b.context();
                let mut ptrs = Vec::new();
                let desc = ze_host_mem_alloc_desc_t::default();
                for n in 1..=6 {
                    let mut p = null_mut();
                    let r = ze!(b, zeMemAllocHost(c, &desc, 64, 0, &mut p));
                    if n == i + 2 {
                        assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY);
                    } else {
                        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
                        ptrs.push(p);
                    }
                }
                assert_eq!(b.live().allocations, 5);
                for p in ptrs {
                    ok!(b, zeMemFree(c, p));
                }
                ok!(b, zeContextDestroy(c));
                b.assert_no_leaks();
            });
        }
    });
}
