//! The `ZEX_cpu_driver_testing` extension: live-object counts (for leak tests), residency
//! read-back and the sanitizer report (memory misuse the driver caught), reached like any
//! extension function through `zeDriverGetExtensionFunctionAddress`.
//!
//! ```no_run
//! use level_zero_cpu::testing::*;
//! use level_zero_sys::*;
//! # fn f(api: &Api, driver: ze_driver_handle_t) -> Result<(), Box<dyn std::error::Error>> {
//! let mut f = std::ptr::null_mut();
//! // SAFETY: a valid driver handle, a NUL-terminated name and an output pointer.
//! unsafe {
//!     api.zeDriverGetExtensionFunctionAddress(driver, ZEX_CPU_DRIVER_GET_LIVE_OBJECTS_FN.as_ptr(), &mut f)?
//! }
//! .ok()?;
//! assert!(!f.is_null());
//! // SAFETY: the address of `zexCpuDriverGetLiveObjects`, whose type this is.
//! let get: zex_pfnCpuDriverGetLiveObjects_t = unsafe { std::mem::transmute(f) };
//! let mut live = zex_cpu_live_objects_t::default();
//! // SAFETY: a valid driver handle and output.
//! unsafe { get.unwrap()(driver, &mut live) }.ok()?;
//! assert!(live.is_empty(), "leaked: {live:?}");
//! # Ok(()) }
//! ```
//!
//! Through the official loader in intercept mode (`ZE_ENABLE_LOADER_INTERCEPT=1`, or several
//! drivers), the handles an application holds are the loader's: translate the driver (or
//! device) handle with `zelLoaderTranslateHandle(ZEL_HANDLE_DRIVER, h, &out)` before passing it
//! to these functions. That is the caller's job: the loader does not wrap extension functions.

#![allow(non_camel_case_types)]

use std::ffi::CStr;
use std::sync::atomic::{AtomicU64, Ordering};

use level_zero_sys::{ze_device_handle_t, ze_driver_handle_t, ze_result_t};

use crate::driver::Instance;
use crate::ffi::{self, entry_points};
use crate::handles::{self, DeviceRef};
use crate::sync::lock;

/// The extension's name, as `zeDriverGetExtensionProperties` lists it.
pub const ZEX_CPU_DRIVER_TESTING_EXT_NAME: &CStr = c"ZEX_cpu_driver_testing";
/// The extension's version: 1.5 (1.0 had no sanitizer report, 1.1 no image and sampler
/// counts, 1.2 no graph counts nor per-thread call count, 1.3 no virtual memory and IPC
/// counts, 1.4 no kernel engine query).
pub const ZEX_CPU_DRIVER_TESTING_EXT_VERSION: u32 = level_zero_sys::make_version(1, 5).0;

/// `zexCpuKernelGetEngine(hKernel, pEngine)` (extension version 1.5): which engine runs a
/// kernel's launches, and why the interpreter when the JIT was asked for.
pub const ZEX_CPU_KERNEL_GET_ENGINE_FN: &CStr = c"zexCpuKernelGetEngine";

/// `zexCpuKernelGetEngine(hKernel, pEngine)`: fills `*pEngine`.
pub type zex_pfnCpuKernelGetEngine_t = Option<
    unsafe extern "C" fn(
        hKernel: level_zero_sys::ze_kernel_handle_t,
        pEngine: *mut zex_cpu_kernel_engine_t,
    ) -> ze_result_t,
>;

/// The engine of a kernel ([`ZEX_CPU_KERNEL_GET_ENGINE_FN`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct zex_cpu_kernel_engine_t {
    /// [`ZEX_CPU_ENGINE_JIT`] or [`ZEX_CPU_ENGINE_INTERPRETER`].
    pub engine: u32,
    /// Non-zero when the JIT was asked for but the kernel runs on the interpreter.
    pub fallback: u32,
    /// Why, as a NUL-terminated string (truncated to fit); empty otherwise.
    pub reason: [std::ffi::c_char; 256],
}

/// Compiled to native code.
pub const ZEX_CPU_ENGINE_JIT: u32 = 1;
/// Interpreted.
pub const ZEX_CPU_ENGINE_INTERPRETER: u32 = 0;

