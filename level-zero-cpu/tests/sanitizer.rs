//! The sanitizer report of the testing extension (`zexCpuDriverGetSanitizerReport`): the
//! memory misuse the driver caught and stopped, counted per driver instance — commands whose
//! memory was freed before they ran, kernels that accessed memory outside what they may use.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ptr::null_mut;

use common::{Backend, NO_WAITS, NULL_EVENT};
use level_zero_cpu::testing::zex_cpu_sanitizer_report_t;
use level_zero_sys::*;

#[test]
fn the_report_resolves_through_the_extension_and_starts_clean() {
    let b = Backend::embedded(&[]);
    assert!(b.extensions().iter().any(|e| e == "ZEX_cpu_driver_testing"));
    let report = b.sanitizer();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        level_zero_cpu::testing::sanitizer_report(b.driver),
        Some(report)
    );
    assert_eq!(level_zero_cpu::testing::sanitizer_report(null_mut()), None);
    // A null output is refused.
    let f = b
        .extension_function(level_zero_cpu::testing::ZEX_CPU_DRIVER_GET_SANITIZER_REPORT_FN)
        .unwrap();
    // SAFETY: the address of zexCpuDriverGetSanitizerReport, of this type.
    let get: level_zero_cpu::testing::zex_pfnCpuDriverGetSanitizerReport_t =
        unsafe { std::mem::transmute(f) };
    // SAFETY: a valid driver handle; the null output must be detected, not written.
    let r = unsafe { get.unwrap()(b.driver, null_mut()) };
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER);
}

/// A copy and a fill recorded on a regular list, their memory freed before they run.
#[test]
fn commands_that_find_their_memory_freed_are_counted() {
    let b = Backend::embedded(&[]);
    let bystander = Backend::embedded(&[]);
    let c = b.context();
    let pool = b.event_pool(c, 1, 0);
    let gate = b.event(pool, 0);
    let q = b.queue(c, 0);
    let src = vec![9u8; 4096];
    let copy_dst = b.alloc_device(c, 4096, 0);
    let fill_dst = b.alloc_shared(c, 4096, 0);
    let mut l = b.list(c, 0);
    let mut waits = [gate];
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            copy_dst.cast(),
            src.as_ptr().cast(),
            4096,
            NULL_EVENT,
            1,
            waits.as_mut_ptr()
        )
    );
    let v = [7u8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            fill_dst.cast(),
            v.as_ptr().cast(),
            1,
            4096,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(l));
    // Nothing is counted while the memory is there.
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    ok!(b, zeEventHostSignal(gate));
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    assert!(b.sanitizer().is_clean());
    // Freed while the submission waits: the copy is refused (counted once), and the fill after
    // it is skipped with the failed submission (not run, so not counted).
    ok!(b, zeEventHostReset(gate));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    b.free(c, copy_dst);
    ok!(b, zeEventHostSignal(gate));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    assert_eq!(
        b.sanitizer(),
        zex_cpu_sanitizer_report_t {
            freed_memory_accesses: 1,
            kernel_out_of_bounds_accesses: 0,
        }
    );
    // A fill on its own, its destination freed before it runs.
    let mut l2 = b.list(c, 0);
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l2,
            fill_dst.cast(),
            v.as_ptr().cast(),
            1,
            4096,
            NULL_EVENT,
            1,
            waits.as_mut_ptr()
        )
    );
    ok!(b, zeCommandListClose(l2));
    ok!(b, zeEventHostReset(gate));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l2, null_mut())
    );
    b.free(c, fill_dst);
    ok!(b, zeEventHostSignal(gate));
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    assert_eq!(b.sanitizer().freed_memory_accesses, 2);
    assert_eq!(b.sanitizer().kernel_out_of_bounds_accesses, 0);
    // Counted per instance.
    assert!(bystander.sanitizer().is_clean());
    for l in [l, l2] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

fn spv(name: &str) -> Vec<u8> {
    let path = format!("{}/kernels/spv/{name}.O2.spv", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Launches `kernel` of the `out_of_bounds` kernels on an immediate list with `args` (bytes of
/// each argument), one work-group of `group` items; the synchronisation's result.
fn launch(
    b: &Backend,
    m: ze_module_handle_t,
    list: ze_command_list_handle_t,
    kernel: &std::ffi::CStr,
    args: &[&[u8]],
    group: u32,
) -> ze_result_t {
    let desc = ze_kernel_desc_t {
        pKernelName: kernel.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &desc, &mut k));
    for (i, a) in args.iter().enumerate() {
        ok!(
            b,
            zeKernelSetArgumentValue(k, i as u32, a.len(), a.as_ptr().cast())
        );
    }
    ok!(b, zeKernelSetGroupSize(k, group, 1, 1));
    let one = ze_group_count_t {
        groupCountX: 1,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernel(list, k, &one, NULL_EVENT, 0, NO_WAITS)
    );
    let r = ze!(b, zeCommandListHostSynchronize(list, u64::MAX));
    ok!(b, zeKernelDestroy(k));
    r
}

/// The kernel engine's sanitizer stops accesses past a buffer (global and local); each stopped
/// launch is counted once, launches in bounds are not.
#[test]
fn kernel_accesses_outside_allowed_memory_are_counted() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let code = spv("out_of_bounds");
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: code.len(),
        pInputModule: code.as_ptr(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    let list = b.immediate(c, 0);
    let n = 64u32;
    let out = b.alloc_device(c, 4 * n as usize, 0);
    let inp = b.alloc_device(c, 4 * n as usize, 0);
    let ptr = |p: *mut u8| (p as u64).to_le_bytes();
    let (out_arg, in_arg, n_arg) = (ptr(out), ptr(inp), n.to_le_bytes());
    let in_bounds = 0u32.to_le_bytes();
    let past_end = 1u32.to_le_bytes();

    // In bounds: nothing counted.
    let r = launch(
        &b,
        m,
        list,
        c"write_past_end",
        &[&out_arg, &n_arg, &in_bounds],
        n,
    );
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert!(b.sanitizer().is_clean());
    // A write just past the end.
    let r = launch(
        &b,
        m,
        list,
        c"write_past_end",
        &[&out_arg, &n_arg, &past_end],
        n,
    );
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert_eq!(
        b.sanitizer(),
        zex_cpu_sanitizer_report_t {
            freed_memory_accesses: 0,
            kernel_out_of_bounds_accesses: 1,
        }
    );
    // A read past the end, and a write past a local array.
    let r = launch(
        &b,
        m,
        list,
        c"read_past_end",
        &[&in_arg, &out_arg, &n_arg, &past_end],
        n,
    );
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert_eq!(b.sanitizer().kernel_out_of_bounds_accesses, 2);
    let r = launch(&b, m, list, c"local_past_end", &[&out_arg, &past_end], 16);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert_eq!(b.sanitizer().kernel_out_of_bounds_accesses, 3);
    // In bounds again: unchanged.
    let r = launch(&b, m, list, c"local_past_end", &[&out_arg, &in_bounds], 16);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(
        b.sanitizer(),
        zex_cpu_sanitizer_report_t {
            freed_memory_accesses: 0,
            kernel_out_of_bounds_accesses: 3,
        }
    );
    ok!(b, zeCommandListDestroy(list));
    b.free(c, out);
    b.free(c, inp);
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}
