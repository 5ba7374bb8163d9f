//! Runs OpenCL-flavoured SPIR-V kernels (as compiled by clang + llvm-spirv) on the CPU.
//!
//! This is the kernel engine of the `level-zero-cpu` driver. The driver builds a [`Program`]
//! from a module's SPIR-V in `zeModuleCreate`, reads [`KernelInfo`] for `zeKernelCreate` and
//! `zeKernelGetProperties`, and calls [`Program::launch`] from its queue worker for
//! `zeCommandListAppendLaunchKernel`.
//!
//! How it works (see the crate's README for the details and limits):
//!
//! - **Build**: the bytes are framed and checked (magic, version, word counts), parsed with
//!   `rspirv`, and checked against what the engine implements (capabilities, addressing and
//!   memory model, execution model, every opcode and OpenCL.std instruction by name). Each
//!   kernel is then decoded once into a register-machine program with every function call
//!   inlined, OpPhi turned into moves on control-flow edges, and blocks ordered for
//!   reconvergence. Anything the engine cannot run fails the build with a log naming it.
//! - **Launch**: work-groups are spread over one worker thread per core; within a group all
//!   work-items run in lockstep, one block at a time for every work-item that is at that
//!   block (per-work-item program counters, lowest block first), with barriers as
//!   synchronisation points.
//! - **Sanitizer**: every global, constant, local and private access is checked against the
//!   allocations of the [`MemoryMap`], the program's variables, the work-group's local memory
//!   and the work-item's private memory before it happens; a bad access stops the launch with
//!   [`ExecError::OutOfBounds`] and touches nothing.

#![warn(missing_docs)]

mod annotations;
mod builtins;
mod check;
mod conversions;
mod decode;
mod exec;
mod ir;
mod jit;
mod linkage;
mod mem;
mod module;
mod operands;
mod ops;
mod printf;
mod termination;

use std::collections::HashMap;
use std::fmt;

/// What `zeModuleCreate` passes on.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions<'a> {
    /// The build flags string (`pBuildFlags`), e.g. `-ze-opt-disable`; may be empty.
    pub flags: &'a str,
    /// Specialization constants: `(SpecId, value bytes)`.
    pub spec_constants: &'a [(u32, &'a [u8])],
    /// The sub-group size of kernels that do not require one (`SubgroupSize` execution mode,
    /// `intel_reqd_sub_group_size`): one of [`SUBGROUP_SIZES`]; `None` for
    /// [`DEFAULT_SUBGROUP_SIZE`].
    pub subgroup_size: Option<u32>,
    /// Which engine runs the program's kernels ([`Engine::Jit`] unless chosen otherwise).
    pub engine: Engine,
    /// Compiled kernels skip the sanitizer's checks of loads and stores (the JIT only; the
    /// interpreter always checks). Faster, and a kernel that reads or writes outside the
    /// memory it was given then really does: it may corrupt or crash the process, as a GPU
    /// kernel may corrupt device memory, instead of stopping with
    /// [`ExecError::OutOfBounds`]. Off by default.
    pub unchecked: bool,
}

/// The engines that run kernels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Native code compiled with Cranelift when the kernel is first asked for
    /// ([`Program::kernel_engine`]) or launched, cached per kernel. A kernel the JIT does not
    /// take (collectives and sub-group meeting points, whose work-items run in lockstep)
    /// runs on the interpreter; [`Program::kernel_engine`] says which and why.
    #[default]
    Jit,
    /// The interpreter: the reference implementation.
    Interpreter,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Jit => "jit",
            Engine::Interpreter => "interpreter",
        })
    }
}

/// Which engine runs a kernel ([`Program::kernel_engine`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelEngine {
    /// The engine its launches run on.
    pub engine: Engine,
    /// Why it runs on the interpreter although the JIT was asked for (`None` otherwise).
    pub fallback: Option<String>,
}

/// A module that failed to build. `log` is the build log handed to the application: it names
/// what failed (for an unsupported instruction, the opcode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// The build log.
    pub log: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.log)
    }
}

impl std::error::Error for BuildError {}

/// How a kernel argument is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A `__global` pointer: 8 bytes holding a device address (0 for NULL).
    GlobalPointer,
    /// A `__constant` pointer: 8 bytes holding a device address.
    ConstantPointer,
    /// A `__local` pointer: set with a size in bytes and a null value; the engine allocates
    /// that much local memory per work-group.
    LocalPointer,
    /// A value (scalar, vector or struct passed by value) of `size` bytes.
    Value,
    /// An image (`image1d_t` ... `image3d_t`, arrays, buffers): given as [`ArgValue::Image`].
    Image,
    /// A sampler (`sampler_t`): given as [`ArgValue::Sampler`].
    Sampler,
}

/// One kernel argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgInfo {
    /// How it is passed.
    pub kind: ArgKind,
    /// Its size in bytes as `zeKernelSetArgumentValue` expects it (8 for global and constant
    /// pointers, the value's size for values; for local pointers, 0: any size is accepted).
    pub size: usize,
}

/// What the driver needs to know about one kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelInfo {
    /// The kernel's name.
    pub name: String,
    /// Its arguments, in order.
    pub args: Vec<ArgInfo>,
    /// `reqd_work_group_size`, when the kernel declares one.
    pub required_group_size: Option<[u32; 3]>,
    /// The sub-group size the kernel runs with (one of [`SUBGROUP_SIZES`]).
    pub subgroup_size: u32,
    /// The sub-group size the kernel requires (`SubgroupSize` execution mode), if any.
    pub required_subgroup_size: Option<u32>,
    /// Bytes of private memory per work-item.
    pub private_memory_size: u32,
    /// Bytes of statically declared `__local` memory per work-group.
    pub local_memory_size: u32,
}

