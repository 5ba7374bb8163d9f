//! Integers of any width from 1 to 64 bits (`ArbitraryPrecisionIntegersINTEL`, what clang -O2
//! and llvm-spirv make of narrowed switches and closed-form loops): arithmetic, comparisons,
//! conversions, shifts, switch selectors, constants, specialization constants, kernel
//! arguments and memory all honour the width; wider integers are refused naming the width.
//! Registers hold such an integer zero-extended to its width; memory holds it in the smallest
//! of 1, 2, 4, 8 bytes that holds it (its alignment too), loads keep the low bits and stores
//! write the value zero-extended. The kernels of `kernels/arbitrary_int.cl` are in
//! `kernel_cases.rs`.
//!
//! Each module is `tests/spvasm/arbitrary_ints.spvasm` with the test's pieces filled in,
//! assembled by `spirv-as` (bookworm's `spirv-val` rejects integer widths other than 8, 16,
//! 32, 64 whatever the capability, so the modules are not validated).

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, Program};

/// The pieces a test fills into the template.
#[derive(Clone, Copy, Default)]
struct Parts<'a> {
    caps: &'a str,
    decor: &'a str,
    types: &'a str,
    globals: &'a str,
    param_types: &'a str,
    params: &'a str,
    body: &'a str,
    funcs: &'a str,
}

fn text(p: Parts<'_>) -> String {
    spvasm("arbitrary_ints")
        .replace("@CAPS@", p.caps)
        .replace("@DECOR@", p.decor)
        .replace("@TYPES@", p.types)
        .replace("@GLOBALS@", p.globals)
        .replace("@PARAM_TYPES@", p.param_types)
        .replace("@PARAMS@", p.params)
        .replace("@BODY@", p.body)
        .replace("@FUNCS@", p.funcs)
}

fn build_with(p: Parts<'_>, spec: &[(u32, &[u8])]) -> Result<Program, String> {
    let options = BuildOptions {
        spec_constants: spec,
        ..Default::default()
    };
    Program::build(&assemble(&text(p), None), &options).map_err(|e| e.log)
}

fn build(p: Parts<'_>) -> Program {
    build_with(p, &[]).unwrap_or_else(|log| panic!("{log}\n{}", text(p)))
}

