//! Devices and their properties.

use std::sync::{Arc, OnceLock};

use level_zero_sys as sys;

use crate::driver::{Driver, ExtensionFunction};
use crate::error::{Error, Result, ResultCode, ze};
use crate::handle::Handle;
use crate::properties::*;

pub(crate) struct DeviceInner {
    pub(crate) driver: Driver,
    pub(crate) handle: Handle<sys::_ze_device_handle_t>,
    properties: OnceLock<Result<(DeviceProperties, IpVersion), ResultCode>>,
    /// This device's accounting counters (shared by every `Device` of the same handle).
    pub(crate) counters: OnceLock<Arc<crate::stats::DeviceCounters>>,
}

/// A device (or sub-device) of a driver.
///
/// Cheap to clone; `Send + Sync` (device handles and their queries are thread-safe).
/// Property queries never call a function the driver lacks: missing core functions are
/// errors, missing extension data gets a documented default marked as such.
#[derive(Clone)]
pub struct Device {
    pub(crate) inner: Arc<DeviceInner>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Device");
        d.field("handle", &self.inner.handle.0);
        if let Ok(p) = self.properties() {
            d.field("name", &p.name);
        }
        d.finish()
    }
}

impl PartialEq for Device {
    fn eq(&self, other: &Self) -> bool {
        self.inner.handle == other.inner.handle
    }
}
impl Eq for Device {}

impl std::hash::Hash for Device {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.handle.hash(state);
    }
}

/// The extensions whose structures [`Device::properties`] chains.
const IP_VERSION_EXT: &[u8] = sys::ZE_DEVICE_IP_VERSION_EXT_NAME;
const MEMORY_PROPERTIES_EXT: &[u8] = sys::ZE_DEVICE_MEMORY_PROPERTIES_EXT_NAME;
const PCI_PROPERTIES_EXT: &[u8] = sys::ZE_PCI_PROPERTIES_EXT_NAME;

impl Device {
    pub(crate) fn new(driver: Driver, handle: sys::ze_device_handle_t) -> Device {
        Device {
            inner: Arc::new(DeviceInner {
                driver,
                handle: Handle(handle),
                properties: OnceLock::new(),
                counters: OnceLock::new(),
            }),
        }
    }

    /// The driver this device belongs to.
    pub fn driver(&self) -> &Driver {
        &self.inner.driver
    }

