//! Red-team kernels for the JIT's rounds between work-group barriers on the vector path
//! (chunks of consecutive work-items): values of every width live across barriers (narrow
//! ones saved as 32-bit frame entries, 64-bit ones as 64-bit entries, uniform and affine ones
//! spelled out per lane), barriers reached from several round starts (the loop head reached
//! from the entry and the back edge, nested loops, uniform if/else with barriers), the
//! shortcut after a chunk saved whole to the next chunk waiting where it started its round,
//! chunks that diverged in some rounds only (saved lane by lane by the scalar path) next to
//! chunks saved whole, values uniform or affine by the class analysis that came from
//! divergent paths, tiled matrix products, transposes and reductions in local memory, and
//! trip counts that differ between groups.
//!
//! OpenCL C written for this test, built at -O0 and -O2 with the flags of `kernels/build.sh`
//! by `tests/jit_rounds/build.sh` into `tests/jit_rounds/spv/`. Every launch goes through
//! the harness (`common::Mem::launch`), which runs it on the interpreter and on the JIT and
//! requires the same result and bit-identical buffers; every kernel runs with 1-D groups of
//! 16, 32, 48, 64, 80 and 256 work-items, 2-D and 3-D ones (16x4, 32x2, 8x8, 16x2x2, 24x3),
//! sizes not a multiple of 16 (24, 17: narrower chunks or no vector path), several groups
//! each (and a sweep of random shapes up to 1024 work-items), and both as checked (the
//! default) and unchecked builds. The tiled products are also checked against Rust.
//!
//! Kernels (`tests/jit_rounds/*.cl`): `rounds_widths` (every width live across two or three
//! barriers per iteration; uint >= 2^31, negative ints and 64-bit values with high bits;
//! vectors and pointers), `rounds_starts` (the loop head's barrier reached from the entry and
//! the back edge, nested loops with barriers at both levels, uniform if/else with barriers,
//! a bottom-tested loop and a called function with barriers, frames with nothing varying),
//! `rounds_diverge` (sparse divergent branches before barriers, values uniform or affine by
//! the class analysis that came from divergent paths, early divergent loops, a divergent
//! switch in the first chunk), `rounds_chunks` (divergence in the chunks a mask chooses, a
//! loop until the group agrees, group-uniform early returns and switch, chunk-uniform branches
//! to different barriers), `rounds_linear` (the local linear id alone: chunks across rows),
//! `rounds_cold` (more live uniform and affine values than a cold callout saves),
//! `rounds_tiles` (tiled matrix products with TILE 8 and 16, a transpose, reductions with
//! halving strides), `rounds_stencil` (halo tiles reaching both ends of the local arena),
//! `rounds_groups` (trip counts and barrier counts that differ between groups).
//!
//! spirv-val rejects five of the -O2 modules llvm-spirv-15 writes, which both engines run:
//! `rounds_widths`, `rounds_diverge`, `rounds_linear` and `rounds_stencil` (an `OpSConvert`
//! of a value defined later in a loop), `rounds_tiles` (blocks before their dominators).

mod common;
use common::*;
use level_zero_cpu_spirv::{BuildOptions, Program};

/// A launch: work-group size, work-group count, global offset.
type Shape = ([u32; 3], [u32; 3], [u32; 3]);

/// The shapes every kernel runs with.
const SHAPES: [Shape; 15] = [
    ([16, 1, 1], [3, 1, 1], [0, 0, 0]),
    ([16, 1, 1], [9, 1, 1], [5, 0, 0]),
    ([32, 1, 1], [2, 1, 1], [0, 0, 0]),
    ([48, 1, 1], [3, 1, 1], [7, 0, 0]),
    ([64, 1, 1], [3, 1, 1], [0, 0, 0]),
    ([80, 1, 1], [2, 1, 1], [0, 0, 0]),
    ([256, 1, 1], [2, 1, 1], [0, 0, 0]),
    ([16, 4, 1], [2, 2, 1], [0, 3, 0]),
    ([32, 2, 1], [1, 3, 1], [0, 0, 0]),
    ([8, 8, 1], [2, 2, 1], [1, 1, 0]),
    ([16, 2, 2], [1, 2, 2], [0, 0, 0]),
    ([24, 1, 1], [3, 1, 1], [0, 0, 0]),
    ([24, 3, 1], [2, 1, 1], [0, 0, 0]),
    ([17, 1, 1], [3, 1, 1], [0, 0, 0]),
    ([64, 4, 1], [1, 1, 2], [0, 0, 0]),
];

/// Work-items in a group.
fn lsz(s: &Shape) -> usize {
    s.0.iter().map(|&v| v as usize).product()
}

