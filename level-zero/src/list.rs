//! Command lists: regular (record, close, execute on a queue) and immediate (each command
//! is submitted as it is appended).
//!
//! Both kinds take `&mut self` to append, and are `Send` but not `Sync`: Level Zero forbids
//! appending to one list from several threads at once. Every command keeps what it uses
//! alive (buffers, events, kernels, fill patterns) until the list has seen it complete; see
//! [`crate::memory`] for the rules that keep host access and device work apart.

use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::completion::{self, Waited};
use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::event::{Event, timeout_ns};
use crate::handle::Handle;
use crate::hazard::{self, Issuer, Publisher, Timeline};
use crate::host_function::{self, HostFn};
use crate::memory::{Memory, Registered, Use};
use crate::properties::QueueGroupFlags;
use crate::queue::QueueDesc;

/// Something a command keeps alive until it completes.
pub(crate) type Keep = Arc<dyn Any + Send + Sync>;

/// What a list object owns: the handle and what it was created for.
pub(crate) struct ListCore {
    pub(crate) ctx: Context,
    pub(crate) device: Device,
    pub(crate) handle: Handle<sys::_ze_command_list_handle_t>,
    pub(crate) ordinal: u32,
    pub(crate) max_fill_pattern: usize,
    pub(crate) compute: bool,
    pub(crate) in_order: bool,
    /// Whether the driver orders the commands itself (`ZE_COMMAND_LIST_FLAG_IN_ORDER` /
    /// `ZE_COMMAND_QUEUE_FLAG_IN_ORDER` accepted): then no barrier goes between commands.
    pub(crate) driver_in_order: bool,
    /// Whether the list was created synchronous (`QueueMode::Synchronous`).
    pub(crate) synchronous: bool,
    /// What the list was created with.
    desc: QueueDesc,
    /// Set when the list cannot be used any more (a graph capture the driver could not end):
    /// every append and synchronisation fails with this reason.
    pub(crate) broken: Option<&'static str>,
    /// Whether a command was appended since creation or the last reset.
    appended: bool,
    /// Set when the list's work may still run as it is dropped: the handle is then never
    /// destroyed (see [`crate::completion`]).
    leaked: bool,
}

impl Drop for ListCore {
    fn drop(&mut self) {
        if self.leaked {
            // Work of the list may still run: the handle stays, and so does the context it
            // lives in (a reference that is never released).
            std::mem::forget(self.ctx.clone());
            return;
        }
        // SAFETY: the owners destroy a list only once nothing it recorded can still run
        // (regular lists: no queue holds it; immediate lists: synchronised first).
        if let Err(e) = unsafe { ze!(self.ctx.api(), zeCommandListDestroy(self.handle.0)) } {
            log::error!("level-zero: destroying a command list failed: {e}");
        }
    }
}

/// Whether a list creation failed because the driver does not know a flag bit (an older
/// driver: the specification makes unknown bits `INVALID_ENUMERATION`).
fn refused_flag(e: &Error) -> bool {
    use sys::ze_result_t as R;
    matches!(
        e.code().map(|c| c.0),
        Some(
            R::ZE_RESULT_ERROR_INVALID_ENUMERATION
                | R::ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION
                | R::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE
        )
    )
}

/// Creates a list with `create(in_order flag)`: in-order lists ask the driver to order the
/// commands; a driver older than the flag refuses it (an unknown flag bit is
/// `INVALID_ENUMERATION`), and the list is created without it, ordering its commands with a
/// barrier before each one, which every driver honours. Returns whether the driver orders.
fn create_ordered(
    call: &str,
    in_order: bool,
    mut create: impl FnMut(bool) -> Result<()>,
) -> Result<bool> {
    if !in_order {
        create(false)?;
        return Ok(false);
    }
    match create(true) {
        Ok(()) => Ok(true),
        Err(e) if refused_flag(&e) => {
            log_in_order_fallback(call, &e);
            create(false)?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn log_in_order_fallback(call: &str, e: &Error) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        log::info!(
            "level-zero: {call}: the driver refused the in-order flag ({e}); in-order lists \
             order their commands with a barrier before each one"
        );
    });
}

impl ListCore {
    fn new(ctx: &Context, device: &Device, desc: &QueueDesc, immediate: bool) -> Result<ListCore> {
        let call = if immediate {
            "zeCommandListCreateImmediate"
        } else {
            "zeCommandListCreate"
        };
        ctx.check_device(call, device)?;
        let groups = device.queue_groups()?;
        let Some(group) = groups.get(desc.ordinal as usize) else {
            return Err(Error::invalid(
                call,
                format!(
                    "queue group ordinal {} does not exist (the device has {})",
                    desc.ordinal,
                    groups.len()
                ),
            ));
        };
        let in_order = desc.ordering == crate::queue::Ordering::InOrder;
        let mut h = std::ptr::null_mut();
        let driver_in_order = if immediate {
            if desc.index >= group.num_queues {
                return Err(Error::invalid(
                    call,
                    format!(
                        "queue index {} is outside group {} of {} queues",
                        desc.index, desc.ordinal, group.num_queues
                    ),
                ));
            }
            create_ordered(call, in_order, |flag| {
                let mut qdesc = desc.raw();
                if flag {
                    qdesc.flags |= sys::ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_IN_ORDER.0;
                }
                // SAFETY: valid context and device of it, valid descriptor, checked ordinal.
                unsafe {
                    ze!(
                        ctx.api(),
                        zeCommandListCreateImmediate(ctx.as_raw(), device.as_raw(), &qdesc, &mut h)
                    )
                }
            })?
        } else {
            create_ordered(call, in_order, |flag| {
                let ldesc = sys::ze_command_list_desc_t {
                    commandQueueGroupOrdinal: desc.ordinal,
                    flags: if flag {
                        sys::ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_IN_ORDER.0
                    } else {
                        0
                    },
                    ..Default::default()
                };
                // SAFETY: valid context and device of it, valid descriptor, checked ordinal.
                unsafe {
                    ze!(
                        ctx.api(),
                        zeCommandListCreate(ctx.as_raw(), device.as_raw(), &ldesc, &mut h)
                    )
                }
            })?
        };
        Ok(ListCore {
            ctx: ctx.clone(),
            device: device.clone(),
            handle: Handle(h),
            ordinal: desc.ordinal,
            max_fill_pattern: group.max_memory_fill_pattern_size,
            compute: group.flags.contains(QueueGroupFlags::COMPUTE),
            in_order,
            driver_in_order,
            synchronous: desc.mode == crate::queue::QueueMode::Synchronous,
            desc: *desc,
            broken: None,
            appended: false,
            leaked: false,
        })
    }

    /// Keeps the list's handle (and its context) for good: its work may still run.
    fn leak(&mut self) {
        self.leaked = true;
    }

    pub(crate) fn api(&self) -> &sys::Api {
        self.ctx.api()
    }

    pub(crate) fn raw(&self) -> sys::ze_command_list_handle_t {
        self.handle.0
    }

    /// For in-order lists, the barrier that makes the next command wait for the previous
    /// ones. When the driver orders the list's commands itself, only a regular list's first
    /// command gets one (it orders the execution after earlier executions on the queue);
    /// otherwise every command after the first of an immediate list, and every command of a
    /// regular list, gets one.
    fn order(&mut self, regular: bool) -> Result<()> {
        let needed = if self.driver_in_order {
            regular && !self.appended
        } else {
            self.in_order && (regular || self.appended)
        };
        if needed {
            // SAFETY: valid list handle; a barrier with no events.
            unsafe {
                ze!(
                    self.api(),
                    zeCommandListAppendBarrier(
                        self.raw(),
                        std::ptr::null_mut(),
                        0,
                        std::ptr::null_mut()
                    )
                )?
            };
        }
        self.appended = true;
        Ok(())
    }

