//! Red-team kernels for the JIT's vector path (`src/jit/lower/vector.rs`, `src/jit/simd.rs`):
//! chunks of 16 consecutive work-items of a work-group running together, with uniform,
//! affine, narrow and wide values; vector, same-address and per-lane memory accesses;
//! divergence sending a chunk's lanes one by one down the scalar path; barriers saving,
//! checking and recomputing values. OpenCL C written for this test (not the repository's
//! `kernels/`), built at -O0 and -O2 with the flags of `kernels/build.sh` by
//! `tests/jit_vector/build.sh` into `tests/jit_vector/spv/`:
//!
//! - `vec_affine.cl`: affine addresses (negative strides, strides 2, 3 and 8, shifts and
//!   multiplies by constants, int casts, 64-bit wrap-around offsets, pointer phis, local
//!   pointers, struct and float4 arrays) and ids stored as values;
//! - `vec_edges.cl`: affine accesses crossing a buffer's end or start (the lowest faulting
//!   work-item must be reported), one address for every lane, addresses from selects;
//! - `vec_diverge.cl`: conditions true for one lane, lane 15, alternate lanes; per-lane loop
//!   trip counts; switches; divergence reconverging before a barrier; early returns;
//! - `vec_barrier.cl`: barriers in nested uniform loops with values of every width live
//!   across them, recomputed values next to values loaded from local memory, private arrays,
//!   uniform loads of what one work-item wrote, values uniform per chunk only, a variable
//!   assigned in one branch;
//! - `vec_int.cl`, `vec_float.cl`, `vec_small.cl`: ids crossing 2^31 and 2^32 in a chunk,
//!   shifts by uniform amounts at and above the width, 32-bit wrap in indices, signed
//!   compares of 32-bit values in wide slots, vector selects; fma/mad, ordered and unordered
//!   compares, NaN payloads; chars, shorts, halves, small vectors, a struct by value;
//! - `vec_misc.cl`: printf from some lanes, atomics with order-independent results;
//! - `vec_algo.cl`: reduction, scan, bitonic sort, tiled matrix product, stencil, histogram,
//!   per-chunk indexing, strides that cancel (one address, or consecutive again);
//! - `vec_cl2.cl`: kernels reading only linear ids (chunks whatever the shape), generic
//!   pointers, grid-stride loops, private memory shared by mistake;
//! - `vec_pressure.cl`: 48 values live through a loop with barriers (spills);
//! - `vec_prechecks.cl`: local accesses at constant offsets from one address, whose range
//!   checked mode checks once at the block's start (a miss runs the block as the
//!   interpreter does: the first fault must be the one reported);
//! - `vec_findings.cl`: minimal reproducers of the findings (`finding_*`), fixed: regression tests.
//!
//! Every launch goes through the harness (`common::Mem::launch`), which runs it on the
//! interpreter and on the JIT and requires the same result, bit-identical buffers and the
//! same printf output. The launches use work-groups whose x size is a multiple of 16 (16,
//! 32, 48, 64, 256, 1024; 2-D and 3-D [16,3,1], [32,2,2], [16,2,1]) so that the vector path
//! runs, global offsets near 2^31 and 2^32 (the ids of one chunk cross those bounds), and a
//! few shapes whose x size is not a multiple of 16 for contrast. `LEVEL_ZERO_CPU_JIT_WIDTH=4|8`
//! runs the same with narrower chunks (0: without the vector path).
//!
//! `JIT_VECTOR_UNCHECKED=1` builds the programs unchecked (`BuildOptions::unchecked`: the
//! JIT's vector accesses without bounds checks) for a run of the in-bounds tests
//! (`-- --skip buffer_ends --skip private`).
//!
//! spirv-val rejects three of the -O2 modules llvm-spirv-15 writes (`vec_affine`,
//! `vec_barrier`, `vec_diverge`: a value used in a block listed before its definition's, "ID
//! has not been defined"), which both engines run.

mod common;
use common::*;
use level_zero_cpu_spirv::{BuildOptions, ExecError, Program};

/// `tests/jit_vector/spv/<name>.<opt>.spv`, built through the harness (so that it has its
/// interpreter twin).
fn vprog(name: &str, opt: &str) -> Program {
    let options = BuildOptions {
        unchecked: std::env::var_os("JIT_VECTOR_UNCHECKED").is_some(),
        ..Default::default()
    };
    test_program("jit_vector", name, opt, &options)
}

/// A launch: work-group size, work-group count, global offset.
type Shape = ([u32; 3], [u32; 3], [u32; 3]);

/// Shapes the vector path takes (x size a multiple of 16), offsets included, then a few it
/// does not.
const SHAPES: [Shape; 15] = [
    ([16, 1, 1], [4, 1, 1], [0, 0, 0]),
    ([32, 1, 1], [2, 1, 1], [3, 0, 0]),
    ([48, 1, 1], [2, 1, 1], [0, 0, 0]),
    ([64, 1, 1], [2, 1, 1], [16, 0, 0]),
    ([256, 1, 1], [1, 1, 1], [0, 0, 0]),
    ([16, 3, 1], [2, 1, 1], [0, 1, 0]),
    ([32, 2, 2], [1, 2, 1], [1, 0, 2]),
    ([48, 1, 1], [1, 2, 1], [5, 7, 0]),
    ([16, 1, 1], [3, 1, 1], [0x7fff_fff8, 0, 0]),
    ([32, 1, 1], [2, 1, 1], [0xffff_ffe8, 0, 0]),
    ([16, 2, 1], [2, 1, 2], [0xffff_fff0, 3, 0x7fff_ffff]),
    ([24, 1, 1], [2, 1, 1], [0, 0, 0]),
    ([17, 1, 1], [2, 1, 1], [1, 0, 0]),
    ([8, 2, 1], [2, 2, 1], [0, 0, 0]),
    ([20, 1, 1], [1, 1, 1], [0xffff_fff6, 0, 0]),
];

/// The number of work-items of a launch.
fn total(s: &Shape) -> usize {
    (0..3).map(|d| (s.0[d] * s.1[d]) as usize).product()
}

/// Work-items per work-group.
fn ltotal(s: &Shape) -> usize {
    s.0.iter().map(|&x| x as usize).product()
}

/// Work-groups of a launch.
fn groups(s: &Shape) -> usize {
    s.1.iter().map(|&x| x as usize).product()
}

fn launch(
    m: &mut Mem,
    p: &Program,
    kernel: &str,
    args: &[A],
    s: &Shape,
) -> Result<String, ExecError> {
    m.launch(p, kernel, args, s.0, s.1, s.2)
}

/// Runs `kernel` on every shape of [`SHAPES`] with the arguments `args` builds, and requires
/// success (the harness compares the engines).
fn run_all(p: &Program, kernel: &str, args: impl Fn(&mut Mem, &Shape, usize) -> Vec<A>) {
    on_jit(p, kernel);
    for (k, s) in SHAPES.iter().enumerate() {
        let mut m = Mem::default();
        let a = args(&mut m, s, k);
        launch(&mut m, p, kernel, &a, s).unwrap_or_else(|e| panic!("{kernel} {s:?}: {e}"));
    }
}

