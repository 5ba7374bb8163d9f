//! Compiles OpenCL C kernels to SPIR-V from a `build.rs`, for [`level-zero`]'s
//! `Module::from_spirv`, with the toolchain's known traps handled, and a committed `.spv` to
//! fall back on where the tools are not installed.
//!
//! ```no_run
//! // build.rs's `main` (with `level-zero-build` in [build-dependencies]):
//! level_zero_build::Kernels::new()
//!     .source("kernels/vector_add.cl") // falls back on kernels/vector_add.spv
//!     .compile()
//!     .unwrap_or_else(|e| panic!("{e}"));
//! ```
//!
//! and in the crate: `level_zero::include_spirv!("vector_add")`, i.e.
//! `include_bytes!(concat!(env!("OUT_DIR"), "/vector_add.spv"))`.
//!
//! # What happens
//!
//! For each source, with `clang` and `llvm-spirv` found (see [Tools](#tools)):
//!
//! ```sh
//! clang -cl-std=CL1.2 -target spir64 -O2 -fno-vectorize -fno-slp-vectorize -emit-llvm -c k.cl -o $OUT_DIR/k.bc
//! llvm-spirv --spirv-max-version=1.0 $OUT_DIR/k.bc -o $OUT_DIR/k.spv
//! spirv-val --target-env opencl1.2 $OUT_DIR/k.spv      # when spirv-val is found
//! ```
//!
//! A failed compilation or validation is an error (never a fallback): a broken kernel must
//! not build with a stale committed module. Without `clang` or `llvm-spirv`, the committed
//! module (`k.spv` next to `k.cl`, or the path given with [`Source::committed`]) is copied
//! to `$OUT_DIR/k.spv` and a `cargo:warning=` says which tool is missing and which file is
//! used; without a committed module either, the build fails saying both. Every source and
//! committed module is a `cargo:rerun-if-changed`, every tool variable a
//! `cargo:rerun-if-env-changed`.
//!
//! # Tools
//!
//! - `LEVEL_ZERO_CLANG`, `LEVEL_ZERO_LLVM_SPIRV`, `LEVEL_ZERO_SPIRV_VAL`: a path or a
//!   command name. Set to something that does not exist, the tool counts as missing (how the
//!   fallback is tested on machines that have the tools).
//! - Otherwise `PATH` is searched for `clang-N` with its `llvm-spirv-N` (N = 15, then 16 to
//!   21, then 14: llvm-spirv reads only its own LLVM version's bitcode), then `clang` with
//!   `llvm-spirv`; and `spirv-val`.
//!
//! # Toolchain traps (clang 15 + llvm-spirv 15, Debian bookworm)
//!
//! - `--spirv-max-version=1.0`: otherwise llvm-spirv may emit SPIR-V 1.4, which `spirv-val`
//!   rejects for OpenCL 1.2 (and older drivers cannot load).
//! - `-fno-vectorize -fno-slp-vectorize` at `-O1` and above: the vectorizers emit LLVM
//!   `freeze`, which llvm-spirv 15 cannot translate.
//! - `freeze` also comes from the DivRemPairs pass when a function computes both `x / y` and
//!   `x % y` of the same operands; no flag avoids it: write `x % (y | 1)` or split the work
//!   (see the workspace's `kernels/README.md`).
//! - `-O2` may compute loop closed forms in odd-width integers (`i33`), which llvm-spirv
//!   rejects ("Invalid bit width") unless `--spirv-ext=+SPV_INTEL_arbitrary_precision_integers`
//!   (a source header line, below).
//!
//! # Source header lines
//!
//! As the workspace's `kernels/build.sh` reads them, anywhere in the source:
//! `// build: -cl-std=CL2.0` (OpenCL C version; default CL1.2), `// clang: FLAGS` (more clang
//! flags), `// spirv: 1.3` (SPIR-V version; default 1.0), `// spirv-ext: +SPV_A,+SPV_B`
//! (extensions llvm-spirv may use). The `spirv-val` environment follows: `opencl1.2` or
//! `opencl2.0` for SPIR-V 1.0, else `spv1.x`.
//!
//! [`level-zero`]: https://docs.rs/level-zero

