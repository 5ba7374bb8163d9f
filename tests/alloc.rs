//! The caching allocator (`level_zero::alloc`): pools, splitting and coalescing, reuse only
//! after the device is done, threads, out-of-memory, bypass mode, `empty_cache`, statistics
//! and snapshots, and a randomised test against the driver's own accounting.

mod common;

use common::TestDriver;
use level_zero::alloc::{AllocatorConfig, CachingAllocator, Pool};
use level_zero::{DeviceBuffer, Error, EventPool, EventPoolFlags, ImmediateCommandList};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

fn addr<T: bytemuck::Pod>(b: &DeviceBuffer<T>) -> usize {
    b.as_raw() as usize
}

fn caching(t: &TestDriver) -> CachingAllocator {
    CachingAllocator::with_config(&t.context(), &t.device(), AllocatorConfig::default()).unwrap()
}

/// Segments tile exactly with their blocks and no two neighbouring blocks are both free.
fn assert_tiled_and_coalesced(a: &CachingAllocator) {
    for seg in a.memory_snapshot().segments {
        let mut at = seg.address;
        let mut prev_free = false;
        for b in &seg.blocks {
            assert_eq!(b.address, at, "blocks of a segment are contiguous");
            assert!(!prev_free || b.allocated, "two free neighbours not merged");
            prev_free = !b.allocated;
            at += b.size;
        }
        assert_eq!(at, seg.address + seg.total_size, "blocks cover the segment");
    }
}

#[test]
fn blocks_are_split_reused_and_coalesced_within_a_segment() {
    let t = TestDriver::new();
    let a = caching(&t);
    let x = a.alloc::<u8>(1000).unwrap(); // 1024 bytes
    let y = a.alloc::<u8>(2048).unwrap();
    let z = a.alloc::<u8>(512).unwrap();
    let base = addr(&x);
    assert_eq!(base % CachingAllocator::ALIGNMENT, 0);
    assert_eq!(addr(&y), base + 1024, "split: the next block follows");
    assert_eq!(addr(&z), base + 3072);
    let s = a.stats();
    assert_eq!(s.num_device_alloc, 1);
    assert_eq!(s.num_splits, 3);
    assert_eq!(s.allocated_bytes.all.current, 1024 + 2048 + 512);
    assert_eq!(s.requested_bytes.all.current, 1000 + 2048 + 512);
    assert_eq!(s.reserved_bytes.small.current, 2 * MIB as u64);

    // A freed block is reused (best fit: the 2048-byte hole, not the big rest).
    drop(y);
    let y2 = a.alloc::<u8>(1500).unwrap();
    assert_eq!(addr(&y2), base + 1024);
    assert_eq!(
        a.stats().inactive_split.small,
        2,
        "a 512-byte hole and the rest"
    );
    assert_tiled_and_coalesced(&a);

    // Everything freed merges back into one block: a request of the whole segment fits.
    drop((x, y2, z));
    assert_tiled_and_coalesced(&a);
    let snap = a.memory_snapshot();
    assert_eq!(snap.segments.len(), 1);
    assert_eq!(snap.segments[0].blocks.len(), 1, "{snap:?}");
    assert!(a.stats().num_merges >= 3);
    let whole = a.alloc::<u8>(MIB).unwrap();
    assert_eq!(addr(&whole), base);
    assert_eq!(a.stats().num_device_alloc, 1);
}

