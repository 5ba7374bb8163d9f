//! The Level Zero 1.17 functions of the driver, on embedded instances (loader 1.8.12 does not
//! know them): creation queries, the default context, `zeDeviceSynchronize`, in-order lists,
//! counter-based events, host functions, launches with parameters and with arguments, and the
//! runtime (`zer`) functions of the default driver.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::{CStr, c_void};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, NO_WAITS, NULL_EVENT};
use level_zero_cpu::engine::*;
use level_zero_sys::*;

const IN_ORDER_LIST: u32 = ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_IN_ORDER.0;
const IN_ORDER_QUEUE: u32 = ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_IN_ORDER.0;
const CB_IMMEDIATE: u32 = ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_IMMEDIATE.0;
const CB_NON_IMMEDIATE: u32 =
    ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_NON_IMMEDIATE.0;

/// This thread's last error description, through `zeDriverGetLastErrorDescription`.
fn last_error(b: &Backend) -> String {
    let mut text = null();
    ok!(b, zeDriverGetLastErrorDescription(b.driver, &mut text));
    // SAFETY: the driver returned a NUL-terminated string it keeps alive.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// Reads host memory the test owns (or a host allocation) once no command writes it.
fn read_u32s(p: *const u8, n: usize) -> Vec<u32> {
    (0..n)
        // SAFETY: `p` holds `n` u32 that no command touches now (the caller synchronised).
        .map(|i| unsafe { p.cast::<u32>().add(i).read_unaligned() })
        .collect()
}

fn immediate_with(
    b: &Backend,
    c: ze_context_handle_t,
    flags: u32,
    mode: ze_command_queue_mode_t,
) -> ze_command_list_handle_t {
    let desc = ze_command_queue_desc_t {
        flags,
        mode,
        ..Default::default()
    };
    let mut l = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(c, b.devices[0], &desc, &mut l)
    );
    l
}

fn in_order_immediate(b: &Backend, c: ze_context_handle_t) -> ze_command_list_handle_t {
    immediate_with(
        b,
        c,
        IN_ORDER_QUEUE,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
    )
}

fn regular_with(b: &Backend, c: ze_context_handle_t, flags: u32) -> ze_command_list_handle_t {
    let desc = ze_command_list_desc_t {
        flags,
        ..Default::default()
    };
    let mut l = null_mut();
    ok!(b, zeCommandListCreate(c, b.devices[0], &desc, &mut l));
    l
}

fn counter_event(b: &Backend, c: ze_context_handle_t, flags: u32) -> ze_event_handle_t {
    let desc = ze_event_counter_based_desc_t {
        flags,
        ..Default::default()
    };
    let mut e = null_mut();
    ok!(b, zeEventCounterBasedCreate(c, b.devices[0], &desc, &mut e));
    e
}

fn fill(
    b: &Backend,
    l: ze_command_list_handle_t,
    dst: *mut u8,
    value: u8,
    len: usize,
    signal: ze_event_handle_t,
    waits: &mut [ze_event_handle_t],
) {
    let v = [value];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            dst.cast(),
            v.as_ptr().cast(),
            1,
            len,
            signal,
            waits.len() as u32,
            if waits.is_empty() {
                NO_WAITS
            } else {
                waits.as_mut_ptr()
            }
        )
    );
}

fn copy(
    b: &Backend,
    l: ze_command_list_handle_t,
    dst: *mut u8,
    src: *const u8,
    len: usize,
    signal: ze_event_handle_t,
    waits: &mut [ze_event_handle_t],
) {
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            dst.cast(),
            src.cast(),
            len,
            signal,
            waits.len() as u32,
            if waits.is_empty() {
                NO_WAITS
            } else {
                waits.as_mut_ptr()
            }
        )
    );
}

// ---------------------------------------------------------------------------------------------
// A stand-in kernel engine.

const SPIRV_MAGIC: u32 = 0x0723_0203;

/// `fill(global uint *dst, uint value)`: `dst[gid] = value + gid`; `slow_fill` does the same
/// after 100 ms; `with_local(local *)` does nothing.
struct Fake {
    kernels: Vec<KernelInfo>,
}

fn kernel_info(name: &str, args: Vec<ArgInfo>) -> KernelInfo {
    KernelInfo {
        name: name.into(),
        args,
        required_group_size: None,
        subgroup_size: 16,
        required_subgroup_size: None,
        private_memory_size: 0,
        local_memory_size: 0,
    }
}

impl KernelProgram for Fake {
    fn build_log(&self) -> &str {
        ""
    }
    fn kernels(&self) -> &[KernelInfo] {
        &self.kernels
    }
    fn globals(&self) -> &[GlobalVariable] {
        &[]
    }
    fn launch(
        &self,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        _output: &mut (dyn std::io::Write + Send),
    ) -> Result<(), ExecError> {
        if launch.kernel == "with_local" {
            return Ok(());
        }
        if launch.kernel == "slow_fill" {
            std::thread::sleep(Duration::from_millis(100));
        }
        let (ArgValue::Bytes(p), ArgValue::Bytes(v)) = (launch.args[0], launch.args[1]) else {
            return Err(ExecError::InvalidLaunch("bad arguments".into()));
        };
        let dst = u64::from_le_bytes(p.try_into().unwrap());
        let value = u32::from_le_bytes(v.try_into().unwrap());
        let items: u64 = (0..3)
            .map(|i| launch.group_size[i] as u64 * launch.group_count[i] as u64)
            .product();
        for gid in 0..items {
            let address = dst + 4 * gid;
            match memory.find(address) {
                Some((base, size)) if address + 4 <= base + size => {
                    // SAFETY: inside an allocation the driver says the kernel may use.
                    unsafe { (address as *mut u32).write_unaligned(value + gid as u32) };
                }
                _ => return Err(ExecError::InvalidLaunch("out of bounds".into())),
            }
        }
        Ok(())
    }
}

