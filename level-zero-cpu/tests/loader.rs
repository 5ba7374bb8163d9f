//! The driver through the official loader (Debian's `libze1`), loaded with
//! `ZE_ENABLE_ALT_DRIVERS=/abs/path/liblevel_zero_cpu.so`: every scenario, in three modes —
//! plain, with handle wrapping (`ZE_ENABLE_LOADER_INTERCEPT=1`) and with the validation layer
//! (`ZE_ENABLE_VALIDATION_LAYER=1 ZE_ENABLE_PARAMETER_VALIDATION=1`, and its handle-lifetime
//! checks) — plus a C client.
//!
//! The loader reads its environment once per process, so each configuration runs in a child
//! process: this test binary again, running only the `child` test. Without a loader these tests
//! print SKIPPED, unless `LEVEL_ZERO_REQUIRE_LOADER=1` (CI) makes that a failure.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHILD_VAR: &str = "L0CPU_TEST_CHILD_SCENARIOS";

/// Whether the loader tests can run here; panics when they must but cannot.
fn loader_present() -> bool {
    // SAFETY: loading the system's Level Zero loader, which is what these tests are about.
    match unsafe { level_zero_sys::Api::load() } {
        Ok(_) => true,
        Err(e) if std::env::var_os("LEVEL_ZERO_REQUIRE_LOADER").is_none() => {
            eprintln!("SKIPPED: {e} (install libze1, or set LEVEL_ZERO_REQUIRE_LOADER=1)");
            false
        }
        Err(e) => panic!("LEVEL_ZERO_REQUIRE_LOADER is set but: {e}"),
    }
}

/// The target directory of this build (`target/<profile>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// The driver library cargo built with this test: `target/<profile>/deps/liblevel_zero_cpu.so`
/// (cargo builds the `cdylib` there for the package's tests, and copies it up one level).
fn driver_library() -> PathBuf {
    let deps = target_dir().join("deps").join("liblevel_zero_cpu.so");
    let so = if deps.exists() {
        deps
    } else {
        target_dir().join("liblevel_zero_cpu.so")
    };
    assert!(
        so.exists(),
        "{} is missing: cargo test -p level-zero-cpu builds it",
        so.display()
    );
    so.canonicalize().expect("absolute path")
}

/// Environment for one mode of the loader.
fn mode_env(mode: &str) -> Vec<(&'static str, &'static str)> {
    match mode {
        "plain" => vec![],
        "intercept" => vec![("ZE_ENABLE_LOADER_INTERCEPT", "1")],
        "validation" => vec![
            ("ZE_ENABLE_VALIDATION_LAYER", "1"),
            ("ZE_ENABLE_PARAMETER_VALIDATION", "1"),
            // Loader 1.8.12's layer also tracks handle lifetimes.
            ("ZE_ENABLE_HANDLE_LIFETIME", "1"),
        ],
        _ => unreachable!(),
    }
}

