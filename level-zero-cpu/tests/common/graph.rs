//! Scenarios of `ZE_extension_record_replay_graph`: capture on immediate lists, forks and
//! joins, replays, and what is refused. Loader 1.8.12 has no graph DDI tables, so every graph
//! function is reached through `zeDriverGetExtensionFunctionAddress` (embedded too, which also
//! checks that lookup), with the handles translated for the driver under the loader's
//! interception.

use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use level_zero_sys::*;

use super::scenarios::{kernel_of, module_of};
use super::{Backend, NO_WAITS, NULL_EVENT};
use crate::{fails, ok, ze};

const SAXPY: &[u8] = include_bytes!("../../kernels/spv/saxpy.O2.spv");

const SUCCESS: ze_result_t = ze_result_t::ZE_RESULT_SUCCESS;
const TRUE: ze_result_t = ze_result_t::ZE_RESULT_QUERY_TRUE;
const FALSE: ze_result_t = ze_result_t::ZE_RESULT_QUERY_FALSE;

/// Resolves an extension function by name, as its pfn type.
macro_rules! resolve {
    ($b:expr, $ty:ty, $name:literal) => {{
        let f = $b
            .extension_function($name)
            .unwrap_or_else(|e| panic!("{:?}: {e}", $name));
        assert!(!f.is_null(), "{:?} resolves to NULL", $name);
        // SAFETY: the driver's address of this function, whose type the pfn is.
        unsafe { std::mem::transmute::<*mut c_void, $ty>(f) }
    }};
}

/// Calls a resolved function: valid arguments, or invalid ones the driver must detect.
macro_rules! call {
    ($f:expr, $($arg:expr),* $(,)?) => {{
        // SAFETY: the function resolved by name, with the test's arguments: valid, or invalid
        // in ways the driver must detect without dereferencing them.
        unsafe { $f.expect("resolved")($($arg),*) }
    }};
}

/// The extension's functions, resolved by name, and the handle translation they need.
pub struct Graphs<'a> {
    b: &'a Backend,
    create: ze_pfnGraphCreateExt_t,
    begin: ze_pfnCommandListBeginGraphCaptureExt_t,
    begin_into: ze_pfnCommandListBeginCaptureIntoGraphExt_t,
    capturing: ze_pfnCommandListIsGraphCaptureEnabledExt_t,
    end: ze_pfnCommandListEndGraphCaptureExt_t,
    get: ze_pfnCommandListGetGraphExt_t,
    primary: ze_pfnGraphGetPrimaryCommandListExt_t,
    on_destroy: ze_pfnGraphSetDestructionCallbackExt_t,
    instantiate: ze_pfnGraphInstantiateExt_t,
    append: ze_pfnCommandListAppendGraphExt_t,
    source: ze_pfnExecutableGraphGetSourceGraphExt_t,
    is_empty: ze_pfnGraphIsEmptyExt_t,
    dump: ze_pfnGraphDumpContentsExt_t,
    destroy_exec: ze_pfnExecutableGraphDestroyExt_t,
    destroy: ze_pfnGraphDestroyExt_t,
}

