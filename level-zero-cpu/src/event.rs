//! Event pools and events: signalled by the host or by commands, waited on by the host (with
//! timeouts) or by commands, with kernel timestamps.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::driver::Instance;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::sync::lock;

/// An event pool.
pub(crate) struct EventPool {
    pub(crate) instance: &'static Instance,
    pub(crate) context: Arc<Context>,
    count: u32,
    flags: ze_event_pool_flags_t,
    /// The devices whose loss makes waits on these events fail.
    devices: Vec<usize>,
    live_events: AtomicU32,
    child: Child,
}

/// An event's state.
#[derive(Clone, Copy, Default)]
struct State {
    signaled: bool,
    /// The error of the work that signalled it, if that work failed.
    error: Option<ze_result_t>,
    /// Start and end of the command that signalled it (nanoseconds).
    timestamps: Option<(u64, u64)>,
}

/// An event.
pub(crate) struct Event {
    pub(crate) instance: &'static Instance,
    pool: Arc<EventPool>,
    state: Mutex<State>,
}

impl Event {
    /// Signals the event (waking every waiter), with the error of the work it marks, if any.
    pub(crate) fn signal(&self, error: Option<ze_result_t>, timestamps: (u64, u64)) {
        self.instance.signal.notify(|| {
            *lock(&self.state) = State {
                signaled: true,
                error,
                timestamps: Some(timestamps),
            }
        });
    }

    /// Clears the event.
    pub(crate) fn reset(&self) {
        self.instance
            .signal
            .notify(|| *lock(&self.state) = State::default());
    }

    /// Whether its pool was created with `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP`.
    pub(crate) fn has_kernel_timestamps(&self) -> bool {
        self.pool.flags & ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0 != 0
    }

    /// The timestamps of the command that signalled it, if it is signalled.
    pub(crate) fn kernel_timestamp(&self) -> Option<ze_kernel_timestamp_result_t> {
        let s = *lock(&self.state);
        let (start, end) = s.timestamps.filter(|_| s.signaled)?;
        let data = ze_kernel_timestamp_data_t {
            kernelStart: start,
            kernelEnd: end,
        };
        Some(ze_kernel_timestamp_result_t {
            global: data,
            context: data,
        })
    }

    pub(crate) fn is_signaled(&self) -> bool {
        lock(&self.state).signaled
    }

    /// Whether a device of the pool is lost and nothing of the pool's devices may still
    /// signal the event: the lost ones run no job (what they had queued never runs), and the
    /// others have nothing queued or running — a job a device that is not lost has accepted
    /// will run, and may signal the event, even if it has not started yet. Then no work that
    /// could have been waiting for the event or signalling it touches memory any more. Under
    /// the instance's signal mutex.
    fn device_lost(&self) -> bool {
        let mut devices = self.pool.devices.iter().map(|&index| DeviceRef {
            instance: self.instance,
            index,
        });
        devices.clone().any(|d| d.is_lost())
            && devices.all(|d| if d.is_lost() { d.quiescent() } else { d.idle() })
    }

    /// Waits for the event: `Ok` once signalled by work that succeeded, the work's error if it
    /// failed, `ZE_RESULT_ERROR_DEVICE_LOST` if a device of its pool is lost and it can no
    /// longer be signalled — reported only once no device of the pool has work in flight —,
    /// `ZE_RESULT_NOT_READY` on timeout.
    pub(crate) fn host_wait(&self, timeout: u64) -> ZeResult {
        let outcome = self.instance.signal.wait(timeout, || {
            let s = *lock(&self.state);
            if s.signaled {
                return Some(s.error.map_or(Ok(()), Err));
            }
            self.device_lost()
                .then_some(Err(ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST))
        });
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(code)) if code == ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST => {
                bail!(ZE_RESULT_ERROR_DEVICE_LOST, "the event's device is lost")
            }
            Some(Err(code)) => Err(ffi::fail(code, "the work that signalled this event failed")),
            None => Err(ze_result_t::ZE_RESULT_NOT_READY),
        }
    }
}

/// Looks up an event handle passed as a signal or wait event of a command.
pub(crate) fn sync_event(raw: ze_event_handle_t, instance: &Instance) -> ZeResult<Arc<Event>> {
    let e: Arc<Event> = handles::get_or(
        raw,
        ze_result_t::ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT,
    )?;
    if !std::ptr::eq(e.instance, instance) {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "the event belongs to another driver"
        );
    }
    Ok(e)
}