/// Pseudo-random ints: small and large magnitudes, both signs, and runs of equal values (so
/// that some branches go the same way in a whole chunk).
fn ints(n: usize, seed: u64) -> Vec<i32> {
    let mut r = Rng(seed | 1);
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        let x = r.next();
        match x % 5 {
            0 => {
                let c = (x >> 8) as i32 & 0xff;
                for _ in 0..16 {
                    v.push(c);
                }
            }
            1 => v.push((x >> 32) as i32),
            2 => v.push(((x >> 40) % 64) as i32 - 32),
            _ => v.push(((x >> 20) % 100_000) as i32 - 50_000),
        }
    }
    v.truncate(n);
    v
}

/// Integer edge values of every width, then pseudo-random ones.
fn longs(n: usize, seed: u64) -> Vec<i64> {
    let edges = [
        0i64,
        1,
        -1,
        127,
        -128,
        32767,
        -32768,
        65535,
        i32::MAX as i64,
        i32::MIN as i64,
        u32::MAX as i64,
        1 << 32,
        i64::MAX,
        i64::MIN,
        0x5555_5555_5555_5555,
        -0x1234_5678_9abc,
    ];
    let mut r = Rng(seed | 1);
    (0..n)
        .map(|k| {
            if k < edges.len() {
                edges[k]
            } else {
                r.next() as i64 >> (r.next() % 64)
            }
        })
        .collect()
}

/// Float bit patterns: NaNs of several payloads and signs, infinities, signed zeros,
/// denormals, conversion limits, then pseudo-random values (rotated by `rot` so that the
/// edge values meet different partners in the three inputs of a kernel).
fn floats(n: usize, seed: u64, rot: usize) -> Vec<f32> {
    let edges = [
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_0001),
        f32::from_bits(0xffc1_2345),
        f32::from_bits(0x7f80_0001),
        f32::from_bits(0xff80_4321),
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x8000_0003),
        f32::MAX,
        3e9,
        -3e9,
        2147483520.0,
        0.1,
    ];
    let mut r = Rng(seed | 1);
    (0..n)
        .map(|k| {
            let k2 = (k + rot) % n.max(1);
            if k2 < edges.len() {
                edges[k2]
            } else {
                r.f32(-1000.0, 1000.0)
            }
        })
        .collect()
}

