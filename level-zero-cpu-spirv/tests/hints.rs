//! The hint-only SPIR-V features that DPC++ (Intel's SYCL compiler) puts in its device images
//! (issue 13): `SPV_INTEL_memory_access_aliasing` (declarations, memory operands,
//! decorations), `SPV_KHR_expect_assume` (`OpExpectKHR`, `OpAssumeTrueKHR`),
//! `FPFastMathModeINTEL` and `OptNoneINTEL`. Each is accepted by name and runs with the
//! result of the program as written; malformed uses are refused naming what is wrong.
//!
//! Each module is `tests/spvasm/intel_hints.spvasm` with the test's pieces filled in,
//! assembled by `spirv-as` (bookworm's SPIRV-Tools 2023.1 knows these extensions; its
//! `spirv-val` rejects module-scope aliasing declarations, so the modules are not validated).

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, Program};

/// The pieces a test fills into the template.
#[derive(Clone, Copy)]
struct Parts<'a> {
    caps: &'a str,
    pre: &'a str,
    decor: &'a str,
    globals: &'a str,
    control: &'a str,
    body: &'a str,
    funcs: &'a str,
}

impl Default for Parts<'_> {
    fn default() -> Self {
        Parts {
            caps: "",
            pre: "",
            decor: "",
            globals: "",
            control: "None",
            body: "",
            funcs: "",
        }
    }
}

fn text(p: Parts<'_>) -> String {
    spvasm("intel_hints")
        .replace("@CAPS@", p.caps)
        .replace("@PRE@", p.pre)
        .replace("@DECOR@", p.decor)
        .replace("@GLOBALS@", p.globals)
        .replace("@CONTROL@", p.control)
        .replace("@BODY@", p.body)
        .replace("@FUNCS@", p.funcs)
}

fn build(p: Parts<'_>) -> Result<Program, String> {
    // SPIR-V 1.2: OpDecorateId.
    Program::build(
        &assemble_for("spv1.2", &text(p), None),
        &BuildOptions::default(),
    )
    .map_err(|e| e.log)
}

