//! Function instructions: `OpFunctionCall` is inlined (a kernel is one control-flow graph;
//! recursion is refused), `OpFunctionParameter`s take their arguments' values, and each
//! function body is decoded in two passes: pass 1 gives every result its slots (and
//! `OpVariable` its private memory, or registers when its address never escapes; `OpPhi` its
//! slots), pass 2 decodes the instructions, block by block, by family
//! ([`Dec::instruction`], `control_flow.rs`, `barriers.rs`). A call to a function without a
//! body is an import (`cross_module.rs`); a call through a function pointer is a dispatch
//! over inlined candidates (`function_pointers.rs`).

use super::control_flow::Cursor;
use super::{Dec, Instance, MAX_CALL_DEPTH, Phi, V};
use crate::ir::{Edge, Preset, Slot, Term};
use crate::module::{Res, Ty, op_id, result, result_type};
use rspirv::dr::{self, Operand};
use rspirv::spirv::{Op, Word};
use std::collections::{HashMap, HashSet};

impl Dec<'_, '_> {
    /// Inlines function `fid` with its first block at block index `entry`.
    pub(super) fn inline(
        &mut self,
        fid: Word,
        entry: u32,
        args: &[V],
        ret: Option<(Slot, u16)>,
        cont: Option<u32>,
    ) -> Res<()> {
        let md = self.md;
        let fname = md.name(fid);
        if self.stack.contains(&(self.cur, fid)) {
            return Err(format!(
                "recursive call to `{fname}` (recursion is not supported)"
            ));
        }
        if self.stack.len() >= MAX_CALL_DEPTH {
            return Err("calls nested too deeply".into());
        }
        let f = &md.m.functions[*md
            .funcs
            .get(&fid)
            .ok_or_else(|| format!("call to an unknown function %{fid}"))?];
        if f.blocks.is_empty() {
            return self.call_import(fid, entry, args, ret, cont);
        }
        if f.parameters.len() != args.len() {
            return Err(format!(
                "call to `{fname}` with {} arguments, it has {} parameters",
                args.len(),
                f.parameters.len()
            ));
        }
        self.stack.push((self.cur, fid));
        let mut inst = Instance {
            vals: HashMap::new(),
            labels: HashMap::new(),
            phis: HashMap::new(),
            cont,
            ret,
            uses: HashMap::new(),
            builtin_loads: HashMap::new(),
            escaping: HashSet::new(),
            aliased: HashSet::new(),
            fused: HashMap::new(),
        };
        for b in &f.blocks {
            for i in &b.instructions {
                for (k, o) in i.operands.iter().enumerate() {
                    if let Operand::IdRef(id) = o {
                        let u = inst.uses.entry(*id).or_default();
                        u.0 += 1;
                        if k == 0 && i.class.opcode == Op::CompositeExtract {
                            u.1 += 1;
                        }
                        let pointer_use = k == 0
                            && matches!(
                                i.class.opcode,
                                Op::Load | Op::Store | Op::LifetimeStart | Op::LifetimeStop
                            );
                        if !pointer_use {
                            inst.escaping.insert(*id);
                        }
                    }
                }
            }
        }
        for (p, a) in f.parameters.iter().zip(args) {
            inst.vals.insert(result(p)?, *a);
        }
        // Pass 1: blocks, result slots, phis, private variables, built-in pointers.
        for (n, b) in f.blocks.iter().enumerate() {
            let label = result(
                b.label
                    .as_ref()
                    .ok_or("invalid SPIR-V: block without a label")?,
            )?;
            let idx = if n == 0 { entry } else { self.new_block() };
            inst.labels.insert(label, idx);
        }
        for b in &f.blocks {
            let label = result(
                b.label
                    .as_ref()
                    .ok_or("invalid SPIR-V: block without a label")?,
            )?;
            for i in &b.instructions {
                self.pass1(&mut inst, label, i)?;
            }
        }
        // Pass 1b: built-in loads used only through extracts; copy propagation.
        for b in &f.blocks {
            for i in &b.instructions {
                if i.class.opcode == Op::Load
                    && let (Some(r), Ok(p)) = (i.result_id, op_id(i, 0))
                    && let Ok(V::Builtin(bi)) = self.val(&inst, p)
                    && inst.uses.get(&r).is_some_and(|u| u.0 == u.1)
                {
                    inst.builtin_loads.insert(r, bi);
                }
            }
        }
        self.propagate_copies(&mut inst, f)?;
        self.fuse_addresses(&mut inst, f)?;
        // Pass 2: instructions.
        for b in &f.blocks {
            let label = result(
                b.label
                    .as_ref()
                    .ok_or("invalid SPIR-V: block without a label")?,
            )?;
            let mut at = Cursor {
                cur: inst.labels[&label],
                start: self.code.insts.len() as u32,
                terminated: false,
                hint: None,
            };
            for i in &b.instructions {
                if at.terminated {
                    return Err("invalid SPIR-V: instruction after a block terminator".into());
                }
                match i.class.opcode {
                    Op::FunctionCall => {
                        let callee = op_id(i, 0)?;
                        let mut cargs = Vec::new();
                        for k in 1..i.operands.len() {
                            let a = op_id(i, k)?;
                            cargs.push(self.val(&inst, a)?);
                        }
                        let r = match i.result_id.and_then(|r| inst.vals.get(&r).copied()) {
                            Some(V::Reg(s)) => {
                                let n = self.comps(result_type(i)?)?;
                                Some((s, n))
                            }
                            _ => None,
                        };
                        let callee_entry = self.new_block();
                        let next = self.new_block();
                        self.finish(
                            at.cur,
                            at.start,
                            Term::Jump(Edge {
                                to: callee_entry,
                                moves: vec![],
                            }),
                        )?;
                        self.inline(callee, callee_entry, &cargs, r, Some(next))?;
                        at.cur = next;
                        at.start = self.code.insts.len() as u32;
                    }
                    Op::FunctionPointerCallINTEL => self.indirect_call(&inst, i, &mut at)?,
                    Op::ControlBarrier => self.control_barrier(i, &mut at)?,
                    _ if self.control_flow(&inst, i, label, &mut at)? => {}
                    _ if i.result_id.is_some_and(|r| {
                        inst.aliased.contains(&r) || inst.fused.contains_key(&r)
                    }) => {}
                    _ => {
                        if let Some(scope) = self.group_sync(i)? {
                            self.meet(scope, &mut at)?;
                        }
                        self.instruction(&mut inst, i)?
                    }
                }
            }
            if !at.terminated {
                return Err("invalid SPIR-V: block without a terminator".into());
            }
            if let Some(h) = at.hint {
                self.hints[at.cur as usize] = Some(h);
            }
        }
        self.stack.pop();
        Ok(())
    }

