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
//! A driver without the extension (before 1.17) gives [`Error::MissingFunction`] for
//! `zeCommandListBeginGraphCaptureExt`: record a regular [`CommandList`](crate::CommandList)
//! and execute it on a queue instead, which replays the same way.

use std::any::Any;
use std::sync::Arc;

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::event::Event;
use crate::handle::Handle;
use crate::list::{Cmd, ImmediateCommandList, Keep, ListCore, Recorder, SyncArgs, commands};
use crate::memory::{Memory, Use};

struct GraphInner {
    ctx: Context,
    device: Device,
    handle: Handle<sys::_ze_graph_handle_t>,
    /// Every memory use of the captured commands (what a replay uses).
    uses: Vec<Use>,
    /// What the captured commands keep alive.
    _keep: Vec<Keep>,
}

impl Drop for GraphInner {
    fn drop(&mut self) {
        // SAFETY: executable graphs hold the graph, and replays hold their executable graph
        // until they complete: nothing uses the graph any more.
        if let Err(e) = unsafe { ze!(self.ctx.api(), zeGraphDestroyExt(self.handle.0)) } {
            log::error!("level-zero: destroying a graph failed: {e}");
        }
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
            .field("handle", &self.inner.handle.0)
            .field("buffers", &self.inner.uses.len())
            .finish()
    }
}

impl Graph {
    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_graph_handle_t {
        self.inner.handle.0
    }

    /// Whether the capture recorded no command (`zeGraphIsEmptyExt`).
    pub fn is_empty(&self) -> Result<bool> {
        const CALL: &str = "zeGraphIsEmptyExt";
        // SAFETY: a valid graph handle.
        let r = unsafe { self.inner.ctx.api().zeGraphIsEmptyExt(self.as_raw()) };
        match r {
            Ok(sys::ze_result_t::ZE_RESULT_QUERY_TRUE) => Ok(true),
            Ok(sys::ze_result_t::ZE_RESULT_QUERY_FALSE) => Ok(false),
            other => crate::error::check(CALL, other).map(|()| {
                // Success without an answer: the specification gives one of the two.
                false
            }),
        }
    }

    /// Writes the driver's description of the graph to `path` (`zeGraphDumpContentsExt`;
    /// its format is the driver's).
    pub fn dump(&self, path: &std::path::Path) -> Result<()> {
        const CALL: &str = "zeGraphDumpContentsExt";
        let p = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::invalid(CALL, "the path contains a NUL byte"))?;
        // SAFETY: a valid graph handle and a NUL-terminated path; no extension structures.
        unsafe {
            ze!(
                self.inner.ctx.api(),
                zeGraphDumpContentsExt(self.as_raw(), p.as_ptr(), std::ptr::null())
            )
        }
    }

    /// An executable graph of this graph (`zeGraphInstantiateExt`), replayed with
    /// [`ImmediateCommandList::replay`].
    pub fn instantiate(&self) -> Result<ExecutableGraph> {
        let mut h = std::ptr::null_mut();
        // SAFETY: a valid, complete graph handle; no extension structures; valid output.
        unsafe {
            ze!(
                self.inner.ctx.api(),
                zeGraphInstantiateExt(self.as_raw(), std::ptr::null(), &mut h)
            )?
        };
        Ok(ExecutableGraph {
            inner: Arc::new(ExecInner {
                graph: self.inner.clone(),
                handle: Handle(h),
            }),
        })
    }
}

struct ExecInner {
    graph: Arc<GraphInner>,
    handle: Handle<sys::_ze_executable_graph_handle_t>,
}

impl Drop for ExecInner {
    fn drop(&mut self) {
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

/// The commands of a graph being captured on an immediate list: the same commands a list
/// takes (without events). See [`ImmediateCommandList::capture`].
pub struct Capture<'a> {
    list: &'a mut ImmediateCommandList,
    uses: Vec<Use>,
    keep: Vec<Keep>,
}

impl Recorder for Capture<'_> {
    fn core(&self) -> &ListCore {
        &self.list.core
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
        let mut sync = SyncArgs {
            signal: std::ptr::null_mut(),
            waits: Vec::new(),
        };
        append(&self.list.core, &mut sync)?;
        self.uses.extend(cmd.uses);
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
        if self.core.synchronous {
            return Err(Error::invalid(
                BEGIN,
                "a synchronous immediate list cannot capture a graph",
            ));
        }
        let api = self.core.api();
        // SAFETY: a valid immediate list handle; no extension structures.
        unsafe {
            ze!(
                api,
                zeCommandListBeginGraphCaptureExt(self.core.raw(), std::ptr::null())
            )?
        };
        let raw = self.core.raw();
        let ctx = self.core.ctx.clone();
        let device = self.core.device.clone();
        // From here, a failure or a panic ends the capture and destroys its graph.
        let api_table = ctx.api();
        let mut guard = EndOnDrop {
            api: api_table,
            list: raw,
            armed: true,
        };
        let mut cap = Capture {
            list: self,
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
        ended?;
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
                handle: Handle(g),
                uses,
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
        let keep: Keep = graph.inner.clone() as Arc<dyn Any + Send + Sync>;
        let h = graph.as_raw();
        let cmd = Cmd::new(CALL, g.uses.iter().cloned()).keep(keep);
        self.record(cmd, &mut |core, sync| {
            // SAFETY: valid list, executable graph and event handles; the graph is kept
            // alive by the command until the list has seen it complete.
            unsafe {
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
            }
        })
    }
}
