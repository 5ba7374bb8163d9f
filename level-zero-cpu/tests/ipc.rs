//! IPC: device memory (`zeMemGetIpcHandle` ...) and event pools (`zeEventPoolGetIpcHandle`
//! ...), in one process (two driver instances) and between two processes (the test binary
//! runs itself as the child, passing handles as hex bytes).

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ptr::{null, null_mut};

use common::{Backend, NO_WAITS, NULL_EVENT, pattern};
use level_zero_sys::*;

fn last_error(b: &Backend) -> String {
    let mut p = null();
    ok!(b, zeDriverGetLastErrorDescription(b.driver, &mut p));
    // SAFETY: the driver's NUL-terminated description.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

fn ipc_handle(b: &Backend, c: ze_context_handle_t, p: *mut u8) -> ze_ipc_mem_handle_t {
    let mut h = ze_ipc_mem_handle_t { data: [0; 64] };
    ok!(b, zeMemGetIpcHandle(c, p.cast(), &mut h));
    h
}

fn open(
    b: &Backend,
    c: ze_context_handle_t,
    h: ze_ipc_mem_handle_t,
) -> Result<*mut u8, ze_result_t> {
    let mut p = null_mut();
    let r = ze!(b, zeMemOpenIpcHandle(c, b.devices[0], h, 0, &mut p));
    if r == ze_result_t::ZE_RESULT_SUCCESS {
        Ok(p.cast())
    } else {
        Err(r)
    }
}

fn copy(
    b: &Backend,
    l: ze_command_list_handle_t,
    dst: *mut u8,
    src: *const u8,
    len: usize,
) -> ze_result_t {
    let r = ze!(
        b,
        zeCommandListAppendMemoryCopy(l, dst.cast(), src.cast(), len, NULL_EVENT, 0, NO_WAITS)
    );
    if r != ze_result_t::ZE_RESULT_SUCCESS {
        return r;
    }
    ze!(b, zeCommandListHostSynchronize(l, u64::MAX))
}

fn hex(bytes: &[std::ffi::c_char]) -> String {
    bytes.iter().map(|&x| format!("{:02x}", x as u8)).collect()
}

fn unhex(s: &str) -> [std::ffi::c_char; 64] {
    let mut out = [0; 64];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex") as std::ffi::c_char;
    }
    out
}

#[test]
fn the_driver_reports_ipc_support() {
    let b = Backend::embedded(&[]);
    let mut p = ze_driver_ipc_properties_t::default();
    ok!(b, zeDriverGetIpcProperties(b.driver, &mut p));
    let want = ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_MEMORY.0
        | ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_EVENT_POOL.0;
    assert_eq!(p.flags, want);
}

