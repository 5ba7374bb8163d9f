//! Driver instances, initialisation and the driver-level entry points (`zeInit`,
//! `zeInitDrivers`, `zeDriver*`).
//!
//! All state lives in an [`Instance`]: its devices, configuration, allocation table and
//! live-object counts. `zeInit`/`zeDriverGet` expose the default instance, configured from the
//! environment when `zeInit` first runs; [`crate::new_driver`] makes independent ones. Instances
//! are never freed (like a real driver's state, they live until the process ends), which is what
//! lets every object refer to its instance as `&'static Instance`.

use std::ffi::{CStr, c_char, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use level_zero_sys::*;

use crate::config::Config;
use crate::device::{Device, Topology};
use crate::engine::ProgramBuilder;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::memory::Memory;
use crate::sync::Signal;
use crate::testing::{self, Live, Sanitizer};

/// One driver: what a `ze_driver_handle_t` designates.
pub(crate) struct Instance {
    /// 0 for the default instance, then 1, 2, ... in creation order.
    pub(crate) number: u32,
    /// The driver handle.
    pub(crate) handle: u64,
    pub(crate) config: Config,
    pub(crate) builder: ProgramBuilder,
    /// Every device with a handle (see [`crate::device::Topology`]).
    pub(crate) devices: Vec<Device>,
    /// What `zeDeviceGet` lists: indices into `devices`.
    pub(crate) listed: Vec<usize>,
    pub(crate) memory: Memory,
    pub(crate) live: Live,
    /// Memory misuse caught (the testing extension's sanitizer report).
    pub(crate) sanitizer: Sanitizer,
    /// Where every host and worker wait of this instance blocks.
    pub(crate) signal: Signal,
    /// Allocation calls so far (for `fail_alloc_at`).
    pub(crate) alloc_calls: AtomicU64,
    /// The handle of the default context (`zeDriverGetDefaultContext`), made on first use.
    pub(crate) default_context: OnceLock<u64>,
    /// IPC event pool handles given out and not put back, by pool nonce.
    pub(crate) event_ipc_out: std::sync::Mutex<std::collections::HashMap<u64, u64>>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("number", &self.number)
            .field("handle", &format_args!("{:#x}", self.handle))
            .field("devices", &self.devices.len())
            .field("listed", &self.listed)
            .finish()
    }
}

static INSTANCES: AtomicU32 = AtomicU32::new(1);
/// Every instance, in creation order (sysman's `zesDriverGet` lists them).
static ALL: std::sync::Mutex<Vec<&'static Instance>> = std::sync::Mutex::new(Vec::new());

/// Every instance created so far, in creation order.
pub(crate) fn all_instances() -> Vec<&'static Instance> {
    crate::sync::lock(&ALL).clone()
}
static DEFAULT: OnceLock<&'static Instance> = OnceLock::new();
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// The driver's version as `zeDriverGetProperties` reports it: the crate version as
/// `major << 24 | minor << 16 | patch`.
pub const DRIVER_VERSION: u32 = {
    const fn num(s: &str) -> u32 {
        let b = s.as_bytes();
        let mut i = 0;
        let mut n = 0;
        while i < b.len() {
            n = n * 10 + (b[i] - b'0') as u32;
            i += 1;
        }
        n
    }
    (num(env!("CARGO_PKG_VERSION_MAJOR")) << 24)
        | (num(env!("CARGO_PKG_VERSION_MINOR")) << 16)
        | num(env!("CARGO_PKG_VERSION_PATCH"))
};

/// The most devices an instance has (larger configurations are clamped).
pub(crate) const MAX_DEVICES: u32 = 64;

/// The API version this driver implements (that of the headers it is built from); it reports
/// an older one when configured to emulate it (`Config::api_version`).
pub(crate) const API_VERSION: ze_api_version_t = HEADER_API_VERSION;

/// The process's configuration, from the environment, read once: what the default instance
/// is made of, and what the DDI getters (process-wide) serve.
pub(crate) struct EnvConfig {
    pub(crate) config: Config,
    /// Errors of [`crate::config::FATAL_VARIABLES`]: the default instance does not initialise.
    pub(crate) fatal: Vec<String>,
}

static ENV_CONFIG: OnceLock<EnvConfig> = OnceLock::new();

