//! A caching device allocator, in the manner of PyTorch's CUDA and XPU caching allocators.
//!
//! `zeMemAllocDevice` and `zeMemFree` are driver calls (on a GPU, often a system call and a
//! page-table update each). A framework that makes and drops thousands of tensors per
//! training step wants them out of the loop: a [`CachingAllocator`] asks the driver for
//! large *segments*, hands out *blocks* carved from them as ordinary [`DeviceBuffer`]s, and
//! keeps the blocks that come back for the next request instead of freeing them.
//!
//! # Pools, rounding, splitting and coalescing
//!
//! - Every request is rounded up to a multiple of 512 bytes (`round_bytes`); blocks are
//!   512-byte aligned ([`CachingAllocator::ALIGNMENT`]).
//! - Requests of at most 1 MiB (`small_size`) are served by the **small pool**, from
//!   segments of 2 MiB (`small_segment`); larger ones by the **large pool**, from segments of
//!   20 MiB (`large_segment`) for requests below 10 MiB (`min_large_alloc`), and of the
//!   request rounded up to 2 MiB (`round_large`) from 10 MiB on. This is the sizing the
//!   PyTorch allocator is documented to use.
//! - A request takes the smallest free block of its pool that is large enough (best fit; on
//!   equal sizes the lowest address). If the block is larger than needed it is **split**: the
//!   rest stays a free block when it is at least 512 bytes in the small pool, or more than
//!   1 MiB in the large pool (so the large pool never holds small pieces); otherwise the
//!   request keeps the whole block.
//! - A block coming back is **coalesced** with its free neighbours of the same segment
//!   (never across segments: they are separate driver allocations).
//! - Blocks of `max_split_size` bytes or more (unlimited by default, as in PyTorch) are
//!   *oversize*: a request below the limit never takes one, a request at or above it is never
//!   split, and takes a cached oversize block only if that block is less than
//!   `large_segment` bytes larger than the request. This keeps large blocks whole, at the
//!   price of more segments.
//!
//! # When a block is reused: after its device uses completed
//!
//! A block is a [`DeviceBuffer`] like any other (there is no second buffer type): every
//! command that uses it holds a reference to its allocation until the command's list or
//! queue has *seen* it complete (a host synchronisation of the immediate list, or the
//! fence / queue synchronisation of the execution), and a regular list holds the references
//! of the commands it recorded while it may be executed again. The block goes back to its
//! pool only when the *last* reference goes. So **a block is handed out again — to any list
//! or queue of the context — only once every device use of it has been seen complete**; no
//! command still in flight can read or write a block that someone else now owns, and the
//! allocator needs no per-stream bookkeeping (PyTorch's `record_stream`) and never
//! synchronises the device.
//!
//! The consequence: memory of a buffer dropped while a command still uses it is *not*
//! reusable until the list or queue that runs the command is synchronised (or, for a queue,
//! a later poll sees the fence signalled). Until then the block counts as allocated
//! (`allocated_bytes`), and a request that needs the memory takes a new segment — or, when
//! the driver has no more, fails with [`Error::OutOfDeviceMemory`]. To get the memory back,
//! synchronise the lists and queues that used the dropped buffers
//! ([`ImmediateCommandList::synchronize`], [`crate::CommandQueue::synchronize`]), drop or
//! reset regular lists that recorded them, then (to return it to the driver)
//! [`CachingAllocator::empty_cache`].
//!
//! # Segments and the driver
//!
//! Segments are `zeMemAllocDevice` allocations made by the allocator, counted in the crate's
//! accounting ([`crate::stats`]) as device memory: `Device::allocation_stats().device.bytes`
//! includes the allocator's *reserved* bytes (its blocks are not counted a second time).
//! They go back to the driver (`zeMemFree`) through [`CachingAllocator::empty_cache`] (the
//! segments whose blocks are all free), on out-of-memory (see below), and when the last
//! clone of the allocator *and* the last of its blocks are gone (every block holds the
//! allocator).
//!
//! # Expandable segments
//!
//! With `expandable_segments` ([`AllocatorConfig::expandable_segments`],
//! `LEVEL_ZERO_ALLOC_CONF=expandable_segments:True`; PyTorch's option of the same name) each
//! pool has **one segment**: at creation the allocator reserves a range of virtual
//! addresses per pool (`zeVirtualMemReserve`; twice the device's memory unless
//! `expandable_reserve_mb` says otherwise — addresses cost no memory) and maps physical
//! memory into it in *chunks* (`zePhysicalMemCreate` + `zeVirtualMemMap`; 2 MiB by default,
//! `expandable_chunk_kb`, never below the driver's page size) as requests need it:
//!
//! - **Growth.** A request no free block fits maps new chunks into an unmapped run of the
//!   range — the tail, or a hole left by `empty_cache` — choosing the run where, counting the
//!   free blocks just before and after it, the fewest new chunks are needed. The new chunks
//!   become a free block merged with those neighbours, and the request is carved from it as
//!   usual. So a freed block at the end of the segment *grows in place* into a larger
//!   request, where driver segments would need a new, separately placed one; and blocks of
//!   one pool are all neighbours, so frees coalesce across what would have been separate
//!   segments. Blocks never span an unmapped chunk.
//! - **Release.** [`CachingAllocator::empty_cache`] (and the out-of-memory path) unmaps and
//!   destroys every chunk that lies entirely in a free block — at the end or in the middle;
//!   the parts of free blocks in partly used chunks stay mapped. The reservations themselves
//!   are kept until the allocator goes.
//! - **Blocks** are [`DeviceBuffer`]s adopted over the mapped addresses exactly as blocks of
//!   driver segments are, and come back under the same rule (once every command using them
//!   was seen complete). Each block's allocation also holds the mappings of the chunks under
//!   it, so pages are never unmapped under a live block, whatever happens to the cache.
//!   Each block handed out is a new allocation with its own hazard marks: the memory is
//!   only handed out again once its previous allocation is gone, so no command of that
//!   allocation is in flight and there is nothing to order against.
//! - **Statistics.** `reserved_bytes` counts the *mapped* physical memory (what the device
//!   gives up), `virtual_bytes` the reserved addresses; `segment` counts the two expandable
//!   segments; `num_device_alloc` / `num_device_free` count chunks mapped and unmapped. The
//!   [snapshot](CachingAllocator::memory_snapshot) lists each mapped extent (run of chunks)
//!   as a segment with `expandable: true` and its reservation.
//! - **Requirements.** The driver's virtual memory functions: without them
//!   [`CachingAllocator::new`] fails with [`Error::MissingFunction`] naming the first one
//!   missing (and a driver that refuses the reservation fails there too) — there is no
//!   silent fallback to driver segments. Caching must be on, and `max_split_size` is refused
//!   with it (the blocks of one growing segment merge past any size limit).
//! - A request for which the reservation has no unmapped room left is an out-of-memory
//!   error like the driver's (retried once after the cache is given back).
//!
//! # Out of memory
//!
//! When the driver answers a segment allocation with `ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY`,
//! the allocator gives every cached free segment back (`zeMemFree`) and tries once more;
//! if that fails too, the request fails with [`Error::OutOfDeviceMemory`], which says how
//! much is allocated, reserved and cached (and [`Error::is_out_of_device_memory`] is true of
//! it). `num_alloc_retries` and `num_ooms` count both.
//!
//! # Configuration and environment
//!
//! [`AllocatorConfig`], read by [`CachingAllocator::new`] from the environment:
//!
//! - `LEVEL_ZERO_NO_MEMORY_CACHING=1` turns caching off (like PyTorch's
//!   `PYTORCH_NO_CUDA_MEMORY_CACHING`): each request is its own `zeMemAllocDevice` of the
//!   rounded size, freed with `zeMemFree` as soon as its block comes back. Statistics are
//!   still kept. `0` (or unset) leaves caching on; any other value is an error.
//! - `LEVEL_ZERO_ALLOC_CONF=key:value,key:value` (like `PYTORCH_CUDA_ALLOC_CONF`), keys:
//!   `max_split_size_mb` (an integer ≥ 20, or `none`), `caching` (`0`/`1`, `false`/`true`),
//!   `round_bytes` (a power of two from 512 to 1 MiB), `small_segment_mb`,
//!   `large_segment_mb`, `min_large_alloc_mb`, `round_large_mb` (positive integers),
//!   `expandable_segments` (`True`/`False`), `expandable_reserve_mb`, `expandable_chunk_kb`. An
//!   unknown key, a malformed or out-of-range value is an [`Error::InvalidArgument`] naming
//!   it — never ignored. See [`AllocatorConfig::parse`].
//!
//! # Statistics
//!
//! [`CachingAllocator::stats`] gives what `torch.xpu.memory_stats()` gives (see
//! [`AllocatorStats`]); [`CachingAllocator::memory_snapshot`] the segments and blocks,
//! serialisable to JSON ([`MemorySnapshot::to_json`]).
//!
//! # Example
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::alloc::{AllocatorConfig, CachingAllocator};
//! use level_zero::ImmediateCommandList;
//! let alloc = CachingAllocator::with_config(&ctx, device, AllocatorConfig::default())?;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let a = alloc.alloc::<f32>(1000)?;              // one 2 MiB segment, a 4 KiB block
//! list.fill(&a, 1.0f32)?;
//! let addr = a.as_raw();
//! drop(a);                                         // the fill still holds the block
//! list.synchronize()?;                             // now it is back in the pool
//! let b = alloc.upload(&mut list, &[2.0f32; 1000])?;
//! assert_eq!(b.as_raw(), addr);                    // the same block, no driver call
//! let s = alloc.stats();
//! assert_eq!((s.num_device_alloc, s.num_cache_hits), (1, 1));
//! assert_eq!(s.reserved_bytes.all.current, 2 << 20);
//! drop(b);
//! alloc.empty_cache()?;                            // zeMemFree of the empty segment
//! assert_eq!(alloc.stats().reserved_bytes.all.current, 0);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::c_void;
use std::sync::{Arc, Mutex, MutexGuard};

