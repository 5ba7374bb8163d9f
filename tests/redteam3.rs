//! Third red-team round: attacks on what the safe layer gained with modules — native
//! binaries, dynamic linking and its keep-alive scheme (`docs/SOUNDNESS.md` rule 13), function
//! pointers, source attributes — and on the driver's new topology (sub-devices, queue-group
//! shapes, the GPU device type) as the safe layer exposes it. Written as a hostile user would
//! write it: safe code only, except kernel launches (which are `unsafe` by design; each keeps
//! the launch contract: the kernel touches only its buffer arguments).
//!
//! Tests marked `#[ignore = "finding N: ..."]` fail today: each says what should happen.
//! The others are attacks that failed, kept as regression tests (all five findings are fixed:
//! their tests run). Every test ends with its
//! `TestDriver`'s leak check (declared first, it is dropped last). The findings:
//!
//! 1. a crash: dropping a long chain of merged link groups overflows the stack
//!    (`a_long_chain_of_link_groups_drops_without_overflowing_the_stack`, run in a child
//!    process so that the abort is reported as a failure);
//! 2. a missing check: a function pointer of another device's module is accepted as a
//!    kernel argument (`a_function_pointer_of_another_devices_module_is_refused`);
//! 3. retention: replaced function-pointer arguments keep their modules alive for the
//!    kernel's whole life (`replacing_a_function_pointer_argument_releases_the_old_module`);
//! 4. silently different data: a launch appended before a relink computes with the later
//!    link's exporter (`a_launch_issued_before_a_relink_keeps_the_link_it_was_issued_under`);
//! 5. a legal program refused: the sub-devices of a context's devices are not part of the
//!    context (`the_tiles_of_a_contexts_cards_belong_to_the_context`).
//!
//! The linking tests assemble SPIR-V with `spirv-as` (Debian package `spirv-tools`).

mod common;

use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

use common::{TestDriver, assemble, spv};
use level_zero::sys::ze_result_t;
use level_zero::{
    BuildOptions, CommandList, CommandQueue, Context, Device, DeviceBuffer, Error,
    ImmediateCommandList, Kernel, Module, QueueDesc, SharedBuffer,
};

// =======================================================================================
// Helpers.

