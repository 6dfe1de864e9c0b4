//! One handle's asynchronous operation: its phase, its captured driver call, its result.
//!
//! Every DM statement and connection has an [`AsyncSlot`]. The phase lives in one atomic
//! word so that the dispatcher, the emulation pool and the application thread agree without
//! a lock held across any driver call; the captured call and the result live behind a
//! mutex that is only ever held for a few instructions. Other layers see the phase as the
//! [`Phase`] enum and the operation's kind through predicates ([`AsyncSlot::is_notify`],
//! [`AsyncSlot::is_emulated`], [`AsyncSlot::is_cancelled`]); the bits are private.
//!
//! ```text
//!   Idle ──begin (app thread)──► First ──STILL_EXECUTING──► Waiting ◄──┐
//!                                  │                          │ the dispatcher decides
//!                                  │ done at once (§7.1)      ▼        │ (callback, back-off,
//!                                  │                       Running ────┘  cancel drive)
//!                                  ▼                          │ done
//!                                Done ◄───────────────────────┘
//!                                  │ SQLCompleteAsync / polling repeat call
//!                                  ▼
//!                                Idle
//! ```
//!
//! Which callback may re-invoke the operation is decided by the dispatcher alone (see
//! `dispatcher` and docs/decisions.md #34): callbacks carry their arrival time and thread,
//! and the dispatcher knows the window of every driver call of the operation.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use atomic_waker::AtomicWaker;
use odbc_dm_abi::{FunctionId, SqlReturn};

use super::dispatcher::Track;
use super::event::AsyncEvent;
use crate::diag::DiagRecord;

/// The captured driver call of an asynchronous operation: the driver function with the
/// original arguments (§2.9), plus whatever DM buffers those arguments point into. It may
/// push DM records (e.g. 01004 from a conversion) that follow the driver's.
pub type Invoke = Box<dyn FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send>;

const IDLE: u32 = 0;
const FIRST: u32 = 1;
const WAITING: u32 = 2;
const RUNNING: u32 = 3;
const DONE: u32 = 4;
const PHASE: u32 = 0xff;
/// The operation reports through notification (event/waker + SQLCompleteAsync); without
/// it the application polls.
const NOTIFY: u32 = 1 << 9;
/// The DM runs the operation itself on its worker pool (emulation).
const EMULATED: u32 = 1 << 10;
/// A cancel was accepted while the operation ran (§2.14: HY008 through completion).
const CANCELLED: u32 = 1 << 11;

/// The phase of a handle's asynchronous operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No operation outstanding.
    Idle,
    /// The first driver call is on the application's stack.
    First,
    /// The driver returned SQL_STILL_EXECUTING; the operation waits for its callback (or
    /// the dispatcher's back-off / cancel drive, or the application's polling repeat).
    Waiting,
    /// A re-invocation (or an emulated call) is on the stack.
    Running,
    /// Finished: the result waits for SQLCompleteAsync or the polling repeat call.
    Done,
}

/// How an operation delivers its result (fixed when it begins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Polling, passed through to the driver (§1).
    Polling,
    /// Native notification (§2): the driver calls back, the dispatcher re-invokes.
    Notify,
    /// Emulated polling: the DM's pool runs the call.
    EmulatedPolling,
    /// Emulated notification.
    EmulatedNotify,
}

impl Delivery {
    fn bits(self) -> u32 {
        match self {
            Delivery::Polling => 0,
            Delivery::Notify => NOTIFY,
            Delivery::EmulatedPolling => EMULATED,
            Delivery::EmulatedNotify => EMULATED | NOTIFY,
        }
    }
}

/// Default of the cancel grace (`SQL_ATTR_DM_CANCEL_GRACE`, docs/decisions.md #35).
pub const DEFAULT_CANCEL_GRACE: Duration = Duration::from_millis(500);