/// Groups in a launch.
fn groups(s: &Shape) -> usize {
    s.1.iter().map(|&v| v as usize).product()
}

/// Work-items in a launch.
fn total(s: &Shape) -> usize {
    lsz(s) * groups(s)
}

/// `tests/jit_rounds/spv/<name>.<opt>.spv`, as a checked build (the default) and an
/// unchecked one, each through the harness (so that it has its interpreter twin).
fn progs(name: &str, opt: &str) -> Vec<(&'static str, Program)> {
    let unchecked = BuildOptions {
        unchecked: true,
        ..Default::default()
    };
    vec![
        (
            "checked",
            test_program("jit_rounds", name, opt, &BuildOptions::default()),
        ),
        (
            "unchecked",
            test_program("jit_rounds", name, opt, &unchecked),
        ),
    ]
}

/// The kernel runs on the JIT, with the vector path for 16-wide groups unless the
/// environment turned it off; the chunk widths it gets for a few group sizes are printed
/// (`--nocapture`).
#[track_caller]
fn on_jit_vector(p: &Program, kernel: &str) {
    let main = on_jit_widths(p, kernel);
    let off = std::env::var(WIDTH_ENV).is_ok_and(|v| v.trim() == "0");
    assert!(
        off || main > 0,
        "{kernel}: no vector path for 16-wide groups"
    );
}

/// The kernel runs on the JIT (with or without the vector path: big kernels get none);
/// prints its chunk widths for a few group sizes and returns the one for 16-wide groups.
#[track_caller]
fn on_jit_widths(p: &Program, kernel: &str) -> usize {
    on_jit(p, kernel);
    let w = |x: u32, y: u32| p.kernel_vector_width(kernel, [x, y, 1]).unwrap();
    let main = w(16, 1);
    eprintln!(
        "{kernel}: chunk width {main} (16), {} (64), {} (24), {} (8x8), {} (17)",
        w(64, 1),
        w(24, 1),
        w(8, 8),
        w(17, 1)
    );
    main
}

/// The JIT's chunk width variable (`lower::vector::WIDTH_ENV`).
const WIDTH_ENV: &str = "LEVEL_ZERO_CPU_JIT_WIDTH";

/// Pseudo-random ints: full-range, small of either sign, near the extremes, shifted.
fn ints(n: usize, seed: u64) -> Vec<i32> {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..n)
        .map(|_| match r.next() % 5 {
            0 => r.next() as i32,
            1 => r.i32(-1000, 1000),
            2 => i32::MIN + (r.next() % 64) as i32,
            3 => i32::MAX - (r.next() % 64) as i32,
            _ => (r.next() as i32) >> (r.next() % 31),
        })
        .collect()
}

/// Pseudo-random longs: full-range (high bits set), negative small, 32-bit patterns.
fn longs(n: usize, seed: u64) -> Vec<i64> {
    let mut r = Rng(seed.wrapping_mul(0xd1b5_4a32_d192_ed03) | 1);
    (0..n)
        .map(|_| match r.next() % 4 {
            0 => r.next() as i64,
            1 => -((r.next() % 5000) as i64),
            2 => (r.next() as u32) as i64,
            _ => (r.next() as i64) >> (r.next() % 63),
        })
        .collect()
}

/// Launches `kernel`, the harness comparing both engines; a failure names the build and
/// the shape.
fn launch(m: &mut Mem, p: &Program, kernel: &str, args: &[A], s: &Shape, what: &str) {
    m.launch(p, kernel, args, s.0, s.1, s.2)
        .unwrap_or_else(|e| panic!("{kernel} ({what}) {s:?}: {e}"));
}

// ---------------------------------------------------------------------------------------
// Widths.

both!(widths_two_barriers, |opt: &str| {
    for (what, p) in progs("rounds_widths", opt) {
        on_jit_vector(&p, "rw_two");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1, 2, 5] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 7 + rounds as u64));
                let il = m.add(&longs(n, k as u64 * 11 + rounds as u64));
                let o = m.zeros::<i64>(n * 16);
                launch(
                    &mut m,
                    &p,
                    "rw_two",
                    &[
                        A::Buf(i),
                        A::Buf(il),
                        A::Buf(o),
                        A::Local(4 * l),
                        A::Local(8 * l),
                        val(rounds),
                    ],
                    s,
                    what,
                );
            }
        }
    }
});

