//! Red-team kernels for the JIT: OpenCL C written for this test (not the repository's
//! `kernels/`), built at -O0 and -O2 with the flags of `kernels/build.sh` by
//! `tests/jit_redteam/build.sh` into `tests/jit_redteam/spv/`. Every launch goes through the
//! harness (`common::Mem::launch`), which runs it on the interpreter and on the JIT and
//! requires the same result, bit-identical buffers and the same printf output; where a
//! reference is easy, the result is also checked against Rust.

mod common;
use common::*;
use level_zero_cpu_spirv::{BuildOptions, Engine, Program};

/// `tests/jit_redteam/spv/<name>.<opt>.spv`, built through the harness (so that it has its
/// interpreter twin).
fn rt(name: &str, opt: &str) -> Program {
    test_program("jit_redteam", name, opt, &BuildOptions::default())
}

fn bytes_of<T: bytemuck::Pod>(v: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(v).to_vec()
}

/// Values that stress integer edge cases, then pseudo-random ones.
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
        65,
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
        65536,
        i32::MAX as i64,
        i32::MIN as i64,
        u32::MAX as i64,
        i64::MAX,
        i64::MIN,
        0x5555_5555_5555_5555,
        -0x0123_4567_89ab_cdef,
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

/// Floats with NaNs of several payloads and signs, infinities, signed zeros, denormals.
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
        f32::from_bits(0x7f80_0001), // signalling
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x8000_0003),
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

