//! The device-side sanitizer and every raw memory access of the engine.
//!
//! This is the only module with `unsafe` code. Kernels hold device addresses, which are host
//! addresses in this driver. Before any byte is read or written, [`Memory::check`] proves that
//! the whole access lies inside memory the launch may touch:
//!
//! - global and constant accesses: an allocation returned by the driver's [`MemoryMap`], or a
//!   program-scope variable owned by the [`Program`](crate::Program);
//! - local accesses: this work-group's local-memory arena;
//! - private accesses: the work-item's own slice of the private arena.
//!
//! Only a successful check yields a [`Checked`] token, and only a token lets the functions
//! of this module touch memory. The token cannot be forged outside this module (its fields
//! are private), so every raw access in the engine goes through the sanitizer.
//!
//! The soundness of global accesses rests on the contract of [`MemoryMap`]: every range it
//! reports is memory that the kernel may read and write for the whole launch (the driver's
//! allocations stay alive until the launch returns). The engine accesses it through raw
//! pointers, never through Rust references, so no Rust aliasing rules are involved.
//!
//! Work-groups run on several threads at once, and kernels may race on memory as they may on
//! a GPU (a plain read before a compare-exchange loop, a flag polled while another work-group
//! sets it, stores where the last writer wins). So that such a kernel is not a data race in
//! Rust's memory model, every naturally aligned load or store of 1, 2, 4 or 8 bytes is a
//! relaxed atomic access of exactly that size (a plain move on x86-64 and AArch64), like the
//! atomic instructions' own accesses. What Rust's model cannot express without locks stays
//! undefined if a kernel does it: racing accesses to the same bytes that differ in size or
//! are unaligned, and racing copies longer than 8 bytes (Miri's data-race detector reports
//! the first kind of race as "mixed-size", the others as data races).

use crate::MemoryMap;
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};

/// Alignment of every arena: enough for any OpenCL type (`long16`/`double16` align to 128).
const ARENA_ALIGN: usize = 128;

/// A zero-initialised heap buffer addressed through raw pointers only (program-scope
/// variables, local and private arenas). Its address is stable for its lifetime.
pub(crate) struct RawBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a RawBuf is plain owned heap memory; it is only read or written through the
// checked raw accesses of this module, which are allowed to race like device memory does.
unsafe impl Send for RawBuf {}
// SAFETY: as above; `&RawBuf` only exposes the address and length.
unsafe impl Sync for RawBuf {}

impl RawBuf {
    /// A zeroed buffer of `len` bytes (at least one byte is allocated).
    pub(crate) fn zeroed(len: usize) -> RawBuf {
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size (`max(1)`) and a valid power-of-two alignment.
        let raw = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        RawBuf { ptr, len }
    }

    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len.max(1), ARENA_ALIGN).expect("arena size fits in isize")
    }

    /// Its address.
    pub(crate) fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Copies `bytes` to offset `at` (initialisation by the engine itself, not by a kernel).
    pub(crate) fn write_at(&self, at: usize, bytes: &[u8]) {
        assert!(
            at <= self.len && bytes.len() <= self.len - at,
            "RawBuf::write_at out of range"
        );
        // SAFETY: the range [at, at + len) is inside this allocation (asserted above); the
        // source is a distinct Rust slice, so the ranges cannot overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.as_ptr().add(at), bytes.len())
        }
    }

    /// Zeroes the whole buffer.
    pub(crate) fn clear(&self) {
        // SAFETY: writes exactly the `len` bytes this buffer owns.
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr(), 0, self.len) }
    }
}

