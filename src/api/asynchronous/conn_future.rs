//! The future of an asynchronous connection function: [`ConnFuture`].

use super::*;

pub(super) type ConnStart = Box<dyn FnOnce(SqlHDbc) -> SqlReturn + Send>;
pub(super) type ConnFinish<T> = Box<dyn FnOnce(Arc<ConnInner>, Result<SqlReturn>) -> Result<T> + Send>;

/// The future of an asynchronous connection function (connect, commit, rollback,
/// disconnect). `Send + 'static`; runtime-agnostic.
///
/// It runs the function through the DM's connection-level notification mode (§1.4, §2.3):
/// `SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE` is switched on for the call, which returns
/// `SQL_STILL_EXECUTING`; the DM wakes the future through the connection's async slot when
/// the operation ends (natively on notification-capable drivers, on the DM's emulation
/// pool otherwise), and the future collects it with `SQLCompleteAsync(SQL_HANDLE_DBC)`.
///
/// Dropping it mid-flight: a connect or disconnect hands the handle and its buffers to
/// the DM (`raw::ext::abandon`, decision #81), which cancels the operation
/// (`SQLCancelHandle(SQL_HANDLE_DBC)`; an emulated one runs to completion), and once it has
/// ended collects it, disconnects and frees the handle on its worker pool; if the driver
/// never finishes, the handle and its buffers are leaked deliberately (logged with
/// `log::error!`). A dropped commit or rollback runs to completion and is collected by the
/// connection's next operation (or handed to the DM by the connection's drop).
pub struct ConnFuture<T> {
    pub(super) state: ConnFutState<T>,
    pub(super) op: AsyncOperation,
}

pub(super) enum ConnFutState<T> {
    Ready(Option<Result<T>>),
    Op(ConnOp<T>),
}

pub(super) struct ConnOp<T> {
    pub(super) inner: Option<Arc<ConnInner>>,
    pub(super) kind: ConnOpKind,
    pub(super) function: &'static str,
    pub(super) start: Option<ConnStart>,
    pub(super) keep: Option<Box<dyn Any + Send>>,
    pub(super) finish: Option<ConnFinish<T>>,
    pub(super) state: RawState,
    pub(super) ticket: Arc<Ticket>,
}

impl<T> ConnFuture<T> {
    pub(super) fn ready(v: Result<T>) -> Self {
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

    pub(super) fn op(
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
    pub(super) fn conclude(&mut self, inner: &Arc<ConnInner>, r: Result<SqlReturn>) -> Poll<Result<T>> {
        let r = self.conclude_inner(inner, r);
        if let Poll::Ready(v) = &r {
            self.ticket.finish(v);
        }
        r
    }

    pub(super) fn conclude_inner(&mut self, inner: &Arc<ConnInner>, r: Result<SqlReturn>) -> Poll<Result<T>> {
        inner.sync_connected();
        inner.dbc_async_off();
        inner.lock_ops().running = false;
        self.state = RawState::Done;
        self.keep = None;
        let (Some(finish), Some(inner)) = (self.finish.take(), self.inner.take()) else {
            return Poll::Ready(Err(Error::Internal(format!("{}: the operation was already concluded", self.function))));
        };
        Poll::Ready(finish(inner, r))
    }

    pub(super) fn poll_op(&mut self, cx: &mut Context<'_>) -> Poll<Result<T>> {
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
                let rc = inner.set_dbc_async(true);
                if !rc.is_success() {
                    let r = inner.conn.check("SQLSetConnectAttr", rc);
                    inner.lock_ops().running = false;
                    self.state = RawState::Done;
                    return Poll::Ready(Err(r.err().unwrap_or_else(|| Error::Internal("cannot enable connection-level async".into()))));
                }
                inner.register(cx);
                let Some(start) = self.start.take() else {
                    return self.conclude(&inner, Err(Error::Internal("started twice".into())));
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
                let r = Err(Error::Internal(format!("{}: the operation's result was collected elsewhere", self.function)));
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
        if matches!(self.kind, ConnOpKind::Connect | ConnOpKind::Disconnect) {
            // Nobody will use this connection again: the DM settles it (cancel, collect,
            // disconnect, free) when the operation ends (decision #81).
            inner.hand_over(self.keep.take());
        } else {
            // A commit or rollback: collected by the connection's next operation, or
            // handed to the DM by the connection's drop.
            inner.lock_ops().leftover = Some(Leftover { kind: self.kind, _keep: self.keep.take() });
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
