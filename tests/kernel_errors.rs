//! Modules and kernels through the whole stack, beyond the per-kernel cases (`kernels.rs`):
//! invalid SPIR-V, misuse of kernels and launches, out-of-bounds kernels, injected build
//! failures, specialization constants, kernel names, program-scope variables, kernel
//! timestamps and launches on regular lists. Every test ends with its `TestDriver`'s leak
//! check (declared first, it is dropped last).

mod common;

use std::ffi::c_void;
use std::time::Duration;

use common::TestDriver;
use level_zero::sys::ze_result_t;
use level_zero::{
    BuildOptions, CommandList, CommandQueue, Context, Device, DeviceBuffer, Error, EventPool,
    EventPoolFlags, ImmediateCommandList, IndirectAccess, Kernel, Module, SharedBuffer,
};

/// `kernels/spv/<name>.<opt>.spv`.
fn spv(name: &str, opt: &str) -> Vec<u8> {
    let path = format!(
        "{}/kernels/spv/{name}.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn module(ctx: &Context, dev: &Device, name: &str, opt: &str) -> Module {
    Module::from_spirv(ctx, dev, &spv(name, opt), &BuildOptions::new())
        .unwrap_or_else(|e| panic!("{name}.{opt}: {e}"))
}

fn words(w: &[u32]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// An instruction's first word.
const fn op(opcode: u32, word_count: u32) -> u32 {
    (word_count << 16) | opcode
}

/// The build log of a build that must fail with `ZE_RESULT_ERROR_MODULE_BUILD_FAILURE`.
fn build_failure(ctx: &Context, dev: &Device, bytes: &[u8]) -> String {
    match Module::from_spirv(ctx, dev, bytes, &BuildOptions::new()) {
        Err(e @ Error::ModuleBuild { .. }) => {
            let shown = e.to_string();
            let Error::ModuleBuild { code, log } = e else {
                unreachable!()
            };
            assert_eq!(code.0, ze_result_t::ZE_RESULT_ERROR_MODULE_BUILD_FAILURE);
            assert!(!log.is_empty(), "an empty build log");
            assert!(shown.contains(&log), "the error shows the log: {shown}");
            log
        }
        Err(e) => panic!("expected Error::ModuleBuild, got {e:?}"),
        Ok(_) => panic!("{} bytes of invalid SPIR-V built", bytes.len()),
    }
}

/// A deterministic pseudo-random generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A device buffer holding `data`.
fn upload<T: bytemuck::Pod>(
    list: &mut ImmediateCommandList,
    ctx: &Context,
    dev: &Device,
    data: &[T],
) -> DeviceBuffer<T> {
    let b = DeviceBuffer::new(ctx, dev, data.len()).unwrap();
    list.copy_from_slice(&b, data).unwrap();
    b
}

fn download<T: bytemuck::Pod>(list: &mut ImmediateCommandList, b: &DeviceBuffer<T>) -> Vec<T> {
    let mut out = vec![T::zeroed(); b.len()];
    list.copy_to_slice(&mut out, b).unwrap();
    out
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

#[test]
#[cfg_attr(miri, ignore = "a parser error only (safe code): slow under Miri")]
fn wrong_magic_fails_the_build_with_a_log() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut m = spv("vector_add", "O2");
    m[0] ^= 0xff;
    let log = build_failure(&ctx, &dev, &m);
    assert!(log.contains("magic"), "{log}");
    let log = build_failure(&ctx, &dev, b"this is not SPIR-V at all, just text");
    assert!(log.contains("magic"), "{log}");
    // The driver is fine afterwards.
    module(&ctx, &dev, "vector_add", "O2");
}

#[test]
#[cfg_attr(miri, ignore = "a parser error only (safe code): slow under Miri")]
fn truncated_spirv_fails_the_build_with_a_log() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = spv("vector_add", "O2");
    for len in [3, 4, 16, 19] {
        let log = build_failure(&ctx, &dev, &m[..len]);
        assert!(
            log.contains("header") || log.contains("truncated"),
            "{len}: {log}"
        );
    }
    for len in [m.len() - 4, m.len() / 2 / 4 * 4, 24, 100] {
        let log = build_failure(&ctx, &dev, &m[..len]);
        assert!(
            log.contains("truncated") || log.contains("invalid"),
            "{len}: {log}"
        );
    }
    let log = build_failure(&ctx, &dev, &m[..m.len() - 1]);
    assert!(log.contains("multiple of 4"), "{log}");
}

#[test]
#[cfg_attr(miri, ignore = "a parser error only (safe code): slow under Miri")]
fn an_unsupported_capability_is_named_in_the_log() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    // vector_add with `OpCapability Pipes` (17) added after the header.
    let mut m = spv("vector_add", "O2");
    m.splice(20..20, words(&[op(17, 2), 17]));
    let log = build_failure(&ctx, &dev, &m);
    assert!(log.contains("capability Pipes"), "{log}");
}

