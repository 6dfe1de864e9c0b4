//! The asynchronous safe API: [`AsyncConnection`], [`AsyncStatement`], [`AsyncBlockCursor`],
//! the futures [`OpFuture`] / [`ConnFuture`], and [`AsyncOperation`], a status handle in the
//! spirit of OLE DB's asynchronous status (phase, wait with a timeout, abort).
//!
//! ```no_run
//! use odbc_dm::api::{AsyncConnection, Environment};
//! # async fn demo() -> odbc_dm::api::Result<()> {
//! let env = Environment::new()?;
//! let conn = AsyncConnection::connect(&env, "DRIVER=/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so;Database=/tmp/x.db").await?;
//! let mut st = conn.statement()?;
//! if st.execute("SELECT 42").await? {
//!     while st.fetch().await? {
//!         let v: i64 = st.get_data(1).await?;
//!         assert_eq!(v, 42);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # How it runs
//!
//! An [`AsyncStatement`] puts its statement handle in notification mode (§2.1): async enabled
//! plus the DM's waker notification mode
//! ([`raw::ext::SQL_ATTR_DM_ASYNC_WAKER`](crate::raw::ext::SQL_ATTR_DM_ASYNC_WAKER), a DM
//! extension, decision #108) instead of an event: no file descriptor per statement or
//! connection. The connection has the DM's
//! async emulation switched on, so the DM uses the driver's native notification when the
//! driver reports `SQL_ASYNC_NOTIFICATION_CAPABLE` (§2.3) and runs the driver's synchronous
//! calls on its emulation pool otherwise: the API works with every driver.
//!
//! Every driver call returns `SQL_STILL_EXECUTING` at once (§2.11, §7.1 policy); a future
//! registers its waker through [`raw::ext::register_waker`](crate::raw::ext::register_waker), which
//! the dispatcher (or the emulation pool) wakes when the operation ends (§2.12), then collects
//! the result with `SQLCompleteAsync` (§2.13): `SQL_NO_DATA` → still pending, `SQL_SUCCESS` →
//! the function's return code, whose diagnostics are read from the handle into an
//! [`Error`]. Futures need no particular runtime: any executor (tokio, pollster, a hand-made
//! loop) can poll them. Each `async` method has a `_blocking` twin that waits on the
//! current thread.
//!
//! Connection functions (connect, commit/rollback, disconnect) use connection-level async
//! (§1.4, §2.3) the same way ([`ConnFuture`]): the connection is in the DM's waker
//! notification mode too; `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` is switched on for the
//! call (and off again after it, so the synchronous [`Connection`] methods keep working),
//! which returns `SQL_STILL_EXECUTING`; the connection's slot wakes the future and
//! `SQLCompleteAsync(SQL_HANDLE_DBC)` collects. Natively on drivers capable of
//! `SQL_ASYNC_DBC_FUNCTIONS` and `SQL_ASYNC_NOTIFICATION` (the first driver call on the
//! polling thread, re-invocations on the DM's dispatcher), emulated on the DM's pool
//! otherwise.
//!
//! # Ownership and cancellation
//!
//! The futures own what the driver points into: the SQL text, catalog arguments,
//! `SQLGetData` buffers, `SQLPutData` chunks, out-parameters, the connection string. Parameter values
//! ([`AsyncStatement::execute_with`]) are copied into heap buffers owned by the statement,
//! bound until its next binding or its drop. Row buffers of an [`AsyncBlockCursor`] are heap allocations owned by the
//! cursor. Dropping a statement future before it completes cancels the operation
//! (`SQLCancel`; the DM then drives a driver that never calls back by polling) and hands its
//! buffers to the statement's slot, which frees them only when the driver is done (§2.9).
//! The next operation on the statement first waits for such a leftover operation to end and
//! collects it. Dropping a block cursor waits for it with a bounded timeout (cancelling
//! it) before unbinding its buffers; dropping the statement hands the handle, its bound
//! parameters and its connection reference to the DM
//! ([`raw::ext::abandon`](crate::raw::ext::abandon), decision #81), which frees the
//! statement once the operation has ended, without waiting here.
//!
//! A dropped connect or disconnect future hands its handle, with the buffers the driver may
//! still use, to the DM ([`raw::ext::abandon`](crate::raw::ext::abandon), decision #81):
//! the DM cancels the operation (`SQLCancelHandle(SQL_HANDLE_DBC)`; an emulated one runs to
//! completion; a driver that never calls back is driven by polling after the cancel grace,
//! #35) and, when it has ended, collects it, disconnects the connection if it is connected
//! and frees it, on its worker pool: no thread per dropped future, no fixed wait. If the
//! driver never finishes, the handle and the buffers are leaked deliberately, with a
//! `log::error!` line: freeing them could let the driver write into freed memory. A
//! dropped commit/rollback completes and is collected by the connection's next connection
//! function, or handed to the DM the same way by the connection's drop.
//!
//! # Threads
//!
//! All futures are `Send`. [`AsyncConnection`] is a cheap `Clone` (`Arc`) and the futures of
//! its connection functions are `'static`, so `tokio::spawn(async move { ... })` works with a
//! statement made inside the task. Statement futures borrow their [`AsyncStatement`]
//! mutably: one operation per statement at a time (§1.8).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use odbc_dm_abi::*;

