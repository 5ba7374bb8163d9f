// Cases for the kernels of issue 13's SPIR-V items (`kernels/arbitrary_int.cl`,
// `linked_list.cl`, `function_pointers.cl`, `spirv14.cl`), against Rust reference
// computations. `include!`d by `kernel_cases.rs`, so both harnesses (the engine's and the
// whole stack's) run them; no `mod` lines or inner attributes here.

/// 0 + 1 + ... + (n - 1) and 0^3 + ... + (n - 1)^3 in wrapping 32-bit arithmetic.
fn tri_cubes_ref(n: u32) -> (u32, u32) {
    let (mut s, mut c) = (0u32, 0u32);
    for k in 0..n {
        s = s.wrapping_add(k);
        c = c.wrapping_add(k.wrapping_mul(k).wrapping_mul(k));
    }
    (s, c)
}

both!(arbitrary_int, |opt| {
    // At -O2 both loops are closed forms in 33- and 35-bit integers whose products wrap:
    // (n - 1)(n - 2) exceeds 2^33 from n = 92683 on, the cubes' products much earlier.
    let p = program("arbitrary_int", opt);
    let n: Vec<u32> = vec![0, 1, 2, 3, 7, 1000, 65537, 92682, 92683, 100_000, 123_457, 2];
    let mut m = Mem::default();
    let (i_n, i_t, i_c) = (m.add(&n), m.zeros::<u32>(n.len()), m.zeros::<u32>(n.len()));
    let g = n.len() as u32;
    m.run1(&p, "tri", &[A::Buf(i_n), A::Buf(i_t)], g, 4).unwrap();
    m.run1(&p, "cubes", &[A::Buf(i_n), A::Buf(i_c)], g, 4).unwrap();
    let (t, c): (Vec<u32>, Vec<u32>) = (m.get(i_t), m.get(i_c));
    for (k, &x) in n.iter().enumerate() {
        assert_eq!((t[k], c[k]), tri_cubes_ref(x), "n = {x}");
    }

    // `_BitInt(33)` in 8 bytes: the bits above 33 are padding, which loads ignore and stores
    // write as 0; `unsigned _BitInt(5)` in 1 byte.
    const M33: u64 = (1 << 33) - 1;
    let sext33 = |v: u64| (((v & M33) << 31) as i64) >> 31;
    let a: Vec<u64> = vec![
        0,
        5,
        M33,                   // -1
        1 << 32,               // the most negative
        (1 << 32) - 1,         // the most positive
        0xabcd_0001_0000_0005, // padding bits set: 0x1_0000_0005
        0xffff_fffe_0000_0007, // padding bits set: 7
        0x0000_0000_8000_0000,
    ];
    let mut m = Mem::default();
    let (ia, ib) = (m.add(&a), m.add(&vec![0xeeee_eeee_eeee_eeee_u64; a.len()]));
    let (ic, io) = (m.add(&vec![0xeeu8; a.len()]), m.zeros::<i64>(a.len() * 3));
    m.run1(
        &p,
        "bitint",
        &[A::Buf(ia), A::Buf(ib), A::Buf(ic), A::Buf(io)],
        a.len() as u32,
        4,
    )
    .unwrap();
    let (b, c, out): (Vec<u64>, Vec<u8>, Vec<i64>) = (m.get(ib), m.get(ic), m.get(io));
    for (i, &x) in a.iter().enumerate() {
        let v = (x & M33).wrapping_mul(3).wrapping_add(1) & M33;
        let y = (i as u64 * 7 + (x & 31)) & 31;
        assert_eq!(b[i], v, "b[{i}] for {x:#x}");
        assert_eq!(u64::from(c[i]), y, "c[{i}] for {x:#x}");
        assert_eq!(
            &out[i * 3..i * 3 + 3],
            &[sext33(v), y as i64, 801],
            "out for {x:#x}"
        );
    }
});