/// The environment's configuration (see [`EnvConfig`]); every error is reported on stderr once.
pub(crate) fn env_config() -> &'static EnvConfig {
    ENV_CONFIG.get_or_init(|| {
        let (config, errors) = Config::from_env();
        for e in &errors {
            crate::log::report(&format!("level-zero-cpu: {e}"));
        }
        let fatal = errors
            .iter()
            .filter(|e| e.is_fatal())
            .map(ToString::to_string)
            .collect();
        EnvConfig { config, fatal }
    })
}

impl Instance {
    /// Creates, registers and leaks a new instance.
    ///
    /// # Panics
    ///
    /// If the configuration fails [`Config::validate`] (an emulated API version the driver
    /// does not know, a hidden function the headers do not declare).
    pub(crate) fn create(config: Config, number: u32) -> &'static Instance {
        if let Err(e) = config.validate() {
            panic!("level-zero-cpu: invalid configuration: {e}");
        }
        let mut config = config;
        config.devices = config.devices.min(MAX_DEVICES);
        if let Some(level) = config.log {
            crate::log::enable(level);
        }
        let handle = handles::reserve_for::<&'static Instance>();
        let topology = Topology::build(&config, number);
        for e in &topology.errors {
            crate::log::report(&format!("level-zero-cpu: {e}"));
        }
        let instance: &'static Instance = Box::leak(Box::new(Instance {
            number,
            handle,
            builder: config.builder(),
            memory: Memory::new(topology.devices.len()),
            config,
            devices: topology.devices,
            listed: topology.listed,
            live: Live::default(),
            sanitizer: Sanitizer::default(),
            signal: Signal::default(),
            alloc_calls: AtomicU64::new(0),
            default_context: OnceLock::new(),
            event_ipc_out: Default::default(),
        }));
        handles::register(handle, Object::Driver(instance));
        crate::sync::lock(&ALL).push(instance);
        for (index, d) in instance.devices.iter().enumerate() {
            handles::register(d.handle, Object::Device(DeviceRef { instance, index }));
        }
        instance
    }

    /// The driver's UUID: stable across runs (the same bytes for the same instance number).
    pub(crate) fn uuid(&self) -> [u8; 16] {
        let mut id = *b"level-zero-cpu\0\0";
        id[14..].copy_from_slice(&(self.number as u16).to_le_bytes());
        id
    }

    /// Whether `name` is an advertised extension (not hidden).
    pub(crate) fn has_extension(&self, name: &str) -> bool {
        !self.config.hidden_extensions.iter().any(|h| h == name)
    }

    /// Whether the function `name` is hidden (`Config::hidden_functions`).
    pub(crate) fn hides_function(&self, name: &str) -> bool {
        self.config.hidden_functions.iter().any(|h| h == name)
    }

    /// The API version this instance reports and emulates.
    pub(crate) fn api_version(&self) -> ze_api_version_t {
        self.config.api_version
    }

    /// The position of device `index` in this instance's device identifiers
    /// (`zerTranslateDeviceHandleToIdentifier`): the devices `zeDeviceGet` lists, in its order,
    /// then the others (sub-devices, or `COMBINED` cards) in topology order.
    pub(crate) fn device_identifier(&self, index: usize) -> u32 {
        let unlisted = (0..self.devices.len()).filter(|i| !self.listed.contains(i));
        let position = self
            .listed
            .iter()
            .copied()
            .chain(unlisted)
            .position(|i| i == index)
            .expect("every device has an identifier");
        position as u32
    }

    /// The device with identifier `id` (see [`Instance::device_identifier`]).
    pub(crate) fn device_of_identifier(&self, id: u32) -> Option<usize> {
        let unlisted = (0..self.devices.len()).filter(|i| !self.listed.contains(i));
        self.listed.iter().copied().chain(unlisted).nth(id as usize)
    }

    /// The device `handle` designates, which must belong to this instance.
    pub(crate) fn own_device(&self, raw: ze_device_handle_t) -> ZeResult<DeviceRef> {
        let d: DeviceRef = handles::get(raw)?;
        if !std::ptr::eq(d.instance, self) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "the device belongs to another driver"
            );
        }
        Ok(d)
    }
}

/// Creates an independent driver instance with its own configuration, devices, allocations,
/// faults and live-object counts, and returns its driver handle. Every handle reached from it
/// (devices, contexts, ...) belongs to it. Instances are never freed.
///
/// # Panics
///
/// If `config` fails [`Config::validate`].
pub fn new_driver(config: Config) -> ze_driver_handle_t {
    let number = INSTANCES.fetch_add(1, Ordering::Relaxed);
    handles::raw(Instance::create(config, number).handle)
}

