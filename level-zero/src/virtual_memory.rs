//! Virtual memory: reserved address ranges, physical memory, and mappings between them
//! (`zeVirtualMemReserve`, `zePhysicalMemCreate`, `zeVirtualMemMap`, ...), and
//! [`GrowableBuffer`], a device buffer that grows in place.
//!
//! # Ownership
//!
//! ```text
//!  DeviceBuffer / GrowableBuffer / commands ──► Allocation of the mapping
//!                                                  └ owner: unmaps on release ──► VirtualRange
//!                                                                             └─► PhysicalMemory
//! ```
//!
//! - A [`VirtualRange`] (a reservation) is freed (`zeVirtualMemFree`) when the last of the
//!   handle and its mappings goes: dropping the handle while pages are mapped is fine.
//! - A [`PhysicalMemory`] is destroyed (`zePhysicalMemDestroy`) when the last of the handle
//!   and its mappings goes.
//! - A [`Mapping`] is an allocation of the crate (see [`crate::memory`]) whose owner unmaps
//!   the pages (`zeVirtualMemUnmap`) when its last reference goes: the `Mapping` itself, the
//!   buffers made from it, and every command that uses them until its list or queue has seen
//!   it complete. So pages are unmapped only when no command can use them, and the range and
//!   the physical memory outlive the mapping.
//!
//! Each range and each physical memory records which of its pages are mapped: a mapping over
//! pages already mapped (in the range, or of the physical memory) is refused before any call,
//! so two allocations never alias the same memory (hazard tracking orders commands per
//! allocation, and aliases would escape it).
//!
//! Sizes, offsets and alignments are checked against the page size
//! ([`page_size`], `zeVirtualMemQueryPageSize`) before the driver is called. A driver
//! without these functions gives [`Error::MissingFunction`] naming the function.
//!
//! # Example
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::ImmediateCommandList;
//! use level_zero::virtual_memory::GrowableBuffer;
//! let mut buf = GrowableBuffer::<u32>::new(&ctx, device, 1 << 20)?; // room for 1 Mi u32
//! buf.grow_to(1000)?;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! list.fill(&buf, 7u32)?;
//! let address = buf.as_raw();
//! buf.grow_to(100_000)?; // maps more pages behind the first: no copy, same address
//! assert_eq!(buf.as_raw(), address);
//! list.fill(&buf.slice(1000..), 8u32)?;
//! let mut out = vec![0u32; 100_000];
//! list.copy_to_slice(&mut out, &buf)?;
//! assert!(out[..1000].iter().all(|&x| x == 7) && out[1000..].iter().all(|&x| x == 8));
//! # Ok(()) }
//! ```

use std::ffi::c_void;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::handle::Handle;
use crate::memory::{Allocation, AllocationKind, DeviceBuffer, Memory, Owner, Region, sealed};

/// What the device may do with mapped pages (`ze_memory_access_attribute_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PageAccess {
    /// Inaccessible (what reserved, unmapped pages are).
    None,
    /// Read and write.
    ReadWrite,
    /// Read only.
    ReadOnly,
}

impl PageAccess {
    fn raw(self) -> sys::ze_memory_access_attribute_t {
        match self {
            PageAccess::None => sys::ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_NONE,
            PageAccess::ReadWrite => {
                sys::ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_READWRITE
            }
            PageAccess::ReadOnly => {
                sys::ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_READONLY
            }
        }
    }

    fn from_raw(call: &'static str, r: sys::ze_memory_access_attribute_t) -> Result<Self> {
        match r {
            sys::ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_NONE => {
                Ok(PageAccess::None)
            }
            sys::ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_READWRITE => {
                Ok(PageAccess::ReadWrite)
            }
            sys::ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_READONLY => {
                Ok(PageAccess::ReadOnly)
            }
            other => Err(Error::invalid(
                call,
                format!(
                    "the driver answered an unknown access attribute {:#x}",
                    other.0
                ),
            )),
        }
    }
}

