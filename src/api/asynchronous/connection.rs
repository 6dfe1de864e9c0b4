//! The connection of the asynchronous API: [`AsyncConnection`] and what it shares with its
//! statements and connection futures (`ConnInner`).

use super::*;

/// Which connection function an operation runs (what its completion does to the
/// connection's state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ConnOpKind {
    Connect,
    EndTran,
    Disconnect,
}

/// A connection operation whose future was dropped mid-flight: collected (and its buffers
/// freed) by the next connection operation or the connection's drop.
pub(super) struct Leftover {
    pub(super) kind: ConnOpKind,
    /// Buffers the driver may still use: dropped (or leaked) with the leftover.
    pub(super) _keep: Option<Box<dyn Any + Send>>,
}

/// Connection-operation bookkeeping: one at a time per connection (§1.10).
#[derive(Default)]
pub(super) struct ConnOps {
    pub(super) running: bool,
    pub(super) leftover: Option<Leftover>,
}

pub(super) enum ConnCollect {
    Done(SqlReturn),
    Pending,
    Lost,
}

/// What an [`AsyncConnection`], its statements and its connection futures share: the
/// connection and the DM's connection object (for the async slot's waker); no event
/// (decision #108).
pub(super) struct ConnInner {
    /// Dropped by hand in `Drop` (leaked when an operation never ends).
    pub(super) conn: std::mem::ManuallyDrop<Connection>,
    pub(super) ops: Mutex<ConnOps>,
    /// `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` may be on (it is only on during an operation;
    /// turning it off fails with HY010 while a statement of the connection executes).
    pub(super) dbc_async_on: AtomicBool,
    /// The ticket id of the latest connection operation (see [`AsyncOperation`]).
    pub(super) current: AtomicU64,
    /// The handle was handed to the DM ([`hand_over`](Self::hand_over)): never touched
    /// again from here.
    pub(super) handed_over: AtomicBool,
}

impl ConnInner {
    /// Allocates the connection with the DM's emulation on and the connection's event set.
    pub(super) fn alloc(env: Arc<EnvHandle>) -> Result<Arc<ConnInner>> {
        let conn = Connection::alloc(env)?;
        Self::wrap(conn)
    }

    pub(super) fn wrap(conn: Connection) -> Result<Arc<ConnInner>> {
        enable_emulation(&conn)?;
        // Notification mode without an event (decision #108): the waker alone signals.
        // SAFETY: our connection id; an integer attribute travels in the pointer itself.
        let rc = unsafe { raw::SQLSetConnectAttr(conn.h, ConnAttr(ext::SQL_ATTR_DM_ASYNC_WAKER), 1usize as SqlPointer, SQL_IS_UINTEGER) };
        conn.check("SQLSetConnectAttr", rc)?;
        Ok(Arc::new(ConnInner {
            conn: std::mem::ManuallyDrop::new(conn),
            ops: Mutex::new(ConnOps::default()),
            dbc_async_on: AtomicBool::new(false),
            current: AtomicU64::new(0),
            handed_over: AtomicBool::new(false),
        }))
    }

    pub(super) fn h(&self) -> SqlHDbc {
        self.conn.h
    }

    /// The DM's view of the connection's asynchronous operation (raw DM extension).
    pub(super) fn status(&self) -> Option<ext::OpStatus> {
        ext::op_status(HandleType::SQL_HANDLE_DBC, self.h()).ok()
    }

    pub(super) fn op_active(&self) -> bool {
        self.status().is_some_and(|s| s.phase != OpPhase::Idle)
    }

    pub(super) fn register(&self, cx: &Context<'_>) {
        let _ = ext::register_waker(HandleType::SQL_HANDLE_DBC, self.h(), cx.waker());
    }