use bytemuck::Pod;
use serde::Serialize;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ResultCode};
use crate::list::ImmediateCommandList;
use crate::memory::{AllocOptions, Allocation, AllocationKind, DeviceBuffer, Owner};
use crate::virtual_memory::{PageAccess, PhysicalMemory, VirtualRange, page_size};
use level_zero_sys::ze_result_t;

const MIB: u64 = 1 << 20;

/// Whether growing failed for lack of memory: the driver's, or an expandable segment's
/// addresses (see [`Inner::extend`]).
fn out_of_memory(e: &Error) -> bool {
    e.is_out_of_device_memory()
}

/// Environment variable that turns caching off when `1`.
pub const NO_CACHING_ENV: &str = "LEVEL_ZERO_NO_MEMORY_CACHING";
/// Environment variable with `key:value,...` settings (see [`AllocatorConfig::parse`]).
pub const CONF_ENV: &str = "LEVEL_ZERO_ALLOC_CONF";

/// How a [`CachingAllocator`] behaves. `Default` is PyTorch's documented behaviour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AllocatorConfig {
    /// Whether freed blocks are kept for reuse (`true`, the default). `false`: every
    /// request is its own driver allocation, freed as soon as the block comes back.
    pub caching: bool,
    /// Blocks of this many bytes or more are never split, and requests below it never take
    /// them (see the [module documentation](self)). `None` (the default): no limit.
    pub max_split_size: Option<u64>,
    /// Requests are rounded up to a multiple of this (a power of two, 512 to 1 MiB;
    /// default 512). It is also the smallest remainder the small pool keeps when splitting.
    pub round_bytes: u64,
    /// Requests of at most this many bytes use the small pool (1 MiB). Also: a large-pool
    /// remainder must be larger than this to be kept as a free block.
    pub small_size: u64,
    /// Size of the small pool's segments (2 MiB).
    pub small_segment: u64,
    /// Size of the segments for large requests below `min_large_alloc` (20 MiB).
    pub large_segment: u64,
    /// From this size on, a large request's segment is the request rounded up to
    /// `round_large` (10 MiB).
    pub min_large_alloc: u64,
    /// Rounding of large segments (2 MiB).
    pub round_large: u64,
    /// Expandable segments (`false` by default): each pool reserves one range of virtual
    /// addresses at creation and maps physical memory into it as it grows, instead of
    /// allocating separate segments (see the [module documentation](self#expandable-segments)).
    /// Needs the driver's virtual memory functions and `caching`.
    pub expandable_segments: bool,
    /// Bytes of addresses each expandable segment reserves; `None` (the default): the
    /// device's memory ([`Device::total_memory`]). Rounded up to `expandable_chunk`.
    pub expandable_reserve: Option<u64>,
    /// The granularity at which an expandable segment maps and unmaps physical memory, in
    /// bytes (a power of two; 2 MiB by default), raised to the driver's page size
    /// ([`crate::virtual_memory::page_size`]) if that is larger. Each chunk is one
    /// physical memory object and one mapping.
    pub expandable_chunk: u64,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        AllocatorConfig {
            caching: true,
            max_split_size: None,
            round_bytes: 512,
            small_size: MIB,
            small_segment: 2 * MIB,
            large_segment: 20 * MIB,
            min_large_alloc: 10 * MIB,
            round_large: 2 * MIB,
            expandable_segments: false,
            expandable_reserve: None,
            expandable_chunk: 2 * MIB,
        }
    }
}

impl AllocatorConfig {
    /// The default configuration changed by the environment: [`NO_CACHING_ENV`] then
    /// [`CONF_ENV`] (see [`AllocatorConfig::parse`]). A malformed value is an error.
    pub fn from_env() -> Result<Self> {
        let mut c = AllocatorConfig::default();
        if let Some(v) = std::env::var_os(NO_CACHING_ENV) {
            match v.to_str().map(str::trim) {
                Some("1") => c.caching = false,
                Some("0") | Some("") => {}
                _ => {
                    return Err(Error::invalid(
                        "CachingAllocator::new",
                        format!("{NO_CACHING_ENV}={v:?}: expected 1 (caching off) or 0"),
                    ));
                }
            }
        }
        if let Some(v) = std::env::var_os(CONF_ENV) {
            let v = v.to_str().ok_or_else(|| {
                Error::invalid("CachingAllocator::new", format!("{CONF_ENV} is not UTF-8"))
            })?;
            c = c.parse(v)?;
        }
        Ok(c)
    }

