//! Module-level checks: the binary's framing, its header, capabilities, addressing and
//! memory model, extended instruction sets. Everything here reports problems as build-log
//! text and never panics, whatever the bytes.

use rspirv::dr;
use rspirv::spirv::{self, Capability, Op, Word};

/// The SPIR-V magic number.
const MAGIC: u32 = 0x0723_0203;

/// Capabilities the engine implements. Where each one's instructions are decoded and run:
/// the table of `decode/mod.rs` (the same file names in `exec/`); `Int8`, `Int16`, `Int64`,
/// `Float16`, `Float64` and `Vector16` only enable types.
const CAPABILITIES: &[Capability] = &[
    Capability::Addresses,
    Capability::Linkage,
    Capability::Kernel,
    Capability::Vector16,
    Capability::Float16Buffer,
    Capability::Float16,
    Capability::Float64,
    Capability::Int64,
    Capability::Int64Atomics,
    Capability::Int8,
    Capability::Int16,
    Capability::GenericPointer,
    // Hints (the engine runs every access in order, computes exactly and never optimises):
    // `OpExpectKHR` is its value, `OpAssumeTrueKHR` does nothing (decode/expect_assume.rs);
    Capability::ExpectAssumeKHR,
    // aliasing scopes and their memory operands and decorations (operands.rs);
    Capability::MemoryAccessAliasingINTEL,
    // the `FPFastMathMode` decoration's `AllowContractFastINTEL`/`AllowReassocINTEL` bits
    // (the decoration is a hint: annotations.rs);
    Capability::FPFastMathModeINTEL,
    // the `OptNoneINTEL` function control bit (operands.rs).
    Capability::OptNoneEXT,
    // Collectives (decode/groups.rs, decode/subgroups.rs; run by exec/groups.rs).
    Capability::Groups,
    Capability::GroupUniformArithmeticKHR,
    Capability::GroupNonUniform,
    Capability::GroupNonUniformVote,
    Capability::GroupNonUniformArithmetic,
    Capability::GroupNonUniformBallot,
    Capability::GroupNonUniformShuffle,
    Capability::GroupNonUniformShuffleRelative,
    Capability::GroupNonUniformClustered,
    // Only for the `SubgroupSize` execution mode (`intel_reqd_sub_group_size`, module.rs);
    // its instructions (`OpGetKernelMaxNumSubgroups`, ...) are refused as unknown opcodes.
    Capability::SubgroupDispatch,
    Capability::SubgroupShuffleINTEL,
    Capability::SubgroupBufferBlockIOINTEL,
    // Float atomics on 4- and 8-byte floats (decode/atomics.rs).
    Capability::AtomicFloat32AddEXT,
    Capability::AtomicFloat64AddEXT,
    Capability::AtomicFloat32MinMaxEXT,
    Capability::AtomicFloat64MinMaxEXT,
    // Images and samplers (decode/images.rs, OpConstantSampler in module.rs).
    Capability::ImageBasic,
    Capability::ImageReadWrite,
    Capability::LiteralSampler,
    Capability::Sampled1D,
    Capability::Image1D,
    Capability::SampledBuffer,
    Capability::ImageBuffer,
    // The float controls of the execution modes the engine accepts (SPIR-V 1.4 core,
    // SPV_KHR_float_controls): the engine preserves denormals, signed zeros, infinities and
    // NaNs and rounds to nearest even (annotations.rs).
    Capability::DenormPreserve,
    Capability::SignedZeroInfNanPreserve,
    Capability::RoundingModeRTE,
    // Integers of any width from 1 to 64 bits (module.rs, `int_bytes`: their memory size).
    Capability::ArbitraryPrecisionIntegersINTEL,
    // Function pointers: `OpConstantFunctionPointerINTEL`, `OpFunctionPointerCallINTEL`
    // (decode/function_pointers.rs), the `ReferencedIndirectlyINTEL` decoration.
    Capability::FunctionPointersINTEL,
    Capability::IndirectReferencesINTEL,
];

