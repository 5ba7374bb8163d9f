//! Graphs: `ZE_extension_record_replay_graph` (Level Zero 1.17), capture on immediate command
//! lists and replay.
//!
//! # Capture
//!
//! `zeCommandListBeginGraphCaptureExt` (into a graph of its own) or
//! `zeCommandListBeginCaptureIntoGraphExt` (into an empty graph of `zeGraphCreateExt`) puts an
//! asynchronous immediate command list — the *primary* list — in capture mode. From then on
//! each command appended to it is recorded into the graph instead of being submitted, as a
//! regular list records it: everything the command uses is captured at append time (a launch's
//! argument values, group size and offset; the ranges of a copy, checked then), and nothing
//! runs. The events the recorded commands signal are not signalled by the capture: the
//! replays signal them (they are the application's events, shared by every replay and every
//! executable graph, as the specification says of regular events).
//!
//! Forks and joins, as the specification describes them: an immediate list that is not
//! capturing and appends a command that waits for an event signalled by a recorded command
//! joins the capture (a *fork*): that command and the list's later ones are recorded too,
//! until the primary list ends the capture. The list must be an asynchronous immediate list
//! of the primary's device and context, and may not be a compute list forked from a copy-only
//! primary (its kernels would replay on the primary's engine). Every piece of work (a command
//! other than a barrier, wait, event signal or reset) recorded on a forked list must be
//! joined: the primary list must depend on it through events (the forked list signals an
//! event after it that the primary list, or a list joined to it, waits for); otherwise
//! `zeCommandListEndGraphCaptureExt` fails with `ZE_RESULT_ERROR_GRAPH_UNJOINED_FORKS` naming
//! the command, and the capture goes on (the application may still join it). A command that
//! waits for an event signalled in another capture is `ZE_RESULT_ERROR_GRAPH_CAPTURE_MERGE_ATTEMPT`.
//!
//! Dependencies: each recorded command depends on the previous command of its list, and on
//! the latest recorded command that signals each event it waits for. A wait for an event that
//! no recorded command has signalled yet depends on the first command of *another* list
//! recorded later that signals it (a wait appended before its signal); if none is recorded, or
//! only on its own list, it is a wait for the application's event when the graph runs.
//! Dependencies that form a cycle make the capture end with `ZE_RESULT_ERROR_INVALID_GRAPH`.
//!
//! # Replay
//!
//! `zeGraphInstantiateExt` makes an executable graph: the recorded commands in one order that
//! honours every dependency (a topological order; among ready commands, the earliest
//! appended). `zeCommandListAppendGraphExt` submits them to an immediate list of the primary's
//! device and engine type (any ordinal of it, as regular lists run on queues), as one
//! submission after the wait events, followed by the signal event: every replay does the
//! recorded work again, with the values captured at append time. Replays of one executable
//! graph never overlap: a replay starts after the previous one (on any list) has completed —
//! an internal event, one per replay and recycled, chains them. The commands of all the
//! capture's lists run one after another on the destination list's worker: a valid execution
//! of the graph, with less concurrency than hardware would give — which matters only to a
//! graph whose lists must run at the same time to make progress (one waits for an event the
//! host signals only after it saw work of another list of the same replay): that replay waits
//! for ever, where hardware would go on. An executable graph with a
//! replay not completed cannot be destroyed (`ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE`, the rule
//! of regular lists), nor can a graph with live executable graphs or a capture in progress.
//!
//! # Refused
//!
//! While a capture is in progress: host synchronisation on recorded work
//! (`zeCommandListHostSynchronize` of a capturing list, `zeEventHostSynchronize` of an event a
//! recorded command signals) is `ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED` (nothing is
//! invalidated: nothing was to be recorded); so are appends this driver cannot record — a graph
//! (`ZE_RECORD_REPLAY_GRAPH_EXT_FLAG_SUBGRAPHS` is not supported), regular command lists
//! (`..._APPEND_COMMANDLIST` is not supported), a fork by a list that cannot join — and those
//! also invalidate the capture, since the graph would no longer be what the application
//! appended: later appends to its lists are `ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED`, and
//! ending it returns that code (a graph of `zeCommandListBeginGraphCaptureExt` is then
//! destroyed, one of `zeGraphCreateExt` stays, invalid: `ZE_RESULT_ERROR_INVALID_GRAPH`). A
//! capture whose primary list is destroyed ends the same way, there and then. Mutable graphs
//! and counter-based events are not implemented: only
//! `ZE_RECORD_REPLAY_GRAPH_EXT_FLAG_IMMUTABLE_GRAPH` is reported.
//!
//! The driver's side of this: `list.rs` calls [`divert`] where an immediate list would submit a
//! command, [`refuse_append`] before appending regular lists, [`refuse_host_sync`] in
//! `zeCommandListHostSynchronize`, [`list_destroyed`] in `zeCommandListDestroy`; `event.rs`
//! calls [`refuse_event_host_sync`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::ffi::{CStr, c_char, c_void};
use std::fmt::Write as _;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::driver::Instance;
use crate::event::{Event, sync_event};
use crate::exec::{ArgSlot, Command, GroupCounts, InUse, Op};
use crate::ffi::{self, ZeResult, bail, entry_points, fail};
use crate::handles::{self, Object};
use crate::list::CommandList;
use crate::sync::lock;

/// The extension's name.
pub(crate) const EXT_NAME: &CStr = c_name(ZE_RECORD_REPLAY_GRAPH_EXT_NAME);

/// The extension's version.
pub(crate) const EXT_VERSION: u32 =
    ze_record_replay_graph_ext_version_t::ZE_RECORD_REPLAY_GRAPH_EXT_VERSION_1_0.0;

/// What `ze_record_replay_graph_ext_properties_t` reports: immutable graphs only (no mutable
/// graphs, subgraphs, command lists appended into a graph, IPC counter-based events).
pub(crate) const GRAPH_FLAGS: ze_record_replay_graph_ext_flags_t =
    ze_record_replay_graph_ext_flag_t::ZE_RECORD_REPLAY_GRAPH_EXT_FLAG_IMMUTABLE_GRAPH.0;

fn advertised(instance: &Instance) -> bool {
    instance.has_extension(&EXT_NAME.to_string_lossy())
}

/// The structures of a `ze_device_properties_t` chain filled by [`fill_device_properties`].
pub(crate) fn device_properties_filled(instance: &Instance) -> &'static [u32] {
    if advertised(instance) {
        &[ze_structure_type_t::ZE_STRUCTURE_TYPE_RECORD_REPLAY_GRAPH_EXT_PROPERTIES.0]
    } else {
        &[]
    }
}

/// Fills a chained `ze_record_replay_graph_ext_properties_t` of `zeDeviceGetProperties`.
///
/// # Safety
///
/// `next` is the chain of the caller's properties structure, checked by
/// [`ffi::fill_extended`] with [`device_properties_filled`].
pub(crate) unsafe fn fill_device_properties(instance: &Instance, next: *mut c_void) {
    if advertised(instance) {
        let props = ze_record_replay_graph_ext_properties_t {
            graphFlags: GRAPH_FLAGS,
            ..Default::default()
        };
        // SAFETY: forwarded to the caller.
        unsafe { crate::chain::fill_chained(next, props) };
    }
}