    /// This configuration changed by `settings`: comma-separated `key:value` pairs.
    ///
    /// | key | value |
    /// |---|---|
    /// | `max_split_size_mb` | MiB, an integer ≥ `large_segment` in MiB (20); or `none` |
    /// | `caching` | `1`/`true` or `0`/`false` |
    /// | `round_bytes` | a power of two from 512 to 1048576 |
    /// | `small_segment_mb`, `large_segment_mb`, `min_large_alloc_mb`, `round_large_mb` | MiB, positive integers |
    /// | `expandable_segments` | `True`/`true`/`1` or `False`/`false`/`0` |
    /// | `expandable_reserve_mb` | MiB, a positive integer; or `none` (the device's memory) |
    /// | `expandable_chunk_kb` | KiB, a power of two from 4 to 1048576 |
    ///
    /// Whitespace around keys and values is ignored; an empty string changes nothing. An
    /// unknown key, a repeated key, a malformed value or an inconsistent result
    /// (`small_segment` below `small_size`, `large_segment` not above `small_size`,
    /// `max_split_size` below `large_segment`, expandable segments without caching) is an
    /// [`Error::InvalidArgument`] naming it.
    ///
    /// ```
    /// use level_zero::alloc::AllocatorConfig;
    /// let c = AllocatorConfig::default().parse("max_split_size_mb:128, caching:0").unwrap();
    /// assert_eq!(c.max_split_size, Some(128 << 20));
    /// assert!(!c.caching);
    /// assert!(AllocatorConfig::default().parse("max_split_size:128").is_err());
    /// assert!(AllocatorConfig::default().parse("round_bytes:1000").is_err());
    /// let e = AllocatorConfig::default().parse("expandable_segments:True").unwrap();
    /// assert!(e.expandable_segments);
    /// assert!(AllocatorConfig::default().parse("expandable_segments:yes").is_err());
    /// ```
    pub fn parse(&self, settings: &str) -> Result<Self> {
        const CALL: &str = "AllocatorConfig::parse";
        let bad = |what: String| Error::invalid(CALL, format!("{settings:?}: {what}"));
        let mut c = self.clone();
        let mut seen = Vec::new();
        for item in settings.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = item
                .split_once(':')
                .ok_or_else(|| bad(format!("{item:?} is not key:value")))?;
            let (k, v) = (k.trim(), v.trim());
            if seen.contains(&k) {
                return Err(bad(format!("{k} is given twice")));
            }
            seen.push(k);
            let mib = |v: &str| -> Result<u64> {
                let n: u64 = v
                    .parse()
                    .map_err(|_| bad(format!("{k}: {v:?} is not a whole number of MiB")))?;
                if n == 0 {
                    return Err(bad(format!("{k} must be positive")));
                }
                n.checked_mul(MIB)
                    .ok_or_else(|| bad(format!("{k}: {v} MiB overflows")))
            };
            match k {
                "max_split_size_mb" => {
                    c.max_split_size = if v.eq_ignore_ascii_case("none") {
                        None
                    } else {
                        Some(mib(v)?)
                    }
                }
                "caching" => {
                    c.caching = match v {
                        "1" | "true" => true,
                        "0" | "false" => false,
                        _ => return Err(bad(format!("caching: {v:?} is not 0, 1, true or false"))),
                    }
                }
                "expandable_segments" => {
                    c.expandable_segments = match v {
                        "1" | "true" | "True" => true,
                        "0" | "false" | "False" => false,
                        _ => {
                            return Err(bad(format!(
                                "expandable_segments: {v:?} is not True, False, true, false, 1 or 0"
                            )));
                        }
                    }
                }
                "expandable_reserve_mb" => {
                    c.expandable_reserve = if v.eq_ignore_ascii_case("none") {
                        None
                    } else {
                        Some(mib(v)?)
                    }
                }
                "expandable_chunk_kb" => {
                    let n: u64 = v
                        .parse()
                        .map_err(|_| bad(format!("expandable_chunk_kb: {v:?} is not a number")))?;
                    if !n.is_power_of_two() || !(4..=MIB).contains(&n) {
                        return Err(bad(format!(
                            "expandable_chunk_kb: {n} is not a power of two from 4 to 1048576"
                        )));
                    }
                    c.expandable_chunk = n << 10;
                }
                "round_bytes" => {
                    let n: u64 = v
                        .parse()
                        .map_err(|_| bad(format!("round_bytes: {v:?} is not a number")))?;
                    if !n.is_power_of_two() || !(512..=MIB).contains(&n) {
                        return Err(bad(format!(
                            "round_bytes: {n} is not a power of two from 512 to 1048576"
                        )));
                    }
                    c.round_bytes = n;
                }
                "small_segment_mb" => c.small_segment = mib(v)?,
                "large_segment_mb" => c.large_segment = mib(v)?,
                "min_large_alloc_mb" => c.min_large_alloc = mib(v)?,
                "round_large_mb" => c.round_large = mib(v)?,
                _ => {
                    return Err(bad(format!(
                        "unknown key {k:?} (known: max_split_size_mb, caching, round_bytes, small_segment_mb, large_segment_mb, min_large_alloc_mb, round_large_mb, expandable_segments, expandable_reserve_mb, expandable_chunk_kb)"
                    )));
                }
            }
        }
        c.check().map_err(bad)?;
        Ok(c)
    }

    /// Whether the settings are consistent; the reason when not.
    fn check(&self) -> std::result::Result<(), String> {
        if !self.round_bytes.is_power_of_two() || !(512..=MIB).contains(&self.round_bytes) {
            return Err(format!(
                "round_bytes {} is not a power of two from 512 to 1048576",
                self.round_bytes
            ));
        }
        if self.small_size == 0 || self.small_segment < self.small_size {
            return Err(format!(
                "small_segment {} is smaller than small_size {}",
                self.small_segment, self.small_size
            ));
        }
        if self.large_segment <= self.small_size || self.round_large == 0 {
            return Err(format!(
                "large_segment {} must be above small_size {} and round_large positive",
                self.large_segment, self.small_size
            ));
        }
        if let Some(m) = self.max_split_size
            && m < self.large_segment
        {
            return Err(format!(
                "max_split_size {m} is below large_segment {} (segments for medium requests would never be split)",
                self.large_segment
            ));
        }
        if self.expandable_segments && self.max_split_size.is_some() {
            return Err(
                "max_split_size cannot be combined with expandable_segments (the blocks of a growing segment merge past any limit, and oversize blocks would never serve smaller requests)"
                    .into(),
            );
        }
        if self.expandable_segments && !self.caching {
            return Err(
                "expandable_segments needs caching (with caching off every request is its own driver allocation)"
                    .into(),
            );
        }
        if !self.expandable_chunk.is_power_of_two() || self.expandable_chunk < 4096 {
            return Err(format!(
                "expandable_chunk {} is not a power of two of at least 4096",
                self.expandable_chunk
            ));
        }
        if self.expandable_reserve == Some(0) {
            return Err("expandable_reserve is 0".into());
        }
        Ok(())
    }
}

/// Which pool a block or segment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// Requests of at most `small_size` bytes (1 MiB).
    Small,
    /// Larger requests.
    Large,
}

/// One statistic, as PyTorch's `memory_stats` keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stat {
    /// The value now.
    pub current: u64,
    /// The highest value since creation or the last [`CachingAllocator::reset_peak_stats`].
    pub peak: u64,
    /// Total of all increases since creation.
    pub allocated: u64,
    /// Total of all decreases since creation.
    pub freed: u64,
}

impl Stat {
    fn add(&mut self, n: u64) {
        self.current += n;
        self.allocated += n;
        self.peak = self.peak.max(self.current);
    }

    fn sub(&mut self, n: u64) {
        self.current -= n;
        self.freed += n;
    }
}

/// A statistic per pool, and for both together (whose peak is the peak of the sum, not the
/// sum of the peaks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PoolStats<S = Stat> {
    /// Both pools.
    pub all: S,
    /// The small pool.
    pub small: S,
    /// The large pool.
    pub large: S,
}

impl PoolStats<Stat> {
    fn add(&mut self, pool: Pool, n: u64) {
        self.all.add(n);
        self.pool(pool).add(n);
    }

    fn sub(&mut self, pool: Pool, n: u64) {
        self.all.sub(n);
        self.pool(pool).sub(n);
    }

    fn pool(&mut self, pool: Pool) -> &mut Stat {
        match pool {
            Pool::Small => &mut self.small,
            Pool::Large => &mut self.large,
        }
    }

    fn reset_peak(&mut self) {
        for s in [&mut self.all, &mut self.small, &mut self.large] {
            s.peak = s.current;
        }
    }
}

/// What `torch.xpu.memory_stats()` reports, for one allocator. Byte counts of blocks are
/// their rounded sizes (what they take from a segment), except `requested_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AllocatorStats {
    /// Blocks handed out and not yet returned (count). A block is returned when its buffer
    /// *and every command using it* are gone (see the [module documentation](self)).
    pub allocation: PoolStats,
    /// Bytes of those blocks.
    pub allocated_bytes: PoolStats,
    /// Bytes the callers asked for (before rounding) of those blocks.
    pub requested_bytes: PoolStats,
    /// Segments held from the driver (count).
    pub segment: PoolStats,
    /// Bytes of those segments: what the allocator holds from the driver (free or not). For
    /// expandable segments, the physical memory mapped into them (not the addresses they
    /// reserved: see `virtual_bytes`).
    pub reserved_bytes: PoolStats,
    /// Addresses reserved by expandable segments, mapped or not (no memory: a reservation
    /// costs no device memory). 0 without expandable segments. Current values only.
    pub virtual_bytes: PoolStats<u64>,
    /// Active blocks (count). In PyTorch a block stays active after it is freed while other
    /// streams may still use it; here that case is already covered by `allocation` (a
    /// block comes back only after its device uses completed), so `active` equals
    /// `allocation`. Kept for tools that read PyTorch's names.
    pub active: PoolStats,
    /// Bytes of active blocks (equal to `allocated_bytes`, see `active`).
    pub active_bytes: PoolStats,
    /// Free blocks in segments that also hold allocated blocks (they cannot go back to the
    /// driver now): the fragmentation. Current values only.
    pub inactive_split: PoolStats<u64>,
    /// Bytes of those free blocks. Current values only.
    pub inactive_split_bytes: PoolStats<u64>,
    /// Blocks handed out that were at least `max_split_size` bytes (oversize, never split).
    pub oversize_allocations: Stat,
    /// Segments at least `max_split_size` bytes.
    pub oversize_segments: Stat,
    /// Requests received (non-empty ones: an empty buffer needs no memory), served or not.
    pub num_alloc_requests: u64,
    /// Requests served from a cached free block, without a driver call.
    pub num_cache_hits: u64,
    /// Segments allocated from the driver (`zeMemAllocDevice` calls that succeeded); with
    /// expandable segments, chunks of physical memory mapped (`zePhysicalMemCreate` +
    /// `zeVirtualMemMap`).
    pub num_device_alloc: u64,
    /// Segments given back to the driver (`zeMemFree` calls); with expandable segments,
    /// chunks unmapped and destroyed.
    pub num_device_free: u64,
    /// Blocks split in two (a request took the front of a larger free block).
    pub num_splits: u64,
    /// Free blocks merged with a free neighbour.
    pub num_merges: u64,
    /// Driver allocations that failed for lack of memory and were retried after the cache
    /// was given back to the driver.
    pub num_alloc_retries: u64,
    /// Requests that failed with [`Error::OutOfDeviceMemory`].
    pub num_ooms: u64,
    /// Blocks exported to other processes ([`crate::ipc::ExportedMemory`]) that came back:
    /// retired, never handed out again (another process may still map them); their segment
    /// goes back to the driver as soon as nothing else of it is allocated.
    pub num_retired_blocks: u64,
}

