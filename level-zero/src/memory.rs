//! Memory allocations: device, host and shared buffers.
//!
//! # How buffers stay sound while the device works
//!
//! Every buffer owns its allocation through a reference count. Each command that uses a
//! buffer (a copy, a fill, a kernel argument) takes a reference, and the command list, queue
//! or immediate list keeps it until it has *seen* the command complete (a host
//! synchronisation, or a fence or queue synchronisation). Dropping a buffer therefore never
//! frees memory the device may still use: the memory is freed (`zeMemFree`) when the last
//! reference goes, after the work finished.
//!
//! Host and shared buffers can also be read and written by the host. Host access goes
//! through guards ([`HostBuffer::as_slice`], [`HostBuffer::as_mut_slice`]) that work like a
//! `RefCell` between the host and the device:
//!
//! - a host read guard is refused while submitted device work may write the buffer;
//! - a host write guard is refused while submitted device work may read or write it;
//! - submitting device work that writes the buffer is refused while a host guard exists, and
//!   work that reads it is refused while a host write guard exists.
//!
//! Refusals are [`Error::Busy`] errors, never blocking and never undefined behaviour.
//! Device-only memory ([`DeviceBuffer`]) has no host access at all; host data reaches it
//! through copies.
//!
//! # Zero-sized element types
//!
//! Buffers of a zero-sized `T` (`()`, `[u32; 0]`, ...) are accepted, like `Vec<()>`: they
//! have `len` elements and no bytes, so nothing is allocated; host views of them are slices
//! of `len` elements over a dangling pointer aligned for `T` (as for every view of zero
//! bytes), copies of them do nothing, and a fill is refused (a pattern of 0 bytes is not a
//! power of two).

use std::ffi::c_void;
use std::marker::PhantomData;
use std::ops::{Bound, Deref, DerefMut, RangeBounds};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::list::ImmediateCommandList;
use crate::properties::ext_name;

/// The kind of an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AllocationKind {
    /// Device memory (`zeMemAllocDevice`): only the device touches it.
    Device,
    /// Host memory (`zeMemAllocHost`): pinned host memory every device of the context reads
    /// and writes.
    Host,
    /// Shared memory (`zeMemAllocShared`): migrates between the host and a device.
    Shared,
}

/// Options for an allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocOptions {
    /// Alignment in bytes: a power of two, or 0 for the element type's alignment.
    pub alignment: usize,
    /// The memory-module ordinal on the device (see [`Device::memory_properties`]).
    pub ordinal: u32,
    /// `ze_device_mem_alloc_flags_t` bits (caching bias), for device and shared allocations.
    pub device_flags: u32,
    /// `ze_host_mem_alloc_flags_t` bits (caching bias), for host and shared allocations.
    pub host_flags: u32,
}

/// Who may touch a host-visible allocation now, as one atomic word (a `RefCell` between the
/// host and the device): host readers (16 bits), a host writer (1 bit), device readers and
/// device writers of submitted work (23 bits each).
#[derive(Default, Debug)]
struct Access(AtomicU64);

const HOST_READER: u64 = 1;
const HOST_READERS: u64 = 0xffff;
const HOST_WRITER: u64 = 1 << 16;
const DEVICE_READER: u64 = 1 << 17;
const DEVICE_READERS: u64 = 0x7f_ffff << 17;
const DEVICE_WRITER: u64 = 1 << 40;
const DEVICE_WRITERS: u64 = 0x7f_ffff << 40;

impl Access {
    /// Adds `one` (a unit of the field `field`) when `allowed` holds of the current state and
    /// the field is not full; returns whether it did.
    fn acquire(&self, one: u64, field: u64, allowed: impl Fn(u64) -> bool) -> bool {
        self.0
            .fetch_update(AtomicOrdering::AcqRel, AtomicOrdering::Acquire, |s| {
                (allowed(s) && s & field != field).then_some(s + one)
            })
            .is_ok()
    }

    fn release(&self, one: u64, field: u64) {
        let _ = self
            .0
            .fetch_update(AtomicOrdering::AcqRel, AtomicOrdering::Acquire, |s| {
                (s & field != 0).then_some(s - one)
            });
    }

    fn device(&self, write: bool) -> bool {
        if write {
            self.acquire(DEVICE_WRITER, DEVICE_WRITERS, |s| {
                s & (HOST_WRITER | HOST_READERS) == 0
            })
        } else {
            self.acquire(DEVICE_READER, DEVICE_READERS, |s| s & HOST_WRITER == 0)
        }
    }

    fn release_device(&self, write: bool) {
        if write {
            self.release(DEVICE_WRITER, DEVICE_WRITERS);
        } else {
            self.release(DEVICE_READER, DEVICE_READERS);
        }
    }

    fn host_read(&self) -> bool {
        self.acquire(HOST_READER, HOST_READERS, |s| s & DEVICE_WRITERS == 0)
    }

    fn host_write(&self) -> bool {
        self.acquire(HOST_WRITER, HOST_WRITER, |s| {
            s & (DEVICE_READERS | DEVICE_WRITERS) == 0
        })
    }

    /// Whether submitted device work may use the memory.
    fn device_busy(&self) -> bool {
        self.0.load(AtomicOrdering::Acquire) & (DEVICE_READERS | DEVICE_WRITERS) != 0
    }
}

