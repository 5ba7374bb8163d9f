//! Host functions: closures a command list runs on the host when its execution reaches
//! them, in order with its other commands (`zeCommandListAppendHostFunction`, spec 1.17; the
//! counterpart of CUDA's `cuLaunchHostFunc`).
//!
//! The rules, each enforced here:
//! - The closure lives in an `Arc` that the command keeps alive (the list's keep-alives)
//!   until the list has seen the command complete, so the driver never calls into freed
//!   memory; the driver gets only the `Arc`'s address.
//! - It runs at most once per execution: an immediate list's closure once, a regular list's
//!   at each execution, one at a time. Both are `FnMut`: a call does not consume the
//!   closure, so what it captured is dropped with it, where the list releases the command
//!   (outside the host function), and a closure cannot move a captured Level Zero object
//!   out to drop it inside (where its destruction would be refused and the object leaked).
//! - A panic is caught at the boundary (it must not unwind into the driver), logged, and
//!   counted; the list goes on.
//! - The specification forbids Level Zero calls from a host function (a driver may run it
//!   on the thread that would have to answer them, and hang): every call this crate makes
//!   from inside one fails with an error naming the call instead — checked by `ze!` for each
//!   call it makes, and by `refuse` at the top of every command append, submission, wait and
//!   module build (which call the driver directly), before anything is planned.
//! - An object whose last reference is dropped inside a host function anyway (taken out of
//!   a shared slot, say) cannot be destroyed there: its destruction fails, is logged, and it
//!   is leaked (never freed while the device may use it).
//!
//! On a driver without the function, immediate lists emulate it with two events and a host
//! thread: a barrier signals the first when the list reaches the point, the thread runs the
//! closure and signals the second, which the list waits for before its next command.

//!
//! A host function may use what it captured (dropped later, with the command):
//!
//! ```
//! fn f(list: &mut level_zero::ImmediateCommandList, buf: level_zero::DeviceBuffer<u32>) {
//!     list.host_fn(move || {
//!         let _ = buf.len();
//!     })
//!     .unwrap();
//! }
//! ```
//!
//! but cannot drop it (the same function, moving the buffer out):
//!
//! ```compile_fail
//! fn f(list: &mut level_zero::ImmediateCommandList, buf: level_zero::DeviceBuffer<u32>) {
//!     list.host_fn(move || drop(buf)).unwrap();
//! }
//! ```

use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is running a host function (then no Level Zero call may be
/// made).
pub(crate) fn inside() -> bool {
    INSIDE.with(Cell::get)
}

/// The refusal of `call` inside a host function: what every operation that may call Level
/// Zero or wait checks first (besides `ze!`, which checks every call it makes), so that it
/// neither calls the driver nor plans anything (hazard publications) it could not finish.
pub(crate) fn refuse(call: &'static str) -> crate::error::Result<()> {
    if inside() {
        return Err(crate::error::Error::invalid(
            call,
            "called from a host function, which may not call Level Zero",
        ));
    }
    Ok(())
}

enum Slot {
    /// Runs at most once (an immediate list's append). An `FnMut`, not an `FnOnce`: calling
    /// it does not consume it, so what it captured is dropped with the `HostFn` — where the
    /// list releases the command's keep-alives, outside the host function — not at the end
    /// of the call, inside it, where destroying a Level Zero object is refused.
    Once {
        f: Box<dyn FnMut() + Send>,
        done: bool,
    },
    Many(Box<dyn FnMut() + Send>),
}

/// One appended host function.
pub(crate) struct HostFn {
    slot: Mutex<Slot>,
    runs: AtomicU64,
    panics: AtomicU64,
}

impl HostFn {
    pub(crate) fn once(f: impl FnMut() + Send + 'static) -> HostFn {
        HostFn::new(Slot::Once {
            f: Box::new(f),
            done: false,
        })
    }

    pub(crate) fn many(f: impl FnMut() + Send + 'static) -> HostFn {
        HostFn::new(Slot::Many(Box::new(f)))
    }

    fn new(slot: Slot) -> HostFn {
        HostFn {
            slot: Mutex::new(slot),
            runs: AtomicU64::new(0),
            panics: AtomicU64::new(0),
        }
    }

    /// Runs the closure (once for a `FnOnce`), with Level Zero calls refused, a panic
    /// caught and logged. Never unwinds.
    pub(crate) fn run(&self) {
        let outer = INSIDE.with(|c| c.replace(true));
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            match &mut *slot {
                Slot::Once { f, done } => {
                    if !std::mem::replace(done, true) {
                        f();
                    }
                }
                Slot::Many(f) => f(),
            }
        }));
        INSIDE.with(|c| c.set(outer));
        self.runs.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.panics.fetch_add(1, Ordering::Relaxed);
            log::error!("level-zero: a host function panicked; the panic was caught");
        }
    }

    /// The address handed to the driver as the callback's user data.
    pub(crate) fn user_data(self: &std::sync::Arc<Self>) -> *mut c_void {
        std::sync::Arc::as_ptr(self).cast_mut().cast()
    }

    /// How many times it ran, and how many of those panicked.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.runs.load(Ordering::Relaxed),
            self.panics.load(Ordering::Relaxed),
        )
    }
}

/// The callback the driver calls: `user` is a [`HostFn`] kept alive by the command.
///
/// # Safety
///
/// `user` must be the [`HostFn::user_data`] of a live `HostFn`.
pub(crate) unsafe extern "C" fn trampoline(user: *mut c_void) {
    if user.is_null() {
        return;
    }
    // SAFETY: the caller's contract: the command that carries this address keeps the
    // `HostFn` alive until the list has seen it complete. `run` never unwinds.
    let f = unsafe { &*user.cast::<HostFn>() };
    f.run();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_once_closure_runs_once_and_a_panic_is_caught() {
        let hits = Arc::new(AtomicU64::new(0));
        let h = hits.clone();
        let f = Arc::new(HostFn::once(move || {
            h.fetch_add(1, Ordering::Relaxed);
        }));
        // SAFETY: a live HostFn's user data.
        unsafe {
            trampoline(f.user_data());
            trampoline(f.user_data());
        }
        assert_eq!(hits.load(Ordering::Relaxed), 1);
        assert_eq!(f.counts(), (2, 0));

        let p = Arc::new(HostFn::many(|| panic!("boom")));
        // SAFETY: a live HostFn's user data.
        unsafe { trampoline(p.user_data()) };
        assert_eq!(p.counts(), (1, 1));
        assert!(!inside());
    }
}
