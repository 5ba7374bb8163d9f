//! Device, host and shared allocations, and a round trip through each.
//!
//! ```sh
//! cargo run --release --example allocation
//! ```
//!
//! Device memory comes straight from `zeMemAllocDevice`: no host shadow, the way PyTorch's
//! XPU allocator and llama.cpp's SYCL backend now allocate.

use level_zero::{
    Context, DeviceBuffer, Error, HostBuffer, ImmediateCommandList, Memory, Runtime, SharedBuffer,
};

fn main() -> Result<(), Error> {
    let rt = Runtime::init()?;
    let driver = rt
        .drivers()
        .into_iter()
        .next()
        .ok_or_else(|| Error::NoBackend("no driver".into()))?;
    let device = driver
        .devices()?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NoBackend("no device".into()))?;
    println!("{} on {}", device.name()?, rt.backend());
    let ctx = Context::new(&driver)?;
    let mut list = ImmediateCommandList::copy_engine(&ctx, &device)?;

    const N: usize = 1 << 20;
    let data: Vec<f32> = (0..N).map(|i| i as f32 * 0.5).collect();

    // Device memory: host slice -> device -> host slice.
    let dev = DeviceBuffer::<f32>::new(&ctx, &device, N)?;
    list.copy_from_slice(&dev, &data)?;
    let mut back = vec![0.0f32; N];
    list.copy_to_slice(&mut back, &dev)?;
    assert_eq!(back, data);
    println!("device buffer: {} bytes, round trip ok", dev.size_bytes());

    // Host memory (pinned): the device reads it directly; asynchronous copies need no
    // borrowed host slice.
    let host = HostBuffer::from_slice(&ctx, &data)?;
    let dev2 = DeviceBuffer::<f32>::new(&ctx, &device, N)?;
    list.copy(&dev2, &host)?;
    let mut host_back = HostBuffer::<f32>::new(&ctx, N)?;
    list.copy(&host_back, &dev2)?;
    // Until the list is synchronised, the host may not look at what the device writes:
    match host_back.as_slice() {
        Err(e @ Error::Busy { .. }) => println!("before synchronize: {e}"),
        Err(e) => return Err(e),
        Ok(_) => println!("before synchronize: the copy already completed"),
    }
    list.synchronize()?;
    assert_eq!(&*host_back.as_mut_slice()?, &data[..]);
    println!("host buffer: device -> pinned host memory ok");

    // Shared memory: host writes, device fills part of it, host reads.
    let mut shared = SharedBuffer::<u32>::new(&ctx, &device, 1024)?;
    shared.as_mut_slice()?.fill(7);
    list.fill(&shared.slice(512..), 0xABCD_u32)?;
    list.synchronize()?;
    let s = shared.as_slice()?;
    assert!(s[..512].iter().all(|&x| x == 7) && s[512..].iter().all(|&x| x == 0xABCD));
    println!("shared buffer: host writes + device fill ok");

    // Zero-length buffers allocate nothing and copy nothing.
    let empty = DeviceBuffer::<u8>::new(&ctx, &device, 0)?;
    list.copy_from_slice(&empty, &[])?;
    println!(
        "empty buffer: {} elements, null pointer: {}",
        empty.len(),
        empty.device_ptr().is_null()
    );

    // Above maxMemAllocSize (the 4 GiB class of limit on Intel GPUs): the relaxed-limits
    // extension when the driver has it, else a clear error naming the limit. Shown on a CPU
    // driver instance configured with a 64 MiB limit, with and without the extension.
    let mut config = level_zero::cpu::Config::default();
    config.max_alloc = Some(64 << 20);
    let small = level_zero::cpu::driver(config.clone())?;
    let sdev = &small.devices()?[0];
    let sctx = Context::new(&small)?;
    let limit = sdev.properties()?.max_mem_alloc_size;
    let big = DeviceBuffer::<u8>::new(&sctx, sdev, 3 * limit as usize)?;
    let mut slist = ImmediateCommandList::copy_engine(&sctx, sdev)?;
    slist.fill(&big.slice(big.len() - 16..), 0xEEu8)?;
    let mut tail = [0u8; 16];
    slist.copy_to_slice(&mut tail, &big.slice(big.len() - 16..))?;
    assert_eq!(tail, [0xEE; 16]);
    println!(
        "above maxMemAllocSize ({} MiB): {} MiB through ZE_experimental_relaxed_allocation_limits; kernels indexing it need BuildOptions::greater_than_4gb_buffers()",
        limit >> 20,
        big.size_bytes() >> 20
    );
    config.hidden_extensions = vec!["ZE_experimental_relaxed_allocation_limits".into()];
    let strict = level_zero::cpu::driver(config)?;
    let strict_dev = &strict.devices()?[0];
    match DeviceBuffer::<u8>::new(&Context::new(&strict)?, strict_dev, 3 * limit as usize) {
        Err(e) => println!("without the extension: {e}"),
        Ok(_) => unreachable!("the driver has no relaxed limits"),
    }
    Ok(())
}