/// One block of a segment in a [`MemorySnapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockInfo {
    /// Device address of the block.
    pub address: u64,
    /// Bytes the block takes in its segment (rounded).
    pub size: u64,
    /// Bytes the caller asked for (0 for a free block).
    pub requested_size: u64,
    /// Whether the block is handed out (`true`) or free in the cache.
    pub allocated: bool,
    /// Whether the block was exported to another process and came back: retired, neither
    /// allocated nor free (see [`AllocatorStats::num_retired_blocks`]).
    pub retired: bool,
}

/// One segment of a [`MemorySnapshot`]: a driver allocation, or one mapped extent (a run of
/// mapped chunks) of an expandable segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SegmentInfo {
    /// Device address of the segment (its driver allocation, or the extent's first address).
    pub address: u64,
    /// Bytes of the segment (of the extent: mapped bytes).
    pub total_size: u64,
    /// Whether it is an extent of an expandable segment.
    pub expandable: bool,
    /// The expandable segment's reserved range (address, bytes) the extent lies in; `None`
    /// for a driver allocation.
    pub reservation: Option<(u64, u64)>,
    /// Bytes of its allocated blocks.
    pub allocated_size: u64,
    /// The pool it serves.
    pub pool: Pool,
    /// Its blocks, by address; together they cover the segment exactly.
    pub blocks: Vec<BlockInfo>,
}

/// The allocator's segments and blocks at one moment ([`CachingAllocator::memory_snapshot`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemorySnapshot {
    /// The device's name.
    pub device: String,
    /// The configuration.
    pub config: AllocatorConfig,
    /// The segments, by address.
    pub segments: Vec<SegmentInfo>,
    /// The statistics at the same moment.
    pub stats: AllocatorStats,
}

impl MemorySnapshot {
    /// The snapshot as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Plain structures of integers, strings, booleans and unit enums: serialising them
        // cannot fail.
        serde_json::to_string_pretty(self).expect("a memory snapshot always serialises")
    }
}

/// `1.50 MiB`-style sizes for messages.
pub(crate) fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.2} {}", UNITS[u])
}

/// Segments from `zeMemAllocDevice` (aligned to [`CachingAllocator::ALIGNMENT`], counted in
/// the crate's accounting), freed with `zeMemFree` when the returned allocation is dropped.
fn driver_segment(ctx: &Context, device: &Device, bytes: usize) -> Result<Arc<Allocation>> {
    Allocation::new(
        ctx,
        Some(device),
        AllocationKind::Device,
        bytes,
        CachingAllocator::ALIGNMENT,
        &AllocOptions::default(),
    )
}

/// The memory behind a segment.
enum Backing {
    /// A driver allocation (its drop frees the memory and updates the accounting).
    Driver { _memory: Arc<Allocation> },
    /// An expandable segment.
    Expandable(Expandable),
}

/// One pool's expandable segment: a reserved range, and the chunks of physical memory
/// mapped into it. Blocks tile the mapped chunks exactly (a block never spans an unmapped
/// chunk), so mapping and unmapping follow block boundaries rounded to chunks.
struct Expandable {
    range: VirtualRange,
    /// The mapping granularity (a multiple of the driver's page size).
    chunk: usize,
    /// The mapped chunks by offset in the range: the mappings' allocations (counted in the
    /// crate's accounting; their drop unmaps the chunk and destroys its physical memory
    /// once nothing else holds them). Every block allocation over a chunk holds it too.
    chunks: BTreeMap<usize, Arc<Allocation>>,
}

impl Expandable {
    /// The mapped extents as `(offset, bytes)`, by offset: runs of contiguous chunks.
    fn extents(&self) -> Vec<(usize, usize)> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &off in self.chunks.keys() {
            match runs.last_mut() {
                Some((start, len)) if *start + *len == off => *len += self.chunk,
                _ => runs.push((off, self.chunk)),
            }
        }
        runs
    }

    /// The unmapped runs as `(offset, bytes)`, by offset (the last one reaches the end of
    /// the range unless the range is fully mapped).
    fn gaps(&self, size: usize) -> Vec<(usize, usize)> {
        let mut gaps = Vec::new();
        let mut at = 0;
        for (off, len) in self.extents() {
            if off > at {
                gaps.push((at, off - at));
            }
            at = off + len;
        }
        if at < size {
            gaps.push((at, size - at));
        }
        gaps
    }
}

struct Segment {
    backing: Backing,
    /// Bytes of the driver allocation, or of the expandable segment's reserved range.
    size: usize,
    pool: Pool,
}

impl Segment {
    fn expandable(&self) -> Option<&Expandable> {
        match &self.backing {
            Backing::Expandable(e) => Some(e),
            Backing::Driver { .. } => None,
        }
    }

    /// The parts of the segment that blocks tile, as `(address, bytes)`.
    fn extents(&self, base: usize) -> Vec<(usize, usize)> {
        match &self.backing {
            Backing::Driver { .. } => vec![(base, self.size)],
            Backing::Expandable(e) => e
                .extents()
                .into_iter()
                .map(|(off, len)| (base + off, len))
                .collect(),
        }
    }
}

#[derive(Clone, Copy)]
struct Block {
    size: usize,
    /// Base address of its segment.
    segment: usize,
    /// Bytes requested, when allocated.
    requested: Option<usize>,
    pool: Pool,
}

#[derive(Default)]
struct State {
    segments: BTreeMap<usize, Segment>,
    /// Every block of every segment, by address.
    blocks: BTreeMap<usize, Block>,
    /// Free blocks by (size, address), per pool.
    free_small: BTreeSet<(usize, usize)>,
    free_large: BTreeSet<(usize, usize)>,
    /// Allocated blocks that were exported to other processes (IPC): when they come back
    /// they are retired, not freed.
    exported: BTreeSet<usize>,
    /// Retired blocks by address: (size, segment). Out of `blocks`, never handed out nor
    /// merged again; their segment goes back to the driver as soon as its other blocks are
    /// free, and the driver keeps exported pages until every importer closed them.
    retired: BTreeMap<usize, (usize, usize)>,
    stats: AllocatorStats,
}

impl State {
    fn free_set(&mut self, pool: Pool) -> &mut BTreeSet<(usize, usize)> {
        match pool {
            Pool::Small => &mut self.free_small,
            Pool::Large => &mut self.free_large,
        }
    }

    /// Driver segments whose blocks are all free, taken out of the state (to be dropped,
    /// which frees them, once the lock is released). Expandable segments are never taken.
    fn take_free_segments(&mut self) -> Vec<Segment> {
        let empty: Vec<usize> = self
            .segments
            .iter()
            .filter(|(base, seg)| seg.expandable().is_none() && self.all_free(**base, seg.size))
            .map(|(&base, _)| base)
            .collect();
        empty
            .into_iter()
            .map(|base| self.remove_segment(base))
            .collect()
    }

    /// Whether the driver segment `[base, base + size)` has no allocated block: its blocks
    /// are free (one, merged, unless some are retired) or retired.
    fn all_free(&self, base: usize, size: usize) -> bool {
        let end = base + size;
        let mut bytes = 0;
        for b in self.blocks.range(base..end).map(|(_, b)| b) {
            if b.requested.is_some() {
                return false;
            }
            bytes += b.size;
        }
        bytes
            + self
                .retired
                .range(base..end)
                .map(|(_, (n, _))| n)
                .sum::<usize>()
            == size
    }

