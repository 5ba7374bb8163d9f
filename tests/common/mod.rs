//! What every whole-stack test uses: a driver on the backend under test, and a leak check.
//!
//! The backend comes from `LEVEL_ZERO_BACKEND`, as for applications:
//! - unset, `auto` or `cpu`: every test gets its own instance of the embedded CPU driver,
//!   so tests run in parallel and each checks its own leaks;
//! - `system`: the system loader, whose drivers must include the CPU driver (CI sets
//!   `ZE_ENABLE_ALT_DRIVERS` to it). Tests then share its default instance: run them with
//!   `--test-threads=1` so that each test's leak check sees only its own objects. Tests that
//!   need a specially configured driver (faults, hidden extensions) are skipped there.

#![allow(dead_code)]

use level_zero::cpu::{Config, LiveObjects};
use level_zero::{Backend, Context, Device, Driver, Runtime};

/// The test's driver; dropping it asserts that every object the test created is gone.
pub struct TestDriver {
    pub driver: Driver,
    baseline: LiveObjects,
    /// Set by tests that make the crate leak on purpose (`level_zero::deliberate_leaks`).
    leaks_allowed: bool,
    /// `level_zero::deliberate_leaks()` when the driver was wrapped.
    deliberate_leaks_before: u64,
}

pub fn system_backend() -> bool {
    std::env::var("LEVEL_ZERO_BACKEND").is_ok_and(|v| v.eq_ignore_ascii_case("system"))
}

fn system_cpu_driver() -> Driver {
    let rt = Runtime::new(Backend::System).expect("LEVEL_ZERO_BACKEND=system: the loader");
    if std::env::var("ZE_ENABLE_VALIDATION_LAYER").as_deref() == Ok("1") {
        // A validation pass that silently ran without the layer would prove nothing.
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        assert!(
            maps.contains("libze_validation_layer"),
            "ZE_ENABLE_VALIDATION_LAYER=1 but the validation layer is not loaded"
        );
        // A loader named by path (`.ci/loader132`: Debian sid's loader in a private runtime)
        // must have loaded the layer beside it, not the system's older one.
        if let Some(loader) = std::env::var_os(level_zero::runtime::LOADER_PATH_ENV) {
            let loader = std::fs::canonicalize(&loader).expect("LEVEL_ZERO_LOADER_PATH");
            let dir = loader.parent().unwrap().to_string_lossy().into_owned();
            let layer = maps
                .lines()
                .filter_map(|l| l.split_whitespace().nth(5))
                .find(|path| path.contains("libze_validation_layer"))
                .unwrap();
            assert!(
                layer.starts_with(&format!("{dir}/")),
                "the validation layer loaded is {layer}, not the one beside the loader in {dir}"
            );
        }
    }
    rt.drivers()
        .into_iter()
        .find(|d| d.has_extension("ZEX_cpu_driver_testing"))
        .expect("LEVEL_ZERO_BACKEND=system needs the CPU driver: ZE_ENABLE_ALT_DRIVERS=/abs/path/liblevel_zero_cpu.so")
}

impl TestDriver {
    /// A driver with the default configuration (two devices).
    pub fn new() -> TestDriver {
        if system_backend() {
            return TestDriver::wrap(system_cpu_driver());
        }
        TestDriver::wrap(level_zero::cpu::driver(Config::default()).expect("embedded driver"))
    }

    /// A driver with a special configuration; `None` (the test is skipped) on the system
    /// backend, whose driver is configured by the environment.
    pub fn with(f: impl FnOnce(&mut Config)) -> Option<TestDriver> {
        if system_backend() {
            eprintln!("SKIPPED on the system backend: the test needs a configured driver");
            return None;
        }
        let mut c = Config::default();
        f(&mut c);
        Some(TestDriver::wrap(
            level_zero::cpu::driver(c).expect("embedded driver"),
        ))
    }

    fn wrap(driver: Driver) -> TestDriver {
        let baseline = level_zero::cpu::live_objects(&driver).expect("live objects");
        TestDriver {
            driver,
            baseline,
            leaks_allowed: false,
            deliberate_leaks_before: level_zero::deliberate_leaks(),
        }
    }