/// The page size to use for a reservation or a physical memory of `bytes` bytes on `device`
/// (`zeVirtualMemQueryPageSize`): starts, sizes and offsets must be multiples of it.
pub fn page_size(ctx: &Context, device: &Device, bytes: usize) -> Result<usize> {
    const CALL: &str = "zeVirtualMemQueryPageSize";
    ctx.check_device(CALL, device)?;
    if bytes == 0 {
        return Err(Error::invalid(CALL, "the size is 0"));
    }
    let mut page = 0usize;
    // SAFETY: valid context and device of it, a non-zero size and an output.
    unsafe {
        ze!(
            ctx.api(),
            zeVirtualMemQueryPageSize(ctx.as_raw(), device.as_raw(), bytes, &mut page)
        )?
    };
    if !page.is_power_of_two() {
        return Err(Error::invalid(
            CALL,
            format!("the driver answered a page size of {page}, not a power of two"),
        ));
    }
    Ok(page)
}

/// `bytes` rounded up to a multiple of `page` (a power of two), or `None` on overflow.
fn round_up(bytes: usize, page: usize) -> Option<usize> {
    Some(bytes.checked_add(page - 1)? & !(page - 1))
}

fn check_aligned(call: &'static str, what: &str, value: usize, page: usize) -> Result<()> {
    if !value.is_multiple_of(page) {
        return Err(Error::invalid(
            call,
            format!("{what} {value:#x} is not a multiple of the page size {page:#x}"),
        ));
    }
    Ok(())
}

/// The mapped byte ranges of a reservation or of a physical memory.
#[derive(Default)]
struct Occupancy(Mutex<Vec<(usize, usize)>>);

impl Occupancy {
    /// Records `[start, end)` as mapped; `false` (nothing recorded) when it overlaps a range
    /// already mapped.
    fn claim(&self, start: usize, end: usize) -> bool {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if v.iter().any(|&(s, e)| start < e && s < end) {
            return false;
        }
        v.push((start, end));
        true
    }

    fn release(&self, start: usize) {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        v.retain(|&(s, _)| s != start);
    }

    fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }
}

struct RangeInner {
    ctx: Context,
    ptr: *mut c_void,
    bytes: usize,
    page: usize,
    mapped: Occupancy,
}

// SAFETY: `ptr` is an address the host never dereferences; the bookkeeping is behind a mutex.
unsafe impl Send for RangeInner {}
// SAFETY: as above.
unsafe impl Sync for RangeInner {}

impl Drop for RangeInner {
    fn drop(&mut self) {
        // Every mapping holds a reference to the range, so none is left (a mapping whose
        // unmap failed leaked its reference, and with it the range).
        // SAFETY: a reservation of this context, freed once, with nothing mapped in it.
        if let Err(e) = unsafe {
            ze!(
                self.ctx.api(),
                zeVirtualMemFree(self.ctx.as_raw(), self.ptr, self.bytes)
            )
        } {
            log::error!(
                "level-zero: freeing a virtual range of {} bytes failed: {e}",
                self.bytes
            );
        }
    }
}

/// A range of reserved virtual addresses (`zeVirtualMemReserve`), where [`PhysicalMemory`]
/// is mapped ([`VirtualRange::map`]).
///
/// Cheap to clone (shared). Freed (`zeVirtualMemFree`) when the last clone and the last of
/// its mappings are gone, so dropping it while pages are mapped is fine. `Send + Sync`: the
/// reservation functions are thread-safe, and the crate's record of mapped pages is locked.
#[derive(Clone)]
pub struct VirtualRange {
    inner: Arc<RangeInner>,
}

impl std::fmt::Debug for VirtualRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualRange")
            .field("ptr", &self.inner.ptr)
            .field("bytes", &self.inner.bytes)
            .field("page", &self.inner.page)
            .finish()
    }
}