    /// Checks the events a command takes (signal, waits, the one it signals or resets):
    /// of this list's context, and of a pool made for this list's device (or a device it
    /// is a sub-device or root of) when the pool names devices. The specification: "the
    /// command list and events were created on the same context", "the events are
    /// accessible by the device on which the command list was created", and a pool's events
    /// are for the devices it was created for "or their sub-devices". An event of another
    /// driver is of another context.
    pub(crate) fn check_events<U>(&self, cmd: &Cmd<'_, U>) -> Result<()> {
        let events = cmd
            .signal
            .into_iter()
            .chain(cmd.waits.iter().copied())
            .chain(cmd.other_event);
        if let Some(e) = cmd.signal
            && e.rearms()
            && !self.driver_in_order
        {
            return Err(Error::invalid(
                cmd.call,
                "a counter-based event is signalled only by an in-order list the driver orders \
                 (see is_ordered_by_driver)",
            ));
        }
        for e in events {
            let inner = &e.inner;
            if inner.ctx != self.ctx {
                return Err(Error::invalid(
                    cmd.call,
                    "an event of another context (or driver) than the command list's",
                ));
            }
            if !inner.devices.is_empty()
                && !inner.devices.iter().any(|d| {
                    d == &self.device
                        || crate::module::related_devices(d, &self.device).unwrap_or(false)
                })
            {
                return Err(Error::invalid(
                    cmd.call,
                    "an event of a pool made for other devices than the command list's",
                ));
            }
        }
        Ok(())
    }

    /// Checks that memory a command uses can be reached by this list's device.
    pub(crate) fn check_memory(
        &self,
        call: &'static str,
        what: &str,
        alloc_ctx: &Context,
        dev: Option<&Device>,
    ) -> Result<()> {
        if alloc_ctx != &self.ctx {
            return Err(Error::invalid(
                call,
                format!("the {what} belongs to another context than the command list"),
            ));
        }
        if let Some(d) = dev
            && d != &self.device
            && !self.device.can_access_peer(d)?
        {
            return Err(Error::invalid(
                call,
                format!(
                    "the {what} is memory of another device, which the list's device cannot access (no peer-to-peer access); use copy_peer"
                ),
            ));
        }
        Ok(())
    }
}

/// What a command's append call gets for its synchronisation parameters: the event it
/// signals (null for none) and the events it waits for (the caller's, then those hazard
/// tracking adds).
pub(crate) struct SyncArgs {
    pub(crate) signal: sys::ze_event_handle_t,
    pub(crate) waits: Vec<sys::ze_event_handle_t>,
}

impl SyncArgs {
    pub(crate) fn count(&self) -> u32 {
        self.waits.len() as u32
    }

    pub(crate) fn waits_ptr(&mut self) -> *mut sys::ze_event_handle_t {
        if self.waits.is_empty() {
            std::ptr::null_mut()
        } else {
            self.waits.as_mut_ptr()
        }
    }
}

/// A command to record: what it touches and keeps alive, and the synchronisation the caller
/// asked for.
pub(crate) struct Cmd<'a, U> {
    pub(crate) call: &'static str,
    /// The memory it reads and writes (kept alive, arbitrated with host access, and ordered
    /// across lists and queues).
    pub(crate) uses: U,
    /// Anything else it must keep alive.
    pub(crate) keep: Option<Keep>,
    /// The caller's signal event, when the command has a signal parameter.
    pub(crate) signal: Option<&'a Event>,
    /// The caller's wait events.
    pub(crate) waits: &'a [&'a Event],
    /// Whether it is a kernel launch (whose failure a list may need to learn from its
    /// signal event).
    pub(crate) launch: bool,
    /// An event the command signals or resets other than through its signal parameter
    /// (`zeCommandListAppendSignalEvent`, `zeCommandListAppendEventReset`).
    pub(crate) other_event: Option<&'a Event>,
}

impl<'a, U> Cmd<'a, U> {
    pub(crate) fn new(call: &'static str, uses: U) -> Self {
        Cmd {
            call,
            uses,
            keep: None,
            signal: None,
            waits: &[],
            launch: false,
            other_event: None,
        }
    }

    pub(crate) fn keep(mut self, keep: Keep) -> Self {
        self.keep = Some(keep);
        self
    }
}

/// What the append helpers need from a list of either kind.
pub(crate) trait Recorder {
    fn core(&self) -> &ListCore;
    /// Appends one command: `append` makes the Level Zero call with the synchronisation
    /// arguments it is given.
    fn record<U: IntoIterator<Item = Use>>(
        &mut self,
        cmd: Cmd<'_, U>,
        append: &mut dyn FnMut(&ListCore, &mut SyncArgs) -> Result<()>,
    ) -> Result<()>;
}

fn event_handles(events: &[&Event]) -> Vec<sys::ze_event_handle_t> {
    if events.is_empty() {
        return Vec::new();
    }
    events.iter().map(|e| e.as_raw()).collect()
}

