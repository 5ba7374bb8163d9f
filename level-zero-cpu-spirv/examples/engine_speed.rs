//! Measures the engine on the benchmark kernels (release build recommended):
//! `cargo run --release -p level-zero-cpu-spirv --example engine_speed [O0|O2]`.
//!
//! vector_add on 2^24 floats and 1024x1024 matmul (naive and tiled), best of a few runs, on
//! the JIT (`ENGINE=interpreter`: the interpreter; `UNCHECKED=1`: compiled without checks).

use level_zero_cpu_spirv::{ArgValue, BuildOptions, Engine, Launch, MemoryMap, Program};
use std::time::Instant;

struct Map(Vec<(u64, u64)>);

// SAFETY: the ranges are the example's own buffers, which outlive every launch.
unsafe impl MemoryMap for Map {
    fn find(&self, a: u64) -> Option<(u64, u64)> {
        self.0.iter().copied().find(|&(b, s)| a >= b && a < b + s)
    }
}

fn load(name: &str, opt: &str) -> Program {
    let path = format!(
        "{}/../kernels/spv/{name}.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    // ENGINE=interpreter for the interpreter; UNCHECKED=1 for unchecked compiled code.
    let options = BuildOptions {
        engine: match std::env::var("ENGINE").as_deref() {
            Ok("interpreter") => Engine::Interpreter,
            _ => Engine::Jit,
        },
        unchecked: std::env::var("UNCHECKED").is_ok_and(|v| v == "1"),
        ..Default::default()
    };
    Program::build(&std::fs::read(path).unwrap(), &options).unwrap()
}

fn best(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let opt = std::env::args().nth(1).unwrap_or_else(|| "O2".into());
    let only = std::env::args().nth(2).unwrap_or_default();
    let want = |k: &str| only.is_empty() || k.starts_with(&only) || only.starts_with(k);
    if want("vector_add") {
        vector_add(&opt);
    }
    if want("empty") {
        empty(&opt);
    }
    if want("matmul") {
        matmul(&opt, &only);
    }
}

fn vector_add(opt: &str) {
    let n = 1usize << 24;
    // Work-group size (env GS, default 256).
    let gs: usize = std::env::var("GS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..n).map(|i| (n - i) as f32).collect();
    let mut c = vec![0f32; n];
    let map = Map(vec![
        (a.as_ptr() as u64, (n * 4) as u64),
        (b.as_ptr() as u64, (n * 4) as u64),
        (c.as_mut_ptr() as u64, (n * 4) as u64),
    ]);
    let p = load("vector_add", opt);
    let args =
        [a.as_ptr() as u64, b.as_ptr() as u64, c.as_mut_ptr() as u64].map(|x| x.to_le_bytes());
    let values: Vec<ArgValue<'_>> = args.iter().map(|x| ArgValue::Bytes(x)).collect();
    let t = best(3, || {
        let l = Launch {
            kernel: "vector_add",
            args: &values,
            group_size: [gs as u32, 1, 1],
            group_count: [(n / gs) as u32, 1, 1],
            global_offset: [0; 3],
        };
        p.launch(&l, &map, &mut std::io::sink()).unwrap();
    });
    assert!(c.iter().all(|&x| x == n as f32));
    let native = best(3, || {
        for ((c, a), b) in c.iter_mut().zip(&a).zip(&b) {
            *c = a + b;
        }
        std::hint::black_box(&mut c);
    });
    println!(
        "vector_add native Rust loop (1 thread): {:.1} ms",
        native * 1e3
    );
    println!(
        "vector_add {opt}: 2^24 floats in {:.1} ms = {:.1} M items/s, {:.2} GB/s",
        t * 1e3,
        n as f64 / t / 1e6,
        12.0 * n as f64 / t / 1e9
    );
}

fn empty(opt: &str) {
    let map = Map(vec![]);
    let e = load("empty", opt);
    let t = best(200, || {
        let l = Launch {
            kernel: "empty",
            args: &[],
            group_size: [1, 1, 1],
            group_count: [1, 1, 1],
            global_offset: [0; 3],
        };
        e.launch(&l, &map, &mut std::io::sink()).unwrap();
    });
    println!(
        "empty {opt}: one launch of one work-item in {:.2} us",
        t * 1e6
    );
}

fn matmul(opt: &str, only: &str) {
    let n = 1024usize;
    let a: Vec<f32> = (0..n * n).map(|i| ((i * 7) % 13) as f32 * 0.25).collect();
    let b: Vec<f32> = (0..n * n).map(|i| ((i * 5) % 11) as f32 * 0.5).collect();
    let mut c = vec![0f32; n * n];
    let map = Map(vec![
        (a.as_ptr() as u64, (n * n * 4) as u64),
        (b.as_ptr() as u64, (n * n * 4) as u64),
        (c.as_mut_ptr() as u64, (n * n * 4) as u64),
    ]);
    let p = load("matmul", opt);
    let args =
        [a.as_ptr() as u64, b.as_ptr() as u64, c.as_mut_ptr() as u64].map(|x| x.to_le_bytes());
    let nb = (n as u32).to_le_bytes();
    let values = [
        ArgValue::Bytes(&args[0]),
        ArgValue::Bytes(&args[1]),
        ArgValue::Bytes(&args[2]),
        ArgValue::Bytes(&nb),
    ];
    for kernel in ["matmul_naive", "matmul_tiled"] {
        if !kernel.starts_with(only) {
            continue;
        }
        let t = best(1, || {
            let l = Launch {
                kernel,
                args: &values,
                group_size: [16, 16, 1],
                group_count: [(n / 16) as u32, (n / 16) as u32, 1],
                global_offset: [0; 3],
            };
            p.launch(&l, &map, &mut std::io::sink()).unwrap();
        });
        // Spot-check a few elements.
        for &(r, col) in &[(0usize, 0usize), (17, 999), (1023, 1023)] {
            let want: f32 = (0..n).map(|k| a[r * n + k] * b[k * n + col]).sum();
            assert!(
                (c[r * n + col] - want).abs() <= 1e-3 * want.abs().max(1.0),
                "{kernel} ({r},{col})"
            );
        }
        println!(
            "{kernel} {opt}: 1024x1024 in {:.2} s = {:.2} GFLOP/s",
            t,
            2.0 * (n as f64).powi(3) / t / 1e9
        );
    }
}
