//! Group 3: the CPU driver's kernels against OpenCL CPU runtimes, run from this process in
//! paired rounds: vector add on 2^24 floats, 1024×1024 matrix multiply (naive and local-memory
//! tiled), and launch latency (an empty kernel, launch + synchronize, against enqueue +
//! clFinish).
//!
//! Contenders, one column each:
//! - each of our engines ([`our_engines`]: the CPU driver configured one way, through the safe
//!   `level_zero` API, embedded driver) on the committed SPIR-V, `kernels/spv/<name>.O2.spv`;
//! - pocl (Debian's `pocl-opencl-icd`) on the OpenCL C source, `kernels/<name>.cl`;
//! - Intel's CPU runtime for OpenCL (PyPI's `intel-opencl-rt`, in a private venv made by
//!   `.ci/intel-ocl`) on the same SPIR-V modules as ours, through `clCreateProgramWithIL`.
//!
//! A contender that is not installed is reported unavailable and the others are measured.
//! Every contender's result of every kernel is checked against a host reference before it is
//! timed (its output buffer first filled with NaN).
//!
//! Rounds: for each kernel, every round runs each contender once (one sample: 4 launches of
//! vector add, 1 of a matmul, 1000 of the empty kernel, each launch waited for), the order
//! rotated by one each round, with a 10 ms pause after each sample so the previous runtime's
//! worker threads go idle. Times are medians over rounds. "ours / best" is a throughput ratio
//! (above 1: ours is faster): the median over rounds of the best OpenCL runtime's time divided
//! by ours in the same round, the best being the one with the lower median.
//!
//! The memory-bandwidth limit of vector add: the same addition on the host in the same rounds,
//! `c[i] = a[i] + b[i]` over 64 MiB arrays, as a plain Rust loop (vectorised by the release
//! build) on two threads taking 2 MiB chunks in turn, with 3 × 4 × 2^24 bytes moved per launch;
//! twice, with the arrays in transparent huge pages (`madvise(MADV_HUGEPAGE)`, up to 20% faster
//! on a quiet machine here) and in 4 KiB pages (`MADV_NOHUGEPAGE`). Each round's limit is the
//! faster of the two; each contender's vector add is reported as a fraction of it (paired: the
//! median over rounds of the round's limit time over the contender's). It is the limit for
//! ordinary loads and stores; non-temporal stores, which skip reading `c` before writing it,
//! could go past it.
//!
//! Module build time: `Module::from_spirv` of the largest committed SPIR-V module (by size, in
//! `kernels/spv`) and the creation of all its kernels (the JIT compiles at kernel creation),
//! median of 5, for each of our engines, and Intel's
//! `clCreateProgramWithIL` + `clBuildProgram` of the same module beside it.
//!
//! Run: `cargo bench --bench kernels` (`KERNELS_ROUNDS=N`, default 10; `-- --test` runs one
//! round; `-- vector_add empty` runs only the kernels whose names contain an argument, and
//! `module_build` selects the module build). pocl: `apt-get install pocl-opencl-icd`. Intel:
//! `.ci/intel-ocl`, which writes `target/intel-ocl-venv/vendors/` (an ICD vendors directory
//! naming pocl's and Intel's runtimes); the bench sets `OCL_ICD_VENDORS` to it unless the
//! variable is already set. The venv is found at `$INTEL_OCL_VENV`, else
//! `target/intel-ocl-venv` of this repository. Intel's runtime needs no `LD_LIBRARY_PATH`: the
//! RUNPATH of `libintelocl.so` is `$ORIGIN`, and its libraries (`intel-cmplr-lib-rt`'s and
//! TBB) are beside it in the venv.

#[path = "common/opencl.rs"]
mod opencl;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use level_zero::{
    BuildOptions, Context, Device, DeviceBuffer, ImmediateCommandList, Kernel, Module,
};
use opencl::{ClBuffer, ClKernel, OpenCl};

const N_ADD: usize = 1 << 24;
const N_MM: usize = 1024;
/// Rounds when `KERNELS_ROUNDS` is not set.
const DEFAULT_ROUNDS: usize = 10;
/// Module builds timed per engine (the median is reported).
const BUILDS: usize = 5;
/// The pause after each sample of a round.
const SETTLE: Duration = Duration::from_millis(10);

/// Our engines: the CPU driver's configurations measured, in column order. Each one is a
/// column of every table, a contender of every round and a ratio against the best OpenCL
/// runtime.
fn our_engines() -> Vec<(&'static str, level_zero::cpu::Config)> {
    use level_zero::cpu::{Config, Engine};
    let with = |engine: Engine, unchecked: bool| {
        let mut c = Config::default();
        c.engine = engine;
        c.unchecked = unchecked;
        c
    };
    vec![
        ("interpreter", with(Engine::Interpreter, false)),
        ("jit", with(Engine::Jit, false)),
        ("jit unchecked", with(Engine::Jit, true)),
    ]
}

