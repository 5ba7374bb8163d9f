//! Linkage across modules (`LinkageAttributes`, the `Linkage` capability).
//!
//! A module may import functions and module-scope variables (`Import`: a function declared
//! without a body, a variable without an initializer) and export them (`Export`, or
//! `LinkOnceODR`). [`crate::Program::build`] builds a module with imports: the kernels that
//! reach no import are ready at once; the others are *unlinked* (listed in
//! [`crate::Program::unlinked`]) and refuse to launch until [`crate::Program::link`]
//! resolves each import by name to an export of another program, with the same type.
//! Linking decodes the unlinked kernels again with calls to imported functions inlined
//! from the exporting module and imported variables at the exporter's storage.

use crate::module::{Mod, Res, Ty, op_id};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{LinkageType, Word};

/// Records a `LinkageAttributes` decoration of `t`.
pub(crate) fn decoration(md: &mut Mod<'_>, t: Word, i: &dr::Instruction) -> Res<()> {
    match (i.operands.get(2), i.operands.get(3)) {
        (
            Some(Operand::LiteralString(name)),
            Some(Operand::LinkageType(LinkageType::Export | LinkageType::LinkOnceODR)),
        ) => {
            md.exports.insert(t, name.clone());
        }
        (Some(Operand::LiteralString(name)), Some(Operand::LinkageType(LinkageType::Import))) => {
            md.imports.insert(t, name.clone());
        }
        other => {
            return Err(format!(
                "invalid SPIR-V: malformed LinkageAttributes decoration of %{t} ({other:?})"
            ));
        }
    }
    Ok(())
}

/// The function type (`OpTypeFunction`) of function `f`.
pub(crate) fn function_type(md: &Mod<'_>, f: Word) -> Res<Word> {
    let n = *md
        .funcs
        .get(&f)
        .ok_or_else(|| format!("%{f} is not a function"))?;
    let def = md.m.functions[n]
        .def
        .as_ref()
        .ok_or("invalid SPIR-V: function without OpFunction")?;
    op_id(def, 1)
}

/// Whether type `a` of module `ma` and type `b` of module `mb` are the same type.
pub(crate) fn same_type(ma: &Mod<'_>, a: Word, mb: &Mod<'_>, b: Word, depth: u32) -> Res<bool> {
    same_type_in(ma, a, mb, b, depth, &mut Vec::new())
}

