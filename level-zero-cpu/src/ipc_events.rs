//! IPC of event pools: `zeEventPoolGetIpcHandle`, `zeEventPoolPutIpcHandle`,
//! `zeEventPoolOpenIpcHandle`, `zeEventPoolCloseIpcHandle`.
//!
//! A pool created with `ZE_EVENT_POOL_FLAG_IPC` keeps its events' state in a memfd of its own
//! ([`Shared`]): a 64-byte header (magic, a random nonce, the event count), then one 32-byte
//! slot per event (signalled flag, the error of the work that signalled it, the start and end
//! timestamps). Pools without the flag keep their state in process memory, as before: their
//! code path is unchanged.
//!
//! The handle (`ze_ipc_event_pool_handle_t`, 64 bytes, little endian): magic `L0CPUEVP`
//! (0..8), version 1 (8..12), exporting process id (12..16), the pool's descriptor there
//! (16..20), event count (20..24), pool flags (24..28), the nonce (32..40). The importer
//! opens `/proc/<pid>/fd/<fd>`, checks the header against the handle, and maps the memory
//! shared: `zeEventCreate` on the opened pool with the same index gives the same event. Host
//! signals, resets, queries and waits, and signal, wait and barrier commands on either side
//! see each other: a signal writes the slot (timestamps and error first, then the flag, with
//! release ordering); waits on IPC events (host waits and commands' waits) re-check the slot
//! with a short backoff (20 µs doubling to 1 ms), since a signal from another process wakes
//! nobody here — in this process it still wakes waiters at once.
//!
//! The descriptor lives as long as the exporting pool: opening after it was destroyed (or
//! after the exporter exited) fails with a reason; a pool already opened keeps its mapping.
//! Device loss is per process: a lost device of one side does not end the other side's waits.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use level_zero_sys::*;

use crate::context::Context;
use crate::event::EventPool;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, Object};
use crate::sync::lock;

const MAGIC: u64 = u64::from_le_bytes(*b"L0CPUEVP");
const HEADER_MAGIC: u64 = u64::from_le_bytes(*b"L0CPUEVT");
const VERSION: u32 = 1;
const HEADER: usize = 64;
const SLOT: usize = 32;

/// One event's state in shared memory.
#[repr(C)]
struct Slot {
    /// 1: signalled.
    signaled: AtomicU32,
    /// The `ze_result_t` of the work that signalled it, 0 if it succeeded.
    error: AtomicU32,
    start: AtomicU64,
    end: AtomicU64,
    _pad: u64,
}

const _: () = assert!(std::mem::size_of::<Slot>() == SLOT);

/// The shared memory of an IPC pool.
pub(crate) struct Shared {
    fd: OwnedFd,
    addr: usize,
    len: usize,
    count: u32,
    nonce: u64,
}

// SAFETY: the mapping is shared memory accessed through atomics only (after the header is
// written, before the value is shared).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: our mapping, unmapped once.
        unsafe { libc::munmap(self.addr as *mut libc::c_void, self.len) };
    }
}

fn os_error() -> String {
    std::io::Error::last_os_error().to_string()
}

fn map(fd: &OwnedFd, len: usize) -> ZeResult<usize> {
    // SAFETY: a new shared mapping of our descriptor at an address the system chooses.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        bail!(
            ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY,
            "mmap of the event pool's shared memory: {}",
            os_error()
        );
    }
    Ok(p as usize)
}

