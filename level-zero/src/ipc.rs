//! Sharing device memory and event pools with other processes (IPC).
//!
//! # Exporting
//!
//! [`ExportedMemory::new`] takes any device [`Memory<T>`] (a buffer or a slice of one) and
//! makes an IPC handle of its allocation (`zeMemGetIpcHandle`); [`EventPool::export_ipc`]
//! does the same for a pool made with [`EventPoolFlags::IPC`](crate::EventPoolFlags::IPC)
//! (`zeEventPoolGetIpcHandle`). The export object keeps what it exports alive (the buffer's
//! allocation, the pool) and gives the handle back to the driver when dropped
//! (`zeMemPutIpcHandle`, `zeEventPoolPutIpcHandle`). Its [`handle`](ExportedMemory::handle)
//! is plain data: [`to_bytes`](IpcMemoryHandle::to_bytes) / [`to_hex`](IpcMemoryHandle::to_hex)
//! to send it over any channel.
//!
//! # Importing
//!
//! [`IpcMemoryHandle::from_bytes`] (or `from_hex`) rebuilds the handle in the other process;
//! [`IpcMemoryHandle::open`] opens it as a [`DeviceBuffer<T>`] (`zeMemOpenIpcHandle`): an
//! allocation of the crate whose last reference closes the handle (`zeMemCloseIpcHandle`)
//! instead of freeing it, so everything the crate guarantees for buffers holds — commands
//! keep it open until seen complete, commands of this process's lists and queues that use it
//! are ordered. [`IpcEventPoolHandle::open`] gives an [`EventPool`] whose events are the
//! exporter's events (same indices), closed (`zeEventPoolCloseIpcHandle`) instead of
//! destroyed when its last event and clone are gone.
//!
//! Opening is `unsafe`: what the bytes claim — which allocation, the offset, the length, the
//! element size, the pool's event count and flags — comes from another process. The crate
//! checks what it can (the format, the driver's UUID, the element size, the alignment, and
//! that the opened allocation holds the claimed range, `zeMemGetAddressRange`); the caller
//! vouches for the rest (see [`IpcMemoryHandle::open`]).
//!
//! # Lifetimes across processes
//!
//! The exporter's memory stays allocated while its [`ExportedMemory`] lives; after that, the
//! specification has the driver keep the physical memory until every process that opened it
//! closed it ("The driver must not release the underlying physical memory until all IPC
//! handles referencing it have been closed via `zeMemCloseIpcHandle` or returned via
//! `zeMemPutIpcHandle`"). Hazard tracking is per process: commands of two processes that use
//! the shared memory are ordered only by what the processes do (an IPC event signalled by
//! one and waited for by the other, as in `examples/ipc.rs`).
//!
//! # Linux realities: file descriptors
//!
//! On Intel's GPU driver an IPC memory handle carries a file descriptor (a dma-buf) that is
//! valid only in the exporting process: the bytes alone do not let another process open it.
//! Real applications send the descriptor over a Unix socket (`SCM_RIGHTS`, or `pidfd_getfd`)
//! next to the bytes: the exporter takes it with [`ExportedMemory::file_descriptor`]
//! (`zeMemGetFileDescriptorFromIpcHandleExp`), the importer rebuilds the handle around the
//! descriptor it received with [`IpcMemoryHandle::with_file_descriptor`]
//! (`zeMemGetIpcHandleFromFileDescriptorExp`) and opens that. The workspace's CPU driver puts
//! its own process id and descriptor in the handle and the importer opens
//! `/proc/<pid>/fd/<fd>`: there the bytes alone suffice. Both processes must use the same
//! driver (the handle records its UUID; opening checks it).

use std::ffi::c_void;
use std::sync::Arc;

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::event::{EventPool, EventPoolFlags};
use crate::memory::{Allocation, AllocationKind, DeviceBuffer, Memory, Owner};
use crate::properties::IpcFlags;

