//! Function pointers (`SPV_INTEL_function_pointers`): a function's pointer is its address,
//! the same in device code (`OpConstantFunctionPointerINTEL`) and from the host
//! (`Program::function_pointer`, what `zeModuleGetFunctionPointer` returns); a call through
//! one (`OpFunctionPointerCallINTEL`) runs the function it points to, and a pointer to no
//! function the call can reach fails the launch naming the call.
//!
//! The kernels of `kernels/function_pointers.cl` (clang + llvm-spirv) are in
//! `kernel_cases.rs` too; the cases here need the engine's API or hand-written modules
//! (`tests/spvasm/function_pointers.spvasm` with the test's pieces filled in, assembled by
//! `spirv-as`; bookworm's `spirv-val` rejects the forward reference every
//! `OpConstantFunctionPointerINTEL` makes to its function, so they are not validated).

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, ExecError, Program};

/// The pieces a test fills into the template.
#[derive(Clone, Copy, Default)]
struct Parts<'a> {
    decor: &'a str,
    globals: &'a str,
    body: &'a str,
    funcs: &'a str,
}

fn text(p: Parts<'_>) -> String {
    spvasm("function_pointers")
        .replace("@DECOR@", p.decor)
        .replace("@GLOBALS@", p.globals)
        .replace("@BODY@", p.body)
        .replace("@FUNCS@", p.funcs)
}

fn try_build(p: Parts<'_>) -> Result<Program, String> {
    Program::build(&assemble(&text(p), None), &BuildOptions::default()).map_err(|e| e.log)
}

fn build(p: Parts<'_>) -> Program {
    try_build(p).unwrap_or_else(|log| panic!("{log}\n{}", text(p)))
}

/// `out[4x + k] = v` (a `ulong`).
fn put(k: u32, v: &str) -> String {
    format!(" %pr{k} = OpInBoundsPtrAccessChain %p_glob %row %c{k}\n OpStore %pr{k} {v}\n")
}

/// Runs `k` over one work-item per input; returns the 4 outputs of each.
fn run(p: &Program, input: &[u64]) -> Result<Vec<[u64; 4]>, ExecError> {
    let mut m = Mem::default();
    let (out, inp) = (m.add(&vec![0u64; 4 * input.len()]), m.add(input));
    m.run1(p, "k", &[A::Buf(out), A::Buf(inp)], input.len() as u32, 1)?;
    assert!(m.guards_intact(out));
    Ok(m.get::<u64>(out)
        .chunks(4)
        .map(|c| c.try_into().unwrap())
        .collect())
}

/// `call_arg(fp, x, out)` of `kernels/function_pointers.cl`: out[i] = fp(x[i], 7).
fn call_arg(p: &Program, fp: u64, x: &[i32]) -> Result<Vec<i32>, ExecError> {
    let mut m = Mem::default();
    let (ix, io) = (m.add(x), m.zeros::<i32>(x.len()));
    m.run1(
        p,
        "call_arg",
        &[val(fp), A::Buf(ix), A::Buf(io)],
        x.len() as u32,
        4,
    )?;
    Ok(m.get(io))
}

#[test]
fn a_pointer_the_host_gets_calls_that_function_and_equals_the_device_s() {
    same_program("the test passes the program's own function addresses to its kernels");
    for opt in ["O0", "O2"] {
        let p = program("function_pointers", opt);
        // Exported functions and kernels have addresses, distinct and never 0; a static
        // function has no name the host can ask for.
        let tp = p.function_pointer("twice_plus").unwrap();
        let k = p.function_pointer("call_arg").unwrap();
        assert!(tp != 0 && k != 0 && tp != k);
        assert_eq!(p.function_pointer("add"), None);
        assert_eq!(p.function_pointer("nothing"), None);
        let x: Vec<i32> = (0..16).map(|i| i * 5 - 30).collect();
        let out = call_arg(&p, tp, &x).unwrap_or_else(|e| panic!("{opt}: {e}"));
        let want: Vec<i32> = x.iter().map(|v| 2 * v + 7).collect();
        assert_eq!(out, want, "{opt}");
        // The address device code takes of it is the same.
        let mut m = Mem::default();
        let t = m.zeros::<u64>(4);
        m.run1(&p, "fill_table", &[A::Buf(t)], 1, 1).unwrap();
        assert_eq!(m.get::<u64>(t)[3], tp, "{opt}");
        // A program's addresses do not change.
        assert_eq!(p.function_pointer("twice_plus"), Some(tp));
    }
}

