//! Lowering the IR to Cranelift: one round function per kernel (see the module docs of
//! `jit`), a Cranelift block per IR block, a `Variable` per component slot.

use super::Compiled;
use super::run::{self, BUILTINS, Ctx, DONE, ROUND_FAIL, ROUND_OK, ROUND_STOP, ROUND_TRAP};
use super::simd::{self, Class};
use super::slots::{self, Run, Set};
use crate::ir::{Builtin, Code, Edge, Inst, Param, Preset, Slot, Term};
use crate::mem::Space;
use crate::ops::{BinOp, Cmp, FBin, FUn, Fk, TernOp, UnOp, mask};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    AbiParam, Block, Function, InstBuilder, MemFlags, Signature, UserFuncName, Value, types,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch, Variable};
use cranelift_module::Module;
use std::mem::offset_of;

mod vector;

/// The operations compiled code passes to `crate::ops` by address: owned by the
/// [`Compiled`] kernel, never moved (boxed slices) and never written after compilation.
#[derive(Default)]
pub(super) struct OpTables {
    bins: Box<[BinOp]>,
    uns: Box<[UnOp]>,
    terns: Box<[TernOp]>,
    /// Per instruction of `Code::insts`: its entry in the table of its kind.
    at: Box<[u32]>,
}

const I64: types::Type = types::I64;
const I32: types::Type = types::I32;

/// Builds the ISA of this machine (its SIMD extensions included).
fn isa() -> Result<cranelift_codegen::isa::OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v)
            .map_err(|e| format!("Cranelift setting {k}={v}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    let builder = cranelift_native::builder()
        .map_err(|e| format!("Cranelift does not support this machine: {e}"))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("Cranelift: {e}"))
}

/// Compiles `code` (which `super::unsupported` accepted).
pub(super) fn compile(code: &Code, checked: bool, max_width: usize) -> Result<Compiled, String> {
    let isa = isa()?;
    let mut module = cranelift_jit::JITModule::new(cranelift_jit::JITBuilder::with_isa(
        isa,
        cranelift_module::default_libcall_names(),
    ));
    let ptr = module.target_config().pointer_type();
    if ptr != I64 {
        return Err("the JIT needs a 64-bit machine".into());
    }
    let mut sig = Signature::new(module.target_config().default_call_conv);
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I32));
    let id = module
        .declare_function("round", cranelift_module::Linkage::Local, &sig)
        .map_err(|e| format!("Cranelift: {e}"))?;
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
    if code.blocks.len() >= run::CHUNK as usize {
        return Err(format!(
            "{} blocks: the JIT numbers blocks below {}",
            code.blocks.len(),
            run::CHUNK
        ));
    }
    let tables = tables(code);
    let width = vector::width(code)?.min(max_width);
    let mut fctx = FunctionBuilderContext::new();
    let frame_slots;
    let uniforms;
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let call_conv = module.target_config().default_call_conv;
        let mut lower = Lower::new(code, checked, width, &tables, &mut b, call_conv);
        lower.function();
        frame_slots = lower.frame_slots as usize;
        uniforms = std::mem::take(&mut lower.uniforms);
        if std::env::var_os("LEVEL_ZERO_CPU_JIT_DUMP").is_some() {
            let saved: Vec<Slot> = (0..code.slots)
                .filter(|&s| lower.frame_index[s as usize] != u32::MAX)
                .collect();
            eprintln!("frame: {frame_slots} slots per lane {saved:?}");
        }
        b.seal_all_blocks();
        b.finalize();
    }
    if std::env::var_os("LEVEL_ZERO_CPU_JIT_DUMP").is_some() {
        let class = simd::classes(code, &slots::live_in(code), &slots::written(code));
        for (bi, blk) in code.blocks.iter().enumerate() {
            eprintln!("block {bi}:");
            for inst in &code.insts[blk.start as usize..blk.end as usize] {
                let mut w = Vec::new();
                slots::writes(code, inst, &mut w);
                let cls: Vec<String> = w
                    .iter()
                    .flat_map(|&(s, n)| s..s + n)
                    .map(|s| format!("{s}:{:?}", class[s as usize]))
                    .collect();
                eprintln!("  {inst:?} -> {}", cls.join(" "));
            }
            eprintln!("  {:?}", blk.term);
        }
        eprintln!("{}", func.display());
    }
    let mut ctx = module.make_context();
    ctx.func = func;
    let dump_asm = std::env::var_os("LEVEL_ZERO_CPU_JIT_DUMP").is_some_and(|v| v == "asm");
    ctx.set_disasm(dump_asm);
    module
        .define_function(id, &mut ctx)
        .map_err(|e| format!("Cranelift could not compile the kernel: {e:?}"))?;
    if dump_asm && let Some(text) = ctx.compiled_code().and_then(|c| c.vcode.as_ref()) {
        eprintln!("{text}");
    }
    module
        .finalize_definitions()
        .map_err(|e| format!("Cranelift: {e}"))?;
    let p = module.get_finalized_function(id);
    // SAFETY: `p` is the finalized code of a function with exactly this signature
    // (`sig`: one pointer-sized argument, a 32-bit result, the platform's C convention).
    let entry =
        unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut Ctx) -> u32>(p) };
    Ok(Compiled {
        entry,
        frame_slots,
        single_round: single_round(code),
        width,
        needs_rows: simd::needs_rows(code),
        site_spans: Lower::site_spans(code).into(),
        uniforms: uniforms.into(),
        _ops: tables,
        module: Some(module),
    })
}

/// Whether `code` has no work-group barrier, so that one round runs every lane to its
/// return (`run::run_group` then calls the round function once, and lanes keep no resume
/// block).
pub(super) fn single_round(code: &Code) -> bool {
    !code
        .blocks
        .iter()
        .any(|b| matches!(b.term, Term::Barrier(_)))
}

/// Which slots a lane's frame holds: those live into some barrier's continuation (and
/// written by the kernel), each at its index; and how many.
fn frame_layout(
    code: &Code,
    live: &[Set],
    written: &Set,
    remat: &[Option<u32>],
) -> (Vec<u32>, u32) {
    let mut index = vec![u32::MAX; code.slots as usize];
    let mut n = 0u32;
    for b in &code.blocks {
        if let Term::Barrier(t) = b.term {
            for s in live[t as usize].iter() {
                if written.contains(s)
                    && remat[s as usize].is_none()
                    && index[s as usize] == u32::MAX
                {
                    index[s as usize] = n;
                    n += 1;
                }
            }
        }
    }
    (index, n)
}

/// The operation tables: every `Bin`/`Un`/`Tern` operation of the kernel, by instruction.
fn tables(code: &Code) -> OpTables {
    let (mut bins, mut uns, mut terns) = (Vec::new(), Vec::new(), Vec::new());
    let mut at = Vec::with_capacity(code.insts.len());
    for inst in &code.insts {
        at.push(match *inst {
            Inst::Bin { op, .. } => {
                bins.push(op);
                bins.len() - 1
            }
            Inst::Un { op, .. } => {
                uns.push(op);
                uns.len() - 1
            }
            Inst::Tern { op, .. } => {
                terns.push(op);
                terns.len() - 1
            }
            _ => 0,
        } as u32);
    }
    OpTables {
        bins: bins.into(),
        uns: uns.into(),
        terns: terns.into(),
        at: at.into(),
    }
}

