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
//! plus its own [`AsyncEvent`] as `SQL_ATTR_ASYNC_STMT_EVENT`. The connection has the DM's
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
//! (§1.4, §2.3) the same way ([`ConnFuture`]): the connection has its own [`AsyncEvent`] as
//! `SQL_ATTR_ASYNC_DBC_EVENT`; `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` is switched on for the
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
//! collects it; dropping the statement (or a block cursor) waits for it with a bounded
//! timeout (cancelling it) before freeing anything.
//!
//! A dropped connect future is cancelled (`SQLCancelHandle(SQL_HANDLE_DBC)`; an emulated
//! connect runs to completion) and its handle is settled and freed on a short-lived helper
//! thread (`odbc-dm-settle`): it waits up to 2 s, cancels, has the DM poll a driver that
//! never calls back, waits up to 10 s more, then collects, disconnects if the connect
//! succeeded meanwhile, and frees. If the driver never finishes, the handle and the
//! connect's buffers are leaked deliberately, with a `log::error!` line: freeing them could
//! let the driver write into freed memory. A dropped disconnect is settled the same way;
//! a dropped commit/rollback completes and is collected by the connection's next
//! connection function (or its drop).
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
use crate::AsyncEvent;
use crate::raw;
use crate::raw::ext::{self, OpPhase};

/// How long a statement's drop (or a block cursor's) waits for an outstanding operation
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
// Small helpers
// ---------------------------------------------------------------------------------------

/// Runs a future to completion on the current thread (the blocking twins).
fn block_on<F: Future>(f: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// The error of an operation that was aborted before it reached the driver.
fn cancelled(function: &'static str) -> Error {
    Error::Odbc {
        function,
        return_code: SqlReturn::SQL_ERROR.0,
        records: vec![DiagRecord { state: "HY008".into(), native: 0, message: "[odbc-dm] Operation canceled".into() }],
    }
}

fn carries_records(rc: SqlReturn) -> bool {
    rc != SqlReturn::SQL_SUCCESS && rc != SqlReturn::SQL_NO_DATA && rc != SqlReturn::SQL_STILL_EXECUTING
}

// ---------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------

/// Which connection function an operation runs (what its completion does to the
/// connection's state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnOpKind {
    Connect,
    EndTran,
    Disconnect,
}

/// A connection operation whose future was dropped mid-flight: collected (and its buffers
/// freed) by the next connection operation or the connection's drop.
struct Leftover {
    kind: ConnOpKind,
    /// Buffers the driver may still use: dropped (or leaked) with the leftover.
    _keep: Option<Box<dyn Any + Send>>,
}

/// Connection-operation bookkeeping: one at a time per connection (§1.10).
#[derive(Default)]
struct ConnOps {
    running: bool,
    leftover: Option<Leftover>,
}

enum ConnCollect {
    Done(SqlReturn),
    Pending,
    Lost,
}

/// What an [`AsyncConnection`], its statements and its connection futures share: the
/// connection, the DM's connection object (for the async slot's waker) and the
/// connection's [`AsyncEvent`] (`SQL_ATTR_ASYNC_DBC_EVENT`).
struct ConnInner {
    /// Dropped by hand in `Drop` (leaked when an operation never ends).
    conn: std::mem::ManuallyDrop<Connection>,
    event: AsyncEvent,
    ops: Mutex<ConnOps>,
    /// `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` may be on (it is only on during an operation;
    /// turning it off fails with HY010 while a statement of the connection executes).
    dbc_async_on: AtomicBool,
    /// The ticket id of the latest connection operation (see [`AsyncOperation`]).
    current: AtomicU64,
}

impl ConnInner {
    /// Allocates the connection with the DM's emulation on and the connection's event set.
    fn alloc(env: Arc<EnvHandle>) -> Result<Arc<ConnInner>> {
        let conn = Connection::alloc(env)?;
        Self::wrap(conn)
    }

    fn wrap(conn: Connection) -> Result<Arc<ConnInner>> {
        enable_emulation(&conn)?;
        let event = AsyncEvent::new().map_err(|e| Error::Usage(format!("cannot create the completion event: {e}")))?;
        // SAFETY: our connection id; the event's attribute value (the DM keeps its own
        // reference to the event, §2.2).
        let rc = unsafe { raw::SQLSetConnectAttr(conn.h, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, event.as_attr(), SQL_IS_POINTER) };
        conn.check("SQLSetConnectAttr", rc)?;
        Ok(Arc::new(ConnInner {
            conn: std::mem::ManuallyDrop::new(conn),
            event,
            ops: Mutex::new(ConnOps::default()),
            dbc_async_on: AtomicBool::new(false),
            current: AtomicU64::new(0),
        }))
    }

    fn h(&self) -> SqlHDbc {
        self.conn.h
    }

    /// The DM's view of the connection's asynchronous operation (raw DM extension).
    fn status(&self) -> Option<ext::OpStatus> {
        ext::op_status(HandleType::SQL_HANDLE_DBC, self.h()).ok()
    }

    fn op_active(&self) -> bool {
        self.status().is_some_and(|s| s.phase != OpPhase::Idle)
    }

    fn register(&self, cx: &Context<'_>) {
        let _ = ext::register_waker(HandleType::SQL_HANDLE_DBC, self.h(), cx.waker());
    }

    fn lock_ops(&self) -> MutexGuard<'_, ConnOps> {
        self.ops.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` (always synchronous, §1.5).
    fn set_dbc_async(&self, on: bool) -> SqlReturn {
        let v = if on { SQL_ASYNC_DBC_ENABLE_ON } else { SQL_ASYNC_DBC_ENABLE_OFF };
        // SAFETY: our connection id; an integer attribute travels in the pointer itself.
        let rc =
            unsafe { raw::SQLSetConnectAttr(self.h(), ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, v as SqlPointer, SQL_IS_UINTEGER) };
        if rc.is_success() {
            self.dbc_async_on.store(on, Ordering::Release);
        }
        rc
    }

    /// Switches connection-level async off again after an operation, so the synchronous
    /// [`Connection`] methods (and `SQLEndTran(SQL_HANDLE_ENV)`, §1.15) keep working. Left on
    /// (and retried later) when a statement of the connection is executing (HY010).
    fn dbc_async_off(&self) {
        if self.dbc_async_on.load(Ordering::Acquire) && !self.set_dbc_async(false).is_success() {
            log::debug!("SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE stays on for now (a statement is executing)");
        }
    }

    /// Collects the outstanding operation (`SQLCompleteAsync(SQL_HANDLE_DBC)`, §2.13): its
    /// code (its records are then the handle's), pending, or nothing to collect.
    fn collect(&self) -> ConnCollect {
        let mut code: RetCode = 0;
        // SAFETY: our connection id and a valid out slot.
        let rc = unsafe { raw::SQLCompleteAsync(HandleType::SQL_HANDLE_DBC, self.h(), &mut code) };
        match rc {
            // Polling mode reports progress through the code (§1.16); not used here (the
            // event is always set), but handled.
            SqlReturn::SQL_SUCCESS if SqlReturn(code) == SqlReturn::SQL_STILL_EXECUTING => ConnCollect::Pending,
            SqlReturn::SQL_SUCCESS => ConnCollect::Done(SqlReturn(code)),
            SqlReturn::SQL_NO_DATA if self.op_active() => ConnCollect::Pending,
            _ => ConnCollect::Lost,
        }
    }

    /// After an operation was collected: the API's connected flag follows the DM's state.
    fn sync_connected(&self) {
        if let Ok(c) = ext::is_connected(self.h()) {
            self.conn.set_connected(c);
        }
    }

    /// Ends a leftover operation: state, buffers, the connection free for the next one.
    fn end_leftover(&self) {
        self.sync_connected();
        self.dbc_async_off();
        let left = {
            let mut g = self.lock_ops();
            g.running = false;
            g.leftover.take()
        };
        if let Some(l) = left {
            log::debug!("collected a {:?} whose future was dropped", l.kind);
        }
    }

    /// Waits (bounded) for a leftover operation and collects it: `SETTLE_GRACE`, then
    /// `SQLCancelHandle(SQL_HANDLE_DBC)`, the driver's callback or DM polling for
    /// `SETTLE_AFTER_CANCEL`. `false` when the driver still has not finished.
    fn settle_blocking(&self) -> bool {
        if self.lock_ops().leftover.is_none() {
            return true;
        }
        let wait = |timeout: Duration| {
            let deadline = Instant::now() + timeout;
            loop {
                match self.collect() {
                    ConnCollect::Done(_) | ConnCollect::Lost => return true,
                    ConnCollect::Pending => {}
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                self.event.wait_timeout(left.min(Duration::from_millis(20)));
            }
        };
        // A dropped connect was cancelled already; the DM drives a cancelled operation whose
        // driver never calls back once the cancel grace has passed (§2.14).
        let done = wait(SETTLE_GRACE) || {
            self.cancel();
            wait(SETTLE_AFTER_CANCEL)
        };
        if done {
            self.end_leftover();
        }
        done
    }

    fn cancel(&self) {
        // SAFETY: our connection id; SQLCancelHandle is meant to cross threads (§3.4). An
        // emulated operation is accepted and runs to completion.
        let _ = unsafe { raw::SQLCancelHandle(HandleType::SQL_HANDLE_DBC, self.h()) };
    }

    /// Runs a synchronous connection call (the blocking twins) with no asynchronous
    /// operation around it: a leftover one is settled first.
    fn exclusive<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if !self.settle_blocking() {
            return Err(Error::Usage("an earlier connection operation did not end".into()));
        }
        {
            let mut g = self.lock_ops();
            if g.running {
                return Err(busy_connection());
            }
            g.running = true;
        }
        self.dbc_async_off();
        let r = f(&self.conn);
        self.lock_ops().running = false;
        r
    }
}

impl Drop for ConnInner {
    fn drop(&mut self) {
        if !self.settle_blocking() {
            // The driver may still use the handle and the buffers: never free them.
            log::error!("an asynchronous ODBC connection function did not end; its connection handle is leaked");
            if let Some(l) = self.lock_ops().leftover.take() {
                std::mem::forget(l);
            }
            return;
        }
        self.dbc_async_off();
        // SAFETY: dropped exactly once, here; nothing is outstanding on the handle.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.conn) };
    }
}

fn busy_connection() -> Error {
    Error::Odbc {
        function: "SQLCompleteAsync",
        return_code: SqlReturn::SQL_ERROR.0,
        records: vec![DiagRecord {
            state: "HY010".into(),
            native: 0,
            message: "[odbc-dm] another connection function is running on this connection (§1.10)".into(),
        }],
    }
}

fn enable_emulation(conn: &Connection) -> Result<()> {
    let attr = ConnAttr(ext::SQL_ATTR_DM_ASYNC_EMULATION);
    // SAFETY: our connection id; an integer attribute travels in the pointer itself.
    let rc = unsafe { raw::SQLSetConnectAttr(conn.h, attr, SQL_ASYNC_ENABLE_ON as SqlPointer, SQL_IS_UINTEGER) };
    conn.check("SQLSetConnectAttr", rc).map(drop)
}

type ConnStart = Box<dyn FnOnce(SqlHDbc) -> SqlReturn + Send>;
type ConnFinish<T> = Box<dyn FnOnce(Arc<ConnInner>, Result<SqlReturn>) -> Result<T> + Send>;

/// The future of an asynchronous connection function (connect, commit, rollback,
/// disconnect). `Send + 'static`; runtime-agnostic.
///
/// It runs the function through the DM's connection-level notification mode (§1.4, §2.3):
/// `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` is switched on for the call, which returns
/// `SQL_STILL_EXECUTING`; the DM wakes the future through the connection's async slot when
/// the operation ends (natively on notification-capable drivers, on the DM's emulation
/// pool otherwise), and the future collects it with `SQLCompleteAsync(SQL_HANDLE_DBC)`.
///
/// Dropping it mid-flight: a connect is cancelled (`SQLCancelHandle(SQL_HANDLE_DBC)`; an
/// emulated one runs to completion), then a helper thread waits (bounded) for the driver
/// to finish, collects the operation and frees the handle; if the driver never finishes,
/// the handle and its buffers are leaked deliberately (logged with `log::error!`). A
/// dropped disconnect is settled the same way (not cancelled); a dropped commit or
/// rollback runs to completion and is collected by the connection's next operation or
/// its drop.
pub struct ConnFuture<T> {
    state: ConnFutState<T>,
    op: AsyncOperation,
}

enum ConnFutState<T> {
    Ready(Option<Result<T>>),
    Op(ConnOp<T>),
}

struct ConnOp<T> {
    inner: Option<Arc<ConnInner>>,
    kind: ConnOpKind,
    function: &'static str,
    start: Option<ConnStart>,
    keep: Option<Box<dyn Any + Send>>,
    finish: Option<ConnFinish<T>>,
    state: RawState,
    ticket: Arc<Ticket>,
}

impl<T> ConnFuture<T> {
    fn ready(v: Result<T>) -> Self {
        let ticket = Arc::new(Ticket::default());
        ticket.started.store(true, Ordering::Release);
        ticket.finish(&v);
        ConnFuture { state: ConnFutState::Ready(Some(v)), op: AsyncOperation { of: OpOf::Nothing, ticket, function: "SQLCompleteAsync" } }
    }