/// The kernels measured.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Bench {
    VectorAdd,
    MatmulNaive,
    MatmulTiled,
    Empty,
}

impl Bench {
    const ALL: [Bench; 4] = [
        Bench::VectorAdd,
        Bench::MatmulNaive,
        Bench::MatmulTiled,
        Bench::Empty,
    ];

    fn name(self) -> &'static str {
        match self {
            Bench::VectorAdd => "vector_add",
            Bench::MatmulNaive => "matmul_naive",
            Bench::MatmulTiled => "matmul_tiled",
            Bench::Empty => "empty",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Bench::VectorAdd => "vector add, 2^24 floats",
            Bench::MatmulNaive => "matmul 1024×1024, naive",
            Bench::MatmulTiled => "matmul 1024×1024, tiled (local memory)",
            Bench::Empty => "empty kernel: launch + wait (latency)",
        }
    }

    /// The file name (without extension) of the kernel's module and source.
    fn module(self) -> &'static str {
        match self {
            Bench::VectorAdd => "vector_add",
            Bench::MatmulNaive | Bench::MatmulTiled => "matmul",
            Bench::Empty => "empty",
        }
    }

    /// Launches per sample (each waited for); times are reported per launch.
    fn launches(self) -> usize {
        match self {
            Bench::VectorAdd => 4,
            Bench::MatmulNaive | Bench::MatmulTiled => 1,
            Bench::Empty => 1000,
        }
    }
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn spv(name: &str) -> Vec<u8> {
    let path = repo().join(format!("kernels/spv/{name}.O2.spv"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn source(name: &str) -> String {
    let path = repo().join(format!("kernels/{name}.cl"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The inputs, shared by every contender, and what the outputs must be.
struct Inputs {
    a: Vec<f32>,
    b: Vec<f32>,
    ma: Vec<f32>,
    mb: Vec<f32>,
}

impl Inputs {
    fn new() -> Inputs {
        Inputs {
            a: (0..N_ADD).map(|i| (i % 1000) as f32).collect(),
            b: (0..N_ADD).map(|i| (i % 7) as f32 * 0.5).collect(),
            // Multiples of 1/4 and 1/2 below 16: every partial sum of a dot product is exact in
            // f32, whatever the order of summation.
            ma: (0..N_MM * N_MM)
                .map(|i| ((i * 7) % 13) as f32 * 0.25)
                .collect(),
            mb: (0..N_MM * N_MM)
                .map(|i| ((i * 5) % 11) as f32 * 0.5)
                .collect(),
        }
    }

    fn matmul_ref(&self, row: usize, col: usize) -> f32 {
        (0..N_MM)
            .map(|k| self.ma[row * N_MM + k] * self.mb[k * N_MM + col])
            .sum()
    }

    /// Checks kernel `k`'s output (`Empty` has none).
    fn verify(&self, k: Bench, out: &[f32]) -> Result<(), String> {
        match k {
            Bench::VectorAdd => {
                if let Some(i) = (0..N_ADD).find(|&i| out[i] != self.a[i] + self.b[i]) {
                    return Err(format!(
                        "c[{i}] = {}, want {}",
                        out[i],
                        self.a[i] + self.b[i]
                    ));
                }
            }
            Bench::MatmulNaive | Bench::MatmulTiled => {
                if let Some(i) = out.iter().position(|v| !v.is_finite()) {
                    return Err(format!("C[{i}] = {} (not written)", out[i]));
                }
                // Whole rows and columns at the edges and in the middle, and a spread of
                // single elements (a small LCG over the matrix).
                let mut at: Vec<(usize, usize)> = Vec::new();
                for line in [0, 1, 511, 1022, 1023] {
                    at.extend((0..N_MM).map(|j| (line, j)));
                    at.extend((0..N_MM).map(|j| (j, line)));
                }
                let mut x = 12345u64;
                for _ in 0..4096 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let e = (x >> 33) as usize % (N_MM * N_MM);
                    at.push((e / N_MM, e % N_MM));
                }
                for (row, col) in at {
                    let (want, got) = (self.matmul_ref(row, col), out[row * N_MM + col]);
                    if (want - got).abs() > 1e-3 * want.abs().max(1.0) {
                        return Err(format!("C[{row}][{col}] = {got}, want {want}"));
                    }
                }
            }
            Bench::Empty => {}
        }
        Ok(())
    }
}

/// One column: something that runs the kernels.
trait Contender {
    fn name(&self) -> &str;
    /// Whether it takes part in `k`'s rounds.
    fn runs(&self, _k: Bench) -> bool {
        true
    }
    /// One launch of `k`, waited for.
    fn run(&mut self, k: Bench);
    /// Fills `k`'s output with NaN.
    fn poison(&mut self, k: Bench);
    /// `k`'s output, read back.
    fn output(&mut self, k: Bench) -> Vec<f32>;
}

/// Runs `k` once on `c` into a poisoned output and checks the result.
fn verify(c: &mut dyn Contender, inputs: &Inputs, k: Bench) -> Result<(), String> {
    c.poison(k);
    c.run(k);
    inputs
        .verify(k, &c.output(k))
        .map_err(|e| format!("{} computes {} wrongly: {e}", c.name(), k.name()))
}

fn output_len(k: Bench) -> usize {
    match k {
        Bench::VectorAdd => N_ADD,
        Bench::MatmulNaive | Bench::MatmulTiled => N_MM * N_MM,
        Bench::Empty => 0,
    }
}

/// The CPU driver with one engine configuration, through the safe API.
struct Ours {
    name: &'static str,
    ctx: Context,
    dev: Device,
    list: ImmediateCommandList,
    add: Kernel,
    naive: Kernel,
    tiled: Kernel,
    empty: Kernel,
    c: DeviceBuffer<f32>,
    mc: DeviceBuffer<f32>,
    _inputs: [DeviceBuffer<f32>; 4],
}

impl Ours {
    fn new(
        name: &'static str,
        config: level_zero::cpu::Config,
        inputs: &Inputs,
    ) -> level_zero::Result<Ours> {
        let driver = level_zero::cpu::driver(config)?;
        let dev = driver.devices()?.remove(0);
        let ctx = Context::new(&driver)?;
        let mut list = ImmediateCommandList::compute(&ctx, &dev)?;
        let mut buf = |data: &[f32]| -> level_zero::Result<DeviceBuffer<f32>> {
            let b = DeviceBuffer::<f32>::new(&ctx, &dev, data.len())?;
            list.copy_from_slice(&b, data)?;
            Ok(b)
        };
        let (a, b, c) = (buf(&inputs.a)?, buf(&inputs.b)?, buf(&vec![0.0; N_ADD])?);
        let (ma, mb, mc) = (
            buf(&inputs.ma)?,
            buf(&inputs.mb)?,
            buf(&vec![0.0; N_MM * N_MM])?,
        );
        let module = |name: &str| Module::from_spirv(&ctx, &dev, &spv(name), &BuildOptions::new());
        let (madd, mmm, mempty) = (module("vector_add")?, module("matmul")?, module("empty")?);
        let mut add = madd.kernel("vector_add")?;
        add.set_group_size([256, 1, 1])?;
        add.set_arg_buffer(0, &a)?;
        add.set_arg_buffer(1, &b)?;
        add.set_arg_buffer(2, &c)?;
        let mm = |name: &str| -> level_zero::Result<Kernel> {
            let mut k = mmm.kernel(name)?;
            k.set_group_size([16, 16, 1])?;
            k.set_arg_buffer(0, &ma)?;
            k.set_arg_buffer(1, &mb)?;
            k.set_arg_buffer(2, &mc)?;
            k.set_arg(3, &(N_MM as u32))?;
            Ok(k)
        };
        let (naive, tiled) = (mm("matmul_naive")?, mm("matmul_tiled")?);
        let mut empty = mempty.kernel("empty")?;
        empty.set_group_size([1, 1, 1])?;
        Ok(Ours {
            name,
            ctx,
            dev,
            list,
            add,
            naive,
            tiled,
            empty,
            c,
            mc,
            _inputs: [a, b, ma, mb],
        })
    }

    /// The time of one `Module::from_spirv` of `module` and the creation of each of its
    /// kernels (where the CPU driver's JIT compiles them, as an OpenCL runtime does in
    /// `clBuildProgram`), `BUILDS` times.
    fn build_times(&self, module: &[u8]) -> level_zero::Result<Vec<f64>> {
        (0..BUILDS)
            .map(|_| {
                let t = Instant::now();
                let m = Module::from_spirv(&self.ctx, &self.dev, module, &BuildOptions::new())?;
                let kernels = m
                    .kernel_names()?
                    .iter()
                    .map(|n| m.kernel(n))
                    .collect::<level_zero::Result<Vec<_>>>()?;
                let s = t.elapsed().as_secs_f64();
                drop(kernels);
                drop(m);
                Ok(s)
            })
            .collect()
    }
}

impl Contender for Ours {
    fn name(&self) -> &str {
        self.name
    }

    fn run(&mut self, k: Bench) {
        let mm_groups = [(N_MM / 16) as u32, (N_MM / 16) as u32, 1];
        let (kernel, groups) = match k {
            Bench::VectorAdd => (&self.add, [(N_ADD / 256) as u32, 1, 1]),
            Bench::MatmulNaive => (&self.naive, mm_groups),
            Bench::MatmulTiled => (&self.tiled, mm_groups),
            Bench::Empty => (&self.empty, [1, 1, 1]),
        };
        // SAFETY: the grids cover exactly the buffers' elements (vector_add: N_ADD items over
        // N_ADD-element buffers; matmul: N_MM x N_MM over N_MM² elements); empty touches
        // nothing.
        unsafe { self.list.launch(kernel, groups) }.unwrap();
        self.list.synchronize().unwrap();
    }

    fn poison(&mut self, k: Bench) {
        let nan = vec![f32::NAN; output_len(k)];
        match k {
            Bench::VectorAdd => self.list.copy_from_slice(&self.c, &nan).unwrap(),
            Bench::MatmulNaive | Bench::MatmulTiled => {
                self.list.copy_from_slice(&self.mc, &nan).unwrap()
            }
            Bench::Empty => {}
        }
    }

    fn output(&mut self, k: Bench) -> Vec<f32> {
        let mut out = vec![0f32; output_len(k)];
        match k {
            Bench::VectorAdd => self.list.copy_to_slice(&mut out, &self.c).unwrap(),
            Bench::MatmulNaive | Bench::MatmulTiled => {
                self.list.copy_to_slice(&mut out, &self.mc).unwrap()
            }
            Bench::Empty => {}
        }
        out
    }
}

/// How an OpenCL runtime gets its kernels.
#[derive(Clone, Copy)]
enum ClInput {
    /// The OpenCL C source, `kernels/<name>.cl`.
    Source,
    /// The committed SPIR-V, `kernels/spv/<name>.O2.spv`, as ours.
    Spirv,
}

/// One OpenCL platform's CPU device.
struct Cl {
    name: &'static str,
    cl: OpenCl,
    input: ClInput,
    kernels: Vec<ClKernel>,
    buffers: Vec<ClBuffer>,
}

impl Cl {
    /// Opens the platform named like `platform` and builds the kernels from `input`.
    fn new(
        name: &'static str,
        platform: &str,
        input: ClInput,
        inputs: &Inputs,
    ) -> Result<Cl, String> {
        let cl = OpenCl::open(platform)?;
        if let ClInput::Spirv = input {
            cl.accepts_spirv()?;
        }
        let mut this = Cl {
            name,
            cl,
            input,
            kernels: Vec::new(),
            buffers: Vec::new(),
        };
        // Buffers: a, b, c, ma, mb, mc.
        for data in [
            &inputs.a[..],
            &inputs.b[..],
            &vec![0.0; N_ADD][..],
            &inputs.ma[..],
            &inputs.mb[..],
            &vec![0.0; N_MM * N_MM][..],
        ] {
            let b = this.cl.buffer(data)?;
            this.buffers.push(b);
        }
        // Kernels, in `Bench::ALL`'s order.
        for k in Bench::ALL {
            let kernel = match input {
                ClInput::Source => this.cl.kernel(&source(k.module()), k.name()),
                ClInput::Spirv => this.cl.kernel_spirv(&spv(k.module()), k.name()),
            }
            .map_err(|e| format!("{}: {e}", k.name()))?;
            let args: &[usize] = match k {
                Bench::VectorAdd => &[0, 1, 2],
                Bench::MatmulNaive | Bench::MatmulTiled => &[3, 4, 5],
                Bench::Empty => &[],
            };
            for (i, &b) in args.iter().enumerate() {
                this.cl.arg_buffer(&kernel, i as u32, &this.buffers[b])?;
            }
            if matches!(k, Bench::MatmulNaive | Bench::MatmulTiled) {
                this.cl.arg(&kernel, 3, &(N_MM as u32))?;
            }
            this.kernels.push(kernel);
        }
        Ok(this)
    }

    fn kernel(&self, k: Bench) -> &ClKernel {
        &self.kernels[Bench::ALL.iter().position(|&x| x == k).unwrap()]
    }

    /// `k`'s output buffer.
    fn out(&self, k: Bench) -> Option<&ClBuffer> {
        match k {
            Bench::VectorAdd => Some(&self.buffers[2]),
            Bench::MatmulNaive | Bench::MatmulTiled => Some(&self.buffers[5]),
            Bench::Empty => None,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} ({}), device {}; kernels from {}",
            self.cl.platform,
            self.cl.platform_version,
            self.cl.device_name,
            match self.input {
                ClInput::Source => "the OpenCL C source, kernels/<name>.cl",
                ClInput::Spirv =>
                    "the SPIR-V modules ours run, kernels/spv/<name>.O2.spv (clCreateProgramWithIL)",
            }
        )
    }

    /// The time of one `clCreateProgramWithIL` + `clBuildProgram` of `module`, `BUILDS` times.
    fn build_times(&self, module: &[u8]) -> Result<Vec<f64>, String> {
        (0..BUILDS)
            .map(|_| {
                let t = Instant::now();
                let p = self.cl.program_spirv(module)?;
                let s = t.elapsed().as_secs_f64();
                self.cl.release_program(p);
                Ok(s)
            })
            .collect()
    }
}

impl Contender for Cl {
    fn name(&self) -> &str {
        self.name
    }

    fn run(&mut self, k: Bench) {
        let kernel = self.kernel(k);
        match k {
            Bench::VectorAdd => self.cl.run(kernel, &[N_ADD], Some(&[256])),
            Bench::MatmulNaive | Bench::MatmulTiled => {
                self.cl.run(kernel, &[N_MM, N_MM], Some(&[16, 16]))
            }
            Bench::Empty => self.cl.run(kernel, &[1], Some(&[1])),
        }
        .unwrap_or_else(|e| panic!("{}: {}: {e}", self.name, k.name()));
    }

    fn poison(&mut self, k: Bench) {
        if let Some(b) = self.out(k) {
            self.cl.write(b, &vec![f32::NAN; output_len(k)]).unwrap();
        }
    }

    fn output(&mut self, k: Bench) -> Vec<f32> {
        let mut out = vec![0f32; output_len(k)];
        if let Some(b) = self.out(k) {
            self.cl.read(b, &mut out).unwrap();
        }
        out
    }
}

impl Drop for Cl {
    fn drop(&mut self) {
        for k in self.kernels.drain(..) {
            self.cl.release_kernel(k);
        }
        for b in self.buffers.drain(..) {
            self.cl.release_buffer(b);
        }
    }
}

/// `madvise(2)` advice: back the range with transparent huge pages.
const MADV_HUGEPAGE: i32 = 14;
/// `madvise(2)` advice: do not.
const MADV_NOHUGEPAGE: i32 = 15;

// SAFETY: the declaration matches madvise(2)'s in glibc, which the standard library links.
unsafe extern "C" {
    /// Advice about the use of a page-aligned range of memory.
    fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
}

/// Host floats for the streaming limit, 2 MiB-aligned, advised into transparent huge pages or
/// out of them before they are first touched.
struct HostArray {
    ptr: std::ptr::NonNull<f32>,
    len: usize,
    layout: std::alloc::Layout,
}

impl HostArray {
    /// A copy of `data`; `huge`: in huge pages if the kernel grants them (THP "always" or
    /// "madvise"), else in 4 KiB pages (MADV_NOHUGEPAGE). Also says whether `madvise` failed.
    fn new(data: &[f32], huge: bool) -> (HostArray, Option<std::io::Error>) {
        let layout =
            std::alloc::Layout::from_size_align(size_of_val(data).max(1), 2 << 20).expect("layout");
        // SAFETY: a non-zero size.
        let ptr = unsafe { std::alloc::alloc(layout) }.cast::<f32>();
        let Some(ptr) = std::ptr::NonNull::new(ptr) else {
            std::alloc::handle_alloc_error(layout)
        };
        let advice = if huge { MADV_HUGEPAGE } else { MADV_NOHUGEPAGE };
        // SAFETY: advice about the allocation just made (2 MiB-aligned, so page-aligned as
        // madvise requires); neither advice changes its contents.
        let failed = (unsafe { madvise(ptr.as_ptr().cast(), layout.size(), advice) } != 0)
            .then(std::io::Error::last_os_error);
        // SAFETY: `data.len()` floats fit in the allocation, which nothing else references; the
        // copy is the first touch, after the advice.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), ptr.as_ptr(), data.len()) };
        let array = HostArray {
            ptr,
            len: data.len(),
            layout,
        };
        (array, failed)
    }

    fn as_slice(&self) -> &[f32] {
        // SAFETY: `len` initialised floats, owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as above, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// KiB of the array's mapping that are in huge pages (`AnonHugePages` in
    /// /proc/self/smaps), if it can be read.
    fn huge_kib(&self) -> Option<u64> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let at = self.ptr.as_ptr() as u64;
        let mut inside = false;
        for line in smaps.lines() {
            let first = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = first.split_once('-')
                && let (Ok(lo), Ok(hi)) = (u64::from_str_radix(lo, 16), u64::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&at);
            } else if inside && let Some(kib) = line.strip_prefix("AnonHugePages:") {
                return kib.trim().trim_end_matches("kB").trim().parse().ok();
            }
        }
        None
    }
}

impl Drop for HostArray {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), self.layout) };
    }
}