    pub(super) fn pass1(
        &mut self,
        inst: &mut Instance,
        label: Word,
        i: &dr::Instruction,
    ) -> Res<()> {
        let Some(r) = i.result_id else { return Ok(()) };
        let md = self.md;
        match i.class.opcode {
            Op::Variable => {
                let t = result_type(i)?;
                let Ty::Ptr(_, pointee) = md.ty(t)? else {
                    return Err("invalid SPIR-V: OpVariable of a non-pointer type".into());
                };
                // Promote a variable whose address never escapes to registers (what
                // clang -O0 emits for every local: loads and stores through allocas).
                if !inst.escaping.contains(&r)
                    && let Ok(n) = md.leaf_count(*pointee, 64)
                    && n > 0
                {
                    let s = self.alloc(n)?;
                    inst.vals.insert(r, V::Promoted(s, n as u16));
                    return Ok(());
                }
                let (size, align) = md.size_align(*pointee, 0)?;
                let off = self.private(size, align)?;
                let s = self.alloc(1)?;
                self.code
                    .presets
                    .push(Preset::Private { d: s, offset: off });
                inst.vals.insert(r, V::Reg(s));
                return Ok(());
            }
            Op::AccessChain
            | Op::InBoundsAccessChain
            | Op::PtrAccessChain
            | Op::InBoundsPtrAccessChain
            | Op::Bitcast
            | Op::CopyObject
            | Op::PtrCastToGeneric
            | Op::GenericCastToPtr
            | Op::GenericCastToPtrExplicit => {
                if let Some(v) = self.builtin_pointer(inst, i)? {
                    inst.vals.insert(r, v);
                    return Ok(());
                }
            }
            Op::Phi => {
                let t = result_type(i)?;
                let n = self.comps(t)?;
                let d = self.alloc(usize::from(n))?;
                let mut incoming = Vec::new();
                let mut k = 0;
                while k + 1 < i.operands.len() {
                    incoming.push((op_id(i, k)?, op_id(i, k + 1)?));
                    k += 2;
                }
                inst.phis
                    .entry(label)
                    .or_default()
                    .push(Phi { d, n, incoming });
                inst.vals.insert(r, V::Reg(d));
                return Ok(());
            }
            _ => {}
        }
        if let Some(t) = i.result_type {
            match md.ty(t)? {
                Ty::Void => {}
                _ => {
                    let n = self.comps(t)?;
                    let s = self.alloc(usize::from(n))?;
                    inst.vals.insert(r, V::Reg(s));
                }
            }
        }
        Ok(())
    }
}
