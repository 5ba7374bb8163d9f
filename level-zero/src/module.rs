//! Modules (SPIR-V programs) and kernels.

use std::cell::Cell;
use std::ffi::{CString, c_void};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ResultCode, ze};
use crate::handle::Handle;
use crate::memory::{Memory, Use};
use crate::properties::Uuid;

/// The largest specialization constant (a 64-bit scalar): every value passed to the driver
/// holds at least this many bytes.
const SPEC_CONSTANT_BYTES: usize = 8;

/// Options for building a module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    flags: Vec<String>,
    constants: Vec<(u32, Vec<u8>)>,
}

impl BuildOptions {
    /// No flags, no specialization constants.
    pub fn new() -> BuildOptions {
        BuildOptions::default()
    }

    /// Adds a build flag, e.g. `-ze-opt-disable` or `-ze-opt-level=2`.
    pub fn flag(mut self, flag: impl Into<String>) -> BuildOptions {
        self.flags.push(flag.into());
        self
    }

    /// Disables optimisations (`-ze-opt-disable`).
    pub fn disable_optimizations(self) -> BuildOptions {
        self.flag("-ze-opt-disable")
    }

    /// Lets kernels address buffers larger than 4 GiB
    /// (`-ze-opt-greater-than-4GB-buffer-required`): kernels that index buffers allocated
    /// beyond `maxMemAllocSize` (see the relaxed allocation limits) need it on Intel GPUs.
    pub fn greater_than_4gb_buffers(self) -> BuildOptions {
        self.flag("-ze-opt-greater-than-4GB-buffer-required")
    }

    /// Sets specialization constant `id` (`OpSpecConstant` with `SpecId id`) to `value`.
    ///
    /// `zeModuleCreate` passes no sizes: the driver reads as many bytes as the module
    /// declares for the constant (a scalar of at most 8 bytes). The value's bytes are
    /// therefore kept zero-padded to 8: a value narrower than the constant is read
    /// zero-extended (little-endian), never past its end; a wider one is truncated.
    pub fn spec_constant<T: Pod>(mut self, id: u32, value: T) -> BuildOptions {
        self.constants.retain(|(i, _)| *i != id);
        let mut bytes = bytemuck::bytes_of(&value).to_vec();
        if bytes.len() < SPEC_CONSTANT_BYTES {
            bytes.resize(SPEC_CONSTANT_BYTES, 0);
        }
        self.constants.push((id, bytes));
        self
    }

    /// The flags as one string, as `zeModuleCreate` takes them.
    pub fn flags_string(&self) -> String {
        self.flags.join(" ")
    }
}

/// Owns a module's handle and destroys it when the last reference goes: the module's own
/// [`ModuleInner`], and the [`LinkGroup`] of the modules it was linked with.
struct ModuleHandle {
    ctx: Context,
    handle: Handle<sys::_ze_module_handle_t>,
}

impl Drop for ModuleHandle {
    fn drop(&mut self) {
        // SAFETY: every kernel of the module holds its `ModuleInner`, which holds this, so all
        // were destroyed; launches keep their kernel alive until they complete. A linked
        // module is held by its link group until every module of the group (and so every
        // kernel that may call into this one) is gone.
        if let Err(e) = unsafe { ze!(self.ctx.api(), zeModuleDestroy(self.handle.0)) } {
            log::error!("level-zero: destroying a module failed: {e}");
        }
    }
}

/// Modules linked with each other by [`Module::link`], transitively: a kernel of one may
/// run code, or use variables, of any other (an importer calls its exporter, which may
/// itself have been linked with a third module). The group owns every member's handle, and
/// every member's [`ModuleInner`] holds the group, so no member is destroyed before all of
/// them are unused (rule 13 of `docs/SOUNDNESS.md`).
///
/// Linking modules of different groups merges the groups: a new group takes over the members
/// of the old ones, and each old group forwards to it (`merged_into`), so that members not
/// part of that link, which still point to an old group, keep the merged group alive too.
/// Forwarding always points to a newer group: there are no cycles.
#[derive(Default)]
struct LinkGroup {
    state: Mutex<LinkGroupState>,
}

#[derive(Default)]
struct LinkGroupState {
    /// The members, while this group is the newest of its chain.
    members: Vec<Arc<ModuleHandle>>,
    /// The group this one was merged into.
    merged_into: Option<Arc<LinkGroup>>,
}

impl LinkGroup {
    /// The newest group of `group`'s chain.
    fn root(group: &Arc<LinkGroup>) -> Arc<LinkGroup> {
        let mut g = group.clone();
        loop {
            let next = lock(&g.state).merged_into.clone();
            match next {
                Some(n) => g = n,
                None => return g,
            }
        }
    }
}

impl Drop for LinkGroup {
    /// Unwinds the forwarding chain in a loop: dropping the oldest group of a chain of
    /// thousands of merges must not recurse once per group (a stack overflow).
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        let mut next = state.merged_into.take();
        while let Some(group) = next {
            match Arc::try_unwrap(group) {
                // The last reference: take its successor before it drops (its own drop
                // then finds nothing to follow).
                Ok(mut g) => {
                    let state = g.state.get_mut().unwrap_or_else(|e| e.into_inner());
                    next = state.merged_into.take();
                }
                // Someone else still holds it (and so the rest of the chain).
                Err(_) => break,
            }
        }
    }
}

/// Serialises linking: group merges, and `zeModuleDynamicLink` itself (rare calls, which
/// may change several modules at once).
static LINKING: Mutex<()> = Mutex::new(());

/// Locks a mutex; the data behind the crate's own mutexes stays consistent across a panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) struct ModuleInner {
    pub(crate) ctx: Context,
    pub(crate) device: Device,
    own: Arc<ModuleHandle>,
    /// The modules this one was linked with (`None` until linked).
    group: Mutex<Option<Arc<LinkGroup>>>,
}

impl ModuleInner {
    fn handle(&self) -> sys::ze_module_handle_t {
        self.own.handle.0
    }
}

/// A module: a SPIR-V program (or a native binary) built for one device. Cheap to clone;
/// `Send + Sync`.
///
/// A module lives as long as its last clone, kernel, [`FunctionPointer`], or — once
/// [linked](Module::link) — as long as any module it was linked with: the driver is not
/// required to keep an exporting module alive for its importers, so the crate does.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("handle", &self.inner.handle())
            .finish()
    }
}

