//! Call tracing: every Level Zero call this crate makes, with its arguments, result and
//! duration (`LEVEL_ZERO_TRACE=1`).
//!
//! Each call is one line on stderr, written in one `write` so that lines of several threads
//! do not interleave:
//!
//! ```text
//! level-zero: trace: zeEventQueryStatus(hEvent=0x55d0c0a4e2f0) -> ZE_RESULT_NOT_READY (412 ns)
//! ```
//!
//! The same line goes to the `log` facade at `trace` level (target `level_zero::trace`), and,
//! with the cargo feature `tracing`, to the `tracing` crate as an event (target
//! `level_zero::trace`, fields `call`, `args`, `result`, `duration_ns`) inside a span per
//! call. Arguments are named as in the headers and printed with `Debug`: handles and raw
//! pointers as addresses, integers and flags as numbers, and arguments the crate passes as
//! Rust references (descriptors, output variables) as what they point to at the call — an
//! output's value before the driver writes it. A function missing from the loader's or
//! driver's table shows as `-> missing function (not called)`.
//!
//! Off, tracing costs every call one relaxed atomic load and a branch that is never taken
//! (measured in `benches/overhead.rs`; see the README). Tracing is switched by
//! [`TRACE_ENV`] when a [`Runtime`](crate::Runtime) is created, or at any time with
//! [`set_enabled`].

use std::fmt::{Debug, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use level_zero_sys::{MissingFunction, ze_result_t};

use crate::error::{Error, Result};

#[rustfmt::skip]
mod params;

/// The environment variable that turns call tracing on: `1` (also `true`, `on`, `yes`) or `0`
/// (also `false`, `off`, `no`, or empty). Any other value makes [`Runtime`](crate::Runtime)
/// creation fail, naming the variable and the value.
pub const TRACE_ENV: &str = "LEVEL_ZERO_TRACE";

/// Whether calls are traced. Relaxed: a call that races with switching may or may not be
/// traced, and nothing else depends on the flag.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether calls are traced now: one relaxed load (this is on every call's path).
#[inline(always)]
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Turns call tracing on or off for the whole process, whatever [`TRACE_ENV`] says.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether call tracing is on.
pub fn is_enabled() -> bool {
    enabled()
}

/// What a boolean switch of the environment accepts.
const SWITCH_VALUES: &str = "1 or 0 (true/false, on/off, yes/no)";

/// Parses the value of a boolean switch of the environment.
pub(crate) fn parse_switch(name: &'static str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "" | "0" | "false" | "off" | "no" => Ok(false),
        _ => Err(Error::InvalidEnvironment {
            name,
            value: value.to_owned(),
            expected: SWITCH_VALUES,
        }),
    }
}

/// Reads a boolean switch of the environment: `Ok(None)` when unset.
pub(crate) fn env_switch(name: &'static str) -> Result<Option<bool>> {
    match std::env::var(name) {
        Ok(v) => parse_switch(name, &v).map(Some),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(Error::InvalidEnvironment {
            name,
            value: v.to_string_lossy().into_owned(),
            expected: SWITCH_VALUES,
        }),
    }
}

/// Applies [`TRACE_ENV`], read once per process (the same answer, or the same error, for
/// every runtime created afterwards). Called when a runtime is created, before any call.
pub(crate) fn init_from_env() -> Result<()> {
    static READ: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    let read = READ.get_or_init(|| match env_switch(TRACE_ENV) {
        Ok(on) => {
            if let Some(on) = on {
                set_enabled(on);
            }
            Ok(())
        }
        Err(Error::InvalidEnvironment { value, .. }) => Err(value),
        Err(e) => Err(e.to_string()),
    });
    read.clone().map_err(|value| Error::InvalidEnvironment {
        name: TRACE_ENV,
        value,
        expected: SWITCH_VALUES,
    })
}

/// The parameter names of the function `name`, from the headers (empty for an unknown name).
fn params(name: &str) -> &'static [&'static str] {
    params::PARAMS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .map_or(&[], |i| params::PARAMS[i].1)
}

/// One traced call under way: its arguments as they are evaluated, then its result.
pub(crate) struct Call {
    name: &'static str,
    params: &'static [&'static str],
    args: String,
    count: usize,
    start: Instant,
}

impl Call {
    pub(crate) fn start(name: &'static str) -> Call {
        Call {
            name,
            params: params(name),
            args: String::new(),
            count: 0,
            start: Instant::now(),
        }
    }