/// The extension's functions, for `zeDriverGetExtensionFunctionAddress` (name, extension,
/// address): loaders older than 1.17 (Debian's 1.8.12) have no graph DDI tables.
pub(crate) fn extension_functions() -> [(&'static CStr, &'static CStr, *mut c_void); 15] {
    [
        (
            c"zeGraphCreateExt",
            EXT_NAME,
            zeGraphCreateExt as *mut c_void,
        ),
        (
            c"zeCommandListBeginGraphCaptureExt",
            EXT_NAME,
            zeCommandListBeginGraphCaptureExt as *mut c_void,
        ),
        (
            c"zeCommandListBeginCaptureIntoGraphExt",
            EXT_NAME,
            zeCommandListBeginCaptureIntoGraphExt as *mut c_void,
        ),
        (
            c"zeCommandListIsGraphCaptureEnabledExt",
            EXT_NAME,
            zeCommandListIsGraphCaptureEnabledExt as *mut c_void,
        ),
        (
            c"zeCommandListEndGraphCaptureExt",
            EXT_NAME,
            zeCommandListEndGraphCaptureExt as *mut c_void,
        ),
        (
            c"zeCommandListGetGraphExt",
            EXT_NAME,
            zeCommandListGetGraphExt as *mut c_void,
        ),
        (
            c"zeGraphGetPrimaryCommandListExt",
            EXT_NAME,
            zeGraphGetPrimaryCommandListExt as *mut c_void,
        ),
        (
            c"zeGraphSetDestructionCallbackExt",
            EXT_NAME,
            zeGraphSetDestructionCallbackExt as *mut c_void,
        ),
        (
            c"zeGraphInstantiateExt",
            EXT_NAME,
            zeGraphInstantiateExt as *mut c_void,
        ),
        (
            c"zeCommandListAppendGraphExt",
            EXT_NAME,
            zeCommandListAppendGraphExt as *mut c_void,
        ),
        (
            c"zeExecutableGraphGetSourceGraphExt",
            EXT_NAME,
            zeExecutableGraphGetSourceGraphExt as *mut c_void,
        ),
        (
            c"zeGraphIsEmptyExt",
            EXT_NAME,
            zeGraphIsEmptyExt as *mut c_void,
        ),
        (
            c"zeGraphDumpContentsExt",
            EXT_NAME,
            zeGraphDumpContentsExt as *mut c_void,
        ),
        (
            c"zeExecutableGraphDestroyExt",
            EXT_NAME,
            zeExecutableGraphDestroyExt as *mut c_void,
        ),
        (
            c"zeGraphDestroyExt",
            EXT_NAME,
            zeGraphDestroyExt as *mut c_void,
        ),
    ]
}

/// Where a command list's capture state lives: the graph it records into while it takes part
/// in a capture (as the primary list or a fork). A field of every command list.
#[derive(Default)]
pub(crate) struct CaptureSlot(Slot);

type Slot = Arc<Mutex<Option<Arc<Graph>>>>;

/// The captures in progress (of every instance), and their number: appends of lists that are
/// not capturing look here only when it is not zero.
static ACTIVE: Mutex<Vec<Arc<Graph>>> = Mutex::new(Vec::new());
static ACTIVE_COUNT: AtomicUsize = AtomicUsize::new(0);

fn activate(graph: &Arc<Graph>) {
    let mut active = lock(&ACTIVE);
    active.push(graph.clone());
    ACTIVE_COUNT.store(active.len(), Ordering::Release);
}

fn deactivate(graph: &Graph) {
    let mut active = lock(&ACTIVE);
    active.retain(|g| !std::ptr::eq(&**g, graph));
    ACTIVE_COUNT.store(active.len(), Ordering::Release);
}

/// The captures in progress (a copy: no lock is held while they are looked at).
fn active() -> Vec<Arc<Graph>> {
    if ACTIVE_COUNT.load(Ordering::Acquire) == 0 {
        return Vec::new();
    }
    lock(&ACTIVE).clone()
}

/// An event's identity while a capture or graph holds it (its address: the `Arc` it was
/// recorded with keeps it from being reused).
fn key(event: &Arc<Event>) -> usize {
    Arc::as_ptr(event) as usize
}

/// The events a command signals.
fn signalled(command: &Command) -> impl Iterator<Item = &Arc<Event>> {
    let op = match &command.op {
        Op::Signal(e) => Some(e),
        _ => None,
    };
    op.into_iter().chain(command.signal.as_ref())
}

/// Whether a command does work (what must be joined): anything but barriers, waits, event
/// signals and resets.
fn is_work(command: &Command) -> bool {
    !matches!(command.op, Op::Nop | Op::Signal(_) | Op::Reset(_))
}

/// A graph: what `ze_graph_handle_t` designates.
pub(crate) struct Graph {
    instance: &'static Instance,
    handle: u64,
    context: Arc<Context>,
    child: Child,
    /// Made by `zeCommandListBeginGraphCaptureExt`: owned by the driver until the capture ends
    /// (destroyed with a capture that fails).
    implicit: bool,
    inner: Mutex<Inner>,
    /// Destruction callbacks: function and user data (an address).
    callbacks: Mutex<Vec<(unsafe extern "C" fn(*mut c_void), usize)>>,
}

struct Inner {
    phase: Phase,
    /// The handle of the primary command list of its capture, once one began.
    primary: Option<u64>,
    /// Executable graphs instantiated from it that are alive.
    executables: u32,
}

enum Phase {
    /// Nothing recorded, no capture (made by `zeGraphCreateExt`).
    Empty,
    Recording(Box<Recording>),
    Recorded(Arc<Recorded>),
    /// Its capture failed: why.
    Invalid(String),
}

/// A capture in progress.
struct Recording {
    primary: Weak<CommandList>,
    /// The primary list's device, and whether its group computes: where replays run.
    device: usize,
    computes: bool,
    /// The lists taking part: the primary first, then the forks in the order they joined.
    members: Vec<Member>,
    nodes: Vec<Node>,
    /// Event → the recorded commands that signal it, in append order.
    signalers: HashMap<usize, Vec<usize>>,
    /// Event → the recorded commands that waited for it before any recorded command signalled
    /// it (resolved by the first later signal of another list).
    pending: HashMap<usize, Vec<usize>>,
    /// Why the capture was invalidated (code and reason), if it was.
    invalidated: Option<String>,
}

struct Member {
    slot: Slot,
    /// Its last recorded command.
    last: Option<usize>,
}

struct Node {
    member: usize,
    command: Command,
    /// The recorded commands it depends on.
    deps: Vec<usize>,
}

/// A captured graph, as replays run it.
struct Recorded {
    /// The commands in replay order (a topological order of the dependencies).
    commands: Arc<[Command]>,
    /// Per command: its list (0: the primary) and the commands it depends on.
    meta: Vec<(usize, Vec<usize>)>,
    /// The lists that took part.
    lists: usize,
    /// The primary list's device and engine type: where replays may run.
    device: usize,
    computes: bool,
}

/// Why a capture cannot end: its code, its reason, and whether the capture goes on.
struct EndFailure {
    code: ze_result_t,
    reason: String,
    goes_on: bool,
}

impl Recording {
    fn member_name(&self, m: usize) -> String {
        if m == 0 {
            "the primary command list".into()
        } else {
            format!("forked command list #{m}")
        }
    }

