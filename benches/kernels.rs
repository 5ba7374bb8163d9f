//! Group 3: the CPU driver's kernels against the same OpenCL C kernels on pocl, run from this
//! process: vector add on 2^24 floats, 1024×1024 matrix multiply (naive and local-memory
//! tiled), and launch latency (an empty kernel, launch + synchronize, against pocl's enqueue
//! + finish). The table gives throughput ratios CPU driver / pocl (1.0: as fast as pocl).
//!
//! `cargo bench --bench kernels` (pocl: `apt-get install pocl-opencl-icd`; without it, the
//! CPU driver is measured alone).

mod common;

#[path = "common/opencl.rs"]
mod opencl;

use std::time::Duration;

use level_zero::{BuildOptions, Context, DeviceBuffer, ImmediateCommandList, Kernel, Module};

const N_ADD: usize = 1 << 24;
const N_MM: usize = 1024;

fn spv(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/kernels/spv/{name}.O2.spv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("committed SPIR-V")
}

fn source(name: &str) -> String {
    std::fs::read_to_string(format!("{}/kernels/{name}.cl", env!("CARGO_MANIFEST_DIR")))
        .expect("kernel source")
}

fn matmul_ref_row(a: &[f32], b: &[f32], n: usize, row: usize) -> Vec<f32> {
    (0..n)
        .map(|col| (0..n).map(|k| a[row * n + k] * b[k * n + col]).sum())
        .collect()
}

struct Ours {
    list: ImmediateCommandList,
    add: Kernel,
    naive: Kernel,
    tiled: Kernel,
    empty: Kernel,
    _bufs: Vec<DeviceBuffer<f32>>,
}

impl Ours {
    fn launch(&mut self, which: &str) {
        let (k, groups) = match which {
            "vector_add" => (&self.add, [(N_ADD / 256) as u32, 1, 1]),
            "matmul_naive" => (&self.naive, [(N_MM / 16) as u32, (N_MM / 16) as u32, 1]),
            "matmul_tiled" => (&self.tiled, [(N_MM / 16) as u32, (N_MM / 16) as u32, 1]),
            "empty" => (&self.empty, [1, 1, 1]),
            _ => unreachable!(),
        };
        // SAFETY: the grids cover exactly the buffers' elements (vector_add: N_ADD items over
        // N_ADD-element buffers; matmul: N_MM x N_MM over N_MM² elements); empty touches
        // nothing.
        unsafe { self.list.launch(k, groups).unwrap() };
        self.list.synchronize().unwrap();
    }
}

