//! Owned Rust forms of the Level Zero property structures.

use std::fmt;

use bitflags::bitflags;
use level_zero_sys as sys;

/// A 16-byte UUID (driver, device, native kernel).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl fmt::Display for Uuid {
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, bytes in memory order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// A Level Zero version number (`ZE_MAKE_VERSION(major, minor)`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Version {
    /// Major part.
    pub major: u16,
    /// Minor part.
    pub minor: u16,
}

impl Version {
    /// From a packed `major << 16 | minor` value.
    pub fn from_raw(v: u32) -> Version {
        Version {
            major: (v >> 16) as u16,
            minor: (v & 0xffff) as u16,
        }
    }
    /// The packed value.
    pub fn raw(self) -> u32 {
        ((self.major as u32) << 16) | self.minor as u32
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A C `char` array holding a NUL-terminated string, as a `String` (lossy UTF-8; the whole
/// array when there is no NUL).
pub(crate) fn c_chars(chars: &[std::ffi::c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The extension name of a header's `*_NAME` constant (`b"ZE_...\0"`).
pub(crate) fn ext_name(bytes: &'static [u8]) -> &'static str {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    std::str::from_utf8(bytes).unwrap_or("")
}

/// A driver's properties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverProperties {
    /// Stable across driver instances and processes.
    pub uuid: Uuid,
    /// The driver's own version number (its format is the driver's).
    pub driver_version: u32,
}

/// An extension a driver advertises.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Extension {
    /// Its name, e.g. `ZE_experimental_relaxed_allocation_limits`.
    pub name: String,
    /// Its version.
    pub version: Version,
}

bitflags! {
    /// What a driver can share between processes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct IpcFlags: u32 {
        /// Memory allocations.
        const MEMORY = sys::ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_MEMORY.0;
        /// Event pools.
        const EVENT_POOL = sys::ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_EVENT_POOL.0;
        const _ = !0;
    }
}

/// The kind of device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceType {
    /// A GPU.
    Gpu,
    /// A CPU.
    Cpu,
    /// An FPGA.
    Fpga,
    /// A memory copy accelerator.
    Mca,
    /// A vision processing unit (NPU).
    Vpu,
    /// A value these bindings do not know.
    Other(u32),
}

impl From<sys::ze_device_type_t> for DeviceType {
    fn from(t: sys::ze_device_type_t) -> Self {
        match t {
            sys::ze_device_type_t::ZE_DEVICE_TYPE_GPU => DeviceType::Gpu,
            sys::ze_device_type_t::ZE_DEVICE_TYPE_CPU => DeviceType::Cpu,
            sys::ze_device_type_t::ZE_DEVICE_TYPE_FPGA => DeviceType::Fpga,
            sys::ze_device_type_t::ZE_DEVICE_TYPE_MCA => DeviceType::Mca,
            sys::ze_device_type_t::ZE_DEVICE_TYPE_VPU => DeviceType::Vpu,
            other => DeviceType::Other(other.0),
        }
    }
}

bitflags! {
    /// Device property flags.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct DeviceFlags: u32 {
        /// An integrated device (shares memory with the host): an iGPU.
        const INTEGRATED = sys::ze_device_property_flag_t::ZE_DEVICE_PROPERTY_FLAG_INTEGRATED.0;
        /// A sub-device of a root device.
        const SUBDEVICE = sys::ze_device_property_flag_t::ZE_DEVICE_PROPERTY_FLAG_SUBDEVICE.0;
        /// Error-correcting memory.
        const ECC = sys::ze_device_property_flag_t::ZE_DEVICE_PROPERTY_FLAG_ECC.0;
        /// On-demand page faulting.
        const ON_DEMAND_PAGING = sys::ze_device_property_flag_t::ZE_DEVICE_PROPERTY_FLAG_ONDEMANDPAGING.0;
        const _ = !0;
    }
}

/// A device's core properties (`zeDeviceGetProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceProperties {
    /// The kind of device.
    pub device_type: DeviceType,
    /// PCI vendor id (0x8086 for Intel).
    pub vendor_id: u32,
    /// Device id.
    pub device_id: u32,
    /// Flags.
    pub flags: DeviceFlags,
    /// Sub-device id (meaningful with [`DeviceFlags::SUBDEVICE`]).
    pub subdevice_id: u32,
    /// Core clock in MHz.
    pub core_clock_rate: u32,
    /// The largest single allocation, in bytes, without the relaxed-limits extension.
    pub max_mem_alloc_size: u64,
    /// Hardware contexts.
    pub max_hardware_contexts: u32,
    /// Highest command-queue priority.
    pub max_command_queue_priority: u32,
    /// Threads per execution unit.
    pub num_threads_per_eu: u32,
    /// SIMD width of an execution unit.
    pub physical_eu_simd_width: u32,
    /// Execution units per sub-slice.
    pub num_eus_per_subslice: u32,
    /// Sub-slices per slice.
    pub num_subslices_per_slice: u32,
    /// Slices.
    pub num_slices: u32,
    /// Timer resolution (cycles per second from API 1.1).
    pub timer_resolution: u64,
    /// Valid bits of a global timestamp.
    pub timestamp_valid_bits: u32,
    /// Valid bits of a kernel timestamp.
    pub kernel_timestamp_valid_bits: u32,
    /// The device's UUID.
    pub uuid: Uuid,
    /// The device's name.
    pub name: String,
}