fn with_fake_engine(mut config: level_zero_cpu::Config) -> Backend {
    config.program_builder = Some(Arc::new(|_: &[u8], _: &BuildOptions<'_>| {
        let fill_args = vec![
            ArgInfo {
                kind: ArgKind::GlobalPointer,
                size: 8,
            },
            ArgInfo {
                kind: ArgKind::Value,
                size: 4,
            },
        ];
        Ok(Arc::new(Fake {
            kernels: vec![
                kernel_info("fill", fill_args.clone()),
                kernel_info("slow_fill", fill_args),
                kernel_info(
                    "with_local",
                    vec![ArgInfo {
                        kind: ArgKind::LocalPointer,
                        size: 0,
                    }],
                ),
            ],
        }) as Arc<dyn KernelProgram>)
    }));
    Backend::embedded_with(config)
}

fn fake_module(b: &Backend, c: ze_context_handle_t) -> ze_module_handle_t {
    let words = [SPIRV_MAGIC, 0x0001_0000, 0, 1, 0];
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: words.len() * 4,
        pInputModule: words.as_ptr().cast(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    m
}

fn kernel(b: &Backend, m: ze_module_handle_t, name: &CStr) -> ze_kernel_handle_t {
    let desc = ze_kernel_desc_t {
        pKernelName: name.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &desc, &mut k));
    k
}

fn set_fill_args(b: &Backend, k: ze_kernel_handle_t, dst: *mut u8, value: u32, group: u32) {
    let p = dst as u64;
    ok!(b, zeKernelSetArgumentValue(k, 0, 8, (&raw const p).cast()));
    ok!(
        b,
        zeKernelSetArgumentValue(k, 1, 4, (&raw const value).cast())
    );
    ok!(b, zeKernelSetGroupSize(k, group, 1, 1));
}

// ---------------------------------------------------------------------------------------------

#[test]
fn queues_and_lists_report_what_they_were_created_with() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let dev = b.devices[0];
    // A queue: index, flags, mode, priority as given.
    let desc = ze_command_queue_desc_t {
        ordinal: 2,
        index: 5,
        flags: IN_ORDER_QUEUE | ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_EXPLICIT_ONLY.0,
        mode: ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS,
        priority: ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_LOW,
        ..Default::default()
    };
    let mut q = null_mut();
    ok!(b, zeCommandQueueCreate(c, dev, &desc, &mut q));
    let (mut index, mut flags) = (0, 0);
    let mut mode = ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_DEFAULT;
    let mut priority = ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_NORMAL;
    ok!(b, zeCommandQueueGetIndex(q, &mut index));
    ok!(b, zeCommandQueueGetFlags(q, &mut flags));
    ok!(b, zeCommandQueueGetMode(q, &mut mode));
    ok!(b, zeCommandQueueGetPriority(q, &mut priority));
    assert_eq!(
        (index, flags, mode, priority),
        (5, desc.flags, desc.mode, desc.priority)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandQueueGetFlags(q, null_mut())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
        b,
        zeCommandQueueGetMode(null_mut(), &mut mode)
    );
    ok!(b, zeCommandQueueDestroy(q));

    // An immediate list: the same, and its queue flags as command-list flags.
    let desc = ze_command_queue_desc_t {
        ordinal: 1,
        index: 0,
        flags: IN_ORDER_QUEUE | ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_COPY_OFFLOAD_HINT.0,
        mode: ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
        priority: ze_command_queue_priority_t::ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_HIGH,
        ..Default::default()
    };
    let mut l = null_mut();
    ok!(b, zeCommandListCreateImmediate(c, dev, &desc, &mut l));
    ok!(b, zeCommandListImmediateGetIndex(l, &mut index));
    ok!(b, zeCommandListImmediateGetFlags(l, &mut flags));
    ok!(b, zeCommandListImmediateGetMode(l, &mut mode));
    ok!(b, zeCommandListImmediateGetPriority(l, &mut priority));
    assert_eq!(
        (index, flags, mode, priority),
        (0, desc.flags, desc.mode, desc.priority)
    );
    ok!(b, zeCommandListGetFlags(l, &mut flags));
    assert_eq!(
        flags,
        IN_ORDER_LIST | ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_COPY_OFFLOAD_HINT.0
    );
    ok!(b, zeCommandListDestroy(l));

    // A regular list: its flags; the immediate-only queries refuse it.
    let l = regular_with(
        &b,
        c,
        IN_ORDER_LIST | ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_MAXIMIZE_THROUGHPUT.0,
    );
    ok!(b, zeCommandListGetFlags(l, &mut flags));
    assert_eq!(
        flags,
        IN_ORDER_LIST | ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_MAXIMIZE_THROUGHPUT.0
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListImmediateGetFlags(l, &mut flags)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListImmediateGetMode(l, &mut mode)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListImmediateGetPriority(l, &mut priority)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListImmediateGetIndex(l, &mut index)
    );
    assert!(last_error(&b).contains("not an immediate command list"));
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListGetFlags(l, null_mut())
    );
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn the_default_context_is_the_drivers_and_spans_every_device() {
    let b = Backend::embedded(&[
        ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
        ("ZE_FLAT_DEVICE_HIERARCHY", "COMPOSITE"),
    ]);
    // SAFETY: a valid driver handle.
    let c = unsafe { b.api.zeDriverGetDefaultContext(b.driver) }.unwrap();
    assert!(!c.is_null());
    // SAFETY: as above.
    let again = unsafe { b.api.zeDriverGetDefaultContext(b.driver) }.unwrap();
    assert_eq!(c, again, "created once");
    // Every device, sub-devices included, is in it.
    let mut devices = b.devices.clone();
    for &d in &b.devices {
        let mut n = 0;
        ok!(b, zeDeviceGetSubDevices(d, &mut n, null_mut()));
        let mut subs = vec![null_mut(); n as usize];
        ok!(b, zeDeviceGetSubDevices(d, &mut n, subs.as_mut_ptr()));
        devices.extend(subs);
    }
    assert_eq!(devices.len(), 6);
    for d in devices {
        let desc = ze_device_mem_alloc_desc_t::default();
        let mut p = null_mut();
        ok!(b, zeMemAllocDevice(c, &desc, 64, 0, d, &mut p));
        ok!(b, zeMemFree(c, p));
    }
    ok!(b, zeContextGetStatus(c));
    // The driver's: not destroyed, not counted as a live object of the application.
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeContextDestroy(c));
    assert!(
        last_error(&b).contains("default context"),
        "{}",
        last_error(&b)
    );
    ok!(b, zeContextGetStatus(c));
    b.assert_no_leaks();
    // Objects made in it count as in any context.
    let q = b.queue(c, 0);
    assert_eq!(b.live().command_queues, 1);
    ok!(b, zeCommandQueueDestroy(q));
    // A bad driver handle: null, with a description.
    // SAFETY: a null handle, which the driver must refuse.
    let none = unsafe { b.api.zeDriverGetDefaultContext(null_mut()) }.unwrap();
    assert!(none.is_null());
    assert!(
        last_error(&b).contains("null driver handle"),
        "{}",
        last_error(&b)
    );
    b.assert_no_leaks();
}

