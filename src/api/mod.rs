//! The safe Rust API of odbc-dm, built on [`crate::raw`] (never on drivers directly).
//!
//! ```no_run
//! use odbc_dm::api::Environment;
//! let env = Environment::new()?;
//! let conn = env.connect_with_connection_string("DRIVER=/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so;Database=/tmp/x.db")?;
//! if let Some(mut cursor) = conn.execute("SELECT 1 + ?", (41,))? {
//!     while let Some(mut row) = cursor.next_row()? {
//!         let v: i64 = row.get(1)?;
//!         assert_eq!(v, 42);
//!     }
//! }
//! # Ok::<(), odbc_dm::api::Error>(())
//! ```
//!
//! # Ownership
//!
//! | Type | Owns | Freed / closed on drop |
//! |---|---|---|
//! | [`Environment`] | an environment handle (shared through an `Arc`, clonable) | `SQLFreeHandle(ENV)` when the last environment clone and connection are gone |
//! | [`Connection`] | a connection handle and an `Arc` of its environment | `SQLDisconnect` (rollback + retry on 25000) and `SQLFreeHandle(DBC)` |
//! | [`Statement`] / [`Prepared`] | a statement handle borrowing the connection, and the buffers of the parameters last bound | `SQLFreeHandle(STMT)` (then the buffers) |
//! | [`Cursor`] | an open result set; owns its statement when made by a `Connection` method, borrows it otherwise | `SQLFreeStmt(SQL_CLOSE)` (and frees an owned statement) |
//! | [`BoundCursor`] | a cursor plus the row arrays, rows-fetched counter and status array given to the driver | unbinds (`SQL_UNBIND`, attributes reset) before freeing them, then closes |
//! | [`CancelHandle`] | only a handle id | nothing |
//! | [`AsyncConnection`] / [`AsyncStatement`] / [`AsyncBlockCursor`] | see [`asynchronous`](self#asynchronous) below | an outstanding operation is waited for (bounded, then cancelled) before anything is freed |
//!
//! Drops never panic: failures are logged with the `log` crate.
//!
//! # Threads
//!
//! The Driver Manager's handles are thread safe: every call on one handle passes the DM's
//! per-handle call gate, which serializes it with any other call on that handle; the gate's
//! lock is never held across the driver call, and `SQLCancel` bypasses it so a second thread
//! can cancel a running call (§3.1–§3.5). Hence:
//!
//! - [`Environment`], [`Connection`] and [`CancelHandle`] are `Send + Sync`: share a
//!   connection between threads (e.g. `std::thread::scope` or an `Arc<Connection>`), and
//!   give each thread its own statements.
//! - [`Statement`], [`Prepared`], [`Cursor`] and [`BoundCursor`] are `Send` but not `Sync`:
//!   their methods take `&mut self` and their state (bound buffers, a fetch position) belongs
//!   to one user at a time. They borrow their connection, so they cannot outlive it.
//!
//! # Asynchronous
//!
//! [`AsyncConnection`], [`AsyncStatement`] and [`AsyncBlockCursor`] give `async` versions
//! (with a blocking twin each) of connect, execute (with owned parameters, data-at-execution
//! included), prepare, catalog functions (tables, columns, primary keys), fetch (row and
//! block), get-data, more-results, end-tran and disconnect, through notification mode (§2;
//! connection-level for the connection functions) — native, or emulated by the DM for
//! drivers without it. [`AsyncOperation`] reports an operation's [`Phase`], waits for it
//! with a timeout and aborts it.
//!
//! Both APIs drive the same cores: [`FromColumn`] (one trait, one C type per Rust type) and
//! the chunked `SQLGetData` behind [`Row::get`] and [`AsyncStatement::get_data`], the
//! [`RowSet`] behind [`BoundCursor`] and [`AsyncBlockCursor`], the catalog arguments, and
//! the data-at-execution chunking; the async side runs each driver call as an operation.
//!
//! # Text
//!
//! Statement text, identifiers, connection strings, metadata and diagnostics use the A
//! entry points with UTF-8 (the DM's narrow convention; the DM converts when the driver only
//! has W). Text *data* (parameters, `String` columns, bound text buffers) uses the
//! connection's [`TextEncoding`]: UTF-8 `SQL_C_CHAR` by default, or UTF-16 `SQL_C_WCHAR`.
//!
//! # Optimistic concurrency
//!
//! [`Connection::read_snapshot`] reads a row under SQL_CONCUR_VALUES or ROWVER as a
//! [`Snapshot`]; [`Snapshot::update`] / [`Snapshot::delete`] write it back and return
//! [`Error::Conflict`] when someone changed the row in between (01001, §5.3);
//! [`retry_optimistic`] re-runs a read-modify-write on conflicts (docs/concurrency.md).
//!
//! # Errors and warnings
//!
//! A failing call is an [`Error::Odbc`] naming the ODBC function, with its return code and
//! diagnostic records (SQLSTATE, native code, message; passwords masked). Return codes the
//! API does not expect are errors too, never panics. SUCCESS_WITH_INFO records are kept as
//! warnings on the object (`warnings()` / `take_warnings()`).

mod asynchronous;
mod bound;
mod catalog;
mod column;
mod connection;
mod cursor;
mod environment;
mod error;
mod getdata;
mod optimistic;
mod params;
mod rowset;
mod statement;

pub use asynchronous::{
    retry_optimistic_async, AbortOutcome, AsyncBlockCursor, AsyncConnection, AsyncOperation, AsyncSnapshot, AsyncStatement, ConnFuture,
    OpFuture, Phase,
};
pub use bound::BoundCursor;
#[allow(deprecated)]
pub use column::AsyncColumn;
pub use column::{ColumnKind, ColumnValue, FromColumn};
pub use connection::{Connection, SupportedFunctions};
pub use cursor::{ColumnDescription, Cursor, Row};
pub use environment::{DataSourceInfo, DriverInfo, Environment, OdbcVersion};
pub use error::{DiagRecord, Error, Result};
pub use optimistic::{retry_optimistic, Concurrency, Snapshot, SnapshotValue};
pub use params::{LongText, NullKind, Param, ParamValue, Params, Streamed, TextEncoding};
pub use rowset::{BufferDesc, RowSet};
pub use statement::{CancelHandle, Prepared, Statement};