/// A program-scope variable (`__global` or `__constant` at file scope). Its storage is
/// owned by the [`Program`] and stays at `address` for the program's lifetime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalVariable {
    /// The variable's name.
    pub name: String,
    /// Its address (a host address, which is also its device address).
    pub address: u64,
    /// Its size in bytes.
    pub size: usize,
}

/// The value of one argument at launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgValue<'a> {
    /// A value or a global/constant pointer: its bytes (pointers: 8 bytes, little endian).
    Bytes(&'a [u8]),
    /// A local pointer: the number of bytes of local memory to allocate.
    Local(usize),
    /// An image: where its texels are and how to read them.
    Image(ImageArg),
    /// A sampler.
    Sampler(SamplerArg),
}

/// An image argument. Its texels lie at `base` in the layout below, and that memory must be
/// in the launch's [`MemoryMap`] (the engine checks every texel access against it, as any
/// global access): texel `(x, y, z)` starts at `base + z * slice_pitch + y * row_pitch + x *
/// texel size`, its channels in memory order, each little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageArg {
    /// The address of texel (0, 0, 0).
    pub base: u64,
    /// Its shape.
    pub dim: ImageDim,
    /// Texels along x, y, z; array layers are the last coordinate (a 1-D array's `y`, a 2-D
    /// array's `z`); 1 along unused coordinates.
    pub extent: [u32; 3],
    /// Bytes from one row to the next.
    pub row_pitch: u64,
    /// Bytes from one slice (or 2-D array layer) to the next.
    pub slice_pitch: u64,
    /// Its texel format.
    pub format: ImageFormat,
}

/// The shape of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageDim {
    /// 1-D.
    D1,
    /// 1-D array.
    D1Array,
    /// 2-D.
    D2,
    /// 2-D array.
    D2Array,
    /// 3-D.
    D3,
    /// A 1-D image over a buffer.
    Buffer,
}

/// How texels are stored: `channels` channels of `channel_bytes` bytes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageFormat {
    /// 1 to 4.
    pub channels: u8,
    /// 1, 2 or 4.
    pub channel_bytes: u8,
    /// How a channel's bits are read.
    pub channel_type: ChannelType,
    /// What a read returns in x, y, z, w (and where a write's components go).
    pub swizzle: [Swizzle; 4],
}

/// How a channel's bits are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelType {
    /// Unsigned integer.
    Uint,
    /// Signed integer.
    Sint,
    /// `v / (2^bits - 1)`.
    Unorm,
    /// `max(v / (2^(bits-1) - 1), -1)`.
    Snorm,
    /// binary16 (2-byte channels) or binary32 (4-byte channels).
    Float,
}

/// One component of a read: a channel, or a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swizzle {
    /// Channel 0 to 3.
    Channel(u8),
    /// 0.
    Zero,
    /// 1 (1.0 for float reads).
    One,
}

/// A sampler argument (or a kernel's constant sampler).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamplerArg {
    /// What a coordinate outside the image reads.
    pub address: AddressMode,
    /// How texels are combined.
    pub filter: FilterMode,
    /// Coordinates in `[0, 1]` across the image.
    pub normalized: bool,
}

/// What a coordinate outside the image reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressMode {
    /// The kernel promises to stay inside (the engine clamps to the edge).
    None,
    /// Clamps to the edge texel.
    ClampToEdge,
    /// Outside: the border colour (0, and 1 in alpha for formats without alpha).
    Clamp,
    /// Wraps around (normalised coordinates only).
    Repeat,
    /// Mirrors at every edge (normalised coordinates only).
    Mirror,
}

/// How texels are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterMode {
    /// The nearest texel.
    Nearest,
    /// The weighted average of the 2, 4 or 8 nearest texels (float reads only).
    Linear,
}

/// Where a kernel may read and write: the driver's allocation table at launch time.
///
/// Device addresses are host addresses in this driver; the engine checks every global and
/// constant access against this map before it touches memory.
///
/// `find` is called from several worker threads at once, only when an access misses the
/// allocation the same instruction used last.
///
/// # Safety
///
/// The engine's memory safety rests on this: every range `find` reports must be host memory
/// that stays allocated, readable and writable (by any thread) until [`Program::launch`]
/// returns; the engine reads and writes it through raw pointers. A range for which
/// [`MemoryMap::writable`] is false need only be readable: the engine never writes it.
pub unsafe trait MemoryMap: Sync {
    /// The allocation containing `address`: its base address and size in bytes, if any.
    fn find(&self, address: u64) -> Option<(u64, u64)>;

    /// Whether the allocation containing `address` (one `find` reported) may be written. A
    /// write into one that may not stops the launch with [`ExecError::ReadOnly`]. Default:
    /// every allocation is writable.
    fn writable(&self, address: u64) -> bool {
        let _ = address;
        true
    }
}

/// One launch.
#[derive(Clone, Copy, Debug)]
pub struct Launch<'a> {
    /// The kernel's name.
    pub kernel: &'a str,
    /// One value per argument of the kernel, in order.
    pub args: &'a [ArgValue<'a>],
    /// Work-items per work-group in x, y, z.
    pub group_size: [u32; 3],
    /// Work-groups in x, y, z.
    pub group_count: [u32; 3],
    /// The global offset (`get_global_offset`).
    pub global_offset: [u32; 3],
}

