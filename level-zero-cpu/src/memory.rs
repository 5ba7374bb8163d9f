//! Memory: host, device and shared allocations, all real host memory (a device pointer is a
//! host address), tracked in one table per instance.
//!
//! The table records every allocation's base, size, kind, device and context. It is what
//! range-checks copies and fills, answers `zeMemGetAllocProperties`/`zeMemGetAddressRange`, and
//! tells kernels where they may read and write. The memory of an allocation is reference
//! counted: `zeMemFree` removes it from the table at once, but work already running that uses it
//! keeps it mapped until that work finishes, so a free racing with a copy is never a
//! use-after-free inside the driver.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use level_zero_sys::*;

use crate::context::Context;
use crate::driver::Instance;
use crate::engine::MemoryMap;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef};
use crate::sync::{lock_read, lock_write};

/// The kind of an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Host,
    Device,
    Shared,
}

/// Allocations at least this large are mapped directly from the OS (page aligned, zeroed
/// lazily, returned to the OS on free).
const MAP_THRESHOLD: usize = 64 << 10;
const PAGE: usize = 4096;
/// Alignment when the application passes 0.
const DEFAULT_ALIGN: usize = 64;

/// The memory of one allocation. Freed when the last reference goes.
pub(crate) struct Block {
    ptr: NonNull<u8>,
    size: usize,
    how: Backing,
}

enum Backing {
    Heap(std::alloc::Layout),
    #[cfg(unix)]
    Mapped {
        len: usize,
    },
}

// SAFETY: a Block is plain memory owned by the driver; it is never accessed through `&Block`
// except to read its address.
unsafe impl Send for Block {}
// SAFETY: as above.
unsafe impl Sync for Block {}

impl Block {
    /// Zeroed memory of `size` bytes aligned to `align` (a power of two), or `None`.
    pub(crate) fn new(size: usize, align: usize) -> Option<Block> {
        #[cfg(unix)]
        if size >= MAP_THRESHOLD && align <= PAGE {
            let len = size.checked_next_multiple_of(PAGE)?;
            // SAFETY: an anonymous private mapping; no file, no fixed address.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return None;
            }
            return Some(Block {
                ptr: NonNull::new(p.cast())?,
                size,
                how: Backing::Mapped { len },
            });
        }
        let layout = std::alloc::Layout::from_size_align(size, align).ok()?;
        // SAFETY: `layout` has a non-zero size (sizes of 0 are refused before).
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        Some(Block {
            ptr: NonNull::new(p)?,
            size,
            how: Backing::Heap(layout),
        })
    }

    /// Bytes of the block.
    pub(crate) fn len(&self) -> usize {
        self.size
    }

    pub(crate) fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        match self.how {
            // SAFETY: allocated with this layout by `alloc_zeroed`, freed once.
            Backing::Heap(layout) => unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) },
            #[cfg(unix)]
            Backing::Mapped { len } => {
                // SAFETY: mapped with this length by `mmap`, unmapped once.
                unsafe { libc::munmap(self.ptr.as_ptr().cast(), len) };
            }
        }
        let _ = self.size;
    }
}

/// One tracked allocation.
#[derive(Clone)]
pub(crate) struct Allocation {
    pub(crate) size: usize,
    pub(crate) kind: Kind,
    pub(crate) device: Option<usize>,
    pub(crate) context: u64,
    pub(crate) id: u64,
    pub(crate) block: Arc<Block>,
}

impl Allocation {
    pub(crate) fn base(&self) -> usize {
        self.block.addr()
    }
}

struct Table {
    by_base: BTreeMap<usize, Allocation>,
    /// Bytes of device and shared allocations per device.
    used: Vec<u64>,
}

/// An instance's allocations.
pub(crate) struct Memory {
    table: RwLock<Table>,
    next_id: AtomicU64,
    /// `zeMemSetAtomicAccessAttributeExp` records by allocation id: range start, length,
    /// device index, flags (the latest last).
    atomic: std::sync::Mutex<std::collections::HashMap<u64, Vec<AtomicAttr>>>,
}

