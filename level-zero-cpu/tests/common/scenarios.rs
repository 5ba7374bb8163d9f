//! The scenarios: each exercises one area of the driver, error codes included, and leaves
//! nothing alive. They run embedded (one instance each) and through the official loader.

use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

use level_zero_cpu::testing::*;
use level_zero_sys::*;

use super::graph::{
    graph_capture_and_replay, graph_capture_refusals, graph_engines_devices_and_freed_memory,
    graph_fork_and_join,
};
use super::{Backend, NO_WAITS, NULL_EVENT, Scenario, assembled, pattern};
use crate::{fails, ok, ze};

const GPU_LIKE_MEMORY: &[(&str, &str)] = &[
    ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "64M"),
    ("LEVEL_ZERO_CPU_MAX_ALLOC", "16M"),
];

macro_rules! scenarios {
    (@env) => { &[] };
    (@env $env:expr) => { $env };
    ($($name:ident $(env $env:expr)?;)*) => {
        /// Every scenario.
        pub const ALL: &[Scenario] = &[$(Scenario {
            name: stringify!($name),
            env: scenarios!(@env $($env)?),
            embedded_only: false,
            run: $name,
        }),*];
    };
}

scenarios! {
    driver_properties;
    device_properties;
    queue_group_and_peer_properties;
    vector_width_extension;
    extension_lookup_errors;
    bad_handles;
    allocations;
    allocation_limits env GPU_LIKE_MEMORY;
    copies_every_direction;
    copy_range_checks;
    copy_region;
    fills;
    immediate_lists;
    queues_and_lists;
    events;
    event_timeouts_and_cross_thread_signal;
    kernel_timestamps;
    fences;
    residency;
    modules_with_the_stub_engine;
    fault_alloc_failure env &[("LEVEL_ZERO_CPU_FAIL_ALLOC_AT", "2")];
    fault_device_lost env &[("LEVEL_ZERO_CPU_DEVICE_LOST_AFTER", "2")];
    fault_module_build env &[("LEVEL_ZERO_CPU_FAIL_MODULE_BUILD", "1")];
    fault_null_extension_function env &[("LEVEL_ZERO_CPU_NULL_EXTENSION_FUNCTIONS", "zeDeviceGetVectorWidthPropertiesExt")];
    hidden_extension env &[("LEVEL_ZERO_CPU_HIDE_EXTENSIONS", "ZE_extension_device_vector_sizes")];
    p2p_off env &[("LEVEL_ZERO_CPU_P2P", "0")];
    three_devices env &[("LEVEL_ZERO_CPU_DEVICES", "3")];
    concurrent_threads;
    affinity_mask_hides_devices env &[("ZE_AFFINITY_MASK", "1")];
    flat_hierarchy_tiles_are_root_devices env FLAT_TILES;
    composite_hierarchy_sub_devices env COMPOSITE_TILES;
    composite_affinity_mask_picks_tiles env COMPOSITE_MASKED;
    combined_hierarchy_tiles_with_root_devices env COMBINED_MASKED;
    simple_queue_groups env &[("LEVEL_ZERO_CPU_QUEUE_GROUPS", "simple")];
    images_of_every_type;
    image_formats_and_properties;
    image_descriptors_refused env GPU_LIKE_MEMORY;
    image_copies_round_trip;
    image_copy_checks;
    image_destroyed_with_copies_pending;
    samplers;
    module_dynamic_link;
    null_by_value_kernel_argument;
    advertised_extensions_are_exactly_the_implemented_ones;
    kernel_source_attributes_and_function_pointers;
    native_module_binaries;
    query_kernel_timestamps_and_copy_from_context;
    immediate_append_and_atomic_attributes;
    graph_capture_and_replay;
    graph_fork_and_join;
    graph_capture_refusals;
    graph_engines_devices_and_freed_memory;
    copy_region_zero_extents;
    flags_and_enumerations;
    objects_in_use;
    in_order_lists_need_no_events env &[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "20000")];
    emulated_api_version env &[("LEVEL_ZERO_CPU_API_VERSION", "1.6")];
}

const FLAT_TILES: &[(&str, &str)] = &[
    ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
    ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "64M"),
    ("LEVEL_ZERO_CPU_MAX_ALLOC", "32M"),
];
const COMPOSITE_TILES: &[(&str, &str)] = &[
    ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
    ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "64M"),
    ("LEVEL_ZERO_CPU_MAX_ALLOC", "32M"),
    ("ZE_FLAT_DEVICE_HIERARCHY", "COMPOSITE"),
];
const COMPOSITE_MASKED: &[(&str, &str)] = &[
    ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
    ("ZE_FLAT_DEVICE_HIERARCHY", "COMPOSITE"),
    ("ZE_AFFINITY_MASK", "1, 0.1"),
];
const COMBINED_MASKED: &[(&str, &str)] = &[
    ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
    ("ZE_FLAT_DEVICE_HIERARCHY", "COMBINED"),
    ("ZE_AFFINITY_MASK", "3,0,1"),
];

fn cstr(bytes: &[i8]) -> String {
    // SAFETY: the driver wrote a NUL-terminated string into the array.
    unsafe { std::ffi::CStr::from_ptr(bytes.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn driver_properties(b: &Backend) {
    let mut v = ze_api_version_t(0);
    ok!(b, zeDriverGetApiVersion(b.driver, &mut v));
    assert_eq!(v.major(), 1);
    assert!(v.minor() >= 4);

    let mut p1 = ze_driver_properties_t::default();
    let mut p2 = ze_driver_properties_t::default();
    ok!(b, zeDriverGetProperties(b.driver, &mut p1));
    ok!(b, zeDriverGetProperties(b.driver, &mut p2));
    assert_eq!(p1.uuid.id, p2.uuid.id);
    assert_eq!(&p1.uuid.id[..14], b"level-zero-cpu");
    assert_eq!(p1.driverVersion, level_zero_cpu::DRIVER_VERSION);
    assert_eq!(
        p1.stype,
        ze_structure_type_t::ZE_STRUCTURE_TYPE_DRIVER_PROPERTIES
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDriverGetProperties(b.driver, null_mut())
    );

    let mut ipc = ze_driver_ipc_properties_t::default();
    ok!(b, zeDriverGetIpcProperties(b.driver, &mut ipc));
    assert_eq!(
        ipc.flags,
        ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_MEMORY.0
            | ze_ipc_property_flag_t::ZE_IPC_PROPERTY_FLAG_EVENT_POOL.0
    );

    let ext = b.extensions();
    for name in [
        "ZE_extension_device_vector_sizes",
        "ZE_experimental_relaxed_allocation_limits",
        "ZEX_cpu_driver_testing",
    ] {
        assert!(ext.iter().any(|e| e == name), "{name} in {ext:?}");
    }
    // A short array gets only what fits.
    let mut n = 1;
    let mut one = [ze_driver_extension_properties_t::default(); 1];
    ok!(
        b,
        zeDriverGetExtensionProperties(b.driver, &mut n, one.as_mut_ptr())
    );
    assert_eq!(n, 1);
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDriverGetExtensionProperties(b.driver, null_mut(), null_mut())
    );

    // The last error names what went wrong.
    if b.api.is_present("zeDriverGetLastErrorDescription") == Some(true) {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_POINTER,
            b,
            zeDriverGetIpcProperties(b.driver, null_mut())
        );
        let mut s: *const i8 = null();
        ok!(b, zeDriverGetLastErrorDescription(b.driver, &mut s));
        assert!(!s.is_null());
        // SAFETY: the driver returns a NUL-terminated string valid until its next error.
        let text = unsafe { std::ffi::CStr::from_ptr(s) }.to_string_lossy();
        assert!(text.contains("INVALID_NULL_POINTER"), "{text}");
    }
}

fn device_properties(b: &Backend) {
    assert_eq!(b.devices.len(), 2);
    let mut n = 1;
    let mut first = [null_mut(); 1];
    ok!(b, zeDeviceGet(b.driver, &mut n, first.as_mut_ptr()));
    assert_eq!((n, first[0]), (1, b.devices[0]));
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDeviceGet(b.driver, null_mut(), null_mut())
    );

    for (i, &d) in b.devices.iter().enumerate() {
        let mut p = ze_device_properties_t::default();
        ok!(b, zeDeviceGetProperties(d, &mut p));
        assert_eq!(p.type_, ze_device_type_t::ZE_DEVICE_TYPE_CPU);
        let name = cstr(&p.name);
        assert!(
            name.starts_with(&format!("level-zero-cpu device {i}")),
            "{name}"
        );
        assert_eq!(p.maxMemAllocSize, 1 << 30);
        assert_eq!(p.timerResolution, 1);
        assert!(p.numSubslicesPerSlice >= 1);
        let mut p12 = ze_device_properties_t {
            stype: ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES_1_2,
            ..Default::default()
        };
        ok!(b, zeDeviceGetProperties(d, &mut p12));
        assert_eq!(
            p12.stype,
            ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES_1_2
        );
        assert_eq!(p12.timerResolution, 1_000_000_000);
        assert_eq!(p12.uuid.id, p.uuid.id);

        let mut c = ze_device_compute_properties_t::default();
        ok!(b, zeDeviceGetComputeProperties(d, &mut c));
        assert_eq!(c.maxTotalGroupSize, 1024);
        assert!(c.numSubGroupSizes >= 1);

        let mut m = ze_device_module_properties_t::default();
        ok!(b, zeDeviceGetModuleProperties(d, &mut m));
        assert!(m.spirvVersionSupported >= make_version(1, 0).0);

        let mut n = 0;
        ok!(b, zeDeviceGetMemoryProperties(d, &mut n, null_mut()));
        assert_eq!(n, 1);
        let mut mem = [ze_device_memory_properties_t::default()];
        ok!(b, zeDeviceGetMemoryProperties(d, &mut n, mem.as_mut_ptr()));
        assert_eq!(mem[0].totalSize, 4 << 30);

        let mut a = ze_device_memory_access_properties_t::default();
        ok!(b, zeDeviceGetMemoryAccessProperties(d, &mut a));
        assert_ne!(
            a.deviceAllocCapabilities & ze_memory_access_cap_flag_t::ZE_MEMORY_ACCESS_CAP_FLAG_RW.0,
            0
        );

        let mut n = 0;
        ok!(b, zeDeviceGetCacheProperties(d, &mut n, null_mut()));
        let mut cache = vec![ze_device_cache_properties_t::default(); n as usize];
        ok!(b, zeDeviceGetCacheProperties(d, &mut n, cache.as_mut_ptr()));
        assert!(cache[0].cacheSize > 0);

        let mut img = ze_device_image_properties_t {
            maxImageDims2D: 77,
            ..Default::default()
        };
        ok!(b, zeDeviceGetImageProperties(d, &mut img));
        // Limits as zeImageCreate enforces them; kernels take image arguments (the
        // engine's image instructions).
        assert_eq!(
            (img.maxImageDims1D, img.maxImageDims2D, img.maxImageDims3D),
            (16384, 16384, 2048)
        );
        assert!(img.maxSamplers > 0 && img.maxImageArraySlices > 0);
        assert_eq!((img.maxReadImageArgs, img.maxWriteImageArgs), (128, 128));

        let mut ext = ze_device_external_memory_properties_t::default();
        ok!(b, zeDeviceGetExternalMemoryProperties(d, &mut ext));
        assert_eq!(ext.memoryAllocationImportTypes, 0);

        ok!(b, zeDeviceGetStatus(d));
        let mut n = 7;
        ok!(b, zeDeviceGetSubDevices(d, &mut n, null_mut()));
        assert_eq!(n, 0);

        let (mut h1, mut d1, mut h2, mut d2) = (0u64, 0u64, 0u64, 0u64);
        ok!(b, zeDeviceGetGlobalTimestamps(d, &mut h1, &mut d1));
        std::thread::sleep(Duration::from_millis(2));
        ok!(b, zeDeviceGetGlobalTimestamps(d, &mut h2, &mut d2));
        assert!(h2 > h1 && d2 >= d1 + 1_000_000, "{d1} {d2}");
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_POINTER,
            b,
            zeDeviceGetGlobalTimestamps(d, null_mut(), &mut d1)
        );
    }
    let mut p = ze_device_properties_t::default();
    let mut q = ze_device_properties_t::default();
    ok!(b, zeDeviceGetProperties(b.devices[0], &mut p));
    ok!(b, zeDeviceGetProperties(b.devices[1], &mut q));
    assert_ne!(p.uuid.id, q.uuid.id);
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDeviceGetProperties(b.devices[0], null_mut())
    );
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeDeviceGetProperties(null_mut(), &mut p)
        );
    }
    if b.api.is_present("zeDeviceGetRootDevice") == Some(true) {
        let mut root = 1usize as ze_device_handle_t;
        ok!(b, zeDeviceGetRootDevice(b.devices[0], &mut root));
        assert!(root.is_null());
    }
}

fn queue_group_and_peer_properties(b: &Backend) {
    let d = b.devices[0];
    let mut n = 0;
    ok!(
        b,
        zeDeviceGetCommandQueueGroupProperties(d, &mut n, null_mut())
    );
    assert_eq!(n, 3);
    let mut g = vec![ze_command_queue_group_properties_t::default(); 3];
    ok!(
        b,
        zeDeviceGetCommandQueueGroupProperties(d, &mut n, g.as_mut_ptr())
    );
    use ze_command_queue_group_property_flag_t as F;
    assert_ne!(
        g[0].flags & F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE.0,
        0
    );
    assert_ne!(
        g[0].flags & F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COOPERATIVE_KERNELS.0,
        0
    );
    // The main copy engine, then the link copy engines.
    assert_eq!(g[1].flags, F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY.0);
    assert_eq!(g[1].numQueues, 1);
    assert_eq!(g[2].flags, F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY.0);
    assert!(g[2].numQueues > 1);
    assert_eq!(g[0].maxMemoryFillPatternSize, 128);
    // Asking for more than there are gives what there is.
    let mut n = 5;
    let mut g5 = vec![ze_command_queue_group_properties_t::default(); 5];
    ok!(
        b,
        zeDeviceGetCommandQueueGroupProperties(d, &mut n, g5.as_mut_ptr())
    );
    assert_eq!(n, 3);

    let mut p2p = ze_device_p2p_properties_t::default();
    ok!(
        b,
        zeDeviceGetP2PProperties(b.devices[0], b.devices[1], &mut p2p)
    );
    assert_ne!(
        p2p.flags & ze_device_p2p_property_flag_t::ZE_DEVICE_P2P_PROPERTY_FLAG_ACCESS.0,
        0
    );
    let mut can = 0;
    ok!(
        b,
        zeDeviceCanAccessPeer(b.devices[0], b.devices[1], &mut can)
    );
    assert_eq!(can, 1);
    ok!(
        b,
        zeDeviceCanAccessPeer(b.devices[1], b.devices[1], &mut can)
    );
    assert_eq!(can, 1);
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDeviceCanAccessPeer(b.devices[0], b.devices[1], null_mut())
    );
}

fn vector_width_extension(b: &Backend) {
    assert!(
        b.extensions()
            .iter()
            .any(|e| e == "ZE_extension_device_vector_sizes")
    );
    let f = b
        .extension_function(c"zeDeviceGetVectorWidthPropertiesExt")
        .expect("resolves");
    assert!(!f.is_null());
    // SAFETY: the address of zeDeviceGetVectorWidthPropertiesExt, of this type.
    let get: ze_pfnDeviceGetVectorWidthPropertiesExt_t = unsafe { std::mem::transmute(f) };
    let get = get.unwrap();
    let d = b.native(zel_handle_type_t::ZEL_HANDLE_DEVICE, b.devices[0]);
    let mut n = 0;
    // SAFETY: a driver device handle and a count query.
    assert_eq!(
        unsafe { get(d, &mut n, null_mut()) },
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(n, 2);
    let mut v = vec![ze_device_vector_width_properties_ext_t::default(); n as usize];
    // SAFETY: an array of `n` initialised structures.
    assert_eq!(
        unsafe { get(d, &mut n, v.as_mut_ptr()) },
        ze_result_t::ZE_RESULT_SUCCESS
    );
    // Largest SIMD width first: AVX2's 256 bits.
    assert_eq!(v[0].vector_width_size, 8);
    assert_eq!(v[0].preferred_vector_width_float, 8);
    assert_eq!(v[0].preferred_vector_width_char, 32);
    assert_eq!(v[0].native_vector_width_double, 4);
    assert_eq!(v[1].preferred_vector_width_float, 4);
    assert_eq!(
        v[0].stype,
        ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_VECTOR_WIDTH_PROPERTIES_EXT
    );
    // SAFETY: a null handle, which the function must reject.
    assert_eq!(
        unsafe { get(null_mut(), &mut n, null_mut()) },
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE
    );
    // Since 1.13 also a field of the device DDI table: a 1.13+ loader (or the embedded
    // backend) exports it and answers the same; loader 1.8.12 reaches it only by lookup.
    if b.api.is_present("zeDeviceGetVectorWidthPropertiesExt") == Some(true) {
        let mut m = 0;
        // SAFETY: a device handle of the API's own kind (the loader's or the driver's) and a
        // count query.
        let r = unsafe {
            b.api
                .zeDeviceGetVectorWidthPropertiesExt(b.devices[0], &mut m, null_mut())
        };
        assert_eq!(r.map(|_| m), Ok(2));
    }
}

fn extension_lookup_errors(b: &Backend) {
    assert_eq!(
        b.extension_function(c"zeNoSuchFunction"),
        Err(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT)
    );
    let mut f = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDriverGetExtensionFunctionAddress(b.driver, null(), &mut f)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDriverGetExtensionFunctionAddress(
            b.driver,
            c"zexCpuDriverGetLiveObjects".as_ptr(),
            null_mut()
        )
    );
    assert!(
        b.extension_function(ZEX_CPU_DEVICE_GET_RESIDENCY_FN)
            .is_ok_and(|f| !f.is_null())
    );
}

fn bad_handles(b: &Backend) {
    let mut p = ze_device_properties_t::default();
    let mut ctx = null_mut();
    let desc = ze_context_desc_t::default();
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeContextCreate(null_mut(), &desc, &mut ctx)
        );
    }
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeContextDestroy(null_mut())
        );
    }
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeCommandListClose(null_mut())
        );
    }
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeEventHostSignal(null_mut())
        );
    }
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeFenceReset(null_mut())
        );
    }
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeKernelSetGroupSize(null_mut(), 1, 1, 1)
        );
    }
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeModuleDestroy(null_mut())
        );
    }
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeContextCreate(b.driver, null(), &mut ctx)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeContextCreate(b.driver, &desc, null_mut())
    );
    if !b.direct_handles() {
        return;
    }
    // Wrong types: a device where a context belongs, a driver where a device belongs.
    let mut mem = null_mut();
    let hdesc = ze_host_mem_alloc_desc_t::default();
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemAllocHost(b.devices[0].cast(), &hdesc, 64, 0, &mut mem)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeDeviceGetProperties(b.driver.cast(), &mut p)
    );
    // Garbage and stale handles.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeDeviceGetProperties(0x1234_5678 as ze_device_handle_t, &mut p)
    );
    let c = b.context();
    ok!(b, zeContextDestroy(c));
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeContextDestroy(c));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemAllocHost(c, &hdesc, 64, 0, &mut mem)
    );
    let c = b.context();
    let l = b.list(c, 0);
    ok!(b, zeCommandListDestroy(l));
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeCommandListClose(l));
    // A stale event as a signal event is not a synchronisation object.
    let l = b.list(c, 0);
    let pool = b.event_pool(c, 1, 0);
    let e = b.event(pool, 0);
    ok!(b, zeEventDestroy(e));
    fails!(
        ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT,
        b,
        zeCommandListAppendSignalEvent(l, e)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT,
        b,
        zeCommandListAppendBarrier(l, l.cast(), 0, NO_WAITS)
    );
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
}