/// The commands both list kinds (and a graph capture) record, written once.
macro_rules! commands {
    () => {
        /// The context the list belongs to.
        pub fn context(&self) -> &Context {
            &self.core().ctx
        }

        /// The device the list records for.
        pub fn device(&self) -> &Device {
            &self.core().device
        }

        /// The command-queue group ordinal the list was created for.
        pub fn ordinal(&self) -> u32 {
            self.core().ordinal
        }

        /// The raw handle. It stays owned by this object.
        pub fn as_raw(&self) -> sys::ze_command_list_handle_t {
            self.core().raw()
        }

        /// Whether the driver orders this in-order list's commands itself
        /// (`ZE_COMMAND_LIST_FLAG_IN_ORDER` / `ZE_COMMAND_QUEUE_FLAG_IN_ORDER`, which drivers
        /// of recent specifications accept): then no barrier goes between commands. `false`
        /// for [`Ordering::Relaxed`](crate::Ordering::Relaxed) lists and on older drivers,
        /// where an in-order list appends a barrier before each command instead.
        pub fn is_ordered_by_driver(&self) -> bool {
            self.core().driver_in_order
        }

        /// Copies `src` into `dst` (any kinds of memory of this list's context: device,
        /// host or shared, whole buffers or slices). Both must have the same length.
        ///
        /// Memory of another device of the context is accepted when this list's device can
        /// access it (peer-to-peer); see [`crate::peer`] otherwise.
        pub fn copy<T: Pod>(&mut self, dst: &impl Memory<T>, src: &impl Memory<T>) -> Result<()> {
            const CALL: &str = "zeCommandListAppendMemoryCopy";
            let (d, s) = (dst.region(), src.region());
            if dst.len() != src.len() {
                return Err(Error::invalid(
                    CALL,
                    format!("length mismatch: destination {} elements, source {}", dst.len(), src.len()),
                ));
            }
            self.core().check_memory(CALL, "destination", &d.alloc.ctx, d.alloc.device())?;
            self.core().check_memory(CALL, "source", &s.alloc.ctx, s.alloc.device())?;
            if d.bytes == 0 {
                return Ok(());
            }
            let (dp, sp, n) = (d.ptr(), s.ptr(), d.bytes);
            self.record(Cmd::new(CALL, [d.use_(true), s.use_(false)]), &mut |core, sync| {
                // SAFETY: both ranges lie inside live allocations of this context, which
                // the list keeps alive until the copy completes; valid events, kept alive.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendMemoryCopy(core.raw(), dp, sp, n, sync.signal, sync.count(), sync.waits_ptr())
                    )
                }
            })
        }

        /// Fills `dst` with copies of `value`. The size of `T` is the pattern size: it must
        /// be a power of two no larger than the queue group's `max_memory_fill_pattern_size`.
        pub fn fill<T: Pod>(&mut self, dst: &impl Memory<T>, value: T) -> Result<()> {
            const CALL: &str = "zeCommandListAppendMemoryFill";
            let size = size_of::<T>();
            if !size.is_power_of_two() || size > self.core().max_fill_pattern {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "a {size}-byte pattern is not a power of two up to {} bytes",
                        self.core().max_fill_pattern
                    ),
                ));
            }
            let d = dst.region();
            self.core().check_memory(CALL, "destination", &d.alloc.ctx, d.alloc.device())?;
            if d.bytes == 0 {
                return Ok(());
            }
            let pattern: Arc<Vec<u8>> = Arc::new(bytemuck::bytes_of(&value).to_vec());
            let (dp, n, pp) = (d.ptr(), d.bytes, pattern.as_ptr());
            self.record(Cmd::new(CALL, [d.use_(true)]).keep(pattern), &mut |core, sync| {
                // SAFETY: the range lies inside a live allocation of this context and the
                // pattern lives in the list until the fill completes; valid events.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendMemoryFill(core.raw(), dp, pp.cast(), size, n, sync.signal, sync.count(), sync.waits_ptr())
                    )
                }
            })
        }

        /// Writes the device's global timestamp into `dst[0]` when the command executes.
        pub fn write_global_timestamp(&mut self, dst: &impl Memory<u64>) -> Result<()> {
            const CALL: &str = "zeCommandListAppendWriteGlobalTimestamp";
            let d = dst.region();
            if d.bytes < 8 {
                return Err(Error::invalid(CALL, "the destination holds no u64"));
            }
            self.core().check_memory(CALL, "destination", &d.alloc.ctx, d.alloc.device())?;
            let dp = d.ptr().cast::<u64>();
            self.record(Cmd::new(CALL, [d.use_(true)]), &mut |core, sync| {
                // SAFETY: 8 bytes inside a live allocation the list keeps alive; valid events.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendWriteGlobalTimestamp(core.raw(), dp, sync.signal, sync.count(), sync.waits_ptr())
                    )
                }
            })
        }

        /// An execution barrier: later commands start after earlier ones complete.
        pub fn barrier(&mut self) -> Result<()> {
            self.barrier_with(None, &[])
        }

        /// A barrier that first waits for `wait` and signals `signal` when reached.
        pub fn barrier_with(&mut self, signal: Option<&Event>, wait: &[&Event]) -> Result<()> {
            const CALL: &str = "zeCommandListAppendBarrier";
            let keep: Keep = Arc::new((signal.cloned(), wait.iter().map(|e| (*e).clone()).collect::<Vec<_>>()));
            let cmd = Cmd { signal, waits: wait, ..Cmd::new(CALL, []).keep(keep) };
            self.record(cmd, &mut |core, sync| {
                // SAFETY: valid list and event handles, kept alive by the list.
                unsafe { ze!(core.api(), zeCommandListAppendBarrier(core.raw(), sync.signal, sync.count(), sync.waits_ptr())) }
            })
        }

        /// Signals `event` once the commands before it complete (a counter-based event is
        /// signalled by a barrier, which re-arms it).
        pub fn signal_event(&mut self, event: &Event) -> Result<()> {
            const CALL: &str = "zeCommandListAppendSignalEvent";
            if event.rearms() {
                return self.barrier_with(Some(event), &[]);
            }
            let h = event.as_raw();
            let cmd = Cmd { other_event: Some(event), ..Cmd::new(CALL, []).keep(Arc::new(event.clone())) };
            self.record(cmd, &mut |core, _| {
                // SAFETY: valid list and event handles; the event is kept alive.
                unsafe { ze!(core.api(), zeCommandListAppendSignalEvent(core.raw(), h)) }
            })
        }

        /// Makes later commands wait until every event of `events` is signalled.
        pub fn wait_events(&mut self, events: &[&Event]) -> Result<()> {
            const CALL: &str = "zeCommandListAppendWaitOnEvents";
            if events.is_empty() {
                return Ok(());
            }
            let keep: Keep = Arc::new(events.iter().map(|e| (*e).clone()).collect::<Vec<_>>());
            let cmd = Cmd { waits: events, ..Cmd::new(CALL, []).keep(keep) };
            self.record(cmd, &mut |core, sync| {
                // SAFETY: valid list and event handles; the events are kept alive.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendWaitOnEvents(core.raw(), sync.count(), sync.waits_ptr())
                    )
                }
            })
        }

        /// Launches `kernel` over `groups` work-groups (x, y, z) of its current group size,
        /// with the arguments it has now (later changes do not affect this launch).
        ///
        /// Checked before any Level Zero call: the kernel belongs to this list's context and
        /// device, every argument and the group size are set, no group count is zero, and
        /// the list's queue group runs kernels.
        ///
        /// # Safety
        ///
        /// A kernel can read and write whatever its pointers reach. The buffers set as its
        /// arguments are kept alive (and host access to them refused) until the launch
        /// completes; the caller must ensure the kernel touches no other memory than those
        /// buffers and memory that likewise outlives the launch, and that it does not race
        /// with other device work on the same memory.
        pub unsafe fn launch(&mut self, kernel: &crate::module::Kernel, groups: [u32; 3]) -> Result<()> {
            // SAFETY: forwarded to the caller.
            unsafe { self.launch_with(kernel, groups, None, &[]) }
        }

        /// Starts a launch of `kernel` on this list that sets every argument in one
        /// expression, checked before any driver call: see [`LaunchBuilder`](crate::LaunchBuilder).
        ///
        /// ```no_run
        /// # use level_zero::{DeviceBuffer, Kernel, LaunchConfig, Result};
        /// # fn f(list: &mut level_zero::ImmediateCommandList, k: &mut Kernel, x: &DeviceBuffer<f32>, y: &DeviceBuffer<f32>) -> Result<()> {
        /// // SAFETY: saxpy touches x[i] and y[i] for i < n, and both hold n elements.
        /// unsafe {
        ///     list.launch_builder(k, LaunchConfig::for_num_elems(x.len())?)
        ///         .arg(&2.5f32)
        ///         .arg(x)
        ///         .arg(y)
        ///         .run()
        /// }
        /// # }
        /// ```
        pub fn launch_builder<'k>(
            &'k mut self,
            kernel: &'k mut crate::module::Kernel,
            config: crate::launch::LaunchConfig,
        ) -> crate::launch::LaunchBuilder<'k> {
            crate::launch::LaunchBuilder::new(self, kernel, config)
        }

        /// [`launch`](Self::launch) that waits for `wait` first and signals `signal` when
        /// the kernel completes (with a timestamp pool, `signal` then holds the kernel's
        /// timestamps).
        ///
        /// # Safety
        ///
        /// As for [`launch`](Self::launch).
        pub unsafe fn launch_with(
            &mut self,
            kernel: &crate::module::Kernel,
            groups: [u32; 3],
            signal: Option<&Event>,
            wait: &[&Event],
        ) -> Result<()> {
            const CALL: &str = "zeCommandListAppendLaunchKernel";
            // A module serves its device and that device's sub-devices (`zeModuleCreate`).
            if kernel.context() != &self.core().ctx
                || (kernel.device() != &self.core().device
                    && !crate::module::related_devices(kernel.device(), &self.core().device)?)
            {
                return Err(Error::invalid(
                    CALL,
                    "the kernel's module was built for another context or device than the list's (or its root device)",
                ));
            }
            if groups.contains(&0) {
                return Err(Error::invalid(CALL, format!("zero group count {groups:?}")));
            }
            if !self.core().compute {
                return Err(Error::invalid(
                    CALL,
                    "the list's queue group does not run kernels (a copy engine); use a compute list",
                ));
            }
            let (uses, kernel_keep) = kernel.launch_uses(CALL)?;
            // Rule 11, as for copies: the list's device must reach every argument's memory.
            for u in uses {
                // The common case (memory of the list's context and device, or host memory)
                // needs no check, and no message.
                if u.alloc.ctx == self.core().ctx
                    && u.alloc.device().is_none_or(|d| d == &self.core().device)
                {
                    continue;
                }
                self.core().check_memory(
                    CALL,
                    &format!("memory of a kernel argument of `{}`", kernel.name()),
                    &u.alloc.ctx,
                    u.alloc.device(),
                )?;
            }
            let keep: Keep = if signal.is_none() && wait.is_empty() {
                kernel_keep
            } else {
                Arc::new((
                    kernel_keep,
                    signal.cloned(),
                    wait.iter().map(|e| (*e).clone()).collect::<Vec<_>>(),
                ))
            };
            let count = sys::ze_group_count_t {
                groupCountX: groups[0],
                groupCountY: groups[1],
                groupCountZ: groups[2],
            };
            let kh = kernel.as_raw();
            // Changed arguments go with the launch in one call where the driver can.
            let mut args = kernel.launch_args(CALL)?;
            let cmd = Cmd { signal, waits: wait, launch: true, ..Cmd::new(CALL, uses.iter().cloned()).keep(keep) };
            let one_call = matches!(args, crate::module::LaunchArgs::WithArguments(..));
            let r = self.record(cmd, &mut |core, sync| match &mut args {
                // SAFETY: valid list, kernel and event handles kept alive by the list; the
                // kernel's memory is the caller's responsibility (see the safety section).
                crate::module::LaunchArgs::InKernel => unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendLaunchKernel(core.raw(), kh, &count, sync.signal, sync.count(), sync.waits_ptr())
                    )
                },
                crate::module::LaunchArgs::WithArguments(values, g) => {
                    let size = sys::ze_group_size_t { groupSizeX: g[0], groupSizeY: g[1], groupSizeZ: g[2] };
                    // SAFETY: as above; `values` holds one pointer per argument of the
                    // kernel, each to that argument's bytes, alive and unchanged during
                    // the call (the kernel is borrowed); no extension structures.
                    unsafe {
                        ze!(
                            core.api(),
                            zeCommandListAppendLaunchKernelWithArguments(
                                core.raw(), kh, count, size, values.as_mut_ptr(), std::ptr::null(),
                                sync.signal, sync.count(), sync.waits_ptr()
                            )
                        )
                    }
                }
            });
            match r {
                Ok(()) => {
                    kernel.arguments_given();
                    Ok(())
                }
                Err(e) if one_call => Err(kernel.diagnose_arguments(e)),
                Err(e) => Err(e),
            }
        }

        /// Resets `event` to not signalled when the command executes (not a counter-based
        /// event: the commands that signal one re-arm it).
        pub fn reset_event(&mut self, event: &Event) -> Result<()> {
            const CALL: &str = "zeCommandListAppendEventReset";
            if event.rearms() {
                return Err(Error::invalid(
                    CALL,
                    "a counter-based event is never reset: the commands that signal it re-arm it",
                ));
            }
            let h = event.as_raw();
            let cmd = Cmd { other_event: Some(event), ..Cmd::new(CALL, []).keep(Arc::new(event.clone())) };
            self.record(cmd, &mut |core, _| {
                // SAFETY: valid list and event handles; the event is kept alive.
                unsafe { ze!(core.api(), zeCommandListAppendEventReset(core.raw(), h)) }
            })
        }
    };
}
pub(crate) use commands;