/// A launch that failed. The kernel may have done part of its work; it did not touch
/// memory outside the allocations it was allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// A work-item read or wrote outside every allocation (the device-side sanitizer).
    OutOfBounds {
        /// The kernel's name.
        kernel: String,
        /// The faulting address.
        address: u64,
        /// The access size in bytes.
        size: u64,
        /// Whether it was a write.
        write: bool,
        /// The global id of the work-item.
        global_id: [u64; 3],
    },
    /// A work-item wrote (or atomically updated) memory the [`MemoryMap`] reports read-only
    /// (the device-side sanitizer).
    ReadOnly {
        /// The kernel's name.
        kernel: String,
        /// The faulting address.
        address: u64,
        /// The access size in bytes.
        size: u64,
        /// The global id of the work-item.
        global_id: [u64; 3],
    },
    /// The launch itself is invalid (unknown kernel, wrong argument count or size, ...).
    InvalidLaunch(String),
    /// Anything else the engine could not do (its message says what).
    Failed(String),
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::OutOfBounds {
                kernel,
                address,
                size,
                write,
                global_id,
            } => write!(
                f,
                "kernel `{kernel}`: work-item {global_id:?} {} {size} bytes at {address:#x}, outside every allocation",
                if *write { "wrote" } else { "read" }
            ),
            ExecError::ReadOnly {
                kernel,
                address,
                size,
                global_id,
            } => write!(
                f,
                "kernel `{kernel}`: work-item {global_id:?} wrote {size} bytes at {address:#x}, into read-only memory"
            ),
            ExecError::InvalidLaunch(m) | ExecError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ExecError {}

/// The largest work-group (work-items) a launch may use.
pub const MAX_GROUP_SIZE: u32 = 1024;

/// The sub-group sizes kernels can run with, as an Intel GPU reports them
/// (`ze_device_compute_properties_t::subGroupSizes`). Sub-groups are consecutive local
/// linear ids (dimension 0 fastest), the last one of a work-group partial when its size is
/// not a multiple (OpenCL's `cl_khr_subgroups` rules).
pub const SUBGROUP_SIZES: [u32; 3] = [8, 16, 32];

/// The sub-group size of a kernel that requires none, unless [`BuildOptions::subgroup_size`]
/// says otherwise.
pub const DEFAULT_SUBGROUP_SIZE: u32 = 16;

/// A built SPIR-V module.
pub struct Program {
    kernels: Vec<KernelInfo>,
    globals: Vec<GlobalVariable>,
    log: String,
    /// Per kernel: its code, or `None` while it is unlinked.
    codes: Vec<Option<ir::Code>>,
    /// The sub-group size of its kernels that require none (the build options').
    default_subgroup_size: u32,
    /// Per kernel: the imports it reaches that the build could not resolve.
    unlinked: Vec<Vec<String>>,
    /// Storage of the program-scope variables (kept alive, at a stable address; shared
    /// with the programs linked against this one).
    storage: std::sync::Arc<mem::RawBuf>,
    /// (start, end) of each program-scope variable, for the sanitizer.
    global_ranges: Vec<(u64, u64)>,
    /// Variable id -> address of the program-scope variables.
    global_addr: HashMap<u32, u64>,
    /// One byte per function of the module, kept at a stable address: function `n`'s
    /// address is `fn_base + n` (never 0; not callable from the host).
    functions: std::sync::Arc<mem::RawBuf>,
    fn_base: u64,
    /// The names [`Program::function_pointer`] knows, with their functions' addresses.
    function_names: Vec<(String, u64)>,
    /// The module and its specialization constants, decoded again by [`Program::link`].
    words: Vec<u32>,
    spec: Vec<(u32, Vec<u8>)>,
    /// What the last successful [`Program::link`] made of the unlinked kernels.
    linked: std::sync::RwLock<Option<Linked>>,
    /// The engine its kernels run on, and whether compiled loads and stores are checked.
    engine: Engine,
    checked: bool,
    /// Per kernel of `codes`: its compiled form, once asked for.
    jits: Vec<JitSlot>,
}

/// A kernel's compiled forms, each made once: the main one (or why there is none), and for
/// launches whose work-group width the main one's vector chunks do not divide (its chunks
/// need whole rows), the same kernel with narrower chunks ([`jit::NARROW_WIDTHS`]), made at
/// the first such launch (`None`: it could not be compiled; the main one runs).
#[derive(Default)]
struct JitSlot {
    main: std::sync::OnceLock<Result<jit::Compiled, String>>,
    narrow: [std::sync::OnceLock<Option<jit::Compiled>>; jit::NARROW_WIDTHS.len()],
}

fn jit_slots(n: usize) -> Vec<JitSlot> {
    (0..n).map(|_| JitSlot::default()).collect()
}

/// The compiled form of `code` for a launch of groups `group_size` wide: the main one,
/// or one with narrower vector chunks that divide the group's width (compiled at the first
/// launch that needs it). `None` when the kernel runs on the interpreter.
fn jit_for<'a>(
    slot: &'a JitSlot,
    code: &ir::Code,
    checked: bool,
    group_size: [u32; 3],
) -> Option<&'a jit::Compiled> {
    let main = jit_of(slot, code, checked).ok()?;
    let x = group_size[0] as usize;
    if main.width == 0 || main.takes_group(x) {
        return Some(main);
    }
    for (k, &w) in jit::NARROW_WIDTHS.iter().enumerate() {
        if w < main.width && x.is_multiple_of(w) {
            let narrow = slot.narrow[k].get_or_init(|| compile(code, checked, w).ok());
            if let Some(c) = narrow {
                return Some(c);
            }
        }
    }
    Some(main)
}