impl VirtualRange {
    /// Reserves `bytes` bytes of virtual addresses in `ctx`; `bytes` must be a multiple of
    /// [`page_size`]`(ctx, device, bytes)` (the error says the page size otherwise).
    pub fn reserve(ctx: &Context, device: &Device, bytes: usize) -> Result<VirtualRange> {
        const CALL: &str = "zeVirtualMemReserve";
        if bytes == 0 {
            return Err(Error::invalid(CALL, "the size is 0"));
        }
        let page = page_size(ctx, device, bytes)?;
        check_aligned(CALL, "the size", bytes, page)?;
        let mut ptr = std::ptr::null_mut();
        let reserve = |start: *const c_void, ptr: &mut *mut c_void| {
            // SAFETY: valid context, a start hint (null, or a page-aligned address: only a
            // hint), a page-aligned non-zero size and an output.
            unsafe {
                ze!(
                    ctx.api(),
                    zeVirtualMemReserve(ctx.as_raw(), start, bytes, ptr)
                )
            }
        };
        match reserve(std::ptr::null(), &mut ptr) {
            // The validation layer of loader 1.8 takes the optional `pStart` for a required
            // pointer: give it a hint instead (page-aligned, high in the address space; the
            // specification has the driver choose another start when it is taken).
            Err(Error::Call { code, .. })
                if code.0 == sys::ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER =>
            {
                let hint = ((1usize << 46) & !(page - 1)) as *const c_void;
                reserve(hint, &mut ptr)?;
            }
            r => r?,
        }
        if ptr.is_null() || !(ptr as usize).is_multiple_of(page) {
            return Err(Error::invalid(
                CALL,
                format!("the driver returned success and the address {ptr:p}, not page-aligned"),
            ));
        }
        Ok(VirtualRange {
            inner: Arc::new(RangeInner {
                ctx: ctx.clone(),
                ptr,
                bytes,
                page,
                mapped: Occupancy::default(),
            }),
        })
    }

    /// The first address of the range.
    pub fn as_ptr(&self) -> *mut c_void {
        self.inner.ptr
    }

    /// The size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.inner.bytes
    }

    /// The page size the range was reserved with.
    pub fn page_size(&self) -> usize {
        self.inner.page
    }

    /// The context.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// Whether some pages of the range are mapped now (mappings are released only once
    /// no command can use them: see the [module documentation](self)).
    pub fn has_mappings(&self) -> bool {
        !self.inner.mapped.is_empty()
    }

    /// Maps `bytes` bytes of `physical`, from `physical_offset`, at `offset` in the range
    /// (`zeVirtualMemMap`), with the device's access `access`.
    ///
    /// `offset`, `physical_offset` and `bytes` must be multiples of the physical memory's
    /// page size, the pages must lie inside the range and the physical memory, and neither
    /// the range's pages nor the physical pages may be mapped already (no aliases). The
    /// pages stay mapped until the [`Mapping`], the buffers made from it and the commands
    /// that use them are gone.
    pub fn map(
        &self,
        offset: usize,
        physical: &PhysicalMemory,
        physical_offset: usize,
        bytes: usize,
        access: PageAccess,
    ) -> Result<Mapping> {
        const CALL: &str = "zeVirtualMemMap";
        let (range, phys) = (&self.inner, &physical.inner);
        if range.ctx != phys.ctx {
            return Err(Error::invalid(
                CALL,
                "the physical memory belongs to another context than the range",
            ));
        }
        if bytes == 0 {
            return Err(Error::invalid(CALL, "the size is 0"));
        }
        for (what, v) in [
            ("the offset in the range", offset),
            ("the offset in the physical memory", physical_offset),
            ("the size", bytes),
        ] {
            check_aligned(CALL, what, v, phys.page)?;
        }
        let end = offset.checked_add(bytes).filter(|&e| e <= range.bytes);
        let Some(end) = end else {
            return Err(Error::invalid(
                CALL,
                format!(
                    "{bytes:#x} bytes at offset {offset:#x} exceed the range of {:#x} bytes",
                    range.bytes
                ),
            ));
        };
        let pend = physical_offset
            .checked_add(bytes)
            .filter(|&e| e <= phys.bytes);
        let Some(pend) = pend else {
            return Err(Error::invalid(
                CALL,
                format!(
                    "{bytes:#x} bytes at offset {physical_offset:#x} exceed the physical memory of {:#x} bytes",
                    phys.bytes
                ),
            ));
        };
        if !range.mapped.claim(offset, end) {
            return Err(Error::invalid(
                CALL,
                format!("pages of the range in {offset:#x}..{end:#x} are mapped already"),
            ));
        }
        if !phys.mapped.claim(physical_offset, pend) {
            range.mapped.release(offset);
            return Err(Error::invalid(
                CALL,
                format!(
                    "pages {physical_offset:#x}..{pend:#x} of the physical memory are mapped already (aliases are not offered: hazard tracking orders commands per allocation)"
                ),
            ));
        }
        let ptr = range.ptr.cast::<u8>().wrapping_add(offset).cast::<c_void>();
        // SAFETY: a range of a reservation of this context and pages of a physical memory of
        // it, both page-aligned, in bounds and recorded as mapped by nobody else.
        let r = unsafe {
            ze!(
                range.ctx.api(),
                zeVirtualMemMap(
                    range.ctx.as_raw(),
                    ptr,
                    bytes,
                    phys.handle.0,
                    physical_offset,
                    access.raw()
                )
            )
        };
        if let Err(e) = r {
            range.mapped.release(offset);
            phys.mapped.release(physical_offset);
            return Err(e);
        }
        let owner = MappingOwner {
            range: range.clone(),
            phys: phys.clone(),
            offset,
            physical_offset,
        };
        // Counted: mapped device memory is what the process uses (the physical memory is not
        // counted on its own).
        match Allocation::adopt(
            &range.ctx,
            Some(&phys.device),
            AllocationKind::Device,
            ptr,
            bytes,
            true,
            Box::new(owner),
            None,
        ) {
            Ok(alloc) => Ok(Mapping { alloc, access }),
            Err(e) => {
                // Unreachable in practice (the device belongs to the context: checked when
                // the physical memory was made); undo the mapping.
                Box::new(MappingOwner {
                    range: range.clone(),
                    phys: phys.clone(),
                    offset,
                    physical_offset,
                })
                .release(&range.ctx, ptr, bytes);
                Err(e)
            }
        }
    }
}

