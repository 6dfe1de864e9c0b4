//! The raw layer: the ODBC 3.x API, ODBC-shaped. Every function has exactly the C
//! signature of the entry point it is named after (checked at compile time against
//! `abi::fns`), returns a SQLRETURN, and keeps its diagnostics on the handle.
//!
//! Each function is an `extern "C"` boundary: its body runs inside `catch_unwind`, so a
//! panic becomes SQL_ERROR instead of unwinding into C. A later C ABI (`libodbc.so`
//! replacement) and the conformance harness sit directly on these functions.
//!
//! # Fast lanes
//!
//! The entry points with a fast lane (SQLFetch, SQLGetData, SQLGetInfo, SQLGetInfoW)
//! resolve the handle through its slab slot (`handles::table`: a bounds and generation
//! check plus one atomic on the slot, no thread-local state), so they are as fast compiled
//! in this library (or a `cdylib` C ABI) as inlined into an application: none is
//! `#[inline]` (docs/decisions.md #67).
#![allow(non_snake_case)]
#![allow(clippy::too_many_arguments)]
#![allow(clippy::missing_safety_doc)]

mod call;
mod checks;
mod strings;
mod wconv;

mod attrs;
mod cancel;
mod catalog;
mod complete;
pub(crate) mod concurrency;
mod connect;
mod connect_async;
mod descriptors;
mod diag;
mod execute;
pub mod ext;
mod functions;
mod handles;
mod info;
mod lanes;
mod results;

pub use attrs::*;
pub use cancel::*;
pub use catalog::*;
pub use complete::*;
pub use connect::*;
pub use descriptors::*;
pub use diag::*;
pub use execute::*;
pub use functions::*;
pub use handles::*;
pub use info::*;
pub use results::*;

/// DM-private connection attribute (unixODBC's range, never sent to a driver): the DM may
/// emulate asynchronous execution where the driver cannot (1), or always (2).
pub use crate::async_engine::emulation::SQL_ATTR_DM_ASYNC_EMULATION;

pub(crate) use call::{reject, stmt_summary, AppPtr, Call, HasDiag, StmtCall};
// Driver-side helpers the handles layer needs too; they live below the raw layer (in
// `handles`) so that `handles` never imports `raw` (decision #55).
pub(crate) use crate::handles::stmt_state::opens_result;
pub(crate) use crate::handles::{driver_has_result, pull_driver_diags};

use odbc_dm_abi::SqlReturn;

/// Runs an API function body as an FFI boundary: panics become SQL_ERROR, and the exit is
/// traced.
#[inline(always)]
pub(crate) fn boundary(name: &'static str, f: impl FnOnce() -> SqlReturn) -> SqlReturn {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(rc) => {
            crate::trace_exit!(name, rc);
            rc
        }
        Err(p) => {
            let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
            log::error!("panic inside {name} caught at the FFI boundary: {what}");
            SqlReturn::SQL_ERROR
        }
    }
}

/// A panic caught in a fast lane's cold continuation (`lanes`, SQLGetInfo's): SQL_ERROR.
#[cold]
#[inline(never)]
fn lane_panicked(name: &'static str, payload: Box<dyn std::any::Any + Send>) -> SqlReturn {
    log::error!("panic inside {name} caught at the FFI boundary");
    drop(payload);
    SqlReturn::SQL_ERROR
}

/// Looks a handle up or returns SQL_INVALID_HANDLE from the enclosing function.
macro_rules! handle {
    ($kind:ident, $h:expr) => {
        match $crate::handles::$kind($h) {
            Some(x) => x,
            None => return odbc_dm_abi::SqlReturn::SQL_INVALID_HANDLE,
        }
    };
}
pub(crate) use handle;

/// Compile-time proof that a raw function has the C signature of its entry point.
macro_rules! same_signature {
    ($($name:ident),* $(,)?) => {
        $( const _: odbc_dm_abi::fns::$name = $name; )*
    };
}
pub(crate) use same_signature;
