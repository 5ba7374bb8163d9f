//! What the benchmarks share: per-sample timings collected next to criterion's own, so each
//! benchmark binary can print the ratios the README reports, measured in the same process.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::Criterion;

/// Per-sample times (nanoseconds per iteration), by benchmark id.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Benchmarks `f` as `group/id`, recording each sample's time per iteration.
pub fn bench(c: &mut Criterion, group: &str, id: &str, mut f: impl FnMut()) {
    let key = format!("{group}/{id}");
    c.bench_function(&key, |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            let d = t.elapsed();
            SAMPLES
                .lock()
                .unwrap()
                .entry(key.clone())
                .or_default()
                .push(d.as_nanos() as f64 / iters.max(1) as f64);
            d
        })
    });
}

/// The median time per iteration of `group/id`, in nanoseconds.
pub fn median(key: &str) -> Option<f64> {
    let s = SAMPLES.lock().unwrap();
    let mut v = s.get(key)?.clone();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// A criterion configured for this suite: `fast` for micro-benchmarks, slow otherwise.
pub fn criterion(samples: usize, measure: Duration) -> Criterion {
    Criterion::default()
        .sample_size(samples.max(10))
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measure)
        .configure_from_args()
}

/// Formats nanoseconds.
pub fn ns(t: f64) -> String {
    if t < 1e3 {
        format!("{t:.0} ns")
    } else if t < 1e6 {
        format!("{:.2} µs", t / 1e3)
    } else if t < 1e9 {
        format!("{:.2} ms", t / 1e6)
    } else {
        format!("{:.2} s", t / 1e9)
    }
}

/// Prints one row of a ratio table: `what`, the two medians and `a / b`.
pub fn ratio_row(what: &str, a_key: &str, b_key: &str, label: &str) {
    match (median(a_key), median(b_key)) {
        (Some(a), Some(b)) => {
            println!("| {what} | {} | {} | {:.3}× {label} |", ns(a), ns(b), a / b)
        }
        _ => println!("| {what} | — | — | not measured |"),
    }
}

/// The ratio of `a`'s time to `b`'s, measured in alternating rounds of `iters` calls each (so
/// slow drifts of the machine affect both alike); the median of the per-round ratios.
pub fn paired_ratio(rounds: usize, iters: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> f64 {
    let mut ratios = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..iters {
            a();
        }
        let ta = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..iters {
            b();
        }
        let tb = t.elapsed().as_secs_f64();
        ratios.push(ta / tb);
    }
    ratios.sort_by(|x, y| x.total_cmp(y));
    ratios[ratios.len() / 2]
}
