//! Device loss while work is in flight, on the embedded driver: no wait or query reports
//! `ZE_RESULT_ERROR_DEVICE_LOST` (or any other failure) while a command of the lost device may
//! still touch memory. Callers free the memory a submission used once its synchronisation
//! fails; a report made while a copy or kernel was still writing would be a use after free.
//!
//! The long-running command is a kernel of a stand-in engine (plugged in through
//! `Config::program_builder`) that blocks until the test opens its gate, which makes the
//! window deterministic; one test uses a large copy into a plain `Vec`, as the bug was seen.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, NO_WAITS, NULL_EVENT};
use level_zero_cpu::engine::*;
use level_zero_sys::*;

/// Where the blocking kernel and the test meet.
#[derive(Default)]
struct Gate {
    /// (the kernel started, the test opened the gate)
    state: Mutex<(bool, bool)>,
    cv: Condvar,
    /// Set by the kernel once it has written its output: the command is over.
    done: AtomicBool,
}

impl Gate {
    /// Blocks until the kernel runs (at most 30 s).
    fn wait_started(&self) {
        let s = self.state.lock().unwrap();
        let (s, timeout) = self
            .cv
            .wait_timeout_while(s, Duration::from_secs(30), |s| !s.0)
            .unwrap();
        assert!(!timeout.timed_out() && s.0, "the kernel never started");
    }

    fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.cv.notify_all();
    }

    fn done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }
}

/// Opens the gate when dropped, so that a failing test leaves no worker blocked.
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// A stand-in engine with one kernel, `block(global uint *out)`: it waits for the gate, then
/// writes 1 to `out[0]` and records that it is done.
struct Blocking {
    gate: Arc<Gate>,
    kernels: Vec<KernelInfo>,
}

impl KernelProgram for Blocking {
    fn build_log(&self) -> &str {
        ""
    }
    fn kernels(&self) -> &[KernelInfo] {
        &self.kernels
    }
    fn globals(&self) -> &[GlobalVariable] {
        &[]
    }
    fn launch(
        &self,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        _output: &mut (dyn std::io::Write + Send),
    ) -> Result<(), ExecError> {
        let ArgValue::Bytes(p) = launch.args[0] else {
            return Err(ExecError::InvalidLaunch("bad argument".into()));
        };
        let address = u64::from_le_bytes(p.try_into().unwrap());
        {
            let mut s = self.gate.state.lock().unwrap();
            s.0 = true;
            self.gate.cv.notify_all();
            while !s.1 {
                s = self.gate.cv.wait(s).unwrap();
            }
        }
        match memory.find(address) {
            Some((base, size)) if address + 4 <= base + size => {
                // SAFETY: inside an allocation the driver says the kernel may use.
                unsafe { (address as *mut u32).write_unaligned(1) };
            }
            _ => return Err(ExecError::Failed("block: bad output pointer".into())),
        }
        self.gate.done.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// A driver whose devices are lost from submission `lost_after + 1` on, with the blocking
/// engine.
fn backend(lost_after: u64, gate: &Arc<Gate>) -> Backend {
    let mut config = level_zero_cpu::Config::default();
    config.device_lost_after = Some(lost_after);
    let gate = gate.clone();
    config.program_builder = Some(Arc::new(move |_: &[u8], _: &BuildOptions<'_>| {
        let kernels = vec![KernelInfo {
            name: "block".into(),
            args: vec![ArgInfo {
                kind: ArgKind::GlobalPointer,
                size: 8,
            }],
            required_group_size: None,
            subgroup_size: 16,
            required_subgroup_size: None,
            private_memory_size: 0,
            local_memory_size: 0,
        }];
        Ok(Arc::new(Blocking {
            gate: gate.clone(),
            kernels,
        }) as Arc<dyn KernelProgram>)
    }));
    Backend::embedded_with(config)
}

/// The blocking kernel of device 0, writing to `out`.
fn blocking_kernel(
    b: &Backend,
    c: ze_context_handle_t,
    out: *mut u8,
) -> (ze_module_handle_t, ze_kernel_handle_t) {
    blocking_kernel_on(b, c, 0, out)
}

/// The blocking kernel of `device`, writing to `out`.
fn blocking_kernel_on(
    b: &Backend,
    c: ze_context_handle_t,
    device: usize,
    out: *mut u8,
) -> (ze_module_handle_t, ze_kernel_handle_t) {
    // A SPIR-V header: the stand-in engine does not read the module.
    let words = [0x0723_0203u32, 0x0001_0000, 0, 1, 0];
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: words.len() * 4,
        pInputModule: words.as_ptr().cast(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[device], &desc, &mut m, null_mut())
    );
    let kdesc = ze_kernel_desc_t {
        pKernelName: c"block".as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &kdesc, &mut k));
    let p = out as u64;
    ok!(b, zeKernelSetArgumentValue(k, 0, 8, (&raw const p).cast()));
    (m, k)
}