fn allocations(b: &Backend) {
    let c = b.context();
    let ddesc = ze_device_mem_alloc_desc_t::default();
    let hdesc = ze_host_mem_alloc_desc_t::default();
    let before = b.live();
    let mut ptrs = Vec::new();
    for &(size, align) in &[
        (1usize, 0usize),
        (100, 64),
        (4096, 4096),
        (1 << 20, 0),
        (3 << 20, 1 << 16),
        (10, 1 << 13),
    ] {
        let mut p = null_mut();
        ok!(
            b,
            zeMemAllocDevice(c, &ddesc, size, align, b.devices[1], &mut p)
        );
        assert!(!p.is_null());
        assert_eq!(p as usize % align.max(1), 0, "alignment {align}");
        ptrs.push((p, size));
    }
    let live = b.live();
    assert_eq!(live.allocations, before.allocations + ptrs.len() as u64);
    assert_eq!(
        live.allocated_bytes,
        before.allocated_bytes + ptrs.iter().map(|p| p.1 as u64).sum::<u64>()
    );

    // Properties and ranges, from interior pointers too.
    let (p, size) = ptrs[3];
    let mut props = ze_memory_allocation_properties_t::default();
    let mut dev = null_mut();
    // SAFETY: an interior pointer of the allocation.
    let inner = unsafe { p.cast::<u8>().add(12345) }.cast::<c_void>();
    ok!(b, zeMemGetAllocProperties(c, inner, &mut props, &mut dev));
    assert_eq!(props.type_, ze_memory_type_t::ZE_MEMORY_TYPE_DEVICE);
    assert_eq!(dev, b.devices[1]);
    assert_ne!(props.id, 0);
    let (mut base, mut len) = (null_mut(), 0usize);
    ok!(b, zeMemGetAddressRange(c, inner, &mut base, &mut len));
    assert_eq!((base, len), (p, size));
    ok!(b, zeMemGetAddressRange(c, inner, null_mut(), &mut len));
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeMemGetAddressRange(c, null(), &mut base, &mut len)
    );
    let local = 5u64;
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemGetAddressRange(c, (&raw const local).cast(), &mut base, &mut len)
    );
    ok!(
        b,
        zeMemGetAllocProperties(c, (&raw const local).cast(), &mut props, &mut dev)
    );
    assert_eq!(props.type_, ze_memory_type_t::ZE_MEMORY_TYPE_UNKNOWN);
    assert!(dev.is_null());

    let h = b.alloc_host(c, 256);
    ok!(
        b,
        zeMemGetAllocProperties(c, h.cast(), &mut props, &mut dev)
    );
    assert_eq!(props.type_, ze_memory_type_t::ZE_MEMORY_TYPE_HOST);
    assert!(dev.is_null());
    // Host memory is the host's: written and read directly.
    // SAFETY: a live host allocation of 256 bytes.
    unsafe {
        h.write_bytes(0xab, 256);
        assert_eq!(*h.add(255), 0xab);
    }
    let s = b.alloc_shared(c, 256, 0);
    ok!(
        b,
        zeMemGetAllocProperties(c, s.cast(), &mut props, &mut dev)
    );
    assert_eq!(props.type_, ze_memory_type_t::ZE_MEMORY_TYPE_SHARED);
    assert_eq!(dev, b.devices[0]);
    let mut s2 = null_mut();
    ok!(
        b,
        zeMemAllocShared(c, &ddesc, &hdesc, 64, 0, null_mut(), &mut s2)
    );
    ok!(b, zeMemGetAllocProperties(c, s2, &mut props, &mut dev));
    assert_eq!(props.type_, ze_memory_type_t::ZE_MEMORY_TYPE_SHARED);
    assert!(dev.is_null());

    // A pointer from another context is unknown there.
    let c2 = b.context();
    ok!(
        b,
        zeMemGetAllocProperties(c2, h.cast(), &mut props, &mut dev)
    );
    assert_eq!(props.type_, ze_memory_type_t::ZE_MEMORY_TYPE_UNKNOWN);
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeMemFree(c2, h.cast()));
    ok!(b, zeContextDestroy(c2));

    // Argument errors.
    let mut q = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeMemAllocDevice(c, &ddesc, 0, 0, b.devices[0], &mut q)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
        b,
        zeMemAllocDevice(c, &ddesc, 64, 3, b.devices[0], &mut q)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
        b,
        zeMemAllocHost(c, &hdesc, 64, 48, &mut q)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeMemAllocDevice(c, null(), 64, 0, b.devices[0], &mut q)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeMemAllocHost(c, &hdesc, 64, 0, null_mut())
    );
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeMemAllocDevice(c, &ddesc, 64, 0, null_mut(), &mut q)
        );
    }
    let bad_flags = ze_device_mem_alloc_desc_t {
        flags: 0x100,
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeMemAllocDevice(c, &bad_flags, 64, 0, b.devices[0], &mut q)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeMemFree(c, null_mut())
    );
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeMemFree(c, inner));

    for (p, _) in ptrs {
        ok!(b, zeMemFree(c, p));
    }
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeMemFree(c, p));
    b.free(c, h);
    b.free(c, s);
    ok!(b, zeMemFree(c, s2));
    ok!(b, zeContextDestroy(c));
}

fn allocation_limits(b: &Backend) {
    let c = b.context();
    let mut p = ze_device_properties_t::default();
    ok!(b, zeDeviceGetProperties(b.devices[0], &mut p));
    assert_eq!(p.maxMemAllocSize, 16 << 20);
    let ddesc = ze_device_mem_alloc_desc_t::default();
    let hdesc = ze_host_mem_alloc_desc_t::default();
    let mut q = null_mut();
    // Above maxMemAllocSize: refused unless the relaxed-limits descriptor is chained.
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeMemAllocDevice(c, &ddesc, (16 << 20) + 1, 0, b.devices[0], &mut q)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeMemAllocHost(c, &hdesc, 32 << 20, 0, &mut q)
    );
    let relaxed = ze_relaxed_allocation_limits_exp_desc_t {
        flags:
            ze_relaxed_allocation_limits_exp_flag_t::ZE_RELAXED_ALLOCATION_LIMITS_EXP_FLAG_MAX_SIZE
                .0,
        ..Default::default()
    };
    let rdesc = ze_device_mem_alloc_desc_t {
        pNext: (&raw const relaxed).cast(),
        ..Default::default()
    };
    let mut big = null_mut();
    ok!(
        b,
        zeMemAllocDevice(c, &rdesc, 40 << 20, 0, b.devices[0], &mut big)
    );
    let mut r = b.residency(b.devices[0]);
    assert_eq!(r.allocated_bytes, 40 << 20);
    // Capacity: 64 MiB per device.
    let mut more = null_mut();
    fails!(
        ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
        b,
        zeMemAllocDevice(c, &rdesc, 30 << 20, 0, b.devices[0], &mut more)
    );
    // Shared allocations count too; the other device has its own memory.
    let mut s = null_mut();
    fails!(
        ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
        b,
        zeMemAllocShared(c, &rdesc, &hdesc, 30 << 20, 0, b.devices[0], &mut s)
    );
    ok!(
        b,
        zeMemAllocDevice(c, &rdesc, 30 << 20, 0, b.devices[1], &mut more)
    );
    ok!(b, zeMemFree(c, big));
    r = b.residency(b.devices[0]);
    assert_eq!(r.allocated_bytes, 0);
    ok!(
        b,
        zeMemAllocShared(c, &rdesc, &hdesc, 30 << 20, 0, b.devices[0], &mut s)
    );
    ok!(b, zeMemFree(c, s));
    ok!(b, zeMemFree(c, more));
    ok!(b, zeContextDestroy(c));
}

fn copies_every_direction(b: &Backend) {
    let c = b.context();
    // Allocations large enough to be mapped from the OS (64 KiB and up); under Miri, which
    // checks every byte copied, only just so.
    let n = if cfg!(miri) { 3 << 15 } else { 3 << 20 };
    let data = pattern(n, 1);
    let d0 = b.alloc_device(c, n, 0);
    let d1 = b.alloc_device(c, n, 1);
    let h = b.alloc_host(c, n);
    let s = b.alloc_shared(c, n, 1);
    let mut out = vec![0u8; n];
    let r = b.run(c, 0, |l| {
        let chain = [
            (d0, data.as_ptr()),
            (d1, d0.cast_const()),
            (h, d1.cast_const()),
            (s, h.cast_const()),
            (out.as_mut_ptr(), s.cast_const()),
        ];
        for (dst, src) in chain {
            ok!(
                b,
                zeCommandListAppendMemoryCopy(
                    l,
                    dst.cast(),
                    src.cast(),
                    n,
                    NULL_EVENT,
                    0,
                    NO_WAITS
                )
            );
            ok!(b, zeCommandListAppendBarrier(l, NULL_EVENT, 0, NO_WAITS));
        }
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert!(
        out == data,
        "host -> device 0 -> device 1 -> host -> shared -> host"
    );
    // Host and shared allocations are readable by the host directly.
    // SAFETY: live allocations of `n` bytes.
    unsafe {
        assert_eq!(std::slice::from_raw_parts(h, n), &data[..]);
        assert_eq!(std::slice::from_raw_parts(s, n), &data[..]);
    }
    // Unaligned offsets, zero-size copies, and an overlapping (memmove) copy.
    let r = b.run(c, 1, |l| {
        // SAFETY: offsets inside the allocations.
        let (dst, src) = unsafe { (d1.add(3), d0.add(1001)) };
        ok!(
            b,
            zeCommandListAppendMemoryCopy(l, dst.cast(), src.cast(), 999, NULL_EVENT, 0, NO_WAITS)
        );
        ok!(
            b,
            zeCommandListAppendMemoryCopy(l, d1.cast(), d0.cast(), 0, NULL_EVENT, 0, NO_WAITS)
        );
        // SAFETY: as above.
        let shifted = unsafe { h.add(1) };
        ok!(
            b,
            zeCommandListAppendMemoryCopy(
                l,
                shifted.cast(),
                h.cast(),
                4096,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let got = b.download(c, d1, 1002);
    assert_eq!(&got[3..1002], &data[1001..2000]);
    // SAFETY: a live host allocation.
    let hs = unsafe { std::slice::from_raw_parts(h, 4097) };
    assert_eq!(hs[0], data[0]);
    assert_eq!(&hs[1..4097], &data[..4096]);
    for p in [d0, d1, h, s] {
        b.free(c, p);
    }
    ok!(b, zeContextDestroy(c));
}

fn copy_range_checks(b: &Backend) {
    let c = b.context();
    let d = b.alloc_device(c, 4096, 0);
    let h = b.alloc_host(c, 8192);
    b.upload(c, d, &[7u8; 4096]);
    let l = b.list(c, 0);
    let src = vec![1u8; 8192];
    // Starting inside and running past the end: refused, nothing recorded.
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryCopy(
            l,
            d.cast(),
            src.as_ptr().cast(),
            4097,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    // SAFETY: an interior pointer.
    let tail = unsafe { d.add(4000) };
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryCopy(
            l,
            tail.cast(),
            src.as_ptr().cast(),
            97,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryCopy(l, h.cast(), d.cast(), 4097, NULL_EVENT, 0, NO_WAITS)
    );
    // Wrapping around the address space.
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryCopy(
            l,
            d.cast(),
            src.as_ptr().cast(),
            usize::MAX,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    // Null pointers.
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendMemoryCopy(
            l,
            null_mut(),
            src.as_ptr().cast(),
            1,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendMemoryCopy(l, d.cast(), null(), 1, NULL_EVENT, 0, NO_WAITS)
    );
    // Wait events announced without an array (the loader's handle wrapping reads the array).
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_SIZE,
            b,
            zeCommandListAppendMemoryCopy(
                l,
                d.cast(),
                src.as_ptr().cast(),
                1,
                NULL_EVENT,
                2,
                NO_WAITS
            )
        );
    }
    // Exactly to the end is fine.
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            tail.cast(),
            src.as_ptr().cast(),
            96,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(l));
    let q = b.queue(c, 0);
    let mut lists = [l];
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, lists.as_mut_ptr(), null_mut())
    );
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    let got = b.download(c, d, 4096);
    assert!(
        got[..4000].iter().all(|&x| x == 7),
        "the refused copies touched nothing"
    );
    assert!(got[4000..].iter().all(|&x| x == 1));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q));
    // A range starting in plain host memory and running into an allocation is refused too.
    let l = b.immediate(c, 0);
    let below = (h as usize - 16) as *mut c_void;
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryCopy(l, below, src.as_ptr().cast(), 32, NULL_EVENT, 0, NO_WAITS)
    );
    ok!(b, zeCommandListDestroy(l));
    b.free(c, d);
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
}

fn copy_region(b: &Backend) {
    let c = b.context();
    // A 16 x 8 x 2 byte volume (pitch 16, slice pitch 128) in device memory.
    let src_data = pattern(256, 9);
    let d = b.alloc_device(c, 256, 0);
    b.upload(c, d, &src_data);
    // Copy the 4 x 3 x 2 box at (2, 1, 0) into a tight 4 x 3 x 2 host buffer.
    let mut out = vec![0u8; 24];
    let sr = ze_copy_region_t {
        originX: 2,
        originY: 1,
        originZ: 0,
        width: 4,
        height: 3,
        depth: 2,
    };
    let dr = ze_copy_region_t {
        originX: 0,
        originY: 0,
        originZ: 0,
        width: 4,
        height: 3,
        depth: 2,
    };
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendMemoryCopyRegion(
                l,
                out.as_mut_ptr().cast(),
                &dr,
                4,
                12,
                d.cast(),
                &sr,
                16,
                128,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    for z in 0..2 {
        for y in 0..3 {
            for x in 0..4 {
                assert_eq!(
                    out[z * 12 + y * 4 + x],
                    src_data[z * 128 + (y + 1) * 16 + x + 2],
                    "({x},{y},{z})"
                );
            }
        }
    }
    // 2-D with a slice pitch of 0.
    let mut out2 = vec![0u8; 8];
    let sr2 = ze_copy_region_t {
        originX: 0,
        originY: 2,
        originZ: 0,
        width: 4,
        height: 2,
        depth: 1,
    };
    let dr2 = ze_copy_region_t {
        width: 4,
        height: 2,
        depth: 1,
        ..Default::default()
    };
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendMemoryCopyRegion(
                l,
                out2.as_mut_ptr().cast(),
                &dr2,
                4,
                0,
                d.cast(),
                &sr2,
                16,
                0,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(&out2[..4], &src_data[32..36]);
    assert_eq!(&out2[4..], &src_data[48..52]);
    let l = b.list(c, 0);
    // The last slice would run past the allocation.
    let deep = ze_copy_region_t { depth: 3, ..sr };
    let deep_dst = ze_copy_region_t { depth: 3, ..dr };
    let mut big = vec![0u8; 36];
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryCopyRegion(
            l,
            big.as_mut_ptr().cast(),
            &deep_dst,
            4,
            12,
            d.cast(),
            &deep,
            16,
            128,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    // Regions of different extents.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendMemoryCopyRegion(
            l,
            out.as_mut_ptr().cast(),
            &dr2,
            4,
            12,
            d.cast(),
            &sr,
            16,
            128,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendMemoryCopyRegion(
            l,
            out.as_mut_ptr().cast(),
            null(),
            4,
            12,
            d.cast(),
            &sr,
            16,
            128,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListDestroy(l));
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
}

fn fills(b: &Backend) {
    let c = b.context();
    let n = 1000;
    let d = b.alloc_device(c, n, 0);
    let mut size = 1;
    while size <= 128 {
        let pat = pattern(size, size as u8);
        let r = b.run(c, 0, |l| {
            ok!(
                b,
                zeCommandListAppendMemoryFill(
                    l,
                    d.cast(),
                    pat.as_ptr().cast(),
                    size,
                    n,
                    NULL_EVENT,
                    0,
                    NO_WAITS
                )
            );
        });
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        let got = b.download(c, d, n);
        for (i, &x) in got.iter().enumerate() {
            assert_eq!(x, pat[i % size], "pattern size {size}, byte {i}");
        }
        size *= 2;
    }
    let l = b.list(c, 0);
    let pat = [0u8; 256];
    for bad in [0usize, 3, 6, 256] {
        fails!(
            ZE_RESULT_ERROR_INVALID_SIZE,
            b,
            zeCommandListAppendMemoryFill(
                l,
                d.cast(),
                pat.as_ptr().cast(),
                bad,
                64,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    }
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendMemoryFill(
            l,
            d.cast(),
            pat.as_ptr().cast(),
            4,
            n + 4,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendMemoryFill(l, d.cast(), null(), 4, 64, NULL_EVENT, 0, NO_WAITS)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendMemoryFill(
            l,
            null_mut(),
            pat.as_ptr().cast(),
            4,
            64,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            d.cast(),
            pat.as_ptr().cast(),
            4,
            0,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListDestroy(l));
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
}

fn immediate_lists(b: &Backend) {
    let c = b.context();
    // Under Miri, which checks every byte copied, 4 KiB.
    let n = if cfg!(miri) { 4 << 10 } else { 1 << 16 };
    let data = pattern(n, 3);
    let d = b.alloc_device(c, n, 1);
    let l = b.immediate(c, 1);
    let mut out = vec![0u8; n];
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            d.cast(),
            data.as_ptr().cast(),
            n,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            out.as_mut_ptr().cast(),
            d.cast(),
            n,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    b.finish(c, l);
    assert!(out == data);
    // Timestamps written by the device's clock.
    let ts = b.alloc_host(c, 16).cast::<u64>();
    let (mut host, mut dev) = (0u64, 0u64);
    ok!(
        b,
        zeDeviceGetGlobalTimestamps(b.devices[1], &mut host, &mut dev)
    );
    ok!(
        b,
        zeCommandListAppendWriteGlobalTimestamp(l, ts, NULL_EVENT, 0, NO_WAITS)
    );
    // SAFETY: inside the 16-byte allocation.
    let second = unsafe { ts.add(1) };
    ok!(
        b,
        zeCommandListAppendWriteGlobalTimestamp(l, second, NULL_EVENT, 0, NO_WAITS)
    );
    b.finish(c, l);
    // SAFETY: a live host allocation of two u64.
    let (t0, t1) = unsafe { (ts.read(), second.read()) };
    assert!(dev <= t0 && t0 <= t1, "{dev} {t0} {t1}");
    // SAFETY: the last 8 bytes would overrun.
    let past = unsafe { ts.cast::<u8>().add(9).cast::<u64>() };
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendWriteGlobalTimestamp(l, past, NULL_EVENT, 0, NO_WAITS)
    );
    // Synchronous mode: the append returns when the work is done.
    let desc = Backend::queue_desc(
        2,
        1,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS,
    );
    let mut sync = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(c, b.devices[1], &desc, &mut sync)
    );
    let zeros = vec![0u8; n];
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            sync,
            out.as_mut_ptr().cast(),
            zeros.as_ptr().cast(),
            n,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    assert!(out.iter().all(|&x| x == 0));
    // Immediate lists are not closed and executed.
    let q = b.queue(c, 1);
    let mut lists = [l];
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueExecuteCommandLists(q, 1, lists.as_mut_ptr(), null_mut())
    );
    if b.api.is_present("zeCommandListIsImmediate") == Some(true) {
        let mut imm = 0;
        ok!(b, zeCommandListIsImmediate(l, &mut imm));
        assert_eq!(imm, 1);
        let mut dh = null_mut();
        ok!(b, zeCommandListGetDeviceHandle(l, &mut dh));
        assert_eq!(dh, b.devices[1]);
    }
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeCommandListDestroy(sync));
    ok!(b, zeCommandListDestroy(l));
    b.free(c, ts.cast());
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
}

fn queues_and_lists(b: &Backend) {
    let c = b.context();
    let dev = b.devices[0];
    let mut q = null_mut();
    let bad = [(3, 0), (0, 1), (1, 1), (2, 8)];
    for (ordinal, index) in bad {
        let desc = Backend::queue_desc(
            ordinal,
            index,
            ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_DEFAULT,
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandQueueCreate(c, dev, &desc, &mut q)
        );
    }
    let mut desc =
        Backend::queue_desc(0, 0, ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_DEFAULT);
    desc.mode = ze_command_queue_mode_t(7);
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeCommandQueueCreate(c, dev, &desc, &mut q)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandQueueCreate(c, dev, null(), &mut q)
    );
    let ldesc = ze_command_list_desc_t {
        commandQueueGroupOrdinal: 5,
        ..Default::default()
    };
    let mut l = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListCreate(c, dev, &ldesc, &mut l)
    );

    // A link copy queue (ordinal 2, index 1) runs copy lists, and refuses compute lists.
    let copy_desc = Backend::queue_desc(
        2,
        1,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
    );
    let mut copy_q = null_mut();
    ok!(b, zeCommandQueueCreate(c, dev, &copy_desc, &mut copy_q));
    let compute_list = b.list(c, 0);
    let copy_list = b.list_on(c, 0, 2);
    ok!(b, zeCommandListClose(compute_list));
    let mut lists = [compute_list];
    fails!(
        ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE,
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 1, lists.as_mut_ptr(), null_mut())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 0, lists.as_mut_ptr(), null_mut())
    );
    // (The loader's handle wrapping answers INVALID_ARGUMENT itself for a null array.)
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_POINTER,
            b,
            zeCommandQueueExecuteCommandLists(copy_q, 1, null_mut(), null_mut())
        );
    }

    // An open list cannot be executed; a closed one cannot be appended to; reset reopens.
    let n = 4096;
    let d = b.alloc_device(c, n, 0);
    let one = [1u8];
    let mut lists = [copy_list];
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 1, lists.as_mut_ptr(), null_mut())
    );
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            copy_list,
            d.cast(),
            one.as_ptr().cast(),
            1,
            n,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(copy_list));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendBarrier(copy_list, NULL_EVENT, 0, NO_WAITS)
    );
    // The same list executed twice, in one call and in another.
    let mut twice = [copy_list, copy_list];
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 2, twice.as_mut_ptr(), null_mut())
    );
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 1, lists.as_mut_ptr(), null_mut())
    );
    ok!(b, zeCommandQueueSynchronize(copy_q, u64::MAX));
    assert!(b.download(c, d, n).iter().all(|&x| x == 1));
    // A copy list of the main copy engine (ordinal 1) runs on a link copy queue (ordinal 2):
    // engine types must match, not ordinals (as Intel's driver; Unified Runtime relies on it).
    // A copy-only list on the compute queue is refused.
    let main_copy_list = b.list_on(c, 0, 1);
    let three = [3u8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            main_copy_list,
            d.cast(),
            three.as_ptr().cast(),
            1,
            n,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(main_copy_list));
    let mut main_copy = [main_copy_list];
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 1, main_copy.as_mut_ptr(), null_mut())
    );
    ok!(b, zeCommandQueueSynchronize(copy_q, u64::MAX));
    assert!(b.download(c, d, n).iter().all(|&x| x == 3));
    let compute_q = b.queue(c, 0);
    fails!(
        ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE,
        b,
        zeCommandQueueExecuteCommandLists(compute_q, 1, main_copy.as_mut_ptr(), null_mut())
    );
    ok!(b, zeCommandQueueDestroy(compute_q));
    ok!(b, zeCommandListDestroy(main_copy_list));
    ok!(b, zeCommandListReset(copy_list));
    let two = [2u8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            copy_list,
            d.cast(),
            two.as_ptr().cast(),
            1,
            n,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(copy_list));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 1, lists.as_mut_ptr(), null_mut())
    );
    ok!(b, zeCommandQueueSynchronize(copy_q, u64::MAX));
    assert!(b.download(c, d, n).iter().all(|&x| x == 2));
    // Lists of another device are refused.
    let other = b.list_on(c, 1, 1);
    ok!(b, zeCommandListClose(other));
    let mut others = [other];
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueExecuteCommandLists(copy_q, 1, others.as_mut_ptr(), null_mut())
    );
    // Regular lists have no host synchronisation.
    if b.has("zeCommandListHostSynchronize") {
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListHostSynchronize(copy_list, 0)
        );
    }

    // Many submissions run in order: each adds a step that depends on the previous one.
    let q = b.queue(c, 0);
    let steps = 20;
    let mut step_lists = Vec::new();
    for i in 0..steps {
        let l = b.list(c, 0);
        let v = [i as u8];
        ok!(
            b,
            zeCommandListAppendMemoryFill(
                l,
                d.cast(),
                v.as_ptr().cast(),
                1,
                n / 2,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        // SAFETY: the second half of the allocation.
        let half = unsafe { d.add(n / 2) };
        ok!(
            b,
            zeCommandListAppendMemoryCopy(l, half.cast(), d.cast(), n / 2, NULL_EVENT, 0, NO_WAITS)
        );
        ok!(b, zeCommandListClose(l));
        step_lists.push(l);
    }
    for l in &step_lists {
        let mut one = [*l];
        ok!(
            b,
            zeCommandQueueExecuteCommandLists(q, 1, one.as_mut_ptr(), null_mut())
        );
    }
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    assert!(b.download(c, d, n).iter().all(|&x| x == steps as u8 - 1));
    if b.api.is_present("zeCommandQueueGetOrdinal") == Some(true) {
        let mut o = 9;
        ok!(b, zeCommandQueueGetOrdinal(copy_q, &mut o));
        assert_eq!(o, 2);
    }
    for l in step_lists {
        ok!(b, zeCommandListDestroy(l));
    }
    for l in [compute_list, copy_list, other] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeCommandQueueDestroy(copy_q));
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
}

