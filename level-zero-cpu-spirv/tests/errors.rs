//! Bad input fails the build with a useful log (never a panic); bad launches and
//! out-of-bounds kernels fail the launch without touching memory outside the buffers.

mod common;
use common::*;
use level_zero_cpu_spirv::{BuildOptions, ExecError, Program};
use rspirv::binary::Assemble;
use rspirv::dr::{Builder, Operand};
use rspirv::spirv::{AddressingModel, Capability, ExecutionModel, FunctionControl, MemoryModel};

fn build_err(bytes: &[u8]) -> String {
    match Program::build(bytes, &BuildOptions::default()) {
        Ok(_) => panic!("the build succeeded"),
        Err(e) => {
            assert!(!e.log.is_empty());
            e.log
        }
    }
}

fn bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A minimal kernel module; `body` adds instructions to the kernel's only block.
fn kernel_module(
    caps: &[Capability],
    model: ExecutionModel,
    body: impl FnOnce(&mut Builder),
) -> Vec<u8> {
    let mut b = Builder::new();
    b.set_version(1, 0);
    for c in caps {
        b.capability(*c);
    }
    b.memory_model(AddressingModel::Physical64, MemoryModel::OpenCL);
    let void = b.type_void();
    let fty = b.type_function(void, vec![]);
    let f = b
        .begin_function(void, None, FunctionControl::NONE, fty)
        .unwrap();
    b.begin_block(None).unwrap();
    body(&mut b);
    b.ret().unwrap();
    b.end_function().unwrap();
    b.entry_point(model, f, "k", vec![]);
    bytes(&b.module().assemble())
}

#[test]
fn a_minimal_kernel_builds_and_runs() {
    let m = kernel_module(
        &[Capability::Addresses, Capability::Kernel],
        ExecutionModel::Kernel,
        |_| {},
    );
    let p = Program::build(&m, &BuildOptions::default()).unwrap();
    assert_eq!(p.kernels()[0].name, "k");
    Mem::default().run1(&p, "k", &[], 4, 2).unwrap();
}

#[test]
fn wrong_magic() {
    let mut m = spv("vector_add", "O2");
    m[0] ^= 0xff;
    let log = build_err(&m);
    assert!(log.contains("magic"), "{log}");
    assert!(build_err(b"this is not SPIR-V at all, just text").contains("magic"));
}

#[test]
fn truncated() {
    let m = spv("vector_add", "O2");
    for len in [0, 3, 4, 16, 19] {
        let log = build_err(&m[..len]);
        assert!(
            log.contains("header") || log.contains("truncated"),
            "{len}: {log}"
        );
    }
    for len in [m.len() - 4, m.len() / 2 / 4 * 4, 24, 100] {
        let log = build_err(&m[..len]);
        assert!(
            log.contains("truncated") || log.contains("invalid"),
            "{len}: {log}"
        );
    }
    let log = build_err(&m[..m.len() - 1]);
    assert!(log.contains("multiple of 4"), "{log}");
}

#[test]
fn every_truncation_and_every_byte_flip_is_survived() {
    // Build results may be Ok or Err; what matters is that nothing panics or hangs.
    let m = spv("control_flow", "O2");
    for len in (0..m.len()).step_by(4) {
        let _ = Program::build(&m[..len], &BuildOptions::default());
    }
    let mut r = Rng(99);
    for _ in 0..400 {
        let mut x = m.clone();
        for _ in 0..1 + r.next() % 4 {
            let at = (r.next() as usize) % x.len();
            x[at] = r.next() as u8;
        }
        let _ = Program::build(&x, &BuildOptions::default());
    }
}

#[test]
fn random_bytes() {
    let mut r = Rng(1234);
    for n in 0..300 {
        let len = (r.next() % 400) as usize;
        let mut v: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
        if n % 2 == 0 && v.len() >= 20 {
            // A valid header in front of garbage reaches the parser and the checker.
            v[..4].copy_from_slice(&0x0723_0203u32.to_le_bytes());
            v[4..8].copy_from_slice(&0x0001_0000u32.to_le_bytes());
            v[12..16].copy_from_slice(&1000u32.to_le_bytes());
        }
        let _ = build_err(&v);
    }
}

#[test]
fn unsupported_capability_is_named() {
    let m = kernel_module(
        &[Capability::Addresses, Capability::Kernel, Capability::Pipes],
        ExecutionModel::Kernel,
        |_| {},
    );
    let log = build_err(&m);
    assert!(log.contains("capability Pipes"), "{log}");
}

