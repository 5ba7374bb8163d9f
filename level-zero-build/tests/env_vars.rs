//! The tool variables: naming tools that do not exist makes the build fall back, as on a
//! machine without clang. (Its own test binary: it sets environment variables.)

use std::path::Path;

use level_zero_build::{CLANG_VAR, Kernels, LLVM_SPIRV_VAR, Origin, Source};

#[test]
fn tool_variables_naming_missing_tools_fall_back_on_the_committed_module() {
    // SAFETY: the only test of this binary: no other thread reads the environment.
    unsafe {
        std::env::set_var(CLANG_VAR, "/nonexistent/clang");
        std::env::set_var(LLVM_SPIRV_VAR, "/nonexistent/llvm-spirv");
    }
    let kernels = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("env_vars");
    let r = Kernels::new()
        .source(Source::new(kernels.join("saxpy.cl")).committed(kernels.join("spv/saxpy.O2.spv")))
        .out_dir(&out)
        .print_directives(false)
        .compile()
        .unwrap();
    let Origin::Committed { reason, .. } = &r.modules[0].origin else {
        panic!("{:?}", r.modules[0].origin)
    };
    assert!(
        reason.starts_with("LEVEL_ZERO_CLANG=/nonexistent/clang does not exist"),
        "{reason}"
    );
    assert!(
        r.directives
            .iter()
            .any(|d| d == "cargo:rerun-if-env-changed=LEVEL_ZERO_CLANG")
    );
}
