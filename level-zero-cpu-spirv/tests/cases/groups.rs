// Cases for the kernels of issue 13's collectives (`kernels/groups.cl`, `subgroups.cl`,
// `subgroups_intel.cl`, `subgroups_khr.cl`, `float_atomics.cl`), against Rust reference
// computations. `include!`d next to `kernel_cases.rs` by both harnesses (the engine's and the
// whole stack's), with the same API; no `mod` lines or inner attributes here.
//
// Sub-groups: the kernels report the sub-group size they run with (one of the sizes the
// driver reports, 8, 16 or 32), and the references lay sub-groups out as OpenCL's
// cl_khr_subgroups does on this driver: consecutive linear local ids, the last sub-group of a
// work-group partial when its size is not a multiple.

/// The element types of the reduction cases: integer adds wrap, float inputs are
/// integer-valued so that every order of evaluation gives the same exact result.
trait Elem: Copy + PartialOrd + PartialEq + std::fmt::Debug + bytemuck::Pod {
    fn add(self, o: Self) -> Self;
    fn zero() -> Self;
    /// The identity of `min` (the type's largest value, +inf for floats).
    fn top() -> Self;
    /// The identity of `max`.
    fn bottom() -> Self;
    fn from_i64(v: i64) -> Self;
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn zero() -> Self { 0 }
            fn top() -> Self { <$t>::MAX }
            fn bottom() -> Self { <$t>::MIN }
            fn from_i64(v: i64) -> Self { v as $t }
        }
    )*};
}
int_elem!(i32, u32, i64, u64);

macro_rules! float_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            fn add(self, o: Self) -> Self { self + o }
            fn zero() -> Self { 0.0 }
            fn top() -> Self { <$t>::INFINITY }
            fn bottom() -> Self { <$t>::NEG_INFINITY }
            fn from_i64(v: i64) -> Self { v as $t }
        }
    )*};
}
float_elem!(f32, f64);

fn emin<T: Elem>(a: T, b: T) -> T {
    if b < a { b } else { a }
}

fn emax<T: Elem>(a: T, b: T) -> T {
    if b > a { b } else { a }
}

/// The 8 reductions, scans and broadcast of `SG_OPS`/`WG_OPS` over `xs` (one collective
/// group, in local-id order) for member `i`: [reduce add, reduce min, reduce max, inclusive
/// add, exclusive add, inclusive min, exclusive min, inclusive max, exclusive max].
fn collective<T: Elem>(xs: &[T], i: usize) -> [T; 9] {
    let red =
        |f: fn(T, T) -> T, init: T, upto: usize| xs[..upto].iter().fold(init, |a, &b| f(a, b));
    let n = xs.len();
    [
        red(T::add, T::zero(), n),
        red(emin, T::top(), n),
        red(emax, T::bottom(), n),
        red(T::add, T::zero(), i + 1),
        red(T::add, T::zero(), i),
        red(emin, T::top(), i + 1),
        red(emin, T::top(), i),
        red(emax, T::bottom(), i + 1),
        red(emax, T::bottom(), i),
    ]
}

/// A 2-D launch's work-items: for global linear id `g`, (group index, local linear id).
fn wg_member(g: usize, size: [usize; 2], count: [usize; 2]) -> (usize, usize) {
    let gw = size[0] * count[0];
    let (x, y) = (g % gw, g / gw);
    let group = x / size[0] + (y / size[1]) * count[0];
    let local = x % size[0] + (y % size[1]) * size[0];
    (group, local)
}