#[test]
fn small_and_large_pools_have_their_own_segments() {
    let t = TestDriver::new();
    let a = caching(&t);
    let small = a.alloc::<u8>(MIB).unwrap();
    let medium = a.alloc::<u8>(MIB + 1).unwrap();
    let medium2 = a.alloc::<u8>(3 * MIB).unwrap();
    let big = a.alloc::<u8>(17 * MIB + 1).unwrap(); // does not fit the 16 MiB left
    let s = a.stats();
    assert_eq!(s.segment.small.current, 1);
    assert_eq!(
        s.segment.large.current, 2,
        "medium requests share a 20 MiB segment"
    );
    assert_eq!(s.reserved_bytes.small.current, 2 * MIB as u64);
    assert_eq!(
        s.reserved_bytes.large.current,
        (20 + 18) as u64 * MIB as u64,
        "20 MiB for requests below 10 MiB, the request rounded to 2 MiB above"
    );
    assert_eq!(addr(&medium2), addr(&medium) + MIB + 512);
    assert_eq!(t.live().allocated_bytes, (2 + 20 + 18) as u64 * MIB as u64);
    let snap = a.memory_snapshot();
    let pools: Vec<Pool> = snap.segments.iter().map(|s| s.pool).collect();
    assert_eq!(pools.iter().filter(|p| **p == Pool::Small).count(), 1);

    // The large pool's free memory does not serve small requests.
    drop((medium, medium2));
    let small2 = a.alloc::<u8>(4 * KIB).unwrap();
    assert_eq!(addr(&small2), addr(&small) + MIB);
    let s = a.stats();
    assert_eq!(s.num_device_alloc, 3);
    assert_eq!(s.allocated_bytes.small.current, (MIB + 4 * KIB) as u64);
    // The 1 MiB - 512 left of its segment is too small to keep: the block is all of it.
    assert_eq!(s.allocated_bytes.large.current, 18 * MIB as u64);
    drop((small, small2, big));
    assert_eq!(a.stats().allocated_bytes.all.current, 0);
}

#[test]
fn oversize_blocks_are_not_split_and_not_used_for_smaller_requests() {
    let t = TestDriver::new();
    let cfg = AllocatorConfig::default()
        .parse("max_split_size_mb:32")
        .unwrap();
    let a = CachingAllocator::with_config(&t.context(), &t.device(), cfg).unwrap();
    let big = a.alloc::<u8>(40 * MIB).unwrap();
    let at = addr(&big);
    drop(big);
    // Below the limit: the cached 40 MiB block is not split for it.
    let mid = a.alloc::<u8>(12 * MIB).unwrap();
    assert_ne!(addr(&mid), at);
    // At or above the limit and close in size: taken whole.
    let big2 = a.alloc::<u8>(36 * MIB).unwrap();
    assert_eq!(addr(&big2), at);
    let s = a.stats();
    assert_eq!(
        s.allocated_bytes.large.current,
        (12 + 40) as u64 * MIB as u64
    );
    assert_eq!(s.oversize_allocations.current, 1);
    assert_eq!(s.oversize_segments.current, 1);
    assert_eq!(s.num_device_alloc, 2);
}

#[test]
fn cache_hits_make_no_driver_call() {
    let t = TestDriver::new();
    let a = caching(&t);
    let before = t.live().allocations;
    for _ in 0..100 {
        let b = a.alloc::<f32>(10_000).unwrap();
        assert_eq!(t.live().allocations, before + 1);
        drop(b);
    }
    let s = a.stats();
    assert_eq!(s.num_alloc_requests, 100);
    assert_eq!(s.num_device_alloc, 1);
    assert_eq!(s.num_cache_hits, 99);
    assert_eq!(s.allocation.all.allocated, 100);
    assert_eq!(s.allocation.all.freed, 100);
    assert_eq!(s.allocation.all.peak, 1);
}

#[test]
fn a_block_used_by_an_unsynchronised_command_comes_back_only_after_its_list_synchronises() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = CachingAllocator::with_config(&ctx, &dev, AllocatorConfig::default()).unwrap();
    let mut list_a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut list_b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();

    const N: usize = 64 * KIB;
    let old = a.alloc::<u8>(N).unwrap();
    let old_addr = addr(&old);
    // List A will write the block, but only once the gate opens.
    list_a.wait_events(&[&gate]).unwrap();
    list_a.fill(&old, 0xAAu8).unwrap();
    drop(old);
    assert_eq!(
        a.stats().allocation.all.current,
        1,
        "the command still holds it"
    );

    // Another list's buffer of the same size must not be that block.
    let fresh = a.alloc::<u8>(N).unwrap();
    assert_ne!(addr(&fresh), old_addr);
    let data: Vec<u8> = (0..N).map(|i| (i % 251) as u8).collect();
    list_b.copy_from_slice(&fresh, &data).unwrap();

    // Open the gate: A's fill runs, into its own block only.
    gate.host_signal().unwrap();
    // Before A is synchronised the block is still not handed out.
    let another = a.alloc::<u8>(N).unwrap();
    assert_ne!(addr(&another), old_addr);
    assert_eq!(fresh.to_vec(&mut list_b).unwrap(), data, "not clobbered");

    list_a.synchronize().unwrap();
    assert_eq!(a.stats().allocation.all.current, 2);
    let reused = a.alloc::<u8>(N).unwrap();
    assert_eq!(
        addr(&reused),
        old_addr,
        "back in the pool once A saw the fill complete"
    );
    assert_eq!(reused.to_vec(&mut list_b).unwrap(), vec![0xAA; N]);
    assert_eq!(a.stats().num_device_alloc, 1);
}