#[test]
fn shader_module_is_rejected() {
    // A Vulkan compute shader: Shader capability, Logical addressing, GLCompute.
    let mut b = Builder::new();
    b.capability(Capability::Shader);
    b.memory_model(AddressingModel::Logical, MemoryModel::GLSL450);
    let void = b.type_void();
    let fty = b.type_function(void, vec![]);
    let f = b
        .begin_function(void, None, FunctionControl::NONE, fty)
        .unwrap();
    b.begin_block(None).unwrap();
    b.ret().unwrap();
    b.end_function().unwrap();
    b.entry_point(ExecutionModel::GLCompute, f, "main", vec![]);
    let log = build_err(&bytes(&b.module().assemble()));
    assert!(log.contains("Shader"), "{log}");
    // Kernel capabilities but a GLCompute entry point.
    let m = kernel_module(
        &[Capability::Addresses, Capability::Kernel],
        ExecutionModel::GLCompute,
        |_| {},
    );
    let log = build_err(&m);
    assert!(log.contains("execution model GLCompute"), "{log}");
}

#[test]
fn unsupported_opcode_is_named() {
    let m = kernel_module(
        &[Capability::Addresses, Capability::Kernel],
        ExecutionModel::Kernel,
        |b| {
            let int = b.type_int(32, 0);
            let c = b.constant_bit32(int, 7);
            b.bit_reverse(int, None, c).unwrap();
        },
    );
    let log = build_err(&m);
    assert!(log.contains("OpBitReverse"), "{log}");
}

#[test]
fn unsupported_opencl_std_instruction_is_named() {
    let m = kernel_module(
        &[Capability::Addresses, Capability::Kernel],
        ExecutionModel::Kernel,
        |b| {
            let set = b.ext_inst_import("OpenCL.std");
            let float = b.type_float(32, None);
            let c = b.constant_bit32(float, 1.5f32.to_bits());
            // Every instruction of OpenCL.std 1.0 is supported: one outside the set.
            assert!(
                rspirv::grammar::OPENCL_STD_100_INSTRUCTION_TABLE
                    .lookup_opcode(9999)
                    .is_none()
            );
            b.ext_inst(float, None, set, 9999, [Operand::IdRef(c)])
                .unwrap();
        },
    );
    let log = build_err(&m);
    assert!(log.contains("OpenCL.std instruction 9999"), "{log}");
}

#[test]
fn unsupported_instruction_set_is_named() {
    let m = kernel_module(
        &[Capability::Addresses, Capability::Kernel],
        ExecutionModel::Kernel,
        |b| {
            b.ext_inst_import("GLSL.std.450");
        },
    );
    let log = build_err(&m);
    assert!(log.contains("GLSL.std.450"), "{log}");
}

#[test]
fn physical32_is_rejected() {
    let mut b = Builder::new();
    b.capability(Capability::Addresses);
    b.capability(Capability::Kernel);
    b.memory_model(AddressingModel::Physical32, MemoryModel::OpenCL);
    let log = build_err(&bytes(&b.module().assemble()));
    assert!(log.contains("Physical32"), "{log}");
}