    /// Records the next argument (`expr`: its source text, the name used when the headers'
    /// name is unknown). The clock restarts after each, so that the duration is the call's.
    pub(crate) fn arg<T: Debug>(&mut self, value: &T, expr: &'static str) {
        if self.count > 0 {
            self.args.push_str(", ");
        }
        let name = self.params.get(self.count).copied().unwrap_or(expr);
        let _ = write!(self.args, "{name}={value:?}");
        self.count += 1;
        self.start = Instant::now();
    }

    /// Writes the line for the call's outcome.
    pub(crate) fn finish(self, outcome: &impl Outcome) {
        let elapsed = self.start.elapsed();
        let result = outcome.describe();
        let line = format!(
            "{}({}) -> {result} ({})",
            self.name,
            self.args,
            format_duration(elapsed)
        );
        emit(&line);
        #[cfg(feature = "tracing")]
        {
            let span =
                tracing::trace_span!(target: "level_zero::trace", "ze_call", call = self.name);
            let _entered = span.enter();
            tracing::trace!(
                target: "level_zero::trace",
                call = self.name,
                args = %self.args,
                result = %result,
                duration_ns = elapsed.as_nanos() as u64,
            );
        }
    }
}

fn format_duration(d: std::time::Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.1} ms", ns as f64 / 1e6)
    }
}

/// Writes a trace line to stderr (in one `write`) and to the `log` facade.
fn emit(line: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("level-zero: trace: {line}\n").as_bytes());
    log::trace!(target: "level_zero::trace", "{line}");
}

/// Runs `call` (which makes the Level Zero call, recording its arguments) as a traced call.
/// Out of line and cold: the untraced path of every call site keeps its registers and stack
/// frame (measured: inline, the traced branch cost the untraced one 6 instructions).
#[cold]
#[inline(never)]
pub(crate) fn traced<R: Outcome>(name: &'static str, call: impl FnOnce(&mut Call) -> R) -> R {
    let mut c = Call::start(name);
    let r = call(&mut c);
    c.finish(&r);
    r
}

/// What a traced call returned, as text.
pub(crate) trait Outcome {
    fn describe(&self) -> String;
}