    /// Removes the driver segment at `base`, none of whose blocks is allocated.
    fn remove_segment(&mut self, base: usize) -> Segment {
        let seg = self.segments.remove(&base).expect("a segment of the state");
        let end = base + seg.size;
        let blocks: Vec<(usize, usize)> = self
            .blocks
            .range(base..end)
            .map(|(&a, b)| (a, b.size))
            .collect();
        for (a, size) in blocks {
            self.blocks.remove(&a);
            self.free_set(seg.pool).remove(&(size, a));
        }
        let retired: Vec<usize> = self.retired.range(base..end).map(|(&a, _)| a).collect();
        for a in retired {
            self.retired.remove(&a);
        }
        let s = &mut self.stats;
        s.segment.sub(seg.pool, 1);
        s.reserved_bytes.sub(seg.pool, seg.size as u64);
        s.num_device_free += 1;
        seg
    }

    /// Adds the free block `[addr, addr + size)` of the segment at `segment`, merged with its
    /// free neighbours of the same segment; returns the merged block's address.
    fn insert_free(&mut self, addr: usize, size: usize, segment: usize, pool: Pool) -> usize {
        let mut b = Block {
            size,
            segment,
            requested: None,
            pool,
        };
        let mut start = addr;
        // The next block, if free and of the same segment.
        if let Some(n) = self.blocks.get(&(addr + size)).copied()
            && n.segment == segment
            && n.requested.is_none()
        {
            self.free_set(n.pool).remove(&(n.size, addr + size));
            self.blocks.remove(&(addr + size));
            b.size += n.size;
            self.stats.num_merges += 1;
        }
        // The previous block, likewise.
        if let Some((&paddr, &p)) = self.blocks.range(..addr).next_back()
            && p.segment == segment
            && p.requested.is_none()
            && paddr + p.size == addr
        {
            self.free_set(p.pool).remove(&(p.size, paddr));
            self.blocks.remove(&paddr);
            b.size += p.size;
            start = paddr;
            self.stats.num_merges += 1;
        }
        self.blocks.insert(start, b);
        self.free_set(pool).insert((b.size, start));
        start
    }

    /// Unmaps the chunks of the expandable segment at `base` that lie entirely in free
    /// blocks; returns their mappings (to be dropped by the caller).
    ///
    /// A free block's previous allocation is gone (a block comes back only then), and a
    /// block allocation's owner drops its hold on the chunks before the block comes back, so
    /// the state holds the only reference to these mappings: dropping them unmaps now.
    fn release_free_chunks(&mut self, base: usize) -> Vec<Arc<Allocation>> {
        let Some(seg) = self.segments.get(&base) else {
            return Vec::new();
        };
        let (pool, end) = (seg.pool, base + seg.size);
        let Some(chunk) = seg.expandable().map(|e| e.chunk) else {
            return Vec::new();
        };
        let free: Vec<(usize, usize)> = self
            .blocks
            .range(base..end)
            .filter(|(_, b)| b.requested.is_none())
            .map(|(&a, b)| (a, b.size))
            .collect();
        let mut released = Vec::new();
        for (addr, size) in free {
            let lo = (addr - base).next_multiple_of(chunk);
            let hi = (addr + size - base) / chunk * chunk;
            if lo >= hi {
                continue;
            }
            self.free_set(pool).remove(&(size, addr));
            self.blocks.remove(&addr);
            // The pieces of the block before and after the whole chunks stay free (their
            // other neighbours are allocated or unmapped: the block was merged).
            for (a, len) in [
                (addr, base + lo - addr),
                (base + hi, addr + size - base - hi),
            ] {
                if len > 0 {
                    self.blocks.insert(
                        a,
                        Block {
                            size: len,
                            segment: base,
                            requested: None,
                            pool,
                        },
                    );
                    self.free_set(pool).insert((len, a));
                }
            }
            let Some(Backing::Expandable(e)) = self.segments.get_mut(&base).map(|s| &mut s.backing)
            else {
                unreachable!("checked above");
            };
            let mut off = lo;
            while off < hi {
                if let Some(m) = e.chunks.remove(&off) {
                    released.push(m);
                }
                off += chunk;
            }
            let s = &mut self.stats;
            s.reserved_bytes.sub(pool, (hi - lo) as u64);
            s.num_device_free += ((hi - lo) / chunk) as u64;
        }
        released
    }
}

/// What the cache gives back to the driver: dropping it frees driver segments and unmaps
/// expandable chunks.
#[derive(Default)]
struct Released {
    segments: Vec<Segment>,
    chunks: Vec<Arc<Allocation>>,
}

impl Released {
    fn bytes(&self) -> u64 {
        let s: usize = self.segments.iter().map(|s| s.size).sum();
        let c: usize = self.chunks.iter().map(|c| c.bytes).sum();
        (s + c) as u64
    }
}

struct Inner {
    ctx: Context,
    device: Device,
    config: AllocatorConfig,
    /// The base addresses of the small and large pools' expandable segments, when
    /// `config.expandable_segments`.
    expandable: Option<[usize; 2]>,
    state: Mutex<State>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements that can panic (none of them does
        // while it is inconsistent), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn oversize(&self, bytes: usize) -> bool {
        self.config
            .max_split_size
            .is_some_and(|m| bytes as u64 >= m)
    }

    fn round(&self, bytes: usize) -> usize {
        let r = self.config.round_bytes as usize;
        bytes.div_ceil(r) * r
    }

    fn pool_of(&self, size: usize) -> Pool {
        if size as u64 <= self.config.small_size {
            Pool::Small
        } else {
            Pool::Large
        }
    }

    /// The size of a new driver segment for a request of `size` (rounded) bytes.
    fn segment_size(&self, size: usize) -> usize {
        let c = &self.config;
        let s = size as u64;
        let bytes = if !c.caching {
            s
        } else if s <= c.small_size {
            c.small_segment
        } else if s < c.min_large_alloc {
            c.large_segment.max(s)
        } else {
            s.div_ceil(c.round_large) * c.round_large
        };
        bytes as usize
    }

    /// The best cached free block for `size` bytes of `pool`: its address.
    fn find_free(&self, state: &State, pool: Pool, size: usize) -> Option<usize> {
        let set = match pool {
            Pool::Small => &state.free_small,
            Pool::Large => &state.free_large,
        };
        let &(bsize, addr) = set.range((size, 0)..).next()?;
        if !self.oversize(size) && self.oversize(bsize) {
            // Every later block is at least as large: all oversize.
            return None;
        }
        if self.oversize(size) && (bsize - size) as u64 >= self.config.large_segment {
            return None;
        }
        Some(addr)
    }

    /// Hands out the free block at `addr` for `size` (rounded) bytes, `requested` asked,
    /// splitting it when the rest is worth keeping.
    fn take_block(&self, state: &mut State, addr: usize, size: usize, requested: usize) {
        let mut b = state.blocks[&addr];
        state.free_set(b.pool).remove(&(b.size, addr));
        let rest = b.size - size;
        let keep_rest = !self.oversize(size)
            && match b.pool {
                Pool::Small => rest as u64 >= self.config.round_bytes,
                Pool::Large => rest as u64 > self.config.small_size,
            };
        if keep_rest {
            let r = Block {
                size: rest,
                segment: b.segment,
                requested: None,
                pool: b.pool,
            };
            state.blocks.insert(addr + size, r);
            state.free_set(b.pool).insert((rest, addr + size));
            b.size = size;
            state.stats.num_splits += 1;
        }
        b.requested = Some(requested);
        state.blocks.insert(addr, b);
        let s = &mut state.stats;
        s.allocation.add(b.pool, 1);
        s.active.add(b.pool, 1);
        s.allocated_bytes.add(b.pool, b.size as u64);
        s.active_bytes.add(b.pool, b.size as u64);
        s.requested_bytes.add(b.pool, requested as u64);
        if self.oversize(b.size) {
            s.oversize_allocations.add(1);
        }
    }

