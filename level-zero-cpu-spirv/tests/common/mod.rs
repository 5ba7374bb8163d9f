//! Test helpers: a MemoryMap over Rust-owned buffers with guard bytes around each buffer,
//! and launching kernels from the committed `.spv` files.
#![allow(dead_code)]

use bytemuck::Pod;
use level_zero_cpu_spirv::{ArgValue, BuildOptions, Engine, ExecError, Launch, MemoryMap, Program};

/// Bytes of guard before and after every buffer (not part of the allocation).
pub const GUARD: usize = 256;
/// The value guard bytes hold.
pub const GUARD_BYTE: u8 = 0xA5;

/// Loads `kernels/spv/<name>.<opt>.spv` (`kernels` is the crate's link to the workspace's
/// `kernels/`, packaged as files, so the tests find them in the published crate too).
pub fn spv(name: &str, opt: &str) -> Vec<u8> {
    let path = format!(
        "{}/kernels/spv/{name}.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Builds `kernels/spv/<name>.<opt>.spv` (for the sub-group size a case asked for:
/// `portable.rs`'s `with_subgroup_size`).
pub fn program(name: &str, opt: &str) -> Program {
    let options = BuildOptions {
        subgroup_size: subgroup_size_asked(),
        ..Default::default()
    };
    build(&spv(name, opt), &options)
        .unwrap_or_else(|e| panic!("{name}.{opt} failed to build:\n{}", e.log))
}

thread_local! {
    /// The interpreter's twin of each program built by [`build`], by the address of the
    /// program's kernel list (stable while the program lives).
    static TWINS: std::cell::RefCell<Vec<(usize, Program)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `Program::build`, plus a twin built from the same module that the differential runs use
/// for the interpreter (see [`both_engines`]): each has its own program-scope variables, so
/// state a kernel keeps in them evolves in both as each launch runs on both.
pub fn build(
    spirv: &[u8],
    options: &BuildOptions<'_>,
) -> Result<Program, level_zero_cpu_spirv::BuildError> {
    let p = Program::build(spirv, options)?;
    // Under Miri the JIT is off and launches are not compared: no twin.
    if cfg!(miri) {
        return Ok(p);
    }
    if let Ok(twin) = Program::build(spirv, options) {
        TWINS.with(|t| {
            let mut t = t.borrow_mut();
            // Programs dropped since: their addresses may be reused.
            t.retain(|(k, _)| *k != p.kernels().as_ptr() as usize);
            t.push((p.kernels().as_ptr() as usize, twin));
        });
    }
    Ok(p)
}

/// The engine's build options take a sub-group size.
pub fn harness_sets_subgroup_size() -> bool {
    true
}

/// Assembles SPIR-V assembly text with `spirv-as` (SPIR-V 1.0) and validates the result
/// with `spirv-val --target-env <env>` (`None`: not validated, for modules that are invalid
/// on purpose). Panics when the tools are missing: `spirv-tools` is a test dependency.
pub fn assemble(text: &str, env: Option<&str>) -> Vec<u8> {
    assemble_for("spv1.0", text, env)
}

/// [`assemble`] for another SPIR-V version (`spv1.1`, ...).
pub fn assemble_for(version: &str, text: &str, env: Option<&str>) -> Vec<u8> {
    use std::process::Command;
    let dir = std::env::temp_dir().join(format!(
        "l0cpu-spvasm-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, out) = (dir.join("m.spvasm"), dir.join("m.spv"));
    std::fs::write(&src, text).unwrap();
    let r = Command::new("spirv-as")
        .args(["--target-env", version])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("spirv-as (Debian package spirv-tools) is needed by this test");
    assert!(
        r.status.success(),
        "spirv-as failed:\n{}\n{text}",
        String::from_utf8_lossy(&r.stderr)
    );
    if let Some(env) = env {
        let r = Command::new("spirv-val")
            .args(["--target-env", env])
            .arg(&out)
            .output()
            .expect("spirv-val (Debian package spirv-tools) is needed by this test");
        assert!(
            r.status.success(),
            "spirv-val rejected the module:\n{}\n{text}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

/// `tests/spvasm/<name>.spvasm`.
/// `tests/<dir>/spv/<name>.<opt>.spv` (the red-team sets' modules), built through the
/// harness (so that it has its interpreter twin).
pub fn test_program(dir: &str, name: &str, opt: &str, options: &BuildOptions<'_>) -> Program {
    let path = format!(
        "{}/tests/{dir}/spv/{name}.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    build(&bytes, options).unwrap_or_else(|e| panic!("{name}.{opt} failed to build:\n{}", e.log))
}

/// The kernel really runs on the JIT (a fallback to the interpreter would compare the
/// interpreter with itself).
#[track_caller]
pub fn on_jit(p: &Program, kernel: &str) {
    let e = p
        .kernel_engine(kernel)
        .unwrap_or_else(|| panic!("no kernel {kernel}"));
    assert_eq!(e.engine, Engine::Jit, "{kernel}: {:?}", e.fallback);
}

pub fn spvasm(name: &str) -> String {
    let path = format!("{}/tests/spvasm/{name}.spvasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

include!("portable.rs");

/// An image over one of a [`Mem`]'s buffers (tightly packed texels).
#[derive(Clone, Copy, Debug)]
pub struct Img {
    pub dim: level_zero_cpu_spirv::ImageDim,
    pub extent: [u32; 3],
    pub format: level_zero_cpu_spirv::ImageFormat,
}

/// An argument of [`Mem::launch_with`]: a buffer's address, a value, an image over a buffer,
/// a sampler.
pub enum EArg {
    Buf(usize),
    Val(Vec<u8>),
    Image(usize, Img),
    Sampler(level_zero_cpu_spirv::SamplerArg),
}

/// Buffers owned by the test.
#[derive(Default)]
pub struct Mem {
    bufs: Vec<(Vec<u64>, usize)>,
}

struct Map(Vec<(u64, u64)>);

// SAFETY: the ranges are the test's own buffers (`Mem`), which outlive every launch that uses the map.
unsafe impl MemoryMap for Map {
    fn find(&self, address: u64) -> Option<(u64, u64)> {
        self.0
            .iter()
            .copied()
            .find(|&(b, s)| address >= b && address < b + s)
    }
}

thread_local! {
    static NONDETERMINISTIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static SAME_PROGRAM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static FAULTS_MAY_DIFFER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling test's launches as having several work-items that fault at different
/// accesses: both engines must stop the launch with a fault of the same kind, but which
/// work-item's fault is reported depends on the order work-items run in (the interpreter
/// runs a group's work-items together, block by block; the JIT one after another up to a
/// barrier), and either is a correct report.
pub fn faults_may_differ(_reason: &str) {
    FAULTS_MAY_DIFFER.with(|c| c.set(true));
}

/// Marks the calling test's launches to run on both engines with the very program the test
/// built (not its twin): the test hands kernels addresses of that program's own (function
/// pointers). The kernels must not keep state in program-scope variables then.
pub fn same_program(_reason: &str) {
    SAME_PROGRAM.with(|c| c.set(true));
}

/// Marks the calling test's launches as not comparable between the engines, for the reason
/// given: work-items racing on purpose (the order atomics are applied in), or outputs that
/// hold addresses of the program's own (each engine runs its own copy of the program). Both
/// engines still run every launch and their errors must agree; their memory and output are
/// not compared.
pub fn not_compared(_reason: &str) {
    NONDETERMINISTIC.with(|c| c.set(true));
}

/// Differential testing: every launch of the harness runs on the interpreter (the
/// reference) from a copy of the buffers, then on the JIT from the same starting contents;
/// the two must end with the same result, bit-identical buffers (guard bytes included) and
/// the same printf output. The JIT's run is what the test then checks.
fn both_engines(
    p: &Program,
    launch: &Launch<'_>,
    map: &Map,
    bufs: &mut [(Vec<u64>, usize)],
) -> Result<Vec<u8>, ExecError> {
    let mut out_i = Vec::new();
    if cfg!(miri) {
        // The JIT is off under Miri: the comparison would run the interpreter twice.
        return p
            .launch_on(Engine::Interpreter, launch, map, &mut out_i)
            .map(|()| out_i);
    }
    let start: Vec<Vec<u64>> = bufs.iter().map(|(v, _)| v.clone()).collect();
    let key = p.kernels().as_ptr() as usize;
    let twin = TWINS.with(|t| {
        let mut t = t.borrow_mut();
        let i = t.iter().position(|(k, _)| *k == key)?;
        Some(t.swap_remove(i).1)
    });
    let twin = twin.filter(|_| !SAME_PROGRAM.with(|c| c.get()));
    let Some(twin) = twin else {
        // A program built otherwise (linked, assembled by a test): without a twin, the
        // interpreter's run would change the program-scope variables the JIT's run starts
        // from. Such programs are compared only when they have none.
        if !p.globals().is_empty() {
            return p
                .launch_on(Engine::Jit, launch, map, &mut out_i)
                .map(|()| out_i);
        }
        return compare(p, p, launch, map, bufs, start);
    };
    let r = compare(&twin, p, launch, map, bufs, start);
    TWINS.with(|t| t.borrow_mut().push((key, twin)));
    r
}

fn compare(
    interp: &Program,
    p: &Program,
    launch: &Launch<'_>,
    map: &Map,
    bufs: &mut [(Vec<u64>, usize)],
    start: Vec<Vec<u64>>,
) -> Result<Vec<u8>, ExecError> {
    let mut out_i = Vec::new();
    let r_i = interp.launch_on(Engine::Interpreter, launch, map, &mut out_i);
    let after_i: Vec<Vec<u64>> = bufs.iter().map(|(v, _)| v.clone()).collect();
    for ((v, _), s) in bufs.iter_mut().zip(&start) {
        // In place: the kernel's arguments hold these buffers' addresses.
        v.copy_from_slice(s);
    }
    let mut out_j = Vec::new();
    let r_j = p.launch_on(Engine::Jit, launch, map, &mut out_j);
    let what = format!(
        "kernel `{}` ({:?} groups of {:?})",
        launch.kernel, launch.group_count, launch.group_size
    );
    let fault_kind = |r: &Result<(), ExecError>| match r {
        Err(ExecError::OutOfBounds { kernel, .. }) => Some(format!("{kernel}: out of bounds")),
        Err(ExecError::ReadOnly { kernel, .. }) => Some(format!("{kernel}: read-only")),
        _ => None,
    };
    let loose = FAULTS_MAY_DIFFER.with(|c| c.get())
        && fault_kind(&r_i).is_some()
        && fault_kind(&r_i) == fault_kind(&r_j);
    assert_eq!(
        r_i.as_ref().map_err(|e| if loose {
            fault_kind(&r_i).unwrap_or_default()
        } else {
            comparable(e, bufs)
        }),
        r_j.as_ref().map_err(|e| if loose {
            fault_kind(&r_j).unwrap_or_default()
        } else {
            comparable(e, bufs)
        }),
        "{what}: the interpreter and the JIT disagree on the result ({r_i:?} vs {r_j:?})"
    );
    if !NONDETERMINISTIC.with(|c| c.get()) && r_i.is_ok() {
        for (k, ((v, _), a)) in bufs.iter().zip(&after_i).enumerate() {
            if v != a {
                let at = v.iter().zip(a).position(|(x, y)| x != y).unwrap_or(0);
                // HARNESS_DUMP=1: both buffers whole, as 64-bit words.
                if std::env::var_os("HARNESS_DUMP").is_some() {
                    eprintln!("interpreter {a:x?}\nJIT         {v:x?}");
                }
                panic!(
                    "{what}: buffer {k} differs between the interpreter and the JIT from word {at}: interpreter {:#x}, JIT {:#x}",
                    a[at], v[at]
                );
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&out_i),
            String::from_utf8_lossy(&out_j),
            "{what}: printf output differs between the interpreter and the JIT"
        );
    }
    r_j.map(|()| out_j)
}

/// An error as the two engines must agree on it: a fault's address as a place in the test's
/// buffers (with their guard bytes), or "elsewhere" (each engine has its own local and
/// private arenas, at different addresses).
fn comparable(e: &ExecError, bufs: &[(Vec<u64>, usize)]) -> String {
    let place = |a: u64| {
        bufs.iter()
            .enumerate()
            .find_map(|(k, (v, _))| {
                let lo = v.as_ptr() as u64;
                (a >= lo && a < lo + 8 * v.len() as u64)
                    .then(|| format!("buffer {k} + {}", (a - lo) as i64 - GUARD as i64))
            })
            .unwrap_or_else(|| "elsewhere".into())
    };
    match e {
        ExecError::OutOfBounds {
            kernel,
            address,
            size,
            write,
            global_id,
        } => format!(
            "{kernel}: {global_id:?} {size} bytes at {}, write {write}",
            place(*address)
        ),
        ExecError::ReadOnly {
            kernel,
            address,
            size,
            global_id,
        } => format!(
            "{kernel}: {global_id:?} {size} bytes at {} (read-only)",
            place(*address)
        ),
        e => e.to_string(),
    }
}

impl Mem {
    /// Adds a buffer holding `data`; returns its index.
    pub fn add<T: Pod>(&mut self, data: &[T]) -> usize {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let words = (GUARD * 2 + bytes.len()).div_ceil(8);
        let mut v = vec![0u64; words];
        let b: &mut [u8] = bytemuck::cast_slice_mut(&mut v);
        b.fill(GUARD_BYTE);
        b[GUARD..GUARD + bytes.len()].copy_from_slice(bytes);
        self.bufs.push((v, bytes.len()));
        self.bufs.len() - 1
    }

    /// Adds a zeroed buffer of `n` elements.
    pub fn zeros<T: Pod>(&mut self, n: usize) -> usize {
        self.add(&vec![T::zeroed(); n])
    }

    /// Buffer `i`'s contents.
    pub fn get<T: Pod>(&self, i: usize) -> Vec<T> {
        let (v, len) = &self.bufs[i];
        let b: &[u8] = bytemuck::cast_slice(v);
        let mut out = vec![T::zeroed(); len / std::mem::size_of::<T>()];
        bytemuck::cast_slice_mut::<T, u8>(&mut out).copy_from_slice(&b[GUARD..GUARD + len]);
        out
    }

    /// Whether buffer `i`'s guard bytes are intact.
    pub fn guards_intact(&self, i: usize) -> bool {
        let (v, len) = &self.bufs[i];
        let b: &[u8] = bytemuck::cast_slice(v);
        b[..GUARD].iter().all(|&x| x == GUARD_BYTE)
            && b[GUARD + len..GUARD * 2 + len]
                .iter()
                .all(|&x| x == GUARD_BYTE)
    }

    fn addr(&self, i: usize) -> u64 {
        self.bufs[i].0.as_ptr() as u64 + GUARD as u64
    }

    /// Launches `kernel`; returns the printf output.
    pub fn launch(
        &mut self,
        p: &Program,
        kernel: &str,
        args: &[A],
        group_size: [u32; 3],
        group_count: [u32; 3],
        global_offset: [u32; 3],
    ) -> Result<String, ExecError> {
        let bytes: Vec<Vec<u8>> = args
            .iter()
            .map(|a| match a {
                A::Buf(i) => self.addr(*i).to_le_bytes().to_vec(),
                A::BufAt(i, off) => (self.addr(*i) + off).to_le_bytes().to_vec(),
                A::Val(v) => v.clone(),
                A::Local(_) => vec![],
            })
            .collect();
        let values: Vec<ArgValue<'_>> = args
            .iter()
            .zip(&bytes)
            .map(|(a, b)| match a {
                A::Local(n) => ArgValue::Local(*n),
                _ => ArgValue::Bytes(b),
            })
            .collect();
        let map = Map(self
            .bufs
            .iter()
            .enumerate()
            .map(|(i, (_, len))| (self.addr(i), *len as u64))
            .collect());
        let launch = Launch {
            kernel,
            args: &values,
            group_size,
            group_count,
            global_offset,
        };
        let out = both_engines(p, &launch, &map, &mut self.bufs)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Launches `kernel` with engine-only arguments (images and samplers): see [`EArg`].
    pub fn launch_with(
        &mut self,
        p: &Program,
        kernel: &str,
        args: &[EArg],
        group_size: [u32; 3],
        group_count: [u32; 3],
    ) -> Result<String, ExecError> {
        let bytes: Vec<Vec<u8>> = args
            .iter()
            .map(|a| match a {
                EArg::Buf(i) => self.addr(*i).to_le_bytes().to_vec(),
                EArg::Val(v) => v.clone(),
                _ => vec![],
            })
            .collect();
        let values: Vec<ArgValue<'_>> = args
            .iter()
            .zip(&bytes)
            .map(|(a, b)| match a {
                EArg::Image(i, img) => {
                    let f = img.format;
                    let texel = u64::from(f.channels) * u64::from(f.channel_bytes);
                    let row = texel * u64::from(img.extent[0]);
                    ArgValue::Image(level_zero_cpu_spirv::ImageArg {
                        base: self.addr(*i),
                        dim: img.dim,
                        extent: img.extent,
                        row_pitch: row,
                        slice_pitch: row * u64::from(img.extent[1]),
                        format: f,
                    })
                }
                EArg::Sampler(s) => ArgValue::Sampler(*s),
                _ => ArgValue::Bytes(b),
            })
            .collect();
        let map = Map(self
            .bufs
            .iter()
            .enumerate()
            .map(|(i, (_, len))| (self.addr(i), *len as u64))
            .collect());
        let launch = Launch {
            kernel,
            args: &values,
            group_size,
            group_count,
            global_offset: [0; 3],
        };
        let out = both_engines(p, &launch, &map, &mut self.bufs)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A 1-D launch of `n` work-items in groups of `g`.
    pub fn run1(
        &mut self,
        p: &Program,
        kernel: &str,
        args: &[A],
        n: u32,
        g: u32,
    ) -> Result<String, ExecError> {
        assert_eq!(n % g, 0);
        self.launch(p, kernel, args, [g, 1, 1], [n / g, 1, 1], [0; 3])
    }
}
