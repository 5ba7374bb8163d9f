//! The embedded CPU driver (cargo feature `cpu`): independent driver instances and the
//! driver's testing extension (live objects, residency, sanitizer report).
//!
//! [`Runtime::cpu`] gives the CPU driver's default instance (configured from
//! `LEVEL_ZERO_CPU_*` environment variables). [`driver`] creates a further, independent
//! instance with its own [`Config`] — device count, memory, faults to inject — and its own
//! live-object counts: what tests use to run in parallel without disturbing each other.
//!
//! ```
//! # fn main() -> Result<(), level_zero::Error> {
//! let mut config = level_zero::cpu::Config::default();
//! config.devices = 3;
//! config.fail_alloc_at = Some(2); // the second allocation fails
//! let driver = level_zero::cpu::driver(config)?;
//! assert_eq!(driver.devices()?.len(), 3);
//! # Ok(()) }
//! ```

use std::ffi::CStr;

use level_zero_cpu::testing;

use crate::device::Device;
use crate::driver::{Driver, ExtensionFunction};
use crate::error::{Error, Result, ResultCode};
use crate::runtime::Runtime;

pub use level_zero_cpu::testing::{
    zex_cpu_live_objects_t as LiveObjects, zex_cpu_residency_t as Residency,
    zex_cpu_sanitizer_report_t as SanitizerReport,
};
pub use level_zero_cpu::{Config, DeviceType, Engine, Hierarchy, QueueGroups, Sysman};

/// Which engine runs a kernel on the CPU driver ([`kernel_engine`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelEngine {
    /// The engine its launches run on.
    pub engine: Engine,
    /// Why it runs on the interpreter although the driver's configuration asked for the JIT
    /// (a collective or a sub-group meeting point, whose work-items run in lockstep); `None`
    /// otherwise.
    pub fallback: Option<String>,
}

/// Which engine the CPU driver runs `kernel` on ([`Config::engine`]), read with the
/// `ZEX_cpu_driver_testing` extension (version 1.5): what tests assert which engine ran
/// with.
pub fn kernel_engine(kernel: &crate::Kernel) -> Result<KernelEngine> {
    let driver = kernel.module().context().driver();
    let f = testing_function(driver, testing::ZEX_CPU_KERNEL_GET_ENGINE_FN)?;
    type EngineFn = unsafe extern "C" fn(
        level_zero_sys::ze_kernel_handle_t,
        *mut testing::zex_cpu_kernel_engine_t,
    ) -> level_zero_sys::ze_result_t;
    // SAFETY: as for `live_objects`, with `zex_pfnCpuKernelGetEngine_t`.
    let f: EngineFn = unsafe { std::mem::transmute(f) };
    let mut out = testing::zex_cpu_kernel_engine_t::default();
    // SAFETY: the driver's own kernel handle and a valid output.
    let r =
        unsafe { crate::trace::ze_call!(fn "zexCpuKernelGetEngine", f(kernel.as_raw(), &mut out)) };
    if !r.is_success() {
        return Err(Error::Call {
            call: "zexCpuKernelGetEngine",
            code: ResultCode(r),
            detail: None,
        });
    }
    let reason: Vec<u8> = out
        .reason
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Ok(KernelEngine {
        engine: if out.engine == testing::ZEX_CPU_ENGINE_JIT {
            Engine::Jit
        } else {
            Engine::Interpreter
        },
        fallback: (out.fallback != 0).then(|| String::from_utf8_lossy(&reason).into_owned()),
    })
}

/// A new, independent instance of the embedded CPU driver. Instances live for the rest of
/// the process (like any loaded driver).
pub fn driver(config: Config) -> Result<Driver> {
    let rt = Runtime::cpu()?;
    Ok(Driver::new(rt, level_zero_cpu::new_driver(config)))
}

fn testing_function(driver: &Driver, name: &'static CStr) -> Result<*mut std::ffi::c_void> {
    let ext = testing::ZEX_CPU_DRIVER_TESTING_EXT_NAME
        .to_str()
        .unwrap_or_default();
    if !driver.has_extension(ext) {
        return Err(Error::Unsupported {
            what: "the CPU driver's testing extension",
            why: format!("the driver does not advertise {ext} (it is not level-zero-cpu)"),
        });
    }
    match driver.extension_function(name)? {
        ExtensionFunction::Found(f) => Ok(f.as_ptr()),
        ExtensionFunction::Unavailable { code } => Err(Error::Call {
            call: "zeDriverGetExtensionFunctionAddress",
            code,
            detail: None,
        }),
    }
}