    /// Returns the allocated block at `addr` to its pool, merging it with free neighbours
    /// of its segment. Returns the segment to free when caching is off.
    fn give_back(&self, state: &mut State, addr: usize) -> Vec<Segment> {
        let Some(b) = state.blocks.get(&addr).copied() else {
            log::error!("level-zero: a caching allocator got back a block it does not know");
            return Vec::new();
        };
        let Some(requested) = b.requested else {
            log::error!("level-zero: a caching allocator got back a block that was free");
            return Vec::new();
        };
        let s = &mut state.stats;
        s.allocation.sub(b.pool, 1);
        s.active.sub(b.pool, 1);
        s.allocated_bytes.sub(b.pool, b.size as u64);
        s.active_bytes.sub(b.pool, b.size as u64);
        s.requested_bytes.sub(b.pool, requested as u64);
        if self.oversize(b.size) {
            s.oversize_allocations.sub(1);
        }
        state.blocks.remove(&addr);
        let inside = crate::host_function::inside();
        if state.exported.remove(&addr) {
            // Another process may still map it: never handed out again. The segment goes to
            // the driver once nothing else of it is allocated (not from inside a host
            // function, where `zeMemFree` is refused: then `empty_cache` or the next return
            // outside one frees it).
            state.retired.insert(addr, (b.size, b.segment));
            state.stats.num_retired_blocks += 1;
            let size = state.segments[&b.segment].size;
            if !inside && state.all_free(b.segment, size) {
                return vec![self.remove_segment(state, b.segment)];
            }
            return Vec::new();
        }
        state.insert_free(addr, b.size, b.segment, b.pool);
        let size = state.segments[&b.segment].size;
        let tainted = state
            .retired
            .range(b.segment..b.segment + size)
            .next()
            .is_some();
        if tainted && !inside && state.all_free(b.segment, size) {
            // The last allocated block of a segment with retired blocks.
            return vec![self.remove_segment(state, b.segment)];
        }
        if !self.config.caching && !inside {
            // Only driver segments: expandable segments need caching (`check`). With it, any
            // segment a return inside a host function had to keep is freed too.
            let mut segs = vec![self.remove_segment(state, b.segment)];
            segs.extend(self.take_cached(state).segments);
            return segs;
        }
        Vec::new()
    }

    fn remove_segment(&self, state: &mut State, base: usize) -> Segment {
        let seg = state.remove_segment(base);
        if self.oversize(seg.size) {
            state.stats.oversize_segments.sub(1);
        }
        seg
    }

    /// Everything the cache can give back: the driver segments whose blocks are all free,
    /// and the chunks of expandable segments that lie in free blocks.
    fn take_cached(&self, state: &mut State) -> Released {
        let segments = state.take_free_segments();
        for seg in &segments {
            if self.oversize(seg.size) {
                state.stats.oversize_segments.sub(1);
            }
        }
        let mut chunks = Vec::new();
        for base in self.expandable.into_iter().flatten() {
            chunks.extend(state.release_free_chunks(base));
        }
        Released { segments, chunks }
    }

    /// More memory for a request of `size` (rounded) bytes of `pool`, as a free block of at
    /// least `size` bytes: its address. On out-of-memory, gives the cache back to the
    /// driver and tries once more.
    fn grow(&self, state: &mut State, pool: Pool, size: usize) -> Result<usize> {
        let attempt = |state: &mut State| match self.expandable {
            Some(bases) => self.extend(state, bases[pool as usize], pool, size),
            None => self.new_segment(state, pool, self.segment_size(size)),
        };
        match attempt(state) {
            // Not inside a host function: giving the cache back there would be refused
            // (and its memory leaked).
            Err(e) if out_of_memory(&e) && !crate::host_function::inside() => {
                state.stats.num_alloc_retries += 1;
                // Given back here, under the lock: the retry needs the memory back now.
                drop(self.take_cached(state));
                attempt(state)
            }
            r => r,
        }
    }

    /// A new driver segment of `bytes` for `pool`, with one free block over it.
    fn new_segment(&self, state: &mut State, pool: Pool, bytes: usize) -> Result<usize> {
        let memory = driver_segment(&self.ctx, &self.device, bytes)?;
        let base = memory.ptr as usize;
        state.segments.insert(
            base,
            Segment {
                backing: Backing::Driver { _memory: memory },
                size: bytes,
                pool,
            },
        );
        state.blocks.insert(
            base,
            Block {
                size: bytes,
                segment: base,
                requested: None,
                pool,
            },
        );
        state.free_set(pool).insert((bytes, base));
        let s = &mut state.stats;
        s.segment.add(pool, 1);
        s.reserved_bytes.add(pool, bytes as u64);
        s.num_device_alloc += 1;
        if self.oversize(bytes) {
            s.oversize_segments.add(1);
        }
        Ok(base)
    }