/// One allocation. Freed when the last reference (buffer, command, list) goes.
pub(crate) struct Allocation {
    pub(crate) ctx: Context,
    pub(crate) ptr: *mut c_void,
    pub(crate) bytes: usize,
    pub(crate) kind: AllocationKind,
    /// The device's position in the context's devices (none for host memory).
    device_index: Option<usize>,
    access: Access,
    /// Unfinished uses by commands of the context's lists and queues (see
    /// [`crate::hazard`]). Shared by the allocations of the same memory (see
    /// [`Allocation::adopt`]): hazards belong to the memory, not to the object.
    pub(crate) hazards: Arc<std::sync::Mutex<crate::hazard::Marks>>,
    /// Whether the allocation is counted in the accounting (empty ones are not).
    counted: bool,
    /// The driver object the allocation stands for, when it is not memory (an image: see
    /// [`Allocation::for_object`]); destroyed with the allocation.
    _object: Option<Box<dyn std::any::Any + Send + Sync>>,
    /// Who takes the memory back when the last reference goes: `None` for the driver
    /// (`zeMemFree`); otherwise the owner of memory the allocation was made from (a caching
    /// allocator's block, an opened IPC handle, a mapped virtual range: see
    /// [`Allocation::adopt`]).
    owner: Option<Box<dyn Owner>>,
}

/// The owner of memory an [`Allocation`] did not allocate itself, which takes it back.
///
/// The rule that makes every allocation sound holds for adopted memory too: the allocation
/// is dropped only when no buffer, view or command can use it any more (every command holds
/// a reference until its list has seen it complete), so [`Owner::release`] is called exactly
/// once, after the device's last use of the memory *through this allocation*.
pub(crate) trait Owner: Send + Sync {
    /// Takes the memory back (`ptr`, `bytes`: what the allocation was adopted with).
    fn release(self: Box<Self>, ctx: &Context, ptr: *mut c_void, bytes: usize);

    /// The memory is about to be exported to other processes (`call`, an IPC export): from
    /// now on, another process may use it after this allocation is gone, for as long as it
    /// keeps the handle open — which only the driver tracks. An owner that would hand the
    /// memory out again itself (a caching allocator) must stop doing so, and give it back to
    /// the driver instead, which keeps exported pages until every importer closed them; an
    /// owner that cannot must refuse. The default accepts: the memory goes back to the
    /// driver anyway.
    fn export(&self, call: &'static str) -> Result<()> {
        let _ = call;
        Ok(())
    }
}

// SAFETY: the pointer is an address of memory owned by the driver; the host reaches it only
// through the guards, which `access` arbitrates, so sharing the allocation between threads
// cannot create a data race on its bytes.
unsafe impl Send for Allocation {}
// SAFETY: as above.
unsafe impl Sync for Allocation {}

impl Drop for Allocation {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            // Nothing allocated (empty buffers), or a driver object that `_object` owns and
            // destroys when the field is dropped, right after this.
            return;
        }
        if self.counted {
            self.counter().sub(self.bytes as u64);
        }
        if let Some(owner) = self.owner.take() {
            owner.release(&self.ctx, self.ptr, self.bytes);
            return;
        }
        // SAFETY: the pointer came from a successful allocation in this context, is freed
        // once, and no command can still use it: every command holds a reference.
        if let Err(e) = unsafe { ze!(self.ctx.api(), zeMemFree(self.ctx.as_raw(), self.ptr)) } {
            log::error!(
                "level-zero: freeing a {:?} allocation of {} bytes failed: {e}",
                self.kind,
                self.bytes
            );
        }
    }
}

impl Allocation {
    /// Whether submitted device work may still use the allocation: registered device uses
    /// (host-visible memory), or unfinished uses hazard tracking knows of (any memory).
    pub(crate) fn device_busy(&self) -> bool {
        self.access.device_busy()
            || self
                .hazards
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pending()
    }

    /// The device the memory belongs to (none for host memory).
    pub(crate) fn device(&self) -> Option<&Device> {
        self.device_index.map(|i| &self.ctx.inner.members[i])
    }

    /// The accounting counter of this allocation's kind and device.
    fn counter(&self) -> &crate::stats::Counter {
        match (self.kind, self.device()) {
            (AllocationKind::Device, Some(d)) => &crate::stats::device_counters(d).device,
            (AllocationKind::Shared, Some(d)) => &crate::stats::device_counters(d).shared,
            _ => crate::stats::host_counter(self.ctx.driver()),
        }
    }

    fn host_visible(&self) -> bool {
        self.kind != AllocationKind::Device
    }
}

fn checked_bytes<T>(call: &'static str, len: usize) -> Result<usize> {
    len.checked_mul(size_of::<T>()).ok_or_else(|| {
        Error::invalid(
            call,
            format!("{len} elements of {} bytes overflow usize", size_of::<T>()),
        )
    })
}

fn alignment<T>(call: &'static str, opts: &AllocOptions) -> Result<usize> {
    let a = if opts.alignment == 0 {
        align_of::<T>()
    } else {
        opts.alignment
    };
    if !a.is_power_of_two() {
        return Err(Error::invalid(
            call,
            format!("alignment {a} is not a power of two"),
        ));
    }
    Ok(a.max(align_of::<T>()))
}

/// The relaxed-allocation-limits descriptor when `bytes` exceeds the device's limit.
fn relaxed_limits(
    device: &Device,
    bytes: usize,
) -> Result<Option<sys::ze_relaxed_allocation_limits_exp_desc_t>> {
    let limit = device.properties()?.max_mem_alloc_size;
    if bytes as u64 <= limit {
        return Ok(None);
    }
    if !device
        .driver()
        .has_extension(ext_name(sys::ZE_RELAXED_ALLOCATION_LIMITS_EXP_NAME))
    {
        return Err(Error::AllocationTooLarge {
            requested: bytes as u64,
            limit,
        });
    }
    Ok(Some(sys::ze_relaxed_allocation_limits_exp_desc_t {
        flags: sys::ze_relaxed_allocation_limits_exp_flag_t::ZE_RELAXED_ALLOCATION_LIMITS_EXP_FLAG_MAX_SIZE.0,
        ..Default::default()
    }))
}

