//! `pNext` chains: the one rule for the extension structures an application chains to the
//! structures it passes the driver.
//!
//! # Input descriptors (`ze_*_desc_t` an entry point reads)
//!
//! Every structure chained to a descriptor is either one that this descriptor understands and
//! that the driver honours — the entry point lists them ([`input`]) and reads them back from
//! the returned [`Chain`] — or the call fails before doing anything:
//!
//! - a structure type of the headers (or of [`level_zero_sys::ext`]), or one in the ranges the
//!   specification gives to structures (core, standard and experimental extensions up to
//!   `0x0002ffff`, drivers' own extensions `0x00030000..=0x0007ffff`) that the driver does not
//!   implement there: `ZE_RESULT_ERROR_UNSUPPORTED_FEATURE` ("generic error code for
//!   unsupported features");
//! - a value that is no structure type at all (0, `0xdeadbeef`): the chain is not made of Level
//!   Zero structures; `ZE_RESULT_ERROR_INVALID_ENUMERATION` ("enumerator argument is not
//!   valid": `stype` is a `ze_structure_type_t`), and the walk stops there;
//! - a chain that loops, is longer than [`MAX_LINKS`], or carries one structure type twice:
//!   `ZE_RESULT_ERROR_INVALID_ARGUMENT`.
//!
//! The description (`zeDriverGetLastErrorDescription`, and the warning every failed entry point
//! logs with its name) names the descriptor and the structure by its structure-type constant
//! and C type, taken from the generated bindings. The specification's "Extending Structures"
//! says implementations ignore extension structures they do not support; this driver does not
//! for inputs: ignoring one (an external-memory import, a counter-based event pool, a module
//! program) gives the application something other than what it asked for, with success.
//!
//! # Output (properties) structures
//!
//! A properties structure's chain is the application asking for more: [`output`] (run by
//! [`crate::ffi::fill`] on every properties structure the driver fills) checks it. A chained
//! structure the driver does not fill is left as the application initialised it, as the
//! specification says ("implementations will ignore extended structures that are not
//! supported"), and clients rely on it: they zero a structure such as
//! `ze_device_ip_version_ext_t` and read the untouched zero as "not supported". Unified
//! Runtime's Level Zero adapter (Intel's SYCL runtime, `.ci/sycl`) chains
//! `ze_device_ip_version_ext_t` to `zeDeviceGetProperties`, `ze_device_memory_ext_properties_t`
//! to `zeDeviceGetMemoryProperties` and `ze_kernel_max_group_size_properties_ext_t` to
//! `zeKernelGetProperties` (the last one is filled: `ZE_extension_kernel_max_group_size_properties`);
//! it chains nothing to the descriptors it passes, and pocl's level0 device chains nothing at
//! all. Failing the whole query instead would lose them the base structure too. It is not silent: the first time each call
//! meets each such structure, a warning names the call, the structure it was chained to and
//! the structure type. Two kinds are refused even there:
//!
//! - structures that carry a request, not a report ([`REQUESTS`]: exporting an allocation as
//!   a file descriptor or Windows handle): left untouched they would hand the application a
//!   descriptor it never got, so the query fails with `ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`;
//! - values that are no structure type: `ZE_RESULT_ERROR_INVALID_ENUMERATION`, as for inputs.

use std::collections::HashSet;
use std::ffi::c_void;
use std::sync::Mutex;

use level_zero_sys::{
    STRUCTURES, Structure, ze_base_desc_t, ze_base_properties_t, ze_result_t, ze_structure_type_t,
    zes_structure_type_t,
};

use crate::ffi::{self, ZeResult, fail};

/// The most structures walked in one chain: a longer chain is refused (it is almost
/// certainly a cycle through memory the walk cannot recognise).
pub(crate) const MAX_LINKS: usize = 64;

/// Structures of output chains that carry a request: refused rather than left untouched.
const REQUESTS: &[ze_structure_type_t] = &[
    ze_structure_type_t::ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_FD,
    ze_structure_type_t::ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_WIN32,
];

