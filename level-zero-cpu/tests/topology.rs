//! Device topology and logging through the official loader, in child processes (the loader
//! and the driver read their environment once per process): `ZE_AFFINITY_MASK` hiding every
//! device, and `LEVEL_ZERO_CPU_LOG` naming a failed call and its cause on stderr with no
//! logger installed. Without a loader these tests print SKIPPED, unless
//! `LEVEL_ZERO_REQUIRE_LOADER=1` (CI) makes that a failure.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::ptr::null_mut;

use level_zero_sys::*;

const CHILD_VAR: &str = "L0CPU_TOPOLOGY_CHILD";

fn loader_present() -> bool {
    // SAFETY: loading the system's Level Zero loader, which is what these tests are about.
    match unsafe { Api::load() } {
        Ok(_) => true,
        Err(e) if std::env::var_os("LEVEL_ZERO_REQUIRE_LOADER").is_none() => {
            eprintln!("SKIPPED: {e} (install libze1, or set LEVEL_ZERO_REQUIRE_LOADER=1)");
            false
        }
        Err(e) => panic!("LEVEL_ZERO_REQUIRE_LOADER is set but: {e}"),
    }
}

/// `target/<profile>/deps/liblevel_zero_cpu.so`, built by cargo for this package's tests.
fn driver_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let deps = exe.parent().expect("target/<profile>/deps");
    let so = [
        deps.to_path_buf(),
        deps.parent().map(Path::to_path_buf).unwrap_or_default(),
    ]
    .into_iter()
    .map(|d| d.join("liblevel_zero_cpu.so"))
    .find(|p| p.exists())
    .expect("cargo test -p level-zero-cpu builds liblevel_zero_cpu.so");
    so.canonicalize().expect("absolute path")
}

