//! Programs over the safe `level-zero` API, an interpreter that runs them against the real
//! API on an embedded CPU-driver instance, and a host-side model that checks them.
//!
//! Shared by the proptest state machine (`tests/safe_api_model.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/safe_api.rs`): both only build [`Program`]s (lists of [`Op`]s whose
//! object choices are small numbers, resolved modulo what exists when the op runs) and call
//! [`run`].
//!
//! # The oracle
//!
//! The safe API's observable semantics are *sequential program order*: every successful
//! command behaves as if it ran at the moment it was called, in call order, across all lists
//! and queues of a context (kernels touching only their arguments). The interpreter keeps a
//! byte-exact shadow of every allocation (with a "known" bit per byte) and checks:
//!
//! - no crash and no hang (a [`watchdog`] aborts the process with the program when one run
//!   takes longer than its limit);
//! - every value read back (host guards, `to_vec`, `copy_to_slice`) equals the shadow where
//!   the shadow knows it, whenever the call returned `Ok`;
//! - errors are typed errors: never a panic from the crate; `Busy` exactly where host access
//!   and submitted device work may conflict; `DEVICE_LOST` only when the fault is injected;
//!   an allocation failure only where injected; invalid arguments where the model expects them;
//! - a list or queue dropped while its work waits for an event nothing signals is leaked on
//!   purpose by the crate, and one whose work can finish is not (seen per thread through the
//!   crate's log);
//! - after dropping everything, the driver's live-object counters are back to the baseline,
//!   except for objects the program `mem::forget`s and lists and queues the crate leaked on
//!   purpose (bounded by what they can hold, hazard publications' event pools included; see
//!   [`LeakPolicy`]).
//!
//! # Known holes
//!
//! Behaviour that found a known hole is behind a [`Holes`] switch, on by default (the five
//! holes a review found are fixed): with a switch off, the interpreter does not take that path
//! (it skips the op, or orders the work itself where the crate did not).
//!
//! # Blocked work
//!
//! Work that waits, transitively, for an event nobody signalled is *gated* by that event: the
//! model keeps, per pending use of an allocation, the events it waits for. The crate orders
//! the commands of different lists and queues that use one allocation in program order, so a
//! later command conflicting with gated work is gated too. The interpreter never makes a call
//! that would block on gated work for good (synchronisations without a timeout,
//! `copy_to_slice`, appends to synchronous lists and queues); a list or queue dropped while
//! gated must leak its work on purpose (a short drop timeout is set first), and one whose
//! work can finish must not (the leak is seen on the dropping thread, through the crate's
//! log). Leaked lists and queues count as forgotten objects for the leak check.

#![allow(dead_code)]

mod model;
pub mod watchdog;
mod world;

use std::time::Duration;

#[allow(unused_imports)]
pub use world::{LeakPolicy, Report, run};

/// Element types of buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    U8,
    U32,
    F32,
    U64,
    /// `()`: zero-sized elements ([`Holes::zst`]).
    Zst,
}

/// Allocation kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Device,
    Host,
    Shared,
}

/// Engines a list or queue runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Compute,
    Copy,
}

/// How long a synchronisation may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wait {
    /// `None`: until done (the interpreter only waits so when the work cannot be blocked).
    Unbounded,
    Zero,
    Micro,
    Milli,
}

impl Wait {
    pub fn timeout(self) -> Option<Duration> {
        match self {
            Wait::Unbounded => None,
            Wait::Zero => Some(Duration::ZERO),
            Wait::Micro => Some(Duration::from_micros(1)),
            Wait::Milli => Some(Duration::from_millis(1)),
        }
    }
}

/// The committed kernels the programs launch (`kernels/*.cl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KernelKind {
    /// `vector_add(const float *a, const float *b, float *c)`: `c[i] = a[i] + b[i]`.
    VectorAdd,
    /// `saxpy(float a, const float *x, float *y)`: `y[i] = a * x[i] + y[i]`.
    Saxpy,
    /// `empty_args(float *p, uint n)`: writes nothing unless `n == 0xFFFFFFFF`.
    EmptyArgs,
}

