//! The real system loader: Debian bookworm's `libze1` (loader 1.8.12).
//!
//! CI installs it and sets `LEVEL_ZERO_REQUIRE_LOADER=1`, which turns a missing loader into a
//! failure; elsewhere these tests say that they were skipped.

use level_zero_sys::*;

fn loader() -> Option<Api> {
    // SAFETY: loading the system's Level Zero loader, which is what this test is about.
    match unsafe { Api::load() } {
        Ok(api) => Some(api),
        Err(e) if std::env::var_os("LEVEL_ZERO_REQUIRE_LOADER").is_none() => {
            eprintln!("SKIPPED: {e} (install libze1, or set LEVEL_ZERO_REQUIRE_LOADER=1)");
            None
        }
        Err(e) => panic!("LEVEL_ZERO_REQUIRE_LOADER is set but: {e}"),
    }
}

#[test]
fn the_debian_loader_loads_with_its_missing_symbols_left_none() {
    let Some(api) = loader() else { return };
    assert!(api.has_library());
    for f in ["zeInit", "zeDriverGet", "zeMemAllocDevice", "zeMemFree"] {
        assert_eq!(api.is_present(f), Some(true), "{f}");
    }
    // Loader 1.8 predates zeInitDrivers (1.10).
    if std::env::var_os("LEVEL_ZERO_REQUIRE_LOADER").is_some() {
        assert_eq!(api.is_present("zeInitDrivers"), Some(false));
        // SAFETY: the function is absent, so nothing is called.
        let err = unsafe {
            api.zeInitDrivers(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        }
        .unwrap_err();
        assert_eq!(err.name, "zeInitDrivers");
    }
    // Loader 1.8.12 exports 296 of the 494 functions of the 1.17 headers.
    assert!(api.present_count() > 250, "{api:?}");
}

#[test]
fn calls_through_the_loader_return_result_codes() {
    let Some(api) = loader() else { return };
    // SAFETY: zeInit takes flags only.
    let init = unsafe { api.zeInit(ze_init_flags_t::default()) }.unwrap();
    assert!(init.name().is_some(), "{init}");
    let mut count = 0u32;
    // SAFETY: a count query: null handle array.
    let r = unsafe { api.zeDriverGet(&mut count, std::ptr::null_mut()) }.unwrap();
    if init.is_success() {
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    } else {
        // No driver on this machine: an error, not a crash, and no drivers.
        assert!(
            r != ze_result_t::ZE_RESULT_SUCCESS || count == 0,
            "{r} {count}"
        );
    }
}
