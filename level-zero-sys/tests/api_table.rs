//! The `Api` table against what the generated headers declare.

use std::collections::BTreeSet;

use level_zero_sys::*;

/// The `*_pfn*_t` typedefs of the generated types, read from the source itself: an
/// independent record of the functions the headers declare (the DDI headers typedef one per
/// function of ze, zes and zet).
fn pfn_typedefs() -> BTreeSet<String> {
    let src = include_str!("../src/generated/types.rs");
    src.lines()
        .filter_map(|l| l.trim().strip_prefix("pub type "))
        .filter_map(|l| l.split([' ', '=']).next())
        .filter(|name| name.contains("_pfn") && !name.ends_with("Cb_t"))
        .filter(|name| !name.ends_with("ProcAddrTable_t"))
        .map(str::to_owned)
        .collect()
}

fn function_of_pfn(pfn: &str) -> String {
    let (prefix, rest) = pfn.split_once("_pfn").unwrap();
    format!("{prefix}{}", rest.strip_suffix("_t").unwrap())
}

#[test]
#[cfg_attr(miri, ignore = "matches 494 names (safe code): minutes under Miri")]
fn every_function_of_the_headers_has_a_field() {
    let count = |fam| FUNCTIONS.iter().filter(|f| f.family == fam).count();
    // Spec 1.17 (Debian sid's libze-dev 1.32.0): 478 functions of the API proper.
    assert_eq!(count(Family::Ze), 248);
    assert_eq!(count(Family::Zes), 157);
    assert_eq!(count(Family::Zet), 69);
    assert_eq!(count(Family::Zer), 4);
    assert_eq!(count(Family::Zel), 11);
    assert_eq!(count(Family::Tracing), 5);
    assert_eq!(FUNCTIONS.len(), 494);

    // Every pfn typedef names a function of the table (none left out)...
    let pfns = pfn_typedefs();
    assert_eq!(pfns.len(), 248 + 157 + 69 + 4);
    let api = Api::empty();
    for pfn in &pfns {
        let f = function_of_pfn(pfn);
        assert_eq!(
            api.is_present(&f),
            Some(false),
            "{pfn} has no Api field {f}"
        );
        let info = FUNCTIONS.iter().find(|i| i.name == f).unwrap();
        assert_eq!(info.pfn_type, Some(pfn.as_str()));
    }
    // ...and every ze/zes/zet function of the table has one (none invented).
    for f in FUNCTIONS {
        match f.family {
            Family::Ze | Family::Zes | Family::Zet | Family::Zer => {
                let pfn = f
                    .pfn_type
                    .unwrap_or_else(|| panic!("{} has no pfn typedef", f.name));
                assert!(pfns.contains(pfn));
                assert!(f.ddi_getter.is_some(), "{} is in no DDI table", f.name);
            }
            Family::Zel | Family::Tracing => assert!(f.name.starts_with("zel")),
        }
    }
    // Names are unique and sorted.
    assert!(FUNCTIONS.windows(2).all(|w| w[0].name < w[1].name));
    assert_eq!(api.is_present("zeNoSuchFunction"), None);
}

#[test]
#[cfg_attr(miri, ignore = "matches 494 names (safe code): slow under Miri")]
fn a_missing_function_is_an_error_naming_it_not_a_call() {
    let api = Api::empty();
    // SAFETY: the table is empty, so nothing is called.
    let err = unsafe { api.zeInit(ze_init_flags_t::default()) }.unwrap_err();
    assert_eq!(err.name, "zeInit");
    assert!(err.to_string().contains("`zeInit`"));
    assert_eq!(api.present_count(), 0);
    assert_eq!(api.missing().count(), FUNCTIONS.len());
}

#[test]
fn ddi_getters_fill_the_table_and_absent_ones_leave_it_empty() {
    unsafe extern "C" fn init(_: ze_init_flags_t) -> ze_result_t {
        ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST
    }
    unsafe extern "C" fn get_global(
        version: ze_api_version_t,
        table: *mut ze_global_dditable_t,
    ) -> ze_result_t {
        let full = ze_global_dditable_t {
            pfnInit: Some(init),
            pfnInitDrivers: None,
        };
        // SAFETY: `table` is the caller's table for `version`.
        unsafe { ddi::serve(version, table, &full) }
    }
    unsafe extern "C" fn get_driver_fails(
        _: ze_api_version_t,
        _: *mut ze_driver_dditable_t,
    ) -> ze_result_t {
        ze_result_t::ZE_RESULT_ERROR_UNINITIALIZED
    }
    let getters = DdiGetters {
        zeGetGlobalProcAddrTable: Some(get_global),
        zeGetDriverProcAddrTable: Some(get_driver_fails),
        ..Default::default()
    };
    // SAFETY: both getters honour the DDI contract.
    let (api, report) = unsafe { Api::from_ddi(&getters) };
    assert_eq!(api.present_count(), 1);
    // SAFETY: `init` takes flags only.
    let r = unsafe { api.zeInit(ze_init_flags_t::default()) }.unwrap();
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST);
    assert_eq!(report.len(), DDI_GETTERS.len());
    let outcome = |g: &str| report.iter().find(|o| o.getter == g).unwrap().result;
    assert_eq!(
        outcome("zeGetGlobalProcAddrTable"),
        Some(ze_result_t::ZE_RESULT_SUCCESS)
    );
    assert_eq!(
        outcome("zeGetDriverProcAddrTable"),
        Some(ze_result_t::ZE_RESULT_ERROR_UNINITIALIZED)
    );
    assert_eq!(outcome("zesGetDeviceProcAddrTable"), None);
}

