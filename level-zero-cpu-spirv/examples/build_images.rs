//! Builds every SPIR-V module found in the given files (`.spv` files, or shared libraries
//! such as the SYCL wheels' extension modules, whose device images are embedded uncompressed)
//! and counts how many build, grouping the refusals by the first line of their build log:
//! `cargo run --release -p level-zero-cpu-spirv --example build_images -- FILE...`.
//!
//! An embedded module is found by its magic number (0x07230203, little-endian) at a 4-byte
//! aligned offset; it ends after its last `OpFunctionEnd` before the instruction stream
//! stops framing (a word count of 0, an instruction running past the file, or the magic
//! number of the next module).

use level_zero_cpu_spirv::{BuildOptions, Program};
use std::collections::BTreeMap;

const MAGIC: u32 = 0x0723_0203;
const OP_FUNCTION_END: u32 = 56;

/// The modules inside `bytes`, as byte ranges.
fn modules(bytes: &[u8]) -> Vec<&[u8]> {
    let words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at + 5 < words.len() {
        if words[at] != MAGIC || words[at + 1] >> 16 != 1 {
            at += 1;
            continue;
        }
        let mut i = at + 5;
        let mut end = None;
        while i < words.len() {
            let count = (words[i] >> 16) as usize;
            // Images are packed back to back: the next one's magic ends this one.
            if count == 0 || i + count > words.len() || words[i] == MAGIC {
                break;
            }
            if words[i] == (1 << 16) | OP_FUNCTION_END {
                end = Some(i + 1);
            }
            i += count;
        }
        match end {
            Some(e) => {
                out.push(&bytes[at * 4..e * 4]);
                at = e;
            }
            None => at += 1,
        }
    }
    out
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: build_images FILE...");
        std::process::exit(2);
    }
    let (mut total, mut built) = (0usize, 0usize);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let (mut n, mut ok) = (0, 0);
        for m in modules(&bytes) {
            n += 1;
            match Program::build(m, &BuildOptions::default()) {
                Ok(_) => ok += 1,
                Err(e) => {
                    let first = e.log.lines().next().unwrap_or("").to_string();
                    let key = first
                        .split(" (this engine runs")
                        .next()
                        .unwrap_or("")
                        .to_string();
                    *reasons.entry(key).or_default() += 1;
                }
            }
        }
        println!("{ok:>6} of {n:>6} build: {f}");
        total += n;
        built += ok;
    }
    println!("\n{built} of {total} modules build\nrefusals (first line of the build log):");
    let mut r: Vec<_> = reasons.into_iter().collect();
    r.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (reason, n) in r {
        println!("{n:>6}  {reason}");
    }
}
