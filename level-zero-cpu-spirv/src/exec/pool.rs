//! The helper threads of launches: one process-wide pool of `cores - 1` threads that run a
//! launch's work-group loop beside the launching thread ([`run`]).
//!
//! Spawning threads for every launch (as `std::thread::scope` does) cost 20–50 µs per launch,
//! and on a virtual machine a new thread was often placed on the busy core of its parent and
//! started milliseconds late (measured: one launch in two of vector add, up to 5 ms of its
//! 7). The pool's threads stay: after a job each one watches for the next for
//! [`SPIN`] (back-to-back launches find it awake, as Intel's and pocl's runtimes keep theirs),
//! then sleeps on a condition variable until one comes.
//!
//! One launch uses the pool at a time; a launch that finds it busy (launches from several
//! threads at once) spawns scoped threads as before. Under Miri, which runs launches of a few
//! work-groups and reports threads left running, every launch spawns scoped threads.
//!
//! # Soundness
//! A job is a `&(dyn Fn() + Sync)` borrowed for the duration of [`run`], stored with its
//! lifetime erased. A helper dereferences it only between taking it (`running += 1`, under
//! the lock, while `State::job` is set) and finishing it (`running -= 1`, under the lock).
//! [`run`] clears `State::job` and then waits, under the same lock, until `running` is 0
//! before it returns: every use of the job happens while the borrow it came from is alive.
//! The job runs inside `catch_unwind`, so a panic cannot skip the `running -= 1`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How long a helper watches for the next job after finishing one before it sleeps.
pub(crate) const SPIN: Duration = Duration::from_micros(500);

/// A job with its lifetime erased (see the module's soundness note).
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn() + Sync + 'static));

// SAFETY: the pointee is `Sync` (shared use from several threads is what it is for), and the
// pointer is only dereferenced while the borrow it was made from is alive (module note).
unsafe impl Send for Job {}

#[derive(Default)]
struct State {
    /// The current job, while helpers may still take it.
    job: Option<Job>,
    /// Incremented for every job: a helper takes each one at most once.
    epoch: u64,
    /// Helpers the job still wants.
    want: usize,
    /// Helpers running the job.
    running: usize,
}

struct Pool {
    state: Mutex<State>,
    /// Helpers wait here for a job.
    wake: Condvar,
    /// [`run`] waits here for the helpers to finish.
    done: Condvar,
    /// `State::epoch`, readable without the lock by spinning helpers.
    epoch: AtomicU64,
    /// A launch is using the pool.
    busy: AtomicBool,
    helpers: usize,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // The lock is never held while user code runs, so it cannot be poisoned by a kernel;
    // take it whatever happened.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The pool, started at the first use with `helpers` threads (`None`: no thread could be
/// started, or under Miri).
fn pool(helpers: usize) -> Option<&'static Pool> {
    if cfg!(miri) || helpers == 0 {
        return None;
    }
    static POOL: OnceLock<Option<&'static Pool>> = OnceLock::new();
    *POOL.get_or_init(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            epoch: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            helpers,
        }));
        for k in 0..helpers {
            let started = std::thread::Builder::new()
                .name(format!("l0cpu-engine-{k}"))
                .spawn(move || helper(pool));
            if started.is_err() {
                // Without all its helpers the pool would wait for ones that never come:
                // launches spawn scoped threads instead. The started ones sleep for good.
                return None;
            }
        }
        Some(pool)
    })
}

fn helper(pool: &'static Pool) {
    let mut seen = 0u64;
    loop {
        // Watch for a job for a while, then sleep until one comes.
        let start = Instant::now();
        let mut n = 0u32;
        while pool.epoch.load(Ordering::Acquire) == seen {
            std::hint::spin_loop();
            n = n.wrapping_add(1);
            if n.is_multiple_of(256) && start.elapsed() >= SPIN {
                break;
            }
        }
        let mut st = lock(&pool.state);
        while st.epoch == seen {
            st = pool.wake.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        seen = st.epoch;
        let Some(job) = st.job.filter(|_| st.want > 0) else {
            continue;
        };
        st.want -= 1;
        st.running += 1;
        drop(st);
        // SAFETY: taken under the lock while `job` was set; `run` keeps the borrow alive
        // until `running` is back to 0 (module note).
        let f = unsafe { &*job.0 };
        // The launch's work closure catches its own panics; this one keeps the count right
        // whatever happens.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let mut st = lock(&pool.state);
        st.running -= 1;
        if st.running == 0 {
            pool.done.notify_all();
        }
    }
}

/// Runs `f` on the calling thread and on `extra` more threads at once, returning when every
/// run has returned. `f` must divide the work among however many runs come (a run may start
/// after the others have finished everything, and must then return).
pub(crate) fn run(extra: usize, f: &(dyn Fn() + Sync)) {
    let helpers = super::launch::cores().saturating_sub(1) as usize;
    let Some(pool) = pool(helpers).filter(|p| extra <= p.helpers) else {
        return scoped(extra, f);
    };
    if pool.busy.swap(true, Ordering::Acquire) {
        return scoped(extra, f);
    }
    // SAFETY (of the erasure): the job is withdrawn and its runs waited for below, before
    // this function returns and the borrow of `f` ends (module note).
    let job = Job(unsafe {
        std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(
            f as *const (dyn Fn() + Sync),
        )
    });
    {
        let mut st = lock(&pool.state);
        st.job = Some(job);
        st.want = extra;
        st.epoch += 1;
        pool.epoch.store(st.epoch, Ordering::Release);
    }
    pool.wake.notify_all();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    {
        let mut st = lock(&pool.state);
        st.job = None;
        st.want = 0;
        while st.running > 0 {
            st = pool.done.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
    pool.busy.store(false, Ordering::Release);
}

/// `f` on the calling thread and `extra` scoped threads.
fn scoped(extra: usize, f: &(dyn Fn() + Sync)) {
    std::thread::scope(|s| {
        for _ in 0..extra {
            s.spawn(f);
        }
        f();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Every launch's runs happen within `run`, each job's work is done once, and
    /// concurrent launches (one on the pool, the others on scoped threads) all finish.
    #[test]
    fn runs_end_before_run_returns() {
        let launches: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for round in 0..200 {
                        let next = AtomicUsize::new(0);
                        let sum = AtomicUsize::new(0);
                        let n = 1000 + round;
                        let work = || {
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                if i >= n {
                                    break;
                                }
                                sum.fetch_add(i, Ordering::Relaxed);
                            }
                        };
                        run(1, &work);
                        // Nothing runs the job any more: its state is final.
                        assert_eq!(sum.load(Ordering::Relaxed), n * (n - 1) / 2);
                    }
                })
            })
            .collect();
        for l in launches {
            l.join().unwrap();
        }
    }
}
