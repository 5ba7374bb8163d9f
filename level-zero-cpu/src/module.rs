//! Modules, build logs and kernels, built and run by the SPIR-V kernel engine (through
//! [`crate::engine`]).

use std::ffi::{CString, c_char, c_void};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use level_zero_sys::*;

use crate::context::Context;
use crate::device::{MAX_GROUP_SIZE, MAX_TOTAL_GROUP_SIZE};
use crate::driver::Instance;
use crate::engine::{ArgKind, BuildOptions, KernelInfo, KernelProgram, Program};
use crate::exec::{ArgSlot, GroupCounts, LaunchCmd};
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::sync::lock;

/// A built module.
pub(crate) struct Module {
    pub(crate) instance: &'static Instance,
    program: Arc<dyn KernelProgram>,
    kernel_names: Vec<CString>,
    live_kernels: AtomicU32,
    uuid: [u8; 16],
}

/// A module's build log.
pub(crate) struct BuildLog {
    instance: &'static Instance,
    text: CString,
}

#[derive(Default)]
struct KernelState {
    args: Vec<Option<ArgSlot>>,
    group_size: Option<[u32; 3]>,
    offset: [u32; 3],
    indirect_access: ze_kernel_indirect_access_flags_t,
}

/// A kernel of a module.
pub(crate) struct Kernel {
    pub(crate) instance: &'static Instance,
    module: Arc<Module>,
    info: KernelInfo,
    name: CString,
    state: Mutex<KernelState>,
}

impl Kernel {
    /// The launch command of this kernel as it is set up now (arguments, group size, offset).
    pub(crate) fn launch_command(&self, counts: GroupCounts) -> ZeResult<LaunchCmd> {
        let s = lock(&self.state);
        let mut args = Vec::with_capacity(s.args.len());
        for (i, a) in s.args.iter().enumerate() {
            match a {
                Some(a) => args.push(a.clone()),
                None => bail!(
                    ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "argument {i} of kernel `{}` is not set",
                    self.info.name
                ),
            }
        }
        Ok(LaunchCmd {
            program: self.module.program.clone(),
            kernel: self.info.name.clone(),
            args,
            group_size: s
                .group_size
                .or(self.info.required_group_size)
                .unwrap_or([1, 1, 1]),
            counts,
            offset: s.offset,
            indirect: s.indirect_access,
        })
    }
}

/// Makes a build-log object if the application asked for one.
fn build_log(
    instance: &'static Instance,
    text: &str,
    ph: *mut ze_module_build_log_handle_t,
) -> ZeResult {
    if ph.is_null() {
        return Ok(());
    }
    let text = CString::new(text.replace('\0', " ")).unwrap_or_default();
    let handle = handles::reserve_for::<Arc<BuildLog>>();
    handles::register(
        handle,
        Object::BuildLog(Arc::new(BuildLog { instance, text })),
    );
    instance.live.build_logs.fetch_add(1, Ordering::Relaxed);
    // SAFETY: checked non-null; the caller's output.
    unsafe { ffi::write(ph, handles::raw(handle)) }
}

/// Reads the specialization constants of a module descriptor, sized from the module.
///
/// # Safety
///
/// A non-null `constants` must be valid, with arrays of `numConstants` entries whose value
/// pointers point to values of the size the module declares for their ids.
unsafe fn spec_constants(
    constants: *const ze_module_constants_t,
    spirv: &[u8],
) -> ZeResult<Vec<(u32, Vec<u8>)>> {
    if constants.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: non-null; the caller's structure.
    let c = unsafe { constants.read_unaligned() };
    // SAFETY: arrays of `numConstants` entries (caller's contract).
    let (ids, values) = unsafe {
        (
            ffi::slice(c.pConstantIds, c.numConstants)?,
            ffi::slice(c.pConstantValues.cast_const(), c.numConstants)?,
        )
    };
    let sizes = crate::engine::spec_constant_sizes(spirv);
    let mut out = Vec::new();
    for (&id, &value) in ids.iter().zip(values) {
        // An id the module does not declare has nothing to specialise.
        let Some(&(_, size)) = sizes.iter().find(|(s, _)| *s == id) else {
            continue;
        };
        if value.is_null() {
            bail!(
                ZE_RESULT_ERROR_INVALID_NULL_POINTER,
                "null value for specialization constant {id}"
            );
        }
        // SAFETY: the value holds the constant's declared size (caller's contract).
        out.push((
            id,
            unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) }.to_vec(),
        ));
    }
    Ok(out)
}