fn linkage_text(name: &str) -> String {
    let path = format!(
        "{}/level-zero-cpu-spirv/tests/spvasm/{name}.spvasm",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap()
}

/// The exporter (`add_one`, `link_base = 100`).
fn exporter_spirv() -> Vec<u8> {
    assemble("link_exports", &linkage_text("link_exports"))
}

/// An exporter of the same symbols with `link_base = 200`.
fn exporter_200_spirv() -> Vec<u8> {
    let text = linkage_text("link_exports").replace(
        "%c100 = OpConstant %uint 100",
        "%c100 = OpConstant %uint 200",
    );
    assert!(text.contains("%uint 200"));
    assemble("link_exports_200", &text)
}

/// The importer (`use_add_one`: `p[i] = add_one(p[i]) + link_base`; `standalone`:
/// `p[i] *= 2`).
fn importer_spirv() -> Vec<u8> {
    assemble("link_imports", &linkage_text("link_imports"))
}

fn build(ctx: &Context, dev: &Device, spirv: &[u8]) -> Module {
    Module::from_spirv(ctx, dev, spirv, &BuildOptions::new()).unwrap()
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

fn invalid_reason(e: Error) -> String {
    match e {
        Error::InvalidArgument { reason, .. } => reason,
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

/// A small deterministic generator (no dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Every permutation of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for at in 0..=p.len() {
            let mut q = p.clone();
            q.insert(at, n - 1);
            out.push(q);
        }
    }
    out
}

/// Runs this test binary again for the test `name` alone, with `REDTEAM3_CHILD=1`, and
/// returns whether the child exited successfully, with its output. For attacks that abort
/// the process (a stack overflow): the finding is reported as a failed assertion instead
/// of taking the whole test binary down.
fn in_child_process(name: &str) -> (bool, String) {
    let out = common::this_test_binary()
        .args([name, "--exact", "--include-ignored", "--nocapture"])
        .env("REDTEAM3_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn is_child() -> bool {
    std::env::var_os("REDTEAM3_CHILD").is_some()
}

// =======================================================================================
// Findings.

/// Finding 1: dropping a long chain of merged link groups overflows the stack (the process
/// aborts with SIGSEGV, "thread has overflowed its stack").
///
/// Every `Module::link` that brings a new module into a group makes a new group, and the old
/// one forwards to it (`LinkGroupState::merged_into`). A module that is not part of the later
/// links keeps pointing at the oldest group, which owns the whole chain through those
/// forwarding `Arc`s. When it goes, `Drop` of `Arc<LinkGroup>` recurses once per group.
/// The pattern is ordinary: a long-lived "library" module `lib` linked with each new user
/// module as it is loaded (a plugin host, a JIT cache), and one early module `first` that
/// was linked with `lib` at start-up and dropped last. A few thousand links suffice on a
/// thread with the default 2 MiB stack (debug build); a release build needs more, any build
/// needs only enough of them.
///
/// Should: dropping any number of linked modules never crashes. Fix: drop the chain
/// iteratively (in `Drop for LinkGroup`, `take` `merged_into` in a loop, continuing only
/// while `Arc::into_inner`/`try_unwrap` yields the last reference), or avoid the chain
/// altogether (e.g. have `tie` re-point every member's `ModuleInner::group` at the new group
/// — members can be found through a `Weak<ModuleInner>` list kept in the group — so that no
/// group ever forwards to another).
#[test]
fn a_long_chain_of_link_groups_drops_without_overflowing_the_stack() {
    if !is_child() {
        let (ok, out) =
            in_child_process("a_long_chain_of_link_groups_drops_without_overflowing_the_stack");
        assert!(
            ok,
            "dropping the first module of a long link chain crashed the process:\n{out}"
        );
        return;
    }
    let links: usize = std::env::var("REDTEAM3_CHAIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let modules_before = t.live().modules;
    let empty = spv("empty", "O2");
    let lib = build(&ctx, &dev, &empty);
    let first = build(&ctx, &dev, &empty);
    Module::link(&[&first, &lib]).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..links {
        let plugin = build(&ctx, &dev, &empty);
        Module::link(&[&lib, &plugin]).unwrap();
    }
    eprintln!("{links} links in {:?}", start.elapsed());
    drop(lib);
    assert_eq!(t.live().modules, modules_before + links as u64 + 2);
    // `first` points at the oldest group: its drop releases the whole chain, on a thread with
    // the default stack size.
    std::thread::spawn(move || drop(first)).join().unwrap();
    assert_eq!(t.live().modules, modules_before);
}

/// Finding 2: `Kernel::set_arg_function_pointer` checks that the function's module is of
/// the kernel's context, not that it was built for the kernel's device. A function pointer
/// is a device address of the module's device (`zeModuleCreate`: "The application must only
/// use the module for the device, or its sub-devices, which was provided during creation");
/// the crate refuses a kernel launched on a list of another device, and modules of another
/// device in a link (rule 11, rule 13), but passes another device's function address to a
/// kernel, where a GPU would jump into code it cannot reach.
///
/// Should: `Error::InvalidArgument` naming the other device (as for links), unless the
/// function's device is the kernel's or one of its sub-devices/root.
#[test]
fn a_function_pointer_of_another_devices_module_is_refused() {
    let t = TestDriver::new();
    let ctx = t.context();
    let devs = t.devices();
    let (d0, d1) = (&devs[0], &devs[1]);
    let elsewhere = build(&ctx, d1, &exporter_spirv());
    let add_one_on_d1 = elsewhere.function_pointer("add_one").unwrap();
    let store = build(&ctx, d0, &assemble("store_ulong", STORE_ULONG));
    let mut k = store.kernel("store_ulong").unwrap();
    let r = k.set_arg_function_pointer(1, &add_one_on_d1);
    let reason = invalid_reason(r.expect_err("a function of another device was accepted"));
    assert!(reason.contains("device"), "{reason}");
}

/// Finding 3 (minor; retention, not unsoundness): a kernel keeps alive every module whose
/// function it was *ever* given (`KernelInner::callees` only grows), even after the argument
/// was replaced and no launch uses the old value. A long-lived kernel fed a function of a
/// fresh module per iteration (a JIT specialising a callback) keeps every one of those
/// modules until the kernel is dropped: memory grows without bound, silently.
///
/// Should: like buffer arguments (`mem_uses`, snapshotted per launch), the module of a
/// function-pointer argument is kept by the launches that used it and by the kernel while
/// the argument holds it — replacing it releases the old module once those launches are
/// seen complete.
#[test]
fn replacing_a_function_pointer_argument_releases_the_old_module() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let store = build(&ctx, &dev, &assemble("store_ulong", STORE_ULONG));
    let mut k = store.kernel("store_ulong").unwrap();
    let out = SharedBuffer::<u64>::new(&ctx, &dev, 1).unwrap();
    k.set_arg_buffer(0, &out).unwrap();
    k.set_group_size([1, 1, 1]).unwrap();
    let modules_before = t.live().modules;
    let exporter = exporter_spirv();
    for round in 0..5u64 {
        let m = build(&ctx, &dev, &exporter);
        let f = m.function_pointer("add_one").unwrap();
        k.set_arg_function_pointer(1, &f).unwrap();
        drop((f, m));
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        // SAFETY: the kernel writes out[0] only.
        unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
        list.synchronize().unwrap();
        // The argument now holds a plain value: no function of any module.
        k.set_arg(1, &round).unwrap();
        assert_eq!(
            t.live().modules,
            modules_before,
            "round {round}: the modules of replaced function-pointer arguments are still alive"
        );
    }
}

// =======================================================================================
// Attacks that failed: link groups.

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

/// Link A (exporter) + B (importer), then B + C (a second exporter, `link_base = 200`); a
/// kernel of B created after each link; every drop order of the five objects. The three
/// modules stay alive while any of them, or a kernel, lives, and all go with the last; each
/// kernel computes with A, the exporter of B's first link (imports are linked once: the
/// specification; B only serves its exports in the second link).
#[test]
fn two_overlapping_links_in_every_drop_order_keep_then_free_all_three_modules() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let modules_before = t.live().modules;
    let kernels_before = t.live().kernels;
    let (exp, exp200, imp) = (exporter_spirv(), exporter_200_spirv(), importer_spirv());
    for order in permutations(5) {
        let a = build(&ctx, &dev, &exp);
        let b = build(&ctx, &dev, &imp);
        let c = build(&ctx, &dev, &exp200);
        Module::link(&[&a, &b]).unwrap();
        let mut k1 = b.kernel("use_add_one").unwrap();
        assert_eq!(run_on_iota(&ctx, &dev, &mut k1, 16)[3], 104);
        Module::link(&[&b, &c]).unwrap();
        let k2 = b.kernel("use_add_one").unwrap();
        let mut slots: Vec<Option<Box<dyn std::any::Any>>> = vec![
            Some(Box::new(a)),
            Some(Box::new(b)),
            Some(Box::new(c)),
            Some(Box::new(k1)),
            Some(Box::new(k2)),
        ];
        for (step, &i) in order.iter().enumerate() {
            let alive: Vec<usize> = order[step..].to_vec();
            // Before dropping `i`: a kernel that is still alive runs with A's base.
            for &j in &alive {
                if let Some(k) = slots[j].as_mut().and_then(|s| s.downcast_mut::<Kernel>()) {
                    assert_eq!(
                        run_on_iota(&ctx, &dev, k, 16)[5],
                        106,
                        "order {order:?}, step {step}"
                    );
                }
            }
            slots[i] = None;
            let expected = if step + 1 == order.len() {
                modules_before
            } else {
                modules_before + 3
            };
            assert_eq!(
                t.live().modules,
                expected,
                "order {order:?}: after dropping object {i} (step {step})"
            );
        }
        assert_eq!(t.live().kernels, kernels_before);
    }
}

/// Four threads link random pairs of a shared pool of modules (exporters, importers, plain
/// modules; clones cross threads) while others create kernels and drop their clones in
/// random order, with panics thrown in the middle. Nothing deadlocks, every link either
/// succeeds or fails with a link error, and every module is destroyed once all are dropped.
#[test]
fn concurrent_links_merges_and_drops_neither_deadlock_nor_leak() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let modules_before = t.live().modules;
    let sources = Arc::new(vec![
        exporter_spirv(),
        importer_spirv(),
        spv("empty", "O2"),
        exporter_200_spirv(),
    ]);
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads));
    let (tx, rx) = mpsc::channel::<Module>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let (done_tx, done_rx) = mpsc::channel();
    let mut handles = Vec::new();
    for seed in 0..threads as u64 {
        let (ctx, dev, sources, barrier) =
            (ctx.clone(), dev.clone(), sources.clone(), barrier.clone());
        let (tx, rx, done_tx) = (tx.clone(), rx.clone(), done_tx.clone());
        handles.push(std::thread::spawn(move || {
            let mut rng = Lcg(seed * 7919 + 1);
            let mut mine: Vec<Module> = Vec::new();
            let mut kernels: Vec<Kernel> = Vec::new();
            barrier.wait();
            for step in 0..150 {
                match rng.below(8) {
                    0 | 1 => {
                        let src = &sources[rng.below(sources.len())];
                        mine.push(build(&ctx, &dev, src));
                    }
                    2 | 3 if mine.len() >= 2 => {
                        let a = rng.below(mine.len());
                        let b = rng.below(mine.len());
                        match Module::link(&[&mine[a], &mine[b]]) {
                            Ok(()) | Err(Error::ModuleLink { .. }) => {}
                            Err(e) => panic!("unexpected link error {e:?}"),
                        }
                    }
                    4 if !mine.is_empty() => {
                        // Hand a clone to another thread.
                        let _ = tx.send(mine[rng.below(mine.len())].clone());
                    }
                    5 => {
                        if let Ok(m) = rx.lock().unwrap().try_recv() {
                            mine.push(m);
                        }
                    }
                    6 if !mine.is_empty() => {
                        let m = &mine[rng.below(mine.len())];
                        for name in m.kernel_names().unwrap() {
                            if let Ok(k) = m.kernel(&name) {
                                kernels.push(k);
                            }
                        }
                        if let (Ok(f), Some(k)) =
                            (m.function_pointer("add_one"), kernels.last_mut())
                        {
                            // Argument 0 of the kernels here is a pointer (8 bytes): the
                            // kernel now keeps the exporter alive. Errors are fine.
                            let _ = k.set_arg_function_pointer(0, &f);
                        }
                    }
                    7 => {
                        if !mine.is_empty() {
                            mine.swap_remove(rng.below(mine.len()));
                        }
                        if !kernels.is_empty() && rng.below(2) == 0 {
                            kernels.swap_remove(rng.below(kernels.len()));
                        }
                        if step % 37 == 36 {
                            // A panic while holding modules and kernels: unwinding drops them.
                            let held = (mine.split_off(mine.len() / 2), kernels.split_off(0));
                            let r =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                                    let _held = held;
                                    panic!("deliberate");
                                }));
                            assert!(r.is_err());
                        }
                    }
                    _ => {}
                }
            }
            drop((mine, kernels));
            let _ = done_tx.send(());
        }));
    }
    drop((tx, done_tx));
    for _ in 0..threads {
        done_rx
            .recv_timeout(Duration::from_secs(300))
            .expect("HANG: a thread linking and dropping modules did not finish");
    }
    for h in handles {
        h.join().unwrap();
    }
    // Clones still in the channel.
    while rx.lock().unwrap().try_recv().is_ok() {}
    drop(rx);
    assert_eq!(t.live().modules, modules_before, "modules leaked");
}