both!(phis, |opt: &str| {
    let p = rt("rt_phis", opt);
    for k in ["multi_phi", "nested", "swap_phis", "vec_loop"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let input: Vec<i32> = (0..64).map(|i| (i * 37 - 500) ^ (i << 9)).collect();
    let i = m.add(&input);
    let o = m.zeros::<i64>(64 * 4);
    m.run1(&p, "multi_phi", &[A::Buf(i), A::Buf(o), val(20i32)], 64, 8)
        .unwrap();
    let o2 = m.zeros::<i32>(128);
    m.run1(&p, "nested", &[A::Buf(i), A::Buf(o2), val(9i32)], 64, 16)
        .unwrap();
    let o3 = m.zeros::<i32>(3 * 24);
    m.run1(&p, "swap_phis", &[A::Buf(o3), val(10i32)], 24, 6)
        .unwrap();
    let got = m.get::<i32>(o3);
    for g in 0..24i32 {
        let (mut x, mut y, mut z) = (g, 100 + g, -g);
        for i in 0..10 {
            (x, y, z) = (y, z, x);
            if i == g {
                x += 1000;
            }
        }
        assert_eq!(
            &got[3 * g as usize..3 * g as usize + 3],
            &[x, y, z],
            "g={g}"
        );
    }
    let fin: Vec<f32> = (0..64 * 4)
        .map(|k| (k as f32 * 0.37).sin() * 20.0)
        .collect();
    let fi = m.add(&fin);
    let fo = m.zeros::<f32>(64 * 4);
    let ex = m.zeros::<i32>(64);
    m.run1(
        &p,
        "vec_loop",
        &[A::Buf(fi), A::Buf(fo), A::Buf(ex), val(12i32)],
        64,
        4,
    )
    .unwrap();
});

both!(switches, |opt: &str| {
    let p = rt("rt_switch", opt);
    for k in ["sw_int", "sw_char", "sw_long", "sw_ushort", "state_machine"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let xs: Vec<i32> = vec![
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        -1,
        1000000,
        i32::MAX,
        i32::MIN,
        -7,
        8,
        999999,
        1000001,
    ];
    let i = m.add(&xs);
    let o = m.zeros::<i32>(16);
    m.run1(&p, "sw_int", &[A::Buf(i), A::Buf(o)], 16, 4)
        .unwrap();
    let reference = |x: i32| -> i32 {
        let mut r = 0;
        match x {
            0 => r = 3,
            1 => r = 2,
            2 | 3 => r = 28,
            7 => r = 16,
            -1 => r = -1,
            1000000 => r = 77,
            i32::MAX => r = 104,
            i32::MIN => r = 5,
            _ => r += 24,
        }
        r
    };
    let want: Vec<i32> = xs.iter().map(|&x| reference(x)).collect();
    assert_eq!(m.get::<i32>(o), want);

    let cs: Vec<i8> = vec![
        -128, -1, b'a' as i8, b'e' as i8, b'i' as i8, 127, 0, 5, -5, b'b' as i8, 100, -100,
    ];
    let c = m.add(&cs);
    let co = m.zeros::<i32>(12);
    m.run1(&p, "sw_char", &[A::Buf(c), A::Buf(co)], 12, 3)
        .unwrap();
    let want: Vec<i32> = cs
        .iter()
        .map(|&c| match c {
            -128 => 1,
            -1 => 2,
            97 | 101 | 105 | 111 | 117 => 3,
            127 => 4,
            0 => 5,
            c => i32::from(c) * 10,
        })
        .collect();
    assert_eq!(m.get::<i32>(co), want);

    let ls: Vec<i64> = vec![
        0x1_0000_0000,
        -0x1_0000_0000,
        i64::MAX,
        1,
        2,
        i64::MIN,
        0,
        3,
        0xffff_ffff,
        -1,
    ];
    let l = m.add(&ls);
    let lo = m.zeros::<i64>(10);
    m.run1(&p, "sw_long", &[A::Buf(l), A::Buf(lo)], 10, 5)
        .unwrap();
    let want: Vec<i64> = ls
        .iter()
        .map(|&x| match x {
            0x1_0000_0000 => 1,
            -0x1_0000_0000 => 2,
            i64::MAX => 3,
            1 => 9,
            2 => 5,
            i64::MIN => 6,
            x => x ^ 0x5555,
        })
        .collect();
    assert_eq!(m.get::<i64>(lo), want);

    let us: Vec<u16> = vec![0xffff, 0xfffe, 0x8000, 0x7fff, 0, 1, 2, 1234];
    let u = m.add(&us);
    let uo = m.zeros::<i32>(8);
    m.run1(&p, "sw_ushort", &[A::Buf(u), A::Buf(uo)], 8, 8)
        .unwrap();

    let prog: Vec<u8> = (0..57u32).map(|k| (k * 13 + 5) as u8).collect();
    let pr = m.add(&prog);
    let so = m.zeros::<i32>(40);
    m.run1(
        &p,
        "state_machine",
        &[A::Buf(pr), A::Buf(so), val(57i32)],
        40,
        5,
    )
    .unwrap();
});

both!(barriers, |opt: &str| {
    let p = rt("rt_barriers", opt);
    for k in ["loop_barrier", "many_live", "tree_reduce", "nested_barrier"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let input: Vec<i32> = (0..112).map(|i| i * 7 - 300).collect();
    let i = m.add(&input);
    for g in [1u32, 7, 16] {
        let n = 112 / g * g;
        let o = m.zeros::<i32>(112);
        m.run1(
            &p,
            "loop_barrier",
            &[A::Buf(i), A::Buf(o), A::Local(4 * g as usize), val(5i32)],
            n,
            g,
        )
        .unwrap();
    }
    let o = m.zeros::<i64>(2 * 39);
    let fo = m.zeros::<f32>(4 * 39);
    m.run1(&p, "many_live", &[A::Buf(i), A::Buf(o), A::Buf(fo)], 39, 13)
        .unwrap();
    let fin: Vec<f32> = (0..4 * 64).map(|k| (k % 17) as f32 - 8.0).collect();
    let fi = m.add(&fin);
    for g in [1u32, 16, 64] {
        let out = m.zeros::<f32>(64 + 64 / g as usize);
        m.run1(
            &p,
            "tree_reduce",
            &[A::Buf(fi), A::Buf(out), A::Local(4 * g as usize)],
            64,
            g,
        )
        .unwrap();
        let got = m.get::<f32>(out);
        for grp in 0..(64 / g) as usize {
            let want: f32 = fin[grp * g as usize * 4..(grp + 1) * g as usize * 4]
                .iter()
                .sum();
            assert_eq!(got[grp], want, "group {grp} of {g}");
        }
    }
    let o = m.zeros::<i32>(3 * 35);
    m.run1(&p, "nested_barrier", &[A::Buf(o), A::Local(4 * 5)], 35, 5)
        .unwrap();
});

both!(local_memory, |opt: &str| {
    let p = rt("rt_local", opt);
    for k in ["transpose", "local_hist", "local_ptrs"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let w = 32usize;
    let input: Vec<i32> = (0..(w * w) as i32).collect();
    let i = m.add(&input);
    let o = m.zeros::<i32>(w * w);
    m.launch(
        &p,
        "transpose",
        &[A::Buf(i), A::Buf(o), A::Local(4 * 64), val(w as i32)],
        [8, 8, 1],
        [4, 4, 1],
        [0; 3],
    )
    .unwrap();
    let got = m.get::<i32>(o);
    for y in 0..w {
        for x in 0..w {
            assert_eq!(got[y * w + x], 3 * input[x * w + y], "({x},{y})");
        }
    }
    let bytes: Vec<u8> = (0..96 * 5).map(|k| (k * 29 + 3) as u8).collect();
    let b = m.add(&bytes);
    let h = m.zeros::<u32>(17);
    m.run1(
        &p,
        "local_hist",
        &[A::Buf(b), A::Buf(h), A::Local(64), val(5i32)],
        96,
        12,
    )
    .unwrap();
    let mut want = vec![0u32; 17];
    for &v in &bytes {
        want[usize::from(v & 15)] += 1;
        want[16] += u32::from(v);
    }
    assert_eq!(m.get::<u32>(h), want);
    let lo = m.zeros::<i32>(48);
    m.run1(
        &p,
        "local_ptrs",
        &[A::Buf(lo), A::Local(4 * 24), A::Local(2 * 24)],
        48,
        24,
    )
    .unwrap();
});

both!(private_memory, |opt: &str| {
    let p = rt("rt_private", opt);
    for k in ["sort_private", "private_structs", "private_stack"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let input: Vec<i32> = (0..256).map(|k| ((k * 7919) % 1000) - 500).collect();
    let i = m.add(&input);
    let o = m.zeros::<i32>(16 * 16);
    m.run1(&p, "sort_private", &[A::Buf(i), A::Buf(o)], 16, 4)
        .unwrap();
    let got = m.get::<i32>(o);
    for g in 0..16 {
        let mut a: Vec<i32> = (0..16).map(|k| input[(g * 16 + k * 7) % 256]).collect();
        a.sort();
        assert_eq!(&got[g * 16..g * 16 + 16], &a[..], "g={g}");
    }
    let fo = m.zeros::<f32>(32);
    m.run1(&p, "private_structs", &[A::Buf(i), A::Buf(fo)], 32, 8)
        .unwrap();
    let so = m.zeros::<i32>(2 * 21);
    m.run1(&p, "private_stack", &[A::Buf(so)], 21, 7).unwrap();
});

both!(int_ops, |opt: &str| {
    let p = rt("rt_intops", opt);
    for k in ["int_ops", "int24", "int_vec"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 64;
    let xs = edge_i64(n, 1);
    let mut ys = edge_i64(n, 2);
    ys.rotate_left(5);
    let x = m.add(&xs);
    let y = m.add(&ys);
    let o = m.zeros::<i64>(n * 128);
    m.run1(
        &p,
        "int_ops",
        &[A::Buf(x), A::Buf(y), A::Buf(o)],
        n as u32,
        8,
    )
    .unwrap();
    // A few references: int shifts take the amount modulo 32, rotate, add_sat, popcount.
    let got = m.get::<i64>(o);
    for g in 0..n {
        let (a, b) = (xs[g] as i32, ys[g] as i32);
        let sh = (ys[g] & 0xff) as u32;
        let base = g * 128 + 64;
        assert_eq!(got[base], i64::from(a.wrapping_shl(sh & 31)), "g={g} shl");
        assert_eq!(got[base + 1], i64::from(a >> (sh & 31)), "g={g} shr");
        assert_eq!(
            got[base + 3],
            i64::from(a.rotate_left(b as u32 & 31)),
            "g={g} rotate"
        );
        assert_eq!(got[base + 6], i64::from(a.saturating_add(b)), "g={g}");
        assert_eq!(got[base + 11], i64::from(a.count_ones()), "g={g}");
        assert_eq!(got[base + 10], i64::from(a.leading_zeros()), "g={g}");
    }
    let xi: Vec<i32> = xs.iter().map(|&v| v as i32).collect();
    let yi: Vec<i32> = ys.iter().map(|&v| v as i32).collect();
    let x32 = m.add(&xi);
    let y32 = m.add(&yi);
    let o24 = m.zeros::<i32>(n * 6);
    m.run1(
        &p,
        "int24",
        &[A::Buf(x32), A::Buf(y32), A::Buf(o24)],
        n as u32,
        16,
    )
    .unwrap();
    let ov = m.zeros::<i32>(32 * 60);
    m.run1(&p, "int_vec", &[A::Buf(x32), A::Buf(ov)], 60, 12)
        .unwrap();
});

both!(float_ops, |opt: &str| {
    let p = rt("rt_float", opt);
    for k in ["fcmp_all", "farith", "darith", "fsum"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 60;
    let xs = edge_f32(n, 3);
    // Every pairing of the edge values with each other: ys is xs rotated by several amounts.
    for rot in [0usize, 1, 3, 7, 11, 13] {
        let mut ys = xs.clone();
        ys.rotate_left(rot);
        let x = m.add(&xs);
        let y = m.add(&ys);
        let c = m.zeros::<i32>(n);
        m.run1(
            &p,
            "fcmp_all",
            &[A::Buf(x), A::Buf(y), A::Buf(c)],
            n as u32,
            4,
        )
        .unwrap();
        let got = m.get::<i32>(c);
        for g in 0..n {
            let (a, b) = (xs[g], ys[g]);
            let want = i32::from(a == b)
                | i32::from(a != b) << 1
                | i32::from(a < b) << 2
                | i32::from(a <= b) << 3
                | i32::from(a > b) << 4
                | i32::from(a >= b) << 5;
            assert_eq!(got[g] & 63, want, "{a} vs {b}");
        }
        let o = m.zeros::<u32>(n * 12);
        m.run1(
            &p,
            "farith",
            &[A::Buf(x), A::Buf(y), A::Buf(o)],
            n as u32,
            4,
        )
        .unwrap();
        let xd: Vec<f64> = xs.iter().map(|&v| f64::from(v)).collect();
        let mut yd: Vec<f64> = ys.iter().map(|&v| f64::from(v)).collect();
        yd[3] = f64::from_bits(0x7ff8_0000_0000_0abc);
        yd[4] = f64::from_bits(0xfff8_0000_0000_0def);
        let xd = m.add(&xd);
        let yd = m.add(&yd);
        let od = m.zeros::<u64>(n * 10);
        m.run1(
            &p,
            "darith",
            &[A::Buf(xd), A::Buf(yd), A::Buf(od)],
            n as u32,
            4,
        )
        .unwrap();
    }
    let fs: Vec<f32> = (0..64).map(|k| 1.0 / (k as f32 + 0.3)).collect();
    let f = m.add(&fs);
    let fo = m.zeros::<f32>(32);
    m.run1(&p, "fsum", &[A::Buf(f), A::Buf(fo), val(100i32)], 32, 8)
        .unwrap();
});

both!(half_ops, |opt: &str| {
    let p = rt("rt_half", opt);
    for k in ["half_ops", "half_conv"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 40;
    let xs: Vec<u16> = edge_f32(n, 4)
        .iter()
        .map(|&f| half::f16::from_f32(f).to_bits())
        .collect();
    let mut ys = xs.clone();
    ys.rotate_left(3);
    let x = m.add(&xs);
    let y = m.add(&ys);
    let o = m.zeros::<u16>(n * 6);
    let c = m.zeros::<i32>(n);
    m.run1(
        &p,
        "half_ops",
        &[A::Buf(x), A::Buf(y), A::Buf(o), A::Buf(c)],
        n as u32,
        8,
    )
    .unwrap();
    let fs = edge_f32(n, 5);
    let f = m.add(&fs);
    let ho = m.zeros::<u16>(n * 4);
    let back = m.zeros::<f32>(n);
    m.run1(
        &p,
        "half_conv",
        &[A::Buf(f), A::Buf(ho), A::Buf(back)],
        n as u32,
        8,
    )
    .unwrap();
});

both!(vectors, |opt: &str| {
    let p = rt("rt_vectors", opt);
    for k in ["vec_mix", "int3_ops", "dyn_index", "uchar_vec"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 24usize;
    let fin: Vec<f32> = (0..n * 8 + 16)
        .map(|k| (k as f32 * 0.7).cos() * 5.0)
        .collect();
    let fi = m.add(&fin);
    let fo = m.zeros::<f32>(n * 17);
    let masks: Vec<u32> = (0..n as u32).map(|k| k.wrapping_mul(2654435761)).collect();
    let mk = m.add(&masks);
    m.run1(
        &p,
        "vec_mix",
        &[A::Buf(fi), A::Buf(fo), A::Buf(mk)],
        n as u32,
        6,
    )
    .unwrap();
    let iin: Vec<i32> = (0..n as i32 * 3 + 16)
        .map(|k: i32| k.wrapping_mul(1103515245).wrapping_add(12345))
        .collect();
    let ii = m.add(&iin);
    let io = m.zeros::<i32>(n * 11);
    m.run1(&p, "int3_ops", &[A::Buf(ii), A::Buf(io)], n as u32, 3)
        .unwrap();
    let dout = m.zeros::<f32>(n * 12);
    m.run1(&p, "dyn_index", &[A::Buf(ii), A::Buf(dout)], n as u32, 8)
        .unwrap();
    let bin: Vec<u8> = (0..n * 3 + 16).map(|k| (k * 91 + 7) as u8).collect();
    let bi = m.add(&bin);
    let bo = m.zeros::<u8>(n * 7);
    m.run1(&p, "uchar_vec", &[A::Buf(bi), A::Buf(bo)], n as u32, 4)
        .unwrap();
});

both!(conversions, |opt: &str| {
    let p = rt("rt_convert", opt);
    for k in ["f2i", "i2i", "d2i", "vec_conv"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 48;
    let fs = edge_f32(n, 6);
    let f = m.add(&fs);
    let o = m.zeros::<i32>(n * 24);
    m.run1(&p, "f2i", &[A::Buf(f), A::Buf(o)], n as u32, 8)
        .unwrap();
    let got = m.get::<i32>(o);
    for g in 0..n {
        let x = fs[g];
        // convert_int_sat: NaN -> 0, saturating, toward zero (Rust's `as`).
        assert_eq!(got[g * 24 + 1], x as i32, "convert_int_sat({x})");
        assert_eq!(got[g * 24 + 2], x.floor() as i32, "rtn({x})");
        assert_eq!(got[g * 24 + 3], x.ceil() as i32, "rtp({x})");
    }
    let ls = edge_i64(n, 7);
    let l = m.add(&ls);
    let lo = m.zeros::<i64>(n * 12);
    m.run1(&p, "i2i", &[A::Buf(l), A::Buf(lo)], n as u32, 8)
        .unwrap();
    let ds: Vec<f64> = fs.iter().map(|&v| f64::from(v) * 1e9).collect();
    let d = m.add(&ds);
    let dout = m.zeros::<i64>(n * 8);
    m.run1(&p, "d2i", &[A::Buf(d), A::Buf(dout)], n as u32, 8)
        .unwrap();
    let vo = m.zeros::<i32>(n / 4 * 4);
    let so = m.zeros::<i16>(n / 4 * 8);
    m.run1(
        &p,
        "vec_conv",
        &[A::Buf(f), A::Buf(vo), A::Buf(so)],
        (n / 4) as u32,
        4,
    )
    .unwrap();
});

both!(atomics, |opt: &str| {
    let p = rt("rt_atomics", opt);
    for k in ["atom_sums", "cas_loop"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 96usize;
    let input: Vec<i32> = (0..n as i32).map(|k| (k * 7919) % 2000 - 1000).collect();
    let i = m.add(&input);
    let c = m.add(&[0, 0, i32::MIN, i32::MAX, 0, 0, -1, 0, 0, 0]);
    let u = m.add(&[0u32, u32::MAX, 0]);
    let l = m.add(&[0i64, i64::MIN, i64::MAX]);
    m.run1(
        &p,
        "atom_sums",
        &[A::Buf(i), A::Buf(c), A::Buf(u), A::Buf(l)],
        n as u32,
        12,
    )
    .unwrap();
    let sum: i32 = input.iter().sum();
    let got = m.get::<i32>(c);
    assert_eq!(got[0], sum);
    assert_eq!(got[1], -sum);
    assert_eq!(got[2], *input.iter().max().unwrap());
    assert_eq!(got[3], *input.iter().min().unwrap());
    assert_eq!(got[7], n as i32);
    assert_eq!(got[8], -(n as i32));
    assert_eq!(got[9], sum);
    let acc = m.add(&[0i32]);
    m.run1(&p, "cas_loop", &[A::Buf(i), A::Buf(acc)], n as u32, 16)
        .unwrap();
    let want: i32 = input.iter().map(|v| v & 0xff).sum();
    assert_eq!(m.get::<i32>(acc)[0], want);
});

/// `S` of `rt_structs.cl`: 48 bytes.
fn s_bytes(c: i8, i: i32, f: f32, l: i64, s: [i16; 3], v: [f32; 4]) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = c as u8;
    b[4..8].copy_from_slice(&i.to_le_bytes());
    b[8..12].copy_from_slice(&f.to_le_bytes());
    b[16..24].copy_from_slice(&l.to_le_bytes());
    for k in 0..3 {
        b[24 + 2 * k..26 + 2 * k].copy_from_slice(&s[k].to_le_bytes());
    }
    for k in 0..4 {
        b[32 + 4 * k..36 + 4 * k].copy_from_slice(&v[k].to_le_bytes());
    }
    b
}

both!(structs, |opt: &str| {
    let p = rt("rt_structs", opt);
    for k in ["by_value", "by_pointer"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 20usize;
    let s = s_bytes(-3, 77, 2.5, -1 << 40, [1, -2, 3], [1.0, 2.0, 3.0, 4.0]);
    let pv = bytes_of(&[5i32, -2]);
    let o = m.zeros::<u8>(48 * n);
    let po = m.zeros::<i32>(2 * n);
    m.run1(
        &p,
        "by_value",
        &[A::Val(s), A::Val(pv), A::Buf(o), A::Buf(po)],
        n as u32,
        5,
    )
    .unwrap();
    let got = m.get::<i32>(po);
    for g in 0..n as i32 {
        assert_eq!(got[2 * g as usize], g + 15, "g={g}");
        assert_eq!(got[2 * g as usize + 1], (g + 1) * -8, "g={g}");
    }
    let mut io = Vec::new();
    for g in 0..n as i32 {
        io.extend(s_bytes(
            g as i8,
            g * 3,
            g as f32,
            i64::from(g) << 33,
            [g as i16, 2, 3],
            [0.0; 4],
        ));
    }
    io.extend(vec![0u8; 48 * n]);
    let iob = m.add(&io);
    let ps: Vec<i32> = (0..2 * n as i32).collect();
    let psb = m.add(&ps);
    m.run1(&p, "by_pointer", &[A::Buf(iob), A::Buf(psb)], n as u32, 4)
        .unwrap();
});

both!(printf, |opt: &str| {
    let p = rt("rt_printf", opt);
    for k in ["one_printf", "two_printfs", "printf_loop", "printf_vec"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let input: Vec<i32> = (0..8).map(|k| k * 3 - 5).collect();
    let i = m.add(&input);
    let out = m
        .run1(&p, "one_printf", &[A::Buf(i)], 8, 4)
        .expect("one_printf");
    assert_eq!(out.lines().count(), 8);
    let fv: Vec<f32> = (0..32).map(|k| k as f32 * 0.25).collect();
    let f = m.add(&fv);
    m.run1(&p, "printf_vec", &[A::Buf(f)], 8, 1)
        .expect("printf_vec");
    // Groups of one work-item: the same order whatever the engine's schedule.
    m.run1(&p, "two_printfs", &[A::Buf(i)], 4, 1)
        .expect("two_printfs");
    m.run1(&p, "printf_loop", &[A::Buf(i)], 8, 1)
        .expect("printf_loop");
});

// Several printf calls per work-item in a group of more than one: the interpreter runs the
// group's work-items together, call by call; the JIT one work-item after the other.
both!(printf_order, |opt: &str| {
    let p = rt("rt_printf", opt);
    let mut m = Mem::default();
    let input: Vec<i32> = (0..8).map(|k| k * 3 - 5).collect();
    let i = m.add(&input);
    m.run1(&p, "two_printfs", &[A::Buf(i)], 4, 4)
        .expect("two_printfs");
});

both!(printf_order_loop, |opt: &str| {
    let p = rt("rt_printf", opt);
    let mut m = Mem::default();
    let input: Vec<i32> = (0..8).map(|k| k * 3 - 5).collect();
    let i = m.add(&input);
    m.run1(&p, "printf_loop", &[A::Buf(i)], 8, 8)
        .expect("printf_loop");
});

both!(early_returns, |opt: &str| {
    let p = rt("rt_early", opt);
    for k in ["early_return", "divergent"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let input: Vec<i32> = (0..64).map(|k| ((k * 37) % 50) - 10).collect();
    let i = m.add(&input);
    let o = m.zeros::<i32>(64);
    m.run1(
        &p,
        "early_return",
        &[A::Buf(i), A::Buf(o), val(13i32)],
        64,
        8,
    )
    .unwrap();
    let o2 = m.zeros::<i32>(64);
    m.run1(&p, "divergent", &[A::Buf(i), A::Buf(o2)], 64, 16)
        .unwrap();
});

both!(work_item_ids, |opt: &str| {
    let p = rt("rt_ids", opt);
    for k in ["ids3", "ids_const"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    for (gs, gc, off) in [
        ([3u32, 5, 2], [2u32, 1, 3], [1u32, 2, 3]),
        ([7, 1, 1], [3, 1, 1], [5, 0, 0]),
        ([3, 3, 1], [1, 4, 1], [0, 7, 0]),
        ([1, 1, 1], [2, 3, 2], [0, 0, 9]),
    ] {
        let items = (0..3).map(|d| gs[d] * gc[d]).product::<u32>() as usize;
        let o = m.zeros::<u32>(items * 24);
        m.launch(&p, "ids3", &[A::Buf(o), val(3u32)], gs, gc, off)
            .unwrap();
        let got = m.get::<u32>(o);
        // get_*(dim) with dim >= 3 reaches SPIR-V as a dynamic extract past the built-in
        // vector's end (llvm-spirv-15 drops OpenCL C's range check), whose result SPIR-V
        // leaves undefined: only compared between the engines, not checked.
        // get_work_dim(): the highest dimension whose global size exceeds 1 (`Program::launch`).
        let wd = (0..3)
            .rev()
            .find(|&d| gs[d] * gc[d] > 1)
            .map_or(1, |d| d as u32 + 1);
        assert_eq!(got[21..23], [wd, 0], "work_dim, linear id");
        for item in got.chunks(24) {
            let local_linear = item[1] + item[8] * gs[0] + item[15] * gs[0] * gs[1];
            assert_eq!(item[22], local_linear, "{item:?}");
        }
        let o2 = m.zeros::<u32>(items);
        m.launch(&p, "ids_const", &[A::Buf(o2)], gs, gc, off)
            .unwrap();
    }
});

both!(group_sizes, |opt: &str| {
    let p = rt("rt_groups", opt);
    on_jit(&p, "group_sum");
    let mut m = Mem::default();
    let input: Vec<i32> = (0..2048).map(|k| (k % 13) - 6).collect();
    let i = m.add(&input);
    for g in [1u32, 1024] {
        let o = m.zeros::<i32>(2048);
        m.run1(&p, "group_sum", &[A::Buf(i), A::Buf(o)], 2048, g)
            .unwrap();
        let got = m.get::<i32>(o);
        for grp in 0..(2048 / g) as usize {
            let mut s = 0;
            for l in 0..g as usize {
                let k = grp * g as usize + l;
                s += input[k];
                let extra = if l == g as usize - 1 { 1000000 } else { 0 };
                assert_eq!(got[k], s + extra, "item {k} in groups of {g}");
            }
        }
    }
});

both!(out_of_bounds, |opt: &str| {
    let p = rt("rt_oob", opt);
    for k in [
        "oob_read",
        "oob_write",
        "oob_vec",
        "oob_two_lanes",
        "oob_local",
        "oob_private",
        "oob_after_barrier",
    ] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let i = m.add(&(0..16).collect::<Vec<i32>>());
    let o = m.zeros::<i32>(16);
    assert!(
        m.run1(&p, "oob_read", &[A::Buf(i), A::Buf(o), val(5i32)], 16, 4)
            .is_err()
    );
    let lo = m.zeros::<i64>(16);
    assert!(
        m.run1(&p, "oob_write", &[A::Buf(lo), val(3i32)], 16, 4)
            .is_err()
    );
    let f = m.zeros::<f32>(4 * 8);
    let fo = m.zeros::<f32>(4 * 8);
    assert!(
        m.run1(&p, "oob_vec", &[A::Buf(f), A::Buf(fo), val(7i32)], 8, 8)
            .is_err()
    );
    // Within the local arena, past the array: allowed by both engines' sanitizers.
    m.run1(&p, "oob_local", &[A::Buf(o), val(4i32)], 8, 8)
        .unwrap();
    m.run1(&p, "oob_private", &[A::Buf(o), val(0i32)], 4, 4)
        .unwrap();
    let big = m.zeros::<i32>(16);
    assert!(
        m.run1(
            &p,
            "oob_after_barrier",
            &[A::Buf(big), A::Local(4 * 8), val(100i32)],
            16,
            8
        )
        .is_err()
    );
    // Past the local arena and the private slice: each engine's own allocations, so the
    // faulting address differs between them, and may even land in one of the test's
    // buffers for one and not the other (the harness then placed them differently: a flaky
    // failure once the heap's layout changed). The kind of fault must still agree.
    faults_may_differ("local and private arenas are each engine's own allocations");
    assert!(
        m.run1(&p, "oob_local", &[A::Buf(o), val(100i32)], 8, 8)
            .is_err()
    );
    assert!(
        m.run1(&p, "oob_private", &[A::Buf(o), val(5000i32)], 4, 4)
            .is_err()
    );
});

// Two work-items of one group fault at two different accesses: work-item 1 at the first
// (a read), work-item 0 at the second (a write).
both!(out_of_bounds_two_lanes, |opt: &str| {
    faults_may_differ("work-item 1 faults at the read, work-item 0 at the write");
    let p = rt("rt_oob", opt);
    let mut m = Mem::default();
    let b = m.zeros::<i32>(8);
    let r = m.run1(&p, "oob_two_lanes", &[A::Buf(b), val(8i32)], 8, 8);
    assert!(r.is_err());
});

both!(selects, |opt: &str| {
    let p = rt("rt_select", opt);
    on_jit(&p, "selects");
    let mut m = Mem::default();
    let n = 32usize;
    let xs: Vec<i32> = edge_i64(n * 4 + 4, 8).iter().map(|&v| v as i32).collect();
    let x = m.add(&xs);
    let o = m.zeros::<i32>(n * 26);
    m.run1(&p, "selects", &[A::Buf(x), A::Buf(o)], n as u32, 8)
        .unwrap();
});

both!(math, |opt: &str| {
    let p = rt("rt_math", opt);
    for k in ["math_ptrs", "math_vec"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let n = 32usize;
    let mut xs = edge_f32(n, 9);
    // Keep away from the functions' undefined corners (remquo of infinities and so on):
    // the engines share the code anyway; what is compared is how the JIT calls it.
    for x in &mut xs {
        if !x.is_finite() || x.abs() > 1e6 {
            *x = 0.75;
        }
    }
    let x = m.add(&xs);
    let o = m.zeros::<f32>(n * 12);
    let io = m.zeros::<i32>(n * 2);
    m.run1(
        &p,
        "math_ptrs",
        &[A::Buf(x), A::Buf(o), A::Buf(io)],
        n as u32,
        8,
    )
    .unwrap();
    let v = m.zeros::<f32>(n);
    m.run1(&p, "math_vec", &[A::Buf(x), A::Buf(v)], (n / 4) as u32, 2)
        .unwrap();
});

both!(bitcasts, |opt: &str| {
    let p = rt("rt_bitcast", opt);
    on_jit(&p, "casts");
    let mut m = Mem::default();
    let n = 32usize;
    let xs: Vec<u32> = edge_i64(n + 1, 10).iter().map(|&v| v as u32).collect();
    let x = m.add(&xs);
    let o = m.zeros::<u32>(n * 10);
    m.run1(&p, "casts", &[A::Buf(x), A::Buf(o)], n as u32, 8)
        .unwrap();
});

both!(generic_pointers, |opt: &str| {
    let p = rt("rt_generic", opt);
    on_jit(&p, "generic_ptrs");
    let mut m = Mem::default();
    let b = m.add(&(0..64).collect::<Vec<i32>>());
    m.run1(&p, "generic_ptrs", &[A::Buf(b), val(8i32)], 16, 8)
        .unwrap();
    // Program-scope state evolves the same in both (the harness's twin).
    m.run1(&p, "generic_ptrs", &[A::Buf(b), val(8i32)], 16, 8)
        .unwrap();
});

// The minimal forms of the two disagreements above (`rt_printf_order.cl`, `rt_oob_order.cl`).
both!(minimal_printf_order, |opt: &str| {
    let p = rt("rt_printf_order", opt);
    on_jit(&p, "k");
    let mut m = Mem::default();
    m.run1(&p, "k", &[], 2, 2).expect("printf");
});

both!(minimal_oob_order, |opt: &str| {
    faults_may_differ("work-item 1 faults at the read, work-item 0 at the write");
    let p = rt("rt_oob_order", opt);
    on_jit(&p, "k");
    let mut m = Mem::default();
    let b = m.zeros::<i32>(2);
    assert!(m.run1(&p, "k", &[A::Buf(b), val(2i32)], 2, 2).is_err());
});

// The vector path once kept a value reset to a constant from the previous chunk of lanes:
// groups of 8 work-items, so every group has two chunks; checked against Rust as well.
both!(chunks_restart_from_constants, |opt: &str| {
    let p = rt("rt_chunk_restart", opt);
    for k in ["accumulate_window", "twice_the_id"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let input: Vec<i32> = (0..64).map(|k| ((k * 7919) % 1000) - 500).collect();
    let i = m.add(&input);
    let o = m.zeros::<f32>(32);
    m.run1(&p, "accumulate_window", &[A::Buf(i), A::Buf(o)], 32, 8)
        .unwrap();
    let want: Vec<f32> = (0..32)
        .map(|g| (0..6).fold(0f32, |s, k| (input[g + k] as f32).mul_add(0.5, 0.0) + s))
        .collect();
    assert_eq!(m.get::<f32>(o), want);
    let t = m.zeros::<i32>(32);
    m.run1(&p, "twice_the_id", &[A::Buf(t)], 32, 8).unwrap();
    assert_eq!(
        m.get::<i32>(t),
        (0..32).map(|g| 2 * g).collect::<Vec<i32>>()
    );
});

// x ids of a chunk spanning two rows of a 6-wide work-group (`rt_chunk_rows.cl`).
both!(chunks_spanning_rows, |opt: &str| {
    let p = rt("rt_chunk_rows", opt);
    for k in ["count_x", "copy_x"] {
        on_jit(&p, k);
    }
    let mut m = Mem::default();
    let cnt = m.zeros::<i32>(6);
    m.launch(&p, "count_x", &[A::Buf(cnt)], [6, 4, 1], [1, 1, 1], [0; 3])
        .unwrap();
    assert_eq!(m.get::<i32>(cnt), vec![4; 6]);
    let input: Vec<i32> = (0..12).map(|k| k * 7 - 20).collect();
    let i = m.add(&input);
    let o = m.zeros::<i32>(12);
    // Two groups of 6 x 3: every work-item of a column writes the same value.
    m.launch(
        &p,
        "copy_x",
        &[A::Buf(i), A::Buf(o)],
        [6, 3, 1],
        [2, 1, 1],
        [0; 3],
    )
    .unwrap();
    assert_eq!(
        m.get::<i32>(o),
        input.iter().map(|v| v * 3 + 1).collect::<Vec<i32>>()
    );
});

/// A module of `tests/jit_redteam/findings/` (inputs the module-creation fuzzer mutated).
fn finding(name: &str) -> Program {
    let path = format!(
        "{}/tests/jit_redteam/findings/{name}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    build(&bytes, &BuildOptions::default()).unwrap_or_else(|e| panic!("{name}: {}", e.log))
}

// Values read before any write (here: invalid modules the fuzzer made, a use before its
// definition) start every work-group at 0 on both engines; the interpreter once read what the
// previous work-group left, the JIT 0.
#[test]
fn values_read_before_written_start_each_group_at_zero() {
    let p = build(
        &assemble(&spvasm("use_before_def"), None),
        &BuildOptions::default(),
    )
    .expect("use_before_def builds");
    on_jit(&p, "k");
    let mut m = Mem::default();
    let out = m.zeros::<u64>(3);
    m.run1(&p, "k", &[A::Buf(out)], 3, 1).unwrap();
    // z = y + 1 with y not yet computed: 0 + 1 in every work-group.
    assert_eq!(m.get::<u64>(out), vec![1, 1, 1]);

    // `private_structs` with an index defined 6 instructions after its use.
    let p = finding("rt_private_use_before_def");
    let input: Vec<i32> = (0..256).map(|k| ((k * 7919) % 1000) - 500).collect();
    let i = m.add(&input);
    let fo = m.zeros::<f32>(32);
    let _ = m.run1(&p, "private_structs", &[A::Buf(i), A::Buf(fo)], 4, 1);

    // `oob_read` with `%33 = OpIAdd %uint %32 %33`.
    let p = finding("rt_oob_self_reference");
    let src = m.add(&(0..16).collect::<Vec<i32>>());
    let o = m.zeros::<i32>(16);
    let _ = m.run1(&p, "oob_read", &[A::Buf(src), A::Buf(o), val(0i32)], 4, 1);
}

// A fuzzer-found module whose kernels (about 900 instructions, straight-line) took seconds to
// compile with lane-by-lane code unrolled in the vector path (a libFuzzer timeout); they must
// compile (CI's fuzzing times the compile, with its 10 s limit).
#[test]
fn a_large_straight_line_kernel_compiles() {
    let p = finding("slow_compile");
    for k in p.kernels() {
        let e = p.kernel_engine(&k.name).expect("a kernel of the module");
        assert!(
            e.engine == Engine::Jit
                || e.fallback
                    .as_deref()
                    .is_some_and(|w| w.contains("lockstep")),
            "{}: {:?}",
            k.name,
            e.fallback
        );
    }
}