use super::catalog::{catalog_methods, CatalogArgs};
use super::column::FromColumn;
use super::connection::Connection;
use super::environment::{EnvHandle, Environment};
use super::error::{diag_records, outcome as check_outcome, Diag, DiagRecord, Error, Result};
use super::getdata::{GetData, Piece, ReadColumns};
use super::params::{ParamValue, Params, TextEncoding};
use super::rowset::{BufferDesc, RowSet};
use super::statement::{bind_bound_params, cancel_need_data, to_bound, AtExec, BoundParam};
use crate::raw;
use crate::raw::ext::{self, OpPhase};

mod block_cursor;
mod conn_future;
mod connection;
mod executor;
mod op_future;
mod operation;
mod snapshot;
mod statement;

pub use block_cursor::AsyncBlockCursor;
pub use conn_future::ConnFuture;
pub use connection::AsyncConnection;
pub use op_future::OpFuture;
pub use operation::{AbortOutcome, AsyncOperation, Phase};
pub use snapshot::{retry_optimistic_async, AsyncSnapshot};
pub use statement::AsyncStatement;

use conn_future::*;
use connection::*;
use executor::*;
use op_future::*;
use operation::*;

/// How long a block cursor's drop (or a blocking twin) waits for an outstanding operation
/// before cancelling it, and then for the cancelled operation to end.
const SETTLE_GRACE: Duration = Duration::from_secs(2);
const SETTLE_AFTER_CANCEL: Duration = Duration::from_secs(10);
/// How long [`AsyncOperation::abort`] waits for the cancelled operation to end.
const ABORT_PATIENCE: Duration = Duration::from_secs(10);
/// How long [`AsyncOperation::abort`] lets a cancelled operation end through the driver's
/// own callback before it asks the DM to poll it (the DM does so anyway once the handle's
/// cancel grace, `SQL_ATTR_DM_CANCEL_GRACE`, has passed).
const DRIVE_GRACE: Duration = Duration::from_millis(300);

// ---------------------------------------------------------------------------------------
// Static assertions: every future is Send; the connection futures are 'static.
// ---------------------------------------------------------------------------------------

#[allow(dead_code)]
fn _snapshot_futures_are_send(c: &AsyncConnection, s: AsyncSnapshot) {
    fn send_static<F: Future + Send + 'static>(_: &F) {}
    send_static(&c.read_snapshot("", crate::api::Concurrency::Values));
    send_static(&s.update());
    send_static(&retry_optimistic_async(1, || async { Ok::<(), Error>(()) }));
}

#[allow(dead_code)]
fn _static_assertions() {
    fn send<T: Send>() {}
    fn send_static<T: Send + 'static>() {}
    send::<OpFuture<'_, bool>>();
    send::<OpFuture<'_, ()>>();
    send::<OpFuture<'_, usize>>();
    send::<OpFuture<'_, Option<String>>>();
    send::<AsyncStatement>();
    send::<AsyncBlockCursor<'_>>();
    send_static::<ConnFuture<AsyncConnection>>();
    send_static::<ConnFuture<()>>();
    send_static::<AsyncConnection>();
    send_static::<AsyncStatement>();
    send_static::<AsyncSnapshot>();

    fn sync<T: Send + Sync + 'static>() {}
    sync::<AsyncOperation>();
    sync::<AsyncConnection>();
}
