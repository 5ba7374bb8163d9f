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
//! The job runs inside `catch_unwind`, so a panic cannot skip the `running -= 1`; a caught
//! panic's payload, whose `drop` may panic too, is dropped only after the `running -= 1` (in
//! a helper) or after the wait (in [`run`]).

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
    /// A helper's run of the job panicked.
    panicked: bool,
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
    /// The process that started the helpers: a child made by `fork` has none of them (and
    /// may have inherited the lock held), so its launches spawn scoped threads.
    pid: u32,
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
            pid: std::process::id(),
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
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let mut st = lock(&pool.state);
        st.running -= 1;
        st.panicked |= r.is_err();
        if st.running == 0 {
            pool.done.notify_all();
        }
        drop(st);
        // A panic's payload is dropped only now, and its own panic caught (and that one's
        // payload leaked): a payload whose `drop` panics would otherwise have ended this
        // thread with `running` still counting it, and `run` would have waited for good.
        if let Err(p) = r
            && let Err(q) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(p)))
        {
            std::mem::forget(q);
        }
    }
}

/// Runs `f` on the calling thread and on `extra` more threads at once, returning when every
/// run has returned; a panic in any run panics here after that, as `std::thread::scope`
/// does. `f` must divide the work among however many runs come (a run may start
/// after the others have finished everything, and must then return).
pub(crate) fn run(extra: usize, f: &(dyn Fn() + Sync)) {
    let helpers = super::launch::cores().saturating_sub(1) as usize;
    let Some(pool) = pool(helpers).filter(|p| extra <= p.helpers && p.pid == std::process::id())
    else {
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
        st.panicked = false;
        st.epoch += 1;
        pool.epoch.store(st.epoch, Ordering::Release);
    }
    pool.wake.notify_all();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let helper_panicked = {
        let mut st = lock(&pool.state);
        st.job = None;
        st.want = 0;
        while st.running > 0 {
            st = pool.done.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.panicked
    };
    pool.busy.store(false, Ordering::Release);
    // Panics go on as `std::thread::scope` passes them on (the scoped path): the calling
    // thread's own, else one for a helper's. Only now, after no helper can touch `f` any
    // more (a payload whose `drop` panics, dropped at the `catch_unwind`, unwound out of
    // `run` with the job still published and `busy` set).
    if let Err(p) = r {
        std::panic::resume_unwind(p);
    }
    if helper_panicked {
        panic!("a helper thread of the launch panicked");
    }
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

// Not under Miri: there the pool is off (every launch takes scoped threads).
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;
    use std::panic::AssertUnwindSafe;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;

    const SC: Ordering = Ordering::SeqCst;

    /// Serialises the tests below that want the pool to themselves (a launch that finds it
    /// busy takes scoped threads, which they would not exercise).
    fn serial() -> MutexGuard<'static, ()> {
        static SERIAL: Mutex<()> = Mutex::new(());
        SERIAL.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The process's pool (`None`: one core, or no thread could be started).
    fn the_pool() -> Option<&'static Pool> {
        pool(crate::exec::launch::cores().saturating_sub(1) as usize)
    }

    /// Whether the calling thread is one of the pool's helpers.
    fn on_helper() -> bool {
        std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("l0cpu-engine-"))
    }

    /// Waits until `cond` holds (true) or `limit` has passed (false).
    fn wait_for(limit: Duration, cond: impl Fn() -> bool) -> bool {
        let start = Instant::now();
        while !cond() {
            if start.elapsed() > limit {
                return false;
            }
            std::thread::yield_now();
        }
        true
    }

    /// A panic payload whose `drop` panics.
    struct Bomb;

    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("pool test: a panic payload's drop panics");
        }
    }

    /// Counts a run as active while it lives, unwinding included.
    struct Active<'a>(&'a AtomicUsize);

    impl<'a> Active<'a> {
        fn new(n: &'a AtomicUsize) -> Self {
            n.fetch_add(1, SC);
            Active(n)
        }
    }

    impl Drop for Active<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SC);
        }
    }

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

    /// Three threads launch at once, 1500 times each, with 0, 1 or 2 extra runs (2 is more
    /// than a 2-core machine's pool has: scoped threads) and closures that borrow data of
    /// the launching frame, overwritten as soon as `run` returns: no run may still be active,
    /// start, or find the data overwritten afterwards. Every 100th round pauses past `SPIN`,
    /// so that the next launch finds the helpers asleep.
    #[test]
    fn no_run_outlives_its_launch() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let _g = serial();
        let threads: Vec<_> = (0..3usize)
            .map(|t| {
                std::thread::spawn(move || {
                    for round in 0..1500usize {
                        let generation = (t << 20 | round) + 1;
                        let canary = AtomicUsize::new(generation);
                        let active = AtomicUsize::new(0);
                        let runs = AtomicUsize::new(0);
                        let next = AtomicUsize::new(0);
                        let sum = AtomicUsize::new(0);
                        let n = 64 + (round % 7) * 100;
                        let f = || {
                            let _a = Active::new(&active);
                            runs.fetch_add(1, SC);
                            if canary.load(SC) != generation {
                                LATE.fetch_add(1, SC);
                            }
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                if i >= n {
                                    break;
                                }
                                sum.fetch_add(i, Ordering::Relaxed);
                            }
                            if canary.load(SC) != generation {
                                LATE.fetch_add(1, SC);
                            }
                        };
                        let extra = round % 3;
                        run(extra, &f);
                        let (a, r, s) = (active.load(SC), runs.load(SC), sum.load(SC));
                        canary.store(0, SC);
                        assert_eq!(a, 0, "a run was still active after `run` returned");
                        assert!((1..=extra + 1).contains(&r), "{r} runs for {extra} extra");
                        assert_eq!(s, n * (n - 1) / 2);
                        if round % 100 == 99 {
                            std::thread::sleep(SPIN * 2);
                        }
                        assert_eq!(runs.load(SC), r, "a run started after `run` returned");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(LATE.load(SC), 0, "runs saw their launch's data overwritten");
    }

    /// Every run a launch asks for comes, whether the helpers are watching for the job or
    /// asleep (after more than `SPIN`): each run waits here for all of them, so a lost
    /// wake-up would show as a run missing for 2 s.
    #[test]
    fn asked_runs_come_awake_or_asleep() {
        let _g = serial();
        let extra = (crate::exec::launch::cores().saturating_sub(1) as usize).clamp(1, 3);
        let on_helpers = AtomicUsize::new(0);
        let start = Instant::now();
        let mut round = 0u64;
        // 60 rounds, and then more (for 2 s at most) until a helper took part in one, if
        // there is a pool (other tests' launches may have held it meanwhile).
        while round < 60
            || (the_pool().is_some()
                && on_helpers.load(SC) == 0
                && start.elapsed() < Duration::from_secs(2))
        {
            if round.is_multiple_of(2) {
                std::thread::sleep(SPIN + Duration::from_micros(200 + 20 * round));
            }
            let arrived = AtomicUsize::new(0);
            let missing = AtomicBool::new(false);
            let f = || {
                if on_helper() {
                    on_helpers.fetch_add(1, SC);
                }
                arrived.fetch_add(1, SC);
                if !wait_for(Duration::from_secs(2), || arrived.load(SC) == extra + 1) {
                    missing.store(true, SC);
                }
            };
            run(extra, &f);
            assert!(
                !missing.load(SC),
                "round {round}: {} of {} runs came",
                arrived.load(SC),
                extra + 1
            );
            round += 1;
        }
        if the_pool().is_some() {
            assert!(
                on_helpers.load(SC) > 0,
                "no helper took part in {round} rounds"
            );
        }
    }

    /// Runs that panic, on the launching thread, on a helper or on both, do not escape the
    /// pool's `run` (scoped threads pass them on: either is accepted here), no run outlives
    /// its launch, and later launches still get all their runs.
    #[test]
    fn panicking_runs() {
        let _g = serial();
        let launcher = std::thread::current().id();
        for round in 0..40 {
            let active = AtomicUsize::new(0);
            let arrived = AtomicUsize::new(0);
            let f = || {
                let _a = Active::new(&active);
                arrived.fetch_add(1, SC);
                let _ = wait_for(Duration::from_millis(100), || arrived.load(SC) == 2);
                let mine = std::thread::current().id() == launcher;
                if (round % 3 == 0 && mine) || (round % 3 == 1 && !mine) || round % 3 == 2 {
                    panic!("pool test: a run panics (round {round})");
                }
            };
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| run(1, &f)));
            assert_eq!(active.load(SC), 0, "round {round}: a run outlived `run`");
        }
        let arrived = AtomicUsize::new(0);
        let missing = AtomicBool::new(false);
        let f = || {
            arrived.fetch_add(1, SC);
            if !wait_for(Duration::from_secs(2), || arrived.load(SC) == 2) {
                missing.store(true, SC);
            }
        };
        run(1, &f);
        assert!(!missing.load(SC), "after panics, a launch lacked a run");
    }

    /// No extra run: `f` runs once, on the calling thread. More extra runs than the pool
    /// has helpers: scoped threads, all of them.
    #[test]
    fn zero_and_too_many_extra_runs() {
        let me = std::thread::current().id();
        for round in 0..20 {
            if round % 4 == 0 {
                std::thread::sleep(SPIN * 2);
            }
            let runs = AtomicUsize::new(0);
            let elsewhere = AtomicBool::new(false);
            run(0, &|| {
                runs.fetch_add(1, SC);
                if std::thread::current().id() != me {
                    elsewhere.store(true, SC);
                }
            });
            assert_eq!(runs.load(SC), 1);
            assert!(!elsewhere.load(SC), "run(0, f) ran f on another thread");
        }
        let extra = crate::exec::launch::cores() as usize + 1;
        let runs = AtomicUsize::new(0);
        let missing = AtomicBool::new(false);
        run(extra, &|| {
            runs.fetch_add(1, SC);
            if !wait_for(Duration::from_secs(2), || runs.load(SC) == extra + 1) {
                missing.store(true, SC);
            }
        });
        assert_eq!(runs.load(SC), extra + 1);
        assert!(!missing.load(SC));
    }

    /// A run that launches in turn (on the launching thread or a helper) finds the pool busy
    /// and takes scoped threads: no deadlock, and every nested launch gets all its runs.
    #[test]
    fn nested_launches() {
        let (tx, rx) = mpsc::channel();
        let t = std::thread::spawn(move || {
            for round in 0..40 {
                let outer = AtomicUsize::new(0);
                let inner = AtomicUsize::new(0);
                let f = || {
                    outer.fetch_add(1, SC);
                    let g = || {
                        inner.fetch_add(1, SC);
                        run(1, &|| {
                            inner.fetch_add(1, SC);
                        });
                    };
                    run(1, &g);
                };
                run(1, &f);
                // Each run of `f` runs `g` twice, and each of those its closure twice.
                assert_eq!(inner.load(SC), 6 * outer.load(SC), "round {round}");
            }
            let _ = tx.send(());
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("nested launches deadlocked"),
            _ => t.join().unwrap(),
        }
    }

    /// A panic on the launching thread whose payload's `drop` panics may unwind out of
    /// `run`, but only once no helper runs the job. (`run` dropped the payload at its
    /// `catch_unwind`, before withdrawing the job and waiting: it unwound while a helper
    /// still ran a closure whose borrow was ending, and left `busy` set.)
    #[test]
    fn launcher_payload_panicking_on_drop() {
        if the_pool().is_none() {
            return;
        }
        let _g = serial();
        let launcher = std::thread::current().id();
        for _attempt in 0..10 {
            let helper_in = AtomicBool::new(false);
            let active = AtomicUsize::new(0);
            let seen = AtomicBool::new(false);
            let f = || {
                if on_helper() {
                    let _a = Active::new(&active);
                    helper_in.store(true, SC);
                    // Long enough for `run` to have unwound if it does not wait (printing the
                    // panics' backtraces can take tens of milliseconds).
                    let _ = wait_for(Duration::from_millis(500), || seen.load(SC));
                } else if std::thread::current().id() == launcher
                    && wait_for(Duration::from_millis(200), || helper_in.load(SC))
                {
                    std::panic::panic_any(Bomb);
                }
            };
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| run(1, &f)));
            let late = active.load(SC);
            seen.store(true, SC);
            // `f` and what it borrows stay alive until the helper is done, whatever happened.
            assert!(wait_for(Duration::from_secs(10), || active.load(SC) == 0));
            if helper_in.load(SC) {
                assert_eq!(late, 0, "`run` unwound while a helper still ran the job");
                assert!(r.is_err(), "the payload's panic was lost");
                // `run` passed the `Bomb` on: dropping it here would panic the test.
                std::mem::forget(r);
                return;
            }
            // No helper came (the pool busy with another test's launch): again.
            drop(r);
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("no helper took a job in 10 attempts");
    }

    /// A panic on a helper whose payload's `drop` panics: `run` still returns, and the
    /// helper lives on. (The helper dropped the payload at its `catch_unwind`: the thread
    /// ended with `running` still counting it, and `run` waited for good.)
    #[test]
    fn helper_payload_panicking_on_drop() {
        if the_pool().is_none() {
            return;
        }
        let _g = serial();
        let mut bombed = false;
        for _attempt in 0..10 {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let helper_in = AtomicBool::new(false);
                let f = || {
                    if on_helper() {
                        helper_in.store(true, SC);
                        std::panic::panic_any(Bomb);
                    }
                    let _ = wait_for(Duration::from_millis(200), || helper_in.load(SC));
                };
                // A helper's panic is passed on, as `std::thread::scope` does.
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| run(1, &f)));
                let _ = tx.send((helper_in.load(SC), r.is_err()));
            });
            match rx.recv_timeout(Duration::from_secs(3)) {
                Ok((true, panicked)) => {
                    assert!(panicked, "`run` lost a helper's panic");
                    bombed = true;
                    break;
                }
                Ok((false, _)) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => panic!("`run` did not return after a helper's payload panicked"),
            }
        }
        assert!(bombed, "no helper took a job in 10 attempts");
        // The helper lived on (the only one on a 2-core machine): a launch still gets one.
        let helped = (0..10).any(|_| {
            let helper_in = AtomicBool::new(false);
            run(1, &|| {
                if on_helper() {
                    helper_in.store(true, SC);
                }
                let _ = wait_for(Duration::from_millis(200), || helper_in.load(SC));
            });
            helper_in.load(SC)
        });
        assert!(helped, "no helper took a job after one's payload panicked");
    }
}