struct PhysInner {
    ctx: Context,
    device: Device,
    handle: Handle<sys::_ze_physical_mem_handle_t>,
    bytes: usize,
    page: usize,
    mapped: Occupancy,
}

impl Drop for PhysInner {
    fn drop(&mut self) {
        // SAFETY: every mapping holds a reference to the physical memory, so none is left and
        // no command can use it; destroyed once.
        if let Err(e) = unsafe {
            ze!(
                self.ctx.api(),
                zePhysicalMemDestroy(self.ctx.as_raw(), self.handle.0)
            )
        } {
            log::error!(
                "level-zero: destroying physical memory of {} bytes failed: {e}",
                self.bytes
            );
        }
    }
}

/// What [`PhysicalMemory::properties`] answers (`ze_physical_mem_properties_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PhysicalMemoryProperties {
    /// The driver's unique identifier of the physical memory.
    pub id: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// Physical device memory (`zePhysicalMemCreate`), to be mapped into [`VirtualRange`]s.
///
/// Cheap to clone (shared). Destroyed (`zePhysicalMemDestroy`) when the last clone and the
/// last of its mappings are gone: it cannot be destroyed while mapped. `Send + Sync`.
#[derive(Clone)]
pub struct PhysicalMemory {
    inner: Arc<PhysInner>,
}

impl std::fmt::Debug for PhysicalMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhysicalMemory")
            .field("bytes", &self.inner.bytes)
            .field("page", &self.inner.page)
            .finish()
    }
}

