//! Choosing devices.
//!
//! [`Runtime::devices`] lists every root device of every driver, in the drivers' order then
//! each driver's device order: stable for a given system and environment. [`DeviceFilter`]
//! picks among them ("the discrete GPU with the most memory").
//!
//! # What the environment changes
//!
//! - `ZE_AFFINITY_MASK` (e.g. `0,2` or `0.1`) hides devices (or sub-devices) from the process
//!   before any of this runs: the driver applies it (loaders up to 1.8 do not read it), and the
//!   visible devices are renumbered from 0, in their usual order (Intel's driver and the CPU
//!   driver ignore the order of the mask). A mask hiding every device of a driver hides the
//!   driver too (its `zeInit` fails).
//! - `ZE_FLAT_DEVICE_HIERARCHY` decides what a "device" is on multi-tile GPUs: `COMPOSITE`
//!   (root devices, tiles as [`Device::sub_devices`]), `FLAT` (each tile a root device; the
//!   default of recent drivers) or `COMBINED` (tiles as root devices, with
//!   `zeDeviceGetRootDevice` giving the card). Code that must not assume either should look at
//!   [`DeviceFlags::SUBDEVICE`](crate::DeviceFlags::SUBDEVICE) and [`Device::root_device`].
//! - `ZE_ENABLE_PCI_ID_DEVICE_ORDER=1` orders devices by PCI address.

use crate::device::Device;
use crate::error::{Error, Result};
use crate::properties::{DeviceFlags, DeviceType};
use crate::runtime::Runtime;

impl Runtime {
    /// Every root device of every driver, in a stable order (drivers' order, then each
    /// driver's device order).
    pub fn devices(&self) -> Result<Vec<Device>> {
        let mut all = Vec::new();
        for d in self.drivers() {
            all.extend(d.devices()?);
        }
        Ok(all)
    }
}

impl Device {
    /// Whether the device is integrated (shares memory with the host: an iGPU).
    pub fn is_integrated(&self) -> Result<bool> {
        Ok(self.properties()?.flags.contains(DeviceFlags::INTEGRATED))
    }

    /// Whether the device is discrete (has its own memory: a dGPU).
    pub fn is_discrete(&self) -> Result<bool> {
        Ok(!self.is_integrated()?)
    }

    /// Whether the device is a sub-device (a tile) of a root device.
    pub fn is_sub_device(&self) -> Result<bool> {
        Ok(self.properties()?.flags.contains(DeviceFlags::SUBDEVICE))
    }

    /// The root device of a sub-device (`zeDeviceGetRootDevice`), or `None` for a root
    /// device. Loaders before API 1.7 lack the function: a sub-device then gives a
    /// [`Error::MissingFunction`].
    pub fn root_device(&self) -> Result<Option<Device>> {
        if !self.is_sub_device()? {
            return Ok(None);
        }
        let mut root = std::ptr::null_mut();
        // SAFETY: valid handle and output.
        unsafe { crate::error::ze!(self.api(), zeDeviceGetRootDevice(self.as_raw(), &mut root))? };
        Ok((!root.is_null()).then(|| Device::new(self.driver().clone(), root)))
    }
}

/// A filter over devices, and choices among the ones it keeps.
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// let rt = level_zero::Runtime::init()?;
/// // The discrete GPU with the most memory, else any device with the most memory.
/// let device = level_zero::DeviceFilter::new()
///     .device_type(level_zero::DeviceType::Gpu)
///     .discrete()
///     .most_memory(&rt)?
///     .map_or_else(|| level_zero::DeviceFilter::new().most_memory(&rt), |d| Ok(Some(d)))?;
/// assert!(device.is_some());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    device_type: Option<DeviceType>,
    discrete: Option<bool>,
    min_memory: u64,
}

impl DeviceFilter {
    /// Keeps every device.
    pub fn new() -> DeviceFilter {
        DeviceFilter::default()
    }

    /// Keeps devices of this type.
    pub fn device_type(mut self, t: DeviceType) -> DeviceFilter {
        self.device_type = Some(t);
        self
    }

    /// Keeps discrete devices.
    pub fn discrete(mut self) -> DeviceFilter {
        self.discrete = Some(true);
        self
    }

    /// Keeps integrated devices.
    pub fn integrated(mut self) -> DeviceFilter {
        self.discrete = Some(false);
        self
    }

    /// Keeps devices with at least `bytes` of memory.
    pub fn min_memory(mut self, bytes: u64) -> DeviceFilter {
        self.min_memory = bytes;
        self
    }

    /// Whether `device` passes the filter.
    pub fn matches(&self, device: &Device) -> Result<bool> {
        let p = device.properties()?;
        if self.device_type.is_some_and(|t| t != p.device_type) {
            return Ok(false);
        }
        if self.discrete.is_some_and(|d| d != p.is_discrete()) {
            return Ok(false);
        }
        if self.min_memory > 0 && device.total_memory()? < self.min_memory {
            return Ok(false);
        }
        Ok(true)
    }

    /// Every device of `rt` that passes, in [`Runtime::devices`] order.
    pub fn select(&self, rt: &Runtime) -> Result<Vec<Device>> {
        self.select_from(rt.devices()?)
    }

    /// Every device of `devices` that passes, in their order.
    pub fn select_from(&self, devices: impl IntoIterator<Item = Device>) -> Result<Vec<Device>> {
        let mut out = Vec::new();
        for d in devices {
            if self.matches(&d)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// The passing device of `rt` with the most memory (the first of equals), if any.
    pub fn most_memory(&self, rt: &Runtime) -> Result<Option<Device>> {
        self.most_memory_from(rt.devices()?)
    }

    /// The passing device of `devices` with the most memory (the first of equals), if any.
    pub fn most_memory_from(
        &self,
        devices: impl IntoIterator<Item = Device>,
    ) -> Result<Option<Device>> {
        let mut best: Option<(u64, Device)> = None;
        for d in self.select_from(devices)? {
            let m = d.total_memory()?;
            if best.as_ref().is_none_or(|(b, _)| m > *b) {
                best = Some((m, d));
            }
        }
        Ok(best.map(|(_, d)| d))
    }

    /// The first passing device, or an error saying none passed.
    pub fn first(&self, rt: &Runtime) -> Result<Device> {
        self.select(rt)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoBackend(format!("no device matches {self:?}")))
    }
}
