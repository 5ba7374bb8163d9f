//! The seam between the driver and the SPIR-V kernel engine (`level_zero_cpu_spirv`).
//!
//! The driver builds modules through a [`ProgramBuilder`] and runs kernels through the
//! [`KernelProgram`] trait, which the engine's [`Program`] implements. By default every instance
//! uses the engine; [`crate::Config::program_builder`] can plug in another implementation
//! (tests use that to exercise the driver's launch path independently of the engine).

use std::io::Write;
use std::sync::Arc;

pub use level_zero_cpu_spirv::{
    ArgInfo, ArgKind, ArgValue, BuildError, BuildOptions, ExecError, GlobalVariable, KernelEngine,
    KernelInfo, Launch, MemoryMap, Program,
};

/// A built module, as the driver uses it.
pub trait KernelProgram: Send + Sync {
    /// The build log of a successful build (may be empty).
    fn build_log(&self) -> &str;
    /// The module's kernels.
    fn kernels(&self) -> &[KernelInfo];
    /// The module's program-scope variables.
    fn globals(&self) -> &[GlobalVariable];
    /// Runs one launch to completion; `memory` says where the kernel may read and write.
    fn launch(
        &self,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        output: &mut (dyn Write + Send),
    ) -> Result<(), ExecError>;
    /// The imports kernel `kernel` needs that are not resolved yet (empty: it can run).
    fn unlinked(&self, _kernel: &str) -> Vec<String> {
        Vec::new()
    }
    /// The engine's program, for `zeModuleDynamicLink` (`None`: another implementation,
    /// which cannot be linked).
    fn as_program(&self) -> Option<&Program> {
        None
    }
    /// Which engine runs `kernel` (compiling it if the JIT was not asked yet); `None` for an
    /// implementation without engines.
    fn kernel_engine(&self, _kernel: &str) -> Option<KernelEngine> {
        None
    }
}

impl KernelProgram for Program {
    fn unlinked(&self, kernel: &str) -> Vec<String> {
        Program::unlinked(self, kernel).unwrap_or_default()
    }
    fn as_program(&self) -> Option<&Program> {
        Some(self)
    }
    fn kernel_engine(&self, kernel: &str) -> Option<KernelEngine> {
        Program::kernel_engine(self, kernel)
    }
    fn build_log(&self) -> &str {
        Program::build_log(self)
    }
    fn kernels(&self) -> &[KernelInfo] {
        Program::kernels(self)
    }
    fn globals(&self) -> &[GlobalVariable] {
        Program::globals(self)
    }
    fn launch(
        &self,
        launch: &Launch<'_>,
        memory: &dyn MemoryMap,
        output: &mut (dyn Write + Send),
    ) -> Result<(), ExecError> {
        Program::launch(self, launch, memory, output)
    }
}

/// Builds a module from SPIR-V: what `zeModuleCreate` calls.
pub type ProgramBuilder = Arc<
    dyn Fn(&[u8], &BuildOptions<'_>) -> Result<Arc<dyn KernelProgram>, BuildError> + Send + Sync,
>;

/// The default builder: the kernel engine.
pub(crate) fn build_with_engine(
    spirv: &[u8],
    options: &BuildOptions<'_>,
) -> Result<Arc<dyn KernelProgram>, BuildError> {
    Program::build(spirv, options).map(|p| Arc::new(p) as Arc<dyn KernelProgram>)
}

/// The byte size of each specialization constant a SPIR-V module declares, by `SpecId`: what
/// the driver needs to read the values `zeModuleCreate` passes by pointer (the API gives no
/// sizes). Booleans count as one byte. An unparsable module gives an empty list (the engine
/// then reports the real problem).
pub(crate) fn spec_constant_sizes(spirv: &[u8]) -> Vec<(u32, usize)> {
    const OP_TYPE_BOOL: u32 = 20;
    const OP_TYPE_INT: u32 = 21;
    const OP_TYPE_FLOAT: u32 = 22;
    const OP_SPEC_CONSTANT_TRUE: u32 = 48;
    const OP_SPEC_CONSTANT_FALSE: u32 = 49;
    const OP_SPEC_CONSTANT: u32 = 50;
    const OP_DECORATE: u32 = 71;
    const DECORATION_SPEC_ID: u32 = 1;
    const MAGIC: u32 = 0x0723_0203;

    if spirv.len() < 20 || !spirv.len().is_multiple_of(4) {
        return Vec::new();
    }
    let mut words: Vec<u32> = spirv
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if words[0] == MAGIC.swap_bytes() {
        words.iter_mut().for_each(|w| *w = w.swap_bytes());
    } else if words[0] != MAGIC {
        return Vec::new();
    }
    let mut type_size = std::collections::HashMap::new();
    let mut spec_ids = Vec::new(); // (result id, SpecId)
    let mut constant_type = std::collections::HashMap::new(); // result id -> type id
    let mut i = 5;
    while i < words.len() {
        let count = (words[i] >> 16) as usize;
        let opcode = words[i] & 0xffff;
        if count == 0 || i + count > words.len() {
            break;
        }
        let ops = &words[i + 1..i + count];
        match opcode {
            OP_TYPE_BOOL if !ops.is_empty() => {
                type_size.insert(ops[0], 1usize);
            }
            OP_TYPE_INT | OP_TYPE_FLOAT if ops.len() >= 2 => {
                type_size.insert(ops[0], (ops[1] as usize).div_ceil(8));
            }
            OP_SPEC_CONSTANT_TRUE | OP_SPEC_CONSTANT_FALSE | OP_SPEC_CONSTANT if ops.len() >= 2 => {
                constant_type.insert(ops[1], ops[0]);
            }
            OP_DECORATE if ops.len() >= 3 && ops[1] == DECORATION_SPEC_ID => {
                spec_ids.push((ops[0], ops[2]));
            }
            _ => {}
        }
        i += count;
    }
    spec_ids
        .into_iter()
        .filter_map(|(id, spec)| {
            let ty = constant_type.get(&id)?;
            Some((spec, *type_size.get(ty)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(opcode: u32, ops: &[u32]) -> Vec<u32> {
        let mut v = vec![((ops.len() as u32 + 1) << 16) | opcode];
        v.extend_from_slice(ops);
        v
    }

    #[test]
    fn spec_constant_sizes_come_from_their_types() {
        let mut w = vec![0x0723_0203, 0x0001_0000, 0, 100, 0];
        w.extend(inst(71, &[10, 1, 7])); // OpDecorate %10 SpecId 7
        w.extend(inst(71, &[11, 1, 8])); // OpDecorate %11 SpecId 8
        w.extend(inst(21, &[2, 64, 0])); // %2 = OpTypeInt 64 0
        w.extend(inst(20, &[3])); // %3 = OpTypeBool
        w.extend(inst(50, &[2, 10, 0, 0])); // %10 = OpSpecConstant %2
        w.extend(inst(48, &[3, 11])); // %11 = OpSpecConstantTrue %3
        let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut sizes = spec_constant_sizes(&bytes);
        sizes.sort();
        assert_eq!(sizes, vec![(7, 8), (8, 1)]);
        assert!(spec_constant_sizes(b"not spir-v at all!!!").is_empty());
    }
}
