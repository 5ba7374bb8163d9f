//! Fourth red-team round: attacks on what changed since the third — contexts that include
//! sub-devices (tiles), kernels whose arguments live on other devices, re-set arguments and
//! function pointers across a card and its tiles, link chains, device loss on tiles — and on
//! the preconditions the Level Zero specification puts on the objects a command is given
//! (events, evicted memory, the address a kernel receives). Safe code only, except kernel
//! launches, which are `unsafe` by design: each launch here keeps the documented contract
//! (the kernel touches only the buffers set as its arguments, in their bounds).
//!
//! The findings' tests failed before their fixes (all eight fixed; each asserts what should
//! happen). The others are attacks that held, kept because nothing covered them before.
//! Every test ends with its `TestDriver`'s leak check (declared first, it is dropped last).
//! The findings:
//!
//! 1. a missing check: a kernel argument on a device the list's device cannot reach (no peer
//!    access) is accepted; copies of the same memory are refused (rule 11). The CPU driver
//!    stops the kernel (a GPU faults)
//!    (`a_kernel_argument_on_a_device_the_list_cannot_reach_is_refused_before_any_call`);
//! 2. a missing check: events of another context, of another driver, or of a pool made for
//!    other devices are handed to the driver by every command that takes events
//!    (`events_of_another_context_driver_or_device_are_refused_before_any_call`);
//! 3. a missing check: `Context::evict` evicts memory that submitted work still uses
//!    (`evicting_memory_that_pending_work_uses_is_refused`);
//! 4. wrong data: an empty slice of a buffer gives kernels (and `Memory::device_ptr`) the
//!    buffer's base address instead of the slice's own
//!    (`an_empty_slice_passes_its_own_address_to_kernels`);
//! 5. a missing check (minor): `Event::kernel_timestamp` queries events of pools without
//!    `KERNEL_TIMESTAMP` (`kernel_timestamps_of_events_without_the_timestamp_flag_are_refused`);
//! 6. the CPU driver refuses a legal query: the global pointer of a variable a linked
//!    importer imports (`a_linked_importer_answers_the_global_pointer_of_what_it_imports`);
//! 7. a hang (and a list destroyed while the device uses it): on a loader without
//!    `zeCommandListHostSynchronize` (Debian's, which CI uses), dropping an immediate list
//!    after a timed-out synchronisation destroys catch-up barriers other lists appended to
//!    it, and their reads wait for good
//!    (`a_list_dropped_after_a_timed_out_synchronisation_waits_for_catch_ups_appended_since`,
//!    `threads_keep_program_order_on_a_loader_without_host_synchronize`). The tile hammer
//!    (`threads_using_cards_and_tiles_with_kernels_keep_program_order`) also runs on the system
//!    backend, where it finds the same hang through Debian's loader:
//!    `LEVEL_ZERO_BACKEND=system ZE_ENABLE_ALT_DRIVERS=$PWD/target/debug/liblevel_zero_cpu.so
//!    LEVEL_ZERO_CPU_COMMAND_DELAY_US=0 RT4_SEEDS=300 cargo test --test redteam4 -- --test-threads=1`;
//! 8. a hang under device loss: a synchronous list's command can be made to wait for its own
//!    event through another device's abandoned hazard waits, directly or through a third
//!    timeline (`device_loss_among_four_devices_with_synchronous_lists_and_queues_never_hangs`;
//!    a deterministic version with three timelines is a unit test of
//!    `level-zero/src/hazard.rs`, run with `cargo test -p level-zero --features cpu`).
//!    Fixed by plan order: every command takes a plan sequence number under the locks of the
//!    allocations it uses, abandoned waits bind only commands planned after the command that
//!    took them, and every wait edge points to an event of a strictly earlier plan sequence,
//!    so waits form no cycle (see the module documentation of `hazard.rs`).
//!
//! The linking tests assemble SPIR-V with `spirv-as` (Debian package `spirv-tools`).

mod common;

use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::Duration;

use common::{TestDriver, assemble};
use level_zero::cpu::Hierarchy;
use level_zero::{
    BuildOptions, CommandList, CommandQueue, Context, Device, DeviceBuffer, Error, EventPool,
    EventPoolFlags, HostBuffer, ImmediateCommandList, Kernel, Memory, Module, QueueDesc, QueueMode,
    SharedBuffer,
};

// =======================================================================================
// Helpers.

/// Runs `body` on its own thread and fails the test if it has not finished after `secs`
/// seconds (the thread is left hanging: the hang is the finding).
fn watchdog(secs: u64, what: &str, body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        body();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => h.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("HANG: {what} did not finish within {secs} s")
        }
    }
}

fn build(ctx: &Context, dev: &Device, spirv: &[u8]) -> Module {
    Module::from_spirv(ctx, dev, spirv, &BuildOptions::new()).unwrap()
}

fn tiles_driver(f: impl FnOnce(&mut level_zero::cpu::Config)) -> Option<TestDriver> {
    TestDriver::with(|c| {
        c.subdevices = 2;
        c.hierarchy = Hierarchy::Composite;
        f(c);
    })
}

fn is_invalid(r: &level_zero::Result<()>) -> bool {
    matches!(r, Err(Error::InvalidArgument { .. }))
}

/// A small deterministic generator (no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `copy_add(global uint* dst, global uint* src, uint k)`: `dst[i] = src[i] + k`.
const COPY_ADD: &str = r#"
               OpCapability Addresses
               OpCapability Kernel
               OpCapability Int64
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %k "copy_add" %gid
               OpDecorate %gid BuiltIn GlobalInvocationId
               OpDecorate %gid Constant
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
      %ulong = OpTypeInt 64 0
    %v3ulong = OpTypeVector %ulong 3
       %p_v3 = OpTypePointer Input %v3ulong
     %p_uint = OpTypePointer CrossWorkgroup %uint
        %kty = OpTypeFunction %void %p_uint %p_uint %uint
        %gid = OpVariable %p_v3 Input
          %k = OpFunction %void None %kty
        %dst = OpFunctionParameter %p_uint
        %src = OpFunctionParameter %p_uint
        %add = OpFunctionParameter %uint
          %l = OpLabel
          %g = OpLoad %v3ulong %gid
          %i = OpCompositeExtract %ulong %g 0
         %sa = OpInBoundsPtrAccessChain %p_uint %src %i
          %v = OpLoad %uint %sa
          %w = OpIAdd %uint %v %add
         %da = OpInBoundsPtrAccessChain %p_uint %dst %i
               OpStore %da %w
               OpReturn
               OpFunctionEnd
"#;

/// `ptr_diff(global ulong* out, global uint* a, global uint* b)`: `out[0] = b - a` in bytes.
const PTR_DIFF: &str = r#"
               OpCapability Addresses
               OpCapability Kernel
               OpCapability Int64
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %k "ptr_diff"
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
      %ulong = OpTypeInt 64 0
     %p_uint = OpTypePointer CrossWorkgroup %uint
    %p_ulong = OpTypePointer CrossWorkgroup %ulong
        %kty = OpTypeFunction %void %p_ulong %p_uint %p_uint
          %k = OpFunction %void None %kty
        %out = OpFunctionParameter %p_ulong
          %a = OpFunctionParameter %p_uint
          %b = OpFunctionParameter %p_uint
          %l = OpLabel
         %ua = OpConvertPtrToU %ulong %a
         %ub = OpConvertPtrToU %ulong %b
          %d = OpISub %ulong %ub %ua
               OpStore %out %d
               OpReturn
               OpFunctionEnd
"#;

