//! One test per kernel of `kernels/`, at -O0 and -O2, against Rust reference computations.

mod common;
use common::*;

both!(vector_add, |opt| {
    let p = program("vector_add", opt);
    let n = 4096usize;
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| 1000.0 - i as f32).collect();
    let mut m = Mem::default();
    let (ia, ib, ic) = (m.add(&a), m.add(&b), m.zeros::<f32>(n));
    m.run1(&p, "vector_add", &[A::Buf(ia), A::Buf(ib), A::Buf(ic)], n as u32, 64).unwrap();
    let c: Vec<f32> = m.get(ic);
    for i in 0..n {
        assert_eq!(c[i], a[i] + b[i], "at {i}");
    }
});