/// Reads and destroys a build log.
fn take_build_log(api: &sys::Api, log: sys::ze_module_build_log_handle_t) -> String {
    if log.is_null() {
        return String::new();
    }
    let mut size = 0usize;
    // SAFETY: valid build-log handle; size query.
    let mut text = String::new();
    if unsafe {
        ze!(
            api,
            zeModuleBuildLogGetString(log, &mut size, std::ptr::null_mut())
        )
    }
    .is_ok()
        && size > 0
    {
        let mut buf = vec![0u8; size];
        // SAFETY: `buf` has room for `size` bytes.
        if unsafe {
            ze!(
                api,
                zeModuleBuildLogGetString(log, &mut size, buf.as_mut_ptr().cast())
            )
        }
        .is_ok()
        {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            text = String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    // SAFETY: the log is destroyed once, after its last use.
    if let Err(e) = unsafe { ze!(api, zeModuleBuildLogDestroy(log)) } {
        log::error!("level-zero: destroying a build log failed: {e}");
    }
    text
}

impl Module {
    /// Builds a module from SPIR-V for `device`. A failed build returns
    /// [`Error::ModuleBuild`] with the driver's build log.
    pub fn from_spirv(
        ctx: &Context,
        device: &Device,
        spirv: &[u8],
        options: &BuildOptions,
    ) -> Result<Module> {
        Self::from_spirv_with_log(ctx, device, spirv, options).map(|(m, _)| m)
    }

    /// [`Module::from_spirv`], also returning the build log of a successful build
    /// (warnings; often empty).
    pub fn from_spirv_with_log(
        ctx: &Context,
        device: &Device,
        spirv: &[u8],
        options: &BuildOptions,
    ) -> Result<(Module, String)> {
        if spirv.is_empty() {
            return Err(Error::invalid(
                "zeModuleCreate",
                "the SPIR-V module is empty",
            ));
        }
        Self::create(
            ctx,
            device,
            sys::ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
            spirv,
            options,
        )
    }

    /// Builds a module from a native binary that [`Module::native_binary`] returned
    /// (`ZE_MODULE_FORMAT_NATIVE`): no compilation, so programs can be cached on disk the way
    /// SYCL's persistent cache does.
    ///
    /// A native binary is specific to the device model *and* the driver (its version, even
    /// its build) that produced it; the specification lets a module be re-created from one
    /// only "on other devices and contexts within the same driver instance". Key a cache by
    /// at least the device's UUID and the driver's version
    /// ([`DeviceProperties::uuid`](crate::DeviceProperties::uuid),
    /// [`DriverProperties::driver_version`](crate::DriverProperties::driver_version)) and
    /// rebuild from SPIR-V when loading fails: a binary the driver does not accept (another
    /// driver's, a corrupted file) is [`Error::ModuleBuild`] with code
    /// `ZE_RESULT_ERROR_INVALID_NATIVE_BINARY` (or the driver's build failure) and the driver's
    /// log.
    ///
    /// The binary carries its own specialization constants: `options` may hold build flags
    /// (passed on), but specialization constants are refused (the specification allows them
    /// for SPIR-V only).
    ///
    /// ```no_run
    /// # use level_zero::{BuildOptions, Context, Device, Module, Result};
    /// fn cached(ctx: &Context, dev: &Device, spirv: &[u8], dir: &std::path::Path) -> Result<Module> {
    ///     let key = format!(
    ///         "{:?}-{:x}-{:016x}",
    ///         dev.properties()?.uuid,
    ///         dev.driver().properties()?.driver_version,
    ///         spirv.iter().fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(b.into())),
    ///     );
    ///     let path = dir.join(key);
    ///     if let Ok(bytes) = std::fs::read(&path) {
    ///         if let Ok(m) = Module::from_native(ctx, dev, &bytes, &BuildOptions::new()) {
    ///             return Ok(m);
    ///         }
    ///     }
    ///     let m = Module::from_spirv(ctx, dev, spirv, &BuildOptions::new())?;
    ///     let _ = std::fs::write(&path, m.native_binary()?);
    ///     Ok(m)
    /// }
    /// ```
    pub fn from_native(
        ctx: &Context,
        device: &Device,
        binary: &[u8],
        options: &BuildOptions,
    ) -> Result<Module> {
        Self::from_native_with_log(ctx, device, binary, options).map(|(m, _)| m)
    }

    /// [`Module::from_native`], also returning the build log of a successful load.
    pub fn from_native_with_log(
        ctx: &Context,
        device: &Device,
        binary: &[u8],
        options: &BuildOptions,
    ) -> Result<(Module, String)> {
        const CALL: &str = "zeModuleCreate";
        if binary.is_empty() {
            return Err(Error::invalid(CALL, "the native binary is empty"));
        }
        if !options.constants.is_empty() {
            return Err(Error::invalid(
                CALL,
                "specialization constants apply to SPIR-V only: a native binary carries the values it was built with",
            ));
        }
        Self::create(
            ctx,
            device,
            sys::ze_module_format_t::ZE_MODULE_FORMAT_NATIVE,
            binary,
            options,
        )
    }

    fn create(
        ctx: &Context,
        device: &Device,
        format: sys::ze_module_format_t,
        input: &[u8],
        options: &BuildOptions,
    ) -> Result<(Module, String)> {
        crate::host_function::refuse("zeModuleCreate")?;
        const CALL: &str = "zeModuleCreate";
        ctx.check_device(CALL, device)?;
        let flags = CString::new(options.flags_string())
            .map_err(|_| Error::invalid(CALL, "a build flag contains a NUL byte"))?;
        let ids: Vec<u32> = options.constants.iter().map(|(i, _)| *i).collect();
        let mut values: Vec<*const c_void> = options
            .constants
            .iter()
            .map(|(_, v)| v.as_ptr().cast())
            .collect();
        let constants = sys::ze_module_constants_t {
            numConstants: ids.len() as u32,
            pConstantIds: ids.as_ptr(),
            pConstantValues: values.as_mut_ptr(),
        };
        let desc = sys::ze_module_desc_t {
            format,
            inputSize: input.len(),
            pInputModule: input.as_ptr(),
            pBuildFlags: flags.as_ptr(),
            pConstants: if ids.is_empty() {
                std::ptr::null()
            } else {
                &constants
            },
            ..Default::default()
        };
        let api = ctx.api();
        let mut h = std::ptr::null_mut();
        let mut log = std::ptr::null_mut();
        // SAFETY: valid context and device, a descriptor whose pointers (module bytes,
        // flags, constants) outlive the call, valid outputs.
        let r = unsafe {
            crate::trace::ze_call!(
                api,
                zeModuleCreate(ctx.as_raw(), device.as_raw(), &desc, &mut h, &mut log)
            )
        }?;
        let text = take_build_log(api, log);
        if !r.is_success() {
            if !h.is_null() {
                // SAFETY: a handle returned alongside a failure is destroyed, not used.
                let _ = unsafe { crate::trace::ze_call!(api, zeModuleDestroy(h)) };
            }
            return Err(Error::ModuleBuild {
                code: ResultCode(r),
                log: text,
            });
        }
        Ok((
            Module {
                inner: Arc::new(ModuleInner {
                    ctx: ctx.clone(),
                    device: device.clone(),
                    own: Arc::new(ModuleHandle {
                        ctx: ctx.clone(),
                        handle: Handle(h),
                    }),
                    group: Mutex::new(None),
                }),
            },
            text,
        ))
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_module_handle_t {
        self.inner.handle()
    }

    /// The context the module was built in.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// The device the module was built for.
    pub fn device(&self) -> &Device {
        &self.inner.device
    }

    /// Whether the module still has imports to resolve (`ZE_MODULE_PROPERTY_FLAG_IMPORTS`):
    /// kernels that reach them cannot be created until [`Module::link`] resolves them.
    pub fn has_unresolved_imports(&self) -> Result<bool> {
        let api = self.inner.ctx.api();
        let mut props = sys::ze_module_properties_t::default();
        // SAFETY: a live module handle and a properties structure of the right type.
        unsafe { ze!(api, zeModuleGetProperties(self.as_raw(), &mut props))? };
        Ok(props.flags & sys::ze_module_property_flag_t::ZE_MODULE_PROPERTY_FLAG_IMPORTS.0 != 0)
    }

    /// The names of the module's kernels.
    pub fn kernel_names(&self) -> Result<Vec<String>> {
        let api = self.inner.ctx.api();
        let mut count = 0u32;
        // SAFETY: count query.
        unsafe {
            ze!(
                api,
                zeModuleGetKernelNames(self.as_raw(), &mut count, std::ptr::null_mut())
            )?
        };
        let mut names = vec![std::ptr::null(); count as usize];
        // SAFETY: `names` has room for `count` pointers.
        unsafe {
            ze!(
                api,
                zeModuleGetKernelNames(self.as_raw(), &mut count, names.as_mut_ptr())
            )?
        };
        names.truncate(count as usize);
        Ok(names
            .into_iter()
            .filter(|p| !p.is_null())
            // SAFETY: the driver returns NUL-terminated names owned by the module, which
            // lives across this call; they are copied at once.
            .map(|p| {
                unsafe { std::ffi::CStr::from_ptr(p) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect())
    }

    /// The device address and size of the program-scope variable `name`.
    pub fn global_pointer(&self, name: &str) -> Result<(*mut c_void, usize)> {
        const CALL: &str = "zeModuleGetGlobalPointer";
        let cname =
            CString::new(name).map_err(|_| Error::invalid(CALL, "the name contains a NUL byte"))?;
        let (mut size, mut ptr) = (0usize, std::ptr::null_mut());
        // SAFETY: valid handle, NUL-terminated name, valid outputs.
        unsafe {
            ze!(
                self.inner.ctx.api(),
                zeModuleGetGlobalPointer(self.as_raw(), cname.as_ptr(), &mut size, &mut ptr)
            )?
        };
        Ok((ptr, size))
    }

    /// Creates the kernel `name`.
    pub fn kernel(&self, name: &str) -> Result<Kernel> {
        Kernel::new(self, name)
    }

    /// The module's native binary (`zeModuleGetNativeBinary`): what
    /// [`Module::from_native`] builds the same module from, without compiling. It is
    /// specific to the device model and the driver that produced it (see
    /// [`Module::from_native`] for caching it).
    ///
    /// A driver reporting a zero-byte binary is [`Error::Unsupported`]; a driver without the
    /// function, [`Error::MissingFunction`].
    pub fn native_binary(&self) -> Result<Vec<u8>> {
        let api = self.inner.ctx.api();
        let mut size = 0usize;
        // SAFETY: valid module handle; a size query (null buffer).
        unsafe {
            ze!(
                api,
                zeModuleGetNativeBinary(self.as_raw(), &mut size, std::ptr::null_mut())
            )?
        };
        if size == 0 {
            return Err(Error::Unsupported {
                what: "native module binaries",
                why: "zeModuleGetNativeBinary reported a binary of 0 bytes".into(),
            });
        }
        let mut binary = vec![0u8; size];
        let mut written = size;
        // SAFETY: `binary` holds `written` bytes.
        unsafe {
            ze!(
                api,
                zeModuleGetNativeBinary(self.as_raw(), &mut written, binary.as_mut_ptr())
            )?
        };
        binary.truncate(written.min(size));
        Ok(binary)
    }

    /// The device address of the function `name` of this module — a kernel, or a function
    /// the module exports (`zeModuleGetFunctionPointer`). A name the module lacks is
    /// `ZE_RESULT_ERROR_INVALID_FUNCTION_NAME`.
    ///
    /// The address is only meaningful to kernels, which may call through it: pass it with
    /// [`Kernel::set_arg_function_pointer`] (which keeps this module alive for the launches
    /// that use it), or store [`FunctionPointer::address`] in device memory. The host cannot
    /// call it.
    pub fn function_pointer(&self, name: &str) -> Result<FunctionPointer> {
        const CALL: &str = "zeModuleGetFunctionPointer";
        let cname =
            CString::new(name).map_err(|_| Error::invalid(CALL, "the name contains a NUL byte"))?;
        let mut address = std::ptr::null_mut();
        // SAFETY: valid module handle, NUL-terminated name, valid output.
        unsafe {
            ze!(
                self.inner.ctx.api(),
                zeModuleGetFunctionPointer(self.as_raw(), cname.as_ptr(), &mut address)
            )?
        };
        Ok(FunctionPointer {
            module: self.clone(),
            name: name.to_string(),
            address: address as usize as u64,
        })
    }

    /// Links modules with each other (`zeModuleDynamicLink`): every `Import` of each module
    /// (a function or a variable with SPIR-V `LinkageAttributes ... Import`) is resolved to
    /// the `Export` of another module of `modules`. Until then, creating a kernel that needs
    /// an import fails with `ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED`.
    ///
    /// A failure is [`Error::ModuleLink`] with the driver's link log (which names the
    /// unresolved symbols). Checked before any call: `modules` is not empty and all were
    /// built in one context for one device ([`Error::InvalidArgument`] naming the module
    /// that differs). A module given twice counts once, so linking a module "with itself" is
    /// linking it alone (which succeeds when it imports nothing). Linking again — the same
    /// modules or others — is defined: the specification links a module's imports once ("a
    /// module can be used in multiple link calls if it has exports but its imports will not
    /// be re-linked", and the CPU driver does so: work already submitted never changes
    /// meaning), and the crate keeps every module of
    /// every link alive together. Links are serialised process-wide (the specification
    /// forbids linking the same importing modules from several threads at once).
    ///
    /// **Keep-alive.** After linking, a kernel of one module may run code, or use
    /// variables, of another, and the specification does not promise that the driver keeps
    /// an exporter alive for its importers. So the crate does: the modules of a link — and,
    /// transitively, every module they were ever linked with — are destroyed only once all
    /// of them are unused (no clone, kernel, function pointer or launch of any of them is
    /// left). Dropping an exporter early from safe code therefore only drops a reference.
    /// Whatever the link's outcome, the modules stay tied, since a failed link may have
    /// changed some of them.
    pub fn link(modules: &[&Module]) -> Result<()> {
        Self::link_with_log(modules).map(drop)
    }

    /// [`Module::link`], also returning the link log of a successful link (often empty).
    pub fn link_with_log(modules: &[&Module]) -> Result<String> {
        const CALL: &str = "zeModuleDynamicLink";
        crate::host_function::refuse(CALL)?;
        let Some(first) = modules.first() else {
            return Err(Error::invalid(CALL, "no modules to link"));
        };
        let mut unique: Vec<&Module> = Vec::with_capacity(modules.len());
        for (i, m) in modules.iter().enumerate() {
            if m.inner.ctx != first.inner.ctx {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "module {i} was built in another context than module 0: modules link only within one context"
                    ),
                ));
            }
            if m.inner.device != first.inner.device {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "module {i} was built for another device than module 0: modules link only with modules of the same device"
                    ),
                ));
            }
            if !unique.iter().any(|u| Arc::ptr_eq(&u.inner, &m.inner)) {
                unique.push(m);
            }
        }
        let _linking = lock(&LINKING);
        Self::tie(&unique);
        let mut handles: Vec<sys::ze_module_handle_t> = unique.iter().map(|m| m.as_raw()).collect();
        let api = first.inner.ctx.api();
        let mut log = std::ptr::null_mut();
        // SAFETY: `handles` holds `handles.len()` valid module handles of one context and
        // device; the log output is valid (never null: loader 1.8.12 crashes on a null one).
        let r = unsafe {
            crate::trace::ze_call!(
                api,
                zeModuleDynamicLink(handles.len() as u32, handles.as_mut_ptr(), &mut log)
            )
        }?;
        let text = take_build_log(api, log);
        if !r.is_success() {
            return Err(Error::ModuleLink {
                code: ResultCode(r),
                log: text,
            });
        }
        Ok(text)
    }

    /// Puts `modules` in one link group (merging the groups they were in). Called with
    /// `LINKING` held.
    fn tie(modules: &[&Module]) {
        let mut roots: Vec<Arc<LinkGroup>> = Vec::new();
        let mut members: Vec<Arc<ModuleHandle>> = Vec::new();
        for m in modules {
            let group = lock(&m.inner.group).clone();
            match group {
                Some(g) => {
                    let root = LinkGroup::root(&g);
                    if !roots.iter().any(|r| Arc::ptr_eq(r, &root)) {
                        roots.push(root);
                    }
                }
                None => members.push(m.inner.own.clone()),
            }
        }
        if let ([root], []) = (roots.as_slice(), members.as_slice()) {
            // Already one group (a repeated link): no new group needed.
            for m in modules {
                *lock(&m.inner.group) = Some(root.clone());
            }
            return;
        }
        let merged = Arc::new(LinkGroup::default());
        for root in &roots {
            let mut state = lock(&root.state);
            members.append(&mut state.members);
            state.merged_into = Some(merged.clone());
        }
        lock(&merged.state).members = members;
        for m in modules {
            *lock(&m.inner.group) = Some(merged.clone());
        }
    }
}

