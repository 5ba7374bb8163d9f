//! SPIR-V 1.1 to 1.6 modules (issue 13): each version's header, what 1.1 to 1.4 add that an
//! OpenCL kernel can use (`OpModuleProcessed`, `OpExecutionModeId` with `LocalSizeId`, entry
//! point interfaces listing every module-scope variable, `OpCopyLogical`, `OpPtrEqual`,
//! `OpPtrNotEqual`, `OpPtrDiff`, `OpSelect` of composites, two memory operands on
//! `OpCopyMemory[Sized]`, the float controls' capabilities), what stays refused by name
//! (pipe storage, device-side enqueue, named barriers, integer dot products, versions above
//! 1.6), and `OpTypeForwardPointer` (a struct holding a pointer to its own type) where the
//! kernels of `kernels/linked_list.cl` (in `kernel_cases.rs`) do not reach: its refusals and
//! linking such types across modules.
//!
//! Each module is `tests/spvasm/spirv14.spvasm` with the test's pieces filled in, assembled by
//! `spirv-as` for the test's SPIR-V version and validated by `spirv-val` for it.

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, ExecError, Program};

/// The pieces a test fills into the template.
#[derive(Clone, Copy, Default)]
struct Parts<'a> {
    caps: &'a str,
    iface: &'a str,
    modes: &'a str,
    debug: &'a str,
    decor: &'a str,
    globals: &'a str,
    vars: &'a str,
    body: &'a str,
    funcs: &'a str,
}

fn text(p: Parts<'_>) -> String {
    spvasm("spirv14")
        .replace("@CAPS@", p.caps)
        .replace("@IFACE@", p.iface)
        .replace("@MODES@", p.modes)
        .replace("@DEBUG@", p.debug)
        .replace("@DECOR@", p.decor)
        .replace("@GLOBALS@", p.globals)
        .replace("@VARS@", p.vars)
        .replace("@BODY@", p.body)
        .replace("@FUNCS@", p.funcs)
}

/// Assembles for SPIR-V 1.`minor` and validates (`valid`) for that version.
fn bytes(p: Parts<'_>, minor: u32, valid: bool) -> Vec<u8> {
    let env = format!("spv1.{minor}");
    assemble_for(&env, &text(p), valid.then_some(env.as_str()))
}

fn build_with(bytes: &[u8], spec: &[(u32, &[u8])]) -> Result<Program, String> {
    let options = BuildOptions {
        spec_constants: spec,
        ..Default::default()
    };
    Program::build(bytes, &options).map_err(|e| e.log)
}

/// A SPIR-V 1.4 module, validated.
fn build14(p: Parts<'_>) -> Program {
    build_with(&bytes(p, 4, true), &[]).unwrap_or_else(|log| panic!("{log}\n{}", text(p)))
}

/// The module must fail to build, its log naming every word of `words`.
fn refused(bytes: &[u8], words: &[&str]) {
    match build_with(bytes, &[]) {
        Ok(_) => panic!("built, but should have been refused ({words:?})"),
        Err(log) => {
            for w in words {
                assert!(log.contains(w), "log {log:?} does not name {w:?}");
            }
        }
    }
}

/// `out[8x + k] = v` (a `ulong`).
fn put(k: u32, v: &str) -> String {
    format!(" %pr{k} = OpInBoundsPtrAccessChain %p_glob %row %c{k}\n OpStore %pr{k} {v}\n")
}

/// Runs `k` over one work-item per input in groups of `group`; returns the 8 outputs of each.
fn run(p: &Program, input: &[u64], group: u32) -> Result<Vec<[u64; 8]>, ExecError> {
    let mut m = Mem::default();
    let (out, inp) = (m.add(&vec![0u64; 8 * input.len()]), m.add(input));
    m.run1(
        p,
        "k",
        &[A::Buf(out), A::Buf(inp)],
        input.len() as u32,
        group,
    )?;
    assert!(m.guards_intact(out) && m.guards_intact(inp));
    Ok(m.get::<u64>(out)
        .chunks(8)
        .map(|c| c.try_into().unwrap())
        .collect())
}