/// A range of a buffer: the whole buffer (the buffer object itself), or a view
/// (`BufferSlice` from `get`/`slice`), resolved modulo the buffer's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    Whole,
    Range { start: u16, len: u16 },
}

/// A buffer (index among the live buffers, modulo) and a range of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sel {
    pub buf: u8,
    pub view: View,
}

/// A list that records commands: an immediate list, or a regular list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct On {
    pub regular: bool,
    pub idx: u8,
}

/// The events of `launch_with` and `barrier_with` (indices among the live events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Evs {
    pub signal: Option<u8>,
    pub wait: Option<u8>,
}

impl Evs {
    pub const NONE: Evs = Evs {
        signal: None,
        wait: None,
    };
}

/// Kinds of objects, for drops and forgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Buffer,
    Immediate,
    Regular,
    Queue,
    Pool,
    Event,
    Fence,
    Kernel,
    Context,
}

/// What a scope does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A host guard (`as_slice`, or `as_mut_slice` writing `seed`-derived data) held while
    /// the scope's ops run.
    Guard { buf: u8, write: bool, seed: u8 },
    /// The scope's ops run inside `catch_unwind`; a [`Op::Panic`] in it unwinds to here,
    /// dropping the objects created in the scope on the way.
    Catch,
    /// The scope's ops run on a second thread, with an immediate list (index `list`) and
    /// buffers (bits of `bufs`) moved to it, concurrently with the ops after the scope, until
    /// [`Op::Join`] or the end of the enclosing scope.
    Thread { list: u8, bufs: u8 },
}

/// One step of a program. Indices are resolved modulo the number of live objects of the
/// kind; an op that does not apply (nothing to choose from, or a path that would hang or hit
/// a switched-off hole) is skipped.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    NewContext,
    /// `Context::with_devices` with one device.
    NewContextOn {
        dev: u8,
    },
    NewBuffer {
        ctx: u8,
        kind: Kind,
        dev: u8,
        ty: Ty,
        len: u16,
        seed: u8,
    },
    /// `sync`: `QueueMode::Synchronous` (every append returns once it completed).
    NewImmediate {
        ctx: u8,
        dev: u8,
        engine: Engine,
        relaxed: bool,
        sync: bool,
    },
    NewRegular {
        ctx: u8,
        dev: u8,
        engine: Engine,
        relaxed: bool,
    },
    NewQueue {
        ctx: u8,
        dev: u8,
        engine: Engine,
        sync: bool,
    },
    NewPool {
        ctx: u8,
        count: u8,
        host_visible: bool,
    },
    NewEvent {
        pool: u8,
        index: u8,
    },
    NewFence {
        queue: u8,
        signalled: bool,
    },
    NewKernel {
        ctx: u8,
        dev: u8,
        kind: KernelKind,
    },
    Drop {
        class: Class,
        idx: u8,
    },
    Forget {
        class: Class,
        idx: u8,
    },
    /// `set_drop_timeout` of an immediate list (or a queue): `Wait::Unbounded` sets the
    /// interpreter's long timeout back, the others a short one (a drop of unfinished work may
    /// then leak it on purpose).
    DropTimeout {
        queue: bool,
        idx: u8,
        wait: Wait,
    },

    /// `copy(dst, src)`; `src` is chosen among buffers of `dst`'s element type. `mismatch`
    /// makes the lengths differ (an error is expected).
    Copy {
        on: On,
        dst: Sel,
        src: u8,
        src_start: u16,
        mismatch: bool,
    },
    Fill {
        on: On,
        dst: Sel,
        value: u64,
    },
    Timestamp {
        on: On,
        dst: Sel,
    },
    /// Sets the kernel's arguments (buffers `a`, `b` and an output, chosen among f32/u32
    /// buffers of the kernel's context; `alias % 3` makes the output `a` (1), `b` (2) or
    /// another buffer (0)) and launches `groups` groups of `group` work-items over a prefix of
    /// them.
    Launch {
        on: On,
        kernel: u8,
        a: Sel,
        b: u8,
        alias: u8,
        scalar: i8,
        group: u8,
        groups: u8,
        evs: Evs,
    },
    /// `barrier`, or `barrier_with` when `evs` names events.
    Barrier {
        on: On,
        evs: Evs,
    },
    SignalEvent {
        on: On,
        event: u8,
    },
    WaitEvent {
        on: On,
        event: u8,
    },
    /// `reset_event` (immediate lists only).
    ResetEvent {
        list: u8,
        event: u8,
    },
    CopyFromSlice {
        list: u8,
        dst: Sel,
        seed: u8,
    },
    CopyToSlice {
        list: u8,
        src: Sel,
    },
    ListSync {
        list: u8,
        wait: Wait,
    },
    Close {
        list: u8,
    },
    ResetList {
        list: u8,
    },
    Execute {
        queue: u8,
        lists: [u8; 2],
        two: bool,
    },
    ExecuteFenced {
        queue: u8,
        list: u8,
        fence: u8,
    },
    QueueSync {
        queue: u8,
        wait: Wait,
    },
    InFlight {
        queue: u8,
    },
    FenceSync {
        fence: u8,
        wait: Wait,
    },
    FenceReset {
        fence: u8,
    },
    FenceQuery {
        fence: u8,
    },
    HostSignal {
        event: u8,
    },
    HostReset {
        event: u8,
    },
    HostSync {
        event: u8,
        wait: Wait,
    },
    EventQuery {
        event: u8,
    },
    /// Host read of a host or shared buffer (`to_vec` for the whole buffer, `as_slice`
    /// compared over the view otherwise).
    HostRead {
        buf: Sel,
    },
    /// `copy_from_slice` from the host into a host or shared buffer.
    HostWrite {
        buf: u8,
        seed: u8,
    },
    /// `copy_peer` (or `copy_peer_with(.., PeerPolicy::StagedOnly)` when `staged`) between
    /// device buffers of one element type.
    CopyPeer {
        dst: u8,
        src: u8,
        staged: bool,
    },
    /// `Device::status` of every device, and buffer metadata checks.
    Status,

    Open(Scope),
    /// Ends the innermost scope.
    End,
    /// Panics (inside a catch scope only).
    Panic,
    /// `mem::forget` of the innermost guard scope's guard.
    ForgetGuard,
    /// Joins the threads started in the current scope.
    Join,
}