impl PhysicalMemory {
    /// `bytes` bytes of physical memory on `device`; `bytes` must be a multiple of
    /// [`page_size`]`(ctx, device, bytes)` (the error says the page size otherwise).
    pub fn new(ctx: &Context, device: &Device, bytes: usize) -> Result<PhysicalMemory> {
        const CALL: &str = "zePhysicalMemCreate";
        ctx.check_device(CALL, device)?;
        if bytes == 0 {
            return Err(Error::invalid(CALL, "the size is 0"));
        }
        let page = page_size(ctx, device, bytes)?;
        check_aligned(CALL, "the size", bytes, page)?;
        let mut desc = sys::ze_physical_mem_desc_t {
            flags: sys::ze_physical_mem_flag_t::ZE_PHYSICAL_MEM_FLAG_ALLOCATE_ON_DEVICE.0,
            size: bytes,
            ..Default::default()
        };
        let mut h = std::ptr::null_mut();
        // SAFETY: valid context and device of it, a descriptor of a page-aligned non-zero
        // size and an output.
        unsafe {
            ze!(
                ctx.api(),
                zePhysicalMemCreate(ctx.as_raw(), device.as_raw(), &mut desc, &mut h)
            )?
        };
        Ok(PhysicalMemory {
            inner: Arc::new(PhysInner {
                ctx: ctx.clone(),
                device: device.clone(),
                handle: Handle(h),
                bytes,
                page,
                mapped: Occupancy::default(),
            }),
        })
    }

    /// The size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.inner.bytes
    }

    /// The page size mappings of it are aligned to.
    pub fn page_size(&self) -> usize {
        self.inner.page
    }

    /// The device the memory is on.
    pub fn device(&self) -> &Device {
        &self.inner.device
    }

    /// The context.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// Whether some of its pages are mapped now.
    pub fn is_mapped(&self) -> bool {
        !self.inner.mapped.is_empty()
    }

    /// The driver's description of it (`zePhysicalMemGetProperties`).
    pub fn properties(&self) -> Result<PhysicalMemoryProperties> {
        let mut p = sys::ze_physical_mem_properties_t::default();
        // SAFETY: valid context and physical memory of it, and an output.
        unsafe {
            ze!(
                self.inner.ctx.api(),
                zePhysicalMemGetProperties(self.inner.ctx.as_raw(), self.inner.handle.0, &mut p)
            )?
        };
        Ok(PhysicalMemoryProperties {
            id: p.id,
            size: p.size,
        })
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_physical_mem_handle_t {
        self.inner.handle.0
    }
}

/// Unmaps a mapping's pages when its allocation's last reference goes.
struct MappingOwner {
    range: Arc<RangeInner>,
    phys: Arc<PhysInner>,
    offset: usize,
    physical_offset: usize,
}

impl Owner for MappingOwner {
    fn release(self: Box<Self>, ctx: &Context, ptr: *mut c_void, bytes: usize) {
        // SAFETY: pages this owner mapped, unmapped once, when no command can use them (the
        // allocation's last reference is gone).
        match unsafe { ze!(ctx.api(), zeVirtualMemUnmap(ctx.as_raw(), ptr, bytes)) } {
            Ok(()) => {
                self.range.mapped.release(self.offset);
                self.phys.mapped.release(self.physical_offset);
            }
            Err(e) => {
                // The pages may still be mapped: keep the range and the physical memory (and
                // their records of the pages) for the rest of the process.
                log::error!(
                    "level-zero: unmapping {bytes} bytes at {ptr:p} failed: {e}; the range and \
                     the physical memory are leaked"
                );
                std::mem::forget(self);
            }
        }
    }
}

/// Pages of a [`VirtualRange`] mapped to [`PhysicalMemory`] ([`VirtualRange::map`]).
///
/// The pages are unmapped (`zeVirtualMemUnmap`) when the mapping, every buffer made from it
/// ([`Mapping::buffer`]) and every command using them are gone — not when the mapping is
/// dropped if the device may still use the pages. The range and the physical memory live at
/// least as long. `Send + Sync`; changing the access takes `&mut self`.
pub struct Mapping {
    alloc: Arc<Allocation>,
    access: PageAccess,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("ptr", &self.alloc.ptr)
            .field("bytes", &self.alloc.bytes)
            .field("access", &self.access)
            .finish()
    }
}

impl Mapping {
    /// The mapping's allocation (what keeps the pages mapped), for the caching allocator's
    /// expandable segments.
    pub(crate) fn into_allocation(self) -> Arc<Allocation> {
        self.alloc
    }