const ONE_GROUP: ze_group_count_t = ze_group_count_t {
    groupCountX: 1,
    groupCountY: 1,
    groupCountZ: 1,
};

/// An event the host has signalled: waiting on it keeps a small append off the appending
/// thread (the driver runs small appends to an idle immediate list inline).
fn signalled_event(b: &Backend, pool: ze_event_pool_handle_t, index: u32) -> ze_event_handle_t {
    let e = b.event(pool, index);
    ok!(b, zeEventHostSignal(e));
    e
}

/// Waits until device 0 reports itself lost (at most 30 s).
fn wait_lost(b: &Backend) {
    let t = Instant::now();
    while ze!(b, zeDeviceGetStatus(b.devices[0])) != ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the device was never lost"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reads a host allocation of the driver once no command writes it.
fn host_bytes(p: *const u8, len: usize) -> Vec<u8> {
    // SAFETY: a live host allocation of at least `len` bytes, which no command touches now
    // (the caller synchronised with, or destroyed, everything that used it).
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

#[test]
fn an_immediate_list_reports_a_lost_device_only_once_its_running_kernel_ended() {
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    // Submission 1 runs; submission 2 loses the device.
    let b = backend(1, &gate);
    let c = b.context();
    let out = b.alloc_host(c, 4);
    let (m, k) = blocking_kernel(&b, c, out);
    let pool = b.event_pool(c, 1, 0);
    let mut ready = [signalled_event(&b, pool, 0)];
    let a = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendLaunchKernel(a, k, &ONE_GROUP, NULL_EVENT, 1, ready.as_mut_ptr())
    );
    gate.wait_started();
    // Another list's submission loses the device while the kernel runs.
    let other = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendBarrier(other, NULL_EVENT, 0, NO_WAITS)
    );
    wait_lost(&b);
    // The kernel still runs: the loss must not be reported yet, by either list.
    fails!(ZE_RESULT_NOT_READY, b, zeCommandListHostSynchronize(a, 0));
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeCommandListHostSynchronize(a, 20_000_000)
    );
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeCommandListHostSynchronize(other, 0)
    );
    assert!(!gate.done());
    gate.open();
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandListHostSynchronize(a, u64::MAX)
    );
    assert!(
        gate.done(),
        "DEVICE_LOST reported while the kernel was running"
    );
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandListHostSynchronize(other, 0)
    );
    assert_eq!(host_bytes(out, 4), 1u32.to_ne_bytes());
    for l in [a, other] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeEventDestroy(ready[0]));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, out);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn a_fence_and_its_queue_report_a_lost_device_only_once_the_running_kernel_ended() {
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    let b = backend(1, &gate);
    let c = b.context();
    let out = b.alloc_host(c, 4);
    let after = b.alloc_host(c, 4096);
    let (m, k) = blocking_kernel(&b, c, out);
    let q = b.queue(c, 0);
    let mut f = null_mut();
    ok!(b, zeFenceCreate(q, &ze_fence_desc_t::default(), &mut f));
    // The kernel, then a fill that must never run once the device is lost.
    let mut l = b.list(c, 0);
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &ONE_GROUP, NULL_EVENT, 0, NO_WAITS)
    );
    let v = [0xabu8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            after.cast(),
            v.as_ptr().cast(),
            1,
            4096,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(l));
    ok!(b, zeCommandQueueExecuteCommandLists(q, 1, &mut l, f));
    gate.wait_started();
    let other = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendBarrier(other, NULL_EVENT, 0, NO_WAITS)
    );
    wait_lost(&b);
    fails!(ZE_RESULT_NOT_READY, b, zeFenceQueryStatus(f));
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeFenceHostSynchronize(f, 20_000_000)
    );
    fails!(ZE_RESULT_NOT_READY, b, zeCommandQueueSynchronize(q, 0));
    assert!(!gate.done());
    gate.open();
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeFenceHostSynchronize(f, u64::MAX)
    );
    assert!(
        gate.done(),
        "DEVICE_LOST reported while the kernel was running"
    );
    fails!(ZE_RESULT_ERROR_DEVICE_LOST, b, zeFenceQueryStatus(f));
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    // The device stopped its work at the next command: the fill never ran.
    assert_eq!(host_bytes(out, 4), 1u32.to_ne_bytes());
    assert!(
        host_bytes(after, 4096).iter().all(|&x| x == 0),
        "a command ran after the device was lost"
    );
    ok!(b, zeCommandListDestroy(other));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeFenceDestroy(f));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, out);
    b.free(c, after);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn an_event_reports_a_lost_device_only_once_the_running_kernel_ended() {
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    // Submissions 1 and 2 are accepted; submission 3 loses the device.
    let b = backend(2, &gate);
    let c = b.context();
    let out = b.alloc_host(c, 4);
    let (m, k) = blocking_kernel(&b, c, out);
    let pool = b.event_pool(c, 2, 0);
    let mut ready = [signalled_event(&b, pool, 0)];
    let e = b.event(pool, 1);
    let a = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendLaunchKernel(a, k, &ONE_GROUP, NULL_EVENT, 1, ready.as_mut_ptr())
    );
    // Queued behind the kernel: never runs once the device is lost.
    ok!(b, zeCommandListAppendBarrier(a, e, 0, NO_WAITS));
    gate.wait_started();
    let other = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendBarrier(other, NULL_EVENT, 0, NO_WAITS)
    );
    wait_lost(&b);
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e));
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeEventHostSynchronize(e, 20_000_000)
    );
    assert!(!gate.done());
    gate.open();
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeEventHostSynchronize(e, u64::MAX)
    );
    assert!(
        gate.done(),
        "DEVICE_LOST reported while the kernel was running"
    );
    fails!(ZE_RESULT_ERROR_DEVICE_LOST, b, zeEventQueryStatus(e));
    // An event the host signalled is still signalled.
    ok!(b, zeEventQueryStatus(ready[0]));
    assert_eq!(host_bytes(out, 4), 1u32.to_ne_bytes());
    for l in [a, other] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventDestroy(ready[0]));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, out);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// An event of a pool of two devices, signalled by work of the device that is not lost: the
