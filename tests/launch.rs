//! The launch builder (`list.launch_builder(&mut k, config).arg(..).run()`): results on both
//! list kinds and in a graph capture, every misuse as a named error before any driver call,
//! and the same driver calls as `set_arg` + `launch`.

mod common;

use common::{TestDriver, spv};
use level_zero::cpu::CallCounter;
use level_zero::{
    BuildOptions, CommandList, CommandQueue, Context, DeviceBuffer, Error, HostBuffer,
    ImmediateCommandList, Kernel, LaunchConfig, Local, Module,
};

fn kernel(ctx: &Context, t: &TestDriver, file: &str, name: &str) -> Kernel {
    let module =
        Module::from_spirv(ctx, &t.device(), &spv(file, "O2"), &BuildOptions::new()).unwrap();
    module.kernel(name).unwrap()
}

fn reason(e: &Error) -> &str {
    match e {
        Error::InvalidArgument { reason, .. } => reason,
        other => panic!("not an InvalidArgument: {other}"),
    }
}

#[test]
fn vector_add_saxpy_and_a_local_reduction_run_through_the_builder() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 1000; // not a power of two: the suggested group size must divide it
    let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..n).map(|i| 3.0 * i as f32 - 7.0).collect();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let da = DeviceBuffer::from_slice(&mut list, &a).unwrap();
    let db = DeviceBuffer::from_slice(&mut list, &b).unwrap();
    let dc = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    // SAFETY: vector_add touches a[i], b[i], c[i] for its global id i < n (the CPU driver
    // suggests a divisor of n).
    unsafe {
        list.launch_builder(&mut add, LaunchConfig::for_num_elems(n).unwrap())
            .arg(&da)
            .arg(&db)
            .arg(&dc)
            .run()
    }
    .unwrap();
    assert_eq!(add.group_size().map(|g| n % g[0] as usize), Some(0));
    let c = dc.to_vec(&mut list).unwrap();
    assert!((0..n).all(|i| c[i] == a[i] + b[i]));

    // A scalar first, and views of buffers: y = 2 * x + y over the second half.
    let mut saxpy = kernel(&ctx, &t, "saxpy", "saxpy");
    let half = n / 2;
    // SAFETY: saxpy touches x[i], y[i] for i < half, the views' length.
    unsafe {
        list.launch_builder(&mut saxpy, LaunchConfig::grid([5, 1, 1], [100, 1, 1]))
            .arg(&2.0f32)
            .arg(&da.get(half..).unwrap())
            .arg(&dc.get(half..).unwrap())
            .run()
    }
    .unwrap();
    let y = dc.to_vec(&mut list).unwrap();
    assert!((0..half).all(|i| y[i] == c[i]));
    assert!((half..n).all(|i| y[i] == 2.0 * a[i] + c[i]));

    // `__local` memory: one partial sum per group of 8.
    let mut reduce = kernel(&ctx, &t, "reduce", "reduce_sum");
    let groups = n / 8;
    let partial = HostBuffer::<f32>::new(&ctx, groups).unwrap();
    // SAFETY: reduce_sum reads in[global id] (< n), writes partial[group id] (< n / 8) and
    // scratch[local id] (< 8 floats of local memory).
    unsafe {
        list.launch_builder(
            &mut reduce,
            LaunchConfig::grid([groups as u32, 1, 1], [8, 1, 1]),
        )
        .arg(&da)
        .arg(&partial)
        .arg(&Local::array::<f32>(8))
        .run()
    }
    .unwrap();
    list.synchronize().unwrap();
    let p = partial.as_slice().unwrap();
    assert!((0..groups).all(|g| p[g] == a[g * 8..g * 8 + 8].iter().sum::<f32>()));
}

#[test]
fn the_builder_works_on_a_regular_list_and_keeps_its_buffers_alive() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 512;
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    let out = HostBuffer::<f32>::new(&ctx, n).unwrap();
    {
        let a = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
        let b = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
        list.fill(&a, 1.25f32).unwrap();
        list.fill(&b, 2.0f32).unwrap();
        // SAFETY: vector_add touches a[i], b[i], c[i] for i < n.
        unsafe {
            list.launch_builder(&mut add, LaunchConfig::for_num_elems(n).unwrap())
                .arg(&a)
                .arg(&b)
                .arg(&out)
                .run()
        }
        .unwrap();
        // `a` and `b` are dropped here: the list keeps them.
    }
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&list]).unwrap();
    // Host access to the output is refused while the execution may use it.
    assert!(matches!(out.as_slice(), Err(Error::Busy { .. })));
    queue.synchronize().unwrap();
    drop(list);
    assert!(out.as_slice().unwrap().iter().all(|&v| v == 3.25));
}

