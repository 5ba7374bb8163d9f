//! Compiles the `kernel_launch` example's kernels from `kernels/*.cl` (clang + llvm-spirv,
//! when installed) into `OUT_DIR`; without the tools, the committed `kernels/spv/*.O2.spv`
//! are used, and cargo prints a warning saying which tool is missing.

fn main() {
    let mut kernels = level_zero_build::Kernels::new();
    for name in ["vector_add", "saxpy"] {
        kernels = kernels.source(
            level_zero_build::Source::new(format!("kernels/{name}.cl"))
                .committed(format!("kernels/spv/{name}.O2.spv")),
        );
    }
    if let Err(e) = kernels.compile() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
