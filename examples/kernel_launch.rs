//! Loads a SPIR-V module, launches `vector_add` and `saxpy` on every device, verifies the
//! results against Rust, and prints the timing.
//!
//! ```sh
//! cargo run --release --example kernel_launch              # 2^22 elements
//! cargo run --release --example kernel_launch -- 16777216  # 2^24 elements
//! ```
//!
//! The modules are `kernels/vector_add.cl` and `kernels/saxpy.cl`, compiled at build time by
//! the package's `build.rs` (`level-zero-build`: clang + llvm-spirv when installed, else the
//! committed `kernels/spv/*.O2.spv`, with a cargo warning), embedded with
//! `level_zero::include_spirv!`.

use std::time::Instant;

use level_zero::{
    BuildOptions, Context, DeviceBuffer, Error, EventPool, EventPoolFlags, ImmediateCommandList,
    LaunchConfig, Module, Runtime,
};

const VECTOR_ADD: &[u8] = level_zero::include_spirv!("vector_add");
const SAXPY: &[u8] = level_zero::include_spirv!("saxpy");

fn main() -> Result<(), Error> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1 << 22);
    let rt = Runtime::init()?;
    println!("backend: {}, {n} elements", rt.backend());
    let a: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| (i % 777) as f32 - 100.0).collect();

    for driver in rt.drivers() {
        let ctx = Context::new(&driver)?;
        for device in driver.devices()? {
            let add = Module::from_spirv(&ctx, &device, VECTOR_ADD, &BuildOptions::new())?;
            let axpy = Module::from_spirv(&ctx, &device, SAXPY, &BuildOptions::new())?;
            let mut list = ImmediateCommandList::compute(&ctx, &device)?;
            let da = DeviceBuffer::<f32>::new(&ctx, &device, n)?;
            let db = DeviceBuffer::<f32>::new(&ctx, &device, n)?;
            let dc = DeviceBuffer::<f32>::new(&ctx, &device, n)?;
            list.copy_from_slice(&da, &a)?;
            list.copy_from_slice(&db, &b)?;

            let mut k = add.kernel("vector_add")?;
            // Kernel timestamps for the launch.
            let pool = EventPool::new(
                &ctx,
                1,
                EventPoolFlags::HOST_VISIBLE | EventPoolFlags::KERNEL_TIMESTAMP,
            )?;
            let done = pool.event(0)?;
            // vector_add has no bound check: the grid must be exactly n work-items.
            let cfg = LaunchConfig::for_num_elems(n)?;
            let (_, group) = cfg.resolve(&mut k)?; // the launch reuses the suggestion
            assert_eq!(
                n % group[0] as usize,
                0,
                "{n} is not a multiple of the group size"
            );
            let t = Instant::now();
            // SAFETY: vector_add touches a[i], b[i], c[i] for its global id i < n (checked
            // above), and every buffer holds n elements.
            unsafe {
                list.launch_builder(&mut k, cfg)
                    .arg(&da)
                    .arg(&db)
                    .arg(&dc)
                    .signal(&done)
                    .run()?
            };
            list.synchronize()?;
            let wall = t.elapsed();
            let mut c = vec![0f32; n];
            list.copy_to_slice(&mut c, &dc)?;
            let bad = (0..n).filter(|&i| c[i] != a[i] + b[i]).count();
            assert_eq!(bad, 0, "vector_add: {bad} wrong elements");
            let ts = done.kernel_timestamp()?;
            println!(
                "{}: vector_add verified, {:.2} ms wall, {:.2} GB/s (group {:?}, kernel timestamp {} ticks)",
                device.name()?,
                wall.as_secs_f64() * 1e3,
                (3 * n * 4) as f64 / wall.as_secs_f64() / 1e9,
                group,
                ts.global.1.saturating_sub(ts.global.0)
            );

            // saxpy in place: y = 2.5 * x + y
            let mut k = axpy.kernel("saxpy")?;
            let t = Instant::now();
            // SAFETY: saxpy touches x[i] and y[i] for i < n; both hold n elements, and the
            // grid is that of vector_add: exactly n.
            let cfg = LaunchConfig::grid([n as u32 / group[0], 1, 1], group);
            unsafe {
                list.launch_builder(&mut k, cfg)
                    .arg(&2.5f32)
                    .arg(&da)
                    .arg(&db)
                    .run()?
            };
            list.synchronize()?;
            let wall = t.elapsed();
            let mut y = vec![0f32; n];
            list.copy_to_slice(&mut y, &db)?;
            let bad = (0..n)
                .filter(|&i| (y[i] - 2.5f32.mul_add(a[i], b[i])).abs() > 1e-3)
                .count();
            assert_eq!(bad, 0, "saxpy: {bad} wrong elements");
            println!(
                "{}: saxpy verified, {:.2} ms wall",
                device.name()?,
                wall.as_secs_f64() * 1e3
            );
        }
    }
    Ok(())
}
