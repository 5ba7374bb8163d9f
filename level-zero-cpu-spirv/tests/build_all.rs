//! Every committed module builds.
mod common;

#[test]
fn every_committed_module_builds() {
    let dir = format!("{}/../kernels/spv", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    let mut failures = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        match level_zero_cpu_spirv::Program::build(&bytes, &Default::default()) {
            Ok(p) => assert!(!p.kernels().is_empty(), "{}", path.display()),
            Err(e) => failures.push(format!("{}: {}", path.display(), e.log)),
        }
        n += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(n >= 40);
}