/// A kernel given a function pointer of module X (not linked with anything) keeps X alive:
/// the pointer and the kernel go to another thread, which launches the kernel there after
/// every other handle of X, of the context and of the device was dropped on this thread.
#[test]
fn a_function_pointer_sent_to_another_thread_outlives_its_module_and_context_handles() {
    let t = TestDriver::new();
    let modules_before = t.live().modules;
    let (ctx, dev) = (t.context(), t.device());
    let x = build(&ctx, &dev, &exporter_spirv());
    let f = x.function_pointer("add_one").unwrap();
    let store = build(&ctx, &dev, &assemble("store_ulong", STORE_ULONG));
    let k = store.kernel("store_ulong").unwrap();
    drop((x, store, ctx, dev));
    let (tx, rx) = mpsc::channel::<(level_zero::FunctionPointer, Kernel)>();
    let h = std::thread::spawn(move || {
        let (f, mut k) = rx.recv().unwrap();
        let (ctx, dev) = (k.module().context().clone(), k.module().device().clone());
        let out = SharedBuffer::<u64>::new(&ctx, &dev, 1).unwrap();
        k.set_arg_buffer(0, &out).unwrap();
        k.set_arg_function_pointer(1, &f).unwrap();
        k.set_group_size([1, 1, 1]).unwrap();
        let address = f.address();
        drop(f);
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        // SAFETY: the kernel writes out[0] only.
        unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
        drop(k);
        list.synchronize().unwrap();
        assert_eq!(out.as_slice().unwrap()[0], address);
    });
    tx.send((f, k)).unwrap();
    h.join().unwrap();
    assert_eq!(t.live().modules, modules_before);
}