/// `jit::compile`, a panic in it turned into the reason the kernel is not compiled.
fn compile(code: &ir::Code, checked: bool, max_width: usize) -> Result<jit::Compiled, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        jit::compile(code, checked, max_width)
    }))
    .unwrap_or_else(|_| {
        Err("the JIT failed on this kernel (an internal error, a bug: please report it)".into())
    })
}

/// The compiled form of `code`, compiling it on first use.
fn jit_of<'a>(
    slot: &'a JitSlot,
    code: &ir::Code,
    checked: bool,
) -> Result<&'a jit::Compiled, &'a str> {
    slot.main
        .get_or_init(|| {
            if cfg!(miri) {
                return Err("Miri cannot run compiled code (the JIT is off under Miri)".into());
            }
            compile(code, checked, 16)
        })
        .as_ref()
        .map_err(String::as_str)
}

/// The unlinked kernels of a program once linked.
struct Linked {
    /// Per kernel (`None` for the kernels that needed no linking).
    codes: Vec<Option<ir::Code>>,
    /// Per kernel of `codes`: its compiled form, once asked for.
    jits: Vec<JitSlot>,
    /// The program's variables' ranges and those of every program linked with it.
    ranges: Vec<(u64, u64)>,
    /// The storage and function slots of the programs linked with it (their function
    /// addresses stay distinct from any other's while its kernels may hold them).
    _keep: Vec<std::sync::Arc<mem::RawBuf>>,
    /// The program-scope variables it imports, at the exporters' addresses.
    imported: Vec<GlobalVariable>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("kernels", &self.kernels)
            .field("globals", &self.globals)
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

impl Program {
    /// Parses, checks and prepares a SPIR-V module.
    ///
    /// Never panics: malformed or unsupported input returns a [`BuildError`] whose log names
    /// the problem (bad magic, truncation, an unsupported capability, opcode or OpenCL.std
    /// instruction by name, a non-Kernel execution model, ...).
    pub fn build(spirv: &[u8], options: &BuildOptions<'_>) -> Result<Program, BuildError> {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(spirv, options)));
        match r {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(log)) => Err(BuildError { log }),
            Err(_) => Err(BuildError {
                log: "internal error: the SPIR-V engine failed on this module (a bug; please report it)".into(),
            }),
        }
    }

    /// The build log of a successful build (warnings; may be empty).
    pub fn build_log(&self) -> &str {
        &self.log
    }

    /// The module's kernels.
    pub fn kernels(&self) -> &[KernelInfo] {
        &self.kernels
    }

    /// One kernel by name.
    pub fn kernel(&self, name: &str) -> Option<&KernelInfo> {
        self.kernels.iter().find(|k| k.name == name)
    }

    /// The imports (symbol names) that kernel `kernel` reaches and that are not resolved
    /// yet: empty for a kernel that can run (its module imports nothing it needs, or it has
    /// been linked with [`Program::link`]); `None` for an unknown kernel. Launching a kernel
    /// with unresolved imports fails with [`ExecError::InvalidLaunch`] naming them.
    pub fn unlinked(&self, kernel: &str) -> Option<Vec<String>> {
        let idx = self.kernels.iter().position(|k| k.name == kernel)?;
        if self.unlinked[idx].is_empty() {
            return Some(Vec::new());
        }
        let linked = self.linked.read().unwrap_or_else(|e| e.into_inner());
        let done = linked
            .as_ref()
            .is_some_and(|l| l.codes.get(idx).is_some_and(Option::is_some));
        Some(if done {
            Vec::new()
        } else {
            self.unlinked[idx].clone()
        })
    }