/// `fill_range(global uint* first, global uint* last, uint v)`: one work-item stores `v` at
/// every element of `[first, last)`, C++-iterator style (`while (p != last) *p++ = v;`).
const FILL_RANGE: &str = r#"
               OpCapability Addresses
               OpCapability Kernel
               OpCapability Int64
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %k "fill_range"
       %void = OpTypeVoid
       %bool = OpTypeBool
       %uint = OpTypeInt 32 0
      %ulong = OpTypeInt 64 0
     %p_uint = OpTypePointer CrossWorkgroup %uint
        %kty = OpTypeFunction %void %p_uint %p_uint %uint
         %c1 = OpConstant %ulong 1
          %k = OpFunction %void None %kty
      %first = OpFunctionParameter %p_uint
       %last = OpFunctionParameter %p_uint
          %v = OpFunctionParameter %uint
      %entry = OpLabel
         %ul = OpConvertPtrToU %ulong %last
               OpBranch %head
       %head = OpLabel
          %p = OpPhi %p_uint %first %entry %next %body
         %up = OpConvertPtrToU %ulong %p
       %done = OpIEqual %bool %up %ul
               OpLoopMerge %exit %body None
               OpBranchConditional %done %exit %body
       %body = OpLabel
               OpStore %p %v
       %next = OpPtrAccessChain %p_uint %p %c1
               OpBranch %head
       %exit = OpLabel
               OpReturn
               OpFunctionEnd
"#;

/// `store_ulong(global ulong* out, ulong v)`: `out[0] = v` (a function pointer's address,
/// when given one).
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