/// Doubles like [`floats`].
fn doubles(n: usize, seed: u64, rot: usize) -> Vec<f64> {
    let edges = [
        0.0f64,
        -0.0,
        1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::from_bits(0xfff8_1234_5678_9abc),
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::MAX,
        9.3e18,
        -9.3e18,
        0.1,
    ];
    let mut r = Rng(seed | 1);
    (0..n)
        .map(|k| {
            let k2 = (k + rot) % n.max(1);
            if k2 < edges.len() {
                edges[k2]
            } else {
                f64::from(r.f32(-1000.0, 1000.0)) * 1.000_000_1
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Affine addresses.

both!(affine_loads, |opt: &str| {
    let p = vprog("vec_affine", opt);
    run_all(&p, "aff_load", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(9 * n + 80, k as u64 + 1));
        let o = m.zeros::<i32>(24 * n);
        let big = 0u64.wrapping_sub(1 << 32);
        vec![
            A::Buf(i),
            A::Buf(o),
            val((k as i32 * 7) % 65),
            val(big),
            val(1u64 << 32),
        ]
    });
});

both!(affine_stores, |opt: &str| {
    let p = vprog("vec_affine", opt);
    on_jit(&p, "aff_store");
    for (k, s) in SHAPES.iter().enumerate() {
        let n = total(s);
        let mut m = Mem::default();
        let i = m.add(&ints(n, k as u64 + 2));
        let o = m.zeros::<i32>(9 * n);
        let ol = m.zeros::<i64>(6 * n);
        let od = m.zeros::<f64>(2 * n);
        let kk = k as i32 - 3;
        launch(
            &mut m,
            &p,
            "aff_store",
            &[A::Buf(i), A::Buf(o), A::Buf(ol), A::Buf(od), val(kk)],
            s,
        )
        .unwrap_or_else(|e| panic!("{s:?}: {e}"));
        // The ids stored as values, against Rust.
        let got = m.get::<i64>(ol);
        for g in 0..n {
            assert_eq!(got[g], g as i64, "{s:?} {g}");
            assert_eq!(got[n + g], 3 * g as i64 + 7, "{s:?} {g}");
        }
    }
});

// Groups whose width is not a multiple of 16 take the vector path with chunks of 8 or 4 (the
// kernel compiled again for them), and give the interpreter's results.
both!(narrow_groups_take_narrower_chunks, |opt: &str| {
    let p = vprog("vec_affine", opt);
    on_jit(&p, "aff_store");
    let width = |s: [u32; 3]| p.kernel_vector_width("aff_store", s).unwrap();
    // 0 with the vector path turned off (`LEVEL_ZERO_CPU_JIT_WIDTH=0`); 16, 8 or 4 else.
    let main = width([16, 1, 1]);
    // The widest of 16, 8 and 4 that is at most the main width and divides the group's.
    let want = |x: usize| {
        [16, 8, 4]
            .into_iter()
            .find(|&w| w <= main && x.is_multiple_of(w))
            .unwrap_or(0)
    };
    let shapes: [Shape; 5] = [
        ([8, 8, 1], [2, 1, 1], [0, 0, 0]),
        ([24, 2, 1], [1, 1, 2], [8, 0, 1]),
        ([4, 4, 4], [1, 2, 1], [0, 0, 0]),
        ([12, 1, 1], [3, 1, 1], [0xffff_fff4, 0, 0]),
        ([6, 2, 1], [2, 1, 1], [0, 0, 0]),
    ];
    for s in &shapes {
        assert_eq!(width(s.0), want(s.0[0] as usize), "group {:?}", s.0);
        let n = total(s);
        let mut m = Mem::default();
        let i = m.add(&ints(n, 5));
        let o = m.zeros::<i32>(9 * n);
        let ol = m.zeros::<i64>(6 * n);
        let od = m.zeros::<f64>(2 * n);
        launch(
            &mut m,
            &p,
            "aff_store",
            &[A::Buf(i), A::Buf(o), A::Buf(ol), A::Buf(od), val(-2i32)],
            s,
        )
        .unwrap_or_else(|e| panic!("{s:?}: {e}"));
        let got = m.get::<i64>(ol);
        for g in 0..n {
            assert_eq!(got[g], g as i64, "{s:?} {g}");
            assert_eq!(got[n + g], 3 * g as i64 + 7, "{s:?} {g}");
        }
    }
    // The interpreter's program has no compiled forms.
    let bytes = std::fs::read(format!(
        "{}/tests/jit_vector/spv/vec_affine.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let q = Program::build(
        &bytes,
        &BuildOptions {
            engine: level_zero_cpu_spirv::Engine::Interpreter,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(q.kernel_vector_width("aff_store", [16, 1, 1]), None);
});

both!(affine_structs, |opt: &str| {
    let p = vprog("vec_affine", opt);
    run_all(&p, "aff_struct", |m, s, k| {
        let n = total(s);
        // S: int, float, long, short (24 bytes with padding), as raw bytes.
        let mut r = Rng(k as u64 + 3);
        let bytes: Vec<u8> = (0..24 * n).map(|_| r.next() as u8).collect();
        let i = m.add(&bytes);
        let o = m.zeros::<u8>(48 * n);
        let f4 = m.add(&floats(4 * n, k as u64 + 4, k));
        let o4 = m.zeros::<f32>(4 * n);
        let of = m.zeros::<f32>(6 * n);
        vec![A::Buf(i), A::Buf(o), A::Buf(f4), A::Buf(o4), A::Buf(of)]
    });
});

both!(affine_local, |opt: &str| {
    let p = vprog("vec_affine", opt);
    run_all(&p, "aff_local", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 5));
        let o = m.zeros::<i32>(6 * n);
        vec![A::Buf(i), A::Buf(o), A::Local(8 * ltotal(s))]
    });
});

both!(affine_loops, |opt: &str| {
    let p = vprog("vec_affine", opt);
    run_all(&p, "aff_loop", |m, s, k| {
        let n = total(s);
        let r = 1 + (k as i32 % 6);
        let i = m.add(&ints((r as usize + 2) * n, k as u64 + 6));
        let o = m.zeros::<i32>((r as usize + 2) * n);
        vec![A::Buf(i), A::Buf(o), val(r)]
    });
});

// A 64-bit vector operation whose components differ in kind (the first the same in every
// lane, the second not): finding 1 (see `finding_vector_mixed_components`).
mod affine_vector_mixed {
    use super::*;
    fn body(opt: &str) {
        let p = vprog("vec_affine", opt);
        run_all(&p, "aff_vec_mixed", |m, s, k| {
            let n = total(s);
            let i = m.add(&longs(n, k as u64 + 7));
            let o = m.zeros::<u64>(4 * n);
            vec![A::Buf(i), A::Buf(o), val(0x1234_5678_9abc_def0u64)]
        });
    }
    #[test]
    fn o0() {
        body("O0")
    }
    #[test]
    fn o2() {
        body("O2")
    }
}

// ---------------------------------------------------------------------------------------
// Buffer ends and shared addresses.

/// The launch failed with an out-of-bounds access by the work-item with linear index `lin`
/// (the harness has already required the same fault of both engines).
#[track_caller]
fn expect_oob(r: Result<String, ExecError>, s: &Shape, lin: usize, write: bool, what: &str) {
    let gx = (s.0[0] * s.1[0]) as usize;
    let gy = (s.0[1] * s.1[1]) as usize;
    let id = [
        (lin % gx) as u64 + u64::from(s.2[0]),
        ((lin / gx) % gy) as u64 + u64::from(s.2[1]),
        (lin / gx / gy) as u64 + u64::from(s.2[2]),
    ];
    match r {
        Err(ExecError::OutOfBounds {
            global_id,
            write: w,
            ..
        }) => assert_eq!((global_id, w), (id, write), "{what} {s:?}"),
        r => panic!("{what} {s:?}: expected an out-of-bounds access by {id:?}, got {r:?}"),
    }
}

// Local accesses checked as one range at their block's start: in bounds, past the arena's
// end or before its start (one work-group, so that one work-item's fault is the first), and
// with a global read before them faulting first. At -O2 the accesses are constant offsets
// from one pointer (a family); at -O0 each is checked alone: both must report the
// interpreter's fault.
both!(local_prechecks, |opt: &str| {
    let p = vprog("vec_prechecks", opt);
    for k in ["row_uniform", "rows_contig"] {
        on_jit(&p, k);
    }
    let shapes: [([u32; 3], [u32; 3]); 5] = [
        ([16, 1, 1], [1, 1, 1]),
        ([32, 1, 1], [1, 1, 1]),
        ([64, 1, 1], [1, 1, 1]),
        ([48, 1, 1], [1, 1, 1]),
        ([16, 4, 1], [1, 1, 1]),
    ];
    for (ls, gc) in shapes {
        let n = (ls[0] * ls[1]) as i32;
        let run = |k: &str, d: i32, g: i32| {
            let mut m = Mem::default();
            let i = m.add(&floats(n as usize, 17, d.unsigned_abs() as usize));
            let o = m.zeros::<f32>(n as usize);
            let args = [
                A::Buf(i),
                A::Buf(o),
                A::Local(32 * n as usize),
                val(d),
                val(g),
            ];
            m.launch(&p, k, &args, ls, gc, [0; 3])
        };
        let oob = |r: Result<String, ExecError>, lane: i32, write: bool, what: &str| match r {
            Err(ExecError::OutOfBounds {
                global_id,
                write: w,
                ..
            }) => {
                let id = [
                    u64::from((lane as u32) % ls[0]),
                    u64::from((lane as u32) / ls[0]),
                    0,
                ];
                assert_eq!((global_id, w), (id, write), "{what} {ls:?}");
            }
            r => panic!("{what} {ls:?}: expected an out-of-bounds access, got {r:?}"),
        };
        // In bounds: both.
        for k in ["row_uniform", "rows_contig"] {
            run(k, 0, 0).unwrap_or_else(|e| panic!("{k} {ls:?}: {e}"));
        }
        // row_uniform reads r[0..8] at t + (row y's start) + d: with d = 8n - 7 - (the last
        // row's start), the last row's r[7] is the one access past t's end (its work-item 0
        // is the first there; were several rows past it, the JIT, running chunk by chunk,
        // would report a lower row's r[7] and the interpreter a higher row's r[0]).
        let last = ((ls[1] - 1) * ls[0]) as i32;
        oob(
            run("row_uniform", 8 * n - 7 - last, 0),
            last,
            false,
            "row_uniform past the end",
        );
        oob(
            run("row_uniform", -1, 0),
            0,
            false,
            "row_uniform before the start",
        );
        // A global read before the family faults first, at work-item 3.
        oob(
            run("row_uniform", 8 * n - 7 - last, n - 3),
            3,
            false,
            "row_uniform global first",
        );
        oob(
            run("row_uniform", 0, n - 3),
            3,
            false,
            "row_uniform global only",
        );
        // rows_contig reads r[0], r[16], r[32], r[48] at t + l + d: with d = 7n - 47 the
        // last work-item's r[48] is the first access past t's end.
        oob(
            run("rows_contig", 7 * n - 47, 0),
            n - 1,
            false,
            "rows_contig past the end",
        );
        oob(
            run("rows_contig", -1, 0),
            0,
            false,
            "rows_contig before the start",
        );
        oob(
            run("rows_contig", -1, n - 3),
            3,
            false,
            "rows_contig global first",
        );
    }
});

both!(buffer_ends, |opt: &str| {
    let p = vprog("vec_edges", opt);
    for k in [
        "edge_int",
        "edge_long_store",
        "edge_double_rev",
        "edge_float_local",
    ] {
        on_jit(&p, k);
    }
    for s in SHAPES.iter() {
        let n = total(s);
        let l = ltotal(s);
        // Only launches with one work-group: with several, which group's fault is reported
        // depends on the worker threads.
        if groups(s) != 1 && n > 64 {
            continue;
        }
        for short in [1usize, 3, 15] {
            if short >= n {
                continue;
            }
            let what = format!("short {short}");
            // Loads at i + d: the buffer ends `short` elements before the last lane's.
            let mut m = Mem::default();
            let i = m.add(&ints(n - short, 1));
            let o = m.zeros::<i32>(n);
            let r = launch(
                &mut m,
                &p,
                "edge_int",
                &[A::Buf(i), A::Buf(o), val(0i64)],
                s,
            );
            if groups(s) == 1 {
                expect_oob(r, s, n - short, false, &format!("edge_int {what}"));
            }
            // Loads before the buffer's start: the first lanes fault (i - 1 at lane 0).
            let mut m = Mem::default();
            let i = m.add(&ints(n, 2));
            let o = m.zeros::<i32>(n);
            let r = launch(
                &mut m,
                &p,
                "edge_int",
                &[A::Buf(i), A::Buf(o), val(-(short as i64))],
                s,
            );
            if groups(s) == 1 {
                expect_oob(r, s, 0, false, &format!("edge_int before {what}"));
            }
            // Stores at i + d crossing the end.
            let mut m = Mem::default();
            let i = m.add(&longs(n, 3));
            let o = m.zeros::<i64>(n + 2);
            let r = launch(
                &mut m,
                &p,
                "edge_long_store",
                &[A::Buf(i), A::Buf(o), val(2 + short as i64)],
                s,
            );
            if groups(s) == 1 {
                expect_oob(r, s, n - short, true, &format!("edge_long_store {what}"));
            }
            // A reversed load: lane 0 reads past the end.
            let mut m = Mem::default();
            let i = m.add(&doubles(n, 4, 0));
            let o = m.zeros::<f64>(n);
            let r = launch(
                &mut m,
                &p,
                "edge_double_rev",
                &[A::Buf(i), A::Buf(o), val(short as i64)],
                s,
            );
            if groups(s) == 1 {
                expect_oob(r, s, 0, false, &format!("edge_double_rev {what}"));
            }
            // Local memory `short` elements short.
            let mut m = Mem::default();
            let i = m.add(&floats(n, 5, 0));
            let o = m.zeros::<f32>(n);
            let r = launch(
                &mut m,
                &p,
                "edge_float_local",
                &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(short as i32)],
                s,
            );
            // (Local memory is checked as a whole, in 64-byte units.)
            if groups(s) == 1 && (4 * l).is_multiple_of(64) {
                expect_oob(r, s, l - short, true, &format!("edge_float_local {what}"));
            }
        }
        // In bounds exactly.
        let mut m = Mem::default();
        let i = m.add(&ints(n + 3, 6));
        let o = m.zeros::<i32>(n);
        launch(
            &mut m,
            &p,
            "edge_int",
            &[A::Buf(i), A::Buf(o), val(3i64)],
            s,
        )
        .unwrap();
    }
});

both!(same_address, |opt: &str| {
    let p = vprog("vec_edges", opt);
    on_jit(&p, "same_addr");
    for (k, s) in SHAPES.iter().enumerate() {
        let n = total(s);
        let g = groups(s);
        let mut m = Mem::default();
        let xs = ints(n, k as u64 + 8);
        let i = m.add(&xs);
        let o = m.zeros::<i32>(4 * g + 2 * n);
        let ol = m.zeros::<i64>(2 * g);
        let kk = (k % 5) as i32;
        launch(
            &mut m,
            &p,
            "same_addr",
            &[A::Buf(i), A::Buf(o), A::Buf(ol), val(kk)],
            s,
        )
        .unwrap();
        if g == 1 {
            // The last work-item's stores stay.
            let got = m.get::<i32>(o);
            assert_eq!(got[0], xs[n - 1], "{s:?}");
            assert_eq!(got[1 + (kk as usize & 1)], (n as i32 - 1) * 3, "{s:?}");
            assert_eq!(got[3], xs[n - 1] + 2 * (n as i32 - 1), "{s:?}");
        }
    }
});

both!(select_addresses, |opt: &str| {
    let p = vprog("vec_edges", opt);
    for u in [-1i32, 1, 5] {
        run_all(&p, "sel_addr", |m, s, k| {
            let n = total(s);
            let i = m.add(&ints(2 * n + 2, k as u64 + 9));
            let c = m.add(&ints(n, k as u64 + 10));
            let o = m.zeros::<i32>(8 * n);
            vec![A::Buf(i), A::Buf(c), A::Buf(o), val(u)]
        });
    }
});

// ---------------------------------------------------------------------------------------
// Divergence.

both!(diverge_lanes, |opt: &str| {
    let p = vprog("vec_diverge", opt);
    for sel in [0i32, 5, 15, 16, 31] {
        run_all(&p, "div_lanes", |m, s, k| {
            let n = total(s);
            let i = m.add(&ints(n, k as u64 + 11));
            let o = m.zeros::<i32>(8 * n);
            vec![A::Buf(i), A::Buf(o), val(sel)]
        });
    }
});

both!(diverge_loops, |opt: &str| {
    let p = vprog("vec_diverge", opt);
    run_all(&p, "div_loops", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 12));
        let o = m.zeros::<i32>(4 * n);
        vec![A::Buf(i), A::Buf(o), val(1 + (k as i32 % 5))]
    });
});