fn events(b: &Backend) {
    let c = b.context();
    let mut pool = null_mut();
    let zero = ze_event_pool_desc_t {
        count: 0,
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeEventPoolCreate(c, &zero, 0, null_mut(), &mut pool)
    );
    let bad = ze_event_pool_desc_t {
        count: 1,
        flags: 0x100,
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeEventPoolCreate(c, &bad, 0, null_mut(), &mut pool)
    );
    let one = ze_event_pool_desc_t {
        count: 1,
        ..Default::default()
    };
    // (The loader's handle wrapping answers INVALID_ARGUMENT itself for a null array.)
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_SIZE,
            b,
            zeEventPoolCreate(c, &one, 2, null_mut(), &mut pool)
        );
    }
    let mut devs = b.devices.clone();
    ok!(
        b,
        zeEventPoolCreate(c, &one, 2, devs.as_mut_ptr(), &mut pool)
    );
    ok!(b, zeEventPoolDestroy(pool));

    let pool = b.event_pool(c, 4, 0);
    let mut e = null_mut();
    let desc = ze_event_desc_t {
        index: 4,
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventCreate(pool, &desc, &mut e)
    );
    let e0 = b.event(pool, 0);
    let e1 = b.event(pool, 1);
    // The pool cannot go while its events live.
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeEventPoolDestroy(pool)
    );

    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e0));
    ok!(b, zeEventHostSignal(e0));
    ok!(b, zeEventQueryStatus(e0));
    ok!(b, zeEventHostSynchronize(e0, 0));
    ok!(b, zeEventHostReset(e0));
    fails!(ZE_RESULT_NOT_READY, b, zeEventHostSynchronize(e0, 0));

    // Commands signal, wait for and reset events, in order.
    let n = 1 << 12;
    let d = b.alloc_device(c, n, 0);
    let data = pattern(n, 5);
    let mut out = vec![0u8; n];
    let l = b.immediate(c, 0);
    let mut waits = [e0];
    // The copy out waits for e0, which the host signals later.
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            d.cast(),
            data.as_ptr().cast(),
            n,
            NULL_EVENT,
            1,
            waits.as_mut_ptr()
        )
    );
    ok!(
        b,
        zeCommandListAppendMemoryCopy(l, out.as_mut_ptr().cast(), d.cast(), n, e1, 0, NO_WAITS)
    );
    std::thread::sleep(Duration::from_millis(20));
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e1));
    if b.has("zeCommandListHostSynchronize") {
        fails!(ZE_RESULT_NOT_READY, b, zeCommandListHostSynchronize(l, 0));
    }
    ok!(b, zeEventHostSignal(e0));
    ok!(b, zeEventHostSynchronize(e1, u64::MAX));
    assert!(out == data);
    ok!(b, zeCommandListAppendEventReset(l, e1));
    b.finish(c, l);
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e1));
    ok!(b, zeCommandListAppendSignalEvent(l, e1));
    ok!(b, zeEventHostSynchronize(e1, u64::MAX));
    let mut both = [e0, e1];
    ok!(b, zeCommandListAppendWaitOnEvents(l, 2, both.as_mut_ptr()));
    ok!(
        b,
        zeCommandListAppendBarrier(l, NULL_EVENT, 2, both.as_mut_ptr())
    );
    b.finish(c, l);
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeCommandListAppendSignalEvent(l, null_mut())
        );
    }
    let mut with_null = [e0, null_mut()];
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeCommandListAppendWaitOnEvents(l, 2, with_null.as_mut_ptr())
        );
    }
    ok!(b, zeCommandListDestroy(l));
    b.free(c, d);
    ok!(b, zeEventDestroy(e0));
    ok!(b, zeEventDestroy(e1));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
}

fn event_timeouts_and_cross_thread_signal(b: &Backend) {
    let c = b.context();
    let pool = b.event_pool(c, 1, 0);
    let e = b.event(pool, 0);
    let t = Instant::now();
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeEventHostSynchronize(e, 30_000_000)
    );
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(30) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // A waiter with no limit is woken by a signal from another thread.
    let raw = e as usize;
    let t = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(30));
            ok!(b, zeEventHostSignal(raw as ze_event_handle_t));
        });
        ok!(b, zeEventHostSynchronize(e, u64::MAX));
    });
    assert!(t.elapsed() >= Duration::from_millis(30));
    // A queue waiting on an unsignalled event: synchronize times out, then completes.
    ok!(b, zeEventHostReset(e));
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    let mut waits = [e];
    ok!(
        b,
        zeCommandListAppendBarrier(l, NULL_EVENT, 1, waits.as_mut_ptr())
    );
    ok!(b, zeCommandListClose(l));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    fails!(ZE_RESULT_NOT_READY, b, zeCommandQueueSynchronize(q, 0));
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeCommandQueueSynchronize(q, 10_000_000)
    );
    ok!(b, zeEventHostSignal(e));
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
}

fn kernel_timestamps(b: &Backend) {
    let c = b.context();
    let pool = b.event_pool(
        c,
        2,
        ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0,
    );
    let e = b.event(pool, 0);
    let mut ts = ze_kernel_timestamp_result_t::default();
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeEventQueryKernelTimestamp(e, &mut ts)
    );
    let n = 8 << 20;
    let d = b.alloc_device(c, n, 0);
    let pat = [0x5au8; 4];
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendMemoryFill(l, d.cast(), pat.as_ptr().cast(), 4, n, e, 0, NO_WAITS)
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    ok!(b, zeEventQueryKernelTimestamp(e, &mut ts));
    assert!(ts.global.kernelStart <= ts.global.kernelEnd);
    assert!(
        ts.global.kernelEnd > ts.global.kernelStart,
        "filling 8 MiB takes time"
    );
    assert_eq!(ts.context.kernelStart, ts.global.kernelStart);
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeEventQueryKernelTimestamp(e, null_mut())
    );
    // Pools without the flag have no kernel timestamps.
    let plain = b.event_pool(c, 1, 0);
    let pe = b.event(plain, 0);
    ok!(b, zeEventHostSignal(pe));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventQueryKernelTimestamp(pe, &mut ts)
    );
    ok!(b, zeEventDestroy(pe));
    ok!(b, zeEventPoolDestroy(plain));
    b.free(c, d);
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
}

fn fences(b: &Backend) {
    let c = b.context();
    let q = b.queue(c, 0);
    let mut f = null_mut();
    let desc = ze_fence_desc_t::default();
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeFenceCreate(q, null(), &mut f)
    );
    let bad = ze_fence_desc_t {
        flags: 0x10,
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeFenceCreate(q, &bad, &mut f)
    );
    ok!(b, zeFenceCreate(q, &desc, &mut f));
    fails!(ZE_RESULT_NOT_READY, b, zeFenceQueryStatus(f));
    fails!(ZE_RESULT_NOT_READY, b, zeFenceHostSynchronize(f, 5_000_000));

    let pool = b.event_pool(c, 1, 0);
    let gate = b.event(pool, 0);
    let mut l = b.list(c, 0);
    let mut waits = [gate];
    ok!(
        b,
        zeCommandListAppendBarrier(l, NULL_EVENT, 1, waits.as_mut_ptr())
    );
    ok!(b, zeCommandListClose(l));
    ok!(b, zeCommandQueueExecuteCommandLists(q, 1, &mut l, f));
    fails!(ZE_RESULT_NOT_READY, b, zeFenceHostSynchronize(f, 0));
    ok!(b, zeEventHostSignal(gate));
    ok!(b, zeFenceHostSynchronize(f, u64::MAX));
    ok!(b, zeFenceQueryStatus(f));
    ok!(b, zeFenceReset(f));
    fails!(ZE_RESULT_NOT_READY, b, zeFenceQueryStatus(f));
    ok!(b, zeCommandQueueExecuteCommandLists(q, 1, &mut l, f));
    ok!(b, zeFenceHostSynchronize(f, u64::MAX));

    // Created signalled.
    let sdesc = ze_fence_desc_t {
        flags: ze_fence_flag_t::ZE_FENCE_FLAG_SIGNALED.0,
        ..Default::default()
    };
    let mut fs = null_mut();
    ok!(b, zeFenceCreate(q, &sdesc, &mut fs));
    ok!(b, zeFenceQueryStatus(fs));
    // A fence of another queue is refused.
    let q2 = b.queue(c, 0);
    fails!(
        ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT,
        b,
        zeCommandQueueExecuteCommandLists(q2, 1, &mut l, f)
    );
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    ok!(b, zeFenceDestroy(fs));
    ok!(b, zeFenceDestroy(f));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q2));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
}

fn residency(b: &Backend) {
    let c = b.context();
    let n = 1 << 20;
    let d0 = b.alloc_device(c, n, 0);
    let before = [b.residency(b.devices[0]), b.residency(b.devices[1])];
    // Resident on device 1 only: device 0 is never told.
    ok!(
        b,
        zeContextMakeMemoryResident(c, b.devices[1], d0.cast(), n)
    );
    let r0 = b.residency(b.devices[0]);
    let r1 = b.residency(b.devices[1]);
    assert_eq!(r0.make_resident_calls, before[0].make_resident_calls);
    assert_eq!(r1.make_resident_calls, before[1].make_resident_calls + 1);
    assert_eq!((r1.resident_ranges, r1.resident_bytes), (1, n as u64));
    assert_eq!(r0.resident_ranges, 0);
    assert_eq!(r0.allocated_bytes, n as u64);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeContextMakeMemoryResident(c, b.devices[0], d0.cast(), n + 1)
    );
    let local = 0u64;
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeContextMakeMemoryResident(c, b.devices[0], (&raw const local).cast_mut().cast(), 8)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeContextMakeMemoryResident(c, b.devices[0], null_mut(), 8)
    );
    ok!(b, zeContextEvictMemory(c, b.devices[1], d0.cast(), n));
    let r1 = b.residency(b.devices[1]);
    assert_eq!(
        (r1.resident_ranges, r1.evict_calls),
        (0, before[1].evict_calls + 1)
    );
    // Freeing forgets residency.
    ok!(
        b,
        zeContextMakeMemoryResident(c, b.devices[0], d0.cast(), 4096)
    );
    assert_eq!(b.residency(b.devices[0]).resident_ranges, 1);
    b.free(c, d0);
    assert_eq!(b.residency(b.devices[0]).resident_ranges, 0);
    ok!(b, zeContextDestroy(c));
}

fn build_log_text(b: &Backend, log: ze_module_build_log_handle_t) -> String {
    let mut size = 0;
    ok!(b, zeModuleBuildLogGetString(log, &mut size, null_mut()));
    let mut buf = vec![0i8; size];
    ok!(
        b,
        zeModuleBuildLogGetString(log, &mut size, buf.as_mut_ptr())
    );
    cstr(&buf)
}

/// A minimal SPIR-V header (enough to reach the engine).
const SPIRV: [u32; 5] = [0x0723_0203, 0x0001_0000, 0, 1, 0];

fn modules_with_the_stub_engine(b: &Backend) {
    let c = b.context();
    let dev = b.devices[0];
    let mut desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: 20,
        pInputModule: SPIRV.as_ptr().cast(),
        pBuildFlags: c"-ze-opt-disable".as_ptr(),
        ..Default::default()
    };
    // Loader 1.8.12 with handle wrapping returns the build log of a failed build unwrapped
    // (it wraps handles only on success), and crashes when it is used: ask for build logs of
    // failing builds only when handles are not wrapped.
    let want_log = b.direct_handles();
    let (mut m, mut log) = (null_mut(), null_mut());
    let plog: *mut ze_module_build_log_handle_t = if want_log { &mut log } else { null_mut() };
    let r = ze!(b, zeModuleCreate(c, dev, &desc, &mut m, plog));
    // With the engine's stub the build fails with its log; once the engine lands it builds.
    if r == ze_result_t::ZE_RESULT_ERROR_MODULE_BUILD_FAILURE {
        assert!(m.is_null());
        if want_log {
            assert!(!log.is_null());
            assert!(!build_log_text(b, log).is_empty());
            ok!(b, zeModuleBuildLogDestroy(log));
        }
    } else {
        if want_log {
            ok!(b, zeModuleBuildLogDestroy(log));
        }
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeModuleDestroy(m));
        }
    }
    // Native binaries: refused, with a log that says why.
    desc.format = ze_module_format_t::ZE_MODULE_FORMAT_NATIVE;
    fails!(
        ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
        b,
        zeModuleCreate(c, dev, &desc, &mut m, plog)
    );
    if want_log {
        let text = build_log_text(b, log);
        assert!(text.contains("native"), "{text}");
        // A short buffer gets a truncated, terminated string.
        let mut size = 8;
        let mut buf = [1i8; 8];
        ok!(
            b,
            zeModuleBuildLogGetString(log, &mut size, buf.as_mut_ptr())
        );
        assert_eq!(buf[7], 0);
        ok!(b, zeModuleBuildLogDestroy(log));
    }
    // No build log asked for.
    fails!(
        ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
        b,
        zeModuleCreate(c, dev, &desc, &mut m, null_mut())
    );
    desc.format = ze_module_format_t(9);
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeModuleCreate(c, dev, &desc, &mut m, null_mut())
    );
    desc.format = ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV;
    desc.inputSize = 0;
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeModuleCreate(c, dev, &desc, &mut m, null_mut())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeModuleCreate(c, dev, null(), &mut m, null_mut())
    );
    // Kernel entry points check their handles.
    let kdesc = ze_kernel_desc_t {
        pKernelName: c"k".as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeKernelCreate(null_mut(), &kdesc, &mut k)
        );
    }
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeKernelSetArgumentValue(null_mut(), 0, 8, null())
        );
    }
    let mut props = ze_kernel_properties_t::default();
    // Through handle wrapping, a null handle reaches the loader, which dereferences it.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeKernelGetProperties(null_mut(), &mut props)
        );
    }
    ok!(b, zeContextDestroy(c));
}

