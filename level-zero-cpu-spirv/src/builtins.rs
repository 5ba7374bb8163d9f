//! Built-in variables (`BuiltIn` decoration): which ones the engine knows, and which
//! declarations of them it accepts.
//!
//! The decoration is honoured wherever it appears. OpenCL producers declare built-ins as
//! `Input` variables, but older ones (the LLVM/SPIR-V translator 14 era, old SYCL
//! toolchains) declare them in `UniformConstant`, `CrossWorkgroup` or other storage classes,
//! sometimes with `LinkageAttributes ... Import`. Whatever the storage class, such a variable
//! has no storage of its own: every access to it (a load, a load through an access chain or
//! a pointer cast, an extract of a loaded vector, a copy from it) reads the built-in, and
//! every access the engine cannot honour (a store, a dynamic index, pointer arithmetic, an
//! initializer) fails the build with a log naming the variable. All of this is resolved at
//! decode time; nothing is checked per instruction at run time.

use crate::ir::Builtin;
use crate::module::{Mod, Res, Ty};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{self, StorageClass, Word};

/// The engine's built-in for a SPIR-V `BuiltIn`; any other is refused by name.
pub(crate) fn builtin_of(b: spirv::BuiltIn) -> Res<Builtin> {
    use spirv::BuiltIn as B;
    Ok(match b {
        B::GlobalInvocationId => Builtin::GlobalId,
        B::LocalInvocationId => Builtin::LocalId,
        B::WorkgroupId => Builtin::GroupId,
        B::NumWorkgroups => Builtin::NumGroups,
        B::WorkgroupSize => Builtin::LocalSize,
        B::EnqueuedWorkgroupSize => Builtin::EnqueuedLocalSize,
        B::GlobalSize => Builtin::GlobalSize,
        B::GlobalOffset => Builtin::GlobalOffset,
        B::GlobalLinearId => Builtin::GlobalLinearId,
        B::LocalInvocationIndex => Builtin::LocalLinearId,
        B::WorkDim => Builtin::WorkDim,
        B::SubgroupSize => Builtin::SubgroupSize,
        B::SubgroupMaxSize => Builtin::SubgroupMaxSize,
        B::NumSubgroups => Builtin::NumSubgroups,
        B::NumEnqueuedSubgroups => Builtin::NumEnqueuedSubgroups,
        B::SubgroupId => Builtin::SubgroupId,
        B::SubgroupLocalInvocationId => Builtin::SubgroupLocalId,
        other => return Err(format!("unsupported built-in variable {other:?}")),
    })
}

/// Whether the built-in is a 3-component vector (one component per dimension).
pub(crate) fn is_vector(b: Builtin) -> bool {
    matches!(
        b,
        Builtin::GlobalId
            | Builtin::LocalId
            | Builtin::GroupId
            | Builtin::NumGroups
            | Builtin::LocalSize
            | Builtin::EnqueuedLocalSize
            | Builtin::GlobalSize
            | Builtin::GlobalOffset
    )
}

/// The built-in of an `OpDecorate %t BuiltIn X` (or of a decoration group member).
pub(crate) fn decoration(t: Word, i: &dr::Instruction) -> Res<Builtin> {
    match i.operands.get(2) {
        Some(Operand::BuiltIn(b)) => builtin_of(*b).map_err(|e| format!("%{t}: {e}")),
        other => Err(format!(
            "invalid SPIR-V: BuiltIn decoration of %{t} without a built-in ({other:?})"
        )),
    }
}

/// Checks a module-scope variable decorated `BuiltIn`: any storage class the engine knows,
/// no initializer, and an integer type of the built-in's shape (a 3-vector or a scalar).
pub(crate) fn check_variable(
    md: &Mod<'_>,
    v: Word,
    b: Builtin,
    class: StorageClass,
    pointee: Word,
    init: Option<Word>,
) -> Res<()> {
    let name = md.name(v);
    if init.is_some() {
        return Err(format!(
            "built-in variable {name} ({b:?}) has an initializer: a built-in's value cannot be set"
        ));
    }
    match class {
        StorageClass::Input
        | StorageClass::UniformConstant
        | StorageClass::CrossWorkgroup
        | StorageClass::Generic
        | StorageClass::Private
        | StorageClass::Function
        | StorageClass::Workgroup => {}
        other => {
            return Err(format!(
                "built-in variable {name} ({b:?}) in unsupported storage class {other:?}"
            ));
        }
    }
    let ok = match md.ty(pointee)? {
        Ty::Int(_) => !is_vector(b),
        Ty::Vector(e, 3) => is_vector(b) && matches!(md.ty(*e)?, Ty::Int(_)),
        _ => false,
    };
    if !ok {
        let want = if is_vector(b) {
            "a 3-component integer vector"
        } else {
            "an integer scalar"
        };
        return Err(format!(
            "built-in variable {name} ({b:?}) of type {:?}: expected {want}",
            md.ty(pointee)?
        ));
    }
    Ok(())
}

/// Checks that every `BuiltIn` decoration is on a module-scope variable (a decoration on
/// anything else would otherwise be ignored).
pub(crate) fn check_targets(md: &Mod<'_>) -> Res<()> {
    let mut ids: Vec<_> = md.builtins.iter().collect();
    ids.sort_by_key(|(t, _)| **t);
    for (t, b) in ids {
        if !md.globals.contains_key(t) {
            return Err(format!(
                "BuiltIn {b:?} decorates {}, which is not a module-scope variable (unsupported)",
                md.name(*t)
            ));
        }
    }
    Ok(())
}