/// Which enumeration a chain's `stype` values belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `ze_structure_type_t` (core).
    Ze,
    /// `zes_structure_type_t` (sysman).
    Zes,
}

/// The C name of a Level Zero structure type: `ze_event_pool_desc_t`.
fn c_type<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let last = full.rsplit("::").next().unwrap_or(full);
    // bindgen names the C struct `_ze_x_t` and the typedef `ze_x_t`.
    last.strip_prefix('_').unwrap_or(last)
}

fn family<T>() -> Family {
    if c_type::<T>().starts_with("zes_") {
        Family::Zes
    } else {
        Family::Ze
    }
}

/// The constant name of a structure type value, from the generated bindings.
fn stype_name(family: Family, stype: u32) -> Option<&'static str> {
    match family {
        Family::Ze => ze_structure_type_t(stype).name(),
        Family::Zes => zes_structure_type_t(stype).name(),
    }
}

/// The C type that carries a structure type constant, from the generated table.
fn struct_name(constant: &str) -> Option<&'static str> {
    STRUCTURES
        .iter()
        .find(|(_, c)| *c == constant)
        .map(|(s, _)| *s)
}

/// What a chained `stype` value is.
enum Kind {
    /// A structure type these bindings name.
    Known(&'static str),
    /// In a range the specification reserves for structures, but unknown to these bindings.
    Unnamed(&'static str),
    /// Not a structure type: the chain is not made of Level Zero structures.
    Nonsense,
}

fn classify(family: Family, stype: u32) -> Kind {
    if let Some(name) = stype_name(family, stype) {
        return Kind::Known(name);
    }
    match stype {
        0x0000_0001..=0x0002_ffff => {
            Kind::Unnamed("a structure type newer than this driver's Level Zero 1.12 headers")
        }
        0x0003_0000..=0x0005_ffff => {
            Kind::Unnamed("a GPU driver's own extension structure (range 0x00030000..=0x0005ffff)")
        }
        0x0006_0000..=0x0007_ffff => {
            Kind::Unnamed("an NPU driver's own extension structure (range 0x00060000..=0x0007ffff)")
        }
        _ => Kind::Nonsense,
    }
}

/// A structure type, named: `ZE_STRUCTURE_TYPE_X (ze_x_t, 0x00020014)`.
fn describe(family: Family, stype: u32) -> String {
    match classify(family, stype) {
        Kind::Known(name) => match struct_name(name) {
            Some(s) => format!("{name} ({s}, {stype:#010x})"),
            None => format!("{name} ({stype:#010x})"),
        },
        Kind::Unnamed(what) => format!("structure type {stype:#010x} ({what})"),
        Kind::Nonsense => format!("{stype:#x}, which is not a structure type"),
    }
}

/// Walks a chain from `next`, calling `visit(stype, element)` for each structure; stops at the
/// first error. Cycles, over-long chains and repeated structure types are refused.
///
/// # Safety
///
/// Every element of the chain must be a valid Level Zero structure (starting with `stype` and
/// `pNext`), as far as the walk goes.
unsafe fn walk(
    owner: &str,
    family: Family,
    mut next: *const c_void,
    mut visit: impl FnMut(u32, *const c_void) -> ZeResult,
) -> ZeResult {
    let mut seen: Vec<(*const c_void, u32)> = Vec::new();
    while !next.is_null() {
        if seen.iter().any(|(p, _)| *p == next) {
            return Err(fail(
                ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                format!(
                    "{owner}.pNext: the chain loops back to its structure #{} (a cycle)",
                    seen.iter().position(|(p, _)| *p == next).unwrap_or(0) + 1
                ),
            ));
        }
        if seen.len() == MAX_LINKS {
            return Err(fail(
                ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                format!("{owner}.pNext: a chain of more than {MAX_LINKS} structures"),
            ));
        }
        // SAFETY: a non-null chain element is a Level Zero structure (caller's contract), which
        // begins with the two fields of `ze_base_desc_t`.
        let base = unsafe { next.cast::<ze_base_desc_t>().read_unaligned() };
        let stype = base.stype.0;
        if seen.iter().any(|(_, s)| *s == stype) {
            return Err(fail(
                ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                format!(
                    "{owner}.pNext: the chain carries {} twice",
                    describe(family, stype)
                ),
            ));
        }
        seen.push((next, stype));
        visit(stype, next)?;
        next = base.pNext;
    }
    Ok(())
}

/// The extension structures an input descriptor carries, all of them honoured (see
/// [`input`]).
pub(crate) struct Chain {
    found: Vec<(u32, *const c_void)>,
}

impl Chain {
    /// The chained structure of type `S`, if the descriptor carries one. `S` must be one of the
    /// structure types the descriptor was checked with.
    pub(crate) fn get<S: Structure<StructureType = ze_structure_type_t>>(&self) -> Option<S> {
        let (_, ptr) = self.found.iter().find(|(s, _)| *s == S::STYPE.0)?;
        // SAFETY: `input`'s caller guaranteed that the chain's elements are valid structures,
        // and this one's `stype` says it is an `S`.
        Some(unsafe { ptr.cast::<S>().read_unaligned() })
    }
}

/// Checks the `pNext` chain of an input descriptor: every structure in it must be one of
/// `honoured`, the extension structures this descriptor understands and the driver
/// implements there; anything else fails the call (see the module documentation). Returns the
/// honoured structures found.
///
/// # Safety
///
/// `desc` must be a Level Zero structure whose chain is made of valid Level Zero structures.
pub(crate) unsafe fn input<T: Structure>(
    desc: &T,
    honoured: &[ze_structure_type_t],
) -> ZeResult<Chain> {
    // SAFETY: `T` is a Level Zero structure, which begins with `stype` and `pNext`.
    let head = unsafe { (desc as *const T).cast::<ze_base_desc_t>().read_unaligned() };
    // SAFETY: forwarded to the caller.
    unsafe { input_next(c_type::<T>(), head.pNext, honoured) }
}

/// [`input`] for an entry point that takes a bare `pNext` argument (the graph functions):
/// `owner`, the entry point's name, names it in messages (`zeGraphCreateExt.pNext`).
///
/// # Safety
///
/// `next` must be null or the start of a chain of valid Level Zero structures.
pub(crate) unsafe fn input_next(
    owner: &str,
    next: *const c_void,
    honoured: &[ze_structure_type_t],
) -> ZeResult<Chain> {
    let mut found = Vec::new();
    // SAFETY: forwarded to the caller.
    unsafe {
        walk(owner, Family::Ze, next, |stype, ptr| {
            if honoured.iter().any(|h| h.0 == stype) {
                crate::log::emit(
                    ::log::Level::Debug,
                    &format!(
                        "{}: {owner}.pNext carries {}: honoured",
                        ffi::current_call(),
                        describe(Family::Ze, stype)
                    ),
                );
                found.push((stype, ptr));
                return Ok(());
            }
            Err(refuse(owner, stype, honoured))
        })?
    };
    Ok(Chain { found })
}

/// The failure for a structure `owner` does not honour.
fn refuse(owner: &str, stype: u32, honoured: &[ze_structure_type_t]) -> ze_result_t {
    if let Kind::Nonsense = classify(Family::Ze, stype) {
        return fail(
            ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
            format!(
                "{owner}.pNext: a chained structure has stype {}: the chain is not made of Level Zero structures",
                describe(Family::Ze, stype)
            ),
        );
    }
    let accepted = if honoured.is_empty() {
        "none".to_string()
    } else {
        honoured
            .iter()
            .map(|h| describe(Family::Ze, h.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    fail(
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        format!(
            "{owner}.pNext carries {}, which level-zero-cpu does not implement for this descriptor: refused rather than ignored (extension structures it honours here: {accepted})",
            describe(Family::Ze, stype)
        ),
    )
}

/// Checks the `pNext` chain of a properties structure of type `T` that the driver fills (see
/// the module documentation): `filled` are the chained structures the caller fills itself;
/// any other is left as the application set it, with a warning the first time each call
/// meets it, except requests and non-structures, which fail.
///
/// # Safety
///
/// `next` must be null or the start of a chain of valid Level Zero structures.
pub(crate) unsafe fn output<T>(next: *const c_void, filled: &[u32]) -> ZeResult {
    let owner = c_type::<T>();
    let family = family::<T>();
    // SAFETY: forwarded to the caller.
    unsafe {
        walk(owner, family, next, |stype, _| {
            if filled.contains(&stype) {
                return Ok(());
            }
            if let Kind::Nonsense = classify(family, stype) {
                return Err(fail(
                    ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
                    format!(
                        "{owner}.pNext: a chained structure has stype {}: the chain is not made of Level Zero structures",
                        describe(family, stype)
                    ),
                ));
            }
            if family == Family::Ze && REQUESTS.iter().any(|r| r.0 == stype) {
                return Err(fail(
                    ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                    format!(
                        "{owner}.pNext carries {}, a request level-zero-cpu does not implement (no external memory export): refused rather than left unanswered",
                        describe(family, stype)
                    ),
                ));
            }
            warn_unfilled(owner, family, stype);
            Ok(())
        })
    }
}

/// Fills the chained output structure of type `S`, if the chain from `next` carries one:
/// writes `value`, keeping that structure's `stype` and `pNext`. Meant for a chain
/// [`output`] has already checked (through [`crate::ffi::fill_extended`]).
///
/// # Safety
///
/// `next` must be null or the start of a chain of valid Level Zero structures, writable.
pub(crate) unsafe fn fill_chained<S: Structure<StructureType = ze_structure_type_t>>(
    mut next: *mut c_void,
    value: S,
) {
    for _ in 0..MAX_LINKS {
        if next.is_null() {
            return;
        }
        let base = next.cast::<ze_base_properties_t>();
        // SAFETY: a chain element is a Level Zero structure (caller's contract).
        let header = unsafe { base.read_unaligned() };
        if header.stype == S::STYPE {
            // SAFETY: its `stype` says this element is an `S`, writable by the caller's
            // contract; its header is put back as it was.
            unsafe {
                next.cast::<S>().write_unaligned(value);
                base.write_unaligned(header);
            }
            return;
        }
        next = header.pNext;
    }
}

/// Warns, once per call and structure, that a chained output structure was left unfilled.
fn warn_unfilled(owner: &'static str, family: Family, stype: u32) {
    /// (call, structure it was chained to, structure type) already warned about.
    type Warned = HashSet<(&'static str, &'static str, u32)>;
    static WARNED: Mutex<Option<Warned>> = Mutex::new(None);
    let call = ffi::current_call();
    let first = {
        let mut set = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        set.get_or_insert_with(HashSet::new)
            .insert((call, owner, stype))
    };
    if first {
        crate::log::emit(
            ::log::Level::Warn,
            &format!(
                "{call}: {owner}.pNext carries {}, which level-zero-cpu does not fill: left as the application set it, as the specification says for unsupported extension structures (warned once)",
                describe(family, stype)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_generated_bindings() {
        let s = ze_structure_type_t::ZE_STRUCTURE_TYPE_COUNTER_BASED_EVENT_POOL_EXP_DESC.0;
        assert_eq!(
            describe(Family::Ze, s),
            "ZE_STRUCTURE_TYPE_COUNTER_BASED_EVENT_POOL_EXP_DESC (ze_event_pool_counter_based_exp_desc_t, 0x00020014)"
        );
        assert_eq!(
            c_type::<level_zero_sys::ze_event_pool_desc_t>(),
            "ze_event_pool_desc_t"
        );
        assert_eq!(
            c_type::<level_zero_sys::zes_mem_properties_t>(),
            "zes_mem_properties_t"
        );
        assert!(matches!(
            classify(Family::Ze, 0x0003_0016),
            Kind::Unnamed(_)
        ));
        assert!(matches!(classify(Family::Ze, 0), Kind::Nonsense));
        assert!(matches!(classify(Family::Ze, 0xdead_beef), Kind::Nonsense));
    }
}