impl Allocation {
    /// A new allocation from the driver (`zeMemAlloc*`), counted in the accounting. Also what
    /// a [`crate::alloc::CachingAllocator`] makes its segments with.
    pub(crate) fn new(
        ctx: &Context,
        device: Option<&Device>,
        kind: AllocationKind,
        bytes: usize,
        align: usize,
        opts: &AllocOptions,
    ) -> Result<Arc<Allocation>> {
        let call = match kind {
            AllocationKind::Device => "zeMemAllocDevice",
            AllocationKind::Host => "zeMemAllocHost",
            AllocationKind::Shared => "zeMemAllocShared",
        };
        let device_index = match device {
            Some(d) => Some(ctx.device_index(call, d)?),
            None => None,
        };
        let mut ptr: *mut c_void = std::ptr::null_mut();
        if bytes > 0 {
            let api = ctx.api();
            let relaxed = match device {
                Some(d) => relaxed_limits(d, bytes)?,
                None => None,
            };
            let mut ddesc = sys::ze_device_mem_alloc_desc_t {
                flags: opts.device_flags,
                ordinal: opts.ordinal,
                ..Default::default()
            };
            if let Some(r) = &relaxed {
                ddesc.pNext = (r as *const sys::ze_relaxed_allocation_limits_exp_desc_t).cast();
            }
            let hdesc = sys::ze_host_mem_alloc_desc_t {
                flags: opts.host_flags,
                ..Default::default()
            };
            let dev = device.map_or(std::ptr::null_mut(), Device::as_raw);
            // SAFETY: valid context and device handles of that context, descriptors (and
            // the chained relaxed-limits descriptor, advertised by the driver) that outlive
            // the call, a power-of-two alignment and a non-zero size.
            unsafe {
                match kind {
                    AllocationKind::Device => ze!(
                        api,
                        zeMemAllocDevice(ctx.as_raw(), &ddesc, bytes, align, dev, &mut ptr)
                    )?,
                    AllocationKind::Host => ze!(
                        api,
                        zeMemAllocHost(ctx.as_raw(), &hdesc, bytes, align, &mut ptr)
                    )?,
                    AllocationKind::Shared => ze!(
                        api,
                        zeMemAllocShared(ctx.as_raw(), &ddesc, &hdesc, bytes, align, dev, &mut ptr)
                    )?,
                }
            }
            if ptr.is_null() {
                return Err(Error::invalid(
                    call,
                    "the driver returned success and a null pointer",
                ));
            }
        }
        let alloc = Arc::new(Allocation {
            ctx: ctx.clone(),
            ptr,
            bytes,
            kind,
            device_index,
            access: Access::default(),
            hazards: Default::default(),
            counted: bytes > 0,
            _object: None,
            owner: None,
        });
        if alloc.counted {
            alloc.counter().add(bytes as u64);
        }
        Ok(alloc)
    }
}

impl Allocation {
    /// An allocation that stands for a driver object other than memory (an image) of the
    /// context's device `device_index`: no address, no bytes, no host access, not counted in
    /// the memory accounting. It owns `object`, destroyed with the last reference; so the
    /// uses commands register for it keep the object alive until they are seen complete, and
    /// hazard tracking orders them by its marks, exactly as for memory.
    pub(crate) fn for_object(
        ctx: &Context,
        device_index: usize,
        object: Box<dyn std::any::Any + Send + Sync>,
    ) -> Arc<Allocation> {
        Arc::new(Allocation {
            ctx: ctx.clone(),
            ptr: std::ptr::null_mut(),
            bytes: 0,
            kind: AllocationKind::Device,
            device_index: Some(device_index),
            access: Access::default(),
            hazards: Default::default(),
            counted: false,
            _object: Some(object),
            owner: None,
        })
    }
}

impl Allocation {
    /// Tells the allocation's owner that its memory is being exported (see
    /// [`Owner::export`]); memory the driver owns needs nothing.
    pub(crate) fn prepare_export(&self, call: &'static str) -> Result<()> {
        match &self.owner {
            Some(owner) => owner.export(call),
            None => Ok(()),
        }
    }

    /// An allocation of memory that `owner` provides (a block of a caching allocator, an
    /// opened IPC handle, pages mapped into a reserved range): `bytes` bytes at `ptr` (null
    /// only when `bytes` is 0), on `device` for device and shared memory. The allocation is
    /// tracked, kept alive and arbitrated exactly like one this crate allocated; when its last
    /// reference goes, `owner` takes the memory back instead of `zeMemFree`. `counted`: whether
    /// it is counted in the crate's accounting ([`crate::stats`]), which owners that are
    /// themselves counted (a caching allocator counts its segments) turn off.
    ///
    /// `same_memory_as`: an allocation whose memory this one covers too (a growable buffer's
    /// previous extent, whose recorded commands may still run: a regular list can be executed
    /// again): both then share one set of hazard marks, so that uses through either are
    /// ordered against uses through the other.
    ///
    /// The caller guarantees that the memory is usable as `kind` memory of `ctx` (and of
    /// `device`) until `owner` is called, and that nothing else hands it out meanwhile.
    #[allow(clippy::too_many_arguments)] // One constructor for every owner (allocator, IPC, virtual memory).
    pub(crate) fn adopt(
        ctx: &Context,
        device: Option<&Device>,
        kind: AllocationKind,
        ptr: *mut c_void,
        bytes: usize,
        counted: bool,
        owner: Box<dyn Owner>,
        same_memory_as: Option<&Allocation>,
    ) -> Result<Arc<Allocation>> {
        let call = match kind {
            AllocationKind::Device => "zeMemAllocDevice",
            AllocationKind::Host => "zeMemAllocHost",
            AllocationKind::Shared => "zeMemAllocShared",
        };
        let device_index = match device {
            Some(d) => Some(ctx.device_index(call, d)?),
            None => None,
        };
        let counted = counted && bytes > 0;
        let alloc = Arc::new(Allocation {
            ctx: ctx.clone(),
            ptr,
            bytes,
            kind,
            device_index,
            access: Access::default(),
            hazards: same_memory_as.map_or_else(Default::default, |a| a.hazards.clone()),
            counted,
            _object: None,
            owner: Some(owner),
        });
        if alloc.counted {
            alloc.counter().add(bytes as u64);
        }
        Ok(alloc)
    }
}

