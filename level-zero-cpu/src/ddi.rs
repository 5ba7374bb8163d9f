//! The DDI tables: the `zeGet*ProcAddrTable` (and `zes`/`zet`) getters every Level Zero driver
//! exports, and [`ddi_getters`] for embedding.
//!
//! One table-driven list below gives, for each getter, the full table this driver serves; the
//! getters answer through [`level_zero_sys::ddi::serve`], which writes only the fields that exist
//! at the version the loader asks for. Fields left at `Default` (NULL) are functions this
//! driver does not implement: the loader turns them into `ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`.
//! Of sysman (`zes`), the memory-module functions are served (see `sysman`); the other sysman
//! tables and the tools (`zet`) tables are served empty (loader 1.8.12 requires their getters).
//!
//! Emulation (see [`served`]): every table is served without the fields newer than the
//! configured API version (`LEVEL_ZERO_CPU_API_VERSION`) and without the hidden functions
//! (`LEVEL_ZERO_CPU_HIDE_FUNCTIONS`), written as NULL. The getters are process-wide, so they
//! follow the environment's configuration (the default instance's).

#![allow(non_snake_case)]

use level_zero_sys::ddi::{DdiFieldInfo, DdiTable};
use level_zero_sys::*;

use crate::{
    context, device, driver, event, fence, ffi, graph, image, ipc, ipc_events, list, memory,
    module, queue, sampler, sysman, vm,
};

/// Sets to NULL the fields of `table` for which `keep` is false.
///
/// # Panics
///
/// If `T` is not made only of its [`DdiTable::FIELDS`], each a pointer-sized function pointer
/// (every Level Zero DDI table is), which the generic clearing relies on.
fn clear_fields<T: DdiTable>(table: &mut T, keep: impl Fn(&DdiFieldInfo) -> bool) {
    let slot = std::mem::size_of::<ze_pfnInit_t>();
    assert_eq!(slot, std::mem::size_of::<*const std::ffi::c_void>());
    assert!(
        std::mem::size_of::<T>() == T::FIELDS.len() * slot
            && std::mem::align_of::<T>() == std::mem::align_of::<ze_pfnInit_t>(),
        "{}: a DDI table is not {} pointer-sized function pointers",
        T::GETTER,
        T::FIELDS.len()
    );
    let base = (table as *mut T).cast::<*const std::ffi::c_void>();
    for (i, field) in T::FIELDS.iter().enumerate() {
        if !keep(field) {
            // SAFETY: `T` is `#[repr(C)]` and, as just checked, exactly `FIELDS.len()`
            // pointer-sized fields with no padding, which `FIELDS` lists in layout order: field
            // `i` is the `i`-th pointer of the table. Each is an `Option` of a function
            // pointer, whose `None` is the null pointer (guaranteed by the null-pointer
            // optimisation), so writing null makes it `None`.
            unsafe { base.add(i).write(std::ptr::null()) };
        }
    }
}

/// The table a getter serves: this driver's `table`, without the fields of functions newer
/// than the emulated API version, nor the hidden functions — both as configured in the
/// environment (the default instance's configuration: the getters are process-wide).
fn served<T: DdiTable>(mut table: T) -> T {
    let config = &crate::driver::env_config().config;
    let version = config.api_version;
    clear_fields(&mut table, |f| {
        f.since.0 <= version.0 && !config.hidden_functions.iter().any(|h| h == f.function)
    });
    table
}

