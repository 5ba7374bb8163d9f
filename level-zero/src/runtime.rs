//! Loading Level Zero and choosing a backend.

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use level_zero_sys as sys;
use sys::Api;

use crate::driver::Driver;
use crate::error::{Error, Result, ze};
use crate::handle::Handle;

/// The environment variable that overrides the backend [`Backend::Auto`] would choose:
/// `system`, `cpu` or `auto`.
pub const BACKEND_ENV: &str = "LEVEL_ZERO_BACKEND";

/// The environment variable naming the loader library to load instead of the default names
/// (for [`Backend::System`] and [`Backend::Auto`]).
pub const LOADER_PATH_ENV: &str = "LEVEL_ZERO_LOADER_PATH";

/// The environment variable that prints [`Runtime::describe`] to stderr when the first
/// runtime of the process is created: `1` (also `true`, `on`, `yes`) or `0` (also `false`,
/// `off`, `no`, or empty); any other value makes runtime creation fail.
pub const DESCRIBE_ENV: &str = "LEVEL_ZERO_DESCRIBE";

/// Which Level Zero implementation to use.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// The system's Level Zero loader (`libze_loader.so.1`, `ze_loader.dll`), which
    /// dispatches to every installed driver.
    System,
    /// The Level Zero loader at this path.
    SystemAt(PathBuf),
    /// The CPU driver compiled into this program (cargo feature `cpu`), with no loader.
    #[cfg(feature = "cpu")]
    Cpu,
    /// The system loader if it loads and reports at least one driver; else the embedded CPU
    /// driver when the `cpu` feature is on. [`BACKEND_ENV`] overrides the choice.
    Auto,
}

/// What a [`Runtime`] runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// The system's Level Zero loader; the name or path it was loaded from.
    SystemLoader(String),
    /// The embedded CPU driver.
    EmbeddedCpu,
    /// A table the application built ([`Runtime::from_api`]).
    Custom,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendKind::SystemLoader(p) => write!(f, "system loader ({p})"),
            BackendKind::EmbeddedCpu => f.write_str("embedded CPU driver"),
            BackendKind::Custom => f.write_str("application-provided function table"),
        }
    }
}

pub(crate) struct RuntimeInner {
    pub(crate) api: Arc<Api>,
    kind: BackendKind,
    /// Why this backend was chosen (the request, the environment variable, or what
    /// [`Backend::Auto`] found).
    reason: String,
    drivers: Vec<Handle<sys::_ze_driver_handle_t>>,
    /// The loader may wrap driver handles (several drivers, or intercept mode); extension
    /// functions need the driver's own handles, which `zelLoaderTranslateHandle` gives.
    pub(crate) translates_handles: bool,
    /// What `zesInit` answered, once asked.
    pub(crate) sysman_init: OnceLock<Result<(), crate::sysman::SysmanUnavailable>>,
}

/// An initialised Level Zero backend: the function table and the drivers it reported.
///
/// Cheap to clone; every object created from it keeps it alive. `Send + Sync`: the table is
/// immutable and Level Zero's initialisation and driver queries are thread-safe.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("backend", &self.inner.kind)
            .field("drivers", &self.inner.drivers.len())
            .finish()
    }
}

/// Loaded system loaders, by path, kept for the life of the process: unloading the Level
/// Zero loader unloads its drivers while their threads may still run.
/// A loaded system loader: the path asked for (`None`: the default names), its table and
/// the name it was loaded under.
type Loaded = (Option<PathBuf>, Arc<Api>, String);

fn system_api(path: Option<&PathBuf>) -> Result<(Arc<Api>, String)> {
    static LOADED: OnceLock<Mutex<Vec<Loaded>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    let mut loaded = loaded.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, api, name)) = loaded.iter().find(|(p, _, _)| p.as_ref() == path) {
        return Ok((api.clone(), name.clone()));
    }
    let (api, name) = match path {
        // SAFETY: loading the Level Zero loader named by the application (argument or
        // environment) is the documented purpose of this backend; its initialisers are
        // trusted as those of any system library the program links.
        Some(p) => (unsafe { Api::load_from(p)? }, p.display().to_string()),
        None => {
            // SAFETY: as above, for the system loader under its standard names.
            let api = unsafe { Api::load()? };
            let name = Api::loader_names()
                .first()
                .copied()
                .unwrap_or("libze_loader");
            (api, name.to_string())
        }
    };
    let api = Arc::new(api);
    loaded.push((path.cloned(), api.clone(), name.clone()));
    Ok((api, name))
}