impl Default for zex_cpu_kernel_engine_t {
    fn default() -> Self {
        zex_cpu_kernel_engine_t {
            engine: ZEX_CPU_ENGINE_INTERPRETER,
            fallback: 0,
            reason: [0; 256],
        }
    }
}
/// The name under which `zeDriverGetExtensionFunctionAddress` resolves
/// [`zex_pfnCpuDriverGetLiveObjects_t`].
pub const ZEX_CPU_DRIVER_GET_LIVE_OBJECTS_FN: &CStr = c"zexCpuDriverGetLiveObjects";
/// The name under which `zeDriverGetExtensionFunctionAddress` resolves
/// [`zex_pfnCpuDeviceGetResidency_t`].
pub const ZEX_CPU_DEVICE_GET_RESIDENCY_FN: &CStr = c"zexCpuDeviceGetResidency";
/// The name under which `zeDriverGetExtensionFunctionAddress` resolves
/// [`zex_pfnCpuDriverGetSanitizerReport_t`] (since version 1.1 of the extension).
pub const ZEX_CPU_DRIVER_GET_SANITIZER_REPORT_FN: &CStr = c"zexCpuDriverGetSanitizerReport";

/// Objects of one driver instance that are alive: created and not yet destroyed (freed).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct zex_cpu_live_objects_t {
    /// Contexts.
    pub contexts: u64,
    /// Memory allocations (host, device and shared).
    pub allocations: u64,
    /// Bytes of those allocations.
    pub allocated_bytes: u64,
    /// Command queues.
    pub command_queues: u64,
    /// Command lists, regular and immediate.
    pub command_lists: u64,
    /// Event pools.
    pub event_pools: u64,
    /// Events.
    pub events: u64,
    /// Fences.
    pub fences: u64,
    /// Modules.
    pub modules: u64,
    /// Kernels.
    pub kernels: u64,
    /// Module build logs.
    pub build_logs: u64,
    /// Images (since version 1.2 of the extension).
    pub images: u64,
    /// Samplers (since version 1.2 of the extension).
    pub samplers: u64,
    /// Graphs of `ZE_extension_record_replay_graph`, created or captured (since version 1.3).
    pub graphs: u64,
    /// Executable graphs (since version 1.3).
    pub executable_graphs: u64,
    /// Virtual memory reservations (`zeVirtualMemReserve`, since version 1.4).
    pub virtual_reservations: u64,
    /// Physical memory objects (`zePhysicalMemCreate`, since version 1.4).
    pub physical_memory: u64,
    /// Mappings of physical memory into reservations (`zeVirtualMemMap`, since version 1.4).
    pub virtual_mappings: u64,
    /// Allocations opened from IPC handles and not closed (`zeMemOpenIpcHandle`, since 1.4).
    pub ipc_opened_allocations: u64,
    /// IPC handles of allocations given out and not put back (`zeMemGetIpcHandle` minus
    /// `zeMemPutIpcHandle`, since 1.4; handles of a freed allocation are no longer counted).
    pub ipc_exported_handles: u64,
    /// Event pools opened from IPC handles and not closed (`zeEventPoolOpenIpcHandle`,
    /// since 1.4; they are not counted in `event_pools`).
    pub ipc_opened_event_pools: u64,
}

impl zex_cpu_live_objects_t {
    /// Whether nothing is alive.
    pub fn is_empty(&self) -> bool {
        *self == zex_cpu_live_objects_t::default()
    }
}

/// What was made resident on one device and is still resident.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct zex_cpu_residency_t {
    /// Ranges resident now.
    pub resident_ranges: u64,
    /// Bytes of those ranges.
    pub resident_bytes: u64,
    /// `zeContextMakeMemoryResident` calls that named this device, in total.
    pub make_resident_calls: u64,
    /// `zeContextEvictMemory` calls that named this device, in total.
    pub evict_calls: u64,
    /// Bytes of device and shared allocations of this device (its memory in use).
    pub allocated_bytes: u64,
}

/// Memory misuse that one driver instance caught and stopped, counted since the instance was
/// created: an oracle for tests and fuzzers (every count of a correct program is zero). The
/// misuse itself is also reported as the failure of the submission it happened in.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct zex_cpu_sanitizer_report_t {
    /// Commands refused because memory they use was freed (`zeMemFree`) after they were
    /// appended and before they ran: on hardware, a use after free. Each refused command
    /// counts once; it touched nothing.
    pub freed_memory_accesses: u64,
    /// Kernel launches stopped because a work-item read or wrote memory the kernel may not
    /// access (outside every allocation it was given or may reach indirectly, its local memory
    /// and the module's globals): on hardware, an out-of-bounds access. Each stopped launch
    /// counts once; the access itself did not happen. (A pointer argument into memory freed
    /// before the launch ran is caught here too: that memory is no longer the kernel's.)
    pub kernel_out_of_bounds_accesses: u64,
}