/// How a command uses a piece of memory.
#[derive(Clone)]
pub(crate) struct Use {
    pub(crate) alloc: Arc<Allocation>,
    pub(crate) write: bool,
}

/// Device uses of memory that were registered for submitted work (what keeps it alive);
/// releasing them (on [`clear`](Self::clear) or drop) allows host access to host-visible
/// memory again.
pub(crate) struct Registered(Vec<Use>);

impl Registered {
    pub(crate) fn empty() -> Registered {
        Registered(Vec::new())
    }

    /// Registers `uses` for submission, all or nothing: on a conflict with host access,
    /// nothing of `uses` stays registered.
    pub(crate) fn add(
        &mut self,
        call: &'static str,
        uses: impl IntoIterator<Item = Use>,
    ) -> Result<()> {
        let start = self.0.len();
        for u in uses {
            if u.alloc.host_visible() && !u.alloc.access.device(u.write) {
                self.release_from(start);
                return Err(Error::Busy {
                    what: call,
                    why: if u.write {
                        "the command writes a host or shared buffer the host is accessing (a host slice guard is alive)"
                    } else {
                        "the command reads a host or shared buffer the host is writing (a mutable host slice guard is alive)"
                    },
                });
            }
            self.0.push(u);
        }
        Ok(())
    }

    /// The number of uses registered.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The uses registered after the first `start`.
    pub(crate) fn since(&self, start: usize) -> &[Use] {
        &self.0[start..]
    }

    /// Releases the uses registered after the first `len` (a command that failed to append).
    pub(crate) fn truncate_release(&mut self, len: usize) {
        self.release_from(len);
    }

    /// Releases everything registered, keeping the capacity for the next submissions.
    pub(crate) fn clear(&mut self) {
        self.release_from(0);
    }

    fn release_from(&mut self, start: usize) {
        for u in self.0.drain(start..) {
            if u.alloc.host_visible() {
                u.alloc.access.release_device(u.write);
            }
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A byte range of an allocation that a command reads or writes.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Region<'a> {
    pub(crate) alloc: &'a Arc<Allocation>,
    pub(crate) offset: usize,
    pub(crate) bytes: usize,
}

impl Region<'_> {
    /// The address of the region's first byte: the allocation's address plus the offset,
    /// also for an empty region (an empty slice at the end of a buffer is one past its last
    /// element, as a kernel comparing `first != last` expects). `offset` is within the
    /// allocation or at its end (checked when the region was made); a wrapping addition keeps
    /// this free of undefined behaviour whatever the pointer (a zero-sized buffer's may be
    /// null, with offset 0).
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.alloc.ptr.cast::<u8>().wrapping_add(self.offset).cast()
    }

    pub(crate) fn use_(&self, write: bool) -> Use {
        Use {
            alloc: self.alloc.clone(),
            write,
        }
    }
}

pub(crate) mod sealed {
    /// Implemented by this crate's memory types only.
    pub trait Sealed {
        /// The byte range the value stands for.
        fn region(&self) -> super::Region<'_>;
        /// The number of elements (not derived from the bytes: zero-sized element types
        /// have elements but no bytes).
        fn elements(&self) -> usize;
    }
}

/// Memory that commands can copy to, copy from and fill: a buffer of any kind, or a
/// [`BufferSlice`] of one. Sealed.
pub trait Memory<T: Pod>: sealed::Sealed {
    /// Number of elements.
    fn len(&self) -> usize {
        self.elements()
    }

    /// Whether there are no elements.
    fn is_empty(&self) -> bool {
        self.elements() == 0
    }

    /// The device address of the first element (what a kernel argument receives).
    fn device_ptr(&self) -> *mut c_void {
        self.region().ptr()
    }

    /// The kind of allocation.
    fn kind(&self) -> AllocationKind {
        self.region().alloc.kind
    }

    /// The device the memory belongs to (`None` for host memory).
    fn device(&self) -> Option<&Device> {
        self.region().alloc.device()
    }

    /// The context the memory belongs to.
    fn context(&self) -> &Context {
        &self.region().alloc.ctx
    }
}

/// A sub-range of a buffer, borrowed from it; usable wherever a buffer is.
pub struct BufferSlice<'a, T> {
    alloc: &'a Arc<Allocation>,
    offset: usize,
    len: usize,
    _t: PhantomData<&'a [T]>,
}

impl<T: Pod> Memory<T> for BufferSlice<'_, T> {}
impl<T: Pod> sealed::Sealed for BufferSlice<'_, T> {
    fn region(&self) -> Region<'_> {
        Region {
            alloc: self.alloc,
            offset: self.offset * size_of::<T>(),
            bytes: self.len * size_of::<T>(),
        }
    }

    fn elements(&self) -> usize {
        self.len
    }
}