impl DeviceProperties {
    /// Whether this is a discrete device (not [`DeviceFlags::INTEGRATED`]).
    pub fn is_discrete(&self) -> bool {
        !self.flags.contains(DeviceFlags::INTEGRATED)
    }

    /// Execution units in total.
    pub fn num_eus(&self) -> u32 {
        self.num_slices
            .saturating_mul(self.num_subslices_per_slice)
            .saturating_mul(self.num_eus_per_subslice)
    }
}

impl From<&sys::ze_device_properties_t> for DeviceProperties {
    fn from(p: &sys::ze_device_properties_t) -> Self {
        DeviceProperties {
            device_type: p.type_.into(),
            vendor_id: p.vendorId,
            device_id: p.deviceId,
            flags: DeviceFlags::from_bits_retain(p.flags),
            subdevice_id: p.subdeviceId,
            core_clock_rate: p.coreClockRate,
            max_mem_alloc_size: p.maxMemAllocSize,
            max_hardware_contexts: p.maxHardwareContexts,
            max_command_queue_priority: p.maxCommandQueuePriority,
            num_threads_per_eu: p.numThreadsPerEU,
            physical_eu_simd_width: p.physicalEUSimdWidth,
            num_eus_per_subslice: p.numEUsPerSubslice,
            num_subslices_per_slice: p.numSubslicesPerSlice,
            num_slices: p.numSlices,
            timer_resolution: p.timerResolution,
            timestamp_valid_bits: p.timestampValidBits,
            kernel_timestamp_valid_bits: p.kernelTimestampValidBits,
            uuid: Uuid(p.uuid.id),
            name: c_chars(&p.name),
        }
    }
}

/// Compute limits (`zeDeviceGetComputeProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComputeProperties {
    /// Most work-items in one group.
    pub max_total_group_size: u32,
    /// Largest group size per dimension.
    pub max_group_size: [u32; 3],
    /// Largest group count per dimension.
    pub max_group_count: [u32; 3],
    /// Shared local memory per group, in bytes.
    pub max_shared_local_memory: u32,
    /// Supported sub-group sizes.
    pub sub_group_sizes: Vec<u32>,
}

impl From<&sys::ze_device_compute_properties_t> for ComputeProperties {
    fn from(p: &sys::ze_device_compute_properties_t) -> Self {
        let n = (p.numSubGroupSizes as usize).min(p.subGroupSizes.len());
        ComputeProperties {
            max_total_group_size: p.maxTotalGroupSize,
            max_group_size: [p.maxGroupSizeX, p.maxGroupSizeY, p.maxGroupSizeZ],
            max_group_count: [p.maxGroupCountX, p.maxGroupCountY, p.maxGroupCountZ],
            max_shared_local_memory: p.maxSharedLocalMemory,
            sub_group_sizes: p.subGroupSizes[..n].to_vec(),
        }
    }
}

