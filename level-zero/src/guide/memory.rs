//! Memory and ownership: which buffer to use, who may touch it when, and how long it lives.
//!
//! # Three kinds of buffer
//!
//! | type | Level Zero call | who can touch it |
//! | --- | --- | --- |
//! | [`DeviceBuffer<T>`](crate::DeviceBuffer) | `zeMemAllocDevice` | the device only; the host goes through copies |
//! | [`HostBuffer<T>`](crate::HostBuffer) | `zeMemAllocHost` | the host (through guards) and every device of the context |
//! | [`SharedBuffer<T>`](crate::SharedBuffer) | `zeMemAllocShared` | the host (through guards) and its device, the driver migrating pages |
//!
//! Device memory is what large data should live in: it is never mirrored in host memory.
//! Host buffers are the staging area for copies the host wants to overlap with other work.
//! All three implement [`Memory<T>`](crate::Memory), the trait the list commands take, as do
//! their [`BufferSlice`](crate::BufferSlice)s ([`slice`](crate::DeviceBuffer::slice),
//! [`get`](crate::DeviceBuffer::get)), so a command can use part of a buffer. Allocation
//! options (alignment, relaxed size limits above `maxMemAllocSize`) are
//! [`AllocOptions`](crate::AllocOptions).
//!
//! # Keep-alive: dropping is always safe
//!
//! Commands run after the call that appended them returns. Every command therefore holds a
//! reference to the memory it uses until its list or queue has *seen* it complete (a
//! synchronisation). Dropping a buffer only drops your reference: the memory is freed when
//! the last command using it is known to be done.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, ImmediateCommandList};
//!
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let src = DeviceBuffer::<f32>::new(&ctx, device, 1 << 16)?;
//! let dst = DeviceBuffer::<f32>::new(&ctx, device, 1 << 16)?;
//! list.fill(&src, 1.0)?;
//! list.copy(&dst, &src)?;
//! drop(src); // the copy may still be reading it: the list keeps the memory
//! list.synchronize()?; // now the list has seen the copy complete, and frees `src`
//! assert!(dst.to_vec(&mut list)?.iter().all(|&x| x == 1.0));
//! # Ok(()) }
//! ```
//!
//! The one thing that *could* outlive its owner, a borrowed host slice, is only accepted by
//! the copies that wait for completion before returning
//! ([`copy_from_slice`](crate::ImmediateCommandList::copy_from_slice),
//! [`copy_to_slice`](crate::ImmediateCommandList::copy_to_slice)). What happens to work that
//! never completes (a lost device, a timeout while dropping a list) is described in
//! [`crate::completion`]: memory it may still use is leaked rather than freed.
//!
//! # Host access guards
//!
//! Host and shared memory can be read and written by the host, but not while the device may
//! be writing it (or, for writes, reading it). [`HostBuffer::as_slice`](crate::HostBuffer::as_slice)
//! and [`as_mut_slice`](crate::HostBuffer::as_mut_slice) return guards that behave like a
//! `RefCell`'s borrows between host and device: a guard is refused with
//! [`Error::Busy`](crate::Error::Busy) while a submitted command that conflicts with it has
//! not been seen complete, and a command is refused while a conflicting guard exists. Nothing
//! blocks and nothing races; synchronise, then try again.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, Error, HostBuffer, ImmediateCommandList};
//!
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let mut staging = HostBuffer::<u32>::from_slice(&ctx, &[7; 64])?;
//! let dev = DeviceBuffer::<u32>::new(&ctx, device, 64)?;
//!
//! list.copy(&dev, &staging)?; // the device reads `staging`...
//! // ...so the host may read it, but not write it, until the list has seen the copy finish.
//! assert_eq!(staging.as_slice()?[0], 7);
//! assert!(matches!(staging.as_mut_slice(), Err(Error::Busy { .. })));
//! list.synchronize()?;
//! staging.as_mut_slice()?.fill(9); // fine now
//! # Ok(()) }
//! ```
//!
//! The borrow checker covers the other direction: while a write guard is alive, the buffer
//! is mutably borrowed, so no command can even be written that uses it (the crate's top-level
//! documentation shows the compile error).
//!
//! # The caching allocator
//!
//! `zeMemAllocDevice` and `zeMemFree` are slow on a GPU (page-table updates, sometimes a
//! synchronisation). Code that allocates and frees many buffers per step — a framework's
//! tensors — should use [`alloc::CachingAllocator`](crate::alloc::CachingAllocator): it takes
//! large segments from the driver and hands out blocks of them as ordinary
//! [`DeviceBuffer`](crate::DeviceBuffer)s. A dropped block goes back to the cache only once
//! every command that used it has been seen complete, so it can never be handed to someone
//! else while the device still uses it, and the allocator needs no per-stream bookkeeping.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{CachingAllocator, ImmediateCommandList};
//!
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let alloc = CachingAllocator::new(&ctx, device)?;
//! for _step in 0..3 {
//!     let x = alloc.upload(&mut list, &[1.0f32; 1024])?;
//!     let y = alloc.alloc_zeroed::<f32>(&mut list, 1024)?;
//!     list.copy(&y, &x)?;
//!     drop((x, y));
//!     list.synchronize()?; // the blocks come back to the cache here
//! }
//! // Three steps, one segment: the later steps reused the first step's blocks.
//! assert_eq!(alloc.stats().segment.all.current, 1);
//! assert_eq!(alloc.memory_allocated(), 0);
//! alloc.empty_cache(); // give the free segments back to the driver
//! assert_eq!(alloc.memory_reserved(), 0);
//! # Ok(()) }
//! ```
//!
//! The allocator reads `LEVEL_ZERO_ALLOC_CONF` (PyTorch-style settings) and
//! `LEVEL_ZERO_NO_MEMORY_CACHING`; its statistics and snapshots follow PyTorch's names. The
//! [module documentation](crate::alloc) has the pool sizes, the out-of-memory retry and the
//! settings.
//!
//! # Virtual memory
//!
//! [`virtual_memory`](crate::virtual_memory) wraps reserved address ranges
//! ([`VirtualRange`](crate::virtual_memory::VirtualRange)), physical memory
//! ([`PhysicalMemory`](crate::virtual_memory::PhysicalMemory)) and the
//! [`Mapping`](crate::virtual_memory::Mapping)s between them. A mapping is unmapped only when
//! no command can use it any more, and two mappings can never alias the same pages. The
//! ready-made use is [`GrowableBuffer`](crate::virtual_memory::GrowableBuffer): a device
//! buffer that grows in place, its address unchanged.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::virtual_memory::{PageAccess, PhysicalMemory, VirtualRange, page_size};
//!
//! let page = page_size(&ctx, device, 1)?;
//! let range = VirtualRange::reserve(&ctx, device, 4 * page)?;
//! let physical = PhysicalMemory::new(&ctx, device, page)?;
//! // One page of memory, mapped at the range's second page.
//! let mapping = range.map(page, &physical, 0, page, PageAccess::ReadWrite)?;
//! let buf = mapping.buffer::<u8>()?; // a DeviceBuffer like any other
//! assert_eq!(buf.len(), page);
//! # Ok(()) }
//! ```
//!
//! # Sharing memory with another process (IPC)
//!
//! [`ipc::ExportedMemory`](crate::ipc::ExportedMemory) turns a device buffer into a handle of
//! plain bytes that another process opens as a [`DeviceBuffer`](crate::DeviceBuffer) with
//! [`IpcMemoryHandle::open`](crate::ipc::IpcMemoryHandle::open); event pools are shared the
//! same way ([`EventPool::export_ipc`](crate::EventPool::export_ipc)). Opening is `unsafe`
//! because the bytes come from another process. On Intel's GPU driver the handle also needs
//! its file descriptor passed over a Unix socket: see [`crate::ipc`], and
//! [`examples/ipc.rs`](https://github.com/level-zero-rs/level-zero/blob/main/examples/ipc.rs)
//! for a parent and a child sharing a buffer and an event.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! # if !driver.ipc_flags()?.contains(level_zero::IpcFlags::MEMORY) { return Ok(()); }
//! use level_zero::DeviceBuffer;
//! use level_zero::ipc::ExportedMemory;
//!
//! let buf = DeviceBuffer::<u32>::new(&ctx, device, 1024)?;
//! let export = ExportedMemory::new(&buf)?; // keeps `buf`'s memory alive while it lives
//! let text = export.handle().to_hex(); // send this to the other process
//! assert!(!text.is_empty());
//! # Ok(()) }
//! ```
//!
//! # Accounting
//!
//! Every allocation the crate makes is counted, per device and kind:
//! [`Device::allocation_stats`](crate::Device::allocation_stats) and
//! [`memory_stats`](crate::memory_stats) answer "how much device memory does this process
//! hold" without asking the driver, and [`Device::memory_state`](crate::Device::memory_state)
//! asks sysman (with a fallback when it is unavailable).