both!(widths_high_bits, |opt: &str| {
    for (what, p) in progs("rounds_widths", opt) {
        on_jit_vector(&p, "rw_high");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            let mut m = Mem::default();
            let i = m.add(&ints(n, k as u64 + 100));
            let il = m.add(&longs(n, k as u64 + 200));
            let o = m.zeros::<i64>(n * 16);
            launch(
                &mut m,
                &p,
                "rw_high",
                &[A::Buf(i), A::Buf(il), A::Buf(o), A::Local(4 * l)],
                s,
                what,
            );
            // Spot checks against Rust of values the frame must not truncate.
            let got = m.get::<i64>(o);
            let inp = m.get::<i32>(i);
            for g in 0..n {
                let u = (inp[g] as u32) ^ 0x8000_0000;
                assert_eq!(got[g * 16], u as i64, "{what} {s:?} item {g}");
                assert_eq!(got[g * 16 + 1], u as i32 as i64, "{what} {s:?} item {g}");
                let lid = (g % l) as u32;
                assert_eq!(got[g * 16 + 2], (u32::MAX - lid) as i64);
                assert_eq!(got[g * 16 + 3], (u32::MAX - lid) as i32 as i64);
                let neg = (-1i32).wrapping_sub((lid as i32).wrapping_mul(1_000_003));
                assert_eq!(got[g * 16 + 4], neg as i64, "{what} {s:?} item {g}");
                assert_eq!(got[g * 16 + 5], neg as u32 as i64, "{what} {s:?} item {g}");
            }
        }
    }
});

both!(widths_vectors_pointers, |opt: &str| {
    for (what, p) in progs("rounds_widths", opt) {
        on_jit_vector(&p, "rw_vec_ptr");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1u32, 4] {
                let mut m = Mem::default();
                let i = m.add(&ints(4 * (n + rounds as usize), k as u64 + 300));
                let o = m.zeros::<i32>(4 * n);
                let ol = m.zeros::<i64>(4 * n);
                launch(
                    &mut m,
                    &p,
                    "rw_vec_ptr",
                    &[
                        A::Buf(i),
                        A::Buf(o),
                        A::Buf(ol),
                        A::Local(16 * l),
                        val(rounds),
                    ],
                    s,
                    what,
                );
            }
        }
    }
});

both!(widths_narrow, |opt: &str| {
    for (what, p) in progs("rounds_widths", opt) {
        on_jit_vector(&p, "rw_narrow");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1, 3, 6] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 3 + rounds as u64 + 1000));
                let o = m.zeros::<i32>(n * 10);
                launch(
                    &mut m,
                    &p,
                    "rw_narrow",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(rounds)],
                    s,
                    what,
                );
            }
        }
    }
});

both!(widths_wide, |opt: &str| {
    for (what, p) in progs("rounds_widths", opt) {
        on_jit_vector(&p, "rw_wide");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1, 3, 6] {
                let mut m = Mem::default();
                let i = m.add(&longs(n, k as u64 * 3 + rounds as u64 + 1100));
                let o = m.zeros::<i64>(n * 7);
                launch(
                    &mut m,
                    &p,
                    "rw_wide",
                    &[A::Buf(i), A::Buf(o), A::Local(8 * l), val(rounds)],
                    s,
                    what,
                );
            }
        }
    }
});

// ---------------------------------------------------------------------------------------
// Several round starts.

both!(starts_loop_head, |opt: &str| {
    for (what, p) in progs("rounds_starts", opt) {
        on_jit_vector(&p, "rs_head");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for iters in [1, 2, 3, 6] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 13 + iters as u64));
                let o = m.zeros::<i64>(n * 6);
                launch(
                    &mut m,
                    &p,
                    "rs_head",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(iters)],
                    s,
                    what,
                );
            }
        }
    }
});

both!(starts_nested, |opt: &str| {
    for (what, p) in progs("rounds_starts", opt) {
        on_jit_vector(&p, "rs_nested");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for (outer, inner) in [(0, 0), (1, 0), (2, 1), (3, 2), (4, 3)] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 17 + outer as u64));
                let il = m.add(&longs(n, k as u64 * 19 + inner as u64));
                let o = m.zeros::<i64>(n * 6);
                launch(
                    &mut m,
                    &p,
                    "rs_nested",
                    &[
                        A::Buf(i),
                        A::Buf(il),
                        A::Buf(o),
                        A::Local(4 * l),
                        A::Local(8 * l),
                        val(outer),
                        val(inner),
                    ],
                    s,
                    what,
                );
            }
        }
    }
});

both!(starts_ifelse, |opt: &str| {
    for (what, p) in progs("rounds_starts", opt) {
        on_jit_vector(&p, "rs_ifelse");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for sel in 0..4 {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 23 + sel as u64));
                let o = m.zeros::<i64>(n * 6);
                launch(
                    &mut m,
                    &p,
                    "rs_ifelse",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(sel)],
                    s,
                    what,
                );
            }
        }
    }
});