#[test]
#[cfg_attr(miri, ignore = "a parser error only (safe code): slow under Miri")]
fn random_bytes_fail_the_build_with_a_log() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut r = Rng(0x5eed);
    for n in 0..60 {
        let len = 1 + (r.next() % 400) as usize;
        let mut v: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
        if n % 2 == 0 && v.len() >= 20 {
            // A valid header in front of garbage reaches the parser and the checker.
            v[..20].copy_from_slice(&words(&[0x0723_0203, 0x0001_0000, 0, 1000, 0]));
        }
        build_failure(&ctx, &dev, &v);
    }
}

#[test]
fn an_empty_module_is_refused_before_the_driver() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let e = Module::from_spirv(&ctx, &dev, &[], &BuildOptions::new()).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument { call: "zeModuleCreate", reason } if reason.contains("empty")),
        "{e:?}"
    );
    let e = Module::from_spirv(
        &ctx,
        &dev,
        &spv("empty", "O2"),
        &BuildOptions::new().flag("a\0b"),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
}

#[test]
fn an_injected_build_failure_is_a_module_build_error() {
    let Some(t) = TestDriver::with(|c| c.fail_module_build = true) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let log = build_failure(&ctx, &dev, &spv("vector_add", "O2"));
    assert!(log.contains("injected"), "{log}");
}

#[test]
#[cfg_attr(miri, ignore = "builds several modules: minutes under Miri")]
fn kernel_names_properties_and_unknown_kernels() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "matmul", "O2");
    let mut names = m.kernel_names().unwrap();
    names.sort();
    assert_eq!(names, ["matmul_naive", "matmul_tiled"]);
    assert_eq!(m.device(), &dev);
    let (_, code) = call_code(&m.kernel("matmul").unwrap_err());
    assert_eq!(code, ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_NAME);
    assert!(matches!(
        m.kernel("nul\0name"),
        Err(Error::InvalidArgument { .. })
    ));

    let naive = m.kernel("matmul_naive").unwrap();
    assert_eq!(naive.name(), "matmul_naive");
    assert_eq!(naive.properties().num_args, 4);
    assert_eq!(naive.properties().required_group_size, [0; 3]);
    assert_eq!(naive.group_size(), None);
    for global in [[1024, 1024, 1], [100, 6, 1], [7, 1, 1]] {
        let g = naive.suggest_group_size(global).unwrap();
        assert!(
            (0..3).all(|d| g[d] > 0 && global[d] % g[d] == 0),
            "{g:?} for {global:?}"
        );
    }
    assert!(matches!(
        naive.suggest_group_size([0, 1, 1]),
        Err(Error::InvalidArgument { .. })
    ));
    // `reqd_work_group_size(16, 16, 1)`: the group size is set from the start, and no other
    // is accepted.
    let mut tiled = m.kernel("matmul_tiled").unwrap();
    assert_eq!(tiled.properties().required_group_size, [16, 16, 1]);
    assert_eq!(tiled.group_size(), Some([16, 16, 1]));
    assert!(tiled.properties().local_memory >= 2 * 16 * 16 * 4);
    assert_eq!(tiled.suggest_group_size([64, 64, 1]).unwrap(), [16, 16, 1]);
    let (call, code) = call_code(&tiled.set_group_size([8, 8, 1]).unwrap_err());
    assert_eq!(call, "zeKernelSetGroupSize");
    assert_eq!(
        code,
        ze_result_t::ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION
    );
    assert_eq!(tiled.group_size(), Some([16, 16, 1]));
    // A kernel keeps its module alive.
    drop(m);
    assert_eq!(tiled.module().kernel_names().unwrap().len(), 2);
}

#[test]
fn argument_errors() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "saxpy", "O2");
    let mut k = m.kernel("saxpy").unwrap();
    assert_eq!(k.properties().num_args, 3);
    let buf = DeviceBuffer::<f32>::new(&ctx, &dev, 64).unwrap();
    // A wrong index is refused before any call.
    let reason = invalid_reason(k.set_arg(3, &1.0f32).unwrap_err());
    assert!(reason.contains("3 arguments"), "{reason}");
    invalid_reason(k.set_arg_buffer(7, &buf).unwrap_err());
    invalid_reason(k.set_arg_local(3, 16).unwrap_err());
    // A wrong size is the driver's error.
    for e in [
        k.set_arg(0, &1.0f64).unwrap_err(),
        k.set_arg(1, &1u32).unwrap_err(),
    ] {
        let (call, code) = call_code(&e);
        assert_eq!(call, "zeKernelSetArgumentValue");
        assert_eq!(
            code,
            ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE
        );
    }
    invalid_reason(k.set_arg_local(2, 0).unwrap_err());
    // Memory of another context.
    let other_ctx = t.context();
    let foreign = DeviceBuffer::<f32>::new(&other_ctx, &dev, 64).unwrap();
    let reason = invalid_reason(k.set_arg_buffer(1, &foreign).unwrap_err());
    assert!(reason.contains("another context"), "{reason}");
    // The group size.
    invalid_reason(k.set_group_size([0, 1, 1]).unwrap_err());
    let (_, code) = call_code(&k.set_group_size([100_000, 1, 1]).unwrap_err());
    assert_eq!(
        code,
        ze_result_t::ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION
    );
}

