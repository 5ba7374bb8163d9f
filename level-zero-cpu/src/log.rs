//! The driver's messages on stderr (`LEVEL_ZERO_CPU_LOG=error|warn|info|debug`).
//!
//! The switch works whoever loads the driver (the official loader, or a program embedding
//! it) and whether or not anyone installed a `log` logger: messages at or above the chosen
//! level are written to stderr, prefixed with `level-zero-cpu`. Every message also goes to the
//! `log` crate, as before, for programs that install a logger. Unset (the default), nothing is
//! written to stderr except configuration errors, which always are.
//!
//! Every entry point that fails logs its name, the result code and the reason
//! ([`failed`]): at `warn`, or at `debug` for `ZE_RESULT_NOT_READY`, which is part of normal
//! operation (a query of work not done yet).

use std::sync::atomic::{AtomicUsize, Ordering};

use level_zero_sys::ze_result_t;

/// The most verbose level written to stderr (`::log::Level as usize`), 0 for none.
static LEVEL: AtomicUsize = AtomicUsize::new(0);

/// Parses a `LEVEL_ZERO_CPU_LOG` value: `None` for off.
pub(crate) fn parse_level(value: &str) -> Result<Option<::log::Level>, String> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "" | "off" | "0" => None,
        "error" => Some(::log::Level::Error),
        "warn" => Some(::log::Level::Warn),
        "info" => Some(::log::Level::Info),
        "debug" => Some(::log::Level::Debug),
        _ => return Err("expected error, warn, info, debug or off".into()),
    })
}

/// Applies the level `LEVEL_ZERO_CPU_LOG` asks for in this process's environment, once (a
/// malformed value is reported when the default instance reads its configuration).
fn from_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(value) = std::env::var(format!("{}LOG", crate::ENV_PREFIX))
            && let Ok(Some(level)) = parse_level(value.trim())
        {
            enable(level);
        }
    });
}

/// Writes messages up to `level` to stderr from now on (never less verbose than before).
pub(crate) fn enable(level: ::log::Level) {
    LEVEL.fetch_max(level as usize, Ordering::Relaxed);
}

/// Whether messages at `level` go to stderr.
pub(crate) fn enabled(level: ::log::Level) -> bool {
    from_env();
    LEVEL.load(Ordering::Relaxed) >= level as usize
}

/// Writes `line` (newline included) to `out` in one `write` call. Stderr is shared: with the
/// loader's own log, the application and the driver's other threads. `eprintln!` writes a
/// line in pieces, one `write` per formatting piece, and another writer's line could land
/// between them (seen: loader 1.32's validation-layer log splitting this driver's lines).
/// Errors are ignored: the driver does not fail a call, nor panic, over its log.
fn write_line(out: &mut impl std::io::Write, line: &str) {
    let _ = out.write_all(line.as_bytes());
}

/// Logs `message` at `level`: to stderr when enabled, and to the `log` crate.
pub(crate) fn emit(level: ::log::Level, message: &str) {
    if enabled(level) {
        let level = level.as_str().to_ascii_lowercase();
        write_line(
            &mut std::io::stderr().lock(),
            &format!("level-zero-cpu: {level}: {message}\n"),
        );
    }
    ::log::log!(level, "level-zero-cpu: {message}");
}

/// Reports a configuration problem: always on stderr, and to the `log` crate at `warn`.
pub(crate) fn report(message: &str) {
    write_line(&mut std::io::stderr().lock(), &format!("{message}\n"));
    ::log::warn!("{message}");
}

/// Logs a failed entry point: its name, the result code and the reason.
pub(crate) fn failed(name: &str, code: ze_result_t, reason: &str) {
    // Not failures: a wait that timed out, and the answers of yes/no queries
    // (`zeCommandListIsGraphCaptureEnabledExt`, `zeGraphIsEmptyExt`).
    let routine = code == ze_result_t::ZE_RESULT_NOT_READY
        || code == ze_result_t::ZE_RESULT_QUERY_TRUE
        || code == ze_result_t::ZE_RESULT_QUERY_FALSE;
    let level = if routine {
        ::log::Level::Debug
    } else {
        ::log::Level::Warn
    };
    if enabled(level) || ::log::log_enabled!(level) {
        // The description starts with the code already.
        let prefix = format!("{code}: ");
        let reason = reason.strip_prefix(&prefix).unwrap_or(reason);
        emit(level, &format!("{name} returned {code}: {reason}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records each `write` call it receives.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl std::io::Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_message_line_is_one_write() {
        let mut out = Writes::default();
        write_line(
            &mut out,
            "level-zero-cpu: warn: zeX returned ZE_RESULT_ERROR_UNKNOWN: why\n",
        );
        assert_eq!(
            out.0,
            [b"level-zero-cpu: warn: zeX returned ZE_RESULT_ERROR_UNKNOWN: why\n".to_vec()]
        );
    }
}
