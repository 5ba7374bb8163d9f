//! IPC of device memory and event pools: handles as bytes, opened buffers and pools with the
//! crate's guarantees, close and drop orders, and two processes sharing a buffer and an event.
//! Each test skips (saying so) where the driver lacks IPC.

mod common;

use std::time::{Duration, Instant};

use common::TestDriver;
use level_zero::ipc::{ExportedMemory, IpcEventPoolHandle, IpcMemoryHandle};
use level_zero::{
    Backend, Context, Device, DeviceBuffer, Driver, Error, EventPool, EventPoolFlags,
    ImmediateCommandList, IpcFlags, Runtime,
};

const MEMORY: &[&str] = &[
    "zeMemGetIpcHandle",
    "zeMemOpenIpcHandle",
    "zeMemCloseIpcHandle",
    "zeMemGetAddressRange",
];
const POOLS: &[&str] = &[
    "zeEventPoolGetIpcHandle",
    "zeEventPoolOpenIpcHandle",
    "zeEventPoolCloseIpcHandle",
];

/// Whether the driver shares `what` (the functions reached and the IPC property set).
fn shares(t: &TestDriver, functions: &[&str], what: IpcFlags) -> bool {
    if !common::reaches(t, functions) {
        return false;
    }
    let flags = t.driver.ipc_flags().unwrap();
    if !flags.contains(what) {
        eprintln!("SKIPPED: the driver's IPC properties are {flags:?}, without {what:?}");
        return false;
    }
    true
}

/// Whether an export failed only because the driver implements no IPC.
fn unsupported(r: &level_zero::Result<impl Sized>) -> bool {
    match r {
        Err(e @ Error::Call { .. }) | Err(e @ Error::Unsupported { .. }) => {
            eprintln!("SKIPPED: {e}");
            true
        }
        _ => false,
    }
}

fn read(ctx: &Context, dev: &Device, m: &impl level_zero::Memory<u32>) -> Vec<u32> {
    let mut out = vec![0u32; m.len()];
    ImmediateCommandList::compute(ctx, dev)
        .unwrap()
        .copy_to_slice(&mut out, m)
        .unwrap();
    out
}

#[test]
fn memory_handles_round_trip_and_open_as_buffers() {
    let t = TestDriver::new();
    if !shares(&t, MEMORY, IpcFlags::MEMORY) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 4096).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.copy_from_slice(&buf, &(0..4096).collect::<Vec<u32>>())
        .unwrap();
    // A slice: the handle names the allocation and the slice's place in it.
    let export = ExportedMemory::new(&buf.slice(1024..3072));
    if unsupported(&export) {
        return;
    }
    let export = export.unwrap();
    let bytes = export.handle().to_bytes();
    let handle = IpcMemoryHandle::from_bytes(&bytes).unwrap();
    assert_eq!(&handle, export.handle());
    assert_eq!(IpcMemoryHandle::from_hex(&handle.to_hex()).unwrap(), handle);
    assert_eq!((handle.len(), handle.element_size()), (2048, 4));

    // Opened in another context of the same driver (what another process does).
    let other = t.context();
    // SAFETY: a live export of this driver; the test orders the uses (each list is
    // synchronised before the other side's next use).
    let opened: DeviceBuffer<u32> = unsafe { handle.open(&other, &dev) }.unwrap();
    assert_eq!(opened.len(), 2048);
    assert_eq!(
        read(&other, &dev, &opened),
        (1024..3072).collect::<Vec<_>>()
    );
    ImmediateCommandList::compute(&other, &dev)
        .unwrap()
        .copy_from_slice(&opened.slice(..2), &[7, 8])
        .unwrap();
    assert_eq!(read(&ctx, &dev, &buf.slice(1023..1026)), [1023, 7, 8]);
    drop((opened, export, buf, list));
}

#[test]
fn handles_are_checked_before_opening() {
    let t = TestDriver::new();
    if !shares(&t, MEMORY, IpcFlags::MEMORY) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 64).unwrap();
    let export = ExportedMemory::new(&buf);
    if unsupported(&export) {
        return;
    }
    let export = export.unwrap();
    let bytes = export.handle().to_bytes();
    let invalid = |r: level_zero::Result<IpcMemoryHandle>, words: &str| match r {
        Err(Error::InvalidArgument { reason, .. }) => assert!(reason.contains(words), "{reason}"),
        other => panic!("{other:?}"),
    };
    invalid(IpcMemoryHandle::from_bytes(&bytes[1..]), "bytes");
    let mut b = bytes.clone();
    b[0] ^= 1;
    invalid(IpcMemoryHandle::from_bytes(&b), "magic");
    let mut b = bytes.clone();
    b[9] = 2;
    invalid(IpcMemoryHandle::from_bytes(&b), "kind");
    invalid(IpcMemoryHandle::from_hex("abc"), "hex");
    assert!(IpcEventPoolHandle::from_bytes(&bytes).is_err());

    // Another element size, or another driver: refused before zeMemOpenIpcHandle.
    let h = export.handle();
    // SAFETY: a live export of this driver (refused before anything is opened anyway).
    let e = unsafe { h.open::<u64>(&ctx, &dev) }.unwrap_err();
    assert!(e.to_string().contains("elements of 4 bytes"), "{e}");
    // Another driver instance (embedded only: the system backend has one CPU driver).
    if let Some(elsewhere) = TestDriver::with(|_| {}) {
        let ectx = elsewhere.context();
        // SAFETY: as above.
        let e = unsafe { h.open::<u32>(&ectx, &elsewhere.device()) }.unwrap_err();
        assert!(e.to_string().contains("same driver"), "{e}");
    }
    // Host memory cannot be exported.
    let host = level_zero::HostBuffer::<u32>::new(&ctx, 4).unwrap();
    assert!(matches!(
        ExportedMemory::new(&host),
        Err(Error::InvalidArgument { .. })
    ));
    drop((export, buf, host));
}

