//! Command lists, regular and immediate, and every append.
//!
//! A regular list records commands until it is closed; executing it submits the recorded
//! commands (shared, immutable) to a queue. An immediate list has its own worker: each append
//! is submitted at once (one submission per append). Every pointer range is checked against
//! the allocation table when appended: a range that starts inside an allocation and overruns
//! it is `ZE_RESULT_ERROR_INVALID_SIZE` and nothing is recorded or touched.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::device::MAX_FILL_PATTERN;
use crate::driver::Instance;
use crate::event::{CounterTracking, CounterUse, Event, sync_event};
use crate::exec::{Command, GroupCounts, HostCall, InUse, Job, Op, Pitched, Worker, check_append};
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::memory::Span;
use crate::module::Kernel;
use crate::queue::check_queue_desc;
use crate::sync::lock;

/// Every `ze_command_list_flag_t` bit of specification 1.17 (`ZE_COMMAND_LIST_FLAG_COPY_OFFLOAD_HINT`
/// is `ZE_BIT(5)`).
const COMMAND_LIST_FLAGS: u32 = 0x3f;

struct Regular {
    commands: Vec<Command>,
    /// Set by `zeCommandListClose`: the commands, frozen.
    closed: Option<Arc<[Command]>>,
}

enum Kind {
    Regular(Mutex<Regular>),
    Immediate { worker: Worker, synchronous: bool },
}

/// A command list.
pub(crate) struct CommandList {
    pub(crate) instance: &'static Instance,
    pub(crate) context: Arc<Context>,
    pub(crate) device: DeviceRef,
    pub(crate) ordinal: u32,
    kind: Kind,
    /// Executions of this (regular) list in flight: see [`InUse`].
    executions: Arc<AtomicU32>,
    child: Child,
    /// Its graph capture (see `graph`).
    pub(crate) capture: crate::graph::CaptureSlot,
    /// What the list was created with (the `Get*` queries, in-order rules).
    desc: ListDesc,
    /// A regular list's counter-based events (see `crate::event`).
    counters: Mutex<CounterTracking>,
}

impl CommandList {
    /// Checks that this list may run on `target` (a queue, or an immediate list: `what`) of
    /// `device` whose group is `ordinal`: the same device, and the same engine type —
    /// compute, or copy-only of any copy group. Intel's driver checks exactly this (not the
    /// ordinal the specification asks for), and Unified Runtime relies on it: it records
    /// copies once and runs them on the main or a link copy engine.
    pub(crate) fn check_runs_on(
        &self,
        instance: &Instance,
        device: &DeviceRef,
        ordinal: u32,
        what: &str,
    ) -> ZeResult {
        if !std::ptr::eq(self.instance, instance) || self.device.index != device.index {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "a command list of another device"
            );
        }
        let computes = crate::device::group_computes(&self.device, self.ordinal);
        if computes != crate::device::group_computes(device, ordinal) {
            bail!(
                ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE,
                "a command list of group {} ({}) on {what} of group {ordinal} ({})",
                self.ordinal,
                if computes { "compute" } else { "copy-only" },
                if computes { "copy-only" } else { "compute" },
            );
        }
        Ok(())
    }

    /// The frozen commands of a closed regular list, for execution.
    pub(crate) fn recorded(&self) -> ZeResult<Arc<[Command]>> {
        match &self.kind {
            Kind::Immediate { .. } => {
                bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "an immediate command list cannot be executed on a queue"
                )
            }
            Kind::Regular(r) => match &lock(r).closed {
                Some(c) => Ok(c.clone()),
                None => bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "the command list is not closed"
                ),
            },
        }
    }

    /// A mark of one more execution in flight, for the job that runs this list.
    pub(crate) fn mark_in_use(&self) -> InUse {
        InUse::new(&self.executions)
    }

    /// `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while an execution of the list has not run its
    /// last command.
    ///
    /// Not on a lost device: its executions that have not run their last command never run
    /// another (a job stops at the loss, and one not started never starts), and a queue
    /// reports the loss as soon as no job of the device runs, possibly before the jobs it
    /// refused have dropped their marks. The handle may then go (the jobs hold what they
    /// use); refusing would make the application's clean-up after a loss fail at random.
    fn check_idle(&self, what: &str) -> ZeResult {
        let n = self.executions.load(Ordering::Acquire);
        if n != 0 && !self.device.is_lost() {
            bail!(
                ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
                "{what}: {n} executions of the command list are still in flight"
            );
        }
        Ok(())
    }

    /// Records a command (regular list) or submits it (immediate list).
    fn append(&self, command: Command) -> ZeResult {
        match &self.kind {
            Kind::Regular(r) => {
                let mut r = lock(r);
                if r.closed.is_some() {
                    bail!(
                        ZE_RESULT_ERROR_INVALID_ARGUMENT,
                        "the command list is closed; reset it first"
                    );
                }
                r.commands.push(command);
                Ok(())
            }
            Kind::Immediate {
                worker,
                synchronous,
            } => {
                self.device.check_alive()?;
                // While capturing a graph, recorded instead (see `graph`).
                let Some(command) = crate::graph::divert(self, command)? else {
                    return Ok(());
                };
                let lose_device = self.device.count_submission();
                let inline = command.inline_ok();
                let mut job = Job {
                    lists: vec![Arc::from(vec![command])],
                    in_use: Vec::new(),
                    fence: None,
                    lose_device,
                };
                if inline {
                    // Small work on an idle list runs right here (see Worker::try_run_inline).
                    match worker.try_run_inline(job) {
                        Ok(done) => return done.map(drop),
                        Err(back) => job = back,
                    }
                }
                let seq = worker.submit(job)?;
                if *synchronous {
                    worker.synchronize(Some(seq), u64::MAX)?;
                }
                Ok(())
            }
        }
    }

    /// `Some(synchronous)` for an immediate list, `None` for a regular one.
    pub(crate) fn synchronous(&self) -> Option<bool> {
        match &self.kind {
            Kind::Immediate { synchronous, .. } => Some(*synchronous),
            Kind::Regular(_) => None,
        }
    }

    /// Submits commands of several lists as one job of an immediate list: what
    /// `zeCommandListImmediateAppendCommandListsExp` and `zeCommandListAppendGraphExt` do.
    pub(crate) fn submit_immediate(
        &self,
        lists: Vec<Arc<[Command]>>,
        in_use: Vec<Option<InUse>>,
    ) -> ZeResult {
        let Kind::Immediate {
            worker,
            synchronous,
        } = &self.kind
        else {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "not an immediate command list"
            );
        };
        self.device.check_alive()?;
        let lose_device = self.device.count_submission();
        let seq = worker.submit(Job {
            lists,
            in_use,
            fence: None,
            lose_device,
        })?;
        if *synchronous {
            worker.synchronize(Some(seq), u64::MAX)?;
        }
        Ok(())
    }

    /// Builds and appends a command with its signal and wait events.
    pub(crate) fn push(
        &self,
        op: Op,
        signal: ze_event_handle_t,
        num_waits: u32,
        waits: *mut ze_event_handle_t,
    ) -> ZeResult {
        let (signal, armed) = self.signal_event(signal)?;
        let waits = self.waits(num_waits, waits)?;
        self.append(Command { waits, op, signal })?;
        self.counter_use().arm(armed);
        Ok(())
    }

    fn events(&self, count: u32, raws: *mut ze_event_handle_t) -> ZeResult<Vec<Arc<Event>>> {
        // SAFETY: the caller's array of `count` handles.
        let raws = unsafe { ffi::slice(raws.cast_const(), count)? };
        raws.iter().map(|&h| sync_event(h, self.instance)).collect()
    }

    fn check(&self, ptr: *const c_void, len: usize, what: &str) -> ZeResult<Span> {
        check_append(self.instance, ptr as usize, len, what)
    }
}