#[cfg(feature = "cpu")]
fn embedded_api() -> Arc<Api> {
    static API: OnceLock<Arc<Api>> = OnceLock::new();
    API.get_or_init(|| {
        // SAFETY: the embedded driver's getters honour the DDI contract and its functions
        // are static, so they outlive every table.
        let (api, _) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
        Arc::new(api)
    })
    .clone()
}

/// Initialises the drivers behind `api`: `zeInitDrivers` when the table has it, else `zeInit`
/// and `zeDriverGet`.
fn init_drivers(api: &Api) -> Result<Vec<Handle<sys::_ze_driver_handle_t>>> {
    let mut count = 0u32;
    if api.zeInitDrivers.is_some() {
        let mut desc = sys::ze_init_driver_type_desc_t {
            // Every driver type: GPUs, NPUs and others (such as CPU drivers).
            flags: u32::MAX,
            ..Default::default()
        };
        // SAFETY: count query with a valid descriptor.
        unsafe {
            ze!(
                api,
                zeInitDrivers(&mut count, std::ptr::null_mut(), &mut desc)
            )?
        };
        let mut handles = vec![std::ptr::null_mut(); count as usize];
        // SAFETY: `handles` has room for `count` handles.
        unsafe {
            ze!(
                api,
                zeInitDrivers(&mut count, handles.as_mut_ptr(), &mut desc)
            )?
        };
        handles.truncate(count as usize);
        return Ok(handles.into_iter().map(Handle).collect());
    }
    // SAFETY: zeInit takes flags only; 0 initialises every driver type.
    unsafe { ze!(api, zeInit(sys::ze_init_flags_t::default()))? };
    // SAFETY: count query.
    unsafe { ze!(api, zeDriverGet(&mut count, std::ptr::null_mut()))? };
    let mut handles = vec![std::ptr::null_mut(); count as usize];
    // SAFETY: `handles` has room for `count` handles.
    unsafe { ze!(api, zeDriverGet(&mut count, handles.as_mut_ptr()))? };
    handles.truncate(count as usize);
    Ok(handles.into_iter().map(Handle).collect())
}

fn translates_handles(api: &Api, kind: &BackendKind) -> bool {
    matches!(kind, BackendKind::SystemLoader(_)) && api.zelLoaderTranslateHandle.is_some()
}

impl Runtime {
    /// Loads and initialises the backend [`Backend::Auto`] chooses (see [`BACKEND_ENV`]).
    pub fn init() -> Result<Runtime> {
        Runtime::new(Backend::Auto)
    }