/// Whether a module built for `theirs` may run on `ours`: `ours` is a sub-device of `theirs`
/// (the specification lets a module serve its device's sub-devices). A driver that cannot
/// tell (no `zeDeviceGetRootDevice`) gets the strict answer: no.
pub(crate) fn related_devices(theirs: &Device, ours: &Device) -> Result<bool> {
    match ours.root_device() {
        Ok(root) => Ok(root.as_ref() == Some(theirs)),
        Err(Error::MissingFunction { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The device address of a function of a module ([`Module::function_pointer`]): a value
/// for kernels to call through, never callable from the host. It keeps its module alive.
/// `Send + Sync`.
#[derive(Clone)]
pub struct FunctionPointer {
    module: Module,
    name: String,
    address: u64,
}

impl FunctionPointer {
    /// The address, as a kernel receives it (to store in device memory, for instance). The
    /// address stays valid while the module lives: kernels that reach it through memory must
    /// be kept from running after the module — this object, or another of its clones,
    /// kernels or links — is gone.
    pub fn address(&self) -> u64 {
        self.address
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The module the function belongs to.
    pub fn module(&self) -> &Module {
        &self.module
    }
}

impl std::fmt::Debug for FunctionPointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionPointer")
            .field("name", &self.name)
            .field("address", &format_args!("{:#x}", self.address))
            .finish()
    }
}

impl PartialEq for FunctionPointer {
    fn eq(&self, other: &Self) -> bool {
        self.address == other.address && Arc::ptr_eq(&self.module.inner, &other.module.inner)
    }
}

impl Eq for FunctionPointer {}

bitflags::bitflags! {
    /// Memory a kernel may reach through pointers it was not given as arguments (pointers
    /// stored in buffers, for instance): `zeKernelSetIndirectAccess`. Without the matching
    /// flag, such memory may not be resident for the kernel on a GPU, and the CPU driver
    /// stops the launch.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct IndirectAccess: u32 {
        /// Host allocations.
        const HOST = sys::ze_kernel_indirect_access_flag_t::ZE_KERNEL_INDIRECT_ACCESS_FLAG_HOST.0;
        /// Device allocations.
        const DEVICE = sys::ze_kernel_indirect_access_flag_t::ZE_KERNEL_INDIRECT_ACCESS_FLAG_DEVICE.0;
        /// Shared allocations.
        const SHARED = sys::ze_kernel_indirect_access_flag_t::ZE_KERNEL_INDIRECT_ACCESS_FLAG_SHARED.0;
    }
}

/// A kernel's properties (`zeKernelGetProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelProperties {
    /// Number of arguments.
    pub num_args: u32,
    /// `reqd_work_group_size`, or zeros.
    pub required_group_size: [u32; 3],
    /// Required number of sub-groups, or 0.
    pub required_num_sub_groups: u32,
    /// Required sub-group size, or 0.
    pub required_sub_group_size: u32,
    /// Largest sub-group size.
    pub max_sub_group_size: u32,
    /// Most sub-groups per group.
    pub max_num_sub_groups: u32,
    /// Static local memory, in bytes.
    pub local_memory: u32,
    /// Private memory per work-item, in bytes.
    pub private_memory: u32,
    /// Spill memory, in bytes.
    pub spill_memory: u32,
    /// Kernel UUID.
    pub uuid: Uuid,
}

#[derive(Clone, Copy)]
enum ArgValue {
    Memory,
    Value,
    Local,
}

struct KernelInner {
    module: Module,
    handle: Handle<sys::_ze_kernel_handle_t>,
}

/// Something a kernel argument holds alive that is not memory: the module of a function
/// pointer, a sampler.
type Held = Arc<dyn std::any::Any + Send + Sync>;

/// What a launch of a kernel whose arguments hold function pointers or samplers keeps alive:
/// the kernel, and what those arguments held when the launch was issued (the functions'
/// modules, the samplers).
struct LaunchKeepAlive {
    _kernel: Arc<KernelInner>,
    _held: Vec<Held>,
}

impl Drop for KernelInner {
    fn drop(&mut self) {
        // SAFETY: launches keep the kernel alive until they complete.
        if let Err(e) = unsafe { ze!(self.module.inner.ctx.api(), zeKernelDestroy(self.handle.0)) }
        {
            log::error!("level-zero: destroying a kernel failed: {e}");
        }
    }
}

/// A kernel of a module, with its arguments and group size.
///
/// Setting arguments and the group size takes `&mut self` (Level Zero forbids doing that
/// from several threads at once); `Send`, not `Sync`. Every argument must be set before a
/// launch; the argument count is checked before any call, and a wrong size is reported as
/// the driver's `ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE`.
///
/// On a driver with `zeCommandListAppendLaunchKernelWithArguments` (spec 1.14) argument
/// values are kept here and reach the driver with the next launch, in the launch's one call
/// (a size the driver refuses is then reported by that launch, naming the argument); on
/// older drivers each `set_arg*` is a `zeKernelSetArgumentValue` call. Either way a launch
/// uses the values set before it. Code that launches the raw handle itself must not rely on
/// values set through this object since its last launch.
pub struct Kernel {
    inner: Arc<KernelInner>,
    name: String,
    props: KernelProperties,
    args: Vec<Option<ArgValue>>,
    /// The buffers and images set as arguments (and their argument indices), what a launch
    /// keeps alive and orders with other commands that use them.
    mem_uses: Vec<Use>,
    mem_index: Vec<u32>,
    /// What the other arguments hold alive (and their argument indices): the modules of the
    /// functions set as arguments, the samplers. A launch keeps those of its issue alive.
    held: Vec<(u32, Held)>,
    group_size: Option<[u32; 3]>,
    /// On a driver with `zeCommandListAppendLaunchKernelWithArguments` (spec 1.14): the
    /// argument values, given to the driver by the next launch in one call with it.
    deferred: Option<std::cell::RefCell<Deferred>>,
    /// The value size the driver last accepted for each argument (0: none yet, or local
    /// memory): a kernel's argument sizes are fixed by its signature, so the launch builder
    /// refuses another size before any call, naming this one as the expected size.
    accepted_sizes: Vec<usize>,
    /// The last group size the driver suggested, and the global size it was for.
    suggested: Option<([u32; 3], [u32; 3])>,
    /// Set when a launch builder's `run` failed after it had changed the kernel: every
    /// argument and the group size were then forgotten (see [`Kernel::forget_arguments`]),
    /// and the next launch's refusal says why.
    forgotten: bool,
    _not_sync: PhantomData<Cell<()>>,
}

/// Argument values kept for one-call launches.
#[derive(Default)]
struct Deferred {
    /// Each argument's value as set last (empty: not set, or local memory).
    values: Vec<Vec<u8>>,
    /// The value size the driver accepted for each argument (0: none yet). A value of
    /// another size is given to the driver at once, so a wrong size is refused by the
    /// `set_arg*` call itself.
    sizes: Vec<usize>,
    /// Whether an argument changed since the driver last saw the values.
    dirty: bool,
    /// A local-memory argument was set (its size is not a value a pointer array can carry):
    /// launches then set changed arguments one call each.
    has_local: bool,
    /// The arguments changed since the driver last saw them (for `has_local` launches).
    pending: Vec<u32>,
}

/// How a launch gives the kernel's arguments to the driver.
pub(crate) enum LaunchArgs {
    /// They are the kernel's state already: `zeCommandListAppendLaunchKernel`.
    InKernel,
    /// `zeCommandListAppendLaunchKernelWithArguments` with these value pointers (into the
    /// kernel's `Deferred`, unchanged until the next `&mut` call) and this group size.
    WithArguments(Vec<*mut c_void>, [u32; 3]),
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("name", &self.name)
            .field("group_size", &self.group_size)
            .finish()
    }
}

