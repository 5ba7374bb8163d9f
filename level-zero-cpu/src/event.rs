//! Event pools and events: signalled by the host or by commands, waited on by the host (with
//! timeouts) or by commands, with kernel timestamps; and counter-based events
//! (`zeEventCounterBasedCreate`).
//!
//! # Counter-based events
//!
//! The specification's rules ("Counter-based events" in the programming guide): they are used
//! only with in-order command lists; they are never reset nor signalled from the host; each
//! command that signals one makes it stand for that command's completion (dropping what it
//! stood for before), and a wait on one waits for what it stands for when the wait is
//! appended. This driver models that with a [`Counter`] per signalling command: how many times
//! the command was submitted and how many of those submissions completed. An immediate list's
//! command is submitted once, when appended; a regular list's command once per execution of
//! the list. The event stands for the latest submission of its counter's command: it is
//! complete once the counter's completions reach its submissions, and complete too before any
//! command signalled it (a counter at zero). A wait appended to an immediate list waits for
//! the counter's submissions at append time; a wait recorded in a regular list captures the
//! counter at append time and, at each execution of the list, the submissions of that moment.
//! Commands carry internal events ([`Kind::Completes`], [`Kind::Awaits`]) built at append
//! time, so the workers treat them as any event.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
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
    /// `ze_event_pool_counter_based_exp_desc_t`'s flags (`ZE_experimental_event_pool_counter_based`):
    /// the pool's events are counter-based, with these flags.
    counter_based: Option<ze_event_pool_counter_based_exp_flags_t>,
    /// The shared state of an IPC pool (`ZE_EVENT_POOL_FLAG_IPC`), made or opened here.
    ipc: Option<Arc<crate::ipc_events::Shared>>,
    /// Whether the pool was opened from an IPC handle (`zeEventPoolOpenIpcHandle`): closed
    /// with `zeEventPoolCloseIpcHandle`, not counted in the live event pools.
    opened: bool,
}

/// An event's state.
#[derive(Clone, Default)]
struct State {
    signaled: bool,
    /// The error of the work that signalled it, if that work failed.
    error: Option<ze_result_t>,
    /// What went wrong in that work, as the failing command described it (the
    /// description of host waits that fail because of it).
    message: Option<Arc<str>>,
    /// Start and end of the command that signalled it (nanoseconds).
    timestamps: Option<(u64, u64)>,
}

/// The completions of one command that signals counter-based events (see the module
/// documentation). Changed only inside the instance's `Signal::notify`.
pub(crate) struct Counter {
    /// The device of the command list the command belongs to: its loss ends host waits.
    device: DeviceRef,
    state: Mutex<CounterState>,
}

#[derive(Default)]
struct CounterState {
    /// Submissions of the command (1 for an immediate list's; one per execution of a
    /// regular list).
    submitted: u64,
    /// Submissions that completed (ran, failed, or completed as no-ops after a device loss).
    completed: u64,
    /// The error of the latest completion, if its work failed.
    error: Option<ze_result_t>,
    /// What went wrong in that work (see `State::message`).
    message: Option<Arc<str>>,
    /// Start and end of the latest completion.
    timestamps: Option<(u64, u64)>,
}

impl Counter {
    fn done(&self) -> bool {
        let s = lock(&self.state);
        s.completed >= s.submitted
    }

    /// One more submission of the command (under the instance's signal).
    pub(crate) fn submit(&self, instance: &Instance) -> u64 {
        instance.signal.notify(|| {
            let mut s = lock(&self.state);
            s.submitted += 1;
            s.submitted
        })
    }

    fn submitted(&self) -> u64 {
        lock(&self.state).submitted
    }
}

/// A counter-based event's own data.
pub(crate) struct CounterBased {
    flags: ze_event_counter_based_flags_t,
    /// Whether it has kernel timestamps (a timestamp flag, or a pool with
    /// `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP`).
    timestamps: bool,
    /// What the event stands for: the counter of the command that signalled it last.
    point: Mutex<Option<Arc<Counter>>>,
    owner: Owner,
}

