//! A guide for newcomers: how the crate fits together, page by page.
//!
//! The item documentation says what each type and function does; these pages say how they
//! are meant to be used together, and why the crate behaves as it does. Every example below
//! is a doc test: `cargo test -p level-zero --features cpu --doc guide` runs them, on the
//! embedded CPU driver when the machine has no Level Zero GPU driver, so they run anywhere.
//!
//! | page | what it covers |
//! | --- | --- |
//! | [`first_steps`] | the runtime and its backends, drivers, devices, contexts, a first copy, errors |
//! | [`memory`] | device, host and shared buffers, host access guards, keep-alive, the caching allocator, virtual memory, IPC |
//! | [`commands`] | immediate and regular lists, queues, fences, events, ordering and hazard tracking, graphs, host functions |
//! | [`kernels`] | modules from SPIR-V, kernels, arguments, group sizes, launches |
//! | [`multi_device`] | choosing devices, multi-device contexts, peer access and peer copies, residency |
//! | [`porting_from_c`] | each Level Zero C call next to the item that replaces it |
//! | [`porting_from_cudarc`] | each cudarc item next to its counterpart here |
#![cfg_attr(
    feature = "cpu",
    doc = "| [`testing`] (with the `cpu` feature) | running without a GPU: the CPU driver, `LEVEL_ZERO_BACKEND`, fault injection, leak and sanitizer checks |"
)]
#![cfg_attr(
    not(feature = "cpu"),
    doc = "| `testing` (with the `cpu` feature) | running without a GPU: the CPU driver, `LEVEL_ZERO_BACKEND`, fault injection, leak and sanitizer checks |"
)]
//!
//! # The shape of the crate in one paragraph
//!
//! A [`Runtime`](crate::Runtime) is a loaded Level Zero implementation (the system's
//! loader, or the CPU driver compiled in with the `cpu` feature). It lists
//! [`Driver`](crate::Driver)s, each with [`Device`](crate::Device)s. A
//! [`Context`](crate::Context) groups devices of one driver; memory, lists, queues, events
//! and modules all belong to a context and keep it alive. Work is recorded into command lists
//! and runs asynchronously; the crate keeps whatever a command uses alive until it has seen
//! the command complete, refuses host access that would race with the device, and orders
//! commands of different lists that touch the same memory. Nothing in the safe API can cause
//! undefined behaviour except kernel launches, which are `unsafe` because the crate cannot
//! see what a kernel's pointers reach.
//!
//! Further reading: the design of the workspace in
//! [`docs/ARCHITECTURE.md`](https://github.com/level-zero-rs/level-zero/blob/main/docs/ARCHITECTURE.md),
//! and every soundness rule with the tests that pin it in
//! [`docs/SOUNDNESS.md`](https://github.com/level-zero-rs/level-zero/blob/main/docs/SOUNDNESS.md).

pub mod commands;
pub mod first_steps;
pub mod kernels;
pub mod memory;
pub mod multi_device;
pub mod porting_from_c;
pub mod porting_from_cudarc;
// Its examples make their own CPU-driver instances (`level_zero::cpu`).
#[cfg(feature = "cpu")]
pub mod testing;