/// Extensions that do not change what the engine must do.
const EXTENSIONS: &[&str] = &[
    "SPV_KHR_no_integer_wrap_decoration",
    "SPV_KHR_float_controls",
    "SPV_KHR_expect_assume",
    "SPV_KHR_linkonce_odr",
    "SPV_INTEL_fp_fast_math_mode",
    "SPV_INTEL_memory_access_aliasing",
    "SPV_INTEL_optnone",
    "SPV_EXT_optnone",
    "SPV_INTEL_subgroups",
    "SPV_KHR_uniform_group_instructions",
    "SPV_EXT_shader_atomic_float_add",
    "SPV_EXT_shader_atomic_float_min_max",
    "SPV_INTEL_arbitrary_precision_integers",
    "SPV_ALTERA_arbitrary_precision_integers",
    "SPV_INTEL_function_pointers",
];

/// Splits the bytes into words (either endianness) and checks the framing of every
/// instruction, so that the parser only ever sees well-framed input.
pub(crate) fn words(bytes: &[u8]) -> Result<Vec<u32>, String> {
    if bytes.len() < 20 {
        return Err(format!(
            "invalid SPIR-V: {} bytes is shorter than the 20-byte module header (truncated?)",
            bytes.len()
        ));
    }
    if !bytes.len().is_multiple_of(4) {
        return Err(format!(
            "invalid SPIR-V: the length ({} bytes) is not a multiple of 4 (truncated?)",
            bytes.len()
        ));
    }
    let first = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let big = if first == MAGIC {
        false
    } else if first.swap_bytes() == MAGIC {
        true
    } else {
        return Err(format!(
            "invalid SPIR-V: bad magic number {first:#010x} (expected {MAGIC:#010x}); is this a SPIR-V module?"
        ));
    };
    let words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| {
            let w = [c[0], c[1], c[2], c[3]];
            if big {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }
        })
        .collect();
    let version = words[1];
    let (major, minor) = ((version >> 16) & 0xff, (version >> 8) & 0xff);
    if version & 0xff00_00ff != 0 {
        return Err(format!(
            "invalid SPIR-V: malformed version word {version:#010x}"
        ));
    }
    // 1.1 to 1.4 add what an OpenCL kernel may use (implemented or refused by name); 1.5 and
    // 1.6 add instructions, capabilities and relaxed rules but change the meaning of nothing
    // an older module holds, so whatever of theirs the engine does not implement is refused
    // by name like any other instruction or capability (docs/ARCHITECTURE.md).
    if major != 1 || minor > 6 {
        return Err(format!(
            "unsupported SPIR-V version {major}.{minor} (supported: 1.0 to 1.6)"
        ));
    }
    if words[3] > 4_000_000 {
        return Err(format!(
            "invalid SPIR-V: id bound {} is unreasonably large",
            words[3]
        ));
    }
    // Framing: every instruction's word count is non-zero and stays inside the module.
    let mut at = 5;
    let mut index = 0usize;
    while at < words.len() {
        let count = (words[at] >> 16) as usize;
        let opcode = words[at] & 0xffff;
        if count == 0 {
            return Err(format!(
                "invalid SPIR-V: instruction {index} (word {at}) has a word count of 0"
            ));
        }
        if at + count > words.len() {
            return Err(format!(
                "invalid SPIR-V: instruction {index} (word {at}, {}) needs {count} words but the module ends after {} (truncated?)",
                op_name(opcode),
                words.len() - at
            ));
        }
        // Rejected before parsing: unsupported, and rspirv's parser can panic on a
        // malformed one (which a fuzzer built with panic=abort would see as a crash).
        if opcode == Op::SpecConstantOp as u32 {
            return Err("unsupported instruction OpSpecConstantOp".into());
        }
        if opcode == Op::TypeInt as u32 && count >= 3 {
            let width = words[at + 2];
            if !(1..=64).contains(&width) {
                return Err(format!(
                    "unsupported integer width {width} of OpTypeInt (the engine's integers have 1 to 64 bits)"
                ));
            }
        }
        if opcode == Op::ExtInstImport as u32 {
            let name = literal_string(words.get(at + 2..at + count).unwrap_or(&[]));
            if name != "OpenCL.std" {
                return Err(format!(
                    "unsupported extended instruction set `{name}` (only OpenCL.std is supported)"
                ));
            }
        }
        at += count;
        index += 1;
    }
    Ok(words)
}

