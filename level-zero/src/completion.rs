//! When work counts as finished: the one rule behind every release of what commands keep
//! alive, every end of a borrow the device used, and every drop of a list or queue.
//!
//! A host wait (`zeCommandListHostSynchronize`, `zeCommandQueueSynchronize`,
//! `zeFenceHostSynchronize`, `zeEventHostSynchronize`, or their polls) ends in one of four
//! ways, and each means one thing to this crate:
//!
//! | outcome | what it tells | what the crate does |
//! |---|---|---|
//! | success | the work completed | release what it kept alive |
//! | `ZE_RESULT_ERROR_DEVICE_LOST` | the device "hung, was reset, or was removed" (the specification's words): its work stopped and will never touch memory again | release, as for success |
//! | `ZE_RESULT_NOT_READY` (time ran out) | the work may still run | keep everything |
//! | any other error | nothing certain (often: a command failed and the driver reports it once) | keep everything; a later wait that succeeds releases it |
//!
//! What follows from it:
//! - A borrowed host slice handed to the device ([`ImmediateCommandList::copy_to_slice`]
//!   and `copy_from_slice`) is given back only after success or device loss. Another error is
//!   remembered and the wait repeated (a failure is reported once, then the next wait says
//!   whether the work completed). A driver that keeps failing the wait gives no way to end the
//!   borrow soundly: the process is aborted with a message, which is the one place this crate
//!   aborts (it never happens with a driver that follows the specification).
//! - Dropping a list or queue waits for its work at most its *drop timeout*
//!   ([`ImmediateCommandList::set_drop_timeout`], [`CommandQueue::set_drop_timeout`]; no wait
//!   beyond a poll while the thread is panicking). If the work has not finished by then (it
//!   may wait for an event nobody will signal), the list or queue, its Level Zero handle and
//!   everything its commands keep alive are leaked on purpose — never freed while the device
//!   may use them — with an error in the log, and counted by [`deliberate_leaks`]. Drop never
//!   blocks forever and never panics.
//!
//! [`ImmediateCommandList::copy_to_slice`]: crate::ImmediateCommandList::copy_to_slice
//! [`ImmediateCommandList::set_drop_timeout`]: crate::ImmediateCommandList::set_drop_timeout
//! [`CommandQueue::set_drop_timeout`]: crate::CommandQueue::set_drop_timeout

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::Result;

/// How long dropping a list or queue waits for its work by default.
pub const DEFAULT_DROP_TIMEOUT: Duration = Duration::from_secs(30);

/// What a wait's result means for what the waited-for work keeps alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waited {
    /// Completed, or the device was lost (its work stopped for good): release.
    Finished,
    /// The time ran out: the work may still run.
    Pending,
    /// An error that says nothing certain about the work: keep everything.
    Unknown,
}

/// Classifies a wait's result (`Ok(true)`: success, `Ok(false)`: not ready).
pub(crate) fn classify(r: &Result<bool>) -> Waited {
    match r {
        Ok(true) => Waited::Finished,
        Ok(false) => Waited::Pending,
        Err(e) if e.is_device_lost() => Waited::Finished,
        Err(_) => Waited::Unknown,
    }
}

static DELIBERATE_LEAKS: AtomicU64 = AtomicU64::new(0);

/// How many times this process leaked on purpose: a list or queue dropped while its work
/// could not be seen finished (see the [module documentation](self)), whose handle and
/// everything its commands kept alive were kept for good instead of being freed while the
/// device might use them. Each is also logged at `error` level. Tests use it to tell a
/// deliberate leak from a bug.
pub fn deliberate_leaks() -> u64 {
    DELIBERATE_LEAKS.load(Ordering::Relaxed)
}

/// Records a deliberate leak of `what`, for the reason `why`.
pub(crate) fn leak(what: &str, why: &dyn std::fmt::Display) {
    DELIBERATE_LEAKS.fetch_add(1, Ordering::Relaxed);
    log::error!(
        "level-zero: {what} dropped while its work could not be seen finished ({why}); leaking it and everything its commands use rather than freeing memory the device may still touch"
    );
}

/// The bounded wait of a drop: waits with `wait` (a timeout; `Ok(true)` once finished) for
/// at most `limit` (a poll only while the thread is panicking). `Ok(())` when the work
/// finished (or its device was lost) and what it uses may be released; `Err` with the last
/// reason otherwise, when the caller must leak.
pub(crate) fn drop_wait(
    limit: Duration,
    mut wait: impl FnMut(Option<Duration>) -> Result<bool>,
) -> std::result::Result<(), String> {
    let limit = if std::thread::panicking() {
        Duration::ZERO
    } else {
        limit
    };
    let deadline = Instant::now().checked_add(limit);
    let mut last = String::from("the drop timeout expired");
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let r = wait(left);
        match (classify(&r), r) {
            (Waited::Finished, _) => return Ok(()),
            (_, Err(e)) => {
                // A failure is reported once; the next wait tells whether the work finished.
                log::error!("level-zero: work failed before its list or queue was dropped: {e}");
                let e = e.to_string();
                if last == e {
                    // The same failure again: do not spin on a wait that fails at once.
                    std::thread::sleep(Duration::from_millis(1));
                }
                last = e;
            }
            (_, Ok(_)) => last = format!("not finished after {limit:?}"),
        }
        if left.is_some_and(|l| l.is_zero()) {
            return Err(last);
        }
    }
}

/// A point in time a drop must not wait beyond.
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// `limit` from now (no deadline for a limit too large to represent).
    pub(crate) fn new(limit: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(limit))
    }

    /// The time left (`Duration::MAX` without a deadline).
    pub(crate) fn left(&self) -> Duration {
        self.0.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        })
    }
}

/// How many waits in a row may fail with an error that proves nothing before a borrowed
/// host slice cannot be given back soundly.
const MAX_UNKNOWN_WAITS: u32 = 4;

/// Waits with `wait` (unbounded; `Ok(true)` once finished) until work that uses borrowed
/// host memory has finished, so that the borrow may end. Returns the first error a wait
/// reported (the work finished, but something in it failed), or the device-lost error.
///
/// Aborts the process if the driver keeps failing the wait without saying the work finished:
/// returning would let the caller reuse or free memory the device may still write.
pub(crate) fn wait_for_borrow(
    call: &'static str,
    mut wait: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let mut first_error = None;
    let mut unknown = 0;
    loop {
        let r = wait();
        match (classify(&r), r) {
            (Waited::Finished, r) => return first_error.map_or(r.map(drop), Err),
            (_, Err(e)) => {
                unknown += 1;
                if unknown > MAX_UNKNOWN_WAITS {
                    let msg = format!(
                        "level-zero: {call}: the driver failed {unknown} waits in a row ({e}) without saying whether the copy into borrowed host memory finished; returning would let that memory be freed while the device may write it, so the process aborts"
                    );
                    log::error!("{msg}");
                    eprintln!("{msg}");
                    std::process::abort();
                }
                first_error.get_or_insert(e);
            }
            // An unbounded wait that says "not ready" is not what the specification allows,
            // but harmless: wait again.
            (_, Ok(_)) => {}
        }
    }
}