#[test]
fn device_synchronize_waits_for_every_queue_and_immediate_list() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "300000")]);
    let c = b.context();
    let (h1, h2) = (b.alloc_host(c, 64), b.alloc_host(c, 64));
    let q = b.queue(c, 0);
    let mut l = b.list(c, 0);
    fill(&b, l, h1, 0x11, 64, NULL_EVENT, &mut []);
    ok!(b, zeCommandListClose(l));
    let imm = b.immediate(c, 0);
    let t = Instant::now();
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
    );
    fill(&b, imm, h2, 0x22, 64, NULL_EVENT, &mut []);
    // Device 1's idle state does not matter; device 0's work is still delayed.
    ok!(b, zeDeviceSynchronize(b.devices[1]));
    assert!(t.elapsed() < Duration::from_millis(150));
    ok!(b, zeDeviceSynchronize(b.devices[0]));
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    // SAFETY: host allocations of 64 bytes that no command writes any more.
    let (a, z) = unsafe {
        (
            std::slice::from_raw_parts(h1, 64).to_vec(),
            std::slice::from_raw_parts(h2, 64).to_vec(),
        )
    };
    assert_eq!((a, z), (vec![0x11; 64], vec![0x22; 64]));
    // Nothing pending: returns at once.
    let t = Instant::now();
    ok!(b, zeDeviceSynchronize(b.devices[0]));
    assert!(t.elapsed() < Duration::from_millis(250));

    // A failure of the device's work is returned once.
    let victim = b.alloc_device(c, 64, 0);
    copy(&b, imm, h1, victim, 64, NULL_EVENT, &mut []);
    b.free(c, victim);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeDeviceSynchronize(b.devices[0])
    );
    assert!(last_error(&b).contains("failed"), "{}", last_error(&b));
    ok!(b, zeDeviceSynchronize(b.devices[0]));
    // The list still reports it to its own synchronisation.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListHostSynchronize(imm, u64::MAX)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
        b,
        zeDeviceSynchronize(null_mut())
    );
    ok!(b, zeCommandListDestroy(imm));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandQueueDestroy(q));
    b.free(c, h1);
    b.free(c, h2);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn device_synchronize_reports_a_lost_device() {
    let b = Backend::embedded(&[
        ("LEVEL_ZERO_CPU_DEVICE_LOST_AFTER", "0"),
        ("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "50000"),
    ]);
    let c = b.context();
    let h = b.alloc_host(c, 64);
    let l = b.immediate(c, 0);
    fill(&b, l, h, 1, 64, NULL_EVENT, &mut []);
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeDeviceSynchronize(b.devices[0])
    );
    ok!(b, zeDeviceSynchronize(b.devices[1]));
    ok!(b, zeCommandListDestroy(l));
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
}

