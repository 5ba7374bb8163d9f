//! Test helpers: a MemoryMap over Rust-owned buffers with guard bytes around each buffer,
//! and launching kernels from the committed `.spv` files.
#![allow(dead_code)]

use bytemuck::Pod;
use level_zero_cpu_spirv::{ArgValue, BuildOptions, ExecError, Launch, MemoryMap, Program};

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
    Program::build(&spv(name, opt), &options)
        .unwrap_or_else(|e| panic!("{name}.{opt} failed to build:\n{}", e.log))
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
        let mut out: Vec<u8> = Vec::new();
        p.launch(
            &Launch {
                kernel,
                args: &values,
                group_size,
                group_count,
                global_offset,
            },
            &map,
            &mut out,
        )?;
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
        let mut out: Vec<u8> = Vec::new();
        p.launch(
            &Launch {
                kernel,
                args: &values,
                group_size,
                group_count,
                global_offset: [0; 3],
            },
            &map,
            &mut out,
        )?;
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