    /// Loads and initialises a backend.
    ///
    /// With [`Backend::Auto`], [`BACKEND_ENV`] (`system`, `cpu`, `auto`) overrides the
    /// choice, and [`LOADER_PATH_ENV`] names the loader library. The choice and the reason
    /// for it are logged through the `log` facade.
    ///
    /// # Examples
    ///
    /// ```
    /// use level_zero::{Backend, Runtime};
    /// # fn main() -> level_zero::Result<()> {
    /// let rt = Runtime::new(Backend::Auto)?;
    /// println!("running on the {}", rt.backend());
    /// for driver in rt.drivers() {
    ///     println!("{} devices", driver.devices()?.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn new(backend: Backend) -> Result<Runtime> {
        let rt = Runtime::create(backend)?;
        rt.announce()?;
        Ok(rt)
    }

    fn create(backend: Backend) -> Result<Runtime> {
        crate::trace::init_from_env()?;
        match backend {
            Backend::System => Runtime::system_from_env("Backend::System requested".into()),
            Backend::SystemAt(p) => Runtime::system(
                Some(&p),
                format!("Backend::SystemAt({}) requested", p.display()),
            ),
            #[cfg(feature = "cpu")]
            Backend::Cpu => Runtime::cpu_because("Backend::Cpu requested".into()),
            Backend::Auto => Runtime::auto(),
        }
    }

    /// Logs the one-line summary, and prints [`Runtime::describe`] once per process when
    /// [`DESCRIBE_ENV`] asks for it.
    fn announce(&self) -> Result<()> {
        log::info!("level-zero: {}", self.summary());
        static DESCRIBED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if crate::trace::env_switch(DESCRIBE_ENV)? == Some(true)
            && !DESCRIBED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            use std::io::Write as _;
            let _ = std::io::stderr()
                .lock()
                .write_all(self.describe().as_bytes());
        }
        Ok(())
    }

    /// The system loader named by [`LOADER_PATH_ENV`], or under its default names.
    fn system_from_env(reason: String) -> Result<Runtime> {
        match std::env::var_os(LOADER_PATH_ENV).map(PathBuf::from) {
            Some(p) => {
                let reason = format!("{reason}; {LOADER_PATH_ENV}={}", p.display());
                Runtime::system(Some(&p), reason)
            }
            None => Runtime::system(None, reason),
        }
    }

    fn system(path: Option<&PathBuf>, reason: String) -> Result<Runtime> {
        let (api, name) = system_api(path)?;
        let kind = BackendKind::SystemLoader(name);
        let drivers = init_drivers(&api)?;
        Ok(Runtime::from_parts(api, kind, reason, drivers))
    }

    /// The embedded CPU driver (cargo feature `cpu`), with no loader.
    #[cfg(feature = "cpu")]
    pub fn cpu() -> Result<Runtime> {
        crate::trace::init_from_env()?;
        let rt = Runtime::cpu_because("Runtime::cpu requested".into())?;
        rt.announce()?;
        Ok(rt)
    }

    #[cfg(feature = "cpu")]
    fn cpu_because(reason: String) -> Result<Runtime> {
        let api = embedded_api();
        let drivers = init_drivers(&api)?;
        Ok(Runtime::from_parts(
            api,
            BackendKind::EmbeddedCpu,
            reason,
            drivers,
        ))
    }

    fn auto() -> Result<Runtime> {
        let choice = match std::env::var(BACKEND_ENV) {
            Ok(v) => v,
            Err(std::env::VarError::NotPresent) => String::new(),
            Err(std::env::VarError::NotUnicode(v)) => {
                return Err(Error::InvalidEnvironment {
                    name: BACKEND_ENV,
                    value: v.to_string_lossy().into_owned(),
                    expected: "system, cpu or auto",
                });
            }
        };
        match choice.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => {}
            "system" => {
                return Runtime::system_from_env(format!("{BACKEND_ENV}=system"));
            }
            #[cfg(feature = "cpu")]
            "cpu" => {
                return Runtime::cpu_because(format!("{BACKEND_ENV}=cpu"));
            }
            other => {
                return Err(Error::NoBackend(format!(
                    "{BACKEND_ENV}={other:?} is not a backend of this build (system, {}auto)",
                    if cfg!(feature = "cpu") { "cpu, " } else { "" }
                )));
            }
        }
        let system = Runtime::system_from_env(format!(
            "{BACKEND_ENV} unset (auto): the system loader loaded and reports at least one driver"
        ));
        match system {
            Ok(rt) if !rt.inner.drivers.is_empty() => Ok(rt),
            #[cfg(feature = "cpu")]
            other => {
                let why = match &other {
                    Ok(_) => "the system loader reports no driver".to_string(),
                    Err(e) => e.to_string(),
                };
                Runtime::cpu_because(format!(
                    "{BACKEND_ENV} unset (auto): {why}; falling back to the embedded CPU driver"
                ))
            }
            #[cfg(not(feature = "cpu"))]
            Ok(_) => Err(Error::NoBackend(
                "the system loader reports no driver (and the `cpu` feature, which embeds a CPU driver, is off)"
                    .into(),
            )),
            #[cfg(not(feature = "cpu"))]
            Err(e) => Err(e),
        }
    }

    /// A runtime over a function table the application built: a custom loader, a driver's
    /// DDI tables, or a table with functions removed (to test how code copes with a driver
    /// that lacks them). Its drivers are initialised as for the other backends.
    ///
    /// # Safety
    ///
    /// Every function pointer in `api` must implement its Level Zero function as the
    /// specification says, and stay callable for the rest of the process.
    pub unsafe fn from_api(api: Api) -> Result<Runtime> {
        crate::trace::init_from_env()?;
        let api = Arc::new(api);
        let drivers = init_drivers(&api)?;
        let rt = Runtime::from_parts(
            api,
            BackendKind::Custom,
            "Runtime::from_api".into(),
            drivers,
        );
        rt.announce()?;
        Ok(rt)
    }

    fn from_parts(
        api: Arc<Api>,
        kind: BackendKind,
        reason: String,
        drivers: Vec<Handle<sys::_ze_driver_handle_t>>,
    ) -> Runtime {
        let translates_handles = translates_handles(&api, &kind);
        let raw: Vec<_> = drivers.iter().map(|d| d.0).collect();
        crate::error::register_drivers(&api, &raw, translates_handles);
        Runtime {
            inner: Arc::new(RuntimeInner {
                api,
                kind,
                reason,
                drivers,
                translates_handles,
                sysman_init: OnceLock::new(),
            }),
        }
    }

    /// Which backend this runtime runs on.
    pub fn backend(&self) -> &BackendKind {
        &self.inner.kind
    }

    /// Why this backend was chosen: the request ([`Backend`]), [`BACKEND_ENV`], or what
    /// [`Backend::Auto`] found (the loader and its drivers, or why it fell back on the
    /// embedded CPU driver).
    pub fn reason(&self) -> &str {
        &self.inner.reason
    }

    /// One line: the backend, why, and the drivers' count (what [`Runtime::new`] logs at
    /// `info` level).
    pub fn summary(&self) -> String {
        format!(
            "using the {} ({}); {} driver(s), {} of {} functions present",
            self.inner.kind,
            self.inner.reason,
            self.inner.drivers.len(),
            self.inner.api.present_count(),
            sys::FUNCTIONS.len()
        )
    }

    /// A multi-line description of what this runtime runs on: the backend and why it was
    /// chosen; for the system loader its path and the versions of its components (loader,
    /// layers) as `zelLoaderGetVersions` reports them; each driver's name, version, API
    /// version and devices. Queries that fail are shown with their error, never skipped.
    /// [`DESCRIBE_ENV`] prints it to stderr when the first runtime is created.
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// let rt = level_zero::Runtime::init()?;
    /// eprintln!("{}", rt.describe());
    /// # Ok(()) }
    /// ```
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "level-zero runtime: {}", self.inner.kind);
        let _ = writeln!(s, "  chosen because: {}", self.inner.reason);
        let _ = writeln!(
            s,
            "  functions present: {} of {}",
            self.inner.api.present_count(),
            sys::FUNCTIONS.len()
        );
        if let BackendKind::SystemLoader(path) = &self.inner.kind {
            let _ = writeln!(s, "  loader: {path}");
            match loader_versions(&self.inner.api) {
                Ok(v) if v.is_empty() => {
                    let _ = writeln!(s, "    (zelLoaderGetVersions reports no component)");
                }
                Ok(v) => {
                    for line in v {
                        let _ = writeln!(s, "    {line}");
                    }
                }
                Err(e) => {
                    let _ = writeln!(s, "    versions unknown: {e}");
                }
            }
        }
        let drivers = self.drivers();
        let _ = writeln!(s, "  drivers: {}", drivers.len());
        for (i, d) in drivers.iter().enumerate() {
            let name = driver_name(d);
            let version = d
                .properties()
                .map(|p| format!("{} ({:#x})", p.driver_version, p.driver_version))
                .unwrap_or_else(|e| format!("unknown ({e})"));
            let api = d
                .api_version()
                .map(|v| v.to_string())
                .unwrap_or_else(|e| format!("unknown ({e})"));
            let _ = writeln!(s, "  driver {i}: {name}, version {version}, API {api}");
            match d.devices() {
                Ok(devices) => {
                    for (j, dev) in devices.iter().enumerate() {
                        match dev.properties() {
                            Ok(p) => {
                                let _ = writeln!(
                                    s,
                                    "    device {j}: {} ({:?}, vendor {:#06x}, device {:#06x})",
                                    p.name, p.device_type, p.vendor_id, p.device_id
                                );
                            }
                            Err(e) => {
                                let _ = writeln!(s, "    device {j}: properties unknown ({e})");
                            }
                        }
                    }
                }
                Err(e) => {
                    let _ = writeln!(s, "    devices unknown: {e}");
                }
            }
        }
        s
    }

    /// The drivers the backend reported, in its order.
    pub fn drivers(&self) -> Vec<Driver> {
        self.inner
            .drivers
            .iter()
            .map(|h| Driver::new(self.clone(), h.0))
            .collect()
    }

    /// The raw function table, for anything this crate does not wrap.
    ///
    /// Handles obtained from this crate's objects (`as_raw()`) can be passed to it; the
    /// objects keep ownership and destroy their handles when dropped.
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    /// Translates a loader handle into the driver's own handle, for extension functions
    /// obtained through `zeDriverGetExtensionFunctionAddress` (which receive the driver's
    /// handles, not the loader's). The identity where the loader does not wrap handles.
    pub(crate) fn native_handle(
        &self,
        ty: sys::zel_handle_type_t,
        handle: *mut c_void,
    ) -> *mut c_void {
        if !self.inner.translates_handles {
            return handle;
        }
        let mut out = std::ptr::null_mut();
        // SAFETY: `handle` is a live handle of the given type obtained from this loader.
        match unsafe {
            crate::trace::ze_call!(
                &self.inner.api,
                zelLoaderTranslateHandle(ty, handle, &mut out)
            )
        } {
            Ok(r) if r.is_success() && !out.is_null() => out,
            _ => handle,
        }
    }
}