impl zex_cpu_sanitizer_report_t {
    /// Whether nothing was caught.
    pub fn is_clean(&self) -> bool {
        *self == zex_cpu_sanitizer_report_t::default()
    }
}

/// `zexCpuThreadGetCallCount(pCount)` (extension version 1.3): how many of this driver's
/// entry points the calling thread called, count queries not included — what the overhead benchmark
/// counts driver calls per operation with.
pub const ZEX_CPU_THREAD_GET_CALL_COUNT_FN: &CStr = c"zexCpuThreadGetCallCount";

/// `zexCpuThreadGetCallCount(pCount)`: writes the count to `*pCount`.
pub type zex_pfnCpuThreadGetCallCount_t =
    Option<unsafe extern "C" fn(pCount: *mut u64) -> ze_result_t>;

/// `zexCpuDriverGetLiveObjects(hDriver, pLive)`: fills `*pLive` with the instance's counts.
pub type zex_pfnCpuDriverGetLiveObjects_t = Option<
    unsafe extern "C" fn(
        hDriver: ze_driver_handle_t,
        pLive: *mut zex_cpu_live_objects_t,
    ) -> ze_result_t,
>;

/// `zexCpuDeviceGetResidency(hDevice, pResidency)`: fills `*pResidency` for one device.
pub type zex_pfnCpuDeviceGetResidency_t = Option<
    unsafe extern "C" fn(
        hDevice: ze_device_handle_t,
        pResidency: *mut zex_cpu_residency_t,
    ) -> ze_result_t,
>;

/// `zexCpuDriverGetSanitizerReport(hDriver, pReport)`: fills `*pReport` with the instance's
/// sanitizer counts.
pub type zex_pfnCpuDriverGetSanitizerReport_t = Option<
    unsafe extern "C" fn(
        hDriver: ze_driver_handle_t,
        pReport: *mut zex_cpu_sanitizer_report_t,
    ) -> ze_result_t,
>;

/// The sanitizer counters of an instance.
#[derive(Default)]
pub(crate) struct Sanitizer {
    freed_memory_accesses: AtomicU64,
    kernel_out_of_bounds_accesses: AtomicU64,
}

impl Sanitizer {
    /// A command found memory it uses freed.
    pub(crate) fn count_freed_memory_access(&self) {
        self.freed_memory_accesses.fetch_add(1, Ordering::Relaxed);
    }

    /// A launch was stopped by an out-of-bounds access.
    pub(crate) fn count_kernel_out_of_bounds(&self) {
        self.kernel_out_of_bounds_accesses
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> zex_cpu_sanitizer_report_t {
        zex_cpu_sanitizer_report_t {
            freed_memory_accesses: self.freed_memory_accesses.load(Ordering::Relaxed),
            kernel_out_of_bounds_accesses: self
                .kernel_out_of_bounds_accesses
                .load(Ordering::Relaxed),
        }
    }
}

/// The live counters of an instance.
#[derive(Default)]
pub(crate) struct Live {
    pub(crate) contexts: AtomicU64,
    pub(crate) allocations: AtomicU64,
    pub(crate) allocated_bytes: AtomicU64,
    pub(crate) command_queues: AtomicU64,
    pub(crate) command_lists: AtomicU64,
    pub(crate) event_pools: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) fences: AtomicU64,
    pub(crate) modules: AtomicU64,
    pub(crate) kernels: AtomicU64,
    pub(crate) build_logs: AtomicU64,
    pub(crate) images: AtomicU64,
    pub(crate) samplers: AtomicU64,
    pub(crate) graphs: AtomicU64,
    pub(crate) executable_graphs: AtomicU64,
    pub(crate) virtual_reservations: AtomicU64,
    pub(crate) physical_memory: AtomicU64,
    pub(crate) virtual_mappings: AtomicU64,
    pub(crate) ipc_opened_allocations: AtomicU64,
    pub(crate) ipc_exported_handles: AtomicU64,
    pub(crate) ipc_opened_event_pools: AtomicU64,
}

