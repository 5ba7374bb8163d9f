//! Emulating an older or poorer driver through the environment: `LEVEL_ZERO_CPU_API_VERSION`
//! and `LEVEL_ZERO_CPU_HIDE_FUNCTIONS`, embedded (`Api::from_ddi` over the driver's getters, and
//! the default instance) and through the system loader.
//!
//! The getters are process-wide and read the environment once, so every case runs in a child
//! process: this test binary again, running only the `child` test with the case named in its
//! environment.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::ptr::{null, null_mut};

use common::{Backend, Kind};
use level_zero_sys::ddi::DdiTable;
use level_zero_sys::*;

const CASE_VAR: &str = "L0CPU_EMULATION_CASE";

/// The driver library cargo built with this test (see tests/loader.rs).
fn driver_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let target = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let deps = target.join("deps").join("liblevel_zero_cpu.so");
    let so = if deps.exists() {
        deps
    } else {
        target.join("liblevel_zero_cpu.so")
    };
    so.canonicalize().expect("the driver library")
}

fn loader_present() -> bool {
    // SAFETY: loading the system's Level Zero loader.
    match unsafe { Api::load() } {
        Ok(_) => true,
        Err(e) if std::env::var_os("LEVEL_ZERO_REQUIRE_LOADER").is_none() => {
            eprintln!("SKIPPED: {e} (install libze1, or set LEVEL_ZERO_REQUIRE_LOADER=1)");
            false
        }
        Err(e) => panic!("LEVEL_ZERO_REQUIRE_LOADER is set but: {e}"),
    }
}

/// Runs `case` in a child process with `env` (and, `through_loader`, the loader pointed at
/// this driver); returns its stderr once it passed.
fn run(case: &str, env: &[(&str, &str)], through_loader: bool) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"]);
    for (k, _) in std::env::vars() {
        if k.starts_with(level_zero_cpu::ENV_PREFIX)
            || k.starts_with("ZE_")
            || k.starts_with("ZEL_")
        {
            cmd.env_remove(k);
        }
    }
    if through_loader {
        cmd.env("ZE_ENABLE_ALT_DRIVERS", driver_library());
    }
    cmd.envs(env.iter().copied()).env(CASE_VAR, case);
    let out = cmd.output().expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && stdout.contains(&format!("CASE OK {case}")),
        "case {case}, env {env:?}: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stderr
}

/// The child: runs the case named in its environment.
#[test]
fn child() {
    let Ok(case) = std::env::var(CASE_VAR) else {
        return;
    };
    match case.as_str() {
        "embedded_version" => embedded_version(),
        "embedded_hidden" => embedded_hidden(),
        "embedded_refused" => embedded_refused(),
        "loader_version" => loader_version(),
        "loader_hidden" => loader_hidden(),
        "loader_refused" => loader_refused(),
        other => panic!("no case {other}"),
    }
    println!("CASE OK {case}");
}

