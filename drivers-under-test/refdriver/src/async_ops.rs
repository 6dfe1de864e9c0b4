//! Asynchronous execution, polling and notification mode (§1, §2).
//!
//! Async operations run on driver-owned threads from [`crate::pool`]: a bounded pool of
//! workers ("refdrv-worker-N", `REFDRIVER_WORKERS`, default 2 × CPUs within 4..=32) plus one
//! timer thread ("refdrv-timer"). An operation is a sequence of *steps*; each
//! SQL_STILL_EXECUTING that opens a step queues one *token* on the operation. An entry point
//! that returns SQL_STILL_EXECUTING queues its token as the very last thing before it returns
//! (the hand-off, [`flush_handoff`]): the step only starts after that, so in notification
//! mode the callback for that SQL_STILL_EXECUTING is made on a worker, after the return
//! (§2.8), exactly once (§2.7), with the context attribute's value read at callback time, and
//! with fLast = 1 exactly when the next re-invocation will complete (§2.10). No lock is held
//! while calling back.
//!
//! A step = (Delay ms) + (on the last step) the real work. The delay is a timer deadline, not
//! a sleeping thread: the token waits in the timer's heap and only the step itself (the
//! bookkeeping, the real work if it is the last step, and the callbacks) occupies a worker,
//! so thousands of delayed operations in flight cost no threads. The SQL `sleep(ms)`
//! function is real work and does occupy a worker. A set cancel flag cuts a waiting delay
//! short ([`cancel_requested`]). The steps of one operation run one at a time in token order
//! (the next token's delay starts when the previous step's callbacks have returned);
//! different operations progress concurrently, up to the pool's capacity.
//!
//! `Steps=N` gives N steps, so an undisturbed notification-mode call returns
//! SQL_STILL_EXECUTING N times. In polling mode a re-invocation that finds the current step
//! unfinished returns SQL_STILL_EXECUTING without opening a new step; in notification mode
//! every SQL_STILL_EXECUTING opens a step (and so gets its own callback), even a premature
//! re-invocation.
//!
//! Fault `CallbackBeforeReturn` makes the entry point wait for the worker's callback. Only an
//! application thread ever waits like that: when the entry point runs on a pool worker (a DM
//! callback re-entering the driver), the step — delay included — runs inline on that worker,
//! so the pool can never wait on itself.

use crate::diag::{DiagList, DiagRec};
use crate::eventlog::{CallbackRecord, EventLog};
use crate::faults::{Faults, GARBAGE_CONTEXT};
use crate::pool;
use crate::util::lock;
use odbc_dm_abi::{SqlAsyncNotificationCallback, SqlReturn};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Notification attributes of one handle; read without locks at callback time.
#[derive(Default)]
pub struct Notify {
    pub callback: AtomicUsize,
    pub context: AtomicUsize,
}

/// The result of an operation's work: return code plus diagnostics to post on delivery.
pub struct Completion {
    pub ret: SqlReturn,
    pub diags: Vec<DiagRec>,
}

impl Completion {
    pub fn ok() -> Completion {
        Completion { ret: SqlReturn::SQL_SUCCESS, diags: vec![] }
    }
    pub fn err(d: DiagRec) -> Completion {
        Completion { ret: SqlReturn::SQL_ERROR, diags: vec![d] }
    }
    pub fn cancelled() -> Completion {
        Completion::err(DiagRec::new("HY008", "Operation canceled"))
    }
}

pub type Work = Box<dyn FnOnce() -> Completion + Send>;

/// What the first invocation decided.
pub enum Start {
    /// Run this work (inline when synchronous, on a worker when async).
    Run(Work),
    /// Finished at once with this code (diagnostics already posted).
    Done(SqlReturn),
}

struct OpState {
    total: u32,
    completed: u32,
    outstanding: u32,
    result: Option<Completion>,
}

enum TokenMode {
    /// Normal: call back (per faults) after the entry point returned at `returned_at`.
    Normal(Instant),
    /// The entry point already called back on its own thread (CallbackOnCallingThread).
    Silent,
    /// CallbackBeforeReturn: call back, then hand the records to the waiting entry point.
    Ack(SyncSender<Vec<CallbackRecord>>),
    /// CallbackBeforeReturn on a pool worker: the step runs inline, records are returned.
    Inline,
}

struct Token {
    round: u32,
    mode: TokenMode,
}

/// The tokens of one operation not yet started, and whether one of its steps is under way
/// (waiting for its delay, queued for a worker or running).
#[derive(Default)]
struct Steps {
    tokens: VecDeque<Token>,
    busy: bool,
}

