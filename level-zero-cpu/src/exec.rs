//! Commands and their execution: what command lists record, and the worker threads that run
//! them in submission order (one per command queue and per immediate command list).
//!
//! Errors during execution: a command that fails (a range that no longer lies inside its
//! allocation because the memory was freed, a kernel that fails) makes its submission fail. The
//! commands after it in the same submission are skipped, except synchronisation: events are
//! still signalled — carrying the error, so `zeEventHostSynchronize` returns it — and the
//! submission's fence is signalled with it too; the queue's next `zeCommandQueueSynchronize`
//! (or the immediate list's next `zeCommandListHostSynchronize`) returns it once. The device is
//! not lost: later submissions run normally.
//!
//! Device loss: a job (one submission) is counted on its device while it runs its commands
//! (it starts only while the device is not lost; see [`DeviceRef::begin_job`]). Once the
//! device is lost, a job not started runs none of its commands, a job blocked in an event wait
//! is abandoned, a running job stops before its next command (the command running finishes:
//! a copy is never cut in half). Waits and queries — [`Worker::synchronize`],
//! `Event::host_wait`, `Fence::wait` — report `ZE_RESULT_ERROR_DEVICE_LOST` only once the
//! device is lost *and* no job of it is running ([`DeviceRef::lost_and_quiescent`]; for an
//! event: a device of its pool is lost and no device of the pool runs a job); until then a
//! bounded wait times out with `ZE_RESULT_NOT_READY`. The same holds for a queue or list
//! destroyed under a waiter: the waiter learns it once the worker thread has ended. The
//! specification's DEVICE_LOST means the device's work has stopped, and callers rely on that
//! to release the memory the work used. The commands a lost device did not run complete as
//! no-ops, in order, each after its wait events (see `complete_as_noops`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use level_zero_sys::ze_result_t;

use crate::driver::Instance;
use crate::engine::{ArgValue, ExecError, KernelProgram, Launch};
use crate::event::Event;
use crate::fence::Fence;
use crate::ffi::{ZeResult, bail, fail};
use crate::handles::DeviceRef;
use crate::memory::{Hold, Span};
use crate::sync::{lock, now_ns};

/// A kernel argument as set by `zeKernelSetArgumentValue`.
#[derive(Clone)]
pub(crate) enum ArgSlot {
    Bytes(Vec<u8>),
    Local(usize),
    Image(crate::image::KernelImage),
    Sampler(level_zero_cpu_spirv::SamplerArg),
}

/// Work-group counts: given directly, or read from memory when the command runs.
#[derive(Clone)]
pub(crate) enum GroupCounts {
    Direct([u32; 3]),
    Indirect(Span),
}

/// One kernel launch, with everything captured at append time.
pub(crate) struct LaunchCmd {
    pub(crate) program: Arc<dyn KernelProgram>,
    pub(crate) kernel: String,
    pub(crate) args: Vec<ArgSlot>,
    pub(crate) group_size: [u32; 3],
    pub(crate) counts: GroupCounts,
    pub(crate) offset: [u32; 3],
    /// `zeKernelSetIndirectAccess` flags at append time: which kinds of memory the kernel may
    /// reach through pointers it was not given as arguments.
    pub(crate) indirect: level_zero_sys::ze_kernel_indirect_access_flags_t,
}

/// A 3-D region of a pitched buffer.
#[derive(Clone, Copy)]
pub(crate) struct Pitched {
    pub(crate) base: usize,
    pub(crate) origin: [usize; 3],
    pub(crate) pitch: usize,
    pub(crate) slice_pitch: usize,
}

impl Pitched {
    /// The address of row `y` of slice `z` (checked: `None` on overflow).
    fn row(&self, y: usize, z: usize) -> Option<usize> {
        self.base
            .checked_add((self.origin[2] + z).checked_mul(self.slice_pitch)?)?
            .checked_add((self.origin[1] + y).checked_mul(self.pitch)?)?
            .checked_add(self.origin[0])
    }