/// The default instance, configured from the environment on first use.
pub(crate) fn default_instance() -> &'static Instance {
    DEFAULT.get_or_init(|| Instance::create(env_config().config.clone(), 0))
}

/// The default instance's driver handle (creating the instance from the environment if
/// needed), without `zeInit`.
pub fn default_driver() -> ze_driver_handle_t {
    handles::raw(default_instance().handle)
}

/// The extensions this driver implements: name and version.
const EXTENSIONS: &[(&CStr, u32)] = &[
    (
        c_name(ZE_DEVICE_VECTOR_SIZES_EXT_NAME),
        ze_device_vector_sizes_ext_version_t::ZE_DEVICE_VECTOR_SIZES_EXT_VERSION_1_0.0,
    ),
    (
        c"ZE_experimental_relaxed_allocation_limits",
        ze_relaxed_allocation_limits_exp_version_t::ZE_RELAXED_ALLOCATION_LIMITS_EXP_VERSION_1_0.0,
    ),
    (
        crate::module::KERNEL_MAX_GROUP_SIZE_EXT_NAME,
        ze_kernel_max_group_size_properties_ext_version_t::ZE_KERNEL_MAX_GROUP_SIZE_PROPERTIES_EXT_VERSION_1_0.0,
    ),
    (
        GLOBAL_OFFSET_EXT_NAME,
        ze_global_offset_exp_version_t::ZE_GLOBAL_OFFSET_EXP_VERSION_1_0.0,
    ),
    (
        IMMEDIATE_APPEND_EXT_NAME,
        ze_immediate_command_list_append_exp_version_t::ZE_IMMEDIATE_COMMAND_LIST_APPEND_EXP_VERSION_1_0.0,
    ),
    (
        testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME,
        testing::ZEX_CPU_DRIVER_TESTING_EXT_VERSION,
    ),
    // Graph capture and replay (see `graph`).
    (crate::graph::EXT_NAME, crate::graph::EXT_VERSION),
    // Counter-based event pools (see `event`): the deprecated pool form of counter-based
    // events, which `zeEventCounterBasedCreate` (core since 1.15, no extension name) replaced.
    (
        c_name(ZE_EVENT_POOL_COUNTER_BASED_EXP_NAME),
        ze_event_pool_counter_based_exp_version_t::ZE_EVENT_POOL_COUNTER_BASED_EXP_VERSION_1_0.0,
    ),
    // Images (see `image`).
    (
        c"ZE_extension_image_copy",
        ze_image_copy_ext_version_t::ZE_IMAGE_COPY_EXT_VERSION_1_0.0,
    ),
    (
        c"ZE_extension_image_query_alloc_properties",
        ze_image_query_alloc_properties_ext_version_t::ZE_IMAGE_QUERY_ALLOC_PROPERTIES_EXT_VERSION_1_0.0,
    ),
    (
        c"ZE_experimental_image_memory_properties",
        ze_image_memory_properties_exp_version_t::ZE_IMAGE_MEMORY_PROPERTIES_EXP_VERSION_1_0.0,
    ),
];

/// `ZE_experimental_immediate_command_list_append`: `zeCommandListImmediateAppendCommandListsExp`.
const IMMEDIATE_APPEND_EXT_NAME: &CStr = c"ZE_experimental_immediate_command_list_append";

/// `ZE_experimental_global_offset`: `zeKernelSetGlobalOffsetExp`.
const GLOBAL_OFFSET_EXT_NAME: &CStr = c"ZE_experimental_global_offset";

/// Core functions `zeDriverGetExtensionFunctionAddress` resolves too (with no extension):
/// the error descriptions, for applications behind a loader older than them (Debian
/// bookworm's 1.8.12 exports neither `zeDriverGetLastErrorDescription` nor
/// `zerGetLastErrorDescription`), which would otherwise never see why a call failed.
fn core_functions() -> [(&'static CStr, &'static CStr, *mut c_void); 1] {
    [(
        c"zeDriverGetLastErrorDescription",
        c"",
        zeDriverGetLastErrorDescription as *mut c_void,
    )]
}

