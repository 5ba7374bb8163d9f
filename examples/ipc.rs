//! Two processes share a device buffer and an event: this program starts a second copy of
//! itself, hands it IPC handles of a buffer and of an IPC event pool (as hex on its command
//! line), the child writes a pattern into the buffer and signals the event, and the parent
//! waits for the event and checks every element. Exits non-zero on any mismatch.
//!
//! ```sh
//! cargo run --example ipc                       # the embedded CPU driver
//! cargo build -p level-zero-cpu                 # through the official loader:
//! LEVEL_ZERO_BACKEND=system ZE_ENABLE_ALT_DRIVERS=$PWD/target/debug/liblevel_zero_cpu.so \
//!     cargo run --example ipc
//! ```
//!
//! Both processes must use the same driver (the child inherits the environment, and the
//! handles record the driver's UUID). On Intel's GPU driver the memory handle's file
//! descriptor is valid only in the exporting process: a real application sends it over a
//! Unix socket (see `level_zero::ipc`); the CPU driver's handles work as bytes alone.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use level_zero::ipc::{ExportedMemory, IpcEventPoolHandle, IpcMemoryHandle};
use level_zero::{
    Context, DeviceBuffer, Driver, Error, EventPool, EventPoolFlags, ImmediateCommandList,
    IpcFlags, Runtime,
};

const N: usize = 1 << 20;

/// The last elements, which the child fills (the rest it copies).
const TAIL: usize = 256;
const TAIL_VALUE: u32 = 0xfeed_face;

fn pattern(i: usize) -> u32 {
    (i as u32).wrapping_mul(2_654_435_761) ^ 0xc0ffee
}

fn expected(i: usize) -> u32 {
    if i >= N - TAIL {
        TAIL_VALUE
    } else {
        pattern(i)
    }
}

/// The first driver that shares memory and event pools (the same choice in both processes).
fn ipc_driver(rt: &Runtime) -> Result<Driver, Error> {
    let want = IpcFlags::MEMORY | IpcFlags::EVENT_POOL;
    for d in rt.drivers() {
        if d.ipc_flags()?.contains(want) {
            return Ok(d);
        }
    }
    Err(Error::NoBackend(format!(
        "no driver of {} shares memory and event pools",
        rt.backend()
    )))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let r = if args.get(1).map(String::as_str) == Some("child") && args.len() == 4 {
        child(&args[2], &args[3])
    } else {
        parent()
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ipc: {e}");
            ExitCode::FAILURE
        }
    }
}

fn child(memory: &str, pool: &str) -> Result<bool, Error> {
    let rt = Runtime::init()?;
    let driver = ipc_driver(&rt)?;
    let device = driver.devices()?.remove(0);
    let ctx = Context::new(&driver)?;
    let memory = IpcMemoryHandle::from_hex(memory)?;
    let pool = IpcEventPoolHandle::from_hex(pool)?;
    // SAFETY: the parent exported both with this driver, keeps the exports until this
    // process has exited, and touches the buffer only after the event we signal.
    let (buf, pool) = unsafe { (memory.open::<u32>(&ctx, &device)?, pool.open(&ctx)?) };
    let done = pool.event(0)?;
    let data: Vec<u32> = (0..buf.len()).map(pattern).collect();
    let mut list = ImmediateCommandList::compute(&ctx, &device)?;
    list.copy_from_slice(&buf, &data)?;
    list.fill(&buf.slice(buf.len() - TAIL..), TAIL_VALUE)?;
    list.signal_event(&done)?;
    list.synchronize()?;
    Ok(true)
}

fn parent() -> Result<bool, Error> {
    let rt = Runtime::init()?;
    let driver = ipc_driver(&rt)?;
    let device = driver.devices()?.remove(0);
    let ctx = Context::new(&driver)?;
    let buf = DeviceBuffer::<u32>::new(&ctx, &device, N)?;
    let mut list = ImmediateCommandList::compute(&ctx, &device)?;
    list.fill(&buf, 0u32)?;
    list.synchronize()?;
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::IPC | EventPoolFlags::HOST_VISIBLE)?;
    let done = pool.event(0)?;
    let memory = ExportedMemory::new(&buf)?;
    let events = pool.export_ipc()?;

    let exe = std::env::current_exe().map_err(|e| Error::NoBackend(e.to_string()))?;
    let mut child = Command::new(exe)
        .args([
            "child",
            &memory.handle().to_hex(),
            &events.handle().to_hex(),
        ])
        .spawn()
        .map_err(|e| Error::NoBackend(format!("starting the child: {e}")))?;
    let started = Instant::now();
    // Wait for the child's event, watching the child: one that fails never signals.
    let signalled = loop {
        if done.host_synchronize_timeout(Some(Duration::from_millis(50)))? {
            break true;
        }
        let exited = child.try_wait().ok().flatten().is_some();
        if (exited && !done.is_signaled()?) || started.elapsed() > Duration::from_secs(120) {
            break false;
        }
    };
    let status = child
        .wait()
        .map_err(|e| Error::NoBackend(format!("waiting for the child: {e}")))?;
    if !signalled || !status.success() {
        println!("ipc: FAILED: the child ({status}) did not signal the event");
        return Ok(false);
    }
    let mut got = vec![0u32; N];
    list.copy_to_slice(&mut got, &buf)?;
    let bad = (0..N).filter(|&i| got[i] != expected(i)).count();
    println!(
        "ipc: {} on {}: child {} wrote {N} u32 (a copy and a fill) through IPC memory and signalled an IPC event \
         in {:.0?}; {bad} mismatches",
        if bad == 0 { "OK" } else { "FAILED" },
        rt.backend(),
        child.id(),
        started.elapsed()
    );
    Ok(bad == 0)
}