#![warn(missing_docs)]

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variables naming the tools.
pub const CLANG_VAR: &str = "LEVEL_ZERO_CLANG";
/// See [`CLANG_VAR`].
pub const LLVM_SPIRV_VAR: &str = "LEVEL_ZERO_LLVM_SPIRV";
/// See [`CLANG_VAR`].
pub const SPIRV_VAL_VAR: &str = "LEVEL_ZERO_SPIRV_VAL";

/// LLVM versions searched for a `clang-N` + `llvm-spirv-N` pair, in order.
const VERSIONS: [u32; 8] = [15, 16, 17, 18, 19, 20, 21, 14];

/// One OpenCL C source to compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    path: PathBuf,
    committed: Option<PathBuf>,
    validate: bool,
}

impl Source {
    /// The source at `path` (relative paths are relative to the build script's working
    /// directory: the package's root).
    pub fn new(path: impl Into<PathBuf>) -> Source {
        Source {
            path: path.into(),
            committed: None,
            validate: true,
        }
    }

    /// The committed SPIR-V used when the tools are missing (default: the source's path
    /// with the extension `.spv`).
    pub fn committed(mut self, path: impl Into<PathBuf>) -> Source {
        self.committed = Some(path.into());
        self
    }

    /// Skips `spirv-val` for this source (modules `spirv-val` rejects although they are
    /// correct: see the workspace's `kernels/README.md`).
    pub fn no_validate(mut self) -> Source {
        self.validate = false;
        self
    }

    fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "kernel".into())
    }

    fn committed_path(&self) -> PathBuf {
        self.committed
            .clone()
            .unwrap_or_else(|| self.path.with_extension("spv"))
    }
}

impl<P: Into<PathBuf>> From<P> for Source {
    fn from(p: P) -> Source {
        Source::new(p)
    }
}

/// Where a module came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Compiled from the source now.
    Compiled {
        /// Whether `spirv-val` checked it (false: not found, or [`Source::no_validate`]).
        validated: bool,
    },
    /// The committed module, because a tool is missing.
    Committed {
        /// The committed file.
        path: PathBuf,
        /// Why it was used (which tool is missing).
        reason: String,
    },
}

/// A SPIR-V module ready to embed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spirv {
    /// The source's file stem (`vector_add` for `kernels/vector_add.cl`).
    pub name: String,
    /// The module in the output directory: `$OUT_DIR/<name>.spv`.
    pub path: PathBuf,
    /// Compiled or committed.
    pub origin: Origin,
}

/// The outcome of [`Kernels::compile`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// One module per source, in order.
    pub modules: Vec<Spirv>,
    /// The `cargo:` lines (also printed, unless [`Kernels::print_directives`] is off).
    pub directives: Vec<String>,
}

/// Why a build failed.
#[derive(Debug)]
pub struct Error {
    /// The source concerned (empty for problems with the set-up).
    pub source: PathBuf,
    /// What went wrong, for the build's output.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.as_os_str().is_empty() {
            write!(f, "level-zero-build: {}", self.message)
        } else {
            write!(
                f,
                "level-zero-build: {}: {}",
                self.source.display(),
                self.message
            )
        }
    }
}

impl std::error::Error for Error {}

/// A tool to run, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tool {
    Found(PathBuf),
    Missing(String),
}

/// Compiles OpenCL C sources to SPIR-V (see the crate's documentation).
#[derive(Clone, Debug)]
pub struct Kernels {
    sources: Vec<Source>,
    out_dir: Option<PathBuf>,
    opt_level: u8,
    clang: Option<OsString>,
    llvm_spirv: Option<OsString>,
    spirv_val: Option<OsString>,
    print: bool,
}

impl Default for Kernels {
    fn default() -> Self {
        Kernels::new()
    }
}

impl Kernels {
    /// No sources yet; `-O2`; output into `$OUT_DIR`; tools from the environment.
    pub fn new() -> Kernels {
        Kernels {
            sources: Vec::new(),
            out_dir: None,
            opt_level: 2,
            clang: None,
            llvm_spirv: None,
            spirv_val: None,
            print: true,
        }
    }

    /// Adds a source: a path (`"kernels/foo.cl"`) or a [`Source`].
    pub fn source(mut self, source: impl Into<Source>) -> Kernels {
        self.sources.push(source.into());
        self
    }