both!(diverge_switch, |opt: &str| {
    let p = vprog("vec_diverge", opt);
    run_all(&p, "div_switch", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 13));
        let o = m.zeros::<i32>(3 * n);
        vec![A::Buf(i), A::Buf(o), val(0i32)]
    });
});

both!(diverge_then_barrier, |opt: &str| {
    let p = vprog("vec_diverge", opt);
    run_all(&p, "div_then_barrier", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 14));
        let o = m.zeros::<i32>(6 * n);
        vec![
            A::Buf(i),
            A::Buf(o),
            A::Local(4 * ltotal(s)),
            val(k as i32 - 4),
        ]
    });
});

both!(diverge_return, |opt: &str| {
    let p = vprog("vec_diverge", opt);
    for lim in [0i32, 7, 15, 40] {
        run_all(&p, "div_return", |m, s, k| {
            let n = total(s);
            let i = m.add(&ints(n, k as u64 + 15));
            let o = m.zeros::<i32>(3 * n);
            vec![A::Buf(i), A::Buf(o), val(lim)]
        });
    }
});

// ---------------------------------------------------------------------------------------
// Barriers.

both!(barrier_nested, |opt: &str| {
    let p = vprog("vec_barrier", opt);
    run_all(&p, "bar_nested", |m, s, k| {
        let n = total(s);
        let l = ltotal(s);
        let i = m.add(&ints(n, k as u64 + 16));
        let o = m.zeros::<i32>(12 * n);
        vec![
            A::Buf(i),
            A::Buf(o),
            A::Local(4 * l),
            A::Local(8 * l),
            val(1 + (k as i32 % 3)),
            val(1 + (k as i32 % 2)),
            val(0x7fff_ffff_0000_0000i64 + k as i64),
        ]
    });
});

both!(barrier_recompute, |opt: &str| {
    let p = vprog("vec_barrier", opt);
    run_all(&p, "bar_recompute", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 17));
        let o = m.zeros::<i32>(8 * n);
        vec![
            A::Buf(i),
            A::Buf(o),
            A::Local(4 * ltotal(s)),
            val(k as i32 * 3 - 5),
        ]
    });
});

both!(barrier_private, |opt: &str| {
    let p = vprog("vec_barrier", opt);
    run_all(&p, "bar_private", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 18));
        let o = m.zeros::<i32>(4 * n);
        vec![
            A::Buf(i),
            A::Buf(o),
            A::Local(4 * ltotal(s)),
            val(1 + (k as i32 % 4)),
        ]
    });
});

both!(barrier_uniform_load, |opt: &str| {
    let p = vprog("vec_barrier", opt);
    run_all(&p, "bar_uniform_load", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 19));
        let o = m.zeros::<i32>(3 * n);
        vec![A::Buf(i), A::Buf(o), A::Local(8), val(2 + (k as i32 % 4))]
    });
});