#[test]
fn modules_of_every_version_from_1_1_to_1_6_run_with_what_each_adds() {
    for minor in 1..=6u32 {
        // 1.1: OpModuleProcessed; 1.2: the required group size by constant ids
        // (OpExecutionModeId LocalSizeId); 1.4: the interface lists the module-scope
        // variables, and pointers compare with OpPtrEqual.
        let iface = if minor >= 4 { " %counter %scratch" } else { "" };
        let modes = if minor >= 2 {
            " OpExecutionModeId %k LocalSizeId %u4 %u1 %u1\n"
        } else {
            ""
        };
        let ptr_eq = if minor >= 4 {
            " %eq = OpPtrEqual %bool %pi %in\n"
        } else {
            " %piu = OpConvertPtrToU %ulong %pi\n %inu = OpConvertPtrToU %ulong %in\n \
             %eq = OpIEqual %bool %piu %inu\n"
        };
        let body = [
            " %t = OpIMul %ulong %v %c3\n".to_string(),
            put(0, "%t"),
            ptr_eq.to_string(),
            " %eqv = OpSelect %ulong %eq %c1 %c0\n".to_string(),
            put(1, "%eqv"),
            " %cv = OpLoad %ulong %counter\n".to_string(),
            put(2, "%cv"),
            " %xm4 = OpUMod %ulong %x %c4\n \
             %sp = OpInBoundsPtrAccessChain %p_loc %scratch %c0 %xm4\n OpStore %sp %v\n \
             OpControlBarrier %u2 %u2 %u264\n %x1 = OpIAdd %ulong %x %c1\n \
             %x1m = OpUMod %ulong %x1 %c4\n \
             %sq = OpInBoundsPtrAccessChain %p_loc %scratch %c0 %x1m\n \
             %nb = OpLoad %ulong %sq\n"
                .to_string(),
            put(3, "%nb"),
        ]
        .concat();
        let p = Parts {
            iface,
            modes,
            debug: if minor >= 1 {
                " OpModuleProcessed \"issue 13\"\n"
            } else {
                ""
            },
            globals: " %c42 = OpConstant %ulong 42\n \
                      %counter = OpVariable %p_glob CrossWorkgroup %c42\n \
                      %arr4 = OpTypeArray %ulong %u4\n %p_arr4 = OpTypePointer Workgroup %arr4\n \
                      %p_loc = OpTypePointer Workgroup %ulong\n \
                      %scratch = OpVariable %p_arr4 Workgroup\n %u264 = OpConstant %uint 264\n",
            body: &body,
            ..Parts::default()
        };
        let b = bytes(p, minor, true);
        assert_eq!(&b[4..8], &(0x0001_0000 | minor << 8).to_le_bytes());
        let prog = build_with(&b, &[]).unwrap_or_else(|log| panic!("1.{minor}: {log}"));
        let want_size = (minor >= 2).then_some([4, 1, 1]);
        assert_eq!(prog.kernel("k").unwrap().required_group_size, want_size);
        let input: Vec<u64> = (0..8).map(|i| i * 100 + 1).collect();
        let out = run(&prog, &input, 4).unwrap_or_else(|e| panic!("1.{minor}: {e}"));
        for (x, o) in out.iter().enumerate() {
            let next = input[x - x % 4 + (x + 1) % 4];
            assert_eq!(
                o[..4],
                [input[x] * 3, u64::from(x == 0), 42, next],
                "1.{minor}, item {x}"
            );
        }
    }
}

#[test]
fn local_size_id_takes_constants_and_specialization_constants() {
    let p = Parts {
        modes: " OpExecutionModeId %k LocalSizeId %sx %u2 %u1\n",
        decor: " OpDecorate %sx SpecId 3\n",
        globals: " %sx = OpSpecConstant %uint 8\n",
        ..Parts::default()
    };
    let b = bytes(p, 4, true);
    let prog = build_with(&b, &[]).unwrap();
    assert_eq!(
        prog.kernel("k").unwrap().required_group_size,
        Some([8, 2, 1])
    );
    let prog = build_with(&b, &[(3, &3u32.to_le_bytes())]).unwrap();
    assert_eq!(
        prog.kernel("k").unwrap().required_group_size,
        Some([3, 2, 1])
    );
    let mut m = Mem::default();
    let (out, inp) = (m.zeros::<u64>(64), m.zeros::<u64>(8));
    match m.launch(
        &prog,
        "k",
        &[A::Buf(out), A::Buf(inp)],
        [4, 2, 1],
        [1; 3],
        [0; 3],
    ) {
        Err(ExecError::InvalidLaunch(msg)) => {
            assert!(msg.contains("reqd_work_group_size"), "{msg}")
        }
        other => panic!("{other:?}"),
    }
    m.launch(
        &prog,
        "k",
        &[A::Buf(out), A::Buf(inp)],
        [3, 2, 1],
        [1; 3],
        [0; 3],
    )
    .unwrap();
}

