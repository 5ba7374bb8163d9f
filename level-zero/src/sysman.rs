//! Device memory state through sysman (`zes`), failing gracefully.
//!
//! Sysman knows a device's free and total memory, but is often unavailable: it needs
//! elevated rights on many systems, older loaders lack its initialisation functions, and
//! some drivers do not implement it. [`Device::memory_state`] says exactly why when it cannot
//! answer ([`SysmanUnavailable`]); [`Device::memory_usage`] never fails: it falls back to what
//! core Level Zero offers (the memory modules' total size, and what this process allocated
//! through this crate).
//!
//! Two ways to reach a device's sysman handle are tried:
//! - the modern one (loader API 1.5+): `zesInit`, `zesDriverGet`, `zesDeviceGet`, and the
//!   device whose `zesDeviceGetProperties` UUID matches the core device's;
//! - the legacy one, for loaders without those functions (Debian's 1.8.12): the core device
//!   handle is the sysman handle, which drivers allow when `ZES_ENABLE_SYSMAN=1` was set
//!   before the first `zeInit`.

use level_zero_sys as sys;

use crate::device::Device;
use crate::error::{Error, ResultCode};

/// Why sysman could not give a device's memory state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SysmanUnavailable {
    /// The loader or driver does not provide a function sysman needs.
    #[error("the loader or driver does not provide {missing}")]
    NotProvided {
        /// The missing function.
        missing: &'static str,
    },
    /// Sysman refused for lack of rights (it often needs root or a group such as `render`).
    #[error("{call} was denied: sysman needs elevated rights on this system")]
    PermissionDenied {
        /// The refused call.
        call: &'static str,
    },
    /// No sysman device matches this core device.
    #[error(
        "no sysman device matches this device (with a loader that lacks zesInit, set ZES_ENABLE_SYSMAN=1 before initialising Level Zero)"
    )]
    DeviceNotFound,
    /// A sysman call failed.
    #[error("{call} failed with {code:?}")]
    CallFailed {
        /// The failing call.
        call: &'static str,
        /// What it returned.
        code: ResultCode,
    },
}

/// Where a memory module is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryLocation {
    /// On the device.
    Device,
    /// In system memory.
    System,
    /// A value these bindings do not know.
    Other(u32),
}

/// One memory module's state, from sysman.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryModuleState {
    /// Where the module is.
    pub location: MemoryLocation,
    /// Its memory technology (`ZES_MEM_TYPE_*` without the prefix).
    pub kind: String,
    /// Physical size in bytes (0 when unknown).
    pub physical_size: u64,
    /// Allocatable size in bytes.
    pub size: u64,
    /// Free bytes.
    pub free: u64,
    /// Health (`ZES_MEM_HEALTH_*` without the prefix).
    pub health: String,
}

/// A device's memory state from sysman.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryState {
    /// Every memory module of the device.
    pub modules: Vec<MemoryModuleState>,
}

impl MemoryState {
    /// Total allocatable bytes of the device-local modules.
    pub fn total(&self) -> u64 {
        self.device_modules().map(|m| m.size).sum()
    }

    /// Free bytes of the device-local modules.
    pub fn free(&self) -> u64 {
        self.device_modules().map(|m| m.free).sum()
    }

    fn device_modules(&self) -> impl Iterator<Item = &MemoryModuleState> {
        self.modules
            .iter()
            .filter(|m| m.location != MemoryLocation::System)
    }
}

/// Where [`MemoryUsage`] figures came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemorySource {
    /// Sysman: `free` is the device's real free memory.
    Sysman,
    /// Core Level Zero only, because sysman is unavailable (the reason): `total` is the
    /// memory modules' size, and `free` is `total` minus what this process allocated on the
    /// device through this crate (other processes' use is not seen).
    CoreFallback(SysmanUnavailable),
}

/// A device's total and free memory, from the best source available.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Total device memory, in bytes.
    pub total: u64,
    /// Free device memory, in bytes (see [`MemorySource`] for what it covers).
    pub free: u64,
    /// Where the figures came from.
    pub source: MemorySource,
}

