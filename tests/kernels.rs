//! One test per kernel of `kernels/`, at -O0 and -O2, against Rust reference computations,
//! through the whole stack: the safe `level-zero` API on the embedded CPU driver, or — with
//! `LEVEL_ZERO_BACKEND=system` — on the CPU driver behind the system's Level Zero loader.
//!
//! The cases are `level-zero-cpu-spirv/tests/kernel_cases.rs`, which that crate also runs on
//! its engine directly; `kernel_harness` implements the API they are written against. Every
//! test ends with its `TestDriver`'s leak check.
#![allow(clippy::needless_range_loop)]

mod common;
mod kernel_harness;
use kernel_harness::*;

include!("../level-zero-cpu-spirv/tests/kernel_cases.rs");
include!("../level-zero-cpu-spirv/tests/cases/groups.rs");