/// Where a counter-based event comes from.
enum Owner {
    /// `zeEventCounterBasedCreate`: it counts as a child of its context.
    Context(Child),
    /// `zeEventCreate` on a counter-based pool (`ZE_experimental_event_pool_counter_based`).
    Pool(Arc<EventPool>),
}

/// What an event is.
enum Kind {
    /// An event of an event pool.
    Pooled {
        pool: Arc<EventPool>,
        state: Mutex<State>,
    },
    /// A counter-based event (`zeEventCounterBasedCreate`).
    CounterBased(CounterBased),
    /// Internal, a command's signal event: one completion of a counter.
    Completes(Arc<Counter>),
    /// Internal, a command's wait event: the counter reaching `value` completions.
    Awaits {
        counter: Arc<Counter>,
        value: AtomicU64,
    },
    /// An event of an IPC pool: its state is slot `index` of the pool's shared memory,
    /// which other processes read and write too.
    Ipc { pool: Arc<EventPool>, index: u32 },
}

/// An event.
pub(crate) struct Event {
    pub(crate) instance: &'static Instance,
    kind: Kind,
}

impl Event {
    /// Signals the event (waking every waiter), with the error of the work it marks, if any.
    /// For a command's internal counter event: one completion of the counter.
    /// `message` says what went wrong (waits that fail because of it give it as their
    /// description).
    pub(crate) fn signal(
        &self,
        error: Option<ze_result_t>,
        message: Option<&Arc<str>>,
        timestamps: (u64, u64),
    ) {
        let message = error.and(message.cloned());
        match &self.kind {
            Kind::Pooled { state, .. } => self.instance.signal.notify(|| {
                *lock(state) = State {
                    signaled: true,
                    error,
                    message,
                    timestamps: Some(timestamps),
                }
            }),
            Kind::Completes(counter) => self.instance.signal.notify(|| {
                let mut s = lock(&counter.state);
                s.completed += 1;
                s.error = error;
                s.message = message;
                s.timestamps = Some(timestamps);
            }),
            Kind::Ipc { pool, index } => self.instance.signal.notify(|| {
                shared(pool).signal(*index, error, timestamps);
            }),
            // Never the target of a signal: appends turn counter-based events into
            // `Completes` events, and waits are not signalled.
            Kind::CounterBased(_) | Kind::Awaits { .. } => {}
        }
    }

    /// Clears the event (a pool's event: appends refuse to reset counter-based events).
    pub(crate) fn reset(&self) {
        match &self.kind {
            Kind::Pooled { state, .. } => self
                .instance
                .signal
                .notify(|| *lock(state) = State::default()),
            Kind::Ipc { pool, index } => self.instance.signal.notify(|| shared(pool).reset(*index)),
            _ => {}
        }
    }

    /// Whether kernel timestamps can be read from it: a pool created with
    /// `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP`, or a counter-based event with
    /// `ZE_EVENT_COUNTER_BASED_FLAG_DEVICE_TIMESTAMP` or `HOST_TIMESTAMP`.
    pub(crate) fn has_kernel_timestamps(&self) -> bool {
        match &self.kind {
            Kind::Pooled { pool, .. } | Kind::Ipc { pool, .. } => {
                pool.flags & ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0 != 0
            }
            Kind::CounterBased(cb) => cb.timestamps,
            _ => false,
        }
    }