#[test]
fn the_exporter_may_go_first_and_the_importer_closes_after_its_last_command() {
    let t = TestDriver::new();
    if !shares(&t, MEMORY, IpcFlags::MEMORY) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 1 << 16).unwrap();
    let export = ExportedMemory::new(&buf);
    if unsupported(&export) {
        return;
    }
    let export = export.unwrap();
    let handle = export.handle().clone();
    let importer = t.context();
    // SAFETY: a live export of this driver; the exporter's side is not used after this.
    let opened: DeviceBuffer<u32> = unsafe { handle.open(&importer, &dev) }.unwrap();
    // The exporter drops its buffer first (the export kept it alive) and then the export.
    drop(buf);
    drop(export);
    // The importer still uses the memory, through gated commands that outlive its buffer.
    let pool = EventPool::new(&importer, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let host = level_zero::HostBuffer::<u32>::new(&importer, 1 << 16).unwrap();
    let mut list = ImmediateCommandList::compute(&importer, &dev).unwrap();
    list.wait_events(&[&gate]).unwrap();
    list.fill(&opened, 6u32).unwrap();
    list.copy(&host, &opened).unwrap();
    drop(opened);
    std::thread::sleep(Duration::from_millis(50));
    gate.host_signal().unwrap();
    list.synchronize().unwrap();
    assert!(
        host.as_slice().unwrap().iter().all(|&x| x == 6),
        "the opened memory was closed under its commands"
    );
    assert!(
        level_zero::cpu::sanitizer_report(&t.driver)
            .unwrap()
            .is_clean()
    );
    drop((list, gate, pool, host));
    // `t` checks that the exported allocation and the opened handle are gone.
}

#[test]
fn event_pools_open_as_pools_whose_events_are_the_exporters() {
    let t = TestDriver::new();
    if !shares(&t, POOLS, IpcFlags::EVENT_POOL) {
        return;
    }
    let ctx = t.context();
    // A pool without the IPC flag cannot be exported.
    let plain = EventPool::new(&ctx, 2, EventPoolFlags::HOST_VISIBLE).unwrap();
    assert!(matches!(
        plain.export_ipc(),
        Err(Error::InvalidArgument { .. })
    ));
    let pool = EventPool::new(&ctx, 4, EventPoolFlags::IPC | EventPoolFlags::HOST_VISIBLE).unwrap();
    let export = pool.export_ipc();
    if unsupported(&export) {
        return;
    }
    let export = export.unwrap();
    let handle = IpcEventPoolHandle::from_hex(&export.handle().to_hex()).unwrap();
    assert_eq!((handle.count(), handle.flags()), (4, pool.flags()));
    let theirs = pool.event(2).unwrap();
    let other = t.context();
    // SAFETY: a live export of this driver.
    let opened = unsafe { handle.open(&other) }.unwrap();
    assert!(opened.is_ipc_opened() && !pool.is_ipc_opened());
    let ours = opened.event(2).unwrap();
    assert!(!ours.is_signaled().unwrap());
    theirs.host_signal().unwrap();
    ours.host_synchronize_timeout(Some(Duration::from_secs(10)))
        .unwrap()
        .then_some(())
        .expect("the opened event did not see the exporter's signal");
    // The exporter's pool and export go first; the opened pool is closed after its event.
    drop((theirs, export, pool, plain));
    let mut list = ImmediateCommandList::compute(&other, &t.device()).unwrap();
    list.wait_events(&[&ours]).unwrap();
    drop((ours, opened));
    list.synchronize().unwrap();
}

// =======================================================================================
// Two processes.

const CHILD_MEMORY: &str = "L0_IPC_TEST_MEMORY";
const CHILD_POOL: &str = "L0_IPC_TEST_POOL";
const N: usize = 1 << 15;

