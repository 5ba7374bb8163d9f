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
        if std::thread::panicking() || self.leaks_allowed {
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