impl Shared {
    /// The shared memory of a new pool of `count` events (all reset).
    pub(crate) fn create(count: u32) -> ZeResult<Shared> {
        // Miri cannot run `memfd_create` (it would stop the interpreter, not fail the call).
        if cfg!(miri) {
            bail!(
                ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                "IPC event pools need memfd_create, which is not available under Miri"
            );
        }
        let len = HEADER + SLOT * count as usize;
        // SAFETY: a NUL-terminated name; returns a new descriptor or -1.
        let raw =
            unsafe { libc::memfd_create(c"level-zero-cpu-event-pool".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            bail!(
                ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY,
                "memfd_create for an IPC event pool: {}",
                os_error()
            );
        }
        // SAFETY: a descriptor just returned, owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: a valid descriptor.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } != 0 {
            bail!(
                ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY,
                "ftruncate of an IPC event pool: {}",
                os_error()
            );
        }
        let addr = map(&fd, len)?;
        let mut nonce = 0u64;
        // SAFETY: 8 writable bytes.
        if unsafe { libc::getrandom((&raw mut nonce).cast(), 8, 0) } != 8 {
            nonce = crate::sync::now_ns() ^ addr as u64;
        }
        // SAFETY: the header of our new mapping, not yet shared.
        unsafe {
            let h = addr as *mut u64;
            h.write(HEADER_MAGIC);
            h.add(1).write(nonce);
            h.add(2).cast::<u32>().write(count);
        }
        Ok(Shared {
            fd,
            addr,
            len,
            count,
            nonce,
        })
    }

    fn slot(&self, index: u32) -> &Slot {
        assert!(index < self.count);
        // SAFETY: the slot lies in our mapping (index < count), 32-byte aligned; accessed
        // through atomics only.
        unsafe { &*((self.addr + HEADER + SLOT * index as usize) as *const Slot) }
    }

    pub(crate) fn signal(&self, index: u32, error: Option<ze_result_t>, (start, end): (u64, u64)) {
        let s = self.slot(index);
        s.error.store(error.map_or(0, |e| e.0), Ordering::Relaxed);
        s.start.store(start, Ordering::Relaxed);
        s.end.store(end, Ordering::Relaxed);
        s.signaled.store(1, Ordering::Release);
    }

    pub(crate) fn reset(&self, index: u32) {
        self.slot(index).signaled.store(0, Ordering::Release);
    }

    /// `None` while not signalled, else the error of the work that signalled it.
    pub(crate) fn outcome(&self, index: u32) -> Option<Option<ze_result_t>> {
        let s = self.slot(index);
        if s.signaled.load(Ordering::Acquire) == 0 {
            return None;
        }
        let e = s.error.load(Ordering::Relaxed);
        Some((e != 0).then_some(ze_result_t(e as _)))
    }

    pub(crate) fn timestamps(&self, index: u32) -> Option<(u64, u64)> {
        let s = self.slot(index);
        (s.signaled.load(Ordering::Acquire) != 0).then(|| {
            (
                s.start.load(Ordering::Relaxed),
                s.end.load(Ordering::Relaxed),
            )
        })
    }
}

struct Handle {
    pid: u32,
    fd: i32,
    count: u32,
    flags: u32,
    nonce: u64,
}

impl Handle {
    fn to_bytes(&self) -> ze_ipc_event_pool_handle_t {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&MAGIC.to_le_bytes());
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.pid.to_le_bytes());
        b[16..20].copy_from_slice(&self.fd.to_le_bytes());
        b[20..24].copy_from_slice(&self.count.to_le_bytes());
        b[24..28].copy_from_slice(&self.flags.to_le_bytes());
        b[32..40].copy_from_slice(&self.nonce.to_le_bytes());
        ze_ipc_event_pool_handle_t {
            data: b.map(|x| x as std::ffi::c_char),
        }
    }

    fn parse(h: &ze_ipc_event_pool_handle_t) -> ZeResult<Handle> {
        let b = h.data.map(|x| x as u8);
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if u64_at(0) != MAGIC {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "not an IPC event pool handle of level-zero-cpu (bad magic {:#018x})",
                u64_at(0)
            );
        }
        if u32_at(8) != VERSION {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "IPC event pool handle of version {}; this level-zero-cpu reads version {VERSION}",
                u32_at(8)
            );
        }
        Ok(Handle {
            pid: u32_at(12),
            fd: u32_at(16) as i32,
            count: u32_at(20),
            flags: u32_at(24),
            nonce: u64_at(32),
        })
    }
}

