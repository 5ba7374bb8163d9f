//! The command-delay fault knob (`Config::command_delay`, `LEVEL_ZERO_CPU_COMMAND_DELAY_US`):
//! every command sleeps before it runs, on its worker, and nothing runs on the appending
//! thread — so that a client reading results before synchronising sees them missing.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::time::{Duration, Instant};

use common::{Backend, NO_WAITS, NULL_EVENT};
use level_zero_sys::*;

/// Reads a host allocation of the driver once no command writes it.
fn host_bytes(p: *const u8, len: usize) -> Vec<u8> {
    // SAFETY: a live host allocation of at least `len` bytes, which no command touches now
    // (the caller synchronised with everything that used it).
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

/// Appends a 64-byte fill of `value` to `h` on the immediate list `l`, signalling `e`, and
/// returns the event's status right after the append.
fn fill_and_query(
    b: &Backend,
    l: ze_command_list_handle_t,
    h: *mut u8,
    value: u8,
    e: ze_event_handle_t,
) -> ze_result_t {
    let v = [value];
    ok!(
        b,
        zeCommandListAppendMemoryFill(l, h.cast(), v.as_ptr().cast(), 1, 64, e, 0, NO_WAITS)
    );
    ze!(b, zeEventQueryStatus(e))
}

#[test]
fn a_command_delay_makes_every_command_asynchronous() {
    for delay in [None, Some(Duration::from_secs(1))] {
        let mut config = level_zero_cpu::Config::default();
        config.command_delay = delay;
        let b = Backend::embedded_with(config);
        let c = b.context();
        let h = b.alloc_host(c, 64);
        let pool = b.event_pool(c, 1, 0);
        let e = b.event(pool, 0);
        let l = b.immediate(c, 0);
        let t = Instant::now();
        let status = fill_and_query(&b, l, h, 0x11, e);
        match delay {
            // A small append to an idle immediate list runs on the appending thread: it is
            // over when the append returns.
            None => assert_eq!(status, ze_result_t::ZE_RESULT_SUCCESS),
            // With a delay, it runs later, on the list's worker.
            Some(delay) => {
                assert_eq!(status, ze_result_t::ZE_RESULT_NOT_READY);
                fails!(ZE_RESULT_NOT_READY, b, zeCommandListHostSynchronize(l, 0));
                ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
                assert!(t.elapsed() >= delay, "{:?}", t.elapsed());
            }
        }
        ok!(b, zeEventQueryStatus(e));
        assert_eq!(host_bytes(h, 64), [0x11; 64]);
        ok!(b, zeCommandListDestroy(l));
        ok!(b, zeEventDestroy(e));
        ok!(b, zeEventPoolDestroy(pool));
        b.free(c, h);
        ok!(b, zeContextDestroy(c));
        b.assert_no_leaks();
    }
}

#[test]
fn every_command_of_a_queue_submission_is_delayed() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "100000")]);
    let c = b.context();
    let h = b.alloc_host(c, 64);
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    // Three commands: three delays of 100 ms.
    ok!(b, zeCommandListAppendBarrier(l, NULL_EVENT, 0, NO_WAITS));
    let v = [0x22u8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            h.cast(),
            v.as_ptr().cast(),
            1,
            64,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListAppendBarrier(l, NULL_EVENT, 0, NO_WAITS));
    ok!(b, zeCommandListClose(l));
    let t = Instant::now();
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, std::ptr::null_mut())
    );
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(host_bytes(h, 64), [0x22; 64]);
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q));
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// A device loss cuts a command's delay short: the command never runs, and the loss is
/// reported long before the delay would have ended.
#[test]
fn a_device_loss_cuts_the_delay_short() {
    let mut config = level_zero_cpu::Config::default();
    config.command_delay = Some(Duration::from_secs(600));
    config.device_lost_after = Some(1);
    let b = Backend::embedded_with(config);
    let c = b.context();
    let h = b.alloc_host(c, 64);
    let pool = b.event_pool(c, 1, 0);
    let e = b.event(pool, 0);
    let l = b.immediate(c, 0);
    let t = Instant::now();
    // Submission 1 sleeps before its fill; submission 2 loses the device.
    assert_eq!(
        fill_and_query(&b, l, h, 0x33, e),
        ze_result_t::ZE_RESULT_NOT_READY
    );
    let other = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendBarrier(other, NULL_EVENT, 0, NO_WAITS)
    );
    // Bounded, so that a delay not cut short fails the test instead of hanging it.
    const TEN_SECONDS: u64 = 10_000_000_000;
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandListHostSynchronize(l, TEN_SECONDS)
    );
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeEventHostSynchronize(e, TEN_SECONDS)
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    assert_eq!(host_bytes(h, 64), [0; 64]);
    for l in [l, other] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}
