//! One test per kernel of `kernels/`, at -O0 and -O2, against Rust reference computations,
//! run on the engine's `Program` API (buffers with guard bytes, the engine's memory checks).
//!
//! The cases are in `kernel_cases.rs`, shared with the root package's whole-stack tests
//! (`tests/kernels.rs` there), which run the same cases through the safe `level-zero` API and
//! a driver. Checks that need the engine's API are in `engine_checks.rs`.
#![allow(clippy::needless_range_loop)]

mod common;
use common::*;

include!("kernel_cases.rs");
include!("cases/groups.rs");