impl<'a, T: Pod> BufferSlice<'a, T> {
    /// The same bytes seen as elements of another [`Pod`] type `U` (like
    /// `bytemuck::cast_slice`): a view of `bytes / size_of::<U>()` elements.
    ///
    /// Fails with [`Error::InvalidArgument`] when the view's size or its offset in the buffer
    /// is not a multiple of `size_of::<U>()`, when its address is not aligned for `U`, or when
    /// `U` is zero-sized and the view is not empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::{DeviceBuffer, ImmediateCommandList};
    /// let mut list = ImmediateCommandList::compute(&ctx, device)?;
    /// let words = DeviceBuffer::from_slice(&mut list, &[0x0403_0201u32, 0x0807_0605])?;
    /// let bytes = words.slice(1..).cast::<u8>()?;
    /// assert_eq!(bytes.len(), 4);
    /// let mut out = [0u8; 4];
    /// list.copy_to_slice(&mut out, &bytes)?;
    /// assert_eq!(out, [5, 6, 7, 8]);
    /// // 6 bytes are not a whole number of u32s.
    /// assert!(DeviceBuffer::<u8>::new(&ctx, device, 6)?.cast::<u32>().is_err());
    /// # Ok(()) }
    /// ```
    pub fn cast<U: Pod>(&self) -> Result<BufferSlice<'a, U>> {
        const CALL: &str = "BufferSlice::cast";
        let (t, u) = (size_of::<T>(), size_of::<U>());
        let (offset, bytes) = (self.offset * t, self.len * t);
        if u == 0 {
            if bytes != 0 {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "{bytes} bytes cannot be seen as elements of a zero-sized type ({})",
                        std::any::type_name::<U>()
                    ),
                ));
            }
            return Ok(BufferSlice {
                alloc: self.alloc,
                offset: 0,
                len: 0,
                _t: PhantomData,
            });
        }
        if !bytes.is_multiple_of(u) {
            return Err(Error::invalid(
                CALL,
                format!(
                    "{bytes} bytes are not a whole number of {} ({u} bytes each)",
                    std::any::type_name::<U>()
                ),
            ));
        }
        if !offset.is_multiple_of(u) {
            return Err(Error::invalid(
                CALL,
                format!(
                    "the view starts {offset} bytes into its buffer, not a multiple of the {u} bytes of {}",
                    std::any::type_name::<U>()
                ),
            ));
        }
        let addr = (self.alloc.ptr as usize).wrapping_add(offset);
        if bytes > 0 && !addr.is_multiple_of(align_of::<U>()) {
            return Err(Error::invalid(
                CALL,
                format!(
                    "the view's address {addr:#x} is not aligned to the {} bytes {} needs",
                    align_of::<U>(),
                    std::any::type_name::<U>()
                ),
            ));
        }
        Ok(BufferSlice {
            alloc: self.alloc,
            offset: offset / u,
            len: bytes / u,
            _t: PhantomData,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the view has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T> std::fmt::Debug for BufferSlice<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferSlice")
            .field("kind", &self.alloc.kind)
            .field("offset", &self.offset)
            .field("len", &self.len)
            .finish()
    }
}

fn bounds(len: usize, r: impl RangeBounds<usize>) -> Option<(usize, usize)> {
    let start = match r.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let end = match r.end_bound() {
        Bound::Included(&e) => e.checked_add(1)?,
        Bound::Excluded(&e) => e,
        Bound::Unbounded => len,
    };
    (start <= end && end <= len).then(|| (start, end - start))
}

macro_rules! buffer_common {
    ($name:ident) => {
        impl<T: Pod> Memory<T> for $name<T> {}
        impl<T: Pod> sealed::Sealed for $name<T> {
            fn region(&self) -> Region<'_> {
                Region {
                    alloc: &self.alloc,
                    offset: 0,
                    bytes: self.alloc.bytes,
                }
            }

            fn elements(&self) -> usize {
                self.len
            }
        }

        impl<T: Pod> $name<T> {
            /// Number of elements.
            pub fn len(&self) -> usize {
                self.len
            }

            /// Whether the buffer has no elements (no memory is allocated then).
            pub fn is_empty(&self) -> bool {
                self.len == 0
            }

            /// Size in bytes.
            pub fn size_bytes(&self) -> usize {
                self.alloc.bytes
            }

            /// The context the buffer was allocated in.
            pub fn context(&self) -> &Context {
                &self.alloc.ctx
            }

            /// The device address of the first element: what a kernel receives, and what
            /// raw Level Zero calls take. Null for an empty buffer. The buffer stays the
            /// owner; the address is valid while it (or a command using it) lives.
            pub fn as_raw(&self) -> *mut c_void {
                self.alloc.ptr
            }

            /// Elements `range` of the buffer, or `None` when the range is out of bounds.
            pub fn get(&self, range: impl RangeBounds<usize>) -> Option<BufferSlice<'_, T>> {
                let (offset, len) = bounds(self.len, range)?;
                Some(BufferSlice {
                    alloc: &self.alloc,
                    offset,
                    len,
                    _t: PhantomData,
                })
            }

            /// Elements `range` of the buffer.
            ///
            /// # Panics
            ///
            /// When the range is out of bounds, as slice indexing does; [`Self::get`]
            /// returns `None` instead.
            pub fn slice(&self, range: impl RangeBounds<usize>) -> BufferSlice<'_, T> {
                let (s, e) = (
                    format!("{:?}", range.start_bound()),
                    format!("{:?}", range.end_bound()),
                );
                self.get(range).unwrap_or_else(|| {
                    panic!(
                        "range {s}..{e} out of bounds of a buffer of {} elements",
                        self.len
                    )
                })
            }

            /// The whole buffer seen as elements of another [`Pod`] type `U`: see
            /// [`BufferSlice::cast`] (the size must be a multiple of `size_of::<U>()`, the
            /// address aligned for `U`).
            pub fn cast<U: Pod>(&self) -> Result<BufferSlice<'_, U>> {
                self.slice(..).cast()
            }
        }

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("len", &self.len)
                    .field("ptr", &self.alloc.ptr)
                    .finish()
            }
        }
    };
}

