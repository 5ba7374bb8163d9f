//! Serving DDI tables: what a Level Zero *driver* written in Rust needs.
//!
//! A loader asks a driver for each of its function tables with
//! `zeGet*ProcAddrTable(version, table)`. The table the loader passes is only as large as the
//! structure of the version it asks for: a driver that writes a field introduced later writes
//! past the end of the caller's table (Debian's loader 1.8.12 asks for version 1.4 and keeps
//! its tables on the stack, so that smashes its stack). [`DdiTable::write_versioned`] writes
//! only the fields that exist at the requested version; the version that introduced each field
//! is generated from the specification's data (`xtask/data/ddi-field-since.tsv`).

use crate::{ze_api_version_t, ze_result_t};

/// One field of a DDI table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DdiFieldInfo {
    /// The field's name (`pfnGetProperties`).
    pub field: &'static str,
    /// The function it carries (`zeDeviceGetProperties`).
    pub function: &'static str,
    /// The API version that introduced the field.
    pub since: ze_api_version_t,
}

/// A DDI table type (`ze_global_dditable_t`, ...). Implemented by the generator.
pub trait DdiTable: Copy + Default {
    /// The getter that serves this table (`zeGetGlobalProcAddrTable`).
    const GETTER: &'static str;
    /// The table's fields, in layout order, with the version that introduced each.
    const FIELDS: &'static [DdiFieldInfo];

    /// Writes into `*dst` the fields of `self` that exist at `version`, and no others.
    ///
    /// # Safety
    ///
    /// `dst` must be valid for writes of every field that exists at `version` (a table of
    /// that version's layout, which is a prefix of this one's).
    unsafe fn write_versioned(&self, version: ze_api_version_t, dst: *mut Self);
}

/// Whether a driver implementing this crate's headers can serve a caller of `version`: any
/// 1.x version (a newer minor gets the fields this crate knows; an older one only its own).
pub fn version_supported(version: ze_api_version_t) -> bool {
    version.major() == 1
}

/// The whole body of a driver's `zeGet*ProcAddrTable`: checks the arguments, then writes the
/// fields of `table` that exist at `version` into `dst`.
///
/// Returns `ZE_RESULT_ERROR_INVALID_NULL_POINTER` for a null `dst`,
/// `ZE_RESULT_ERROR_UNSUPPORTED_VERSION` for a major version other than 1, else success.
///
/// # Safety
///
/// A non-null `dst` must be the caller's table for `version`, valid for writes of the fields
/// that exist at that version.
pub unsafe fn serve<T: DdiTable>(version: ze_api_version_t, dst: *mut T, table: &T) -> ze_result_t {
    if dst.is_null() {
        return ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    }
    if !version_supported(version) {
        return ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_VERSION;
    }
    // SAFETY: `dst` is non-null and, by the caller's contract, holds `version`'s fields.
    unsafe { table.write_versioned(version, dst) };
    ze_result_t::ZE_RESULT_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    unsafe extern "C" fn init(_: ze_init_flags_t) -> ze_result_t {
        ze_result_t::ZE_RESULT_SUCCESS
    }
    unsafe extern "C" fn init_drivers(
        _: *mut u32,
        _: *mut ze_driver_handle_t,
        _: *mut ze_init_driver_type_desc_t,
    ) -> ze_result_t {
        ze_result_t::ZE_RESULT_SUCCESS
    }

    #[test]
    fn an_old_version_gets_only_its_own_fields() {
        let full = ze_global_dditable_t {
            pfnInit: Some(init),
            pfnInitDrivers: Some(init_drivers),
        };
        // A 1.4 caller's table ends after pfnInit: a sentinel stands where 1.10's field
        // would be, and must survive.
        #[repr(C)]
        struct Old {
            pfn_init: ze_pfnInit_t,
            sentinel: usize,
        }
        let mut old = Old {
            pfn_init: None,
            sentinel: 0xdead_beef,
        };
        // SAFETY: `old` has the layout of a 1.4 table (pfnInit only), plus a sentinel.
        let r = unsafe { serve(make_version(1, 4), (&raw mut old).cast(), &full) };
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        assert!(old.pfn_init.is_some());
        assert_eq!(old.sentinel, 0xdead_beef);

        let mut new = ze_global_dditable_t::default();
        // SAFETY: a whole table of this crate's layout.
        let r = unsafe { serve(make_version(1, 17), &mut new, &full) };
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        assert!(new.pfnInitDrivers.is_some());
    }

    #[test]
    fn bad_arguments_are_refused() {
        let full = ze_global_dditable_t::default();
        let mut t = ze_global_dditable_t::default();
        assert_eq!(
            // SAFETY: a whole table; refused before any write.
            unsafe { serve(make_version(2, 0), &mut t, &full) },
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_VERSION
        );
        assert_eq!(
            // SAFETY: a null table is refused before any write.
            unsafe { serve(make_version(1, 0), std::ptr::null_mut(), &full) },
            ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER
        );
    }

    #[test]
    fn field_versions_come_from_the_specification_data() {
        let f = ze_global_dditable_t::FIELDS;
        assert_eq!(f[0].function, "zeInit");
        assert_eq!(f[0].since, make_version(1, 0));
        assert_eq!(f[1].function, "zeInitDrivers");
        assert_eq!(f[1].since, make_version(1, 10));
        assert_eq!(ze_global_dditable_t::GETTER, "zeGetGlobalProcAddrTable");
    }
}