impl Kernel {
    /// Creates the kernel `name` of `module`.
    pub fn new(module: &Module, name: &str) -> Result<Kernel> {
        const CALL: &str = "zeKernelCreate";
        let cname =
            CString::new(name).map_err(|_| Error::invalid(CALL, "the name contains a NUL byte"))?;
        let desc = sys::ze_kernel_desc_t {
            pKernelName: cname.as_ptr(),
            ..Default::default()
        };
        let api = module.inner.ctx.api();
        let mut h = std::ptr::null_mut();
        // SAFETY: valid module, descriptor with a NUL-terminated name, valid output.
        unsafe { ze!(api, zeKernelCreate(module.as_raw(), &desc, &mut h))? };
        let inner = Arc::new(KernelInner {
            module: module.clone(),
            handle: Handle(h),
        });
        let mut p = sys::ze_kernel_properties_t::default();
        // SAFETY: valid kernel and output.
        unsafe { ze!(api, zeKernelGetProperties(h, &mut p))? };
        let props = KernelProperties {
            num_args: p.numKernelArgs,
            required_group_size: [
                p.requiredGroupSizeX,
                p.requiredGroupSizeY,
                p.requiredGroupSizeZ,
            ],
            required_num_sub_groups: p.requiredNumSubGroups,
            required_sub_group_size: p.requiredSubgroupSize,
            max_sub_group_size: p.maxSubgroupSize,
            max_num_sub_groups: p.maxNumSubgroups,
            local_memory: p.localMemSize,
            private_memory: p.privateMemSize,
            spill_memory: p.spillMemSize,
            uuid: Uuid(p.uuid.kid),
        };
        let group_size = (props.required_group_size != [0; 3]).then_some(props.required_group_size);
        Ok(Kernel {
            inner,
            name: name.to_string(),
            args: vec![None; props.num_args as usize],
            mem_uses: Vec::new(),
            mem_index: Vec::new(),
            held: Vec::new(),
            props,
            group_size,
            deferred: api
                .zeCommandListAppendLaunchKernelWithArguments
                .is_some()
                .then(|| {
                    std::cell::RefCell::new(Deferred {
                        values: vec![Vec::new(); p.numKernelArgs as usize],
                        sizes: vec![0; p.numKernelArgs as usize],
                        ..Deferred::default()
                    })
                }),
            accepted_sizes: vec![0; p.numKernelArgs as usize],
            suggested: None,
            forgotten: false,
            _not_sync: PhantomData,
        })
    }