entry_points! {
    /// Pools created with `ZE_EVENT_POOL_FLAG_IPC` in this process (see the module
    /// documentation).
    fn zeEventPoolGetIpcHandle(hEventPool: ze_event_pool_handle_t, phIpc: *mut ze_ipc_event_pool_handle_t) {
        let pool: Arc<EventPool> = handles::get(hEventPool)?;
        if phIpc.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phIpc");
        }
        let Some(shared) = pool.shared() else {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the event pool was not created with ZE_EVENT_POOL_FLAG_IPC");
        };
        if pool.is_opened() {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "the event pool was opened from an IPC handle: level-zero-cpu exports pools from the process that created them only");
        }
        let h = Handle { pid: std::process::id(), fd: shared.fd.as_raw_fd(), count: shared.count, flags: pool.flags(), nonce: shared.nonce };
        *lock(&pool.instance.event_ipc_out).entry(shared.nonce).or_default() += 1;
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phIpc, h.to_bytes()) }
    }

    /// Handles made in this process, each once.
    fn zeEventPoolPutIpcHandle(hContext: ze_context_handle_t, hIpc: ze_ipc_event_pool_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        let h = Handle::parse(&hIpc)?;
        let mut out = lock(&context.instance.event_ipc_out);
        match out.get_mut(&h.nonce) {
            Some(n) if h.pid == std::process::id() && *n > 0 => {
                *n -= 1;
                if *n == 0 {
                    out.remove(&h.nonce);
                }
                Ok(())
            }
            _ => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "no such IPC event pool handle of this driver is out (made in another process, or put back already)"),
        }
    }

    /// A pool of the same events, in this context (see the module documentation).
    fn zeEventPoolOpenIpcHandle(hContext: ze_context_handle_t, hIpc: ze_ipc_event_pool_handle_t, phEventPool: *mut ze_event_pool_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        if phEventPool.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phEventPool");
        }
        let h = Handle::parse(&hIpc)?;
        if h.count == 0 {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "IPC event pool handle of 0 events");
        }
        let fd = match crate::ipc::open_exporters_fd(h.pid, h.fd) {
            Ok(fd) => fd,
            Err((path, e)) => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the IPC event pool's exporting process {} has exited, or destroyed the pool ({path}: {e})", h.pid),
        };
        let mut header = [0u64; 3];
        // SAFETY: 24 writable bytes; a valid descriptor.
        let n = unsafe { libc::pread(fd.as_raw_fd(), header.as_mut_ptr().cast(), 24, 0) };
        if n != 24 || header[0] != HEADER_MAGIC || header[1] != h.nonce || header[2] as u32 != h.count {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "descriptor {} of process {} is not the event pool this handle exports (the pool was destroyed, or the process exited and another took its id)", h.fd, h.pid);
        }
        let len = HEADER + SLOT * h.count as usize;
        let addr = map(&fd, len)?;
        let shared = Arc::new(Shared { fd, addr, len, count: h.count, nonce: h.nonce });
        let instance = context.instance;
        let pool = Arc::new(EventPool::opened(context, shared, h.count, h.flags));
        let handle = handles::reserve_for::<Arc<EventPool>>();
        handles::register(handle, Object::EventPool(pool));
        instance.live.ipc_opened_event_pools.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phEventPool, handles::raw(handle)) }
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while events created on the
    /// opened pool live (destroy them first).
    fn zeEventPoolCloseIpcHandle(hEventPool: ze_event_pool_handle_t) {
        let pool: Arc<EventPool> = handles::get(hEventPool)?;
        if !pool.is_opened() {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the event pool was not opened from an IPC handle: destroy it with zeEventPoolDestroy");
        }
        let live = pool.live_events();
        if live != 0 {
            bail!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, "{live} events of this opened pool are still alive: destroy them first");
        }
        let pool: Arc<EventPool> = handles::take(hEventPool)?;
        pool.release();
        pool.instance.live.ipc_opened_event_pools.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }
}
