//! Blocking waits without spinning: one mutex and condition variable per instance.
//!
//! Every state that a host or worker may wait for (events, fences, queue progress, device
//! loss) is changed inside [`Signal::notify`], which holds the instance's mutex and wakes every
//! waiter; waiters re-check their condition under the same mutex, so no wake-up is lost.

use std::sync::{
    Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::{Duration, Instant};

/// Locks a mutex, ignoring poisoning (a panic elsewhere was already turned into an error).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks, ignoring poisoning.
pub(crate) fn lock_read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks, ignoring poisoning.
pub(crate) fn lock_write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

/// The instance-wide wake-up point.
#[derive(Default)]
pub(crate) struct Signal {
    /// How many threads wait on `cv` (changed only under this mutex, so that a notifier that
    /// sees 0 knows no thread is between its last check and its sleep: it skips the wake-up
    /// system call, which was a tenth of an empty launch's time).
    mutex: Mutex<usize>,
    cv: Condvar,
}

impl Signal {
    /// Runs `change` under the mutex, then wakes every waiter.
    pub(crate) fn notify<R>(&self, change: impl FnOnce() -> R) -> R {
        let guard = lock(&self.mutex);
        let r = change();
        if *guard > 0 {
            self.cv.notify_all();
        }
        r
    }

    /// Blocks until `ready` returns `Some`, or until `timeout_ns` nanoseconds have passed
    /// (`u64::MAX`: no limit; 0: check once). `ready` runs under the mutex.
    pub(crate) fn wait<R>(&self, timeout_ns: u64, ready: impl FnMut() -> Option<R>) -> Option<R> {
        self.wait_polling(timeout_ns, false, ready)
    }

    /// [`Signal::wait`]; with `poll`, `ready` is also re-checked after short sleeps (20 µs,
    /// doubling up to 1 ms) without a notification: for conditions that another process
    /// changes (the events of IPC event pools, whose state lives in shared memory).
    pub(crate) fn wait_polling<R>(
        &self,
        timeout_ns: u64,
        poll: bool,
        mut ready: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let mut backoff = Duration::from_micros(20);
        let deadline = if timeout_ns == u64::MAX {
            None
        } else {
            Instant::now().checked_add(Duration::from_nanos(timeout_ns))
        };
        let forever = timeout_ns == u64::MAX || deadline.is_none();
        let mut guard = lock(&self.mutex);
        loop {
            if let Some(r) = ready() {
                return Some(r);
            }
            if forever && !poll {
                *guard += 1;
                guard = self.cv.wait(guard).unwrap_or_else(PoisonError::into_inner);
            } else {
                let mut pause = match deadline {
                    Some(deadline) => {
                        let now = Instant::now();
                        if now >= deadline && !forever {
                            return None;
                        }
                        deadline.saturating_duration_since(now)
                    }
                    None => Duration::MAX,
                };
                if poll {
                    pause = pause.min(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(1));
                }
                *guard += 1;
                guard = self
                    .cv
                    .wait_timeout(guard, pause)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            *guard -= 1;
        }
    }
}

/// A monotonic clock in nanoseconds, shared by the host and every device
/// (`CLOCK_MONOTONIC_RAW` where available): global and kernel timestamps, and
/// `zeDeviceGetGlobalTimestamps`.
pub(crate) fn now_ns() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_RAW exists on Linux.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_RAW, &mut ts) };
        if r == 0 {
            return (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    static EPOCH: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);
    EPOCH.elapsed().as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn waits_time_out_and_wake_up() {
        let s = Arc::new(Signal::default());
        let flag = Arc::new(AtomicBool::new(false));
        let t = Instant::now();
        assert_eq!(s.wait(0, || None::<()>), None);
        assert_eq!(s.wait(20_000_000, || None::<()>), None);
        assert!(t.elapsed() >= Duration::from_millis(20));
        let (s2, f2) = (s.clone(), flag.clone());
        let th = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            s2.notify(|| f2.store(true, Ordering::SeqCst));
        });
        let got = s.wait(u64::MAX, || flag.load(Ordering::SeqCst).then_some(7));
        assert_eq!(got, Some(7));
        th.join().unwrap();
        assert!(now_ns() > 0);
    }
}
