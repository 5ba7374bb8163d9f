//! What the per-kernel cases (`kernel_cases.rs`) cannot check through a driver, checked on
//! the engine's API: program-scope variables (names, sizes, initial bytes), argument kinds,
//! and the text printf produces (the engine hands it to the caller; drivers print it).

mod common;
use common::*;
use level_zero_cpu_spirv::ArgKind;

both!(globals, |opt| {
    let p = program("globals", opt);
    // The program-scope variables are listed with their sizes and initialised.
    let names: Vec<&str> = p.globals().iter().map(|g| g.name.as_str()).collect();
    for (name, size) in [("table", 32usize), ("params", 8), ("weights", 16)] {
        let g = p
            .globals()
            .iter()
            .find(|g| g.name == name)
            .unwrap_or_else(|| panic!("{name} not in {names:?}"));
        assert_eq!(g.size, size, "{name}");
    }
    let t = p.globals().iter().find(|g| g.name == "table").unwrap();
    // SAFETY: the program owns `table`'s 32 bytes at this address for its lifetime.
    let bytes = unsafe { std::slice::from_raw_parts(t.address as *const u8, t.size) };
    let table: Vec<i32> = bytes
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    // `kernel_cases.rs` computes the `globals` kernel's reference with these values.
    assert_eq!(table, [1, 1, 2, 3, 5, 8, 13, 21]);
});

both!(globals20, |opt| {
    let p = program("globals20", opt);
    let names: Vec<&str> = p.globals().iter().map(|g| g.name.as_str()).collect();
    assert!(
        names.contains(&"counter") && names.contains(&"scale"),
        "{names:?}"
    );
});

both!(structs, |opt| {
    let p = program("structs", opt);
    let info = p.kernel("structs").unwrap();
    assert_eq!(info.args[0].kind, ArgKind::Value);
    assert_eq!(info.args[0].size, 12);
});

both!(printf, |opt| {
    let p = program("printf", opt);
    let n = 8usize;
    let d: Vec<i32> = (0..n as i32).map(|i| i * 7 - 3).collect();
    let f: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 + 0.125).collect();
    let mut m = Mem::default();
    let (id, i_f) = (m.add(&d), m.add(&f));
    let text = m
        .run1(&p, "printf_kernel", &[A::Buf(id), A::Buf(i_f)], n as u32, 4)
        .unwrap();
    let mut want = String::new();
    for i in 0..n {
        let e = format!("{:e}", f[i] as f64);
        // C's %e: 6 decimals, two-digit exponent.
        let (mant, exp) = e.split_once('e').unwrap();
        let mant: f64 = mant.parse().unwrap();
        let exp: i32 = exp.parse().unwrap();
        let e = format!(
            "{mant:.6}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
        want.push_str(&format!(
            "item {i}: d={} x={:x} f={:.3} e={e} s=ok c={}%\n",
            d[i],
            d[i],
            f[i],
            (b'A' + i as u8) as char
        ));
    }
    assert_eq!(text, want);
});

#[test]
fn every_test_file_is_a_test_target() {
    // The crate lists its test crates (`autotests = false`, for `kernel_cases.rs`): a test
    // file missing from the list would silently not run.
    let dir = env!("CARGO_MANIFEST_DIR");
    let manifest = std::fs::read_to_string(format!("{dir}/Cargo.toml")).unwrap();
    for e in std::fs::read_dir(format!("{dir}/tests")).unwrap() {
        let path = e.unwrap().path();
        let (Some(stem), Some("rs")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        if stem != "kernel_cases" {
            assert!(
                manifest.contains(&format!("[[test]]\nname = \"{stem}\"")),
                "tests/{stem}.rs is not listed as a [[test]] in Cargo.toml"
            );
        }
    }
}

both!(
    kernels_run_compiled_unless_their_work_items_must_run_in_lockstep,
    |opt| {
        use level_zero_cpu_spirv::{Engine, KernelEngine};
        let jit = KernelEngine {
            engine: Engine::Jit,
            fallback: None,
        };
        for (module, kernel) in [
            ("vector_add", "vector_add"),
            ("matmul", "matmul_naive"),
            ("matmul", "matmul_tiled"),
            ("barriers", "barriers"),
            ("printf", "printf_kernel"),
        ] {
            let p = program(module, opt);
            assert_eq!(
                p.kernel_engine(kernel),
                Some(jit.clone()),
                "{module}: {kernel}"
            );
        }
        // Sub-group collectives: their work-items run in lockstep, on the interpreter, and the
        // reason names the instruction.
        let p = program("subgroups_khr", opt);
        let k = &p.kernels()[0].name;
        let e = p.kernel_engine(k).unwrap();
        assert_eq!(e.engine, Engine::Interpreter, "{k}");
        let why = e.fallback.unwrap();
        assert!(why.contains("lockstep"), "{why}");
        // Asked for the interpreter, a program runs every kernel there, with no fallback.
        let options = level_zero_cpu_spirv::BuildOptions {
            engine: Engine::Interpreter,
            ..Default::default()
        };
        let p = level_zero_cpu_spirv::Program::build(&spv("vector_add", opt), &options).unwrap();
        assert_eq!(
            p.kernel_engine("vector_add"),
            Some(KernelEngine {
                engine: Engine::Interpreter,
                fallback: None
            })
        );
        assert_eq!(p.kernel_engine("no_such_kernel"), None);
    }
);
