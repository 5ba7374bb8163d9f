//! Modules beyond building from SPIR-V, through the whole stack: native binaries (a program
//! cache's round trip, corrupted binaries), dynamic linking (imports resolved across modules,
//! the link log, the keep-alive rule of `docs/SOUNDNESS.md` rule 13, linking misuse), kernel
//! source attributes, function pointers, and these functions missing from a driver. Every
//! test ends with its `TestDriver`'s leak check (declared first, it is dropped last).
//!
//! The linking tests assemble `level-zero-cpu-spirv/tests/spvasm/link_{exports,imports}.spvasm`
//! with `spirv-as` (Debian package `spirv-tools`).

mod common;

use common::{TestDriver, assemble, spv};
use level_zero::sys::ze_result_t;
use level_zero::{
    BuildOptions, Context, Device, Error, ImmediateCommandList, Kernel, Module, Runtime,
    SharedBuffer,
};

/// The engine's linkage test modules, `link_exports` or `link_imports`.
fn linkage(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/level-zero-cpu-spirv/tests/spvasm/{name}.spvasm",
        env!("CARGO_MANIFEST_DIR")
    );
    assemble(name, &std::fs::read_to_string(&path).unwrap())
}

fn build(ctx: &Context, dev: &Device, spirv: &[u8]) -> Module {
    Module::from_spirv(ctx, dev, spirv, &BuildOptions::new()).unwrap()
}

/// The exporting module (`add_one`, `link_base = 100`) and the importing one
/// (`use_add_one`: `p[i] = add_one(p[i]) + link_base`; `standalone`: `p[i] *= 2`).
fn exporter_and_importer(ctx: &Context, dev: &Device) -> (Module, Module) {
    (
        build(ctx, dev, &linkage("link_exports")),
        build(ctx, dev, &linkage("link_imports")),
    )
}

