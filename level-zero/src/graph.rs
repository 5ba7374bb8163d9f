//! Graphs: record a sequence of commands once, replay it many times
//! (`ZE_extension_record_replay_graph`, spec 1.17; the counterpart of CUDA graphs).
//!
//! [`ImmediateCommandList::capture`] runs a closure that appends commands to a [`Capture`]
//! — the same commands a list takes (copies, fills, launches, barriers, host functions) —
//! which the driver records instead of running. The result is a [`Graph`];
//! [`Graph::instantiate`] makes an [`ExecutableGraph`], and
//! [`ImmediateCommandList::replay`] runs it, as often as wanted.
//!
//! The rules, as for lists:
//! - **Keep-alive.** A graph keeps alive everything its commands use (buffers, kernels, what
//!   their arguments hold, host functions); an executable graph keeps its graph; a replay
//!   keeps the executable graph until the list has seen the replay complete.
//! - **Hazards.** Captured commands do not run, so capturing registers nothing. Each replay
//!   is one command of the replaying list that uses every buffer the graph's commands use
//!   (as written): host access to them waits for (or is refused during) the replay, and
//!   other lists and queues are ordered with it like with any command.
//! - **Kernel arguments** are captured by value when the launch is appended (changing the
//!   kernel's arguments later does not change the graph).
//! - **Events** are not taken by captured commands here (the specification makes them
//!   graph-internal, and a wait on one from another list forks the capture): a command with
//!   a signal or wait event is refused while capturing. Order inside the graph comes from
//!   the capturing list's order (in-order lists) and barriers.
//! - A capture that fails (the closure returns an error or panics, or the driver refuses a
//!   command) is ended and its graph destroyed; the list goes on normally.
//!
//! **On a driver without the extension** (before 1.17) a capture records the commands into a
//! regular command list instead, closed at the end of the capture, and a replay appends it
//! to the immediate list with `zeCommandListImmediateAppendCommandListsExp` (the
//! `ZE_experimental_immediate_command_list_append` extension, spec 1.9): the same effects,
//! keep-alive and hazard rules. [`Graph::is_native`] tells which; `is_empty` and `dump` need
//! the extension. A driver with neither gives [`Error::MissingFunction`] naming both.

use std::any::Any;
use std::sync::Arc;

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::event::Event;
use crate::handle::Handle;
use crate::list::{
    Cmd, CommandList, ImmediateCommandList, Keep, ListCore, Recorder, SyncArgs, commands,
};
use crate::memory::{Memory, Use};
use crate::queue::{Ordering, QueueDesc};

/// What a graph is on the driver.
enum Recorded {
    /// A graph of the driver's record-and-replay extension.
    Native(Handle<sys::_ze_graph_handle_t>),
    /// A closed regular list (its shared state: the handle, what it keeps), replayed by
    /// appending it to an immediate list.
    Emulated(Arc<crate::list::ListState>),
}

struct GraphInner {
    ctx: Context,
    device: Device,
    /// The capturing list's queue group ordinal and mode, which a replaying list must have
    /// (the specification: the destination "must match" them).
    ordinal: u32,
    synchronous: bool,
    recorded: Recorded,
    /// Every memory use of the captured commands (what a replay uses).
    uses: Vec<Use>,
    /// What the captured commands keep alive.
    _keep: Vec<Keep>,
}

impl Drop for GraphInner {
    fn drop(&mut self) {
        if let Recorded::Native(h) = &self.recorded {
            // SAFETY: executable graphs hold the graph, and replays hold their executable
            // graph until they complete: nothing uses the graph any more.
            if let Err(e) = unsafe { ze!(self.ctx.api(), zeGraphDestroyExt(h.0)) } {
                log::error!("level-zero: destroying a graph failed: {e}");
            }
        }
        // An emulated graph's list is destroyed by its own drop (nothing replays it now).
    }
}

/// A recorded graph (from [`ImmediateCommandList::capture`]). Cheap to clone; `Send + Sync`
/// (it is only read after capture).
#[derive(Clone)]
pub struct Graph {
    inner: Arc<GraphInner>,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("native", &self.is_native())
            .field("buffers", &self.inner.uses.len())
            .finish()
    }
}