/// The module must fail to build, its log naming every word of `words`.
fn refused(p: Parts<'_>, words: &[&str]) {
    match build_with(p, &[]) {
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

/// `out[16x + k] = v` (`v` a `ulong`).
fn put(k: u32, v: &str) -> String {
    format!(" %pr{k} = OpInBoundsPtrAccessChain %p_glob %row %c{k}\n OpStore %pr{k} {v}\n")
}

/// `out[16x + k] = v` zero-extended (`v` a narrower integer).
fn put_wide(k: u32, v: &str) -> String {
    format!(
        " %w{k} = OpUConvert %ulong {v}\n{}",
        put(k, &format!("%w{k}"))
    )
}

/// Runs `k` over one work-item per input pair, with `extra` arguments after the two buffers;
/// returns the 16 output values of each.
fn run(p: &Program, inputs: &[(u64, u64)], extra: Vec<A>) -> Vec<[u64; 16]> {
    let mut m = Mem::default();
    let n = inputs.len();
    let flat: Vec<u64> = inputs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let (out, inp) = (m.add(&vec![0xdead_u64; 16 * n]), m.add(&flat));
    let mut args = vec![A::Buf(out), A::Buf(inp)];
    args.extend(extra);
    m.run1(p, "k", &args, n as u32, 1)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(m.guards_intact(out));
    m.get::<u64>(out)
        .chunks(16)
        .map(|c| c.try_into().unwrap())
        .collect()
}

fn sext(v: u64, w: u32) -> i64 {
    ((v << (64 - w)) as i64) >> (64 - w)
}

#[test]
fn three_bit_integers_wrap_compare_shift_convert_and_switch_at_their_width() {
    let types = " %one3 = OpConstant %u3 1\n %three3 = OpConstant %u3 3\n \
                 %d1 = OpConstant %ulong 1\n %d0 = OpConstant %ulong 0\n \
                 %s2 = OpConstant %ulong 20\n %s5 = OpConstant %ulong 50\n \
                 %s7 = OpConstant %ulong 70\n %s9 = OpConstant %ulong 99\n";
    let mut body = String::new();
    body += " %bnz = OpBitwiseOr %u3 %b3 %one3\n %sh = OpUMod %u3 %b3 %three3\n";
    let ops: [(&str, &str); 10] = [
        ("IAdd", "%a3 %b3"),
        ("ISub", "%a3 %b3"),
        ("IMul", "%a3 %b3"),
        ("UDiv", "%a3 %bnz"),
        ("SDiv", "%a3 %bnz"),
        ("SRem", "%a3 %bnz"),
        ("SMod", "%a3 %bnz"),
        ("ShiftLeftLogical", "%a3 %sh"),
        ("ShiftRightArithmetic", "%a3 %sh"),
        ("ShiftRightLogical", "%a3 %sh"),
    ];
    for (k, (op, args)) in ops.iter().enumerate() {
        body += &format!(" %r{k} = Op{op} %u3 {args}\n");
        body += &put_wide(k as u32, &format!("%r{k}"));
    }
    body += " %lt = OpSLessThan %bool %a3 %b3\n %ult = OpULessThan %bool %a3 %b3\n \
             %slt = OpSelect %ulong %lt %d1 %d0\n %sult = OpSelect %ulong %ult %d1 %d0\n";
    body += &format!(
        " %sl = OpIAdd %ulong %slt %slt\n %cmp = OpIAdd %ulong %sl %sult\n{}",
        put(10, "%cmp")
    );
    body += " %neg = OpSNegate %u3 %a3\n %not = OpNot %u3 %a3\n";
    body += &put_wide(11, "%neg");
    body += &put_wide(12, "%not");
    body += &format!(" %sx = OpSConvert %ulong %a3\n{}", put(13, "%sx"));
    body += &format!(
        " %fl = OpConvertSToF %double %a3\n %flb = OpBitcast %ulong %fl\n{}",
        put(14, "%flb")
    );
    body += " OpSelectionMerge %join None\n \
             OpSwitch %a3 %def 5 %l5 7 %l7 2 %l2\n \
             %l5 = OpLabel\n OpBranch %join\n %l7 = OpLabel\n OpBranch %join\n \
             %l2 = OpLabel\n OpBranch %join\n %def = OpLabel\n OpBranch %join\n \
             %join = OpLabel\n \
             %sw = OpPhi %ulong %s5 %l5 %s7 %l7 %s2 %l2 %s9 %def\n";
    body += &put(15, "%sw");
    let p = build(Parts {
        types,
        body: &body,
        ..Parts::default()
    });
    // Every pair of 3-bit values, their inputs' upper bits set for odd pairs (narrowing
    // keeps the low 3 bits).
    let inputs: Vec<(u64, u64)> = (0..64u64)
        .map(|k| {
            let (a, b) = (k / 8, k % 8);
            if k % 2 == 1 {
                (a | 0xfff8, b | !7)
            } else {
                (a, b)
            }
        })
        .collect();
    let out = run(&p, &inputs, vec![]);
    for (k, &(a, b)) in inputs.iter().enumerate() {
        let (a, b) = (a & 7, b & 7);
        let (sa, sb) = (sext(a, 3), sext(b, 3));
        let bnz = b | 1;
        let sbnz = sext(bnz, 3);
        let sh = b % 3;
        let m = |v: i64| (v as u64) & 7;
        let srem = sa % sbnz;
        let smod = if srem != 0 && (srem < 0) != (sbnz < 0) {
            srem + sbnz
        } else {
            srem
        };
        let want: [u64; 16] = [
            (a + b) & 7,
            a.wrapping_sub(b) & 7,
            (a * b) & 7,
            a / bnz,
            m(sa / sbnz),
            m(srem),
            m(smod),
            (a << sh) & 7,
            m(sa >> sh),
            a >> sh,
            2 * u64::from(sa < sb) + u64::from(a < b),
            m(-sa),
            !a & 7,
            sa as u64,
            (sa as f64).to_bits(),
            match a {
                5 => 50,
                7 => 70,
                2 => 20,
                _ => 99,
            },
        ];
        assert_eq!(out[k], want, "a = {a}, b = {b}");
    }
}

#[test]
fn thirty_three_bit_constants_spec_constants_and_arguments_keep_their_width() {
    let p33 = Parts {
        decor: " OpDecorate %spec SpecId 7\n",
        types: " %big = OpConstant %u33 0x1ffffffff\n %spec = OpSpecConstant %u33 5\n \
                %sh32 = OpConstant %u33 32\n",
        param_types: " %u33",
        params: " %arg = OpFunctionParameter %u33\n",
        body: &[
            put_wide(0, "%big"),
            put_wide(1, "%spec"),
            put_wide(2, "%arg"),
            " %sum = OpIAdd %u33 %a33 %big\n".to_string(),
            put_wide(3, "%sum"),
            " %prod = OpIMul %u33 %a33 %b33\n".to_string(),
            put_wide(4, "%prod"),
            " %sx = OpSConvert %ulong %a33\n".to_string(),
            put(5, "%sx"),
            " %hi = OpShiftRightLogical %u33 %a33 %sh32\n".to_string(),
            put_wide(6, "%hi"),
            " %sar = OpShiftRightArithmetic %u33 %a33 %sh32\n".to_string(),
            put_wide(7, "%sar"),
            " %slt = OpSLessThan %bool %a33 %b33\n %one = OpSelect %ulong %slt %c1 %c0\n"
                .to_string(),
            put(8, "%one"),
            " %mix = OpIAdd %u33 %arg %spec\n".to_string(),
            put_wide(9, "%mix"),
        ]
        .concat(),
        ..Parts::default()
    };
    // The bytes given for the 33-bit constant and argument hold more than 33 bits: their
    // values are the low 33.
    let spec_value = 0xffff_ffff_0000_0003_u64.to_le_bytes();
    let p = build_with(p33, &[(7, &spec_value)]).unwrap_or_else(|log| panic!("{log}"));
    let arg = 0xabcd_0001_2345_6789_u64;
    let inputs = [
        (5u64, 7u64),
        ((1 << 33) - 1, 2),
        (1 << 32, (1 << 32) - 1),
        (0xffff_ffff_ffff_fff0, 0x1_0000_0001),
    ];
    let out = run(&p, &inputs, vec![val(arg)]);
    const M: u64 = (1 << 33) - 1;
    for (k, &(a, b)) in inputs.iter().enumerate() {
        let (a, b) = (a & M, b & M);
        let (spec, arg) = (0x1_0000_0003_u64, arg & M);
        let want: [u64; 10] = [
            M,
            spec,
            arg,
            (a + M) & M,
            a.wrapping_mul(b) & M,
            sext(a, 33) as u64,
            a >> 32,
            ((sext(a, 33) >> 32) as u64) & M,
            u64::from(sext(a, 33) < sext(b, 33)),
            (arg + spec) & M,
        ];
        assert_eq!(out[k][..10], want, "a = {a:#x}, b = {b:#x}");
    }
    // Without a value given, the specialization constant is its own.
    let p = build(p33);
    assert_eq!(run(&p, &[(0, 0)], vec![val(0u64)])[0][1], 5);
}

#[test]
fn odd_widths_take_the_next_power_of_two_bytes_in_memory() {
    // struct { u5; u33; u17 }: offsets 0, 8, 16, size 24 (u33 aligns to 8, u17 takes 4).
    let types = " %u5 = OpTypeInt 5 0\n %u17 = OpTypeInt 17 0\n \
                 %st = OpTypeStruct %u5 %u33 %u17\n %p_st = OpTypePointer CrossWorkgroup %st\n \
                 %n4 = OpConstant %uint 4\n %arr = OpTypeArray %u17 %n4\n %p_arr = OpTypePointer CrossWorkgroup %arr\n \
                 %p_u17 = OpTypePointer CrossWorkgroup %u17\n \
                 %p_u33 = OpTypePointer CrossWorkgroup %u33\n \
                 %v2u5 = OpTypeVector %u5 2\n %p_v2u5 = OpTypePointer CrossWorkgroup %v2u5\n";
    let body = [
        // The struct at in + 64 (the inputs' second half), loaded whole: each member keeps
        // its low bits.
        " %pin = OpInBoundsPtrAccessChain %p_glob %in %c8\n \
         %ps = OpBitcast %p_st %pin\n %s = OpLoad %st %ps\n \
         %m0 = OpCompositeExtract %u5 %s 0\n %m1 = OpCompositeExtract %u33 %s 1\n \
         %m2 = OpCompositeExtract %u17 %s 2\n"
            .to_string(),
        put_wide(0, "%m0"),
        put_wide(1, "%m1"),
        put_wide(2, "%m2"),
        " %size = OpSizeOf %ulong %ps\n".to_string(),
        put(3, "%size"),
        // Member by member, through access chains (fused loads).
        " %pm1 = OpInBoundsAccessChain %p_u33 %ps %uint_1\n %l1 = OpLoad %u33 %pm1\n \
         %pm2 = OpInBoundsAccessChain %p_u17 %ps %uint_2\n %l2 = OpLoad %u17 %pm2\n"
            .to_string(),
        put_wide(4, "%l1"),
        put_wide(5, "%l2"),
        // An array of u17 has a 4-byte stride: element 3 is at byte 12 of in + 96.
        " %pin2 = OpInBoundsPtrAccessChain %p_glob %in %c12\n \
         %pa2 = OpBitcast %p_arr %pin2\n %pe = OpInBoundsAccessChain %p_u17 %pa2 %c3\n \
         %e3 = OpLoad %u17 %pe\n"
            .to_string(),
        put_wide(6, "%e3"),
        // A plain load (not fused into an access chain) and a vector load.
        " %pin14 = OpInBoundsPtrAccessChain %p_glob %in %c14\n %q33 = OpBitcast %p_u33 %pin14\n \
         %l33 = OpLoad %u33 %q33\n \
         %pin15 = OpInBoundsPtrAccessChain %p_glob %in %c15\n %qv = OpBitcast %p_v2u5 %pin15\n \
         %lv = OpLoad %v2u5 %qv\n %lv0 = OpCompositeExtract %u5 %lv 0\n \
         %lv1 = OpCompositeExtract %u5 %lv 1\n"
            .to_string(),
        put_wide(7, "%l33"),
        put_wide(12, "%lv0"),
        put_wide(13, "%lv1"),
        // Stores write whole bytes with the value zero-extended: the struct goes to
        // out[8..11], a u17 to the low 4 bytes of out[11].
        " %o8 = OpInBoundsPtrAccessChain %p_glob %row %c8\n %po = OpBitcast %p_st %o8\n \
         OpStore %po %s\n \
         %o11 = OpInBoundsPtrAccessChain %p_glob %row %c11\n %po17 = OpBitcast %p_u17 %o11\n \
         %inc = OpIAdd %u17 %e3 %e3\n OpStore %po17 %inc\n"
            .to_string(),
    ]
    .concat();
    let p = build(Parts {
        types: &format!("{types} %uint_1 = OpConstant %uint 1\n %uint_2 = OpConstant %uint 2\n"),
        body: &body,
        ..Parts::default()
    });
    let mut m = Mem::default();
    // One work-item: in[0..2] its pair (unused), in[8..11] the struct, in[12..14] the array,
    // in[14] a u33, in[15] a <2 x u5>.
    let mut input = vec![0u64; 16];
    input[8] = 0xffff_ffff_ffff_ff35; // u5 at byte 0: 0x15
    input[9] = 0x5555_5555_5555_5555; // u33: 0x1_5555_5555
    input[10] = 0xaaaa_aaaa_ffff_1234; // u17 at bytes 0..4: 0x1_1234
    input[13] = 0x00ff_8000_1234_5678; // element 3 at bytes 12..16 of in + 96: 0x1_8000 & 0x1ffff
    input[14] = 0xffff_ffff_8000_0001; // u33: 0x1_8000_0001
    input[15] = 0x0000_0000_0000_27e5; // <2 x u5>: 5, 7
    let (out, inp) = (m.add(&[0xeeee_eeee_eeee_eeee_u64; 16]), m.add(&input));
    m.run1(&p, "k", &[A::Buf(out), A::Buf(inp)], 1, 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let o: Vec<u64> = m.get(out);
    let e3 = (0x00ff_8000_u64) & 0x1_ffff;
    assert_eq!(
        o[..7],
        [
            0x15,
            0x1_5555_5555,
            0x1_1234,
            24,
            0x1_5555_5555,
            0x1_1234,
            e3
        ]
    );
    // The struct's padding bytes (1..8 of out[8], 4..8 of out[10]) are left as they were.
    assert_eq!(o[8], 0xeeee_eeee_eeee_ee15);
    assert_eq!(o[9], 0x0000_0001_5555_5555);
    assert_eq!(o[10], 0xeeee_eeee_0001_1234);
    assert_eq!(o[11], 0xeeee_eeee_0000_0000 | ((2 * e3) & 0x1_ffff));
    assert_eq!([o[7], o[12], o[13]], [0x1_8000_0001, 5, 7]);
}

#[test]
fn integer_widths_above_64_and_of_0_are_refused_naming_the_width() {
    for w in [65, 128, 0] {
        let p = Parts {
            types: &format!(" %wide = OpTypeInt {w} 0\n"),
            ..Parts::default()
        };
        let t = text(p);
        // spirv-as cannot encode these: the width word is patched in the binary.
        let t = t.replace(&format!("OpTypeInt {w} 0"), "OpTypeInt 61 0");
        let mut bytes = assemble(&t, None);
        let words: Vec<u32> = bytes
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let at = words
            .windows(4)
            .position(|x| x[0] == (4 << 16 | 21) && x[2] == 61)
            .unwrap();
        bytes[(at + 2) * 4..(at + 3) * 4].copy_from_slice(&(w as u32).to_le_bytes());
        let log = Program::build(&bytes, &BuildOptions::default())
            .unwrap_err()
            .log;
        assert!(log.contains(&format!("integer width {w}")), "{log}");
    }
}

#[test]
fn odd_widths_without_the_capability_are_refused() {
    let t = text(Parts::default()).replace(" OpCapability ArbitraryPrecisionIntegersINTEL\n", "");
    let log = Program::build(&assemble(&t, None), &BuildOptions::default())
        .unwrap_err()
        .log;
    assert!(
        log.contains("integer width 3") && log.contains("ArbitraryPrecisionIntegersINTEL"),
        "{log}"
    );
}

#[test]
fn atomics_and_splitting_bitcasts_of_odd_widths_are_refused() {
    refused(
        Parts {
            types: " %p33 = OpTypePointer CrossWorkgroup %u33\n %s1 = OpConstant %uint 1\n \
                    %sem = OpConstant %uint 0\n",
            body: " %q = OpBitcast %p33 %row\n %old = OpAtomicIAdd %u33 %q %s1 %sem %a33\n",
            ..Parts::default()
        },
        &["OpAtomicIAdd", "33-bit"],
    );
    refused(
        Parts {
            types: " %u24 = OpTypeInt 24 0\n %v3uchar = OpTypeVector %uchar 3\n",
            body: " %n24 = OpUConvert %u24 %a\n %v = OpBitcast %v3uchar %n24\n",
            ..Parts::default()
        },
        &["OpBitcast", "24-bit"],
    );
}
