//! Initialisation and the DDI getters, on the embedded driver: `zeInit`, `zeInitDrivers`,
//! `zeDriverGet` (the default instance), and the version rules of every getter.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ptr::null_mut;

use level_zero_sys::ddi::DdiTable;
use level_zero_sys::*;

fn api() -> Api {
    // SAFETY: this crate's getters honour the specification.
    unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) }.0
}

struct B {
    api: Api,
}

#[test]
fn init_then_the_default_driver() {
    let b = B { api: api() };
    // Before zeInit there is no driver (this is the only test of this binary that inits).
    let mut n = 0;
    fails!(
        ZE_RESULT_ERROR_UNINITIALIZED,
        b,
        zeDriverGet(&mut n, null_mut())
    );
    fails!(ZE_RESULT_ERROR_INVALID_ENUMERATION, b, zeInit(0x10));
    ok!(b, zeInit(0));
    // The loader 1.8 calls zeInit twice; GPU_ONLY is accepted (this driver stands in for one).
    ok!(b, zeInit(ze_init_flag_t::ZE_INIT_FLAG_GPU_ONLY.0));
    ok!(b, zeDriverGet(&mut n, null_mut()));
    assert_eq!(n, 1);
    let mut driver = null_mut();
    ok!(b, zeDriverGet(&mut n, &mut driver));
    assert_eq!(driver, level_zero_cpu::default_driver());
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDriverGet(null_mut(), null_mut())
    );

    let mut desc = ze_init_driver_type_desc_t {
        flags: ze_init_driver_type_flag_t::ZE_INIT_DRIVER_TYPE_FLAG_GPU.0,
        ..Default::default()
    };
    let mut n = 0;
    ok!(b, zeInitDrivers(&mut n, null_mut(), &mut desc));
    assert_eq!(n, 1);
    let mut d2 = null_mut();
    ok!(b, zeInitDrivers(&mut n, &mut d2, &mut desc));
    assert_eq!(d2, driver);
    // Every type, as loaders ask.
    desc.flags = u32::MAX;
    ok!(b, zeInitDrivers(&mut n, null_mut(), &mut desc));
    assert_eq!(n, 1);
    desc.flags = ze_init_driver_type_flag_t::ZE_INIT_DRIVER_TYPE_FLAG_NPU.0;
    let mut n = 0;
    ok!(b, zeInitDrivers(&mut n, null_mut(), &mut desc));
    assert_eq!(n, 0);
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeInitDrivers(&mut n, null_mut(), null_mut())
    );

    // Instances are independent: a new one has its own devices and counts.
    let other = level_zero_cpu::new_driver(level_zero_cpu::Config::default());
    assert_ne!(other, driver);
    let mut p1 = ze_driver_properties_t::default();
    let mut p2 = ze_driver_properties_t::default();
    ok!(b, zeDriverGetProperties(driver, &mut p1));
    ok!(b, zeDriverGetProperties(other, &mut p2));
    assert_ne!(p1.uuid.id, p2.uuid.id);
    let live = level_zero_cpu::testing::live_objects(other).unwrap();
    assert!(live.is_empty());
    assert!(level_zero_cpu::testing::live_objects(null_mut()).is_none());
}