    pub(crate) fn api(&self) -> &sys::Api {
        self.inner.driver.api()
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_device_handle_t {
        self.inner.handle.0
    }

    fn query_properties(&self) -> Result<(DeviceProperties, IpVersion), ResultCode> {
        let mut p = sys::ze_device_properties_t::default();
        let mut ip = sys::ze_device_ip_version_ext_t::default();
        let ip_ext = ext_name(IP_VERSION_EXT);
        let chain_ip = self.driver().has_extension(ip_ext);
        if chain_ip {
            p.pNext = (&raw mut ip).cast();
        }
        // SAFETY: valid handle; `p` and the chained `ip` (advertised extension) outlive the
        // call.
        let r = unsafe {
            crate::trace::ze_call!(self.api(), zeDeviceGetProperties(self.as_raw(), &mut p))
        };
        match r {
            Ok(r) if r.is_success() => {}
            Ok(r) => return Err(ResultCode(r)),
            Err(_) => {
                return Err(ResultCode(
                    sys::ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                ));
            }
        }
        let ip = if chain_ip {
            IpVersion {
                version: ip.ipVersion,
                provenance: Provenance::Reported,
            }
        } else {
            IpVersion {
                version: 0,
                provenance: Provenance::Defaulted(DefaultReason::ExtensionNotAdvertised(ip_ext)),
            }
        };
        Ok(((&p).into(), ip))
    }

    fn cached(&self) -> Result<&(DeviceProperties, IpVersion)> {
        match self
            .inner
            .properties
            .get_or_init(|| self.query_properties())
        {
            Ok(p) => Ok(p),
            Err(code) => Err(Error::Call {
                call: "zeDeviceGetProperties",
                code: *code,
                detail: None,
            }),
        }
    }

    /// The device's core properties (queried once, then cached).
    pub fn properties(&self) -> Result<&DeviceProperties> {
        Ok(&self.cached()?.0)
    }

    /// The device's name.
    pub fn name(&self) -> Result<&str> {
        Ok(&self.properties()?.name)
    }

    /// The IP version, from `ZE_extension_device_ip_version` when the driver advertises it;
    /// else 0, marked as defaulted.
    pub fn ip_version(&self) -> Result<IpVersion> {
        Ok(self.cached()?.1.clone())
    }

    /// Compute limits.
    pub fn compute_properties(&self) -> Result<ComputeProperties> {
        let mut p = sys::ze_device_compute_properties_t::default();
        // SAFETY: valid handle and output.
        unsafe {
            ze!(
                self.api(),
                zeDeviceGetComputeProperties(self.as_raw(), &mut p)
            )?
        };
        Ok((&p).into())
    }

    /// Module (SPIR-V) support.
    pub fn module_properties(&self) -> Result<ModuleProperties> {
        let mut p = sys::ze_device_module_properties_t::default();
        // SAFETY: valid handle and output.
        unsafe {
            ze!(
                self.api(),
                zeDeviceGetModuleProperties(self.as_raw(), &mut p)
            )?
        };
        Ok((&p).into())
    }

    /// The command-queue groups (engine types), indexed by ordinal.
    pub fn queue_groups(&self) -> Result<Vec<QueueGroup>> {
        let api = self.api();
        let mut count = 0u32;
        // SAFETY: count query.
        unsafe {
            ze!(
                api,
                zeDeviceGetCommandQueueGroupProperties(
                    self.as_raw(),
                    &mut count,
                    std::ptr::null_mut()
                )
            )?
        };
        let mut raw = vec![sys::ze_command_queue_group_properties_t::default(); count as usize];
        // SAFETY: `raw` has room for `count` entries.
        unsafe {
            ze!(
                api,
                zeDeviceGetCommandQueueGroupProperties(self.as_raw(), &mut count, raw.as_mut_ptr())
            )?
        };
        raw.truncate(count as usize);
        Ok(raw
            .iter()
            .enumerate()
            .map(|(i, p)| QueueGroup::from_raw(i as u32, p))
            .collect())
    }

    /// The first queue group that runs kernels.
    pub fn compute_queue_group(&self) -> Result<QueueGroup> {
        self.queue_groups()?
            .into_iter()
            .find(|g| g.flags.contains(QueueGroupFlags::COMPUTE))
            .ok_or(Error::Unsupported {
                what: "a compute command-queue group",
                why: "the device reports no group with the COMPUTE flag".into(),
            })
    }

    /// The best group for copies: a dedicated copy group (copy engines) when the device
    /// has one, else the compute group.
    pub fn copy_queue_group(&self) -> Result<QueueGroup> {
        let groups = self.queue_groups()?;
        groups
            .iter()
            .find(|g| {
                g.flags.contains(QueueGroupFlags::COPY)
                    && !g.flags.contains(QueueGroupFlags::COMPUTE)
            })
            .or_else(|| {
                groups
                    .iter()
                    .find(|g| g.flags.contains(QueueGroupFlags::COMPUTE))
            })
            .cloned()
            .ok_or(Error::Unsupported {
                what: "a copy command-queue group",
                why: "the device reports no group with the COPY or COMPUTE flag".into(),
            })
    }

    /// The memory modules, with `ZE_extension_device_memory_properties` data chained in when
    /// the driver advertises it.
    pub fn memory_properties(&self) -> Result<Vec<MemoryProperties>> {
        let api = self.api();
        let mut count = 0u32;
        // SAFETY: count query.
        unsafe {
            ze!(
                api,
                zeDeviceGetMemoryProperties(self.as_raw(), &mut count, std::ptr::null_mut())
            )?
        };
        let n = count as usize;
        let mut raw = vec![sys::ze_device_memory_properties_t::default(); n];
        let mut ext = vec![sys::ze_device_memory_ext_properties_t::default(); n];
        let chain = self.driver().has_extension(ext_name(MEMORY_PROPERTIES_EXT));
        if chain {
            for (r, e) in raw.iter_mut().zip(ext.iter_mut()) {
                r.pNext = (e as *mut sys::ze_device_memory_ext_properties_t).cast();
            }
        }
        // SAFETY: `raw` has room for `count` entries; the chained structures (advertised
        // extension) live in `ext`, which is neither moved nor resized during the call.
        unsafe {
            ze!(
                api,
                zeDeviceGetMemoryProperties(self.as_raw(), &mut count, raw.as_mut_ptr())
            )?
        };
        let n = (count as usize).min(n);
        Ok((0..n)
            .map(|i| {
                let (r, e) = (&raw[i], &ext[i]);
                MemoryProperties {
                    max_clock_rate: r.maxClockRate,
                    max_bus_width: r.maxBusWidth,
                    total_size: r.totalSize,
                    name: c_chars(&r.name),
                    ext: chain.then(|| MemoryExtProperties {
                        kind: MemoryKind(e.type_),
                        physical_size: e.physicalSize,
                        read_bandwidth: e.readBandwidth,
                        write_bandwidth: e.writeBandwidth,
                        bandwidth_unit: e.bandwidthUnit.name().unwrap_or("unknown"),
                    }),
                }
            })
            .collect())
    }

    /// Total allocatable memory over all memory modules, in bytes.
    pub fn total_memory(&self) -> Result<u64> {
        Ok(self.memory_properties()?.iter().map(|m| m.total_size).sum())
    }

    /// Memory access capabilities per allocation kind.
    pub fn memory_access_properties(&self) -> Result<MemoryAccessProperties> {
        let mut p = sys::ze_device_memory_access_properties_t::default();
        // SAFETY: valid handle and output.
        unsafe {
            ze!(
                self.api(),
                zeDeviceGetMemoryAccessProperties(self.as_raw(), &mut p)
            )?
        };
        Ok((&p).into())
    }

    /// The caches.
    pub fn cache_properties(&self) -> Result<Vec<CacheProperties>> {
        let api = self.api();
        let mut count = 0u32;
        // SAFETY: count query.
        unsafe {
            ze!(
                api,
                zeDeviceGetCacheProperties(self.as_raw(), &mut count, std::ptr::null_mut())
            )?
        };
        let mut raw = vec![sys::ze_device_cache_properties_t::default(); count as usize];
        // SAFETY: `raw` has room for `count` entries.
        unsafe {
            ze!(
                api,
                zeDeviceGetCacheProperties(self.as_raw(), &mut count, raw.as_mut_ptr())
            )?
        };
        raw.truncate(count as usize);
        Ok(raw
            .iter()
            .map(|c| CacheProperties {
                user_control: c.flags
                    & sys::ze_device_cache_property_flag_t::ZE_DEVICE_CACHE_PROPERTY_FLAG_USER_CONTROL.0
                    != 0,
                size: c.cacheSize,
            })
            .collect())
    }

    /// Image support (all zero when the device has none).
    pub fn image_properties(&self) -> Result<ImageProperties> {
        let mut p = sys::ze_device_image_properties_t::default();
        // SAFETY: valid handle and output.
        unsafe {
            ze!(
                self.api(),
                zeDeviceGetImageProperties(self.as_raw(), &mut p)
            )?
        };
        Ok((&p).into())
    }

    /// External memory import and export support.
    pub fn external_memory_properties(&self) -> Result<ExternalMemoryProperties> {
        let mut p = sys::ze_device_external_memory_properties_t::default();
        // SAFETY: valid handle and output.
        unsafe {
            ze!(
                self.api(),
                zeDeviceGetExternalMemoryProperties(self.as_raw(), &mut p)
            )?
        };
        Ok(ExternalMemoryProperties {
            allocation_import: ExternalMemoryTypes::from_bits_retain(p.memoryAllocationImportTypes),
            allocation_export: ExternalMemoryTypes::from_bits_retain(p.memoryAllocationExportTypes),
            image_import: ExternalMemoryTypes::from_bits_retain(p.imageImportTypes),
            image_export: ExternalMemoryTypes::from_bits_retain(p.imageExportTypes),
        })
    }

    /// The PCI location and link, from `ZE_extension_pci_properties`.
    pub fn pci_properties(&self) -> Result<PciProperties> {
        let name = ext_name(PCI_PROPERTIES_EXT);
        if !self.driver().has_extension(name) {
            return Err(Error::Unsupported {
                what: "PCI properties",
                why: format!("the driver does not advertise {name}"),
            });
        }
        let mut p = sys::ze_pci_ext_properties_t::default();
        // SAFETY: valid handle and output; the extension is advertised.
        unsafe {
            ze!(
                self.api(),
                zeDevicePciGetPropertiesExt(self.as_raw(), &mut p)
            )?
        };
        Ok(PciProperties {
            domain: p.address.domain,
            bus: p.address.bus,
            device: p.address.device,
            function: p.address.function,
            max_gen: p.maxSpeed.genVersion,
            max_width: p.maxSpeed.width,
            max_bandwidth: p.maxSpeed.maxBandwidth,
        })
    }

    /// Peer-to-peer capabilities from this device to `peer`.
    pub fn p2p_properties(&self, peer: &Device) -> Result<P2PProperties> {
        let mut p = sys::ze_device_p2p_properties_t::default();
        // SAFETY: valid handles and output.
        unsafe {
            ze!(
                self.api(),
                zeDeviceGetP2PProperties(self.as_raw(), peer.as_raw(), &mut p)
            )?
        };
        let has = |f: sys::ze_device_p2p_property_flag_t| p.flags & f.0 != 0;
        Ok(P2PProperties {
            access: has(sys::ze_device_p2p_property_flag_t::ZE_DEVICE_P2P_PROPERTY_FLAG_ACCESS),
            atomics: has(sys::ze_device_p2p_property_flag_t::ZE_DEVICE_P2P_PROPERTY_FLAG_ATOMICS),
        })
    }

    /// Whether this device can access `peer`'s memory directly (`zeDeviceCanAccessPeer`).
    pub fn can_access_peer(&self, peer: &Device) -> Result<bool> {
        let mut v: sys::ze_bool_t = 0;
        // SAFETY: valid handles and output.
        unsafe {
            ze!(
                self.api(),
                zeDeviceCanAccessPeer(self.as_raw(), peer.as_raw(), &mut v)
            )?
        };
        Ok(v != 0)
    }

    /// The sub-devices (tiles) of this device; empty when it has none, or when
    /// `ZE_FLAT_DEVICE_HIERARCHY` already exposes them as root devices.
    pub fn sub_devices(&self) -> Result<Vec<Device>> {
        let api = self.api();
        let mut count = 0u32;
        // SAFETY: count query.
        unsafe {
            ze!(
                api,
                zeDeviceGetSubDevices(self.as_raw(), &mut count, std::ptr::null_mut())
            )?
        };
        let mut handles = vec![std::ptr::null_mut(); count as usize];
        // SAFETY: `handles` has room for `count` handles.
        unsafe {
            ze!(
                api,
                zeDeviceGetSubDevices(self.as_raw(), &mut count, handles.as_mut_ptr())
            )?
        };
        handles.truncate(count as usize);
        Ok(handles
            .into_iter()
            .map(|h| Device::new(self.driver().clone(), h))
            .collect())
    }

    /// `Ok(())` while the device works; the device-lost (or reset-required) error once it
    /// does not.
    pub fn status(&self) -> Result<()> {
        // SAFETY: valid handle.
        unsafe { ze!(self.api(), zeDeviceGetStatus(self.as_raw())) }
    }

    /// Waits until all work submitted to the device so far — every queue and immediate
    /// list of every context — has completed (`zeDeviceSynchronize`, spec 1.14).
    ///
    /// A driver older than the function gives [`Error::MissingFunction`] naming it; wait
    /// for the lists and queues instead. Buffers' host access still waits for (or asks)
    /// the lists that used them: this call does not mark their work complete.
    pub fn synchronize(&self) -> Result<()> {
        // SAFETY: a valid device handle.
        unsafe { ze!(self.api(), zeDeviceSynchronize(self.as_raw())) }
    }

    /// The host and device clocks, read together: `(host, device)` timestamps.
    pub fn global_timestamps(&self) -> Result<(u64, u64)> {
        let (mut host, mut dev) = (0u64, 0u64);
        // SAFETY: valid handle and outputs.
        unsafe {
            ze!(
                self.api(),
                zeDeviceGetGlobalTimestamps(self.as_raw(), &mut host, &mut dev)
            )?
        };
        Ok((host, dev))
    }

    /// The device's vector widths per element type, from
    /// `zeDeviceGetVectorWidthPropertiesExt`, taken only when the driver advertises
    /// `ZE_extension_device_vector_sizes`, `zeDriverGetExtensionFunctionAddress` gives a
    /// non-NULL function, and the call succeeds. Otherwise [`VectorWidth::DEFAULT`], with
    /// [`VectorWidths::provenance`] saying why. Never calls a NULL function.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::Provenance;
    /// let widths = device.vector_widths(); // never fails, never calls a NULL function
    /// match &widths.provenance {
    ///     Provenance::Reported => println!("from the driver: {:?}", widths.entries),
    ///     Provenance::Defaulted(why) => println!("defaults, because {why}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn vector_widths(&self) -> VectorWidths {
        match self.query_vector_widths() {
            Ok(entries) => VectorWidths {
                entries,
                provenance: Provenance::Reported,
            },
            Err(reason) => VectorWidths {
                entries: vec![VectorWidth::DEFAULT],
                provenance: Provenance::Defaulted(reason),
            },
        }
    }