#[test]
#[cfg_attr(miri, ignore = "checks before any call (safe code): slow under Miri")]
fn launch_preconditions_are_checked_before_any_call() {
    let t = TestDriver::new();
    let devices = t.devices();
    let (ctx, dev) = (t.context(), devices[0].clone());
    let m = module(&ctx, &dev, "vector_add", "O2");
    let n = 256usize;
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let (ba, bb) = (
        upload(&mut list, &ctx, &dev, &a),
        upload(&mut list, &ctx, &dev, &a),
    );
    let bc = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let mut k = m.kernel("vector_add").unwrap();
    k.set_arg_buffer(0, &ba).unwrap();
    k.set_arg_buffer(1, &bb).unwrap();
    // The launches below are refused before any call; were one to run, vector_add would
    // touch a[i], b[i], c[i] for i < 4 * 64 = n only, and every buffer holds n elements.
    // SAFETY: see above (argument 2 is not set: refused).
    let reason = invalid_reason(unsafe { list.launch(&k, [4, 1, 1]) }.unwrap_err());
    assert!(reason.contains("argument 2"), "{reason}");
    k.set_arg_buffer(2, &bc).unwrap();
    // SAFETY: see above (no group size: refused).
    let reason = invalid_reason(unsafe { list.launch(&k, [4, 1, 1]) }.unwrap_err());
    assert!(reason.contains("group size"), "{reason}");
    k.set_group_size([64, 1, 1]).unwrap();
    // SAFETY: see above (no groups: refused).
    let reason = invalid_reason(unsafe { list.launch(&k, [0, 1, 1]) }.unwrap_err());
    assert!(reason.contains("zero group count"), "{reason}");
    // Copy engines do not run kernels.
    let mut copy = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
    // SAFETY: see above (a copy engine: refused).
    let reason = invalid_reason(unsafe { copy.launch(&k, [4, 1, 1]) }.unwrap_err());
    assert!(reason.contains("copy engine"), "{reason}");
    let mut copy_list = CommandList::copy_engine(&ctx, &dev).unwrap();
    // SAFETY: see above (a copy engine: refused).
    invalid_reason(unsafe { copy_list.launch(&k, [4, 1, 1]) }.unwrap_err());
    // A kernel built for another device.
    if devices.len() > 1 {
        let mut other = ImmediateCommandList::compute(&ctx, &devices[1]).unwrap();
        // SAFETY: see above (another device: refused).
        let reason = invalid_reason(unsafe { other.launch(&k, [4, 1, 1]) }.unwrap_err());
        assert!(reason.contains("another context or device"), "{reason}");
    }
    // None of that disturbed anything: the launch works.
    // SAFETY: vector_add touches a[i], b[i], c[i] for i < 4 * 64 = n; every buffer holds n.
    unsafe { list.launch(&k, [4, 1, 1]) }.unwrap();
    // The launch keeps the kernel alive.
    drop(k);
    list.synchronize().unwrap();
    let c = download(&mut list, &bc);
    assert!(c.iter().enumerate().all(|(i, &x)| x == 2.0 * i as f32));
}

/// The error of a synchronisation after a failed launch: `Error::Call` naming the wait, with
/// `ZE_RESULT_ERROR_INVALID_ARGUMENT` (the driver stopped the kernel's access).
fn assert_launch_failed(e: Error) {
    let (call, code) = call_code(&e);
    assert!(
        call.contains("Synchronize"),
        "the error names the wait: {call}"
    );
    assert_eq!(code, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT, "{e}");
}