struct Lower<'a, 'b> {
    code: &'a Code,
    checked: bool,
    tables: &'a OpTables,
    b: &'a mut FunctionBuilder<'b>,
    call_conv: cranelift_codegen::isa::CallConv,
    vars: Vec<Variable>,
    /// Slots some instruction or move writes.
    written: Set,
    /// Read-only slots whose value differs per lane (private addresses).
    per_lane: Set,
    live: Vec<Set>,
    blocks: Vec<Block>,
    ctx: Value,
    lane: Variable,
    lanes: Value,
    regs: Value,
    /// The block that advances to the next lane.
    next: Block,
    /// Context fields loaded once per round (in the entry block, which dominates every
    /// other), by offset.
    fields: Vec<(usize, Value)>,
    /// Per access site: its allocation bounds `[lo, hi)` (checked mode), reloaded after the
    /// checker refreshed them.
    /// Per slot: its index in a lane's frame (`u32::MAX`: never live across a barrier).
    frame_index: Vec<u32>,
    /// Per slot: the instruction computing it again at a barrier's continuation instead of
    /// a frame entry (`slots::recomputable`).
    remat: Vec<Option<u32>>,
    /// Entries of a lane's frame.
    frame_slots: u32,
    reads: Vec<Run>,
    writes: Vec<Run>,
    /// The vector path (`vector.rs`) is compiled.
    vector: bool,
    /// Lanes per chunk of the vector path (`vector::width`).
    vw: usize,
    /// Per slot: how the vector path keeps it.
    class: Vec<Class>,
    /// Per slot: its vector variables (narrow: one `i32x4`; wide: two `i64x2`).
    vvars: Vec<Vec<Variable>>,
    /// While lowering one instruction of the vector path for one lane: that lane (`get` and
    /// `set` then read and write that lane of varying slots).
    vlane: Option<u8>,
    /// The vector path's block of each IR block.
    vblocks: Vec<Block>,
    /// Lanes below this one continue one by one from a divergent branch (`div_site`).
    div_end: Variable,
    div_site: Variable,
    /// The blocks whose branch may diverge, and per IR block, the scalar block of its
    /// terminator (where such lanes continue).
    div_sites: Vec<usize>,
    term_blocks: Vec<Option<Block>>,
    /// Slots some instruction, edge or terminator reads.
    used: Set,
    /// The round's head: the next lane or chunk.
    head: Block,
    /// While lowering an instruction of the vector path: the vector slots live after it
    /// (its results excepted), which a cold callout saves around the call
    /// (`vector::cold_save`).
    vlive: Vec<Slot>,
    /// While lowering an instruction of the vector path whose local access its family's
    /// range check covers (`vector::memory::prechecks`): no check of its own.
    prechecked: bool,
    /// The stack area those saves go to, made at the first.
    cold: Option<cranelift_codegen::ir::StackSlot>,
    /// A kernel without barriers: where a chunk starts on the vector path (its inputs
    /// loaded), for a chunk's successor known to take it too (`vector::jump_vnext`).
    vstart: Option<Block>,
    /// Vector slots the vector path set from pure arithmetic since the last memory access
    /// of its block (`vector::anchor`).
    pending: Vec<Slot>,
    /// Per IR block: where a chunk on the vector path loads its values before going on at
    /// it (the kernel's entry and barriers' continuations; `vector::fill_block`).
    vfills: Vec<Option<Block>>,
    /// Per IR block: the round starts (the kernel's entry, barriers' and sub-group meetings'
    /// continuations) from which a round reaches it (`vector::region_entries`).
    region_entry: Vec<Vec<u32>>,
    /// On the vector path: the round start the chunk loaded its values at (`fill_block`).
    vfrom: Variable,
    /// Read-only slots the vector path reads, loaded again where a chunk starts its round
    /// (`vector::vector_entry`, from `run::Ctx::uniforms`): values live through the round
    /// rather than through the whole function, so that the register allocator keeps the
    /// ones its loops use in registers (a checked tiled matmul spilled its tile bases and
    /// reloaded them at each multiply-add: 13% slower). With their index in `uniforms`.
    hvars: Vec<Option<(Variable, u32)>>,
    /// The slots of `run::Ctx::uniforms`, in order (`Compiled::uniforms`).
    uniforms: Vec<Slot>,
    /// While lowering the vector path: [`Self::var`] reads `hvars`.
    in_vector: bool,
}

fn flags() -> MemFlags {
    MemFlags::trusted()
}

impl<'a, 'b> Lower<'a, 'b> {
    fn new(
        code: &'a Code,
        checked: bool,
        vw: usize,
        tables: &'a OpTables,
        b: &'a mut FunctionBuilder<'b>,
        call_conv: cranelift_codegen::isa::CallConv,
    ) -> Self {
        let vars = (0..code.slots).map(|_| b.declare_var(I64)).collect();
        let lane = b.declare_var(I64);
        let mut per_lane = Set::new(code.slots);
        for p in &code.presets {
            if let Preset::Private { d, .. } = *p {
                per_lane.insert(d);
            }
        }
        for p in &code.params {
            if let Param::ByVal { d, .. } = *p {
                per_lane.insert(d);
            }
        }
        let blocks = code.blocks.iter().map(|_| b.create_block()).collect();
        let next = b.create_block();
        // Liveness and the written slots, computed once for every analysis below.
        let live = slots::live_in(code);
        let written = slots::written(code);
        let class = simd::classes(code, &live, &written);
        let remat = slots::recomputable(code, &live);
        let vector = vw > 0;
        let mut vvars = vec![Vec::new(); code.slots as usize];
        let mut div_sites = Vec::new();
        let mut term_blocks = vec![None; code.blocks.len()];
        let mut vblocks = Vec::new();
        let mut region_entry = Vec::new();
        if vector {
            for (s, c) in class.iter().enumerate() {
                vvars[s] = match c {
                    Class::Uniform | Class::Affine(_) => Vec::new(),
                    Class::Narrow => (0..vw / 4).map(|_| b.declare_var(types::I32X4)).collect(),
                    Class::Wide => (0..vw / 2).map(|_| b.declare_var(types::I64X2)).collect(),
                };
            }
            for (bi, blk) in code.blocks.iter().enumerate() {
                let varying = |s: Slot| class[s as usize] != Class::Uniform;
                if matches!(blk.term, Term::Branch { c, .. } if varying(c))
                    || matches!(blk.term, Term::Switch { sel, .. } if varying(sel))
                {
                    div_sites.push(bi);
                    term_blocks[bi] = Some(b.create_block());
                }
            }
            vblocks = code.blocks.iter().map(|_| b.create_block()).collect();
            region_entry = vector::region_entries(code);
        }
        let head = b.create_block();
        let div_end = b.declare_var(I64);
        let div_site = b.declare_var(I64);
        let vfrom = b.declare_var(I32);
        Lower {
            code,
            checked,
            tables,
            written,
            per_lane,
            live,
            blocks,
            ctx: Value::from_u32(0),
            lanes: Value::from_u32(0),
            regs: Value::from_u32(0),
            b,
            call_conv,
            vars,
            lane,
            next,
            fields: Vec::new(),
            frame_index: Vec::new(),
            remat,
            frame_slots: 0,
            reads: Vec::new(),
            writes: Vec::new(),
            vector,
            vw,
            class,
            vvars,
            vlane: None,
            vblocks,
            div_end,
            div_site,
            div_sites,
            term_blocks,
            used: Set::new(code.slots),
            head,
            vlive: Vec::new(),
            prechecked: false,
            pending: Vec::new(),
            cold: None,
            vstart: None,
            vfills: vec![None; code.blocks.len()],
            region_entry,
            vfrom,
            hvars: vec![None; code.slots as usize],
            uniforms: Vec::new(),
            in_vector: false,
        }
    }