    /// The status handle of this connection operation: phase, wait with a timeout, abort
    /// (`SQLCancelHandle(SQL_HANDLE_DBC)`, §3.4).
    pub fn operation(&self) -> AsyncOperation {
        self.op.clone()
    }

    fn op(
        inner: Arc<ConnInner>,
        kind: ConnOpKind,
        function: &'static str,
        keep: Option<Box<dyn Any + Send>>,
        start: ConnStart,
        finish: ConnFinish<T>,
    ) -> Self {
        let ticket = Arc::new(Ticket::default());
        let op = AsyncOperation { of: OpOf::Conn(inner.clone()), ticket: ticket.clone(), function };
        ConnFuture {
            state: ConnFutState::Op(ConnOp {
                inner: Some(inner),
                kind,
                function,
                start: Some(start),
                keep,
                finish: Some(finish),
                state: RawState::Init,
                ticket,
            }),
            op,
        }
    }

    /// Whether the operation has ended (its result may still have to be taken by polling).
    pub fn is_finished(&self) -> bool {
        match &self.state {
            ConnFutState::Ready(_) => true,
            ConnFutState::Op(op) => {
                op.state == RawState::Done
                    || (op.state == RawState::Running
                        && op.inner.as_ref().is_some_and(|i| i.status().is_some_and(|s| s.phase == OpPhase::Done)))
            }
        }
    }

    /// Blocking twin: waits for the operation on the current thread.
    pub fn wait(self) -> Result<T> {
        block_on(self)
    }

    /// The raw connection handle the operation runs on (`None` once it has concluded, or
    /// when it failed before reaching the DM). For diagnostics and tests; the future owns
    /// the handle of a connect.
    pub fn raw_handle(&self) -> Option<SqlHDbc> {
        match &self.state {
            ConnFutState::Op(op) => op.inner.as_ref().map(|i| i.h()),
            ConnFutState::Ready(_) => None,
        }
    }
}

impl<T> ConnOp<T> {
    fn conclude(&mut self, inner: &Arc<ConnInner>, r: Result<SqlReturn>) -> Poll<Result<T>> {
        let r = self.conclude_inner(inner, r);
        if let Poll::Ready(v) = &r {
            self.ticket.finish(v);
        }
        r
    }

    fn conclude_inner(&mut self, inner: &Arc<ConnInner>, r: Result<SqlReturn>) -> Poll<Result<T>> {
        inner.sync_connected();
        inner.dbc_async_off();
        inner.lock_ops().running = false;
        self.state = RawState::Done;
        self.keep = None;
        let (Some(finish), Some(inner)) = (self.finish.take(), self.inner.take()) else {
            return Poll::Ready(Err(Error::Usage(format!("{}: the operation was already concluded", self.function))));
        };
        Poll::Ready(finish(inner, r))
    }

    fn poll_op(&mut self, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let Some(inner) = self.inner.clone() else {
            return Poll::Ready(Err(Error::Usage(format!("{}: polled after completion", self.function))));
        };
        match self.state {
            RawState::Done => return Poll::Ready(Err(Error::Usage(format!("{}: polled after completion", self.function)))),
            RawState::Init => {
                // One connection function at a time (§1.10): settle the leftover of a
                // dropped future first; a live one elsewhere is an error.
                let leftover = {
                    let g = inner.lock_ops();
                    if g.running && g.leftover.is_none() {
                        self.state = RawState::Done;
                        return Poll::Ready(Err(busy_connection()));
                    }
                    g.leftover.is_some()
                };
                if self.ticket.aborted.load(Ordering::Acquire) {
                    self.state = RawState::Done;
                    let r = Err(cancelled(self.function));
                    self.ticket.finish::<T>(&Err(cancelled(self.function)));
                    return Poll::Ready(r);
                }
                if leftover {
                    inner.register(cx);
                    if let ConnCollect::Pending = inner.collect() {
                        return Poll::Pending;
                    }
                    inner.end_leftover();
                }
                {
                    let mut g = inner.lock_ops();
                    if g.running {
                        self.state = RawState::Done;
                        return Poll::Ready(Err(busy_connection()));
                    }
                    g.running = true;
                }
                inner.event.reset();
                let rc = inner.set_dbc_async(true);
                if !rc.is_success() {
                    let r = inner.conn.check("SQLSetConnectAttr", rc);
                    inner.lock_ops().running = false;
                    self.state = RawState::Done;
                    return Poll::Ready(Err(r.err().unwrap_or_else(|| Error::Usage("cannot enable connection-level async".into()))));
                }
                inner.register(cx);
                let Some(start) = self.start.take() else {
                    return self.conclude(&inner, Err(Error::Usage("started twice".into())));
                };
                inner.current.store(self.ticket.id, Ordering::Release);
                self.ticket.launching.store(true, Ordering::Release);
                self.ticket.started.store(true, Ordering::Release);
                let rc = start(inner.h());
                if let Some(st) = inner.status() {
                    self.ticket.gen.store(st.generation, Ordering::Release);
                }
                self.ticket.launching.store(false, Ordering::Release);
                if rc == SqlReturn::SQL_STILL_EXECUTING && self.ticket.aborted.load(Ordering::Acquire) {
                    inner.cancel();
                }
                if rc != SqlReturn::SQL_STILL_EXECUTING {
                    // Ended at once: a DM-detected error (IM002, HY010…).
                    let r = inner.conn.check(self.function, rc);
                    return self.conclude(&inner, r);
                }
                self.state = RawState::Running;
            }
            RawState::Running => inner.register(cx),
        }
        // Running: the waker is registered before looking, so a completion in between wakes us.
        match inner.collect() {
            ConnCollect::Pending => {
                if inner.status().is_some_and(|s| !s.notify && s.phase != OpPhase::Idle) {
                    // Polling mode (no callback will come): look again soon.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            ConnCollect::Done(code) => {
                // The records are read before anything else touches the handle.
                let r = inner.conn.check(self.function, code);
                self.conclude(&inner, r)
            }
            ConnCollect::Lost => {
                let r = Err(Error::Usage(format!("{}: the operation's result was collected elsewhere", self.function)));
                self.conclude(&inner, r)
            }
        }
    }
}

impl<T> Drop for ConnOp<T> {
    fn drop(&mut self) {
        if self.state != RawState::Running {
            return;
        }
        let Some(inner) = self.inner.take() else { return };
        if self.kind == ConnOpKind::Connect {
            inner.cancel();
        }
        inner.lock_ops().leftover = Some(Leftover { kind: self.kind, _keep: self.keep.take() });
        if matches!(self.kind, ConnOpKind::Connect | ConnOpKind::Disconnect) {
            // This future holds the only reference: settle and free the handle off the
            // caller's thread (ConnInner's drop waits, bounded, then frees or leaks).
            // (If the thread cannot start, the closure, and with it `inner`, is dropped
            // here: settled inline.)
            let spawned = std::thread::Builder::new().name("odbc-dm-settle".into()).spawn(move || drop(inner));
            if let Err(e) = spawned {
                log::warn!("cannot start a thread to settle a dropped connection function ({e}); settling inline");
            }
        }
    }
}

// The futures are never pinned in place (state is moved out when ready).
impl<T> Unpin for ConnFuture<T> {}

impl<T> Future for ConnFuture<T> {
    type Output = Result<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        match &mut self.get_mut().state {
            ConnFutState::Ready(v) => {
                Poll::Ready(v.take().unwrap_or_else(|| Err(Error::Usage("ConnFuture polled after completion".into()))))
            }
            ConnFutState::Op(op) => op.poll_op(cx),
        }
    }
}

/// A connection for the asynchronous API: a [`Connection`] shared through an `Arc` (clone
/// it freely; statements keep it alive), with the DM's async emulation switched on (so
/// that statements and connection functions work asynchronously with every driver) and its
/// own [`AsyncEvent`] as `SQL_ATTR_ASYNC_DBC_EVENT`.
///
/// Connection functions ([`connect`](Self::connect), [`commit`](Self::commit),
/// [`rollback`](Self::rollback), [`disconnect`](Self::disconnect)) return a
/// [`ConnFuture`]; one runs at a time per connection (another one meanwhile fails with
/// HY010). `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` is on only while such a future runs, so
/// the synchronous methods of [`connection`](Self::connection) work between them; do not
/// call those while a connection future of the same connection is running.
#[derive(Clone)]
pub struct AsyncConnection {
    inner: Arc<ConnInner>,
}

impl std::fmt::Debug for AsyncConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncConnection").field("handle", &self.inner.h()).finish_non_exhaustive()
    }
}