/// The embedded driver's table, and the default instance initialised through it.
fn embedded() -> Backend {
    // SAFETY: this crate's getters honour the specification.
    let (api, _) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    // SAFETY: a plain call.
    assert_eq!(
        unsafe { api.zeInit(0) }.unwrap(),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let (mut n, mut driver) = (1, null_mut());
    // SAFETY: valid outputs.
    let r = unsafe { api.zeDriverGet(&mut n, &mut driver) }.unwrap();
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let mut b = Backend {
        api,
        kind: Kind::Embedded,
        wrapped: false,
        driver,
        devices: Vec::new(),
    };
    let mut count = 0;
    ok!(b, zeDeviceGet(driver, &mut count, null_mut()));
    b.devices = vec![null_mut(); count as usize];
    ok!(b, zeDeviceGet(driver, &mut count, b.devices.as_mut_ptr()));
    b
}

fn last_error(b: &Backend) -> String {
    let mut text = null();
    ok!(b, zeDriverGetLastErrorDescription(b.driver, &mut text));
    // SAFETY: the driver returned a NUL-terminated string it keeps alive.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// What a table's getter serves when asked for `version`, as raw pointers (every DDI table is
/// made of pointer-sized function pointers).
fn served<T: DdiTable>(
    get: Option<unsafe extern "C" fn(ze_api_version_t, *mut T) -> ze_result_t>,
    version: ze_api_version_t,
) -> Vec<usize> {
    assert_eq!(std::mem::size_of::<T>(), 8 * T::FIELDS.len());
    let mut raw = vec![0x5a5a_usize; T::FIELDS.len()];
    // SAFETY: `raw` is as large as the newest table.
    let r = unsafe { get.unwrap()(version, raw.as_mut_ptr().cast()) };
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    raw
}

/// Every field of `T` newer than `configured` is NULL (or, newer than `asked`, untouched);
/// the others are served.
fn check_table<T: DdiTable>(
    get: Option<unsafe extern "C" fn(ze_api_version_t, *mut T) -> ze_result_t>,
    configured: ze_api_version_t,
) -> usize {
    let mut present = 0;
    for asked in [make_version(1, 4), HEADER_API_VERSION] {
        let raw = served(get, asked);
        for (f, &w) in T::FIELDS.iter().zip(&raw) {
            if f.since.0 > asked.0 {
                assert_eq!(w, 0x5a5a, "{} written at {asked:?}", f.function);
            } else if f.since.0 > configured.0 {
                assert_eq!(w, 0, "{} (since {:?}) served", f.function, f.since);
            } else if w != 0 && asked == HEADER_API_VERSION {
                present += 1;
            }
        }
    }
    present
}

/// `LEVEL_ZERO_CPU_API_VERSION=1.6` (the first version with
/// `zeDriverGetLastErrorDescription`), embedded.
fn embedded_version() {
    let v16 = make_version(1, 6);
    let g = level_zero_cpu::ddi_getters();
    assert_eq!(
        check_table(g.zeGetGlobalProcAddrTable, v16),
        1,
        "zeInit only"
    );
    assert!(check_table(g.zeGetCommandListProcAddrTable, v16) >= 20);
    assert!(check_table(g.zeGetDeviceProcAddrTable, v16) >= 14);
    assert!(check_table(g.zeGetEventProcAddrTable, v16) >= 7);
    assert_eq!(check_table(g.zerGetGlobalProcAddrTable, v16), 0);
    let b = embedded();
    for absent in [
        "zeInitDrivers",
        "zeDeviceSynchronize",
        "zeCommandListAppendHostFunction",
        "zeEventCounterBasedCreate",
        "zeCommandListImmediateGetIndex",
        "zerGetDefaultContext",
    ] {
        assert!(!b.has(absent), "{absent}");
    }
    for present in [
        "zeCommandListCreate",
        "zeMemFreeExt",
        "zeEventHostSynchronize",
    ] {
        assert!(b.has(present), "{present}");
    }
    let mut v = ze_api_version_t(0);
    ok!(b, zeDriverGetApiVersion(b.driver, &mut v));
    assert_eq!(v, v16);
    version_flags(&b, true);
}

/// The flags a 1.6 driver knows, and the in-order ones it refuses.
fn version_flags(b: &Backend, check_descriptions: bool) {
    let c = b.context();
    let dev = b.devices[0];
    let list = |flags| {
        let desc = ze_command_list_desc_t {
            flags,
            ..Default::default()
        };
        let mut l = null_mut();
        let r = ze!(b, zeCommandListCreate(c, dev, &desc, &mut l));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeCommandListDestroy(l));
        }
        r
    };
    assert_eq!(list(0x7), ze_result_t::ZE_RESULT_SUCCESS);
    for newer in [0x8, 0x10, 0x20] {
        assert_eq!(
            list(newer),
            ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "{newer:#x}"
        );
    }
    if check_descriptions {
        assert_eq!(list(0xf), ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION);
        let text = last_error(b);
        assert!(
            text.contains("ZE_COMMAND_LIST_FLAG_IN_ORDER (since 1.7)")
                && text.contains("1.6")
                && text.contains("LEVEL_ZERO_CPU_API_VERSION"),
            "{text}"
        );
    }
    let queue = |flags, immediate: bool| {
        let desc = ze_command_queue_desc_t {
            flags,
            ..Default::default()
        };
        let mut h = null_mut();
        if immediate {
            let r = ze!(b, zeCommandListCreateImmediate(c, dev, &desc, &mut h));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeCommandListDestroy(h));
            }
            r
        } else {
            let mut q = null_mut();
            let r = ze!(b, zeCommandQueueCreate(c, dev, &desc, &mut q));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeCommandQueueDestroy(q));
            }
            r
        }
    };
    for immediate in [false, true] {
        assert_eq!(queue(0x1, immediate), ze_result_t::ZE_RESULT_SUCCESS);
        for newer in [0x2, 0x4] {
            assert_eq!(
                queue(newer, immediate),
                ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
                "{newer:#x} {immediate}"
            );
        }
    }
    if check_descriptions {
        assert!(last_error(b).contains("ZE_COMMAND_QUEUE_FLAG_COPY_OFFLOAD_HINT (since 1.13)"));
    }
    ok!(b, zeContextDestroy(c));
}

const HIDDEN: &str = "zeContextSystemBarrier,zeKernelSetGlobalOffsetExp, zeDeviceSynchronize";