    fn ctx_field(&mut self, off: usize) -> Value {
        if let Some(&(_, v)) = self.fields.iter().find(|(o, _)| *o == off) {
            return v;
        }
        self.b.ins().load(I64, flags(), self.ctx, off as i32)
    }

    /// Loads the context fields a round reads but never changes, once, in the entry block;
    /// and the access sites' bounds (checked mode).
    fn hoist(&mut self) {
        // Only what the kernel uses: every hoisted field is a value live through the whole
        // round (a register, or a stack slot when they run out).
        let mut spaces = Vec::new();
        let mut dims = 0usize;
        for inst in &self.code.insts {
            match *inst {
                Inst::Load { space, .. }
                | Inst::Store { space, .. }
                | Inst::LoadIdx { space, .. }
                | Inst::StoreIdx { space, .. } => spaces.push(space),
                Inst::Builtin {
                    b: Builtin::GlobalId | Builtin::LocalId,
                    n,
                    comp,
                    ..
                } => dims = dims.max(comp.map_or(usize::from(n), |c| usize::from(c) + 1)),
                _ => {}
            }
        }
        let uses = |s: Space| spaces.iter().any(|&x| x == s || x == Space::Generic);
        let mut offs = Vec::new();
        if !self.single_round() {
            offs.push(offset_of!(Ctx, resume));
        }
        if self.checked && self.code.sites > 0 {
            offs.push(offset_of!(Ctx, sites));
        }
        if self.checked && uses(Space::Local) {
            offs.extend([offset_of!(Ctx, local), offset_of!(Ctx, local) + 8]);
        }
        if self.checked && uses(Space::Private) {
            offs.extend([
                offset_of!(Ctx, private_base),
                offset_of!(Ctx, private_stride),
            ]);
        }
        for d in 0..dims.min(3) {
            offs.push(offset_of!(Ctx, lid) + 8 * d);
            offs.push(offset_of!(Ctx, gbase) + 8 * d);
        }
        for off in offs {
            let v = self.ctx_field(off);
            self.fields.push((off, v));
        }
        if self.frame_slots > 0 {
            let v = self.ctx_field(offset_of!(Ctx, frame));
            self.fields.push((offset_of!(Ctx, frame), v));
        }
    }

    /// Site `site`'s bounds as the checker left them in the context: `lo` and the number of
    /// addresses an access of the site's largest span may start at (`run::cb_check` stores
    /// `hi - lo - span + 1`, or 0), so that the inline check is one subtraction and one
    /// compare. Read from memory at each check rather than kept in registers: a value live
    /// through the whole round costs a register or a stack slot for every site.
    fn site_bounds(&mut self, site: u32) -> (Value, Value) {
        let sites = self.ctx_field(offset_of!(Ctx, sites));
        let lo = self.b.ins().load(I64, flags(), sites, (site * 16) as i32);
        let count = self
            .b
            .ins()
            .load(I64, flags(), sites, (site * 16 + 8) as i32);
        (lo, count)
    }

    /// The span of every native access of each site (the largest, if a site had several:
    /// a stricter inline check only sends more accesses to the checker).
    fn site_spans(code: &Code) -> Vec<u64> {
        let mut spans = vec![0u64; code.sites as usize];
        for inst in &code.insts {
            let (site, span) = match *inst {
                Inst::Load {
                    size,
                    n,
                    stride,
                    site,
                    ..
                }
                | Inst::Store {
                    size,
                    n,
                    stride,
                    site,
                    ..
                } => (site, u64::from(n - 1) * u64::from(stride) + u64::from(size)),
                Inst::LoadIdx { size, site, .. } | Inst::StoreIdx { size, site, .. } => {
                    (site, u64::from(size))
                }
                _ => continue,
            };
            if let Some(s) = spans.get_mut(site as usize) {
                *s = (*s).max(span);
            }
        }
        spans
    }

    /// The register-file address of `slot` for `lane`.
    fn reg_addr(&mut self, slot: Slot, lane: Value) -> Value {
        let base = self.b.ins().imul_imm(self.lanes, i64::from(slot));
        let i = self.b.ins().iadd(base, lane);
        let off = self.b.ins().ishl_imm(i, 3);
        self.b.ins().iadd(self.regs, off)
    }

    fn spill(&mut self, slot: Slot, lane: Value) {
        let v = self.get(slot);
        let a = self.reg_addr(slot, lane);
        self.b.ins().store(flags(), v, a, 0);
    }

    /// The address of `slot` in `lane`'s frame: the values live across barriers, each slot's
    /// for consecutive lanes together in a row of `8 * lanes` bytes (`frame[index * lanes +
    /// lane]`), so that the vector path saves and restores a chunk's values as whole vectors.
    /// A narrow slot's entries ([`Self::frame_narrow`]) are 4 bytes, at the start of its row.
    fn frame_addr(&mut self, slot: Slot, lane: Value) -> Value {
        let k = self.frame_index[slot as usize];
        debug_assert!(k != u32::MAX, "slot {slot} has no frame entry");
        let frame = self.ctx_field(offset_of!(Ctx, frame));
        let row = self.b.ins().imul_imm(self.lanes, 8 * i64::from(k));
        let shift = if self.frame_narrow(slot) { 2 } else { 3 };
        let at = self.b.ins().ishl_imm(lane, shift);
        let a = self.b.ins().iadd(frame, row);
        self.b.ins().iadd(a, at)
    }

    /// Whether `slot`'s frame entries are 32 bits: its values are all below 2^32
    /// ([`simd::Class::Narrow`], a fact of the kernel's arithmetic whichever path computes
    /// them), so the vector path saves and restores them as `i32x4` vectors, not widened.
    fn frame_narrow(&self, slot: Slot) -> bool {
        self.class[slot as usize] == Class::Narrow
    }

    fn spill_frame(&mut self, slot: Slot, lane: Value) {
        let v = self.var(slot);
        let a = self.frame_addr(slot, lane);
        if self.frame_narrow(slot) {
            self.b.ins().istore32(flags(), v, a, 0);
        } else {
            self.b.ins().store(flags(), v, a, 0);
        }
    }

    fn fill_frame(&mut self, slot: Slot, lane: Value) {
        let a = self.frame_addr(slot, lane);
        let v = if self.frame_narrow(slot) {
            self.b.ins().uload32(flags(), a, 0)
        } else {
            self.b.ins().load(I64, flags(), a, 0)
        };
        self.b.def_var(self.vars[slot as usize], v);
    }

    fn fill(&mut self, slot: Slot, lane: Value) {
        let a = self.reg_addr(slot, lane);
        let v = self.b.ins().load(I64, flags(), a, 0);
        self.set(slot, v);
    }