impl AsyncConnection {
    /// Connects with a connection string (`SQLDriverConnect`, NOPROMPT), asynchronously.
    /// The first driver call (and the driver's loading) happens on the thread that first
    /// polls the future; the rest runs on the DM's dispatcher (native notification) or
    /// its emulation pool.
    pub fn connect(env: &Environment, connection_string: &str) -> ConnFuture<AsyncConnection> {
        let inner = match ConnInner::alloc(env.inner.clone()) {
            Ok(i) => i,
            Err(e) => return ConnFuture::ready(Err(e)),
        };
        let Ok(len) = i16::try_from(connection_string.len()) else {
            return ConnFuture::ready(Err(Error::Usage("connection string longer than 32767 bytes".into())));
        };
        // The input string and the output length live with the operation (§2.9).
        let cs: Box<[u8]> = connection_string.as_bytes().into();
        let out_len: Box<SqlSmallInt> = Box::new(0);
        let pcs = Addr::of(cs.as_ptr());
        let plen = Addr::of(&*out_len as *const SqlSmallInt);
        let start: ConnStart = Box::new(move |h| {
            // SAFETY: our connection id; the string (`len` bytes) and the length slot are
            // heap memory owned by the operation (its `keep`, then the connection's
            // leftover) until the driver is done; no output buffer; NOPROMPT.
            unsafe {
                raw::SQLDriverConnect(
                    h,
                    ptr::null_mut(),
                    pcs.ptr::<u8>(),
                    len,
                    ptr::null_mut(),
                    0,
                    plen.ptr(),
                    DriverCompletion::SQL_DRIVER_NOPROMPT,
                )
            }
        });
        let finish: ConnFinish<AsyncConnection> = Box::new(|inner, r| r.map(|_| AsyncConnection { inner }));
        ConnFuture::op(inner, ConnOpKind::Connect, "SQLDriverConnect", Some(Box::new((cs, out_len))), start, finish)
    }

    /// Blocking twin of [`connect`](Self::connect): a synchronous `SQLDriverConnect`.
    pub fn connect_blocking(env: &Environment, connection_string: &str) -> Result<AsyncConnection> {
        let inner = ConnInner::alloc(env.inner.clone())?;
        inner.conn.driver_connect(connection_string)?;
        Ok(AsyncConnection { inner })
    }

    /// Wraps a connected [`Connection`] (switches the DM's async emulation on for it and
    /// sets its event).
    pub fn from_connection(conn: Connection) -> Result<AsyncConnection> {
        Ok(AsyncConnection { inner: ConnInner::wrap(conn)? })
    }

    /// The underlying connection, for its synchronous methods.
    pub fn connection(&self) -> &Connection {
        // A previous operation could not switch connection-level async off (a statement
        // was executing): try again, so that the synchronous methods run synchronously.
        if self.inner.dbc_async_on.load(Ordering::Acquire) && !self.inner.lock_ops().running {
            self.inner.dbc_async_off();
        }
        &self.inner.conn
    }

    /// The connection's completion event (`SQL_ATTR_ASYNC_DBC_EVENT`), set when a
    /// connection function ends.
    pub fn event(&self) -> &AsyncEvent {
        &self.inner.event
    }

    /// Allocates a statement in notification mode (§2.1).
    pub fn statement(&self) -> Result<AsyncStatement> {
        AsyncStatement::new(self.inner.clone())
    }

    fn end_tran(&self, completion: CompletionType) -> ConnFuture<()> {
        let start: ConnStart = Box::new(move |h| {
            // SAFETY: our connection id.
            unsafe { raw::SQLEndTran(HandleType::SQL_HANDLE_DBC, h, completion) }
        });
        let finish: ConnFinish<()> = Box::new(|_, r| r.map(drop));
        ConnFuture::op(self.inner.clone(), ConnOpKind::EndTran, "SQLEndTran", None, start, finish)
    }

    /// Commits (`SQLEndTran(SQL_COMMIT)`), asynchronously.
    pub fn commit(&self) -> ConnFuture<()> {
        self.end_tran(CompletionType::SQL_COMMIT)
    }

    /// Blocking twin of [`commit`](Self::commit): a synchronous `SQLEndTran`.
    pub fn commit_blocking(&self) -> Result<()> {
        self.inner.exclusive(|c| c.commit())
    }

    /// Rolls back (`SQLEndTran(SQL_ROLLBACK)`), asynchronously.
    pub fn rollback(&self) -> ConnFuture<()> {
        self.end_tran(CompletionType::SQL_ROLLBACK)
    }

    /// Blocking twin of [`rollback`](Self::rollback): a synchronous `SQLEndTran`.
    pub fn rollback_blocking(&self) -> Result<()> {
        self.inner.exclusive(|c| c.rollback())
    }

    /// Disconnects and frees the connection, asynchronously. Fails with
    /// [`Error::Usage`] (without disconnecting) while clones of this connection or its
    /// statements are alive. Whatever the outcome, the connection is then dropped (a
    /// failed disconnect is retried by the drop, with a rollback on 25000).
    pub fn disconnect(mut self) -> ConnFuture<()> {
        if Arc::get_mut(&mut self.inner).is_none() {
            return ConnFuture::ready(Err(Error::Usage("disconnect: other AsyncConnection clones or statements are still alive".into())));
        }
        let start: ConnStart = Box::new(|h| {
            // SAFETY: our connection id; no statement of ours is left.
            unsafe { raw::SQLDisconnect(h) }
        });
        let finish: ConnFinish<()> = Box::new(|inner, r| {
            drop(inner);
            r.map(drop)
        });
        ConnFuture::op(self.inner, ConnOpKind::Disconnect, "SQLDisconnect", None, start, finish)
    }

    /// Blocking twin of [`disconnect`](Self::disconnect): a synchronous `SQLDisconnect`.
    pub fn disconnect_blocking(mut self) -> Result<()> {
        if Arc::get_mut(&mut self.inner).is_none() {
            return Err(Error::Usage("disconnect: other AsyncConnection clones or statements are still alive".into()));
        }
        let r = self.inner.exclusive(|c| {
            // SAFETY: our connection id; no statement of ours is left.
            let rc = unsafe { raw::SQLDisconnect(c.h) };
            c.check("SQLDisconnect", rc).map(drop)
        });
        self.inner.sync_connected();
        r
    }
}

// ---------------------------------------------------------------------------------------
// Shared statement state and AsyncOperation
// ---------------------------------------------------------------------------------------

/// A collected driver operation: its code and records, read right after SQLCompleteAsync.
struct Outcome {
    raw_gen: u64,
    rc: SqlReturn,
    records: Vec<DiagRecord>,
}

/// What the statement, its futures and its [`AsyncOperation`] handles share.
struct Shared {
    h: usize,
    event: AsyncEvent,
    /// Generation of the last driver operation started (0 = none).
    raw_gen: AtomicU64,
    /// The last collected outcome (of generation `raw_gen` or older), kept until the next
    /// operation starts.
    outcome: Mutex<Option<Outcome>>,
    /// The id of the ticket of the statement's latest operation: an [`AsyncOperation`] of
    /// an earlier one is stale and touches nothing.
    current: AtomicU64,
}

enum Collect {
    Done,
    Pending,
    /// Nothing outstanding and nothing collected: the result went elsewhere.
    Lost,
}

impl Shared {
    fn hstmt(&self) -> SqlHStmt {
        self.h as SqlHStmt
    }

    fn lock(&self) -> MutexGuard<'_, Option<Outcome>> {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The DM's view of the statement's operation (raw DM extension).
    fn status(&self) -> Option<ext::OpStatus> {
        ext::op_status(HandleType::SQL_HANDLE_STMT, self.hstmt()).ok()
    }

    fn busy(&self) -> bool {
        self.status().is_some_and(|s| s.phase != OpPhase::Idle)
    }

    fn register(&self, cx: &Context<'_>) {
        let _ = ext::register_waker(HandleType::SQL_HANDLE_STMT, self.hstmt(), cx.waker());
    }

