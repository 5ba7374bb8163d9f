//! IPC of device memory: `zeMemGetIpcHandle`, `zeMemPutIpcHandle`, `zeMemOpenIpcHandle`,
//! `zeMemCloseIpcHandle`, `zeMemGetIpcHandleWithProperties`.
//!
//! Device allocations are ranges of the instance's arena (see `arena`), a memfd. An IPC
//! handle is 64 plain bytes, valid in any process of the same user while the exporting
//! process lives ([`Handle`], little endian):
//!
//! | bytes  | field |
//! |--------|-------|
//! | 0..8   | magic `L0CPUIPC` |
//! | 8..12  | version (1) |
//! | 12..16 | exporting process id |
//! | 16..20 | the exporter's arena file descriptor |
//! | 20..24 | the slot of the allocation's record in the arena's export directory |
//! | 24..32 | the arena's nonce (a random number in the arena's header) |
//! | 32..40 | offset of the allocation in the arena |
//! | 40..48 | length of the range in the arena (whole pages) |
//! | 48..56 | size of the allocation |
//! | 56..64 | the exporter's allocation id |
//!
//! The importer opens `/proc/<pid>/fd/<fd>` (allowed between processes of the same user,
//! without ptrace rights), checks the arena's header (magic, nonce: not another file that
//! took the descriptor number, nor a new process with the same pid), counts itself in the
//! allocation's directory record and checks that it still names the allocation (state, id,
//! offset, length: a freed allocation is refused), then maps the range `MAP_SHARED`. The
//! arena's descriptor is the instance's, open for the process's life, so it is valid while
//! handles are out. A freed allocation that an importer still maps keeps its pages: the
//! exporter gives the range back (punches it out and reuses it) only once the record's
//! count of open mappings is zero. An importer that dies without closing leaves the count
//! up, so the range is not reused while the exporter lives.
//!
//! Opening a handle in the exporting process itself works the same way: a new mapping of the
//! same pages at another address, as the specification says ("multiple calls ... return
//! unique pointers").

use std::ffi::c_void;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use level_zero_sys::*;

use crate::arena::{ARENA_MAGIC, GRANULE, RECORD, RECORD_LIVE, Record, map_fd};
use crate::context::Context;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles;
use crate::memory::{Allocation, Block, Kind, Origin};
use crate::sync::{lock, lock_write};

/// The handle's magic ("L0CPUIPC").
const MAGIC: u64 = u64::from_le_bytes(*b"L0CPUIPC");
const VERSION: u32 = 1;

/// An IPC memory handle's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Handle {
    pid: u32,
    fd: i32,
    slot: u32,
    nonce: u64,
    offset: u64,
    len: u64,
    size: u64,
    id: u64,
}

impl Handle {
    fn to_bytes(self) -> ze_ipc_mem_handle_t {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&MAGIC.to_le_bytes());
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.pid.to_le_bytes());
        b[16..20].copy_from_slice(&self.fd.to_le_bytes());
        b[20..24].copy_from_slice(&self.slot.to_le_bytes());
        b[24..32].copy_from_slice(&self.nonce.to_le_bytes());
        b[32..40].copy_from_slice(&self.offset.to_le_bytes());
        b[40..48].copy_from_slice(&self.len.to_le_bytes());
        b[48..56].copy_from_slice(&self.size.to_le_bytes());
        b[56..64].copy_from_slice(&self.id.to_le_bytes());
        ze_ipc_mem_handle_t {
            data: b.map(|x| x as std::ffi::c_char),
        }
    }

    fn parse(h: &ze_ipc_mem_handle_t) -> ZeResult<Handle> {
        let b = h.data.map(|x| x as u8);
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if u64_at(0) != MAGIC {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "not an IPC memory handle of level-zero-cpu (bad magic {:#018x})",
                u64_at(0)
            );
        }
        if u32_at(8) != VERSION {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "IPC memory handle of version {}; this level-zero-cpu reads version {VERSION}",
                u32_at(8)
            );
        }
        Ok(Handle {
            pid: u32_at(12),
            fd: u32_at(16) as i32,
            slot: u32_at(20),
            nonce: u64_at(24),
            offset: u64_at(32),
            len: u64_at(40),
            size: u64_at(48),
            id: u64_at(56),
        })
    }
}