const MAGIC: &[u8; 8] = b"L0RS-IPC";
const VERSION: u8 = 1;
const KIND_MEMORY: u8 = 1;
const KIND_EVENT_POOL: u8 = 2;
/// Magic, version, kind, two reserved bytes, the driver's UUID.
const HEADER: usize = 8 + 1 + 1 + 2 + 16;
const RAW: usize = 64;
const MEMORY_BYTES: usize = HEADER + 8 + 8 + 4 + 4 + RAW;
const EVENT_POOL_BYTES: usize = HEADER + 4 + 4 + RAW;

fn header(kind: u8, driver_uuid: &[u8; 16]) -> Vec<u8> {
    let mut v = Vec::with_capacity(MEMORY_BYTES);
    v.extend_from_slice(MAGIC);
    v.push(VERSION);
    v.push(kind);
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(driver_uuid);
    v
}

/// Reads `N` bytes at `*at`, advancing it (the length was checked first).
fn take<const N: usize>(b: &[u8], at: &mut usize) -> [u8; N] {
    let out: [u8; N] = b[*at..*at + N].try_into().expect("length checked");
    *at += N;
    out
}

/// Checks the header of `b` for `kind` and `len` bytes; returns the driver UUID and the
/// position after the header.
fn parse_header(call: &'static str, b: &[u8], kind: u8, len: usize) -> Result<([u8; 16], usize)> {
    if b.len() != len {
        return Err(Error::invalid(
            call,
            format!("{} bytes; a handle of this kind has {len}", b.len()),
        ));
    }
    if &b[..8] != MAGIC {
        return Err(Error::invalid(
            call,
            "not a handle of these bindings (wrong magic)",
        ));
    }
    if b[8] != VERSION {
        return Err(Error::invalid(
            call,
            format!("format version {}; this crate reads {VERSION}", b[8]),
        ));
    }
    if b[9] != kind {
        return Err(Error::invalid(
            call,
            format!(
                "a handle of kind {} (1: memory, 2: event pool), not {kind}",
                b[9]
            ),
        ));
    }
    let mut at = 12;
    let uuid = take::<16>(b, &mut at);
    Ok((uuid, at))
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(call: &'static str, s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    // Every character checked: `from_str_radix` alone takes a leading `+` ("+a" is 10).
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            call,
            format!("{c:?} at byte {i} is not a hexadecimal digit"),
        ));
    }
    if !s.len().is_multiple_of(2) {
        return Err(Error::invalid(call, "not an even number of hex digits"));
    }
    let digit = |b: u8| (b as char).to_digit(16).expect("checked above") as u8;
    Ok(s.as_bytes()
        .chunks_exact(2)
        .map(|p| digit(p[0]) << 4 | digit(p[1]))
        .collect())
}

fn driver_uuid(ctx: &Context) -> Result<[u8; 16]> {
    Ok(ctx.driver().properties()?.uuid.0)
}

fn check_driver(call: &'static str, ctx: &Context, uuid: &[u8; 16]) -> Result<()> {
    let ours = driver_uuid(ctx)?;
    if &ours != uuid {
        return Err(Error::invalid(
            call,
            format!(
                "the handle was made by the driver {}; this context's driver is {} (both \
                 processes must use the same driver)",
                crate::properties::Uuid(*uuid),
                crate::properties::Uuid(ours)
            ),
        ));
    }
    Ok(())
}

fn raw_bytes(data: &[std::os::raw::c_char; RAW]) -> [u8; RAW] {
    data.map(|c| c as u8)
}

fn raw_chars(data: &[u8; RAW]) -> [std::os::raw::c_char; RAW] {
    data.map(|c| c as std::os::raw::c_char)
}

/// An IPC handle of device memory: what another process needs to open it (plain data;
/// `Send + Sync`, `Clone`). Made by [`ExportedMemory`], sent as [`to_bytes`](Self::to_bytes)
/// or [`to_hex`](Self::to_hex), opened by [`open`](Self::open).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IpcMemoryHandle {
    driver: [u8; 16],
    /// Bytes from the start of the exported allocation to the first element.
    offset: u64,
    /// Bytes shared.
    bytes: u64,
    element_size: u32,
    raw: [u8; RAW],
}

impl std::fmt::Debug for IpcMemoryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpcMemoryHandle")
            .field("offset", &self.offset)
            .field("bytes", &self.bytes)
            .field("element_size", &self.element_size)
            .finish()
    }
}