    /// Records a command of member `m` with its dependencies.
    fn add(&mut self, m: usize, command: Command) {
        let n = self.nodes.len();
        let mut deps: Vec<usize> = self.members[m].last.into_iter().collect();
        for e in &command.waits {
            let k = key(e);
            match self.signalers.get(&k).and_then(|s| s.last()) {
                Some(&s) => deps.push(s),
                None => self.pending.entry(k).or_default().push(n),
            }
        }
        for e in signalled(&command) {
            let k = key(e);
            if let Some(waiters) = self.pending.get_mut(&k) {
                // A wait appended before this signal: of another list, it waits for this one;
                // of this list, it is a wait for the application's event (an in-order list
                // cannot wait for its own later command).
                let (others, own): (Vec<usize>, Vec<usize>) =
                    waiters.iter().partition(|&&w| self.nodes[w].member != m);
                for w in others {
                    self.nodes[w].deps.push(n);
                }
                if own.is_empty() {
                    self.pending.remove(&k);
                } else {
                    *waiters = own;
                }
            }
            self.signalers.entry(k).or_default().push(n);
        }
        deps.sort_unstable();
        deps.dedup();
        self.nodes.push(Node {
            member: m,
            command,
            deps,
        });
        self.members[m].last = Some(n);
    }

    /// The replay order, once the capture may end: every dependency before its dependents,
    /// no cycle, every forked list's work joined to the primary list.
    fn order(&self) -> Result<Vec<usize>, EndFailure> {
        let n = self.nodes.len();
        let mut next = vec![Vec::new(); n];
        let mut waiting = vec![0usize; n];
        for (i, node) in self.nodes.iter().enumerate() {
            for &d in &node.deps {
                next[d].push(i);
                waiting[i] += 1;
            }
        }
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(i)) = ready.pop() {
            order.push(i);
            for &s in &next[i] {
                waiting[s] -= 1;
                if waiting[s] == 0 {
                    ready.push(Reverse(s));
                }
            }
        }
        if order.len() < n {
            let i = (0..n).find(|&i| waiting[i] > 0).unwrap_or(0);
            return Err(EndFailure {
                code: ze_result_t::ZE_RESULT_ERROR_INVALID_GRAPH,
                reason: format!(
                    "the recorded dependencies form a cycle: command #{i} ({}, on {}) waits, through events, for commands that depend on it",
                    describe_op(&self.nodes[i].command),
                    self.member_name(self.nodes[i].member)
                ),
                goes_on: false,
            });
        }
        // Joined: the primary list depends on it (or it is the primary list's).
        let mut joined = vec![false; n];
        for &i in order.iter().rev() {
            joined[i] = self.nodes[i].member == 0 || next[i].iter().any(|&s| joined[s]);
        }
        if let Some(i) = (0..n).find(|&i| !joined[i] && is_work(&self.nodes[i].command)) {
            return Err(EndFailure {
                code: ze_result_t::ZE_RESULT_ERROR_GRAPH_UNJOINED_FORKS,
                reason: format!(
                    "command #{i} ({}) of {} is not joined: the primary list does not wait for it (signal an event after it on that list and wait for it on the primary list); the capture goes on",
                    describe_op(&self.nodes[i].command),
                    self.member_name(self.nodes[i].member)
                ),
                goes_on: true,
            });
        }
        Ok(order)
    }

    /// The graph replays run, in `order`.
    fn into_recorded(self, order: &[usize]) -> Recorded {
        let mut position = vec![0; self.nodes.len()];
        for (p, &i) in order.iter().enumerate() {
            position[i] = p;
        }
        let mut nodes: Vec<Option<Node>> = self.nodes.into_iter().map(Some).collect();
        let mut commands = Vec::with_capacity(order.len());
        let mut meta = Vec::with_capacity(order.len());
        for &i in order {
            let node = nodes[i]
                .take()
                .expect("each node once in a topological order");
            let mut deps: Vec<usize> = node.deps.iter().map(|&d| position[d]).collect();
            deps.sort_unstable();
            meta.push((node.member, deps));
            commands.push(node.command);
        }
        Recorded {
            commands: Arc::from(commands),
            meta,
            lists: self.members.len(),
            device: self.device,
            computes: self.computes,
        }
    }

    /// Ends capture mode on every list that took part.
    fn release_members(&self) {
        for m in &self.members {
            *lock(&m.slot) = None;
        }
    }
}

/// How a list takes part in the capture a command belongs to.
enum Role {
    /// It is a list of the capture already.
    Member,
    /// It joins it with this command.
    Fork,
}

impl Graph {
    fn create(context: &Arc<Context>, implicit: bool) -> Arc<Graph> {
        let handle = handles::reserve_for::<Arc<Graph>>();
        let graph = Arc::new(Graph {
            instance: context.instance,
            handle,
            context: context.clone(),
            child: Child::of(context),
            implicit,
            inner: Mutex::new(Inner {
                phase: Phase::Empty,
                primary: None,
                executables: 0,
            }),
            callbacks: Mutex::new(Vec::new()),
        });
        handles::register(handle, Object::Graph(graph.clone()));
        context.instance.live.graphs.fetch_add(1, Ordering::Relaxed);
        graph
    }

    /// Whether its capture, in progress, recorded a command that signals one of `events`.
    fn signals_any(&self, events: &[usize]) -> bool {
        match &lock(&self.inner).phase {
            Phase::Recording(r) => events.iter().any(|k| r.signalers.contains_key(k)),
            _ => false,
        }
    }

    /// Invalidates its capture in progress (the first reason is kept).
    fn invalidate(&self, code: ze_result_t, reason: &str) {
        if let Phase::Recording(r) = &mut lock(&self.inner).phase {
            r.invalidated
                .get_or_insert_with(|| format!("{code}: {reason}"));
        }
    }

    /// Ends a capture that failed: its lists leave capture mode; the graph becomes invalid,
    /// or, made by `zeCommandListBeginGraphCaptureExt`, is destroyed (the application never
    /// owned it).
    fn fail_capture(self: &Arc<Self>, mut inner: MutexGuard<'_, Inner>, reason: String) {
        if let Phase::Recording(r) = std::mem::replace(&mut inner.phase, Phase::Invalid(reason)) {
            r.release_members();
        }
        drop(inner);
        deactivate(self);
        if self.implicit && handles::unregister(self.handle).is_some() {
            self.teardown();
        }
    }

    /// Records a command of `list`; gives it back if the capture ended meanwhile (by another
    /// thread), for the list to submit it.
    fn record(
        self: &Arc<Self>,
        list: &CommandList,
        role: Role,
        command: Command,
    ) -> ZeResult<Option<Command>> {
        let mut inner = lock(&self.inner);
        let Phase::Recording(rec) = &mut inner.phase else {
            return Ok(Some(command));
        };
        if let Some(why) = &rec.invalidated {
            bail!(
                ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED,
                "the capture into graph {:#x} was invalidated ({why}); end it on its primary list",
                self.handle
            );
        }
        let m = match role {
            Role::Member => {
                let Some(m) = rec
                    .members
                    .iter()
                    .position(|m| Arc::ptr_eq(&m.slot, &list.capture.0))
                else {
                    bail!(
                        ZE_RESULT_ERROR_UNKNOWN,
                        "internal error in level-zero-cpu: the command list records into graph {:#x} but is none of its capture's lists",
                        self.handle
                    );
                };
                m
            }
            Role::Fork => {
                if let Err(why) = self.admit(rec, list) {
                    let reason = format!(
                        "a command list waiting for an event signalled in the capture into graph {:#x} cannot join it: {why}",
                        self.handle
                    );
                    rec.invalidated.get_or_insert_with(|| {
                        format!("ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED: {reason}")
                    });
                    bail!(
                        ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED,
                        "{reason}; the capture is invalidated"
                    );
                }
                rec.members.push(Member {
                    slot: list.capture.0.clone(),
                    last: None,
                });
                *lock(&list.capture.0) = Some(self.clone());
                rec.members.len() - 1
            }
        };
        rec.add(m, command);
        Ok(None)
    }

