//! Command queues and fences.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use level_zero_sys as sys;

use crate::completion::{self, Waited};
use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::event::Event;
use crate::event::timeout_ns;
use crate::handle::Handle;
use crate::hazard::{self, CatchUp, Issuer, Publisher, Timeline};
use crate::list::{CommandList, ListState};
use crate::memory::{Registered, Use};
use crate::properties::QueueGroupFlags;

/// How a queue executes (`ze_command_queue_mode_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QueueMode {
    /// The driver's choice.
    #[default]
    Default,
    /// Submission waits for completion.
    Synchronous,
    /// Submission returns at once.
    Asynchronous,
}

/// A queue's priority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QueuePriority {
    /// Normal.
    #[default]
    Normal,
    /// Low (background).
    Low,
    /// High.
    High,
}

/// Whether the commands of a list run one after another.
///
/// Level Zero itself lets the commands of a list overlap unless barriers or events order
/// them. This crate's lists are in order by default, like a CUDA stream or an in-order SYCL
/// queue: each command starts after the previous one completed. The list asks the driver
/// for that (`ZE_COMMAND_LIST_FLAG_IN_ORDER`, `ZE_COMMAND_QUEUE_FLAG_IN_ORDER`: no extra
/// command); a driver that refuses the flag gets a barrier before each command instead,
/// which every driver version honours (see `is_ordered_by_driver` on the lists). `Relaxed`
/// gives Level Zero's own
/// behaviour, for code that orders its commands with [`barrier`](crate::ImmediateCommandList::barrier)
/// and events to let independent work overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ordering {
    /// Each command (and each execution of a regular list) starts after the previous ones
    /// completed.
    #[default]
    InOrder,
    /// Level Zero's default: commands may overlap unless ordered by barriers or events.
    Relaxed,
}

/// Which engine a queue (or immediate list) runs on, and how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueDesc {
    /// The command-queue group ordinal (see [`Device::queue_groups`]).
    pub ordinal: u32,
    /// The queue index within the group.
    pub index: u32,
    /// Execution mode.
    pub mode: QueueMode,
    /// Priority.
    pub priority: QueuePriority,
    /// Command ordering of lists created with this description (queues ignore it).
    pub ordering: Ordering,
}

impl QueueMode {
    /// From the driver's value; one this crate does not know is an error naming it.
    pub(crate) fn from_raw(
        call: &'static str,
        m: sys::ze_command_queue_mode_t,
    ) -> Result<QueueMode> {
        use sys::ze_command_queue_mode_t as M;
        match m {
            M::ZE_COMMAND_QUEUE_MODE_DEFAULT => Ok(QueueMode::Default),
            M::ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS => Ok(QueueMode::Synchronous),
            M::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS => Ok(QueueMode::Asynchronous),
            other => Err(Error::invalid(
                call,
                format!("the driver reported an unknown queue mode {}", other.0),
            )),
        }
    }
}

impl QueuePriority {
    /// From the driver's value; one this crate does not know is an error naming it.
    pub(crate) fn from_raw(
        call: &'static str,
        p: sys::ze_command_queue_priority_t,
    ) -> Result<QueuePriority> {
        use sys::ze_command_queue_priority_t as P;
        match p {
            P::ZE_COMMAND_QUEUE_PRIORITY_NORMAL => Ok(QueuePriority::Normal),
            P::ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_LOW => Ok(QueuePriority::Low),
            P::ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_HIGH => Ok(QueuePriority::High),
            other => Err(Error::invalid(
                call,
                format!("the driver reported an unknown queue priority {}", other.0),
            )),
        }
    }
}

impl QueueDesc {
    /// Queue 0 of the device's compute group.
    pub fn compute(device: &Device) -> Result<QueueDesc> {
        Ok(QueueDesc {
            ordinal: device.compute_queue_group()?.ordinal,
            ..Default::default()
        })
    }

    /// Queue 0 of the device's best copy group (a dedicated copy engine when there is one).
    pub fn copy(device: &Device) -> Result<QueueDesc> {
        Ok(QueueDesc {
            ordinal: device.copy_queue_group()?.ordinal,
            ..Default::default()
        })
    }

    pub(crate) fn raw(&self) -> sys::ze_command_queue_desc_t {
        sys::ze_command_queue_desc_t {
            ordinal: self.ordinal,
            index: self.index,
            mode: match self.mode {
                QueueMode::Default => sys::ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_DEFAULT,
                QueueMode::Synchronous => {
                    sys::ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS
                }
                QueueMode::Asynchronous => {
                    sys::ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS
                }
            },
            priority: match self.priority {
                QueuePriority::Normal => {
                    sys::ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_NORMAL
                }
                QueuePriority::Low => {
                    sys::ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_LOW
                }
                QueuePriority::High => {
                    sys::ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_HIGH
                }
            },
            ..Default::default()
        }
    }
}