fn check_wg_ops<T: Elem>(kernel: &str, opt: &str) {
    let p = program("groups", opt);
    let (size, count) = ([5usize, 3], [3usize, 2]);
    let n = size[0] * size[1] * count[0] * count[1];
    let mut r = Rng(31);
    let xs: Vec<T> = (0..n)
        .map(|_| {
            let v = r.i32(-1000, 1000) as i64;
            // Unsigned types get large values, so that their adds wrap.
            T::from_i64(if T::bottom() == T::zero() {
                v.wrapping_mul(0x0007_6543_210f)
            } else {
                v
            })
        })
        .collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&xs), m.zeros::<T>(n * 11));
    m.launch(
        &p,
        kernel,
        &[A::Buf(i_in), A::Buf(i_out)],
        [size[0] as u32, size[1] as u32, 1],
        [count[0] as u32, count[1] as u32, 1],
        [0; 3],
    )
    .unwrap();
    let out: Vec<T> = m.get(i_out);
    let groups = count[0] * count[1];
    let mut members: Vec<Vec<(usize, T)>> = vec![Vec::new(); groups];
    for (g, &x) in xs.iter().enumerate() {
        let (group, local) = wg_member(g, size, count);
        members[group].push((local, x));
    }
    for m in &mut members {
        m.sort_by_key(|&(l, _)| l);
    }
    for g in 0..n {
        let (group, local) = wg_member(g, size, count);
        let vals: Vec<T> = members[group].iter().map(|&(_, x)| x).collect();
        let c = collective(&vals, local);
        let want: Vec<T> = c
            .iter()
            .copied()
            .chain([vals[2 + size[0]], vals[vals.len() - 1]])
            .collect();
        assert_eq!(
            &out[g * 11..g * 11 + 11],
            &want[..],
            "{kernel}: work-item {g} (group {group}, local {local})"
        );
    }
}

both!(wg_int, |opt| check_wg_ops::<i32>("wg_int", opt));
both!(wg_uint, |opt| check_wg_ops::<u32>("wg_uint", opt));
both!(wg_long, |opt| check_wg_ops::<i64>("wg_long", opt));
both!(wg_ulong, |opt| check_wg_ops::<u64>("wg_ulong", opt));
both!(wg_float, |opt| check_wg_ops::<f32>("wg_float", opt));
both!(wg_double, |opt| check_wg_ops::<f64>("wg_double", opt));

both!(wg_vote, |opt| {
    let p = program("groups", opt);
    let (size, groups) = (16usize, 3usize);
    // Group 0 all positive, group 1 mixed, group 2 all negative.
    let xs: Vec<i32> = (0..size * groups)
        .map(|g| match g / size {
            0 => 1 + g as i32,
            1 => {
                if g % 5 == 0 {
                    7
                } else {
                    -3
                }
            }
            _ => -1 - g as i32,
        })
        .collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&xs), m.zeros::<i32>(xs.len() * 3));
    m.run1(
        &p,
        "wg_vote",
        &[A::Buf(i_in), A::Buf(i_out), val(0i32)],
        xs.len() as u32,
        size as u32,
    )
    .unwrap();
    let out: Vec<i32> = m.get(i_out);
    for g in 0..xs.len() {
        let grp = &xs[g / size * size..][..size];
        let all = grp.iter().all(|&x| x > 0);
        let any = grp.iter().any(|&x| x > 0);
        assert_eq!(out[g * 3] != 0, all, "all at {g}");
        assert_eq!(out[g * 3 + 1] != 0, any, "any at {g}");
        assert_eq!(out[g * 3 + 2], grp[0], "broadcast at {g}");
    }
});

both!(wg_loop, |opt| {
    let p = program("groups", opt);
    let (size, groups, rounds) = (24usize, 4usize, 3);
    let mut r = Rng(5);
    let xs: Vec<i32> = (0..size * groups).map(|_| r.i32(-100, 100)).collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&xs), m.zeros::<i32>(xs.len()));
    m.run1(
        &p,
        "wg_loop",
        &[A::Buf(i_in), A::Buf(i_out), val(rounds), A::Local(size * 4)],
        xs.len() as u32,
        size as u32,
    )
    .unwrap();
    let out: Vec<i32> = m.get(i_out);
    for grp in 0..groups {
        let x = &xs[grp * size..][..size];
        let mut acc = vec![0i32; size];
        for k in 0..rounds {
            let s = (0..size).fold(0i32, |s, l| {
                let v = x[l].wrapping_mul(k + 1);
                s.wrapping_add(if l & 1 == 1 { v.wrapping_neg() } else { v })
            });
            let a: Vec<i32> = acc.iter().map(|&v| v.wrapping_add(s)).collect();
            let b: Vec<i32> = (0..size)
                .map(|l| a[l].wrapping_add(a[(l + 1) % size]))
                .collect();
            let mut run = i32::MIN;
            acc = b
                .iter()
                .map(|&v| {
                    run = run.max(v);
                    run
                })
                .collect();
        }
        assert_eq!(&out[grp * size..][..size], &acc[..], "group {grp}");
    }
});