impl Op {
    /// The op's kind, for statistics.
    pub fn name(&self) -> &'static str {
        match self {
            Op::NewContext => "NewContext",
            Op::NewContextOn { .. } => "NewContextOn",
            Op::DropTimeout { .. } => "DropTimeout",
            Op::NewBuffer { .. } => "NewBuffer",
            Op::NewImmediate { .. } => "NewImmediate",
            Op::NewRegular { .. } => "NewRegular",
            Op::NewQueue { .. } => "NewQueue",
            Op::NewPool { .. } => "NewPool",
            Op::NewEvent { .. } => "NewEvent",
            Op::NewFence { .. } => "NewFence",
            Op::NewKernel { .. } => "NewKernel",
            Op::Drop { .. } => "Drop",
            Op::Forget { .. } => "Forget",
            Op::Copy { .. } => "Copy",
            Op::Fill { .. } => "Fill",
            Op::Timestamp { .. } => "Timestamp",
            Op::Launch { evs, .. } if *evs != Evs::NONE => "LaunchWith",
            Op::Launch { .. } => "Launch",
            Op::Barrier { evs, .. } if *evs != Evs::NONE => "BarrierWith",
            Op::Barrier { .. } => "Barrier",
            Op::SignalEvent { .. } => "SignalEvent",
            Op::WaitEvent { .. } => "WaitEvent",
            Op::ResetEvent { .. } => "ResetEvent",
            Op::CopyFromSlice { .. } => "CopyFromSlice",
            Op::CopyToSlice { .. } => "CopyToSlice",
            Op::ListSync { .. } => "ListSync",
            Op::Close { .. } => "Close",
            Op::ResetList { .. } => "ResetList",
            Op::Execute { .. } => "Execute",
            Op::ExecuteFenced { .. } => "ExecuteFenced",
            Op::QueueSync { .. } => "QueueSync",
            Op::InFlight { .. } => "InFlight",
            Op::FenceSync { .. } => "FenceSync",
            Op::FenceReset { .. } => "FenceReset",
            Op::FenceQuery { .. } => "FenceQuery",
            Op::HostSignal { .. } => "HostSignal",
            Op::HostReset { .. } => "HostReset",
            Op::HostSync { .. } => "HostSync",
            Op::EventQuery { .. } => "EventQuery",
            Op::HostRead { .. } => "HostRead",
            Op::HostWrite { .. } => "HostWrite",
            Op::CopyPeer { .. } => "CopyPeer",
            Op::Status => "Status",
            Op::Open(Scope::Guard { .. }) => "Open(Guard)",
            Op::Open(Scope::Catch) => "Open(Catch)",
            Op::Open(Scope::Thread { .. }) => "Open(Thread)",
            Op::End => "End",
            Op::Panic => "Panic",
            Op::ForgetGuard => "ForgetGuard",
            Op::Join => "Join",
        }
    }
}

