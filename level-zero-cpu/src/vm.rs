//! Virtual memory: reservations of address space, physical memory objects, and mappings of
//! the second into the first, with access attributes.
//!
//! - A reservation (`zeVirtualMemReserve`) is an inaccessible anonymous mapping
//!   (`PROT_NONE`, `MAP_NORESERVE`) of the size asked, at `pStart` when that range is free (a
//!   hint, as the specification says), else where the system puts it, aligned to [`PAGE`].
//! - A physical memory object (`zePhysicalMemCreate`) is a range of the instance's arena
//!   (see `arena`): device memory is charged to the device like allocations are; its pages
//!   go back to the system when it is destroyed.
//! - A mapping (`zeVirtualMemMap`) maps the object's pages shared over the reserved pages;
//!   unmapping puts an inaccessible reservation back. Mapped ranges are memory the driver
//!   knows: each mapping is an entry of the allocation table (a device allocation of the
//!   context for device physical memory, a host one for host physical memory), so copies,
//!   fills and kernels may use it, and a range that runs from one mapping into the next
//!   adjacent mapping of the same reservation is contiguous memory. `zeMemGetAllocProperties`
//!   answers for a mapped address: the mapping's type, the physical memory object's id, the
//!   page size; `zeMemGetAddressRange` answers the mapping (not the reservation).
//! - Access attributes are per mapping: `zeVirtualMemSetAccessAttribute` takes ranges made
//!   of whole mappings (a range that cuts one is refused, `ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`).
//!   They are enforced twice: by `mprotect` (the host cannot write a read-only page either),
//!   and by the driver's checks, so a copy or fill that writes a read-only mapping, or
//!   touches an inaccessible one, fails with a message naming the address and the attribute
//!   (when appended, and again when it runs), and a kernel that stores into a read-only
//!   mapping is stopped by the engine's sanitizer (`ExecError::ReadOnly`). Reducing rights
//!   waits until no running command holds the mapping.
//!
//! Page size: 64 KiB ([`PAGE`], like a GPU's device-memory granularity) for reservations,
//! device physical memory and its mappings, whatever the size asked; host physical memory
//! uses the system page (4 KiB), as the specification says.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::driver::Instance;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, Object};
use crate::memory::{
    ACCESS_NONE, ACCESS_READONLY, ACCESS_READWRITE, Allocation, Block, Kind, Origin, Table,
};
use crate::sync::{lock_read, lock_write};

/// The virtual memory page size.
pub(crate) const PAGE: usize = 64 << 10;
/// The page size of host physical memory (the system's).
pub(crate) const HOST_PAGE: usize = 4096;

/// A reservation of address space: unmapped when the last mapping of it is gone.
pub(crate) struct Reservation {
    base: usize,
    size: usize,
    /// Mappings unmapped while a running command still held them: they put the reserved
    /// pages back when that command ends, so nothing may be mapped over them before.
    retired: std::sync::Mutex<Vec<std::sync::Weak<Block>>>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: the reservation's own range, mapped by `zeVirtualMemReserve`; every mapping
        // of it is gone (they hold the reservation).
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size) };
    }
}

/// A reservation in the table.
#[derive(Clone)]
pub(crate) struct Reserved {
    pub(crate) size: usize,
    context: u64,
    keep: Arc<Reservation>,
}

impl Reserved {
    pub(crate) fn end(&self, base: usize) -> usize {
        base + self.size
    }
}

/// A physical memory object.
pub(crate) struct Physical {
    instance: &'static Instance,
    pub(crate) id: u64,
    /// Its range of the arena.
    pub(crate) offset: u64,
    pub(crate) len: usize,
    /// Its device (device memory), or `None` (host memory).
    pub(crate) device: Option<usize>,
    /// The alignment of its size, and of mappings of it.
    page: usize,
    context: u64,
    child: Child,
    /// The device memory accounts charged.
    accounts: Vec<usize>,
}

impl Drop for Physical {
    fn drop(&mut self) {
        if let Ok(arena) = self.instance.memory.arena() {
            arena.give_back(self.offset, self.len as u64, None);
        }
        for &i in &self.accounts {
            self.instance.memory.uncharge(i, self.len as u64);
        }
    }
}

fn check_access(access: ze_memory_access_attribute_t) -> ZeResult<u8> {
    match access.0 {
        0 => Ok(ACCESS_NONE),
        1 => Ok(ACCESS_READWRITE),
        2 => Ok(ACCESS_READONLY),
        _ => bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "memory access attribute {:#x}",
            access.0
        ),
    }
}

