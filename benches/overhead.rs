//! Group 1: what the safe layer costs. Each operation runs through `level-zero` and through
//! raw `level_zero_sys::Api` calls on the same driver, context and device; the table at the
//! end gives safe/raw (goal: at most 1.05).
//!
//! `cargo bench --bench overhead`. With `OVERHEAD_LOOP=<op>:<safe|raw>:<iterations>` the
//! binary instead runs one loop and exits: `benches/callgrind.sh` counts its instructions.

mod common;

use std::ffi::c_void;
use std::time::Duration;

use level_zero::sys::{self, Api};
use level_zero::{
    BuildOptions, Context, Device, DeviceBuffer, Event, EventPool, EventPoolFlags, HostBuffer,
    ImmediateCommandList, Kernel, Module, QueueDesc, Runtime,
};

const EMPTY_ARGS: &[u8] = include_bytes!("../kernels/spv/empty_args.O2.spv");

/// Calls a raw function and asserts success (these are benchmarks, not error handling).
macro_rules! raw {
    ($api:expr, $f:ident($($a:expr),* $(,)?)) => {
        // SAFETY: every call below passes live handles of this benchmark's objects and
        // valid pointers; see each call site.
        assert_eq!(unsafe { $api.$f($($a),*) }.unwrap(), sys::ze_result_t::ZE_RESULT_SUCCESS)
    };
}

struct Setup {
    rt: Runtime,
    ctx: Context,
    dev: Device,
    safe_list: ImmediateCommandList,
    raw_list: sys::ze_command_list_handle_t,
    dst: DeviceBuffer<u8>,
    src: HostBuffer<u8>,
    _pool: EventPool,
    event: Event,
    /// A signalled event of `_pool`: a query of it is the cheapest call there is.
    signalled: Event,
    raw_pool: sys::ze_event_pool_handle_t,
    raw_event: sys::ze_event_handle_t,
    module: Module,
    kernel: Kernel,
    raw_kernel: sys::ze_kernel_handle_t,
    arg: DeviceBuffer<f32>,
    /// A second list, and a buffer passed from one list to the other (hand-off).
    safe_list2: ImmediateCommandList,
    raw_list2: sys::ze_command_list_handle_t,
    mid: DeviceBuffer<u8>,
    /// The same as `safe_list`/`dst`/`src`/`kernel` in a context with hazard tracking off.
    untracked: Untracked,
}

/// Safe objects in a context whose hazard tracking is off.
struct Untracked {
    list: ImmediateCommandList,
    dst: DeviceBuffer<u8>,
    src: HostBuffer<u8>,
    kernel: Kernel,
    arg: DeviceBuffer<f32>,
    _module: Module,
}