/// Two instances of one process: one exports, the other opens (through /proc/self/fd), and
/// both see the same pages; the exporter may open its own handle too (another address).
#[test]
fn device_memory_is_shared_through_a_handle() {
    let a = Backend::embedded(&[]);
    let b = Backend::embedded(&[]);
    let (ca, cb) = (a.context(), b.context());
    let src = a.alloc_device(ca, 100_000, 0);
    let la = a.immediate(ca, 0);
    let data = pattern(100_000, 7);
    assert_eq!(
        copy(&a, la, src, data.as_ptr(), data.len()),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let h = ipc_handle(&a, ca, src);
    assert_eq!(a.live().ipc_exported_handles, 1);
    let p = open(&b, cb, h).expect("open");
    assert_ne!(p, src);
    assert_eq!(b.live().ipc_opened_allocations, 1);
    // Memory of b's context: its copies use it, its properties are a device allocation's.
    let lb = b.immediate(cb, 0);
    let mut back = vec![0u8; 100_000];
    assert_eq!(
        copy(&b, lb, back.as_mut_ptr(), p, back.len()),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(back, data);
    let mut props = ze_memory_allocation_properties_t::default();
    ok!(
        b,
        zeMemGetAllocProperties(cb, p.cast(), &mut props, null_mut())
    );
    assert_eq!(props.type_, ze_memory_type_t::ZE_MEMORY_TYPE_DEVICE);
    let (mut base, mut size) = (null_mut(), 0);
    ok!(
        b,
        zeMemGetAddressRange(cb, p.wrapping_add(10).cast(), &mut base, &mut size)
    );
    assert_eq!((base as *mut u8, size), (p, 100_000));
    // Writes of the importer are the exporter's.
    let other = pattern(100_000, 99);
    assert_eq!(
        copy(&b, lb, p, other.as_ptr(), other.len()),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(
        copy(&a, la, back.as_mut_ptr(), src, back.len()),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(back, other);
    // Past the end of the opened allocation: refused.
    assert_eq!(
        copy(&b, lb, back.as_mut_ptr(), p, 100_001),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    // The exporter opens its own handle: a second address of the same pages.
    let own = open(&a, ca, h).expect("open in the exporting instance");
    assert_ne!(own, src);
    // SAFETY: both are mapped device memory of 100000 bytes (host addresses here).
    assert_eq!(unsafe { *own.add(12345) }, other[12345]);
    // zeMemFree is not for opened memory; zeMemCloseIpcHandle is not for allocations.
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeMemFree(cb, p.cast()));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        a,
        zeMemCloseIpcHandle(ca, src.cast())
    );
    ok!(a, zeMemCloseIpcHandle(ca, own.cast()));
    ok!(b, zeMemCloseIpcHandle(cb, p.cast()));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemCloseIpcHandle(cb, p.cast())
    );
    // Put back once.
    ok!(a, zeMemPutIpcHandle(ca, h));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        a,
        zeMemPutIpcHandle(ca, h)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemPutIpcHandle(cb, h)
    );
    a.free(ca, src);
    ok!(a, zeCommandListDestroy(la));
    ok!(b, zeCommandListDestroy(lb));
    ok!(a, zeContextDestroy(ca));
    ok!(b, zeContextDestroy(cb));
    a.assert_no_leaks();
    b.assert_no_leaks();
}

#[test]
fn bad_handles_are_refused_with_a_reason() {
    let a = Backend::embedded(&[]);
    let b = Backend::embedded(&[]);
    let (ca, cb) = (a.context(), b.context());
    let src = a.alloc_device(ca, 4096, 0);
    let h = ipc_handle(&a, ca, src);
    // Bad magic.
    let mut bad = h;
    bad.data[0] ^= 1;
    assert_eq!(
        open(&b, cb, bad),
        Err(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT)
    );
    assert!(last_error(&b).contains("bad magic"), "{}", last_error(&b));
    // Flags: BIAS_CACHED is what every mapping is; UNCACHED is refused; others invalid.
    let mut p = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION,
        b,
        zeMemOpenIpcHandle(cb, b.devices[0], h, 2, &mut p)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeMemOpenIpcHandle(cb, b.devices[0], h, 4, &mut p)
    );
    ok!(b, zeMemOpenIpcHandle(cb, b.devices[0], h, 1, &mut p));
    // Freed while opened: the importer's mapping keeps the pages (no reuse under it).
    a.free(ca, src);
    assert_eq!(
        a.live().ipc_exported_handles,
        0,
        "handles of a freed allocation are not counted"
    );
    let again = a.alloc_device(ca, 4096, 0);
    // SAFETY: 4096 bytes of opened memory, and of a new allocation.
    unsafe {
        *p.cast::<u8>() = 0x5a;
        assert_eq!(
            *again, 0,
            "the freed range is not handed out while an importer maps it"
        );
    }
    // A freed allocation's handle cannot be opened.
    let mut q = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemOpenIpcHandle(cb, b.devices[0], h, 0, &mut q)
    );
    assert!(last_error(&b).contains("was freed"), "{}", last_error(&b));
    ok!(b, zeMemCloseIpcHandle(cb, p));
    // A handle of a process that exited.
    let child = std::process::Command::new("true").status().expect("true");
    assert!(child.success());
    let dead = std::process::Command::new("true").spawn().expect("true");
    let pid = dead.id();
    let _ = { dead }.wait();
    let h2 = ipc_handle(&a, ca, again);
    let mut gone = h2;
    for (i, byte) in pid.to_le_bytes().iter().enumerate() {
        gone.data[12 + i] = *byte as std::ffi::c_char;
    }
    assert_eq!(
        open(&b, cb, gone),
        Err(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT)
    );
    assert!(last_error(&b).contains("has exited"), "{}", last_error(&b));
    // Not exportable: host memory, a pointer inside an allocation, null.
    let host = a.alloc_host(ca, 4096);
    let mut hh = ze_ipc_mem_handle_t { data: [0; 64] };
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        a,
        zeMemGetIpcHandle(ca, host.cast(), &mut hh)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        a,
        zeMemGetIpcHandle(ca, again.wrapping_add(8).cast(), &mut hh)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        a,
        zeMemGetIpcHandle(ca, null(), &mut hh)
    );
    // The file-descriptor functions are refused loudly.
    let mut fd = 0u64;
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        a,
        zeMemGetFileDescriptorFromIpcHandleExp(ca, h2, &mut fd)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        a,
        zeMemGetIpcHandleFromFileDescriptorExp(ca, 3, &mut hh)
    );
    // With properties: the default type works, fabric-accessible is refused.
    let mut desc = ze_ipc_mem_handle_type_ext_desc_t {
        typeFlags: ze_ipc_mem_handle_type_flag_t::ZE_IPC_MEM_HANDLE_TYPE_FLAG_DEFAULT.0,
        ..Default::default()
    };
    ok!(
        a,
        zeMemGetIpcHandleWithProperties(ca, again.cast(), (&raw mut desc).cast(), &mut hh)
    );
    desc.typeFlags = ze_ipc_mem_handle_type_flag_t::ZE_IPC_MEM_HANDLE_TYPE_FLAG_FABRIC_ACCESSIBLE.0;
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        a,
        zeMemGetIpcHandleWithProperties(ca, again.cast(), (&raw mut desc).cast(), &mut hh)
    );
    ok!(a, zeMemPutIpcHandle(ca, h2));
    ok!(a, zeMemPutIpcHandle(ca, hh));
    a.free(ca, host);
    a.free(ca, again);
    ok!(a, zeContextDestroy(ca));
    ok!(b, zeContextDestroy(cb));
    a.assert_no_leaks();
    b.assert_no_leaks();
}

