//! `pNext` chains, called as a C client would: every input descriptor refuses an extension
//! structure the driver does not implement there (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`, the
//! last-error description naming the descriptor and the structure's type), a value that is no
//! structure type (`ZE_RESULT_ERROR_INVALID_ENUMERATION`), and a looping, over-long or
//! repeating chain (`ZE_RESULT_ERROR_INVALID_ARGUMENT`), creating nothing; the structures it
//! does implement still work. Output (properties) chains: what the driver fills is filled,
//! what it does not is left as the application set it, a request it cannot answer is refused.
//! One test per descriptor family.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::{CStr, c_void};
use std::ptr::{null, null_mut};

use common::*;
use level_zero_sys::*;

const MATMUL: &[u8] = include_bytes!("../kernels/spv/matmul.O2.spv");

/// A structure type of a GPU driver's own extension (Intel's range), unknown to the headers.
const VENDOR_STYPE: u32 = 0x0003_001b;

/// This thread's last error description.
fn last_error(b: &Backend) -> String {
    let mut s = null();
    ok!(b, zeDriverGetLastErrorDescription(b.driver, &mut s));
    assert!(!s.is_null());
    // SAFETY: the driver returns a NUL-terminated string valid until its next error.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}

/// Asserts the last error names every one of `words`.
fn names(b: &Backend, words: &[&str]) {
    let text = last_error(b);
    for w in words {
        assert!(text.contains(w), "{w:?} not in the description {text:?}");
    }
}

/// The address of a structure, as a chain link.
fn link<T>(s: &T) -> *const c_void {
    (s as *const T).cast()
}

/// A bare chain element of any structure type, ending the chain or linking to `next`.
fn element(stype: u32, next: *const c_void) -> ze_base_desc_t {
    ze_base_desc_t {
        stype: ze_structure_type_t(stype),
        pNext: next,
    }
}

fn embedded() -> Backend {
    Backend::embedded(&[])
}

#[test]
fn context_descriptors_refuse_chained_structures() {
    let b = embedded();
    let hint = ze_context_power_saving_hint_exp_desc_t::default();
    let desc = ze_context_desc_t {
        pNext: link(&hint),
        ..Default::default()
    };
    let mut c = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeContextCreate(b.driver, &desc, &mut c)
    );
    names(
        &b,
        &[
            "ze_context_desc_t",
            "ZE_STRUCTURE_TYPE_POWER_SAVING_HINT_EXP_DESC",
            "ze_context_power_saving_hint_exp_desc_t",
        ],
    );
    let mut devices = b.devices.clone();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeContextCreateEx(b.driver, &desc, 1, devices.as_mut_ptr(), &mut c)
    );
    assert!(c.is_null());
    assert_eq!(b.live().contexts, 0);
    // Without a chain, as before.
    let c = b.context();
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn command_queue_and_immediate_list_descriptors_refuse_chained_structures() {
    let b = embedded();
    let c = b.context();
    let vendor = element(VENDOR_STYPE, null());
    let desc = ze_command_queue_desc_t {
        pNext: link(&vendor),
        ..Default::default()
    };
    let mut q = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeCommandQueueCreate(c, b.devices[0], &desc, &mut q)
    );
    names(
        &b,
        &[
            "ze_command_queue_desc_t",
            "0x0003001b",
            "a GPU driver's own extension structure",
        ],
    );
    let mut l = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeCommandListCreateImmediate(c, b.devices[0], &desc, &mut l)
    );
    names(&b, &["ze_command_queue_desc_t", "0x0003001b"]);
    assert_eq!(b.live().command_queues, 0);
    assert_eq!(b.live().command_lists, 0);
    let q = b.queue(c, 0);
    let l = b.immediate(c, 0);
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn command_list_descriptors_refuse_chained_structures() {
    let b = embedded();
    let c = b.context();
    let mutable = ze_mutable_command_list_exp_desc_t::default();
    let desc = ze_command_list_desc_t {
        pNext: link(&mutable),
        ..Default::default()
    };
    let mut l = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeCommandListCreate(c, b.devices[0], &desc, &mut l)
    );
    names(
        &b,
        &[
            "ze_command_list_desc_t",
            "ZE_STRUCTURE_TYPE_MUTABLE_COMMAND_LIST_EXP_DESC",
        ],
    );
    assert_eq!(b.live().command_lists, 0);
    let l = b.list(c, 0);
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn event_pool_and_event_descriptors_refuse_chained_structures() {
    // Counter-based pools are honoured while their extension is advertised: hidden, the
    // structure is refused like any other.
    let b = Backend::embedded(&[(
        "LEVEL_ZERO_CPU_HIDE_EXTENSIONS",
        "ZE_experimental_event_pool_counter_based",
    )]);
    let c = b.context();
    let counter = ze_event_pool_counter_based_exp_desc_t {
        flags:
            ze_event_pool_counter_based_exp_flag_t::ZE_EVENT_POOL_COUNTER_BASED_EXP_FLAG_IMMEDIATE.0,
        ..Default::default()
    };
    let desc = ze_event_pool_desc_t {
        pNext: link(&counter),
        count: 1,
        ..Default::default()
    };
    let mut pool = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeEventPoolCreate(c, &desc, 0, null_mut(), &mut pool)
    );
    names(
        &b,
        &[
            "ze_event_pool_desc_t",
            "ZE_STRUCTURE_TYPE_COUNTER_BASED_EVENT_POOL_EXP_DESC",
            "ze_event_pool_counter_based_exp_desc_t",
        ],
    );
    assert_eq!(b.live().event_pools, 0);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
    let b = embedded();
    let c = b.context();
    ok!(b, zeEventPoolCreate(c, &desc, 0, null_mut(), &mut pool));
    ok!(b, zeEventPoolDestroy(pool));
    let sync = ze_event_sync_mode_desc_t::default();
    let desc = ze_event_pool_desc_t {
        pNext: link(&sync),
        count: 1,
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeEventPoolCreate(c, &desc, 0, null_mut(), &mut pool)
    );
    names(
        &b,
        &[
            "ze_event_pool_desc_t",
            "ZE_STRUCTURE_TYPE_EVENT_SYNC_MODE_DESC",
            "ze_event_sync_mode_desc_t",
        ],
    );
    assert_eq!(b.live().event_pools, 0);
    let pool = b.event_pool(c, 1, 0);
    let vendor = element(VENDOR_STYPE, null());
    let edesc = ze_event_desc_t {
        pNext: link(&vendor),
        ..Default::default()
    };
    let mut e = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeEventCreate(pool, &edesc, &mut e)
    );
    names(&b, &["ze_event_desc_t", "0x0003001b"]);
    assert_eq!(b.live().events, 0);
    let e = b.event(pool, 0);
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn fence_descriptors_refuse_chained_structures() {
    let b = embedded();
    let c = b.context();
    let q = b.queue(c, 0);
    let vendor = element(VENDOR_STYPE, null());
    let desc = ze_fence_desc_t {
        pNext: link(&vendor),
        ..Default::default()
    };
    let mut f = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeFenceCreate(q, &desc, &mut f)
    );
    names(&b, &["ze_fence_desc_t", "0x0003001b"]);
    assert_eq!(b.live().fences, 0);
    let desc = ze_fence_desc_t::default();
    ok!(b, zeFenceCreate(q, &desc, &mut f));
    ok!(b, zeFenceDestroy(f));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn module_and_kernel_descriptors_refuse_chained_structures() {
    let b = embedded();
    let c = b.context();
    // ZE_experimental_module_program is not implemented: a module of several inputs is refused
    // rather than built from the descriptor's input alone.
    let sizes = [MATMUL.len()];
    let inputs = [MATMUL.as_ptr()];
    let program = ze_module_program_exp_desc_t {
        count: 1,
        inputSizes: sizes.as_ptr(),
        pInputModules: inputs.as_ptr().cast_mut(),
        ..Default::default()
    };
    let mut desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: MATMUL.len(),
        pInputModule: MATMUL.as_ptr(),
        pNext: link(&program),
        ..Default::default()
    };
    let mut m = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    names(
        &b,
        &[
            "ze_module_desc_t",
            "ZE_STRUCTURE_TYPE_MODULE_PROGRAM_EXP_DESC",
            "ze_module_program_exp_desc_t",
        ],
    );
    assert_eq!(b.live().modules, 0);
    desc.pNext = null();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    let vendor = element(VENDOR_STYPE, null());
    let mut kdesc = ze_kernel_desc_t {
        pNext: link(&vendor),
        pKernelName: c"matmul_tiled".as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeKernelCreate(m, &kdesc, &mut k)
    );
    names(&b, &["ze_kernel_desc_t", "0x0003001b"]);
    assert_eq!(b.live().kernels, 0);
    kdesc.pNext = null();
    ok!(b, zeKernelCreate(m, &kdesc, &mut k));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn allocation_descriptors_honour_relaxed_limits_and_refuse_the_rest() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_MAX_ALLOC", "1M")]);
    let c = b.context();
    let d = b.devices[0];
    let big = 2 << 20;
    let relaxed = ze_relaxed_allocation_limits_exp_desc_t {
        flags:
            ze_relaxed_allocation_limits_exp_flag_t::ZE_RELAXED_ALLOCATION_LIMITS_EXP_FLAG_MAX_SIZE
                .0,
        ..Default::default()
    };
    let mut p = null_mut();
    // Honoured: above maxMemAllocSize with the relaxed-limits descriptor, for every kind.
    let ddesc = ze_device_mem_alloc_desc_t {
        pNext: link(&relaxed),
        ..Default::default()
    };
    let hdesc = ze_host_mem_alloc_desc_t {
        pNext: link(&relaxed),
        ..Default::default()
    };
    let plain_d = ze_device_mem_alloc_desc_t::default();
    let plain_h = ze_host_mem_alloc_desc_t::default();
    ok!(b, zeMemAllocDevice(c, &ddesc, big, 64, d, &mut p));
    ok!(b, zeMemFree(c, p));
    ok!(b, zeMemAllocHost(c, &hdesc, big, 64, &mut p));
    ok!(b, zeMemFree(c, p));
    ok!(b, zeMemAllocShared(c, &ddesc, &plain_h, big, 64, d, &mut p));
    ok!(b, zeMemFree(c, p));
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeMemAllocDevice(c, &plain_d, big, 64, d, &mut p)
    );
    // Refused: external memory export, after the honoured structure or alone, on either
    // descriptor of a shared allocation.
    let export = ze_external_memory_export_desc_t {
        pNext: link(&relaxed),
        flags: ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF.0,
        ..Default::default()
    };
    let ddesc_export = ze_device_mem_alloc_desc_t {
        pNext: link(&export),
        ..Default::default()
    };
    let hdesc_export = ze_host_mem_alloc_desc_t {
        pNext: link(&export),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeMemAllocDevice(c, &ddesc_export, 64, 64, d, &mut p)
    );
    names(
        &b,
        &[
            "ze_device_mem_alloc_desc_t",
            "ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_DESC",
            "ze_external_memory_export_desc_t",
            "ZE_STRUCTURE_TYPE_RELAXED_ALLOCATION_LIMITS_EXP_DESC",
        ],
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeMemAllocHost(c, &hdesc_export, 64, 64, &mut p)
    );
    names(
        &b,
        &["ze_host_mem_alloc_desc_t", "EXTERNAL_MEMORY_EXPORT_DESC"],
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeMemAllocShared(c, &plain_d, &hdesc_export, 64, 64, d, &mut p)
    );
    let import = ze_external_memory_import_fd_t {
        fd: 0,
        flags: ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF.0,
        ..Default::default()
    };
    let ddesc_import = ze_device_mem_alloc_desc_t {
        pNext: link(&import),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeMemAllocShared(c, &ddesc_import, &plain_h, 64, 64, d, &mut p)
    );
    names(&b, &["ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMPORT_FD"]);
    // The honoured structure with flags the extension does not define.
    let odd = ze_relaxed_allocation_limits_exp_desc_t {
        flags: 0x6,
        ..Default::default()
    };
    let ddesc_odd = ze_device_mem_alloc_desc_t {
        pNext: link(&odd),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeMemAllocDevice(c, &ddesc_odd, 64, 64, d, &mut p)
    );
    // zeMemFreeExt's descriptor honours nothing.
    ok!(b, zeMemAllocHost(c, &plain_h, 64, 64, &mut p));
    let vendor = element(VENDOR_STYPE, null());
    let free = ze_memory_free_ext_desc_t {
        pNext: link(&vendor),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeMemFreeExt(c, &free, p)
    );
    names(&b, &["ze_memory_free_ext_desc_t", "0x0003001b"]);
    let free = ze_memory_free_ext_desc_t::default();
    ok!(b, zeMemFreeExt(c, &free, p));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();

    // With the extension hidden, its structure is not honoured: refused, not ignored.
    let b = Backend::embedded(&[(
        "LEVEL_ZERO_CPU_HIDE_EXTENSIONS",
        "ZE_experimental_relaxed_allocation_limits",
    )]);
    let c = b.context();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeMemAllocDevice(c, &ddesc, 64, 64, b.devices[0], &mut p)
    );
    names(&b, &["RELAXED_ALLOCATION_LIMITS_EXP_DESC"]);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn image_and_sampler_descriptors_name_the_refused_structure() {
    let b = embedded();
    let c = b.context();
    let planar = ze_image_view_planar_ext_desc_t::default();
    let desc = ze_image_desc_t {
        pNext: link(&planar),
        type_: ze_image_type_t::ZE_IMAGE_TYPE_2D,
        width: 4,
        height: 4,
        format: ze_image_format_t {
            layout: ze_image_format_layout_t::ZE_IMAGE_FORMAT_LAYOUT_32,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut img = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeImageCreate(c, b.devices[0], &desc, &mut img)
    );
    names(
        &b,
        &[
            "ze_image_desc_t",
            "ZE_STRUCTURE_TYPE_IMAGE_VIEW_PLANAR_EXT_DESC",
        ],
    );
    let mut props = ze_image_properties_t::default();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeImageGetProperties(b.devices[0], &desc, &mut props)
    );
    names(&b, &["ze_image_desc_t", "IMAGE_VIEW_PLANAR_EXT_DESC"]);
    let vendor = element(VENDOR_STYPE, null());
    let sdesc = ze_sampler_desc_t {
        pNext: link(&vendor),
        ..Default::default()
    };
    let mut s = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeSamplerCreate(c, b.devices[0], &sdesc, &mut s)
    );
    names(&b, &["ze_sampler_desc_t", "0x0003001b"]);
    assert_eq!(b.live().images, 0);
    assert_eq!(b.live().samplers, 0);
    let desc = ze_image_desc_t {
        pNext: null(),
        ..desc
    };
    ok!(b, zeImageCreate(c, b.devices[0], &desc, &mut img));
    ok!(b, zeImageDestroy(img));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn init_driver_descriptors_refuse_chained_structures() {
    let b = embedded();
    let vendor = element(VENDOR_STYPE, null());
    let mut desc = ze_init_driver_type_desc_t {
        pNext: link(&vendor),
        flags: ze_init_driver_type_flag_t::ZE_INIT_DRIVER_TYPE_FLAG_GPU.0,
        ..Default::default()
    };
    let mut n = 0;
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeInitDrivers(&mut n, null_mut(), &mut desc)
    );
    names(&b, &["ze_init_driver_type_desc_t", "0x0003001b"]);
    assert_eq!(n, 0);
}