    /// Collects a finished operation into `outcome` (SQLCompleteAsync, then the records).
    fn collect(&self) -> Collect {
        let mut g = self.lock();
        let cur = self.raw_gen.load(Ordering::Acquire);
        if g.as_ref().is_some_and(|o| o.raw_gen == cur) {
            return Collect::Done;
        }
        let mut code: RetCode = 0;
        // SAFETY: our statement id and a valid out slot.
        let rc = unsafe { raw::SQLCompleteAsync(HandleType::SQL_HANDLE_STMT, self.hstmt(), &mut code) };
        match rc {
            SqlReturn::SQL_SUCCESS => {
                let code = SqlReturn(code);
                let records = if carries_records(code) { diag_records(HandleType::SQL_HANDLE_STMT, self.hstmt()) } else { Vec::new() };
                *g = Some(Outcome { raw_gen: cur, rc: code, records });
                Collect::Done
            }
            SqlReturn::SQL_NO_DATA if self.busy() => Collect::Pending,
            _ => Collect::Lost,
        }
    }

    /// The outcome of operation `raw_gen` (a copy: it stays for [`AsyncOperation::abort`]
    /// running on another thread, until the next operation starts).
    fn outcome_of(&self, raw_gen: u64) -> Option<(SqlReturn, Vec<DiagRecord>)> {
        self.lock().as_ref().filter(|o| o.raw_gen == raw_gen).map(|o| (o.rc, o.records.clone()))
    }

    fn cancel(&self) {
        // SAFETY: our statement id; SQLCancel bypasses the call gate (§3.1). The DM drives
        // a cancelled notification-mode operation whose driver never calls back once the
        // statement's cancel grace has passed (§2.14), so nothing else is needed here.
        let _ = unsafe { raw::SQLCancel(self.hstmt()) };
    }

    /// Cancel, a grace period for the driver's callback, then DM polling at once; waits up
    /// to `patience` in all and collects. `true` when nothing is outstanding any more.
    fn cancel_and_collect(&self, patience: Duration) -> bool {
        let gen = self.status().map(|st| st.generation);
        self.cancel();
        self.wait_collect(DRIVE_GRACE.min(patience)) || {
            if let Some(gen) = gen {
                // Only that operation, and only if it is still running and cancelled.
                let _ = ext::drive(HandleType::SQL_HANDLE_STMT, self.hstmt(), gen);
            }
            self.wait_collect(patience.saturating_sub(DRIVE_GRACE))
        }
    }

    /// Waits up to `timeout` for the outstanding operation (if any) to finish, and collects
    /// it. `true` when nothing is outstanding any more.
    fn wait_collect(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.busy() {
                return true;
            }
            if let Collect::Done | Collect::Lost = self.collect() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // The event is set when the operation ends; a short slice also covers a
            // completion that raced with the event's reset.
            self.event.wait_timeout(left.min(Duration::from_millis(20)));
        }
    }

    /// Blocking settle (statement and block-cursor drops): waits for a leftover operation
    /// (bounded), cancelling it when it takes too long, and discards its outcome. `false`
    /// when the driver still has not finished.
    fn settle_blocking(&self) -> bool {
        if !self.busy() {
            self.lock().take();
            return true;
        }
        let ok = self.wait_collect(SETTLE_GRACE) || self.cancel_and_collect(SETTLE_AFTER_CANCEL);
        if ok {
            self.lock().take();
        }
        ok
    }
}

/// How an operation ended, as its status handles report it.
#[derive(Clone, Debug)]
enum Ended {
    Ok,
    Cancelled,
    Failed(ErrorCopy),
}

/// A copy of an [`Error`] (which is not `Clone`): enough to rebuild it.
#[derive(Clone, Debug)]
struct ErrorCopy {
    function: &'static str,
    return_code: i16,
    records: Vec<DiagRecord>,
    text: Option<String>,
}

impl ErrorCopy {
    fn of(e: &Error) -> ErrorCopy {
        match e {
            Error::Odbc { function, return_code, records } => {
                ErrorCopy { function, return_code: *return_code, records: records.clone(), text: None }
            }
            other => ErrorCopy { function: "", return_code: 0, records: Vec::new(), text: Some(other.to_string()) },
        }
    }

    fn error(&self) -> Error {
        match &self.text {
            None => Error::Odbc { function: self.function, return_code: self.return_code, records: self.records.clone() },
            Some(t) => Error::Usage(t.clone()),
        }
    }
}

static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

/// Per-operation status shared by its future and its [`AsyncOperation`] handles.
struct Ticket {
    id: u64,
    started: AtomicBool,
    /// The first driver call of a step is being made (the DM's slot may not show it yet).
    launching: AtomicBool,
    finished: AtomicBool,
    aborted: AtomicBool,
    /// The DM generation of the operation's latest driver operation (`raw::ext`).
    gen: AtomicU64,
    /// How it ended, once its future returned.
    ended: Mutex<Option<Ended>>,
}

impl Default for Ticket {
    fn default() -> Self {
        Ticket {
            id: NEXT_TICKET.fetch_add(1, Ordering::Relaxed),
            started: AtomicBool::new(false),
            launching: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            aborted: AtomicBool::new(false),
            gen: AtomicU64::new(0),
            ended: Mutex::new(None),
        }
    }
}

impl Ticket {
    fn ended(&self) -> Option<Ended> {
        self.ended.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The future returned `r`: recorded for the status handles.
    fn finish<T>(&self, r: &Result<T>) {
        let e = match r {
            Ok(_) => Ended::Ok,
            Err(e) if e.sqlstate() == Some("HY008") => Ended::Cancelled,
            Err(e) => Ended::Failed(ErrorCopy::of(e)),
        };
        *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        self.finished.store(true, Ordering::Release);
    }
}

/// The phase of an asynchronous operation (OLE DB's DBASYNCHPHASE, simplified).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Created but not started: its future has not been polled yet.
    Pending,
    /// A driver call of the operation is outstanding.
    Executing,
    /// The operation's driver calls have ended (its future may still have to be polled
    /// to take the result).
    Completed,
}

/// What [`AsyncOperation::abort`] did.
#[derive(Debug)]
pub enum AbortOutcome {
    /// The cancel took effect: the operation ended with HY008 (its future returns HY008).
    Cancelled,
    /// The operation had not reached the driver: it never will (its future returns HY008).
    NotStarted,
    /// The operation had already completed successfully (or did before the cancel took
    /// effect): its result stands.
    Completed,
    /// The operation had already failed with this error (or failed before the cancel took
    /// effect).
    Failed(Error),
    /// This status handle belongs to an earlier operation whose future was dropped before
    /// it ended; a later operation runs on the statement now and was not touched.
    Stale,
}

impl PartialEq for AbortOutcome {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AbortOutcome::Failed(a), AbortOutcome::Failed(b)) => a.sqlstate() == b.sqlstate(),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl From<Ended> for AbortOutcome {
    fn from(e: Ended) -> Self {
        match e {
            Ended::Ok => AbortOutcome::Completed,
            Ended::Cancelled => AbortOutcome::Cancelled,
            Ended::Failed(c) => AbortOutcome::Failed(c.error()),
        }
    }
}

/// What an [`AsyncOperation`] is the status of.
#[derive(Clone)]
enum OpOf {
    Stmt(Arc<Shared>),
    Conn(Arc<ConnInner>),
    /// A connection future that failed before reaching the DM.
    Nothing,
}

/// A status handle of one asynchronous operation, from [`OpFuture::operation`] or
/// [`ConnFuture::operation`]: its phase, a wait with a timeout, and abort. `Clone + Send +
/// Sync`; usable from any thread while the future runs on another. It stays tied to its
/// own operation: once the statement or connection has moved on, it reports how its
/// operation ended and never touches a later one.
#[derive(Clone)]
pub struct AsyncOperation {
    of: OpOf,
    ticket: Arc<Ticket>,
    function: &'static str,
}

impl std::fmt::Debug for AsyncOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncOperation").field("function", &self.function).field("phase", &self.phase()).finish()
    }
}

impl AsyncOperation {
    fn handle(&self) -> Option<(HandleType, SqlHandle)> {
        match &self.of {
            OpOf::Stmt(sh) => Some((HandleType::SQL_HANDLE_STMT, sh.hstmt())),
            OpOf::Conn(c) => Some((HandleType::SQL_HANDLE_DBC, c.h())),
            OpOf::Nothing => None,
        }
    }

    fn event(&self) -> Option<&AsyncEvent> {
        match &self.of {
            OpOf::Stmt(sh) => Some(&sh.event),
            OpOf::Conn(c) => Some(&c.event),
            OpOf::Nothing => None,
        }
    }

    /// Whether this handle's operation is running at the DM now (generation checked).
    fn running_at_dm(&self) -> bool {
        let Some((ht, h)) = self.handle() else { return false };
        ext::is_running(ht, h, self.ticket.gen.load(Ordering::Acquire)).unwrap_or(false)
    }