fn fault_alloc_failure(b: &Backend) {
    let c = b.context();
    let first = b.alloc_device(c, 64, 0);
    let desc = ze_device_mem_alloc_desc_t::default();
    let mut p = null_mut();
    fails!(
        ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
        b,
        zeMemAllocDevice(c, &desc, 64, 0, b.devices[0], &mut p)
    );
    let third = b.alloc_host(c, 64);
    b.free(c, first);
    b.free(c, third);
    ok!(b, zeContextDestroy(c));
}

fn fault_device_lost(b: &Backend) {
    let c = b.context();
    let d = b.alloc_device(c, 4096, 0);
    let pool = b.event_pool(c, 1, 0);
    let e = b.event(pool, 0);
    let q = b.queue(c, 0);
    let mut f = null_mut();
    ok!(b, zeFenceCreate(q, &ze_fence_desc_t::default(), &mut f));
    let mut l = b.list(c, 0);
    let v = [3u8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(l, d.cast(), v.as_ptr().cast(), 1, 4096, e, 0, NO_WAITS)
    );
    ok!(b, zeCommandListClose(l));
    // Two submissions run (the limit is 2)...
    for _ in 0..2 {
        ok!(
            b,
            zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
        );
        ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    }
    ok!(b, zeDeviceGetStatus(b.devices[0]));
    // ...the third is accepted but the device is lost running it.
    ok!(b, zeEventHostReset(e));
    ok!(b, zeCommandQueueExecuteCommandLists(q, 1, &mut l, f));
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeDeviceGetStatus(b.devices[0])
    );
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeFenceHostSynchronize(f, u64::MAX)
    );
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeEventHostSynchronize(e, u64::MAX)
    );
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    fails!(ZE_RESULT_ERROR_DEVICE_LOST, b, zeContextGetStatus(c));
    let imm = b.immediate(c, 0);
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeCommandListAppendBarrier(imm, NULL_EVENT, 0, NO_WAITS)
    );
    if b.has("zeCommandListHostSynchronize") {
        fails!(
            ZE_RESULT_ERROR_DEVICE_LOST,
            b,
            zeCommandListHostSynchronize(imm, 0)
        );
    }
    // The other device is fine, and everything can still be destroyed.
    ok!(b, zeDeviceGetStatus(b.devices[1]));
    ok!(b, zeCommandListDestroy(imm));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeFenceDestroy(f));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
}

fn fault_module_build(b: &Backend) {
    let c = b.context();
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: 20,
        pInputModule: SPIRV.as_ptr().cast(),
        ..Default::default()
    };
    let (mut m, mut log) = (null_mut(), null_mut());
    // See modules_with_the_stub_engine: no build log of a failed build through handle wrapping.
    let plog: *mut ze_module_build_log_handle_t = if b.direct_handles() {
        &mut log
    } else {
        null_mut()
    };
    fails!(
        ZE_RESULT_ERROR_MODULE_BUILD_FAILURE,
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, plog)
    );
    if b.direct_handles() {
        let text = build_log_text(b, log);
        assert!(text.contains("LEVEL_ZERO_CPU_FAIL_MODULE_BUILD"), "{text}");
        ok!(b, zeModuleBuildLogDestroy(log));
    }
    ok!(b, zeContextDestroy(c));
}

fn fault_null_extension_function(b: &Backend) {
    // Advertised, found, and NULL: the driver bug users hit.
    assert!(
        b.extensions()
            .iter()
            .any(|e| e == "ZE_extension_device_vector_sizes")
    );
    assert_eq!(
        b.extension_function(c"zeDeviceGetVectorWidthPropertiesExt"),
        Ok(null_mut())
    );
}

fn hidden_extension(b: &Backend) {
    assert!(
        !b.extensions()
            .iter()
            .any(|e| e == "ZE_extension_device_vector_sizes")
    );
    assert_eq!(
        b.extension_function(c"zeDeviceGetVectorWidthPropertiesExt"),
        Err(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT)
    );
    assert!(b.extensions().iter().any(|e| e == "ZEX_cpu_driver_testing"));
}

fn p2p_off(b: &Backend) {
    let mut can = 1;
    ok!(
        b,
        zeDeviceCanAccessPeer(b.devices[0], b.devices[1], &mut can)
    );
    assert_eq!(can, 0);
    ok!(
        b,
        zeDeviceCanAccessPeer(b.devices[0], b.devices[0], &mut can)
    );
    assert_eq!(can, 1);
    let mut p = ze_device_p2p_properties_t::default();
    ok!(
        b,
        zeDeviceGetP2PProperties(b.devices[1], b.devices[0], &mut p)
    );
    assert_eq!(p.flags, 0);
    // Copies between devices still work (staged through the host, as real drivers do).
    let c = b.context();
    let data = pattern(4096, 2);
    let d0 = b.alloc_device(c, 4096, 0);
    let d1 = b.alloc_device(c, 4096, 1);
    b.upload(c, d0, &data);
    let r = b.run(c, 1, |l| {
        ok!(
            b,
            zeCommandListAppendMemoryCopy(l, d1.cast(), d0.cast(), 4096, NULL_EVENT, 0, NO_WAITS)
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(b.download(c, d1, 4096), data);
    b.free(c, d0);
    b.free(c, d1);
    ok!(b, zeContextDestroy(c));
}

fn three_devices(b: &Backend) {
    assert_eq!(b.devices.len(), 3);
    let mut p = ze_device_properties_t::default();
    ok!(b, zeDeviceGetProperties(b.devices[2], &mut p));
    assert!(cstr(&p.name).starts_with("level-zero-cpu device 2"));
    // A context over a subset of the devices.
    if b.api.is_present("zeContextCreateEx") == Some(true) {
        let mut devs = [b.devices[2]];
        let mut c = null_mut();
        ok!(
            b,
            zeContextCreateEx(
                b.driver,
                &ze_context_desc_t::default(),
                1,
                devs.as_mut_ptr(),
                &mut c
            )
        );
        let desc = ze_device_mem_alloc_desc_t::default();
        let mut m = null_mut();
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeMemAllocDevice(c, &desc, 64, 0, b.devices[0], &mut m)
        );
        ok!(b, zeMemAllocDevice(c, &desc, 64, 0, b.devices[2], &mut m));
        ok!(b, zeMemFree(c, m));
        ok!(b, zeContextDestroy(c));
    }
}

fn concurrent_threads(b: &Backend) {
    let c = b.context();
    let threads = 4;
    // Under Miri, which interleaves the threads and checks every byte copied, fewer and
    // smaller rounds.
    let (rounds, n) = if cfg!(miri) {
        (2, 4 << 10)
    } else {
        (10, 64 << 10)
    };
    std::thread::scope(|s| {
        for t in 0..threads {
            let c = c as usize;
            s.spawn(move || {
                let c = c as ze_context_handle_t;
                let device = t % 2;
                let d = b.alloc_device(c, n, device);
                let l = b.immediate(c, device);
                for r in 0..rounds {
                    let data = pattern(n, (t * rounds + r) as u8);
                    let mut out = vec![0u8; n];
                    ok!(
                        b,
                        zeCommandListAppendMemoryCopy(
                            l,
                            d.cast(),
                            data.as_ptr().cast(),
                            n,
                            NULL_EVENT,
                            0,
                            NO_WAITS
                        )
                    );
                    ok!(
                        b,
                        zeCommandListAppendMemoryCopy(
                            l,
                            out.as_mut_ptr().cast(),
                            d.cast(),
                            n,
                            NULL_EVENT,
                            0,
                            NO_WAITS
                        )
                    );
                    b.finish(c, l);
                    assert!(out == data);
                }
                ok!(b, zeCommandListDestroy(l));
                b.free(c, d);
            });
        }
    });
    ok!(b, zeContextDestroy(c));
}

fn device_props(b: &Backend, d: ze_device_handle_t) -> ze_device_properties_t {
    let mut p = ze_device_properties_t::default();
    ok!(b, zeDeviceGetProperties(d, &mut p));
    p
}

fn device_name(b: &Backend, d: ze_device_handle_t) -> String {
    cstr(&device_props(b, d).name)
}

fn is_sub_device(b: &Backend, d: ze_device_handle_t) -> bool {
    device_props(b, d).flags & ze_device_property_flag_t::ZE_DEVICE_PROPERTY_FLAG_SUBDEVICE.0 != 0
}

fn sub_devices(b: &Backend, d: ze_device_handle_t) -> Vec<ze_device_handle_t> {
    let mut n = 0;
    ok!(b, zeDeviceGetSubDevices(d, &mut n, null_mut()));
    let mut subs = vec![null_mut(); n as usize];
    ok!(b, zeDeviceGetSubDevices(d, &mut n, subs.as_mut_ptr()));
    assert_eq!(n as usize, subs.len());
    subs
}

/// `zeDeviceGetRootDevice`, when the loader has it.
fn root_device(b: &Backend, d: ze_device_handle_t) -> Option<ze_device_handle_t> {
    if b.api.is_present("zeDeviceGetRootDevice") != Some(true) {
        return None;
    }
    let mut root = null_mut();
    ok!(b, zeDeviceGetRootDevice(d, &mut root));
    Some(root)
}

fn memory_size(b: &Backend, d: ze_device_handle_t) -> u64 {
    let mut n = 1;
    let mut m = ze_device_memory_properties_t::default();
    ok!(b, zeDeviceGetMemoryProperties(d, &mut n, &mut m));
    m.totalSize
}

fn try_alloc(
    b: &Backend,
    c: ze_context_handle_t,
    d: ze_device_handle_t,
    size: usize,
) -> Result<*mut c_void, ze_result_t> {
    let desc = ze_device_mem_alloc_desc_t::default();
    let mut p = null_mut();
    match ze!(b, zeMemAllocDevice(c, &desc, size, 0, d, &mut p)) {
        ze_result_t::ZE_RESULT_SUCCESS => Ok(p),
        e => Err(e),
    }
}

/// A copy through an immediate list of `d`: the device runs work.
fn copy_on(b: &Backend, c: ze_context_handle_t, d: ze_device_handle_t) {
    let desc = Backend::queue_desc(
        0,
        0,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS,
    );
    let mut l = null_mut();
    ok!(b, zeCommandListCreateImmediate(c, d, &desc, &mut l));
    let m = try_alloc(b, c, d, 256).expect("a small allocation");
    let data = pattern(256, 3);
    let mut out = vec![0u8; 256];
    ok!(
        b,
        zeCommandListAppendMemoryCopy(l, m, data.as_ptr().cast(), 256, NULL_EVENT, 0, NO_WAITS)
    );
    ok!(
        b,
        zeCommandListAppendMemoryCopy(l, out.as_mut_ptr().cast(), m, 256, NULL_EVENT, 0, NO_WAITS)
    );
    assert_eq!(out, data);
    ok!(b, zeMemFree(c, m));
    ok!(b, zeCommandListDestroy(l));
}

/// `ZE_AFFINITY_MASK=1`: only the second device is visible (the loader 1.8.12 does not read
/// the mask: the driver applies it, once).
fn affinity_mask_hides_devices(b: &Backend) {
    assert_eq!(b.devices.len(), 1);
    assert!(device_name(b, b.devices[0]).starts_with("level-zero-cpu device 1 "));
    assert!(sub_devices(b, b.devices[0]).is_empty());
    let c = b.context();
    copy_on(b, c, b.devices[0]);
    ok!(b, zeContextDestroy(c));
}

/// Two cards of two tiles, `FLAT` (the default hierarchy): four root devices, each with half
/// a card's memory, none with sub-devices.
fn flat_hierarchy_tiles_are_root_devices(b: &Backend) {
    assert_eq!(b.devices.len(), 4);
    let names: Vec<String> = b.devices.iter().map(|&d| device_name(b, d)).collect();
    for (i, expected) in ["0.0", "0.1", "1.0", "1.1"].iter().enumerate() {
        assert!(
            names[i].starts_with(&format!("level-zero-cpu device {expected} ")),
            "{names:?}"
        );
    }
    let uuids: std::collections::HashSet<[u8; 16]> = b
        .devices
        .iter()
        .map(|&d| device_props(b, d).uuid.id)
        .collect();
    assert_eq!(uuids.len(), 4);
    let c = b.context();
    for &d in &b.devices {
        assert!(!is_sub_device(b, d));
        assert!(sub_devices(b, d).is_empty());
        assert_eq!(root_device(b, d).unwrap_or(null_mut()), null_mut());
        assert_eq!(memory_size(b, d), 32 << 20);
        copy_on(b, c, d);
    }
    // Each tile has its own 32 MiB.
    let a = try_alloc(b, c, b.devices[0], 24 << 20).unwrap();
    assert_eq!(
        try_alloc(b, c, b.devices[0], 16 << 20),
        Err(ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY)
    );
    let other = try_alloc(b, c, b.devices[1], 24 << 20).unwrap();
    ok!(b, zeMemFree(c, a));
    ok!(b, zeMemFree(c, other));
    ok!(b, zeContextDestroy(c));
}

/// `COMPOSITE`: two cards, each with two sub-devices that report themselves as such; a
/// sub-device's allocations count against its card's memory too; a context over a card spans
/// its sub-devices; sub-devices run work.
fn composite_hierarchy_sub_devices(b: &Backend) {
    assert_eq!(b.devices.len(), 2);
    let card = b.devices[0];
    assert!(!is_sub_device(b, card));
    assert_eq!(root_device(b, card).unwrap_or(null_mut()), null_mut());
    assert_eq!(memory_size(b, card), 64 << 20);
    let tiles = sub_devices(b, card);
    assert_eq!(tiles.len(), 2);
    for (i, &t) in tiles.iter().enumerate() {
        let p = device_props(b, t);
        assert!(is_sub_device(b, t));
        assert_eq!(p.subdeviceId, i as u32);
        assert!(cstr(&p.name).starts_with(&format!("level-zero-cpu device 0.{i} ")));
        assert!(sub_devices(b, t).is_empty());
        if let Some(root) = root_device(b, t) {
            assert_eq!(root, card);
        }
        assert_eq!(memory_size(b, t), 32 << 20);
        // Tiles of one card reach each other's memory.
        let mut can = 0;
        ok!(b, zeDeviceCanAccessPeer(t, tiles[1 - i], &mut can));
        assert_eq!(can, 1);
    }
    // The same handles on every call.
    assert_eq!(sub_devices(b, card), tiles);
    let mut n = 1;
    let mut one = [null_mut()];
    ok!(b, zeDeviceGetSubDevices(card, &mut n, one.as_mut_ptr()));
    assert_eq!((n, one[0]), (1, tiles[0]));

    // Memory: 64 MiB per card, 32 MiB per tile.
    let c = b.context();
    let t0 = try_alloc(b, c, tiles[0], 24 << 20).unwrap();
    assert_eq!(
        try_alloc(b, c, tiles[0], 16 << 20),
        Err(ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY),
        "over the tile's half"
    );
    let t1 = try_alloc(b, c, tiles[1], 24 << 20).unwrap();
    assert_eq!(
        try_alloc(b, c, card, 24 << 20),
        Err(ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY),
        "the tiles' allocations count against the card"
    );
    let whole = try_alloc(b, c, card, 16 << 20).unwrap();
    // The other card is untouched.
    let other = try_alloc(b, c, b.devices[1], 32 << 20).unwrap();
    let mut props = ze_memory_allocation_properties_t::default();
    let mut owner = null_mut();
    ok!(b, zeMemGetAllocProperties(c, t1, &mut props, &mut owner));
    assert_eq!(owner, tiles[1]);
    ok!(b, zeMemFree(c, t0));
    let again = try_alloc(b, c, tiles[0], 24 << 20).unwrap();
    for p in [again, t1, whole, other] {
        ok!(b, zeMemFree(c, p));
    }
    for &t in &tiles {
        copy_on(b, c, t);
    }
    ok!(b, zeContextDestroy(c));

    // A context over the card spans its tiles.
    if b.api.is_present("zeContextCreateEx") == Some(true) {
        let mut devs = [card];
        let mut c = null_mut();
        ok!(
            b,
            zeContextCreateEx(
                b.driver,
                &ze_context_desc_t::default(),
                1,
                devs.as_mut_ptr(),
                &mut c
            )
        );
        copy_on(b, c, tiles[1]);
        assert_eq!(
            try_alloc(b, c, b.devices[1], 64),
            Err(ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT)
        );
        ok!(b, zeContextDestroy(c));
    }
}

/// `COMPOSITE` with `ZE_AFFINITY_MASK=1,0.1`: a lone tile of card 0 is a root device of its
/// own, listed first (the mask's order does not matter); card 1 keeps both its tiles.
fn composite_affinity_mask_picks_tiles(b: &Backend) {
    assert_eq!(b.devices.len(), 2);
    let lone = b.devices[0];
    assert!(device_name(b, lone).starts_with("level-zero-cpu device 0.1 "));
    assert!(!is_sub_device(b, lone));
    assert!(sub_devices(b, lone).is_empty());
    assert!(device_name(b, b.devices[1]).starts_with("level-zero-cpu device 1 "));
    assert_eq!(sub_devices(b, b.devices[1]).len(), 2);
}

/// `COMBINED` with `ZE_AFFINITY_MASK=3,0,1`: tiles 0, 1 (card 0) and 3 (card 1's second) are
/// listed; the two of card 0 are sub-devices of it, reached with `zeDeviceGetRootDevice`;
/// card 1's lone tile is a plain root device.
fn combined_hierarchy_tiles_with_root_devices(b: &Backend) {
    assert_eq!(b.devices.len(), 3);
    let names: Vec<String> = b.devices.iter().map(|&d| device_name(b, d)).collect();
    for (i, expected) in ["0.0", "0.1", "1.1"].iter().enumerate() {
        assert!(
            names[i].starts_with(&format!("level-zero-cpu device {expected} ")),
            "{names:?}"
        );
    }
    for i in 0..2 {
        let t = b.devices[i];
        assert!(is_sub_device(b, t));
        assert_eq!(device_props(b, t).subdeviceId, i as u32);
        assert!(sub_devices(b, t).is_empty());
    }
    assert!(!is_sub_device(b, b.devices[2]));
    if let Some(card) = root_device(b, b.devices[0]) {
        assert!(!card.is_null());
        assert_eq!(root_device(b, b.devices[1]), Some(card));
        assert_eq!(root_device(b, b.devices[2]), Some(null_mut()));
        assert_eq!(sub_devices(b, card), b.devices[..2].to_vec());
        assert!(device_name(b, card).starts_with("level-zero-cpu device 0 "));
        // The card is a device of its own: it runs work.
        let c = b.context();
        copy_on(b, c, card);
        ok!(b, zeContextDestroy(c));
    }
}

/// `LEVEL_ZERO_CPU_QUEUE_GROUPS=simple`: compute (no cooperative kernels) and one copy group
/// of two queues.
fn simple_queue_groups(b: &Backend) {
    let mut n = 0;
    ok!(
        b,
        zeDeviceGetCommandQueueGroupProperties(b.devices[0], &mut n, null_mut())
    );
    assert_eq!(n, 2);
    let mut g = vec![ze_command_queue_group_properties_t::default(); 2];
    ok!(
        b,
        zeDeviceGetCommandQueueGroupProperties(b.devices[0], &mut n, g.as_mut_ptr())
    );
    use ze_command_queue_group_property_flag_t as F;
    assert_eq!(
        g[0].flags,
        F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE.0
            | F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY.0
    );
    assert_eq!(
        (g[1].flags, g[1].numQueues),
        (F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY.0, 2)
    );
    let c = b.context();
    let mut q = null_mut();
    let desc = Backend::queue_desc(1, 1, ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_DEFAULT);
    ok!(b, zeCommandQueueCreate(c, b.devices[0], &desc, &mut q));
    ok!(b, zeCommandQueueDestroy(q));
    let desc = Backend::queue_desc(2, 0, ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_DEFAULT);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueCreate(c, b.devices[0], &desc, &mut q)
    );
    ok!(b, zeContextDestroy(c));
}

// Images and samplers.

/// An image descriptor: `layers` are the array levels of array types.
fn image_desc(
    ty: ze_image_type_t,
    layout: ze_image_format_layout_t,
    format_type: ze_image_format_type_t,
    extent: [u64; 3],
    layers: u32,
) -> ze_image_desc_t {
    use ze_image_format_swizzle_t as S;
    ze_image_desc_t {
        type_: ty,
        format: ze_image_format_t {
            layout,
            type_: format_type,
            x: S::ZE_IMAGE_FORMAT_SWIZZLE_R,
            y: S::ZE_IMAGE_FORMAT_SWIZZLE_G,
            z: S::ZE_IMAGE_FORMAT_SWIZZLE_B,
            w: S::ZE_IMAGE_FORMAT_SWIZZLE_A,
        },
        width: extent[0],
        height: extent[1] as u32,
        depth: extent[2] as u32,
        arraylevels: layers,
        ..Default::default()
    }
}

fn create_image(
    b: &Backend,
    c: ze_context_handle_t,
    device: usize,
    desc: &ze_image_desc_t,
) -> ze_image_handle_t {
    let mut h = null_mut();
    ok!(b, zeImageCreate(c, b.devices[device], desc, &mut h));
    assert!(!h.is_null());
    h
}

/// An image's texels as the test expects them: row-major, tightly packed, array layers as
/// y (1D arrays) or z (2D arrays), as copy regions address them.
struct Model {
    extent: [usize; 3],
    texel: usize,
    bytes: Vec<u8>,
}

impl Model {
    fn new(extent: [usize; 3], texel: usize) -> Model {
        Model {
            extent,
            texel,
            bytes: vec![0; extent.iter().product::<usize>() * texel],
        }
    }

    fn at(&self, x: usize, y: usize, z: usize) -> usize {
        ((z * self.extent[1] + y) * self.extent[0] + x) * self.texel
    }

    /// Writes a tightly packed region.
    fn write(&mut self, origin: [usize; 3], extent: [usize; 3], data: &[u8]) {
        let row = extent[0] * self.texel;
        for z in 0..extent[2] {
            for y in 0..extent[1] {
                let at = self.at(origin[0], origin[1] + y, origin[2] + z);
                let from = (z * extent[1] + y) * row;
                self.bytes[at..at + row].copy_from_slice(&data[from..from + row]);
            }
        }
    }

    /// Reads a region, tightly packed.
    fn read(&self, origin: [usize; 3], extent: [usize; 3]) -> Vec<u8> {
        let row = extent[0] * self.texel;
        let mut out = Vec::new();
        for z in 0..extent[2] {
            for y in 0..extent[1] {
                let at = self.at(origin[0], origin[1] + y, origin[2] + z);
                out.extend_from_slice(&self.bytes[at..at + row]);
            }
        }
        out
    }
}

fn region(origin: [usize; 3], extent: [usize; 3]) -> ze_image_region_t {
    ze_image_region_t {
        originX: origin[0] as u32,
        originY: origin[1] as u32,
        originZ: origin[2] as u32,
        width: extent[0] as u32,
        height: extent[1] as u32,
        depth: extent[2] as u32,
    }
}

fn images_of_every_type(b: &Backend) {
    use ze_image_format_layout_t as L;
    use ze_image_format_type_t as T;
    use ze_image_type_t as I;
    let c = b.context();
    let live = b.live();
    let used = b.residency(b.devices[1]).allocated_bytes;
    // (type, extent, layers, bytes of storage) with 4-byte texels.
    let cases = [
        (I::ZE_IMAGE_TYPE_1D, [64, 0, 0], 0, 64 * 4),
        (I::ZE_IMAGE_TYPE_1DARRAY, [64, 1, 1], 3, 64 * 3 * 4),
        (I::ZE_IMAGE_TYPE_2D, [16, 8, 1], 0, 16 * 8 * 4),
        (I::ZE_IMAGE_TYPE_2DARRAY, [16, 8, 1], 5, 16 * 8 * 5 * 4),
        (I::ZE_IMAGE_TYPE_3D, [8, 4, 6], 0, 8 * 4 * 6 * 4),
        // A buffer image's width is in bytes.
        (I::ZE_IMAGE_TYPE_BUFFER, [256, 0, 0], 0, 256),
    ];
    let mut images = Vec::new();
    let mut total = 0u64;
    for (ty, extent, layers, size) in cases {
        let desc = image_desc(
            ty,
            L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8,
            T::ZE_IMAGE_FORMAT_TYPE_UNORM,
            extent,
            layers,
        );
        let h = create_image(b, c, 1, &desc);
        total += size as u64;
        if b.has("zeImageGetMemoryPropertiesExp") {
            let mut props = ze_image_memory_properties_exp_t::default();
            ok!(b, zeImageGetMemoryPropertiesExp(h, &mut props));
            assert_eq!(props.size, size as u64, "{ty:?}");
            let row = if ty == I::ZE_IMAGE_TYPE_BUFFER {
                256
            } else {
                extent[0] * 4
            };
            assert_eq!(props.rowPitch, row, "{ty:?}");
        }
        images.push(h);
    }
    // Images count against their device's memory, and as live objects.
    assert_eq!(b.residency(b.devices[1]).allocated_bytes, used + total);
    assert_eq!(b.live().images, live.images + 6);
    if b.has("zeImageGetAllocPropertiesExt") {
        let mut ids = Vec::new();
        for &h in &images {
            let mut p = ze_image_allocation_ext_properties_t::default();
            ok!(b, zeImageGetAllocPropertiesExt(c, h, &mut p));
            assert!(p.id != 0 && !ids.contains(&p.id));
            ids.push(p.id);
        }
    }
    if b.has("zeContextMakeImageResident") {
        ok!(b, zeContextMakeImageResident(c, b.devices[1], images[0]));
        ok!(b, zeContextEvictImage(c, b.devices[1], images[0]));
    }
    for h in images {
        ok!(b, zeImageDestroy(h));
    }
    assert_eq!(b.residency(b.devices[1]).allocated_bytes, used);
    assert_eq!(b.live().images, live.images);
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeImageDestroy(null_mut())
        );
    }
    ok!(b, zeContextDestroy(c));
}