bitflags! {
    /// Module capabilities.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct ModuleFlags: u32 {
        /// Half-precision floating point.
        const FP16 = sys::ze_device_module_flag_t::ZE_DEVICE_MODULE_FLAG_FP16.0;
        /// Double-precision floating point.
        const FP64 = sys::ze_device_module_flag_t::ZE_DEVICE_MODULE_FLAG_FP64.0;
        /// 64-bit atomics.
        const INT64_ATOMICS = sys::ze_device_module_flag_t::ZE_DEVICE_MODULE_FLAG_INT64_ATOMICS.0;
        /// Four-element dot product with accumulate.
        const DP4A = sys::ze_device_module_flag_t::ZE_DEVICE_MODULE_FLAG_DP4A.0;
        const _ = !0;
    }
}

bitflags! {
    /// Floating-point capabilities of one precision.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct FpFlags: u32 {
        /// Denormals.
        const DENORM = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_DENORM.0;
        /// Infinity and NaN.
        const INF_NAN = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_INF_NAN.0;
        /// Round to nearest even.
        const ROUND_TO_NEAREST = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_ROUND_TO_NEAREST.0;
        /// Round to zero.
        const ROUND_TO_ZERO = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_ROUND_TO_ZERO.0;
        /// Round to +/- infinity.
        const ROUND_TO_INF = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_ROUND_TO_INF.0;
        /// Fused multiply-add.
        const FMA = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_FMA.0;
        /// Correctly rounded divide and square root.
        const ROUNDED_DIVIDE_SQRT = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_ROUNDED_DIVIDE_SQRT.0;
        /// Emulated in software.
        const SOFT_FLOAT = sys::ze_device_fp_flag_t::ZE_DEVICE_FP_FLAG_SOFT_FLOAT.0;
        const _ = !0;
    }
}

/// What modules the device accepts (`zeDeviceGetModuleProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleProperties {
    /// Highest SPIR-V version supported.
    pub spirv_version: Version,
    /// Capabilities.
    pub flags: ModuleFlags,
    /// Half-precision capabilities.
    pub fp16: FpFlags,
    /// Single-precision capabilities.
    pub fp32: FpFlags,
    /// Double-precision capabilities.
    pub fp64: FpFlags,
    /// Largest total size of a kernel's arguments, in bytes.
    pub max_argument_size: u32,
    /// Size of the printf buffer, in bytes.
    pub printf_buffer_size: u32,
    /// Identifies the native binary format.
    pub native_kernel: Uuid,
}

impl From<&sys::ze_device_module_properties_t> for ModuleProperties {
    fn from(p: &sys::ze_device_module_properties_t) -> Self {
        ModuleProperties {
            spirv_version: Version::from_raw(p.spirvVersionSupported),
            flags: ModuleFlags::from_bits_retain(p.flags),
            fp16: FpFlags::from_bits_retain(p.fp16flags),
            fp32: FpFlags::from_bits_retain(p.fp32flags),
            fp64: FpFlags::from_bits_retain(p.fp64flags),
            max_argument_size: p.maxArgumentsSize,
            printf_buffer_size: p.printfBufferSize,
            native_kernel: Uuid(p.nativeKernelSupported.id),
        }
    }
}

bitflags! {
    /// What a command-queue group's engines do.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct QueueGroupFlags: u32 {
        /// Kernels (and usually copies too).
        const COMPUTE = sys::ze_command_queue_group_property_flag_t::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE.0;
        /// Copies.
        const COPY = sys::ze_command_queue_group_property_flag_t::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY.0;
        /// Cooperative kernels.
        const COOPERATIVE_KERNELS = sys::ze_command_queue_group_property_flag_t::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COOPERATIVE_KERNELS.0;
        /// Metrics.
        const METRICS = sys::ze_command_queue_group_property_flag_t::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_METRICS.0;
        const _ = !0;
    }
}