    /// The optimisation level, 0 to 3 (default 2).
    pub fn opt_level(mut self, level: u8) -> Kernels {
        self.opt_level = level.min(3);
        self
    }

    /// The output directory (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Kernels {
        self.out_dir = Some(dir.into());
        self
    }

    /// The clang to use, overriding `LEVEL_ZERO_CLANG` and the search.
    pub fn clang(mut self, tool: impl Into<OsString>) -> Kernels {
        self.clang = Some(tool.into());
        self
    }

    /// The llvm-spirv to use, overriding `LEVEL_ZERO_LLVM_SPIRV` and the search.
    pub fn llvm_spirv(mut self, tool: impl Into<OsString>) -> Kernels {
        self.llvm_spirv = Some(tool.into());
        self
    }

    /// The spirv-val to use, overriding `LEVEL_ZERO_SPIRV_VAL` and the search.
    pub fn spirv_val(mut self, tool: impl Into<OsString>) -> Kernels {
        self.spirv_val = Some(tool.into());
        self
    }

    /// Whether to print the `cargo:` lines (default: yes, as a build script must).
    pub fn print_directives(mut self, print: bool) -> Kernels {
        self.print = print;
        self
    }

    /// Compiles every source (or takes its committed module), into the output directory.
    pub fn compile(self) -> Result<Compiled, Error> {
        let setup = |message: String| Error {
            source: PathBuf::new(),
            message,
        };
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    setup(
                        "OUT_DIR is not set: run from a build script, or set Kernels::out_dir"
                            .into(),
                    )
                })?,
        };
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| setup(format!("cannot create {}: {e}", out_dir.display())))?;
        let mut directives = Vec::new();
        for var in [CLANG_VAR, LLVM_SPIRV_VAR, SPIRV_VAL_VAR] {
            directives.push(format!("cargo:rerun-if-env-changed={var}"));
        }
        let env = |var: &str| std::env::var_os(var);
        let (clang, llvm_spirv) = find_compilers(self.clang.clone(), self.llvm_spirv.clone(), &env);
        let spirv_val = match (self.spirv_val.clone(), env(SPIRV_VAL_VAR)) {
            (Some(t), _) => lookup(&t, "Kernels::spirv_val"),
            (None, Some(t)) => lookup(&t, SPIRV_VAL_VAR),
            (None, None) => lookup(&OsString::from("spirv-val"), "PATH"),
        };
        let mut modules = Vec::new();
        for source in &self.sources {
            directives.push(format!("cargo:rerun-if-changed={}", source.path.display()));
            let committed = source.committed_path();
            if committed.exists() {
                directives.push(format!("cargo:rerun-if-changed={}", committed.display()));
            }
            let fail = |message: String| Error {
                source: source.path.clone(),
                message,
            };
            let out = out_dir.join(format!("{}.spv", source.stem()));
            let missing = match (&clang, &llvm_spirv) {
                (Tool::Found(c), Tool::Found(l)) => {
                    let text = std::fs::read_to_string(&source.path)
                        .map_err(|e| fail(format!("cannot read the source: {e}")))?;
                    let header = Header::parse(&text);
                    self.translate(source, &header, c, l, &out, &out_dir)
                        .map_err(fail)?;
                    let validated = match (&spirv_val, source.validate) {
                        (Tool::Found(v), true) => {
                            validate(v, &header, &out).map_err(fail)?;
                            true
                        }
                        _ => false,
                    };
                    modules.push(Spirv {
                        name: source.stem(),
                        path: out,
                        origin: Origin::Compiled { validated },
                    });
                    continue;
                }
                (Tool::Missing(why), _) | (_, Tool::Missing(why)) => why.clone(),
            };
            if !committed.is_file() {
                return Err(fail(format!(
                    "cannot compile it ({missing}) and there is no committed SPIR-V at {} \
                     (install clang and llvm-spirv of one LLVM version, set {CLANG_VAR} and \
                     {LLVM_SPIRV_VAR}, or commit the module there)",
                    committed.display()
                )));
            }
            std::fs::copy(&committed, &out).map_err(|e| {
                fail(format!(
                    "cannot copy {} to {}: {e}",
                    committed.display(),
                    out.display()
                ))
            })?;
            let reason = format!(
                "{missing}: using the committed {} for {}",
                committed.display(),
                source.path.display()
            );
            directives.push(format!("cargo:warning=level-zero-build: {reason}"));
            modules.push(Spirv {
                name: source.stem(),
                path: out,
                origin: Origin::Committed {
                    path: committed,
                    reason,
                },
            });
        }
        if self.print {
            for d in &directives {
                println!("{d}");
            }
        }
        Ok(Compiled {
            modules,
            directives,
        })
    }

    /// clang, then llvm-spirv.
    fn translate(
        &self,
        source: &Source,
        header: &Header,
        clang: &Path,
        llvm_spirv: &Path,
        out: &Path,
        out_dir: &Path,
    ) -> Result<(), String> {
        let bc = out_dir.join(format!("{}.bc", source.stem()));
        let mut c = Command::new(clang);
        c.arg(format!("-cl-std={}", header.cl_std))
            .args(["-target", "spir64"])
            .arg(format!("-O{}", self.opt_level));
        if self.opt_level > 0 {
            // The vectorizers emit `freeze`, which llvm-spirv 15 cannot translate.
            c.args(["-fno-vectorize", "-fno-slp-vectorize"]);
        }
        c.args(["-emit-llvm", "-c"])
            .args(&header.clang_flags)
            .arg(&source.path)
            .arg("-o")
            .arg(&bc);
        run(c, "clang")?;
        let mut l = Command::new(llvm_spirv);
        // Without a maximum, llvm-spirv may emit SPIR-V 1.4.
        l.arg(format!("--spirv-max-version={}", header.spirv));
        if let Some(ext) = &header.spirv_ext {
            l.arg(format!("--spirv-ext={ext}"));
        }
        l.arg(&bc).arg("-o").arg(out);
        run(l, "llvm-spirv")
    }
}