/// The fence that tells when a submission completed.
enum SubmissionFence {
    /// One of the queue's own fences, returned to its pool when the submission completes.
    Internal(Handle<sys::_ze_fence_handle_t>),
    /// The application's fence.
    User(Arc<FenceInner>),
}

/// One `zeCommandQueueExecuteCommandLists` call: what it keeps alive until its fence says
/// it completed.
struct Submission {
    /// Submissions are numbered in the order they were made.
    id: u64,
    fence: SubmissionFence,
    /// Its sequence number on the queue's hazard timeline (0: an internal publication).
    seq: u64,
    /// The number of the first hazard publication it may carry: publications numbered below
    /// it were made by earlier submissions.
    pubs_from: u64,
    lists: Vec<Arc<ListState>>,
    _registered: Registered,
    /// The internal lists run before and after the user's (hazard waits and signals), which
    /// keep the events they use.
    aux: Vec<CommandList>,
}

struct InFlight {
    submissions: Vec<Submission>,
    next_id: u64,
    free_fences: Vec<Handle<sys::_ze_fence_handle_t>>,
    /// Internal regular lists for hazard waits and signals, free for reuse.
    free_aux: Vec<CommandList>,
}

impl InFlight {
    /// Takes back internal lists no execution uses any more, emptied (which also lets go of
    /// the events they waited for or signalled).
    fn return_aux(&mut self, lists: Vec<CommandList>) {
        for mut l in lists {
            match l.reset() {
                Ok(()) => self.free_aux.push(l),
                Err(e) => log::error!("level-zero: resetting an internal command list failed: {e}"),
            }
        }
    }

    /// Records a submission made with `fence`.
    fn push(
        &mut self,
        fence: SubmissionFence,
        seq: u64,
        pubs_from: u64,
        lists: Vec<Arc<ListState>>,
        registered: Registered,
        aux: Vec<CommandList>,
    ) {
        let id = self.next_id;
        self.next_id += 1;
        self.submissions.push(Submission {
            id,
            fence,
            seq,
            pubs_from,
            lists,
            _registered: registered,
            aux,
        });
    }

    /// Returns what finished submissions held, and moves the hazard timeline past them.
    fn retire(&mut self, done: Vec<Submission>, api: &sys::Api, timeline: &Timeline) {
        for s in done {
            if let SubmissionFence::Internal(h) = s.fence {
                // SAFETY: the submission finished; the fence is no longer in use.
                unsafe { recycle(api, &mut self.free_fences, h) };
            }
            self.return_aux(s.aux);
        }
        // Submissions run in order: every one before the oldest unfinished one finished,
        // and so did the publications of earlier submissions.
        let through = self
            .submissions
            .iter()
            .filter(|s| s.seq != 0)
            .map(|s| s.seq - 1)
            .min()
            .unwrap_or(timeline.appended());
        let stamp = self
            .submissions
            .iter()
            .map(|s| s.pubs_from)
            .min()
            .unwrap_or(u64::MAX);
        timeline.finished_through(through, stamp);
    }
}

pub(crate) struct QueueShared {
    ctx: Context,
    /// The queue's timeline for ordering memory uses across lists and queues.
    timeline: Arc<Timeline>,
    device: Device,
    handle: Handle<sys::_ze_command_queue_handle_t>,
    ordinal: u32,
    /// What the queue was created with.
    desc: QueueDesc,
    /// Serialises executions: the owner's and the hazard publications other timelines make.
    /// Held across `zeCommandQueueExecuteCommandLists` (which blocks until completion on a
    /// synchronous queue); `in_flight` never is.
    submit: Mutex<()>,
    in_flight: Mutex<InFlight>,
}

impl QueueShared {
    fn api(&self) -> &sys::Api {
        self.ctx.api()
    }