#[test]
fn op_copy_logical_copies_between_types_that_differ_in_layout() {
    // { uchar, ulong } packed (CPacked: 9 bytes) and not (16 bytes), two of each in arrays.
    let p = build14(Parts {
        decor: " OpDecorate %sp CPacked\n",
        globals: " %s = OpTypeStruct %uchar %ulong\n %sp = OpTypeStruct %uchar %ulong\n \
                  %arr = OpTypeArray %s %u2\n %arrp = OpTypeArray %sp %u2\n \
                  %p_arr = OpTypePointer CrossWorkgroup %arr\n \
                  %p_arrp = OpTypePointer CrossWorkgroup %arrp\n",
        body: " %src = OpBitcast %p_arrp %in\n %packed = OpLoad %arrp %src\n \
               %plain = OpCopyLogical %arr %packed\n %dst = OpBitcast %p_arr %row\n \
               OpStore %dst %plain\n %back = OpCopyLogical %arrp %plain\n \
               %r4 = OpInBoundsPtrAccessChain %p_glob %row %c4\n \
               %dst2 = OpBitcast %p_arrp %r4\n OpStore %dst2 %back\n",
        ..Parts::default()
    });
    // The packed input: 0x11, 0x0102030405060708, 0x22, 0x1112131415161718.
    let mut packed = vec![0x11u8];
    packed.extend(0x0102_0304_0506_0708_u64.to_le_bytes());
    packed.push(0x22);
    packed.extend(0x1112_1314_1516_1718_u64.to_le_bytes());
    let mut m = Mem::default();
    let mut input = packed.clone();
    input.resize(24, 0);
    let (out, inp) = (m.zeros::<u64>(8), m.add(&input));
    m.run1(&p, "k", &[A::Buf(out), A::Buf(inp)], 1, 1).unwrap();
    let o: Vec<u64> = m.get(out);
    assert_eq!(
        o[..4],
        [0x11, 0x0102_0304_0506_0708, 0x22, 0x1112_1314_1516_1718]
    );
    let bytes: Vec<u8> = o[4..].iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(bytes[..18], packed[..]);
}

#[test]
fn op_ptr_equal_not_equal_and_diff_compare_and_count_elements() {
    // PtrDiff counts elements of the pointee: ulongs (8 bytes), 16-byte structs, and a
    // private array's ulongs; into a 64-bit and a 32-bit result (negative counts wrap).
    let p = build14(Parts {
        globals: " %st = OpTypeStruct %ulong %uint\n %p_st = OpTypePointer CrossWorkgroup %st\n \
                  %arr = OpTypeArray %ulong %u4\n %p_arr = OpTypePointer Function %arr\n \
                  %p_fn = OpTypePointer Function %ulong\n",
        vars: " %priv = OpVariable %p_arr Function\n",
        body: &[
            " %xm = OpUMod %ulong %x %c3\n %q = OpInBoundsPtrAccessChain %p_glob %in %xm\n \
             %eq = OpPtrEqual %bool %pi %q\n %ne = OpPtrNotEqual %bool %pi %q\n \
             %eqv = OpSelect %ulong %eq %c1 %c0\n %nev = OpSelect %ulong %ne %c1 %c0\n \
             %d64 = OpPtrDiff %ulong %q %pi\n \
             %sin = OpBitcast %p_st %in\n %s1 = OpInBoundsPtrAccessChain %p_st %sin %x\n \
             %s2 = OpInBoundsPtrAccessChain %p_st %sin %c5\n \
             %d32 = OpPtrDiff %uint %s1 %s2\n %d32w = OpUConvert %ulong %d32\n \
             %e3 = OpInBoundsAccessChain %p_fn %priv %c3\n \
             %e1 = OpInBoundsAccessChain %p_fn %priv %c1\n \
             %dp = OpPtrDiff %ulong %e3 %e1\n"
                .to_string(),
            put(0, "%eqv"),
            put(1, "%nev"),
            put(2, "%d64"),
            put(3, "%d32w"),
            put(4, "%dp"),
        ]
        .concat(),
        ..Parts::default()
    });
    let out = run(&p, &[0; 8], 1).unwrap_or_else(|e| panic!("{e}"));
    for (x, o) in out.iter().enumerate() {
        let x = x as i64;
        let same = x % 3 == x;
        assert_eq!(
            o[..5],
            [
                u64::from(same),
                u64::from(!same),
                (x % 3 - x) as u64,
                u64::from((x - 5) as u32),
                2
            ],
            "item {x}"
        );
    }
}