/// Fault injection through the driver's `Config`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// `Config::device_lost_after`.
    pub device_lost_after: Option<u8>,
    /// `Config::fail_alloc_at` (1-based).
    pub fail_alloc_at: Option<u8>,
    /// `Config::p2p = false`: devices cannot reach each other's memory.
    pub no_p2p: bool,
}

/// A program: faults, then ops; `drop_seed` orders the drops at the end.
#[derive(Clone, PartialEq)]
pub struct Program {
    pub faults: Faults,
    pub ops: Vec<Op>,
    pub drop_seed: u64,
}

/// One op per line (indented by scope), so that a failing program reads as a reproducer.
impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Program {{ faults: {:?}, drop_seed: {}, ops: [",
            self.faults, self.drop_seed
        )?;
        let mut depth = 1;
        for op in &self.ops {
            if matches!(op, Op::End) && depth > 1 {
                depth -= 1;
            }
            writeln!(f, "{}{op:?},", "    ".repeat(depth))?;
            if matches!(op, Op::Open(_)) {
                depth += 1;
            }
        }
        write!(f, "] }}")
    }
}

impl Program {
    /// What every generated program starts with, so that most ops find something to work on:
    /// buffers of each kind, lists on both devices, a regular list, a queue and its fence, an
    /// event pool with two events, two kernels.
    pub fn prelude() -> Vec<Op> {
        vec![
            Op::NewBuffer {
                ctx: 0,
                kind: Kind::Device,
                dev: 0,
                ty: Ty::F32,
                len: 2 + (30 << 3),
                seed: 0,
            },
            Op::NewBuffer {
                ctx: 0,
                kind: Kind::Host,
                dev: 0,
                ty: Ty::F32,
                len: 2 + (30 << 3),
                seed: 4,
            },
            Op::NewBuffer {
                ctx: 0,
                kind: Kind::Shared,
                dev: 1,
                ty: Ty::U32,
                len: 2 + (30 << 3),
                seed: 1,
            },
            Op::NewImmediate {
                ctx: 0,
                dev: 0,
                engine: Engine::Compute,
                relaxed: false,
                sync: false,
            },
            Op::NewImmediate {
                ctx: 0,
                dev: 1,
                engine: Engine::Compute,
                relaxed: false,
                sync: false,
            },
            Op::NewRegular {
                ctx: 0,
                dev: 0,
                engine: Engine::Compute,
                relaxed: false,
            },
            Op::NewQueue {
                ctx: 0,
                dev: 0,
                engine: Engine::Compute,
                sync: false,
            },
            Op::NewFence {
                queue: 0,
                signalled: false,
            },
            Op::NewPool {
                ctx: 0,
                count: 4,
                host_visible: true,
            },
            Op::NewEvent { pool: 0, index: 0 },
            Op::NewEvent { pool: 0, index: 1 },
            Op::NewKernel {
                ctx: 0,
                dev: 0,
                kind: KernelKind::VectorAdd,
            },
            Op::NewKernel {
                ctx: 0,
                dev: 1,
                kind: KernelKind::Saxpy,
            },
        ]
    }
}