#[test]
fn many_threads_share_one_allocator() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = CachingAllocator::with_config(&ctx, &dev, AllocatorConfig::default()).unwrap();
    std::thread::scope(|s| {
        for th in 0..4u32 {
            let (a, ctx, dev) = (a.clone(), ctx.clone(), dev.clone());
            s.spawn(move || {
                let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
                let mut rng = Rng(0x1234 + th as u64);
                let mut live = Vec::new();
                for i in 0..300u32 {
                    let n = 1 + rng.below(if i % 10 == 0 { 3 << 18 } else { 4096 }) as usize;
                    let b = a.alloc::<u32>(n).unwrap();
                    list.fill(&b, th * 1000 + i).unwrap();
                    live.push((b, th * 1000 + i));
                    if live.len() > 8 {
                        let (b, v) = live.swap_remove(rng.below(live.len() as u64) as usize);
                        assert!(b.to_vec(&mut list).unwrap().iter().all(|&x| x == v));
                    }
                }
                list.synchronize().unwrap();
            });
        }
    });
    let s = a.stats();
    assert_eq!(s.allocation.all.current, 0);
    assert_eq!(s.num_alloc_requests, 1200);
    assert!(s.num_cache_hits > 1000, "{s:?}");
    assert_tiled_and_coalesced(&a);
    a.empty_cache();
    assert_eq!(a.memory_reserved(), 0);
    assert_eq!(t.live().allocated_bytes, 0);
}

fn small_device(mib: u64) -> Option<TestDriver> {
    TestDriver::with(|c| {
        c.device_memory = mib << 20;
        c.max_alloc = Some(mib << 20);
    })
}

#[test]
fn out_of_memory_gives_the_cache_back_and_retries() {
    let Some(t) = small_device(64) else { return };
    let a = caching(&t);
    drop(a.alloc::<u8>(30 * MIB).unwrap());
    assert_eq!(a.memory_reserved(), 30 * MIB as u64);
    // 30 cached + 40 > 64: the driver refuses, the cache goes back, the retry succeeds.
    let b = a.alloc::<u8>(40 * MIB).unwrap();
    let s = a.stats();
    assert_eq!(s.num_alloc_retries, 1);
    assert_eq!(s.num_ooms, 0);
    assert_eq!(s.num_device_free, 1);
    assert_eq!(s.reserved_bytes.all.current, 40 * MIB as u64);
    assert_eq!(t.live().allocated_bytes, 40 * MIB as u64);
    drop(b);
}

#[test]
fn out_of_memory_is_a_typed_error_saying_what_is_allocated_reserved_and_cached() {
    let Some(t) = small_device(64) else { return };
    let a = caching(&t);
    // Two 5 MiB blocks of one 20 MiB segment (10 MiB of it free), and a 40 MiB segment.
    let r1 = a.alloc::<u8>(5 * MIB).unwrap();
    let r2 = a.alloc::<u8>(5 * MIB).unwrap();
    let big = a.alloc::<u8>(40 * MIB).unwrap();
    let err = a.alloc::<u8>(30 * MIB).unwrap_err();
    match &err {
        Error::OutOfDeviceMemory {
            requested,
            allocated,
            reserved,
            cached,
            ..
        } => {
            assert_eq!(*requested, 30 * MIB as u64);
            assert_eq!(*allocated, 50 * MIB as u64);
            assert_eq!(*reserved, 60 * MIB as u64);
            assert_eq!(*cached, 10 * MIB as u64);
        }
        other => panic!("not OutOfDeviceMemory: {other}"),
    }
    assert!(err.is_out_of_device_memory());
    let msg = err.to_string();
    for part in [
        "tried to allocate 30.00 MiB",
        "50.00 MiB allocated",
        "60.00 MiB reserved",
        "10.00 MiB is cached",
        "zeMemAllocDevice",
    ] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
    let s = a.stats();
    assert_eq!((s.num_alloc_retries, s.num_ooms), (1, 1));
    // The allocator goes on working.
    drop(big);
    let c = a.alloc::<u8>(30 * MIB).unwrap();
    drop((r1, r2, c));
}