    /// Links programs with each other (`zeModuleDynamicLink`): every `Import` of each
    /// program (a function declared without a body, or a variable, with `LinkageAttributes
    /// ... Import`) is resolved by name to the `Export` of exactly one other program, whose
    /// type must be the same; then the kernels that were unlinked can run (calls to an
    /// imported function run the exporter's function; an imported variable is the
    /// exporter's variable). Built-in variables declared as imports need no export.
    ///
    /// On failure nothing changes and the error's log names every unresolved, ambiguous or
    /// mismatched symbol. On success returns the link log.
    ///
    /// Imports are linked once (the specification: a module may take part in several link
    /// calls for its exports, but its imports are not re-linked): a program linked by an
    /// earlier call keeps that link, and serves only as an exporter. A kernel of a program
    /// linked now that reaches, through such an exporter, an import of the exporter's own
    /// is refused naming the symbol (link a chain of modules in one call).
    pub fn link(programs: &[&Program]) -> Result<String, BuildError> {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| link(programs)));
        match r {
            Ok(Ok(log)) => Ok(log),
            Ok(Err(log)) => Err(BuildError { log }),
            Err(_) => Err(BuildError {
                log: "internal error: the SPIR-V engine failed to link these modules (a bug; please report it)".into(),
            }),
        }
    }

    /// The module's program-scope variables.
    pub fn globals(&self) -> &[GlobalVariable] {
        &self.globals
    }

    /// A program-scope variable this program imports, once linked ([`Program::link`]): its
    /// name, the exporter's address and its size. `None` before linking or for another name.
    pub fn imported_global(&self, name: &str) -> Option<GlobalVariable> {
        let linked = self.linked.read().unwrap_or_else(|e| e.into_inner());
        linked
            .as_ref()?
            .imported
            .iter()
            .find(|g| g.name == name)
            .cloned()
    }

    /// The address of function `name` (`zeModuleGetFunctionPointer`): a kernel, a function
    /// exported with `LinkageAttributes ... Export` (by that name), or a function decorated
    /// `ReferencedIndirectlyINTEL` (by its `OpName`); `None` if the module has none of that
    /// name. The address is stable for the program's life, distinct per function, never 0,
    /// and the one `OpConstantFunctionPointerINTEL` gives the same function in device code:
    /// a kernel that receives it (as an argument, or in memory) and calls through it with
    /// `OpFunctionPointerCallINTEL` runs that function. It is not callable from the host.
    pub fn function_pointer(&self, name: &str) -> Option<u64> {
        self.function_names
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, a)| a)
    }

    /// A work-group size for `kernel` over a grid of `global_size` work-items
    /// (`zeKernelSuggestGroupSize`): the kernel's `reqd_work_group_size` when it has one,
    /// otherwise, per dimension, the largest divisor of the global size that keeps the group
    /// within 256 work-items (x first). `None` for an unknown kernel.
    pub fn suggest_group_size(&self, kernel: &str, global_size: [u32; 3]) -> Option<[u32; 3]> {
        let k = self.kernel(kernel)?;
        if let Some(r) = k.required_group_size {
            return Some(r);
        }
        let mut budget = 256u32;
        let mut out = [1u32; 3];
        for d in 0..3 {
            let g = global_size[d].max(1);
            let best = (1..=budget.min(g))
                .rev()
                .find(|s| g.is_multiple_of(*s))
                .unwrap_or(1);
            out[d] = best;
            budget /= best;
        }
        Some(out)
    }

    /// The kernel's source-level attributes as `zeKernelGetSourceAttributes` reports them
    /// (for example `reqd_work_group_size(16,16,1)`; empty when it has none). `None` for an
    /// unknown kernel.
    pub fn source_attributes(&self, kernel: &str) -> Option<String> {
        let k = self.kernel(kernel)?;
        Some(match k.required_group_size {
            Some([x, y, z]) => format!("reqd_work_group_size({x},{y},{z})"),
            None => String::new(),
        })
    }

    /// Runs a kernel over the whole grid, work-groups in parallel, and returns when every
    /// work-item has finished. `printf` output goes to `output` (one work-group's output at
    /// a time; between two work-group barriers, all of work-item 0's lines, then work-item
    /// 1's, and so on: the same on both engines).
    ///
    /// Global and constant accesses are checked against `memory` and the program's own
    /// globals; an access outside both stops the launch with [`ExecError::OutOfBounds`].
    /// `get_work_dim()` is the highest dimension whose global size exceeds 1 (at least 1),
    /// since a Level Zero launch carries no dimension count.
    pub fn launch(
        &self,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        output: &mut (dyn std::io::Write + Send),
    ) -> Result<(), ExecError> {
        self.launch_on(self.engine, launch, memory, output)
    }

    /// Which engine runs `kernel`'s launches: with [`Engine::Jit`] (the default) this
    /// compiles the kernel if it was not yet, and says why it runs on the interpreter if
    /// the JIT does not take it. `None` for an unknown or unlinked kernel.
    pub fn kernel_engine(&self, kernel: &str) -> Option<KernelEngine> {
        let idx = self.kernels.iter().position(|k| k.name == kernel)?;
        let linked = self.linked.read().unwrap_or_else(|e| e.into_inner());
        let (code, slot) = self.code_and_jit(idx, &linked)?;
        Some(match self.engine {
            Engine::Interpreter => KernelEngine {
                engine: Engine::Interpreter,
                fallback: None,
            },
            Engine::Jit => match jit_of(slot, code, self.checked) {
                Ok(_) => KernelEngine {
                    engine: Engine::Jit,
                    fallback: None,
                },
                Err(why) => KernelEngine {
                    engine: Engine::Interpreter,
                    fallback: Some(why.to_string()),
                },
            },
        })
    }

    /// For tests: the JIT's vector chunk width for launches of `kernel` with work-groups of
    /// `group_size` (compiling what that takes), 0 when its groups run without the vector
    /// path; `None` when the kernel does not run on the JIT (or is unknown or unlinked).
    #[doc(hidden)]
    pub fn kernel_vector_width(&self, kernel: &str, group_size: [u32; 3]) -> Option<usize> {
        if self.engine != Engine::Jit || group_size.contains(&0) {
            return None;
        }
        let idx = self.kernels.iter().position(|k| k.name == kernel)?;
        let linked = self.linked.read().unwrap_or_else(|e| e.into_inner());
        let (code, slot) = self.code_and_jit(idx, &linked)?;
        let c = jit_for(slot, code, self.checked, group_size)?;
        Some(if c.takes_group(group_size[0] as usize) {
            c.width
        } else {
            0
        })
    }

    /// Kernel `idx`'s code and compiled forms: its own, or, for a kernel that needed
    /// linking, those of the last link (`None` while unlinked).
    fn code_and_jit<'a>(
        &'a self,
        idx: usize,
        linked: &'a Option<Linked>,
    ) -> Option<(&'a ir::Code, &'a JitSlot)> {
        match (self.codes.get(idx)?, linked.as_ref()) {
            (Some(c), _) => Some((c, self.jits.get(idx)?)),
            (None, Some(l)) => Some((l.codes.get(idx)?.as_ref()?, l.jits.get(idx)?)),
            (None, None) => None,
        }
    }

    /// For the fuzz target: whether every launch of `kernel` provably ends, in bounded time
    /// and memory. `true` when its control flow (every call inlined) has no cycle, so that
    /// each work-item runs each block at most once, and each printf call's format is a
    /// constant string of bounded output that the kernel cannot change; `false` otherwise
    /// (the kernel may still end: this is no more than a sufficient condition). A printf's
    /// format is read from the program-scope variables as they are now, so ask before each
    /// launch. `None` for an unknown or unlinked kernel.
    #[doc(hidden)]
    pub fn kernel_terminates(&self, kernel: &str) -> Option<bool> {
        let idx = self.kernels.iter().position(|k| k.name == kernel)?;
        let linked = self.linked.read().unwrap_or_else(|e| e.into_inner());
        let (code, ranges) = match (&self.codes[idx], linked.as_ref()) {
            (Some(c), _) => (c, &self.global_ranges),
            (None, Some(l)) => (l.codes.get(idx)?.as_ref()?, &l.ranges),
            (None, None) => return None,
        };
        Some(termination::terminates(code, ranges))
    }

    /// [`Program::launch`] on the given engine (whatever the build options chose): with
    /// [`Engine::Jit`], a kernel the JIT does not take runs on the interpreter.
    pub fn launch_on(
        &self,
        engine: Engine,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        output: &mut (dyn std::io::Write + Send),
    ) -> Result<(), ExecError> {
        let idx = self
            .kernels
            .iter()
            .position(|k| k.name == launch.kernel)
            .ok_or_else(|| {
                ExecError::InvalidLaunch(format!("no kernel `{}` in this program", launch.kernel))
            })?;
        let info = &self.kernels[idx];
        let linked = self.linked.read().unwrap_or_else(|e| e.into_inner());
        let (code, global_ranges, slot) = match (&self.codes[idx], linked.as_ref()) {
            (Some(c), _) => (c, &self.global_ranges, &self.jits[idx]),
            (None, Some(l)) if l.codes.get(idx).is_some_and(Option::is_some) => (
                l.codes[idx].as_ref().unwrap_or_else(|| unreachable!()),
                &l.ranges,
                &l.jits[idx],
            ),
            (None, _) => {
                return Err(ExecError::InvalidLaunch(format!(
                    "kernel `{}` is unlinked: it imports {}, which no linked module exports (link its module first)",
                    info.name,
                    quoted(&self.unlinked[idx])
                )));
            }
        };
        let invalid = |m: String| ExecError::InvalidLaunch(format!("kernel `{}`: {m}", info.name));
        if launch.args.len() != info.args.len() {
            return Err(invalid(format!(
                "{} arguments given, the kernel has {}",
                launch.args.len(),
                info.args.len()
            )));
        }
        for (k, (a, ai)) in launch.args.iter().zip(&info.args).enumerate() {
            match (ai.kind, a) {
                (ArgKind::LocalPointer, ArgValue::Local(_)) => {}
                (ArgKind::LocalPointer, ArgValue::Bytes(_)) => {
                    return Err(invalid(format!(
                        "argument {k} is a __local pointer: give its size in bytes"
                    )));
                }
                (_, ArgValue::Local(_)) => {
                    return Err(invalid(format!("argument {k} is not a __local pointer")));
                }
                (ArgKind::Image, ArgValue::Image(_)) | (ArgKind::Sampler, ArgValue::Sampler(_)) => {
                }
                (ArgKind::Image, _) => {
                    return Err(invalid(format!("argument {k} is an image: give an image")));
                }
                (ArgKind::Sampler, _) => {
                    return Err(invalid(format!(
                        "argument {k} is a sampler: give a sampler"
                    )));
                }
                (_, ArgValue::Image(_) | ArgValue::Sampler(_)) => {
                    return Err(invalid(format!(
                        "argument {k} is neither an image nor a sampler"
                    )));
                }
                (_, ArgValue::Bytes(b)) if b.len() != ai.size => {
                    return Err(invalid(format!(
                        "argument {k} has {} bytes, the kernel expects {}",
                        b.len(),
                        ai.size
                    )));
                }
                _ => {}
            }
        }
        let gs = launch.group_size;
        if gs.contains(&0) {
            return Err(invalid(format!("group size {gs:?} has a zero dimension")));
        }
        let lanes = gs.iter().map(|&x| u64::from(x)).product::<u64>();
        if lanes > u64::from(MAX_GROUP_SIZE) {
            return Err(invalid(format!(
                "group size {gs:?} exceeds {MAX_GROUP_SIZE} work-items"
            )));
        }
        if let Some(r) = info.required_group_size
            && r != gs
        {
            return Err(invalid(format!(
                "group size {gs:?} differs from the kernel's reqd_work_group_size {r:?}"
            )));
        }
        let gc = launch.group_count;
        if gc.contains(&0) {
            return Ok(());
        }
        // Local memory: static variables first, then each __local argument.
        let mut local_args = vec![0u64; info.args.len()];
        let mut local_total = code.local_size.div_ceil(64) * 64;
        for (k, a) in launch.args.iter().enumerate() {
            if let ArgValue::Local(size) = a {
                local_args[k] = local_total;
                // Saturating: an absurd size (up to `usize::MAX`) must reach the refusal
                // below, not overflow.
                local_total = local_total
                    .saturating_add(*size as u64)
                    .div_ceil(64)
                    .saturating_mul(64);
            }
        }
        if local_total > 1 << 28 {
            return Err(invalid(format!(
                "{local_total} bytes of local memory per work-group is too much"
            )));
        }
        let global = |d: usize| u64::from(gs[d]) * u64::from(gc[d]);
        let work_dim = if global(2) > 1 {
            3
        } else if global(1) > 1 {
            2
        } else {
            1
        };
        let grid = exec::Grid {
            size: gs,
            count: gc,
            offset: launch.global_offset,
            work_dim,
        };
        let sh = exec::Shared {
            code,
            grid,
            args: launch.args,
            map: memory,
            globals: global_ranges,
            local_args,
            local_total,
        };
        let total = gc
            .iter()
            .try_fold(1u64, |t, &x| t.checked_mul(u64::from(x)))
            .ok_or_else(|| invalid(format!("group count {gc:?} is too large")))?;
        let compiled = match engine {
            Engine::Jit => jit_for(slot, code, self.checked, gs),
            Engine::Interpreter => None,
        };
        exec::launch::run(&sh, compiled, info.name.as_str(), total, lanes, output)
    }
}