/// loss of the other device is no reason to report it lost while that work runs.
#[test]
fn an_event_that_a_device_still_working_signals_is_not_reported_lost() {
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    // Each device runs its first submission; device 0 is lost running its second.
    let b = backend(1, &gate);
    let c = b.context();
    let out = b.alloc_host(c, 4);
    let (m, k) = blocking_kernel_on(&b, c, 1, out);
    // The pool's devices: both (those of the context).
    let pool = b.event_pool(c, 2, 0);
    let mut ready = [signalled_event(&b, pool, 0)];
    let e = b.event(pool, 1);
    let working = b.immediate(c, 1);
    ok!(
        b,
        zeCommandListAppendLaunchKernel(working, k, &ONE_GROUP, e, 1, ready.as_mut_ptr())
    );
    gate.wait_started();
    let lost = b.immediate(c, 0);
    for _ in 0..2 {
        ok!(b, zeCommandListAppendBarrier(lost, NULL_EVENT, 0, NO_WAITS));
    }
    wait_lost(&b);
    ok!(b, zeDeviceGetStatus(b.devices[1]));
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e));
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeEventHostSynchronize(e, 20_000_000)
    );
    gate.open();
    ok!(b, zeEventHostSynchronize(e, u64::MAX));
    ok!(b, zeCommandListHostSynchronize(working, u64::MAX));
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandListHostSynchronize(lost, u64::MAX)
    );
    assert_eq!(host_bytes(out, 4), 1u32.to_ne_bytes());
    // Once nothing can signal it any more, an event that was reset reports the loss.
    ok!(b, zeEventHostReset(e));
    fails!(ZE_RESULT_ERROR_DEVICE_LOST, b, zeEventQueryStatus(e));
    for l in [working, lost] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventDestroy(ready[0]));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, out);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// The bug as it was seen: a large copy from device memory into a `Vec`, another list's
