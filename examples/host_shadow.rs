//! The measurement from our users' bug reports: allocate device memory in steps and print how
//! much host `MemAvailable` drops per GiB of device memory.
//!
//! ```sh
//! cargo run --release --example host_shadow            # 4 steps of 256 MiB on device 0
//! cargo run --release --example host_shadow -- 8 512   # 8 steps of 512 MiB
//! ```
//!
//! On Intel Arc B-series GPUs with the xe kernel driver, device memory was once mirrored in
//! host RAM (about 1 GiB of host per GiB of device memory); the later-found trigger was
//! making every allocation resident on the peer device of a multi-device context. A healthy
//! stack drops host memory by a few MiB per GiB. (The CPU driver's device memory *is* host
//! memory, so on it every touched GiB costs a GiB: the example touches the memory, so you
//! see exactly that, as the baseline of a shadowing stack.)

use level_zero::{Context, DeviceBuffer, Error, ImmediateCommandList, Runtime};

fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() -> Result<(), Error> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let steps = args.first().copied().unwrap_or(4);
    let step_mib = args.get(1).copied().unwrap_or(256);
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
    let ctx = Context::with_devices(std::slice::from_ref(&device))?;
    let mut list = ImmediateCommandList::copy_engine(&ctx, &device)?;
    println!(
        "{} on {}: {steps} steps of {step_mib} MiB",
        device.name()?,
        rt.backend()
    );
    let Some(start) = mem_available() else {
        println!("no /proc/meminfo: cannot measure host memory on this system");
        return Ok(());
    };
    let mut held = Vec::new();
    let mut prev = start;
    for step in 1..=steps {
        let buf = DeviceBuffer::<u8>::new(&ctx, &device, (step_mib << 20) as usize)?;
        // Touch the memory from the device, as real work would.
        list.fill(&buf, 0x5Au8)?;
        list.synchronize()?;
        held.push(buf);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = mem_available().unwrap_or(prev);
        let total_gib = (step * step_mib) as f64 / 1024.0;
        let dropped = start.saturating_sub(now) as f64 / (1u64 << 20) as f64;
        println!(
            "step {step}: device {total_gib:.2} GiB, host MemAvailable dropped {dropped:.0} MiB ({:.0} MiB per device GiB)",
            dropped / total_gib
        );
        prev = now;
    }
    Ok(())
}