both!(starts_bottom_and_call, |opt: &str| {
    for (what, p) in progs("rounds_starts", opt) {
        on_jit_vector(&p, "rs_bottom");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for iters in [1, 3] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 29 + iters as u64));
                let o = m.zeros::<i64>(n * 6);
                launch(
                    &mut m,
                    &p,
                    "rs_bottom",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(iters)],
                    s,
                    what,
                );
            }
        }
    }
});

both!(starts_empty_frames, |opt: &str| {
    for (what, p) in progs("rounds_starts", opt) {
        on_jit_vector(&p, "rs_empty");
        for (k, s) in SHAPES
            .iter()
            .filter(|s| s.0[1] == 1 && s.0[2] == 1)
            .enumerate()
        {
            let (n, l) = (total(s), lsz(s));
            for iters in [0, 1, 4] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 73 + iters as u64));
                let o = m.zeros::<i32>(n);
                launch(
                    &mut m,
                    &p,
                    "rs_empty",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(iters)],
                    s,
                    what,
                );
                // Against Rust: each round adds the counter and rotates by one.
                let inp = m.get::<i32>(i);
                let got = m.get::<i32>(o);
                for grp in 0..groups(s) {
                    let mut t: Vec<i32> = inp[grp * l..(grp + 1) * l].to_vec();
                    for it in 0..iters {
                        t = (0..l).map(|x| t[(x + 1) % l].wrapping_add(it)).collect();
                    }
                    assert_eq!(&got[grp * l..(grp + 1) * l], &t[..], "{what} {s:?} {iters}");
                }
            }
        }
    }
});

// ---------------------------------------------------------------------------------------
// Divergence in some chunks.

both!(diverge_sparse, |opt: &str| {
    for (what, p) in progs("rounds_diverge", opt) {
        on_jit_vector(&p, "rd_sparse");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for (rounds, modulus) in [(1, 37), (4, 37), (6, 19), (3, 7), (2, 1000)] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 31 + rounds as u64));
                let o = m.zeros::<i64>(n * 8);
                let side = m.add(&ints(n, k as u64 + 5));
                launch(
                    &mut m,
                    &p,
                    "rd_sparse",
                    &[
                        A::Buf(i),
                        A::Buf(o),
                        A::Buf(side),
                        A::Local(4 * l),
                        val(rounds),
                        val(modulus),
                    ],
                    s,
                    what,
                );
            }
        }
    }
});

both!(diverge_fake_uniform, |opt: &str| {
    for (what, p) in progs("rounds_diverge", opt) {
        on_jit_vector(&p, "rd_fake_uniform");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for (rounds, modulus) in [(1, 37), (3, 37), (5, 41), (4, 9), (3, 1000)] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 37 + rounds as u64));
                let o = m.zeros::<i64>(n * 6);
                let side = m.zeros::<i32>(n);
                launch(
                    &mut m,
                    &p,
                    "rd_fake_uniform",
                    &[
                        A::Buf(i),
                        A::Buf(o),
                        A::Buf(side),
                        A::Local(8 * l),
                        val(rounds),
                        val(modulus),
                    ],
                    s,
                    what,
                );
            }
        }
    }
});

both!(diverge_early, |opt: &str| {
    for (what, p) in progs("rounds_diverge", opt) {
        on_jit_vector(&p, "rd_early");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [0, 1, 4] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 41 + rounds as u64));
                let o = m.zeros::<i64>(n * 3);
                launch(
                    &mut m,
                    &p,
                    "rd_early",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(rounds)],
                    s,
                    what,
                );
            }
        }
    }
});

both!(diverge_chunky, |opt: &str| {
    for (what, p) in progs("rounds_diverge", opt) {
        on_jit_vector(&p, "rd_chunky");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1, 3, 5] {
                let mut m = Mem::default();
                // Small values (the switch's cases), and a few large ones.
                let mut r = Rng(k as u64 * 43 + rounds as u64 + 1);
                let input: Vec<i32> = (0..n)
                    .map(|_| {
                        if r.next().is_multiple_of(8) {
                            r.next() as i32
                        } else {
                            r.i32(-8, 8)
                        }
                    })
                    .collect();
                let i = m.add(&input);
                let o = m.zeros::<i64>(n * 3);
                launch(
                    &mut m,
                    &p,
                    "rd_chunky",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(rounds)],
                    s,
                    what,
                );
            }
        }
    }
});