#[test]
fn op_select_picks_structs_and_pointers() {
    let p = build14(Parts {
        globals: " %st = OpTypeStruct %ulong %uchar %ulong\n \
                  %c9 = OpConstant %uchar 9\n %c200 = OpConstant %uchar 200\n \
                  %sa = OpConstantComposite %st %c1 %c9 %c2\n \
                  %sb = OpConstantComposite %st %c7 %c200 %c8\n",
        body: &[
            " %odd = OpBitwiseAnd %ulong %x %c1\n %isodd = OpINotEqual %bool %odd %c0\n \
             %s = OpSelect %st %isodd %sa %sb\n %f0 = OpCompositeExtract %ulong %s 0\n \
             %f1 = OpCompositeExtract %uchar %s 1\n %f1w = OpUConvert %ulong %f1\n \
             %f2 = OpCompositeExtract %ulong %s 2\n \
             %p = OpSelect %p_glob %isodd %in %pi\n %pv = OpLoad %ulong %p\n"
                .to_string(),
            put(0, "%f0"),
            put(1, "%f1w"),
            put(2, "%f2"),
            put(3, "%pv"),
        ]
        .concat(),
        ..Parts::default()
    });
    let input: Vec<u64> = (0..6).map(|i| 1000 + i).collect();
    let out = run(&p, &input, 1).unwrap_or_else(|e| panic!("{e}"));
    for (x, o) in out.iter().enumerate() {
        let want = if x % 2 == 1 {
            [1, 9, 2, 1000]
        } else {
            [7, 200, 8, 1000 + x as u64]
        };
        assert_eq!(o[..4], want, "item {x}");
    }
}