    /// How the next launch passes the arguments: in one call with the launch when the
    /// driver can (and some changed), else set one call each first (on a driver without
    /// one-call launches they were set as they were given).
    pub(crate) fn launch_args(&self, call: &'static str) -> Result<LaunchArgs> {
        let Some(d) = &self.deferred else {
            return Ok(LaunchArgs::InKernel);
        };
        let mut d = d.borrow_mut();
        if !d.dirty {
            return Ok(LaunchArgs::InKernel);
        }
        if d.has_local {
            for i in std::mem::take(&mut d.pending) {
                let v = &d.values[i as usize];
                if v.is_empty() {
                    continue;
                }
                // SAFETY: valid kernel handle (exclusive: `Kernel` is not `Sync` and the
                // caller holds it for the launch), `v` holds the value's bytes.
                unsafe {
                    ze!(
                        self.api(),
                        zeKernelSetArgumentValue(self.as_raw(), i, v.len(), v.as_ptr().cast())
                    )
                }
                .map_err(|e| self.argument_error(i, v.len(), e))?;
            }
            d.dirty = false;
            return Ok(LaunchArgs::InKernel);
        }
        let Some(group) = self.group_size else {
            return Err(Error::invalid(
                call,
                format!("the group size of kernel `{}` is not set", self.name),
            ));
        };
        let ptrs = d
            .values
            .iter()
            .map(|v| v.as_ptr().cast_mut().cast())
            .collect();
        Ok(LaunchArgs::WithArguments(ptrs, group))
    }

