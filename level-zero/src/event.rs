//! Event pools and events.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitflags::bitflags;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::handle::Handle;

bitflags! {
    /// How the events of a pool behave.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct EventPoolFlags: u32 {
        /// The host can signal, wait on and query the events.
        const HOST_VISIBLE = sys::ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_HOST_VISIBLE.0;
        /// The events can be shared with other processes.
        const IPC = sys::ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_IPC.0;
        /// The events record kernel timestamps.
        const KERNEL_TIMESTAMP = sys::ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0;
        /// Kernel timestamps mapped to the host clock.
        const KERNEL_MAPPED_TIMESTAMP = sys::ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_MAPPED_TIMESTAMP.0;
    }
}

bitflags! {
    /// How a counter-based event ([`Event::counter_based`]) behaves
    /// (`ze_event_counter_based_flags_t`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct CounterEventFlags: u32 {
        /// Signalled by immediate command lists (the driver's default when no list kind is
        /// given).
        const IMMEDIATE = sys::ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_IMMEDIATE.0;
        /// Signalled by regular command lists.
        const NON_IMMEDIATE = sys::ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_NON_IMMEDIATE.0;
        /// The host can wait on and query the event.
        const HOST_VISIBLE = sys::ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_HOST_VISIBLE.0;
        /// The event records kernel timestamps in the device's clock.
        const DEVICE_TIMESTAMP = sys::ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_DEVICE_TIMESTAMP.0;
    }
}

bitflags! {
    /// Which caches an event's signal flushes, or its wait invalidates.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct EventScope: u32 {
        /// Sub-device caches.
        const SUBDEVICE = sys::ze_event_scope_flag_t::ZE_EVENT_SCOPE_FLAG_SUBDEVICE.0;
        /// Device caches.
        const DEVICE = sys::ze_event_scope_flag_t::ZE_EVENT_SCOPE_FLAG_DEVICE.0;
        /// Up to the host: what host waits and host reads of results need.
        const HOST = sys::ze_event_scope_flag_t::ZE_EVENT_SCOPE_FLAG_HOST.0;
    }
}

pub(crate) struct PoolInner {
    pub(crate) ctx: Context,
    handle: Handle<sys::_ze_event_pool_handle_t>,
    count: u32,
    flags: EventPoolFlags,
    /// The devices the pool was made for (empty: every device of the context).
    pub(crate) devices: Vec<Device>,
    taken: Mutex<Vec<bool>>,
    /// Opened from another process's IPC handle ([`crate::ipc::IpcEventPoolHandle::open`]):
    /// closed, not destroyed.
    opened: bool,
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        // SAFETY: every event of the pool holds a reference to it, so all were destroyed
        // (commands hold their events); the handle is released once, by the call that
        // matches how it was made.
        let r = unsafe {
            if self.opened {
                ze!(self.ctx.api(), zeEventPoolCloseIpcHandle(self.handle.0))
            } else {
                ze!(self.ctx.api(), zeEventPoolDestroy(self.handle.0))
            }
        };
        if let Err(e) = r {
            log::error!("level-zero: destroying or closing an event pool failed: {e}");
        }
    }
}

/// A pool of `count` events. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{EventPool, EventPoolFlags};
/// let pool = EventPool::new(&ctx, 8, EventPoolFlags::HOST_VISIBLE)?;
/// let e = pool.event(3)?;
/// e.host_signal()?;
/// assert!(e.is_signaled()?);
/// e.host_reset()?;
/// # Ok(()) }
/// ```
pub struct EventPool {
    inner: Arc<PoolInner>,
}

impl std::fmt::Debug for EventPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventPool")
            .field("count", &self.inner.count)
            .field("flags", &self.inner.flags)
            .finish()
    }
}

impl EventPool {
    /// A pool of `count` events usable by every device of the context.
    pub fn new(ctx: &Context, count: u32, flags: EventPoolFlags) -> Result<EventPool> {
        Self::for_devices(ctx, count, flags, &[])
    }