/// The state behind a regular command list, shared with the queues executing it.
pub(crate) struct ListState {
    pub(crate) core: ListCore,
    pub(crate) uses: Vec<Use>,
    keep: Vec<Keep>,
    pub(crate) closed: bool,
    /// Whether a recorded command waits for events (an execution of the list then counts as
    /// waiting, for hazard tracking).
    pub(crate) has_waits: bool,
}

/// A regular command list: record commands, [`close`](Self::close), then execute it on a
/// [`CommandQueue`](crate::CommandQueue) as many times as needed;
/// [`reset`](Self::reset) to record anew.
///
/// While a queue may be executing it, the list cannot be changed (appending or resetting
/// fails with [`Error::Busy`]); dropping it is fine: the queue keeps it until the execution
/// completes. `Send`, not `Sync`.
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{CommandList, CommandQueue, DeviceBuffer, EventPool, EventPoolFlags, HostBuffer};
/// let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE)?;
/// let gate = pool.event(0)?;
/// let buf = DeviceBuffer::<u64>::new(&ctx, device, 1024)?;
/// let out = HostBuffer::<u64>::new(&ctx, 1024)?;
/// let mut list = CommandList::compute(&ctx, device)?;
/// list.wait_events(&[&gate])?;          // the execution waits for the host to open the gate
/// list.fill(&buf, 42u64)?;
/// list.copy(&out, &buf)?;
/// list.close()?;
/// let mut queue = CommandQueue::compute(&ctx, device)?;
/// queue.execute(&[&list])?;
/// assert!(queue.execute(&[&list]).is_err()); // still executing
/// gate.host_signal()?;
/// queue.synchronize()?;
/// assert!(out.as_slice()?.iter().all(|&x| x == 42));
/// queue.execute(&[&list])?;             // lists can be executed again
/// queue.synchronize()?;
/// # Ok(()) }
/// ```
pub struct CommandList {
    pub(crate) state: Arc<ListState>,
    _not_sync: PhantomData<Cell<()>>,
}

impl std::fmt::Debug for CommandList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandList")
            .field("ordinal", &self.state.core.ordinal)
            .field("closed", &self.state.closed)
            .field("commands_keep", &self.state.keep.len())
            .finish()
    }
}

/// Appends a host function through the driver (`zeCommandListAppendHostFunction`); the
/// command keeps the closure alive until the list has seen it complete.
pub(crate) fn append_host_fn<R: Recorder>(r: &mut R, h: Arc<HostFn>) -> Result<()> {
    const CALL: &str = "zeCommandListAppendHostFunction";
    let user = h.user_data();
    let cmd = Cmd::new(CALL, []).keep(h);
    r.record(cmd, &mut |core, sync| {
        // SAFETY: valid list and event handles; `user` is the address of a `HostFn` that
        // the command keeps alive until the list has seen it complete, as `trampoline`
        // requires; no extension structures.
        unsafe {
            ze!(
                core.api(),
                zeCommandListAppendHostFunction(
                    core.raw(),
                    Some(host_function::trampoline as unsafe extern "C" fn(_)),
                    user,
                    std::ptr::null(),
                    sync.signal,
                    sync.count(),
                    sync.waits_ptr()
                )
            )
        }
    })
}