    /// Whether `list` may join the capture as a fork: why not.
    fn admit(&self, rec: &Recording, list: &CommandList) -> Result<(), String> {
        if list.synchronous() != Some(false) {
            return Err("it is not an asynchronous immediate command list".into());
        }
        if !std::ptr::eq(list.instance, self.instance) || list.device.index != rec.device {
            return Err("it is a command list of another device than the primary list's".into());
        }
        if list.context.handle != self.context.handle {
            return Err("it is a command list of another context than the graph's".into());
        }
        if !rec.computes && crate::device::group_computes(&list.device, list.ordinal) {
            return Err(format!(
                "it is a compute list (group {}) and the primary list is copy-only: its kernels could not replay on the primary's engine",
                list.ordinal
            ));
        }
        Ok(())
    }

    /// Destroys what the handle designated (the handle is already gone): calls the destruction
    /// callbacks, once each, and gives the counts back.
    fn teardown(&self) {
        let callbacks = std::mem::take(&mut *lock(&self.callbacks));
        for (f, user) in callbacks {
            // SAFETY: the application's callback, called with its own user data as the
            // specification says (once, when the graph is destroyed).
            unsafe { f(user as *mut c_void) };
        }
        self.instance.live.graphs.fetch_sub(1, Ordering::Relaxed);
        self.child.release();
    }
}

/// The graph `list` records into, if it takes part in a capture.
fn capturing(list: &CommandList) -> ZeResult<Option<Arc<Graph>>> {
    let Some(graph) = lock(&list.capture.0).clone() else {
        return Ok(None);
    };
    let recording = matches!(lock(&graph.inner).phase, Phase::Recording(_));
    // Not recording: ended by another thread meanwhile.
    Ok(recording.then_some(graph))
}

/// `zeCommandListDestroy`: a capture whose primary list it was ends, failed — its graph is
/// destroyed if the capture made it, invalid otherwise — and the lists forked into it leave
/// capture mode. (A forked list destroyed keeps what it recorded.)
pub(crate) fn list_destroyed(list: &CommandList) {
    let Some(graph) = lock(&list.capture.0).clone() else {
        return;
    };
    let inner = lock(&graph.inner);
    if let Phase::Recording(r) = &inner.phase
        && std::ptr::eq(r.primary.as_ptr(), list)
    {
        let reason = "its primary command list was destroyed during the capture".to_string();
        graph.fail_capture(inner, reason);
    }
}

/// The capture a command of `list` that waits for `waits` belongs to, if any: the list's own,
/// or one it joins by waiting for an event signalled in it.
fn session<'a>(
    list: &CommandList,
    waits: impl Iterator<Item = &'a Arc<Event>>,
) -> ZeResult<Option<(Arc<Graph>, Role)>> {
    let own = capturing(list)?;
    if own.is_none() && ACTIVE_COUNT.load(Ordering::Acquire) == 0 {
        return Ok(None);
    }
    let keys: Vec<usize> = waits.map(key).collect();
    let mut others: Vec<Arc<Graph>> = Vec::new();
    if !keys.is_empty() {
        for g in active() {
            if own.as_ref().is_some_and(|o| Arc::ptr_eq(o, &g)) {
                continue;
            }
            if g.signals_any(&keys) {
                others.push(g);
            }
        }
    }
    match (own, others.pop()) {
        (Some(own), None) => Ok(Some((own, Role::Member))),
        (Some(own), Some(other)) => {
            let reason = format!(
                "a command list capturing into graph {:#x} waits for an event signalled in the capture into graph {:#x}: two captures cannot merge",
                own.handle, other.handle
            );
            own.invalidate(
                ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_MERGE_ATTEMPT,
                &reason,
            );
            bail!(
                ZE_RESULT_ERROR_GRAPH_CAPTURE_MERGE_ATTEMPT,
                "{reason}; the capture is invalidated"
            )
        }
        (None, None) => Ok(None),
        (None, Some(g)) if others.is_empty() => Ok(Some((g, Role::Fork))),
        (None, Some(g)) => bail!(
            ZE_RESULT_ERROR_GRAPH_CAPTURE_MERGE_ATTEMPT,
            "the command waits for events signalled in two captures (graphs {:#x} and {:#x}): it would merge them",
            g.handle,
            others[0].handle
        ),
    }
}

/// Where an immediate list would submit `command`: records it instead if the list takes part
/// in a capture, or joins one by waiting for an event signalled in it. `Ok(None)`: recorded;
/// `Ok(Some(command))`: not capturing, submit it.
pub(crate) fn divert(list: &CommandList, command: Command) -> ZeResult<Option<Command>> {
    match session(list, command.waits.iter())? {
        None => Ok(Some(command)),
        Some((graph, role)) => graph.record(list, role, command),
    }
}

/// Refuses, with `ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED`, an append `what` that would be
/// recorded (on a capturing list, or one that joins a capture by waiting for `waits`) but that
/// this driver cannot record; the capture is invalidated.
pub(crate) fn refuse_append<'a>(
    list: &CommandList,
    waits: impl Iterator<Item = &'a Arc<Event>>,
    what: &str,
) -> ZeResult {
    let Some((graph, role)) = session(list, waits)? else {
        return Ok(());
    };
    let how = match role {
        Role::Member => "on a list capturing into graph",
        Role::Fork => "by a list that would join (through its wait events) the capture into graph",
    };
    let reason = format!("{what} {how} {:#x} cannot be recorded", graph.handle);
    graph.invalidate(
        ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED,
        &reason,
    );
    bail!(
        ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED,
        "{reason}; the capture is invalidated"
    )
}

/// `zeCommandListHostSynchronize` of a list that takes part in a capture:
/// `ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED` (its recorded work runs only when the graph is
/// replayed).
pub(crate) fn refuse_host_sync(list: &CommandList) -> ZeResult {
    if let Some(graph) = capturing(list)? {
        bail!(
            ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED,
            "the command list is capturing into graph {:#x}: host synchronisation is not supported during a capture (the recorded work runs only when the graph is replayed)",
            graph.handle
        );
    }
    Ok(())
}

/// `zeEventHostSynchronize` of an event that a command recorded by a capture in progress
/// signals: `ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED` (only replays signal it).
pub(crate) fn refuse_event_host_sync(event: &Arc<Event>) -> ZeResult {
    let k = [key(event)];
    if let Some(g) = active().into_iter().find(|g| g.signals_any(&k)) {
        bail!(
            ZE_RESULT_ERROR_GRAPH_CAPTURE_UNSUPPORTED,
            "the event is signalled by a command recorded into graph {:#x}, whose capture is in progress: host synchronisation on recorded work is not supported (only replays of the graph signal it)",
            g.handle
        );
    }
    Ok(())
}