    fn offset(&self, y: usize, z: usize) -> usize {
        self.row(y, z).expect("inside the hull checked at append")
    }

    /// The bytes a region of `extent` (width in bytes, height, depth, none zero) touches: first
    /// and one-past-last address; `None` if that wraps around the address space.
    pub(crate) fn hull(&self, extent: [usize; 3]) -> Option<(usize, usize)> {
        let [w, h, d] = extent;
        let first = self.row(0, 0)?;
        let last_row = self.row(h - 1, d - 1)?;
        Some((first, last_row.checked_add(w)?))
    }
}

/// What a command does.
pub(crate) enum Op {
    Copy {
        dst: Span,
        src: Span,
    },
    /// `dst_hull`/`src_hull` cover every byte the region copy touches.
    CopyRegion {
        dst: Pitched,
        src: Pitched,
        extent: [usize; 3],
        dst_hull: Span,
        src_hull: Span,
    },
    Fill {
        dst: Span,
        pattern: Vec<u8>,
    },
    Timestamp {
        dst: Span,
    },
    Launch(Box<LaunchCmd>),
    /// An image copy (see `image`).
    Image(Box<crate::image::ImageCopy>),
    /// `zeCommandListAppendQueryKernelTimestamps`: each event's timestamps to its destination.
    QueryTimestamps(Vec<(Arc<Event>, Span)>),
    /// Barriers and memory-ordering commands: in-order execution already provides them.
    Nop,
    Signal(Arc<Event>),
    Reset(Arc<Event>),
    /// `zeCommandListAppendHostFunction`: a call of the application's function on the worker.
    HostFunction(HostCall),
}

/// An application's host function and its user data (`zeCommandListAppendHostFunction`).
#[derive(Clone, Copy)]
pub(crate) struct HostCall {
    pub(crate) function: unsafe extern "C" fn(*mut std::ffi::c_void),
    /// `pUserData`, as an address: the driver never dereferences it, only passes it back.
    pub(crate) user_data: usize,
}

/// One recorded command: wait for events, do `op`, signal an event.
pub(crate) struct Command {
    pub(crate) waits: Vec<Arc<Event>>,
    pub(crate) op: Op,
    pub(crate) signal: Option<Arc<Event>>,
}

/// Work small enough to run on the appending thread (see [`Worker::try_run_inline`]).
const INLINE_BYTES: usize = 256 << 10;
const INLINE_WORK_ITEMS: u64 = 8192;

impl Command {
    /// Whether the command may run on the thread that appends it, when its list is idle:
    /// it waits for no event and is small (a copy or fill of at most 256 KiB, a launch of at
    /// most 8192 work-items, a barrier, a signal, a reset, a timestamp).
    pub(crate) fn inline_ok(&self) -> bool {
        if !self.waits.is_empty() {
            return false;
        }
        match &self.op {
            Op::Copy { dst, .. } => dst.len <= INLINE_BYTES,
            Op::Fill { dst, .. } => dst.len <= INLINE_BYTES,
            // A host function runs asynchronously to API calls (the specification): never on
            // the appending thread, inside the append.
            Op::CopyRegion { .. } | Op::Image(_) | Op::QueryTimestamps(_) | Op::HostFunction(_) => {
                false
            }
            Op::Launch(l) => match l.counts {
                GroupCounts::Direct(c) => {
                    let items: u64 = (0..3)
                        .map(|d| u64::from(c[d]) * u64::from(l.group_size[d]))
                        .product();
                    items <= INLINE_WORK_ITEMS
                }
                GroupCounts::Indirect(_) => false,
            },
            Op::Timestamp { .. } | Op::Nop | Op::Signal(_) | Op::Reset(_) => true,
        }
    }
}

/// A failure of a submission.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) code: ze_result_t,
    pub(crate) message: String,
}