fn linkage_text(name: &str) -> String {
    let path = format!(
        "{}/level-zero-cpu-spirv/tests/spvasm/{name}.spvasm",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap()
}

/// Runs a kernel taking one `uint*` on one element holding `v`; returns the element.
fn run_one(ctx: &Context, dev: &Device, k: &mut Kernel, v: u32) -> u32 {
    let mut buf = SharedBuffer::<u32>::new(ctx, dev, 1).unwrap();
    buf.as_mut_slice().unwrap()[0] = v;
    k.set_arg_buffer(0, &buf).unwrap();
    k.set_group_size([1, 1, 1]).unwrap();
    let mut list = ImmediateCommandList::compute(ctx, dev).unwrap();
    // SAFETY: the kernels run here touch only p[0] of their one buffer argument.
    unsafe { list.launch(k, [1, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    buf.as_slice().unwrap()[0]
}

// =======================================================================================
// Findings.

/// Finding 1: the memory a kernel is given is not checked against the list's device. With
/// peer access off, `copy`, `fill` and host copies refuse memory of a device the list's
/// device cannot reach (rule 11, `ListCore::check_memory`), but `launch` checks only the
/// kernel's context and device: `Kernel::set_arg_buffer` checks the context, and
/// `launch_with` hands the argument buffers to the driver as they are. The launch contract
/// ("the kernel touches no other memory than those buffers") is kept — the kernel touches
/// exactly its argument — yet the device cannot reach it: the CPU driver stops the kernel
/// (the launch fails at the synchronisation and its sanitizer counts an access outside the
/// kernel's memory); a GPU takes a page fault (`zeCommandListAppendLaunchKernel`: "The
/// application must ensure the kernel and events are accessible by the device on which the
/// command list was created", `zeCommandListAppendMemoryCopy`'s same sentence for memory).
/// Shared memory of the other device is refused by copies too, and accepted by launches.
///
/// Should: the launch (immediate or regular list) is refused before any call, with
/// `Error::InvalidArgument` naming peer access, as copies are.
#[test]
fn a_kernel_argument_on_a_device_the_list_cannot_reach_is_refused_before_any_call() {
    let Some(t) = TestDriver::with(|c| c.p2p = false) else {
        return;
    };
    let devs = t.devices();
    let ctx = t.context();
    let n = 64u32;
    let near = DeviceBuffer::<u32>::new(&ctx, &devs[0], n as usize).unwrap();
    let far = DeviceBuffer::<u32>::new(&ctx, &devs[1], n as usize).unwrap();
    let far_shared = SharedBuffer::<u32>::new(&ctx, &devs[1], n as usize).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    // Copies of the same memory are refused (what the launch should do too).
    assert!(is_invalid(&list.copy(&near, &far)));
    assert!(is_invalid(&list.copy(&near, &far_shared)));
    let m = build(&ctx, &devs[0], &assemble("copy_add", COPY_ADD));
    let mut failures = Vec::new();
    for what in ["device", "shared"] {
        let mut k = m.kernel("copy_add").unwrap();
        k.set_group_size([16, 1, 1]).unwrap();
        k.set_arg_buffer(0, &near).unwrap();
        match what {
            "device" => k.set_arg_buffer(1, &far).unwrap(),
            _ => k.set_arg_buffer(1, &far_shared).unwrap(),
        }
        k.set_arg(2, &1u32).unwrap();
        // SAFETY: copy_add touches element i < n of its two n-element arguments, and nothing
        // else.
        let r = unsafe { list.launch(&k, [n / 16, 1, 1]) };
        let sync = list.synchronize();
        if !is_invalid(&r) {
            failures.push(format!(
                "{what} memory of device 1 on device 0's list: launch {r:?}, synchronize {sync:?}"
            ));
        }
        let mut regular = CommandList::compute(&ctx, &devs[0]).unwrap();
        // SAFETY: as above.
        let r = unsafe { regular.launch(&k, [n / 16, 1, 1]) };
        if !is_invalid(&r) {
            failures.push(format!(
                "{what} memory of device 1 recorded on device 0's regular list: {r:?}"
            ));
        }
    }
    let report = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    assert!(
        failures.is_empty() && report.is_clean(),
        "accepted:\n{}\nsanitizer: {report:?}",
        failures.join("\n")
    );
}

/// Finding 2: commands pass the caller's events to the driver without checking where they
/// come from. `signal_event`, `wait_events`, `barrier_with`, `reset_event` and `launch_with`
/// accept an event of another context of the same driver, an event of another driver
/// altogether, and an event of a pool made for other devices only. The specification forbids
/// each: "The application must ensure the command list and events were created on the same
/// context", "The application must ensure the events are accessible by the device on which
/// the command list was created" (every `zeCommandListAppend*` taking events), and
/// `zeEventPoolCreate`: "The application must only use events within the pool for the
/// device(s), or their sub-devices, which were provided during creation". An event of another
/// driver is the worst: under a loader with two drivers (a GPU's and another), the list's
/// driver receives a handle of the other driver's and reads it as its own object. The CPU
/// driver happens to refuse another instance's events and to accept another context's; it
/// also decides when a host wait on an event reports device loss from the pool's devices, so
/// an event of a pool for device 1, signalled by device 0's work, reports
/// `ZE_RESULT_ERROR_DEVICE_LOST` (which the crate's completion model reads as "the work
/// stopped") while device 0 still runs it. Buffers, kernels and fences get these checks
/// (rule 11); events are the one kind of object that does not.
///
/// Should: each of these commands refuses such an event before any call
/// (`Error::InvalidArgument`), on immediate and regular lists.
#[test]
fn events_of_another_context_driver_or_device_are_refused_before_any_call() {
    let t = TestDriver::new();
    let other_driver = TestDriver::new();
    let devs = t.devices();
    let ctx = t.context();
    let other_ctx = t.context();
    let foreign_ctx = other_driver.context();
    let m = build(&ctx, &devs[0], &assemble("copy_add", COPY_ADD));
    let mut k = m.kernel("copy_add").unwrap();
    let buf = DeviceBuffer::<u32>::new(&ctx, &devs[0], 16).unwrap();
    k.set_arg_buffer(0, &buf).unwrap();
    k.set_arg_buffer(1, &buf).unwrap();
    k.set_arg(2, &1u32).unwrap();
    k.set_group_size([16, 1, 1]).unwrap();
    let pools = [
        (
            "another context",
            EventPool::new(&other_ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap(),
        ),
        (
            "another driver",
            EventPool::new(&foreign_ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap(),
        ),
        (
            "a pool for device 1 only",
            EventPool::for_devices(&ctx, 1, EventPoolFlags::HOST_VISIBLE, &devs[1..2]).unwrap(),
        ),
    ];
    let mut accepted = Vec::new();
    for (what, pool) in &pools {
        let e = pool.event(0).unwrap();
        // Signalled, so that an accepted wait does not block.
        e.host_signal().unwrap();
        let mut imm = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
        let mut reg = CommandList::compute(&ctx, &devs[0]).unwrap();
        let mut note = |cmd: &str, r: level_zero::Result<()>| {
            if !is_invalid(&r) {
                accepted.push(format!("{cmd} with an event of {what}: {r:?}"));
            }
        };
        note("signal_event", imm.signal_event(&e));
        note("wait_events", imm.wait_events(&[&e]));
        note("barrier_with (signal)", imm.barrier_with(Some(&e), &[]));
        note("barrier_with (wait)", imm.barrier_with(None, &[&e]));
        note("reset_event", imm.reset_event(&e));
        // SAFETY: copy_add touches element i < 16 of its one 16-element buffer.
        note("launch_with (signal)", unsafe {
            imm.launch_with(&k, [1, 1, 1], Some(&e), &[])
        });
        // Signalled again only if an accepted reset (a finding) cleared it: a second host
        // signal without a reset in between is what loader 1.32's events checker warns of.
        let _ = imm.synchronize();
        if !e.is_signaled().unwrap() {
            e.host_signal().unwrap();
        }
        // SAFETY: as above.
        note("launch_with (wait)", unsafe {
            imm.launch_with(&k, [1, 1, 1], None, &[&e])
        });
        note("regular signal_event", reg.signal_event(&e));
        note("regular wait_events", reg.wait_events(&[&e]));
        let _ = imm.synchronize();
    }
    assert!(accepted.is_empty(), "accepted:\n{}", accepted.join("\n"));
}

/// Finding 3: `Context::evict` evicts memory while submitted work still uses it.
/// `zeContextEvictMemory`: "The application must ensure the device is not currently
/// referencing the memory before it is evicted". `evict` takes `&impl Memory<T>` and checks
/// only the device and the context (`Context::residency_range`): a fill still queued on an
/// immediate list (the CPU driver delays every command by 300 ms here) does not stop it. On a
/// GPU the fill then writes pages the driver just evicted (a page fault, or a write into
/// memory that no longer backs the allocation). The CPU driver only records residency, so
/// nothing shows here but the accepted call.
///
/// Should: `Error::Busy` while submitted work may use the memory (as host guards do), or an
/// eviction that first waits for that work.
#[test]
fn evicting_memory_that_pending_work_uses_is_refused() {
    let Some(t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_millis(300))) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 1 << 16).unwrap();
    ctx.make_resident(&dev, &buf).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.fill(&buf, 7u32).unwrap();
    let r = ctx.evict(&dev, &buf);
    let idle_by_then = list.synchronize_timeout(Some(Duration::ZERO)).unwrap();
    list.synchronize().unwrap();
    assert!(
        matches!(r, Err(Error::Busy { .. })) || (r.is_ok() && idle_by_then),
        "evicted while a fill of the memory was pending: {r:?}"
    );
}

/// Finding 4: an empty slice of a buffer stands for the buffer's *base* address, not for
/// its own. `Region::ptr` (`level-zero/src/memory.rs`) returns the allocation's address for
/// any region of zero bytes, whatever its offset, so `buf.slice(n..)` — the end of a buffer
/// of `n` elements — gives kernels, and `Memory::device_ptr`, the address of element 0.
/// A kernel over a half-open range `[first, last)` of one buffer, written the usual way
/// (`while (p != last) *p++ = v`), is handed `last` before `first`: it writes past the end
/// of the buffer (the CPU driver stops it; a GPU corrupts whatever follows), and a kernel
/// that measures `last - first` reads a wrong length. The caller kept the launch contract:
/// the kernel touches only its buffer, in bounds, given the addresses the API promises.
///
/// Should: a slice's address is its first element's (`base + offset`, one past the end for
/// an empty slice at the end) whenever the buffer has memory.
#[test]
fn an_empty_slice_passes_its_own_address_to_kernels() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let n = 16usize;
    let buf = SharedBuffer::<u32>::new(&ctx, &dev, n).unwrap();
    let base = buf.as_raw() as usize;
    assert_eq!(buf.slice(5..6).device_ptr() as usize, base + 20);
    let at = |r: std::ops::Range<usize>| buf.slice(r).device_ptr() as usize - base;
    let (mid, end) = (at(5..5), at(n..n));
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    // The length of [0, n) measured by a kernel.
    let m = build(&ctx, &dev, &assemble("ptr_diff", PTR_DIFF));
    let mut k = m.kernel("ptr_diff").unwrap();
    let out = SharedBuffer::<u64>::new(&ctx, &dev, 1).unwrap();
    k.set_arg_buffer(0, &out).unwrap();
    k.set_arg_buffer(1, &buf.slice(..)).unwrap();
    k.set_arg_buffer(2, &buf.slice(n..)).unwrap();
    k.set_group_size([1, 1, 1]).unwrap();
    // SAFETY: ptr_diff writes out[0] and reads no memory.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    list.synchronize().unwrap();
    let measured = out.as_slice().unwrap()[0];
    // [4, n) filled the iterator way.
    let m = build(&ctx, &dev, &assemble("fill_range", FILL_RANGE));
    let mut k = m.kernel("fill_range").unwrap();
    k.set_arg_buffer(0, &buf.slice(4..)).unwrap();
    k.set_arg_buffer(1, &buf.slice(n..)).unwrap();
    k.set_arg(2, &9u32).unwrap();
    k.set_group_size([1, 1, 1]).unwrap();
    // SAFETY: with the addresses of `buf[4]` and one past `buf[n - 1]`, fill_range writes
    // exactly `buf[4..n]`.
    unsafe { list.launch(&k, [1, 1, 1]) }.unwrap();
    let filled = list.synchronize();
    // A failed launch is reported once; the next synchronisation releases the buffer.
    list.synchronize().unwrap();
    let report = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    let contents = buf.as_slice().unwrap().to_vec();
    assert!(
        mid == 20
            && end == 4 * n
            && measured == 4 * n as u64
            && filled.is_ok()
            && report.is_clean()
            && contents[..4] == [0; 4]
            && contents[4..].iter().all(|&x| x == 9),
        "slice(5..5) at +{mid}, slice({n}..) at +{end} (expected +20, +{}); a kernel measured \
         [0, {n}) as {measured} bytes; the range fill: {filled:?}, sanitizer {report:?}, \
         contents {contents:?}",
        4 * n
    );
}

/// Finding 5 (minor): `Event::kernel_timestamp` calls `zeEventQueryKernelTimestamp` on any
/// event. The specification: "The application must ensure the event was created from an
/// event pool that was created using `ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP` flag" — the
/// event's memory has no timestamp layout otherwise. The CPU driver refuses it; the crate
/// knows the pool's flags and should not ask.
///
/// Should: `Error::InvalidArgument` before any call for an event of a pool without
/// `KERNEL_TIMESTAMP` (a `KERNEL_MAPPED_TIMESTAMP` pool included: its timestamps are read
/// with another call).
#[test]
fn kernel_timestamps_of_events_without_the_timestamp_flag_are_refused() {
    let t = TestDriver::new();
    let ctx = t.context();
    for flags in [
        EventPoolFlags::HOST_VISIBLE,
        EventPoolFlags::HOST_VISIBLE | EventPoolFlags::KERNEL_MAPPED_TIMESTAMP,
    ] {
        let pool = match EventPool::new(&ctx, 1, flags) {
            Ok(pool) => pool,
            // Loader 1.8.12's validation layer predates the mapped-timestamp flag.
            Err(e) if flags.contains(EventPoolFlags::KERNEL_MAPPED_TIMESTAMP) => {
                eprintln!("{flags:?}: the pool was refused ({e}); case skipped");
                continue;
            }
            Err(e) => panic!("{flags:?}: {e}"),
        };
        let e = pool.event(0).unwrap();
        e.host_signal().unwrap();
        let r = e.kernel_timestamp();
        assert!(
            matches!(r, Err(Error::InvalidArgument { .. })),
            "{flags:?}: {r:?}"
        );
    }
}

/// Finding 6 (the CPU driver; a legal query refused): after `Module::link`, the importer of
/// a global variable does not answer its global pointer. `zeModuleGetGlobalPointer`: "The
/// application may query global pointer from any module that either exports or imports it.
/// The application must dynamically link a module that imports a global before the global
/// pointer can be queried from it." The CPU driver looks the name up among the module's own
/// program-scope variables only (`level-zero-cpu/src/module.rs`,
/// `zeModuleGetGlobalPointer`) and fails with `ZE_RESULT_ERROR_INVALID_GLOBAL_NAME`.
///
/// Should: after the link, the importer answers the exporter's address and size.
#[test]
fn a_linked_importer_answers_the_global_pointer_of_what_it_imports() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let imp = build(&ctx, &dev, &assemble("imp", &linkage_text("link_imports")));
    let exp = build(&ctx, &dev, &assemble("exp", &linkage_text("link_exports")));
    Module::link(&[&imp, &exp]).unwrap();
    assert!(!imp.has_unresolved_imports().unwrap());
    let exported = exp.global_pointer("link_base").unwrap();
    let imported = imp.global_pointer("link_base");
    assert_eq!(imported.ok(), Some(exported));
}

/// Runs this test binary again for the test `name` alone, with `REDTEAM4_CHILD=1` and `env`
/// (the CPU driver's default instance reads its configuration from the environment once),
/// and returns whether the child succeeded, with its output.
fn in_child_process(name: &str, env: &[(&str, &str)]) -> (bool, String) {
    let out = common::this_test_binary()
        .args([name, "--exact", "--include-ignored", "--nocapture"])
        .env("REDTEAM4_CHILD", "1")
        .envs(env.iter().copied())
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
    std::env::var_os("REDTEAM4_CHILD").is_some()
}

/// The CPU driver's default instance behind a function table without
/// `zeCommandListHostSynchronize`: what Debian's loader 1.8.12 gives (`.ci/run` runs the
/// whole-stack tests through it), and what `Runtime::from_api` documents for testing how code
/// copes with a driver that lacks functions. Immediate lists then synchronise by event.
fn driver_without_host_synchronize() -> level_zero::Driver {
    // SAFETY: the CPU driver's getters honour the DDI contract.
    let (mut api, _) = unsafe { level_zero::sys::Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    api.zeCommandListHostSynchronize = None;
    // SAFETY: every remaining pointer is the CPU driver's own function, callable for the
    // process's life; a missing function is what the table's `Option`s are for.
    let rt = unsafe { level_zero::Runtime::from_api(api) }.unwrap();
    rt.drivers().remove(0)
}

/// Finding 7: on a loader without `zeCommandListHostSynchronize` (Debian's 1.8.12, which CI
/// uses), dropping an immediate list destroys it while a catch-up barrier another list
/// appended to it is still pending: that list's hazard wait is never signalled and it waits
/// for good (and the list is destroyed while the device still references it,
/// `zeCommandListDestroy`: "The application must ensure the device is not currently
/// referencing the command list before it is destroyed").
///
/// The drop (`Drop for ImmediateCommandList`) relies on "a successful synchronisation covers
/// every publication made before it started" (it compares the timeline's stamp before and
/// after its wait). `synchronize_by_event` breaks that: when an earlier synchronisation timed
/// out, its barrier is still pending (`sync_event.1 = Some(point)`), and the next
/// synchronisation waits for *that* barrier again, with its old point — catch-up barriers
/// appended by other lists after it are not covered. Here: A fills a buffer (every command of
/// the driver is delayed 20 ms), `A.synchronize_timeout(0)` times out, B reads the buffer
/// (its catch-up appends a publishing barrier P to A, after A's synchronisation barrier), and
/// A is dropped: its drop waits for the old barrier only, sees no new publication during the
/// wait, and destroys A with P still queued. The CPU driver drops P with the list; B's read
/// never runs. Under load the same happens without any delay (a hammer of lists, queues,
/// timed-out synchronisations and drops hangs in most runs of a few hundred seeds:
/// `threads_keep_program_order_on_a_loader_without_host_synchronize`).
///
/// Should: dropping A waits for everything appended to it, catch-ups included; B's read
/// completes with A's data.
#[test]
fn a_list_dropped_after_a_timed_out_synchronisation_waits_for_catch_ups_appended_since() {
    const NAME: &str =
        "a_list_dropped_after_a_timed_out_synchronisation_waits_for_catch_ups_appended_since";
    if common::system_backend() {
        eprintln!("SKIPPED on the system backend: builds its own table");
        return;
    }
    if !is_child() {
        let (ok, out) = in_child_process(NAME, &[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "20000")]);
        assert!(ok, "the child process failed:\n{out}");
        return;
    }
    let driver = driver_without_host_synchronize();
    let devs = driver.devices().unwrap();
    let ctx = Context::new(&driver).unwrap();
    let buf = DeviceBuffer::<u32>::new(&ctx, &devs[0], 1024).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, 1024).unwrap();
    let mut a = ImmediateCommandList::compute(&ctx, &devs[0]).unwrap();
    let mut b = ImmediateCommandList::compute(&ctx, &devs[1]).unwrap();
    b.set_drop_timeout(Duration::from_secs(1));
    a.fill(&buf, 7u32).unwrap();
    // Times out: A's synchronisation barrier stays pending.
    assert!(!a.synchronize_timeout(Some(Duration::ZERO)).unwrap());
    // B's read waits for A's fill: a publishing barrier appended to A, after that barrier.
    b.copy(&out, &buf).unwrap();
    drop(a);
    let done = b.synchronize_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(
        done,
        "B's read never ran: its hazard wait was destroyed with A"
    );
    assert!(out.as_slice().unwrap().iter().all(|&x| x == 7));
}

/// The tile hammer's program (cards and tiles, kernels, queues, synchronous lists, timed-out
/// synchronisations, drops) on a loader without `zeCommandListHostSynchronize`. Hangs in most
/// runs today (finding 7).
#[test]
fn threads_keep_program_order_on_a_loader_without_host_synchronize() {
    const NAME: &str = "threads_keep_program_order_on_a_loader_without_host_synchronize";
    if common::system_backend() {
        eprintln!("SKIPPED on the system backend: builds its own table");
        return;
    }
    if !is_child() {
        // Commands never run inline (every list has a worker of its own at work).
        let (ok, out) = in_child_process(NAME, &[("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "0")]);
        assert!(
            ok,
            "the child process failed:\n{}",
            &out[..out.len().min(4000)]
        );
        return;
    }
    let driver = driver_without_host_synchronize();
    let seeds: u64 = std::env::var("RT4_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    watchdog(
        240,
        "the hammer without zeCommandListHostSynchronize",
        move || {
            for seed in 1..=seeds {
                hammer_on(&driver, seed, 3 + seed as usize % 4, 200);
            }
        },
    );
}

/// One program of finding 8: four devices, each driven by a thread with an immediate list,
/// a synchronous immediate list and a queue, over a buffer of device 0, one of device 3 and
/// host memory; every device is lost after `lost_after` submissions. Returns the errors seen.
fn four_devices_losing(lost_after: u64) -> Vec<String> {
    let Some(mut t) = TestDriver::with(|c| {
        c.devices = 4;
        c.device_lost_after = Some(lost_after);
        c.command_delay = Some(Duration::from_micros(50));
    }) else {
        return Vec::new();
    };
    t.allow_deliberate_leaks();
    let devs = t.devices();
    let ctx = t.context();
    const N: usize = 1024;
    let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &devs[0], N).unwrap());
    let y = Arc::new(DeviceBuffer::<u32>::new(&ctx, &devs[3], N).unwrap());
    let h = Arc::new(HostBuffer::<u32>::new(&ctx, N).unwrap());
    let spirv = assemble("copy_add", COPY_ADD);
    let go = Arc::new(Barrier::new(devs.len()));
    let mut hs = Vec::new();
    for (k, d) in devs.iter().cloned().enumerate() {
        let m = build(&ctx, &d, &spirv);
        let (ctx, x, y, h, go) = (ctx.clone(), x.clone(), y.clone(), h.clone(), go.clone());
        hs.push(std::thread::spawn(move || {
            let mut errs = Vec::new();
            let mut note = |r: level_zero::Result<()>| {
                if let Err(e) = r {
                    errs.push(e.to_string());
                }
            };
            let sync = QueueDesc {
                mode: QueueMode::Synchronous,
                ..QueueDesc::compute(&d).unwrap()
            };
            let mut a = ImmediateCommandList::compute(&ctx, &d).unwrap();
            a.set_drop_timeout(Duration::from_secs(5));
            let mut s = ImmediateCommandList::new(&ctx, &d, &sync).unwrap();
            s.set_drop_timeout(Duration::from_secs(5));
            let mut q = CommandQueue::compute(&ctx, &d).unwrap();
            q.set_drop_timeout(Duration::from_secs(5));
            let mut kern = m.kernel("copy_add").unwrap();
            kern.set_group_size([16, 1, 1]).unwrap();
            go.wait();
            for round in 0..3u32 {
                let v = round * 10 + k as u32;
                note(a.fill(&*x, v));
                kern.set_arg_buffer(0, &*y).unwrap();
                kern.set_arg_buffer(1, &*x).unwrap();
                kern.set_arg(2, &v).unwrap();
                // SAFETY: copy_add touches element i < N of its two N-element arguments.
                note(unsafe { a.launch(&kern, [(N / 16) as u32, 1, 1]) });
                note(s.copy(&*y, &*x));
                let mut l = CommandList::compute(&ctx, &d).unwrap();
                note(l.copy(&*h, &*y));
                note(l.close());
                note(q.execute(&[&l]));
                let mut out = vec![0u32; N];
                note(a.copy_to_slice(&mut out, &*x));
                if round == 1 {
                    let fresh = ImmediateCommandList::compute(&ctx, &d).unwrap();
                    drop(std::mem::replace(&mut a, fresh));
                    a.set_drop_timeout(Duration::from_secs(5));
                    let _ = q.synchronize();
                }
            }
            let _ = a.synchronize();
            let _ = q.synchronize();
            drop((a, s, q, kern));
            errs
        }));
    }
    let mut errs = Vec::new();
    for hd in hs {
        errs.extend(hd.join().unwrap());
    }
    errs
}

/// Finding 8: with device loss on four devices working on shared buffers through immediate
/// lists, synchronous immediate lists and queues, the program hung in about one run in
/// fifty: a synchronous list of a device that is not lost waited for good inside its append
/// — its command waited for the very event it was to signal.
///
/// How: a synchronous timeline publishes its command's event `E` before planning
/// (`Issuer::issue`). Its command S needs a mark of a list Y on another device. Before S's
/// catch-up on Y runs, Y's owner issues a command Y2 that needs S's mark: it waits for `E`.
/// Y's device is lost (or Y2's append fails): Y2's hazard waits, `E` among them, become Y's
/// abandoned waits (`Timeline::abandon`, `Timeline::lost`, `level-zero/src/hazard.rs`). Then
/// S's catch-up on Y failed with the loss and returned every abandoned wait of Y, `E`
/// included, and S was appended waiting for `E`, which only S signals. The rule "every later
/// user of the timeline waits for its abandoned waits" was applied to a user that came
/// *before* the abandoned command in program order. Filtering `E` out of S's waits (and a
/// publication out of its own host signal) left about one hang in 1,200 programs: the same
/// backwards binding through a third timeline, e.g. S waiting for a publication of a list
/// whose command waited for `E`. The same program with two devices
/// (`tests/redteam2.rs`), or without the synchronous lists, has not hung in hundreds of runs.
///
/// The fix makes the whole class impossible instead: commands carry plan sequence numbers,
/// an abandoned wait binds only commands planned after the one that took it, and every wait
/// edge points to an event of a strictly earlier plan sequence (`level-zero/src/hazard.rs`).
/// `RT4_PROGRAMS` sets the number of programs (300 by default; 5,000 passed).
///
/// Should: never hang; every error a device loss.
#[test]
fn device_loss_among_four_devices_with_synchronous_lists_and_queues_never_hangs() {
    let programs: u64 = std::env::var("RT4_PROGRAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for p in 0..programs {
        let lost_after = 16 + p % 16;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(four_devices_losing(lost_after));
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(errs) => {
                for e in errs {
                    assert!(
                        e.contains("DEVICE_LOST") || e.contains("usy"),
                        "program {p} (lost after {lost_after}): unexpected error {e}"
                    );
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("HANG: program {p} (devices lost after {lost_after} submissions)")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("program {p} (lost after {lost_after}) panicked")
            }
        }
    }
}

// =======================================================================================
// Attacks that held: tiles, kernels and threads.

/// Two buffers — one on card 0, one on a tile of card 1 — written and read by several threads
/// through immediate lists and queues (asynchronous and synchronous) of every card and tile,
/// with fills, copies and kernels: `copy_add` of a module built for the list's device or for
/// its card, its arguments re-set before every launch (another slice, the other buffer, the
/// same slice in place), and re-created now and then; lists and queues dropped and re-made
/// mid-way. Program order is the order in which the threads issue commands under the
/// model's lock. Oracle: every read equals the model, the final contents too, and the
/// sanitizer is clean.
fn tile_hammer(seed: u64, threads: usize, ops: usize, delay: Option<Duration>) {
    // On the system backend the driver is configured by the environment (for tiles:
    // LEVEL_ZERO_CPU_SUBDEVICES=2 ZE_FLAT_DEVICE_HIERARCHY=COMPOSITE); there, Debian's
    // loader lacks zeCommandListHostSynchronize, so lists synchronise by event.
    let t = if common::system_backend() {
        TestDriver::new()
    } else {
        match tiles_driver(|c| c.command_delay = delay) {
            Some(t) => t,
            None => return,
        }
    };
    hammer_on(&t.driver, seed, threads, ops);
}

/// The hammer itself, on any driver.
fn hammer_on(driver: &level_zero::Driver, seed: u64, threads: usize, ops: usize) {
    // Every device with the index of its root in `all` (cards first, then their tiles).
    let cards = driver.devices().unwrap();
    let mut all: Vec<(Device, Option<usize>)> = cards.iter().map(|c| (c.clone(), None)).collect();
    for (i, c) in cards.iter().enumerate() {
        // A card's kernels run on its tiles where the crate can tell the tile's card
        // (`zeDeviceGetRootDevice`, which Debian's loader lacks).
        let subs = c.sub_devices().unwrap().into_iter();
        all.extend(subs.map(|s| {
            let root = s.root_device().ok().flatten().map(|_| i);
            (s, root)
        }));
    }
    let ctx = Context::new(driver).unwrap();
    const N: usize = 512;
    const CH: usize = 128;
    // One buffer on the first card, one on the last device (a tile of the last card).
    let bufs = Arc::new([
        DeviceBuffer::<u32>::new(&ctx, &all[0].0, N).unwrap(),
        DeviceBuffer::<u32>::new(&ctx, &all[all.len() - 1].0, N).unwrap(),
    ]);
    let model = Arc::new(Mutex::new([vec![0u32; N], vec![0u32; N]]));
    {
        let mut l = ImmediateCommandList::compute(&ctx, &all[all.len() / 2].0).unwrap();
        l.fill(&bufs[0], 0u32).unwrap();
        l.fill(&bufs[1], 0u32).unwrap();
        l.synchronize().unwrap();
    }
    let spirv = assemble("copy_add", COPY_ADD);
    let modules: Arc<Vec<Module>> =
        Arc::new(all.iter().map(|(d, _)| build(&ctx, d, &spirv)).collect());
    let start = Arc::new(Barrier::new(threads));
    let mut hs = Vec::new();
    for ti in 0..threads {
        let (ctx, all, bufs, model, start, modules) = (
            ctx.clone(),
            all.clone(),
            bufs.clone(),
            model.clone(),
            start.clone(),
            modules.clone(),
        );
        hs.push(std::thread::spawn(move || {
            let mut rng = Rng(
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((ti as u64 + 1) * 0x1234_5678_9abc)
            );
            enum Eng {
                Imm(ImmediateCommandList),
                Queue(CommandQueue, Vec<CommandList>),
            }
            let make = |rng: &mut Rng| -> (Eng, usize) {
                let di = rng.below(all.len() as u64) as usize;
                let dev = &all[di].0;
                let desc = QueueDesc {
                    mode: if rng.below(4) == 0 {
                        QueueMode::Synchronous
                    } else {
                        QueueMode::Default
                    },
                    ..QueueDesc::compute(dev).unwrap()
                };
                let eng = if rng.below(3) == 0 {
                    Eng::Queue(CommandQueue::new(&ctx, dev, &desc).unwrap(), Vec::new())
                } else {
                    Eng::Imm(ImmediateCommandList::new(&ctx, dev, &desc).unwrap())
                };
                (eng, di)
            };
            // A kernel of the list's device's module, or (on a tile) of its card's.
            let kernel_for = |di: usize, rng: &mut Rng| -> Kernel {
                let mi = match all[di].1 {
                    Some(root) if rng.below(2) == 0 => root,
                    _ => di,
                };
                let mut k = modules[mi].kernel("copy_add").unwrap();
                k.set_group_size([16, 1, 1]).unwrap();
                k
            };
            let (mut eng, mut di) = make(&mut rng);
            let mut kernel = kernel_for(di, &mut rng);
            let mut reads: Vec<(HostBuffer<u32>, Vec<u32>)> = Vec::new();
            let check = |reads: &mut Vec<(HostBuffer<u32>, Vec<u32>)>| {
                for (b, want) in reads.drain(..) {
                    let got = b.as_slice().expect("synchronised: readable").to_vec();
                    assert!(
                        got == want,
                        "seed {seed} thread {ti}: read {:?}.. expected {:?}..",
                        &got[..4],
                        &want[..4]
                    );
                }
            };
            let mut counter = 1u32;
            start.wait();
            for _ in 0..ops {
                let c = (rng.below((N / CH) as u64) as usize) * CH;
                let b = rng.below(2) as usize;
                let dev = all[di].0.clone();
                match rng.below(10) {
                    0..=1 => {
                        let mut m = model.lock().unwrap();
                        let v = ((ti as u32) << 24) | counter;
                        counter += 1;
                        match &mut eng {
                            Eng::Imm(l) => l.fill(&bufs[b].slice(c..c + CH), v).unwrap(),
                            Eng::Queue(q, keep) => {
                                let mut l = CommandList::compute(&ctx, &dev).unwrap();
                                l.fill(&bufs[b].slice(c..c + CH), v).unwrap();
                                l.close().unwrap();
                                q.execute(&[&l]).unwrap();
                                keep.push(l);
                            }
                        }
                        m[b][c..c + CH].fill(v);
                    }
                    2..=4 => {
                        // dst = src + k: src the same slice (in place) or one of the other
                        // buffer.
                        let (sb, sc) = if rng.below(3) == 0 {
                            (b, c)
                        } else {
                            (1 - b, (rng.below((N / CH) as u64) as usize) * CH)
                        };
                        let add = rng.below(1000) as u32;
                        if rng.below(4) == 0 {
                            kernel = kernel_for(di, &mut rng);
                        }
                        let mut m = model.lock().unwrap();
                        kernel.set_arg_buffer(0, &bufs[b].slice(c..c + CH)).unwrap();
                        kernel
                            .set_arg_buffer(1, &bufs[sb].slice(sc..sc + CH))
                            .unwrap();
                        kernel.set_arg(2, &add).unwrap();
                        let groups = [(CH / 16) as u32, 1, 1];
                        match &mut eng {
                            // SAFETY: copy_add touches element i < CH of its two CH-element
                            // slices.
                            Eng::Imm(l) => unsafe { l.launch(&kernel, groups) }.unwrap(),
                            Eng::Queue(q, keep) => {
                                let mut l = CommandList::compute(&ctx, &dev).unwrap();
                                // SAFETY: as above.
                                unsafe { l.launch(&kernel, groups) }.unwrap();
                                l.close().unwrap();
                                q.execute(&[&l]).unwrap();
                                keep.push(l);
                            }
                        }
                        let src: Vec<u32> = m[sb][sc..sc + CH]
                            .iter()
                            .map(|x| x.wrapping_add(add))
                            .collect();
                        m[b][c..c + CH].copy_from_slice(&src);
                    }
                    5..=6 => {
                        let h = HostBuffer::<u32>::new(&ctx, CH).unwrap();
                        let m = model.lock().unwrap();
                        match &mut eng {
                            Eng::Imm(l) => l.copy(&h, &bufs[b].slice(c..c + CH)).unwrap(),
                            Eng::Queue(q, keep) => {
                                let mut l = CommandList::compute(&ctx, &dev).unwrap();
                                l.copy(&h, &bufs[b].slice(c..c + CH)).unwrap();
                                l.close().unwrap();
                                q.execute(&[&l]).unwrap();
                                keep.push(l);
                            }
                        }
                        reads.push((h, m[b][c..c + CH].to_vec()));
                    }
                    7 => {
                        if let Eng::Imm(l) = &mut eng {
                            let mut out = vec![0u32; CH];
                            let m = model.lock().unwrap();
                            l.copy_to_slice(&mut out, &bufs[b].slice(c..c + CH))
                                .unwrap();
                            let want = m[b][c..c + CH].to_vec();
                            drop(m);
                            assert!(
                                out == want,
                                "seed {seed} thread {ti}: borrowed read {:?}.. expected {:?}..",
                                &out[..4],
                                &want[..4]
                            );
                        }
                    }
                    8 => {
                        let wait = Some(Duration::from_micros(rng.below(2) * 50));
                        let done = match &mut eng {
                            Eng::Imm(l) => l.synchronize_timeout(wait).unwrap(),
                            Eng::Queue(q, keep) => {
                                let d = q.synchronize_timeout(wait).unwrap();
                                if d {
                                    keep.clear();
                                }
                                d
                            }
                        };
                        if done {
                            check(&mut reads);
                        }
                    }
                    _ => {
                        // Drop the list or queue (with its work pending, or after a
                        // synchronisation) and make another, on any device.
                        if rng.below(2) == 0 {
                            match &mut eng {
                                Eng::Imm(l) => l.synchronize().unwrap(),
                                Eng::Queue(q, _) => q.synchronize().unwrap(),
                            }
                            check(&mut reads);
                        }
                        let (e, d) = make(&mut rng);
                        drop(std::mem::replace(&mut eng, e));
                        di = d;
                        kernel = kernel_for(di, &mut rng);
                    }
                }
            }
            match &mut eng {
                Eng::Imm(l) => l.synchronize().unwrap(),
                Eng::Queue(q, _) => q.synchronize().unwrap(),
            }
            check(&mut reads);
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    let mut l = ImmediateCommandList::compute(&ctx, &all[1 % all.len()].0).unwrap();
    for (b, buf) in bufs.iter().enumerate() {
        let mut out = vec![0u32; N];
        l.copy_to_slice(&mut out, buf).unwrap();
        assert!(
            out == model.lock().unwrap()[b],
            "seed {seed}: final contents of buffer {b} differ from the model"
        );
    }
    drop((l, bufs, ctx, modules));
    if let Ok(report) = level_zero::cpu::sanitizer_report(driver) {
        assert!(report.is_clean(), "seed {seed}: {report:?}");
    }
}

#[test]
fn threads_using_cards_and_tiles_with_kernels_keep_program_order() {
    // More seeds on demand: RT4_SEEDS=n (RT4_VERBOSE=1 names each).
    let seeds: Option<u64> = std::env::var("RT4_SEEDS").ok().and_then(|v| v.parse().ok());
    if common::system_backend() && seeds.is_none() {
        // Through Debian's loader the program hangs now and then (finding 7): run it there on
        // demand only, so that the suite stays green until the fix.
        eprintln!("SKIPPED on the system backend unless RT4_SEEDS is set (finding 7)");
        return;
    }
    watchdog(300, "the tile hammer", move || {
        for seed in 1..=seeds.unwrap_or(6) {
            if std::env::var("RT4_VERBOSE").is_ok() {
                eprintln!("seed {seed}");
            }
            let delay =
                [None, Some(Duration::ZERO), Some(Duration::from_micros(30))][seed as usize % 3];
            tile_hammer(seed, 3 + seed as usize % 4, 200, delay);
        }
    });
}

/// Device loss injected at every submission count while four threads work on card 0, a tile
/// of card 0, a tile of card 1 and card 1: fills, `copy_add` kernels of the cards' modules
/// launched on the cards and on their tiles (arguments re-set between launches: the card's
/// buffer, a tile's buffer, host memory), regular lists on queues, borrowed copies, a list
/// dropped mid-way. Oracle: nothing hangs or panics, every error is a device loss (or a
/// refusal while the host reads), and no command touched freed memory.
fn lossy_tiles(lost_after: u64, delay: Option<Duration>) {
    let Some(mut t) = tiles_driver(|c| {
        c.device_lost_after = Some(lost_after);
        c.command_delay = delay;
    }) else {
        return;
    };
    t.allow_deliberate_leaks();
    let cards = t.devices();
    let (t0, t1) = (
        cards[0].sub_devices().unwrap(),
        cards[1].sub_devices().unwrap(),
    );
    let ctx = t.context();
    const N: usize = 1024;
    let x = Arc::new(DeviceBuffer::<u32>::new(&ctx, &cards[0], N).unwrap());
    let y = Arc::new(DeviceBuffer::<u32>::new(&ctx, &t1[0], N).unwrap());
    let h = Arc::new(HostBuffer::<u32>::new(&ctx, N).unwrap());
    let spirv = assemble("copy_add", COPY_ADD);
    let (m0, m1) = (
        build(&ctx, &cards[0], &spirv),
        build(&ctx, &cards[1], &spirv),
    );
    let workers = [
        (cards[0].clone(), m0.clone()),
        (t0[1].clone(), m0.clone()),
        (t1[0].clone(), m1.clone()),
        (cards[1].clone(), m1.clone()),
    ];
    let go = Arc::new(Barrier::new(workers.len()));
    let mut hs = Vec::new();
    for (k, (d, m)) in workers.into_iter().enumerate() {
        let (ctx, x, y, h, go) = (ctx.clone(), x.clone(), y.clone(), h.clone(), go.clone());
        hs.push(std::thread::spawn(move || {
            let mut errs = Vec::new();
            let mut note = |r: level_zero::Result<()>| {
                if let Err(e) = r {
                    errs.push(e.to_string());
                }
            };
            let mut a = ImmediateCommandList::compute(&ctx, &d).unwrap();
            a.set_drop_timeout(Duration::from_secs(5));
            let mut q = CommandQueue::compute(&ctx, &d).unwrap();
            q.set_drop_timeout(Duration::from_secs(5));
            let mut kern = m.kernel("copy_add").unwrap();
            kern.set_group_size([16, 1, 1]).unwrap();
            let groups = [(N / 16) as u32, 1, 1];
            go.wait();
            for round in 0..3u32 {
                let v = round * 10 + k as u32;
                note(a.fill(&*x, v));
                kern.set_arg_buffer(0, &*y).unwrap();
                kern.set_arg_buffer(1, &*x).unwrap();
                kern.set_arg(2, &v).unwrap();
                // SAFETY: copy_add touches element i < N of its two N-element arguments.
                note(unsafe { a.launch(&kern, groups) });
                let mut l = CommandList::compute(&ctx, &d).unwrap();
                note(l.copy(&*h, &*y));
                kern.set_arg_buffer(0, &*x).unwrap();
                kern.set_arg_buffer(1, &*h).unwrap();
                // SAFETY: as above.
                note(unsafe { l.launch(&kern, groups) });
                note(l.close());
                note(q.execute(&[&l]));
                let mut out = vec![0u32; N];
                note(a.copy_to_slice(&mut out, &*x));
                if round == 1 {
                    let fresh = ImmediateCommandList::compute(&ctx, &d).unwrap();
                    drop(std::mem::replace(&mut a, fresh));
                    a.set_drop_timeout(Duration::from_secs(5));
                    let _ = q.synchronize();
                }
            }
            let _ = a.synchronize();
            let _ = q.synchronize();
            drop((a, q, kern));
            errs
        }));
    }
    for hd in hs {
        for e in hd.join().unwrap() {
            assert!(
                e.contains("DEVICE_LOST") || e.contains("busy") || e.contains("Busy"),
                "lost_after {lost_after}: unexpected error {e}"
            );
        }
    }
    drop((x, y, h, ctx, m0, m1));
    let report = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    assert_eq!(
        report.freed_memory_accesses, 0,
        "lost_after {lost_after}: {report:?}"
    );
}

#[test]
fn device_loss_on_tiles_running_their_cards_kernels_neither_hangs_nor_touches_freed_memory() {
    watchdog(300, "the lossy tile programs", || {
        for n in 0..30 {
            lossy_tiles(n, None);
        }
        for n in (0..30).step_by(4) {
            lossy_tiles(n, Some(Duration::from_micros(100)));
        }
    });
}

/// Function pointers across a card and its tiles: a kernel of a tile's module may be given
/// a function of its card's module (the specification lets a module serve its device's
/// sub-devices), and a kernel of the card's module, launched on a tile, one of the card's;
/// a function of a sibling tile's module, or of a tile's module for a card's kernel, is
/// refused before any call. Each launch receives the function's address.
#[test]
fn function_pointers_across_a_card_and_its_tiles() {
    let Some(t) = tiles_driver(|_| {}) else {
        return;
    };
    let card = t.device();
    let tiles = card.sub_devices().unwrap();
    let ctx = t.context();
    let exporter = assemble("link_exports", &linkage_text("link_exports"));
    let store = assemble("store_ulong", STORE_ULONG);
    let f_card = build(&ctx, &card, &exporter)
        .function_pointer("add_one")
        .unwrap();
    let f_tile0 = build(&ctx, &tiles[0], &exporter)
        .function_pointer("add_one")
        .unwrap();
    let f_tile1 = build(&ctx, &tiles[1], &exporter)
        .function_pointer("add_one")
        .unwrap();
    let run = |k: &mut Kernel, on: &Device| -> u64 {
        let out = SharedBuffer::<u64>::new(&ctx, on, 1).unwrap();
        k.set_arg_buffer(0, &out).unwrap();
        k.set_group_size([1, 1, 1]).unwrap();
        let mut list = ImmediateCommandList::compute(&ctx, on).unwrap();
        // SAFETY: store_ulong writes out[0] only.
        unsafe { list.launch(k, [1, 1, 1]) }.unwrap();
        list.synchronize().unwrap();
        out.as_slice().unwrap()[0]
    };
    // A tile's kernel with its card's function.
    let mut k = build(&ctx, &tiles[0], &store)
        .kernel("store_ulong")
        .unwrap();
    k.set_arg_function_pointer(1, &f_card).unwrap();
    assert_eq!(run(&mut k, &tiles[0]), f_card.address());
    // ... and with its own tile's function; a sibling tile's is refused.
    k.set_arg_function_pointer(1, &f_tile0).unwrap();
    assert_eq!(run(&mut k, &tiles[0]), f_tile0.address());
    assert!(matches!(
        k.set_arg_function_pointer(1, &f_tile1),
        Err(Error::InvalidArgument { .. })
    ));
    // The refused call left the previous argument (and its module) in place.
    assert_eq!(run(&mut k, &tiles[0]), f_tile0.address());
    // A card's kernel on a tile, with the card's function; a tile's function is refused.
    let mut k = build(&ctx, &card, &store).kernel("store_ulong").unwrap();
    k.set_arg_function_pointer(1, &f_card).unwrap();
    assert_eq!(run(&mut k, &tiles[1]), f_card.address());
    assert!(matches!(
        k.set_arg_function_pointer(1, &f_tile1),
        Err(Error::InvalidArgument { .. })
    ));
}

// =======================================================================================
// Attacks that held: linking.

/// Module A exports `fa`, which calls `fb`, imported from module B, which calls `fa`,
/// imported from A: recursion across two modules. Linking them is a typed link error
/// naming the recursion (the engine inlines calls; before linking each module builds, as
/// each is fine alone), and A's kernel stays unlinked: no stack overflow, no hang.
#[test]
fn recursion_across_linked_modules_is_a_link_error() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = build(&ctx, &dev, &assemble("mutual_a", MUTUAL_A));
    let b = build(&ctx, &dev, &assemble("mutual_b", MUTUAL_B));
    match Module::link(&[&a, &b]) {
        Err(Error::ModuleLink { log, .. }) => assert!(log.contains("recursi"), "{log}"),
        other => panic!("expected a link error, got {other:?}"),
    }
    let e = a.kernel("ka").unwrap_err();
    assert_eq!(
        e.code().map(|c| c.0),
        Some(level_zero::sys::ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED)
    );
    assert!(a.has_unresolved_imports().unwrap());
}

const MUTUAL_A: &str = r#"
               OpCapability Addresses
               OpCapability Linkage
               OpCapability Kernel
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %k "ka"
               OpName %fa "fa"
               OpName %fb "fb"
               OpDecorate %fa LinkageAttributes "fa" Export
               OpDecorate %fb LinkageAttributes "fb" Import
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
     %p_uint = OpTypePointer CrossWorkgroup %uint
       %fnty = OpTypeFunction %uint %uint
        %kty = OpTypeFunction %void %p_uint
         %fb = OpFunction %uint None %fnty
         %xb = OpFunctionParameter %uint
               OpFunctionEnd
         %fa = OpFunction %uint None %fnty
          %x = OpFunctionParameter %uint
         %la = OpLabel
          %r = OpFunctionCall %uint %fb %x
               OpReturnValue %r
               OpFunctionEnd
          %k = OpFunction %void None %kty
          %p = OpFunctionParameter %p_uint
          %l = OpLabel
          %v = OpLoad %uint %p
          %w = OpFunctionCall %uint %fa %v
               OpStore %p %w
               OpReturn
               OpFunctionEnd
"#;

const MUTUAL_B: &str = r#"
               OpCapability Addresses
               OpCapability Linkage
               OpCapability Kernel
               OpMemoryModel Physical64 OpenCL
               OpName %fa "fa"
               OpName %fb "fb"
               OpDecorate %fb LinkageAttributes "fb" Export
               OpDecorate %fa LinkageAttributes "fa" Import
       %uint = OpTypeInt 32 0
       %fnty = OpTypeFunction %uint %uint
         %fa = OpFunction %uint None %fnty
         %xa = OpFunctionParameter %uint
               OpFunctionEnd
         %fb = OpFunction %uint None %fnty
          %x = OpFunctionParameter %uint
         %lb = OpLabel
          %r = OpFunctionCall %uint %fa %x
               OpReturnValue %r
               OpFunctionEnd
"#;

/// A: `f(x) = x + 1`. B imports `f`, exports `g(x) = f(x) * 10`. C imports `g`; its kernel
/// `kc` computes `p[0] = g(p[0])`.
const CHAIN_A: &str = r#"
               OpCapability Addresses
               OpCapability Linkage
               OpCapability Kernel
               OpMemoryModel Physical64 OpenCL
               OpName %f "f"
               OpDecorate %f LinkageAttributes "f" Export
       %uint = OpTypeInt 32 0
       %fnty = OpTypeFunction %uint %uint
         %c1 = OpConstant %uint 1
          %f = OpFunction %uint None %fnty
          %x = OpFunctionParameter %uint
          %l = OpLabel
          %r = OpIAdd %uint %x %c1
               OpReturnValue %r
               OpFunctionEnd
"#;

const CHAIN_B: &str = r#"
               OpCapability Addresses
               OpCapability Linkage
               OpCapability Kernel
               OpMemoryModel Physical64 OpenCL
               OpName %f "f"
               OpName %g "g"
               OpDecorate %f LinkageAttributes "f" Import
               OpDecorate %g LinkageAttributes "g" Export
       %uint = OpTypeInt 32 0
       %fnty = OpTypeFunction %uint %uint
        %c10 = OpConstant %uint 10
          %f = OpFunction %uint None %fnty
         %xf = OpFunctionParameter %uint
               OpFunctionEnd
          %g = OpFunction %uint None %fnty
          %x = OpFunctionParameter %uint
          %l = OpLabel
          %y = OpFunctionCall %uint %f %x
          %r = OpIMul %uint %y %c10
               OpReturnValue %r
               OpFunctionEnd
"#;

const CHAIN_C: &str = r#"
               OpCapability Addresses
               OpCapability Linkage
               OpCapability Kernel
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %k "kc"
               OpName %g "g"
               OpDecorate %g LinkageAttributes "g" Import
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
     %p_uint = OpTypePointer CrossWorkgroup %uint
       %fnty = OpTypeFunction %uint %uint
        %kty = OpTypeFunction %void %p_uint
          %g = OpFunction %uint None %fnty
         %xg = OpFunctionParameter %uint
               OpFunctionEnd
          %k = OpFunction %void None %kty
          %p = OpFunctionParameter %p_uint
          %l = OpLabel
          %v = OpLoad %uint %p
          %w = OpFunctionCall %uint %g %v
               OpStore %p %w
               OpReturn
               OpFunctionEnd
"#;

/// A chain of three modules (C → B → A), linked in every way: all three in one call (C's
/// kernel computes through both links: `g(4) = (4 + 1) * 10`), and A + B first, then B + C,
/// where B serves only its exports (its imports were linked by the first call). The
/// specification allows the second way ("A module can be used in multiple link calls if it
/// has exports but its imports will not be re-linked"); the CPU driver refuses it with a
/// link error naming the unresolved `f` (a documented limit of its engine: "link a chain of
/// modules in one call"). Either outcome is accepted here — the right result or a clear
/// error — never a wrong result; after a refusal, the chain still links in one call.
#[test]
fn a_chain_of_links_computes_through_every_link_or_refuses_clearly() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let spirv = [
        assemble("chain_a", CHAIN_A),
        assemble("chain_b", CHAIN_B),
        assemble("chain_c", CHAIN_C),
    ];
    let modules = || -> [Module; 3] { spirv.each_ref().map(|s| build(&ctx, &dev, s)) };
    // All three at once, in any order.
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let m = modules();
        Module::link(&[&m[order[0]], &m[order[1]], &m[order[2]]]).unwrap();
        let mut k = m[2].kernel("kc").unwrap();
        assert_eq!(run_one(&ctx, &dev, &mut k, 4), 50, "order {order:?}");
    }
    // A + B, then B + C.
    let [a, b, c] = modules();
    Module::link(&[&a, &b]).unwrap();
    match Module::link(&[&b, &c]) {
        Ok(()) => {
            let mut k = c.kernel("kc").unwrap();
            assert_eq!(run_one(&ctx, &dev, &mut k, 4), 50);
        }
        Err(Error::ModuleLink { log, .. }) => {
            assert!(log.contains("`f`"), "{log}");
            assert!(c.has_unresolved_imports().unwrap());
            assert!(c.kernel("kc").is_err());
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
    // B + C first (B's own import unresolved: a link error), then the whole chain.
    let [a, b, c] = modules();
    assert!(matches!(
        Module::link(&[&b, &c]),
        Err(Error::ModuleLink { .. })
    ));
    Module::link(&[&a, &b, &c]).unwrap();
    let mut k = c.kernel("kc").unwrap();
    assert_eq!(run_one(&ctx, &dev, &mut k, 4), 50);
}