/// Device memory (`zeMemAllocDevice`) holding `len` elements of `T`.
///
/// Allocated directly on the device, with no host shadow. Only the device touches it; the
/// host reaches it through copies. `Send + Sync`.
///
/// A new buffer's contents are unspecified (whatever the device memory held): any bit
/// pattern is a valid `T` since `T: Pod`.
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{DeviceBuffer, ImmediateCommandList};
/// let buf = DeviceBuffer::<u32>::new(&ctx, device, 4)?;
/// let mut list = ImmediateCommandList::compute(&ctx, device)?;
/// list.copy_from_slice(&buf, &[1, 2, 3, 4])?;
/// list.fill(&buf.slice(2..), 9u32)?;
/// let mut out = [0u32; 4];
/// list.copy_to_slice(&mut out, &buf)?;
/// assert_eq!(out, [1, 2, 9, 9]);
/// # Ok(()) }
/// ```
pub struct DeviceBuffer<T> {
    alloc: Arc<Allocation>,
    len: usize,
    _t: PhantomData<T>,
}
buffer_common!(DeviceBuffer);

impl<T: Pod> DeviceBuffer<T> {
    /// Allocates `len` elements on `device`.
    ///
    /// Sizes above the device's `maxMemAllocSize` use the relaxed-allocation-limits
    /// extension when the driver offers it; otherwise they fail with
    /// [`Error::AllocationTooLarge`]. A zero-length buffer allocates nothing.
    pub fn new(ctx: &Context, device: &Device, len: usize) -> Result<Self> {
        Self::with_options(ctx, device, len, &AllocOptions::default())
    }

    /// Allocates with explicit options.
    pub fn with_options(
        ctx: &Context,
        device: &Device,
        len: usize,
        opts: &AllocOptions,
    ) -> Result<Self> {
        const CALL: &str = "zeMemAllocDevice";
        let bytes = checked_bytes::<T>(CALL, len)?;
        let align = alignment::<T>(CALL, opts)?;
        let alloc = Allocation::new(
            ctx,
            Some(device),
            AllocationKind::Device,
            bytes,
            align,
            opts,
        )?;
        Ok(DeviceBuffer {
            alloc,
            len,
            _t: PhantomData,
        })
    }

    /// The device the buffer lives on.
    pub fn device(&self) -> &Device {
        self.alloc
            .device()
            .expect("device buffers always have a device")
    }

    /// A new buffer on `list`'s device (in its context) holding a copy of `data`: an
    /// allocation and [`ImmediateCommandList::copy_from_slice`], which returns once the copy
    /// is done (`data` is borrowed).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::{DeviceBuffer, ImmediateCommandList};
    /// let mut list = ImmediateCommandList::compute(&ctx, device)?;
    /// let buf = DeviceBuffer::from_slice(&mut list, &[1.5f32, 2.5, 3.5])?;
    /// assert_eq!(buf.to_vec(&mut list)?, [1.5, 2.5, 3.5]);
    /// # Ok(()) }
    /// ```
    pub fn from_slice(list: &mut ImmediateCommandList, data: &[T]) -> Result<Self> {
        let buf = Self::new(list.context(), list.device(), data.len())?;
        list.copy_from_slice(&buf, data)?;
        Ok(buf)
    }

    /// A new buffer of `len` zeroed elements on `list`'s device: an allocation and a fill
    /// appended to `list` (asynchronous: later commands of `list` see zeros, and commands of
    /// other lists and queues are ordered after the fill by hazard tracking).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::{DeviceBuffer, ImmediateCommandList};
    /// let mut list = ImmediateCommandList::compute(&ctx, device)?;
    /// let buf = DeviceBuffer::<[u16; 3]>::zeroed(&mut list, 100)?;
    /// assert!(buf.to_vec(&mut list)?.iter().all(|&x| x == [0; 3]));
    /// # Ok(()) }
    /// ```
    pub fn zeroed(list: &mut ImmediateCommandList, len: usize) -> Result<Self> {
        let buf = Self::new(list.context(), list.device(), len)?;
        zero_device(list, &buf)?;
        Ok(buf)
    }

    /// The buffer's contents, copied to the host through `list` (an immediate list that can
    /// reach the buffer; the copy is ordered after earlier writes of any list and returns
    /// once done).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::{DeviceBuffer, ImmediateCommandList};
    /// let mut list = ImmediateCommandList::compute(&ctx, device)?;
    /// let buf = DeviceBuffer::<u8>::new(&ctx, device, 3)?;
    /// list.fill(&buf, 7u8)?;
    /// assert_eq!(buf.to_vec(&mut list)?, [7, 7, 7]);
    /// # Ok(()) }
    /// ```
    pub fn to_vec(&self, list: &mut ImmediateCommandList) -> Result<Vec<T>> {
        let mut out = vec![T::zeroed(); self.len];
        list.copy_to_slice(&mut out, self)?;
        Ok(out)
    }