fn prot(access: u8) -> i32 {
    match access {
        ACCESS_READWRITE => libc::PROT_READ | libc::PROT_WRITE,
        ACCESS_READONLY => libc::PROT_READ,
        _ => libc::PROT_NONE,
    }
}

/// Checks a range given to unmap, free or the access attribute calls: non-null, aligned to
/// the system page, of a non-zero aligned size.
fn check_range(ptr: *const std::ffi::c_void, size: usize, align: usize) -> ZeResult<usize> {
    if ptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ptr");
    }
    let p = ptr as usize;
    if size == 0 {
        bail!(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "a range of 0 bytes");
    }
    if !p.is_multiple_of(align) {
        bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
            "address {p:#x} is not aligned to the page size ({align} bytes)"
        );
    }
    if !size.is_multiple_of(align) {
        bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
            "size {size} is not a multiple of the page size ({align} bytes)"
        );
    }
    if p.checked_add(size).is_none() {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{size} bytes at {p:#x} wrap around the address space"
        );
    }
    Ok(p)
}

/// The reservation of `context` that holds `[p, end)`.
fn reservation_of(
    t: &Table,
    context: &Context,
    p: usize,
    end: usize,
) -> ZeResult<(usize, Reserved)> {
    match t.reserved.range(..=p).next_back() {
        Some((&base, r)) if p < r.end(base) => {
            if r.context != context.handle {
                bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "{p:#x} lies in a reservation of another context"
                );
            }
            if end > r.end(base) {
                bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "[{p:#x}, {end:#x}) runs past the end of its reservation [{base:#x}, {:#x})",
                    r.end(base)
                );
            }
            Ok((base, r.clone()))
        }
        _ => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{p:#x} is not inside a virtual memory reservation (zeVirtualMemReserve)"
        ),
    }
}

/// The mappings that make up `[p, end)` exactly: `Err` if a page of it is not mapped, or a
/// mapping runs across one of its ends.
fn whole_mappings(t: &Table, p: usize, end: usize, what: &str) -> ZeResult<Vec<Allocation>> {
    let mut out = Vec::new();
    if let Some((&b, a)) = t.by_base.range(..p).next_back()
        && matches!(a.origin, Origin::Mapped(_))
        && b + a.size > p
    {
        bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
            "{what}: [{p:#x}, {end:#x}) starts inside the mapping [{b:#x}, {:#x}); level-zero-cpu {what}s whole mappings only",
            b + a.size
        );
    }
    let mut at = p;
    while at < end {
        match t.by_base.get(&at) {
            Some(a) if matches!(a.origin, Origin::Mapped(_)) => {
                if at + a.size > end {
                    bail!(
                        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                        "{what}: [{p:#x}, {end:#x}) ends inside the mapping [{at:#x}, {:#x}); level-zero-cpu {what}s whole mappings only",
                        at + a.size
                    );
                }
                at += a.size;
                out.push(a.clone());
            }
            _ => bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{what}: the page at {at:#x} of [{p:#x}, {end:#x}) is not mapped (zeVirtualMemMap)"
            ),
        }
    }
    Ok(out)
}

