//! The C boundary: the panic guard every entry point runs under, the per-thread last-error
//! description, and checked helpers to read arguments and write results through the raw
//! pointers an application passes.
//!
//! What cannot be checked: a non-null pointer that does not point to memory of the right size
//! (a wild pointer, or an array shorter than its count). Those are the application's
//! responsibility, as with every Level Zero driver; everything else is checked here.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use level_zero_sys::{Structure, ze_base_properties_t, ze_result_t};

/// What every internal function returns: success, or the code the application sees.
pub(crate) type ZeResult<T = ()> = Result<T, ze_result_t>;

/// [`current_call`] outside every entry point.
const TOP_LEVEL: &str = "level-zero-cpu";

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// The entry point running on this thread (for messages that are not failures).
    static CURRENT_CALL: Cell<&'static str> = const { Cell::new(TOP_LEVEL) };
    /// Entry points called on this thread (what `zexCpuThreadGetCallCount` reports).
    static CALLS: Cell<u64> = const { Cell::new(0) };
    /// How many times [`fail`] ran on this thread: an entry point that returns an error
    /// without having described it (no `fail` since it started) gets an empty description,
    /// never the one an earlier failure left.
    static FAILS: Cell<u64> = const { Cell::new(0) };
}

/// How many entry points of this driver ran on this thread so far, this one not included:
/// the call is taken back out of the count, so that reading the count never changes it.
pub(crate) fn uncounted_calls_on_this_thread() -> u64 {
    CALLS.with(|c| {
        c.set(c.get().saturating_sub(1));
        c.get()
    })
}

/// The name of the entry point running on this thread.
pub(crate) fn current_call() -> &'static str {
    CURRENT_CALL.with(Cell::get)
}

/// Records `message` as this thread's last error description and returns `code`.
pub(crate) fn fail(code: ze_result_t, message: impl Into<String>) -> ze_result_t {
    let mut message = message.into();
    message.retain(|c| c != '\0');
    let text = CString::new(format!("{code}: {message}")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
    FAILS.with(|f| f.set(f.get().wrapping_add(1)));
    code
}

/// `return Err(fail(CODE, format!(..)))` in one line.
macro_rules! bail {
    ($code:ident, $($fmt:tt)+) => {
        return Err($crate::ffi::fail(
            level_zero_sys::ze_result_t::$code,
            format!($($fmt)+),
        ))
    };
}
pub(crate) use bail;

/// A pointer to this thread's last error description. It stays valid until the next failing
/// call of this driver on the same thread.
pub(crate) fn last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// This thread's last error description, as text.
fn last_error_text() -> String {
    LAST_ERROR.with(|e| e.borrow().to_string_lossy().into_owned())
}

/// Runs the body of an entry point: its `Err` becomes the returned code, and a panic becomes
/// `ZE_RESULT_ERROR_UNKNOWN` (with its message as the last error description) instead of
/// unwinding into C.
pub(crate) fn guard(name: &'static str, body: impl FnOnce() -> ZeResult) -> ze_result_t {
    let outer = CURRENT_CALL.with(|c| c.replace(name));
    // Only the application's calls count, not the driver's calls of its own entry points.
    if outer == TOP_LEVEL {
        CALLS.with(|c| c.set(c.get() + 1));
    }
    let fails = FAILS.with(Cell::get);
    let result = catch_unwind(AssertUnwindSafe(body));
    CURRENT_CALL.with(|c| c.set(outer));
    match result {
        Ok(Ok(())) => ze_result_t::ZE_RESULT_SUCCESS,
        Ok(Err(code)) => {
            // The specification: the description "is only updated on calls returning an
            // error" — every one of them, so that an error this call did not describe does
            // not inherit an earlier call's text.
            if FAILS.with(Cell::get) == fails {
                let _ = fail(code, "");
            }
            crate::log::failed(name, code, &last_error_text());
            code
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            crate::log::emit(log::Level::Error, &format!("{name} panicked: {what}"));
            fail(
                ze_result_t::ZE_RESULT_ERROR_UNKNOWN,
                format!("{name}: internal error in level-zero-cpu: {what}"),
            )
        }
    }
}

/// [`guard`], for the entry points that return a value instead of a `ze_result_t`
/// (`zeDriverGetDefaultContext`, the `zer` runtime functions): the body's value, or `failed`
/// when it returned an error or panicked — the description of what went wrong is then this
/// thread's last error description, as the specification says for them.
pub(crate) fn guard_value<T>(
    name: &'static str,
    failed: T,
    body: impl FnOnce() -> ZeResult<T>,
) -> T {
    let mut value = None;
    let code = guard(name, || {
        value = Some(body()?);
        Ok(())
    });
    match value {
        Some(v) if code == ze_result_t::ZE_RESULT_SUCCESS => v,
        _ => failed,
    }
}

/// Defines entry points: `unsafe extern "C"` functions whose body runs under [`guard`].
///
/// ```text
/// entry_points! {
///     fn zeFooBar(h: ze_foo_handle_t, p: *mut u32) { ...; Ok(()) }
/// }
/// ```
macro_rules! entry_points {
    ($(
        $(#[$meta:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) { $($body:tt)* }
    )*) => {$(
        $(#[$meta])*
        #[allow(non_snake_case, clippy::missing_safety_doc)]
        pub(crate) unsafe extern "C" fn $name($($arg: $ty),*) -> level_zero_sys::ze_result_t {
            $crate::ffi::guard(stringify!($name), move || -> $crate::ffi::ZeResult { $($body)* })
        }
    )*};
}
pub(crate) use entry_points;

/// Checks an out-pointer and writes `value` through it.
///
/// # Safety
///
/// A non-null `ptr` must be valid for a write of `T`.
pub(crate) unsafe fn write<T>(ptr: *mut T, value: T) -> ZeResult {
    if ptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null output pointer");
    }
    // SAFETY: non-null, and valid for a write by the caller's contract.
    unsafe { ptr.write_unaligned(value) };
    Ok(())
}

/// Writes `value` through `ptr` when it is non-null (an optional output).
///
/// # Safety
///
/// A non-null `ptr` must be valid for a write of `T`.
pub(crate) unsafe fn write_opt<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: non-null, and valid for a write by the caller's contract.
        unsafe { ptr.write_unaligned(value) };
    }
}