/// One recorded atomic access attribute.
#[derive(Clone, Copy)]
struct AtomicAttr {
    start: usize,
    len: usize,
    device: usize,
    flags: ze_memory_atomic_attr_exp_flags_t,
}

/// A range of memory a command uses, checked when the command was recorded.
#[derive(Clone)]
pub(crate) struct Span {
    pub(crate) addr: usize,
    pub(crate) len: usize,
    /// The allocation it lay in when checked; `None`: application host memory, outside every
    /// allocation, which the driver cannot check. Weak, so that a recorded command does not
    /// keep freed memory mapped.
    block: Option<Weak<Block>>,
}

/// What a command holds while it runs: the memory of its tracked ranges stays mapped.
pub(crate) struct Hold(#[allow(dead_code)] Option<Arc<Block>>);

impl Span {
    /// Before the command runs: the allocation this range lay in must still be allocated (not
    /// freed, not replaced); it then stays mapped while the returned hold lives.
    pub(crate) fn acquire(&self, memory: &Memory) -> Result<Hold, String> {
        let Some(weak) = &self.block else {
            return Ok(Hold(None));
        };
        let freed = || {
            format!(
                "{} bytes at {:#x}: the allocation was freed before the command ran",
                self.len, self.addr
            )
        };
        let block = weak.upgrade().ok_or_else(freed)?;
        let t = lock_read(&memory.table);
        match t.by_base.get(&block.addr()) {
            Some(a) if Arc::ptr_eq(&a.block, &block) => Ok(Hold(Some(block))),
            _ => Err(freed()),
        }
    }
}
impl Memory {
    pub(crate) fn new(devices: usize) -> Memory {
        Memory {
            table: RwLock::new(Table {
                by_base: BTreeMap::new(),
                used: vec![0; devices],
            }),
            next_id: AtomicU64::new(1),
            atomic: Default::default(),
        }
    }

    /// The allocation containing `addr`, if any.
    pub(crate) fn find(&self, addr: usize) -> Option<Allocation> {
        let t = lock_read(&self.table);
        find_in(&t.by_base, addr).cloned()
    }

    /// Checks `[ptr, ptr + len)`: inside one tracked allocation, or outside all of them. A range
    /// that starts in an allocation and runs past its end, or that overlaps one from outside,
    /// is `ZE_RESULT_ERROR_INVALID_SIZE`.
    pub(crate) fn check(&self, ptr: usize, len: usize, what: &str) -> ZeResult<Span> {
        let Some(end) = ptr.checked_add(len) else {
            bail!(
                ZE_RESULT_ERROR_INVALID_SIZE,
                "{what}: {len} bytes at {ptr:#x} wrap around the address space"
            );
        };
        let t = lock_read(&self.table);
        if let Some(a) = find_in(&t.by_base, ptr) {
            let a_end = a.base() + a.size;
            if end > a_end {
                bail!(
                    ZE_RESULT_ERROR_INVALID_SIZE,
                    "{what}: {len} bytes at {ptr:#x} overrun the allocation [{:#x}, {a_end:#x}) by {} bytes",
                    a.base(),
                    end - a_end
                );
            }
            return Ok(Span {
                addr: ptr,
                len,
                block: Some(Arc::downgrade(&a.block)),
            });
        }
        if let Some((&base, a)) = t.by_base.range(ptr..).next()
            && base < end
        {
            bail!(
                ZE_RESULT_ERROR_INVALID_SIZE,
                "{what}: {len} bytes at {ptr:#x} run into the allocation [{base:#x}, {:#x}) from outside it",
                base + a.size
            );
        }
        Ok(Span {
            addr: ptr,
            len,
            block: None,
        })
    }

    /// What a kernel running on `device` may access, as the specification allows it: the
    /// allocations its pointer arguments point into, and every allocation of the kinds its
    /// indirect-access flags name (`zeKernelSetIndirectAccess`); device allocations only of
    /// this device, or of its peers when P2P is on. Holds the memory alive for the launch.
    ///
    /// A kernel that strays into an allocation it was not given is therefore caught by the
    /// engine's sanitizer, as one that strays outside every allocation is.
    pub(crate) fn snapshot_for(
        &self,
        instance: &Instance,
        device: usize,
        args: &[crate::exec::ArgSlot],
        indirect: ze_kernel_indirect_access_flags_t,
        images: &[Arc<crate::image::Storage>],
    ) -> Snapshot {
        let t = lock_read(&self.table);
        // Every argument of pointer size may be a pointer: the allocations those values point
        // into are the kernel's (a value argument that happens to equal an address only
        // widens what is allowed, never narrows it).
        let pointed: Vec<usize> = args
            .iter()
            .filter_map(|a| match a {
                crate::exec::ArgSlot::Bytes(b) if b.len() == 8 => {
                    Some(u64::from_le_bytes(b[..8].try_into().ok()?) as usize)
                }
                _ => None,
            })
            .filter_map(|p| find_in(&t.by_base, p).map(|a| a.base()))
            .collect();
        let flag = |f: ze_kernel_indirect_access_flag_t| indirect & f.0 != 0;
        let entries =
            t.by_base
                .values()
                .filter(|a| match (a.kind, a.device) {
                    (Kind::Device, Some(d)) => crate::device::can_reach(instance, device, d),
                    _ => true,
                })
                .filter(|a| {
                    pointed.contains(&a.base()) || match a.kind {
                        Kind::Host => flag(
                            ze_kernel_indirect_access_flag_t::ZE_KERNEL_INDIRECT_ACCESS_FLAG_HOST,
                        ),
                        Kind::Device => flag(
                            ze_kernel_indirect_access_flag_t::ZE_KERNEL_INDIRECT_ACCESS_FLAG_DEVICE,
                        ),
                        Kind::Shared => flag(
                            ze_kernel_indirect_access_flag_t::ZE_KERNEL_INDIRECT_ACCESS_FLAG_SHARED,
                        ),
                    }
                })
                .map(|a| (a.base() as u64, a.size as u64, Keep::Block(a.block.clone())))
                .chain(
                    images
                        .iter()
                        .map(|s| (s.addr() as u64, s.len() as u64, Keep::Image(s.clone()))),
                )
                .collect::<Vec<_>>();
        let mut entries = entries;
        // The allocations come sorted (a map by base); image storage is appended after them.
        if !images.is_empty() {
            entries.sort_by_key(|e| e.0);
        }
        Snapshot { entries }
    }

    /// Charges `bytes` of device memory that is not an allocation of the table (an image's
    /// storage) to `device`: `ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY` beyond `capacity`.
    pub(crate) fn charge(&self, device: usize, bytes: u64, capacity: u64) -> ZeResult {
        let mut t = lock_write(&self.table);
        let used = t.used[device];
        if used.saturating_add(bytes) > capacity {
            bail!(
                ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
                "device {device} has {} of {capacity} bytes free; {bytes} asked",
                capacity.saturating_sub(used)
            );
        }
        t.used[device] += bytes;
        Ok(())
    }

    /// Gives back what [`Memory::charge`] took.
    pub(crate) fn uncharge(&self, device: usize, bytes: u64) {
        lock_write(&self.table).used[device] -= bytes;
    }

    /// A new allocation identifier (what `zeMemGetAllocProperties` reports as `id`).
    pub(crate) fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// How many allocations of a context are live.
    pub(crate) fn count_for_context(&self, context: u64) -> usize {
        lock_read(&self.table)
            .by_base
            .values()
            .filter(|a| a.context == context)
            .count()
    }

    /// Bytes in use on a device.
    pub(crate) fn used(&self, device: usize) -> u64 {
        lock_read(&self.table)
            .used
            .get(device)
            .copied()
            .unwrap_or(0)
    }
}

fn find_in(map: &BTreeMap<usize, Allocation>, addr: usize) -> Option<&Allocation> {
    let (_, a) = map.range(..=addr).next_back()?;
    (addr < a.base() + a.size).then_some(a)
}

/// The allocations a kernel may use, for the engine ([`MemoryMap`]).
pub(crate) struct Snapshot {
    /// (base, size, what keeps it mapped), sorted by base.
    entries: Vec<(u64, u64, Keep)>,
}

/// What keeps a snapshot's range mapped: an allocation's block, or an image argument's
/// storage.
#[allow(dead_code)] // Held, never read.
enum Keep {
    Block(Arc<Block>),
    Image(Arc<crate::image::Storage>),
}

// SAFETY: every range the snapshot reports is a `Block` or an image's storage (itself a
// `Block`) it holds a reference to, so the memory stays mapped (and readable and writable
// from any thread) for as long as the snapshot lives, which is the whole launch.
unsafe impl MemoryMap for Snapshot {
    fn find(&self, address: u64) -> Option<(u64, u64)> {
        let i = self.entries.partition_point(|e| e.0 <= address);
        let (base, size, _) = self.entries.get(i.checked_sub(1)?)?;
        (address < base + size).then_some((*base, *size))
    }
}

/// Checks an allocation descriptor's `pNext` chain, and tells whether it carries the
/// relaxed-allocation-limits descriptor with the `MAX_SIZE` flag: the one extension structure
/// allocation descriptors honour, while `ZE_experimental_relaxed_allocation_limits` is
/// advertised. Any other (external memory import or export, compression hints, ray-tracing
/// allocations) is refused.
///
/// # Safety
///
/// The descriptor's chain must be made of valid Level Zero structures.
unsafe fn relaxed<T: Structure>(instance: &Instance, desc: &T) -> ZeResult<bool> {
    let honoured: &[ze_structure_type_t] =
        if instance.has_extension("ZE_experimental_relaxed_allocation_limits") {
            &[ze_structure_type_t::ZE_STRUCTURE_TYPE_RELAXED_ALLOCATION_LIMITS_EXP_DESC]
        } else {
            &[]
        };
    // SAFETY: forwarded to the caller.
    let chain = unsafe { crate::chain::input(desc, honoured)? };
    let Some(limits) = chain.get::<ze_relaxed_allocation_limits_exp_desc_t>() else {
        return Ok(false);
    };
    let max_size =
        ze_relaxed_allocation_limits_exp_flag_t::ZE_RELAXED_ALLOCATION_LIMITS_EXP_FLAG_MAX_SIZE.0;
    if limits.flags & !max_size != 0 {
        bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "ze_relaxed_allocation_limits_exp_desc_t flags {:#x}",
            limits.flags
        );
    }
    Ok(limits.flags & max_size != 0)
}