    /// A pool of `count` events usable by `devices` (all of the context's when empty).
    pub fn for_devices(
        ctx: &Context,
        count: u32,
        flags: EventPoolFlags,
        devices: &[Device],
    ) -> Result<EventPool> {
        const CALL: &str = "zeEventPoolCreate";
        if count == 0 {
            return Err(Error::invalid(
                CALL,
                "an event pool needs at least one event",
            ));
        }
        for d in devices {
            ctx.check_device(CALL, d)?;
        }
        let desc = sys::ze_event_pool_desc_t {
            flags: flags.bits(),
            count,
            ..Default::default()
        };
        let mut handles: Vec<_> = devices.iter().map(Device::as_raw).collect();
        let mut h = std::ptr::null_mut();
        let ph = if handles.is_empty() {
            std::ptr::null_mut()
        } else {
            handles.as_mut_ptr()
        };
        // SAFETY: valid context, descriptor and device handles of that context.
        unsafe {
            ze!(
                ctx.api(),
                zeEventPoolCreate(ctx.as_raw(), &desc, handles.len() as u32, ph, &mut h)
            )?
        };
        Ok(EventPool {
            inner: Arc::new(PoolInner {
                ctx: ctx.clone(),
                handle: Handle(h),
                count,
                flags,
                devices: devices.to_vec(),
                taken: Mutex::new(vec![false; count as usize]),
                opened: false,
            }),
        })
    }

    /// A pool opened from an IPC handle (`h`, from `zeEventPoolOpenIpcHandle`).
    pub(crate) fn from_ipc(
        ctx: &Context,
        h: sys::ze_event_pool_handle_t,
        count: u32,
        flags: EventPoolFlags,
    ) -> EventPool {
        EventPool {
            inner: Arc::new(PoolInner {
                ctx: ctx.clone(),
                handle: Handle(h),
                count,
                flags,
                devices: Vec::new(),
                taken: Mutex::new(vec![false; count as usize]),
                opened: true,
            }),
        }
    }

    /// Exports the pool for other processes (`zeEventPoolGetIpcHandle`; the pool must have
    /// been created with [`EventPoolFlags::IPC`]). See [`crate::ipc`].
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::{EventPool, EventPoolFlags};
    /// let pool = EventPool::new(&ctx, 4, EventPoolFlags::IPC | EventPoolFlags::HOST_VISIBLE)?;
    /// let export = pool.export_ipc()?;
    /// let text = export.handle().to_hex(); // to the other process, which opens it
    /// # let _ = text;
    /// # Ok(()) }
    /// ```
    pub fn export_ipc(&self) -> Result<crate::ipc::ExportedEventPool> {
        crate::ipc::ExportedEventPool::new(self)
    }

    /// Whether the pool was opened from another process's IPC handle.
    pub fn is_ipc_opened(&self) -> bool {
        self.inner.opened
    }

    /// The context.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// The number of events in the pool.
    pub fn count(&self) -> u32 {
        self.inner.count
    }