/// One async operation, shared by the handle's slot and its queued steps.
struct OpCore {
    func: &'static str,
    handle: usize,
    handle_type: &'static str,
    notify: Arc<Notify>,
    log: Arc<EventLog>,
    delay_ms: u64,
    faults: Faults,
    cancel: Arc<AtomicBool>,
    /// §1.14: the step that starts after this instant ends the operation with HYT01.
    deadline: Option<Instant>,
    state: Mutex<OpState>,
    work: Mutex<Option<Work>>,
    steps: Mutex<Steps>,
}

/// The outstanding async function of one handle (§1.7: function id kept per handle).
pub struct AsyncOp {
    pub func: &'static str,
    pub rounds: u32,
    core: Arc<OpCore>,
}

/// Everything `run_op` needs to know about the handle and the call.
pub struct OpCtx<'a> {
    pub func: &'static str,
    pub handle: usize,
    pub handle_type: &'static str,
    pub args: Vec<usize>,
    pub slot: &'a Mutex<Option<AsyncOp>>,
    pub notify: &'a Arc<Notify>,
    pub log: &'a Arc<EventLog>,
    pub diag: &'a DiagList,
    pub async_on: bool,
    pub steps: u32,
    pub delay_ms: u64,
    pub faults: Faults,
    pub cancel: &'a Arc<AtomicBool>,
    /// §1.14: the connection timeout of an asynchronous open or close, which covers the
    /// total time of all its calls (None: no timeout).
    pub timeout: Option<Duration>,
}

thread_local! {
    /// The hand-off of the SQL_STILL_EXECUTING being returned on this thread.
    static PENDING: std::cell::RefCell<Option<Box<dyn FnOnce()>>> = const { std::cell::RefCell::new(None) };
}

