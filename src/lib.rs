//! odbc-dm: a pure-Rust ODBC Driver Manager.
//!
//! Layers, bottom up:
//! - [`abi`] — the C ABI (types, constants, one fn-pointer type per entry point);
//! - [`config`] — odbc.ini / odbcinst.ini and connection strings;
//! - `driver` (crate-private) — loading drivers and their entry points;
//! - `handles` (crate-private) — DM handle objects, tables and state machines;
//! - [`diag`] — diagnostics;
//! - [`raw`] — the ODBC-shaped API (every function returns a SQLRETURN);
//! - `async_engine` (crate-private) — notification mode, polling bookkeeping, emulation;
//!   its one public type is [`AsyncEvent`];
//! - [`api`] — the safe Rust API on top of `raw`;
//! - [`conform`] — the conformance harness (`odbc-dm conform`), on `raw` and `config`.
//!
//! The public surface is `abi`, `config`, `diag`, `raw`, `api`, `conform`, `text`, `trace` and
//! [`AsyncEvent`]. `handles`, `driver` and `async_engine` hold unchecked driver handles and
//! run foreign code, so they are sealed (decision #53); the crate's own tests reach them
//! through the test-only feature `internals` (`odbc_dm::internals::…`).

pub use odbc_dm_abi as abi;

pub mod api;
// The sealed modules keep `pub` items that only the `internals` feature (the crate's own
// tests) uses; without it those are not dead code of the DM, so the lint is off for them
// there (a build with the feature, as every `cargo test` is, still reports dead private
// items and unused private imports).
#[cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]
pub(crate) mod async_engine;
pub mod config;
pub mod conform;
pub mod diag;
#[cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]
pub(crate) mod driver;
#[cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]
pub(crate) mod handles;
mod parking;
pub mod raw;
pub mod text;
pub mod trace;

/// The application's event for notification-mode asynchronous execution (§2.2): its
/// [`AsyncEvent::as_attr`] value is what SQL_ATTR_ASYNC_STMT_EVENT / SQL_ATTR_ASYNC_DBC_EVENT
/// take.
pub use async_engine::AsyncEvent;

/// White-box access for the crate's own tests, benches and examples (feature `internals`,
/// enabled only through the crate's self dev-dependency). Not part of the public API: no
/// stability, and no safety promise beyond the `unsafe fn`s' own contracts.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    /// `crate::handles`.
    pub mod handles {
        pub use crate::handles::*;
    }
    /// `crate::driver`.
    pub mod driver {
        pub use crate::driver::*;
    }
    /// `crate::async_engine`.
    pub mod async_engine {
        pub use crate::async_engine::*;
    }
}