/// Functions `zeDriverGetExtensionFunctionAddress` resolves: name, extension, address. Every
/// function of every advertised extension is here (experimental ones are also in the DDI
/// tables, for the loader's own entry points).
fn extension_functions() -> [(&'static CStr, &'static CStr, *mut c_void); 12] {
    [
        (
            c"zeCommandListAppendImageCopyToMemoryExt",
            c"ZE_extension_image_copy",
            crate::image::zeCommandListAppendImageCopyToMemoryExt as *mut c_void,
        ),
        (
            c"zeCommandListAppendImageCopyFromMemoryExt",
            c"ZE_extension_image_copy",
            crate::image::zeCommandListAppendImageCopyFromMemoryExt as *mut c_void,
        ),
        (
            c"zeImageGetAllocPropertiesExt",
            c"ZE_extension_image_query_alloc_properties",
            crate::image::zeImageGetAllocPropertiesExt as *mut c_void,
        ),
        (
            c"zeImageGetMemoryPropertiesExp",
            c"ZE_experimental_image_memory_properties",
            crate::image::zeImageGetMemoryPropertiesExp as *mut c_void,
        ),
        (
            c"zeCommandListImmediateAppendCommandListsExp",
            IMMEDIATE_APPEND_EXT_NAME,
            crate::list::zeCommandListImmediateAppendCommandListsExp as *mut c_void,
        ),
        (
            c"zeKernelSetGlobalOffsetExp",
            GLOBAL_OFFSET_EXT_NAME,
            crate::module::zeKernelSetGlobalOffsetExp as *mut c_void,
        ),
        (
            c"zeDeviceGetVectorWidthPropertiesExt",
            c_name(ZE_DEVICE_VECTOR_SIZES_EXT_NAME),
            crate::device::zeDeviceGetVectorWidthPropertiesExt as *mut c_void,
        ),
        (
            testing::ZEX_CPU_THREAD_GET_CALL_COUNT_FN,
            testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME,
            testing::zexCpuThreadGetCallCount as *mut c_void,
        ),
        (
            testing::ZEX_CPU_DRIVER_GET_LIVE_OBJECTS_FN,
            testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME,
            testing::zexCpuDriverGetLiveObjects as *mut c_void,
        ),
        (
            testing::ZEX_CPU_DEVICE_GET_RESIDENCY_FN,
            testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME,
            testing::zexCpuDeviceGetResidency as *mut c_void,
        ),
        (
            testing::ZEX_CPU_DRIVER_GET_SANITIZER_REPORT_FN,
            testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME,
            testing::zexCpuDriverGetSanitizerReport as *mut c_void,
        ),
        (
            testing::ZEX_CPU_KERNEL_GET_ENGINE_FN,
            testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME,
            testing::zexCpuKernelGetEngine as *mut c_void,
        ),
    ]
}

fn initialized_default() -> ZeResult<&'static Instance> {
    if !INITIALIZED.load(Ordering::Acquire) {
        bail!(ZE_RESULT_ERROR_UNINITIALIZED, "zeInit has not been called");
    }
    Ok(default_instance())
}

fn init_default() -> ZeResult<&'static Instance> {
    let fatal = &env_config().fatal;
    if !fatal.is_empty() {
        bail!(
            ZE_RESULT_ERROR_UNINITIALIZED,
            "level-zero-cpu's configuration: {}",
            fatal.join("; ")
        );
    }
    let instance = default_instance();
    if instance.config.devices == 0 {
        bail!(
            ZE_RESULT_ERROR_UNINITIALIZED,
            "LEVEL_ZERO_CPU_DEVICES=0: this driver has no device"
        );
    }
    if instance.listed.is_empty() {
        // As Intel's driver: with every device masked off, the driver does not initialise.
        bail!(
            ZE_RESULT_ERROR_UNINITIALIZED,
            "ZE_AFFINITY_MASK={:?} hides every device of this driver",
            instance.config.affinity_mask.as_deref().unwrap_or("")
        );
    }
    INITIALIZED.store(true, Ordering::Release);
    Ok(instance)
}