/// Finding 4: a launch appended *before* a relink runs with the modules of the *later*
/// link. The CPU driver resolves a kernel's imports when the launch executes, not when it is
/// appended, and the crate documents linking again as "defined" (`Module::link`: "the CPU
/// driver relinks them") without saying that work already submitted changes meaning. In
/// program order, the launch was issued while `use_add_one` called A's code (`link_base =
/// 100`); it computes with C's (`link_base = 200`): silently different data depending on how
/// fast the device is. (The specification avoids the question: "its imports will not be
/// re-linked".)
///
/// Should: either a pending launch keeps the link it was issued under (the driver snapshots
/// the linked code in the launch command), or the safe layer refuses to relink a module whose
/// imports were already linked successfully (`Error::InvalidArgument`, as the specification
/// never re-links imports), or at least waits for that module's pending launches. The test
/// accepts any of these: a refused relink, or the old result.
#[test]
fn a_launch_issued_before_a_relink_keeps_the_link_it_was_issued_under() {
    let Some(t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_millis(300))) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let a = build(&ctx, &dev, &exporter_spirv());
    let b = build(&ctx, &dev, &importer_spirv());
    let c = build(&ctx, &dev, &exporter_200_spirv());
    Module::link(&[&a, &b]).unwrap();
    let mut k = b.kernel("use_add_one").unwrap();
    let mut buf = SharedBuffer::<u32>::new(&ctx, &dev, 16).unwrap();
    buf.as_mut_slice().unwrap().fill(0);
    k.set_arg_buffer(0, &buf).unwrap();
    k.set_group_size([16, 1, 1]).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    // SAFETY: the kernel touches only p[0..16) of its one buffer argument.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    // The launch is pending (the driver delays every command by 300 ms).
    let relink = Module::link(&[&b, &c]);
    list.synchronize().unwrap();
    let got = buf.as_slice().unwrap()[0];
    match relink {
        Err(Error::InvalidArgument { .. }) => {}
        Ok(()) => assert_eq!(
            got, 101,
            "the launch issued under the link with A (base 100) ran with C's base"
        ),
        Err(e) => panic!("unexpected relink error {e:?}"),
    }
}

// =======================================================================================
// Attacks that failed: native binaries.

/// A native binary in this driver's format (`level-zero-cpu/src/module.rs`,
/// `NativeSource::encode`), built by hand: what a hostile or corrupted cache file holds,
/// with a valid checksum.
fn native(version: u32, flags: &[u8], constants: &[(u32, &[u8])], spirv: &[u8]) -> Vec<u8> {
    let mut out = b"L0CPUNB\0".to_vec();
    out.extend(version.to_le_bytes());
    out.extend((flags.len() as u64).to_le_bytes());
    out.extend(flags);
    out.extend((constants.len() as u64).to_le_bytes());
    for (id, value) in constants {
        out.extend(id.to_le_bytes());
        out.extend((value.len() as u64).to_le_bytes());
        out.extend(*value);
    }
    out.extend((spirv.len() as u64).to_le_bytes());
    out.extend(spirv);
    seal(out)
}

/// Appends the checksum (64-bit FNV-1a) to a body.
fn seal(mut body: Vec<u8>) -> Vec<u8> {
    let sum = body.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    body.extend(sum.to_le_bytes());
    body
}

/// `store_spec(global ulong* out)`: `out[0] = S`, `S` a 64-bit specialization constant
/// (`SpecId 7`, default 5).
const STORE_SPEC: &str = r#"
               OpCapability Addresses
               OpCapability Kernel
               OpCapability Int64
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %k "store_spec"
               OpDecorate %sc SpecId 7
      %void = OpTypeVoid
     %ulong = OpTypeInt 64 0
   %p_ulong = OpTypePointer CrossWorkgroup %ulong
       %kty = OpTypeFunction %void %p_ulong
        %sc = OpSpecConstant %ulong 5
         %k = OpFunction %void None %kty
       %out = OpFunctionParameter %p_ulong
         %l = OpLabel
              OpStore %out %sc
              OpReturn
              OpFunctionEnd
"#;

fn store_spec_result(ctx: &Context, dev: &Device, m: &Module) -> u64 {
    let mut k = m.kernel("store_spec").unwrap();
    let out = SharedBuffer::<u64>::new(ctx, dev, 1).unwrap();
    k.set_arg_buffer(0, &out).unwrap();
    k.set_group_size([1, 1, 1]).unwrap();
    let mut list = ImmediateCommandList::compute(ctx, dev).unwrap();
    // SAFETY: the kernel writes out[0] only.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    out.as_slice().unwrap()[0]
}