/// Runs a kernel taking one `uint*` over `0..n` (groups of 16) and returns the buffer.
fn run_on_iota(ctx: &Context, dev: &Device, kernel: &mut Kernel, n: u32) -> Vec<u32> {
    let mut buf = SharedBuffer::<u32>::new(ctx, dev, n as usize).unwrap();
    buf.as_mut_slice()
        .unwrap()
        .iter_mut()
        .enumerate()
        .for_each(|(i, x)| *x = i as u32);
    kernel.set_arg_buffer(0, &buf).unwrap();
    kernel.set_group_size([16, 1, 1]).unwrap();
    let mut list = ImmediateCommandList::compute(ctx, dev).unwrap();
    // SAFETY: the kernel touches only `p[0..n)` of its one buffer argument.
    unsafe { list.launch(kernel, [n / 16, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    buf.as_slice().unwrap().to_vec()
}

fn call_code(e: &Error) -> (&'static str, ze_result_t) {
    match e {
        Error::Call { call, code, .. } => (call, code.0),
        other => panic!("expected Error::Call, got {other:?}"),
    }
}

fn invalid_reason(e: Error) -> String {
    match e {
        Error::InvalidArgument { reason, .. } => reason,
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

/// The link log of a link that must fail with `ZE_RESULT_ERROR_MODULE_LINK_FAILURE`.
fn link_failure(modules: &[&Module]) -> String {
    match Module::link(modules) {
        Err(e @ Error::ModuleLink { .. }) => {
            let shown = e.to_string();
            assert_eq!(
                e.code().map(|c| c.0),
                Some(ze_result_t::ZE_RESULT_ERROR_MODULE_LINK_FAILURE)
            );
            let Error::ModuleLink { log, .. } = e else {
                unreachable!()
            };
            assert!(shown.contains(&log), "the error shows the log: {shown}");
            log
        }
        Err(e) => panic!("expected Error::ModuleLink, got {e:?}"),
        Ok(()) => panic!("the link succeeded"),
    }
}

/// vector_add over 64 floats on `module`.
fn vector_add(ctx: &Context, dev: &Device, module: &Module) -> Vec<f32> {
    let n = 64;
    let mut a = SharedBuffer::<f32>::new(ctx, dev, n).unwrap();
    let mut b = SharedBuffer::<f32>::new(ctx, dev, n).unwrap();
    let c = SharedBuffer::<f32>::new(ctx, dev, n).unwrap();
    for (i, (x, y)) in a
        .as_mut_slice()
        .unwrap()
        .iter_mut()
        .zip(b.as_mut_slice().unwrap().iter_mut())
        .enumerate()
    {
        *x = i as f32 * 0.5;
        *y = 1000.0 - i as f32;
    }
    let mut k = module.kernel("vector_add").unwrap();
    k.set_arg_buffer(0, &a).unwrap();
    k.set_arg_buffer(1, &b).unwrap();
    k.set_arg_buffer(2, &c).unwrap();
    k.set_group_size([16, 1, 1]).unwrap();
    let mut list = ImmediateCommandList::compute(ctx, dev).unwrap();
    // SAFETY: vector_add touches only element i of its three 64-element buffers.
    unsafe { list.launch(&k, [4, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    c.as_slice().unwrap().to_vec()
}

#[test]
fn a_native_binary_round_trips_and_runs_the_same_kernel() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let spirv = spv("vector_add", "O2");
    let original = build(&ctx, &dev, &spirv);
    let binary = original.native_binary().unwrap();
    assert!(!binary.is_empty());
    let (loaded, _log) =
        Module::from_native_with_log(&ctx, &dev, &binary, &BuildOptions::new()).unwrap();
    assert_eq!(loaded.kernel_names().unwrap(), ["vector_add"]);
    let expected: Vec<f32> = (0..64)
        .map(|i| i as f32 * 0.5 + 1000.0 - i as f32)
        .collect();
    assert_eq!(vector_add(&ctx, &dev, &original), expected);
    assert_eq!(vector_add(&ctx, &dev, &loaded), expected);
    // A program cache: written to disk, read back in another context, run on another device
    // of the same driver (what the specification promises native binaries).
    let path = std::env::temp_dir().join(format!("l0-native-{}.bin", std::process::id()));
    std::fs::write(&path, &binary).unwrap();
    let cached = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let other_ctx = t.context();
    let other_dev = t.devices().pop().unwrap();
    let again = Module::from_native(&other_ctx, &other_dev, &cached, &BuildOptions::new()).unwrap();
    assert_eq!(vector_add(&other_ctx, &other_dev, &again), expected);
    // The binary of a module loaded from a binary loads too.
    let second = loaded.native_binary().unwrap();
    let third = Module::from_native(&ctx, &dev, &second, &BuildOptions::new()).unwrap();
    assert_eq!(vector_add(&ctx, &dev, &third), expected);
}

#[test]
fn a_native_binary_keeps_its_specialization_constants_and_refuses_new_ones() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    // matmul has no specialization constants; any module will do for the refusal.
    let m = build(&ctx, &dev, &spv("vector_add", "O2"));
    let binary = m.native_binary().unwrap();
    let e = Module::from_native(
        &ctx,
        &dev,
        &binary,
        &BuildOptions::new().spec_constant(1, 7u32),
    )
    .unwrap_err();
    assert!(
        invalid_reason(e).contains("specialization constants"),
        "the refusal names the cause"
    );
    let e = Module::from_native(&ctx, &dev, &[], &BuildOptions::new()).unwrap_err();
    assert!(invalid_reason(e).contains("empty"));
}

#[test]
fn a_corrupted_native_binary_is_a_typed_error_with_the_drivers_log() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let spirv = spv("vector_add", "O2");
    let mut binary = build(&ctx, &dev, &spirv).native_binary().unwrap();
    let mid = binary.len() / 2;
    binary[mid] ^= 0x5a;
    let refused = |bytes: &[u8]| match Module::from_native(&ctx, &dev, bytes, &BuildOptions::new())
    {
        Err(e @ Error::ModuleBuild { .. }) => {
            let shown = e.to_string();
            let Error::ModuleBuild { code, log } = e else {
                unreachable!()
            };
            assert_eq!(code.0, ze_result_t::ZE_RESULT_ERROR_INVALID_NATIVE_BINARY);
            assert!(shown.contains(&log), "the error shows the log: {shown}");
            log
        }
        Err(e) => panic!("expected Error::ModuleBuild, got {e:?}"),
        Ok(_) => panic!("a corrupted native binary loaded"),
    };
    let log = refused(&binary);
    assert!(log.contains("checksum"), "{log}");
    // SPIR-V is not a native binary, nor is a truncated one.
    let log = refused(&spirv);
    assert!(log.contains("magic"), "{log}");
    binary[mid] ^= 0x5a;
    let log = refused(&binary[..binary.len() - 3]);
    assert!(!log.is_empty());
    // The intact binary still loads.
    Module::from_native(&ctx, &dev, &binary, &BuildOptions::new()).unwrap();
}

#[test]
fn linked_modules_run_the_exporters_code_and_unlinked_kernels_are_typed_errors() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let (exp, imp) = exporter_and_importer(&ctx, &dev);
    assert!(imp.has_unresolved_imports().unwrap());
    assert!(!exp.has_unresolved_imports().unwrap());
    // Before linking: the kernel that needs imports cannot be created; the other can.
    let e = imp.kernel("use_add_one").unwrap_err();
    assert_eq!(
        call_code(&e),
        (
            "zeKernelCreate",
            ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED
        )
    );
    let mut standalone = imp.kernel("standalone").unwrap();
    let out = run_on_iota(&ctx, &dev, &mut standalone, 64);
    assert_eq!(out, (0..64).map(|i| i * 2).collect::<Vec<u32>>());
    // Alone, its imports are unresolved: the log names each symbol.
    let log = link_failure(&[&imp]);
    assert!(log.contains("add_one"), "{log}");
    assert!(log.contains("link_base"), "{log}");
    let e = imp.kernel("use_add_one").unwrap_err();
    assert_eq!(
        call_code(&e).1,
        ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED
    );
    // With the exporter it links, and the kernel calls the exporter's function and reads its
    // variable.
    let log = Module::link_with_log(&[&exp, &imp]).unwrap();
    assert!(log.contains("use_add_one"), "{log}");
    assert!(!imp.has_unresolved_imports().unwrap());
    let mut k = imp.kernel("use_add_one").unwrap();
    let out = run_on_iota(&ctx, &dev, &mut k, 64);
    assert_eq!(out, (0..64).map(|i| i + 1 + 100).collect::<Vec<u32>>());
}

#[test]
fn an_exporter_dropped_before_the_importers_kernel_runs_stays_alive_until_the_importer_goes() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let modules_before = t.live().modules;
    let (exp, imp) = exporter_and_importer(&ctx, &dev);
    Module::link(&[&imp, &exp]).unwrap();
    // The exporter is dropped before any kernel of the importer exists.
    drop(exp);
    assert_eq!(
        t.live().modules,
        modules_before + 2,
        "the exporter is kept while its importer lives"
    );
    let mut k = imp.kernel("use_add_one").unwrap();
    // The importer itself goes too: its kernel holds both.
    drop(imp);
    assert_eq!(t.live().modules, modules_before + 2);
    let out = run_on_iota(&ctx, &dev, &mut k, 32);
    assert_eq!(out, (0..32).map(|i| i + 101).collect::<Vec<u32>>());
    drop(k);
    assert_eq!(
        t.live().modules,
        modules_before,
        "both are destroyed with the last kernel: no cycle keeps them"
    );
}

#[test]
fn modules_linked_in_several_links_stay_alive_together_and_are_destroyed_together() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let modules_before = t.live().modules;
    let (exp, imp) = exporter_and_importer(&ctx, &dev);
    let other = build(&ctx, &dev, &spv("vector_add", "O2"));
    let third = build(&ctx, &dev, &spv("vector_add", "O0"));
    Module::link(&[&exp, &imp]).unwrap();
    // Linking again: the same modules (in another order), then one of them with others.
    Module::link(&[&imp, &exp]).unwrap();
    Module::link(&[&exp, &other]).unwrap();
    Module::link(&[&third]).unwrap();
    Module::link(&[&third, &other]).unwrap();
    let mut k = imp.kernel("use_add_one").unwrap();
    drop((exp, imp, other));
    // `third` was never linked with the importer directly, but with a module linked with
    // its exporter: everything stays while anything of the group lives.
    assert_eq!(t.live().modules, modules_before + 4);
    let out = run_on_iota(&ctx, &dev, &mut k, 16);
    assert_eq!(out, (0..16).map(|i| i + 101).collect::<Vec<u32>>());
    drop(k);
    assert_eq!(
        t.live().modules,
        modules_before + 4,
        "`third` holds the group"
    );
    assert_eq!(
        vector_add(&ctx, &dev, &third)[1],
        0.5 + 999.0,
        "`third` still runs"
    );
    drop(third);
    assert_eq!(t.live().modules, modules_before);
}

#[test]
fn linking_misuse_is_refused_or_defined() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let (exp, imp) = exporter_and_importer(&ctx, &dev);
    // Nothing to link.
    assert!(invalid_reason(Module::link(&[]).unwrap_err()).contains("no modules"));
    // Modules of another context or another device: refused before any call, naming why.
    let other_ctx = t.context();
    let foreign = build(&other_ctx, &dev, &linkage("link_exports"));
    let reason = invalid_reason(Module::link(&[&imp, &foreign]).unwrap_err());
    assert!(
        reason.contains("module 1") && reason.contains("another context"),
        "{reason}"
    );
    let other_dev = t.devices().pop().unwrap();
    assert_ne!(other_dev, dev, "the test driver has two devices");
    let elsewhere = build(&ctx, &other_dev, &linkage("link_exports"));
    let reason = invalid_reason(Module::link(&[&imp, &exp, &elsewhere]).unwrap_err());
    assert!(
        reason.contains("module 2") && reason.contains("another device"),
        "{reason}"
    );
    // Refused links changed nothing.
    assert_eq!(
        call_code(&imp.kernel("use_add_one").unwrap_err()).1,
        ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED
    );
    // A module with itself is the module alone: an exporter without imports links; an
    // importer does not.
    Module::link(&[&exp, &exp]).unwrap();
    let log = link_failure(&[&imp, &imp]);
    assert!(log.contains("add_one"), "{log}");
    // Linking twice is defined: the kernel runs after either link.
    Module::link(&[&exp, &imp, &exp]).unwrap();
    let mut k = imp.kernel("use_add_one").unwrap();
    Module::link(&[&imp, &exp]).unwrap();
    let mut k2 = imp.kernel("use_add_one").unwrap();
    assert_eq!(run_on_iota(&ctx, &dev, &mut k, 16)[3], 104);
    assert_eq!(run_on_iota(&ctx, &dev, &mut k2, 16)[15], 116);
}

#[test]
fn source_attributes_spell_the_kernels_attributes() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    for opt in ["O0", "O2"] {
        let m = build(&ctx, &dev, &spv("matmul", opt));
        let tiled = m.kernel("matmul_tiled").unwrap();
        assert_eq!(tiled.properties().required_group_size, [16, 16, 1]);
        assert_eq!(
            tiled.source_attributes().unwrap(),
            "reqd_work_group_size(16,16,1)",
            "{opt}"
        );
        let naive = m.kernel("matmul_naive").unwrap();
        assert_eq!(naive.source_attributes().unwrap(), "", "{opt}");
    }
}

