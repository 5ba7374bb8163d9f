//! Safe, idiomatic bindings to Intel's oneAPI **Level Zero** API.
//!
//! ```
//! use level_zero::{Context, DeviceBuffer, ImmediateCommandList, Runtime};
//! # fn main() -> Result<(), level_zero::Error> {
//! let rt = Runtime::init()?; // the system loader, or the embedded CPU driver
//! let driver = &rt.drivers()[0];
//! let device = &driver.devices()?[0];
//! let ctx = Context::new(driver)?;
//!
//! // Device memory straight from zeMemAllocDevice: no host shadow.
//! let buf = DeviceBuffer::<f32>::new(&ctx, device, 1024)?;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! list.copy_from_slice(&buf, &vec![1.5; 1024])?;
//! let mut back = vec![0.0; 1024];
//! list.copy_to_slice(&mut back, &buf)?;
//! assert!(back.iter().all(|&x| x == 1.5));
//! # Ok(()) }
//! ```
//!
//! # Backends
//!
//! [`Runtime`] loads the system's Level Zero loader (which dispatches to every installed
//! driver), or the CPU driver embedded with the `cpu` cargo feature (no loader needed), or
//! chooses: [`Backend::Auto`] takes the system loader when it loads and reports a driver,
//! else the embedded driver. The environment variable `LEVEL_ZERO_BACKEND` (`system`, `cpu`,
//! `auto`) overrides the choice, which is logged through the `log` facade.
//!
//! # Ownership and soundness
//!
//! Objects are RAII: dropping one destroys its Level Zero object, never panics, and logs a
//! failed destroy. Everything created in a [`Context`] keeps the context alive, so drop order
//! does not matter.
//!
//! Asynchronous work is sound by *keep-alive tracking*: every command keeps what it uses
//! (buffers, images, events, fill patterns, kernels, samplers) alive until its list or queue
//! has seen it complete, so dropping a buffer or an image never frees memory the device may
//! still use. Host access
//! to host and shared buffers goes through guards that refuse to coexist with device work
//! that may touch the same memory (see [`memory`]). Borrowed host slices are only used by
//! the copies that wait for completion before returning
//! ([`ImmediateCommandList::copy_from_slice`], [`ImmediateCommandList::copy_to_slice`], and
//! for images [`ImmediateCommandList::copy_slice_to_image`],
//! [`ImmediateCommandList::copy_image_to_slice`]).
//! What counts as "complete", and what a drop does with work that never completes, is decided
//! in one place: [`completion`].
//!
//! Commands of different lists and queues of a context that use the same buffer or image
//! run in the order the host issued them ([`hazard`]: read after write, write after read,
//! write after write), as a program reads: a copy on one list sees what another list wrote
//! before it, synchronised or not. Work that stays on one list pays (almost) nothing for it.
//! The rules, and the tests that pin each one, are listed in `docs/SOUNDNESS.md`.
//!
//! # Threads
//!
//! Following the Level Zero threading rules: drivers, devices, contexts, buffers, images,
//! samplers, events, event pools and fences are `Send + Sync`; command lists and queues are `Send` but not
//! `Sync`, and take `&mut self` to record or submit (Level Zero forbids doing that to one
//! list or queue from several threads at once):
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>(_: &T) {}
//! fn check(list: &level_zero::ImmediateCommandList) { shared(list) }
//! ```
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>(_: &T) {}
//! fn check(list: &level_zero::CommandList) { shared(list) }
//! ```
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>(_: &T) {}
//! fn check(kernel: &level_zero::Kernel) { shared(kernel) }
//! ```
//!
//! They can move to another thread, though:
//!
//! ```
//! fn movable<T: Send>(_: T) {}
//! fn check(list: level_zero::ImmediateCommandList, queue: level_zero::CommandQueue) {
//!     movable(list);
//!     movable(queue);
//! }
//! ```
//!
//! # What the compiler refuses
//!
//! A slice of a buffer cannot outlive the buffer:
//!
//! ```compile_fail,E0515
//! fn escape(ctx: &level_zero::Context, dev: &level_zero::Device) -> level_zero::BufferSlice<'static, u8> {
//!     let buf = level_zero::DeviceBuffer::<u8>::new(ctx, dev, 16).unwrap();
//!     buf.slice(0..8)
//! }
//! ```
//!
//! A host guard cannot outlive its buffer:
//!
//! ```compile_fail,E0515
//! fn escape(ctx: &level_zero::Context) -> level_zero::HostSlice<'static, u8> {
//!     let buf = level_zero::HostBuffer::<u8>::new(ctx, 16).unwrap();
//!     buf.as_slice().unwrap()
//! }
//! ```
//!
//! And while the host writes a buffer, no command can use it:
//!
//! ```compile_fail,E0502
//! fn race(
//!     list: &mut level_zero::ImmediateCommandList,
//!     host: &mut level_zero::HostBuffer<u8>,
//!     dev: &level_zero::DeviceBuffer<u8>,
//! ) {
//!     let mut w = host.as_mut_slice().unwrap();
//!     list.copy(dev, &*host).unwrap(); // the device would read what the host is writing
//!     w[0] = 1;
//! }
//! ```
//!
//! # Properties that never crash
//!
//! Property queries return owned Rust types. Extension data is requested only when the
//! driver advertises the extension, extension functions are called only when the driver
//! returns a non-NULL pointer for them, and data a driver cannot give gets a documented
//! default marked as such ([`Provenance`]). [`Device::vector_widths`] is the case that
//! crashed runtimes which called a NULL `zeDeviceGetVectorWidthPropertiesExt`.
//!
//! # The raw layer
//!
//! [`Runtime::api`] gives the [`level_zero_sys::Api`] table and every object has `as_raw()`,
//! for whatever this crate does not wrap.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod alloc;
pub mod completion;
pub mod context;
#[cfg(feature = "cpu")]
pub mod cpu;
pub mod device;
pub mod driver;
pub mod error;
pub mod event;
pub mod graph;
pub mod guide;
mod handle;
pub mod hazard;
pub mod host_function;
pub mod image;
pub mod ipc;
pub mod launch;
pub mod list;
pub mod memory;
pub mod module;
pub mod peer;
pub mod properties;
pub mod queue;
pub mod runtime;
pub mod sampler;
pub mod select;
pub mod stats;
pub mod sysman;
pub mod trace;
pub mod virtual_memory;

