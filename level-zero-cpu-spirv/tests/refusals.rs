//! What the engine does not implement fails the build with a log naming it (never a silent
//! default): decorations, member/id/string decorations, function parameter attributes and
//! execution modes outside the engine's explicit lists of hints.

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, Program};

/// The Input-class built-in template (a valid module with kernels) plus `extra` annotation
/// lines after its decorations.
fn module(extra: &str) -> Vec<u8> {
    let t = spvasm("builtin_styles")
        .replace("@CLASS@", "Input")
        .replace("@LINK@", extra)
        .replace("@IFACE@", "%gid");
    assemble(&t, None)
}

fn refused(extra: &str, words: &[&str]) {
    match Program::build(&module(extra), &BuildOptions::default()) {
        Ok(_) => panic!("`{extra}` was accepted"),
        Err(e) => {
            for w in words {
                assert!(e.log.contains(w), "log {:?} does not name {w:?}", e.log);
            }
        }
    }
}

#[test]
fn the_template_builds_with_hints() {
    let hints = "OpDecorate %c1 NoSignedWrap\nOpDecorate %po FuncParamAttr NoCapture\n\
                 OpDecorate %po Restrict\nOpDecorateString %c1 UserSemantic \"x\"\n\
                 OpDecorateId %po AlignmentId %c16\nOpExecutionMode %k_chain ContractionOff\n\
                 OpExecutionMode %k_cast LocalSizeHint 4 2 1";
    Program::build(&module(hints), &BuildOptions::default())
        .unwrap_or_else(|e| panic!("{}", e.log));
}

#[test]
fn an_unknown_decoration_is_refused() {
    refused("OpDecorate %c1 Invariant", &["Invariant"]);
    refused("OpDecorate %gid Location 3", &["Location"]);
}

#[test]
fn a_member_decoration_is_refused() {
    // A member offset changes the struct's layout.
    refused(
        "%s = OpTypeStruct %ulong %ulong\nOpMemberDecorate %s 1 Offset 16",
        &["Offset", "OpMemberDecorate"],
    );
}

#[test]
fn an_id_decoration_that_is_not_a_hint_is_refused() {
    refused(
        "OpDecorateId %gid CounterBuffer %c1",
        &["CounterBuffer", "OpDecorateId"],
    );
}

#[test]
fn an_unknown_function_parameter_attribute_is_refused() {
    refused(
        "OpDecorate %po FuncParamAttr RuntimeAlignedINTEL",
        &["RuntimeAligned"],
    );
}

#[test]
fn an_unknown_execution_mode_is_refused() {
    refused(
        "OpExecutionMode %k_chain RoundingModeRTZ 32",
        &["RoundingModeRTZ"],
    );
    refused(
        "OpExecutionMode %k_chain DenormFlushToZero 32",
        &["DenormFlushToZero"],
    );
}
