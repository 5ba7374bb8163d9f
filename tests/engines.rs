//! The CPU driver's two kernel engines through the safe API: which engine runs a kernel
//! (`level_zero::cpu::kernel_engine`, the driver's `zexCpuKernelGetEngine`), the interpreter
//! when the configuration asks for it or when the JIT does not take a kernel (with the
//! reason), the same results on both, the sanitizer on compiled code, and the unchecked mode.

mod common;

use common::{TestDriver, spv};
use level_zero::cpu::{Engine, KernelEngine, kernel_engine};
use level_zero::{
    BuildOptions, Context, DeviceBuffer, Error, ImmediateCommandList, Kernel, LaunchConfig, Module,
};

fn kernel(ctx: &Context, t: &TestDriver, file: &str, name: &str) -> Kernel {
    let module =
        Module::from_spirv(ctx, &t.device(), &spv(file, "O2"), &BuildOptions::new()).unwrap();
    module.kernel(name).unwrap()
}

/// `c = a + b` on `n` elements with `engine`'s driver; the result.
fn vector_add(t: &TestDriver, n: usize) -> (Vec<f32>, KernelEngine) {
    let (ctx, dev) = (t.context(), t.device());
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let da = DeviceBuffer::from_slice(&mut list, &a).unwrap();
    let db = DeviceBuffer::from_slice(&mut list, &b).unwrap();
    let dc = DeviceBuffer::<f32>::zeroed(&mut list, n).unwrap();
    let mut k = kernel(&ctx, t, "vector_add", "vector_add");
    let engine = kernel_engine(&k).unwrap();
    // SAFETY: vector_add touches a[i], b[i], c[i] for its global id i < n.
    unsafe {
        list.launch_builder(&mut k, LaunchConfig::for_num_elems(n).unwrap())
            .arg(&da)
            .arg(&db)
            .arg(&dc)
            .run()
    }
    .unwrap();
    let c = dc.to_vec(&mut list).unwrap();
    for i in 0..n {
        assert_eq!(c[i], a[i] + b[i], "element {i} on {engine:?}");
    }
    (c, engine)
}

#[test]
fn kernels_are_compiled_by_default_and_interpreted_when_configured() {
    // The default configuration (also the environment's, on the system backend).
    let t = TestDriver::new();
    let (jit, e) = vector_add(&t, 4096);
    if !common::system_backend() {
        assert_eq!(
            e,
            KernelEngine {
                engine: Engine::Jit,
                fallback: None
            }
        );
    }
    let Some(t) = TestDriver::with(|c| c.engine = Engine::Interpreter) else {
        return;
    };
    let (interp, e) = vector_add(&t, 4096);
    assert_eq!(
        e,
        KernelEngine {
            engine: Engine::Interpreter,
            fallback: None
        }
    );
    assert_eq!(
        jit.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        interp.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn a_kernel_whose_work_items_run_in_lockstep_falls_back_to_the_interpreter_and_says_why() {
    let t = TestDriver::new();
    let ctx = t.context();
    let module = Module::from_spirv(
        &ctx,
        &t.device(),
        &spv("subgroups_khr", "O2"),
        &BuildOptions::new(),
    )
    .unwrap();
    let names = module.kernel_names().unwrap();
    let k = module.kernel(&names[0]).unwrap();
    let e = kernel_engine(&k).unwrap();
    let on_jit = !common::system_backend()
        || std::env::var("LEVEL_ZERO_CPU_ENGINE").is_ok_and(|v| v == "jit")
        || std::env::var("LEVEL_ZERO_CPU_ENGINE").is_err();
    if on_jit {
        assert_eq!(e.engine, Engine::Interpreter);
        let why = e.fallback.expect("a reason");
        assert!(why.contains("lockstep"), "{why}");
    }
}

#[test]
fn compiled_kernels_are_stopped_by_the_sanitizer_with_the_work_item_and_address() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let small = DeviceBuffer::<f32>::zeroed(&mut list, 16).unwrap();
    let other = DeviceBuffer::<f32>::zeroed(&mut list, 64).unwrap();
    let mut k = kernel(&ctx, &t, "vector_add", "vector_add");
    // SAFETY: deliberately out of bounds for `small` (64 work-items read 16 elements); the
    // CPU driver's sanitizer stops the launch before any access outside an allocation.
    let r = unsafe {
        list.launch_builder(&mut k, LaunchConfig::grid([16, 1, 1], [4, 1, 1]))
            .arg(&small)
            .arg(&other)
            .arg(&other)
            .run()
    };
    let e = r.and_then(|()| list.synchronize()).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, Error::Call { .. }) && text.contains("outside every allocation"),
        "{text}"
    );
    assert!(text.contains("work-item [16, 0, 0]"), "{text}");
}

#[test]
fn unchecked_compiled_kernels_compute_the_same() {
    let Some(t) = TestDriver::with(|c| c.unchecked = true) else {
        return;
    };
    let (c, e) = vector_add(&t, 10_000);
    assert_eq!(e.engine, Engine::Jit);
    assert_eq!(c.len(), 10_000);
}