    /// Maps chunks into the expandable segment at `base` so that a free block of at least
    /// `size` bytes exists: in the unmapped run (the tail, or a hole an `empty_cache` left)
    /// where, counting the free blocks on either side, the fewest new chunks are needed
    /// (the lowest address on a tie). The new chunks become a free block merged with those
    /// neighbours; returns its address.
    fn extend(&self, state: &mut State, base: usize, pool: Pool, size: usize) -> Result<usize> {
        let seg = &state.segments[&base];
        let Some(e) = seg.expandable() else {
            unreachable!("the expandable segment of the pool");
        };
        let (chunk, seg_size) = (e.chunk, seg.size);
        let free_at = |addr: usize| {
            state
                .blocks
                .get(&addr)
                .filter(|b| b.segment == base && b.requested.is_none())
                .map_or(0, |b| b.size)
        };
        let free_before = |addr: usize| {
            state
                .blocks
                .range(base..addr)
                .next_back()
                .filter(|(a, b)| b.requested.is_none() && *a + b.size == addr)
                .map_or(0, |(_, b)| b.size)
        };
        // (new bytes, offset of the gap) of the best candidate.
        let mut best: Option<(usize, usize)> = None;
        for (off, len) in e.gaps(seg_size) {
            let before = free_before(base + off);
            let after = if off + len < seg_size {
                free_at(base + off + len)
            } else {
                0
            };
            let need = size.saturating_sub(before).next_multiple_of(chunk);
            let new = if need == 0 {
                // A free neighbour large enough would have been found (no oversize blocks
                // with expandable segments: `check`).
                continue;
            } else if need <= len {
                need
            } else if before + len + after >= size {
                len
            } else {
                continue;
            };
            if best.is_none_or(|(n, _)| new < n) {
                best = Some((new, off));
            }
        }
        let Some((new, off)) = best else {
            // Not the driver's answer: the segment's reserved addresses are full (or too
            // fragmented). An out-of-memory error all the same (retried once the cache is
            // given back, then `Error::OutOfDeviceMemory`), named for the allocator.
            return Err(Error::Call {
                call: "CachingAllocator (expandable segment)",
                code: ResultCode(ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY),
                detail: Some(format!(
                    "the {pool:?} pool's expandable segment ({} of addresses reserved) has no unmapped room for {}; raise expandable_reserve_mb",
                    format_bytes(seg_size as u64),
                    format_bytes(size as u64)
                )),
            });
        };
        let range = e.range.clone();
        let mut mapped = 0;
        let mut failure = None;
        while mapped < new {
            let at = off + mapped;
            let mapping = PhysicalMemory::new(&self.ctx, &self.device, chunk)
                .and_then(|p| range.map(at, &p, 0, chunk, PageAccess::ReadWrite));
            match mapping {
                Ok(m) => {
                    let Some(Backing::Expandable(e)) =
                        state.segments.get_mut(&base).map(|s| &mut s.backing)
                    else {
                        unreachable!("checked above");
                    };
                    e.chunks.insert(at, m.into_allocation());
                    mapped += chunk;
                    state.stats.reserved_bytes.add(pool, chunk as u64);
                    state.stats.num_device_alloc += 1;
                }
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        if let Some(err) = failure {
            // A failed extension maps nothing: the chunks just mapped are unmapped (under
            // the lock, before anyone can want their pages again; nothing else holds them).
            let Some(Backing::Expandable(e)) =
                state.segments.get_mut(&base).map(|s| &mut s.backing)
            else {
                unreachable!("checked above");
            };
            let undone: Vec<Arc<Allocation>> = (0..mapped / chunk)
                .filter_map(|i| e.chunks.remove(&(off + i * chunk)))
                .collect();
            state.stats.reserved_bytes.sub(pool, mapped as u64);
            state.stats.num_device_free += undone.len() as u64;
            drop(undone);
            return Err(err);
        }
        Ok(state.insert_free(base + off, mapped, base, pool))
    }

    /// The mappings under the block at `addr` (held by its allocation's owner), empty for a
    /// block of a driver segment.
    fn chunks_of(&self, state: &State, addr: usize) -> Vec<Arc<Allocation>> {
        let b = &state.blocks[&addr];
        match state.segments[&b.segment].expandable() {
            None => Vec::new(),
            Some(e) => {
                let lo = (addr - b.segment) / e.chunk * e.chunk;
                e.chunks
                    .range(lo..addr - b.segment + b.size)
                    .map(|(_, m)| m.clone())
                    .collect()
            }
        }
    }

    /// A block of at least `requested` bytes: its address, and the mappings under it (for
    /// expandable segments).
    fn allocate(&self, requested: usize) -> Result<(usize, Vec<Arc<Allocation>>)> {
        let size = self.round(requested).max(self.config.round_bytes as usize);
        let pool = self.pool_of(size);
        let mut state = self.lock();
        state.stats.num_alloc_requests += 1;
        if self.config.caching
            && let Some(addr) = self.find_free(&state, pool, size)
        {
            state.stats.num_cache_hits += 1;
            self.take_block(&mut state, addr, size, requested);
            return Ok((addr, self.chunks_of(&state, addr)));
        }
        match self.grow(&mut state, pool, size) {
            Ok(addr) => {
                self.take_block(&mut state, addr, size, requested);
                Ok((addr, self.chunks_of(&state, addr)))
            }
            Err(e) if out_of_memory(&e) => {
                state.stats.num_ooms += 1;
                let (allocated, reserved) = (
                    state.stats.allocated_bytes.all.current,
                    state.stats.reserved_bytes.all.current,
                );
                drop(state);
                Err(Error::OutOfDeviceMemory {
                    device: self.device_name(),
                    requested: requested as u64,
                    allocated,
                    reserved,
                    cached: reserved - allocated,
                    source: Box::new(e),
                })
            }
            Err(e) => Err(e),
        }
    }

    fn device_name(&self) -> String {
        self.device
            .properties()
            .map(|p| p.name.clone())
            .unwrap_or_else(|_| format!("{:?}", self.device))
    }

    fn stats(&self, state: &State) -> AllocatorStats {
        let mut s = state.stats;
        let mut split = PoolStats::<u64>::default();
        let mut split_bytes = PoolStats::<u64>::default();
        let mut virt = PoolStats::<u64>::default();
        let count = |p: &mut PoolStats<u64>, pool: Pool, c: u64| {
            p.all += c;
            match pool {
                Pool::Small => p.small += c,
                Pool::Large => p.large += c,
            }
        };
        for (&base, seg) in &state.segments {
            if seg.expandable().is_some() {
                count(&mut virt, seg.pool, seg.size as u64);
            }
            // Per extent of an expandable segment: one that is not a single free block
            // cannot go back to the driver whole.
            for (start, len) in seg.extents(base) {
                let whole = state
                    .blocks
                    .get(&start)
                    .is_some_and(|b| b.requested.is_none() && b.size == len);
                if whole {
                    continue;
                }
                for (_, b) in state.blocks.range(start..start + len) {
                    if b.requested.is_none() {
                        count(&mut split, b.pool, 1);
                        count(&mut split_bytes, b.pool, b.size as u64);
                    }
                }
            }
        }
        s.inactive_split = split;
        s.inactive_split_bytes = split_bytes;
        s.virtual_bytes = virt;
        s
    }
}

/// What a handed-out block's allocation calls when its last reference goes: the block goes
/// back to the pool (and, with caching off, its segment to the driver). In `Drop`, so a
/// block whose allocation could not be made is returned too.
struct BlockOwner {
    inner: Arc<Inner>,
    addr: usize,
    /// The mappings of an expandable segment under the block: they stay mapped while the
    /// block's allocation lives, whatever the state does (it never releases chunks under an
    /// allocated block anyway).
    chunks: Vec<Arc<Allocation>>,
}

impl Owner for BlockOwner {
    fn release(self: Box<Self>, _ctx: &Context, _ptr: *mut c_void, _bytes: usize) {
        drop(self);
    }

    /// Marks the block exported: when it comes back it is retired, never handed out again
    /// (see [`AllocatorStats::num_retired_blocks`]). Refused in expandable segments, whose
    /// chunks the allocator unmaps and maps again on its own.
    fn export(&self, call: &'static str) -> Result<()> {
        if self.inner.expandable.is_some() {
            return Err(Error::Unsupported {
                what: "exporting a block of an expandable segment",
                why: format!(
                    "{call}: the caching allocator unmaps and remaps the chunks of expandable \
                     segments itself; export a DeviceBuffer, or a block of an allocator \
                     without expandable segments"
                ),
            });
        }
        self.inner.lock().exported.insert(self.addr);
        Ok(())
    }
}

impl Drop for BlockOwner {
    fn drop(&mut self) {
        // The chunks first, while the block is still allocated (so the state still holds
        // them and this unmaps nothing): once the block is free, `empty_cache` may release
        // its chunks, and must then hold their last references (it unmaps them under the
        // lock, before the pages can be mapped again).
        self.chunks.clear();
        let seg = {
            let mut state = self.inner.lock();
            self.inner.give_back(&mut state, self.addr)
        };
        // Freed (zeMemFree) outside the lock.
        drop(seg);
    }
}

/// A caching allocator of device memory for one device of a context (see the [module
/// documentation](self)).
///
/// Cheap to clone (an `Arc`); clones share the pools. `Send + Sync`: requests and returns
/// from any thread are serialised by one lock per allocator (held during the driver call
/// when a segment must be allocated).
#[derive(Clone)]
pub struct CachingAllocator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CachingAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.stats();
        f.debug_struct("CachingAllocator")
            .field("device", &self.inner.device)
            .field("allocated", &s.allocated_bytes.all.current)
            .field("reserved", &s.reserved_bytes.all.current)
            .finish()
    }
}

impl CachingAllocator {
    /// The alignment of every block, in bytes: element types and requested alignments above
    /// it are refused.
    pub const ALIGNMENT: usize = 512;

    /// An allocator for `device` (a device of `ctx`), configured from the environment
    /// ([`AllocatorConfig::from_env`]: a malformed variable is an error).
    pub fn new(ctx: &Context, device: &Device) -> Result<Self> {
        Self::with_config(ctx, device, AllocatorConfig::from_env()?)
    }

    /// An allocator with an explicit configuration (the environment is not read).
    pub fn with_config(ctx: &Context, device: &Device, config: AllocatorConfig) -> Result<Self> {
        config
            .check()
            .map_err(|e| Error::invalid("CachingAllocator::with_config", e))?;
        ctx.device_index("CachingAllocator::new", device)?;
        let mut state = State::default();
        let expandable = if config.expandable_segments {
            Some(Self::reserve_expandable(ctx, device, &config, &mut state)?)
        } else {
            None
        };
        Ok(CachingAllocator {
            inner: Arc::new(Inner {
                ctx: ctx.clone(),
                device: device.clone(),
                config,
                expandable,
                state: Mutex::new(state),
            }),
        })
    }

    /// The two expandable segments (small and large pool): their ranges reserved now, so
    /// that a driver without virtual memory fails here, naming what it lacks, and never
    /// later or silently.
    fn reserve_expandable(
        ctx: &Context,
        device: &Device,
        config: &AllocatorConfig,
        state: &mut State,
    ) -> Result<[usize; 2]> {
        let api = ctx.api();
        for (name, present) in [
            (
                "zeVirtualMemQueryPageSize",
                api.zeVirtualMemQueryPageSize.is_some(),
            ),
            ("zeVirtualMemReserve", api.zeVirtualMemReserve.is_some()),
            ("zeVirtualMemFree", api.zeVirtualMemFree.is_some()),
            ("zePhysicalMemCreate", api.zePhysicalMemCreate.is_some()),
            ("zePhysicalMemDestroy", api.zePhysicalMemDestroy.is_some()),
            ("zeVirtualMemMap", api.zeVirtualMemMap.is_some()),
            ("zeVirtualMemUnmap", api.zeVirtualMemUnmap.is_some()),
        ] {
            if !present {
                return Err(Error::MissingFunction(level_zero_sys::MissingFunction {
                    name,
                }));
            }
        }
        let wanted = usize::try_from(config.expandable_chunk).unwrap_or(usize::MAX);
        let chunk = wanted.max(page_size(ctx, device, wanted)?);
        let reserve = match config.expandable_reserve {
            Some(r) => r,
            // Twice the memory: addresses are free, and the room lets unmapped holes sit
            // between mapped extents without blocking growth.
            None => device.total_memory()?.saturating_mul(2),
        };
        let reserve = usize::try_from(reserve)
            .ok()
            .and_then(|r| r.checked_next_multiple_of(chunk))
            .filter(|&r| r > 0)
            .ok_or_else(|| {
                Error::invalid(
                    "CachingAllocator::new",
                    format!("an expandable segment of {reserve} bytes"),
                )
            })?;
        let reserve = reserve.next_multiple_of(page_size(ctx, device, reserve)?);
        let mut bases = [0; 2];
        for (i, pool) in [Pool::Small, Pool::Large].into_iter().enumerate() {
            let range = VirtualRange::reserve(ctx, device, reserve)?;
            let base = range.as_ptr() as usize;
            bases[i] = base;
            state.segments.insert(
                base,
                Segment {
                    backing: Backing::Expandable(Expandable {
                        range,
                        chunk,
                        chunks: BTreeMap::new(),
                    }),
                    size: reserve,
                    pool,
                },
            );
            state.stats.segment.add(pool, 1);
        }
        Ok(bases)
    }