/// The host thread of an emulated host function, kept by the list's command that waits for
/// its end. Dropped when the list releases that command: joined if the thread is past the
/// host function (only a signal and the release of its references remain, which never
/// block), so that nothing of the command is released after the list says it is; otherwise
/// (the command was released without completing: a lost device, or the list gave up) left
/// to end on its own, holding its own references. Never joined from the thread itself.
struct EmulationThread {
    signalling: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for EmulationThread {
    fn drop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        if self.signalling.load(std::sync::atomic::Ordering::Acquire)
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl CommandList {
    /// Appends `f`, run on the host each time an execution of the list reaches this point,
    /// after the commands before it and before those after it (on an in-order list); see
    /// [`crate::host_function`]. `f` must not call Level Zero (such calls fail) and should
    /// be short: the device may wait for it.
    ///
    /// Needs a driver with `zeCommandListAppendHostFunction` (spec 1.17): otherwise
    /// [`Error::MissingFunction`] (immediate lists emulate it; regular lists cannot).
    pub fn host_fn<F: FnMut() + Send + 'static>(&mut self, f: F) -> Result<()> {
        append_host_fn(self, Arc::new(HostFn::many(f)))
    }

    /// A regular list for `device`, for queues of the group `desc.ordinal` (the queue
    /// index of `desc` is not used).
    pub fn new(ctx: &Context, device: &Device, desc: &QueueDesc) -> Result<CommandList> {
        Ok(CommandList {
            state: Arc::new(ListState {
                core: ListCore::new(ctx, device, desc, false)?,
                uses: Vec::new(),
                keep: Vec::new(),
                closed: false,
                has_waits: false,
            }),
            _not_sync: PhantomData,
        })
    }

    /// A regular list for the device's compute queue group.
    pub fn compute(ctx: &Context, device: &Device) -> Result<CommandList> {
        Self::new(ctx, device, &QueueDesc::compute(device)?)
    }

    /// A regular list for the device's best copy queue group.
    pub fn copy_engine(ctx: &Context, device: &Device) -> Result<CommandList> {
        Self::new(ctx, device, &QueueDesc::copy(device)?)
    }

    fn state_mut(&mut self, call: &'static str) -> Result<&mut ListState> {
        Arc::get_mut(&mut self.state).ok_or(Error::Busy {
            what: call,
            why: "the command list may still be executing on a queue; synchronize the queue (or its fence) first",
        })
    }

    /// Whether the list is closed (ready to execute).
    pub fn is_closed(&self) -> bool {
        self.state.closed
    }

    /// Closes the list: no more commands; it can now be executed.
    pub fn close(&mut self) -> Result<()> {
        const CALL: &str = "zeCommandListClose";
        let s = self.state_mut(CALL)?;
        if s.closed {
            return Ok(());
        }
        // SAFETY: valid handle, not executing (exclusive ownership of the state).
        unsafe { ze!(s.core.api(), zeCommandListClose(s.core.raw()))? };
        s.closed = true;
        Ok(())
    }

    /// Empties the list for recording anew, releasing what its commands kept alive.
    pub fn reset(&mut self) -> Result<()> {
        const CALL: &str = "zeCommandListReset";
        let s = self.state_mut(CALL)?;
        // SAFETY: valid handle, not executing (exclusive ownership of the state).
        unsafe { ze!(s.core.api(), zeCommandListReset(s.core.raw()))? };
        s.uses.clear();
        s.keep.clear();
        s.closed = false;
        s.has_waits = false;
        s.core.appended = false;
        Ok(())
    }

    commands!();
}

impl Recorder for CommandList {
    fn core(&self) -> &ListCore {
        &self.state.core
    }

    fn record<U: IntoIterator<Item = Use>>(
        &mut self,
        cmd: Cmd<'_, U>,
        append: &mut dyn FnMut(&ListCore, &mut SyncArgs) -> Result<()>,
    ) -> Result<()> {
        host_function::refuse(cmd.call)?;
        let s = self.state_mut(cmd.call)?;
        s.core.check_events(&cmd)?;
        if s.closed {
            return Err(Error::invalid(
                cmd.call,
                "the command list is closed; reset it to record again",
            ));
        }
        // Hazards across lists and queues are resolved when the list is executed.
        let mut sync = SyncArgs {
            signal: cmd.signal.map_or(std::ptr::null_mut(), Event::as_raw),
            waits: event_handles(cmd.waits),
        };
        s.core.order(true)?;
        append(&s.core, &mut sync)?;
        s.has_waits |= !cmd.waits.is_empty();
        s.uses.extend(cmd.uses);
        s.keep.extend(cmd.keep);
        Ok(())
    }
}

/// What a synchronisation of an immediate list covers: the list's commands up to `through`,
/// and its hazard publications numbered below `stamp` (see [`crate::hazard`]).
#[derive(Clone, Copy, Debug, Default)]
struct SyncPoint {
    through: u64,
    stamp: u64,
}

/// An immediate command list: each command is submitted as it is appended, and runs in
/// order. [`synchronize`](Self::synchronize) waits for all of them.
///
/// What the commands use stays alive (and host access to host or shared buffers they write
/// stays refused) until a synchronisation has seen them complete. Dropping the list waits
/// for its work first. `Send`, not `Sync`.
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{DeviceBuffer, EventPool, EventPoolFlags, ImmediateCommandList};
/// let mut list = ImmediateCommandList::compute(&ctx, device)?;
/// let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE)?;
/// let done = pool.event(0)?;
/// let buf = DeviceBuffer::<i32>::new(&ctx, device, 1 << 20)?;
/// list.fill(&buf, -1i32)?;
/// list.signal_event(&done)?;
/// done.host_synchronize()?;
/// list.synchronize()?;
/// # Ok(()) }
/// ```
pub struct ImmediateCommandList {
    pub(crate) core: ListCore,
    pending: Registered,
    pending_keep: Vec<Keep>,
    /// For loaders without `zeCommandListHostSynchronize` (before API 1.6 support, such as
    /// Debian's 1.8.12): an event the list signals, and the host waits on, to synchronise;
    /// with what the barrier signalling it covers while it is appended but not yet seen.
    sync_event: Option<(Event, Option<SyncPoint>)>,
    /// For the same loaders: what the kernel launches since the last synchronisation signal
    /// (the caller's event if host-visible, or one of the list's own, marked `true`), whose
    /// outcome the synchronisation reports. A failed kernel is reported only to the events of
    /// its own submission (the CPU driver's model), not to the later barrier that signals
    /// `sync_event`.
    launch_events: Vec<(Event, bool)>,
    /// The list's own launch events, unsignalled, for reuse.
    free_events: Vec<Event>,
    /// How long a drop waits for the list's work (see [`crate::completion`]).
    drop_timeout: Duration,
    /// The list's timeline for ordering memory uses across lists and queues.
    hazards: Issuer,
    _not_sync: PhantomData<Cell<()>>,
}

impl std::fmt::Debug for ImmediateCommandList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImmediateCommandList")
            .field("ordinal", &self.core.ordinal)
            .finish()
    }
}

impl ImmediateCommandList {
    /// The list's execution mode as the driver reports it (`zeCommandListImmediateGetMode`,
    /// spec 1.17), or what it was created with on older drivers.
    pub fn mode(&self) -> Result<crate::queue::QueueMode> {
        let api = self.core.api();
        if api.zeCommandListImmediateGetMode.is_none() {
            return Ok(self.core.desc.mode);
        }
        let mut m = sys::ze_command_queue_mode_t(u32::MAX);
        // SAFETY: a valid immediate list handle and output.
        unsafe { ze!(api, zeCommandListImmediateGetMode(self.core.raw(), &mut m))? };
        crate::queue::QueueMode::from_raw("zeCommandListImmediateGetMode", m)
    }

    /// The list's priority as the driver reports it (`zeCommandListImmediateGetPriority`,
    /// spec 1.17), or what it was created with on older drivers.
    pub fn priority(&self) -> Result<crate::queue::QueuePriority> {
        let api = self.core.api();
        if api.zeCommandListImmediateGetPriority.is_none() {
            return Ok(self.core.desc.priority);
        }
        let mut p = sys::ze_command_queue_priority_t(u32::MAX);
        // SAFETY: a valid immediate list handle and output.
        unsafe {
            ze!(
                api,
                zeCommandListImmediateGetPriority(self.core.raw(), &mut p)
            )?
        };
        crate::queue::QueuePriority::from_raw("zeCommandListImmediateGetPriority", p)
    }