struct Request<'a> {
    context: &'a Context,
    kind: Kind,
    size: usize,
    alignment: usize,
    device: Option<DeviceRef>,
    relaxed: bool,
}

fn allocate(r: Request<'_>, pptr: *mut *mut c_void) -> ZeResult {
    let instance = r.context.instance;
    if pptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pptr");
    }
    if r.size == 0 {
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "allocation of 0 bytes");
    }
    if r.alignment & r.alignment.wrapping_sub(1) != 0 {
        bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
            "alignment {} is not a power of two",
            r.alignment
        );
    }
    if let Some(d) = r.device {
        r.context.check_device(&d)?;
        d.check_alive()?;
    }
    let n = instance.alloc_calls.fetch_add(1, Ordering::Relaxed) + 1;
    if instance.config.fail_alloc_at == Some(n) {
        bail!(
            ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
            "allocation #{n} failed (fault injected by LEVEL_ZERO_CPU_FAIL_ALLOC_AT={n})"
        );
    }
    let max = instance.config.max_alloc_size();
    if r.size as u64 > max && !r.relaxed {
        bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
            "{} bytes exceed maxMemAllocSize ({max}); chain ze_relaxed_allocation_limits_exp_desc_t to allow it",
            r.size
        );
    }
    let memory = &instance.memory;
    let mut t = lock_write(&memory.table);
    // A sub-device's allocation also counts against its root device's memory.
    let accounts = r.device.map(|d| d.memory_accounts()).unwrap_or_default();
    for &(i, capacity) in &accounts {
        let used = t.used[i];
        if used.saturating_add(r.size as u64) > capacity {
            bail!(
                ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
                "device {i} has {} of {capacity} bytes free; {} asked",
                capacity.saturating_sub(used),
                r.size
            );
        }
    }
    let align = if r.alignment == 0 {
        DEFAULT_ALIGN
    } else {
        r.alignment.max(DEFAULT_ALIGN)
    };
    let Some(block) = Block::new(r.size, align) else {
        if r.device.is_some() {
            bail!(
                ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
                "the host could not provide {} bytes",
                r.size
            );
        }
        bail!(
            ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY,
            "the host could not provide {} bytes",
            r.size
        );
    };
    let base = block.addr();
    for &(i, _) in &accounts {
        t.used[i] += r.size as u64;
    }
    t.by_base.insert(
        base,
        Allocation {
            size: r.size,
            kind: r.kind,
            device: r.device.map(|d| d.index),
            context: r.context.handle,
            id: memory.next_id.fetch_add(1, Ordering::Relaxed),
            block: Arc::new(block),
        },
    );
    drop(t);
    instance.live.allocations.fetch_add(1, Ordering::Relaxed);
    instance
        .live
        .allocated_bytes
        .fetch_add(r.size as u64, Ordering::Relaxed);
    // SAFETY: checked non-null above; the caller's output.
    unsafe { ffi::write(pptr, base as *mut c_void) }
}

