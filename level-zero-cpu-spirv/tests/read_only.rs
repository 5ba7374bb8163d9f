//! `MemoryMap::writable`: a store into memory the map reports read-only stops the launch with
//! `ExecError::ReadOnly` and does not happen; loads from it work.

mod common;
use common::*;
use level_zero_cpu_spirv::{ArgValue, ExecError, Launch, MemoryMap};

/// Two buffers: the first writable, the second read-only.
struct Map {
    rw: (u64, u64),
    ro: (u64, u64),
}

// SAFETY: both ranges are the test's own vectors, alive for every launch using the map; the
// read-only one is never written by the engine (that is what the test checks).
unsafe impl MemoryMap for Map {
    fn find(&self, address: u64) -> Option<(u64, u64)> {
        [self.rw, self.ro]
            .into_iter()
            .find(|&(b, s)| address >= b && address < b + s)
    }

    fn writable(&self, address: u64) -> bool {
        !(address >= self.ro.0 && address < self.ro.0 + self.ro.1)
    }
}

fn run(
    p: &level_zero_cpu_spirv::Program,
    kernel: &str,
    args: &[&[u8]],
    map: &Map,
) -> Result<(), ExecError> {
    let values: Vec<ArgValue<'_>> = args.iter().map(|b| ArgValue::Bytes(b)).collect();
    let mut out = Vec::new();
    p.launch(
        &Launch {
            kernel,
            args: &values,
            group_size: [16, 1, 1],
            group_count: [1, 1, 1],
            global_offset: [0; 3],
        },
        map,
        &mut out,
    )
}

#[test]
fn stores_into_read_only_memory_are_refused() {
    for opt in ["O0", "O2"] {
        let p = program("out_of_bounds", opt);
        let mut rw = vec![0i32; 16];
        let ro: Vec<i32> = (100..116).collect();
        let map = Map {
            rw: (rw.as_mut_ptr() as u64, 64),
            ro: (ro.as_ptr() as u64, 64),
        };
        let (rw_arg, ro_arg) = (
            (rw.as_ptr() as u64).to_le_bytes(),
            (ro.as_ptr() as u64).to_le_bytes(),
        );
        let (n, zero) = (16u32.to_le_bytes(), 0u32.to_le_bytes());
        // Loads from read-only memory work.
        run(&p, "read_past_end", &[&ro_arg, &rw_arg, &n, &zero], &map).unwrap();
        assert_eq!(rw, ro);
        // A store into it is refused, and does not happen.
        match run(&p, "write_past_end", &[&ro_arg, &n, &zero], &map) {
            Err(e @ ExecError::ReadOnly { .. }) => {
                assert!(e.to_string().contains("read-only"), "{e}");
            }
            other => panic!("{opt}: expected ReadOnly, got {other:?}"),
        }
        assert_eq!(ro, (100..116).collect::<Vec<_>>());
        // The writable buffer still takes stores.
        run(&p, "write_past_end", &[&rw_arg, &n, &zero], &map).unwrap();
        assert_eq!(rw, (0..16).collect::<Vec<_>>());
    }
}
