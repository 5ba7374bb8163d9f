//! Modules, build logs and kernels, built and run by the SPIR-V kernel engine (through
//! [`crate::engine`]).

use std::ffi::{CString, c_char, c_void};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::device::{MAX_GROUP_SIZE, MAX_TOTAL_GROUP_SIZE};
use crate::driver::Instance;
use crate::engine::{ArgKind, BuildOptions, KernelInfo, KernelProgram, Program};
use crate::exec::{ArgSlot, GroupCounts, LaunchCmd};
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::sync::lock;

/// `ZE_extension_kernel_max_group_size_properties`: `ze_kernel_max_group_size_properties_ext_t`
/// chained to `zeKernelGetProperties`'s structure is filled.
pub(crate) const KERNEL_MAX_GROUP_SIZE_EXT_NAME: &std::ffi::CStr =
    c"ZE_extension_kernel_max_group_size_properties";

/// A built module.
pub(crate) struct Module {
    pub(crate) instance: &'static Instance,
    program: Arc<dyn KernelProgram>,
    kernel_names: Vec<CString>,
    live_kernels: AtomicU32,
    uuid: [u8; 16],
    /// What it was built from: the SPIR-V, build flags and specialization constants.
    source: NativeSource,
    /// What the SPIR-V says beyond what the engine reports (attributes, exported functions).
    scan: SpirvScan,
    /// One byte per function `zeModuleGetFunctionPointer` knows (kernels, then exported
    /// functions): their opaque, stable, distinct addresses.
    function_slots: Box<[u8]>,
    child: Child,
}

/// What a module is built from, and what its native binary carries.
#[derive(Clone, Debug, PartialEq)]
struct NativeSource {
    spirv: Vec<u8>,
    flags: String,
    constants: Vec<(u32, Vec<u8>)>,
}

/// The magic of this driver's native module binaries, and their format version.
const NATIVE_MAGIC: &[u8; 8] = b"L0CPUNB\0";
const NATIVE_VERSION: u32 = 1;

/// 64-bit FNV-1a: the native binary's checksum.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl NativeSource {
    /// The native binary: magic, format version, build flags, specialization constants,
    /// SPIR-V (all lengths little-endian), then a checksum of everything before it.
    fn encode(&self) -> Vec<u8> {
        let mut out = NATIVE_MAGIC.to_vec();
        out.extend(NATIVE_VERSION.to_le_bytes());
        out.extend((self.flags.len() as u64).to_le_bytes());
        out.extend(self.flags.as_bytes());
        out.extend((self.constants.len() as u64).to_le_bytes());
        for (id, value) in &self.constants {
            out.extend(id.to_le_bytes());
            out.extend((value.len() as u64).to_le_bytes());
            out.extend(value);
        }
        out.extend((self.spirv.len() as u64).to_le_bytes());
        out.extend(&self.spirv);
        let sum = fnv1a(&out);
        out.extend(sum.to_le_bytes());
        out
    }

    /// Reads a native binary back; an error says what is wrong with it.
    fn decode(bytes: &[u8]) -> Result<NativeSource, String> {
        if bytes.len() < NATIVE_MAGIC.len() + 4 + 8 || &bytes[..8] != NATIVE_MAGIC {
            return Err("not a native binary of level-zero-cpu (bad magic)".into());
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if fnv1a(body).to_le_bytes() != sum {
            return Err("corrupted native binary (checksum mismatch)".into());
        }
        let mut r = Reader { bytes: body, at: 8 };
        let version = u32::from_le_bytes(r.array()?);
        if version != NATIVE_VERSION {
            return Err(format!(
                "native binary format version {version}; this driver reads version {NATIVE_VERSION}"
            ));
        }
        let n = r.len()?;
        let flags = String::from_utf8(r.take(n)?.to_vec())
            .map_err(|_| "native binary: build flags are not UTF-8".to_string())?;
        let count = r.len()?;
        let mut constants = Vec::new();
        for _ in 0..count {
            let id = u32::from_le_bytes(r.array()?);
            let n = r.len()?;
            constants.push((id, r.take(n)?.to_vec()));
        }
        let n = r.len()?;
        let spirv = r.take(n)?.to_vec();
        if r.at != body.len() {
            return Err("native binary: trailing bytes".into());
        }
        Ok(NativeSource {
            spirv,
            flags,
            constants,
        })
    }
}