/// Copies a string into a `(pSize, buffer)` pair: a null buffer asks for the size (with the
/// NUL); a buffer receives at most `*pSize` bytes, NUL-terminated.
///
/// # Safety
///
/// `size` must be valid for reads and writes; a non-null `buffer` must hold `*size` bytes.
unsafe fn copy_string(text: &CString, size: *mut usize, buffer: *mut c_char) -> ZeResult {
    let bytes = text.as_bytes_with_nul();
    // SAFETY: forwarded to the caller.
    let asked = unsafe { ffi::read(size)? };
    if buffer.is_null() || asked == 0 {
        // SAFETY: as above.
        return unsafe { ffi::write(size, bytes.len()) };
    }
    let n = asked.min(bytes.len());
    // SAFETY: `buffer` holds `asked >= n` bytes; `bytes` has `n` bytes; no overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr().cast(), buffer, n);
        buffer.add(n - 1).write(0);
        ffi::write(size, n)
    }
}

entry_points! {
    /// SPIR-V only: `ZE_MODULE_FORMAT_NATIVE` gives `ZE_RESULT_ERROR_INVALID_NATIVE_BINARY` (this
    /// driver has no native binary format) with a build log saying so.
    fn zeModuleCreate(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        desc: *const ze_module_desc_t,
        phModule: *mut ze_module_handle_t,
        phBuildLog: *mut ze_module_build_log_handle_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device: DeviceRef = context.device(hDevice)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        if phModule.is_null() || desc.pInputModule.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phModule or pInputModule");
        }
        if desc.format.0 > ze_module_format_t::ZE_MODULE_FORMAT_NATIVE.0 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "module format {}", desc.format.0);
        }
        if desc.inputSize == 0 {
            bail!(ZE_RESULT_ERROR_INVALID_SIZE, "empty module");
        }
        device.check_alive()?;
        let instance = context.instance;
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phModule, std::ptr::null_mut())? };
        if desc.format == ze_module_format_t::ZE_MODULE_FORMAT_NATIVE {
            let log = "level-zero-cpu: native module binaries are not supported; pass SPIR-V (ZE_MODULE_FORMAT_IL_SPIRV)";
            build_log(instance, log, phBuildLog)?;
            bail!(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "{log}");
        }
        // SAFETY: `pInputModule` holds `inputSize` bytes (caller's contract).
        let spirv = unsafe { std::slice::from_raw_parts(desc.pInputModule, desc.inputSize) };
        let flags = if desc.pBuildFlags.is_null() {
            String::new()
        } else {
            // SAFETY: a non-null build flags string is NUL-terminated (caller's contract).
            unsafe { ffi::c_str(desc.pBuildFlags)? }.to_string_lossy().into_owned()
        };
        // SAFETY: the descriptor's constants (caller's contract).
        let constants = unsafe { spec_constants(desc.pConstants, spirv)? };
        let refs: Vec<(u32, &[u8])> = constants.iter().map(|(id, v)| (*id, v.as_slice())).collect();
        let built = if instance.config.fail_module_build {
            Err("level-zero-cpu: module build failure injected by LEVEL_ZERO_CPU_FAIL_MODULE_BUILD".to_string())
        } else {
            (instance.builder)(spirv, &BuildOptions { flags: &flags, spec_constants: &refs })
                .map_err(|e| e.log)
        };
        let program = match built {
            Ok(p) => p,
            Err(log) => {
                build_log(instance, &log, phBuildLog)?;
                bail!(ZE_RESULT_ERROR_MODULE_BUILD_FAILURE, "{log}");
            }
        };
        build_log(instance, program.build_log(), phBuildLog)?;
        let kernel_names = program
            .kernels()
            .iter()
            .map(|k| CString::new(k.name.replace('\0', "")).unwrap_or_default())
            .collect();
        let handle = handles::reserve_for::<Arc<Module>>();
        let mut uuid = [0u8; 16];
        uuid[..8].copy_from_slice(&handle.to_le_bytes());
        let module = Arc::new(Module { instance, program, kernel_names, live_kernels: AtomicU32::new(0), uuid });
        handles::register(handle, Object::Module(module));
        instance.live.modules.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phModule, handles::raw(handle)) }
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while kernels of the module live.
    fn zeModuleDestroy(hModule: ze_module_handle_t) {
        let module: Arc<Module> = handles::get(hModule)?;
        let live = module.live_kernels.load(Ordering::Acquire);
        if live != 0 {
            bail!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, "{live} kernels of this module are still alive");
        }
        let module: Arc<Module> = handles::take(hModule)?;
        module.instance.live.modules.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    fn zeModuleBuildLogDestroy(hModuleBuildLog: ze_module_build_log_handle_t) {
        let log: Arc<BuildLog> = handles::take(hModuleBuildLog)?;
        log.instance.live.build_logs.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    fn zeModuleBuildLogGetString(hModuleBuildLog: ze_module_build_log_handle_t, pSize: *mut usize, pBuildLog: *mut c_char) {
        let log: Arc<BuildLog> = handles::get(hModuleBuildLog)?;
        // SAFETY: the caller's size and buffer.
        unsafe { copy_string(&log.text, pSize, pBuildLog) }
    }

    fn zeModuleGetKernelNames(hModule: ze_module_handle_t, pCount: *mut u32, pNames: *mut *const c_char) {
        let module: Arc<Module> = handles::get(hModule)?;
        // The strings live as long as the module.
        let names: Vec<*const c_char> = module.kernel_names.iter().map(|n| n.as_ptr()).collect();
        // SAFETY: the caller's count and array.
        unsafe { ffi::write_array(pCount, pNames, &names) }
    }

    /// Modules have no imports: no flags.
    fn zeModuleGetProperties(hModule: ze_module_handle_t, pModuleProperties: *mut ze_module_properties_t) {
        let _: Arc<Module> = handles::get(hModule)?;
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pModuleProperties, ze_module_properties_t::default()).map(drop) }
    }

    /// A program-scope variable's address (a host address, valid as a device pointer).
    fn zeModuleGetGlobalPointer(hModule: ze_module_handle_t, pGlobalName: *const c_char, pSize: *mut usize, pptr: *mut *mut c_void) {
        let module: Arc<Module> = handles::get(hModule)?;
        // SAFETY: a non-null name is a C string (caller's contract).
        let name = unsafe { ffi::c_str(pGlobalName)? }.to_string_lossy();
        let Some(g) = module.program.globals().iter().find(|g| g.name == name) else {
            bail!(ZE_RESULT_ERROR_INVALID_GLOBAL_NAME, "no global variable {name:?} in this module");
        };
        // SAFETY: optional outputs of the caller's.
        unsafe {
            ffi::write_opt(pSize, g.size);
            ffi::write_opt(pptr, g.address as usize as *mut c_void);
        }
        Ok(())
    }

    fn zeKernelCreate(hModule: ze_module_handle_t, desc: *const ze_kernel_desc_t, phKernel: *mut ze_kernel_handle_t) {
        let module: Arc<Module> = handles::get(hModule)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        if phKernel.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phKernel");
        }
        if desc.flags > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "kernel flags {:#x}", desc.flags);
        }
        // SAFETY: a non-null name is a C string (caller's contract).
        let name = unsafe { ffi::c_str(desc.pKernelName)? }.to_string_lossy();
        let Some(info) = module.program.kernels().iter().find(|k| k.name == name).cloned() else {
            bail!(ZE_RESULT_ERROR_INVALID_KERNEL_NAME, "no kernel {name:?} in this module");
        };
        let unlinked = module.program.unlinked(&name);
        if !unlinked.is_empty() {
            bail!(ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED, "kernel {name:?} needs unresolved imports {unlinked:?}: link its module with zeModuleDynamicLink");
        }
        let instance = module.instance;
        module.live_kernels.fetch_add(1, Ordering::AcqRel);
        let state = KernelState { args: vec![None; info.args.len()], ..Default::default() };
        let kernel = Arc::new(Kernel {
            instance,
            name: CString::new(info.name.replace('\0', "")).unwrap_or_default(),
            module,
            info,
            state: Mutex::new(state),
        });
        let handle = handles::reserve_for::<Arc<Kernel>>();
        handles::register(handle, Object::Kernel(kernel));
        instance.live.kernels.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phKernel, handles::raw(handle)) }
    }

    fn zeKernelDestroy(hKernel: ze_kernel_handle_t) {
        let kernel: Arc<Kernel> = handles::take(hKernel)?;
        kernel.module.live_kernels.fetch_sub(1, Ordering::AcqRel);
        kernel.instance.live.kernels.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    fn zeKernelSetGroupSize(hKernel: ze_kernel_handle_t, groupSizeX: u32, groupSizeY: u32, groupSizeZ: u32) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        let size = [groupSizeX, groupSizeY, groupSizeZ];
        if size.iter().zip(MAX_GROUP_SIZE).any(|(&s, m)| s == 0 || s > m)
            || size.iter().map(|&s| s as u64).product::<u64>() > MAX_TOTAL_GROUP_SIZE as u64
        {
            bail!(ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION, "group size {size:?} outside the device's limits");
        }
        if let Some(req) = kernel.info.required_group_size && req != size {
            bail!(ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION, "the kernel requires group size {req:?}");
        }
        lock(&kernel.state).group_size = Some(size);
        Ok(())
    }

    /// The kernel's required size if it has one; else, per dimension, the largest divisor of
    /// the global size that fits (x first, at most 256, then y and z within 1024 in total).
    fn zeKernelSuggestGroupSize(
        hKernel: ze_kernel_handle_t,
        globalSizeX: u32,
        globalSizeY: u32,
        globalSizeZ: u32,
        groupSizeX: *mut u32,
        groupSizeY: *mut u32,
        groupSizeZ: *mut u32,
    ) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        if groupSizeX.is_null() || groupSizeY.is_null() || groupSizeZ.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null group size output");
        }
        let global = [globalSizeX, globalSizeY, globalSizeZ];
        if global.contains(&0) {
            bail!(ZE_RESULT_ERROR_INVALID_GLOBAL_WIDTH_DIMENSION, "global size {global:?} has a zero dimension");
        }
        let size = kernel.info.required_group_size.unwrap_or_else(|| suggest(global));
        // SAFETY: checked non-null; the caller's outputs.
        unsafe {
            ffi::write(groupSizeX, size[0])?;
            ffi::write(groupSizeY, size[1])?;
            ffi::write(groupSizeZ, size[2])
        }
    }

    /// Checked against the kernel's arguments: a bad index is
    /// `ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX`, a size other than the argument's
    /// `ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE` (pointers: 8 bytes; local memory: any
    /// size, the value must be null). A null value is a null pointer, or zero bytes for a
    /// by-value argument.
    fn zeKernelSetArgumentValue(hKernel: ze_kernel_handle_t, argIndex: u32, argSize: usize, pArgValue: *const c_void) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        let Some(arg) = kernel.info.args.get(argIndex as usize) else {
            bail!(
                ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX,
                "argument {argIndex} of kernel `{}`, which has {}",
                kernel.info.name,
                kernel.info.args.len()
            );
        };
        let slot = match arg.kind {
            ArgKind::LocalPointer => ArgSlot::Local(argSize),
            ArgKind::GlobalPointer | ArgKind::ConstantPointer | ArgKind::Value => {
                let expected = if arg.kind == ArgKind::Value { arg.size } else { 8 };
                if argSize != expected {
                    bail!(
                        ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
                        "argument {argIndex} of kernel `{}` takes {expected} bytes, not {argSize}",
                        kernel.info.name
                    );
                }
                if pArgValue.is_null() {
                    // The specification: a null `pArgValue` means the argument value is
                    // null: a null pointer, or all-zero bytes for a by-value argument (Intel's
                    // SYCL runtime sends this for zero-valued scalars).
                    ArgSlot::Bytes(vec![0; expected])
                } else {
                    // SAFETY: `pArgValue` holds `argSize` bytes (caller's contract).
                    ArgSlot::Bytes(unsafe { std::slice::from_raw_parts(pArgValue.cast::<u8>(), argSize) }.to_vec())
                }
            }
        };
        lock(&kernel.state).args[argIndex as usize] = Some(slot);
        Ok(())
    }

    fn zeKernelSetGlobalOffsetExp(hKernel: ze_kernel_handle_t, offsetX: u32, offsetY: u32, offsetZ: u32) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        lock(&kernel.state).offset = [offsetX, offsetY, offsetZ];
        Ok(())
    }

    /// Recorded only: kernels reach every allocation the device can access anyway.
    fn zeKernelSetIndirectAccess(hKernel: ze_kernel_handle_t, flags: ze_kernel_indirect_access_flags_t) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        if flags > 0x7 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "indirect access flags {flags:#x}");
        }
        lock(&kernel.state).indirect_access = flags;
        Ok(())
    }

    fn zeKernelGetIndirectAccess(hKernel: ze_kernel_handle_t, pFlags: *mut ze_kernel_indirect_access_flags_t) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        let flags = lock(&kernel.state).indirect_access;
        // SAFETY: the caller's output.
        unsafe { ffi::write(pFlags, flags) }
    }

    /// A hint, accepted and ignored.
    fn zeKernelSetCacheConfig(hKernel: ze_kernel_handle_t, flags: ze_cache_config_flags_t) {
        let _: Arc<Kernel> = handles::get(hKernel)?;
        if flags > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "cache config flags {flags:#x}");
        }
        Ok(())
    }

    fn zeKernelGetProperties(hKernel: ze_kernel_handle_t, pKernelProperties: *mut ze_kernel_properties_t) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        let info = &kernel.info;
        let req = info.required_group_size.unwrap_or([0; 3]);
        let mut kid = [0u8; 16];
        for (d, s) in kid.iter_mut().zip(info.name.bytes()) {
            *d = s;
        }
        let props = ze_kernel_properties_t {
            numKernelArgs: info.args.len() as u32,
            requiredGroupSizeX: req[0],
            requiredGroupSizeY: req[1],
            requiredGroupSizeZ: req[2],
            requiredNumSubGroups: 0,
            requiredSubgroupSize: 0,
            maxSubgroupSize: 1,
            maxNumSubgroups: MAX_TOTAL_GROUP_SIZE,
            localMemSize: info.local_memory_size,
            privateMemSize: info.private_memory_size,
            spillMemSize: 0,
            uuid: ze_kernel_uuid_t { kid, mid: kernel.module.uuid },
            ..Default::default()
        };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pKernelProperties, props).map(drop) }
    }

    fn zeKernelGetName(hKernel: ze_kernel_handle_t, pSize: *mut usize, pName: *mut c_char) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        // SAFETY: the caller's size and buffer.
        unsafe { copy_string(&kernel.name, pSize, pName) }
    }

    /// Resolves the `Import` symbols (functions and `__global`/`__constant` variables) of each
    /// module to the `Export` of another of the modules (`Program::link`). On failure
    /// (an unresolved, ambiguous or mistyped symbol) returns
    /// `ZE_RESULT_ERROR_MODULE_LINK_FAILURE` and changes nothing; the link log names each
    /// symbol. Until linked, `zeKernelCreate` of a kernel that needs an import returns
    /// `ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED`.
    fn zeModuleDynamicLink(numModules: u32, phModules: *mut ze_module_handle_t, phLinkLog: *mut ze_module_build_log_handle_t) {
        if !phLinkLog.is_null() {
            // SAFETY: checked non-null; the caller's output.
            unsafe { ffi::write(phLinkLog, std::ptr::null_mut())? };
        }
        if phModules.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phModules");
        }
        // SAFETY: `phModules` holds `numModules` handles (caller's contract).
        let handles = unsafe { ffi::slice(phModules.cast_const(), numModules)? };
        let modules: Vec<Arc<Module>> = handles.iter().map(|&h| handles::get(h)).collect::<ZeResult<_>>()?;
        let Some(first) = modules.first() else {
            bail!(ZE_RESULT_ERROR_INVALID_SIZE, "numModules is 0");
        };
        let instance = first.instance;
        let mut programs = Vec::new();
        for m in &modules {
            let Some(p) = m.program.as_program() else {
                bail!(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "this module was not built by the SPIR-V engine and cannot be linked");
            };
            programs.push(p);
        }
        match Program::link(&programs) {
            Ok(log) => build_log(instance, &log, phLinkLog),
            Err(e) => {
                build_log(instance, &e.log, phLinkLog)?;
                bail!(ZE_RESULT_ERROR_MODULE_LINK_FAILURE, "{}", e.log);
            }
        }
    }
}

/// A group size for a global size: see `zeKernelSuggestGroupSize`.
fn suggest(global: [u32; 3]) -> [u32; 3] {
    let largest_divisor = |n: u32, limit: u32| {
        (1..=limit.min(n))
            .rev()
            .find(|d| n.is_multiple_of(*d))
            .unwrap_or(1)
    };
    let x = largest_divisor(global[0], 256);
    let y = largest_divisor(global[1], MAX_TOTAL_GROUP_SIZE / x);
    let z = largest_divisor(
        global[2],
        (MAX_TOTAL_GROUP_SIZE / (x * y)).min(MAX_GROUP_SIZE[2]),
    );
    [x, y, z]
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggested_group_sizes_divide_the_global_size() {
        assert_eq!(super::suggest([1024, 1, 1]), [256, 1, 1]);
        assert_eq!(super::suggest([100, 30, 7]), [100, 10, 1]);
        assert_eq!(super::suggest([7, 1, 1]), [7, 1, 1]);
        assert_eq!(super::suggest([64, 64, 64]), [64, 16, 1]);
    }
}
