//! Asynchronous execution, polling and notification mode (§1, §2).
//!
//! Every async operation gets its own driver-owned worker thread ("refdrv-worker-N"),
//! fed by a channel of *tokens*. An entry point that returns SQL_STILL_EXECUTING sends one
//! token as the very last thing before it returns (the hand-off): the worker only starts a
//! step after receiving it, so in notification mode the callback for that
//! SQL_STILL_EXECUTING is made on the worker, after the return (§2.8), exactly once (§2.7),
//! with the context attribute's value read at callback time, and with fLast = 1 exactly
//! when the next re-invocation will complete (§2.10). No lock is held while calling back.
//!
//! A step = (Delay ms) + (on the last step) the real work. `Steps=N` gives N steps, so an
//! undisturbed notification-mode call returns SQL_STILL_EXECUTING N times. In polling mode a
//! re-invocation that finds the current step unfinished returns SQL_STILL_EXECUTING without
//! opening a new step; in notification mode every SQL_STILL_EXECUTING opens a step (and so
//! gets its own callback), even a premature re-invocation.

use crate::diag::{DiagList, DiagRec};
use crate::eventlog::{CallbackRecord, EventLog};
use crate::faults::{Faults, GARBAGE_CONTEXT};
use crate::util::lock;
use odbc_dm_abi::{SqlAsyncNotificationCallback, SqlReturn};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
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
}

struct Token {
    round: u32,
    mode: TokenMode,
}

/// The outstanding async function of one handle (§1.7: function id kept per handle).
pub struct AsyncOp {
    pub func: &'static str,
    pub rounds: u32,
    shared: Arc<Mutex<OpState>>,
    tx: Sender<Token>,
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
}

thread_local! {
    /// The hand-off of the SQL_STILL_EXECUTING being returned on this thread.
    static PENDING: std::cell::RefCell<Option<Box<dyn FnOnce()>>> = const { std::cell::RefCell::new(None) };
}

/// Sends the pending hand-off token, if any. Called by every exported entry point as the
/// last thing before it returns, after all of its locals are dropped, so the worker's
/// callback (§2.8) cannot come before the return in any practical sense.
pub fn flush_handoff() {
    if let Some(f) = PENDING.with(|p| p.borrow_mut().take()) {
        f();
    }
}

static WORKER_SEQ: AtomicUsize = AtomicUsize::new(1);

/// Sleeps `ms`, waking early when `cancel` is set.
pub fn sleep_cancellable(ms: u64, cancel: &AtomicBool) {
    let end = Instant::now() + Duration::from_millis(ms);
    while !cancel.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(2)));
    }
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
    let at = Instant::now();
    // SAFETY: calling the DM's callback with its own opaque context, as the SPI prescribes.
    let r = unsafe { f(ctx as *mut std::ffi::c_void, f_last as i32) };
    Some(CallbackRecord::here(ctx, f_last, at, r.0))
}

struct WorkerCtx {
    func: &'static str,
    handle: usize,
    handle_type: &'static str,
    notify: Arc<Notify>,
    log: Arc<EventLog>,
    delay_ms: u64,
    faults: Faults,
    cancel: Arc<AtomicBool>,
    shared: Arc<Mutex<OpState>>,
}

fn worker_loop(w: WorkerCtx, work: Work, rx: Receiver<Token>) {
    let mut work = Some(work);
    while let Ok(tok) = rx.recv() {
        // The token was sent just before the entry point returned SQL_STILL_EXECUTING.
        sleep_cancellable(w.delay_ms, &w.cancel);
        let f_last = {
            let mut st = lock(&w.shared);
            if st.result.is_none() {
                if w.cancel.load(Ordering::SeqCst) {
                    st.result = Some(Completion::cancelled());
                    st.total = st.completed + 1;
                } else if st.completed + 1 >= st.total {
                    drop(st);
                    let job = work.take().expect("work runs once");
                    let c = job();
                    st = lock(&w.shared);
                    st.result = Some(c);
                }
            }
            st.completed += 1;
            st.outstanding -= 1;
            st.result.is_some() && st.completed >= st.total && st.outstanding == 0
        };
        // No lock is held from here on while calling back.
        let n = if w.faults.no_callback {
            0
        } else if w.faults.double_callback {
            2
        } else {
            1
        };
        match tok.mode {
            TokenMode::Silent => {}
            TokenMode::Normal(returned_at) => {
                for _ in 0..n {
                    if let Some(rec) = invoke_callback(&w.notify, f_last, w.faults.wrong_context) {
                        w.log.callback(w.func, w.handle, w.handle_type, tok.round, &rec, returned_at);
                    }
                }
            }
            TokenMode::Ack(ack) => {
                let mut recs = Vec::new();
                for _ in 0..n {
                    if let Some(rec) = invoke_callback(&w.notify, f_last, w.faults.wrong_context) {
                        recs.push(rec);
                    }
                }
                let _ = ack.send(recs);
            }
        }
    }
}

