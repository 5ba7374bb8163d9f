//! The three cases of a build: tools present (compiled and validated), tools absent
//! (the committed module, with a warning naming the missing tool), neither (an error).
//! Runnable without clang: the fallback cases name tools that do not exist.

use std::path::{Path, PathBuf};

use level_zero_build::{Kernels, Origin, Source};

/// The workspace's kernels.
fn kernels() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels")
}

/// A fresh output directory under the target directory.
fn out_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

const SPIRV_MAGIC: [u8; 4] = [0x03, 0x02, 0x23, 0x07];

#[test]
fn with_the_tools_a_source_is_compiled_and_validated() {
    let out = out_dir("present");
    let r = Kernels::new()
        .source(kernels().join("vector_add.cl"))
        .out_dir(&out)
        .print_directives(false)
        .compile()
        .unwrap();
    let m = &r.modules[0];
    assert_eq!(m.path, out.join("vector_add.spv"));
    let bytes = std::fs::read(&m.path).unwrap();
    assert_eq!(bytes[..4], SPIRV_MAGIC);
    match &m.origin {
        Origin::Compiled { validated } => {
            println!("compiled, validated: {validated}");
            // With bookworm's clang-15 + llvm-spirv-15 the module is the committed one
            // (build.sh's flags, deterministic output).
            let committed = std::fs::read(kernels().join("spv/vector_add.O2.spv")).unwrap();
            let clang15 = std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("clang-15").is_file()));
            if clang15 && std::env::var_os(level_zero_build::CLANG_VAR).is_none() {
                assert_eq!(bytes, committed, "not what kernels/build.sh produces");
            }
        }
        Origin::Committed { reason, .. } => {
            eprintln!("SKIPPED (no compiler here): {reason}");
            return;
        }
    }
    assert!(
        r.directives
            .iter()
            .any(|d| d.starts_with("cargo:rerun-if-changed=") && d.ends_with("vector_add.cl")),
        "{:?}",
        r.directives
    );
    assert!(r.directives.iter().all(|d| !d.starts_with("cargo:warning")));
}

#[test]
fn a_source_that_does_not_compile_is_an_error_not_a_fallback() {
    let out = out_dir("broken");
    std::fs::create_dir_all(&out).unwrap();
    let src = out.join("broken.cl");
    std::fs::write(
        &src,
        "__kernel void broken(__global int *p) { p[0] = undeclared; }\n",
    )
    .unwrap();
    // A committed module exists: it must not hide the error.
    std::fs::copy(kernels().join("spv/empty.O2.spv"), out.join("broken.spv")).unwrap();
    let r = Kernels::new()
        .source(&src)
        .out_dir(out.join("out"))
        .print_directives(false)
        .compile();
    match r {
        Ok(c) => match &c.modules[0].origin {
            Origin::Committed { reason, .. } => eprintln!("SKIPPED (no compiler here): {reason}"),
            o => panic!("a broken source compiled: {o:?}"),
        },
        Err(e) => {
            let e = e.to_string();
            assert!(e.contains("broken.cl") && e.contains("clang failed"), "{e}");
            assert!(e.contains("undeclared"), "{e}");
        }
    }
}

#[test]
fn without_the_tools_the_committed_module_is_used_with_a_warning() {
    let out = out_dir("absent");
    let committed = kernels().join("spv/vector_add.O2.spv");
    let r = Kernels::new()
        .source(Source::new(kernels().join("vector_add.cl")).committed(&committed))
        .clang("/nonexistent/clang-15")
        .llvm_spirv("/nonexistent/llvm-spirv-15")
        .out_dir(&out)
        .print_directives(false)
        .compile()
        .unwrap();
    let m = &r.modules[0];
    assert_eq!(
        std::fs::read(&m.path).unwrap(),
        std::fs::read(&committed).unwrap()
    );
    let Origin::Committed { path, reason } = &m.origin else {
        panic!("{:?}", m.origin)
    };
    assert_eq!(path, &committed);
    let warnings: Vec<_> = r
        .directives
        .iter()
        .filter(|d| d.starts_with("cargo:warning="))
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", r.directives);
    assert!(
        warnings[0].contains("/nonexistent/clang-15 does not exist")
            && warnings[0].contains("using the committed")
            && warnings[0].contains("vector_add.O2.spv"),
        "{}",
        warnings[0]
    );
    assert!(reason.contains("clang"), "{reason}");
    // The committed module is watched too.
    assert!(
        r.directives
            .iter()
            .any(|d| d == &format!("cargo:rerun-if-changed={}", committed.display()))
    );
}

#[test]
fn without_tools_or_a_committed_module_the_build_fails_saying_both() {
    let out = out_dir("neither");
    let e = Kernels::new()
        // kernels/vector_add.spv does not exist (the committed one is under spv/).
        .source(kernels().join("vector_add.cl"))
        .clang("/nonexistent/clang")
        .llvm_spirv("/nonexistent/llvm-spirv")
        .out_dir(&out)
        .print_directives(false)
        .compile()
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("vector_add.cl"), "{text}");
    assert!(text.contains("/nonexistent/clang does not exist"), "{text}");
    assert!(
        text.contains("no committed SPIR-V at") && text.contains("kernels/vector_add.spv"),
        "{text}"
    );
    assert!(!out.join("vector_add.spv").exists());
}
