//! One-expression kernel launches: [`LaunchBuilder`] sets every argument of a kernel, its
//! group size and its group count, then launches it — with the same keep-alive, hazard
//! tracking and driver calls as [`Kernel::set_arg`] + [`ImmediateCommandList::launch`], and
//! more checks before any driver call.
//!
//! ```no_run
//! use level_zero::{DeviceBuffer, ImmediateCommandList, Kernel, LaunchConfig, Result};
//!
//! fn add(list: &mut ImmediateCommandList, k: &mut Kernel, a: &DeviceBuffer<f32>,
//!        b: &DeviceBuffer<f32>, c: &DeviceBuffer<f32>) -> Result<()> {
//!     // SAFETY: `vector_add` reads a[i], b[i] and writes c[i] for its global id i; the
//!     // driver's suggested group size divides n, so every id is below n = a.len() = b.len()
//!     // = c.len().
//!     unsafe {
//!         list.launch_builder(k, LaunchConfig::for_num_elems(a.len())?)
//!             .arg(a)
//!             .arg(b)
//!             .arg(c)
//!             .run()
//!     }
//! }
//! ```
//!
//! Compared with cudarc's `launch_builder`: the configuration is given first and resolved
//! against the kernel when the launch runs (the group size the driver suggests for *this*
//! kernel), and the argument count and sizes are checked, since Level Zero knows them.
//!
//! [`ImmediateCommandList::launch`]: crate::ImmediateCommandList::launch

use std::ffi::c_void;
use std::marker::PhantomData;

use bytemuck::Pod;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::graph::Capture;
use crate::list::{CommandList, ImmediateCommandList, ListCore};
use crate::memory::{BufferSlice, DeviceBuffer, HostBuffer, Memory, SharedBuffer, Use};
use crate::module::Kernel;
use crate::virtual_memory::GrowableBuffer;

/// The call a launch ends in; what the builder's errors about the launch as a whole name.
const LAUNCH: &str = "zeCommandListAppendLaunchKernel";
/// What errors about one argument name.
const SET_ARG: &str = "zeKernelSetArgumentValue";

/// How many work-groups a launch runs, and of what size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaunchConfig {
    /// `count` work-items in one dimension ([`for_num_elems`](Self::for_num_elems)): the
    /// group size is the kernel's required one (`reqd_work_group_size`), else the one the
    /// driver suggests for this kernel (`zeKernelSuggestGroupSize`, asked once per kernel and
    /// count); the group count is `count` divided by it, rounded up.
    Elements {
        /// The number of work-items (at least 1).
        count: u32,
    },
    /// Explicit group count and group size (x, y, z), every one at least 1.
    Grid {
        /// The number of work-groups.
        groups: [u32; 3],
        /// The work-items per group.
        group_size: [u32; 3],
    },
    /// An explicit group count, with the group size the kernel has now (its required one, or
    /// the one [`Kernel::set_group_size`] set last).
    Groups {
        /// The number of work-groups.
        groups: [u32; 3],
    },
}

impl LaunchConfig {
    /// `n` work-items in one dimension, of a group size the kernel decides (see
    /// [`LaunchConfig::Elements`]). The group count is rounded up: when the group size does
    /// not divide `n`, up to `group size - 1` work-items more than `n` run, and the kernel
    /// must check its global id against `n` (the driver suggests a divisor of `n` when there
    /// is one: the CPU driver always does, the largest up to 256).
    ///
    /// Refused (before any call): `n == 0` (a launch over nothing), and `n > u32::MAX`
    /// (`zeKernelSuggestGroupSize` takes 32-bit sizes).
    pub fn for_num_elems(n: usize) -> Result<LaunchConfig> {
        const CALL: &str = "zeKernelSuggestGroupSize";
        if n == 0 {
            return Err(Error::invalid(
                CALL,
                "a launch over 0 elements: LaunchConfig::for_num_elems needs at least 1",
            ));
        }
        let count = u32::try_from(n).map_err(|_| {
            Error::invalid(
                CALL,
                format!("{n} elements do not fit the 32-bit global size of a launch"),
            )
        })?;
        Ok(LaunchConfig::Elements { count })
    }

    /// `groups` work-groups of `group_size` work-items each.
    pub fn grid(groups: [u32; 3], group_size: [u32; 3]) -> LaunchConfig {
        LaunchConfig::Grid { groups, group_size }
    }

    /// `groups` work-groups of the kernel's current group size.
    pub fn groups(groups: [u32; 3]) -> LaunchConfig {
        LaunchConfig::Groups { groups }
    }

