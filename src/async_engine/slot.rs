//! One handle's asynchronous operation: its phase, its captured driver call, its result.
//!
//! Every DM statement and connection has an [`AsyncSlot`]. The phase lives in one atomic
//! word so that the callback path (dispatcher) and the calling path (application thread)
//! agree without a lock held across any driver call; the captured call and the result live
//! behind a mutex that is only ever held for a few instructions.
//!
//! ```text
//!   IDLE ──start (app thread)──► FIRST ──STILL_EXECUTING──► WAITING ◄──┐
//!                                  │                          │ callback (dispatcher)
//!                                  │ done at once (§7.1)      ▼        │
//!                                  │                       RUNNING ────┘ STILL_EXECUTING
//!                                  ▼                          │ done
//!                                DONE ◄───────────────────────┘
//!                                  │ SQLCompleteAsync / polling repeat call
//!                                  ▼
//!                                IDLE
//! ```
//!
//! A callback that arrives while a driver call of the operation is still on the stack
//! (FIRST or RUNNING: §7.5, the `CallbackBeforeReturn` and `CallbackOnCallingThread`
//! faults) sets the EARLY flag; whoever returns from that call with STILL_EXECUTING sees
//! it and re-invokes at once instead of waiting. A second early callback, or one in IDLE
//! or DONE, is a duplicate or unsolicited: counted, logged and ignored.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use atomic_waker::AtomicWaker;
use odbc_dm_abi::{FunctionId, SqlReturn};

use super::event::AsyncEvent;
use crate::diag::DiagRecord;

/// The captured driver call of an asynchronous operation: the driver function with the
/// original arguments (§2.9), plus whatever DM buffers those arguments point into. It may
/// push DM records (e.g. 01004 from a conversion) that follow the driver's.
pub type Invoke = Box<dyn FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send>;

pub const IDLE: u32 = 0;
pub const FIRST: u32 = 1;
pub const WAITING: u32 = 2;
pub const RUNNING: u32 = 3;
pub const DONE: u32 = 4;
const PHASE: u32 = 0xff;
/// A callback arrived while a driver call of the operation was on the stack.
pub const EARLY: u32 = 1 << 8;
/// The operation reports through notification (event/waker + SQLCompleteAsync); without
/// it the application polls.
pub const NOTIFY: u32 = 1 << 9;
/// The DM runs the operation itself on its worker pool (emulation).
pub const EMULATED: u32 = 1 << 10;
/// A cancel was accepted while the operation ran (§2.14: HY008 through completion).
pub const CANCELLED: u32 = 1 << 11;
/// The application gave up waiting for callbacks (abort): the dispatcher drives the
/// operation by polling.
pub const DRIVEN: u32 = 1 << 12;

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

#[derive(Default)]
struct Inner {
    pending: Option<Pending>,
    done: Option<Completed>,
    /// The event to set when the operation ends (snapshot of the attribute at start).
    event: Option<AsyncEvent>,
    /// Buffers the application side handed over for the operation's lifetime (the safe
    /// API's SQL text, parameter and row buffers): dropped only once the driver is done.
    keep: Vec<Box<dyn std::any::Any + Send>>,
}

/// Counters kept per handle, for tests and `odbc-dm` diagnostics.
#[derive(Debug, Default)]
pub struct SlotStats {
    /// Callbacks ignored: duplicates, or none outstanding (§2.7 violations).
    pub ignored_callbacks: AtomicU64,
    /// Callbacks that arrived while the driver call was still on the stack (§7.5).
    pub early_callbacks: AtomicU64,
    /// Re-invocations made by the dispatcher.
    pub reinvocations: AtomicU64,
    /// When the last accepted callback entered the DM ([`now_ns`] clock): for measuring
    /// the callback-to-wake-up latency.
    pub last_callback_ns: AtomicU64,
    /// When the last operation completed ([`now_ns`] clock).
    pub completed_ns: AtomicU64,
    /// When the dispatcher last started / ended a re-invocation ([`now_ns`] clock): splits
    /// the callback-to-wake-up latency into the hop to the dispatcher and the driver call.
    pub reinvoke_started_ns: AtomicU64,
    pub reinvoke_ended_ns: AtomicU64,
}