    fn is_current(&self) -> bool {
        match &self.of {
            OpOf::Stmt(sh) => sh.current.load(Ordering::Acquire) == self.ticket.id,
            OpOf::Conn(c) => c.current.load(Ordering::Acquire) == self.ticket.id,
            OpOf::Nothing => false,
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        if self.ticket.finished.load(Ordering::Acquire) {
            return Phase::Completed;
        }
        if !self.ticket.started.load(Ordering::Acquire) {
            return Phase::Pending;
        }
        if self.ticket.launching.load(Ordering::Acquire) || self.running_at_dm() {
            Phase::Executing
        } else {
            Phase::Completed
        }
    }

    /// Waits until the operation's driver call ends or `timeout` passes (on the handle's
    /// event, §2.12); `true` if it ended. An operation that has not started yet is waited
    /// for too (its future must be polled by someone for it to start).
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            match self.phase() {
                Phase::Completed => return true,
                Phase::Pending => std::thread::sleep(Duration::from_millis(1)),
                Phase::Executing => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.event() {
                        Some(ev) => {
                            ev.wait_timeout(left.min(Duration::from_millis(20)));
                        }
                        None => std::thread::sleep(left.min(Duration::from_millis(20))),
                    }
                }
            }
            if Instant::now() >= deadline {
                return self.phase() == Phase::Completed;
            }
        }
    }

    /// Aborts the operation: no further driver call of it is started, the outstanding one
    /// is cancelled (`SQLCancel` / `SQLCancelHandle`, §2.14; the DM drives a driver that
    /// never calls back), then waits (bounded) for it to end. Says what happened (see
    /// [`AbortOutcome`]); `Err` (HYT00) only when the cancelled operation did not end
    /// within the patience. The future, if still polled, returns the matching result.
    pub fn abort(&self) -> Result<AbortOutcome> {
        if let Some(e) = self.ticket.ended() {
            return Ok(e.into());
        }
        if !self.is_current() {
            return Ok(AbortOutcome::Stale);
        }
        self.ticket.aborted.store(true, Ordering::Release);
        if !self.ticket.started.load(Ordering::Acquire) {
            // Not at the driver yet: the future fails with HY008 when it tries to start.
            return Ok(AbortOutcome::NotStarted);
        }
        match &self.of {
            OpOf::Stmt(sh) => self.abort_stmt(sh),
            OpOf::Conn(c) => self.abort_conn(c),
            OpOf::Nothing => Ok(AbortOutcome::NotStarted),
        }
    }

    fn timed_out() -> Error {
        Error::Odbc {
            function: "SQLCancel",
            return_code: SqlReturn::SQL_STILL_EXECUTING.0,
            records: vec![DiagRecord {
                state: "HYT00".into(),
                native: 0,
                message: format!("[odbc-dm] the cancelled operation did not end within {ABORT_PATIENCE:?}"),
            }],
        }
    }

    /// Cancels this operation's driver operation (only if it is still the handle's running
    /// one, by generation), then waits (bounded) for it to end: the DM drives a driver that
    /// never calls back. Never touches a later operation of the handle.
    fn abort_stmt(&self, sh: &Shared) -> Result<AbortOutcome> {
        let t = Instant::now();
        // The launching call sees `aborted` and cancels itself (see RawOp::poll).
        while self.ticket.launching.load(Ordering::Acquire) && t.elapsed() < ABORT_PATIENCE {
            std::thread::sleep(Duration::from_millis(1));
        }
        let gen = self.ticket.gen.load(Ordering::Acquire);
        let (ht, h) = (HandleType::SQL_HANDLE_STMT, sh.hstmt());
        if !ext::cancel_generation(ht, h, gen).unwrap_or(false) {
            // Between two driver calls (the next one is refused with HY008), or it just
            // ended: the future reports which.
            return Ok(self.ended_or(AbortOutcome::Cancelled));
        }
        let raw_gen = sh.raw_gen.load(Ordering::Acquire);
        let mut driven = false;
        while t.elapsed() < ABORT_PATIENCE {
            if let Some(e) = self.ticket.ended() {
                return Ok(e.into());
            }
            if !ext::is_running(ht, h, gen).unwrap_or(false) {
                // Ended at the DM. Collect it here unless the future did (or does).
                let ours = sh.status().is_some_and(|st| st.generation == gen && st.phase == OpPhase::Done);
                if ours {
                    let _ = sh.collect();
                }
                return Ok(match sh.outcome_of(raw_gen) {
                    Some((rc, records)) => match check_outcome(self.function, rc, records, &mut Vec::new()) {
                        Ok(_) => AbortOutcome::Completed,
                        Err(e) if e.sqlstate() == Some("HY008") => AbortOutcome::Cancelled,
                        Err(e) => AbortOutcome::Failed(e),
                    },
                    None => self.ended_or(AbortOutcome::Cancelled),
                });
            }
            if !driven && t.elapsed() > DRIVE_GRACE {
                // Do not wait for the statement's whole cancel grace.
                let _ = ext::drive(ht, h, gen);
                driven = true;
            }
            sh.event.wait_timeout(Duration::from_millis(10));
        }
        Err(Self::timed_out())
    }

    fn abort_conn(&self, c: &ConnInner) -> Result<AbortOutcome> {
        let t = Instant::now();
        while self.ticket.launching.load(Ordering::Acquire) && t.elapsed() < ABORT_PATIENCE {
            std::thread::sleep(Duration::from_millis(1));
        }
        let gen = self.ticket.gen.load(Ordering::Acquire);
        let (ht, h) = (HandleType::SQL_HANDLE_DBC, c.h());
        if !self.running_at_dm() {
            return Ok(self.ended_or(AbortOutcome::Cancelled));
        }
        // SQLCancelHandle(DBC), generation-checked; an emulated operation accepts the cancel
        // and runs to completion (decision #24).
        let _ = ext::cancel_generation(ht, h, gen);
        let mut driven = false;
        // The future (polled elsewhere) collects the result.
        while t.elapsed() < ABORT_PATIENCE {
            if let Some(e) = self.ticket.ended() {
                return Ok(e.into());
            }
            if !ext::is_running(ht, h, gen).unwrap_or(false) {
                // Ended at the DM; nobody has polled the future yet: the cancel was accepted.
                return Ok(self.ended_or(AbortOutcome::Cancelled));
            }
            if !driven && t.elapsed() > DRIVE_GRACE {
                let _ = ext::drive(ht, h, gen);
                driven = true;
            }
            c.event.wait_timeout(Duration::from_millis(10));
        }
        Err(Self::timed_out())
    }

    /// How the operation ended if its future recorded it (waits briefly for a future that
    /// is being polled on another thread), else `default`.
    fn ended_or(&self, default: AbortOutcome) -> AbortOutcome {
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(200) {
            if let Some(e) = self.ticket.ended() {
                return e.into();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        default
    }
}

// ---------------------------------------------------------------------------------------
// One driver operation
// ---------------------------------------------------------------------------------------

type StartFn = Box<dyn FnOnce(SqlHStmt) -> SqlReturn + Send>;
type FinishFn<T> = Box<dyn FnOnce(&mut AsyncStatement, SqlReturn, Vec<DiagRecord>) -> Result<T> + Send>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum RawState {
    Init,
    Running,
    Done,
}

/// One asynchronous driver call: settles a leftover operation, starts the call (which
/// returns SQL_STILL_EXECUTING), waits on the slot's waker, collects with SQLCompleteAsync.
/// `keep` and the `finish` closure own the buffers the driver points into.
struct RawOp<'s, T: Send + 'static> {
    st: &'s mut AsyncStatement,
    function: &'static str,
    start: Option<StartFn>,
    keep: Option<Box<dyn Any + Send>>,
    finish: Option<FinishFn<T>>,
    state: RawState,
    raw_gen: u64,
}

impl<'s, T: Send + 'static> RawOp<'s, T> {
    fn finish_now(&mut self, rc: SqlReturn, records: Vec<DiagRecord>) -> Poll<Result<T>> {
        self.state = RawState::Done;
        self.keep = None;
        let f = self.finish.take().expect("finish taken once");
        Poll::Ready(f(self.st, rc, records))
    }
}

impl<T: Send + 'static> Future for RawOp<'_, T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let sh = this.st.shared.clone();
        match this.state {
            RawState::Done => panic!("an odbc-dm operation future was polled after completion"),
            RawState::Init => {
                if this.st.ticket.aborted.load(Ordering::Acquire) {
                    this.state = RawState::Done;
                    return Poll::Ready(Err(cancelled(this.function)));
                }
                // Settle an operation left by a dropped future (it was cancelled).
                if sh.busy() {
                    sh.register(cx);
                    if let Collect::Pending = sh.collect() {
                        return Poll::Pending;
                    }
                }
                sh.lock().take();
                sh.event.reset();
                this.raw_gen = sh.raw_gen.fetch_add(1, Ordering::AcqRel) + 1;
                this.st.ticket.launching.store(true, Ordering::Release);
                this.st.ticket.started.store(true, Ordering::Release);
                sh.register(cx);
                let start = this.start.take().expect("started once");
                let rc = start(sh.hstmt());
                if let Some(st) = sh.status() {
                    this.st.ticket.gen.store(st.generation, Ordering::Release);
                }
                this.st.ticket.launching.store(false, Ordering::Release);
                if rc == SqlReturn::SQL_STILL_EXECUTING && this.st.ticket.aborted.load(Ordering::Acquire) {
                    // abort() came while the call was being made (it saw nothing to cancel
                    // yet): cancel now; the operation ends with HY008 as usual.
                    sh.cancel();
                }
                if rc != SqlReturn::SQL_STILL_EXECUTING {
                    // Ended without going asynchronous: a DM-detected error (HY010, S1118…)
                    // or a function that never runs asynchronously.
                    let records = if carries_records(rc) { diag_records(HandleType::SQL_HANDLE_STMT, sh.hstmt()) } else { Vec::new() };
                    return this.finish_now(rc, records);
                }
                this.state = RawState::Running;
            }
            RawState::Running => sh.register(cx),
        }
        // Running: the waker is registered before looking, so a completion in between wakes us.
        match sh.collect() {
            Collect::Pending => Poll::Pending,
            Collect::Done => match sh.outcome_of(this.raw_gen) {
                Some((rc, records)) => this.finish_now(rc, records),
                None => {
                    this.state = RawState::Done;
                    Poll::Ready(Err(Error::Usage(format!("{}: the operation's result was collected elsewhere", this.function))))
                }
            },
            Collect::Lost => {
                this.state = RawState::Done;
                Poll::Ready(Err(Error::Usage(format!("{}: the operation's result was collected elsewhere", this.function))))
            }
        }
    }
}

impl<T: Send + 'static> Drop for RawOp<'_, T> {
    fn drop(&mut self) {
        if self.state != RawState::Running {
            return;
        }
        let sh = &self.st.shared;
        if ext::is_running(HandleType::SQL_HANDLE_STMT, sh.hstmt(), self.st.ticket.gen.load(Ordering::Acquire)).unwrap_or(false) {
            // Mid-flight: cancel (the DM drives a driver that never calls back once the
            // cancel grace has passed, §2.14); the buffers go to the DM, which drops them
            // only once the driver is done with them (§2.9). The next operation collects
            // this one as soon as it ends: no fixed grace.
            sh.cancel();
            let mut keep: Vec<Box<dyn Any + Send>> = Vec::new();
            if let Some(k) = self.keep.take() {
                keep.push(k);
            }
            if let Some(f) = self.finish.take() {
                keep.push(Box::new(f));
            }
            for k in keep {
                if let Err(k) = ext::keep_alive(HandleType::SQL_HANDLE_STMT, sh.hstmt(), k) {
                    // The operation ended meanwhile (or the handle is gone): drop it.
                    drop(k);
                }
            }
        }
    }
}