    /// Appends `f`, run once on the host when the list reaches this point: after the
    /// commands before it and before those after it (on an in-order list), like CUDA's
    /// `cuLaunchHostFunc`. `f` must not call Level Zero (such calls fail) and should be
    /// short: the device may wait for it. A panic in `f` is caught and logged. If the list's
    /// work never reaches it (device lost), `f` is dropped without running. `f` is an
    /// `FnMut` called once: what it captures is dropped when the list releases the command
    /// (a synchronisation), outside the host function.
    ///
    /// Uses `zeCommandListAppendHostFunction` (spec 1.17); on older drivers a barrier
    /// signals an event that a host thread waits for, runs `f`, and signals the event the
    /// list then waits for (see [`crate::host_function`]).
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// let mut list = level_zero::ImmediateCommandList::new(&ctx, device, &level_zero::QueueDesc::compute(device)?)?;
    /// let ran = Arc::new(AtomicU32::new(0));
    /// let r = ran.clone();
    /// list.host_fn(move || { r.fetch_add(1, Ordering::SeqCst); })?;
    /// list.synchronize()?;
    /// assert_eq!(ran.load(Ordering::SeqCst), 1);
    /// # Ok(()) }
    /// ```
    pub fn host_fn<F: FnMut() + Send + 'static>(&mut self, f: F) -> Result<()> {
        let h = Arc::new(HostFn::once(f));
        if self.core.api().zeCommandListAppendHostFunction.is_some() {
            return append_host_fn(self, h);
        }
        self.emulate_host_fn(h)
    }

    /// A host function on a driver without `zeCommandListAppendHostFunction`: a host thread
    /// waits for an event the list signals where the function belongs, runs it and signals
    /// a second event the list waits for.
    ///
    /// What the thread holds is released in an order that makes the command's completion
    /// final: the closure's captures are dropped by the list with the command (as on the
    /// driver's path: the thread drops its reference before signalling), and the thread
    /// itself is joined when the list releases the command, so that its last reference to the
    /// second event is gone by then too. See [`EmulationThread`].
    fn emulate_host_fn(&mut self, h: Arc<HostFn>) -> Result<()> {
        use std::sync::atomic::{AtomicBool, Ordering};
        const CALL: &str = "zeCommandListAppendHostFunction";
        let pool = crate::event::EventPool::for_devices(
            &self.core.ctx,
            2,
            crate::event::EventPoolFlags::HOST_VISIBLE,
            std::slice::from_ref(&self.core.device),
        )?;
        let (reached, done) = (pool.event(0)?, pool.event(1)?);
        drop(pool);
        let cancelled = Arc::new(AtomicBool::new(false));
        let signalling = Arc::new(AtomicBool::new(false));
        let (r, d, c, s) = (
            reached.clone(),
            done.clone(),
            cancelled.clone(),
            signalling.clone(),
        );
        let f = h.clone();
        let device = self.core.device.clone();
        let thread = std::thread::Builder::new()
            .name("level-zero host function".into())
            .spawn(move || {
                loop {
                    match r.host_synchronize_timeout(Some(Duration::from_millis(50))) {
                        Ok(true) => break,
                        Ok(false) if !c.load(Ordering::Acquire) && device.status().is_ok() => {}
                        Ok(false) => return,
                        Err(e) => {
                            log::error!("level-zero: an emulated host function's wait failed: {e}");
                            return;
                        }
                    }
                }
                f.run();
                // Not the last references: the list's commands hold the closure and the
                // first event until they complete, which is after the signal below.
                drop((f, r, device, c));
                // From here on only the signal and the release of `d` remain: nothing that
                // blocks, so the list may join the thread (`EmulationThread`).
                s.store(true, Ordering::Release);
                if let Err(e) = d.host_signal() {
                    log::error!(
                        "level-zero: signalling an emulated host function's end failed: {e}"
                    );
                }
            })
            .map_err(|e| Error::invalid(CALL, format!("no host thread for the emulation: {e}")))?;
        let thread = EmulationThread {
            signalling,
            thread: Some(thread),
        };
        if let Err(e) = self.barrier_with(Some(&reached), &[]) {
            cancelled.store(true, Ordering::Release);
            return Err(e);
        }
        // `wait_events(&[&done])`, with the closure and the thread in the keep-alives.
        let keep: Keep = Arc::new((done.clone(), h, thread));
        let waits = [&done];
        let cmd = Cmd {
            waits: &waits,
            ..Cmd::new("zeCommandListAppendWaitOnEvents", []).keep(keep)
        };
        self.record(cmd, &mut |core, sync| {
            // SAFETY: valid list and event handles; the event is kept alive.
            unsafe {
                ze!(
                    core.api(),
                    zeCommandListAppendWaitOnEvents(core.raw(), sync.count(), sync.waits_ptr())
                )
            }
        })
    }

    /// An immediate list on queue `desc.index` of group `desc.ordinal` of `device`.
    pub fn new(ctx: &Context, device: &Device, desc: &QueueDesc) -> Result<Self> {
        let core = ListCore::new(ctx, device, desc, true)?;
        Ok(ImmediateCommandList {
            hazards: Issuer::new(Timeline::new(
                ctx,
                desc.mode == crate::queue::QueueMode::Synchronous,
                Publisher::List {
                    handle: core.handle,
                    append: std::sync::Mutex::new(()),
                },
            )),
            core,
            pending: Registered::empty(),
            pending_keep: Vec::new(),
            sync_event: None,
            launch_events: Vec::new(),
            free_events: Vec::new(),
            drop_timeout: completion::DEFAULT_DROP_TIMEOUT,
            _not_sync: PhantomData,
        })
    }

    /// An immediate list on the device's compute queue group.
    pub fn compute(ctx: &Context, device: &Device) -> Result<Self> {
        Self::new(ctx, device, &QueueDesc::compute(device)?)
    }

    /// An immediate list on the device's best copy queue group (a copy engine when it has
    /// one).
    pub fn copy_engine(ctx: &Context, device: &Device) -> Result<Self> {
        Self::new(ctx, device, &QueueDesc::copy(device)?)
    }

    commands!();

    /// Waits until every command appended so far has completed, then releases what they
    /// kept alive. When a command failed (a kernel the driver stopped), the error is
    /// returned once; the next synchronisation releases what the commands kept alive.
    pub fn synchronize(&mut self) -> Result<()> {
        match self.synchronize_timeout(None)? {
            true => Ok(()),
            false => Err(Error::Timeout {
                call: "zeCommandListHostSynchronize",
            }),
        }
    }

    /// Waits at most `timeout` (forever for `None`): `true` when everything completed (what
    /// the commands kept alive is then released), `false` when the time ran out.
    pub fn synchronize_timeout(&mut self, timeout: Option<Duration>) -> Result<bool> {
        host_function::refuse("zeCommandListHostSynchronize")?;
        if let Some(why) = self.core.broken {
            return Err(Error::invalid("zeCommandListHostSynchronize", why));
        }
        let (done, point) = if self.core.api().zeCommandListHostSynchronize.is_some() {
            // What the wait covers: everything appended before it starts.
            let point = self.sync_point();
            // SAFETY: valid handle.
            let r = unsafe {
                crate::error::ze_wait!(
                    self.core.api(),
                    zeCommandListHostSynchronize(self.core.raw(), timeout_ns(timeout))
                )
            };
            (r, point)
        } else {
            self.synchronize_by_event(timeout)
        };
        if completion::classify(&done) == Waited::Finished {
            // A lost device stopped everything appended so far.
            let point = if done.is_err() {
                self.sync_point()
            } else {
                point
            };
            self.release(point, done.is_err());
        }
        done
    }

    /// What a synchronisation starting now covers.
    fn sync_point(&self) -> SyncPoint {
        SyncPoint {
            through: self.hazards.last(),
            stamp: self.hazards.timeline.stamp(),
        }
    }

    /// How long dropping the list waits for its work before leaking it (see
    /// [`crate::completion`]); [`DEFAULT_DROP_TIMEOUT`](crate::completion::DEFAULT_DROP_TIMEOUT)
    /// until set. While the thread is panicking, a drop only polls.
    pub fn set_drop_timeout(&mut self, timeout: Duration) {
        self.drop_timeout = timeout;
    }

    /// Synchronisation where the loader lacks `zeCommandListHostSynchronize`: the list
    /// signals an event after everything appended so far (it runs in order), and the host
    /// waits for the event.
    fn synchronize_by_event(&mut self, timeout: Option<Duration>) -> (Result<bool>, SyncPoint) {
        let none = SyncPoint::default();
        if self.sync_event.is_none() {
            let event = crate::event::EventPool::for_devices(
                &self.core.ctx,
                1,
                crate::event::EventPoolFlags::HOST_VISIBLE,
                std::slice::from_ref(&self.core.device),
            )
            .and_then(|pool| pool.event(0));
            match event {
                Ok(e) => self.sync_event = Some((e, None)),
                Err(e) => return (Err(e), none),
            }
        }
        // A barrier an earlier synchronisation appended and then stopped waiting for (it
        // timed out) covers only what was appended before it, not what came since (catch-up
        // barriers other lists appended to this one included): once it completes, this
        // synchronisation appends a fresh one and waits for that too, so that it covers
        // everything appended before it started (what `Drop` relies on).
        let mut stale = self.sync_event.as_ref().is_some_and(|(_, p)| p.is_some());
        loop {
            let point = match self.sync_event.as_ref().and_then(|(_, p)| *p) {
                Some(p) => p,
                None => {
                    // A barrier that signals: the event is signalled once everything before it
                    // completed, whatever the list's ordering.
                    let _appending = self.hazards.timeline.append_lock();
                    let point = self.sync_point();
                    let (event, _) = self.sync_event.as_ref().expect("created above");
                    // SAFETY: valid list and event handles; the event lives in the list.
                    let r = unsafe {
                        ze!(
                            self.core.api(),
                            zeCommandListAppendBarrier(
                                self.core.raw(),
                                event.as_raw(),
                                0,
                                std::ptr::null_mut()
                            )
                        )
                    };
                    if let Err(e) = r {
                        return (Err(e), none);
                    }
                    self.sync_event.as_mut().expect("created above").1 = Some(point);
                    point
                }
            };
            let (event, _) = self.sync_event.as_ref().expect("created above");
            match event.host_synchronize_timeout(timeout) {
                Ok(true) => {}
                other => return (other, point),
            }
            if let Err(e) = event.host_reset() {
                return (Err(e), none);
            }
            self.sync_event.as_mut().expect("created above").1 = None;
            if std::mem::take(&mut stale) {
                continue;
            }
            return (self.launch_outcome(), point);
        }
    }

    /// Whether synchronisation goes through [`Self::synchronize_by_event`].
    fn synchronizes_by_event(&self) -> bool {
        self.core.api().zeCommandListHostSynchronize.is_none()
    }

    /// After a synchronisation by event: the first failure among the launches since the
    /// previous one (all completed: their events were signalled before the barrier's). The
    /// list's own events are reset for reuse.
    fn launch_outcome(&mut self) -> Result<bool> {
        let mut outcome = Ok(true);
        for (event, own) in std::mem::take(&mut self.launch_events) {
            // Signalled already (or reset by the caller since): a poll.
            if let Err(e) = event.host_synchronize_timeout(Some(Duration::ZERO))
                && outcome.is_ok()
            {
                outcome = Err(e);
            }
            if own && event.host_reset().is_ok() {
                self.free_events.push(event);
            }
        }
        outcome
    }

    /// Everything appended so far finished (or its device was lost): releases what the
    /// commands kept alive.
    fn release(&mut self, point: SyncPoint, lost: bool) {
        if lost {
            // What its commands waited for stays for later users (see `crate::hazard`).
            self.hazards.timeline.lost();
        }
        self.pending.clear();
        self.pending_keep.clear();
        self.hazards
            .timeline
            .finished_through(point.through, point.stamp);
        // Everything appended so far has completed: the next command needs no barrier.
        self.core.appended = false;
    }

    /// One of the list's own events, for a launch whose outcome the list must learn from
    /// its signal event (loaders without `zeCommandListHostSynchronize`).
    fn own_event(&mut self) -> Result<Event> {
        if self.free_events.is_empty() {
            // Reuse the events of launches that completed successfully (the rest stays for
            // the synchronisation to report), so that many launches between two
            // synchronisations do not pile up events.
            let mut kept = Vec::with_capacity(self.launch_events.len());
            for (event, own) in std::mem::take(&mut self.launch_events) {
                if own && matches!(event.is_signaled(), Ok(true)) && event.host_reset().is_ok() {
                    self.free_events.push(event);
                } else {
                    kept.push((event, own));
                }
            }
            self.launch_events = kept;
        }
        if let Some(e) = self.free_events.pop() {
            return Ok(e);
        }
        const EVENTS: u32 = 16;
        let pool = crate::event::EventPool::for_devices(
            &self.core.ctx,
            EVENTS,
            crate::event::EventPoolFlags::HOST_VISIBLE,
            std::slice::from_ref(&self.core.device),
        )?;
        for i in 1..EVENTS {
            self.free_events.push(pool.event(i)?);
        }
        pool.event(0)
    }

    /// Copies host data into `dst` and waits for the copy (and everything appended before
    /// it) to complete, so `src` is free again on return.
    pub fn copy_from_slice<T: Pod>(&mut self, dst: &impl Memory<T>, src: &[T]) -> Result<()> {
        self.host_copy(
            "zeCommandListAppendMemoryCopy",
            dst,
            src.as_ptr().cast_mut().cast(),
            src.len(),
            false,
        )
    }

    /// Copies `src` into host memory and waits for the copy (and everything appended before
    /// it) to complete.
    pub fn copy_to_slice<T: Pod>(&mut self, dst: &mut [T], src: &impl Memory<T>) -> Result<()> {
        self.host_copy(
            "zeCommandListAppendMemoryCopy",
            src,
            dst.as_mut_ptr().cast(),
            dst.len(),
            true,
        )
    }

    /// A copy between device-visible memory `mem` and plain host memory `host` of `len`
    /// elements, synchronised before returning (the host memory is only borrowed).
    fn host_copy<T: Pod>(
        &mut self,
        call: &'static str,
        mem: &impl Memory<T>,
        host: *mut std::ffi::c_void,
        len: usize,
        to_host: bool,
    ) -> Result<()> {
        let m = mem.region();
        if len != mem.len() {
            return Err(Error::invalid(
                call,
                format!(
                    "length mismatch: buffer {} elements, host slice {len}",
                    mem.len()
                ),
            ));
        }
        self.core
            .check_memory(call, "buffer", &m.alloc.ctx, m.alloc.device())?;
        if m.bytes == 0 {
            return Ok(());
        }
        self.check_can_wait()?;
        let (mp, n) = (m.ptr(), m.bytes);
        let (dp, sp) = if to_host { (host, mp) } else { (mp, host) };
        self.record(Cmd::new(call, [m.use_(!to_host)]), &mut |core, sync| {
            // SAFETY: the buffer range lies in a live allocation kept alive by the list; the
            // host range is `n` bytes of a live slice borrowed until the synchronisation
            // below has seen the copy complete; valid events.
            unsafe {
                ze!(
                    core.api(),
                    zeCommandListAppendMemoryCopy(
                        core.raw(),
                        dp,
                        sp,
                        n,
                        sync.signal,
                        sync.count(),
                        sync.waits_ptr()
                    )
                )
            }
        })?;
        self.end_borrow(call)
    }

    /// Fails unless the list can wait for its commands, which a command that borrows host
    /// memory needs before it is appended: without a way to wait, the borrowed memory could
    /// be used after return.
    pub(crate) fn check_can_wait(&self) -> Result<()> {
        let api = self.core.api();
        if api.zeCommandListHostSynchronize.is_none() {
            for (present, name) in [
                (
                    api.zeCommandListAppendBarrier.is_some(),
                    "zeCommandListAppendBarrier",
                ),
                (
                    api.zeEventHostSynchronize.is_some(),
                    "zeEventHostSynchronize",
                ),
            ] {
                if !present {
                    return Err(sys::MissingFunction { name }.into());
                }
            }
        }
        Ok(())
    }

    /// After appending a command that borrows host memory: returns once the borrow may end,
    /// the command having finished (or its device having been lost): see
    /// `crate::completion`.
    pub(crate) fn end_borrow(&mut self, call: &'static str) -> Result<()> {
        completion::wait_for_borrow(call, || self.synchronize_timeout(None))
    }
}