/// Runs a tool, turning a failure into a message with its output.
fn run(mut c: Command, what: &str) -> Result<(), String> {
    let shown = format!("{c:?}");
    let out = c
        .output()
        .map_err(|e| format!("{what} could not be started ({shown}): {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}): {shown}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn validate(spirv_val: &Path, header: &Header, spv: &Path) -> Result<(), String> {
    let env = match (header.spirv.as_str(), header.cl_std.as_str()) {
        ("1.0", "CL2.0") => "opencl2.0".to_string(),
        ("1.0", _) => "opencl1.2".to_string(),
        // No OpenCL environment of spirv-val takes SPIR-V 1.1 to 1.4.
        (v, _) => format!("spv{v}"),
    };
    let mut c = Command::new(spirv_val);
    c.args(["--target-env", &env]).arg(spv);
    run(c, "spirv-val")
}

/// What a source's header lines ask for (see the crate's documentation).
#[derive(Debug, PartialEq, Eq)]
struct Header {
    cl_std: String,
    clang_flags: Vec<String>,
    spirv: String,
    spirv_ext: Option<String>,
}

impl Header {
    fn parse(text: &str) -> Header {
        let line = |prefix: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string()))
        };
        Header {
            cl_std: line("// build: -cl-std=")
                .and_then(|r| r.split_whitespace().next().map(str::to_string))
                .unwrap_or_else(|| "CL1.2".into()),
            clang_flags: line("// clang:")
                .map(|r| r.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            spirv: line("// spirv:")
                .and_then(|r| r.split_whitespace().next().map(str::to_string))
                .unwrap_or_else(|| "1.0".into()),
            spirv_ext: line("// spirv-ext:").filter(|r| !r.is_empty()),
        }
    }
}