impl Setup {
    fn new() -> Setup {
        let rt = Runtime::init().expect("a Level Zero backend");
        let driver = rt.drivers().remove(0);
        let dev = driver.devices().unwrap().remove(0);
        let ctx = Context::new(&driver).unwrap();
        let api = rt.api();
        let safe_list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        let qdesc = QueueDesc::compute(&dev).unwrap();
        let mut raw_list = std::ptr::null_mut();
        let desc = sys::ze_command_queue_desc_t {
            ordinal: qdesc.ordinal,
            ..Default::default()
        };
        raw!(
            api,
            zeCommandListCreateImmediate(ctx.as_raw(), dev.as_raw(), &desc, &mut raw_list)
        );
        let dst = DeviceBuffer::<u8>::new(&ctx, &dev, 4096).unwrap();
        let src = HostBuffer::<u8>::from_slice(&ctx, &[7u8; 4096]).unwrap();
        let pool = EventPool::new(&ctx, 2, EventPoolFlags::HOST_VISIBLE).unwrap();
        let event = pool.event(0).unwrap();
        let signalled = pool.event(1).unwrap();
        signalled.host_signal().unwrap();
        let pdesc = sys::ze_event_pool_desc_t {
            flags: sys::ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_HOST_VISIBLE.0,
            count: 1,
            ..Default::default()
        };
        let mut raw_pool = std::ptr::null_mut();
        raw!(
            api,
            zeEventPoolCreate(ctx.as_raw(), &pdesc, 0, std::ptr::null_mut(), &mut raw_pool)
        );
        let edesc = sys::ze_event_desc_t {
            signal: sys::ze_event_scope_flag_t::ZE_EVENT_SCOPE_FLAG_HOST.0,
            wait: sys::ze_event_scope_flag_t::ZE_EVENT_SCOPE_FLAG_HOST.0,
            ..Default::default()
        };
        let mut raw_event = std::ptr::null_mut();
        raw!(api, zeEventCreate(raw_pool, &edesc, &mut raw_event));
        let module = Module::from_spirv(&ctx, &dev, EMPTY_ARGS, &BuildOptions::new()).unwrap();
        let mut kernel = module.kernel("empty_args").unwrap();
        kernel.set_group_size([1, 1, 1]).unwrap();
        let name = c"empty_args";
        let kdesc = sys::ze_kernel_desc_t {
            pKernelName: name.as_ptr(),
            ..Default::default()
        };
        let mut raw_kernel = std::ptr::null_mut();
        raw!(
            api,
            zeKernelCreate(module.as_raw(), &kdesc, &mut raw_kernel)
        );
        raw!(api, zeKernelSetGroupSize(raw_kernel, 1, 1, 1));
        let arg = DeviceBuffer::<f32>::new(&ctx, &dev, 16).unwrap();
        let safe_list2 = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        let mut raw_list2 = std::ptr::null_mut();
        raw!(
            api,
            zeCommandListCreateImmediate(ctx.as_raw(), dev.as_raw(), &desc, &mut raw_list2)
        );
        let mid = DeviceBuffer::<u8>::new(&ctx, &dev, 4096).unwrap();
        let untracked = {
            let ctx = Context::new(&driver).unwrap();
            // SAFETY: every command in this context runs on one list, in order.
            unsafe { ctx.disable_hazard_tracking() };
            let module = Module::from_spirv(&ctx, &dev, EMPTY_ARGS, &BuildOptions::new()).unwrap();
            let mut kernel = module.kernel("empty_args").unwrap();
            kernel.set_group_size([1, 1, 1]).unwrap();
            Untracked {
                list: ImmediateCommandList::compute(&ctx, &dev).unwrap(),
                dst: DeviceBuffer::<u8>::new(&ctx, &dev, 4096).unwrap(),
                src: HostBuffer::<u8>::from_slice(&ctx, &[7u8; 4096]).unwrap(),
                kernel,
                arg: DeviceBuffer::<f32>::new(&ctx, &dev, 16).unwrap(),
                _module: module,
            }
        };
        Setup {
            rt,
            ctx,
            dev,
            safe_list,
            raw_list,
            dst,
            src,
            _pool: pool,
            event,
            signalled,
            raw_pool,
            raw_event,
            module,
            kernel,
            raw_kernel,
            arg,
            safe_list2,
            raw_list2,
            mid,
            untracked,
        }
    }

    fn api(&self) -> &Api {
        self.rt.api()
    }

    fn alloc_safe(&self, n: usize) {
        let b = DeviceBuffer::<u8>::new(&self.ctx, &self.dev, n).unwrap();
        drop(std::hint::black_box(b));
    }

    fn alloc_raw(&self, n: usize) {
        let desc = sys::ze_device_mem_alloc_desc_t::default();
        let mut p: *mut c_void = std::ptr::null_mut();
        raw!(
            self.api(),
            zeMemAllocDevice(self.ctx.as_raw(), &desc, n, 1, self.dev.as_raw(), &mut p)
        );
        raw!(
            self.api(),
            zeMemFree(self.ctx.as_raw(), std::hint::black_box(p))
        );
    }

    fn copy_safe(&mut self) {
        self.safe_list.copy(&self.dst, &self.src).unwrap();
        self.safe_list.synchronize().unwrap();
    }

    fn copy_raw(&self) {
        let api = self.api();
        raw!(
            api,
            zeCommandListAppendMemoryCopy(
                self.raw_list,
                self.dst.as_raw(),
                self.src.as_raw(),
                4096,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut()
            )
        );
        raw!(api, zeCommandListHostSynchronize(self.raw_list, u64::MAX));
    }

    fn event_safe(&self) {
        self.event.host_signal().unwrap();
        self.event.host_synchronize().unwrap();
        self.event.host_reset().unwrap();
    }