/// `store_ulong(global ulong* out, ulong v)`: `out[0] = v`.
const STORE_ULONG: &str = r#"
               OpCapability Addresses
               OpCapability Kernel
               OpCapability Int64
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %k "store_ulong"
      %void = OpTypeVoid
     %ulong = OpTypeInt 64 0
   %p_ulong = OpTypePointer CrossWorkgroup %ulong
       %kty = OpTypeFunction %void %p_ulong %ulong
         %k = OpFunction %void None %kty
       %out = OpFunctionParameter %p_ulong
         %v = OpFunctionParameter %ulong
         %l = OpLabel
              OpStore %out %v
              OpReturn
              OpFunctionEnd
"#;

#[test]
fn function_pointers_are_stable_distinct_and_reach_kernels_keeping_their_module_alive() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let modules_before = t.live().modules;
    let (exp, imp) = exporter_and_importer(&ctx, &dev);
    let add_one = exp.function_pointer("add_one").unwrap();
    assert_ne!(add_one.address(), 0);
    assert_eq!(add_one.name(), "add_one");
    assert_eq!(exp.function_pointer("add_one").unwrap(), add_one, "stable");
    let standalone = imp.function_pointer("standalone").unwrap();
    assert_ne!(standalone.address(), add_one.address(), "distinct");
    let e = exp.function_pointer("no_such_function").unwrap_err();
    assert_eq!(
        call_code(&e),
        (
            "zeModuleGetFunctionPointer",
            ze_result_t::ZE_RESULT_ERROR_INVALID_FUNCTION_NAME
        )
    );
    assert!(invalid_reason(exp.function_pointer("a\0b").unwrap_err()).contains("NUL"));
    // A kernel receives the address; the pointer's module is kept alive by the kernel.
    let store = build(&ctx, &dev, &assemble("store_ulong", STORE_ULONG));
    let mut k = store.kernel("store_ulong").unwrap();
    let out = SharedBuffer::<u64>::new(&ctx, &dev, 1).unwrap();
    k.set_arg_buffer(0, &out).unwrap();
    k.set_arg_function_pointer(1, &add_one).unwrap();
    k.set_group_size([1, 1, 1]).unwrap();
    let address = add_one.address();
    drop((add_one, exp, standalone, imp));
    assert_eq!(
        t.live().modules,
        modules_before + 2,
        "the exporter is kept by the kernel; the importer is gone"
    );
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: the kernel writes out[0] only.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    assert_eq!(out.as_slice().unwrap()[0], address);
    drop(k);
    assert_eq!(t.live().modules, modules_before + 1);
    // A function of another context is refused.
    let other_ctx = t.context();
    let foreign = build(&other_ctx, &dev, &linkage("link_exports"));
    let mut k = store.kernel("store_ulong").unwrap();
    let reason = invalid_reason(
        k.set_arg_function_pointer(1, &foreign.function_pointer("add_one").unwrap())
            .unwrap_err(),
    );
    assert!(reason.contains("another context"), "{reason}");
}