impl Recorder for ImmediateCommandList {
    fn core(&self) -> &ListCore {
        &self.core
    }

    fn record<U: IntoIterator<Item = Use>>(
        &mut self,
        cmd: Cmd<'_, U>,
        append: &mut dyn FnMut(&ListCore, &mut SyncArgs) -> Result<()>,
    ) -> Result<()> {
        host_function::refuse(cmd.call)?;
        if let Some(why) = self.core.broken {
            return Err(Error::invalid(cmd.call, why));
        }
        self.core().check_events(&cmd)?;
        // A launch on a loader without zeCommandListHostSynchronize signals an event (the
        // caller's, or one of the list's own) from which the list learns its outcome.
        let own = if cmd.launch && cmd.signal.is_none() && self.synchronizes_by_event() {
            Some(self.own_event()?)
        } else {
            None
        };
        if let Some((_, Some(_))) = &self.sync_event {
            // A synchronisation barrier is pending: it does not cover this command, so it
            // cannot be waited for to release it. Keep its event until a later
            // synchronisation (which covers it) and use a new one next time.
            let (e, _) = self.sync_event.take().expect("matched");
            self.pending_keep.push(Arc::new(e));
        }
        // The command starts running as soon as it is appended: register it first.
        let before = self.pending.len();
        if let Err(e) = self.pending.add(cmd.call, cmd.uses) {
            self.free_events.extend(own);
            return Err(e);
        }
        let mut issued = match self
            .hazards
            .issue(self.pending.since(before), !cmd.waits.is_empty())
        {
            Ok(i) => i,
            Err(e) => {
                self.pending.truncate_release(before);
                self.free_events.extend(own);
                return Err(e);
            }
        };
        // The signal slot: the caller's event; else a synchronous list's published event;
        // else the list's own launch event. A published event that does not get the slot is
        // signalled by a barrier right after the command.
        let slot = cmd.signal.or(issued.signal.as_ref()).or(own.as_ref());
        let after = issued
            .signal
            .as_ref()
            .filter(|_| cmd.signal.is_some())
            .cloned();
        let mut sync = SyncArgs {
            signal: slot.map_or(std::ptr::null_mut(), Event::as_raw),
            waits: event_handles(cmd.waits),
        };
        sync.waits.extend(issued.waits().iter().map(Event::as_raw));
        let barrier = |core: &ListCore, signal: &Event, waits: &[Event]| {
            let mut w: Vec<_> = waits.iter().map(Event::as_raw).collect();
            let pw = if w.is_empty() {
                std::ptr::null_mut()
            } else {
                w.as_mut_ptr()
            };
            // SAFETY: valid list and event handles, kept alive by the list (its timeline and
            // pending keep-alives) until the barrier is seen finished.
            unsafe {
                ze!(
                    core.api(),
                    zeCommandListAppendBarrier(core.raw(), signal.as_raw(), w.len() as u32, pw)
                )
            }
        };
        let appended = {
            let _appending = issued.timeline().append_lock();
            let core = &mut self.core;
            let ordered = if issued.publish {
                // The barrier between commands, signalling the publication (see
                // `crate::hazard`): it also orders an in-order list.
                let r = issued.publish_before(|e| {
                    // SAFETY: valid list and event handles; the event lives in the list's
                    // timeline until the barrier is seen finished.
                    unsafe {
                        ze!(
                            core.api(),
                            zeCommandListAppendBarrier(
                                core.raw(),
                                e.as_raw(),
                                0,
                                std::ptr::null_mut()
                            )
                        )
                    }
                });
                core.appended = true;
                r
            } else {
                core.order(false)
            };
            let done = ordered.and_then(|()| append(core, &mut sync));
            if let (Ok(()), Some(e)) = (&done, &after)
                && let Err(err) = barrier(core, e, &[])
            {
                // The command runs but its published event has no barrier: one that
                // waits for the command's own signal (the caller's event) does it.
                log::error!(
                    "level-zero: {}: appending the barrier that publishes the command failed ({err}); retrying after its signal",
                    cmd.call
                );
                let user = cmd
                    .signal
                    .cloned()
                    .expect("`after` needs the caller's signal");
                if let Err(err) = barrier(core, e, std::slice::from_ref(&user)) {
                    // Signalled from the host once the command's own signal is.
                    log::error!(
                        "level-zero: {}: the published event of the command has no barrier ({err})",
                        cmd.call
                    );
                    hazard::signal_after(e.clone(), vec![user]);
                }
            }
            done
        };
        if appended.is_err() {
            issued.abandon();
        } else if let Some(waits) = issued.waits_keep() {
            self.pending_keep.push(waits);
            drop(issued);
        } else {
            drop(issued);
        }
        if let Err(e) = appended {
            self.pending.truncate_release(before);
            self.free_events.extend(own);
            return Err(e);
        }
        if cmd.launch && self.synchronizes_by_event() {
            if let Some(e) = cmd.signal.filter(|e| e.host_visible()) {
                self.launch_events.push((e.clone(), false));
            } else if let Some(e) = own {
                self.launch_events.push((e, true));
            }
        }
        self.pending_keep.extend(cmd.keep);
        Ok(())
    }
}