/// The live-object counts of a CPU-driver instance (embedded, or through the loader), read
/// with the `ZEX_cpu_driver_testing` extension: what leak tests assert on.
pub fn live_objects(driver: &Driver) -> Result<LiveObjects> {
    let f = testing_function(driver, testing::ZEX_CPU_DRIVER_GET_LIVE_OBJECTS_FN)?;
    type LiveFn = unsafe extern "C" fn(
        level_zero_sys::ze_driver_handle_t,
        *mut LiveObjects,
    ) -> level_zero_sys::ze_result_t;
    // SAFETY: the driver returned this non-null address for this extension function, whose
    // signature `zex_pfnCpuDriverGetLiveObjects_t` documents.
    let f: LiveFn = unsafe { std::mem::transmute(f) };
    let mut out = LiveObjects::default();
    // SAFETY: the driver's own handle and a valid output.
    let r = unsafe {
        crate::trace::ze_call!(fn "zexCpuDriverGetLiveObjects", f(driver.native_handle(), &mut out))
    };
    if !r.is_success() {
        return Err(Error::Call {
            call: "zexCpuDriverGetLiveObjects",
            code: ResultCode(r),
            detail: None,
        });
    }
    Ok(out)
}

/// The memory misuse a CPU-driver instance caught and stopped since it was created, read with
/// the `ZEX_cpu_driver_testing` extension (version 1.1 or later): commands that found memory
/// they use freed before they ran, kernel launches stopped by an access outside the memory
/// they may use. A test oracle: a correct program leaves it clean.
///
/// ```
/// # fn main() -> Result<(), level_zero::Error> {
/// let driver = level_zero::cpu::driver(level_zero::cpu::Config::default())?;
/// let report = level_zero::cpu::sanitizer_report(&driver)?;
/// assert!(report.is_clean(), "{report:?}");
/// # Ok(()) }
/// ```
pub fn sanitizer_report(driver: &Driver) -> Result<SanitizerReport> {
    let f = testing_function(driver, testing::ZEX_CPU_DRIVER_GET_SANITIZER_REPORT_FN)?;
    type ReportFn = unsafe extern "C" fn(
        level_zero_sys::ze_driver_handle_t,
        *mut SanitizerReport,
    ) -> level_zero_sys::ze_result_t;
    // SAFETY: as for `live_objects`, with `zex_pfnCpuDriverGetSanitizerReport_t`.
    let f: ReportFn = unsafe { std::mem::transmute(f) };
    let mut out = SanitizerReport::default();
    // SAFETY: the driver's own handle and a valid output.
    let r = unsafe {
        crate::trace::ze_call!(fn "zexCpuDriverGetSanitizerReport", f(driver.native_handle(), &mut out))
    };
    if !r.is_success() {
        return Err(Error::Call {
            call: "zexCpuDriverGetSanitizerReport",
            code: ResultCode(r),
            detail: None,
        });
    }
    Ok(out)
}

/// Counts the CPU driver's entry-point calls made by the calling thread (through the loader
/// or embedded), read with the `ZEX_cpu_driver_testing` extension (version 1.3 or later):
/// the difference of [`calls`](CallCounter::calls) around a safe operation is the number of
/// driver calls it made, what `benches/overhead.rs` reports. The function is looked up once,
/// so reading the count costs no counted call.
#[derive(Clone, Copy, Debug)]
pub struct CallCounter {
    f: unsafe extern "C" fn(*mut u64) -> level_zero_sys::ze_result_t,
}

impl CallCounter {
    /// The counter of `driver` (an error if it is not the CPU driver, or too old).
    pub fn new(driver: &Driver) -> Result<CallCounter> {
        let f = testing_function(driver, testing::ZEX_CPU_THREAD_GET_CALL_COUNT_FN)?;
        // SAFETY: as for `live_objects`, with `zex_pfnCpuThreadGetCallCount_t`.
        let f = unsafe { std::mem::transmute::<*mut std::ffi::c_void, CallCountFn>(f) };
        Ok(CallCounter { f })
    }

    /// The driver calls this thread made so far.
    pub fn calls(&self) -> Result<u64> {
        let mut n = 0u64;
        let f = self.f;
        // SAFETY: a valid output; the function takes nothing else.
        let r = unsafe { crate::trace::ze_call!(fn "zexCpuThreadGetCallCount", f(&mut n)) };
        if !r.is_success() {
            return Err(Error::Call {
                call: "zexCpuThreadGetCallCount",
                code: ResultCode(r),
                detail: None,
            });
        }
        Ok(n)
    }
}

type CallCountFn = unsafe extern "C" fn(*mut u64) -> level_zero_sys::ze_result_t;

