//! Porting from the Level Zero C API.
//!
//! The crate is a layer over the same calls, so porting is mostly a renaming: each handle
//! becomes an owning type whose `Drop` destroys it, each `ze_result_t` an
//! [`Error`](crate::Error), and each descriptor structure a Rust argument or a field of a
//! small options type. What the C code had to get right by convention — destroying nothing
//! the device may still use, not touching host memory the device is writing, ordering lists
//! with events — the crate does, or refuses with an error.
//!
//! # Side by side
//!
//! ```c
//! zeInit(0);
//! uint32_t n = 1; ze_driver_handle_t drv; zeDriverGet(&n, &drv);
//! ze_device_handle_t dev; n = 1; zeDeviceGet(drv, &n, &dev);
//! ze_context_desc_t cd = {ZE_STRUCTURE_TYPE_CONTEXT_DESC};
//! ze_context_handle_t ctx; zeContextCreate(drv, &cd, &ctx);
//! ze_device_mem_alloc_desc_t md = {ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC};
//! void *buf; zeMemAllocDevice(ctx, &md, 1024 * sizeof(float), 64, dev, &buf);
//! ze_command_queue_desc_t qd = {ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC};
//! qd.ordinal = compute_ordinal; qd.flags = ZE_COMMAND_QUEUE_FLAG_IN_ORDER;
//! ze_command_list_handle_t list; zeCommandListCreateImmediate(ctx, dev, &qd, &list);
//! zeCommandListAppendMemoryCopy(list, buf, host, 1024 * sizeof(float), NULL, 0, NULL);
//! zeCommandListHostSynchronize(list, UINT64_MAX);
//! zeCommandListDestroy(list); zeMemFree(ctx, buf); zeContextDestroy(ctx);
//! ```
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{Context, DeviceBuffer, ImmediateCommandList, Runtime};
//! # let host = vec![0.5f32; 1024];
//! let rt = Runtime::init()?; // zeInit (or zeInitDrivers) through the loader it found
//! let driver = &rt.drivers()[0];
//! let dev = &driver.devices()?[0];
//! let ctx = Context::new(driver)?;
//! let buf = DeviceBuffer::<f32>::new(&ctx, dev, 1024)?; // size in elements, alignment from T
//! let mut list = ImmediateCommandList::compute(&ctx, dev)?; // compute ordinal found, in order
//! list.copy_from_slice(&buf, &host)?; // appends the copy and waits for it
//! # Ok(()) } // drops: list, buffer, context — in any order
//! ```
//!
//! # Call by call
//!
//! | Level Zero C | this crate |
//! | --- | --- |
//! | `zeInit`, `zeInitDrivers`, `zeDriverGet` | [`Runtime::init`](crate::Runtime::init) / [`Runtime::new`](crate::Runtime::new), [`Runtime::drivers`](crate::Runtime::drivers) |
//! | `zeDriverGetProperties`, `zeDriverGetApiVersion`, `zeDriverGetIpcProperties` | [`Driver::properties`](crate::Driver::properties), [`Driver::api_version`](crate::Driver::api_version), [`Driver::ipc_flags`](crate::Driver::ipc_flags) |
//! | `zeDriverGetExtensionProperties`, `zeDriverGetExtensionFunctionAddress` | [`Driver::extensions`](crate::Driver::extensions), [`Driver::extension_function`](crate::Driver::extension_function) (a NULL answer is a value, not a crash) |
//! | `zeDeviceGet`, `zeDeviceGetSubDevices`, `zeDeviceGetRootDevice` | [`Driver::devices`](crate::Driver::devices), [`Device::sub_devices`](crate::Device::sub_devices), [`Device::root_device`](crate::Device::root_device) |
//! | `zeDeviceGetProperties`, `...ComputeProperties`, `...ModuleProperties`, `...MemoryProperties`, `...CacheProperties` | [`Device::properties`](crate::Device::properties), [`compute_properties`](crate::Device::compute_properties), [`module_properties`](crate::Device::module_properties), [`memory_properties`](crate::Device::memory_properties), [`cache_properties`](crate::Device::cache_properties) |
//! | `zeDeviceGetCommandQueueGroupProperties` | [`Device::queue_groups`](crate::Device::queue_groups), [`compute_queue_group`](crate::Device::compute_queue_group), [`copy_queue_group`](crate::Device::copy_queue_group) |
//! | `zeDeviceGetVectorWidthPropertiesExt` | [`Device::vector_widths`](crate::Device::vector_widths) (never calls a NULL pointer) |
//! | `zeDeviceCanAccessPeer`, `zeDeviceGetP2PProperties` | [`Device::can_access_peer`](crate::Device::can_access_peer), [`Device::p2p_properties`](crate::Device::p2p_properties) |
//! | `zeDeviceGetStatus`, `zeDeviceSynchronize`, `zeDeviceGetGlobalTimestamps` | [`Device::status`](crate::Device::status), [`Device::synchronize`](crate::Device::synchronize), [`Device::global_timestamps`](crate::Device::global_timestamps) |
//! | `zeContextCreate`, `zeContextCreateEx`, `zeContextDestroy` | [`Context::new`](crate::Context::new), [`Context::with_devices`](crate::Context::with_devices), `Drop` |
//! | `zeDriverGetDefaultContext` | [`Context::default_of`](crate::Context::default_of) |
//! | `zeContextMakeMemoryResident`, `zeContextEvictMemory` | [`Context::make_resident`](crate::Context::make_resident), [`Context::evict`](crate::Context::evict) |
//! | `zeMemAllocDevice`, `zeMemAllocHost`, `zeMemAllocShared`, `zeMemFree` | [`DeviceBuffer::new`](crate::DeviceBuffer::new), [`HostBuffer::new`](crate::HostBuffer::new), [`SharedBuffer::new`](crate::SharedBuffer::new), `Drop` (deferred until no command uses it) |
//! | `ze_relaxed_allocation_limits_exp_desc_t` | [`AllocOptions`](crate::AllocOptions) with the `with_options` constructors |
//! | pointer arithmetic on an allocation | [`DeviceBuffer::slice`](crate::DeviceBuffer::slice), [`BufferSlice`](crate::BufferSlice) |
//! | `zeVirtualMemReserve`, `zePhysicalMemCreate`, `zeVirtualMemMap`, `zeVirtualMemSetAccessAttribute` | [`VirtualRange::reserve`](crate::virtual_memory::VirtualRange::reserve), [`PhysicalMemory::new`](crate::virtual_memory::PhysicalMemory::new), [`VirtualRange::map`](crate::virtual_memory::VirtualRange::map), [`Mapping::set_access`](crate::virtual_memory::Mapping::set_access) |
//! | `zeMemGetIpcHandle`, `zeMemOpenIpcHandle`, `zeMemPutIpcHandle`, `zeMemCloseIpcHandle` | [`ExportedMemory::new`](crate::ipc::ExportedMemory::new), [`IpcMemoryHandle::open`](crate::ipc::IpcMemoryHandle::open), `Drop` of each |
//! | `zeEventPoolGetIpcHandle`, `zeEventPoolOpenIpcHandle` | [`EventPool::export_ipc`](crate::EventPool::export_ipc), [`IpcEventPoolHandle::open`](crate::ipc::IpcEventPoolHandle::open) |
//! | `zeCommandQueueCreate`, `zeCommandQueueExecuteCommandLists`, `zeCommandQueueSynchronize` | [`CommandQueue::new`](crate::CommandQueue::new), [`CommandQueue::execute`](crate::CommandQueue::execute), [`CommandQueue::synchronize`](crate::CommandQueue::synchronize) |
//! | `zeCommandListCreate`, `zeCommandListClose`, `zeCommandListReset` | [`CommandList::new`](crate::CommandList::new), [`CommandList::close`](crate::CommandList::close), [`CommandList::reset`](crate::CommandList::reset) |
//! | `zeCommandListCreateImmediate`, `zeCommandListHostSynchronize` | [`ImmediateCommandList::new`](crate::ImmediateCommandList::new), [`ImmediateCommandList::synchronize`](crate::ImmediateCommandList::synchronize) |
//! | `ZE_COMMAND_LIST_FLAG_IN_ORDER` | the default ([`Ordering::InOrder`](crate::Ordering::InOrder)); [`Ordering::Relaxed`](crate::Ordering::Relaxed) for without |
//! | `zeCommandListAppendMemoryCopy` | [`copy`](crate::ImmediateCommandList::copy), [`copy_from_slice`](crate::ImmediateCommandList::copy_from_slice), [`copy_to_slice`](crate::ImmediateCommandList::copy_to_slice); between devices also [`copy_peer`](crate::copy_peer) |
//! | `zeCommandListAppendMemoryFill` | [`fill`](crate::ImmediateCommandList::fill) |
//! | `zeCommandListAppendBarrier` | [`barrier`](crate::ImmediateCommandList::barrier), [`barrier_with`](crate::ImmediateCommandList::barrier_with) |
//! | `zeCommandListAppendSignalEvent`, `zeCommandListAppendWaitOnEvents`, `zeCommandListAppendEventReset` | [`signal_event`](crate::ImmediateCommandList::signal_event), [`wait_events`](crate::ImmediateCommandList::wait_events), [`reset_event`](crate::ImmediateCommandList::reset_event) |
//! | `zeCommandListAppendWriteGlobalTimestamp` | [`write_global_timestamp`](crate::ImmediateCommandList::write_global_timestamp) |
//! | `zeCommandListAppendLaunchKernel`, `...WithArguments` | [`launch`](crate::ImmediateCommandList::launch), [`launch_with`](crate::ImmediateCommandList::launch_with) (`unsafe`; arguments sent with the launch where the driver can) |
//! | `zeCommandListAppendHostFunction` | [`host_fn`](crate::ImmediateCommandList::host_fn) (emulated on older drivers) |
//! | `zeCommandListBeginGraphCaptureExt` … `EndGraphCaptureExt`, `zeGraphInstantiateExt`, `zeCommandListAppendGraphExt` | [`capture`](crate::ImmediateCommandList::capture), [`Graph::instantiate`](crate::Graph::instantiate), [`replay`](crate::ImmediateCommandList::replay) |
//! | `zeFenceCreate`, `zeFenceHostSynchronize`, `zeFenceReset` | [`Fence::new`](crate::Fence::new), [`Fence::synchronize`](crate::Fence::synchronize), [`Fence::reset`](crate::Fence::reset); [`CommandQueue::execute_with_fence`](crate::CommandQueue::execute_with_fence) |
//! | `zeEventPoolCreate`, `zeEventCreate` | [`EventPool::new`](crate::EventPool::new), [`EventPool::event`](crate::EventPool::event) |
//! | `zeEventCounterBasedCreate` | [`Event::counter_based`](crate::Event::counter_based) |
//! | `zeEventHostSignal`, `zeEventHostSynchronize`, `zeEventQueryStatus`, `zeEventHostReset` | [`Event::host_signal`](crate::Event::host_signal), [`host_synchronize`](crate::Event::host_synchronize), [`is_signaled`](crate::Event::is_signaled), [`host_reset`](crate::Event::host_reset) |
//! | `zeEventQueryKernelTimestamp` | [`Event::kernel_timestamp`](crate::Event::kernel_timestamp) |
//! | `zeModuleCreate` (SPIR-V, native), `zeModuleBuildLogGetString` | [`Module::from_spirv`](crate::Module::from_spirv), [`Module::from_native`](crate::Module::from_native); the log is in [`Error::ModuleBuild`](crate::Error::ModuleBuild) or [`Module::from_spirv_with_log`](crate::Module::from_spirv_with_log) |
//! | `zeModuleGetNativeBinary`, `zeModuleDynamicLink`, `zeModuleGetFunctionPointer`, `zeModuleGetGlobalPointer` | [`Module::native_binary`](crate::Module::native_binary), [`Module::link`](crate::Module::link), [`Module::function_pointer`](crate::Module::function_pointer), [`Module::global_pointer`](crate::Module::global_pointer) |
//! | `zeKernelCreate`, `zeKernelGetProperties` | [`Kernel::new`](crate::Kernel::new), [`Kernel::properties`](crate::Kernel::properties) |
//! | `zeKernelSetArgumentValue` | [`set_arg_buffer`](crate::Kernel::set_arg_buffer), [`set_arg`](crate::Kernel::set_arg), [`set_arg_local`](crate::Kernel::set_arg_local), [`set_arg_image`](crate::Kernel::set_arg_image), [`set_arg_sampler`](crate::Kernel::set_arg_sampler) |
//! | `zeKernelSetGroupSize`, `zeKernelSuggestGroupSize`, `zeKernelSetGlobalOffsetExp` | [`Kernel::set_group_size`](crate::Kernel::set_group_size), [`Kernel::suggest_group_size`](crate::Kernel::suggest_group_size), [`Kernel::set_global_offset`](crate::Kernel::set_global_offset) |
//! | `zeImageCreate`, `zeSamplerCreate` | [`Image::new`](crate::Image::new), [`Sampler::new`](crate::Sampler::new) |
//! | `zesMemoryGetState` | [`Device::memory_state`](crate::Device::memory_state) |
//! | anything else | [`Runtime::api`](crate::Runtime::api) (the raw [`level_zero_sys::Api`] table) and `as_raw()` on every object |
//!
//! # What changes in how you think
//!
//! - **Lifetimes.** In C, freeing a buffer while a command list still uses it is undefined
//!   behaviour. Here a drop is always safe: the memory is freed when the last command using it
//!   is seen complete (see [`memory`](super::memory)).
//! - **Ordering.** C lists are unordered unless you add barriers or events, and two lists are
//!   never ordered. Here lists are in order, and commands of different lists on the same
//!   buffer are ordered for you (see [`commands`](super::commands)).
//! - **Errors before calls.** Many mistakes that a C driver answers with
//!   `ZE_RESULT_ERROR_INVALID_ARGUMENT` (or worse, accepts) are caught first, with a reason:
//!   [`Error::InvalidArgument`](crate::Error::InvalidArgument).
//! - **Missing functions.** The crate resolves every function at run time; one the loader or
//!   driver lacks is [`Error::MissingFunction`](crate::Error::MissingFunction), and newer
//!   features (in-order lists, host functions, graphs) fall back on older drivers where a
//!   faithful fallback exists.