impl Graph {
    /// Whether this is a graph of the driver (`ZE_extension_record_replay_graph`), not a
    /// regular list standing in for one on an older driver.
    pub fn is_native(&self) -> bool {
        matches!(self.inner.recorded, Recorded::Native(_))
    }

    /// The raw handle (null for an emulated graph). It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_graph_handle_t {
        match &self.inner.recorded {
            Recorded::Native(h) => h.0,
            Recorded::Emulated(_) => std::ptr::null_mut(),
        }
    }

    fn native(&self, call: &'static str) -> Result<sys::ze_graph_handle_t> {
        match &self.inner.recorded {
            Recorded::Native(h) => Ok(h.0),
            Recorded::Emulated(_) => Err(Error::Unsupported {
                what: call,
                why: "the graph is emulated by a regular list (the driver has no \
                      ZE_extension_record_replay_graph)"
                    .into(),
            }),
        }
    }

    /// Whether the capture recorded no command (`zeGraphIsEmptyExt`).
    pub fn is_empty(&self) -> Result<bool> {
        const CALL: &str = "zeGraphIsEmptyExt";
        let h = self.native(CALL)?;
        // SAFETY: a valid graph handle.
        let r = unsafe { crate::trace::ze_call!(self.inner.ctx.api(), zeGraphIsEmptyExt(h)) };
        match r {
            Ok(sys::ze_result_t::ZE_RESULT_QUERY_TRUE) => Ok(true),
            Ok(sys::ze_result_t::ZE_RESULT_QUERY_FALSE) => Ok(false),
            Ok(sys::ze_result_t::ZE_RESULT_SUCCESS) => Err(Error::invalid(
                CALL,
                "the driver answered neither ZE_RESULT_QUERY_TRUE nor ZE_RESULT_QUERY_FALSE",
            )),
            other => crate::error::check(CALL, other).map(|()| false),
        }
    }

    /// Writes the driver's description of the graph to `path` (`zeGraphDumpContentsExt`;
    /// its format is the driver's).
    pub fn dump(&self, path: &std::path::Path) -> Result<()> {
        const CALL: &str = "zeGraphDumpContentsExt";
        let h = self.native(CALL)?;
        let p = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::invalid(CALL, "the path contains a NUL byte"))?;
        // SAFETY: a valid graph handle and a NUL-terminated path; no extension structures.
        unsafe {
            ze!(
                self.inner.ctx.api(),
                zeGraphDumpContentsExt(h, p.as_ptr(), std::ptr::null())
            )
        }
    }

    /// An executable graph of this graph (`zeGraphInstantiateExt`), replayed with
    /// [`ImmediateCommandList::replay`].
    pub fn instantiate(&self) -> Result<ExecutableGraph> {
        let handle = match &self.inner.recorded {
            Recorded::Native(g) => {
                let mut h = std::ptr::null_mut();
                // SAFETY: a valid, complete graph handle; no extension structures; valid
                // output.
                unsafe {
                    ze!(
                        self.inner.ctx.api(),
                        zeGraphInstantiateExt(g.0, std::ptr::null(), &mut h)
                    )?
                };
                Handle(h)
            }
            Recorded::Emulated(_) => Handle(std::ptr::null_mut()),
        };
        Ok(ExecutableGraph {
            inner: Arc::new(ExecInner {
                graph: self.inner.clone(),
                handle,
            }),
        })
    }
}

struct ExecInner {
    graph: Arc<GraphInner>,
    /// Null for an emulated graph.
    handle: Handle<sys::_ze_executable_graph_handle_t>,
}

impl Drop for ExecInner {
    fn drop(&mut self) {
        if self.handle.0.is_null() {
            return;
        }
        // SAFETY: replays hold the executable graph until they complete.
        if let Err(e) = unsafe {
            ze!(
                self.graph.ctx.api(),
                zeExecutableGraphDestroyExt(self.handle.0)
            )
        } {
            log::error!("level-zero: destroying an executable graph failed: {e}");
        }
    }
}