/// The sub-group size a kernel ran with: one of the sizes the driver reports, the same for
/// every work-item, and the one the case asked for where the harness can ask.
fn sub_group_size(reported: impl IntoIterator<Item = u32>) -> usize {
    let mut it = reported.into_iter();
    let s = it.next().expect("at least one work-item");
    assert!([8, 16, 32].contains(&s), "sub-group size {s}");
    assert!(
        it.all(|v| v == s),
        "every work-item sees sub-group size {s}"
    );
    if let Some(asked) = subgroup_size_asked() {
        assert_eq!(
            s, asked,
            "the kernel runs with the sub-group size asked for"
        );
    }
    s as usize
}

/// `both!`, with the body run for each sub-group size a driver reports (8, 16, 32).
macro_rules! sizes {
    ($name:ident, $body:expr) => {
        both!($name, |opt| {
            for size in [8, 16, 32] {
                with_subgroup_size(size, || ($body)(opt));
            }
        });
    };
}

/// For local linear id `l` of a work-group of `w` work-items with sub-group size `s`:
/// (sub-group id, sub-group local id, this sub-group's size, number of sub-groups).
fn sub_group_of(l: usize, w: usize, s: usize) -> (usize, usize, usize, usize) {
    let id = l / s;
    (id, l % s, s.min(w - id * s), w.div_ceil(s))
}

sizes!(sg_info, |opt| {
    let p = program("subgroups", opt);
    let (size, count) = ([7usize, 3], [2usize, 2]);
    let n = size[0] * size[1] * count[0] * count[1];
    let mut m = Mem::default();
    let i_out = m.zeros::<u32>(n * 6);
    m.launch(
        &p,
        "sg_info",
        &[A::Buf(i_out)],
        [7, 3, 1],
        [2, 2, 1],
        [0; 3],
    )
    .unwrap();
    let out: Vec<u32> = m.get(i_out);
    let s = sub_group_size((0..n).map(|g| out[g * 6 + 1]));
    let w = size[0] * size[1];
    for g in 0..n {
        let (_, local) = wg_member(g, size, count);
        let (id, lid, this, num) = sub_group_of(local, w, s);
        let want = [this, s, num, num, id, lid].map(|v| v as u32);
        assert_eq!(
            &out[g * 6..g * 6 + 6],
            &want,
            "work-item {g} (local {local})"
        );
    }
});

