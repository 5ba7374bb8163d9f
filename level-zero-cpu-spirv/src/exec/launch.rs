//! A launch on worker threads: the work-groups are claimed from an atomic counter by one
//! [`Exec`] per thread (the launching thread and the helpers of `pool.rs`), in runs of
//! consecutive groups; the first failure stops the others and is the launch's error.

use super::{Exec, Shared, Stop};
use crate::ExecError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Runs the `total` work-groups (of `lanes` work-items each) of kernel `name`, writing their
/// printf output to `output`.
pub(crate) fn run(
    sh: &Shared<'_>,
    jit: Option<&crate::jit::Compiled>,
    name: &str,
    total: u64,
    lanes: u64,
    output: &mut (dyn std::io::Write + Send),
) -> Result<(), ExecError> {
    let items = total.saturating_mul(lanes);
    let cores = cores();
    let workers = if items < PARALLEL_MIN_ITEMS {
        1
    } else {
        cores.min(total)
    } as usize;
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let error: Mutex<Option<ExecError>> = Mutex::new(None);
    let out = Mutex::new(output);
    let work = || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            worker(sh, jit, name, &next, total, &stop, &error, &out)
        }));
        if r.is_err() {
            record(
                &error,
                &stop,
                ExecError::Failed(format!(
                    "kernel `{name}`: internal error in the engine (a bug)"
                )),
            );
        }
    };
    if workers <= 1 {
        work();
    } else {
        super::pool::run(workers - 1, &work);
    }
    let e = error.into_inner().unwrap_or_else(|p| p.into_inner());
    match e {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Launches of fewer work-items run on the calling thread alone: handing them to worker
/// threads would cost more than it saves. Under Miri (`.ci/miri`), whose launches are a few
/// work-groups, the threshold is low so that the worker threads, and the concurrent raw
/// accesses that Miri's data-race detector checks, run there too.
const PARALLEL_MIN_ITEMS: u64 = if cfg!(miri) { 64 } else { 8192 };

/// The number of worker threads (cached: `available_parallelism` reads cgroup files).
pub(super) fn cores() -> u64 {
    static CORES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(1)
    })
}

fn record(error: &Mutex<Option<ExecError>>, stop: &AtomicBool, e: ExecError) {
    stop.store(true, Ordering::SeqCst);
    let mut g = error.lock().unwrap_or_else(|p| p.into_inner());
    if g.is_none() {
        *g = Some(e);
    }
}

#[allow(clippy::too_many_arguments)]
fn worker(
    sh: &Shared<'_>,
    jit: Option<&crate::jit::Compiled>,
    name: &str,
    next: &AtomicU64,
    total: u64,
    stop: &AtomicBool,
    error: &Mutex<Option<ExecError>>,
    out: &Mutex<&mut (dyn std::io::Write + Send)>,
) {
    let mut ex = match Exec::new(sh) {
        Ok(e) => e,
        Err(m) => {
            return record(
                error,
                stop,
                ExecError::Failed(format!("kernel `{name}`: {m}")),
            );
        }
    };
    let mut jw = jit.map(|_| crate::jit::run::Worker::new(sh.grid.lanes(), sh.code.sites));
    let [cx, cy, _] = sh.grid.count.map(u64::from);
    // Work-groups are claimed in runs of consecutive ones, so that each worker walks
    // memory mostly sequentially (hardware prefetchers), while there are still enough runs
    // (64 per worker) to balance the load. Runs are not capped: vector add's 2^16 groups of
    // 256 streamed 1.2–1.6× slower in runs of 16 (16 KiB of each array per run) than in runs
    // of 512; matrix products (4096 groups, runs of 32) took the same time either way.
    let run = (total / (cores() * 64)).max(1);
    let (mut g, mut end) = (0u64, 0u64);
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if g >= end {
            g = next.fetch_add(run, Ordering::Relaxed);
            end = g.saturating_add(run).min(total);
        }
        if g >= total {
            return;
        }
        let gid = [
            (g % cx) as u32,
            ((g / cx) % cy) as u32,
            (g / (cx * cy)) as u32,
        ];
        g += 1;
        let r = match (jit, jw.as_mut()) {
            (Some(j), Some(w)) => crate::jit::run::run_group(&mut ex, w, j, gid),
            _ => ex.run_group(gid),
        };
        if !ex.out.is_empty() {
            let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
            let _ = o.write_all(&ex.out);
            ex.out.clear();
        }
        if let Err(e) = r {
            let e = match e {
                Stop::Oob { lane, fault, .. } if fault.read_only => ExecError::ReadOnly {
                    kernel: name.to_string(),
                    address: fault.address,
                    size: fault.size,
                    global_id: ex.global_id(lane),
                },
                Stop::Oob { lane, fault, write } => ExecError::OutOfBounds {
                    kernel: name.to_string(),
                    address: fault.address,
                    size: fault.size,
                    write,
                    global_id: ex.global_id(lane),
                },
                Stop::Failed(m) => ExecError::Failed(format!("kernel `{name}`: {m}")),
            };
            return record(error, stop, e);
        }
    }
}
