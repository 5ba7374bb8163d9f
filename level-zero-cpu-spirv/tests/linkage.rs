//! Linkage across modules: `Import`/`Export` resolved by `Program::link`.

mod common;

use common::*;
use level_zero_cpu_spirv::{BuildOptions, ExecError, Program};

fn build(name: &str) -> Program {
    let bytes = assemble(&spvasm(name), Some("opencl1.2"));
    Program::build(&bytes, &BuildOptions::default()).unwrap_or_else(|e| panic!("{name}: {}", e.log))
}

fn run(p: &Program, kernel: &str, data: &[u32]) -> Result<Vec<u32>, ExecError> {
    let mut m = Mem::default();
    let b = m.add(data);
    m.run1(p, kernel, &[A::Buf(b)], data.len() as u32, 4)?;
    assert!(m.guards_intact(b));
    Ok(m.get(b))
}

#[test]
fn an_import_is_unlinked_until_linked_then_runs_the_exporters_function() {
    let imp = build("link_imports");
    let names: Vec<&str> = imp.kernels().iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["use_add_one", "standalone"]);
    assert!(imp.build_log().contains("`add_one`"), "{}", imp.build_log());
    // The kernel that needs no import runs at once.
    assert_eq!(imp.unlinked("standalone"), Some(vec![]));
    assert_eq!(
        run(&imp, "standalone", &[1, 2, 3, 4]).unwrap(),
        [2, 4, 6, 8]
    );
    // The other one is refused, naming what it misses.
    assert_eq!(
        imp.unlinked("use_add_one"),
        Some(vec!["add_one".to_string(), "link_base".to_string()])
    );
    match run(&imp, "use_add_one", &[0; 4]) {
        Err(ExecError::InvalidLaunch(m)) => {
            assert!(m.contains("`add_one`") && m.contains("`link_base`"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let exp = build("link_exports");
    assert!(exp.kernels().is_empty());
    let log = Program::link(&[&exp, &imp]).unwrap_or_else(|e| panic!("{}", e.log));
    assert!(log.contains("use_add_one"), "{log}");
    assert_eq!(imp.unlinked("use_add_one"), Some(vec![]));
    let data: Vec<u32> = (0..16).collect();
    let want: Vec<u32> = data.iter().map(|x| x + 1 + 100).collect();
    assert_eq!(run(&imp, "use_add_one", &data).unwrap(), want);
    assert_eq!(run(&imp, "standalone", &[5; 4]).unwrap(), [10; 4]);
    // The exporter may go away: the linked program keeps its variables alive.
    drop(exp);
    assert_eq!(run(&imp, "use_add_one", &data).unwrap(), want);
}

#[test]
fn unresolved_imports_fail_the_link_naming_each_symbol() {
    let imp = build("link_imports");
    let e = Program::link(&[&imp]).unwrap_err();
    assert!(e.log.contains("unresolved symbol `add_one`"), "{}", e.log);
    assert!(e.log.contains("unresolved symbol `link_base`"), "{}", e.log);
    // Nothing changed.
    assert_eq!(imp.unlinked("use_add_one").unwrap().len(), 2);
    // An exporter of only one of the two symbols still fails, naming the other.
    let only_fn = spvasm("link_exports").replace(
        "OpDecorate %base LinkageAttributes \"link_base\" Export",
        "",
    );
    let p = Program::build(
        &assemble(&only_fn, Some("opencl1.2")),
        &BuildOptions::default(),
    )
    .unwrap();
    let e = Program::link(&[&p, &imp]).unwrap_err();
    assert!(
        e.log.contains("`link_base`") && !e.log.contains("`add_one`"),
        "{}",
        e.log
    );
    assert!(run(&imp, "use_add_one", &[0; 4]).is_err());
}

#[test]
fn an_export_of_another_type_fails_the_link() {
    let imp = build("link_imports");
    let wide = spvasm("link_exports")
        .replace(
            "OpCapability Kernel",
            "OpCapability Kernel\n OpCapability Int64",
        )
        .replace(
            "%uint = OpTypeInt 32 0",
            "%uint = OpTypeInt 32 0\n %ul = OpTypeInt 64 0",
        )
        .replace(
            "%fnty = OpTypeFunction %uint %uint",
            "%fnty = OpTypeFunction %uint %ul",
        )
        .replace(
            "%x = OpFunctionParameter %uint",
            "%x = OpFunctionParameter %ul\n",
        )
        .replace(
            "%r = OpIAdd %uint %x %c1",
            "%t = OpUConvert %uint %x\n %r = OpIAdd %uint %t %c1",
        );
    let exp = Program::build(
        &assemble(&wide, Some("opencl1.2")),
        &BuildOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{}", e.log));
    let e = Program::link(&[&exp, &imp]).unwrap_err();
    assert!(
        e.log.contains("`add_one`") && e.log.contains("type"),
        "{}",
        e.log
    );
}

#[test]
fn a_symbol_exported_twice_fails_the_link() {
    let imp = build("link_imports");
    let (a, b) = (build("link_exports"), build("link_exports"));
    let e = Program::link(&[&a, &imp, &b]).unwrap_err();
    assert!(
        e.log
            .contains("`add_one` is exported by more than one module"),
        "{}",
        e.log
    );
}

#[test]
fn a_call_to_a_function_without_a_body_that_is_not_imported_is_refused() {
    let text = spvasm("link_imports").replace(
        "OpDecorate %add_one LinkageAttributes \"add_one\" Import",
        "",
    );
    let e = Program::build(&assemble(&text, None), &BuildOptions::default()).unwrap_err();
    assert!(
        e.log.contains("`add_one`") && e.log.contains("nor imported"),
        "{}",
        e.log
    );
}
