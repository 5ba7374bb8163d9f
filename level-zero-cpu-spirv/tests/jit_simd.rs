//! Red-team kernels for vectorisation across work-items in the JIT (4 consecutive
//! work-items of a work-group as the lanes of SIMD vectors; uniform values kept scalar;
//! consecutive accesses as vector accesses; divergent branches continuing lane by lane; a
//! scalar tail when the work-group size is not a multiple of 4; barriers saving per-lane
//! values). OpenCL C written for this test (not the repository's `kernels/`), built at -O0
//! and -O2 with the flags of `kernels/build.sh` by `tests/jit_simd/build.sh` into
//! `tests/jit_simd/spv/`. Every launch goes through the harness (`common::Mem::launch`),
//! which runs it on the interpreter and on the JIT and requires the same result,
//! bit-identical buffers and the same printf output; each kernel runs with work-groups of
//! 1, 3, 4, 5, 7, 8, 16, 64 and 256 work-items (1-D) or 2-D/3-D shapes whose x size is not a
//! multiple of 4, with global offsets; where a reference is easy, results are also checked
//! against Rust.
//!
//! spirv-val rejects five of the modules llvm-spirv-15 writes, which both engines run:
//! `simd_atomic` (the `Int64Atomics` capability under OpenCL 1.2), and at -O2 `simd_diverge`
//! (an `OpPhi` listing one predecessor per case of a switch), `simd_barrier` (an
//! `OpVectorShuffle` of an `int3` using a value defined later in a loop) and `simd_guard`
//! (blocks before their dominators).
//!
//! Kernels with sub-group or work-group collectives (`simd_ids.cl`) run on the interpreter
//! (the JIT's fallback): they are checked against Rust, and the test fails if they become
//! compiled, to be turned into comparisons then.

mod common;
use common::*;
use level_zero_cpu_spirv::{BuildOptions, Engine, ExecError, Program};

/// `tests/jit_simd/spv/<name>.<opt>.spv`, built through the harness (so that it has its
/// interpreter twin).
fn simd(name: &str, opt: &str) -> Program {
    test_program("jit_simd", name, opt, &BuildOptions::default())
}

/// A launch: work-group size, work-group count, global offset.
type Shape = ([u32; 3], [u32; 3], [u32; 3]);

/// The 1-D work-group sizes: below, at and around the SIMD width of 4, and large.
const SIZES: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 16, 64, 256];

/// One 1-D launch per size of [`SIZES`]: at least 2 groups and `min` work-items, with one
/// of a few global offsets.
fn shapes_1d(min: u32) -> Vec<Shape> {
    SIZES
        .iter()
        .enumerate()
        .map(|(k, &g)| {
            let count = min.div_ceil(g).max(2);
            ([g, 1, 1], [count, 1, 1], [[0, 3, 1, 0, 5][k % 5], 0, 0])
        })
        .collect()
}

/// 2-D and 3-D launches: x sizes not a multiple of 4 (a SIMD group spans rows), x size 1
/// (the 4 lanes of a group differ in y or z only), offsets in every dimension.
const SHAPES_ND: [Shape; 10] = [
    ([3, 5, 1], [2, 1, 2], [0, 0, 0]),
    ([4, 4, 2], [1, 2, 1], [1, 2, 3]),
    ([17, 1, 1], [2, 1, 1], [0, 0, 0]),
    ([1, 7, 1], [3, 2, 1], [2, 0, 0]),
    ([1, 1, 5], [2, 2, 2], [0, 0, 1]),
    ([5, 3, 2], [2, 2, 1], [3, 1, 0]),
    ([2, 2, 2], [3, 1, 2], [0, 0, 0]),
    ([8, 2, 1], [1, 3, 1], [0, 5, 0]),
    ([6, 1, 3], [2, 2, 1], [1, 1, 1]),
    ([7, 3, 1], [1, 1, 1], [0, 0, 0]),
];

/// Single large work-groups (1023 work-items: 255 SIMD groups and a tail of 3).
const SHAPES_BIG: [Shape; 2] = [
    ([1023, 1, 1], [1, 1, 1], [0, 0, 0]),
    ([3, 11, 31], [1, 1, 1], [1, 2, 3]),
];

/// Every 1-D shape (`min` work-items at least) and every N-D one.
fn all_shapes(min: u32) -> Vec<Shape> {
    let mut v = shapes_1d(min);
    v.extend(SHAPES_ND);
    v
}