/// What the driver reads from a module's SPIR-V itself: kernels' execution modes (for
/// `zeKernelGetSourceAttributes`) and exported functions (for `zeModuleGetFunctionPointer`).
#[derive(Default)]
struct SpirvScan {
    /// Entry point id and name.
    entry_points: Vec<(u32, String)>,
    /// `OpExecutionMode` per entry point id: mode and its literals.
    modes: Vec<(u32, u32, Vec<u32>)>,
    /// Names of functions with `LinkageAttributes ... Export`.
    exports: Vec<String>,
}

/// A SPIR-V literal string starting at `words[0]`.
fn spirv_string(words: &[u32]) -> String {
    let bytes: Vec<u8> = words
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Words a SPIR-V string literal starting at `words[0]` occupies.
fn spirv_string_words(words: &[u32]) -> usize {
    words
        .iter()
        .position(|w| w.to_le_bytes().contains(&0))
        .map_or(words.len(), |i| i + 1)
}

impl SpirvScan {
    /// Scans a module (one the engine built, so well formed; anything unreadable is skipped).
    fn of(spirv: &[u8]) -> SpirvScan {
        const OP_ENTRY_POINT: u32 = 15;
        const OP_EXECUTION_MODE: u32 = 16;
        const OP_FUNCTION: u32 = 54;
        const OP_DECORATE: u32 = 71;
        const DECORATION_LINKAGE_ATTRIBUTES: u32 = 41;
        const LINKAGE_EXPORT: u32 = 0;
        let mut scan = SpirvScan::default();
        if spirv.len() < 20 || !spirv.len().is_multiple_of(4) {
            return scan;
        }
        let mut words: Vec<u32> = spirv
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if words[0] == 0x0723_0203u32.swap_bytes() {
            words.iter_mut().for_each(|w| *w = w.swap_bytes());
        }
        let mut linkage = Vec::new(); // (target, name)
        let mut functions = Vec::new();
        let mut i = 5;
        while i < words.len() {
            let count = (words[i] >> 16) as usize;
            let opcode = words[i] & 0xffff;
            if count == 0 || i + count > words.len() {
                break;
            }
            let ops = &words[i + 1..i + count];
            match opcode {
                OP_ENTRY_POINT if ops.len() >= 3 => {
                    scan.entry_points.push((ops[1], spirv_string(&ops[2..])));
                }
                OP_EXECUTION_MODE if ops.len() >= 2 => {
                    scan.modes.push((ops[0], ops[1], ops[2..].to_vec()));
                }
                OP_FUNCTION if ops.len() >= 2 => functions.push(ops[1]),
                OP_DECORATE if ops.len() >= 3 && ops[1] == DECORATION_LINKAGE_ATTRIBUTES => {
                    let name_words = spirv_string_words(&ops[2..]);
                    if ops.get(2 + name_words) == Some(&LINKAGE_EXPORT) {
                        linkage.push((ops[0], spirv_string(&ops[2..])));
                    }
                }
                _ => {}
            }
            i += count;
        }
        scan.exports = linkage
            .into_iter()
            .filter(|(id, _)| functions.contains(id))
            .map(|(_, name)| name)
            .collect();
        scan
    }

    /// A kernel's source attributes as OpenCL C spells them, space separated:
    /// `reqd_work_group_size(X,Y,Z)`, `work_group_size_hint(X,Y,Z)`, `vec_type_hint(T)`,
    /// `intel_reqd_sub_group_size(N)`, from the entry point's execution modes.
    fn attributes(&self, kernel: &str) -> String {
        const LOCAL_SIZE: u32 = 17;
        const LOCAL_SIZE_HINT: u32 = 18;
        const VEC_TYPE_HINT: u32 = 30;
        const SUBGROUP_SIZE: u32 = 35;
        let mut out = Vec::new();
        for (id, _) in self.entry_points.iter().filter(|(_, n)| n == kernel) {
            for (_, mode, lits) in self.modes.iter().filter(|(f, _, _)| f == id) {
                match (*mode, lits.as_slice()) {
                    (LOCAL_SIZE, [x, y, z]) => {
                        out.push(format!("reqd_work_group_size({x},{y},{z})"))
                    }
                    (LOCAL_SIZE_HINT, [x, y, z]) => {
                        out.push(format!("work_group_size_hint({x},{y},{z})"));
                    }
                    (VEC_TYPE_HINT, [hint]) => {
                        out.push(format!("vec_type_hint({})", vec_type(*hint)))
                    }
                    (SUBGROUP_SIZE, [n]) => out.push(format!("intel_reqd_sub_group_size({n})")),
                    _ => {}
                }
            }
        }
        out.join(" ")
    }
}

/// The OpenCL C type a SPIR-V `VecTypeHint` literal names: the low 16 bits are the number of
/// components, the high 16 bits the scalar type (0 char, 1 short, 2 int, 3 long, 4 half,
/// 5 float, 6 double).
fn vec_type(hint: u32) -> String {
    let scalar = match hint >> 16 {
        0 => "char",
        1 => "short",
        2 => "int",
        3 => "long",
        4 => "half",
        5 => "float",
        6 => "double",
        _ => return format!("unknown_type_{hint:#x}"),
    };
    match hint & 0xffff {
        0 | 1 => scalar.to_string(),
        n => format!("{scalar}{n}"),
    }
}

/// Reads a native binary's fields in order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("truncated native binary")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.take(N)?;
        let mut a = [0; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn len(&mut self) -> Result<usize, String> {
        usize::try_from(u64::from_le_bytes(self.array()?))
            .map_err(|_| "native binary: a length out of range".to_string())
    }
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
    /// Its source attributes (`zeKernelGetSourceAttributes`).
    attributes: CString,
    state: Mutex<KernelState>,
}

impl Kernel {
    /// Which engine runs this kernel (`zexCpuKernelGetEngine`).
    pub(crate) fn engine(&self) -> Option<crate::engine::KernelEngine> {
        self.module.program.kernel_engine(&self.info.name)
    }
}

impl Kernel {
    /// Checks a group size against the device's limits and the kernel's required size
    /// (`zeKernelSetGroupSize`'s rules).
    pub(crate) fn check_group_size(&self, size: [u32; 3]) -> ZeResult {
        if size
            .iter()
            .zip(MAX_GROUP_SIZE)
            .any(|(&s, m)| s == 0 || s > m)
            || size.iter().map(|&s| s as u64).product::<u64>() > MAX_TOTAL_GROUP_SIZE as u64
        {
            bail!(
                ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
                "group size {size:?} outside the device's limits"
            );
        }
        if let Some(req) = self.info.required_group_size
            && req != size
        {
            bail!(
                ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
                "the kernel requires group size {req:?}"
            );
        }
        Ok(())
    }

    /// What `zeKernelSetArgumentValue(argIndex, argSize, pArgValue)` sets, checked against the
    /// kernel's signature (nothing is set).
    ///
    /// # Safety
    ///
    /// A non-null `pArgValue` holds `argSize` bytes.
    unsafe fn argument_slot(
        &self,
        argIndex: u32,
        argSize: usize,
        pArgValue: *const c_void,
    ) -> ZeResult<ArgSlot> {
        let Some(arg) = self.info.args.get(argIndex as usize) else {
            bail!(
                ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX,
                "argument {argIndex} of kernel `{}`, which has {}",
                self.info.name,
                self.info.args.len()
            );
        };
        let slot = match arg.kind {
            ArgKind::LocalPointer => ArgSlot::Local(argSize),
            ArgKind::Image | ArgKind::Sampler => {
                // The specification: the value is the image's or sampler's handle.
                let handle_size = std::mem::size_of::<ze_image_handle_t>();
                if argSize != handle_size {
                    bail!(
                        ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
                        "argument {argIndex} of kernel `{}` is an {}: it takes a handle ({handle_size} bytes), not {argSize} bytes",
                        self.info.name,
                        if arg.kind == ArgKind::Image {
                            "image"
                        } else {
                            "sampler"
                        }
                    );
                }
                // SAFETY: a non-null value holds a handle (caller's contract).
                let raw = unsafe { ffi::read(pArgValue.cast::<*mut c_void>())? };
                if arg.kind == ArgKind::Image {
                    let image = crate::image::lookup(raw.cast())?;
                    if !std::ptr::eq(image.instance, self.instance)
                        || image.context != self.module.child.0.handle
                    {
                        bail!(
                            ZE_RESULT_ERROR_INVALID_ARGUMENT,
                            "argument {argIndex} of kernel `{}`: an image of another context",
                            self.info.name
                        );
                    }
                    ArgSlot::Image(image.kernel_arg())
                } else {
                    let sampler: Arc<crate::sampler::Sampler> =
                        handles::get(raw.cast::<_ze_sampler_handle_t>())?;
                    if !std::ptr::eq(sampler.instance, self.instance)
                        || sampler.context != self.module.child.0.handle
                    {
                        bail!(
                            ZE_RESULT_ERROR_INVALID_ARGUMENT,
                            "argument {argIndex} of kernel `{}`: a sampler of another context",
                            self.info.name
                        );
                    }
                    ArgSlot::Sampler(sampler.kernel_arg())
                }
            }
            ArgKind::GlobalPointer | ArgKind::ConstantPointer | ArgKind::Value => {
                let expected = if arg.kind == ArgKind::Value {
                    arg.size
                } else {
                    8
                };
                if argSize != expected {
                    bail!(
                        ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
                        "argument {argIndex} of kernel `{}` takes {expected} bytes, not {argSize}",
                        self.info.name
                    );
                }
                if pArgValue.is_null() {
                    // The specification: a null `pArgValue` means the argument value is
                    // null: a null pointer, or all-zero bytes for a by-value argument (Intel's
                    // SYCL runtime sends this for zero-valued scalars).
                    ArgSlot::Bytes(vec![0; expected])
                } else {
                    // SAFETY: `pArgValue` holds `argSize` bytes (caller's contract).
                    ArgSlot::Bytes(
                        unsafe { std::slice::from_raw_parts(pArgValue.cast::<u8>(), argSize) }
                            .to_vec(),
                    )
                }
            }
        };
        Ok(slot)
    }

    /// `zeCommandListAppendLaunchKernelWithArguments`'s change of the kernel's state, as if
    /// `zeKernelSetGroupSize` and `zeKernelSetArgumentValue` were called for every argument
    /// (each argument's size is the kernel's: a by-value argument's own, 8 bytes for a
    /// pointer, a handle for an image or sampler). Everything is checked before anything is
    /// set. A local-memory argument is refused: its size is not given.
    ///
    /// # Safety
    ///
    /// A non-null `arguments` points to one pointer per argument of the kernel, each null or
    /// pointing to the argument's value.
    pub(crate) unsafe fn set_group_size_and_arguments(
        &self,
        group_size: [u32; 3],
        arguments: *const *mut c_void,
    ) -> ZeResult {
        self.check_group_size(group_size)?;
        let n = self.info.args.len();
        if n > 0 && arguments.is_null() {
            bail!(
                ZE_RESULT_ERROR_INVALID_NULL_POINTER,
                "null pArguments, and kernel `{}` has {n} arguments",
                self.info.name
            );
        }
        let mut slots = Vec::with_capacity(n);
        for (i, arg) in self.info.args.iter().enumerate() {
            let size = match arg.kind {
                ArgKind::LocalPointer => bail!(
                    ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                    "argument {i} of kernel `{}` is a local-memory argument: zeCommandListAppendLaunchKernelWithArguments gives no size for it (set it with zeKernelSetArgumentValue and launch with zeCommandListAppendLaunchKernel)",
                    self.info.name
                ),
                ArgKind::Image | ArgKind::Sampler => std::mem::size_of::<ze_image_handle_t>(),
                ArgKind::GlobalPointer | ArgKind::ConstantPointer => 8,
                ArgKind::Value => arg.size,
            };
            // SAFETY: `arguments` holds one pointer per argument (caller's contract).
            let value = unsafe { arguments.add(i).read() };
            // SAFETY: a non-null value points to the argument's value of `size` bytes.
            slots.push(unsafe { self.argument_slot(i as u32, size, value)? });
        }
        let mut state = lock(&self.state);
        state.group_size = Some(group_size);
        for (dst, slot) in state.args.iter_mut().zip(slots) {
            *dst = Some(slot);
        }
        Ok(())
    }

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
    /// SPIR-V, or a native binary of this driver (from `zeModuleGetNativeBinary`): anything
    /// else given as native — corrupted, truncated, of another format version or another
    /// driver — is `ZE_RESULT_ERROR_INVALID_NATIVE_BINARY` with a build log saying why.
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
        // SAFETY: the descriptor's chain (caller's contract). `ZE_experimental_module_program`
        // (several inputs in one module) is not implemented.
        unsafe { crate::chain::input(&desc, &[])? };
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
        // SAFETY: `pInputModule` holds `inputSize` bytes (caller's contract).
        let input = unsafe { std::slice::from_raw_parts(desc.pInputModule, desc.inputSize) };
        let source = if desc.format == ze_module_format_t::ZE_MODULE_FORMAT_NATIVE {
            // A native binary carries its own build flags and specialization constants: the
            // descriptor's are not used.
            match NativeSource::decode(input) {
                Ok(source) => source,
                Err(why) => {
                    let log = format!("level-zero-cpu: {why}; native binaries come from zeModuleGetNativeBinary of this driver");
                    build_log(instance, &log, phBuildLog)?;
                    bail!(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "{log}");
                }
            }
        } else {
            let flags = if desc.pBuildFlags.is_null() {
                String::new()
            } else {
                // SAFETY: a non-null build flags string is NUL-terminated (caller's contract).
                unsafe { ffi::c_str(desc.pBuildFlags)? }.to_string_lossy().into_owned()
            };
            // SAFETY: the descriptor's constants (caller's contract).
            let constants = unsafe { spec_constants(desc.pConstants, input)? };
            NativeSource { spirv: input.to_vec(), flags, constants }
        };
        let (spirv, flags) = (source.spirv.as_slice(), source.flags.as_str());
        let refs: Vec<(u32, &[u8])> = source.constants.iter().map(|(id, v)| (*id, v.as_slice())).collect();
        let built = if instance.config.fail_module_build {
            Err("level-zero-cpu: module build failure injected by LEVEL_ZERO_CPU_FAIL_MODULE_BUILD".to_string())
        } else {
            let options = BuildOptions {
                flags,
                spec_constants: &refs,
                subgroup_size: Some(instance.config.subgroup_size),
                engine: instance.config.engine,
                unchecked: instance.config.unchecked,
            };
            (instance.builder)(spirv, &options)
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
        let scan = SpirvScan::of(spirv);
        let functions = program.kernels().len() + scan.exports.len();
        let function_slots = vec![0u8; functions.max(1)].into_boxed_slice();
        let module = Arc::new(Module {
            instance,
            program,
            kernel_names,
            live_kernels: AtomicU32::new(0),
            uuid,
            source,
            scan,
            function_slots,
            child: Child::of(&context),
        });
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
        module.child.release();
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
    /// `ZE_MODULE_PROPERTY_FLAG_IMPORTS` while a kernel of the module reaches an import that
    /// no `zeModuleDynamicLink` has resolved yet (the module must be linked before use).
    fn zeModuleGetProperties(hModule: ze_module_handle_t, pModuleProperties: *mut ze_module_properties_t) {
        let module: Arc<Module> = handles::get(hModule)?;
        let unlinked = module.program.kernels().iter().any(|k| !module.program.unlinked(&k.name).is_empty());
        let props = ze_module_properties_t {
            flags: if unlinked { ze_module_property_flag_t::ZE_MODULE_PROPERTY_FLAG_IMPORTS.0 } else { 0 },
            ..Default::default()
        };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pModuleProperties, props).map(drop) }
    }

    /// A program-scope variable's address (a host address, valid as a device pointer).
    fn zeModuleGetGlobalPointer(hModule: ze_module_handle_t, pGlobalName: *const c_char, pSize: *mut usize, pptr: *mut *mut c_void) {
        let module: Arc<Module> = handles::get(hModule)?;
        // SAFETY: a non-null name is a C string (caller's contract).
        let name = unsafe { ffi::c_str(pGlobalName)? }.to_string_lossy();
        // Its own variables, or (the specification) one it imports, once dynamically linked.
        let imported = || module.program.as_program().and_then(|p| p.imported_global(&name));
        let Some(g) = module.program.globals().iter().find(|g| g.name == name).cloned().or_else(imported) else {
            bail!(ZE_RESULT_ERROR_INVALID_GLOBAL_NAME, "no global variable {name:?} in this module (nor one it imports from a module it was linked with)");
        };
        // SAFETY: optional outputs of the caller's.
        unsafe {
            ffi::write_opt(pSize, g.size);
            ffi::write_opt(pptr, g.address as usize as *mut c_void);
        }
        Ok(())
    }

    /// The module's native binary: a versioned header, its build flags, specialization
    /// constants and SPIR-V, and a checksum (see `NativeSource::encode`); `zeModuleCreate` with
    /// `ZE_MODULE_FORMAT_NATIVE` builds the same module from it. With a null buffer, `*pSize`
    /// receives the size; a buffer smaller than that is `ZE_RESULT_ERROR_INVALID_SIZE`.
    fn zeModuleGetNativeBinary(hModule: ze_module_handle_t, pSize: *mut usize, pModuleNativeBinary: *mut u8) {
        let module: Arc<Module> = handles::get(hModule)?;
        let binary = module.source.encode();
        if pModuleNativeBinary.is_null() {
            // SAFETY: the caller's output.
            return unsafe { ffi::write(pSize, binary.len()) };
        }
        // SAFETY: the caller's in/out size.
        let room = unsafe { ffi::read(pSize)? };
        if room < binary.len() {
            bail!(ZE_RESULT_ERROR_INVALID_SIZE, "the native binary takes {} bytes; the buffer has {room}", binary.len());
        }
        // SAFETY: the buffer holds `room >= binary.len()` bytes (caller's contract); no overlap
        // with the driver's vector.
        unsafe {
            std::ptr::copy_nonoverlapping(binary.as_ptr(), pModuleNativeBinary, binary.len());
            ffi::write(pSize, binary.len())
        }
    }

    /// The functions of a module are its kernels and its exported functions
    /// (`LinkageAttributes ... Export`). The kernel engine has no function pointers yet: the
    /// address is opaque — stable for the module's life, distinct per function, never null,
    /// not callable — for clients that only compare or pass it. Any other name is
    /// `ZE_RESULT_ERROR_INVALID_FUNCTION_NAME`.
    fn zeModuleGetFunctionPointer(hModule: ze_module_handle_t, pFunctionName: *const c_char, pfnFunction: *mut *mut c_void) {
        let module: Arc<Module> = handles::get(hModule)?;
        // SAFETY: a non-null name is a C string (caller's contract).
        let name = unsafe { ffi::c_str(pFunctionName)? }.to_string_lossy();
        if pfnFunction.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pfnFunction");
        }
        // The engine's own addresses: what kernels compare and call through
        // (`OpFunctionPointerCallINTEL`), so a pointer passed back as an argument calls this
        // function. Kernels, exported functions and `ReferencedIndirectlyINTEL` ones.
        if let Some(address) = module.program.as_program().and_then(|p| p.function_pointer(&name)) {
            // SAFETY: checked non-null; the caller's output.
            return unsafe { ffi::write(pfnFunction, address as *mut c_void) };
        }
        // Another engine (tests plug in their own): opaque, stable, distinct addresses.
        let index = module
            .program
            .kernels()
            .iter()
            .map(|k| k.name.as_str())
            .chain(module.scan.exports.iter().map(String::as_str))
            .position(|f| f == name);
        let Some(index) = index else {
            bail!(ZE_RESULT_ERROR_INVALID_FUNCTION_NAME, "no function {name:?} in this module");
        };
        let address = module.function_slots[index..].as_ptr() as *mut c_void;
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(pfnFunction, address) }
    }

    /// The kernel's source attributes, space separated as OpenCL C spells them (see
    /// `SpirvScan::attributes`; an empty string for none). The specification's two calls: with
    /// a null `pString`, `*pSize` receives the size with the terminating NUL; else the string
    /// is copied into the application's buffer `*pString` of `*pSize` bytes (truncated and
    /// terminated if short). `pString` is `char**` by a typo the specification keeps; a
    /// non-null `pString` holding NULL — which pocl passes, with `*pSize == 0` — receives a
    /// pointer to the driver's own copy (valid while the kernel lives) and `*pSize` its size.
    fn zeKernelGetSourceAttributes(hKernel: ze_kernel_handle_t, pSize: *mut u32, pString: *mut *mut c_char) {
        let kernel: Arc<Kernel> = handles::get(hKernel)?;
        let bytes = kernel.attributes.as_bytes_with_nul();
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        if pString.is_null() {
            // SAFETY: the caller's output.
            return unsafe { ffi::write(pSize, len) };
        }
        // SAFETY: the caller's in/out size and string pointer.
        let (room, buffer) = unsafe { (ffi::read(pSize)?, pString.read_unaligned()) };
        if buffer.is_null() {
            // SAFETY: as above.
            unsafe {
                pString.write_unaligned(kernel.attributes.as_ptr().cast_mut());
                return ffi::write(pSize, len);
            }
        }
        if room == 0 {
            bail!(ZE_RESULT_ERROR_INVALID_SIZE, "a zero-sized buffer for the source attributes");
        }
        let n = (room as usize).min(bytes.len());
        // SAFETY: `buffer` holds `room >= n` bytes (caller's contract); no overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), buffer, n);
            buffer.add(n - 1).write(0);
            ffi::write(pSize, n as u32)
        }
    }

    fn zeKernelCreate(hModule: ze_module_handle_t, desc: *const ze_kernel_desc_t, phKernel: *mut ze_kernel_handle_t) {
        let module: Arc<Module> = handles::get(hModule)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract); it honours no extension.
        unsafe { crate::chain::input(&desc, &[])? };
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
        // The JIT compiles here, not on the launch path; a kernel it does not take is said.
        if let Some(e) = module.program.kernel_engine(&name) {
            match e.fallback {
                Some(why) => crate::log::emit(
                    ::log::Level::Info,
                    &format!("zeKernelCreate: kernel `{name}` runs on the interpreter: {why}"),
                ),
                None => crate::log::emit(::log::Level::Debug, &format!("zeKernelCreate: kernel `{name}` runs on the {}", e.engine)),
            }
        }
        module.live_kernels.fetch_add(1, Ordering::AcqRel);
        let state = KernelState { args: vec![None; info.args.len()], ..Default::default() };
        let kernel = Arc::new(Kernel {
            instance,
            name: CString::new(info.name.replace('\0', "")).unwrap_or_default(),
            attributes: CString::new(module.scan.attributes(&info.name).replace('\0', "")).unwrap_or_default(),
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
        kernel.check_group_size(size)?;
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
        // SAFETY: forwarded to the caller: `pArgValue` is null or holds `argSize` bytes.
        let slot = unsafe { kernel.argument_slot(argIndex, argSize, pArgValue)? };
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
            requiredSubgroupSize: info.required_subgroup_size.unwrap_or(0),
            maxSubgroupSize: info.subgroup_size,
            maxNumSubgroups: MAX_TOTAL_GROUP_SIZE.div_ceil(info.subgroup_size.max(1)),
            localMemSize: info.local_memory_size,
            privateMemSize: info.private_memory_size,
            spillMemSize: 0,
            uuid: ze_kernel_uuid_t { kid, mid: kernel.module.uuid },
            ..Default::default()
        };
        // `ZE_extension_kernel_max_group_size_properties`: the largest group the kernel runs
        // with, what zeKernelSetGroupSize accepts: its required size if it has one.
        let max_group = ze_structure_type_t::ZE_STRUCTURE_TYPE_KERNEL_MAX_GROUP_SIZE_EXT_PROPERTIES.0;
        let extended = kernel.instance.has_extension(&KERNEL_MAX_GROUP_SIZE_EXT_NAME.to_string_lossy());
        let filled: &[u32] = if extended { &[max_group] } else { &[] };
        // SAFETY: the caller's structure and its chain.
        let header = unsafe { ffi::fill_extended(pKernelProperties, props, filled)? };
        if extended {
            let max = ze_kernel_max_group_size_properties_ext_t {
                maxGroupSize: info.required_group_size.map_or(MAX_TOTAL_GROUP_SIZE, |r| r.iter().product()),
                ..Default::default()
            };
            // SAFETY: the caller's chain, checked by `fill_extended`.
            unsafe { crate::chain::fill_chained(header.pNext, max) };
        }
        Ok(())
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
        let mut modules: Vec<Arc<Module>> = handles.iter().map(|&h| handles::get(h)).collect::<ZeResult<_>>()?;
        // A module listed twice is one module (its exports are not ambiguous with themselves).
        let mut seen = Vec::new();
        modules.retain(|m| {
            let fresh = !seen.iter().any(|s| Arc::ptr_eq(s, m));
            if fresh {
                seen.push(m.clone());
            }
            fresh
        });
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
    fn inst(opcode: u32, ops: &[u32]) -> Vec<u32> {
        let mut v = vec![((ops.len() as u32 + 1) << 16) | opcode];
        v.extend_from_slice(ops);
        v
    }

    #[test]
    fn source_attributes_spell_every_execution_mode_as_opencl_c_does() {
        let mut w = vec![0x0723_0203, 0x0001_0000, 0, 100, 0];
        // OpEntryPoint Kernel %5 "k" ("k\0\0\0" in one word)
        w.extend(inst(15, &[6, 5, u32::from(b'k')]));
        w.extend(inst(16, &[5, 17, 8, 4, 1])); // LocalSize 8 4 1
        w.extend(inst(16, &[5, 18, 2, 1, 1])); // LocalSizeHint 2 1 1
        w.extend(inst(16, &[5, 30, (5 << 16) | 4])); // VecTypeHint float4
        w.extend(inst(16, &[5, 35, 16])); // SubgroupSize 16
        w.extend(inst(16, &[7, 17, 1, 1, 1])); // another function's mode
        // OpDecorate %9 LinkageAttributes "f" Export; %9 = OpFunction
        w.extend(inst(71, &[9, 41, u32::from(b'f'), 0]));
        w.extend(inst(54, &[1, 9, 0, 2]));
        let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        let scan = super::SpirvScan::of(&bytes);
        assert_eq!(
            scan.attributes("k"),
            "reqd_work_group_size(8,4,1) work_group_size_hint(2,1,1) vec_type_hint(float4) intel_reqd_sub_group_size(16)"
        );
        assert_eq!(scan.attributes("other"), "");
        assert_eq!(scan.exports, vec!["f".to_string()]);
        assert_eq!(super::vec_type(6 << 16), "double");
        assert_eq!(super::vec_type((2 << 16) | 8), "int8");
    }

    #[test]
    fn native_binaries_round_trip_and_refuse_other_versions() {
        let source = super::NativeSource {
            spirv: vec![1, 2, 3, 4],
            flags: "-g".into(),
            constants: vec![(7, vec![9, 9])],
        };
        let bytes = source.encode();
        assert_eq!(super::NativeSource::decode(&bytes), Ok(source));
        // Another format version, with a valid checksum: refused, naming the version.
        let mut other = bytes[..bytes.len() - 8].to_vec();
        other[8] = 2;
        let sum = super::fnv1a(&other);
        other.extend(sum.to_le_bytes());
        let err = super::NativeSource::decode(&other).unwrap_err();
        assert!(err.contains("version 2"), "{err}");
    }
    #[test]
    fn suggested_group_sizes_divide_the_global_size() {
        assert_eq!(super::suggest([1024, 1, 1]), [256, 1, 1]);
        assert_eq!(super::suggest([100, 30, 7]), [100, 10, 1]);
        assert_eq!(super::suggest([7, 1, 1]), [7, 1, 1]);
        assert_eq!(super::suggest([64, 64, 64]), [64, 16, 1]);
    }
}