/// Hand-made native binaries with valid checksums: lengths past the end (up to
/// `u64::MAX`), a specialization constant narrower than the module declares, flags that are
/// not UTF-8, garbage SPIR-V, trailing bytes, another format version, a huge slice. Each is a
/// typed build error with a log; none crashes, reads out of bounds or loads with a silently
/// wrong value. Wider constants use their low bytes; constants the module lacks are ignored.
#[test]
fn hand_made_native_binaries_are_typed_errors_or_load_what_they_say() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let spirv = assemble("store_spec", STORE_SPEC);
    let load = |bytes: &[u8]| Module::from_native(&ctx, &dev, bytes, &BuildOptions::new());
    let refused = |bytes: &[u8], what: &str| match load(bytes) {
        Err(Error::ModuleBuild { code, log }) => {
            assert!(
                code.0 == ze_result_t::ZE_RESULT_ERROR_INVALID_NATIVE_BINARY
                    || code.0 == ze_result_t::ZE_RESULT_ERROR_MODULE_BUILD_FAILURE,
                "{what}: {code:?}"
            );
            assert!(!log.is_empty(), "{what}: an empty log");
            log
        }
        Err(e) => panic!("{what}: expected Error::ModuleBuild, got {e:?}"),
        Ok(_) => panic!("{what}: loaded"),
    };
    // The honest binary, and its constant set through the envelope.
    let m = load(&native(1, b"", &[], &spirv)).unwrap();
    assert_eq!(store_spec_result(&ctx, &dev, &m), 5);
    let m = load(&native(1, b"", &[(7, &42u64.to_le_bytes())], &spirv)).unwrap();
    assert_eq!(store_spec_result(&ctx, &dev, &m), 42);
    // Wider: the low 8 bytes. Unknown ids: ignored.
    let mut wide = 43u64.to_le_bytes().to_vec();
    wide.extend([0xff; 24]);
    let m = load(&native(1, b"", &[(7, &wide), (99, &[1])], &spirv)).unwrap();
    assert_eq!(store_spec_result(&ctx, &dev, &m), 43);
    // Narrower than the constant: refused, naming it.
    let log = refused(&native(1, b"", &[(7, &[1, 2])], &spirv), "narrow constant");
    assert!(log.contains("specialization constant 7"), "{log}");
    refused(&native(1, b"", &[(7, &[])], &spirv), "empty constant");
    // Lengths that run past the end, up to u64::MAX, at each length field.
    for patch_at in [12usize, 20, 28] {
        for huge in [u64::MAX, u64::MAX / 2, 1 << 40, 4096] {
            let honest = native(1, b"", &[(7, &9u64.to_le_bytes())], &spirv);
            let mut body = honest[..honest.len() - 8].to_vec();
            body[patch_at..patch_at + 8].copy_from_slice(&huge.to_le_bytes());
            refused(&seal(body), &format!("length {huge:#x} at {patch_at}"));
        }
    }
    // A constant count of u64::MAX with nothing after it.
    let mut body = b"L0CPUNB\0".to_vec();
    body.extend(1u32.to_le_bytes());
    body.extend(0u64.to_le_bytes());
    body.extend(u64::MAX.to_le_bytes());
    refused(&seal(body), "constant count u64::MAX");
    // Flags that are not UTF-8, and flags the builder does not know.
    refused(&native(1, &[0xff, 0xfe], &[], &spirv), "non-UTF-8 flags");
    let _ = load(&native(1, b"-cl-no-such-flag \0 -x", &[], &spirv));
    // Another version, garbage and empty SPIR-V, trailing bytes, a truncated checksum.
    refused(&native(2, b"", &[], &spirv), "version 2");
    refused(&native(0, b"", &[], &spirv), "version 0");
    refused(&native(1, b"", &[], &[0xab; 64]), "garbage SPIR-V");
    refused(&native(1, b"", &[], &[]), "empty SPIR-V");
    let honest = native(1, b"", &[], &spirv);
    let mut body = honest[..honest.len() - 8].to_vec();
    body.extend([0; 5]);
    refused(&seal(body), "trailing bytes");
    refused(&honest[..honest.len() - 1], "truncated checksum");
    refused(&b"L0CPUNB\0"[..], "magic only");
    refused(&[0u8; 3], "three bytes");
    // A large slice of garbage.
    refused(&vec![0x5au8; 64 << 20], "64 MiB of garbage");
    // The SPIR-V of a native binary that imports: loads unlinked, the kernel is a typed
    // error, and linking the loaded module with the exporter works.
    let importer = build(&ctx, &dev, &importer_spirv());
    let loaded = load(&importer.native_binary().unwrap()).unwrap();
    drop(importer);
    let e = loaded.kernel("use_add_one").unwrap_err();
    assert_eq!(
        e.code().map(|c| c.0),
        Some(ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED)
    );
    let exporter = load(
        &build(&ctx, &dev, &exporter_spirv())
            .native_binary()
            .unwrap(),
    )
    .unwrap();
    Module::link(&[&loaded, &exporter]).unwrap();
    let mut k = loaded.kernel("use_add_one").unwrap();
    assert_eq!(run_on_iota(&ctx, &dev, &mut k, 16)[2], 103);
}