impl<'a> Graphs<'a> {
    pub fn new(b: &'a Backend) -> Graphs<'a> {
        Graphs {
            b,
            create: resolve!(b, ze_pfnGraphCreateExt_t, c"zeGraphCreateExt"),
            begin: resolve!(
                b,
                ze_pfnCommandListBeginGraphCaptureExt_t,
                c"zeCommandListBeginGraphCaptureExt"
            ),
            begin_into: resolve!(
                b,
                ze_pfnCommandListBeginCaptureIntoGraphExt_t,
                c"zeCommandListBeginCaptureIntoGraphExt"
            ),
            capturing: resolve!(
                b,
                ze_pfnCommandListIsGraphCaptureEnabledExt_t,
                c"zeCommandListIsGraphCaptureEnabledExt"
            ),
            end: resolve!(
                b,
                ze_pfnCommandListEndGraphCaptureExt_t,
                c"zeCommandListEndGraphCaptureExt"
            ),
            get: resolve!(
                b,
                ze_pfnCommandListGetGraphExt_t,
                c"zeCommandListGetGraphExt"
            ),
            primary: resolve!(
                b,
                ze_pfnGraphGetPrimaryCommandListExt_t,
                c"zeGraphGetPrimaryCommandListExt"
            ),
            on_destroy: resolve!(
                b,
                ze_pfnGraphSetDestructionCallbackExt_t,
                c"zeGraphSetDestructionCallbackExt"
            ),
            instantiate: resolve!(b, ze_pfnGraphInstantiateExt_t, c"zeGraphInstantiateExt"),
            append: resolve!(
                b,
                ze_pfnCommandListAppendGraphExt_t,
                c"zeCommandListAppendGraphExt"
            ),
            source: resolve!(
                b,
                ze_pfnExecutableGraphGetSourceGraphExt_t,
                c"zeExecutableGraphGetSourceGraphExt"
            ),
            is_empty: resolve!(b, ze_pfnGraphIsEmptyExt_t, c"zeGraphIsEmptyExt"),
            dump: resolve!(b, ze_pfnGraphDumpContentsExt_t, c"zeGraphDumpContentsExt"),
            destroy_exec: resolve!(
                b,
                ze_pfnExecutableGraphDestroyExt_t,
                c"zeExecutableGraphDestroyExt"
            ),
            destroy: resolve!(b, ze_pfnGraphDestroyExt_t, c"zeGraphDestroyExt"),
        }
    }

    fn list(&self, l: ze_command_list_handle_t) -> ze_command_list_handle_t {
        self.b.native(zel_handle_type_t::ZEL_HANDLE_COMMAND_LIST, l)
    }

    fn event(&self, e: ze_event_handle_t) -> ze_event_handle_t {
        if e.is_null() {
            e
        } else {
            self.b.native(zel_handle_type_t::ZEL_HANDLE_EVENT, e)
        }
    }

    pub fn create(&self, c: ze_context_handle_t) -> ze_graph_handle_t {
        let c = self.b.native(zel_handle_type_t::ZEL_HANDLE_CONTEXT, c);
        let mut g = null_mut();
        assert_eq!(call!(self.create, c, null(), &mut g), SUCCESS);
        assert!(!g.is_null());
        g
    }

    pub fn begin(&self, l: ze_command_list_handle_t) -> ze_result_t {
        call!(self.begin, self.list(l), null())
    }

    pub fn begin_into(&self, l: ze_command_list_handle_t, g: ze_graph_handle_t) -> ze_result_t {
        call!(self.begin_into, self.list(l), g, null())
    }

    pub fn capturing(&self, l: ze_command_list_handle_t) -> ze_result_t {
        call!(self.capturing, self.list(l))
    }

    /// Ends a capture: the code, and the graph (null unless it succeeded).
    pub fn end(&self, l: ze_command_list_handle_t) -> (ze_result_t, ze_graph_handle_t) {
        let mut g = 0x5a5a_usize as ze_graph_handle_t;
        let r = call!(self.end, self.list(l), null(), &mut g);
        assert_eq!(r == SUCCESS, !g.is_null(), "{r}: output {g:?}");
        (r, g)
    }

    pub fn get(&self, l: ze_command_list_handle_t) -> (ze_result_t, ze_graph_handle_t) {
        let mut g = 0x5a5a_usize as ze_graph_handle_t;
        let r = call!(self.get, self.list(l), &mut g);
        assert_eq!(r == SUCCESS, !g.is_null(), "{r}: output {g:?}");
        (r, g)
    }

    pub fn primary(&self, g: ze_graph_handle_t) -> (ze_result_t, ze_command_list_handle_t) {
        let mut l = null_mut();
        let r = call!(self.primary, g, &mut l);
        (r, l)
    }

    pub fn on_destroy(&self, g: ze_graph_handle_t, counter: &AtomicU32) -> ze_result_t {
        let user = (counter as *const AtomicU32).cast_mut().cast();
        call!(self.on_destroy, g, Some(count_call), user, null())
    }

    pub fn instantiate(&self, g: ze_graph_handle_t) -> (ze_result_t, ze_executable_graph_handle_t) {
        let mut x = null_mut();
        let r = call!(self.instantiate, g, null(), &mut x);
        (r, x)
    }

    pub fn append(
        &self,
        l: ze_command_list_handle_t,
        x: ze_executable_graph_handle_t,
        signal: ze_event_handle_t,
        waits: &[ze_event_handle_t],
    ) -> ze_result_t {
        let mut waits: Vec<_> = waits.iter().map(|&e| self.event(e)).collect();
        call!(
            self.append,
            self.list(l),
            x,
            null(),
            self.event(signal),
            waits.len() as u32,
            if waits.is_empty() {
                null_mut()
            } else {
                waits.as_mut_ptr()
            }
        )
    }

    pub fn source(&self, x: ze_executable_graph_handle_t) -> ze_graph_handle_t {
        let mut g = null_mut();
        assert_eq!(call!(self.source, x, &mut g), SUCCESS);
        g
    }

    pub fn is_empty(&self, g: ze_graph_handle_t) -> ze_result_t {
        call!(self.is_empty, g)
    }

    /// Dumps the graph (in `mode`, or the default) to a temporary file: the code and the text.
    pub fn dump(&self, g: ze_graph_handle_t, mode: Option<u32>) -> (ze_result_t, String) {
        let path = std::env::temp_dir().join(format!(
            "l0cpu-graph-{}-{:?}.dot",
            std::process::id(),
            std::thread::current().id()
        ));
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let desc = mode.map(|m| ze_record_replay_graph_ext_dump_desc_t {
            mode: ze_record_replay_graph_ext_dump_mode_t(m),
            ..Default::default()
        });
        let next = desc.as_ref().map_or(null(), |d| {
            (d as *const ze_record_replay_graph_ext_dump_desc_t).cast()
        });
        let r = call!(self.dump, g, c.as_ptr(), next);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        (r, text)
    }

    pub fn destroy_exec(&self, x: ze_executable_graph_handle_t) -> ze_result_t {
        call!(self.destroy_exec, x)
    }

    pub fn destroy(&self, g: ze_graph_handle_t) -> ze_result_t {
        call!(self.destroy, g)
    }
}

/// A destruction callback: counts its calls in the `AtomicU32` its user data points to.
unsafe extern "C" fn count_call(user: *mut c_void) {
    // SAFETY: the user data registered with it: an `AtomicU32` that outlives the graph.
    unsafe { &*user.cast::<AtomicU32>() }.fetch_add(1, Ordering::SeqCst);
}

/// Reads `n` values of `T` the device wrote to host memory.
fn read<T: Copy>(p: *const u8, n: usize) -> Vec<T> {
    // SAFETY: a host allocation (or the test's own memory) of at least `n` values, written by
    // commands that completed (the caller waited for them).
    unsafe { std::slice::from_raw_parts(p.cast::<T>(), n) }.to_vec()
}

/// Writes `values` to host memory no command uses now.
fn write<T: Copy>(p: *mut u8, values: &[T]) {
    // SAFETY: a host allocation of at least `values.len()` values, idle.
    unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), p.cast::<T>(), values.len()) };
}