    /// Slot `s`'s value: of this lane on the scalar path, of lane `vlane` of the chunk while
    /// the vector path runs an instruction lane by lane, the chunk's uniform value otherwise.
    fn get(&mut self, s: Slot) -> Value {
        match self.vlane {
            Some(l) if self.class[s as usize] != Class::Uniform => self.lane_get(s, l),
            _ => self.var(s),
        }
    }

    /// Slot `s`'s scalar value (a uniform or affine slot's; any slot's on the scalar path).
    pub(super) fn var(&mut self, s: Slot) -> Value {
        match self.hvars[s as usize] {
            Some((h, _)) if self.in_vector => self.b.use_var(h),
            _ => self.b.use_var(self.vars[s as usize]),
        }
    }

    fn set(&mut self, s: Slot, v: Value) {
        match self.vlane {
            Some(l) if self.class[s as usize] != Class::Uniform => self.lane_set(s, l, v),
            _ => self.b.def_var(self.vars[s as usize], v),
        }
    }

    fn function(&mut self) {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.ctx = self.b.block_params(entry)[0];
        (self.frame_index, self.frame_slots) =
            frame_layout(self.code, &self.live, &self.written, &self.remat);
        self.regs = self.ctx_field(offset_of!(Ctx, regs));
        self.lanes = self.ctx_field(offset_of!(Ctx, lanes));
        self.hoist();
        // Read-only slots the same for every lane: once per round; the module's constants
        // as constants (a register-file value would be one more value live through the
        // whole round, for the register allocator to keep or spill; an immediate is neither).
        let used = self.used_slots();
        let zero = self.b.ins().iconst(I64, 0);
        let constant = simd::constant_values(self.code);
        for s in used.iter() {
            if !self.written.contains(s) && !self.per_lane.contains(s) {
                match constant[s as usize] {
                    Some(c) => {
                        let v = self.b.ins().iconst(I64, c as i64);
                        self.set(s, v);
                    }
                    None => {
                        self.fill(s, zero);
                        if self.vector {
                            // Defined here too: a path to the vector path's code not through
                            // its entry (none is known) would read this value, not zero.
                            let h = self.b.declare_var(I64);
                            let v = self.b.use_var(self.vars[s as usize]);
                            self.b.def_var(h, v);
                            self.hvars[s as usize] = Some((h, self.uniforms.len() as u32));
                            self.uniforms.push(s);
                        }
                    }
                }
            }
        }
        self.b.def_var(self.lane, zero);
        self.b.def_var(self.div_end, zero);
        self.b.def_var(self.div_site, zero);
        self.used = used.clone();
        let head = self.head;
        let dispatch = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().jump(head, &[]);

        // head: the next lane (or chunk of lanes), or the end of the round.
        self.b.switch_to_block(head);
        let lane = self.b.use_var(self.lane);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, lane, self.lanes);
        if self.vector {
            let pick = self.b.create_block();
            self.b.ins().brif(more, pick, &[], done, &[]);
            self.b.switch_to_block(pick);
            self.vector_head(head, dispatch);
        } else {
            self.b.ins().brif(more, dispatch, &[], done, &[]);
        }

        self.b.switch_to_block(done);
        let ok = self.b.ins().iconst(I32, i64::from(ROUND_OK));
        self.b.ins().return_(&[ok]);

        // dispatch: the lane's resume block.
        self.b.switch_to_block(dispatch);
        self.fill_lane_inputs();
        let lane = self.b.use_var(self.lane);
        let targets = self.round_starts();
        let mut stubs = Vec::new();
        if self.single_round() {
            // Every lane runs once, from the entry: no resume block to read.
            let stub = self.b.create_block();
            self.b.ins().jump(stub, &[]);
            stubs.push((self.code.entry, stub, false));
        } else {
            let resume = self.ctx_field(offset_of!(Ctx, resume));
            let off = self.b.ins().ishl_imm(lane, 2);
            let at = self.b.ins().iadd(resume, off);
            let r = self.b.ins().uload32(flags(), at, 0);
            let mut sw = Switch::new();
            for &t in &targets {
                let stub = self.b.create_block();
                sw.set_entry(u128::from(t), stub);
                stubs.push((t, stub, false));
                // Saved by a chunk on the vector path (marked `run::CHUNK`). `DONE` stays no
                // target.
                if self.vector && t != self.code.entry {
                    let stub = self.b.create_block();
                    sw.set_entry(u128::from(t | run::CHUNK), stub);
                    stubs.push((t, stub, true));
                }
            }
            sw.emit(self.b, r, self.next);
        }
        for (t, stub, chunk) in stubs {
            self.b.switch_to_block(stub);
            let lane = self.b.use_var(self.lane);
            let live: Vec<Slot> = self.live[t as usize]
                .iter()
                .filter(|&s| self.written.contains(s))
                .collect();
            if t == self.code.entry {
                // The entry's live-ins are the register file's initial values.
                for s in live {
                    self.fill(s, lane);
                }
            } else {
                // A barrier's continuation's: what the barrier saved in the lane's frame, and
                // what can be computed again. A chunk saved its uniform and affine values as
                // its first lane's entry only (`vector::blocks`; chunks start at multiples of
                // the width): this lane's is that one plus its distance times the stride.
                let base = chunk.then(|| self.b.ins().band_imm(lane, !(self.vw as i64 - 1)));
                for s in self.saved(t) {
                    match (base, self.class[s as usize]) {
                        (Some(base), Class::Uniform) => self.fill_frame(s, base),
                        (Some(base), Class::Affine(k)) => {
                            self.fill_frame(s, base);
                            let x0 = self.var(s);
                            let d = self.b.ins().isub(lane, base);
                            let d = self.b.ins().imul_imm(d, k);
                            let x = self.b.ins().iadd(x0, d);
                            self.b.def_var(self.vars[s as usize], x);
                        }
                        _ => self.fill_frame(s, lane),
                    }
                }
                for idx in self.recompute(t) {
                    self.inst(idx);
                }
            }
            self.b.ins().jump(self.blocks[t as usize], &[]);
        }

        // next: lane + 1.
        self.b.switch_to_block(self.next);
        let lane = self.b.use_var(self.lane);
        let l1 = self.b.ins().iadd_imm(lane, 1);
        self.b.def_var(self.lane, l1);
        self.b.ins().jump(head, &[]);