#[test]
fn bad_launches_are_refused() {
    let p = program("vector_add", "O2");
    let mut m = Mem::default();
    let (a, b, c) = (m.zeros::<f32>(64), m.zeros::<f32>(64), m.zeros::<f32>(64));
    let err = |r: Result<String, ExecError>| match r {
        Err(ExecError::InvalidLaunch(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(err(m.run1(&p, "nope", &[], 64, 64)).contains("no kernel `nope`"));
    assert!(err(m.run1(&p, "vector_add", &[A::Buf(a), A::Buf(b)], 64, 64)).contains("2 arguments"));
    assert!(
        err(m.run1(&p, "vector_add", &[A::Buf(a), A::Buf(b), val(1u32)], 64, 64))
            .contains("4 bytes")
    );
    assert!(
        err(m.run1(
            &p,
            "vector_add",
            &[A::Buf(a), A::Buf(b), A::Local(4)],
            64,
            64
        ))
        .contains("not a __local")
    );
    assert!(
        err(m.launch(
            &p,
            "vector_add",
            &[A::Buf(a), A::Buf(b), A::Buf(c)],
            [0, 1, 1],
            [1, 1, 1],
            [0; 3]
        ))
        .contains("zero")
    );
    assert!(
        err(m.launch(
            &p,
            "vector_add",
            &[A::Buf(a), A::Buf(b), A::Buf(c)],
            [2048, 1, 1],
            [1, 1, 1],
            [0; 3]
        ))
        .contains("exceeds")
    );
    let t = program("matmul", "O2");
    let r = m.launch(
        &t,
        "matmul_tiled",
        &[A::Buf(a), A::Buf(b), A::Buf(c), val(8u32)],
        [8, 8, 1],
        [1, 1, 1],
        [0; 3],
    );
    assert!(err(r).contains("reqd_work_group_size"));
    assert_eq!(
        t.suggest_group_size("matmul_tiled", [64, 64, 1]),
        Some([16, 16, 1])
    );
    assert_eq!(
        t.suggest_group_size("matmul_naive", [1024, 1024, 1]),
        Some([256, 1, 1])
    );
    assert_eq!(
        t.suggest_group_size("matmul_naive", [100, 6, 1]),
        Some([100, 2, 1])
    );
    // An empty grid does nothing.
    m.launch(
        &p,
        "vector_add",
        &[A::Buf(a), A::Buf(b), A::Buf(c)],
        [1, 1, 1],
        [0, 1, 1],
        [0; 3],
    )
    .unwrap();
}

fn oob(r: Result<String, ExecError>) -> (u64, u64, bool, [u64; 3]) {
    match r {
        Err(ExecError::OutOfBounds {
            kernel,
            address,
            size,
            write,
            global_id,
        }) => {
            assert!(!kernel.is_empty());
            (address, size, write, global_id)
        }
        other => panic!("expected OutOfBounds, got {other:?}"),
    }
}

both!(write_past_the_end_is_stopped, |opt| {
    let p = program("out_of_bounds", opt);
    for (n, extra) in [(64u32, 1u32), (64, 1000), (20032, 3)] {
        let mut m = Mem::default();
        let out = m.zeros::<i32>(n as usize);
        let neighbour = m.zeros::<i32>(16);
        let (addr, size, write, gid) = oob(m.run1(
            &p,
            "write_past_end",
            &[A::Buf(out), val(n), val(extra)],
            n,
            64,
        ));
        assert!(write);
        assert_eq!(size, 4);
        assert_eq!(gid, [u64::from(n) - 1, 0, 0]);
        assert!(addr % 4 == 0);
        assert!(
            m.guards_intact(out),
            "the bytes after the buffer were written"
        );
        assert!(m.guards_intact(neighbour));
        assert!(m.get::<i32>(neighbour).iter().all(|&v| v == 0));
    }
});

both!(read_past_the_end_is_stopped, |opt| {
    let p = program("out_of_bounds", opt);
    let n = 128u32;
    let mut m = Mem::default();
    let inp = m.add(&vec![5i32; n as usize]);
    let out = m.zeros::<i32>(n as usize);
    let (_, size, write, gid) = oob(m.run1(
        &p,
        "read_past_end",
        &[A::Buf(inp), A::Buf(out), val(n), val(1u32)],
        n,
        32,
    ));
    assert!(!write);
    assert_eq!(size, 4);
    assert_eq!(gid, [u64::from(n) - 1, 0, 0]);
    assert!(m.guards_intact(inp) && m.guards_intact(out));
    // In bounds, the same kernel works.
    m.run1(
        &p,
        "read_past_end",
        &[A::Buf(inp), A::Buf(out), val(n), val(0u32)],
        n,
        32,
    )
    .unwrap();
    assert!(m.get::<i32>(out).iter().all(|&v| v == 5));
});

both!(local_past_the_end_is_stopped, |opt| {
    let p = program("out_of_bounds", opt);
    let mut m = Mem::default();
    let out = m.zeros::<i32>(16);
    let (_, _, write, gid) = oob(m.launch(
        &p,
        "local_past_end",
        &[A::Buf(out), val(1u32)],
        [16, 1, 1],
        [1, 1, 1],
        [0; 3],
    ));
    assert!(write);
    assert_eq!(gid, [15, 0, 0]);
    m.launch(
        &p,
        "local_past_end",
        &[A::Buf(out), val(0u32)],
        [16, 1, 1],
        [1, 1, 1],
        [0; 3],
    )
    .unwrap();
    assert_eq!(m.get::<i32>(out), (0..16).collect::<Vec<i32>>());
});

#[test]
fn null_and_dangling_pointers_are_stopped() {
    let p = program("vector_add", "O2");
    let mut m = Mem::default();
    let (a, c) = (m.zeros::<f32>(64), m.zeros::<f32>(64));
    let (addr, _, write, gid) =
        oob(m.run1(&p, "vector_add", &[A::Buf(a), val(0u64), A::Buf(c)], 64, 64));
    assert_eq!((addr, write, gid), (0, false, [0, 0, 0]));
    // A pointer into the middle of a buffer: the tail runs past its end.
    let r = m.launch(
        &p,
        "vector_add",
        &[A::Buf(a), A::Buf(a), A::BufAt(c, 128)],
        [64, 1, 1],
        [1, 1, 1],
        [0; 3],
    );
    let (_, _, write, gid) = oob(r);
    assert!(write);
    assert_eq!(gid, [32, 0, 0]);
    assert!(m.guards_intact(c));
}

#[test]
fn spec_constants_must_have_the_right_size() {
    // No spec constants in our kernels: passing some is harmless.
    let p = Program::build(
        &spv("vector_add", "O2"),
        &BuildOptions {
            flags: "-ze-opt-disable",
            spec_constants: &[(3, &[1, 0, 0, 0])],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(p.build_log().contains("-ze-opt-disable"));
}

/// `__kernel void k(__global uint *out) { *out = SPEC; }` with `SPEC` a specialization
/// constant (SpecId 7, default 5).
fn spec_module() -> Vec<u8> {
    use rspirv::spirv::{Decoration, StorageClass};
    let mut b = Builder::new();
    b.set_version(1, 0);
    b.capability(Capability::Addresses);
    b.capability(Capability::Kernel);
    b.memory_model(AddressingModel::Physical64, MemoryModel::OpenCL);
    let void = b.type_void();
    let uint = b.type_int(32, 0);
    let ptr = b.type_pointer(None, StorageClass::CrossWorkgroup, uint);
    let spec = b.spec_constant_bit32(uint, 5);
    b.decorate(spec, Decoration::SpecId, [Operand::LiteralBit32(7)]);
    let fty = b.type_function(void, vec![ptr]);
    let f = b
        .begin_function(void, None, FunctionControl::NONE, fty)
        .unwrap();
    let out = b.function_parameter(ptr).unwrap();
    b.begin_block(None).unwrap();
    b.store(out, spec, None, []).unwrap();
    b.ret().unwrap();
    b.end_function().unwrap();
    b.entry_point(ExecutionModel::Kernel, f, "k", vec![]);
    bytes(&b.module().assemble())
}

#[test]
fn specialization_constants() {
    let m = spec_module();
    let run = |spec: &[(u32, &[u8])]| -> Result<u32, String> {
        let p = Program::build(
            &m,
            &BuildOptions {
                flags: "",
                spec_constants: spec,
                ..Default::default()
            },
        )
        .map_err(|e| e.log)?;
        let mut mem = Mem::default();
        let out = mem.zeros::<u32>(1);
        mem.run1(&p, "k", &[A::Buf(out)], 1, 1).unwrap();
        Ok(mem.get::<u32>(out)[0])
    };
    assert_eq!(run(&[]), Ok(5));
    assert_eq!(run(&[(7, &42u32.to_le_bytes())]), Ok(42));
    assert_eq!(run(&[(8, &42u32.to_le_bytes())]), Ok(5));
    let e = run(&[(7, &[1, 2])]).unwrap_err();
    assert!(e.contains("specialization constant 7"), "{e}");
}

#[test]
fn program_is_shareable_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Program>();
    // Concurrent launches of one program from several threads.
    let p = std::sync::Arc::new(program("vector_add", "O2"));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let p = p.clone();
            std::thread::spawn(move || {
                let n = items(1024, 128);
                let a: Vec<f32> = (0..n).map(|i| (i + t) as f32).collect();
                let mut m = Mem::default();
                let (ia, ib, ic) = (m.add(&a), m.add(&a), m.zeros::<f32>(n));
                m.run1(
                    &p,
                    "vector_add",
                    &[A::Buf(ia), A::Buf(ib), A::Buf(ic)],
                    n as u32,
                    64,
                )
                .unwrap();
                assert!(m.get::<f32>(ic).iter().zip(&a).all(|(c, a)| *c == 2.0 * a));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