fn query(b: &Backend, e: ze_event_handle_t) -> ze_result_t {
    ze!(b, zeEventQueryStatus(e))
}

fn barrier(
    b: &Backend,
    l: ze_command_list_handle_t,
    signal: ze_event_handle_t,
    waits: &[ze_event_handle_t],
) -> ze_result_t {
    let mut waits = waits.to_vec();
    let p = if waits.is_empty() {
        NO_WAITS
    } else {
        waits.as_mut_ptr()
    };
    ze!(
        b,
        zeCommandListAppendBarrier(l, signal, waits.len() as u32, p)
    )
}

fn fill_u32(
    b: &Backend,
    l: ze_command_list_handle_t,
    dst: *mut u8,
    value: u32,
    n: usize,
    signal: ze_event_handle_t,
    waits: &[ze_event_handle_t],
) -> ze_result_t {
    let mut waits = waits.to_vec();
    let p = if waits.is_empty() {
        NO_WAITS
    } else {
        waits.as_mut_ptr()
    };
    ze!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            dst.cast(),
            (&raw const value).cast(),
            4,
            n * 4,
            signal,
            waits.len() as u32,
            p
        )
    )
}

fn copy(
    b: &Backend,
    l: ze_command_list_handle_t,
    dst: *mut u8,
    src: *const u8,
    len: usize,
    signal: ze_event_handle_t,
    waits: &[ze_event_handle_t],
) -> ze_result_t {
    let mut waits = waits.to_vec();
    let p = if waits.is_empty() {
        NO_WAITS
    } else {
        waits.as_mut_ptr()
    };
    ze!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            dst.cast(),
            src.cast(),
            len,
            signal,
            waits.len() as u32,
            p
        )
    )
}

fn synchronous_immediate(b: &Backend, c: ze_context_handle_t) -> ze_command_list_handle_t {
    let desc = Backend::queue_desc(
        0,
        0,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS,
    );
    let mut l = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(c, b.devices[0], &desc, &mut l)
    );
    l
}