/// Nanoseconds on a process-wide monotonic clock (the DM's timestamps for latency).
pub fn now_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// See the module documentation.
#[derive(Default)]
pub struct AsyncSlot {
    word: AtomicU32,
    inner: Mutex<Inner>,
    pub waker: AtomicWaker,
    pub stats: SlotStats,
}

impl std::fmt::Debug for AsyncSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSlot").field("word", &self.word.load(Ordering::Relaxed)).finish()
    }
}

impl AsyncSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The raw word (phase and flags).
    #[inline]
    pub fn word(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// The phase (IDLE, FIRST, WAITING, RUNNING, DONE).
    #[inline]
    pub fn phase(&self) -> u32 {
        self.word() & PHASE
    }

    /// Whether an operation is outstanding (started and not yet collected).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.phase() != IDLE
    }

    /// The function of the outstanding operation.
    pub fn func(&self) -> Option<FunctionId> {
        let g = self.lock();
        g.pending.as_ref().map(|p| p.func).or(g.done.as_ref().map(|d| d.func))
    }

    /// Claims the slot for a new operation (application thread, handle gate held).
    /// `flags`: NOTIFY and/or EMULATED. Returns false if an operation is outstanding.
    pub fn begin(&self, flags: u32, event: Option<AsyncEvent>) -> bool {
        if self.word.compare_exchange(IDLE, FIRST | flags, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        let mut g = self.lock();
        g.event = event;
        g.done = None;
        true
    }

    /// Stores the captured call (only the first one: the driver may keep pointers into
    /// the first call's buffers until completion, §2.9).
    pub(crate) fn store_pending(&self, p: Pending) {
        let mut g = self.lock();
        if g.pending.is_none() {
            g.pending = Some(p);
        }
    }

    pub(crate) fn take_pending(&self) -> Option<Pending> {
        self.lock().pending.take()
    }

    pub(crate) fn put_back_pending(&self, p: Pending) {
        let mut g = self.lock();
        if g.pending.is_none() {
            g.pending = Some(p);
        }
    }

    /// After a driver call of the operation returned SQL_STILL_EXECUTING: FIRST/RUNNING →
    /// WAITING. Returns true when a callback already arrived for it (EARLY), in which case
    /// the phase is RUNNING and the caller must re-invoke (or hand it to the dispatcher).
    pub fn still_executing(&self) -> bool {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            let early = w & EARLY != 0;
            let next = if early { (w & !(PHASE | EARLY)) | RUNNING } else { (w & !PHASE) | WAITING };
            match self.word.compare_exchange(w, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return early,
                Err(cur) => w = cur,
            }
        }
    }

    /// A callback for this handle (dispatcher thread). Returns true when the caller must
    /// re-invoke now (the phase became RUNNING).
    pub fn on_callback(&self) -> bool {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            let (next, reinvoke) = match w & PHASE {
                WAITING => ((w & !PHASE) | RUNNING, true),
                FIRST | RUNNING if w & EARLY == 0 => (w | EARLY, false),
                _ => {
                    // Duplicate (second early callback) or unsolicited (IDLE/DONE).
                    self.stats.ignored_callbacks.fetch_add(1, Ordering::Relaxed);
                    log::debug!("odbc-dm: ignored a notification callback (phase word {w:#x})");
                    return false;
                }
            };
            match self.word.compare_exchange(w, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if !reinvoke {
                        self.stats.early_callbacks.fetch_add(1, Ordering::Relaxed);
                    }
                    return reinvoke;
                }
                Err(cur) => w = cur,
            }
        }
    }

    /// WAITING → RUNNING without a callback (abort driving, §2 fault handling).
    pub fn claim_waiting(&self) -> bool {
        let w = self.word.load(Ordering::Acquire);
        w & PHASE == WAITING && self.word.compare_exchange(w, (w & !PHASE) | RUNNING, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Sets flag bits (CANCELLED, DRIVEN) on an active operation.
    pub fn mark(&self, flag: u32) -> bool {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            if w & PHASE == IDLE || w & PHASE == DONE {
                return false;
            }
            match self.word.compare_exchange(w, w | flag, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(cur) => w = cur,
            }
        }
    }

    /// Keeps `b` alive until the current operation ends (dropped at once when none is
    /// active): §2.9, buffers stay valid until completion even if the future is dropped.
    pub fn keep_alive(&self, b: Box<dyn std::any::Any + Send>) {
        let mut g = self.lock();
        if self.is_active() && self.phase() != DONE {
            g.keep.push(b);
        } else {
            drop(g);
            drop(b);
        }
    }

    /// Clears flag bits.
    pub fn unmark(&self, flag: u32) {
        self.word.fetch_and(!flag, Ordering::AcqRel);
    }

    /// The operation ended: store its result, set the event, wake the future (§2.12).
    /// The captured call (and the buffers it owns) is dropped here, after the driver is done.
    pub fn complete(&self, done: Completed) {
        let (event, pending, keep) = {
            let mut g = self.lock();
            g.done = Some(done);
            (g.event.clone(), g.pending.take(), std::mem::take(&mut g.keep))
        };
        drop(pending);
        drop(keep);
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            let next = (w & !(PHASE | EARLY)) | DONE;
            match self.word.compare_exchange(w, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(cur) => w = cur,
            }
        }
        self.stats.completed_ns.store(now_ns(), Ordering::Relaxed);
        if let Some(e) = event {
            e.set();
        }
        self.waker.wake();
    }

    /// Collects a finished operation (SQLCompleteAsync, polling repeat call): DONE → IDLE.
    pub fn take_completed(&self) -> Option<Completed> {
        let w = self.word.load(Ordering::Acquire);
        if w & PHASE != DONE {
            return None;
        }
        let done = self.lock().done.take()?;
        self.word.store(IDLE, Ordering::Release);
        Some(done)
    }

    /// Ends a polling-mode operation that the driver finished on a repeat call the
    /// application made itself: drops the captured call.
    pub fn clear(&self) {
        let (p, keep) = {
            let mut g = self.lock();
            g.done = None;
            g.event = None;
            (g.pending.take(), std::mem::take(&mut g.keep))
        };
        drop(p);
        drop(keep);
        self.word.store(IDLE, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done() -> Completed {
        Completed { func: FunctionId::SQL_API_SQLEXECDIRECT, rc: SqlReturn::SQL_SUCCESS, diags: vec![], has_result: None }
    }

    #[test]
    fn callback_after_return_reinvokes() {
        let s = AsyncSlot::default();
        assert!(s.begin(NOTIFY, None));
        assert!(!s.begin(NOTIFY, None), "§1.8: one operation per handle");
        assert!(!s.still_executing());
        assert_eq!(s.phase(), WAITING);
        assert!(s.on_callback());
        assert_eq!(s.phase(), RUNNING);
        s.complete(done());
        assert!(!s.on_callback(), "a late duplicate is ignored");
        assert_eq!(s.stats.ignored_callbacks.load(Ordering::Relaxed), 1);
        assert_eq!(s.take_completed().unwrap().rc, SqlReturn::SQL_SUCCESS);
        assert_eq!(s.phase(), IDLE);
    }

    #[test]
    fn callback_before_return_is_kept_7_5() {
        // §7.5: the callback arrives while the first call is still on the stack.
        let s = AsyncSlot::default();
        assert!(s.begin(NOTIFY, None));
        assert!(!s.on_callback());
        assert!(!s.on_callback(), "a second early callback is a duplicate");
        assert_eq!(s.stats.ignored_callbacks.load(Ordering::Relaxed), 1);
        assert!(s.still_executing(), "the returning thread must re-invoke at once");
        assert_eq!(s.phase(), RUNNING);
    }

    #[test]
    fn concurrent_callback_and_return_never_lose_the_callback() {
        for _ in 0..2000 {
            let s = std::sync::Arc::new(AsyncSlot::default());
            assert!(s.begin(NOTIFY, None));
            let s2 = s.clone();
            let t = std::thread::spawn(move || s2.on_callback());
            let a = s.still_executing();
            let b = t.join().unwrap();
            assert!(a ^ b, "exactly one side re-invokes (a={a} b={b})");
        }
    }
}