fn ipc_pool(b: &Backend, c: ze_context_handle_t, count: u32, flags: u32) -> ze_event_pool_handle_t {
    b.event_pool(
        c,
        count,
        flags | ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_IPC.0,
    )
}

fn pool_handle(b: &Backend, pool: ze_event_pool_handle_t) -> ze_ipc_event_pool_handle_t {
    let mut h = ze_ipc_event_pool_handle_t { data: [0; 64] };
    ok!(b, zeEventPoolGetIpcHandle(pool, &mut h));
    h
}

fn open_pool(
    b: &Backend,
    c: ze_context_handle_t,
    h: ze_ipc_event_pool_handle_t,
) -> ze_event_pool_handle_t {
    let mut p = null_mut();
    ok!(b, zeEventPoolOpenIpcHandle(c, h, &mut p));
    p
}

/// Two instances of one process share a pool's events: host signals, resets, queries and
/// waits, and commands (signal, wait, barrier) on either side see each other.
#[test]
fn event_pools_are_shared_through_a_handle() {
    let a = Backend::embedded(&[]);
    let b = Backend::embedded(&[]);
    let (ca, cb) = (a.context(), b.context());
    let pa = ipc_pool(
        &a,
        ca,
        4,
        ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0,
    );
    let h = pool_handle(&a, pa);
    let pb = open_pool(&b, cb, h);
    assert_eq!(b.live().ipc_opened_event_pools, 1);
    assert_eq!(b.live().event_pools, 0);
    let (ea, eb) = (a.event(pa, 1), b.event(pb, 1));
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(eb));
    ok!(a, zeEventHostSignal(ea));
    ok!(b, zeEventQueryStatus(eb));
    ok!(b, zeEventHostSynchronize(eb, u64::MAX));
    ok!(b, zeEventHostReset(eb));
    fails!(ZE_RESULT_NOT_READY, a, zeEventQueryStatus(ea));
    // A host wait in one instance ends when a command of the other signals.
    let la = a.immediate(ca, 0);
    let waiter = std::thread::spawn({
        let eb = eb as usize;
        let api = b.api.clone();
        move || {
            // SAFETY: a live event handle of b's driver.
            unsafe { api.zeEventHostSynchronize(eb as ze_event_handle_t, 10_000_000_000) }.unwrap()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(20));
    ok!(a, zeCommandListAppendSignalEvent(la, ea));
    assert_eq!(waiter.join().unwrap(), ze_result_t::ZE_RESULT_SUCCESS);
    // Timestamps written by the signalling side are read by the other.
    let mut ts = ze_kernel_timestamp_result_t::default();
    ok!(b, zeEventQueryKernelTimestamp(eb, &mut ts));
    assert!(ts.global.kernelEnd >= ts.global.kernelStart && ts.global.kernelEnd > 0);
    // A command of b waits for a's host signal; a's barrier waits for b's command.
    let (ea2, eb2) = (a.event(pa, 2), b.event(pb, 2));
    let (ea3, eb3) = (a.event(pa, 3), b.event(pb, 3));
    let lb = b.immediate(cb, 0);
    let mut w = [eb2];
    ok!(b, zeCommandListAppendBarrier(lb, eb3, 1, w.as_mut_ptr()));
    std::thread::sleep(std::time::Duration::from_millis(10));
    fails!(ZE_RESULT_NOT_READY, a, zeEventQueryStatus(ea3));
    ok!(a, zeEventHostSignal(ea2));
    ok!(a, zeEventHostSynchronize(ea3, 10_000_000_000));
    let mut w = [ea3];
    let (ea0, eb0) = (a.event(pa, 0), b.event(pb, 0));
    ok!(a, zeCommandListAppendBarrier(la, ea0, 1, w.as_mut_ptr()));
    ok!(b, zeEventHostSynchronize(eb0, 10_000_000_000));
    // Destroying the exporter's pool while opened elsewhere: the opened one keeps working;
    // opening the handle again fails.
    for e in [ea, ea0, ea2, ea3] {
        ok!(a, zeEventDestroy(e));
    }
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        a,
        zeEventPoolCloseIpcHandle(pa)
    );
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeEventPoolDestroy(pb));
    ok!(a, zeEventPoolPutIpcHandle(ca, h));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        a,
        zeEventPoolPutIpcHandle(ca, h)
    );
    ok!(a, zeEventPoolDestroy(pa));
    let mut again = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventPoolOpenIpcHandle(cb, h, &mut again)
    );
    ok!(b, zeEventQueryStatus(eb0));
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeEventPoolCloseIpcHandle(pb)
    );
    for e in [eb, eb0, eb2, eb3] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolCloseIpcHandle(pb));
    // Pools without the flag have no handle; bad handles are refused.
    let plain = a.event_pool(ca, 1, 0);
    let mut hh = ze_ipc_event_pool_handle_t { data: [0; 64] };
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        a,
        zeEventPoolGetIpcHandle(plain, &mut hh)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventPoolOpenIpcHandle(cb, hh, &mut again)
    );
    assert!(last_error(&b).contains("bad magic"));
    ok!(a, zeEventPoolDestroy(plain));
    ok!(a, zeCommandListDestroy(la));
    ok!(b, zeCommandListDestroy(lb));
    ok!(a, zeContextDestroy(ca));
    ok!(b, zeContextDestroy(cb));
    a.assert_no_leaks();
    b.assert_no_leaks();
}