/// Builds a program (errors are build-log text).
fn build(spirv: &[u8], options: &BuildOptions<'_>) -> Result<Program, String> {
    let words = check::words(spirv)?;
    let m = check::parse(&words)?;
    check::module(&m)?;
    // Function addresses: one byte of the program's own per function.
    let functions = std::sync::Arc::new(mem::RawBuf::zeroed(m.functions.len()));
    let fn_base = functions.addr();
    let mut md = module::Mod::new(&m, options.spec_constants, fn_base)?;
    if let Some(n) = options.subgroup_size {
        if !SUBGROUP_SIZES.contains(&n) {
            return Err(format!(
                "unsupported sub-group size {n} in the build options (this engine runs sub-groups of {SUBGROUP_SIZES:?} work-items)"
            ));
        }
        md.default_subgroup_size = n;
    }
    let mut log = String::new();
    if !options.flags.trim().is_empty() {
        log.push_str(&format!(
            "note: build flags `{}` do not change code generation in this engine\n",
            options.flags.trim()
        ));
    }
    // Program-scope variables (global and constant): one buffer, stable addresses.
    let mut layout = Vec::new();
    let mut total = 0u64;
    for &g in &md.global_order {
        let v = &md.globals[&g];
        // A built-in has no storage, whatever its storage class: its accesses read the
        // built-in (see builtins.rs).
        if !md.builtins.contains_key(&g)
            && !md.imports.contains_key(&g)
            && matches!(
                v.class,
                rspirv::spirv::StorageClass::UniformConstant
                    | rspirv::spirv::StorageClass::CrossWorkgroup
            )
        {
            let (size, align) = md.size_align(v.pointee, 0)?;
            let a = align.clamp(1, 128);
            let off = total.div_ceil(a) * a;
            total = off + size;
            if total > 1 << 30 {
                return Err("program-scope variables are too large".into());
            }
            layout.push((g, off, size));
        }
    }
    let mut bytes = vec![0u8; total as usize];
    for &(g, off, size) in &layout {
        let v = &md.globals[&g];
        if let Some(init) = v.init {
            md.const_bytes(
                init,
                v.pointee,
                &mut bytes[off as usize..(off + size) as usize],
            )?;
        }
    }
    let storage = std::sync::Arc::new(mem::RawBuf::zeroed(total as usize));
    storage.write_at(0, &bytes);
    let base = storage.addr();
    let mut addr = HashMap::new();
    let mut globals = Vec::new();
    let mut global_ranges = Vec::new();
    for &(g, off, size) in &layout {
        addr.insert(g, base + off);
        global_ranges.push((base + off, base + off + size));
        if let Some(n) = md.names.get(&g).or_else(|| md.exports.get(&g)) {
            globals.push(GlobalVariable {
                name: n.clone(),
                address: base + off,
                size: size as usize,
            });
        }
    }
    let mut function_names = Vec::new();
    for ep in &m.entry_points {
        let (fid, name) = entry_point(ep)?;
        if let Some(a) = md.fn_addr(fid) {
            function_names.push((name, a));
        }
    }
    let mut named: Vec<(String, u64)> = Vec::new();
    for f in &m.functions {
        let Some(fid) = f.def.as_ref().and_then(|d| d.result_id) else {
            continue;
        };
        let Some(a) = md.fn_addr(fid).filter(|_| !f.blocks.is_empty()) else {
            continue;
        };
        if let Some(n) = md.exports.get(&fid) {
            named.push((n.clone(), a));
        } else if md.indirect.contains(&fid)
            && let Some(n) = md.names.get(&fid)
        {
            named.push((n.clone(), a));
        }
    }
    function_names.extend(named);
    let mut kernels = Vec::new();
    let mut codes = Vec::new();
    let mut unlinked = Vec::new();
    let ctx = [decode::Ctx {
        md: &md,
        global_addr: &addr,
        links: HashMap::new(),
    }];
    for ep in &m.entry_points {
        let (fid, name) = entry_point(ep)?;
        let (info, code, unresolved) =
            decode::kernel(&ctx, 0, fid, &name).map_err(|e| format!("kernel `{name}`: {e}"))?;
        if !unresolved.is_empty() {
            log.push_str(&format!(
                "note: kernel `{name}` is unlinked until its module is linked: it imports {}\n",
                quoted(&unresolved)
            ));
        }
        kernels.push(info);
        codes.push(unresolved.is_empty().then_some(code));
        unlinked.push(unresolved);
    }
    for w in &md.log {
        log.push_str(w);
        log.push('\n');
    }
    let n_codes = codes.len();
    Ok(Program {
        kernels,
        globals,
        log,
        codes,
        default_subgroup_size: md.default_subgroup_size,
        unlinked,
        storage,
        global_ranges,
        global_addr: addr,
        functions,
        fn_base,
        function_names,
        words,
        spec: options
            .spec_constants
            .iter()
            .map(|(i, v)| (*i, v.to_vec()))
            .collect(),
        linked: std::sync::RwLock::new(None),
        engine: options.engine,
        checked: !options.unchecked,
        jits: jit_slots(n_codes),
    })
}

