//! odbc-refdriver: a reference ODBC 3.80 driver (Unicode entry points) over SQLite, with
//! polling and notification-mode asynchronous execution, cross-thread cancel, a per-
//! connection event log, and injectable faults. See README.md for keywords, attributes,
//! the event-log JSON format and the fault modes. Rules are cited as §S.N from
//! shared/spec/odbc-rules.md.

mod async_ops;
mod conn;
pub mod connstr;
mod convert;
mod diag;
mod engine;
pub mod eventlog;
mod exports;
pub mod faults;
mod handles;
pub mod info;
mod pool;
mod stmt;
mod util;

/// Driver-specific connection attribute (read-only): the connection's event log as UTF-8
/// JSON bytes. BufferLength and *StringLengthPtr are in bytes; truncation → 01004.
pub const SQL_ATTR_REFDRIVER_EVENT_LOG: i32 = 30001;
/// Driver-specific connection attribute (write-only): any value clears the event log.
pub const SQL_ATTR_REFDRIVER_CLEAR_EVENT_LOG: i32 = 30002;