/// submission losing the device meanwhile. The copy is either over when the loss is reported
/// (its event signalled, the `Vec` fully written) or never ran (nothing written, then or
/// later) — never still writing.
#[test]
fn a_copy_into_host_memory_is_over_when_its_list_reports_the_device_lost() {
    const SIZE: usize = 128 << 20;
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_DEVICE_LOST_AFTER", "2")]);
    let c = b.context();
    let d = b.alloc_device(c, SIZE, 0);
    let a = b.immediate(c, 0);
    let v = [0x5au8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            a,
            d.cast(),
            v.as_ptr().cast(),
            1,
            SIZE,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListHostSynchronize(a, u64::MAX));
    let pool = b.event_pool(c, 1, 0);
    let copied = b.event(pool, 0);
    let mut dst = vec![0u8; SIZE];
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            a,
            dst.as_mut_ptr().cast(),
            d.cast(),
            SIZE,
            copied,
            0,
            NO_WAITS
        )
    );
    // Let the copy start, then lose the device from another list.
    std::thread::sleep(Duration::from_millis(5));
    let other = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendBarrier(other, NULL_EVENT, 0, NO_WAITS)
    );
    let synchronized = ze!(b, zeCommandListHostSynchronize(a, u64::MAX));
    let event = ze!(b, zeEventQueryStatus(copied));
    // Destroying the list ends its worker: whatever it still did is over before `dst` is read
    // (and freed), whatever the outcome.
    ok!(b, zeCommandListDestroy(a));
    assert_eq!(synchronized, ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST);
    // Page by page (slice comparisons are fast even unoptimised).
    let all = |byte: u8| dst.chunks_exact(4096).all(|page| page == [byte; 4096]);
    if event == ze_result_t::ZE_RESULT_SUCCESS {
        assert!(all(0x5a), "the copy was over, yet not all written");
    } else {
        assert_eq!(event, ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST);
        assert!(
            all(0),
            "the copy was still writing when DEVICE_LOST was reported"
        );
    }
    drop(dst);
    ok!(b, zeCommandListDestroy(other));
    ok!(b, zeEventDestroy(copied));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// A queue destroyed while a thread synchronises with it: the thread learns it once the