both!(barrier_chunky, |opt: &str| {
    let p = vprog("vec_barrier", opt);
    run_all(&p, "bar_chunky", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 20));
        let o = m.zeros::<i32>(4 * n);
        vec![
            A::Buf(i),
            A::Buf(o),
            A::Local(4 * ltotal(s)),
            val(1 + (k as i32 % 3)),
        ]
    });
});

// Uninitialised variables assigned in one branch, read by every lane.
both!(one_branch_no_barrier, |opt: &str| {
    let p = vprog("vec_barrier", opt);
    for kk in [0i32, 3, 15] {
        run_all(&p, "one_branch", |m, s, _| {
            let o = m.zeros::<i32>(2 * total(s));
            vec![A::Buf(o), val(kk)]
        });
    }
});

/// `bar_one_branch` for a few work-items choosing which assigns.
fn one_branch_barrier(opt: &str) {
    let p = vprog("vec_barrier", opt);
    for kk in [0i32, 3, 15] {
        run_all(&p, "bar_one_branch", |m, s, _| {
            let o = m.zeros::<i32>(2 * total(s));
            vec![A::Buf(o), val(kk)]
        });
    }
}

#[test]
fn one_branch_barrier_o0() {
    one_branch_barrier("O0")
}

#[test]
fn one_branch_barrier_o2() {
    one_branch_barrier("O2")
}

// ---------------------------------------------------------------------------------------
// Integers.

both!(integer_ids, |opt: &str| {
    let p = vprog("vec_int", opt);
    for kk in [0i32, 5, -1, 0x7fff_fff0] {
        run_all(&p, "int_ids", |m, s, _| {
            let o = m.zeros::<i64>(24 * total(s));
            vec![A::Buf(o), val(kk)]
        });
    }
});

both!(integer_shifts, |opt: &str| {
    let p = vprog("vec_int", opt);
    for sh in [0i32, 1, 7, 15, 16, 31, 32, 33, 63, 64, 65, 70] {
        run_all(&p, "int_shifts", |m, s, k| {
            let n = total(s);
            let i = m.add(&ints(n, k as u64 + 21));
            let o = m.zeros::<i64>(16 * n);
            vec![A::Buf(i), A::Buf(o), val(sh)]
        });
    }
});

both!(integer_wrap, |opt: &str| {
    let p = vprog("vec_int", opt);
    run_all(&p, "int_wrap", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 22));
        let o = m.zeros::<i32>(6 * n);
        vec![A::Buf(i), A::Buf(o), val(i32::MAX)]
    });
});

both!(integer_compare_select, |opt: &str| {
    let p = vprog("vec_int", opt);
    run_all(&p, "int_cmp_select", |m, s, k| {
        let n = total(s);
        let mut xs = ints(2 * n, k as u64 + 23);
        for (j, x) in longs(2 * n, k as u64 + 24).into_iter().enumerate() {
            if j % 3 == 0 {
                xs[j] = x as i32;
            }
        }
        let i = m.add(&xs);
        let o = m.zeros::<i32>(16 * n);
        vec![A::Buf(i), A::Buf(o), val(k as i32 * 1000 - 7000)]
    });
});

both!(integer_mix, |opt: &str| {
    let p = vprog("vec_int", opt);
    for u in [0i64, -1, 0x7fff_ffff, 1 << 40] {
        run_all(&p, "int_mix", |m, s, k| {
            let n = total(s);
            let i = m.add(&longs(n, k as u64 + 25));
            let o = m.zeros::<i64>(10 * n);
            vec![A::Buf(i), A::Buf(o), val(u)]
        });
    }
});

// ---------------------------------------------------------------------------------------
// Floats.

both!(float_ops, |opt: &str| {
    let p = vprog("vec_float", opt);
    for u in [1.5f32, f32::NAN, f32::from_bits(0x7fc0_4321), -0.0] {
        run_all(&p, "flt_ops", |m, s, k| {
            let n = total(s);
            let a = m.add(&floats(n, k as u64 + 26, 0));
            let b = m.add(&floats(n, k as u64 + 27, 3));
            let c = m.add(&floats(n, k as u64 + 28, 7));
            let o = m.zeros::<i32>(16 * n);
            vec![A::Buf(a), A::Buf(b), A::Buf(c), A::Buf(o), val(u)]
        });
    }
});

// degrees, radians, rsqrt and native_recip: vector forms (one or two exact operations) bit
// for bit with the interpreter, on every lane, edge values (NaNs, zeros, infinities,
// subnormals) included.
both!(units, |opt: &str| {
    let p = vprog("vec_float", opt);
    run_all(&p, "units", |m, s, k| {
        let n = total(s);
        let a = m.add(&floats(n, k as u64 + 41, 0));
        let d = m.add(&doubles(n, k as u64 + 42, 0));
        let o = m.zeros::<f32>(4 * n);
        let od = m.zeros::<f64>(3 * n);
        vec![A::Buf(a), A::Buf(d), A::Buf(o), A::Buf(od)]
    });
});

// fma and mad, which is fused on both engines: with negated operands (Cranelift makes one
// instruction of those) and as clang contracts `x * y + z`, bit for bit on every lane, the
// edge values rotated by one and two so that lanes see two or three NaNs of different
// payloads and signs (the NaN of a fused multiply-add depends on which operand the
// instruction takes where).
both!(fused, |opt: &str| {
    let p = vprog("vec_float", opt);
    run_all(&p, "fused", |m, s, k| {
        let n = total(s);
        let a = m.add(&floats(n, k as u64 + 61, 0));
        let b = m.add(&floats(n, k as u64 + 62, 1));
        let c = m.add(&floats(n, k as u64 + 63, 2));
        let d = m.add(&doubles(n, k as u64 + 64, 0));
        let e = m.add(&doubles(n, k as u64 + 65, 1));
        let f = m.add(&doubles(n, k as u64 + 66, 2));
        let o = m.zeros::<f32>(8 * n);
        let od = m.zeros::<f64>(5 * n);
        vec![
            A::Buf(a),
            A::Buf(b),
            A::Buf(c),
            A::Buf(d),
            A::Buf(e),
            A::Buf(f),
            A::Buf(o),
            A::Buf(od),
        ]
    });
});

// mix and clamp: vector forms composed of the operations the interpreter does, in its
// order, bit for bit on every lane, NaNs (of several payloads, in each operand), zeros,
// infinities and subnormals included. The inputs are the edge values rotated by one and
// two, so that lanes see three NaNs of different payloads, or 0 and -0, together (where an
// operand order shows).
both!(blend, |opt: &str| {
    let p = vprog("vec_float", opt);
    run_all(&p, "blend", |m, s, k| {
        let n = total(s);
        let a = m.add(&floats(n, k as u64 + 43, 0));
        let b = m.add(&floats(n, k as u64 + 44, 1));
        let c = m.add(&floats(n, k as u64 + 45, 2));
        let d = m.add(&doubles(n, k as u64 + 46, 0));
        let e = m.add(&doubles(n, k as u64 + 47, 1));
        let f = m.add(&doubles(n, k as u64 + 48, 2));
        let o = m.zeros::<f32>(2 * n);
        let od = m.zeros::<f64>(2 * n);
        Vec::from([a, b, c, d, e, f, o, od].map(A::Buf))
    });
});