// Divergence in chosen chunks: every pattern of 5 bits over the runs of `run` lanes (16, 8, 4
// and 5: not a chunk), the pattern moving by one run each round.
both!(chunks_mask, |opt: &str| {
    for (what, p) in progs("rounds_chunks", opt) {
        on_jit_vector(&p, "ch_mask");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for (mask, run) in [
                (0u32, 16u32),
                (1, 16),
                (2, 16),
                (0b10110, 16),
                (0xffff_fffe, 16),
                (0x5555_5555, 8),
                (0x0f0f_0f0f, 4),
                (0b1001, 5),
            ] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 53 + u64::from(mask)));
                let o = m.zeros::<i64>(n * 5);
                let side = m.zeros::<i32>(n);
                launch(
                    &mut m,
                    &p,
                    "ch_mask",
                    &[
                        A::Buf(i),
                        A::Buf(o),
                        A::Buf(side),
                        A::Local(4 * l),
                        val(mask),
                        val(4i32),
                        val(run),
                    ],
                    s,
                    what,
                );
            }
        }
    }
});

both!(chunks_converge, |opt: &str| {
    for (what, p) in progs("rounds_chunks", opt) {
        on_jit_vector(&p, "ch_converge");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            let mut m = Mem::default();
            let i = m.add(&ints(n, k as u64 * 59 + 7));
            let o = m.zeros::<i64>(n * 4);
            launch(
                &mut m,
                &p,
                "ch_converge",
                &[
                    A::Buf(i),
                    A::Buf(o),
                    A::Local(4 * l),
                    A::Local(4),
                    val(0i32),
                ],
                s,
                what,
            );
            // The loop's trip count differs between groups (else this tests less).
            let steps: Vec<i64> = m.get::<i64>(o).chunks(4 * l).map(|c| c[1]).collect();
            if groups(s) > 2 {
                assert!(
                    steps.iter().any(|&x| x != steps[0]),
                    "{s:?}: every group ran {} iterations",
                    steps[0]
                );
            }
        }
    }
});

both!(chunks_split_barriers, |opt: &str| {
    for (what, p) in progs("rounds_chunks", opt) {
        on_jit_vector(&p, "ch_split_barriers");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1, 2, 5] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 79 + rounds as u64));
                let o = m.zeros::<i64>(n * 3);
                launch(
                    &mut m,
                    &p,
                    "ch_split_barriers",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(rounds)],
                    s,
                    what,
                );
            }
        }
    }
});

/// Shapes for kernels that read the local linear id only: chunks may span rows.
const SHAPES_LINEAR: [Shape; 6] = [
    ([12, 4, 1], [2, 1, 1], [0, 0, 0]),
    ([7, 7, 1], [1, 2, 1], [0, 0, 0]),
    ([5, 5, 2], [2, 1, 1], [1, 2, 3]),
    ([20, 4, 1], [1, 1, 2], [0, 0, 0]),
    ([6, 6, 6], [1, 1, 1], [0, 0, 0]),
    ([3, 16, 1], [2, 1, 1], [0, 0, 0]),
];

both!(linear_rounds, |opt: &str| {
    for (what, p) in progs("rounds_linear", opt) {
        on_jit_vector(&p, "ln_rounds");
        for (k, s) in SHAPES.iter().chain(&SHAPES_LINEAR).enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1, 4] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 61 + rounds as u64));
                let o = m.zeros::<i64>(n * 7);
                launch(
                    &mut m,
                    &p,
                    "ln_rounds",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(rounds)],
                    s,
                    what,
                );
            }
        }
    }
});

// More live uniform and affine values than the vector path saves around a cold callout.
both!(cold_many_live, |opt: &str| {
    for (what, p) in progs("rounds_cold", opt) {
        // At -O0 the kernel is too big for the vector path (its instruction budget).
        if opt == "O2" {
            on_jit_vector(&p, "cold_many");
        } else {
            on_jit_widths(&p, "cold_many");
        }
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for rounds in [1, 3] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 67 + rounds as u64));
                let o = m.zeros::<i64>(n * 2);
                launch(
                    &mut m,
                    &p,
                    "cold_many",
                    &[
                        A::Buf(i),
                        A::Buf(o),
                        A::Local(4 * l),
                        val(-0x1234_5678_9abc_def1i64),
                        val(rounds),
                    ],
                    s,
                    what,
                );
            }
        }
    }
});

/// Pseudo-random group shapes whose x size is a multiple of 16 (up to 1024 work-items),
/// with a few groups each.
fn random_shapes(seed: u64, count: usize) -> Vec<Shape> {
    let mut r = Rng(seed);
    let mut v = Vec::new();
    while v.len() < count {
        let x = 16 * (1 + (r.next() % 8) as u32);
        let y = 1 + (r.next() % 4) as u32;
        let z = 1 + (r.next() % 3) as u32;
        if x * y * z > 1024 {
            continue;
        }
        let c = [1 + (r.next() % 3) as u32, 1 + (r.next() % 2) as u32, 1];
        v.push(([x, y, z], c, [(r.next() % 9) as u32, 0, 0]));
    }
    v.push(([1024, 1, 1], [2, 1, 1], [0, 0, 0]));
    v
}

