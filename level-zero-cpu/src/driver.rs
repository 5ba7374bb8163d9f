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

/// The API version this driver reports (that of the headers it is built from).
pub(crate) const API_VERSION: ze_api_version_t = HEADER_API_VERSION;

impl Instance {
    /// Creates, registers and leaks a new instance.
    pub(crate) fn create(config: Config, number: u32) -> &'static Instance {
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
pub fn new_driver(config: Config) -> ze_driver_handle_t {
    let number = INSTANCES.fetch_add(1, Ordering::Relaxed);
    handles::raw(Instance::create(config, number).handle)
}

/// The default instance, configured from the environment on first use.
pub(crate) fn default_instance() -> &'static Instance {
    DEFAULT.get_or_init(|| {
        let (config, errors) = Config::from_env();
        for e in errors {
            crate::log::report(&format!("level-zero-cpu: {e}"));
        }
        Instance::create(config, 0)
    })
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

/// Functions `zeDriverGetExtensionFunctionAddress` resolves: name, extension, address. Every
/// function of every advertised extension is here (experimental ones are also in the DDI
/// tables, for the loader's own entry points).
fn extension_functions() -> [(&'static CStr, &'static CStr, *mut c_void); 11] {
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
    ]
}

fn initialized_default() -> ZeResult<&'static Instance> {
    if !INITIALIZED.load(Ordering::Acquire) {
        bail!(ZE_RESULT_ERROR_UNINITIALIZED, "zeInit has not been called");
    }
    Ok(default_instance())
}

fn init_default() -> ZeResult<&'static Instance> {
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

    fn zeDriverGetApiVersion(hDriver: ze_driver_handle_t, version: *mut ze_api_version_t) {
        let _: &'static Instance = handles::get(hDriver)?;
        // SAFETY: `version` is the caller's output.
        unsafe { ffi::write(version, API_VERSION) }
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
    fn zeDriverGetIpcProperties(hDriver: ze_driver_handle_t, pProps: *mut ze_driver_ipc_properties_t) {
        let _: &'static Instance = handles::get(hDriver)?;
        // SAFETY: `pProps` is the caller's properties structure.
        unsafe { ffi::fill(pProps, ze_driver_ipc_properties_t::default()).map(drop) }
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
            .find(|(f, ext, _)| *f == name && instance.has_extension(&ext.to_string_lossy()));
        let forced_null = instance.config.null_extension_functions.iter().any(|n| *n == text);
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
}