/// An executable graph (from [`Graph::instantiate`]): replayed with
/// [`ImmediateCommandList::replay`]. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct ExecutableGraph {
    inner: Arc<ExecInner>,
}

impl std::fmt::Debug for ExecutableGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutableGraph")
            .field("handle", &self.inner.handle.0)
            .finish()
    }
}

impl ExecutableGraph {
    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_executable_graph_handle_t {
        self.inner.handle.0
    }

    /// The graph it was made from.
    pub fn graph(&self) -> Graph {
        Graph {
            inner: self.inner.graph.clone(),
        }
    }
}

/// Where a capture's commands go.
enum Target<'a> {
    /// The immediate list, in the driver's capture mode.
    Native(&'a mut ImmediateCommandList),
    /// A regular list standing in for the graph.
    Emulated(CommandList),
}

/// The commands of a graph being captured on an immediate list: the same commands a list
/// takes (without events). See [`ImmediateCommandList::capture`].
pub struct Capture<'a> {
    target: Target<'a>,
    uses: Vec<Use>,
    keep: Vec<Keep>,
}

impl Recorder for Capture<'_> {
    fn core(&self) -> &ListCore {
        match &self.target {
            Target::Native(l) => &l.core,
            Target::Emulated(l) => l.core(),
        }
    }

    fn record<U: IntoIterator<Item = Use>>(
        &mut self,
        cmd: Cmd<'_, U>,
        append: &mut dyn FnMut(&ListCore, &mut SyncArgs) -> Result<()>,
    ) -> Result<()> {
        if cmd.signal.is_some() || !cmd.waits.is_empty() || cmd.other_event.is_some() {
            return Err(Error::invalid(
                cmd.call,
                "a command with events cannot be captured into a graph (its events would \
                 become the graph's own): order the graph's commands with the list's order \
                 and barriers",
            ));
        }
        let uses: Vec<Use> = cmd.uses.into_iter().collect();
        match &mut self.target {
            Target::Native(l) => {
                let mut sync = SyncArgs {
                    signal: std::ptr::null_mut(),
                    waits: Vec::new(),
                };
                append(&l.core, &mut sync)?;
            }
            Target::Emulated(l) => {
                // The regular list orders, records and keeps the command as for any list.
                let c = Cmd {
                    keep: cmd.keep.clone(),
                    ..Cmd::new(cmd.call, uses.iter().cloned())
                };
                l.record(c, append)?;
            }
        }
        self.uses.extend(uses);
        self.keep.extend(cmd.keep);
        Ok(())
    }
}

impl Capture<'_> {
    commands!();

    /// Appends `f`, run on the host at each replay of the graph when it reaches this
    /// point; see [`crate::host_function`].
    pub fn host_fn<F: FnMut() + Send + 'static>(&mut self, f: F) -> Result<()> {
        crate::list::append_host_fn(self, Arc::new(crate::host_function::HostFn::many(f)))
    }
}

/// Ends a capture that did not complete: the driver's capture mode must not outlive it.
struct EndOnDrop<'a> {
    api: &'a sys::Api,
    list: sys::ze_command_list_handle_t,
    armed: bool,
}

impl Drop for EndOnDrop<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut g = std::ptr::null_mut();
        // SAFETY: a valid list handle in capture mode; valid output.
        match unsafe {
            ze!(
                self.api,
                zeCommandListEndGraphCaptureExt(self.list, std::ptr::null(), &mut g)
            )
        } {
            Ok(()) if !g.is_null() => {
                // SAFETY: the graph just ended, never instantiated: nothing uses it.
                if let Err(e) = unsafe { ze!(self.api, zeGraphDestroyExt(g)) } {
                    log::error!("level-zero: destroying an abandoned graph failed: {e}");
                }
            }
            Ok(()) => {}
            Err(e) => log::error!("level-zero: ending an abandoned graph capture failed: {e}"),
        }
    }
}