/// Runs the child `what` of this binary through the loader with `env`.
fn run_child(what: &str, env: &[(&str, &str)]) -> Output {
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
    cmd.env("ZE_ENABLE_ALT_DRIVERS", driver_library());
    cmd.env(CHILD_VAR, what);
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD OK"),
        "child {what} {env:?}: {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The child: runs the check named in its environment through the system loader.
#[test]
fn child() {
    let Ok(what) = std::env::var(CHILD_VAR) else {
        return;
    };
    match what.as_str() {
        "failing_call" => {
            let b = common::Backend::loader();
            fails!(
                ZE_RESULT_ERROR_INVALID_NULL_POINTER,
                b,
                zeDeviceGetProperties(b.devices[0], null_mut())
            );
        }
        "torn_lines" => {
            let b = std::sync::Arc::new(common::Backend::loader());
            let device = b.devices[0] as usize;
            let callers: Vec<_> = (0..4)
                .map(|_| {
                    let b = b.clone();
                    std::thread::spawn(move || {
                        for _ in 0..TORN_CALLS {
                            fails!(
                                ZE_RESULT_ERROR_INVALID_NULL_POINTER,
                                b,
                                zeDeviceGetProperties(device as ze_device_handle_t, null_mut())
                            );
                        }
                    })
                })
                .collect();
            for _ in 0..TORN_CALLS {
                // One write per line, as the loader's log writes them.
                std::io::Write::write_all(&mut std::io::stderr(), b"another writer's line\n")
                    .unwrap();
            }
            for c in callers {
                c.join().unwrap();
            }
        }
        "no_device" => {
            // SAFETY: loading the system's Level Zero loader.
            let api = unsafe { Api::load() }.expect("the Level Zero loader");
            // SAFETY: zeInit takes no pointer.
            let r = unsafe { api.zeInit(0) }.unwrap();
            assert_ne!(
                r,
                ze_result_t::ZE_RESULT_SUCCESS,
                "zeInit with every device masked"
            );
        }
        _ => panic!("unknown child {what}"),
    }
    println!("CHILD OK");
}

#[test]
fn a_failed_call_is_logged_with_its_name_and_cause() {
    if !loader_present() {
        return;
    }
    let out = run_child("failing_call", &[("LEVEL_ZERO_CPU_LOG", "warn")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("zeDeviceGetProperties")
            && stderr.contains(
                "zeDeviceGetProperties returned ZE_RESULT_ERROR_INVALID_NULL_POINTER: null pDeviceProperties"
            ),
        "{stderr}"
    );
    // Unset: nothing is written.
    let out = run_child("failing_call", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("zeDeviceGetProperties"), "{stderr}");
    // `error` is less verbose than the warning a failed call is.
    let out = run_child("failing_call", &[("LEVEL_ZERO_CPU_LOG", "error")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("zeDeviceGetProperties"), "{stderr}");
}

/// Another writer shares stderr (the loader's validation-layer log does): each of the
/// driver's lines must still arrive whole. Lines written in pieces were torn by the other
/// writer's lines.
#[test]
fn logged_lines_stay_whole_beside_another_writer_of_stderr() {
    if !loader_present() {
        return;
    }
    let out = run_child("torn_lines", &[("LEVEL_ZERO_CPU_LOG", "warn")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ours = "level-zero-cpu: warn: zeDeviceGetProperties returned ZE_RESULT_ERROR_INVALID_NULL_POINTER: null pDeviceProperties";
    let (mut whole, mut other) = (0, 0);
    for line in stderr.lines() {
        match line {
            l if l == ours => whole += 1,
            "another writer's line" => other += 1,
            l => panic!("a torn line: {l:?}"),
        }
    }
    assert_eq!((whole, other), (4 * TORN_CALLS, TORN_CALLS));
}

/// Failing calls per thread of the child `torn_lines`.
const TORN_CALLS: usize = 2000;

#[test]
fn an_affinity_mask_that_hides_every_device_leaves_no_driver() {
    if !loader_present() {
        return;
    }
    let out = run_child(
        "no_device",
        &[("ZE_AFFINITY_MASK", "5"), ("LEVEL_ZERO_CPU_LOG", "warn")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The entry that names no device is reported, and zeInit says why it failed.
    assert!(stderr.contains("ZE_AFFINITY_MASK entry \"5\""), "{stderr}");
    assert!(
        stderr.contains(
            "zeInit returned ZE_RESULT_ERROR_UNINITIALIZED: ZE_AFFINITY_MASK=\"5\" hides every device"
        ),
        "{stderr}"
    );
}

#[test]
fn an_embedded_instance_may_have_no_visible_device() {
    let mut config = level_zero_cpu::Config::default();
    config.affinity_mask = Some("2".into());
    let b = common::Backend::embedded_with(config);
    assert!(b.devices.is_empty());
    // An empty mask shows everything, as an unset one does.
    let mut config = level_zero_cpu::Config::default();
    config.affinity_mask = Some(" ".into());
    assert_eq!(common::Backend::embedded_with(config).devices.len(), 2);
}

#[test]
fn sysman_sees_tiles_and_their_memory() {
    let b = common::Backend::embedded(&[
        ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
        ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "64M"),
        ("ZE_FLAT_DEVICE_HIERARCHY", "COMPOSITE"),
    ]);
    let physical = |d: ze_device_handle_t| {
        let mut n = 1;
        let mut mem = [null_mut()];
        ok!(b, zesDeviceEnumMemoryModules(d, &mut n, mem.as_mut_ptr()));
        let mut p = zes_mem_properties_t::default();
        ok!(b, zesMemoryGetProperties(mem[0], &mut p));
        let mut s = zes_mem_state_t::default();
        ok!(b, zesMemoryGetState(mem[0], &mut s));
        assert_eq!(s.size, p.physicalSize);
        p.physicalSize
    };
    let card = b.devices[0];
    let mut props = zes_device_properties_t::default();
    ok!(b, zesDeviceGetProperties(card, &mut props));
    assert_eq!(props.numSubdevices, 2);
    assert_eq!(physical(card), 64 << 20);
    let mut n = 0;
    ok!(b, zeDeviceGetSubDevices(card, &mut n, null_mut()));
    let mut tiles = vec![null_mut(); n as usize];
    ok!(b, zeDeviceGetSubDevices(card, &mut n, tiles.as_mut_ptr()));
    for t in tiles {
        let mut props = zes_device_properties_t::default();
        ok!(b, zesDeviceGetProperties(t, &mut props));
        assert_eq!(props.numSubdevices, 0);
        assert_eq!(physical(t), 32 << 20);
    }
}
