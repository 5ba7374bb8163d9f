//! Extensions newer than the generated headers (1.12), declared by hand from the Level Zero
//! specification.
//!
//! Extension functions are not exported by loaders older than the extension (Debian's 1.8.12
//! and trixie's 1.20.6 loaders do not export `zeDeviceGetVectorWidthPropertiesExt`): resolve
//! them with `zeDriverGetExtensionFunctionAddress`, whose result may be NULL even for an
//! advertised extension. Never call such a pointer without checking it.

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use core::ffi::{CStr, c_void};

use crate::{Structure, make_version, ze_device_handle_t, ze_result_t, ze_structure_type_t};

/// `ZE_DEVICE_VECTOR_SIZES_EXT_NAME`: the extension's name (spec 1.13).
pub const ZE_DEVICE_VECTOR_SIZES_EXT_NAME: &CStr = c"ZE_extension_device_vector_sizes";

/// `ze_device_vector_sizes_ext_version_t::ZE_DEVICE_VECTOR_SIZES_EXT_VERSION_1_0`.
pub const ZE_DEVICE_VECTOR_SIZES_EXT_VERSION_1_0: u32 = make_version(1, 0).0;

/// `ZE_STRUCTURE_TYPE_DEVICE_VECTOR_WIDTH_PROPERTIES_EXT`.
pub const ZE_STRUCTURE_TYPE_DEVICE_VECTOR_WIDTH_PROPERTIES_EXT: ze_structure_type_t =
    ze_structure_type_t(0x0002_0029);

/// The name under which `zeDriverGetExtensionFunctionAddress` resolves the query function.
pub const ZE_DEVICE_GET_VECTOR_WIDTH_PROPERTIES_EXT_FN: &CStr =
    c"zeDeviceGetVectorWidthPropertiesExt";

/// `ze_device_vector_width_properties_ext_t`: a device's preferred and native vector widths
/// for each element type, for one vector width size (in bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ze_device_vector_width_properties_ext_t {
    /// Always [`ZE_STRUCTURE_TYPE_DEVICE_VECTOR_WIDTH_PROPERTIES_EXT`].
    pub stype: ze_structure_type_t,
    /// Extension chain.
    pub pNext: *mut c_void,
    /// The vector width size these values are for.
    pub vector_width_size: u32,
    /// Preferred vector width for `char`.
    pub preferred_vector_width_char: u32,
    /// Preferred vector width for `short`.
    pub preferred_vector_width_short: u32,
    /// Preferred vector width for `int`.
    pub preferred_vector_width_int: u32,
    /// Preferred vector width for `long`.
    pub preferred_vector_width_long: u32,
    /// Preferred vector width for `float`.
    pub preferred_vector_width_float: u32,
    /// Preferred vector width for `double`.
    pub preferred_vector_width_double: u32,
    /// Preferred vector width for `half`.
    pub preferred_vector_width_half: u32,
    /// Native vector width for `char`.
    pub native_vector_width_char: u32,
    /// Native vector width for `short`.
    pub native_vector_width_short: u32,
    /// Native vector width for `int`.
    pub native_vector_width_int: u32,
    /// Native vector width for `long`.
    pub native_vector_width_long: u32,
    /// Native vector width for `float`.
    pub native_vector_width_float: u32,
    /// Native vector width for `double`.
    pub native_vector_width_double: u32,
    /// Native vector width for `half`.
    pub native_vector_width_half: u32,
}

static_assertions::const_assert_eq!(
    core::mem::size_of::<ze_device_vector_width_properties_ext_t>(),
    80
);
static_assertions::const_assert_eq!(
    core::mem::offset_of!(ze_device_vector_width_properties_ext_t, vector_width_size),
    16
);

impl Structure for ze_device_vector_width_properties_ext_t {
    type StructureType = ze_structure_type_t;
    const STYPE: ze_structure_type_t = ZE_STRUCTURE_TYPE_DEVICE_VECTOR_WIDTH_PROPERTIES_EXT;
}

impl Default for ze_device_vector_width_properties_ext_t {
    fn default() -> Self {
        ze_device_vector_width_properties_ext_t {
            stype: Self::STYPE,
            pNext: core::ptr::null_mut(),
            vector_width_size: 0,
            preferred_vector_width_char: 0,
            preferred_vector_width_short: 0,
            preferred_vector_width_int: 0,
            preferred_vector_width_long: 0,
            preferred_vector_width_float: 0,
            preferred_vector_width_double: 0,
            preferred_vector_width_half: 0,
            native_vector_width_char: 0,
            native_vector_width_short: 0,
            native_vector_width_int: 0,
            native_vector_width_long: 0,
            native_vector_width_float: 0,
            native_vector_width_double: 0,
            native_vector_width_half: 0,
        }
    }
}

/// `zeDeviceGetVectorWidthPropertiesExt(hDevice, pCount, pVectorWidthProperties)`: with a
/// null properties pointer, writes the number of entries to `*pCount`; else fills up to
/// `*pCount` entries.
pub type ze_pfnDeviceGetVectorWidthPropertiesExt_t = Option<
    unsafe extern "C" fn(
        hDevice: ze_device_handle_t,
        pCount: *mut u32,
        pVectorWidthProperties: *mut ze_device_vector_width_properties_ext_t,
    ) -> ze_result_t,
>;