impl OpCtx<'_> {
    fn notification(&self) -> bool {
        self.async_on && self.notify.callback.load(Ordering::SeqCst) != 0
    }

    fn log_call(&self, round: u32, ret: SqlReturn) {
        self.log.call(self.func, self.handle, self.handle_type, round, ret.0, &self.args);
    }

    /// Returns SQL_STILL_EXECUTING for `round`; when `tx` is given a new step is opened and
    /// its token is sent as the last action before returning.
    fn still(&self, round: u32, tx: Option<(Sender<Token>, bool)>) -> SqlReturn {
        let still = SqlReturn::SQL_STILL_EXECUTING;
        self.log_call(round, still);
        let Some((tx, f_last_guess)) = tx else {
            return still;
        };
        let notif = self.notification();
        if notif && self.faults.callback_on_calling_thread {
            let rec = invoke_callback(self.notify, f_last_guess, self.faults.wrong_context);
            let returned_at = Instant::now();
            if let Some(rec) = rec {
                self.log.callback(self.func, self.handle, self.handle_type, round, &rec, returned_at);
            }
            let _ = tx.send(Token { round, mode: TokenMode::Silent });
            return still;
        }
        if notif && self.faults.callback_before_return {
            let (ack_tx, ack_rx) = sync_channel(1);
            let _ = tx.send(Token { round, mode: TokenMode::Ack(ack_tx) });
            let recs = ack_rx.recv().unwrap_or_default();
            let returned_at = Instant::now();
            for rec in recs {
                self.log.callback(self.func, self.handle, self.handle_type, round, &rec, returned_at);
            }
            return still;
        }
        // Hand-off: the worker starts this step only after receiving the token, which the
        // exported shim sends as its very last action (see `flush_handoff`).
        PENDING.with(|p| {
            *p.borrow_mut() = Some(Box::new(move || {
                let _ = tx.send(Token { round, mode: TokenMode::Normal(Instant::now()) });
            }))
        });
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
            let mut st = lock(&op.shared);
            if st.result.is_some() && st.completed >= st.total && st.outstanding == 0 {
                let c = st.result.take().expect("checked");
                drop(st);
                let op = slot.take();
                drop(slot);
                drop(op); // closes the token channel: the worker exits
                let ret = deliver(ctx.diag, c, finish);
                ctx.log_call(round, ret);
                return ret;
            }
            let open = ctx.notification() || st.outstanding == 0;
            let mut handoff = None;
            if open {
                st.outstanding += 1;
                let f_last_guess = st.total != u32::MAX && st.completed + st.outstanding >= st.total;
                handoff = Some((op.tx.clone(), f_last_guess));
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
    let shared = Arc::new(Mutex::new(OpState { total, completed: 0, outstanding: 1, result: None }));
    let (tx, rx) = channel();
    let wctx = WorkerCtx {
        func: ctx.func,
        handle: ctx.handle,
        handle_type: ctx.handle_type,
        notify: ctx.notify.clone(),
        log: ctx.log.clone(),
        delay_ms: ctx.delay_ms,
        faults: ctx.faults,
        cancel: ctx.cancel.clone(),
        shared: shared.clone(),
    };
    let n = WORKER_SEQ.fetch_add(1, Ordering::SeqCst);
    let spawned = std::thread::Builder::new().name(format!("refdrv-worker-{n}")).spawn(move || worker_loop(wctx, work, rx));
    if spawned.is_err() {
        ctx.diag.post(DiagRec::new("HY001", "could not start a worker thread"));
        ctx.log_call(0, SqlReturn::SQL_ERROR);
        return SqlReturn::SQL_ERROR;
    }
    *lock(ctx.slot) = Some(AsyncOp { func: ctx.func, rounds: 0, shared, tx: tx.clone() });
    let guess = total == 1;
    ctx.still(0, Some((tx, guess)))
}

/// Drops the outstanding operation of a handle being freed (its worker finishes the
/// current step and exits).
pub fn abandon(slot: &Mutex<Option<AsyncOp>>) {
    let op = lock(slot).take();
    drop(op);
}