/// [`same_type`], `pointees` holding the pointee pairs being compared: a recursive type
/// (a struct holding a pointer to itself, `OpTypeForwardPointer`) meets them again, and they
/// are then the same unless something else differs.
fn same_type_in(
    ma: &Mod<'_>,
    a: Word,
    mb: &Mod<'_>,
    b: Word,
    depth: u32,
    pointees: &mut Vec<(Word, Word)>,
) -> Res<bool> {
    if depth > 64 {
        return Err("type nesting too deep".into());
    }
    if pointees.contains(&(a, b)) {
        return Ok(true);
    }
    let all = |xs: &[Word], ys: &[Word], pointees: &mut Vec<(Word, Word)>| -> Res<bool> {
        if xs.len() != ys.len() {
            return Ok(false);
        }
        for (x, y) in xs.iter().zip(ys) {
            if !same_type_in(ma, *x, mb, *y, depth + 1, pointees)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    Ok(match (ma.ty(a)?, mb.ty(b)?) {
        (Ty::Void, Ty::Void) | (Ty::Bool, Ty::Bool) => true,
        (Ty::Int(x), Ty::Int(y)) => x == y,
        (Ty::Float(x), Ty::Float(y)) => x == y,
        (Ty::Vector(x, n), Ty::Vector(y, m)) => {
            n == m && same_type_in(ma, *x, mb, *y, depth + 1, pointees)?
        }
        (Ty::Array(x, n), Ty::Array(y, m)) => {
            n == m && same_type_in(ma, *x, mb, *y, depth + 1, pointees)?
        }
        (Ty::Struct(xs), Ty::Struct(ys)) => {
            ma.size_align(a, 0)? == mb.size_align(b, 0)? && all(xs, ys, pointees)?
        }
        (Ty::Ptr(c, x), Ty::Ptr(d, y)) => {
            pointees.push((*x, *y));
            let same = c == d && same_type_in(ma, *x, mb, *y, depth + 1, pointees)?;
            pointees.pop();
            same
        }
        (Ty::Func(r, ps), Ty::Func(s, qs)) => {
            same_type_in(ma, *r, mb, *s, depth + 1, pointees)? && all(ps, qs, pointees)?
        }
        (Ty::Opaque(x), Ty::Opaque(y)) => x == y,
        _ => false,
    })
}

/// What an import resolves to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// Function `fid` of module `module`.
    Function { module: usize, fid: Word },
    /// A module-scope variable at this address.
    Variable(u64),
}

/// Resolves every import of every module against the exports of the others. `addr[k]` are
/// module `k`'s program-scope variable addresses. Returns, per module, its imports' targets,
/// or the link log naming each unresolved or mismatched symbol.
pub(crate) fn resolve(
    mods: &[&Mod<'_>],
    addr: &[&std::collections::HashMap<Word, u64>],
    linked_before: &[bool],
) -> Result<Vec<std::collections::HashMap<Word, Target>>, String> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (k, md) in mods.iter().enumerate() {
        let mut targets = std::collections::HashMap::new();
        if linked_before[k] {
            // Its imports were linked by an earlier call and are not linked again.
            out.push(targets);
            continue;
        }
        let mut imports: Vec<(&Word, &String)> = md.imports.iter().collect();
        imports.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
        for (&id, name) in imports {
            let found: Vec<(usize, Word)> = mods
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .flat_map(|(j, m)| {
                    m.exports
                        .iter()
                        .filter(|(_, n)| *n == name)
                        .map(move |(e, _)| (j, *e))
                })
                .collect();
            let (j, e) = match found.as_slice() {
                [] => {
                    // Built-in variables need no definition.
                    if !md.builtins.contains_key(&id) {
                        errors.push(format!(
                            "module {k}: unresolved symbol `{name}` (imported, exported by no other module)"
                        ));
                    }
                    continue;
                }
                [one] => *one,
                many => {
                    let who: Vec<String> = many.iter().map(|(j, _)| j.to_string()).collect();
                    errors.push(format!(
                        "module {k}: symbol `{name}` is exported by more than one module ({})",
                        who.join(", ")
                    ));
                    continue;
                }
            };
            let me = mods[j];
            let is_fn = md.funcs.contains_key(&id);
            if is_fn != me.funcs.contains_key(&e) {
                errors.push(format!(
                    "module {k}: symbol `{name}` is imported as a {} but module {j} exports a {}",
                    if is_fn { "function" } else { "variable" },
                    if is_fn { "variable" } else { "function" },
                ));
                continue;
            }
            let same = if is_fn {
                same_type(md, function_type(md, id)?, me, function_type(me, e)?, 0)?
            } else {
                same_type(md, md.type_of(id)?, me, me.type_of(e)?, 0)?
            };
            if !same {
                errors.push(format!(
                    "module {k}: symbol `{name}` is imported with a type that differs from its export in module {j}"
                ));
                continue;
            }
            let t = if is_fn {
                Target::Function { module: j, fid: e }
            } else {
                match addr[j].get(&e) {
                    Some(&a) => Target::Variable(a),
                    None => {
                        errors.push(format!(
                            "module {k}: symbol `{name}`: importing a variable of this storage class is not supported (only __global and __constant program-scope variables)"
                        ));
                        continue;
                    }
                }
            };
            targets.insert(id, t);
        }
        out.push(targets);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(format!("link failed:\n{}", errors.join("\n")))
    }
}