#[test]
fn device_synchronize_covers_sub_devices() {
    let b = Backend::embedded(&[
        ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
        ("ZE_FLAT_DEVICE_HIERARCHY", "COMPOSITE"),
        ("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "150000"),
    ]);
    let c = b.context();
    let h = b.alloc_host(c, 64);
    let mut n = 2;
    let mut subs = [null_mut(); 2];
    ok!(
        b,
        zeDeviceGetSubDevices(b.devices[0], &mut n, subs.as_mut_ptr())
    );
    let desc = Backend::queue_desc(
        0,
        0,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
    );
    let mut l = null_mut();
    ok!(b, zeCommandListCreateImmediate(c, subs[1], &desc, &mut l));
    let t = Instant::now();
    fill(&b, l, h, 7, 64, NULL_EVENT, &mut []);
    ok!(b, zeDeviceSynchronize(b.devices[0]));
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    // SAFETY: a host allocation no command writes any more.
    assert_eq!(unsafe { std::slice::from_raw_parts(h, 64) }, [7; 64]);
    ok!(b, zeCommandListDestroy(l));
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// In-order lists need no events between commands: a slow kernel, then a copy of what it
/// wrote, then a copy of that, all delayed, read right after one synchronisation.
#[test]
fn in_order_lists_run_each_command_after_the_previous_one() {
    let mut config = level_zero_cpu::Config::default();
    config.command_delay = Some(Duration::from_millis(20));
    let b = with_fake_engine(config);
    let c = b.context();
    let m = fake_module(&b, c);
    let k = kernel(&b, m, c"slow_fill");
    let dev = b.alloc_device(c, 256, 0);
    let dev2 = b.alloc_device(c, 256, 0);
    for immediate in [false, true] {
        let mut out = [0u32; 64];
        set_fill_args(&b, k, dev, if immediate { 100 } else { 200 }, 64);
        let counts = ze_group_count_t {
            groupCountX: 1,
            groupCountY: 1,
            groupCountZ: 1,
        };
        let record = |l: ze_command_list_handle_t, out: &mut [u32; 64]| {
            ok!(
                b,
                zeCommandListAppendLaunchKernel(l, k, &counts, NULL_EVENT, 0, NO_WAITS)
            );
            copy(&b, l, dev2, dev, 256, NULL_EVENT, &mut []);
            copy(
                &b,
                l,
                out.as_mut_ptr().cast(),
                dev2,
                256,
                NULL_EVENT,
                &mut [],
            );
        };
        if immediate {
            let l = in_order_immediate(&b, c);
            record(l, &mut out);
            ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
            ok!(b, zeCommandListDestroy(l));
        } else {
            let q = b.queue(c, 0);
            let mut l = regular_with(&b, c, IN_ORDER_LIST);
            record(l, &mut out);
            ok!(b, zeCommandListClose(l));
            ok!(
                b,
                zeCommandQueueExecuteCommandLists(q, 1, &mut l, null_mut())
            );
            ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
            ok!(b, zeCommandListDestroy(l));
            ok!(b, zeCommandQueueDestroy(q));
        }
        let base = if immediate { 100 } else { 200 };
        assert_eq!(out.to_vec(), (base..base + 64).collect::<Vec<u32>>());
    }
    b.free(c, dev);
    b.free(c, dev2);
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn counter_based_events_are_checked_at_creation() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let create = |flags: u32, signal: u32, next: *const c_void| {
        let desc = ze_event_counter_based_desc_t {
            flags,
            signal,
            pNext: next,
            ..Default::default()
        };
        let mut e = null_mut();
        let r = ze!(b, zeEventCounterBasedCreate(c, b.devices[0], &desc, &mut e));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            let mut got = 0;
            ok!(b, zeEventGetCounterBasedFlags(e, &mut got));
            assert_eq!(got, flags);
            ok!(b, zeEventDestroy(e));
        }
        r
    };
    for ok_flags in [0, 1, 2, 3, 4, 0x10, 0x20, 0x17] {
        assert_eq!(
            create(ok_flags, 0x7, null()),
            ze_result_t::ZE_RESULT_SUCCESS
        );
    }
    assert_eq!(
        create(0x80, 0, null()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION
    );
    assert_eq!(
        create(0, 0x8, null()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION
    );
    assert_eq!(
        create(0x8, 0, null()),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE
    );
    assert!(last_error(&b).contains("ZE_EVENT_COUNTER_BASED_FLAG_IPC"));
    assert_eq!(
        create(0x40, 0, null()),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE
    );
    assert!(last_error(&b).contains("GRAPH_EXTERNAL"));
    assert_eq!(
        create(0x30, 0, null()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    // External counter storage is refused by the pNext rule, naming the structure.
    let mut value = 0u64;
    let sync = ze_event_counter_based_external_sync_allocation_desc_t {
        deviceAddress: &mut value,
        hostAddress: &mut value,
        completionValue: 1,
        ..Default::default()
    };
    assert_eq!(
        create(0, 0, (&raw const sync).cast()),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE
    );
    assert!(
        last_error(&b).contains("ze_event_counter_based_external_sync_allocation_desc_t"),
        "{}",
        last_error(&b)
    );
    // Null arguments.
    let desc = ze_event_counter_based_desc_t::default();
    let mut e = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeEventCounterBasedCreate(c, b.devices[0], null(), &mut e)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeEventCounterBasedCreate(c, b.devices[0], &desc, null_mut())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
        b,
        zeEventCounterBasedCreate(null_mut(), b.devices[0], &desc, &mut e)
    );
    // A pool's event has no counter-based flags.
    let pool = b.event_pool(c, 1, 0);
    let pe = b.event(pool, 0);
    let mut got = 7;
    ok!(b, zeEventGetCounterBasedFlags(pe, &mut got));
    assert_eq!(got, 0);
    ok!(b, zeEventDestroy(pe));
    ok!(b, zeEventPoolDestroy(pool));
    // A live counter-based event keeps its context alive.
    let e = counter_event(&b, c, 0);
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    assert_eq!(b.live().events, 1);
    ok!(b, zeEventDestroy(e));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn counter_based_events_follow_the_specifications_rules() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let h = b.alloc_host(c, 64);
    let e = counter_event(&b, c, 0);
    // Never signalled: its counter is at zero, complete.
    ok!(b, zeEventQueryStatus(e));
    ok!(b, zeEventHostSynchronize(e, 0));
    // Never signalled nor reset by the host, never reset by a command.
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeEventHostSignal(e));
    assert!(last_error(&b).contains("counter-based"));
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeEventHostReset(e));
    let l = in_order_immediate(&b, c);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendEventReset(l, e)
    );
    // Only in-order lists.
    let plain = b.immediate(c, 0);
    let v = [1u8];
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendMemoryFill(plain, h.cast(), v.as_ptr().cast(), 1, 64, e, 0, NO_WAITS)
    );
    assert!(last_error(&b).contains("in order"), "{}", last_error(&b));
    let mut waits = [e];
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendWaitOnEvents(plain, 1, waits.as_mut_ptr())
    );
    let regular_plain = regular_with(&b, c, 0);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendBarrier(regular_plain, e, 0, NO_WAITS)
    );
    // An event for immediate lists (the default) is not signalled by a regular list, and one
    // for regular lists not by an immediate list.
    let regular = regular_with(&b, c, IN_ORDER_LIST);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendBarrier(regular, e, 0, NO_WAITS)
    );
    let e_regular = counter_event(&b, c, CB_NON_IMMEDIATE);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendBarrier(l, e_regular, 0, NO_WAITS)
    );
    let both = counter_event(&b, c, CB_IMMEDIATE | CB_NON_IMMEDIATE);
    ok!(b, zeCommandListAppendBarrier(l, both, 0, NO_WAITS));
    ok!(b, zeCommandListAppendBarrier(regular, both, 0, NO_WAITS));
    // Nothing of a refused append stays: the event still stands for nothing pending.
    ok!(b, zeEventHostSynchronize(e, 0));
    // IPC and device addresses are not implemented.
    let mut ipc = ze_ipc_event_counter_based_handle_t::default();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeEventCounterBasedGetIpcHandle(e, &mut ipc)
    );
    let mut opened = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeEventCounterBasedOpenIpcHandle(c, ipc, &mut opened)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeEventCounterBasedCloseIpcHandle(e)
    );
    let (mut value, mut address) = (0u64, 0u64);
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeEventCounterBasedGetDeviceAddress(e, &mut value, &mut address)
    );
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    for list in [l, plain, regular_plain, regular] {
        ok!(b, zeCommandListDestroy(list));
    }
    for ev in [e, e_regular, both] {
        ok!(b, zeEventDestroy(ev));
    }
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// Each append that signals a counter-based event makes it stand for that command; a wait
/// appended later waits for what it stood for at the append, not for later signals.
#[test]
fn counter_based_events_stand_for_their_latest_signalling_command() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "250000")]);
    let c = b.context();
    let x = b.alloc_host(c, 64);
    let y = b.alloc_host(c, 64);
    let e = counter_event(
        &b,
        c,
        ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_HOST_VISIBLE.0,
    );
    let pool = b.event_pool(c, 2, 0);
    let gate = b.event(pool, 0);
    let copied = b.event(pool, 1);
    let a = in_order_immediate(&b, c);
    let other = in_order_immediate(&b, c);

    // A: X = 1, signalling E.
    fill(&b, a, x, 1, 64, e, &mut []);
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e));
    // The other list: wait for E (X = 1 done), copy X to Y, signal `copied`.
    copy(&b, other, y, x, 64, copied, &mut [e]);
    // A: after the host opens `gate`, X = 2, signalling E again.
    fill(&b, a, x, 2, 64, e, &mut [gate]);
    // The copy waited for the first fill only: it completes while the second is held.
    ok!(b, zeEventHostSynchronize(copied, u64::MAX));
    // SAFETY: host allocations no command writes now (the second fill waits for `gate`).
    assert_eq!(unsafe { std::slice::from_raw_parts(y, 64) }, [1; 64]);
    // E now stands for the held fill.
    fails!(
        ZE_RESULT_NOT_READY,
        b,
        zeEventHostSynchronize(e, 10_000_000)
    );
    ok!(b, zeEventHostSignal(gate));
    ok!(b, zeEventHostSynchronize(e, u64::MAX));
    // SAFETY: as above; everything completed.
    assert_eq!(unsafe { std::slice::from_raw_parts(x, 64) }, [2; 64]);
    // A list of another device waits for it too (P2P on), with zeCommandListAppendSignalEvent
    // standing for the commands before it.
    let desc = Backend::queue_desc(
        0,
        0,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
    );
    let desc = ze_command_queue_desc_t {
        flags: IN_ORDER_QUEUE,
        ..desc
    };
    let mut d1 = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(c, b.devices[1], &desc, &mut d1)
    );
    fill(&b, d1, x, 3, 64, NULL_EVENT, &mut []);
    ok!(b, zeCommandListAppendSignalEvent(d1, e));
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e));
    copy(&b, a, y, x, 64, NULL_EVENT, &mut [e]);
    ok!(b, zeCommandListHostSynchronize(a, u64::MAX));
    ok!(b, zeEventQueryStatus(e));
    // SAFETY: as above.
    assert_eq!(unsafe { std::slice::from_raw_parts(y, 64) }, [3; 64]);

    for l in [a, other, d1] {
        ok!(b, zeCommandListDestroy(l));
    }
    for ev in [e, gate, copied] {
        ok!(b, zeEventDestroy(ev));
    }
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, x);
    b.free(c, y);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// On regular lists, each execution makes the event stand for that execution's command.
