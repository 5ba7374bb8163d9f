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
        match backend {
            Backend::System => {
                let path = std::env::var_os(LOADER_PATH_ENV).map(PathBuf::from);
                Runtime::system(path.as_ref())
            }
            Backend::SystemAt(p) => Runtime::system(Some(&p)),
            #[cfg(feature = "cpu")]
            Backend::Cpu => Runtime::cpu(),
            Backend::Auto => Runtime::auto(),
        }
    }

    fn system(path: Option<&PathBuf>) -> Result<Runtime> {
        let (api, name) = system_api(path)?;
        let kind = BackendKind::SystemLoader(name);
        let drivers = init_drivers(&api)?;
        log::info!(
            "level-zero: using the {kind}: {} driver(s), {} of {} functions present",
            drivers.len(),
            api.present_count(),
            sys::FUNCTIONS.len()
        );
        Ok(Runtime::from_parts(api, kind, drivers))
    }

    /// The embedded CPU driver (cargo feature `cpu`), with no loader.
    #[cfg(feature = "cpu")]
    pub fn cpu() -> Result<Runtime> {
        let api = embedded_api();
        let drivers = init_drivers(&api)?;
        log::info!(
            "level-zero: using the embedded CPU driver ({} driver)",
            drivers.len()
        );
        Ok(Runtime::from_parts(api, BackendKind::EmbeddedCpu, drivers))
    }

    fn auto() -> Result<Runtime> {
        let choice = std::env::var(BACKEND_ENV).unwrap_or_default();
        match choice.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => {}
            "system" => {
                log::info!("level-zero: {BACKEND_ENV}=system");
                return Runtime::new(Backend::System);
            }
            #[cfg(feature = "cpu")]
            "cpu" => {
                log::info!("level-zero: {BACKEND_ENV}=cpu");
                return Runtime::cpu();
            }
            other => {
                return Err(Error::NoBackend(format!(
                    "{BACKEND_ENV}={other:?} is not a backend of this build (system, {}auto)",
                    if cfg!(feature = "cpu") { "cpu, " } else { "" }
                )));
            }
        }
        let system = Runtime::new(Backend::System);
        match system {
            Ok(rt) if !rt.inner.drivers.is_empty() => Ok(rt),
            #[cfg(feature = "cpu")]
            other => {
                let why = match &other {
                    Ok(_) => "the system loader reports no driver".to_string(),
                    Err(e) => e.to_string(),
                };
                log::info!("level-zero: {why}; falling back to the embedded CPU driver");
                Runtime::cpu()
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
        let api = Arc::new(api);
        let drivers = init_drivers(&api)?;
        Ok(Runtime::from_parts(api, BackendKind::Custom, drivers))
    }

    fn from_parts(
        api: Arc<Api>,
        kind: BackendKind,
        drivers: Vec<Handle<sys::_ze_driver_handle_t>>,
    ) -> Runtime {
        let translates_handles = translates_handles(&api, &kind);
        Runtime {
            inner: Arc::new(RuntimeInner {
                api,
                kind,
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
            self.inner
                .api
                .zelLoaderTranslateHandle(ty, handle, &mut out)
        } {
            Ok(r) if r.is_success() && !out.is_null() => out,
            _ => handle,
        }
    }
}