impl Drop for RawBuf {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc_zeroed` with this same layout and is freed once.
        unsafe { dealloc(self.ptr.as_ptr(), Self::layout(self.len)) }
    }
}

/// The address spaces a pointer can point into, as far as the checker cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Space {
    /// `__global` / `__constant`: the driver's allocations and the program's variables.
    Global,
    /// `__local`: the work-group's arena.
    Local,
    /// `__private`: the work-item's slice of the private arena.
    Private,
    /// A generic pointer: any of the above.
    Generic,
}

/// An access that the sanitizer refused.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fault {
    pub(crate) address: u64,
    pub(crate) size: u64,
    /// A write into memory the map reports read-only ([`MemoryMap::writable`]).
    pub(crate) read_only: bool,
}

/// A memory range proven accessible by [`Memory::check`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked {
    addr: u64,
    len: u64,
}

/// A range proven accessible (an allocation or an arena): accesses inside it need no
/// further lookup.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    lo: u64,
    hi: u64,
}

impl Span {
    /// Its bounds `[lo, hi)` (empty when `lo > hi`), for the JIT's inline checks.
    pub(crate) fn bounds(self) -> (u64, u64) {
        (self.lo, self.hi)
    }

    /// The access `[addr, addr + len)` if it lies inside the span.
    #[inline(always)]
    pub(crate) fn get(self, addr: u64, len: u64) -> Option<Checked> {
        if addr >= self.lo && addr < self.hi && len <= self.hi - addr {
            Some(Checked { addr, len })
        } else {
            None
        }
    }
}

impl Checked {
    /// The sub-range `[off, off + len)` of a checked range.
    #[inline]
    pub(crate) fn part(self, off: u64, len: u64) -> Checked {
        assert!(
            off <= self.len && len <= self.len - off,
            "Checked::part out of range"
        );
        Checked {
            addr: self.addr + off,
            len,
        }
    }
}

/// The ranges one executor (one worker thread of a launch) may touch, with a per-instruction
/// cache of the last global allocation found.
pub(crate) struct Memory<'a> {
    map: &'a dyn MemoryMap,
    /// Program-scope variables: (start, end).
    globals: &'a [(u64, u64)],
    local: (u64, u64),
    private_base: u64,
    private_size: u64,
    /// Per access site: the last global allocation that satisfied it, as (start, end).
    cache: Vec<(u64, u64)>,
    /// Per access site: whether that allocation is writable.
    writable: Vec<bool>,
}

/// What a global lookup found.
enum Found {
    Yes,
    No,
    /// Memory of the map, but not writable, for a write.
    ReadOnly,
}

#[inline]
fn within(r: (u64, u64), addr: u64, end: u64) -> bool {
    addr >= r.0 && end <= r.1
}

impl<'a> Memory<'a> {
    pub(crate) fn new(
        map: &'a dyn MemoryMap,
        globals: &'a [(u64, u64)],
        local: &RawBuf,
        private: &RawBuf,
        private_size: u64,
        sites: usize,
    ) -> Memory<'a> {
        Memory {
            map,
            globals,
            local: (local.addr(), local.addr() + local.len() as u64),
            private_base: private.addr(),
            private_size,
            cache: vec![(1, 0); sites],
            writable: vec![true; sites],
        }
    }

    /// Checks a read of `len` bytes at `addr` by work-item `lane`, from access site `site`.
    #[inline(always)]
    pub(crate) fn check(
        &mut self,
        space: Space,
        addr: u64,
        len: u64,
        lane: usize,
        site: usize,
    ) -> Result<Checked, Fault> {
        self.check_access(space, addr, len, lane, site, false)
    }

    /// Checks a write (or read-modify-write) of `len` bytes at `addr`: as [`Memory::check`],
    /// and the memory must be writable.
    #[inline(always)]
    pub(crate) fn check_write(
        &mut self,
        space: Space,
        addr: u64,
        len: u64,
        lane: usize,
        site: usize,
    ) -> Result<Checked, Fault> {
        self.check_access(space, addr, len, lane, site, true)
    }

    #[inline(always)]
    fn check_access(
        &mut self,
        space: Space,
        addr: u64,
        len: u64,
        lane: usize,
        site: usize,
        write: bool,
    ) -> Result<Checked, Fault> {
        let mut fault = Fault {
            address: addr,
            size: len,
            read_only: false,
        };
        let end = addr.checked_add(len).ok_or(fault)?;
        let mut global = |m: &mut Self| match m.check_global(addr, end, site, write) {
            Found::Yes => true,
            Found::No => false,
            Found::ReadOnly => {
                fault.read_only = true;
                false
            }
        };
        let ok = match space {
            Space::Global => global(self),
            Space::Local => within(self.local, addr, end),
            Space::Private => within(self.private_range(lane), addr, end),
            Space::Generic => {
                within(self.local, addr, end)
                    || within(self.private_range(lane), addr, end)
                    || global(self)
            }
        };
        if ok && len > 0 {
            Ok(Checked { addr, len })
        } else {
            Err(fault)
        }
    }

    /// The region an access from `site` most likely falls in (global: the allocation the
    /// site last hit; local: the work-group's arena; private: none, it differs per lane).
    /// Accesses inside it need no further lookup.
    #[inline(always)]
    pub(crate) fn hint(&self, space: Space, site: usize) -> Span {
        let (lo, hi) = match space {
            Space::Global => self.cache.get(site).copied().unwrap_or((1, 0)),
            Space::Local => self.local,
            Space::Private | Space::Generic => (1, 0),
        };
        Span { lo, hi }
    }

    /// [`Memory::hint`] for writes: nothing when the site's allocation is read-only.
    #[inline(always)]
    pub(crate) fn hint_write(&self, space: Space, site: usize) -> Span {
        let (lo, hi) = match space {
            Space::Global if self.writable.get(site).copied().unwrap_or(true) => {
                self.cache.get(site).copied().unwrap_or((1, 0))
            }
            Space::Global => (1, 0),
            Space::Local => self.local,
            Space::Private | Space::Generic => (1, 0),
        };
        Span { lo, hi }
    }

    fn private_range(&self, lane: usize) -> (u64, u64) {
        let start = self.private_base + lane as u64 * self.private_size;
        (start, start + self.private_size)
    }

    #[inline]
    fn check_global(&mut self, addr: u64, end: u64, site: usize, write: bool) -> Found {
        if let Some(&c) = self.cache.get(site)
            && within(c, addr, end)
            && (!write || self.writable.get(site).copied().unwrap_or(true))
        {
            return Found::Yes;
        }
        self.check_global_slow(addr, end, site, write)
    }

    #[cold]
    fn check_global_slow(&mut self, addr: u64, end: u64, site: usize, write: bool) -> Found {
        let found = match self.map.find(addr) {
            Some((base, size)) => Some((base, base.saturating_add(size), self.map.writable(addr))),
            None => self
                .globals
                .iter()
                .copied()
                .find(|g| addr >= g.0 && addr < g.1)
                .map(|g| (g.0, g.1, true)),
        };
        match found {
            Some((lo, hi, writable)) if within((lo, hi), addr, end) => {
                if let Some(c) = self.cache.get_mut(site) {
                    *c = (lo, hi);
                }
                if let Some(w) = self.writable.get_mut(site) {
                    *w = writable;
                }
                if write && !writable {
                    Found::ReadOnly
                } else {
                    Found::Yes
                }
            }
            _ => Found::No,
        }
    }
}

/// Loads `N` (1, 2, 4 or 8) bytes at `p`, little endian: one relaxed atomic load of exactly
/// `N` bytes when `p` is `N`-aligned, a plain unaligned load otherwise (module docs).
///
/// # Safety
///
/// `[p, p + N)` must be memory the launch may read: a range proven by a [`Checked`].
#[inline(always)]
unsafe fn load<const N: usize>(p: *mut u8) -> u64 {
    const R: Ordering = Ordering::Relaxed;
    if !(p as usize).is_multiple_of(N) {
        // SAFETY: the caller's guarantee.
        return unsafe { load_unaligned::<N>(p) };
    }
    // SAFETY: the caller guarantees the N bytes are accessible (kernel-accessible memory is
    // readable and writable for the whole launch: the `MemoryMap` contract, or the engine's
    // own arenas); `p` is N-aligned (checked above), the alignment of Rust's N-byte atomic
    // integers; the engine accesses aligned N-byte locations only atomically, so a kernel
    // racing on them races with atomic accesses of the same size.
    unsafe {
        match N {
            1 => u64::from(AtomicU8::from_ptr(p).load(R)),
            2 => u64::from(AtomicU16::from_ptr(p.cast()).load(R)),
            4 => u64::from(AtomicU32::from_ptr(p.cast()).load(R)),
            _ => AtomicU64::from_ptr(p.cast()).load(R),
        }
    }
}

/// [`load`] at an address that is not `N`-aligned (rare: out of line).
///
/// # Safety
///
/// As for [`load`].
#[cold]
#[inline(never)]
unsafe fn load_unaligned<const N: usize>(p: *mut u8) -> u64 {
    // SAFETY: the caller guarantees the N bytes are accessible; unaligned reads of plain
    // integers are valid for any bit pattern.
    unsafe {
        match N {
            1 => u64::from(p.read()),
            2 => u64::from(p.cast::<u16>().read_unaligned()),
            4 => u64::from(p.cast::<u32>().read_unaligned()),
            _ => p.cast::<u64>().read_unaligned(),
        }
    }
}

/// Stores the low `N` (1, 2, 4 or 8) bytes of `v` at `p`, little endian: one relaxed atomic
/// store of exactly `N` bytes when `p` is `N`-aligned, a plain unaligned store otherwise.
///
/// # Safety
///
/// `[p, p + N)` must be memory the launch may write: a range proven by a [`Checked`].
#[inline(always)]
unsafe fn store<const N: usize>(p: *mut u8, v: u64) {
    const R: Ordering = Ordering::Relaxed;
    if !(p as usize).is_multiple_of(N) {
        // SAFETY: the caller's guarantee.
        return unsafe { store_unaligned::<N>(p, v) };
    }
    // SAFETY: as in `load`: accessible, N-aligned, and accessed only atomically at this size.
    unsafe {
        match N {
            1 => AtomicU8::from_ptr(p).store(v as u8, R),
            2 => AtomicU16::from_ptr(p.cast()).store(v as u16, R),
            4 => AtomicU32::from_ptr(p.cast()).store(v as u32, R),
            _ => AtomicU64::from_ptr(p.cast()).store(v, R),
        }
    }
}

/// [`store`] at an address that is not `N`-aligned (rare: out of line).
///
/// # Safety
///
/// As for [`store`].
#[cold]
#[inline(never)]
unsafe fn store_unaligned<const N: usize>(p: *mut u8, v: u64) {
    // SAFETY: the caller guarantees the N bytes are writable.
    unsafe {
        match N {
            1 => p.write(v as u8),
            2 => p.cast::<u16>().write_unaligned(v as u16),
            4 => p.cast::<u32>().write_unaligned(v as u32),
            _ => p.cast::<u64>().write_unaligned(v),
        }
    }
}

/// Reads a little-endian scalar of `c.len` bytes (1, 2, 4 or 8; other lengths read their
/// first bytes, at most 8, with a plain copy).
#[inline]
pub(crate) fn read(c: Checked) -> u64 {
    let p = c.addr as *mut u8;
    // SAFETY: `c` proves [addr, addr+len) lies in memory the launch may access (module
    // docs), and each arm reads at most `len` bytes.
    unsafe {
        match c.len {
            1 => load::<1>(p),
            2 => load::<2>(p),
            4 => load::<4>(p),
            8 => load::<8>(p),
            _ => {
                let mut b = [0u8; 8];
                std::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), (c.len as usize).min(8));
                u64::from_le_bytes(b)
            }
        }
    }
}

/// Reads a little-endian scalar of `N` (1, 2, 4 or 8) bytes; `c.len` must be at least `N`.
#[inline(always)]
pub(crate) fn read_n<const N: usize>(c: Checked) -> u64 {
    assert!(c.len >= N as u64 && matches!(N, 1 | 2 | 4 | 8));
    // SAFETY: `c` proves [addr, addr+len) with len >= N lies in memory the launch may
    // access (module docs).
    unsafe { load::<N>(c.addr as *mut u8) }
}

/// Writes the low `N` (1, 2, 4 or 8) bytes of `v`; `c.len` must be at least `N`.
#[inline(always)]
pub(crate) fn write_n<const N: usize>(c: Checked, v: u64) {
    assert!(c.len >= N as u64 && matches!(N, 1 | 2 | 4 | 8));
    // SAFETY: `c` proves [addr, addr+len) with len >= N lies in memory the launch may
    // write (module docs).
    unsafe { store::<N>(c.addr as *mut u8, v) }
}

/// Writes the low `c.len` bytes of `v`, little endian (1, 2, 4 or 8; other lengths write
/// their first bytes, at most 8, with a plain copy).
#[inline]
pub(crate) fn write(c: Checked, v: u64) {
    let p = c.addr as *mut u8;
    // SAFETY: `c` proves [addr, addr+len) lies in memory the launch may write (module docs),
    // and each arm writes at most `len` bytes.
    unsafe {
        match c.len {
            1 => store::<1>(p, v),
            2 => store::<2>(p, v),
            4 => store::<4>(p, v),
            8 => store::<8>(p, v),
            _ => {
                let b = v.to_le_bytes();
                std::ptr::copy_nonoverlapping(b.as_ptr(), p, (c.len as usize).min(8));
            }
        }
    }
}

/// Copies `min(dst.len, src.len)` bytes from `src` to `dst` (the ranges may overlap, like
/// `memmove`). A copy of 1, 2, 4 or 8 bytes (one element of an asynchronous copy, a scalar
/// `OpCopyMemory`) is a load and a store of that size, atomic where aligned; longer copies
/// are plain copies.
pub(crate) fn copy(dst: Checked, src: Checked) {
    let n = dst.len.min(src.len) as usize;
    let (d, s) = (dst.addr as *mut u8, src.addr as *mut u8);
    // SAFETY: both ranges were checked for at least `n` bytes; every arm reads `n` bytes of
    // `src` before writing `n` bytes of `dst`, and `ptr::copy` allows overlap.
    unsafe {
        match n {
            1 => store::<1>(d, load::<1>(s)),
            2 => store::<2>(d, load::<2>(s)),
            4 => store::<4>(d, load::<4>(s)),
            8 => store::<8>(d, load::<8>(s)),
            _ => std::ptr::copy(s.cast_const(), d, n),
        }
    }
}

/// An atomic read-modify-write operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtomicOp {
    Load,
    Store,
    Exchange,
    CompareExchange,
    Add,
    Sub,
    SMin,
    UMin,
    SMax,
    UMax,
    And,
    Or,
    Xor,
    /// Float add, min and max (`AtomicFloat*EXT`) on the location's float (4 bytes: `f32`,
    /// 8: `f64`): a compare-and-swap loop.
    FAdd,
    FMin,
    FMax,
}

/// Performs a real host atomic on a 4- or 8-byte location and returns the old value.
/// `Err(())` when the location is not naturally aligned.
#[allow(clippy::result_unit_err)]
pub(crate) fn atomic(c: Checked, op: AtomicOp, v: u64, cmp: u64) -> Result<u64, ()> {
    if c.len == 4 && c.addr.is_multiple_of(4) {
        // SAFETY: `c` proves the 4 bytes are accessible memory, the address is 4-aligned
        // (checked just above), and every access to it that may be concurrent is either
        // atomic or a kernel-level data race that the device memory model allows.
        let a = unsafe { AtomicU32::from_ptr(c.addr as *mut u32) };
        Ok(u64::from(atomic32(a, op, v as u32, cmp as u32)))
    } else if c.len == 8 && c.addr.is_multiple_of(8) {
        // SAFETY: as above, for 8 aligned bytes.
        let a = unsafe { AtomicU64::from_ptr(c.addr as *mut u64) };
        Ok(atomic64(a, op, v, cmp))
    } else {
        Err(())
    }
}

macro_rules! atomic_impl {
    ($name:ident, $at:ty, $t:ty, $s:ty, $f:ty) => {
        fn $name(a: &$at, op: AtomicOp, v: $t, cmp: $t) -> $t {
            const O: Ordering = Ordering::SeqCst;
            match op {
                AtomicOp::Load => a.load(O),
                AtomicOp::Store => {
                    a.store(v, O);
                    0
                }
                AtomicOp::Exchange => a.swap(v, O),
                AtomicOp::CompareExchange => match a.compare_exchange(cmp, v, O, O) {
                    Ok(old) | Err(old) => old,
                },
                AtomicOp::Add => a.fetch_add(v, O),
                AtomicOp::Sub => a.fetch_sub(v, O),
                AtomicOp::UMin => a.fetch_min(v, O),
                AtomicOp::UMax => a.fetch_max(v, O),
                AtomicOp::SMin => a
                    .fetch_update(O, O, |x| Some((x as $s).min(v as $s) as $t))
                    .unwrap_or_else(|x| x),
                AtomicOp::SMax => a
                    .fetch_update(O, O, |x| Some((x as $s).max(v as $s) as $t))
                    .unwrap_or_else(|x| x),
                AtomicOp::And => a.fetch_and(v, O),
                AtomicOp::Or => a.fetch_or(v, O),
                AtomicOp::Xor => a.fetch_xor(v, O),
                AtomicOp::FAdd | AtomicOp::FMin | AtomicOp::FMax => {
                    let f = <$f>::from_bits(v);
                    a.fetch_update(O, O, |x| {
                        let x = <$f>::from_bits(x);
                        Some(
                            match op {
                                AtomicOp::FAdd => x + f,
                                // IEEE minNum/maxNum, like OpenCL's fmin/fmax: a NaN operand
                                // gives the other one.
                                AtomicOp::FMin => x.min(f),
                                _ => x.max(f),
                            }
                            .to_bits(),
                        )
                    })
                    .unwrap_or_else(|x| x)
                }
            }
        }
    };
}
atomic_impl!(atomic32, AtomicU32, u32, i32, f32);
atomic_impl!(atomic64, AtomicU64, u64, i64, f64);
