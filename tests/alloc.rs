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

fn expandable() -> AllocatorConfig {
    AllocatorConfig::default()
        .parse("expandable_segments:True")
        .unwrap()
}

/// The two ways of getting memory from the driver, for the tests that apply to both:
/// driver segments (`zeMemAllocDevice`) and expandable segments (virtual memory).
fn modes() -> [(&'static str, AllocatorConfig); 2] {
    [
        ("segments", AllocatorConfig::default()),
        ("expandable", expandable()),
    ]
}

/// Bytes of device memory the driver has handed out on the test's device: allocations and
/// physical memory alike (the CPU driver charges both to the device).
fn device_bytes(t: &TestDriver) -> u64 {
    level_zero::cpu::residency(&t.device())
        .unwrap()
        .allocated_bytes
}

/// Driver objects that hold device memory: allocations and physical memory objects.
fn memory_objects(t: &TestDriver) -> u64 {
    let l = t.live();
    l.allocations + l.physical_memory
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
    for (mode, cfg) in modes() {
        let t = TestDriver::new();
        let a = CachingAllocator::with_config(&t.context(), &t.device(), cfg).unwrap();
        let before = memory_objects(&t);
        for _ in 0..100 {
            let b = a.alloc::<f32>(10_000).unwrap();
            assert_eq!(memory_objects(&t), before + 1, "{mode}");
            drop(b);
        }
        let s = a.stats();
        assert_eq!(s.num_alloc_requests, 100);
        assert_eq!(s.num_device_alloc, 1, "{mode}");
        assert_eq!(s.num_cache_hits, 99);
        assert_eq!(s.allocation.all.allocated, 100);
        assert_eq!(s.allocation.all.freed, 100);
        assert_eq!(s.allocation.all.peak, 1);
    }
}

#[test]
fn a_block_used_by_an_unsynchronised_command_comes_back_only_after_its_list_synchronises() {
    for (_, cfg) in modes() {
        a_block_used_by_an_unsynchronised_command_comes_back_only_after_sync(cfg);
    }
}

fn a_block_used_by_an_unsynchronised_command_comes_back_only_after_sync(cfg: AllocatorConfig) {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = CachingAllocator::with_config(&ctx, &dev, cfg).unwrap();
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
    for (_, cfg) in modes() {
        many_threads_share_one_allocator_in(cfg);
    }
}

fn many_threads_share_one_allocator_in(cfg: AllocatorConfig) {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let a = CachingAllocator::with_config(&ctx, &dev, cfg).unwrap();
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
    a.empty_cache().unwrap();
    assert_eq!(a.memory_reserved(), 0);
    assert_eq!(device_bytes(&t), 0);
}

fn small_device(mib: u64) -> Option<TestDriver> {
    TestDriver::with(|c| {
        c.device_memory = mib << 20;
        c.max_alloc = Some(mib << 20);
    })
}

#[test]
fn out_of_memory_gives_the_cache_back_and_retries_in_expandable_segments() {
    let Some(t) = small_device(64) else { return };
    let a = CachingAllocator::with_config(&t.context(), &t.device(), expandable()).unwrap();
    // What needs a retry with driver segments extends in place here: 30 cached + 10 more.
    let first = a.alloc::<u8>(30 * MIB).unwrap();
    let at = addr(&first);
    drop(first);
    let b = a.alloc::<u8>(40 * MIB).unwrap();
    assert_eq!(addr(&b), at, "the cached block grew in place");
    let s = a.stats();
    assert_eq!((s.num_alloc_retries, s.num_device_alloc), (0, 20));
    assert_eq!(s.reserved_bytes.all.current, 40 * MIB as u64);
    drop(b);
    a.empty_cache().unwrap();
    // 20 + 20 MiB, the first freed (a cached 20 MiB hole before an allocated block): 30 MiB
    // more do not fit the 24 MiB the driver has left, the first attempt's chunks are
    // unmapped, the hole goes back, and the retry fits.
    let x = a.alloc::<u8>(20 * MIB).unwrap();
    let y = a.alloc::<u8>(20 * MIB).unwrap();
    drop(x);
    let z = a.alloc::<u8>(30 * MIB).unwrap();
    let s = a.stats();
    assert_eq!((s.num_alloc_retries, s.num_ooms), (1, 0));
    assert_eq!(s.reserved_bytes.all.current, 50 * MIB as u64);
    assert_eq!(device_bytes(&t), 50 * MIB as u64);
    assert_eq!(t.live().allocated_bytes, 0, "no zeMemAllocDevice");
    // Now nothing can give: a typed error, nothing left mapped by the failed attempt.
    let e = a.alloc::<u8>(20 * MIB).unwrap_err();
    assert!(e.is_out_of_device_memory(), "{e}");
    assert!(e.to_string().contains("zePhysicalMemCreate"), "{e}");
    assert_eq!(a.memory_reserved(), 50 * MIB as u64);
    assert_eq!(device_bytes(&t), 50 * MIB as u64);
    drop((y, z));
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
    assert_eq!(a.empty_cache().unwrap(), 5 * 16 * MIB as u64);
    assert_eq!(
        t.live().allocated_bytes,
        2 * MIB as u64,
        "the small segment is in use"
    );
    assert_eq!(a.memory_reserved(), 2 * MIB as u64);
    drop(keep);
    a.empty_cache().unwrap();
    assert_eq!(t.live().allocated_bytes, 0);
    assert_eq!(dev.allocation_stats().device.bytes, base_bytes);
}

#[test]
fn the_last_block_and_clone_free_every_segment() {
    for (mode, cfg) in modes() {
        let t = TestDriver::new();
        let a = CachingAllocator::with_config(&t.context(), &t.device(), cfg).unwrap();
        let b = a.alloc::<u64>(1000).unwrap();
        drop(a.alloc::<u8>(30 * MIB).unwrap());
        drop(a);
        assert!(
            device_bytes(&t) > 0,
            "{mode}: the block keeps the allocator"
        );
        drop(b);
        assert_eq!(device_bytes(&t), 0, "{mode}");
        let l = t.live();
        assert_eq!(
            (
                l.virtual_reservations,
                l.physical_memory,
                l.virtual_mappings
            ),
            (0, 0, 0),
            "{mode}"
        );
    }
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
    for (_, cfg) in modes() {
        let t = TestDriver::new();
        let a = CachingAllocator::with_config(&t.context(), &t.device(), cfg).unwrap();
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
        "expandable_segments:yes",
        "expandable_segments:True,caching:0",
        "expandable_segments:True,max_split_size_mb:64",
        "expandable_chunk_kb:3",
        "expandable_chunk_kb:2",
        "expandable_reserve_mb:0",
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
    let e = d
        .parse("expandable_segments:True, expandable_reserve_mb:512, expandable_chunk_kb:64")
        .unwrap();
    assert!(e.expandable_segments);
    assert_eq!(e.expandable_reserve, Some(512 << 20));
    assert_eq!(e.expandable_chunk, 64 << 10);
    assert!(
        !d.parse("expandable_segments:False")
            .unwrap()
            .expandable_segments
    );
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
        Ok("expandable") => {
            let a = CachingAllocator::new(&t.context(), &t.device()).unwrap();
            assert!(a.config().expandable_segments);
            drop(a.alloc::<u8>(10).unwrap());
            assert_eq!(
                a.stats().virtual_bytes.all,
                2 * a.stats().virtual_bytes.small
            );
            assert!(a.stats().virtual_bytes.small > 0);
        }
        Ok("no-virtual-memory") => {
            // Loudly, at creation, naming the function: never a silent fallback.
            let e = CachingAllocator::new(&t.context(), &t.device()).unwrap_err();
            assert!(matches!(e, Error::MissingFunction(_)), "{e}");
            assert!(e.to_string().contains("zeVirtualMemReserve"), "{e}");
            // Without the setting the allocator works on the same driver.
            let cfg = AllocatorConfig::default();
            let a = CachingAllocator::with_config(&t.context(), &t.device(), cfg).unwrap();
            drop(a.alloc::<u8>(10).unwrap());
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
    for (expect, no_cache, conf, hide) in [
        ("bypass", "1", "max_split_size_mb:64", ""),
        ("error", "yes", "", ""),
        ("conf-error", "0", "bogus:1", ""),
        ("expandable", "0", "expandable_segments:True", ""),
        (
            "no-virtual-memory",
            "0",
            "expandable_segments:True",
            "zeVirtualMemReserve",
        ),
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
            .env("LEVEL_ZERO_CPU_HIDE_FUNCTIONS", hide)
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
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    for (_, cfg) in modes() {
        let a = CachingAllocator::with_config(&ctx, &dev, cfg).unwrap();
        let x = a.upload(&mut list, &[0xFFFF_FFFFu32; 256]).unwrap();
        let at = addr(&x);
        drop(x);
        list.synchronize().unwrap();
        // The same block, with its old contents: alloc_zeroed clears it.
        let z = a.alloc_zeroed::<u32>(&mut list, 256).unwrap();
        assert_eq!(addr(&z), at);
        assert_eq!(z.to_vec(&mut list).unwrap(), vec![0; 256]);
    }

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
    for (round, conf) in [
        "",
        "max_split_size_mb:24",
        "caching:0",
        "expandable_segments:True",
        "expandable_segments:True,expandable_chunk_kb:64",
    ]
    .into_iter()
    .enumerate()
    {
        let cfg = AllocatorConfig::default().parse(conf).unwrap();
        let expandable = cfg.expandable_segments;
        let a = CachingAllocator::with_config(&ctx, &dev, cfg).unwrap();
        let mut rng = Rng(seed ^ (round as u64 * 0x9e37_79b9));
        let mut live: Vec<DeviceBuffer<u8>> = Vec::new();
        let base = device_bytes(&t);
        let base_allocations = t.live().allocated_bytes;
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
                    a.empty_cache().unwrap();
                }
                _ => {}
            }
            let s = a.stats();
            // The device's memory in use (allocations and physical memory objects).
            let driver = device_bytes(&t) - base;
            assert_eq!(
                s.reserved_bytes.all.current, driver,
                "seed {seed:#x}, config {conf:?}, step {step}: reserved vs the driver's live bytes"
            );
            if expandable {
                // Only physical memory, each object mapped once, none by zeMemAllocDevice.
                let l = t.live();
                let chunk = a.config().expandable_chunk;
                assert_eq!(l.physical_memory * chunk, s.reserved_bytes.all.current);
                assert_eq!(l.virtual_mappings, l.physical_memory);
                assert_eq!(l.allocated_bytes, base_allocations);
            }
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
        a.empty_cache().unwrap();
        assert_eq!(device_bytes(&t), base, "config {conf:?}");
    }
}

#[test]
fn allocators_and_their_results_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CachingAllocator>();
    send_sync::<level_zero::alloc::MemorySnapshot>();
    send_sync::<level_zero::alloc::AllocatorStats>();
}

/// Growing requests with frees that leave holes, then a request larger than any hole:
/// driver segments need a new segment for it; an expandable segment extends its free tail
/// in place. Reserved bytes (peak) in both modes, checked against the driver.
#[test]
fn a_fragmenting_pattern_reserves_less_with_expandable_segments() {
    let mut peaks = Vec::new();
    for (mode, cfg) in modes() {
        let t = TestDriver::new();
        let a = CachingAllocator::with_config(&t.context(), &t.device(), cfg).unwrap();
        // 10, 12, ..., 20 MiB: each its own driver segment (≥ 10 MiB), or back to back in
        // the large pool's expandable segment.
        let mut bufs: Vec<Option<DeviceBuffer<u8>>> = (0..6)
            .map(|i| Some(a.alloc::<u8>((10 + 2 * i) * MIB).unwrap()))
            .collect();
        assert_eq!(a.memory_reserved(), 90 * MIB as u64, "{mode}");
        let last = addr(bufs[5].as_ref().unwrap());
        // Holes of 10 and 14 MiB, and the last (20 MiB) freed.
        for i in [0, 2, 5] {
            bufs[i] = None;
        }
        let big = a.alloc::<u8>(36 * MIB).unwrap();
        let s = a.stats();
        assert_eq!(s.reserved_bytes.all.current, device_bytes(&t), "{mode}");
        assert!(s.reserved_bytes.all.peak >= s.allocated_bytes.all.peak);
        if mode == "expandable" {
            assert_eq!(addr(&big), last, "the free tail grew in place");
            assert_eq!(s.num_device_alloc, (90 + 16) / 2, "2 MiB chunks");
        } else {
            assert_ne!(addr(&big), last);
        }
        peaks.push(s.reserved_bytes.all.peak);
        // The holes go back to the driver in both modes (whole segments; whole chunks).
        assert_eq!(
            a.empty_cache().unwrap(),
            (10 + 14) * MIB as u64
                + if mode == "expandable" {
                    0
                } else {
                    20 * MIB as u64
                },
            "{mode}"
        );
        assert_eq!(
            a.memory_reserved(),
            (12 + 16 + 18 + 36) * MIB as u64,
            "{mode}"
        );
        assert_eq!(device_bytes(&t), a.memory_reserved(), "{mode}");
        assert_tiled_and_coalesced(&a);
        drop((bufs, big));
        a.empty_cache().unwrap();
        assert_eq!(device_bytes(&t), 0, "{mode}");
    }
    assert_eq!(
        peaks[0],
        (90 + 36) as u64 * MIB as u64,
        "segments: a new 36 MiB one"
    );
    assert_eq!(
        peaks[1],
        (90 + 16) as u64 * MIB as u64,
        "expandable: 16 MiB more"
    );
}

/// Chunks are mapped as the segment grows and unmapped by `empty_cache` only where blocks
/// are free — never under a block a command still uses — and the snapshot shows the mapped
/// extents of each reservation.
#[test]
fn expandable_segments_map_and_unmap_chunks_and_keep_those_in_use() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let cfg = expandable().parse("expandable_reserve_mb:256").unwrap();
    let a = CachingAllocator::with_config(&ctx, &dev, cfg).unwrap();
    let l = t.live();
    assert_eq!((l.virtual_reservations, l.physical_memory), (2, 0));
    let s = a.stats();
    assert_eq!(s.virtual_bytes.all, 512 * MIB as u64);
    assert_eq!(s.segment.all.current, 2);
    assert_eq!(s.reserved_bytes.all.current, 0);

    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let x = a.alloc::<u8>(4 * MIB).unwrap();
    let y = a.alloc::<u8>(6 * MIB).unwrap();
    let z = a.alloc::<u8>(2 * MIB).unwrap();
    assert_eq!(addr(&y), addr(&x) + 4 * MIB);
    assert_eq!(t.live().physical_memory, 6);
    // y is written once the gate opens; dropped now, its block stays allocated.
    list.wait_events(&[&gate]).unwrap();
    list.fill(&y, 0x5Au8).unwrap();
    drop((x, y));
    assert_eq!(
        a.empty_cache().unwrap(),
        4 * MIB as u64,
        "only x's chunks: y is in use"
    );
    assert_eq!(t.live().physical_memory, 4);
    let snap = a.memory_snapshot();
    assert_eq!(snap.segments.len(), 1, "one extent: y's and z's chunks");
    let ext = &snap.segments[0];
    assert!(ext.expandable);
    assert_eq!(ext.total_size, 8 * MIB as u64);
    let (rbase, rsize) = ext.reservation.unwrap();
    assert_eq!(
        (ext.address - rbase, rsize),
        (4 * MIB as u64, 256 * MIB as u64)
    );
    let json: serde_json::Value = serde_json::from_str(&snap.to_json()).unwrap();
    assert_eq!(json["segments"][0]["expandable"], true);
    assert_eq!(json["stats"]["virtual_bytes"]["all"], 512 * MIB);

    gate.host_signal().unwrap();
    list.synchronize().unwrap();
    // y's block came back: the middle chunks go, z's stay.
    assert_eq!(a.empty_cache().unwrap(), 6 * MIB as u64);
    assert_eq!(t.live().physical_memory, 1);
    assert_eq!(device_bytes(&t), 2 * MIB as u64);
    // A request that fits the hole maps it again (fewest new chunks, lowest address).
    let w = a.alloc::<u8>(9 * MIB).unwrap();
    assert_eq!(addr(&w), rbase as usize);
    assert_eq!(a.memory_reserved(), 12 * MIB as u64);
    assert_eq!(w.to_vec(&mut list).unwrap().len(), 9 * MIB);
    // A request larger than the reservation's free addresses is an out-of-memory error.
    let e = a.alloc::<u8>(300 * MIB).unwrap_err();
    assert!(e.is_out_of_device_memory(), "{e}");
    assert!(e.to_string().contains("expandable_reserve_mb"), "{e}");
    drop((w, z));
    a.empty_cache().unwrap();
    assert_eq!(t.live().physical_memory, 0);
    assert_eq!(a.stats().num_device_alloc, a.stats().num_device_free);
}

