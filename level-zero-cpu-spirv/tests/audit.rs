//! The audit of "unknown → zero/default" paths (issue 12): every operand, decoration,
//! instruction or value the engine could have run as something else is either implemented
//! (and checked here for the right result) or fails the build with a log naming it. One test
//! per path; the table is in docs/ARCHITECTURE.md, "What the engine refuses".
//!
//! Each module is `tests/spvasm/audit.spvasm` with the test's pieces filled in.

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, ExecError, Program};

/// The pieces a test fills into the template.
#[derive(Default, Clone, Copy)]
struct Parts<'a> {
    caps: &'a str,
    decor: &'a str,
    globals: &'a str,
    vars: &'a str,
    body: &'a str,
}

fn text(p: Parts<'_>) -> String {
    spvasm("audit")
        .replace("@CAPS@", p.caps)
        .replace("@DECOR@", p.decor)
        .replace("@GLOBALS@", p.globals)
        .replace("@VARS@", p.vars)
        .replace("@BODY@", p.body)
}

/// `OpStore out[k] = v` (k < 8; `v` a `ulong`).
fn put(k: u32, v: &str) -> String {
    format!(" %po{k} = OpInBoundsPtrAccessChain %p_glob %out %c{k}\n OpStore %po{k} {v}\n")
}

fn build_with(bytes: &[u8], spec: &[(u32, &[u8])]) -> Result<Program, String> {
    Program::build(
        bytes,
        &BuildOptions {
            flags: "",
            spec_constants: spec,
            ..Default::default()
        },
    )
    .map_err(|e| e.log)
}

/// Builds the module (validated by `spirv-val` for `env`, when given).
fn build(p: Parts<'_>, env: Option<&str>) -> Result<Program, String> {
    build_with(&assemble(&text(p), env), &[])
}

/// The module must fail to build, its log naming every word of `words`.
fn refused(p: Parts<'_>, env: Option<&str>, words: &[&str]) {
    match build(p, env) {
        Ok(_) => panic!(
            "built, but should have been refused ({words:?}):\n{}",
            text(p)
        ),
        Err(log) => {
            for w in words {
                assert!(log.contains(w), "log {log:?} does not name {w:?}");
            }
        }
    }
}

/// Runs `k` over `n` work-items (one group) with an 8-`ulong` output per work-item filled
/// with `fill`; returns the output and the printf text.
fn run_n(p: &Program, n: u32, fill: u64) -> Result<(Vec<u64>, String), ExecError> {
    let mut m = Mem::default();
    let out = m.add(&vec![fill; 8 * n as usize]);
    let text = m.run1(p, "k", &[A::Buf(out)], n, n)?;
    assert!(m.guards_intact(out));
    Ok((m.get::<u64>(out), text))
}

fn run(p: &Program) -> Vec<u64> {
    run_n(p, 1, 0xdead).unwrap_or_else(|e| panic!("{e}")).0
}

/// The error of what must fail.
fn must_fail<T, E>(r: Result<T, E>) -> E {
    match r {
        Ok(_) => panic!("succeeded, but should have failed"),
        Err(e) => e,
    }
}

const OCL: Option<&str> = Some("opencl1.2");

