//! Device 0 to device 1: a direct peer-to-peer copy when the devices can access each other,
//! staged through host memory otherwise; verified, with the path taken.
//!
//! ```sh
//! cargo run --release --example peer_copy
//! ```

use std::time::Instant;

use level_zero::{
    Context, DeviceBuffer, Error, ImmediateCommandList, PeerPolicy, Runtime, copy_peer,
    copy_peer_with,
};

fn main() -> Result<(), Error> {
    let rt = Runtime::init()?;
    let driver = rt
        .drivers()
        .into_iter()
        .next()
        .ok_or_else(|| Error::NoBackend("no driver".into()))?;
    let devices = driver.devices()?;
    if devices.len() < 2 {
        println!(
            "{} has {} device(s); a peer copy needs two",
            rt.backend(),
            devices.len()
        );
        return Ok(());
    }
    let (d0, d1) = (&devices[0], &devices[1]);
    println!("{} -> {} on {}", d0.name()?, d1.name()?, rt.backend());
    println!(
        "can_access_peer: {} ({:?})",
        d0.can_access_peer(d1)?,
        d0.p2p_properties(d1)?
    );

    const N: usize = 16 << 20; // 64 MiB of u32
    let data: Vec<u32> = (0..N as u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();

    // One context for both devices: direct copies are possible. Nothing is made resident
    // on the peer device: only the copy moves data.
    let ctx = Context::new(&driver)?;
    let src = DeviceBuffer::<u32>::new(&ctx, d0, N)?;
    let dst = DeviceBuffer::<u32>::new(&ctx, d1, N)?;
    ImmediateCommandList::copy_engine(&ctx, d0)?.copy_from_slice(&src, &data)?;

    for policy in [PeerPolicy::Auto, PeerPolicy::StagedOnly] {
        let t = Instant::now();
        let path = copy_peer_with(&dst, &src, policy)?;
        let secs = t.elapsed().as_secs_f64();
        verify(&ctx, d1, &dst, &data)?;
        println!(
            "{policy:?}: {path}, {:.1} GiB/s, verified",
            (N * 4) as f64 / secs / (1u64 << 30) as f64
        );
    }

    // One context per device (what avoids mirroring device memory in host memory on
    // multi-GPU systems): the copy is staged.
    let c0 = Context::with_devices(std::slice::from_ref(d0))?;
    let c1 = Context::with_devices(std::slice::from_ref(d1))?;
    let src = DeviceBuffer::<u32>::new(&c0, d0, N)?;
    let dst = DeviceBuffer::<u32>::new(&c1, d1, N)?;
    ImmediateCommandList::copy_engine(&c0, d0)?.copy_from_slice(&src, &data)?;
    let path = copy_peer(&dst, &src)?;
    verify(&c1, d1, &dst, &data)?;
    println!("separate contexts: {path}, verified");
    Ok(())
}

fn verify(
    ctx: &Context,
    device: &level_zero::Device,
    buf: &DeviceBuffer<u32>,
    expect: &[u32],
) -> Result<(), Error> {
    let mut back = vec![0u32; expect.len()];
    ImmediateCommandList::copy_engine(ctx, device)?.copy_to_slice(&mut back, buf)?;
    assert!(back == expect, "peer copy corrupted the data");
    Ok(())
}