impl Outcome for ze_result_t {
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl Outcome for std::result::Result<ze_result_t, MissingFunction> {
    fn describe(&self) -> String {
        match self {
            Ok(r) => r.to_string(),
            Err(_) => "missing function (not called)".into(),
        }
    }
}

/// Calls a Level Zero function through the table (`ze_call!(api, zeFoo(a, b))`) or a
/// function pointer (`ze_call!(fn "zeFooExt", f(a, b))`), traced when tracing is on; returns
/// what the table's method (or the pointer) returns, untouched. Must be used inside `unsafe`.
///
/// Every Level Zero call of this crate goes through it ([`ze!`](crate::error::ze) and the
/// waits use it too).
macro_rules! ze_call {
    ($api:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        let api: &level_zero_sys::Api = $api;
        if $crate::trace::enabled() {
            $crate::trace::traced(stringify!($f), |call| {
                api.$f($({
                    let v = $arg;
                    call.arg(&v, stringify!($arg));
                    v
                }),*)
            })
        } else {
            api.$f($($arg),*)
        }
    }};
    // The same, handing the result to `$then(api, name, result)` in each branch: the
    // untraced branch is then a straight line, with no merge of the two results (measured:
    // the merge cost 6 instructions per call).
    ($api:expr, $f:ident ( $($arg:expr),* $(,)? ) => $then:path) => {{
        let api: &level_zero_sys::Api = $api;
        if $crate::trace::enabled() {
            let r = $crate::trace::traced(stringify!($f), |call| {
                api.$f($({
                    let v = $arg;
                    call.arg(&v, stringify!($arg));
                    v
                }),*)
            });
            $then(api, stringify!($f), r)
        } else {
            $then(api, stringify!($f), api.$f($($arg),*))
        }
    }};
    (fn $name:literal, $f:ident ( $($arg:expr),* $(,)? )) => {{
        if $crate::trace::enabled() {
            $crate::trace::traced($name, |call| {
                $f($({
                    let v = $arg;
                    call.arg(&v, stringify!($arg));
                    v
                }),*)
            })
        } else {
            $f($($arg),*)
        }
    }};
}
pub(crate) use ze_call;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_table_is_sorted_and_covers_the_bindings() {
        assert!(
            params::PARAMS.windows(2).all(|w| w[0].0 < w[1].0),
            "PARAMS must be sorted for binary search"
        );
        for f in level_zero_sys::FUNCTIONS {
            assert!(
                params::PARAMS
                    .binary_search_by(|(n, _)| (*n).cmp(f.name))
                    .is_ok(),
                "{} has no parameter names: run level-zero/src/trace/gen_params.py",
                f.name
            );
        }
        assert_eq!(params("zeEventQueryStatus"), ["hEvent"]);
        assert_eq!(
            params("zeCommandListHostSynchronize"),
            ["hCommandList", "timeout"]
        );
        assert!(params("zeNoSuchFunction").is_empty());
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "searches a 1 MB source file 494 times: minutes under Miri"
    )]
    fn the_parameter_table_matches_the_bindings() {
        // The generator's input, where the workspace is checked out (not in a packaged crate).
        let api = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../level-zero-sys/src/generated/api.rs");
        let Ok(text) = std::fs::read_to_string(&api) else {
            eprintln!("skipped: {} is not there", api.display());
            return;
        };
        for (name, names) in params::PARAMS {
            let start = text
                .find(&format!("pub {name}: Option<"))
                .unwrap_or_else(|| panic!("{name} is not in the Api table"));
            let decl = &text[start..];
            let decl = &decl[decl.find("fn(").expect("a function pointer type") + 3..];
            let decl = &decl[..decl.find(')').expect("a parameter list")];
            for p in *names {
                assert!(
                    decl.contains(&format!("{p}: ")),
                    "{name}: no parameter {p}; rerun gen_params.py"
                );
            }
            let declared = decl.matches(": ").count();
            assert_eq!(declared, names.len(), "{name}: rerun gen_params.py");
        }
    }

    #[test]
    fn switches_accept_their_values_and_report_the_others() {
        for v in ["1", "true", " ON ", "yes"] {
            assert!(parse_switch(TRACE_ENV, v).unwrap(), "{v}");
        }
        for v in ["", "0", "false", "Off", "no"] {
            assert!(!parse_switch(TRACE_ENV, v).unwrap(), "{v}");
        }
        let e = parse_switch(TRACE_ENV, "verbose").unwrap_err().to_string();
        assert!(
            e.contains("LEVEL_ZERO_TRACE") && e.contains("\"verbose\""),
            "{e}"
        );
        assert!(matches!(
            env_switch("LEVEL_ZERO_TRACE_TEST_UNSET_SWITCH"),
            Ok(None)
        ));
    }

    /// With the `tracing` feature, a traced call is an event inside a span (a subscriber
    /// that counts them).
    #[cfg(feature = "tracing")]
    #[test]
    fn a_traced_call_is_a_tracing_event_in_a_span() {
        use std::sync::atomic::AtomicUsize;
        #[derive(Default)]
        struct Count {
            spans: AtomicUsize,
            events: AtomicUsize,
        }
        struct Sub(std::sync::Arc<Count>);
        impl tracing::Subscriber for Sub {
            fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
                self.0.spans.fetch_add(1, Ordering::Relaxed);
                tracing::span::Id::from_u64(1)
            }
            fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
            fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
            fn event(&self, e: &tracing::Event<'_>) {
                assert_eq!(e.metadata().target(), "level_zero::trace");
                let names: Vec<&str> = e.fields().map(|f| f.name()).collect();
                assert_eq!(names, ["call", "args", "result", "duration_ns"]);
                self.0.events.fetch_add(1, Ordering::Relaxed);
            }
            fn enter(&self, _: &tracing::span::Id) {}
            fn exit(&self, _: &tracing::span::Id) {}
        }
        let count = std::sync::Arc::new(Count::default());
        tracing::subscriber::with_default(Sub(count.clone()), || {
            let r = traced("zeEventQueryStatus", |c| {
                c.arg(&(0x10 as *mut u8), "h");
                ze_result_t::ZE_RESULT_NOT_READY
            });
            assert_eq!(r, ze_result_t::ZE_RESULT_NOT_READY);
        });
        assert_eq!(count.spans.load(Ordering::Relaxed), 1);
        assert_eq!(count.events.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_call_line_names_the_parameters_values_and_result() {
        let mut c = Call::start("zeCommandListHostSynchronize");
        c.arg(&(0x10 as *mut u8), "self.raw()");
        c.arg(&u64::MAX, "timeout_ns(timeout)");
        assert_eq!(c.args, "hCommandList=0x10, timeout=18446744073709551615");
        let mut c = Call::start("zeUnknownExt");
        c.arg(&3u32, "count");
        assert_eq!(c.args, "count=3");
        assert_eq!(
            Ok::<_, MissingFunction>(ze_result_t::ZE_RESULT_NOT_READY).describe(),
            "ZE_RESULT_NOT_READY"
        );
    }
}
