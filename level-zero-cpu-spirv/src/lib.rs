//! Runs OpenCL-flavoured SPIR-V kernels (as compiled by clang + llvm-spirv) on the CPU.
//!
//! This is the kernel engine of the `level-zero-cpu` driver. The driver builds a [`Program`]
//! from a module's SPIR-V in `zeModuleCreate`, reads [`KernelInfo`] for `zeKernelCreate` and
//! `zeKernelGetProperties`, and calls [`Program::launch`] from its queue worker for
//! `zeCommandListAppendLaunchKernel`.
//!
//! STATUS: interface only; the implementation lands with the kernels issue.

use std::fmt;

/// What `zeModuleCreate` passes on.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions<'a> {
    /// The build flags string (`pBuildFlags`), e.g. `-ze-opt-disable`; may be empty.
    pub flags: &'a str,
    /// Specialization constants: `(SpecId, value bytes)`.
    pub spec_constants: &'a [(u32, &'a [u8])],
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
}

/// Where a kernel may read and write: the driver's allocation table at launch time.
///
/// Device addresses are host addresses in this driver; the engine checks every global and
/// constant access against this map before it touches memory.
pub trait MemoryMap: Sync {
    /// The allocation containing `address`: its base address and size in bytes, if any.
    fn find(&self, address: u64) -> Option<(u64, u64)>;
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
            ExecError::InvalidLaunch(m) | ExecError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ExecError {}

/// A built SPIR-V module.
#[derive(Debug)]
pub struct Program {
    kernels: Vec<KernelInfo>,
    globals: Vec<GlobalVariable>,
    log: String,
}

impl Program {
    /// Parses, checks and prepares a SPIR-V module.
    pub fn build(spirv: &[u8], options: &BuildOptions<'_>) -> Result<Program, BuildError> {
        let _ = (spirv, options);
        Err(BuildError {
            log: "SPIR-V modules are not supported yet by this build of level-zero-cpu".into(),
        })
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

    /// The module's program-scope variables.
    pub fn globals(&self) -> &[GlobalVariable] {
        &self.globals
    }

    /// Runs a kernel over the whole grid, work-groups in parallel, and returns when every
    /// work-item has finished. `printf` output goes to `output`.
    ///
    /// Global and constant accesses are checked against `memory` and the program's own
    /// globals; an access outside both stops the launch with [`ExecError::OutOfBounds`].
    pub fn launch(
        &self,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        output: &mut (dyn std::io::Write + Send),
    ) -> Result<(), ExecError> {
        let _ = (memory, output);
        Err(ExecError::InvalidLaunch(format!(
            "no kernel `{}` in this program",
            launch.kernel
        )))
    }
}