    /// The timestamps of the command that signalled it, if it is signalled.
    pub(crate) fn kernel_timestamp(&self) -> Option<ze_kernel_timestamp_result_t> {
        let (start, end) = match &self.kind {
            Kind::Pooled { state, .. } => {
                let s = lock(state).clone();
                s.timestamps.filter(|_| s.signaled)?
            }
            Kind::CounterBased(cb) => {
                let counter = lock(&cb.point).clone()?;
                let s = lock(&counter.state);
                s.timestamps.filter(|_| s.completed >= s.submitted)?
            }
            Kind::Ipc { pool, index } => shared(pool).timestamps(*index)?,
            _ => return None,
        };
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
        match &self.kind {
            Kind::Pooled { state, .. } => lock(state).signaled,
            Kind::CounterBased(cb) => lock(&cb.point).as_ref().is_none_or(|c| c.done()),
            Kind::Awaits { counter, value } => {
                lock(&counter.state).completed >= value.load(Ordering::Acquire)
            }
            Kind::Completes(counter) => counter.done(),
            Kind::Ipc { pool, index } => shared(pool).outcome(*index).is_some(),
        }
    }

    /// Whether its state is shared with other processes (an IPC pool's event): waits on it
    /// poll, since a signal from another process wakes nobody here.
    pub(crate) fn is_ipc(&self) -> bool {
        matches!(self.kind, Kind::Ipc { .. })
    }

    /// The counter-based part of a counter-based event.
    pub(crate) fn counter_based(&self) -> Option<&CounterBased> {
        match &self.kind {
            Kind::CounterBased(cb) => Some(cb),
            _ => None,
        }
    }

    /// Whether a device of the pool is lost and nothing of the pool's devices may still
    /// signal the event: the lost ones run no job (what they had queued never runs), and the
    /// others have nothing queued or running — a job a device that is not lost has accepted
    /// will run, and may signal the event, even if it has not started yet. Then no work that
    /// could have been waiting for the event or signalling it touches memory any more. Under
    /// the instance's signal mutex. A counter-based event: the device of the command it stands
    /// for is lost and runs no job.
    fn device_lost(&self) -> bool {
        let pool_devices = match &self.kind {
            Kind::Pooled { pool, .. } | Kind::Ipc { pool, .. } => &pool.devices,
            Kind::CounterBased(cb) => {
                return lock(&cb.point)
                    .as_ref()
                    .is_some_and(|c| c.device.lost_and_quiescent());
            }
            _ => return false,
        };
        let mut devices = pool_devices.iter().map(|&index| DeviceRef {
            instance: self.instance,
            index,
        });
        devices.clone().any(|d| d.is_lost())
            && devices.all(|d| if d.is_lost() { d.quiescent() } else { d.idle() })
    }

    /// The signalled state, for host waits: `None` while not signalled, else the error of
    /// the work that signalled it (if any).
    fn outcome(&self) -> Option<Option<ze_result_t>> {
        match &self.kind {
            Kind::Pooled { state, .. } => {
                let s = lock(state).clone();
                s.signaled.then_some(s.error)
            }
            Kind::CounterBased(cb) => match lock(&cb.point).as_ref() {
                None => Some(None),
                Some(c) => {
                    let s = lock(&c.state);
                    (s.completed >= s.submitted).then_some(s.error)
                }
            },
            Kind::Ipc { pool, index } => shared(pool).outcome(*index),
            _ => self.is_signaled().then_some(None),
        }
    }