/// A native binary made by one driver instance (one configuration) loaded into another
/// instance with another configuration (GPU device type, tiles, one device, other queue
/// groups), on another device and context, and run; and into an instance that fails every
/// build (a typed error, no leak).
#[test]
fn native_binaries_cross_driver_instances_devices_and_contexts() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let binary = build(&ctx, &dev, &spv("vector_add", "O2"))
        .native_binary()
        .unwrap();
    let Some(other) = TestDriver::with(|c| {
        c.devices = 1;
        c.subdevices = 2;
        c.hierarchy = level_zero::cpu::Hierarchy::Composite;
        c.device_type = level_zero::cpu::DeviceType::Gpu;
        c.queue_groups = level_zero::cpu::QueueGroups::Simple;
    }) else {
        return;
    };
    let card = other.device();
    assert_eq!(
        card.properties().unwrap().device_type,
        level_zero::DeviceType::Gpu
    );
    let tiles = card.sub_devices().unwrap();
    assert_eq!(tiles.len(), 2);
    for dev in std::iter::once(card.clone()).chain(tiles) {
        let ctx = Context::with_devices(std::slice::from_ref(&dev)).unwrap();
        let m = Module::from_native(&ctx, &dev, &binary, &BuildOptions::new()).unwrap();
        let n = 64;
        let a = SharedBuffer::<f32>::from_slice(&ctx, &dev, &vec![1.5; n]).unwrap();
        let b = SharedBuffer::<f32>::from_slice(&ctx, &dev, &vec![2.0; n]).unwrap();
        let c = SharedBuffer::<f32>::new(&ctx, &dev, n).unwrap();
        let mut k = m.kernel("vector_add").unwrap();
        k.set_arg_buffer(0, &a).unwrap();
        k.set_arg_buffer(1, &b).unwrap();
        k.set_arg_buffer(2, &c).unwrap();
        k.set_group_size([16, 1, 1]).unwrap();
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        // SAFETY: vector_add touches only element i of its three 64-element buffers.
        unsafe { list.launch(&k, [4, 1, 1]) }.unwrap();
        list.synchronize().unwrap();
        assert!(c.as_slice().unwrap().iter().all(|&x| x == 3.5));
        // A module of a tile is not a module of its card: a kernel of it on a card list is
        // refused before any call.
    }
    let Some(failing) = TestDriver::with(|c| c.fail_module_build = true) else {
        return;
    };
    let ctx = failing.context();
    let e =
        Module::from_native(&ctx, &failing.device(), &binary, &BuildOptions::new()).unwrap_err();
    assert!(matches!(e, Error::ModuleBuild { .. }), "{e:?}");
}