    /// The pool's flags.
    pub fn flags(&self) -> EventPoolFlags {
        self.inner.flags
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_event_pool_handle_t {
        self.inner.handle.0
    }

    /// Creates the event at `index`, signalling to and waiting from the host scope.
    pub fn event(&self, index: u32) -> Result<Event> {
        self.event_with_scope(index, EventScope::HOST, EventScope::HOST)
    }

    /// Creates the event at `index` with explicit cache scopes. Each index holds one event
    /// at a time; it is free again when that event is dropped.
    pub fn event_with_scope(
        &self,
        index: u32,
        signal: EventScope,
        wait: EventScope,
    ) -> Result<Event> {
        const CALL: &str = "zeEventCreate";
        if index >= self.inner.count {
            return Err(Error::invalid(
                CALL,
                format!("index {index} is outside a pool of {}", self.inner.count),
            ));
        }
        let mut taken = self.inner.taken.lock().unwrap_or_else(|p| p.into_inner());
        if taken[index as usize] {
            return Err(Error::invalid(
                CALL,
                format!("event {index} of the pool already exists"),
            ));
        }
        let desc = sys::ze_event_desc_t {
            index,
            signal: signal.bits(),
            wait: wait.bits(),
            ..Default::default()
        };
        let mut h = std::ptr::null_mut();
        // SAFETY: valid pool handle, in-range unused index, descriptor and output.
        unsafe {
            ze!(
                self.inner.ctx.api(),
                zeEventCreate(self.as_raw(), &desc, &mut h)
            )?
        };
        taken[index as usize] = true;
        let flags = self.inner.flags;
        Ok(Event {
            inner: Arc::new(EventInner {
                ctx: self.inner.ctx.clone(),
                devices: self.inner.devices.clone(),
                pool: Some((self.inner.clone(), index)),
                handle: Handle(h),
                kind: EventKind::Regular,
                host_visible: flags.contains(EventPoolFlags::HOST_VISIBLE),
                timestamps: flags.contains(EventPoolFlags::KERNEL_TIMESTAMP),
            }),
        })
    }
}

/// What kind of event an [`Event`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// An event of a pool: signalled once until reset.
    Regular,
    /// A counter-based event of the driver (`zeEventCounterBasedCreate`): each command that
    /// signals it re-arms it; signalled only by lists the driver orders.
    Counter,
}

pub(crate) struct EventInner {
    pub(crate) ctx: Context,
    /// The devices whose lists may use the event (every device of the context when empty).
    pub(crate) devices: Vec<Device>,
    /// The pool and index of a pool event (kept alive by the event).
    pool: Option<(Arc<PoolInner>, u32)>,
    pub(crate) handle: Handle<sys::_ze_event_handle_t>,
    pub(crate) kind: EventKind,
    host_visible: bool,
    timestamps: bool,
}

impl Drop for EventInner {
    fn drop(&mut self) {
        // SAFETY: commands that use the event hold a reference to it, so none is pending.
        if let Err(e) = unsafe { ze!(self.ctx.api(), zeEventDestroy(self.handle.0)) } {
            // The driver's event still occupies its slot: the slot stays taken (a second
            // event there is what `zeEventCreate` forbids).
            log::error!("level-zero: destroying an event failed: {e}; its pool slot stays taken");
            return;
        }
        if let Some((pool, index)) = &self.pool {
            let mut taken = pool.taken.lock().unwrap_or_else(|p| p.into_inner());
            taken[*index as usize] = false;
        }
    }
}

/// A kernel timestamp: start and end counter values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct KernelTimestamp {
    /// Global (device-wide) clock: start, end.
    pub global: (u64, u64),
    /// Context clock (time the context was active): start, end.
    pub context: (u64, u64),
}

/// An event: signalled by the device or the host, waited on by either.
///
/// Cheap to clone (shared); commands that use an event keep it alive. `Send + Sync`:
/// event host operations are thread-safe.
#[derive(Clone)]
pub struct Event {
    pub(crate) inner: Arc<EventInner>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.inner.kind)
            .field("index", &self.index())
            .finish()
    }
}

pub(crate) fn timeout_ns(t: Option<Duration>) -> u64 {
    t.map_or(u64::MAX, |d| d.as_nanos().min(u64::MAX as u128 - 1) as u64)
}

impl Event {
    fn api(&self) -> &sys::Api {
        self.inner.ctx.api()
    }