// sign, step, fdim, maxmag, minmag and round: vector forms (selects between exact
// results) bit for bit on every lane, NaNs, zeros, infinities, subnormals and half-way
// values included (the inputs rotated by one: 0 meets -0, NaNs of different payloads meet).
both!(picks, |opt: &str| {
    let p = vprog("vec_float", opt);
    run_all(&p, "picks", |m, s, k| {
        let n = total(s);
        let halves = |v: &mut [f32]| {
            for (j, x) in v.iter_mut().enumerate().skip(24).step_by(5) {
                *x = (j as f32 - 60.0) + 0.5;
            }
        };
        let mut fa = floats(n, k as u64 + 49, 0);
        halves(&mut fa);
        let a = m.add(&fa);
        let b = m.add(&floats(n, k as u64 + 50, 1));
        let mut da = doubles(n, k as u64 + 51, 0);
        for (j, x) in da.iter_mut().enumerate().skip(24).step_by(5) {
            *x = (j as f64 - 60.0) + 0.5;
        }
        let d = m.add(&da);
        let e = m.add(&doubles(n, k as u64 + 52, 1));
        let o = m.zeros::<f32>(6 * n);
        let od = m.zeros::<f64>(6 * n);
        Vec::from([a, b, d, e, o, od].map(A::Buf))
    });
});

both!(double_ops, |opt: &str| {
    let p = vprog("vec_float", opt);
    for u in [1.5f64, f64::NAN, f64::from_bits(0x7ff8_0000_0000_4321)] {
        run_all(&p, "dbl_ops", |m, s, k| {
            let n = total(s);
            let a = m.add(&doubles(n, k as u64 + 29, 0));
            let b = m.add(&doubles(n, k as u64 + 30, 3));
            let c = m.add(&doubles(n, k as u64 + 31, 7));
            let o = m.zeros::<i64>(12 * n);
            vec![A::Buf(a), A::Buf(b), A::Buf(c), A::Buf(o), val(u)]
        });
    }
});

both!(float_loop, |opt: &str| {
    let p = vprog("vec_float", opt);
    run_all(&p, "flt_loop", |m, s, k| {
        let n = total(s);
        let a = m.add(&floats(n, k as u64 + 32, 0));
        let o = m.zeros::<f32>(n);
        vec![A::Buf(a), A::Buf(o)]
    });
});

// ---------------------------------------------------------------------------------------
// printf and atomics.

both!(printf_some_lanes, |opt: &str| {
    let p = vprog("vec_misc", opt);
    for kk in [0i32, 7, 15] {
        run_all(&p, "pf_lanes", |m, s, k| {
            let i = m.add(&ints(total(s), k as u64 + 33));
            vec![A::Buf(i), val(kk)]
        });
        run_all(&p, "pf_barrier", |m, s, k| {
            let i = m.add(&ints(total(s), k as u64 + 34));
            vec![A::Buf(i), A::Local(4 * ltotal(s)), val(kk)]
        });
    }
});

both!(atomics, |opt: &str| {
    let p = vprog("vec_misc", opt);
    run_all(&p, "atom_ops", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 35));
        let mut init = vec![0i32; 8 + groups(s)];
        init[1] = i32::MAX;
        init[2] = i32::MIN;
        init[4] = -1;
        let c = m.add(&init);
        let u = m.add(&[0u32, u32::MAX]);
        let o = m.zeros::<i32>(2 * n);
        vec![A::Buf(i), A::Buf(c), A::Buf(u), A::Buf(o)]
    });
    run_all(&p, "atom_local", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 36));
        let o = m.zeros::<i32>(n);
        vec![A::Buf(i), A::Buf(o), A::Local(16)]
    });
});

// ---------------------------------------------------------------------------------------
// Algorithms.

/// Shapes with a power-of-two number of work-items per group.
const POW2: [Shape; 8] = [
    ([16, 1, 1], [3, 1, 1], [0, 0, 0]),
    ([32, 1, 1], [2, 1, 1], [7, 0, 0]),
    ([64, 1, 1], [2, 1, 1], [0xffff_ffc0, 0, 0]),
    ([256, 1, 1], [1, 1, 1], [0, 0, 0]),
    ([16, 4, 1], [1, 2, 1], [0, 3, 0]),
    ([32, 2, 2], [2, 1, 1], [0, 0, 0]),
    ([8, 2, 1], [2, 1, 1], [0, 0, 0]),
    ([4, 8, 2], [1, 1, 2], [1, 0, 0]),
];

fn run_pow2(p: &Program, kernel: &str, args: impl Fn(&mut Mem, &Shape, usize) -> Vec<A>) {
    on_jit(p, kernel);
    for (k, s) in POW2.iter().enumerate() {
        let mut m = Mem::default();
        let a = args(&mut m, s, k);
        launch(&mut m, p, kernel, &a, s).unwrap_or_else(|e| panic!("{kernel} {s:?}: {e}"));
    }
}

both!(algo_reduce, |opt: &str| {
    let p = vprog("vec_algo", opt);
    run_pow2(&p, "reduce", |m, s, k| {
        let n = total(s);
        let l = ltotal(s);
        let i = m.add(&ints(n, k as u64 + 40));
        let o = m.zeros::<i64>(groups(s));
        let od = m.zeros::<f64>(groups(s));
        vec![
            A::Buf(i),
            A::Buf(o),
            A::Buf(od),
            A::Local(8 * l),
            A::Local(8 * l),
        ]
    });
});

both!(algo_scan, |opt: &str| {
    let p = vprog("vec_algo", opt);
    run_all(&p, "scan", |m, s, k| {
        let n = total(s);
        let l = ltotal(s);
        let i = m.add(&ints(n, k as u64 + 41));
        let o = m.zeros::<i32>(n);
        vec![A::Buf(i), A::Buf(o), A::Local(4 * l), A::Local(4 * l)]
    });
});

both!(algo_bitonic, |opt: &str| {
    let p = vprog("vec_algo", opt);
    on_jit(&p, "bitonic");
    for (k, s) in POW2.iter().enumerate() {
        let n = total(s);
        let l = ltotal(s);
        let mut m = Mem::default();
        let xs = ints(n, k as u64 + 42);
        let i = m.add(&xs);
        let o = m.zeros::<i32>(n);
        launch(
            &mut m,
            &p,
            "bitonic",
            &[A::Buf(i), A::Buf(o), A::Local(4 * l)],
            s,
        )
        .unwrap();
        // Against Rust (1-D launches: a group's items are consecutive).
        if s.0[1] * s.0[2] * s.1[1] * s.1[2] == 1 {
            let got = m.get::<i32>(o);
            for g in 0..groups(s) {
                let mut want = xs[g * l..(g + 1) * l].to_vec();
                want.sort();
                if g % 2 == 1 {
                    want.reverse();
                }
                assert_eq!(&got[g * l..(g + 1) * l], &want[..], "{s:?} group {g}");
            }
        }
    }
});