type SysmanDevice = Result<sys::zes_device_handle_t, SysmanUnavailable>;

fn code_of(
    r: Result<sys::ze_result_t, sys::MissingFunction>,
) -> Result<(), (Option<&'static str>, ResultCode)> {
    match r {
        Ok(r) if r.is_success() => Ok(()),
        Ok(r) => Err((None, ResultCode(r))),
        Err(m) => Err((
            Some(m.name),
            ResultCode(sys::ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE),
        )),
    }
}

fn fail(call: &'static str, e: (Option<&'static str>, ResultCode)) -> SysmanUnavailable {
    match e {
        (Some(missing), _) => SysmanUnavailable::NotProvided { missing },
        (None, code) if code.0 == sys::ze_result_t::ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS => {
            SysmanUnavailable::PermissionDenied { call }
        }
        (None, code) if code.0 == sys::ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE => {
            SysmanUnavailable::NotProvided { missing: call }
        }
        (None, code) => SysmanUnavailable::CallFailed { call, code },
    }
}

/// `zesInit`, once per runtime.
fn init(device: &Device) -> Result<(), SysmanUnavailable> {
    let api = device.api();
    device
        .driver()
        .runtime()
        .inner
        .sysman_init
        .get_or_init(|| {
            // SAFETY: zesInit takes flags only; 0 is the default.
            code_of(unsafe { crate::trace::ze_call!(api, zesInit(0)) })
                .map_err(|e| fail("zesInit", e))
        })
        .clone()
}

/// Finds the sysman handle of `device` (see the module documentation).
pub(crate) fn find(device: &Device) -> SysmanDevice {
    let api = device.api();
    let uuid = device
        .properties()
        .map_err(|e| SysmanUnavailable::CallFailed {
            call: "zeDeviceGetProperties",
            code: e
                .code()
                .unwrap_or(ResultCode(sys::ze_result_t::ZE_RESULT_ERROR_UNKNOWN)),
        })?
        .uuid;
    let modern = api.zesInit.is_some()
        && api.zesDriverGet.is_some()
        && api.zesDeviceGet.is_some()
        && api.zesDeviceGetProperties.is_some();
    if !modern {
        // Legacy: the core handle is the sysman handle (with ZES_ENABLE_SYSMAN=1).
        if api.zesDeviceEnumMemoryModules.is_none() {
            return Err(SysmanUnavailable::NotProvided {
                missing: "zesDeviceEnumMemoryModules",
            });
        }
        return Ok(device.as_raw());
    }
    init(device)?;
    let mut n = 0u32;
    // SAFETY: count query.
    code_of(unsafe { crate::trace::ze_call!(api, zesDriverGet(&mut n, std::ptr::null_mut())) })
        .map_err(|e| fail("zesDriverGet", e))?;
    let mut drivers = vec![std::ptr::null_mut(); n as usize];
    // SAFETY: `drivers` has room for `n` handles.
    code_of(unsafe { crate::trace::ze_call!(api, zesDriverGet(&mut n, drivers.as_mut_ptr())) })
        .map_err(|e| fail("zesDriverGet", e))?;
    drivers.truncate(n as usize);
    for drv in drivers {
        let mut m = 0u32;
        // SAFETY: a sysman driver handle just returned; count query.
        if code_of(unsafe {
            crate::trace::ze_call!(api, zesDeviceGet(drv, &mut m, std::ptr::null_mut()))
        })
        .is_err()
        {
            continue;
        }
        let mut devs = vec![std::ptr::null_mut(); m as usize];
        // SAFETY: `devs` has room for `m` handles.
        if code_of(unsafe {
            crate::trace::ze_call!(api, zesDeviceGet(drv, &mut m, devs.as_mut_ptr()))
        })
        .is_err()
        {
            continue;
        }
        devs.truncate(m as usize);
        for d in devs {
            let mut p = sys::zes_device_properties_t::default();
            // SAFETY: a sysman device handle and a valid output.
            if code_of(unsafe { crate::trace::ze_call!(api, zesDeviceGetProperties(d, &mut p)) })
                .is_ok()
                && p.core.uuid.id == uuid.0
            {
                return Ok(d);
            }
        }
    }
    Err(SysmanUnavailable::DeviceNotFound)
}