/// Switches for paths that reached known holes of the crate (the five a review found; all
/// fixed now, so all on by default: [`Holes::all`]). A new hole gets a switch here, off while
/// it is open, so that the rest of the suite stays green meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holes {
    /// Hole 1: `execute_with_fence` with a fence created signalled or reused without reset.
    pub signalled_fence: bool,
    /// Hole 2: buffers of zero-sized elements (`()`).
    pub zst: bool,
    /// Hole 3: work on a device while another list or thread may lose it (device-lost
    /// injection): `copy_to_slice` returning DEVICE_LOST while the driver still writes the
    /// borrowed slice, and (the same cause) synchronisations that return DEVICE_LOST releasing
    /// host buffers a running copy still writes. Off: in device-lost programs the interpreter
    /// synchronises the device's other lists and queues before each submission and runs
    /// thread scopes inline.
    pub lost_copy: bool,
    /// Hole 4: dropping (or unwinding through) a list or queue blocked on an event that is
    /// never signalled.
    pub panic_wait: bool,
    /// Hole 5: no cross-list ordering by the interpreter: the crate must order lists and
    /// queues that use the same allocation.
    pub cross_list_order: bool,
    /// Hole 6 (fixed): after a device loss, a list or queue of the lost device blocked on an
    /// event nobody signals, with commands queued behind the wait, kept the device from ever
    /// being quiescent: every unbounded wait on the device (`copy_to_slice` on an idle list,
    /// `synchronize`, a hazard catch-up) hung. Off: device-lost programs never wait for an
    /// event nothing signalled yet.
    pub lost_blocked: bool,
}

impl Holes {
    /// Every switch off: the interpreter keeps away from every path a hole was on.
    pub fn none() -> Holes {
        Holes {
            signalled_fence: false,
            zst: false,
            lost_copy: false,
            panic_wait: false,
            cross_list_order: false,
            lost_blocked: false,
        }
    }

    /// Every switch on (every hole found so far is fixed).
    pub fn all() -> Holes {
        Holes {
            signalled_fence: true,
            zst: true,
            lost_copy: true,
            panic_wait: true,
            cross_list_order: true,
            lost_blocked: true,
        }
    }

    /// The switches named in `list` (comma-separated; `all`, `none`), as the
    /// `SAFE_API_HOLES` environment variable gives them. Unknown names are an error.
    pub fn parse(list: &str) -> Result<Holes, String> {
        let mut h = Holes::none();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "all" => h = Holes::all(),
                "none" => h = Holes::none(),
                "signalled_fence" => h.signalled_fence = true,
                "zst" => h.zst = true,
                "lost_copy" => h.lost_copy = true,
                "panic_wait" => h.panic_wait = true,
                "cross_list_order" => h.cross_list_order = true,
                "lost_blocked" => h.lost_blocked = true,
                other => return Err(format!("unknown hole switch `{other}`")),
            }
        }
        Ok(h)
    }

    /// From `SAFE_API_HOLES` (unset: every switch on; `none`: all off).
    pub fn from_env() -> Holes {
        match std::env::var("SAFE_API_HOLES") {
            Ok(v) => Holes::parse(&v).unwrap_or_else(|e| panic!("SAFE_API_HOLES: {e}")),
            Err(_) => Holes::all(),
        }
    }
}

impl Default for Holes {
    /// Every fixed hole's switch on.
    fn default() -> Holes {
        Holes::all()
    }
}

/// How a program is run.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub holes: Holes,
    /// The watchdog's limit for one program.
    pub time_limit: Duration,
    /// Whether "large" buffers (tens of thousands of elements, which widen race windows)
    /// may be made.
    pub large: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            holes: Holes::default(),
            time_limit: Duration::from_secs(20),
            large: true,
        }
    }
}