    /// The group count and group size this configuration launches `kernel` with, as `run`
    /// will (for [`Elements`](Self::Elements): the required group size, or the driver's
    /// suggestion, which is remembered, so the launch asks for it no more). For checking a
    /// kernel without bound checks against the grid before launching it.
    pub fn resolve(&self, kernel: &mut Kernel) -> Result<([u32; 3], [u32; 3])> {
        self.check(kernel.name())?;
        Ok(match *self {
            LaunchConfig::Elements { count } => {
                let size = kernel.group_size_for([count, 1, 1])?;
                ([count.div_ceil(size[0]), 1, 1], size)
            }
            LaunchConfig::Grid { groups, group_size } => (groups, group_size),
            LaunchConfig::Groups { groups } => (
                groups,
                kernel.group_size().ok_or_else(|| {
                    Error::invalid(
                        LAUNCH,
                        format!("the group size of kernel `{}` is not set", kernel.name()),
                    )
                })?,
            ),
        })
    }

    /// Checks what can be checked without the kernel.
    fn check(&self, kernel: &str) -> Result<()> {
        match *self {
            LaunchConfig::Elements { count: 0 } => Err(Error::invalid(
                "zeKernelSuggestGroupSize",
                format!("a launch of kernel `{kernel}` over 0 elements"),
            )),
            LaunchConfig::Elements { .. } => Ok(()),
            LaunchConfig::Grid { groups, group_size } => {
                if group_size.contains(&0) {
                    return Err(Error::invalid(
                        "zeKernelSetGroupSize",
                        format!("zero-sized group {group_size:?} for kernel `{kernel}`"),
                    ));
                }
                check_groups(kernel, groups)
            }
            LaunchConfig::Groups { groups } => check_groups(kernel, groups),
        }
    }
}

fn check_groups(kernel: &str, groups: [u32; 3]) -> Result<()> {
    if groups.contains(&0) {
        return Err(Error::invalid(
            LAUNCH,
            format!("zero group count {groups:?} for kernel `{kernel}`"),
        ));
    }
    Ok(())
}

/// `bytes` of `__local` memory per work-group, for a `__local` pointer argument of a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Local {
    bytes: usize,
}

impl Local {
    /// `bytes` bytes (at least 1: 0 is refused by the launch).
    pub fn bytes(bytes: usize) -> Local {
        Local { bytes }
    }

    /// Room for `count` values of `T` (a size that overflows `usize` is refused by the
    /// driver as too large).
    pub fn array<T>(count: usize) -> Local {
        Local {
            bytes: count.saturating_mul(size_of::<T>()),
        }
    }

    /// The size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.bytes
    }
}

/// One argument, as the builder keeps it until the launch.
enum Arg {
    /// Memory of a buffer or view: its address, and the use that keeps it alive and orders
    /// it (the kernel may write anything it is given).
    Memory { ptr: *mut c_void, use_: Use },
    /// A by-value argument: `len` bytes at `start` of the builder's value bytes.
    Value { start: usize, len: usize },
    /// `__local` memory of this many bytes.
    Local(usize),
}

pub(crate) mod sealed {
    /// Implemented by this crate for what [`super::KernelArg`] covers.
    pub trait Sealed {
        /// Adds `self` as the builder's next argument.
        fn push(&self, builder: &mut super::Args);
    }
}

/// What [`LaunchBuilder::arg`] takes: a value of a [`Pod`] type (scalars, vectors,
/// `#[repr(C)]` structs, passed by value), a buffer or view of any memory kind
/// ([`DeviceBuffer`], [`HostBuffer`], [`SharedBuffer`], [`BufferSlice`],
/// [`GrowableBuffer`]: a `__global` or `__constant` pointer), or [`Local`] memory. Sealed.
pub trait KernelArg: sealed::Sealed {}

impl<T: Pod> KernelArg for T {}
impl<T: Pod> sealed::Sealed for T {
    fn push(&self, args: &mut Args) {
        let start = args.bytes.len();
        args.bytes.extend_from_slice(bytemuck::bytes_of(self));
        args.list.push(Arg::Value {
            start,
            len: size_of::<T>(),
        });
    }
}

impl KernelArg for Local {}
impl sealed::Sealed for Local {
    fn push(&self, args: &mut Args) {
        args.list.push(Arg::Local(self.bytes));
    }
}