// A sweep of random shapes and parameters over the kernels with divergence in some chunks
// and several round starts.
both!(sweep_random_shapes, |opt: &str| {
    let diverge = progs("rounds_diverge", opt);
    let chunks = progs("rounds_chunks", opt);
    let starts = progs("rounds_starts", opt);
    for (k, s) in random_shapes(0x5eed + opt.len() as u64, 24)
        .iter()
        .enumerate()
    {
        let (n, l) = (total(s), lsz(s));
        let mut r = Rng(k as u64 * 7919 + 1);
        let rounds = 1 + (r.next() % 6) as i32;
        let modulus = [37, 19, 41, 9][k % 4];
        for (what, p) in &diverge {
            let mut m = Mem::default();
            let i = m.add(&ints(n, r.next()));
            let o = m.zeros::<i64>(n * 8);
            let side = m.zeros::<i32>(n);
            let args = [
                A::Buf(i),
                A::Buf(o),
                A::Buf(side),
                A::Local(4 * l),
                val(rounds),
                val(modulus),
            ];
            launch(&mut m, p, "rd_sparse", &args, s, what);
            let mut m = Mem::default();
            let i = m.add(&ints(n, r.next()));
            let o = m.zeros::<i64>(n * 6);
            let side = m.zeros::<i32>(n);
            let args = [
                A::Buf(i),
                A::Buf(o),
                A::Buf(side),
                A::Local(8 * l),
                val(rounds),
                val(modulus),
            ];
            launch(&mut m, p, "rd_fake_uniform", &args, s, what);
        }
        for (what, p) in &chunks {
            let mut m = Mem::default();
            let i = m.add(&ints(n, r.next()));
            let o = m.zeros::<i64>(n * 5);
            let side = m.zeros::<i32>(n);
            let mask = r.next() as u32;
            let run = [16u32, 8, 4, 32][k % 4];
            let args = [
                A::Buf(i),
                A::Buf(o),
                A::Buf(side),
                A::Local(4 * l),
                val(mask),
                val(rounds),
                val(run),
            ];
            launch(&mut m, p, "ch_mask", &args, s, what);
        }
        for (what, p) in &starts {
            let mut m = Mem::default();
            let i = m.add(&ints(n, r.next()));
            let il = m.add(&longs(n, r.next()));
            let o = m.zeros::<i64>(n * 6);
            let args = [
                A::Buf(i),
                A::Buf(il),
                A::Buf(o),
                A::Local(4 * l),
                A::Local(8 * l),
                val(rounds % 4),
                val(rounds),
            ];
            launch(&mut m, p, "rs_nested", &args, s, what);
            let mut m = Mem::default();
            let i = m.add(&ints(n, r.next()));
            let o = m.zeros::<i64>(n * 6);
            let args = [A::Buf(i), A::Buf(o), A::Local(4 * l), val(rounds)];
            launch(&mut m, p, "rs_head", &args, s, what);
        }
    }
});

// ---------------------------------------------------------------------------------------
// Local memory tiles.

/// `a` (n x k) times `b` (k x n), wrapping, and the long products plus -1.
fn matmul_ref(a: &[i32], b: &[i32], n: usize, k: usize) -> (Vec<i32>, Vec<i64>) {
    let mut c = vec![0i32; n * n];
    let mut cl = vec![-1i64; n * n];
    for row in 0..n {
        for col in 0..n {
            for i in 0..k {
                let (x, y) = (a[row * k + i], b[i * n + col]);
                c[row * n + col] = c[row * n + col].wrapping_add(x.wrapping_mul(y));
                cl[row * n + col] =
                    cl[row * n + col].wrapping_add(i64::from(x).wrapping_mul(i64::from(y)));
            }
        }
    }
    (c, cl)
}