fn image_formats_and_properties(b: &Backend) {
    use ze_image_format_type_t as T;
    use ze_image_sampler_filter_flag_t as F;
    let d = b.devices[0];
    let point = F::ZE_IMAGE_SAMPLER_FILTER_FLAG_POINT.0;
    let linear = F::ZE_IMAGE_SAMPLER_FILTER_FLAG_LINEAR.0;
    // Layouts of 1 to 4 channels of 8, 16 or 32 bits: (layout, bits).
    let plain = [
        (0, 8),
        (1, 16),
        (2, 32),
        (3, 8),
        (4, 8),
        (5, 16),
        (6, 16),
        (7, 32),
        (8, 32),
        (43, 8),
        (44, 16),
        (45, 32),
    ];
    let c = b.context();
    let mut supported = 0;
    for layout in 0..=45u32 {
        for ty in 0..=4u32 {
            let desc = image_desc(
                ze_image_type_t::ZE_IMAGE_TYPE_2D,
                ze_image_format_layout_t(layout),
                T(ty),
                [4, 4, 1],
                0,
            );
            let bits = plain.iter().find(|p| p.0 == layout).map(|p| p.1);
            // No 8-bit float, no 32-bit normalised channels.
            let ok = !matches!(
                (bits, T(ty)),
                (None, _)
                    | (Some(8), T::ZE_IMAGE_FORMAT_TYPE_FLOAT)
                    | (
                        Some(32),
                        T::ZE_IMAGE_FORMAT_TYPE_UNORM | T::ZE_IMAGE_FORMAT_TYPE_SNORM
                    )
            );
            let mut props = ze_image_properties_t::default();
            let r = ze!(b, zeImageGetProperties(d, &desc, &mut props));
            let mut h = null_mut();
            let created = ze!(b, zeImageCreate(c, d, &desc, &mut h));
            if ok {
                assert_eq!(
                    r,
                    ze_result_t::ZE_RESULT_SUCCESS,
                    "layout {layout} type {ty}"
                );
                let integer = ty <= 1;
                let want = if integer { point } else { point | linear };
                assert_eq!(props.samplerFilterFlags, want, "layout {layout} type {ty}");
                assert_eq!(created, ze_result_t::ZE_RESULT_SUCCESS);
                ok!(b, zeImageDestroy(h));
                supported += 1;
            } else {
                assert_eq!(
                    (r, created),
                    (
                        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT,
                        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT
                    ),
                    "layout {layout} type {ty}"
                );
            }
        }
    }
    // 8-bit: 4 types, 16-bit: 5, 32-bit: 3; four layouts of each width.
    assert_eq!(supported, 4 * (4 + 5 + 3));
    // Values the specification does not define.
    let good = image_desc(
        ze_image_type_t::ZE_IMAGE_TYPE_2D,
        ze_image_format_layout_t::ZE_IMAGE_FORMAT_LAYOUT_32,
        T::ZE_IMAGE_FORMAT_TYPE_FLOAT,
        [4, 4, 1],
        0,
    );
    let mut props = ze_image_properties_t::default();
    let mut bad_layout = good;
    bad_layout.format.layout = ze_image_format_layout_t(46);
    let mut bad_type = good;
    bad_type.format.type_ = T(5);
    let mut bad_swizzle = good;
    bad_swizzle.format.z = ze_image_format_swizzle_t(7);
    let mut bad_flags = good;
    bad_flags.flags = 0x4;
    let mut bad_image_type = good;
    bad_image_type.type_ = ze_image_type_t(6);
    for desc in [bad_layout, bad_type, bad_swizzle, bad_flags, bad_image_type] {
        fails!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            b,
            zeImageGetProperties(d, &desc, &mut props)
        );
        let mut h = null_mut();
        fails!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            b,
            zeImageCreate(c, d, &desc, &mut h)
        );
    }
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeImageGetProperties(d, null(), &mut props)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeImageGetProperties(d, &good, null_mut())
    );
    ok!(b, zeContextDestroy(c));
}