    /// A counter-based event for `device`'s lists: the cheapest completion signal of current
    /// drivers (`zeEventCounterBasedCreate`, spec 1.15). No pool, no reset: each command that
    /// signals it makes it stand for that command's completion, and a wait appended later
    /// waits for the completion it stood for then.
    ///
    /// Only in-order lists whose driver orders them ([`is_ordered_by_driver`]) may signal
    /// it (the specification's rule); any list may wait for it. The host may not signal or
    /// reset it.
    ///
    /// A driver without counter-based events (before spec 1.15) gives
    /// [`Error::Unsupported`]: use an [`EventPool`] event there, reset before each reuse
    /// ([`reset_event`](crate::ImmediateCommandList::reset_event) on an in-order list, before
    /// the command that signals it). No emulation is offered: a pool event cannot stand for
    /// "the completion it stood for when the wait was appended" once it is reset, so an
    /// emulation would make some waits wait for later work than the driver's event would.
    ///
    /// [`is_ordered_by_driver`]: crate::ImmediateCommandList::is_ordered_by_driver
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::{CounterEventFlags, Event, ImmediateCommandList, QueueDesc};
    /// let done = Event::counter_based(&ctx, device, CounterEventFlags::HOST_VISIBLE)?;
    /// let mut list = ImmediateCommandList::new(&ctx, device, &QueueDesc::compute(device)?)?;
    /// let buf = level_zero::DeviceBuffer::<u32>::new(&ctx, device, 1024)?;
    /// list.fill(&buf, 7u32)?;
    /// list.barrier_with(Some(&done), &[])?;
    /// done.host_synchronize()?;
    /// list.fill(&buf, 8u32)?;
    /// list.barrier_with(Some(&done), &[])?; // no reset: it re-arms
    /// done.host_synchronize()?;
    /// # Ok(()) }
    /// ```
    pub fn counter_based(
        ctx: &Context,
        device: &Device,
        flags: CounterEventFlags,
    ) -> Result<Event> {
        const CALL: &str = "zeEventCounterBasedCreate";
        ctx.check_device(CALL, device)?;
        let flags =
            if flags.intersects(CounterEventFlags::IMMEDIATE | CounterEventFlags::NON_IMMEDIATE) {
                flags
            } else {
                flags | CounterEventFlags::IMMEDIATE
            };
        if ctx.api().zeEventCounterBasedCreate.is_none() {
            return Err(Error::Unsupported {
                what: "counter-based events (zeEventCounterBasedCreate)",
                why: "the driver predates them (spec 1.15); use an EventPool event, reset \
                      before each reuse"
                    .into(),
            });
        }
        let desc = sys::ze_event_counter_based_desc_t {
            flags: flags.bits(),
            signal: EventScope::HOST.bits(),
            wait: EventScope::HOST.bits(),
            ..Default::default()
        };
        let mut h = std::ptr::null_mut();
        // SAFETY: valid context, a device of it, descriptor and output.
        unsafe {
            ze!(
                ctx.api(),
                zeEventCounterBasedCreate(ctx.as_raw(), device.as_raw(), &desc, &mut h)
            )?
        };
        Ok(Event {
            inner: Arc::new(EventInner {
                ctx: ctx.clone(),
                devices: vec![device.clone()],
                pool: None,
                handle: Handle(h),
                kind: EventKind::Counter,
                host_visible: flags.contains(CounterEventFlags::HOST_VISIBLE),
                timestamps: flags.contains(CounterEventFlags::DEVICE_TIMESTAMP),
            }),
        })
    }

    /// Whether this is a counter-based event ([`Event::counter_based`]), not a pool event.
    pub fn is_counter_based(&self) -> bool {
        self.inner.kind == EventKind::Counter
    }

    /// Whether commands that signal the event re-arm it (a counter-based event).
    pub(crate) fn rearms(&self) -> bool {
        self.inner.kind != EventKind::Regular
    }