impl Drop for ImmediateCommandList {
    fn drop(&mut self) {
        // Other timelines may append catch-up barriers until the list is marked done: wait
        // again if one came during the last wait, so that none is pending on the destroyed
        // handle.
        let timeline = self.hazards.timeline.clone();
        let deadline = completion::Deadline::new(self.drop_timeout);
        let (waited, _appending) = loop {
            let stamp = timeline.stamp();
            let waited = completion::drop_wait(deadline.left(), |t| self.synchronize_timeout(t));
            let appending = timeline.append_lock();
            if waited.is_err() || timeline.stamp() == stamp {
                break (waited, appending);
            }
        };
        if waited.is_ok() {
            timeline.set_life(hazard::DONE);
        }
        if let Err(why) = waited {
            timeline.set_life(hazard::LEAKED);
            // The work may still run: keep the list, its handle and everything its commands
            // use for good rather than free what the device may touch.
            completion::leak("an immediate command list", &why);
            std::mem::forget(std::mem::replace(&mut self.pending, Registered::empty()));
            std::mem::forget(std::mem::take(&mut self.pending_keep));
            std::mem::forget(self.sync_event.take());
            std::mem::forget(std::mem::take(&mut self.launch_events));
            std::mem::forget(std::mem::take(&mut self.free_events));
            // The timeline's events may still be signalled by the leaked work.
            std::mem::forget(self.hazards.timeline.clone());
            self.core.leak();
        }
    }
}
