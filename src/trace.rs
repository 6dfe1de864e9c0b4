//! Call tracing at `log` trace level (target `odbc_dm::trace`), the way unixODBC's
//! `Trace=Yes` is used for bug reports. Disabled, it costs one level comparison per call.
//! Connection strings are masked before they are traced (`PWD=`, `Password=`).

use odbc_dm_abi::FunctionId;

/// The log target of call traces.
pub const TARGET: &str = "odbc_dm::trace";

/// Whether call tracing is on (cheap: a static and an atomic load).
#[inline(always)]
pub fn enabled() -> bool {
    log::log_enabled!(target: TARGET, log::Level::Trace)
}

/// Whether call tracing may be on: one load of the `log` level, no call into the logger.
/// The fast lanes run only when this is false, so a traced call always takes the full
/// path, which traces its entry and exit with [`enabled`].
#[inline(always)]
pub fn maybe_enabled() -> bool {
    log::Level::Trace <= log::STATIC_MAX_LEVEL && log::Level::Trace <= log::max_level()
}

/// Traces entry to an ODBC function.
#[macro_export]
macro_rules! trace_enter {
    ($name:expr, $($arg:tt)*) => {
        if $crate::trace::enabled() {
            log::trace!(target: $crate::trace::TARGET, "Entry {} {}", $name, format_args!($($arg)*));
        }
    };
}

/// Traces exit from an ODBC function with its return code.
#[macro_export]
macro_rules! trace_exit {
    ($name:expr, $rc:expr) => {
        if $crate::trace::enabled() {
            log::trace!(target: $crate::trace::TARGET, "Exit  {} -> {:?}", $name, $rc);
        }
    };
}

/// Text of a connection string safe to trace or show in an error.
pub fn masked(conn_str: &str) -> String {
    crate::config::mask_passwords(conn_str)
}

/// The C name of an API function id (for messages and traces).
pub fn func_name(f: FunctionId) -> &'static str {
    f.name().map(|n| n.trim_start_matches("SQL_API_")).unwrap_or("function")
}
