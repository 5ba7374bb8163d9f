//! The interpreter: runs a [`Program`] against the real API on a fresh embedded CPU-driver
//! instance, keeping the model of [`super::model`] in step and checking every result.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, Once};
use std::thread::JoinHandle;

use bytemuck::{Pod, Zeroable};
use level_zero::cpu::{Config, LiveObjects};
use level_zero::{
    BufferSlice, BuildOptions, CommandList, CommandQueue, Context, Device, DeviceBuffer, Driver,
    Error, Event, EventPool, EventPoolFlags, Fence, HostBuffer, ImmediateCommandList, Kernel,
    Module, Ordering as ListOrdering, PeerPolicy, QueueDesc, QueueGroupFlags, QueueMode,
    SharedBuffer, copy_peer, copy_peer_with,
};

use super::model::{self, Cmd, Id, Region, Shadow};
use super::{
    Class, Engine, Evs, Faults, Holes, KernelKind, Kind, On, Op, Program, Scope, Sel, Settings, Ty,
    View, Wait, watchdog,
};

const VECTOR_ADD: &[u8] = include_bytes!("../../kernels/spv/vector_add.O2.spv");
const SAXPY: &[u8] = include_bytes!("../../kernels/spv/saxpy.O0.spv");
const EMPTY_ARGS: &[u8] = include_bytes!("../../kernels/spv/empty_args.O2.spv");

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The drop timeout of every list and queue whose work the model says can finish: longer
/// than any such work takes, shorter than the watchdog's limit (a leak then is a violation,
/// not a hang).
const LONG_DROP: std::time::Duration = std::time::Duration::from_secs(5);

/// The drop timeout set before dropping work the model says is blocked.
const SHORT_DROP: std::time::Duration = std::time::Duration::from_millis(1);

fn fresh() -> Id {
    NEXT_ID.fetch_add(1, AtomicOrdering::Relaxed)
}

/// `SAFE_API_TRACE=1`: every op on stderr before it runs (to find where a hang is).
fn trace() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("SAFE_API_TRACE").is_some())
}

/// The payload of the panics programs inject (anything else is a panic of the crate, or of
/// this interpreter).
struct InjectedPanic;

/// Deliberate leaks (`level_zero::deliberate_leaks()`) seen on this thread: the crate logs
/// each at `error` level from the dropping thread, which [`LeakLog`] counts. Exact per drop,
/// whatever other threads (other tests) do.
mod leak_log {
    use std::cell::Cell;
    use std::sync::OnceLock;

    thread_local! {
        static HERE: Cell<u64> = const { Cell::new(0) };
    }

    struct LeakLog;

    /// What `level_zero::completion::leak` logs.
    const MARK: &str = "dropped while its work could not be seen finished";

    impl log::Log for LeakLog {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.level() <= log::Level::Error
        }

        fn log(&self, r: &log::Record<'_>) {
            if r.level() == log::Level::Error && r.args().to_string().contains(MARK) {
                HERE.with(|c| c.set(c.get() + 1));
            }
        }

        fn flush(&self) {}
    }

    /// Whether the counter works (this process's logger is ours).
    pub fn installed() -> bool {
        static OK: OnceLock<bool> = OnceLock::new();
        *OK.get_or_init(|| {
            let ok = log::set_logger(&LeakLog).is_ok();
            if ok {
                log::set_max_level(log::LevelFilter::Error);
            }
            ok
        })
    }

    /// Deliberate leaks seen on this thread so far.
    pub fn here() -> u64 {
        HERE.with(Cell::get)
    }
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<InjectedPanic>().is_none() {
                previous(info);
            }
        }));
    });
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".into()
    }
}

/// What the leak check at the end may assume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeakPolicy {
    /// Back to the baseline exactly.
    Exact,
    /// At most what the objects the program `mem::forget`s can hold (per counter).
    Bounded(LiveObjects),
    /// Not checked: the crate leaked on purpose during the program
    /// (`level_zero::deliberate_leaks()` grew: a list or queue dropped with work that could
    /// not finish; what it holds stays alive for good, and is not counted per object).
    Unchecked(&'static str),
}

/// The result of one program.
#[derive(Debug)]
pub struct Report {
    /// Oracle violations (empty: the program passed).
    pub violations: Vec<String>,
    pub ops_run: usize,
    pub ops_skipped: usize,
    pub leak_policy: LeakPolicy,
    /// Per op kind: (run, skipped).
    pub per_op: BTreeMap<&'static str, (usize, usize)>,
    /// Lists and queues the crate leaked on purpose when dropped (work blocked, or a short
    /// drop timeout).
    pub leaked_drops: usize,
}

type Flow = Result<(), String>;

// ---------------------------------------------------------------------------------------
// Buffers of every element type.

pub enum TBuf<T> {
    Dev(DeviceBuffer<T>),
    Host(HostBuffer<T>),
    Shared(SharedBuffer<T>),
}

pub enum AnyBuf {
    U8(Arc<TBuf<u8>>),
    U32(Arc<TBuf<u32>>),
    F32(Arc<TBuf<f32>>),
    U64(Arc<TBuf<u64>>),
    Zst(Arc<TBuf<()>>),
}

pub trait Elem: Pod + Send + Sync + std::fmt::Debug + 'static {
    fn of(b: &AnyBuf) -> Option<&Arc<TBuf<Self>>>;
    fn wrap(b: Arc<TBuf<Self>>) -> AnyBuf;
}

macro_rules! elem {
    ($t:ty, $v:ident) => {
        impl Elem for $t {
            fn of(b: &AnyBuf) -> Option<&Arc<TBuf<$t>>> {
                match b {
                    AnyBuf::$v(x) => Some(x),
                    _ => None,
                }
            }
            fn wrap(b: Arc<TBuf<$t>>) -> AnyBuf {
                AnyBuf::$v(b)
            }
        }
    };
}
elem!(u8, U8);
elem!(u32, U32);
elem!(f32, F32);
elem!(u64, U64);
elem!((), Zst);

/// Runs `$body` with `$t` the element type of the buffer type `$ty`.
macro_rules! typed {
    ($ty:expr, $t:ident => $body:expr) => {
        match $ty {
            Ty::U8 => {
                type $t = u8;
                $body
            }
            Ty::U32 => {
                type $t = u32;
                $body
            }
            Ty::F32 => {
                type $t = f32;
                $body
            }
            Ty::U64 => {
                type $t = u64;
                $body
            }
            Ty::Zst => {
                type $t = ();
                $body
            }
        }
    };
}

/// Runs `$body` with `$m` a `&impl Memory<T>`: the buffer itself (`None`) or a view.
macro_rules! with_mem {
    ($buf:expr, $range:expr, |$m:ident| $body:expr) => {
        match $range {
            Some((s, n)) => {
                let v = $buf.view(s, n);
                let $m = &v;
                $body
            }
            None => match &*$buf {
                TBuf::Dev(x) => {
                    let $m = x;
                    $body
                }
                TBuf::Host(x) => {
                    let $m = x;
                    $body
                }
                TBuf::Shared(x) => {
                    let $m = x;
                    $body
                }
            },
        }
    };
}

impl<T: Elem> TBuf<T> {
    fn len(&self) -> usize {
        match self {
            TBuf::Dev(b) => b.len(),
            TBuf::Host(b) => b.len(),
            TBuf::Shared(b) => b.len(),
        }
    }

    fn size_bytes(&self) -> usize {
        match self {
            TBuf::Dev(b) => b.size_bytes(),
            TBuf::Host(b) => b.size_bytes(),
            TBuf::Shared(b) => b.size_bytes(),
        }
    }

    fn context(&self) -> &Context {
        match self {
            TBuf::Dev(b) => b.context(),
            TBuf::Host(b) => b.context(),
            TBuf::Shared(b) => b.context(),
        }
    }

    /// Elements `s..s + n` (in bounds by construction: `slice`, which panics otherwise).
    fn view(&self, s: usize, n: usize) -> BufferSlice<'_, T> {
        match self {
            TBuf::Dev(b) => b.slice(s..s + n),
            TBuf::Host(b) => b.slice(s..s + n),
            TBuf::Shared(b) => b.slice(s..s + n),
        }
    }

    fn get_is_none_past_end(&self) -> bool {
        let n = self.len();
        match self {
            TBuf::Dev(b) => b.get(n..n + 1).is_none() && b.get(..=n).is_none(),
            TBuf::Host(b) => b.get(n..n + 1).is_none() && b.get(..=n).is_none(),
            TBuf::Shared(b) => b.get(n..n + 1).is_none() && b.get(..=n).is_none(),
        }
    }
}

fn bytes_of_slice<T: Pod>(s: &[T]) -> &[u8] {
    bytemuck::cast_slice(s)
}

fn vec_from_bytes<T: Pod>(bytes: &[u8], n: usize) -> Vec<T> {
    if size_of::<T>() == 0 {
        return vec![T::zeroed(); n];
    }
    bytes
        .chunks_exact(size_of::<T>())
        .map(bytemuck::pod_read_unaligned)
        .collect()
}

fn ty_size(ty: Ty) -> usize {
    match ty {
        Ty::U8 => 1,
        Ty::U32 | Ty::F32 => 4,
        Ty::U64 => 8,
        Ty::Zst => 0,
    }
}

// ---------------------------------------------------------------------------------------
// The model of objects.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Use {
    alloc: Id,
    write: bool,
}

fn conflict(a: &[Use], b: &[Use]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x.alloc == y.alloc && (x.write || y.write)))
}

struct AllocM {
    ctx: Id,
    kind: Kind,
    dev: Option<usize>,
    /// Live host guards: readers, a writer; and forgotten ones (for good).
    readers: u32,
    writer: bool,
    forgot_readers: u32,
    forgot_writer: bool,
}

struct Sub {
    id: Id,
    uses: Vec<Use>,
    lists: Vec<Id>,
    fence: Option<Id>,
    /// Whether the fence was unsignalled and unused when attached (its signal then means this
    /// execution completed).
    clean: bool,
    /// No reap point of the queue since it was submitted: its registrations are certainly held.
    unreaped: bool,
    gate: BTreeSet<Id>,
    waits: BTreeSet<Id>,
    events: BTreeSet<Id>,
    signals: BTreeSet<Id>,
}

/// An immediate list or a queue: what it may still be running.
struct ExecM {
    ctx: Id,
    dev: usize,
    queue: bool,
    relaxed: bool,
    compute: bool,
    max_fill: usize,
    /// `QueueMode::Synchronous`: every append (execution) returns once it completed.
    sync_mode: bool,
    /// The program set a short drop timeout: a drop of unfinished work may leak it.
    short_drop: bool,
    /// Dropped, and the crate leaked it on purpose: its work (and its registrations of host
    /// access) stay for good.
    leaked: bool,
    /// Its hazard timeline (a graph node: the event pools of its publications).
    tl: Id,
    /// Allocations its commands used (whether one wrote): hazard marks that may still stand.
    marked: BTreeMap<Id, bool>,
    /// What commands that failed to append would have waited for (the crate's abandoned
    /// waits): later users of its marks wait for them too.
    abandoned: BTreeSet<Id>,
    /// Immediate lists: what was appended since the last synchronisation, each use with the
    /// events it waits for.
    pending: Vec<(Use, BTreeSet<Id>)>,
    since_barrier: Vec<Use>,
    /// The events the next command waits for (in order after everything before it).
    gate: BTreeSet<Id>,
    waits: BTreeSet<Id>,
    events: BTreeSet<Id>,
    signals: BTreeSet<Id>,
    /// Queues: executions not known complete.
    subs: Vec<Sub>,
    forgotten: bool,
    gone: bool,
}

impl ExecM {
    fn busy(&self) -> bool {
        !self.pending.is_empty() || !self.events.is_empty() || !self.subs.is_empty()
    }

    fn gated(&self) -> bool {
        !self.gate.is_empty() || self.subs.iter().any(|s| !s.gate.is_empty())
    }

    fn all_gate(&self) -> BTreeSet<Id> {
        let mut g = self.gate.clone();
        for s in &self.subs {
            g.extend(s.gate.iter().copied());
        }
        g
    }

    fn work_uses(&self) -> Vec<Use> {
        let mut u: Vec<Use> = self.pending.iter().map(|p| p.0).collect();
        for s in &self.subs {
            u.extend(s.uses.iter().copied());
        }
        u
    }

    fn references_event(&self, e: Id) -> bool {
        self.events.contains(&e) || self.subs.iter().any(|s| s.events.contains(&e))
    }

    fn release(&mut self) {
        self.pending.clear();
        self.since_barrier.clear();
        self.gate.clear();
        self.waits.clear();
        self.events.clear();
        self.signals.clear();
        self.subs.clear();
    }
}

struct RegM {
    ctx: Id,
    dev: usize,
    relaxed: bool,
    compute: bool,
    max_fill: usize,
    ordinal: u32,
    closed: bool,
    cmds: Vec<Cmd>,
    uses: Vec<Use>,
    since_barrier: Vec<Use>,
    events: BTreeSet<Id>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Unsignalled,
    Signalled,
    /// Will be signalled by device work once these events are (empty: unconditionally).
    Will(BTreeSet<Id>),
}

struct EventM {
    ctx: Id,
    host_visible: bool,
    state: Ev,
    /// An immediate list whose reset of the event may not have run yet.
    resetting: Option<Id>,
    slot_gone: bool,
}

struct PoolM {
    ctx: Id,
    host_visible: bool,
    count: u32,
    /// Indices whose event object may still exist.
    taken: BTreeSet<u32>,
    live: BTreeMap<u32, Id>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FenceState {
    Fresh,
    Signalled,
    /// Given to an execution that failed: the crate may have taken it as used (the driver
    /// may have signalled it) or not.
    Unknown,
    Attached {
        sub: Id,
    },
}

struct FenceM {
    queue: Id,
    state: FenceState,
}

struct KernelM {
    ctx: Id,
    dev: usize,
    kind: KernelKind,
}

/// What objects may hold, for the leak bound of forgotten objects.
#[derive(Clone, Copy, Debug)]
enum Node {
    /// A hazard timeline: no driver object itself, its publications' event pools are its
    /// [`Graph::extra`].
    Timeline,
    Ctx,
    Alloc(usize),
    List,
    Queue,
    Pool,
    Event,
    Fence,
    Module,
    Kernel,
}

#[derive(Default)]
struct Graph {
    nodes: BTreeMap<Id, Node>,
    edges: BTreeMap<Id, BTreeSet<Id>>,
    roots: BTreeSet<Id>,
    /// Driver objects a node may create and keep over its life, beyond itself (a timeline's
    /// event pools, a queue's internal lists and fences).
    extra: BTreeMap<Id, LiveObjects>,
}

impl Graph {
    fn node(&mut self, id: Id, n: Node) {
        self.nodes.insert(id, n);
    }

    fn hold(&mut self, from: Id, to: Id) {
        self.edges.entry(from).or_default().insert(to);
    }

    fn merge(&mut self, o: Graph) {
        self.nodes.extend(o.nodes);
        for (k, v) in o.edges {
            self.edges.entry(k).or_default().extend(v);
        }
        self.roots.extend(o.roots);
        for (k, v) in o.extra {
            let e = self.extra.entry(k).or_default();
            for ((_, a), (name, b)) in fields(&e.clone()).into_iter().zip(fields(&v)) {
                set_field(e, name, a + b);
            }
        }
    }

    /// Timeline `tl` may make one more publication: with a fresh event pool of 16 events (a
    /// sound bound: a pool is made only when no event is free).
    fn publication(&mut self, tl: Id) {
        let e = self.extra.entry(tl).or_default();
        e.event_pools += 1;
        e.events += 16;
    }

    /// Queue `q` may keep more internal lists and fences.
    fn queue_internals(&mut self, q: Id, lists: u64, fences: u64) {
        let e = self.extra.entry(q).or_default();
        e.command_lists += lists;
        e.fences += fences;
    }

    /// What the roots can keep alive, counted as the driver counts live objects.
    fn footprint(&self) -> LiveObjects {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Id> = self.roots.iter().copied().collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(e) = self.edges.get(&id) {
                stack.extend(e.iter().copied());
            }
        }
        let mut l = LiveObjects::default();
        for id in seen {
            if let Some(x) = self.extra.get(&id) {
                for ((name, a), (_, b)) in fields(&l.clone()).into_iter().zip(fields(x)) {
                    set_field(&mut l, name, a + b);
                }
            }
            match self.nodes.get(&id) {
                Some(Node::Ctx) => l.contexts += 1,
                Some(Node::Alloc(b)) if *b > 0 => {
                    l.allocations += 1;
                    l.allocated_bytes += *b as u64;
                }
                Some(Node::List) => l.command_lists += 1,
                Some(Node::Queue) => l.command_queues += 1,
                Some(Node::Pool) => l.event_pools += 1,
                Some(Node::Event) => l.events += 1,
                Some(Node::Fence) => l.fences += 1,
                Some(Node::Module) => l.modules += 1,
                Some(Node::Kernel) => l.kernels += 1,
                _ => {}
            }
        }
        l
    }
}

#[derive(Default)]
struct Model {
    allocs: BTreeMap<Id, AllocM>,
    shadows: BTreeMap<Id, Shadow>,
    execs: BTreeMap<Id, ExecM>,
    regs: BTreeMap<Id, RegM>,
    events: BTreeMap<Id, EventM>,
    pools: BTreeMap<Id, PoolM>,
    fences: BTreeMap<Id, FenceM>,
    kernels: BTreeMap<Id, KernelM>,
    graph: Graph,
    lost_seen: BTreeSet<usize>,
    /// The devices of each context.
    ctx_devs: BTreeMap<Id, Vec<usize>>,
    /// Gates over-approximate what waits (an event that either of two things signals, or
    /// that the host signalled after device work was to signal it): no work is known to
    /// be blocked for good any more.
    fuzzy: bool,
}

impl Model {
    fn wait_gate(&self, e: Id) -> BTreeSet<Id> {
        match self.events.get(&e).map(|m| &m.state) {
            Some(Ev::Signalled) => BTreeSet::new(),
            Some(Ev::Will(s)) => s.clone(),
            _ => BTreeSet::from([e]),
        }
    }

    /// Device work signals `e` once the events of `after` are signalled. Work gated by `e`
    /// (an unsignalled event until now) is gated by `after` from now on.
    fn signal_will(&mut self, e: Id, after: BTreeSet<Id>) {
        let Some(m) = self.events.get_mut(&e) else {
            return;
        };
        match &m.state {
            Ev::Signalled => {}
            Ev::Will(s) if s.is_empty() => {}
            // Signalled once either is: keeping the first over-approximates what waits.
            Ev::Will(_) if !after.is_empty() => self.fuzzy = true,
            // Work that waited for `e` waits for what the first signaller waited for: stale
            // now that `e` is signalled unconditionally.
            Ev::Will(_) => {
                m.state = Ev::Will(after);
                self.fuzzy = true;
            }
            Ev::Unsignalled => {
                m.state = Ev::Will(after.clone());
                self.substitute(e, &after);
            }
        }
    }

    /// Every gate waiting for `e` waits for `with` instead.
    fn substitute(&mut self, e: Id, with: &BTreeSet<Id>) {
        let swap = |g: &mut BTreeSet<Id>| {
            if g.remove(&e) {
                g.extend(with.iter().copied());
            }
        };
        for x in self.execs.values_mut() {
            swap(&mut x.gate);
            swap(&mut x.abandoned);
            for (_, g) in &mut x.pending {
                swap(g);
            }
            for s in &mut x.subs {
                swap(&mut s.gate);
            }
        }
        for m in self.events.values_mut() {
            if let Ev::Will(s) = &mut m.state {
                swap(s);
            }
        }
    }

