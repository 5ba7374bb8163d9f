//! Kernels: from SPIR-V to a launch.
//!
//! # Where kernels come from
//!
//! Level Zero runs SPIR-V, the portable intermediate language of OpenCL and SYCL. OpenCL C
//! compiles to it offline with clang and the SPIR-V translator:
//!
//! ```text
//! clang -c -target spir64 -cl-std=CL1.2 -emit-llvm -O2 vector_add.cl -o vector_add.bc
//! llvm-spirv vector_add.bc -o vector_add.spv
//! ```
//!
//! (The workspace's `kernels/build.sh` does exactly this for its kernels; the examples below
//! use two of them, `vector_add` and `saxpy`, whose OpenCL C is in the crate's `kernels/`.)
//! [`Module::from_spirv`](crate::Module::from_spirv) builds a module for one device; a
//! module that does not build gives [`Error::ModuleBuild`](crate::Error::ModuleBuild) with
//! the driver's build log. [`BuildOptions`](crate::BuildOptions) carries build flags and
//! specialization constants. A built module can be saved as a native binary
//! ([`Module::native_binary`](crate::Module::native_binary)) and reloaded with
//! [`Module::from_native`](crate::Module::from_native), an on-disk cache for the same device
//! and driver.
//!
//! # Arguments, group sizes, launch
//!
//! A [`Kernel`](crate::Kernel) is one entry point of a module, with its own argument values
//! and group size:
//!
//! - [`set_arg_buffer`](crate::Kernel::set_arg_buffer) for `__global` and `__constant`
//!   pointers: any [`Memory<T>`](crate::Memory) of the kernel's context, kept alive by every
//!   launch that uses it;
//! - [`set_arg`](crate::Kernel::set_arg) for values (scalars, vectors, `Pod` structs), size
//!   checked against what the kernel declares;
//! - [`set_arg_local`](crate::Kernel::set_arg_local) for `__local` pointers (bytes per
//!   group);
//! - [`set_group_size`](crate::Kernel::set_group_size) for the work-items per group;
//!   [`suggest_group_size`](crate::Kernel::suggest_group_size) asks the driver for a good one
//!   for a global size.
//!
//! [`launch`](crate::ImmediateCommandList::launch) then runs a number of *groups* (not of
//! work-items: the global size is groups × group size). Before calling the driver it checks
//! that every argument and the group size are set, that no group count is zero, and that the
//! kernel belongs to the list's context and device. A launch captures the arguments as they
//! are: changing them afterwards affects only later launches.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{BuildOptions, DeviceBuffer, ImmediateCommandList, Kernel, Module};
//!
//! // __kernel void vector_add(__global const float *a, __global const float *b,
//! //                          __global float *c) { size_t i = get_global_id(0); c[i] = a[i] + b[i]; }
//! let spirv = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/spv/vector_add.O2.spv"));
//! let module = Module::from_spirv(&ctx, device, spirv, &BuildOptions::new())?;
//! let mut kernel = Kernel::new(&module, "vector_add")?;
//! assert_eq!(kernel.properties().num_args, 3);
//!
//! let n = 4096;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let a = DeviceBuffer::from_slice(&mut list, &vec![1.0f32; n])?;
//! let b = DeviceBuffer::from_slice(&mut list, &vec![2.0f32; n])?;
//! let c = DeviceBuffer::<f32>::new(&ctx, device, n)?;
//! kernel.set_arg_buffer(0, &a)?;
//! kernel.set_arg_buffer(1, &b)?;
//! kernel.set_arg_buffer(2, &c)?;
//! kernel.set_group_size([64, 1, 1])?;
//! // SAFETY: vector_add reads a[i], b[i] and writes c[i] for i < 64 * 64 = n: only the
//! // buffers given as arguments, all n elements long.
//! unsafe { list.launch(&kernel, [(n / 64) as u32, 1, 1])? };
//! assert!(c.to_vec(&mut list)?.iter().all(|&x| x == 3.0));
//! # Ok(()) }
//! ```
//!
//! # Why launches are `unsafe`
//!
//! Everything else in the crate is checked; a kernel is not. It can write past the end of a
//! buffer (the crate cannot know what `c[i]` indexes), or through a pointer stored in memory.
//! The launch keeps its argument buffers alive and orders them with other work; the caller
//! promises that the kernel stays inside them, as the `SAFETY` comment above does. The CPU
//! driver checks that promise: its engine stops a launch that touches memory outside what it
//! was given and reports it (see the guide's [testing page](../testing/index.html)).
//!
//! # Values and repeated launches
//!
//! Arguments persist between launches; set only what changes. On a spec 1.17 driver an
//! in-order list sends changed arguments with the launch in one call
//! (`zeCommandListAppendLaunchKernelWithArguments`).
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{BuildOptions, DeviceBuffer, ImmediateCommandList, Kernel, Module};
//!
//! // __kernel void saxpy(float a, __global const float *x, __global float *y)
//! //     { size_t i = get_global_id(0); y[i] = a * x[i] + y[i]; }
//! let spirv = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/spv/saxpy.O2.spv"));
//! let module = Module::from_spirv(&ctx, device, spirv, &BuildOptions::new())?;
//! let mut saxpy = Kernel::new(&module, "saxpy")?;
//!
//! let n = 1000u32;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let x = DeviceBuffer::from_slice(&mut list, &vec![1.0f32; n as usize])?;
//! let y = DeviceBuffer::<f32>::zeroed(&mut list, n as usize)?;
//! saxpy.set_arg_buffer(1, &x)?;
//! saxpy.set_arg_buffer(2, &y)?;
//! let group = saxpy.suggest_group_size([n, 1, 1])?; // divides n
//! saxpy.set_group_size(group)?;
//! for a in [1.0f32, 2.0, 3.0] {
//!     saxpy.set_arg(0, &a)?;
//!     // SAFETY: saxpy touches x[i] and y[i] for i < n, both n elements long.
//!     unsafe { list.launch(&saxpy, [n / group[0], 1, 1])? };
//! }
//! assert!(y.to_vec(&mut list)?.iter().all(|&v| v == 6.0));
//! # Ok(()) }
//! ```
//!
//! # Build failures
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{BuildOptions, Error, Module};
//!
//! let not_spirv = [0u8; 64];
//! match Module::from_spirv(&ctx, device, &not_spirv, &BuildOptions::new()) {
//!     Err(Error::ModuleBuild { log, .. }) => println!("the driver said:\n{log}"),
//!     Err(other) => println!("refused: {other}"),
//!     Ok(_) => unreachable!("64 zero bytes are not a module"),
//! }
//! # Ok(()) }
//! ```
//!
//! # More
//!
//! Modules can import functions and variables from each other
//! ([`Module::link`](crate::Module::link); linked modules are kept alive together), expose
//! function pointers ([`Module::function_pointer`](crate::Module::function_pointer),
//! [`Kernel::set_arg_function_pointer`](crate::Kernel::set_arg_function_pointer)) and take
//! images and samplers as arguments ([`crate::image`], [`crate::sampler`]). Launches can
//! signal and wait for events ([`launch_with`](crate::ImmediateCommandList::launch_with))
//! and can be captured into graphs (see [`commands`](super::commands)).