/// `LEVEL_ZERO_CPU_HIDE_FUNCTIONS`, embedded.
fn embedded_hidden() {
    let b = embedded();
    for hidden in [
        "zeContextSystemBarrier",
        "zeKernelSetGlobalOffsetExp",
        "zeDeviceSynchronize",
    ] {
        assert!(!b.has(hidden), "{hidden}");
    }
    for present in [
        "zeContextCreate",
        "zeCommandListAppendHostFunction",
        "zeInitDrivers",
    ] {
        assert!(b.has(present), "{present}");
    }
    // The extension lookup does not give a hidden function, and says why.
    assert_eq!(
        b.extension_function(c"zeKernelSetGlobalOffsetExp"),
        Err(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT)
    );
    assert!(last_error(&b).contains("LEVEL_ZERO_CPU_HIDE_FUNCTIONS"));
    assert!(
        b.extension_function(c"zeDeviceGetVectorWidthPropertiesExt")
            .is_ok_and(|f| !f.is_null())
    );
    // The version is the full one.
    let mut v = ze_api_version_t(0);
    ok!(b, zeDriverGetApiVersion(b.driver, &mut v));
    assert_eq!(v, HEADER_API_VERSION);
}

/// A malformed value: the default instance does not initialise, and says why.
fn embedded_refused() {
    // SAFETY: this crate's getters honour the specification.
    let (api, _) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    for _ in 0..2 {
        // SAFETY: a plain call.
        assert_eq!(
            unsafe { api.zeInit(0) }.unwrap(),
            ze_result_t::ZE_RESULT_ERROR_UNINITIALIZED
        );
        let mut text = null();
        // SAFETY: a valid output.
        let r = unsafe { api.zerGetLastErrorDescription(&mut text) }.unwrap();
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        // SAFETY: the driver's NUL-terminated string.
        let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
        let expected = std::env::var("L0CPU_EXPECTED").unwrap();
        assert!(text.contains(&expected), "{text}");
        let mut n = 0;
        let mut desc = ze_init_driver_type_desc_t {
            flags: ze_init_driver_type_flag_t::ZE_INIT_DRIVER_TYPE_FLAG_GPU.0,
            ..Default::default()
        };
        // SAFETY: valid outputs.
        let r = unsafe { api.zeInitDrivers(&mut n, null_mut(), &mut desc) }.unwrap();
        assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_UNINITIALIZED);
    }
}

/// `LEVEL_ZERO_CPU_API_VERSION=1.6` through the loader.
fn loader_version() {
    let b = Backend::loader();
    let mut v = ze_api_version_t(0);
    ok!(b, zeDriverGetApiVersion(b.driver, &mut v));
    assert_eq!(v, make_version(1, 6));
    version_flags(&b, false);
}

/// `LEVEL_ZERO_CPU_HIDE_FUNCTIONS` through the loader: a hidden function is the loader's
/// "unsupported".
fn loader_hidden() {
    let b = Backend::loader();
    let c = b.context();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeContextSystemBarrier(c, b.devices[0])
    );
    ok!(b, zeContextDestroy(c));
}

/// A malformed value through the loader: `zeInit` fails.
fn loader_refused() {
    // SAFETY: loading the system's Level Zero loader.
    let api = unsafe { Api::load() }.expect("the loader");
    // SAFETY: a plain call.
    let r = unsafe { api.zeInit(0) }.unwrap();
    assert_ne!(r, ze_result_t::ZE_RESULT_SUCCESS);
}

#[test]
fn an_emulated_api_version_shapes_the_tables_the_version_and_the_flags() {
    run(
        "embedded_version",
        &[("LEVEL_ZERO_CPU_API_VERSION", "1.6")],
        false,
    );
    if loader_present() {
        run(
            "loader_version",
            &[("LEVEL_ZERO_CPU_API_VERSION", "1.6")],
            true,
        );
    }
}

#[test]
fn hidden_functions_are_absent_from_the_tables_and_the_lookup() {
    run(
        "embedded_hidden",
        &[("LEVEL_ZERO_CPU_HIDE_FUNCTIONS", HIDDEN)],
        false,
    );
    if loader_present() {
        run(
            "loader_hidden",
            &[("LEVEL_ZERO_CPU_HIDE_FUNCTIONS", "zeContextSystemBarrier")],
            true,
        );
    }
}

#[test]
fn malformed_emulation_variables_keep_the_driver_from_initialising() {
    for (variable, value, expected) in [
        (
            "LEVEL_ZERO_CPU_API_VERSION",
            "1.18",
            "LEVEL_ZERO_CPU_API_VERSION=\"1.18\"",
        ),
        (
            "LEVEL_ZERO_CPU_API_VERSION",
            "2.0",
            "LEVEL_ZERO_CPU_API_VERSION",
        ),
        ("LEVEL_ZERO_CPU_API_VERSION", "latest", "expected 1.N"),
        (
            "LEVEL_ZERO_CPU_HIDE_FUNCTIONS",
            "zeInit,zeNoSuchFunction",
            "zeNoSuchFunction",
        ),
    ] {
        let env = [(variable, value), ("L0CPU_EXPECTED", expected)];
        let stderr = run("embedded_refused", &env, false);
        assert!(stderr.contains(variable), "{stderr}");
        assert!(stderr.contains("does not initialise"), "{stderr}");
        if loader_present() {
            let stderr = run("loader_refused", &env, true);
            assert!(stderr.contains(variable), "{stderr}");
        }
    }
}