fn check_sg_ops<T: Elem>(kernel: &str, opt: &str) {
    let p = program("subgroups", opt);
    let (size, count) = ([5usize, 3], [2usize, 2]);
    let n = size[0] * size[1] * count[0] * count[1];
    let mut r = Rng(77);
    let xs: Vec<T> = (0..n)
        .map(|_| T::from_i64(r.i32(-1000, 1000) as i64))
        .collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&xs), m.zeros::<T>(n * 11));
    let mut args = vec![A::Buf(i_in), A::Buf(i_out)];
    if kernel == "sg_int" {
        args.push(val(-500i32));
    }
    m.launch(&p, kernel, &args, [5, 3, 1], [2, 2, 1], [0; 3])
        .unwrap();
    let out: Vec<T> = m.get(i_out);
    let s = sub_group_size((0..n).map(|g| {
        let v: T = out[g * 11 + 10];
        // The size came through the element type: compare as integers.
        (0..64u32)
            .find(|&c| T::from_i64(c as i64) == v)
            .unwrap_or(0)
    }));
    let w = size[0] * size[1];
    let mut by_group: Vec<Vec<(usize, T)>> = vec![Vec::new(); count[0] * count[1]];
    for (g, &x) in xs.iter().enumerate() {
        let (group, local) = wg_member(g, size, count);
        by_group[group].push((local, x));
    }
    for v in &mut by_group {
        v.sort_by_key(|&(l, _)| l);
    }
    for g in 0..n {
        let (group, local) = wg_member(g, size, count);
        let (id, lid, this, _) = sub_group_of(local, w, s);
        let vals: Vec<T> = by_group[group][id * s..id * s + this]
            .iter()
            .map(|&(_, x)| x)
            .collect();
        let c = collective(&vals, lid);
        let want = [c[0], c[1], c[2], c[3], c[4], c[7], c[6], vals[1]];
        assert_eq!(
            &out[g * 11..g * 11 + 8],
            &want,
            "{kernel}: work-item {g} (sub-group {id}, id {lid})"
        );
        if kernel == "sg_int" {
            let o: &[i32] = bytemuck::cast_slice(&out[g * 11 + 8..g * 11 + 10]);
            let ints: Vec<i32> = vals
                .iter()
                .map(|v| bytemuck::cast_slice::<T, i32>(std::slice::from_ref(v))[0])
                .collect();
            assert_eq!(o[0] != 0, ints.iter().all(|&x| x > -500), "all at {g}");
            assert_eq!(o[1] != 0, ints.iter().any(|&x| x > -500), "any at {g}");
        }
    }
}

sizes!(sg_int, |opt| check_sg_ops::<i32>("sg_int", opt));
sizes!(sg_double, |opt| check_sg_ops::<f64>("sg_double", opt));

sizes!(sg_loop, |opt| {
    let p = program("subgroups", opt);
    let (size, groups) = (40usize, 2usize);
    let mut r = Rng(9);
    let xs: Vec<i32> = (0..size * groups).map(|_| r.i32(-50, 50)).collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&xs), m.zeros::<i32>(xs.len() * 2));
    m.run1(
        &p,
        "sg_loop",
        &[A::Buf(i_in), A::Buf(i_out)],
        xs.len() as u32,
        size as u32,
    )
    .unwrap();
    let out: Vec<i32> = m.get(i_out);
    let s = sub_group_size((0..xs.len()).map(|g| out[g * 2 + 1] as u32));
    for grp in 0..groups {
        for id in 0..size.div_ceil(s) {
            let lo = grp * size + id * s;
            let hi = (lo + s).min(grp * size + size);
            let mut acc: Vec<i32> = xs[lo..hi].to_vec();
            for _ in 0..=id {
                let first = acc[0];
                let mut run = 0i32;
                acc = acc
                    .iter()
                    .map(|&v| {
                        run = run.wrapping_add(v);
                        run.wrapping_sub(first)
                    })
                    .collect();
            }
            for (k, g) in (lo..hi).enumerate() {
                assert_eq!(out[g * 2], acc[k], "work-item {g} (sub-group {id})");
            }
        }
    }
});

sizes!(sg_shuffle, |opt| {
    let p = program("subgroups_intel", opt);
    let n = 128usize;
    let mut r = Rng(12);
    let xs: Vec<i32> = (0..n).map(|_| r.i32(-1000, 1000)).collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&xs), m.zeros::<i32>(n * 6));
    m.run1(
        &p,
        "sg_shuffle",
        &[A::Buf(i_in), A::Buf(i_out)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<i32> = m.get(i_out);
    let s = sub_group_size((0..n).map(|g| out[g * 6 + 5] as u32));
    for g in 0..n {
        let (base, l) = (g / s * s, g % s);
        let x = |k: usize| xs[base + k];
        let down = if l + 2 < s {
            x(l + 2)
        } else {
            x(l + 2 - s) + 1000
        };
        let up = if l >= 3 {
            x(l - 3)
        } else {
            x(s + l - 3) - 1000
        };
        let want = [
            x((l + 3) % s),
            down,
            up,
            x(l ^ 5),
            (x(s - 1 - l) as f32 * 0.5) as i32,
            s as i32,
        ];
        assert_eq!(&out[g * 6..g * 6 + 6], &want, "work-item {g}");
    }
});

