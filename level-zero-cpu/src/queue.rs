//! Command queues: each has a worker thread that runs submitted command lists in order.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::driver::Instance;
use crate::exec::{Job, Worker};
use crate::fence::Fence;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::list::CommandList;

/// A command queue.
pub(crate) struct CommandQueue {
    pub(crate) instance: &'static Instance,
    pub(crate) handle: u64,
    pub(crate) device: DeviceRef,
    pub(crate) ordinal: u32,
    synchronous: bool,
    /// The creation descriptor's index, flags, mode and priority, as given (the `Get*` queries).
    index: u32,
    flags: ze_command_queue_flags_t,
    mode: ze_command_queue_mode_t,
    priority: ze_command_queue_priority_t,
    worker: Worker,
    child: Child,
}

/// Checks a command queue descriptor's flags, mode and priority: `(ordinal, synchronous)`.
/// The ordinal and index are checked against the device's groups by
/// [`crate::device::check_queue`].
///
/// # Safety
///
/// The descriptor's `pNext` chain must be made of valid Level Zero structures.
pub(crate) unsafe fn check_queue_desc(desc: &ze_command_queue_desc_t) -> ZeResult<(u32, bool)> {
    // SAFETY: forwarded to the caller. No extension of command queues is implemented.
    unsafe { crate::chain::input(desc, &[])? };
    // Specification 1.17: EXPLICIT_ONLY 1, IN_ORDER 2, COPY_OFFLOAD_HINT 4 (newer than the
    // bindings' 1.12). Queues run in order and copy on the same worker: each is honoured.
    if desc.flags > 0x7 {
        bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "command queue flags {:#x}",
            desc.flags
        );
    }
    if desc.mode.0 > ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS.0 {
        bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "command queue mode {}",
            desc.mode.0
        );
    }
    if desc.priority.0 > ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_HIGH.0 {
        bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "command queue priority {}",
            desc.priority.0
        );
    }
    let synchronous = desc.mode == ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS;
    Ok((desc.ordinal, synchronous))
}

entry_points! {
    fn zeCommandQueueCreate(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        desc: *const ze_command_queue_desc_t,
        phCommandQueue: *mut ze_command_queue_handle_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = context.device(hDevice)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        if phCommandQueue.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phCommandQueue");
        }
        // SAFETY: the descriptor's chain (caller's contract).
        let (ordinal, synchronous) = unsafe { check_queue_desc(&desc)? };
        crate::emulation::check_queue_flags(context.instance, desc.flags)?;
        crate::device::check_queue(&device, ordinal, desc.index)?;
        let instance = context.instance;
        let handle = handles::reserve_for::<Arc<CommandQueue>>();
        let worker = Worker::start(device, &format!("l0cpu-queue-d{}", device.index))?;
        let queue = Arc::new(CommandQueue {
            instance,
            handle,
            device,
            ordinal,
            synchronous,
            index: desc.index,
            flags: desc.flags,
            mode: desc.mode,
            priority: desc.priority,
            worker,
            child: Child::of(&context),
        });
        handles::register(handle, Object::CommandQueue(queue));
        instance.live.command_queues.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phCommandQueue, handles::raw(handle)) }
    }

    /// Stops the queue's worker: work not started is dropped (the specification requires the
    /// queue to be idle first).
    fn zeCommandQueueDestroy(hCommandQueue: ze_command_queue_handle_t) {
        let queue: Arc<CommandQueue> = handles::take(hCommandQueue)?;
        queue.worker.shutdown();
        queue.instance.live.command_queues.fetch_sub(1, Ordering::Relaxed);
        queue.child.release();
        Ok(())
    }

    fn zeCommandQueueExecuteCommandLists(
        hCommandQueue: ze_command_queue_handle_t,
        numCommandLists: u32,
        phCommandLists: *mut ze_command_list_handle_t,
        hFence: ze_fence_handle_t,
    ) {
        let queue: Arc<CommandQueue> = handles::get(hCommandQueue)?;
        if phCommandLists.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phCommandLists");
        }
        if numCommandLists == 0 {
            bail!(ZE_RESULT_ERROR_INVALID_SIZE, "no command list to execute");
        }
        // SAFETY: the caller's array of `numCommandLists` handles.
        let raws = unsafe { ffi::slice(phCommandLists.cast_const(), numCommandLists)? };
        let mut lists = Vec::with_capacity(raws.len());
        let mut in_use = Vec::with_capacity(raws.len());
        let mut sources = Vec::with_capacity(raws.len());
        for &raw in raws {
            let list: Arc<CommandList> = handles::get(raw)?;
            list.check_runs_on(queue.instance, &queue.device, queue.ordinal, "a queue")?;
            lists.push(list.recorded()?);
            in_use.push(Some(list.mark_in_use()));
            sources.push(list);
        }
        let fence = if hFence.is_null() {
            None
        } else {
            let f: Arc<Fence> = handles::get_or(hFence, ze_result_t::ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT)?;
            if f.queue != queue.handle {
                bail!(ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT, "the fence belongs to another command queue");
            }
            Some(f)
        };
        queue.device.check_alive()?;
        // Counter-based events of in-order lists: this execution's submissions (before the job
        // is queued, so that its waits see them).
        for list in &sources {
            list.submit_counters();
        }
        let lose_device = queue.device.count_submission();
        let seq = queue.worker.submit(Job { lists, in_use, fence, lose_device })?;
        if queue.synchronous {
            queue.worker.synchronize(Some(seq), u64::MAX)?;
        }
        Ok(())
    }

    /// `timeout` in nanoseconds: `u64::MAX` waits forever, 0 polls.
    fn zeCommandQueueSynchronize(hCommandQueue: ze_command_queue_handle_t, timeout: u64) {
        let queue: Arc<CommandQueue> = handles::get(hCommandQueue)?;
        queue.worker.synchronize(None, timeout)
    }

    fn zeCommandQueueGetOrdinal(hCommandQueue: ze_command_queue_handle_t, pOrdinal: *mut u32) {
        let queue: Arc<CommandQueue> = handles::get(hCommandQueue)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pOrdinal, queue.ordinal) }
    }

    /// The index the queue was created with.
    fn zeCommandQueueGetIndex(hCommandQueue: ze_command_queue_handle_t, pIndex: *mut u32) {
        let queue: Arc<CommandQueue> = handles::get(hCommandQueue)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pIndex, queue.index) }
    }

    /// The flags the queue was created with.
    fn zeCommandQueueGetFlags(hCmdQueue: ze_command_queue_handle_t, pFlags: *mut ze_command_queue_flags_t) {
        let queue: Arc<CommandQueue> = handles::get(hCmdQueue)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pFlags, queue.flags) }
    }

    /// The mode the queue was created with (`DEFAULT` stays `DEFAULT`: it runs asynchronously).
    fn zeCommandQueueGetMode(hCmdQueue: ze_command_queue_handle_t, pMode: *mut ze_command_queue_mode_t) {
        let queue: Arc<CommandQueue> = handles::get(hCmdQueue)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pMode, queue.mode) }
    }

    /// The priority the queue was created with (recorded only: every queue has its own worker).
    fn zeCommandQueueGetPriority(hCmdQueue: ze_command_queue_handle_t, pPriority: *mut ze_command_queue_priority_t) {
        let queue: Arc<CommandQueue> = handles::get(hCmdQueue)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pPriority, queue.priority) }
    }
}