    /// The context.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.inner.device
    }

    /// The configuration.
    pub fn config(&self) -> &AllocatorConfig {
        &self.inner.config
    }

    /// A buffer of `len` elements (contents unspecified, as [`DeviceBuffer::new`]'s), from
    /// the cache when a free block fits, else from a new segment.
    ///
    /// Errors: [`Error::InvalidArgument`] when `T` needs an alignment above
    /// [`Self::ALIGNMENT`] or the size overflows; [`Error::OutOfDeviceMemory`] when the
    /// driver has no memory even after the cache was emptied; other driver errors as they
    /// come. A request of zero bytes returns an empty buffer without touching the pools.
    pub fn alloc<T: Pod>(&self, len: usize) -> Result<DeviceBuffer<T>> {
        self.alloc_aligned(len, 0)
    }

    /// [`Self::alloc`] with an alignment in bytes (a power of two up to
    /// [`Self::ALIGNMENT`]; 0 for `T`'s own).
    pub fn alloc_aligned<T: Pod>(&self, len: usize, alignment: usize) -> Result<DeviceBuffer<T>> {
        const CALL: &str = "CachingAllocator::alloc";
        let align = if alignment == 0 {
            align_of::<T>()
        } else {
            alignment
        };
        if !align.is_power_of_two() {
            return Err(Error::invalid(
                CALL,
                format!("alignment {align} is not a power of two"),
            ));
        }
        if align.max(align_of::<T>()) > Self::ALIGNMENT {
            return Err(Error::invalid(
                CALL,
                format!(
                    "alignment {} (of {}) is above the {} bytes this allocator guarantees; use DeviceBuffer::with_options",
                    align.max(align_of::<T>()),
                    std::any::type_name::<T>(),
                    Self::ALIGNMENT
                ),
            ));
        }
        let bytes = len.checked_mul(size_of::<T>()).ok_or_else(|| {
            Error::invalid(
                CALL,
                format!("{len} elements of {} bytes overflow usize", size_of::<T>()),
            )
        })?;
        if bytes == 0 {
            return DeviceBuffer::new(&self.inner.ctx, &self.inner.device, len);
        }
        if bytes > isize::MAX as usize / 2 {
            return Err(Error::invalid(
                CALL,
                format!("{bytes} bytes are more than any device has"),
            ));
        }
        let (addr, chunks) = self.inner.allocate(bytes)?;
        let owner = Box::new(BlockOwner {
            inner: self.inner.clone(),
            addr,
            chunks,
        });
        // The block is `bytes` (or more) bytes of device memory of this context and device,
        // inside a segment the allocator keeps until the block comes back (the owner holds
        // the allocator; for an expandable segment, also the mappings under the block), and
        // the allocator hands it to no one else meanwhile. A new allocation with fresh
        // hazard marks: the block's previous allocation is gone (a block comes back only
        // then), so no command of it is in flight. Counted: no, its segment (or mapping) is.
        let alloc = Allocation::adopt(
            &self.inner.ctx,
            Some(&self.inner.device),
            AllocationKind::Device,
            addr as *mut c_void,
            bytes,
            false,
            owner,
            None,
        )?;
        DeviceBuffer::from_allocation(CALL, alloc, len)
    }

    /// A buffer holding a copy of `data`, copied through `list` (an immediate list of this
    /// allocator's context that reaches its device; returns once the copy is done).
    pub fn upload<T: Pod>(
        &self,
        list: &mut ImmediateCommandList,
        data: &[T],
    ) -> Result<DeviceBuffer<T>> {
        let buf = self.alloc(data.len())?;
        list.copy_from_slice(&buf, data)?;
        Ok(buf)
    }

    /// A buffer of `len` zeroed elements: a block and a fill appended to `list`
    /// (asynchronous; see [`DeviceBuffer::zeroed`]).
    pub fn alloc_zeroed<T: Pod>(
        &self,
        list: &mut ImmediateCommandList,
        len: usize,
    ) -> Result<DeviceBuffer<T>> {
        let buf = self.alloc(len)?;
        crate::memory::zero_device(list, &buf)?;
        Ok(buf)
    }

    /// Gives every segment whose blocks are all free back to the driver (`zeMemFree`) and,
    /// in expandable segments, unmaps and destroys every chunk of physical memory that lies
    /// entirely in free blocks (at the end or in the middle); returns the bytes given back.
    /// Blocks still allocated — including those of buffers dropped while unsynchronised
    /// commands use them — keep their segments and chunks.
    ///
    /// Refused inside a host function ([`crate::host_function`]), where the driver calls it
    /// needs are refused: nothing is given back then.
    pub fn empty_cache(&self) -> Result<u64> {
        crate::host_function::refuse("zeMemFree")?;
        let mut state = self.inner.lock();
        let released = self.inner.take_cached(&mut state);
        let bytes = released.bytes();
        let segments = released.segments;
        // Chunks are unmapped under the lock: a later request may map the same pages again,
        // which it could not while they are still mapped. Driver segments are freed after.
        drop(released.chunks);
        drop(state);
        drop(segments);
        Ok(bytes)
    }

    /// The statistics now.
    pub fn stats(&self) -> AllocatorStats {
        let state = self.inner.lock();
        self.inner.stats(&state)
    }

    /// Bytes of blocks handed out now (`stats().allocated_bytes.all.current`).
    pub fn memory_allocated(&self) -> u64 {
        self.inner.lock().stats.allocated_bytes.all.current
    }

    /// Bytes held from the driver now (`stats().reserved_bytes.all.current`).
    pub fn memory_reserved(&self) -> u64 {
        self.inner.lock().stats.reserved_bytes.all.current
    }

    /// Sets every peak to its current value.
    pub fn reset_peak_stats(&self) {
        let mut state = self.inner.lock();
        let s = &mut state.stats;
        for p in [
            &mut s.allocation,
            &mut s.allocated_bytes,
            &mut s.requested_bytes,
            &mut s.segment,
            &mut s.reserved_bytes,
            &mut s.active,
            &mut s.active_bytes,
        ] {
            p.reset_peak();
        }
        for st in [&mut s.oversize_allocations, &mut s.oversize_segments] {
            st.peak = st.current;
        }
    }

    /// The segments and blocks now, with the statistics.
    pub fn memory_snapshot(&self) -> MemorySnapshot {
        let state = self.inner.lock();
        let segments = state
            .segments
            .iter()
            .flat_map(|(&base, seg)| {
                let reservation = seg.expandable().map(|_| (base as u64, seg.size as u64));
                let state = &state;
                seg.extents(base).into_iter().map(move |(start, len)| {
                    let mut blocks: Vec<BlockInfo> = state
                        .blocks
                        .range(start..start + len)
                        .map(|(&a, b)| BlockInfo {
                            address: a as u64,
                            size: b.size as u64,
                            requested_size: b.requested.unwrap_or(0) as u64,
                            allocated: b.requested.is_some(),
                            retired: false,
                        })
                        .chain(
                            state
                                .retired
                                .range(start..start + len)
                                .map(|(&a, &(n, _))| BlockInfo {
                                    address: a as u64,
                                    size: n as u64,
                                    requested_size: 0,
                                    allocated: false,
                                    retired: true,
                                }),
                        )
                        .collect();
                    blocks.sort_by_key(|b| b.address);
                    SegmentInfo {
                        address: start as u64,
                        total_size: len as u64,
                        expandable: reservation.is_some(),
                        reservation,
                        allocated_size: blocks.iter().filter(|b| b.allocated).map(|b| b.size).sum(),
                        pool: seg.pool,
                        blocks,
                    }
                })
            })
            .collect();
        let stats = self.inner.stats(&state);
        drop(state);
        MemorySnapshot {
            device: self.inner.device_name(),
            config: self.inner.config.clone(),
            segments,
            stats,
        }
    }
}