    /// A buffer of `len` elements over `alloc` (device memory of at least `len` elements,
    /// aligned for `T`: checked).
    pub(crate) fn from_allocation(
        call: &'static str,
        alloc: Arc<Allocation>,
        len: usize,
    ) -> Result<Self> {
        let bytes = checked_bytes::<T>(call, len)?;
        if alloc.kind != AllocationKind::Device || alloc.device().is_none() {
            return Err(Error::invalid(call, "the memory is not device memory"));
        }
        if bytes != alloc.bytes {
            return Err(Error::invalid(
                call,
                format!(
                    "{len} elements of {} bytes need {bytes} bytes; the memory has {}",
                    size_of::<T>(),
                    alloc.bytes
                ),
            ));
        }
        if bytes > 0 && !(alloc.ptr as usize).is_multiple_of(align_of::<T>()) {
            return Err(Error::invalid(
                call,
                format!(
                    "the memory at {:p} is not aligned to {} bytes",
                    alloc.ptr,
                    align_of::<T>()
                ),
            ));
        }
        Ok(DeviceBuffer {
            alloc,
            len,
            _t: PhantomData,
        })
    }
}

/// Appends a fill of zero bytes over all of `buf` to `list` (nothing for an empty buffer).
pub(crate) fn zero_device<T: Pod>(
    list: &mut ImmediateCommandList,
    buf: &DeviceBuffer<T>,
) -> Result<()> {
    if buf.alloc.bytes == 0 {
        return Ok(());
    }
    let bytes = BufferSlice::<u8> {
        alloc: &buf.alloc,
        offset: 0,
        len: buf.alloc.bytes,
        _t: PhantomData,
    };
    list.fill(&bytes, 0u8)
}

/// A guard giving the host read access to a host or shared buffer. While it lives, device
/// work that writes the buffer cannot be submitted.
pub struct HostSlice<'a, T> {
    alloc: &'a Allocation,
    slice: &'a [T],
}

impl<T> Deref for HostSlice<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.slice
    }
}

impl<T> Drop for HostSlice<'_, T> {
    fn drop(&mut self) {
        self.alloc.access.release(HOST_READER, HOST_READERS);
    }
}

/// A guard giving the host write access to a host or shared buffer. While it lives, no
/// device work that uses the buffer can be submitted.
pub struct HostSliceMut<'a, T> {
    alloc: &'a Allocation,
    slice: &'a mut [T],
}

impl<T> Deref for HostSliceMut<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.slice
    }
}

impl<T> DerefMut for HostSliceMut<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.slice
    }
}

impl<T> Drop for HostSliceMut<'_, T> {
    fn drop(&mut self) {
        self.alloc.access.release(HOST_WRITER, HOST_WRITER);
    }
}

/// Where the host sees an allocation's elements: its address, or — when it has no bytes
/// (no elements, or a zero-sized `T`), and therefore no memory — a dangling pointer aligned
/// for `T`, which is what a slice of zero bytes needs (never null). The one place host views
/// get their pointer.
fn host_ptr<T>(alloc: &Allocation) -> *mut T {
    if alloc.bytes == 0 {
        std::ptr::NonNull::<T>::dangling().as_ptr()
    } else {
        alloc.ptr.cast()
    }
}

fn host_read<'a, T: Pod>(alloc: &'a Arc<Allocation>, len: usize) -> Result<HostSlice<'a, T>> {
    if !alloc.access.host_read() {
        return Err(Error::Busy {
            what: "host read of a buffer",
            why: "submitted device work may still write it; synchronize the list or queue first",
        });
    }
    // The allocation holds `len` initialised `T`s (zeroed at creation, then written only by
    // the host through guards or by device commands that completed), aligned for `T`; for
    // zero bytes, `host_ptr` gives a dangling aligned pointer, valid for a slice of zero
    // bytes however many (zero-sized) elements it has.
    // SAFETY: as said; it lives as long as `alloc`, and no device write can be submitted
    // while the guard's reader count is held.
    let slice = unsafe { std::slice::from_raw_parts(host_ptr::<T>(alloc), len) };
    Ok(HostSlice { alloc, slice })
}

fn host_write<'a, T: Pod>(alloc: &'a Arc<Allocation>, len: usize) -> Result<HostSliceMut<'a, T>> {
    // `&mut self` on the buffer excludes other host guards.
    if !alloc.access.host_write() {
        return Err(Error::Busy {
            what: "host write of a buffer",
            why: "submitted device work may still use it; synchronize the list or queue first",
        });
    }
    // SAFETY: as for reads; additionally the caller holds `&mut` to the buffer, so no other
    // host guard exists, and no device work can be submitted while the writer flag is set.
    let slice = unsafe { std::slice::from_raw_parts_mut(host_ptr::<T>(alloc), len) };
    Ok(HostSliceMut { alloc, slice })
}

fn zero_fill(alloc: &Allocation) {
    if alloc.bytes > 0 {
        // SAFETY: a fresh host-accessible allocation of `bytes` bytes that nothing else
        // references yet.
        unsafe { std::ptr::write_bytes(alloc.ptr.cast::<u8>(), 0, alloc.bytes) };
    }
}

macro_rules! host_access {
    ($name:ident) => {
        impl<T: Pod> $name<T> {
            /// Host read access: a guard that dereferences to `&[T]`.
            ///
            /// Fails with [`Error::Busy`] while submitted device work may write the
            /// buffer (synchronize the list or queue that runs it first).
            pub fn as_slice(&self) -> Result<HostSlice<'_, T>> {
                host_read(&self.alloc, self.len)
            }

            /// Host write access: a guard that dereferences to `&mut [T]`.
            ///
            /// Fails with [`Error::Busy`] while submitted device work may use the
            /// buffer.
            pub fn as_mut_slice(&mut self) -> Result<HostSliceMut<'_, T>> {
                host_write(&self.alloc, self.len)
            }

            /// Copies the contents into a `Vec`.
            pub fn to_vec(&self) -> Result<Vec<T>> {
                Ok(self.as_slice()?.to_vec())
            }

            /// Overwrites the contents with `src`, which must have the same length.
            pub fn copy_from_slice(&mut self, src: &[T]) -> Result<()> {
                if src.len() != self.len {
                    return Err(Error::invalid(
                        "copy_from_slice",
                        format!(
                            "length mismatch: buffer {} elements, source {}",
                            self.len,
                            src.len()
                        ),
                    ));
                }
                self.as_mut_slice()?.copy_from_slice(src);
                Ok(())
            }
        }
    };
}