macro_rules! memory_arg {
    ($($ty:ident $(<$lt:lifetime>)?),*) => {$(
        impl<$($lt,)? T: Pod> KernelArg for $ty<$($lt,)? T> {}
        impl<$($lt,)? T: Pod> sealed::Sealed for $ty<$($lt,)? T> {
            fn push(&self, args: &mut Args) {
                args.push_memory(self);
            }
        }
    )*};
}
memory_arg!(
    DeviceBuffer,
    HostBuffer,
    SharedBuffer,
    BufferSlice<'a>,
    GrowableBuffer
);

/// The arguments given to a builder so far.
#[doc(hidden)]
pub struct Args {
    list: Vec<Arg>,
    /// The by-value arguments' bytes, one after the other.
    bytes: Vec<u8>,
    /// The first argument that cannot be used (a buffer of another context), with the
    /// reason.
    refused: Option<(usize, String)>,
    /// The kernel's context, what memory arguments must belong to.
    ctx: crate::context::Context,
}

impl Args {
    fn push_memory<T: Pod>(&mut self, m: &impl Memory<T>) {
        let r = m.region();
        if r.alloc.ctx != self.ctx && self.refused.is_none() {
            self.refused = Some((
                self.list.len(),
                "the buffer belongs to another context than the kernel".into(),
            ));
        }
        self.list.push(Arg::Memory {
            ptr: r.ptr(),
            use_: r.use_(true),
        });
    }
}

/// A list a kernel can be launched on: both list kinds and a graph capture.
pub(crate) trait Launcher {
    fn launcher_core(&self) -> &ListCore;
    /// The list's `launch_with`.
    ///
    /// # Safety
    ///
    /// As for `launch_with`.
    unsafe fn launch_kernel(
        &mut self,
        kernel: &Kernel,
        groups: [u32; 3],
        signal: Option<&Event>,
        wait: &[&Event],
    ) -> Result<()>;
}

macro_rules! launcher {
    ($($ty:ty),*) => {$(
        impl Launcher for $ty {
            fn launcher_core(&self) -> &ListCore {
                crate::list::Recorder::core(self)
            }

            unsafe fn launch_kernel(
                &mut self,
                kernel: &Kernel,
                groups: [u32; 3],
                signal: Option<&Event>,
                wait: &[&Event],
            ) -> Result<()> {
                // SAFETY: forwarded to the caller.
                unsafe { self.launch_with(kernel, groups, signal, wait) }
            }
        }
    )*};
}
launcher!(ImmediateCommandList, CommandList, Capture<'_>);

/// A kernel launch being put together: made by `launch_builder` on an
/// [`ImmediateCommandList`], a [`CommandList`] or a graph [`Capture`]; given every argument
/// in order with [`arg`](Self::arg); launched by [`run`](Self::run).
///
/// Nothing reaches the driver before `run`, which first checks, without any driver call:
/// - the kernel belongs to the list's context and device (or its root device), and the list
///   runs kernels;
/// - exactly as many arguments as the kernel has (`numKernelArgs` of
///   `zeKernelGetProperties`, read when the kernel was created): too few is an error naming
///   the missing indices, too many one naming both counts;
/// - every buffer belongs to the kernel's context; no by-value argument is zero-sized and no
///   local memory is 0 bytes;
/// - every by-value or buffer argument has the size the driver accepted for that argument
///   before, if it accepted one (a kernel's argument sizes are fixed by its signature): an
///   error names the kernel, the index, the expected and the given sizes;
/// - the configuration: no zero count or size.
///
/// Level Zero 1.17 has no query for an argument's size or kind, so a size the kernel has
/// never been given is checked by the driver when it is set (`zeKernelSetArgumentValue`,
/// before the launch is appended); its refusal is an error naming the kernel, the index and
/// the given size, with the driver's description (which on the CPU driver states the
/// expected size).
#[must_use = "a launch builder does nothing until `run`"]
pub struct LaunchBuilder<'a> {
    list: &'a mut dyn Launcher,
    kernel: &'a mut Kernel,
    config: LaunchConfig,
    args: Args,
    signal: Option<&'a Event>,
    wait: &'a [&'a Event],
    /// Raw pointers in `args`: not `Send`.
    _not_send: PhantomData<*mut c_void>,
}

impl std::fmt::Debug for LaunchBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchBuilder")
            .field("kernel", &self.kernel.name())
            .field("config", &self.config)
            .field("args", &self.args.list.len())
            .finish()
    }
}

