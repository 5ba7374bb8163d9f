//! Drivers.

use std::ffi::{CStr, c_void};
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use level_zero_sys as sys;

use crate::device::Device;
use crate::error::{Error, Result, ResultCode, ze};
use crate::handle::Handle;
use crate::properties::{DriverProperties, Extension, IpcFlags, Uuid, Version, c_chars};
use crate::runtime::Runtime;

pub(crate) struct DriverInner {
    pub(crate) rt: Runtime,
    pub(crate) handle: Handle<sys::_ze_driver_handle_t>,
    extensions: OnceLock<Result<Vec<Extension>, ResultCode>>,
    /// This driver's host-allocation counter (shared by every `Driver` of the same handle).
    pub(crate) host_counter: OnceLock<Arc<crate::stats::Counter>>,
}

/// A Level Zero driver: one implementation (a GPU driver, the CPU driver, ...) and its
/// devices.
///
/// Cheap to clone; `Send + Sync` (driver handles may be used from any thread).
#[derive(Clone)]
pub struct Driver {
    pub(crate) inner: Arc<DriverInner>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("handle", &self.inner.handle.0)
            .finish()
    }
}

impl PartialEq for Driver {
    fn eq(&self, other: &Self) -> bool {
        self.inner.handle == other.inner.handle
    }
}
impl Eq for Driver {}

/// The result of looking an extension function up: its address, or why there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionFunction {
    /// The driver gave a non-null function.
    Found(NonNull<c_void>),
    /// The lookup failed, or succeeded with a NULL pointer; `code` is what it returned.
    Unavailable {
        /// What `zeDriverGetExtensionFunctionAddress` returned.
        code: ResultCode,
    },
}

impl Driver {
    pub(crate) fn new(rt: Runtime, handle: sys::ze_driver_handle_t) -> Driver {
        Driver {
            inner: Arc::new(DriverInner {
                rt,
                handle: Handle(handle),
                extensions: OnceLock::new(),
                host_counter: OnceLock::new(),
            }),
        }
    }

    /// Every driver of the [`Runtime::init`] backend.
    pub fn all() -> Result<Vec<Driver>> {
        Ok(Runtime::init()?.drivers())
    }

    /// The driver's default context (see [`Context::default_of`](crate::Context::default_of)).
    pub fn default_context(&self) -> Result<crate::Context> {
        crate::Context::default_of(self)
    }