/// The loader's components and their versions (`zelLoaderGetVersions`), one line each.
fn loader_versions(api: &Api) -> Result<Vec<String>> {
    let mut n = 0usize;
    // SAFETY: a count query.
    unsafe { ze!(api, zelLoaderGetVersions(&mut n, std::ptr::null_mut()))? };
    // SAFETY: all-zero bytes are a valid `zel_component_version_t` (C chars and integers).
    let mut v: Vec<sys::zel_component_version_t> = vec![unsafe { std::mem::zeroed() }; n];
    // SAFETY: `v` has room for `n` entries.
    unsafe { ze!(api, zelLoaderGetVersions(&mut n, v.as_mut_ptr()))? };
    v.truncate(n);
    Ok(v.iter()
        .map(|c| {
            let name = crate::properties::c_chars(&c.component_name);
            let spec = crate::properties::Version::from_raw(c.spec_version.0);
            let l = c.component_lib_version;
            format!("{name} {}.{}.{} (API {spec})", l.major, l.minor, l.patch)
        })
        .collect())
}

/// A name for a driver: Level Zero gives none, so it is told by what it advertises (the CPU
/// driver's testing extension) or by its devices' vendor.
fn driver_name(d: &Driver) -> String {
    if d.extensions()
        .is_ok_and(|e| e.iter().any(|x| x.name.starts_with("ZEX_cpu_driver")))
    {
        return "level-zero-cpu".into();
    }
    let vendor = d.devices().ok().and_then(|v| {
        v.first()
            .and_then(|dev| dev.properties().ok().map(|p| p.vendor_id))
    });
    match vendor {
        Some(0x8086) => "Intel (vendor 0x8086)".into(),
        Some(v) => format!("vendor {v:#06x}"),
        None => "unknown vendor (no device)".into(),
    }
}
