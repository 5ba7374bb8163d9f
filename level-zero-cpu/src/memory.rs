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
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};

use level_zero_sys::*;

use crate::arena::{Arena, GRANULE};
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

/// Access rights of a block (`ze_memory_access_attribute_t` values): every allocation is
/// read-write; virtual memory mappings may be read-only or inaccessible.
pub(crate) const ACCESS_NONE: u8 = 0;
pub(crate) const ACCESS_READWRITE: u8 = 1;
pub(crate) const ACCESS_READONLY: u8 = 2;

/// The name of an access attribute, for messages.
pub(crate) fn access_name(a: u8) -> &'static str {
    match a {
        ACCESS_NONE => "ZE_MEMORY_ACCESS_ATTRIBUTE_NONE",
        ACCESS_READONLY => "ZE_MEMORY_ACCESS_ATTRIBUTE_READONLY",
        _ => "ZE_MEMORY_ACCESS_ATTRIBUTE_READWRITE",
    }
}

/// The memory of one allocation. Freed when the last reference goes.
pub(crate) struct Block {
    ptr: NonNull<u8>,
    size: usize,
    how: Backing,
    /// Access rights (`ACCESS_*`), changed by `zeVirtualMemSetAccessAttribute` under the
    /// table's write lock.
    pub(crate) access: AtomicU8,
    /// The export directory slot of an arena block once exported (`zeMemGetIpcHandle`).
    pub(crate) export: OnceLock<u32>,
}

enum Backing {
    Heap(std::alloc::Layout),
    #[cfg(unix)]
    Mapped {
        len: usize,
    },
    /// A range of the instance's arena, mapped shared (device allocations).
    Arena {
        len: usize,
        offset: u64,
        arena: &'static Arena,
    },
    /// Memory of another arena (another process's, or this one's), opened by
    /// `zeMemOpenIpcHandle`: the mapping and the directory page of its record.
    Imported {
        len: usize,
        page: usize,
        record: usize,
    },
    /// A mapping of physical memory into a reservation (`zeVirtualMemMap`).
    Vm {
        len: usize,
        #[allow(dead_code)] // Held: the reservation outlives its mappings.
        reservation: Arc<crate::vm::Reservation>,
        #[allow(dead_code)] // Held: the physical memory outlives its mappings.
        physical: Arc<crate::vm::Physical>,
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
            return Some(Block::with(p as usize, size, Backing::Mapped { len }));
        }
        let layout = std::alloc::Layout::from_size_align(size, align).ok()?;
        // SAFETY: `layout` has a non-zero size (sizes of 0 are refused before).
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        NonNull::new(p)?;
        Some(Block::with(p as usize, size, Backing::Heap(layout)))
    }

    fn with(addr: usize, size: usize, how: Backing) -> Block {
        Block {
            ptr: NonNull::new(addr as *mut u8).expect("a mapped address"),
            size,
            how,
            access: AtomicU8::new(ACCESS_READWRITE),
            export: OnceLock::new(),
        }
    }

    /// `size` bytes of the arena, aligned to `align`: device memory that can be exported.
    pub(crate) fn from_arena(
        arena: &'static Arena,
        size: usize,
        align: usize,
    ) -> Result<Block, String> {
        let len = size
            .checked_next_multiple_of(GRANULE)
            .ok_or("size overflow")?;
        let offset = arena.take(len as u64)?;
        match arena.map(offset, len, None, align) {
            Ok(addr) => Ok(Block::with(
                addr,
                size,
                Backing::Arena { len, offset, arena },
            )),
            Err(e) => {
                arena.give_back(offset, len as u64, None);
                Err(e)
            }
        }
    }

    /// Memory opened from an IPC handle: `len` bytes mapped at `addr`, whose directory record
    /// is at `record`, inside the directory page mapped at `page`.
    pub(crate) fn imported(
        addr: usize,
        size: usize,
        len: usize,
        page: usize,
        record: usize,
    ) -> Block {
        Block::with(addr, size, Backing::Imported { len, page, record })
    }

    /// A virtual memory mapping of `len` bytes at `addr`.
    pub(crate) fn vm(
        addr: usize,
        len: usize,
        reservation: Arc<crate::vm::Reservation>,
        physical: Arc<crate::vm::Physical>,
        access: u8,
    ) -> Block {
        let b = Block::with(
            addr,
            len,
            Backing::Vm {
                len,
                reservation,
                physical,
            },
        );
        b.access.store(access, Ordering::Relaxed);
        b
    }

    /// The arena range of an arena block: (offset, length).
    pub(crate) fn arena_range(&self) -> Option<(u64, usize)> {
        match self.how {
            Backing::Arena { len, offset, .. } => Some((offset, len)),
            _ => None,
        }
    }

    /// Whether the block is a virtual memory mapping.
    pub(crate) fn is_vm(&self) -> bool {
        matches!(self.how, Backing::Vm { .. })
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
            Backing::Arena { len, offset, arena } => {
                // SAFETY: mapped with this length by `Arena::map`, unmapped once.
                unsafe { libc::munmap(self.ptr.as_ptr().cast(), len) };
                arena.give_back(offset, len as u64, self.export.get().copied());
            }
            Backing::Imported { len, page, record } => {
                // SAFETY: the opened range and the directory page, mapped by
                // `zeMemOpenIpcHandle`, unmapped once; the record lies in that page.
                unsafe {
                    libc::munmap(self.ptr.as_ptr().cast(), len);
                    (*(record as *const crate::arena::Record))
                        .opens
                        .fetch_sub(1, Ordering::SeqCst);
                    libc::munmap(page as *mut c_void, GRANULE);
                }
            }
            Backing::Vm { len, .. } => {
                crate::arena::unmap_to_reserved(self.ptr.as_ptr() as usize, len)
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
    pub(crate) origin: Origin,
}

/// How an allocation came to be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Origin {
    /// `zeMemAlloc*`.
    Allocated,
    /// `zeMemOpenIpcHandle` (closed by `zeMemCloseIpcHandle`, not freed).
    Opened,
    /// `zeVirtualMemMap` into the reservation at this base.
    Mapped(usize),
}

