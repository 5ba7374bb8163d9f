//! Calls to imported functions and uses of imported variables (see `crate::linkage`): a
//! resolved call is inlined from the exporting module (the decoder switches to that
//! module's facts for the callee's body); an unresolved one makes the kernel unlinked.

use super::{Dec, V};
use crate::ir::{Edge, Slot, Term};
use crate::module::{Mod, Res};
use rspirv::spirv::Word;
use std::collections::HashMap;

/// One module as the decoder sees it.
pub(crate) struct Ctx<'a, 'm> {
    /// Its facts.
    pub(crate) md: &'a Mod<'m>,
    /// Addresses of its program-scope variables, imported ones included once linked.
    pub(crate) global_addr: &'a HashMap<Word, u64>,
    /// Its resolved function imports: (module index, exported function).
    pub(crate) links: HashMap<Word, (usize, Word)>,
}

impl Dec<'_, '_> {
    /// Switches the decoder to module `to`; returns the module it was in.
    fn switch(&mut self, to: usize) -> usize {
        let from = self.cur;
        self.stash[from] = std::mem::take(&mut self.mod_vals);
        self.mod_vals = std::mem::take(&mut self.stash[to]);
        self.md = self.mods[to].md;
        self.global_addr = self.mods[to].global_addr;
        self.cur = to;
        from
    }

    /// A call to function `fid`, which has no body in the current module.
    pub(super) fn call_import(
        &mut self,
        fid: Word,
        entry: u32,
        args: &[V],
        ret: Option<(Slot, u16)>,
        cont: Option<u32>,
    ) -> Res<()> {
        let Some(name) = self.md.imports.get(&fid).cloned() else {
            return Err(format!(
                "call to `{}`, which is declared but neither defined in this module nor imported (no LinkageAttributes Import)",
                self.md.name(fid)
            ));
        };
        match self.mods[self.cur].links.get(&fid).copied() {
            Some((module, efid)) => {
                let back = self.switch(module);
                let r = self.inline(efid, entry, args, ret, cont);
                self.switch(back);
                r
            }
            None => {
                // Unlinked: the kernel is refused at launch, so this code never runs.
                if !self.unresolved.contains(&name) {
                    self.unresolved.push(name);
                }
                let start = self.code.insts.len() as u32;
                let term = match cont {
                    Some(to) => Term::Jump(Edge { to, moves: vec![] }),
                    None => Term::Trap,
                };
                self.finish(entry, start, term)
            }
        }
    }

    /// A module-scope variable without storage of its own: an unresolved import (the
    /// kernel is unlinked; its address is never used).
    pub(super) fn imported_variable(&mut self, id: Word) -> Res<V> {
        match self.md.imports.get(&id) {
            Some(name) => {
                if !self.unresolved.contains(name) {
                    self.unresolved.push(name.clone());
                }
                Ok(V::Reg(self.const_u64(0)?))
            }
            None => Err(format!("module-scope variable %{id} has no storage")),
        }
    }
}