    /// The host signalled `e`: nothing waits for it any more.
    fn host_signalled(&mut self, e: Id) {
        if let Some(m) = self.events.get_mut(&e) {
            // Gates waiting for `e` were substituted by what device work signals it after:
            // they are stale now.
            if matches!(&m.state, Ev::Will(s) if !s.is_empty()) {
                self.fuzzy = true;
            }
            m.state = Ev::Signalled;
        }
        self.substitute(e, &BTreeSet::new());
    }

    /// What a command using `uses` on executor `me` (`None`: a list of the crate's) waits
    /// for through hazard tracking: the events gating the conflicting work of other lists
    /// and queues (and the abandoned waits of those that marked the allocations).
    fn conflict_gate(&self, me: Option<Id>, uses: &[Use]) -> BTreeSet<Id> {
        let mut g = BTreeSet::new();
        for (id, x) in &self.execs {
            if Some(*id) == me {
                continue;
            }
            for (u, ug) in &x.pending {
                if conflict(&[*u], uses) {
                    g.extend(ug.iter().copied());
                }
            }
            for s in &x.subs {
                if conflict(&s.uses, uses) {
                    g.extend(s.gate.iter().copied());
                }
            }
            if !x.abandoned.is_empty() && uses.iter().any(|u| x.marked.contains_key(&u.alloc)) {
                g.extend(x.abandoned.iter().copied());
            }
        }
        g
    }

    /// Whether executor `id`'s work is certainly blocked: it waits for an unsignalled event
    /// that no submitted work signals (only the host could; it does not while a drop runs).
    fn certainly_blocked(&self, id: Id) -> bool {
        let Some(x) = self.execs.get(&id) else {
            return false;
        };
        if self.fuzzy {
            return false;
        }
        x.all_gate().iter().any(|e| {
            self.events
                .get(e)
                .is_some_and(|m| m.state == Ev::Unsignalled)
                && !self
                    .execs
                    .values()
                    .any(|y| y.signals.contains(e) || y.subs.iter().any(|s| s.signals.contains(e)))
        })
    }

    /// Whether any executor's pending work needs `e` to be signalled to make progress.
    fn event_in_gate(&self, e: Id) -> bool {
        self.execs.values().any(|x| x.all_gate().contains(&e))
            || self
                .events
                .values()
                .any(|m| matches!(&m.state, Ev::Will(s) if s.contains(&e)))
    }

    fn event_referenced(&self, e: Id) -> bool {
        self.execs.values().any(|x| x.references_event(e))
            || self.events.get(&e).is_some_and(|m| m.resetting.is_some())
    }

    /// Whether regular list `l` may be held by an execution: (certainly, possibly).
    fn list_executing(&self, l: Id) -> (bool, bool) {
        let mut certain = false;
        let mut possible = false;
        for x in self.execs.values() {
            for s in &x.subs {
                if s.lists.contains(&l) {
                    possible = true;
                    certain |= s.unreaped;
                }
            }
        }
        (certain, possible)
    }

    /// A reap point of queue `q`: any execution may now have been released.
    fn reap_point(&mut self, q: Id) {
        if let Some(x) = self.execs.get_mut(&q) {
            for s in &mut x.subs {
                s.unreaped = false;
            }
        }
    }

    /// Execution `sub` of queue `q` is known complete (and released).
    fn sub_done(&mut self, q: Id, sub: Id) {
        let mut fence = None;
        let mut events = Vec::new();
        if let Some(x) = self.execs.get_mut(&q)
            && let Some(i) = x.subs.iter().position(|s| s.id == sub)
        {
            let s = x.subs.remove(i);
            fence = s.fence;
            events = s.signals.into_iter().collect();
        }
        self.settle(&events);
        if let Some(f) = fence.and_then(|f| self.fences.get_mut(&f))
            && f.state == (FenceState::Attached { sub })
        {
            f.state = FenceState::Signalled;
        }
    }

    /// Queue `q` was seen idle (or its device lost).
    fn queue_idle(&mut self, q: Id) {
        let subs: Vec<Id> = self
            .execs
            .get(&q)
            .map(|x| x.subs.iter().map(|s| s.id).collect())
            .unwrap_or_default();
        for s in subs {
            self.sub_done(q, s);
        }
    }

    /// Host access conflicts with device work registered on `alloc`: (certain, possible).
    fn device_registered(&self, alloc: Id, host_write: bool) -> (bool, bool) {
        let mut certain = false;
        let mut possible = false;
        for x in self.execs.values() {
            for (u, _) in &x.pending {
                if u.alloc == alloc && (u.write || host_write) {
                    certain = true;
                }
            }
            for s in &x.subs {
                for u in &s.uses {
                    if u.alloc == alloc && (u.write || host_write) {
                        possible = true;
                        certain |= s.unreaped;
                    }
                }
            }
        }
        // After a device loss, an error may or may not have come from a synchronisation that
        // released the list's registrations.
        let certain = certain && self.lost_seen.is_empty();
        (certain, possible || certain || !self.lost_seen.is_empty())
    }

    /// Whether registering `uses` for device work conflicts with host guards.
    fn guard_conflict(&self, uses: &[Use]) -> bool {
        uses.iter().any(|u| {
            self.allocs.get(&u.alloc).is_some_and(|a| {
                a.kind != Kind::Device
                    && if u.write {
                        a.readers + a.forgot_readers > 0 || a.writer || a.forgot_writer
                    } else {
                        a.writer || a.forgot_writer
                    }
            })
        })
    }

    /// Work that signalled `events` completed: an unconditional pending signal happened.
    /// Not after a device loss: "complete" may then mean "never ran".
    fn settle(&mut self, events: &[Id]) {
        if !self.lost_seen.is_empty() {
            return;
        }
        for e in events {
            if let Some(m) = self.events.get_mut(e)
                && matches!(&m.state, Ev::Will(s) if s.is_empty())
            {
                m.state = Ev::Signalled;
            }
        }
    }

    fn forget_all_shadows(&mut self) {
        for s in self.shadows.values_mut() {
            s.forget_all();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Slots: the live objects, with the scope depth they were created at.

struct BufSlot {
    id: Id,
    buf: Option<AnyBuf>,
    kind: Kind,
    dev: Option<usize>,
    ty: Ty,
    len: usize,
    depth: usize,
}

struct Slot<T> {
    id: Id,
    obj: T,
    depth: usize,
}

/// Built modules, per (context, device, kernel): the module and its graph node.
type ModuleCache = BTreeMap<(Id, usize, KernelKind), (Module, Id)>;

/// Shared by a program's threads.
struct Shared {
    driver: Driver,
    devices: Vec<Device>,
    holes: Holes,
    faults: Faults,
    large: bool,
    /// Built modules, per (context, device, kernel): (module, graph node id).
    modules: Mutex<ModuleCache>,
}

struct GuardFrame {
    alloc: Id,
    write: bool,
    depth: usize,
    forget: bool,
}

type ThreadResult = (World, Flow);

struct World {
    sh: Arc<Shared>,
    ctxs: Vec<Slot<Context>>,
    bufs: Vec<BufSlot>,
    imms: Vec<Slot<ImmediateCommandList>>,
    regs: Vec<Slot<CommandList>>,
    queues: Vec<Slot<CommandQueue>>,
    pools: Vec<Slot<EventPool>>,
    events: Vec<Slot<Event>>,
    fences: Vec<Slot<Fence>>,
    kernels: Vec<Slot<Kernel>>,
    m: Model,
    depth: usize,
    catches: Vec<usize>,
    guards: Vec<GuardFrame>,
    threads: Vec<(usize, JoinHandle<ThreadResult>)>,
    /// Allocations and lists moved to a running thread.
    away: BTreeSet<Id>,
    in_thread: bool,
    run: usize,
    skipped: usize,
    leak: Option<&'static str>,
    /// A drop of this world leaked on purpose (seen through [`leak_log`]).
    leaked_any: bool,
    /// How many.
    leaked_drops: usize,
    /// What the command being prepared inherits from other lists' and queues' gated work
    /// ([`World::prepare`]), for [`World::appended`] (or the execution) once it succeeded.
    inherit: BTreeSet<Id>,
    /// The executor `inherit` is for.
    inherit_for: Option<Id>,
    deferred: Option<String>,
    cur: &'static str,
    per_op: BTreeMap<&'static str, (usize, usize)>,
}

enum Expect {
    Ok,
    Busy,
    Invalid,
    OkOrBusy,
    OkOrInvalid,
    BusyOrInvalid,
    Any,
}

impl std::fmt::Debug for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expect::Ok => "Ok",
            Expect::Busy => "Busy",
            Expect::Invalid => "InvalidArgument",
            Expect::OkOrBusy => "Ok or Busy",
            Expect::OkOrInvalid => "Ok or InvalidArgument",
            Expect::BusyOrInvalid => "Busy or InvalidArgument",
            Expect::Any => "anything typed",
        })
    }
}

/// Which executor an op runs on, for ordering.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exec {
    /// An immediate list or a queue (with whether the execution is in order after the
    /// queue's earlier ones).
    Own(Id, bool),
    /// Lists the crate creates for the call (`copy_peer`).
    Transient,
}