/// The code an engine error gives. An out-of-bounds access is the launch's arguments
/// addressing memory the kernel may not touch: `ZE_RESULT_ERROR_INVALID_ARGUMENT` (the device
/// is not lost: this driver catches the access before it happens).
fn exec_error(e: &ExecError) -> Failure {
    let code = match e {
        ExecError::OutOfBounds { .. }
        | ExecError::ReadOnly { .. }
        | ExecError::InvalidLaunch(_) => ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
        ExecError::Failed(_) => ze_result_t::ZE_RESULT_ERROR_UNKNOWN,
    };
    Failure {
        code,
        message: e.to_string(),
    }
}

/// Takes hold of a range before a command uses it: its allocation must still be there. A
/// range whose allocation was freed is counted in the instance's sanitizer report.
fn hold(instance: &Instance, span: &Span, what: &str) -> Result<Hold, Failure> {
    span.acquire(&instance.memory).map_err(|refusal| {
        let message = match refusal {
            crate::memory::Refusal::Freed(m) => {
                instance.sanitizer.count_freed_memory_access();
                m
            }
            crate::memory::Refusal::Access(m) => m,
        };
        Failure {
            code: ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
            message: format!("{what}: {message}"),
        }
    })
}

/// Runs one operation.
fn run_op(op: &Op, instance: &Instance, device: usize) -> Result<(), Failure> {
    match op {
        Op::Copy { dst, src } => {
            let _d = hold(instance, dst, "copy destination")?;
            let _s = hold(instance, src, "copy source")?;
            copy(dst.addr, src.addr, dst.len);
        }
        Op::CopyRegion {
            dst,
            src,
            extent,
            dst_hull,
            src_hull,
        } => {
            let _d = hold(instance, dst_hull, "region copy destination")?;
            let _s = hold(instance, src_hull, "region copy source")?;
            let [w, h, d] = *extent;
            for z in 0..d {
                for y in 0..h {
                    copy(dst.offset(y, z), src.offset(y, z), w);
                }
            }
        }
        Op::Fill { dst, pattern } => {
            let _d = hold(instance, dst, "fill destination")?;
            fill(dst.addr, dst.len, pattern);
        }
        Op::Timestamp { dst } => {
            let _d = hold(instance, dst, "timestamp destination")?;
            let t = now_ns();
            copy(dst.addr, (&raw const t) as usize, 8);
        }
        Op::Launch(l) => launch(l, instance, device)?,
        Op::Image(c) => c.run(instance)?,
        Op::QueryTimestamps(queries) => {
            for (i, (event, dst)) in queries.iter().enumerate() {
                let Some(t) = event.kernel_timestamp() else {
                    return Err(Failure {
                        code: ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                        message: format!(
                            "kernel timestamp query: event {i} was not signalled when the query ran"
                        ),
                    });
                };
                let _d = hold(instance, dst, "kernel timestamp destination")?;
                copy(dst.addr, (&raw const t) as usize, dst.len);
            }
        }
        Op::HostFunction(call) => {
            // SAFETY: the application's function of type `ze_host_function_callback_t`, given
            // its own user data, as `zeCommandListAppendHostFunction` asked; the specification
            // makes it the application's to keep both valid until the call ran.
            unsafe { (call.function)(call.user_data as *mut std::ffi::c_void) };
        }
        Op::Nop | Op::Signal(_) | Op::Reset(_) => {}
    }
    Ok(())
}

/// `len` bytes from `src` to `dst` (memmove semantics).
fn copy(dst: usize, src: usize, len: usize) {
    if len == 0 || dst == src {
        return;
    }
    let overlap = dst < src + len && src < dst + len;
    // Both ranges were checked against the allocation table (tracked memory, kept alive by
    // the caller), or are application host memory, which the application guarantees valid
    // for the copy (the documented limit of what a driver can check).
    // SAFETY: as just said; overlapping ranges go through memmove.
    unsafe {
        if overlap {
            std::ptr::copy(src as *const u8, dst as *mut u8, len);
        } else {
            std::ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, len);
        }
    }
}

