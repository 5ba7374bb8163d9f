//! `SPV_INTEL_function_pointers` (`FunctionPointersINTEL`, `IndirectReferencesINTEL`):
//! `OpConstantFunctionPointerINTEL` and `OpFunctionPointerCallINTEL`.
//!
//! A function's pointer is its address: the program's function slots plus its index in the
//! module ([`crate::module::Mod::fn_addr`]; `Program::function_pointer` hands out the same
//! values), so pointers compare, convert and travel through memory like any pointer. An
//! imported function's pointer is the exporter's, once linked.
//!
//! The engine inlines every call, and so every call through a pointer: it becomes a
//! dispatch, a switch on the pointer's value over the functions the call can reach, each
//! case an inlined copy of one of them, all returning to the block after the call. Any other
//! value fails the launch naming the call (`Term::Fail`). The functions a call can reach are
//! those of its module whose address can be had — taken by an
//! `OpConstantFunctionPointerINTEL`, decorated `ReferencedIndirectlyINTEL`, or exported (the
//! driver hands out exported functions' addresses) — and whose type is the call's, except the
//! functions the call is inside (OpenCL C has no recursion).

use super::control_flow::Cursor;
use super::{Dec, Instance, V};
use crate::ir::{Edge, Slot, Term};
use crate::linkage::same_type;
use crate::module::{Res, Ty, op_id, result, result_type};
use rspirv::dr;
use rspirv::spirv::{Op, Word};

impl Dec<'_, '_> {
    /// Decodes `i` if it is an `OpConstantFunctionPointerINTEL` inside a function (the
    /// extension's first revision put it there; module-scope ones are constants,
    /// `module.rs`); `false` if not.
    pub(super) fn function_pointers(
        &mut self,
        _inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        if i.class.opcode != Op::ConstantFunctionPointerINTEL {
            return Ok(false);
        }
        let f = op_id(i, 0)?;
        let d = res.ok_or("invalid SPIR-V: OpConstantFunctionPointerINTEL without a result")?;
        let addr = self.function_address(f)?;
        let s = self.const_u64(addr)?;
        self.copy(d, s, 1)?;
        Ok(true)
    }

    /// The value of the module-scope `OpConstantFunctionPointerINTEL` `id` of an imported
    /// function (the others are constants of the module): the exporter's function's address.
    pub(super) fn imported_function_pointer(&mut self, id: Word) -> Res<Option<V>> {
        let Some(&f) = self.md.fn_ptrs.get(&id) else {
            return Ok(None);
        };
        let addr = self.function_address(f)?;
        Ok(Some(V::Reg(self.const_u64(addr)?)))
    }

    /// The address of function `f` of the current module; for an imported function, its
    /// exporter's (through chains of imports). An import not linked yet makes the kernel
    /// unlinked (its code never runs) and has address 0.
    fn function_address(&mut self, f: Word) -> Res<u64> {
        match self.resolve_function(f)? {
            Some((module, fid)) => self.mods[module]
                .md
                .fn_addr(fid)
                .ok_or_else(|| format!("call to an unknown function %{fid}")),
            None => Ok(0),
        }
    }

    /// The module and function that function `f` of the current module is: itself, or for
    /// an import, the function it is linked to; `None` (the import recorded as unresolved)
    /// if it is not linked.
    fn resolve_function(&mut self, f: Word) -> Res<Option<(usize, Word)>> {
        let (mut module, mut fid) = (self.cur, f);
        for _ in 0..=self.mods.len() {
            let md = self.mods[module].md;
            let n = *md
                .funcs
                .get(&fid)
                .ok_or_else(|| format!("invalid SPIR-V: %{fid} is not a function"))?;
            if !md.m.functions[n].blocks.is_empty() {
                return Ok(Some((module, fid)));
            }
            let Some(name) = md.imports.get(&fid) else {
                return Err(format!(
                    "pointer to `{}`, which is declared but neither defined in this module nor imported (no LinkageAttributes Import)",
                    md.name(fid)
                ));
            };
            match self.mods[module].links.get(&fid) {
                Some(&(m, e)) => (module, fid) = (m, e),
                None => {
                    if !self.unresolved.contains(name) {
                        self.unresolved.push(name.clone());
                    }
                    return Ok(None);
                }
            }
        }
        Err(format!(
            "the import `{}` is linked in a cycle",
            self.md.name(f)
        ))
    }