// SAFETY: `HostArray` owns its allocation exclusively, like a `Vec<f32>`.
unsafe impl Send for HostArray {}
// SAFETY: shared access only reads (`as_slice`), like a `Vec<f32>`'s.
unsafe impl Sync for HostArray {}

/// Vector add on the host, to measure the memory-bandwidth limit of vector add.
struct HostStream {
    name: &'static str,
    a: HostArray,
    b: HostArray,
    c: HostArray,
    /// How the arrays' pages came out, for the report.
    pages: String,
}

impl HostStream {
    fn new(name: &'static str, inputs: &Inputs, huge: bool) -> HostStream {
        let (a, e1) = HostArray::new(&inputs.a, huge);
        let (b, e2) = HostArray::new(&inputs.b, huge);
        let (c, e3) = HostArray::new(&vec![0.0; N_ADD], huge);
        let pages = match (e1.or(e2).or(e3), [&a, &b, &c].map(|x| x.huge_kib())) {
            (Some(e), _) => format!("madvise failed: {e}"),
            (None, [Some(x), Some(y), Some(z)]) => format!(
                "{} of {} MiB in huge pages",
                (x + y + z) / 1024,
                (3 * size_of_val(a.as_slice())) >> 20
            ),
            (None, _) => "huge pages unknown (no /proc/self/smaps)".to_string(),
        };
        HostStream {
            name,
            a,
            b,
            c,
            pages,
        }
    }
}

