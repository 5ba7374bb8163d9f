//! Filling [`Api`] from a shared library: the system loader, or a driver library directly.

use std::ffi::{CStr, OsStr, OsString, c_void};
use std::sync::Arc;

use crate::{Api, DdiGetters, DdiOutcome};

/// No Level Zero library could be loaded.
#[derive(Debug)]
pub struct LoadError {
    /// Every library name or path tried, with why it failed.
    pub tried: Vec<(OsString, String)>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no Level Zero library could be loaded; tried")?;
        for (i, (path, why)) in self.tried.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{} ({why})", path.to_string_lossy())?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// The names under which the system loader is looked up, in order.
#[cfg(windows)]
pub(crate) const LOADER_NAMES: &[&str] = &["ze_loader.dll"];
#[cfg(not(windows))]
pub(crate) const LOADER_NAMES: &[&str] = &["libze_loader.so.1", "libze_loader.so"];

fn open(path: &OsStr, tried: &mut Vec<(OsString, String)>) -> Option<libloading::Library> {
    // SAFETY: the caller of the public constructor accepted that the library's initialisers
    // run (see their safety sections).
    match unsafe { libloading::Library::new(path) } {
        Ok(lib) => Some(lib),
        Err(e) => {
            tried.push((path.to_os_string(), e.to_string()));
            None
        }
    }
}

/// A symbol lookup over a library: the symbol's address, or null when it is absent.
fn lookup(lib: &libloading::Library) -> impl FnMut(&CStr) -> *mut c_void + '_ {
    move |name: &CStr| {
        // SAFETY: the symbol is read as a plain address (`*mut c_void`), never called here;
        // the generated code turns it into the function pointer of the declared signature.
        match unsafe { lib.get::<*mut c_void>(name.to_bytes_with_nul()) } {
            Ok(sym) => *sym,
            Err(_) => std::ptr::null_mut(),
        }
    }
}

impl Api {
    /// The library names [`Api::load`] tries, in order.
    pub fn loader_names() -> &'static [&'static str] {
        LOADER_NAMES
    }

    /// Loads the system's Level Zero loader (`libze_loader.so.1`, then `libze_loader.so`;
    /// `ze_loader.dll` on Windows) and resolves every function; the ones it does not export
    /// stay `None`. The error names every library tried and why it failed.
    ///
    /// The library stays loaded for as long as this `Api` or a clone of it lives; function
    /// pointers copied out of it must not be used after that.
    ///
    /// # Safety
    ///
    /// Loading a library runs its initialisers; the library found under these names must be
    /// a Level Zero loader whose exports have the signatures of these headers.
    pub unsafe fn load() -> Result<Api, LoadError> {
        let mut tried = Vec::new();
        for name in LOADER_NAMES {
            if let Some(lib) = open(OsStr::new(name), &mut tried) {
                return Ok(Api::from_library(lib));
            }
        }
        Err(LoadError { tried })
    }

    /// Loads the Level Zero loader from an explicit path (or library name) and resolves every
    /// function, as [`Api::load`] does.
    ///
    /// # Safety
    ///
    /// As for [`Api::load`], for the library at `path`.
    pub unsafe fn load_from(path: impl AsRef<OsStr>) -> Result<Api, LoadError> {
        let mut tried = Vec::new();
        match open(path.as_ref(), &mut tried) {
            Some(lib) => Ok(Api::from_library(lib)),
            None => Err(LoadError { tried }),
        }
    }

    /// Opens a Level Zero *driver* library (not the loader) and builds the table from its DDI
    /// getters, as [`Api::from_ddi`] does, bypassing any loader.
    ///
    /// # Safety
    ///
    /// As for [`Api::load`] and [`Api::from_ddi`], for the library at `path`.
    pub unsafe fn load_driver(
        path: impl AsRef<OsStr>,
    ) -> Result<(Api, Vec<DdiOutcome>), LoadError> {
        let mut tried = Vec::new();
        let Some(lib) = open(path.as_ref(), &mut tried) else {
            return Err(LoadError { tried });
        };
        let getters = DdiGetters::resolve_with(&mut lookup(&lib));
        // SAFETY: forwarded to the caller; the library is kept alive by the table.
        let (mut api, report) = unsafe { Api::from_ddi(&getters) };
        api.library = Some(Arc::new(lib));
        Ok((api, report))
    }

    fn from_library(lib: libloading::Library) -> Api {
        let mut api = Api::empty();
        api.resolve_with(&mut lookup(&lib));
        api.library = Some(Arc::new(lib));
        api
    }
}

impl DdiGetters {
    /// Resolves the DDI getters a library exports.
    ///
    /// The returned pointers are valid only while `lib` stays loaded.
    pub fn from_library(lib: &libloading::Library) -> DdiGetters {
        DdiGetters::resolve_with(&mut lookup(lib))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "dlopen is a foreign function Miri cannot run")]
    fn a_missing_library_is_an_error_naming_what_was_tried() {
        // SAFETY: the path does not exist, so nothing is loaded.
        let err = unsafe { Api::load_from("/nonexistent/libze_loader.so.1") }.unwrap_err();
        assert_eq!(err.tried.len(), 1);
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/libze_loader.so.1"), "{msg}");
    }
}