/// Begins a capture on `hCommandList`, into `graph` or a graph of its own.
fn begin(
    hCommandList: ze_command_list_handle_t,
    graph: Option<Arc<Graph>>,
    pNext: *const c_void,
    call: &str,
) -> ZeResult {
    let list: Arc<CommandList> = handles::get(hCommandList)?;
    // SAFETY: a chain of Level Zero structures (caller's contract); none is honoured.
    unsafe { crate::chain::input_next(call, pNext, &[])? };
    match list.synchronous() {
        None => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "graphs are captured on immediate command lists; this is a regular one"
        ),
        Some(true) => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "a synchronous immediate command list cannot capture a graph (its appends wait for their execution)"
        ),
        Some(false) => {}
    }
    if let Some(g) = capturing(&list)? {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "the command list is already capturing into graph {:#x}",
            g.handle
        );
    }
    list.device.check_alive()?;
    let graph = match graph {
        Some(g) => {
            if !std::ptr::eq(g.instance, list.instance) || g.context.handle != list.context.handle {
                bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "graph {:#x} belongs to another context than the command list",
                    g.handle
                );
            }
            g
        }
        None => Graph::create(&list.context, true),
    };
    {
        let mut inner = lock(&graph.inner);
        let empty = match &inner.phase {
            Phase::Empty => inner.executables == 0,
            Phase::Recorded(r) => r.commands.is_empty() && inner.executables == 0,
            Phase::Recording(_) | Phase::Invalid(_) => false,
        };
        if !empty {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "graph {:#x} is not empty (recorded, being captured, instantiated or invalid): a capture begins only into an empty graph",
                graph.handle
            );
        }
        let slot = list.capture.0.clone();
        inner.phase = Phase::Recording(Box::new(Recording {
            primary: Arc::downgrade(&list),
            device: list.device.index,
            computes: crate::device::group_computes(&list.device, list.ordinal),
            members: vec![Member {
                slot: slot.clone(),
                last: None,
            }],
            nodes: Vec::new(),
            signalers: HashMap::new(),
            pending: HashMap::new(),
            invalidated: None,
        }));
        inner.primary = Some(hCommandList as usize as u64);
        *lock(&slot) = Some(graph.clone());
    }
    activate(&graph);
    Ok(())
}

/// An event of the executable graph's own (no handle, not counted as a live object): made and
/// released through the entry points, so that it is an event like any other.
fn internal_event(context: &Context) -> ZeResult<Arc<Event>> {
    let desc = ze_event_pool_desc_t {
        count: 1,
        ..Default::default()
    };
    let mut pool: ze_event_pool_handle_t = null_mut();
    // SAFETY: a valid descriptor and outputs; the context is live (the graph holds it, and
    // counts as one of its children).
    let r = unsafe {
        crate::event::zeEventPoolCreate(
            handles::raw(context.handle),
            &desc,
            0,
            null_mut(),
            &mut pool,
        )
    };
    if r != ze_result_t::ZE_RESULT_SUCCESS {
        return Err(r);
    }
    let edesc = ze_event_desc_t::default();
    let mut raw: ze_event_handle_t = null_mut();
    // SAFETY: the pool just made, a valid descriptor and output.
    let r = unsafe { crate::event::zeEventCreate(pool, &edesc, &mut raw) };
    let event = if r == ze_result_t::ZE_RESULT_SUCCESS {
        let event = handles::get::<Arc<Event>, _>(raw);
        // SAFETY: the event just made; the handle goes, the object lives on in `event`.
        let r = unsafe { crate::event::zeEventDestroy(raw) };
        event.and_then(|e| {
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                Ok(e)
            } else {
                Err(r)
            }
        })
    } else {
        Err(r)
    };
    // SAFETY: the pool just made, without events now.
    let r = unsafe { crate::event::zeEventPoolDestroy(pool) };
    if r != ze_result_t::ZE_RESULT_SUCCESS {
        return Err(r);
    }
    event
}

/// An executable graph: what `ze_executable_graph_handle_t` designates.
pub(crate) struct ExecutableGraph {
    instance: &'static Instance,
    graph: Arc<Graph>,
    /// What it replays (`None`: a graph never captured, which replays nothing).
    recorded: Option<Arc<Recorded>>,
    commands: Arc<[Command]>,
    /// Replays appended and not completed (see [`InUse`]).
    executions: Arc<AtomicU32>,
    replays: Mutex<Replays>,
}

/// The chain that keeps replays from overlapping: each replay waits for the previous one's
/// completion event and signals its own.
#[derive(Default)]
struct Replays {
    /// Completion events of the latest replays, oldest first.
    done: VecDeque<Arc<Event>>,
    /// Completion events no replay waits for any more, reset, for the next replays.
    spare: Vec<Arc<Event>>,
}

/// Escapes text for a DOT string.
fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A one-line description of a command's operation.
fn describe_op(command: &Command) -> String {
    match &command.op {
        Op::Copy { dst, .. } => format!("memory copy of {} bytes", dst.len),
        Op::CopyRegion { extent, .. } => format!(
            "region copy of {} bytes x {} rows x {} slices",
            extent[0], extent[1], extent[2]
        ),
        Op::Fill { dst, pattern } => format!(
            "memory fill of {} bytes with a {}-byte pattern",
            dst.len,
            pattern.len()
        ),
        Op::Timestamp { .. } => "global timestamp write".into(),
        Op::Launch(l) => format!("kernel `{}`", l.kernel),
        Op::Image(_) => "image copy".into(),
        Op::QueryTimestamps(q) => format!("kernel timestamp query of {} events", q.len()),
        Op::Nop if command.waits.is_empty() => "barrier".into(),
        Op::Nop => "wait".into(),
        Op::Signal(_) => "event signal".into(),
        Op::Reset(_) => "event reset".into(),
        Op::HostFunction(_) => "host function".into(),
    }
}

/// Bytes as a hexadecimal number (little-endian, as the device reads them), or as a byte
/// list when longer than 8.
fn hex(bytes: &[u8]) -> String {
    if bytes.len() <= 8 {
        let mut s = String::from("0x");
        for b in bytes.iter().rev() {
            let _ = write!(s, "{b:02x}");
        }
        s
    } else {
        let shown: Vec<String> = bytes.iter().take(32).map(|b| format!("{b:02x}")).collect();
        let more = if bytes.len() > 32 { " ..." } else { "" };
        format!("[{}{more}]", shown.join(" "))
    }
}

