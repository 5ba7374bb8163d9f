//! Copy bandwidth against `copy_from_slice` (ignored by default: timing on a shared machine is
//! noisy; run with `cargo test --release -p level-zero-cpu --test bandwidth -- --ignored
//! --nocapture`).

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::time::{Duration, Instant};

use common::{Backend, NO_WAITS, NULL_EVENT};

const SIZE: usize = 256 << 20;

fn best(mut f: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
#[ignore]
fn large_copies_approach_memcpy_bandwidth() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_MAX_ALLOC", "1G")]);
    let c = b.context();
    let src = b.alloc_device(c, SIZE, 0);
    let dst = b.alloc_device(c, SIZE, 1);
    let l = b.immediate(c, 0);
    let one = [1u8];
    // Touch every page first, as the baseline's vectors are.
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            src.cast(),
            one.as_ptr().cast(),
            1,
            SIZE,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            dst.cast(),
            one.as_ptr().cast(),
            1,
            SIZE,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    b.finish(c, l);
    let driver = best(|| {
        ok!(
            b,
            zeCommandListAppendMemoryCopy(l, dst.cast(), src.cast(), SIZE, NULL_EVENT, 0, NO_WAITS)
        );
        b.finish(c, l);
    });
    let a = vec![1u8; SIZE];
    let mut v = vec![2u8; SIZE];
    let baseline = best(|| {
        v.copy_from_slice(std::hint::black_box(&a));
        std::hint::black_box(&mut v);
    });
    let ratio = baseline.as_secs_f64() / driver.as_secs_f64();
    let gbs = |d: Duration| SIZE as f64 / d.as_secs_f64() / 1e9;
    println!(
        "256 MiB device-to-device copy: driver {:.2} GB/s, copy_from_slice {:.2} GB/s, ratio {ratio:.2}",
        gbs(driver),
        gbs(baseline)
    );
    ok!(b, zeCommandListDestroy(l));
    b.free(c, src);
    b.free(c, dst);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
    assert!(ratio >= 0.9, "{ratio:.2}");
}