    /// After a launch that passed the arguments: the driver has them.
    pub(crate) fn arguments_given(&self) {
        if let Some(d) = &self.deferred {
            let mut d = d.borrow_mut();
            d.dirty = false;
            d.pending.clear();
        }
    }

    /// After a one-call launch failed: sets the arguments one by one to find the one the
    /// driver refuses, and returns an error naming it (or `e` when each is accepted).
    pub(crate) fn diagnose_arguments(&self, e: Error) -> Error {
        let Some(d) = &self.deferred else { return e };
        let d = d.borrow();
        for (i, v) in d.values.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            // SAFETY: valid kernel handle, exclusive; `v` holds the value's bytes.
            let r = unsafe {
                ze!(
                    self.api(),
                    zeKernelSetArgumentValue(self.as_raw(), i as u32, v.len(), v.as_ptr().cast())
                )
            };
            if let Err(err) = r {
                return self.argument_error(i as u32, v.len(), err);
            }
        }
        e
    }

    fn argument_error(&self, index: u32, size: usize, e: Error) -> Error {
        match e.code() {
            Some(c) if c.0 == sys::ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE => {
                Error::invalid(
                    "zeKernelSetArgumentValue",
                    format!(
                        "argument {index} of kernel `{}`: the driver refuses a value of {size} bytes ({e})",
                        self.name
                    ),
                )
            }
            _ => e,
        }
    }

    fn api(&self) -> &sys::Api {
        self.inner.module.inner.ctx.api()
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_kernel_handle_t {
        self.inner.handle.0
    }

    /// The kernel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kernel's properties.
    pub fn properties(&self) -> &KernelProperties {
        &self.props
    }

    /// The module the kernel belongs to.
    pub fn module(&self) -> &Module {
        &self.inner.module
    }

    /// Forgets every argument and the group size (what the kernel holds alive for them too):
    /// a launch is refused until they are set again. What a launch builder's `run` does when
    /// it fails after changing the kernel, so that a later plain launch never runs with a
    /// mix of the old values and those of a launch that reported failure. The driver keeps
    /// the values it was given; the kernel's record of what the driver accepted stays, so
    /// setting them again is exact.
    pub(crate) fn forget_arguments(&mut self) {
        self.args.iter_mut().for_each(|a| *a = None);
        self.group_size = None;
        self.mem_uses.clear();
        self.mem_index.clear();
        self.held.clear();
        self.forgotten = true;
    }

    /// Sets the work-group size. Every dimension must be at least 1.
    pub fn set_group_size(&mut self, size: [u32; 3]) -> Result<()> {
        const CALL: &str = "zeKernelSetGroupSize";
        if size.contains(&0) {
            return Err(Error::invalid(CALL, format!("zero-sized group {size:?}")));
        }
        // SAFETY: valid kernel handle, exclusive access.
        unsafe {
            ze!(
                self.api(),
                zeKernelSetGroupSize(self.as_raw(), size[0], size[1], size[2])
            )?
        };
        self.group_size = Some(size);
        Ok(())
    }

    /// Lets the kernel reach memory of these kinds through pointers it was not given as
    /// arguments (`zeKernelSetIndirectAccess`).
    ///
    /// Launches keep alive only the buffers set as arguments: memory reached indirectly must
    /// be kept alive by the caller, as the launch's safety section says.
    pub fn set_indirect_access(&mut self, access: IndirectAccess) -> Result<()> {
        // SAFETY: valid kernel handle, exclusive access.
        unsafe {
            ze!(
                self.api(),
                zeKernelSetIndirectAccess(self.as_raw(), access.bits())
            )
        }
    }

    /// The group size set last (or the kernel's required one).
    pub fn group_size(&self) -> Option<[u32; 3]> {
        self.group_size
    }

    /// Sets the global offset: the global id of the first work-item in each dimension (what
    /// `get_global_offset` returns; `[0, 0, 0]` until set). `zeKernelSetGlobalOffsetExp`, of
    /// the `ZE_experimental_global_offset` extension: a driver without it fails the call.
    /// Like arguments, it applies to later launches, each keeping the value it had then.
    pub fn set_global_offset(&mut self, offset: [u32; 3]) -> Result<()> {
        // SAFETY: valid kernel handle, exclusive access.
        unsafe {
            ze!(
                self.api(),
                zeKernelSetGlobalOffsetExp(self.as_raw(), offset[0], offset[1], offset[2])
            )
        }
    }

    /// The group size the driver suggests for a global size of `global` work-items.
    pub fn suggest_group_size(&self, global: [u32; 3]) -> Result<[u32; 3]> {
        const CALL: &str = "zeKernelSuggestGroupSize";
        if global.contains(&0) {
            return Err(Error::invalid(CALL, format!("zero global size {global:?}")));
        }
        let mut s = [0u32; 3];
        // SAFETY: valid kernel handle and outputs.
        unsafe {
            ze!(
                self.api(),
                zeKernelSuggestGroupSize(
                    self.as_raw(),
                    global[0],
                    global[1],
                    global[2],
                    &mut s[0],
                    &mut s[1],
                    &mut s[2]
                )
            )?
        };
        Ok(s)
    }

    pub(crate) fn check_index(&self, index: u32) -> Result<()> {
        if index >= self.props.num_args {
            return Err(Error::invalid(
                "zeKernelSetArgumentValue",
                format!(
                    "kernel `{}` has {} arguments; index {index} is out of range",
                    self.name, self.props.num_args
                ),
            ));
        }
        Ok(())
    }

    fn set_raw(&mut self, index: u32, size: usize, value: *const c_void) -> Result<()> {
        self.set_raw_inner(index, size, value)?;
        if let Some(s) = self.accepted_sizes.get_mut(index as usize) {
            *s = if value.is_null() { 0 } else { size };
        }
        Ok(())
    }

    fn set_raw_inner(&mut self, index: u32, size: usize, value: *const c_void) -> Result<()> {
        if let Some(d) = &self.deferred {
            let mut d = d.borrow_mut();
            let d = &mut *d;
            if !value.is_null() && d.sizes[index as usize] != size {
                // A size the driver has not accepted for this argument yet: it checks it now.
                // SAFETY: valid kernel handle, exclusive access, `value` points to `size`
                // bytes.
                unsafe {
                    ze!(
                        self.api(),
                        zeKernelSetArgumentValue(self.as_raw(), index, size, value)
                    )?
                };
                d.sizes[index as usize] = size;
                // SAFETY: as above.
                let bytes = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) };
                let slot = &mut d.values[index as usize];
                slot.clear();
                slot.extend_from_slice(bytes);
                return Ok(());
            }
            d.dirty = true;
            if !d.pending.contains(&index) {
                d.pending.push(index);
            }
            if value.is_null() {
                // Local memory: set now; launches set arguments one call each from now on.
                d.has_local = true;
                d.values[index as usize].clear();
                d.sizes[index as usize] = 0;
            } else {
                if size == 0 {
                    return Err(Error::invalid(
                        "zeKernelSetArgumentValue",
                        format!(
                            "argument {index} of kernel `{}`: a zero-sized value",
                            self.name
                        ),
                    ));
                }
                // SAFETY: the callers pass `value` pointing to `size` readable bytes.
                let bytes = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) };
                let slot = &mut d.values[index as usize];
                slot.clear();
                slot.extend_from_slice(bytes);
                return Ok(());
            }
        }
        // SAFETY: valid kernel handle, exclusive access, `value` points to `size` bytes (or
        // is null for local memory).
        unsafe {
            ze!(
                self.api(),
                zeKernelSetArgumentValue(self.as_raw(), index, size, value)
            )
        }
    }

    /// Sets argument `index` to a buffer (a `__global` or `__constant` pointer). The buffer
    /// is kept alive by every launch that uses this setting.
    pub fn set_arg_buffer<T: Pod>(&mut self, index: u32, buffer: &impl Memory<T>) -> Result<()> {
        self.check_index(index)?;
        let r = buffer.region();
        if r.alloc.ctx != self.inner.module.inner.ctx {
            return Err(Error::invalid(
                "zeKernelSetArgumentValue",
                "the buffer belongs to another context than the kernel",
            ));
        }
        // The kernel may write anything it is given.
        self.set_arg_use(index, &r.ptr(), r.use_(true))
    }

    /// Sets argument `index` (checked in range) to `value`, an argument through which the
    /// kernel uses the memory (or image) of `u`: every launch that uses this setting keeps it
    /// alive and is ordered with other commands that use it.
    pub(crate) fn set_arg_use<V: Copy>(&mut self, index: u32, value: &V, u: Use) -> Result<()> {
        self.set_raw(index, size_of::<V>(), (value as *const V).cast())?;
        self.held.retain(|(i, _)| *i != index);
        match self.mem_index.iter().position(|&i| i == index) {
            Some(k) => self.mem_uses[k] = u,
            None => {
                self.mem_index.push(index);
                self.mem_uses.push(u);
            }
        }
        self.args[index as usize] = Some(ArgValue::Memory);
        Ok(())
    }

    /// Sets argument `index` (checked in range) to `value`, an argument that needs `held`
    /// alive (a sampler): every launch that uses this setting keeps it alive.
    pub(crate) fn set_arg_holding<V: Copy>(
        &mut self,
        index: u32,
        value: &V,
        held: Held,
    ) -> Result<()> {
        self.set_raw(index, size_of::<V>(), (value as *const V).cast())?;
        self.forget_buffer(index);
        self.held.push((index, held));
        self.args[index as usize] = Some(ArgValue::Value);
        Ok(())
    }

    /// Sets argument `index` to a value (scalar, vector or `#[repr(C)]` struct).
    pub fn set_arg<T: Pod>(&mut self, index: u32, value: &T) -> Result<()> {
        self.check_index(index)?;
        self.set_raw(index, size_of::<T>(), (value as *const T).cast())?;
        self.forget_buffer(index);
        self.args[index as usize] = Some(ArgValue::Value);
        Ok(())
    }

    /// Sets argument `index` (checked in range) to a by-value argument of these bytes (the
    /// launch builder's type-erased [`set_arg`](Self::set_arg)).
    pub(crate) fn set_arg_bytes(&mut self, index: u32, bytes: &[u8]) -> Result<()> {
        self.set_raw(index, bytes.len(), bytes.as_ptr().cast())?;
        self.forget_buffer(index);
        self.args[index as usize] = Some(ArgValue::Value);
        Ok(())
    }

    /// The value size the driver last accepted for argument `index` (`None`: none yet, or
    /// local memory).
    pub(crate) fn accepted_size(&self, index: u32) -> Option<usize> {
        self.accepted_sizes
            .get(index as usize)
            .copied()
            .filter(|&s| s != 0)
    }

    /// The group size for a launch over `global` work-items: the kernel's required one
    /// (`reqd_work_group_size`), else the driver's suggestion (`zeKernelSuggestGroupSize`),
    /// remembered for the next launch over the same global size.
    pub(crate) fn group_size_for(&mut self, global: [u32; 3]) -> Result<[u32; 3]> {
        if self.props.required_group_size != [0; 3] {
            return Ok(self.props.required_group_size);
        }
        if let Some((g, s)) = self.suggested
            && g == global
        {
            return Ok(s);
        }
        let s = self.suggest_group_size(global)?;
        if s.contains(&0) {
            return Err(Error::invalid(
                "zeKernelSuggestGroupSize",
                format!(
                    "the driver suggested the group size {s:?} for kernel `{}` over {global:?} work-items",
                    self.name
                ),
            ));
        }
        self.suggested = Some((global, s));
        Ok(s)
    }

    /// Sets argument `index` to a function pointer ([`Module::function_pointer`]), passed as
    /// its 64-bit address. The function's module is kept alive by the kernel, and so by every
    /// launch of it. Refused for a function of another context.
    pub fn set_arg_function_pointer(
        &mut self,
        index: u32,
        function: &FunctionPointer,
    ) -> Result<()> {
        const CALL: &str = "zeKernelSetArgumentValue";
        self.check_index(index)?;
        if function.module.inner.ctx != self.inner.module.inner.ctx {
            return Err(Error::invalid(
                CALL,
                format!(
                    "function `{}` belongs to a module of another context than the kernel",
                    function.name
                ),
            ));
        }
        // A module's code runs on its device (and that device's sub-devices, or its root's
        // other tiles' root): a function of another device's module is unreachable code.
        let (theirs, ours) = (
            &function.module.inner.device,
            &self.inner.module.inner.device,
        );
        if theirs != ours && !related_devices(theirs, ours)? {
            return Err(Error::invalid(
                CALL,
                format!(
                    "function `{}` belongs to a module built for another device than the kernel's",
                    function.name
                ),
            ));
        }
        let address = function.address;
        self.set_arg_holding(index, &address, Arc::new(function.module.clone()))
    }

    /// The kernel's source-language attributes (`zeKernelGetSourceAttributes`), as the
    /// driver spells them — for OpenCL C, e.g. `reqd_work_group_size(16,16,1)`, several
    /// separated by spaces; empty when the kernel has none (or the driver reports a size of
    /// 0). A driver without the function is [`Error::MissingFunction`].
    ///
    /// The specification's two calls are used: the size (null `pString`), then the text
    /// into the crate's buffer (`*pString`). Loaders before spec 1.9 have a validation layer
    /// that refuses a null `pString` (`ZE_RESULT_ERROR_INVALID_NULL_POINTER`); the size query
    /// is then skipped, and the text read into a buffer that grows until it holds it.
    pub fn source_attributes(&self) -> Result<String> {
        let api = self.api();
        let mut size = 0u32;
        // SAFETY: valid kernel handle; a size query (null string).
        let r = unsafe {
            crate::trace::ze_call!(
                api,
                zeKernelGetSourceAttributes(self.as_raw(), &mut size, std::ptr::null_mut())
            )
        }?;
        match r {
            sys::ze_result_t::ZE_RESULT_SUCCESS if size == 0 => return Ok(String::new()),
            sys::ze_result_t::ZE_RESULT_SUCCESS => {
                return self.source_attributes_into(size).map(|(s, _)| s);
            }
            sys::ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER => {}
            code => {
                return Err(Error::Call {
                    call: "zeKernelGetSourceAttributes",
                    code: ResultCode(code),
                    detail: None,
                });
            }
        }
        let mut room = 256u32;
        loop {
            let (text, complete) = self.source_attributes_into(room)?;
            if complete || room >= 1 << 20 {
                return Ok(text);
            }
            room *= 4;
        }
    }

    /// The source attributes read into a buffer of `size` bytes, and whether they fit (a
    /// terminating NUL before the buffer's last byte, or a driver saying it wrote less).
    fn source_attributes_into(&self, size: u32) -> Result<(String, bool)> {
        // One byte more than announced, zeroed: the text is terminated whatever the driver
        // writes.
        let mut buf = vec![0u8; size as usize + 1];
        let ours = buf.as_mut_ptr().cast::<std::ffi::c_char>();
        let mut string = ours;
        let mut written = size;
        // SAFETY: the specification's second call: `*pString` is the caller's buffer of
        // `*pSize` bytes, which `buf` holds (plus one).
        unsafe {
            ze!(
                self.api(),
                zeKernelGetSourceAttributes(self.as_raw(), &mut written, &mut string)
            )?
        };
        let bytes: &[u8] = if string == ours || string.is_null() {
            &buf[..size as usize]
        } else {
            // A driver that pointed `*pString` at its own copy instead (what some do when
            // given a null `*pString`): `written` bytes, valid while the kernel lives.
            // SAFETY: the driver returned this string of `written` bytes; copied at once.
            unsafe { std::slice::from_raw_parts(string.cast::<u8>(), written.min(size) as usize) }
        };
        let end = bytes.iter().position(|&b| b == 0);
        let complete = end.is_some_and(|e| e + 1 < bytes.len()) || written < size;
        let end = end.unwrap_or(bytes.len());
        Ok((
            String::from_utf8_lossy(&bytes[..end]).into_owned(),
            complete,
        ))
    }

    /// Sets argument `index`, a `__local` pointer, to `bytes` of local memory per group.
    pub fn set_arg_local(&mut self, index: u32, bytes: usize) -> Result<()> {
        self.check_index(index)?;
        if bytes == 0 {
            return Err(Error::invalid(
                "zeKernelSetArgumentValue",
                "zero bytes of local memory",
            ));
        }
        self.set_raw(index, bytes, std::ptr::null())?;
        self.forget_buffer(index);
        self.args[index as usize] = Some(ArgValue::Local);
        Ok(())
    }

    /// Argument `index` no longer holds a buffer, an image, a function pointer or a sampler.
    fn forget_buffer(&mut self, index: u32) {
        if let Some(k) = self.mem_index.iter().position(|&i| i == index) {
            self.mem_index.swap_remove(k);
            self.mem_uses.swap_remove(k);
        }
        self.held.retain(|(i, _)| *i != index);
    }

    /// Checks the kernel is ready to launch and returns what a launch must keep alive: the
    /// buffers set as arguments, and the kernel itself.
    pub(crate) fn launch_uses(
        &self,
        call: &'static str,
    ) -> Result<(&[Use], Arc<dyn std::any::Any + Send + Sync>)> {
        let why = if self.forgotten {
            " (a failed launch_builder run forgot the kernel's arguments and group size: set them again)"
        } else {
            ""
        };
        if let Some(i) = self.args.iter().position(Option::is_none) {
            return Err(Error::invalid(
                call,
                format!("argument {i} of kernel `{}` is not set{why}", self.name),
            ));
        }
        if self.group_size.is_none() {
            return Err(Error::invalid(
                call,
                format!("the group size of kernel `{}` is not set{why}", self.name),
            ));
        }
        let keep: Arc<dyn std::any::Any + Send + Sync> = if self.held.is_empty() {
            self.inner.clone()
        } else {
            Arc::new(LaunchKeepAlive {
                _kernel: self.inner.clone(),
                _held: self.held.iter().map(|(_, h)| h.clone()).collect(),
            })
        };
        Ok((&self.mem_uses, keep))
    }

    pub(crate) fn context(&self) -> &Context {
        &self.inner.module.inner.ctx
    }

    pub(crate) fn device(&self) -> &Device {
        &self.inner.module.inner.device
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_constant_values_are_zero_padded_to_the_largest_constant() {
        let o = BuildOptions::new()
            .spec_constant(1, 0x1234u16)
            .spec_constant(2, u64::MAX)
            .spec_constant(3, [7u8; 12])
            .spec_constant(1, 0xabu8);
        assert_eq!(
            o.constants,
            vec![
                (2, vec![0xff; 8]),
                (3, vec![7; 12]),
                (1, vec![0xab, 0, 0, 0, 0, 0, 0, 0]),
            ]
        );
    }
}