entry_points! {
    /// Any flags are accepted, GPU_ONLY included: this driver stands in for a GPU.
    fn zeInit(flags: ze_init_flags_t) {
        if flags > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "unknown zeInit flags {flags:#x}");
        }
        init_default().map(drop)
    }

    /// Reports this driver when the GPU type is asked for (it stands in for a GPU). Unknown
    /// type bits are ignored: loaders pass `UINT32_MAX` for "every type".
    fn zeInitDrivers(
        pCount: *mut u32,
        phDrivers: *mut ze_driver_handle_t,
        desc: *mut ze_init_driver_type_desc_t,
    ) {
        // SAFETY: a non-null `desc` is the caller's descriptor.
        let desc = unsafe { ffi::read(desc.cast_const())? };
        // SAFETY: the descriptor's chain (caller's contract); no extension is implemented.
        unsafe { crate::chain::input(&desc, &[])? };
        let wanted = desc.flags & ze_init_driver_type_flag_t::ZE_INIT_DRIVER_TYPE_FLAG_GPU.0 != 0;
        let drivers: Vec<ze_driver_handle_t> = if wanted {
            vec![handles::raw(init_default()?.handle)]
        } else {
            Vec::new()
        };
        // SAFETY: `pCount` and `phDrivers` are the caller's count and array.
        unsafe { ffi::write_array(pCount, phDrivers, &drivers) }
    }

    fn zeDriverGet(pCount: *mut u32, phDrivers: *mut ze_driver_handle_t) {
        let instance = initialized_default()?;
        let drivers = [handles::raw::<_ze_driver_handle_t>(instance.handle)];
        // SAFETY: `pCount` and `phDrivers` are the caller's count and array.
        unsafe { ffi::write_array(pCount, phDrivers, &drivers) }
    }

    /// The headers' version (1.17), or the one configured to emulate
    /// (`LEVEL_ZERO_CPU_API_VERSION`).
    fn zeDriverGetApiVersion(hDriver: ze_driver_handle_t, version: *mut ze_api_version_t) {
        let instance: &'static Instance = handles::get(hDriver)?;
        // SAFETY: `version` is the caller's output.
        unsafe { ffi::write(version, instance.api_version()) }
    }

    fn zeDriverGetProperties(hDriver: ze_driver_handle_t, pProps: *mut ze_driver_properties_t) {
        let instance: &'static Instance = handles::get(hDriver)?;
        let props = ze_driver_properties_t {
            uuid: ze_driver_uuid_t { id: instance.uuid() },
            driverVersion: DRIVER_VERSION,
            ..Default::default()
        };
        // SAFETY: `pProps` is the caller's properties structure.
        unsafe { ffi::fill(pProps, props).map(drop) }
    }

    /// No IPC support: no flags.
    /// Device memory and event pools can be passed between processes (`zeMemGetIpcHandle`,
    /// `zeEventPoolGetIpcHandle`); not across machines (no fabric-accessible handles).
    fn zeDriverGetIpcProperties(hDriver: ze_driver_handle_t, pProps: *mut ze_driver_ipc_properties_t) {
        let _: &'static Instance = handles::get(hDriver)?;
        let props = ze_driver_ipc_properties_t {
            flags: ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_MEMORY.0
                | ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_EVENT_POOL.0,
            ..Default::default()
        };
        // SAFETY: `pProps` is the caller's properties structure.
        unsafe { ffi::fill(pProps, props).map(drop) }
    }

    fn zeDriverGetExtensionProperties(
        hDriver: ze_driver_handle_t,
        pCount: *mut u32,
        pProps: *mut ze_driver_extension_properties_t,
    ) {
        let instance: &'static Instance = handles::get(hDriver)?;
        let list: Vec<ze_driver_extension_properties_t> = EXTENSIONS
            .iter()
            .filter(|(name, _)| instance.has_extension(&name.to_string_lossy()))
            .map(|(name, version)| ze_driver_extension_properties_t {
                name: ffi::c_name(&name.to_string_lossy()),
                version: *version,
            })
            .collect();
        // SAFETY: `pCount` and `pProps` are the caller's count and array.
        unsafe { ffi::write_array(pCount, pProps, &list) }
    }

    fn zeDriverGetExtensionFunctionAddress(
        hDriver: ze_driver_handle_t,
        name: *const c_char,
        ppFunctionAddress: *mut *mut c_void,
    ) {
        let instance: &'static Instance = handles::get(hDriver)?;
        // SAFETY: a non-null `name` is a C string (caller's contract).
        let name = unsafe { ffi::c_str(name)? };
        if ppFunctionAddress.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ppFunctionAddress");
        }
        let text = name.to_string_lossy();
        let found = extension_functions()
            .into_iter()
            .chain(crate::graph::extension_functions())
            .chain(core_functions())
            .find(|(f, ext, _)| {
                *f == name && (ext.is_empty() || instance.has_extension(&ext.to_string_lossy()))
            });
        let forced_null = instance.config.null_extension_functions.iter().any(|n| *n == text);
        if instance.hides_function(&text) {
            // SAFETY: checked non-null above; the caller's output.
            unsafe { ffi::write_opt(ppFunctionAddress, std::ptr::null_mut()) };
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{text:?} is hidden by LEVEL_ZERO_CPU_HIDE_FUNCTIONS: this driver does not provide it"
            );
        }
        let address = match found {
            _ if forced_null => std::ptr::null_mut(),
            Some((_, _, address)) => address,
            None => {
                // SAFETY: checked non-null above; the caller's output.
                unsafe { ffi::write_opt(ppFunctionAddress, std::ptr::null_mut()) };
                bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "no extension function named {text:?}");
            }
        };
        // SAFETY: checked non-null above; the caller's output.
        unsafe { ffi::write(ppFunctionAddress, address) }
    }

    /// The description of the last error this driver returned on the calling thread.
    fn zeDriverGetLastErrorDescription(hDriver: ze_driver_handle_t, ppString: *mut *const c_char) {
        let _: &'static Instance = handles::get(hDriver)?;
        // SAFETY: `ppString` is the caller's output.
        unsafe { ffi::write(ppString, ffi::last_error()) }
    }

    /// The runtime API's (`zer`) description of the last error of the default driver on the
    /// calling thread: the same per-thread text as `zeDriverGetLastErrorDescription` (every
    /// instance of this driver shares it).
    fn zerGetLastErrorDescription(ppString: *mut *const c_char) {
        // SAFETY: `ppString` is the caller's output.
        unsafe { ffi::write(ppString, ffi::last_error()) }
    }
}