    /// Waits for the event: `Ok` once signalled by work that succeeded, the work's error if it
    /// failed, `ZE_RESULT_ERROR_DEVICE_LOST` if a device of its pool is lost and it can no
    /// longer be signalled — reported only once no device of the pool has work in flight —,
    /// `ZE_RESULT_NOT_READY` on timeout.
    pub(crate) fn host_wait(&self, timeout: u64) -> ZeResult {
        let outcome = self
            .instance
            .signal
            .wait_polling(timeout, self.is_ipc(), || {
                if let Some(error) = self.outcome() {
                    return Some(error.map_or(Ok(()), Err));
                }
                self.device_lost()
                    .then_some(Err(ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST))
            });
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(code)) if code == ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST => {
                bail!(ZE_RESULT_ERROR_DEVICE_LOST, "the event's device is lost")
            }
            Some(Err(code)) => Err(ffi::fail(
                code,
                match self.failure_message() {
                    Some(m) => format!("the work that signalled this event failed: {m}"),
                    None => "the work that signalled this event failed".into(),
                },
            )),
            None => Err(ze_result_t::ZE_RESULT_NOT_READY),
        }
    }

    /// What went wrong in the failed work that signalled the event, as its command said.
    fn failure_message(&self) -> Option<Arc<str>> {
        match &self.kind {
            Kind::Pooled { state, .. } => lock(state).message.clone(),
            Kind::CounterBased(cb) => lock(&cb.point)
                .as_ref()
                .and_then(|c| lock(&c.state).message.clone()),
            Kind::Completes(c) => lock(&c.state).message.clone(),
            _ => None,
        }
    }

    /// `ZE_RESULT_ERROR_INVALID_ARGUMENT` for a counter-based event, which `what` (a host
    /// signal or reset, an appended reset) may not touch.
    pub(crate) fn refuse_counter_based(&self, what: &str) -> ZeResult {
        if self.counter_based().is_some() {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{what} of a counter-based event: the specification does not allow it (counter-based events are signalled by commands only, and never reset)"
            );
        }
        Ok(())
    }
}

/// The experimental extension of counter-based event pools (deprecated since 1.15 for
/// `zeEventCounterBasedCreate`, still what clients of older drivers use).
const COUNTER_BASED_POOL_EXT: &std::ffi::CStr = c_name(ZE_EVENT_POOL_COUNTER_BASED_EXP_NAME);

/// The timestamp flags of counter-based events.
const TIMESTAMP_FLAGS: u32 =
    ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_DEVICE_TIMESTAMP.0
        | ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_HOST_TIMESTAMP.0;

impl CounterBased {
    /// Whether the event may be signalled by commands of immediate (`true`) or regular lists:
    /// `ZE_EVENT_COUNTER_BASED_FLAG_IMMEDIATE` (also the default, flags without either) or
    /// `NON_IMMEDIATE`.
    fn allows(&self, immediate: bool) -> bool {
        let imm = ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_IMMEDIATE.0;
        let non = ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_NON_IMMEDIATE.0;
        if immediate {
            self.flags & imm != 0 || self.flags & (imm | non) == 0
        } else {
            self.flags & non != 0
        }
    }
}

/// How a command list uses counter-based events (see the module documentation).
pub(crate) struct CounterUse<'a> {
    pub(crate) instance: &'static Instance,
    /// The list's device.
    pub(crate) device: DeviceRef,
    pub(crate) immediate: bool,
    /// Whether the list was created in order (`ZE_COMMAND_LIST_FLAG_IN_ORDER`, or
    /// `ZE_COMMAND_QUEUE_FLAG_IN_ORDER` for an immediate list).
    pub(crate) in_order: bool,
    /// A regular list's record of what to do at each execution.
    pub(crate) tracking: Option<&'a Mutex<CounterTracking>>,
}

/// A counter-based event and the counter of the command appended to signal it (see
/// [`CounterUse::signal`]).
pub(crate) struct Armed {
    event: Arc<Event>,
    counter: Arc<Counter>,
}

/// What a regular list does with counter-based events at each of its executions: its
/// signalling commands count one more submission (and their events stand for it again), its
/// waits take the submissions of that moment.
#[derive(Default)]
pub(crate) struct CounterTracking {
    signals: Vec<(Arc<Event>, Arc<Counter>)>,
    waits: Vec<Arc<Event>>,
}

impl CounterTracking {
    /// At each submission of the list (before its job is queued), in recording order.
    pub(crate) fn submit(&self, instance: &Instance) {
        instance.signal.notify(|| {
            for w in &self.waits {
                if let Kind::Awaits { counter, value } = &w.kind {
                    value.fetch_max(counter.submitted(), Ordering::AcqRel);
                }
            }
            for (event, counter) in &self.signals {
                lock(&counter.state).submitted += 1;
                if let Some(cb) = event.counter_based() {
                    *lock(&cb.point) = Some(counter.clone());
                }
            }
        });
    }