#[test]
#[cfg_attr(miri, ignore = "many launches: minutes under Miri")]
fn an_out_of_bounds_kernel_fails_and_touches_nothing_else() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    for opt in ["O0", "O2"] {
        let m = module(&ctx, &dev, "out_of_bounds", opt);
        // Just past the end. (A write far past the end that lands in another live allocation
        // is caught too, see `a_far_out_of_bounds_write_into_another_allocation_is_caught`:
        // the driver lets a kernel reach only its arguments' allocations. Here the bytes right
        // after a buffer of up to 8 KiB are never another allocation's: the driver
        // takes those from the heap, which keeps a header between blocks.)
        for (n, extra) in [(64u32, 1u32), (64, 2), (2048, 3)] {
            // The kernel's buffer with a device and a shared buffer allocated around it.
            let before = SharedBuffer::from_slice(&ctx, &dev, &[-1i32; 64]).unwrap();
            let out = upload(&mut list, &ctx, &dev, &vec![0i32; n as usize]);
            let after = upload(&mut list, &ctx, &dev, &[-1i32; 64]);
            let mut k = m.kernel("write_past_end").unwrap();
            k.set_arg_buffer(0, &out).unwrap();
            k.set_arg(1, &n).unwrap();
            k.set_arg(2, &extra).unwrap();
            k.set_group_size([64, 1, 1]).unwrap();
            // SAFETY: the kernel writes out[n - 1 + extra], past the buffer: the CPU driver
            // checks every access against its allocations and stops it (what this test
            // checks); no other driver runs this test.
            let r = unsafe { list.launch(&k, [n / 64, 1, 1]) };
            // The launch is appended; the failure comes with the wait.
            let e = r.and_then(|()| list.synchronize()).unwrap_err();
            assert_launch_failed(e);
            // The failure is reported once; the list is usable again.
            list.synchronize().unwrap();
            assert_eq!(download(&mut list, &after), [-1; 64], "{opt} n={n}");
            assert_eq!(*before.as_slice().unwrap(), [-1; 64], "{opt} n={n}");
            // In bounds, the same kernel works on the same list.
            k.set_arg(2, &0u32).unwrap();
            // SAFETY: with extra = 0, work-item i writes out[i], i < n.
            unsafe { list.launch(&k, [n / 64, 1, 1]) }.unwrap();
            list.synchronize().unwrap();
            let want: Vec<i32> = (0..n as i32).collect();
            assert_eq!(download(&mut list, &out), want);
        }
        // Reads.
        let n = 128u32;
        let inp = upload(&mut list, &ctx, &dev, &vec![5i32; n as usize]);
        let out = DeviceBuffer::<i32>::new(&ctx, &dev, n as usize).unwrap();
        let mut k = m.kernel("read_past_end").unwrap();
        k.set_arg_buffer(0, &inp).unwrap();
        k.set_arg_buffer(1, &out).unwrap();
        k.set_arg(2, &n).unwrap();
        k.set_arg(3, &1u32).unwrap();
        k.set_group_size([32, 1, 1]).unwrap();
        // SAFETY: the kernel reads in[n]: stopped by the driver, as above; it writes
        // out[i] for i < n only.
        let e = unsafe { list.launch(&k, [n / 32, 1, 1]) }
            .and_then(|()| list.synchronize())
            .unwrap_err();
        assert_launch_failed(e);
        list.synchronize().unwrap();
        // Local memory.
        let out = DeviceBuffer::<i32>::new(&ctx, &dev, 16).unwrap();
        let mut k = m.kernel("local_past_end").unwrap();
        k.set_arg_buffer(0, &out).unwrap();
        k.set_arg(1, &1u32).unwrap();
        k.set_group_size([16, 1, 1]).unwrap();
        // SAFETY: the kernel writes its __local buf[16] at index 16: stopped by the driver;
        // it writes out[i] for i < 16 only.
        let e = unsafe { list.launch(&k, [1, 1, 1]) }
            .and_then(|()| list.synchronize())
            .unwrap_err();
        assert_launch_failed(e);
        list.synchronize().unwrap();
    }
    // A null pointer (a u64 zero has a pointer's size).
    let m = module(&ctx, &dev, "vector_add", "O2");
    let a = upload(&mut list, &ctx, &dev, &[1f32; 64]);
    let mut k = m.kernel("vector_add").unwrap();
    k.set_arg_buffer(0, &a).unwrap();
    k.set_arg(1, &0u64).unwrap();
    k.set_arg_buffer(2, &a).unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    // SAFETY: the kernel reads through a null pointer: stopped by the driver.
    let e = unsafe { list.launch(&k, [1, 1, 1]) }
        .and_then(|()| list.synchronize())
        .unwrap_err();
    assert_launch_failed(e);
    list.synchronize().unwrap();
    assert_eq!(download(&mut list, &a), [1f32; 64]);
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri (the engine's checks run there)")]
fn an_out_of_bounds_kernel_on_a_queue_fails_its_synchronisation() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "out_of_bounds", "O2");
    let out = SharedBuffer::<i32>::new(&ctx, &dev, 64).unwrap();
    let neighbour = SharedBuffer::from_slice(&ctx, &dev, &[-1i32; 64]).unwrap();
    let mut k = m.kernel("write_past_end").unwrap();
    k.set_arg_buffer(0, &out).unwrap();
    k.set_arg(1, &64u32).unwrap();
    k.set_arg(2, &1u32).unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: the kernel writes out[64], past the buffer: the CPU driver stops it.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&list]).unwrap();
    let (call, code) = call_code(&queue.synchronize().unwrap_err());
    assert_eq!(call, "zeCommandQueueSynchronize");
    assert_eq!(code, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    queue.synchronize().unwrap();
    assert_eq!(*neighbour.as_slice().unwrap(), [-1; 64]);
}