/// Runs under GPU_LIKE_MEMORY: 64 MiB of device memory, 16 MiB per allocation.
fn image_descriptors_refused(b: &Backend) {
    use ze_image_format_layout_t as L;
    use ze_image_format_type_t as T;
    use ze_image_type_t as I;
    let c = b.context();
    let d = b.devices[0];
    let rgba8 = |ty, extent, layers| {
        image_desc(
            ty,
            L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8,
            T::ZE_IMAGE_FORMAT_TYPE_UINT,
            extent,
            layers,
        )
    };
    let mut h = null_mut();
    let refused = [
        // Zero extents.
        (
            rgba8(I::ZE_IMAGE_TYPE_1D, [0, 1, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_2D, [4, 0, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_3D, [4, 4, 0], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_1DARRAY, [4, 1, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_2DARRAY, [4, 4, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        // Beyond the device's image limits.
        (
            rgba8(I::ZE_IMAGE_TYPE_1D, [16385, 1, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_2D, [4, 16385, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_3D, [4, 4, 2049], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_2DARRAY, [4, 4, 1], 2049),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        (
            rgba8(I::ZE_IMAGE_TYPE_BUFFER, [(1 << 28) + 4, 1, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        // 64 MiB: beyond maxMemAllocSize.
        (
            rgba8(I::ZE_IMAGE_TYPE_2D, [4096, 4096, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        // A buffer image of 6 bytes of 4-byte texels.
        (
            rgba8(I::ZE_IMAGE_TYPE_BUFFER, [6, 1, 1], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        // Mipmaps.
        (
            ze_image_desc_t {
                miplevels: 2,
                ..rgba8(I::ZE_IMAGE_TYPE_2D, [4, 4, 1], 0)
            },
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        ),
    ];
    for (i, (desc, code)) in refused.iter().enumerate() {
        let r = ze!(b, zeImageCreate(c, d, desc, &mut h));
        assert_eq!(r, *code, "case {i}");
    }
    // A chained extension structure is refused, never ignored.
    let chained = ze_image_bindless_exp_desc_t::default();
    let desc = ze_image_desc_t {
        pNext: (&raw const chained).cast(),
        ..rgba8(I::ZE_IMAGE_TYPE_2D, [4, 4, 1], 0)
    };
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeImageCreate(c, d, &desc, &mut h)
    );
    let good = rgba8(I::ZE_IMAGE_TYPE_2D, [4, 4, 1], 0);
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeImageCreate(c, d, null(), &mut h)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeImageCreate(c, d, &good, null_mut())
    );
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeImageCreate(null_mut(), d, &good, &mut h)
        );
    }
    // Device memory: four 16 MiB images fill the 64 MiB; a fifth does not fit.
    let big = rgba8(I::ZE_IMAGE_TYPE_2D, [2048, 2048, 1], 0);
    let images: Vec<_> = (0..4).map(|_| create_image(b, c, 0, &big)).collect();
    fails!(
        ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
        b,
        zeImageCreate(c, d, &big, &mut h)
    );
    // The other device's memory is its own.
    let other = create_image(b, c, 1, &big);
    ok!(b, zeImageDestroy(other));
    ok!(b, zeImageDestroy(images[0]));
    let again = create_image(b, c, 0, &big);
    ok!(b, zeImageDestroy(again));
    for h in &images[1..] {
        ok!(b, zeImageDestroy(*h));
    }
    ok!(b, zeContextDestroy(c));
}

/// host -> image -> image -> host for every type, with regions, checked against a model.
fn image_copies_round_trip(b: &Backend) {
    use ze_image_format_layout_t as L;
    use ze_image_format_type_t as T;
    use ze_image_type_t as I;
    let c = b.context();
    // (type, layout, format type, texel bytes, descriptor extent, layers, model extent,
    //  a region: origin and extent).
    type Case = (
        ze_image_type_t,
        ze_image_format_layout_t,
        ze_image_format_type_t,
        usize,
        [u64; 3],
        u32,
        [usize; 3],
        ([usize; 3], [usize; 3]),
    );
    let cases: [Case; 6] = [
        (
            I::ZE_IMAGE_TYPE_1D,
            L::ZE_IMAGE_FORMAT_LAYOUT_16,
            T::ZE_IMAGE_FORMAT_TYPE_FLOAT,
            2,
            [40, 1, 1],
            0,
            [40, 1, 1],
            ([5, 0, 0], [17, 1, 1]),
        ),
        (
            I::ZE_IMAGE_TYPE_1DARRAY,
            L::ZE_IMAGE_FORMAT_LAYOUT_8_8,
            T::ZE_IMAGE_FORMAT_TYPE_SNORM,
            2,
            [24, 1, 1],
            4,
            [24, 4, 1],
            ([3, 1, 0], [10, 2, 1]),
        ),
        (
            I::ZE_IMAGE_TYPE_2D,
            L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8,
            T::ZE_IMAGE_FORMAT_TYPE_UINT,
            3,
            [13, 7, 1],
            0,
            [13, 7, 1],
            ([2, 3, 0], [9, 4, 1]),
        ),
        (
            I::ZE_IMAGE_TYPE_2DARRAY,
            L::ZE_IMAGE_FORMAT_LAYOUT_16_16_16_16,
            T::ZE_IMAGE_FORMAT_TYPE_SINT,
            8,
            [6, 5, 1],
            3,
            [6, 5, 3],
            ([1, 1, 1], [4, 3, 2]),
        ),
        (
            I::ZE_IMAGE_TYPE_3D,
            L::ZE_IMAGE_FORMAT_LAYOUT_32_32_32_32,
            T::ZE_IMAGE_FORMAT_TYPE_FLOAT,
            16,
            [5, 4, 3],
            0,
            [5, 4, 3],
            ([1, 0, 1], [3, 4, 2]),
        ),
        (
            I::ZE_IMAGE_TYPE_BUFFER,
            L::ZE_IMAGE_FORMAT_LAYOUT_32,
            T::ZE_IMAGE_FORMAT_TYPE_UINT,
            4,
            [64, 1, 1],
            0,
            [16, 1, 1],
            ([4, 0, 0], [8, 1, 1]),
        ),
    ];
    for (n, (ty, layout, ft, texel, extent, layers, model_extent, (origin, size))) in
        cases.into_iter().enumerate()
    {
        let desc = image_desc(ty, layout, ft, extent, layers);
        let a = create_image(b, c, 0, &desc);
        let a2 = create_image(b, c, 0, &desc);
        let mut ma = Model::new(model_extent, texel);
        // The whole image from host memory, then a region over it from device memory.
        let whole = pattern(ma.bytes.len(), n as u8);
        let part = pattern(size.iter().product::<usize>() * texel, 100 + n as u8);
        let dev = b.alloc_device(c, part.len(), 0);
        b.upload(c, dev, &part);
        let r = region(origin, size);
        let back = region([0, 0, 0], size);
        let mut out = vec![0u8; part.len()];
        let mut all = vec![0u8; whole.len()];
        let result = b.run(c, 0, |l| {
            ok!(
                b,
                zeCommandListAppendImageCopyFromMemory(
                    l,
                    a,
                    whole.as_ptr().cast(),
                    null(),
                    NULL_EVENT,
                    0,
                    NO_WAITS
                )
            );
            ok!(
                b,
                zeCommandListAppendImageCopyFromMemory(
                    l,
                    a,
                    dev.cast(),
                    &r,
                    NULL_EVENT,
                    0,
                    NO_WAITS
                )
            );
            // The region of `a` to the origin of `a2`, then that region of `a2` back.
            ok!(
                b,
                zeCommandListAppendImageCopyRegion(l, a2, a, &back, &r, NULL_EVENT, 0, NO_WAITS)
            );
            ok!(
                b,
                zeCommandListAppendImageCopyToMemory(
                    l,
                    out.as_mut_ptr().cast(),
                    a2,
                    &back,
                    NULL_EVENT,
                    0,
                    NO_WAITS
                )
            );
            ok!(
                b,
                zeCommandListAppendImageCopyToMemory(
                    l,
                    all.as_mut_ptr().cast(),
                    a,
                    null(),
                    NULL_EVENT,
                    0,
                    NO_WAITS
                )
            );
        });
        assert_eq!(result, ze_result_t::ZE_RESULT_SUCCESS, "{ty:?}");
        ma.bytes.copy_from_slice(&whole);
        ma.write(origin, size, &part);
        assert!(all == ma.bytes, "{ty:?}: whole image");
        assert!(out == part, "{ty:?}: region through the second image");
        // All of `a` into `a2`, and back out.
        let mut all2 = vec![0u8; whole.len()];
        let result = b.run(c, 0, |l| {
            ok!(
                b,
                zeCommandListAppendImageCopy(l, a2, a, NULL_EVENT, 0, NO_WAITS)
            );
            ok!(
                b,
                zeCommandListAppendImageCopyToMemory(
                    l,
                    all2.as_mut_ptr().cast(),
                    a2,
                    null(),
                    NULL_EVENT,
                    0,
                    NO_WAITS
                )
            );
        });
        assert_eq!(result, ze_result_t::ZE_RESULT_SUCCESS);
        assert!(all2 == ma.bytes, "{ty:?}: image to image");
        b.free(c, dev);
        ok!(b, zeImageDestroy(a));
        ok!(b, zeImageDestroy(a2));
    }

    // A 2D region given with depth 0 (as the specification's own example does), overlapping
    // copies within one image, and the pitched copies of ZE_extension_image_copy, on an
    // immediate list ordered by events.
    let desc = image_desc(
        I::ZE_IMAGE_TYPE_2D,
        L::ZE_IMAGE_FORMAT_LAYOUT_8,
        T::ZE_IMAGE_FORMAT_TYPE_UINT,
        [8, 8, 1],
        0,
    );
    let img = create_image(b, c, 0, &desc);
    let mut m = Model::new([8, 8, 1], 1);
    let data = pattern(64, 42);
    m.bytes.copy_from_slice(&data);
    let l = b.immediate(c, 0);
    let pool = b.event_pool(c, 2, 0);
    let (e0, e1) = (b.event(pool, 0), b.event(pool, 1));
    let flat = ze_image_region_t {
        depth: 0,
        ..region([0, 0, 0], [8, 8, 1])
    };
    ok!(
        b,
        zeCommandListAppendImageCopyFromMemory(
            l,
            img,
            data.as_ptr().cast(),
            &flat,
            e0,
            0,
            NO_WAITS
        )
    );
    // Within one image (regions must not overlap): rows 0..3 to rows 4..7, shifted right by
    // one texel.
    let (from, to) = (region([0, 0, 0], [7, 3, 1]), region([1, 4, 0], [7, 3, 1]));
    let mut w0 = e0;
    ok!(
        b,
        zeCommandListAppendImageCopyRegion(l, img, img, &to, &from, e1, 1, &mut w0)
    );
    let shifted = m.read([0, 0, 0], [7, 3, 1]);
    m.write([1, 4, 0], [7, 3, 1], &shifted);
    let mut out = vec![0u8; 64];
    let mut w1 = e1;
    ok!(
        b,
        zeCommandListAppendImageCopyToMemory(
            l,
            out.as_mut_ptr().cast(),
            img,
            null(),
            NULL_EVENT,
            1,
            &mut w1
        )
    );
    b.finish(c, l);
    assert!(out == m.bytes, "overlapping copy within one image");
    if b.has("zeCommandListAppendImageCopyToMemoryExt") {
        // Rows 16 bytes apart: the 4 x 3 region at (2, 1) and back into (0, 5).
        let mut pitched = vec![0xeeu8; 16 * 3];
        let r = region([2, 1, 0], [4, 3, 1]);
        ok!(
            b,
            zeCommandListAppendImageCopyToMemoryExt(
                l,
                pitched.as_mut_ptr().cast(),
                img,
                &r,
                16,
                0,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        b.finish(c, l);
        for y in 0..3 {
            assert_eq!(
                &pitched[y * 16..y * 16 + 4],
                &m.read([2, 1 + y, 0], [4, 1, 1])[..]
            );
            assert!(
                pitched[y * 16 + 4..y * 16 + 16].iter().all(|&v| v == 0xee),
                "padding untouched"
            );
        }
        let r = region([0, 5, 0], [4, 3, 1]);
        ok!(
            b,
            zeCommandListAppendImageCopyFromMemoryExt(
                l,
                img,
                pitched.as_ptr().cast(),
                &r,
                16,
                0,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        let moved = m.read([2, 1, 0], [4, 3, 1]);
        m.write([0, 5, 0], [4, 3, 1], &moved);
        ok!(
            b,
            zeCommandListAppendImageCopyToMemory(
                l,
                out.as_mut_ptr().cast(),
                img,
                null(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        b.finish(c, l);
        assert!(out == m.bytes, "pitched copies");
        // A row pitch smaller than a row of the region.
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopyToMemoryExt(
                l,
                pitched.as_mut_ptr().cast(),
                img,
                &r,
                3,
                0,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    }
    ok!(b, zeEventDestroy(e0));
    ok!(b, zeEventDestroy(e1));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeImageDestroy(img));
    ok!(b, zeContextDestroy(c));
}

fn image_copy_checks(b: &Backend) {
    use ze_image_format_layout_t as L;
    use ze_image_format_type_t as T;
    use ze_image_type_t as I;
    let c = b.context();
    let rgba = image_desc(
        I::ZE_IMAGE_TYPE_2D,
        L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8,
        T::ZE_IMAGE_FORMAT_TYPE_UNORM,
        [8, 4, 1],
        0,
    );
    let img = create_image(b, c, 0, &rgba);
    let small = create_image(b, c, 0, &ze_image_desc_t { height: 2, ..rgba });
    let r32 = create_image(
        b,
        c,
        0,
        &image_desc(
            I::ZE_IMAGE_TYPE_2D,
            L::ZE_IMAGE_FORMAT_LAYOUT_32,
            T::ZE_IMAGE_FORMAT_TYPE_UINT,
            [8, 4, 1],
            0,
        ),
    );
    let other_device = create_image(b, c, 1, &rgba);
    let l = b.list(c, 0);
    let mut host = vec![0u8; 8 * 4 * 4];
    let hp = host.as_mut_ptr();
    let dev = b.alloc_device(c, 64, 0);
    // Regions outside the image.
    for r in [
        region([5, 0, 0], [4, 1, 1]),
        region([0, 3, 0], [1, 2, 1]),
        region([0, 0, 1], [1, 1, 1]),
        region([0, 0, 0], [1, 1, 2]),
    ] {
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopyToMemory(l, hp.cast(), img, &r, NULL_EVENT, 0, NO_WAITS)
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopyFromMemory(l, img, hp.cast(), &r, NULL_EVENT, 0, NO_WAITS)
        );
    }
    // Whole images of different extents or formats.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopy(l, small, img, NULL_EVENT, 0, NO_WAITS)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopy(l, r32, img, NULL_EVENT, 0, NO_WAITS)
    );
    // Regions of different extents.
    let (a, bb) = (region([0, 0, 0], [2, 2, 1]), region([0, 0, 0], [2, 1, 1]));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopyRegion(l, small, img, &bb, &a, NULL_EVENT, 0, NO_WAITS)
    );
    // An image of another device.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopy(l, other_device, img, NULL_EVENT, 0, NO_WAITS)
    );
    // Memory: a device allocation of 64 bytes cannot hold 128; null pointers.
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendImageCopyToMemory(l, dev.cast(), img, null(), NULL_EVENT, 0, NO_WAITS)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendImageCopyToMemory(l, null_mut(), img, null(), NULL_EVENT, 0, NO_WAITS)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendImageCopyFromMemory(l, img, null(), null(), NULL_EVENT, 0, NO_WAITS)
    );
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeCommandListAppendImageCopy(l, null_mut(), img, NULL_EVENT, 0, NO_WAITS)
        );
    }
    // 64 bytes are 16 texels: the 8 x 2 region fits.
    let fits = region([0, 1, 0], [8, 2, 1]);
    ok!(
        b,
        zeCommandListAppendImageCopyToMemory(l, dev.cast(), img, &fits, NULL_EVENT, 0, NO_WAITS)
    );
    ok!(b, zeCommandListDestroy(l));
    b.free(c, dev);
    for h in [img, small, r32, other_device] {
        ok!(b, zeImageDestroy(h));
    }
    drop(host);
    ok!(b, zeContextDestroy(c));
}

/// An image destroyed while a copy of it waits: the copy fails when it runs (a use after
/// free on hardware, caught and counted here), nothing crashes, nothing leaks.
fn image_destroyed_with_copies_pending(b: &Backend) {
    use ze_image_format_layout_t as L;
    use ze_image_format_type_t as T;
    let c = b.context();
    let desc = image_desc(
        ze_image_type_t::ZE_IMAGE_TYPE_2D,
        L::ZE_IMAGE_FORMAT_LAYOUT_32,
        T::ZE_IMAGE_FORMAT_TYPE_FLOAT,
        [64, 64, 1],
        0,
    );
    let img = create_image(b, c, 0, &desc);
    let data = pattern(64 * 64 * 4, 3);
    let before = b.sanitizer().freed_memory_accesses;
    let pool = b.event_pool(c, 2, 0);
    let (gate, done) = (b.event(pool, 0), b.event(pool, 1));
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    let mut w = gate;
    ok!(
        b,
        zeCommandListAppendImageCopyFromMemory(
            l,
            img,
            data.as_ptr().cast(),
            null(),
            done,
            1,
            &mut w
        )
    );
    ok!(b, zeCommandListClose(l));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    // The copy waits for the gate; the image goes first.
    ok!(b, zeImageDestroy(img));
    ok!(b, zeEventHostSignal(gate));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventHostSynchronize(done, u64::MAX)
    );
    assert_eq!(b.sanitizer().freed_memory_accesses, before + 1);
    // Destroyed while many copies are queued or running: no crash either way.
    let img = create_image(b, c, 0, &desc);
    let imm = b.immediate(c, 0);
    for _ in 0..16 {
        ok!(
            b,
            zeCommandListAppendImageCopyFromMemory(
                imm,
                img,
                data.as_ptr().cast(),
                null(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    }
    ok!(b, zeImageDestroy(img));
    let r = if b.has("zeCommandListHostSynchronize") {
        ze!(b, zeCommandListHostSynchronize(imm, u64::MAX))
    } else {
        ze_result_t::ZE_RESULT_SUCCESS
    };
    assert!(
        matches!(
            r,
            ze_result_t::ZE_RESULT_SUCCESS | ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
        ),
        "{r:?}"
    );
    b.finish(c, imm);
    ok!(b, zeCommandListDestroy(imm));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventDestroy(done));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
}

fn samplers(b: &Backend) {
    use ze_sampler_address_mode_t as A;
    use ze_sampler_filter_mode_t as F;
    let c = b.context();
    let d = b.devices[0];
    let live = b.live().samplers;
    let mut made = Vec::new();
    for address in 0..=4 {
        for filter in 0..=1 {
            for normalized in [0, 1] {
                let desc = ze_sampler_desc_t {
                    addressMode: A(address),
                    filterMode: F(filter),
                    isNormalized: normalized,
                    ..Default::default()
                };
                let mut s = null_mut();
                ok!(b, zeSamplerCreate(c, d, &desc, &mut s));
                made.push(s);
            }
        }
    }
    assert_eq!(b.live().samplers, live + 20);
    let mut s = null_mut();
    for (address, filter) in [(5, 0), (0, 2)] {
        let desc = ze_sampler_desc_t {
            addressMode: A(address),
            filterMode: F(filter),
            ..Default::default()
        };
        fails!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            b,
            zeSamplerCreate(c, d, &desc, &mut s)
        );
    }
    let good = ze_sampler_desc_t::default();
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeSamplerCreate(c, d, null(), &mut s)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeSamplerCreate(c, d, &good, null_mut())
    );
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeSamplerDestroy(null_mut())
        );
    }
    for s in made {
        ok!(b, zeSamplerDestroy(s));
    }
    assert_eq!(b.live().samplers, live);
    ok!(b, zeContextDestroy(c));
}

fn module_dynamic_link(b: &Backend) {
    let c = b.context();
    let dev = b.devices[0];
    let create = |spirv: &[u8]| {
        let desc = ze_module_desc_t {
            format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
            inputSize: spirv.len(),
            pInputModule: spirv.as_ptr(),
            ..Default::default()
        };
        let mut m = null_mut();
        ok!(b, zeModuleCreate(c, dev, &desc, &mut m, null_mut()));
        m
    };
    let kernel = |m: ze_module_handle_t, name: &std::ffi::CStr| {
        let desc = ze_kernel_desc_t {
            pKernelName: name.as_ptr(),
            ..Default::default()
        };
        let mut k = null_mut();
        let r = ze!(b, zeKernelCreate(m, &desc, &mut k));
        (r, k)
    };
    let (imp_spv, exp_spv) = (assembled("link_imports"), assembled("link_exports"));
    // A module with imports builds; the kernel that needs them is unlinked.
    let imp = create(&imp_spv);
    let (r, _) = kernel(imp, c"use_add_one");
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED);
    let imports = |m: ze_module_handle_t| {
        let mut props = ze_module_properties_t::default();
        ok!(b, zeModuleGetProperties(m, &mut props));
        props.flags & ze_module_property_flag_t::ZE_MODULE_PROPERTY_FLAG_IMPORTS.0 != 0
    };
    assert!(
        imports(imp),
        "an unlinked module reports ZE_MODULE_PROPERTY_FLAG_IMPORTS"
    );
    let (r, k) = kernel(imp, c"standalone");
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    ok!(b, zeKernelDestroy(k));
    // Loader 1.8.12 with handle wrapping does not reach the driver's zeModuleDynamicLink
    // (it returns ZE_RESULT_ERROR_UNINITIALIZED, or crashes inside the loader with a null
    // phLinkLog): linking is checked without handle wrapping only.
    if !b.direct_handles() {
        ok!(b, zeModuleDestroy(imp));
        ok!(b, zeContextDestroy(c));
        return;
    }
    // Linking it alone fails, and the log names each unresolved symbol.
    {
        let mut mods = [imp];
        let mut log = null_mut();
        fails!(
            ZE_RESULT_ERROR_MODULE_LINK_FAILURE,
            b,
            zeModuleDynamicLink(1, mods.as_mut_ptr(), &mut log)
        );
        let text = build_log_text(b, log);
        assert!(text.contains("unresolved symbol `add_one`"), "{text}");
        assert!(text.contains("unresolved symbol `link_base`"), "{text}");
        ok!(b, zeModuleBuildLogDestroy(log));
    }
    let (r, _) = kernel(imp, c"use_add_one");
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED);
    // With the exporting module it links, and the kernel runs the exporter's function.
    let exp = create(&exp_spv);
    let mut mods = [exp, imp];
    let mut log = null_mut();
    assert!(!imports(exp));
    ok!(b, zeModuleDynamicLink(2, mods.as_mut_ptr(), &mut log));
    assert!(build_log_text(b, log).contains("use_add_one"));
    ok!(b, zeModuleBuildLogDestroy(log));
    assert!(
        !imports(imp),
        "a linked module has no import left to resolve"
    );
    let (r, k) = kernel(imp, c"use_add_one");
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let n = 64usize;
    let buf = b.alloc_shared(c, n * 4, 0).cast::<u32>();
    for i in 0..n {
        // SAFETY: a shared allocation of n u32s, not in use by the device.
        unsafe { buf.add(i).write(i as u32) };
    }
    ok!(b, zeKernelSetGroupSize(k, 16, 1, 1));
    let arg = buf as u64;
    ok!(
        b,
        zeKernelSetArgumentValue(k, 0, 8, (&arg as *const u64).cast())
    );
    let l = b.immediate(c, 0);
    let counts = ze_group_count_t {
        groupCountX: (n / 16) as u32,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &counts, null_mut(), 0, null_mut())
    );
    b.finish(c, l);
    for i in 0..n {
        // SAFETY: as above; the launch has finished.
        let v = unsafe { buf.add(i).read() };
        assert_eq!(v, i as u32 + 1 + 100, "element {i}");
    }
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeKernelDestroy(k));
    b.free(c, buf.cast());
    ok!(b, zeModuleDestroy(exp));
    ok!(b, zeModuleDestroy(imp));
    ok!(b, zeContextDestroy(c));
}

const OUT_OF_BOUNDS: &[u8] = include_bytes!("../../kernels/spv/out_of_bounds.O2.spv");

/// Builds a SPIR-V module with the driver's engine.
pub(super) fn module_of(b: &Backend, c: ze_context_handle_t, spirv: &[u8]) -> ze_module_handle_t {
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: spirv.len(),
        pInputModule: spirv.as_ptr(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    m
}

pub(super) fn kernel_of(
    b: &Backend,
    m: ze_module_handle_t,
    name: &std::ffi::CStr,
) -> ze_kernel_handle_t {
    let desc = ze_kernel_desc_t {
        pKernelName: name.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &desc, &mut k));
    k
}

/// `zeKernelSetArgumentValue` with a null `pArgValue` for a by-value argument: the value is
/// zero bytes (the specification's "argument value is considered null"); a size other than
/// the argument's is still refused.
fn null_by_value_kernel_argument(b: &Backend) {
    let c = b.context();
    let m = module_of(b, c, OUT_OF_BOUNDS);
    // write_past_end(global int *out, uint n, uint extra): out[i + (i == n - 1 ? extra : 0)] = i
    let k = kernel_of(b, m, c"write_past_end");
    let n = 16usize;
    let out = b.alloc_shared(c, n * 4, 0);
    // SAFETY: a shared allocation of n * 4 bytes, host accessible.
    unsafe { std::ptr::write_bytes(out, 0xff, n * 4) };
    ok!(b, zeKernelSetGroupSize(k, n as u32, 1, 1));
    ok!(
        b,
        zeKernelSetArgumentValue(k, 0, 8, (&raw const out).cast())
    );
    let big: u32 = 1 << 20;
    // The wrong size is refused, with a value or without one.
    for v in [(&raw const big).cast::<c_void>(), null()] {
        fails!(
            ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
            b,
            zeKernelSetArgumentValue(k, 1, 8, v)
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
            b,
            zeKernelSetArgumentValue(k, 2, 0, v)
        );
    }
    // n = 16, then `extra` first set to a huge value, then to null: zero, so the last
    // work-item writes in bounds.
    let nv = n as u32;
    ok!(b, zeKernelSetArgumentValue(k, 1, 4, (&raw const nv).cast()));
    ok!(
        b,
        zeKernelSetArgumentValue(k, 2, 4, (&raw const big).cast())
    );
    ok!(b, zeKernelSetArgumentValue(k, 2, 4, null()));
    let groups = ze_group_count_t {
        groupCountX: 1,
        groupCountY: 1,
        groupCountZ: 1,
    };
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendLaunchKernel(l, k, &groups, NULL_EVENT, 0, NO_WAITS)
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // SAFETY: n initialised u32 values of the shared allocation, the launch finished.
    let got = unsafe { std::slice::from_raw_parts(out.cast::<u32>(), n) }.to_vec();
    assert_eq!(got, (0..n as u32).collect::<Vec<_>>());
    // `n` null too: n - 1 wraps, so no work-item adds `extra` (set back to huge).
    ok!(b, zeKernelSetArgumentValue(k, 1, 4, null()));
    ok!(
        b,
        zeKernelSetArgumentValue(k, 2, 4, (&raw const big).cast())
    );
    // SAFETY: as above.
    unsafe { std::ptr::write_bytes(out, 0xff, n * 4) };
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendLaunchKernel(l, k, &groups, NULL_EVENT, 0, NO_WAITS)
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // SAFETY: as above.
    let got = unsafe { std::slice::from_raw_parts(out.cast::<u32>(), n) }.to_vec();
    assert_eq!(got, (0..n as u32).collect::<Vec<_>>());
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, out);
    ok!(b, zeContextDestroy(c));
}

/// Every extension the driver implements, with the functions each brings: the driver must
/// advertise exactly these (an extension added to the driver is added here).
const IMPLEMENTED_EXTENSIONS: &[(&str, &[&str])] = &[
    (
        "ZE_extension_device_vector_sizes",
        &["zeDeviceGetVectorWidthPropertiesExt"],
    ),
    ("ZE_experimental_relaxed_allocation_limits", &[]),
    ("ZE_extension_kernel_max_group_size_properties", &[]),
    (
        "ZE_experimental_global_offset",
        &["zeKernelSetGlobalOffsetExp"],
    ),
    (
        "ZE_experimental_immediate_command_list_append",
        &["zeCommandListImmediateAppendCommandListsExp"],
    ),
    (
        "ZE_extension_image_copy",
        &[
            "zeCommandListAppendImageCopyToMemoryExt",
            "zeCommandListAppendImageCopyFromMemoryExt",
        ],
    ),
    (
        "ZE_extension_image_query_alloc_properties",
        &["zeImageGetAllocPropertiesExt"],
    ),
    (
        "ZE_experimental_image_memory_properties",
        &["zeImageGetMemoryPropertiesExp"],
    ),
    ("ZE_experimental_event_pool_counter_based", &[]),
    (
        "ZE_extension_record_replay_graph",
        &[
            "zeGraphCreateExt",
            "zeCommandListBeginGraphCaptureExt",
            "zeCommandListBeginCaptureIntoGraphExt",
            "zeCommandListIsGraphCaptureEnabledExt",
            "zeCommandListEndGraphCaptureExt",
            "zeCommandListGetGraphExt",
            "zeGraphGetPrimaryCommandListExt",
            "zeGraphSetDestructionCallbackExt",
            "zeGraphInstantiateExt",
            "zeCommandListAppendGraphExt",
            "zeExecutableGraphGetSourceGraphExt",
            "zeGraphIsEmptyExt",
            "zeGraphDumpContentsExt",
            "zeExecutableGraphDestroyExt",
            "zeGraphDestroyExt",
        ],
    ),
    (
        "ZEX_cpu_driver_testing",
        &[
            "zexCpuDriverGetLiveObjects",
            "zexCpuDeviceGetResidency",
            "zexCpuDriverGetSanitizerReport",
            "zexCpuThreadGetCallCount",
        ],
    ),
];

/// The advertised extensions are the implemented ones, no more, no fewer, and every function
/// of each resolves to a non-null address through `zeDriverGetExtensionFunctionAddress`.
fn advertised_extensions_are_exactly_the_implemented_ones(b: &Backend) {
    let advertised = b.extensions();
    for name in &advertised {
        let Some((_, functions)) = IMPLEMENTED_EXTENSIONS.iter().find(|(e, _)| e == name) else {
            panic!("{name} is advertised but not implemented (not in IMPLEMENTED_EXTENSIONS)");
        };
        for f in *functions {
            let c = std::ffi::CString::new(*f).unwrap();
            let address = b.extension_function(&c);
            assert!(
                address.is_ok_and(|a| !a.is_null()),
                "{f} of {name}: {address:?}"
            );
        }
    }
    for (name, _) in IMPLEMENTED_EXTENSIONS {
        assert!(
            advertised.iter().any(|a| a == name),
            "{name} is implemented but not advertised"
        );
    }
    // Experimental functions are in the DDI tables too.
    if b.kind == super::Kind::Embedded {
        assert!(b.has("zeKernelSetGlobalOffsetExp"));
    }
    // The global offset function found by name is the one that works.
    let f = b.extension_function(c"zeKernelSetGlobalOffsetExp").unwrap();
    // SAFETY: the address of zeKernelSetGlobalOffsetExp, of this type.
    let set: ze_pfnKernelSetGlobalOffsetExp_t = unsafe { std::mem::transmute(f) };
    // SAFETY: a null handle, which the function must reject.
    assert_eq!(
        unsafe { set.unwrap()(null_mut(), 1, 2, 3) },
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE
    );
}

const MATMUL: &[u8] = include_bytes!("../../kernels/spv/matmul.O2.spv");

/// A kernel's source attributes through the specification's two calls.
fn source_attributes(b: &Backend, k: ze_kernel_handle_t) -> String {
    let mut size = 0u32;
    if std::env::var("ZE_ENABLE_VALIDATION_LAYER").as_deref() == Ok("1") {
        // Loader 1.8.12's validation layer refuses the size query (a null pString) with
        // ZE_RESULT_ERROR_INVALID_NULL_POINTER before the driver sees it: ask for the size
        // the other way this driver answers (a null *pString).
        let mut own: *mut std::ffi::c_char = null_mut();
        ok!(b, zeKernelGetSourceAttributes(k, &mut size, &mut own));
    } else {
        ok!(b, zeKernelGetSourceAttributes(k, &mut size, null_mut()));
    }
    assert!(size >= 1);
    let mut buf = vec![1 as std::ffi::c_char; size as usize];
    let mut p = buf.as_mut_ptr();
    ok!(b, zeKernelGetSourceAttributes(k, &mut size, &mut p));
    assert_eq!(p, buf.as_mut_ptr(), "the application's buffer is used");
    assert_eq!(buf[size as usize - 1], 0);
    cstr(&buf)
}

/// `zeKernelGetSourceAttributes` (OpenCL C's spelling of the entry point's execution modes)
/// and `zeModuleGetFunctionPointer` (kernels and exported functions).
fn kernel_source_attributes_and_function_pointers(b: &Backend) {
    let c = b.context();
    let m = module_of(b, c, MATMUL);
    let tiled = kernel_of(b, m, c"matmul_tiled");
    let naive = kernel_of(b, m, c"matmul_naive");
    assert_eq!(source_attributes(b, tiled), "reqd_work_group_size(16,16,1)");
    assert_eq!(source_attributes(b, naive), "");
    // A short buffer: truncated and terminated.
    let mut buf = [1 as std::ffi::c_char; 6];
    let mut p = buf.as_mut_ptr();
    let mut size = 6u32;
    ok!(b, zeKernelGetSourceAttributes(tiled, &mut size, &mut p));
    assert_eq!(cstr(&buf), "reqd_");
    // pocl's call: a null string pointer with size 0 gets the driver's own string.
    let mut size = 0u32;
    let mut own: *mut std::ffi::c_char = null_mut();
    ok!(b, zeKernelGetSourceAttributes(tiled, &mut size, &mut own));
    assert!(!own.is_null());
    // SAFETY: the driver's NUL-terminated copy, alive while the kernel lives.
    let text = unsafe { std::ffi::CStr::from_ptr(own) }
        .to_string_lossy()
        .into_owned();
    assert_eq!(text, "reqd_work_group_size(16,16,1)");
    assert_eq!(size as usize, text.len() + 1);
    // Function pointers: stable, distinct, non-null; unknown names refused.
    let pointer = |name: &std::ffi::CStr| {
        let mut f = null_mut();
        let r = ze!(b, zeModuleGetFunctionPointer(m, name.as_ptr(), &mut f));
        (r, f)
    };
    let (r1, f1) = pointer(c"matmul_tiled");
    let (r2, f2) = pointer(c"matmul_naive");
    assert_eq!(
        (r1, r2),
        (
            ze_result_t::ZE_RESULT_SUCCESS,
            ze_result_t::ZE_RESULT_SUCCESS
        )
    );
    assert!(!f1.is_null() && !f2.is_null() && f1 != f2);
    assert_eq!(pointer(c"matmul_tiled").1, f1);
    assert_eq!(
        pointer(c"no_such_function").0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_FUNCTION_NAME
    );
    ok!(b, zeKernelDestroy(tiled));
    ok!(b, zeKernelDestroy(naive));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
}

/// `zeModuleGetNativeBinary` gives what `ZE_MODULE_FORMAT_NATIVE` builds the same module
/// from; a corrupted or foreign one is refused.
fn native_module_binaries(b: &Backend) {
    let c = b.context();
    let m = module_of(b, c, OUT_OF_BOUNDS);
    let mut size = 0usize;
    ok!(b, zeModuleGetNativeBinary(m, &mut size, null_mut()));
    assert!(size > OUT_OF_BOUNDS.len());
    let mut small = vec![0u8; size - 1];
    let mut short = size - 1;
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeModuleGetNativeBinary(m, &mut short, small.as_mut_ptr())
    );
    let mut native = vec![0u8; size];
    ok!(
        b,
        zeModuleGetNativeBinary(m, &mut size, native.as_mut_ptr())
    );
    assert_eq!(size, native.len());
    ok!(b, zeModuleDestroy(m));
    let native_desc = |bytes: &[u8]| ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_NATIVE,
        inputSize: bytes.len(),
        pInputModule: bytes.as_ptr(),
        ..Default::default()
    };
    let mut m2 = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &native_desc(&native), &mut m2, null_mut())
    );
    let mut n = 0;
    ok!(b, zeModuleGetKernelNames(m2, &mut n, null_mut()));
    assert_eq!(n, 3);
    // The module built from the native binary runs.
    let k = kernel_of(b, m2, c"write_past_end");
    let out = b.alloc_shared(c, 64, 0);
    ok!(b, zeKernelSetGroupSize(k, 16, 1, 1));
    let (nv, extra) = (16u32, 0u32);
    ok!(
        b,
        zeKernelSetArgumentValue(k, 0, 8, (&raw const out).cast())
    );
    ok!(b, zeKernelSetArgumentValue(k, 1, 4, (&raw const nv).cast()));
    ok!(
        b,
        zeKernelSetArgumentValue(k, 2, 4, (&raw const extra).cast())
    );
    let groups = ze_group_count_t {
        groupCountX: 1,
        groupCountY: 1,
        groupCountZ: 1,
    };
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendLaunchKernel(l, k, &groups, NULL_EVENT, 0, NO_WAITS)
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // SAFETY: 16 u32 of the shared allocation, the launch finished.
    let got = unsafe { std::slice::from_raw_parts(out.cast::<u32>(), 16) }.to_vec();
    assert_eq!(got, (0..16).collect::<Vec<u32>>());
    ok!(b, zeKernelDestroy(k));
    b.free(c, out);
    // Its own native binary is the same bytes.
    let mut again = vec![0u8; size];
    ok!(
        b,
        zeModuleGetNativeBinary(m2, &mut size, again.as_mut_ptr())
    );
    assert!(again == native);
    ok!(b, zeModuleDestroy(m2));
    // Corrupted anywhere, truncated, or foreign: refused.
    let mut m3 = null_mut();
    for i in [0, 9, native.len() / 2, native.len() - 1] {
        let mut bad = native.clone();
        bad[i] ^= 0x40;
        fails!(
            ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
            b,
            zeModuleCreate(c, b.devices[0], &native_desc(&bad), &mut m3, null_mut())
        );
    }
    fails!(
        ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
        b,
        zeModuleCreate(
            c,
            b.devices[0],
            &native_desc(&native[..native.len() - 3]),
            &mut m3,
            null_mut()
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
        b,
        zeModuleCreate(
            c,
            b.devices[0],
            &native_desc(OUT_OF_BOUNDS),
            &mut m3,
            null_mut()
        )
    );
    ok!(b, zeContextDestroy(c));
}

/// `zeCommandListAppendQueryKernelTimestamps` writes what `zeEventQueryKernelTimestamp`
/// reads; `zeCommandListAppendMemoryCopyFromContext` copies from another context's memory.
fn query_kernel_timestamps_and_copy_from_context(b: &Backend) {
    let c = b.context();
    let c2 = b.context();
    let data = pattern(256, 3);
    let src = b.alloc_device(c2, 256, 0);
    b.upload(c2, src, &data);
    let dst = b.alloc_host(c, 256);
    let results = b.alloc_host(c, 128);
    let pool = b.event_pool(
        c,
        2,
        ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0,
    );
    let (e0, e1) = (b.event(pool, 0), b.event(pool, 1));
    let plain = b.event_pool(c, 1, 0);
    let p0 = b.event(plain, 0);
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendMemoryCopyFromContext(
                l,
                dst.cast(),
                c2,
                src.cast(),
                256,
                e0,
                0,
                NO_WAITS
            )
        );
        ok!(b, zeCommandListAppendBarrier(l, e1, 0, NO_WAITS));
        let mut events = [e0, e1];
        // Packed, then at chosen offsets (second result first).
        ok!(
            b,
            zeCommandListAppendQueryKernelTimestamps(
                l,
                2,
                events.as_mut_ptr(),
                results.cast(),
                null(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        let offsets = [96usize, 64];
        ok!(
            b,
            zeCommandListAppendQueryKernelTimestamps(
                l,
                2,
                events.as_mut_ptr(),
                results.cast(),
                offsets.as_ptr(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        // Events of a pool without timestamps are refused; a range past the buffer too.
        let mut bad = [p0];
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendQueryKernelTimestamps(
                l,
                1,
                bad.as_mut_ptr(),
                results.cast(),
                null(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        let past = [120usize];
        fails!(
            ZE_RESULT_ERROR_INVALID_SIZE,
            b,
            zeCommandListAppendQueryKernelTimestamps(
                l,
                1,
                events.as_mut_ptr(),
                results.cast(),
                past.as_ptr(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // SAFETY: 256 bytes of a host allocation, the copy finished.
    assert!(unsafe { std::slice::from_raw_parts(dst, 256) } == data.as_slice());
    // SAFETY: four results written by the queries into a 128-byte host allocation.
    let got =
        unsafe { std::slice::from_raw_parts(results.cast::<ze_kernel_timestamp_result_t>(), 4) };
    for (i, e) in [e0, e1].into_iter().enumerate() {
        let mut t = ze_kernel_timestamp_result_t::default();
        ok!(b, zeEventQueryKernelTimestamp(e, &mut t));
        assert!(t.global.kernelStart > 0 && t.global.kernelEnd >= t.global.kernelStart);
        let packed = got[i];
        let placed = got[3 - i];
        for r in [packed, placed] {
            assert_eq!(
                (r.global.kernelStart, r.global.kernelEnd),
                (t.global.kernelStart, t.global.kernelEnd)
            );
            assert_eq!(
                (r.context.kernelStart, r.context.kernelEnd),
                (t.context.kernelStart, t.context.kernelEnd)
            );
        }
    }
    // An event not signalled when the query runs fails the submission.
    ok!(b, zeEventHostReset(e0));
    let r = b.run(c, 0, |l| {
        let mut events = [e0];
        ok!(
            b,
            zeCommandListAppendQueryKernelTimestamps(
                l,
                1,
                events.as_mut_ptr(),
                results.cast(),
                null(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    for e in [e0, e1, p0] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeEventPoolDestroy(plain));
    b.free(c2, src);
    b.free(c, dst);
    b.free(c, results);
    ok!(b, zeContextDestroy(c2));
    ok!(b, zeContextDestroy(c));
}

/// `zeCommandListImmediateAppendCommandListsExp` and `zeMem{Set,Get}AtomicAccessAttributeExp`
/// (newer than loader 1.8.12's tables: tested where the table has them, always embedded).
fn immediate_append_and_atomic_attributes(b: &Backend) {
    let embedded = b.kind == super::Kind::Embedded;
    let c = b.context();
    if embedded || b.has("zeCommandListImmediateAppendCommandListsExp") {
        let data = pattern(512, 5);
        let d = b.alloc_device(c, 512, 0);
        let mut out = vec![0u8; 512];
        let mut lists = [b.list(c, 0), b.list(c, 0)];
        ok!(
            b,
            zeCommandListAppendMemoryCopy(
                lists[0],
                d.cast(),
                data.as_ptr().cast(),
                512,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        ok!(
            b,
            zeCommandListAppendBarrier(lists[0], NULL_EVENT, 0, NO_WAITS)
        );
        ok!(
            b,
            zeCommandListAppendMemoryCopy(
                lists[1],
                out.as_mut_ptr().cast(),
                d.cast(),
                512,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        let imm = b.immediate(c, 0);
        // Open lists are refused.
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListImmediateAppendCommandListsExp(
                imm,
                2,
                lists.as_mut_ptr(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        ok!(b, zeCommandListClose(lists[0]));
        ok!(b, zeCommandListClose(lists[1]));
        // Not on a regular list.
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListImmediateAppendCommandListsExp(
                lists[0],
                1,
                lists.as_mut_ptr(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        // After a wait event the host signals; signalling an event at the end.
        let pool = b.event_pool(c, 2, 0);
        let (gate, done) = (b.event(pool, 0), b.event(pool, 1));
        let mut waits = [gate];
        ok!(
            b,
            zeCommandListImmediateAppendCommandListsExp(
                imm,
                2,
                lists.as_mut_ptr(),
                done,
                1,
                waits.as_mut_ptr()
            )
        );
        fails!(
            ZE_RESULT_NOT_READY,
            b,
            zeEventHostSynchronize(done, 20_000_000)
        );
        assert!(out.iter().all(|&x| x == 0));
        ok!(b, zeEventHostSignal(gate));
        ok!(b, zeEventHostSynchronize(done, u64::MAX));
        assert!(out == data);
        b.finish(c, imm);
        ok!(b, zeEventDestroy(gate));
        ok!(b, zeEventDestroy(done));
        ok!(b, zeEventPoolDestroy(pool));
        ok!(b, zeCommandListDestroy(imm));
        ok!(b, zeCommandListDestroy(lists[0]));
        ok!(b, zeCommandListDestroy(lists[1]));
        b.free(c, d);
    }
    if embedded || b.has("zeMemSetAtomicAccessAttributeExp") {
        let dev = b.devices[0];
        let s = b.alloc_shared(c, 4096, 0);
        let h = b.alloc_host(c, 64);
        let mut got = 0xdead;
        ok!(
            b,
            zeMemGetAtomicAccessAttributeExp(c, dev, s.cast(), 4096, &mut got)
        );
        assert_eq!(got, 0, "nothing set");
        let flags = ze_memory_atomic_attr_exp_flag_t::ZE_MEMORY_ATOMIC_ATTR_EXP_FLAG_NO_HOST_ATOMICS
            .0
            | ze_memory_atomic_attr_exp_flag_t::ZE_MEMORY_ATOMIC_ATTR_EXP_FLAG_DEVICE_ATOMICS.0;
        ok!(
            b,
            zeMemSetAtomicAccessAttributeExp(c, dev, s.cast(), 1024, flags)
        );
        ok!(
            b,
            zeMemGetAtomicAccessAttributeExp(c, dev, s.cast(), 1024, &mut got)
        );
        assert_eq!(got, flags);
        // SAFETY: inside the shared allocation.
        let inner = unsafe { s.add(512) };
        ok!(
            b,
            zeMemGetAtomicAccessAttributeExp(c, dev, inner.cast(), 16, &mut got)
        );
        assert_eq!(got, flags);
        ok!(
            b,
            zeMemGetAtomicAccessAttributeExp(c, dev, s.cast(), 4096, &mut got)
        );
        assert_eq!(got, 0, "the whole allocation has no attribute set");
        // Every defined flag alone is accepted; an undefined bit and contradictions are not.
        for bit in 0..7 {
            ok!(
                b,
                zeMemSetAtomicAccessAttributeExp(c, dev, s.cast(), 64, 1 << bit)
            );
        }
        fails!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            b,
            zeMemSetAtomicAccessAttributeExp(c, dev, s.cast(), 64, 0x80)
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeMemSetAtomicAccessAttributeExp(c, dev, s.cast(), 64, 0x6)
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeMemSetAtomicAccessAttributeExp(c, dev, s.cast(), 64, 0x11)
        );
        // Shared allocations only, inside them.
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeMemSetAtomicAccessAttributeExp(c, dev, h.cast(), 64, flags)
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_SIZE,
            b,
            zeMemSetAtomicAccessAttributeExp(c, dev, s.cast(), 4097, flags)
        );
        b.free(c, s);
        b.free(c, h);
    }
    ok!(b, zeContextDestroy(c));
}

/// Region copies against the specification's zero extents: a depth of 0 is a 2-D copy (it
/// copies its rows, like depth 1); a width or height of 0 copies nothing but still signals.
fn copy_region_zero_extents(b: &Backend) {
    let c = b.context();
    let src_data = pattern(128, 21);
    let d = b.alloc_device(c, 128, 0);
    b.upload(c, d, &src_data);
    let region = |x, y, w, h, depth| ze_copy_region_t {
        originX: x,
        originY: y,
        originZ: 0,
        width: w,
        height: h,
        depth,
    };
    let copy = |l, out: &mut [u8], dr: &ze_copy_region_t, sr: &ze_copy_region_t, signal| {
        ze!(
            b,
            zeCommandListAppendMemoryCopyRegion(
                l,
                out.as_mut_ptr().cast(),
                dr,
                5,
                0,
                d.cast(),
                sr,
                16,
                0,
                signal,
                0,
                NO_WAITS
            )
        )
    };
    // Depth 0 on both sides, then 0 on one side and 1 on the other: rows 1..4, bytes 3..8.
    for (dd, sd) in [(0, 0), (1, 0), (0, 1)] {
        let mut out = vec![0u8; 15];
        let r = b.run(c, 0, |l| {
            let rc = copy(
                l,
                &mut out,
                &region(0, 0, 5, 3, dd),
                &region(3, 1, 5, 3, sd),
                NULL_EVENT,
            );
            assert_eq!(rc, ze_result_t::ZE_RESULT_SUCCESS);
        });
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        for y in 0..3 {
            assert_eq!(
                &out[y * 5..y * 5 + 5],
                &src_data[(y + 1) * 16 + 3..(y + 1) * 16 + 8],
                "depths {dd}/{sd}, row {y}"
            );
        }
    }
    // Width 0 or height 0: nothing copied, the signal event signalled.
    let pool = b.event_pool(c, 1, 0);
    let e = b.event(pool, 0);
    for (w, h) in [(0, 3), (5, 0), (0, 0)] {
        let mut out = vec![7u8; 15];
        ok!(b, zeEventHostReset(e));
        let r = b.run(c, 0, |l| {
            let rc = copy(
                l,
                &mut out,
                &region(0, 0, w, h, 1),
                &region(3, 1, w, h, 1),
                e,
            );
            assert_eq!(rc, ze_result_t::ZE_RESULT_SUCCESS);
        });
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        ok!(b, zeEventQueryStatus(e));
        assert!(out.iter().all(|&x| x == 7), "{w} x {h}");
    }
    let l = b.list(c, 0);
    let mut out = vec![0u8; 15];
    // A 2-D region still needs rows that fit their pitch (16-byte rows of a 5-byte pitch).
    assert_eq!(
        copy(
            l,
            &mut out,
            &region(0, 0, 16, 2, 0),
            &region(0, 0, 16, 2, 0),
            NULL_EVENT
        ),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    // Depth 0 against depth 2 differs.
    assert_eq!(
        copy(
            l,
            &mut out,
            &region(0, 0, 5, 1, 2),
            &region(0, 0, 5, 1, 0),
            NULL_EVENT
        ),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, d);
    ok!(b, zeContextDestroy(c));
}

/// Checks one call against every value the specification (1.17) defines for a flag or
/// enumeration argument, and against undefined ones: `call(value)` returns its result and
/// cleans up what it created. Loader 1.8.12's validation layer knows only the values of its
/// own version and refuses newer ones itself: there, a refusal of a defined value is allowed.
fn check_values(
    b: &Backend,
    what: &str,
    defined: &[u32],
    undefined: &[u32],
    call: &dyn Fn(u32) -> ze_result_t,
) {
    let validation = b.kind == super::Kind::Loader
        && std::env::var("ZE_ENABLE_VALIDATION_LAYER").as_deref() == Ok("1");
    for &v in defined {
        let r = call(v);
        let layer_refused = validation && r == ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION;
        assert!(
            r == ze_result_t::ZE_RESULT_SUCCESS || layer_refused,
            "{what} {v:#x}: {r:?}"
        );
    }
    for &v in undefined {
        assert_eq!(
            call(v),
            ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "{what} {v:#x}"
        );
    }
}

/// Every bit of a flag type with `n` defined bits, alone and all together.
fn bits(n: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n).map(|i| 1 << i).collect();
    v.push(0);
    v.push((1 << n) - 1);
    v
}

/// Flags and enumerations of spec 1.17, call by call: every defined value accepted, an
/// undefined bit or value refused with `ZE_RESULT_ERROR_INVALID_ENUMERATION`.
fn flags_and_enumerations(b: &Backend) {
    let c = b.context();
    let dev = b.devices[0];
    // Command lists: RELAXED_ORDERING, MAXIMIZE_THROUGHPUT, EXPLICIT_ONLY, IN_ORDER,
    // EXP_CLONEABLE, COPY_OFFLOAD_HINT (ZE_BIT(5), spec 1.13+).
    check_values(
        b,
        "command list flags",
        &bits(6),
        &[1 << 6, 1 << 31],
        &|f| {
            let desc = ze_command_list_desc_t {
                flags: f,
                ..Default::default()
            };
            let mut l = null_mut();
            let r = ze!(b, zeCommandListCreate(c, dev, &desc, &mut l));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeCommandListDestroy(l));
            }
            r
        },
    );
    // Queues and immediate lists: EXPLICIT_ONLY, IN_ORDER, COPY_OFFLOAD_HINT (ZE_BIT(2)); modes
    // DEFAULT, SYNCHRONOUS, ASYNCHRONOUS; priorities NORMAL, LOW, HIGH.
    let queue = |flags: u32, mode: u32, priority: u32, immediate: bool| {
        let desc = ze_command_queue_desc_t {
            flags,
            mode: ze_command_queue_mode_t(mode as _),
            priority: ze_command_queue_priority_t(priority as _),
            ..Default::default()
        };
        if immediate {
            let mut l = null_mut();
            let r = ze!(b, zeCommandListCreateImmediate(c, dev, &desc, &mut l));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeCommandListDestroy(l));
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
        check_values(b, "queue flags", &bits(3), &[1 << 3, 1 << 31], &|f| {
            queue(f, 0, 0, immediate)
        });
        check_values(b, "queue mode", &[0, 1, 2], &[3, 0x7fff_fffe], &|m| {
            queue(0, m, 0, immediate)
        });
        check_values(b, "queue priority", &[0, 1, 2], &[3], &|p| {
            queue(0, 0, p, immediate)
        });
    }
    // Event pools: HOST_VISIBLE, IPC, KERNEL_TIMESTAMP, KERNEL_MAPPED_TIMESTAMP.
    check_values(b, "event pool flags", &bits(4), &[1 << 4], &|f| {
        let desc = ze_event_pool_desc_t {
            flags: f,
            count: 1,
            ..Default::default()
        };
        let mut p = null_mut();
        let r = ze!(b, zeEventPoolCreate(c, &desc, 0, null_mut(), &mut p));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeEventPoolDestroy(p));
        }
        // Under Miri the driver cannot make the shared memory of IPC pools (no memfd), and
        // says so: the flag is still known (not INVALID_ENUMERATION).
        let ipc = ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_IPC.0;
        if cfg!(miri) && f & ipc != 0 && r == ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE {
            return ze_result_t::ZE_RESULT_SUCCESS;
        }
        r
    });
    // Event scopes: SUBDEVICE, DEVICE, HOST (signal and wait).
    let pool = b.event_pool(c, 1, 0);
    for signal_side in [true, false] {
        check_values(b, "event scope flags", &bits(3), &[1 << 3], &|f| {
            let desc = ze_event_desc_t {
                signal: if signal_side { f } else { 0 },
                wait: if signal_side { 0 } else { f },
                ..Default::default()
            };
            let mut e = null_mut();
            let r = ze!(b, zeEventCreate(pool, &desc, &mut e));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeEventDestroy(e));
            }
            r
        });
    }
    ok!(b, zeEventPoolDestroy(pool));
    // Allocations: device BIAS_CACHED, BIAS_UNCACHED, BIAS_INITIAL_PLACEMENT; host the same
    // and BIAS_WRITE_COMBINED.
    check_values(b, "device allocation flags", &bits(3), &[1 << 3], &|f| {
        let desc = ze_device_mem_alloc_desc_t {
            flags: f,
            ..Default::default()
        };
        let mut p = null_mut();
        let r = ze!(b, zeMemAllocDevice(c, &desc, 64, 0, dev, &mut p));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeMemFree(c, p));
        }
        r
    });
    check_values(b, "host allocation flags", &bits(4), &[1 << 4], &|f| {
        let desc = ze_host_mem_alloc_desc_t {
            flags: f,
            ..Default::default()
        };
        let mut p = null_mut();
        let r = ze!(b, zeMemAllocHost(c, &desc, 64, 0, &mut p));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeMemFree(c, p));
        }
        r
    });
    check_values(
        b,
        "shared allocation host flags",
        &bits(4),
        &[1 << 4],
        &|f| {
            let (d, h) = (
                ze_device_mem_alloc_desc_t::default(),
                ze_host_mem_alloc_desc_t {
                    flags: f,
                    ..Default::default()
                },
            );
            let mut p = null_mut();
            let r = ze!(b, zeMemAllocShared(c, &d, &h, 64, 0, dev, &mut p));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeMemFree(c, p));
            }
            r
        },
    );
    // Contexts: TBD; fences: SIGNALED.
    check_values(b, "context flags", &bits(1), &[1 << 1], &|f| {
        let desc = ze_context_desc_t {
            flags: f,
            ..Default::default()
        };
        let mut x = null_mut();
        let r = ze!(b, zeContextCreate(b.driver, &desc, &mut x));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeContextDestroy(x));
        }
        r
    });
    let q = b.queue(c, 0);
    check_values(b, "fence flags", &bits(1), &[1 << 1], &|f| {
        let desc = ze_fence_desc_t {
            flags: f,
            ..Default::default()
        };
        let mut x = null_mut();
        let r = ze!(b, zeFenceCreate(q, &desc, &mut x));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeFenceDestroy(x));
        }
        r
    });
    ok!(b, zeCommandQueueDestroy(q));
    // Memory advice: READ_MOSTLY .. CLEAR_SYSTEM_MEMORY_PREFERRED_LOCATION (0..=9).
    let l = b.list(c, 0);
    let s = b.alloc_shared(c, 64, 0);
    check_values(
        b,
        "memory advice",
        &(0..10).collect::<Vec<_>>(),
        &[10],
        &|a| {
            ze!(
                b,
                zeCommandListAppendMemAdvise(l, dev, s.cast(), 64, ze_memory_advice_t(a as _))
            )
        },
    );
    ok!(b, zeCommandListDestroy(l));
    b.free(c, s);
    // Kernels: create flags FORCE_RESIDENCY, EXPLICIT_RESIDENCY; cache config LARGE_SLM,
    // LARGE_DATA; indirect access HOST, DEVICE, SHARED.
    let m = module_of(b, c, OUT_OF_BOUNDS);
    check_values(b, "kernel flags", &bits(2), &[1 << 2], &|f| {
        let desc = ze_kernel_desc_t {
            flags: f,
            pKernelName: c"write_past_end".as_ptr(),
            ..Default::default()
        };
        let mut k = null_mut();
        let r = ze!(b, zeKernelCreate(m, &desc, &mut k));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeKernelDestroy(k));
        }
        r
    });
    let k = kernel_of(b, m, c"write_past_end");
    check_values(b, "cache config flags", &bits(2), &[1 << 2], &|f| {
        ze!(b, zeKernelSetCacheConfig(k, f))
    });
    check_values(b, "indirect access flags", &bits(3), &[1 << 3], &|f| {
        ze!(b, zeKernelSetIndirectAccess(k, f))
    });
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
}

/// The specification's "object in use" rules: each destroy (or reset) of an object still in
/// use is `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` and changes nothing; once free, it succeeds.
fn objects_in_use(b: &Backend) {
    let c = b.context();
    // A module with a live kernel.
    let m = module_of(b, c, OUT_OF_BOUNDS);
    let k = kernel_of(b, m, c"write_past_end");
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeModuleDestroy(m));
    // An event pool with a live event.
    let pool = b.event_pool(c, 2, 0);
    let (gate, done) = (b.event(pool, 0), b.event(pool, 1));
    // A regular list submitted and blocked on the gate: neither destroyed nor reset.
    let data = pattern(64, 1);
    let mut out = vec![0u8; 64];
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    let mut waits = [gate];
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            out.as_mut_ptr().cast(),
            data.as_ptr().cast(),
            64,
            done,
            1,
            waits.as_mut_ptr()
        )
    );
    ok!(b, zeCommandListClose(l));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeCommandListDestroy(l)
    );
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeCommandListReset(l)
    );
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeEventPoolDestroy(pool)
    );
    // The context, with all of that (and an allocation) alive.
    let a = b.alloc_device(c, 64, 0);
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    // Let the list run: once the event its last command signals is seen, it may go.
    ok!(b, zeEventHostSignal(gate));
    ok!(b, zeEventHostSynchronize(done, u64::MAX));
    ok!(b, zeCommandListDestroy(l));
    assert!(out == data);
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    // The same on an immediate list (where the table has the function).
    if b.kind == super::Kind::Embedded || b.has("zeCommandListImmediateAppendCommandListsExp") {
        ok!(b, zeEventHostReset(gate));
        ok!(b, zeEventHostReset(done));
        let mut r = b.list(c, 0);
        ok!(b, zeCommandListAppendBarrier(r, done, 0, NO_WAITS));
        ok!(b, zeCommandListClose(r));
        let imm = b.immediate(c, 0);
        ok!(
            b,
            zeCommandListImmediateAppendCommandListsExp(
                imm,
                1,
                &mut r,
                NULL_EVENT,
                1,
                waits.as_mut_ptr()
            )
        );
        fails!(
            ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
            b,
            zeCommandListDestroy(r)
        );
        ok!(b, zeEventHostSignal(gate));
        ok!(b, zeEventHostSynchronize(done, u64::MAX));
        ok!(b, zeCommandListDestroy(r));
        b.finish(c, imm);
        ok!(b, zeCommandListDestroy(imm));
    }
    // Each remaining object keeps the context in use until it goes.
    ok!(b, zeCommandQueueDestroy(q));
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventDestroy(done));
    ok!(b, zeEventPoolDestroy(pool));
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    b.free(c, a);
    ok!(b, zeContextDestroy(c));
}