/// One command-queue group of a device (`zeDeviceGetCommandQueueGroupProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueGroup {
    /// The group's ordinal: what queues and lists are created with.
    pub ordinal: u32,
    /// What its engines do.
    pub flags: QueueGroupFlags,
    /// Largest fill pattern, in bytes.
    pub max_memory_fill_pattern_size: usize,
    /// How many queues (engines) it has: valid queue indices are `0..num_queues`.
    pub num_queues: u32,
}

impl QueueGroup {
    pub(crate) fn from_raw(ordinal: u32, p: &sys::ze_command_queue_group_properties_t) -> Self {
        QueueGroup {
            ordinal,
            flags: QueueGroupFlags::from_bits_retain(p.flags),
            max_memory_fill_pattern_size: p.maxMemoryFillPatternSize,
            num_queues: p.numQueues,
        }
    }
}

/// The kind of memory of a memory module (`ZE_extension_device_memory_properties`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryKind(pub sys::ze_device_memory_ext_type_t);

impl fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.name() {
            Some(n) => f.write_str(n.trim_start_matches("ZE_DEVICE_MEMORY_EXT_TYPE_")),
            None => write!(f, "unknown ({})", self.0.0),
        }
    }
}

/// Extended memory-module properties, from `ZE_extension_device_memory_properties`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryExtProperties {
    /// The memory technology.
    pub kind: MemoryKind,
    /// Physical size in bytes (may exceed what is allocatable).
    pub physical_size: u64,
    /// Read bandwidth, in `bandwidth_unit`.
    pub read_bandwidth: u32,
    /// Write bandwidth, in `bandwidth_unit`.
    pub write_bandwidth: u32,
    /// The bandwidth unit (`ZE_BANDWIDTH_UNIT_*` name).
    pub bandwidth_unit: &'static str,
}

/// One memory module of a device (`zeDeviceGetMemoryProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryProperties {
    /// Maximum clock rate in MHz.
    pub max_clock_rate: u32,
    /// Bus width in bits.
    pub max_bus_width: u32,
    /// Allocatable size in bytes.
    pub total_size: u64,
    /// The module's name.
    pub name: String,
    /// Extended properties, when the driver has `ZE_extension_device_memory_properties`.
    pub ext: Option<MemoryExtProperties>,
}

bitflags! {
    /// Memory access capabilities.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct MemoryAccessCaps: u32 {
        /// Read and write.
        const RW = sys::ze_memory_access_cap_flag_t::ZE_MEMORY_ACCESS_CAP_FLAG_RW.0;
        /// Atomics.
        const ATOMIC = sys::ze_memory_access_cap_flag_t::ZE_MEMORY_ACCESS_CAP_FLAG_ATOMIC.0;
        /// Concurrent access from host and device.
        const CONCURRENT = sys::ze_memory_access_cap_flag_t::ZE_MEMORY_ACCESS_CAP_FLAG_CONCURRENT.0;
        /// Concurrent atomics from host and device.
        const CONCURRENT_ATOMIC = sys::ze_memory_access_cap_flag_t::ZE_MEMORY_ACCESS_CAP_FLAG_CONCURRENT_ATOMIC.0;
        const _ = !0;
    }
}

/// What the device can do with each kind of allocation
/// (`zeDeviceGetMemoryAccessProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryAccessProperties {
    /// Host allocations.
    pub host: MemoryAccessCaps,
    /// Device allocations.
    pub device: MemoryAccessCaps,
    /// Shared allocations used by one device.
    pub shared_single_device: MemoryAccessCaps,
    /// Shared allocations used by several devices.
    pub shared_cross_device: MemoryAccessCaps,
    /// System (malloc) memory.
    pub shared_system: MemoryAccessCaps,
}

impl From<&sys::ze_device_memory_access_properties_t> for MemoryAccessProperties {
    fn from(p: &sys::ze_device_memory_access_properties_t) -> Self {
        MemoryAccessProperties {
            host: MemoryAccessCaps::from_bits_retain(p.hostAllocCapabilities),
            device: MemoryAccessCaps::from_bits_retain(p.deviceAllocCapabilities),
            shared_single_device: MemoryAccessCaps::from_bits_retain(
                p.sharedSingleDeviceAllocCapabilities,
            ),
            shared_cross_device: MemoryAccessCaps::from_bits_retain(
                p.sharedCrossDeviceAllocCapabilities,
            ),
            shared_system: MemoryAccessCaps::from_bits_retain(p.sharedSystemAllocCapabilities),
        }
    }
}

