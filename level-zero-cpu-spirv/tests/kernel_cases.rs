// One test per kernel of `kernels/`, at -O0 and -O2, against Rust reference computations.
//
// Written only against the harness API described in `common/portable.rs`, and `include!`d by
// two test crates: this crate's `tests/kernels.rs` (the engine's `Program`, with guard bytes
// and the engine's memory checks) and the root package's `tests/kernels.rs` (the safe
// `level-zero` API, through the embedded CPU driver or the system loader). No `mod` lines or
// inner attributes here. What only the engine API can check (program-scope variables' bytes,
// argument kinds, printf text) is in `tests/engine_checks.rs`.

both!(vector_add, |opt| {
    let p = program("vector_add", opt);
    let n = items(4096, 256);
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| 1000.0 - i as f32).collect();
    let mut m = Mem::default();
    let (ia, ib, ic) = (m.add(&a), m.add(&b), m.zeros::<f32>(n));
    m.run1(
        &p,
        "vector_add",
        &[A::Buf(ia), A::Buf(ib), A::Buf(ic)],
        n as u32,
        64,
    )
    .unwrap();
    let c: Vec<f32> = m.get(ic);
    for i in 0..n {
        assert_eq!(c[i], a[i] + b[i], "at {i}");
    }
});

both!(saxpy, |opt| {
    let p = program("saxpy", opt);
    let n = 2048usize;
    let mut r = Rng(7);
    let x: Vec<f32> = (0..n).map(|_| r.f32(-10.0, 10.0)).collect();
    let y: Vec<f32> = (0..n).map(|_| r.f32(-10.0, 10.0)).collect();
    let mut m = Mem::default();
    let (ix, iy) = (m.add(&x), m.add(&y));
    m.run1(
        &p,
        "saxpy",
        &[val(2.5f32), A::Buf(ix), A::Buf(iy)],
        n as u32,
        128,
    )
    .unwrap();
    let out: Vec<f32> = m.get(iy);
    for i in 0..n {
        let want = 2.5f32 * x[i] + y[i];
        assert!(
            close(out[i].into(), want.into(), 1e-6),
            "at {i}: {} vs {want}",
            out[i]
        );
    }
});

both!(empty, |opt| {
    let p = program("empty", opt);
    let mut m = Mem::default();
    m.run1(&p, "empty", &[], 1024, 64).unwrap();
    m.launch(&p, "empty", &[], [1, 1, 1], [1, 1, 1], [0; 3])
        .unwrap();
});

fn matmul_ref(a: &[f32], b: &[f32], n: usize) -> Vec<f32> {
    let mut c = vec![0f32; n * n];
    for r in 0..n {
        for col in 0..n {
            let mut acc = 0f32;
            for k in 0..n {
                // clang contracts the kernel's `acc += a * b` to OpenCL.std `mad` (fused).
                acc = a[r * n + k].mul_add(b[k * n + col], acc);
            }
            c[r * n + col] = acc;
        }
    }
    c
}

both!(matmul, |opt| {
    let p = program("matmul", opt);
    let n = 32usize;
    let mut r = Rng(11);
    let a: Vec<f32> = (0..n * n).map(|_| r.f32(-1.0, 1.0)).collect();
    let b: Vec<f32> = (0..n * n).map(|_| r.f32(-1.0, 1.0)).collect();
    let want = matmul_ref(&a, &b, n);
    for kernel in ["matmul_naive", "matmul_tiled"] {
        let mut m = Mem::default();
        let (ia, ib, ic) = (m.add(&a), m.add(&b), m.zeros::<f32>(n * n));
        let g = (n / 16) as u32;
        m.launch(
            &p,
            kernel,
            &[A::Buf(ia), A::Buf(ib), A::Buf(ic), val(n as u32)],
            [16, 16, 1],
            [g, g, 1],
            [0; 3],
        )
        .unwrap();
        let c: Vec<f32> = m.get(ic);
        for i in 0..n * n {
            assert!(
                close(c[i].into(), want[i].into(), 1e-5),
                "{kernel} at {i}: {} vs {}",
                c[i],
                want[i]
            );
        }
    }
    // The naive kernel guards against a grid larger than the matrix.
    let mut m = Mem::default();
    let (ia, ib, ic) = (m.add(&a[..100]), m.add(&b[..100]), m.zeros::<f32>(100));
    m.launch(
        &p,
        "matmul_naive",
        &[A::Buf(ia), A::Buf(ib), A::Buf(ic), val(10u32)],
        [8, 8, 1],
        [2, 2, 1],
        [0; 3],
    )
    .unwrap();
    assert_eq!(m.get::<f32>(ic), matmul_ref(&a[..100], &b[..100], 10));
});

macro_rules! int_ops_test {
    ($name:ident, $t:ty) => {
        both!($name, |opt| {
            let p = program("int_arith", opt);
            let n = 512usize;
            let mut r = Rng(3 + std::mem::size_of::<$t>() as u64);
            let mut a: Vec<$t> = Vec::new();
            let mut b: Vec<$t> = Vec::new();
            for i in 0..n {
                let x = r.next() as $t;
                let mut y = r.next() as $t;
                if i % 4 == 0 {
                    y = (y as i128 % 16) as $t;
                }
                if y == 0 as $t {
                    y = 3 as $t;
                }
                // Avoid MIN / -1, undefined in C for int and long.
                if (y as i128) == -1 {
                    y = 5 as $t;
                }
                a.push(x);
                b.push(y);
            }
            let mut m = Mem::default();
            let (ia, ib, io) = (m.add(&a), m.add(&b), m.zeros::<$t>(n * 16));
            let kernel = concat!("int_ops_", stringify!($name));
            m.run1(
                &p,
                kernel,
                &[A::Buf(ia), A::Buf(ib), A::Buf(io)],
                n as u32,
                64,
            )
            .unwrap();
            let out: Vec<$t> = m.get(io);
            for i in 0..n {
                let (x, y) = (a[i] as i128, b[i] as i128);
                let s = (y & 7) as u32;
                let y1 = ((y | 1) as $t) as i128;
                let want: [$t; 16] = [
                    (x + y) as $t,
                    (x - y) as $t,
                    (x.wrapping_mul(y)) as $t,
                    (x / y) as $t,
                    (x % y1) as $t,
                    (x & y) as $t,
                    (x | y) as $t,
                    (x ^ y) as $t,
                    !a[i],
                    (-x) as $t,
                    (x << s) as $t,
                    (x >> s) as $t,
                    (x < y) as $t,
                    (x >= y) as $t,
                    (x == y) as $t,
                    (x.wrapping_mul(3) + 7) as $t,
                ];
                assert_eq!(
                    &out[i * 16..i * 16 + 16],
                    &want,
                    "item {i}: x={} y={}",
                    a[i],
                    b[i]
                );
            }
        });
    };
}
int_ops_test!(char, i8);
int_ops_test!(uchar, u8);
int_ops_test!(short, i16);
int_ops_test!(ushort, u16);
int_ops_test!(int, i32);
int_ops_test!(uint, u32);
int_ops_test!(long, i64);
int_ops_test!(ulong, u64);