fn pattern(i: usize) -> u32 {
    (i as u32).wrapping_mul(2_654_435_761) ^ 0x5a5a
}

/// The driver both processes use: the system loader's (the same in both), or the embedded
/// driver's default instance (the same configuration and UUID in both), with its own leak
/// check.
fn shared_driver() -> (Option<TestDriver>, Driver) {
    if common::system_backend() {
        let t = TestDriver::new();
        let d = t.driver.clone();
        return (Some(t), d);
    }
    let rt = Runtime::new(Backend::Cpu).unwrap();
    (None, rt.drivers()[0].clone())
}

/// Run by the child process only (ignored otherwise; without the handles it does nothing).
#[test]
#[ignore = "the child of two_processes_share_memory_and_an_event"]
fn ipc_child() {
    let Ok(mem) = std::env::var(CHILD_MEMORY) else {
        return;
    };
    let (_t, driver) = shared_driver();
    let ctx = Context::new(&driver).unwrap();
    let dev = driver.devices().unwrap().remove(0);
    let mem = IpcMemoryHandle::from_hex(&mem).unwrap();
    // SAFETY: the parent holds the export until this process exits, and waits for the
    // event (or the exit) before it touches the buffer again.
    let buf = unsafe { mem.open::<u32>(&ctx, &dev) }.unwrap();
    let pool = std::env::var(CHILD_POOL).ok().map(|p| {
        let p = IpcEventPoolHandle::from_hex(&p).unwrap();
        // SAFETY: as above.
        unsafe { p.open(&ctx) }.unwrap()
    });
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let data: Vec<u32> = (0..buf.len()).map(pattern).collect();
    list.copy_from_slice(&buf, &data).unwrap();
    if let Some(pool) = &pool {
        let done = pool.event(0).unwrap();
        list.signal_event(&done).unwrap();
    }
    list.synchronize().unwrap();
    drop((list, buf, pool));
    println!("ipc child: wrote {N} elements");
}

#[test]
fn two_processes_share_memory_and_an_event() {
    let (t, driver) = shared_driver();
    let api_has = |f: &str| driver.runtime().api().is_present(f) == Some(true);
    if let Some(f) = MEMORY.iter().find(|f| !api_has(f)) {
        eprintln!("SKIPPED: this backend does not reach {f}");
        return;
    }
    let flags = driver.ipc_flags().unwrap();
    if !flags.contains(IpcFlags::MEMORY) {
        eprintln!("SKIPPED: the driver's IPC properties are {flags:?}");
        return;
    }
    // Without event-pool IPC, the child's exit stands for its completion.
    let with_event = POOLS.iter().all(|f| api_has(f)) && flags.contains(IpcFlags::EVENT_POOL);
    if !with_event {
        eprintln!("NOTE: no event-pool IPC here: memory only, the child's exit as its signal");
    }
    let before = level_zero::cpu::live_objects(&driver).unwrap();
    {
        let ctx = Context::new(&driver).unwrap();
        let dev = driver.devices().unwrap().remove(0);
        let buf = DeviceBuffer::<u32>::new(&ctx, &dev, N).unwrap();
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        list.fill(&buf, 0u32).unwrap();
        list.synchronize().unwrap();
        let pool =
            EventPool::new(&ctx, 1, EventPoolFlags::IPC | EventPoolFlags::HOST_VISIBLE).unwrap();
        let done = pool.event(0).unwrap();
        let mem = ExportedMemory::new(&buf).unwrap();
        let events = with_event.then(|| pool.export_ipc().unwrap());
        let mut cmd = common::this_test_binary();
        cmd.args(["--exact", "ipc_child", "--include-ignored", "--nocapture"])
            .env(CHILD_MEMORY, mem.handle().to_hex())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(e) = &events {
            cmd.env(CHILD_POOL, e.handle().to_hex());
        }
        let mut child = cmd.spawn().unwrap();
        // Wait for the event, watching the child (a child that fails never signals).
        let deadline = Instant::now() + Duration::from_secs(120);
        let signalled = loop {
            if with_event
                && done
                    .host_synchronize_timeout(Some(Duration::from_millis(50)))
                    .unwrap()
            {
                break true;
            }
            if child.try_wait().unwrap().is_some() {
                break !with_event || done.is_signaled().unwrap();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break false;
            }
            if !with_event {
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.contains("1 passed") && text.contains("ipc child: wrote"),
            "the child failed ({}):\n{text}",
            out.status
        );
        assert!(signalled, "the child's signal never arrived:\n{text}");
        let got = read(&ctx, &dev, &buf);
        let bad = (0..N).find(|&i| got[i] != pattern(i));
        assert_eq!(bad, None, "the child's writes are not in the buffer");
        drop((mem, events, done, pool, buf, list));
    }
    if t.is_none() {
        let after = level_zero::cpu::live_objects(&driver).unwrap();
        assert_eq!(after, before, "objects leaked");
    }
}