    pub(crate) fn clear(&mut self) {
        self.signals.clear();
        self.waits.clear();
    }
}

impl CounterUse<'_> {
    fn check_list(&self, what: &str) -> ZeResult {
        if !self.in_order {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "a counter-based event as {what} of a command list that is not in order: the specification allows them only with in-order lists (ZE_COMMAND_LIST_FLAG_IN_ORDER, or ZE_COMMAND_QUEUE_FLAG_IN_ORDER for immediate lists)"
            );
        }
        Ok(())
    }

    /// The event a command signals: a pool's event as it is; for a counter-based event, a new
    /// counter of this command, which the event stands for once [`CounterUse::arm`] is given
    /// the second value — after the command was appended (a failed append must not leave the
    /// event standing for a command that never runs).
    pub(crate) fn signal(&self, event: Arc<Event>) -> ZeResult<(Arc<Event>, Option<Armed>)> {
        let Some(cb) = event.counter_based() else {
            return Ok((event, None));
        };
        self.check_list("the signal event")?;
        if !cb.allows(self.immediate) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "a counter-based event created for {} command lists signalled by a command of {} list (ze_event_counter_based_desc_t flags {:#x})",
                if self.immediate {
                    "regular"
                } else {
                    "immediate"
                },
                if self.immediate {
                    "an immediate"
                } else {
                    "a regular"
                },
                cb.flags
            );
        }
        let counter = Arc::new(Counter {
            device: self.device,
            state: Mutex::new(CounterState::default()),
        });
        let internal = Arc::new(Event {
            instance: self.instance,
            kind: Kind::Completes(counter.clone()),
        });
        Ok((internal, Some(Armed { event, counter })))
    }

    /// Makes a counter-based event stand for the command appended with [`CounterUse::signal`]:
    /// submitted now on an immediate list (its append is its submission), at each execution
    /// on a regular one.
    pub(crate) fn arm(&self, armed: Option<Armed>) {
        let Some(Armed { event, counter }) = armed else {
            return;
        };
        match self.tracking {
            None => {
                counter.submit(self.instance);
            }
            Some(t) => lock(t).signals.push((event.clone(), counter.clone())),
        }
        if let Some(cb) = event.counter_based() {
            self.instance
                .signal
                .notify(|| *lock(&cb.point) = Some(counter));
        }
    }

    /// The event a command waits for: a pool's event as it is; for a counter-based event,
    /// the completion it stands for now (`None`: it stands for nothing, no wait).
    pub(crate) fn wait(&self, event: Arc<Event>) -> ZeResult<Option<Arc<Event>>> {
        let Some(cb) = event.counter_based() else {
            return Ok(Some(event));
        };
        self.check_list("a wait event")?;
        let Some(counter) = lock(&cb.point).clone() else {
            return Ok(None);
        };
        if !self.device.can_access(counter.device.index) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "a wait on a counter-based event last signalled on device {}, which this list's device {} cannot access (the specification requires peer-to-peer access)",
                counter.device.index,
                self.device.index
            );
        }
        let value = counter.submitted();
        let wait = Arc::new(Event {
            instance: self.instance,
            kind: Kind::Awaits {
                counter,
                value: AtomicU64::new(value),
            },
        });
        if let Some(t) = self.tracking {
            lock(t).waits.push(wait.clone());
        }
        Ok(Some(wait))
    }
}

/// The shared state of an IPC pool's event.
fn shared(pool: &EventPool) -> &crate::ipc_events::Shared {
    pool.ipc.as_deref().expect("an IPC pool has shared state")
}

impl EventPool {
    /// The shared state of an IPC pool.
    pub(crate) fn shared(&self) -> Option<&Arc<crate::ipc_events::Shared>> {
        self.ipc.as_ref()
    }