/// Fill, kernel and copy captured on an immediate list, replayed: each replay does the work
/// again (`y += a * x` with the `a` of append time), signals the events the recorded commands
/// signal and the replay's own, and waits for its wait events; an executable graph in flight
/// cannot be destroyed, nor a graph with an executable graph; the dump describes the
/// commands; destruction callbacks run once.
pub fn graph_capture_and_replay(b: &Backend) {
    assert!(
        b.extensions()
            .iter()
            .any(|e| e == "ZE_extension_record_replay_graph")
    );
    if b.kind == super::Kind::Embedded {
        // The DDI tables serve them too.
        assert!(b.has("zeGraphCreateExt") && b.has("zeCommandListAppendGraphExt"));
    }
    // The device reports immutable graphs, nothing more.
    let mut graph_props = ze_record_replay_graph_ext_properties_t {
        graphFlags: 0xdead,
        ..Default::default()
    };
    let mut props = ze_device_properties_t {
        pNext: (&raw mut graph_props).cast(),
        ..Default::default()
    };
    ok!(b, zeDeviceGetProperties(b.devices[0], &mut props));
    assert_eq!(
        graph_props.graphFlags,
        ze_record_replay_graph_ext_flag_t::ZE_RECORD_REPLAY_GRAPH_EXT_FLAG_IMMUTABLE_GRAPH.0
    );

    let gr = Graphs::new(b);
    let c = b.context();
    let l = b.immediate(c, 0);
    let m = module_of(b, c, SAXPY);
    let k = kernel_of(b, m, c"saxpy");
    let n = 64usize;
    let x = b.alloc_device(c, n * 4, 0);
    let y = b.alloc_device(c, n * 4, 0);
    let out = b.alloc_host(c, n * 4);
    write(out, &vec![-1.0f32; n]);
    assert_eq!(fill_u32(b, l, y, 0, n, NULL_EVENT, &[]), SUCCESS);
    b.finish(c, l);
    let pool = b.event_pool(c, 5, 0);
    let (launched, copied, done, gate) = (
        b.event(pool, 0),
        b.event(pool, 1),
        b.event(pool, 2),
        b.event(pool, 3),
    );

    assert_eq!(gr.capturing(l), FALSE);
    assert_eq!(gr.begin(l), SUCCESS);
    assert_eq!(gr.capturing(l), TRUE);
    let (r, g) = gr.get(l);
    assert_eq!(r, SUCCESS);
    assert_eq!(gr.primary(g), (SUCCESS, gr.list(l)));
    assert_eq!(gr.is_empty(g), TRUE);
    // x = 1.0, y += a * x with a = 1 (set to 100 right after: the recorded launch keeps 1),
    // out = y.
    assert_eq!(
        fill_u32(b, l, x, 1.0f32.to_bits(), n, NULL_EVENT, &[]),
        SUCCESS
    );
    let a = 1.0f32;
    ok!(b, zeKernelSetArgumentValue(k, 0, 4, (&raw const a).cast()));
    ok!(b, zeKernelSetArgumentValue(k, 1, 8, (&raw const x).cast()));
    ok!(b, zeKernelSetArgumentValue(k, 2, 8, (&raw const y).cast()));
    ok!(b, zeKernelSetGroupSize(k, 16, 1, 1));
    let groups = ze_group_count_t {
        groupCountX: (n / 16) as u32,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &groups, launched, 0, NO_WAITS)
    );
    let hundred = 100.0f32;
    ok!(
        b,
        zeKernelSetArgumentValue(k, 0, 4, (&raw const hundred).cast())
    );
    assert_eq!(copy(b, l, out, y, n * 4, copied, &[]), SUCCESS);
    assert_eq!(gr.is_empty(g), FALSE);
    // Recorded, not run: the events stay unsignalled, host synchronisation on recorded work
    // is refused.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(query(b, copied), ze_result_t::ZE_RESULT_NOT_READY);
    assert_eq!(read::<f32>(out, n), vec![-1.0; n]);
    fails!(
        ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED,
        b,
        zeEventHostSynchronize(copied, 0)
    );
    if b.has("zeCommandListHostSynchronize") {
        fails!(
            ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED,
            b,
            zeCommandListHostSynchronize(l, 0)
        );
    }
    // A graph being captured is neither instantiated nor destroyed.
    assert_eq!(
        gr.instantiate(g).0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        gr.destroy(g),
        ze_result_t::ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE
    );

    assert_eq!(gr.end(l), (SUCCESS, g));
    assert_eq!(gr.capturing(l), FALSE);
    assert_eq!(
        gr.get(l).0,
        ze_result_t::ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING
    );
    assert_eq!(
        gr.end(l).0,
        ze_result_t::ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING
    );
    assert_eq!(gr.primary(g), (SUCCESS, gr.list(l)));
    // Ending the capture runs nothing either.
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(query(b, copied), ze_result_t::ZE_RESULT_NOT_READY);
    b.finish(c, l);
    assert_eq!(read::<f32>(out, n), vec![-1.0; n]);

    let (r, xg) = gr.instantiate(g);
    assert_eq!(r, SUCCESS);
    assert_eq!(gr.source(xg), g);
    for replay in 1..=4 {
        for e in [launched, copied, done] {
            ok!(b, zeEventHostReset(e));
        }
        assert_eq!(gr.append(l, xg, done, &[]), SUCCESS);
        ok!(b, zeEventHostSynchronize(done, u64::MAX));
        assert_eq!(query(b, launched), SUCCESS);
        assert_eq!(query(b, copied), SUCCESS);
        assert_eq!(
            read::<f32>(out, n),
            vec![replay as f32; n],
            "replay {replay}"
        );
    }
    // After a wait event: in flight until the host signals it.
    ok!(b, zeEventHostReset(done));
    assert_eq!(gr.append(l, xg, done, &[gate]), SUCCESS);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(query(b, done), ze_result_t::ZE_RESULT_NOT_READY);
    assert_eq!(
        gr.destroy_exec(xg),
        ze_result_t::ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE
    );
    assert_eq!(
        gr.destroy(g),
        ze_result_t::ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE
    );
    assert_eq!(read::<f32>(out, n), vec![4.0; n]);
    ok!(b, zeEventHostSignal(gate));
    ok!(b, zeEventHostSynchronize(done, u64::MAX));
    assert_eq!(read::<f32>(out, n), vec![5.0; n]);
    assert_eq!(gr.destroy_exec(xg), SUCCESS);
    assert_eq!(
        gr.destroy_exec(xg),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );

    // The dump: DOT, the commands, the launch's captured arguments.
    let (r, text) = gr.dump(g, None);
    assert_eq!(r, SUCCESS);
    assert!(text.starts_with("digraph"), "{text}");
    for part in [
        "memory fill of 256 bytes",
        "kernel `saxpy`",
        "arg 0: value of 4 bytes: 0x3f800000",
        "arg 1: pointer",
        "memory copy of 256 bytes",
        "n0 -> n1",
        "n1 -> n2",
    ] {
        assert!(text.contains(part), "{part:?} missing from\n{text}");
    }
    let (r, simple) = gr.dump(
        g,
        Some(ze_record_replay_graph_ext_dump_mode_t::ZE_RECORD_REPLAY_GRAPH_EXT_DUMP_MODE_SIMPLE.0),
    );
    assert_eq!(r, SUCCESS);
    assert!(
        simple.contains("kernel `saxpy`") && !simple.contains("arg 0"),
        "{simple}"
    );
    assert_eq!(
        gr.dump(g, Some(7)).0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION
    );

    // Destruction: every callback once.
    let (first, second) = (AtomicU32::new(0), AtomicU32::new(0));
    assert_eq!(gr.on_destroy(g, &first), SUCCESS);
    assert_eq!(gr.on_destroy(g, &second), SUCCESS);
    assert_eq!(gr.destroy(g), SUCCESS);
    assert_eq!(
        (first.load(Ordering::SeqCst), second.load(Ordering::SeqCst)),
        (1, 1)
    );
    assert_eq!(gr.destroy(g), ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert_eq!(
        (first.load(Ordering::SeqCst), second.load(Ordering::SeqCst)),
        (1, 1)
    );

    for e in [launched, copied, done, gate] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    for p in [x, y, out] {
        b.free(c, p);
    }
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
}