/// An entry point's function and name.
fn entry_point(ep: &rspirv::dr::Instruction) -> Result<(u32, String), String> {
    let fid = module::op_id(ep, 1)?;
    match ep.operands.get(2) {
        Some(rspirv::dr::Operand::LiteralString(s)) => Ok((fid, s.clone())),
        _ => Err("invalid SPIR-V: entry point without a name".into()),
    }
}

/// `a`, `b`, `c`.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Links programs (see [`Program::link`]); errors are link-log text.
fn link(programs: &[&Program]) -> Result<String, String> {
    let parsed: Vec<rspirv::dr::Module> = programs
        .iter()
        .map(|p| check::parse(&p.words))
        .collect::<Result<_, _>>()?;
    let specs: Vec<Vec<(u32, &[u8])>> = programs
        .iter()
        .map(|p| p.spec.iter().map(|(i, v)| (*i, v.as_slice())).collect())
        .collect();
    let mut mds: Vec<module::Mod<'_>> = parsed
        .iter()
        .zip(&specs)
        .zip(programs)
        .map(|((m, s), p)| module::Mod::new(m, s, p.fn_base))
        .collect::<Result<_, _>>()?;
    for (md, p) in mds.iter_mut().zip(programs) {
        md.default_subgroup_size = p.default_subgroup_size;
    }
    let md_refs: Vec<&module::Mod<'_>> = mds.iter().collect();
    let addr_refs: Vec<&HashMap<u32, u64>> = programs.iter().map(|p| &p.global_addr).collect();
    // Programs linked by an earlier call: their imports are not linked again.
    let done: Vec<bool> = programs
        .iter()
        .map(|p| p.linked.read().unwrap_or_else(|e| e.into_inner()).is_some())
        .collect();
    let targets = linkage::resolve(&md_refs, &addr_refs, &done)?;
    // Each module's variable addresses with its imported variables, and its function links.
    let mut addrs = Vec::new();
    let mut links = Vec::new();
    let mut imported: Vec<Vec<GlobalVariable>> = Vec::new();
    for (k, t) in targets.iter().enumerate() {
        let mut a = programs[k].global_addr.clone();
        let mut l = HashMap::new();
        let mut vars = Vec::new();
        for (&id, target) in t {
            match *target {
                linkage::Target::Variable(at) => {
                    a.insert(id, at);
                    if let (Some(name), Some(g)) =
                        (mds[k].imports.get(&id), mds[k].globals.get(&id))
                    {
                        let (size, _) = mds[k].size_align(g.pointee, 0)?;
                        vars.push(GlobalVariable {
                            name: name.clone(),
                            address: at,
                            size: size as usize,
                        });
                    }
                }
                linkage::Target::Function { module, fid } => {
                    l.insert(id, (module, fid));
                }
            }
        }
        addrs.push(a);
        links.push(l);
        imported.push(vars);
    }
    let ctx: Vec<decode::Ctx<'_, '_>> = mds
        .iter()
        .zip(&addrs)
        .zip(links)
        .map(|((md, a), links)| decode::Ctx {
            md,
            global_addr: a,
            links,
        })
        .collect();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for p in programs {
        ranges.extend(&p.global_ranges);
    }
    let mut results = Vec::new();
    let mut log = String::new();
    for (k, p) in programs.iter().enumerate() {
        let mut codes = Vec::new();
        if done[k] {
            log.push_str(&format!(
                "module {k}: linked by an earlier call: its imports are not linked again\n"
            ));
            results.push(codes);
            continue;
        }
        for (n, ep) in parsed[k].entry_points.iter().enumerate() {
            if p.unlinked.get(n).is_none_or(|u| u.is_empty()) {
                codes.push(None);
                continue;
            }
            let (fid, name) = entry_point(ep)?;
            let (_, code, unresolved) = decode::kernel(&ctx, k, fid, &name)
                .map_err(|e| format!("module {k}: kernel `{name}`: {e}"))?;
            if !unresolved.is_empty() {
                return Err(format!(
                    "module {k}: kernel `{name}`: unresolved symbols {}{}",
                    quoted(&unresolved),
                    if done.contains(&true) {
                        " (imports of a module linked by an earlier call are not linked again: link a chain of modules in one call)"
                    } else {
                        ""
                    }
                ));
            }
            log.push_str(&format!("module {k}: kernel `{name}` linked\n"));
            codes.push(Some(code));
        }
        results.push(codes);
    }
    for (((p, codes), done), imported) in programs.iter().zip(results).zip(&done).zip(imported) {
        if *done {
            continue;
        }
        let keep = programs
            .iter()
            .flat_map(|q| [q.storage.clone(), q.functions.clone()])
            .collect();
        let linked = Linked {
            jits: jit_slots(codes.len()),
            codes,
            ranges: ranges.clone(),
            _keep: keep,
            imported,
        };
        *p.linked.write().unwrap_or_else(|e| e.into_inner()) = Some(linked);
    }
    Ok(log)
}