both!(linked_list, |opt| {
    let p = program("linked_list", opt);
    // 40 nodes of { long v; __global node *next } (16 bytes), linked in a shuffled order.
    let n = 40usize;
    let mut r = Rng(17);
    let mut order: Vec<i32> = (0..n as i32).collect();
    for k in (1..n).rev() {
        order.swap(k, (r.next() % (k as u64 + 1)) as usize);
    }
    let vals: Vec<i64> = (0..n).map(|k| (k as i64 + 1) * 11 - 200).collect();
    let nodes: Vec<u64> = vals.iter().flat_map(|&v| [v as u64, 0xdead_beef]).collect();
    let heads: Vec<i32> = vec![order[0], order[1], order[17], order[38], order[39]];
    let mut m = Mem::default();
    let (i_nodes, i_order) = (m.add(&nodes), m.add(&order));
    let (i_heads, i_out) = (m.add(&heads), m.zeros::<i64>(heads.len() * 2));
    m.run1(
        &p,
        "link_list",
        &[A::Buf(i_nodes), A::Buf(i_order), val(n as i32)],
        n as u32,
        8,
    )
    .unwrap();
    m.run1(
        &p,
        "walk_list",
        &[A::Buf(i_nodes), A::Buf(i_heads), A::Buf(i_out)],
        heads.len() as u32,
        1,
    )
    .unwrap();
    let out: Vec<i64> = m.get(i_out);
    for (i, &h) in heads.iter().enumerate() {
        let start = order.iter().position(|&o| o == h).unwrap();
        let walk: Vec<i64> = order[start..].iter().map(|&o| vals[o as usize]).collect();
        let sum: i64 = walk.iter().enumerate().map(|(k, v)| (k as i64 + 1) * v).sum();
        assert_eq!(&out[2 * i..2 * i + 2], &[sum, walk.len() as i64], "head {h}");
    }

    // Private lists (6 values per work-item, walked in reverse).
    let items = 32usize;
    let input: Vec<i32> = (0..items * 6).map(|k| (k as i32 * 37) % 101 - 50).collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&input), m.zeros::<i32>(items * 7));
    m.run1(
        &p,
        "private_list",
        &[A::Buf(i_in), A::Buf(i_out)],
        items as u32,
        8,
    )
    .unwrap();
    let out: Vec<i32> = m.get(i_out);
    for g in 0..items {
        let mut want: Vec<i32> = input[g * 6..g * 6 + 6].iter().rev().copied().collect();
        want.push(6);
        assert_eq!(&out[g * 7..g * 7 + 7], want.as_slice(), "work-item {g}");
    }

    // Local lists through generic pointers: one per work-group of 16, 4 values per item.
    let (size, groups) = (16usize, 4usize);
    let input: Vec<i32> = (0..size * groups * 4).map(|k| k as i32 * 3 - 100).collect();
    let mut m = Mem::default();
    let (i_in, i_out) = (m.add(&input), m.zeros::<i32>(groups * 3));
    m.run1(
        &p,
        "local_list",
        &[A::Buf(i_in), A::Buf(i_out)],
        (size * groups) as u32,
        size as u32,
    )
    .unwrap();
    let out: Vec<i32> = m.get(i_out);
    for gr in 0..groups {
        let vs = &input[gr * size * 4..(gr + 1) * size * 4];
        let weighted: i32 = vs.iter().enumerate().map(|(k, v)| (k as i32 + 1) * v).sum();
        let want = [vs.len() as i32, vs.iter().sum(), weighted];
        assert_eq!(&out[gr * 3..gr * 3 + 3], &want, "group {gr}");
    }
});

/// `add`, `sub`, `mul`, `twice_plus` of `function_pointers.cl`.
fn fp_ops(k: usize, a: i32, b: i32) -> i32 {
    match k {
        0 => a.wrapping_add(b),
        1 => a.wrapping_sub(b),
        2 => a.wrapping_mul(b),
        _ => a.wrapping_mul(2).wrapping_add(b),
    }
}

both!(function_pointers, |opt| {
    same_program("the kernel stores function addresses, which are each program's own");
    let p = program("function_pointers", opt);
    let n = 48usize;
    let x: Vec<i32> = (0..n).map(|i| i as i32 * 7 - 100).collect();
    let mut m = Mem::default();
    let (ix, io) = (m.add(&x), m.zeros::<i32>(n * 2));
    m.run1(&p, "choose", &[A::Buf(ix), A::Buf(io)], n as u32, 16)
        .unwrap();
    let out: Vec<i32> = m.get(io);
    for i in 0..n {
        let f = |a| fp_ops(i % 3, a, 3);
        assert_eq!(&out[2 * i..2 * i + 2], &[f(x[i]), f(f(x[i]))], "item {i}");
    }

    // A table of function addresses written by one kernel, called through by another.
    let pick: Vec<i32> = (0..n).map(|i| ((i * 5 + i / 7) % 4) as i32).collect();
    let mut m = Mem::default();
    let (it, ip) = (m.zeros::<u64>(4), m.add(&pick));
    let (ix, io) = (m.add(&x), m.zeros::<i32>(n));
    m.run1(&p, "fill_table", &[A::Buf(it)], 1, 1).unwrap();
    let table: Vec<u64> = m.get(it);
    for (k, &a) in table.iter().enumerate() {
        assert!(a != 0 && !table[..k].contains(&a), "table {table:x?}");
    }
    m.run1(
        &p,
        "call_table",
        &[A::Buf(it), A::Buf(ip), A::Buf(ix), A::Buf(io)],
        n as u32,
        8,
    )
    .unwrap();
    let out: Vec<i32> = m.get(io);
    for i in 0..n {
        assert_eq!(out[i], fp_ops(pick[i] as usize, x[i], 5), "item {i}");
    }
});

both!(spirv14, |opt| {
    // SPIR-V 1.4: every global variable in the entry points' interfaces.
    let p = program("spirv14", opt);
    let (size, n) = (16usize, 64usize);
    let input: Vec<i32> = (0..n as i32).map(|i| i * 3 - 40).collect();
    let weights = [3, 1, 4, 1];
    let want = |counter: i32| -> Vec<i32> {
        (0..n)
            .map(|g| {
                let (base, l) = (g - g % size, g % size);
                let h = base + (l + 1) % size;
                input[h] * weights[h % 4] + counter
            })
            .collect()
    };
    let mut m = Mem::default();
    let (ii, io) = (m.add(&input), m.zeros::<i32>(n));
    m.run1(
        &p,
        "globals14",
        &[A::Buf(ii), A::Buf(io)],
        n as u32,
        size as u32,
    )
    .unwrap();
    assert_eq!(m.get::<i32>(io), want(5));
    // The program-scope counter keeps its value between launches.
    m.run1(&p, "bump", &[val(10i32)], 1, 1).unwrap();
    m.run1(
        &p,
        "globals14",
        &[A::Buf(ii), A::Buf(io)],
        n as u32,
        size as u32,
    )
    .unwrap();
    assert_eq!(m.get::<i32>(io), want(15));
});