fn setup_ours(a: &[f32], b: &[f32], ma: &[f32], mb: &[f32]) -> (Ours, Vec<f32>, Vec<f32>) {
    let driver = level_zero::cpu::driver(level_zero::cpu::Config::default()).unwrap();
    let dev = driver.devices().unwrap().remove(0);
    let ctx = Context::new(&driver).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let buf = |list: &mut ImmediateCommandList, data: &[f32]| {
        let b = DeviceBuffer::<f32>::new(&ctx, &dev, data.len()).unwrap();
        list.copy_from_slice(&b, data).unwrap();
        b
    };
    let (da, db, dc) = (
        buf(&mut list, a),
        buf(&mut list, b),
        buf(&mut list, &vec![0.0; N_ADD]),
    );
    let (dma, dmb, dmc) = (
        buf(&mut list, ma),
        buf(&mut list, mb),
        buf(&mut list, &vec![0.0; N_MM * N_MM]),
    );
    let module =
        |name: &str| Module::from_spirv(&ctx, &dev, &spv(name), &BuildOptions::new()).unwrap();
    let (madd, mmm, mempty) = (module("vector_add"), module("matmul"), module("empty"));
    let mut add = madd.kernel("vector_add").unwrap();
    add.set_group_size([256, 1, 1]).unwrap();
    add.set_arg_buffer(0, &da).unwrap();
    add.set_arg_buffer(1, &db).unwrap();
    add.set_arg_buffer(2, &dc).unwrap();
    let mm = |name: &str| {
        let mut k = mmm.kernel(name).unwrap();
        k.set_group_size([16, 16, 1]).unwrap();
        k.set_arg_buffer(0, &dma).unwrap();
        k.set_arg_buffer(1, &dmb).unwrap();
        k.set_arg_buffer(2, &dmc).unwrap();
        k.set_arg(3, &(N_MM as u32)).unwrap();
        k
    };
    let (naive, tiled) = (mm("matmul_naive"), mm("matmul_tiled"));
    let mut empty = mempty.kernel("empty").unwrap();
    empty.set_group_size([1, 1, 1]).unwrap();
    let mut ours = Ours {
        list,
        add,
        naive,
        tiled,
        empty,
        _bufs: Vec::new(),
    };
    // One run of each, checked.
    ours.launch("vector_add");
    let mut c = vec![0f32; N_ADD];
    ours.list.copy_to_slice(&mut c, &dc).unwrap();
    ours.launch("matmul_tiled");
    let mut mc = vec![0f32; N_MM * N_MM];
    ours.list.copy_to_slice(&mut mc, &dmc).unwrap();
    ours._bufs = vec![da, db, dc, dma, dmb, dmc];
    (ours, c, mc)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    let a: Vec<f32> = (0..N_ADD).map(|i| (i % 1000) as f32).collect();
    let b: Vec<f32> = (0..N_ADD).map(|i| (i % 7) as f32 * 0.5).collect();
    let ma: Vec<f32> = (0..N_MM * N_MM)
        .map(|i| ((i * 7) % 13) as f32 * 0.25)
        .collect();
    let mb: Vec<f32> = (0..N_MM * N_MM)
        .map(|i| ((i * 5) % 11) as f32 * 0.5)
        .collect();
    let (mut ours, c, mc) = setup_ours(&a, &b, &ma, &mb);
    assert!(
        (0..N_ADD).all(|i| c[i] == a[i] + b[i]),
        "vector_add is wrong"
    );
    for row in [0, 511, 1023] {
        let want = matmul_ref_row(&ma, &mb, N_MM, row);
        let got = &mc[row * N_MM..(row + 1) * N_MM];
        assert!(
            want.iter()
                .zip(got)
                .all(|(w, g)| (w - g).abs() <= 1e-3 * w.abs().max(1.0)),
            "matmul row {row} is wrong"
        );
    }

    let pocl = match opencl::OpenCl::open("Portable Computing Language") {
        Ok(cl) => Some(cl),
        Err(e) => {
            println!("pocl unavailable: {e}");
            None
        }
    };

    let mut c_fast = common::criterion(30, Duration::from_secs(3));
    common::bench(&mut c_fast, "kernels", "empty/level-zero-cpu", || {
        ours.launch("empty")
    });
    let mut c_slow = common::criterion(10, Duration::from_secs(5));
    let heavy = ["vector_add", "matmul_tiled", "matmul_naive"];
    for k in heavy {
        if quick {
            continue;
        }
        common::bench(
            &mut c_slow,
            "kernels",
            &format!("{k}/level-zero-cpu"),
            || ours.launch(k),
        );
    }

    if let Some(cl) = &pocl {
        let (ba, bb, bc) = (
            cl.buffer(&a).unwrap(),
            cl.buffer(&b).unwrap(),
            cl.buffer(&vec![0f32; N_ADD]).unwrap(),
        );
        let (bma, bmb, bmc) = (
            cl.buffer(&ma).unwrap(),
            cl.buffer(&mb).unwrap(),
            cl.buffer(&vec![0f32; N_MM * N_MM]).unwrap(),
        );
        let add = cl.kernel(&source("vector_add"), "vector_add").unwrap();
        for (i, buf) in [&ba, &bb, &bc].into_iter().enumerate() {
            cl.arg_buffer(&add, i as u32, buf).unwrap();
        }
        let mm_src = source("matmul");
        let mm = |name: &str| {
            let k = cl.kernel(&mm_src, name).unwrap();
            for (i, buf) in [&bma, &bmb, &bmc].into_iter().enumerate() {
                cl.arg_buffer(&k, i as u32, buf).unwrap();
            }
            cl.arg(&k, 3, &(N_MM as u32)).unwrap();
            k
        };
        let (naive, tiled) = (mm("matmul_naive"), mm("matmul_tiled"));
        let empty = cl.kernel(&source("empty"), "empty").unwrap();
        let run = |k: &str| match k {
            "vector_add" => cl.run(&add, &[N_ADD], Some(&[256])).unwrap(),
            "matmul_naive" => cl.run(&naive, &[N_MM, N_MM], Some(&[16, 16])).unwrap(),
            "matmul_tiled" => cl.run(&tiled, &[N_MM, N_MM], Some(&[16, 16])).unwrap(),
            "empty" => cl.run(&empty, &[1], Some(&[1])).unwrap(),
            _ => unreachable!(),
        };
        run("vector_add");
        let mut check = vec![0f32; N_ADD];
        cl.read(&bc, &mut check).unwrap();
        assert_eq!(check, c, "pocl and the CPU driver disagree on vector_add");
        common::bench(&mut c_fast, "kernels", "empty/pocl", || run("empty"));
        for k in heavy {
            if quick {
                continue;
            }
            common::bench(&mut c_slow, "kernels", &format!("{k}/pocl"), || run(k));
        }
        for k in [add, naive, tiled, empty] {
            cl.release_kernel(k);
        }
        for buf in [ba, bb, bc, bma, bmb, bmc] {
            cl.release_buffer(buf);
        }
    }
    c_fast.final_summary();
    c_slow.final_summary();

    println!("\n## CPU-driver kernels against pocl (median time; ratio = pocl time / our time)\n");
    if let Some(cl) = &pocl {
        println!("pocl platform: {}\n", cl.platform);
    }
    println!("| kernel | level-zero-cpu | pocl | throughput ratio (ours / pocl) |");
    println!("|---|---|---|---|");
    for (k, what) in [
        ("vector_add", "vector add, 2^24 floats"),
        ("matmul_naive", "matmul 1024×1024, naive"),
        ("matmul_tiled", "matmul 1024×1024, tiled (local memory)"),
        ("empty", "empty kernel: launch + synchronize (latency)"),
    ] {
        let ours = common::median(&format!("kernels/{k}/level-zero-cpu"));
        let theirs = common::median(&format!("kernels/{k}/pocl"));
        match (ours, theirs) {
            (Some(o), Some(t)) => println!(
                "| {what} | {} | {} | {:.2} |",
                common::ns(o),
                common::ns(t),
                t / o
            ),
            (Some(o), None) => println!("| {what} | {} | — | — |", common::ns(o)),
            _ => println!("| {what} | — | — | — |"),
        }
    }
}