/// Exports the device allocation at `ptr` of `context`.
fn get(context: &Context, ptr: *const c_void, out: *mut ze_ipc_mem_handle_t) -> ZeResult {
    if ptr.is_null() || out.is_null() {
        bail!(
            ZE_RESULT_ERROR_INVALID_NULL_POINTER,
            "null ptr or pIpcHandle"
        );
    }
    let instance = context.instance;
    let p = ptr as usize;
    let arena = instance.memory.arena()?;
    let t = lock_write(&instance.memory.table);
    let Some(a) = t.by_base.get(&p).filter(|a| a.context == context.handle) else {
        if handles::get::<Arc<crate::vm::Physical>, c_void>(ptr as *mut c_void).is_ok() {
            bail!(
                ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                "exporting a physical memory object (a ze_physical_mem_handle_t passed as the pointer) is not implemented by level-zero-cpu"
            );
        }
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{p:#x} is not the base of an allocation of this context"
        );
    };
    let Some((offset, len)) = a.block.arena_range() else {
        let what = match (a.origin, a.kind) {
            (Origin::Mapped(_), _) => {
                "a virtual memory mapping (exporting physical memory is not implemented by level-zero-cpu)"
            }
            (Origin::Opened, _) => {
                "memory opened from an IPC handle (re-exporting it is not implemented by level-zero-cpu)"
            }
            (_, Kind::Host) => "a host allocation (level-zero-cpu exports device allocations only)",
            (_, Kind::Device) => {
                "a device allocation made without the device-memory arena, which could not be made in this process (see the driver's warning)"
            }
            _ => "a shared allocation (level-zero-cpu exports device allocations only)",
        };
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "{p:#x} is {what}");
    };
    let slot = match a.block.export.get() {
        Some(&s) => s,
        None => {
            let s = arena
                .export(a.id, offset, len as u64)
                .map_err(|e| ffi::fail(ze_result_t::ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY, e))?;
            // Under the table's write lock: no other export of this block races.
            let _ = a.block.export.set(s);
            s
        }
    };
    let h = Handle {
        pid: std::process::id(),
        fd: arena.fd(),
        slot,
        nonce: arena.nonce,
        offset,
        len: len as u64,
        size: a.size as u64,
        id: a.id,
    };
    *lock(&instance.memory.ipc_out).entry(a.id).or_default() += 1;
    drop(t);
    instance
        .live
        .ipc_exported_handles
        .fetch_add(1, Ordering::Relaxed);
    // SAFETY: checked non-null; the caller's output.
    unsafe { ffi::write(out, h.to_bytes()) }
}

/// A directory page of another (or this) arena, mapped shared, and the record in it.
struct Page {
    addr: usize,
    record: usize,
}

impl Drop for Page {
    fn drop(&mut self) {
        // SAFETY: a page mapped by `open_record`, unmapped once (ownership then passes to
        // the opened block, which forgets this value).
        unsafe { libc::munmap(self.addr as *mut c_void, GRANULE) };
    }
}

fn os_error() -> String {
    std::io::Error::last_os_error().to_string()
}

/// Opens descriptor `fd` of process `pid` (an exporter's memfd) through
/// `/proc/<pid>/fd/<fd>`, which needs no ptrace rights between processes of one user. What
/// both kinds of IPC handle (memory and event pools) open.
pub(crate) fn open_exporters_fd(pid: u32, fd: i32) -> Result<OwnedFd, (String, std::io::Error)> {
    let path = format!("/proc/{pid}/fd/{fd}");
    let c = std::ffi::CString::new(path.clone()).expect("no NUL in a formatted path");
    // SAFETY: a NUL-terminated path.
    let raw = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err((path, std::io::Error::last_os_error()));
    }
    // SAFETY: a descriptor just opened, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Opens the exporter's arena: `(descriptor, page of the record)`.
fn open_record(h: &Handle) -> ZeResult<(OwnedFd, Page)> {
    let fd = match open_exporters_fd(h.pid, h.fd) {
        Ok(fd) => fd,
        Err((path, e)) => {
            if e.raw_os_error() == Some(libc::ENOENT) {
                bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "the IPC handle's exporting process {} has exited (or its descriptor {} is closed): {e}",
                    h.pid,
                    h.fd
                );
            }
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "cannot open the exporting process's memory {path}: {e}"
            );
        }
    };
    let mut header = [0u64; 2];
    // SAFETY: 16 writable bytes; a valid descriptor.
    let n = unsafe { libc::pread(fd.as_raw_fd(), header.as_mut_ptr().cast(), 16, 0) };
    if n != 16 || header[0] != ARENA_MAGIC || header[1] != h.nonce {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "descriptor {} of process {} is not the arena that exported this IPC handle (the process exited and another took its id, or the handle is corrupt)",
            h.fd,
            h.pid
        );
    }
    let slot_at = h.slot as usize * RECORD;
    if h.slot == 0 || slot_at >= crate::arena::DIRECTORY {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "IPC handle with an invalid directory slot {}",
            h.slot
        );
    }
    let page_at = slot_at & !(GRANULE - 1);
    // SAFETY: a new shared mapping of one page of the arena's directory.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            GRANULE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            page_at as libc::off_t,
        )
    };
    if page == libc::MAP_FAILED {
        bail!(
            ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY,
            "mmap of the exporter's directory: {}",
            os_error()
        );
    }
    Ok((
        fd,
        Page {
            addr: page as usize,
            record: page as usize + slot_at - page_at,
        },
    ))
}