/// Host memory (`zeMemAllocHost`) holding `len` elements of `T`: pinned memory that every
/// device of the context reads and writes directly, and that the host accesses through
/// guards (see the [module documentation](self)). Zero-initialised. `Send + Sync`.
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{DeviceBuffer, Error, HostBuffer, ImmediateCommandList};
/// let mut host = HostBuffer::from_slice(&ctx, &[1.0f32; 256])?;
/// let dev = DeviceBuffer::<f32>::new(&ctx, device, 256)?;
/// let mut list = ImmediateCommandList::copy_engine(&ctx, device)?;
/// list.copy(&dev, &host)?;      // asynchronous: no borrowed host slice involved
/// list.fill(&dev.slice(..128), 2.0f32)?;
/// list.copy(&host, &dev)?;
/// // The device may still write `host`: host access is refused until synchronised.
/// assert!(matches!(host.as_slice(), Err(Error::Busy { .. })));
/// list.synchronize()?;
/// assert_eq!(host.as_slice()?[0], 2.0);
/// host.as_mut_slice()?[0] = 0.5;
/// # Ok(()) }
/// ```
pub struct HostBuffer<T> {
    alloc: Arc<Allocation>,
    len: usize,
    _t: PhantomData<T>,
}
buffer_common!(HostBuffer);
host_access!(HostBuffer);

impl<T: Pod> HostBuffer<T> {
    /// Allocates `len` zeroed elements of host memory.
    pub fn new(ctx: &Context, len: usize) -> Result<Self> {
        Self::with_options(ctx, len, &AllocOptions::default())
    }

    /// Allocates with explicit options.
    pub fn with_options(ctx: &Context, len: usize, opts: &AllocOptions) -> Result<Self> {
        const CALL: &str = "zeMemAllocHost";
        let bytes = checked_bytes::<T>(CALL, len)?;
        let align = alignment::<T>(CALL, opts)?;
        let alloc = Allocation::new(ctx, None, AllocationKind::Host, bytes, align, opts)?;
        zero_fill(&alloc);
        Ok(HostBuffer {
            alloc,
            len,
            _t: PhantomData,
        })
    }

    /// Allocates host memory holding a copy of `data`.
    pub fn from_slice(ctx: &Context, data: &[T]) -> Result<Self> {
        let mut b = Self::new(ctx, data.len())?;
        b.copy_from_slice(data)?;
        Ok(b)
    }
}

/// Shared memory (`zeMemAllocShared`) holding `len` elements of `T`, associated with one
/// device: it migrates between the host and that device. The host accesses it through
/// guards (see the [module documentation](self)). Zero-initialised. `Send + Sync`.
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{ImmediateCommandList, SharedBuffer};
/// let mut shared = SharedBuffer::<u8>::new(&ctx, device, 64)?;
/// shared.as_mut_slice()?.fill(1);
/// let mut list = ImmediateCommandList::compute(&ctx, device)?;
/// list.fill(&shared.slice(32..), 7u8)?;
/// list.synchronize()?;
/// assert_eq!(shared.as_slice()?[31..33], [1, 7]);
/// # Ok(()) }
/// ```
pub struct SharedBuffer<T> {
    alloc: Arc<Allocation>,
    len: usize,
    _t: PhantomData<T>,
}
buffer_common!(SharedBuffer);
host_access!(SharedBuffer);

impl<T: Pod> SharedBuffer<T> {
    /// Allocates `len` zeroed elements of shared memory associated with `device`.
    pub fn new(ctx: &Context, device: &Device, len: usize) -> Result<Self> {
        Self::with_options(ctx, device, len, &AllocOptions::default())
    }

    /// Allocates with explicit options.
    pub fn with_options(
        ctx: &Context,
        device: &Device,
        len: usize,
        opts: &AllocOptions,
    ) -> Result<Self> {
        const CALL: &str = "zeMemAllocShared";
        let bytes = checked_bytes::<T>(CALL, len)?;
        let align = alignment::<T>(CALL, opts)?;
        let alloc = Allocation::new(
            ctx,
            Some(device),
            AllocationKind::Shared,
            bytes,
            align,
            opts,
        )?;
        zero_fill(&alloc);
        Ok(SharedBuffer {
            alloc,
            len,
            _t: PhantomData,
        })
    }

    /// Allocates shared memory holding a copy of `data`.
    pub fn from_slice(ctx: &Context, device: &Device, data: &[T]) -> Result<Self> {
        let mut b = Self::new(ctx, device, data.len())?;
        b.copy_from_slice(data)?;
        Ok(b)
    }

    /// The device the memory is associated with.
    pub fn device(&self) -> &Device {
        self.alloc
            .device()
            .expect("shared buffers always have a device")
    }
}

#[cfg(test)]
mod tests {
    use super::bounds;

    #[test]
    fn ranges_are_checked() {
        assert_eq!(bounds(10, ..), Some((0, 10)));
        assert_eq!(bounds(10, 2..5), Some((2, 3)));
        assert_eq!(bounds(10, 2..=5), Some((2, 4)));
        assert_eq!(bounds(10, 10..), Some((10, 0)));
        assert_eq!(bounds(10, 5..11), None);
        #[allow(clippy::reversed_empty_ranges)]
        let r = 6..5;
        assert_eq!(bounds(10, r), None);
        assert_eq!(bounds(10, ..=usize::MAX), None);
    }
}