    /// Whether function `fid` of the current module can be called through a pointer of
    /// pointee type `pointee` (a function type; otherwise the call's result and argument
    /// types `rt`, `arg_types` decide).
    fn callable_as(&self, fid: Word, pointee: Word, rt: Word, arg_types: &[Word]) -> Res<bool> {
        let md = self.md;
        let def = md.m.functions[md.funcs[&fid]]
            .def
            .as_ref()
            .ok_or("invalid SPIR-V: function without OpFunction")?;
        let fty = op_id(def, 1)?;
        if let Ty::Func(..) = md.ty(pointee)? {
            return same_type(md, fty, md, pointee, 0);
        }
        let Ty::Func(r, ps) = md.ty(fty)? else {
            return Err(format!(
                "invalid SPIR-V: function %{fid} of a non-function type"
            ));
        };
        if ps.len() != arg_types.len() || !same_type(md, *r, md, rt, 0)? {
            return Ok(false);
        }
        for (p, a) in ps.iter().zip(arg_types) {
            if !same_type(md, *p, md, *a, 0)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `OpFunctionPointerCallINTEL`: a switch on the pointer over inlined copies of the
    /// functions the call can reach (see the top of this file); the block after the call
    /// continues at `at`.
    pub(super) fn indirect_call(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        at: &mut Cursor,
    ) -> Res<()> {
        let md = self.md;
        let pid = op_id(i, 0)?;
        let ptr = self.slot(inst, pid)?;
        let (_, pointee) = self.ptr_info(pid)?;
        let rt = result_type(i)?;
        let mut args = Vec::new();
        let mut arg_types = Vec::new();
        for k in 1..i.operands.len() {
            let a = op_id(i, k)?;
            args.push(self.val(inst, a)?);
            arg_types.push(self.ty_of(a)?);
        }
        let ret = match i.result_id.and_then(|r| inst.vals.get(&r).copied()) {
            Some(V::Reg(s)) => Some((s, self.comps(rt)?)),
            _ => None,
        };
        // The functions whose address the kernel can hold, in module order.
        let mut candidates: Vec<(u64, Word)> = Vec::new();
        let mut names = Vec::new();
        for f in &md.m.functions {
            let Some(fid) = f.def.as_ref().and_then(|d| d.result_id) else {
                continue;
            };
            let taken = md.fn_ptrs.values().any(|&x| x == fid)
                || md.indirect.contains(&fid)
                || (md.exports.contains_key(&fid) && !f.blocks.is_empty());
            if !taken || !self.callable_as(fid, pointee, rt, &arg_types)? {
                continue;
            }
            let Some((module, target)) = self.resolve_function(fid)? else {
                continue;
            };
            if self.stack.contains(&(module, target)) {
                continue;
            }
            let Some(addr) = self.mods[module].md.fn_addr(target) else {
                continue;
            };
            if candidates.iter().all(|&(a, _)| a != addr) {
                candidates.push((addr, fid));
                names.push(format!("`{}`", md.name(fid)));
            }
        }
        let caller = self
            .stack
            .last()
            .map(|&(m, f)| self.mods[m].md.name(f))
            .unwrap_or_default();
        let msg = format!(
            "OpFunctionPointerCallINTEL %{} in `{caller}` called through a pointer to no function it can reach (functions of its type whose address may be taken, not recursively: {})",
            result(i)?,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        let next = self.new_block();
        let entries: Vec<u32> = candidates.iter().map(|_| self.new_block()).collect();
        let fail = self.new_block();
        let cases = candidates
            .iter()
            .zip(&entries)
            .map(|(&(addr, _), &to)| (addr, Edge { to, moves: vec![] }))
            .collect();
        self.finish(
            at.cur,
            at.start,
            Term::Switch {
                sel: ptr,
                cases,
                default: Edge {
                    to: fail,
                    moves: vec![],
                },
            },
        )?;
        for (&(_, fid), &entry) in candidates.iter().zip(&entries) {
            self.inline(fid, entry, &args, ret, Some(next))?;
        }
        let start = self.code.insts.len() as u32;
        self.finish(
            fail,
            start,
            Term::Fail {
                msg,
                value: Some(ptr),
            },
        )?;
        at.cur = next;
        at.start = self.code.insts.len() as u32;
        Ok(())
    }
}