/// `__kernel void k(__global uint *out) { *out = SPEC; }` with `SPEC` a specialization
/// constant (SpecId 7, default 5). No kernel of `kernels/` has one: OpenCL C cannot declare
/// them.
fn spec_module() -> Vec<u8> {
    let (void, uint, ptr, spec, fty, f, out, label) = (1, 2, 3, 4, 5, 6, 7, 8);
    words(&[
        0x0723_0203,
        0x0001_0000,
        0,
        9, // id bound
        0,
        op(17, 2), // OpCapability Addresses
        4,
        op(17, 2), // OpCapability Kernel
        6,
        op(14, 3), // OpMemoryModel Physical64 OpenCL
        2,
        2,
        op(15, 4), // OpEntryPoint Kernel %f "k"
        6,
        f,
        u32::from_le_bytes(*b"k\0\0\0"),
        op(71, 4), // OpDecorate %spec SpecId 7
        spec,
        1,
        7,
        op(19, 2), // %void = OpTypeVoid
        void,
        op(21, 4), // %uint = OpTypeInt 32 0
        uint,
        32,
        0,
        op(32, 4), // %ptr = OpTypePointer CrossWorkgroup %uint
        ptr,
        5,
        uint,
        op(50, 4), // %spec = OpSpecConstant %uint 5
        uint,
        spec,
        5,
        op(33, 4), // %fty = OpTypeFunction %void %ptr
        fty,
        void,
        ptr,
        op(54, 5), // %f = OpFunction %void None %fty
        void,
        f,
        0,
        fty,
        op(55, 3), // %out = OpFunctionParameter %ptr
        ptr,
        out,
        op(248, 2), // OpLabel
        label,
        op(62, 3), // OpStore %out %spec
        out,
        spec,
        op(253, 1), // OpReturn
        op(56, 1),  // OpFunctionEnd
    ])
}

#[test]
fn specialization_constants() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let spirv = spec_module();
    let mut run = |options: BuildOptions| -> u32 {
        let m = Module::from_spirv(&ctx, &dev, &spirv, &options).unwrap();
        let out = DeviceBuffer::<u32>::new(&ctx, &dev, 1).unwrap();
        let mut k = m.kernel("k").unwrap();
        k.set_arg_buffer(0, &out).unwrap();
        k.set_group_size([1, 1, 1]).unwrap();
        // SAFETY: one work-item writes out[0].
        unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
        download(&mut list, &out)[0]
    };
    assert_eq!(run(BuildOptions::new()), 5);
    assert_eq!(run(BuildOptions::new().spec_constant(7, 42u32)), 42);
    // A constant the module does not declare is ignored.
    assert_eq!(run(BuildOptions::new().spec_constant(8, 42u32)), 5);
    // Setting one twice keeps the last value.
    let o = BuildOptions::new()
        .spec_constant(7, 1u32)
        .spec_constant(7, 0xdead_beefu32);
    assert_eq!(run(o), 0xdead_beef);
    // A narrower value is read zero-extended (not past its end).
    assert_eq!(run(BuildOptions::new().spec_constant(7, 0xabu8)), 0xab);
    assert_eq!(run(BuildOptions::new().spec_constant(7, 0x1234u16)), 0x1234);
    // Build flags are accepted; the log of a successful build comes back too.
    let (_m, log) = Module::from_spirv_with_log(
        &ctx,
        &dev,
        &spv("vector_add", "O2"),
        &BuildOptions::new()
            .disable_optimizations()
            .spec_constant(3, 1u32),
    )
    .unwrap();
    assert!(log.contains("-ze-opt-disable"), "{log}");
}