    fn event_raw(&self) {
        let api = self.api();
        raw!(api, zeEventHostSignal(self.raw_event));
        raw!(api, zeEventHostSynchronize(self.raw_event, u64::MAX));
        raw!(api, zeEventHostReset(self.raw_event));
    }

    fn launch_safe(&mut self) {
        self.kernel.set_arg_buffer(0, &self.arg).unwrap();
        self.kernel.set_arg(1, &16u32).unwrap();
        // SAFETY: empty_args writes nothing unless n == u32::MAX.
        unsafe { self.safe_list.launch(&self.kernel, [1, 1, 1]).unwrap() };
        self.safe_list.synchronize().unwrap();
    }

    fn launch_raw(&self) {
        let api = self.api();
        let p = self.arg.as_raw();
        let n = 16u32;
        raw!(
            api,
            zeKernelSetArgumentValue(self.raw_kernel, 0, 8, (&raw const p).cast())
        );
        raw!(
            api,
            zeKernelSetArgumentValue(self.raw_kernel, 1, 4, (&raw const n).cast())
        );
        let groups = sys::ze_group_count_t {
            groupCountX: 1,
            groupCountY: 1,
            groupCountZ: 1,
        };
        raw!(
            api,
            zeCommandListAppendLaunchKernel(
                self.raw_list,
                self.raw_kernel,
                &groups,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut()
            )
        );
        raw!(api, zeCommandListHostSynchronize(self.raw_list, u64::MAX));
    }

    /// Copy on one list, then a copy of the result on another: the second waits for the
    /// first (hazard tracking does it; raw code uses an event).
    fn handoff_safe(&mut self) {
        self.safe_list.copy(&self.mid, &self.src).unwrap();
        self.safe_list2.copy(&self.dst, &self.mid).unwrap();
        self.safe_list2.synchronize().unwrap();
        self.safe_list.synchronize().unwrap();
    }

    fn handoff_raw(&self) {
        let api = self.api();
        let mut e = self.raw_event;
        raw!(
            api,
            zeCommandListAppendMemoryCopy(
                self.raw_list,
                self.mid.as_raw(),
                self.src.as_raw(),
                4096,
                e,
                0,
                std::ptr::null_mut()
            )
        );
        raw!(
            api,
            zeCommandListAppendMemoryCopy(
                self.raw_list2,
                self.dst.as_raw(),
                self.mid.as_raw(),
                4096,
                std::ptr::null_mut(),
                1,
                &mut e
            )
        );
        raw!(api, zeCommandListHostSynchronize(self.raw_list2, u64::MAX));
        raw!(api, zeCommandListHostSynchronize(self.raw_list, u64::MAX));
        raw!(api, zeEventHostReset(e));
    }

    fn copy_untracked(&mut self) {
        let u = &mut self.untracked;
        u.list.copy(&u.dst, &u.src).unwrap();
        u.list.synchronize().unwrap();
    }

    fn launch_untracked(&mut self) {
        let u = &mut self.untracked;
        u.kernel.set_arg_buffer(0, &u.arg).unwrap();
        u.kernel.set_arg(1, &16u32).unwrap();
        // SAFETY: empty_args writes nothing unless n == u32::MAX.
        unsafe { u.list.launch(&u.kernel, [1, 1, 1]).unwrap() };
        u.list.synchronize().unwrap();
    }