/// The number of work-items of a launch.
fn total(s: &Shape) -> usize {
    (0..3).map(|d| (s.0[d] * s.1[d]) as usize).product()
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

/// Values whose low 12 bits, taken one bit at a time over 4 consecutive work-items, go
/// through all 16 patterns of taken/not-taken (bit `b` of item `g` is bit `g % 4` of
/// `(g / 4) * (2b + 1) + b`, a permutation of 0..16 over 16 groups of 4), with pseudo-random
/// higher bits (`high` of them) and a random sign.
fn lane_bits(n: usize, seed: u64, high: u32) -> Vec<i32> {
    let mut r = Rng(seed);
    (0..n)
        .map(|g| {
            let mut x = 0i32;
            for b in 0..12 {
                let pat = ((g / 4) * (2 * b + 1) + b) % 16;
                x |= (((pat >> (g % 4)) & 1) as i32) << b;
            }
            let hi = (r.next() % (1 << high)) as i32;
            let x = x | hi << 12;
            if r.next().is_multiple_of(5) { -x } else { x }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Uniform and varying values.

both!(uniform_mix, |opt: &str| {
    let p = simd("simd_uniform", opt);
    on_jit(&p, "uni_mix");
    for s in all_shapes(40) {
        let mut m = Mem::default();
        let n = total(&s);
        let input: Vec<i32> = (0..8).map(|k| k * 1000 - 3500).collect();
        let i = m.add(&input);
        let o = m.zeros::<i64>(n * 16);
        let b = 0x1234_5678_9abc_def0u64 as i64;
        launch(
            &mut m,
            &p,
            "uni_mix",
            &[A::Buf(i), A::Buf(o), val(-7i32), val(b), val(0.375f32)],
            &s,
        )
        .unwrap();
        let got = m.get::<i64>(o);
        for gz in 0..s.0[2] * s.1[2] {
            for gy in 0..s.0[1] * s.1[1] {
                for gx in 0..s.0[0] * s.1[0] {
                    let gsz = [s.0[0] * s.1[0], s.0[1] * s.1[1]];
                    let lin = ((gz * gsz[1] + gy) * gsz[0] + gx) as usize;
                    let (lx, ly, lz) = (gx % s.0[0], gy % s.0[1], gz % s.0[2]);
                    let o = &got[lin * 16..lin * 16 + 16];
                    let v0 = (lx + 10 * ly + 100 * lz) as i64;
                    assert_eq!(o[3], v0, "{s:?} item {lin}");
                    let llin = (lz * s.0[1] + ly) * s.0[0] + lx;
                    assert_eq!(o[10], i64::from(llin), "{s:?} item {lin}");
                    let u0 = -21
                        + (gx / s.0[0]) as i64 * 7
                        + (gy / s.0[1]) as i64 * 11
                        + (gz / s.0[2]) as i64 * 13;
                    assert_eq!(o[0], u0, "{s:?} item {lin}");
                    assert_eq!(
                        o[5],
                        (u0 * v0 + i64::from(input[(gx / s.0[0]) as usize % 8])) as i32 as i64
                    );
                    assert_eq!(o[7], u0, "{s:?} item {lin}");
                    assert_eq!(o[9], i64::from(gx) + i64::from(s.2[1]) * 1000);
                }
            }
        }
    }
});

both!(uniform_private, |opt: &str| {
    let p = simd("simd_uniform", opt);
    on_jit(&p, "uni_private");
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let mut m = Mem::default();
        let n = total(&s);
        let off = s.2[0] as usize;
        let xs = lane_bits(n + off, k as u64 + 1, 8);
        let i = m.add(&xs);
        let o = m.zeros::<i32>((n + off) * 3);
        let kk = k as i32 * 3 + 1;
        launch(
            &mut m,
            &p,
            "uni_private",
            &[A::Buf(i), A::Buf(o), val(kk)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in off..off + n {
            let x = xs[g];
            let mut t: Vec<i32> = (0..8)
                .map(|i| x.wrapping_mul(i + 1).wrapping_add(kk))
                .collect();
            let ku = (kk & 7) as usize;
            t[ku] = t[ku].wrapping_add(g as i32);
            t[g & 7] ^= 0x55;
            t[((kk + 3) & 7) as usize] = t[ku].wrapping_sub(t[(g + 1) & 7]);
            let sum = t
                .iter()
                .fold(0u32, |s, &v| s.wrapping_mul(31).wrapping_add(v as u32));
            assert_eq!(got[g * 3], sum as i32, "{s:?} g={g}");
            assert_eq!(got[g * 3 + 1], t[ku], "{s:?} g={g}");
            assert_eq!(
                got[g * 3 + 2],
                t[((kk * 5 + g as i32) & 7) as usize],
                "{s:?} g={g}"
            );
        }
    }
});

both!(uniform_after_store, |opt: &str| {
    let p = simd("simd_uniform", opt);
    on_jit(&p, "uni_after_store");
    for s in shapes_1d(40) {
        let mut m = Mem::default();
        let n = total(&s);
        let g0 = s.2[0] as usize;
        let lsz = s.0[0] as usize;
        let xs = lane_bits(n + g0, 3, 10);
        let i = m.add(&xs);
        let sc = m.zeros::<i32>(n);
        let o = m.zeros::<i32>((n + g0) * 4);
        launch(
            &mut m,
            &p,
            "uni_after_store",
            &[A::Buf(i), A::Buf(sc), A::Buf(o)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for grp in 0..n / lsz {
            let x = |l: usize| xs[g0 + grp * lsz + l];
            let first = x(0) * 3;
            let last = x(lsz - 1) * 3;
            let l0 = x(0) + 1;
            let ll = x(lsz - 1) + 1;
            let o1 = x(lsz - 1) ^ 0x1234;
            for l in 0..lsz {
                let g = g0 + grp * lsz + l;
                let nb = x((l + 1) % lsz) * 3;
                assert_eq!(got[g * 4], first + last + first, "{s:?} g={g}");
                assert_eq!(got[g * 4 + 1], l0 * 2 + ll + nb, "{s:?} g={g}");
                assert_eq!(got[g * 4 + 2], o1 + 1 + o1, "{s:?} g={g}");
                assert_eq!(got[g * 4 + 3], 2 * (x(l) * 5 + l as i32), "{s:?} g={g}");
            }
        }
    }
});

both!(uniform_one_lane, |opt: &str| {
    let p = simd("simd_uniform", opt);
    on_jit(&p, "uni_one_lane");
    for s in shapes_1d(40) {
        let mut m = Mem::default();
        let groups = s.1[0] as usize;
        let input: Vec<i32> = (0..64).map(|k| k * 7 - 100).collect();
        let i = m.add(&input);
        let acc = m.add(&vec![5i32; 2 * groups]);
        let flag = m.zeros::<i32>(groups);
        launch(
            &mut m,
            &p,
            "uni_one_lane",
            &[A::Buf(i), A::Buf(acc), A::Buf(flag), val(6i32)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(acc);
        let fl = m.get::<i32>(flag);
        for grp in 0..groups {
            let want: i32 = 5
                + (0..6)
                    .map(|k| input[(grp * 3 + k) % 64] * (k as i32 + 1))
                    .sum::<i32>();
            assert_eq!(got[grp], want, "{s:?} group {grp}");
            assert_eq!(got[groups + grp], input[grp % 64] - (s.0[0] as i32 - 1));
            assert_eq!(fl[grp], grp as i32 * 7 + 6);
        }
    }
});

both!(uniform_loops, |opt: &str| {
    let p = simd("simd_uniform", opt);
    on_jit(&p, "uni_loops");
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let mut m = Mem::default();
        let nx = (s.0[0] * s.1[0] + s.2[0]) as usize;
        let xs = lane_bits(nx, k as u64 + 11, 6);
        let i = m.add(&xs);
        let o = m.zeros::<i32>(nx * 4);
        let (n, mm) = (3 + k as i32 % 3, 2 + k as i32 % 4);
        launch(
            &mut m,
            &p,
            "uni_loops",
            &[A::Buf(i), A::Buf(o), val(n), val(mm)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in s.2[0] as usize..nx {
            let x = xs[g];
            let mut sum = 0u32;
            for i in 0..n {
                let mut t = x as u32;
                for j in 0..mm {
                    t = t.wrapping_mul(3).wrapping_add((j + i) as u32);
                }
                sum ^= t;
            }
            let (mut i, mut u) = (0, 0);
            while i < 64 {
                u = n * i + mm;
                if i * i > (x & 0x3ff) {
                    break;
                }
                i += 1;
            }
            let mut kk = 0;
            while kk < n + (x & 3) {
                kk += 2;
            }
            assert_eq!(
                &got[g * 4..g * 4 + 4],
                &[sum as i32, i, u, kk],
                "{s:?} g={g} x={x}"
            );
        }
    }
});

// ---------------------------------------------------------------------------------------
// Divergent control flow.

/// The inputs of the divergence kernels for a 1-D launch: `off + n` values.
fn div_inputs(s: &Shape, seed: u64) -> (usize, usize, Vec<i32>) {
    let n = total(s);
    let off = s.2[0] as usize;
    (n, off, lane_bits(n + off, seed, 8))
}

both!(diverge_if, |opt: &str| {
    let p = simd("simd_diverge", opt);
    on_jit(&p, "div_if");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        let mut m = Mem::default();
        let (n, off, xs) = div_inputs(&s, k as u64 + 21);
        let i = m.add(&xs);
        let o = m.zeros::<i32>((n + off) * 3);
        let (a, b) = (-1000, 2000);
        launch(
            &mut m,
            &p,
            "div_if",
            &[A::Buf(i), A::Buf(o), val(a), val(b)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in off..off + n {
            let x = xs[g];
            let r = if x & 1 != 0 {
                if x & 2 != 0 {
                    x * 3 + 7
                } else {
                    x * 3 - g as i32
                }
            } else if x & 4 != 0 {
                -x
            } else if x & 8 != 0 {
                b
            } else {
                a
            };
            let pp = if x & 16 != 0 { a } else { b };
            let q = if x & 32 != 0 { a + 1 } else { b - 1 };
            assert_eq!(&got[g * 3..g * 3 + 3], &[r, pp, q], "{s:?} g={g} x={x:#x}");
        }
    }
});

both!(diverge_return, |opt: &str| {
    let p = simd("simd_diverge", opt);
    on_jit(&p, "div_return");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        let mut m = Mem::default();
        let (n, off, xs) = div_inputs(&s, k as u64 + 31);
        let i = m.add(&xs);
        let o = m.add(&vec![-7i32; (n + off) * 2]);
        launch(
            &mut m,
            &p,
            "div_return",
            &[A::Buf(i), A::Buf(o), val(5i32)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in off..off + n {
            let x = xs[g];
            let mut want = [-7, -7];
            'k: {
                if x & 1 != 0 {
                    break 'k;
                }
                want[0] = x;
                let mut sum = x as u32;
                for i in 0..5u32 {
                    if x & 2 != 0 && i == 2 {
                        break 'k;
                    }
                    sum = sum.wrapping_mul(2654435761).wrapping_add(i);
                }
                want[1] = if x & 4 != 0 {
                    sum as i32
                } else {
                    (sum ^ 0xffff) as i32
                };
            }
            assert_eq!(&got[g * 2..g * 2 + 2], &want, "{s:?} g={g} x={x:#x}");
        }
    }
});

fn div_loop_ref(x: i32, n: i32) -> [i32; 5] {
    let mut s = 0u32;
    let mut i = 0;
    while i < n {
        if i == (x & 7) {
            i += 1;
            continue;
        }
        if i * i > (x >> 4) {
            break;
        }
        s = s.wrapping_add((i ^ x) as u32);
        if s & 31 == 3 {
            break;
        }
        i += 1;
    }
    let mut j = 0;
    loop {
        j = j * 2 + 1 + (x & 3);
        if j >= (x & 255) {
            break;
        }
    }
    let mut k = x & 63;
    let mut h = 1u32;
    loop {
        if k <= 1 {
            break;
        }
        h = h.wrapping_mul(31).wrapping_add(k as u32);
        k = if k & 1 != 0 { 3 * k + 1 } else { k / 2 };
        if h == 0 {
            break;
        }
    }
    let mut t = 0u32;
    for a in 0..3 {
        for b in 0..(x & 3) + a {
            t = t.wrapping_mul(7).wrapping_add((a * 10 + b) as u32);
        }
    }
    [s as i32, i, j, h as i32, t as i32]
}

both!(diverge_loop, |opt: &str| {
    let p = simd("simd_diverge", opt);
    on_jit(&p, "div_loop");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        let mut m = Mem::default();
        let (n, off, xs) = div_inputs(&s, k as u64 + 41);
        let i = m.add(&xs);
        let o = m.zeros::<i32>((n + off) * 5);
        launch(
            &mut m,
            &p,
            "div_loop",
            &[A::Buf(i), A::Buf(o), val(12i32)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in off..off + n {
            assert_eq!(
                &got[g * 5..g * 5 + 5],
                &div_loop_ref(xs[g], 12),
                "{s:?} g={g} x={:#x}",
                xs[g]
            );
        }
    }
});

both!(diverge_switch, |opt: &str| {
    let p = simd("simd_diverge", opt);
    on_jit(&p, "div_switch");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        for u in [0i32, 1, 9] {
            let mut m = Mem::default();
            let (n, off, xs) = div_inputs(&s, k as u64 + 51);
            let i = m.add(&xs);
            let o = m.zeros::<i32>((n + off) * 3);
            launch(
                &mut m,
                &p,
                "div_switch",
                &[A::Buf(i), A::Buf(o), val(u)],
                &s,
            )
            .unwrap();
            let got = m.get::<i32>(o);
            for g in off..off + n {
                let x = xs[g];
                let lid = (g - off) as i32 % s.0[0] as i32;
                let r = match lid % 6 {
                    0 => 10,
                    1 => 23,
                    2 => 12,
                    4 => x,
                    _ => -1,
                };
                let w = match x % 9 {
                    0 | -7 | 7 => 70,
                    3 | -4 => x * 2 + 5,
                    5 => 5,
                    _ => g as i32,
                };
                let v = if x & 8 == 0 {
                    0
                } else {
                    match u {
                        0 => 100,
                        1 => 101 + x,
                        _ => u * 2,
                    }
                };
                assert_eq!(
                    &got[g * 3..g * 3 + 3],
                    &[r, w, v],
                    "{s:?} u={u} g={g} x={x:#x}"
                );
            }
        }
    }
});

both!(diverge_in_uniform_loop, |opt: &str| {
    let p = simd("simd_diverge", opt);
    on_jit(&p, "div_in_uniform_loop");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        let mut m = Mem::default();
        let (n, off, xs) = div_inputs(&s, k as u64 + 61);
        let i = m.add(&xs);
        let o4 = m.zeros::<[f32; 4]>(n + off);
        let o = m.zeros::<i32>((n + off) * 2);
        launch(
            &mut m,
            &p,
            "div_in_uniform_loop",
            &[A::Buf(i), A::Buf(o4), A::Buf(o), val(11i32)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in off..off + n {
            let x = xs[g];
            let (mut acc, mut cnt) = (0i32, 0i32);
            for i in 0..11 {
                if (x >> (i & 7)) & 1 == 0 {
                    continue;
                }
                acc += i * x;
                cnt += 1;
                if cnt > 3 && x & 0x100 != 0 {
                    break;
                }
            }
            assert_eq!(&got[g * 2..g * 2 + 2], &[acc, cnt], "{s:?} g={g} x={x:#x}");
        }
    }
});

both!(diverge_ternary_goto, |opt: &str| {
    let p = simd("simd_diverge", opt);
    on_jit(&p, "div_ternary");
    on_jit(&p, "div_goto");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        let mut m = Mem::default();
        let (n, off, xs) = div_inputs(&s, k as u64 + 71);
        let i = m.add(&xs);
        let o = m.zeros::<i32>((n + off) * 6);
        launch(
            &mut m,
            &p,
            "div_ternary",
            &[A::Buf(i), A::Buf(o), val(1 << 20)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        let last = off + n - 1;
        assert_eq!(got[last * 6 + 5], xs[last] * 9, "{s:?}");
        assert_eq!(got[off * 6 + 4], xs[off] + 1, "{s:?}");
        let o2 = m.zeros::<i32>((n + off) * 2);
        launch(&mut m, &p, "div_goto", &[A::Buf(i), A::Buf(o2)], &s).unwrap();
        let got = m.get::<i32>(o2);
        for g in off..off + n {
            let x = xs[g];
            let (mut sum, mut cnt) = (x as u32, 0);
            let mut skip = x & 1 != 0;
            loop {
                if !skip {
                    sum = sum.wrapping_mul(3).wrapping_add(1);
                    cnt += 1;
                }
                skip = false;
                sum ^= sum >> 3;
                cnt += 1;
                if cnt >= (x & 7) + 2 {
                    break;
                }
            }
            assert_eq!(
                &got[g * 2..g * 2 + 2],
                &[sum as i32, cnt],
                "{s:?} g={g} x={x:#x}"
            );
        }
    }
});

// ---------------------------------------------------------------------------------------
// Address patterns.

/// The kernels `ADDR(T)` of `simd_addr.cl`: name, element size, and the bytes of an element
/// that are defined (`char3`: 3 of 4; the 4th comes from an undefined shuffle component,
/// compared only between the engines).
const ADDR_KERNELS: [(&str, usize, usize); 16] = [
    ("addr_char", 1, 1),
    ("addr_uchar", 1, 1),
    ("addr_short", 2, 2),
    ("addr_int", 4, 4),
    ("addr_long", 8, 8),
    ("addr_float", 4, 4),
    ("addr_double", 8, 8),
    ("addr_char3", 4, 3),
    ("addr_short2", 4, 4),
    ("addr_float2", 8, 8),
    ("addr_int4", 16, 16),
    ("addr_float4", 16, 16),
    ("addr_long2", 16, 16),
    ("addr_double4", 32, 32),
    ("addr_s12", 12, 12),
    ("addr_p7", 7, 7),
];

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    (0..n).map(|_| r.next() as u8).collect()
}

/// A permutation of 0..n: the identity (a gather whose addresses turn out consecutive),
/// each block of 4 reversed, or pseudo-random, by `seed % 3`.
fn permutation(n: usize, seed: u64) -> Vec<i32> {
    match seed % 3 {
        0 => return (0..n as i32).collect(),
        1 => {
            return (0..n)
                .map(|g| {
                    if g / 4 * 4 + 3 < n {
                        (g ^ 3) as i32
                    } else {
                        g as i32
                    }
                })
                .collect();
        }
        _ => {}
    }
    let mut v: Vec<i32> = (0..n as i32).collect();
    let mut r = Rng(seed);
    for k in (1..n).rev() {
        v.swap(k, (r.next() % (k as u64 + 1)) as usize);
    }
    v
}

both!(addresses, |opt: &str| {
    let p = simd("simd_addr", opt);
    for (kernel, sz, def) in ADDR_KERNELS {
        on_jit(&p, kernel);
        for (k, s) in shapes_1d(48).into_iter().enumerate() {
            let mut m = Mem::default();
            let n = total(&s);
            let lsz = s.0[0] as usize;
            let mut inb = random_bytes((3 * n + 2) * sz, k as u64 * 100 + sz as u64);
            if kernel == "addr_s12" {
                // The padding: zero, so that a copy by fields and a copy of the whole agree.
                for e in inb.chunks_mut(12) {
                    e[1..4].fill(0);
                    e[10..12].fill(0);
                }
            }
            let idx = permutation(n, k as u64 + 5);
            let i = m.add(&inb);
            let ix = m.add(&idx);
            let o = m.zeros::<u8>(14 * n * sz);
            let o2 = m.zeros::<u8>(2 * n * sz);
            let o3 = m.zeros::<u8>(n * sz);
            let o4 = m.zeros::<u8>(n * sz);
            let args = [
                A::Buf(i),
                A::Buf(ix),
                A::Buf(o),
                A::Buf(o2),
                A::Buf(o3),
                A::Buf(o4),
            ];
            launch(&mut m, &p, kernel, &args, &s).unwrap();
            let el = |e: usize| &inb[e * sz..e * sz + def];
            let check = |buf: usize, at: usize, from: usize, what: &str| {
                let got = m.get::<u8>(buf);
                assert_eq!(
                    &got[at * sz..at * sz + def],
                    el(from),
                    "{kernel} {s:?}: {what}"
                );
            };
            for (g, &ix) in idx.iter().enumerate() {
                let from = [
                    g,
                    n - 1 - g,
                    2 * g,
                    3 * g + 1,
                    ix as usize,
                    0,
                    g + 1,
                    3 * n + 1 - g,
                    g / 2,
                    g ^ 1,
                    g & !3,
                    (g * 5) % n,
                    g + lsz,
                    2 * n + 2 + g,
                ];
                for (j, &f) in from.iter().enumerate() {
                    check(o, j * n + g, f, &format!("pattern {j}, g={g}"));
                }
                check(o2, 2 * g, g + 2, "interleaved");
                check(o2, 2 * g + 1, n - g, "interleaved");
                check(o3, ix as usize, g + 3, "scattered");
                check(o4, n - 1 - g, g + n, "reversed");
            }
        }
    }
});

both!(addresses_int3, |opt: &str| {
    let p = simd("simd_addr", opt);
    on_jit(&p, "addr_int3");
    for (k, s) in shapes_1d(48).into_iter().enumerate() {
        let mut m = Mem::default();
        let n = total(&s);
        let mut r = Rng(k as u64 + 9);
        let inp: Vec<[i32; 4]> = (0..2 * n)
            .map(|_| [0, 1, 2, 3].map(|_| r.i32(-100000, 100000)))
            .collect();
        let flat: Vec<i32> = (0..3 * n).map(|_| r.i32(-100000, 100000)).collect();
        let i = m.add(&inp);
        let f = m.add(&flat);
        let o = m.zeros::<[i32; 4]>(2 * n);
        let o3 = m.zeros::<i32>(6 * n);
        launch(
            &mut m,
            &p,
            "addr_int3",
            &[A::Buf(i), A::Buf(f), A::Buf(o), A::Buf(o3)],
            &s,
        )
        .unwrap();
        let got = m.get::<[i32; 4]>(o);
        let got3 = m.get::<i32>(o3);
        for g in 0..n {
            for c in 0..3 {
                assert_eq!(got[g][c], inp[g][c] + inp[n - 1 - g][c] * 2, "{s:?} g={g}");
                assert_eq!(got[n + g][c], inp[2 * g + 1][c] - g as i32, "{s:?} g={g}");
                let b = [flat[g + 1], flat[g + 2], flat[g + 3]];
                let bzxy = [b[2], b[0], b[1]];
                assert_eq!(got3[3 * g + c], flat[3 * g + c] + bzxy[c], "{s:?} g={g}");
                assert_eq!(
                    got3[3 * n + 3 * (n - 1 - g) + c],
                    flat[3 * (n - 1 - g) + c],
                    "{s:?} g={g}"
                );
            }
        }
    }
});

both!(addresses_arith, |opt: &str| {
    let p = simd("simd_addr", opt);
    for (kernel, sz) in [
        ("arith_char", 1),
        ("arith_uchar", 1),
        ("arith_short", 2),
        ("arith_ushort", 2),
        ("arith_long", 8),
        ("arith_ulong", 8),
    ] {
        on_jit(&p, kernel);
        for (k, s) in shapes_1d(48).into_iter().enumerate() {
            let mut m = Mem::default();
            let n = total(&s);
            let i = m.add(&random_bytes((n + 1) * sz, k as u64 + 77));
            let o = m.zeros::<u8>(4 * n * sz);
            launch(&mut m, &p, kernel, &[A::Buf(i), A::Buf(o)], &s).unwrap();
        }
    }
});

both!(addresses_misaligned, |opt: &str| {
    let p = simd("simd_addr", opt);
    on_jit(&p, "addr_misaligned");
    for (k, s) in shapes_1d(48).into_iter().enumerate() {
        // e: the pointers start e elements into their buffers (not vector-aligned).
        for e in [0usize, 1] {
            let mut m = Mem::default();
            let n = total(&s);
            let mut r = Rng(k as u64 + 99);
            let fs: Vec<f32> = (0..4 * n + 1 + e).map(|_| r.f32(-100.0, 100.0)).collect();
            let ss: Vec<i16> = (0..n + 7 + e).map(|_| r.next() as i16).collect();
            let bs: Vec<u8> = (0..3 * n + 2 + e).map(|_| r.next() as u8).collect();
            let (f, sh, b) = (m.add(&fs), m.add(&ss), m.add(&bs));
            let fo = m.zeros::<f32>(4 * n + 1 + e);
            let so = m.zeros::<i16>(8 * n + e);
            let bo = m.zeros::<u8>(5 * n + 3 + e);
            let at = |i: usize, size: usize| A::BufAt(i, (e * size) as u64);
            launch(
                &mut m,
                &p,
                "addr_misaligned",
                &[
                    at(f, 4),
                    at(sh, 2),
                    at(b, 1),
                    at(fo, 4),
                    at(so, 2),
                    at(bo, 1),
                ],
                &s,
            )
            .unwrap();
            let (gf, gs, gb) = (m.get::<f32>(fo), m.get::<i16>(so), m.get::<u8>(bo));
            for g in 0..n {
                for c in 0..4 {
                    let w = fs[e + 3 + 2 * g + c % 2];
                    let want = fs[e + 1 + 4 * g + c] * 2.0 + w;
                    assert_eq!(
                        gf[e + 1 + 4 * g + c].to_bits(),
                        want.to_bits(),
                        "{s:?} e={e} g={g}"
                    );
                    assert_eq!(
                        gb[e + 4 * g + 3 + c],
                        bs[e + 3 * g + 1 + (3 - c)].wrapping_add(1)
                    );
                }
                for c in 0..8 {
                    assert_eq!(
                        gs[e + 8 * g + c],
                        ss[e + g + c].wrapping_add(g as i16),
                        "{s:?} e={e} g={g}"
                    );
                }
                assert_eq!(
                    gb[e + 4 * n + 3 + g],
                    bs[e + g + 5] ^ bs[e + n - g],
                    "{s:?} e={e} g={g}"
                );
            }
        }
    }
});

both!(addresses_2d, |opt: &str| {
    let p = simd("simd_addr", opt);
    on_jit(&p, "addr_2d");
    let mut shapes = SHAPES_ND.to_vec();
    shapes.extend(shapes_1d(16));
    for s in shapes {
        let mut m = Mem::default();
        let n = total(&s);
        let input: Vec<i32> = (0..n as i32).map(|k| k * 7 + 3).collect();
        let i = m.add(&input);
        let o = m.zeros::<i32>(3 * n);
        let ot = m.zeros::<i32>(n);
        launch(
            &mut m,
            &p,
            "addr_2d",
            &[A::Buf(i), A::Buf(o), A::Buf(ot)],
            &s,
        )
        .unwrap();
        let (w, h, d) = (
            (s.0[0] * s.1[0]) as usize,
            (s.0[1] * s.1[1]) as usize,
            (s.0[2] * s.1[2]) as usize,
        );
        let (got, gott) = (m.get::<i32>(o), m.get::<i32>(ot));
        for z in 0..d {
            for y in 0..h {
                for x in 0..w {
                    let lin = (z * h + y) * w + x;
                    let col = (z * w + x) * h + y;
                    let want = [
                        input[lin] * 3 + input[col],
                        input[(z * h + (h - 1 - y)) * w + (w - 1 - x)],
                        input[y] + input[x] * 100 + input[z] * 10000,
                    ];
                    assert_eq!(&got[lin * 3..lin * 3 + 3], &want, "{s:?} ({x},{y},{z})");
                    assert_eq!(gott[col], input[lin] - x as i32, "{s:?} ({x},{y},{z})");
                }
            }
        }
    }
});

both!(addresses_local_private, |opt: &str| {
    let p = simd("simd_addr", opt);
    on_jit(&p, "addr_local_private");
    for (k, s) in shapes_1d(48).into_iter().enumerate() {
        let mut m = Mem::default();
        let n = total(&s) + s.2[0] as usize;
        let i = m.add(&lane_bits(n, k as u64 + 3, 6));
        let o = m.zeros::<i32>(3 * n);
        let lsz = s.0[0] as usize;
        launch(
            &mut m,
            &p,
            "addr_local_private",
            &[A::Buf(i), A::Buf(o), A::Local(4 * lsz)],
            &s,
        )
        .unwrap();
    }
});

// ---------------------------------------------------------------------------------------
// Out-of-bounds accesses by one work-item (the end of a buffer inside a vector of lanes).

/// The launch failed with an out-of-bounds access by work-item `id` (of `size` bytes when
/// given). The harness has already required the same fault (work-item, address, size) of
/// both engines.
#[track_caller]
fn expect_oob(
    r: Result<String, ExecError>,
    id: [u64; 3],
    write: bool,
    size: Option<u64>,
    what: &str,
) {
    match r {
        Err(ExecError::OutOfBounds {
            global_id,
            write: w,
            size: sz,
            ..
        }) => {
            assert_eq!((global_id, w), (id, write), "{what}");
            if let Some(size) = size {
                assert_eq!(sz, size, "{what}");
            }
        }
        r => panic!("{what}: expected an out-of-bounds access by {id:?}, got {r:?}"),
    }
}

/// The global id of the last work-item of a launch.
fn last_id(s: &Shape) -> [u64; 3] {
    [0, 1, 2].map(|d| u64::from(s.2[d] + s.0[d] * s.1[d] - 1))
}

both!(oob_last_lane, |opt: &str| {
    let p = simd("simd_oob", opt);
    for (kernel, sz) in [
        ("copy_char", 1usize),
        ("copy_short", 2),
        ("copy_int", 4),
        ("copy_long", 8),
        ("copy_double", 8),
        ("copy_float4", 16),
        ("copy_p7", 7),
    ] {
        on_jit(&p, kernel);
        for s in shapes_1d(20) {
            let n = total(&s);
            let last = last_id(&s);
            let size = (kernel != "copy_p7").then_some(sz as u64);
            // A short input: the last work-item's read faults.
            let mut m = Mem::default();
            let i = m.add(&random_bytes((n - 1) * sz, 1));
            let o = m.zeros::<u8>(n * sz);
            let r = launch(&mut m, &p, kernel, &[A::Buf(i), A::Buf(o)], &s);
            expect_oob(r, last, false, size, &format!("{kernel} read {s:?}"));
            // A short output: the last work-item's write faults.
            let mut m = Mem::default();
            let i = m.add(&random_bytes(n * sz, 2));
            let o = m.zeros::<u8>((n - 1) * sz);
            let r = launch(&mut m, &p, kernel, &[A::Buf(i), A::Buf(o)], &s);
            expect_oob(r, last, true, size, &format!("{kernel} write {s:?}"));
            // Exactly long enough: no fault, a copy.
            let mut m = Mem::default();
            let bytes = random_bytes(n * sz, 3);
            let i = m.add(&bytes);
            let o = m.zeros::<u8>(n * sz);
            launch(&mut m, &p, kernel, &[A::Buf(i), A::Buf(o)], &s).unwrap();
            assert_eq!(m.get::<u8>(o), bytes, "{kernel} {s:?}");
        }
    }
});

// Two work-items fault at the same access (the input is two elements short): the lower one
// is reported by both (the interpreter runs the access for the lanes in order; the JIT runs
// the lanes in order).
both!(oob_two_last_lanes, |opt: &str| {
    let p = simd("simd_oob", opt);
    for s in shapes_1d(20) {
        if s.0[0] < 2 {
            continue;
        }
        let n = total(&s);
        let mut m = Mem::default();
        let i = m.zeros::<i32>(n - 2);
        let o = m.zeros::<i32>(n);
        let r = launch(&mut m, &p, "copy_int", &[A::Buf(i), A::Buf(o)], &s);
        let mut id = last_id(&s);
        id[0] -= 1;
        expect_oob(r, id, false, Some(4), &format!("copy_int {s:?}"));
    }
});

both!(oob_patterns, |opt: &str| {
    let p = simd("simd_oob", opt);
    for k in [
        "copy_vload3",
        "rev_int",
        "stride2",
        "plus_one",
        "gather",
        "oob_2d",
        "oob_divergent",
        "oob_barrier",
        "oob_local",
        "oob_store_vec",
    ] {
        on_jit(&p, k);
    }
    for s in shapes_1d(20) {
        let n = total(&s);
        let last = last_id(&s);
        let first = [u64::from(s.2[0]), 0, 0];
        let mut m = Mem::default();
        let i = m.zeros::<i32>(3 * n - 1);
        let o = m.zeros::<i32>(3 * n);
        let r = launch(&mut m, &p, "copy_vload3", &[A::Buf(i), A::Buf(o)], &s);
        expect_oob(r, last, false, None, &format!("copy_vload3 read {s:?}"));
        let mut m = Mem::default();
        let i = m.zeros::<i32>(3 * n);
        let o = m.zeros::<i32>(3 * n - 1);
        let r = launch(&mut m, &p, "copy_vload3", &[A::Buf(i), A::Buf(o)], &s);
        expect_oob(r, last, true, None, &format!("copy_vload3 write {s:?}"));

        let mut m = Mem::default();
        let i = m.zeros::<i32>(n);
        let o = m.zeros::<i32>(n);
        let r = launch(&mut m, &p, "rev_int", &[A::Buf(i), A::Buf(o)], &s);
        expect_oob(r, first, false, Some(4), &format!("rev_int {s:?}"));
        let i = m.zeros::<i32>(n + 1);
        launch(&mut m, &p, "rev_int", &[A::Buf(i), A::Buf(o)], &s).unwrap();

        let mut m = Mem::default();
        let i = m.zeros::<i32>(2 * n - 1);
        let o = m.zeros::<i32>(n);
        let r = launch(&mut m, &p, "stride2", &[A::Buf(i), A::Buf(o)], &s);
        expect_oob(r, last, false, Some(4), &format!("stride2 {s:?}"));

        let mut m = Mem::default();
        let i = m.zeros::<i16>(n);
        let o = m.zeros::<i16>(n);
        let r = launch(&mut m, &p, "plus_one", &[A::Buf(i), A::Buf(o)], &s);
        expect_oob(r, last, false, Some(2), &format!("plus_one {s:?}"));

        let mut m = Mem::default();
        let i = m.zeros::<i64>(n);
        let mut idx: Vec<i32> = (0..n as i32).collect();
        idx[n - 1] = n as i32;
        let ix = m.add(&idx);
        let o = m.zeros::<i64>(n);
        let r = launch(
            &mut m,
            &p,
            "gather",
            &[A::Buf(i), A::Buf(ix), A::Buf(o)],
            &s,
        );
        expect_oob(r, last, false, Some(8), &format!("gather {s:?}"));

        let mut m = Mem::default();
        let mut sel = lane_bits(n, 5, 3);
        sel[n - 1] = 1;
        let sl = m.add(&sel);
        let i = m.zeros::<i32>(n - 1);
        let o = m.zeros::<i32>(n);
        let r = launch(
            &mut m,
            &p,
            "oob_divergent",
            &[A::Buf(sl), A::Buf(i), A::Buf(o)],
            &s,
        );
        expect_oob(r, last, false, Some(4), &format!("oob_divergent {s:?}"));

        let mut m = Mem::default();
        let a = m.zeros::<i32>(n);
        let i = m.zeros::<i32>(n - 1);
        let o = m.zeros::<i32>(n);
        let loc = A::Local(4 * s.0[0] as usize);
        let r = launch(
            &mut m,
            &p,
            "oob_barrier",
            &[A::Buf(a), A::Buf(i), A::Buf(o), loc],
            &s,
        );
        expect_oob(r, last, false, Some(4), &format!("oob_barrier {s:?}"));

        let mut m = Mem::default();
        let i = m.zeros::<f32>(4 * n);
        let o = m.zeros::<f32>(4 * n - 1);
        let r = launch(&mut m, &p, "oob_store_vec", &[A::Buf(i), A::Buf(o)], &s);
        expect_oob(r, last, true, None, &format!("oob_store_vec {s:?}"));

        // The arena holds exactly the __local argument when it is a multiple of 64 bytes:
        // the first group's last lane reads past it.
        if (4 * s.0[0]) % 64 == 0 {
            let mut m = Mem::default();
            let o = m.zeros::<i32>(n);
            let r = launch(
                &mut m,
                &p,
                "oob_local",
                &[A::Buf(o), A::Local(4 * s.0[0] as usize)],
                &s,
            );
            let id = [u64::from(s.2[0] + s.0[0] - 1), 0, 0];
            expect_oob(r, id, false, Some(4), &format!("oob_local {s:?}"));
        }
    }
    for s in SHAPES_ND {
        let n = total(&s);
        let mut m = Mem::default();
        let i = m.zeros::<f32>(n - 1);
        let o = m.zeros::<f32>(n);
        let r = launch(&mut m, &p, "oob_2d", &[A::Buf(i), A::Buf(o)], &s);
        expect_oob(r, last_id(&s), false, Some(4), &format!("oob_2d {s:?}"));
    }
});

// ---------------------------------------------------------------------------------------
// Integers of every width.

/// Integer edge values (every width's limits), then pseudo-random ones of every magnitude.
fn edge_i64(n: usize, seed: u64) -> Vec<i64> {
    let edges = [
        0i64,
        1,
        -1,
        2,
        -2,
        7,
        8,
        31,
        32,
        33,
        63,
        64,
        127,
        128,
        255,
        256,
        -128,
        -129,
        32767,
        32768,
        -32768,
        65535,
        i32::MAX as i64,
        i32::MIN as i64,
        u32::MAX as i64,
        i64::MAX,
        i64::MIN,
        0x5555_5555_5555_5555,
    ];
    let mut r = Rng(seed);
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

both!(integers, |opt: &str| {
    let p = simd("simd_int", opt);
    let kernels = [
        ("int_char", 1usize),
        ("int_uchar", 1),
        ("int_short", 2),
        ("int_ushort", 2),
        ("int_int", 4),
        ("int_uint", 4),
        ("int_long", 8),
        ("int_ulong", 8),
    ];
    for (kernel, sz) in kernels {
        on_jit(&p, kernel);
        for (k, s) in shapes_1d(48).into_iter().enumerate() {
            let mut m = Mem::default();
            let n = total(&s);
            let off = s.2[0] as usize;
            let xs = edge_i64(n, k as u64 + 1);
            let mut ys = edge_i64(n, k as u64 + 2);
            ys.rotate_left(k % 7 + 1);
            // Each value truncated to the width (little-endian: its first `sz` bytes).
            let narrow = |v: &[i64]| -> Vec<u8> {
                v.iter()
                    .flat_map(|x| x.to_le_bytes()[..sz].to_vec())
                    .collect()
            };
            let x = m.add(&narrow(&xs));
            let y = m.add(&narrow(&ys));
            let o = m.zeros::<u8>(n * 40 * sz);
            launch(&mut m, &p, kernel, &[A::Buf(x), A::Buf(y), A::Buf(o)], &s).unwrap();
            let got = m.get::<u8>(o);
            let at = |g: usize, j: usize| -> i64 {
                let mut b = [0u8; 8];
                b[..sz].copy_from_slice(&got[(g * 40 + j) * sz..(g * 40 + j + 1) * sz]);
                i64::from_le_bytes(b)
            };
            for g in 0..n {
                let sh = (g + off) as u32;
                let what = format!("{kernel} {s:?} g={g} x={:#x} y={:#x}", xs[g], ys[g]);
                match kernel {
                    "int_int" => {
                        let (a, b) = (xs[g] as i32, ys[g] as i32);
                        let r = |j| at(g, j) as u32 as i32;
                        assert_eq!(r(0), a.wrapping_add(b), "{what}");
                        assert_eq!(r(5), a.wrapping_shl(sh), "{what}");
                        assert_eq!(r(6), a >> (sh & 31), "{what}");
                        assert_eq!(r(7), a.wrapping_shl((b & 63) as u32), "{what}");
                        assert_eq!(r(8), a >> (b as u32 & 31), "{what}");
                        assert_eq!(r(10), a.min(b), "{what}");
                        assert_eq!(r(16), a.rotate_left(sh % 32), "{what}");
                        assert_eq!(r(18), a.count_ones() as i32, "{what}");
                        assert_eq!(r(19), a.leading_zeros() as i32, "{what}");
                        assert_eq!(r(20), a.saturating_add(b), "{what}");
                        assert_eq!(r(21), a.saturating_sub(b), "{what}");
                        assert_eq!(
                            r(15),
                            ((i64::from(a) * i64::from(b)) >> 32) as i32,
                            "{what}"
                        );
                    }
                    "int_char" => {
                        let (a, b) = (xs[g] as i8, ys[g] as i8);
                        let r = |j| at(g, j) as u8 as i8;
                        assert_eq!(r(5), i32::from(a).wrapping_shl(sh) as i8, "{what}");
                        assert_eq!(r(6), (i32::from(a) >> (sh & 31)) as i8, "{what}");
                        assert_eq!(r(16), a.rotate_left(sh & 7), "{what}");
                        assert_eq!(r(20), a.saturating_add(b), "{what}");
                        assert_eq!(r(12), a.unsigned_abs() as i8, "{what}");
                    }
                    "int_ulong" => {
                        let (a, b) = (xs[g] as u64, ys[g] as u64);
                        let r = |j| at(g, j) as u64;
                        assert_eq!(r(2), a.wrapping_mul(b), "{what}");
                        assert_eq!(r(5), a << (sh & 63), "{what}");
                        assert_eq!(r(6), a >> (sh & 63), "{what}");
                        assert_eq!(
                            r(15),
                            ((u128::from(a) * u128::from(b)) >> 64) as u64,
                            "{what}"
                        );
                        assert_eq!(r(20), a.saturating_add(b), "{what}");
                        assert_eq!(r(21), a.saturating_sub(b), "{what}");
                    }
                    _ => {}
                }
            }
        }
    }
    on_jit(&p, "int_mixed");
    for (k, s) in shapes_1d(48).into_iter().enumerate() {
        let mut m = Mem::default();
        let n = total(&s);
        let xs: Vec<i32> = edge_i64(n, k as u64 + 3)
            .iter()
            .map(|&v| v as i32)
            .collect();
        let x = m.add(&xs);
        let o = m.zeros::<i64>(n * 16);
        launch(&mut m, &p, "int_mixed", &[A::Buf(x), A::Buf(o)], &s).unwrap();
        let got = m.get::<i64>(o);
        for i in 0..n {
            let g = (i + s.2[0] as usize) as i64;
            assert_eq!(got[i * 16 + 6], (g as i32 - 300) as i64, "{s:?} i={i}");
            assert_eq!(
                got[i * 16 + 7],
                (g as u32).wrapping_mul(0x9E37_79B9) as i32 as i64
            );
            assert_eq!(got[i * 16 + 15], s.2[0] as i64 * 1000 + n as i64);
        }
    }
});

// ---------------------------------------------------------------------------------------
// Floating point.

/// Floats with NaNs of several payloads and signs, infinities, signed zeros, denormals,
/// values at the integer conversions' limits, then pseudo-random ones.
fn edge_f32(n: usize, seed: u64) -> Vec<f32> {
    let edges = [
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        0.5,
        1.5,
        2.5,
        -2.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_0001),
        f32::from_bits(0xffc1_2345),
        f32::from_bits(0x7f80_0001),
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x8000_0003),
        f32::from_bits(0x007f_ffff),
        f32::MAX,
        f32::MIN,
        3e9,
        -3e9,
        2147483520.0,
        -2147483648.0,
        4294967040.0,
        127.5,
        -128.5,
        255.5,
        65535.49,
        1e20,
        9.223372e18,
        1.8446743e19,
    ];
    let mut r = Rng(seed);
    (0..n)
        .map(|k| {
            if k < edges.len() {
                edges[k]
            } else {
                r.f32(-1000.0, 1000.0)
            }
        })
        .collect()
}

/// `float_ops`'s comparison bits (`o[11]`), in Rust.
fn compare_bits(a: f64, b: f64, normal: bool) -> i64 {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let bits = [
        a == b,
        a != b,
        a < b,
        a <= b,
        a > b,
        a >= b,
        a.partial_cmp(&b) != Some(Less),
        !matches!(a.partial_cmp(&b), Some(Greater | Equal)),
        !a.is_nan() && !b.is_nan(),
        a.is_nan() || b.is_nan(),
        matches!(a.partial_cmp(&b), Some(Less | Greater)),
        a.is_nan(),
        a.is_infinite(),
        a.is_finite(),
        normal,
        a.is_sign_negative(),
    ];
    bits.iter()
        .enumerate()
        .map(|(k, &b)| i64::from(b) << k)
        .sum()
}

both!(floats, |opt: &str| {
    let p = simd("simd_float", opt);
    on_jit(&p, "float_ops");
    on_jit(&p, "double_ops");
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let n = total(&s);
        let xs = edge_f32(n, k as u64 + 1);
        // The edge values meet each other: ys is xs rotated.
        let mut ys = xs.clone();
        ys.rotate_left([1, 3, 7, 11, 13][k % 5]);
        let mut m = Mem::default();
        let x = m.add(&xs);
        let y = m.add(&ys);
        let o = m.zeros::<i32>(n * 48);
        launch(
            &mut m,
            &p,
            "float_ops",
            &[A::Buf(x), A::Buf(y), A::Buf(o)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in 0..n {
            let (a, b) = (xs[g], ys[g]);
            let o = &got[g * 48..g * 48 + 48];
            let what = format!(
                "{s:?} g={g} a={a:e} ({:#x}) b={b:e} ({:#x})",
                a.to_bits(),
                b.to_bits()
            );
            for (j, want) in [(0, a + b), (1, a - b), (2, a * b), (3, a / b)] {
                let got = f32::from_bits(o[j] as u32);
                if want.is_nan() {
                    assert!(got.is_nan(), "{what}: op {j}");
                } else {
                    assert_eq!(got.to_bits(), want.to_bits(), "{what}: op {j}");
                }
            }
            if !a.is_nan() && !b.is_nan() && (a != 0.0 || b != 0.0) {
                assert_eq!(o[6] as u32, a.min(b).to_bits(), "{what}: fmin");
                assert_eq!(o[7] as u32, a.max(b).to_bits(), "{what}: fmax");
            }
            if a.is_nan() != b.is_nan() {
                let num = if a.is_nan() { b } else { a };
                assert_eq!(o[6] as u32, num.to_bits(), "{what}: fmin of a NaN");
                assert_eq!(o[7] as u32, num.to_bits(), "{what}: fmax of a NaN");
            }
            let normal = a.is_normal();
            assert_eq!(
                i64::from(o[11]),
                compare_bits(f64::from(a), f64::from(b), normal),
                "{what}"
            );
            assert_eq!(
                o[15],
                a.round_ties_even() as i32,
                "{what}: convert_int_sat_rte"
            );
            assert_eq!(o[16], a as i32, "{what}: convert_int_sat");
            assert_eq!(o[17], b.floor() as i32, "{what}: convert_int_sat_rtn");
            assert_eq!(o[18], a as u32 as i32, "{what}: convert_uint_sat");
            assert_eq!(
                o[19],
                b.ceil() as u32 as i32,
                "{what}: convert_uint_sat_rtp"
            );
            assert_eq!(o[20], i32::from(a as u8), "{what}: convert_uchar_sat");
            assert_eq!(o[22], a as i64 as i32, "{what}: convert_long_sat");
            let gu = (g + s.2[0] as usize) as u64 - s.2[0] as u64;
            assert_eq!(
                o[24] as u32,
                ((gu as u32).wrapping_mul(0x9E37_79B9) as f32).to_bits()
            );
            assert_eq!(
                o[25] as u32,
                (gu.wrapping_mul(0x9E37_79B9_7F4A_7C15) as f32).to_bits()
            );
            assert_eq!(
                o[26] as u32,
                (gu.wrapping_mul(-0x12_3456_7891i64 as u64) as i64 as f32).to_bits()
            );
        }

        let xd: Vec<f64> = xs.iter().map(|&v| f64::from(v)).collect();
        let mut yd: Vec<f64> = ys.iter().map(|&v| f64::from(v) * 1.000_000_1).collect();
        yd[3] = f64::from_bits(0x7ff8_0000_0000_0abc);
        yd[4] = f64::from_bits(0xfff8_0000_0000_0def);
        yd[5] = f64::from_bits(0x7ff0_0000_0000_0001);
        yd[6] = f64::from_bits(1);
        yd[7] = f64::from_bits(0x8000_0000_0000_0007);
        yd[8] = 18_446_744_073_709_551_616.0;
        yd[9] = -9_223_372_036_854_775_808.0;
        let x = m.add(&xd);
        let y = m.add(&yd);
        let o = m.zeros::<i64>(n * 48);
        launch(
            &mut m,
            &p,
            "double_ops",
            &[A::Buf(x), A::Buf(y), A::Buf(o)],
            &s,
        )
        .unwrap();
        let got = m.get::<i64>(o);
        for g in 0..n {
            let (a, b) = (xd[g], yd[g]);
            let o = &got[g * 48..g * 48 + 48];
            let what = format!(
                "{s:?} g={g} a={a:e} ({:#x}) b={b:e} ({:#x})",
                a.to_bits(),
                b.to_bits()
            );
            for (j, want) in [(0, a + b), (1, a - b), (2, a * b), (3, a / b)] {
                let got = f64::from_bits(o[j] as u64);
                if want.is_nan() {
                    assert!(got.is_nan(), "{what}: op {j}");
                } else {
                    assert_eq!(got.to_bits(), want.to_bits(), "{what}: op {j}");
                }
            }
            assert_eq!(o[11], compare_bits(a, b, a.is_normal()), "{what}");
            assert_eq!(
                o[15],
                a.round_ties_even() as i64,
                "{what}: convert_long_sat_rte"
            );
            assert_eq!(o[16], a as i64, "{what}: convert_long_sat");
            assert_eq!(o[18], a as u64 as i64, "{what}: convert_ulong_sat");
        }
    }
});

both!(int_to_float, |opt: &str| {
    let p = simd("simd_float", opt);
    on_jit(&p, "int_to_float");
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let n = total(&s);
        let mut r = Rng(k as u64 + 17);
        let xs: Vec<u64> = edge_i64(n, k as u64 + 5)
            .iter()
            .enumerate()
            .map(|(j, &v)| match j % 4 {
                // Around 2^31, 2^32, 2^63, 2^64, and values with more than 24 or 53 bits.
                1 => (1u64 << (31 + r.next() % 2 * 32))
                    .wrapping_add(r.next() % 512)
                    .wrapping_sub(256),
                2 => u64::MAX - (r.next() % 4096),
                _ => v as u64,
            })
            .collect();
        let mut m = Mem::default();
        let x = m.add(&xs);
        let o = m.zeros::<u32>(n * 16);
        launch(&mut m, &p, "int_to_float", &[A::Buf(x), A::Buf(o)], &s).unwrap();
        let got = m.get::<u32>(o);
        for g in 0..n {
            let x = xs[g];
            let o = &got[g * 16..g * 16 + 16];
            let what = format!("{s:?} g={g} x={x:#x}");
            assert_eq!(o[0], (x as u32 as f32).to_bits(), "{what}");
            assert_eq!(o[1], (x as i32 as f32).to_bits(), "{what}");
            assert_eq!(o[2], (x as f32).to_bits(), "{what}");
            assert_eq!(o[3], (x as i64 as f32).to_bits(), "{what}");
            assert_eq!(o[8], (x as f64).to_bits() as u32, "{what}");
            assert_eq!(o[9], ((x as f64).to_bits() >> 32) as u32, "{what}");
            assert_eq!(o[10], ((x as i64 as f64).to_bits() >> 32) as u32, "{what}");
            assert_eq!(o[11], ((x as u32 as f64).to_bits() >> 32) as u32, "{what}");
        }
    }
});

// ---------------------------------------------------------------------------------------
// Barriers.

/// A work-item of a launch: its linear global id (from 0), linear local id, and linear
/// group id.
struct Item {
    glin: usize,
    llin: usize,
    group: usize,
}

/// The work-items of a launch, in linear global order.
fn items_of(s: &Shape) -> Vec<Item> {
    let gs = [0, 1, 2].map(|d| (s.0[d] * s.1[d]) as usize);
    let ls = s.0.map(|v| v as usize);
    let nc = s.1.map(|v| v as usize);
    let mut v = Vec::new();
    for z in 0..gs[2] {
        for y in 0..gs[1] {
            for x in 0..gs[0] {
                let local = [x % ls[0], y % ls[1], z % ls[2]];
                v.push(Item {
                    glin: (z * gs[1] + y) * gs[0] + x,
                    llin: (local[2] * ls[1] + local[1]) * ls[0] + local[0],
                    group: ((z / ls[2]) * nc[1] + y / ls[1]) * nc[0] + x / ls[0],
                });
            }
        }
    }
    v
}

both!(barrier_live_values, |opt: &str| {
    let p = simd("simd_barrier", opt);
    on_jit(&p, "bar_live");
    for (k, s) in all_shapes(40).into_iter().chain(SHAPES_BIG).enumerate() {
        let n = total(&s);
        let lsz = (s.0[0] * s.0[1] * s.0[2]) as usize;
        let mut m = Mem::default();
        let i = m.add(&lane_bits(n, k as u64 + 7, 10));
        let o = m.zeros::<i64>(n * 16);
        let rounds = 1 + k as i32 % 5;
        launch(
            &mut m,
            &p,
            "bar_live",
            &[A::Buf(i), A::Buf(o), A::Local(4 * lsz), val(rounds)],
            &s,
        )
        .unwrap();
        let got = m.get::<i64>(o);
        for it in items_of(&s) {
            let o = &got[it.glin * 16..it.glin * 16 + 16];
            let uni = rounds * 11 + (0..rounds).sum::<i32>();
            let want = [i64::from(uni), it.llin as i64, lsz as i64];
            assert_eq!([o[12], o[14], o[15]], want, "{s:?} item {}", it.glin);
        }
    }
});

both!(barrier_transpose, |opt: &str| {
    let p = simd("simd_barrier", opt);
    on_jit(&p, "bar_transpose");
    // One z layer per group: the tile is x by y.
    let shapes = all_shapes(40).into_iter().filter(|s| s.0[2] == 1);
    for s in shapes {
        let n = total(&s);
        let (w, h) = (s.0[0] as usize, s.0[1] as usize);
        let input: Vec<i32> = (0..n as i32).map(|k| k * 3 - 77).collect();
        let mut m = Mem::default();
        let i = m.add(&input);
        let o = m.zeros::<i32>(n);
        launch(
            &mut m,
            &p,
            "bar_transpose",
            &[A::Buf(i), A::Buf(o), A::Local(4 * w * h)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        let items = items_of(&s);
        let groups = items.iter().map(|it| it.group).max().unwrap() + 1;
        for grp in 0..groups {
            let mut tile = vec![0; w * h];
            let mut at = vec![0; w * h];
            for it in items.iter().filter(|it| it.group == grp) {
                tile[it.llin] = input[it.glin];
                at[it.llin] = it.glin;
            }
            let t: Vec<i32> = (0..w * h).map(|k| tile[(k % h) * w + k / h]).collect();
            for k in 0..w * h {
                assert_eq!(
                    got[at[k]],
                    t[w * h - 1 - k] * 2 + t[k],
                    "{s:?} group {grp} lane {k}"
                );
            }
        }
    }
});

both!(barrier_reduce, |opt: &str| {
    let p = simd("simd_barrier", opt);
    on_jit(&p, "bar_reduce");
    for (k, s) in all_shapes(40).into_iter().chain(SHAPES_BIG).enumerate() {
        let n = total(&s);
        let lsz = (s.0[0] * s.0[1] * s.0[2]) as usize;
        let groups = (s.1[0] * s.1[1] * s.1[2]) as usize;
        let input = lane_bits(n, k as u64 + 99, 12);
        let mut m = Mem::default();
        let i = m.add(&input);
        let o = m.zeros::<i64>(2 * groups + n);
        let args = [A::Buf(i), A::Buf(o), A::Local(8 * lsz), A::Local(8 * lsz)];
        launch(&mut m, &p, "bar_reduce", &args, &s).unwrap();
        let got = m.get::<i64>(o);
        let items = items_of(&s);
        for grp in 0..groups {
            let sum: i64 = items
                .iter()
                .filter(|it| it.group == grp)
                .map(|it| i64::from(input[it.glin]))
                .sum();
            assert_eq!(got[2 * grp], sum, "{s:?} group {grp}");
            assert_eq!(
                f64::from_bits(got[2 * grp + 1] as u64),
                sum as f64 * 0.5,
                "{s:?} group {grp}"
            );
        }
        for it in &items {
            let sum: i64 = items
                .iter()
                .filter(|o| o.group == it.group)
                .map(|o| i64::from(input[o.glin]))
                .sum();
            assert_eq!(
                got[2 * groups + it.glin],
                sum - i64::from(input[it.glin]),
                "{s:?} item {}",
                it.glin
            );
        }
    }
});

both!(barrier_scan, |opt: &str| {
    let p = simd("simd_barrier", opt);
    on_jit(&p, "bar_scan");
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let n = total(&s);
        let lsz = s.0[0] as usize;
        let input = lane_bits(n, k as u64 + 5, 8);
        let mut m = Mem::default();
        let i = m.add(&input);
        let o = m.zeros::<i32>(n);
        launch(
            &mut m,
            &p,
            "bar_scan",
            &[A::Buf(i), A::Buf(o), A::Local(4 * lsz), A::Local(4 * lsz)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for grp in 0..n / lsz {
            let mut acc = 0;
            for l in 0..lsz {
                acc += input[grp * lsz + l];
                assert_eq!(got[grp * lsz + l], acc, "{s:?} group {grp} lane {l}");
            }
        }
    }
});

both!(barrier_after_divergence, |opt: &str| {
    let p = simd("simd_barrier", opt);
    on_jit(&p, "bar_after_divergence");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        let n = total(&s);
        let lsz = s.0[0] as usize;
        let input = lane_bits(n, k as u64 + 15, 8);
        let mut m = Mem::default();
        let i = m.add(&input);
        let o = m.zeros::<i32>(3 * n);
        launch(
            &mut m,
            &p,
            "bar_after_divergence",
            &[A::Buf(i), A::Buf(o), A::Local(4 * lsz)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for grp in 0..n / lsz {
            let xs = &input[grp * lsz..(grp + 1) * lsz];
            let mut js = vec![0; lsz];
            let tmp: Vec<u32> = xs
                .iter()
                .enumerate()
                .map(|(l, &x)| {
                    let mut h = x as u32;
                    for i in 0..(x & 15) as u32 {
                        h = h.wrapping_mul(31).wrapping_add(i);
                    }
                    let j = (0..20).find(|&j| (h >> j) & 3 == 3).unwrap_or(20);
                    js[l] = j;
                    if x & 16 != 0 {
                        for k in 0..3 {
                            h ^= h >> (k + 1);
                        }
                    } else if x & 32 != 0 {
                        h = !h;
                    }
                    h.wrapping_add(j)
                })
                .collect();
            let a: Vec<u32> = (0..lsz)
                .map(|l| {
                    let (mut a, b) = (tmp[(l + 1) % lsz], tmp[lsz - 1 - l]);
                    match xs[l] % 3 {
                        0 => a = a.wrapping_add(b),
                        1 | -2 => a = a.wrapping_sub(b),
                        _ => {
                            for _ in 0..(xs[l] & 7) {
                                a = a.wrapping_mul(3).wrapping_add(b);
                            }
                        }
                    }
                    a
                })
                .collect();
            for l in 0..lsz {
                let g = grp * lsz + l;
                let want = [a[(l + lsz - 1) % lsz] as i32, a[l] as i32, js[l] as i32];
                assert_eq!(&got[3 * g..3 * g + 3], &want, "{s:?} group {grp} lane {l}");
            }
        }
    }
});

both!(barrier_in_function, |opt: &str| {
    let p = simd("simd_barrier", opt);
    on_jit(&p, "bar_call");
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let n = total(&s);
        let lsz = s.0[0] as usize;
        let input = lane_bits(n, k as u64 + 25, 8);
        let rounds = 1 + k as i32 % 4;
        let mut m = Mem::default();
        let i = m.add(&input);
        let o = m.zeros::<i32>(2 * n);
        launch(
            &mut m,
            &p,
            "bar_call",
            &[A::Buf(i), A::Buf(o), A::Local(4 * lsz), val(rounds)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for grp in 0..n / lsz {
            let mut v: Vec<i32> = input[grp * lsz..(grp + 1) * lsz].to_vec();
            let mut acc = vec![0i64; lsz];
            for i in 0..rounds {
                let t: Vec<i32> = v.iter().map(|&x| x + i).collect();
                v = (0..lsz)
                    .map(|l| t[(l * 3 + 1) % lsz] ^ (v[l] >> 1))
                    .collect();
                for l in 0..lsz {
                    acc[l] += i64::from(v[l]);
                }
            }
            if rounds > 2 {
                let t: Vec<i32> = v.iter().map(|&x| x * 2).collect();
                v = (0..lsz).map(|l| t[(l * 3 + 1) % lsz]).collect();
            }
            for l in 0..lsz {
                let g = grp * lsz + l;
                let want = [v[l], (acc[l] ^ (acc[l] >> 32)) as i32];
                assert_eq!(&got[2 * g..2 * g + 2], &want, "{s:?} group {grp} lane {l}");
            }
        }
    }
});

// ---------------------------------------------------------------------------------------
// Atomics with order-free results.

both!(atomics, |opt: &str| {
    let p = simd("simd_atomic", opt);
    on_jit(&p, "atom_counters");
    on_jit(&p, "atom_cas_add");
    for (k, s) in shapes_1d(64).into_iter().enumerate() {
        let n = total(&s);
        let lsz = s.0[0] as usize;
        let groups = n / lsz;
        let xs = lane_bits(n, k as u64 + 3, 14);
        let mut m = Mem::default();
        let i = m.add(&xs);
        let c = m.add(&[0, 0, i32::MIN, i32::MAX, 0, -1, 0, 0, 0, 0, 0]);
        let h = m.zeros::<i32>(16);
        let gh = m.zeros::<i32>(groups * 9);
        let w = m.add(&[0i64, i64::MIN, 0]);
        let args = [A::Buf(i), A::Buf(c), A::Buf(h), A::Buf(gh), A::Buf(w)];
        launch(&mut m, &p, "atom_counters", &args, &s).unwrap();
        let got = m.get::<i32>(c);
        let mut want = [0, 0, i32::MIN, i32::MAX, 0, -1, 0, 0, 0, 0, n as i32];
        for (g, &x) in xs.iter().enumerate() {
            want[0] += 1;
            want[1] = want[1].wrapping_add(x);
            want[2] = want[2].max(x);
            want[3] = want[3].min(x);
            want[4] |= 1 << (g & 31);
            want[5] &= !(1 << (x & 31));
            want[6] ^= x;
            want[7] += x & 1;
            want[8] = (want[8] as u32).max(x as u32) as i32;
            want[9] += g as i32;
        }
        assert_eq!(got, want, "{s:?}");
        let mut hist = vec![0; 16];
        let mut ghist = vec![0; groups * 9];
        for (g, &x) in xs.iter().enumerate() {
            hist[(x & 15) as usize] += 1;
            ghist[g / lsz * 9 + ((x >> 4) & 7) as usize] += 1;
            ghist[g / lsz * 9 + 8] += 1;
        }
        assert_eq!(m.get::<i32>(h), hist, "{s:?}");
        assert_eq!(m.get::<i32>(gh), ghist, "{s:?}");
        let wide = m.get::<i64>(w);
        let sum: i64 = xs.iter().map(|&x| i64::from(x) << 20).sum();
        let max = xs.iter().map(|&x| i64::from(x) * -3).max().unwrap();
        let xor = xs
            .iter()
            .enumerate()
            .fold(0i64, |a, (g, &x)| a ^ (i64::from(x) << (g & 31)));
        assert_eq!(wide, [sum, max, xor], "{s:?}");

        let acc = m.add(&[7i32]);
        let acc2 = m.add(&[1i32, 2, 3]);
        launch(
            &mut m,
            &p,
            "atom_cas_add",
            &[A::Buf(i), A::Buf(acc), A::Buf(acc2)],
            &s,
        )
        .unwrap();
        let sum: i32 = xs.iter().map(|&x| x & 0xfff).sum();
        assert_eq!(m.get::<i32>(acc), [7 + sum], "{s:?}");
        let mut want = [1i32, 2, 3];
        for (g, &x) in xs.iter().enumerate() {
            want[g % 3] += (x & 0xfff) ^ 0x55;
        }
        assert_eq!(m.get::<i32>(acc2), want, "{s:?}");
    }
});

// ---------------------------------------------------------------------------------------
// printf.

both!(printf_lanes, |opt: &str| {
    let p = simd("simd_printf", opt);
    for k in ["pf_all", "pf_types", "pf_subset", "pf_loop", "pf_barrier"] {
        on_jit(&p, k);
    }
    for (k, s) in shapes_1d(24).into_iter().enumerate() {
        let n = total(&s);
        let lsz = s.0[0] as usize;
        let off = s.2[0] as usize;
        let xs = lane_bits(n, k as u64 + 1, 6);
        let mut m = Mem::default();
        let i = m.add(&xs);
        let r = m.add(&vec![-5i32; n]);
        let out = launch(
            &mut m,
            &p,
            "pf_all",
            &[A::Buf(i), A::Buf(r), val(42i32)],
            &s,
        )
        .unwrap();
        let want: String = (0..n)
            .map(|g| format!("g={} l={} x={} u=42\n", g + off, g % lsz, xs[g]))
            .collect();
        assert_eq!(out, want, "{s:?}");
        assert_eq!(m.get::<i32>(r), vec![0; n], "{s:?}: printf's results");
        let out = launch(&mut m, &p, "pf_types", &[A::Buf(i)], &s).unwrap();
        assert_eq!(out.lines().count(), n, "{s:?}");
        let o = m.zeros::<i32>(n);
        let out = launch(&mut m, &p, "pf_subset", &[A::Buf(i), A::Buf(o)], &s).unwrap();
        let want: String = (0..n)
            .map(|g| {
                let x = xs[g];
                let mut l = String::new();
                if (g % lsz).is_multiple_of(3) {
                    l += &format!("lane {} of {lsz}: {x}\n", g % lsz);
                }
                if x & 1 != 0 {
                    l += &format!("{} {g}\n", if x & 2 != 0 { "odd3" } else { "odd1" });
                }
                l
            })
            .collect();
        assert_eq!(out, want, "{s:?}");
        launch(&mut m, &p, "pf_loop", &[A::Buf(i)], &s).unwrap();
        launch(
            &mut m,
            &p,
            "pf_barrier",
            &[A::Buf(i), A::Local(4 * lsz)],
            &s,
        )
        .unwrap();
    }
});

// ---------------------------------------------------------------------------------------
// Work on paths a lane does not take.

both!(guarded, |opt: &str| {
    let p = simd("simd_guard", opt);
    for k in ["guarded_load", "guarded_store", "guarded_div", "loop_loads"] {
        on_jit(&p, k);
    }
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let n = total(&s);
        // The valid part ends inside a SIMD group when possible, and never at a group's end.
        let valid = (n - 1 - k % 3).max(1);
        let xs = lane_bits(n, k as u64 + 31, 10);
        let mut m = Mem::default();
        let i = m.add(&xs[..valid]);
        let o = m.zeros::<i32>(2 * n);
        launch(
            &mut m,
            &p,
            "guarded_load",
            &[A::Buf(i), A::Buf(o), val(valid as i32)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in 0..n {
            let want = if g < valid {
                [xs[g], xs[valid - 1 - g]]
            } else {
                [-1, -2]
            };
            assert_eq!(&got[2 * g..2 * g + 2], &want, "{s:?} valid={valid} g={g}");
        }

        let mut m = Mem::default();
        let i = m.add(&xs);
        let o = m.zeros::<i32>(valid);
        let sentinel: Vec<i32> = (0..n as i32).map(|g| 1000 + g).collect();
        let all = m.add(&sentinel);
        let args = [A::Buf(i), A::Buf(o), A::Buf(all), val(valid as i32)];
        launch(&mut m, &p, "guarded_store", &args, &s).unwrap();
        let want: Vec<i32> = xs[..valid].iter().map(|x| x * 3).collect();
        assert_eq!(m.get::<i32>(o), want, "{s:?}");
        let want: Vec<i32> = (0..n)
            .map(|g| match xs[g] {
                x if x & 1 != 0 => x,
                x if x & 2 != 0 => -x,
                _ => sentinel[g],
            })
            .collect();
        assert_eq!(m.get::<i32>(all), want, "{s:?}");

        let mut r = Rng(k as u64 + 3);
        let pick = |r: &mut Rng, v: &[i64]| v[(r.next() % v.len() as u64) as usize];
        let xd: Vec<i32> = (0..n)
            .map(|_| {
                pick(
                    &mut r,
                    &[0, 1, -1, 7, -7, i32::MIN as i64, i32::MAX as i64, 100],
                ) as i32
            })
            .collect();
        let dd: Vec<i32> = (0..n)
            .map(|_| pick(&mut r, &[0, 0, 1, -1, 3, -3, 65536, i32::MIN as i64]) as i32)
            .collect();
        let ld: Vec<i64> = (0..n)
            .map(|_| pick(&mut r, &[0, 5, -5, i64::MIN, i64::MAX, 1 << 40]))
            .collect();
        let mut m = Mem::default();
        let (x, d, l) = (m.add(&xd), m.add(&dd), m.add(&ld));
        let o = m.zeros::<i32>(4 * n);
        let lo = m.zeros::<i64>(2 * n);
        launch(
            &mut m,
            &p,
            "guarded_div",
            &[A::Buf(x), A::Buf(d), A::Buf(l), A::Buf(o), A::Buf(lo)],
            &s,
        )
        .unwrap();
        let (got, gotl) = (m.get::<i32>(o), m.get::<i64>(lo));
        for g in 0..n {
            let (x, d, l) = (xd[g], dd[g], ld[g]);
            let (q, rem) = if d != 0 && !(x == i32::MIN && d == -1) {
                (x / d, x % d)
            } else {
                (0, 0)
            };
            let uq = if d != 0 {
                (x as u32 / d as u32) as i32
            } else {
                7
            };
            let sq = if d as i16 != 0 {
                (i32::from(x as i16) / i32::from(d as i16)) as i16 as i32
            } else {
                0
            };
            assert_eq!(
                &got[4 * g..4 * g + 4],
                &[q, rem, uq, sq],
                "{s:?} x={x} d={d}"
            );
            let lq = if d != 0 && !(l == i64::MIN && d == -1) {
                l / i64::from(d)
            } else {
                9
            };
            let ur = if d != 0 {
                (l as u64 % u64::from(d as u32)) as i64
            } else {
                11
            };
            assert_eq!(&gotl[2 * g..2 * g + 2], &[lq, ur], "{s:?} l={l} d={d}");
        }

        let cnt: Vec<i32> = (0..n)
            .map(|g| {
                if g == n - 1 {
                    1 + k as i32 % 2
                } else {
                    (xs[g] & 3) + (xs[g] >> 3 & 1)
                }
            })
            .collect();
        let len = 4 * (n - 1) + cnt[n - 1] as usize;
        let data: Vec<i32> = (0..len)
            .map(|j| if j % 5 == 3 { 0 } else { j as i32 % 17 - 8 })
            .collect();
        let mut m = Mem::default();
        let (c, d) = (m.add(&cnt), m.add(&data));
        let o = m.zeros::<i32>(2 * n);
        launch(
            &mut m,
            &p,
            "loop_loads",
            &[A::Buf(c), A::Buf(d), A::Buf(o)],
            &s,
        )
        .unwrap();
        let got = m.get::<i32>(o);
        for g in 0..n {
            let c = cnt[g] as usize;
            let sum = (0..c).fold(0, |s, i| s * 7 + data[4 * g + i]);
            let t: i32 = (0..c)
                .map(|i| data[4 * g + i])
                .take_while(|&v| v != 0)
                .sum();
            assert_eq!(&got[2 * g..2 * g + 2], &[sum, t], "{s:?} g={g} c={c}");
        }
    }
});

// ---------------------------------------------------------------------------------------
// OpenCL vectors inside lanes, uniform aggregates, per-lane bases, a lane's own memory.

both!(vectors_in_lanes, |opt: &str| {
    let p = simd("simd_vector", opt);
    for k in ["vec_lanes", "vec_select_base", "vec_own_alias"] {
        on_jit(&p, k);
    }
    let mut prm = vec![0u8; 32];
    for (c, v) in [1.5f32, -2.0, 0.25, 3.0].iter().enumerate() {
        prm[4 * c..4 * c + 4].copy_from_slice(&v.to_le_bytes());
    }
    prm[16..20].copy_from_slice(&(-17i32).to_le_bytes());
    for (c, v) in [5i16, -6, 7].iter().enumerate() {
        prm[20 + 2 * c..22 + 2 * c].copy_from_slice(&v.to_le_bytes());
    }
    let u = A::Val(bytemuck::cast_slice(&[0.5f32, -0.0, 1e-39, -3.0]).to_vec());
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let n = total(&s);
        let mut r = Rng(k as u64 + 8);
        let fin: Vec<f32> = (0..4 * n)
            .map(|j| match j % 11 {
                3 => -0.0,
                7 => f32::from_bits(5),
                _ => r.f32(-50.0, 50.0),
            })
            .collect();
        let mut m = Mem::default();
        let i = m.add(&fin);
        let o = m.zeros::<f32>(12 * n);
        let io = m.zeros::<i32>(8 * n);
        let ct = m.add(&[10i32, 20, 30, 40, 50]);
        let u = match &u {
            A::Val(v) => A::Val(v.clone()),
            _ => unreachable!(),
        };
        let args = [
            A::Buf(i),
            A::Buf(o),
            A::Buf(io),
            u,
            A::Val(prm.clone()),
            A::Buf(ct),
        ];
        launch(&mut m, &p, "vec_lanes", &args, &s).unwrap();

        let a: Vec<i32> = (0..n as i32 + 1).map(|j| j * 5 - 3).collect();
        let b: Vec<i32> = (0..n as i32 + 1).map(|j| 1000 - j * 7).collect();
        let mut m = Mem::default();
        let (ab, bb) = (m.add(&a), m.add(&b));
        let (oa, ob) = (m.zeros::<i32>(n), m.zeros::<i32>(n));
        launch(
            &mut m,
            &p,
            "vec_select_base",
            &[A::Buf(ab), A::Buf(bb), A::Buf(oa), A::Buf(ob)],
            &s,
        )
        .unwrap();
        let (ga, gb) = (m.get::<i32>(oa), m.get::<i32>(ob));
        for g in 0..n {
            let src = if g & 1 != 0 { &a } else { &b };
            let v = src[g] * 2 + src[g + 1];
            let (wa, wb) = if g & 2 != 0 { (v, 0) } else { (0, v) };
            assert_eq!((ga[g], gb[g]), (wa, wb), "{s:?} g={g}");
        }

        let mut m = Mem::default();
        let buf = m.zeros::<i32>(4 * n);
        let o = m.zeros::<i32>(4 * n);
        launch(&mut m, &p, "vec_own_alias", &[A::Buf(buf), A::Buf(o)], &s).unwrap();
        let got = m.get::<i32>(o);
        for g in 0..n as i32 {
            let mut mine = [g.wrapping_mul(0x0102_0304), -g, g, !g];
            let bytes: Vec<u8> = mine.iter().flat_map(|v| v.to_le_bytes()).collect();
            let short = |k: usize| i32::from(i16::from_le_bytes([bytes[2 * k], bytes[2 * k + 1]]));
            let want0 = i32::from(bytes[1]) + i32::from(bytes[6]) * 256;
            let want2 = mine[0] ^ mine[1] ^ mine[2] ^ mine[3];
            let mut b0 = mine[0].to_le_bytes();
            b0[3] = g as u8;
            mine[0] = i32::from_le_bytes(b0);
            let g = g as usize;
            assert_eq!(
                &got[4 * g..4 * g + 4],
                &[want0, short(1) + short(5), want2, mine[0]],
                "{s:?} g={g}"
            );
        }
    }
});

// ---------------------------------------------------------------------------------------
// OpenCL C 2.0 ids, sub-groups, collectives, program-scope variables.

fn simd_sg(name: &str, opt: &str, sg: Option<u32>) -> Program {
    let path = format!(
        "{}/tests/jit_simd/spv/{name}.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let options = BuildOptions {
        subgroup_size: sg,
        ..Default::default()
    };
    build(&bytes, &options).unwrap_or_else(|e| panic!("{name}.{opt} failed to build:\n{}", e.log))
}

both!(ids_and_subgroups, |opt: &str| {
    for sg in [None, Some(8), Some(32)] {
        let p = simd_sg("simd_ids", opt, sg);
        on_jit(&p, "ids_linear");
        on_jit(&p, "gvar_lanes");
        // Collectives run on the interpreter (both sides of the comparison): still run, for
        // the results, but not a test of the JIT.
        for k in ["sg_collectives", "wg_collectives"] {
            let e = p.kernel_engine(k).unwrap();
            assert_eq!(
                e.engine,
                Engine::Interpreter,
                "{k} is now compiled: make it a JIT test"
            );
        }
        let sgs = sg.unwrap_or(16) as usize;
        let mut gvar = vec![0i32; 4096];
        for (k, s) in all_shapes(40).into_iter().enumerate() {
            let n = total(&s);
            let lsz = (s.0[0] * s.0[1] * s.0[2]) as usize;
            let items = items_of(&s);
            let mut m = Mem::default();
            let o = m.zeros::<u32>(12 * n);
            launch(&mut m, &p, "ids_linear", &[A::Buf(o)], &s).unwrap();
            let got = m.get::<u32>(o);
            for it in &items {
                let o = &got[it.glin * 12..it.glin * 12 + 12];
                let lx = it.llin % s.0[0] as usize;
                let ly = it.llin / s.0[0] as usize % s.0[1] as usize;
                let sgid = it.llin / sgs;
                let want = [
                    it.llin as u32,
                    it.glin as u32,
                    s.0[0] * 100 + s.0[1] * 10 + s.0[2],
                    u32::from((1..4).contains(&lx)),
                    if lx == 0 { 0xff_ffff } else { 0 },
                    u32::from(ly < lx),
                    (it.llin % sgs) as u32,
                    sgid as u32,
                    sgs.min(lsz - sgid * sgs) as u32,
                    lsz.div_ceil(sgs) as u32,
                ];
                assert_eq!(&o[..10], &want, "{s:?} sg={sg:?} item {}", it.glin);
                assert_eq!(o[11], 1, "{s:?} sg={sg:?} item {}", it.glin);
            }

            let xs = lane_bits(n, k as u64 + 2, 6);
            let i = m.add(&xs);
            let o = m.zeros::<i32>(5 * n);
            launch(&mut m, &p, "sg_collectives", &[A::Buf(i), A::Buf(o)], &s).unwrap();
            let got = m.get::<i32>(o);
            for it in &items {
                let members: Vec<i32> = items
                    .iter()
                    .filter(|o| o.group == it.group && o.llin / sgs == it.llin / sgs)
                    .map(|o| (o.llin, xs[o.glin]))
                    .collect::<std::collections::BTreeMap<_, _>>()
                    .into_values()
                    .collect();
                let pos = it.llin % sgs;
                let want = [
                    members.iter().fold(0i32, |a, &v| a.wrapping_add(v)),
                    *members[..=pos].iter().max().unwrap(),
                    members[1 % members.len()],
                    i32::from(members.iter().any(|v| v & 1 != 0)),
                    i32::from(members.iter().all(|&v| v > -1_000_000)),
                ];
                assert_eq!(
                    &got[it.glin * 5..it.glin * 5 + 5],
                    &want,
                    "{s:?} sg={sg:?} item {}",
                    it.glin
                );
            }
            let o = m.zeros::<i32>(3 * n);
            launch(&mut m, &p, "wg_collectives", &[A::Buf(i), A::Buf(o)], &s).unwrap();
            let got = m.get::<i32>(o);
            for it in &items {
                let mut members: Vec<(usize, i32)> = items
                    .iter()
                    .filter(|o| o.group == it.group)
                    .map(|o| (o.llin, xs[o.glin]))
                    .collect();
                members.sort();
                let want = [
                    members.iter().map(|m| m.1).sum::<i32>(),
                    members[..it.llin].iter().map(|m| m.1).sum::<i32>(),
                    members[0].1,
                ];
                assert_eq!(
                    &got[it.glin * 3..it.glin * 3 + 3],
                    &want,
                    "{s:?} item {}",
                    it.glin
                );
            }

            let o = m.zeros::<i32>(n);
            let kk = k as i32 * 5 - 9;
            launch(&mut m, &p, "gvar_lanes", &[A::Buf(o), val(kk)], &s).unwrap();
            let got = m.get::<i32>(o);
            for it in &items {
                let gl = it.glin;
                gvar[gl] = gvar[gl].wrapping_mul(3).wrapping_add(gl as i32 + kk);
                gvar[gl + 2048] ^= it.llin as i32;
                assert_eq!(
                    got[gl],
                    gvar[gl].wrapping_sub(gvar[gl + 2048]),
                    "{s:?} item {gl}"
                );
            }
        }
    }
});

both!(uniform_stores, |opt: &str| {
    let p = simd("simd_uniform", opt);
    on_jit(&p, "uni_store");
    for s in shapes_1d(40) {
        let n = total(&s);
        let lsz = s.0[0] as usize;
        let mut m = Mem::default();
        let o = m.zeros::<i32>(2 * n);
        let ol = m.zeros::<i64>(n);
        let of = m.zeros::<f32>(n);
        let (u, l, f) = (-123, 0x1122_3344_5566_7788i64, 2.75f32);
        let args = [A::Buf(o), A::Buf(ol), A::Buf(of), val(u), val(l), val(f)];
        launch(&mut m, &p, "uni_store", &args, &s).unwrap();
        let got = m.get::<i32>(o);
        for g in 0..n {
            let lid = g % lsz;
            assert_eq!(got[g], u, "{s:?} g={g}");
            let tail = if lid >= lsz / 4 * 4 {
                u + 1
            } else {
                lid as i32
            };
            assert_eq!(got[n + g], tail, "{s:?} g={g}");
        }
        assert_eq!(m.get::<i64>(ol), vec![l; n], "{s:?}");
        let want: Vec<f32> = (0..n).map(|g| if g & 1 != 0 { f } else { -f }).collect();
        assert_eq!(m.get::<f32>(of), want, "{s:?}");
    }
});

both!(big_global_ids, |opt: &str| {
    let p = simd("simd_uniform", opt);
    on_jit(&p, "big_ids");
    for (k, s) in shapes_1d(20).into_iter().enumerate() {
        let n = total(&s);
        let off = [0x7fff_fffeu32, 0xffff_fffd, 0x7fff_ffff - (n as u32) / 2][k % 3];
        let s = (s.0, s.1, [off, 0, 0]);
        let mut m = Mem::default();
        let o = m.zeros::<i64>(6 * n);
        launch(&mut m, &p, "big_ids", &[A::Buf(o)], &s).unwrap();
        let got = m.get::<i64>(o);
        for i in 0..n {
            let gid = u64::from(off) + i as u64;
            let want = [
                i64::from(gid as i32),
                i64::from(gid as u32),
                (gid >> 31) as i64,
                gid as i64,
                i64::from((gid as i32) < 0),
                i64::from((gid as u32).wrapping_add(7)) + i64::from((gid as i32).wrapping_mul(3)),
            ];
            assert_eq!(&got[6 * i..6 * i + 6], &want, "{s:?} i={i}");
        }
    }
});

both!(barrier_subword, |opt: &str| {
    let p = simd("simd_barrier", opt);
    on_jit(&p, "bar_subword");
    for (k, s) in shapes_1d(40).into_iter().enumerate() {
        let n = total(&s);
        let lsz = s.0[0] as usize;
        let xs = lane_bits(n, k as u64 + 61, 10);
        let mut m = Mem::default();
        let i = m.add(&xs);
        let o = m.add(&vec![0xdead_beefu32; 2 * n]);
        launch(&mut m, &p, "bar_subword", &[A::Buf(i), A::Buf(o)], &s).unwrap();
        let got = m.get::<u32>(o);
        for g in 0..n {
            let (grp, lid) = (g / lsz, g % lsz);
            let x = |l: usize| xs[grp * lsz + l];
            let (w, h) = (lid / 4, lid / 2);
            let word = if 4 * w + 3 < lsz {
                u32::from_le_bytes([0, 1, 2, 3].map(|b| x(4 * w + b) as u8))
            } else {
                u32::from(x(lid) as u8)
            };
            let half = if 2 * h + 1 < lsz {
                u32::from((x(2 * h) >> 3) as u16) | u32::from((x(2 * h + 1) >> 3) as u16) << 16
            } else {
                u32::from((x(lid) >> 3) as u16)
            };
            let half = if x(lid) & 4 != 0 { 0xdead_beef } else { half };
            assert_eq!(&got[2 * g..2 * g + 2], &[word, half], "{s:?} g={g}");
        }
    }
});