impl IpcMemoryHandle {
    /// The handle as bytes (a fixed-size, versioned, little-endian format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = header(KIND_MEMORY, &self.driver);
        v.extend_from_slice(&self.offset.to_le_bytes());
        v.extend_from_slice(&self.bytes.to_le_bytes());
        v.extend_from_slice(&self.element_size.to_le_bytes());
        v.extend_from_slice(&[0; 4]);
        v.extend_from_slice(&self.raw);
        debug_assert_eq!(v.len(), MEMORY_BYTES);
        v
    }

    /// A handle from [`to_bytes`](Self::to_bytes)' output; the format is checked, not
    /// whether the handle is real (see [`open`](Self::open)).
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        const CALL: &str = "IpcMemoryHandle::from_bytes";
        let (driver, mut at) = parse_header(CALL, b, KIND_MEMORY, MEMORY_BYTES)?;
        let offset = u64::from_le_bytes(take(b, &mut at));
        let bytes = u64::from_le_bytes(take(b, &mut at));
        let element_size = u32::from_le_bytes(take(b, &mut at));
        let _reserved = take::<4>(b, &mut at);
        let raw = take::<RAW>(b, &mut at);
        if element_size == 0 || bytes % u64::from(element_size) != 0 {
            return Err(Error::invalid(
                CALL,
                format!("{bytes} bytes are not a whole number of elements of {element_size} bytes"),
            ));
        }
        Ok(IpcMemoryHandle {
            driver,
            offset,
            bytes,
            element_size,
            raw,
        })
    }

    /// [`to_bytes`](Self::to_bytes) in hexadecimal (for a command line or a text channel).
    pub fn to_hex(&self) -> String {
        to_hex(&self.to_bytes())
    }

    /// The inverse of [`to_hex`](Self::to_hex).
    pub fn from_hex(s: &str) -> Result<Self> {
        Self::from_bytes(&from_hex("IpcMemoryHandle::from_hex", s)?)
    }

    /// The number of elements shared.
    pub fn len(&self) -> usize {
        (self.bytes / u64::from(self.element_size)) as usize
    }

    /// Whether no element is shared (never: empty memory cannot be exported).
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The size of an element, in bytes, on the exporter's side.
    pub fn element_size(&self) -> usize {
        self.element_size as usize
    }

    /// This handle with its driver part rebuilt around `fd`, a file descriptor of this
    /// process that the exporter's [`ExportedMemory::file_descriptor`] was passed as (over a
    /// Unix socket with `SCM_RIGHTS`, `pidfd_getfd`, ...)
    /// (`zeMemGetIpcHandleFromFileDescriptorExp`). What Intel's GPU driver needs: its
    /// handles' descriptors are valid only in the exporting process. The descriptor stays
    /// the caller's.
    pub fn with_file_descriptor(&self, ctx: &Context, fd: u64) -> Result<Self> {
        let mut raw = sys::ze_ipc_mem_handle_t::default();
        // SAFETY: a valid context and an output; the driver checks the descriptor.
        unsafe {
            ze!(
                ctx.api(),
                zeMemGetIpcHandleFromFileDescriptorExp(ctx.as_raw(), fd, &mut raw)
            )?
        };
        Ok(IpcMemoryHandle {
            raw: raw_bytes(&raw.data),
            ..self.clone()
        })
    }

    /// Opens the shared memory in `ctx` for `device` (`zeMemOpenIpcHandle`) as a device
    /// buffer of [`len`](Self::len) elements of `T`.
    ///
    /// Checked before or right after the call: the handle's driver is `ctx`'s (UUID),
    /// `size_of::<T>()` is the exporter's element size, the address is aligned for `T`, and
    /// the allocation opened holds the claimed range (`zeMemGetAddressRange`). The buffer
    /// closes the handle (`zeMemCloseIpcHandle`) when it, its clones' allocation and every
    /// command using it are gone.
    ///
    /// # Safety
    ///
    /// - The bytes must be those of a handle exported by a process that still holds its
    ///   [`ExportedMemory`] (or has not yet put the handle back) and uses the same driver:
    ///   a forged or stale handle is, by the specification, undefined — the driver may open
    ///   unrelated memory, or crash.
    /// - Commands of this process that use the buffer are ordered by the crate only against
    ///   each other. The caller orders them against the other processes' uses, and against
    ///   other buffers of this process over the same memory (an [`ExportedMemory`]'s buffer
    ///   opened in its own process, or the same handle opened twice): each is a separate
    ///   allocation to hazard tracking, so concurrent writes would race.
    /// - The element type is the caller's word: only its size is checked (any bit pattern
    ///   is a valid `T: Pod`, so a different type of the same size reads other values, it
    ///   does not break memory safety).
    pub unsafe fn open<T: Pod>(&self, ctx: &Context, device: &Device) -> Result<DeviceBuffer<T>> {
        const CALL: &str = "zeMemOpenIpcHandle";
        ctx.check_device(CALL, device)?;
        check_driver(CALL, ctx, &self.driver)?;
        if size_of::<T>() != self.element_size as usize {
            return Err(Error::invalid(
                CALL,
                format!(
                    "the exporter shared elements of {} bytes; this type has {}",
                    self.element_size,
                    size_of::<T>()
                ),
            ));
        }
        let (Ok(offset), Ok(bytes)) = (usize::try_from(self.offset), usize::try_from(self.bytes))
        else {
            return Err(Error::invalid(CALL, "the range does not fit this process"));
        };
        let raw = sys::ze_ipc_mem_handle_t {
            data: raw_chars(&self.raw),
        };
        let mut base = std::ptr::null_mut();
        // SAFETY: valid context and device of it, flags 0 and an output; the handle's
        // validity is the caller's promise.
        unsafe {
            ze!(
                ctx.api(),
                zeMemOpenIpcHandle(ctx.as_raw(), device.as_raw(), raw, 0, &mut base)
            )?
        };
        if base.is_null() {
            return Err(Error::invalid(
                CALL,
                "the driver returned success and a null pointer",
            ));
        }
        let ptr = match opened_range::<T>(ctx, base, offset, bytes) {
            Ok(ptr) => ptr,
            Err(e) => {
                // Opened just now, used by nothing yet.
                owner_close(ctx, base);
                return Err(e);
            }
        };
        // From here the allocation's owner closes the handle, also if this fails.
        let alloc = Allocation::adopt(
            ctx,
            Some(device),
            AllocationKind::Device,
            ptr,
            bytes,
            false,
            Box::new(OpenedMemory { base }),
            None,
        )?;
        DeviceBuffer::from_allocation(CALL, alloc, self.len())
    }
}

