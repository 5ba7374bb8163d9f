//! The caching allocator against direct allocation, on a training-like pattern: each step
//! allocates activations (64 KiB–16 MiB) and small tensors (1–512 KiB) in a forward pass,
//! frees most small tensors as it goes, then frees the activations in reverse order in a
//! backward pass. The same pseudo-random sizes for both sides; `CachingAllocator::alloc`
//! vs `DeviceBuffer::new` (`zeMemAllocDevice` + `zeMemFree` per buffer). Prints the time per
//! step of each and the ratio, also measured in paired rounds; the same step with expandable
//! segments (`expandable_segments:True`).
//!
//! Then the memory figure: a fragmenting pattern (the training-like step with shapes that
//! change from step to step, as with dynamic batch sizes: every size scaled by a factor
//! drawn per step from 0.5 to 2) run with driver segments and with expandable segments,
//! printing peak reserved against peak allocated bytes for each.
//!
//! `cargo bench --bench alloc`

mod common;

use std::time::Duration;

use level_zero::alloc::{AllocatorConfig, CachingAllocator};
use level_zero::{Context, Device, DeviceBuffer};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// One step's requests: (bytes, activation?).
fn step_sizes(seed: u64) -> Vec<(usize, bool)> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..96)
        .map(|i| {
            if i % 3 == 0 {
                // Activations: log-uniform from 64 KiB to 16 MiB.
                let exp = 16 + next() % 9; // 2^16 .. 2^24
                let n = (1usize << exp) + (next() as usize % (1 << exp));
                (n.min(16 * MIB), true)
            } else {
                (KIB + next() as usize % (512 * KIB), false)
            }
        })
        .collect()
}

fn run_step(sizes: &[(usize, bool)], mut alloc: impl FnMut(usize) -> DeviceBuffer<u8>) {
    let mut activations = Vec::new();
    let mut temps = Vec::new();
    for &(n, act) in sizes {
        let b = alloc(n);
        if act {
            activations.push(b);
        } else {
            temps.push(b);
            if temps.len() > 4 {
                temps.remove(0);
            }
        }
    }
    drop(temps);
    while let Some(b) = activations.pop() {
        drop(b);
    }
}

fn main() {
    let driver = level_zero::cpu::driver(level_zero::cpu::Config::default()).unwrap();
    let dev: Device = driver.devices().unwrap().remove(0);
    let ctx = Context::new(&driver).unwrap();
    let cache = CachingAllocator::with_config(&ctx, &dev, AllocatorConfig::default()).unwrap();
    let expandable_cfg = AllocatorConfig::default()
        .parse("expandable_segments:True")
        .unwrap();
    let expandable = CachingAllocator::with_config(&ctx, &dev, expandable_cfg.clone()).unwrap();
    let steps: Vec<Vec<(usize, bool)>> = (0..16).map(|s| step_sizes(0x9e37 + s)).collect();
    let mut i = 0;
    let mut next_step = || {
        i = (i + 1) % steps.len();
        i
    };

    let mut c = common::criterion(20, Duration::from_secs(3));
    common::bench(&mut c, "alloc", "caching", || {
        run_step(&steps[next_step()], |n| cache.alloc::<u8>(n).unwrap())
    });
    common::bench(&mut c, "alloc", "expandable", || {
        run_step(&steps[next_step()], |n| expandable.alloc::<u8>(n).unwrap())
    });
    common::bench(&mut c, "alloc", "direct", || {
        run_step(&steps[next_step()], |n| {
            DeviceBuffer::<u8>::new(&ctx, &dev, n).unwrap()
        })
    });
    let mut j = 0;
    let mut k = 0;
    let paired = common::paired_ratio(
        15,
        20,
        || {
            j = (j + 1) % steps.len();
            run_step(&steps[j], |n| cache.alloc::<u8>(n).unwrap())
        },
        || {
            k = (k + 1) % steps.len();
            run_step(&steps[k], |n| {
                DeviceBuffer::<u8>::new(&ctx, &dev, n).unwrap()
            })
        },
    );
    let s = cache.stats();
    println!();
    println!("| training-like step (96 buffers) | caching | direct | caching / direct |");
    println!("|---|---|---|---|");
    common::ratio_row(
        "time per step",
        "alloc/caching",
        "alloc/direct",
        &format!("(paired rounds: {paired:.3}×)"),
    );
    common::ratio_row(
        "time per step, expandable segments",
        "alloc/expandable",
        "alloc/direct",
        "",
    );
    println!(
        "caching allocator: {} requests, {} cache hits, {} segments allocated, reserved {} MiB (peak {} MiB), peak allocated {} MiB",
        s.num_alloc_requests,
        s.num_cache_hits,
        s.num_device_alloc,
        s.reserved_bytes.all.current >> 20,
        s.reserved_bytes.all.peak >> 20,
        s.allocated_bytes.all.peak >> 20
    );
    let e = expandable.stats();
    println!(
        "expandable segments: {} requests, {} cache hits, {} chunks mapped, reserved {} MiB (peak {} MiB), peak allocated {} MiB",
        e.num_alloc_requests,
        e.num_cache_hits,
        e.num_device_alloc,
        e.reserved_bytes.all.current >> 20,
        e.reserved_bytes.all.peak >> 20,
        e.allocated_bytes.all.peak >> 20
    );
    drop((cache, expandable));

    // The memory figure: fresh allocators, the fragmenting pattern.
    println!();
    println!(
        "| fragmenting pattern (64 steps, shapes scaled 0.5–2× per step) | peak allocated | peak reserved | reserved / allocated | driver allocations |"
    );
    println!("|---|---|---|---|---|");
    for (name, cfg) in [
        ("segments", AllocatorConfig::default()),
        ("expandable segments", expandable_cfg),
    ] {
        let a = CachingAllocator::with_config(&ctx, &dev, cfg).unwrap();
        let mut scale = 0x2545_f491u64;
        for k in 0..64u64 {
            scale ^= scale << 13;
            scale ^= scale >> 7;
            scale ^= scale << 17;
            // A factor from 0.5 to 2 (in 1/64ths), the same sequence for both modes.
            let f = 32 + (scale % 97) as usize;
            run_step(&steps[(k % 16) as usize], |n| {
                a.alloc::<u8>((n * f / 64).max(1)).unwrap()
            });
        }
        let s = a.stats();
        println!(
            "| {name} | {:.1} MiB | {:.1} MiB | {:.3} | {} |",
            s.allocated_bytes.all.peak as f64 / MIB as f64,
            s.reserved_bytes.all.peak as f64 / MIB as f64,
            s.reserved_bytes.all.peak as f64 / s.allocated_bytes.all.peak as f64,
            s.num_device_alloc
        );
    }
}