#[test]
fn a_pointer_to_no_function_the_call_can_reach_fails_the_launch_naming_the_call() {
    let p = program("function_pointers", "O2");
    // A value that is no function, and a kernel (a function of another type).
    for fp in [0x1234_5678, p.function_pointer("choose").unwrap()] {
        match call_arg(&p, fp, &[1, 2, 3, 4]) {
            Err(ExecError::Failed(m)) => {
                assert!(
                    m.contains("OpFunctionPointerCallINTEL")
                        && m.contains(&format!("{fp:#x}"))
                        && m.contains("`twice_plus`"),
                    "{m}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_table_of_function_pointers_in_program_memory_is_called_through() {
    // A __constant table initialised with function pointers; `neg` is decorated
    // ReferencedIndirectlyINTEL, so the host can ask for it by name.
    let p = build(Parts {
        decor: " OpDecorate %neg ReferencedIndirectlyINTEL\n",
        globals: " %fp_inc = OpConstantFunctionPointerINTEL %pf %inc\n \
                  %fp_dbl = OpConstantFunctionPointerINTEL %pf %dbl\n \
                  %fp_neg = OpConstantFunctionPointerINTEL %pf %neg\n \
                  %arr3 = OpTypeArray %pf %c3\n \
                  %init = OpConstantComposite %arr3 %fp_inc %fp_dbl %fp_neg\n \
                  %p_tab = OpTypePointer UniformConstant %arr3\n \
                  %tab = OpVariable %p_tab UniformConstant %init\n \
                  %p_pf = OpTypePointer UniformConstant %pf\n",
        body: &[
            " %sel = OpUMod %ulong %x %c3\n %pe = OpInBoundsAccessChain %p_pf %tab %sel\n \
             %f = OpLoad %pf %pe\n %r = OpFunctionPointerCallINTEL %ulong %f %v\n \
             %fu = OpConvertPtrToU %ulong %f\n"
                .to_string(),
            put(0, "%r"),
            put(1, "%fu"),
        ]
        .concat(),
        ..Parts::default()
    });
    let input: Vec<u64> = (0..9).map(|i| i * 10 + 3).collect();
    let out = run(&p, &input).unwrap_or_else(|e| panic!("{e}"));
    let neg = p.function_pointer("neg").unwrap();
    assert_eq!(p.function_pointer("inc"), None);
    for (i, &v) in input.iter().enumerate() {
        let want = [v + 1, v * 2, v.wrapping_neg()][i % 3];
        assert_eq!(out[i][0], want, "item {i}");
    }
    assert_eq!(out[2][1], neg);
    assert!(out[0][1] != out[1][1] && out[1][1] != neg && out[0][1] != 0);
}

#[test]
fn a_function_called_through_a_pointer_to_itself_fails_the_launch() {
    // self(v) calls through a pointer to itself when v is odd (recursion), to inc when even.
    let p = build(Parts {
        globals: " %fp_self = OpConstantFunctionPointerINTEL %pf %self\n \
                  %fp_inc = OpConstantFunctionPointerINTEL %pf %inc\n",
        body: &[
            " %r = OpFunctionCall %ulong %self %v\n".to_string(),
            put(0, "%r"),
        ]
        .concat(),
        funcs: " %self = OpFunction %ulong None %fty\n %sv = OpFunctionParameter %ulong\n \
                %sl = OpLabel\n %odd = OpBitwiseAnd %ulong %sv %c1\n \
                %isodd = OpINotEqual %bool %odd %c0\n \
                %fp = OpSelect %pf %isodd %fp_self %fp_inc\n \
                %sr = OpFunctionPointerCallINTEL %ulong %fp %sv\n \
                OpReturnValue %sr\n OpFunctionEnd\n",
        ..Parts::default()
    });
    let out = run(&p, &[2, 4, 10]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!([out[0][0], out[1][0], out[2][0]], [3, 5, 11]);
    match run(&p, &[2, 3]) {
        Err(ExecError::Failed(m)) => {
            assert!(
                m.contains("OpFunctionPointerCallINTEL") && m.contains("not recursively"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
}

/// `h(v) = v * v + 1`, exported (the exporter module).
const EXPORTER: Parts<'static> = Parts {
    decor: " OpDecorate %h LinkageAttributes \"h\" Export\n",
    globals: "",
    body: "",
    funcs: " %h = OpFunction %ulong None %fty\n %hv = OpFunctionParameter %ulong\n \
            %hl = OpLabel\n %hsq = OpIMul %ulong %hv %hv\n %hr = OpIAdd %ulong %hsq %c1\n \
            OpReturnValue %hr\n OpFunctionEnd\n",
};

#[test]
fn an_imported_function_s_pointer_is_the_exporter_s_once_linked() {
    let importer = build(Parts {
        decor: " OpDecorate %h LinkageAttributes \"h\" Import\n",
        globals: " %hp = OpConstantFunctionPointerINTEL %pf %h\n",
        body: &[
            " %r = OpFunctionPointerCallINTEL %ulong %hp %v\n %hu = OpConvertPtrToU %ulong %hp\n"
                .to_string(),
            put(0, "%r"),
            put(1, "%hu"),
        ]
        .concat(),
        funcs: " %h = OpFunction %ulong None %fty\n %hv = OpFunctionParameter %ulong\n \
                OpFunctionEnd\n",
    });
    assert_eq!(importer.unlinked("k"), Some(vec!["h".to_string()]));
    let exporter = build(EXPORTER);
    Program::link(&[&importer, &exporter]).unwrap_or_else(|e| panic!("{}", e.log));
    let out = run(&importer, &[3, 7]).unwrap_or_else(|e| panic!("{e}"));
    let h = exporter.function_pointer("h").unwrap();
    assert_eq!(out[0][..2], [10, h]);
    assert_eq!(out[1][..2], [50, h]);
}

#[test]
fn a_constant_holding_an_imported_function_s_pointer_is_refused() {
    let log = try_build(Parts {
        decor: " OpDecorate %h LinkageAttributes \"h\" Import\n OpName %h \"h\"\n",
        globals: " %hp = OpConstantFunctionPointerINTEL %pf %h\n \
                  %arr1 = OpTypeArray %pf %c1\n %init = OpConstantComposite %arr1 %hp\n \
                  %p_tab = OpTypePointer UniformConstant %arr1\n \
                  %tab = OpVariable %p_tab UniformConstant %init\n",
        funcs: " %h = OpFunction %ulong None %fty\n %hv = OpFunctionParameter %ulong\n \
                OpFunctionEnd\n",
        ..Parts::default()
    })
    .unwrap_err();
    assert!(log.contains("imported function `h`"), "{log}");
}