/// What the CPU driver recorded about memory residency on `device` (calls to
/// `zeContextMakeMemoryResident`/`zeContextEvictMemory` that reached it, and what is resident).
pub fn residency(device: &Device) -> Result<Residency> {
    let f = testing_function(device.driver(), testing::ZEX_CPU_DEVICE_GET_RESIDENCY_FN)?;
    type ResidencyFn = unsafe extern "C" fn(
        level_zero_sys::ze_device_handle_t,
        *mut Residency,
    ) -> level_zero_sys::ze_result_t;
    // SAFETY: as for `live_objects`, with `zex_pfnCpuDeviceGetResidency_t`.
    let f: ResidencyFn = unsafe { std::mem::transmute(f) };
    let mut out = Residency::default();
    // SAFETY: the driver's own handle and a valid output.
    let r = unsafe {
        crate::trace::ze_call!(fn "zexCpuDeviceGetResidency", f(device.native_handle(), &mut out))
    };
    if !r.is_success() {
        return Err(Error::Call {
            call: "zexCpuDeviceGetResidency",
            code: ResultCode(r),
            detail: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use level_zero_sys::*;
    use std::ptr::null_mut;

    /// Calls a raw function of the table and asserts its result.
    macro_rules! call {
        ($code:ident, $api:expr, $f:ident($($arg:expr),* $(,)?)) => {{
            // SAFETY: every call of this test passes valid handles and pointers to live
            // values, as the specification requires.
            let r = unsafe { $api.$f($($arg),*) };
            assert_eq!(r.expect(stringify!($f)), ze_result_t::$code, stringify!($f));
        }};
    }

    /// A copy whose destination the application frees while the copy waits for an event:
    /// the driver refuses it, and the wrapper reports it.
    #[test]
    fn the_sanitizer_report_counts_a_command_that_found_its_memory_freed() {
        let driver = driver(Config::default()).unwrap();
        assert!(sanitizer_report(&driver).unwrap().is_clean());
        let api = driver.runtime().api();
        let h = driver.as_raw();
        let mut device = null_mut();
        let mut n = 1;
        call!(ZE_RESULT_SUCCESS, api, zeDeviceGet(h, &mut n, &mut device));
        let mut ctx = null_mut();
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeContextCreate(h, &ze_context_desc_t::default(), &mut ctx)
        );
        let mut dst = null_mut();
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeMemAllocDevice(ctx, &Default::default(), 4096, 0, device, &mut dst)
        );
        let pool_desc = ze_event_pool_desc_t {
            flags: ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_HOST_VISIBLE.0,
            count: 1,
            ..Default::default()
        };
        let mut pool = null_mut();
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeEventPoolCreate(ctx, &pool_desc, 0, null_mut(), &mut pool)
        );
        let mut gate = null_mut();
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeEventCreate(pool, &ze_event_desc_t::default(), &mut gate)
        );
        let mut queue = null_mut();
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeCommandQueueCreate(ctx, device, &Default::default(), &mut queue)
        );
        let mut list = null_mut();
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeCommandListCreate(ctx, device, &Default::default(), &mut list)
        );
        let src = [7u8; 4096];
        let mut waits = [gate];
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeCommandListAppendMemoryCopy(
                list,
                dst,
                src.as_ptr().cast(),
                4096,
                null_mut(),
                1,
                waits.as_mut_ptr()
            )
        );
        call!(ZE_RESULT_SUCCESS, api, zeCommandListClose(list));
        call!(
            ZE_RESULT_SUCCESS,
            api,
            zeCommandQueueExecuteCommandLists(queue, 1, &mut list, null_mut())
        );
        call!(ZE_RESULT_SUCCESS, api, zeMemFree(ctx, dst));
        call!(ZE_RESULT_SUCCESS, api, zeEventHostSignal(gate));
        call!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            api,
            zeCommandQueueSynchronize(queue, u64::MAX)
        );
        assert_eq!(
            sanitizer_report(&driver).unwrap(),
            SanitizerReport {
                freed_memory_accesses: 1,
                kernel_out_of_bounds_accesses: 0,
            }
        );
        call!(ZE_RESULT_SUCCESS, api, zeCommandListDestroy(list));
        call!(ZE_RESULT_SUCCESS, api, zeCommandQueueDestroy(queue));
        call!(ZE_RESULT_SUCCESS, api, zeEventDestroy(gate));
        call!(ZE_RESULT_SUCCESS, api, zeEventPoolDestroy(pool));
        call!(ZE_RESULT_SUCCESS, api, zeContextDestroy(ctx));
        assert!(live_objects(&driver).unwrap().is_empty());
    }
}
