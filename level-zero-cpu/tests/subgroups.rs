//! Sub-group sizes as a Level Zero client sees them: the device reports 8, 16 and 32
//! (`subGroupSizes`), a kernel its size (`maxSubgroupSize`: the configured default, or its
//! `intel_reqd_sub_group_size`) and its requirement (`requiredSubgroupSize`).

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::CString;
use std::ptr::null_mut;

use common::Backend;
use level_zero_sys::*;

fn kernel_props(b: &Backend, module: &str, name: &str) -> ze_kernel_properties_t {
    let c = b.context();
    let spv = std::fs::read(format!(
        "{}/kernels/spv/{module}.O2.spv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: spv.len(),
        pInputModule: spv.as_ptr(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    let cname = CString::new(name).unwrap();
    let kd = ze_kernel_desc_t {
        pKernelName: cname.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &kd, &mut k));
    let mut p = ze_kernel_properties_t::default();
    ok!(b, zeKernelGetProperties(k, &mut p));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    p
}

#[test]
fn devices_report_intel_sub_group_sizes_and_kernels_their_own() {
    let b = Backend::embedded(&[]);
    let mut props = ze_device_compute_properties_t::default();
    ok!(b, zeDeviceGetComputeProperties(b.devices[0], &mut props));
    assert_eq!(props.numSubGroupSizes, 3);
    assert_eq!(&props.subGroupSizes[..3], &[8, 16, 32]);

    let p = kernel_props(&b, "subgroups", "sg_info");
    assert_eq!((p.maxSubgroupSize, p.requiredSubgroupSize), (16, 0));
    assert_eq!(p.maxNumSubgroups, 1024 / 16);
    let p = kernel_props(&b, "subgroups_required", "sg_required");
    assert_eq!((p.maxSubgroupSize, p.requiredSubgroupSize), (8, 8));
    b.assert_no_leaks();

    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_SUBGROUP_SIZE", "32")]);
    let p = kernel_props(&b, "subgroups", "sg_info");
    assert_eq!((p.maxSubgroupSize, p.requiredSubgroupSize), (32, 0));
    let p = kernel_props(&b, "subgroups_required", "sg_required");
    assert_eq!((p.maxSubgroupSize, p.requiredSubgroupSize), (8, 8));
    b.assert_no_leaks();
}

#[test]
fn a_sub_group_size_the_devices_do_not_report_is_a_configuration_error() {
    for bad in ["4", "64", "sixteen"] {
        let (_, errors) = level_zero_cpu::Config::from_vars([(
            "LEVEL_ZERO_CPU_SUBGROUP_SIZE".to_string(),
            bad.to_string(),
        )]);
        assert!(
            errors.iter().any(|e| e.variable.contains("SUBGROUP_SIZE")),
            "{bad}: {errors:?}"
        );
    }
}
