//! Copies between devices: direct when peers can access each other, staged otherwise.

mod common;

use common::TestDriver;
use level_zero::{
    Context, DeviceBuffer, ImmediateCommandList, PeerPath, PeerPolicy, copy_peer, copy_peer_with,
};

fn filled(ctx: &Context, dev: &level_zero::Device, data: &[u32]) -> DeviceBuffer<u32> {
    let b = DeviceBuffer::new(ctx, dev, data.len()).unwrap();
    ImmediateCommandList::copy_engine(ctx, dev)
        .unwrap()
        .copy_from_slice(&b, data)
        .unwrap();
    b
}

fn read(ctx: &Context, b: &DeviceBuffer<u32>) -> Vec<u32> {
    let mut v = vec![0; b.len()];
    ImmediateCommandList::copy_engine(ctx, b.device())
        .unwrap()
        .copy_to_slice(&mut v, b)
        .unwrap();
    v
}

fn data(n: usize) -> Vec<u32> {
    (0..n as u32).map(|i| i ^ 0x5a5a_5a5a).collect()
}

#[test]
fn peers_in_one_context_copy_directly() {
    let t = TestDriver::new();
    let (ctx, devs) = (t.context(), t.devices());
    // Under Miri, which checks every byte copied, fewer elements.
    let src_data = data(if cfg!(miri) { 10_000 } else { 100_000 });
    let src = filled(&ctx, &devs[0], &src_data);
    let dst = DeviceBuffer::<u32>::new(&ctx, &devs[1], src_data.len()).unwrap();
    assert_eq!(copy_peer(&dst, &src).unwrap(), PeerPath::Direct);
    assert_eq!(read(&ctx, &dst), src_data);
    // And back, through a list of the source device.
    let back = DeviceBuffer::<u32>::new(&ctx, &devs[0], src_data.len()).unwrap();
    let mut l = ImmediateCommandList::copy_engine(&ctx, &devs[1]).unwrap();
    l.copy(&back, &dst).unwrap();
    l.synchronize().unwrap();
    assert_eq!(read(&ctx, &back), src_data);
}

#[test]
fn without_peer_access_the_copy_is_staged() {
    let Some(t) = TestDriver::with(|c| c.p2p = false) else {
        return;
    };
    let (ctx, devs) = (t.context(), t.devices());
    assert!(!devs[0].can_access_peer(&devs[1]).unwrap());
    let src_data = data(4096);
    let src = filled(&ctx, &devs[0], &src_data);
    let dst = DeviceBuffer::<u32>::new(&ctx, &devs[1], src_data.len()).unwrap();
    assert_eq!(copy_peer(&dst, &src).unwrap(), PeerPath::Staged);
    assert_eq!(read(&ctx, &dst), src_data);
}

#[test]
fn separate_contexts_and_the_staged_policy_stage() {
    let t = TestDriver::new();
    let devs = t.devices();
    let c0 = Context::with_devices(&devs[..1]).unwrap();
    let c1 = Context::with_devices(&devs[1..]).unwrap();
    let src_data = data(3000);
    let src = filled(&c0, &devs[0], &src_data);
    let dst = DeviceBuffer::<u32>::new(&c1, &devs[1], src_data.len()).unwrap();
    assert_eq!(copy_peer(&dst, &src).unwrap(), PeerPath::Staged);
    assert_eq!(read(&c1, &dst), src_data);

    let ctx = t.context();
    let a = filled(&ctx, &devs[0], &src_data);
    let b = DeviceBuffer::<u32>::new(&ctx, &devs[1], src_data.len()).unwrap();
    assert_eq!(
        copy_peer_with(&b, &a, PeerPolicy::StagedOnly).unwrap(),
        PeerPath::Staged
    );
    assert_eq!(read(&ctx, &b), src_data);
}

#[test]
fn peer_copies_check_lengths_and_handle_empty_buffers() {
    let t = TestDriver::new();
    let (ctx, devs) = (t.context(), t.devices());
    let a = DeviceBuffer::<u32>::new(&ctx, &devs[0], 10).unwrap();
    let b = DeviceBuffer::<u32>::new(&ctx, &devs[1], 11).unwrap();
    let err = copy_peer(&b, &a).unwrap_err();
    assert!(err.to_string().contains("length mismatch"), "{err}");
    let e0 = DeviceBuffer::<u32>::new(&ctx, &devs[0], 0).unwrap();
    let e1 = DeviceBuffer::<u32>::new(&ctx, &devs[1], 0).unwrap();
    copy_peer(&e1, &e0).unwrap();
}
