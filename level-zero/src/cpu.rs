//! The embedded CPU driver (cargo feature `cpu`): independent driver instances and the
//! driver's testing extension.
//!
//! [`Runtime::cpu`] gives the CPU driver's default instance (configured from
//! `LEVEL_ZERO_CPU_*` environment variables). [`driver`] creates a further, independent
//! instance with its own [`Config`] — device count, memory, faults to inject — and its own
//! live-object counts: what tests use to run in parallel without disturbing each other.
//!
//! ```
//! # fn main() -> Result<(), level_zero::Error> {
//! let mut config = level_zero::cpu::Config::default();
//! config.devices = 3;
//! config.fail_alloc_at = Some(2); // the second allocation fails
//! let driver = level_zero::cpu::driver(config)?;
//! assert_eq!(driver.devices()?.len(), 3);
//! # Ok(()) }
//! ```

use std::ffi::CStr;

use level_zero_cpu::testing;

use crate::device::Device;
use crate::driver::{Driver, ExtensionFunction};
use crate::error::{Error, Result, ResultCode};
use crate::runtime::Runtime;

pub use level_zero_cpu::testing::{
    zex_cpu_live_objects_t as LiveObjects, zex_cpu_residency_t as Residency,
};
pub use level_zero_cpu::{Config, Sysman};

/// A new, independent instance of the embedded CPU driver. Instances live for the rest of
/// the process (like any loaded driver).
pub fn driver(config: Config) -> Result<Driver> {
    let rt = Runtime::cpu()?;
    Ok(Driver::new(rt, level_zero_cpu::new_driver(config)))
}

fn testing_function(driver: &Driver, name: &'static CStr) -> Result<*mut std::ffi::c_void> {
    let ext = testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME
        .to_str()
        .unwrap_or_default();
    if !driver.has_extension(ext) {
        return Err(Error::Unsupported {
            what: "the CPU driver's testing extension",
            why: format!("the driver does not advertise {ext} (it is not level-zero-cpu)"),
        });
    }
    match driver.extension_function(name)? {
        ExtensionFunction::Found(f) => Ok(f.as_ptr()),
        ExtensionFunction::Unavailable { code } => Err(Error::Call {
            call: "zeDriverGetExtensionFunctionAddress",
            code,
        }),
    }
}

/// The live-object counts of a CPU-driver instance (embedded, or through the loader), read
/// with the `ZEX_cpu_driver_testing` extension: what leak tests assert on.
pub fn live_objects(driver: &Driver) -> Result<LiveObjects> {
    let f = testing_function(driver, testing::ZEX_CPU_DRIVER_GET_LIVE_OBJECTS_FN)?;
    type LiveFn = unsafe extern "C" fn(
        level_zero_sys::ze_driver_handle_t,
        *mut LiveObjects,
    ) -> level_zero_sys::ze_result_t;
    // SAFETY: the driver returned this non-null address for this extension function, whose
    // signature `zex_pfnCpuDriverGetLiveObjects_t` documents.
    let f: LiveFn = unsafe { std::mem::transmute(f) };
    let mut out = LiveObjects::default();
    // SAFETY: the driver's own handle and a valid output.
    let r = unsafe { f(driver.native_handle(), &mut out) };
    if !r.is_success() {
        return Err(Error::Call {
            call: "zexCpuDriverGetLiveObjects",
            code: ResultCode(r),
        });
    }
    Ok(out)
}

/// What the CPU driver recorded about memory residency on `device` (calls to
/// `zeContextMakeMemoryResident`/`zeContextEvictMemory` that reached it, and what is resident).
pub fn residency(device: &Device) -> Result<Residency> {
    let f = testing_function(device.driver(), testing::ZEX_CPU_DEVICE_GET_RESIDENCY_FN)?;
    type ResidencyFn = unsafe extern "C" fn(
        level_zero_sys::ze_device_handle_t,
        *mut Residency,
    ) -> level_zero_sys::ze_result_t;
    // SAFETY: as for `live_objects`, with `zex_pfnCpuDeviceGetResidency_t`.
    let f: ResidencyFn = unsafe { std::mem::transmute(f) };
    let mut out = Residency::default();
    // SAFETY: the driver's own handle and a valid output.
    let r = unsafe { f(device.native_handle(), &mut out) };
    if !r.is_success() {
        return Err(Error::Call {
            call: "zexCpuDeviceGetResidency",
            code: ResultCode(r),
        });
    }
    Ok(out)
}