/// The module must fail to build, its log naming every word of `words`.
fn refused(p: Parts<'_>, words: &[&str]) {
    match build(p) {
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

/// `row[j] = v` (the work-item's value `j` < 8; `v` a `ulong`).
fn put(j: u32, v: &str) -> String {
    format!(" %pr{j} = OpInBoundsPtrAccessChain %p_glob %row %c{j}\n OpStore %pr{j} {v}\n")
}

/// Runs `k` over `n` work-items (one group) with `f` as the double buffer; returns the
/// eight values of every work-item (filled with 0xdead first) and `f` afterwards.
fn run(p: &Program, n: u32, f: &[f64]) -> (Vec<u64>, Vec<f64>) {
    let mut m = Mem::default();
    let out = m.add(&vec![0xdead_u64; 8 * n as usize]);
    let fb = m.add(f);
    m.run1(p, "k", &[A::Buf(out), A::Buf(fb)], n, n)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(m.guards_intact(out) && m.guards_intact(fb));
    (m.get::<u64>(out), m.get::<f64>(fb))
}

const ALIASING: &str = " OpCapability MemoryAccessAliasingINTEL\n \
                        OpExtension \"SPV_INTEL_memory_access_aliasing\"\n";

/// The declarations: one domain (with a scope and a list) before the annotations, where the
/// extension places them, and one (named, with two scopes and two lists) among the types,
/// where the other module-scope declarations are.
const ALIAS_PRE: &str = " %dname = OpString \"domain 1\"\n %dom0 = OpAliasDomainDeclINTEL\n \
                         %sc0 = OpAliasScopeDeclINTEL %dom0\n \
                         %l0 = OpAliasScopeListDeclINTEL %sc0\n";
const ALIAS_GLOBALS: &str = " %dom1 = OpAliasDomainDeclINTEL %dname\n \
                             %sc1 = OpAliasScopeDeclINTEL %dom1\n \
                             %sc2 = OpAliasScopeDeclINTEL %dom1 %dname\n \
                             %l1 = OpAliasScopeListDeclINTEL %sc1 %sc2\n \
                             %l2 = OpAliasScopeListDeclINTEL %sc2\n";
const INC: &str = "%inc = OpFunction %ulong None %ulong_f\n %a = OpFunctionParameter %ulong\n \
                   %ib = OpLabel\n %a1 = OpIAdd %ulong %a %c1\n OpReturnValue %a1\n OpFunctionEnd\n";

#[test]
fn aliasing_declarations_memory_operands_and_decorations_are_hints() {
    // Every memory operand combination with its <id>s (after `Aligned`'s literal, in bit
    // order): if an id were not consumed, the next operand would decode wrong.
    let body = format!(
        " OpStore %row %x Aligned|AliasScopeINTELMask|NoAliasINTELMask 8 %l1 %l2\n \
         %v = OpLoad %ulong %row AliasScopeINTELMask %l0\n \
         %w = OpLoad %ulong %row Aligned|NoAliasINTELMask 8 %l0\n \
         %s = OpIAdd %ulong %v %w\n{}\
         %call = OpFunctionCall %ulong %inc %s\n{}{}\
         %at = OpAtomicIAdd %ulong %pr3 %s_dev %sem_0 %c16\n{}\
         %pr5 = OpInBoundsPtrAccessChain %p_glob %row %c5\n \
         OpCopyMemorySized %pr5 %pr3 %c8 Aligned|NoAliasINTELMask 8 %l2\n \
         OpCopyMemory %pr6 %pr5 NoAliasINTELMask|AliasScopeINTELMask %l0 %l1\n",
        put(1, "%s"),
        put(2, "%call"),
        put(3, "%call"),
        put(4, "%at"),
    )
    .replace(
        " OpCopyMemory %pr6",
        " %pr6 = OpInBoundsPtrAccessChain %p_glob %row %c6\n OpCopyMemory %pr6",
    );
    let p = build(Parts {
        caps: ALIASING,
        pre: ALIAS_PRE,
        decor: " OpDecorateId %call AliasScopeINTEL %l1\n OpDecorateId %call NoAliasINTEL %l2\n \
                OpDecorateId %at NoAliasINTEL %l0\n",
        globals: ALIAS_GLOBALS,
        body: &body,
        funcs: INC,
        ..Parts::default()
    })
    .unwrap_or_else(|log| panic!("{log}"));
    let (out, _) = run(&p, 4, &[0.0]);
    for x in 0..4u64 {
        let row = &out[8 * x as usize..8 * x as usize + 8];
        let s = 2 * x;
        assert_eq!(
            row,
            &[x, s, s + 1, s + 17, s + 1, s + 17, s + 17, 0xdead],
            "work-item {x}"
        );
    }
}

#[test]
fn malformed_aliasing_uses_are_refused() {
    let ok = Parts {
        caps: ALIASING,
        pre: ALIAS_PRE,
        globals: ALIAS_GLOBALS,
        ..Parts::default()
    };
    // A memory operand's id must be a scope list (here: a scope, a constant).
    refused(
        Parts {
            body: " OpStore %out_x %x AliasScopeINTELMask %sc0\n",
            ..ok
        },
        &["memory operand of OpStore", "OpAliasScopeListDeclINTEL"],
    );
    refused(
        Parts {
            body: " %v = OpLoad %ulong %out_x Aligned|NoAliasINTELMask 8 %c1\n",
            ..ok
        },
        &["memory operand of OpLoad", "OpAliasScopeListDeclINTEL"],
    );
    // So must a decoration's.
    refused(
        Parts {
            decor: " OpDecorateId %call NoAliasINTEL %dom0\n",
            body: " %call = OpFunctionCall %ulong %inc %x\n",
            funcs: INC,
            ..ok
        },
        &["decoration NoAliasINTEL", "OpAliasScopeListDeclINTEL"],
    );
    // A scope's domain must be a domain, a list's scopes scopes.
    refused(
        Parts {
            globals: &format!("{ALIAS_GLOBALS} %bad = OpAliasScopeDeclINTEL %sc0\n"),
            ..ok
        },
        &["domain", "OpAliasScopeDeclINTEL", "OpAliasDomainDeclINTEL"],
    );
    refused(
        Parts {
            globals: &format!("{ALIAS_GLOBALS} %bad = OpAliasScopeListDeclINTEL %sc1 %l1\n"),
            ..ok
        },
        &[
            "OpAliasScopeListDeclINTEL",
            "is not the result of an OpAliasScopeDeclINTEL",
        ],
    );
    // The declarations belong at module scope.
    refused(
        Parts {
            body: " %indom = OpAliasDomainDeclINTEL\n",
            ..ok
        },
        &["OpAliasDomainDeclINTEL inside a function"],
    );
}

#[test]
fn expect_khr_is_its_value_and_assume_true_khr_does_nothing() {
    let body = format!(
        " %e = OpExpectKHR %ulong %x %c5\n{}\
         %vx = OpCompositeConstruct %v2ulong %x %c3\n \
         %ve = OpExpectKHR %v2ulong %vx %v55\n \
         %e0 = OpCompositeExtract %ulong %ve 0\n{}\
         %e1 = OpCompositeExtract %ulong %ve 1\n{}\
         %lt = OpULessThan %bool %x %c2\n \
         %be = OpExpectKHR %bool %lt %true\n \
         OpAssumeTrueKHR %true\n \
         %ge = OpUGreaterThanEqual %bool %x %c0\n \
         OpAssumeTrueKHR %ge\n \
         %e7 = OpIAdd %ulong %e %c7\n{}\
         OpSelectionMerge %merge None\n \
         OpBranchConditional %be %yes %no\n \
         %yes = OpLabel\n{} OpBranch %merge\n \
         %no = OpLabel\n{} OpBranch %merge\n \
         %merge = OpLabel\n",
        put(0, "%e"),
        put(1, "%e0"),
        put(2, "%e1"),
        put(3, "%e7"),
        put(4, "%c1"),
        put(4, "%c2").replace("%pr4", "%pr4n"),
    );
    let p = build(Parts {
        caps: " OpCapability ExpectAssumeKHR\n OpExtension \"SPV_KHR_expect_assume\"\n",
        globals: " %v55 = OpConstantComposite %v2ulong %c5 %c5\n",
        body: &body,
        ..Parts::default()
    })
    .unwrap_or_else(|log| panic!("{log}"));
    let (out, _) = run(&p, 4, &[0.0]);
    for x in 0..4u64 {
        let row = &out[8 * x as usize..8 * x as usize + 5];
        assert_eq!(
            row,
            &[x, x, 3, x + 7, if x < 2 { 1 } else { 2 }],
            "work-item {x}"
        );
    }
}

#[test]
fn fp_fast_math_mode_intel_bits_are_hints_and_the_engine_computes_exactly() {
    // a*b+c with a = b = 1+2^-30, c = -(1+2^-29): the product rounds to 1+2^-29, so the
    // unfused result is 0; a contraction into fma would give 2^-60. (1+1e16)-1e16 is 0 in
    // program order; reassociated it would be 1.
    let body = " %pf1 = OpInBoundsPtrAccessChain %p_glob_d %f %c1\n \
                %pf2 = OpInBoundsPtrAccessChain %p_glob_d %f %c2\n \
                %pf3 = OpInBoundsPtrAccessChain %p_glob_d %f %c3\n \
                %pf4 = OpInBoundsPtrAccessChain %p_glob_d %f %c4\n \
                %pf5 = OpInBoundsPtrAccessChain %p_glob_d %f %c5\n \
                %pf6 = OpInBoundsPtrAccessChain %p_glob_d %f %c6\n \
                %a = OpLoad %double %f\n %b = OpLoad %double %pf1\n %c = OpLoad %double %pf2\n \
                %m = OpFMul %double %a %b\n %s = OpFAdd %double %m %c\n OpStore %pf5 %s\n \
                %one = OpLoad %double %pf3\n %big = OpLoad %double %pf4\n \
                %t = OpFAdd %double %one %big\n %u = OpFSub %double %t %big\n OpStore %pf6 %u\n";
    let p = build(Parts {
        caps: " OpCapability FPFastMathModeINTEL\n OpExtension \"SPV_INTEL_fp_fast_math_mode\"\n",
        decor: " OpDecorate %m FPFastMathMode AllowContractFastINTEL|AllowReassocINTEL\n \
                OpDecorate %s FPFastMathMode AllowContractFastINTEL|AllowReassocINTEL|NotNaN\n \
                OpDecorate %t FPFastMathMode AllowReassocINTEL\n \
                OpDecorate %u FPFastMathMode AllowReassocINTEL|AllowContractFastINTEL\n",
        body,
        ..Parts::default()
    })
    .unwrap_or_else(|log| panic!("{log}"));
    let a = 1.0 + 2f64.powi(-30);
    let c = -(1.0 + 2f64.powi(-29));
    assert_ne!(
        a.mul_add(a, c),
        a * a + c,
        "the inputs tell fma from mul+add"
    );
    let (_, f) = run(&p, 1, &[a, a, c, 1.0, 1e16, -1.0, -1.0]);
    assert_eq!(f[5].to_bits(), (a * a + c).to_bits());
    assert_eq!(f[5], 0.0);
    assert_eq!(f[6], 0.0);
}

#[test]
fn opt_none_intel_function_control_is_a_hint() {
    let call = format!(" %r = OpFunctionCall %ulong %inc %x\n{}", put(0, "%r"));
    let helper = INC.replace(
        "OpFunction %ulong None",
        "OpFunction %ulong DontInline|OptNoneINTEL",
    );
    let p = build(Parts {
        caps: " OpCapability OptNoneINTEL\n OpExtension \"SPV_INTEL_optnone\"\n",
        control: "OptNoneINTEL",
        body: &call,
        funcs: &helper,
        ..Parts::default()
    })
    .unwrap_or_else(|log| panic!("{log}"));
    let (out, _) = run(&p, 3, &[0.0]);
    assert_eq!([out[0], out[8], out[16]], [1, 2, 3]);
    // The other function controls are hints too.
    let p = build(Parts {
        control: "Inline|Pure",
        body: &call,
        funcs: &INC.replace(
            "OpFunction %ulong None",
            "OpFunction %ulong Const|DontInline",
        ),
        ..Parts::default()
    })
    .unwrap_or_else(|log| panic!("{log}"));
    assert_eq!(run(&p, 1, &[0.0]).0[0], 1);
}

/// All four together, as a DPC++ elementwise kernel has them.
#[test]
fn dpcpp_style_kernel_with_every_hint_builds_and_runs() {
    let body = " %v = OpLoad %ulong %row Aligned|AliasScopeINTELMask 8 %l1\n \
                %e = OpExpectKHR %ulong %v %c0\n OpAssumeTrueKHR %true\n \
                %w = OpIAdd %ulong %e %c1\n \
                OpStore %row %w Aligned|NoAliasINTELMask 8 %l2\n";
    let p = build(Parts {
        caps: " OpCapability ExpectAssumeKHR\n OpCapability MemoryAccessAliasingINTEL\n \
              OpCapability FPFastMathModeINTEL\n OpCapability OptNoneINTEL\n \
              OpExtension \"SPV_KHR_expect_assume\"\n \
              OpExtension \"SPV_INTEL_memory_access_aliasing\"\n \
              OpExtension \"SPV_INTEL_fp_fast_math_mode\"\n OpExtension \"SPV_INTEL_optnone\"\n",
        pre: ALIAS_PRE,
        globals: ALIAS_GLOBALS,
        control: "OptNoneINTEL",
        body,
        ..Parts::default()
    })
    .unwrap_or_else(|log| panic!("{log}"));
    let (out, _) = run(&p, 2, &[0.0]);
    assert_eq!([out[0], out[8]], [0xdead + 1, 0xdead + 1]);
}