    fn lock(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn submit_lock(&self) -> MutexGuard<'_, ()> {
        self.submit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Releases every submission whose fence is signalled (or whose device was lost).
    fn reap(&self) {
        let mut f = self.lock();
        let api = self.api();
        let mut done = Vec::new();
        let mut lost = false;
        for s in std::mem::take(&mut f.submissions) {
            let h = match &s.fence {
                SubmissionFence::Internal(h) => h.0,
                SubmissionFence::User(u) => u.handle.0,
            };
            // SAFETY: a live fence of this queue.
            let r = unsafe { crate::trace::ze_call!(api, zeFenceQueryStatus(h)) };
            match r {
                Ok(sys::ze_result_t::ZE_RESULT_SUCCESS) => done.push(s),
                Ok(sys::ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST) => {
                    lost = true;
                    done.push(s);
                }
                _ => f.submissions.push(s),
            }
        }
        if lost {
            // What its executions waited for stays for later users (see `crate::hazard`).
            self.timeline.lost();
        }
        if !done.is_empty() {
            f.retire(done, api, &self.timeline);
        }
    }

    /// The number the next submission gets: a queue synchronisation that starts now covers
    /// the submissions numbered below it.
    fn next_id(&self) -> u64 {
        self.lock().next_id
    }

    /// Releases the submissions numbered below `before`: the caller has seen the queue idle
    /// (or its device lost) with a wait that started after they were made.
    fn release_before(&self, before: u64) {
        let mut f = self.lock();
        let (done, pending) = std::mem::take(&mut f.submissions)
            .into_iter()
            .partition(|s| s.id < before);
        f.submissions = pending;
        f.retire(done, self.api(), &self.timeline);
    }

    /// Executes, with a fence of its own, an internal list holding a barrier that signals
    /// `e` once everything submitted before it completed: a publication of the queue's
    /// timeline (see [`crate::hazard`]). The caller holds the submission lock.
    fn execute_publication(&self, e: &Event) -> Result<()> {
        let list = {
            let mut f = self.lock();
            let mut list = self.aux_list(&mut f)?;
            if let Err(err) = list.barrier_with(Some(e), &[]).and_then(|()| list.close()) {
                f.return_aux(vec![list]);
                return Err(err);
            }
            list
        };
        self.execute_publication_list(list)
    }

    /// Executes a closed internal list, with a fence of its own, as an internal submission.
    /// The caller holds the submission lock.
    fn execute_publication_list(&self, mut list: CommandList) -> Result<()> {
        let pubs_from = self.timeline.stamp();
        let fence = {
            let mut f = self.lock();
            match self.take_fence(&mut f) {
                Ok(h) => h,
                Err(err) => {
                    f.return_aux(vec![list]);
                    return Err(err);
                }
            }
        };
        let mut h = [list.as_raw()];
        // SAFETY: valid queue, an idle closed internal list of its group, an unsignalled
        // internal fence of this queue; the list (and the event it keeps) live in the
        // submission recorded below until the fence is seen signalled.
        let r = unsafe {
            ze!(
                self.api(),
                zeCommandQueueExecuteCommandLists(self.handle.0, 1, h.as_mut_ptr(), fence.0)
            )
        };
        let mut f = self.lock();
        if let Err(err) = r {
            // SAFETY: a fence of this queue the failed call did not take.
            unsafe { recycle(self.api(), &mut f.free_fences, fence) };
            if let Err(e) = list.reset() {
                log::error!("level-zero: resetting an internal command list failed: {e}");
            }
            f.return_aux(vec![list]);
            return Err(err);
        }
        f.push(
            SubmissionFence::Internal(fence),
            0,
            pubs_from,
            Vec::new(),
            Registered::empty(),
            vec![list],
        );
        Ok(())
    }

    /// The event to wait for so that execution `seq` of this queue is done, executing a
    /// publication when none covers it yet; `None` once it is seen finished.
    pub(crate) fn catch_up(&self, tl: &Timeline, seq: u64) -> Result<CatchUp> {
        let _submitting = self.submit_lock();
        if let Some(found) = tl.catch_up_known(seq) {
            return Ok(found);
        }
        let covered = tl.appended();
        match tl.publish(covered, |e| self.execute_publication(e)) {
            Ok(e) => Ok(CatchUp::Wait(e)),
            Err(e) if e.is_device_lost() => {
                // The queue's device is lost, but an execution may still be running: the
                // queue's synchronisation reports the loss only once the device stopped.
                // SAFETY: a live queue (not done: `catch_up_known`).
                let r = unsafe {
                    ze!(
                        self.api(),
                        zeCommandQueueSynchronize(self.handle.0, u64::MAX)
                    )
                };
                match r {
                    Ok(()) => Ok(CatchUp::Finished),
                    Err(e) if e.is_device_lost() => {
                        tl.lost();
                        Ok(CatchUp::Lost)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// An internal list of this queue's group, empty and open.
    fn aux_list(&self, f: &mut InFlight) -> Result<CommandList> {
        if let Some(l) = f.free_aux.pop() {
            return Ok(l);
        }
        let desc = QueueDesc {
            ordinal: self.ordinal,
            ordering: Ordering::Relaxed,
            ..Default::default()
        };
        CommandList::new(&self.ctx, &self.device, &desc)
    }

    fn take_fence(&self, f: &mut InFlight) -> Result<Handle<sys::_ze_fence_handle_t>> {
        if let Some(h) = f.free_fences.pop() {
            return Ok(h);
        }
        let desc = sys::ze_fence_desc_t::default();
        let mut h = std::ptr::null_mut();
        // SAFETY: valid queue handle, descriptor and output.
        unsafe { ze!(self.api(), zeFenceCreate(self.handle.0, &desc, &mut h))? };
        Ok(Handle(h))
    }
}

/// Returns an internal fence to the pool, reset; a fence that cannot be reset is retired.
///
/// # Safety
///
/// `h` must be a live fence of the queue that no pending submission uses any more.
unsafe fn recycle(
    api: &sys::Api,
    free: &mut Vec<Handle<sys::_ze_fence_handle_t>>,
    h: Handle<sys::_ze_fence_handle_t>,
) {
    // SAFETY: forwarded to the caller.
    match unsafe { ze!(api, zeFenceReset(h.0)) } {
        Ok(()) => free.push(h),
        // SAFETY: as above; the fence is destroyed once and never used again.
        Err(_) => drop(unsafe { crate::trace::ze_call!(api, zeFenceDestroy(h.0)) }),
    }
}

impl Drop for QueueShared {
    fn drop(&mut self) {
        let api = self.ctx.api();
        let f = self.in_flight.get_mut().unwrap_or_else(|p| p.into_inner());
        for h in f.free_fences.drain(..) {
            // SAFETY: an idle fence of this queue, destroyed once.
            if let Err(e) = unsafe { ze!(api, zeFenceDestroy(h.0)) } {
                log::error!("level-zero: destroying a fence failed: {e}");
            }
        }
        // SAFETY: the queue's owner synchronised it and every user fence (which holds a
        // reference to this state) is gone.
        if let Err(e) = unsafe { ze!(api, zeCommandQueueDestroy(self.handle.0)) } {
            log::error!("level-zero: destroying a command queue failed: {e}");
        }
    }
}

/// A command queue: executes closed [`CommandList`]s on one engine of a device.
///
/// Each execution keeps its lists, and what their commands use, alive until the queue has
/// seen it complete (its fence signalled, or the queue synchronised). Dropping the queue
/// waits for its work first. `Send`; executing and synchronising take `&mut self` (Level
/// Zero forbids concurrent submission to one queue), so it is also `Sync` in effect; it is
/// marked `!Sync` to keep that rule obvious.
pub struct CommandQueue {
    shared: Arc<QueueShared>,
    /// The issuing side of the queue's hazard timeline.
    hazards: Issuer,
    /// How long a drop waits for the queue's work (see [`crate::completion`]).
    drop_timeout: Duration,
    _not_sync: PhantomData<Cell<()>>,
}

impl std::fmt::Debug for CommandQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandQueue")
            .field("ordinal", &self.shared.ordinal)
            .field("in_flight", &self.shared.lock().submissions.len())
            .finish()
    }
}

impl CommandQueue {
    /// A queue on `device`, group `desc.ordinal`, index `desc.index`.
    pub fn new(ctx: &Context, device: &Device, desc: &QueueDesc) -> Result<CommandQueue> {
        const CALL: &str = "zeCommandQueueCreate";
        ctx.check_device(CALL, device)?;
        let groups = device.queue_groups()?;
        let Some(group) = groups.get(desc.ordinal as usize) else {
            return Err(Error::invalid(
                CALL,
                format!(
                    "queue group ordinal {} does not exist (the device has {})",
                    desc.ordinal,
                    groups.len()
                ),
            ));
        };
        if desc.index >= group.num_queues {
            return Err(Error::invalid(
                CALL,
                format!(
                    "queue index {} is outside group {} of {} queues",
                    desc.index, desc.ordinal, group.num_queues
                ),
            ));
        }
        let raw = desc.raw();
        let mut h = std::ptr::null_mut();
        // SAFETY: valid context and device of it, descriptor with a checked ordinal/index.
        unsafe {
            ze!(
                ctx.api(),
                zeCommandQueueCreate(ctx.as_raw(), device.as_raw(), &raw, &mut h)
            )?
        };
        let shared = Arc::new_cyclic(|weak| QueueShared {
            ctx: ctx.clone(),
            timeline: Timeline::new(
                ctx,
                desc.mode == QueueMode::Synchronous,
                Publisher::Queue(weak.clone()),
            ),
            device: device.clone(),
            handle: Handle(h),
            ordinal: desc.ordinal,
            desc: *desc,
            submit: Mutex::new(()),
            in_flight: Mutex::new(InFlight {
                submissions: Vec::new(),
                next_id: 0,
                free_fences: Vec::new(),
                free_aux: Vec::new(),
            }),
        });
        Ok(CommandQueue {
            hazards: Issuer::new(shared.timeline.clone()),
            shared,
            drop_timeout: completion::DEFAULT_DROP_TIMEOUT,
            _not_sync: PhantomData,
        })
    }

    /// A queue on the device's compute group.
    pub fn compute(ctx: &Context, device: &Device) -> Result<CommandQueue> {
        Self::new(ctx, device, &QueueDesc::compute(device)?)
    }

    /// A queue on the device's best copy group.
    pub fn copy_engine(ctx: &Context, device: &Device) -> Result<CommandQueue> {
        Self::new(ctx, device, &QueueDesc::copy(device)?)
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_command_queue_handle_t {
        self.shared.handle.0
    }

    /// The device the queue runs on.
    pub fn device(&self) -> &Device {
        &self.shared.device
    }

    /// The queue group ordinal.
    pub fn ordinal(&self) -> u32 {
        self.shared.ordinal
    }

    /// The queue's execution mode as the driver reports it (`zeCommandQueueGetMode`, spec
    /// 1.17), or what it was created with on older drivers.
    pub fn mode(&self) -> Result<QueueMode> {
        let api = self.shared.api();
        if api.zeCommandQueueGetMode.is_none() {
            return Ok(self.shared.desc.mode);
        }
        let mut m = sys::ze_command_queue_mode_t(u32::MAX);
        // SAFETY: a valid queue handle and output.
        unsafe { ze!(api, zeCommandQueueGetMode(self.shared.handle.0, &mut m))? };
        QueueMode::from_raw("zeCommandQueueGetMode", m)
    }

    /// The queue's priority as the driver reports it (`zeCommandQueueGetPriority`, spec
    /// 1.17), or what it was created with on older drivers.
    pub fn priority(&self) -> Result<QueuePriority> {
        let api = self.shared.api();
        if api.zeCommandQueueGetPriority.is_none() {
            return Ok(self.shared.desc.priority);
        }
        let mut p = sys::ze_command_queue_priority_t(u32::MAX);
        // SAFETY: a valid queue handle and output.
        unsafe { ze!(api, zeCommandQueueGetPriority(self.shared.handle.0, &mut p))? };
        QueuePriority::from_raw("zeCommandQueueGetPriority", p)
    }

    /// Whether the queue's group runs kernels.
    pub fn supports_compute(&self) -> Result<bool> {
        Ok(self
            .device()
            .queue_groups()?
            .get(self.shared.ordinal as usize)
            .is_some_and(|g| g.flags.contains(QueueGroupFlags::COMPUTE)))
    }

    /// How many executions the queue has not yet seen complete.
    pub fn in_flight(&self) -> usize {
        self.shared.reap();
        // The queue's own executions (hazard publications) are not the caller's.
        self.shared
            .lock()
            .submissions
            .iter()
            .filter(|s| !s.lists.is_empty())
            .count()
    }

    /// Executes closed lists, in order.
    pub fn execute(&mut self, lists: &[&CommandList]) -> Result<()> {
        self.submit(lists, None)
    }

    /// Executes closed lists and signals `fence` when they complete.
    pub fn execute_with_fence(&mut self, lists: &[&CommandList], fence: &Fence) -> Result<()> {
        if !Arc::ptr_eq(&fence.inner.queue, &self.shared) {
            return Err(Error::invalid(
                "zeCommandQueueExecuteCommandLists",
                "the fence was created for another queue",
            ));
        }
        self.submit(lists, Some(fence))
    }

    fn submit(&mut self, lists: &[&CommandList], fence: Option<&Fence>) -> Result<()> {
        crate::host_function::refuse("zeCommandQueueExecuteCommandLists")?;
        const CALL: &str = "zeCommandQueueExecuteCommandLists";
        self.shared.reap();
        if lists.is_empty() {
            return Err(Error::invalid(CALL, "no command lists given"));
        }
        for (i, l) in lists.iter().enumerate() {
            let s = &l.state;
            if !s.closed {
                return Err(Error::invalid(
                    CALL,
                    format!("command list {i} is not closed"),
                ));
            }
            if s.core.ctx != self.shared.ctx || s.core.device != self.shared.device {
                return Err(Error::invalid(
                    CALL,
                    format!("command list {i} belongs to another context or device"),
                ));
            }
            if s.core.ordinal != self.shared.ordinal {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "command list {i} was created for queue group {}, the queue is in group {}",
                        s.core.ordinal, self.shared.ordinal
                    ),
                ));
            }
            // One reference is the list's own; any other is a pending execution.
            if Arc::strong_count(s) > 1 || lists[..i].iter().any(|o| Arc::ptr_eq(&o.state, s)) {
                return Err(Error::Busy {
                    what: CALL,
                    why: "a command list may still be executing; synchronize before executing it again",
                });
            }
        }
        let mut registered = Registered::empty();
        for l in lists {
            // On a conflict, dropping `registered` releases the lists registered before.
            registered.add(CALL, l.state.uses.iter().cloned())?;
        }
        if let Some(f) = fence {
            f.check_unsignaled(CALL)?;
        }
        // Hazards across lists and queues: the execution waits (in an internal list run
        // first) for the commands of other timelines it conflicts with; before an execution
        // that waits, the queue publishes the executions before it; a synchronous queue
        // publishes every execution, in an internal list run last (see `crate::hazard`).
        let user_waits = lists.iter().any(|l| l.state.has_waits);
        let uses: Vec<&Use> = lists.iter().flat_map(|l| l.state.uses.iter()).collect();
        // Publications made from here on may be this execution's (a synchronous queue's).
        let pubs_from = self.shared.timeline.stamp();
        let mut issued = self.hazards.issue(&uses, user_waits)?;
        let shared = &*self.shared;
        let _submitting = shared.submit_lock();
        // The barrier that signals `e` after `waits` (none: after everything before it), in
        // an internal list.
        let aux_barrier = |e: Option<&Event>, waits: &[Event]| -> Result<CommandList> {
            let mut f = shared.lock();
            let mut l = shared.aux_list(&mut f)?;
            drop(f);
            let waits: Vec<&Event> = waits.iter().collect();
            match l.barrier_with(e, &waits).and_then(|()| l.close()) {
                Ok(()) => Ok(l),
                Err(err) => {
                    shared.lock().return_aux(vec![l]);
                    Err(err)
                }
            }
        };
        // Gives the command up: the events it waited for stay with the timeline (see
        // `crate::hazard`).
        let give_up = |issued: crate::hazard::Issued<'_>, aux: Vec<CommandList>| {
            shared.lock().return_aux(aux);
            issued.abandon();
        };
        let mut aux = Vec::new();
        if issued.publish
            && let Err(e) = issued.publish_before(|e| shared.execute_publication(e))
        {
            give_up(issued, aux);
            return Err(e);
        }
        if !issued.waits().is_empty() {
            match aux_barrier(None, issued.waits()) {
                Ok(l) => aux.push(l),
                Err(e) => {
                    give_up(issued, aux);
                    return Err(e);
                }
            }
        }
        let first_user = aux.len();
        if let Some(e) = &issued.signal {
            match aux_barrier(Some(e), &[]) {
                Ok(l) => aux.push(l),
                Err(err) => {
                    give_up(issued, aux);
                    return Err(err);
                }
            }
        }
        let mut handles: Vec<_> = aux[..first_user].iter().map(CommandList::as_raw).collect();
        handles.extend(lists.iter().map(|l| l.as_raw()));
        handles.extend(aux[first_user..].iter().map(CommandList::as_raw));
        let taken = match fence {
            Some(fe) => {
                // From now on the fence may be signalled (by this execution, even if the call
                // fails after the driver took it): it must be reset before another use.
                fe.inner.used.store(true, AtomicOrdering::Release);
                Ok((fe.inner.handle.0, SubmissionFence::User(fe.inner.clone())))
            }
            None => shared
                .take_fence(&mut shared.lock())
                .map(|h| (h.0, SubmissionFence::Internal(h))),
        };
        let (fence_handle, sub_fence) = match taken {
            Ok(t) => t,
            Err(e) => {
                give_up(issued, aux);
                return Err(e);
            }
        };
        // SAFETY: valid queue, closed lists of its context/device/group not executing
        // elsewhere (the internal ones are this queue's and idle), and an unsignalled fence
        // of this queue; everything the lists use is kept alive by the submission recorded
        // below. The bookkeeping lock is not held: on a synchronous queue the call blocks
        // until the execution completed.
        let r = unsafe {
            ze!(
                shared.api(),
                zeCommandQueueExecuteCommandLists(
                    shared.handle.0,
                    handles.len() as u32,
                    handles.as_mut_ptr(),
                    fence_handle
                )
            )
        };
        if let Err(e) = r {
            if let SubmissionFence::Internal(h) = sub_fence {
                // SAFETY: a fence of this queue the failed call did not take.
                unsafe { recycle(shared.api(), &mut shared.lock().free_fences, h) };
            }
            give_up(issued, aux);
            return Err(e);
        }
        shared.lock().push(
            sub_fence,
            issued.seq,
            pubs_from,
            lists.iter().map(|l| l.state.clone()).collect(),
            registered,
            aux,
        );
        drop(issued);
        Ok(())
    }

    /// Waits until the queue is idle, then releases everything its executions kept alive.
    pub fn synchronize(&mut self) -> Result<()> {
        match self.synchronize_timeout(None)? {
            true => Ok(()),
            false => Err(Error::Timeout {
                call: "zeCommandQueueSynchronize",
            }),
        }
    }

    /// Waits at most `timeout` (forever for `None`): `true` when the queue is idle (what
    /// its executions kept alive is released), `false` when the time ran out.
    pub fn synchronize_timeout(&mut self, timeout: Option<Duration>) -> Result<bool> {
        crate::host_function::refuse("zeCommandQueueSynchronize")?;
        // What the wait covers: the submissions made before it starts (other timelines may
        // execute publications on the queue meanwhile).
        let before = self.shared.next_id();
        // SAFETY: valid handle.
        let done = unsafe {
            crate::error::ze_wait!(
                self.shared.api(),
                zeCommandQueueSynchronize(self.as_raw(), timeout_ns(timeout))
            )
        };
        match completion::classify(&done) {
            Waited::Finished => {
                if done.is_err() {
                    // What its executions waited for stays for later users.
                    self.shared.timeline.lost();
                }
                self.shared.release_before(before)
            }
            Waited::Pending | Waited::Unknown => self.shared.reap(),
        }
        done
    }

    /// How long dropping the queue waits for its work before leaking it (see
    /// [`crate::completion`]); [`DEFAULT_DROP_TIMEOUT`](crate::completion::DEFAULT_DROP_TIMEOUT)
    /// until set. While the thread is panicking, a drop only polls.
    pub fn set_drop_timeout(&mut self, timeout: Duration) {
        self.drop_timeout = timeout;
    }
}

impl Drop for CommandQueue {
    fn drop(&mut self) {
        // Other timelines may execute publications on the queue until it is marked done:
        // wait again if one came during the last wait, so that none is pending on the
        // destroyed queue.
        let shared = self.shared.clone();
        let timeline = &shared.timeline;
        let deadline = completion::Deadline::new(self.drop_timeout);
        let (waited, _submitting) = loop {
            let stamp = timeline.stamp();
            let waited = if shared.lock().submissions.is_empty() {
                Ok(())
            } else {
                completion::drop_wait(deadline.left(), |t| self.synchronize_timeout(t))
            };
            let submitting = shared.submit_lock();
            if waited.is_err() || timeline.stamp() == stamp {
                break (waited, submitting);
            }
        };
        match waited {
            Ok(()) => timeline.set_life(hazard::DONE),
            Err(why) => {
                // Keep the queue and everything its executions use for good rather than
                // free what the device may touch.
                completion::leak("a command queue", &why);
                self.shared.timeline.set_life(hazard::LEAKED);
                std::mem::forget(self.shared.clone());
            }
        }
    }
}

pub(crate) struct FenceInner {
    queue: Arc<QueueShared>,
    handle: Handle<sys::_ze_fence_handle_t>,
    /// Whether the fence may be signalled: created signalled, or handed to an execution
    /// since the last successful [`Fence::reset`]. Level Zero has no host signal for fences,
    /// so an unused fence stays unsignalled until an execution signals it: a fence handed
    /// out only in this state can be signalled by nothing but that execution.
    used: AtomicBool,
}

impl Drop for FenceInner {
    fn drop(&mut self) {
        // SAFETY: executions that use the fence hold a reference to it, so none is pending.
        if let Err(e) = unsafe { ze!(self.queue.api(), zeFenceDestroy(self.handle.0)) } {
            log::error!("level-zero: destroying a fence failed: {e}");
        }
    }
}

/// A fence: signalled when an execution on its queue completes. `Send + Sync`.
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use std::time::Duration;
/// use level_zero::{CommandList, CommandQueue, DeviceBuffer, Fence};
/// let mut queue = CommandQueue::compute(&ctx, device)?;
/// let mut fence = Fence::new(&queue)?;
/// assert!(!fence.synchronize_timeout(Some(Duration::from_millis(1)))?); // nothing submitted
/// let buf = DeviceBuffer::<u8>::new(&ctx, device, 4096)?;
/// let mut list = CommandList::compute(&ctx, device)?;
/// list.fill(&buf, 0u8)?;
/// list.close()?;
/// queue.execute_with_fence(&[&list], &fence)?;
/// fence.synchronize()?;
/// fence.reset()?;
/// # Ok(()) }
/// ```
pub struct Fence {
    inner: Arc<FenceInner>,
}

impl std::fmt::Debug for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fence")
            .field("handle", &self.inner.handle.0)
            .finish()
    }
}