impl Allocation {
    pub(crate) fn base(&self) -> usize {
        self.block.addr()
    }
}

pub(crate) struct Table {
    pub(crate) by_base: BTreeMap<usize, Allocation>,
    /// Virtual memory reservations by base.
    pub(crate) reserved: BTreeMap<usize, crate::vm::Reserved>,
    /// Bytes of device and shared allocations per device.
    used: Vec<u64>,
}

/// An instance's allocations.
pub(crate) struct Memory {
    pub(crate) table: RwLock<Table>,
    /// The device-memory arena, made on first use.
    arena: OnceLock<Result<Arena, String>>,
    /// IPC handles given out and not put back, by allocation id.
    pub(crate) ipc_out: std::sync::Mutex<std::collections::HashMap<u64, u64>>,
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
    /// The next adjacent mappings of the same reservation the range runs into (virtual
    /// memory only; empty otherwise, which allocates nothing).
    more: Vec<Weak<Block>>,
    /// Whether the command writes the range (a destination).
    write: bool,
}

/// What a command holds while it runs: the memory of its tracked ranges stays mapped.
pub(crate) struct Hold(
    #[allow(dead_code)] Option<Arc<Block>>,
    #[allow(dead_code)] Vec<Arc<Block>>,
);

/// Why a range cannot be used.
pub(crate) enum Refusal {
    /// Its allocation was freed (a use after free).
    Freed(String),
    /// Its access attributes forbid the access.
    Access(String),
}

/// Checks that `block` allows the access: `Err` names the address range and the attribute.
fn allowed(block: &Block, addr: usize, len: usize, write: bool, what: &str) -> Result<(), String> {
    let access = block.access.load(Ordering::SeqCst);
    if access == ACCESS_NONE || (write && access == ACCESS_READONLY) {
        let base = block.addr();
        return Err(format!(
            "{what}: {len} bytes at {addr:#x} {} the virtual memory mapping [{base:#x}, {:#x}), whose access attribute is {} (zeVirtualMemSetAccessAttribute)",
            if write { "write into" } else { "read from" },
            base + block.len(),
            access_name(access)
        ));
    }
    Ok(())
}