/// Pointer-sized value carried into a start closure (the addresses of heap buffers owned by
/// the operation; they do not move when their owner does).
#[derive(Clone, Copy)]
struct Addr(usize);

impl Addr {
    fn of<T: ?Sized>(p: *const T) -> Addr {
        Addr(p as *const u8 as usize)
    }
    fn ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }
}

// ---------------------------------------------------------------------------------------
// The public future
// ---------------------------------------------------------------------------------------

/// The future of an asynchronous statement operation (execute, prepare, fetch, get-data,
/// more-results…). `Send`; borrows its statement. [`operation`](Self::operation) gives
/// a status handle; dropping the future before it completes cancels the operation (see
/// the documentation of `src/api/asynchronous.rs`).
pub struct OpFuture<'s, T> {
    fut: Pin<Box<dyn Future<Output = Result<T>> + Send + 's>>,
    op: AsyncOperation,
}

impl<T> OpFuture<'_, T> {
    /// The status handle of this operation.
    pub fn operation(&self) -> AsyncOperation {
        self.op.clone()
    }
}

impl<T> Future for OpFuture<'_, T> {
    type Output = Result<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let r = this.fut.as_mut().poll(cx);
        if let Poll::Ready(v) = &r {
            this.op.ticket.finish(v);
        }
        r
    }
}

impl<T> OpFuture<'_, T> {
    /// Blocking twin: waits for the operation on the current thread.
    pub fn wait(self) -> Result<T> {
        block_on(self)
    }
}

// ---------------------------------------------------------------------------------------
// Statement
// ---------------------------------------------------------------------------------------

/// A statement in notification mode, for the asynchronous API. Owns its handle, its
/// [`AsyncEvent`] and a reference to its connection. `Send`, not `Sync`.
///
/// Each `async` method returns an [`OpFuture`]; each has a `_blocking` twin.
pub struct AsyncStatement {
    shared: Arc<Shared>,
    enc: TextEncoding,
    ticket: Arc<Ticket>,
    warnings: Vec<DiagRecord>,
    /// Parameter buffers bound to the statement (`execute_with`), owned until the next
    /// binding or the handle is freed.
    params: Vec<BoundParam>,
    /// The columns of the current row read by `get_data` (cleared by every other operation).
    read: ReadColumns,
    /// A data-at-execution sequence (§4.5, S8–S10) was left unfinished by a dropped future;
    /// the next operation ends it with SQLCancel (§4.8) first.
    need_data: bool,
    conn: Arc<ConnInner>,
}

// `Send` follows from the fields: the handle is a DM id stored as a usize.

impl Drop for AsyncStatement {
    fn drop(&mut self) {
        if !self.shared.settle_blocking() {
            log::error!("an asynchronous ODBC operation did not end; its statement handle is leaked");
            // The driver may still read the bound parameters: leak them with the handle.
            std::mem::forget(std::mem::take(&mut self.params));
            return;
        }
        // SAFETY: our statement id; nothing outstanding.
        let rc = unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_STMT, self.shared.hstmt()) };
        if !rc.is_success() {
            log::warn!("freeing an ODBC statement failed: {}", Diag::stmt(self.shared.hstmt()).error("SQLFreeHandle", rc));
        }
    }
}