/// What every input descriptor does with a chain that is not made of Level Zero structures, or
/// is malformed: one rule, shown on an event pool.
#[test]
fn malformed_chains_are_refused() {
    let b = embedded();
    let c = b.context();
    let try_pool = |next: *const c_void| {
        let desc = ze_event_pool_desc_t {
            pNext: next,
            count: 1,
            ..Default::default()
        };
        let mut pool = null_mut();
        let r = ze!(b, zeEventPoolCreate(c, &desc, 0, null_mut(), &mut pool));
        assert!(pool.is_null());
        (r, last_error(&b))
    };
    // Not a structure type: an uninitialised or foreign stype.
    for stype in [0u32, 0xdead_beef, 0x7fff_ffff] {
        let junk = element(stype, null());
        let (r, text) = try_pool(link(&junk));
        assert_eq!(
            r,
            ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "{stype:#x}"
        );
        assert!(text.contains("not a structure type"), "{text}");
        assert!(text.contains("ze_event_pool_desc_t"), "{text}");
    }
    // A structure type newer than the headers: unsupported, not invalid.
    let newer = element(0x0002_0030, null());
    let (r, text) = try_pool(link(&newer));
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE);
    assert!(text.contains("0x00020030"), "{text}");
    // A cycle: two elements pointing at each other (each would be refused anyway, but the
    // walk must end: shown with a structure the allocation descriptor honours).
    let relaxed_type = ze_structure_type_t::ZE_STRUCTURE_TYPE_RELAXED_ALLOCATION_LIMITS_EXP_DESC.0;
    let mut a = element(relaxed_type, null());
    a.pNext = link(&a);
    let desc = ze_device_mem_alloc_desc_t {
        pNext: link(&a),
        ..Default::default()
    };
    let mut p = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemAllocDevice(c, &desc, 64, 64, b.devices[0], &mut p)
    );
    names(&b, &["ze_device_mem_alloc_desc_t", "loops back"]);
    // The same honoured structure twice: which one counts would be a guess.
    let second = ze_relaxed_allocation_limits_exp_desc_t::default();
    let first = ze_relaxed_allocation_limits_exp_desc_t {
        pNext: link(&second),
        ..Default::default()
    };
    let desc = ze_device_mem_alloc_desc_t {
        pNext: link(&first),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemAllocDevice(c, &desc, 64, 64, b.devices[0], &mut p)
    );
    names(&b, &["twice", "RELAXED_ALLOCATION_LIMITS_EXP_DESC"]);
    assert!(p.is_null());
    assert_eq!(b.live().event_pools, 0);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn properties_chains_are_filled_left_or_refused() {
    let b = embedded();
    let c = b.context();
    let d = b.devices[0];
    // Not filled by this driver: left as the application set it, and the query succeeds
    // (the specification: unsupported extension structures are ignored; clients read the
    // untouched value as "not supported").
    let mut ip = ze_device_ip_version_ext_t {
        ipVersion: 0x1234_5678,
        ..Default::default()
    };
    let mut props = ze_device_properties_t {
        pNext: (&raw mut ip).cast(),
        ..Default::default()
    };
    ok!(b, zeDeviceGetProperties(d, &mut props));
    assert_ne!(props.maxMemAllocSize, 0);
    assert_eq!(ip.ipVersion, 0x1234_5678);
    assert_eq!(
        ip.stype,
        ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_IP_VERSION_EXT
    );
    // Not a structure type: refused, even on an output.
    let mut junk = ze_base_properties_t {
        stype: ze_structure_type_t(0xdead_beef),
        pNext: null_mut(),
    };
    let mut props = ze_device_properties_t {
        pNext: (&raw mut junk).cast(),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeDeviceGetProperties(d, &mut props)
    );
    names(&b, &["ze_device_properties_t", "not a structure type"]);
    // A request the driver cannot answer (exporting an allocation as a file descriptor):
    // refused, not left with a descriptor the application would use.
    let p = b.alloc_device(c, 64, 0);
    let mut fd = ze_external_memory_export_fd_t {
        flags: ze_external_memory_type_flag_t::ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF.0,
        fd: -1,
        ..Default::default()
    };
    let mut alloc = ze_memory_allocation_properties_t {
        pNext: (&raw mut fd).cast(),
        ..Default::default()
    };
    let mut dev = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeMemGetAllocProperties(c, p.cast(), &mut alloc, &mut dev)
    );
    names(
        &b,
        &[
            "ze_memory_allocation_properties_t",
            "ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_FD",
        ],
    );
    assert_eq!(fd.fd, -1);
    b.free(c, p);

    // Filled: the kernel's largest group (ZE_extension_kernel_max_group_size_properties),
    // whatever else the chain carries.
    let m = {
        let desc = ze_module_desc_t {
            format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
            inputSize: MATMUL.len(),
            pInputModule: MATMUL.as_ptr(),
            ..Default::default()
        };
        let mut m = null_mut();
        ok!(b, zeModuleCreate(c, d, &desc, &mut m, null_mut()));
        m
    };
    assert!(
        b.extensions()
            .iter()
            .any(|e| e == "ZE_extension_kernel_max_group_size_properties")
    );
    for (name, expected) in [(c"matmul_tiled", 256), (c"matmul_naive", 1024)] {
        let kdesc = ze_kernel_desc_t {
            pKernelName: name.as_ptr(),
            ..Default::default()
        };
        let mut k = null_mut();
        ok!(b, zeKernelCreate(m, &kdesc, &mut k));
        let mut ip = ze_device_ip_version_ext_t::default();
        let mut max = ze_kernel_max_group_size_properties_ext_t {
            pNext: (&raw mut ip).cast(),
            ..Default::default()
        };
        let mut props = ze_kernel_properties_t {
            pNext: (&raw mut max).cast(),
            ..Default::default()
        };
        ok!(b, zeKernelGetProperties(k, &mut props));
        assert_eq!(max.maxGroupSize, expected, "{name:?}");
        assert_eq!(props.pNext, (&raw mut max).cast());
        assert_eq!(max.pNext, (&raw mut ip).cast());
        assert!(props.numKernelArgs > 0);
        ok!(b, zeKernelDestroy(k));
    }
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();

    // With the extension hidden, the structure is left as the application set it.
    let b = Backend::embedded(&[(
        "LEVEL_ZERO_CPU_HIDE_EXTENSIONS",
        "ZE_extension_kernel_max_group_size_properties",
    )]);
    let c = b.context();
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: MATMUL.len(),
        pInputModule: MATMUL.as_ptr(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    let kdesc = ze_kernel_desc_t {
        pKernelName: c"matmul_tiled".as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &kdesc, &mut k));
    let mut max = ze_kernel_max_group_size_properties_ext_t::default();
    let mut props = ze_kernel_properties_t {
        pNext: (&raw mut max).cast(),
        ..Default::default()
    };
    ok!(b, zeKernelGetProperties(k, &mut props));
    assert_eq!(max.maxGroupSize, 0);
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn sysman_properties_keep_and_check_their_chains() {
    let b = embedded();
    let d = b.devices[0];
    // The nested core structure's chain is the application's: kept, and checked.
    let mut ip = ze_device_ip_version_ext_t {
        ipVersion: 7,
        ..Default::default()
    };
    let mut props = zes_device_properties_t::default();
    props.core.stype = ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES;
    props.core.pNext = (&raw mut ip).cast();
    ok!(b, zesDeviceGetProperties(d, &mut props));
    assert_eq!(props.core.pNext, (&raw mut ip).cast());
    assert_eq!(
        props.core.stype,
        ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES
    );
    assert_ne!(props.core.maxMemAllocSize, 0);
    assert_eq!(ip.ipVersion, 7);
    let mut junk = ze_base_properties_t {
        stype: ze_structure_type_t(0xdead_beef),
        pNext: null_mut(),
    };
    props.core.pNext = (&raw mut junk).cast();
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zesDeviceGetProperties(d, &mut props)
    );
    names(&b, &["ze_device_properties_t", "not a structure type"]);
    // A sysman structure's chain holds sysman structure types, named as such.
    let mut n = 1;
    let mut mem = [null_mut()];
    ok!(b, zesDeviceEnumMemoryModules(d, &mut n, mem.as_mut_ptr()));
    let mut junk = zes_base_properties_t {
        stype: zes_structure_type_t(0xdead_beef),
        pNext: null_mut(),
    };
    let mut p = zes_mem_properties_t {
        pNext: (&raw mut junk).cast(),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zesMemoryGetProperties(mem[0], &mut p)
    );
    names(&b, &["zes_mem_properties_t", "not a structure type"]);
    let mut ext = zes_mem_bandwidth_counter_bits_exp_properties_t {
        validBitsCount: 3,
        ..Default::default()
    };
    let mut p = zes_mem_properties_t {
        pNext: (&raw mut ext).cast(),
        ..Default::default()
    };
    ok!(b, zesMemoryGetProperties(mem[0], &mut p));
    assert_eq!(ext.validBitsCount, 3);
    assert_ne!(p.physicalSize, 0);
}