/// The environment variables that make `ipc_child` the child of the two-process test.
const CHILD_MEM: &str = "L0CPU_TEST_IPC_MEM";
const CHILD_POOL: &str = "L0CPU_TEST_IPC_POOL";
const SIZE: usize = 200_000;
/// Waits of the two-process test: long enough for a loaded machine, short of a hang.
const PATIENCE: u64 = 30_000_000_000;

/// Two processes: the parent exports a device allocation and an IPC event pool and runs this
/// binary again as the child (`ipc_child`), handing it the handles as hex. The child opens
/// both, writes a pattern with a copy and signals event 0 with a command; the parent waits
/// for it and checks the data, writes another pattern and signals event 1 after the copy;
/// the child checks it. The reverse: the child exports an allocation of its own (handle
/// printed on its standard output), the parent opens it, checks its pattern, and signals
/// event 2 with a barrier, which lets the child finish.
#[test]
fn two_processes_share_memory_and_events() {
    use std::io::BufRead;
    let b = Backend::embedded(&[]);
    let c = b.context();
    let mem = b.alloc_device(c, SIZE, 0);
    let pool = ipc_pool(&b, c, 4, 0);
    let events: Vec<_> = (0..4).map(|i| b.event(pool, i)).collect();
    let (hm, hp) = (ipc_handle(&b, c, mem), pool_handle(&b, pool));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ipc_child",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MEM, hex(&hm.data))
        .env(CHILD_POOL, hex(&hp.data))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the test binary runs again");
    let l = b.immediate(c, 0);
    // 1. The child's copy, signalled by the child's command.
    let r = ze!(b, zeEventHostSynchronize(events[0], PATIENCE));
    assert_eq!(
        r,
        ze_result_t::ZE_RESULT_SUCCESS,
        "the child did not signal event 0"
    );
    let mut back = vec![0u8; SIZE];
    assert_eq!(
        copy(&b, l, back.as_mut_ptr(), mem, SIZE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert!(
        back == pattern(SIZE, 1),
        "the child's data is not in the parent's allocation"
    );
    // 2. The parent's copy, then a signal command after it.
    let data = pattern(SIZE, 2);
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            mem.cast(),
            data.as_ptr().cast(),
            SIZE,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListAppendSignalEvent(l, events[1]));
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    // 3. The reverse: the child's allocation.
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let theirs = loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child ended without exporting its allocation"
        );
        // libtest prints "test ipc_child ... " before the test's own output.
        if let Some(at) = line.find("HANDLE ") {
            break ze_ipc_mem_handle_t {
                data: unhex(line[at + 7..].trim()),
            };
        }
    };
    let p = open(&b, c, theirs).expect("the child's allocation opens");
    assert_eq!(
        copy(&b, l, back.as_mut_ptr(), p, SIZE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert!(
        back == pattern(SIZE, 3),
        "the child's own allocation does not hold its pattern"
    );
    ok!(b, zeMemCloseIpcHandle(c, p.cast()));
    ok!(b, zeCommandListAppendBarrier(l, events[2], 0, NO_WAITS));
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    let status = child.wait().unwrap();
    let rest: String = out
        .lines()
        .map_while(Result::ok)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(status.success(), "the child failed: {status}\n{rest}");
    ok!(b, zeMemPutIpcHandle(c, hm));
    ok!(b, zeEventPoolPutIpcHandle(c, hp));
    for e in events {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, mem);
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// The child of `two_processes_share_memory_and_events` (does nothing when run on its own).
#[test]
#[ignore = "the child process of two_processes_share_memory_and_events"]
fn ipc_child() {
    let (Ok(mem), Ok(pool)) = (std::env::var(CHILD_MEM), std::env::var(CHILD_POOL)) else {
        return;
    };
    let b = Backend::embedded(&[]);
    let c = b.context();
    let p = open(&b, c, ze_ipc_mem_handle_t { data: unhex(&mem) })
        .expect("the parent's allocation opens");
    let mut pl = null_mut();
    ok!(
        b,
        zeEventPoolOpenIpcHandle(
            c,
            ze_ipc_event_pool_handle_t { data: unhex(&pool) },
            &mut pl
        )
    );
    let events: Vec<_> = (0..4).map(|i| b.event(pl, i)).collect();
    let l = b.immediate(c, 0);
    let data = pattern(SIZE, 1);
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            p.cast(),
            data.as_ptr().cast(),
            SIZE,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListAppendSignalEvent(l, events[0]));
    // The parent's copy, signalled after it.
    let r = ze!(b, zeEventHostSynchronize(events[1], PATIENCE));
    assert_eq!(
        r,
        ze_result_t::ZE_RESULT_SUCCESS,
        "the parent did not signal event 1"
    );
    let mut back = vec![0u8; SIZE];
    assert_eq!(
        copy(&b, l, back.as_mut_ptr(), p, SIZE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert!(
        back == pattern(SIZE, 2),
        "the parent's data is not in the opened memory"
    );
    ok!(b, zeMemCloseIpcHandle(c, p.cast()));
    // The reverse: an allocation of ours, for the parent.
    let mine = b.alloc_device(c, SIZE, 0);
    let three = pattern(SIZE, 3);
    assert_eq!(
        copy(&b, l, mine, three.as_ptr(), SIZE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let h = ipc_handle(&b, c, mine);
    println!("HANDLE {}", hex(&h.data));
    // A command of ours waits for the parent's barrier.
    let mut w = [events[2]];
    ok!(
        b,
        zeCommandListAppendBarrier(l, events[3], 1, w.as_mut_ptr())
    );
    let r = ze!(b, zeEventHostSynchronize(events[3], PATIENCE));
    assert_eq!(
        r,
        ze_result_t::ZE_RESULT_SUCCESS,
        "the parent did not signal event 2"
    );
    ok!(b, zeMemPutIpcHandle(c, h));
    b.free(c, mine);
    for e in events {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolCloseIpcHandle(pl));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}