    /// The first mapped address.
    pub fn as_ptr(&self) -> *mut c_void {
        self.alloc.ptr
    }

    /// The size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.alloc.bytes
    }

    /// The access the pages were given (by [`VirtualRange::map`] or [`Self::set_access`]).
    pub fn access(&self) -> PageAccess {
        self.access
    }

    /// A device buffer over the whole mapping (its size must be a multiple of `T`'s). It
    /// shares the mapping's allocation: commands through it are ordered, kept alive and
    /// tracked like any buffer's, and keep the pages mapped.
    ///
    /// Refused unless the pages are [`PageAccess::ReadWrite`]: the crate's commands do not
    /// know which of them only read, and a device access the pages forbid is a device fault.
    pub fn buffer<T: Pod>(&self) -> Result<DeviceBuffer<T>> {
        const CALL: &str = "Mapping::buffer";
        if self.access != PageAccess::ReadWrite {
            return Err(Error::invalid(
                CALL,
                format!(
                    "the pages are {:?}; buffers need PageAccess::ReadWrite",
                    self.access
                ),
            ));
        }
        if size_of::<T>() == 0 || !self.alloc.bytes.is_multiple_of(size_of::<T>()) {
            return Err(Error::invalid(
                CALL,
                format!(
                    "{} bytes are not a whole number of elements of {} bytes",
                    self.alloc.bytes,
                    size_of::<T>()
                ),
            ));
        }
        DeviceBuffer::from_allocation(CALL, self.alloc.clone(), self.alloc.bytes / size_of::<T>())
    }

    /// Changes what the device may do with the pages (`zeVirtualMemSetAccessAttribute`).
    ///
    /// [`Error::Busy`] while a buffer made from the mapping, or a command that used one,
    /// still exists (the device might use the pages as the attributes change).
    pub fn set_access(&mut self, access: PageAccess) -> Result<()> {
        const CALL: &str = "zeVirtualMemSetAccessAttribute";
        if Arc::strong_count(&self.alloc) > 1 {
            return Err(Error::Busy {
                what: CALL,
                why: "a buffer made from the mapping, or a command not yet seen complete, still \
                      uses the pages",
            });
        }
        let ctx = &self.alloc.ctx;
        // SAFETY: pages this mapping mapped in a reservation of the context; nothing else
        // uses them (checked above).
        unsafe {
            ze!(
                ctx.api(),
                zeVirtualMemSetAccessAttribute(
                    ctx.as_raw(),
                    self.alloc.ptr,
                    self.alloc.bytes,
                    access.raw()
                )
            )?
        };
        self.access = access;
        Ok(())
    }

    /// What the driver says the access of the mapping's first pages is
    /// (`zeVirtualMemGetAccessAttribute`), and how many bytes from the start share it.
    pub fn query_access(&self) -> Result<(PageAccess, usize)> {
        const CALL: &str = "zeVirtualMemGetAccessAttribute";
        let ctx = &self.alloc.ctx;
        let mut a = sys::ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_NONE;
        let mut size = 0usize;
        // SAFETY: pages of a reservation of the context, and outputs.
        unsafe {
            ze!(
                ctx.api(),
                zeVirtualMemGetAccessAttribute(
                    ctx.as_raw(),
                    self.alloc.ptr,
                    self.alloc.bytes,
                    &mut a,
                    &mut size
                )
            )?
        };
        Ok((PageAccess::from_raw(CALL, a)?, size))
    }
}

/// What keeps a [`GrowableBuffer`] extent's pages mapped: the mappings behind it (each
/// unmapping itself when its last reference goes). Releasing an extent returns nothing to the
/// driver.
struct Extent {
    _pieces: Vec<Arc<Allocation>>,
}

impl Owner for Extent {
    fn release(self: Box<Self>, _: &Context, _: *mut c_void, _: usize) {}
}