/// A command with the loader pointed at this driver, and no inherited driver configuration.
fn with_driver(mut cmd: Command, mode: &str, env: &[(&str, &str)]) -> Command {
    for (k, _) in std::env::vars() {
        if k.starts_with(level_zero_cpu::ENV_PREFIX)
            || k.starts_with("ZE_")
            || k.starts_with("ZEL_")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("ZE_ENABLE_ALT_DRIVERS", driver_library());
    cmd.envs(mode_env(mode).iter().copied());
    cmd.envs(env.iter().copied());
    cmd
}

/// Runs every scenario through the loader in `mode`: one child process per configuration.
fn run_mode(mode: &str) {
    if !loader_present() {
        return;
    }
    let mut groups: BTreeMap<Vec<(&str, &str)>, Vec<&str>> = BTreeMap::new();
    for s in common::scenarios::ALL.iter().filter(|s| !s.embedded_only) {
        groups.entry(s.env.to_vec()).or_default().push(s.name);
    }
    for (env, names) in groups {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"]);
        let mut cmd = with_driver(cmd, mode, &env);
        cmd.env(CHILD_VAR, names.join(","));
        let out = cmd.output().expect("run the child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains(&format!("CHILD OK {}", names.len())),
            "mode {mode}, env {env:?}, scenarios {names:?}: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            out.status
        );
    }
}

/// The child: runs the scenarios named in its environment through the system loader.
#[test]
fn child() {
    let Ok(names) = std::env::var(CHILD_VAR) else {
        return;
    };
    let b = common::Backend::loader();
    if std::env::var("ZE_ENABLE_VALIDATION_LAYER").as_deref() == Ok("1") {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        assert!(
            maps.contains("libze_validation_layer"),
            "the validation layer is not loaded"
        );
    }
    b.assert_no_leaks();
    let mut n = 0;
    for name in names.split(',') {
        let s = common::scenario(name);
        (s.run)(&b);
        b.assert_no_leaks();
        println!("scenario {name} ok");
        n += 1;
    }
    println!("CHILD OK {n}");
}

#[test]
fn every_scenario_through_the_loader() {
    run_mode("plain");
}

#[test]
fn every_scenario_through_the_loader_with_handle_wrapping() {
    run_mode("intercept");
}

#[test]
fn every_scenario_through_the_loader_with_the_validation_layer() {
    run_mode("validation");
}

#[test]
fn the_library_exports_every_getter_and_nothing_else() {
    if !loader_present() {
        return;
    }
    let so = driver_library();
    // SAFETY: loading this crate's own driver library, which runs no initialiser of note.
    let (api, report) = unsafe { level_zero_sys::Api::load_driver(&so) }.expect("load the driver");
    for o in &report {
        assert_eq!(
            o.result,
            Some(level_zero_sys::ze_result_t::ZE_RESULT_SUCCESS),
            "{}",
            o.getter
        );
    }
    assert_eq!(report.len(), level_zero_sys::DDI_GETTERS.len());
    assert_eq!(api.is_present("zeInit"), Some(true));
    // Exported symbols: the getters only (a driver exporting zeInit would shadow the loader's).
    if let Ok(out) = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        let exported: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2))
            .filter(|s| s.starts_with("ze") || s.starts_with("zes") || s.starts_with("zet"))
            .collect();
        assert_eq!(
            exported.len(),
            level_zero_sys::DDI_GETTERS.len(),
            "{exported:?}"
        );
        assert!(
            exported.iter().all(|s| s.ends_with("ProcAddrTable")),
            "{exported:?}"
        );
    }
}

/// Compiles `tests/c/client.c` against the system headers and loader (once per process: the
/// tests that run it share the executable).
fn c_client() -> Option<PathBuf> {
    static CLIENT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    CLIENT.get_or_init(build_c_client).clone()
}

fn build_c_client() -> Option<PathBuf> {
    if !loader_present() {
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/client.c");
    let exe = target_dir().join("level-zero-cpu-c-client");
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg("-lze_loader")
        .output();
    let headers = Path::new("/usr/include/level_zero/ze_api.h").exists();
    match out {
        Ok(o) if o.status.success() => Some(exe),
        // A compiler and the headers are there: a failure is a real one.
        Ok(o) if headers => panic!("cc failed: {}", String::from_utf8_lossy(&o.stderr)),
        _ if std::env::var_os("LEVEL_ZERO_REQUIRE_LOADER").is_some() => {
            panic!("the C client needs a C compiler (gcc) and libze-dev: {out:?}")
        }
        _ => {
            eprintln!("SKIPPED: the C client needs a C compiler and libze-dev: {out:?}");
            None
        }
    }
}

fn run_c_client(mode: &str) {
    let Some(exe) = c_client() else { return };
    let out = with_driver(Command::new(&exe), mode, &[])
        .output()
        .expect("run the C client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("OK: 2 devices"),
        "mode {mode}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_c_client_copies_host_device_peer_host() {
    run_c_client("plain");
}

#[test]
fn a_c_client_with_handle_wrapping() {
    run_c_client("intercept");
}

#[test]
fn a_c_client_with_the_validation_layer() {
    run_c_client("validation");
}