    /// The test makes the crate leak on purpose (and asserts it through
    /// `level_zero::deliberate_leaks`): the final leak check is skipped.
    pub fn allow_deliberate_leaks(&mut self) {
        self.leaks_allowed = true;
    }

    pub fn devices(&self) -> Vec<Device> {
        self.driver.devices().expect("devices")
    }

    pub fn device(&self) -> Device {
        self.devices().remove(0)
    }

    pub fn context(&self) -> Context {
        Context::new(&self.driver).expect("context")
    }

    pub fn live(&self) -> LiveObjects {
        level_zero::cpu::live_objects(&self.driver).expect("live objects")
    }
}

impl Drop for TestDriver {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if self.leaks_allowed {
            let made = level_zero::deliberate_leaks() - self.deliberate_leaks_before;
            if made > 0 {
                // Straight to stderr, past the test harness's capture: the leak checker of
                // the loader's validation layer counts these objects at exit, and
                // `.ci/loader132` reads which tests made them.
                let test = std::thread::current().name().unwrap_or("?").to_owned();
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!("level-zero-suite: deliberate leaks: {made} in {test}\n").as_bytes(),
                );
            }
            return;
        }
        let now = self.live();
        assert_eq!(
            now, self.baseline,
            "objects leaked: live now {now:?}, at the start {:?}",
            self.baseline
        );
    }
}

/// A command that runs this test binary again (tests that need a process of their own).
///
/// When the binary was started through a dynamic loader explicitly
/// (`ld-linux-x86-64.so.2 --library-path DIR BINARY ARGS`, as `.ci/loader132` runs the tests
/// under Debian sid's glibc), `current_exe()` is that loader: the command is then the loader
/// with its options and the binary, taken from this process's original command line
/// (`/proc/self/cmdline`, which keeps them ahead of the program's own `argv[0]`).
pub fn this_test_binary() -> std::process::Command {
    use std::os::unix::ffi::OsStrExt;
    let exe = std::env::current_exe().expect("current_exe");
    let through_loader = exe
        .file_name()
        .is_some_and(|n| n.as_bytes().starts_with(b"ld-linux"));
    if !through_loader {
        return std::process::Command::new(exe);
    }
    let cmdline = std::fs::read("/proc/self/cmdline").expect("/proc/self/cmdline");
    let words: Vec<&std::ffi::OsStr> = cmdline
        .strip_suffix(&[0])
        .unwrap_or(&cmdline)
        .split(|&b| b == 0)
        .map(std::ffi::OsStr::from_bytes)
        .collect();
    let program = std::env::args_os().next().expect("argv[0]");
    let at = words
        .iter()
        .skip(1)
        .position(|w| *w == program)
        .expect("the program among the dynamic loader's arguments")
        + 1;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(&words[1..=at]);
    cmd
}

/// `kernels/spv/<name>.<opt>.spv`.
pub fn spv(name: &str, opt: &str) -> Vec<u8> {
    let path = format!(
        "{}/kernels/spv/{name}.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// SPIR-V assembled from text by `spirv-as`.
pub fn assemble(name: &str, text: &str) -> Vec<u8> {
    let stem = std::env::temp_dir().join(format!(
        "l0-test-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let (src, out) = (stem.with_extension("spvasm"), stem.with_extension("spv"));
    std::fs::write(&src, text).unwrap();
    let r = std::process::Command::new("spirv-as")
        .args(["--target-env", "spv1.0"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("spirv-as (Debian package spirv-tools) is needed by this test");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&out);
    bytes
}

/// Whether the backend reaches every function of `functions`. Loader 1.8.12 (CI's system
/// loader) exports none of spec 1.9's experimental or 1.14's and later functions, so tests of
/// them run on the embedded driver and through loader 1.32, and say here that they are
/// skipped through the older loader (the safe layer's fallbacks for older drivers are tested
/// by `tests/modern.rs` on the CPU driver configured as one).
pub fn reaches(t: &TestDriver, functions: &[&str]) -> bool {
    let api = t.driver.runtime().api();
    match functions.iter().find(|f| api.is_present(f) != Some(true)) {
        None => true,
        Some(f) => {
            eprintln!("SKIPPED: this loader does not reach {f}");
            false
        }
    }
}