#[test]
fn with_caching_off_every_request_is_its_own_driver_allocation() {
    let t = TestDriver::new();
    let cfg = AllocatorConfig::default().parse("caching:0").unwrap();
    let a = CachingAllocator::with_config(&t.context(), &t.device(), cfg).unwrap();
    let before = t.live();
    let x = a.alloc::<u8>(1000).unwrap();
    let y = a.alloc::<u8>(1000).unwrap();
    assert_eq!(t.live().allocations, before.allocations + 2);
    assert_eq!(t.live().allocated_bytes, before.allocated_bytes + 2048);
    drop(x);
    assert_eq!(
        t.live().allocations,
        before.allocations + 1,
        "freed at once"
    );
    drop(y);
    assert_eq!(t.live(), before);
    let s = a.stats();
    assert_eq!((s.num_device_alloc, s.num_device_free), (2, 2));
    assert_eq!(s.num_cache_hits, 0);
    assert_eq!(s.allocated_bytes.all.peak, 2048);
    assert_eq!(s.reserved_bytes.all.current, 0);
}

#[test]
fn empty_cache_returns_free_segments_to_the_driver() {
    let t = TestDriver::new();
    let a = caching(&t);
    let dev = t.device();
    let base_bytes = dev.allocation_stats().device.bytes;
    let keep = a.alloc::<u8>(100).unwrap();
    let bufs: Vec<_> = (0..5).map(|_| a.alloc::<u8>(15 * MIB).unwrap()).collect();
    let reserved = (2 + 5 * 16) as u64 * MIB as u64;
    assert_eq!(t.live().allocated_bytes, reserved);
    assert_eq!(
        dev.allocation_stats().device.bytes,
        base_bytes + reserved,
        "counted once"
    );
    drop(bufs);
    assert_eq!(t.live().allocated_bytes, reserved, "cached, not freed");
    assert_eq!(a.empty_cache(), 5 * 16 * MIB as u64);
    assert_eq!(
        t.live().allocated_bytes,
        2 * MIB as u64,
        "the small segment is in use"
    );
    assert_eq!(a.memory_reserved(), 2 * MIB as u64);
    drop(keep);
    a.empty_cache();
    assert_eq!(t.live().allocated_bytes, 0);
    assert_eq!(dev.allocation_stats().device.bytes, base_bytes);
}

#[test]
fn the_last_block_and_clone_free_every_segment() {
    let t = TestDriver::new();
    let a = caching(&t);
    let b = a.alloc::<u64>(1000).unwrap();
    drop(a.alloc::<u8>(30 * MIB).unwrap());
    drop(a);
    assert!(
        t.live().allocated_bytes > 0,
        "the block keeps the allocator"
    );
    drop(b);
    assert_eq!(t.live().allocated_bytes, 0);
}

