//! The future of an asynchronous statement operation: the driver operation `RawOp` and the
//! public [`OpFuture`].

use super::*;

/// Types the start closure of a [`RawOp`] (its one driver call).
#[inline(always)]
pub(super) fn start_fn<S: FnOnce(SqlHStmt) -> SqlReturn + Send + 'static>(s: S) -> S {
    s
}

/// Types the finish closure of a [`RawOp`] (reads the outcome and the outputs).
#[inline(always)]
pub(super) fn finish_fn<T, F>(f: F) -> F
where
    F: FnOnce(&mut AsyncStatement, &'static str, SqlReturn, Vec<DiagRecord>) -> Result<T> + Send + 'static,
{
    f
}

/// The driver call of a [`RawOp`]: its start and finish closures and the buffers the
/// driver points into, in one allocation (issue 12 item 3: memory per operation).
pub(super) trait OpCall<T>: Send {
    /// Makes the driver call (once).
    fn start(&mut self, h: SqlHStmt) -> SqlReturn;
    /// Drops the kept buffers, then reads the outcome (`function`: the call's name, given
    /// here rather than captured, decision #107).
    fn finish(self: Box<Self>, st: &mut AsyncStatement, function: &'static str, rc: SqlReturn, recs: Vec<DiagRecord>) -> Result<T>;
    /// The whole call as something the DM keeps alive until the driver is done (§2.9).
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

pub(super) struct CallParts<K, S, F> {
    pub(super) keep: K,
    pub(super) start: Option<S>,
    pub(super) finish: F,
}

impl<T, K, S, F> OpCall<T> for CallParts<K, S, F>
where
    K: Send + 'static,
    S: FnOnce(SqlHStmt) -> SqlReturn + Send + 'static,
    F: FnOnce(&mut AsyncStatement, &'static str, SqlReturn, Vec<DiagRecord>) -> Result<T> + Send + 'static,
{
    fn start(&mut self, h: SqlHStmt) -> SqlReturn {
        (self.start.take().expect("started once"))(h)
    }

    fn finish(self: Box<Self>, st: &mut AsyncStatement, function: &'static str, rc: SqlReturn, recs: Vec<DiagRecord>) -> Result<T> {
        let CallParts { keep, finish, .. } = *self;
        drop(keep);
        finish(st, function, rc, recs)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum RawState {
    Init,
    Running,
    Done,
}

/// One asynchronous driver call: settles a leftover operation, starts the call (which
/// returns SQL_STILL_EXECUTING), waits on the slot's waker, collects with SQLCompleteAsync.
/// `call` owns the buffers the driver points into.
pub(super) struct RawOp<'s, T: Send + 'static> {
    pub(super) st: &'s mut AsyncStatement,
    pub(super) function: &'static str,
    pub(super) call: Option<Box<dyn OpCall<T>>>,
    pub(super) state: RawState,
    pub(super) raw_gen: u64,
}

impl<'s, T: Send + 'static> RawOp<'s, T> {
    pub(super) fn finish_now(&mut self, rc: SqlReturn, records: Vec<DiagRecord>) -> Poll<Result<T>> {
        self.state = RawState::Done;
        let call = self.call.take().expect("finish taken once");
        Poll::Ready(call.finish(self.st, self.function, rc, records))
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
                if sh.has(ABORTED) {
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
                sh.lock().outcome.take();
                this.raw_gen = sh.raw_gen.fetch_add(1, Ordering::AcqRel) + 1;
                sh.set(LAUNCHING | STARTED, true);
                sh.register(cx);
                let rc = this.call.as_mut().expect("started once").start(sh.hstmt());
                if let Some(st) = sh.status() {
                    sh.gen.store(st.generation, Ordering::Release);
                }
                sh.set(LAUNCHING, false);
                if rc == SqlReturn::SQL_STILL_EXECUTING && sh.has(ABORTED) {
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
                    Poll::Ready(Err(Error::Internal(format!("{}: the operation's result was collected elsewhere", this.function))))
                }
            },
            Collect::Lost => {
                this.state = RawState::Done;
                Poll::Ready(Err(Error::Internal(format!("{}: the operation's result was collected elsewhere", this.function))))
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
        if ext::is_running(HandleType::SQL_HANDLE_STMT, sh.hstmt(), sh.gen.load(Ordering::Acquire)).unwrap_or(false) {
            // Mid-flight: cancel (the DM drives a driver that never calls back once the
            // cancel grace has passed, §2.14); the buffers go to the DM, which drops them
            // only once the driver is done with them (§2.9). The next operation collects
            // this one as soon as it ends: no fixed grace.
            sh.cancel();
            if let Some(call) = self.call.take() {
                if let Err(k) = ext::keep_alive(HandleType::SQL_HANDLE_STMT, sh.hstmt(), call.into_any()) {
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
pub(super) struct Addr(usize);

impl Addr {
    pub(super) fn of<T: ?Sized>(p: *const T) -> Addr {
        Addr(p as *const u8 as usize)
    }
    pub(super) fn ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }
}

/// The future of an asynchronous statement operation (execute, prepare, fetch, get-data,
/// more-results…). `Send`; borrows its statement. [`operation`](Self::operation) gives
/// a status handle; dropping the future before it completes cancels the operation (see
/// the documentation of `src/api/asynchronous/mod.rs`).
pub struct OpFuture<'s, T> {
    pub(super) fut: Pin<Box<dyn Future<Output = Result<T>> + Send + 's>>,
    /// The statement's shared state, where the operation's status lives (decision #117).
    pub(super) sh: Arc<Shared>,
    /// The operation's id.
    pub(super) id: u64,
    pub(super) function: &'static str,
}

impl<T> OpFuture<'_, T> {
    /// The status handle of this operation.
    pub fn operation(&self) -> AsyncOperation {
        self.sh.handle(self.id, self.function)
    }
}

impl<T> Future for OpFuture<'_, T> {
    type Output = Result<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let r = this.fut.as_mut().poll(cx);
        if let Poll::Ready(v) = &r {
            this.sh.finish(this.id, v);
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