entry_points! {
    /// Device allocations only (their base pointer); see the module documentation.
    fn zeMemGetIpcHandle(hContext: ze_context_handle_t, ptr: *const c_void, pIpcHandle: *mut ze_ipc_mem_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        get(&context, ptr, pIpcHandle)
    }

    /// As `zeMemGetIpcHandle`; `pNext` may carry `ze_ipc_mem_handle_type_ext_desc_t` asking
    /// for `ZE_IPC_MEM_HANDLE_TYPE_FLAG_DEFAULT` (fabric-accessible handles are refused).
    fn zeMemGetIpcHandleWithProperties(hContext: ze_context_handle_t, ptr: *const c_void, pNext: *mut c_void, pIpcHandle: *mut ze_ipc_mem_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        if !pNext.is_null() {
            // SAFETY: a non-null pNext points to a Level Zero structure (caller's contract).
            let base = unsafe { ffi::read(pNext.cast_const().cast::<ze_base_desc_t>())? };
            if base.stype != ze_structure_type_t::ZE_STRUCTURE_TYPE_IPC_MEM_HANDLE_TYPE_EXT_DESC {
                bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeMemGetIpcHandleWithProperties: structure type {:#x} chained; level-zero-cpu honours ze_ipc_mem_handle_type_ext_desc_t only", base.stype.0);
            }
            // SAFETY: as above, of that structure type.
            let d = unsafe { ffi::read(pNext.cast_const().cast::<ze_ipc_mem_handle_type_ext_desc_t>())? };
            if !d.pNext.is_null() {
                bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeMemGetIpcHandleWithProperties: a structure chained after ze_ipc_mem_handle_type_ext_desc_t");
            }
            let default = ze_ipc_mem_handle_type_flag_t::ZE_IPC_MEM_HANDLE_TYPE_FLAG_DEFAULT.0;
            let fabric = ze_ipc_mem_handle_type_flag_t::ZE_IPC_MEM_HANDLE_TYPE_FLAG_FABRIC_ACCESSIBLE.0;
            if d.typeFlags & !(default | fabric) != 0 {
                bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "IPC memory handle type flags {:#x}", d.typeFlags);
            }
            if d.typeFlags & fabric != 0 {
                bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "ZE_IPC_MEM_HANDLE_TYPE_FLAG_FABRIC_ACCESSIBLE: level-zero-cpu's handles work between processes of one machine only");
            }
        }
        get(&context, ptr, pIpcHandle)
    }

    /// Handles of this process only; each handle given out is put back once.
    fn zeMemPutIpcHandle(hContext: ze_context_handle_t, handle: ze_ipc_mem_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        let h = Handle::parse(&handle)?;
        let instance = context.instance;
        let arena = instance.memory.arena()?;
        if h.pid != std::process::id() || h.nonce != arena.nonce {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the IPC handle was not made by this driver in this process (process {}): only the exporter puts handles back", h.pid);
        }
        let mut out = lock(&instance.memory.ipc_out);
        match out.get_mut(&h.id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if *n == 0 {
                    out.remove(&h.id);
                }
            }
            _ => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "no IPC handle of allocation {} is out: it was put back already, or the allocation was freed", h.id),
        }
        drop(out);
        instance.live.ipc_exported_handles.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// Maps the exported allocation (see the module documentation): a device allocation of
    /// this context on `hDevice`, closed with `zeMemCloseIpcHandle`. Flags:
    /// `ZE_IPC_MEMORY_FLAG_BIAS_CACHED` is what every mapping is (host memory, cached);
    /// `ZE_IPC_MEMORY_FLAG_BIAS_UNCACHED` is refused (`ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION`).
    fn zeMemOpenIpcHandle(hContext: ze_context_handle_t, hDevice: ze_device_handle_t, handle: ze_ipc_mem_handle_t, flags: ze_ipc_memory_flags_t, pptr: *mut *mut c_void) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = context.device(hDevice)?;
        if flags > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "IPC memory flags {flags:#x}");
        }
        if flags & ze_ipc_memory_flag_t::ZE_IPC_MEMORY_FLAG_BIAS_UNCACHED.0 != 0 {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION, "ZE_IPC_MEMORY_FLAG_BIAS_UNCACHED: level-zero-cpu maps IPC memory as host memory, which is cached");
        }
        if pptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pptr");
        }
        let h = Handle::parse(&handle)?;
        if h.len == 0 || h.size > h.len || h.len % GRANULE as u64 != 0 {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "IPC handle with an invalid range ({} bytes in {})", h.size, h.len);
        }
        device.check_alive()?;
        let (fd, page) = open_record(&h)?;
        // SAFETY: the record lies in the mapped page, 64-byte aligned; shared memory accessed
        // through atomics only.
        let record = unsafe { &*(page.record as *const Record) };
        // Count ourselves first, then check: the exporter marks the record freed first, then
        // reads the count (both sequentially consistent), so one of us sees the other.
        record.opens.fetch_add(1, Ordering::SeqCst);
        let live = record.state.load(Ordering::SeqCst) == RECORD_LIVE
            && record.id.load(Ordering::SeqCst) == h.id
            && record.offset.load(Ordering::SeqCst) == h.offset
            && record.size.load(Ordering::SeqCst) == h.len;
        if !live {
            record.opens.fetch_sub(1, Ordering::SeqCst);
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the allocation this IPC handle exports (id {} of process {}) was freed", h.id, h.pid);
        }
        let addr = match map_fd(fd.as_raw_fd(), h.offset, h.len as usize, None, GRANULE) {
            Ok(a) => a,
            Err(e) => {
                record.opens.fetch_sub(1, Ordering::SeqCst);
                bail!(ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY, "mapping the IPC memory: {e}");
            }
        };
        drop(fd);
        let (page_addr, record_addr) = (page.addr, page.record);
        std::mem::forget(page);
        let block = Block::imported(addr, h.size as usize, h.len as usize, page_addr, record_addr);
        let instance = context.instance;
        let id = instance.memory.new_id();
        lock_write(&instance.memory.table).by_base.insert(addr, Allocation {
            size: h.size as usize,
            kind: Kind::Device,
            device: Some(device.index),
            context: context.handle,
            id,
            block: Arc::new(block),
            origin: Origin::Opened,
        });
        instance.live.ipc_opened_allocations.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(pptr, addr as *mut c_void) }
    }

    /// Unmaps memory opened by `zeMemOpenIpcHandle` (once no running command uses it).
    fn zeMemCloseIpcHandle(hContext: ze_context_handle_t, ptr: *const c_void) {
        let context: Arc<Context> = handles::get(hContext)?;
        if ptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ptr");
        }
        let instance = context.instance;
        let p = ptr as usize;
        let mut t = lock_write(&instance.memory.table);
        match t.by_base.get(&p) {
            Some(a) if a.origin == Origin::Opened && a.context == context.handle => {}
            Some(a) if a.origin == Origin::Opened => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{p:#x} was opened in another context"),
            Some(_) => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{p:#x} was not opened from an IPC handle (free allocations with zeMemFree)"),
            None => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{p:#x} is not memory opened from an IPC handle by this driver"),
        }
        t.by_base.remove(&p);
        drop(t);
        instance.live.ipc_opened_allocations.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// Not implemented (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`): a handle names a range of the
    /// exporter's arena, which has no file descriptor of its own.
    fn zeMemGetFileDescriptorFromIpcHandleExp(hContext: ze_context_handle_t, ipcHandle: ze_ipc_mem_handle_t, pHandle: *mut u64) {
        let _: Arc<Context> = handles::get(hContext)?;
        let _ = ipcHandle;
        if pHandle.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pHandle");
        }
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeMemGetFileDescriptorFromIpcHandleExp: level-zero-cpu's IPC handles name a range of a shared arena, not a file descriptor of the allocation");
    }

    /// Not implemented (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`): allocations have no file
    /// descriptor of their own (no `ze_external_memory_export_fd_t`).
    fn zeMemGetIpcHandleFromFileDescriptorExp(hContext: ze_context_handle_t, handle: u64, pIpcHandle: *mut ze_ipc_mem_handle_t) {
        let _: Arc<Context> = handles::get(hContext)?;
        let _ = handle;
        if pIpcHandle.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pIpcHandle");
        }
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "zeMemGetIpcHandleFromFileDescriptorExp: level-zero-cpu exports no allocation as a file descriptor (ze_external_memory_export_fd_t is not implemented)");
    }
}

/// Forgets the handles out of a freed allocation (they can no longer be opened).
pub(crate) fn forget(instance: &crate::driver::Instance, id: u64) {
    if let Some(n) = lock(&instance.memory.ipc_out).remove(&id) {
        instance
            .live
            .ipc_exported_handles
            .fetch_sub(n, Ordering::Relaxed);
    }
}
