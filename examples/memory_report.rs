//! The tool our users needed when their hosts ran out of RAM: allocate on every device, then
//! print this process's allocation accounting, each device's memory state from sysman (or why
//! sysman cannot say, and the core fallback), and host `MemAvailable` before and after.
//!
//! ```sh
//! cargo run --release --example memory_report            # 256 MiB per device
//! cargo run --release --example memory_report -- 1024    # 1 GiB per device
//! ```

use level_zero::{
    Context, DeviceBuffer, Error, HostBuffer, ImmediateCommandList, MemorySource, Runtime,
    SharedBuffer,
};

fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

fn main() -> Result<(), Error> {
    let per_device_mib: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let rt = Runtime::init()?;
    println!("backend: {}", rt.backend());
    let host_before = mem_available();

    let mut held = Vec::new();
    for driver in rt.drivers() {
        // One context per device: nothing gets made resident on a peer device.
        for device in driver.devices()? {
            let ctx = Context::with_devices(std::slice::from_ref(&device))?;
            let bytes = (per_device_mib << 20) as usize;
            let dev = DeviceBuffer::<u8>::new(&ctx, &device, bytes)?;
            let shared = SharedBuffer::<u8>::new(&ctx, &device, bytes / 16)?;
            let host = HostBuffer::<u8>::new(&ctx, bytes / 16)?;
            // Touch the device memory, as real work would.
            let mut list = ImmediateCommandList::copy_engine(&ctx, &device)?;
            list.fill(&dev, 1u8)?;
            list.synchronize()?;
            held.push((dev, shared, host));
        }
    }
    let host_after = mem_available();

    println!("\nthis process's allocations (level-zero accounting)");
    let stats = level_zero::memory_stats();
    for (device, s) in &stats.devices {
        println!(
            "  {:<36} device {:>9.1} MiB in {} (peak {:.1}), shared {:>8.1} MiB in {}",
            device.name()?,
            mib(s.device.bytes),
            s.device.count,
            mib(s.device.peak_bytes),
            mib(s.shared.bytes),
            s.shared.count
        );
    }
    for (_, h) in &stats.host {
        println!(
            "  {:<36} host   {:>9.1} MiB in {}",
            "host memory",
            mib(h.bytes),
            h.count
        );
    }

    println!("\ndevice memory");
    for device in rt.devices()? {
        match device.memory_state() {
            Ok(state) => {
                for m in &state.modules {
                    println!(
                        "  {:<36} sysman: {:?} {} {:.1} of {:.1} MiB free, health {}",
                        device.name()?,
                        m.location,
                        m.kind,
                        mib(m.free),
                        mib(m.size),
                        m.health
                    );
                }
            }
            Err(e) => {
                println!("  {:<36} {e}", device.name()?);
                let u = device.memory_usage()?;
                if let MemorySource::CoreFallback(_) = u.source {
                    println!(
                        "  {:<36} core fallback: {:.1} MiB total, {:.1} MiB not allocated by this process",
                        "",
                        mib(u.total),
                        mib(u.free)
                    );
                }
            }
        }
    }

    println!("\nhost memory");
    match (host_before, host_after) {
        (Some(b), Some(a)) => println!(
            "  MemAvailable before {:.0} MiB, after {:.0} MiB: dropped {:.0} MiB for {:.0} MiB of device memory",
            mib(b),
            mib(a),
            mib(b.saturating_sub(a)),
            mib(stats.devices.iter().map(|(_, s)| s.bytes()).sum())
        ),
        _ => println!("  /proc/meminfo is not available on this system"),
    }
    drop(held);
    Ok(())
}