/// `c = a + b`, element by element: a plain loop, which the release build vectorises.
fn add_slices(a: &[f32], b: &[f32], c: &mut [f32]) {
    for ((c, a), b) in c.iter_mut().zip(a).zip(b) {
        *c = *a + *b;
    }
}

impl Contender for HostStream {
    fn name(&self) -> &str {
        self.name
    }

    fn runs(&self, k: Bench) -> bool {
        k == Bench::VectorAdd
    }

    fn run(&mut self, _k: Bench) {
        // Two threads (the machine's two cores), this one and one more, taking 2 MiB chunks
        // of `c` in turn (so a thread slowed by other work on the machine takes fewer).
        const CHUNK: usize = (2 << 20) / size_of::<f32>();
        let (a, b) = (self.a.as_slice(), self.b.as_slice());
        let next = std::sync::Mutex::new(self.c.as_mut_slice().chunks_mut(CHUNK).enumerate());
        let work = || {
            loop {
                let Some((i, c)) = next.lock().unwrap().next() else {
                    break;
                };
                let at = i * CHUNK;
                add_slices(&a[at..at + c.len()], &b[at..at + c.len()], c);
            }
        };
        std::thread::scope(|s| {
            s.spawn(work);
            work();
        });
    }

    fn poison(&mut self, _k: Bench) {
        self.c.as_mut_slice().fill(f32::NAN);
    }