/// The address of `bytes` bytes at `offset` in the IPC memory opened at `base`, checked:
/// the opened allocation holds them (`zeMemGetAddressRange`) and they are aligned for `T`.
fn opened_range<T>(
    ctx: &Context,
    base: *mut c_void,
    offset: usize,
    bytes: usize,
) -> Result<*mut c_void> {
    const CALL: &str = "zeMemOpenIpcHandle";
    let mut abase = std::ptr::null_mut();
    let mut asize = 0usize;
    // SAFETY: a pointer this context opened, and outputs.
    unsafe {
        ze!(
            ctx.api(),
            zeMemGetAddressRange(ctx.as_raw(), base, &mut abase, &mut asize)
        )?
    };
    let fits = abase == base && offset.checked_add(bytes).is_some_and(|e| e <= asize);
    if !fits {
        return Err(Error::invalid(
            CALL,
            format!(
                "the handle claims {bytes} bytes at offset {offset}; the opened allocation is \
                 {asize} bytes at {abase:p} (opened at {base:p})"
            ),
        ));
    }
    let ptr = base.cast::<u8>().wrapping_add(offset).cast::<c_void>();
    if !(ptr as usize).is_multiple_of(align_of::<T>()) {
        return Err(Error::invalid(
            CALL,
            format!(
                "the shared elements at {ptr:p} are not aligned to {} bytes",
                align_of::<T>()
            ),
        ));
    }
    Ok(ptr)
}

