//! Modules and kernels end to end, on the embedded driver with a stand-in kernel engine plugged
//! in through `Config::program_builder` (the real SPIR-V engine lands separately): module
//! creation and build options, kernel arguments and group sizes with their error codes,
//! launches (direct, indirect, regular and immediate lists), and launch failures made visible.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::{Arc, Mutex};

use common::{Backend, NO_WAITS, NULL_EVENT};
use level_zero_cpu::engine::*;
use level_zero_sys::*;

const SPIRV_MAGIC: u32 = 0x0723_0203;

/// A stand-in engine: kernels written in Rust against the driver's [`MemoryMap`].
struct Fake {
    kernels: Vec<KernelInfo>,
    globals: Vec<GlobalVariable>,
    _storage: Box<[u8; 64]>,
}

fn arg(kind: ArgKind, size: usize) -> ArgInfo {
    ArgInfo { kind, size }
}

fn kernel(name: &str, args: Vec<ArgInfo>, required: Option<[u32; 3]>) -> KernelInfo {
    KernelInfo {
        name: name.into(),
        args,
        required_group_size: required,
        subgroup_size: 16,
        required_subgroup_size: None,
        private_memory_size: 16,
        local_memory_size: 32,
    }
}

impl Fake {
    fn new() -> Fake {
        let storage = Box::new([0u8; 64]);
        let address = storage.as_ptr() as u64;
        Fake {
            kernels: vec![
                // fill(global uint *dst, uint value): dst[gid] = value + gid
                kernel(
                    "fill",
                    vec![arg(ArgKind::GlobalPointer, 8), arg(ArgKind::Value, 4)],
                    None,
                ),
                kernel("fixed", vec![], Some([4, 2, 1])),
                kernel("with_local", vec![arg(ArgKind::LocalPointer, 0)], None),
                kernel("fails", vec![], None),
                kernel("panics", vec![], None),
            ],
            globals: vec![GlobalVariable {
                name: "table".into(),
                address,
                size: 64,
            }],
            _storage: storage,
        }
    }
}

impl KernelProgram for Fake {
    fn build_log(&self) -> &str {
        "fake engine: built"
    }
    fn kernels(&self) -> &[KernelInfo] {
        &self.kernels
    }
    fn globals(&self) -> &[GlobalVariable] {
        &self.globals
    }
    fn launch(
        &self,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        _output: &mut (dyn std::io::Write + Send),
    ) -> Result<(), ExecError> {
        match launch.kernel {
            "fill" => {
                let (ArgValue::Bytes(p), ArgValue::Bytes(v)) = (launch.args[0], launch.args[1])
                else {
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
                            let x = value + gid as u32 + launch.global_offset[0];
                            // SAFETY: inside an allocation the driver says the kernel may use.
                            unsafe { (address as *mut u32).write_unaligned(x) };
                        }
                        _ => {
                            return Err(ExecError::OutOfBounds {
                                kernel: "fill".into(),
                                address,
                                size: 4,
                                write: true,
                                global_id: [gid, 0, 0],
                            });
                        }
                    }
                }
                Ok(())
            }
            "fails" => Err(ExecError::Failed("fake engine: failed on purpose".into())),
            "panics" => panic!("fake engine: panicked on purpose"),
            _ => Ok(()),
        }
    }
}

/// What the driver passed to the builder.
type Seen = Arc<Mutex<Vec<(String, Vec<(u32, Vec<u8>)>)>>>;

fn backend(p2p: bool) -> (Backend, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let mut config = level_zero_cpu::Config::default();
    config.p2p = p2p;
    config.program_builder = Some(Arc::new(move |spirv: &[u8], options: &BuildOptions<'_>| {
        let consts = options
            .spec_constants
            .iter()
            .map(|(id, v)| (*id, v.to_vec()))
            .collect();
        s.lock().unwrap().push((options.flags.to_string(), consts));
        if spirv.len() >= 4 && spirv[..4] == SPIRV_MAGIC.to_le_bytes() {
            if options.flags.contains("-panic") {
                panic!("builder panicked on purpose");
            }
            Ok(Arc::new(Fake::new()) as Arc<dyn KernelProgram>)
        } else {
            Err(BuildError {
                log: "fake engine: not SPIR-V".into(),
            })
        }
    }));
    (Backend::embedded_with(config), seen)
}