both!(algo_matmul, |opt: &str| {
    let p = vprog("vec_algo", opt);
    on_jit(&p, "matmul");
    for (ts, tiles, off) in [
        (16u32, [2u32, 3u32], [0u32, 0u32]),
        (16, [1, 1], [5, 0xffff_fff0]),
        (32, [2, 1], [0, 0]),
        (8, [3, 2], [0, 0]),
    ] {
        let (nc, mrows) = ((ts * tiles[0]) as usize, (ts * tiles[1]) as usize);
        let kk = (2 * ts) as usize;
        let mut m = Mem::default();
        let a = m.add(&floats(mrows * kk, 43, 20));
        let b = m.add(&floats(kk * nc, 44, 20));
        let c = m.zeros::<f32>(mrows * nc);
        let t = (ts * ts * 4) as usize;
        m.launch(
            &p,
            "matmul",
            &[
                A::Buf(a),
                A::Buf(b),
                A::Buf(c),
                val(kk as i32),
                A::Local(t),
                A::Local(t),
            ],
            [ts, ts, 1],
            [tiles[0], tiles[1], 1],
            [off[0], off[1], 0],
        )
        .unwrap();
    }
});

both!(algo_stencil, |opt: &str| {
    let p = vprog("vec_algo", opt);
    on_jit(&p, "stencil");
    for (k, s) in SHAPES.iter().enumerate() {
        if s.0[1] * s.0[2] * s.1[1] * s.1[2] != 1 {
            continue;
        }
        for r in [1i32, 3, 16] {
            let n = total(s);
            let l = ltotal(s);
            let mut m = Mem::default();
            let i = m.add(&floats(n, k as u64 + 45, 20));
            let o = m.zeros::<f32>(n);
            launch(
                &mut m,
                &p,
                "stencil",
                &[
                    A::Buf(i),
                    A::Buf(o),
                    A::Local(4 * (l + 2 * r as usize)),
                    val(r),
                ],
                s,
            )
            .unwrap();
        }
    }
});

both!(algo_histogram, |opt: &str| {
    let p = vprog("vec_algo", opt);
    run_all(&p, "histogram", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 46));
        let h = m.zeros::<i32>(64);
        vec![A::Buf(i), A::Buf(h), A::Local(256)]
    });
});

both!(algo_chunk_index, |opt: &str| {
    let p = vprog("vec_algo", opt);
    on_jit(&p, "chunk_index");
    for (k, s) in SHAPES.iter().enumerate() {
        // Work-groups of a multiple of 16 items.
        if !ltotal(s).is_multiple_of(16) {
            continue;
        }
        let n = total(s);
        let mut m = Mem::default();
        let i = m.add(&ints(n, k as u64 + 47));
        let o = m.zeros::<i32>(n);
        launch(
            &mut m,
            &p,
            "chunk_index",
            &[A::Buf(i), A::Buf(o), A::Local(4 * ltotal(s))],
            s,
        )
        .unwrap();
    }
});

both!(algo_cancel, |opt: &str| {
    let p = vprog("vec_algo", opt);
    on_jit(&p, "cancel");
    for (k, s) in SHAPES.iter().enumerate() {
        let n = total(s);
        let mut m = Mem::default();
        let xs = ints(2 * n, k as u64 + 48);
        let i = m.add(&xs);
        let o = m.zeros::<i32>(3 * n);
        let o2 = m.zeros::<i32>(n);
        launch(&mut m, &p, "cancel", &[A::Buf(i), A::Buf(o), A::Buf(o2)], s).unwrap();
        let got = m.get::<i32>(o);
        for g in 0..n {
            assert_eq!(
                got[n - 1 + g],
                xs[n - 1].wrapping_add(xs[n - 1 + g]),
                "{s:?} {g}"
            );
        }
    }
});

// ---------------------------------------------------------------------------------------
// OpenCL 2.0: linear ids only, generic pointers, grid-stride loops.

/// Shapes whose x size is not a multiple of 16: a kernel reading only linear ids still
/// takes chunks there.
const ODD: [Shape; 5] = [
    ([24, 1, 1], [2, 1, 1], [0, 0, 0]),
    ([5, 7, 1], [2, 1, 1], [1, 2, 0]),
    ([3, 3, 3], [1, 2, 1], [0, 0, 0]),
    ([17, 2, 1], [1, 1, 2], [0xffff_fff0, 0, 0]),
    ([1, 32, 1], [1, 2, 1], [0, 0, 0]),
];

both!(cl2_linear_only, |opt: &str| {
    let p = vprog("vec_cl2", opt);
    on_jit(&p, "linear_only");
    for (k, s) in SHAPES.iter().chain(ODD.iter()).enumerate() {
        let n = total(s);
        let mut m = Mem::default();
        let i = m.add(&ints(n, k as u64 + 50));
        let o = m.zeros::<i32>(4 * n);
        launch(&mut m, &p, "linear_only", &[A::Buf(i), A::Buf(o)], s).unwrap();
    }
});

both!(cl2_generic, |opt: &str| {
    let p = vprog("vec_cl2", opt);
    on_jit(&p, "generic_ptrs");
    for (k, s) in SHAPES.iter().chain(ODD.iter()).enumerate() {
        let n = total(s);
        let mut m = Mem::default();
        let i = m.add(&ints(n, k as u64 + 51));
        let o = m.zeros::<i32>(4 * n);
        launch(
            &mut m,
            &p,
            "generic_ptrs",
            &[A::Buf(i), A::Buf(o), A::Local(4 * ltotal(s))],
            s,
        )
        .unwrap();
    }
});

both!(cl2_grid_stride, |opt: &str| {
    let p = vprog("vec_cl2", opt);
    on_jit(&p, "grid_stride");
    for (k, s) in SHAPES.iter().enumerate() {
        if s.0[1] * s.0[2] * s.1[1] * s.1[2] != 1 {
            continue;
        }
        for n in [1usize, 15, 17, 3 * total(s) + 5] {
            let mut m = Mem::default();
            let i = m.add(&floats(n, k as u64 + 52, 0));
            let o = m.zeros::<f32>(n);
            launch(
                &mut m,
                &p,
                "grid_stride",
                &[A::Buf(i), A::Buf(o), val(n as i32)],
                s,
            )
            .unwrap();
        }
    }
});

/// Work-item 0's private variable read (`priv_share`) and written (`priv_share_store`) by
/// the whole work-group: the second work-item's access is the first fault, on both engines.
fn private_shared(opt: &str) {
    let p = vprog("vec_cl2", opt);
    for k in ["priv_share", "priv_share_store"] {
        on_jit(&p, k);
    }
    for s in SHAPES.iter().chain(ODD.iter()) {
        if groups(s) != 1 && total(s) > 64 {
            continue;
        }
        let n = total(s);
        let mut m = Mem::default();
        let o = m.zeros::<i32>(n);
        let r = launch(&mut m, &p, "priv_share", &[A::Buf(o), A::Local(8)], s);
        assert!(
            matches!(r, Err(ExecError::OutOfBounds { write: false, .. })),
            "{s:?}: {r:?}"
        );
        let mut m = Mem::default();
        let o = m.zeros::<i32>(n);
        let r = launch(
            &mut m,
            &p,
            "priv_share_store",
            &[A::Buf(o), A::Local(8), val(5i32)],
            s,
        );
        assert!(
            matches!(r, Err(ExecError::OutOfBounds { write: true, .. })),
            "{s:?}: {r:?}"
        );
    }
}

#[test]
fn cl2_private_shared_o0() {
    private_shared("O0")
}

#[test]
fn cl2_private_shared_o2() {
    private_shared("O2")
}