/// Copies `n` bytes with a raw `zeCommandListAppendMemoryCopy` on `list` (the safe layer copies
/// between its own buffers and host slices only) and waits for it.
///
/// # Safety
///
/// `dst` and `src` must be valid for `n` bytes until the call returns.
unsafe fn raw_copy(
    t: &TestDriver,
    list: &mut ImmediateCommandList,
    dst: *mut c_void,
    src: *const c_void,
    n: usize,
) {
    let api = t.driver.runtime().api();
    // SAFETY: a live list of this runtime; the ranges are the caller's.
    let r = unsafe {
        api.zeCommandListAppendMemoryCopy(
            list.as_raw(),
            dst,
            src,
            n,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(r.unwrap(), ze_result_t::ZE_RESULT_SUCCESS);
    list.synchronize().unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "builds several modules: minutes under Miri")]
fn program_scope_variables() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    for opt in ["O0", "O2"] {
        // __constant variables: sizes, and their initial values read back with a copy.
        let m = module(&ctx, &dev, "globals", opt);
        assert_eq!(m.kernel_names().unwrap(), ["globals"]);
        for (name, size) in [("table", 32usize), ("params", 8), ("weights", 16)] {
            let (ptr, s) = m.global_pointer(name).unwrap();
            assert!(!ptr.is_null(), "{name}");
            assert_eq!(s, size, "{name}");
        }
        let (ptr, size) = m.global_pointer("table").unwrap();
        let mut table = [0i32; 8];
        assert_eq!(size, size_of_val(&table));
        // SAFETY: `table` is `size` bytes of the module, which lives across the call; the
        // destination is a local array of `size` bytes.
        unsafe { raw_copy(&t, &mut list, table.as_mut_ptr().cast(), ptr, size) };
        assert_eq!(table, [1, 1, 2, 3, 5, 8, 13, 21]);
        let (_, code) = call_code(&m.global_pointer("nope").unwrap_err());
        assert_eq!(code, ze_result_t::ZE_RESULT_ERROR_INVALID_GLOBAL_NAME);
        assert!(matches!(
            m.global_pointer("a\0b"),
            Err(Error::InvalidArgument { .. })
        ));

        // A __global variable that kernels update, read and written by the host with copies.
        let m = module(&ctx, &dev, "globals20", opt);
        let mut names = m.kernel_names().unwrap();
        names.sort();
        assert_eq!(names, ["globals20", "read_counter"]);
        let (counter, size) = m.global_pointer("counter").unwrap();
        assert_eq!(size, 4);
        let read = |list: &mut ImmediateCommandList| {
            let mut v = 0i32;
            // SAFETY: `counter` is 4 bytes of the module, alive across the call.
            unsafe { raw_copy(&t, list, (&raw mut v).cast(), counter, 4) };
            v
        };
        assert_eq!(read(&mut list), 5);
        let n = 256usize;
        let io = upload(&mut list, &ctx, &dev, &vec![1i32; n * 3]);
        let mut k = m.kernel("globals20").unwrap();
        k.set_arg_buffer(0, &io).unwrap();
        k.set_group_size([64, 1, 1]).unwrap();
        // SAFETY: work-item i touches io[3i..3i+3] (n work-items, 3n elements) and the
        // module's own variables.
        unsafe { list.launch(&k, [n as u32 / 64, 1, 1]) }.unwrap();
        list.synchronize().unwrap();
        assert_eq!(read(&mut list), 5 + n as i32);
        let v = 1000i32;
        // SAFETY: as above, the other way.
        unsafe { raw_copy(&t, &mut list, counter, (&raw const v).cast(), 4) };
        let out = DeviceBuffer::<i32>::new(&ctx, &dev, 1).unwrap();
        let mut rc = m.kernel("read_counter").unwrap();
        rc.set_arg_buffer(0, &out).unwrap();
        rc.set_group_size([1, 1, 1]).unwrap();
        // SAFETY: one work-item writes out[0].
        unsafe { list.launch(&rc, [1, 1, 1]) }.unwrap();
        assert_eq!(download(&mut list, &out), [1000]);
    }
}

#[test]
#[cfg_attr(miri, ignore = "4096 work-items: minutes under Miri")]
fn kernel_timestamps_and_event_waits() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "vector_add", "O2");
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let n = 4096usize;
    let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let (ba, bb) = (
        upload(&mut list, &ctx, &dev, &a),
        upload(&mut list, &ctx, &dev, &a),
    );
    let bc = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let mut k = m.kernel("vector_add").unwrap();
    k.set_arg_buffer(0, &ba).unwrap();
    k.set_arg_buffer(1, &bb).unwrap();
    k.set_arg_buffer(2, &bc).unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    let groups = [n as u32 / 64, 1, 1];
    let stamps = EventPool::new(
        &ctx,
        1,
        EventPoolFlags::HOST_VISIBLE | EventPoolFlags::KERNEL_TIMESTAMP,
    )
    .unwrap();
    let done = stamps.event(0).unwrap();
    let gates = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = gates.event(0).unwrap();
    // SAFETY: vector_add touches a[i], b[i], c[i] for i < n; every buffer holds n.
    unsafe { list.launch_with(&k, groups, Some(&done), &[&gate]) }.unwrap();
    // The launch waits for the gate.
    std::thread::sleep(Duration::from_millis(20));
    assert!(!done.is_signaled().unwrap());
    gate.host_signal().unwrap();
    done.host_synchronize().unwrap();
    let ts = done.kernel_timestamp().unwrap();
    assert!(ts.global.0 > 0 && ts.global.0 <= ts.global.1, "{ts:?}");
    assert!(ts.context.0 <= ts.context.1, "{ts:?}");
    list.synchronize().unwrap();
    let c = download(&mut list, &bc);
    assert!(c.iter().enumerate().all(|(i, &x)| x == 2.0 * i as f32));
}