/// One cache level (`zeDeviceGetCacheProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheProperties {
    /// Whether the application may control it (reservation, advice).
    pub user_control: bool,
    /// Size in bytes.
    pub size: usize,
}

/// Peer-to-peer capabilities between two devices (`zeDeviceGetP2PProperties`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct P2PProperties {
    /// The device can access the peer's memory.
    pub access: bool,
    /// ... including atomics.
    pub atomics: bool,
}

/// Image support (`zeDeviceGetImageProperties`); all zero when the device has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageProperties {
    /// Largest 1D image width.
    pub max_dims_1d: u32,
    /// Largest 2D image width or height.
    pub max_dims_2d: u32,
    /// Largest 3D image dimension.
    pub max_dims_3d: u32,
    /// Largest image buffer, in bytes.
    pub max_buffer_size: u64,
    /// Most array slices.
    pub max_array_slices: u32,
    /// Most samplers.
    pub max_samplers: u32,
    /// Most read-image arguments.
    pub max_read_image_args: u32,
    /// Most write-image arguments.
    pub max_write_image_args: u32,
}

impl ImageProperties {
    /// Whether the device supports images at all.
    pub fn supported(&self) -> bool {
        self.max_dims_1d != 0 || self.max_dims_2d != 0 || self.max_dims_3d != 0
    }
}

impl From<&sys::ze_device_image_properties_t> for ImageProperties {
    fn from(p: &sys::ze_device_image_properties_t) -> Self {
        ImageProperties {
            max_dims_1d: p.maxImageDims1D,
            max_dims_2d: p.maxImageDims2D,
            max_dims_3d: p.maxImageDims3D,
            max_buffer_size: p.maxImageBufferSize,
            max_array_slices: p.maxImageArraySlices,
            max_samplers: p.maxSamplers,
            max_read_image_args: p.maxReadImageArgs,
            max_write_image_args: p.maxWriteImageArgs,
        }
    }
}

bitflags! {
    /// External memory handle types.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct ExternalMemoryTypes: u32 {
        /// Opaque file descriptor.
        const OPAQUE_FD = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_OPAQUE_FD.0;
        /// Linux dma-buf.
        const DMA_BUF = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF.0;
        /// Opaque Win32 handle.
        const OPAQUE_WIN32 = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_OPAQUE_WIN32.0;
        /// Opaque Win32 KMT handle.
        const OPAQUE_WIN32_KMT = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_OPAQUE_WIN32_KMT.0;
        /// D3D11 texture.
        const D3D11_TEXTURE = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_D3D11_TEXTURE.0;
        /// D3D11 texture (KMT).
        const D3D11_TEXTURE_KMT = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_D3D11_TEXTURE_KMT.0;
        /// D3D12 heap.
        const D3D12_HEAP = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_D3D12_HEAP.0;
        /// D3D12 resource.
        const D3D12_RESOURCE = sys::ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_D3D12_RESOURCE.0;
        const _ = !0;
    }
}

/// External memory import/export (`zeDeviceGetExternalMemoryProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalMemoryProperties {
    /// Importable into allocations.
    pub allocation_import: ExternalMemoryTypes,
    /// Exportable from allocations.
    pub allocation_export: ExternalMemoryTypes,
    /// Importable into images.
    pub image_import: ExternalMemoryTypes,
    /// Exportable from images.
    pub image_export: ExternalMemoryTypes,
}

/// A device's PCI location and link (`ZE_extension_pci_properties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciProperties {
    /// PCI domain.
    pub domain: u32,
    /// PCI bus.
    pub bus: u32,
    /// PCI device.
    pub device: u32,
    /// PCI function.
    pub function: u32,
    /// Link generation (-1 when unknown).
    pub max_gen: i32,
    /// Link width (-1 when unknown).
    pub max_width: i32,
    /// Maximum bandwidth in bytes per second (-1 when unknown).
    pub max_bandwidth: i64,
}