pub use alloc::{AllocatorConfig, AllocatorStats, CachingAllocator, MemorySnapshot};
pub use completion::deliberate_leaks;
pub use context::Context;
pub use device::Device;
pub use driver::{Driver, ExtensionFunction};
pub use error::{Error, Result, ResultCode};
pub use event::{CounterEventFlags, Event, EventPool, EventPoolFlags, EventScope, KernelTimestamp};
pub use graph::{Capture, ExecutableGraph, Graph};
pub use image::{
    ChannelType, Image, ImageDesc, ImageFlags, ImageFormat, ImageFormatSupport,
    ImageMemoryProperties, ImageRegion, ImageType, SamplerFilters,
};
pub use launch::{KernelArg, LaunchBuilder, LaunchConfig, Local};
pub use list::{CommandList, ImmediateCommandList};
pub use memory::{
    AllocOptions, AllocationKind, BufferSlice, DeviceBuffer, HostBuffer, HostSlice, HostSliceMut,
    Memory, SharedBuffer,
};
pub use module::{BuildOptions, FunctionPointer, IndirectAccess, Kernel, KernelProperties, Module};
pub use peer::{PeerPath, PeerPolicy, copy_peer, copy_peer_with};
pub use properties::*;
pub use queue::{CommandQueue, Fence, Ordering, QueueDesc, QueueMode, QueuePriority};
pub use runtime::{Backend, BackendKind, Runtime};
pub use sampler::{AddressMode, FilterMode, Sampler, SamplerDesc};
pub use select::DeviceFilter;
pub use stats::{AllocationStats, DeviceMemoryStats, MemoryStats, memory_stats};
pub use sysman::{MemorySource, MemoryState, MemoryUsage, SysmanUnavailable};

/// The bytes of the SPIR-V module `name` that `level-zero-build` wrote into this package's
/// `OUT_DIR` (compiled from `name.cl`, or its committed fallback), as a `&'static [u8; N]`:
/// `include_bytes!(concat!(env!("OUT_DIR"), "/", name, ".spv"))`.
///
/// ```ignore
/// // build.rs: level_zero_build::Kernels::new().source("kernels/vector_add.cl").compile()
/// const VECTOR_ADD: &[u8] = level_zero::include_spirv!("vector_add");
/// ```
#[macro_export]
macro_rules! include_spirv {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".spv"))
    };
}

/// The raw bindings this crate is built on.
pub use level_zero_sys as sys;
