//! The operation core of the asynchronous API: the statement's shared state (`Shared`), the
//! operation `Ticket` and the public status handle [`AsyncOperation`].

use super::*;

/// The error of an operation that was aborted before it reached the driver.
pub(super) fn cancelled(function: &'static str) -> Error {
    Error::Odbc {
        function,
        return_code: SqlReturn::SQL_ERROR.0,
        records: vec![DiagRecord { state: "HY008".into(), native: 0, message: "[odbc-dm] Operation canceled".into() }],
    }
}

/// Blocks until the handle's running operation (if any) ends or `timeout` passes.
pub(super) fn wait_handle_end(ht: HandleType, h: SqlHandle, timeout: Duration) {
    let Ok(st) = ext::op_status(ht, h) else { return };
    if matches!(st.phase, OpPhase::Idle | OpPhase::Done) {
        // Nothing to wait for at the DM: the caller re-checks after a short pause.
        std::thread::sleep(timeout.min(Duration::from_millis(1)));
        return;
    }
    let _ = ext::wait_for_end(ht, h, st.generation, timeout);
}

pub(super) fn carries_records(rc: SqlReturn) -> bool {
    rc != SqlReturn::SQL_SUCCESS && rc != SqlReturn::SQL_NO_DATA && rc != SqlReturn::SQL_STILL_EXECUTING
}

/// A collected driver operation: its code and records, read right after SQLCompleteAsync.
pub(super) struct Outcome {
    pub(super) raw_gen: u64,
    pub(super) rc: SqlReturn,
    pub(super) records: Vec<DiagRecord>,
}

/// Status bits of the statement's latest operation (the low byte of [`Shared::op`]; a
/// [`Ticket`]'s booleans for a connection operation or a sealed statement one).
pub(super) const STARTED: u64 = 1;
/// The first driver call of a step is being made (the DM's slot may not show it yet).
pub(super) const LAUNCHING: u64 = 1 << 1;
pub(super) const FINISHED: u64 = 1 << 2;
pub(super) const ABORTED: u64 = 1 << 3;
/// Finished with HY008 (how it ended, with `FINISHED`).
const ENDED_CANCELLED: u64 = 1 << 4;
const BITS: u64 = 0xff;

/// What the statement, its futures and its [`AsyncOperation`] handles share.
///
/// The status of the statement's latest operation lives here, not in a ticket allocated
/// per operation (issue 12 item 3, decision #117): its id and status bits in one word
/// (`op`), its DM generation (`gen`) and, for a failure, the error. An
/// [`AsyncOperation`] of it reads them while it is the latest; the first one asked for
/// gets a [`Ticket`] (`State::past`) into which the status is copied ("sealed") when the
/// statement moves on to its next operation, so that a status handle keeps reporting its
/// own operation and never touches a later one.
pub(super) struct Shared {
    pub(super) h: usize,
    /// Generation of the last driver operation started (0 = none).
    pub(super) raw_gen: AtomicU64,
    state: Mutex<State>,
    /// The latest operation: its id (`>> 8`; 0: none yet) and status bits (`& BITS`).
    /// Its id changes only under `state`'s lock.
    op: AtomicU64,
    /// The DM generation of the latest operation's latest driver operation (`raw::ext`).
    pub(super) gen: AtomicU64,
}

#[derive(Default)]
pub(super) struct State {
    /// The last collected outcome (of generation `raw_gen` or older), kept until the next
    /// operation starts.
    pub(super) outcome: Option<Outcome>,
    /// How the latest operation failed (with `FINISHED`, without `ENDED_CANCELLED`).
    failed: Option<ErrorCopy>,
    /// The latest operation's record for its status handles, made when the first one is
    /// asked for; sealed when the next operation begins.
    past: Option<Arc<Ticket>>,
}

pub(super) enum Collect {
    Done,
    Pending,
    /// Nothing outstanding and nothing collected: the result went elsewhere.
    Lost,
}

impl Shared {
    pub(super) fn hstmt(&self) -> SqlHStmt {
        self.h as SqlHStmt
    }