sizes!(sg_block_io, |opt| {
    let p = program("subgroups_intel", opt);
    let n = 96usize;
    let mut r = Rng(3);
    let xs: Vec<u32> = (0..n * 3).map(|_| r.next() as u32 >> 4).collect();
    let mut m = Mem::default();
    let (i_in, i_out, i_size) = (m.add(&xs), m.zeros::<u32>(n * 3), m.zeros::<u32>(1));
    m.run1(
        &p,
        "sg_block_io",
        &[A::Buf(i_in), A::Buf(i_out), A::Buf(i_size)],
        n as u32,
        32,
    )
    .unwrap();
    let s = sub_group_size(m.get::<u32>(i_size));
    let out: Vec<u32> = m.get(i_out);
    for sg in 0..n / s {
        let src = &xs[sg * 3 * s..][..3 * s];
        let dst = &out[sg * 3 * s..][..3 * s];
        for l in 0..s {
            assert_eq!(
                dst[l],
                src[2 * s + l].wrapping_add(1),
                "sub-group {sg} lane {l}: write of read2's .y"
            );
            assert_eq!(
                dst[s + l],
                src[l].wrapping_mul(2),
                "sub-group {sg} lane {l}: write2 .x"
            );
            assert_eq!(
                dst[2 * s + l],
                src[s + l].wrapping_mul(3),
                "sub-group {sg} lane {l}: write2 .y"
            );
        }
    }
});

sizes!(sg_non_uniform, |opt| {
    let p = program("subgroups_khr", opt);
    let n = 128usize;
    let mut r = Rng(21);
    let mut xs: Vec<i32> = (0..n).map(|_| r.i32(-1000, 1000)).collect();
    // Every sub-group (of any size) has a positive value: the ballot's lowest bit exists.
    for g in (0..n).step_by(8) {
        xs[g + 5] = xs[g + 5].abs() + 1;
    }
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&xs), m.zeros::<i32>(n * 17));
    m.run1(
        &p,
        "sg_non_uniform",
        &[A::Buf(i_in), A::Buf(i_out)],
        n as u32,
        32,
    )
    .unwrap();
    let out: Vec<i32> = m.get(i_out);
    let s = sub_group_size((0..n).map(|g| out[g * 17 + 16] as u32));
    for g in 0..n {
        let (base, l) = (g / s * s, g % s);
        let sg = &xs[base..base + s];
        let o = &out[g * 17..g * 17 + 17];
        let ballot = (0..s).filter(|&k| sg[k] > 0).fold(0u32, |b, k| b | 1 << k);
        let at = |k: usize| format!("work-item {g} (lane {l}), result {k}");
        assert_eq!(o[0] as u32, ballot, "{}", at(0));
        assert_eq!(o[1] as u32, ballot.count_ones(), "{}", at(1));
        let upto = if l == 31 { u32::MAX } else { (2u32 << l) - 1 };
        assert_eq!(o[2] as u32, (ballot & upto).count_ones(), "{}", at(2));
        assert_eq!(o[3] as u32, ballot.trailing_zeros(), "{}", at(3));
        assert_eq!(o[4] != 0, l % 2 == 0, "{}", at(4));
        assert_eq!(o[5], sg[(l + 1) % s], "{}", at(5));
        assert_eq!(o[6], sg[l ^ 2], "{}", at(6));
        assert_eq!(
            o[7],
            sg[l / 4 * 4..l / 4 * 4 + 4].iter().sum::<i32>(),
            "{}",
            at(7)
        );
        assert_eq!(
            o[8] != 0,
            sg.iter().all(|&v| v / 1000 == sg[0] / 1000),
            "{}",
            at(8)
        );
        let odd: Vec<(usize, i32)> = (0..s)
            .filter(|&k| sg[k] & 1 != 0)
            .map(|k| (k, sg[k]))
            .collect();
        let even: Vec<(usize, i32)> = (0..s)
            .filter(|&k| sg[k] & 1 == 0)
            .map(|k| (k, sg[k]))
            .collect();
        if sg[l] & 1 != 0 {
            assert_eq!(o[9], odd.iter().map(|p| p.1).sum::<i32>(), "{}", at(9));
            assert_eq!(
                o[10],
                odd.iter().filter(|p| p.0 <= l).map(|p| p.1).max().unwrap(),
                "{}",
                at(10)
            );
            assert_eq!(o[11] != 0, odd[0].0 == l, "{}", at(11));
            assert_eq!(o[12], odd[0].1, "{}", at(12));
            assert_eq!(o[13], odd.iter().fold(0, |a, p| a ^ p.1), "{}", at(13));
            assert_eq!(o[14], -1, "{}", at(14));
        } else {
            assert_eq!(
                o[9],
                even.iter().filter(|p| p.0 < l).map(|p| p.1).sum::<i32>(),
                "{}",
                at(9)
            );
            assert_eq!(&o[10..14], &[-1; 4], "{}", at(10));
            assert_eq!(o[14] != 0, even.iter().any(|p| p.1 > 0), "{}", at(14));
        }
        assert_eq!(o[15], if l >= 1 { sg[l - 1] } else { -1 }, "{}", at(15));
    }
});