    /// A pool opened from an IPC handle, in `context`.
    pub(crate) fn opened(
        context: Arc<Context>,
        shared: Arc<crate::ipc_events::Shared>,
        count: u32,
        flags: ze_event_pool_flags_t,
    ) -> EventPool {
        EventPool {
            instance: context.instance,
            child: Child::of(&context),
            devices: context.devices.clone(),
            context,
            count,
            flags,
            live_events: AtomicU32::new(0),
            counter_based: None,
            ipc: Some(shared),
            opened: true,
        }
    }

    pub(crate) fn flags(&self) -> ze_event_pool_flags_t {
        self.flags
    }

    pub(crate) fn is_opened(&self) -> bool {
        self.opened
    }

    pub(crate) fn live_events(&self) -> u32 {
        self.live_events.load(Ordering::Acquire)
    }

    pub(crate) fn release(&self) {
        self.child.release();
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
    /// With `ze_event_pool_counter_based_exp_desc_t` chained
    /// (`ZE_experimental_event_pool_counter_based`), the pool's events are counter-based (see
    /// the module documentation), with its flags (`IMMEDIATE`, the default, or
    /// `NON_IMMEDIATE`); `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP` gives them kernel timestamps,
    /// `ZE_EVENT_POOL_FLAG_IPC` is refused for them.
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
        // Counter-based pools (`ZE_experimental_event_pool_counter_based`, while advertised)
        // are implemented; drivers' own event extensions are not.
        let honoured: &[ze_structure_type_t] = if context.instance.has_extension(&COUNTER_BASED_POOL_EXT.to_string_lossy()) {
            &[ze_structure_type_t::ZE_STRUCTURE_TYPE_COUNTER_BASED_EVENT_POOL_EXP_DESC]
        } else {
            &[]
        };
        // SAFETY: the descriptor's chain (caller's contract).
        let chain = unsafe { crate::chain::input(&desc, honoured)? };
        if phEventPool.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEventPool");
        }
        let counter_based = chain.get::<ze_event_pool_counter_based_exp_desc_t>().map(|d| d.flags);
        if let Some(flags) = counter_based && flags > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "ze_event_pool_counter_based_exp_desc_t flags {flags:#x}");
        }
        if counter_based.is_some() && desc.flags & ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_IPC.0 != 0 {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "a counter-based event pool with ZE_EVENT_POOL_FLAG_IPC: level-zero-cpu shares pools of regular events only");
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
        let ipc = if desc.flags & ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_IPC.0 != 0 {
            Some(Arc::new(crate::ipc_events::Shared::create(desc.count)?))
        } else {
            None
        };
        let pool = Arc::new(EventPool {
            instance,
            child: Child::of(&context),
            context,
            count: desc.count,
            flags: desc.flags,
            devices,
            live_events: AtomicU32::new(0),
            counter_based,
            ipc,
            opened: false,
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
        if pool.opened {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the event pool was opened from an IPC handle: close it with zeEventPoolCloseIpcHandle");
        }
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
        let kind = match pool.counter_based {
            // The pool's creator starts the event reset; a process that opened the pool
            // shares the state the creator's side left.
            None if pool.ipc.is_some() => {
                if !pool.opened {
                    shared(&pool).reset(desc.index);
                }
                Kind::Ipc { index: desc.index, pool }
            }
            None => Kind::Pooled { pool, state: Mutex::new(State::default()) },
            // A counter-based pool's event: the pool's flags (the experimental ones have the
            // values of `ze_event_counter_based_flag_t`'s IMMEDIATE and NON_IMMEDIATE).
            Some(flags) => Kind::CounterBased(CounterBased {
                flags,
                timestamps: pool.flags & ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0 != 0,
                point: Mutex::new(None),
                owner: Owner::Pool(pool),
            }),
        };
        let event = Arc::new(Event { instance, kind });
        let handle = handles::reserve_for::<Arc<Event>>();
        handles::register(handle, Object::Event(event));
        instance.live.events.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phEvent, handles::raw(handle)) }
    }

    /// Pools' and counter-based events alike (commands that use a counter-based event hold
    /// what they need of it, not the event).
    fn zeEventDestroy(hEvent: ze_event_handle_t) {
        let event: Arc<Event> = handles::take(hEvent)?;
        match &event.kind {
            Kind::Pooled { pool, .. } | Kind::Ipc { pool, .. } => {
                pool.live_events.fetch_sub(1, Ordering::AcqRel);
            }
            Kind::CounterBased(CounterBased { owner: Owner::Context(child), .. }) => child.release(),
            Kind::CounterBased(CounterBased { owner: Owner::Pool(pool), .. }) => {
                pool.live_events.fetch_sub(1, Ordering::AcqRel);
            }
            Kind::Completes(_) | Kind::Awaits { .. } => {}
        }
        event.instance.live.events.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// Counter-based events are refused (`ZE_RESULT_ERROR_INVALID_ARGUMENT`): the
    /// specification does not allow signalling them from the host.
    fn zeEventHostSignal(hEvent: ze_event_handle_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        event.refuse_counter_based("zeEventHostSignal")?;
        let t = crate::sync::now_ns();
        event.signal(None, None, (t, t));
        Ok(())
    }

    /// Counter-based events are refused (`ZE_RESULT_ERROR_INVALID_ARGUMENT`): the
    /// specification does not allow resetting them.
    fn zeEventHostReset(hEvent: ze_event_handle_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        event.refuse_counter_based("zeEventHostReset")?;
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

    /// Needs a pool created with `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP`, or a counter-based
    /// event with `ZE_EVENT_COUNTER_BASED_FLAG_DEVICE_TIMESTAMP` or `HOST_TIMESTAMP` (the
    /// same values: host and devices share one clock).
    fn zeEventQueryKernelTimestamp(hEvent: ze_event_handle_t, dstptr: *mut ze_kernel_timestamp_result_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        if dstptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null dstptr");
        }
        if !event.has_kernel_timestamps() {
            if event.counter_based().is_some() {
                bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the counter-based event was not created with ZE_EVENT_COUNTER_BASED_FLAG_DEVICE_TIMESTAMP or HOST_TIMESTAMP");
            }
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the event pool was not created with ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP");
        }
        let Some(result) = event.kernel_timestamp() else {
            return Err(ze_result_t::ZE_RESULT_NOT_READY);
        };
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(dstptr, result) }
    }

    /// A counter-based event of the context, signalled by commands of in-order lists of any
    /// of the driver's devices. Flags: `IMMEDIATE` (the default when neither it nor
    /// `NON_IMMEDIATE` is given) lets immediate lists signal it, `NON_IMMEDIATE` regular
    /// lists; `HOST_VISIBLE` is accepted (every event is visible to the host here);
    /// `DEVICE_TIMESTAMP` or `HOST_TIMESTAMP` (not both) give it kernel timestamps. Refused:
    /// `IPC` and `GRAPH_EXTERNAL` (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`, not implemented),
    /// and every chained structure (external sync allocations, aggregate storage), by the
    /// `pNext` rule.
    fn zeEventCounterBasedCreate(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        desc: *const ze_event_counter_based_desc_t,
        phEvent: *mut ze_event_handle_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        context.device(hDevice)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract). External counter storage is not
        // implemented.
        unsafe { crate::chain::input(&desc, &[])? };
        if phEvent.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEvent");
        }
        if desc.flags > 0x7f {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "counter-based event flags {:#x}", desc.flags);
        }
        if desc.signal > 0x7 || desc.wait > 0x7 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "event scope flags {:#x}/{:#x}", desc.signal, desc.wait);
        }
        for (flag, name) in [
            (ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_IPC, "ZE_EVENT_COUNTER_BASED_FLAG_IPC (sharing across processes)"),
            (ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_GRAPH_EXTERNAL, "ZE_EVENT_COUNTER_BASED_FLAG_GRAPH_EXTERNAL (graphs)"),
        ] {
            if desc.flags & flag.0 != 0 {
                bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "counter-based event flags {:#x}: {name} is not implemented by level-zero-cpu", desc.flags);
            }
        }
        if desc.flags & TIMESTAMP_FLAGS == TIMESTAMP_FLAGS {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "counter-based event flags {:#x}: DEVICE_TIMESTAMP and HOST_TIMESTAMP cannot be combined", desc.flags);
        }
        let instance = context.instance;
        let event = Arc::new(Event {
            instance,
            kind: Kind::CounterBased(CounterBased {
                flags: desc.flags,
                timestamps: desc.flags & TIMESTAMP_FLAGS != 0,
                point: Mutex::new(None),
                owner: Owner::Context(Child::of(&context)),
            }),
        });
        let handle = handles::reserve_for::<Arc<Event>>();
        handles::register(handle, Object::Event(event));
        instance.live.events.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phEvent, handles::raw(handle)) }
    }

    /// 0 for a pool's event; a counter-based event's creation flags (a counter-based pool's
    /// event: the pool's `ze_event_pool_counter_based_exp_desc_t` flags, of the same values).
    fn zeEventGetCounterBasedFlags(hEvent: ze_event_handle_t, pFlags: *mut ze_event_counter_based_flags_t) {
        let event: Arc<Event> = handles::get(hEvent)?;
        let flags = event.counter_based().map_or(0, |cb| cb.flags);
        // SAFETY: the caller's output.
        unsafe { ffi::write(pFlags, flags) }
    }

    /// Not implemented: counter-based events live in host memory of this process, and have
    /// no counter a device could read at an address (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`).
    fn zeEventCounterBasedGetDeviceAddress(hEvent: ze_event_handle_t, completionValue: *mut u64, deviceAddress: *mut u64) {
        let event: Arc<Event> = handles::get(hEvent)?;
        if completionValue.is_null() || deviceAddress.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null completionValue or deviceAddress");
        }
        if event.counter_based().is_none() {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "not a counter-based event");
        }
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeEventCounterBasedGetDeviceAddress: level-zero-cpu's counter-based events have no counter in device memory")
    }

    /// Not implemented: counter-based events are not shared between processes (pools with
    /// `ZE_EVENT_POOL_FLAG_IPC` are) (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`).
    fn zeEventCounterBasedGetIpcHandle(hEvent: ze_event_handle_t, phIpc: *mut ze_ipc_event_counter_based_handle_t) {
        let _: Arc<Event> = handles::get(hEvent)?;
        if phIpc.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phIpc");
        }
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeEventCounterBasedGetIpcHandle: level-zero-cpu does not share counter-based events between processes (use an event pool created with ZE_EVENT_POOL_FLAG_IPC)")
    }

    /// Not implemented: counter-based events are not shared between processes (pools with
    /// `ZE_EVENT_POOL_FLAG_IPC` are) (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`).
    fn zeEventCounterBasedOpenIpcHandle(hContext: ze_context_handle_t, hIpc: ze_ipc_event_counter_based_handle_t, phEvent: *mut ze_event_handle_t) {
        let _ = hIpc;
        let _: Arc<Context> = handles::get(hContext)?;
        if phEvent.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEvent");
        }
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeEventCounterBasedOpenIpcHandle: level-zero-cpu does not share counter-based events between processes (use an event pool created with ZE_EVENT_POOL_FLAG_IPC)")
    }

    /// Not implemented: counter-based events are not shared between processes (pools with
    /// `ZE_EVENT_POOL_FLAG_IPC` are) (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`).
    fn zeEventCounterBasedCloseIpcHandle(hEvent: ze_event_handle_t) {
        let _: Arc<Event> = handles::get(hEvent)?;
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeEventCounterBasedCloseIpcHandle: level-zero-cpu does not share counter-based events between processes (use an event pool created with ZE_EVENT_POOL_FLAG_IPC)")
    }
}