#[test]
fn structures_carry_their_structure_type() {
    assert_eq!(
        ze_device_properties_t::default().stype,
        ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES
    );
    assert_eq!(
        ze_relaxed_allocation_limits_exp_desc_t::default().stype,
        ze_structure_type_t::ZE_STRUCTURE_TYPE_RELAXED_ALLOCATION_LIMITS_EXP_DESC
    );
    assert_eq!(
        zes_mem_state_t::default().stype,
        zes_structure_type_t::ZES_STRUCTURE_TYPE_MEM_STATE
    );
    assert_eq!(
        <zet_metric_group_properties_t as Structure>::STYPE,
        zet_structure_type_t::ZET_STRUCTURE_TYPE_METRIC_GROUP_PROPERTIES
    );
    let p = ze_device_mem_alloc_desc_t::default();
    assert!(p.pNext.is_null());
    assert_eq!(p.ordinal, 0);

    // The generator took each value from the header's own record of which structure it
    // belongs to; the naming convention agrees except for the renamed structures below.
    let renamed = [
        "ze_device_memory_ext_properties_t",
        "ze_image_memory_properties_exp_t",
        "ze_context_power_saving_hint_exp_desc_t",
        "ze_device_luid_ext_properties_t",
    ];
    let mut disagree = Vec::new();
    for (s, c) in STRUCTURES {
        let body = s
            .trim_start_matches("zes_")
            .trim_start_matches("zet_")
            .trim_start_matches("zel_")
            .trim_start_matches("ze_")
            .trim_end_matches("_t")
            .to_uppercase();
        if !c.ends_with(&format!("_STRUCTURE_TYPE_{body}")) && !renamed.contains(s) {
            disagree.push(format!("{s} → {c}"));
        }
    }
    assert!(
        disagree.len() < STRUCTURES.len() / 4,
        "most values follow the naming convention; these do not: {disagree:#?}"
    );
    assert!(STRUCTURES.len() >= 160);
}

#[test]
fn enum_values_have_names_and_unknown_ones_do_not_break() {
    assert_eq!(
        ze_result_t::ZE_RESULT_ERROR_DEVICE_LOST.name(),
        Some("ZE_RESULT_ERROR_DEVICE_LOST")
    );
    assert_eq!(ze_result_t(0x7fff_0001).name(), None);
    assert_eq!(
        ze_device_type_t::ZE_DEVICE_TYPE_GPU.name(),
        Some("ZE_DEVICE_TYPE_GPU")
    );
}

#[test]
fn vector_width_extension_is_generated_from_the_headers() {
    // Spec 1.13 added it; the 1.17 headers declare it, so nothing is hand-declared any more.
    let p = ze_device_vector_width_properties_ext_t::default();
    assert_eq!(p.stype.0, 0x0002_0029);
    assert_eq!(
        c_name(ZE_DEVICE_VECTOR_SIZES_EXT_NAME).to_str().unwrap(),
        "ZE_extension_device_vector_sizes"
    );
    assert_eq!(HEADER_API_VERSION, make_version(1, 17));
    let info = FUNCTIONS
        .iter()
        .find(|f| f.name == "zeDeviceGetVectorWidthPropertiesExt")
        .unwrap();
    assert_eq!(info.ddi_field, Some("pfnGetVectorWidthPropertiesExt"));
}

/// The functions the API headers themselves declare (`ZE_APIEXPORT`/`ZE_DLLEXPORT` followed
/// by a name on the next line), DDI getters left out: read from the header files, not from
/// anything generated. The headers are `LEVEL_ZERO_HEADERS` (CI sets it after
/// `xtask/fetch-headers.sh`; then they must exist) or the default download directory.
#[test]
#[cfg_attr(miri, ignore = "reads files")]
fn the_table_has_exactly_the_functions_the_headers_declare() {
    let dir = match std::env::var_os("LEVEL_ZERO_HEADERS") {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/level-zero-headers/usr/include/level_zero");
            if !d.join("ze_api.h").is_file() {
                eprintln!(
                    "skipped: no headers at {} (run xtask/fetch-headers.sh)",
                    d.display()
                );
                return;
            }
            d
        }
    };
    let mut declared = BTreeSet::new();
    for (header, family) in [
        ("ze_api.h", Family::Ze),
        ("zes_api.h", Family::Zes),
        ("zet_api.h", Family::Zet),
        ("zer_api.h", Family::Zer),
    ] {
        let text = std::fs::read_to_string(dir.join(header))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(header).display()));
        let lines: Vec<&str> = text.lines().collect();
        let mut n = 0;
        for w in lines.windows(2) {
            let export = w[0].starts_with("ZE_APIEXPORT") || w[0].starts_with("ZE_DLLEXPORT");
            let Some(name) = w[1].trim().strip_suffix('(') else {
                continue;
            };
            if export && !name.ends_with("ProcAddrTable") {
                declared.insert((name.to_owned(), family));
                n += 1;
            }
        }
        let table = FUNCTIONS.iter().filter(|f| f.family == family).count();
        assert_eq!(
            n, table,
            "{header} declares {n} functions, the table has {table}"
        );
    }
    for f in FUNCTIONS.iter().filter(|f| {
        matches!(
            f.family,
            Family::Ze | Family::Zes | Family::Zet | Family::Zer
        )
    }) {
        assert!(
            declared.contains(&(f.name.to_owned(), f.family)),
            "{} is in the table but no header declares it",
            f.name
        );
    }
}