/// The label of a command in a dump.
fn label(
    instance: &Instance,
    index: usize,
    command: &Command,
    detailed: bool,
    events: &mut HashMap<usize, usize>,
) -> String {
    let mut s = format!("#{index} {}", describe_op(command));
    if !detailed {
        return s;
    }
    let mut event = |e: &Arc<Event>| {
        let n = events.len();
        format!("event E{}", *events.entry(key(e)).or_insert(n))
    };
    match &command.op {
        Op::Copy { dst, src } => {
            let _ = write!(s, "\n{:#x} <- {:#x}", dst.addr, src.addr);
        }
        Op::CopyRegion { dst, src, .. } => {
            let _ = write!(
                s,
                "\ndst {:#x} origin {:?} pitch {} slice pitch {}\nsrc {:#x} origin {:?} pitch {} slice pitch {}",
                dst.base,
                dst.origin,
                dst.pitch,
                dst.slice_pitch,
                src.base,
                src.origin,
                src.pitch,
                src.slice_pitch
            );
        }
        Op::Fill { dst, pattern } => {
            let _ = write!(s, "\nat {:#x}, pattern {}", dst.addr, hex(pattern));
        }
        Op::Timestamp { dst } => {
            let _ = write!(s, "\nto {:#x}", dst.addr);
        }
        Op::Launch(l) => {
            match &l.counts {
                GroupCounts::Direct(c) => {
                    let _ = write!(s, "\ngroups {}x{}x{}", c[0], c[1], c[2]);
                }
                GroupCounts::Indirect(span) => {
                    let _ = write!(s, "\ngroup counts read from {:#x}", span.addr);
                }
            }
            let g = l.group_size;
            let _ = write!(s, " of {}x{}x{} work-items", g[0], g[1], g[2]);
            if l.offset != [0; 3] {
                let _ = write!(s, ", global offset {:?}", l.offset);
            }
            for (i, a) in l.args.iter().enumerate() {
                let _ = write!(s, "\narg {i}: ");
                match a {
                    ArgSlot::Bytes(b) => {
                        let value = (b.len() == 8)
                            .then(|| u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])));
                        match value.and_then(|v| instance.memory.find(v as usize)) {
                            Some(alloc) => {
                                let kind = match alloc.kind {
                                    crate::memory::Kind::Host => "host",
                                    crate::memory::Kind::Device => "device",
                                    crate::memory::Kind::Shared => "shared",
                                };
                                let _ = write!(
                                    s,
                                    "pointer {} into a {kind} allocation of {} bytes at {:#x}",
                                    hex(b),
                                    alloc.size,
                                    alloc.base()
                                );
                            }
                            None => {
                                let _ = write!(s, "value of {} bytes: {}", b.len(), hex(b));
                            }
                        }
                    }
                    ArgSlot::Local(n) => {
                        let _ = write!(s, "local memory of {n} bytes");
                    }
                    ArgSlot::Image(_) => s.push_str("image"),
                    ArgSlot::Sampler(_) => s.push_str("sampler"),
                }
            }
        }
        Op::Signal(e) | Op::Reset(e) => {
            let _ = write!(s, "\n{}", event(e));
        }
        Op::QueryTimestamps(q) => {
            let names: Vec<String> = q.iter().map(|(e, _)| event(e)).collect();
            let _ = write!(s, "\nof {}", names.join(", "));
        }
        Op::Image(_) | Op::Nop | Op::HostFunction(_) => {}
    }
    if !command.waits.is_empty() {
        let names: Vec<String> = command.waits.iter().map(&mut event).collect();
        let _ = write!(s, "\nwaits for {}", names.join(", "));
    }
    if let Some(e) = &command.signal {
        let _ = write!(s, "\nsignals {}", event(e));
    }
    s
}

/// A DOT description of a graph's commands: `(list, command, dependencies)` in order.
fn dot<'a>(
    graph: &Graph,
    state: &str,
    lists: usize,
    nodes: impl Iterator<Item = (usize, &'a Command, &'a [usize])>,
    detailed: bool,
) -> String {
    let mut events = HashMap::new();
    let mut out = format!("digraph graph_{:x} {{\n", graph.handle);
    let mut clusters: Vec<Vec<usize>> = vec![Vec::new(); lists];
    let mut edges = String::new();
    let mut body = String::new();
    let mut count = 0;
    for (i, (member, command, deps)) in nodes.enumerate() {
        count += 1;
        let text = label(graph.instance, i, command, detailed, &mut events);
        let _ = writeln!(body, "  n{i} [label=\"{}\"];", dot_escape(&text));
        if let Some(c) = clusters.get_mut(member) {
            c.push(i);
        }
        for d in deps {
            let _ = writeln!(edges, "  n{d} -> n{i};");
        }
    }
    let _ = writeln!(
        out,
        "  label=\"{}\";",
        dot_escape(&format!(
            "level-zero-cpu graph {:#x}: {state}, {count} commands on {lists} command lists",
            graph.handle
        ))
    );
    out.push_str("  node [shape=box, fontname=\"monospace\"];\n");
    for (m, members) in clusters.iter().enumerate() {
        let name = if m == 0 {
            "primary command list".to_string()
        } else {
            format!("forked command list #{m}")
        };
        let _ = writeln!(out, "  subgraph cluster_{m} {{\n    label=\"{name}\";");
        for i in members {
            let _ = writeln!(out, "    n{i};");
        }
        out.push_str("  }\n");
    }
    out.push_str(&body);
    out.push_str(&edges);
    out.push_str("}\n");
    out
}