/// queue's worker has stopped (the kernel running ends, the rest is abandoned), not before.
/// Afterwards every job of the device is accounted for: a later loss is reported at once.
#[test]
fn a_queue_destroyed_under_a_waiter_reports_it_only_once_its_worker_stopped() {
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    // Submissions 1 to 3 are accepted; submission 4 loses the device.
    let b = backend(3, &gate);
    let c = b.context();
    let out = b.alloc_host(c, 4);
    let after = b.alloc_host(c, 4096);
    let (m, k) = blocking_kernel(&b, c, out);
    // Submission 1: a barrier on an idle immediate list, run on this thread.
    let other = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendBarrier(other, NULL_EVENT, 0, NO_WAITS)
    );
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &ONE_GROUP, NULL_EVENT, 0, NO_WAITS)
    );
    let v = [0xabu8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            after.cast(),
            v.as_ptr().cast(),
            1,
            4096,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(l));
    // Submission 2 runs the kernel; submission 3 queues behind it.
    for _ in 0..2 {
        ok!(
            b,
            zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
        );
    }
    gate.wait_started();
    let raw = q as usize;
    let (early, result, done_at_return) = std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let r = ze!(
                b,
                zeCommandQueueSynchronize(raw as ze_command_queue_handle_t, u64::MAX)
            );
            (r, gate.done())
        });
        std::thread::sleep(Duration::from_millis(100));
        let destroyer = s.spawn(|| ze!(b, zeCommandQueueDestroy(raw as ze_command_queue_handle_t)));
        std::thread::sleep(Duration::from_millis(100));
        let early = waiter.is_finished();
        gate.open();
        let (r, done) = waiter.join().unwrap();
        assert_eq!(destroyer.join().unwrap(), ze_result_t::ZE_RESULT_SUCCESS);
        (early, r, done)
    });
    assert!(!early, "the waiter returned while the kernel was running");
    assert_eq!(result, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert!(
        done_at_return,
        "the failure was reported while the kernel was running"
    );
    // The rest of the running submission was abandoned, the queued one dropped.
    assert!(host_bytes(after, 4096).iter().all(|&x| x == 0));
    // Submission 4 loses the device: reported promptly, as no job is left in flight (the
    // inline one, the abandoned one and the dropped one were all uncounted).
    ok!(
        b,
        zeCommandListAppendBarrier(other, NULL_EVENT, 0, NO_WAITS)
    );
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandListHostSynchronize(other, 10_000_000_000)
    );
    ok!(b, zeCommandListDestroy(other));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, out);
    b.free(c, after);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// A list of a lost device destroyed while its unrun work still waits for an event: that
/// work still completes as no-ops once the event comes, signalling its events in order, so
/// another device's command waiting for them runs (before the fix, destroying the list
/// dropped the work: its events were never signalled and the other device hung for ever).
#[test]
fn a_destroyed_lost_devices_unrun_work_still_signals_its_events() {
    let gate = Arc::new(Gate::default());
    let _open = OpenOnDrop(gate.clone());
    // Each device accepts one submission; its second loses it.
    let b = backend(1, &gate);
    let c = b.context();
    let pool = b.event_pool(c, 3, 0);
    let (e0, e1, e2) = (b.event(pool, 0), b.event(pool, 1), b.event(pool, 2));
    let l1 = b.immediate(c, 1);
    // Device 1: submission 1 runs; submission 2 (waiting for e0, signalling e1) loses the
    // device and is completed as a no-op once e0 is signalled.
    ok!(b, zeCommandListAppendBarrier(l1, NULL_EVENT, 0, NO_WAITS));
    let mut w0 = [e0];
    ok!(b, zeCommandListAppendBarrier(l1, e1, 1, w0.as_mut_ptr()));
    // Device 0 (not lost): waits for e1, then signals e2.
    let l0 = b.immediate(c, 0);
    let mut w1 = [e1];
    ok!(b, zeCommandListAppendBarrier(l0, e2, 1, w1.as_mut_ptr()));
    let t = Instant::now();
    while ze!(b, zeDeviceGetStatus(b.devices[1])) != ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "device 1 was never lost"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // Nothing of device 1 touches memory: its list reports the loss, and is destroyed.
    assert_eq!(
        ze!(b, zeCommandListHostSynchronize(l1, 5_000_000_000)),
        ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST
    );
    ok!(b, zeCommandListDestroy(l1));
    ok!(b, zeEventHostSignal(e0));
    assert_eq!(
        ze!(b, zeEventHostSynchronize(e2, 10_000_000_000)),
        ze_result_t::ZE_RESULT_SUCCESS,
        "device 0's command never ran: the destroyed list's no-op never signalled e1"
    );
    assert_eq!(
        ze!(b, zeDeviceGetStatus(b.devices[0])),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    ok!(b, zeCommandListHostSynchronize(l0, u64::MAX));
    ok!(b, zeCommandListDestroy(l0));
    for e in [e0, e1, e2] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
}
