//! Group 2: the CPU driver's copies against `copy_from_slice` of the same size: host to
//! device, device to host, device to device and peer (device 0 to device 1), at 4 KiB,
//! 1 MiB and 256 MiB, each an append + synchronize on an immediate list. The table gives
//! the bandwidth ratio driver / memcpy (goal at 256 MiB: at least 0.9).
//!
//! `cargo bench --bench copies`

mod common;

use std::time::Duration;

use level_zero::{Context, DeviceBuffer, HostBuffer, ImmediateCommandList};

const SIZES: [(usize, &str); 3] = [
    (4 << 10, "4 KiB"),
    (1 << 20, "1 MiB"),
    (256 << 20, "256 MiB"),
];
const KINDS: [(&str, &str); 4] = [
    ("h2d", "host → device"),
    ("d2h", "device → host"),
    ("d2d", "device → device"),
    ("peer", "device 0 → device 1 (peer)"),
];

struct Bufs {
    host: HostBuffer<u8>,
    dev: DeviceBuffer<u8>,
    dev2: DeviceBuffer<u8>,
    peer: DeviceBuffer<u8>,
    src: Vec<u8>,
    dst: Vec<u8>,
}

fn main() {
    let driver = level_zero::cpu::driver(level_zero::cpu::Config::default()).unwrap();
    let devs = driver.devices().unwrap();
    let ctx = Context::new(&driver).unwrap();
    let mut list = ImmediateCommandList::copy_engine(&ctx, &devs[0]).unwrap();
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");

    let mut c = common::criterion(10, Duration::from_secs(3));
    let mut paired = Vec::new();
    for (n, size) in SIZES {
        let n = if quick { n.min(1 << 20) } else { n };
        let mut b = Bufs {
            host: HostBuffer::new(&ctx, n).unwrap(),
            dev: DeviceBuffer::new(&ctx, &devs[0], n).unwrap(),
            dev2: DeviceBuffer::new(&ctx, &devs[0], n).unwrap(),
            peer: DeviceBuffer::new(&ctx, &devs[1], n).unwrap(),
            src: vec![1u8; n],
            dst: vec![2u8; n],
        };
        // Touch every page first: page faults are not what is measured.
        for d in [&b.dev, &b.dev2] {
            list.fill(d, 3u8).unwrap();
        }
        list.fill(&b.host, 4u8).unwrap();
        list.synchronize().unwrap();
        ImmediateCommandList::copy_engine(&ctx, &devs[1])
            .unwrap()
            .copy_from_slice(&b.peer, &b.src)
            .unwrap();

        let run = |kind: &str, list: &mut ImmediateCommandList, b: &mut Bufs| {
            match kind {
                "h2d" => list.copy(&b.dev, &b.host).unwrap(),
                "d2h" => list.copy(&b.host, &b.dev).unwrap(),
                "d2d" => list.copy(&b.dev2, &b.dev).unwrap(),
                "peer" => list.copy(&b.peer, &b.dev).unwrap(),
                "memcpy" => {
                    b.dst.copy_from_slice(&b.src);
                    std::hint::black_box(&b.dst);
                    return;
                }
                _ => unreachable!(),
            }
            list.synchronize().unwrap();
        };
        common::bench(&mut c, "copies", &format!("memcpy/{size}"), || {
            run("memcpy", &mut list, &mut b)
        });
        for (kind, _) in KINDS {
            common::bench(&mut c, "copies", &format!("{kind}/{size}"), || {
                run(kind, &mut list, &mut b)
            });
        }
        if n == 256 << 20 {
            // Paired rounds for the goal: the copy and memcpy alternate.
            for (kind, _) in KINDS {
                let cell = std::cell::RefCell::new((&mut list, &mut b));
                let r = common::paired_ratio(
                    9,
                    1,
                    || {
                        let (l, b) = &mut *cell.borrow_mut();
                        run("memcpy", l, b)
                    },
                    || {
                        let (l, b) = &mut *cell.borrow_mut();
                        run(kind, l, b)
                    },
                );
                paired.push((kind, r));
            }
        }
    }
    c.final_summary();

    println!("\n## CPU-driver copies against copy_from_slice (bandwidth ratio driver / memcpy)\n");
    println!("| copy | 4 KiB | 1 MiB | 256 MiB | 256 MiB, paired rounds (goal ≥ 0.9) |");
    println!("|---|---|---|---|---|");
    for (kind, what) in KINDS {
        let mut row = format!("| {what} ");
        for (_, size) in SIZES {
            match (
                common::median(&format!("copies/memcpy/{size}")),
                common::median(&format!("copies/{kind}/{size}")),
            ) {
                (Some(m), Some(d)) => row += &format!("| {:.2} ({}) ", m / d, common::ns(d)),
                _ => row += "| — ",
            }
        }
        match paired.iter().find(|(k, _)| *k == kind) {
            Some((_, r)) => row += &format!("| {r:.2} |"),
            None => row += "| — |",
        }
        println!("{row}");
    }
    for (_, size) in SIZES {
        if let Some(m) = common::median(&format!("copies/memcpy/{size}")) {
            println!("memcpy {size}: {}", common::ns(m));
        }
    }
}