/// A finished operation, waiting for SQLCompleteAsync (or the polling repeat call).
#[derive(Debug)]
pub struct Completed {
    pub func: FunctionId,
    pub rc: SqlReturn,
    /// The driver's records, then the DM's.
    pub diags: Vec<DiagRecord>,
    /// Whether a result set is open, when the DM could ask (emulation); `None`: unknown.
    pub has_result: Option<bool>,
}

pub(crate) struct Pending {
    pub func: FunctionId,
    pub invoke: Invoke,
}

/// The operation's captured call while it runs, its result once it has ended: one or the
/// other, never both (one field instead of two, issue 12 item 3, decision #116).
#[derive(Default)]
enum Op {
    #[default]
    None,
    Pending(Pending),
    Done(Completed),
}

#[derive(Default)]
struct Inner {
    op: Op,
    /// The event to set when the operation ends (snapshot of the attribute at start).
    event: Option<AsyncEvent>,
    /// What the application side handed over (rare: a dropped future or statement),
    /// allocated only then (issue 12 item 3, decision #112).
    handover: Option<Box<Handover>>,
    /// The dispatcher's record of the running native notification-mode operation (which
    /// callback may re-invoke it, back-off, cancel drive): kept here, not in a map of the
    /// dispatcher, so that an operation in flight costs no map entry (decision #116). Only
    /// the dispatcher thread reads or writes it, through [`AsyncSlot::with_track`].
    track: Track,
}

/// What the application side handed to the DM for the running operation.
#[derive(Default)]
struct Handover {
    /// Buffers the application side handed over for the operation's lifetime (the safe
    /// API's SQL text, parameter and row buffers): dropped only once the driver is done.
    keep: Vec<Box<dyn std::any::Any + Send>>,
    /// Set when the operation's owner went away ([`AsyncSlot::abandon`]): what the DM
    /// runs once the operation has ended (collect, disconnect, free: decision #81).
    abandoned: Option<Finish>,
}

impl Inner {
    /// Stores `p` as the captured call when none is stored (§2.9: only the first one; the
    /// driver may keep pointers into its buffers until completion). A capture that cannot
    /// be stored because a result is stored already (no DM path does this) is leaked, not
    /// freed: the driver answered SQL_STILL_EXECUTING to it and may still use its buffers.
    /// Returns a capture that was not stored (the caller drops it outside the lock).
    #[must_use]
    fn store_pending(&mut self, p: Pending) -> Option<Pending> {
        match self.op {
            Op::None => {
                self.op = Op::Pending(p);
                None
            }
            Op::Pending(_) => Some(p),
            Op::Done(_) => {
                log::error!("odbc-dm: an asynchronous call was captured after its operation ended; its buffers are leaked");
                std::mem::forget(p);
                None
            }
        }
    }

    /// Takes the captured call, if one is stored.
    fn take_pending(&mut self) -> Option<Pending> {
        match std::mem::take(&mut self.op) {
            Op::Pending(p) => Some(p),
            other => {
                self.op = other;
                None
            }
        }
    }

    /// Stores the result; returns the captured call it replaces (to be dropped by the
    /// caller outside the lock).
    fn store_done(&mut self, done: Completed) -> Option<Pending> {
        match std::mem::replace(&mut self.op, Op::Done(done)) {
            Op::Pending(p) => Some(p),
            _ => None,
        }
    }

    fn handover(&mut self) -> &mut Handover {
        self.handover.get_or_insert_with(Default::default)
    }

    /// Takes the kept buffers and the abandon job.
    fn take_handover(&mut self) -> (Vec<Box<dyn std::any::Any + Send>>, Option<Finish>) {
        self.handover.take().map(|h| (h.keep, h.abandoned)).unwrap_or_default()
    }
}

/// What the DM runs for an abandoned operation once it has ended (see
/// [`AsyncSlot::abandon`]). Built by the raw layer; run on the DM's worker pool.
pub type Finish = Box<dyn FnOnce() + Send>;