/// Finds clang and llvm-spirv: the overrides or variables, else a `clang-N`/`llvm-spirv-N`
/// pair on `PATH`, else `clang`/`llvm-spirv`.
fn find_compilers(
    clang: Option<OsString>,
    llvm_spirv: Option<OsString>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> (Tool, Tool) {
    let clang = clang
        .map(|c| (c, "Kernels::clang"))
        .or_else(|| env(CLANG_VAR).map(|c| (c, CLANG_VAR)));
    let llvm_spirv = llvm_spirv
        .map(|c| (c, "Kernels::llvm_spirv"))
        .or_else(|| env(LLVM_SPIRV_VAR).map(|c| (c, LLVM_SPIRV_VAR)));
    match (clang, llvm_spirv) {
        (Some((c, co)), Some((l, lo))) => (lookup(&c, co), lookup(&l, lo)),
        (Some((c, co)), None) => {
            let c = lookup(&c, co);
            // The llvm-spirv of the named clang's version, when its name says it.
            let version = match &c {
                Tool::Found(p) => p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_prefix("clang-"))
                    .map(str::to_string),
                Tool::Missing(_) => None,
            };
            let l = version
                .map(|v| lookup(&OsString::from(format!("llvm-spirv-{v}")), "PATH"))
                .filter(|t| matches!(t, Tool::Found(_)))
                .unwrap_or_else(|| lookup(&OsString::from("llvm-spirv"), "PATH"));
            (c, l)
        }
        (None, Some((l, lo))) => {
            let l = lookup(&l, lo);
            (search(&["clang"]), l)
        }
        (None, None) => {
            for v in VERSIONS {
                let (c, l) = (
                    search(&[&format!("clang-{v}")]),
                    search(&[&format!("llvm-spirv-{v}")]),
                );
                if matches!((&c, &l), (Tool::Found(_), Tool::Found(_))) {
                    return (c, l);
                }
            }
            let versions = "no clang-N with its llvm-spirv-N (N = 14 to 21) either";
            let note = |t: Tool| match t {
                Tool::Missing(m) => Tool::Missing(format!("{m}, and {versions}")),
                found => found,
            };
            (note(search(&["clang"])), note(search(&["llvm-spirv"])))
        }
    }
}

fn search(names: &[&str]) -> Tool {
    for n in names {
        if let Tool::Found(p) = lookup(&OsString::from(n), "PATH") {
            return Tool::Found(p);
        }
    }
    Tool::Missing(format!("{} not found on PATH", names.join(", ")))
}

/// `tool` as given by `origin` (a variable, or `PATH`): a path (with a separator) that must
/// be a file, or a name searched on `PATH`.
fn lookup(tool: &OsString, origin: &str) -> Tool {
    let p = Path::new(tool);
    let named_by = if origin == "PATH" {
        String::new()
    } else {
        format!("{origin}=")
    };
    if p.components().count() > 1 || p.is_absolute() {
        return if p.is_file() {
            Tool::Found(p.to_path_buf())
        } else {
            Tool::Missing(format!("{named_by}{} does not exist", p.display()))
        };
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(p))
            .find(|c| c.is_file())
    });
    match found {
        Some(f) => Tool::Found(f),
        None => Tool::Missing(format!("{named_by}{} not found on PATH", p.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_read_as_build_sh_reads_them() {
        let h = Header::parse(
            "// build: -cl-std=CL2.0\n// clang: -Xclang -cl-ext=+cl_khr_fp64\n// spirv: 1.3\n// spirv-ext: +SPV_INTEL_x\n__kernel void k() {}",
        );
        assert_eq!(
            h,
            Header {
                cl_std: "CL2.0".into(),
                clang_flags: vec!["-Xclang".into(), "-cl-ext=+cl_khr_fp64".into()],
                spirv: "1.3".into(),
                spirv_ext: Some("+SPV_INTEL_x".into()),
            }
        );
        let d = Header::parse("__kernel void k() {}");
        assert_eq!((d.cl_std.as_str(), d.spirv.as_str()), ("CL1.2", "1.0"));
        assert!(d.clang_flags.is_empty() && d.spirv_ext.is_none());
    }

    #[test]
    fn tool_variables_naming_nothing_make_the_tools_missing() {
        let env = |var: &str| match var {
            CLANG_VAR => Some(OsString::from("/nonexistent/clang")),
            LLVM_SPIRV_VAR => Some(OsString::from("no-such-llvm-spirv-anywhere")),
            _ => None,
        };
        let (c, l) = find_compilers(None, None, &env);
        assert_eq!(
            c,
            Tool::Missing("LEVEL_ZERO_CLANG=/nonexistent/clang does not exist".into())
        );
        assert_eq!(
            l,
            Tool::Missing(
                "LEVEL_ZERO_LLVM_SPIRV=no-such-llvm-spirv-anywhere not found on PATH".into()
            )
        );
        // Overrides win over the variables.
        let (c, _) = find_compilers(Some("/also/nonexistent".into()), None, &env);
        assert_eq!(
            c,
            Tool::Missing("Kernels::clang=/also/nonexistent does not exist".into())
        );
    }
}
