//! Virtual memory: reservations, physical memory, mappings and the growable buffer, on the
//! whole stack. Each test skips (saying so) where the driver lacks the functions.

mod common;

use std::time::Duration;

use common::TestDriver;
use level_zero::virtual_memory::{
    GrowableBuffer, PageAccess, PhysicalMemory, VirtualRange, page_size,
};
use level_zero::{
    CommandList, CommandQueue, Context, Device, Error, EventPool, EventPoolFlags,
    ImmediateCommandList,
};

const VM: &[&str] = &[
    "zeVirtualMemReserve",
    "zeVirtualMemFree",
    "zeVirtualMemQueryPageSize",
    "zePhysicalMemCreate",
    "zePhysicalMemDestroy",
    "zeVirtualMemMap",
    "zeVirtualMemUnmap",
];

/// The driver, a context and a device, or `None` (skipped, with a message) when the backend
/// lacks virtual memory.
fn setup() -> Option<(TestDriver, Context, Device)> {
    let t = TestDriver::new();
    if !common::reaches(&t, VM) {
        return None;
    }
    let ctx = t.context();
    let dev = t.device();
    match page_size(&ctx, &dev, 1) {
        Ok(_) => {}
        Err(e) if e.code().is_some() => {
            eprintln!("SKIPPED: the driver has no virtual memory: {e}");
            return None;
        }
        Err(e) => panic!("{e}"),
    }
    Some((t, ctx, dev))
}

fn read<T: bytemuck::Pod + Default + Clone>(
    ctx: &Context,
    dev: &Device,
    m: &impl level_zero::Memory<T>,
) -> Vec<T> {
    let mut out = vec![T::default(); m.len()];
    ImmediateCommandList::compute(ctx, dev)
        .unwrap()
        .copy_to_slice(&mut out, m)
        .unwrap();
    out
}

/// An event the host signals after `delay`, from a thread (joined by the returned handle).
fn gate_after(ctx: &Context, delay: Duration) -> (level_zero::Event, std::thread::JoinHandle<()>) {
    let pool = EventPool::new(ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let g = gate.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(delay);
        g.host_signal().unwrap();
    });
    (gate, h)
}

#[test]
fn data_survives_growth_in_place() {
    let Some((t, ctx, dev)) = setup() else { return };
    let mut buf = GrowableBuffer::<u32>::new(&ctx, &dev, 4 << 20).unwrap();
    assert_eq!((buf.len(), buf.capacity()), (0, 0));
    buf.grow_to(1000).unwrap();
    let first: Vec<u32> = (0..1000).collect();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.copy_from_slice(&buf, &first).unwrap();
    let address = buf.as_raw();
    let capacity = buf.capacity();
    assert!(capacity >= 1000);

    // Past the mapped pages: more physical memory behind the first, nothing copied.
    let big = capacity * 3 + 17;
    buf.grow_to(big).unwrap();
    assert_eq!(buf.as_raw(), address, "the buffer moved");
    assert_eq!(buf.len(), big);
    assert!(buf.capacity() >= big);
    list.fill(&buf.slice(1000..), 5u32).unwrap();
    let all = read(&ctx, &dev, &buf);
    assert_eq!(all[..1000], first[..], "growth lost the old data");
    assert!(all[1000..].iter().all(|&x| x == 5));

    // Shrinking keeps the pages: growing again is in place and keeps what was there.
    buf.truncate(10).unwrap();
    assert_eq!(buf.len(), 10);
    buf.grow_to(2000).unwrap();
    assert_eq!(read(&ctx, &dev, &buf.slice(..1000)), first);

    // Beyond the reservation: refused, naming the limit.
    let e = buf.grow_to((4 << 20) + 1).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument { call, reason } if *call == "GrowableBuffer::grow_to" && reason.contains("4194304")),
        "{e}"
    );
    buf.grow_to(4 << 20).unwrap();
    assert_eq!(buf.as_raw(), address);
    drop((list, buf));
    assert!(
        level_zero::cpu::sanitizer_report(&t.driver)
            .unwrap()
            .is_clean()
    );
}