/// A device buffer that grows in place: one virtual range reserved for `max_len` elements up
/// front, physical pages mapped behind the used part as it grows ([`grow_to`](Self::grow_to),
/// [`reserve`](Self::reserve)). Growing copies nothing: the address stays the same and the
/// elements already there keep their values.
///
/// It is a [`Memory<T>`] like a [`DeviceBuffer<T>`] (and dereferences to one, for
/// [`slice`](DeviceBuffer::slice), [`len`](DeviceBuffer::len), ...): every command takes it.
/// Each extent is an allocation of its own (what a command recorded before a growth keeps
/// alive, with the pages it covers), and all the extents share one set of hazard marks, so a
/// command through any extent — a regular list recorded before a growth and executed again
/// after it, say — is ordered against commands through the others. Pages are unmapped only
/// when the buffer and every command that used an extent covering them are gone.
///
/// Growth takes `&mut self`, so no slice of an older extent is borrowed meanwhile.
/// `Send + Sync`. Zero-sized element types are refused.
pub struct GrowableBuffer<T> {
    range: VirtualRange,
    device: Device,
    /// The granularity of the physical memory mapped at each growth.
    page: usize,
    /// The mappings, from offset 0 of the range, back to back.
    pieces: Vec<Arc<Allocation>>,
    /// Bytes mapped (the sum of the pieces).
    mapped: usize,
    max_len: usize,
    /// The current extent (`len` elements).
    buffer: DeviceBuffer<T>,
}

impl<T> std::fmt::Debug for GrowableBuffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrowableBuffer")
            .field("range", &self.range)
            .field("mapped", &self.mapped)
            .field("max_len", &self.max_len)
            .field("buffer", &self.buffer)
            .finish()
    }
}

impl<T: Pod> GrowableBuffer<T> {
    /// An empty buffer on `device` that can grow to `max_len` elements: reserves their
    /// addresses (rounded up to the page size), maps nothing yet.
    pub fn new(ctx: &Context, device: &Device, max_len: usize) -> Result<Self> {
        const CALL: &str = "GrowableBuffer::new";
        if size_of::<T>() == 0 {
            return Err(Error::invalid(
                CALL,
                "zero-sized element types need no memory; use a DeviceBuffer",
            ));
        }
        let max_bytes = max_len
            .checked_mul(size_of::<T>())
            .filter(|&b| b > 0)
            .ok_or_else(|| {
                Error::invalid(
                    CALL,
                    format!(
                        "{max_len} elements of {} bytes: 0 bytes or more than usize holds",
                        size_of::<T>()
                    ),
                )
            })?;
        let page = page_size(ctx, device, max_bytes)?;
        if page % align_of::<T>() != 0 {
            return Err(Error::invalid(
                CALL,
                format!(
                    "the page size {page} is not a multiple of the element alignment {}",
                    align_of::<T>()
                ),
            ));
        }
        let reserved = round_up(max_bytes, page)
            .ok_or_else(|| Error::invalid(CALL, "the size rounded up to pages overflows"))?;
        let range = VirtualRange::reserve(ctx, device, reserved)?;
        let buffer = Self::extent(&range, device, Vec::new(), 0, None)?;
        Ok(GrowableBuffer {
            range,
            device: device.clone(),
            page,
            pieces: Vec::new(),
            mapped: 0,
            max_len,
            buffer,
        })
    }

    /// A buffer over the first `len` elements of the range, kept mapped by `pieces`.
    fn extent(
        range: &VirtualRange,
        device: &Device,
        pieces: Vec<Arc<Allocation>>,
        len: usize,
        previous: Option<&Allocation>,
    ) -> Result<DeviceBuffer<T>> {
        const CALL: &str = "GrowableBuffer::grow_to";
        let bytes = len * size_of::<T>();
        // An empty extent has no memory (null, as an empty buffer's).
        let ptr = if bytes == 0 {
            std::ptr::null_mut()
        } else {
            range.as_ptr()
        };
        let alloc = Allocation::adopt(
            range.context(),
            Some(device),
            AllocationKind::Device,
            ptr,
            bytes,
            false,
            Box::new(Extent { _pieces: pieces }),
            previous,
        )?;
        DeviceBuffer::from_allocation(CALL, alloc, len)
    }