/// The size of "large" buffers: 512 KiB, or `SAFE_API_LARGE_BYTES`.
fn large_bytes() -> usize {
    static L: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *L.get_or_init(|| {
        std::env::var("SAFE_API_LARGE_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(512 << 10)
    })
}

/// Element counts: empty, one, small, medium, and (when allowed) 512 KiB, which the CPU
/// driver runs on its worker threads rather than inline (above 256 KiB): what widens race
/// windows.
fn resolve_len(len: u16, large: bool, size: usize) -> usize {
    let r = (len >> 3) as usize;
    match len % 8 {
        0 => 0,
        1 => 1,
        2..=5 => 2 + r % 63,
        6 => 256 + r % 1024,
        _ if large => large_bytes() / size.max(1),
        _ => 64,
    }
}

/// `None`: the whole buffer; else (start, len) in elements.
fn resolve_view(view: View, len: usize) -> Option<(usize, usize)> {
    match view {
        View::Whole => None,
        View::Range { start, len: l } => {
            let s = start as usize % (len + 1);
            let n = l as usize % (len - s + 1);
            Some((s, n))
        }
    }
}

fn pick<T>(v: &[T], idx: u8, ok: impl Fn(&T) -> bool) -> Option<usize> {
    let c: Vec<usize> = v
        .iter()
        .enumerate()
        .filter(|(_, x)| ok(x))
        .map(|(i, _)| i)
        .collect();
    (!c.is_empty()).then(|| c[idx as usize % c.len()])
}

/// Runs one program and checks it. Never panics for a violation: the report lists them.
pub fn run(p: &Program, s: &Settings) -> Report {
    install_panic_hook();
    let _dog = watchdog::arm(s.time_limit, format!("holes {:?}\n{p:#?}", s.holes));
    let mut config = Config::default();
    config.device_lost_after = p.faults.device_lost_after.map(u64::from);
    config.fail_alloc_at = p.faults.fail_alloc_at.map(|n| u64::from(n).max(1));
    config.p2p = !p.faults.no_p2p;
    let driver = level_zero::cpu::driver(config).expect("an embedded driver instance");
    let baseline = level_zero::cpu::live_objects(&driver).expect("live objects");
    let leaks_at_start = level_zero::deliberate_leaks();
    let devices = driver.devices().expect("devices");
    let sh = Arc::new(Shared {
        driver: driver.clone(),
        devices,
        holes: s.holes,
        faults: p.faults,
        large: s.large,
        modules: Mutex::new(BTreeMap::new()),
    });
    leak_log::installed();
    let mut w = World::new(sh.clone(), false);
    let mut violations = Vec::new();
    let body = catch_unwind(AssertUnwindSafe(|| -> Flow {
        w.new_context()?;
        w.exec_ops(&p.ops)?;
        w.join_threads(0)
    }));
    match body {
        Ok(Ok(())) => {}
        Ok(Err(v)) => violations.push(v),
        Err(p) => violations.push(format!("panic: {}", panic_message(&*p))),
    }
    if let Some(v) = w.deferred.take() {
        violations.push(v);
    }
    let finish = catch_unwind(AssertUnwindSafe(|| w.finish(p.drop_seed)));
    // After a violation, what is left is dropped without waiting.
    w.hurry();
    match finish {
        Ok(Ok(())) => {}
        Ok(Err(v)) => violations.push(format!("at the end: {v}")),
        Err(p) => violations.push(format!("panic at the end: {}", panic_message(&*p))),
    }
    if let Some(v) = w.deferred.take() {
        violations.push(v);
    }
    let (ops_run, ops_skipped, leaked_drops) = (w.run, w.skipped, w.leaked_drops);
    let per_op = std::mem::take(&mut w.per_op);
    // `SAFE_API_STRICT_LEAKS=1`: check the deliberate-leak paths as if they leaked nothing
    // (to see whether the crate leaks there at all).
    let strict = std::env::var_os("SAFE_API_STRICT_LEAKS").is_some();
    // Only a deliberate leak the crate counted excuses live objects (device loss releases
    // everything: the device stopped). The counter is process-wide: another test's leak can
    // only make this check laxer, never fail it.
    // With the leak log, this program's deliberate leaks are known exactly (leaked lists
    // and queues are roots of the graph, like forgotten objects); without it, any growth of
    // the process-wide counter excuses live objects.
    let deliberate = level_zero::deliberate_leaks() > leaks_at_start;
    let policy = match w.leak {
        _ if leak_log::installed() || strict => {
            if w.m.graph.roots.is_empty() {
                LeakPolicy::Exact
            } else {
                LeakPolicy::Bounded(w.m.graph.footprint())
            }
        }
        Some(why) if deliberate => LeakPolicy::Unchecked(why),
        None if deliberate => LeakPolicy::Unchecked("the crate leaked on purpose"),
        _ if w.m.graph.roots.is_empty() => LeakPolicy::Exact,
        _ => LeakPolicy::Bounded(w.m.graph.footprint()),
    };
    drop(w);
    sh.modules.lock().unwrap_or_else(|p| p.into_inner()).clear();
    drop(sh);
    let live = level_zero::cpu::live_objects(&driver).expect("live objects");
    if violations.is_empty()
        && let Err(v) = leak_check(&baseline, &live, &policy)
    {
        violations.push(v);
    }
    Report {
        violations,
        ops_run,
        ops_skipped,
        leak_policy: policy,
        per_op,
        leaked_drops,
    }
}

fn set_field(l: &mut LiveObjects, name: &str, v: u64) {
    match name {
        "contexts" => l.contexts = v,
        "allocations" => l.allocations = v,
        "allocated_bytes" => l.allocated_bytes = v,
        "command_queues" => l.command_queues = v,
        "command_lists" => l.command_lists = v,
        "event_pools" => l.event_pools = v,
        "events" => l.events = v,
        "fences" => l.fences = v,
        "modules" => l.modules = v,
        "kernels" => l.kernels = v,
        "build_logs" => l.build_logs = v,
        _ => unreachable!("a field of LiveObjects"),
    }
}

fn fields(l: &LiveObjects) -> [(&'static str, u64); 11] {
    [
        ("contexts", l.contexts),
        ("allocations", l.allocations),
        ("allocated_bytes", l.allocated_bytes),
        ("command_queues", l.command_queues),
        ("command_lists", l.command_lists),
        ("event_pools", l.event_pools),
        ("events", l.events),
        ("fences", l.fences),
        ("modules", l.modules),
        ("kernels", l.kernels),
        ("build_logs", l.build_logs),
    ]
}

fn leak_check(baseline: &LiveObjects, live: &LiveObjects, policy: &LeakPolicy) -> Flow {
    let bound = match policy {
        LeakPolicy::Exact => LiveObjects::default(),
        LeakPolicy::Bounded(b) => *b,
        LeakPolicy::Unchecked(_) => return Ok(()),
    };
    for (((name, b), (_, l)), (_, extra)) in fields(baseline)
        .into_iter()
        .zip(fields(live))
        .zip(fields(&bound))
    {
        let exact = matches!(policy, LeakPolicy::Exact);
        if l < b || l > b + extra || (exact && l != b) {
            return Err(format!(
                "leak check ({policy:?}): {name} is {l}, baseline {b}, allowed extra {extra}; live {live:?}, baseline {baseline:?}"
            ));
        }
    }
    Ok(())
}

impl World {
    fn new(sh: Arc<Shared>, in_thread: bool) -> World {
        World {
            sh,
            ctxs: Vec::new(),
            bufs: Vec::new(),
            imms: Vec::new(),
            regs: Vec::new(),
            queues: Vec::new(),
            pools: Vec::new(),
            events: Vec::new(),
            fences: Vec::new(),
            kernels: Vec::new(),
            m: Model::default(),
            depth: 0,
            catches: Vec::new(),
            guards: Vec::new(),
            threads: Vec::new(),
            away: BTreeSet::new(),
            in_thread,
            run: 0,
            skipped: 0,
            leak: None,
            leaked_any: false,
            leaked_drops: 0,
            inherit: BTreeSet::new(),
            inherit_for: None,
            deferred: None,
            cur: "",
            per_op: BTreeMap::new(),
        }
    }

    /// Drop timeouts of every list and queue left to zero: after a violation, whatever is
    /// left is dropped without waiting (and may leak).
    fn hurry(&mut self) {
        for s in &mut self.imms {
            s.obj.set_drop_timeout(std::time::Duration::ZERO);
        }
        for s in &mut self.queues {
            s.obj.set_drop_timeout(std::time::Duration::ZERO);
        }
    }

    /// Hole 6 switched off in a device-lost program: no work may wait for an event that
    /// nothing signalled yet.
    fn lost_blocked_guard(&self) -> bool {
        self.lost_injected() && !self.sh.holes.lost_blocked
    }

    fn lost_injected(&self) -> bool {
        self.sh.faults.device_lost_after.is_some()
    }

    /// Checks every device's status; a newly lost device makes every shadow unknown.
    fn refresh_lost(&mut self) {
        if !self.lost_injected() {
            return;
        }
        for (i, d) in self.sh.devices.iter().enumerate() {
            if !self.m.lost_seen.contains(&i) && d.status().is_err_and(|e| e.is_device_lost()) {
                self.m.lost_seen.insert(i);
                self.m.forget_all_shadows();
            }
        }
    }

    fn judge<T>(
        &mut self,
        what: &str,
        r: level_zero::Result<T>,
        ex: Expect,
    ) -> Result<Option<T>, String> {
        match r {
            Ok(v) => match ex {
                Expect::Busy | Expect::Invalid | Expect::BusyOrInvalid => {
                    Err(format!("{what}: returned Ok where {ex:?} was expected"))
                }
                _ => Ok(Some(v)),
            },
            Err(e) => {
                if e.is_device_lost() {
                    if self.lost_injected() {
                        self.refresh_lost();
                        return Ok(None);
                    }
                    return Err(format!(
                        "{what}: DEVICE_LOST without the fault injected: {e}"
                    ));
                }
                if e.is_out_of_device_memory() && self.sh.faults.fail_alloc_at.is_some() {
                    return Ok(None);
                }
                let ok = matches!(
                    (&e, &ex),
                    (_, Expect::Any)
                        | (
                            Error::Busy { .. },
                            Expect::Busy | Expect::OkOrBusy | Expect::BusyOrInvalid
                        )
                        | (
                            Error::InvalidArgument { .. },
                            Expect::Invalid | Expect::OkOrInvalid | Expect::BusyOrInvalid
                        )
                );
                if ok {
                    Ok(None)
                } else {
                    Err(format!(
                        "{what}: unexpected error ({ex:?} expected): {e} [{e:?}]"
                    ))
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Running ops and scopes.

    fn exec_ops(&mut self, ops: &[Op]) -> Flow {
        let mut i = 0;
        while i < ops.len() {
            match &ops[i] {
                Op::Open(scope) => {
                    let mut depth = 1;
                    let mut j = i + 1;
                    while j < ops.len() {
                        match ops[j] {
                            Op::Open(_) => depth += 1,
                            Op::End => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    let body = &ops[i + 1..j.min(ops.len())];
                    if trace() {
                        eprintln!("safe_api: {:?}", ops[i]);
                    }
                    self.run += 1;
                    self.cur = ops[i].name();
                    self.per_op.entry(self.cur).or_default().0 += 1;
                    self.scope(*scope, body)?;
                    i = j + 1;
                }
                op => {
                    self.op(op)?;
                    self.refresh_lost();
                    i += 1;
                }
            }
            if let Some(v) = self.deferred.take() {
                return Err(v);
            }
        }
        Ok(())
    }

    fn skip(&mut self) -> Flow {
        self.skipped += 1;
        self.per_op.entry(self.cur).or_default().1 += 1;
        Ok(())
    }

    fn scope(&mut self, scope: Scope, body: &[Op]) -> Flow {
        match scope {
            Scope::Guard { buf, write, seed } => self.guard_scope(buf, write, seed, body),
            Scope::Catch => self.catch_scope(body),
            Scope::Thread { list, bufs } => self.thread_scope(list, bufs, body),
        }
    }

    fn catch_scope(&mut self, body: &[Op]) -> Flow {
        let depth = self.depth + 1;
        let guards_before = self.guards.len();
        let r = catch_unwind(AssertUnwindSafe(|| {
            let frame = Unwind {
                w: &mut *self,
                depth,
            };
            frame.w.depth = depth;
            frame.w.catches.push(depth);
            let r = frame.w.exec_ops(body);
            frame.w.catches.pop();
            frame.w.depth = depth - 1;
            frame.w.retag(depth);
            std::mem::forget(frame);
            r
        }));
        match r {
            Ok(r) => r,
            Err(p) if p.downcast_ref::<InjectedPanic>().is_some() => {
                // Unwinding dropped the guards of the scopes it left (and the buffers write
                // guards had taken out): the model follows.
                for g in self.guards.drain(guards_before..).rev().collect::<Vec<_>>() {
                    if let Some(a) = self.m.allocs.get_mut(&g.alloc) {
                        if g.write {
                            a.writer = false;
                        } else {
                            a.readers -= 1;
                        }
                    }
                    if g.write {
                        // The buffer was a local of the guard scope: dropped.
                        self.bufs.retain(|b| b.id != g.alloc || b.buf.is_some());
                    }
                }
                self.catches.pop();
                self.depth = depth - 1;
                Ok(())
            }
            Err(p) => Err(format!("panic: {}", panic_message(&*p))),
        }
    }

    fn op(&mut self, op: &Op) -> Flow {
        if trace() {
            eprintln!(
                "safe_api{}: {op:?}",
                if self.in_thread { " (thread)" } else { "" }
            );
        }
        self.run += 1;
        self.cur = op.name();
        self.per_op.entry(self.cur).or_default().0 += 1;
        match *op {
            Op::NewContext => self.new_context(),
            Op::NewContextOn { dev } => self.new_context_on(dev),
            Op::DropTimeout { queue, idx, wait } => self.drop_timeout(queue, idx, wait),
            Op::NewBuffer {
                ctx,
                kind,
                dev,
                ty,
                len,
                seed,
            } => self.new_buffer(ctx, kind, dev, ty, len, seed),
            Op::NewImmediate {
                ctx,
                dev,
                engine,
                relaxed,
                sync,
            } => self.new_list(ctx, dev, engine, relaxed, false, sync),
            Op::NewRegular {
                ctx,
                dev,
                engine,
                relaxed,
            } => self.new_list(ctx, dev, engine, relaxed, true, false),
            Op::NewQueue {
                ctx,
                dev,
                engine,
                sync,
            } => self.new_queue(ctx, dev, engine, sync),
            Op::NewPool {
                ctx,
                count,
                host_visible,
            } => self.new_pool(ctx, count, host_visible),
            Op::NewEvent { pool, index } => self.new_event(pool, index),
            Op::NewFence { queue, signalled } => self.new_fence(queue, signalled),
            Op::NewKernel { ctx, dev, kind } => self.new_kernel(ctx, dev, kind),
            Op::Drop { class, idx } => self.drop_op(class, idx, false),
            Op::Forget { class, idx } => self.drop_op(class, idx, true),
            Op::Copy {
                on,
                dst,
                src,
                src_start,
                mismatch,
            } => self.copy(on, dst, src, src_start, mismatch),
            Op::Fill { on, dst, value } => self.fill(on, dst, value),
            Op::Timestamp { on, dst } => self.timestamp(on, dst),
            Op::Launch {
                on,
                kernel,
                a,
                b,
                alias,
                scalar,
                group,
                groups,
                evs,
            } => self.launch(on, kernel, a, b, alias, scalar, group, groups, evs),
            Op::Barrier { on, evs } => self.barrier(on, evs),
            Op::SignalEvent { on, event } => self.event_cmd(on, event, EvCmd::Signal),
            Op::WaitEvent { on, event } => self.event_cmd(on, event, EvCmd::Wait),
            Op::ResetEvent { list, event } => self.event_cmd(
                On {
                    regular: false,
                    idx: list,
                },
                event,
                EvCmd::Reset,
            ),
            Op::CopyFromSlice { list, dst, seed } => self.host_copy(list, dst, Some(seed)),
            Op::CopyToSlice { list, src } => self.host_copy(list, src, None),
            Op::ListSync { list, wait } => self.list_sync(list, wait),
            Op::Close { list } => self.close(list),
            Op::ResetList { list } => self.reset_list(list),
            Op::Execute { queue, lists, two } => self.execute(queue, lists, two, None),
            Op::ExecuteFenced { queue, list, fence } => {
                self.execute(queue, [list, list], false, Some(fence))
            }
            Op::QueueSync { queue, wait } => self.queue_sync(queue, wait),
            Op::InFlight { queue } => self.in_flight(queue),
            Op::FenceSync { fence, wait } => self.fence_sync(fence, wait),
            Op::FenceReset { fence } => self.fence_reset(fence),
            Op::FenceQuery { fence } => self.fence_query(fence),
            Op::HostSignal { event } => self.host_signal(event),
            Op::HostReset { event } => self.host_reset(event),
            Op::HostSync { event, wait } => self.host_sync(event, wait),
            Op::EventQuery { event } => self.event_query(event),
            Op::HostRead { buf } => self.host_read(buf),
            Op::HostWrite { buf, seed } => self.host_write(buf, seed),
            Op::CopyPeer { dst, src, staged } => self.copy_peer(dst, src, staged),
            Op::Status => self.status(),
            // An `End` without a scope to end does nothing.
            Op::Open(_) | Op::End => Ok(()),
            Op::Panic => self.panic_op(),
            Op::ForgetGuard => {
                match self.guards.last_mut() {
                    Some(g) if g.depth == self.depth + 1 || g.depth == self.depth => {
                        g.forget = true
                    }
                    _ => {
                        self.skip()?;
                    }
                }
                Ok(())
            }
            Op::Join => self.join_threads(self.depth),
        }
    }

    fn panic_op(&mut self) -> Flow {
        let Some(&d) = self.catches.last() else {
            return self.skip();
        };
        if !self.sh.holes.panic_wait {
            // Hole 4: unwinding drops the scope's lists; one blocked on an event nobody will
            // signal hangs the drop.
            let gated = self
                .imms
                .iter()
                .any(|s| s.depth >= d && self.m.execs.get(&s.id).is_some_and(ExecM::gated))
                || self
                    .queues
                    .iter()
                    .any(|s| s.depth >= d && self.m.execs.get(&s.id).is_some_and(ExecM::gated));
            // An event the scope owns and that gates work would be dropped unsignalled.
            let gating_event = self
                .events
                .iter()
                .any(|s| s.depth >= d && self.m.event_in_gate(s.id));
            if gated || gating_event {
                return self.skip();
            }
        }
        std::panic::panic_any(InjectedPanic)
    }

    // -----------------------------------------------------------------------------------
    // Object creation.

    fn device(&self, dev: u8) -> (usize, Device) {
        let i = dev as usize % self.sh.devices.len();
        (i, self.sh.devices[i].clone())
    }

    fn ctx(&self, ctx: u8) -> Option<(Id, Context)> {
        if self.ctxs.is_empty() {
            return None;
        }
        let s = &self.ctxs[ctx as usize % self.ctxs.len()];
        Some((s.id, s.obj.clone()))
    }

    fn new_context(&mut self) -> Flow {
        let r = Context::new(&self.sh.driver);
        if let Some(c) = self.judge("Context::new", r, Expect::Ok)? {
            let devs = (0..self.sh.devices.len()).collect();
            self.add_context(c, devs)?;
        }
        Ok(())
    }

    /// `Context::with_devices` with one device.
    fn new_context_on(&mut self, dev: u8) -> Flow {
        let (di, d) = self.device(dev);
        let r = Context::with_devices(std::slice::from_ref(&d));
        if let Some(c) = self.judge("Context::with_devices", r, Expect::Ok)? {
            if c.devices() != std::slice::from_ref(&d) {
                return Err("Context::with_devices: devices() differ from those given".into());
            }
            self.add_context(c, vec![di])?;
        }
        Ok(())
    }

    fn add_context(&mut self, c: Context, devs: Vec<usize>) -> Flow {
        let id = fresh();
        self.m.graph.node(id, Node::Ctx);
        self.m.ctx_devs.insert(id, devs);
        self.ctxs.push(Slot {
            id,
            obj: c,
            depth: self.depth,
        });
        Ok(())
    }

    /// Whether context `ctx` has device `dev`.
    fn ctx_has(&self, ctx: Id, dev: usize) -> bool {
        self.m.ctx_devs.get(&ctx).is_none_or(|d| d.contains(&dev))
    }

    /// `set_drop_timeout` on an immediate list or a queue.
    fn drop_timeout(&mut self, queue: bool, idx: u8, wait: Wait) -> Flow {
        let (id, t) = (
            if queue {
                match pick(&self.queues, idx, |s| !self.away.contains(&s.id)) {
                    Some(i) => self.queues[i].id,
                    None => return self.skip(),
                }
            } else {
                match pick(&self.imms, idx, |s| !self.away.contains(&s.id)) {
                    Some(i) => self.imms[i].id,
                    None => return self.skip(),
                }
            },
            wait.timeout().unwrap_or(LONG_DROP),
        );
        self.set_drop_timeout(id, t);
        if let Some(x) = self.m.execs.get_mut(&id) {
            x.short_drop = wait != Wait::Unbounded;
        }
        Ok(())
    }

    fn set_drop_timeout(&mut self, id: Id, t: std::time::Duration) {
        if let Some(s) = self.imms.iter_mut().find(|s| s.id == id) {
            s.obj.set_drop_timeout(t);
        } else if let Some(s) = self.queues.iter_mut().find(|s| s.id == id) {
            s.obj.set_drop_timeout(t);
        }
    }

    fn ctx_id_of(&self, c: &Context) -> Id {
        self.ctxs.iter().find(|s| &s.obj == c).map_or(0, |s| s.id)
    }

    fn new_buffer(&mut self, ctx: u8, kind: Kind, dev: u8, ty: Ty, len: u16, seed: u8) -> Flow {
        if ty == Ty::Zst && !self.sh.holes.zst {
            return self.skip();
        }
        let Some((ctx_id, c)) = self.ctx(ctx) else {
            return self.skip();
        };
        let (di, d) = self.device(dev);
        let n = resolve_len(len, self.sh.large, ty_size(ty));
        if kind != Kind::Host && !self.ctx_has(ctx_id, di) {
            let r = typed!(ty, T => match kind {
                Kind::Device => DeviceBuffer::<T>::new(&c, &d, n).map(drop),
                _ => SharedBuffer::<T>::new(&c, &d, n).map(drop),
            });
            self.judge(
                "allocation on a device outside the context",
                r,
                Expect::Invalid,
            )?;
            return Ok(());
        }
        typed!(ty, T => self.new_buffer_typed::<T>(ctx_id, &c, kind, di, &d, ty, n, seed))
    }

    #[allow(clippy::too_many_arguments)]
    fn new_buffer_typed<T: Elem>(
        &mut self,
        ctx_id: Id,
        c: &Context,
        kind: Kind,
        di: usize,
        d: &Device,
        ty: Ty,
        n: usize,
        seed: u8,
    ) -> Flow {
        let r = match kind {
            Kind::Device => DeviceBuffer::<T>::new(c, d, n).map(TBuf::Dev),
            Kind::Host if seed & 3 == 0 && size_of::<T>() > 0 => {
                let data = vec_from_bytes::<T>(&model::data(seed, n as u64, n * size_of::<T>()), n);
                HostBuffer::from_slice(c, &data).map(TBuf::Host)
            }
            Kind::Host => HostBuffer::<T>::new(c, n).map(TBuf::Host),
            Kind::Shared if seed & 3 == 0 && size_of::<T>() > 0 => {
                let data = vec_from_bytes::<T>(&model::data(seed, n as u64, n * size_of::<T>()), n);
                SharedBuffer::from_slice(c, d, &data).map(TBuf::Shared)
            }
            Kind::Shared => SharedBuffer::<T>::new(c, d, n).map(TBuf::Shared),
        };
        let Some(b) = self.judge("allocation", r, Expect::Ok)? else {
            return Ok(());
        };
        let bytes = n * size_of::<T>();
        if b.len() != n || b.size_bytes() != bytes {
            return Err(format!(
                "a {ty:?} buffer of {n} elements says len {} and {} bytes",
                b.len(),
                b.size_bytes()
            ));
        }
        let id = fresh();
        let shadow = match kind {
            Kind::Device => Shadow::unknown(bytes),
            _ if seed & 3 == 0 && size_of::<T>() > 0 => {
                let mut s = Shadow::zeroed(bytes);
                s.write(0, &model::data(seed, n as u64, bytes));
                s
            }
            _ => Shadow::zeroed(bytes),
        };
        self.m.shadows.insert(id, shadow);
        self.m.allocs.insert(
            id,
            AllocM {
                ctx: ctx_id,
                kind,
                dev: (kind != Kind::Host).then_some(di),
                readers: 0,
                writer: false,
                forgot_readers: 0,
                forgot_writer: false,
            },
        );
        self.m.graph.node(id, Node::Alloc(bytes));
        self.m.graph.hold(id, ctx_id);
        if trace() {
            eprintln!("safe_api:   buffer {id}: {kind:?} {ty:?} x{n} on {di}, ctx {ctx_id}");
        }
        self.bufs.push(BufSlot {
            id,
            buf: Some(T::wrap(Arc::new(b))),
            kind,
            dev: (kind != Kind::Host).then_some(di),
            ty,
            len: n,
            depth: self.depth,
        });
        Ok(())
    }

    fn group_info(&self, d: &Device, engine: Engine) -> Result<(u32, bool, usize), String> {
        let g = match engine {
            Engine::Compute => d.compute_queue_group(),
            Engine::Copy => d.copy_queue_group(),
        }
        .map_err(|e| format!("queue group: {e}"))?;
        Ok((
            g.ordinal,
            g.flags.contains(QueueGroupFlags::COMPUTE),
            g.max_memory_fill_pattern_size,
        ))
    }

    fn new_list(
        &mut self,
        ctx: u8,
        dev: u8,
        engine: Engine,
        relaxed: bool,
        regular: bool,
        sync: bool,
    ) -> Flow {
        let Some((ctx_id, c)) = self.ctx(ctx) else {
            return self.skip();
        };
        let (di, d) = self.device(dev);
        let (ordinal, compute, max_fill) = self.group_info(&d, engine)?;
        let desc = QueueDesc {
            ordinal,
            ordering: if relaxed {
                ListOrdering::Relaxed
            } else {
                ListOrdering::InOrder
            },
            mode: if sync {
                QueueMode::Synchronous
            } else {
                QueueMode::Default
            },
            ..Default::default()
        };
        let ex = if self.ctx_has(ctx_id, di) {
            Expect::Ok
        } else {
            Expect::Invalid
        };
        let id = fresh();
        if regular {
            let r = CommandList::new(&c, &d, &desc);
            let Some(l) = self.judge("CommandList::new", r, ex)? else {
                return Ok(());
            };
            self.regs.push(Slot {
                id,
                obj: l,
                depth: self.depth,
            });
            self.m.regs.insert(
                id,
                RegM {
                    ctx: ctx_id,
                    dev: di,
                    relaxed,
                    compute,
                    max_fill,
                    ordinal,
                    closed: false,
                    cmds: Vec::new(),
                    uses: Vec::new(),
                    since_barrier: Vec::new(),
                    events: BTreeSet::new(),
                },
            );
        } else {
            let r = ImmediateCommandList::new(&c, &d, &desc);
            let Some(mut l) = self.judge("ImmediateCommandList::new", r, ex)? else {
                return Ok(());
            };
            l.set_drop_timeout(LONG_DROP);
            self.imms.push(Slot {
                id,
                obj: l,
                depth: self.depth,
            });
            let x = self.new_exec(ctx_id, di, false, relaxed, compute, max_fill, sync);
            self.m.execs.insert(id, x);
            self.m.graph.hold(id, self.m.execs[&id].tl);
        }
        self.m.graph.node(id, Node::List);
        self.m.graph.hold(id, ctx_id);
        Ok(())
    }

    /// The model of a new immediate list or queue, with its timeline's graph node.
    #[allow(clippy::too_many_arguments)]
    fn new_exec(
        &mut self,
        ctx: Id,
        dev: usize,
        queue: bool,
        relaxed: bool,
        compute: bool,
        max_fill: usize,
        sync_mode: bool,
    ) -> ExecM {
        let tl = fresh();
        self.m.graph.node(tl, Node::Timeline);
        self.m.graph.hold(tl, ctx);
        ExecM {
            ctx,
            dev,
            queue,
            relaxed,
            compute,
            max_fill,
            sync_mode,
            short_drop: false,
            leaked: false,
            tl,
            marked: BTreeMap::new(),
            abandoned: BTreeSet::new(),
            pending: Vec::new(),
            since_barrier: Vec::new(),
            gate: BTreeSet::new(),
            waits: BTreeSet::new(),
            events: BTreeSet::new(),
            signals: BTreeSet::new(),
            subs: Vec::new(),
            forgotten: false,
            gone: false,
        }
    }

    fn new_queue(&mut self, ctx: u8, dev: u8, engine: Engine, sync: bool) -> Flow {
        let Some((ctx_id, c)) = self.ctx(ctx) else {
            return self.skip();
        };
        let (di, d) = self.device(dev);
        let (ordinal, compute, max_fill) = self.group_info(&d, engine)?;
        let desc = QueueDesc {
            ordinal,
            mode: if sync {
                QueueMode::Synchronous
            } else {
                QueueMode::Default
            },
            ..Default::default()
        };
        let ex = if self.ctx_has(ctx_id, di) {
            Expect::Ok
        } else {
            Expect::Invalid
        };
        let r = CommandQueue::new(&c, &d, &desc);
        let Some(mut q) = self.judge("CommandQueue::new", r, ex)? else {
            return Ok(());
        };
        q.set_drop_timeout(LONG_DROP);
        let id = fresh();
        self.queues.push(Slot {
            id,
            obj: q,
            depth: self.depth,
        });
        let x = self.new_exec(ctx_id, di, true, false, compute, max_fill, sync);
        self.m.execs.insert(id, x);
        self.m.graph.hold(id, self.m.execs[&id].tl);
        self.m.graph.node(id, Node::Queue);
        self.m.graph.hold(id, ctx_id);
        Ok(())
    }

    fn new_pool(&mut self, ctx: u8, count: u8, host_visible: bool) -> Flow {
        let Some((ctx_id, c)) = self.ctx(ctx) else {
            return self.skip();
        };
        let count = u32::from(count % 5);
        let flags = if host_visible {
            EventPoolFlags::HOST_VISIBLE
        } else {
            EventPoolFlags::empty()
        };
        let ex = if count == 0 {
            Expect::Invalid
        } else {
            Expect::Ok
        };
        let r = EventPool::new(&c, count, flags);
        let Some(p) = self.judge("EventPool::new", r, ex)? else {
            return Ok(());
        };
        let id = fresh();
        self.pools.push(Slot {
            id,
            obj: p,
            depth: self.depth,
        });
        self.m.pools.insert(
            id,
            PoolM {
                ctx: ctx_id,
                host_visible,
                count,
                taken: BTreeSet::new(),
                live: BTreeMap::new(),
            },
        );
        self.m.graph.node(id, Node::Pool);
        self.m.graph.hold(id, ctx_id);
        Ok(())
    }

    fn new_event(&mut self, pool: u8, index: u8) -> Flow {
        let Some(pi) = pick(&self.pools, pool, |_| true) else {
            return self.skip();
        };
        let pid = self.pools[pi].id;
        let pm = &self.m.pools[&pid];
        let index = u32::from(index) % (pm.count + 1);
        let ex = if index >= pm.count || pm.live.contains_key(&index) {
            Expect::Invalid
        } else if pm.taken.contains(&index) {
            Expect::OkOrInvalid
        } else {
            Expect::Ok
        };
        let (ctx, host_visible) = (pm.ctx, pm.host_visible);
        let r = self.pools[pi].obj.event(index);
        let Some(e) = self.judge("EventPool::event", r, ex)? else {
            return Ok(());
        };
        if e.index() != index {
            return Err(format!("event index {} for {index}", e.index()));
        }
        let id = fresh();
        let pm = self.m.pools.get_mut(&pid).expect("pool model");
        pm.taken.insert(index);
        pm.live.insert(index, id);
        self.events.push(Slot {
            id,
            obj: e,
            depth: self.depth,
        });
        self.m.events.insert(
            id,
            EventM {
                ctx,
                host_visible,
                state: Ev::Unsignalled,
                resetting: None,
                slot_gone: false,
            },
        );
        self.m.graph.node(id, Node::Event);
        self.m.graph.hold(id, pid);
        Ok(())
    }

    fn new_fence(&mut self, queue: u8, signalled: bool) -> Flow {
        let Some(qi) = pick(&self.queues, queue, |_| true) else {
            return self.skip();
        };
        let qid = self.queues[qi].id;
        let r = Fence::with_state(&self.queues[qi].obj, signalled);
        let Some(f) = self.judge("Fence::with_state", r, Expect::Ok)? else {
            return Ok(());
        };
        let id = fresh();
        self.fences.push(Slot {
            id,
            obj: f,
            depth: self.depth,
        });
        self.m.fences.insert(
            id,
            FenceM {
                queue: qid,
                state: if signalled {
                    FenceState::Signalled
                } else {
                    FenceState::Fresh
                },
            },
        );
        self.m.graph.node(id, Node::Fence);
        self.m.graph.hold(id, qid);
        Ok(())
    }

    fn module(
        &mut self,
        ctx_id: Id,
        c: &Context,
        di: usize,
        kind: KernelKind,
    ) -> Result<Option<(Module, Id)>, String> {
        let key = (ctx_id, di, kind);
        if let Some(m) = self
            .sh
            .modules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(Some(m.clone()));
        }
        let spv = match kind {
            KernelKind::VectorAdd => VECTOR_ADD,
            KernelKind::Saxpy => SAXPY,
            KernelKind::EmptyArgs => EMPTY_ARGS,
        };
        let r = Module::from_spirv(c, &self.sh.devices[di], spv, &BuildOptions::new());
        let Some(m) = self.judge("Module::from_spirv", r, Expect::Ok)? else {
            return Ok(None);
        };
        let id = fresh();
        self.m.graph.node(id, Node::Module);
        self.m.graph.hold(id, ctx_id);
        self.sh
            .modules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (m.clone(), id));
        Ok(Some((m, id)))
    }

    fn new_kernel(&mut self, ctx: u8, dev: u8, kind: KernelKind) -> Flow {
        let Some((ctx_id, c)) = self.ctx(ctx) else {
            return self.skip();
        };
        let (di, d) = self.device(dev);
        if !self.ctx_has(ctx_id, di) {
            let r = Module::from_spirv(&c, &d, VECTOR_ADD, &BuildOptions::new());
            self.judge(
                "Module::from_spirv (a device outside the context)",
                r,
                Expect::Invalid,
            )?;
            return Ok(());
        }
        let Some((module, mid)) = self.module(ctx_id, &c, di, kind)? else {
            return Ok(());
        };
        let name = match kind {
            KernelKind::VectorAdd => "vector_add",
            KernelKind::Saxpy => "saxpy",
            KernelKind::EmptyArgs => "empty_args",
        };
        let r = module.kernel(name);
        let Some(k) = self.judge("Module::kernel", r, Expect::Ok)? else {
            return Ok(());
        };
        let id = fresh();
        self.kernels.push(Slot {
            id,
            obj: k,
            depth: self.depth,
        });
        self.m.kernels.insert(
            id,
            KernelM {
                ctx: ctx_id,
                dev: di,
                kind,
            },
        );
        self.m.graph.node(id, Node::Kernel);
        self.m.graph.hold(id, mid);
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Drops and forgets.

    fn drop_op(&mut self, class: Class, idx: u8, forget: bool) -> Flow {
        let id = match class {
            Class::Buffer => pick(&self.bufs, idx, |b| b.buf.is_some()).map(|i| self.bufs[i].id),
            Class::Immediate => pick(&self.imms, idx, |_| true).map(|i| self.imms[i].id),
            Class::Regular => pick(&self.regs, idx, |_| true).map(|i| self.regs[i].id),
            Class::Queue => pick(&self.queues, idx, |_| true).map(|i| self.queues[i].id),
            Class::Pool => pick(&self.pools, idx, |_| true).map(|i| self.pools[i].id),
            Class::Event => pick(&self.events, idx, |_| true).map(|i| self.events[i].id),
            Class::Fence => pick(&self.fences, idx, |_| true).map(|i| self.fences[i].id),
            Class::Kernel => pick(&self.kernels, idx, |_| true).map(|i| self.kernels[i].id),
            Class::Context => pick(&self.ctxs, idx, |_| true).map(|i| self.ctxs[i].id),
        };
        let Some(id) = id else {
            return self.skip();
        };
        if !self.may_drop(class, id, forget) {
            return self.skip();
        }
        self.drop_obj(class, id, forget)
    }

    /// Whether dropping (or forgetting) the object could hang on a switched-off hole.
    fn may_drop(&self, class: Class, id: Id, forget: bool) -> bool {
        if self.sh.holes.panic_wait {
            return true;
        }
        match class {
            Class::Immediate | Class::Queue if !forget => {
                !self.m.execs.get(&id).is_some_and(ExecM::gated)
            }
            // The program could not signal it any more.
            Class::Event => !self.m.event_in_gate(id),
            _ => true,
        }
    }

    /// Drops (or forgets) one object, keeping the model in step. Never panics.
    fn drop_obj(&mut self, class: Class, id: Id, forget: bool) -> Flow {
        fn take<T>(v: &mut Vec<Slot<T>>, id: Id) -> Option<T> {
            let i = v.iter().position(|s| s.id == id)?;
            Some(v.remove(i).obj)
        }
        fn end<T>(x: T, forget: bool) {
            if forget { std::mem::forget(x) } else { drop(x) }
        }
        if forget {
            self.m.graph.roots.insert(id);
        }
        match class {
            Class::Buffer => {
                if let Some(i) = self.bufs.iter().position(|b| b.id == id) {
                    let b = self.bufs.remove(i);
                    end(b.buf, forget);
                }
            }
            Class::Immediate => {
                let Some(mut l) = take(&mut self.imms, id) else {
                    return Ok(());
                };
                if forget {
                    if let Some(x) = self.m.execs.get_mut(&id) {
                        x.forgotten = true;
                    }
                    std::mem::forget(l);
                    return Ok(());
                }
                let plan = self.drop_plan(id);
                if plan.gated {
                    l.set_drop_timeout(SHORT_DROP);
                }
                let before = leak_log::here();
                drop(l);
                return self.dropped_exec(id, &plan, leak_log::here() > before);
            }
            Class::Queue => {
                let Some(mut q) = take(&mut self.queues, id) else {
                    return Ok(());
                };
                if forget {
                    if let Some(x) = self.m.execs.get_mut(&id) {
                        x.forgotten = true;
                    }
                    std::mem::forget(q);
                    return Ok(());
                }
                let plan = self.drop_plan(id);
                if plan.gated {
                    q.set_drop_timeout(SHORT_DROP);
                }
                let before = leak_log::here();
                drop(q);
                return self.dropped_exec(id, &plan, leak_log::here() > before);
            }
            Class::Regular => {
                if let Some(l) = take(&mut self.regs, id) {
                    end(l, forget)
                }
            }
            Class::Pool => {
                if let Some(p) = take(&mut self.pools, id) {
                    end(p, forget)
                }
            }
            Class::Event => {
                if let Some(e) = take(&mut self.events, id) {
                    end(e, forget);
                    if let Some(m) = self.m.events.get_mut(&id) {
                        m.slot_gone = true;
                    }
                    for p in self.m.pools.values_mut() {
                        p.live.retain(|_, e| *e != id);
                    }
                }
            }
            Class::Fence => {
                if let Some(f) = take(&mut self.fences, id) {
                    end(f, forget)
                }
            }
            Class::Kernel => {
                if let Some(k) = take(&mut self.kernels, id) {
                    end(k, forget)
                }
            }
            Class::Context => {
                if let Some(c) = take(&mut self.ctxs, id) {
                    end(c, forget)
                }
            }
        }
        Ok(())
    }

    /// What the model says of dropping executor `id` now.
    fn drop_plan(&self, id: Id) -> DropPlan {
        let x = self.m.execs.get(&id);
        DropPlan {
            gated: x.is_some_and(ExecM::gated),
            certain: self.m.certainly_blocked(id),
            short: x.is_some_and(|x| x.short_drop),
            panicking: std::thread::panicking(),
            queue: x.is_some_and(|x| x.queue),
        }
    }

    /// Executor `id` was dropped; `leaked`: the crate leaked it on purpose (seen on this
    /// thread). A drop of work certainly blocked must leak; a drop of work that can finish,
    /// with the long timeout, must not.
    fn dropped_exec(&mut self, id: Id, plan: &DropPlan, leaked: bool) -> Flow {
        let what = if plan.queue {
            "a queue"
        } else {
            "an immediate list"
        };
        let known = leak_log::installed();
        if known && !self.lost_injected() {
            if plan.certain && !leaked {
                return Err(format!(
                    "{what} whose work waits for an event nothing signals was dropped without leaking it: the work finished (or was released) although the event was never signalled"
                ));
            }
            if !plan.gated && leaked && !plan.short && !plan.panicking {
                return Err(format!(
                    "{what} whose work can finish was leaked on drop: its work did not finish within {LONG_DROP:?} (a hang)"
                ));
            }
        }
        let leaked = if known { leaked } else { plan.gated };
        if leaked {
            // Its work stays (and may still run, in order); so do its registrations of host
            // access, and everything it holds: a forgotten object for the leak check.
            self.leaked_any = true;
            self.leaked_drops += 1;
            self.leak = Some("a list or queue leaked on drop");
            self.m.graph.roots.insert(id);
            if let Some(x) = self.m.execs.get_mut(&id) {
                x.leaked = true;
                x.gone = true;
            }
        } else {
            if plan.queue {
                self.m.queue_idle(id);
            } else {
                self.imm_synced(id);
            }
            if let Some(x) = self.m.execs.get_mut(&id) {
                x.release();
                x.gone = true;
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Ordering: what the interpreter does before a command, so that the program means what
    // the model says.

    /// Prepares a command that `exec` runs using `uses`: returns `false` to skip it. Orders
    /// it after conflicting work of other lists and queues (when the crate does not:
    /// `Holes::cross_list_order` off), after conflicting work of the same relaxed list (a
    /// barrier), and keeps calls that block (`blocking`, or any append to a synchronous list
    /// or queue) away from work blocked on unsignalled events. What the command inherits from
    /// gated work it conflicts with is left in `self.inherit`.
    fn prepare(
        &mut self,
        exec: Exec,
        uses: &[Use],
        blocking: bool,
        devs: &[usize],
    ) -> Result<bool, String> {
        self.flush_abandoned();
        let mut blocking = blocking;
        if let Exec::Own(id, _) = exec
            && let Some(x) = self.m.execs.get(&id)
        {
            blocking |= x.sync_mode;
            if blocking && x.gated() {
                return Ok(false);
            }
            if !x.queue && x.relaxed && conflict(&x.since_barrier, uses) {
                let i = self.imms.iter().position(|s| s.id == id).expect("the list");
                let r = self.imms[i].obj.barrier();
                if self
                    .judge("barrier (ordering a relaxed list)", r, Expect::Ok)?
                    .is_some()
                {
                    let x = self.m.execs.get_mut(&id).expect("exec");
                    x.since_barrier.clear();
                }
            }
        }
        let me = match exec {
            Exec::Own(id, _) => Some(id),
            Exec::Transient => None,
        };
        self.note_hazards(me, uses);
        let cross = self.sh.holes.cross_list_order;
        let lost_guard = self.lost_injected() && !self.sh.holes.lost_copy;
        let others: Vec<Id> = self
            .m
            .execs
            .iter()
            .filter(|(xid, x)| {
                if !x.busy() {
                    return false;
                }
                let same = matches!(exec, Exec::Own(id, _) if id == **xid);
                let ordered_after = matches!(exec, Exec::Own(id, true) if id == **xid);
                let conflicting = conflict(&x.work_uses(), uses);
                if same {
                    // A queue's execution of a relaxed list is not ordered after the
                    // queue's earlier work.
                    return x.queue && !ordered_after && conflicting;
                }
                conflicting || (lost_guard && devs.contains(&x.dev))
            })
            .map(|(id, _)| *id)
            .collect();
        for y in others {
            let x = &self.m.execs[&y];
            let conflicting = conflict(&x.work_uses(), uses);
            let same = me == Some(y);
            if cross && conflicting && !same && !(lost_guard && devs.contains(&x.dev)) {
                // The crate orders it (hole 5 fixed): the command waits for that work.
                continue;
            }
            if x.gated() || x.forgotten || x.gone {
                return Ok(false);
            }
            self.sync_exec(y)?;
        }
        // Hazard tracking waits for conflicting work of other lists and queues (and for the
        // abandoned waits of those that marked the allocations), whoever ordered it.
        let inherited = self.m.conflict_gate(me, uses);
        if !inherited.is_empty() && blocking {
            return Ok(false);
        }
        self.inherit = inherited;
        self.inherit_for = me;
        Ok(true)
    }

    /// The last prepared command did not get appended: after a device loss, it may have
    /// failed after it was planned, and what it would have waited for stays with its
    /// timeline (the crate's abandoned waits).
    fn flush_abandoned(&mut self) {
        let inherited = std::mem::take(&mut self.inherit);
        if let Some(id) = self.inherit_for.take()
            && !inherited.is_empty()
            && self.lost_injected()
            && let Some(x) = self.m.execs.get_mut(&id)
        {
            x.abandoned.extend(inherited);
        }
    }

    /// A command of `me` (`None`: a list of the crate's) using `uses` may make every
    /// list and queue that marked one of its allocations publish (a catch-up), and holds
    /// their events while it waits: the leak bound of forgotten objects follows.
    fn note_hazards(&mut self, me: Option<Id>, uses: &[Use]) {
        let mut hit = Vec::new();
        for (id, x) in &self.m.execs {
            if Some(*id) == me {
                continue;
            }
            let touches = uses.iter().any(|u| {
                x.marked
                    .get(&u.alloc)
                    .is_some_and(|&wrote| wrote || u.write)
            });
            if touches {
                hit.push((x.tl, x.queue.then_some(*id)));
            }
        }
        let my_tl = me.and_then(|m| self.m.execs.get(&m)).map(|x| x.tl);
        for (tl, queue) in hit {
            self.m.graph.publication(tl);
            if let Some(q) = queue {
                // A publication executes an internal list, with an internal fence.
                self.m.graph.queue_internals(q, 1, 1);
            }
            if let Some(mine) = my_tl {
                self.m.graph.hold(mine, tl);
            }
        }
        if let Some(m) = me
            && let Some(x) = self.m.execs.get_mut(&m)
        {
            // Its own publication before the command (or of it, when synchronous).
            let tl = x.tl;
            for u in uses {
                *x.marked.entry(u.alloc).or_default() |= u.write;
            }
            self.m.graph.publication(tl);
            for u in uses {
                self.m.graph.hold(u.alloc, tl);
            }
        }
    }

    /// Synchronises an immediate list or a queue (unbounded: it is not blocked).
    fn sync_exec(&mut self, id: Id) -> Flow {
        if let Some(i) = self.imms.iter().position(|s| s.id == id) {
            let r = self.imms[i].obj.synchronize();
            let lost = r.as_ref().is_err_and(Error::is_device_lost);
            if self
                .judge("synchronize (ordering)", r, Expect::Ok)?
                .is_some()
                || lost
            {
                self.imm_synced(id);
            }
        } else if let Some(i) = self.queues.iter().position(|s| s.id == id) {
            let r = self.queues[i].obj.synchronize();
            let lost = r.as_ref().is_err_and(Error::is_device_lost);
            if self
                .judge("queue synchronize (ordering)", r, Expect::Ok)?
                .is_some()
                || lost
            {
                self.m.queue_idle(id);
            } else {
                self.m.reap_point(id);
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Buffer selection.

    /// A buffer (not away, not taken by a write guard) matching `ok`.
    fn buf(&self, idx: u8, ok: impl Fn(&BufSlot) -> bool) -> Option<usize> {
        pick(&self.bufs, idx, |b| {
            b.buf.is_some() && !self.away.contains(&b.id) && ok(b)
        })
    }

    fn region(&self, bi: usize, range: Option<(usize, usize)>) -> Region {
        let b = &self.bufs[bi];
        let sz = ty_size(b.ty);
        let (s, n) = range.unwrap_or((0, b.len));
        Region {
            alloc: b.id,
            off: s * sz,
            len: n * sz,
        }
    }

    fn arc<T: Elem>(&self, bi: usize) -> Arc<TBuf<T>> {
        T::of(self.bufs[bi].buf.as_ref().expect("present"))
            .expect("the element type")
            .clone()
    }

    // -----------------------------------------------------------------------------------
    // Commands on lists.

    /// Which list: (immediate?, slot index, list id).
    fn list(&self, on: On) -> Option<(bool, usize, Id)> {
        if on.regular {
            pick(&self.regs, on.idx, |s| !self.away.contains(&s.id))
                .map(|i| (false, i, self.regs[i].id))
        } else {
            pick(&self.imms, on.idx, |s| !self.away.contains(&s.id))
                .map(|i| (true, i, self.imms[i].id))
        }
    }

    /// (context, device, compute, max fill pattern) of a list.
    fn list_info(&self, imm: bool, id: Id) -> (Id, usize, bool, usize) {
        if imm {
            let x = &self.m.execs[&id];
            (x.ctx, x.dev, x.compute, x.max_fill)
        } else {
            let r = &self.m.regs[&id];
            (r.ctx, r.dev, r.compute, r.max_fill)
        }
    }

    /// The expectation for appending a command using `uses` (after the argument checks).
    fn append_expect(&self, imm: bool, id: Id, uses: &[Use]) -> Expect {
        if imm {
            if self.m.guard_conflict(uses) {
                Expect::Busy
            } else {
                Expect::Ok
            }
        } else {
            let (certain, possible) = self.m.list_executing(id);
            if certain {
                Expect::Busy
            } else if possible {
                if self.m.regs[&id].closed {
                    Expect::Any
                } else {
                    Expect::OkOrBusy
                }
            } else if self.m.regs[&id].closed {
                Expect::Invalid
            } else {
                Expect::Ok
            }
        }
    }

    /// Before appending to `on`: ordering for immediate lists (and relaxed regular lists).
    /// `false`: skip the command.
    fn before_append(
        &mut self,
        imm: bool,
        id: Id,
        uses: &[Use],
        blocking: bool,
    ) -> Result<bool, String> {
        if imm {
            let dev = self.m.execs[&id].dev;
            return self.prepare(Exec::Own(id, true), uses, blocking, &[dev]);
        }
        let r = &self.m.regs[&id];
        if r.relaxed
            && !r.closed
            && conflict(&r.since_barrier, uses)
            && !self.m.list_executing(id).1
        {
            let i = self.regs.iter().position(|s| s.id == id).expect("list");
            let res = self.regs[i].obj.barrier();
            if self
                .judge("barrier (ordering a relaxed list)", res, Expect::Ok)?
                .is_some()
            {
                self.m
                    .regs
                    .get_mut(&id)
                    .expect("list")
                    .since_barrier
                    .clear();
            }
        }
        Ok(true)
    }

    /// After a command was appended: the model applies it (immediate) or records it.
    fn appended(
        &mut self,
        imm: bool,
        id: Id,
        uses: &[Use],
        cmd: Cmd,
        events: &[Id],
        barrier: bool,
    ) {
        self.appended_seq(imm, id, uses, vec![cmd], events, barrier);
    }

    /// After one call appended `cmds` (in order: waits, the command, its signal): the model
    /// applies them (immediate lists: the list's work waits for what the command inherited
    /// from other lists' gated work, then for the events it waits for; its uses are pending
    /// with that gate) or records them (regular lists).
    fn appended_seq(
        &mut self,
        imm: bool,
        id: Id,
        uses: &[Use],
        cmds: Vec<Cmd>,
        events: &[Id],
        barrier: bool,
    ) {
        for u in uses {
            self.m.graph.hold(id, u.alloc);
        }
        for e in events {
            self.m.graph.hold(id, *e);
        }
        if trace() {
            eprintln!(
                "safe_api:   appended to {} {id}: {cmds:?}, uses {uses:?}, inherits {:?}",
                if imm { "immediate" } else { "regular" },
                self.inherit
            );
        }
        if imm {
            let inherited = std::mem::take(&mut self.inherit);
            self.inherit_for = None;
            self.m
                .execs
                .get_mut(&id)
                .expect("exec")
                .gate
                .extend(inherited);
            for cmd in &cmds {
                match cmd {
                    Cmd::Signal(e) => {
                        let gate = self.m.execs[&id].gate.clone();
                        self.m.signal_will(*e, gate);
                        self.m.execs.get_mut(&id).expect("exec").signals.insert(*e);
                    }
                    Cmd::Wait(e) => {
                        let g = self.m.wait_gate(*e);
                        let x = self.m.execs.get_mut(&id).expect("exec");
                        x.gate.extend(g);
                        x.waits.insert(*e);
                    }
                    _ => model::apply(cmd, &mut self.m.shadows),
                }
            }
            let x = self.m.execs.get_mut(&id).expect("exec");
            let gate = x.gate.clone();
            x.pending.extend(uses.iter().map(|u| (*u, gate.clone())));
            x.since_barrier.extend_from_slice(uses);
            x.events.extend(events.iter().copied());
            if barrier {
                x.since_barrier.clear();
            }
        } else {
            let r = self.m.regs.get_mut(&id).expect("list");
            r.uses.extend_from_slice(uses);
            r.since_barrier.extend_from_slice(uses);
            r.events.extend(events.iter().copied());
            if barrier {
                r.since_barrier.clear();
            }
            r.cmds.extend(cmds);
        }
    }

    /// Whether a list of device `dev` cannot reach `alloc` (another device's memory, with
    /// peer-to-peer access off).
    fn unreachable(&self, dev: usize, alloc: Id) -> bool {
        self.sh.faults.no_p2p
            && self
                .m
                .allocs
                .get(&alloc)
                .and_then(|a| a.dev)
                .is_some_and(|d| d != dev)
    }

    fn touches_away(&self, uses: &[Use]) -> bool {
        uses.iter().any(|u| self.away.contains(&u.alloc))
    }

    fn copy(&mut self, on: On, dst: Sel, src: u8, src_start: u16, mismatch: bool) -> Flow {
        let Some((imm, li, lid)) = self.list(on) else {
            return self.skip();
        };
        let Some(di) = self.buf(dst.buf, |_| true) else {
            return self.skip();
        };
        let ty = self.bufs[di].ty;
        let Some(si) = self.buf(src, |b| b.ty == ty) else {
            return self.skip();
        };
        let dlen = self.bufs[di].len;
        let slen = self.bufs[si].len;
        let mut drange = resolve_view(dst.view, dlen);
        let n = drange.map_or(dlen, |r| r.1);
        let srange = if drange.is_none() && n == slen && !mismatch {
            None
        } else if n <= slen {
            let n2 = if mismatch { (n + 1).min(slen) } else { n };
            let s = src_start as usize % (slen - n2 + 1);
            Some((s, n2))
        } else {
            // The source is shorter: copy a prefix of the destination.
            drange = Some((drange.map_or(0, |r| r.0).min(dlen - slen), slen));
            Some((0, slen))
        };
        let dreg = self.region(di, drange);
        let sreg = self.region(si, srange);
        let (lctx, ldev, _, _) = self.list_info(imm, lid);
        let dctx = self.m.allocs[&dreg.alloc].ctx;
        let sctx = self.m.allocs[&sreg.alloc].ctx;
        let n_d = drange.map_or(dlen, |r| r.1);
        let n_s = srange.map_or(slen, |r| r.1);
        let zst = ty == Ty::Zst;
        let (ex, uses) = if (n_d != n_s && !zst)
            || dctx != lctx
            || sctx != lctx
            || self.unreachable(ldev, dreg.alloc)
            || self.unreachable(ldev, sreg.alloc)
        {
            (Expect::Invalid, vec![])
        } else if dreg.len == 0 || (zst && n_d != n_s) {
            // Nothing to copy (ZST views of different lengths are both zero bytes long).
            (
                if zst && n_d != n_s {
                    Expect::OkOrInvalid
                } else {
                    Expect::Ok
                },
                vec![],
            )
        } else {
            let uses = vec![
                Use {
                    alloc: dreg.alloc,
                    write: true,
                },
                Use {
                    alloc: sreg.alloc,
                    write: false,
                },
            ];
            (self.append_expect(imm, lid, &uses), uses)
        };
        if self.touches_away(&uses) {
            return self.skip();
        }
        if !uses.is_empty() && !self.before_append(imm, lid, &uses, false)? {
            return self.skip();
        }
        let ex = if uses.is_empty() {
            ex
        } else {
            self.append_expect(imm, lid, &uses)
        };
        let ok = typed!(ty, T => {
            let d = self.arc::<T>(di);
            let s = self.arc::<T>(si);
            let r = if imm {
                let l = &mut self.imms[li].obj;
                with_mem!(d, drange, |dm| with_mem!(s, srange, |sm| l.copy(dm, sm)))
            } else {
                let l = &mut self.regs[li].obj;
                with_mem!(d, drange, |dm| with_mem!(s, srange, |sm| l.copy(dm, sm)))
            };
            self.judge("copy", r, ex)?.is_some()
        });
        if ok && !uses.is_empty() {
            self.appended(
                imm,
                lid,
                &uses,
                Cmd::Copy {
                    dst: dreg,
                    src: sreg,
                },
                &[],
                false,
            );
        }
        Ok(())
    }

    // `T` is `()` in one expansion of `typed!`.
    #[allow(clippy::let_unit_value)]
    fn fill(&mut self, on: On, dst: Sel, value: u64) -> Flow {
        let Some((imm, li, lid)) = self.list(on) else {
            return self.skip();
        };
        let Some(di) = self.buf(dst.buf, |_| true) else {
            return self.skip();
        };
        let ty = self.bufs[di].ty;
        let range = resolve_view(dst.view, self.bufs[di].len);
        let reg = self.region(di, range);
        let (lctx, ldev, _, max_fill) = self.list_info(imm, lid);
        let size = ty_size(ty);
        let pattern: Vec<u8> = value.to_le_bytes()[..size].to_vec();
        let uses = vec![Use {
            alloc: reg.alloc,
            write: true,
        }];
        let (ex, uses) = if !size.is_power_of_two() || size > max_fill {
            (
                if ty == Ty::Zst {
                    Expect::OkOrInvalid
                } else {
                    Expect::Invalid
                },
                vec![],
            )
        } else if self.m.allocs[&reg.alloc].ctx != lctx || self.unreachable(ldev, reg.alloc) {
            (Expect::Invalid, vec![])
        } else if reg.len == 0 {
            (Expect::Ok, vec![])
        } else {
            (Expect::Ok, uses)
        };
        if self.touches_away(&uses) {
            return self.skip();
        }
        if !uses.is_empty() && !self.before_append(imm, lid, &uses, false)? {
            return self.skip();
        }
        let ex = if uses.is_empty() {
            ex
        } else {
            self.append_expect(imm, lid, &uses)
        };
        let ok = typed!(ty, T => {
            let b = self.arc::<T>(di);
            let v: T = if size_of::<T>() == 0 { T::zeroed() } else { bytemuck::pod_read_unaligned(&pattern) };
            let r = if imm {
                let l = &mut self.imms[li].obj;
                with_mem!(b, range, |m| l.fill(m, v))
            } else {
                let l = &mut self.regs[li].obj;
                with_mem!(b, range, |m| l.fill(m, v))
            };
            self.judge("fill", r, ex)?.is_some()
        });
        if ok && !uses.is_empty() {
            self.appended(imm, lid, &uses, Cmd::Fill { dst: reg, pattern }, &[], false);
        }
        Ok(())
    }

    fn timestamp(&mut self, on: On, dst: Sel) -> Flow {
        let Some((imm, li, lid)) = self.list(on) else {
            return self.skip();
        };
        let Some(di) = self.buf(dst.buf, |b| b.ty == Ty::U64) else {
            return self.skip();
        };
        let range = resolve_view(dst.view, self.bufs[di].len);
        let reg = self.region(di, range);
        let (lctx, ldev, _, _) = self.list_info(imm, lid);
        let uses = vec![Use {
            alloc: reg.alloc,
            write: true,
        }];
        let (ex, uses) = if reg.len < 8
            || self.m.allocs[&reg.alloc].ctx != lctx
            || self.unreachable(ldev, reg.alloc)
        {
            (Expect::Invalid, vec![])
        } else {
            (Expect::Ok, uses)
        };
        if self.touches_away(&uses) {
            return self.skip();
        }
        if !uses.is_empty() && !self.before_append(imm, lid, &uses, false)? {
            return self.skip();
        }
        let ex = if uses.is_empty() {
            ex
        } else {
            self.append_expect(imm, lid, &uses)
        };
        let b = self.arc::<u64>(di);
        let r = if imm {
            let l = &mut self.imms[li].obj;
            with_mem!(b, range, |m| l.write_global_timestamp(m))
        } else {
            let l = &mut self.regs[li].obj;
            with_mem!(b, range, |m| l.write_global_timestamp(m))
        };
        if self.judge("write_global_timestamp", r, ex)?.is_some() && !uses.is_empty() {
            let dst = Region { len: 8, ..reg };
            self.appended(imm, lid, &uses, Cmd::Timestamp { dst }, &[], false);
        }
        Ok(())
    }

    fn barrier(&mut self, on: On, evs: Evs) -> Flow {
        let Some((imm, li, lid)) = self.list(on) else {
            return self.skip();
        };
        let Some((sig, wait)) = self.pick_evs(imm, lid, evs) else {
            return self.skip();
        };
        if !self.before_append(imm, lid, &[], false)? {
            return self.skip();
        }
        let ids: Vec<Id> = sig.iter().chain(wait.iter()).map(|e| e.1).collect();
        let mut ex = self.append_expect(imm, lid, &[]);
        if self.foreign_events(imm, lid, &ids) && matches!(ex, Expect::Ok) {
            ex = Expect::OkOrInvalid;
        }
        let se = sig.map(|(i, _)| self.events[i].obj.clone());
        let we = wait.map(|(i, _)| self.events[i].obj.clone());
        let waits: Vec<&Event> = we.iter().collect();
        let r = match (imm, evs == Evs::NONE) {
            (true, true) => self.imms[li].obj.barrier(),
            (false, true) => self.regs[li].obj.barrier(),
            (true, false) => self.imms[li].obj.barrier_with(se.as_ref(), &waits),
            (false, false) => self.regs[li].obj.barrier_with(se.as_ref(), &waits),
        };
        if self.judge("barrier", r, ex)?.is_some() {
            let mut cmds: Vec<Cmd> = wait.map(|w| Cmd::Wait(w.1)).into_iter().collect();
            cmds.push(Cmd::Nop);
            cmds.extend(sig.map(|s| Cmd::Signal(s.1)));
            self.appended_seq(imm, lid, &[], cmds, &ids, true);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn launch(
        &mut self,
        on: On,
        kernel: u8,
        a: Sel,
        b: u8,
        alias: u8,
        scalar: i8,
        group: u8,
        groups: u8,
        evs: Evs,
    ) -> Flow {
        let Some((imm, li, lid)) = self.list(on) else {
            return self.skip();
        };
        let Some(ki) = pick(&self.kernels, kernel, |_| true) else {
            return self.skip();
        };
        let Some((sig, wait)) = self.pick_evs(imm, lid, evs) else {
            return self.skip();
        };
        let ev_ids: Vec<Id> = sig.iter().chain(wait.iter()).map(|e| e.1).collect();
        let kid = self.kernels[ki].id;
        let (kctx, kdev, kind) = {
            let k = &self.m.kernels[&kid];
            (k.ctx, k.dev, k.kind)
        };
        let f32ish = |s: &BufSlot| s.ty == Ty::F32 || s.ty == Ty::U32;
        let in_ctx = |w: &World, s: &BufSlot| w.m.allocs.get(&s.id).is_some_and(|m| m.ctx == kctx);
        let Some(ai) = self.buf(a.buf, |s| f32ish(s) && in_ctx(self, s)) else {
            return self.skip();
        };
        let Some(bi) = self.buf(b, |s| f32ish(s) && in_ctx(self, s)) else {
            return self.skip();
        };
        let ci = match alias % 3 {
            1 => ai,
            2 => bi,
            _ => match self.buf(b.wrapping_add(alias / 3), |s| f32ish(s) && in_ctx(self, s)) {
                Some(c) => c,
                None => return self.skip(),
            },
        };
        let mut arange = resolve_view(a.view, self.bufs[ai].len).unwrap_or((0, self.bufs[ai].len));
        // Over as many floats as every argument has.
        arange.1 = arange.1.min(self.bufs[bi].len).min(self.bufs[ci].len);
        let n = arange.1;
        let place = |w: &World, i: usize| -> Option<(usize, usize)> {
            let len = w.bufs[i].len;
            if i == ai {
                return Some(arange);
            }
            (len >= n).then(|| ((arange.0).min(len - n), n))
        };
        let (Some(brange), Some(crange)) = (place(self, bi), place(self, ci)) else {
            return self.skip();
        };
        let regs = [
            self.region(ai, Some(arange)),
            self.region(bi, Some(brange)),
            self.region(ci, Some(crange)),
        ];
        // SAFETY argument below needs: arguments identical or disjoint.
        for (x, y) in [(0, 1), (0, 2), (1, 2)] {
            if regs[x].overlaps(&regs[y]) && regs[x] != regs[y] {
                return self.skip();
            }
        }
        let gsize = 1u32 << (group % 5);
        let mut count = 1 + u32::from(groups % 8);
        if (gsize * count) as usize > n {
            count = n as u32 / gsize;
        }
        if count == 0 {
            return self.skip();
        }
        let g = (gsize * count) as usize;
        let (lctx, ldev, compute, _) = self.list_info(imm, lid);
        let uses: Vec<Use> = regs
            .iter()
            .map(|r| Use {
                alloc: r.alloc,
                write: true,
            })
            .collect();
        let invalid = lctx != kctx || ldev != kdev || !compute;
        // Launches are unsafe: the interpreter only launches on memory the device reaches.
        if !invalid && regs.iter().any(|r| self.unreachable(ldev, r.alloc)) {
            return self.skip();
        }
        if !invalid && self.touches_away(&uses) {
            return self.skip();
        }
        // What the launch uses: the kernel's buffer arguments (not `b` for `saxpy`).
        let launch_uses: Vec<Use> = match kind {
            KernelKind::VectorAdd => uses.clone(),
            KernelKind::Saxpy => vec![uses[0], uses[2]],
            KernelKind::EmptyArgs => vec![uses[0]],
        };
        if !invalid && !self.before_append(imm, lid, &launch_uses, false)? {
            return self.skip();
        }
        let ex = if invalid {
            Expect::Invalid
        } else {
            self.append_expect(imm, lid, &launch_uses)
        };
        let a_f = f32::from(scalar) * 0.25;
        let set = {
            let [ta, tb, tc] = [ai, bi, ci].map(|i| self.bufs[i].ty);
            let kernel = &mut self.kernels[ki].obj;
            let mut r = kernel.set_group_size([gsize, 1, 1]);
            macro_rules! arg {
                ($idx:expr, $bi:expr, $ty:expr, $range:expr) => {
                    if r.is_ok() {
                        let any = self.bufs[$bi].buf.as_ref().expect("present");
                        r = match $ty {
                            Ty::F32 => {
                                let b = f32::of(any).expect("f32").clone();
                                with_mem!(b, Some($range), |m| kernel.set_arg_buffer($idx, m))
                            }
                            _ => {
                                let b = u32::of(any).expect("u32").clone();
                                with_mem!(b, Some($range), |m| kernel.set_arg_buffer($idx, m))
                            }
                        };
                    }
                };
            }
            match kind {
                KernelKind::VectorAdd => {
                    arg!(0, ai, ta, arange);
                    arg!(1, bi, tb, brange);
                    arg!(2, ci, tc, crange);
                }
                KernelKind::Saxpy => {
                    if r.is_ok() {
                        r = kernel.set_arg(0, &a_f);
                    }
                    arg!(1, ai, ta, arange);
                    arg!(2, ci, tc, crange);
                }
                KernelKind::EmptyArgs => {
                    arg!(0, ai, ta, arange);
                    if r.is_ok() {
                        r = kernel.set_arg(1, &(g as u32));
                    }
                }
            }
            r
        };
        if self.judge("kernel arguments", set, Expect::Ok)?.is_none() {
            return Ok(());
        }
        // The kernel holds its argument buffers until they are set anew.
        for u in &uses {
            self.m.graph.hold(kid, u.alloc);
        }
        let uses = launch_uses;
        let mut ex = if invalid {
            ex
        } else {
            self.append_expect(imm, lid, &uses)
        };
        if !invalid && self.foreign_events(imm, lid, &ev_ids) && matches!(ex, Expect::Ok) {
            ex = Expect::OkOrInvalid;
        }
        let kernel = &self.kernels[ki].obj;
        let se = sig.map(|(i, _)| self.events[i].obj.clone());
        let we = wait.map(|(i, _)| self.events[i].obj.clone());
        let waits: Vec<&Event> = we.iter().collect();
        let r = if evs != Evs::NONE {
            let g = [count, 1, 1];
            if imm {
                // SAFETY: the kernels of `kernels/` touch only their buffer arguments, at indices
                // below the global size, which is at most the length (in floats) of every buffer
                // argument (checked above); arguments in one allocation are identical or disjoint
                // (checked above), and each work-item reads and writes only its own index, so no
                // two work-items race. Other device work on the same memory is ordered before the
                // launch: by `before_append` (barriers on relaxed lists; other lists and queues
                // synchronised), or, with `Holes::cross_list_order` on, by the crate (which is what
                // that switch tests). The launch keeps the argument buffers alive.
                // The events only add waits and a signal.
                unsafe {
                    self.imms[li]
                        .obj
                        .launch_with(kernel, g, se.as_ref(), &waits)
                }
            } else {
                // SAFETY: as above.
                unsafe {
                    self.regs[li]
                        .obj
                        .launch_with(kernel, g, se.as_ref(), &waits)
                }
            }
        } else if imm {
            // SAFETY: as above.
            unsafe { self.imms[li].obj.launch(kernel, [count, 1, 1]) }
        } else {
            // SAFETY: as above.
            unsafe { self.regs[li].obj.launch(kernel, [count, 1, 1]) }
        };
        if self.judge("launch", r, ex)?.is_some() {
            let [ra, rb, rc] = regs;
            let cmd = match kind {
                KernelKind::VectorAdd => Cmd::VectorAdd {
                    a: ra,
                    b: rb,
                    c: rc,
                    n: g,
                },
                KernelKind::Saxpy => Cmd::Saxpy {
                    a: a_f,
                    x: ra,
                    y: rc,
                    n: g,
                },
                KernelKind::EmptyArgs => Cmd::Nop,
            };
            self.m.graph.hold(lid, kid);
            let mut cmds: Vec<Cmd> = wait.map(|w| Cmd::Wait(w.1)).into_iter().collect();
            cmds.push(cmd);
            cmds.extend(sig.map(|s| Cmd::Signal(s.1)));
            self.appended_seq(imm, lid, &uses, cmds, &ev_ids, false);
        }
        Ok(())
    }

    /// Whether event command `what` of list `lid` on event `eid` keeps the program's own
    /// event use deterministic (and a synchronous list from waiting for good).
    fn event_allowed(&self, imm: bool, lid: Id, eid: Id, what: EvCmd) -> bool {
        let em = &self.m.events[&eid];
        // Keep the program's event use deterministic: no races between a reset and a signal
        // or wait of the same event on different lists.
        let state = em.state.clone();
        let resetting = em.resetting;
        let others_use =
            self.m
                .execs
                .iter()
                .any(|(x, m)| *x != lid && m.references_event(eid))
                || self.m.regs.iter().any(|(r, m)| {
                    *r != lid && m.events.contains(&eid) && self.m.list_executing(*r).1
                });
        match what {
            EvCmd::Wait => {
                // A wait behind a pending reset would need the host's signal after the reset
                // ran: a race of the program's own.
                if resetting.is_some() {
                    return false;
                }
                if self.lost_injected() && matches!(state, Ev::Will(_)) {
                    return false;
                }
            }
            EvCmd::Signal => {
                if resetting.is_some_and(|r| r != lid) {
                    return false;
                }
                let gated = if imm {
                    self.m.execs[&lid].gated()
                } else {
                    false
                };
                if gated {
                    return false;
                }
            }
            EvCmd::Reset => {
                // Behind a gate, the reset runs at a time the program does not know.
                if self.m.execs[&lid].gated() {
                    return false;
                }
                if others_use || self.m.event_in_gate(eid) || matches!(state, Ev::Will(_)) {
                    return false;
                }
            }
        }
        if what == EvCmd::Wait
            && ((imm && self.m.execs[&lid].sync_mode) || self.lost_blocked_guard())
            && !self.m.wait_gate(eid).is_empty()
        {
            // A synchronous list's append would return only once the event is signalled;
            // hole 6: blocked work on a lost device hangs every wait on it.
            return false;
        }
        true
    }

    /// The events of `evs` for a command of list `lid`, if the program may use them:
    /// (signal, wait), each (slot, id).
    #[allow(clippy::type_complexity)]
    fn pick_evs(
        &self,
        imm: bool,
        lid: Id,
        evs: Evs,
    ) -> Option<(Option<(usize, Id)>, Option<(usize, Id)>)> {
        let mut out = [None, None];
        for (k, (idx, what)) in [(evs.signal, EvCmd::Signal), (evs.wait, EvCmd::Wait)]
            .into_iter()
            .enumerate()
        {
            let Some(idx) = idx else { continue };
            let ei = pick(&self.events, idx, |_| true)?;
            let eid = self.events[ei].id;
            if !self.event_allowed(imm, lid, eid, what) {
                return None;
            }
            out[k] = Some((ei, eid));
        }
        Some((out[0], out[1]))
    }

    /// Whether an event of `ids` belongs to another context than list `lid`'s.
    fn foreign_events(&self, imm: bool, lid: Id, ids: &[Id]) -> bool {
        let (lctx, _, _, _) = self.list_info(imm, lid);
        ids.iter()
            .any(|e| self.m.events.get(e).is_some_and(|m| m.ctx != lctx))
    }

    fn event_cmd(&mut self, on: On, event: u8, what: EvCmd) -> Flow {
        let Some((imm, li, lid)) = self.list(on) else {
            return self.skip();
        };
        let Some(ei) = pick(&self.events, event, |_| true) else {
            return self.skip();
        };
        let eid = self.events[ei].id;
        let (lctx, _, _, _) = self.list_info(imm, lid);
        let foreign = self.m.events[&eid].ctx != lctx;
        if !self.event_allowed(imm, lid, eid, what) {
            return self.skip();
        }
        if !self.before_append(imm, lid, &[], false)? {
            return self.skip();
        }
        let mut ex = self.append_expect(imm, lid, &[]);
        if foreign && matches!(ex, Expect::Ok) {
            ex = Expect::OkOrInvalid;
        }
        let e = self.events[ei].obj.clone();
        let r = match (imm, what) {
            (true, EvCmd::Signal) => self.imms[li].obj.signal_event(&e),
            (true, EvCmd::Wait) => self.imms[li].obj.wait_events(&[&e]),
            (true, EvCmd::Reset) => self.imms[li].obj.reset_event(&e),
            (false, EvCmd::Signal) => self.regs[li].obj.signal_event(&e),
            (false, EvCmd::Wait) => self.regs[li].obj.wait_events(&[&e]),
            (false, EvCmd::Reset) => return self.skip(),
        };
        if self.judge("event command", r, ex)?.is_some() {
            match what {
                EvCmd::Signal => self.appended(imm, lid, &[], Cmd::Signal(eid), &[eid], false),
                EvCmd::Wait => self.appended(imm, lid, &[], Cmd::Wait(eid), &[eid], false),
                EvCmd::Reset => {
                    self.appended(imm, lid, &[], Cmd::Nop, &[eid], false);
                    let m = self.m.events.get_mut(&eid).expect("event");
                    m.state = Ev::Unsignalled;
                    m.resetting = Some(lid);
                }
            }
        }
        Ok(())
    }

    /// `copy_from_slice` (`seed` given) or `copy_to_slice` on an immediate list.
    fn host_copy(&mut self, list: u8, sel: Sel, seed: Option<u8>) -> Flow {
        let Some(li) = pick(&self.imms, list, |s| !self.away.contains(&s.id)) else {
            return self.skip();
        };
        let lid = self.imms[li].id;
        let Some(bi) = self.buf(sel.buf, |_| true) else {
            return self.skip();
        };
        let ty = self.bufs[bi].ty;
        let range = resolve_view(sel.view, self.bufs[bi].len);
        let reg = self.region(bi, range);
        let n = range.map_or(self.bufs[bi].len, |r| r.1);
        let lctx = self.m.execs[&lid].ctx;
        let write = seed.is_some();
        let uses = vec![Use {
            alloc: reg.alloc,
            write,
        }];
        let ex = if self.m.allocs[&reg.alloc].ctx != lctx
            || self.unreachable(self.m.execs[&lid].dev, reg.alloc)
        {
            Expect::Invalid
        } else if reg.len == 0 {
            Expect::Ok
        } else {
            if !self.prepare(Exec::Own(lid, true), &uses, true, &[self.m.execs[&lid].dev])? {
                return self.skip();
            }
            self.append_expect(true, lid, &uses)
        };
        let data = seed.map(|s| model::data(s, reg.off as u64 ^ reg.len as u64, reg.len));
        let got: Option<Vec<u8>> = typed!(ty, T => {
            let b = self.arc::<T>(bi);
            let l = &mut self.imms[li].obj;
            match &data {
                Some(d) => {
                    let src = vec_from_bytes::<T>(d, n);
                    let r = with_mem!(b, range, |m| l.copy_from_slice(m, &src));
                    self.judge("copy_from_slice", r, ex)?.map(|()| Vec::new())
                }
                None => {
                    let mut out = vec![T::zeroed(); n];
                    // A pattern the copy overwrites, to see late writes.
                    bytemuck::cast_slice_mut::<T, u8>(&mut out).fill(0xa5);
                    let r = with_mem!(b, range, |m| l.copy_to_slice(&mut out, m));
                    if r.is_err() && self.lost_injected() && !out.is_empty() {
                        // Hole 3: the borrow of `out` ends with the call; nothing may write it
                        // afterwards. Watch its end (copies run forwards) for a moment after an
                        // error.
                        let bytes = bytes_of_slice(&out);
                        let tail = bytes.len().saturating_sub(64);
                        // The end first, then the start: begun and not finished when the call
                        // returned means still running.
                        let before = bytes[tail..].to_vec();
                        let head_written = bytes[..64.min(bytes.len())].iter().any(|&x| x != 0xa5);
                        let tail_untouched = before.iter().all(|&x| x == 0xa5);
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        if (head_written && tail_untouched && bytes.len() > 128)
                            || bytes_of_slice(&out)[tail..] != before[..]
                        {
                            return Err(format!(
                                "copy_to_slice returned {:?} and the driver went on writing the slice it had borrowed",
                                r.as_ref().err()
                            ));
                        }
                    }
                    self.judge("copy_to_slice", r, ex)?.map(|()| bytes_of_slice(&out).to_vec())
                }
            }
        });
        let Some(got) = got else {
            return Ok(());
        };
        if reg.len == 0 {
            return Ok(());
        }
        // The call synchronised the list: everything it ran is done.
        self.imm_synced(lid);
        match data {
            Some(d) => {
                self.m
                    .shadows
                    .get_mut(&reg.alloc)
                    .expect("shadow")
                    .write(reg.off, &d);
                self.m.graph.hold(lid, reg.alloc);
            }
            None => {
                self.refresh_lost();
                self.m.shadows[&reg.alloc]
                    .check(reg.off, &got)
                    .map_err(|e| {
                        format!(
                            "copy_to_slice of a {ty:?} {:?} buffer: {e}",
                            self.bufs[bi].kind
                        )
                    })?;
            }
        }
        Ok(())
    }

    fn list_sync(&mut self, list: u8, wait: Wait) -> Flow {
        let Some(li) = pick(&self.imms, list, |s| !self.away.contains(&s.id)) else {
            return self.skip();
        };
        let lid = self.imms[li].id;
        if wait == Wait::Unbounded && self.m.execs[&lid].gated() {
            return self.skip();
        }
        let r = self.imms[li].obj.synchronize_timeout(wait.timeout());
        let lost = r.as_ref().is_err_and(Error::is_device_lost);
        if let Some(done) = self.judge("synchronize_timeout", r, Expect::Ok)? {
            if done {
                self.imm_synced(lid);
            } else if wait == Wait::Unbounded {
                return Err("synchronize_timeout(None) returned false".into());
            }
        } else if lost {
            self.imm_synced(lid);
        }
        Ok(())
    }

    /// Immediate list `id` was seen idle (or its device lost): its work is done.
    fn imm_synced(&mut self, id: Id) {
        let Some(x) = self.m.execs.get_mut(&id) else {
            return;
        };
        let events: Vec<Id> = x.signals.iter().copied().collect();
        x.release();
        for m in self.m.events.values_mut() {
            if m.resetting == Some(id) {
                m.resetting = None;
            }
        }
        self.m.settle(&events);
    }

    /// Moves what a finished catch scope created to the enclosing depth.
    fn retag(&mut self, depth: usize) {
        let d = depth - 1;
        macro_rules! down {
            ($f:ident) => {
                for s in &mut self.$f {
                    if s.depth >= depth {
                        s.depth = d;
                    }
                }
            };
        }
        down!(ctxs);
        down!(bufs);
        down!(imms);
        down!(regs);
        down!(queues);
        down!(pools);
        down!(events);
        down!(fences);
        down!(kernels);
        for t in &mut self.threads {
            if t.0 >= depth {
                t.0 = d;
            }
        }
    }

    fn close(&mut self, list: u8) -> Flow {
        let Some(li) = pick(&self.regs, list, |s| !self.away.contains(&s.id)) else {
            return self.skip();
        };
        let lid = self.regs[li].id;
        let (certain, possible) = self.m.list_executing(lid);
        let ex = if certain {
            Expect::Busy
        } else if possible {
            Expect::OkOrBusy
        } else {
            Expect::Ok
        };
        let r = self.regs[li].obj.close();
        if self.judge("close", r, ex)?.is_some() {
            self.m.regs.get_mut(&lid).expect("list").closed = true;
            if !self.regs[li].obj.is_closed() {
                return Err("close returned Ok and is_closed() is false".into());
            }
        }
        Ok(())
    }

    fn reset_list(&mut self, list: u8) -> Flow {
        let Some(li) = pick(&self.regs, list, |s| !self.away.contains(&s.id)) else {
            return self.skip();
        };
        let lid = self.regs[li].id;
        let (certain, possible) = self.m.list_executing(lid);
        let ex = if certain {
            Expect::Busy
        } else if possible {
            Expect::OkOrBusy
        } else {
            Expect::Ok
        };
        let r = self.regs[li].obj.reset();
        if self.judge("reset", r, ex)?.is_some() {
            let m = self.m.regs.get_mut(&lid).expect("list");
            m.closed = false;
            m.cmds.clear();
            m.uses.clear();
            m.since_barrier.clear();
            m.events.clear();
            if possible {
                // Reset Ok: no execution held it, so those were complete.
                let done: Vec<(Id, Id)> = self
                    .m
                    .execs
                    .iter()
                    .flat_map(|(q, x)| {
                        x.subs
                            .iter()
                            .filter(|s| s.lists.contains(&lid))
                            .map(|s| (*q, s.id))
                    })
                    .collect();
                for (q, s) in done {
                    self.m.sub_done(q, s);
                }
            }
        }
        Ok(())
    }

    fn execute(&mut self, queue: u8, lists: [u8; 2], two: bool, fence: Option<u8>) -> Flow {
        let Some(qi) = pick(&self.queues, queue, |_| true) else {
            return self.skip();
        };
        let qid = self.queues[qi].id;
        let mut chosen = Vec::new();
        for (k, l) in lists.iter().enumerate() {
            if k == 1 && !two {
                break;
            }
            let Some(li) = pick(&self.regs, *l, |s| !self.away.contains(&s.id)) else {
                return self.skip();
            };
            chosen.push(li);
        }
        let ids: Vec<Id> = chosen.iter().map(|&i| self.regs[i].id).collect();
        let fence_slot = match fence {
            Some(f) => match pick(&self.fences, f, |_| true) {
                Some(fi) => Some(fi),
                None => return self.skip(),
            },
            None => None,
        };
        let q = &self.m.execs[&qid];
        let (qctx, qdev, qcompute) = (q.ctx, q.dev, q.compute);
        let q_ordinal = self
            .group_info(
                &self.sh.devices[qdev],
                if qcompute {
                    Engine::Compute
                } else {
                    Engine::Copy
                },
            )?
            .0;
        let fence_info = fence_slot.map(|fi| {
            let fid = self.fences[fi].id;
            (fid, self.m.fences[&fid].queue, self.m.fences[&fid].state)
        });
        // What the crate decides, in its order: the fence's queue; then each list in turn
        // (closed, context, device and group: invalid; still executing, or given twice: Busy);
        // host access (Busy); the fence still attached (Busy).
        // `execute` first reaps the queue's completed executions.
        self.m.reap_point(qid);
        let invalid = fence_info.is_some_and(|(_, fq, _)| fq != qid)
            || ids.iter().any(|id| {
                let r = &self.m.regs[id];
                !r.closed || r.ctx != qctx || r.dev != qdev || r.ordinal != q_ordinal
            });
        let mut uses: Vec<Use> = Vec::new();
        for id in &ids {
            uses.extend(self.m.regs[id].uses.iter().copied());
        }
        if self.touches_away(&uses) {
            return self.skip();
        }
        let all_in_order = ids.iter().all(|id| !self.m.regs[id].relaxed);
        if ids.len() == 2 && !all_in_order {
            let (a, b) = (&self.m.regs[&ids[0]].uses, &self.m.regs[&ids[1]].uses);
            if conflict(a, b) {
                return self.skip();
            }
        }
        // Hole 1: a signalled (or still attached) fence lets the queue release the execution
        // at once; with the switch off, only fresh fences are used.
        if let Some((_, fq, state)) = fence_info
            && fq == qid
            && state != FenceState::Fresh
            && !self.sh.holes.signalled_fence
        {
            return self.skip();
        }
        // Events the lists signal or wait on while an immediate list may still reset them:
        // the program's own race.
        let racing = ids
            .iter()
            .flat_map(|id| self.m.regs[id].cmds.iter())
            .any(|c| match c {
                Cmd::Signal(e) | Cmd::Wait(e) => {
                    self.m.events.get(e).is_some_and(|m| m.resetting.is_some())
                }
                _ => false,
            });
        if racing {
            return self.skip();
        }
        // Hole 4: an execution that would wait for an event the program can no longer signal
        // (its handle dropped) could never complete; dropping its queue would hang.
        if !self.sh.holes.panic_wait {
            let unsignallable = ids
                .iter()
                .flat_map(|id| self.m.regs[id].cmds.iter())
                .any(|c| match c {
                    Cmd::Wait(e) => self
                        .m
                        .wait_gate(*e)
                        .iter()
                        .any(|g| self.m.events.get(g).is_none_or(|m| m.slot_gone)),
                    _ => false,
                });
            if unsignallable {
                return self.skip();
            }
        }
        // A synchronous queue's execution returns once it completed: never one that waits
        // for an event nothing signalled yet.
        if !invalid && (self.m.execs[&qid].sync_mode || self.lost_blocked_guard()) {
            let waits = ids
                .iter()
                .flat_map(|id| self.m.regs[id].cmds.iter())
                .any(|c| matches!(c, Cmd::Wait(e) if !self.m.wait_gate(*e).is_empty()));
            if waits {
                return self.skip();
            }
        }
        if !invalid && !self.prepare(Exec::Own(qid, all_in_order), &uses, false, &[qdev])? {
            return self.skip();
        }
        // Internal lists for the execution's hazard waits and signal.
        self.m.graph.queue_internals(qid, 2, 1);
        // What the crate decides, in its order: the fence's queue; then each list in turn
        // (closed, context, device and group: invalid; still executing, or given twice: Busy);
        // host access (Busy); the fence still attached (Busy).
        let mut ex = None;
        let mut why = "";
        if let Some((_, fq, _)) = fence_info
            && fq != qid
        {
            ex = Some(Expect::Invalid);
        }
        for (k, id) in ids.iter().enumerate() {
            if ex.is_some() {
                break;
            }
            let r = &self.m.regs[id];
            if !r.closed || r.ctx != qctx || r.dev != qdev || r.ordinal != q_ordinal {
                ex = Some(Expect::Invalid);
                break;
            }
            let (certain, possible) = self.m.list_executing(*id);
            if certain || (k == 1 && ids[0] == *id) {
                why = if certain {
                    "list executing (unreaped)"
                } else {
                    "list given twice"
                };
                ex = Some(Expect::Busy);
            } else if possible {
                ex = Some(Expect::Any);
            }
        }
        let ex = match ex {
            Some(ex) => ex,
            None if self.m.guard_conflict(&uses) => {
                why = "host guard conflict";
                Expect::Busy
            }
            None => match fence_info {
                // Used since its last reset (hole 1, fixed): refused, Busy while the
                // execution may be pending.
                Some((_, _, FenceState::Attached { .. })) => Expect::BusyOrInvalid,
                Some((_, _, FenceState::Signalled)) => Expect::Invalid,
                Some((_, _, FenceState::Unknown)) => Expect::OkOrInvalid,
                _ => Expect::Ok,
            },
        };
        let lists: Vec<&CommandList> = chosen.iter().map(|&i| &self.regs[i].obj).collect();
        let r = match fence_slot {
            Some(fi) => self.queues[qi]
                .obj
                .execute_with_fence(&lists, &self.fences[fi].obj),
            None => self.queues[qi].obj.execute(&lists),
        };
        self.m.reap_point(qid);
        if self.judge(&format!("execute ({why})"), r, ex)?.is_none() {
            // A failure after the fence was checked (a lost device) leaves it used.
            if let Some((fid, _, FenceState::Fresh)) = fence_info {
                self.m.fences.get_mut(&fid).expect("fence").state = FenceState::Unknown;
            }
            return Ok(());
        }
        // Ok: the lists run now, in order, after what the execution inherited from other
        // lists' and queues' gated work.
        let mut gate: BTreeSet<Id> = self.m.execs[&qid].all_gate();
        gate.extend(std::mem::take(&mut self.inherit));
        self.inherit_for = None;
        let mut waits = BTreeSet::new();
        let mut events = BTreeSet::new();
        let mut signals = BTreeSet::new();
        let cmds: Vec<Cmd> = ids
            .iter()
            .flat_map(|id| self.m.regs[id].cmds.clone())
            .collect();
        for c in &cmds {
            match c {
                Cmd::Signal(e) => {
                    events.insert(*e);
                    signals.insert(*e);
                    self.m.signal_will(*e, gate.clone());
                }
                Cmd::Wait(e) => {
                    events.insert(*e);
                    waits.insert(*e);
                    gate.extend(self.m.wait_gate(*e));
                }
                c => model::apply(c, &mut self.m.shadows),
            }
        }
        let sub = fresh();
        if trace() {
            eprintln!("safe_api:   executed on {qid} lists {ids:?}: uses {uses:?}, gate {gate:?}");
        }
        let (fence_id, clean) = match fence_info {
            Some((fid, _, state)) => (Some(fid), state == FenceState::Fresh),
            None => (None, false),
        };
        if let Some(fid) = fence_id {
            self.m.fences.get_mut(&fid).expect("fence").state = FenceState::Attached { sub };
        }
        let fence_node = fresh();
        self.m.graph.node(fence_node, Node::Fence);
        self.m.graph.hold(qid, fence_node);
        for id in &ids {
            self.m.graph.hold(qid, *id);
        }
        if let Some(fid) = fence_id {
            self.m.graph.hold(qid, fid);
        }
        self.m.execs.get_mut(&qid).expect("queue").subs.push(Sub {
            id: sub,
            uses,
            lists: ids,
            fence: fence_id,
            clean,
            unreaped: true,
            gate,
            waits,
            events,
            signals,
        });
        Ok(())
    }

    fn queue_sync(&mut self, queue: u8, wait: Wait) -> Flow {
        let Some(qi) = pick(&self.queues, queue, |_| true) else {
            return self.skip();
        };
        let qid = self.queues[qi].id;
        if wait == Wait::Unbounded && self.m.execs[&qid].gated() {
            return self.skip();
        }
        let r = self.queues[qi].obj.synchronize_timeout(wait.timeout());
        let lost = r.as_ref().is_err_and(Error::is_device_lost);
        match self.judge("queue synchronize_timeout", r, Expect::Ok)? {
            Some(true) => self.m.queue_idle(qid),
            Some(false) if wait == Wait::Unbounded => {
                return Err("queue synchronize_timeout(None) returned false".into());
            }
            _ if lost => self.m.queue_idle(qid),
            _ => self.m.reap_point(qid),
        }
        Ok(())
    }

    fn in_flight(&mut self, queue: u8) -> Flow {
        let Some(qi) = pick(&self.queues, queue, |_| true) else {
            return self.skip();
        };
        let qid = self.queues[qi].id;
        let n = self.queues[qi].obj.in_flight();
        self.m.reap_point(qid);
        let subs = self.m.execs[&qid].subs.len();
        if n > subs {
            return Err(format!(
                "in_flight() is {n}, the model has {subs} executions not known complete"
            ));
        }
        if n == 0 {
            self.m.queue_idle(qid);
        }
        Ok(())
    }

    fn fence_sync(&mut self, fence: u8, wait: Wait) -> Flow {
        let Some(fi) = pick(&self.fences, fence, |_| true) else {
            return self.skip();
        };
        let fid = self.fences[fi].id;
        let (qid, state) = (self.m.fences[&fid].queue, self.m.fences[&fid].state);
        if wait == Wait::Unbounded {
            let ok = match state {
                FenceState::Signalled => true,
                FenceState::Fresh | FenceState::Unknown => false,
                FenceState::Attached { sub } => self.m.execs[&qid]
                    .subs
                    .iter()
                    .find(|s| s.id == sub)
                    .is_none_or(|s| s.gate.is_empty()),
            };
            if !ok {
                return self.skip();
            }
        }
        let r = self.fences[fi].obj.synchronize_timeout(wait.timeout());
        self.m.reap_point(qid);
        let lost = r.as_ref().is_err_and(Error::is_device_lost);
        match self.judge("fence synchronize_timeout", r, Expect::Ok)? {
            Some(true) => self.fence_signalled(fid),
            Some(false) => {
                if wait == Wait::Unbounded {
                    return Err("fence synchronize_timeout(None) returned false".into());
                }
                if state == FenceState::Signalled {
                    return Err("a signalled fence reported not signalled".into());
                }
            }
            None if lost => {}
            None => {}
        }
        Ok(())
    }

    /// The fence was seen signalled: a clean attached execution is complete.
    fn fence_signalled(&mut self, fid: Id) {
        let (qid, state) = (self.m.fences[&fid].queue, self.m.fences[&fid].state);
        if let FenceState::Attached { sub } = state {
            let clean = self.m.execs[&qid]
                .subs
                .iter()
                .find(|s| s.id == sub)
                .map(|s| s.clean);
            match clean {
                Some(true) | None => self.m.sub_done(qid, sub),
                Some(false) => {}
            }
        }
    }

    fn fence_reset(&mut self, fence: u8) -> Flow {
        let Some(fi) = pick(&self.fences, fence, |_| true) else {
            return self.skip();
        };
        let fid = self.fences[fi].id;
        let (qid, state) = (self.m.fences[&fid].queue, self.m.fences[&fid].state);
        let ex = match state {
            FenceState::Attached { .. } => Expect::OkOrBusy,
            _ => Expect::Ok,
        };
        let r = self.fences[fi].obj.reset();
        self.m.reap_point(qid);
        if self.judge("fence reset", r, ex)?.is_some() {
            if let FenceState::Attached { sub } = state {
                // Reset Ok: the queue had released that execution, so it was complete.
                self.m.sub_done(qid, sub);
            }
            self.m.fences.get_mut(&fid).expect("fence").state = FenceState::Fresh;
        }
        Ok(())
    }

    fn fence_query(&mut self, fence: u8) -> Flow {
        let Some(fi) = pick(&self.fences, fence, |_| true) else {
            return self.skip();
        };
        let fid = self.fences[fi].id;
        let (qid, state) = (self.m.fences[&fid].queue, self.m.fences[&fid].state);
        let r = self.fences[fi].obj.is_signaled();
        self.m.reap_point(qid);
        if let Some(s) = self.judge("fence is_signaled", r, Expect::Ok)? {
            match (state, s) {
                (FenceState::Signalled, false) => {
                    return Err("a signalled fence reported not signalled".into());
                }
                (FenceState::Fresh, true) => {
                    return Err("a fresh fence reported signalled".into());
                }
                (FenceState::Attached { .. }, true) => self.fence_signalled(fid),
                _ => {}
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Host event operations.

    fn event_host_expect(&self, eid: Id) -> Expect {
        if self.m.events[&eid].host_visible {
            Expect::Ok
        } else {
            Expect::Any
        }
    }

    fn host_signal(&mut self, event: u8) -> Flow {
        let Some(ei) = pick(&self.events, event, |_| true) else {
            return self.skip();
        };
        let eid = self.events[ei].id;
        if self.m.events[&eid].resetting.is_some() {
            return self.skip();
        }
        let ex = self.event_host_expect(eid);
        let r = self.events[ei].obj.host_signal();
        if self.judge("host_signal", r, ex)?.is_some() {
            self.m.host_signalled(eid);
        }
        Ok(())
    }

    fn host_reset(&mut self, event: u8) -> Flow {
        let Some(ei) = pick(&self.events, event, |_| true) else {
            return self.skip();
        };
        let eid = self.events[ei].id;
        let m = &self.m.events[&eid];
        // A reset racing with device work that signals or waits is the program's race.
        if self.m.event_referenced(eid) || matches!(m.state, Ev::Will(_)) {
            return self.skip();
        }
        let ex = self.event_host_expect(eid);
        let r = self.events[ei].obj.host_reset();
        if self.judge("host_reset", r, ex)?.is_some() {
            self.m.events.get_mut(&eid).expect("event").state = Ev::Unsignalled;
        }
        Ok(())
    }

    fn host_sync(&mut self, event: u8, wait: Wait) -> Flow {
        let Some(ei) = pick(&self.events, event, |_| true) else {
            return self.skip();
        };
        let eid = self.events[ei].id;
        let m = &self.m.events[&eid];
        let (state, resetting) = (m.state.clone(), m.resetting);
        let will = match &state {
            Ev::Signalled => resetting.is_none(),
            Ev::Will(s) => s.is_empty() && !self.lost_injected(),
            Ev::Unsignalled => false,
        };
        if wait == Wait::Unbounded && !(will && self.m.events[&eid].host_visible) {
            return self.skip();
        }
        let ex = self.event_host_expect(eid);
        let r = self.events[ei].obj.host_synchronize_timeout(wait.timeout());
        if let Some(done) = self.judge("host_synchronize_timeout", r, ex)? {
            if !done
                && state == Ev::Signalled
                && resetting.is_none()
                && self.m.events[&eid].host_visible
                && self.m.lost_seen.is_empty()
            {
                return Err("a host-signalled event reported not signalled".into());
            }
            if !done && wait == Wait::Unbounded {
                return Err("host_synchronize_timeout(None) returned false".into());
            }
        }
        Ok(())
    }

    fn event_query(&mut self, event: u8) -> Flow {
        let Some(ei) = pick(&self.events, event, |_| true) else {
            return self.skip();
        };
        let eid = self.events[ei].id;
        let m = &self.m.events[&eid];
        let (state, resetting, hv) = (m.state.clone(), m.resetting, m.host_visible);
        let referenced = self.m.event_referenced(eid);
        let ex = self.event_host_expect(eid);
        let r = self.events[ei].obj.is_signaled();
        // A lost device leaves the events it would have signalled or reset as they were.
        if let Some(s) = self.judge("is_signaled", r, ex)?
            && hv
            && resetting.is_none()
            && self.m.lost_seen.is_empty()
        {
            if state == Ev::Signalled && !s {
                return Err("a host-signalled event reported not signalled".into());
            }
            if state == Ev::Unsignalled && !referenced && s {
                return Err("an unsignalled event nothing signals reported signalled".into());
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Host access.

    fn host_read(&mut self, sel: Sel) -> Flow {
        let Some(bi) = self.buf(sel.buf, |b| b.kind != Kind::Device) else {
            return self.skip();
        };
        let ty = self.bufs[bi].ty;
        let id = self.bufs[bi].id;
        let range = resolve_view(sel.view, self.bufs[bi].len);
        let (certain, possible) = self.m.device_registered(id, false);
        let ex = if certain {
            Expect::Busy
        } else if possible {
            Expect::OkOrBusy
        } else {
            Expect::Ok
        };
        let len = self.bufs[bi].len;
        let got: Option<Vec<u8>> = typed!(ty, T => {
            let b = self.arc::<T>(bi);
            let r = match (&*b, range) {
                (TBuf::Host(h), None) => h.to_vec(),
                (TBuf::Shared(h), None) => h.to_vec(),
                (TBuf::Host(h), Some((s, n))) => h.as_slice().map(|g| g[s..s + n].to_vec()),
                (TBuf::Shared(h), Some((s, n))) => h.as_slice().map(|g| g[s..s + n].to_vec()),
                (TBuf::Dev(_), _) => unreachable!("host-visible buffers only"),
            };
            let expected_len = range.map_or(len, |r| r.1);
            match self.judge("host read", r, ex)? {
                Some(v) if v.len() != expected_len => {
                    return Err(format!("host read of {expected_len} elements gave {}", v.len()));
                }
                Some(v) => Some(bytes_of_slice(&v).to_vec()),
                None => None,
            }
        });
        if let Some(got) = got {
            self.refresh_lost();
            let reg = self.region(bi, range);
            self.m.shadows[&id].check(reg.off, &got).map_err(|e| {
                format!("host read of a {ty:?} {:?} buffer: {e}", self.bufs[bi].kind)
            })?;
        }
        Ok(())
    }

    fn host_write_expect(&self, id: Id) -> Expect {
        let (certain, possible) = self.m.device_registered(id, true);
        let a = &self.m.allocs[&id];
        if certain || a.forgot_writer {
            Expect::Busy
        } else if possible {
            Expect::OkOrBusy
        } else {
            Expect::Ok
        }
    }

    fn host_write(&mut self, buf: u8, seed: u8) -> Flow {
        let Some(bi) = self.buf(buf, |b| b.kind != Kind::Device) else {
            return self.skip();
        };
        let ty = self.bufs[bi].ty;
        let id = self.bufs[bi].id;
        let len = self.bufs[bi].len;
        // `&mut` access: no other reference to the buffer may exist (a read guard's).
        let taken = self.bufs[bi].buf.take().expect("present");
        let ex = self.host_write_expect(id);
        let bytes = len * ty_size(ty);
        let data = model::data(seed, 7 ^ bytes as u64, bytes);
        let (ok, back) = typed!(ty, T => {
            let arc = T::of(&taken).expect("type").clone();
            drop(taken);
            match Arc::try_unwrap(arc) {
                Ok(mut b) => {
                    let src = vec_from_bytes::<T>(&data, len);
                    let r = match &mut b {
                        TBuf::Host(h) => h.copy_from_slice(&src),
                        TBuf::Shared(h) => h.copy_from_slice(&src),
                        TBuf::Dev(_) => unreachable!("host-visible buffers only"),
                    };
                    let ok = self.judge("host copy_from_slice", r, ex)?.is_some();
                    (Some(ok), T::wrap(Arc::new(b)))
                }
                Err(arc) => (None, T::wrap(arc)),
            }
        });
        self.bufs[bi].buf = Some(back);
        match ok {
            None => self.skip(),
            Some(true) => {
                self.m.shadows.get_mut(&id).expect("shadow").write(0, &data);
                if !self.m.lost_seen.is_empty() {
                    // After a device loss the crate released what the lost work used: nothing
                    // may write this buffer behind the host's back any more (hole 3's
                    // cousin). Give a late write the time to land, then look.
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    self.zombie_check(bi)?;
                }
                Ok(())
            }
            Some(false) => Ok(()),
        }
    }

    /// After a host write following a device loss: the buffer holds what the host wrote.
    fn zombie_check(&mut self, bi: usize) -> Flow {
        let ty = self.bufs[bi].ty;
        let id = self.bufs[bi].id;
        let got: Option<Vec<u8>> = typed!(ty, T => {
            let b = self.arc::<T>(bi);
            let r = match &*b {
                TBuf::Host(h) => h.to_vec(),
                TBuf::Shared(h) => h.to_vec(),
                TBuf::Dev(_) => unreachable!("host-visible buffers only"),
            };
            r.ok().map(|v| bytes_of_slice(&v).to_vec())
        });
        if let Some(got) = got {
            self.m.shadows[&id].check(0, &got).map_err(|e| {
                format!(
                    "after a device loss, a host write to a {ty:?} {:?} buffer was overwritten behind the host's back: {e}",
                    self.bufs[bi].kind
                )
            })?;
        }
        Ok(())
    }

    fn guard_scope(&mut self, buf: u8, write: bool, seed: u8, body: &[Op]) -> Flow {
        let Some(bi) = self.buf(buf, |b| b.kind != Kind::Device) else {
            self.skip()?;
            return self.exec_ops(body);
        };
        let ty = self.bufs[bi].ty;
        typed!(ty, T => self.guard_typed::<T>(bi, write, seed, body))
    }

    fn guard_typed<T: Elem>(&mut self, bi: usize, write: bool, seed: u8, body: &[Op]) -> Flow {
        let id = self.bufs[bi].id;
        let len = self.bufs[bi].len;
        let ty = self.bufs[bi].ty;
        let bytes = len * size_of::<T>();
        if !write {
            let arc = self.arc::<T>(bi);
            let (certain, possible) = self.m.device_registered(id, false);
            let ex = if certain {
                Expect::Busy
            } else if possible {
                Expect::OkOrBusy
            } else {
                Expect::Ok
            };
            let r = match &*arc {
                TBuf::Host(h) => h.as_slice(),
                TBuf::Shared(h) => h.as_slice(),
                TBuf::Dev(_) => unreachable!("host-visible buffers only"),
            };
            let Some(g) = self.judge("as_slice", r, ex)? else {
                return self.exec_ops(body);
            };
            if g.len() != len {
                return Err(format!(
                    "a guard of {} elements over a buffer of {len}",
                    g.len()
                ));
            }
            self.refresh_lost();
            self.m.shadows[&id]
                .check(0, bytes_of_slice(&g))
                .map_err(|e| format!("read guard on a {ty:?} buffer: {e}"))?;
            self.m.allocs.get_mut(&id).expect("alloc").readers += 1;
            self.guards.push(GuardFrame {
                alloc: id,
                write: false,
                depth: self.depth,
                forget: false,
            });
            let r = self.exec_ops(body);
            let frame = self.guards.pop().expect("the frame");
            let a = self.m.allocs.get_mut(&id).expect("alloc");
            a.readers -= 1;
            if frame.forget {
                a.forgot_readers += 1;
                std::mem::forget(g);
            } else {
                if r.is_ok() {
                    self.refresh_lost();
                    // Nothing may have written it while the guard lived.
                    self.m.shadows[&id]
                        .check(0, bytes_of_slice(&g))
                        .map_err(|e| format!("read guard on a {ty:?} buffer, at its end: {e}"))?;
                }
                drop(g);
            }
            return r;
        }
        // Write guard: `as_mut_slice` needs the buffer itself; take it out of the table.
        let any = self.bufs[bi].buf.take().expect("present");
        let arc = T::of(&any).expect("type").clone();
        drop(any);
        let mut owned = match Arc::try_unwrap(arc) {
            Ok(b) => b,
            Err(arc) => {
                self.bufs[bi].buf = Some(T::wrap(arc));
                self.skip()?;
                return self.exec_ops(body);
            }
        };
        let ex = self.host_write_expect(id);
        let r = match &mut owned {
            TBuf::Host(h) => h.as_mut_slice(),
            TBuf::Shared(h) => h.as_mut_slice(),
            TBuf::Dev(_) => unreachable!("host-visible buffers only"),
        };
        let result;
        match self.judge("as_mut_slice", r, ex)? {
            None => result = self.exec_ops(body),
            Some(mut g) => {
                if g.len() != len {
                    return Err(format!(
                        "a guard of {} elements over a buffer of {len}",
                        g.len()
                    ));
                }
                self.refresh_lost();
                self.m.shadows[&id]
                    .check(0, bytes_of_slice(&g))
                    .map_err(|e| format!("write guard on a {ty:?} buffer: {e}"))?;
                let data = model::data(seed, 11 ^ bytes as u64, bytes);
                let src = vec_from_bytes::<T>(&data, len);
                g.copy_from_slice(&src);
                self.m.shadows.get_mut(&id).expect("shadow").write(0, &data);
                self.m.allocs.get_mut(&id).expect("alloc").writer = true;
                self.guards.push(GuardFrame {
                    alloc: id,
                    write: true,
                    depth: self.depth,
                    forget: false,
                });
                result = self.exec_ops(body);
                let frame = self.guards.pop().expect("the frame");
                let a = self.m.allocs.get_mut(&id).expect("alloc");
                a.writer = false;
                if frame.forget {
                    a.forgot_writer = true;
                    std::mem::forget(g);
                } else {
                    if result.is_ok() {
                        self.refresh_lost();
                        self.m.shadows[&id]
                            .check(0, bytes_of_slice(&g))
                            .map_err(|e| {
                                format!("write guard on a {ty:?} buffer, at its end: {e}")
                            })?;
                    }
                    drop(g);
                }
            }
        }
        if let Some(slot) = self.bufs.iter_mut().find(|b| b.id == id) {
            slot.buf = Some(T::wrap(Arc::new(owned)));
        }
        result
    }

    fn copy_peer(&mut self, dst: u8, src: u8, staged: bool) -> Flow {
        let Some(di) = self.buf(dst, |b| b.kind == Kind::Device) else {
            return self.skip();
        };
        let ty = self.bufs[di].ty;
        let len = self.bufs[di].len;
        let Some(si) = self.buf(src, |b| b.kind == Kind::Device && b.ty == ty) else {
            return self.skip();
        };
        let (dreg, sreg) = (self.region(di, None), self.region(si, None));
        let slen = self.bufs[si].len;
        let uses = [
            Use {
                alloc: dreg.alloc,
                write: true,
            },
            Use {
                alloc: sreg.alloc,
                write: false,
            },
        ];
        let ex = if slen != len {
            Expect::Invalid
        } else {
            Expect::Ok
        };
        let devs: Vec<usize> = [self.bufs[di].dev, self.bufs[si].dev]
            .into_iter()
            .flatten()
            .collect();
        if slen == len && !self.prepare(Exec::Transient, &uses, true, &devs)? {
            return self.skip();
        }
        let r = typed!(ty, T => {
            let (d, s) = (self.arc::<T>(di), self.arc::<T>(si));
            match (&*d, &*s) {
                (TBuf::Dev(d), TBuf::Dev(s)) if staged => copy_peer_with(d, s, PeerPolicy::StagedOnly),
                (TBuf::Dev(d), TBuf::Dev(s)) => copy_peer(d, s),
                _ => unreachable!("device buffers only"),
            }
        });
        if self.judge("copy_peer", r, ex)?.is_some() && slen == len {
            model::apply(
                &Cmd::Copy {
                    dst: dreg,
                    src: sreg,
                },
                &mut self.m.shadows,
            );
        }
        Ok(())
    }

    fn status(&mut self) -> Flow {
        for d in self.sh.devices.clone() {
            let r = d.status();
            self.judge("Device::status", r, Expect::Ok)?;
        }
        for b in &self.bufs {
            let Some(any) = &b.buf else { continue };
            let ok = typed!(b.ty, T => {
                let x = T::of(any).expect("type");
                x.len() == b.len && x.size_bytes() == b.len * size_of::<T>() && x.get_is_none_past_end()
                    && self.ctx_matches(x.context(), b.id)
            });
            if !ok {
                return Err(format!(
                    "buffer metadata of a {:?} {:?} buffer of {} elements is wrong",
                    b.ty, b.kind, b.len
                ));
            }
        }
        Ok(())
    }

    fn ctx_matches(&self, c: &Context, alloc: Id) -> bool {
        let id = self.ctx_id_of(c);
        id == 0 || self.m.allocs.get(&alloc).is_some_and(|a| a.ctx == id)
    }

    // -----------------------------------------------------------------------------------
    // Threads.

    fn thread_scope(&mut self, list: u8, bufs: u8, body: &[Op]) -> Flow {
        if self.in_thread || (self.lost_injected() && !self.sh.holes.lost_copy) {
            self.skip()?;
            return self.exec_ops(body);
        }
        let Some(li) = pick(&self.imms, list, |s| !self.away.contains(&s.id)) else {
            self.skip()?;
            return self.exec_ops(body);
        };
        let lid = self.imms[li].id;
        {
            let x = &self.m.execs[&lid];
            if x.gated() || !x.events.is_empty() {
                self.skip()?;
                return self.exec_ops(body);
            }
        }
        self.sync_exec(lid)?;
        // Buffers: no guard, no pending work anywhere, no regular list or queue using them.
        let mut moved: Vec<Id> = Vec::new();
        let n = self.bufs.len();
        for bit in 0..8 {
            if bufs & (1 << bit) == 0 || n == 0 {
                continue;
            }
            let b = &self.bufs[(bit * 7 + bufs as usize) % n];
            let id = b.id;
            let unique = match &b.buf {
                Some(any) => typed!(b.ty, T => Arc::strong_count(T::of(any).expect("type")) == 1),
                None => false,
            };
            if !unique || moved.contains(&id) || self.away.contains(&id) {
                continue;
            }
            let used = self
                .m
                .execs
                .values()
                .any(|x| x.work_uses().iter().any(|u| u.alloc == id))
                || self
                    .m
                    .regs
                    .values()
                    .any(|r| r.uses.iter().any(|u| u.alloc == id));
            let guarded = self.m.allocs[&id].readers > 0 || self.m.allocs[&id].writer;
            if !used && !guarded {
                moved.push(id);
            }
        }
        let mut sub = World::new(self.sh.clone(), true);
        for c in &self.ctxs {
            sub.ctxs.push(Slot {
                id: c.id,
                obj: c.obj.clone(),
                depth: 0,
            });
        }
        let i = self.imms.iter().position(|s| s.id == lid).expect("list");
        let s = self.imms.remove(i);
        sub.imms.push(Slot { depth: 0, ..s });
        sub.m
            .execs
            .insert(lid, self.m.execs.remove(&lid).expect("exec"));
        for id in &moved {
            let i = self.bufs.iter().position(|b| b.id == *id).expect("buffer");
            let b = self.bufs.remove(i);
            sub.bufs.push(BufSlot { depth: 0, ..b });
            sub.m
                .allocs
                .insert(*id, self.m.allocs.remove(id).expect("alloc"));
            sub.m
                .shadows
                .insert(*id, self.m.shadows.get(id).expect("shadow").clone());
            self.away.insert(*id);
        }
        self.away.insert(lid);
        sub.m.lost_seen = self.m.lost_seen.clone();
        sub.m.ctx_devs = self.m.ctx_devs.clone();
        let body = body.to_vec();
        let h = std::thread::Builder::new()
            .name("safe-api-second".into())
            .spawn(move || {
                let r = catch_unwind(AssertUnwindSafe(|| sub.exec_ops(&body)));
                let r = match r {
                    Ok(r) => r,
                    Err(p) => Err(format!(
                        "panic on the second thread: {}",
                        panic_message(&*p)
                    )),
                };
                let r = r.and_then(|()| sub.deferred.take().map_or(Ok(()), Err));
                (sub, r)
            })
            .map_err(|e| format!("spawning a thread: {e}"))?;
        self.threads.push((self.depth, h));
        Ok(())
    }

    fn join_threads(&mut self, depth: usize) -> Flow {
        let mut first_err = Ok(());
        while let Some(pos) = self.threads.iter().position(|(d, _)| *d >= depth) {
            let (d, h) = self.threads.remove(pos);
            let (mut sub, r) = match h.join() {
                Ok(x) => x,
                Err(p) => {
                    return Err(format!(
                        "the second thread panicked: {}",
                        panic_message(&*p)
                    ));
                }
            };
            if first_err.is_ok() {
                first_err = r;
            }
            self.run += sub.run;
            self.skipped += sub.skipped;
            for (k, (r, sk)) in std::mem::take(&mut sub.per_op) {
                let e = self.per_op.entry(k).or_default();
                e.0 += r;
                e.1 += sk;
            }
            if sub.leak.is_some() {
                self.leak = sub.leak;
            }
            let lost_differs = sub.m.lost_seen != self.m.lost_seen;
            for id in sub.m.shadows.keys() {
                self.away.remove(id);
            }
            for id in sub.m.execs.keys() {
                self.away.remove(id);
            }
            let mut m = std::mem::take(&mut sub.m);
            if lost_differs {
                m.forget_all_shadows();
                self.m.forget_all_shadows();
                self.m.lost_seen.extend(m.lost_seen.iter().copied());
            }
            self.m.allocs.extend(m.allocs);
            self.m.shadows.extend(m.shadows);
            self.m.execs.extend(m.execs);
            self.m.regs.extend(m.regs);
            self.m.events.extend(m.events);
            self.m.pools.extend(m.pools);
            self.m.fences.extend(m.fences);
            self.m.kernels.extend(m.kernels);
            self.m.ctx_devs.extend(m.ctx_devs);
            self.m.fuzzy |= m.fuzzy;
            self.m.graph.merge(m.graph);
            self.leaked_any |= sub.leaked_any;
            self.leaked_drops += sub.leaked_drops;
            macro_rules! back {
                ($f:ident) => {
                    for s in sub.$f.drain(..) {
                        self.$f.push(Slot { depth: d, ..s });
                    }
                };
            }
            back!(imms);
            back!(regs);
            back!(queues);
            back!(pools);
            back!(events);
            back!(fences);
            back!(kernels);
            for c in sub.ctxs.drain(..) {
                if !self.ctxs.iter().any(|x| x.id == c.id) {
                    self.ctxs.push(Slot { depth: d, ..c });
                }
            }
            for b in sub.bufs.drain(..) {
                self.bufs.push(BufSlot { depth: d, ..b });
            }
        }
        first_err
    }

    // -----------------------------------------------------------------------------------
    // The end: every blocked list released (unless hole 4 is on), everything synchronised
    // and read back, then dropped in a seeded order.

    fn finish(&mut self, seed: u64) -> Flow {
        self.join_threads(0)?;
        // Release blocked work (always without hole 4's path; else in one program in two, so
        // that work blocked across lists runs late, in program order, before the reads below).
        if !self.sh.holes.panic_wait || seed & 2 == 0 {
            let mut tried = BTreeSet::new();
            loop {
                let mut gates: BTreeSet<Id> =
                    self.m.execs.values().flat_map(ExecM::all_gate).collect();
                for x in self.m.execs.values() {
                    for (_, g) in &x.pending {
                        gates.extend(g.iter().copied());
                    }
                }
                let Some(e) = gates
                    .into_iter()
                    .find(|e| !tried.contains(e) && self.events.iter().any(|s| s.id == *e))
                else {
                    break;
                };
                tried.insert(e);
                let i = self.events.iter().position(|s| s.id == e).expect("event");
                let r = self.events[i].obj.host_signal();
                let ex = self.event_host_expect(e);
                if self.judge("host_signal (at the end)", r, ex)?.is_some() {
                    self.m.host_signalled(e);
                }
            }
        }
        let execs: Vec<Id> = self
            .imms
            .iter()
            .map(|s| s.id)
            .chain(self.queues.iter().map(|s| s.id))
            .collect();
        for id in execs {
            let gated = self.m.execs.get(&id).is_some_and(ExecM::gated);
            if trace() {
                let x = &self.m.execs[&id];
                eprintln!(
                    "safe_api finish: sync {id} (queue {}, gated {gated}, gate {:?})",
                    x.queue,
                    x.all_gate()
                );
            }
            if !gated {
                self.sync_exec(id)?;
            }
        }
        if trace() {
            eprintln!("safe_api finish: read back");
        }
        // Read back every buffer nothing still writes.
        let ids: Vec<Id> = self
            .bufs
            .iter()
            .filter(|b| b.buf.is_some())
            .map(|b| b.id)
            .collect();
        self.flush_abandoned();
        for id in ids {
            let bi = self.bufs.iter().position(|b| b.id == id).expect("buffer");
            let (kind, ty, dev) = (self.bufs[bi].kind, self.bufs[bi].ty, self.bufs[bi].dev);
            if trace() {
                let marked: Vec<(Id, bool, bool)> = self
                    .m
                    .execs
                    .iter()
                    .filter(|(_, x)| x.marked.contains_key(&id))
                    .map(|(x, m)| (*x, m.gone, m.forgotten))
                    .collect();
                eprintln!(
                    "safe_api finish: read {id} ({kind:?} {ty:?} on {dev:?}, ctx {}, marked by {marked:?}, gate {:?})",
                    self.m.allocs[&id].ctx,
                    self.m.conflict_gate(
                        None,
                        &[Use {
                            alloc: id,
                            write: false
                        }]
                    )
                );
            }
            let read = [Use {
                alloc: id,
                write: false,
            }];
            if kind == Kind::Device && !self.m.conflict_gate(None, &read).is_empty() {
                // The read would wait for work blocked on an unsignalled event.
                continue;
            }
            if kind != Kind::Device {
                let sel = Sel {
                    buf: 0,
                    view: View::Whole,
                };
                let _ = sel;
                let got: Option<Vec<u8>> = typed!(ty, T => {
                    let b = self.arc::<T>(bi);
                    let r = match &*b {
                        TBuf::Host(h) => h.to_vec(),
                        TBuf::Shared(h) => h.to_vec(),
                        TBuf::Dev(_) => unreachable!("host-visible"),
                    };
                    let (certain, possible) = self.m.device_registered(id, false);
                    let ex = if certain { Expect::Busy } else if possible { Expect::OkOrBusy } else { Expect::Ok };
                    self.judge("to_vec (at the end)", r, ex)?.map(|v| bytes_of_slice(&v).to_vec())
                });
                if let Some(got) = got {
                    self.refresh_lost();
                    self.m.shadows[&id]
                        .check(0, &got)
                        .map_err(|e| format!("final read of a {ty:?} {kind:?} buffer: {e}"))?;
                }
                continue;
            }
            // Device memory: a fresh list of its context on a device that is not lost.
            let Some(dev) = dev else { continue };
            let ctx = self.m.allocs[&id].ctx;
            let alive: Vec<usize> = [dev, 1 - dev.min(1)]
                .into_iter()
                .filter(|d| {
                    *d < self.sh.devices.len()
                        && self.ctx_has(ctx, *d)
                        && !self.m.lost_seen.contains(d)
                        && self.sh.devices[*d].status().is_ok()
                })
                .collect();
            let Some(&d) = alive.first() else { continue };
            self.note_hazards(None, &read);
            let device = self.sh.devices[d].clone();
            let got: Option<Vec<u8>> = typed!(ty, T => {
                let b = self.arc::<T>(bi);
                let ctx = b.context().clone();
                let r = ImmediateCommandList::compute(&ctx, &device);
                match self.judge("a list for the final read", r, Expect::Ok)? {
                    None => None,
                    Some(mut l) => {
                        let mut out = vec![T::zeroed(); b.len()];
                        let r = match &*b {
                            TBuf::Dev(x) => l.copy_to_slice(&mut out, x),
                            _ => unreachable!("device"),
                        };
                        drop(l);
                        self.judge("copy_to_slice (at the end)", r, Expect::Ok)?.map(|()| bytes_of_slice(&out).to_vec())
                    }
                }
            });
            if let Some(got) = got {
                self.refresh_lost();
                self.m.shadows[&id]
                    .check(0, &got)
                    .map_err(|e| format!("final read of a {ty:?} device buffer: {e}"))?;
            }
        }
        // Drops in a seeded order.
        let mut all: Vec<(Class, Id)> = Vec::new();
        all.extend(self.bufs.iter().map(|s| (Class::Buffer, s.id)));
        all.extend(self.imms.iter().map(|s| (Class::Immediate, s.id)));
        all.extend(self.regs.iter().map(|s| (Class::Regular, s.id)));
        all.extend(self.queues.iter().map(|s| (Class::Queue, s.id)));
        all.extend(self.pools.iter().map(|s| (Class::Pool, s.id)));
        all.extend(self.events.iter().map(|s| (Class::Event, s.id)));
        all.extend(self.fences.iter().map(|s| (Class::Fence, s.id)));
        all.extend(self.kernels.iter().map(|s| (Class::Kernel, s.id)));
        all.extend(self.ctxs.iter().map(|s| (Class::Context, s.id)));
        let mut x = seed | 1;
        for i in (1..all.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            all.swap(i, (x % (i as u64 + 1)) as usize);
        }
        for (class, id) in all {
            if trace() {
                eprintln!("safe_api finish: drop {class:?} {id}");
            }
            self.drop_obj(class, id, false)?;
        }
        Ok(())
    }
}

/// What the model says of a drop of a list or queue, before it.
struct DropPlan {
    gated: bool,
    certain: bool,
    short: bool,
    panicking: bool,
    queue: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EvCmd {
    Signal,
    Wait,
    Reset,
}

/// Unwinding through a catch scope drops the objects created in it, as locals of the
/// closure would be.
struct Unwind<'a> {
    w: &'a mut World,
    depth: usize,
}

impl Drop for Unwind<'_> {
    fn drop(&mut self) {
        let d = self.depth;
        let w = &mut *self.w;
        if let Err(e) = w.join_threads(d) {
            w.deferred.get_or_insert(e);
        }
        let mut doomed: Vec<(Class, Id)> = Vec::new();
        doomed.extend(
            w.bufs
                .iter()
                .filter(|s| s.depth >= d && s.buf.is_some())
                .map(|s| (Class::Buffer, s.id)),
        );
        doomed.extend(
            w.imms
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Immediate, s.id)),
        );
        doomed.extend(
            w.regs
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Regular, s.id)),
        );
        doomed.extend(
            w.queues
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Queue, s.id)),
        );
        doomed.extend(
            w.fences
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Fence, s.id)),
        );
        doomed.extend(
            w.events
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Event, s.id)),
        );
        doomed.extend(
            w.pools
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Pool, s.id)),
        );
        doomed.extend(
            w.kernels
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Kernel, s.id)),
        );
        doomed.extend(
            w.ctxs
                .iter()
                .filter(|s| s.depth >= d)
                .map(|s| (Class::Context, s.id)),
        );
        for (class, id) in doomed.into_iter().rev() {
            if let Err(e) = w.drop_obj(class, id, false) {
                w.deferred.get_or_insert(e);
            }
        }
    }
}
