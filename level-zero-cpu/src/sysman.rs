//! Sysman (`zes`): the memory-module functions, answered from the driver's own accounting.
//!
//! Sysman device and driver handles are the core ones (`zes_device_handle_t` is
//! `ze_device_handle_t`), so both the modern flow (`zesInit`, `zesDriverGet`, `zesDeviceGet`,
//! then matching UUIDs) and the legacy one (core handles with `ZES_ENABLE_SYSMAN=1`) work.
//! Each device has one memory module: its configured capacity, minus what its device and
//! shared allocations use. [`Config::sysman`](crate::Config::sysman) can deny or remove
//! sysman, as systems without elevated rights do.

use level_zero_sys::*;

use crate::config::Sysman;
use crate::device::device_properties;
use crate::driver::{Instance, all_instances, default_instance};
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::DeviceRef;
use crate::handles::{self, Object};

/// A device's sysman memory module.
#[derive(Clone, Copy)]
pub(crate) struct SysmanMemoryRef(pub(crate) DeviceRef);

/// Refuses sysman calls on an instance whose sysman is absent (or, for the calls that read
/// the device's state, denied).
fn check(instance: &Instance, reads_state: bool) -> ZeResult {
    match instance.config.sysman {
        Sysman::Enabled => Ok(()),
        Sysman::Absent => bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
            "sysman is not available on this driver instance"
        ),
        Sysman::Denied if reads_state => bail!(
            ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS,
            "sysman memory state needs elevated rights (configured: denied)"
        ),
        Sysman::Denied => Ok(()),
    }
}

/// The handle of the device's memory module, registered on first use.
fn memory_handle(d: DeviceRef) -> u64 {
    *d.state().sysman_memory.get_or_init(|| {
        let h = handles::reserve_for::<SysmanMemoryRef>();
        handles::register(h, Object::SysmanMemory(SysmanMemoryRef(d)));
        h
    })
}

/// Copies `text` into a fixed C string field, NUL-terminated (truncating if needed).
fn c_field<const N: usize>(text: &str) -> [std::ffi::c_char; N] {
    let mut out = [0 as std::ffi::c_char; N];
    for (o, b) in out.iter_mut().zip(text.bytes().take(N - 1)) {
        *o = b as std::ffi::c_char;
    }
    out
}

entry_points! {
    fn zesInit(flags: zes_init_flags_t) {
        let _ = flags;
        check(default_instance(), false)
    }

    fn zesDriverGet(pCount: *mut u32, phDrivers: *mut zes_driver_handle_t) {
        // The default instance always exists once sysman is asked.
        let _ = default_instance();
        let drivers: Vec<zes_driver_handle_t> = all_instances()
            .into_iter()
            .filter(|i| i.config.sysman != Sysman::Absent)
            .map(|i| handles::raw(i.handle))
            .collect();
        // SAFETY: `pCount` and `phDrivers` are the caller's count and array.
        unsafe { ffi::write_array(pCount, phDrivers, &drivers) }
    }

    fn zesDeviceGet(hDriver: zes_driver_handle_t, pCount: *mut u32, phDevices: *mut zes_device_handle_t) {
        let instance: &'static Instance = handles::get(hDriver)?;
        check(instance, false)?;
        let devices: Vec<zes_device_handle_t> =
            instance.listed.iter().map(|&i| handles::raw(instance.devices[i].handle)).collect();
        // SAFETY: `pCount` and `phDevices` are the caller's count and array.
        unsafe { ffi::write_array(pCount, phDevices, &devices) }
    }

    fn zesDeviceGetProperties(hDevice: zes_device_handle_t, pProperties: *mut zes_device_properties_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        check(d.instance, false)?;
        if pProperties.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pProperties");
        }
        // The nested core structure is the application's too: its `stype` (1.2 timer units or
        // not) and `pNext` are kept, and its chain is checked like any properties chain.
        // SAFETY: non-null; the caller's structure, whose nested `stype` and `pNext` are
        // initialised like every Level Zero structure's.
        let nested = unsafe {
            std::ptr::addr_of!((*pProperties).core).cast::<ze_base_properties_t>().read_unaligned()
        };
        // SAFETY: the nested structure's chain (caller's contract).
        unsafe { crate::chain::output::<ze_device_properties_t>(nested.pNext.cast_const(), &[])? };
        let core = ze_device_properties_t {
            stype: nested.stype,
            pNext: nested.pNext,
            ..device_properties(&d, nested.stype.0)
        };
        let props = zes_device_properties_t {
            core,
            numSubdevices: d.state().place.subdevices.len() as u32,
            serialNumber: c_field(&format!("l0cpu-{}-{}", d.instance.number, d.index)),
            boardNumber: c_field("unknown"),
            brandName: c_field("level-zero-cpu"),
            modelName: c_field("CPU reference device"),
            vendorName: c_field("level-zero-rs"),
            driverVersion: c_field(&format!("{:#x}", crate::DRIVER_VERSION)),
            ..Default::default()
        };
        // SAFETY: `pProperties` is the caller's properties structure.
        unsafe { ffi::fill(pProperties, props).map(drop) }
    }

    fn zesDeviceEnumMemoryModules(hDevice: zes_device_handle_t, pCount: *mut u32, phMemory: *mut zes_mem_handle_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        check(d.instance, false)?;
        let modules = [handles::raw::<_zes_mem_handle_t>(memory_handle(d))];
        // SAFETY: `pCount` and `phMemory` are the caller's count and array.
        unsafe { ffi::write_array(pCount, phMemory, &modules) }
    }

    fn zesMemoryGetProperties(hMemory: zes_mem_handle_t, pProperties: *mut zes_mem_properties_t) {
        let SysmanMemoryRef(d) = handles::get(hMemory)?;
        check(d.instance, false)?;
        let props = zes_mem_properties_t {
            type_: zes_mem_type_t::ZES_MEM_TYPE_DDR,
            onSubdevice: 0,
            subdeviceId: 0,
            location: zes_mem_loc_t::ZES_MEM_LOC_DEVICE,
            physicalSize: d.state().place.capacity,
            busWidth: 64,
            numChannels: -1,
            ..Default::default()
        };
        // SAFETY: `pProperties` is the caller's properties structure.
        unsafe { ffi::fill(pProperties, props).map(drop) }
    }

    fn zesMemoryGetState(hMemory: zes_mem_handle_t, pState: *mut zes_mem_state_t) {
        let SysmanMemoryRef(d) = handles::get(hMemory)?;
        check(d.instance, true)?;
        let size = d.state().place.capacity;
        let used = d.instance.memory.used(d.index).min(size);
        let state = zes_mem_state_t {
            health: zes_mem_health_t::ZES_MEM_HEALTH_OK,
            free: size - used,
            size,
            ..Default::default()
        };
        // SAFETY: `pState` is the caller's state structure.
        unsafe { ffi::fill(pState, state).map(drop) }
    }
}
