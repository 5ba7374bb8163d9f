//! Mutated real modules never make the builder panic (a panic would surface as an
//! "internal error" log). The default run is short; `MUTATION_ROUNDS=100000 cargo test
//! --release --test mutations` runs longer.

mod common;
use common::*;
use level_zero_cpu_spirv::{BuildOptions, Program};

#[test]
fn mutated_modules_never_panic_the_builder() {
    let rounds: usize = std::env::var("MUTATION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let dir = format!("{}/kernels/spv", env!("CARGO_MANIFEST_DIR"));
    let mut modules: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    modules.sort();
    let seed = std::env::var("MUTATION_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed);
    let mut r = Rng(seed);
    let mut built = 0;
    // MUTATION_LAUNCH=1 also runs every kernel of the modules that still build (in a
    // thread, abandoned after a second: a mutation can create an endless loop).
    let launch = std::env::var("MUTATION_LAUNCH").is_ok();
    for round in 0..rounds {
        let mut m = modules[round % modules.len()].clone();
        let words = m.len() / 4;
        for _ in 0..1 + r.next() % 3 {
            let w = 5 + (r.next() as usize) % (words - 5);
            match r.next() % 4 {
                // A random word.
                0 => m[w * 4..w * 4 + 4].copy_from_slice(&(r.next() as u32).to_le_bytes()),
                // A small change to an operand (ids, literals, types).
                1 => {
                    let v = u32::from_le_bytes(m[w * 4..w * 4 + 4].try_into().unwrap());
                    let v = v.wrapping_add((r.next() % 7) as u32).wrapping_sub(3);
                    m[w * 4..w * 4 + 4].copy_from_slice(&v.to_le_bytes());
                }
                // Swap two words.
                2 => {
                    let v = 5 + (r.next() as usize) % (words - 5);
                    for k in 0..4 {
                        m.swap(w * 4 + k, v * 4 + k);
                    }
                }
                // Change only the opcode of an instruction-looking word.
                _ => {
                    let v = u32::from_le_bytes(m[w * 4..w * 4 + 4].try_into().unwrap());
                    let v = (v & 0xffff_0000) | (r.next() as u32 % 400);
                    m[w * 4..w * 4 + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        match Program::build(&m, &BuildOptions::default()) {
            Ok(p) => {
                built += 1;
                if launch {
                    launch_all(p, round);
                }
            }
            Err(e) => assert!(
                !e.log.contains("internal error"),
                "round {round}: {}",
                e.log
            ),
        }
    }
    eprintln!("{built} of {rounds} mutated modules still built");
}

fn launch_all(p: Program, round: usize) {
    use level_zero_cpu_spirv::{ArgKind, ExecError};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for k in p.kernels().to_vec() {
            let mut m = Mem::default();
            let buf = m.zeros::<u8>(4096);
            let args: Vec<A> = k
                .args
                .iter()
                .map(|a| match a.kind {
                    ArgKind::LocalPointer => A::Local(64),
                    ArgKind::GlobalPointer | ArgKind::ConstantPointer => A::Buf(buf),
                    ArgKind::Value => A::Val(vec![1; a.size]),
                    // Not given: the launch is refused (the mutation still had to build).
                    ArgKind::Image | ArgKind::Sampler => A::Val(vec![0; 8]),
                })
                .collect();
            let gs = k.required_group_size.unwrap_or([4, 2, 1]);
            let r = m.launch(&p, &k.name, &args, gs, [2, 1, 1], [0; 3]);
            if let Err(ExecError::Failed(msg)) = &r {
                assert!(!msg.contains("internal error"), "round {round}: {msg}");
            }
            assert!(m.guards_intact(buf), "round {round}: guard bytes written");
        }
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(std::time::Duration::from_secs(1));
}