    fn output(&mut self, _k: Bench) -> Vec<f32> {
        self.c.as_slice().to_vec()
    }
}

/// Points the ICD loader at `.ci/intel-ocl`'s vendors directory (pocl's and Intel's ICDs) if it
/// exists and the user has not set `OCL_ICD_VENDORS`; says which ICDs are used. Must run before
/// the first OpenCL call: the loader reads the variable once per process.
fn register_intel_icd() -> String {
    if let Some(v) = std::env::var_os("OCL_ICD_VENDORS") {
        return format!("OCL_ICD_VENDORS={} (set by the user)", v.to_string_lossy());
    }
    let venv = std::env::var_os("INTEL_OCL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/intel-ocl-venv"));
    let vendors = venv.join("vendors");
    if !vendors.join("intel.icd").is_file() {
        return format!(
            "the system's ICDs (/etc/OpenCL/vendors): no {} (run .ci/intel-ocl for Intel's \
             runtime)",
            vendors.join("intel.icd").display()
        );
    }
    // SAFETY: called first thing in `main`, while the process has a single thread (nothing
    // has been spawned, no library that starts threads is loaded yet), so no other thread
    // reads the environment concurrently.
    unsafe { std::env::set_var("OCL_ICD_VENDORS", &vendors) };
    let mut note = format!("OCL_ICD_VENDORS={} (from .ci/intel-ocl)", vendors.display());
    // A system ICD installed after the script ran is not in the private directory.
    let missing: Vec<String> = std::fs::read_dir("/etc/OpenCL/vendors")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !vendors.join(n).exists())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    if !missing.is_empty() {
        note += &format!(
            "; not there: {} from /etc/OpenCL/vendors (rerun .ci/intel-ocl)",
            missing.join(", ")
        );
    }
    note
}