both!(float_arith, |opt| {
    let p = program("float_arith", opt);
    let n = 512usize;
    let mut r = Rng(5);
    let a: Vec<f32> = (0..n).map(|_| r.f32(-100.0, 100.0)).collect();
    let mut b: Vec<f32> = (0..n).map(|_| r.f32(-10.0, 10.0)).collect();
    b[3] = a[3];
    let mut m = Mem::default();
    let (ia, ib, io) = (m.add(&a), m.add(&b), m.zeros::<f32>(n * 12));
    m.run1(
        &p,
        "float_ops",
        &[A::Buf(ia), A::Buf(ib), A::Buf(io)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let b2 = |c: bool| if c { 1.0 } else { 0.0 };
        let want = [
            x + y,
            x - y,
            x * y,
            x / y,
            -x,
            x % y,
            b2(x < y),
            b2(x >= y),
            b2(x == y),
            b2(x != y),
            x * 0.5 - y * 0.25,
            (x as i32) as f32,
        ];
        for k in 0..12 {
            assert!(
                close(out[i * 12 + k].into(), want[k].into(), 1e-6),
                "item {i} op {k}: {} vs {}",
                out[i * 12 + k],
                want[k]
            );
        }
    }
});

both!(double_arith, |opt| {
    let p = program("double_arith", opt);
    let n = 256usize;
    let mut r = Rng(9);
    let a: Vec<f64> = (0..n)
        .map(|_| r.f32(-100.0, 100.0) as f64 * 1.000000001)
        .collect();
    let b: Vec<f64> = (0..n).map(|_| r.f32(0.5, 10.0) as f64).collect();
    let mut m = Mem::default();
    let (ia, ib, io) = (m.add(&a), m.add(&b), m.zeros::<f64>(n * 8));
    m.run1(
        &p,
        "double_ops",
        &[A::Buf(ia), A::Buf(ib), A::Buf(io)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<f64> = m.get(io);
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let want = [
            x + y,
            x - y,
            x * y,
            x / y,
            x.abs().sqrt(),
            x.mul_add(y, 1.0),
            x.min(y),
            (x as f32) as f64,
        ];
        assert_eq!(&out[i * 8..i * 8 + 8], &want, "item {i}");
    }
});

both!(half_arith, |opt| {
    use half::f16;
    let p = program("half_arith", opt);
    let n = 256usize;
    let mut r = Rng(13);
    let a: Vec<f16> = (0..n).map(|_| f16::from_f32(r.f32(-50.0, 50.0))).collect();
    let b: Vec<f16> = (0..n).map(|_| f16::from_f32(r.f32(0.5, 8.0))).collect();
    let mut m = Mem::default();
    let (ia, ib, io, iw) = (
        m.add(&a),
        m.add(&b),
        m.zeros::<f16>(n * 6),
        m.zeros::<f32>(n),
    );
    m.run1(
        &p,
        "half_ops",
        &[A::Buf(ia), A::Buf(ib), A::Buf(io), A::Buf(iw)],
        n as u32,
        16,
    )
    .unwrap();
    let out: Vec<f16> = m.get(io);
    let wide: Vec<f32> = m.get(iw);
    for i in 0..n {
        let (x, y) = (a[i].to_f32(), b[i].to_f32());
        let h = f16::from_f32;
        let want = [
            h(x + y),
            h(x - y),
            h(x * y),
            h(x / y),
            if x < y { a[i] } else { b[i] },
            h(x * 2.0),
        ];
        assert_eq!(&out[i * 6..i * 6 + 6], &want, "item {i}");
        assert_eq!(wide[i], x + y);
    }
});

both!(vectors, |opt| {
    let p = program("vectors", opt);
    let n = 128usize;
    let mut r = Rng(17);
    let a: Vec<[f32; 4]> = (0..n)
        .map(|_| {
            [
                r.f32(-5.0, 5.0),
                r.f32(-5.0, 5.0),
                r.f32(-5.0, 5.0),
                r.f32(-5.0, 5.0),
            ]
        })
        .collect();
    let b: Vec<[f32; 4]> = (0..n)
        .map(|_| {
            [
                r.f32(-5.0, 5.0),
                r.f32(-5.0, 5.0),
                r.f32(-5.0, 5.0),
                r.f32(-5.0, 5.0),
            ]
        })
        .collect();
    let mut m = Mem::default();
    let (ia, ib, io, ii) = (
        m.add(&a),
        m.add(&b),
        m.zeros::<[f32; 4]>(n * 4),
        m.zeros::<[i32; 4]>(n * 2),
    );
    m.run1(
        &p,
        "vector_ops",
        &[A::Buf(ia), A::Buf(ib), A::Buf(io), A::Buf(ii)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<[f32; 4]> = m.get(io);
    let iout: Vec<[i32; 4]> = m.get(ii);
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let dot = x[0] * y[0] + x[1] * y[1] + x[2] * y[2] + x[3] * y[3];
        let want = [
            std::array::from_fn(|k| x[k] + y[k] * 2.0),
            [x[3], x[2], x[1], x[0]],
            [x[0], x[1], y[3], dot],
            {
                let z = [x[0], y[0], x[2], y[2]];
                std::array::from_fn(|k| z[k] * x[1])
            },
        ];
        for (k, w) in want.iter().enumerate() {
            for c in 0..4 {
                assert!(
                    close(out[i * 4 + k][c].into(), w[c].into(), 1e-5),
                    "item {i} out {k}.{c}: {:?} vs {:?}",
                    out[i * 4 + k],
                    w
                );
            }
        }
        let cmp: [i32; 4] = std::array::from_fn(|k| if x[k] < y[k] { -1 } else { 0 });
        assert_eq!(iout[i * 2], cmp);
        let conv: [i32; 4] = std::array::from_fn(|k| x[k] as i32 + k as i32 + 1);
        assert_eq!(iout[i * 2 + 1], conv);
    }
    // float3 (vload3/vstore3, cross) and uchar16 swizzles.
    let a: Vec<f32> = (0..n * 3).map(|_| r.f32(-5.0, 5.0)).collect();
    let mut m = Mem::default();
    let (ia, io, ib) = (m.add(&a), m.zeros::<f32>(n * 3), m.zeros::<[u8; 16]>(n));
    m.run1(
        &p,
        "vector3_ops",
        &[A::Buf(ia), A::Buf(io), A::Buf(ib)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    let bytes: Vec<[u8; 16]> = m.get(ib);
    for i in 0..n {
        let v = [a[3 * i], a[3 * i + 1], a[3 * i + 2]];
        let u = [1.0f32, 2.0, 3.0];
        let w = [
            v[1] * u[2] - v[2] * u[1],
            v[2] * u[0] - v[0] * u[2],
            v[0] * u[1] - v[1] * u[0],
        ];
        let want = [w[0] + v[2], w[1] + v[0], w[2] + v[1]];
        for c in 0..3 {
            assert!(
                close(out[3 * i + c].into(), want[c].into(), 1e-5),
                "item {i}: {:?} vs {want:?}",
                &out[3 * i..3 * i + 3]
            );
        }
        let mut ub = [i as u8; 16];
        ub[0] = 1;
        ub[5] = 2;
        ub[10] = 3;
        ub[15] = 4;
        let wb: [u8; 16] = std::array::from_fn(|k| ub[k].wrapping_add(k as u8));
        assert_eq!(bytes[i], wb, "item {i}");
    }
});

both!(conversions, |opt| {
    let p = program("conversions", opt);
    let n = 256usize;
    let mut r = Rng(19);
    let mut f: Vec<f32> = (0..n).map(|_| r.f32(-300.0, 300.0)).collect();
    f[0] = 2.5;
    f[1] = -2.5;
    f[2] = 3.5;
    f[3] = f32::NAN;
    f[4] = 1e30;
    f[5] = -0.5;
    let mut k: Vec<i32> = (0..n).map(|_| r.next() as i32 >> (r.next() % 31)).collect();
    k[0] = 300;
    k[1] = -5;
    k[2] = 1_000_000_000;
    let mut m = Mem::default();
    let (i_f, ik) = (m.add(&f), m.add(&k));
    let (io, ifo, iu, il) = (
        m.zeros::<i32>(n * 8),
        m.zeros::<f32>(n * 4),
        m.zeros::<u8>(n * 2),
        m.zeros::<i64>(n * 2),
    );
    m.run1(
        &p,
        "conversions",
        &[
            A::Buf(i_f),
            A::Buf(ik),
            A::Buf(io),
            A::Buf(ifo),
            A::Buf(iu),
            A::Buf(il),
        ],
        n as u32,
        32,
    )
    .unwrap();
    let io_: Vec<i32> = m.get(io);
    let fo: Vec<f32> = m.get(ifo);
    let uo: Vec<u8> = m.get(iu);
    let lo: Vec<i64> = m.get(il);
    for i in 0..n {
        let (x, kk) = (f[i], k[i]);
        if x.is_finite() && x.abs() < 2e9 {
            assert_eq!(io_[i * 8], x as i32, "item {i} trunc of {x}");
            assert_eq!(
                io_[i * 8 + 2],
                x.round_ties_even() as i32,
                "item {i} rte of {x}"
            );
            assert_eq!(io_[i * 8 + 3], x.ceil() as i32, "item {i} rtp of {x}");
            assert_eq!(io_[i * 8 + 4], x.floor() as i32, "item {i} rtn of {x}");
        }
        assert_eq!(io_[i * 8 + 1], (x * 1e10) as i32, "item {i} sat of {x}");
        assert_eq!(io_[i * 8 + 5], x.to_bits() as i32);
        assert_eq!(io_[i * 8 + 6], kk as i8 as i32);
        assert_eq!(io_[i * 8 + 7], kk as u8 as i32);
        assert_eq!(fo[i * 4], kk as f32);
        assert_eq!(fo[i * 4 + 1], kk as u32 as f32);
        assert_eq!(fo[i * 4 + 2].to_bits(), kk as u32);
        assert_eq!(fo[i * 4 + 3], kk as f32 * 3.0);
        assert_eq!(
            uo[i * 2],
            kk.clamp(0, 255) as u8,
            "item {i} sat uchar of {kk}"
        );
        assert_eq!(
            uo[i * 2 + 1],
            x.round_ties_even() as u8,
            "item {i} sat_rte uchar of {x}"
        );
        assert_eq!(lo[i * 2], kk as i64 * 100000);
        assert_eq!(lo[i * 2 + 1], kk as u32 as i64);
    }
});

both!(compare_select, |opt| {
    let p = program("compare_select", opt);
    let n = 256usize;
    let mut r = Rng(23);
    let a: Vec<i32> = (0..n).map(|_| r.i32(-1000, 1000)).collect();
    let b: Vec<i32> = (0..n).map(|_| r.i32(-1000, 1000)).collect();
    let mut g: Vec<f32> = (0..n).map(|_| r.f32(-2.0, 2.0)).collect();
    g[0] = f32::NAN;
    g[1] = f32::INFINITY;
    g[2] = f32::NEG_INFINITY;
    g[3] = -0.0;
    let mut m = Mem::default();
    let (ia, ib, ig, io) = (m.add(&a), m.add(&b), m.add(&g), m.zeros::<i32>(n * 10));
    m.run1(
        &p,
        "compare_select",
        &[A::Buf(ia), A::Buf(ib), A::Buf(ig), A::Buf(io)],
        n as u32,
        64,
    )
    .unwrap();
    let out: Vec<i32> = m.get(io);
    for i in 0..n {
        let (x, y, f) = (a[i], b[i], g[i]);
        let want = [
            x.min(y),
            if x > y { y } else { x },
            ((x as u32) < (y as u32)) as i32,
            f.is_nan() as i32,
            f.is_infinite() as i32,
            f.is_sign_negative() as i32,
            (x < 0 || y < 0) as i32,
            (x > 0 && y > 0) as i32,
            ((x > 0 && y > 0) || f > 1.0) as i32,
            (f > 0.5) as i32 + 2 * (f < -0.5) as i32,
        ];
        assert_eq!(
            &out[i * 10..i * 10 + 10],
            &want,
            "item {i}: x={x} y={y} g={f}"
        );
    }
});

fn control_flow_ref(x: i32) -> i32 {
    let mut acc: i32 = if x < 0 {
        x.wrapping_neg()
    } else if x < 10 {
        x * 2
    } else {
        x + 100
    };
    for k in 0..(x & 7) {
        acc = acc.wrapping_add(k ^ x);
    }
    let mut w = x & 15;
    while w > 3 {
        w -= 2;
        if w == 7 {
            continue;
        }
        if w == 4 {
            break;
        }
        acc ^= w;
    }
    let mut d = 0;
    loop {
        d += 1;
        acc ^= d * 5;
        if d >= (x & 3) {
            break;
        }
    }
    match x {
        0 => acc = acc.wrapping_add(11),
        1 => acc = acc.wrapping_add(10),
        3 => acc = acc.wrapping_mul(3),
        5 | 6 => acc = acc.wrapping_sub(5),
        _ => acc = acc.wrapping_add(1000),
    }
    for a in 0..3 {
        for b in 0..=a {
            if (a + b + x) & 1 != 0 {
                acc = acc.wrapping_add(a * b);
            }
        }
    }
    if x == 42 {
        return -1;
    }
    acc
}

both!(control_flow, |opt| {
    let p = program("control_flow", opt);
    let n = 512usize;
    let mut r = Rng(29);
    let mut x: Vec<i32> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                i as i32 % 20 - 5
            } else {
                r.i32(-100000, 100000)
            }
        })
        .collect();
    x[7] = 42;
    let mut m = Mem::default();
    let (ix, io) = (m.add(&x), m.zeros::<i32>(n));
    m.run1(&p, "control_flow", &[A::Buf(ix), A::Buf(io)], n as u32, 64)
        .unwrap();
    let out: Vec<i32> = m.get(io);
    for i in 0..n {
        assert_eq!(out[i], control_flow_ref(x[i]), "item {i}: x={}", x[i]);
    }
    // Collatz: very different trip counts per work-item.
    let c: Vec<u32> = (1..=n as u32).collect();
    let mut m = Mem::default();
    let (ic, is) = (m.add(&c), m.zeros::<u32>(n));
    m.run1(&p, "collatz", &[A::Buf(ic), A::Buf(is)], n as u32, 64)
        .unwrap();
    let steps: Vec<u32> = m.get(is);
    for i in 0..n {
        let (mut v, mut s) = (c[i], 0);
        while v > 1 {
            v = if v & 1 != 0 { 3 * v + 1 } else { v / 2 };
            s += 1;
        }
        assert_eq!(steps[i], s, "collatz({})", c[i]);
    }
    // Fibonacci: loop-carried values swapped through OpPhi.
    let f: Vec<u32> = (0..n as u32).map(|i| i % 60).collect();
    let mut m = Mem::default();
    let (i_f, io) = (m.add(&f), m.zeros::<u32>(n));
    m.run1(&p, "fibonacci", &[A::Buf(i_f), A::Buf(io)], n as u32, 64)
        .unwrap();
    let out: Vec<u32> = m.get(io);
    for i in 0..n {
        let (mut a, mut b) = (0u32, 1u32);
        for _ in 0..f[i] {
            let t = a.wrapping_add(b);
            a = b;
            b = t;
        }
        assert_eq!(out[i], a, "fib({})", f[i]);
    }
});

both!(functions, |opt| {
    let p = program("functions", opt);
    let n = 256usize;
    let x: Vec<i32> = (0..n as i32).map(|i| i - 128).collect();
    let mut m = Mem::default();
    let (ix, io, i_f) = (m.add(&x), m.zeros::<i32>(n), m.zeros::<f32>(n));
    m.run1(
        &p,
        "functions",
        &[A::Buf(ix), A::Buf(io), A::Buf(i_f)],
        n as u32,
        64,
    )
    .unwrap();
    let out: Vec<i32> = m.get(io);
    let fout: Vec<f32> = m.get(i_f);
    fn gcd(mut a: i32, mut b: i32) -> i32 {
        while b != 0 {
            let t = a % b;
            a = b;
            b = t;
        }
        a
    }
    for i in 0..n {
        let v = x[i];
        let sq = |y: i32| y * y;
        let want = sq(v)
            + if v & 1 != 0 {
                2 * sq(v + 1)
            } else {
                gcd(v, 12)
            };
        assert_eq!(out[i], want, "item {i}");
        let xf = v as f32;
        let pw = (0.5 * xf - 2.0) * xf + 1.0;
        assert!(
            close(fout[i].into(), pw.into(), 1e-6),
            "item {i}: {} vs {pw}",
            fout[i]
        );
    }
});

both!(memory, |opt| {
    let p = program("memory", opt);
    let n = items(256, 64);
    let x: Vec<i32> = (0..n as i32).map(|i| i * 3 - 100).collect();
    let mut m = Mem::default();
    let (ix, io) = (m.add(&x), m.zeros::<i32>(n));
    m.run1(&p, "private_array", &[A::Buf(ix), A::Buf(io)], n as u32, 64)
        .unwrap();
    let out: Vec<i32> = m.get(io);
    for i in 0..n {
        let tmp: Vec<i32> = (0..8).map(|k| x[i] * k).collect();
        let o = (x[i] & 3) as usize;
        assert_eq!(out[i], tmp[o] + tmp[o + 4] + tmp[(i + 1) & 7], "item {i}");
    }
    // pointer_walk
    let stride = 5usize;
    let v: Vec<f32> = (0..n * stride).map(|i| (i % 17) as f32).collect();
    let mut m = Mem::default();
    let (iv, io) = (m.add(&v), m.zeros::<f32>(n));
    m.run1(
        &p,
        "pointer_walk",
        &[A::Buf(iv), A::Buf(io), val(stride as u32)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    for i in 0..n {
        let s: f32 = v[i * stride..(i + 1) * stride].iter().sum();
        assert_eq!(out[i], s, "item {i}");
    }
    // constant_arg
    let coeffs = [1.0f32, -2.0, 0.5];
    let inp: Vec<f32> = (0..n).map(|i| i as f32 * 0.25).collect();
    let mut m = Mem::default();
    let (ic, ii, io) = (m.add(&coeffs), m.add(&inp), m.zeros::<f32>(n));
    m.run1(
        &p,
        "constant_arg",
        &[A::Buf(ic), A::Buf(ii), A::Buf(io)],
        n as u32,
        64,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    for i in 0..n {
        let w = coeffs[0] + coeffs[1] * inp[i] + coeffs[2] * inp[i] * inp[i];
        assert!(close(out[i].into(), w.into(), 1e-6), "item {i}");
    }
    // local_reverse: each group's chunk reversed through __local memory.
    for g in [64u32, 16] {
        let mut m = Mem::default();
        let (ix, io) = (m.add(&x), m.zeros::<i32>(n));
        m.run1(&p, "local_reverse", &[A::Buf(ix), A::Buf(io)], n as u32, g)
            .unwrap();
        let out: Vec<i32> = m.get(io);
        let g = g as usize;
        for i in 0..n {
            let (grp, l) = (i / g, i % g);
            assert_eq!(out[i], x[grp * g + g - 1 - l], "group size {g} item {i}");
        }
    }
});

both!(globals, |opt| {
    let p = program("globals", opt);
    // The program-scope `table` (its bytes are checked in `engine_checks.rs`).
    let table = [1, 1, 2, 3, 5, 8, 13, 21];
    let n = items(128, 32);
    let x: Vec<i32> = (0..n as i32).map(|i| i * 7 - 50).collect();
    let mut m = Mem::default();
    let (ix, io) = (m.add(&x), m.zeros::<f32>(n));
    m.run1(&p, "globals", &[A::Buf(ix), A::Buf(io)], n as u32, 32)
        .unwrap();
    let out: Vec<f32> = m.get(io);
    let w = [0.1f32, 0.2, 0.3, 0.4];
    for i in 0..n {
        let xi = x[i];
        let mut s = 0f32;
        for k in 0..4 {
            s += w[k] * (xi + k as i32) as f32;
        }
        let want = (table[(xi & 7) as usize] - 3) as f32 * 2.5 + s;
        assert!(
            close(out[i].into(), want.into(), 1e-5),
            "item {i}: {} vs {want}",
            out[i]
        );
    }
});

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
struct Point {
    x: f32,
    y: f32,
    id: i32,
    tag: i8,
    pad: [u8; 3],
}

both!(structs, |opt| {
    let p = program("structs", opt);
    let n = items(128, 32);
    let pts: Vec<Point> = (0..n)
        .map(|i| Point {
            x: i as f32,
            y: -(i as f32) * 0.5,
            id: i as i32 * 10,
            tag: (i as i8).wrapping_mul(3),
            pad: [0; 3],
        })
        .collect();
    let mut cfg = Vec::new();
    cfg.extend_from_slice(&1.5f32.to_le_bytes());
    cfg.extend_from_slice(&0.25f32.to_le_bytes());
    cfg.extend_from_slice(&7i32.to_le_bytes());
    let mut m = Mem::default();
    let (ii, io) = (m.add(&pts), m.zeros::<Point>(n));
    m.run1(
        &p,
        "structs",
        &[A::Val(cfg), A::Buf(ii), A::Buf(io)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<Point> = m.get(io);
    for i in 0..n {
        let q = pts[i];
        assert_eq!(out[i].x, q.x * 1.5 + 0.25, "item {i}");
        assert_eq!(out[i].y, q.y * 1.5 - 0.25, "item {i}");
        assert_eq!(out[i].id, q.id + 7, "item {i}");
        assert_eq!(out[i].tag, q.tag.wrapping_add(1), "item {i}");
    }
});

fn check_builtins(name: &str, opt: &str) {
    let p = program(name, opt);
    let gs = [4u32, 2, 2];
    let gc = [2u32, 3, 2];
    let off = [5u32, 6, 7];
    let total: usize = (0..3).map(|d| (gs[d] * gc[d]) as usize).product();
    let mut m = Mem::default();
    let io = m.zeros::<u32>(total * 22);
    m.launch(&p, name, &[A::Buf(io)], gs, gc, off).unwrap();
    let out: Vec<u32> = m.get(io);
    let gsz: [u32; 3] = std::array::from_fn(|d| gs[d] * gc[d]);
    for z in 0..gsz[2] {
        for y in 0..gsz[1] {
            for x in 0..gsz[0] {
                let lin = ((z * gsz[1] + y) * gsz[0] + x) as usize;
                let id = [x, y, z];
                let o = &out[lin * 22..lin * 22 + 22];
                for d in 0..3 {
                    let want = [
                        id[d] + off[d],
                        id[d] % gs[d],
                        id[d] / gs[d],
                        gc[d],
                        gs[d],
                        gsz[d],
                        off[d],
                    ];
                    assert_eq!(&o[d * 7..d * 7 + 7], &want, "{name}: item {id:?} dim {d}");
                }
                assert_eq!(o[21], 3, "work_dim");
            }
        }
    }
}

both!(builtins, |opt| check_builtins("builtins", opt));
both!(block_order, |opt| check_builtins("block_order", opt));

both!(reduce, |opt| {
    let p = program("reduce", opt);
    let n = 1024usize;
    let x: Vec<f32> = (0..n).map(|i| (i % 13) as f32).collect();
    for g in [64u32, 256] {
        let groups = n / g as usize;
        let mut m = Mem::default();
        let (ix, io) = (m.add(&x), m.zeros::<f32>(groups));
        m.run1(
            &p,
            "reduce_sum",
            &[A::Buf(ix), A::Buf(io), A::Local(g as usize * 4)],
            n as u32,
            g,
        )
        .unwrap();
        let out: Vec<f32> = m.get(io);
        for k in 0..groups {
            let s: f32 = x[k * g as usize..(k + 1) * g as usize].iter().sum();
            assert_eq!(out[k], s, "group {k}");
        }
    }
});

both!(atomics, |opt| {
    let p = program("atomics", opt);
    // Enough work-items to use every worker thread.
    let n = items(16384, 128);
    let x: Vec<i32> = (0..n as i32).map(|i| (i * 7919) % 2001 - 1000).collect();
    let init = [0, 0, 0, i32::MAX, i32::MIN, -1, 0, 0, 0, 0];
    let mut m = Mem::default();
    let (ix, ic, ih) = (m.add(&x), m.add(&init), m.zeros::<u32>(16));
    m.run1(
        &p,
        "global_atomics",
        &[A::Buf(ix), A::Buf(ic), A::Buf(ih)],
        n as u32,
        64,
    )
    .unwrap();
    let c: Vec<i32> = m.get(ic);
    let mut and = -1i32;
    let mut or = 0i32;
    let mut xor = 0i32;
    let mut hist = [0u32; 16];
    for &v in &x {
        and &= !(1 << (v & 31));
        or |= 1 << (v & 31);
        xor ^= v;
        hist[(v & 15) as usize] += 1;
    }
    let want = [
        x.iter().sum::<i32>(),
        n as i32,
        -(n as i32),
        *x.iter().min().unwrap(),
        *x.iter().max().unwrap(),
        and,
        or,
        xor,
        2 * n as i32,
        7,
    ];
    assert_eq!(c, want);
    assert_eq!(m.get::<u32>(ih), hist);
    // Local-memory atomics.
    let u: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(2654435761) >> 7)
        .collect();
    let mut m = Mem::default();
    let (iu, ih) = (m.add(&u), m.zeros::<u32>(16));
    m.run1(
        &p,
        "local_histogram",
        &[A::Buf(iu), A::Buf(ih)],
        n as u32,
        128,
    )
    .unwrap();
    let mut hist = [0u32; 16];
    for &v in &u {
        hist[(v & 15) as usize] += 1;
    }
    assert_eq!(m.get::<u32>(ih), hist);
});

both!(atomics64, |opt| {
    not_compared("the compare-exchange stores the value of whichever work-item gets there first");
    let p = program("atomics64", opt);
    let n = items(16384, 256);
    let x: Vec<i64> = (0..n as i64)
        .map(|i| (i * 104729) % 100003 - 50000 + 1_000_000_000_000 * (i % 3))
        .collect();
    let init = [0i64, i64::MIN, i64::MAX, 0, 0];
    let mut m = Mem::default();
    let (ix, iw) = (m.add(&x), m.add(&init));
    m.run1(&p, "atomics64", &[A::Buf(ix), A::Buf(iw)], n as u32, 64)
        .unwrap();
    let w: Vec<i64> = m.get(iw);
    let sum = x.iter().fold(0i64, |s, &v| s.wrapping_add(v << 32));
    assert_eq!(w[0], sum);
    assert_eq!(w[1], *x.iter().max().unwrap());
    assert_eq!(w[2], *x.iter().min().unwrap());
    assert_eq!(w[3], n as i64);
    assert!(x.contains(&w[4]) && w[4] != 0);
});

both!(math, |opt| {
    let p = program("math", opt);
    let n = 256usize;
    let mut r = Rng(31);
    let a: Vec<f32> = (0..n).map(|_| r.f32(0.1, 10.0)).collect();
    let b: Vec<f32> = (0..n).map(|_| r.f32(-3.0, 3.0)).collect();
    let mut m = Mem::default();
    let (ia, ib, io) = (m.add(&a), m.add(&b), m.zeros::<f32>(n * 24));
    m.run1(
        &p,
        "math_float",
        &[A::Buf(ia), A::Buf(ib), A::Buf(io)],
        n as u32,
        64,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let want = [
            x.sqrt(),
            1.0 / x.sqrt(),
            y.exp(),
            x.ln(),
            x.powf(y),
            x.mul_add(y, 1.0),
            x * y + 2.0,
            y.sin(),
            y.cos(),
            y.abs(),
            y.floor(),
            y.ceil(),
            x.min(y),
            x.max(y),
            y.clamp(-0.5, 0.5),
            x.min(y),
            x.max(y),
            y.exp2(),
            x.log2(),
            y.tan(),
            y.round(),
            y.trunc(),
            x.hypot(y),
            y.atan2(x),
        ];
        for k in 0..24 {
            assert!(
                close(out[i * 24 + k].into(), want[k].into(), 1e-5),
                "item {i} fn {k}: {} vs {}",
                out[i * 24 + k],
                want[k]
            );
        }
    }
    let d: Vec<f64> = (0..n).map(|i| 0.5 + i as f64 * 0.125).collect();
    let mut m = Mem::default();
    let (id, io) = (m.add(&d), m.zeros::<f64>(n * 6));
    m.run1(&p, "math_double", &[A::Buf(id), A::Buf(io)], n as u32, 64)
        .unwrap();
    let out: Vec<f64> = m.get(io);
    for i in 0..n {
        let x = d[i];
        let want = [
            x.sqrt(),
            (-x).exp(),
            x.ln(),
            x.sin() + x.cos(),
            x.powf(1.5),
            x.floor().max(2.0),
        ];
        for k in 0..6 {
            assert!(
                close(out[i * 6 + k], want[k], 1e-12),
                "item {i} fn {k}: {} vs {}",
                out[i * 6 + k],
                want[k]
            );
        }
    }
});

both!(int_builtins, |opt| {
    let p = program("int_builtins", opt);
    let n = 512usize;
    let mut r = Rng(37);
    let mut a: Vec<i32> = (0..n).map(|_| r.next() as i32).collect();
    let mut b: Vec<i32> = (0..n).map(|_| r.next() as i32 >> (r.next() % 31)).collect();
    a[0] = i32::MAX;
    b[0] = 5;
    a[1] = i32::MIN;
    b[1] = 5;
    a[2] = 7;
    b[2] = -3;
    let mut m = Mem::default();
    let (ia, ib, io, iu) = (
        m.add(&a),
        m.add(&b),
        m.zeros::<i32>(n * 8),
        m.zeros::<u32>(n * 6),
    );
    m.run1(
        &p,
        "int_builtins",
        &[A::Buf(ia), A::Buf(ib), A::Buf(io), A::Buf(iu)],
        n as u32,
        64,
    )
    .unwrap();
    let out: Vec<i32> = m.get(io);
    let uout: Vec<u32> = m.get(iu);
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let want = [
            x.min(y),
            x.max(y),
            x.clamp(-100, 100),
            x.wrapping_abs(),
            x.saturating_add(y),
            x.saturating_sub(y),
            ((x as i64 * y as i64) >> 32) as i32,
            (x & 0xffff).wrapping_mul(y & 0xffff).wrapping_add(3),
        ];
        assert_eq!(&out[i * 8..i * 8 + 8], &want, "item {i}: x={x} y={y}");
        let (ux, uy) = (x as u32, y as u32);
        let uw = [
            ux.min(uy),
            (x as i64 - y as i64).unsigned_abs() as u32,
            ux.count_ones(),
            ux.leading_zeros(),
            ux.rotate_left(uy % 32),
            ((ux as u64 + uy as u64) >> 1) as u32,
        ];
        assert_eq!(&uout[i * 6..i * 6 + 6], &uw, "item {i}: x={x} y={y}");
    }
});

both!(vload_store, |opt| {
    use half::f16;
    let p = program("vload_store", opt);
    let n = items(128, 32);
    let mut r = Rng(41);
    let inp: Vec<f32> = (0..n * 4).map(|_| r.f32(-100.0, 100.0)).collect();
    let mut m = Mem::default();
    let (ii, io, ih, iw) = (
        m.add(&inp),
        m.zeros::<f32>(n * 6),
        m.zeros::<f16>(n),
        m.zeros::<f32>(n),
    );
    m.run1(
        &p,
        "vload_store",
        &[A::Buf(ii), A::Buf(io), A::Buf(ih), A::Buf(iw)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    let halves: Vec<f16> = m.get(ih);
    let wide: Vec<f32> = m.get(iw);
    for i in 0..n {
        for c in 0..4 {
            assert_eq!(out[4 * i + c], inp[4 * i + c] * 2.0);
        }
        assert_eq!(out[4 * n + 2 * i], inp[4 * i + 2]);
        assert_eq!(out[4 * n + 2 * i + 1], inp[4 * i + 1]);
        assert_eq!(halves[i], f16::from_f32(inp[4 * i]));
        assert_eq!(wide[i], f16::from_f32(inp[4 * i]).to_f32() + 1.0);
    }
});

both!(printf, |opt| {
    // The kernel only prints: the launch must succeed. The text is compared in
    // `engine_checks.rs` (the engine harness captures it; drivers print to stdout).
    let p = program("printf", opt);
    let n = 8usize;
    let d: Vec<i32> = (0..n as i32).map(|i| i * 7 - 3).collect();
    let f: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 + 0.125).collect();
    let mut m = Mem::default();
    let (id, i_f) = (m.add(&d), m.add(&f));
    m.run1(&p, "printf_kernel", &[A::Buf(id), A::Buf(i_f)], n as u32, 4)
        .unwrap();
    assert_eq!(m.get::<i32>(id), d);
    assert_eq!(m.get::<f32>(i_f), f);
});

both!(globals20, |opt| {
    let p = program("globals20", opt);
    let n = items(256, 64);
    let mut m = Mem::default();
    let init: Vec<i32> = (0..n as i32 * 3).map(|k| k % 7).collect();
    let (io, ic) = (m.add(&init), m.zeros::<i32>(1));
    m.run1(&p, "globals20", &[A::Buf(io)], n as u32, 64)
        .unwrap();
    let out: Vec<i32> = m.get(io);
    for i in 0..n {
        assert_eq!(
            out[i * 3],
            2 * i as i32 + 200 + 2 * init[i * 3 + 2],
            "item {i}"
        );
        assert_eq!(out[i * 3 + 1], [10, 20, 30, 40][i & 3], "item {i}");
    }
    // The program-scope variable keeps its value between launches.
    m.run1(&p, "read_counter", &[A::Buf(ic)], 1, 1).unwrap();
    assert_eq!(m.get::<i32>(ic), [5 + n as i32]);
    m.run1(&p, "globals20", &[A::Buf(io)], n as u32, 64)
        .unwrap();
    m.run1(&p, "read_counter", &[A::Buf(ic)], 1, 1).unwrap();
    assert_eq!(m.get::<i32>(ic), [5 + 2 * n as i32]);
});

both!(barriers, |opt| {
    let p = program("barriers", opt);
    let n = items(512, 64);
    let x: Vec<i32> = (0..n as i32).map(|i| (i * 37) % 101).collect();
    for g in [64usize, 16] {
        let mut m = Mem::default();
        let (ix, io) = (m.add(&x), m.zeros::<i32>(n));
        m.run1(
            &p,
            "barriers",
            &[A::Buf(ix), A::Buf(io)],
            n as u32,
            g as u32,
        )
        .unwrap();
        let out: Vec<i32> = m.get(io);
        for grp in 0..n / g {
            let xs = &x[grp * g..(grp + 1) * g];
            let mut buf: Vec<i32> = xs
                .iter()
                .map(|&v| (0..(v & 15)).fold(0, |s, k| s ^ (k * 3 + 1)))
                .collect();
            let mut acc = vec![0i32; g];
            for r in 0..3 {
                for l in 0..g {
                    if l & 1 == 1 {
                        acc[l] += buf[(l + r) % g];
                    } else {
                        acc[l] -= buf[(l + 2 * r) % g];
                    }
                }
                buf.copy_from_slice(&acc);
            }
            assert_eq!(
                &out[grp * g..(grp + 1) * g],
                &acc[..],
                "group size {g}, group {grp}"
            );
        }
    }
});

both!(async_copy, |opt| {
    let p = program("async_copy", opt);
    let n = items(256, 128);
    let g = 64usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let mut m = Mem::default();
    let (ix, io) = (m.add(&x), m.zeros::<f32>(n));
    m.run1(
        &p,
        "async_copy",
        &[A::Buf(ix), A::Buf(io)],
        n as u32,
        g as u32,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    for i in 0..n {
        let (grp, l) = (i / g, i % g);
        assert_eq!(out[i], x[grp * g + g - 1 - l] * 2.0, "item {i}");
    }
    let mut m = Mem::default();
    let (ix, io) = (m.add(&x), m.add(&vec![-1f32; 2 * n]));
    m.run1(
        &p,
        "async_strided",
        &[A::Buf(ix), A::Buf(io)],
        n as u32,
        g as u32,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    for i in 0..n {
        let (grp, l) = (i / g, i % g);
        assert_eq!(out[grp * g * 2 + 2 * l], x[i] + 1.0, "item {i}");
        assert_eq!(out[grp * g * 2 + 2 * l + 1], -1.0, "gap after item {i}");
    }
});

both!(math_ptr, |opt| {
    let p = program("math_ptr", opt);
    let n = 128usize;
    let mut r = Rng(43);
    let mut x: Vec<f32> = (0..n).map(|_| r.f32(-20.0, 20.0)).collect();
    x[0] = 0.0;
    x[1] = 1.0;
    x[2] = -0.75;
    x[3] = 1e-40; // subnormal
    let mut m = Mem::default();
    let (ix, io, ie, iv) = (
        m.add(&x),
        m.zeros::<f32>(n * 6),
        m.zeros::<i32>(n),
        m.zeros::<[f32; 4]>(n * 2),
    );
    m.run1(
        &p,
        "math_ptr",
        &[A::Buf(ix), A::Buf(io), A::Buf(ie), A::Buf(iv)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<f32> = m.get(io);
    let exps: Vec<i32> = m.get(ie);
    let v: Vec<[f32; 4]> = m.get(iv);
    for i in 0..n {
        let xi = x[i];
        let fract = (xi - xi.floor()).min(f32::from_bits(1.0f32.to_bits() - 1));
        let want = [
            xi.sin(),
            xi.cos(),
            fract,
            xi.floor(),
            xi - xi.trunc(),
            xi.trunc(),
        ];
        for k in 0..6 {
            assert!(
                close(out[i * 6 + k].into(), want[k].into(), 1e-6),
                "item {i} ({xi}) result {k}: {} vs {}",
                out[i * 6 + k],
                want[k]
            );
        }
        // frexp: x = m * 2^e, 0.5 <= |m| < 1.
        let (mant, e) = (v[i * 2 + 1][0] - xi.cos(), exps[i]);
        if xi == 0.0 {
            assert_eq!(e, 0);
        } else {
            assert!(
                (0.5..1.0).contains(&(mant.abs() as f64 + 1e-7).min(0.9999999)),
                "item {i}: mantissa {mant}"
            );
            assert!(
                close((mant as f64) * 2f64.powi(e), xi as f64, 1e-5),
                "item {i}: {mant} * 2^{e} vs {xi}"
            );
        }
        let vx = [xi, -xi, 2.0 * xi, 0.5];
        for c in 0..4 {
            assert!(close(v[i * 2][c].into(), vx[c].sin().into(), 1e-6));
        }
        assert_eq!(v[i * 2 + 1][3], 0.5f32.cos() + 1.0, "nan() is a NaN");
    }
});

both!(bitcasts, |opt| {
    let p = program("bitcasts", opt);
    let n = 128usize;
    let mut r = Rng(47);
    let x: Vec<u32> = (0..n).map(|_| r.next() as u32).collect();
    let mut m = Mem::default();
    let (ix, io, ib, ip, is) = (
        m.add(&x),
        m.zeros::<u32>(n * 3),
        m.zeros::<[u8; 4]>(n),
        m.zeros::<[u32; 2]>(n),
        m.zeros::<[i16; 8]>(n),
    );
    m.run1(
        &p,
        "bitcasts",
        &[A::Buf(ix), A::Buf(io), A::Buf(ib), A::Buf(ip), A::Buf(is)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<u32> = m.get(io);
    let bytes: Vec<[u8; 4]> = m.get(ib);
    let pairs: Vec<[u32; 2]> = m.get(ip);
    let shorts: Vec<[i16; 8]> = m.get(is);
    for i in 0..n {
        let v = x[i];
        let b = v.to_le_bytes();
        assert_eq!(bytes[i], [b[3], b[2], b[1], b[0]], "item {i}");
        assert_eq!(out[i * 3], v.swap_bytes(), "item {i}");
        let w = ((v as u64) << 32) | (v ^ 0xffff_ffff) as u64;
        assert_eq!(pairs[i], [w as u32, (w >> 32) as u32], "item {i}");
        let swapped = ((w & 0xffff_ffff) << 32) | (w >> 32);
        assert_eq!(out[i * 3 + 1], (swapped >> 16) as u32, "item {i}");
        let q = [v, v.wrapping_add(1), v.wrapping_add(2), v.wrapping_add(3)];
        let want: [i16; 8] = std::array::from_fn(|k| (q[k / 2] >> (16 * (k % 2))) as u16 as i16);
        assert_eq!(shorts[i], want, "item {i}");
        assert_eq!(out[i * 3 + 2], v.rotate_left(16), "item {i}");
    }
});

both!(shuffles, |opt| {
    let p = program("bitcasts", opt);
    let n = 64usize;
    let mut r = Rng(53);
    let x: Vec<[i32; 4]> = (0..n)
        .map(|_| std::array::from_fn(|_| r.i32(-1000, 1000)))
        .collect();
    let masks: Vec<[u32; 4]> = (0..n)
        .map(|_| std::array::from_fn(|_| r.next() as u32))
        .collect();
    let mut m = Mem::default();
    let (ix, im, io, io2) = (
        m.add(&x),
        m.add(&masks),
        m.zeros::<[i32; 8]>(n),
        m.zeros::<[i32; 4]>(n),
    );
    m.run1(
        &p,
        "shuffles",
        &[A::Buf(ix), A::Buf(im), A::Buf(io), A::Buf(io2)],
        n as u32,
        16,
    )
    .unwrap();
    let out: Vec<[i32; 8]> = m.get(io);
    let out2: Vec<[i32; 4]> = m.get(io2);
    for i in 0..n {
        let mk = masks[i];
        let m8 = [mk[0], mk[1], mk[2], mk[3], mk[3], mk[2], mk[1], mk[0]];
        let want: [i32; 8] = std::array::from_fn(|k| x[i][(m8[k] % 4) as usize]);
        assert_eq!(out[i], want, "item {i}");
        let both: Vec<i32> = x[i]
            .iter()
            .copied()
            .chain(x[i].iter().map(|v| v * 10))
            .collect();
        let want2: [i32; 4] = std::array::from_fn(|k| both[(mk[k] % 8) as usize]);
        assert_eq!(out2[i], want2, "item {i}");
    }
});

both!(special_functions, |opt| {
    // Reference values of the mathematical functions (independent of any implementation):
    // erf, erfc, tgamma (Γ(5) = 24, Γ(1/2) = √π) and lgamma (ln 9! = ln 362880).
    let cases: [(f64, [f64; 4]); 4] = [
        (
            0.5,
            [
                0.520_499_877_813_046_5,
                0.479_500_122_186_953_5,
                1.772_453_850_905_516,
                0.572_364_942_924_700_1,
            ],
        ),
        (
            1.0,
            [0.842_700_792_949_714_9, 0.157_299_207_050_285_13, 1.0, 0.0],
        ),
        (
            2.0,
            [0.995_322_265_018_952_7, 0.004_677_734_981_047_266, 1.0, 0.0],
        ),
        (
            5.0,
            [
                0.999_999_999_998_462_5,
                1.537_459_794_428_034_8e-12,
                24.0,
                3.178_053_830_347_945_6,
            ],
        ),
    ];
    let p = program("special", opt);
    let xs: Vec<f64> = cases.iter().map(|c| c.0).collect();
    let n = xs.len();
    let mut m = Mem::default();
    let (i_in, i_f, i_d) = (m.add(&xs), m.zeros::<f32>(n * 4), m.zeros::<f64>(n * 4));
    m.run1(
        &p,
        "special",
        &[A::Buf(i_in), A::Buf(i_f), A::Buf(i_d)],
        n as u32,
        1,
    )
    .unwrap();
    let (f, d): (Vec<f32>, Vec<f64>) = (m.get(i_f), m.get(i_d));
    let names = ["erf", "erfc", "tgamma", "lgamma"];
    for (i, (x, want)) in cases.iter().enumerate() {
        for k in 0..4 {
            // OpenCL allows 16 ulp for these in both precisions; lgamma(1), lgamma(2) are 0.
            let (gf, gd, w) = (f64::from(f[i * 4 + k]), d[i * 4 + k], want[k]);
            let close =
                |g: f64, ulp: f64| (g - w).abs() <= 16.0 * ulp * w.abs().max(f64::MIN_POSITIVE);
            assert!(
                close(gf, f64::from(f32::EPSILON)) || (w == 0.0 && gf.abs() < 1e-6),
                "float {}({x}) = {gf}, want {w}",
                names[k]
            );
            assert!(
                close(gd, f64::EPSILON) || (w == 0.0 && gd.abs() < 1e-15),
                "double {}({x}) = {gd}, want {w}",
                names[k]
            );
        }
    }
});

// The cases of issue 13's SPIR-V items (1.1 to 1.4 as producers emit them, forward pointers,
// function pointers, arbitrary-width integers).
include!("cases/spirv14.rs");
