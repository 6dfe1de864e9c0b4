//! odbc-dm: a pure-Rust ODBC Driver Manager.
//!
//! Layers, bottom up:
//! - [`abi`] — the C ABI (types, constants, one fn-pointer type per entry point);
//! - [`config`] — odbc.ini / odbcinst.ini and connection strings;
//! - [`driver`] — loading drivers and their entry points;
//! - [`handles`] — DM handle objects, tables and state machines;
//! - [`diag`] — diagnostics;
//! - [`raw`] — the ODBC-shaped API (every function returns a SQLRETURN);
//! - [`async_engine`] — notification mode, polling bookkeeping, emulation, events;
//! - [`api`] — the safe Rust API on top of `raw`;
//! - [`conform`] — the conformance harness (`odbc-dm conform`), on `raw` and `config`.

pub use odbc_dm_abi as abi;

pub mod api;
pub mod async_engine;
pub mod config;
pub mod conform;
pub mod diag;
pub mod driver;
pub mod handles;
mod parking;
pub mod raw;
pub mod text;
pub mod trace;