/// The largest committed SPIR-V module (`ls -S kernels/spv/*.spv | head -1`).
fn largest_module() -> (PathBuf, Vec<u8>) {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(repo().join("kernels/spv"))
        .expect("kernels/spv")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "spv"))
        .map(|p| (p.metadata().map(|m| m.len()).unwrap_or(0), p))
        .collect();
    files.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    let path = files.swap_remove(0).1;
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The unit for `s` seconds: its name and how many seconds it is.
fn unit(s: f64) -> (&'static str, f64) {
    if s < 1e-6 {
        ("ns", 1e-9)
    } else if s < 1e-3 {
        ("µs", 1e-6)
    } else if s < 1.0 {
        ("ms", 1e-3)
    } else {
        ("s", 1.0)
    }
}

/// Formats seconds.
fn time(s: f64) -> String {
    let (name, u) = unit(s);
    format!("{:.2} {name}", s / u)
}

/// Formats the median of `v` (seconds) and its range, `1.23 ms [1.20–1.31]`.
fn time_spread(v: &[f64]) -> String {
    let m = median(v);
    let (_, u) = unit(m);
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(0.0, f64::max);
    format!("{} [{:.2}–{:.2}]", time(m), lo / u, hi / u)
}

fn rounds() -> usize {
    if std::env::args().any(|a| a == "--test") {
        return 1;
    }
    match std::env::var("KERNELS_ROUNDS") {
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("KERNELS_ROUNDS={v:?}: want a positive number of rounds"),
        },
        Err(_) => DEFAULT_ROUNDS,
    }
}

