//! Porting from cudarc.
//!
//! [cudarc](https://docs.rs/cudarc)'s safe driver API and this crate make many of the same
//! choices: owned device buffers typed by element, streams that keep what their work uses,
//! automatic ordering of work on the same buffer across streams, `unsafe` kernel launches.
//! The table maps cudarc's items (its stream-centred API, 0.13 and later) to this crate's.
//!
//! # Item by item
//!
//! | cudarc | this crate | notes |
//! | --- | --- | --- |
//! | `CudaContext::new(ordinal)` | [`Runtime::init`](crate::Runtime::init), then a [`Device`](crate::Device) from [`Driver::devices`](crate::Driver::devices) or [`Runtime::devices`](crate::Runtime::devices), and a [`Context`](crate::Context) | a Level Zero context spans several devices of a driver; a CUDA context has one |
//! | `CudaContext::device_count` | [`Runtime::devices`](crate::Runtime::devices)`.len()` | |
//! | `CudaContext::default_stream`, `new_stream` | [`ImmediateCommandList::compute`](crate::ImmediateCommandList::compute) (or `copy_engine` for a copy engine) | each list is a stream; there is no shared default list |
//! | `CudaStream::fork`, `join`, `wait(&event)` | hazard tracking does it for shared buffers; explicitly, [`signal_event`](crate::ImmediateCommandList::signal_event) + [`wait_events`](crate::ImmediateCommandList::wait_events) | |
//! | `CudaStream::synchronize` | [`ImmediateCommandList::synchronize`](crate::ImmediateCommandList::synchronize) | also where finished commands release their buffers |
//! | `CudaStream::record_event`, `CudaEvent::synchronize` | [`Event::counter_based`](crate::Event::counter_based) or a pool [`Event`](crate::Event), signalled by [`barrier_with`](crate::ImmediateCommandList::barrier_with); [`Event::host_synchronize`](crate::Event::host_synchronize) | |
//! | `CudaSlice<T>` | [`DeviceBuffer<T>`](crate::DeviceBuffer) | `T: bytemuck::Pod` instead of `DeviceRepr` |
//! | `CudaView`, `CudaViewMut` (`slice`) | [`BufferSlice`](crate::BufferSlice) ([`DeviceBuffer::slice`](crate::DeviceBuffer::slice)) | one slice type for reads and writes: the device side is checked by hazard tracking, not by `&mut` |
//! | `DevicePtr`, `DevicePtrMut` | [`Memory<T>`](crate::Memory) | what commands accept |
//! | `stream.alloc::<T>(n)` (unsafe), `alloc_zeros` | [`DeviceBuffer::new`](crate::DeviceBuffer::new) (safe: `Pod` has no invalid bit patterns), [`DeviceBuffer::zeroed`](crate::DeviceBuffer::zeroed) | |
//! | `stream.memcpy_stod(&host)`, `clone_htod` | [`DeviceBuffer::from_slice`](crate::DeviceBuffer::from_slice) | |
//! | `stream.memcpy_htod(&src, &mut dst)` | [`copy_from_slice`](crate::ImmediateCommandList::copy_from_slice) | waits for the copy (the host slice is borrowed) |
//! | `stream.memcpy_dtov(&dev)`, `clone_dtoh` | [`DeviceBuffer::to_vec`](crate::DeviceBuffer::to_vec) | |
//! | `stream.memcpy_dtoh(&src, &mut dst)` | [`copy_to_slice`](crate::ImmediateCommandList::copy_to_slice) | |
//! | `stream.memcpy_dtod(&src, &mut dst)` | [`copy`](crate::ImmediateCommandList::copy) | asynchronous; also between devices of a context |
//! | `stream.memset_zeros(&mut dst)` | [`fill`](crate::ImmediateCommandList::fill) with zero | any pattern, not only zero |
//! | pinned host memory (`alloc_pinned`, `PinnedHostSlice`) | [`HostBuffer<T>`](crate::HostBuffer) | host access through guards ([`memory`](super::memory)) |
//! | unified memory (`UnifiedSlice`) | [`SharedBuffer<T>`](crate::SharedBuffer) | |
//! | `CudaContext::load_module(ptx)` | [`Module::from_spirv`](crate::Module::from_spirv) | SPIR-V instead of PTX; see below for NVRTC |
//! | `CudaModule::load_function(name)`, `CudaFunction` | [`Kernel::new`](crate::Kernel::new), [`Kernel`](crate::Kernel) | a `Kernel` holds its argument values and group size |
//! | `stream.launch_builder(&f).arg(&x)` | [`list.launch_builder(&mut k, cfg).arg(&x)`](crate::LaunchBuilder) (or [`Kernel::set_arg_buffer`](crate::Kernel::set_arg_buffer), [`Kernel::set_arg`](crate::Kernel::set_arg)) | the count and known sizes are checked before any driver call; arguments persist in the kernel between launches |
//! | `LaunchConfig { grid_dim, block_dim, shared_mem_bytes }` | groups passed to [`launch`](crate::ImmediateCommandList::launch); [`Kernel::set_group_size`](crate::Kernel::set_group_size); [`Kernel::set_arg_local`](crate::Kernel::set_arg_local) | dynamic local memory is a `__local` argument in OpenCL |
//! | `LaunchConfig::for_num_elems(n)` | [`LaunchConfig::for_num_elems`](crate::LaunchConfig::for_num_elems) | the group size is the kernel's (`zeKernelSuggestGroupSize`), the count rounded up |
//! | `unsafe { builder.launch(cfg) }` | `unsafe { builder.run() }`, or `unsafe { list.launch(&kernel, groups) }` | both `unsafe` for the same reason |
//! | `cudarc::nvrtc::compile_ptx` | none: compile OpenCL C offline (clang + llvm-spirv, see [`kernels`](super::kernels)) | Level Zero has no run-time compiler API |
//! | `cuLaunchHostFunc` (through `cudarc::driver::sys`) | [`host_fn`](crate::ImmediateCommandList::host_fn) | a safe closure, kept alive until it ran |
//! | CUDA graphs (`begin_capture`, `end_capture`, `CudaGraph::launch`) | [`capture`](crate::ImmediateCommandList::capture), [`Graph::instantiate`](crate::Graph::instantiate), [`replay`](crate::ImmediateCommandList::replay) | |
//! | peer access (`cuCtxEnablePeerAccess`) and `memcpy_dtod` between contexts | [`copy_peer`](crate::copy_peer) or [`copy`](crate::ImmediateCommandList::copy) within one context | peer access needs no enabling in Level Zero |
//! | `DriverError` | [`Error`](crate::Error) | one enum: calls, missing functions, checks before calls, `Busy` |
//! | `cudarc::driver::sys` | [`level_zero_sys`] through [`Runtime::api`](crate::Runtime::api) and `as_raw()` | |
//!
//! # The same program in both
//!
//! A cudarc program that uploads two vectors, adds them and reads the result:
//!
//! ```text
//! let ctx = CudaContext::new(0)?;
//! let stream = ctx.default_stream();
//! let f = ctx.load_module(ptx)?.load_function("vector_add")?;
//! let a = stream.memcpy_stod(&a_host)?;
//! let b = stream.memcpy_stod(&b_host)?;
//! let mut c = stream.alloc_zeros::<f32>(n)?;
//! let mut launch = stream.launch_builder(&f);
//! launch.arg(&a).arg(&b).arg(&mut c);
//! unsafe { launch.launch(LaunchConfig::for_num_elems(n as u32)) }?;
//! let c_host = stream.memcpy_dtov(&c)?;
//! ```
//!
//! becomes:
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! use level_zero::{BuildOptions, Context, DeviceBuffer, ImmediateCommandList, Kernel, LaunchConfig, Module, Runtime};
//! # let n = 1024usize;
//! # let (a_host, b_host) = (vec![1.0f32; n], vec![2.0f32; n]);
//! # let spirv = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/spv/vector_add.O2.spv"));
//! let rt = Runtime::init()?;
//! let driver = &rt.drivers()[0];
//! let device = &driver.devices()?[0];
//! let ctx = Context::new(driver)?;
//! let mut stream = ImmediateCommandList::compute(&ctx, device)?;
//! let module = Module::from_spirv(&ctx, device, spirv, &BuildOptions::new())?;
//! let mut f = Kernel::new(&module, "vector_add")?;
//! let a = DeviceBuffer::from_slice(&mut stream, &a_host)?;
//! let b = DeviceBuffer::from_slice(&mut stream, &b_host)?;
//! let c = DeviceBuffer::<f32>::zeroed(&mut stream, n)?;
//! // SAFETY: vector_add touches element i < n of its three buffers, each n long (the
//! // suggested group size divides n here: no work-item beyond n).
//! unsafe { stream.launch_builder(&mut f, LaunchConfig::for_num_elems(n)?).arg(&a).arg(&b).arg(&c).run() }?;
//! let c_host = c.to_vec(&mut stream)?;
//! # assert!(c_host.iter().all(|&x| x == 3.0));
//! # Ok(()) }
//! ```
//!
//! # Differences that matter
//!
//! - **Host access.** cudarc's host-visible memory is guarded by `&`/`&mut` only; here host
//!   and shared buffers also refuse host access that would race with submitted device work
//!   ([`Error::Busy`](crate::Error::Busy)).
//! - **Drops.** Dropping a buffer never frees memory a command still uses, in either crate,
//!   but the mechanism differs: CUDA can free in stream order, Level Zero cannot, so here the
//!   list or queue keeps a reference to the memory until it *sees* the command complete. The
//!   memory of a buffer dropped while in use therefore comes back at the next
//!   synchronisation of that list or queue.
//! - **Threads.** A cudarc stream is `Sync`; a list here is `Send` but not `Sync`, because
//!   Level Zero forbids appending to one list from two threads at once. Use one list per
//!   thread.
//! - **Contexts.** CUDA has one primary context per device; here one context usually covers
//!   every device of the driver, and peer copies within it need no set-up.