#[test]
fn commands_recorded_before_a_growth_are_ordered_with_commands_after_it() {
    let Some((t, ctx, dev)) = setup() else { return };
    const N: usize = 1 << 16;
    let mut buf = GrowableBuffer::<u32>::new(&ctx, &dev, 64 << 20).unwrap();
    buf.grow_to(N).unwrap();
    let mut imm = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    imm.fill(&buf, 0u32).unwrap();
    imm.synchronize().unwrap();

    // A regular list recorded over the first extent, held back by a gate.
    let (gate, signaller) = gate_after(&ctx, Duration::from_millis(300));
    let mut rec = CommandList::compute(&ctx, &dev).unwrap();
    rec.wait_events(&[&gate]).unwrap();
    rec.fill(&buf, 7u32).unwrap();
    rec.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&rec]).unwrap();

    // Growth: a new extent (a new allocation) over the same memory, past many more pages.
    buf.grow_to(16 << 20).unwrap();

    // A read through the new extent must wait for the gated fill through the old one.
    let head = read(&ctx, &dev, &buf.slice(..N));
    assert!(
        head.iter().all(|&x| x == 7),
        "the read through the grown buffer overtook the fill recorded before the growth \
         (first value {})",
        head[0]
    );
    signaller.join().unwrap();

    // The list recorded before the growth runs again, after a write through the new extent:
    // program order holds (write after write across the queue and the immediate list).
    imm.fill(&buf, 9u32).unwrap();
    queue.execute(&[&rec]).unwrap();
    imm.fill(&buf.slice(..N / 2), 3u32).unwrap();
    let head = read(&ctx, &dev, &buf.slice(..N));
    assert!(head[..N / 2].iter().all(|&x| x == 3), "{}", head[0]);
    assert!(head[N / 2..].iter().all(|&x| x == 7), "{}", head[N / 2]);
    assert!(
        read(&ctx, &dev, &buf.slice(N..N + 64))
            .iter()
            .all(|&x| x == 9)
    );
    queue.synchronize().unwrap();
    drop((rec, queue, imm, buf, gate));
    assert!(
        level_zero::cpu::sanitizer_report(&t.driver)
            .unwrap()
            .is_clean()
    );
}

#[test]
fn pages_are_unmapped_only_after_the_device_is_done_with_them() {
    let Some((t, ctx, dev)) = setup() else { return };
    let mut buf = GrowableBuffer::<u8>::new(&ctx, &dev, 8 << 20).unwrap();
    buf.grow_to(1 << 20).unwrap();
    let range = buf.range().clone();
    let (gate, signaller) = gate_after(&ctx, Duration::from_millis(200));
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.wait_events(&[&gate]).unwrap();
    list.fill(&buf, 1u8).unwrap();
    drop(buf);
    // The fill has not run: its extent keeps the pages mapped.
    assert!(
        range.has_mappings(),
        "the pages were unmapped under a pending fill"
    );
    signaller.join().unwrap();
    list.synchronize().unwrap();
    assert!(
        !range.has_mappings(),
        "the pages stayed mapped after the list saw the fill complete"
    );
    assert!(
        level_zero::cpu::sanitizer_report(&t.driver)
            .unwrap()
            .is_clean()
    );
    drop((list, gate, range));
}

#[test]
fn a_reservation_and_physical_memory_dropped_while_mapped_live_until_unmapped() {
    let Some((t, ctx, dev)) = setup() else { return };
    let page = page_size(&ctx, &dev, 1 << 20).unwrap();
    let bytes = (1usize << 20).div_ceil(page) * page;
    let range = VirtualRange::reserve(&ctx, &dev, bytes * 2).unwrap();
    let phys = PhysicalMemory::new(&ctx, &dev, bytes).unwrap();
    match phys.properties() {
        Ok(p) => assert_eq!(p.size, bytes as u64),
        // Loader 1.8.12 lacks it (spec 1.15): the error names the function.
        Err(Error::MissingFunction(m)) => assert_eq!(m.name, "zePhysicalMemGetProperties"),
        Err(e) => panic!("{e}"),
    }
    let mapping = range
        .map(bytes, &phys, 0, bytes, PageAccess::ReadWrite)
        .unwrap();
    assert!(phys.is_mapped() && range.has_mappings());
    let probe = range.clone();
    let live = t.live();
    drop((range, phys));
    assert_eq!(
        t.live(),
        live,
        "the driver freed a mapped range or physical memory"
    );
    // Both live on for the mapping.
    let buf = mapping.buffer::<u64>().unwrap();
    assert_eq!(buf.len(), bytes / 8);
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.fill(&buf, 0xfeed_u64).unwrap();
    drop(mapping);
    assert!(read(&ctx, &dev, &buf).iter().all(|&x| x == 0xfeed));
    assert!(probe.has_mappings());
    drop(buf);
    list.synchronize().unwrap();
    assert!(!probe.has_mappings());
    let now = t.live();
    assert_eq!(
        (now.virtual_mappings, now.physical_memory),
        (live.virtual_mappings - 1, live.physical_memory - 1)
    );
    assert_eq!(now.virtual_reservations, live.virtual_reservations);
    drop((list, probe));
    assert_eq!(t.live().virtual_reservations, live.virtual_reservations - 1);
    assert!(
        level_zero::cpu::sanitizer_report(&t.driver)
            .unwrap()
            .is_clean()
    );
    // `t` checks at its drop that the reservation and the physical memory are gone.
}