/// Queues the pending hand-off token, if any. Called by every exported entry point as the
/// last thing before it returns, after all of its locals are dropped, so the worker's
/// callback (§2.8) cannot come before the return in any practical sense.
pub fn flush_handoff() {
    let pending = PENDING.try_with(|p| p.borrow_mut().take()).ok().flatten();
    if let Some(f) = pending {
        // Runs outside the entry point's catch_unwind: contain any panic here too.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    }
}

/// Call after setting a cancel flag (SQLCancel, SQLCancelHandle, freeing a statement): a
/// step waiting for its delay then starts at once, as a sleeping worker used to wake early.
pub fn cancel_requested() {
    pool::cancel_requested();
}

/// Sleeps `ms`, waking early when `cancel` is set.
pub fn sleep_cancellable(ms: u64, cancel: &AtomicBool) {
    pool::sleep_until_cancellable(Instant::now() + Duration::from_millis(ms), cancel);
}

/// Posts the completion's diagnostics and, if it succeeded, runs `finish` (which writes
/// the output arguments of the current invocation).
fn deliver(diag: &DiagList, c: Completion, finish: impl FnOnce() -> SqlReturn) -> SqlReturn {
    diag.post_all(c.diags);
    if !c.ret.is_success() {
        return c.ret;
    }
    let r = finish();
    if r == SqlReturn::SQL_SUCCESS && c.ret == SqlReturn::SQL_SUCCESS_WITH_INFO {
        c.ret
    } else {
        r
    }
}

fn invoke_callback(notify: &Notify, f_last: bool, wrong_context: bool) -> Option<CallbackRecord> {
    let cb = notify.callback.load(Ordering::SeqCst);
    if cb == 0 {
        return None;
    }
    let ctx = if wrong_context { GARBAGE_CONTEXT } else { notify.context.load(Ordering::SeqCst) };
    // SAFETY: a non-zero value was stored from SQL_ATTR_ASYNC_*_NOTIFICATION_CALLBACK, whose
    // contract (sqlspi.h) is a pointer to a SQL_ASYNC_NOTIFICATION_CALLBACK function.
    let f: SqlAsyncNotificationCallback = unsafe { std::mem::transmute::<usize, SqlAsyncNotificationCallback>(cb) };
    let mut rec = CallbackRecord::before(ctx, f_last);
    // SAFETY: calling the DM's callback with its own opaque context, as the SPI prescribes.
    let r = unsafe { f(ctx as *mut std::ffi::c_void, f_last as i32) };
    rec.ret = r.0;
    Some(rec)
}

impl OpCore {
    /// Queues a token; starts it unless a step of this operation is already under way.
    fn submit(self: &Arc<Self>, tok: Token) {
        {
            let mut s = lock(&self.steps);
            s.tokens.push_back(tok);
            if s.busy {
                return;
            }
            s.busy = true;
        }
        self.start_next();
    }

    /// Starts the oldest queued token: after `Delay` ms on the timer (cut short by cancel),
    /// then on a worker. Marks the operation idle when no token is left.
    fn start_next(self: &Arc<Self>) {
        let tok = {
            let mut s = lock(&self.steps);
            match s.tokens.pop_front() {
                Some(t) => t,
                None => {
                    s.busy = false;
                    return;
                }
            }
        };
        // An entry point is blocked waiting for this one: let it jump the ready queue.
        let urgent = matches!(tok.mode, TokenMode::Ack(_));
        let core = self.clone();
        let job: pool::Job = Box::new(move || core.run_token(tok));
        if self.delay_ms == 0 {
            pool::run(job, urgent);
        } else {
            pool::run_after(Instant::now() + Duration::from_millis(self.delay_ms), self.cancel.clone(), job, urgent);
        }
    }

    /// A worker's job: one step, the acknowledgement if an entry point waits, then the next
    /// token of this operation.
    fn run_token(self: Arc<Self>, tok: Token) {
        let recs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.step(tok.round, &tok.mode)));
        if let TokenMode::Ack(ack) = tok.mode {
            // Sent even when the step panicked (no records), so the entry point never hangs.
            let _ = ack.send(recs.unwrap_or_default());
        }
        self.start_next();
    }

    /// The step itself (its delay is already over): bookkeeping, the real work if this is
    /// the last step, then the callbacks with no lock held. Returns the callback records in
    /// the Ack and Inline modes (they are logged by the entry point).
    fn step(&self, round: u32, mode: &TokenMode) -> Vec<CallbackRecord> {
        let f_last = {
            let mut st = lock(&self.state);
            if st.result.is_none() {
                if self.cancel.load(Ordering::SeqCst) {
                    st.result = Some(Completion::cancelled());
                    st.total = st.completed + 1;
                } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
                    // §1.14: SQL_ATTR_CONNECTION_TIMEOUT covers all the calls of an
                    // asynchronous open or close together.
                    st.result = Some(Completion::err(DiagRec::new("HYT01", "Connection timeout expired")));
                    st.total = st.completed + 1;
                } else if st.completed + 1 >= st.total {
                    drop(st);
                    let job = lock(&self.work).take();
                    let c = match job {
                        Some(job) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or_else(|_| {
                            Completion::err(DiagRec::new("HY000", format!("General error: internal panic in {}", self.func)))
                        }),
                        None => Completion::err(DiagRec::new("HY000", "General error: asynchronous work already consumed")),
                    };
                    st = lock(&self.state);
                    st.result = Some(c);
                }
            }
            st.completed += 1;
            st.outstanding = st.outstanding.saturating_sub(1);
            st.result.is_some() && st.completed >= st.total && st.outstanding == 0
        };
        // No lock is held from here on while calling back.
        let n = if self.faults.no_callback {
            0
        } else if self.faults.double_callback {
            2
        } else {
            1
        };
        let mut recs = Vec::new();
        match mode {
            TokenMode::Silent => {}
            TokenMode::Normal(returned_at) => {
                for _ in 0..n {
                    if let Some(rec) = invoke_callback(&self.notify, f_last, self.faults.wrong_context) {
                        self.log.callback(self.func, self.handle, self.handle_type, round, rec, *returned_at);
                    }
                }
            }
            TokenMode::Ack(_) | TokenMode::Inline => {
                for _ in 0..n {
                    if let Some(rec) = invoke_callback(&self.notify, f_last, self.faults.wrong_context) {
                        recs.push(rec);
                    }
                }
            }
        }
        recs
    }
}

impl OpCtx<'_> {
    fn notification(&self) -> bool {
        self.async_on && self.notify.callback.load(Ordering::SeqCst) != 0
    }

    fn log_call(&self, round: u32, ret: SqlReturn) {
        self.log.call(self.func, self.handle, self.handle_type, round, ret.0, &self.args);
    }

    /// Returns SQL_STILL_EXECUTING for `round`; when `step` is given a new step is opened
    /// and its token is queued as the last action before returning.
    fn still(&self, round: u32, step: Option<(Arc<OpCore>, bool)>) -> SqlReturn {
        let still = SqlReturn::SQL_STILL_EXECUTING;
        self.log_call(round, still);
        let Some((core, f_last_guess)) = step else {
            return still;
        };
        let notif = self.notification();
        if notif && self.faults.callback_on_calling_thread {
            let rec = invoke_callback(self.notify, f_last_guess, self.faults.wrong_context);
            let returned_at = Instant::now();
            if let Some(rec) = rec {
                self.log.callback(self.func, self.handle, self.handle_type, round, rec, returned_at);
            }
            core.submit(Token { round, mode: TokenMode::Silent });
            return still;
        }
        if notif && self.faults.callback_before_return {
            let recs = if pool::on_worker() {
                // A DM callback re-entered the driver on a worker: waiting for another worker
                // could starve the pool, so this step (delay included) runs right here.
                sleep_cancellable(self.delay_ms, self.cancel);
                core.step(round, &TokenMode::Inline)
            } else {
                let (ack_tx, ack_rx) = sync_channel(1);
                core.submit(Token { round, mode: TokenMode::Ack(ack_tx) });
                ack_rx.recv().unwrap_or_default()
            };
            let returned_at = Instant::now();
            for rec in recs {
                self.log.callback(self.func, self.handle, self.handle_type, round, rec, returned_at);
            }
            return still;
        }
        // Hand-off: the step starts only after its token is queued, which the exported shim
        // does as its very last action (see `flush_handoff`).
        let mut handoff: Option<Box<dyn FnOnce()>> =
            Some(Box::new(move || core.submit(Token { round, mode: TokenMode::Normal(Instant::now()) })));
        let _ = PENDING.try_with(|p| *p.borrow_mut() = handoff.take());
        if let Some(f) = handoff {
            f(); // no thread-local storage left (thread exiting): hand off right away
        }
        still
    }
}