impl<'a> LaunchBuilder<'a> {
    pub(crate) fn new(
        list: &'a mut dyn Launcher,
        kernel: &'a mut Kernel,
        config: LaunchConfig,
    ) -> LaunchBuilder<'a> {
        let n = kernel.properties().num_args as usize;
        let ctx = kernel.context().clone();
        LaunchBuilder {
            list,
            kernel,
            config,
            args: Args {
                list: Vec::with_capacity(n),
                bytes: Vec::new(),
                refused: None,
                ctx,
            },
            signal: None,
            wait: &[],
            _not_send: PhantomData,
        }
    }

    /// Gives the next argument (the first call gives argument 0): a [`Pod`] value, a buffer
    /// or view (kept alive and ordered with other commands that use it, as for
    /// [`Kernel::set_arg_buffer`]), or [`Local`] memory. See [`KernelArg`].
    pub fn arg<A: KernelArg + ?Sized>(mut self, arg: &A) -> Self {
        arg.push(&mut self.args);
        self
    }

    /// Signals `event` when the kernel completes (with a timestamp pool, the event then
    /// holds the kernel's timestamps), as [`launch_with`] does.
    ///
    /// [`launch_with`]: crate::ImmediateCommandList::launch_with
    pub fn signal(mut self, event: &'a Event) -> Self {
        self.signal = Some(event);
        self
    }

    /// Waits for `events` before the kernel starts, as [`launch_with`] does.
    ///
    /// [`launch_with`]: crate::ImmediateCommandList::launch_with
    pub fn wait(mut self, events: &'a [&'a Event]) -> Self {
        self.wait = events;
        self
    }

    /// Checks everything that needs no driver call (see [`LaunchBuilder`]).
    fn check(&self) -> Result<()> {
        let k = &*self.kernel;
        let core = self.list.launcher_core();
        // The same rule as `launch_with`, checked here before any argument reaches the driver.
        if k.context() != &core.ctx
            || (k.device() != &core.device
                && !crate::module::related_devices(k.device(), &core.device)?)
        {
            return Err(Error::invalid(
                LAUNCH,
                format!(
                    "kernel `{}`'s module was built for another context or device than the list's (or its root device)",
                    k.name()
                ),
            ));
        }
        if !core.compute {
            return Err(Error::invalid(
                LAUNCH,
                "the list's queue group does not run kernels (a copy engine); use a compute list",
            ));
        }
        let expected = k.properties().num_args as usize;
        let given = self.args.list.len();
        if given < expected {
            let missing: Vec<String> = (given..expected).map(|i| i.to_string()).collect();
            return Err(Error::invalid(
                LAUNCH,
                format!(
                    "kernel `{}` takes {expected} arguments, {given} given: argument{} {} missing",
                    k.name(),
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                ),
            ));
        }
        if given > expected {
            return Err(Error::invalid(
                LAUNCH,
                format!(
                    "kernel `{}` takes {expected} arguments, {given} given",
                    k.name()
                ),
            ));
        }
        if let Some((i, why)) = &self.args.refused {
            return Err(Error::invalid(
                SET_ARG,
                format!("argument {i} of kernel `{}`: {why}", k.name()),
            ));
        }
        for (i, a) in self.args.list.iter().enumerate() {
            let given = match a {
                Arg::Memory { ptr, .. } => size_of_val(ptr),
                Arg::Value { len: 0, .. } => {
                    return Err(Error::invalid(
                        SET_ARG,
                        format!("argument {i} of kernel `{}`: a zero-sized value", k.name()),
                    ));
                }
                Arg::Value { len, .. } => *len,
                Arg::Local(0) => {
                    return Err(Error::invalid(
                        SET_ARG,
                        format!(
                            "argument {i} of kernel `{}`: zero bytes of local memory",
                            k.name()
                        ),
                    ));
                }
                Arg::Local(_) => continue,
            };
            if let Some(expected) = k.accepted_size(i as u32)
                && expected != given
            {
                return Err(size_error(k, i, Some(expected), given, None));
            }
        }
        self.config.check(k.name())
    }

    /// Sets the arguments, the group size when it changed, and launches the kernel: one
    /// driver call on a 1.17 driver when only the arguments changed (the same calls as
    /// [`Kernel::set_arg`]… followed by `launch`, never more).
    ///
    /// # Safety
    ///
    /// The kernel runs code the crate cannot inspect. The caller must ensure that:
    /// - every access the kernel makes, for every work-item the configuration launches
    ///   (with [`LaunchConfig::for_num_elems`], up to `group size - 1` work-items past `n`
    ///   when the group size does not divide it), stays inside the buffers given as
    ///   arguments, its `__local` memory, and memory that outlives the launch and that it is
    ///   allowed to reach ([`Kernel::set_indirect_access`]);
    /// - each argument has the type the kernel declares (a value of the right size but the
    ///   wrong type, e.g. an `f32` for a `uint`, or a `u64` holding an address, is not
    ///   detected);
    /// - the kernel does not race with other device work on memory the crate does not track
    ///   (memory reached through pointers stored in buffers).
    ///
    /// The buffers given as arguments are kept alive, host access to them is refused
    /// ([`Error::Busy`]) and other lists' commands that use them are ordered with the launch,
    /// until the list has seen the launch complete, exactly as for
    /// [`launch`](crate::ImmediateCommandList::launch).
    ///
    /// A `run` refused by its checks changes nothing. One that fails later (a driver call,
    /// the list's own refusal) may have set some of the kernel's arguments or its group size:
    /// the kernel then forgets all of them, and every launch is refused, saying so, until
    /// they are set again — never a launch with a mix of old values and those of a launch
    /// that reported failure.
    pub unsafe fn run(self) -> Result<()> {
        self.check()?;
        let LaunchBuilder {
            list,
            kernel,
            config,
            args,
            signal,
            wait,
            ..
        } = self;
        // SAFETY: forwarded to the caller.
        let r = unsafe { apply_and_launch(list, kernel, config, args, signal, wait) };
        if r.is_err() {
            // Anything that failed after `check` may have changed the kernel (its group size,
            // some arguments): it forgets them all, so that no later launch runs with a mix
            // of its old values and those of a launch that reported failure.
            kernel.forget_arguments();
        }
        r
    }
}