fn owner_close(ctx: &Context, base: *mut c_void) {
    // SAFETY: a pointer `zeMemOpenIpcHandle` returned in this context, closed once, used by
    // no command (the callers say why).
    if let Err(e) = unsafe { ze!(ctx.api(), zeMemCloseIpcHandle(ctx.as_raw(), base)) } {
        log::error!("level-zero: closing IPC memory at {base:p} failed: {e}");
    }
}

/// Closes opened IPC memory when its allocation's last reference goes.
struct OpenedMemory {
    /// What `zeMemOpenIpcHandle` returned (the buffer may start further in).
    base: *mut c_void,
}

// SAFETY: an address the host never dereferences.
unsafe impl Send for OpenedMemory {}
// SAFETY: as above.
unsafe impl Sync for OpenedMemory {}

impl Owner for OpenedMemory {
    fn release(self: Box<Self>, ctx: &Context, _ptr: *mut c_void, _bytes: usize) {
        // The allocation's last reference is gone: no command can use the memory.
        owner_close(ctx, self.base);
    }
}

/// Device memory exported for other processes (`zeMemGetIpcHandle`).
///
/// Keeps the exported allocation alive (the buffer may be dropped first) and gives the
/// handle back to the driver (`zeMemPutIpcHandle`, when the driver has it: spec 1.6) when
/// dropped. `Send + Sync`: the handle is plain data, the put happens once, in `Drop`.
pub struct ExportedMemory {
    alloc: Arc<Allocation>,
    raw: sys::ze_ipc_mem_handle_t,
    handle: IpcMemoryHandle,
}

impl std::fmt::Debug for ExportedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportedMemory")
            .field("handle", &self.handle)
            .finish()
    }
}

impl ExportedMemory {
    /// Exports `memory` (device memory: a [`DeviceBuffer`] or a slice of one, not empty).
    ///
    /// The handle names the whole driver allocation the memory lies in (found with
    /// `zeMemGetAddressRange`) plus the offset and length of `memory` in it.
    pub fn new<T: Pod>(memory: &impl Memory<T>) -> Result<ExportedMemory> {
        const CALL: &str = "zeMemGetIpcHandle";
        let region = memory.region();
        let alloc = region.alloc;
        let ctx = &alloc.ctx;
        if alloc.kind != AllocationKind::Device {
            return Err(Error::invalid(
                CALL,
                format!(
                    "only device memory can be shared; this is {:?} memory",
                    alloc.kind
                ),
            ));
        }
        if region.bytes == 0 {
            return Err(Error::invalid(CALL, "the memory is empty"));
        }
        if !ctx.driver().ipc_flags()?.contains(IpcFlags::MEMORY) {
            return Err(Error::Unsupported {
                what: "IPC of device memory",
                why: "the driver's IPC properties lack ZE_IPC_PROPERTY_FLAG_MEMORY".into(),
            });
        }
        // Before the handle exists: a caching allocator's block must never be handed out
        // again once another process may map it.
        alloc.prepare_export(CALL)?;
        let ptr = region.ptr();
        let mut base = std::ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: an address of a live allocation of the context, and outputs.
        unsafe {
            ze!(
                ctx.api(),
                zeMemGetAddressRange(ctx.as_raw(), ptr, &mut base, &mut size)
            )?
        };
        let offset = (ptr as usize).wrapping_sub(base as usize);
        if base.is_null() || offset.checked_add(region.bytes).is_none_or(|e| e > size) {
            return Err(Error::invalid(
                "zeMemGetAddressRange",
                format!(
                    "the driver placed {ptr:p} in an allocation of {size} bytes at {base:p}, \
                     which does not hold its {} bytes",
                    region.bytes
                ),
            ));
        }
        let mut raw = sys::ze_ipc_mem_handle_t::default();
        // SAFETY: the base of a live device allocation of the context (kept alive by the
        // export), and an output.
        unsafe { ze!(ctx.api(), zeMemGetIpcHandle(ctx.as_raw(), base, &mut raw))? };
        let handle = IpcMemoryHandle {
            driver: driver_uuid(ctx)?,
            offset: offset as u64,
            bytes: region.bytes as u64,
            element_size: size_of::<T>() as u32,
            raw: raw_bytes(&raw.data),
        };
        Ok(ExportedMemory {
            alloc: alloc.clone(),
            raw,
            handle,
        })
    }