#[test]
fn copy_memory_takes_a_memory_operand_for_each_side() {
    let p = build14(Parts {
        body: " %d = OpInBoundsPtrAccessChain %p_glob %row %c2\n \
               OpCopyMemorySized %d %pi %c8 Aligned 8 Aligned 8\n \
               %d3 = OpInBoundsPtrAccessChain %p_glob %row %c3\n \
               OpCopyMemory %d3 %pi Aligned 8 Volatile|Aligned 8\n",
        ..Parts::default()
    });
    let out = run(&p, &[5, 6], 1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!([out[0][2], out[0][3], out[1][2], out[1][3]], [5, 5, 6, 6]);
}

#[test]
fn the_float_controls_of_the_accepted_execution_modes_are_accepted() {
    let p = Parts {
        caps: " OpCapability DenormPreserve\n OpCapability SignedZeroInfNanPreserve\n \
               OpCapability RoundingModeRTE\n OpCapability Float64\n",
        modes: " OpExecutionMode %k DenormPreserve 64\n \
                OpExecutionMode %k SignedZeroInfNanPreserve 32\n \
                OpExecutionMode %k RoundingModeRTE 64\n",
        ..Parts::default()
    };
    build_with(&bytes(p, 4, true), &[]).unwrap_or_else(|log| panic!("{log}"));
    // Flushing denormals and rounding toward zero by default are not implemented.
    let p = Parts {
        caps: " OpCapability RoundingModeRTZ\n",
        modes: " OpExecutionMode %k RoundingModeRTZ 32\n",
        ..Parts::default()
    };
    refused(&bytes(p, 4, true), &["RoundingModeRTZ"]);
}

#[test]
fn versions_above_1_6_are_refused_naming_the_version() {
    let mut b = bytes(Parts::default(), 6, true);
    b[4..8].copy_from_slice(&0x0001_0700u32.to_le_bytes());
    refused(&b, &["SPIR-V version 1.7"]);
    b[4..8].copy_from_slice(&0x0002_0000u32.to_le_bytes());
    refused(&b, &["SPIR-V version 2.0"]);
}

#[test]
fn pipe_storage_device_side_enqueue_named_barriers_and_dot_products_are_refused_by_name() {
    // SPIR-V 1.1's OpConstantPipeStorage, named barriers; SPIR-V 1.6's integer dot
    // products: refused by capability before anything else. (SubgroupDispatch is accepted
    // for the SubgroupSize execution mode; its instructions are unknown opcodes to the
    // decoder.)
    for (minor, cap) in [(1, "PipeStorage"), (1, "NamedBarrier"), (6, "DotProduct")] {
        let caps = format!(" OpCapability {cap}\n");
        refused(
            &bytes(
                Parts {
                    caps: &caps,
                    ..Parts::default()
                },
                minor,
                false,
            ),
            &[cap],
        );
    }
    // The instructions themselves are refused by name when the capability check is passed
    // (a module declaring only capabilities the engine has).
    let pipe = Parts {
        globals: " %ps = OpTypePipeStorage\n",
        ..Parts::default()
    };
    refused(&bytes(pipe, 1, false), &["OpTypePipeStorage"]);
}

/// A struct holding a pointer to its own type, `{ ulong v; node *next }` in `__global`, and
/// `sum_list(node *p)`, the sum of the values from `p` to the end of its list.
const NODE: &str = " OpTypeForwardPointer %pnode CrossWorkgroup\n \
                    %node = OpTypeStruct %ulong %pnode\n \
                    %pnode = OpTypePointer CrossWorkgroup %node\n \
                    %p_next = OpTypePointer CrossWorkgroup %pnode\n \
                    %sty = OpTypeFunction %ulong %pnode\n";

const SUM_LIST: &str = " %sum_list = OpFunction %ulong None %sty\n \
    %sp = OpFunctionParameter %pnode\n %s0 = OpLabel\n OpBranch %head\n \
    %head = OpLabel\n %cur = OpPhi %pnode %sp %s0 %nxt %body\n \
    %acc = OpPhi %ulong %c0 %s0 %acc2 %body\n %curu = OpConvertPtrToU %ulong %cur\n \
    %isnull = OpIEqual %bool %curu %c0\n OpLoopMerge %done %body None\n \
    OpBranchConditional %isnull %done %body\n \
    %body = OpLabel\n %pv = OpInBoundsAccessChain %p_glob %cur %u0\n \
    %val = OpLoad %ulong %pv\n %acc2 = OpIAdd %ulong %acc %val\n \
    %pn = OpInBoundsAccessChain %p_next %cur %u1\n %nxt = OpLoad %pnode %pn\n \
    OpBranch %head\n %done = OpLabel\n OpReturnValue %acc\n OpFunctionEnd\n";

#[test]
fn recursive_struct_types_link_across_modules() {
    let exporter = build14(Parts {
        decor: " OpDecorate %sum_list LinkageAttributes \"sum_list\" Export\n",
        globals: NODE,
        funcs: SUM_LIST,
        ..Parts::default()
    });
    // The importer builds the list v -> 2v -> 5 in its output row and sums it.
    let importer = build14(Parts {
        decor: " OpDecorate %sum_list LinkageAttributes \"sum_list\" Import\n",
        // The declaration ends the module-scope section: declarations come before the
        // definitions.
        globals: &format!(
            "{NODE} %null = OpConstantNull %pnode\n %sum_list = OpFunction %ulong None %sty\n \
             %ip = OpFunctionParameter %pnode\n OpFunctionEnd\n"
        ),
        body: &[
            " %n0 = OpBitcast %pnode %row\n \
             %r2 = OpInBoundsPtrAccessChain %p_glob %row %c2\n %n1 = OpBitcast %pnode %r2\n \
             %r4 = OpInBoundsPtrAccessChain %p_glob %row %c4\n %n2 = OpBitcast %pnode %r4\n \
             %v2 = OpIMul %ulong %v %c2\n \
             %a0 = OpInBoundsAccessChain %p_glob %n0 %u0\n OpStore %a0 %v\n \
             %b0 = OpInBoundsAccessChain %p_next %n0 %u1\n OpStore %b0 %n1\n \
             %a1 = OpInBoundsAccessChain %p_glob %n1 %u0\n OpStore %a1 %v2\n \
             %b1 = OpInBoundsAccessChain %p_next %n1 %u1\n OpStore %b1 %n2\n \
             %a2 = OpInBoundsAccessChain %p_glob %n2 %u0\n OpStore %a2 %c5\n \
             %b2 = OpInBoundsAccessChain %p_next %n2 %u1\n OpStore %b2 %null\n \
             %s = OpFunctionCall %ulong %sum_list %n0\n"
                .to_string(),
            put(6, "%s"),
        ]
        .concat(),
        ..Parts::default()
    });
    assert_eq!(importer.unlinked("k"), Some(vec!["sum_list".to_string()]));
    Program::link(&[&importer, &exporter]).unwrap_or_else(|e| panic!("{}", e.log));
    let out = run(&importer, &[10, 100], 1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!([out[0][6], out[1][6]], [35, 305]);
}

#[test]
fn forward_pointers_never_declared_or_declared_in_another_class_are_refused() {
    let p = Parts {
        globals: " OpTypeForwardPointer %pn CrossWorkgroup\n %n = OpTypeStruct %ulong %pn\n",
        ..Parts::default()
    };
    refused(
        &bytes(p, 4, false),
        &["OpTypeForwardPointer", "without its OpTypePointer"],
    );
    let p = Parts {
        globals: " OpTypeForwardPointer %pn CrossWorkgroup\n %n = OpTypeStruct %ulong %pn\n \
                  %pn = OpTypePointer Function %n\n",
        ..Parts::default()
    };
    refused(
        &bytes(p, 4, false),
        &["forward-declared in storage class CrossWorkgroup"],
    );
}