impl AsyncStatement {
    fn new(conn: Arc<ConnInner>) -> Result<AsyncStatement> {
        let mut h: SqlHandle = ptr::null_mut();
        // SAFETY: our connection id and a valid out slot.
        let rc = unsafe { raw::SQLAllocHandle(HandleType::SQL_HANDLE_STMT, conn.h(), &mut h) };
        conn.conn.check("SQLAllocHandle", rc)?;
        let event = match AsyncEvent::new() {
            Ok(e) => e,
            Err(e) => {
                // SAFETY: the statement just allocated.
                unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_STMT, h) };
                return Err(Error::Usage(format!("cannot create the completion event: {e}")));
            }
        };
        let shared =
            Arc::new(Shared { h: h as usize, event, raw_gen: AtomicU64::new(0), outcome: Mutex::new(None), current: AtomicU64::new(0) });
        let st = AsyncStatement {
            shared,
            enc: conn.conn.text_encoding(),
            ticket: Arc::default(),
            warnings: Vec::new(),
            params: Vec::new(),
            read: ReadColumns::default(),
            need_data: false,
            conn,
        };
        // SAFETY: our statement id; integer attribute in the pointer.
        let rc = unsafe { raw::SQLSetStmtAttr(h, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON as SqlPointer, SQL_IS_UINTEGER) };
        Diag::stmt(h).check("SQLSetStmtAttr", rc, &mut Vec::new())?;
        // SAFETY: our statement id; the event's attribute value (the DM keeps its own
        // reference to the event, §7.7).
        let rc = unsafe { raw::SQLSetStmtAttr(h, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, st.shared.event.as_attr(), SQL_IS_POINTER) };
        Diag::stmt(h).check("SQLSetStmtAttr", rc, &mut Vec::new())?;
        Ok(st)
    }

    /// The raw statement handle (a DM handle usable with [`crate::raw`]); owned by `self`.
    pub fn as_raw(&self) -> SqlHStmt {
        self.shared.hstmt()
    }

    /// Whether the DM runs this statement's operations on its emulation pool (the driver
    /// lacks native notification) rather than through the driver's notification.
    pub fn is_emulated(&self) -> bool {
        ext::is_emulated(self.shared.hstmt()).unwrap_or(false)
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.conn.conn
    }

    /// The SUCCESS_WITH_INFO records gathered so far.
    pub fn warnings(&self) -> &[DiagRecord] {
        &self.warnings
    }

    /// Returns and clears the gathered warnings.
    pub fn take_warnings(&mut self) -> Vec<DiagRecord> {
        std::mem::take(&mut self.warnings)
    }

    /// One driver call as a future.
    fn raw<T: Send + 'static>(
        &mut self,
        function: &'static str,
        keep: Option<Box<dyn Any + Send>>,
        start: StartFn,
        finish: FinishFn<T>,
    ) -> RawOp<'_, T> {
        RawOp { st: self, function, start: Some(start), keep, finish: Some(finish), state: RawState::Init, raw_gen: 0 }
    }

    /// Wraps an operation made of driver calls in an [`OpFuture`] with a fresh ticket.
    fn op<'s, T: 's, F>(&'s mut self, function: &'static str, body: impl FnOnce(&'s mut AsyncStatement) -> F + Send + 's) -> OpFuture<'s, T>
    where
        F: Future<Output = Result<T>> + Send + 's,
    {
        let ticket = Arc::new(Ticket::default());
        self.ticket = ticket.clone();
        if function != "SQLGetData" {
            // Anything but SQLGetData may move or close the cursor: a new row.
            self.read.clear();
        }
        self.shared.current.store(ticket.id, Ordering::Release);
        let op = AsyncOperation { of: OpOf::Stmt(self.shared.clone()), ticket, function };
        if std::mem::take(&mut self.need_data) {
            // A dropped future left a data-at-execution sequence (S8–S10): once its last
            // operation is settled, end the sequence with SQLCancel (§4.8), then run.
            let fut = async move {
                self.settled().await?;
                cancel_need_data(self.shared.hstmt());
                body(self).await
            };
            return OpFuture { fut: Box::pin(fut), op };
        }
        OpFuture { fut: Box::pin(body(self)), op }
    }

    /// The blocking counterpart of the first step of [`op`](Self::op) for the methods that
    /// do not run as operations: settles a leftover operation (bounded) and ends a
    /// data-at-execution sequence a dropped future left.
    fn settle_leftover_blocking(&mut self) -> Result<()> {
        if !self.shared.settle_blocking() {
            return Err(Error::Usage("an earlier operation on this statement did not end".into()));
        }
        if std::mem::take(&mut self.need_data) {
            cancel_need_data(self.shared.hstmt());
        }
        Ok(())
    }

    /// A status handle of the statement's latest operation.
    pub fn operation(&self) -> AsyncOperation {
        AsyncOperation { of: OpOf::Stmt(self.shared.clone()), ticket: self.ticket.clone(), function: "SQLCompleteAsync" }
    }

    fn text_call(
        &mut self,
        function: &'static str,
        sql: Vec<u8>,
        call: unsafe extern "C" fn(SqlHStmt, *const SqlChar, SqlInteger) -> SqlReturn,
        close_first: bool,
    ) -> Result<RawOp<'_, SqlReturn>> {
        let len = i32::try_from(sql.len()).map_err(|_| Error::Usage("statement text longer than i32::MAX bytes".into()))?;
        let text = sql.into_boxed_slice();
        let p = Addr::of(text.as_ptr());
        let start: StartFn = Box::new(move |h| {
            if close_first {
                // SAFETY: our statement id; not an asynchronous function.
                unsafe { raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE) };
            }
            // SAFETY: our statement id; the text is owned by the operation (its `keep`,
            // then the slot) until the driver is done with it.
            unsafe { call(h, p.ptr::<u8>(), len) }
        });
        let finish: FinishFn<SqlReturn> = Box::new(move |st, rc, recs| check_outcome(function, rc, recs, &mut st.warnings));
        Ok(self.raw(function, Some(Box::new(text)), start, finish))
    }

    fn num_result_cols_op(&mut self) -> RawOp<'_, i16> {
        let out = Box::new(0i16);
        let p = Addr::of(&*out as *const i16);
        let start: StartFn = Box::new(move |h| {
            // SAFETY: our statement id; `out` is heap memory owned by `finish`.
            unsafe { raw::SQLNumResultCols(h, p.ptr()) }
        });
        let finish: FinishFn<i16> = Box::new(move |st, rc, recs| {
            check_outcome("SQLNumResultCols", rc, recs, &mut st.warnings)?;
            Ok(*out)
        });
        self.raw("SQLNumResultCols", None, start, finish)
    }

    fn simple_op(&mut self, function: &'static str, call: unsafe extern "C" fn(SqlHStmt) -> SqlReturn) -> RawOp<'_, SqlReturn> {
        let start: StartFn = Box::new(move |h| {
            // SAFETY: our statement id.
            unsafe { call(h) }
        });
        let finish: FinishFn<SqlReturn> = Box::new(move |st, rc, recs| check_outcome(function, rc, recs, &mut st.warnings));
        self.raw(function, None, start, finish)
    }

    /// Executes `sql` directly (`SQLExecDirect`; an open cursor is closed first, and
    /// parameters bound by an earlier [`execute_with`](Self::execute_with) are reset);
    /// `true` when a result set is open (then `SQLNumResultCols` > 0).
    pub fn execute(&mut self, sql: impl Into<String>) -> OpFuture<'_, bool> {
        self.execute_with(sql, ())
    }

    /// Executes `sql` directly (`SQLExecDirect`) with `params` bound to its `?` markers;
    /// `true` when a result set is open.
    ///
    /// `params` is any [`Params`] (a tuple, an array, a `Vec<ParamValue>`) of `i32`,
    /// `i64`, `f64`, `bool`, `&str`/`String`, `&[u8]`/`Vec<u8>` and `Option`s of those.
    /// The values are copied into heap buffers owned by the statement and bound with
    /// `SQLBindParameter`; they stay bound (and alive) until the statement's next binding
    /// or its drop, so a dropped future or a driver that reads parameters late never sees
    /// freed memory. Data-at-execution values ([`LongText`](super::LongText),
    /// [`Streamed`](super::Streamed)) are sent in chunks after the execution asks for them
    /// (`SQLParamData` / `SQLPutData`, each an asynchronous operation owning its chunk).
    pub fn execute_with(&mut self, sql: impl Into<String>, params: impl Params) -> OpFuture<'_, bool> {
        let sql: String = sql.into();
        let values = params.into_values();
        self.op("SQLExecDirect", move |st| async move {
            st.bind_owned(values).await?;
            let rc = st.text_call("SQLExecDirect", sql.into_bytes(), raw::SQLExecDirect, true)?.await?;
            let rc = st.data_at_exec(rc).await?;
            if rc == SqlReturn::SQL_NO_DATA {
                return Ok(false);
            }
            Ok(st.num_result_cols_op().await? > 0)
        })
    }

    /// Blocking twin of [`execute_with`](Self::execute_with).
    pub fn execute_with_blocking(&mut self, sql: impl Into<String>, params: impl Params) -> Result<bool> {
        self.execute_with(sql, params).wait()
    }

    /// Waits for an operation left by a dropped future and collects it (as the first step
    /// of every [`RawOp`] does), so that synchronous calls can follow.
    fn settled(&mut self) -> impl Future<Output = Result<()>> + Send + '_ {
        let sh = self.shared.clone();
        let ticket = self.ticket.clone();
        std::future::poll_fn(move |cx| {
            if ticket.aborted.load(Ordering::Acquire) {
                return Poll::Ready(Err(cancelled("SQLBindParameter")));
            }
            if sh.busy() {
                sh.register(cx);
                if let Collect::Pending = sh.collect() {
                    return Poll::Pending;
                }
            }
            sh.lock().take();
            Poll::Ready(Ok(()))
        })
    }

    /// Replaces the bound parameters with `values` (copied into statement-owned heap
    /// buffers); nothing to do when neither old nor new ones exist.
    async fn bind_owned(&mut self, values: Vec<ParamValue>) -> Result<()> {
        if values.is_empty() && self.params.is_empty() {
            return Ok(());
        }
        self.settled().await?;
        let h = self.shared.hstmt();
        // SAFETY: our statement id; nothing outstanding (settled). Neither is asynchronous.
        unsafe {
            raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE);
            raw::SQLFreeStmt(h, FreeStmtOption::SQL_RESET_PARAMS);
        }
        // The old buffers are unbound: they may go now.
        let enc = self.enc;
        self.params = values.into_iter().map(|v| to_bound(v, enc)).collect();
        bind_bound_params(h, &mut self.params, enc, &mut self.warnings)
    }

    /// Blocking twin of [`execute`](Self::execute).
    pub fn execute_blocking(&mut self, sql: impl Into<String>) -> Result<bool> {
        self.execute(sql).wait()
    }

    /// Prepares `sql` (`SQLPrepare`).
    pub fn prepare(&mut self, sql: impl Into<String>) -> OpFuture<'_, ()> {
        let sql: String = sql.into();
        self.op("SQLPrepare", move |st| async move {
            st.text_call("SQLPrepare", sql.into_bytes(), raw::SQLPrepare, true)?.await?;
            Ok(())
        })
    }

    /// Blocking twin of [`prepare`](Self::prepare).
    pub fn prepare_blocking(&mut self, sql: impl Into<String>) -> Result<()> {
        self.prepare(sql).wait()
    }

    /// Executes the prepared statement (`SQLExecute`; an open cursor is closed first) with
    /// the parameters last bound, if any; `true` when a result set is open.
    pub fn execute_prepared(&mut self) -> OpFuture<'_, bool> {
        self.op("SQLExecute", move |st| async move { st.execute_prepared_inner().await })
    }

    /// Blocking twin of [`execute_prepared`](Self::execute_prepared).
    pub fn execute_prepared_blocking(&mut self) -> Result<bool> {
        self.execute_prepared().wait()
    }

    /// Executes the prepared statement with `params` bound to its markers (`SQLExecute`;
    /// see [`execute_with`](Self::execute_with) for the parameter types and their
    /// ownership); `true` when a result set is open.
    pub fn execute_prepared_with(&mut self, params: impl Params) -> OpFuture<'_, bool> {
        let values = params.into_values();
        self.op("SQLExecute", move |st| async move {
            st.bind_owned(values).await?;
            st.execute_prepared_inner().await
        })
    }

    /// Blocking twin of [`execute_prepared_with`](Self::execute_prepared_with).
    pub fn execute_prepared_with_blocking(&mut self, params: impl Params) -> Result<bool> {
        self.execute_prepared_with(params).wait()
    }

    async fn execute_prepared_inner(&mut self) -> Result<bool> {
        let start: StartFn = Box::new(|h| {
            // SAFETY: our statement id; SQLFreeStmt is not asynchronous.
            unsafe { raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE) };
            // SAFETY: our statement id.
            unsafe { raw::SQLExecute(h) }
        });
        let finish: FinishFn<SqlReturn> = Box::new(|st, rc, recs| check_outcome("SQLExecute", rc, recs, &mut st.warnings));
        let rc = self.raw("SQLExecute", None, start, finish).await?;
        let rc = self.data_at_exec(rc).await?;
        if rc == SqlReturn::SQL_NO_DATA {
            return Ok(false);
        }
        Ok(self.num_result_cols_op().await? > 0)
    }

    catalog_methods!(
        OpFuture<'_, bool>,
        catalog,
        "as an operation that owns copies of the arguments; `true` when the statement is left with the catalog's result set open",
        tables,
        columns,
        primary_keys
    );
    catalog_methods!(Result<bool>, catalog_blocking, "(blocking twin)", tables_blocking, columns_blocking, primary_keys_blocking);

    fn catalog(&mut self, function: &'static str, args: Result<CatalogArgs>) -> OpFuture<'_, bool> {
        self.op(function, move |st| async move { st.catalog_call(args?).await })
    }

    fn catalog_blocking(&mut self, function: &'static str, args: Result<CatalogArgs>) -> Result<bool> {
        self.catalog(function, args).wait()
    }

    /// A catalog function; the arguments are owned by the operation.
    async fn catalog_call(&mut self, args: CatalogArgs) -> Result<bool> {
        let function = args.function();
        let args = Box::new(args);
        let p = Addr::of(&*args as *const CatalogArgs);
        let start: StartFn = Box::new(move |h| {
            // SAFETY: our statement id; the arguments are heap memory owned by the operation
            // (its `keep`, then the slot) until the driver is done with them.
            unsafe { (*p.ptr::<CatalogArgs>()).call(h) }
        });
        let finish: FinishFn<SqlReturn> = Box::new(move |st, rc, recs| check_outcome(function, rc, recs, &mut st.warnings));
        let rc = self.raw(function, Some(args), start, finish).await?;
        if rc == SqlReturn::SQL_NO_DATA {
            return Ok(false);
        }
        Ok(self.num_result_cols_op().await? > 0)
    }

    /// The number of result columns (`SQLNumResultCols`).
    pub fn column_count(&mut self) -> OpFuture<'_, u16> {
        self.op("SQLNumResultCols", |st| async move { Ok(st.num_result_cols_op().await?.max(0) as u16) })
    }

    /// Blocking twin of [`column_count`](Self::column_count).
    pub fn column_count_blocking(&mut self) -> Result<u16> {
        self.column_count().wait()
    }

    /// Fetches the next row (`SQLFetch`); `false` at the end of the result set.
    pub fn fetch(&mut self) -> OpFuture<'_, bool> {
        self.op("SQLFetch", |st| async move { Ok(st.simple_op("SQLFetch", raw::SQLFetch).await? != SqlReturn::SQL_NO_DATA) })
    }

    /// Blocking twin of [`fetch`](Self::fetch).
    pub fn fetch_blocking(&mut self) -> Result<bool> {
        self.fetch().wait()
    }

    /// Moves to the next result set (`SQLMoreResults`), skipping results without columns;
    /// `false` when there is none.
    pub fn more_results(&mut self) -> OpFuture<'_, bool> {
        self.op("SQLMoreResults", |st| async move {
            loop {
                if st.simple_op("SQLMoreResults", raw::SQLMoreResults).await? == SqlReturn::SQL_NO_DATA {
                    return Ok(false);
                }
                if st.num_result_cols_op().await? > 0 {
                    return Ok(true);
                }
            }
        })
    }

    /// Blocking twin of [`more_results`](Self::more_results).
    pub fn more_results_blocking(&mut self) -> Result<bool> {
        self.more_results().wait()
    }

    /// Closes the open cursor (`SQLFreeStmt(SQL_CLOSE)`), after waiting (bounded) for a
    /// leftover operation of a dropped future.
    pub fn close_cursor(&mut self) -> Result<()> {
        self.settle_leftover_blocking()?;
        // SAFETY: our statement id.
        let rc = unsafe { raw::SQLFreeStmt(self.shared.hstmt(), FreeStmtOption::SQL_CLOSE) };
        Diag::stmt(self.shared.hstmt()).check("SQLFreeStmt", rc, &mut self.warnings).map(drop)
    }

    /// Reads column `col` (1-based) of the current row (`SQLGetData`, in pieces for long
    /// values; see [`FromColumn`] for the C type of each Rust type). A NULL is an
    /// [`Error::UnexpectedNull`] unless `T` is an `Option`; a column read twice is an
    /// [`Error::Usage`] ("already read"), while `SQL_NO_DATA` for a column not read yet (the
    /// cursor closed underneath) is an [`Error::Odbc`] with return code `SQL_NO_DATA`.
    pub fn get_data<T: FromColumn>(&mut self, col: u16) -> OpFuture<'_, T> {
        self.op("SQLGetData", move |st| async move {
            if col == 0 {
                return Err(Error::Usage("columns are numbered from 1 (bookmarks are not supported)".into()));
            }
            let mut g = GetData::new(col, T::KIND, st.enc, &mut st.read)?;
            loop {
                let (piece, rc, records) = st.get_data_piece(&mut g).await?;
                if let Some(v) = g.absorb(*piece, rc, records, &mut st.read, &mut st.warnings)? {
                    return T::from_value(v, col);
                }
            }
        })
    }

    /// Blocking twin of [`get_data`](Self::get_data).
    pub fn get_data_blocking<T: FromColumn>(&mut self, col: u16) -> Result<T> {
        self.get_data(col).wait()
    }

    /// One SQLGetData call of `g` into a piece owned by the operation; the piece comes back
    /// with the return code and the records (for `SQL_NO_DATA`, those the handle holds).
    async fn get_data_piece(&mut self, g: &mut GetData) -> Result<(Box<Piece>, SqlReturn, Vec<DiagRecord>)> {
        let mut piece = Box::new(g.piece());
        let (pv, len, pi) = piece.args();
        let (pv, pi, col, ctype) = (Addr::of(pv as *const u8), Addr::of(pi as *const SqlLen), g.col(), g.c_type());
        let start: StartFn = Box::new(move |h| {
            // SAFETY: our statement id; `len` bytes and an indicator in the boxed piece,
            // owned by the operation (`finish`, then the slot) until the driver is done.
            unsafe { raw::SQLGetData(h, col, ctype, pv.ptr(), len, pi.ptr()) }
        });
        let finish: FinishFn<(Box<Piece>, SqlReturn, Vec<DiagRecord>)> = Box::new(move |st, rc, mut recs| {
            if rc == SqlReturn::SQL_NO_DATA {
                recs = diag_records(HandleType::SQL_HANDLE_STMT, st.shared.hstmt());
            }
            Ok((piece, rc, recs))
        });
        self.raw("SQLGetData", None, start, finish).await
    }

    /// Drives data-at-execution after an execution returned `rc`: while it is
    /// SQL_NEED_DATA, `SQLParamData` names a parameter and its chunks ([`AtExec`], shared
    /// with the synchronous API) go out with `SQLPutData`, each call an asynchronous
    /// operation that owns its chunk. The final `SQLParamData`'s code is the execution's.
    async fn data_at_exec(&mut self, mut rc: SqlReturn) -> Result<SqlReturn> {
        // Stays set if this future is dropped before the sequence ends.
        self.need_data = rc == SqlReturn::SQL_NEED_DATA;
        while rc == SqlReturn::SQL_NEED_DATA {
            let (next, token) = match self.param_data_op().await {
                Ok(v) => v,
                Err(e) => {
                    // The sequence ended with the error (the statement left S8–S10).
                    self.need_data = false;
                    return Err(e);
                }
            };
            rc = next;
            if rc != SqlReturn::SQL_NEED_DATA {
                break;
            }
            if let Err(e) = self.send_at_exec(token).await {
                self.need_data = false;
                cancel_need_data(self.shared.hstmt());
                return Err(e);
            }
        }
        self.need_data = false;
        Ok(rc)
    }

    async fn send_at_exec(&mut self, token: usize) -> Result<()> {
        let mut at = AtExec::new(&self.params, token as SqlPointer)?;
        loop {
            let chunk: Box<[u8]> = match at.next_chunk(&mut self.params)? {
                Some(c) => c.into(),
                None => return Ok(()),
            };
            let (p, len) = (Addr::of(chunk.as_ptr()), chunk.len() as SqlLen);
            let start: StartFn = Box::new(move |h| {
                // SAFETY: our statement id; `len` bytes of the chunk owned by the operation
                // (its `keep`, then the slot) until the driver is done with them.
                unsafe { raw::SQLPutData(h, p.ptr(), len) }
            });
            let finish: FinishFn<SqlReturn> = Box::new(move |st, rc, recs| check_outcome("SQLPutData", rc, recs, &mut st.warnings));
            self.raw("SQLPutData", Some(Box::new(chunk)), start, finish).await?;
        }
    }

    /// `SQLParamData`: its code and the token of the parameter it asks for.
    async fn param_data_op(&mut self) -> Result<(SqlReturn, usize)> {
        // A pointer-sized slot (a `usize`, so the closure is `Send`).
        let out: Box<usize> = Box::new(0);
        let p = Addr::of(&*out as *const usize);
        let start: StartFn = Box::new(move |h| {
            // SAFETY: our statement id; the out slot is pointer-sized heap memory owned by
            // `finish`.
            unsafe { raw::SQLParamData(h, p.ptr::<SqlPointer>()) }
        });
        let finish: FinishFn<(SqlReturn, usize)> = Box::new(move |st, rc, recs| {
            let rc = check_outcome("SQLParamData", rc, recs, &mut st.warnings)?;
            Ok((rc, *out))
        });
        self.raw("SQLParamData", None, start, finish).await
    }

    /// Switches to block fetching: binds one heap buffer per entry of `columns` to columns
    /// 1, 2, … and fetches up to `rowset_size` rows per [`AsyncBlockCursor::fetch`] (less
    /// when the driver refuses arrays). Waits (bounded) for a leftover operation first.
    pub fn bind_block(&mut self, rowset_size: usize, columns: &[BufferDesc]) -> Result<AsyncBlockCursor<'_>> {
        AsyncBlockCursor::new(self, rowset_size, columns)
    }
}