fn matmul_int(opt: &str, kernel: &str, tile: usize) {
    for (what, p) in progs("rounds_tiles", opt) {
        on_jit_vector(&p, kernel);
        for (nt, kt, seed) in [(1, 1, 1u64), (2, 1, 2), (2, 3, 3), (3, 2, 4)] {
            let (n, k) = (nt * tile, kt * tile);
            let mut m = Mem::default();
            let av = ints(n * k, seed);
            let bv = ints(k * n, seed + 50);
            let a = m.add(&av);
            let b = m.add(&bv);
            let c = m.zeros::<i32>(n * n);
            let cl = m.zeros::<i64>(n * n);
            let t = tile as u32;
            let s: Shape = ([t, t, 1], [nt as u32, nt as u32, 1], [3, 5, 0]);
            launch(
                &mut m,
                &p,
                kernel,
                &[
                    A::Buf(a),
                    A::Buf(b),
                    A::Buf(c),
                    A::Buf(cl),
                    val(n as i32),
                    val(k as i32),
                ],
                &s,
                what,
            );
            let (want, wantl) = matmul_ref(&av, &bv, n, k);
            assert_eq!(m.get::<i32>(c), want, "{kernel} {what} n={n} k={k}");
            assert_eq!(m.get::<i64>(cl), wantl, "{kernel} {what} n={n} k={k}");
        }
    }
}

fn matmul_float(opt: &str, kernel: &str, tile: usize) {
    for (what, p) in progs("rounds_tiles", opt) {
        on_jit_vector(&p, kernel);
        for (nt, kt, seed) in [(1, 1, 1u64), (2, 2, 2), (3, 1, 3)] {
            let (n, k) = (nt * tile, kt * tile);
            let mut m = Mem::default();
            let mut r = Rng(seed * 977 + 1);
            let av: Vec<f32> = (0..n * k).map(|_| r.f32(-100.0, 100.0)).collect();
            let bv: Vec<f32> = (0..n * k).map(|_| r.f32(-1.0, 1.0) * 1e-3).collect();
            let a = m.add(&av);
            let b = m.add(&bv);
            let c = m.zeros::<f32>(n * n);
            let cd = m.zeros::<f64>(n * n);
            let t = tile as u32;
            let s: Shape = ([t, t, 1], [nt as u32, nt as u32, 1], [0, 0, 0]);
            launch(
                &mut m,
                &p,
                kernel,
                &[
                    A::Buf(a),
                    A::Buf(b),
                    A::Buf(c),
                    A::Buf(cd),
                    val(n as i32),
                    val(k as i32),
                ],
                &s,
                what,
            );
            // The double products of floats are exact: sums in order against Rust.
            let got = m.get::<f64>(cd);
            for row in 0..n {
                for col in 0..n {
                    let mut acc = 0.0f64;
                    for i in 0..k {
                        acc += f64::from(av[row * k + i]) * f64::from(bv[i * n + col]);
                    }
                    assert_eq!(
                        got[row * n + col].to_bits(),
                        acc.to_bits(),
                        "{kernel} {what}"
                    );
                }
            }
        }
    }
}

both!(tiles_matmul_int8, |opt: &str| matmul_int(opt, "mm_int8", 8));
both!(tiles_matmul_int16, |opt: &str| matmul_int(
    opt, "mm_int16", 16
));
both!(tiles_matmul_f8, |opt: &str| matmul_float(opt, "mm_f8", 8));
both!(tiles_matmul_f16, |opt: &str| matmul_float(
    opt, "mm_f16", 16
));

fn stencil_2d(opt: &str, kernel: &str, tw: u32, th: u32) {
    for (what, p) in progs("rounds_stencil", opt) {
        on_jit_vector(&p, kernel);
        for (k, (count, iters)) in [([1u32, 1u32, 1u32], 1), ([3, 2, 1], 3), ([2, 1, 2], 5)]
            .into_iter()
            .enumerate()
        {
            let s: Shape = ([tw, th, 1], count, [k as u32, 0, 0]);
            let n = total(&s);
            let mut r = Rng(k as u64 + 77);
            let input: Vec<f32> = (0..n).map(|_| r.f32(-4.0, 4.0)).collect();
            let mut m = Mem::default();
            let i = m.add(&input);
            let o = m.zeros::<f32>(n);
            let oi = m.zeros::<i32>(3 * n);
            launch(
                &mut m,
                &p,
                kernel,
                &[A::Buf(i), A::Buf(o), A::Buf(oi), val(iters)],
                &s,
                what,
            );
        }
    }
}

both!(stencil_16x4, |opt: &str| stencil_2d(opt, "st_16x4", 16, 4));
both!(stencil_8x8, |opt: &str| stencil_2d(opt, "st_8x8", 8, 8));
both!(stencil_32x2, |opt: &str| stencil_2d(opt, "st_32x2", 32, 2));

both!(stencil_small_16x4, |opt: &str| stencil_2d(
    opt, "sts_16x4", 16, 4
));
both!(stencil_small_32x2, |opt: &str| stencil_2d(
    opt, "sts_32x2", 32, 2
));

