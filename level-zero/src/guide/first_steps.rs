//! First steps: a runtime, a device, a context, and a round trip through device memory.
//!
//! # The runtime
//!
//! Level Zero is reached through a *loader* (`libze_loader.so`) that dispatches to the
//! installed drivers. [`Runtime::init`](crate::Runtime::init) opens it at run time — nothing
//! is linked at build time, so a program builds on any machine — and, when the crate's `cpu`
//! feature is on and no GPU driver answers, falls back to the CPU driver compiled into the
//! program. [`Runtime::new`](crate::Runtime::new) takes an explicit
//! [`Backend`](crate::Backend); the environment variable `LEVEL_ZERO_BACKEND` (`system`,
//! `cpu` or `auto`) overrides the automatic choice without a rebuild.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::Runtime;
//!
//! let rt = Runtime::init()?;
//! println!("backend: {}", rt.backend()); // "system loader (...)" or "embedded CPU driver"
//! for driver in rt.drivers() {
//!     println!("driver, API {:?}", driver.api_version()?);
//!     for device in driver.devices()? {
//!         println!("  {} ({} bytes of memory)", device.name()?, device.total_memory()?);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! A runtime is cheap to clone and lives as long as anything made from it: drivers, devices
//! and everything below hold a reference to it.
//!
//! # Contexts
//!
//! Almost everything is created in a [`Context`](crate::Context): buffers, lists, queues,
//! events, modules. A context spans some or all devices of *one* driver
//! ([`Context::new`](crate::Context::new) takes them all,
//! [`Context::with_devices`](crate::Context::with_devices) a subset). Objects keep their
//! context alive, so drop order never matters.
//!
//! # A first round trip
//!
//! [`DeviceBuffer`](crate::DeviceBuffer) is memory of one device (`zeMemAllocDevice`), which
//! the host cannot touch directly. An [`ImmediateCommandList`](crate::ImmediateCommandList)
//! runs each command as it is appended; its
//! [`copy_from_slice`](crate::ImmediateCommandList::copy_from_slice) and
//! [`copy_to_slice`](crate::ImmediateCommandList::copy_to_slice) move data between host
//! slices and device memory and wait for the copy, so the slices are free again when they
//! return.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{Context, DeviceBuffer, ImmediateCommandList, Runtime};
//!
//! let rt = Runtime::init()?;
//! let driver = &rt.drivers()[0];
//! let device = &driver.devices()?[0];
//! let ctx = Context::new(driver)?;
//!
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let buf = DeviceBuffer::<u32>::new(&ctx, device, 256)?;
//! list.fill(&buf, 0xABCD_u32)?; // asynchronous: the list runs it
//! let mut back = vec![0u32; 256];
//! list.copy_to_slice(&mut back, &buf)?; // in order after the fill, and waits for itself
//! assert!(back.iter().all(|&x| x == 0xABCD));
//!
//! // The shortcuts: upload a slice, read a buffer back.
//! let data = DeviceBuffer::from_slice(&mut list, &[1.0f32, 2.0, 3.0])?;
//! assert_eq!(data.to_vec(&mut list)?, [1.0, 2.0, 3.0]);
//! # Ok(()) }
//! ```
//!
//! Element types are any [`bytemuck::Pod`] type: integers, floats, `half::f16`, arrays and
//! `#[repr(C)]` structs deriving `Pod`.
//!
//! # Errors
//!
//! Every fallible function returns [`Result<T>`](crate::Result) with one error type,
//! [`Error`](crate::Error). The variants worth knowing first:
//!
//! - [`Error::Call`](crate::Error::Call): a Level Zero call failed; it names the call and
//!   the result code ([`ResultCode`](crate::ResultCode) has its name and description).
//! - [`Error::InvalidArgument`](crate::Error::InvalidArgument): the crate refused the
//!   request before calling the driver (a wrong length, a device of another context, ...).
//! - [`Error::Busy`](crate::Error::Busy): host access to memory the device may be using, or
//!   device work on memory the host holds (see [`memory`](super::memory)).
//! - [`Error::MissingFunction`](crate::Error::MissingFunction) and
//!   [`Error::Unsupported`](crate::Error::Unsupported): the driver lacks a function or an
//!   extension; nothing is ever called through a NULL pointer.
//! - [`Error::ModuleBuild`](crate::Error::ModuleBuild): a SPIR-V module did not build; it
//!   carries the driver's build log.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, Error, ImmediateCommandList};
//!
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let small = DeviceBuffer::<u8>::new(&ctx, device, 4)?;
//! // Eight bytes do not fit in four: refused before any driver call.
//! let err = list.copy_from_slice(&small, &[0u8; 8]).unwrap_err();
//! assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
//! # Ok(()) }
//! ```
//!
//! # Where next
//!
//! [`memory`](super::memory) for the kinds of memory and the rules of host access,
//! [`commands`](super::commands) for lists and ordering, [`kernels`](super::kernels) to run
//! your own code on the device.