/// Decodes a nul-terminated SPIR-V literal string.
pub(crate) fn literal_string(words: &[u32]) -> String {
    let mut bytes = Vec::new();
    'outer: for w in words {
        for b in w.to_le_bytes() {
            if b == 0 {
                break 'outer;
            }
            bytes.push(b);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The name of a core opcode (`OpFoo`), or its number.
pub(crate) fn op_name(opcode: u32) -> String {
    match rspirv::grammar::INSTRUCTION_TABLE.lookup_opcode(opcode) {
        Some(g) => format!("Op{}", g.opname),
        None => format!("opcode {opcode}"),
    }
}

/// Whether `op` is one of `SPV_INTEL_memory_access_aliasing`'s module-scope declarations
/// (`OpAliasDomainDeclINTEL`, `OpAliasScopeDeclINTEL`, `OpAliasScopeListDeclINTEL`).
pub(crate) fn is_alias_decl(op: Op) -> bool {
    matches!(
        op,
        Op::AliasDomainDeclINTEL | Op::AliasScopeDeclINTEL | Op::AliasScopeListDeclINTEL
    )
}

/// rspirv's loader with three additions for instructions it cannot classify:
/// - `SPV_INTEL_memory_access_aliasing`'s declarations, which the extension places at module
///   scope (before the annotations), are filed with the module's types and global values;
/// - `OpConstantFunctionPointerINTEL` (`SPV_INTEL_function_pointers`) at module scope is
///   filed with the types and global values in its place (other constants may use it): it
///   goes in as an `OpUndef` of its result type and id, its own class restored afterwards;
/// - `OpExecutionModeId` (SPIR-V 1.2) is filed with the execution modes.
///
/// rspirv parses all of them (and the aliasing memory operands' ids).
struct Loader {
    inner: dr::Loader,
    in_function: bool,
    decls: Vec<dr::Instruction>,
    modes: Vec<dr::Instruction>,
    function_pointers: Vec<Word>,
}

impl rspirv::binary::Consumer for Loader {
    fn initialize(&mut self) -> rspirv::binary::ParseAction {
        self.inner.initialize()
    }
    fn finalize(&mut self) -> rspirv::binary::ParseAction {
        self.inner.finalize()
    }
    fn consume_header(&mut self, header: dr::ModuleHeader) -> rspirv::binary::ParseAction {
        self.inner.consume_header(header)
    }
    fn consume_instruction(&mut self, mut inst: dr::Instruction) -> rspirv::binary::ParseAction {
        match inst.class.opcode {
            Op::Function => self.in_function = true,
            Op::FunctionEnd => self.in_function = false,
            op if is_alias_decl(op) && !self.in_function => {
                self.decls.push(inst);
                return rspirv::binary::ParseAction::Continue;
            }
            Op::ExecutionModeId => {
                self.modes.push(inst);
                return rspirv::binary::ParseAction::Continue;
            }
            Op::ConstantFunctionPointerINTEL if !self.in_function => {
                if let Some(id) = inst.result_id {
                    self.function_pointers.push(id);
                    inst.class = rspirv::grammar::INSTRUCTION_TABLE.get(Op::Undef);
                }
            }
            _ => {}
        }
        self.inner.consume_instruction(inst)
    }
}

/// Integer widths rspirv's parser cannot read literals of (it knows 8, 16, 32 and 64 bits):
/// the module's words with each such `OpTypeInt` widened to the next of those widths (the
/// literals of a type of up to 32 bits take one word, of up to 64 two, either way), and the
/// true widths by result id, restored once parsed.
fn standard_int_widths(words: &[u32]) -> (std::borrow::Cow<'_, [u32]>, Vec<(Word, u32)>) {
    let mut out = std::borrow::Cow::Borrowed(words);
    let mut widths = Vec::new();
    let mut at = 5;
    while at < words.len() {
        let count = ((words[at] >> 16) as usize).max(1);
        if words[at] & 0xffff == Op::TypeInt as u32 && count >= 3 && at + 2 < words.len() {
            let width = words[at + 2];
            let standard = match width {
                0..=8 => 8,
                9..=16 => 16,
                17..=32 => 32,
                _ => 64,
            };
            if width != standard {
                widths.push((words[at + 1], width));
                out.to_mut()[at + 2] = standard;
            }
        }
        at += count;
    }
    (out, widths)
}

fn load(words: &[u32]) -> Result<dr::Module, String> {
    let (words, widths) = standard_int_widths(words);
    let mut loader = Loader {
        inner: dr::Loader::new(),
        in_function: false,
        decls: Vec::new(),
        modes: Vec::new(),
        function_pointers: Vec::new(),
    };
    rspirv::binary::parse_words(&words, &mut loader).map_err(|e| format!("invalid SPIR-V: {e}"))?;
    let mut m = loader.inner.module();
    m.types_global_values.extend(loader.decls);
    m.execution_modes.extend(loader.modes);
    for i in &mut m.types_global_values {
        let Some(id) = i.result_id else { continue };
        if i.class.opcode == Op::Undef && loader.function_pointers.contains(&id) {
            i.class = rspirv::grammar::INSTRUCTION_TABLE.get(Op::ConstantFunctionPointerINTEL);
        }
        if i.class.opcode == Op::TypeInt
            && let Some(&(_, w)) = widths.iter().find(|(t, _)| *t == id)
            && let Some(o) = i.operands.get_mut(0)
        {
            *o = dr::Operand::LiteralBit32(w);
        }
    }
    Ok(m)
}

/// Parses the words with rspirv. The framing has been checked; a panic inside the parser
/// (it has a few on malformed input) is turned into an error.
pub(crate) fn parse(words: &[u32]) -> Result<dr::Module, String> {
    let result = std::panic::catch_unwind(|| load(words));
    match result {
        Ok(r) => r,
        Err(_) => {
            Err("invalid SPIR-V: the parser rejected the module (malformed instruction)".into())
        }
    }
}

/// Capabilities, extensions, addressing and memory model, entry points' execution models.
pub(crate) fn module(m: &dr::Module) -> Result<(), String> {
    for c in &m.capabilities {
        if let Some(dr::Operand::Capability(cap)) = c.operands.first() {
            if !CAPABILITIES.contains(cap) {
                return Err(format!(
                    "unsupported capability {cap:?} (this engine runs OpenCL kernels: Kernel, Addresses, Int8/16/64, Float16, Float64, Int64Atomics, GenericPointer, Groups, GroupNonUniform*, GroupUniformArithmeticKHR, SubgroupShuffleINTEL, SubgroupBufferBlockIOINTEL, AtomicFloat32/64AddEXT, AtomicFloat32/64MinMaxEXT, ImageBasic, ImageReadWrite, LiteralSampler, Sampled1D, Image1D, SampledBuffer, ImageBuffer, ArbitraryPrecisionIntegersINTEL, FunctionPointersINTEL, IndirectReferencesINTEL, the float controls DenormPreserve, SignedZeroInfNanPreserve, RoundingModeRTE, and the hints ExpectAssumeKHR, MemoryAccessAliasingINTEL, FPFastMathModeINTEL, OptNoneINTEL)"
                ));
            }
        } else {
            return Err("invalid SPIR-V: OpCapability without a capability".into());
        }
    }
    if !m.capabilities.iter().any(|c| {
        matches!(
            c.operands.first(),
            Some(dr::Operand::Capability(Capability::Kernel))
        )
    }) {
        return Err("not an OpenCL kernel module: the Kernel capability is missing".into());
    }
    for e in &m.extensions {
        if let Some(dr::Operand::LiteralString(name)) = e.operands.first()
            && !EXTENSIONS.contains(&name.as_str())
        {
            return Err(format!("unsupported SPIR-V extension `{name}`"));
        }
    }
    match &m.memory_model {
        Some(mm) => match (mm.operands.first(), mm.operands.get(1)) {
            (Some(dr::Operand::AddressingModel(a)), Some(dr::Operand::MemoryModel(mo))) => {
                if *a != spirv::AddressingModel::Physical64 {
                    return Err(format!(
                        "unsupported addressing model {a:?} (only Physical64 is supported: device pointers are 64-bit host addresses)"
                    ));
                }
                if *mo != spirv::MemoryModel::OpenCL {
                    return Err(format!(
                        "unsupported memory model {mo:?} (only OpenCL is supported)"
                    ));
                }
            }
            _ => return Err("invalid SPIR-V: malformed OpMemoryModel".into()),
        },
        None => return Err("invalid SPIR-V: no OpMemoryModel".into()),
    }
    for ep in &m.entry_points {
        match ep.operands.first() {
            Some(dr::Operand::ExecutionModel(spirv::ExecutionModel::Kernel)) => {}
            Some(dr::Operand::ExecutionModel(other)) => {
                return Err(format!(
                    "unsupported execution model {other:?} for entry point {} (only Kernel is supported)",
                    ep.operands
                        .get(2)
                        .map(|o| format!("{o}"))
                        .unwrap_or_default()
                ));
            }
            _ => return Err("invalid SPIR-V: malformed OpEntryPoint".into()),
        }
    }
    Ok(())
}