fn create(
    hContext: ze_context_handle_t,
    hDevice: ze_device_handle_t,
    ordinal: u32,
    immediate: Option<bool>,
    desc: ListDesc,
    phCommandList: *mut ze_command_list_handle_t,
) -> ZeResult {
    let context: Arc<Context> = handles::get(hContext)?;
    let device = context.device(hDevice)?;
    if phCommandList.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phCommandList");
    }
    crate::device::queue_group(&device, ordinal)?;
    let kind = match immediate {
        None => Kind::Regular(Mutex::new(Regular {
            commands: Vec::new(),
            closed: None,
        })),
        Some(synchronous) => Kind::Immediate {
            worker: Worker::start(device, &format!("l0cpu-list-d{}", device.index))?,
            synchronous,
        },
    };
    let instance = context.instance;
    let handle = handles::reserve_for::<Arc<CommandList>>();
    let list = Arc::new(CommandList {
        instance,
        child: Child::of(&context),
        context,
        device,
        ordinal,
        kind,
        executions: Arc::new(AtomicU32::new(0)),
        capture: Default::default(),
        desc,
        counters: Mutex::new(CounterTracking::default()),
    });
    handles::register(handle, Object::CommandList(list));
    instance.live.command_lists.fetch_add(1, Ordering::Relaxed);
    // SAFETY: checked non-null; the caller's output.
    unsafe { ffi::write(phCommandList, handles::raw(handle)) }
}

fn launch(
    hCommandList: ze_command_list_handle_t,
    hKernel: ze_kernel_handle_t,
    counts: GroupCounts,
    hSignalEvent: ze_event_handle_t,
    numWaitEvents: u32,
    phWaitEvents: *mut ze_event_handle_t,
) -> ZeResult {
    let list: Arc<CommandList> = handles::get(hCommandList)?;
    let kernel: Arc<Kernel> = handles::get(hKernel)?;
    if !crate::device::group_computes(&list.device, list.ordinal) {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "kernels cannot be launched on a list of command queue group {}: a copy-only group",
            list.ordinal
        );
    }
    if !std::ptr::eq(kernel.instance, list.instance) {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "the kernel belongs to another driver"
        );
    }
    let cmd = kernel.launch_command(counts)?;
    list.push(
        Op::Launch(Box::new(cmd)),
        hSignalEvent,
        numWaitEvents,
        phWaitEvents,
    )
}