    fn run(&mut self, op: &str, safe: bool) {
        match (op, safe) {
            ("alloc_free_4k", true) => self.alloc_safe(4096),
            ("alloc_free_4k", false) => self.alloc_raw(4096),
            ("alloc_free_1m", true) => self.alloc_safe(1 << 20),
            ("alloc_free_1m", false) => self.alloc_raw(1 << 20),
            ("copy_4k_sync", true) => self.copy_safe(),
            ("copy_4k_sync", false) => self.copy_raw(),
            ("event_signal_wait", true) => self.event_safe(),
            ("event_signal_wait", false) => self.event_raw(),
            ("args_launch_sync", true) => self.launch_safe(),
            ("args_launch_sync", false) => self.launch_raw(),
            ("handoff_4k", true) => self.handoff_safe(),
            ("handoff_4k", false) => self.handoff_raw(),
            // "safe" is hazard tracking on, "raw" the same safe code with it off.
            ("tracking_copy_4k", true) => self.copy_safe(),
            ("tracking_copy_4k", false) => self.copy_untracked(),
            ("tracking_launch", true) => self.launch_safe(),
            ("tracking_launch", false) => self.launch_untracked(),
            // "safe" is `Event::is_signaled` (tracing off), "raw" the same call without the
            // tracing check.
            ("trace_check", true) => {
                assert!(std::hint::black_box(&self.signalled).is_signaled().unwrap())
            }
            ("trace_check", false) => assert!(
                std::hint::black_box(&self.signalled)
                    .__is_signaled_without_trace_check()
                    .unwrap()
            ),
            _ => panic!("unknown operation {op}"),
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let api = self.rt.api();
        raw!(api, zeKernelDestroy(self.raw_kernel));
        raw!(api, zeEventDestroy(self.raw_event));
        raw!(api, zeEventPoolDestroy(self.raw_pool));
        raw!(api, zeCommandListDestroy(self.raw_list));
        raw!(api, zeCommandListDestroy(self.raw_list2));
        let _ = &self.module;
    }
}

const OPS: [(&str, &str); 6] = [
    ("alloc_free_4k", "allocate + free 4 KiB"),
    ("alloc_free_1m", "allocate + free 1 MiB"),
    (
        "copy_4k_sync",
        "append copy 4 KiB + synchronize (immediate list)",
    ),
    ("event_signal_wait", "event signal + host wait (+ reset)"),
    (
        "args_launch_sync",
        "set 2 kernel args + launch empty kernel + synchronize",
    ),
    (
        "handoff_4k",
        "cross-list hand-off: copy 4 KiB on list 1, copy it on list 2, synchronize both (raw: ordered by an event)",
    ),
];

/// What hazard tracking costs on one list: the same safe code with it on and off.
const TRACKING: [(&str, &str); 2] = [
    ("tracking_copy_4k", "append copy 4 KiB + synchronize"),
    (
        "tracking_launch",
        "set 2 kernel args + launch empty kernel + synchronize",
    ),
];

fn main() {
    let mut s = Setup::new();
    if let Ok(spec) = std::env::var("OVERHEAD_LOOP") {
        let parts: Vec<&str> = spec.split(':').collect();
        let [op, variant, iters] = parts[..] else {
            panic!("OVERHEAD_LOOP=<op>:<safe|raw>:<iterations>");
        };
        let n: u64 = iters.parse().expect("iterations");
        let safe = variant == "safe";
        for _ in 0..n {
            s.run(op, safe);
        }
        return;
    }
    if std::env::var("OVERHEAD_ONLY").as_deref() == Ok("trace_check") {
        trace_check(&mut s, false);
        return;
    }
    let mut c = common::criterion(30, Duration::from_secs(2));
    for (op, _) in OPS.iter().chain(&TRACKING) {
        common::bench(&mut c, "overhead", &format!("{op}/safe"), || {
            s.run(op, true)
        });
        common::bench(&mut c, "overhead", &format!("{op}/raw"), || {
            s.run(op, false)
        });
    }
    c.final_summary();
    // Paired rounds: safe and raw alternate, so machine noise hits both alike.
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    let paired: Vec<f64> = OPS
        .iter()
        .map(|(op, _)| {
            if quick {
                return f64::NAN;
            }
            let s = std::cell::RefCell::new(&mut s);
            common::paired_ratio(
                31,
                200,
                || s.borrow_mut().run(op, true),
                || s.borrow_mut().run(op, false),
            )
        })
        .collect();
    println!(
        "\n## Safe-layer overhead on the {} (median time per operation)\n",
        s.rt.backend()
    );
    println!(
        "| operation | level-zero | raw Api | safe / raw | safe / raw, paired rounds (goal ≤ 1.05) |"
    );
    println!("|---|---|---|---|---|");
    for ((op, what), p) in OPS.iter().zip(paired) {
        let (a, b) = (
            common::median(&format!("overhead/{op}/safe")),
            common::median(&format!("overhead/{op}/raw")),
        );
        match (a, b) {
            (Some(a), Some(b)) => println!(
                "| {what} | {} | {} | {:.3}× | {p:.3}× |",
                common::ns(a),
                common::ns(b),
                a / b
            ),
            _ => println!("| {what} | — | — | — | — |"),
        }
    }
    println!(
        "\n## What hazard tracking costs on one list (the same safe code, tracking on / off)\n"
    );
    println!("| operation | tracking on | tracking off | on / off | on / off, paired rounds |");
    println!("|---|---|---|---|---|");
    for (op, what) in TRACKING {
        let p = if quick {
            f64::NAN
        } else {
            let s = std::cell::RefCell::new(&mut s);
            common::paired_ratio(
                31,
                200,
                || s.borrow_mut().run(op, true),
                || s.borrow_mut().run(op, false),
            )
        };
        match (
            common::median(&format!("overhead/{op}/safe")),
            common::median(&format!("overhead/{op}/raw")),
        ) {
            (Some(a), Some(b)) => println!(
                "| {what} | {} | {} | {:.3}× | {p:.3}× |",
                common::ns(a),
                common::ns(b),
                a / b
            ),
            _ => println!("| {what} | — | — | — | — |"),
        }
    }
    driver_calls(&mut s);
    graph_replay(&mut s, quick);
    trace_check(&mut s, quick);
    println!("\n(Instruction counts, independent of machine noise: benches/callgrind.sh)");
}

/// The driver calls each safe append makes (the CPU driver counts its entry points per
/// thread), next to the one call a raw append makes: the goal is one per copy, fill or
/// launch on a 1.17 driver. Synchronisation is not counted.
fn driver_calls(s: &mut Setup) {
    let Ok(counter) = level_zero::cpu::CallCounter::new(s.ctx.driver()) else {
        println!("\n(driver calls per operation: the driver is not the CPU driver)");
        return;
    };
    let mut measure = |f: &mut dyn FnMut(&mut Setup)| {
        // Twice: the first may set up what later ones reuse (pools, events).
        let mut n = 0;
        for _ in 0..2 {
            let before = counter.calls().unwrap();
            f(s);
            n = counter.calls().unwrap() - before;
            s.safe_list.synchronize().unwrap();
        }
        n
    };
    let copy = measure(&mut |s| s.safe_list.copy(&s.dst, &s.src).unwrap());
    let fill = measure(&mut |s| s.safe_list.fill(&s.dst, 7u8).unwrap());
    let launch_args = measure(&mut |s| {
        s.kernel.set_arg_buffer(0, &s.arg).unwrap();
        s.kernel.set_arg(1, &16u32).unwrap();
        // SAFETY: empty_args writes nothing unless n == u32::MAX.
        unsafe { s.safe_list.launch(&s.kernel, [1, 1, 1]).unwrap() };
    });
    let copy_untracked = measure(&mut |s| {
        let u = &mut s.untracked;
        u.list.copy(&u.dst, &u.src).unwrap();
        u.list.synchronize().unwrap();
    });
    let launch = measure(&mut |s| {
        // SAFETY: as above; the arguments set before stay.
        unsafe { s.safe_list.launch(&s.kernel, [1, 1, 1]).unwrap() };
    });
    println!(
        "\n## Driver calls per operation (in-order immediate list{})\n",
        if s.safe_list.is_ordered_by_driver() {
            ", ordered by the driver"
        } else {
            ", ordered by barriers: the driver refused the in-order flag"
        }
    );
    println!("| operation | level-zero | raw |");
    println!("|---|---|---|");
    println!("| copy 4 KiB | {copy} | 1 |");
    println!("| fill 4 KiB | {fill} | 1 |");
    println!("| copy 4 KiB + synchronize, hazard tracking off | {copy_untracked} | 2 |");
    println!("| launch, arguments unchanged | {launch} | 1 |");
    println!("| launch, 2 arguments set | {launch_args} | 3 |");
}

/// A sequence of 16 small commands (8 fills and 8 copies of 4 KiB) issued one by one, and
/// the same sequence captured once into a graph and replayed: time per sequence, paired
/// rounds, and the driver calls of each.
fn graph_replay(s: &mut Setup, quick: bool) {
    const STEPS: usize = 8;
    let issue = |s: &mut Setup| {
        for i in 0..STEPS {
            s.safe_list.fill(&s.mid, i as u8).unwrap();
            s.safe_list.copy(&s.dst, &s.mid).unwrap();
        }
    };
    let graph = {
        let (mid, dst) = (&s.mid, &s.dst);
        s.safe_list.capture(|g| {
            for i in 0..STEPS {
                g.fill(mid, i as u8)?;
                g.copy(dst, mid)?;
            }
            Ok(())
        })
    };
    let graph = match graph {
        Ok(g) => g,
        Err(e) => {
            println!("\n(graph replay: {e})");
            return;
        }
    };
    let exec = graph.instantiate().unwrap();
    let replay = |s: &mut Setup| s.safe_list.replay(&exec).unwrap();
    let calls = level_zero::cpu::CallCounter::new(s.ctx.driver()).ok();
    let mut count = |f: &dyn Fn(&mut Setup)| {
        let c = calls?;
        let before = c.calls().unwrap();
        f(s);
        let n = c.calls().unwrap() - before;
        s.safe_list.synchronize().unwrap();
        Some(n)
    };
    let (issue_calls, replay_calls) = (count(&issue), count(&replay));
    let ratio = if quick {
        f64::NAN
    } else {
        let s = std::cell::RefCell::new(&mut *s);
        common::paired_ratio(
            31,
            50,
            || {
                let mut s = s.borrow_mut();
                issue(&mut s);
                s.safe_list.synchronize().unwrap();
            },
            || {
                let mut s = s.borrow_mut();
                replay(&mut s);
                s.safe_list.synchronize().unwrap();
            },
        )
    };
    println!(
        "\n## Graph replay against issuing the commands ({} graph)\n",
        if graph.is_native() {
            "native"
        } else {
            "emulated"
        }
    );
    println!(
        "| 8 fills + 8 copies of 4 KiB, then synchronize | driver calls | time, issued / replayed (paired rounds) |"
    );
    println!("|---|---|---|");
    let show = |n: Option<u64>| n.map_or("—".to_string(), |n| n.to_string());
    println!(
        "| issued one by one | {} | {ratio:.3}× |",
        show(issue_calls)
    );
    println!("| replayed graph | {} | 1 |", show(replay_calls));
}

/// What call tracing costs when it is off (`LEVEL_ZERO_TRACE` unset): the cheapest call
/// there is, `Event::is_signaled` of a signalled event (`zeEventQueryStatus`, a few
/// nanoseconds on the CPU driver), against the same safe code without the tracing check.
/// Only with tracing off (`OVERHEAD_ONLY=trace_check` runs this alone).
fn trace_check(s: &mut Setup, quick: bool) {
    assert!(
        !level_zero::trace::is_enabled(),
        "measure with LEVEL_ZERO_TRACE unset"
    );
    let mut c = common::criterion(50, Duration::from_secs(2));
    common::bench(&mut c, "overhead", "trace_check/on_path", || {
        s.run("trace_check", true)
    });
    common::bench(&mut c, "overhead", "trace_check/without", || {
        s.run("trace_check", false)
    });
    let api = s.rt.api();
    let signalled = s.signalled.as_raw();
    common::bench(&mut c, "overhead", "trace_check/raw", || {
        // SAFETY: a live event's handle.
        let r = unsafe { api.zeEventQueryStatus(std::hint::black_box(signalled)) };
        assert_eq!(r, Ok(sys::ze_result_t::ZE_RESULT_SUCCESS));
    });
    c.final_summary();
    let paired = if quick {
        f64::NAN
    } else {
        let s = std::cell::RefCell::new(&mut *s);
        common::paired_ratio(
            101,
            20_000,
            || s.borrow_mut().run("trace_check", true),
            || s.borrow_mut().run("trace_check", false),
        )
    };
    let [with, without, raw] =
        ["on_path", "without", "raw"].map(|k| common::median(&format!("overhead/trace_check/{k}")));
    println!("\n## Call tracing, off: the check on every call\n");
    println!(
        "| call | with the tracing check | without it | difference | with / without, paired rounds | raw Api |"
    );
    println!("|---|---|---|---|---|---|");
    match (with, without, raw) {
        (Some(a), Some(b), Some(r)) => println!(
            "| `Event::is_signaled` (zeEventQueryStatus) | {} | {} | {:+.2} ns | {paired:.3}× | {} |",
            common::ns(a),
            common::ns(b),
            a - b,
            common::ns(r)
        ),
        _ => println!("| `Event::is_signaled` | — | — | — | — | — |"),
    }
}