#[test]
fn counter_based_events_of_regular_lists_follow_each_execution() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "250000")]);
    let c = b.context();
    let x = b.alloc_host(c, 64);
    let y = b.alloc_host(c, 64);
    let e = counter_event(
        &b,
        c,
        CB_NON_IMMEDIATE
            | ze_event_counter_based_flag_t::ZE_EVENT_COUNTER_BASED_FLAG_DEVICE_TIMESTAMP.0,
    );
    let (q1, q2) = (b.queue(c, 0), b.queue(c, 0));
    // L1: copy the round's pattern from `src` to X, signalling E.
    let src = b.alloc_host(c, 64);
    let mut l1 = regular_with(&b, c, IN_ORDER_LIST);
    copy(&b, l1, x, src, 64, e, &mut []);
    ok!(b, zeCommandListClose(l1));
    // L2: wait for E, copy X to Y.
    let mut l2 = regular_with(&b, c, IN_ORDER_LIST);
    copy(&b, l2, y, x, 64, NULL_EVENT, &mut [e]);
    ok!(b, zeCommandListClose(l2));
    // Recorded but never executed: E stands for nothing pending.
    ok!(b, zeEventQueryStatus(e));
    for round in 1..=2u8 {
        // SAFETY: a host allocation of 64 bytes no command touches now.
        unsafe { std::ptr::write_bytes(src, round, 64) };
        ok!(
            b,
            zeCommandQueueExecuteCommandLists(q1, 1, &mut l1, null_mut())
        );
        fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e));
        ok!(
            b,
            zeCommandQueueExecuteCommandLists(q2, 1, &mut l2, null_mut())
        );
        ok!(b, zeCommandQueueSynchronize(q2, u64::MAX));
        // SAFETY: host allocations no command writes now (both queues are idle: L2 waited
        // for L1's command).
        assert_eq!(unsafe { std::slice::from_raw_parts(y, 64) }, [round; 64]);
        ok!(b, zeEventHostSynchronize(e, u64::MAX));
        let mut ts = ze_kernel_timestamp_result_t::default();
        ok!(b, zeEventQueryKernelTimestamp(e, &mut ts));
        assert!(ts.global.kernelStart <= ts.global.kernelEnd && ts.global.kernelStart > 0);
        ok!(b, zeCommandQueueSynchronize(q1, u64::MAX));
    }
    // A reset list forgets its counter-based events: executing it empty signals nothing.
    ok!(b, zeCommandListReset(l1));
    ok!(b, zeCommandListClose(l1));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q1, 1, &mut l1, null_mut())
    );
    ok!(b, zeEventQueryStatus(e));
    ok!(b, zeCommandQueueSynchronize(q1, u64::MAX));
    for l in [l1, l2] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeCommandQueueDestroy(q1));
    ok!(b, zeCommandQueueDestroy(q2));
    ok!(b, zeEventDestroy(e));
    b.free(c, x);
    b.free(c, y);
    b.free(c, src);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// A counter-based event of a lost device's command reports the loss.