/// Counters kept per handle, for tests and `odbc-dm` diagnostics (read them through
/// `odbc_dm::raw::ext::op_stats`). The counters of rare events (protocol violations,
/// back-offs, cancel drives) live out of line, allocated the first time one of them counts
/// (issue 12 item 3: 100,000 statements should cost little memory; decision #112).
#[derive(Debug, Default)]
pub struct SlotStats {
    /// Re-invocations made by the dispatcher (callbacks, back-offs and cancel drives).
    pub reinvocations: AtomicU64,
    rare: std::sync::OnceLock<Box<RareStats>>,
}

/// Latency stamps of the last operation in the process ([`now_ns`] clock), for the
/// callback-to-wake-up benchmark, which runs one operation at a time. Process-wide, not
/// per handle (decision #113): a statement should cost little memory when 100,000 are
/// open, and no behaviour reads them.
#[derive(Debug, Default)]
pub struct LatencyStamps {
    /// When the last accepted callback entered the DM.
    pub last_callback_ns: AtomicU64,
    /// When the last operation completed.
    pub completed_ns: AtomicU64,
    /// When the dispatcher last started / ended a re-invocation: splits the
    /// callback-to-wake-up latency into the hop to the dispatcher and the driver call.
    pub reinvoke_started_ns: AtomicU64,
    pub reinvoke_ended_ns: AtomicU64,
}

/// See [`LatencyStamps`].
pub static LATENCY: LatencyStamps = LatencyStamps {
    last_callback_ns: AtomicU64::new(0),
    completed_ns: AtomicU64::new(0),
    reinvoke_started_ns: AtomicU64::new(0),
    reinvoke_ended_ns: AtomicU64::new(0),
};

/// The rarely counted events of a handle (see [`SlotStats`]).
#[derive(Debug, Default)]
pub struct RareStats {
    /// Callbacks ignored: duplicates, late ones, or none outstanding (§2.7 violations).
    pub ignored_callbacks: AtomicU64,
    /// Callbacks that arrived while the driver call was still on the stack (§7.5).
    pub early_callbacks: AtomicU64,
    /// Re-invocations the dispatcher delayed (back-off) instead of making at once: a
    /// callback on the calling thread, or a driver known to call back twice.
    pub backoffs: AtomicU64,
    /// Re-invocations made by polling a cancelled operation (cancel drive, §2.14).
    pub driven_polls: AtomicU64,
    /// Operations the DM ended itself with HY008 because the driver never finished a
    /// cancelled call.
    pub gave_up: AtomicU64,
}

impl SlotStats {
    /// Counts one rare event (`which` picks the counter); allocates the record the first time.
    #[inline]
    pub fn count(&self, which: impl FnOnce(&RareStats) -> &AtomicU64) {
        which(self.rare.get_or_init(Default::default)).fetch_add(1, Ordering::Relaxed);
    }

    /// A rare counter's value (0 while none has counted).
    pub fn rare(&self, which: impl FnOnce(&RareStats) -> &AtomicU64) -> u64 {
        self.rare.get().map_or(0, |r| which(r).load(Ordering::Relaxed))
    }
}

/// Nanoseconds on a process-wide monotonic clock (the DM's timestamps for latency and for
/// telling one callback from another).
pub fn now_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

// ---------------------------------------------------------------------------------------
// Blocking waits without a per-handle event (decision #108): one process-wide condition
// variable, notified by every completion while somebody waits on it. A handle in the DM's
// waker notification mode has no eventfd; the safe API's blocking paths (bounded settles,
// `AsyncOperation::wait_timeout`, abort) wait here instead, and the waker slot stays the
// future's alone.

static END_WAITERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static END_LOCK: Mutex<()> = Mutex::new(());
static END_CV: std::sync::Condvar = std::sync::Condvar::new();