/// Runs one invocation of an async-capable function.
/// * `start` runs on the first invocation only (validation, capture of inputs).
/// * the work it returns runs inline (synchronous) or on a worker (async).
/// * `finish` runs on the invocation that delivers a successful result and writes outputs.
pub fn run_op(ctx: OpCtx<'_>, start: impl FnOnce() -> Start, finish: impl FnOnce() -> SqlReturn) -> SqlReturn {
    ctx.diag.clear(); // §1.12: each call, repeated ones included, clears the diagnostics
    {
        let mut slot = lock(ctx.slot);
        if let Some(op) = slot.as_mut() {
            if op.func != ctx.func {
                drop(slot);
                ctx.diag
                    .post(DiagRec::new("HY010", "Function sequence error: another asynchronous function is in progress on this handle"));
                ctx.log_call(0, SqlReturn::SQL_ERROR);
                return SqlReturn::SQL_ERROR;
            }
            op.rounds += 1;
            let round = op.rounds;
            let mut st = lock(&op.core.state);
            let done = if st.completed >= st.total && st.outstanding == 0 { st.result.take() } else { None };
            if let Some(c) = done {
                drop(st);
                let op = slot.take();
                drop(slot);
                drop(op); // no step is outstanding: nothing of this operation remains queued
                let ret = deliver(ctx.diag, c, finish);
                ctx.log_call(round, ret);
                return ret;
            }
            let open = ctx.notification() || st.outstanding == 0;
            let mut handoff = None;
            if open {
                st.outstanding += 1;
                let f_last_guess = st.total != u32::MAX && st.completed + st.outstanding >= st.total;
                handoff = Some((op.core.clone(), f_last_guess));
            }
            drop(st);
            drop(slot);
            return ctx.still(round, handoff);
        }
    }
    ctx.cancel.store(false, Ordering::SeqCst);
    let work = match start() {
        Start::Done(r) => {
            ctx.log_call(0, r);
            return r;
        }
        Start::Run(w) => w,
    };
    if !ctx.async_on || (ctx.steps == 0 && !ctx.faults.still_executing_forever) {
        let c = work();
        let ret = deliver(ctx.diag, c, finish);
        ctx.log_call(0, ret);
        return ret;
    }
    let total = if ctx.faults.still_executing_forever { u32::MAX } else { ctx.steps };
    if !pool::ensure(ctx.delay_ms > 0) {
        ctx.diag.post(DiagRec::new("HY001", "could not start a worker thread"));
        ctx.log_call(0, SqlReturn::SQL_ERROR);
        return SqlReturn::SQL_ERROR;
    }
    let core = Arc::new(OpCore {
        func: ctx.func,
        handle: ctx.handle,
        handle_type: ctx.handle_type,
        notify: ctx.notify.clone(),
        log: ctx.log.clone(),
        delay_ms: ctx.delay_ms,
        faults: ctx.faults,
        cancel: ctx.cancel.clone(),
        deadline: ctx.timeout.map(|t| Instant::now() + t),
        state: Mutex::new(OpState { total, completed: 0, outstanding: 1, result: None }),
        work: Mutex::new(Some(work)),
        steps: Mutex::new(Steps::default()),
    });
    *lock(ctx.slot) = Some(AsyncOp { func: ctx.func, rounds: 0, core: core.clone() });
    let guess = total == 1;
    ctx.still(0, Some((core, guess)))
}

/// Drops the outstanding operation of a handle being freed (steps already opened still run,
/// with their callbacks; the operation's state goes when the last of them is done).
pub fn abandon(slot: &Mutex<Option<AsyncOp>>) {
    let op = lock(slot).take();
    drop(op);
}