/// A fork and its join: a list that waits for an event signalled in the capture joins it,
/// its work must be joined back before the capture ends, and the replays (on any immediate
/// list of the device) run both lists' commands in an order their events allow — including a
/// wait the primary list appended before the forked list's signal. Replays of one executable
/// graph never overlap, even on two lists.
pub fn graph_fork_and_join(b: &Backend) {
    let gr = Graphs::new(b);
    let c = b.context();
    let (l0, l1, l2) = (b.immediate(c, 0), b.immediate(c, 0), b.immediate(c, 0));
    let n = 16usize;
    let (a, a2, a3) = (
        b.alloc_host(c, n * 4),
        b.alloc_host(c, n * 4),
        b.alloc_host(c, n * 4),
    );
    let zero = vec![0u32; n];
    for p in [a, a2, a3] {
        write(p, &zero);
    }
    let pool = b.event_pool(c, 6, 0);
    let [fork, join, late, done, done2, gate] = std::array::from_fn(|i| b.event(pool, i as u32));

    // A graph of zeGraphCreateExt: empty, never captured (no primary list); it instantiates
    // into an executable graph that replays nothing.
    let g = gr.create(c);
    assert_eq!(gr.is_empty(g), TRUE);
    assert_eq!(
        gr.primary(g).0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    let (r, nothing) = gr.instantiate(g);
    assert_eq!(r, SUCCESS);
    assert_eq!(gr.append(l0, nothing, done, &[]), SUCCESS);
    ok!(b, zeEventHostSynchronize(done, u64::MAX));
    // Instantiated: no longer empty enough to capture into.
    assert_eq!(
        gr.begin_into(l0, g),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(gr.destroy_exec(nothing), SUCCESS);

    assert_eq!(gr.begin_into(l0, g), SUCCESS);
    assert_eq!(
        gr.begin_into(l1, g),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    // l0: a = 7, then the fork.
    assert_eq!(fill_u32(b, l0, a, 7, n, fork, &[]), SUCCESS);
    assert_eq!(gr.capturing(l1), FALSE);
    // l1 waits for the fork: it joins the capture.
    assert_eq!(copy(b, l1, a2, a, n * 4, NULL_EVENT, &[fork]), SUCCESS);
    assert_eq!(gr.capturing(l1), TRUE);
    assert_eq!(gr.get(l1), (SUCCESS, g));
    // Only the primary list ends the capture; its fork is not joined yet.
    assert_eq!(gr.end(l1).0, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert_eq!(
        gr.end(l0).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_UNJOINED_FORKS
    );
    assert_eq!(gr.capturing(l0), TRUE);
    assert_eq!(gr.capturing(l1), TRUE);
    // The join: l1 signals, l0 waits. Then l0 waits for `late` before l1 signals it (appended
    // first, it still orders after l1's signal), and copies what l1 wrote after.
    ok!(b, zeCommandListAppendSignalEvent(l1, join));
    let mut waits = [join];
    ok!(
        b,
        zeCommandListAppendWaitOnEvents(l0, 1, waits.as_mut_ptr())
    );
    assert_eq!(barrier(b, l0, NULL_EVENT, &[late]), SUCCESS);
    assert_eq!(fill_u32(b, l1, a2, 9, 1, NULL_EVENT, &[]), SUCCESS);
    // Work after the last join is not joined.
    assert_eq!(
        gr.end(l0).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_UNJOINED_FORKS
    );
    ok!(b, zeCommandListAppendSignalEvent(l1, late));
    assert_eq!(copy(b, l0, a3, a2, n * 4, NULL_EVENT, &[]), SUCCESS);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(read::<u32>(a, n), zero);
    assert_eq!(gr.end(l0), (SUCCESS, g));
    assert_eq!(gr.capturing(l1), FALSE);
    b.finish(c, l1);
    assert_eq!(read::<u32>(a3, n), zero, "a capture runs nothing");

    let (r, xg) = gr.instantiate(g);
    assert_eq!(r, SUCCESS);
    let mut expected = vec![7u32; n];
    expected[0] = 9;
    for list in [l2, l0, l1] {
        for p in [a, a2, a3] {
            write(p, &zero);
        }
        for e in [fork, join, late, done] {
            ok!(b, zeEventHostReset(e));
        }
        assert_eq!(gr.append(list, xg, done, &[]), SUCCESS);
        ok!(b, zeEventHostSynchronize(done, u64::MAX));
        assert_eq!(read::<u32>(a, n), vec![7; n]);
        assert_eq!(read::<u32>(a2, n), expected);
        assert_eq!(read::<u32>(a3, n), expected);
        for e in [fork, join, late] {
            assert_eq!(query(b, e), SUCCESS);
        }
    }
    // One replay at a time: the replay on l2 waits for the one on l0, which waits for `gate`.
    for e in [done, done2] {
        ok!(b, zeEventHostReset(e));
    }
    write(a3, &zero);
    assert_eq!(gr.append(l0, xg, done, &[gate]), SUCCESS);
    assert_eq!(gr.append(l2, xg, done2, &[]), SUCCESS);
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(query(b, done2), ze_result_t::ZE_RESULT_NOT_READY);
    assert_eq!(read::<u32>(a3, n), zero);
    ok!(b, zeEventHostSignal(gate));
    ok!(b, zeEventHostSynchronize(done2, u64::MAX));
    assert_eq!(query(b, done), SUCCESS);
    assert_eq!(read::<u32>(a3, n), expected);

    // The dump shows both lists and the dependencies between them.
    let (r, text) = gr.dump(g, None);
    assert_eq!(r, SUCCESS);
    assert!(
        text.contains("forked command list #1") && text.contains("primary command list"),
        "{text}"
    );
    assert!(text.contains("waits for event E"), "{text}");
    assert_eq!(gr.destroy_exec(xg), SUCCESS);
    assert_eq!(gr.destroy(g), SUCCESS);
    for e in [fork, join, late, done, done2, gate] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    for p in [a, a2, a3] {
        b.free(c, p);
    }
    for l in [l0, l1, l2] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeContextDestroy(c));
}

/// What a capture refuses, with the specification's codes: captures on regular or synchronous
/// lists, two captures at once on a list, appends this driver cannot record (a graph, command
/// lists, a fork by a synchronous list, a merge of two captures) — which invalidate the
/// capture —, dependency cycles, a capture whose primary list is destroyed, and graphs used
/// where they cannot be.
pub fn graph_capture_refusals(b: &Backend) {
    let gr = Graphs::new(b);
    let c = b.context();
    let (l, l2, l3) = (b.immediate(c, 0), b.immediate(c, 0), b.immediate(c, 0));
    let regular = b.list(c, 0);
    let sync = synchronous_immediate(b, c);
    let pool = b.event_pool(c, 4, 0);
    let [e0, e1, e2, e3] = std::array::from_fn(|i| b.event(pool, i as u32));
    let graphs = || b.live().graphs;

    // Where a capture cannot begin, end, or be asked for.
    assert_eq!(
        gr.begin(regular),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        gr.begin(sync),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        gr.end(l).0,
        ze_result_t::ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING
    );
    assert_eq!(
        gr.get(l).0,
        ze_result_t::ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING
    );
    assert_eq!(
        call!(gr.end, gr.list(l), null(), null_mut()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER
    );
    assert_eq!(
        call!(gr.create, null_mut(), null(), null_mut()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE
    );
    assert_eq!(gr.begin(l), SUCCESS);
    assert_eq!(gr.begin(l), ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert_eq!(graphs(), 1);

    // An executable graph appended to a capturing list: refused, and the capture is
    // invalidated; its graph (made by the capture) goes with it.
    let empty = gr.create(c);
    let (r, nothing) = gr.instantiate(empty);
    assert_eq!(r, SUCCESS);
    assert_eq!(
        gr.append(regular, nothing, NULL_EVENT, &[]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        gr.append(l, nothing, NULL_EVENT, &[]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED
    );
    assert_eq!(
        barrier(b, l, NULL_EVENT, &[]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );
    assert_eq!(gr.capturing(l), TRUE);
    assert_eq!(
        gr.end(l).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );
    assert_eq!(gr.capturing(l), FALSE);
    assert_eq!(graphs(), 1, "only the graph of zeGraphCreateExt is left");
    assert_eq!(barrier(b, l, NULL_EVENT, &[]), SUCCESS);

    // Regular lists appended to a capturing list (no APPEND_COMMANDLIST support).
    let append_lists = resolve!(
        b,
        ze_pfnCommandListImmediateAppendCommandListsExp_t,
        c"zeCommandListImmediateAppendCommandListsExp"
    );
    ok!(b, zeCommandListClose(regular));
    assert_eq!(gr.begin(l), SUCCESS);
    let mut lists = [b.native(zel_handle_type_t::ZEL_HANDLE_COMMAND_LIST, regular)];
    assert_eq!(
        call!(
            append_lists,
            gr.list(l),
            1,
            lists.as_mut_ptr(),
            null_mut(),
            0,
            null_mut()
        ),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED
    );
    assert_eq!(
        gr.end(l).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );

    // A synchronous list cannot join a capture by waiting for one of its events.
    assert_eq!(gr.begin(l), SUCCESS);
    assert_eq!(barrier(b, l, e0, &[]), SUCCESS);
    assert_eq!(
        barrier(b, sync, NULL_EVENT, &[e0]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED
    );
    assert_eq!(gr.capturing(sync), FALSE);
    assert_eq!(
        gr.end(l).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );

    // Two captures do not merge.
    assert_eq!(gr.begin(l), SUCCESS);
    assert_eq!(gr.begin(l2), SUCCESS);
    assert_eq!(barrier(b, l, e0, &[]), SUCCESS);
    assert_eq!(barrier(b, l2, e1, &[]), SUCCESS);
    // A third list waiting for both.
    assert_eq!(
        barrier(b, l3, NULL_EVENT, &[e0, e1]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_MERGE_ATTEMPT
    );
    assert_eq!(gr.capturing(l3), FALSE);
    // The second capture waiting for the first's event: it is invalidated, the first is not.
    assert_eq!(
        barrier(b, l2, NULL_EVENT, &[e0]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_MERGE_ATTEMPT
    );
    assert_eq!(
        barrier(b, l2, NULL_EVENT, &[]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );
    assert_eq!(
        gr.end(l2).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );
    let (r, g) = gr.end(l);
    assert_eq!(r, SUCCESS);
    assert_eq!(gr.destroy(g), SUCCESS);

    // A cycle: l waits for e2 (signalled later by l2), signals e0; l2 waits for e0 (a fork)
    // and signals e2.
    for e in [e0, e2] {
        ok!(b, zeEventHostReset(e));
    }
    assert_eq!(gr.begin(l), SUCCESS);
    assert_eq!(barrier(b, l, NULL_EVENT, &[e2]), SUCCESS);
    assert_eq!(barrier(b, l, e0, &[]), SUCCESS);
    assert_eq!(barrier(b, l2, e2, &[e0]), SUCCESS);
    assert_eq!(gr.capturing(l2), TRUE);
    assert_eq!(gr.end(l).0, ze_result_t::ZE_RESULT_ERROR_INVALID_GRAPH);
    assert_eq!(gr.capturing(l2), FALSE);
    // Into a graph of zeGraphCreateExt, which then stays, invalid.
    let g = gr.create(c);
    assert_eq!(gr.begin_into(l, g), SUCCESS);
    assert_eq!(barrier(b, l, NULL_EVENT, &[e2]), SUCCESS);
    assert_eq!(barrier(b, l, e0, &[]), SUCCESS);
    assert_eq!(barrier(b, l2, e2, &[e0]), SUCCESS);
    assert_eq!(gr.end(l).0, ze_result_t::ZE_RESULT_ERROR_INVALID_GRAPH);
    assert_eq!(gr.is_empty(g), ze_result_t::ZE_RESULT_ERROR_INVALID_GRAPH);
    assert_eq!(
        gr.instantiate(g).0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_GRAPH
    );
    assert_eq!(gr.dump(g, None).0, SUCCESS);
    assert_eq!(gr.destroy(g), SUCCESS);

    // The primary list destroyed during a capture: the capture ends there, failed — its
    // graph (made by the capture) destroyed — and its fork leaves capture mode.
    let primary = b.immediate(c, 0);
    assert_eq!(gr.begin(primary), SUCCESS);
    assert_eq!(barrier(b, primary, e3, &[]), SUCCESS);
    assert_eq!(barrier(b, l3, NULL_EVENT, &[e3]), SUCCESS);
    assert_eq!(gr.capturing(l3), TRUE);
    assert_eq!(graphs(), 2);
    ok!(b, zeCommandListDestroy(primary));
    assert_eq!(graphs(), 1);
    assert_eq!(gr.capturing(l3), FALSE);
    ok!(b, zeEventHostSignal(e3));
    assert_eq!(barrier(b, l3, NULL_EVENT, &[e3]), SUCCESS);
    b.finish(c, l3);
    // Into a graph of zeGraphCreateExt: it stays, invalid.
    let primary = b.immediate(c, 0);
    let g = gr.create(c);
    assert_eq!(gr.begin_into(primary, g), SUCCESS);
    assert_eq!(
        gr.destroy(g),
        ze_result_t::ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE
    );
    ok!(b, zeCommandListDestroy(primary));
    assert_eq!(gr.is_empty(g), ze_result_t::ZE_RESULT_ERROR_INVALID_GRAPH);
    assert_eq!(gr.destroy(g), SUCCESS);

    // A graph in use by an executable graph is not destroyed; its executable graph runs on
    // immediate lists of its context only.
    assert_eq!(
        gr.destroy(empty),
        ze_result_t::ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE
    );
    let other = b.context();
    let elsewhere = b.immediate(other, 0);
    assert_eq!(
        gr.append(elsewhere, nothing, NULL_EVENT, &[]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(gr.destroy_exec(nothing), SUCCESS);
    assert_eq!(gr.destroy(empty), SUCCESS);
    assert_eq!(graphs(), 0);

    for e in [e0, e1, e2, e3] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    for l in [l, l2, l3, regular, sync, elsewhere] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeContextDestroy(other));
    ok!(b, zeContextDestroy(c));
}

fn immediate_on(
    b: &Backend,
    c: ze_context_handle_t,
    device: usize,
    ordinal: u32,
) -> ze_command_list_handle_t {
    let desc = Backend::queue_desc(
        ordinal,
        0,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
    );
    let mut l = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(c, b.devices[device], &desc, &mut l)
    );
    l
}

/// Forks and replays across engines and devices: a copy-only list may fork from a compute
/// primary list (its copies replay on the compute engine), a compute list may not fork from a
/// copy-only one, nor a list of another device; a graph replays on its device's engine type
/// only. A replay checks its memory again: one whose memory was freed fails, touching
/// nothing, its events carrying the error.
pub fn graph_engines_devices_and_freed_memory(b: &Backend) {
    let gr = Graphs::new(b);
    let c = b.context();
    // Ordinal 0 computes, ordinal 1 copies (the default queue groups).
    let (compute, copy_only, other_device) = (
        immediate_on(b, c, 0, 0),
        immediate_on(b, c, 0, 1),
        immediate_on(b, c, 1, 0),
    );
    let n = 8usize;
    let (src, dst) = (b.alloc_host(c, n * 4), b.alloc_host(c, n * 4));
    write(dst, &vec![0u32; n]);
    let pool = b.event_pool(c, 3, 0);
    let [fork, join, done] = std::array::from_fn(|i| b.event(pool, i as u32));

    // A list of another device cannot join.
    assert_eq!(gr.begin(compute), SUCCESS);
    assert_eq!(fill_u32(b, compute, src, 3, n, fork, &[]), SUCCESS);
    assert_eq!(
        barrier(b, other_device, NULL_EVENT, &[fork]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED
    );
    assert_eq!(gr.capturing(other_device), FALSE);
    assert_eq!(
        gr.end(compute).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );
    // A compute list cannot fork from a copy-only primary list.
    ok!(b, zeEventHostReset(fork));
    assert_eq!(gr.begin(copy_only), SUCCESS);
    assert_eq!(barrier(b, copy_only, fork, &[]), SUCCESS);
    assert_eq!(
        barrier(b, compute, NULL_EVENT, &[fork]),
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED
    );
    assert_eq!(
        gr.end(copy_only).0,
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED
    );
    // A copy-only list forks from a compute primary list.
    ok!(b, zeEventHostReset(fork));
    assert_eq!(gr.begin(compute), SUCCESS);
    assert_eq!(fill_u32(b, compute, src, 3, n, fork, &[]), SUCCESS);
    assert_eq!(copy(b, copy_only, dst, src, n * 4, join, &[fork]), SUCCESS);
    assert_eq!(gr.capturing(copy_only), TRUE);
    assert_eq!(barrier(b, compute, NULL_EVENT, &[join]), SUCCESS);
    let (r, g) = gr.end(compute);
    assert_eq!(r, SUCCESS);
    let (r, xg) = gr.instantiate(g);
    assert_eq!(r, SUCCESS);
    assert_eq!(
        gr.append(copy_only, xg, NULL_EVENT, &[]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE
    );
    assert_eq!(
        gr.append(other_device, xg, NULL_EVENT, &[]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(gr.append(compute, xg, done, &[]), SUCCESS);
    ok!(b, zeEventHostSynchronize(done, u64::MAX));
    assert_eq!(read::<u32>(dst, n), vec![3; n]);

    // The source freed: the next replay fails before its fill, and the copy is skipped.
    let before = b.sanitizer().freed_memory_accesses;
    b.free(c, src);
    write(dst, &vec![0u32; n]);
    ok!(b, zeEventHostReset(done));
    assert_eq!(gr.append(compute, xg, done, &[]), SUCCESS);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeEventHostSynchronize(done, u64::MAX)
    );
    assert_eq!(b.sanitizer().freed_memory_accesses, before + 1);
    assert_eq!(read::<u32>(dst, n), vec![0; n]);
    if b.has("zeCommandListHostSynchronize") {
        // The list reports the failure once.
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListHostSynchronize(compute, u64::MAX)
        );
        ok!(b, zeCommandListHostSynchronize(compute, u64::MAX));
    }
    assert_eq!(gr.destroy_exec(xg), SUCCESS);
    assert_eq!(gr.destroy(g), SUCCESS);
    for e in [fork, join, done] {
        ok!(b, zeEventDestroy(e));
    }
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, dst);
    for l in [compute, copy_only, other_device] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeContextDestroy(c));
}