impl ImmediateCommandList {
    /// Captures the commands `record` appends to a [`Capture`] into a [`Graph`] instead of
    /// running them (`zeCommandListBeginGraphCaptureExt` … `zeCommandListEndGraphCaptureExt`);
    /// see [`crate::graph`] for the rules. Not on a synchronous list (the specification's
    /// rule).
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// let mut list = level_zero::ImmediateCommandList::compute(&ctx, device)?;
    /// let a = level_zero::DeviceBuffer::<u32>::new(&ctx, device, 1024)?;
    /// let b = level_zero::DeviceBuffer::<u32>::new(&ctx, device, 1024)?;
    /// let graph = list.capture(|g| {
    ///     g.fill(&a, 7u32)?;
    ///     g.copy(&b, &a)
    /// })?;
    /// let exec = graph.instantiate()?;
    /// for _ in 0..10 {
    ///     list.replay(&exec)?;
    /// }
    /// list.synchronize()?;
    /// # Ok(()) }
    /// ```
    pub fn capture(
        &mut self,
        record: impl FnOnce(&mut Capture<'_>) -> Result<()>,
    ) -> Result<Graph> {
        const BEGIN: &str = "zeCommandListBeginGraphCaptureExt";
        crate::host_function::refuse(BEGIN)?;
        if self.core.synchronous {
            return Err(Error::invalid(
                BEGIN,
                "a synchronous immediate list cannot capture a graph",
            ));
        }
        // The list's earlier work completes first: then no other list or queue has to
        // catch up on it (a catch-up appends a barrier to this list, which a capture would
        // record instead of running), and the capture records only its own commands.
        self.synchronize()?;
        let ctx = self.core.ctx.clone();
        let device = self.core.device.clone();
        let api = ctx.api();
        if api.zeCommandListBeginGraphCaptureExt.is_none() {
            return self.capture_emulated(record);
        }
        // SAFETY: a valid immediate list handle; no extension structures.
        unsafe {
            ze!(
                api,
                zeCommandListBeginGraphCaptureExt(self.core.raw(), std::ptr::null())
            )?
        };
        let raw = self.core.raw();
        // From here, a failure or a panic ends the capture and destroys its graph.
        let api_table = ctx.api();
        let mut guard = EndOnDrop {
            api: api_table,
            list: raw,
            armed: true,
        };
        let mut cap = Capture {
            target: Target::Native(self),
            uses: Vec::new(),
            keep: Vec::new(),
        };
        record(&mut cap)?;
        let (uses, keep) = (cap.uses, cap.keep);
        guard.armed = false;
        let mut g = std::ptr::null_mut();
        // SAFETY: a valid list handle in capture mode; valid output.
        let ended = unsafe {
            ze!(
                api_table,
                zeCommandListEndGraphCaptureExt(raw, std::ptr::null(), &mut g)
            )
        };
        if let Err(e) = ended {
            // The list would record every later command instead of running it: it is not
            // used again (its drop waits for nothing it recorded, then destroys it).
            self.core.broken = Some(
                "the list was left in a graph capture the driver could not end; create another list",
            );
            return Err(e);
        }
        if g.is_null() {
            return Err(Error::invalid(
                "zeCommandListEndGraphCaptureExt",
                "the driver returned no graph",
            ));
        }
        Ok(Graph {
            inner: Arc::new(GraphInner {
                ctx: ctx.clone(),
                device,
                ordinal: self.core.ordinal,
                synchronous: self.core.synchronous,
                recorded: Recorded::Native(Handle(g)),
                uses: merge_uses(uses),
                _keep: keep,
            }),
        })
    }

    /// A capture on a driver without graphs: into a regular list (see [`crate::graph`]).
    fn capture_emulated(
        &mut self,
        record: impl FnOnce(&mut Capture<'_>) -> Result<()>,
    ) -> Result<Graph> {
        if self
            .core
            .api()
            .zeCommandListImmediateAppendCommandListsExp
            .is_none()
        {
            return Err(sys::MissingFunction {
                name: "zeCommandListBeginGraphCaptureExt",
            }
            .into());
        }
        let desc = QueueDesc {
            ordinal: self.core.ordinal,
            ordering: if self.core.in_order {
                Ordering::InOrder
            } else {
                Ordering::Relaxed
            },
            ..QueueDesc::default()
        };
        let list = CommandList::new(&self.core.ctx, &self.core.device, &desc)?;
        let mut cap = Capture {
            target: Target::Emulated(list),
            uses: Vec::new(),
            keep: Vec::new(),
        };
        record(&mut cap)?;
        let Capture { target, uses, keep } = cap;
        let Target::Emulated(mut list) = target else {
            unreachable!("an emulated capture records into a regular list")
        };
        list.close()?;
        let list = list.state.clone();
        Ok(Graph {
            inner: Arc::new(GraphInner {
                ctx: self.core.ctx.clone(),
                device: self.core.device.clone(),
                ordinal: self.core.ordinal,
                synchronous: self.core.synchronous,
                recorded: Recorded::Emulated(list),
                uses: merge_uses(uses),
                _keep: keep,
            }),
        })
    }

    /// Runs an executable graph (`zeCommandListAppendGraphExt`), after the list's earlier
    /// commands (in-order lists). One command of this list that uses every buffer the
    /// graph's commands use; the replay keeps the executable graph alive until the list
    /// has seen it complete.
    pub fn replay(&mut self, graph: &ExecutableGraph) -> Result<()> {
        const CALL: &str = "zeCommandListAppendGraphExt";
        let g = &graph.inner.graph;
        if g.ctx != self.core.ctx {
            return Err(Error::invalid(
                CALL,
                "the graph was captured in another context than the list's",
            ));
        }
        if g.device != self.core.device {
            return Err(Error::invalid(
                CALL,
                "the graph was captured on another device than the list's",
            ));
        }
        if g.ordinal != self.core.ordinal || g.synchronous != self.core.synchronous {
            return Err(Error::invalid(
                CALL,
                format!(
                    "the graph was captured on a list of queue group {} ({}); this list is of \
                     group {} ({})",
                    g.ordinal,
                    if g.synchronous {
                        "synchronous"
                    } else {
                        "asynchronous"
                    },
                    self.core.ordinal,
                    if self.core.synchronous {
                        "synchronous"
                    } else {
                        "asynchronous"
                    },
                ),
            ));
        }
        let keep: Keep = graph.inner.clone() as Arc<dyn Any + Send + Sync>;
        let h = graph.as_raw();
        let emulated = match &g.recorded {
            Recorded::Native(_) => None,
            Recorded::Emulated(l) => Some(l.core.raw()),
        };
        let call = if emulated.is_some() {
            "zeCommandListImmediateAppendCommandListsExp"
        } else {
            CALL
        };
        let cmd = Cmd::new(call, g.uses.iter().cloned()).keep(keep);
        self.record(cmd, &mut |core, sync| match emulated {
            // SAFETY: valid list, executable graph and event handles; the graph is kept
            // alive by the command until the list has seen it complete.
            None => unsafe {
                ze!(
                    core.api(),
                    zeCommandListAppendGraphExt(
                        core.raw(),
                        h,
                        std::ptr::null(),
                        sync.signal,
                        sync.count(),
                        sync.waits_ptr()
                    )
                )
            },
            Some(mut l) => {
                // SAFETY: valid immediate list, closed regular list (kept alive with the
                // graph by the command) and event handles; one list.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListImmediateAppendCommandListsExp(
                            core.raw(),
                            1,
                            &mut l,
                            sync.signal,
                            sync.count(),
                            sync.waits_ptr()
                        )
                    )
                }
            }
        })
    }
}

/// One use per allocation (written if any command writes it): what a replay registers.
fn merge_uses(uses: Vec<Use>) -> Vec<Use> {
    let mut out: Vec<Use> = Vec::with_capacity(uses.len());
    for u in uses {
        match out.iter_mut().find(|o| Arc::ptr_eq(&o.alloc, &u.alloc)) {
            Some(o) => o.write |= u.write,
            None => out.push(u),
        }
    }
    out
}