macro_rules! getters {
    ($($name:ident: $ty:ty => $table:expr;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`: serves this driver's `", stringify!($ty),
                "` for the version asked (fields of later versions are not written).")]
            ///
            /// # Safety
            ///
            /// A non-null `pDdiTable` must be the caller's table of the layout of `version`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn $name(version: ze_api_version_t, pDdiTable: *mut $ty) -> ze_result_t {
                ffi::guard(stringify!($name), || {
                    let table: $ty = served($table);
                    // SAFETY: forwarded to the caller: `pDdiTable` is null or a table of
                    // `version`'s layout; `serve` checks null and writes only its fields.
                    unsafe { ddi::serve(version, pDdiTable, &table) }.ok()
                })
            }
        )*

        /// Every DDI getter of this driver, for [`Api::from_ddi`]: the embedded backend.
        ///
        /// ```
        /// // SAFETY: this crate's getters honour the specification.
        /// let (api, _) = unsafe { level_zero_sys::Api::from_ddi(&level_zero_cpu::ddi_getters()) };
        /// assert!(api.is_present("zeMemAllocDevice") == Some(true));
        /// ```
        pub fn ddi_getters() -> DdiGetters {
            DdiGetters { $($name: Some($name),)* }
        }
    };
}

getters! {
    zeGetCommandListExpProcAddrTable: ze_command_list_exp_dditable_t => ze_command_list_exp_dditable_t {
        pfnImmediateAppendCommandListsExp: Some(list::zeCommandListImmediateAppendCommandListsExp),
        ..Default::default()
    };
    zeGetCommandListProcAddrTable: ze_command_list_dditable_t => ze_command_list_dditable_t {
        pfnCreate: Some(list::zeCommandListCreate),
        pfnCreateImmediate: Some(list::zeCommandListCreateImmediate),
        pfnDestroy: Some(list::zeCommandListDestroy),
        pfnClose: Some(list::zeCommandListClose),
        pfnReset: Some(list::zeCommandListReset),
        pfnAppendWriteGlobalTimestamp: Some(list::zeCommandListAppendWriteGlobalTimestamp),
        pfnAppendBarrier: Some(list::zeCommandListAppendBarrier),
        pfnAppendMemoryRangesBarrier: Some(list::zeCommandListAppendMemoryRangesBarrier),
        pfnAppendMemoryCopy: Some(list::zeCommandListAppendMemoryCopy),
        pfnAppendMemoryFill: Some(list::zeCommandListAppendMemoryFill),
        pfnAppendMemoryCopyRegion: Some(list::zeCommandListAppendMemoryCopyRegion),
        pfnAppendImageCopy: Some(image::zeCommandListAppendImageCopy),
        pfnAppendImageCopyRegion: Some(image::zeCommandListAppendImageCopyRegion),
        pfnAppendImageCopyToMemory: Some(image::zeCommandListAppendImageCopyToMemory),
        pfnAppendImageCopyFromMemory: Some(image::zeCommandListAppendImageCopyFromMemory),
        pfnAppendImageCopyToMemoryExt: Some(image::zeCommandListAppendImageCopyToMemoryExt),
        pfnAppendImageCopyFromMemoryExt: Some(image::zeCommandListAppendImageCopyFromMemoryExt),
        pfnAppendMemoryPrefetch: Some(list::zeCommandListAppendMemoryPrefetch),
        pfnAppendMemAdvise: Some(list::zeCommandListAppendMemAdvise),
        pfnAppendSignalEvent: Some(list::zeCommandListAppendSignalEvent),
        pfnAppendWaitOnEvents: Some(list::zeCommandListAppendWaitOnEvents),
        pfnAppendEventReset: Some(list::zeCommandListAppendEventReset),
        pfnAppendLaunchKernel: Some(list::zeCommandListAppendLaunchKernel),
        pfnAppendLaunchCooperativeKernel: Some(list::zeCommandListAppendLaunchCooperativeKernel),
        pfnAppendLaunchKernelIndirect: Some(list::zeCommandListAppendLaunchKernelIndirect),
        pfnHostSynchronize: Some(list::zeCommandListHostSynchronize),
        pfnGetDeviceHandle: Some(list::zeCommandListGetDeviceHandle),
        pfnGetContextHandle: Some(list::zeCommandListGetContextHandle),
        pfnGetOrdinal: Some(list::zeCommandListGetOrdinal),
        pfnIsImmediate: Some(list::zeCommandListIsImmediate),
        pfnAppendMemoryCopyFromContext: Some(list::zeCommandListAppendMemoryCopyFromContext),
        pfnAppendQueryKernelTimestamps: Some(list::zeCommandListAppendQueryKernelTimestamps),
        pfnBeginGraphCaptureExt: Some(graph::zeCommandListBeginGraphCaptureExt),
        pfnBeginCaptureIntoGraphExt: Some(graph::zeCommandListBeginCaptureIntoGraphExt),
        pfnIsGraphCaptureEnabledExt: Some(graph::zeCommandListIsGraphCaptureEnabledExt),
        pfnEndGraphCaptureExt: Some(graph::zeCommandListEndGraphCaptureExt),
        pfnGetGraphExt: Some(graph::zeCommandListGetGraphExt),
        pfnAppendGraphExt: Some(graph::zeCommandListAppendGraphExt),
        pfnImmediateGetIndex: Some(list::zeCommandListImmediateGetIndex),
        pfnGetFlags: Some(list::zeCommandListGetFlags),
        pfnImmediateGetFlags: Some(list::zeCommandListImmediateGetFlags),
        pfnImmediateGetMode: Some(list::zeCommandListImmediateGetMode),
        pfnImmediateGetPriority: Some(list::zeCommandListImmediateGetPriority),
        pfnAppendHostFunction: Some(list::zeCommandListAppendHostFunction),
        pfnAppendLaunchKernelWithParameters: Some(list::zeCommandListAppendLaunchKernelWithParameters),
        pfnAppendLaunchKernelWithArguments: Some(list::zeCommandListAppendLaunchKernelWithArguments),
        ..Default::default()
    };
    zeGetCommandQueueProcAddrTable: ze_command_queue_dditable_t => ze_command_queue_dditable_t {
        pfnCreate: Some(queue::zeCommandQueueCreate),
        pfnDestroy: Some(queue::zeCommandQueueDestroy),
        pfnExecuteCommandLists: Some(queue::zeCommandQueueExecuteCommandLists),
        pfnSynchronize: Some(queue::zeCommandQueueSynchronize),
        pfnGetOrdinal: Some(queue::zeCommandQueueGetOrdinal),
        pfnGetIndex: Some(queue::zeCommandQueueGetIndex),
        pfnGetFlags: Some(queue::zeCommandQueueGetFlags),
        pfnGetMode: Some(queue::zeCommandQueueGetMode),
        pfnGetPriority: Some(queue::zeCommandQueueGetPriority),
    };
    zeGetContextProcAddrTable: ze_context_dditable_t => ze_context_dditable_t {
        pfnCreate: Some(context::zeContextCreate),
        pfnCreateEx: Some(context::zeContextCreateEx),
        pfnDestroy: Some(context::zeContextDestroy),
        pfnGetStatus: Some(context::zeContextGetStatus),
        pfnSystemBarrier: Some(context::zeContextSystemBarrier),
        pfnMakeMemoryResident: Some(context::zeContextMakeMemoryResident),
        pfnEvictMemory: Some(context::zeContextEvictMemory),
        pfnMakeImageResident: Some(image::zeContextMakeImageResident),
        pfnEvictImage: Some(image::zeContextEvictImage),
    };
    zeGetDeviceExpProcAddrTable: ze_device_exp_dditable_t => Default::default();
    zeGetDeviceProcAddrTable: ze_device_dditable_t => ze_device_dditable_t {
        pfnGet: Some(device::zeDeviceGet),
        pfnGetSubDevices: Some(device::zeDeviceGetSubDevices),
        pfnGetProperties: Some(device::zeDeviceGetProperties),
        pfnGetComputeProperties: Some(device::zeDeviceGetComputeProperties),
        pfnGetModuleProperties: Some(device::zeDeviceGetModuleProperties),
        pfnGetCommandQueueGroupProperties: Some(device::zeDeviceGetCommandQueueGroupProperties),
        pfnGetMemoryProperties: Some(device::zeDeviceGetMemoryProperties),
        pfnGetMemoryAccessProperties: Some(device::zeDeviceGetMemoryAccessProperties),
        pfnGetCacheProperties: Some(device::zeDeviceGetCacheProperties),
        pfnGetImageProperties: Some(device::zeDeviceGetImageProperties),
        pfnGetExternalMemoryProperties: Some(device::zeDeviceGetExternalMemoryProperties),
        pfnGetP2PProperties: Some(device::zeDeviceGetP2PProperties),
        pfnCanAccessPeer: Some(device::zeDeviceCanAccessPeer),
        pfnGetStatus: Some(device::zeDeviceGetStatus),
        pfnGetGlobalTimestamps: Some(device::zeDeviceGetGlobalTimestamps),
        pfnGetRootDevice: Some(device::zeDeviceGetRootDevice),
        pfnGetVectorWidthPropertiesExt: Some(device::zeDeviceGetVectorWidthPropertiesExt),
        pfnSynchronize: Some(device::zeDeviceSynchronize),
        ..Default::default()
    };
    zeGetDriverExpProcAddrTable: ze_driver_exp_dditable_t => Default::default();
    zeGetDriverProcAddrTable: ze_driver_dditable_t => ze_driver_dditable_t {
        pfnGet: Some(driver::zeDriverGet),
        pfnGetApiVersion: Some(driver::zeDriverGetApiVersion),
        pfnGetProperties: Some(driver::zeDriverGetProperties),
        pfnGetIpcProperties: Some(driver::zeDriverGetIpcProperties),
        pfnGetExtensionProperties: Some(driver::zeDriverGetExtensionProperties),
        pfnGetExtensionFunctionAddress: Some(driver::zeDriverGetExtensionFunctionAddress),
        pfnGetLastErrorDescription: Some(driver::zeDriverGetLastErrorDescription),
        pfnGetDefaultContext: Some(driver::zeDriverGetDefaultContext),
        ..Default::default()
    };
    zeGetEventExpProcAddrTable: ze_event_exp_dditable_t => Default::default();
    zeGetExecutableGraphProcAddrTable: ze_executable_graph_dditable_t => ze_executable_graph_dditable_t {
        pfnGetSourceGraphExt: Some(graph::zeExecutableGraphGetSourceGraphExt),
        pfnDestroyExt: Some(graph::zeExecutableGraphDestroyExt),
    };
    zeGetEventPoolProcAddrTable: ze_event_pool_dditable_t => ze_event_pool_dditable_t {
        pfnCreate: Some(event::zeEventPoolCreate),
        pfnDestroy: Some(event::zeEventPoolDestroy),
        pfnGetContextHandle: Some(event::zeEventPoolGetContextHandle),
        pfnGetIpcHandle: Some(ipc_events::zeEventPoolGetIpcHandle),
        pfnPutIpcHandle: Some(ipc_events::zeEventPoolPutIpcHandle),
        pfnOpenIpcHandle: Some(ipc_events::zeEventPoolOpenIpcHandle),
        pfnCloseIpcHandle: Some(ipc_events::zeEventPoolCloseIpcHandle),
        ..Default::default()
    };
    zeGetEventProcAddrTable: ze_event_dditable_t => ze_event_dditable_t {
        pfnCreate: Some(event::zeEventCreate),
        pfnDestroy: Some(event::zeEventDestroy),
        pfnHostSignal: Some(event::zeEventHostSignal),
        pfnHostSynchronize: Some(event::zeEventHostSynchronize),
        pfnQueryStatus: Some(event::zeEventQueryStatus),
        pfnHostReset: Some(event::zeEventHostReset),
        pfnQueryKernelTimestamp: Some(event::zeEventQueryKernelTimestamp),
        pfnCounterBasedCreate: Some(event::zeEventCounterBasedCreate),
        pfnCounterBasedGetIpcHandle: Some(event::zeEventCounterBasedGetIpcHandle),
        pfnCounterBasedOpenIpcHandle: Some(event::zeEventCounterBasedOpenIpcHandle),
        pfnCounterBasedCloseIpcHandle: Some(event::zeEventCounterBasedCloseIpcHandle),
        pfnCounterBasedGetDeviceAddress: Some(event::zeEventCounterBasedGetDeviceAddress),
        pfnGetCounterBasedFlags: Some(event::zeEventGetCounterBasedFlags),
        ..Default::default()
    };
    zeGetFabricEdgeExpProcAddrTable: ze_fabric_edge_exp_dditable_t => Default::default();
    zeGetFabricVertexExpProcAddrTable: ze_fabric_vertex_exp_dditable_t => Default::default();
    zeGetFenceProcAddrTable: ze_fence_dditable_t => ze_fence_dditable_t {
        pfnCreate: Some(fence::zeFenceCreate),
        pfnDestroy: Some(fence::zeFenceDestroy),
        pfnHostSynchronize: Some(fence::zeFenceHostSynchronize),
        pfnQueryStatus: Some(fence::zeFenceQueryStatus),
        pfnReset: Some(fence::zeFenceReset),
    };
    zeGetGlobalProcAddrTable: ze_global_dditable_t => ze_global_dditable_t { pfnInit: Some(driver::zeInit), pfnInitDrivers: Some(driver::zeInitDrivers) };
    zeGetGraphProcAddrTable: ze_graph_dditable_t => ze_graph_dditable_t {
        pfnCreateExt: Some(graph::zeGraphCreateExt),
        pfnGetPrimaryCommandListExt: Some(graph::zeGraphGetPrimaryCommandListExt),
        pfnSetDestructionCallbackExt: Some(graph::zeGraphSetDestructionCallbackExt),
        pfnInstantiateExt: Some(graph::zeGraphInstantiateExt),
        pfnIsEmptyExt: Some(graph::zeGraphIsEmptyExt),
        pfnDumpContentsExt: Some(graph::zeGraphDumpContentsExt),
        pfnDestroyExt: Some(graph::zeGraphDestroyExt),
    };
    zeGetImageExpProcAddrTable: ze_image_exp_dditable_t => ze_image_exp_dditable_t {
        pfnGetMemoryPropertiesExp: Some(image::zeImageGetMemoryPropertiesExp),
        ..Default::default()
    };
    zeGetImageProcAddrTable: ze_image_dditable_t => ze_image_dditable_t {
        pfnGetProperties: Some(image::zeImageGetProperties),
        pfnCreate: Some(image::zeImageCreate),
        pfnDestroy: Some(image::zeImageDestroy),
        pfnGetAllocPropertiesExt: Some(image::zeImageGetAllocPropertiesExt),
        ..Default::default()
    };
    zeGetKernelExpProcAddrTable: ze_kernel_exp_dditable_t => ze_kernel_exp_dditable_t {
        pfnSetGlobalOffsetExp: Some(module::zeKernelSetGlobalOffsetExp),
        ..Default::default()
    };
    zeGetKernelProcAddrTable: ze_kernel_dditable_t => ze_kernel_dditable_t {
        pfnCreate: Some(module::zeKernelCreate),
        pfnDestroy: Some(module::zeKernelDestroy),
        pfnSetCacheConfig: Some(module::zeKernelSetCacheConfig),
        pfnSetGroupSize: Some(module::zeKernelSetGroupSize),
        pfnSuggestGroupSize: Some(module::zeKernelSuggestGroupSize),
        pfnSuggestMaxCooperativeGroupCount: Some(device::zeKernelSuggestMaxCooperativeGroupCount),
        pfnSetArgumentValue: Some(module::zeKernelSetArgumentValue),
        pfnSetIndirectAccess: Some(module::zeKernelSetIndirectAccess),
        pfnGetIndirectAccess: Some(module::zeKernelGetIndirectAccess),
        pfnGetProperties: Some(module::zeKernelGetProperties),
        pfnGetName: Some(module::zeKernelGetName),
        pfnGetSourceAttributes: Some(module::zeKernelGetSourceAttributes),
    };
    zeGetMemExpProcAddrTable: ze_mem_exp_dditable_t => ze_mem_exp_dditable_t {
        pfnSetAtomicAccessAttributeExp: Some(memory::zeMemSetAtomicAccessAttributeExp),
        pfnGetAtomicAccessAttributeExp: Some(memory::zeMemGetAtomicAccessAttributeExp),
        pfnGetIpcHandleFromFileDescriptorExp: Some(ipc::zeMemGetIpcHandleFromFileDescriptorExp),
        pfnGetFileDescriptorFromIpcHandleExp: Some(ipc::zeMemGetFileDescriptorFromIpcHandleExp),
    };
    zeGetMemProcAddrTable: ze_mem_dditable_t => ze_mem_dditable_t {
        pfnAllocShared: Some(memory::zeMemAllocShared),
        pfnAllocDevice: Some(memory::zeMemAllocDevice),
        pfnAllocHost: Some(memory::zeMemAllocHost),
        pfnFree: Some(memory::zeMemFree),
        pfnGetAllocProperties: Some(memory::zeMemGetAllocProperties),
        pfnGetAddressRange: Some(memory::zeMemGetAddressRange),
        pfnFreeExt: Some(memory::zeMemFreeExt),
        pfnGetIpcHandle: Some(ipc::zeMemGetIpcHandle),
        pfnOpenIpcHandle: Some(ipc::zeMemOpenIpcHandle),
        pfnCloseIpcHandle: Some(ipc::zeMemCloseIpcHandle),
        pfnPutIpcHandle: Some(ipc::zeMemPutIpcHandle),
        pfnGetIpcHandleWithProperties: Some(ipc::zeMemGetIpcHandleWithProperties),
        ..Default::default()
    };
    zeGetModuleBuildLogProcAddrTable: ze_module_build_log_dditable_t => ze_module_build_log_dditable_t {
        pfnDestroy: Some(module::zeModuleBuildLogDestroy),
        pfnGetString: Some(module::zeModuleBuildLogGetString),
    };
    zeGetModuleProcAddrTable: ze_module_dditable_t => ze_module_dditable_t {
        pfnCreate: Some(module::zeModuleCreate),
        pfnDestroy: Some(module::zeModuleDestroy),
        pfnDynamicLink: Some(module::zeModuleDynamicLink),
        pfnGetGlobalPointer: Some(module::zeModuleGetGlobalPointer),
        pfnGetKernelNames: Some(module::zeModuleGetKernelNames),
        pfnGetProperties: Some(module::zeModuleGetProperties),
        pfnGetNativeBinary: Some(module::zeModuleGetNativeBinary),
        pfnGetFunctionPointer: Some(module::zeModuleGetFunctionPointer),
        ..Default::default()
    };
    zeGetPhysicalMemProcAddrTable: ze_physical_mem_dditable_t => ze_physical_mem_dditable_t {
        pfnCreate: Some(vm::zePhysicalMemCreate),
        pfnDestroy: Some(vm::zePhysicalMemDestroy),
        pfnGetProperties: Some(vm::zePhysicalMemGetProperties),
    };
    zeGetRTASBuilderExpProcAddrTable: ze_rtas_builder_exp_dditable_t => Default::default();
    zeGetRTASBuilderProcAddrTable: ze_rtas_builder_dditable_t => Default::default();
    zeGetRTASParallelOperationExpProcAddrTable: ze_rtas_parallel_operation_exp_dditable_t => Default::default();
    zeGetRTASParallelOperationProcAddrTable: ze_rtas_parallel_operation_dditable_t => Default::default();
    zeGetSamplerProcAddrTable: ze_sampler_dditable_t => ze_sampler_dditable_t {
        pfnCreate: Some(sampler::zeSamplerCreate),
        pfnDestroy: Some(sampler::zeSamplerDestroy),
    };
    zeGetVirtualMemProcAddrTable: ze_virtual_mem_dditable_t => ze_virtual_mem_dditable_t {
        pfnReserve: Some(vm::zeVirtualMemReserve),
        pfnFree: Some(vm::zeVirtualMemFree),
        pfnQueryPageSize: Some(vm::zeVirtualMemQueryPageSize),
        pfnMap: Some(vm::zeVirtualMemMap),
        pfnUnmap: Some(vm::zeVirtualMemUnmap),
        pfnSetAccessAttribute: Some(vm::zeVirtualMemSetAccessAttribute),
        pfnGetAccessAttribute: Some(vm::zeVirtualMemGetAccessAttribute),
    };
    zesGetDeviceExpProcAddrTable: zes_device_exp_dditable_t => Default::default();
    zesGetDeviceProcAddrTable: zes_device_dditable_t => zes_device_dditable_t {
        pfnGetProperties: Some(sysman::zesDeviceGetProperties),
        pfnEnumMemoryModules: Some(sysman::zesDeviceEnumMemoryModules),
        pfnGet: Some(sysman::zesDeviceGet),
        ..Default::default()
    };
    zesGetDiagnosticsProcAddrTable: zes_diagnostics_dditable_t => Default::default();
    zesGetDriverExpProcAddrTable: zes_driver_exp_dditable_t => Default::default();
    zesGetDriverProcAddrTable: zes_driver_dditable_t => zes_driver_dditable_t {
        pfnGet: Some(sysman::zesDriverGet),
        ..Default::default()
    };
    zesGetEngineProcAddrTable: zes_engine_dditable_t => Default::default();
    zesGetFabricPortProcAddrTable: zes_fabric_port_dditable_t => Default::default();
    zesGetFanProcAddrTable: zes_fan_dditable_t => Default::default();
    zesGetFirmwareExpProcAddrTable: zes_firmware_exp_dditable_t => Default::default();
    zesGetFirmwareProcAddrTable: zes_firmware_dditable_t => Default::default();
    zesGetFrequencyProcAddrTable: zes_frequency_dditable_t => Default::default();
    zesGetGlobalProcAddrTable: zes_global_dditable_t => zes_global_dditable_t {
        pfnInit: Some(sysman::zesInit),
    };
    zesGetLedProcAddrTable: zes_led_dditable_t => Default::default();
    zesGetMemoryProcAddrTable: zes_memory_dditable_t => zes_memory_dditable_t {
        pfnGetProperties: Some(sysman::zesMemoryGetProperties),
        pfnGetState: Some(sysman::zesMemoryGetState),
        ..Default::default()
    };
    zesGetOverclockProcAddrTable: zes_overclock_dditable_t => Default::default();
    zesGetPerformanceFactorProcAddrTable: zes_performance_factor_dditable_t => Default::default();
    zesGetPowerProcAddrTable: zes_power_dditable_t => Default::default();
    zesGetPsuProcAddrTable: zes_psu_dditable_t => Default::default();
    zesGetRasExpProcAddrTable: zes_ras_exp_dditable_t => Default::default();
    zesGetRasProcAddrTable: zes_ras_dditable_t => Default::default();
    zesGetSchedulerProcAddrTable: zes_scheduler_dditable_t => Default::default();
    zesGetStandbyProcAddrTable: zes_standby_dditable_t => Default::default();
    zesGetTemperatureProcAddrTable: zes_temperature_dditable_t => Default::default();
    zesGetVFManagementExpProcAddrTable: zes_vf_management_exp_dditable_t => Default::default();
    zetGetCommandListExpProcAddrTable: zet_command_list_exp_dditable_t => Default::default();
    zetGetCommandListProcAddrTable: zet_command_list_dditable_t => Default::default();
    zetGetContextProcAddrTable: zet_context_dditable_t => Default::default();
    zetGetDebugProcAddrTable: zet_debug_dditable_t => Default::default();
    zetGetDeviceExpProcAddrTable: zet_device_exp_dditable_t => Default::default();
    zetGetDeviceProcAddrTable: zet_device_dditable_t => Default::default();
    zetGetKernelProcAddrTable: zet_kernel_dditable_t => Default::default();
    zetGetMetricDecoderExpProcAddrTable: zet_metric_decoder_exp_dditable_t => Default::default();
    zetGetMetricExpProcAddrTable: zet_metric_exp_dditable_t => Default::default();
    zetGetMetricGroupExpProcAddrTable: zet_metric_group_exp_dditable_t => Default::default();
    zetGetMetricGroupProcAddrTable: zet_metric_group_dditable_t => Default::default();
    zetGetMetricProcAddrTable: zet_metric_dditable_t => Default::default();
    zetGetMetricProgrammableExpProcAddrTable: zet_metric_programmable_exp_dditable_t => Default::default();
    zetGetMetricQueryPoolProcAddrTable: zet_metric_query_pool_dditable_t => Default::default();
    zetGetMetricQueryProcAddrTable: zet_metric_query_dditable_t => Default::default();
    zetGetMetricStreamerProcAddrTable: zet_metric_streamer_dditable_t => Default::default();
    zetGetMetricTracerExpProcAddrTable: zet_metric_tracer_exp_dditable_t => Default::default();
    zetGetModuleProcAddrTable: zet_module_dditable_t => Default::default();
    zetGetTracerExpProcAddrTable: zet_tracer_exp_dditable_t => Default::default();
    zerGetGlobalProcAddrTable: zer_global_dditable_t => zer_global_dditable_t {
        pfnGetLastErrorDescription: Some(driver::zerGetLastErrorDescription),
        pfnTranslateDeviceHandleToIdentifier: Some(driver::zerTranslateDeviceHandleToIdentifier),
        pfnTranslateIdentifierToDeviceHandle: Some(driver::zerTranslateIdentifierToDeviceHandle),
        pfnGetDefaultContext: Some(driver::zerGetDefaultContext),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_cleared_by_name_and_version() {
        let full = ze_command_list_dditable_t {
            pfnAppendBarrier: Some(list::zeCommandListAppendBarrier),
            pfnAppendHostFunction: Some(list::zeCommandListAppendHostFunction),
            pfnGetFlags: Some(list::zeCommandListGetFlags),
            pfnImmediateGetIndex: Some(list::zeCommandListImmediateGetIndex),
            ..Default::default()
        };
        let mut t = full;
        clear_fields(&mut t, |f| f.function != "zeCommandListAppendHostFunction");
        assert!(t.pfnAppendHostFunction.is_none());
        assert!(t.pfnAppendBarrier.is_some() && t.pfnGetFlags.is_some());
        // 1.9 keeps zeCommandListImmediateGetIndex (1.9), drops the 1.17 queries.
        let mut t = full;
        clear_fields(&mut t, |f| f.since.0 <= make_version(1, 9).0);
        assert!(t.pfnImmediateGetIndex.is_some() && t.pfnAppendBarrier.is_some());
        assert!(t.pfnGetFlags.is_none() && t.pfnAppendHostFunction.is_none());
        // Other tables have the layout the clearing relies on.
        let mut g = ze_global_dditable_t::default();
        clear_fields(&mut g, |_| true);
        let mut z = zer_global_dditable_t::default();
        clear_fields(&mut z, |_| false);
        let mut s = zes_device_dditable_t::default();
        clear_fields(&mut s, |_| false);
    }
}