    /// The runtime this driver belongs to.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.rt
    }

    pub(crate) fn api(&self) -> &sys::Api {
        &self.inner.rt.inner.api
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_driver_handle_t {
        self.inner.handle.0
    }

    /// The driver's properties.
    pub fn properties(&self) -> Result<DriverProperties> {
        let mut p = sys::ze_driver_properties_t::default();
        // SAFETY: valid handle and an initialised output structure.
        unsafe { ze!(self.api(), zeDriverGetProperties(self.as_raw(), &mut p))? };
        Ok(DriverProperties {
            uuid: Uuid(p.uuid.id),
            driver_version: p.driverVersion,
        })
    }

    /// The API version the driver implements.
    pub fn api_version(&self) -> Result<Version> {
        let mut v = sys::ze_api_version_t(0);
        // SAFETY: valid handle and output.
        unsafe { ze!(self.api(), zeDriverGetApiVersion(self.as_raw(), &mut v))? };
        Ok(Version::from_raw(v.0))
    }

    /// What the driver can share between processes.
    pub fn ipc_flags(&self) -> Result<IpcFlags> {
        let mut p = sys::ze_driver_ipc_properties_t::default();
        // SAFETY: valid handle and output.
        unsafe { ze!(self.api(), zeDriverGetIpcProperties(self.as_raw(), &mut p))? };
        Ok(IpcFlags::from_bits_retain(p.flags))
    }

    /// The extensions the driver advertises (queried once, then cached).
    pub fn extensions(&self) -> Result<&[Extension]> {
        let r = self
            .inner
            .extensions
            .get_or_init(|| self.query_extensions());
        match r {
            Ok(v) => Ok(v),
            Err(code) => Err(Error::Call {
                call: "zeDriverGetExtensionProperties",
                code: *code,
                detail: None,
            }),
        }
    }

    fn query_extensions(&self) -> Result<Vec<Extension>, ResultCode> {
        let api = self.api();
        let mut count = 0u32;
        let code = |r: Result<sys::ze_result_t, sys::MissingFunction>| match r {
            Ok(r) if r.is_success() => Ok(()),
            Ok(r) => Err(ResultCode(r)),
            Err(_) => Err(ResultCode(
                sys::ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
            )),
        };
        // SAFETY: count query.
        code(unsafe {
            crate::trace::ze_call!(
                api,
                zeDriverGetExtensionProperties(self.as_raw(), &mut count, std::ptr::null_mut())
            )
        })?;
        let mut raw = vec![sys::ze_driver_extension_properties_t::default(); count as usize];
        // SAFETY: `raw` has room for `count` entries.
        code(unsafe {
            crate::trace::ze_call!(
                api,
                zeDriverGetExtensionProperties(self.as_raw(), &mut count, raw.as_mut_ptr())
            )
        })?;
        raw.truncate(count as usize);
        Ok(raw
            .iter()
            .map(|e| Extension {
                name: c_chars(&e.name),
                version: Version::from_raw(e.version),
            })
            .collect())
    }

    /// Whether the driver advertises the extension `name`. `false` when the extension list
    /// cannot be read.
    pub fn has_extension(&self, name: &str) -> bool {
        self.extension(name).is_some()
    }

    /// The advertised extension `name`, with its version.
    pub fn extension(&self, name: &str) -> Option<&Extension> {
        self.extensions().ok()?.iter().find(|e| e.name == name)
    }

    /// Looks an extension function up with `zeDriverGetExtensionFunctionAddress`.
    ///
    /// A driver may return success with a NULL pointer: that is reported as
    /// [`ExtensionFunction::Unavailable`], never as a callable address. Calling a found
    /// function needs `unsafe` (its signature is the caller's to know), and it must be
    /// given the driver's own handles: see [`Runtime::api`] and the loader's
    /// `zelLoaderTranslateHandle` (this crate's wrappers translate for you).
    pub fn extension_function(&self, name: &CStr) -> Result<ExtensionFunction> {
        let mut f: *mut c_void = std::ptr::null_mut();
        // SAFETY: valid handle, NUL-terminated name, valid output.
        let r = unsafe {
            crate::trace::ze_call!(
                self.api(),
                zeDriverGetExtensionFunctionAddress(self.as_raw(), name.as_ptr(), &mut f)
            )
        }?;
        Ok(match NonNull::new(f) {
            Some(p) if r.is_success() => ExtensionFunction::Found(p),
            _ => ExtensionFunction::Unavailable {
                code: ResultCode(r),
            },
        })
    }

    /// The driver's description of the last error on this thread, if it has one.
    pub fn last_error_description(&self) -> Option<String> {
        crate::error::driver_error_description(self.api(), self.as_raw())
    }

    /// The driver's devices (root devices; see [`Device::sub_devices`]), in the driver's
    /// order, which is stable for a given system and environment.
    pub fn devices(&self) -> Result<Vec<Device>> {
        let api = self.api();
        let mut count = 0u32;
        // SAFETY: count query.
        unsafe {
            ze!(
                api,
                zeDeviceGet(self.as_raw(), &mut count, std::ptr::null_mut())
            )?
        };
        let mut handles = vec![std::ptr::null_mut(); count as usize];
        // SAFETY: `handles` has room for `count` handles.
        unsafe {
            ze!(
                api,
                zeDeviceGet(self.as_raw(), &mut count, handles.as_mut_ptr())
            )?
        };
        handles.truncate(count as usize);
        Ok(handles
            .into_iter()
            .map(|h| Device::new(self.clone(), h))
            .collect())
    }

    /// The driver's own handle, for extension functions.
    #[cfg_attr(not(feature = "cpu"), allow(dead_code))]
    pub(crate) fn native_handle(&self) -> sys::ze_driver_handle_t {
        self.inner
            .rt
            .native_handle(
                sys::zel_handle_type_t::ZEL_HANDLE_DRIVER,
                self.as_raw().cast(),
            )
            .cast()
    }
}