fn notify_end_waiters() {
    // Pairs with the SeqCst increment in `wait_for_end`: either the waiter sees the new
    // phase when it checks, or this load sees the waiter and notifies under the lock.
    std::sync::atomic::fence(Ordering::SeqCst);
    if END_WAITERS.load(Ordering::SeqCst) > 0 {
        drop(END_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
        END_CV.notify_all();
    }
}

/// Blocks until `ended()` is true or `timeout` passes, woken by any operation's end (so
/// `ended` is re-checked after every completion in the process; callers wait in bounded
/// slices anyway). Returns `ended()`. Never called with a lock held or from the
/// dispatcher.
pub fn wait_for_end(timeout: Duration, ended: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    END_WAITERS.fetch_add(1, Ordering::SeqCst);
    let mut g = END_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let r = loop {
        if ended() {
            break true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break false;
        }
        g = END_CV.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
    };
    drop(g);
    END_WAITERS.fetch_sub(1, Ordering::SeqCst);
    r
}

/// See the module documentation.
pub struct AsyncSlot {
    word: AtomicU32,
    /// Generation of the operation (incremented by every `begin`): a stale status handle,
    /// timer or message names an older one and is ignored.
    epoch: AtomicU64,
    /// The cancel grace in milliseconds (`SQL_ATTR_DM_CANCEL_GRACE`).
    grace_ms: AtomicU32,
    inner: Mutex<Inner>,
    pub waker: AtomicWaker,
    pub stats: SlotStats,
}

impl Default for AsyncSlot {
    fn default() -> Self {
        AsyncSlot {
            word: AtomicU32::new(IDLE),
            epoch: AtomicU64::new(0),
            grace_ms: AtomicU32::new(DEFAULT_CANCEL_GRACE.as_millis() as u32),
            inner: Mutex::new(Inner::default()),
            waker: AtomicWaker::new(),
            stats: SlotStats::default(),
        }
    }
}

impl std::fmt::Debug for AsyncSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSlot").field("phase", &self.phase()).field("epoch", &self.epoch()).finish()
    }
}

