//! Testing without a GPU: the CPU driver, backends, fault injection and oracles.
//!
//! # The CPU driver
//!
//! The workspace's [`level-zero-cpu`](https://docs.rs/level-zero-cpu) crate is a Level Zero
//! driver that runs on the CPU: memory is host memory, copies are `memcpy`, kernels are
//! SPIR-V run by an interpreter ([`level-zero-cpu-spirv`](https://docs.rs/level-zero-cpu-spirv))
//! that checks every access. It can be used two ways:
//!
//! - **embedded**, with this crate's `cpu` feature: [`Runtime::cpu`](crate::Runtime::cpu)
//!   (or [`Runtime::init`](crate::Runtime::init) when no other driver answers) calls it
//!   directly, no loader needed. This is how this crate's own doc tests, and this guide's,
//!   run anywhere;
//! - **through the official loader**, as a shared library: build it (`cargo build -p
//!   level-zero-cpu`) and set `ZE_ENABLE_ALT_DRIVERS=/path/to/liblevel_zero_cpu.so`. Any
//!   Level Zero program — C, Python, SYCL — then sees its devices, and the loader's
//!   validation layer can watch the calls.
//!
//! By default it has two devices of 4 GiB that can reach each other's memory, so multi-device
//! code is exercised too.
//!
//! # Choosing the backend: `LEVEL_ZERO_BACKEND`
//!
//! [`Runtime::init`](crate::Runtime::init) uses [`Backend::Auto`](crate::Backend::Auto): the
//! system loader if it loads and reports a driver, else the embedded CPU driver (with the
//! `cpu` feature). The environment variable `LEVEL_ZERO_BACKEND` overrides that for a run:
//!
//! | value | backend |
//! | --- | --- |
//! | `system` | the system loader, or an error listing every path tried |
//! | `cpu` | the embedded CPU driver |
//! | `auto` | the automatic choice above |
//!
//! So one test suite runs on the embedded driver on a laptop and CI
//! (`cargo test`), and on a real GPU or through the loader with
//! `LEVEL_ZERO_BACKEND=system cargo test`. [`Runtime::backend`](crate::Runtime::backend)
//! says which one a run got.
//!
//! # Configuring the driver
//!
//! The default instance reads `LEVEL_ZERO_CPU_*` variables; an unknown or malformed one makes
//! initialisation fail with a message naming it. The main ones (the
//! [`level-zero-cpu` README](https://github.com/level-zero-rs/level-zero/blob/main/level-zero-cpu/README.md)
//! has them all, each with its exact behaviour):
//!
//! | variable | effect |
//! | --- | --- |
//! | `LEVEL_ZERO_CPU_DEVICES` | number of devices (default 2) |
//! | `LEVEL_ZERO_CPU_DEVICE_MEMORY`, `LEVEL_ZERO_CPU_MAX_ALLOC` | memory per device (`512M`, `4G`, ...) and the largest single allocation |
//! | `LEVEL_ZERO_CPU_P2P=0` | devices cannot reach each other's memory (peer copies are staged) |
//! | `LEVEL_ZERO_CPU_SUBDEVICES` | tiles per device, shown as `ZE_FLAT_DEVICE_HIERARCHY` says |
//! | `LEVEL_ZERO_CPU_API_VERSION=1.N` | behave as a driver of specification 1.N: newer functions and flags are absent, so fallbacks get tested |
//! | `LEVEL_ZERO_CPU_HIDE_FUNCTIONS`, `LEVEL_ZERO_CPU_HIDE_EXTENSIONS` | pretend given functions or extensions do not exist |
//! | `LEVEL_ZERO_CPU_NULL_EXTENSION_FUNCTIONS` | answer given extension functions with success and a NULL pointer, a driver bug seen in the wild |
//! | `LEVEL_ZERO_CPU_DEVICE_TYPE=gpu` | report GPU devices, for clients that only look for GPUs |
//! | `LEVEL_ZERO_CPU_SUBGROUP_SIZE` | 8, 16 or 32 work-items per sub-group |
//! | `LEVEL_ZERO_CPU_LOG=warn` | print every failed call, its result code and the reason on stderr |
//!
//! # Fault injection
//!
//! These make the failures a GPU produces rarely happen on demand:
//!
//! | variable | [`Config`](crate::cpu::Config) field | fault |
//! | --- | --- | --- |
//! | `LEVEL_ZERO_CPU_FAIL_ALLOC_AT=N` | `fail_alloc_at` | the N-th allocation (1-based) fails with out-of-device-memory |
//! | `LEVEL_ZERO_CPU_DEVICE_LOST_AFTER=N` | `device_lost_after` | the device is lost at its submission N + 1 |
//! | `LEVEL_ZERO_CPU_COMMAND_DELAY_US=N` | `command_delay` | every command sleeps N µs before it runs, widening race windows: a program that reads results without synchronising sees wrong data |
//! | `LEVEL_ZERO_CPU_FAIL_MODULE_BUILD=1` | `fail_module_build` | every module build fails with a build log |
//! | `LEVEL_ZERO_CPU_SYSMAN=denied` or `absent` | `sysman` | sysman memory queries fail as without permissions, or as without sysman |
//!
//! Environment variables configure the process's default instance. Tests that run in
//! parallel should instead make their own instance with [`cpu::driver`](crate::cpu::driver)
//! and a [`Config`](crate::cpu::Config): each instance has its own devices, faults and
//! counts.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{Context, DeviceBuffer, ImmediateCommandList, cpu};
//!
//! let mut config = cpu::Config::default();
//! config.fail_alloc_at = Some(2);
//! let driver = cpu::driver(config)?;
//! let device = &driver.devices()?[0];
//! let ctx = Context::new(&driver)?;
//! let first = DeviceBuffer::<u8>::new(&ctx, device, 64)?;
//! let second = DeviceBuffer::<u8>::new(&ctx, device, 64); // the injected failure
//! assert!(second.unwrap_err().is_out_of_device_memory());
//! # drop(first);
//!
//! let mut config = cpu::Config::default();
//! config.device_lost_after = Some(1);
//! let driver = cpu::driver(config)?;
//! let device = &driver.devices()?[0];
//! let ctx = Context::new(&driver)?;
//! let buf = DeviceBuffer::<u32>::new(&ctx, device, 256)?;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! list.fill(&buf, 1)?; // submission 1 runs
//! list.synchronize()?;
//! let lost = list.fill(&buf, 2).and_then(|()| list.synchronize()).unwrap_err();
//! assert!(lost.is_device_lost(), "{lost}");
//! # Ok(()) }
//! ```
//!
//! # Oracles: leaks and memory misuse
//!
//! An instance counts its live objects and the misuse it stopped, through the driver's
//! testing extension:
//!
//! - [`cpu::live_objects`](crate::cpu::live_objects): contexts, allocations and their bytes,
//!   lists, queues, events, modules, kernels, ... alive now. After a test drops everything,
//!   they should all be zero: anything else is a leak.
//! - [`cpu::sanitizer_report`](crate::cpu::sanitizer_report): commands refused because memory
//!   they use was freed before they ran (a use after free on a GPU), and kernel launches
//!   stopped because a work-item reached memory outside what the kernel was given (an
//!   out-of-bounds access on a GPU). A correct program leaves it clean.
//! - [`cpu::CallCounter`](crate::cpu::CallCounter): the driver calls the current thread made,
//!   to check how many calls an operation costs.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{Context, DeviceBuffer, ImmediateCommandList, cpu};
//!
//! let driver = cpu::driver(cpu::Config::default())?;
//! {
//!     let device = &driver.devices()?[0];
//!     let ctx = Context::new(&driver)?;
//!     let mut list = ImmediateCommandList::compute(&ctx, device)?;
//!     let buf = DeviceBuffer::from_slice(&mut list, &[1u8, 2, 3])?;
//!     assert_eq!(cpu::live_objects(&driver)?.allocations, 1);
//!     assert_eq!(buf.to_vec(&mut list)?, [1, 2, 3]);
//! } // everything dropped
//! assert!(cpu::live_objects(&driver)?.is_empty(), "leak: {:?}", cpu::live_objects(&driver)?);
//! assert!(cpu::sanitizer_report(&driver)?.is_clean());
//! # Ok(()) }
//! ```
//!
//! # Kernels that stray
//!
//! On a GPU, a kernel that writes past its buffer corrupts memory silently. On the CPU driver
//! the launch is stopped before the access happens, the list reports the failure, and the
//! sanitizer report counts it — so a test suite run on the CPU driver finds the bug.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{BuildOptions, Context, DeviceBuffer, ImmediateCommandList, Kernel, Module, cpu};
//!
//! let driver = cpu::driver(cpu::Config::default())?;
//! let device = &driver.devices()?[0];
//! let ctx = Context::new(&driver)?;
//! let spirv = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/spv/vector_add.O2.spv"));
//! let module = Module::from_spirv(&ctx, device, spirv, &BuildOptions::new())?;
//! let mut kernel = Kernel::new(&module, "vector_add")?;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let a = DeviceBuffer::<f32>::zeroed(&mut list, 64)?;
//! let c = DeviceBuffer::<f32>::new(&ctx, device, 32)?; // too short for 64 work-items
//! kernel.set_arg_buffer(0, &a)?;
//! kernel.set_arg_buffer(1, &a)?;
//! kernel.set_arg_buffer(2, &c)?;
//! kernel.set_group_size([32, 1, 1])?;
//! // SAFETY: not on a GPU! Work-items 32..64 write past `c`; this driver stops the launch
//! // before any of those stores happens.
//! let r = unsafe { list.launch(&kernel, [2, 1, 1]) }.and_then(|()| list.synchronize());
//! assert!(r.is_err());
//! assert_eq!(cpu::sanitizer_report(&driver)?.kernel_out_of_bounds_accesses, 1);
//! # Ok(()) }
//! ```
//!
//! # What the workspace's own tests do
//!
//! The workspace runs every whole-stack test on the embedded driver, again through Debian's
//! loader with the CPU driver as an alternate driver (with and without the validation
//! layer), under Miri, AddressSanitizer and valgrind, and runs Intel's SYCL runtime and pocl
//! on the CPU driver: see "Testing and CI" in the
//! [workspace README](https://github.com/level-zero-rs/level-zero/blob/main/README.md).