/// `ZE_COMMAND_LIST_FLAG_IN_ORDER` and `ZE_COMMAND_QUEUE_FLAG_IN_ORDER`: each command runs
/// after the previous one completed, with no event between them — here host to device, device
/// to device, device to host copies, every one delayed (`LEVEL_ZERO_CPU_COMMAND_DELAY_US`), the
/// result read after one synchronisation.
fn in_order_lists_need_no_events(b: &Backend) {
    // Loader 1.8.12's validation layer knows the flags of 1.4 only: it refuses the in-order
    // flags itself (`ZE_RESULT_ERROR_INVALID_ENUMERATION`) before the driver sees them.
    let layer = b.kind == super::Kind::Loader
        && std::env::var("ZE_ENABLE_VALIDATION_LAYER").as_deref() == Ok("1");
    let c = b.context();
    let (d1, d2) = (b.alloc_device(c, 4096, 0), b.alloc_device(c, 4096, 0));
    for immediate in [false, true] {
        let data = pattern(4096, if immediate { 3 } else { 4 });
        let mut out = vec![0u8; 4096];
        let record = |l: ze_command_list_handle_t, out: &mut Vec<u8>| {
            for (dst, src) in [
                (d1, data.as_ptr()),
                (d2, d1.cast_const()),
                (out.as_mut_ptr(), d2.cast_const()),
            ] {
                ok!(
                    b,
                    zeCommandListAppendMemoryCopy(
                        l,
                        dst.cast(),
                        src.cast(),
                        4096,
                        NULL_EVENT,
                        0,
                        NO_WAITS
                    )
                );
            }
        };
        if immediate {
            let desc = ze_command_queue_desc_t {
                flags: ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_IN_ORDER.0,
                mode: ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
                ..Default::default()
            };
            let mut l = null_mut();
            let r = ze!(
                b,
                zeCommandListCreateImmediate(c, b.devices[0], &desc, &mut l)
            );
            if layer && r == ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION {
                continue;
            }
            assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
            record(l, &mut out);
            b.finish(c, l);
            ok!(b, zeCommandListDestroy(l));
        } else {
            let desc = ze_command_list_desc_t {
                flags: ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_IN_ORDER.0,
                ..Default::default()
            };
            let mut l = null_mut();
            let r = ze!(b, zeCommandListCreate(c, b.devices[0], &desc, &mut l));
            if layer && r == ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION {
                continue;
            }
            assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
            record(l, &mut out);
            ok!(b, zeCommandListClose(l));
            let q = b.queue(c, 0);
            ok!(
                b,
                zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
            );
            ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
            ok!(b, zeCommandListDestroy(l));
            ok!(b, zeCommandQueueDestroy(q));
        }
        assert_eq!(out, data, "immediate: {immediate}");
    }
    b.free(c, d1);
    b.free(c, d2);
    ok!(b, zeContextDestroy(c));
}