    /// The handle to send to the other process.
    pub fn handle(&self) -> &IpcMemoryHandle {
        &self.handle
    }

    /// The file descriptor inside the handle (`zeMemGetFileDescriptorFromIpcHandleExp`):
    /// what Intel's GPU driver needs the importer to receive (over a Unix socket with
    /// `SCM_RIGHTS`), since its descriptors are valid only in this process. It stays owned
    /// by the export (the put closes it): send it before dropping the export.
    pub fn file_descriptor(&self) -> Result<u64> {
        let ctx = &self.alloc.ctx;
        let mut fd = 0u64;
        // SAFETY: a handle this context made and has not put back, and an output.
        unsafe {
            ze!(
                ctx.api(),
                zeMemGetFileDescriptorFromIpcHandleExp(ctx.as_raw(), self.raw, &mut fd)
            )?
        };
        Ok(fd)
    }
}

impl Drop for ExportedMemory {
    fn drop(&mut self) {
        let ctx = &self.alloc.ctx;
        if ctx.api().zeMemPutIpcHandle.is_none() {
            // Before spec 1.6 there is nothing to give back.
            return;
        }
        // SAFETY: a handle this context made, put back once.
        if let Err(e) = unsafe { ze!(ctx.api(), zeMemPutIpcHandle(ctx.as_raw(), self.raw)) } {
            log::error!("level-zero: putting back an IPC memory handle failed: {e}");
        }
    }
}

/// An IPC handle of an event pool: what another process needs to open it (plain data;
/// `Send + Sync`, `Clone`). Made by [`EventPool::export_ipc`], opened by
/// [`open`](Self::open).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IpcEventPoolHandle {
    driver: [u8; 16],
    count: u32,
    flags: u32,
    raw: [u8; RAW],
}

impl std::fmt::Debug for IpcEventPoolHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpcEventPoolHandle")
            .field("count", &self.count)
            .field("flags", &EventPoolFlags::from_bits_retain(self.flags))
            .finish()
    }
}

impl IpcEventPoolHandle {
    /// The handle as bytes (a fixed-size, versioned, little-endian format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = header(KIND_EVENT_POOL, &self.driver);
        v.extend_from_slice(&self.count.to_le_bytes());
        v.extend_from_slice(&self.flags.to_le_bytes());
        v.extend_from_slice(&self.raw);
        debug_assert_eq!(v.len(), EVENT_POOL_BYTES);
        v
    }

    /// A handle from [`to_bytes`](Self::to_bytes)' output; the format is checked, not
    /// whether the handle is real (see [`open`](Self::open)).
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        const CALL: &str = "IpcEventPoolHandle::from_bytes";
        let (driver, mut at) = parse_header(CALL, b, KIND_EVENT_POOL, EVENT_POOL_BYTES)?;
        let count = u32::from_le_bytes(take(b, &mut at));
        let flags = u32::from_le_bytes(take(b, &mut at));
        let raw = take::<RAW>(b, &mut at);
        if count == 0 {
            return Err(Error::invalid(CALL, "a pool of 0 events"));
        }
        if EventPoolFlags::from_bits(flags).is_none_or(|f| !f.contains(EventPoolFlags::IPC)) {
            return Err(Error::invalid(
                CALL,
                format!("pool flags {flags:#x}: unknown bits, or no IPC flag"),
            ));
        }
        Ok(IpcEventPoolHandle {
            driver,
            count,
            flags,
            raw,
        })
    }

    /// [`to_bytes`](Self::to_bytes) in hexadecimal.
    pub fn to_hex(&self) -> String {
        to_hex(&self.to_bytes())
    }

    /// The inverse of [`to_hex`](Self::to_hex).
    pub fn from_hex(s: &str) -> Result<Self> {
        Self::from_bytes(&from_hex("IpcEventPoolHandle::from_hex", s)?)
    }

    /// The number of events of the pool.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The pool's flags.
    pub fn flags(&self) -> EventPoolFlags {
        EventPoolFlags::from_bits_retain(self.flags)
    }

    /// Opens the pool in `ctx` (`zeEventPoolOpenIpcHandle`): an [`EventPool`] of the same
    /// count and flags whose event `i` ([`EventPool::event`]) is the exporter's event `i`.
    /// It is closed (`zeEventPoolCloseIpcHandle`), not destroyed, when its last clone and
    /// event are gone (commands keep their events).
    ///
    /// # Safety
    ///
    /// The bytes must be those of a handle exported by a process that still holds its
    /// export and uses the same driver (checked: the UUID): the event count and flags are
    /// taken from them, and the driver's behaviour with a forged or stale handle, or an
    /// index past the real pool, is undefined.
    pub unsafe fn open(&self, ctx: &Context) -> Result<EventPool> {
        const CALL: &str = "zeEventPoolOpenIpcHandle";
        check_driver(CALL, ctx, &self.driver)?;
        let raw = sys::ze_ipc_event_pool_handle_t {
            data: raw_chars(&self.raw),
        };
        let mut h = std::ptr::null_mut();
        // SAFETY: a valid context and an output; the handle's validity is the caller's
        // promise.
        unsafe {
            ze!(
                ctx.api(),
                zeEventPoolOpenIpcHandle(ctx.as_raw(), raw, &mut h)
            )?
        };
        if h.is_null() {
            return Err(Error::invalid(
                CALL,
                "the driver returned success and a null pool",
            ));
        }
        Ok(EventPool::from_ipc(
            ctx,
            h,
            self.count,
            EventPoolFlags::from_bits_retain(self.flags),
        ))
    }
}