fn free(context: &Context, ptr: *mut c_void) -> ZeResult {
    if ptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pointer");
    }
    let instance = context.instance;
    let mut t = lock_write(&instance.memory.table);
    let base = ptr as usize;
    match t.by_base.get(&base) {
        Some(a) if a.context == context.handle => {}
        Some(_) => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{base:#x} was allocated in another context"
        ),
        None => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{base:#x} is not the base of an allocation of this driver"
        ),
    }
    let a = t.by_base.remove(&base).expect("checked above");
    if let Some(d) = a.device {
        let d = crate::handles::DeviceRef { instance, index: d };
        for (i, _) in d.memory_accounts() {
            t.used[i] -= a.size as u64;
        }
    }
    drop(t);
    crate::sync::lock(&instance.memory.atomic).remove(&a.id);
    crate::device::forget_residency(instance, base, a.size);
    instance.live.allocations.fetch_sub(1, Ordering::Relaxed);
    instance
        .live
        .allocated_bytes
        .fetch_sub(a.size as u64, Ordering::Relaxed);
    Ok(())
}

/// The allocation containing `ptr` if it belongs to `context`.
pub(crate) fn lookup(context: &Context, ptr: usize) -> Option<Allocation> {
    context
        .instance
        .memory
        .find(ptr)
        .filter(|a| a.context == context.handle)
}