    pub(super) fn new(h: usize) -> Shared {
        Shared { h, raw_gen: AtomicU64::new(0), state: Mutex::new(State::default()), op: AtomicU64::new(0), gen: AtomicU64::new(0) }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new operation begins (no future of the statement is alive: it takes `&mut` of
    /// the statement): seals the previous one's record for its status handles, if any, and
    /// returns the new operation's id.
    pub(super) fn begin_op(&self) -> u64 {
        let id = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
        let mut g = self.lock();
        if let Some(past) = g.past.take() {
            let w = self.op.load(Ordering::Acquire);
            if w >> 8 == past.id {
                past.gen.store(self.gen.load(Ordering::Acquire), Ordering::Release);
                *past.ended.lock().unwrap_or_else(|e| e.into_inner()) = ended_in(w, &g.failed);
                past.started.store(w & STARTED != 0, Ordering::Release);
                past.launching.store(w & LAUNCHING != 0, Ordering::Release);
                past.aborted.store(w & ABORTED != 0, Ordering::Release);
                past.finished.store(w & FINISHED != 0, Ordering::Release);
            }
        }
        g.failed = None;
        self.gen.store(0, Ordering::Release);
        // After the seal: a status handle that sees the new id finds its record sealed.
        self.op.store(id << 8, Ordering::Release);
        id
    }

    /// Whether status bit `bit` of the latest operation is set (the future's view: its
    /// operation is the latest).
    pub(super) fn has(&self, bit: u64) -> bool {
        self.op.load(Ordering::Acquire) & bit != 0
    }

    /// Sets (`on`) or clears status bits of the latest operation.
    pub(super) fn set(&self, bits: u64, on: bool) {
        if on {
            self.op.fetch_or(bits, Ordering::AcqRel);
        } else {
            self.op.fetch_and(!bits, Ordering::AcqRel);
        }
    }

    /// The id of the latest operation (0: none yet).
    pub(super) fn latest_id(&self) -> u64 {
        self.op.load(Ordering::Acquire) >> 8
    }

    /// The status bits of operation `id` while it is the latest; `None` once the statement
    /// has moved on (or for id 0: no operation).
    pub(super) fn bits_of(&self, id: u64) -> Option<u64> {
        let w = self.op.load(Ordering::Acquire);
        (id != 0 && w >> 8 == id).then_some(w & BITS)
    }

    /// The DM generation of operation `id` while it is the latest.
    pub(super) fn gen_of(&self, id: u64) -> Option<u64> {
        let _g = self.lock();
        self.bits_of(id).map(|_| self.gen.load(Ordering::Acquire))
    }

    /// How operation `id` ended (`Some(None)`: not yet) while it is the latest.
    pub(super) fn ended_of(&self, id: u64) -> Option<Option<Ended>> {
        let g = self.lock();
        self.bits_of(id).map(|w| ended_in(w, &g.failed))
    }

    /// Marks operation `id` aborted if it is still the latest (`false`: it is not).
    pub(super) fn abort_of(&self, id: u64) -> bool {
        let _g = self.lock();
        if self.bits_of(id).is_none() {
            return false;
        }
        self.set(ABORTED, true);
        true
    }

    /// Operation `id`'s future returned `r`: recorded for its status handles.
    pub(super) fn finish<T>(&self, id: u64, r: &Result<T>) {
        let mut g = self.lock();
        if self.bits_of(id).is_none() {
            return;
        }
        let bits = match r {
            Ok(_) => FINISHED,
            Err(e) if e.sqlstate() == Some("HY008") => FINISHED | ENDED_CANCELLED,
            Err(e) => {
                g.failed = Some(ErrorCopy::of(e));
                FINISHED
            }
        };
        self.set(bits, true);
    }

    /// A status handle of operation `id` (the latest one, or 0: none yet).
    pub(super) fn handle(self: &Arc<Self>, id: u64, function: &'static str) -> AsyncOperation {
        let ticket = {
            let mut g = self.lock();
            match &g.past {
                Some(p) if p.id == id => p.clone(),
                _ => {
                    let t = Arc::new(Ticket::with_id(id));
                    if self.bits_of(id).is_some() {
                        g.past = Some(t.clone());
                    }
                    t
                }
            }
        };
        AsyncOperation { of: OpOf::Stmt(self.clone()), ticket, function }
    }

    /// Blocks until the statement's running operation ends or `timeout` passes (no event:
    /// the DM's process-wide completion wait, `raw::ext::wait_for_end`).
    pub(super) fn wait_end(&self, timeout: Duration) {
        wait_handle_end(HandleType::SQL_HANDLE_STMT, self.hstmt(), timeout);
    }

    /// The DM's view of the statement's operation (raw DM extension).
    pub(super) fn status(&self) -> Option<ext::OpStatus> {
        ext::op_status(HandleType::SQL_HANDLE_STMT, self.hstmt()).ok()
    }

    pub(super) fn busy(&self) -> bool {
        self.status().is_some_and(|s| s.phase != OpPhase::Idle)
    }

    pub(super) fn register(&self, cx: &Context<'_>) {
        let _ = ext::register_waker(HandleType::SQL_HANDLE_STMT, self.hstmt(), cx.waker());
    }

    /// Collects a finished operation into `outcome` (SQLCompleteAsync, then the records).
    pub(super) fn collect(&self) -> Collect {
        let mut g = self.lock();
        let cur = self.raw_gen.load(Ordering::Acquire);
        if g.outcome.as_ref().is_some_and(|o| o.raw_gen == cur) {
            return Collect::Done;
        }
        let mut code: RetCode = 0;
        // SAFETY: our statement id and a valid out slot.
        let rc = unsafe { raw::SQLCompleteAsync(HandleType::SQL_HANDLE_STMT, self.hstmt(), &mut code) };
        match rc {
            SqlReturn::SQL_SUCCESS => {
                let code = SqlReturn(code);
                let records = if carries_records(code) { diag_records(HandleType::SQL_HANDLE_STMT, self.hstmt()) } else { Vec::new() };
                g.outcome = Some(Outcome { raw_gen: cur, rc: code, records });
                Collect::Done
            }
            SqlReturn::SQL_NO_DATA if self.busy() => Collect::Pending,
            _ => Collect::Lost,
        }
    }

    /// The outcome of operation `raw_gen` (a copy: it stays for [`AsyncOperation::abort`]
    /// running on another thread, until the next operation starts).
    pub(super) fn outcome_of(&self, raw_gen: u64) -> Option<(SqlReturn, Vec<DiagRecord>)> {
        self.lock().outcome.as_ref().filter(|o| o.raw_gen == raw_gen).map(|o| (o.rc, o.records.clone()))
    }

    pub(super) fn cancel(&self) {
        // SAFETY: our statement id; SQLCancel bypasses the call gate (§3.1). The DM drives
        // a cancelled notification-mode operation whose driver never calls back once the
        // statement's cancel grace has passed (§2.14), so nothing else is needed here.
        let _ = unsafe { raw::SQLCancel(self.hstmt()) };
    }

    /// Cancel, a grace period for the driver's callback, then DM polling at once; waits up
    /// to `patience` in all and collects. `true` when nothing is outstanding any more.
    pub(super) fn cancel_and_collect(&self, patience: Duration) -> bool {
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
    pub(super) fn wait_collect(&self, timeout: Duration) -> bool {
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
            // Woken when the operation ends (decision #108); a short slice in any case.
            self.wait_end(left.min(Duration::from_millis(20)));
        }
    }

    /// Blocking settle (statement and block-cursor drops): waits for a leftover operation
    /// (bounded), cancelling it when it takes too long, and discards its outcome. `false`
    /// when the driver still has not finished.
    pub(super) fn settle_blocking(&self) -> bool {
        if !self.busy() {
            self.lock().outcome.take();
            return true;
        }
        let ok = self.wait_collect(SETTLE_GRACE) || self.cancel_and_collect(SETTLE_AFTER_CANCEL);
        if ok {
            self.lock().outcome.take();
        }
        ok
    }
}

/// How an operation ended, as its status handles report it.
#[derive(Clone, Debug)]
pub(super) enum Ended {
    Ok,
    Cancelled,
    Failed(ErrorCopy),
}

/// A copy of an [`Error`] (which is not `Clone`), kept with its variant.
#[derive(Clone, Debug)]
pub(super) struct ErrorCopy(Arc<Error>);

impl ErrorCopy {
    pub(super) fn of(e: &Error) -> ErrorCopy {
        ErrorCopy(Arc::new(e.duplicate()))
    }

    pub(super) fn error(&self) -> Error {
        self.0.duplicate()
    }
}

pub(super) static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

/// How an operation whose status bits are `w` ended (`None`: not yet).
fn ended_in(w: u64, failed: &Option<ErrorCopy>) -> Option<Ended> {
    if w & FINISHED == 0 {
        return None;
    }
    Some(match failed {
        Some(e) => Ended::Failed(e.clone()),
        None if w & ENDED_CANCELLED != 0 => Ended::Cancelled,
        None => Ended::Ok,
    })
}

/// Per-operation status of a connection operation, shared by its future and its
/// [`AsyncOperation`] handles; for a statement operation, the record its status handles
/// read once the statement has moved on (see [`Shared`]).
pub(super) struct Ticket {
    pub(super) id: u64,
    pub(super) started: AtomicBool,
    /// The first driver call of a step is being made (the DM's slot may not show it yet).
    pub(super) launching: AtomicBool,
    pub(super) finished: AtomicBool,
    pub(super) aborted: AtomicBool,
    /// The DM generation of the operation's latest driver operation (`raw::ext`).
    pub(super) gen: AtomicU64,
    /// How it ended, once its future returned.
    pub(super) ended: Mutex<Option<Ended>>,
}

impl Default for Ticket {
    fn default() -> Self {
        Ticket::with_id(NEXT_TICKET.fetch_add(1, Ordering::Relaxed))
    }
}

impl Ticket {
    pub(super) fn with_id(id: u64) -> Self {
        Ticket {
            id,
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
    pub(super) fn ended(&self) -> Option<Ended> {
        self.ended.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The future returned `r`: recorded for the status handles.
    pub(super) fn finish<T>(&self, r: &Result<T>) {
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
pub(super) enum OpOf {
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
    pub(super) of: OpOf,
    pub(super) ticket: Arc<Ticket>,
    pub(super) function: &'static str,
}

impl std::fmt::Debug for AsyncOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncOperation").field("function", &self.function).field("phase", &self.phase()).finish()
    }
}

impl AsyncOperation {
    pub(super) fn handle(&self) -> Option<(HandleType, SqlHandle)> {
        match &self.of {
            OpOf::Stmt(sh) => Some((HandleType::SQL_HANDLE_STMT, sh.hstmt())),
            OpOf::Conn(c) => Some((HandleType::SQL_HANDLE_DBC, c.h())),
            OpOf::Nothing => None,
        }
    }

    /// Whether this handle's operation is running at the DM now (generation checked).
    pub(super) fn running_at_dm(&self) -> bool {
        let Some((ht, h)) = self.handle() else { return false };
        ext::is_running(ht, h, self.gen()).unwrap_or(false)
    }

    pub(super) fn is_current(&self) -> bool {
        match &self.of {
            OpOf::Stmt(sh) => sh.bits_of(self.ticket.id).is_some(),
            OpOf::Conn(c) => c.current.load(Ordering::Acquire) == self.ticket.id,
            OpOf::Nothing => false,
        }
    }

    /// Status bit `bit` of this handle's operation: from the statement while it is the
    /// latest, else from the ticket (`sealed`: the ticket's copy of the bit).
    fn bit(&self, bit: u64, sealed: &AtomicBool) -> bool {
        if let OpOf::Stmt(sh) = &self.of {
            if let Some(w) = sh.bits_of(self.ticket.id) {
                return w & bit != 0;
            }
        }
        // A statement's operation that is no longer the latest: its ticket was sealed
        // before the statement's operation word changed (read with Acquire above).
        sealed.load(Ordering::Acquire)
    }

    pub(super) fn started(&self) -> bool {
        self.bit(STARTED, &self.ticket.started)
    }

    pub(super) fn launching(&self) -> bool {
        self.bit(LAUNCHING, &self.ticket.launching)
    }

    pub(super) fn finished(&self) -> bool {
        self.bit(FINISHED, &self.ticket.finished)
    }

    /// The DM generation of the operation's latest driver operation.
    pub(super) fn gen(&self) -> u64 {
        if let OpOf::Stmt(sh) = &self.of {
            if let Some(g) = sh.gen_of(self.ticket.id) {
                return g;
            }
        }
        self.ticket.gen.load(Ordering::Acquire)
    }

    /// How the operation ended, once its future returned.
    pub(super) fn ended(&self) -> Option<Ended> {
        if let OpOf::Stmt(sh) = &self.of {
            if let Some(e) = sh.ended_of(self.ticket.id) {
                return e;
            }
        }
        self.ticket.ended()
    }

    /// Marks the operation aborted; `false` when it is no longer the handle's latest.
    fn mark_aborted(&self) -> bool {
        match &self.of {
            OpOf::Stmt(sh) => sh.abort_of(self.ticket.id),
            _ => {
                self.ticket.aborted.store(true, Ordering::Release);
                true
            }
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        if self.finished() {
            return Phase::Completed;
        }
        if !self.started() {
            return Phase::Pending;
        }
        if self.launching() || self.running_at_dm() {
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
                    match self.handle() {
                        Some((ht, h)) if self.running_at_dm() => wait_handle_end(ht, h, left.min(Duration::from_millis(20))),
                        _ => std::thread::sleep(left.min(Duration::from_millis(1))),
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
        if let Some(e) = self.ended() {
            return Ok(e.into());
        }
        if !self.is_current() || !self.mark_aborted() {
            return Ok(AbortOutcome::Stale);
        }
        if !self.started() {
            // Not at the driver yet: the future fails with HY008 when it tries to start.
            return Ok(AbortOutcome::NotStarted);
        }
        match &self.of {
            OpOf::Stmt(sh) => self.abort_stmt(sh),
            OpOf::Conn(c) => self.abort_conn(c),
            OpOf::Nothing => Ok(AbortOutcome::NotStarted),
        }
    }

    pub(super) fn timed_out() -> Error {
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
    pub(super) fn abort_stmt(&self, sh: &Shared) -> Result<AbortOutcome> {
        let t = Instant::now();
        // The launching call sees `aborted` and cancels itself (see RawOp::poll).
        while self.launching() && t.elapsed() < ABORT_PATIENCE {
            std::thread::sleep(Duration::from_millis(1));
        }
        let gen = self.gen();
        let (ht, h) = (HandleType::SQL_HANDLE_STMT, sh.hstmt());
        if !ext::cancel_generation(ht, h, gen).unwrap_or(false) {
            // Between two driver calls (the next one is refused with HY008), or it just
            // ended: the future reports which.
            return Ok(self.ended_or(AbortOutcome::Cancelled));
        }
        let raw_gen = sh.raw_gen.load(Ordering::Acquire);
        let mut driven = false;
        while t.elapsed() < ABORT_PATIENCE {
            if let Some(e) = self.ended() {
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
            sh.wait_end(Duration::from_millis(10));
        }
        Err(Self::timed_out())
    }

    pub(super) fn abort_conn(&self, c: &ConnInner) -> Result<AbortOutcome> {
        let t = Instant::now();
        while self.launching() && t.elapsed() < ABORT_PATIENCE {
            std::thread::sleep(Duration::from_millis(1));
        }
        let gen = self.gen();
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
            if let Some(e) = self.ended() {
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
            wait_handle_end(ht, h, Duration::from_millis(10));
        }
        Err(Self::timed_out())
    }

    /// How the operation ended if its future recorded it (waits briefly for a future that
    /// is being polled on another thread), else `default`.
    pub(super) fn ended_or(&self, default: AbortOutcome) -> AbortOutcome {
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(200) {
            if let Some(e) = self.ended() {
                return e.into();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        default
    }
}