#[test]
fn functions_missing_from_the_driver_are_errors_naming_them() {
    if common::system_backend() {
        eprintln!("SKIPPED on the system backend: builds its own table");
        return;
    }
    // SAFETY: the CPU driver's getters honour the DDI contract.
    let (mut api, _) = unsafe { level_zero::sys::Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    api.zeModuleGetNativeBinary = None;
    api.zeModuleDynamicLink = None;
    api.zeModuleGetFunctionPointer = None;
    api.zeKernelGetSourceAttributes = None;
    // SAFETY: the remaining pointers are the CPU driver's static functions.
    let rt = unsafe { Runtime::from_api(api) }.unwrap();
    let driver = &rt.drivers()[0];
    let dev = driver.devices().unwrap().remove(0);
    let ctx = Context::new(driver).unwrap();
    let (exp, imp) = exporter_and_importer(&ctx, &dev);
    let missing = |e: Error, name: &str| {
        assert!(
            matches!(&e, Error::MissingFunction(m) if m.name == name),
            "expected {name} missing, got {e:?}"
        );
        assert!(e.to_string().contains(name), "{e}");
    };
    missing(exp.native_binary().unwrap_err(), "zeModuleGetNativeBinary");
    missing(
        Module::link(&[&exp, &imp]).unwrap_err(),
        "zeModuleDynamicLink",
    );
    missing(
        exp.function_pointer("add_one").unwrap_err(),
        "zeModuleGetFunctionPointer",
    );
    let k = imp.kernel("standalone").unwrap();
    missing(
        k.source_attributes().unwrap_err(),
        "zeKernelGetSourceAttributes",
    );
    // What the table has still works.
    let mut k = k;
    let out = run_on_iota(&ctx, &dev, &mut k, 16);
    assert_eq!(out[5], 10);
}

type SourceAttributesFn = unsafe extern "C" fn(
    level_zero::sys::ze_kernel_handle_t,
    *mut u32,
    *mut *mut std::ffi::c_char,
) -> ze_result_t;

/// The CPU driver's `zeKernelGetSourceAttributes`, for the wrappers below.
static DRIVER_SOURCE_ATTRIBUTES: std::sync::OnceLock<SourceAttributesFn> =
    std::sync::OnceLock::new();

/// Like loader 1.8.12's validation layer: a null `pString` (the size query) is refused.
unsafe extern "C" fn refuses_size_queries(
    kernel: level_zero::sys::ze_kernel_handle_t,
    size: *mut u32,
    string: *mut *mut std::ffi::c_char,
) -> ze_result_t {
    if string.is_null() {
        return ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    }
    // SAFETY: forwarded unchanged to the driver's function.
    unsafe { DRIVER_SOURCE_ATTRIBUTES.get().unwrap()(kernel, size, string) }
}

/// A driver that reports a size of 0 and must not be asked for the text.
unsafe extern "C" fn reports_size_zero(
    _kernel: level_zero::sys::ze_kernel_handle_t,
    size: *mut u32,
    string: *mut *mut std::ffi::c_char,
) -> ze_result_t {
    if !string.is_null() {
        return ze_result_t::ZE_RESULT_ERROR_UNKNOWN;
    }
    // SAFETY: the caller's output.
    unsafe { size.write(0) };
    ze_result_t::ZE_RESULT_SUCCESS
}

#[test]
fn source_attributes_survive_drivers_that_refuse_the_size_query_or_report_nothing() {
    if common::system_backend() {
        eprintln!("SKIPPED on the system backend: builds its own table");
        return;
    }
    for (wrapper, expected) in [
        (
            refuses_size_queries as SourceAttributesFn,
            "reqd_work_group_size(16,16,1)",
        ),
        (reports_size_zero as SourceAttributesFn, ""),
    ] {
        // SAFETY: the CPU driver's getters honour the DDI contract.
        let (mut api, _) =
            unsafe { level_zero::sys::Api::from_ddi(&level_zero_cpu::ddi_getters()) };
        DRIVER_SOURCE_ATTRIBUTES.get_or_init(|| api.zeKernelGetSourceAttributes.unwrap());
        api.zeKernelGetSourceAttributes = Some(wrapper);
        // SAFETY: the pointers are the CPU driver's static functions and the wrappers above,
        // which keep its contract.
        let rt = unsafe { Runtime::from_api(api) }.unwrap();
        let driver = &rt.drivers()[0];
        let dev = driver.devices().unwrap().remove(0);
        let ctx = Context::new(driver).unwrap();
        let m = build(&ctx, &dev, &spv("matmul", "O2"));
        let k = m.kernel("matmul_tiled").unwrap();
        assert_eq!(k.source_attributes().unwrap(), expected);
    }
}

/// A function pointer from `Module::function_pointer` (the driver's
/// `zeModuleGetFunctionPointer`) calls that function in a kernel
/// (`OpFunctionPointerCallINTEL`); the driver hands out the engine's own addresses.
#[test]
fn a_function_pointer_from_the_host_is_called_by_a_kernel() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = build(&ctx, &dev, &common::spv("function_pointers", "O2"));
    let fp = m.function_pointer("twice_plus").unwrap();
    let mut k = m.kernel("call_arg").unwrap();
    let x: Vec<i32> = (0..16).map(|i| i * 3 - 20).collect();
    let mut xs = SharedBuffer::<i32>::new(&ctx, &dev, x.len()).unwrap();
    xs.as_mut_slice().unwrap().copy_from_slice(&x);
    let out = SharedBuffer::<i32>::new(&ctx, &dev, x.len()).unwrap();
    k.set_arg_function_pointer(0, &fp).unwrap();
    k.set_arg_buffer(1, &xs).unwrap();
    k.set_arg_buffer(2, &out).unwrap();
    k.set_group_size([16, 1, 1]).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: the kernel reads x[i] and writes out[i] for i < 16.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    let want: Vec<i32> = x.iter().map(|v| 2 * v + 7).collect();
    assert_eq!(&out.as_slice().unwrap()[..], &want[..]);
}