impl Fence {
    /// A fence for `queue`, initially not signalled.
    pub fn new(queue: &CommandQueue) -> Result<Fence> {
        Self::with_state(queue, false)
    }

    /// A fence for `queue`, created signalled when `signaled` is true.
    pub fn with_state(queue: &CommandQueue, signaled: bool) -> Result<Fence> {
        let desc = sys::ze_fence_desc_t {
            flags: if signaled {
                sys::ze_fence_flag_t::ZE_FENCE_FLAG_SIGNALED.0
            } else {
                0
            },
            ..Default::default()
        };
        let mut h = std::ptr::null_mut();
        // SAFETY: valid queue handle, descriptor and output.
        unsafe {
            ze!(
                queue.shared.api(),
                zeFenceCreate(queue.as_raw(), &desc, &mut h)
            )?
        };
        Ok(Fence {
            inner: Arc::new(FenceInner {
                queue: queue.shared.clone(),
                handle: Handle(h),
                used: AtomicBool::new(signaled),
            }),
        })
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_fence_handle_t {
        self.inner.handle.0
    }

    /// Waits until the fence is signalled; what the execution kept alive is then released.
    pub fn synchronize(&self) -> Result<()> {
        match self.synchronize_timeout(None)? {
            true => Ok(()),
            false => Err(Error::Timeout {
                call: "zeFenceHostSynchronize",
            }),
        }
    }

    /// Waits at most `timeout` (forever for `None`): `true` once signalled, `false` when
    /// the time ran out.
    pub fn synchronize_timeout(&self, timeout: Option<Duration>) -> Result<bool> {
        crate::host_function::refuse("zeFenceHostSynchronize")?;
        // SAFETY: valid handle.
        let done = unsafe {
            crate::error::ze_wait!(
                self.inner.queue.api(),
                zeFenceHostSynchronize(self.as_raw(), timeout_ns(timeout))
            )
        };
        self.inner.queue.reap();
        done
    }

    /// Whether the fence is signalled, without waiting.
    pub fn is_signaled(&self) -> Result<bool> {
        crate::host_function::refuse("zeFenceQueryStatus")?;
        // SAFETY: valid handle.
        let done = unsafe {
            crate::error::ze_wait!(self.inner.queue.api(), zeFenceQueryStatus(self.as_raw()))
        };
        self.inner.queue.reap();
        done
    }

    /// Resets the fence to not signalled, for another execution. Fails with
    /// [`Error::Busy`] while an execution it is attached to has not been seen complete.
    pub fn reset(&mut self) -> Result<()> {
        self.inner.queue.reap();
        if Arc::strong_count(&self.inner) > 1 {
            return Err(Error::Busy {
                what: "zeFenceReset",
                why: "the fence is attached to an execution that has not completed",
            });
        }
        // SAFETY: valid handle, not attached to a pending execution.
        unsafe { ze!(self.inner.queue.api(), zeFenceReset(self.as_raw()))? };
        self.inner.used.store(false, AtomicOrdering::Release);
        Ok(())
    }

    /// Refuses a fence that an execution could not call its own: one still attached to an
    /// execution ([`Error::Busy`]), or one that is (or may be) signalled already — created
    /// signalled, or used by an earlier execution and not [`reset`](Self::reset) since
    /// ([`Error::InvalidArgument`]). The queue takes a fence's signal as the completion of
    /// the execution it was handed to, so a fence signalled beforehand would release what
    /// the execution still uses.
    fn check_unsignaled(&self, call: &'static str) -> Result<()> {
        if Arc::strong_count(&self.inner) > 1 {
            return Err(Error::Busy {
                what: call,
                why: "the fence is still attached to an execution the queue has not seen complete",
            });
        }
        if self.inner.used.load(AtomicOrdering::Acquire) {
            return Err(Error::invalid(
                call,
                "the fence is signalled (created signalled, or signalled by an earlier execution); reset it before executing with it",
            ));
        }
        // What the driver says must agree: the fence is not signalled.
        // SAFETY: valid handle.
        match unsafe {
            crate::error::ze_wait!(self.inner.queue.api(), zeFenceQueryStatus(self.as_raw()))
        }? {
            false => Ok(()),
            true => Err(Error::invalid(
                call,
                "the driver reports the fence signalled although no execution used it since its last reset",
            )),
        }
    }
}
