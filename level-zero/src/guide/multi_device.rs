//! Several devices: choosing them, sharing a context, and copying between them.
//!
//! # Choosing devices
//!
//! [`Runtime::devices`](crate::Runtime::devices) lists every root device of every driver in
//! a stable order; [`DeviceFilter`](crate::DeviceFilter) picks among them (discrete or
//! integrated, a device type, a minimum of memory, the one with the most memory). The
//! environment can hide or reshape devices before the program sees them (`ZE_AFFINITY_MASK`,
//! `ZE_FLAT_DEVICE_HIERARCHY`): [`crate::select`] explains what each does. Tiles of a
//! multi-tile GPU appear as [`Device::sub_devices`](crate::Device::sub_devices) or as root
//! devices, depending on that hierarchy.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{DeviceFilter, Runtime};
//!
//! let rt = Runtime::init()?;
//! for device in rt.devices()? {
//!     println!("{}: discrete {}", device.name()?, device.is_discrete()?);
//! }
//! // The device with the most memory among those with at least 1 GiB, if any.
//! let best = DeviceFilter::new().min_memory(1 << 30).most_memory(&rt)?;
//! println!("{:?}", best.map(|d| d.name().map(str::to_owned)));
//! # Ok(()) }
//! ```
//!
//! # One context, several devices
//!
//! A context made with [`Context::new`](crate::Context::new) spans every device of its
//! driver; [`Context::with_devices`](crate::Context::with_devices) takes a subset. Memory,
//! lists and events of one context can be used together: a list of device 0 can copy into a
//! buffer of device 1 when device 0 can reach device 1's memory
//! ([`Device::can_access_peer`](crate::Device::can_access_peer)), and hazard tracking orders
//! the commands of both devices' lists on shared buffers. Objects of different contexts do
//! not mix; the crate refuses such a command before calling the driver.
//!
//! # Peer copies
//!
//! [`copy_peer`](crate::copy_peer) copies a buffer of one device into a buffer of another and
//! says how it did it ([`PeerPath`](crate::PeerPath)): directly, device to device, when the
//! devices share a context and the source can reach the destination; otherwise staged
//! through host memory. [`copy_peer_with`](crate::copy_peer_with) and
//! [`PeerPolicy`](crate::PeerPolicy) force staging. For repeated direct copies, keep an
//! immediate list of the source device and call its
//! [`copy`](crate::ImmediateCommandList::copy), which accepts peer memory.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{Context, DeviceBuffer, ImmediateCommandList, PeerPath, Runtime, copy_peer};
//!
//! let rt = Runtime::init()?;
//! let driver = &rt.drivers()[0];
//! let devices = driver.devices()?;
//! # if devices.len() < 2 { return Ok(()); }
//! let ctx = Context::new(driver)?;
//! let mut list0 = ImmediateCommandList::compute(&ctx, &devices[0])?;
//! let a = DeviceBuffer::from_slice(&mut list0, &[1u64, 2, 3, 4])?;
//! let b = DeviceBuffer::<u64>::new(&ctx, &devices[1], 4)?;
//!
//! let path = copy_peer(&b, &a)?; // returns once the copy is done
//! if devices[0].can_access_peer(&devices[1])? {
//!     assert_eq!(path, PeerPath::Direct);
//! }
//! let mut list1 = ImmediateCommandList::compute(&ctx, &devices[1])?;
//! assert_eq!(b.to_vec(&mut list1)?, [1, 2, 3, 4]);
//!
//! // The same, directly on device 0's list: a copy into peer memory.
//! if devices[0].can_access_peer(&devices[1])? {
//!     list0.copy(&b, &a)?;
//!     list0.synchronize()?;
//! }
//! # Ok(()) }
//! ```
//!
//! # Residency: only where the memory is used
//!
//! [`Context::make_resident`](crate::Context::make_resident) pages memory in for one device,
//! [`Context::evict`](crate::Context::evict) pages it out. The crate never calls either on its
//! own, and peer copies make nothing resident on the other device. That is deliberate:
//! making every allocation resident on the *peer* devices of a multi-device context is what
//! made dual-GPU systems mirror device memory in host RAM. Call `make_resident` only for the
//! device that will use the memory.
//!
//! # Watching memory
//!
//! [`Device::allocation_stats`](crate::Device::allocation_stats) counts what this process
//! allocated on each device (kept by the crate, always on), and
//! [`Device::memory_state`](crate::Device::memory_state) asks the driver's sysman for the
//! device's free and total memory. The `memory_report` example prints both.