/// Checks one getter: version rules, null table, and that an older caller's table only gets
/// the fields of its version.
fn check_getter<T: DdiTable>(
    get: Option<unsafe extern "C" fn(ze_api_version_t, *mut T) -> ze_result_t>,
) -> usize {
    let get = get.expect("exported");
    let words = std::mem::size_of::<T>() / 8;
    assert_eq!(words, T::FIELDS.len(), "{}", T::GETTER);
    let mut table = T::default();
    // SAFETY: a table of this version's layout.
    assert_eq!(
        unsafe { get(make_version(2, 0), &mut table) },
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_VERSION
    );
    // SAFETY: a null table, which the getter must refuse.
    assert_eq!(
        unsafe { get(HEADER_API_VERSION, null_mut()) },
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER
    );
    // A 1.4 caller (Debian's loader): fields introduced later must stay untouched.
    let mut raw = vec![0x5a5a_5a5a_usize; words];
    // SAFETY: `raw` is as large as the newest table; the getter writes at most its fields.
    assert_eq!(
        unsafe { get(make_version(1, 4), raw.as_mut_ptr().cast()) },
        ze_result_t::ZE_RESULT_SUCCESS,
        "{}",
        T::GETTER
    );
    for (f, &w) in T::FIELDS.iter().zip(&raw) {
        if f.since.0 > make_version(1, 4).0 {
            assert_eq!(w, 0x5a5a_5a5a, "{} wrote {} at 1.4", T::GETTER, f.field);
        }
    }
    // The current version: the implemented functions are non-null.
    // SAFETY: a table of this version's layout.
    assert_eq!(
        unsafe { get(HEADER_API_VERSION, &mut table) },
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let mut filled = vec![0usize; words];
    // SAFETY: as above.
    let r = unsafe { get(HEADER_API_VERSION, filled.as_mut_ptr().cast()) };
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    filled.iter().filter(|&&w| w != 0).count()
}

#[test]
fn every_getter_serves_only_the_fields_of_the_version_asked() {
    let g = level_zero_cpu::ddi_getters();
    assert!(
        check_getter(g.zeGetGlobalProcAddrTable) == 2,
        "pfnInit and pfnInitDrivers"
    );
    // The 1.0 seven and zeDriverGetDefaultContext (1.14).
    assert!(check_getter(g.zeGetDriverProcAddrTable) == 8);
    // The runtime API: zerGetLastErrorDescription, the two identifier translations,
    // zerGetDefaultContext.
    assert_eq!(check_getter(g.zerGetGlobalProcAddrTable), 4);
    assert!(check_getter(g.zeGetDeviceProcAddrTable) >= 16);
    assert!(check_getter(g.zeGetContextProcAddrTable) >= 7);
    assert!(check_getter(g.zeGetCommandQueueProcAddrTable) >= 4);
    assert!(check_getter(g.zeGetCommandListProcAddrTable) >= 20);
    assert!(check_getter(g.zeGetEventProcAddrTable) >= 7);
    assert!(check_getter(g.zeGetEventPoolProcAddrTable) >= 2);
    assert!(check_getter(g.zeGetFenceProcAddrTable) == 5);
    assert!(check_getter(g.zeGetMemProcAddrTable) >= 6);
    assert!(check_getter(g.zeGetModuleProcAddrTable) >= 5);
    assert!(check_getter(g.zeGetModuleBuildLogProcAddrTable) == 2);
    assert!(check_getter(g.zeGetKernelProcAddrTable) >= 10);
    // zeImageGetProperties, Create, Destroy, GetAllocPropertiesExt; zeSamplerCreate, Destroy.
    assert_eq!(check_getter(g.zeGetImageProcAddrTable), 4);
    assert_eq!(check_getter(g.zeGetImageExpProcAddrTable), 1);
    assert_eq!(check_getter(g.zeGetSamplerProcAddrTable), 2);
    // Sysman: zesDeviceGet, zesDeviceGetProperties, zesDeviceEnumMemoryModules.
    assert_eq!(check_getter(g.zesGetDeviceProcAddrTable), 3);
    assert_eq!(check_getter(g.zesGetMemoryProcAddrTable), 2);
    assert_eq!(check_getter(g.zetGetMetricGroupProcAddrTable), 0);
    // Every getter of the headers is there and answers.
    // SAFETY: this crate's getters honour the specification.
    let (api, report) = unsafe { Api::from_ddi(&g) };
    assert_eq!(report.len(), DDI_GETTERS.len());
    assert!(
        report
            .iter()
            .all(|o| o.result == Some(ze_result_t::ZE_RESULT_SUCCESS))
    );
    assert!(api.present_count() > 100, "{api:?}");
}