    pub(super) fn lock_ops(&self) -> MutexGuard<'_, ConnOps> {
        self.ops.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` (always synchronous, §1.5).
    pub(super) fn set_dbc_async(&self, on: bool) -> SqlReturn {
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
    pub(super) fn dbc_async_off(&self) {
        if self.dbc_async_on.load(Ordering::Acquire) && !self.set_dbc_async(false).is_success() {
            log::debug!("SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE stays on for now (a statement is executing)");
        }
    }

    /// Collects the outstanding operation (`SQLCompleteAsync(SQL_HANDLE_DBC)`, §2.13): its
    /// code (its records are then the handle's), pending, or nothing to collect.
    pub(super) fn collect(&self) -> ConnCollect {
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
    pub(super) fn sync_connected(&self) {
        if let Ok(c) = ext::is_connected(self.h()) {
            self.conn.set_connected(c);
        }
    }

    /// Ends a leftover operation: state, buffers, the connection free for the next one.
    pub(super) fn end_leftover(&self) {
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
    pub(super) fn settle_blocking(&self) -> bool {
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
                wait_handle_end(HandleType::SQL_HANDLE_DBC, self.h(), left.min(Duration::from_millis(20)));
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

    /// The owner of the running operation goes away (a dropped connect or disconnect
    /// future, or the connection's drop with a leftover): the handle, the operation's
    /// buffers `keep` and a reference to the environment go to the DM, which cancels the
    /// operation, collects it when it ends, disconnects and frees the handle
    /// (`raw::ext::abandon`, decision #81). No thread, no wait here.
    pub(super) fn hand_over(&self, keep: Option<Box<dyn Any + Send>>) {
        if self.handed_over.swap(true, Ordering::AcqRel) {
            return;
        }
        let keep: Box<dyn Any + Send> = Box::new((keep, self.conn.env_ref()));
        // SAFETY: our connection id; from here on nothing of ours uses it (`handed_over`
        // makes the drop forget it; no statement of ours is left: they hold this object).
        if let Err(rc) = unsafe { ext::abandon(HandleType::SQL_HANDLE_DBC, self.h(), keep) } {
            log::warn!("handing an abandoned connection to the DM failed ({rc:?})");
        }
    }

    pub(super) fn cancel(&self) {
        // SAFETY: our connection id; SQLCancelHandle is meant to cross threads (§3.4). An
        // emulated operation is accepted and runs to completion.
        let _ = unsafe { raw::SQLCancelHandle(HandleType::SQL_HANDLE_DBC, self.h()) };
    }

    /// Runs a synchronous connection call (the blocking twins) with no asynchronous
    /// operation around it: a leftover one is settled first.
    pub(super) fn exclusive<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if !self.settle_blocking() {
            return Err(Error::DriverProtocol {
                function: "SQLCancelHandle",
                detail: "an earlier connection operation did not end".into(),
            });
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
        if !self.handed_over.load(Ordering::Acquire) {
            // A leftover operation (a dropped commit or rollback) still running or not
            // collected: the DM takes the handle over and settles it (decision #81).
            let left = self.lock_ops().leftover.take();
            if left.is_some() || self.op_active() {
                self.hand_over(left.and_then(|l| l._keep));
            }
        }
        // SAFETY: dropped exactly once, here.
        let conn = unsafe { std::mem::ManuallyDrop::take(&mut self.conn) };
        if self.handed_over.load(Ordering::Acquire) {
            // The DM owns the handle now: it disconnects and frees it.
            conn.forget_handle();
            return;
        }
        self.dbc_async_off();
        // Nothing is outstanding on the handle: disconnect and free it.
        drop(conn);
    }
}

pub(super) fn busy_connection() -> Error {
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

pub(super) fn enable_emulation(conn: &Connection) -> Result<()> {
    let attr = ConnAttr(ext::SQL_ATTR_DM_ASYNC_EMULATION);
    // SAFETY: our connection id; an integer attribute travels in the pointer itself.
    let rc = unsafe { raw::SQLSetConnectAttr(conn.h, attr, SQL_ASYNC_ENABLE_ON as SqlPointer, SQL_IS_UINTEGER) };
    conn.check("SQLSetConnectAttr", rc).map(drop)
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
    pub(super) inner: Arc<ConnInner>,
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
    /// its waker notification mode, decision #108).
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

    /// Allocates a statement in notification mode (§2.1).
    pub fn statement(&self) -> Result<AsyncStatement> {
        AsyncStatement::new(self.inner.clone())
    }

    pub(super) fn end_tran(&self, completion: CompletionType) -> ConnFuture<()> {
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