#[test]
fn misuse_is_refused_before_any_call() {
    let Some((t, ctx, dev)) = setup() else { return };
    let page = page_size(&ctx, &dev, 1).unwrap();
    let refused = |r: level_zero::Result<_>, call: &str, words: &str| match r {
        Err(Error::InvalidArgument { call: c, reason }) => {
            assert_eq!(c, call, "{reason}");
            assert!(reason.contains(words), "{call}: {reason}");
        }
        Err(e) => panic!("{call}: {e}"),
        Ok(_) => panic!("{call}: accepted"),
    };
    if page > 1 {
        refused(
            VirtualRange::reserve(&ctx, &dev, page + 1).map(drop),
            "zeVirtualMemReserve",
            "page size",
        );
        refused(
            PhysicalMemory::new(&ctx, &dev, page - 1).map(drop),
            "zePhysicalMemCreate",
            "page size",
        );
    }
    refused(
        VirtualRange::reserve(&ctx, &dev, 0).map(drop),
        "zeVirtualMemReserve",
        "0",
    );
    let psize = page_size(&ctx, &dev, 4 * page).unwrap();
    let range = VirtualRange::reserve(&ctx, &dev, 4 * psize).unwrap();
    let phys = PhysicalMemory::new(&ctx, &dev, 2 * psize).unwrap();
    let p = phys.page_size();
    if p > 1 {
        refused(
            range.map(1, &phys, 0, p, PageAccess::ReadWrite).map(drop),
            "zeVirtualMemMap",
            "page size",
        );
    }
    refused(
        range
            .map(3 * psize, &phys, 0, 2 * psize, PageAccess::ReadWrite)
            .map(drop),
        "zeVirtualMemMap",
        "exceed the range",
    );
    refused(
        range
            .map(0, &phys, psize, 2 * psize, PageAccess::ReadWrite)
            .map(drop),
        "zeVirtualMemMap",
        "exceed the physical memory",
    );
    let m = range
        .map(0, &phys, 0, psize, PageAccess::ReadWrite)
        .unwrap();
    // The same pages of the range again, or the same physical pages elsewhere (an alias).
    refused(
        range
            .map(0, &phys, psize, psize, PageAccess::ReadWrite)
            .map(drop),
        "zeVirtualMemMap",
        "mapped already",
    );
    refused(
        range
            .map(2 * psize, &phys, 0, psize, PageAccess::ReadWrite)
            .map(drop),
        "zeVirtualMemMap",
        "mapped already",
    );
    // Another context's physical memory.
    let other = t.context();
    let foreign = PhysicalMemory::new(&other, &dev, psize).unwrap();
    refused(
        range
            .map(psize, &foreign, 0, psize, PageAccess::ReadWrite)
            .map(drop),
        "zeVirtualMemMap",
        "another context",
    );
    // A buffer of a size that is not whole elements.
    refused(
        m.buffer::<[u8; 3]>().map(drop),
        "Mapping::buffer",
        "whole number",
    );
    // A read-only mapping gives no buffer.
    let ro = range
        .map(psize, &phys, psize, psize, PageAccess::ReadOnly)
        .unwrap();
    refused(ro.buffer::<u32>().map(drop), "Mapping::buffer", "ReadOnly");
    drop((m, ro, range, phys, foreign, other, ctx));
    // GrowableBuffer of a zero-sized type, or of nothing.
    let ctx = t.context();
    refused(
        GrowableBuffer::<()>::new(&ctx, &dev, 10).map(drop),
        "GrowableBuffer::new",
        "zero-sized",
    );
    refused(
        GrowableBuffer::<u32>::new(&ctx, &dev, 0).map(drop),
        "GrowableBuffer::new",
        "0 bytes",
    );
}

#[test]
fn access_attributes_change_only_while_nothing_uses_the_pages() {
    let Some((_t, ctx, dev)) = setup() else {
        return;
    };
    if !common::reaches(
        &_t,
        &[
            "zeVirtualMemSetAccessAttribute",
            "zeVirtualMemGetAccessAttribute",
        ],
    ) {
        return;
    }
    let p = page_size(&ctx, &dev, 1).unwrap();
    let range =
        VirtualRange::reserve(&ctx, &dev, page_size(&ctx, &dev, 2 * p).unwrap() * 2).unwrap();
    let phys = PhysicalMemory::new(&ctx, &dev, p).unwrap();
    let mut m = range.map(0, &phys, 0, p, PageAccess::ReadWrite).unwrap();
    assert_eq!(m.query_access().unwrap().0, PageAccess::ReadWrite);
    let buf = m.buffer::<u8>().unwrap();
    assert!(matches!(
        m.set_access(PageAccess::ReadOnly),
        Err(Error::Busy { .. })
    ));
    drop(buf);
    m.set_access(PageAccess::ReadOnly).unwrap();
    assert_eq!(m.access(), PageAccess::ReadOnly);
    assert_eq!(m.query_access().unwrap().0, PageAccess::ReadOnly);
    m.set_access(PageAccess::ReadWrite).unwrap();
    let buf = m.buffer::<u8>().unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.fill(&buf, 4u8).unwrap();
    assert!(read(&ctx, &dev, &buf).iter().all(|&x| x == 4));
}
