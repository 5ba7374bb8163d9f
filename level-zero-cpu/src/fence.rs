//! Fences: signalled when a command-queue submission completes.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use level_zero_sys::*;

use crate::driver::Instance;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::queue::CommandQueue;
use crate::sync::lock;

#[derive(Clone, Default)]
struct State {
    signaled: bool,
    error: Option<ze_result_t>,
    /// What went wrong in the submission, as the failing command described it.
    message: Option<Arc<str>>,
}

/// A fence of one command queue.
pub(crate) struct Fence {
    pub(crate) instance: &'static Instance,
    /// The queue it was created on (its handle).
    pub(crate) queue: u64,
    device: DeviceRef,
    state: Mutex<State>,
}

impl Fence {
    /// Signals the fence with the submission's error, if any.
    /// `message` says what went wrong (a wait that fails because of it gives it as its
    /// description).
    pub(crate) fn signal(&self, error: Option<ze_result_t>, message: Option<&Arc<str>>) {
        let message = error.and(message.cloned());
        self.instance.signal.notify(|| {
            *lock(&self.state) = State {
                signaled: true,
                error,
                message,
            }
        });
    }

    /// Waits for the fence: `Ok` once its submission completed, the submission's error if it
    /// failed, `ZE_RESULT_ERROR_DEVICE_LOST` once the device is lost and has stopped all its
    /// work, `ZE_RESULT_NOT_READY` on timeout.
    fn wait(&self, timeout: u64) -> ZeResult {
        let outcome = self.instance.signal.wait(timeout, || {
            let s = lock(&self.state).clone();
            if s.signaled {
                return Some(s.error.map_or(Ok(()), Err));
            }
            self.device
                .lost_and_quiescent()
                .then_some(Err(ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST))
        });
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(code)) if code == ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST => {
                self.device.check_alive()
            }
            Some(Err(code)) => Err(ffi::fail(
                code,
                match lock(&self.state).message.clone() {
                    Some(m) => format!("the submission this fence marks failed: {m}"),
                    None => "the submission this fence marks failed".into(),
                },
            )),
            None => Err(ze_result_t::ZE_RESULT_NOT_READY),
        }
    }
}

entry_points! {
    fn zeFenceCreate(hCommandQueue: ze_command_queue_handle_t, desc: *const ze_fence_desc_t, phFence: *mut ze_fence_handle_t) {
        let queue: Arc<CommandQueue> = handles::get(hCommandQueue)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract); it honours no extension.
        unsafe { crate::chain::input(&desc, &[])? };
        if phFence.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phFence");
        }
        if desc.flags > 0x1 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "fence flags {:#x}", desc.flags);
        }
        let signaled = desc.flags & ze_fence_flag_t::ZE_FENCE_FLAG_SIGNALED.0 != 0;
        let instance = queue.instance;
        let fence = Arc::new(Fence {
            instance,
            queue: queue.handle,
            device: queue.device,
            state: Mutex::new(State {
                signaled,
                error: None,
                message: None,
            }),
        });
        let handle = handles::reserve_for::<Arc<Fence>>();
        handles::register(handle, Object::Fence(fence));
        instance.live.fences.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phFence, handles::raw(handle)) }
    }

    fn zeFenceDestroy(hFence: ze_fence_handle_t) {
        let fence: Arc<Fence> = handles::take(hFence)?;
        fence.instance.live.fences.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// `timeout` in nanoseconds: `u64::MAX` waits forever, 0 polls.
    fn zeFenceHostSynchronize(hFence: ze_fence_handle_t, timeout: u64) {
        let fence: Arc<Fence> = handles::get(hFence)?;
        fence.wait(timeout)
    }

    fn zeFenceQueryStatus(hFence: ze_fence_handle_t) {
        let fence: Arc<Fence> = handles::get(hFence)?;
        fence.wait(0)
    }

    fn zeFenceReset(hFence: ze_fence_handle_t) {
        let fence: Arc<Fence> = handles::get(hFence)?;
        fence.instance.signal.notify(|| *lock(&fence.state) = State::default());
        Ok(())
    }
}