entry_points! {
    /// A new, empty graph of the context: captured into with
    /// `zeCommandListBeginCaptureIntoGraphExt`.
    fn zeGraphCreateExt(hContext: ze_context_handle_t, pNext: *const c_void, phGraph: *mut ze_graph_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        // SAFETY: a chain of Level Zero structures (caller's contract); none is honoured.
        unsafe { crate::chain::input_next("zeGraphCreateExt", pNext, &[])? };
        if phGraph.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phGraph");
        }
        let graph = Graph::create(&context, false);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phGraph, handles::raw(graph.handle)) }
    }

    /// Begins a capture into a graph of the list's own (owned by the driver until
    /// `zeCommandListEndGraphCaptureExt` returns it). An asynchronous immediate list only.
    fn zeCommandListBeginGraphCaptureExt(hCommandList: ze_command_list_handle_t, pNext: *const c_void) {
        begin(hCommandList, None, pNext, "zeCommandListBeginGraphCaptureExt")
    }

    /// Begins a capture into an empty graph of the list's context.
    fn zeCommandListBeginCaptureIntoGraphExt(hCommandList: ze_command_list_handle_t, hGraph: ze_graph_handle_t, pNext: *const c_void) {
        let _: Arc<CommandList> = handles::get(hCommandList)?;
        let graph: Arc<Graph> = handles::get(hGraph)?;
        begin(hCommandList, Some(graph), pNext, "zeCommandListBeginCaptureIntoGraphExt")
    }

    /// `ZE_RESULT_QUERY_TRUE` while the list takes part in a capture (primary or fork), else
    /// `ZE_RESULT_QUERY_FALSE`.
    fn zeCommandListIsGraphCaptureEnabledExt(hCommandList: ze_command_list_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        match capturing(&list)? {
            Some(g) => Err(fail(ze_result_t::ZE_RESULT_QUERY_TRUE, format!("the command list is capturing into graph {:#x}", g.handle))),
            None => Err(fail(ze_result_t::ZE_RESULT_QUERY_FALSE, "the command list is not capturing")),
        }
    }

    /// Ends the capture on its primary list, and on every list forked from it. Failures:
    /// `ZE_RESULT_ERROR_GRAPH_UNJOINED_FORKS` (the capture goes on),
    /// `ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED` and `ZE_RESULT_ERROR_INVALID_GRAPH` (the
    /// capture ends; a graph of `zeCommandListBeginGraphCaptureExt` is destroyed); `*phGraph`
    /// is then null.
    fn zeCommandListEndGraphCaptureExt(hCommandList: ze_command_list_handle_t, pNext: *const c_void, phGraph: *mut ze_graph_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        // SAFETY: a chain of Level Zero structures (caller's contract); none is honoured.
        unsafe { crate::chain::input_next("zeCommandListEndGraphCaptureExt", pNext, &[])? };
        if phGraph.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phGraph");
        }
        // SAFETY: checked non-null; the caller's output (null until the capture ends well).
        unsafe { ffi::write(phGraph, null_mut())? };
        let Some(graph) = capturing(&list)? else {
            bail!(ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING, "the command list is not capturing a graph");
        };
        let mut inner = lock(&graph.inner);
        let Phase::Recording(rec) = &mut inner.phase else {
            bail!(ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING, "the command list is not capturing a graph");
        };
        if !std::ptr::eq(rec.primary.as_ptr(), &*list) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "the command list was forked into the capture of graph {:#x}: only its primary list (handle {:#x}) ends it",
                graph.handle,
                inner.primary.unwrap_or(0)
            );
        }
        let failure = match (&rec.invalidated, rec.order()) {
            (Some(why), _) => EndFailure {
                code: ze_result_t::ZE_RESULT_ERROR_GRAPH_CAPTURE_INVALIDATED,
                reason: format!("the capture was invalidated: {why}"),
                goes_on: false,
            },
            (None, Err(f)) => f,
            (None, Ok(order)) => {
                let Phase::Recording(rec) = std::mem::replace(&mut inner.phase, Phase::Empty) else {
                    unreachable!("matched above, under the same lock")
                };
                rec.release_members();
                inner.phase = Phase::Recorded(Arc::new(rec.into_recorded(&order)));
                drop(inner);
                deactivate(&graph);
                // SAFETY: checked non-null; the caller's output.
                return unsafe { ffi::write(phGraph, handles::raw(graph.handle)) };
            }
        };
        if failure.goes_on {
            return Err(fail(failure.code, failure.reason));
        }
        let implicit = graph.implicit;
        graph.fail_capture(inner, failure.reason.clone());
        let fate = if implicit { "the graph it made is destroyed" } else { "the graph is invalid" };
        Err(fail(failure.code, format!("{}; the capture ended and {fate}", failure.reason)))
    }

    /// The graph a list captures into (primary or fork). Not capturing:
    /// `ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING` and a null `*phGraph`.
    fn zeCommandListGetGraphExt(hCommandList: ze_command_list_handle_t, phGraph: *mut ze_graph_handle_t) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        if phGraph.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phGraph");
        }
        let graph = capturing(&list);
        let raw = match &graph {
            Ok(Some(g)) => handles::raw(g.handle),
            _ => null_mut(),
        };
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phGraph, raw)? };
        match graph? {
            Some(_) => Ok(()),
            None => bail!(ZE_RESULT_ERROR_COMMAND_LIST_NOT_CAPTURING, "the command list is not capturing a graph"),
        }
    }

    /// The list that began the graph's capture (its handle, even after that list was
    /// destroyed). A graph never captured has none: `ZE_RESULT_ERROR_INVALID_ARGUMENT`.
    fn zeGraphGetPrimaryCommandListExt(hGraph: ze_graph_handle_t, phCommandList: *mut ze_command_list_handle_t) {
        let graph: Arc<Graph> = handles::get(hGraph)?;
        if phCommandList.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phCommandList");
        }
        let Some(primary) = lock(&graph.inner).primary else {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "graph {:#x} was never captured: it has no primary command list", graph.handle);
        };
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phCommandList, handles::raw(primary)) }
    }

    /// Registers a callback called (once) when the graph is destroyed.
    fn zeGraphSetDestructionCallbackExt(hGraph: ze_graph_handle_t, pfnCallback: zex_mem_graph_free_callback_fn_t, pUserData: *mut c_void, pNext: *const c_void) {
        let graph: Arc<Graph> = handles::get(hGraph)?;
        // SAFETY: a chain of Level Zero structures (caller's contract); none is honoured.
        unsafe { crate::chain::input_next("zeGraphSetDestructionCallbackExt", pNext, &[])? };
        let Some(f) = pfnCallback else {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pfnCallback");
        };
        lock(&graph.callbacks).push((f, pUserData as usize));
        Ok(())
    }

    /// An executable graph of a captured graph (or of a graph never captured: it replays
    /// nothing). Being captured: `ZE_RESULT_ERROR_INVALID_ARGUMENT`; invalid:
    /// `ZE_RESULT_ERROR_INVALID_GRAPH`.
    fn zeGraphInstantiateExt(hGraph: ze_graph_handle_t, pNext: *const c_void, phExecutableGraph: *mut ze_executable_graph_handle_t) {
        let graph: Arc<Graph> = handles::get(hGraph)?;
        // SAFETY: a chain of Level Zero structures (caller's contract); none is honoured.
        unsafe { crate::chain::input_next("zeGraphInstantiateExt", pNext, &[])? };
        if phExecutableGraph.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phExecutableGraph");
        }
        let recorded = {
            let mut inner = lock(&graph.inner);
            let recorded = match &inner.phase {
                Phase::Empty => None,
                Phase::Recorded(r) => Some(r.clone()),
                Phase::Recording(_) => bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "graph {:#x} is being captured: end the capture first", graph.handle),
                Phase::Invalid(why) => bail!(ZE_RESULT_ERROR_INVALID_GRAPH, "graph {:#x} is invalid: {why}", graph.handle),
            };
            inner.executables += 1;
            recorded
        };
        let commands = recorded.as_ref().map_or_else(|| Arc::from(Vec::new()), |r| r.commands.clone());
        let instance = graph.instance;
        let exec = Arc::new(ExecutableGraph {
            instance,
            graph,
            recorded,
            commands,
            executions: Arc::new(AtomicU32::new(0)),
            replays: Mutex::new(Replays::default()),
        });
        let handle = handles::reserve_for::<Arc<ExecutableGraph>>();
        handles::register(handle, Object::ExecutableGraph(exec));
        instance.live.executable_graphs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phExecutableGraph, handles::raw(handle)) }
    }

    /// Replays an executable graph on an immediate list of the primary list's device and
    /// engine type: after the wait events and the previous replay of the same executable
    /// graph, one submission; then the signal event.
    fn zeCommandListAppendGraphExt(
        hCommandList: ze_command_list_handle_t,
        hGraph: ze_executable_graph_handle_t,
        pNext: *const c_void,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        let list: Arc<CommandList> = handles::get(hCommandList)?;
        let exec: Arc<ExecutableGraph> = handles::get(hGraph)?;
        // SAFETY: a chain of Level Zero structures (caller's contract); none is honoured.
        unsafe { crate::chain::input_next("zeCommandListAppendGraphExt", pNext, &[])? };
        if !std::ptr::eq(exec.instance, list.instance) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the executable graph belongs to another driver");
        }
        if list.synchronous().is_none() {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "graphs run on immediate command lists, as they were captured; this is a regular one");
        }
        if list.context.handle != exec.graph.context.handle {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the command list belongs to another context than the graph");
        }
        if let Some(r) = &exec.recorded {
            if list.device.index != r.device {
                bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the graph was captured on another device than the command list's");
            }
            let computes = crate::device::group_computes(&list.device, list.ordinal);
            if computes != r.computes {
                bail!(
                    ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE,
                    "the graph was captured on a {} list; this list (group {}) is {}",
                    if r.computes { "compute" } else { "copy-only" },
                    list.ordinal,
                    if computes { "compute" } else { "copy-only" }
                );
            }
        }
        // SAFETY: the caller's array of `numWaitEvents` handles.
        let raws = unsafe { ffi::slice(phWaitEvents.cast_const(), numWaitEvents)? };
        let mut waits = raws.iter().map(|&h| sync_event(h, list.instance)).collect::<ZeResult<Vec<_>>>()?;
        let signal = if hSignalEvent.is_null() { None } else { Some(sync_event(hSignalEvent, list.instance)?) };
        refuse_append(&list, waits.iter(), "appending an executable graph (ZE_RECORD_REPLAY_GRAPH_EXT_FLAG_SUBGRAPHS is not supported)")?;
        let mut replays = lock(&exec.replays);
        // A completion event is free once the replay after its own has completed.
        while replays.done.len() >= 2 && replays.done[1].is_signaled() {
            if let Some(e) = replays.done.pop_front() {
                e.reset();
                replays.spare.push(e);
            }
        }
        let done = match replays.spare.pop() {
            Some(e) => e,
            None => internal_event(&exec.graph.context)?,
        };
        if let Some(previous) = replays.done.back() {
            waits.push(previous.clone());
        }
        let lists: Vec<Arc<[Command]>> = vec![
            Arc::from(vec![Command { waits, op: Op::Nop, signal: None }]),
            exec.commands.clone(),
            // The replay's signal event first, then its completion event: the next replay
            // starts once this one is complete for the application too.
            Arc::from(vec![Command { waits: Vec::new(), op: signal.map_or(Op::Nop, Op::Signal), signal: Some(done.clone()) }]),
        ];
        let in_use = vec![None, Some(InUse::new(&exec.executions)), None];
        list.submit_immediate(lists, in_use)?;
        replays.done.push_back(done);
        Ok(())
    }

    fn zeExecutableGraphGetSourceGraphExt(hGraph: ze_executable_graph_handle_t, phSourceGraph: *mut ze_graph_handle_t) {
        let exec: Arc<ExecutableGraph> = handles::get(hGraph)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(phSourceGraph, handles::raw(exec.graph.handle)) }
    }

    /// `ZE_RESULT_QUERY_TRUE` when the graph holds no command (being captured: none so far),
    /// `ZE_RESULT_QUERY_FALSE` otherwise, `ZE_RESULT_ERROR_INVALID_GRAPH` when it is invalid.
    fn zeGraphIsEmptyExt(hGraph: ze_graph_handle_t) {
        let graph: Arc<Graph> = handles::get(hGraph)?;
        let empty = match &lock(&graph.inner).phase {
            Phase::Empty => true,
            Phase::Recording(r) => r.nodes.is_empty(),
            Phase::Recorded(r) => r.commands.is_empty(),
            Phase::Invalid(why) => bail!(ZE_RESULT_ERROR_INVALID_GRAPH, "graph {:#x} is invalid: {why}", graph.handle),
        };
        let (code, what) = if empty {
            (ze_result_t::ZE_RESULT_QUERY_TRUE, "empty")
        } else {
            (ze_result_t::ZE_RESULT_QUERY_FALSE, "not empty")
        };
        Err(fail(code, format!("graph {:#x} is {what}", graph.handle)))
    }

    /// Writes the graph as DOT: one node per recorded command (in replay order once
    /// captured), clustered by command list, with its dependencies as edges. Detailed (the
    /// default): addresses, patterns, kernel arguments (values, pointers with their
    /// allocation, local sizes), events. `ze_record_replay_graph_ext_dump_desc_t` in `pNext`
    /// chooses the mode.
    fn zeGraphDumpContentsExt(hGraph: ze_graph_handle_t, filePath: *const c_char, pNext: *const c_void) {
        let graph: Arc<Graph> = handles::get(hGraph)?;
        // SAFETY: a non-null path is a C string (caller's contract).
        let path = unsafe { ffi::c_str(filePath)? };
        let dump = ze_structure_type_t::ZE_STRUCTURE_TYPE_RECORD_REPLAY_GRAPH_EXT_DUMP_DESC;
        // SAFETY: a chain of Level Zero structures (caller's contract).
        let chain = unsafe { crate::chain::input_next("zeGraphDumpContentsExt", pNext, &[dump])? };
        let detailed = match chain.get::<ze_record_replay_graph_ext_dump_desc_t>().map(|d| d.mode) {
            None | Some(ze_record_replay_graph_ext_dump_mode_t::ZE_RECORD_REPLAY_GRAPH_EXT_DUMP_MODE_DETAILED) => true,
            Some(ze_record_replay_graph_ext_dump_mode_t::ZE_RECORD_REPLAY_GRAPH_EXT_DUMP_MODE_SIMPLE) => false,
            Some(other) => bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "graph dump mode {}", other.0),
        };
        let Some(path) = path.to_str().ok().filter(|p| !p.is_empty()) else {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the dump path is empty or not UTF-8");
        };
        let text = {
            let inner = lock(&graph.inner);
            match &inner.phase {
                Phase::Empty => dot(&graph, "empty", 0, std::iter::empty(), detailed),
                Phase::Recording(r) => dot(
                    &graph,
                    "being captured",
                    r.members.len(),
                    r.nodes.iter().map(|n| (n.member, &n.command, n.deps.as_slice())),
                    detailed,
                ),
                Phase::Recorded(r) => dot(
                    &graph,
                    "captured",
                    r.lists,
                    r.commands.iter().zip(&r.meta).map(|(c, (m, deps))| (*m, c, deps.as_slice())),
                    detailed,
                ),
                Phase::Invalid(why) => format!(
                    "digraph graph_{:x} {{\n  label=\"{}\";\n}}\n",
                    graph.handle,
                    dot_escape(&format!("level-zero-cpu graph {:#x}: invalid: {why}", graph.handle))
                ),
            }
        };
        if let Err(e) = std::fs::write(path, text) {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "cannot write the graph dump to {path}: {e}");
        }
        Ok(())
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while a replay has not completed.
    fn zeExecutableGraphDestroyExt(hGraph: ze_executable_graph_handle_t) {
        let exec: Arc<ExecutableGraph> = handles::get(hGraph)?;
        let n = exec.executions.load(Ordering::Acquire);
        if n != 0 {
            bail!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, "{n} replays of the executable graph are still in flight");
        }
        let exec: Arc<ExecutableGraph> = handles::take(hGraph)?;
        lock(&exec.graph.inner).executables -= 1;
        exec.instance.live.executable_graphs.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while executable graphs of it live,
    /// or while it is being captured. Calls the destruction callbacks.
    fn zeGraphDestroyExt(hGraph: ze_graph_handle_t) {
        let graph: Arc<Graph> = handles::get(hGraph)?;
        let inner = lock(&graph.inner);
        if inner.executables != 0 {
            bail!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, "{} executable graphs of graph {:#x} are alive", inner.executables, graph.handle);
        }
        if let Phase::Recording(_) = &inner.phase {
            bail!(
                ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
                "graph {:#x} is being captured on command list {:#x}: end the capture first",
                graph.handle,
                inner.primary.unwrap_or(0)
            );
        }
        let _: Arc<Graph> = handles::take(hGraph)?;
        drop(inner);
        graph.teardown();
        Ok(())
    }
}