/// `zeDriverGetDefaultContext`: the driver's context of all its devices (sub-devices
/// included), made on first use and owned by the driver (see
/// `crate::context::default_context`); null on failure, with the reason as this thread's last
/// error description.
pub(crate) unsafe extern "C" fn zeDriverGetDefaultContext(
    hDriver: ze_driver_handle_t,
) -> ze_context_handle_t {
    ffi::guard_value("zeDriverGetDefaultContext", std::ptr::null_mut(), || {
        let instance: &'static Instance = handles::get(hDriver)?;
        Ok(handles::raw(crate::context::default_context(instance)))
    })
}

/// The default driver of the runtime API (`zer`): the default instance, once initialised.
fn runtime_driver() -> ZeResult<&'static Instance> {
    initialized_default()
}

/// `zerGetDefaultContext`: the default driver's default context (as
/// `zeDriverGetDefaultContext`); null, with a description, before `zeInit`.
pub(crate) unsafe extern "C" fn zerGetDefaultContext() -> ze_context_handle_t {
    ffi::guard_value("zerGetDefaultContext", std::ptr::null_mut(), || {
        Ok(handles::raw(crate::context::default_context(
            runtime_driver()?,
        )))
    })
}

/// `zerTranslateDeviceHandleToIdentifier`: a device of the default driver as an integer —
/// its position in `zeDeviceGet`'s list, then (for devices it does not list: sub-devices,
/// `COMBINED` cards) after them, in topology order. `UINT32_MAX` for anything else (a device
/// of another instance, an unknown handle), with a description.
pub(crate) unsafe extern "C" fn zerTranslateDeviceHandleToIdentifier(
    hDevice: ze_device_handle_t,
) -> u32 {
    ffi::guard_value("zerTranslateDeviceHandleToIdentifier", u32::MAX, || {
        let instance = runtime_driver()?;
        let d = instance.own_device(hDevice)?;
        Ok(instance.device_identifier(d.index))
    })
}

/// `zerTranslateIdentifierToDeviceHandle`: the inverse of
/// `zerTranslateDeviceHandleToIdentifier`; null, with a description, for an identifier no
/// device has or before `zeInit`.
pub(crate) unsafe extern "C" fn zerTranslateIdentifierToDeviceHandle(
    identifier: u32,
) -> ze_device_handle_t {
    ffi::guard_value(
        "zerTranslateIdentifierToDeviceHandle",
        std::ptr::null_mut(),
        || {
            let instance = runtime_driver()?;
            let Some(index) = instance.device_of_identifier(identifier) else {
                bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "no device of the default driver has identifier {identifier} (it has {})",
                    instance.devices.len()
                );
            };
            Ok(handles::raw(instance.devices[index].handle))
        },
    )
}