/// Removes mappings from the table (their pages become reserved again once no running
/// command holds them).
fn remove_mappings(instance: &Instance, t: &mut Table, maps: &[Allocation]) {
    for a in maps {
        t.by_base.remove(&a.base());
        if let Origin::Mapped(base) = a.origin
            && let Some(r) = t.reserved.get(&base)
            && Arc::strong_count(&a.block) > 2
        {
            crate::sync::lock(&r.keep.retired).push(Arc::downgrade(&a.block));
        }
        instance
            .live
            .virtual_mappings
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// The physical memory handle `h` of `context`.
fn physical(context: &Context, h: ze_physical_mem_handle_t) -> ZeResult<Arc<Physical>> {
    let p: Arc<Physical> = handles::get(h)?;
    if p.context != context.handle {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "the physical memory object belongs to another context"
        );
    }
    Ok(p)
}

entry_points! {
    /// `size` must be a multiple of the page size (64 KiB); `pStart`, if given, is a hint:
    /// the reservation is there when that range is free, else elsewhere.
    fn zeVirtualMemReserve(hContext: ze_context_handle_t, pStart: *const std::ffi::c_void, size: usize, pptr: *mut *mut std::ffi::c_void) {
        let context: Arc<Context> = handles::get(hContext)?;
        if pptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pptr");
        }
        if size == 0 {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "a reservation of 0 bytes");
        }
        if !size.is_multiple_of(PAGE) {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "size {size} is not a multiple of the page size ({PAGE} bytes, zeVirtualMemQueryPageSize)");
        }
        let hint = pStart as usize;
        if !hint.is_multiple_of(PAGE) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "pStart {hint:#x} is not aligned to the page size ({PAGE} bytes)");
        }
        let reserve = |at: usize, len: usize| {
            // SAFETY: a new inaccessible anonymous mapping; without MAP_FIXED, `at` is only a
            // hint and nothing mapped is replaced.
            let p = unsafe {
                libc::mmap(at as *mut _, len, libc::PROT_NONE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE, -1, 0)
            };
            (p != libc::MAP_FAILED).then_some(p as usize)
        };
        let oom = || ffi::fail(ze_result_t::ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY, format!("no {size} bytes of address space: {}", std::io::Error::last_os_error()));
        let mut base = reserve(hint, size).ok_or_else(oom)?;
        if base % PAGE != 0 {
            // SAFETY: the mapping just made.
            unsafe { libc::munmap(base as *mut _, size) };
            let room = size + PAGE;
            let r = reserve(0, room).ok_or_else(oom)?;
            base = r.next_multiple_of(PAGE);
            // SAFETY: the parts of our own mapping before and after the aligned range.
            unsafe {
                if base > r {
                    libc::munmap(r as *mut _, base - r);
                }
                if r + room > base + size {
                    libc::munmap((base + size) as *mut _, r + room - base - size);
                }
            }
        }
        let keep = Arc::new(Reservation { base, size, retired: Default::default() });
        let instance = context.instance;
        lock_write(&instance.memory.table).reserved.insert(base, Reserved { size, context: context.handle, keep });
        instance.live.virtual_reservations.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(pptr, base as *mut std::ffi::c_void) }
    }

    /// Frees a whole reservation (`ptr` its start, `size` its size): its mappings are unmapped
    /// (the physical memory objects stay).
    fn zeVirtualMemFree(hContext: ze_context_handle_t, ptr: *const std::ffi::c_void, size: usize) {
        let context: Arc<Context> = handles::get(hContext)?;
        let p = check_range(ptr, size, PAGE)?;
        let instance = context.instance;
        let mut t = lock_write(&instance.memory.table);
        let (base, r) = reservation_of(&t, &context, p, p + size)?;
        if base != p || r.size != size {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "[{p:#x}, {:#x}) is not a whole reservation (the reservation is [{base:#x}, {:#x})): level-zero-cpu frees whole reservations", p + size, r.end(base));
        }
        let maps: Vec<Allocation> = t.by_base.range(base..base + size).map(|(_, a)| a.clone()).collect();
        remove_mappings(instance, &mut t, &maps);
        t.reserved.remove(&base);
        drop(t);
        instance.live.virtual_reservations.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// 64 KiB, whatever the size.
    fn zeVirtualMemQueryPageSize(hContext: ze_context_handle_t, hDevice: ze_device_handle_t, size: usize, pagesize: *mut usize) {
        let context: Arc<Context> = handles::get(hContext)?;
        context.device(hDevice)?;
        if pagesize.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pagesize");
        }
        if size == 0 {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "size 0");
        }
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(pagesize, PAGE) }
    }

    /// Device memory (the default, `hDevice` required): a multiple of 64 KiB, charged to the
    /// device. Host memory (`ZE_PHYSICAL_MEM_FLAG_ALLOCATE_ON_HOST`): a multiple of 4 KiB.
    fn zePhysicalMemCreate(hContext: ze_context_handle_t, hDevice: ze_device_handle_t, desc: *mut ze_physical_mem_desc_t, phPhysicalMemory: *mut ze_physical_mem_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc.cast_const())? };
        // SAFETY: the descriptor's chain (caller's contract); no extension is implemented
        // (exporting physical memory as a file descriptor among them).
        unsafe { crate::chain::input(&desc, &[])? };
        if phPhysicalMemory.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phPhysicalMemory");
        }
        if desc.flags > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "physical memory flags {:#x}", desc.flags);
        }
        let host = desc.flags & ze_physical_mem_flag_t::ZE_PHYSICAL_MEM_FLAG_ALLOCATE_ON_HOST.0 != 0;
        if host && desc.flags & ze_physical_mem_flag_t::ZE_PHYSICAL_MEM_FLAG_ALLOCATE_ON_DEVICE.0 != 0 {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "physical memory flags {:#x}: ALLOCATE_ON_DEVICE and ALLOCATE_ON_HOST together", desc.flags);
        }
        let device = if host && hDevice.is_null() {
            None
        } else {
            Some(context.device(hDevice)?)
        };
        let page = if host { HOST_PAGE } else { PAGE };
        if desc.size == 0 {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "physical memory of 0 bytes");
        }
        if desc.size % page != 0 {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT, "size {} is not a multiple of the page size ({page} bytes{})", desc.size, if host { ", the system page for host memory" } else { ", zeVirtualMemQueryPageSize" });
        }
        let instance = context.instance;
        let arena = instance.memory.arena()?;
        let mut accounts = Vec::new();
        if !host && let Some(d) = device {
            d.check_alive()?;
            for (i, capacity) in d.memory_accounts() {
                if let Err(e) = instance.memory.charge(i, desc.size as u64, capacity) {
                    for &j in &accounts {
                        instance.memory.uncharge(j, desc.size as u64);
                    }
                    return Err(e);
                }
                accounts.push(i);
            }
        }
        let offset = match arena.take(desc.size as u64) {
            Ok(o) => o,
            Err(e) => {
                for &j in &accounts {
                    instance.memory.uncharge(j, desc.size as u64);
                }
                bail!(ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY, "the arena could not provide {} bytes: {e}", desc.size);
            }
        };
        let p = Arc::new(Physical {
            instance,
            id: instance.memory.new_id(),
            offset,
            len: desc.size,
            device: if host { None } else { device.map(|d| d.index) },
            page,
            context: context.handle,
            child: Child::of(&context),
            accounts,
        });
        let handle = handles::reserve_for::<Arc<Physical>>();
        handles::register(handle, Object::PhysicalMem(p));
        instance.live.physical_memory.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phPhysicalMemory, handles::raw(handle)) }
    }

    fn zePhysicalMemGetProperties(hContext: ze_context_handle_t, hPhysicalMem: ze_physical_mem_handle_t, pMemProperties: *mut ze_physical_mem_properties_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        let p = physical(&context, hPhysicalMem)?;
        let props = ze_physical_mem_properties_t { id: p.id, size: p.len as u64, ..Default::default() };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pMemProperties, props).map(drop) }
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while it is mapped (or a command
    /// running uses a mapping of it).
    fn zePhysicalMemDestroy(hContext: ze_context_handle_t, hPhysicalMemory: ze_physical_mem_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        let p = physical(&context, hPhysicalMemory)?;
        // The registry's reference and ours: any other is a mapping's.
        if Arc::strong_count(&p) > 2 {
            bail!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, "the physical memory object is still mapped (zeVirtualMemUnmap first), or a running command uses a mapping of it");
        }
        let p: Arc<Physical> = handles::take(hPhysicalMemory)?;
        p.child.release();
        p.instance.live.physical_memory.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// Maps `[offset, offset + size)` of the physical memory over `[ptr, ptr + size)`, which
    /// must lie in one reservation of the context and overlap no mapping. Addresses, sizes
    /// and offsets are aligned to the object's page size (64 KiB; 4 KiB for host memory).
    fn zeVirtualMemMap(
        hContext: ze_context_handle_t,
        ptr: *const std::ffi::c_void,
        size: usize,
        hPhysicalMemory: ze_physical_mem_handle_t,
        offset: usize,
        access: ze_memory_access_attribute_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let phys = physical(&context, hPhysicalMemory)?;
        let access = check_access(access)?;
        if ptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ptr");
        }
        if size == 0 {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "a mapping of 0 bytes");
        }
        let p = ptr as usize;
        let page = phys.page;
        if !p.is_multiple_of(page) || !size.is_multiple_of(page) || !offset.is_multiple_of(page) {
            bail!(ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT, "address {p:#x}, size {size} and offset {offset} must be multiples of the page size ({page} bytes)");
        }
        if offset.checked_add(size).is_none_or(|e| e > phys.len) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{size} bytes at offset {offset} overrun the physical memory object ({} bytes)", phys.len);
        }
        let end = p.checked_add(size).ok_or_else(|| ffi::fail(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT, "range wraps around"))?;
        let instance = context.instance;
        let arena = instance.memory.arena()?;
        let mut t = lock_write(&instance.memory.table);
        let (base, r) = reservation_of(&t, &context, p, end)?;
        if let Some((&b, a)) = t.by_base.range(..end).next_back()
            && b + a.size > p
        {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "[{p:#x}, {end:#x}) overlaps the mapping [{b:#x}, {:#x}): unmap it first", b + a.size);
        }
        // A mapping unmapped while a command still runs on it holds its pages until the
        // command ends (then puts the reservation back): mapping over them now would be undone.
        {
            let mut retired = crate::sync::lock(&r.keep.retired);
            retired.retain(|w| w.strong_count() > 0);
            if let Some(b) = retired.iter().filter_map(|w| w.upgrade()).find(|b| b.addr() < end && b.addr() + b.len() > p) {
                bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "[{p:#x}, {end:#x}) overlaps the mapping [{:#x}, {:#x}), unmapped while a command still runs on it: wait for that command", b.addr(), b.addr() + b.len());
            }
        }
        arena.map(phys.offset + offset as u64, size, Some(p), page).map_err(|e| ffi::fail(ze_result_t::ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY, e))?;
        if access != ACCESS_READWRITE {
            // SAFETY: the pages just mapped, in our reservation.
            unsafe { libc::mprotect(p as *mut _, size, prot(access)) };
        }
        let block = Block::vm(p, size, r.keep.clone(), phys.clone(), access);
        t.by_base.insert(p, Allocation {
            size,
            kind: if phys.device.is_some() { Kind::Device } else { Kind::Host },
            device: phys.device,
            context: context.handle,
            id: phys.id,
            block: Arc::new(block),
            origin: Origin::Mapped(base),
        });
        drop(t);
        instance.live.virtual_mappings.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Unmaps whole mappings: `[ptr, ptr + size)` must be made of them exactly. The pages
    /// become inaccessible (`ZE_MEMORY_ACCESS_ATTRIBUTE_NONE`) again.
    fn zeVirtualMemUnmap(hContext: ze_context_handle_t, ptr: *const std::ffi::c_void, size: usize) {
        let context: Arc<Context> = handles::get(hContext)?;
        let p = check_range(ptr, size, HOST_PAGE)?;
        let instance = context.instance;
        let mut t = lock_write(&instance.memory.table);
        reservation_of(&t, &context, p, p + size)?;
        let maps = whole_mappings(&t, p, p + size, "unmap")?;
        remove_mappings(instance, &mut t, &maps);
        Ok(())
    }

    /// Sets the access attribute of whole mappings (see the module documentation).
    fn zeVirtualMemSetAccessAttribute(hContext: ze_context_handle_t, ptr: *const std::ffi::c_void, size: usize, access: ze_memory_access_attribute_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        let access = check_access(access)?;
        let p = check_range(ptr, size, HOST_PAGE)?;
        let instance = context.instance;
        let mut pause = std::time::Duration::from_micros(50);
        loop {
            let t = lock_write(&instance.memory.table);
            reservation_of(&t, &context, p, p + size)?;
            let maps = whole_mappings(&t, p, p + size, "set the access attribute of")?;
            // From now on, commands that check these mappings see the new attribute.
            for a in &maps {
                a.block.access.store(access, Ordering::SeqCst);
            }
            // The table's reference and `maps`' clone: any other is a running command's (or
            // a launch's), which checked the old attribute. Wait for it before protecting.
            if maps.iter().all(|a| Arc::strong_count(&a.block) <= 2) {
                for a in &maps {
                    // SAFETY: a mapping of ours, in our reservation; no command uses it.
                    unsafe { libc::mprotect(a.base() as *mut _, a.size, prot(access)) };
                }
                return Ok(());
            }
            drop(maps);
            drop(t);
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(2));
        }
    }

    /// The attribute at `ptr`, and how many bytes from `ptr` (up to `size`) share it;
    /// unmapped pages of a reservation are `ZE_MEMORY_ACCESS_ATTRIBUTE_NONE`.
    fn zeVirtualMemGetAccessAttribute(hContext: ze_context_handle_t, ptr: *const std::ffi::c_void, size: usize, access: *mut ze_memory_access_attribute_t, outSize: *mut usize) {
        let context: Arc<Context> = handles::get(hContext)?;
        if access.is_null() || outSize.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null access or outSize");
        }
        let p = check_range(ptr, size, HOST_PAGE)?;
        let end = p + size;
        let t = lock_read(&context.instance.memory.table);
        let (base, r) = reservation_of(&t, &context, p, p)?;
        let end = end.min(r.end(base));
        let segment = |at: usize| -> (usize, u8) {
            match t.by_base.range(..=at).next_back() {
                Some((&b, a)) if at < b + a.size => (b + a.size, a.block.access.load(Ordering::SeqCst)),
                _ => {
                    let next = t.by_base.range(at..).next().map_or(usize::MAX, |(&b, _)| b);
                    (next, ACCESS_NONE)
                }
            }
        };
        let first = segment(p).1;
        let mut at = p;
        while at < end {
            let (seg_end, a) = segment(at);
            if a != first {
                break;
            }
            at = seg_end;
        }
        drop(t);
        let value = ze_memory_access_attribute_t(u32::from(first));
        // SAFETY: checked non-null; the caller's outputs.
        unsafe {
            ffi::write(access, value)?;
            ffi::write(outSize, at.min(end) - p)
        }
    }
}