entry_points! {
    fn zeEventPoolCreate(
        hContext: ze_context_handle_t,
        desc: *const ze_event_pool_desc_t,
        numDevices: u32,
        phDevices: *mut ze_device_handle_t,
        phEventPool: *mut ze_event_pool_handle_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract). Counter-based pools and
        // drivers' own event extensions are not implemented.
        unsafe { crate::chain::input(&desc, &[])? };
        if phEventPool.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEventPool");
        }
        if desc.flags > 0xf {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "event pool flags {:#x}", desc.flags);
        }
        if desc.count == 0 {
            bail!(ZE_RESULT_ERROR_INVALID_SIZE, "an event pool of 0 events");
        }
        // SAFETY: the caller's array of `numDevices` handles.
        let list = unsafe { ffi::slice(phDevices.cast_const(), numDevices)? };
        let mut devices = Vec::new();
        for &h in list {
            devices.push(context.device(h)?.index);
        }
        if devices.is_empty() {
            devices = context.devices.clone();
        }
        let instance = context.instance;
        let pool = Arc::new(EventPool {
            instance,
            child: Child::of(&context),
            context,
            count: desc.count,
            flags: desc.flags,
            devices,
            live_events: AtomicU32::new(0),
        });
        let handle = handles::reserve_for::<Arc<EventPool>>();
        handles::register(handle, Object::EventPool(pool));
        instance.live.event_pools.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phEventPool, handles::raw(handle)) }
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while events of the pool live.
    fn zeEventPoolDestroy(hEventPool: ze_event_pool_handle_t) {
        let pool: Arc<EventPool> = handles::get(hEventPool)?;
        let live = pool.live_events.load(Ordering::Acquire);
        if live != 0 {
            bail!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, "{live} events of this pool are still alive");
        }
        let pool: Arc<EventPool> = handles::take(hEventPool)?;
        pool.instance.live.event_pools.fetch_sub(1, Ordering::Relaxed);
        pool.child.release();
        Ok(())
    }

    fn zeEventPoolGetContextHandle(hEventPool: ze_event_pool_handle_t, phContext: *mut ze_context_handle_t) {
        let pool: Arc<EventPool> = handles::get(hEventPool)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(phContext, handles::raw(pool.context.handle)) }
    }

    fn zeEventCreate(hEventPool: ze_event_pool_handle_t, desc: *const ze_event_desc_t, phEvent: *mut ze_event_handle_t) {
        let pool: Arc<EventPool> = handles::get(hEventPool)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract); it honours no extension.
        unsafe { crate::chain::input(&desc, &[])? };
        if phEvent.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEvent");
        }
        if desc.signal > 0x7 || desc.wait > 0x7 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "event scope flags {:#x}/{:#x}", desc.signal, desc.wait);
        }
        if desc.index >= pool.count {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "event index {} in a pool of {}", desc.index, pool.count);
        }
        let instance = pool.instance;
        pool.live_events.fetch_add(1, Ordering::AcqRel);
        let event = Arc::new(Event { instance, pool, state: Mutex::new(State::default()) });
        let handle = handles::reserve_for::<Arc<Event>>();
        handles::register(handle, Object::Event(event));
        instance.live.events.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phEvent, handles::raw(handle)) }
    }

    fn zeEventDestroy(hEvent: ze_event_handle_t) {
        let event: Arc<Event> = handles::take(hEvent)?;
        event.pool.live_events.fetch_sub(1, Ordering::AcqRel);
        event.instance.live.events.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    fn zeEventHostSignal(hEvent: ze_event_handle_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        let t = crate::sync::now_ns();
        event.signal(None, (t, t));
        Ok(())
    }

    fn zeEventHostReset(hEvent: ze_event_handle_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        event.reset();
        Ok(())
    }

    /// `timeout` in nanoseconds: `u64::MAX` waits forever, 0 polls.
    fn zeEventHostSynchronize(hEvent: ze_event_handle_t, timeout: u64) {
        let event: Arc<Event> = handles::get(hEvent)?;
        crate::graph::refuse_event_host_sync(&event)?;
        event.host_wait(timeout)
    }

    fn zeEventQueryStatus(hEvent: ze_event_handle_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        event.host_wait(0)
    }

    /// Needs a pool created with `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP`.
    fn zeEventQueryKernelTimestamp(hEvent: ze_event_handle_t, dstptr: *mut ze_kernel_timestamp_result_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        if dstptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null dstptr");
        }
        if event.pool.flags & ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0 == 0 {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the event pool was not created with ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP");
        }
        let s = *lock(&event.state);
        let (start, end) = match (s.signaled, s.timestamps) {
            (true, Some(t)) => t,
            _ => return Err(ze_result_t::ZE_RESULT_NOT_READY),
        };
        let data = ze_kernel_timestamp_data_t { kernelStart: start, kernelEnd: end };
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(dstptr, ze_kernel_timestamp_result_t { global: data, context: data }) }
    }
}
