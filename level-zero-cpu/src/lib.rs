//! `level-zero-cpu`: a Level Zero driver that runs on the CPU.
//!
//! Built as a `cdylib`, it is a driver the official Level Zero loader loads
//! (`ZE_ENABLE_ALT_DRIVERS=/abs/path/liblevel_zero_cpu.so`): it exports the DDI getters
//! (`zeGetGlobalProcAddrTable`, ...) and nothing else. Built as an `rlib`, it embeds: build a
//! [`level_zero_sys::Api`] from [`ddi_getters`] and use it with no loader at all.
//!
//! ```
//! use level_zero_sys::*;
//! // SAFETY: this crate's getters honour the specification.
//! let (api, _) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
//! // An independent driver instance with its own configuration.
//! let mut config = level_zero_cpu::Config::default();
//! config.devices = 1;
//! let driver = level_zero_cpu::new_driver(config);
//! let mut count = 0;
//! // SAFETY: a valid driver handle and a count query.
//! unsafe { api.zeDeviceGet(driver, &mut count, std::ptr::null_mut()) }.unwrap().ok().unwrap();
//! assert_eq!(count, 1);
//! ```
//!
//! # State and handles
//!
//! All state lives in driver instances: the default one (what `zeInit`/`zeDriverGet` expose,
//! configured from `LEVEL_ZERO_CPU_*` environment variables, see [`Config`]) and any number made
//! with [`new_driver`]. Every handle is a key into a registry of live objects, checked on every
//! call: a null, stale or wrong-type handle is an error code, never a crash. No panic crosses
//! the C boundary. Device memory is host memory (a device pointer is a host address); every
//! allocation is tracked, and copies and fills are range-checked against the allocation table.
//!
//! What the driver cannot check: a non-null pointer to memory that is not what the call
//! needs (a wild host pointer passed to a copy, a structure or array shorter than announced).
//! As with any driver, that is the application's responsibility.
//!
//! # Modules
//!
//! Kernels run on the SPIR-V engine of `level_zero_cpu_spirv`, reached through
//! [`engine::KernelProgram`].
//!
//! # Testing
//!
//! The `ZEX_cpu_driver_testing` extension ([`testing`]) reads live-object counts and
//! per-device residency back, embedded or through the loader.

#![warn(missing_docs)]
// Parameters keep the specification's names (hDevice, pCount, ...).
#![allow(non_snake_case)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod arena;
mod chain;
mod config;
mod context;
mod ddi;
mod device;
mod driver;
mod emulation;
pub mod engine;
mod event;
mod exec;
mod fence;
mod ffi;
mod graph;
mod handles;
mod image;
mod ipc;
mod ipc_events;
mod list;
mod log;
mod memory;
mod module;
mod queue;
mod sampler;
mod sync;
mod sysman;
pub mod testing;
mod vm;

pub use config::{
    Config, ConfigError, DeviceType, ENV_PREFIX, Engine, FATAL_VARIABLES, Hierarchy,
    INTEL_VARIABLES, QueueGroups, Sysman, parse_size,
};
pub use ddi::*;
pub use driver::{DRIVER_VERSION, default_driver, new_driver};