/// An event pool exported for other processes ([`EventPool::export_ipc`],
/// `zeEventPoolGetIpcHandle`).
///
/// Keeps the pool alive and gives the handle back (`zeEventPoolPutIpcHandle`, when the
/// driver has it) when dropped. `Send + Sync`.
pub struct ExportedEventPool {
    pool: EventPool,
    raw: sys::ze_ipc_event_pool_handle_t,
    handle: IpcEventPoolHandle,
}

impl std::fmt::Debug for ExportedEventPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportedEventPool")
            .field("handle", &self.handle)
            .finish()
    }
}

impl ExportedEventPool {
    pub(crate) fn new(pool: &EventPool) -> Result<ExportedEventPool> {
        const CALL: &str = "zeEventPoolGetIpcHandle";
        if !pool.flags().contains(EventPoolFlags::IPC) {
            return Err(Error::invalid(
                CALL,
                "the pool was not created with EventPoolFlags::IPC",
            ));
        }
        let ctx = pool.context();
        if !ctx.driver().ipc_flags()?.contains(IpcFlags::EVENT_POOL) {
            return Err(Error::Unsupported {
                what: "IPC of event pools",
                why: "the driver's IPC properties lack ZE_IPC_PROPERTY_FLAG_EVENT_POOL".into(),
            });
        }
        let mut raw = sys::ze_ipc_event_pool_handle_t::default();
        // SAFETY: a live IPC pool (kept alive by the export) and an output.
        unsafe { ze!(ctx.api(), zeEventPoolGetIpcHandle(pool.as_raw(), &mut raw))? };
        let handle = IpcEventPoolHandle {
            driver: driver_uuid(ctx)?,
            count: pool.count(),
            flags: pool.flags().bits(),
            raw: raw_bytes(&raw.data),
        };
        Ok(ExportedEventPool {
            pool: pool.clone(),
            raw,
            handle,
        })
    }

    /// The handle to send to the other process.
    pub fn handle(&self) -> &IpcEventPoolHandle {
        &self.handle
    }

    /// The pool exported.
    pub fn pool(&self) -> &EventPool {
        &self.pool
    }
}

impl Drop for ExportedEventPool {
    fn drop(&mut self) {
        let ctx = self.pool.context();
        if ctx.api().zeEventPoolPutIpcHandle.is_none() {
            return;
        }
        // SAFETY: a handle this pool made, put back once.
        if let Err(e) = unsafe { ze!(ctx.api(), zeEventPoolPutIpcHandle(ctx.as_raw(), self.raw)) } {
            log::error!("level-zero: putting back an IPC event pool handle failed: {e}");
        }
    }
}
