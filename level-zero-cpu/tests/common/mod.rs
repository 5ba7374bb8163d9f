//! What the driver tests share: a backend (the embedded driver, or the driver through the
//! official loader), helpers to make the usual objects, and the scenarios themselves, written
//! once and run on every backend.

#![allow(
    dead_code,
    clippy::missing_safety_doc,
    clippy::macro_metavars_in_unsafe
)]

pub mod graph;
pub mod scenarios;

use std::ffi::c_void;
use std::ptr::{null, null_mut};

use level_zero_cpu::testing::*;
use level_zero_sys::*;

/// Calls a Level Zero function through the backend's table and returns its result code.
///
/// Every call made through this macro passes either valid arguments, or arguments that are
/// deliberately invalid in a way the specification requires the driver to detect (null or
/// stale handles, null pointers, bad sizes): the driver must reject those without
/// dereferencing them. The arguments are expressions of the test, evaluated inside the unsafe
/// block on purpose: every call is the unsafe operation under test.
#[macro_export]
#[allow(clippy::macro_metavars_in_unsafe)]
macro_rules! ze {
    ($b:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        // SAFETY: see the macro's documentation: valid arguments, or invalid ones the driver
        // must detect without dereferencing them.
        let r = unsafe { $b.api.$f($($arg),*) };
        r.unwrap_or_else(|e| panic!("{e}"))
    }};
}

/// Asserts that a call succeeded.
#[macro_export]
macro_rules! ok {
    ($b:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        let r = $crate::ze!($b, $f($($arg),*));
        assert_eq!(r, level_zero_sys::ze_result_t::ZE_RESULT_SUCCESS, "{}", stringify!($f));
    }};
}

/// Asserts that a call returned a given code.
#[macro_export]
macro_rules! fails {
    ($code:ident, $b:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        let r = $crate::ze!($b, $f($($arg),*));
        assert_eq!(r, level_zero_sys::ze_result_t::$code, "{}", stringify!($f));
    }};
}

/// How the driver is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Api::from_ddi(&level_zero_cpu::ddi_getters())`, one instance per test.
    Embedded,
    /// The system loader with `ZE_ENABLE_ALT_DRIVERS`: the default instance.
    Loader,
}

/// A driver to test, and how to reach it.
pub struct Backend {
    pub api: Api,
    pub kind: Kind,
    /// Whether handles are the loader's (intercept mode): they must be translated before
    /// calling extension functions, and stale or wrong-type handles cannot be passed safely.
    pub wrapped: bool,
    pub driver: ze_driver_handle_t,
    pub devices: Vec<ze_device_handle_t>,
}

// SAFETY: handles are opaque values that the driver accepts from any thread (every entry point
// of this driver is thread-safe); the table itself is immutable.
unsafe impl Sync for Backend {}
// SAFETY: as above.
unsafe impl Send for Backend {}

impl Backend {
    /// The embedded driver: a new instance configured from `env`-style pairs.
    pub fn embedded(env: &[(&str, &str)]) -> Backend {
        let (config, errors) = level_zero_cpu::Config::from_vars(
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        );
        assert!(errors.is_empty(), "{errors:?}");
        Backend::embedded_with(config)
    }

    /// The embedded driver: a new instance with this configuration.
    pub fn embedded_with(config: level_zero_cpu::Config) -> Backend {
        // SAFETY: this crate's getters honour the specification.
        let (api, report) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
        assert!(
            report
                .iter()
                .all(|o| o.result == Some(ze_result_t::ZE_RESULT_SUCCESS))
        );
        let driver = level_zero_cpu::new_driver(config);
        Backend::with_devices(api, Kind::Embedded, false, driver)
    }

    /// The system loader, which must find this driver (the only one) through
    /// `ZE_ENABLE_ALT_DRIVERS`.
    pub fn loader() -> Backend {
        // SAFETY: loading the system's Level Zero loader.
        let api = unsafe { Api::load() }.expect("the Level Zero loader");
        let wrapped = std::env::var("ZE_ENABLE_LOADER_INTERCEPT").as_deref() == Ok("1");
        let b = Backend {
            api,
            kind: Kind::Loader,
            wrapped,
            driver: null_mut(),
            devices: Vec::new(),
        };
        ok!(b, zeInit(0));
        let mut n = 0;
        ok!(b, zeDriverGet(&mut n, null_mut()));
        assert_eq!(n, 1, "exactly one driver (this one) expected");
        let mut driver = null_mut();
        ok!(b, zeDriverGet(&mut n, &mut driver));
        Backend::with_devices(b.api, Kind::Loader, wrapped, driver)
    }