/// A block exported to other processes is never handed out again (another process may map
/// it after the export is dropped, until it closes its handle, which only the driver sees):
/// it is retired when it comes back, and its segment goes back to the driver as soon as
/// nothing else of it is allocated. Exporting a block of an expandable segment is refused.
#[test]
fn exported_blocks_are_retired_and_their_segment_goes_back_to_the_driver() {
    let t = TestDriver::new();
    if !common::reaches(&t, &["zeMemGetIpcHandle", "zeMemPutIpcHandle"]) {
        return;
    }
    let a = caching(&t);
    let (x, y) = (a.alloc::<u32>(1024).unwrap(), a.alloc::<u32>(1024).unwrap());
    let (xa, ya) = (addr(&x), addr(&y));
    let export = match level_zero::ipc::ExportedMemory::new(&x) {
        Ok(e) => e,
        Err(Error::Unsupported { what, why }) => {
            return eprintln!("SKIPPED: {what}: {why}");
        }
        Err(e) => panic!("{e}"),
    };
    drop((export, x));
    assert_eq!(a.stats().num_retired_blocks, 1);
    // Not handed out again: a request of the same size gets other memory.
    let z = a.alloc::<u32>(1024).unwrap();
    assert_ne!(addr(&z), xa, "a retired block was handed out again");
    let snap = a.memory_snapshot();
    let retired: Vec<_> = snap
        .segments
        .iter()
        .flat_map(|s| &s.blocks)
        .filter(|b| b.retired)
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].address, xa as u64);
    // Reserved bytes still match the driver (the segment is still allocated)...
    assert_eq!(a.memory_reserved(), device_bytes(&t));
    // ...until nothing else of it is allocated: then it goes back at once, cache or not.
    drop((y, z));
    assert_eq!(a.memory_reserved(), device_bytes(&t));
    assert_eq!(
        a.memory_reserved(),
        0,
        "the segment of a retired block stayed"
    );
    assert_ne!(ya, 0);

    // Expandable segments remap their chunks themselves: exporting a block is refused.
    let e = CachingAllocator::with_config(&t.context(), &t.device(), expandable()).unwrap();
    let b = e.alloc::<u32>(1024).unwrap();
    let r = level_zero::ipc::ExportedMemory::new(&b);
    assert!(
        matches!(&r, Err(Error::Unsupported { what, .. }) if what.contains("expandable")),
        "{:?}",
        r.err()
    );
}