impl Span {
    /// Before the command runs: the allocation this range lay in must still be allocated (not
    /// freed, not replaced), and allow the access; it then stays mapped while the returned
    /// hold lives.
    pub(crate) fn acquire(&self, memory: &Memory) -> Result<Hold, Refusal> {
        let Some(weak) = &self.block else {
            return Ok(Hold(None, Vec::new()));
        };
        let freed = || {
            Refusal::Freed(format!(
                "{} bytes at {:#x}: the allocation was freed before the command ran",
                self.len, self.addr
            ))
        };
        let block = weak.upgrade().ok_or_else(freed)?;
        let more = self
            .more
            .iter()
            .map(|w| w.upgrade().ok_or_else(freed))
            .collect::<Result<Vec<_>, _>>()?;
        let t = lock_read(&memory.table);
        for b in std::iter::once(&block).chain(&more) {
            match t.by_base.get(&b.addr()) {
                Some(a) if Arc::ptr_eq(&a.block, b) => {}
                _ => return Err(freed()),
            }
            allowed(b, self.addr, self.len, self.write, "the command").map_err(Refusal::Access)?;
        }
        Ok(Hold(Some(block), more))
    }
}
impl Memory {
    pub(crate) fn new(devices: usize) -> Memory {
        Memory {
            table: RwLock::new(Table {
                by_base: BTreeMap::new(),
                reserved: BTreeMap::new(),
                used: vec![0; devices],
            }),
            arena: OnceLock::new(),
            ipc_out: Default::default(),
            next_id: AtomicU64::new(1),
            atomic: Default::default(),
        }
    }

    /// The instance's arena (made on first use).
    pub(crate) fn arena(&self) -> ZeResult<&Arena> {
        match self.arena.get_or_init(Arena::new) {
            Ok(a) => Ok(a),
            Err(e) => bail!(
                ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
                "the device-memory arena could not be made: {e}"
            ),
        }
    }

    /// The allocation containing `addr`, if any.
    pub(crate) fn find(&self, addr: usize) -> Option<Allocation> {
        let t = lock_read(&self.table);
        find_in(&t.by_base, addr).cloned()
    }