fn name(n: Option<&'static str>, prefix: &str) -> String {
    n.map(|s| s.trim_start_matches(prefix).to_string())
        .unwrap_or_else(|| "UNKNOWN".into())
}

/// The state of every memory module of the sysman device `h`.
pub(crate) fn memory_state(
    api: &sys::Api,
    h: sys::zes_device_handle_t,
) -> Result<MemoryState, SysmanUnavailable> {
    let mut n = 0u32;
    // SAFETY: count query on a sysman device handle.
    code_of(unsafe {
        crate::trace::ze_call!(
            api,
            zesDeviceEnumMemoryModules(h, &mut n, std::ptr::null_mut())
        )
    })
    .map_err(|e| fail("zesDeviceEnumMemoryModules", e))?;
    let mut mems = vec![std::ptr::null_mut(); n as usize];
    // SAFETY: `mems` has room for `n` handles.
    code_of(unsafe {
        crate::trace::ze_call!(
            api,
            zesDeviceEnumMemoryModules(h, &mut n, mems.as_mut_ptr())
        )
    })
    .map_err(|e| fail("zesDeviceEnumMemoryModules", e))?;
    mems.truncate(n as usize);
    let mut modules = Vec::with_capacity(mems.len());
    for m in mems {
        let mut p = sys::zes_mem_properties_t::default();
        // SAFETY: a memory-module handle and a valid output.
        code_of(unsafe { crate::trace::ze_call!(api, zesMemoryGetProperties(m, &mut p)) })
            .map_err(|e| fail("zesMemoryGetProperties", e))?;
        let mut s = sys::zes_mem_state_t::default();
        // SAFETY: a memory-module handle and a valid output.
        code_of(unsafe { crate::trace::ze_call!(api, zesMemoryGetState(m, &mut s)) })
            .map_err(|e| fail("zesMemoryGetState", e))?;
        modules.push(MemoryModuleState {
            location: match p.location {
                sys::zes_mem_loc_t::ZES_MEM_LOC_DEVICE => MemoryLocation::Device,
                sys::zes_mem_loc_t::ZES_MEM_LOC_SYSTEM => MemoryLocation::System,
                other => MemoryLocation::Other(other.0),
            },
            kind: name(p.type_.name(), "ZES_MEM_TYPE_"),
            physical_size: p.physicalSize,
            size: s.size,
            free: s.free,
            health: name(s.health.name(), "ZES_MEM_HEALTH_"),
        });
    }
    Ok(modules).map(|modules| MemoryState { modules })
}

impl From<SysmanUnavailable> for Error {
    fn from(e: SysmanUnavailable) -> Error {
        Error::SysmanUnavailable(e)
    }
}

impl Device {
    /// The device's memory state from sysman: every memory module's size, free bytes and
    /// health. Fails with [`Error::SysmanUnavailable`] saying why when sysman cannot answer
    /// (see the [module documentation](crate::sysman)); [`Device::memory_usage`] falls back
    /// instead.
    pub fn memory_state(&self) -> crate::Result<MemoryState> {
        let h = find(self)?;
        Ok(memory_state(self.api(), h)?)
    }

    /// Total and free device memory: from sysman when it can answer, else from core Level
    /// Zero (the memory modules' size minus what this process allocated on the device), with
    /// [`MemoryUsage::source`] saying which and why.
    pub fn memory_usage(&self) -> crate::Result<MemoryUsage> {
        match find(self).and_then(|h| memory_state(self.api(), h)) {
            Ok(state) => Ok(MemoryUsage {
                total: state.total(),
                free: state.free(),
                source: MemorySource::Sysman,
            }),
            Err(why) => {
                let total = self.total_memory()?;
                let used = self.allocation_stats().bytes();
                Ok(MemoryUsage {
                    total,
                    free: total.saturating_sub(used),
                    source: MemorySource::CoreFallback(why),
                })
            }
        }
    }
}