#[test]
fn the_builder_records_into_a_graph_capture() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeCommandListBeginGraphCaptureExt"]) {
        return;
    }
    let (ctx, dev) = (t.context(), t.device());
    let n = 256;
    let mut saxpy = kernel(&ctx, &t, "saxpy", "saxpy");
    let x = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let y = HostBuffer::<f32>::new(&ctx, n).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.fill(&x, 1.0f32).unwrap();
    list.fill(&y, 0f32).unwrap();
    let graph = list
        .capture(|g| {
            // SAFETY: saxpy touches x[i], y[i] for i < n.
            unsafe {
                g.launch_builder(&mut saxpy, LaunchConfig::for_num_elems(n)?)
                    .arg(&3.0f32)
                    .arg(&x)
                    .arg(&y)
                    .run()
            }
        })
        .unwrap();
    let exec = graph.instantiate().unwrap();
    for i in 1..=3 {
        list.replay(&exec).unwrap();
        list.synchronize().unwrap();
        assert!(y.as_slice().unwrap().iter().all(|&v| v == 3.0 * i as f32));
    }
}

/// Every misuse is an `InvalidArgument` naming the kernel and what is wrong — and, but for
/// a size the driver never saw, before any driver call.
#[test]
fn misuse_is_a_named_error_before_any_driver_call() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let counter = CallCounter::new(&t.driver).unwrap();
    let n = 64;
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut add = kernel(&ctx, &t, "vector_add", "vector_add");
    let a = DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap();
    let other_ctx = Context::new(&t.driver).unwrap();
    let foreign = DeviceBuffer::<f32>::new(&other_ctx, &dev, n).unwrap();
    let cfg = LaunchConfig::for_num_elems(n).unwrap();

    let before = counter.calls().unwrap();
    // SAFETY (every launch below): refused before the kernel could run.
    let missing = unsafe { list.launch_builder(&mut add, cfg).arg(&a).run() }.unwrap_err();
    assert_eq!(
        reason(&missing),
        "kernel `vector_add` takes 3 arguments, 1 given: arguments 1, 2 missing"
    );
    // SAFETY: refused before the kernel could run (see above).
    let too_many = unsafe {
        list.launch_builder(&mut add, cfg)
            .arg(&a)
            .arg(&a)
            .arg(&a)
            .arg(&1u32)
            .run()
    }
    .unwrap_err();
    assert_eq!(
        reason(&too_many),
        "kernel `vector_add` takes 3 arguments, 4 given"
    );
    // SAFETY: refused before the kernel could run (see above).
    let foreign_err = unsafe {
        list.launch_builder(&mut add, cfg)
            .arg(&a)
            .arg(&foreign)
            .arg(&a)
            .run()
    }
    .unwrap_err();
    assert_eq!(
        reason(&foreign_err),
        "argument 1 of kernel `vector_add`: the buffer belongs to another context than the kernel"
    );
    // SAFETY: refused before the kernel could run (see above).
    let zero_groups = unsafe {
        list.launch_builder(&mut add, LaunchConfig::grid([0, 1, 1], [64, 1, 1]))
            .arg(&a)
            .arg(&a)
            .arg(&a)
            .run()
    }
    .unwrap_err();
    assert!(reason(&zero_groups).contains("zero group count [0, 1, 1] for kernel `vector_add`"));
    assert_eq!(
        counter.calls().unwrap(),
        before,
        "a check made a driver call"
    );
    assert!(add.group_size().is_none(), "nothing reached the kernel");

    // Zero elements: refused by the configuration itself.
    let zero = LaunchConfig::for_num_elems(0).unwrap_err();
    assert!(reason(&zero).contains("0 elements"), "{zero}");
    assert!(LaunchConfig::for_num_elems(1 << 33).is_err());

    // A size the kernel never had: the driver refuses it when it is set, named.
    // SAFETY: refused before the kernel could run (see above).
    let wrong = unsafe {
        list.launch_builder(&mut add, cfg)
            .arg(&a)
            .arg(&a)
            .arg(&1u32)
            .run()
    }
    .unwrap_err();
    let r = reason(&wrong);
    println!("{wrong}");
    assert!(
        r.starts_with("argument 2 of kernel `vector_add`: given 4 bytes, which the driver refuses"),
        "{r}"
    );
    // The CPU driver describes its refusal (`zerGetLastErrorDescription`, which loader
    // 1.8.12 does not have).
    if common::reaches(&t, &["zerGetLastErrorDescription"]) {
        assert!(r.contains("takes 8 bytes, not 4"), "{r}");
    }
    // Once the driver accepted a size for an argument, another is refused before any call,
    // naming both.
    // SAFETY: vector_add touches a[i], b[i], c[i] for i < n (the suggested group size divides
    // n: n work-items), and `a` has n elements (this launch runs: it sets the accepted sizes).
    unsafe {
        list.launch_builder(&mut add, cfg)
            .arg(&a)
            .arg(&a)
            .arg(&a)
            .run()
    }
    .unwrap();
    list.synchronize().unwrap();
    let before = counter.calls().unwrap();
    // SAFETY: refused before the kernel could run (see above).
    let wrong = unsafe {
        list.launch_builder(&mut add, cfg)
            .arg(&a)
            .arg(&a)
            .arg(&7u16)
            .run()
    }
    .unwrap_err();
    assert_eq!(
        reason(&wrong),
        "argument 2 of kernel `vector_add`: expected 8 bytes, given 2 bytes"
    );
    // SAFETY: refused before the kernel could run (see above).
    let zero_sized = unsafe {
        list.launch_builder(&mut add, cfg)
            .arg(&a)
            .arg(&())
            .arg(&a)
            .run()
    }
    .unwrap_err();
    assert_eq!(
        reason(&zero_sized),
        "argument 1 of kernel `vector_add`: a zero-sized value"
    );
    assert_eq!(
        counter.calls().unwrap(),
        before,
        "a check made a driver call"
    );
    drop(foreign);
}