/// Checks an in-pointer and reads the value it points to.
///
/// # Safety
///
/// A non-null `ptr` must be valid for a read of an initialised `T`.
pub(crate) unsafe fn read<T: Copy>(ptr: *const T) -> ZeResult<T> {
    if ptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null input pointer");
    }
    // SAFETY: non-null, and valid for a read of an initialised `T` by the caller's contract.
    Ok(unsafe { ptr.read_unaligned() })
}

/// Fills a properties structure that the application passed: writes `value`, keeping the
/// application's `stype` and `pNext` (only those two fields of `*ptr` are read: the rest may be
/// uninitialised). Returns the application's `stype` value. The structures chained to it are
/// checked first by [`crate::chain::output`] (none is filled here: one refused fails the call
/// before anything is written).
///
/// # Safety
///
/// A non-null `ptr` must be valid for reads and writes of `T`, with initialised `stype` and
/// `pNext` fields, and a chain of valid Level Zero structures. `T` must be a Level Zero
/// structure, which starts with `stype` and `pNext`.
pub(crate) unsafe fn fill<T: Structure>(ptr: *mut T, value: T) -> ZeResult<u32> {
    // SAFETY: forwarded to the caller.
    unsafe { fill_extended(ptr, value, &[]) }.map(|header| header.stype.0)
}