/// A SPIR-V module declaring one 4-byte specialization constant (SpecId 3), enough for the
/// driver to size the value it is passed.
fn spirv_words() -> Vec<u32> {
    let mut w = vec![SPIRV_MAGIC, 0x0001_0000, 0, 10, 0];
    w.extend([(4 << 16) | 71, 5, 1, 3]); // OpDecorate %5 SpecId 3
    w.extend([(4 << 16) | 21, 2, 32, 0]); // %2 = OpTypeInt 32 0
    w.extend([(4 << 16) | 50, 2, 5, 7]); // %5 = OpSpecConstant %2 7
    w
}

fn module(
    b: &Backend,
    c: ze_context_handle_t,
    flags: &std::ffi::CStr,
) -> (ze_result_t, ze_module_handle_t) {
    let words = spirv_words();
    let id = 3u32;
    let value = 42u32;
    let mut values = [(&raw const value).cast::<c_void>()];
    let constants = ze_module_constants_t {
        numConstants: 1,
        pConstantIds: &id,
        pConstantValues: values.as_mut_ptr(),
    };
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: words.len() * 4,
        pInputModule: words.as_ptr().cast(),
        pBuildFlags: flags.as_ptr(),
        pConstants: &constants,
        ..Default::default()
    };
    let mut m = null_mut();
    let r = ze!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    (r, m)
}

fn kernel_handle(b: &Backend, m: ze_module_handle_t, name: &std::ffi::CStr) -> ze_kernel_handle_t {
    let desc = ze_kernel_desc_t {
        pKernelName: name.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &desc, &mut k));
    k
}

fn set_fill_args(b: &Backend, k: ze_kernel_handle_t, dst: *mut u8, value: u32) {
    let p = dst as u64;
    ok!(b, zeKernelSetArgumentValue(k, 0, 8, (&raw const p).cast()));
    ok!(
        b,
        zeKernelSetArgumentValue(k, 1, 4, (&raw const value).cast())
    );
}

fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn modules_build_through_the_engine_with_flags_constants_and_logs() {
    let (b, seen) = backend(true);
    let c = b.context();
    let (r, m) = module(&b, c, c"-ze-opt-level=2");
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let (flags, consts) = seen.lock().unwrap()[0].clone();
    assert_eq!(flags, "-ze-opt-level=2");
    assert_eq!(consts, vec![(3, 42u32.to_le_bytes().to_vec())]);

    // A build log of a successful build carries the engine's log.
    let words = spirv_words();
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: words.len() * 4,
        pInputModule: words.as_ptr().cast(),
        ..Default::default()
    };
    let (mut m2, mut log) = (null_mut(), null_mut());
    ok!(b, zeModuleCreate(c, b.devices[0], &desc, &mut m2, &mut log));
    let mut size = 0;
    ok!(b, zeModuleBuildLogGetString(log, &mut size, null_mut()));
    let mut text = vec![0u8; size];
    ok!(
        b,
        zeModuleBuildLogGetString(log, &mut size, text.as_mut_ptr().cast())
    );
    assert_eq!(&text[..size - 1], b"fake engine: built");
    ok!(b, zeModuleBuildLogDestroy(log));
    ok!(b, zeModuleDestroy(m2));

    // A failing build: MODULE_BUILD_FAILURE, the engine's log, no module.
    let junk = [1u8; 16];
    let bad = ze_module_desc_t {
        inputSize: 16,
        pInputModule: junk.as_ptr(),
        ..desc
    };
    let (mut m3, mut log) = (1usize as ze_module_handle_t, null_mut());
    fails!(
        ZE_RESULT_ERROR_MODULE_BUILD_FAILURE,
        b,
        zeModuleCreate(c, b.devices[0], &bad, &mut m3, &mut log)
    );
    assert!(m3.is_null());
    let mut size = 0;
    ok!(b, zeModuleBuildLogGetString(log, &mut size, null_mut()));
    assert_eq!(size, "fake engine: not SPIR-V".len() + 1);
    ok!(b, zeModuleBuildLogDestroy(log));

    // Kernel names, properties, globals.
    let mut n = 0;
    ok!(b, zeModuleGetKernelNames(m, &mut n, null_mut()));
    assert_eq!(n, 5);
    let mut names = vec![null(); n as usize];
    ok!(b, zeModuleGetKernelNames(m, &mut n, names.as_mut_ptr()));
    // SAFETY: the driver's strings live as long as the module.
    let first = unsafe { std::ffi::CStr::from_ptr(names[0]) };
    assert_eq!(first, c"fill");
    let mut mp = ze_module_properties_t::default();
    ok!(b, zeModuleGetProperties(m, &mut mp));
    assert_eq!(mp.flags, 0);
    let (mut gsize, mut gptr) = (0usize, null_mut());
    ok!(
        b,
        zeModuleGetGlobalPointer(m, c"table".as_ptr(), &mut gsize, &mut gptr)
    );
    assert_eq!(gsize, 64);
    assert!(!gptr.is_null());
    fails!(
        ZE_RESULT_ERROR_INVALID_GLOBAL_NAME,
        b,
        zeModuleGetGlobalPointer(m, c"nope".as_ptr(), &mut gsize, &mut gptr)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeModuleGetGlobalPointer(m, null(), &mut gsize, &mut gptr)
    );
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn a_builder_that_panics_is_an_error_not_a_crash() {
    let (b, _) = backend(true);
    let c = b.context();
    let (r, m) = module(&b, c, c"-panic");
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_UNKNOWN);
    assert!(m.is_null());
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn kernel_arguments_and_group_sizes_are_checked() {
    let (b, _) = backend(true);
    let c = b.context();
    let (_, m) = module(&b, c, c"");
    let desc = ze_kernel_desc_t {
        pKernelName: c"nope".as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_KERNEL_NAME,
        b,
        zeKernelCreate(m, &desc, &mut k)
    );
    let desc = ze_kernel_desc_t {
        pKernelName: null(),
        ..Default::default()
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeKernelCreate(m, &desc, &mut k)
    );
    let k = kernel_handle(&b, m, c"fill");

    // Properties and name.
    let mut p = ze_kernel_properties_t::default();
    ok!(b, zeKernelGetProperties(k, &mut p));
    assert_eq!(
        (p.numKernelArgs, p.privateMemSize, p.localMemSize),
        (2, 16, 32)
    );
    let mut size = 0;
    ok!(b, zeKernelGetName(k, &mut size, null_mut()));
    assert_eq!(size, 5);
    let mut name = [0u8; 5];
    ok!(b, zeKernelGetName(k, &mut size, name.as_mut_ptr().cast()));
    assert_eq!(&name, b"fill\0");

    // Arguments: index, size, pointer and value rules.
    let v = 1u32;
    let p64 = 0u64;
    fails!(
        ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX,
        b,
        zeKernelSetArgumentValue(k, 2, 4, (&raw const v).cast())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
        b,
        zeKernelSetArgumentValue(k, 1, 8, (&raw const p64).cast())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
        b,
        zeKernelSetArgumentValue(k, 0, 4, (&raw const v).cast())
    );
    // A null value for a by-value argument is zero bytes (the specification's "argument
    // value is considered null"; see the `null_by_value_kernel_argument` scenario).
    ok!(b, zeKernelSetArgumentValue(k, 1, 4, null()));
    ok!(b, zeKernelSetArgumentValue(k, 0, 8, null()));
    let local = kernel_handle(&b, m, c"with_local");
    ok!(b, zeKernelSetArgumentValue(local, 0, 4096, null()));

    // Group sizes.
    for bad in [[0, 1, 1], [2048, 1, 1], [64, 64, 1], [1, 1, 2048]] {
        fails!(
            ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
            b,
            zeKernelSetGroupSize(k, bad[0], bad[1], bad[2])
        );
    }
    ok!(b, zeKernelSetGroupSize(k, 32, 4, 2));
    let (mut x, mut y, mut z) = (0, 0, 0);
    ok!(
        b,
        zeKernelSuggestGroupSize(k, 1000, 10, 1, &mut x, &mut y, &mut z)
    );
    assert_eq!((1000 % x, 10 % y, z), (0, 0, 1));
    assert!(x * y * z <= 1024);
    fails!(
        ZE_RESULT_ERROR_INVALID_GLOBAL_WIDTH_DIMENSION,
        b,
        zeKernelSuggestGroupSize(k, 0, 1, 1, &mut x, &mut y, &mut z)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeKernelSuggestGroupSize(k, 8, 1, 1, null_mut(), &mut y, &mut z)
    );
    let fixed = kernel_handle(&b, m, c"fixed");
    ok!(b, zeKernelGetProperties(fixed, &mut p));
    assert_eq!(
        (
            p.requiredGroupSizeX,
            p.requiredGroupSizeY,
            p.requiredGroupSizeZ
        ),
        (4, 2, 1)
    );
    ok!(
        b,
        zeKernelSuggestGroupSize(fixed, 64, 64, 1, &mut x, &mut y, &mut z)
    );
    assert_eq!((x, y, z), (4, 2, 1));
    fails!(
        ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
        b,
        zeKernelSetGroupSize(fixed, 8, 1, 1)
    );
    ok!(b, zeKernelSetGroupSize(fixed, 4, 2, 1));
    ok!(b, zeKernelSetIndirectAccess(k, 0x1));
    let mut flags = 0;
    ok!(b, zeKernelGetIndirectAccess(k, &mut flags));
    assert_eq!(flags, 1);
    ok!(b, zeKernelSetCacheConfig(k, 0));

    // The module cannot go while its kernels live.
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeModuleDestroy(m));
    for k in [k, local, fixed] {
        ok!(b, zeKernelDestroy(k));
    }
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn launches_run_on_the_queue_worker() {
    let (b, _) = backend(true);
    let c = b.context();
    let (_, m) = module(&b, c, c"");
    let k = kernel_handle(&b, m, c"fill");
    let n = 1024;
    let d = b.alloc_device(c, n * 4, 0);
    ok!(b, zeKernelSetGroupSize(k, 64, 1, 1));

    // An unset argument is refused at append time.
    let l = b.list(c, 0);
    let groups = ze_group_count_t {
        groupCountX: 16,
        groupCountY: 1,
        groupCountZ: 1,
    };
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendLaunchKernel(l, k, &groups, NULL_EVENT, 0, NO_WAITS)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendLaunchKernel(l, k, null(), NULL_EVENT, 0, NO_WAITS)
    );
    ok!(b, zeCommandListDestroy(l));

    // A regular list: arguments are captured when appended.
    set_fill_args(&b, k, d, 100);
    let r = b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendLaunchKernel(l, k, &groups, NULL_EVENT, 0, NO_WAITS)
        );
        set_fill_args(&b, k, d, 999);
    });
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let got = words(&b.download(c, d, n * 4));
    assert!(got.iter().enumerate().all(|(i, &x)| x == 100 + i as u32));

    // An immediate list, with a global offset, and an indirect launch reading its group count
    // from device-accessible memory.
    let imm = b.immediate(c, 0);
    ok!(b, zeKernelSetGlobalOffsetExp(k, 5, 0, 0));
    set_fill_args(&b, k, d, 0);
    let counts = b.alloc_shared(c, 12, 0).cast::<ze_group_count_t>();
    // SAFETY: a live shared allocation of 12 bytes.
    unsafe {
        counts.write(ze_group_count_t {
            groupCountX: 2,
            groupCountY: 1,
            groupCountZ: 1,
        })
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernelIndirect(imm, k, counts, NULL_EVENT, 0, NO_WAITS)
    );
    b.finish(c, imm);
    let got = words(&b.download(c, d, n * 4));
    assert!(
        got[..128]
            .iter()
            .enumerate()
            .all(|(i, &x)| x == 5 + i as u32)
    );
    assert_eq!(got[128], 100 + 128);
    // Cooperative launches: at most the suggested number of groups, which all run together.
    let mut most = 0;
    ok!(b, zeKernelSuggestMaxCooperativeGroupCount(k, &mut most));
    assert_eq!(most, 1);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendLaunchCooperativeKernel(imm, k, &groups, NULL_EVENT, 0, NO_WAITS)
    );
    ok!(b, zeKernelSetGlobalOffsetExp(k, 0, 0, 0));
    set_fill_args(&b, k, d, 7);
    let one = ze_group_count_t {
        groupCountX: 1,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchCooperativeKernel(imm, k, &one, NULL_EVENT, 0, NO_WAITS)
    );
    b.finish(c, imm);
    let got = words(&b.download(c, d, n * 4));
    assert!(
        got[..64]
            .iter()
            .enumerate()
            .all(|(i, &x)| x == 7 + i as u32)
    );
    assert_eq!(got[64], 5 + 64, "only one group ran");
    // Not on the copy engines (the main one, ordinal 1, and the link ones, ordinal 2).
    let copy = b.list_on(c, 0, 1);
    let link = b.list_on(c, 0, 2);
    for l in [copy, link] {
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendLaunchKernel(l, k, &groups, NULL_EVENT, 0, NO_WAITS)
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendLaunchCooperativeKernel(l, k, &one, NULL_EVENT, 0, NO_WAITS)
        );
    }

    for l in [imm, copy, link] {
        ok!(b, zeCommandListDestroy(l));
    }
    b.free(c, counts.cast());
    b.free(c, d);
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn a_failing_launch_is_reported_by_synchronize_fence_and_event() {
    let (b, _) = backend(true);
    let c = b.context();
    let (_, m) = module(&b, c, c"");
    let k = kernel_handle(&b, m, c"fill");
    let d = b.alloc_device(c, 256, 0);
    // 64 work-items write 4 bytes each: 256 bytes fit, 512 do not.
    ok!(b, zeKernelSetGroupSize(k, 64, 1, 1));
    set_fill_args(&b, k, d, 0);
    let pool = b.event_pool(c, 2, 0);
    let (e, after) = (b.event(pool, 0), b.event(pool, 1));
    let q = b.queue(c, 0);
    let mut f = null_mut();
    ok!(b, zeFenceCreate(q, &ze_fence_desc_t::default(), &mut f));
    let mut l = b.list(c, 0);
    let two = ze_group_count_t {
        groupCountX: 2,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &two, e, 0, NO_WAITS)
    );
    let zero = [0u8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            d.cast(),
            zero.as_ptr().cast(),
            1,
            256,
            after,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(l));
    ok!(b, zeCommandQueueExecuteCommandLists(q, 1, &mut l, f));
    // An out-of-bounds access: INVALID_ARGUMENT, everywhere the submission is observed.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    let mut s: *const i8 = null();
    ok!(b, zeDriverGetLastErrorDescription(b.driver, &mut s));
    // SAFETY: the driver's NUL-terminated description.
    let text = unsafe { std::ffi::CStr::from_ptr(s) }
        .to_string_lossy()
        .into_owned();
    assert!(text.contains("outside every allocation"), "{text}");
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeFenceHostSynchronize(f, u64::MAX)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventHostSynchronize(e, u64::MAX)
    );
    // The commands after the failure did not run, but their event was signalled (with the error).
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventHostSynchronize(after, u64::MAX)
    );
    // The error is reported once; the device is not lost and later work runs.
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    ok!(b, zeDeviceGetStatus(b.devices[0]));
    let got = words(&b.download(c, d, 256));
    assert!(
        got.iter().enumerate().all(|(i, &x)| x == i as u32),
        "the in-bounds work-items ran"
    );

    // An engine failure and an engine panic.
    for (name, code) in [
        (c"fails", ze_result_t::ZE_RESULT_ERROR_UNKNOWN),
        (c"panics", ze_result_t::ZE_RESULT_ERROR_UNKNOWN),
    ] {
        let bad = kernel_handle(&b, m, name);
        let imm = b.immediate(c, 0);
        let one = ze_group_count_t {
            groupCountX: 1,
            groupCountY: 1,
            groupCountZ: 1,
        };
        ok!(
            b,
            zeCommandListAppendLaunchKernel(imm, bad, &one, NULL_EVENT, 0, NO_WAITS)
        );
        assert_eq!(
            ze!(b, zeCommandListHostSynchronize(imm, u64::MAX)),
            code,
            "{name:?}"
        );
        ok!(b, zeCommandListHostSynchronize(imm, u64::MAX));
        ok!(b, zeCommandListDestroy(imm));
        ok!(b, zeKernelDestroy(bad));
    }

    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeFenceDestroy(f));
    ok!(b, zeCommandQueueDestroy(q));
    for e in [e, after] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, d);
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn kernels_reach_peer_memory_only_with_p2p() {
    for p2p in [true, false] {
        let (b, _) = backend(p2p);
        let c = b.context();
        let (_, m) = module(&b, c, c"");
        let k = kernel_handle(&b, m, c"fill");
        let peer = b.alloc_device(c, 64, 1);
        let host = b.alloc_host(c, 64);
        ok!(b, zeKernelSetGroupSize(k, 16, 1, 1));
        let one = ze_group_count_t {
            groupCountX: 1,
            groupCountY: 1,
            groupCountZ: 1,
        };
        set_fill_args(&b, k, host, 1);
        let r = b.run(c, 0, |l| {
            ok!(
                b,
                zeCommandListAppendLaunchKernel(l, k, &one, NULL_EVENT, 0, NO_WAITS)
            );
        });
        assert_eq!(
            r,
            ze_result_t::ZE_RESULT_SUCCESS,
            "host memory is always reachable"
        );
        set_fill_args(&b, k, peer, 1);
        let r = b.run(c, 0, |l| {
            ok!(
                b,
                zeCommandListAppendLaunchKernel(l, k, &one, NULL_EVENT, 0, NO_WAITS)
            );
        });
        let expected = if p2p {
            ze_result_t::ZE_RESULT_SUCCESS
        } else {
            ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
        };
        assert_eq!(r, expected, "p2p {p2p}");
        b.free(c, peer);
        b.free(c, host);
        ok!(b, zeKernelDestroy(k));
        ok!(b, zeModuleDestroy(m));
        ok!(b, zeContextDestroy(c));
        b.assert_no_leaks();
    }
}