/// A kernel of another context, and a copy-engine list, are refused before any call.
#[test]
fn a_kernel_of_another_context_is_refused_before_its_arguments_are_set() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let counter = CallCounter::new(&t.driver).unwrap();
    let other_ctx = Context::new(&t.driver).unwrap();
    let module =
        Module::from_spirv(&other_ctx, &dev, &spv("saxpy", "O2"), &BuildOptions::new()).unwrap();
    let mut k = module.kernel("saxpy").unwrap();
    let x = DeviceBuffer::<f32>::new(&other_ctx, &dev, 64).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let before = counter.calls().unwrap();
    // SAFETY: refused before the kernel could run.
    let e = unsafe {
        list.launch_builder(&mut k, LaunchConfig::for_num_elems(64).unwrap())
            .arg(&1f32)
            .arg(&x)
            .arg(&x)
            .run()
    }
    .unwrap_err();
    assert!(
        reason(&e).contains("kernel `saxpy`'s module was built for another context"),
        "{e}"
    );
    assert_eq!(counter.calls().unwrap(), before);
}

/// The builder makes exactly the driver calls of the same launch written with `set_arg`,
/// `suggest_group_size`, `set_group_size` and `launch`: on a fresh kernel, and again for a
/// launch whose arguments changed (1 call on a 1.17 driver).
#[test]
fn the_builder_makes_the_same_driver_calls_as_set_arg_and_launch() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let counter = CallCounter::new(&t.driver).unwrap();
    let n = 4096;
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let bufs: Vec<_> = (0..4)
        .map(|_| DeviceBuffer::<f32>::new(&ctx, &dev, n).unwrap())
        .collect();
    for b in &bufs {
        list.fill(b, 1.0f32).unwrap();
    }
    list.synchronize().unwrap();
    // A warm-up of every call on a third kernel: through a loader, the first use of a
    // function costs calls of its own (the loader resolves it), which are not the launch's.
    {
        let mut warm = kernel(&ctx, &t, "saxpy", "saxpy");
        let g = warm.suggest_group_size([n as u32, 1, 1]).unwrap();
        warm.set_group_size(g).unwrap();
        warm.set_arg(0, &0f32).unwrap();
        warm.set_arg_buffer(1, &bufs[0]).unwrap();
        warm.set_arg_buffer(2, &bufs[2]).unwrap();
        // SAFETY: saxpy touches x[i], y[i] for i < n.
        unsafe { list.launch(&warm, [n as u32 / g[0], 1, 1]) }.unwrap();
        list.synchronize().unwrap();
    }
    let mut manual = kernel(&ctx, &t, "saxpy", "saxpy");
    let mut built = kernel(&ctx, &t, "saxpy", "saxpy");
    let mut counts = Vec::new();
    for round in 0..3 {
        let (x, y) = (&bufs[round % 2], &bufs[2 + round % 2]);
        let before = counter.calls().unwrap();
        if round == 0 {
            let g = manual.suggest_group_size([n as u32, 1, 1]).unwrap();
            manual.set_group_size(g).unwrap();
        }
        manual.set_arg(0, &(round as f32)).unwrap();
        manual.set_arg_buffer(1, x).unwrap();
        manual.set_arg_buffer(2, y).unwrap();
        let g = manual.group_size().unwrap();
        // SAFETY: saxpy touches x[i], y[i] for i < n.
        unsafe { list.launch(&manual, [n as u32 / g[0], 1, 1]) }.unwrap();
        let manual_calls = counter.calls().unwrap() - before;
        list.synchronize().unwrap();

        let before = counter.calls().unwrap();
        // SAFETY: as above.
        unsafe {
            list.launch_builder(&mut built, LaunchConfig::for_num_elems(n).unwrap())
                .arg(&(round as f32))
                .arg(x)
                .arg(y)
                .run()
        }
        .unwrap();
        let built_calls = counter.calls().unwrap() - before;
        list.synchronize().unwrap();
        assert_eq!(built_calls, manual_calls, "round {round}");
        assert_eq!(built.group_size(), manual.group_size());
        counts.push(built_calls);
    }
    println!("driver calls per launch (first, then changed arguments): {counts:?}");
    // Later launches ask for no group size again.
    assert!(counts[1] < counts[0], "{counts:?}");
    assert_eq!(counts[1], counts[2]);
}
