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

    // Above maxMemAllocSize: the relaxed-limits extension, or a clear error.
    let limit = device.properties()?.max_mem_alloc_size;
    match DeviceBuffer::<u8>::new(&ctx, &device, limit as usize + 4096) {
        Ok(big) => println!(
            "allocation above maxMemAllocSize ({limit} bytes): {} bytes via relaxed allocation limits",
            big.size_bytes()
        ),
        Err(e) => println!("allocation above maxMemAllocSize: {e}"),
    }
    Ok(())
}