#[test]
fn saturated_integer_conversions_clamp() {
    // What the LLVM/SPIR-V translator emits for convert_char_sat(int),
    // convert_uchar_sat(uint), convert_short_sat(long): OpSConvert/OpUConvert decorated
    // SaturatedConversion. They used to wrap (300 -> 44).
    let globals = "%i300 = OpConstant %uint 300\n%im300 = OpConstant %uint 0xfffffed4\n\
                   %l70k = OpConstant %ulong 70000";
    let decor = "OpDecorate %a SaturatedConversion\nOpDecorate %b SaturatedConversion\n\
                 OpDecorate %c SaturatedConversion\nOpDecorate %d SaturatedConversion\n\
                 OpDecorate %w SaturatedConversion";
    let mut body = String::from(
        " %a = OpSConvert %uchar %i300\n %b = OpSConvert %uchar %im300\n\
          %c = OpUConvert %uchar %i300\n %d = OpSConvert %ushort %l70k\n\
          %e = OpSConvert %uchar %i300\n %w = OpSConvert %ulong %im300\n\
          %a64 = OpUConvert %ulong %a\n %b64 = OpUConvert %ulong %b\n\
          %c64 = OpUConvert %ulong %c\n %d64 = OpUConvert %ulong %d\n %e64 = OpUConvert %ulong %e\n",
    );
    for (k, v) in ["%a64", "%b64", "%c64", "%d64", "%e64", "%w"]
        .iter()
        .enumerate()
    {
        body += &put(k as u32, v);
    }
    let p = build(
        Parts {
            decor,
            globals,
            body: &body,
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    let out = run(&p);
    // char 127, char -128, uchar 255, short 32767, unsaturated 300 -> 44, widening -300.
    assert_eq!(
        &out[..6],
        &[127, 0x80, 255, 32767, 44, (-300i64) as u64],
        "{out:x?}"
    );
}

#[test]
fn conversion_decorations_on_other_instructions_are_refused() {
    let globals = "%f1 = OpConstant %float 1.5";
    let body = " %s = OpIAdd %ulong %x %c1\n %f = OpFAdd %float %f1 %f1\n";
    refused(
        Parts {
            decor: "OpDecorate %s SaturatedConversion",
            globals,
            body,
            ..Parts::default()
        },
        None,
        &["SaturatedConversion", "OpIAdd"],
    );
    refused(
        Parts {
            decor: "OpDecorate %f FPRoundingMode RTZ",
            globals,
            body,
            ..Parts::default()
        },
        None,
        &["FPRoundingMode", "OpFAdd"],
    );
    // On a module-scope value.
    refused(
        Parts {
            decor: "OpDecorate %f1 FPRoundingMode RTZ",
            globals,
            body,
            ..Parts::default()
        },
        None,
        &["FPRoundingMode", "not a conversion"],
    );
    // On an integer conversion: valid OpenCL C (convert_uchar_rte(uint)), nothing to round.
    let p = build(
        Parts {
            decor: "OpDecorate %n FPRoundingMode RTZ",
            globals: "%i300 = OpConstant %uint 300",
            body: &format!(" %n = OpUConvert %ulong %i300\n{}", put(0, "%n")),
            ..Parts::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(run(&p)[0], 300);
}

#[test]
fn memory_operands_outside_the_opencl_model_are_refused() {
    // Honoured: Volatile, Aligned, Nontemporal.
    let p = build(
        Parts {
            body: " OpStore %out_x %c5 Volatile|Aligned|Nontemporal 8\n\
                    %l = OpLoad %ulong %out_x Volatile|Aligned 8\n %l2 = OpIAdd %ulong %l %c1\n\
                    %p1 = OpInBoundsPtrAccessChain %p_glob %out %c1\n OpStore %p1 %l2 Nontemporal\n",
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    assert_eq!(&run(&p)[..2], &[5, 6]);
    // The Vulkan memory model's bits change what an access means: refused by name. (The
    // Intel aliasing masks are hints: tests/hints.rs.)
    refused(
        Parts {
            body: " OpStore %out_x %c5 NonPrivatePointer\n",
            ..Parts::default()
        },
        None,
        &["NON_PRIVATE_POINTER", "OpStore"],
    );
    refused(
        Parts {
            body: " %l = OpLoad %ulong %out_x MakePointerVisible %s_wg\n",
            ..Parts::default()
        },
        None,
        &["MAKE_POINTER_VISIBLE", "OpLoad"],
    );
}

#[test]
fn barrier_scopes_other_than_work_group_and_sub_group_are_refused() {
    // Workgroup: a barrier; Subgroup (one work-item here): a fence. Both run.
    let body = " OpControlBarrier %s_wg %s_wg %sem_wgm\n OpControlBarrier %s_sg %s_sg %sem_wgm\n";
    let p = build(
        Parts {
            body: &format!("{body} OpStore %out_x %x\n"),
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    let (out, _) = run_n(&p, 4, 0).unwrap();
    assert_eq!(&out[..4], &[0, 1, 2, 3]);
    // A device-wide barrier used to run as a work-group barrier.
    refused(
        Parts {
            body: " OpControlBarrier %s_dev %s_dev %sem_wgm\n",
            ..Parts::default()
        },
        None,
        &["execution scope Device", "OpControlBarrier"],
    );
    // A scope that is not a constant used to run as a fence.
    refused(
        Parts {
            body: " %sc = OpUConvert %uint %x\n OpControlBarrier %sc %s_wg %sem_wgm\n",
            ..Parts::default()
        },
        None,
        &["not a constant", "OpControlBarrier"],
    );
}

#[test]
fn sub_group_async_copies_and_waits_are_refused() {
    let globals = "%event = OpTypeEvent\n%p_ev = OpTypePointer Function %event\n\
                   %ev0 = OpConstantNull %event\n%u1 = OpConstant %uint 1";
    refused(
        Parts {
            globals,
            vars: " %evs = OpVariable %p_ev Function",
            body: " OpGroupWaitEvents %s_sg %u1 %evs\n",
            ..Parts::default()
        },
        None,
        &["Subgroup", "OpGroupWaitEvents"],
    );
    refused(
        Parts {
            globals,
            body: " %p1 = OpInBoundsPtrAccessChain %p_glob %out %c1\n\
                    %e = OpGroupAsyncCopy %event %s_sg %out_x %p1 %c1 %c1 %ev0\n",
            ..Parts::default()
        },
        None,
        &["Subgroup", "OpGroupAsyncCopy"],
    );
}

#[test]
fn a_vstore_half_r_rounding_mode_out_of_range_is_refused() {
    // 1 + 2^-11 + 2^-20: just above the half-way point between the halves 1.0 (0x3c00)
    // and 1 + 2^-10 (0x3c01).
    let globals =
        "%p_glob_half = OpTypePointer CrossWorkgroup %half\n%f1 = OpConstant %float 0x1.00201p+0";
    let body = " %hp = OpBitcast %p_glob_half %out_x\n\
                %r = OpExtInst %void %std vstore_half_r %f1 %c0 %hp @RM@\n";
    // The mode is honoured (every mode used to round to nearest even); mode 9 does not
    // exist.
    for (rm, half) in [
        ("RTE", 0x3c01),
        ("RTZ", 0x3c00),
        ("RTP", 0x3c01),
        ("RTN", 0x3c00),
    ] {
        let p = build(
            Parts {
                globals,
                body: &body.replace("@RM@", rm),
                ..Parts::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(run(&p)[0] & 0xffff, half, "{rm}");
    }
    let bytes = assemble(
        &text(Parts {
            globals,
            body: &body.replace("@RM@", "RTZ"),
            ..Parts::default()
        }),
        None,
    );
    // Patch the rounding-mode word (the last operand of the OpExtInst) to 9.
    let mut words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let at = (5..words.len())
        .find(|&k| words[k] & 0xffff == 12 && words[k] >> 16 == 9)
        .expect("the vstore_half_r instruction");
    words[at + 8] = 9;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let log = must_fail(build_with(&bytes, &[]));
    assert!(
        log.contains("rounding mode 9") && log.contains("vstore_half_r"),
        "{log}"
    );
}

#[test]
fn op_size_of_is_the_pointee_size() {
    // OpSizeOf (SPIR-V 1.1): OpenCL C sizeof, padding included.
    let globals = "%st = OpTypeStruct %uchar %ulong\n%p_st = OpTypePointer CrossWorkgroup %st\n\
                   %v3f = OpTypeVector %float 3\n%p_v3f = OpTypePointer CrossWorkgroup %v3f";
    let body = format!(
        " %ps = OpBitcast %p_st %out\n %pv = OpBitcast %p_v3f %out\n\
          %s1 = OpSizeOf %ulong %ps\n %s2 = OpSizeOf %uint %pv\n %s2l = OpUConvert %ulong %s2\n{}{}",
        put(0, "%s1"),
        put(1, "%s2l")
    );
    let bytes = assemble_for(
        "spv1.1",
        &text(Parts {
            globals,
            body: &body,
            ..Parts::default()
        }),
        Some("opencl2.2"),
    );
    let p = build_with(&bytes, &[]).unwrap();
    assert_eq!(&run(&p)[..2], &[16, 16]);
}

#[test]
fn a_float_encoding_other_than_ieee_is_refused() {
    // `OpTypeFloat 16 BFloat16KHR` (SPV_KHR_bfloat16): the assembler here predates it, so
    // the encoding operand is added to the module's first OpTypeFloat 16 by hand.
    let bytes = assemble(&text(Parts::default()), None);
    let mut words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let at = (5..words.len())
        .find(|&k| words[k] == (3 << 16 | 22) && words[k + 2] == 16)
        .expect("OpTypeFloat 16");
    words[at] = 4 << 16 | 22;
    words.insert(at + 3, 0); // BFloat16KHR
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let log = must_fail(build_with(&bytes, &[]));
    assert!(
        log.contains("floating-point encoding") && log.contains("OpTypeFloat"),
        "{log}"
    );
}

#[test]
fn workgroup_variables_take_zero_initializers_only() {
    let globals = "%p_wg = OpTypePointer Workgroup %ulong\n%z = OpConstantNull %ulong\n\
                   %wz = OpVariable %p_wg Workgroup %z";
    let p = build(
        Parts {
            globals,
            body: &format!(" %l = OpLoad %ulong %wz\n{}", put(0, "%l")),
            ..Parts::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(run(&p)[0], 0);
    // A non-zero initializer used to be dropped (the variable read 0).
    refused(
        Parts {
            globals: &format!("{globals}\n%w5 = OpVariable %p_wg Workgroup %c5"),
            body: &format!(" %l = OpLoad %ulong %w5\n{}", put(0, "%l")),
            ..Parts::default()
        },
        None,
        &["initializer", "Workgroup"],
    );
}

#[test]
fn switch_on_a_64_bit_selector_compares_all_64_bits() {
    let globals = "%hi = OpConstant %ulong 0x100000000\n%r11 = OpConstant %ulong 11\n\
                   %r22 = OpConstant %ulong 22\n%r33 = OpConstant %ulong 33";
    let body = " %sel = OpBitwiseOr %ulong %x %hi\n OpSelectionMerge %m None\n\
                OpSwitch %sel %def 0x100000001 %one 1 %low 0 %low\n\
                %one = OpLabel\n OpStore %out_x %r11\n OpBranch %m\n\
                %low = OpLabel\n OpStore %out_x %r22\n OpBranch %m\n\
                %def = OpLabel\n OpStore %out_x %r33\n OpBranch %m\n\
                %m = OpLabel\n";
    let p = build(
        Parts {
            globals,
            body,
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    let (out, _) = run_n(&p, 2, 0).unwrap();
    // x = 0: 0x1_0000_0000 is no case (it matches `0` if truncated); x = 1 matches the
    // 64-bit case (it matches `1` if truncated).
    assert_eq!((out[0], out[1]), (33, 11), "{out:?}");
}

#[test]
fn spec_constants_default_to_their_own_value() {
    let decor = "OpDecorate %sc SpecId 7\nOpDecorate %sb SpecId 8";
    let globals = "%sc = OpSpecConstant %ulong 42\n%sb = OpSpecConstantTrue %bool";
    let body = format!(
        " %b = OpSelect %ulong %sb %c1 %c2\n{}{}",
        put(0, "%sc"),
        put(1, "%b")
    );
    let parts = Parts {
        decor,
        globals,
        body: &body,
        ..Parts::default()
    };
    let bytes = assemble(&text(parts), OCL);
    // None given: the OpSpecConstant's own value (not zero).
    let p = build_with(&bytes, &[]).unwrap();
    assert_eq!(&run(&p)[..2], &[42, 1]);
    // Given: the value, and false for the boolean.
    let v = 5u64.to_le_bytes();
    let p = build_with(&bytes, &[(7, &v), (8, &[0])]).unwrap();
    assert_eq!(&run(&p)[..2], &[5, 2]);
}

#[test]
fn op_constant_null_is_zero_for_every_type() {
    let globals = "%st = OpTypeStruct %uchar %float %p_glob %v2uint\n\
                   %p_st = OpTypePointer CrossWorkgroup %st\n\
                   %arr = OpTypeArray %ulong %c3\n%p_arr = OpTypePointer CrossWorkgroup %arr\n\
                   %ns = OpConstantNull %st\n%na = OpConstantNull %arr\n\
                   %np = OpConstantNull %p_glob\n%nv = OpConstantNull %v4float\n\
                   %nb = OpConstantNull %bool\n%nh = OpConstantNull %half\n\
                   %nd = OpConstantNull %double\n%nl = OpConstantNull %ulong";
    // out[0..4] = the struct (32 bytes), out[4..7] = the array, out[7] = the rest, OR-ed.
    let body = " %ps = OpBitcast %p_st %out\n OpStore %ps %ns\n\
                %a4 = OpInBoundsPtrAccessChain %p_glob %out %c4\n\
                %pa = OpBitcast %p_arr %a4\n OpStore %pa %na\n\
                %pu = OpConvertPtrToU %ulong %np\n\
                %v0 = OpCompositeExtract %float %nv 3\n %v0d = OpFConvert %double %v0\n\
                %v0u = OpBitcast %ulong %v0d\n\
                %bu = OpSelect %ulong %nb %c7 %c0\n\
                %hd = OpFConvert %double %nh\n %hu = OpBitcast %ulong %hd\n\
                %du = OpBitcast %ulong %nd\n\
                %o1 = OpBitwiseOr %ulong %pu %v0u\n %o2 = OpBitwiseOr %ulong %o1 %bu\n\
                %o3 = OpBitwiseOr %ulong %o2 %hu\n %o4 = OpBitwiseOr %ulong %o3 %du\n\
                %o5 = OpBitwiseOr %ulong %o4 %nl\n\
                %a7 = OpInBoundsPtrAccessChain %p_glob %out %c7\n OpStore %a7 %o5\n";
    let p = build(
        Parts {
            globals,
            body,
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    let out = run(&p);
    // The struct's padding keeps what was there (0xdead in byte 1..8's low bytes of word 0
    // are overwritten by the uchar only): check every leaf instead.
    let bytes: Vec<u8> = out.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(bytes[0], 0, "uchar");
    assert_eq!(&bytes[4..8], &[0; 4], "float");
    assert_eq!(&bytes[8..16], &[0; 8], "pointer");
    assert_eq!(&bytes[16..24], &[0; 8], "uint2");
    assert_eq!(&out[4..8], &[0; 4], "{out:x?}");
}

#[test]
fn undef_builds_and_runs() {
    // OpUndef may be any value (the engine reads zero); only that it builds and runs is
    // asserted, plus that a value computed from it is not used as anything else.
    let p = build(
        Parts {
            globals: "%u = OpUndef %ulong",
            body: &format!(" %y = OpBitwiseAnd %ulong %u %c0\n{}", put(0, "%y")),
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    assert_eq!(run(&p)[0], 0);
}

#[test]
fn lifetime_markers_do_not_change_results() {
    let p = build(
        Parts {
            vars: " %v = OpVariable %p_fn Function",
            body: &format!(
                " OpStore %v %x\n %vb = OpBitcast %p_fn_u8 %v\n OpLifetimeStart %vb 8\n\
                  OpStore %v %c6\n %l = OpLoad %ulong %v\n OpLifetimeStop %vb 8\n{}",
                put(0, "%l")
            ),
            globals: "%p_fn_u8 = OpTypePointer Function %uchar",
            ..Parts::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(run(&p)[0], 6);
}

#[test]
fn unreachable_blocks_are_checked_and_never_run() {
    // A block no branch reaches: decoded (what it holds must be supported), never run.
    let body = format!(
        "{} OpReturn\n %dead = OpLabel\n{}",
        put(0, "%c4"),
        put(1, "%c5")
    );
    let p = build(
        Parts {
            body: &body,
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    assert_eq!(&run(&p)[..2], &[4, 0xdead]);
    refused(
        Parts {
            body: " OpReturn\n %dead = OpLabel\n %q = OpBitReverse %ulong %x\n",
            ..Parts::default()
        },
        None,
        &["OpBitReverse"],
    );
    // OpUnreachable reached: the launch fails, naming it.
    let p = build(
        Parts {
            body: " OpUnreachable\n %after = OpLabel\n",
            ..Parts::default()
        },
        None,
    )
    .unwrap();
    let e = must_fail(run_n(&p, 1, 0));
    assert!(e.to_string().contains("OpUnreachable"), "{e}");
}

#[test]
fn a_named_barrier_is_refused() {
    // It used to be decoded as a no-op.
    refused(
        Parts {
            body: " OpMemoryNamedBarrier %x %s_wg %sem_wgm\n",
            ..Parts::default()
        },
        None,
        &["OpMemoryNamedBarrier"],
    );
}

#[test]
fn a_component_of_a_built_in_past_z_is_refused() {
    refused(
        Parts {
            body: " %w = OpCompositeExtract %ulong %gv 3\n",
            ..Parts::default()
        },
        None,
        &["component 3", "GlobalId"],
    );
}

#[test]
fn printf_honours_length_modifiers_and_refuses_bad_vector_specifiers() {
    // "%hhd|%v2hld\n": 300 prints as a char (44), the uint2 as its two components.
    let fmt = b"%hhd|%v2hld\n\0";
    let chars: Vec<String> = fmt.iter().map(|b| format!("%ch{b}")).collect();
    let mut globals = String::new();
    let mut seen = std::collections::HashSet::new();
    for b in fmt {
        if seen.insert(*b) {
            globals += &format!("%ch{b} = OpConstant %uchar {b}\n");
        }
    }
    globals += &format!(
        "%len = OpConstant %ulong {}\n%fmt_t = OpTypeArray %uchar %len\n\
         %p_fmt = OpTypePointer UniformConstant %fmt_t\n\
         %p_uc = OpTypePointer UniformConstant %uchar\n\
         %fmt_c = OpConstantComposite %fmt_t {}\n\
         %fmt = OpVariable %p_fmt UniformConstant %fmt_c\n\
         %i300 = OpConstant %uint 300\n%i1 = OpConstant %uint 1\n\
         %im1 = OpConstant %uint 0xffffffff\n%v = OpConstantComposite %v2uint %i1 %im1\n",
        fmt.len(),
        chars.join(" ")
    );
    let body = " %fp = OpInBoundsPtrAccessChain %p_uc %fmt %c0 %c0\n\
                %r = OpExtInst %uint %std printf %fp %i300 %v\n";
    let p = build(
        Parts {
            globals: &globals,
            body,
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    let (_, text) = run_n(&p, 1, 0).unwrap();
    assert_eq!(text, "44|1,-1\n");
    // A `%v4` specifier for a 2-component vector fails the launch, naming it (it used to
    // print 2 components).
    let bad = globals.replace(
        "%ch50 = OpConstant %uchar 50",
        "%ch50 = OpConstant %uchar 52",
    );
    let p = build(
        Parts {
            globals: &bad,
            body,
            ..Parts::default()
        },
        OCL,
    )
    .unwrap();
    let e = must_fail(run_n(&p, 1, 0));
    assert!(e.to_string().contains("%v4"), "{e}");
}

/// OpenCL.std `nextafter` (dpnp.tensor's `nextafter` kernel uses it): the next value of x's
/// type toward y, in that type's representation (a half computed in f32 would round back).
#[test]
fn nextafter_steps_one_value_in_its_own_type() {
    /// (x, y, the expected result's bits)
    type Case = (&'static str, &'static str, u64);
    // (type, bits type, bit width, cases)
    let cases: [(&str, &str, u32, [Case; 8]); 3] = [
        (
            "float",
            "uint",
            32,
            [
                ("1.0", "2.0", 0x3f80_0001),
                ("1.0", "0.0", 0x3f7f_ffff),
                ("0.0", "-1.0", 0x8000_0001),
                ("-0.0", "1.0", 0x0000_0001),
                ("-1.0", "-2.0", 0xbf80_0001),
                ("0x1.fffffep+127", "0x1p+128", 0x7f80_0000),
                ("2.0", "2.0", 0x4000_0000),
                ("0x1p-149", "0.0", 0),
            ],
        ),
        (
            "double",
            "ulong",
            64,
            [
                ("1.0", "2.0", 0x3ff0_0000_0000_0001),
                ("1.0", "0.0", 0x3fef_ffff_ffff_ffff),
                ("0.0", "-1.0", 0x8000_0000_0000_0001),
                ("-0.0", "1.0", 1),
                ("-1.0", "0.0", 0xbfef_ffff_ffff_ffff),
                (
                    "0x1.fffffffffffffp+1023",
                    "0x1p+1024",
                    0x7ff0_0000_0000_0000,
                ),
                ("-3.0", "-3.0", 0xc008_0000_0000_0000),
                ("0x1p-1022", "0.0", 0x000f_ffff_ffff_ffff),
            ],
        ),
        (
            "half",
            "ushort",
            16,
            [
                ("1.0", "2.0", 0x3c01),
                ("1.0", "0.0", 0x3bff),
                ("0.0", "-1.0", 0x8001),
                ("-0.0", "1.0", 0x0001),
                ("-1.0", "0.0", 0xbbff),
                ("0x1.ffcp+15", "0x1p+16", 0x7c00),
                ("1.0", "1.0", 0x3c00),
                ("0x1p-24", "0.0", 0),
            ],
        ),
    ];
    for (ty, bits, w, list) in cases {
        let mut globals = String::new();
        let mut body = String::new();
        for (k, (x, y, _)) in list.iter().enumerate() {
            globals += &format!(" %x{k} = OpConstant %{ty} {x}\n %y{k} = OpConstant %{ty} {y}\n");
            body += &format!(
                " %r{k} = OpExtInst %{ty} %std nextafter %x{k} %y{k}\n %b{k} = OpBitcast %{bits} %r{k}\n"
            );
            let v = if w == 64 {
                format!("%b{k}")
            } else {
                body += &format!(" %u{k} = OpUConvert %ulong %b{k}\n");
                format!("%u{k}")
            };
            body += &put(k as u32, &v);
        }
        let p = build(
            Parts {
                caps: " OpCapability Float16\n",
                globals: &globals,
                body: &body,
                ..Parts::default()
            },
            None,
        )
        .unwrap_or_else(|log| panic!("{ty}: {log}"));
        let want: Vec<u64> = list.iter().map(|c| c.2).collect();
        assert_eq!(run(&p), want, "nextafter on {ty}");
    }
}

#[test]
fn an_operand_of_a_type_its_instruction_does_not_take_is_refused() {
    // Each used to build and compute from whatever the operand's slots held: a private
    // variable's address (different on each engine: the fuzzer's find), a float's bits, a
    // scalar's neighbours as a vector's components.
    let globals = "%p_fn_float = OpTypePointer Function %float\n\
                   %d1 = OpConstant %double 1.5\n%u1 = OpConstant %uint 1\n\
                   %f1 = OpConstant %float 1.5\n%bt = OpConstantTrue %bool\n\
                   %s1 = OpTypeStruct %ulong\n%s2 = OpTypeStruct %ulong\n\
                   %p_fn_s1 = OpTypePointer Function %s1";
    let vars = " %v = OpVariable %p_fn Function\n %vf = OpVariable %p_fn_float Function\n\
                %vs = OpVariable %p_fn_s1 Function";
    for (body, words) in [
        (
            " %r = OpIMul %ulong %v %c1\n",
            &["OpIMul", "operand 0", "pointer"][..],
        ),
        (
            " %r = OpIAdd %ulong %c1 %d1\n",
            &["OpIAdd", "operand 1", "64-bit float"],
        ),
        (
            " %r = OpIAdd %v2uint %u1 %u1\n",
            &["OpIAdd", "operand 0", "a 32-bit integer", "vector of 2"],
        ),
        (" %r = OpFAdd %float %u1 %f1\n", &["OpFAdd", "operand 0"]),
        (" %r = OpFAdd %uint %u1 %u1\n", &["OpFAdd", "the result"]),
        (" %r = OpIEqual %bool %c1 %u1\n", &["OpIEqual", "operand 1"]),
        (
            " %r = OpShiftLeftLogical %ulong %c1 %f1\n",
            &["OpShiftLeftLogical", "shift"],
        ),
        (
            " %r = OpLogicalAnd %bool %bt %u1\n",
            &["OpLogicalAnd", "operand 1"],
        ),
        (
            " %r = OpIsNan %bool %u1\n",
            &["OpIsNan", "operand 0", "float"],
        ),
        (
            " %r = OpConvertUToF %float %v\n",
            &["OpConvertUToF", "pointer"],
        ),
        (
            " %r = OpConvertFToU %uint %u1\n",
            &["OpConvertFToU", "float"],
        ),
        (
            " %r = OpUConvert %v2uint %c1\n",
            &["OpUConvert", "the result"],
        ),
        (
            " %r = OpSelect %ulong %u1 %c1 %c2\n",
            &["OpSelect", "condition"],
        ),
        (
            " %r = OpSelect %ulong %bt %c1 %u1\n",
            &["OpSelect", "object 2"],
        ),
        (
            " %r = OpExtInst %float %std fabs %vf\n",
            &["fabs", "argument 0", "pointer"],
        ),
        (
            " %r = OpExtInst %float %std fract %vf %vf\n",
            &["fract", "argument 0", "pointer"],
        ),
        // The address of a private variable stored as an integer, an integer loaded as a
        // smaller one.
        (
            " %po = OpInBoundsPtrAccessChain %p_glob %out %c0\n OpStore %po %v\n",
            &["OpStore", "object"],
        ),
        (" %r = OpLoad %uint %v\n", &["OpLoad", "result type"]),
    ] {
        refused(
            Parts {
                globals,
                vars,
                body,
                ..Parts::default()
            },
            None,
            words,
        );
    }
    // Pointers where the instructions take them still build and run: a select of two
    // pointers, `fract`'s pointer argument, a pointer's address as an integer; and a value
    // of a struct type declared twice, stored and loaded through a pointer to the other.
    let body = " OpStore %v %c3\n %ok = OpSelect %p_fn %bt %v %v\n %l = OpLoad %ulong %ok\n\
                %fr = OpExtInst %float %std fract %f1 %vf\n %w = OpLoad %float %vf\n\
                %fr2 = OpFAdd %float %fr %fr\n %w2 = OpFAdd %float %w %w\n\
                %sum = OpFAdd %float %fr2 %w2\n %su = OpConvertFToU %ulong %sum\n\
                %a = OpConvertPtrToU %ulong %v\n %nz = OpINotEqual %bool %a %c0\n\
                %one = OpSelect %ulong %nz %c1 %c0\n\
                %s = OpCompositeConstruct %s2 %c4\n OpStore %vs %s\n\
                %ls = OpLoad %s2 %vs\n %four = OpCompositeExtract %ulong %ls 0\n"
        .to_string()
        + &put(0, "%l")
        + &put(1, "%su")
        + &put(2, "%one")
        + &put(3, "%four");
    let p = build(
        Parts {
            globals,
            vars,
            body: &body,
            ..Parts::default()
        },
        // spirv-val takes the two struct types for different ones (the engine, which only
        // needs the layout, accepts it).
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // fract(1.5) = 0.5 with 1.0 stored: 2 * 0.5 + 2 * 1.0.
    assert_eq!(run(&p)[..4], [3, 3, 1, 4]);
}