/// Fills `len` bytes at `dst` with `pattern` repeated (a partial pattern at the end).
fn fill(dst: usize, len: usize, pattern: &[u8]) {
    if len == 0 {
        return;
    }
    if pattern.len() == 1 {
        // SAFETY: as in `copy`: a checked or application-guaranteed range.
        unsafe { std::ptr::write_bytes(dst as *mut u8, pattern[0], len) };
        return;
    }
    let first = len.min(pattern.len());
    copy(dst, pattern.as_ptr() as usize, first);
    // Double the filled prefix until done: few, large copies.
    let mut done = first;
    while done < len {
        let n = done.min(len - done);
        copy(dst + done, dst, n);
        done += n;
    }
}

fn launch(l: &LaunchCmd, instance: &Instance, device: usize) -> Result<(), Failure> {
    let group_count = match &l.counts {
        GroupCounts::Direct(c) => *c,
        GroupCounts::Indirect(span) => {
            let _r = hold(instance, span, "indirect group count")?;
            let mut c = [0u32; 3];
            copy((&raw mut c) as usize, span.addr, 12);
            c
        }
    };
    // Image arguments: their storage, held for the launch (an image destroyed since the
    // argument was set fails the launch, as freed memory does).
    let mut images = Vec::new();
    for (k, a) in l.args.iter().enumerate() {
        if let ArgSlot::Image(img) = a {
            match img.storage.upgrade().filter(|s| s.is_live()) {
                Some(s) => images.push(s),
                None => {
                    instance.sanitizer.count_freed_memory_access();
                    return Err(Failure {
                        code: ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                        message: format!(
                            "kernel `{}`: argument {k} is an image that was destroyed",
                            l.kernel
                        ),
                    });
                }
            }
        }
    }
    let mut next_image = images.iter();
    let args: Vec<ArgValue<'_>> = l
        .args
        .iter()
        .map(|a| match a {
            ArgSlot::Bytes(b) => ArgValue::Bytes(b),
            ArgSlot::Local(n) => ArgValue::Local(*n),
            ArgSlot::Image(img) => {
                let storage = next_image.next().expect("one storage per image argument");
                ArgValue::Image(level_zero_cpu_spirv::ImageArg {
                    base: storage.addr() as u64,
                    ..img.arg
                })
            }
            ArgSlot::Sampler(smp) => ArgValue::Sampler(*smp),
        })
        .collect();
    let memory = instance
        .memory
        .snapshot_for(instance, device, &l.args, l.indirect, &images);
    let mut out = std::io::stdout();
    l.program
        .launch(
            &Launch {
                kernel: &l.kernel,
                args: &args,
                group_size: l.group_size,
                group_count,
                global_offset: l.offset,
            },
            &memory,
            &mut out,
        )
        .map_err(|e| {
            if matches!(
                e,
                ExecError::OutOfBounds { .. } | ExecError::ReadOnly { .. }
            ) {
                instance.sanitizer.count_kernel_out_of_bounds();
            }
            exec_error(&e)
        })
}