/// [`fill`], for a caller that fills the chained structures of types `filled` itself (with
/// [`crate::chain::fill_chained`], from the returned header's `pNext`).
///
/// # Safety
///
/// As [`fill`].
pub(crate) unsafe fn fill_extended<T: Structure>(
    ptr: *mut T,
    value: T,
    filled: &[u32],
) -> ZeResult<ze_base_properties_t> {
    if ptr.is_null() {
        bail!(
            ZE_RESULT_ERROR_INVALID_NULL_POINTER,
            "null properties pointer"
        );
    }
    let base = ptr.cast::<ze_base_properties_t>();
    // SAFETY: every Level Zero structure with an stype begins with the two fields of
    // `ze_base_properties_t` (`Structure` is only implemented for those); the caller
    // guarantees they are initialised and `ptr` is valid for `T`, which is at least as large.
    let header = unsafe { base.read_unaligned() };
    // SAFETY: the chain is made of valid Level Zero structures (caller's contract).
    unsafe { crate::chain::output::<T>(header.pNext.cast_const(), filled)? };
    // SAFETY: `ptr` is valid for a write of `T`; the header is then put back the same way.
    unsafe {
        ptr.write_unaligned(value);
        base.write_unaligned(header);
    }
    Ok(header)
}

/// Fills `*count` entries of a property array (or reports the number of entries), following
/// the specification's two-call pattern: with `*count == 0` or a null `out`, writes the number
/// of entries; else writes at most `*count` entries and sets `*count` to the number written.
///
/// # Safety
///
/// `count` must be valid for reads and writes; a non-null `out` must point to `*count`
/// structures valid as for [`fill`].
pub(crate) unsafe fn fill_array<T: Structure>(
    count: *mut u32,
    out: *mut T,
    items: &[T],
) -> ZeResult {
    // SAFETY: forwarded to the caller (a plain array of non-structures is never passed).
    unsafe { copy_array(count, out, items, |dst, v| fill(dst, v).map(drop)) }
}

/// Like [`fill_array`], for arrays of plain values (handles, pointers).
///
/// # Safety
///
/// `count` must be valid for reads and writes; a non-null `out` must be valid for writes of
/// `*count` values.
pub(crate) unsafe fn write_array<T: Copy>(count: *mut u32, out: *mut T, items: &[T]) -> ZeResult {
    // SAFETY: forwarded to the caller.
    unsafe { copy_array(count, out, items, |dst, v| write(dst, v)) }
}

/// # Safety
///
/// As [`write_array`]; `put` must be sound for every element pointer of `out`.
unsafe fn copy_array<T: Copy>(
    count: *mut u32,
    out: *mut T,
    items: &[T],
    put: impl Fn(*mut T, T) -> ZeResult,
) -> ZeResult {
    // SAFETY: forwarded to the caller.
    let asked = unsafe { read(count)? };
    let available = u32::try_from(items.len()).unwrap_or(u32::MAX);
    if asked == 0 || out.is_null() {
        // SAFETY: `count` was just read through, so it is non-null and valid.
        unsafe { count.write_unaligned(available) };
        return Ok(());
    }
    let n = asked.min(available);
    for (i, item) in items.iter().take(n as usize).enumerate() {
        // SAFETY: `i < *count`, so the element lies within the caller's array.
        put(unsafe { out.add(i) }, *item)?;
    }
    // SAFETY: as above.
    unsafe { count.write_unaligned(n) };
    Ok(())
}

/// Reads a NUL-terminated string argument.
///
/// # Safety
///
/// A non-null `ptr` must point to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char) -> ZeResult<&'a CStr> {
    if ptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null string pointer");
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// Reads a `(count, array)` pair of input handles or values. A zero count gives an empty slice
/// whatever the pointer; a non-zero count with a null pointer is
/// `ZE_RESULT_ERROR_INVALID_SIZE`, as the specification lists for wait-event arrays.
///
/// # Safety
///
/// A non-null `ptr` must point to `count` initialised values that live for `'a`.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, count: u32) -> ZeResult<&'a [T]> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        bail!(
            ZE_RESULT_ERROR_INVALID_SIZE,
            "{count} elements announced but the array pointer is null"
        );
    }
    // SAFETY: non-null, and `count` initialised values by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count as usize) })
}

/// Copies `text` into a fixed-size C string field (truncating, always NUL-terminated).
pub(crate) fn c_name<const N: usize>(text: &str) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    for (dst, src) in out.iter_mut().zip(text.bytes().take(N - 1)) {
        *dst = src as c_char;
    }
    out
}