#[test]
fn launches_on_a_regular_list_run_on_a_queue() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "saxpy", "O0");
    let n = 512usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let bx = SharedBuffer::from_slice(&ctx, &dev, &x).unwrap();
    let mut by = SharedBuffer::from_slice(&ctx, &dev, &vec![1f32; n]).unwrap();
    let other = SharedBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let mut k = m.kernel("saxpy").unwrap();
    k.set_arg(0, &2f32).unwrap();
    k.set_arg_buffer(1, &bx).unwrap();
    k.set_arg_buffer(2, &by).unwrap();
    k.set_group_size([128, 1, 1]).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: saxpy touches x[i] and y[i] for i < n; both hold n elements.
    unsafe { list.launch(&k, [n as u32 / 128, 1, 1]) }.unwrap();
    // Later changes to the kernel do not affect the recorded launch.
    k.set_arg(0, &100f32).unwrap();
    k.set_arg_buffer(2, &other).unwrap();
    drop(k);
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    for round in 1..=2 {
        queue.execute(&[&list]).unwrap();
        // The list keeps `y` in use until the queue has seen the execution complete.
        assert!(matches!(by.as_mut_slice(), Err(Error::Busy { .. })));
        queue.synchronize().unwrap();
        let y = by.to_vec().unwrap();
        for i in 0..n {
            assert_eq!(
                y[i],
                1.0 + round as f32 * 2.0 * x[i],
                "round {round} item {i}"
            );
        }
    }
    assert!(other.as_slice().unwrap().iter().all(|&v| v == 0.0));
}

#[test]
#[cfg_attr(miri, ignore = "many launches: minutes under Miri")]
fn kernels_of_one_module_share_it_across_lists() {
    // One kernel object launched repeatedly with changing arguments, on two immediate lists
    // of the same device.
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "vector_add", "O2");
    let mut lists = [
        ImmediateCommandList::compute(&ctx, &dev).unwrap(),
        ImmediateCommandList::compute(&ctx, &dev).unwrap(),
    ];
    let n = 256usize;
    let mut k: Kernel = m.kernel("vector_add").unwrap();
    k.set_group_size([32, 1, 1]).unwrap();
    let mut outs = Vec::new();
    for round in 0..4 {
        let a: Vec<f32> = (0..n).map(|i| (i * round) as f32).collect();
        let list = &mut lists[round % 2];
        let (ba, bc) = (
            upload(list, &ctx, &dev, &a),
            DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap(),
        );
        k.set_arg_buffer(0, &ba).unwrap();
        k.set_arg_buffer(1, &ba).unwrap();
        k.set_arg_buffer(2, &bc).unwrap();
        // SAFETY: vector_add touches a[i], b[i], c[i] for i < n; every buffer holds n.
        unsafe { list.launch(&k, [n as u32 / 32, 1, 1]) }.unwrap();
        // The launch keeps the buffers alive: `ba` may go now.
        drop(ba);
        outs.push((round, bc));
    }
    for (round, bc) in &outs {
        let c = download(&mut lists[round % 2], bc);
        assert!(
            c.iter()
                .enumerate()
                .all(|(i, &v)| v == 2.0 * (i * round) as f32),
            "round {round}"
        );
    }
}

#[test]
fn a_list_dropped_after_a_failed_launch_releases_what_the_launch_used() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "out_of_bounds", "O2");
    let out = SharedBuffer::<i32>::new(&ctx, &dev, 64).unwrap();
    let mut k = m.kernel("write_past_end").unwrap();
    k.set_arg_buffer(0, &out).unwrap();
    k.set_arg(1, &64u32).unwrap();
    k.set_arg(2, &1u32).unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: the kernel writes out[64], past the buffer: the CPU driver stops it.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    // Dropped without synchronising: the drop waits for the failed launch, and then
    // releases the buffer (the leak check at the end sees it destroyed).
    drop(list);
    assert!(out.as_slice().unwrap().iter().all(|&v| v == 0 || v < 64));
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri; its list twin runs there")]
fn a_queue_dropped_after_a_failed_execution_releases_what_it_used() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "out_of_bounds", "O2");
    let out = SharedBuffer::<i32>::new(&ctx, &dev, 64).unwrap();
    let mut k = m.kernel("write_past_end").unwrap();
    k.set_arg_buffer(0, &out).unwrap();
    k.set_arg(1, &64u32).unwrap();
    k.set_arg(2, &1u32).unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: the kernel writes out[64], past the buffer: the CPU driver stops it.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&list]).unwrap();
    // Dropped without synchronising: the drop waits for the failed execution, then releases
    // the list and what it uses.
    drop(queue);
    list.reset().unwrap();
    assert!(out.as_slice().unwrap().iter().all(|&v| v == 0 || v < 64));
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri (the engine's checks run there)")]
fn a_far_out_of_bounds_write_into_another_allocation_is_caught() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "out_of_bounds", "O2");
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let a = upload(&mut list, &ctx, &dev, &[-1i32; 64]);
    let b = upload(&mut list, &ctx, &dev, &[-1i32; 64]);
    // The kernel gets the lower buffer and writes into the higher one.
    let (out, victim) = if a.as_raw() < b.as_raw() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let distance = (victim.as_raw() as usize - out.as_raw() as usize) / 4;
    let extra = u32::try_from(distance - 63 + 5).unwrap();
    let mut k = m.kernel("write_past_end").unwrap();
    k.set_arg_buffer(0, out).unwrap();
    k.set_arg(1, &64u32).unwrap();
    k.set_arg(2, &extra).unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    // SAFETY: the kernel writes victim[5], a buffer it was not given, which the driver should
    // stop (what this test checks). Were it not stopped, the write would land in a live
    // buffer of this test that no Rust reference points to: nothing else is affected.
    let r = unsafe { list.launch(&k, [1, 1, 1]) }.and_then(|()| list.synchronize());
    let corrupted = download(&mut list, victim);
    assert!(r.is_err(), "the launch succeeded; victim: {corrupted:?}");
    assert_eq!(corrupted, [-1; 64]);
}