#[test]
fn peaks_reset_and_snapshots_serialise_to_json() {
    let t = TestDriver::new();
    let a = caching(&t);
    let x = a.alloc::<u8>(3 * MIB).unwrap();
    let y = a.alloc::<u8>(4 * KIB).unwrap();
    drop(a.alloc::<u8>(8 * KIB).unwrap());
    let s = a.stats();
    assert_eq!(s.allocated_bytes.all.peak, (3 * MIB + 12 * KIB) as u64);
    a.reset_peak_stats();
    assert_eq!(
        a.stats().allocated_bytes.all.peak,
        (3 * MIB + 4 * KIB) as u64
    );

    let json: serde_json::Value = serde_json::from_str(&a.memory_snapshot().to_json()).unwrap();
    let segs = json["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 2);
    let large = segs.iter().find(|s| s["pool"] == "large").unwrap();
    assert_eq!(large["total_size"], 20 * MIB);
    assert_eq!(large["allocated_size"], 3 * MIB);
    let blocks = large["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["address"], addr(&x));
    assert_eq!(blocks[0]["allocated"], true);
    assert_eq!(blocks[1]["allocated"], false);
    assert_eq!(json["stats"]["reserved_bytes"]["all"]["current"], 22 * MIB);
    assert_eq!(json["stats"]["num_device_alloc"], 2);
    drop((x, y));
}

#[test]
fn alignments_above_512_bytes_are_refused() {
    #[derive(Clone, Copy, bytemuck::Zeroable, bytemuck::Pod)]
    #[repr(C, align(1024))]
    struct Page([u8; 1024]);
    let t = TestDriver::new();
    let a = caching(&t);
    let e = a.alloc::<Page>(1).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    assert!(e.to_string().contains("512"), "{e}");
    assert!(a.alloc_aligned::<u8>(10, 1024).is_err());
    assert!(a.alloc_aligned::<u8>(10, 3).is_err());
    let b = a.alloc_aligned::<u8>(10, 256).unwrap();
    let c = a.alloc::<u8>(1).unwrap();
    assert_eq!(addr(&c) % 512, 0);
    assert_eq!(a.stats().num_alloc_requests, 2, "refusals reach no pool");
    // Zero bytes: an empty buffer, no pool involved.
    assert!(a.alloc::<u32>(0).unwrap().is_empty());
    assert!(a.alloc::<()>(5).unwrap().len() == 5);
    drop((b, c));
}

#[test]
fn settings_are_checked_and_never_ignored() {
    let d = AllocatorConfig::default();
    for bad in [
        "max_split_size:128",
        "max_split_size_mb:abc",
        "max_split_size_mb:8",
        "max_split_size_mb:64,max_split_size_mb:64",
        "caching:maybe",
        "round_bytes:1000",
        "round_bytes:256",
        "small_segment_mb:0",
        "garbage",
    ] {
        let e = d.parse(bad).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{bad}: {e}");
    }
    let c = d
        .parse(" max_split_size_mb : 256 , round_bytes:1024,large_segment_mb:32 ")
        .unwrap();
    assert_eq!(c.max_split_size, Some(256 << 20));
    assert_eq!(c.round_bytes, 1024);
    assert_eq!(c.large_segment, 32 << 20);
    assert_eq!(d.parse("").unwrap(), d);
}

/// Runs in a child process with the environment set (see the next test).
#[test]
#[ignore = "run by environment_variables_configure_new_allocators in a child process"]
fn child_reads_the_environment() {
    let t = TestDriver::new();
    match std::env::var("ALLOC_TEST_EXPECT").as_deref() {
        Ok("bypass") => {
            let a = CachingAllocator::new(&t.context(), &t.device()).unwrap();
            assert!(!a.config().caching);
            assert_eq!(a.config().max_split_size, Some(64 << 20));
            let x = a.alloc::<u8>(10).unwrap();
            drop(x);
            assert_eq!(a.stats().num_device_free, 1);
        }
        Ok("error") => {
            let e = CachingAllocator::new(&t.context(), &t.device()).unwrap_err();
            assert!(
                e.to_string().contains("LEVEL_ZERO_NO_MEMORY_CACHING"),
                "{e}"
            );
        }
        Ok("conf-error") => {
            let e = CachingAllocator::new(&t.context(), &t.device()).unwrap_err();
            assert!(e.to_string().contains("bogus"), "{e}");
        }
        other => panic!("ALLOC_TEST_EXPECT={other:?}"),
    }
}

#[test]
fn environment_variables_configure_new_allocators() {
    if common::system_backend() {
        return;
    }
    for (expect, no_cache, conf) in [
        ("bypass", "1", "max_split_size_mb:64"),
        ("error", "yes", ""),
        ("conf-error", "0", "bogus:1"),
    ] {
        let out = common::this_test_binary()
            .args([
                "--exact",
                "child_reads_the_environment",
                "--ignored",
                "--nocapture",
            ])
            .env("ALLOC_TEST_EXPECT", expect)
            .env("LEVEL_ZERO_NO_MEMORY_CACHING", no_cache)
            .env("LEVEL_ZERO_ALLOC_CONF", conf)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{expect}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn conveniences_upload_zero_and_cast() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = CachingAllocator::with_config(&ctx, &dev, AllocatorConfig::default()).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let x = a.upload(&mut list, &[0xFFFF_FFFFu32; 256]).unwrap();
    let at = addr(&x);
    drop(x);
    list.synchronize().unwrap();
    // The same block, with its old contents: alloc_zeroed clears it.
    let z = a.alloc_zeroed::<u32>(&mut list, 256).unwrap();
    assert_eq!(addr(&z), at);
    assert_eq!(z.to_vec(&mut list).unwrap(), vec![0; 256]);

    let w = DeviceBuffer::from_slice(&mut list, &[1u16, 2, 3, 4, 5, 6]).unwrap();
    let pairs = w.cast::<[u16; 2]>().unwrap();
    assert_eq!(pairs.len(), 3);
    let mut out = [[0u16; 2]; 3];
    list.copy_to_slice(&mut out, &pairs).unwrap();
    assert_eq!(out, [[1, 2], [3, 4], [5, 6]]);
    let words = w.slice(2..).cast::<u32>().unwrap();
    let mut out = [0u32; 2];
    list.copy_to_slice(&mut out, &words).unwrap();
    assert_eq!(out, [3 | 4 << 16, 5 | 6 << 16]);
    // 5 elements of 2 bytes are not whole u32s; an offset of 2 bytes is not either.
    let e = w.slice(1..).cast::<u32>().unwrap_err();
    assert!(e.to_string().contains("not a whole number"), "{e}");
    let e = w.slice(1..5).cast::<u32>().unwrap_err();
    assert!(e.to_string().contains("starts 2 bytes"), "{e}");
    assert!(
        w.slice(1..5)
            .cast::<[u8; 4]>()
            .unwrap_err()
            .to_string()
            .contains("multiple")
    );
    assert!(w.cast::<()>().is_err());
    assert!(w.slice(3..3).cast::<()>().unwrap().is_empty());
    let zz = DeviceBuffer::<[u8; 3]>::zeroed(&mut list, 5).unwrap();
    assert_eq!(zz.to_vec(&mut list).unwrap(), vec![[0; 3]; 5]);
}

/// xorshift64*: a seeded PRNG, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn randomised_operations_keep_reserved_equal_to_the_drivers_live_bytes() {
    let seed: u64 = std::env::var("ALLOC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234);
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    for (round, conf) in ["", "max_split_size_mb:24", "caching:0"]
        .into_iter()
        .enumerate()
    {
        let cfg = AllocatorConfig::default().parse(conf).unwrap();
        let a = CachingAllocator::with_config(&ctx, &dev, cfg).unwrap();
        let mut rng = Rng(seed ^ (round as u64 * 0x9e37_79b9));
        let mut live: Vec<DeviceBuffer<u8>> = Vec::new();
        let base = t.live().allocated_bytes;
        for step in 0..3000 {
            match rng.below(100) {
                0..=48 => {
                    let n = match rng.below(10) {
                        0..=5 => 1 + rng.below(512 * KIB as u64),
                        6..=8 => 1 + rng.below(16 * MIB as u64),
                        _ => 1 + rng.below(48 * MIB as u64),
                    } as usize;
                    live.push(a.alloc::<u8>(n).unwrap());
                }
                49..=97 if !live.is_empty() => {
                    let i = rng.below(live.len() as u64) as usize;
                    live.swap_remove(i);
                }
                98..=99 => {
                    a.empty_cache();
                }
                _ => {}
            }
            let s = a.stats();
            let driver = t.live().allocated_bytes - base;
            assert_eq!(
                s.reserved_bytes.all.current, driver,
                "seed {seed:#x}, config {conf:?}, step {step}: reserved vs the driver's live bytes"
            );
            assert!(s.allocated_bytes.all.current <= s.reserved_bytes.all.current);
            assert_eq!(
                s.requested_bytes.all.current,
                live.iter().map(|b| b.len() as u64).sum::<u64>(),
                "step {step}"
            );
            assert_eq!(s.allocation.all.current, live.len() as u64, "step {step}");
            if step % 250 == 0 {
                assert_tiled_and_coalesced(&a);
            }
        }
        drop(live);
        assert_tiled_and_coalesced(&a);
        a.empty_cache();
        assert_eq!(t.live().allocated_bytes, base, "config {conf:?}");
    }
}

#[test]
fn allocators_and_their_results_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CachingAllocator>();
    send_sync::<level_zero::alloc::MemorySnapshot>();
    send_sync::<level_zero::alloc::AllocatorStats>();
}