    fn query_vector_widths(&self) -> Result<Vec<VectorWidth>, DefaultReason> {
        use sys::ze_device_vector_width_properties_ext_t;
        const FUNCTION: &str = "zeDeviceGetVectorWidthPropertiesExt";
        let ext = sys::c_name(sys::ZE_DEVICE_VECTOR_SIZES_EXT_NAME)
            .to_str()
            .unwrap_or_default();
        if !self.driver().has_extension(ext) {
            return Err(DefaultReason::ExtensionNotAdvertised(
                "ZE_extension_device_vector_sizes",
            ));
        }
        let unavailable = |code| DefaultReason::FunctionUnavailable {
            function: FUNCTION,
            lookup: code,
        };
        let f = match self
            .driver()
            .extension_function(c"zeDeviceGetVectorWidthPropertiesExt")
        {
            Ok(ExtensionFunction::Found(p)) => p,
            Ok(ExtensionFunction::Unavailable { code }) => return Err(unavailable(code)),
            Err(e) => {
                return Err(unavailable(e.code().unwrap_or(ResultCode(
                    sys::ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                ))));
            }
        };
        type WidthsFn = unsafe extern "C" fn(
            sys::ze_device_handle_t,
            *mut u32,
            *mut ze_device_vector_width_properties_ext_t,
        ) -> sys::ze_result_t;
        // SAFETY: the driver gave this non-null address for this extension function, whose
        // signature the specification defines as `ze_pfnDeviceGetVectorWidthPropertiesExt_t`.
        let f: WidthsFn = unsafe { std::mem::transmute(f.as_ptr()) };
        let h = self.native_handle();
        let failed = |r: sys::ze_result_t| DefaultReason::QueryFailed {
            function: FUNCTION,
            code: ResultCode(r),
        };
        let mut count = 0u32;
        // SAFETY: count query with the driver's own device handle.
        let r = unsafe {
            crate::trace::ze_call!(fn "zeDeviceGetVectorWidthPropertiesExt", f(h, &mut count, std::ptr::null_mut()))
        };
        if !r.is_success() {
            return Err(failed(r));
        }
        if count == 0 {
            return Err(DefaultReason::NothingReported);
        }
        let mut raw = vec![ze_device_vector_width_properties_ext_t::default(); count as usize];
        // SAFETY: `raw` has room for `count` entries.
        let r = unsafe {
            crate::trace::ze_call!(fn "zeDeviceGetVectorWidthPropertiesExt", f(h, &mut count, raw.as_mut_ptr()))
        };
        if !r.is_success() {
            return Err(failed(r));
        }
        raw.truncate(count as usize);
        if raw.is_empty() {
            return Err(DefaultReason::NothingReported);
        }
        Ok(raw.iter().map(VectorWidth::from_raw).collect())
    }

    /// The driver's own handle, for extension functions.
    pub(crate) fn native_handle(&self) -> sys::ze_device_handle_t {
        self.driver()
            .runtime()
            .native_handle(
                sys::zel_handle_type_t::ZEL_HANDLE_DEVICE,
                self.as_raw().cast(),
            )
            .cast()
    }
}