/// Linking while kernels of the linked modules run on another thread: the CPU driver's
/// relink waits for running launches of the module; every launch computes with one
/// exporter or the other, never a mix.
#[test]
fn relinking_while_kernels_of_the_module_run_on_another_thread_is_never_a_mix() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = build(&ctx, &dev, &exporter_spirv());
    let b = build(&ctx, &dev, &importer_spirv());
    let c = build(&ctx, &dev, &exporter_200_spirv());
    Module::link(&[&a, &b]).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runner = {
        let (ctx, dev, b, stop) = (ctx.clone(), dev.clone(), b.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut k = b.kernel("use_add_one").unwrap();
            let mut seen = [0usize; 2];
            let n = 4096u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || seen.contains(&0) {
                let out = run_on_iota(&ctx, &dev, &mut k, n);
                let base = out[0] - 1;
                assert!(base == 100 || base == 200, "base {base}");
                for (i, &x) in out.iter().enumerate() {
                    assert_eq!(x, i as u32 + 1 + base, "a launch mixed two links");
                }
                seen[usize::from(base == 200)] += 1;
                if seen.iter().sum::<usize>() > 400 {
                    break;
                }
            }
            seen
        })
    };
    for i in 0..40 {
        if i % 2 == 0 {
            Module::link(&[&b, &c]).unwrap();
        } else {
            Module::link(&[&a, &b]).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = runner.join().unwrap();
    eprintln!("launches with base 100 / 200: {seen:?}");
}

// =======================================================================================
// Attacks on the topology: sub-devices, queue groups, the GPU device type.

fn tiles_driver(
    hierarchy: level_zero::cpu::Hierarchy,
    f: impl FnOnce(&mut level_zero::cpu::Config),
) -> Option<TestDriver> {
    TestDriver::with(|c| {
        c.subdevices = 2;
        c.hierarchy = hierarchy;
        f(c);
    })
}

/// Finding 5: the sub-devices of a context's devices are refused ("the device does not
/// belong to this context"), for allocations, lists and queues. The specification makes them
/// part of the context: `zeContextCreateEx` — "if nullptr, then all devices and any
/// sub-devices supported by the driver instance are visible to the context. otherwise, the
/// context only has visibility to the devices and any sub-devices of the devices in this
/// array" (and `zeContextCreate` is the nullptr case). In a `COMPOSITE` hierarchy
/// (`ZE_FLAT_DEVICE_HIERARCHY=COMPOSITE`, what multi-tile users of explicit scaling set),
/// `Context::new(driver)` therefore cannot use any tile, and neither can
/// `Context::with_devices(&[card])`: every tile must be listed explicitly. Not unsound (a
/// refusal), but a legal program is refused, and a module built for a card cannot run on its
/// tiles either (`zeModuleCreate`: "only use the module for the device, or its
/// sub-devices").
///
/// Should: `Context::contains` (and `check_device`/`device_index`) accept a sub-device of a
/// context device (its `root_device` chain), and a kernel of a card's module launch on the
/// card's tiles. The bookkeeping keyed by the context's device index (residency, hazard
/// timelines) must then map a tile to its own entry, not its card's.
#[test]
fn the_tiles_of_a_contexts_cards_belong_to_the_context() {
    use level_zero::cpu::Hierarchy;
    let Some(t) = tiles_driver(Hierarchy::Composite, |_| {}) else {
        return;
    };
    let cards = t.devices();
    let tiles = cards[0].sub_devices().unwrap();
    for ctx in [
        t.context(),
        Context::with_devices(std::slice::from_ref(&cards[0])).unwrap(),
    ] {
        let tile = &tiles[1];
        assert!(
            ctx.contains(tile),
            "a tile of a context's card is in the context"
        );
        let mut buf = SharedBuffer::<u32>::new(&ctx, tile, 64)
            .expect("an allocation on a tile of the context's card");
        let mut list = ImmediateCommandList::compute(&ctx, tile)
            .expect("a list on a tile of the context's card");
        list.fill(&buf, 7u32).unwrap();
        list.synchronize().unwrap();
        assert!(buf.as_mut_slice().unwrap().iter().all(|&x| x == 7));
        // A module of the card runs on its tile.
        let m = build(&ctx, &cards[0], &spv("vector_add", "O2"));
        let mut k = m.kernel("vector_add").unwrap();
        for i in 0..3 {
            k.set_arg_buffer(i, &buf).unwrap();
        }
        k.set_group_size([16, 1, 1]).unwrap();
        // SAFETY: vector_add touches only element i of its buffers (64 elements; 4 groups).
        unsafe { list.launch(&k, [4, 1, 1]) }.expect("a card's kernel on its tile's list");
        list.synchronize().unwrap();
    }
}

/// Tiles have a share of their card's memory: an allocation beyond the share, or beyond
/// what the card has left, is a typed out-of-memory error; freeing gives it back. Tiles of
/// one card copy directly; tiles of two cards without P2P go through host memory. The
/// values arrive either way.
#[test]
fn tile_memory_shares_and_peer_copies_between_tiles() {
    use level_zero::cpu::Hierarchy;
    let Some(t) = tiles_driver(Hierarchy::Composite, |c| {
        c.device_memory = 64 << 20;
        c.max_alloc = Some(64 << 20);
        c.p2p = false;
    }) else {
        return;
    };
    let cards = t.devices();
    let (t0, t1) = {
        let v = cards[0].sub_devices().unwrap();
        (v[0].clone(), v[1].clone())
    };
    let far = cards[1].sub_devices().unwrap().remove(0);
    let ctx = Context::with_devices(&[
        cards[0].clone(),
        t0.clone(),
        t1.clone(),
        cards[1].clone(),
        far.clone(),
    ])
    .unwrap();
    assert_eq!(t0.total_memory().unwrap(), 32 << 20);
    let oom = |r: level_zero::Result<DeviceBuffer<u8>>, what: &str| match r {
        Err(e) => assert_eq!(
            e.code().map(|c| c.0),
            Some(ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY),
            "{what}: {e:?}"
        ),
        Ok(_) => panic!("{what}: allocated"),
    };
    oom(
        DeviceBuffer::new(&ctx, &t0, 40 << 20),
        "beyond the tile's share",
    );
    let a = DeviceBuffer::<u8>::new(&ctx, &t0, 30 << 20).unwrap();
    let b = DeviceBuffer::<u8>::new(&ctx, &t1, 30 << 20).unwrap();
    oom(
        DeviceBuffer::new(&ctx, &cards[0], 8 << 20),
        "beyond the card's rest",
    );
    assert!(SharedBuffer::<u8>::new(&ctx, &t0, 8 << 20).is_err());
    drop((a, b));
    drop(DeviceBuffer::<u8>::new(&ctx, &cards[0], 60 << 20).unwrap());
    // Peer copies.
    let n = 1 << 16;
    let data: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    let src = DeviceBuffer::<u32>::new(&ctx, &t0, n).unwrap();
    ImmediateCommandList::copy_engine(&ctx, &t0)
        .unwrap()
        .copy_from_slice(&src, &data)
        .unwrap();
    let near = DeviceBuffer::<u32>::new(&ctx, &t1, n).unwrap();
    let away = DeviceBuffer::<u32>::new(&ctx, &far, n).unwrap();
    assert_eq!(
        level_zero::copy_peer(&near, &src).unwrap(),
        level_zero::PeerPath::Direct
    );
    assert_eq!(
        level_zero::copy_peer(&away, &src).unwrap(),
        level_zero::PeerPath::Staged
    );
    for (buf, dev) in [(&near, &t1), (&away, &far)] {
        let mut out = vec![0u32; n];
        let mut list = ImmediateCommandList::copy_engine(&ctx, dev).unwrap();
        list.copy_to_slice(&mut out, buf).unwrap();
        assert!(out == data, "peer copy to {dev:?} delivered wrong data");
    }
    // A direct copy on a far tile's list of memory it cannot reach is refused before any
    // call.
    let mut list = ImmediateCommandList::copy_engine(&ctx, &far).unwrap();
    assert!(matches!(
        list.copy(&away, &src),
        Err(Error::InvalidArgument { .. })
    ));
}

/// Kernel launches on copy-only queue groups (the main copy engine, ordinal 1, and the link
/// copy engines, ordinal 2), on cards and tiles, through immediate lists, regular lists and
/// queues: each a typed error before any call, and nothing leaks.
#[test]
fn kernels_on_copy_only_ordinals_are_typed_errors_on_cards_and_tiles() {
    use level_zero::cpu::Hierarchy;
    let Some(t) = tiles_driver(Hierarchy::Combined, |_| {}) else {
        return;
    };
    let tile = t.device();
    let card = tile.root_device().unwrap().expect("a tile's card");
    for dev in [tile, card] {
        let ctx = Context::with_devices(std::slice::from_ref(&dev)).unwrap();
        let m = build(&ctx, &dev, &spv("empty", "O2"));
        let name = m.kernel_names().unwrap().remove(0);
        let mut k = m.kernel(&name).unwrap();
        k.set_group_size([1, 1, 1]).unwrap();
        let groups = dev.queue_groups().unwrap();
        for g in groups
            .iter()
            .filter(|g| !g.flags.contains(level_zero::QueueGroupFlags::COMPUTE))
        {
            for index in [0, g.num_queues - 1] {
                let desc = QueueDesc {
                    ordinal: g.ordinal,
                    index,
                    ..QueueDesc::compute(&dev).unwrap()
                };
                let mut imm = ImmediateCommandList::new(&ctx, &dev, &desc).unwrap();
                // SAFETY: an empty kernel.
                let e = unsafe { imm.launch(&k, [1, 1, 1]) }.unwrap_err();
                assert!(invalid_reason(e).contains("copy engine"));
                let mut list = CommandList::new(&ctx, &dev, &desc).unwrap();
                // SAFETY: as above.
                let e = unsafe { list.launch(&k, [1, 1, 1]) }.unwrap_err();
                assert!(invalid_reason(e).contains("copy engine"));
                // A compute list on a copy queue: refused (ordinals differ).
                let mut compute = CommandList::compute(&ctx, &dev).unwrap();
                // SAFETY: as above.
                unsafe { compute.launch(&k, [1, 1, 1]) }.unwrap();
                compute.close().unwrap();
                let mut q = CommandQueue::new(&ctx, &dev, &desc).unwrap();
                assert!(matches!(
                    q.execute(&[&compute]),
                    Err(Error::InvalidArgument { .. })
                ));
                // Out-of-range ordinals and indices: typed errors.
                let bad = QueueDesc {
                    index: g.num_queues,
                    ..desc
                };
                assert!(ImmediateCommandList::new(&ctx, &dev, &bad).is_err());
                let bad = QueueDesc {
                    ordinal: groups.len() as u32,
                    ..desc
                };
                assert!(CommandQueue::new(&ctx, &dev, &bad).is_err());
            }
        }
    }
}

/// A card and its tile are separate devices with separate engines: a tile's list writes a
/// buffer of the card and the card's list reads it right after — ordered by hazard tracking
/// even though the tile's commands are delayed.
#[test]
fn a_tile_and_its_card_using_one_buffer_are_ordered() {
    use level_zero::cpu::Hierarchy;
    let Some(t) = tiles_driver(Hierarchy::Composite, |c| {
        c.command_delay = Some(Duration::from_millis(20));
    }) else {
        return;
    };
    let card = t.device();
    let tile = card.sub_devices().unwrap().remove(1);
    let ctx = Context::with_devices(&[card.clone(), tile.clone()]).unwrap();
    let n = 4096;
    let buf = DeviceBuffer::<u32>::new(&ctx, &card, n).unwrap();
    let mut on_tile = ImmediateCommandList::compute(&ctx, &tile).unwrap();
    let mut on_card = ImmediateCommandList::copy_engine(&ctx, &card).unwrap();
    for round in 1..=5u32 {
        on_tile.fill(&buf, round).unwrap();
        let mut out = vec![0u32; n];
        on_card.copy_to_slice(&mut out, &buf).unwrap();
        assert!(
            out.iter().all(|&x| x == round),
            "round {round}: read before the tile's write"
        );
    }
}

/// A tile loses its device in the middle of writing a buffer of its card, which the card
/// then reads (and another tile then writes): no hang, and what the card reads is the last
/// write that ran, never a mix; the lost tile's errors are typed; nothing leaks.
#[test]
fn a_tile_lost_while_writing_its_cards_buffer_neither_hangs_nor_tears_the_cards_read() {
    use level_zero::cpu::Hierarchy;
    let Some(t) = tiles_driver(Hierarchy::Composite, |c| {
        c.device_lost_after = Some(1);
        c.command_delay = Some(Duration::from_millis(5));
    }) else {
        return;
    };
    let (tx, rx) = mpsc::channel();
    let body = std::thread::spawn(move || {
        let card = t.device();
        let tiles = card.sub_devices().unwrap();
        let ctx =
            Context::with_devices(&[card.clone(), tiles[0].clone(), tiles[1].clone()]).unwrap();
        let n = 1 << 14;
        let buf = DeviceBuffer::<u32>::new(&ctx, &card, n).unwrap();
        let mut lost = ImmediateCommandList::compute(&ctx, &tiles[0]).unwrap();
        lost.fill(&buf, 1).unwrap(); // submission 1 of the tile: runs
        let second = lost.fill(&buf, 2); // submission 2: loses the tile
        let sync = lost.synchronize();
        assert!(
            matches!(&sync, Err(e) if e.is_device_lost())
                || matches!(&second, Err(e) if e.is_device_lost()),
            "the tile was not lost: {second:?} {sync:?}"
        );
        assert!(
            second.as_ref().err().is_none_or(Error::is_device_lost)
                && sync.as_ref().err().is_none_or(Error::is_device_lost),
            "{second:?} {sync:?}"
        );
        let mut out = vec![0u32; n];
        let mut reader = ImmediateCommandList::copy_engine(&ctx, &card).unwrap();
        match reader.copy_to_slice(&mut out, &buf) {
            Ok(()) => {
                let v = out[0];
                assert!(v == 1 || v == 2, "{v}");
                assert!(out.iter().all(|&x| x == v), "the card read a torn buffer");
            }
            Err(e) => assert!(e.is_device_lost(), "{e:?}"),
        }
        // The other tile goes on.
        let mut other = ImmediateCommandList::compute(&ctx, &tiles[1]).unwrap();
        other.fill(&buf, 3).unwrap();
        other.synchronize().unwrap();
        drop((lost, reader, other, buf, ctx, tiles, card));
        let _ = tx.send(());
        drop(t);
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("HANG: a tile's device loss hung its card's work");
    body.join().unwrap();
}