// ---------------------------------------------------------------------------------------
// Narrow element types, a struct by value.

both!(small_types, |opt: &str| {
    let p = vprog("vec_small", opt);
    for kk in [0i32, 3, 17] {
        run_all(&p, "small_types", |m, s, k| {
            let n = total(s);
            let mut r = Rng(k as u64 + 60);
            let c: Vec<i8> = (0..2 * n).map(|_| r.next() as i8).collect();
            let sh: Vec<i16> = (0..2 * n).map(|_| r.next() as i16).collect();
            let h: Vec<u16> = floats(n, k as u64 + 61, 3)
                .iter()
                .map(|&f| half::f16::from_f32(f).to_bits())
                .collect();
            let (c, sh, h) = (m.add(&c), m.add(&sh), m.add(&h));
            let oc = m.zeros::<i8>(3 * n);
            let os = m.zeros::<i16>(3 * n);
            let oh = m.zeros::<u16>(2 * n);
            vec![
                A::Buf(c),
                A::Buf(sh),
                A::Buf(h),
                A::Buf(oc),
                A::Buf(os),
                A::Buf(oh),
                val(kk),
            ]
        });
    }
    run_all(&p, "small_vectors", |m, s, k| {
        let n = total(s);
        let mut r = Rng(k as u64 + 62);
        let c: Vec<i8> = (0..4 * n).map(|_| r.next() as i8).collect();
        let sh: Vec<i16> = (0..2 * n).map(|_| r.next() as i16).collect();
        let (c, sh) = (m.add(&c), m.add(&sh));
        let o4 = m.zeros::<i8>(4 * n);
        let o2 = m.zeros::<i16>(4 * n);
        vec![A::Buf(c), A::Buf(sh), A::Buf(o4), A::Buf(o2)]
    });
});

both!(struct_by_value, |opt: &str| {
    let p = vprog("vec_small", opt);
    run_all(&p, "byval", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 63));
        let o = m.zeros::<i32>(3 * n);
        // int a; (pad) long b; float c[3]; (pad): 32 bytes.
        let mut bytes = vec![0u8; 32];
        bytes[0..4].copy_from_slice(&(k as i32 * 11).to_le_bytes());
        bytes[8..16].copy_from_slice(&(-0x1234_5678_9abc_i64).to_le_bytes());
        for (j, f) in [1.5f32, -2.25, 1e-3].iter().enumerate() {
            bytes[16 + 4 * j..20 + 4 * j].copy_from_slice(&f.to_le_bytes());
        }
        vec![A::Buf(i), A::Buf(o), A::Val(bytes)]
    });
});

// ---------------------------------------------------------------------------------------
// Findings: minimal reproducers (`vec_findings.cl`), fixed (regression tests).

/// Finding 1. `out[i] = (ulong2)(u, in[i]) + (ulong2)(3, 5)` in one work-group of 16: the
/// first component of the add reads only uniform values, so `simd::strides` makes it affine
/// (stride 0) while the second is wide; `vbin_ok` accepts `IAdd` for any non-uniform result
/// and `vset` then panics ("a uniform or affine slot set from a vector",
/// `lower/vector.rs`): the kernel runs on the interpreter ("the JIT failed on this kernel (an
/// internal error, a bug: please report it)"). Chunks of 4, 8 and 16; not with the vector
/// path off.
mod finding_vector_mixed_components {
    use super::*;
    fn body(opt: &str) {
        let p = vprog("vec_findings", opt);
        on_jit(&p, "f_vec_mixed");
        let mut m = Mem::default();
        let i = m.add(&(0..16u64).collect::<Vec<_>>());
        let o = m.zeros::<u64>(32);
        m.launch(
            &p,
            "f_vec_mixed",
            &[A::Buf(i), A::Buf(o), val(100u64)],
            [16, 1, 1],
            [1, 1, 1],
            [0; 3],
        )
        .unwrap();
        let got = m.get::<u64>(o);
        for g in 0..16 {
            assert_eq!(&got[2 * g..2 * g + 2], &[103, g as u64 + 5]);
        }
    }
    #[test]
    fn o0() {
        body("O0")
    }
    #[test]
    fn o2() {
        body("O2")
    }
}

/// Finding 2 (-O0). `long y; if (get_local_id(0) == 3) y = gid * 3; barrier; out[gid] = y;`
/// in one work-group of 16: the interpreter gives 0 to the work-items that did not assign y
/// (an uninitialised register, `Code::undefined_at_entry`: 0 at the start of the work-group
/// on both engines), the JIT `3 * gid` to every work-item: y has one pure definition from an
/// id, so `slots::recomputable` computes it again after the barrier instead of saving it,
/// whether or not the work-item ran it. Any chunk width, and with the vector path off.
#[test]
fn finding_recomputed_unassigned() {
    let p = vprog("vec_findings", "O0");
    on_jit(&p, "f_one_branch");
    let mut m = Mem::default();
    let o = m.zeros::<i64>(16);
    m.launch(
        &p,
        "f_one_branch",
        &[A::Buf(o), val(3i32)],
        [16, 1, 1],
        [1, 1, 1],
        [0; 3],
    )
    .unwrap();
    let mut want = vec![0i64; 16];
    want[3] = 9;
    assert_eq!(m.get::<i64>(o), want);
}

/// Finding 3. Work-item 0 hands the address of its private variable to the work-group
/// through local memory, and every work-item reads it (`*p`, a generic pointer). The
/// interpreter (and the JIT with the vector path off) stops at work-item 1's read, outside
/// its private memory. The vector path loads from the one (uniform) address once per chunk,
/// checked for the chunk's first lane only: with chunks of 16 the launch succeeds (every
/// work-item reads work-item 0's value); with chunks of 4 the fault is reported for
/// work-item 4. Stores at one address (`priv_share_store`) likewise.
#[test]
fn finding_uniform_access_checked_once() {
    let p = vprog("vec_findings", "O2");
    on_jit(&p, "f_priv_share");
    let mut m = Mem::default();
    let o = m.zeros::<i32>(16);
    let r = m.launch(
        &p,
        "f_priv_share",
        &[A::Buf(o), A::Local(8)],
        [16, 1, 1],
        [1, 1, 1],
        [0; 3],
    );
    match r {
        Err(ExecError::OutOfBounds {
            global_id, write, ..
        }) => {
            assert_eq!((global_id, write), ([1, 0, 0], false))
        }
        r => panic!("expected an out-of-bounds read by work-item 1, got {r:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Register pressure.

both!(register_pressure, |opt: &str| {
    let p = vprog("vec_pressure", opt);
    run_all(&p, "pressure", |m, s, k| {
        let n = total(s);
        let i = m.add(&ints(n, k as u64 + 70));
        let o = m.zeros::<i64>(2 * n);
        vec![
            A::Buf(i),
            A::Buf(o),
            A::Local(4 * ltotal(s)),
            val(1 + (k as i32 % 3)),
        ]
    });
    // One work-group of 1024 (64 chunks).
    let mut m = Mem::default();
    let i = m.add(&ints(1024, 71));
    let o = m.zeros::<i64>(2048);
    m.launch(
        &p,
        "pressure",
        &[A::Buf(i), A::Buf(o), A::Local(4096), val(2i32)],
        [1024, 1, 1],
        [1, 1, 1],
        [0; 3],
    )
    .unwrap();
});