impl AsyncSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[inline]
    fn word(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// The raw word, for white-box tests only (no layer of the DM reads it).
    #[doc(hidden)]
    pub fn raw_word(&self) -> u32 {
        self.word()
    }

    /// The phase.
    #[inline]
    pub fn phase(&self) -> Phase {
        match self.word() & PHASE {
            IDLE => Phase::Idle,
            FIRST => Phase::First,
            WAITING => Phase::Waiting,
            RUNNING => Phase::Running,
            _ => Phase::Done,
        }
    }

    /// The generation of the current (or last) operation.
    #[inline]
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Whether an operation is outstanding (started and not yet collected).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.word() & PHASE != IDLE
    }

    /// Whether an operation is outstanding and not finished (the driver may be in it).
    #[inline]
    pub fn is_running(&self) -> bool {
        !matches!(self.word() & PHASE, IDLE | DONE)
    }

    /// Whether the outstanding operation reports through notification.
    #[inline]
    pub fn is_notify(&self) -> bool {
        let w = self.word();
        w & PHASE != IDLE && w & NOTIFY != 0
    }

    /// Whether the outstanding operation is emulated (runs on the DM's pool).
    #[inline]
    pub fn is_emulated(&self) -> bool {
        let w = self.word();
        w & PHASE != IDLE && w & EMULATED != 0
    }

    /// Whether a cancel was accepted for the outstanding operation.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        let w = self.word();
        w & PHASE != IDLE && w & CANCELLED != 0
    }

    /// The cancel grace: how long a cancelled notification-mode operation may take to end
    /// through the driver's own callback before the DM drives it (§2.14, decision #35).
    pub fn cancel_grace(&self) -> Duration {
        Duration::from_millis(u64::from(self.grace_ms.load(Ordering::Relaxed)))
    }

    /// Sets the cancel grace (clamped to `u32::MAX` ms).
    pub fn set_cancel_grace(&self, grace: Duration) {
        self.grace_ms.store(grace.as_millis().min(u128::from(u32::MAX)) as u32, Ordering::Relaxed);
    }

    /// The function of the outstanding operation.
    pub fn func(&self) -> Option<FunctionId> {
        match &self.lock().op {
            Op::Pending(p) => Some(p.func),
            Op::Done(d) => Some(d.func),
            Op::None => None,
        }
    }

    /// Runs `f` on the dispatcher's record of this handle's operation (see `dispatcher`),
    /// under the slot's lock: `f` makes no driver call, takes no other lock of the slot
    /// and wakes nothing. The dispatcher thread alone calls this.
    pub(crate) fn with_track<R>(&self, f: impl FnOnce(&mut Track) -> R) -> R {
        f(&mut self.lock().track)
    }

    /// Claims the slot for a new operation (application thread, handle gate held). Returns
    /// false if an operation is outstanding.
    pub fn begin(&self, delivery: Delivery, event: Option<AsyncEvent>) -> bool {
        if self.word.compare_exchange(IDLE, FIRST | delivery.bits(), Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut g = self.lock();
        g.event = event;
        if let Op::Done(_) = g.op {
            g.op = Op::None;
        }
        true
    }

    /// Stores the captured call (only the first one: the driver may keep pointers into
    /// the first call's buffers until completion, §2.9).
    pub(crate) fn store_pending(&self, p: Pending) {
        let rejected = self.lock().store_pending(p);
        drop(rejected);
    }

    pub(crate) fn take_pending(&self) -> Option<Pending> {
        self.lock().take_pending()
    }

    pub(crate) fn put_back_pending(&self, p: Pending) {
        self.store_pending(p);
    }

    fn swap_phase(&self, from: u32, to: u32) -> bool {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            if w & PHASE != from {
                return false;
            }
            match self.word.compare_exchange(w, (w & !PHASE) | to, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(cur) => w = cur,
            }
        }
    }

    /// The first call returned SQL_STILL_EXECUTING: First → Waiting.
    pub(crate) fn first_still_executing(&self) -> bool {
        self.swap_phase(FIRST, WAITING)
    }

    /// First → Running: an emulation worker takes the call.
    pub(crate) fn start_running(&self) -> bool {
        self.swap_phase(FIRST, RUNNING)
    }

    /// Waiting → Running: the caller (dispatcher, emulation worker) re-invokes.
    pub fn claim_waiting(&self) -> bool {
        self.swap_phase(WAITING, RUNNING)
    }

    /// Running → Waiting: the re-invocation returned SQL_STILL_EXECUTING.
    pub(crate) fn running_still_executing(&self) -> bool {
        self.swap_phase(RUNNING, WAITING)
    }

    /// Marks the outstanding (unfinished) operation cancelled; false when none runs.
    pub fn mark_cancelled(&self) -> bool {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            if matches!(w & PHASE, IDLE | DONE) {
                return false;
            }
            match self.word.compare_exchange(w, w | CANCELLED, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(cur) => w = cur,
            }
        }
    }

    /// Keeps `b` alive until the current operation ends (dropped at once when none is
    /// running): §2.9, buffers stay valid until completion even if the future is dropped.
    pub fn keep_alive(&self, b: Box<dyn std::any::Any + Send>) {
        let mut g = self.lock();
        if self.is_running() {
            g.handover().keep.push(b);
        } else {
            drop(g);
            drop(b);
        }
    }

    /// As [`keep_alive`](Self::keep_alive), handing `b` back when no operation is running.
    pub fn keep_alive_or_return(&self, b: Box<dyn std::any::Any + Send>) -> Result<(), Box<dyn std::any::Any + Send>> {
        let mut g = self.lock();
        if self.is_running() {
            g.handover().keep.push(b);
            Ok(())
        } else {
            Err(b)
        }
    }

    /// The operation ended: store its result, set the event, wake the future (§2.12).
    /// The captured call (and the buffers it owns) is dropped here, after the driver is done.
    pub fn complete(&self, done: Completed) {
        let (event, pending, keep, abandoned) = {
            let mut g = self.lock();
            let pending = g.store_done(done);
            let (keep, abandoned) = g.take_handover();
            (g.event.clone(), pending, keep, abandoned)
        };
        drop(pending);
        drop(keep);
        self.finish_phase(event);
        if let Some(f) = abandoned {
            super::emulation::run_detached(f);
        }
    }

    /// The operation's owner goes away (a dropped future, decision #81): `finish` runs on
    /// the DM's worker pool once the operation has ended, after its result is stored, so
    /// that it can collect the operation and free the handle. `Err(finish)` when no
    /// operation is running any more (it ended, or none was started): the caller runs
    /// `finish` (the DM does, through `async_engine::abandon`). If the DM gives up on
    /// the driver (decision #35), `finish` is leaked with the operation's buffers.
    pub fn abandon(&self, finish: Finish) -> Result<(), Finish> {
        let mut g = self.lock();
        if !matches!(g.op, Op::Done(_)) && self.is_running() {
            g.handover().abandoned = Some(finish);
            Ok(())
        } else {
            Err(finish)
        }
    }

    /// The DM gives up on an operation whose driver never finished the cancelled call: the
    /// result is stored and signalled like any completion, but the captured call and the
    /// kept buffers are leaked, never freed: the driver may still write into them (§2.9).
    pub(crate) fn complete_abandoned(&self, done: Completed) {
        let (event, pending, keep, abandoned) = {
            let mut g = self.lock();
            let pending = g.store_done(done);
            let (keep, abandoned) = g.take_handover();
            (g.event.clone(), pending, keep, abandoned)
        };
        std::mem::forget(pending);
        std::mem::forget(keep);
        if let Some(f) = abandoned {
            // The driver may still use the handle: it is never freed (nor what the owner
            // handed over with it).
            log::error!("odbc-dm: an abandoned asynchronous operation never ended; its handle is leaked");
            std::mem::forget(f);
        }
        self.stats.count(|r| &r.gave_up);
        self.finish_phase(event);
    }

    fn finish_phase(&self, event: Option<AsyncEvent>) {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            let next = (w & !PHASE) | DONE;
            match self.word.compare_exchange(w, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(cur) => w = cur,
            }
        }
        LATENCY.completed_ns.store(now_ns(), Ordering::Relaxed);
        if let Some(e) = event {
            e.set();
        }
        self.waker.wake();
        notify_end_waiters();
    }

    /// Collects a finished operation (SQLCompleteAsync, polling repeat call): Done → Idle.
    pub fn take_completed(&self) -> Option<Completed> {
        if self.word() & PHASE != DONE {
            return None;
        }
        let done = {
            let mut g = self.lock();
            match std::mem::take(&mut g.op) {
                Op::Done(d) => d,
                other => {
                    g.op = other;
                    return None;
                }
            }
        };
        self.word.store(IDLE, Ordering::Release);
        Some(done)
    }

    /// Ends a polling-mode operation that the driver finished on a repeat call the
    /// application made itself: drops the captured call.
    pub fn clear(&self) {
        let (p, keep, abandoned) = {
            let mut g = self.lock();
            g.event = None;
            let p = match std::mem::take(&mut g.op) {
                Op::Pending(p) => Some(p),
                _ => None,
            };
            let (keep, abandoned) = g.take_handover();
            (p, keep, abandoned)
        };
        drop(p);
        drop(keep);
        self.word.store(IDLE, Ordering::Release);
        if let Some(f) = abandoned {
            super::emulation::run_detached(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done() -> Completed {
        Completed { func: FunctionId::SQL_API_SQLEXECDIRECT, rc: SqlReturn::SQL_SUCCESS, diags: vec![], has_result: None }
    }

    #[test]
    fn phases_of_one_operation() {
        let s = AsyncSlot::default();
        assert_eq!(s.phase(), Phase::Idle);
        assert!(s.begin(Delivery::Notify, None));
        let e = s.epoch();
        assert!(!s.begin(Delivery::Notify, None), "§1.8: one operation per handle");
        assert!(s.is_notify() && !s.is_emulated());
        assert!(!s.claim_waiting(), "not waiting while the first call is on the stack");
        assert!(s.first_still_executing());
        assert_eq!(s.phase(), Phase::Waiting);
        assert!(s.claim_waiting());
        assert!(!s.claim_waiting(), "one claim per SQL_STILL_EXECUTING");
        assert!(s.mark_cancelled() && s.is_cancelled());
        s.complete(done());
        assert!(!s.mark_cancelled(), "a finished operation cannot be cancelled");
        assert_eq!(s.take_completed().unwrap().rc, SqlReturn::SQL_SUCCESS);
        assert_eq!(s.phase(), Phase::Idle);
        assert!(!s.is_cancelled());
        assert!(s.begin(Delivery::Polling, None));
        assert_eq!(s.epoch(), e + 1, "a new generation per operation");
    }

    /// Decision #81: an abandoned operation's settle job runs once, after the operation
    /// has ended (on the DM's pool), never before; one the DM gives up on is never run.
    #[test]
    fn abandoned_operation_is_settled_after_it_ends() {
        let (tx, rx) = std::sync::mpsc::channel::<&'static str>();
        let s = AsyncSlot::default();
        assert!(s.abandon(Box::new(|| ())).is_err(), "no operation: the caller runs the job");
        assert!(s.begin(Delivery::Notify, None));
        assert!(s.first_still_executing());
        let t1 = tx.clone();
        assert!(s.abandon(Box::new(move || t1.send("settled").unwrap())).is_ok());
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "not before the operation ends");
        s.complete(done());
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("settled"));
        assert!(s.abandon(Box::new(|| ())).is_err(), "ended: the caller runs the job");
        assert!(s.take_completed().is_some());
        // The DM gives up on the driver: the job (which would free the handle) never runs.
        assert!(s.begin(Delivery::Notify, None));
        assert!(s.first_still_executing());
        assert!(s.abandon(Box::new(move || tx.send("freed").unwrap())).is_ok());
        s.complete_abandoned(done());
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "never freed after giving up");
    }

    /// Issue 12 item 3: every statement has a slot (the dispatcher's track included, #116;
    /// the captured call and the result share one field, #116).
    #[test]
    fn slot_is_small() {
        assert!(std::mem::size_of::<AsyncSlot>() <= 176, "{}", std::mem::size_of::<AsyncSlot>());
    }

    /// The captured call and the result are one field: storing the result releases the
    /// capture; a capture is stored only while none is.
    #[test]
    fn capture_and_result_share_one_field() {
        let s = AsyncSlot::default();
        assert!(s.begin(Delivery::Notify, None));
        let dropped = std::sync::Arc::new(());
        let d2 = dropped.clone();
        s.store_pending(Pending {
            func: FunctionId::SQL_API_SQLEXECDIRECT,
            invoke: Box::new(move |_| {
                let _ = &d2;
                SqlReturn::SQL_STILL_EXECUTING
            }),
        });
        s.store_pending(Pending { func: FunctionId::SQL_API_SQLPREPARE, invoke: Box::new(|_| SqlReturn::SQL_SUCCESS) });
        assert_eq!(s.func(), Some(FunctionId::SQL_API_SQLEXECDIRECT), "only the first capture is kept (§2.9)");
        assert_eq!(std::sync::Arc::strong_count(&dropped), 2);
        assert!(s.first_still_executing());
        s.complete(done());
        assert_eq!(std::sync::Arc::strong_count(&dropped), 1, "the capture is released when the result is stored");
        assert_eq!(s.func(), Some(FunctionId::SQL_API_SQLEXECDIRECT), "the result's function");
        assert!(s.take_pending().is_none());
        assert!(s.take_completed().is_some());
        assert_eq!(s.func(), None);
    }

    #[test]
    fn concurrent_claims_have_one_winner() {
        for _ in 0..500 {
            let s = std::sync::Arc::new(AsyncSlot::default());
            assert!(s.begin(Delivery::Notify, None));
            assert!(s.first_still_executing());
            let s2 = s.clone();
            let t = std::thread::spawn(move || s2.claim_waiting());
            let a = s.claim_waiting();
            let b = t.join().unwrap();
            assert!(a ^ b, "exactly one side re-invokes (a={a} b={b})");
        }
    }
}
