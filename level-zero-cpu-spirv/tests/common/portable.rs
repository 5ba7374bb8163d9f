// What the per-kernel cases (`tests/kernel_cases.rs`) use besides `program` and `Mem`, shared
// by the two harnesses that implement the cases' API: this crate's (`common/mod.rs`, on the
// engine's `Program`) and the root package's whole-stack one (`tests/kernel_harness/mod.rs`,
// on the safe `level-zero` API through a driver). `include!`d, so no inner attributes or `//!`
// comments here; the including module must have `bytemuck::Pod` in scope.
//
// The API a harness provides to the cases:
// - `program(name, opt)`: `kernels/spv/<name>.<opt>.spv`, built (panics on a build failure),
//   for the sub-group size `with_subgroup_size` asked for (`harness_sets_subgroup_size()`
//   says whether the harness can);
// - `Mem::default()`: the test's buffers, with `add(&[T]) -> usize`, `zeros::<T>(n) -> usize`,
//   `get::<T>(i) -> Vec<T>` and `guards_intact(i)` (the bytes around buffer `i` are intact);
// - `Mem::launch(&program, kernel, &[A], group_size, group_count, global_offset)` and
//   `Mem::run1(&program, kernel, &[A], n, g)` (1-D, `n / g` groups): run the kernel to
//   completion and return `Result<String, E>` (`E: Debug`): the printf output where the
//   harness captures it, the empty string where it does not (a driver prints to stdout).

std::thread_local! {
    /// The sub-group size the current case asks kernels to run with (see
    /// [`with_subgroup_size`]); `None`: the driver's default.
    static SUBGROUP_SIZE: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with programs built for sub-group size `size` (kernels without a required
/// size). The harness honours it where it can (the engine's build options, a configured
/// embedded driver); on the system loader's driver, configured by the environment, it
/// cannot, and [`subgroup_size_asked`] is `None` inside `f`.
pub fn with_subgroup_size(size: u32, f: impl FnOnce()) {
    let honoured = harness_sets_subgroup_size();
    SUBGROUP_SIZE.with(|c| c.set(honoured.then_some(size)));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SUBGROUP_SIZE.with(|c| c.set(None));
        }
    }
    let _reset = Reset;
    f();
}

/// The sub-group size the current case asked for, when the harness honours it.
pub fn subgroup_size_asked() -> Option<u32> {
    SUBGROUP_SIZE.with(|c| c.get())
}

/// A kernel argument for [`Mem::launch`].
pub enum A {
    /// A pointer to buffer `n`.
    Buf(usize),
    /// A pointer to buffer `n` plus a byte offset.
    BufAt(usize, u64),
    /// A value's bytes.
    Val(Vec<u8>),
    /// `__local` memory of this many bytes.
    Local(usize),
}

/// How many work-items a case launches: `n`, or under Miri the smaller `miri`. Miri
/// (`.ci/miri`) interprets the engine and checks every memory access it makes against Rust's
/// rules, thousands of times slower than native code: there, the kinds of accesses a kernel
/// makes matter, not their number. `miri` still spans several work-groups, so that launches
/// use more than one worker thread.
pub const fn items(n: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { n }
}

/// A value argument.
pub fn val<T: Pod>(v: T) -> A {
    A::Val(bytemuck::bytes_of(&v).to_vec())
}

/// Generates one test per optimisation level: `name_o0` and `name_o2`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn o0() {
                ($body)("O0")
            }
            #[test]
            fn o2() {
                ($body)("O2")
            }
        }
    };
}

/// A deterministic pseudo-random generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
    pub fn i32(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo) as u64) as i32
    }
}

/// Relative/absolute closeness for floats.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}