both!(float_atomics, |opt| {
    not_compared("the values the atomic adds return depend on the order work-items run in");
    let p = program("float_atomics", opt);
    let (n, size) = (1024usize, 64usize);
    let mut r = Rng(8);
    // Positive integer values: exact sums, and strictly increasing partial sums, so that the
    // values the adds returned must chain exactly.
    let xs: Vec<f32> = (0..n).map(|_| r.i32(1, 1000) as f32).collect();
    let mut m = Mem::default();
    let i_in = m.add(&xs);
    let i_f = m.add(&[0.0f32, 1e9, -1e9]);
    let i_d = m.add(&[0.0f64, 1e300, -1e300]);
    let (i_old, i_groups) = (m.zeros::<f32>(n), m.zeros::<f32>(n / size));
    m.run1(
        &p,
        "float_atomics",
        &[
            A::Buf(i_in),
            A::Buf(i_f),
            A::Buf(i_d),
            A::Buf(i_old),
            A::Buf(i_groups),
        ],
        n as u32,
        size as u32,
    )
    .unwrap();
    let sum: f32 = xs.iter().sum();
    let (lo, hi) = xs
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert_eq!(m.get::<f32>(i_f), vec![sum, lo, hi]);
    assert_eq!(m.get::<f64>(i_d), vec![sum as f64, lo as f64, hi as f64]);
    let groups: Vec<f32> = xs.chunks(size).map(|c| c.iter().sum()).collect();
    assert_eq!(m.get::<f32>(i_groups), groups);
    // Every add saw a distinct earlier total: sorted, each returned value plus its own input
    // is the next returned value (the last one: the final sum).
    let old: Vec<f32> = m.get(i_old);
    let mut chain: Vec<(f32, f32)> = old.iter().copied().zip(xs.iter().copied()).collect();
    chain.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(chain[0].0, 0.0);
    for w in chain.windows(2) {
        assert_eq!(w[0].0 + w[0].1, w[1].0, "the adds' returned values chain");
    }
    let last = chain[n - 1];
    assert_eq!(last.0 + last.1, sum);
});

// `intel_reqd_sub_group_size(8)`: the kernel runs with sub-groups of 8 whatever the
// harness's default.
both!(sg_required, |opt| {
    for size in [8, 16, 32] {
        with_subgroup_size(size, || {
            let p = program("subgroups_required", opt);
            let n = 64usize;
            let mut m = Mem::default();
            let out = m.zeros::<u32>(n * 2);
            m.run1(&p, "sg_required", &[A::Buf(out)], n as u32, 32).unwrap();
            let got: Vec<u32> = m.get(out);
            for g in 0..n {
                assert_eq!(
                    [got[g * 2], got[g * 2 + 1]],
                    [8, (g % 8) as u32],
                    "work-item {g}, default size {size}"
                );
            }
        });
    }
});