entry_points! {
    fn zeCommandListCreate(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        desc: *const ze_command_list_desc_t,
        phCommandList: *mut ze_command_list_handle_t,
    ) {
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract). No extension of command lists is
        // implemented (mutable command lists among them).
        unsafe { crate::chain::input(&desc, &[])? };
        // Specification 1.17: RELAXED_ORDERING 1, MAXIMIZE_THROUGHPUT 2, EXPLICIT_ONLY 4,
        // IN_ORDER 8, EXP_CLONEABLE 16, COPY_OFFLOAD_HINT 32 (newer than the bindings' 1.12).
        // Every list runs in order on one worker, so each is honoured as it is.
        if desc.flags > COMMAND_LIST_FLAGS {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "command list flags {:#x}", desc.flags);
        }
        crate::emulation::check_list_flags(handles::get::<Arc<Context>, _>(hContext)?.instance, desc.flags)?;
        let d = ListDesc::regular(desc.flags);
        create(hContext, hDevice, desc.commandQueueGroupOrdinal, None, d, phCommandList)
    }

    fn zeCommandListCreateImmediate(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        altdesc: *const ze_command_queue_desc_t,
        phCommandList: *mut ze_command_list_handle_t,
    ) {
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(altdesc)? };
        // SAFETY: the descriptor's chain (caller's contract).
        let (ordinal, synchronous) = unsafe { check_queue_desc(&desc)? };
        crate::emulation::check_queue_flags(handles::get::<Arc<Context>, _>(hContext)?.instance, desc.flags)?;
        crate::device::check_queue(&handles::get(hDevice)?, ordinal, desc.index)?;
        create(hContext, hDevice, ordinal, Some(synchronous), ListDesc::immediate(&desc), phCommandList)
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while an execution of the list (on
    /// a queue, or appended to an immediate list) has not run its last command.
    fn zeCommandListDestroy(hCommandList: ze_command_list_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.check_idle("zeCommandListDestroy")?;
        let list: Arc<CommandList> = handles::take(hCommandList)?;
        crate::graph::list_destroyed(&list);
        if let Kind::Immediate { worker, .. } = &list.kind {
            worker.shutdown();
        }
        list.instance.live.command_lists.fetch_sub(1, Ordering::Relaxed);
        list.child.release();
        Ok(())
    }

    fn zeCommandListClose(hCommandList: ze_command_list_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        if let Kind::Regular(r) = &list.kind {
            let mut r = lock(r);
            if r.closed.is_none() {
                let commands = std::mem::take(&mut r.commands);
                r.closed = Some(Arc::from(commands));
            }
        }
        Ok(())
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while an execution of the list is
    /// in flight, as `zeCommandListDestroy`.
    fn zeCommandListReset(hCommandList: ze_command_list_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.check_idle("zeCommandListReset")?;
        match &list.kind {
            Kind::Regular(r) => {
                let mut r = lock(r);
                r.commands.clear();
                r.closed = None;
                lock(&list.counters).clear();
            }
            Kind::Immediate { worker, .. } => worker.synchronize(None, u64::MAX)?,
        }
        Ok(())
    }

    /// Immediate lists only. `timeout` in nanoseconds: `u64::MAX` waits forever, 0 polls.
    fn zeCommandListHostSynchronize(hCommandList: ze_command_list_handle_t, timeout: u64) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        match &list.kind {
            Kind::Immediate { worker, .. } => {
                crate::graph::refuse_host_sync(&list)?;
                worker.synchronize(None, timeout)
            }
            Kind::Regular(_) => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "not an immediate command list"),
        }
    }

    fn zeCommandListGetDeviceHandle(hCommandList: ze_command_list_handle_t, phDevice: *mut ze_device_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(phDevice, list.device.raw()) }
    }

    fn zeCommandListGetContextHandle(hCommandList: ze_command_list_handle_t, phContext: *mut ze_context_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(phContext, handles::raw(list.context.handle)) }
    }

    fn zeCommandListGetOrdinal(hCommandList: ze_command_list_handle_t, pOrdinal: *mut u32) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pOrdinal, list.ordinal) }
    }

    fn zeCommandListIsImmediate(hCommandList: ze_command_list_handle_t, pIsImmediate: *mut ze_bool_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let immediate = matches!(list.kind, Kind::Immediate { .. });
        // SAFETY: the caller's output.
        unsafe { ffi::write(pIsImmediate, immediate as ze_bool_t) }
    }

    /// Any direction: host, device (this one or a peer), shared, or application host memory.
    fn zeCommandListAppendMemoryCopy(
        hCommandList: ze_command_list_handle_t,
        dstptr: *mut c_void,
        srcptr: *const c_void,
        size: usize,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let dst = list.check(dstptr, size, "copy destination")?;
        let src = list.check(srcptr, size, "copy source")?;
        list.push(Op::Copy { dst, src }, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// A copy whose source was allocated in another context of this driver (all of its
    /// memory is host memory, so any context's allocation is reachable).
    fn zeCommandListAppendMemoryCopyFromContext(
        hCommandList: ze_command_list_handle_t,
        dstptr: *mut c_void,
        hContextSrc: ze_context_handle_t,
        srcptr: *const c_void,
        size: usize,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let source: Arc<Context> = handles::get(hContextSrc)?;
        if !std::ptr::eq(source.instance, list.instance) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the source context belongs to another driver");
        }
        let dst = list.check(dstptr, size, "copy destination")?;
        let src = list.check(srcptr, size, "copy source")?;
        if let Some(a) = list.instance.memory.find(srcptr as usize)
            && a.context != source.handle
        {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the source {srcptr:?} is not an allocation of hContextSrc");
        }
        list.push(Op::Copy { dst, src }, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// Writes, when the command runs, each event's `ze_kernel_timestamp_result_t` to `dstptr`
    /// (packed) or to `dstptr + pOffsets[i]`. The events must come from pools with
    /// `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP`, and be signalled when the command runs (else the
    /// submission fails with `ZE_RESULT_ERROR_INVALID_ARGUMENT`).
    fn zeCommandListAppendQueryKernelTimestamps(
        hCommandList: ze_command_list_handle_t,
        numEvents: u32,
        phEvents: *mut ze_event_handle_t,
        dstptr: *mut c_void,
        pOffsets: *const usize,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        if phEvents.is_null() || dstptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEvents or dstptr");
        }
        let events = list.events(numEvents, phEvents)?;
        // SAFETY: a non-null offsets array has `numEvents` entries (caller's contract).
        let offsets = if pOffsets.is_null() { None } else { Some(unsafe { ffi::slice(pOffsets, numEvents)? }) };
        let size = std::mem::size_of::<ze_kernel_timestamp_result_t>();
        // Destinations in an allocation stay in it: one just past its end would otherwise pass
        // for the application's own host memory.
        let base = list.instance.memory.find(dstptr as usize);
        let mut queries = Vec::with_capacity(events.len());
        for (i, e) in events.into_iter().enumerate() {
            if !e.has_kernel_timestamps() {
                bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "event {i}: its pool was not created with ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP");
            }
            let offset = offsets.map_or(i * size, |o| o[i]);
            let Some(addr) = (dstptr as usize).checked_add(offset) else {
                bail!(ZE_RESULT_ERROR_INVALID_SIZE, "offset {offset} of event {i} wraps around");
            };
            if let Some(a) = &base
                && (addr < a.base() || addr.saturating_add(size) > a.base() + a.size)
            {
                bail!(ZE_RESULT_ERROR_INVALID_SIZE, "the result of event {i} at offset {offset} lies outside the destination allocation of {} bytes", a.size);
            }
            let dst = list.check(addr as *const c_void, size, "kernel timestamp destination")?;
            queries.push((e, dst));
        }
        list.push(Op::QueryTimestamps(queries), hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// Runs closed regular lists on an immediate list, as one submission, after the wait
    /// events; the signal event is signalled once all of them ran.
    fn zeCommandListImmediateAppendCommandListsExp(
        hCommandListImmediate: ze_command_list_handle_t,
        numCommandLists: u32,
        phCommandLists: *mut ze_command_list_handle_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandListImmediate)?;
        if !matches!(list.kind, Kind::Immediate { .. }) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "not an immediate command list");
        }
        if phCommandLists.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phCommandLists");
        }
        // SAFETY: the caller's array of `numCommandLists` handles.
        let raws = unsafe { ffi::slice(phCommandLists.cast_const(), numCommandLists)? };
        let waits = list.waits(numWaitEvents, phWaitEvents)?;
        let (signal, armed) = list.signal_event(hSignalEvent)?;
        let mut lists: Vec<Arc<[Command]>> = vec![Arc::from(vec![Command { waits, op: Op::Nop, signal: None }])];
        let mut in_use = vec![None];
        for &raw in raws {
            let l: Arc<CommandList> = handles::get(raw)?;
            l.check_runs_on(list.instance, &list.device, list.ordinal, "an immediate list")?;
            lists.push(l.recorded()?);
            in_use.push(Some(l.mark_in_use()));
        }
        lists.push(Arc::from(vec![Command { waits: Vec::new(), op: Op::Nop, signal }]));
        let waits = lists.iter().flat_map(|l| l.iter()).flat_map(|c| c.waits.iter());
        crate::graph::refuse_append(&list, waits, "appending command lists (ZE_RECORD_REPLAY_GRAPH_EXT_FLAG_APPEND_COMMANDLIST is not supported)")?;
        for &raw in raws {
            handles::get::<Arc<CommandList>, _>(raw)?.submit_counters();
        }
        list.submit_immediate(lists, in_use)?;
        list.counter_use().arm(armed);
        Ok(())
    }

    /// Regions of equal extent; `srcRegion.width` is in bytes. A depth of 0 is a 2-D copy (the
    /// specification's "set this to 0 for 2D copy"), like a depth of 1; slice pitches are then
    /// unused (0 is allowed). A width or height of 0 copies nothing (the command still orders
    /// and signals, as a zero-size `zeCommandListAppendMemoryCopy` does); the pointers must
    /// still be non-null.
    fn zeCommandListAppendMemoryCopyRegion(
        hCommandList: ze_command_list_handle_t,
        dstptr: *mut c_void,
        dstRegion: *const ze_copy_region_t,
        dstPitch: u32,
        dstSlicePitch: u32,
        srcptr: *const c_void,
        srcRegion: *const ze_copy_region_t,
        srcPitch: u32,
        srcSlicePitch: u32,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        if dstptr.is_null() || srcptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pointer");
        }
        // SAFETY: non-null regions are the caller's.
        let (dr, sr) = unsafe { (ffi::read(dstRegion)?, ffi::read(srcRegion)?) };
        // The specification: a depth of 0 is a 2-D copy, the same as a depth of 1.
        let slices = |r: &ze_copy_region_t| r.depth.max(1);
        if (dr.width, dr.height, slices(&dr)) != (sr.width, sr.height, slices(&sr)) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "source and destination regions differ in size");
        }
        let extent = [sr.width as usize, sr.height as usize, slices(&sr) as usize];
        let pitched = |base: usize, r: &ze_copy_region_t, pitch: u32, slice: u32| Pitched {
            base,
            origin: [r.originX as usize, r.originY as usize, r.originZ as usize],
            pitch: pitch as usize,
            slice_pitch: slice as usize,
        };
        let dst = pitched(dstptr as usize, &dr, dstPitch, dstSlicePitch);
        let src = pitched(srcptr as usize, &sr, srcPitch, srcSlicePitch);
        if extent.contains(&0) {
            return list.push(Op::Nop, hSignalEvent, numWaitEvents, phWaitEvents);
        }
        if (extent[1] > 1 && (dst.pitch < dst.origin[0] + extent[0] || src.pitch < src.origin[0] + extent[0]))
            || (extent[2] > 1 && (dst.slice_pitch < dst.pitch * (dst.origin[1] + extent[1])
                || src.slice_pitch < src.pitch * (src.origin[1] + extent[1])))
        {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "a pitch is smaller than the region it holds");
        }
        let hull = |p: &Pitched, what: &str| -> ZeResult<Span> {
            let Some((first, end)) = p.hull(extent) else {
                bail!(ZE_RESULT_ERROR_INVALID_SIZE, "{what}: region wraps around the address space");
            };
            // A region of a tracked allocation must stay inside it.
            if let Some(a) = list.instance.memory.find(p.base)
                && (first < a.base() || end > a.base() + a.size)
            {
                bail!(
                    ZE_RESULT_ERROR_INVALID_SIZE,
                    "{what}: the region spans [{first:#x}, {end:#x}), outside its allocation [{:#x}, {:#x})",
                    a.base(),
                    a.base() + a.size
                );
            }
            list.check(first as *const c_void, end - first, what)
        };
        let dst_hull = hull(&dst, "region copy destination")?;
        let src_hull = hull(&src, "region copy source")?;
        list.push(Op::CopyRegion { dst, src, extent, dst_hull, src_hull }, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// Pattern sizes: powers of two from 1 to 128 bytes; a size that is not a multiple of
    /// the pattern ends with a partial pattern.
    fn zeCommandListAppendMemoryFill(
        hCommandList: ze_command_list_handle_t,
        ptr: *mut c_void,
        pattern: *const c_void,
        pattern_size: usize,
        size: usize,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        if pattern.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pattern");
        }
        if !pattern_size.is_power_of_two() || pattern_size > MAX_FILL_PATTERN {
            bail!(
                ZE_RESULT_ERROR_INVALID_SIZE,
                "pattern size {pattern_size}: must be a power of two from 1 to {MAX_FILL_PATTERN}"
            );
        }
        let dst = list.check(ptr, size, "fill destination")?;
        // SAFETY: `pattern` is non-null and holds `pattern_size` bytes (caller's contract).
        let bytes = unsafe { std::slice::from_raw_parts(pattern.cast::<u8>(), pattern_size) }.to_vec();
        list.push(Op::Fill { dst, pattern: bytes }, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// Writes the device clock (nanoseconds, 64 bits) to `dstptr` when the command runs.
    fn zeCommandListAppendWriteGlobalTimestamp(
        hCommandList: ze_command_list_handle_t,
        dstptr: *mut u64,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let dst = list.check(dstptr.cast(), 8, "timestamp destination")?;
        list.push(Op::Timestamp { dst }, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    fn zeCommandListAppendBarrier(
        hCommandList: ze_command_list_handle_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.push(Op::Nop, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    fn zeCommandListAppendMemoryRangesBarrier(
        hCommandList: ze_command_list_handle_t,
        numRanges: u32,
        pRangeSizes: *const usize,
        pRanges: *mut *const c_void,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        if numRanges > 0 && (pRangeSizes.is_null() || pRanges.is_null()) {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null range arrays");
        }
        list.push(Op::Nop, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// A counter-based event is signalled once the commands before it completed (the list is
    /// in order).
    fn zeCommandListAppendSignalEvent(hCommandList: ze_command_list_handle_t, hEvent: ze_event_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let event = sync_event(hEvent, list.instance)?;
        if event.counter_based().is_some() {
            let (signal, armed) = list.counter_use().signal(event)?;
            list.append(Command { waits: Vec::new(), op: Op::Nop, signal: Some(signal) })?;
            list.counter_use().arm(armed);
            return Ok(());
        }
        list.append(Command { waits: Vec::new(), op: Op::Signal(event), signal: None })
    }

    fn zeCommandListAppendWaitOnEvents(hCommandList: ze_command_list_handle_t, numEvents: u32, phEvents: *mut ze_event_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        if phEvents.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEvents");
        }
        let waits = list.waits(numEvents, phEvents)?;
        list.append(Command { waits, op: Op::Nop, signal: None })
    }

    /// Counter-based events are refused (`ZE_RESULT_ERROR_INVALID_ARGUMENT`): they are never
    /// reset.
    fn zeCommandListAppendEventReset(hCommandList: ze_command_list_handle_t, hEvent: ze_event_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let event = sync_event(hEvent, list.instance)?;
        event.refuse_counter_based("zeCommandListAppendEventReset")?;
        list.append(Command { waits: Vec::new(), op: Op::Reset(event), signal: None })
    }

    /// A hint: all memory is host memory, so there is nothing to move.
    fn zeCommandListAppendMemoryPrefetch(hCommandList: ze_command_list_handle_t, ptr: *const c_void, size: usize) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.check(ptr, size, "prefetch range")?;
        Ok(())
    }

    /// A hint, accepted and ignored.
    fn zeCommandListAppendMemAdvise(
        hCommandList: ze_command_list_handle_t,
        hDevice: ze_device_handle_t,
        ptr: *const c_void,
        size: usize,
        advice: ze_memory_advice_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.context.device(hDevice)?;
        if advice.0 > ze_memory_advice_t::ZE_MEMORY_ADVICE_CLEAR_SYSTEM_MEMORY_PREFERRED_LOCATION.0 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "memory advice {}", advice.0);
        }
        list.check(ptr, size, "advice range")?;
        Ok(())
    }

    fn zeCommandListAppendLaunchKernel(
        hCommandList: ze_command_list_handle_t,
        hKernel: ze_kernel_handle_t,
        pLaunchFuncArgs: *const ze_group_count_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        // SAFETY: a non-null group count is the caller's.
        let c = unsafe { ffi::read(pLaunchFuncArgs)? };
        let counts = GroupCounts::Direct([c.groupCountX, c.groupCountY, c.groupCountZ]);
        launch(hCommandList, hKernel, counts, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// The group counts are read from `pLaunchArgumentsBuffer` (device-accessible memory)
    /// when the launch runs.
    fn zeCommandListAppendLaunchKernelIndirect(
        hCommandList: ze_command_list_handle_t,
        hKernel: ze_kernel_handle_t,
        pLaunchArgumentsBuffer: *const ze_group_count_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let span = list.check(pLaunchArgumentsBuffer.cast(), 12, "indirect launch arguments")?;
        let counts = GroupCounts::Indirect(span);
        launch(hCommandList, hKernel, counts, hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// Only on a group with `ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COOPERATIVE_KERNELS`, and
    /// with at most [`crate::device::MAX_COOPERATIVE_GROUPS`] work-groups in all (what
    /// `zeKernelSuggestMaxCooperativeGroupCount` reports): the engine guarantees that the
    /// work-items of one group run together, not that several groups do.
    fn zeCommandListAppendLaunchCooperativeKernel(
        hCommandList: ze_command_list_handle_t,
        hKernel: ze_kernel_handle_t,
        pLaunchFuncArgs: *const ze_group_count_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        crate::device::check_cooperative(&list.device, list.ordinal)?;
        // SAFETY: a non-null group count is the caller's.
        let c = unsafe { ffi::read(pLaunchFuncArgs)? };
        let groups = [c.groupCountX, c.groupCountY, c.groupCountZ];
        let total: u64 = groups.iter().map(|&n| u64::from(n)).product();
        if total > u64::from(crate::device::MAX_COOPERATIVE_GROUPS) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "a cooperative launch of {groups:?} work-groups: at most {} (zeKernelSuggestMaxCooperativeGroupCount)",
                crate::device::MAX_COOPERATIVE_GROUPS
            );
        }
        let counts = GroupCounts::Direct(groups);
        launch(hCommandList, hKernel, counts, hSignalEvent, numWaitEvents, phWaitEvents)
    }
}

// --- Level Zero 1.17: creation queries, in-order lists and counter-based events, host
// functions, launches with parameters or arguments. ---

/// What a command list was created with: a regular list's command-list flags, or an immediate
/// list's command-queue descriptor (flags, index, mode, priority).
#[derive(Clone, Copy)]
pub(crate) struct ListDesc {
    flags: u32,
    index: u32,
    mode: ze_command_queue_mode_t,
    priority: ze_command_queue_priority_t,
}

impl ListDesc {
    fn regular(flags: ze_command_list_flags_t) -> ListDesc {
        ListDesc {
            flags,
            index: 0,
            mode: ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_DEFAULT,
            priority: ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_NORMAL,
        }
    }

    fn immediate(desc: &ze_command_queue_desc_t) -> ListDesc {
        ListDesc {
            flags: desc.flags,
            index: desc.index,
            mode: desc.mode,
            priority: desc.priority,
        }
    }
}

/// An immediate list's queue flags as command-list flags (`zeCommandListGetFlags`): the flags
/// of the same meaning.
fn queue_flags_as_list_flags(flags: ze_command_queue_flags_t) -> ze_command_list_flags_t {
    [
        (
            ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_EXPLICIT_ONLY.0,
            ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_EXPLICIT_ONLY.0,
        ),
        (
            ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_IN_ORDER.0,
            ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_IN_ORDER.0,
        ),
        (
            ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_COPY_OFFLOAD_HINT.0,
            ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_COPY_OFFLOAD_HINT.0,
        ),
    ]
    .iter()
    .filter(|(q, _)| flags & q != 0)
    .fold(0, |acc, (_, l)| acc | l)
}

impl CommandList {
    fn is_immediate(&self) -> bool {
        matches!(self.kind, Kind::Immediate { .. })
    }

    /// The list's creation flags as command-list flags.
    fn list_flags(&self) -> ze_command_list_flags_t {
        if self.is_immediate() {
            queue_flags_as_list_flags(self.desc.flags)
        } else {
            self.desc.flags
        }
    }

    /// Whether the list was created in order (`ZE_COMMAND_LIST_FLAG_IN_ORDER`, or
    /// `ZE_COMMAND_QUEUE_FLAG_IN_ORDER` for an immediate list). Every list of this driver runs
    /// its commands one after the other on one worker, each after the previous one completed,
    /// so the flag needs nothing more; it decides where counter-based events may be used.
    fn in_order(&self) -> bool {
        self.list_flags() & ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_IN_ORDER.0 != 0
    }

    /// How this list uses counter-based events.
    fn counter_use(&self) -> CounterUse<'_> {
        CounterUse {
            instance: self.instance,
            device: self.device,
            immediate: self.is_immediate(),
            in_order: self.in_order(),
            tracking: (!self.is_immediate()).then_some(&self.counters),
        }
    }

    /// A command's signal event (null: none), and what arms a counter-based one once the
    /// command is appended.
    fn signal_event(
        &self,
        raw: ze_event_handle_t,
    ) -> ZeResult<(Option<Arc<Event>>, Option<crate::event::Armed>)> {
        if raw.is_null() {
            return Ok((None, None));
        }
        let (event, armed) = self.counter_use().signal(sync_event(raw, self.instance)?)?;
        Ok((Some(event), armed))
    }

    /// A command's wait events: counter-based ones become waits for what they stand for now.
    fn waits(&self, count: u32, raws: *mut ze_event_handle_t) -> ZeResult<Vec<Arc<Event>>> {
        let use_ = self.counter_use();
        let mut waits = Vec::new();
        for e in self.events(count, raws)? {
            waits.extend(use_.wait(e)?);
        }
        Ok(waits)
    }

    /// At each execution of a regular list (before its job is queued): its counter-based
    /// events' new submissions.
    pub(crate) fn submit_counters(&self) {
        lock(&self.counters).submit(self.instance);
    }

    fn immediate_only(&self, what: &str) -> ZeResult {
        if !self.is_immediate() {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{what}: not an immediate command list"
            );
        }
        Ok(())
    }

    /// The checks of `zeCommandListAppendLaunchCooperativeKernel` for `groups`.
    fn check_cooperative_launch(&self, groups: [u32; 3]) -> ZeResult {
        crate::device::check_cooperative(&self.device, self.ordinal)?;
        let total: u64 = groups.iter().map(|&n| u64::from(n)).product();
        if total > u64::from(crate::device::MAX_COOPERATIVE_GROUPS) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "a cooperative launch of {groups:?} work-groups: at most {} (zeKernelSuggestMaxCooperativeGroupCount)",
                crate::device::MAX_COOPERATIVE_GROUPS
            );
        }
        Ok(())
    }

    /// The `pNext` chain of a launch with parameters or arguments: only
    /// `ze_command_list_append_launch_kernel_param_cooperative_desc_t` is honoured (a
    /// cooperative launch when `isCooperative`, with that call's checks); anything else is
    /// refused by the `pNext` rule.
    ///
    /// # Safety
    ///
    /// `next` is null or a chain of valid Level Zero structures.
    unsafe fn launch_parameters(
        &self,
        call: &str,
        next: *const c_void,
        groups: [u32; 3],
    ) -> ZeResult {
        let cooperative_desc =
            ze_structure_type_t::ZE_STRUCTURE_TYPE_COMMAND_LIST_APPEND_PARAM_COOPERATIVE_DESC;
        // SAFETY: forwarded to the caller.
        let chain = unsafe { crate::chain::input_next(call, next, &[cooperative_desc])? };
        let cooperative = chain
            .get::<ze_command_list_append_launch_kernel_param_cooperative_desc_t>()
            .is_some_and(|d| d.isCooperative != 0);
        if cooperative {
            self.check_cooperative_launch(groups)?;
        }
        Ok(())
    }
}

entry_points! {
    /// A regular list's flags as created; an immediate list's queue flags of the same meaning
    /// (`EXPLICIT_ONLY`, `IN_ORDER`, `COPY_OFFLOAD_HINT`) as command-list flags.
    fn zeCommandListGetFlags(hCommandList: ze_command_list_handle_t, pFlags: *mut ze_command_list_flags_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pFlags, list.list_flags()) }
    }

    /// The queue index the immediate list was created with.
    fn zeCommandListImmediateGetIndex(hCommandListImmediate: ze_command_list_handle_t, pIndex: *mut u32) {
        let list: Arc<CommandList> = handles::get(hCommandListImmediate)?;
        list.immediate_only("zeCommandListImmediateGetIndex")?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pIndex, list.desc.index) }
    }

    /// The queue flags the immediate list was created with.
    fn zeCommandListImmediateGetFlags(hCommandList: ze_command_list_handle_t, pFlags: *mut ze_command_queue_flags_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.immediate_only("zeCommandListImmediateGetFlags")?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pFlags, list.desc.flags) }
    }

    /// The queue mode the immediate list was created with.
    fn zeCommandListImmediateGetMode(hCommandList: ze_command_list_handle_t, pMode: *mut ze_command_queue_mode_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.immediate_only("zeCommandListImmediateGetMode")?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pMode, list.desc.mode) }
    }

    /// The queue priority the immediate list was created with (recorded only).
    fn zeCommandListImmediateGetPriority(hCommandList: ze_command_list_handle_t, pPriority: *mut ze_command_queue_priority_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        list.immediate_only("zeCommandListImmediateGetPriority")?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pPriority, list.desc.priority) }
    }

    /// Calls `pfnHostFunction(pUserData)` on the list's worker when the list reaches it: after
    /// the commands before it completed and its wait events are signalled, before the commands
    /// after it start; its signal event is signalled once it returned. Once per append on an
    /// immediate list (never on the appending thread), once per execution of a regular list.
    /// `pNext` may carry no structure (none is defined for it).
    fn zeCommandListAppendHostFunction(
        hCommandList: ze_command_list_handle_t,
        pfnHostFunction: ze_host_function_callback_t,
        pUserData: *mut c_void,
        pNext: *const c_void,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let Some(function) = pfnHostFunction else {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pfnHostFunction");
        };
        // SAFETY: the caller's chain.
        unsafe { crate::chain::input_next("zeCommandListAppendHostFunction", pNext, &[])? };
        let call = HostCall { function, user_data: pUserData as usize };
        list.push(Op::HostFunction(call), hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// `zeCommandListAppendLaunchKernel` with a `pNext` chain: a
    /// `ze_command_list_append_launch_kernel_param_cooperative_desc_t` with `isCooperative`
    /// makes it `zeCommandListAppendLaunchCooperativeKernel`; any other structure is refused.
    fn zeCommandListAppendLaunchKernelWithParameters(
        hCommandList: ze_command_list_handle_t,
        hKernel: ze_kernel_handle_t,
        pGroupCounts: *const ze_group_count_t,
        pNext: *const c_void,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let _: Arc<Kernel> = handles::get(hKernel)?;
        // SAFETY: a non-null group count is the caller's.
        let c = unsafe { ffi::read(pGroupCounts)? };
        let groups = [c.groupCountX, c.groupCountY, c.groupCountZ];
        // SAFETY: the caller's chain.
        unsafe { list.launch_parameters("zeCommandListAppendLaunchKernelWithParameters", pNext, groups)? };
        launch(hCommandList, hKernel, GroupCounts::Direct(groups), hSignalEvent, numWaitEvents, phWaitEvents)
    }

    /// One call for `zeKernelSetGroupSize`, `zeKernelSetArgumentValue` of every argument
    /// (`pArguments[i]` points to argument `i`'s value, of the kernel's size for it; a null
    /// pointer is a null value, as there) and the launch, with `pNext` as for
    /// `zeCommandListAppendLaunchKernelWithParameters`. The kernel keeps the group size and
    /// arguments, as the specification says. Everything is checked before the kernel changes;
    /// kernels with a local-memory argument are refused (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`:
    /// nothing gives its size).
    fn zeCommandListAppendLaunchKernelWithArguments(
        hCommandList: ze_command_list_handle_t,
        hKernel: ze_kernel_handle_t,
        groupCounts: ze_group_count_t,
        groupSizes: ze_group_size_t,
        pArguments: *mut *mut c_void,
        pNext: *const c_void,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        if !std::ptr::eq(kernel.instance, list.instance) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the kernel belongs to another driver");
        }
        if !crate::device::group_computes(&list.device, list.ordinal) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "kernels cannot be launched on a list of command queue group {}: a copy-only group",
                list.ordinal
            );
        }
        let groups = [groupCounts.groupCountX, groupCounts.groupCountY, groupCounts.groupCountZ];
        // SAFETY: the caller's chain.
        unsafe { list.launch_parameters("zeCommandListAppendLaunchKernelWithArguments", pNext, groups)? };
        let size = [groupSizes.groupSizeX, groupSizes.groupSizeY, groupSizes.groupSizeZ];
        // SAFETY: a non-null `pArguments` holds one pointer per argument, each null or to the
        // argument's value (caller's contract).
        unsafe { kernel.set_group_size_and_arguments(size, pArguments.cast_const())? };
        launch(hCommandList, hKernel, GroupCounts::Direct(groups), hSignalEvent, numWaitEvents, phWaitEvents)
    }
}