/// [`LaunchBuilder::run`] after its checks: sets the group size and the arguments, then
/// launches.
///
/// # Safety
///
/// As [`LaunchBuilder::run`].
unsafe fn apply_and_launch(
    list: &mut dyn Launcher,
    kernel: &mut Kernel,
    config: LaunchConfig,
    args: Args,
    signal: Option<&Event>,
    wait: &[&Event],
) -> Result<()> {
    {
        let groups = match config {
            LaunchConfig::Elements { count } => {
                let size = kernel.group_size_for([count, 1, 1])?;
                if size[1] != 1 || size[2] != 1 {
                    return Err(Error::invalid(
                        LAUNCH,
                        format!(
                            "LaunchConfig::for_num_elems is one-dimensional, but kernel `{}` requires the group size {size:?}",
                            kernel.name()
                        ),
                    ));
                }
                set_group_size(kernel, size)?;
                [count.div_ceil(size[0]), 1, 1]
            }
            LaunchConfig::Grid { groups, group_size } => {
                set_group_size(kernel, group_size)?;
                groups
            }
            LaunchConfig::Groups { groups } => groups,
        };
        for (i, a) in args.list.into_iter().enumerate() {
            let index = i as u32;
            let (r, given) = match a {
                Arg::Memory { ptr, use_ } => {
                    (kernel.set_arg_use(index, &ptr, use_), size_of_val(&ptr))
                }
                Arg::Value { start, len } => (
                    kernel.set_arg_bytes(index, &args.bytes[start..start + len]),
                    len,
                ),
                Arg::Local(bytes) => (kernel.set_arg_local(index, bytes), bytes),
            };
            if let Err(e) = r {
                return Err(match e.code() {
                    Some(c)
                        if c.0
                            == level_zero_sys::ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE =>
                    {
                        size_error(kernel, i, None, given, Some(&e))
                    }
                    _ => e,
                });
            }
        }
        // SAFETY: forwarded to the caller (see the safety section).
        unsafe { list.launch_kernel(kernel, groups, signal, wait) }
    }
}

fn set_group_size(kernel: &mut Kernel, size: [u32; 3]) -> Result<()> {
    if kernel.group_size() == Some(size) {
        return Ok(());
    }
    kernel.set_group_size(size)
}

fn size_error(
    k: &Kernel,
    index: usize,
    expected: Option<usize>,
    given: usize,
    driver: Option<&Error>,
) -> Error {
    let reason = match (expected, driver) {
        (Some(expected), _) => format!(
            "argument {index} of kernel `{}`: expected {expected} bytes, given {given} bytes",
            k.name()
        ),
        (None, driver) => format!(
            "argument {index} of kernel `{}`: given {given} bytes, which the driver refuses (the expected size is the kernel's parameter's, which Level Zero 1.17 has no query for){}",
            k.name(),
            driver
                .map(|e| format!("; the driver: {e}"))
                .unwrap_or_default()
        ),
    };
    Error::invalid(SET_ARG, reason)
}