/// Whether `name` is selected by the command line's filters (arguments not starting with
/// `-`; a name is selected if it contains one of them, or if there are none).
fn selected(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

fn main() {
    let icd = register_intel_icd();
    let benches: Vec<Bench> = Bench::ALL
        .into_iter()
        .filter(|k| selected(k.name()))
        .collect();
    let build = selected("module_build");
    if std::env::args().any(|a| a == "--list") {
        for k in &benches {
            println!("kernels/{}: benchmark", k.name());
        }
        if build {
            println!("kernels/module_build: benchmark");
        }
        return;
    }
    let rounds = rounds();
    let inputs = Inputs::new();

    let mut ours: Vec<Ours> = Vec::new();
    let mut unavailable: Vec<String> = Vec::new();
    for (name, config) in our_engines() {
        match Ours::new(name, config, &inputs) {
            Ok(o) => ours.push(o),
            Err(e) => unavailable.push(format!("{name}: {e}")),
        }
    }
    let mut cls: Vec<Cl> = Vec::new();
    let mut cl_notes: Vec<String> = Vec::new();
    for (name, platform, input) in [
        ("pocl", "Portable Computing Language", ClInput::Source),
        ("Intel", "Intel", ClInput::Spirv),
    ] {
        match Cl::new(name, platform, input, &inputs) {
            Ok(cl) => {
                cl_notes.push(format!("- {name}: {}", cl.describe()));
                cls.push(cl);
            }
            Err(e) => unavailable.push(format!("{name}: {e}")),
        }
    }
    // The host loops that measure the limit of vector add.
    let mut hosts = [
        HostStream::new("host, huge pages", &inputs, true),
        HostStream::new("host, 4 KiB pages", &inputs, false),
    ];
    let host_notes: Vec<String> = hosts
        .iter()
        .map(|h| format!("{}: {}", h.name, h.pages))
        .collect();

    // Columns: ours, then the OpenCL runtimes, then the host streams.
    let (n_ours, n_cls) = (ours.len(), cls.len());
    let mut contenders: Vec<&mut dyn Contender> = Vec::new();
    contenders.extend(ours.iter_mut().map(|o| o as &mut dyn Contender));
    contenders.extend(cls.iter_mut().map(|c| c as &mut dyn Contender));
    contenders.extend(hosts.iter_mut().map(|h| h as &mut dyn Contender));
    let names: Vec<String> = contenders.iter().map(|c| c.name().to_string()).collect();
    let engines = 0..n_ours + n_cls;
    let cl_range = n_ours..n_ours + n_cls;
    let hosts_at = n_ours + n_cls;

    // Every contender's every kernel, checked once (also the warm-up).
    for &k in &benches {
        for c in contenders.iter_mut().filter(|c| c.runs(k)) {
            if let Err(e) = verify(&mut **c, &inputs, k) {
                panic!("{e}");
            }
        }
    }
    eprintln!(
        "kernels: every contender's results verified: {}",
        names.join(", ")
    );

    // times[kernel][contender]: seconds per launch, one per round (empty: not run).
    let mut times: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); names.len()]; benches.len()];
    for (ki, &k) in benches.iter().enumerate() {
        let who: Vec<usize> = (0..names.len())
            .filter(|&i| contenders[i].runs(k))
            .collect();
        for r in 0..rounds {
            eprintln!("kernels: {} round {}/{rounds}", k.name(), r + 1);
            for j in 0..who.len() {
                let i = who[(j + r) % who.len()];
                let t = Instant::now();
                for _ in 0..k.launches() {
                    contenders[i].run(k);
                }
                times[ki][i].push(t.elapsed().as_secs_f64() / k.launches() as f64);
                std::thread::sleep(SETTLE);
            }
        }
    }
    drop(contenders);

    // Module build time of the largest committed module.
    let (big_path, big) = largest_module();
    let big_name = big_path.file_name().unwrap().to_string_lossy().into_owned();
    let mut builds: Vec<(String, Result<Vec<f64>, String>)> = Vec::new();
    if build {
        eprintln!("kernels: module builds of {big_name}");
        for o in &ours {
            builds.push((
                o.name.to_string(),
                o.build_times(&big).map_err(|e| e.to_string()),
            ));
        }
        for c in cls.iter().filter(|c| matches!(c.input, ClInput::Spirv)) {
            builds.push((
                format!("{} (clCreateProgramWithIL + clBuildProgram)", c.name),
                c.build_times(&big),
            ));
        }
    }

    // The report.
    let med = |ki: usize, i: usize| -> Option<f64> {
        let v = &times[ki][i];
        (!v.is_empty()).then(|| median(v))
    };
    // The median over rounds of times[ki][num] / times[ki][den] (paired by round).
    let paired = |ki: usize, num: usize, den: usize| -> f64 {
        let r: Vec<f64> = times[ki][num]
            .iter()
            .zip(&times[ki][den])
            .map(|(n, d)| n / d)
            .collect();
        median(&r)
    };
    println!(
        "\n## CPU-driver kernels against OpenCL CPU runtimes ({rounds} paired round{}; median \
         time per launch, [min–max] over rounds)\n",
        if rounds == 1 { "" } else { "s" }
    );
    println!("ICDs: {icd}");
    for o in &ours {
        println!(
            "- {}: level-zero-cpu (embedded, our_engines()); kernels from kernels/spv/<name>.O2.spv",
            o.name
        );
    }
    for n in &cl_notes {
        println!("{n}");
    }
    for u in &unavailable {
        println!("- unavailable: {u}");
    }
    if !benches.is_empty() {
        print!("\n| kernel |");
        for i in engines.clone() {
            print!(" {} |", names[i]);
        }
        for name in &names[..n_ours] {
            print!(" {name} / best |");
        }
        println!();
        println!("|---|{}", "---|".repeat(engines.len() + n_ours));
        for (ki, k) in benches.iter().enumerate() {
            print!("| {} |", k.what());
            for i in engines.clone() {
                match &times[ki][i] {
                    v if v.is_empty() => print!(" — |"),
                    v => print!(" {} |", time_spread(v)),
                }
            }
            // The best OpenCL runtime: the lower median.
            let best = cl_range
                .clone()
                .filter_map(|i| med(ki, i).map(|m| (m, i)))
                .min_by(|x, y| x.0.total_cmp(&y.0))
                .map(|(_, i)| i);
            for i in 0..n_ours {
                match best {
                    Some(b) => print!(" {:.3} ({}) |", paired(ki, b, i), names[b]),
                    None => print!(" — |"),
                }
            }
            println!();
        }
        println!(
            "\n\"ours / best\": throughput ratio, the best OpenCL runtime's time over ours in \
             the same round (median over rounds); above 1, ours is faster."
        );
    }

    if let Some(va) = benches.iter().position(|&k| k == Bench::VectorAdd) {
        let bytes = (3 * 4 * N_ADD) as f64;
        // The limit of each round: the faster of the host loops in that round.
        let limit_times: Vec<f64> = (0..rounds)
            .map(|r| {
                (hosts_at..names.len())
                    .map(|i| times[va][i][r])
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        println!(
            "\n### Vector add against the machine's memory bandwidth\n\nBytes moved per launch: \
             3 × 4 × 2^24 = {:.1} MB (read a and b, write c). The limit: the same addition on \
             the host, `c[i] = a[i] + b[i]` as a plain Rust loop on 2 threads over 64 MiB \
             arrays, in the same rounds, with the arrays in transparent huge pages and in 4 KiB \
             pages ({}); each round's limit is the faster of the two. Fractions are paired: the \
             median over rounds of the round's limit time over the contender's.\n",
            bytes / 1e6,
            host_notes.join("; ")
        );
        println!("| | median time | GB/s | fraction of the limit |");
        println!("|---|---|---|---|");
        let m = median(&limit_times);
        println!(
            "| limit (faster host loop per round) | {} | {:.1} | 1 |",
            time(m),
            bytes / m / 1e9
        );
        for i in (hosts_at..names.len()).chain(engines.clone()) {
            let Some(m) = med(va, i) else {
                continue;
            };
            let fraction: Vec<f64> = limit_times
                .iter()
                .zip(&times[va][i])
                .map(|(l, t)| l / t)
                .collect();
            println!(
                "| {} | {} | {:.1} | {:.3} |",
                names[i],
                time(m),
                bytes / m / 1e9,
                median(&fraction)
            );
        }
    }

    if build {
        println!(
            "\n### Module build: {big_name} ({} bytes, the largest in kernels/spv), median of \
             {BUILDS}\n",
            big.len()
        );
        println!("| engine | median build time [min–max] |");
        println!("|---|---|");
        for (who, r) in &builds {
            match r {
                Ok(v) => println!("| {who} | {} |", time_spread(v)),
                Err(e) => println!("| {who} | failed: {e} |"),
            }
        }
    }
}