impl Live {
    pub(crate) fn snapshot(&self) -> zex_cpu_live_objects_t {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        zex_cpu_live_objects_t {
            contexts: l(&self.contexts),
            allocations: l(&self.allocations),
            allocated_bytes: l(&self.allocated_bytes),
            command_queues: l(&self.command_queues),
            command_lists: l(&self.command_lists),
            event_pools: l(&self.event_pools),
            events: l(&self.events),
            fences: l(&self.fences),
            modules: l(&self.modules),
            kernels: l(&self.kernels),
            build_logs: l(&self.build_logs),
            images: l(&self.images),
            samplers: l(&self.samplers),
            graphs: l(&self.graphs),
            executable_graphs: l(&self.executable_graphs),
            virtual_reservations: l(&self.virtual_reservations),
            physical_memory: l(&self.physical_memory),
            virtual_mappings: l(&self.virtual_mappings),
            ipc_opened_allocations: l(&self.ipc_opened_allocations),
            ipc_exported_handles: l(&self.ipc_exported_handles),
            ipc_opened_event_pools: l(&self.ipc_opened_event_pools),
        }
    }
}

/// The live-object counts of the instance behind a driver handle of this crate (no extension
/// lookup needed when the driver is embedded).
pub fn live_objects(driver: ze_driver_handle_t) -> Option<zex_cpu_live_objects_t> {
    let instance: &'static Instance = handles::get(driver).ok()?;
    Some(instance.live.snapshot())
}

/// The sanitizer report of the instance behind a driver handle of this crate (no extension
/// lookup needed when the driver is embedded).
pub fn sanitizer_report(driver: ze_driver_handle_t) -> Option<zex_cpu_sanitizer_report_t> {
    let instance: &'static Instance = handles::get(driver).ok()?;
    Some(instance.sanitizer.snapshot())
}

entry_points! {
    fn zexCpuThreadGetCallCount(pCount: *mut u64) {
        // This call is not counted (nor any earlier count query).
        let n = ffi::uncounted_calls_on_this_thread();
        // SAFETY: the caller's output.
        unsafe { ffi::write(pCount, n) }
    }

    fn zexCpuDriverGetSanitizerReport(hDriver: ze_driver_handle_t, pReport: *mut zex_cpu_sanitizer_report_t) {
        let instance: &'static Instance = handles::get(hDriver)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pReport, instance.sanitizer.snapshot()) }
    }

    fn zexCpuDriverGetLiveObjects(hDriver: ze_driver_handle_t, pLive: *mut zex_cpu_live_objects_t) {
        let instance: &'static Instance = handles::get(hDriver)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pLive, instance.live.snapshot()) }
    }

    fn zexCpuKernelGetEngine(hKernel: level_zero_sys::ze_kernel_handle_t, pEngine: *mut zex_cpu_kernel_engine_t) {
        let kernel: std::sync::Arc<crate::module::Kernel> = handles::get(hKernel)?;
        let mut out = zex_cpu_kernel_engine_t::default();
        match kernel.engine() {
            Some(e) => {
                out.engine = match e.engine {
                    crate::Engine::Jit => ZEX_CPU_ENGINE_JIT,
                    crate::Engine::Interpreter => ZEX_CPU_ENGINE_INTERPRETER,
                };
                if let Some(why) = e.fallback {
                    out.fallback = 1;
                    for (o, b) in out.reason.iter_mut().zip(why.bytes().take(255)) {
                        *o = b as std::ffi::c_char;
                    }
                }
            }
            None => {
                let why = b"this module's programs have no engines (a custom program builder)";
                for (o, b) in out.reason.iter_mut().zip(why.iter()) {
                    *o = *b as std::ffi::c_char;
                }
            }
        }
        // SAFETY: the caller's output.
        unsafe { ffi::write(pEngine, out) }
    }

    fn zexCpuDeviceGetResidency(hDevice: ze_device_handle_t, pResidency: *mut zex_cpu_residency_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        let state = d.state();
        let resident = lock(&state.resident);
        let r = zex_cpu_residency_t {
            resident_ranges: resident.len() as u64,
            resident_bytes: resident.values().map(|&s| s as u64).sum(),
            make_resident_calls: state.make_resident_calls.load(Ordering::Relaxed),
            evict_calls: state.evict_calls.load(Ordering::Relaxed),
            allocated_bytes: d.instance.memory.used(d.index),
        };
        drop(resident);
        // SAFETY: the caller's output.
        unsafe { ffi::write(pResidency, r) }
    }
}