    /// Checks `[ptr, ptr + len)`: inside one tracked allocation (or adjacent mappings of one
    /// virtual memory reservation), or outside all of them and every reservation. A range
    /// that starts in an allocation and runs past its end, or that overlaps one from outside,
    /// is `ZE_RESULT_ERROR_INVALID_SIZE`; a range that touches unmapped pages of a
    /// reservation is `ZE_RESULT_ERROR_INVALID_ARGUMENT`, as is one whose access attributes
    /// forbid the access (a range is written when `what` names a destination: every write
    /// target of a command is called so).
    pub(crate) fn check(&self, ptr: usize, len: usize, what: &str) -> ZeResult<Span> {
        let write = what.contains("destination");
        let Some(end) = ptr.checked_add(len) else {
            bail!(
                ZE_RESULT_ERROR_INVALID_SIZE,
                "{what}: {len} bytes at {ptr:#x} wrap around the address space"
            );
        };
        let t = lock_read(&self.table);
        if let Some(a) = find_in(&t.by_base, ptr) {
            let mut a_end = a.base() + a.size;
            let mut more = Vec::new();
            if let Origin::Mapped(r) = a.origin {
                // Adjacent mappings of the same reservation are contiguous memory.
                while end > a_end {
                    match t.by_base.get(&a_end) {
                        Some(n) if n.origin == Origin::Mapped(r) => {
                            if let Err(m) = allowed(&n.block, ptr, len, write, what) {
                                return Err(ffi::fail(
                                    ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                                    m,
                                ));
                            }
                            more.push(Arc::downgrade(&n.block));
                            a_end += n.size;
                        }
                        _ => bail!(
                            ZE_RESULT_ERROR_INVALID_ARGUMENT,
                            "{what}: {len} bytes at {ptr:#x} run past the mapped pages of their reservation at {a_end:#x} (not mapped: zeVirtualMemMap)"
                        ),
                    }
                }
            }
            if end > a_end {
                bail!(
                    ZE_RESULT_ERROR_INVALID_SIZE,
                    "{what}: {len} bytes at {ptr:#x} overrun the allocation [{:#x}, {a_end:#x}) by {} bytes",
                    a.base(),
                    end - a_end
                );
            }
            if let Err(m) = allowed(&a.block, ptr, len, write, what) {
                return Err(ffi::fail(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT, m));
            }
            return Ok(Span {
                addr: ptr,
                len,
                block: Some(Arc::downgrade(&a.block)),
                more,
                write,
            });
        }
        if let Some((&base, r)) = t.reserved.range(..end).next_back()
            && r.end(base) > ptr
        {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{what}: {len} bytes at {ptr:#x} touch pages of the virtual memory reservation [{base:#x}, {:#x}) that are not mapped (zeVirtualMemMap)",
                r.end(base)
            );
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
            more: Vec::new(),
            write,
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
                // Inaccessible mappings are not the kernel's: any access is reported.
                .filter(|a| a.block.access.load(Ordering::SeqCst) != ACCESS_NONE)
                .map(|a| {
                    let writable = a.block.access.load(Ordering::SeqCst) == ACCESS_READWRITE;
                    (
                        a.base() as u64,
                        a.size as u64,
                        Keep::Block(a.block.clone()),
                        writable,
                    )
                })
                .chain(images.iter().map(|s| {
                    (
                        s.addr() as u64,
                        s.len() as u64,
                        Keep::Image(s.clone()),
                        true,
                    )
                }))
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
    /// (base, size, what keeps it mapped, writable), sorted by base.
    entries: Vec<(u64, u64, Keep, bool)>,
}

/// What keeps a snapshot's range mapped: an allocation's block, or an image argument's
/// storage.
#[allow(dead_code)] // Held, never read.
enum Keep {
    Block(Arc<Block>),
    Image(Arc<crate::image::Storage>),
}

// SAFETY: every range the snapshot reports is a `Block` or an image's storage (itself a
// `Block`) it holds a reference to, so the memory stays mapped (and readable from any
// thread) for as long as the snapshot lives, which is the whole launch. Its access rights do
// not shrink meanwhile: `zeVirtualMemSetAccessAttribute` waits until no launch holds the
// block before it protects it. Inaccessible mappings are left out, and read-only ones are
// reported not writable.
unsafe impl MemoryMap for Snapshot {
    fn find(&self, address: u64) -> Option<(u64, u64)> {
        let i = self.entries.partition_point(|e| e.0 <= address);
        let (base, size, _, _) = self.entries.get(i.checked_sub(1)?)?;
        (address < base + size).then_some((*base, *size))
    }

    fn writable(&self, address: u64) -> bool {
        let i = self.entries.partition_point(|e| e.0 <= address);
        i.checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .is_none_or(|e| e.3)
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
    let block = if r.kind == Kind::Device {
        match memory.arena() {
            Ok(arena) => match Block::from_arena(arena, r.size, align) {
                Ok(b) => Some(b),
                Err(e) => bail!(
                    ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
                    "the device-memory arena could not provide {} bytes: {e}",
                    r.size
                ),
            },
            // No arena (no `memfd` here: a sandbox, or Miri): device memory is then private
            // memory, which works for everything but export (`zeMemGetIpcHandle` says why).
            // Said once, at `warn`.
            Err(e) => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    crate::log::emit(
                        ::log::Level::Warn,
                        &format!("device allocations are not exportable (IPC): {e}"),
                    )
                });
                Block::new(r.size, align)
            }
        }
    } else {
        Block::new(r.size, align)
    };
    let Some(block) = block else {
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
            origin: Origin::Allocated,
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
        Some(a) if a.origin == Origin::Opened => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{base:#x} was opened from an IPC handle: close it with zeMemCloseIpcHandle, not zeMemFree"
        ),
        Some(a) if matches!(a.origin, Origin::Mapped(_)) => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{base:#x} is a virtual memory mapping: unmap it with zeVirtualMemUnmap, not zeMemFree"
        ),
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
    crate::ipc::forget(instance, a.id);
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
                pageSize: if a.block.is_vm() {
                    crate::vm::PAGE as u64
                } else if a.size >= MAP_THRESHOLD || a.block.arena_range().is_some() || a.origin == Origin::Opened {
                    PAGE as u64
                } else {
                    DEFAULT_ALIGN as u64
                },
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