#[test]
fn counter_based_events_report_a_lost_device() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_DEVICE_LOST_AFTER", "1")]);
    let c = b.context();
    let h = b.alloc_host(c, 64);
    let e = counter_event(&b, c, 0);
    let l = in_order_immediate(&b, c);
    fill(&b, l, h, 1, 64, e, &mut []);
    ok!(b, zeEventHostSynchronize(e, u64::MAX));
    fill(&b, l, h, 2, 64, e, &mut []);
    fails!(
        ZE_RESULT_ERROR_DEVICE_LOST,
        b,
        zeEventHostSynchronize(e, u64::MAX)
    );
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeEventDestroy(e));
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
}

/// What a host function saw.
#[derive(Default)]
struct HostLog {
    calls: AtomicU32,
    /// The first u32 of the buffer each call read.
    seen: Mutex<Vec<u32>>,
    threads: Mutex<Vec<std::thread::ThreadId>>,
    /// The buffer the function reads, then writes 0x77 to.
    buffer: AtomicU64,
}

unsafe extern "C" fn host_function(user: *mut c_void) {
    // SAFETY: the test passes a `HostLog` that outlives every call.
    let log = unsafe { &*user.cast::<HostLog>() };
    let p = log.buffer.load(Ordering::SeqCst) as *mut u32;
    // SAFETY: a host allocation of the test, which no command touches while the list runs
    // this function (in order: the commands around it wait).
    let v = unsafe { p.read() };
    log.seen.lock().unwrap().push(v);
    // SAFETY: as above.
    unsafe { p.write(0x7777_7777) };
    log.threads
        .lock()
        .unwrap()
        .push(std::thread::current().id());
    log.calls.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn host_functions_run_once_in_order_on_the_worker() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let x = b.alloc_host(c, 64);
    let y = b.alloc_host(c, 64);
    let log = HostLog::default();
    log.buffer.store(x as u64, Ordering::SeqCst);
    let user = (&raw const log).cast_mut().cast::<c_void>();
    let pool = b.event_pool(c, 2, 0);
    let (gate, done) = (b.event(pool, 0), b.event(pool, 1));

    // Immediate: fill X, the function (reads X, writes 0x77777777), copy X to Y. The
    // function waits for `gate`, so nothing of it runs on this thread nor before the gate.
    let l = in_order_immediate(&b, c);
    fill(&b, l, x, 0x11, 64, NULL_EVENT, &mut []);
    let mut waits = [gate];
    ok!(
        b,
        zeCommandListAppendHostFunction(
            l,
            Some(host_function),
            user,
            null(),
            done,
            1,
            waits.as_mut_ptr()
        )
    );
    copy(&b, l, y, x, 64, NULL_EVENT, &mut []);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        log.calls.load(Ordering::SeqCst),
        0,
        "ran before its wait event"
    );
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(done));
    ok!(b, zeEventHostSignal(gate));
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    ok!(b, zeEventQueryStatus(done));
    assert_eq!(log.calls.load(Ordering::SeqCst), 1);
    assert_eq!(*log.seen.lock().unwrap(), [0x1111_1111]);
    assert_eq!(
        read_u32s(y, 1),
        [0x7777_7777],
        "the copy ran after the function"
    );
    assert_ne!(log.threads.lock().unwrap()[0], std::thread::current().id());
    // Even on an idle list, never on the appending thread.
    ok!(
        b,
        zeCommandListAppendHostFunction(
            l,
            Some(host_function),
            user,
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    assert_ne!(log.threads.lock().unwrap()[1], std::thread::current().id());

    // Regular: once per execution.
    let q = b.queue(c, 0);
    let mut r = regular_with(&b, c, IN_ORDER_LIST);
    fill(&b, r, x, 0x22, 64, NULL_EVENT, &mut []);
    ok!(
        b,
        zeCommandListAppendHostFunction(
            r,
            Some(host_function),
            user,
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(r));
    for _ in 0..3 {
        ok!(
            b,
            zeCommandQueueExecuteCommandLists(q, 1, &mut r, null_mut())
        );
    }
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    assert_eq!(log.calls.load(Ordering::SeqCst), 5);
    assert_eq!(
        *log.seen.lock().unwrap(),
        [
            0x1111_1111,
            0x7777_7777,
            0x2222_2222,
            0x2222_2222,
            0x2222_2222
        ]
    );

    // Refused: a null function, a chained structure.
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendHostFunction(l, None, user, null(), NULL_EVENT, 0, NO_WAITS)
    );
    let cooperative = ze_command_list_append_launch_kernel_param_cooperative_desc_t::default();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeCommandListAppendHostFunction(
            l,
            Some(host_function),
            user,
            (&raw const cooperative).cast(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    assert!(last_error(&b).contains("zeCommandListAppendHostFunction.pNext"));
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    assert_eq!(log.calls.load(Ordering::SeqCst), 5);
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandListDestroy(r));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventDestroy(done));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, x);
    b.free(c, y);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn launches_with_arguments_set_the_kernel_and_run_it() {
    let b = with_fake_engine(level_zero_cpu::Config::default());
    let c = b.context();
    let m = fake_module(&b, c);
    let k = kernel(&b, m, c"fill");
    let dst = b.alloc_host(c, 256);
    let l = in_order_immediate(&b, c);
    let counts = ze_group_count_t {
        groupCountX: 2,
        groupCountY: 1,
        groupCountZ: 1,
    };
    let sizes = ze_group_size_t {
        groupSizeX: 8,
        groupSizeY: 1,
        groupSizeZ: 1,
    };
    let p = dst as u64;
    let value = 1000u32;
    let mut args = [
        (&raw const p).cast_mut().cast::<c_void>(),
        (&raw const value).cast_mut().cast::<c_void>(),
    ];
    ok!(
        b,
        zeCommandListAppendLaunchKernelWithArguments(
            l,
            k,
            counts,
            sizes,
            args.as_mut_ptr(),
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    assert_eq!(read_u32s(dst, 16), (1000..1016).collect::<Vec<u32>>());
    // The kernel keeps its group size and arguments: a plain launch runs the same.
    let one = ze_group_count_t {
        groupCountX: 4,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &one, NULL_EVENT, 0, NO_WAITS)
    );
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    assert_eq!(read_u32s(dst, 32), (1000..1032).collect::<Vec<u32>>());
    // A bad group size or argument changes nothing of the kernel.
    let bad_size = ze_group_size_t {
        groupSizeX: 0,
        ..sizes
    };
    let other = 5u32;
    let mut other_args = [args[0], (&raw const other).cast_mut().cast::<c_void>()];
    fails!(
        ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
        b,
        zeCommandListAppendLaunchKernelWithArguments(
            l,
            k,
            counts,
            bad_size,
            other_args.as_mut_ptr(),
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendLaunchKernelWithArguments(
            l,
            k,
            counts,
            sizes,
            null_mut(),
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &one, NULL_EVENT, 0, NO_WAITS)
    );
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    assert_eq!(read_u32s(dst, 32), (1000..1032).collect::<Vec<u32>>());
    // A local-memory argument has no size here: refused, naming it.
    let kl = kernel(&b, m, c"with_local");
    let mut local = [null_mut::<c_void>()];
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeCommandListAppendLaunchKernelWithArguments(
            l,
            kl,
            counts,
            sizes,
            local.as_mut_ptr(),
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    assert!(last_error(&b).contains("local-memory argument"));
    // Events: signal and wait, in a regular list too.
    let e = counter_event(&b, c, CB_NON_IMMEDIATE);
    let q = b.queue(c, 0);
    let mut r = regular_with(&b, c, IN_ORDER_LIST);
    ok!(
        b,
        zeCommandListAppendLaunchKernelWithArguments(
            r,
            k,
            counts,
            sizes,
            other_args.as_mut_ptr(),
            null(),
            e,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(r));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut r, null_mut())
    );
    ok!(b, zeEventHostSynchronize(e, u64::MAX));
    assert_eq!(read_u32s(dst, 16), (5..21).collect::<Vec<u32>>());
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    ok!(b, zeCommandListDestroy(r));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeEventDestroy(e));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeKernelDestroy(kl));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, dst);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn launches_with_parameters_honour_the_cooperative_descriptor_only() {
    let b = with_fake_engine(level_zero_cpu::Config::default());
    let c = b.context();
    let m = fake_module(&b, c);
    let k = kernel(&b, m, c"fill");
    let dst = b.alloc_host(c, 256);
    set_fill_args(&b, k, dst, 40, 4);
    let l = in_order_immediate(&b, c);
    let counts = |n| ze_group_count_t {
        groupCountX: n,
        groupCountY: 1,
        groupCountZ: 1,
    };
    let launch = |list, n: u32, next: *const c_void| {
        let g = counts(n);
        ze!(
            b,
            zeCommandListAppendLaunchKernelWithParameters(
                list, k, &g, next, NULL_EVENT, 0, NO_WAITS
            )
        )
    };
    assert_eq!(launch(l, 2, null()), ze_result_t::ZE_RESULT_SUCCESS);
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    assert_eq!(read_u32s(dst, 8), (40..48).collect::<Vec<u32>>());
    // Cooperative: the checks of zeCommandListAppendLaunchCooperativeKernel (one work-group).
    let cooperative = ze_command_list_append_launch_kernel_param_cooperative_desc_t {
        isCooperative: 1,
        ..Default::default()
    };
    let next = (&raw const cooperative).cast::<c_void>();
    assert_eq!(launch(l, 1, next), ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(
        launch(l, 2, next),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error(&b).contains("cooperative"));
    let not = ze_command_list_append_launch_kernel_param_cooperative_desc_t {
        isCooperative: 0,
        ..Default::default()
    };
    assert_eq!(
        launch(l, 2, (&raw const not).cast()),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    // On a copy-only group, cooperative launches are refused like the plain ones.
    let desc = ze_command_queue_desc_t {
        ordinal: 1,
        flags: IN_ORDER_QUEUE,
        ..Default::default()
    };
    let mut copy_list = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(c, b.devices[0], &desc, &mut copy_list)
    );
    assert_eq!(
        launch(copy_list, 1, next),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    // Any other structure is refused, naming it.
    let sync = ze_event_sync_mode_desc_t::default();
    assert_eq!(
        launch(l, 1, (&raw const sync).cast()),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE
    );
    assert!(
        last_error(&b).contains("ze_event_sync_mode_desc_t"),
        "{}",
        last_error(&b)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendLaunchKernelWithParameters(
            l,
            k,
            null(),
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    ok!(b, zeCommandListDestroy(copy_list));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    b.free(c, dst);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// The runtime (`zer`) functions work on the default driver, the one `zeInit` initialises
/// (this is the only test of this binary that uses it).
#[test]
fn runtime_functions_use_the_default_driver() {
    // SAFETY: this crate's getters honour the specification.
    let (api, _) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    let error_text = |api: &Api| {
        let mut text = null();
        // SAFETY: a valid output pointer.
        let r = unsafe { api.zerGetLastErrorDescription(&mut text) }.unwrap();
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
        // SAFETY: the driver returned a NUL-terminated string it keeps alive.
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    };
    // Before zeInit: nothing.
    // SAFETY: no arguments.
    assert!(unsafe { api.zerGetDefaultContext() }.unwrap().is_null());
    assert!(error_text(&api).contains("zeInit"), "{}", error_text(&api));
    // SAFETY: an identifier; the driver checks it.
    assert!(
        unsafe { api.zerTranslateIdentifierToDeviceHandle(0) }
            .unwrap()
            .is_null()
    );
    // SAFETY: plain calls.
    unsafe {
        assert_eq!(api.zeInit(0).unwrap(), ze_result_t::ZE_RESULT_SUCCESS);
    }
    let (mut n, mut driver) = (1, null_mut());
    // SAFETY: valid outputs.
    let r = unsafe { api.zeDriverGet(&mut n, &mut driver) }.unwrap();
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let b = Backend {
        api,
        kind: common::Kind::Embedded,
        wrapped: false,
        driver,
        devices: Vec::new(),
    };
    let mut count = 0;
    ok!(b, zeDeviceGet(driver, &mut count, null_mut()));
    let mut devices = vec![null_mut(); count as usize];
    ok!(b, zeDeviceGet(driver, &mut count, devices.as_mut_ptr()));
    // The default context is the default driver's.
    // SAFETY: no arguments; a valid driver handle.
    let (c, dc) = unsafe {
        (
            b.api.zerGetDefaultContext().unwrap(),
            b.api.zeDriverGetDefaultContext(driver).unwrap(),
        )
    };
    assert!(!c.is_null());
    assert_eq!(c, dc);
    // Identifiers: zeDeviceGet's order, and back.
    for (i, &d) in devices.iter().enumerate() {
        // SAFETY: a device handle of the default driver.
        let id = unsafe { b.api.zerTranslateDeviceHandleToIdentifier(d) }.unwrap();
        assert_eq!(id, i as u32);
        // SAFETY: an identifier; the driver checks it.
        let back = unsafe { b.api.zerTranslateIdentifierToDeviceHandle(id) }.unwrap();
        assert_eq!(back, d);
    }
    // SAFETY: an identifier no device has.
    assert!(
        unsafe { b.api.zerTranslateIdentifierToDeviceHandle(count) }
            .unwrap()
            .is_null()
    );
    assert!(
        error_text(&b.api).contains("identifier"),
        "{}",
        error_text(&b.api)
    );
    // A device of another driver instance has no identifier here.
    let other = Backend::embedded(&[]);
    // SAFETY: a device handle of another instance, which the driver checks.
    let id = unsafe { b.api.zerTranslateDeviceHandleToIdentifier(other.devices[0]) }.unwrap();
    assert_eq!(id, u32::MAX);
    assert!(
        error_text(&b.api).contains("another driver"),
        "{}",
        error_text(&b.api)
    );
    // zerGetLastErrorDescription is zeDriverGetLastErrorDescription's text.
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeDeviceGetProperties(devices[0], null_mut())
    );
    assert_eq!(error_text(&b.api), last_error(&b));
    assert!(
        error_text(&b.api).contains("INVALID_NULL_POINTER"),
        "{}",
        error_text(&b.api)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zerGetLastErrorDescription(null_mut())
    );
}

/// `ZE_experimental_event_pool_counter_based`: the events of a pool created with
/// `ze_event_pool_counter_based_exp_desc_t` are counter-based.
#[test]
fn counter_based_event_pools_make_counter_based_events() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "250000")]);
    assert!(
        b.extensions()
            .iter()
            .any(|e| e == "ZE_experimental_event_pool_counter_based")
    );
    let c = b.context();
    let pool_with = |flags: u32, pool_flags: u32| {
        let counter = ze_event_pool_counter_based_exp_desc_t {
            flags,
            ..Default::default()
        };
        let desc = ze_event_pool_desc_t {
            pNext: (&raw const counter).cast(),
            flags: pool_flags,
            count: 2,
            ..Default::default()
        };
        let mut pool = null_mut();
        let r = ze!(b, zeEventPoolCreate(c, &desc, 0, null_mut(), &mut pool));
        (r, pool)
    };
    assert_eq!(
        pool_with(0x4, 0).0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION
    );
    assert_eq!(
        pool_with(0x1, ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_IPC.0).0,
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE
    );
    let (r, pool) = pool_with(
        ze_event_pool_counter_based_exp_flag_t::ZE_EVENT_POOL_COUNTER_BASED_EXP_FLAG_IMMEDIATE.0,
        ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0,
    );
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let e = b.event(pool, 0);
    let mut flags = 0;
    ok!(b, zeEventGetCounterBasedFlags(e, &mut flags));
    assert_eq!(flags, CB_IMMEDIATE);
    fails!(ZE_RESULT_ERROR_INVALID_ARGUMENT, b, zeEventHostSignal(e));
    ok!(b, zeEventQueryStatus(e));
    let h = b.alloc_host(c, 64);
    let plain = b.immediate(c, 0);
    let v = [1u8];
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendMemoryFill(plain, h.cast(), v.as_ptr().cast(), 1, 64, e, 0, NO_WAITS)
    );
    let l = in_order_immediate(&b, c);
    fill(&b, l, h, 9, 64, e, &mut []);
    fails!(ZE_RESULT_NOT_READY, b, zeEventQueryStatus(e));
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeEventPoolDestroy(pool)
    );
    ok!(b, zeEventHostSynchronize(e, u64::MAX));
    let mut ts = ze_kernel_timestamp_result_t::default();
    ok!(b, zeEventQueryKernelTimestamp(e, &mut ts));
    assert!(ts.context.kernelStart > 0 && ts.context.kernelStart <= ts.context.kernelEnd);
    // SAFETY: a host allocation no command writes now.
    assert_eq!(unsafe { std::slice::from_raw_parts(h, 64) }, [9; 64]);
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeCommandListDestroy(plain));
    ok!(b, zeEventDestroy(e));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, h);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}