    /// The number of elements now.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The number of elements it can hold without mapping more pages.
    pub fn capacity(&self) -> usize {
        (self.mapped / size_of::<T>()).min(self.max_len)
    }

    /// The most elements it can ever hold.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The reserved range.
    pub fn range(&self) -> &VirtualRange {
        &self.range
    }

    /// The current extent as a [`DeviceBuffer`] (what [`Deref`] gives). A clone of it stays
    /// valid, with its length, after the buffer grows.
    pub fn as_buffer(&self) -> &DeviceBuffer<T> {
        &self.buffer
    }

    /// Maps pages for at least `additional` more elements than [`len`](Self::len), without
    /// changing the length.
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        const CALL: &str = "GrowableBuffer::reserve";
        let want = self
            .len()
            .checked_add(additional)
            .filter(|&n| n <= self.max_len)
            .ok_or_else(|| self.too_long(CALL, additional))?;
        self.map_for(want * size_of::<T>())
    }

    fn too_long(&self, call: &'static str, extra: usize) -> Error {
        Error::invalid(
            call,
            format!(
                "{} + {extra} elements exceed the {} the buffer was reserved for",
                self.len(),
                self.max_len
            ),
        )
    }

    /// Maps physical memory until `bytes` bytes of the range are mapped: at least doubling
    /// the mapped part (up to the reservation), in whole pages.
    fn map_for(&mut self, bytes: usize) -> Result<()> {
        if bytes <= self.mapped {
            return Ok(());
        }
        let total = self.range.size_bytes();
        let target = bytes.max(self.mapped.saturating_mul(2)).min(total);
        // `target` ≤ `total`, a multiple of the page size.
        let target = round_up(target, self.page).map_or(total, |t| t.min(total));
        let more = target - self.mapped;
        let physical = PhysicalMemory::new(self.range.context(), &self.device, more)?;
        let mapping = self
            .range
            .map(self.mapped, &physical, 0, more, PageAccess::ReadWrite)?;
        self.pieces.push(mapping.alloc);
        self.mapped = target;
        Ok(())
    }

    /// Grows to `len` elements, mapping pages as needed; the first [`len`](Self::len)
    /// elements keep their values and address, the new ones are unspecified (whatever the
    /// physical memory held). A `len` not above the current one changes nothing
    /// ([`truncate`](Self::truncate) shrinks).
    pub fn grow_to(&mut self, len: usize) -> Result<()> {
        const CALL: &str = "GrowableBuffer::grow_to";
        if len <= self.len() {
            return Ok(());
        }
        if len > self.max_len {
            return Err(self.too_long(CALL, len - self.len()));
        }
        self.map_for(len * size_of::<T>())?;
        self.set_len(len)
    }

    /// Shrinks to `len` elements (nothing when `len` is not below the current length). The
    /// pages stay mapped: growing again reuses them.
    pub fn truncate(&mut self, len: usize) -> Result<()> {
        if len >= self.len() {
            return Ok(());
        }
        self.set_len(len)
    }

    /// A new extent of `len` elements (mapped), sharing the previous extent's hazard marks.
    fn set_len(&mut self, len: usize) -> Result<()> {
        let previous = sealed::Sealed::region(&self.buffer).alloc.clone();
        self.buffer = Self::extent(
            &self.range,
            &self.device,
            self.pieces.clone(),
            len,
            Some(&previous),
        )?;
        Ok(())
    }
}

impl<T> Deref for GrowableBuffer<T> {
    type Target = DeviceBuffer<T>;
    fn deref(&self) -> &DeviceBuffer<T> {
        &self.buffer
    }
}

impl<T: Pod> Memory<T> for GrowableBuffer<T> {}
impl<T: Pod> sealed::Sealed for GrowableBuffer<T> {
    fn region(&self) -> Region<'_> {
        sealed::Sealed::region(&self.buffer)
    }

    fn elements(&self) -> usize {
        sealed::Sealed::elements(&self.buffer)
    }
}