/// Where a value came from: the driver, or this crate's documented default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// The driver reported it.
    Reported,
    /// The driver could not report it; a documented default stands in, for this reason.
    Defaulted(DefaultReason),
}

impl Provenance {
    /// Whether the value is a default.
    pub fn is_default(&self) -> bool {
        matches!(self, Provenance::Defaulted(_))
    }
}

/// Why a default stands in for a driver-reported value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DefaultReason {
    /// The driver does not advertise the extension.
    ExtensionNotAdvertised(&'static str),
    /// The driver advertises the extension, but `zeDriverGetExtensionFunctionAddress` gave no
    /// function for it (it failed, or returned NULL): the bug that crashed runtimes which
    /// called the pointer anyway.
    FunctionUnavailable {
        /// The extension function.
        function: &'static str,
        /// What the lookup returned (`ZE_RESULT_SUCCESS` with a NULL pointer is possible).
        lookup: crate::ResultCode,
    },
    /// The function exists but the query failed.
    QueryFailed {
        /// The extension function.
        function: &'static str,
        /// What it returned.
        code: crate::ResultCode,
    },
    /// The query succeeded but reported nothing.
    NothingReported,
}

impl fmt::Display for DefaultReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultReason::ExtensionNotAdvertised(e) => {
                write!(f, "the driver does not advertise {e}")
            }
            DefaultReason::FunctionUnavailable { function, lookup } => write!(
                f,
                "the driver advertises the extension but gives no {function} (lookup returned {lookup:?} and no function)"
            ),
            DefaultReason::QueryFailed { function, code } => {
                write!(f, "{function} failed with {code:?}")
            }
            DefaultReason::NothingReported => f.write_str("the driver reported no entries"),
        }
    }
}

/// Preferred and native vector widths, per element type, for one vector width size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VectorWidth {
    /// The vector width size (in bytes) these values are for.
    pub vector_width_size: u32,
    /// Preferred widths: `[char, short, int, long, float, double, half]`.
    pub preferred: [u32; 7],
    /// Native widths: `[char, short, int, long, float, double, half]`.
    pub native: [u32; 7],
}

impl VectorWidth {
    /// The default used when the driver cannot report vector widths: the widths Intel's
    /// GPU OpenCL runtime reports for Xe GPUs (preferred = native: char 16, short 8, int 4,
    /// long 1, float 1, double 1, half 8), for a 16-byte vector width size. Valid on any
    /// device: a wider or narrower vector only changes speed, never correctness.
    pub const DEFAULT: VectorWidth = VectorWidth {
        vector_width_size: 16,
        preferred: [16, 8, 4, 1, 1, 1, 8],
        native: [16, 8, 4, 1, 1, 1, 8],
    };

    pub(crate) fn from_raw(p: &sys::ze_device_vector_width_properties_ext_t) -> Self {
        VectorWidth {
            vector_width_size: p.vector_width_size,
            preferred: [
                p.preferred_vector_width_char,
                p.preferred_vector_width_short,
                p.preferred_vector_width_int,
                p.preferred_vector_width_long,
                p.preferred_vector_width_float,
                p.preferred_vector_width_double,
                p.preferred_vector_width_half,
            ],
            native: [
                p.native_vector_width_char,
                p.native_vector_width_short,
                p.native_vector_width_int,
                p.native_vector_width_long,
                p.native_vector_width_float,
                p.native_vector_width_double,
                p.native_vector_width_half,
            ],
        }
    }
}

/// A device's vector widths (`ZE_extension_device_vector_sizes`), and whether the driver
/// reported them or they are [`VectorWidth::DEFAULT`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorWidths {
    /// One entry per vector width size the driver reports (or the one default entry).
    pub entries: Vec<VectorWidth>,
    /// Reported or defaulted, and why.
    pub provenance: Provenance,
}

/// A device's IP version (`ZE_extension_device_ip_version`), or why it is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpVersion {
    /// The IP version (its layout is the vendor's; Intel: architecture, release, revision),
    /// or 0 when defaulted.
    pub version: u32,
    /// Reported or defaulted, and why.
    pub provenance: Provenance,
}
