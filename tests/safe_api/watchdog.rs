//! A watchdog thread: a program that runs longer than its limit aborts the process with a
//! message naming the program (a hang must not pass silently, nor stall a test run forever).

use std::io::Write;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Armed {
    generation: u64,
    deadline: Instant,
    limit: Duration,
    label: String,
}

struct Dog {
    state: Mutex<(u64, Vec<Armed>)>,
    cv: Condvar,
}

fn dog() -> &'static Dog {
    static DOG: OnceLock<&'static Dog> = OnceLock::new();
    DOG.get_or_init(|| {
        let d: &'static Dog = Box::leak(Box::new(Dog {
            state: Mutex::new((0, Vec::new())),
            cv: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("safe-api-watchdog".into())
            .spawn(move || watch(d))
            .expect("the watchdog thread");
        d
    })
}

fn watch(d: &'static Dog) {
    let mut s = d.state.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let now = Instant::now();
        if let Some(a) = s.1.iter().find(|a| a.deadline <= now) {
            // Straight to stderr: the test harness's output capture (which `eprintln!` goes
            // through) would lose the message when the process aborts.
            let _ = writeln!(
                std::io::stderr(),
                "\n=== safe_api watchdog: a program ran longer than {:?}: a hang. Aborting. ===\n{}\n",
                a.limit,
                a.label
            );
            std::process::abort();
        }
        let next = s.1.iter().map(|a| a.deadline).min();
        s = match next {
            Some(t) => {
                d.cv.wait_timeout(s, t.saturating_duration_since(now))
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
            None => d.cv.wait(s).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

/// Disarms the watchdog for one program when dropped.
pub struct Guard {
    generation: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let d = dog();
        let mut s = d.state.lock().unwrap_or_else(|p| p.into_inner());
        s.1.retain(|a| a.generation != self.generation);
        d.cv.notify_all();
    }
}

/// Aborts the process, printing `label`, unless the returned guard is dropped within `limit`.
pub fn arm(limit: Duration, label: String) -> Guard {
    let d = dog();
    let mut s = d.state.lock().unwrap_or_else(|p| p.into_inner());
    s.0 += 1;
    let generation = s.0;
    s.1.push(Armed {
        generation,
        deadline: Instant::now() + limit,
        limit,
        label,
    });
    d.cv.notify_all();
    Guard { generation }
}