// ---------------------------------------------------------------------------------------
// Block cursor
// ---------------------------------------------------------------------------------------

/// Block fetching on an [`AsyncStatement`]: column-wise row arrays bound to the statement,
/// an asynchronous driver of [`RowSet`] (which it dereferences to: read the last rowset
/// with [`i64`](RowSet::i64), [`text`](RowSet::text), … as on a [`BoundCursor`](super::BoundCursor)).
///
/// The [`RowSet`] is a heap allocation owned by the cursor. It is never freed while a
/// driver call is in flight: dropping the cursor first waits (bounded, cancelling if
/// needed) for an outstanding fetch, then unbinds, then frees it; if the driver never ends
/// the fetch, it is leaked rather than freed.
pub struct AsyncBlockCursor<'s> {
    st: &'s mut AsyncStatement,
    rowset: Option<Box<RowSet>>,
}

impl<'s> AsyncBlockCursor<'s> {
    fn new(st: &'s mut AsyncStatement, rowset_size: usize, columns: &[BufferDesc]) -> Result<Self> {
        st.settle_leftover_blocking()?;
        let rowset = RowSet::bind(st.shared.hstmt(), rowset_size, columns, st.enc, &mut st.warnings)?;
        Ok(AsyncBlockCursor { st, rowset: Some(rowset) })
    }

    /// Fetches the next rowset (`SQLFetch`) into the bound buffers; the number of rows
    /// (0 at the end of the result set).
    pub fn fetch(&mut self) -> OpFuture<'_, usize> {
        let rowset = self.rowset.as_deref_mut().expect("a block cursor holds its rowset until dropped");
        rowset.start_fetch();
        self.st.op("SQLFetch", move |st| async move {
            let rc = st.simple_op("SQLFetch", raw::SQLFetch).await?;
            Ok(rowset.end_fetch(rc))
        })
    }

    /// Blocking twin of [`fetch`](Self::fetch).
    pub fn fetch_blocking(&mut self) -> Result<usize> {
        self.fetch().wait()
    }

    /// Rows in the last fetched rowset (as [`RowSet::len`]).
    pub fn rows(&self) -> usize {
        self.len()
    }
}

impl std::ops::Deref for AsyncBlockCursor<'_> {
    type Target = RowSet;
    fn deref(&self) -> &RowSet {
        self.rowset.as_deref().expect("a block cursor holds its rowset until dropped")
    }
}

impl Drop for AsyncBlockCursor<'_> {
    fn drop(&mut self) {
        let Some(rowset) = self.rowset.take() else { return };
        if !self.st.shared.settle_blocking() {
            // The driver may still write into the buffers: never free them.
            log::error!("an asynchronous fetch did not end; its row buffers are leaked");
            Box::leak(rowset);
            return;
        }
        rowset.unbind(self.st.shared.hstmt());
    }
}

// ---------------------------------------------------------------------------------------
// Static assertions: every future is Send; the connection futures are 'static.
// ---------------------------------------------------------------------------------------

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
    fn sync<T: Send + Sync + 'static>() {}
    sync::<AsyncOperation>();
    sync::<AsyncConnection>();
}