#[test]
#[cfg_attr(miri, ignore = "many launches: minutes under Miri")]
fn a_failure_among_many_launches_is_reported_by_the_synchronisation() {
    // Many launches between two synchronisations, one of them failing: the synchronisation
    // reports it (through the loader without zeCommandListHostSynchronize too, where the list
    // learns launches' outcomes from events it recycles).
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let add = module(&ctx, &dev, "vector_add", "O2");
    let oob = module(&ctx, &dev, "out_of_bounds", "O2");
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let n = 64usize;
    let ones = upload(&mut list, &ctx, &dev, &[1f32; 64]);
    let sums: Vec<DeviceBuffer<f32>> = (0..40)
        .map(|_| DeviceBuffer::new(&ctx, &dev, n).unwrap())
        .collect();
    let out = DeviceBuffer::<i32>::new(&ctx, &dev, n).unwrap();
    let mut bad = oob.kernel("write_past_end").unwrap();
    bad.set_arg_buffer(0, &out).unwrap();
    bad.set_arg(1, &(n as u32)).unwrap();
    bad.set_arg(2, &1u32).unwrap();
    bad.set_group_size([64, 1, 1]).unwrap();
    let mut k = add.kernel("vector_add").unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    for round in 0..3 {
        for (i, c) in sums.iter().enumerate() {
            k.set_arg_buffer(0, &ones).unwrap();
            k.set_arg_buffer(1, &ones).unwrap();
            k.set_arg_buffer(2, c).unwrap();
            // SAFETY: vector_add touches a[i], b[i], c[i] for i < 64; every buffer holds 64.
            unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
            if round < 2 && i == 20 + round {
                // SAFETY: the kernel writes out[64], past the buffer: the CPU driver stops it.
                unsafe { list.launch(&bad, [1, 1, 1]) }.unwrap();
            }
        }
        match round {
            0 | 1 => {
                assert_launch_failed(list.synchronize().unwrap_err());
                list.synchronize().unwrap();
            }
            _ => list.synchronize().unwrap(),
        }
    }
    for c in &sums {
        assert_eq!(download(&mut list, c), [2f32; 64]);
    }
}

#[test]
fn memory_reached_indirectly_needs_the_indirect_access_flags() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let m = module(&ctx, &dev, "indirect", "O2");
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let data: Vec<f32> = (0..64).map(|i| i as f32 * 1.5).collect();
    let hidden = upload(&mut list, &ctx, &dev, &data);
    let out = upload(&mut list, &ctx, &dev, &[0f32; 64]);
    let addr = hidden.as_raw() as u64;
    let mut k = m.kernel("read_indirect").unwrap();
    k.set_arg(0, &(addr as u32)).unwrap();
    k.set_arg(1, &((addr >> 32) as u32)).unwrap();
    k.set_arg_buffer(2, &out).unwrap();
    k.set_group_size([64, 1, 1]).unwrap();
    // SAFETY: the kernel reads hidden[0..64], a live buffer of this test, and writes out.
    let r = unsafe { list.launch(&k, [1, 1, 1]) }.and_then(|()| list.synchronize());
    assert!(
        r.is_err(),
        "an indirect read without the flags must be stopped"
    );
    assert_eq!(download(&mut list, &out), vec![0f32; 64]);
    k.set_indirect_access(IndirectAccess::DEVICE).unwrap();
    // SAFETY: as above; `hidden` stays alive until the list is synchronised.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    assert_eq!(download(&mut list, &out), data);
}