    fn with_devices(api: Api, kind: Kind, wrapped: bool, driver: ze_driver_handle_t) -> Backend {
        let mut b = Backend {
            api,
            kind,
            wrapped,
            driver,
            devices: Vec::new(),
        };
        let mut n = 0;
        ok!(b, zeDeviceGet(driver, &mut n, null_mut()));
        let mut devices = vec![null_mut(); n as usize];
        ok!(b, zeDeviceGet(driver, &mut n, devices.as_mut_ptr()));
        b.devices = devices;
        b
    }

    /// Whether stale and wrong-type handles can be passed: not through the loader's handle
    /// wrapping, which dereferences what it is given.
    pub fn direct_handles(&self) -> bool {
        !self.wrapped
    }

    /// A handle as the driver itself knows it (translated when the loader wraps handles).
    pub fn native<T>(&self, kind: zel_handle_type_t, h: *mut T) -> *mut T {
        if self.kind == Kind::Embedded {
            return h;
        }
        let mut out = null_mut();
        ok!(self, zelLoaderTranslateHandle(kind, h.cast(), &mut out));
        out.cast()
    }

    /// An extension function's address (may be null), or the error code.
    pub fn extension_function(&self, name: &std::ffi::CStr) -> Result<*mut c_void, ze_result_t> {
        let mut f = 0xdead_usize as *mut c_void;
        let r = ze!(
            self,
            zeDriverGetExtensionFunctionAddress(self.driver, name.as_ptr(), &mut f)
        );
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            Ok(f)
        } else {
            assert!(f.is_null(), "a failed lookup must write NULL");
            Err(r)
        }
    }

    /// The advertised extension names.
    pub fn extensions(&self) -> Vec<String> {
        let mut n = 0;
        ok!(
            self,
            zeDriverGetExtensionProperties(self.driver, &mut n, null_mut())
        );
        let mut props = vec![ze_driver_extension_properties_t::default(); n as usize];
        ok!(
            self,
            zeDriverGetExtensionProperties(self.driver, &mut n, props.as_mut_ptr())
        );
        props
            .iter()
            .map(|p| {
                // SAFETY: the driver wrote a NUL-terminated name into the array.
                unsafe { std::ffi::CStr::from_ptr(p.name.as_ptr()) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// The driver's live-object counts, through the testing extension.
    pub fn live(&self) -> zex_cpu_live_objects_t {
        let f = self
            .extension_function(ZEX_CPU_DRIVER_GET_LIVE_OBJECTS_FN)
            .expect("the testing extension");
        assert!(!f.is_null());
        // SAFETY: the address of zexCpuDriverGetLiveObjects, of this type.
        let get: zex_pfnCpuDriverGetLiveObjects_t = unsafe { std::mem::transmute(f) };
        let mut live = zex_cpu_live_objects_t::default();
        let driver = self.native(zel_handle_type_t::ZEL_HANDLE_DRIVER, self.driver);
        // SAFETY: the driver's own handle and a valid output.
        let r = unsafe { get.unwrap()(driver, &mut live) };
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        live
    }

    /// Asserts that nothing of this driver is alive.
    pub fn assert_no_leaks(&self) {
        let live = self.live();
        assert!(live.is_empty(), "leaked: {live:?}");
    }

    /// The driver's sanitizer report, through the testing extension.
    pub fn sanitizer(&self) -> zex_cpu_sanitizer_report_t {
        let f = self
            .extension_function(ZEX_CPU_DRIVER_GET_SANITIZER_REPORT_FN)
            .expect("the testing extension");
        assert!(!f.is_null());
        // SAFETY: the address of zexCpuDriverGetSanitizerReport, of this type.
        let get: zex_pfnCpuDriverGetSanitizerReport_t = unsafe { std::mem::transmute(f) };
        let mut report = zex_cpu_sanitizer_report_t::default();
        let driver = self.native(zel_handle_type_t::ZEL_HANDLE_DRIVER, self.driver);
        // SAFETY: the driver's own handle and a valid output.
        let r = unsafe { get.unwrap()(driver, &mut report) };
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        report
    }

    /// A device's residency record, through the testing extension.
    pub fn residency(&self, device: ze_device_handle_t) -> zex_cpu_residency_t {
        let f = self
            .extension_function(ZEX_CPU_DEVICE_GET_RESIDENCY_FN)
            .expect("the testing extension");
        // SAFETY: the address of zexCpuDeviceGetResidency, of this type.
        let get: zex_pfnCpuDeviceGetResidency_t = unsafe { std::mem::transmute(f) };
        let mut r = zex_cpu_residency_t::default();
        let device = self.native(zel_handle_type_t::ZEL_HANDLE_DEVICE, device);
        // SAFETY: the driver's own handle and a valid output.
        let code = unsafe { get.unwrap()(device, &mut r) };
        assert_eq!(code, ze_result_t::ZE_RESULT_SUCCESS);
        r
    }

    pub fn context(&self) -> ze_context_handle_t {
        let desc = ze_context_desc_t::default();
        let mut h = null_mut();
        ok!(self, zeContextCreate(self.driver, &desc, &mut h));
        h
    }

    pub fn alloc_device(&self, ctx: ze_context_handle_t, size: usize, device: usize) -> *mut u8 {
        let desc = ze_device_mem_alloc_desc_t::default();
        let mut p = null_mut();
        ok!(
            self,
            zeMemAllocDevice(ctx, &desc, size, 0, self.devices[device], &mut p)
        );
        p.cast()
    }

    pub fn alloc_host(&self, ctx: ze_context_handle_t, size: usize) -> *mut u8 {
        let desc = ze_host_mem_alloc_desc_t::default();
        let mut p = null_mut();
        ok!(self, zeMemAllocHost(ctx, &desc, size, 0, &mut p));
        p.cast()
    }

    pub fn alloc_shared(&self, ctx: ze_context_handle_t, size: usize, device: usize) -> *mut u8 {
        let ddesc = ze_device_mem_alloc_desc_t::default();
        let hdesc = ze_host_mem_alloc_desc_t::default();
        let mut p = null_mut();
        ok!(
            self,
            zeMemAllocShared(ctx, &ddesc, &hdesc, size, 0, self.devices[device], &mut p)
        );
        p.cast()
    }

    pub fn free(&self, ctx: ze_context_handle_t, p: *mut u8) {
        ok!(self, zeMemFree(ctx, p.cast()));
    }

    pub fn queue_desc(
        ordinal: u32,
        index: u32,
        mode: ze_command_queue_mode_t,
    ) -> ze_command_queue_desc_t {
        ze_command_queue_desc_t {
            ordinal,
            index,
            mode,
            ..Default::default()
        }
    }

    pub fn queue(&self, ctx: ze_context_handle_t, device: usize) -> ze_command_queue_handle_t {
        let desc = Self::queue_desc(
            0,
            0,
            ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
        );
        let mut q = null_mut();
        ok!(
            self,
            zeCommandQueueCreate(ctx, self.devices[device], &desc, &mut q)
        );
        q
    }

    pub fn list(&self, ctx: ze_context_handle_t, device: usize) -> ze_command_list_handle_t {
        self.list_on(ctx, device, 0)
    }

    pub fn list_on(
        &self,
        ctx: ze_context_handle_t,
        device: usize,
        ordinal: u32,
    ) -> ze_command_list_handle_t {
        let desc = ze_command_list_desc_t {
            commandQueueGroupOrdinal: ordinal,
            ..Default::default()
        };
        let mut l = null_mut();
        ok!(
            self,
            zeCommandListCreate(ctx, self.devices[device], &desc, &mut l)
        );
        l
    }

    pub fn immediate(&self, ctx: ze_context_handle_t, device: usize) -> ze_command_list_handle_t {
        let desc = Self::queue_desc(
            0,
            0,
            ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
        );
        let mut l = null_mut();
        ok!(
            self,
            zeCommandListCreateImmediate(ctx, self.devices[device], &desc, &mut l)
        );
        l
    }

    /// Whether the table has a function (Debian's loader 1.8.12 lacks some of 1.9+).
    pub fn has(&self, name: &str) -> bool {
        self.api.is_present(name) == Some(true)
    }

    /// Waits until everything appended to an immediate list so far has run:
    /// `zeCommandListHostSynchronize` where the table has it, else a barrier that signals an
    /// event the host waits for.
    pub fn finish(&self, c: ze_context_handle_t, l: ze_command_list_handle_t) {
        if self.has("zeCommandListHostSynchronize") {
            ok!(self, zeCommandListHostSynchronize(l, u64::MAX));
            return;
        }
        let pool = self.event_pool(c, 1, 0);
        let e = self.event(pool, 0);
        ok!(
            self,
            zeCommandListAppendBarrier(l, e, 0, std::ptr::null_mut())
        );
        ok!(self, zeEventHostSynchronize(e, u64::MAX));
        ok!(self, zeEventDestroy(e));
        ok!(self, zeEventPoolDestroy(pool));
    }

    /// Records commands into a new list, runs it on a new queue of `device`, waits, and
    /// cleans up: the result of the synchronisation.
    pub fn run(
        &self,
        ctx: ze_context_handle_t,
        device: usize,
        record: impl FnOnce(ze_command_list_handle_t),
    ) -> ze_result_t {
        let q = self.queue(ctx, device);
        let mut l = self.list(ctx, device);
        record(l);
        ok!(self, zeCommandListClose(l));
        ok!(
            self,
            zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
        );
        let r = ze!(self, zeCommandQueueSynchronize(q, u64::MAX));
        ok!(self, zeCommandListDestroy(l));
        ok!(self, zeCommandQueueDestroy(q));
        r
    }

    /// Uploads `data` into the whole image through an immediate list.
    pub fn upload_image(&self, c: ze_context_handle_t, img: ze_image_handle_t, data: &[u8]) {
        let l = self.immediate(c, 0);
        ok!(
            self,
            zeCommandListAppendImageCopyFromMemory(
                l,
                img,
                data.as_ptr().cast(),
                std::ptr::null(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        self.finish(c, l);
        ok!(self, zeCommandListDestroy(l));
    }

    /// Reads the whole image back (`len` bytes).
    pub fn download_image(
        &self,
        c: ze_context_handle_t,
        img: ze_image_handle_t,
        len: usize,
    ) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let l = self.immediate(c, 0);
        ok!(
            self,
            zeCommandListAppendImageCopyToMemory(
                l,
                out.as_mut_ptr().cast(),
                img,
                std::ptr::null(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        self.finish(c, l);
        ok!(self, zeCommandListDestroy(l));
        out
    }

    /// `host -> dst` through a regular list.
    pub fn upload(&self, ctx: ze_context_handle_t, dst: *mut u8, data: &[u8]) {
        let r = self.run(ctx, 0, |l| {
            ok!(
                self,
                zeCommandListAppendMemoryCopy(
                    l,
                    dst.cast(),
                    data.as_ptr().cast(),
                    data.len(),
                    null_mut(),
                    0,
                    null_mut()
                )
            );
        });
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    }

    /// `src -> host` through a regular list.
    pub fn download(&self, ctx: ze_context_handle_t, src: *const u8, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let dst = out.as_mut_ptr();
        let r = self.run(ctx, 0, |l| {
            ok!(
                self,
                zeCommandListAppendMemoryCopy(
                    l,
                    dst.cast(),
                    src.cast(),
                    len,
                    null_mut(),
                    0,
                    null_mut()
                )
            );
        });
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        out
    }

    pub fn event_pool(
        &self,
        ctx: ze_context_handle_t,
        count: u32,
        flags: u32,
    ) -> ze_event_pool_handle_t {
        let desc = ze_event_pool_desc_t {
            flags: flags | ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_HOST_VISIBLE.0,
            count,
            ..Default::default()
        };
        let mut p = null_mut();
        ok!(self, zeEventPoolCreate(ctx, &desc, 0, null_mut(), &mut p));
        p
    }

    pub fn event(&self, pool: ze_event_pool_handle_t, index: u32) -> ze_event_handle_t {
        let desc = ze_event_desc_t {
            index,
            signal: ze_event_scope_flag_t::ZE_EVENT_SCOPE_FLAG_HOST.0,
            wait: ze_event_scope_flag_t::ZE_EVENT_SCOPE_FLAG_HOST.0,
            ..Default::default()
        };
        let mut e = null_mut();
        ok!(self, zeEventCreate(pool, &desc, &mut e));
        e
    }
}

/// A pattern of `len` bytes that differs from one test to the next.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A scenario: a test body, run on every backend.
pub struct Scenario {
    pub name: &'static str,
    /// The configuration it needs (environment variables, also used for embedded instances).
    pub env: &'static [(&'static str, &'static str)],
    /// Whether it needs `Config` values the environment cannot give (embedded only).
    pub embedded_only: bool,
    pub run: fn(&Backend),
}

/// The scenario called `name`.
pub fn scenario(name: &str) -> &'static Scenario {
    scenarios::ALL
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

/// Runs a scenario on a fresh embedded instance, then checks that nothing leaked.
pub fn run_embedded(name: &str) {
    let s = scenario(name);
    let b = Backend::embedded(s.env);
    (s.run)(&b);
    b.assert_no_leaks();
}

pub const NULL_EVENT: ze_event_handle_t = null_mut();
pub const NO_WAITS: *mut ze_event_handle_t = null_mut();
pub const NULL_CONST: *const c_void = null();

/// Assembles `level-zero-cpu-spirv/tests/spvasm/<name>.spvasm` with `spirv-as` (Debian's
/// spirv-tools, a test dependency).
pub fn assembled(name: &str) -> Vec<u8> {
    let src = format!("{}/tests/spvasm/{name}.spvasm", env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!(
        "l0cpu-{name}-{}-{:?}.spv",
        std::process::id(),
        std::thread::current().id()
    ));
    let r = std::process::Command::new("spirv-as")
        .args(["--target-env", "spv1.0", &src, "-o"])
        .arg(&out)
        .output()
        .expect("spirv-as (Debian package spirv-tools) is needed by this test");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}