/// Runs recorded commands in order, recording the first failure. `stop` says when to abandon
/// the rest (shutdown or device loss): it is checked before every command, and ends event
/// waits and the configured command delay early. Returns `false` if the commands were
/// abandoned.
fn run_commands(
    commands: &[Command],
    instance: &Instance,
    device: DeviceRef,
    stop: &dyn Fn() -> bool,
    failure: &mut Option<Failure>,
    release: &mut dyn FnMut(),
) -> Result<(), usize> {
    if commands.is_empty() {
        release();
    }
    for (i, c) in commands.iter().enumerate() {
        for e in &c.waits {
            let ok = instance.signal.wait_polling(u64::MAX, e.is_ipc(), || {
                (e.is_signaled() || stop()).then_some(())
            });
            if ok.is_none() || stop() {
                return Err(i);
            }
        }
        if let Some(delay) = instance.config.command_delay
            && !delay.is_zero()
        {
            // Fault injection: sleep before the command, woken early by `stop`. (`u64::MAX`
            // would mean no limit: a longer delay is clamped just below it.)
            let ns = u64::try_from(delay.as_nanos()).map_or(u64::MAX - 1, |n| n.min(u64::MAX - 1));
            let _ = instance.signal.wait(ns, || stop().then_some(()));
        }
        if stop() {
            return Err(i);
        }
        let start = now_ns();
        if failure.is_none()
            && let Err(f) = run_op(&c.op, instance, device.index)
        {
            *failure = Some(f);
        }
        let end = now_ns();
        if i + 1 == commands.len() {
            release();
        }
        let error = failure.as_ref().map(|f| f.code);
        let message = match (&c.op, &c.signal, failure.as_ref()) {
            (Op::Signal(_), _, Some(f)) | (_, Some(_), Some(f)) => Some(Arc::from(&*f.message)),
            _ => None,
        };
        match &c.op {
            Op::Signal(e) => e.signal(error, message.as_ref(), (start, end)),
            Op::Reset(e) => e.reset(),
            _ => {}
        }
        if let Some(e) = &c.signal {
            e.signal(error, message.as_ref(), (start, end));
        }
    }
    Ok(())
}

/// The commands a lost device did not run complete as no-ops, in order: each waits for its
/// wait events (or the instance's shutdown), touches nothing, and signals its events with
/// `ZE_RESULT_ERROR_DEVICE_LOST`. Waits on them (by the host, or by commands of other devices)
/// therefore end, and in the order the program set: an event of a command that waited for
/// another device's work is signalled only after that work. Runs after the job stopped
/// counting as work that may touch memory.
fn complete_as_noops(
    lists: &[Arc<[Command]>],
    from: At,
    instance: &Instance,
    shutdown: &dyn Fn() -> bool,
) -> Option<At> {
    let lost = Some(ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST);
    let (l0, c0) = from;
    for (l, list) in lists.iter().enumerate().skip(l0) {
        let first = if l == l0 { c0 } else { 0 };
        for (c, cmd) in list.iter().enumerate().skip(first) {
            for e in &cmd.waits {
                let ok = instance.signal.wait_polling(u64::MAX, e.is_ipc(), || {
                    (e.is_signaled() || shutdown()).then_some(())
                });
                if ok.is_none() || shutdown() {
                    return Some((l, c));
                }
            }
            let t = now_ns();
            match &cmd.op {
                Op::Signal(e) => e.signal(lost, None, (t, t)),
                Op::Reset(e) => e.reset(),
                _ => {}
            }
            if let Some(e) = &cmd.signal {
                e.signal(lost, None, (t, t));
            }
        }
    }
    None
}

/// A position in a job's lists: (list, command).
type At = (usize, usize);

/// Commands of a lost device still to complete as no-ops: a job's lists, from a position.
type Owed = (Vec<Arc<[Command]>>, At);

/// What a destroyed queue or list of a lost device still owes: its unrun commands, to
/// complete as no-ops in order (their events signalled with the loss, each after its wait
/// events), from a thread of their own. Dropping them instead would leave their events
/// unsignalled for ever, and commands of other devices (or the host) waiting for them hung:
/// a lost device's work never touches memory, but its events still order the program.
fn complete_detached(work: Vec<Owed>, instance: &'static Instance) {
    if work.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("l0cpu-lost-noops".into())
        .spawn(move || {
            for (lists, from) in &work {
                complete_as_noops(lists, *from, instance, &|| false);
            }
        });
    if let Err(e) = spawned {
        log::error!(
            "level-zero-cpu: no thread to complete a destroyed lost device's work as no-ops ({e}): its events stay unsignalled"
        );
    }
}

/// A regular list's mark of one execution in flight: counted while it lives (see
/// [`Job::in_use`]); `zeCommandListDestroy` and `zeCommandListReset` refuse a list with any.
pub(crate) struct InUse(Arc<AtomicU32>);

