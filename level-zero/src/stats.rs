//! Memory accounting: what this process has allocated through this crate, per device and per
//! kind of allocation. Always on; each allocation and free costs a few atomic operations.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! let before = device.allocation_stats();
//! let buf = level_zero::DeviceBuffer::<u8>::new(&ctx, device, 1 << 20)?;
//! let now = device.allocation_stats();
//! assert_eq!(now.device.bytes, before.device.bytes + (1 << 20));
//! drop(buf);
//! assert_eq!(device.allocation_stats().device.bytes, before.device.bytes);
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::device::Device;
use crate::driver::Driver;

/// Counts of one kind of allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AllocationStats {
    /// Bytes allocated now.
    pub bytes: u64,
    /// The most bytes allocated at any one time.
    pub peak_bytes: u64,
    /// Allocations alive now.
    pub count: u64,
    /// Allocations made so far.
    pub total_count: u64,
}

/// One device's allocations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeviceMemoryStats {
    /// Device allocations (`zeMemAllocDevice`).
    pub device: AllocationStats,
    /// Shared allocations associated with the device (`zeMemAllocShared`).
    pub shared: AllocationStats,
}

impl DeviceMemoryStats {
    /// Bytes of device and shared allocations now.
    pub fn bytes(&self) -> u64 {
        self.device.bytes + self.shared.bytes
    }
}

/// Everything this process allocated through this crate.
#[derive(Clone, Debug, Default)]
pub struct MemoryStats {
    /// Per device that ever had an allocation.
    pub devices: Vec<(Device, DeviceMemoryStats)>,
    /// Host allocations (`zeMemAllocHost`), per driver.
    pub host: Vec<(Driver, AllocationStats)>,
}

/// An atomic counter set behind an [`AllocationStats`].
#[derive(Default, Debug)]
pub(crate) struct Counter {
    bytes: AtomicU64,
    peak: AtomicU64,
    live: AtomicU64,
    total: AtomicU64,
}

impl Counter {
    pub(crate) fn add(&self, bytes: u64) {
        let now = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        // A plain load first: the read-modify-write only when the peak grows.
        if now > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        self.live.fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sub(&self, bytes: u64) {
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.live.fetch_sub(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> AllocationStats {
        AllocationStats {
            bytes: self.bytes.load(Ordering::Relaxed),
            peak_bytes: self.peak.load(Ordering::Relaxed),
            count: self.live.load(Ordering::Relaxed),
            total_count: self.total.load(Ordering::Relaxed),
        }
    }
}

#[derive(Default)]
pub(crate) struct DeviceCounters {
    pub(crate) device: Arc<Counter>,
    pub(crate) shared: Arc<Counter>,
}

#[derive(Default)]
struct Registry {
    devices: Vec<(Device, Arc<DeviceCounters>)>,
    host: Vec<(Driver, Arc<Counter>)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    devices: Vec::new(),
    host: Vec::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// The counters of `device` (the same for every `Device` object of one device handle),
/// looked up in the registry once per `Device` object.
pub(crate) fn device_counters(device: &Device) -> &Arc<DeviceCounters> {
    device
        .inner
        .counters
        .get_or_init(|| register_device(device))
}

fn register_device(device: &Device) -> Arc<DeviceCounters> {
    let mut r = registry();
    if let Some((_, c)) = r.devices.iter().find(|(d, _)| d == device) {
        return c.clone();
    }
    let c = Arc::new(DeviceCounters::default());
    r.devices.push((device.clone(), c.clone()));
    c
}

/// The host-allocation counter of `driver`, looked up in the registry once per `Driver`
/// object.
pub(crate) fn host_counter(driver: &Driver) -> &Arc<Counter> {
    driver
        .inner
        .host_counter
        .get_or_init(|| register_host(driver))
}

fn register_host(driver: &Driver) -> Arc<Counter> {
    let mut r = registry();
    if let Some((_, c)) = r.host.iter().find(|(d, _)| d == driver) {
        return c.clone();
    }
    let c = Arc::new(Counter::default());
    r.host.push((driver.clone(), c.clone()));
    c
}

/// A snapshot of everything this process allocated through this crate.
pub fn memory_stats() -> MemoryStats {
    let r = registry();
    MemoryStats {
        devices: r
            .devices
            .iter()
            .map(|(d, c)| {
                (
                    d.clone(),
                    DeviceMemoryStats {
                        device: c.device.snapshot(),
                        shared: c.shared.snapshot(),
                    },
                )
            })
            .collect(),
        host: r
            .host
            .iter()
            .map(|(d, c)| (d.clone(), c.snapshot()))
            .collect(),
    }
}

impl Device {
    /// What this process has allocated on this device through this crate.
    pub fn allocation_stats(&self) -> DeviceMemoryStats {
        let c = device_counters(self);
        DeviceMemoryStats {
            device: c.device.snapshot(),
            shared: c.shared.snapshot(),
        }
    }
}

impl Driver {
    /// What this process has allocated as host memory (`zeMemAllocHost`) through this
    /// driver and this crate.
    pub fn host_allocation_stats(&self) -> AllocationStats {
        host_counter(self).snapshot()
    }
}