both!(stencil_1d, |opt: &str| {
    for (what, p) in progs("rounds_stencil", opt) {
        on_jit_vector(&p, "st_1d");
        for (k, s) in SHAPES
            .iter()
            .filter(|s| s.0[1] == 1 && s.0[2] == 1)
            .enumerate()
        {
            let (n, l) = (total(s), lsz(s));
            for iters in [1, 4] {
                let mut m = Mem::default();
                let i = m.add(&longs(n, k as u64 * 71 + iters as u64));
                let o = m.zeros::<i64>(n * 2);
                launch(
                    &mut m,
                    &p,
                    "st_1d",
                    &[A::Buf(i), A::Buf(o), A::Local(8 * (l + 2)), val(iters)],
                    s,
                    what,
                );
            }
        }
    }
});

both!(tiles_transpose, |opt: &str| {
    for (what, p) in progs("rounds_tiles", opt) {
        on_jit_vector(&p, "tl_transpose");
        for (k, s) in SHAPES.iter().filter(|s| s.0[2] == 1).enumerate() {
            let (n, l) = (total(s), lsz(s));
            let mut m = Mem::default();
            let i = m.add(&longs(n, k as u64 + 400));
            let o = m.zeros::<i64>(n * 3);
            launch(
                &mut m,
                &p,
                "tl_transpose",
                &[A::Buf(i), A::Buf(o), A::Local(8 * l)],
                s,
                what,
            );
        }
    }
});

both!(tiles_reduce, |opt: &str| {
    for (what, p) in progs("rounds_tiles", opt) {
        on_jit_vector(&p, "tl_reduce");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            let mut m = Mem::default();
            let i = m.add(&ints(n, k as u64 + 500));
            let il = m.add(&longs(n, k as u64 + 600));
            let o = m.zeros::<i64>(n * 4);
            launch(
                &mut m,
                &p,
                "tl_reduce",
                &[
                    A::Buf(i),
                    A::Buf(il),
                    A::Buf(o),
                    A::Local(4 * l),
                    A::Local(8 * l),
                    A::Local(8 * l),
                ],
                s,
                what,
            );
            // The int sum against Rust: every lane gets its group's sum minus its input.
            let got = m.get::<i64>(o);
            let inp = m.get::<i32>(i);
            for grp in 0..groups(s) {
                let sum = inp[grp * l..(grp + 1) * l]
                    .iter()
                    .fold(0i32, |a, &x| a.wrapping_add(x));
                for lid in 0..l {
                    let g = grp * l + lid;
                    assert_eq!(
                        got[g * 4],
                        i64::from(sum.wrapping_sub(inp[g])),
                        "{what} {s:?} item {g}"
                    );
                }
            }
        }
    }
});

both!(tiles_reduce_pow2, |opt: &str| {
    for (what, p) in progs("rounds_tiles", opt) {
        on_jit_vector(&p, "tl_reduce_pow2");
        for (k, s) in SHAPES
            .iter()
            .filter(|s| lsz(s).is_power_of_two())
            .enumerate()
        {
            let (n, l) = (total(s), lsz(s));
            let mut m = Mem::default();
            let i = m.add(&ints(n, k as u64 + 700));
            let o = m.zeros::<i64>(n * 2);
            launch(
                &mut m,
                &p,
                "tl_reduce_pow2",
                &[A::Buf(i), A::Buf(o), A::Local(4 * l)],
                s,
                what,
            );
        }
    }
});

// ---------------------------------------------------------------------------------------
// Trip counts that differ between groups.

both!(groups_iters, |opt: &str| {
    for (what, p) in progs("rounds_groups", opt) {
        on_jit_vector(&p, "rg_iters");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            for base in [0, 3] {
                let mut m = Mem::default();
                let i = m.add(&ints(n, k as u64 * 47 + base as u64));
                let o = m.zeros::<i64>(n * 6);
                launch(
                    &mut m,
                    &p,
                    "rg_iters",
                    &[A::Buf(i), A::Buf(o), A::Local(4 * l), val(base)],
                    s,
                    what,
                );
            }
        }
    }
});

both!(groups_bounds, |opt: &str| {
    for (what, p) in progs("rounds_groups", opt) {
        on_jit_vector(&p, "rg_bounds");
        for (k, s) in SHAPES.iter().enumerate() {
            let (n, l) = (total(s), lsz(s));
            let mut m = Mem::default();
            let i = m.add(&ints(n, k as u64 + 800));
            let mut r = Rng(k as u64 + 900);
            let bounds: Vec<i32> = (0..groups(s)).map(|_| r.i32(0, 5)).collect();
            let b = m.add(&bounds);
            let o = m.zeros::<i64>(n * 2);
            launch(
                &mut m,
                &p,
                "rg_bounds",
                &[A::Buf(i), A::Buf(b), A::Buf(o), A::Local(8 * l)],
                s,
                what,
            );
        }
    }
});