impl InUse {
    pub(crate) fn new(count: &Arc<AtomicU32>) -> InUse {
        count.fetch_add(1, Ordering::AcqRel);
        InUse(count.clone())
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One unit of submitted work.
pub(crate) struct Job {
    pub(crate) lists: Vec<Arc<[Command]>>,
    /// Per entry of `lists`, the in-use mark of the command list it came from: released once
    /// the list's last command has run — before that command's events are signalled, so an
    /// application that waited for them (or for the fence, or the queue) may destroy the list.
    pub(crate) in_use: Vec<Option<InUse>>,
    pub(crate) fence: Option<Arc<Fence>>,
    /// This submission is the one that loses the device (fault injection).
    pub(crate) lose_device: bool,
}

#[derive(Default)]
struct Progress {
    submitted: u64,
    completed: u64,
    error: Option<Failure>,
    /// Set by [`Worker::shutdown`] (or when the thread ends): no job is accepted any more.
    shutdown: bool,
    /// Set when the thread has ended, after the jobs it left were dropped: none of its jobs
    /// touches memory any more.
    exited: bool,
}

struct Shared {
    instance: &'static Instance,
    device: DeviceRef,
    jobs: Mutex<VecDeque<(u64, Job)>>,
    jobs_cv: Condvar,
    /// Changed only under the instance's signal.
    progress: Mutex<Progress>,
    /// A lost device's job whose no-op completion the destruction interrupted: where it
    /// stopped (completed by `Exit`).
    leftover: Mutex<Option<Owed>>,
}

/// A worker thread running jobs in submission order.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Worker {
    pub(crate) fn start(device: DeviceRef, name: &str) -> ZeResult<Worker> {
        let shared = Arc::new(Shared {
            instance: device.instance,
            device,
            jobs: Mutex::new(VecDeque::new()),
            jobs_cv: Condvar::new(),
            progress: Mutex::new(Progress::default()),
            leftover: Mutex::new(None),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || worker_loop(&s))
            .map_err(|e| {
                fail(
                    ze_result_t::ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY,
                    format!("no worker thread: {e}"),
                )
            })?;
        Ok(Worker {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a job; returns its sequence number. `ZE_RESULT_ERROR_DEVICE_LOST` if the device
    /// is lost; `ZE_RESULT_ERROR_INVALID_ARGUMENT` if the worker was shut down (its queue or
    /// list destroyed by another thread meanwhile).
    pub(crate) fn submit(&self, job: Job) -> ZeResult<u64> {
        let s = &self.shared;
        // The queue lock is held from the acceptance check to the push: the thread, which
        // drops what is queued when it ends, cannot end in between (lock order: jobs, then
        // the instance's signal, then progress).
        let mut jobs = lock(&s.jobs);
        let seq = s.instance.signal.notify(|| {
            let mut p = lock(&s.progress);
            if p.shutdown {
                return Err(fail(
                    ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "the queue or command list was destroyed",
                ));
            }
            s.device.check_alive()?;
            p.submitted += 1;
            s.device.accept_job();
            Ok(p.submitted)
        })?;
        jobs.push_back((seq, job));
        drop(jobs);
        s.jobs_cv.notify_one();
        Ok(seq)
    }

    /// Runs `job` on the calling thread when the worker is idle (nothing queued, everything
    /// submitted completed) — what an asynchronous queue is allowed to do, and far cheaper
    /// than a hand-off to the worker for small work. Gives the job back otherwise.
    ///
    /// Never with a configured command delay: the delay exists to make execution
    /// asynchronous.
    pub(crate) fn try_run_inline(&self, mut job: Job) -> Result<ZeResult<u64>, Job> {
        let s = &self.shared;
        if job.lose_device || job.fence.is_some() || s.instance.config.command_delay.is_some() {
            return Err(job);
        }
        let jobs = lock(&s.jobs);
        if !jobs.is_empty() {
            return Err(job);
        }
        // Taking the sequence number while the queue is locked: the worker cannot start
        // anything before this job, and later submissions queue behind it.
        let seq = s.instance.signal.notify(|| {
            let mut p = lock(&s.progress);
            if p.completed != p.submitted || p.shutdown {
                return Ok(None);
            }
            s.device.check_alive()?;
            p.submitted += 1;
            s.device.accept_job();
            Ok(Some(p.submitted))
        });
        let seq = match seq {
            Err(e) => return Ok(Err(e)),
            Ok(None) => return Err(job),
            Ok(Some(seq)) => seq,
        };
        // Keep later submissions of this list (same thread, so only after we return) and the
        // worker out until the job is done: the queue lock stays held.
        let keep_order = jobs;
        run_job(s, seq, &mut job);
        drop(keep_order);
        Ok(Ok(seq))
    }

    /// Waits until job `seq` (or, with `None`, everything submitted so far) has completed.
    /// Returns the pending execution error (once), `ZE_RESULT_ERROR_DEVICE_LOST`, or
    /// `ZE_RESULT_NOT_READY` on timeout.
    ///
    /// No failure is returned while a job may still touch memory: a lost device is reported
    /// once no job of the device is in flight, a destroyed queue or list once its thread has
    /// ended (see the module documentation).
    pub(crate) fn synchronize(&self, seq: Option<u64>, timeout: u64) -> ZeResult {
        let s = &self.shared;
        let target = seq.unwrap_or_else(|| lock(&s.progress).submitted);
        let outcome = s.instance.signal.wait(timeout, || {
            if s.device.is_lost() {
                // Wait for the device's work to stop (it does so at its next command).
                return s.device.lost_and_quiescent().then_some(Err(false));
            }
            let mut p = lock(&s.progress);
            if p.completed < target && p.shutdown {
                // Destroyed while this thread waited: the work will never complete. Reported
                // once the thread has ended, so that nothing it ran still touches memory.
                return p.exited.then_some(Err(true));
            }
            (p.completed >= target).then(|| Ok(p.error.take()))
        });
        match outcome {
            None => Err(ze_result_t::ZE_RESULT_NOT_READY),
            Some(Err(true)) => bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "the queue or command list was destroyed while work was pending"
            ),
            Some(Err(false)) => s.device.check_alive(),
            Some(Ok(None)) => Ok(()),
            Some(Ok(Some(f))) => Err(fail(f.code, f.message)),
        }
    }

    /// Stops the thread: the job running stops before its next command (a wait it is blocked
    /// in is abandoned; the command running finishes); jobs not started are dropped. Returns
    /// once the thread has ended.
    pub(crate) fn shutdown(&self) {
        let s = &self.shared;
        s.instance
            .signal
            .notify(|| lock(&s.progress).shutdown = true);
        {
            let _jobs = lock(&s.jobs);
            s.jobs_cv.notify_all();
        }
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What a worker thread does when it ends, however it ends: it accepts no more jobs, drops
/// those it left (never started, so never counted), and says it has ended.
struct Exit<'a>(&'a Shared);

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        let s = self.0;
        let mut jobs = lock(&s.jobs);
        let left = std::mem::take(&mut *jobs);
        s.instance.signal.notify(|| {
            let mut p = lock(&s.progress);
            p.shutdown = true;
            p.exited = true;
            // The jobs left behind never run.
            for _ in &left {
                s.device.retire_job();
            }
        });
        drop(jobs);
        // A lost device's work left behind (the rest of an interrupted no-op completion,
        // then the jobs never started) still signals its events, in order.
        if s.device.is_lost() {
            let mut work: Vec<(Vec<Arc<[Command]>>, At)> =
                lock(&s.leftover).take().into_iter().collect();
            work.extend(left.into_iter().map(|(_, job)| (job.lists, (0, 0))));
            complete_detached(work, s.instance);
        } else {
            drop(left);
        }
    }
}

fn worker_loop(s: &Shared) {
    let _exit = Exit(s);
    loop {
        let next = {
            let mut jobs = lock(&s.jobs);
            loop {
                if lock(&s.progress).shutdown {
                    return;
                }
                if let Some(j) = jobs.pop_front() {
                    break j;
                }
                jobs = s
                    .jobs_cv
                    .wait(jobs)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        let (seq, mut job) = next;
        if !run_job(s, seq, &mut job) {
            return;
        }
    }
}

/// Runs one job (counted on its device when it was accepted) and records its completion;
/// the job is uncounted in the same step. Returns `false` when the worker must stop (the
/// queue or list was destroyed while the job ran: the rest of it was abandoned).
fn run_job(s: &Shared, seq: u64, job: &mut Job) -> bool {
    let mut in_use = std::mem::take(&mut job.in_use);
    if job.lose_device {
        s.device.mark_lost();
    }
    let mut failure = None;
    // Where the job stopped: (list, command) of the first command not run.
    let mut stopped = Some((0, 0));
    let running = s.instance.signal.notify(|| s.device.begin_job());
    if running {
        stopped = None;
        let stop = || lock(&s.progress).shutdown || s.device.is_lost();
        let body = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for (l, list) in job.lists.iter().enumerate() {
                let mut release = || drop(in_use.get_mut(l).and_then(Option::take));
                if let Err(c) = run_commands(
                    list,
                    s.instance,
                    s.device,
                    &stop,
                    &mut failure,
                    &mut release,
                ) {
                    stopped = Some((l, c));
                    break;
                }
            }
        }));
        if body.is_err() {
            failure = Some(Failure {
                code: ze_result_t::ZE_RESULT_ERROR_UNKNOWN,
                message: "internal error in level-zero-cpu while executing commands".into(),
            });
        }
        if let Some(fence) = job.fence.as_ref().filter(|_| stopped.is_none()) {
            fence.signal(
                failure.as_ref().map(|f| f.code),
                failure.as_ref().map(|f| Arc::from(&*f.message)).as_ref(),
            );
        }
    }
    // Marks of lists not run to their end go now: the job no longer runs their commands.
    drop(in_use);
    let finished = stopped.is_none();
    let go_on = s.instance.signal.notify(|| {
        if running {
            s.device.end_job();
        }
        // Over: it runs no further command (what a lost device did not run completes as
        // no-ops below, touching nothing).
        s.device.retire_job();
        let mut p = lock(&s.progress);
        if !finished && p.shutdown {
            // Destroyed while this job ran: it never completes.
            return false;
        }
        p.completed = seq;
        if let Some(f) = failure {
            s.device.record_failure(f.code, &f.message);
            p.error.get_or_insert(f);
        }
        true
    });
    if !go_on
        && let Some(at) = stopped
        && s.device.is_lost()
    {
        // Destroyed while the job ran: the rest completes off this worker (see `Exit`).
        *lock(&s.leftover) = Some((job.lists.clone(), at));
    } else if go_on
        && let Some((l, c)) = stopped
        && s.device.is_lost()
    {
        // Nothing of the job touches memory any more (it no longer counts as work in flight,
        // so the loss is reported); what it did not run completes as no-ops, in order.
        if let Some(at) = complete_as_noops(&job.lists, (l, c), s.instance, &|| {
            lock(&s.progress).shutdown
        }) {
            // Destroyed meanwhile: the rest completes off this worker (see `Exit`).
            *lock(&s.leftover) = Some((job.lists.clone(), at));
        }
    }
    go_on
}

/// Checks a range for an append: `ZE_RESULT_ERROR_INVALID_NULL_POINTER` for null,
/// `ZE_RESULT_ERROR_INVALID_SIZE` for an overrun.
pub(crate) fn check_append(
    instance: &Instance,
    ptr: usize,
    len: usize,
    what: &str,
) -> ZeResult<Span> {
    if ptr == 0 {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "{what}: null pointer");
    }
    instance.memory.check(ptr, len, what)
}