/// `LEVEL_ZERO_CPU_API_VERSION=1.6`: the driver reports 1.6 and refuses the flag bits 1.6 did
/// not define (the in-order flags are of 1.7) with `ZE_RESULT_ERROR_INVALID_ENUMERATION`.
fn emulated_api_version(b: &Backend) {
    let mut v = ze_api_version_t(0);
    ok!(b, zeDriverGetApiVersion(b.driver, &mut v));
    assert_eq!(v, make_version(1, 6));
    let c = b.context();
    let dev = b.devices[0];
    check_values(
        b,
        "1.6 command list flags",
        &bits(3),
        &[1 << 3, 1 << 4, 1 << 5, 0xf],
        &|f| {
            let desc = ze_command_list_desc_t {
                flags: f,
                ..Default::default()
            };
            let mut l = null_mut();
            let r = ze!(b, zeCommandListCreate(c, dev, &desc, &mut l));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeCommandListDestroy(l));
            }
            r
        },
    );
    check_values(b, "1.6 queue flags", &bits(1), &[1 << 1, 1 << 2], &|f| {
        let desc = ze_command_queue_desc_t {
            flags: f,
            ..Default::default()
        };
        let mut q = null_mut();
        let r = ze!(b, zeCommandQueueCreate(c, dev, &desc, &mut q));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeCommandQueueDestroy(q));
        }
        r
    });
    check_values(
        b,
        "1.6 immediate list flags",
        &bits(1),
        &[1 << 1, 1 << 2],
        &|f| {
            let desc = ze_command_queue_desc_t {
                flags: f,
                ..Default::default()
            };
            let mut l = null_mut();
            let r = ze!(b, zeCommandListCreateImmediate(c, dev, &desc, &mut l));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                ok!(b, zeCommandListDestroy(l));
            }
            r
        },
    );
    ok!(b, zeContextDestroy(c));
}
