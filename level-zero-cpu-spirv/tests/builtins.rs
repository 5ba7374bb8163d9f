//! Built-in variables in every declaration style and through every access path: each
//! work-item must see its own id; what the engine cannot honour fails the build, naming it.

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, Program};

const KERNELS: &[&str] = &[
    "k_extract",
    "k_whole",
    "k_chain",
    "k_ptrchain",
    "k_cast",
    "k_copy",
    "k_call",
];

const IMPORT: &str =
    r#"OpDecorate %gid LinkageAttributes "__spirv_BuiltInGlobalInvocationId" Import"#;

/// The template with its storage class, linkage and interface filled in.
fn styled(class: &str, import: bool) -> String {
    spvasm("builtin_styles")
        .replace("@CLASS@", class)
        .replace("@LINK@", if import { IMPORT } else { "" })
        .replace("@IFACE@", if class == "Input" { "%gid" } else { "" })
}

fn build(text: &str, env: Option<&str>) -> Result<Program, String> {
    Program::build(&assemble(text, env), &BuildOptions::default()).map_err(|e| e.log)
}

#[test]
fn every_declaration_style_and_access_path_sees_its_own_id() {
    let (w, h) = (8u32, 4u32);
    let expected: Vec<u64> = (0..h)
        .flat_map(|y| (0..w).map(move |x| u64::from(x) + (u64::from(y) << 16)))
        .collect();
    for class in ["Input", "UniformConstant", "CrossWorkgroup"] {
        for import in [false, true] {
            let text = styled(class, import);
            let p = build(&text, Some("opencl1.2"))
                .unwrap_or_else(|e| panic!("{class} import={import}: {e}"));
            // A built-in has no storage: it is not a program-scope variable.
            assert!(p.globals().is_empty(), "{class}: {:?}", p.globals());
            for k in KERNELS {
                let mut m = Mem::default();
                let out = m.add(&vec![u64::MAX; (w * h) as usize]);
                m.launch(
                    &p,
                    k,
                    &[A::Buf(out), A::Val(u64::from(w).to_le_bytes().to_vec())],
                    [4, 2, 1],
                    [w / 4, h / 2, 1],
                    [0; 3],
                )
                .unwrap_or_else(|e| panic!("{class} import={import} {k}: {e}"));
                assert_eq!(
                    m.get::<u64>(out),
                    expected,
                    "{class} import={import} {k}: a work-item did not see its own id"
                );
                assert!(m.guards_intact(out));
            }
        }
    }
}

/// The CrossWorkgroup template plus one more kernel `k_bad` (body after its label, with
/// parameters %ob and %wb) and extra module-scope text.
fn with_bad_kernel(decls: &str, body: &str) -> String {
    let t = styled("CrossWorkgroup", false)
        .replace(
            "               OpName %gid",
            "               OpEntryPoint Kernel %k_bad \"k_bad\"\n               OpName %gid",
        )
        .replace("; out[x + y*w]", &format!("{decls}\n; out[x + y*w]"));
    format!(
        "{t}\n %k_bad = OpFunction %void None %kty\n %ob = OpFunctionParameter %p_glob\n %wb = OpFunctionParameter %ulong\n %lb = OpLabel\n{body}\n OpReturn\n OpFunctionEnd\n"
    )
}

fn refused(text: &str, env: Option<&str>, words: &[&str]) {
    match build(text, env) {
        Ok(_) => panic!("built, but should have been refused ({words:?})"),
        Err(log) => {
            for w in words {
                assert!(log.contains(w), "log {log:?} does not name {w:?}");
            }
        }
    }
}

#[test]
fn a_store_to_a_builtin_is_refused() {
    let t = with_bad_kernel(
        "",
        " %sv = OpCompositeConstruct %v3ulong %c0 %c0 %c0\n OpStore %gid %sv",
    );
    refused(&t, Some("opencl1.2"), &["store", "GlobalId"]);
    let t = with_bad_kernel("", " %sp = OpAccessChain %p_ul %gid %c1\n OpStore %sp %c0");
    refused(&t, Some("opencl1.2"), &["store", "GlobalId"]);
    let t = with_bad_kernel(
        "%p_fn_v3b = OpTypePointer Function %v3ulong",
        " %tv = OpVariable %p_fn_v3b Function\n OpCopyMemory %gid %tv",
    );
    refused(&t, Some("opencl1.2"), &["store", "GlobalId"]);
}

#[test]
fn a_dynamic_index_into_a_builtin_is_refused() {
    let t = with_bad_kernel(
        "",
        " %dp = OpAccessChain %p_ul %gid %wb\n %dv = OpLoad %ulong %dp",
    );
    refused(&t, Some("opencl1.2"), &["dynamic index", "GlobalId"]);
}

#[test]
fn a_reinterpreting_cast_of_a_builtin_is_refused() {
    // Reading 32-bit halves of the 64-bit components would need byte-level storage.
    let t = with_bad_kernel(
        "%uint = OpTypeInt 32 0\n%p_ui = OpTypePointer CrossWorkgroup %uint",
        " %cp = OpBitcast %p_ui %gid\n %cv = OpLoad %uint %cp",
    );
    refused(
        &t,
        Some("opencl1.2"),
        &["reinterpreting cast", "__spirv_BuiltInGlobalInvocationId"],
    );
}

#[test]
fn a_builtin_used_as_a_value_is_refused() {
    let t = with_bad_kernel("", " %pv = OpConvertPtrToU %ulong %gid");
    refused(&t, Some("opencl1.2"), &["built-in"]);
}

#[test]
fn an_unknown_builtin_is_refused_by_name() {
    let t = styled("Input", false).replace("BuiltIn GlobalInvocationId", "BuiltIn PrimitiveId");
    refused(&t, None, &["PrimitiveId"]);
}

#[test]
fn a_builtin_with_an_initializer_is_refused() {
    let t = styled("CrossWorkgroup", false).replace(
        "%gid = OpVariable %p_v3 CrossWorkgroup",
        "%init = OpConstantNull %v3ulong\n        %gid = OpVariable %p_v3 CrossWorkgroup %init",
    );
    refused(
        &t,
        None,
        &["initializer", "__spirv_BuiltInGlobalInvocationId"],
    );
}

#[test]
fn a_builtin_of_the_wrong_shape_is_refused() {
    let t = styled("CrossWorkgroup", false).replace(
        "%gid = OpVariable %p_v3 CrossWorkgroup",
        "%gid = OpVariable %p_ul CrossWorkgroup",
    );
    refused(
        &t,
        None,
        &["3-component", "__spirv_BuiltInGlobalInvocationId"],
    );
}

#[test]
fn a_builtin_decoration_on_a_non_variable_is_refused() {
    let t = styled("Input", false).replace(
        "OpDecorate %gid Constant",
        "OpDecorate %gid Constant\n OpDecorate %c16 BuiltIn WorkDim",
    );
    refused(&t, None, &["WorkDim", "not a module-scope variable"]);
}