    fn refuse_counter(&self, call: &'static str) -> Result<()> {
        if self.rearms() {
            return Err(Error::invalid(
                call,
                "a counter-based event is signalled and re-armed only by the commands that \
                 signal it; the host may not signal or reset it",
            ));
        }
        Ok(())
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_event_handle_t {
        self.inner.handle.0
    }

    /// The index of the event in its pool (0 for a counter-based event, which has none).
    pub fn index(&self) -> u32 {
        self.inner.pool.as_ref().map_or(0, |(_, i)| *i)
    }

    /// Whether another clone of this event exists (a command or list still holds it).
    pub(crate) fn is_shared(&self) -> bool {
        Arc::strong_count(&self.inner) > 1
    }

    /// Whether the host may wait on and query the event (its pool is
    /// [`EventPoolFlags::HOST_VISIBLE`]).
    pub(crate) fn host_visible(&self) -> bool {
        self.inner.host_visible
    }

    /// Signals the event from the host (not a counter-based event).
    pub fn host_signal(&self) -> Result<()> {
        self.refuse_counter("zeEventHostSignal")?;
        // SAFETY: valid handle.
        unsafe { ze!(self.api(), zeEventHostSignal(self.as_raw())) }
    }

    /// Waits until the event is signalled.
    pub fn host_synchronize(&self) -> Result<()> {
        match self.host_synchronize_timeout(None)? {
            true => Ok(()),
            false => Err(Error::Timeout {
                call: "zeEventHostSynchronize",
            }),
        }
    }

    /// Waits at most `timeout` (forever for `None`): `true` once signalled, `false` when
    /// the time ran out.
    pub fn host_synchronize_timeout(&self, timeout: Option<Duration>) -> Result<bool> {
        crate::host_function::refuse("zeEventHostSynchronize")?;
        // SAFETY: valid handle.
        unsafe {
            crate::error::ze_wait!(
                self.api(),
                zeEventHostSynchronize(self.as_raw(), timeout_ns(timeout))
            )
        }
    }

    /// Whether the event is signalled, without waiting.
    pub fn is_signaled(&self) -> Result<bool> {
        crate::host_function::refuse("zeEventQueryStatus")?;
        // SAFETY: valid handle.
        unsafe { crate::error::ze_wait!(self.api(), zeEventQueryStatus(self.as_raw())) }
    }

    /// [`is_signaled`](Self::is_signaled) without the call-tracing check: what
    /// `benches/overhead.rs` compares it with to measure what the check costs when tracing is
    /// off. Not part of the API.
    #[doc(hidden)]
    pub fn __is_signaled_without_trace_check(&self) -> Result<bool> {
        crate::host_function::refuse("zeEventQueryStatus")?;
        let api = self.api();
        // SAFETY: valid handle.
        let r = unsafe { api.zeEventQueryStatus(self.as_raw()) };
        crate::error::wait_result(api, "zeEventQueryStatus", r)
    }

    /// Resets the event to not signalled, from the host (not a counter-based event).
    pub fn host_reset(&self) -> Result<()> {
        self.refuse_counter("zeEventHostReset")?;
        // SAFETY: valid handle.
        unsafe { ze!(self.api(), zeEventHostReset(self.as_raw())) }
    }

    /// The kernel timestamp the event recorded (pool created with
    /// [`EventPoolFlags::KERNEL_TIMESTAMP`], or a counter-based event with
    /// [`CounterEventFlags::DEVICE_TIMESTAMP`]); the event must be signalled.
    pub fn kernel_timestamp(&self) -> Result<KernelTimestamp> {
        // The specification: the event's pool must have been created with
        // `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP` (its events have no timestamp layout
        // otherwise; a mapped-timestamp pool's are read with another call).
        if !self.inner.timestamps {
            return Err(Error::invalid(
                "zeEventQueryKernelTimestamp",
                "the event's pool was not created with EventPoolFlags::KERNEL_TIMESTAMP \
                 (nor the counter-based event with CounterEventFlags::DEVICE_TIMESTAMP)",
            ));
        }
        let mut t = sys::ze_kernel_timestamp_result_t::default();
        // SAFETY: valid handle and output.
        unsafe {
            ze!(
                self.api(),
                zeEventQueryKernelTimestamp(self.as_raw(), &mut t)
            )?
        };
        Ok(KernelTimestamp {
            global: (t.global.kernelStart, t.global.kernelEnd),
            context: (t.context.kernelStart, t.context.kernelEnd),
        })
    }
}