entry_points! {
    fn zeMemAllocDevice(
        hContext: ze_context_handle_t,
        device_desc: *const ze_device_mem_alloc_desc_t,
        size: usize,
        alignment: usize,
        hDevice: ze_device_handle_t,
        pptr: *mut *mut c_void,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = context.instance.own_device(hDevice)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(device_desc)? };
        if desc.flags > 0x7 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "device allocation flags {:#x}", desc.flags);
        }
        // SAFETY: the descriptor's chain (caller's contract).
        let relaxed = unsafe { relaxed(context.instance, &desc)? };
        allocate(Request { context: &context, kind: Kind::Device, size, alignment, device: Some(device), relaxed }, pptr)
    }

    fn zeMemAllocHost(
        hContext: ze_context_handle_t,
        host_desc: *const ze_host_mem_alloc_desc_t,
        size: usize,
        alignment: usize,
        pptr: *mut *mut c_void,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(host_desc)? };
        if desc.flags > 0xf {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "host allocation flags {:#x}", desc.flags);
        }
        // SAFETY: the descriptor's chain (caller's contract).
        let relaxed = unsafe { relaxed(context.instance, &desc)? };
        allocate(Request { context: &context, kind: Kind::Host, size, alignment, device: None, relaxed }, pptr)
    }

    /// A shared allocation with a device counts against that device's memory; without one it
    /// is host memory that every device can reach.
    fn zeMemAllocShared(
        hContext: ze_context_handle_t,
        device_desc: *const ze_device_mem_alloc_desc_t,
        host_desc: *const ze_host_mem_alloc_desc_t,
        size: usize,
        alignment: usize,
        hDevice: ze_device_handle_t,
        pptr: *mut *mut c_void,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = if hDevice.is_null() { None } else { Some(context.instance.own_device(hDevice)?) };
        // SAFETY: non-null descriptors are the caller's.
        let (ddesc, hdesc) = unsafe { (ffi::read(device_desc)?, ffi::read(host_desc)?) };
        if ddesc.flags > 0x7 || hdesc.flags > 0xf {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "allocation flags {:#x}/{:#x}", ddesc.flags, hdesc.flags);
        }
        // SAFETY: the descriptors' chains (caller's contract).
        let relaxed = unsafe { relaxed(context.instance, &ddesc)? | relaxed(context.instance, &hdesc)? };
        allocate(Request { context: &context, kind: Kind::Shared, size, alignment, device, relaxed }, pptr)
    }

    fn zeMemFree(hContext: ze_context_handle_t, ptr: *mut c_void) {
        let context: Arc<Context> = handles::get(hContext)?;
        free(&context, ptr)
    }

    /// Frees at once whatever the policy: work in flight keeps the memory mapped until it ends.
    fn zeMemFreeExt(hContext: ze_context_handle_t, pMemFreeDesc: *const ze_memory_free_ext_desc_t, ptr: *mut c_void) {
        let context: Arc<Context> = handles::get(hContext)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(pMemFreeDesc)? };
        // SAFETY: the descriptor's chain (caller's contract); no extension is implemented.
        unsafe { crate::chain::input(&desc, &[])? };
        if desc.freePolicy > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "free policy {:#x}", desc.freePolicy);
        }
        free(&context, ptr)
    }

    /// A pointer this context did not allocate gets type `ZE_MEMORY_TYPE_UNKNOWN`.
    fn zeMemGetAllocProperties(
        hContext: ze_context_handle_t,
        ptr: *const c_void,
        pMemAllocProperties: *mut ze_memory_allocation_properties_t,
        phDevice: *mut ze_device_handle_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        if ptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ptr");
        }
        let found = lookup(&context, ptr as usize);
        let props = match &found {
            Some(a) => ze_memory_allocation_properties_t {
                type_: match a.kind {
                    Kind::Host => ze_memory_type_t::ZE_MEMORY_TYPE_HOST,
                    Kind::Device => ze_memory_type_t::ZE_MEMORY_TYPE_DEVICE,
                    Kind::Shared => ze_memory_type_t::ZE_MEMORY_TYPE_SHARED,
                },
                id: a.id,
                pageSize: if a.size >= MAP_THRESHOLD { PAGE as u64 } else { DEFAULT_ALIGN as u64 },
                ..Default::default()
            },
            None => ze_memory_allocation_properties_t {
                type_: ze_memory_type_t::ZE_MEMORY_TYPE_UNKNOWN,
                ..Default::default()
            },
        };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pMemAllocProperties, props)? };
        let device = found
            .and_then(|a| a.device)
            .map_or(std::ptr::null_mut(), |i| handles::raw(context.instance.devices[i].handle));
        // SAFETY: an optional output of the caller's.
        unsafe { ffi::write_opt(phDevice, device) };
        Ok(())
    }

    fn zeMemGetAddressRange(hContext: ze_context_handle_t, ptr: *const c_void, pBase: *mut *mut c_void, pSize: *mut usize) {
        let context: Arc<Context> = handles::get(hContext)?;
        if ptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ptr");
        }
        let Some(a) = lookup(&context, ptr as usize) else {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{ptr:?} is not inside an allocation of this context");
        };
        // SAFETY: optional outputs of the caller's.
        unsafe {
            ffi::write_opt(pBase, a.base() as *mut c_void);
            ffi::write_opt(pSize, a.size);
        }
        Ok(())
    }

    /// Records the atomic access attributes of a range of a shared allocation for a device.
    /// Flags: the seven `ZE_MEMORY_ATOMIC_ATTR_EXP_FLAG_*` bits (others are
    /// `ZE_RESULT_ERROR_INVALID_ENUMERATION`); a flag together with its negation (`NO_HOST_ATOMICS`
    /// and `HOST_ATOMICS`, ...; `NO_ATOMICS` with any positive one) is
    /// `ZE_RESULT_ERROR_INVALID_ARGUMENT`. Recorded only: every atomic works on host memory.
    fn zeMemSetAtomicAccessAttributeExp(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        ptr: *const c_void,
        size: usize,
        attr: ze_memory_atomic_attr_exp_flags_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = context.device(hDevice)?;
        if attr > 0x7f {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "atomic access attribute flags {attr:#x}");
        }
        let (host, no_host, device_f, no_device, system, no_system, none) = (
            attr & 0x4 != 0, attr & 0x2 != 0, attr & 0x10 != 0, attr & 0x8 != 0, attr & 0x40 != 0, attr & 0x20 != 0, attr & 0x1 != 0,
        );
        if (host && no_host) || (device_f && no_device) || (system && no_system) || (none && (host || device_f || system)) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "contradictory atomic access attribute flags {attr:#x}");
        }
        let a = atomic_range(&context, ptr, size)?;
        let mut map = crate::sync::lock(&context.instance.memory.atomic);
        let list = map.entry(a.id).or_default();
        let start = ptr as usize;
        list.retain(|x| !(x.start == start && x.len == size && x.device == device.index));
        list.push(AtomicAttr { start, len: size, device: device.index, flags: attr });
        Ok(())
    }

    /// The attributes last set for a range containing `[ptr, ptr + size)` on the device; 0
    /// (no attribute: the default, every atomic works) when none was set.
    fn zeMemGetAtomicAccessAttributeExp(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        ptr: *const c_void,
        size: usize,
        pAttr: *mut ze_memory_atomic_attr_exp_flags_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = context.device(hDevice)?;
        if pAttr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pAttr");
        }
        let a = atomic_range(&context, ptr, size)?;
        let start = ptr as usize;
        let flags = crate::sync::lock(&context.instance.memory.atomic)
            .get(&a.id)
            .and_then(|list| {
                list.iter().rev().find(|x| {
                    x.device == device.index && x.start <= start && start + size <= x.start + x.len
                })
            })
            .map_or(0, |x| x.flags);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(pAttr, flags) }
    }
}

/// The shared allocation of `context` that holds `[ptr, ptr + size)` (atomic attributes are
/// for shared allocations only).
fn atomic_range(context: &Context, ptr: *const c_void, size: usize) -> ZeResult<Allocation> {
    if ptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ptr");
    }
    let p = ptr as usize;
    let Some(a) = lookup(context, p) else {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{p:#x} is not inside an allocation of this context"
        );
    };
    if a.kind != Kind::Shared {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "atomic access attributes are for shared allocations; {p:#x} is {:?}",
            a.kind
        );
    }
    if size == 0
        || p.checked_add(size)
            .is_none_or(|end| end > a.base() + a.size)
    {
        bail!(
            ZE_RESULT_ERROR_INVALID_SIZE,
            "{size} bytes at {p:#x}: not a non-empty range of its allocation"
        );
    }
    Ok(a)
}
