//! The crate's one error type.

use std::fmt;

use level_zero_sys::{LoadError, MissingFunction, ze_result_t};

/// A Level Zero result code (`ze_result_t`), with its name and what it means.
///
/// A driver may return a value that these bindings do not know; it is kept as is.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResultCode(pub ze_result_t);

impl ResultCode {
    /// The code's constant name (`ZE_RESULT_ERROR_DEVICE_LOST`), or `None` for a value the
    /// headers do not define.
    pub fn name(self) -> Option<&'static str> {
        self.0.name()
    }

    /// The raw value.
    pub fn raw(self) -> u32 {
        self.0.0
    }

    /// What the code means, in a sentence.
    pub fn description(self) -> &'static str {
        describe(self.0)
    }
}

impl fmt::Debug for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "ze_result_t({:#x})", self.raw()),
        }
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}: {}", self.description()),
            None => write!(
                f,
                "unknown result code {:#x}: {}",
                self.raw(),
                self.description()
            ),
        }
    }
}

impl From<ze_result_t> for ResultCode {
    fn from(r: ze_result_t) -> Self {
        ResultCode(r)
    }
}

/// Our own one-sentence description of every result code of the 1.12 headers.
fn describe(r: ze_result_t) -> &'static str {
    match r {
        ze_result_t::ZE_RESULT_SUCCESS => "success",
        ze_result_t::ZE_RESULT_NOT_READY => {
            "the operation has not completed yet (a timeout expired)"
        }
        ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST => {
            "the device hung, was reset or was removed; its work and memory are gone"
        }
        ze_result_t::ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY => "the driver ran out of host memory",
        ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY => {
            "the device does not have enough free memory for this request"
        }
        ze_result_t::ZE_RESULT_ERROR_MODULE_BUILD_FAILURE => {
            "the module failed to build; the build log says why"
        }
        ze_result_t::ZE_RESULT_ERROR_MODULE_LINK_FAILURE => "the modules failed to link",
        ze_result_t::ZE_RESULT_ERROR_DEVICE_REQUIRES_RESET => {
            "the device must be reset before it can be used again"
        }
        ze_result_t::ZE_RESULT_ERROR_DEVICE_IN_LOW_POWER_STATE => {
            "the device is in a low-power state and cannot do this now"
        }
        ze_result_t::ZE_RESULT_EXP_ERROR_DEVICE_IS_NOT_VERTEX => {
            "the device is not a vertex of the fabric topology"
        }
        ze_result_t::ZE_RESULT_EXP_ERROR_VERTEX_IS_NOT_DEVICE => {
            "the fabric vertex does not correspond to a device"
        }
        ze_result_t::ZE_RESULT_EXP_ERROR_REMOTE_DEVICE => {
            "the fabric vertex belongs to a remote device"
        }
        ze_result_t::ZE_RESULT_EXP_ERROR_OPERANDS_INCOMPATIBLE => {
            "the operands are not compatible with each other"
        }
        ze_result_t::ZE_RESULT_EXP_RTAS_BUILD_RETRY => {
            "the ray-tracing acceleration structure build must be retried with a larger buffer"
        }
        ze_result_t::ZE_RESULT_EXP_RTAS_BUILD_DEFERRED => {
            "the ray-tracing acceleration structure build was deferred to a parallel operation"
        }
        ze_result_t::ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS => {
            "the process lacks the rights for this (sysman often needs elevated rights)"
        }
        ze_result_t::ZE_RESULT_ERROR_NOT_AVAILABLE => {
            "the resource is already in use or not available right now"
        }
        ze_result_t::ZE_RESULT_ERROR_DEPENDENCY_UNAVAILABLE => {
            "an external component the driver needs is missing"
        }
        ze_result_t::ZE_RESULT_WARNING_DROPPED_DATA => "data was dropped (tools: buffer overflow)",
        ze_result_t::ZE_RESULT_ERROR_UNINITIALIZED => {
            "the driver is not initialised (no driver installed, or zeInit/zeInitDrivers failed)"
        }
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_VERSION => {
            "the requested API version is not supported"
        }
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE => {
            "the driver or device does not support this feature"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT => "an argument is invalid",
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE => "a handle argument is null",
        ze_result_t::ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE => {
            "the object is still in use (by the device or another object)"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER => "a pointer argument is null",
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE => {
            "a size argument is invalid (zero or out of range)"
        }
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE => {
            "the size is larger than the device supports"
        }
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT => {
            "the alignment is not supported (it must be a power of two the device supports)"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT => {
            "the event or fence is invalid for this use"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION => "an enumeration argument is invalid",
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION => {
            "an enumeration value is not supported by this driver or device"
        }
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT => {
            "the image format is not supported by the device"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_NATIVE_BINARY => {
            "the native binary is not compatible with this device"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_GLOBAL_NAME => "no global variable has that name",
        ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_NAME => "no kernel has that name",
        ze_result_t::ZE_RESULT_ERROR_INVALID_FUNCTION_NAME => "no function has that name",
        ze_result_t::ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION => {
            "a group size dimension is invalid (zero or above the device's limit)"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_GLOBAL_WIDTH_DIMENSION => {
            "a global width dimension is invalid"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX => {
            "the kernel argument index is out of range"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE => {
            "the kernel argument size does not match the kernel's parameter"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_ATTRIBUTE_VALUE => {
            "the kernel attribute value is invalid"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED => {
            "the module has unresolved imports and must be linked first"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE => {
            "the command list is of the wrong type for this operation"
        }
        ze_result_t::ZE_RESULT_ERROR_OVERLAPPING_REGIONS => "the copy regions overlap",
        ze_result_t::ZE_RESULT_WARNING_ACTION_REQUIRED => {
            "the operation succeeded but the application must act (see the function's documentation)"
        }
        ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_HANDLE => "the kernel handle is invalid",
        ze_result_t::ZE_RESULT_EXT_RTAS_BUILD_RETRY => {
            "the ray-tracing acceleration structure build needs a larger buffer; retry"
        }
        ze_result_t::ZE_RESULT_EXT_RTAS_BUILD_DEFERRED => {
            "the ray-tracing acceleration structure build will finish in a parallel operation"
        }
        ze_result_t::ZE_RESULT_EXT_ERROR_OPERANDS_INCOMPATIBLE => {
            "the compared operands are not compatible"
        }
        ze_result_t::ZE_RESULT_ERROR_SURVIVABILITY_MODE_DETECTED => {
            "the device runs in survivability mode; its firmware must be updated"
        }
        ze_result_t::ZE_RESULT_ERROR_ADDRESS_NOT_FOUND => {
            "the address lies in no allocation of the context"
        }
        ze_result_t::ZE_RESULT_QUERY_TRUE => "the query's answer is yes",
        ze_result_t::ZE_RESULT_QUERY_FALSE => "the query's answer is no",
        ze_result_t::ZE_RESULT_ERROR_INVALID_GRAPH => "the graph is invalid (or not yet complete)",
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED => {
            "this operation cannot be recorded into a graph"
        }
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED => {
            "an earlier failure invalidated the graph being captured"
        }
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_MERGE_ATTEMPT => {
            "the operation would join two separate graph captures"
        }
        ze_result_t::ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING => {
            "the command list is not capturing a graph"
        }
        ze_result_t::ZE_RESULT_ERROR_GRAPH_UNJOINED_FORKS => {
            "the captured graph forks into work that never joins back"
        }
        ze_result_t::ZE_RESULT_ERROR_GRAPH_INTERNAL_EVENT => {
            "the event belongs to a graph's internals and cannot be used here"
        }
        ze_result_t::ZE_RESULT_ERROR_UNKNOWN => "the driver failed for a reason it did not name",
        _ => "a result code these bindings do not know",
    }
}

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Level Zero call returned an error.
    ///
    /// Its message names the call and the code, then the driver's description when there is
    /// one: `zeCommandListHostSynchronize failed with ZE_RESULT_ERROR_INVALID_ARGUMENT (an
    /// argument is invalid); the driver says: work-item [16,0,0] read 4 bytes at 0x…`.
    #[error("{call} failed with {}{}", code_and_meaning(code), detail.as_deref().map(|d| format!("; the driver says: {d}")).unwrap_or_default())]
    Call {
        /// The Level Zero function that failed.
        call: &'static str,
        /// What it returned.
        code: ResultCode,
        /// The driver's own description of the failure, when it gives one: what
        /// `zerGetLastErrorDescription` (spec 1.14) says, or where the loader lacks it
        /// `zeDriverGetLastErrorDescription` of the runtime's only driver, read right after
        /// the failing call on the same thread. A description that cannot be this failure's
        /// (it names another result code) is left out. The very string (same text at the
        /// same address) read after the previous failure on this thread is kept but starts
        /// with a note saying so: a layer that failed the call without reaching the driver
        /// leaves that behind, and so does the same failure repeated (a loader copies every
        /// description into one buffer). The code's name at its start is removed (the
        /// message gives it).
        detail: Option<String>,
    },

    /// A Level Zero function the loader or driver does not provide.
    #[error(transparent)]
    MissingFunction(#[from] MissingFunction),

    /// An optional feature (usually an extension) that this driver or device lacks.
    #[error("{what} is not supported: {why}")]
    Unsupported {
        /// The feature.
        what: &'static str,
        /// Why it is unavailable.
        why: String,
    },

    /// No Level Zero loader could be loaded.
    #[error(transparent)]
    LoaderNotFound(#[from] LoadError),

    /// The backend could not be brought up (no driver, initialisation failed, ...).
    #[error("no usable Level Zero backend: {0}")]
    NoBackend(String),

    /// A module failed to build; `log` is the driver's build log.
    #[error("zeModuleCreate failed with {code}; build log:\n{log}")]
    ModuleBuild {
        /// What `zeModuleCreate` returned.
        code: ResultCode,
        /// The build log.
        log: String,
    },

    /// Modules failed to link (`zeModuleDynamicLink`); `log` is the driver's link log, which
    /// names the symbols that could not be resolved.
    #[error("zeModuleDynamicLink failed with {code}; link log:\n{log}")]
    ModuleLink {
        /// What `zeModuleDynamicLink` returned.
        code: ResultCode,
        /// The link log.
        log: String,
    },

    /// An argument was rejected before any Level Zero call was made.
    #[error("invalid argument to {call}: {reason}")]
    InvalidArgument {
        /// The operation (the Level Zero function it would have called).
        call: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// An allocation larger than the device's `maxMemAllocSize` on a driver without the
    /// relaxed-allocation-limits extension.
    #[error(
        "allocation of {requested} bytes exceeds the device's maxMemAllocSize of {limit} bytes, and the driver does not offer ZE_experimental_relaxed_allocation_limits"
    )]
    AllocationTooLarge {
        /// Bytes requested.
        requested: u64,
        /// The device's limit.
        limit: u64,
    },

    /// An operation that conflicts with work or access still in progress: host access to a
    /// buffer that submitted device work may use, device work on a buffer the host is
    /// accessing, or changing a command list or fence that is executing.
    #[error("{what}: {why}")]
    Busy {
        /// The access attempted.
        what: &'static str,
        /// The conflicting use.
        why: &'static str,
    },

    /// An environment variable of this crate has a value it does not accept (never ignored).
    #[error("the environment variable {name}={value:?} is not valid: expected {expected}")]
    InvalidEnvironment {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it accepts.
        expected: &'static str,
    },

    /// Sysman could not give a device's memory state (see [`crate::sysman`]).
    #[error("sysman is unavailable: {0}")]
    SysmanUnavailable(crate::sysman::SysmanUnavailable),

    /// A host wait ran out of time.
    #[error("{call} timed out")]
    Timeout {
        /// The Level Zero wait that timed out.
        call: &'static str,
    },

    /// A [`CachingAllocator`](crate::alloc::CachingAllocator) could not get memory from the
    /// driver, even after giving every cached free segment back to it and trying again.
    ///
    /// `reserved - allocated` is what the allocator holds without handing it out: free
    /// pieces of segments that also hold live blocks (the cache is fragmented), which only
    /// their neighbours' release can make whole again. A large share of it suggests a
    /// `max_split_size` (see [`AllocatorConfig`](crate::alloc::AllocatorConfig)).
    #[error(
        "out of device memory: tried to allocate {} on {device}; this allocator has {} allocated to live buffers and {} reserved from the driver, of which {} is cached (free, but in segments that also hold live blocks, or in pieces too small); memory of buffers dropped while commands still use them comes back once their list or queue is synchronised; the driver said: {source}",
        crate::alloc::format_bytes(*requested),
        crate::alloc::format_bytes(*allocated),
        crate::alloc::format_bytes(*reserved),
        crate::alloc::format_bytes(*cached)
    )]
    OutOfDeviceMemory {
        /// The device (its name, as its properties give it).
        device: String,
        /// Bytes requested (before rounding).
        requested: u64,
        /// Bytes of blocks handed out and not yet returned (rounded sizes).
        allocated: u64,
        /// Bytes of the allocator's segments, held from the driver.
        reserved: u64,
        /// `reserved - allocated`: free bytes inside the segments still held.
        cached: u64,
        /// The driver's error on the last attempt.
        source: Box<Error>,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The Level Zero result code behind this error, when there is one.
    pub fn code(&self) -> Option<ResultCode> {
        match self {
            Error::Call { code, .. }
            | Error::ModuleBuild { code, .. }
            | Error::ModuleLink { code, .. } => Some(*code),
            Error::Timeout { .. } => Some(ResultCode(ze_result_t::ZE_RESULT_NOT_READY)),
            Error::OutOfDeviceMemory { source, .. } => source.code(),
            _ => None,
        }
    }

    /// Whether this error says the device is lost (and its memory and work are gone).
    pub fn is_device_lost(&self) -> bool {
        self.code().map(|c| c.0) == Some(ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST)
    }

    /// Whether this error says the device ran out of memory.
    pub fn is_out_of_device_memory(&self) -> bool {
        self.code().map(|c| c.0) == Some(ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY)
    }

    pub(crate) fn invalid(call: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidArgument {
            call,
            reason: reason.into(),
        }
    }
}

/// Turns a Level Zero call's outcome into a `Result`: a missing function or a failure code
/// becomes an [`Error`] naming the call.
pub(crate) fn check(
    call: &'static str,
    r: std::result::Result<ze_result_t, MissingFunction>,
) -> Result<()> {
    match r {
        Ok(ze_result_t::ZE_RESULT_SUCCESS) => Ok(()),
        Ok(code) => Err(Error::Call {
            call,
            code: ResultCode(code),
            detail: None,
        }),
        Err(m) => Err(Error::MissingFunction(m)),
    }
}

/// `NAME (what it means)` for a known code, the value and what it means otherwise.
fn code_and_meaning(code: &ResultCode) -> String {
    match code.name() {
        Some(n) => format!("{n} ({})", code.description()),
        None => format!(
            "unknown result code {:#x} ({})",
            code.raw(),
            code.description()
        ),
    }
}

/// [`check`], and on a failure code the driver's description of it (see
/// [`Error::Call::detail`]), read at once, on the calling thread.
pub(crate) fn check_described(
    api: &level_zero_sys::Api,
    call: &'static str,
    r: std::result::Result<ze_result_t, MissingFunction>,
) -> Result<()> {
    let mut e = check(call, r);
    if let Err(Error::Call { detail, code, .. }) = &mut e {
        *detail = describe_failure(api, call, *code);
    }
    e
}

/// A wait or query's result (`zeCommandListHostSynchronize`, `zeEventQueryStatus`, ...):
/// `Ok(true)` for success, `Ok(false)` for `ZE_RESULT_NOT_READY`, else [`check_described`]'s
/// error.
pub(crate) fn wait_result(
    api: &level_zero_sys::Api,
    call: &'static str,
    r: std::result::Result<ze_result_t, MissingFunction>,
) -> Result<bool> {
    match r {
        Ok(ze_result_t::ZE_RESULT_NOT_READY) => Ok(false),
        other => check_described(api, call, other).map(|()| true),
    }
}

/// What the description of a failure needs of a runtime's driver where the table lacks
/// `zerGetLastErrorDescription`.
struct DriverEntry {
    /// The runtime's table (its address identifies it).
    api: std::sync::Weak<level_zero_sys::Api>,
    /// Its drivers' handles, as addresses.
    drivers: Vec<usize>,
    /// Whether the loader wraps driver handles (`zelLoaderTranslateHandle`).
    translates: bool,
    /// Where the table lacks `zeDriverGetLastErrorDescription` too (loader 1.8.12): the
    /// function as the driver gives it through `zeDriverGetExtensionFunctionAddress`, and
    /// the driver's own handle to call it with; looked up at the first failure.
    by_extension: std::sync::OnceLock<Option<(usize, usize)>>,
}

static DRIVERS: std::sync::Mutex<Vec<DriverEntry>> = std::sync::Mutex::new(Vec::new());

/// Records the drivers a runtime over `api` reported.
pub(crate) fn register_drivers(
    api: &std::sync::Arc<level_zero_sys::Api>,
    drivers: &[level_zero_sys::ze_driver_handle_t],
    translates: bool,
) {
    let mut reg = DRIVERS.lock().unwrap_or_else(|p| p.into_inner());
    reg.retain(|e| e.api.strong_count() > 0 && !std::ptr::eq(e.api.as_ptr(), &**api));
    reg.push(DriverEntry {
        api: std::sync::Arc::downgrade(api),
        drivers: drivers.iter().map(|d| *d as usize).collect(),
        translates,
        by_extension: std::sync::OnceLock::new(),
    });
}

/// The description of the calling thread's last error from the only driver of the runtime
/// over `api`, if it has exactly one (with several, the failing call's driver is not known
/// here, and another driver's description would be stale): through
/// `zeDriverGetLastErrorDescription` of the table, or the driver's own function where the
/// table lacks it.
fn sole_driver_description(api: &level_zero_sys::Api) -> Option<(usize, String)> {
    type DescribeFn = unsafe extern "C" fn(
        level_zero_sys::ze_driver_handle_t,
        *mut *const std::ffi::c_char,
    ) -> ze_result_t;
    let reg = DRIVERS.lock().unwrap_or_else(|p| p.into_inner());
    let entry = reg
        .iter()
        .find(|e| e.api.strong_count() > 0 && std::ptr::eq(e.api.as_ptr(), api))?;
    let [driver] = entry.drivers[..] else {
        return None;
    };
    let driver = driver as level_zero_sys::ze_driver_handle_t;
    if api.zeDriverGetLastErrorDescription.is_some() {
        return driver_description(api, driver);
    }
    let (f, native) = (*entry.by_extension.get_or_init(|| {
        let native = if entry.translates {
            let mut out = std::ptr::null_mut();
            // SAFETY: a live driver handle of this loader, and a valid output.
            let r = unsafe {
                crate::trace::ze_call!(
                    api,
                    zelLoaderTranslateHandle(
                        level_zero_sys::zel_handle_type_t::ZEL_HANDLE_DRIVER,
                        driver.cast(),
                        &mut out
                    )
                )
            };
            match r {
                Ok(r) if r.is_success() && !out.is_null() => out.cast(),
                _ => driver,
            }
        } else {
            driver
        };
        let mut f: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: a live driver handle, a NUL-terminated name and a valid output.
        let r = unsafe {
            crate::trace::ze_call!(
                api,
                zeDriverGetExtensionFunctionAddress(
                    driver,
                    c"zeDriverGetLastErrorDescription".as_ptr(),
                    &mut f
                )
            )
        };
        (r == Ok(ze_result_t::ZE_RESULT_SUCCESS) && !f.is_null())
            .then_some((f as usize, native as usize))
    }))?;
    drop(reg);
    // SAFETY: the driver gave this non-null address for the name of the core function,
    // whose signature `ze_pfnDriverGetLastErrorDescription_t` is this one.
    let f = unsafe { std::mem::transmute::<usize, DescribeFn>(f) };
    let native = native as level_zero_sys::ze_driver_handle_t;
    let mut p: *const std::ffi::c_char = std::ptr::null();
    // SAFETY: the driver's own live handle (drivers live as long as their table) and a
    // valid output.
    let r =
        unsafe { crate::trace::ze_call!(fn "zeDriverGetLastErrorDescription", f(native, &mut p)) };
    // SAFETY: as the function's contract says, when it succeeded.
    unsafe { description_text(Ok(r), p) }
}

thread_local! {
    /// The description read after the last failure on this thread: its address and text.
    static LAST_READ: std::cell::RefCell<Option<(usize, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// The driver's description of the failure `code` of `call`, which just returned it on this
/// thread; `None` when the driver gives none or what it gives cannot be this failure's (see
/// [`Error::Call::detail`]).
pub(crate) fn describe_failure(
    api: &level_zero_sys::Api,
    call: &'static str,
    code: ResultCode,
) -> Option<String> {
    let (at, text) = zer_description(api).or_else(|| sole_driver_description(api))?;
    // The string of the previous failure, untouched: this failure did not reach the driver
    // (a driver updates it on every call that returns an error; a new description is a new
    // string, or at least new text).
    let stale = LAST_READ.with(|last| {
        let mut last = last.borrow_mut();
        let stale = matches!(&*last, Some((a, t)) if *a == at && *t == text);
        *last = Some((at, text.clone()));
        stale
    });
    let text = match leading_code(&text) {
        // The description of another failure: left behind by an earlier call.
        Some(named) if Some(named) != code.name() => {
            log::debug!(
                "level-zero: {call} returned {code:?}, but the driver's last error description is of {named}; not attached: {text}"
            );
            return None;
        }
        Some(named) => text[named.len()..]
            .trim_start_matches([':', ' '])
            .trim()
            .to_owned(),
        None => text,
    };
    if text.is_empty() {
        return None;
    }
    // The very string the previous failure on this thread left (same address, same text):
    // either this failure did not reach the driver (a layer refused it) and the text is the
    // earlier one's, or the same failure happened again and the driver (or a loader copying
    // its text into one buffer) wrote the same words to the same place. Neither can be told
    // from here, so the text is kept, and says so.
    if stale {
        log::debug!(
            "level-zero: {call} returned {code:?} with the same description the previous failure on this thread had"
        );
        return Some(format!("{REPEATED}{text}"));
    }
    Some(text)
}

/// What starts a description that is the same string the previous failure on the thread
/// left (see `describe_failure`).
pub(crate) const REPEATED: &str =
    "(the same description as the previous failure on this thread; it may be that one's) ";

/// The result code's name a description starts with (`ZE_RESULT_ERROR_...: what`), if any.
fn leading_code(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(text.len());
    let word = &text[..end];
    (word.len() > "ZE_RESULT_".len() && word.starts_with("ZE_RESULT_")).then_some(word)
}

/// The calling thread's last error description from the driver, if any
/// (`zerGetLastErrorDescription`): where the driver keeps it, and a copy.
fn zer_description(api: &level_zero_sys::Api) -> Option<(usize, String)> {
    api.zerGetLastErrorDescription?;
    let mut p: *const std::ffi::c_char = std::ptr::null();
    // SAFETY: the function writes a pointer to a NUL-terminated string it owns (valid until
    // the thread's next error), or leaves it null.
    let r = unsafe { crate::trace::ze_call!(api, zerGetLastErrorDescription(&mut p)) };
    // SAFETY: as the function's contract says, when it succeeded.
    unsafe { description_text(r, p) }
}

/// `driver`'s description of the calling thread's last error
/// (`zeDriverGetLastErrorDescription`).
pub(crate) fn driver_error_description(
    api: &level_zero_sys::Api,
    driver: level_zero_sys::ze_driver_handle_t,
) -> Option<String> {
    driver_description(api, driver).map(|(_, text)| text)
}

/// [`driver_error_description`], with where the driver keeps the text.
fn driver_description(
    api: &level_zero_sys::Api,
    driver: level_zero_sys::ze_driver_handle_t,
) -> Option<(usize, String)> {
    api.zeDriverGetLastErrorDescription?;
    let mut p: *const std::ffi::c_char = std::ptr::null();
    // SAFETY: `driver` is a live handle of this table's (drivers live as long as their
    // table); the function writes a pointer to a NUL-terminated string it owns, or leaves it
    // null.
    let r = unsafe { crate::trace::ze_call!(api, zeDriverGetLastErrorDescription(driver, &mut p)) };
    // SAFETY: as the function's contract says, when it succeeded.
    unsafe { description_text(r, p) }
}

/// The text a `*GetLastErrorDescription` call returned, copied, and its address; `None` when
/// it failed or gave an empty or null string.
///
/// # Safety
///
/// When `r` is success and `p` is not null, `p` must point to a NUL-terminated string valid
/// for the duration of this call.
unsafe fn description_text(
    r: std::result::Result<ze_result_t, MissingFunction>,
    p: *const std::ffi::c_char,
) -> Option<(usize, String)> {
    if r != Ok(ze_result_t::ZE_RESULT_SUCCESS) || p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated (the caller's contract); copied at once.
    let text = unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .trim()
        .to_owned();
    (!text.is_empty()).then_some((p as usize, text))
}

/// Calls a Level Zero function through the runtime's table, turning a missing function or a
/// failure code into an [`Error`] that names the call (and carries the driver's description
/// of the failure, when it gives one). Traced (see [`crate::trace`]). Must be used inside
/// `unsafe`.
macro_rules! ze {
    ($api:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        let api: &level_zero_sys::Api = $api;
        match $crate::host_function::refuse(stringify!($f)) {
            Ok(()) => $crate::trace::ze_call!(
                api,
                $f($($arg),*) => $crate::error::check_described
            ),
            Err(e) => Err(e),
        }
    }};
}
pub(crate) use ze;

/// A wait or status query through the runtime's table: `Ok(true)` on success, `Ok(false)`
/// for `ZE_RESULT_NOT_READY`, else the error [`ze!`] would give (with the driver's
/// description). Traced. The caller checks [`crate::host_function::refuse`] first (before
/// anything it plans). Must be used inside `unsafe`.
macro_rules! ze_wait {
    ($api:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        let api: &level_zero_sys::Api = $api;
        $crate::trace::ze_call!(api, $f($($arg),*) => $crate::error::wait_result)
    }};
}
pub(crate) use ze_wait;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_code_has_its_own_description() {
        let fallback = describe(ze_result_t(0x7123_4567));
        let mut v = 0u32;
        let mut named = 0;
        // The result codes live in a few dense ranges; walk them.
        for base in [
            0u32,
            0x7000_0000,
            0x7001_0000,
            0x7002_0000,
            0x7800_0000,
            0x7ff0_0000,
        ] {
            for i in 0..0x40 {
                v = base + i;
                let r = ze_result_t(v);
                if r.name().is_some() {
                    named += 1;
                    assert_ne!(describe(r), fallback, "{r} has no description");
                }
            }
        }
        assert!(describe(ze_result_t::ZE_RESULT_ERROR_UNKNOWN) != fallback);
        assert!(named >= 45, "walked {named} codes up to {v:#x}");
    }

    #[test]
    fn a_call_error_gives_the_call_the_code_and_the_drivers_description() {
        let e = Error::Call {
            call: "zeFenceHostSynchronize",
            code: ResultCode(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT),
            detail: Some("work-item [1, 0, 0] read 4 bytes at 0x10".into()),
        };
        assert_eq!(
            e.to_string(),
            "zeFenceHostSynchronize failed with ZE_RESULT_ERROR_INVALID_ARGUMENT (an argument is invalid); the driver says: work-item [1, 0, 0] read 4 bytes at 0x10"
        );
        let e = Error::Call {
            call: "zeFenceHostSynchronize",
            code: ResultCode(ze_result_t(0x7abc_0000)),
            detail: None,
        };
        assert!(
            e.to_string()
                .starts_with("zeFenceHostSynchronize failed with unknown result code 0x7abc0000"),
            "{e}"
        );
    }

    #[test]
    fn a_description_names_its_code_only_at_its_start() {
        assert_eq!(
            leading_code("ZE_RESULT_ERROR_UNKNOWN: why"),
            Some("ZE_RESULT_ERROR_UNKNOWN")
        );
        assert_eq!(
            leading_code("ZE_RESULT_NOT_READY"),
            Some("ZE_RESULT_NOT_READY")
        );
        assert_eq!(leading_code("kernel k: ZE_RESULT_ERROR_UNKNOWN"), None);
        assert_eq!(leading_code("ZE_RESULT_"), None);
        assert_eq!(leading_code(""), None);
    }

    #[test]
    fn errors_name_the_call_and_the_code() {
        let e = check(
            "zeMemAllocDevice",
            Ok(ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY),
        )
        .unwrap_err();
        let s = e.to_string();
        assert!(s.contains("zeMemAllocDevice"), "{s}");
        assert!(s.contains("ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY"), "{s}");
        assert!(e.is_out_of_device_memory());
        let m = check(
            "zeInitDrivers",
            Err(MissingFunction {
                name: "zeInitDrivers",
            }),
        )
        .unwrap_err();
        assert!(m.to_string().contains("zeInitDrivers"));
        assert!(check("zeInit", Ok(ze_result_t::ZE_RESULT_SUCCESS)).is_ok());
    }
}