        for bi in 0..self.code.blocks.len() {
            self.block(bi);
        }
        if self.vector {
            for bi in 0..self.code.blocks.len() {
                self.vblock(bi);
            }
        }
    }

    /// The read-only slots that differ per lane (private addresses, by-value arguments)
    /// the kernel reads, from the register file for this lane.
    fn fill_lane_inputs(&mut self) {
        let lane = self.b.use_var(self.lane);
        let inputs: Vec<Slot> = self
            .used
            .iter()
            .filter(|&s| !self.written.contains(s) && self.per_lane.contains(s))
            .collect();
        for s in inputs {
            self.fill(s, lane);
        }
    }

    /// Every slot some instruction, edge or terminator reads.
    fn used_slots(&mut self) -> Set {
        let mut set = Set::new(self.code.slots);
        for inst in &self.code.insts {
            inst_reads(self.code, inst, &mut set);
        }
        for blk in &self.code.blocks {
            term_reads(&blk.term, &mut set);
        }
        set
    }

    fn block(&mut self, bi: usize) {
        let code = self.code;
        let blk = &code.blocks[bi];
        self.b.switch_to_block(self.blocks[bi]);
        for idx in blk.start as usize..blk.end as usize {
            self.inst(idx);
        }
        if let Some(t) = self.term_blocks[bi] {
            // Lanes that leave the vector path at this block's branch continue here.
            self.b.ins().jump(t, &[]);
            self.b.switch_to_block(t);
        }
        match &blk.term {
            Term::Jump(e) => self.edge(e),
            Term::Branch { c, t, f } => {
                let c = self.get(*c);
                let (tb, fb) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(c, tb, &[], fb, &[]);
                self.b.switch_to_block(tb);
                self.edge(t);
                self.b.switch_to_block(fb);
                self.edge(f);
            }
            Term::Switch {
                sel,
                cases,
                default,
            } => {
                let v = self.get(*sel);
                self.switch_edges(v, cases, default, Self::edge);
            }
            Term::Return => {
                if !self.single_round() {
                    self.set_resume(DONE);
                }
                self.b.ins().jump(self.next, &[]);
            }
            Term::Barrier(n) => {
                let lane = self.b.use_var(self.lane);
                for s in self.saved(*n) {
                    self.spill_frame(s, lane);
                }
                self.set_resume(*n);
                self.b.ins().jump(self.next, &[]);
            }
            Term::SubgroupSync(_) | Term::Trap | Term::Fail { .. } => self.stop_term(bi),
        }
    }

    /// A switch on `v` to `cases` (the first case of a value wins, as the interpreter's
    /// `find`) or `default`, each edge lowered by `edge` (the scalar or the vector path's).
    fn switch_edges(
        &mut self,
        v: Value,
        cases: &[(u64, Edge)],
        default: &Edge,
        edge: fn(&mut Self, &Edge),
    ) {
        let mut sw = Switch::new();
        let mut seen = Vec::new();
        let mut targets = Vec::new();
        for (c, e) in cases {
            if seen.contains(c) {
                continue;
            }
            seen.push(*c);
            let eb = self.b.create_block();
            sw.set_entry(u128::from(*c), eb);
            targets.push((eb, e));
        }
        let db = self.b.create_block();
        sw.emit(self.b, v, db);
        for (eb, e) in targets {
            self.b.switch_to_block(eb);
            edge(self, e);
        }
        self.b.switch_to_block(db);
        edge(self, default);
    }

    /// The terminators that end the round for the lane at `self.lane` (the vector path's
    /// chunk: its lane 0, the first to get there in lane order): a trap, a failure with its
    /// value (read through `get`), and sub-group meetings (refused by `super::unsupported`).
    fn stop_term(&mut self, bi: usize) {
        match &self.code.blocks[bi].term {
            Term::Trap => {
                self.stop_lane();
                let r = self.b.ins().iconst(I32, i64::from(ROUND_TRAP));
                self.b.ins().return_(&[r]);
            }
            Term::Fail { value, .. } => {
                self.stop_lane();
                let which = self.b.ins().iconst(I64, bi as i64);
                self.b
                    .ins()
                    .store(flags(), which, self.ctx, offset_of!(Ctx, fail) as i32);
                if let Some(v) = *value {
                    let x = self.get(v);
                    self.b
                        .ins()
                        .store(flags(), x, self.ctx, offset_of!(Ctx, fail_value) as i32);
                }
                let r = self.b.ins().iconst(I32, i64::from(ROUND_FAIL));
                self.b.ins().return_(&[r]);
            }
            _ => {
                self.b
                    .ins()
                    .trap(cranelift_codegen::ir::TrapCode::unwrap_user(1));
            }
        }
    }

    /// The slots a barrier continuing at `t` saves in the lanes' frames: those live there
    /// that the kernel writes and that cannot be computed again.
    fn saved(&self, t: u32) -> Vec<Slot> {
        self.live[t as usize]
            .iter()
            .filter(|&s| self.written.contains(s) && self.remat[s as usize].is_none())
            .collect()
    }

    /// The instructions computing again the recomputable slots live at `t`, operands first.
    pub(super) fn recompute(&self, t: u32) -> Vec<usize> {
        fn visit(l: &Lower<'_, '_>, s: Slot, out: &mut Vec<usize>, r: &mut Vec<Run>) {
            let Some(i) = l.remat.get(s as usize).copied().flatten() else {
                return;
            };
            let i = i as usize;
            if out.contains(&i) {
                return;
            }
            r.clear();
            slots::reads(l.code, &l.code.insts[i], r);
            let ops: Vec<Slot> = r.iter().flat_map(|&(x, k)| x..x + k).collect();
            for x in ops {
                visit(l, x, out, r);
            }
            out.push(i);
        }
        let mut out = Vec::new();
        let mut r = Vec::new();
        for s in self.live[t as usize].iter() {
            if self.written.contains(s) {
                visit(self, s, &mut out, &mut r);
            }
        }
        out
    }

    /// Whether the kernel has no work-group barrier: one round runs it whole.
    fn single_round(&self) -> bool {
        single_round(self.code)
    }

    /// The blocks a round starts lanes at: the kernel's entry and every barrier's
    /// continuation (the dispatch's targets, and the vector path's).
    fn round_starts(&self) -> Vec<u32> {
        let mut starts = vec![self.code.entry];
        for blk in &self.code.blocks {
            if let Term::Barrier(n) = blk.term
                && !starts.contains(&n)
            {
                starts.push(n);
            }
        }
        starts
    }

    fn stop_lane(&mut self) {
        let lane = self.b.use_var(self.lane);
        self.b
            .ins()
            .store(flags(), lane, self.ctx, offset_of!(Ctx, fail_lane) as i32);
    }

    fn set_resume(&mut self, to: u32) {
        let lane = self.b.use_var(self.lane);
        let resume = self.ctx_field(offset_of!(Ctx, resume));
        let off = self.b.ins().ishl_imm(lane, 2);
        let at = self.b.ins().iadd(resume, off);
        let v = self.b.ins().iconst(I32, i64::from(to as i32));
        self.b.ins().store(flags(), v, at, 0);
    }

    /// An edge's moves (in order, as the interpreter does them), then the jump.
    fn edge(&mut self, e: &Edge) {
        for m in &e.moves {
            for k in 0..u32::from(m.n) {
                let v = self.get(m.s + k);
                self.set(m.d + k, v);
            }
        }
        self.b.ins().jump(self.blocks[e.to as usize], &[]);
    }

    // ---- values -------------------------------------------------------------------------

    fn sext(&mut self, x: Value, w: u8) -> Value {
        if w >= 64 {
            return x;
        }
        let s = i64::from(64 - w);
        let y = self.b.ins().ishl_imm(x, s);
        self.b.ins().sshr_imm(y, s)
    }

    fn mask(&mut self, x: Value, m: u64) -> Value {
        if m == u64::MAX {
            x
        } else {
            self.b.ins().band_imm(x, m as i64)
        }
    }

    fn bool64(&mut self, c: Value) -> Value {
        self.b.ins().uextend(I64, c)
    }

    fn as_float(&mut self, x: Value, k: Fk) -> Value {
        match k {
            Fk::S => {
                let x = self.b.ins().ireduce(I32, x);
                self.b.ins().bitcast(types::F32, MemFlags::new(), x)
            }
            _ => self.b.ins().bitcast(types::F64, MemFlags::new(), x),
        }
    }

    fn bits_of(&mut self, f: Value, k: Fk) -> Value {
        match k {
            Fk::S => {
                let x = self.b.ins().bitcast(I32, MemFlags::new(), f);
                self.b.ins().uextend(I64, x)
            }
            _ => self.b.ins().bitcast(I64, MemFlags::new(), f),
        }
    }

    /// `op(a, b)` compiled, or `None` when it is called out.
    fn bin_native(&mut self, op: BinOp, a: Value, b: Value) -> Option<Value> {
        use BinOp::*;
        Some(match op {
            IAdd(m) => {
                let r = self.b.ins().iadd(a, b);
                self.mask(r, m)
            }
            ISub(m) => {
                let r = self.b.ins().isub(a, b);
                self.mask(r, m)
            }
            IMul(m) => {
                let r = self.b.ins().imul(a, b);
                self.mask(r, m)
            }
            And => self.b.ins().band(a, b),
            Or => self.b.ins().bor(a, b),
            Xor => self.b.ins().bxor(a, b),
            Shl(w) if w > 0 => {
                let s = self.b.ins().urem_imm(b, i64::from(w));
                let r = self.b.ins().ishl(a, s);
                self.mask(r, mask(w))
            }
            Shr(w) if w > 0 => {
                let s = self.b.ins().urem_imm(b, i64::from(w));
                self.b.ins().ushr(a, s)
            }
            Sar(w) if w > 0 => {
                let s = self.b.ins().urem_imm(b, i64::from(w));
                let x = self.sext(a, w);
                let r = self.b.ins().sshr(x, s);
                self.mask(r, mask(w))
            }
            IEq | INe | ULt | ULe | UGt | UGe => {
                let cc = match op {
                    IEq => IntCC::Equal,
                    INe => IntCC::NotEqual,
                    ULt => IntCC::UnsignedLessThan,
                    ULe => IntCC::UnsignedLessThanOrEqual,
                    UGt => IntCC::UnsignedGreaterThan,
                    _ => IntCC::UnsignedGreaterThanOrEqual,
                };
                let c = self.b.ins().icmp(cc, a, b);
                self.bool64(c)
            }
            SLt(w) | SLe(w) | SGt(w) | SGe(w) => {
                let cc = match op {
                    SLt(_) => IntCC::SignedLessThan,
                    SLe(_) => IntCC::SignedLessThanOrEqual,
                    SGt(_) => IntCC::SignedGreaterThan,
                    _ => IntCC::SignedGreaterThanOrEqual,
                };
                let (x, y) = (self.sext(a, w), self.sext(b, w));
                let c = self.b.ins().icmp(cc, x, y);
                self.bool64(c)
            }
            UMin => self.b.ins().umin(a, b),
            UMax => self.b.ins().umax(a, b),
            SMin(w) | SMax(w) => {
                let (x, y) = (self.sext(a, w), self.sext(b, w));
                let cc = if matches!(op, SMin(_)) {
                    IntCC::SignedLessThan
                } else {
                    IntCC::SignedGreaterThan
                };
                let c = self.b.ins().icmp(cc, x, y);
                self.b.ins().select(c, a, b)
            }
            F(k @ (Fk::S | Fk::D), f @ (FBin::Add | FBin::Sub | FBin::Mul | FBin::Div)) => {
                let (x, y) = (self.as_float(a, k), self.as_float(b, k));
                let r = match f {
                    FBin::Add => self.b.ins().fadd(x, y),
                    FBin::Sub => self.b.ins().fsub(x, y),
                    FBin::Mul => self.b.ins().fmul(x, y),
                    _ => self.b.ins().fdiv(x, y),
                };
                self.bits_of(r, k)
            }
            FCmp(k @ (Fk::S | Fk::D), c, ordered) => {
                let cc = match (c, ordered) {
                    (Cmp::Eq, true) => FloatCC::Equal,
                    (Cmp::Eq, false) => FloatCC::UnorderedOrEqual,
                    (Cmp::Ne, true) => FloatCC::OrderedNotEqual,
                    (Cmp::Ne, false) => FloatCC::NotEqual,
                    (Cmp::Lt, true) => FloatCC::LessThan,
                    (Cmp::Lt, false) => FloatCC::UnorderedOrLessThan,
                    (Cmp::Le, true) => FloatCC::LessThanOrEqual,
                    (Cmp::Le, false) => FloatCC::UnorderedOrLessThanOrEqual,
                    (Cmp::Gt, true) => FloatCC::GreaterThan,
                    (Cmp::Gt, false) => FloatCC::UnorderedOrGreaterThan,
                    (Cmp::Ge, true) => FloatCC::GreaterThanOrEqual,
                    (Cmp::Ge, false) => FloatCC::UnorderedOrGreaterThanOrEqual,
                };
                let (x, y) = (self.as_float(a, k), self.as_float(b, k));
                let c = self.b.ins().fcmp(cc, x, y);
                self.bool64(c)
            }
            _ => return None,
        })
    }

    fn un_native(&mut self, op: UnOp, a: Value) -> Option<Value> {
        Some(match op {
            UnOp::Mask(m) => self.mask(a, m),
            UnOp::Sext(from, to) => {
                let x = self.sext(a, from);
                self.mask(x, mask(to))
            }
            UnOp::INeg(m) => {
                let r = self.b.ins().ineg(a);
                self.mask(r, m)
            }
            UnOp::INot(m) => {
                let r = self.b.ins().bnot(a);
                self.mask(r, m)
            }
            UnOp::LNot => {
                let c = self.b.ins().icmp_imm(IntCC::Equal, a, 0);
                self.bool64(c)
            }
            // Sign operations and the square root: exact in IEEE arithmetic, so the same bits
            // as `crate::ops` (NaNs included: the same instructions).
            UnOp::F(k @ (Fk::S | Fk::D), f @ (FUn::Neg | FUn::Fabs | FUn::Sqrt)) => {
                let x = self.as_float(a, k);
                let r = match f {
                    FUn::Neg => self.b.ins().fneg(x),
                    FUn::Fabs => self.b.ins().fabs(x),
                    _ => self.b.ins().sqrt(x),
                };
                self.bits_of(r, k)
            }
            _ => return None,
        })
    }

    fn tern_native(&mut self, op: TernOp, a: Value, b: Value, c: Value) -> Option<Value> {
        match op {
            // `mad` is `fma` (`crate::ops::tern`).
            TernOp::Fma(k @ (Fk::S | Fk::D)) | TernOp::Mad(k @ (Fk::S | Fk::D))
                if vector::has_fma() =>
            {
                let (x, y, z) = (
                    self.as_float(a, k),
                    self.as_float(b, k),
                    self.as_float(c, k),
                );
                let r = self.b.ins().fma(x, y, z);
                Some(self.bits_of(r, k))
            }
            _ => None,
        }
    }

    /// A call to a Rust function at `addr` with `args` (all `i64`), returning `ret`.
    fn call(&mut self, addr: *const (), args: &[Value], ret: Option<types::Type>) -> Option<Value> {
        let mut sig = Signature::new(self.call_conv);
        for _ in args {
            sig.params.push(AbiParam::new(I64));
        }
        if let Some(t) = ret {
            sig.returns.push(AbiParam::new(t));
        }
        let sref = self.b.import_signature(sig);
        let f = self.b.ins().iconst(I64, addr as i64);
        let call = self.b.ins().call_indirect(sref, f, args);
        self.b.inst_results(call).first().copied()
    }

    // ---- memory -------------------------------------------------------------------------

    /// Checks `[addr, addr + span)` for an access at `site` (checked mode); continues in a
    /// new current block when allowed, returns `ROUND_STOP` otherwise.
    fn check(&mut self, addr: Value, span: u64, space: Space, site: u32, write: bool) {
        if !self.checked || self.prechecked {
            return;
        }
        let c = match space {
            Space::Global | Space::Generic => {
                // The count is for the site's largest span, at least this access's:
                // addr - lo < count.
                let (lo, count) = self.site_bounds(site);
                let off = self.b.ins().isub(addr, lo);
                self.b.ins().icmp(IntCC::UnsignedLessThan, off, count)
            }
            Space::Local | Space::Private => self.within_arena(addr, span, space),
        };
        let (fast, slow, fault) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(c, fast, &[], slow, &[]);
        self.b.set_cold_block(slow);
        self.b.switch_to_block(slow);
        let lane = self.b.use_var(self.lane);
        let args = [
            self.ctx,
            self.b.ins().iconst(I64, run::space_code(space)),
            addr,
            self.b.ins().iconst(I64, span as i64),
            lane,
            self.b.ins().iconst(I64, i64::from(site)),
            self.b.ins().iconst(I64, i64::from(write)),
        ];
        if matches!(space, Space::Local | Space::Private) {
            // The test above is the sanitizer's own for these spaces (`mem::Memory::check`:
            // inside the arena): the access is out of bounds. The callout records the fault
            // and the round stops; the hot path is not rejoined, so values live across the
            // access need not survive the call (a rejoining call costs the hot path spills).
            // Were the callout ever to accept it, the launch fails as a bug, never reads.
            let _ = self.call(run::cb_check as *const (), &args, Some(I32));
            self.b.ins().jump(fault, &[]);
        } else {
            let saved = self.cold_save();
            let ok = self
                .call(run::cb_check as *const (), &args, Some(I32))
                .unwrap_or_else(|| unreachable!());
            let refreshed = self.b.create_block();
            self.b.ins().brif(ok, refreshed, &[], fault, &[]);
            self.b.set_cold_block(refreshed);
            self.b.switch_to_block(refreshed);
            self.cold_restore(&saved);
            self.b.ins().jump(fast, &[]);
        }
        self.b.set_cold_block(fault);
        self.b.switch_to_block(fault);
        let r = self.b.ins().iconst(I32, i64::from(ROUND_STOP));
        self.b.ins().return_(&[r]);
        self.b.switch_to_block(fast);
    }

    /// Whether `[addr, addr + span)` lies in the local arena or the lane's private slice.
    fn within_arena(&mut self, addr: Value, span: u64, space: Space) -> Value {
        let (lo, hi) = if space == Space::Local {
            let lo = self.ctx_field(offset_of!(Ctx, local));
            let hi = self.ctx_field(offset_of!(Ctx, local) + 8);
            (lo, hi)
        } else {
            let base = self.ctx_field(offset_of!(Ctx, private_base));
            let stride = self.ctx_field(offset_of!(Ctx, private_stride));
            let lane = self.b.use_var(self.lane);
            let o = self.b.ins().imul(lane, stride);
            let lo = self.b.ins().iadd(base, o);
            let hi = self.b.ins().iadd(lo, stride);
            (lo, hi)
        };
        // addr - lo < starts, where `starts` (the offsets an access of `span` bytes may
        // start at: (hi - lo) - span + 1, or 0 when the arena is smaller) depends on the
        // arena alone and is computed once where the optimiser can: one subtraction and one
        // compare per access.
        let len = self.b.ins().isub(hi, lo);
        let room = self
            .b
            .ins()
            .icmp_imm(IntCC::UnsignedGreaterThanOrEqual, len, span as i64);
        let fit = self.b.ins().iadd_imm(len, 1 - span as i64);
        let zero = self.b.ins().iconst(I64, 0);
        let starts = self.b.ins().select(room, fit, zero);
        let off = self.b.ins().isub(addr, lo);
        self.b.ins().icmp(IntCC::UnsignedLessThan, off, starts)
    }

    fn load_at(&mut self, addr: Value, off: i32, size: u8) -> Value {
        let f = MemFlags::new();
        match size {
            1 => self.b.ins().uload8(I64, f, addr, off),
            2 => self.b.ins().uload16(I64, f, addr, off),
            4 => self.b.ins().uload32(f, addr, off),
            _ => self.b.ins().load(I64, f, addr, off),
        }
    }

    fn store_at(&mut self, addr: Value, off: i32, size: u8, v: Value) {
        let f = MemFlags::new();
        match size {
            1 => self.b.ins().istore8(f, v, addr, off),
            2 => self.b.ins().istore16(f, v, addr, off),
            4 => self.b.ins().istore32(f, v, addr, off),
            _ => self.b.ins().store(f, v, addr, off),
        };
    }

    fn fused_addr(&mut self, base: Slot, idx: Slot, w: u8, scale: i64, off: i64) -> Value {
        let base = self.get(base);
        let i = self.get(idx);
        let i = self.sext(i, w);
        let x = self.b.ins().imul_imm(i, scale);
        let a = self.b.ins().iadd(base, x);
        self.b.ins().iadd_imm(a, off)
    }

    // ---- instructions -------------------------------------------------------------------

    fn inst(&mut self, idx: usize) {
        let code = self.code;
        match code.insts[idx] {
            Inst::Bin { op, d, a, b, n } => {
                let opp = &self.tables.bins[self.tables.at[idx] as usize] as *const BinOp as i64;
                for k in 0..u32::from(n) {
                    let (x, y) = (self.get(a + k), self.get(b + k));
                    let r = match self.bin_native(op, x, y) {
                        Some(r) => r,
                        None => {
                            let o = self.b.ins().iconst(I64, opp);
                            self.call(run::cb_bin as *const (), &[o, x, y], Some(I64))
                                .unwrap_or_else(|| unreachable!())
                        }
                    };
                    self.set(d + k, r);
                }
            }
            Inst::Un { op, d, a, n } => {
                let opp = &self.tables.uns[self.tables.at[idx] as usize] as *const UnOp as i64;
                for k in 0..u32::from(n) {
                    let x = self.get(a + k);
                    let r = match self.un_native(op, x) {
                        Some(r) => r,
                        None => {
                            let o = self.b.ins().iconst(I64, opp);
                            self.call(run::cb_un as *const (), &[o, x], Some(I64))
                                .unwrap_or_else(|| unreachable!())
                        }
                    };
                    self.set(d + k, r);
                }
            }
            Inst::Tern { op, d, a, b, c, n } => {
                let opp = &self.tables.terns[self.tables.at[idx] as usize] as *const TernOp as i64;
                for k in 0..u32::from(n) {
                    let (x, y, z) = (self.get(a + k), self.get(b + k), self.get(c + k));
                    let r = match self.tern_native(op, x, y, z) {
                        Some(r) => r,
                        None => {
                            let o = self.b.ins().iconst(I64, opp);
                            self.call(run::cb_tern as *const (), &[o, x, y, z], Some(I64))
                                .unwrap_or_else(|| unreachable!())
                        }
                    };
                    self.set(d + k, r);
                }
            }
            Inst::Select {
                d,
                c,
                a,
                b,
                n,
                scalar_cond,
            } => {
                for k in 0..u32::from(n) {
                    let cv = self.get(if scalar_cond { c } else { c + k });
                    let (x, y) = (self.get(a + k), self.get(b + k));
                    let r = self.b.ins().select(cv, x, y);
                    self.set(d + k, r);
                }
            }
            Inst::Copy { d, s, n } => {
                for k in 0..u32::from(n) {
                    let v = self.get(s + k);
                    self.set(d + k, v);
                }
            }
            Inst::Gep {
                d,
                base,
                off,
                at,
                len,
            } => {
                let bv = self.get(base);
                let mut v = self.b.ins().iadd_imm(bv, off);
                for &(t, stride, w) in &code.gep_terms[at as usize..at as usize + usize::from(len)]
                {
                    let x = self.get(t);
                    let x = self.sext(x, w);
                    let x = self.b.ins().imul_imm(x, stride);
                    v = self.b.ins().iadd(v, x);
                }
                self.set(d, v);
            }
            Inst::Load {
                d,
                p,
                size,
                n,
                stride,
                space,
                site,
            } => {
                let addr = self.get(p);
                let span = u64::from(n - 1) * u64::from(stride) + u64::from(size);
                self.check(addr, span, space, site, false);
                for k in 0..u32::from(n) {
                    let v = self.load_at(addr, (k * u32::from(stride)) as i32, size);
                    self.set(d + k, v);
                }
            }
            Inst::Store {
                p,
                v,
                size,
                n,
                stride,
                space,
                site,
            } => {
                let addr = self.get(p);
                let span = u64::from(n - 1) * u64::from(stride) + u64::from(size);
                self.check(addr, span, space, site, true);
                for k in 0..u32::from(n) {
                    let x = self.get(v + k);
                    self.store_at(addr, (k * u32::from(stride)) as i32, size, x);
                }
            }
            Inst::LoadIdx {
                d,
                base,
                idx,
                w,
                scale,
                off,
                size,
                space,
                site,
            } => {
                let addr = self.fused_addr(base, idx, w, scale, off);
                self.check(addr, u64::from(size), space, site, false);
                let v = self.load_at(addr, 0, size);
                self.set(d, v);
            }
            Inst::StoreIdx {
                base,
                idx,
                w,
                scale,
                off,
                v,
                size,
                space,
                site,
            } => {
                let addr = self.fused_addr(base, idx, w, scale, off);
                self.check(addr, u64::from(size), space, site, true);
                let x = self.get(v);
                self.store_at(addr, 0, size, x);
            }
            Inst::Builtin { d, b, n, comp } => {
                let comps: Vec<u32> = match comp {
                    Some(c) => vec![u32::from(c)],
                    None => (0..u32::from(n)).collect(),
                };
                for (k, c) in comps.into_iter().enumerate() {
                    let v = self.builtin(b, c);
                    self.set(d + k as u32, v);
                }
            }
            Inst::Fence => {
                self.b.ins().fence();
            }
            _ => self.step(idx),
        }
    }

    fn builtin(&mut self, b: Builtin, c: u32) -> Value {
        let lane = self.b.use_var(self.lane);
        if matches!(b, Builtin::GlobalId | Builtin::LocalId) && c < 3 {
            let lid = self.ctx_field(offset_of!(Ctx, lid) + 8 * c as usize);
            let off = self.b.ins().ishl_imm(lane, 2);
            let at = self.b.ins().iadd(lid, off);
            let l = self.b.ins().uload32(flags(), at, 0);
            if b == Builtin::LocalId {
                return l;
            }
            let base = self.ctx_field(offset_of!(Ctx, gbase) + 8 * c as usize);
            return self.b.ins().iadd(base, l);
        }
        if b == Builtin::LocalLinearId {
            return lane;
        }
        let which = BUILTINS.iter().position(|&x| x == b).unwrap_or(0) as i64;
        let args = [
            self.ctx,
            self.b.ins().iconst(I64, which),
            self.b.ins().iconst(I64, i64::from(c)),
            lane,
        ];
        self.call(run::cb_builtin as *const (), &args, Some(I64))
            .unwrap_or_else(|| unreachable!())
    }

    /// Instruction `idx` on the interpreter for this lane: its operands and results go
    /// through the register file.
    fn step(&mut self, idx: usize) {
        let code = self.code;
        let inst = &code.insts[idx];
        self.reads.clear();
        self.writes.clear();
        slots::reads(code, inst, &mut self.reads);
        slots::writes(code, inst, &mut self.writes);
        let lane = self.b.use_var(self.lane);
        let mut stored = Set::new(code.slots);
        // Results too: a result the instruction leaves unwritten for this lane reloads as
        // it was.
        let runs: Vec<Run> = self.reads.iter().chain(&self.writes).copied().collect();
        for (s, n) in runs {
            for x in s..(s + n).min(code.slots) {
                if self.written.contains(x) && !stored.contains(x) {
                    stored.insert(x);
                    self.spill(x, lane);
                }
            }
        }
        let args = [self.ctx, self.b.ins().iconst(I64, idx as i64), lane];
        let r = self
            .call(run::cb_step as *const (), &args, Some(I32))
            .unwrap_or_else(|| unreachable!());
        let (ok, stop) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(r, stop, &[], ok, &[]);
        self.b.set_cold_block(stop);
        self.b.switch_to_block(stop);
        let rs = self.b.ins().iconst(I32, i64::from(ROUND_STOP));
        self.b.ins().return_(&[rs]);
        self.b.switch_to_block(ok);
        let writes = self.writes.clone();
        for (s, n) in writes {
            for x in s..(s + n).min(code.slots) {
                self.fill(x, lane);
            }
        }
    }
}

/// Adds the slots `inst` reads to `set`.
pub(super) fn inst_reads(code: &Code, inst: &Inst, set: &mut Set) {
    let mut r = Vec::new();
    slots::reads(code, inst, &mut r);
    for &(s, n) in &r {
        for k in 0..n {
            set.insert(s + k);
        }
    }
}

/// Adds the slots terminator `term` reads to `set` (its edges' moves included).
pub(super) fn term_reads(term: &Term, set: &mut Set) {
    let edge = |e: &Edge, set: &mut Set| {
        for m in &e.moves {
            for k in 0..u32::from(m.n) {
                set.insert(m.s + k);
            }
        }
    };
    match term {
        Term::Jump(e) => edge(e, set),
        Term::Branch { c, t, f } => {
            edge(t, set);
            edge(f, set);
            set.insert(*c);
        }
        Term::Switch {
            sel,
            cases,
            default,
        } => {
            for (_, e) in cases {
                edge(e, set);
            }
            edge(default, set);
            set.insert(*sel);
        }
        Term::Fail { value: Some(v), .. } => set.insert(*v),
        _ => {}
    }
}
